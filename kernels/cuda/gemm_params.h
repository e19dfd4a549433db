/* gemm_params.h: the one parameter struct of the gemm kernel family (kernels/cuda/gemm.cu):
 * Gemm, MatMul, Conv (as an implicit GEMM, or direct) and ConvTranspose (direct). Filled by
 * src/codegen/lower_gemm.c; layout rules in o2p_params.h.
 *
 * Every GEMM kernel computes, for z in [0, batch):
 *   Y[z*M*N + i*N + j] = alpha * sum_k A(z; i, k) * B(z; k, j) + beta * C(z; i, j)
 * where z is decoded over bdims[0..nb) (row-major) into element offsets of A, B and C with
 * a_bstr / b_bstr / c_bstr (0 along broadcast axes), and
 *   A(z; i, k) = a[a_off + i*a_rs + k*a_cs], C(z; i, j) = c[c_off + i*c_rs + j*c_cs],
 *   B(z; k, j) = b[b_off + k*b_rs + j*b_cs] (plain) or, for the implicit-GEMM convolution,
 *   the im2col element: k = (channel, kernel offset), j = output position, 0 in the padding.
 * A convolution is one GEMM per (image, group): z = n*group + g, bdims = {N, group},
 * A = W's group slice [mg, cg*kprod], B = X's group slice, C = the bias (per row i). */
#ifndef O2P_GEMM_PARAMS_H
#define O2P_GEMM_PARAMS_H

#include "o2p_params.h"

typedef struct o2p_gemm_params {
    o2p_u64 a_ptr; /* Gemm/MatMul A; Conv W (the GEMM's A); ConvTranspose X */
    o2p_u64 b_ptr; /* Gemm/MatMul B; Conv X (the GEMM's B); ConvTranspose W */
    o2p_u64 c_ptr; /* Gemm C; Conv/ConvTranspose bias; 0 when has_c is 0 */
    o2p_u64 y_ptr;
    o2p_i64 M, N, K;
    o2p_i64 a_rs, a_cs, b_rs, b_cs, c_rs, c_cs;
    o2p_i64 batch; /* number of GEMMs: the product of bdims[0..nb) */
    o2p_i64 bdims[O2P_CU_MAX_RANK];
    o2p_i64 a_bstr[O2P_CU_MAX_RANK];
    o2p_i64 b_bstr[O2P_CU_MAX_RANK];
    o2p_i64 c_bstr[O2P_CU_MAX_RANK];
    /* integer Gemm: alpha and beta as integers, used when int_exact (as the host kernel) */
    o2p_i64 alpha_i, beta_i;
    /* convolution geometry (Conv: in = X's spatial dims, out = Y's; ConvTranspose the same,
     * with the roles of the window map reversed: y[o] gathers x[i] where
     * o = i*stride + k*dilation - pad) */
    o2p_i64 in[O2P_CU_MAX_RANK];
    o2p_i64 out[O2P_CU_MAX_RANK];
    o2p_i64 kernel[O2P_CU_MAX_RANK];
    o2p_i64 stride[O2P_CU_MAX_RANK];
    o2p_i64 dilation[O2P_CU_MAX_RANK];
    o2p_i64 pad[O2P_CU_MAX_RANK]; /* leading pads */
    o2p_i64 n_img;                /* N */
    o2p_i64 c_in;                 /* X's channels */
    o2p_i64 c_out;                /* Y's channels */
    o2p_i64 group;
    o2p_i64 in_size;  /* product of in */
    o2p_i64 out_size; /* product of out */
    o2p_i64 kprod;    /* product of kernel */
    o2p_f64 alpha, beta;
    o2p_i32 nb;        /* batch rank */
    o2p_i32 nsp;       /* spatial rank (convolutions) */
    o2p_i32 has_c;     /* 1: add beta * C (Gemm with C and beta != 0; Conv with a bias) */
    o2p_i32 dtype;     /* O2P_CU_* of every tensor (the generic kernels read it) */
    o2p_i32 int_exact; /* integer Gemm: alpha and beta are exact integers */
    o2p_i32 reserved;  /* 0 */
} o2p_gemm_params;

/* sizeof(o2p_gemm_params): checked in gemm.cu and lower_gemm.c. */
#define O2P_GEMM_PARAMS_SIZE 1504

/* Tile shapes the lowering's grids follow. SIMT: 16x16 threads, a 64x64 tile of Y, k-steps
 * of 16. MMA: 4 warps (128 threads), a 64x64 tile, k-steps of 32. Direct kernels: 256
 * threads, one output element per thread (grid-stride). */
#define O2P_GEMM_TILE_M 64
#define O2P_GEMM_TILE_N 64
#define O2P_GEMM_SIMT_TILE_K 16
#define O2P_GEMM_MMA_TILE_K 32
#define O2P_GEMM_SIMT_THREADS 256
#define O2P_GEMM_MMA_THREADS 128
#define O2P_GEMM_DIRECT_THREADS 256
/* Shared memory per block (static): SIMT As[16][64] + Bs[16][64] of the accumulator type;
 * MMA As[64][32+pad] + Bs[64][32+pad] of the operand type (pad 4 words for tf32, 8 halves
 * for f16/bf16, so rows stay 16-byte aligned). */
#define O2P_GEMM_SIMT_SMEM_F32 (2 * 16 * 64 * 4)
#define O2P_GEMM_SIMT_SMEM_F64 (2 * 16 * 64 * 8)
#define O2P_GEMM_MMA_PAD_TF32 4
#define O2P_GEMM_MMA_PAD_16 8
#define O2P_GEMM_MMA_SMEM_TF32 (2 * 64 * (32 + 4) * 4)
#define O2P_GEMM_MMA_SMEM_16 (2 * 64 * (32 + 8) * 2)

#endif
