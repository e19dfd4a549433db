/* control.h: the builder's side of control flow (If, Loop, Scan): checks that their bodies
 * can be built with static shapes, lists the tensors bodies read from outer scopes among
 * their layer's inputs, and puts every body's tensors and layers into the engine
 * (docs/control-flow.md). */
#ifndef O2P_BUILDER_CONTROL_H
#define O2P_BUILDER_CONTROL_H

#include "builder/builder.h"

/* Whether l is a control-flow layer (If, Loop or Scan of the default domain). */
int build_control_is_control(const ir_layer *l);

/* Fails when a control layer of g has an output of unknown type or dynamic shape, with a
 * message naming the layer and what is dynamic (a trip count not known at build, a carried
 * value that changes shape, branches of different shapes). Runs before the generic check. */
o2p_status build_control_check_outputs(const ir_graph *g);

/* Before the layer table is made (after inference and the passes): every body of every
 * control layer, nested ones included, has only importable layers and static shapes (else
 * O2P_ERR_UNSUPPORTED naming the layer and what is dynamic), and each control layer gets,
 * after its own inputs, every tensor its bodies read from outside them (once; calling it
 * again adds nothing), so that liveness keeps them alive through the layer. */
o2p_status build_control_prepare(ir_network *net);

/* The tactic of a control layer: builtin "control.<op>", on either target. */
void build_control_tactic(const ir_layer *l, const build_options *opt, build_tactic *out);

/* After memory planning of the main layers: adds every body's tensors (activations and body
 * inputs after the arena's end, never sharing bytes, constants after the weights) and
 * layers (right after their control layer, host tactics chosen; cuda ones are lowered with
 * the rest), and fills each control layer's bodies. */
o2p_status build_control_expand(build_engine *e, const build_options *opt);

#endif
