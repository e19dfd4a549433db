/* lower_gemm.c: lowerings of the gemm kernel family (kernels/cuda/gemm.cu). */
#include "codegen/codegen.h"

/* Not written yet: no op of this family lowers to CUDA. */
const cg_op cg_gemm_ops[] = {{NULL, NULL, NULL}};
const int cg_gemm_op_count = 0;
