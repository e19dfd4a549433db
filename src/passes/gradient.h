/* gradient.h: the pass that expands Gradient layers (ai.onnx.preview.training) into the
 * layers of their reverse-mode derivative (gradient.c). */
#ifndef O2P_PASS_GRADIENT_H
#define O2P_PASS_GRADIENT_H

#include "ir/ir.h"

/* Replaces every Gradient layer of the main graph by default-domain layers computing
 * dY/dX_i (summed over Y's elements, as a seed of ones) for the tensors its attributes name,
 * differentiating the layers between them: Add, Sub, Mul, Div, Neg, Identity, MatMul, Relu,
 * Sigmoid, Tanh and Exp, with broadcasting undone by ReduceSum. Any other layer on the way
 * is refused naming it. Shapes must have been inferred; the pass infers the network again
 * when it expanded something. *expanded counts the Gradient layers replaced. */
o2p_status pass_expand_gradients(ir_network *net, int *expanded);

#endif
