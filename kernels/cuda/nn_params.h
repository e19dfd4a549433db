/* nn_params.h: the parameter structs of the nn kernel family (kernels/cuda/nn.cu), filled by
 * src/codegen/lower_nn.c. Layout rules in o2p_params.h; each struct's size is asserted on both
 * sides. */
#ifndef O2P_NN_PARAMS_H
#define O2P_NN_PARAMS_H

#include "o2p_params.h"

/* ---- reductions over rows (Softmax, LogSoftmax, Hardmax, the normalizations).
 * Element (r, j) of row r is X's element off(rows, r) + off(cols, j) (X is contiguous, so
 * that is also its flat index); one block per row. */
#define O2P_NN_SOFTMAX 0
#define O2P_NN_LOG_SOFTMAX 1
#define O2P_NN_HARDMAX 2

#define O2P_NN_NORM_AFFINE                                                                 \
    0                     /* (x - mean) / sqrt(var + eps) * scale + bias (Layer, Instance, \
                             Group): two passes */
#define O2P_NN_NORM_MVN 1 /* (x - mean) / (sqrt(E[x^2] - mean^2) + 1e-9) */
#define O2P_NN_NORM_LP1 2 /* x / sum |x| (0 where the norm is 0) */
#define O2P_NN_NORM_LP2 3 /* x / sqrt(sum x^2) */

typedef struct o2p_nn_rows_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 scale_ptr; /* AFFINE: the scale, read at off(scale, flat X index) */
    o2p_u64 bias_ptr;  /* AFFINE: the bias likewise; 0 when absent */
    o2p_u64 mean_ptr;  /* AFFINE: the row's mean at index r; 0 when not wanted */
    o2p_u64 inv_ptr;   /* AFFINE: the row's 1 / sqrt(var + eps) at index r; 0 when not wanted */
    o2p_i64 num_rows;
    o2p_i64 row_len;
    o2p_f64 eps;
    o2p_cu_shape rows;  /* the kept axes: dims, X strides */
    o2p_cu_shape cols;  /* the reduced axes: dims, X strides */
    o2p_cu_shape scale; /* a factorization of X's flat index with the scale's strides */
    o2p_cu_shape bias;
    o2p_i32 kind;        /* O2P_NN_SOFTMAX.. for the softmax kernel, O2P_NN_NORM_* for norm */
    o2p_i32 scale_dtype; /* O2P_CU_* of the scale / bias / mean / inv tensors */
    o2p_i32 bias_dtype;
    o2p_i32 mean_dtype;
    o2p_i32 inv_dtype;
    o2p_i32 reserved;
} o2p_nn_rows_params;

/* ---- BatchNormalization (inference): y = x * scale / sqrt(var + eps) + (B - mean * that). */
typedef struct o2p_nn_batch_norm_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 scale_ptr;
    o2p_u64 bias_ptr;
    o2p_u64 mean_ptr;
    o2p_u64 var_ptr;
    o2p_i64 total;    /* elements of X */
    o2p_i64 channels; /* C */
    o2p_i64 inner;    /* product of the spatial dims */
    o2p_f64 eps;
    o2p_i32 per_element; /* opset < 9 spatial=0: one parameter per (channel, position) */
    o2p_i32 scale_dtype;
    o2p_i32 bias_dtype;
    o2p_i32 mean_dtype;
    o2p_i32 var_dtype;
    o2p_i32 reserved;
} o2p_nn_batch_norm_params;

/* ---- LRN across channels: y = x / (bias + alpha / size * sum of squares) ^ beta. */
typedef struct o2p_nn_lrn_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_i64 total;
    o2p_i64 channels;
    o2p_i64 inner;
    o2p_i64 size;
    o2p_f64 alpha;
    o2p_f64 beta;
    o2p_f64 bias;
} o2p_nn_lrn_params;

/* ---- windowed pools, one thread per output element. */
#define O2P_NN_POOL_MAX 0
#define O2P_NN_POOL_AVG 1
#define O2P_NN_POOL_LP 2

typedef struct o2p_nn_pool_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 idx_ptr; /* MaxPool's Indices (int64), 0 when not wanted */
    o2p_i64 total;   /* planes * prod(out) */
    o2p_i64 in[O2P_CU_MAX_RANK];
    o2p_i64 out[O2P_CU_MAX_RANK];
    o2p_i64 kernel[O2P_CU_MAX_RANK];
    o2p_i64 stride[O2P_CU_MAX_RANK];
    o2p_i64 dilation[O2P_CU_MAX_RANK];
    o2p_i64 pad_begin[O2P_CU_MAX_RANK];
    o2p_i64 pad_end[O2P_CU_MAX_RANK];
    o2p_f64 p; /* LpPool's order */
    o2p_i32 nsp;
    o2p_i32 kind;
    o2p_i32 count_include_pad;
    o2p_i32 storage_order;
} o2p_nn_pool_params;

