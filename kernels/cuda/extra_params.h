/* extra_params.h: the parameter structs of the extra kernel family (kernels/cuda/extra.cu):
 * the losses, Einsum and the quantization ops, filled by src/codegen/lower_extra.c. Layout
 * rules in o2p_params.h; each struct's size is asserted on both sides. Element types are
 * O2P_CU_* values; quantization scales are float (the lowering checks it). */
#ifndef O2P_EXTRA_PARAMS_H
#define O2P_EXTRA_PARAMS_H

#include "o2p_params.h"

/* ---- NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss over input [N, C, D] (D the
 * product of the trailing dims) and target [N, D]. o2p_extra_loss: one thread per (n, d);
 * with softmax set it takes the log-softmax over C first (and writes it to log_prob_ptr when
 * that is not 0). reduction none writes each loss to y; sum/mean write the loss and its
 * weight to the workspace (2 x N x D doubles at ws_ptr) and o2p_extra_loss_reduce (one
 * block) writes y[0] = sum (sum / sum of weights for mean). A target outside [0, C) that is
 * not ignore_index gives NaN (the host kernel fails on it). */
#define O2P_EXTRA_REDUCE_NONE 0
#define O2P_EXTRA_REDUCE_SUM 1
#define O2P_EXTRA_REDUCE_MEAN 2

typedef struct o2p_extra_loss_params {
    o2p_u64 x_ptr;
    o2p_u64 target_ptr;
    o2p_u64 weight_ptr; /* 0: every class weighs 1 */
    o2p_u64 y_ptr;
    o2p_u64 log_prob_ptr; /* 0: not wanted */
    o2p_u64 ws_ptr;       /* sum/mean: losses [N*D] then weights [N*D], doubles */
    o2p_i64 n;
    o2p_i64 c;
    o2p_i64 d;
    o2p_i64 ignore_index;
    o2p_i32 x_dtype; /* also y's, log_prob's and weight's */
    o2p_i32 target_dtype;
    o2p_i32 reduction; /* O2P_EXTRA_REDUCE_* */
    o2p_i32 has_ignore;
    o2p_i32 softmax; /* 1: SoftmaxCrossEntropyLoss */
    o2p_i32 reserved;
} o2p_extra_loss_params;

/* ---- Einsum as a sum over an index space of labels: the output's labels come first
 * (0..num_out-1, row-major over the output), the summed ones after. Operand t's element for
 * a label index vector i is at sum_l i[l] * strides[t][l] (0 where a label is absent or
 * broadcast; repeated labels add their strides: the diagonal). One thread per output
 * element; float types accumulate in double, integers in 64-bit wrapping arithmetic. */
#define O2P_EXTRA_EIN_MAX_OPS 8
#define O2P_EXTRA_EIN_MAX_LABELS 32

typedef struct o2p_extra_einsum_params {
    o2p_u64 in_ptr[O2P_EXTRA_EIN_MAX_OPS];
    o2p_u64 y_ptr;
    o2p_i64 dims[O2P_EXTRA_EIN_MAX_LABELS];
    o2p_i64 strides[O2P_EXTRA_EIN_MAX_OPS][O2P_EXTRA_EIN_MAX_LABELS];
    o2p_i64 total;   /* output elements */
    o2p_i64 num_sum; /* product of the summed labels' dims */
    o2p_i32 num_ops;
    o2p_i32 num_labels;
    o2p_i32 num_out;
    o2p_i32 dtype;
    o2p_i32 is_float;
    o2p_i32 reserved;
} o2p_extra_einsum_params;

/* ---- QuantizeLinear (y = saturate(rint(x / scale) + zp)) and DequantizeLinear
 * (y = (x - zp) * scale), per tensor (count 1) or per axis: element i uses parameter
 * (i / inner) % count. */
typedef struct o2p_extra_quant_params {
    o2p_u64 x_ptr;
    o2p_u64 scale_ptr;
    o2p_u64 zp_ptr; /* 0: zero */
    o2p_u64 y_ptr;
    o2p_i64 total;
    o2p_i64 count;
    o2p_i64 inner;
    o2p_f64 lo; /* the quantized type's range (QuantizeLinear) */
    o2p_f64 hi;
    o2p_i32 x_dtype;
    o2p_i32 scale_dtype;
    o2p_i32 zp_dtype;
    o2p_i32 y_dtype;
    o2p_i32 f32_div; /* QuantizeLinear: divide in float32 (float inputs), else in double */
    o2p_i32 reserved;
} o2p_extra_quant_params;

