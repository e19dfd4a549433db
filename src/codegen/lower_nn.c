/* lower_nn.c: lowerings of the nn kernel family (kernels/cuda/nn.cu): softmax and the
 * normalizations, pools, Resize/Upsample, GridSample, DepthToSpace/SpaceToDepth. Each lower()
 * checks what its kernel relies on as the host kernel (kernels/host/nn_*.c) does and fills
 * the kernel's parameter struct (kernels/cuda/nn_params.h). The window geometry of the pools
 * is the host's own (host_nn_window), so both targets agree on every pad/ceil_mode case. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/nn_params.h"
#include "cuda/training_params.h"
#include "host/nn_internal.h"

_Static_assert(sizeof(o2p_nn_rows_params) == 1152, "o2p_nn_rows_params layout");
_Static_assert(sizeof(o2p_nn_batch_norm_params) == 104, "o2p_nn_batch_norm_params layout");
_Static_assert(sizeof(o2p_training_bn_stats_params) == 96, "o2p_training_bn_stats_params layout");
_Static_assert(sizeof(o2p_nn_lrn_params) == 72, "o2p_nn_lrn_params layout");
_Static_assert(sizeof(o2p_nn_pool_params) == 952, "o2p_nn_pool_params layout");
_Static_assert(sizeof(o2p_nn_global_pool_params) == 48, "o2p_nn_global_pool_params layout");
_Static_assert(sizeof(o2p_nn_resize_params) == 744, "o2p_nn_resize_params layout");
_Static_assert(sizeof(o2p_nn_grid_sample_params) == 208, "o2p_nn_grid_sample_params layout");
_Static_assert(sizeof(o2p_nn_space_depth_params) == 80, "o2p_nn_space_depth_params layout");

#define NN_BLOCK 256u
#define NN_MAX_ROW_BLOCKS (1u << 20) /* row kernels loop over rows with a grid stride */

/* ---------------------------------------------------------------- checks and messages */

/* Input i, required. */
static o2p_status nn_input(const cg_layer *l, int i, const char *what, const host_tensor **t)
{
    *t = host_in(&l->args, i);
    if (!*t || l->input_tensors[i] < 0)
        return cg_layer_error(l, "input %d (%s) is missing", i, what);
    return cg_check_tensor(l, *t, "input", i, what);
}

/* Input i, optional: NULL when omitted (or empty, when empty_is_omitted). */
static o2p_status nn_input_opt(const cg_layer *l, int i, const char *what, int empty_is_omitted,
                               const host_tensor **t)
{
    *t = host_in(&l->args, i);
    if (!*t || l->input_tensors[i] < 0) {
        *t = NULL;
        return O2P_OK;
    }
    O2P_TRY(cg_check_tensor(l, *t, "input", i, what));
    int ok;
    if (empty_is_omitted && host_numel(*t, &ok) == 0)
        *t = NULL;
    return O2P_OK;
}

/* Output i with exactly this dtype and shape; NULL when omitted and optional. */
static o2p_status nn_output_opt(const cg_layer *l, int i, o2p_dtype dtype, int rank,
                                const int64_t *dims, host_tensor **t)
{
    *t = host_out(&l->args, i);
    if (!*t || l->output_tensors[i] < 0) {
        *t = NULL;
        return O2P_OK;
    }
    O2P_TRY(cg_check_tensor(l, *t, "output", i, "result"));
    if ((*t)->dtype != dtype)
        return cg_layer_error(l, "output %d is %s, expected %s", i, o2p_dtype_name((*t)->dtype),
                        o2p_dtype_name(dtype));
    if (!host_same_shape(*t, rank, dims)) {
        char s1[256], s2[256];
        return cg_layer_error(l, "output %d has shape %s, expected %s", i,
                        host_nn_shape_str(*t, s1, sizeof s1),
                        host_nn_dims_str(rank, dims, s2, sizeof s2));
    }
    return O2P_OK;
}

static o2p_status nn_output(const cg_layer *l, int i, o2p_dtype dtype, int rank,
                            const int64_t *dims, host_tensor **t)
{
    O2P_TRY(nn_output_opt(l, i, dtype, rank, dims, t));
    if (!*t)
        return cg_layer_error(l, "output %d is missing", i);
    return O2P_OK;
}

static o2p_status want_float(const cg_layer *l, const host_tensor *t)
{
    return host_nn_is_float(t->dtype) ? O2P_OK : cg_unsupported_dtype(l, t->dtype);
}

static int64_t numel(const host_tensor *t)
{
    int ok;
    int64_t n = host_numel(t, &ok);
    return ok ? n : 0;
}

/* The element types o2p_load_f64 / o2p_store_f64 know (O2P_CU_*). */
static int cu_dtype_known(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT:
    case O2P_DTYPE_UINT8:
    case O2P_DTYPE_INT8:
    case O2P_DTYPE_UINT16:
    case O2P_DTYPE_INT16:
    case O2P_DTYPE_INT32:
    case O2P_DTYPE_INT64:
    case O2P_DTYPE_BOOL:
    case O2P_DTYPE_FLOAT16:
    case O2P_DTYPE_DOUBLE:
    case O2P_DTYPE_UINT32:
    case O2P_DTYPE_UINT64:
    case O2P_DTYPE_BFLOAT16: return 1;
    default: return 0;
    }
}

/* The kernel of a float-templated entry point for dtype t, from names[f32, f16, bf16, f64,
 * i8, u8] (NULL entries: not instantiated). */
static const char *pick_fn(const char *const names[6], o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT: return names[0];
    case O2P_DTYPE_FLOAT16: return names[1];
    case O2P_DTYPE_BFLOAT16: return names[2];
    case O2P_DTYPE_DOUBLE: return names[3];
    case O2P_DTYPE_INT8: return names[4];
    case O2P_DTYPE_UINT8: return names[5];
    default: return NULL;
    }
}

#define FLOAT_FNS(name)                                                       \
    {                                                                         \
        "o2p_nn_" name "_f32", "o2p_nn_" name "_f16", "o2p_nn_" name "_bf16", \
            "o2p_nn_" name "_f64", NULL, NULL                                 \
    }

static const char *const softmax_fns[6] = FLOAT_FNS("softmax");
static const char *const norm_fns[6] = FLOAT_FNS("norm");
static const char *const batch_norm_fns[6] = FLOAT_FNS("batch_norm");
static const char *const lrn_fns[6] = FLOAT_FNS("lrn");
static const char *const global_pool_fns[6] = FLOAT_FNS("global_pool");
static const char *const pool_fns[6] = {"o2p_nn_pool_f32", "o2p_nn_pool_f16", "o2p_nn_pool_bf16",
                                        "o2p_nn_pool_f64", "o2p_nn_pool_i8",  "o2p_nn_pool_u8"};

/* ---------------------------------------------------------------- launches */

/* One thread per element of n. */
static cg_launch *emit_1d(cg_emit *e, const char *fn, uint64_t n, const void *p, uint32_t size)
{
    uint32_t grid[3], block[3];
    cg_grid_1d(n, NN_BLOCK, grid, block);
    return cg_emit_kernel(e, "nn", fn, grid, block, 0, p, size);
}

/* One block per row. */
static cg_launch *emit_rows(cg_emit *e, const char *fn, uint64_t rows, const void *p, uint32_t size)
{
    uint32_t grid[3] = {rows > NN_MAX_ROW_BLOCKS ? NN_MAX_ROW_BLOCKS : (uint32_t)rows, 1, 1};
    uint32_t block[3] = {NN_BLOCK, 1, 1};
    if (grid[0] == 0)
        grid[0] = 1;
    return cg_emit_kernel(e, "nn", fn, grid, block, 0, p, size);
}

#define PTR(l, field, tensor, T) cg_launch_ptr(e, l, (uint32_t)offsetof(T, field), tensor, 0)

/* Seconds on an sm_80 GPU: a launch's fixed cost, the bytes moved and the arithmetic. */
static double bytes_cost(double bytes, double flops)
{
    return 3e-6 + bytes / 1.5e12 + flops / 1.5e13;
}

/* The cost of reading X and writing Y of a layer whose input 0 and output 0 are tensors. */
static double io_cost(const cg_layer *l, double flops_per_elem)
{
    const host_tensor *x = host_in(&l->args, 0);
    const host_tensor *y = host_out(&l->args, 0);
    double bytes = 0.0, n = 0.0;
    if (x)
        bytes += (double)numel(x) * (double)o2p_dtype_size(x->dtype);
    if (y) {
        n = (double)numel(y);
        bytes += n * (double)o2p_dtype_size(y->dtype);
    }
    return bytes_cost(bytes, n * flops_per_elem);
}

