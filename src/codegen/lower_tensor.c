/* lower_tensor.c: lowerings of the tensor kernel family (kernels/cuda/tensor.cu). */
#include "codegen/codegen.h"

/* Not written yet: no op of this family lowers to CUDA. */
const cg_op cg_tensor_ops[] = {{NULL, NULL, NULL}};
const int cg_tensor_op_count = 0;
