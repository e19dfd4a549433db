/* tensor_params.h: the parameter structs of the tensor kernel family (kernels/cuda/tensor.cu),
 * filled by src/codegen/lower_tensor.c. Layout rules in o2p_params.h; every struct's size is
 * pinned by a static assert on both sides. Element types travel as O2P_CU_* codes, element
 * sizes as bytes (1, 2, 4 or 8: the data movement kernels do not look at values). */
#ifndef O2P_TENSOR_PARAMS_H
#define O2P_TENSOR_PARAMS_H

#include "o2p_params.h"

/* Pad modes (o2p_tn_pad_params.mode). */
#define O2P_TN_PAD_CONSTANT 0
#define O2P_TN_PAD_REFLECT 1
#define O2P_TN_PAD_EDGE 2
#define O2P_TN_PAD_WRAP 3

/* Scatter reductions (o2p_tn_*_params.reduction). */
#define O2P_TN_RED_NONE 0
#define O2P_TN_RED_ADD 1
#define O2P_TN_RED_MUL 2
#define O2P_TN_RED_MAX 3
#define O2P_TN_RED_MIN 4

/* o2p_tensor_copy_<esize>: for i < n, y[offset(dst, i)] = x[offset(src, i)]. Both shapes
 * carry the iteration dims; strides may be negative (Slice with negative steps: x_ptr is
 * patched at the first element) or 0 (Expand). Serves Transpose, Slice, Expand, Concat,
 * Split and Compress. Size 552. */
typedef struct o2p_tn_copy_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_i64 n;
    o2p_cu_shape src;
    o2p_cu_shape dst;
} o2p_tn_copy_params;

/* o2p_tensor_pad_<esize>: y (packed, out_dims) from x (in_dims, in_strides): output
 * coordinate c of axis a reads input coordinate c - begin[a], mapped by the mode when it
 * falls outside; constant mode writes `value` (its low esize bytes) there. Tile is wrap mode
 * with begin 0. Size 552. */
typedef struct o2p_tn_pad_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_i64 n;
    o2p_u64 value;
    o2p_i64 out_dims[O2P_CU_MAX_RANK];
    o2p_i64 in_dims[O2P_CU_MAX_RANK];
    o2p_i64 in_strides[O2P_CU_MAX_RANK];
    o2p_i64 begin[O2P_CU_MAX_RANK];
    o2p_i32 rank;
    o2p_i32 mode;
} o2p_tn_pad_params;

/* o2p_tensor_gather_<esize>: y[o, j, i] = x[o, ind[j], i] over (outer, ni, inner); an index
 * outside [-d, d-1] (read from an activation) writes zeros. Size 64. */
typedef struct o2p_tn_gather_params {
    o2p_u64 x_ptr;
    o2p_u64 ind_ptr;
    o2p_u64 y_ptr;
    o2p_i64 n; /* output elements: outer * ni * inner */
    o2p_i64 d;
    o2p_i64 inner;
    o2p_i64 ni;
    o2p_i32 ind_i64; /* 1: int64 indices, 0: int32 */
    o2p_i32 reserved;
} o2p_tn_gather_params;

/* o2p_tensor_gather_elements / o2p_tensor_scatter_elements. `ind` has the indices' dims with
 * the data's strides (0 on the axis): offset(ind, j) is the data offset of index element j
 * with 0 on the axis. Gather: one thread per index element. Scatter (y already holds a copy
 * of the data): with per_update, one thread per index element (no reduction, where ONNX
 * leaves the order of duplicates open, or indices known at build to hit distinct elements);
 * otherwise one thread per line along the axis (lines = n / ind_axis_dim), which applies its
 * updates in order, so duplicate indices combine as the host kernel does. An index out of
 * range is skipped. Size 368. */