/* A shape of rank 1 (dims n, stride s). */
static void shape1(o2p_cu_shape *sh, int64_t n, int64_t s)
{
    memset(sh, 0, sizeof *sh);
    sh->rank = 1;
    sh->dims[0] = n;
    sh->strides[0] = s;
}

/* ---------------------------------------------------------------- candidates */

static int cand_one(cg_tactic *out, int cap, const char *kernel, double cost)
{
    if (cap < 1)
        return 0;
    out[0] = cg_simple_tactic(kernel, 0, cost);
    return 1;
}

/* Ops whose X (input 0) is a float type. */
static int cand_float_x(const cg_layer *l, cg_tactic *out, int cap, const char **why,
                        const char *kernel, double flops)
{
    const host_tensor *x = host_in(&l->args, 0);
    if (x && !host_nn_is_float(x->dtype)) {
        *why = "the CUDA kernel takes float, float16, bfloat16 and double only";
        return 0;
    }
    return cand_one(out, cap, kernel, io_cost(l, flops));
}

/* ---------------------------------------------------------------- Softmax, LogSoftmax, Hardmax */

/* outer x n x inner around the axis (coerce_2d: opset < 13, n = everything from the axis). */
static o2p_status axis_view(const cg_layer *l, const host_tensor *X, int64_t axis_attr,
                            int coerce_2d, int64_t *outer, int64_t *n, int64_t *inner)
{
    int axis;
    if (X->rank == 0) {
        *outer = *n = *inner = 1;
        return O2P_OK;
    }
    if (!host_norm_axis(axis_attr, X->rank, &axis))
        return cg_layer_error(l, "axis %lld is out of range for rank %d", (long long)axis_attr, X->rank);
    *outer = host_nn_prod(X->dims, 0, axis);
    if (coerce_2d) {
        *n = host_nn_prod(X->dims, axis, X->rank);
        *inner = 1;
    } else {
        *n = X->dims[axis];
        *inner = host_nn_prod(X->dims, axis + 1, X->rank);
    }
    return O2P_OK;
}

/* rows = outer x inner, cols = n with stride inner. */
static void axis_rows(o2p_nn_rows_params *p, int64_t outer, int64_t n, int64_t inner)
{
    memset(&p->rows, 0, sizeof p->rows);
    p->rows.rank = 2;
    p->rows.dims[0] = outer;
    p->rows.dims[1] = inner;
    p->rows.strides[0] = n * inner;
    p->rows.strides[1] = 1;
    shape1(&p->cols, n, inner);
    p->num_rows = outer * inner;
    p->row_len = n;
}

static o2p_status emit_rows_op(const cg_layer *l, cg_emit *e, const char *fn,
                               const o2p_nn_rows_params *p, int scale_input, int bias_input,
                               int mean_output, int inv_output)
{
    cg_launch *k = emit_rows(e, fn, (uint64_t)p->num_rows, p, sizeof *p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_nn_rows_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_nn_rows_params);
    if (scale_input >= 0)
        PTR(k, scale_ptr, l->input_tensors[scale_input], o2p_nn_rows_params);
    if (bias_input >= 0)
        PTR(k, bias_ptr, l->input_tensors[bias_input], o2p_nn_rows_params);
    if (mean_output >= 0)
        PTR(k, mean_ptr, l->output_tensors[mean_output], o2p_nn_rows_params);
    if (inv_output >= 0)
        PTR(k, inv_ptr, l->output_tensors[inv_output], o2p_nn_rows_params);
    return cg_emit_status(e);
}

static int softmax_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                              const char **why)
{
    return cand_float_x(l, out, cap, why, "cuda.nn.softmax", 8.0);
}

static o2p_status softmax_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                cg_emit *e)
{
    const char *op = l->args.op_type;
    int kind = strcmp(op, "LogSoftmax") == 0 ? O2P_NN_LOG_SOFTMAX
               : strcmp(op, "Hardmax") == 0  ? O2P_NN_HARDMAX
                                             : O2P_NN_SOFTMAX;
    const host_tensor *X;
    host_tensor *Y;
    O2P_TRY(nn_input(l, 0, "input", &X));
    O2P_TRY(want_float(l, X));
    O2P_TRY(nn_output(l, 0, X->dtype, X->rank, X->dims, &Y));
    int legacy = l->args.opset < 13;
    int64_t outer, n, inner;
    O2P_TRY(axis_view(l, X, host_attr_int(&l->args, "axis", legacy ? 1 : -1), legacy, &outer, &n,
                      &inner));
    if (numel(Y) == 0)
        return O2P_OK;
    o2p_nn_rows_params p;
    memset(&p, 0, sizeof p);
    axis_rows(&p, outer, n, inner);
    p.kind = kind;
    return emit_rows_op(l, e, pick_fn(softmax_fns, X->dtype), &p, -1, -1, -1, -1);
}

/* ---------------------------------------------------------------- LpNormalization */

static int rows_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                           const char **why)
{
    return cand_float_x(l, out, cap, why, "cuda.nn.norm", 6.0);
}

static o2p_status lp_norm_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                cg_emit *e)
{
    const host_tensor *X;
    host_tensor *Y;
    O2P_TRY(nn_input(l, 0, "input", &X));
    O2P_TRY(want_float(l, X));
    O2P_TRY(nn_output(l, 0, X->dtype, X->rank, X->dims, &Y));
    int64_t pn = host_attr_int(&l->args, "p", 2);
    if (pn != 1 && pn != 2)
        return cg_layer_error(l, "p is %lld, must be 1 or 2", (long long)pn);
    if (X->rank < 1)
        return cg_layer_error(l, "input must have rank >= 1");
    int64_t outer, n, inner;
    O2P_TRY(axis_view(l, X, host_attr_int(&l->args, "axis", -1), 0, &outer, &n, &inner));
    if (numel(Y) == 0)
        return O2P_OK;
    o2p_nn_rows_params p;
    memset(&p, 0, sizeof p);
    axis_rows(&p, outer, n, inner);
    p.kind = pn == 1 ? O2P_NN_NORM_LP1 : O2P_NN_NORM_LP2;
    return emit_rows_op(l, e, pick_fn(norm_fns, X->dtype), &p, -1, -1, -1, -1);
}

/* ---------------------------------------------------------------- MeanVarianceNormalization */

static o2p_status mvn_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    const host_tensor *X;
    host_tensor *Y;
    O2P_TRY(nn_input(l, 0, "X", &X));
    O2P_TRY(want_float(l, X));
    O2P_TRY(nn_output(l, 0, X->dtype, X->rank, X->dims, &Y));
    static const int64_t default_axes[3] = {0, 2, 3};
    int count = 0;
    const int64_t *axes = host_attr_ints(&l->args, "axes", &count);
    if (!axes) {
        axes = default_axes;
        count = 3;
    }
    int reduced[O2P_CU_MAX_RANK] = {0};
    for (int i = 0; i < count; i++) {
        int ax;
        if (!host_norm_axis(axes[i], X->rank, &ax) || X->rank == 0)
            return cg_layer_error(l, "axes[%d] = %lld is out of range for rank %d", i, (long long)axes[i],
                            X->rank);
        if (reduced[ax])
            return cg_layer_error(l, "axis %d appears twice in axes", ax);
        reduced[ax] = 1;
    }
    if (numel(X) == 0)
        return O2P_OK;
    o2p_nn_rows_params p;
    memset(&p, 0, sizeof p);
    int64_t stride = 1, groups = 1, per_group = 1;
    for (int d = X->rank - 1; d >= 0; d--) {
        o2p_cu_shape *sh = reduced[d] ? &p.cols : &p.rows;
        /* axes are filled innermost first, then moved to the front below */
        sh->dims[O2P_CU_MAX_RANK - 1 - sh->rank] = X->dims[d];
        sh->strides[O2P_CU_MAX_RANK - 1 - sh->rank] = stride;
        sh->rank++;
        if (reduced[d])
            per_group *= X->dims[d];
        else
            groups *= X->dims[d];
        stride *= X->dims[d];
    }
    o2p_cu_shape *shapes[2] = {&p.rows, &p.cols};
    for (int s = 0; s < 2; s++) {
        int r = shapes[s]->rank;
        memmove(shapes[s]->dims, shapes[s]->dims + O2P_CU_MAX_RANK - r,
                (size_t)r * sizeof(int64_t));
        memmove(shapes[s]->strides, shapes[s]->strides + O2P_CU_MAX_RANK - r,
                (size_t)r * sizeof(int64_t));
        for (int d = r; d < O2P_CU_MAX_RANK; d++)
            shapes[s]->dims[d] = shapes[s]->strides[d] = 0;
    }
    p.num_rows = groups;
    p.row_len = per_group;
    p.kind = O2P_NN_NORM_MVN;
    return emit_rows_op(l, e, pick_fn(norm_fns, X->dtype), &p, -1, -1, -1, -1);
}