/* ---- DynamicQuantizeLinear of float x into uint8: o2p_extra_dynq_range (one block) finds
 * the range (including 0) and writes scale and zero point; o2p_extra_dynq_apply quantizes
 * with them. */
typedef struct o2p_extra_dynq_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 scale_ptr;
    o2p_u64 zp_ptr;
    o2p_i64 total;
} o2p_extra_dynq_params;

/* ---- MatMulInteger / QLinearMatMul: y[b, m, n] = sum_k (a[b, m, k] - za[m]) *
 * (b[b, k, n] - zb[n]) in int32 (MatMulInteger), or requantized: saturate(rint(acc *
 * (sa[m] * sb[n] / sy)) + zy) (requant set). Zero points and scales have count 1 or one
 * entry per row (a) / column (b). a_batch/b_batch: over the output's batch dims, each
 * operand's batch strides (elements; 0 when broadcast). One thread per output element. */
typedef struct o2p_extra_qmatmul_params {
    o2p_u64 a_ptr;
    o2p_u64 b_ptr;
    o2p_u64 y_ptr;
    o2p_u64 a_zp_ptr; /* 0: zero */
    o2p_u64 b_zp_ptr;
    o2p_u64 a_scale_ptr; /* requant only */
    o2p_u64 b_scale_ptr;
    o2p_u64 y_scale_ptr;
    o2p_u64 y_zp_ptr;
    o2p_i64 m;
    o2p_i64 n;
    o2p_i64 k;
    o2p_i64 total;
    o2p_f64 lo; /* y's range (requant) */
    o2p_f64 hi;
    o2p_cu_shape a_batch;
    o2p_cu_shape b_batch;
    o2p_i32 a_dtype; /* also a's zero point's */
    o2p_i32 b_dtype;
    o2p_i32 y_dtype;
    o2p_i32 a_zp_count;
    o2p_i32 b_zp_count;
    o2p_i32 a_scale_count;
    o2p_i32 b_scale_count;
    o2p_i32 requant;
} o2p_extra_qmatmul_params;

/* ---- ConvInteger / QLinearConv: direct convolution, one thread per output element
 * [N, M, out...]: acc = sum over the group's channels and the window of (x - zx) * (w - zw[m])
 * (padding contributes 0), int32; requant: saturate(rint((acc + bias[m]) * (sx * sw[m] / sy))
 * + zy). */
typedef struct o2p_extra_qconv_params {
    o2p_u64 x_ptr;
    o2p_u64 w_ptr;
    o2p_u64 y_ptr;
    o2p_u64 x_zp_ptr; /* 0: zero */
    o2p_u64 w_zp_ptr;
    o2p_u64 x_scale_ptr; /* requant only */
    o2p_u64 w_scale_ptr;
    o2p_u64 y_scale_ptr;
    o2p_u64 y_zp_ptr;
    o2p_u64 bias_ptr; /* int32 [M]; 0: none */
    o2p_i64 n;
    o2p_i64 c;
    o2p_i64 m;
    o2p_i64 group;
    o2p_i64 total;
    o2p_i64 in[O2P_CU_MAX_RANK]; /* spatial dims of x */
    o2p_i64 out[O2P_CU_MAX_RANK];
    o2p_i64 kernel[O2P_CU_MAX_RANK];
    o2p_i64 stride[O2P_CU_MAX_RANK];
    o2p_i64 dilation[O2P_CU_MAX_RANK];
    o2p_i64 pad[O2P_CU_MAX_RANK]; /* leading padding */
    o2p_f64 lo;
    o2p_f64 hi;
    o2p_i32 nsp;
    o2p_i32 x_dtype; /* also x's zero point's */
    o2p_i32 w_dtype; /* also w's zero point's */
    o2p_i32 y_dtype;
    o2p_i32 w_zp_count;
    o2p_i32 w_scale_count;
    o2p_i32 requant;
    o2p_i32 reserved;
} o2p_extra_qconv_params;

#endif