typedef struct o2p_tn_elements_params {
    o2p_u64 x_ptr;   /* gather: the data */
    o2p_u64 ind_ptr;
    o2p_u64 upd_ptr; /* scatter: the updates */
    o2p_u64 y_ptr;
    o2p_i64 n;            /* index elements */
    o2p_i64 d;            /* the data's size on the axis */
    o2p_i64 axis_stride;  /* the data's stride on the axis */
    o2p_i64 lines;        /* scatter: n / ind_axis_dim */
    o2p_i64 ind_axis_dim; /* the indices' size on the axis */
    o2p_i64 ind_inner;    /* the indices' elements after the axis */
    o2p_cu_shape ind;
    o2p_i32 ind_i64;
    o2p_i32 esize;
    o2p_i32 dtype;
    o2p_i32 reduction; /* O2P_TN_RED_* */
    o2p_i32 per_update;
    o2p_i32 reserved;
} o2p_tn_elements_params;

/* o2p_tensor_gather_nd / o2p_tensor_scatter_nd. An index tuple has m entries addressing axes
 * b..b+m-1 of the data (dims/strides of those axes here); a slice is the `slice` elements
 * after them. Gather: one thread per output element (n = batches * tuples * slice).
 * Scatter (y already holds the data; tuples counts all of them): without a reduction one
 * thread per update element (n = tuples * slice); with one, one thread per slice element
 * (n = slice) that applies the tuples in order, unless per_update (the tuples are known at
 * build to be distinct): then one thread per update element too. Out-of-range tuples read
 * zeros / are skipped. Size 352. */
typedef struct o2p_tn_nd_params {
    o2p_u64 x_ptr;
    o2p_u64 ind_ptr;
    o2p_u64 upd_ptr;
    o2p_u64 y_ptr;
    o2p_i64 n;
    o2p_i64 tuples;       /* gather: per batch; scatter: in all */
    o2p_i64 slice;
    o2p_i64 batch_stride; /* gather: the data's elements per batch */
    o2p_i64 m;
    o2p_i64 dims[O2P_CU_MAX_RANK];
    o2p_i64 strides[O2P_CU_MAX_RANK];
    o2p_i32 ind_i64;
    o2p_i32 esize;
    o2p_i32 dtype;
    o2p_i32 reduction;
    o2p_i32 per_update;
    o2p_i32 reserved;
} o2p_tn_nd_params;

/* o2p_tensor_one_hot: y[o, v, i] = values[1] where indices[o, i] == v (negative indices count
 * from the end when `negative`), values[0] elsewhere. The values come from val_ptr, or from
 * off_bits/on_bits (their low esize bytes) when they are constants (val_ptr 0). Size 80. */
typedef struct o2p_tn_one_hot_params {
    o2p_u64 ind_ptr;
    o2p_u64 val_ptr;
    o2p_u64 y_ptr;
    o2p_i64 n;
    o2p_i64 depth;
    o2p_i64 inner;
    o2p_u64 off_bits;
    o2p_u64 on_bits;
    o2p_i32 ind_dtype;
    o2p_i32 esize;
    o2p_i32 negative;
    o2p_i32 values_known;
} o2p_tn_one_hot_params;

/* o2p_tensor_reverse_sequence: blocks of `block` elements over (time, batch) or (batch,
 * time); a length outside [0, seq] is clamped into it. Size 72. */
typedef struct o2p_tn_reverse_sequence_params {
    o2p_u64 x_ptr;
    o2p_u64 lens_ptr;
    o2p_u64 y_ptr;
    o2p_i64 n;
    o2p_i64 batch;
    o2p_i64 seq;
    o2p_i64 block;
    o2p_i32 time_axis; /* 0 or 1 */
    o2p_i32 esize;
    o2p_i32 lens_i64;
    o2p_i32 reserved;
} o2p_tn_reverse_sequence_params;

/* o2p_tensor_topk: one block per row (rows = outer * inner, row elements inner apart); k
 * rounds of a block-wide minimum of (key, index) above the last one taken. Size 80. */
typedef struct o2p_tn_topk_params {
    o2p_u64 x_ptr;
    o2p_u64 values_ptr;  /* 0 when the output is omitted */
    o2p_u64 indices_ptr; /* 0 when the output is omitted */
    o2p_i64 rows;
    o2p_i64 d;
    o2p_i64 k;
    o2p_i64 inner;
    o2p_i32 dtype;
    o2p_i32 esize;
    o2p_i32 largest;
    o2p_i32 has_values;
    o2p_i32 has_indices;
    o2p_i32 reserved;
} o2p_tn_topk_params;