/* ---------------------------------------------------------------- Layer/Instance/GroupNorm */

/* A [count] parameter vector indexed by axis `axis` of X's flat index viewed as
 * [before, count, after]. */
static void vector_shape(o2p_cu_shape *sh, int64_t before, int64_t count, int64_t after)
{
    memset(sh, 0, sizeof *sh);
    sh->rank = 3;
    sh->dims[0] = before;
    sh->dims[1] = count;
    sh->dims[2] = after;
    sh->strides[1] = 1;
}

static int broadcasts_to(const host_tensor *t, int rank, const int64_t *dims)
{
    if (t->rank > rank)
        return 0;
    for (int i = 0; i < t->rank; i++) {
        int64_t d = t->dims[i], o = dims[rank - t->rank + i];
        if (d != o && d != 1)
            return 0;
    }
    return 1;
}

static void broadcast_shape(o2p_cu_shape *sh, const host_tensor *t, const host_tensor *X)
{
    memset(sh, 0, sizeof *sh);
    sh->rank = X->rank;
    memcpy(sh->dims, X->dims, (size_t)X->rank * sizeof(int64_t));
    host_broadcast_strides(t, X->rank, X->dims, sh->strides);
}

static int norm_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                           const char **why)
{
    for (int i = 0; i < l->args.num_inputs && i < 3; i++) {
        const host_tensor *t = host_in(&l->args, i);
        if (t && !host_nn_is_float(t->dtype)) {
            *why = "the CUDA kernel takes float, float16, bfloat16 and double only";
            return 0;
        }
    }
    return cand_one(out, cap, "cuda.nn.norm", io_cost(l, 10.0));
}

/* An optional statistics output (Mean, InvStdDev): any float type, the given shape. */
static o2p_status stat_output(const cg_layer *l, int i, const host_tensor *X, int rank,
                              const int64_t *dims, host_tensor **t)
{
    host_tensor *out = host_out(&l->args, i);
    o2p_dtype want = out && host_nn_is_float(out->dtype) ? out->dtype : X->dtype;
    return nn_output_opt(l, i, want, rank, dims, t);
}

static o2p_status layer_norm_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                   cg_emit *e)
{
    const host_tensor *X, *S, *B;
    O2P_TRY(nn_input(l, 0, "X", &X));
    O2P_TRY(nn_input(l, 1, "Scale", &S));
    O2P_TRY(nn_input_opt(l, 2, "B", 0, &B));
    O2P_TRY(want_float(l, X));
    O2P_TRY(want_float(l, S));
    if (B)
        O2P_TRY(want_float(l, B));
    if (X->rank < 1)
        return cg_layer_error(l, "X must have rank >= 1");
    int axis;
    int64_t axis_attr = host_attr_int(&l->args, "axis", -1);
    if (!host_norm_axis(axis_attr, X->rank, &axis))
        return cg_layer_error(l, "axis %lld is out of range for rank %d", (long long)axis_attr, X->rank);
    char s1[256], s2[256], s3[256];
    if (!broadcasts_to(S, X->rank, X->dims) || (B && !broadcasts_to(B, X->rank, X->dims)))
        return cg_layer_error(l, "Scale %s and B %s must broadcast to X %s",
                        host_nn_shape_str(S, s1, sizeof s1),
                        B ? host_nn_shape_str(B, s2, sizeof s2) : "(none)",
                        host_nn_shape_str(X, s3, sizeof s3));
    int64_t sdims[O2P_CU_MAX_RANK];
    for (int i = 0; i < X->rank; i++)
        sdims[i] = i < axis ? X->dims[i] : 1;
    host_tensor *Y, *Mo, *Io;
    O2P_TRY(nn_output(l, 0, X->dtype, X->rank, X->dims, &Y));
    O2P_TRY(stat_output(l, 1, X, X->rank, sdims, &Mo));
    O2P_TRY(stat_output(l, 2, X, X->rank, sdims, &Io));
    int64_t rows = host_nn_prod(X->dims, 0, axis), cols = host_nn_prod(X->dims, axis, X->rank);
    if (rows == 0 || (cols == 0 && !Mo && !Io))
        return O2P_OK;
    o2p_nn_rows_params p;
    memset(&p, 0, sizeof p);
    shape1(&p.rows, rows, cols);
    shape1(&p.cols, cols, 1);
    p.num_rows = rows;
    p.row_len = cols;
    p.eps = host_attr_float(&l->args, "epsilon", 1e-5f);
    p.kind = O2P_NN_NORM_AFFINE;
    broadcast_shape(&p.scale, S, X);
    p.scale_dtype = (int32_t)S->dtype;
    if (B) {
        broadcast_shape(&p.bias, B, X);
        p.bias_dtype = (int32_t)B->dtype;
    }
    p.mean_dtype = Mo ? (int32_t)Mo->dtype : 0;
    p.inv_dtype = Io ? (int32_t)Io->dtype : 0;
    return emit_rows_op(l, e, pick_fn(norm_fns, X->dtype), &p, 1, B ? 2 : -1, Mo ? 1 : -1,
                        Io ? 2 : -1);
}

static o2p_status want_vector(const cg_layer *l, const host_tensor *t, const char *what, int64_t c)
{
    O2P_TRY(want_float(l, t));
    if (t->rank != 1 || t->dims[0] != c) {
        char s[256];
        return cg_layer_error(l, "%s must have shape [%lld], not %s", what, (long long)c,
                        host_nn_shape_str(t, s, sizeof s));
    }
    return O2P_OK;
}

static o2p_status instance_norm_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                      cg_emit *e)
{
    const host_tensor *X, *S, *B;
    O2P_TRY(nn_input(l, 0, "input", &X));
    O2P_TRY(nn_input(l, 1, "scale", &S));
    O2P_TRY(nn_input(l, 2, "B", &B));
    O2P_TRY(want_float(l, X));
    if (X->rank < 2)
        return cg_layer_error(l, "input must have rank >= 2 (N, C, ...), not %d", X->rank);
    int64_t N = X->dims[0], C = X->dims[1], inner = host_nn_prod(X->dims, 2, X->rank);
    O2P_TRY(want_vector(l, S, "scale", C));
    O2P_TRY(want_vector(l, B, "B", C));
    host_tensor *Y;
    O2P_TRY(nn_output(l, 0, X->dtype, X->rank, X->dims, &Y));
    if (numel(Y) == 0)
        return O2P_OK;
    o2p_nn_rows_params p;
    memset(&p, 0, sizeof p);
    shape1(&p.rows, N * C, inner);
    shape1(&p.cols, inner, 1);
    p.num_rows = N * C;
    p.row_len = inner;
    p.eps = host_attr_float(&l->args, "epsilon", 1e-5f);
    p.kind = O2P_NN_NORM_AFFINE;
    vector_shape(&p.scale, N, C, inner);
    vector_shape(&p.bias, N, C, inner);
    p.scale_dtype = (int32_t)S->dtype;
    p.bias_dtype = (int32_t)B->dtype;
    return emit_rows_op(l, e, pick_fn(norm_fns, X->dtype), &p, 1, 2, -1, -1);
}

static o2p_status group_norm_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                   cg_emit *e)
{
    const host_tensor *X, *S, *B;
    O2P_TRY(nn_input(l, 0, "X", &X));
    O2P_TRY(nn_input(l, 1, "scale", &S));
    O2P_TRY(nn_input(l, 2, "bias", &B));
    O2P_TRY(want_float(l, X));
    O2P_TRY(want_float(l, S));
    O2P_TRY(want_float(l, B));
    if (X->rank < 2)
        return cg_layer_error(l, "X must have rank >= 2 (N, C, ...), not %d", X->rank);
    const host_attr *ga = host_attr_find(&l->args, "num_groups");
    if (!ga || ga->type != O2P_ATTR_INT)
        return cg_layer_error(l, "attribute num_groups is required");
    int64_t G = ga->i, N = X->dims[0], C = X->dims[1], inner = host_nn_prod(X->dims, 2, X->rank);
    if (G < 1 || C % G != 0)
        return cg_layer_error(l, "num_groups %lld must be >= 1 and divide the %lld channels",
                        (long long)G, (long long)C);
    /* opset 18 scales per group, opset 21 per channel: take what the shape says */
    int64_t ns = numel(S);
    int per_channel = ns == C;
    if ((S->rank != 1 || B->rank != 1) || (ns != C && ns != G) || numel(B) != ns) {
        char s1[256], s2[256];
        return cg_layer_error(l,
                        "scale %s and bias %s must both have shape [%lld] (channels) or "
                        "[%lld] (groups)",
                        host_nn_shape_str(S, s1, sizeof s1), host_nn_shape_str(B, s2, sizeof s2),
                        (long long)C, (long long)G);
    }
    host_tensor *Y;
    O2P_TRY(nn_output(l, 0, X->dtype, X->rank, X->dims, &Y));
    if (numel(Y) == 0)
        return O2P_OK;
    int64_t cg = C / G, gsize = cg * inner;
    o2p_nn_rows_params p;
    memset(&p, 0, sizeof p);
    shape1(&p.rows, N * G, gsize);
    shape1(&p.cols, gsize, 1);
    p.num_rows = N * G;
    p.row_len = gsize;
    p.eps = host_attr_float(&l->args, "epsilon", 1e-5f);
    p.kind = O2P_NN_NORM_AFFINE;
    if (per_channel)
        vector_shape(&p.scale, N, C, inner);
    else
        vector_shape(&p.scale, N, G, gsize);
    p.bias = p.scale;
    p.scale_dtype = (int32_t)S->dtype;
    p.bias_dtype = (int32_t)B->dtype;
    return emit_rows_op(l, e, pick_fn(norm_fns, X->dtype), &p, 1, 2, -1, -1);
}