/* ---- global pools, one block per (n, c) plane. */
typedef struct o2p_nn_global_pool_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_i64 planes;
    o2p_i64 size; /* elements per plane */
    o2p_f64 p;
    o2p_i32 kind; /* O2P_NN_POOL_* */
    o2p_i32 reserved;
} o2p_nn_global_pool_params;

/* ---- Resize / Upsample. Nearest: one kernel over the whole output. Linear and cubic: one
 * pass per resized axis (as ONNX's reference and the host kernel), in double between passes. */
#define O2P_NN_RESIZE_NEAREST 0
#define O2P_NN_RESIZE_LINEAR 1
#define O2P_NN_RESIZE_CUBIC 2

#define O2P_NN_CT_HALF_PIXEL 0
#define O2P_NN_CT_HALF_PIXEL_SYMMETRIC 1
#define O2P_NN_CT_PYTORCH_HALF_PIXEL 2
#define O2P_NN_CT_ALIGN_CORNERS 3
#define O2P_NN_CT_ASYMMETRIC 4
#define O2P_NN_CT_TF_HALF_PIXEL_FOR_NN 5
#define O2P_NN_CT_TF_CROP_AND_RESIZE 6

#define O2P_NN_NM_ROUND_PREFER_FLOOR 0
#define O2P_NN_NM_ROUND_PREFER_CEIL 1
#define O2P_NN_NM_FLOOR 2
#define O2P_NN_NM_CEIL 3

typedef struct o2p_nn_resize_params {
    o2p_u64 x_ptr;                /* this pass's source */
    o2p_u64 y_ptr;                /* this pass's destination */
    o2p_i64 total;                /* elements this launch writes */
    o2p_i64 outer;                /* axis pass: product of the current dims before the axis */
    o2p_i64 inner;                /* axis pass: product of the current dims after it */
    o2p_i64 taps;                 /* axis pass: taps per output position */
    o2p_i64 in[O2P_CU_MAX_RANK];  /* X's dims */
    o2p_i64 out[O2P_CU_MAX_RANK]; /* Y's dims */
    o2p_f64 scale[O2P_CU_MAX_RANK];
    o2p_f64 roi_start[O2P_CU_MAX_RANK];
    o2p_f64 roi_end[O2P_CU_MAX_RANK];
    o2p_f64 cubic_a;
    o2p_f64 extrapolation;
    o2p_i32 rank;
    o2p_i32 axis; /* axis pass: the axis */
    o2p_i32 mode; /* O2P_NN_RESIZE_* */
    o2p_i32 coord;
    o2p_i32 nearest;
    o2p_i32 exclude_outside;
    o2p_i32 antialias;
    o2p_i32 x_dtype; /* O2P_CU_* of the source (DOUBLE for a workspace buffer) */
    o2p_i32 y_dtype;
    o2p_i32 elem_size; /* nearest: bytes per element (1, 2, 4 or 8) */
} o2p_nn_resize_params;

/* ---- GridSample, one thread per output element. */
#define O2P_NN_GRID_ZEROS 0
#define O2P_NN_GRID_BORDER 1
#define O2P_NN_GRID_REFLECTION 2

typedef struct o2p_nn_grid_sample_params {
    o2p_u64 x_ptr;
    o2p_u64 grid_ptr;
    o2p_u64 y_ptr;
    o2p_i64 total;                 /* N * C * out_size */
    o2p_i64 channels;              /* C */
    o2p_i64 out_size;              /* product of the output's spatial dims */
    o2p_i64 in_size;               /* product of X's spatial dims */
    o2p_i64 dims[O2P_CU_MAX_RANK]; /* X's spatial dims */
    o2p_i32 nsp;
    o2p_i32 mode; /* O2P_NN_RESIZE_* */
    o2p_i32 padding;
    o2p_i32 align_corners;
    o2p_i32 x_dtype; /* X's and Y's */
    o2p_i32 grid_dtype;
} o2p_nn_grid_sample_params;

/* ---- DepthToSpace / SpaceToDepth, one thread per output element (a byte copy). */
typedef struct o2p_nn_space_depth_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_i64 total;
    o2p_i64 n;
    o2p_i64 c; /* X's dims */
    o2p_i64 h;
    o2p_i64 w;
    o2p_i64 block;
    o2p_i32 to_space; /* 1: DepthToSpace, 0: SpaceToDepth */
    o2p_i32 crd;      /* mode CRD (else DCR) */
    o2p_i32 elem_size;
    o2p_i32 reserved;
} o2p_nn_space_depth_params;

#endif
