/* lower_nn.c: lowerings of the nn kernel family (kernels/cuda/nn.cu). */
#include "codegen/codegen.h"

/* Not written yet: no op of this family lowers to CUDA. */
const cg_op cg_nn_ops[] = {{NULL, NULL, NULL}};
const int cg_nn_op_count = 0;