/* ---------------------------------------------------------------- BatchNormalization */

#define BN_MAX_CHANNEL_BLOCKS (1u << 20) /* bn_stats loops over channels with a grid stride */

/* Training mode (opset 14+): Y from the batch's statistics, which the training family's
 * bn_stats kernel computes first (kernels/cuda/training.cu), as the host kernel does. */
static int bn_training(const cg_layer *l)
{
    return l->args.opset >= 14 && host_attr_int(&l->args, "training_mode", 0) != 0;
}

/* Workspace bytes of the batch statistics: mean[C] and var[C] in double. */
static uint64_t bn_stats_bytes(int64_t channels)
{
    return channels > 0 ? 2u * (uint64_t)channels * sizeof(double) : 0u;
}

static o2p_status batch_norm_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                   cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *X, *S, *B, *Mean, *Var;
    O2P_TRY(nn_input(l, 0, "X", &X));
    O2P_TRY(nn_input(l, 1, "scale", &S));
    O2P_TRY(nn_input(l, 2, "B", &B));
    O2P_TRY(nn_input(l, 3, "input_mean", &Mean));
    O2P_TRY(nn_input(l, 4, "input_var", &Var));
    O2P_TRY(want_float(l, X));
    int training = bn_training(l);
    if (a->opset < 14 && (host_out(a, 1) || host_out(a, 2) || host_out(a, 3) || host_out(a, 4)))
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (BatchNormalization): training mode before opset 14 (the "
                        "mean, var, saved_mean and saved_var outputs) is not supported by the "
                        "CUDA kernel; export the model with opset 14 or in inference mode",
                        cg_layer_name(l));
    if (X->rank < 2)
        return cg_layer_error(l, "X must have rank >= 2 (N, C, ...), not %d", X->rank);
    int64_t C = X->dims[1], inner = host_nn_prod(X->dims, 2, X->rank);
    int per_element = a->opset < 9 && host_attr_int(a, "spatial", 1) == 0;
    int64_t pc = per_element ? C * inner : C;
    const host_tensor *params[4] = {S, B, Mean, Var};
    const char *names[4] = {"scale", "B", "input_mean", "input_var"};
    for (int i = 0; i < 4; i++) {
        O2P_TRY(want_float(l, params[i]));
        if (per_element ? numel(params[i]) != pc
                        : (params[i]->rank != 1 || params[i]->dims[0] != C)) {
            char s[256];
            return cg_layer_error(l, "%s must have %s%lld values, not shape %s", names[i],
                            per_element ? "C x spatial = " : "shape [C] = ", (long long)pc,
                            host_nn_shape_str(params[i], s, sizeof s));
        }
    }
    host_tensor *Y, *run_mean = NULL, *run_var = NULL;
    O2P_TRY(nn_output(l, 0, X->dtype, X->rank, X->dims, &Y));
    if (a->opset >= 14) {
        O2P_TRY(nn_output_opt(l, 1, Mean->dtype, Mean->rank, Mean->dims, &run_mean));
        O2P_TRY(nn_output_opt(l, 2, Var->dtype, Var->rank, Var->dims, &run_var));
        /* outside training, running_mean and running_var are the inputs unchanged */
        if (!training && run_mean && pc > 0)
            cg_emit_copy(e, l->output_tensors[1], 0, l->input_tensors[3], 0,
                         (uint64_t)pc * o2p_dtype_size(Mean->dtype));
        if (!training && run_var && pc > 0)
            cg_emit_copy(e, l->output_tensors[2], 0, l->input_tensors[4], 0,
                         (uint64_t)pc * o2p_dtype_size(Var->dtype));
    }
    int64_t total = numel(Y);
    uint64_t stats = 0;
    if (training && C > 0 && (total > 0 || run_mean || run_var)) {
        /* the batch's mean and variance per channel (doubles) into the workspace, and the
         * running statistics, by the training family's kernel */
        o2p_training_bn_stats_params sp;
        memset(&sp, 0, sizeof sp);
        sp.batch = X->dims[0];
        sp.channels = C;
        sp.inner = inner;
        sp.momentum = host_attr_float(a, "momentum", 0.9f);
        sp.x_dtype = (int32_t)X->dtype;
        sp.mean_dtype = (int32_t)Mean->dtype;
        sp.var_dtype = (int32_t)Var->dtype;
        stats = cg_emit_workspace(e, bn_stats_bytes(C));
        uint32_t grid[3] = {C > BN_MAX_CHANNEL_BLOCKS ? BN_MAX_CHANNEL_BLOCKS : (uint32_t)C, 1,
                            1};
        uint32_t block[3] = {O2P_TRAINING_BN_BLOCK, 1, 1};
        cg_launch *k = cg_emit_kernel(e, "training", "o2p_training_bn_stats", grid, block, 0, &sp,
                                      sizeof sp);
        PTR(k, x_ptr, l->input_tensors[0], o2p_training_bn_stats_params);
        PTR(k, mean_in_ptr, l->input_tensors[3], o2p_training_bn_stats_params);
        PTR(k, var_in_ptr, l->input_tensors[4], o2p_training_bn_stats_params);
        cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_training_bn_stats_params, stats_ptr),
                      CG_TENSOR_WORKSPACE, stats);
        if (run_mean)
            PTR(k, mean_out_ptr, l->output_tensors[1], o2p_training_bn_stats_params);
        if (run_var)
            PTR(k, var_out_ptr, l->output_tensors[2], o2p_training_bn_stats_params);
    }
    if (total == 0)
        return cg_emit_status(e);
    o2p_nn_batch_norm_params p;
    memset(&p, 0, sizeof p);
    p.total = total;
    p.channels = C;
    p.inner = inner;
    p.eps = host_attr_float(a, "epsilon", 1e-5f);
    p.per_element = per_element;
    p.scale_dtype = (int32_t)S->dtype;
    p.bias_dtype = (int32_t)B->dtype;
    p.mean_dtype = (int32_t)Mean->dtype;
    p.var_dtype = (int32_t)Var->dtype;
    if (training) /* normalized with the batch's statistics */
        p.mean_dtype = p.var_dtype = O2P_DTYPE_DOUBLE;
    cg_launch *k = emit_1d(e, pick_fn(batch_norm_fns, X->dtype), (uint64_t)total, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_nn_batch_norm_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_nn_batch_norm_params);
    PTR(k, scale_ptr, l->input_tensors[1], o2p_nn_batch_norm_params);
    PTR(k, bias_ptr, l->input_tensors[2], o2p_nn_batch_norm_params);
    if (training) {
        cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_nn_batch_norm_params, mean_ptr),
                      CG_TENSOR_WORKSPACE, stats);
        cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_nn_batch_norm_params, var_ptr),
                      CG_TENSOR_WORKSPACE, stats + (uint64_t)C * sizeof(double));
    } else {
        PTR(k, mean_ptr, l->input_tensors[3], o2p_nn_batch_norm_params);
        PTR(k, var_ptr, l->input_tensors[4], o2p_nn_batch_norm_params);
    }
    return cg_emit_status(e);
}

static int batch_norm_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                                 const char **why)
{
    for (int i = 0; i < l->args.num_inputs && i < 5; i++) {
        const host_tensor *t = host_in(&l->args, i);
        if (t && !host_nn_is_float(t->dtype)) {
            *why = "the CUDA kernel takes float, float16, bfloat16 and double only";
            return 0;
        }
    }
    if (!bn_training(l))
        return cand_one(out, cap, "cuda.nn.batch_norm", io_cost(l, 2.0));
    /* training: the statistics read X twice more */
    const host_tensor *x = host_in(&l->args, 0);
    if (cap < 1 || !x || x->rank < 2)
        return cand_one(out, cap, "cuda.nn.batch_norm", io_cost(l, 2.0));
    out[0] = cg_simple_tactic("cuda.training.bn_stats+nn.batch_norm", 0, 2.0 * io_cost(l, 4.0));
    out[0].workspace = bn_stats_bytes(x->dims[1]);
    return 1;
}

