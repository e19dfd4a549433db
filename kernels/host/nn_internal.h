/* nn_internal.h: what the files of the nn host-kernel family (nn*.c) share: their kernels
 * for the table in nn.c, argument checking, float32 staging of other float types, the
 * convolution/pooling window geometry and the float32 GEMM. Not used outside kernels/host. */
#ifndef O2P_HOST_NN_INTERNAL_H
#define O2P_HOST_NN_INTERNAL_H

#include "host/host_kernels.h"

/* ---- kernels (one per op type). */
o2p_status host_nn_conv(const host_kernel_args *a);
o2p_status host_nn_conv_transpose(const host_kernel_args *a);
o2p_status host_nn_gemm(const host_kernel_args *a);
o2p_status host_nn_matmul(const host_kernel_args *a);
o2p_status host_nn_batch_norm(const host_kernel_args *a);
o2p_status host_nn_instance_norm(const host_kernel_args *a);
o2p_status host_nn_layer_norm(const host_kernel_args *a);
o2p_status host_nn_group_norm(const host_kernel_args *a);
o2p_status host_nn_lp_norm(const host_kernel_args *a);
o2p_status host_nn_mvn(const host_kernel_args *a);
o2p_status host_nn_lrn(const host_kernel_args *a);
o2p_status host_nn_softmax(const host_kernel_args *a);
o2p_status host_nn_log_softmax(const host_kernel_args *a);
o2p_status host_nn_hardmax(const host_kernel_args *a);
o2p_status host_nn_max_pool(const host_kernel_args *a);
o2p_status host_nn_average_pool(const host_kernel_args *a);
o2p_status host_nn_lp_pool(const host_kernel_args *a);
o2p_status host_nn_global_average_pool(const host_kernel_args *a);
o2p_status host_nn_global_max_pool(const host_kernel_args *a);
o2p_status host_nn_global_lp_pool(const host_kernel_args *a);
o2p_status host_nn_resize(const host_kernel_args *a);
o2p_status host_nn_upsample(const host_kernel_args *a);
o2p_status host_nn_grid_sample(const host_kernel_args *a);
o2p_status host_nn_depth_to_space(const host_kernel_args *a);
o2p_status host_nn_space_to_depth(const host_kernel_args *a);

/* ---- argument checking (nn.c). Every failure leaves a message naming layer and op. */

/* Input i, required (what names it in messages): present, rank in [0, HOST_MAX_RANK], dims
 * >= 0 with an element count that fits, data present when it has elements. */
o2p_status host_nn_input(const host_kernel_args *a, int i, const char *what, const host_tensor **t);
/* The same for an optional input: *t is NULL when omitted (or when it has no elements and
 * empty_is_omitted is set: ONNX writes an omitted input as an empty name, some exporters as
 * an empty tensor). */
o2p_status host_nn_input_opt(const host_kernel_args *a, int i, const char *what,
                             int empty_is_omitted, const host_tensor **t);
/* Output i, required: present with exactly this dtype and shape, data present when it has
 * elements. */
o2p_status host_nn_output(const host_kernel_args *a, int i, o2p_dtype dtype, int rank,
                          const int64_t *dims, host_tensor **t);
/* Optional output: *t is NULL when omitted, otherwise checked as above. */
o2p_status host_nn_output_opt(const host_kernel_args *a, int i, o2p_dtype dtype, int rank,
                              const int64_t *dims, host_tensor **t);
/* Fails unless t has rank `rank` (what names it). */
o2p_status host_nn_want_rank(const host_kernel_args *a, const host_tensor *t, const char *what,
                             int rank);
/* Fails unless t's dtype equals dtype. */
o2p_status host_nn_want_dtype(const host_kernel_args *a, const host_tensor *t, const char *what,
                              o2p_dtype dtype);
/* "[1,3,224,224]" into buf. */
const char *host_nn_shape_str(const host_tensor *t, char *buf, size_t size);
const char *host_nn_dims_str(int rank, const int64_t *dims, char *buf, size_t size);

int host_nn_is_float(o2p_dtype t);           /* float32, float16, bfloat16, double */
int host_nn_is_integer(o2p_dtype t);         /* signed and unsigned integers (not bool) */
int64_t host_nn_numel(const host_tensor *t); /* for tensors that passed host_nn_input */
int64_t host_nn_prod(const int64_t *dims, int from, int to); /* dims[from..to) */

/* ---- float32 staging: kernels compute float types in float32 (double where it matters). */

/* t's elements as float32: t->data itself when t is float32, otherwise a converted malloc'ed
 * copy returned in *owned as well (free it). NULL (O2P_ERR_OUT_OF_MEMORY set) on failure. */
const float *host_nn_f32_in(const host_kernel_args *a, const host_tensor *t, float **owned);
/* Where to compute float32 results for output t: t->data when float32, otherwise a malloc'ed
 * buffer (also in *owned) to hand to host_nn_f32_out afterwards. */
float *host_nn_f32_buf(const host_kernel_args *a, host_tensor *t, float **owned);
/* Converts buf into t when t is not float32 (no-op otherwise). */
void host_nn_f32_out(host_tensor *t, const float *buf);
/* malloc of n elements of size each, with overflow check; NULL with O2P_ERR_OUT_OF_MEMORY. */
void *host_nn_alloc(const host_kernel_args *a, int64_t n, size_t size);
o2p_status host_nn_oom(const host_kernel_args *a);

/* ---- window geometry of convolution and pooling (nn.c). */
typedef struct nn_window {
    int nsp; /* spatial rank */
    int64_t in[HOST_MAX_RANK];
    int64_t out[HOST_MAX_RANK];
    int64_t kernel[HOST_MAX_RANK];
    int64_t stride[HOST_MAX_RANK];
    int64_t dilation[HOST_MAX_RANK];
    int64_t pad_begin[HOST_MAX_RANK];
    int64_t pad_end[HOST_MAX_RANK];
} nn_window;

/* Fills w from X's spatial dims (dims 2..), the kernel shape, and the attributes strides,
 * dilations (when use_dilations), pads and auto_pad (NOTSET, SAME_UPPER, SAME_LOWER,
 * VALID), and ceil_mode (when use_ceil_mode): the output spatial dims and the leading and
 * trailing padding the computation uses. */
o2p_status host_nn_window(const host_kernel_args *a, const host_tensor *x, const int64_t *kernel,
                          int use_dilations, int use_ceil_mode, nn_window *w);
/* Reads the INTS attribute name of nsp entries (all >= min) into out, or fills dflt when
 * absent. */
o2p_status host_nn_spatial_ints(const host_kernel_args *a, const char *name, int nsp, int64_t dflt,
                                int64_t min, int64_t *out);

/* ---- float32 GEMM (nn_gemm.c):
 * C[i*ldc + j] = alpha * sum_k A[i*a_rs + k*a_cs] * B[k*b_rs + j*b_cs] + beta * C[i*ldc + j]
 * for i < M, j < N (C is not read when beta is 0). Any strides, so transposes are free.
 * Returns 0 when its packing buffers cannot be allocated. */
int host_nn_sgemm(int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t a_rs,
                  int64_t a_cs, const float *B, int64_t b_rs, int64_t b_cs, float beta, float *C,
                  int64_t ldc);

#endif
