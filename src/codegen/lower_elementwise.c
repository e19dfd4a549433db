/* lower_elementwise.c: lowerings of the elementwise kernel family (kernels/cuda/elementwise.cu). */
#include "codegen/codegen.h"

/* Not written yet: no op of this family lowers to CUDA. */
const cg_op cg_elementwise_ops[] = {{NULL, NULL, NULL}};
const int cg_elementwise_op_count = 0;