/* ---------------------------------------------------------------- LRN */

static int lrn_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                          const char **why)
{
    const host_attr *sa = host_attr_find(&l->args, "size");
    double size = sa && sa->type == O2P_ATTR_INT && sa->i > 0 ? (double)sa->i : 1.0;
    return cand_float_x(l, out, cap, why, "cuda.nn.lrn", 2.0 * size + 20.0);
}

static o2p_status lrn_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    const host_tensor *X;
    O2P_TRY(nn_input(l, 0, "X", &X));
    O2P_TRY(want_float(l, X));
    if (X->rank < 2)
        return cg_layer_error(l, "X must have rank >= 2 (N, C, ...), not %d", X->rank);
    host_tensor *Y;
    O2P_TRY(nn_output(l, 0, X->dtype, X->rank, X->dims, &Y));
    const host_attr *sa = host_attr_find(&l->args, "size");
    if (!sa || sa->type != O2P_ATTR_INT || sa->i < 1)
        return cg_layer_error(l, "attribute size is required and must be >= 1");
    int64_t total = numel(Y);
    if (total == 0)
        return O2P_OK;
    o2p_nn_lrn_params p;
    memset(&p, 0, sizeof p);
    p.total = total;
    p.channels = X->dims[1];
    p.inner = host_nn_prod(X->dims, 2, X->rank);
    p.size = sa->i;
    p.alpha = host_attr_float(&l->args, "alpha", 1e-4f);
    p.beta = host_attr_float(&l->args, "beta", 0.75f);
    p.bias = host_attr_float(&l->args, "bias", 1.0f);
    cg_launch *k = emit_1d(e, pick_fn(lrn_fns, X->dtype), (uint64_t)total, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_nn_lrn_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_nn_lrn_params);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- pools */

static int pool_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                           const char **why)
{
    const host_tensor *x = host_in(&l->args, 0);
    int is_max = strcmp(l->args.op_type, "MaxPool") == 0;
    if (x && !host_nn_is_float(x->dtype) &&
        !(is_max && (x->dtype == O2P_DTYPE_INT8 || x->dtype == O2P_DTYPE_UINT8))) {
        *why = is_max ? "the CUDA kernel takes float, float16, bfloat16, double, int8 and "
                        "uint8 only"
                      : "the CUDA kernel takes float, float16, bfloat16 and double only";
        return 0;
    }
    int count = 0;
    const int64_t *ks = host_attr_ints(&l->args, "kernel_shape", &count);
    double taps = 1.0;
    for (int i = 0; ks && i < count; i++)
        taps *= ks[i] > 0 ? (double)ks[i] : 1.0;
    return cand_one(out, cap, "cuda.nn.pool", io_cost(l, 2.0 * taps));
}

static o2p_status pool_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    int kind = strcmp(a->op_type, "MaxPool") == 0       ? O2P_NN_POOL_MAX
               : strcmp(a->op_type, "AveragePool") == 0 ? O2P_NN_POOL_AVG
                                                        : O2P_NN_POOL_LP;
    const host_tensor *X;
    O2P_TRY(nn_input(l, 0, "X", &X));
    o2p_dtype dt = X->dtype;
    if (!host_nn_is_float(dt) &&
        !(kind == O2P_NN_POOL_MAX && (dt == O2P_DTYPE_INT8 || dt == O2P_DTYPE_UINT8)))
        return cg_unsupported_dtype(l, dt);
    if (X->rank < 3)
        return cg_layer_error(l, "X must have rank >= 3 (N, C and spatial axes), not %d", X->rank);
    int nsp = X->rank - 2, count = 0;
    const int64_t *ks = host_attr_ints(a, "kernel_shape", &count);
    if (!ks)
        return cg_layer_error(l, "attribute kernel_shape is required");
    if (count != nsp)
        return cg_layer_error(l, "kernel_shape has %d values, expected %d", count, nsp);
    nn_window w;
    O2P_TRY(host_nn_window(a, X, ks, 1, 1, &w));
    int64_t dims[O2P_CU_MAX_RANK];
    dims[0] = X->dims[0];
    dims[1] = X->dims[1];
    memcpy(dims + 2, w.out, (size_t)nsp * sizeof(int64_t));
    host_tensor *Y, *I = NULL;
    O2P_TRY(nn_output(l, 0, dt, X->rank, dims, &Y));
    if (kind == O2P_NN_POOL_MAX)
        O2P_TRY(nn_output_opt(l, 1, O2P_DTYPE_INT64, X->rank, dims, &I));
    o2p_nn_pool_params p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    if (kind == O2P_NN_POOL_LP) {
        p.p = host_attr_float(a, "p", 2.0f);
        if (!(p.p > 0.0) || isinf(p.p))
            return cg_layer_error(l, "p is %g, must be a positive number", p.p);
    }
    p.count_include_pad = kind == O2P_NN_POOL_AVG && host_attr_int(a, "count_include_pad", 0);
    p.storage_order = kind == O2P_NN_POOL_MAX && host_attr_int(a, "storage_order", 0) != 0;
    int64_t total = numel(Y);
    if (total == 0)
        return O2P_OK;
    p.total = total;
    p.nsp = nsp;
    for (int d = 0; d < nsp; d++) {
        p.in[d] = w.in[d];
        p.out[d] = w.out[d];
        p.kernel[d] = w.kernel[d];
        p.stride[d] = w.stride[d];
        p.dilation[d] = w.dilation[d];
        p.pad_begin[d] = w.pad_begin[d];
        p.pad_end[d] = w.pad_end[d];
    }
    cg_launch *k = emit_1d(e, pick_fn(pool_fns, dt), (uint64_t)total, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_nn_pool_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_nn_pool_params);
    if (I)
        PTR(k, idx_ptr, l->output_tensors[1], o2p_nn_pool_params);
    return cg_emit_status(e);
}

static int global_pool_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                                  const char **why)
{
    return cand_float_x(l, out, cap, why, "cuda.nn.global_pool", 2.0);
}

