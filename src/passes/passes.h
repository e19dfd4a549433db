/* passes.h: network-to-network passes run by the builder before tactic selection:
 * constant folding (through the host reference kernels), and more to come (dead-layer
 * removal, BatchNormalization folding, Identity/Dropout removal). */
#ifndef O2P_PASSES_H
#define O2P_PASSES_H

#include "ir/ir.h"

typedef struct pass_fold_stats {
    int layers_folded;
    int layers_skipped_unsupported; /* a kernel refused the element type: left as a layer */
    size_t bytes_created;
} pass_fold_stats;

/* Evaluates, with the host reference kernels, every layer of the main graph whose inputs
 * are all constants and whose outputs have known types and static shapes of at most
 * max_tensor_bytes each, and replaces it by constants holding its outputs. Shapes must
 * have been inferred. A kernel that does not support a layer's element types leaves that
 * layer in place; any other kernel failure is an error naming the layer. */
o2p_status pass_fold_constants(ir_network *net, size_t max_tensor_bytes, pass_fold_stats *stats);

/* Removes Identity layers, and Dropout layers whose mask is unused (inference), by making
 * their consumers read the input directly; a layer whose output is a graph output stays.
 * Returns the number removed in *removed. */
o2p_status pass_remove_noops(ir_network *net, int *removed);

/* Folds each inference BatchNormalization whose input is produced by a Conv or Gemm (that
 * nothing else reads) into that layer's weights and bias, when they are float32 constants,
 * and removes the BatchNormalization. Run after constant folding. */
o2p_status pass_fold_batchnorm(ir_network *net, int *folded);

/* Replaces every Gradient layer of the main graph by default-domain layers computing
 * dY/dX_i (summed over Y's elements, as a seed of ones) for the tensors its attributes name,
 * differentiating the layers between them: Add, Sub, Mul, Div, Neg, Identity, MatMul, Relu,
 * Sigmoid, Tanh and Exp, with broadcasting undone by ReduceSum. Any other layer on the way
 * is refused naming it. Shapes must have been inferred; the pass infers the network again
 * when it expanded something. *expanded counts the Gradient layers replaced. */
o2p_status pass_expand_gradients(ir_network *net, int *expanded);

/* Resolves control flow of the main graph at build where plans need it: an If whose
 * condition is a constant becomes the layers of the branch it takes; a Loop whose outputs
 * have no static shape, with a constant trip count (1 to 64), a constant true (or no)
 * condition and a body that never stops early, becomes its body copied once per iteration
 * (the iteration number a constant in each copy, subgraphs inside copied too), scan outputs
 * stacked by Concat. Bodies holding plugin layers stay. *unrolled counts the layers
 * resolved; shapes
 * must be inferred again after. */
o2p_status pass_unroll_control(ir_network *net, int *unrolled);

/* Removes layers of the main graph whose outputs no graph output depends on. */
o2p_status pass_remove_dead(ir_network *net, int *removed);

/* Resolves ONNX sequences and optionals in the main graph (plans are static): each becomes
 * the list of tensors it holds, known at build. Sequence graph inputs become one input per
 * element ("<name>[<i>]", described with o2p_tensor_set_sequence), sequence outputs one
 * output per element; optional inputs are present or absent as o2p_tensor_set_optional
 * said. The sequence operators become tensor layers or go (SequenceAt -> Identity,
 * ConcatFromSequence -> Concat, SplitToSequence -> Split, SequenceLength and
 * OptionalHasElement -> constants, SequenceMap -> its body once per element, an If giving
 * a sequence -> the branch its constant condition takes), and the network is inferred
 * again. A position, split or condition that is not known at build is an error that says
 * so. A Loop or Scan carrying sequences, and what reads its outputs, is left as it is for
 * pass_unroll_control when final is 0 (its trip count may be a SequenceLength resolved
 * here; run the pass again with final 1 after unrolling), and is an error when final is 1.
 * Run after shape inference. *rewritten (may be NULL) is nonzero when the graph changed. On
 * failure the network may be left partly rewritten (a build that fails discards it). */
o2p_status pass_resolve_sequences(ir_network *net, int final, int *rewritten);

#endif