/* o2p_tensor_cumsum: one thread per line along the axis (lines = outer * inner). An axis
 * read at run time (axis_ptr, not 0) is normalized over x's dims by each thread, which then
 * finds d, inner and lines itself; an axis out of range gives zeros. Size 208. */
typedef struct o2p_tn_cumsum_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 axis_ptr; /* 0: the axis is known and lines/d/inner are set */
    o2p_i64 n;        /* elements */
    o2p_i64 lines;
    o2p_i64 d;
    o2p_i64 inner;
    o2p_i64 dims[O2P_CU_MAX_RANK];
    o2p_i32 rank;
    o2p_i32 axis_i64;
    o2p_i32 dtype;
    o2p_i32 exclusive;
    o2p_i32 reverse;
    o2p_i32 reserved;
} o2p_tn_cumsum_params;

/* o2p_tensor_trilu: y = x with the elements outside the kept triangle zeroed; k is given
 * (already clamped into [-rows, cols]) or read at run time from k_ptr (not 0) and clamped
 * there. Size 72. */
typedef struct o2p_tn_trilu_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 k_ptr;
    o2p_i64 n;
    o2p_i64 rows;
    o2p_i64 cols;
    o2p_i64 k;
    o2p_i32 upper;
    o2p_i32 esize;
    o2p_i32 k_i64;
    o2p_i32 reserved;
} o2p_tn_trilu_params;

/* o2p_tensor_fill: y[i] = the low esize bytes of values[i % count], i < n (Shape, Size,
 * ConstantOfShape: values known at build). Size 152. */
typedef struct o2p_tn_fill_params {
    o2p_u64 y_ptr;
    o2p_i64 n;
    o2p_u64 values[O2P_CU_MAX_RANK];
    o2p_i32 count;
    o2p_i32 esize;
} o2p_tn_fill_params;

/* o2p_tensor_range: y[k] = start + k * delta (integers, wrapping) or the running sum
 * start + delta + ... in the element type (float, double: one thread, as the spec's
 * function body and the host kernel add). start and delta are read from the device, or are
 * start_bits/delta_bits (the element's bytes) when they are constants (the pointers 0).
 * Size 56. */
typedef struct o2p_tn_range_params {
    o2p_u64 start_ptr;
    o2p_u64 delta_ptr;
    o2p_u64 y_ptr;
    o2p_i64 n;
    o2p_u64 start_bits;
    o2p_u64 delta_bits;
    o2p_i32 dtype;
    o2p_i32 known;
} o2p_tn_range_params;

/* o2p_tensor_eye_like: y[r, c] = 1 where c == r + k, 0 elsewhere. Size 40. */
typedef struct o2p_tn_eye_params {
    o2p_u64 y_ptr;
    o2p_i64 n;
    o2p_i64 cols;
    o2p_i64 k;
    o2p_i32 dtype;
    o2p_i32 reserved;
} o2p_tn_eye_params;

/* o2p_tensor_nonzero: one block of O2P_TN_NONZERO_THREADS threads. y (int64, allocated at
 * [rank, cap]) gets the coordinates of the elements of x (n elements of type dtype, an
 * O2P_CU_* code, shape dims[rank]) that are not 0 (NaN counts, -0.0 does not), in row-major
 * order, packed for [rank, nnz]; shape_ptr (int64 [2], the output's shape tensor) gets
 * {rank, nnz}. A count over cap (never, as the builder's cap is n) is cut to cap. Size 176. */
#define O2P_TN_NONZERO_THREADS 512
typedef struct o2p_tn_nonzero_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 shape_ptr;
    o2p_i64 n;
    o2p_i64 cap;
    o2p_i64 dims[O2P_CU_MAX_RANK];
    o2p_i32 rank;
    o2p_i32 dtype;
} o2p_tn_nonzero_params;

#endif