static o2p_status global_pool_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                    cg_emit *e)
{
    const char *op = l->args.op_type;
    int kind = strcmp(op, "GlobalMaxPool") == 0       ? O2P_NN_POOL_MAX
               : strcmp(op, "GlobalAveragePool") == 0 ? O2P_NN_POOL_AVG
                                                      : O2P_NN_POOL_LP;
    const host_tensor *X;
    O2P_TRY(nn_input(l, 0, "X", &X));
    O2P_TRY(want_float(l, X));
    if (X->rank < 2)
        return cg_layer_error(l, "X must have rank >= 2 (N, C and spatial axes), not %d", X->rank);
    int64_t dims[O2P_CU_MAX_RANK];
    dims[0] = X->dims[0];
    dims[1] = X->dims[1];
    for (int i = 2; i < X->rank; i++)
        dims[i] = 1;
    host_tensor *Y;
    O2P_TRY(nn_output(l, 0, X->dtype, X->rank, dims, &Y));
    o2p_nn_global_pool_params p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.p = 2.0;
    if (kind == O2P_NN_POOL_LP) {
        p.p = host_attr_float(&l->args, "p", 2.0f);
        if (!(p.p > 0.0) || isinf(p.p))
            return cg_layer_error(l, "p is %g, must be a positive number", p.p);
    }
    p.planes = dims[0] * dims[1];
    p.size = host_nn_prod(X->dims, 2, X->rank);
    if (p.planes == 0)
        return O2P_OK;
    cg_launch *k =
        emit_rows(e, pick_fn(global_pool_fns, X->dtype), (uint64_t)p.planes, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_nn_global_pool_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_nn_global_pool_params);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- Resize, Upsample */

static o2p_status parse_mode(const cg_layer *l, o2p_nn_resize_params *p)
{
    const char *mode = host_attr_string(&l->args, "mode", "nearest");
    if (strcmp(mode, "nearest") == 0)
        p->mode = O2P_NN_RESIZE_NEAREST;
    else if (strcmp(mode, "linear") == 0 || strcmp(mode, "bilinear") == 0 ||
             strcmp(mode, "trilinear") == 0)
        p->mode = O2P_NN_RESIZE_LINEAR;
    else if (strcmp(mode, "cubic") == 0 && strcmp(l->args.op_type, "Resize") == 0 &&
             l->args.opset >= 11)
        p->mode = O2P_NN_RESIZE_CUBIC;
    else
        return cg_layer_error(l, "mode '%s' is not supported", mode);
    return O2P_OK;
}

/* Output dims from per-axis scales: floor(in * scale), as ONNX's reference (in double). */
static o2p_status dims_from_scales(const cg_layer *l, o2p_nn_resize_params *p)
{
    for (int d = 0; d < p->rank; d++) {
        double s = p->scale[d];
        if (!(s > 0.0) || isinf(s))
            return cg_layer_error(l, "scale %g on axis %d must be a positive number", s, d);
        double out = floor(s * (double)p->in[d]);
        if (out > 1e15)
            return cg_layer_error(l, "output dim %g on axis %d is too large", out, d);
        p->out[d] = (int64_t)out;
    }
    return O2P_OK;
}

static o2p_status resize_dtype_ok(const cg_layer *l, const host_tensor *X)
{
    if (!cu_dtype_known(X->dtype))
        return cg_unsupported_dtype(l, X->dtype);
    return O2P_OK;
}

/* Resize's attributes and inputs (the host's host_nn_resize, with values of the constant
 * inputs read at build time) into p. */
static o2p_status resize_parse(const cg_layer *l, const host_tensor *X, o2p_nn_resize_params *p)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *roi = NULL, *scales = NULL, *sizes = NULL;
    memset(p, 0, sizeof *p);
    p->rank = X->rank;
    memcpy(p->in, X->dims, (size_t)X->rank * sizeof(int64_t));
    O2P_TRY(parse_mode(l, p));
    if (a->opset < 11) {
        /* Resize-10: X, scales; asymmetric coordinates, nearest rounds down */
        O2P_TRY(nn_input(l, 1, "scales", &scales));
        p->coord = O2P_NN_CT_ASYMMETRIC;
        p->nearest = O2P_NN_NM_FLOOR;
    } else {
        O2P_TRY(nn_input_opt(l, 1, "roi", 1, &roi));
        O2P_TRY(nn_input_opt(l, 2, "scales", 1, &scales));
        O2P_TRY(nn_input_opt(l, 3, "sizes", 1, &sizes));
        static const char *const coords[] = {
            "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
            "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
        const char *ct = host_attr_string(a, "coordinate_transformation_mode", "half_pixel");
        int found = 0;
        for (int i = 0; i < 7 && !found; i++)
            if (strcmp(ct, coords[i]) == 0) {
                p->coord = i;
                found = 1;
            }
        if (!found)
            return cg_layer_error(l, "coordinate_transformation_mode '%s' is not supported", ct);
        static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                               "ceil"};
        const char *nm = host_attr_string(a, "nearest_mode", "round_prefer_floor");
        found = 0;
        for (int i = 0; i < 4 && !found; i++)
            if (strcmp(nm, nearests[i]) == 0) {
                p->nearest = i;
                found = 1;
            }
        if (!found)
            return cg_layer_error(l, "nearest_mode '%s' is not supported", nm);
        p->cubic_a = host_attr_float(a, "cubic_coeff_a", -0.75f);
        p->exclude_outside = host_attr_int(a, "exclude_outside", 0) != 0;
        p->extrapolation = host_attr_float(a, "extrapolation_value", 0.0f);
        p->antialias = a->opset >= 18 && host_attr_int(a, "antialias", 0) != 0;
    }
    /* axes (opset 18): scales, sizes and roi then cover only those axes */
    int axes[O2P_CU_MAX_RANK];
    int naxes = p->rank;
    for (int i = 0; i < p->rank; i++)
        axes[i] = i;
    int count = 0;
    const int64_t *ax = a->opset >= 18 ? host_attr_ints(a, "axes", &count) : NULL;
    if (ax) {
        int seen[O2P_CU_MAX_RANK] = {0};
        if (count > p->rank)
            return cg_layer_error(l, "axes has %d entries for rank %d", count, p->rank);
        for (int i = 0; i < count; i++) {
            int d;
            if (!host_norm_axis(ax[i], p->rank, &d) || p->rank == 0 || seen[d])
                return cg_layer_error(l, "axes[%d] = %lld is out of range or repeated", i,
                                (long long)ax[i]);
            seen[d] = 1;
            axes[i] = d;
        }
        naxes = count;
    }
    for (int d = 0; d < p->rank; d++) {
        p->scale[d] = 1.0;
        p->roi_start[d] = 0.0;
        p->roi_end[d] = 1.0;
    }
    if (p->coord == O2P_NN_CT_TF_CROP_AND_RESIZE) {
        if (!roi)
            return cg_layer_error(l, "tf_crop_and_resize needs the roi input");
        if (!host_nn_is_float(roi->dtype))
            return cg_unsupported_dtype(l, roi->dtype);
        if (roi->rank != 1 || roi->dims[0] != 2 * naxes)
            return cg_layer_error(l, "roi must have %d values (start and end per axis)", 2 * naxes);
        if (!roi->data)
            return cg_not_constant(l, "the roi input");
        for (int i = 0; i < naxes; i++) {
            p->roi_start[axes[i]] = host_get_f64(roi, i);
            p->roi_end[axes[i]] = host_get_f64(roi, i + naxes);
        }
    }
    if ((scales != NULL) == (sizes != NULL))
        return cg_layer_error(l, "exactly one of scales and sizes must be given");
    if (scales) {
        if (!host_nn_is_float(scales->dtype))
            return cg_unsupported_dtype(l, scales->dtype);
        if (scales->rank != 1 || scales->dims[0] != naxes)
            return cg_layer_error(l, "scales must have %d values", naxes);
        if (!scales->data)
            return cg_not_constant(l, "the scales input");
        for (int i = 0; i < naxes; i++)
            p->scale[axes[i]] = host_get_f64(scales, i);
        return dims_from_scales(l, p);
    }
    if (sizes->dtype != O2P_DTYPE_INT64)
        return cg_unsupported_dtype(l, sizes->dtype);
    if (sizes->rank != 1 || sizes->dims[0] != naxes)
        return cg_layer_error(l, "sizes must have %d values", naxes);
    const char *policy =
        a->opset >= 18 ? host_attr_string(a, "keep_aspect_ratio_policy", "stretch") : "stretch";
    int stretch = strcmp(policy, "stretch") == 0;
    if (!sizes->data) {
        /* stretch: the sizes are the output's dims, which shape inference gave */
        const host_tensor *Y = host_out(a, 0);
        if (!stretch || !Y || Y->rank != p->rank)
            return cg_not_constant(l, "the sizes input (with keep_aspect_ratio_policy other "
                                      "than stretch)");
        for (int i = 0; i < naxes; i++)
            p->out[axes[i]] = Y->dims[axes[i]];
    } else {
        for (int i = 0; i < naxes; i++) {
            int64_t v = host_get_i64(sizes, i);
            if (v < 0 || v > ((int64_t)1 << 50))
                return cg_layer_error(l, "sizes[%d] = %lld is invalid", i, (long long)v);
            p->out[axes[i]] = v;
        }
    }
    int touched[O2P_CU_MAX_RANK] = {0};
    for (int i = 0; i < naxes; i++)
        touched[axes[i]] = 1;
    for (int d = 0; d < p->rank; d++) {
        if (!touched[d])
            p->out[d] = p->in[d];
        p->scale[d] = p->in[d] ? (double)p->out[d] / (double)p->in[d] : 1.0;
    }
    if (!stretch) {
        int larger = strcmp(policy, "not_smaller") == 0;
        if (!larger && strcmp(policy, "not_larger") != 0)
            return cg_layer_error(l, "keep_aspect_ratio_policy '%s' is not supported", policy);
        double s = larger ? 0.0 : INFINITY;
        for (int i = 0; i < naxes; i++) {
            double v = p->scale[axes[i]];
            s = larger ? (v > s ? v : s) : (v < s ? v : s);
        }
        for (int i = 0; i < naxes; i++) {
            int d = axes[i];
            p->scale[d] = s;
            p->out[d] = (int64_t)(s * (double)p->in[d] + 0.5);
        }
    }
    for (int d = 0; d < p->rank; d++)
        if (p->in[d] == 0 && p->out[d] != 0)
            return cg_layer_error(l, "axis %d is empty in X but not in sizes", d);
    return O2P_OK;
}

