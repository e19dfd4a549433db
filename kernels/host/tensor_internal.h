/* tensor_internal.h: what the files of the host tensor family (tensor.c, tensor_*.c) share:
 * argument checks, index reading and a strided copy. Not used outside the family. */
#ifndef O2P_HOST_TENSOR_INTERNAL_H
#define O2P_HOST_TENSOR_INTERNAL_H

#include "host/host_kernels.h"

/* Checks that t is present with a valid rank and dims (data not needed): *numel. */
o2p_status host_tn_check_dims(const host_kernel_args *a, const host_tensor *t, const char *what,
                              int64_t *numel);
/* As host_tn_check_dims, and the data is there for every byte (when the type has a size). */
o2p_status host_tn_check(const host_kernel_args *a, const host_tensor *t, const char *what,
                         int64_t *numel);
/* Byte size of t's element type, or fails (strings and undefined types) with the op's name. */
o2p_status host_tn_esize(const host_kernel_args *a, o2p_dtype t, size_t *size);
/* Checks output i: present, valid, with this dtype and shape; returns it in *out. */
o2p_status host_tn_check_out(const host_kernel_args *a, int i, o2p_dtype dtype, int rank,
                             const int64_t *dims, host_tensor **out);
/* A 1-D (or scalar) int32/int64 tensor with at most cap entries into out[*count]. */
o2p_status host_tn_read_ints(const host_kernel_args *a, const host_tensor *t, const char *what,
                             int64_t *out, int cap, int *count);
/* A one-element int32/int64 tensor (rank 0 or 1). */
o2p_status host_tn_read_scalar_int(const host_kernel_args *a, const host_tensor *t,
                                   const char *what, int64_t *v);
/* Whether t is int32 or int64. */
int host_tn_is_index_type(o2p_dtype t);
/* Index idx of an axis of size dim, negative counting from the end (wrapped once), into *out;
 * 0 when out of [-dim, dim-1]. */
int host_tn_wrap_index(int64_t idx, int64_t dim, int64_t *out);
/* Row-major element strides of a shape. */
void host_tn_strides(int rank, const int64_t *dims, int64_t *strides);
/* "[2,3,4]" into buf. */
const char *host_tn_dims_str(char *buf, size_t size, int rank, const int64_t *dims);
/* Copies the elements of a strided view (base src, element strides, any sign, 0 broadcasts)
 * into the packed dst, row-major over dims. Contiguous rows go by memcpy. */
void host_tn_copy_strided(void *dst, const void *src, size_t esize, int rank, const int64_t *dims,
                          const int64_t *src_strides);
/* Fills n elements of esize bytes at dst with the element at value. */
void host_tn_fill(void *dst, const void *value, size_t esize, int64_t n);

/* Kernels defined in tensor_layout.c, tensor_index.c, tensor_axis.c. */
o2p_status host_tn_transpose(const host_kernel_args *a);
o2p_status host_tn_concat(const host_kernel_args *a);
o2p_status host_tn_split(const host_kernel_args *a);
o2p_status host_tn_slice(const host_kernel_args *a);
o2p_status host_tn_expand(const host_kernel_args *a);
o2p_status host_tn_tile(const host_kernel_args *a);
o2p_status host_tn_pad(const host_kernel_args *a);
o2p_status host_tn_trilu(const host_kernel_args *a);

o2p_status host_tn_gather(const host_kernel_args *a);
o2p_status host_tn_gather_elements(const host_kernel_args *a);
o2p_status host_tn_gather_nd(const host_kernel_args *a);
o2p_status host_tn_scatter_elements(const host_kernel_args *a);
o2p_status host_tn_scatter_nd(const host_kernel_args *a);
o2p_status host_tn_one_hot(const host_kernel_args *a);
o2p_status host_tn_compress(const host_kernel_args *a);
o2p_status host_tn_nonzero(const host_kernel_args *a);
/* NonZero's input type and output shape [rank, N], as both targets check them; with_data:
 * the input's data too (the host kernel). *n: the input's element count. */
o2p_status host_tn_nonzero_check(const host_kernel_args *a, int with_data, int64_t *n);
o2p_status host_tn_reverse_sequence(const host_kernel_args *a);

o2p_status host_tn_topk(const host_kernel_args *a);
o2p_status host_tn_cumsum(const host_kernel_args *a);

#endif