/* Upsample's attributes/inputs into p (always asymmetric, nearest rounds down). */
static o2p_status upsample_parse(const cg_layer *l, const host_tensor *X, o2p_nn_resize_params *p)
{
    memset(p, 0, sizeof *p);
    p->rank = X->rank;
    memcpy(p->in, X->dims, (size_t)X->rank * sizeof(int64_t));
    O2P_TRY(parse_mode(l, p));
    p->coord = O2P_NN_CT_ASYMMETRIC;
    p->nearest = O2P_NN_NM_FLOOR;
    for (int d = 0; d < p->rank; d++)
        p->roi_end[d] = 1.0;
    if (l->args.opset >= 9) {
        const host_tensor *S;
        O2P_TRY(nn_input(l, 1, "scales", &S));
        if (!host_nn_is_float(S->dtype))
            return cg_unsupported_dtype(l, S->dtype);
        if (S->rank != 1 || S->dims[0] != X->rank)
            return cg_layer_error(l, "scales must have %d values", X->rank);
        if (!S->data)
            return cg_not_constant(l, "the scales input");
        for (int d = 0; d < X->rank; d++)
            p->scale[d] = host_get_f64(S, d);
    } else {
        int count = 0;
        const float *s = host_attr_floats(&l->args, "scales", &count);
        if (!s || count != X->rank)
            return cg_layer_error(l, "attribute scales must have %d values", X->rank);
        for (int d = 0; d < X->rank; d++)
            p->scale[d] = s[d];
    }
    return dims_from_scales(l, p);
}

/* Taps per output position on axis d (the host's tap_count). */
static int64_t tap_count(const o2p_nn_resize_params *p, int d)
{
    double s = p->scale[d] < 1.0 ? p->scale[d] : 1.0;
    if (!p->antialias || p->mode == O2P_NN_RESIZE_NEAREST)
        return p->mode == O2P_NN_RESIZE_CUBIC ? 4 : 2;
    int64_t start = (int64_t)floor((p->mode == O2P_NN_RESIZE_CUBIC ? -2.0 : -1.0) / s) + 1;
    return 2 - 2 * start;
}

/* Whether axis d is left as is (ONNX's reference and the host skip such axes). */
static int identity_axis(const o2p_nn_resize_params *p, int d)
{
    if (p->out[d] != p->in[d] || fabs(p->scale[d] - 1.0) > 1e-9)
        return 0;
    return p->coord != O2P_NN_CT_TF_CROP_AND_RESIZE ||
           (fabs(p->roi_start[d]) <= 1e-9 && fabs(p->roi_end[d] - 1.0) <= 1e-9);
}

/* The launches of a parsed resize: one nearest kernel, or one linear/cubic pass per resized
 * axis through two double buffers of workspace. */
static o2p_status resize_emit(const cg_layer *l, const host_tensor *X, o2p_nn_resize_params *p,
                              cg_emit *e)
{
    host_tensor *Y;
    O2P_TRY(nn_output(l, 0, X->dtype, X->rank, p->out, &Y));
    int64_t total = numel(Y);
    if (total == 0)
        return O2P_OK;
    if (numel(X) == 0)
        return cg_layer_error(l, "cannot resize an empty input into a non-empty output");
    int xt = l->input_tensors[0], yt = l->output_tensors[0];
    p->x_dtype = p->y_dtype = (int32_t)X->dtype;
    p->elem_size = (int32_t)o2p_dtype_size(X->dtype);
    if (p->mode == O2P_NN_RESIZE_NEAREST) {
        p->total = total;
        cg_launch *k = emit_1d(e, "o2p_nn_resize_nearest", (uint64_t)total, p, sizeof *p);
        PTR(k, x_ptr, xt, o2p_nn_resize_params);
        PTR(k, y_ptr, yt, o2p_nn_resize_params);
        return cg_emit_status(e);
    }
    if (X->dtype == O2P_DTYPE_BOOL)
        return cg_unsupported_dtype(l, X->dtype);
    int passes[O2P_CU_MAX_RANK], np = 0;
    int64_t dims[O2P_CU_MAX_RANK], cap = 0;
    memcpy(dims, p->in, sizeof dims);
    for (int d = 0; d < p->rank; d++) {
        if (identity_axis(p, d))
            continue;
        passes[np++] = d;
        dims[d] = p->out[d];
        int64_t size = host_nn_prod(dims, 0, p->rank);
        cap = size > cap ? size : cap;
    }
    if (np == 0) {
        /* every axis as is: Y is X */
        cg_emit_copy(e, yt, 0, xt, 0, (uint64_t)total * o2p_dtype_size(X->dtype));
        return cg_emit_status(e);
    }
    uint64_t buf[2] = {0, 0};
    if (np > 1) {
        buf[0] = cg_emit_workspace(e, (uint64_t)cap * sizeof(double));
        buf[1] = cg_emit_workspace(e, (uint64_t)cap * sizeof(double));
    }
    memcpy(dims, p->in, sizeof dims);
    for (int k = 0; k < np; k++) {
        int d = passes[k];
        o2p_nn_resize_params q = *p;
        q.axis = d;
        q.taps = tap_count(p, d);
        q.outer = host_nn_prod(dims, 0, d);
        q.inner = host_nn_prod(dims, d + 1, p->rank);
        q.total = q.outer * p->out[d] * q.inner;
        q.x_dtype = k == 0 ? (int32_t)X->dtype : O2P_CU_DOUBLE;
        q.y_dtype = k == np - 1 ? (int32_t)X->dtype : O2P_CU_DOUBLE;
        cg_launch *lk = emit_1d(e, "o2p_nn_resize_axis", (uint64_t)q.total, &q, sizeof q);
        if (k == 0)
            PTR(lk, x_ptr, xt, o2p_nn_resize_params);
        else
            cg_launch_ptr(e, lk, (uint32_t)offsetof(o2p_nn_resize_params, x_ptr),
                          CG_TENSOR_WORKSPACE, buf[(k - 1) % 2]);
        if (k == np - 1)
            PTR(lk, y_ptr, yt, o2p_nn_resize_params);
        else
            cg_launch_ptr(e, lk, (uint32_t)offsetof(o2p_nn_resize_params, y_ptr),
                          CG_TENSOR_WORKSPACE, buf[k % 2]);
        dims[d] = p->out[d];
    }
    return cg_emit_status(e);
}

static int resize_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                             const char **why)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x = host_in(a, 0);
    if (x && !cu_dtype_known(x->dtype)) {
        *why = "the CUDA kernel takes numeric and bool element types only";
        return 0;
    }
    /* the scale values shape the kernel's coordinates: they must be known at build time */
    int upsample = strcmp(a->op_type, "Upsample") == 0;
    int scales_at = upsample || a->opset < 11 ? 1 : 2;
    const host_tensor *scales = (upsample && a->opset < 9) ? NULL : host_in(a, scales_at);
    int ok;
    if (scales && l->input_tensors[scales_at] >= 0 && host_numel(scales, &ok) > 0 &&
        !scales->data) {
        *why = "the scales input is not a constant";
        return 0;
    }
    const host_tensor *roi = !upsample && a->opset >= 11 ? host_in(a, 1) : NULL;
    if (roi && l->input_tensors[1] >= 0 && host_numel(roi, &ok) > 0 && !roi->data &&
        strcmp(host_attr_string(a, "coordinate_transformation_mode", "half_pixel"),
               "tf_crop_and_resize") == 0) {
        *why = "the roi input is not a constant";
        return 0;
    }
    return cand_one(out, cap, "cuda.nn.resize", io_cost(l, 16.0));
}

static o2p_status resize_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                               cg_emit *e)
{
    const host_tensor *X;
    O2P_TRY(nn_input(l, 0, "X", &X));
    O2P_TRY(resize_dtype_ok(l, X));
    o2p_nn_resize_params p;
    if (strcmp(l->args.op_type, "Upsample") == 0)
        O2P_TRY(upsample_parse(l, X, &p));
    else
        O2P_TRY(resize_parse(l, X, &p));
    return resize_emit(l, X, &p, e);
}

/* ---------------------------------------------------------------- GridSample */

static int grid_sample_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                                  const char **why)
{
    const host_tensor *x = host_in(&l->args, 0), *g = host_in(&l->args, 1);
    if ((x && !cu_dtype_known(x->dtype)) || (g && !host_nn_is_float(g->dtype))) {
        *why = "the CUDA kernel takes numeric X and a float grid only";
        return 0;
    }
    return cand_one(out, cap, "cuda.nn.grid_sample", io_cost(l, 64.0));
}

static o2p_status grid_sample_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                    cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *X, *G;
    O2P_TRY(nn_input(l, 0, "X", &X));
    O2P_TRY(nn_input(l, 1, "grid", &G));
    O2P_TRY(resize_dtype_ok(l, X));
    if (!host_nn_is_float(G->dtype))
        return cg_unsupported_dtype(l, G->dtype);
    if (X->rank < 3)
        return cg_layer_error(l, "X must have rank >= 3 (N, C and spatial axes), not %d", X->rank);
    int nsp = X->rank - 2;
    if (G->rank != X->rank || G->dims[0] != X->dims[0] || G->dims[G->rank - 1] != nsp) {
        char s1[256], s2[256];
        return cg_layer_error(l, "grid %s must have shape [N, out spatial..., %d] for X %s",
                        host_nn_shape_str(G, s1, sizeof s1), nsp,
                        host_nn_shape_str(X, s2, sizeof s2));
    }
    o2p_nn_grid_sample_params p;
    memset(&p, 0, sizeof p);
    const char *mode = host_attr_string(a, "mode", a->opset >= 20 ? "linear" : "bilinear");
    if (strcmp(mode, "bilinear") == 0 || strcmp(mode, "linear") == 0)
        p.mode = O2P_NN_RESIZE_LINEAR;
    else if (strcmp(mode, "nearest") == 0)
        p.mode = O2P_NN_RESIZE_NEAREST;
    else if (strcmp(mode, "bicubic") == 0 || strcmp(mode, "cubic") == 0)
        p.mode = O2P_NN_RESIZE_CUBIC;
    else
        return cg_layer_error(l, "mode '%s' is not supported", mode);
    const char *pm = host_attr_string(a, "padding_mode", "zeros");
    if (strcmp(pm, "zeros") == 0)
        p.padding = O2P_NN_GRID_ZEROS;
    else if (strcmp(pm, "border") == 0)
        p.padding = O2P_NN_GRID_BORDER;
    else if (strcmp(pm, "reflection") == 0)
        p.padding = O2P_NN_GRID_REFLECTION;
    else
        return cg_layer_error(l, "padding_mode '%s' is not supported", pm);
    p.align_corners = host_attr_int(a, "align_corners", 0) != 0;
    int64_t ydims[O2P_CU_MAX_RANK];
    ydims[0] = X->dims[0];
    ydims[1] = X->dims[1];
    for (int d = 0; d < nsp; d++)
        ydims[d + 2] = G->dims[d + 1];
    host_tensor *Y;
    O2P_TRY(nn_output(l, 0, X->dtype, X->rank, ydims, &Y));
    int64_t total = numel(Y);
    p.in_size = host_nn_prod(X->dims, 2, X->rank);
    if (total == 0)
        return O2P_OK;
    if (p.in_size == 0 && p.padding != O2P_NN_GRID_ZEROS)
        return cg_layer_error(l, "cannot sample an empty input with padding_mode '%s'", pm);
    int ntaps = p.mode == O2P_NN_RESIZE_NEAREST ? 1 : p.mode == O2P_NN_RESIZE_LINEAR ? 2 : 4;
    int64_t combos = 1;
    for (int d = 0; d < nsp; d++)
        combos *= ntaps;
    if (combos > ((int64_t)1 << 20))
        return cg_layer_error(l, "%d spatial axes are too many for mode '%s'", nsp, mode);
    p.total = total;
    p.channels = X->dims[1];
    p.out_size = host_nn_prod(ydims, 2, X->rank);
    p.nsp = nsp;
    memcpy(p.dims, X->dims + 2, (size_t)nsp * sizeof(int64_t));
    p.x_dtype = (int32_t)X->dtype;
    p.grid_dtype = (int32_t)G->dtype;
    cg_launch *k = emit_1d(e, "o2p_nn_grid_sample", (uint64_t)total, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_nn_grid_sample_params);
    PTR(k, grid_ptr, l->input_tensors[1], o2p_nn_grid_sample_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_nn_grid_sample_params);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- DepthToSpace, SpaceToDepth */

static int space_depth_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                                  const char **why)
{
    const host_tensor *x = host_in(&l->args, 0);
    size_t es = x ? o2p_dtype_size(x->dtype) : 4;
    if (x && (x->dtype == O2P_DTYPE_STRING || (es != 1 && es != 2 && es != 4 && es != 8))) {
        *why = "the CUDA kernel copies elements of 1, 2, 4 or 8 bytes only";
        return 0;
    }
    return cand_one(out, cap, "cuda.nn.space_depth", io_cost(l, 0.0));
}

static o2p_status space_depth_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                    cg_emit *e)
{
    int to_space = strcmp(l->args.op_type, "DepthToSpace") == 0;
    const host_tensor *X;
    O2P_TRY(nn_input(l, 0, "input", &X));
    size_t es = o2p_dtype_size(X->dtype);
    if (X->dtype == O2P_DTYPE_STRING || (es != 1 && es != 2 && es != 4 && es != 8))
        return cg_unsupported_dtype(l, X->dtype);
    if (X->rank != 4) {
        char s[256];
        return cg_layer_error(l, "input must have rank 4, not %s", host_nn_shape_str(X, s, sizeof s));
    }
    const host_attr *ba = host_attr_find(&l->args, "blocksize");
    if (!ba || ba->type != O2P_ATTR_INT || ba->i < 1 || ba->i > ((int64_t)1 << 20))
        return cg_layer_error(l, "attribute blocksize is required and must be >= 1");
    int64_t b = ba->i, N = X->dims[0], C = X->dims[1], H = X->dims[2], W = X->dims[3];
    const char *mode = host_attr_string(&l->args, "mode", "DCR");
    int crd = strcmp(mode, "CRD") == 0;
    int64_t ydims[4];
    if (to_space) {
        if (C % (b * b) != 0)
            return cg_layer_error(l, "%lld channels are not divisible by blocksize^2 = %lld",
                            (long long)C, (long long)(b * b));
        if (!crd && strcmp(mode, "DCR") != 0)
            return cg_layer_error(l, "mode '%s' is not DCR or CRD", mode);
        if (H > INT64_MAX / b || W > INT64_MAX / b)
            return cg_layer_error(l, "output dims overflow");
        ydims[0] = N;
        ydims[1] = C / (b * b);
        ydims[2] = H * b;
        ydims[3] = W * b;
    } else {
        if (H % b != 0 || W % b != 0)
            return cg_layer_error(l, "spatial dims %lld x %lld are not divisible by blocksize %lld",
                            (long long)H, (long long)W, (long long)b);
        if (C > INT64_MAX / (b * b))
            return cg_layer_error(l, "output dims overflow");
        /* ONNX has only DCR; CRD (as DepthToSpace's) is accepted for symmetry, as the host */
        if (!crd && strcmp(mode, "DCR") != 0)
            return cg_layer_error(l, "mode '%s' is not DCR or CRD", mode);
        ydims[0] = N;
        ydims[1] = C * b * b;
        ydims[2] = H / b;
        ydims[3] = W / b;
    }
    host_tensor *Y;
    O2P_TRY(nn_output(l, 0, X->dtype, 4, ydims, &Y));
    int64_t total = numel(Y);
    if (total == 0)
        return O2P_OK;
    o2p_nn_space_depth_params p;
    memset(&p, 0, sizeof p);
    p.total = total;
    p.n = N;
    p.c = C;
    p.h = H;
    p.w = W;
    p.block = b;
    p.to_space = to_space;
    p.crd = crd;
    p.elem_size = (int32_t)es;
    cg_launch *k = emit_1d(e, "o2p_nn_space_depth", (uint64_t)total, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_nn_space_depth_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_nn_space_depth_params);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- the table */

const cg_op cg_nn_ops[] = {
    {"AveragePool", pool_candidates, pool_lower},
    {"BatchNormalization", batch_norm_candidates, batch_norm_lower},
    {"DepthToSpace", space_depth_candidates, space_depth_lower},
    {"GlobalAveragePool", global_pool_candidates, global_pool_lower},
    {"GlobalLpPool", global_pool_candidates, global_pool_lower},
    {"GlobalMaxPool", global_pool_candidates, global_pool_lower},
    {"GridSample", grid_sample_candidates, grid_sample_lower},
    {"GroupNormalization", norm_candidates, group_norm_lower},
    {"Hardmax", softmax_candidates, softmax_lower},
    {"InstanceNormalization", norm_candidates, instance_norm_lower},
    {"LRN", lrn_candidates, lrn_lower},
    {"LayerNormalization", norm_candidates, layer_norm_lower},
    {"LogSoftmax", softmax_candidates, softmax_lower},
    {"LpNormalization", rows_candidates, lp_norm_lower},
    {"LpPool", pool_candidates, pool_lower},
    {"MaxPool", pool_candidates, pool_lower},
    {"MeanVarianceNormalization", rows_candidates, mvn_lower},
    {"Resize", resize_candidates, resize_lower},
    {"Softmax", softmax_candidates, softmax_lower},
    {"SpaceToDepth", space_depth_candidates, space_depth_lower},
    {"Upsample", resize_candidates, resize_lower},
};
const int cg_nn_op_count = (int)(sizeof cg_nn_ops / sizeof cg_nn_ops[0]);
