/* lower_select.c: lowerings of the select kernel family (kernels/cuda/select.cu): Unique and
 * NonMaxSuppression, whose outputs have data-dependent shapes. Each output with such a shape
 * arrives at its bound (shape inference's ir_dim.bound) with a shape tensor
 * (cg_layer.output_shape_tensors) the kernel writes the actual dims into. Each lower() checks
 * what its kernels rely on as the host kernel (kernels/host/select.c) does and fills the
 * parameter structs (kernels/cuda/select_params.h); the scratch arrays live in the layer's
 * workspace. */
#include <stdio.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/select_params.h"
#include "host/nn_internal.h"

_Static_assert(sizeof(o2p_select_unique_params) == 264, "o2p_select_unique_params layout");
_Static_assert(sizeof(o2p_select_nms_params) == 128, "o2p_select_nms_params layout");

#define SEL_BLOCK 256u
/* The kernels rank by counting (O(n^2) compares, a simple and obviously right device
 * "sort"): layers above these sizes are refused at build rather than run for minutes. */
#define SEL_MAX_UNIQUE_WORK ((int64_t)1 << 36) /* slices^2 * slice elements */
#define SEL_MAX_NMS_WORK ((int64_t)1 << 40)    /* batches * classes * boxes^2 */

#define PTR(k, field, tensor, T) cg_launch_ptr(e, k, (uint32_t)offsetof(T, field), tensor, 0)

static int64_t numel(const host_tensor *t)
{
    int ok;
    int64_t n = host_numel(t, &ok);
    return ok ? n : 0;
}

/* Output i's shape tensor, -1 when its shape is static. */
static int shape_tensor(const cg_layer *l, int i)
{
    return l->output_shape_tensors ? l->output_shape_tensors[i] : -1;
}

/* Output i as a device tensor: NULL (and no error) when omitted. */
static o2p_status sel_output_opt(const cg_layer *l, int i, const char *what, host_tensor **t)
{
    *t = host_out(&l->args, i);
    if (!*t || l->output_tensors[i] < 0) {
        *t = NULL;
        return O2P_OK;
    }
    return cg_check_tensor(l, *t, "output", i, what);
}

/* The data-dependent output i needs its shape tensor unless its dim is fixed anyway. */
static o2p_status need_shape_tensor(const cg_layer *l, int i, const char *what)
{
    if (shape_tensor(l, i) >= 0)
        return O2P_OK;
    return o2p_fail(O2P_ERR_UNSUPPORTED,
                    "layer '%s' (%s): output %d (%s) has a data-dependent shape but the build "
                    "gave it no shape tensor; build it for the host target",
                    cg_layer_name(l), l->args.op_type, i, what);
}

static double io_cost(const cg_layer *l, double compares)
{
    double bytes = 0.0;
    for (int i = 0; i < l->args.num_inputs; i++)
        if (host_in(&l->args, i))
            bytes += (double)numel(host_in(&l->args, i)) *
                     (double)o2p_dtype_size(host_in(&l->args, i)->dtype);
    return 5e-6 + bytes / 1.5e12 + compares / 1.5e13;
}

/* ---------------------------------------------------------------- Unique */

/* The element types the kernels compare and copy. */
static int uniq_supported(o2p_dtype t)
{
    return host_nn_is_float(t) || host_nn_is_integer(t) || t == O2P_DTYPE_BOOL;
}

/* X as [outer, n, inner] for the axis attribute (axis -1: flattened). */
static o2p_status uniq_view(const cg_layer *l, const host_tensor *X, int *axis, int64_t *outer,
                            int64_t *n, int64_t *inner)
{
    const host_attr *a = host_attr_find(&l->args, "axis");
    *axis = -1;
    *outer = 1;
    *n = numel(X);
    *inner = 1;
    if (!a)
        return O2P_OK;
    if (X->rank == 0 || !host_norm_axis(a->i, X->rank, axis))
        return cg_layer_error(l, "axis %lld is out of range for input X of rank %d",
                              (long long)a->i, X->rank);
    *outer = host_nn_prod(X->dims, 0, *axis);
    *n = X->dims[*axis];
    *inner = host_nn_prod(X->dims, *axis + 1, X->rank);
    return O2P_OK;
}

/* slices^2 * slice elements, saturated. */
static int64_t uniq_work(int64_t outer, int64_t n, int64_t inner)
{
    int64_t w = n, s = outer * inner > 0 ? outer * inner : 1;
    if (__builtin_mul_overflow(w, n, &w) || __builtin_mul_overflow(w, s, &w))
        return INT64_MAX;
    return w;
}

static int unique_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                             const char **why)
{
    (void)o;
    const host_tensor *x = host_in(&l->args, 0);
    if (x && !uniq_supported(x->dtype)) {
        *why = "the CUDA kernel takes numeric and bool elements only";
        return 0;
    }
    if (cap < 1)
        return 0;
    double work = 0.0;
    int axis;
    int64_t outer, n, inner;
    if (x && cg_check_tensor(l, x, "input", 0, "X") == O2P_OK &&
        uniq_view(l, x, &axis, &outer, &n, &inner) == O2P_OK)
        work = (double)uniq_work(outer, n, inner);
    out[0] = cg_simple_tactic("cuda.select.unique", 0, io_cost(l, work));
    return 1;
}

static o2p_status unique_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                               cg_emit *e)
{
    (void)t;
    (void)o;
    const host_tensor *X = host_in(&l->args, 0);
    if (!X || l->input_tensors[0] < 0)
        return cg_layer_error(l, "input 0 (X) is missing");
    O2P_TRY(cg_check_tensor(l, X, "input", 0, "X"));
    if (!uniq_supported(X->dtype))
        return cg_unsupported_dtype(l, X->dtype);
    int64_t sorted = host_attr_int(&l->args, "sorted", 1);
    if (sorted != 0 && sorted != 1)
        return cg_layer_error(l, "sorted %lld must be 0 or 1", (long long)sorted);
    int axis;
    int64_t outer, n, inner;
    O2P_TRY(uniq_view(l, X, &axis, &outer, &n, &inner));
    int64_t work = uniq_work(outer, n, inner);
    if (work > SEL_MAX_UNIQUE_WORK)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (Unique): %lld slices of %lld elements are beyond the CUDA "
                        "kernel (it compares every pair: slices^2 * elements must stay under "
                        "2^36); build it for the host target",
                        cg_layer_name(l), (long long)n, (long long)(outer * inner));

    /* Y: X's shape (or [n] flattened), the unique axis at its bound n. */
    int y_rank = axis < 0 ? 1 : X->rank, y_axis = axis < 0 ? 0 : axis;
    int64_t y_dims[O2P_CU_MAX_RANK];
    if (axis < 0)
        y_dims[0] = n;
    else
        memcpy(y_dims, X->dims, (size_t)X->rank * sizeof(int64_t));
    host_tensor *Y, *I, *R, *C;
    O2P_TRY(sel_output_opt(l, 0, "Y", &Y));
    if (!Y)
        return cg_layer_error(l, "output 0 (Y) is missing");
    if (Y->dtype != X->dtype || !host_same_shape(Y, y_rank, y_dims)) {
        char s1[256], s2[256];
        return cg_layer_error(l, "output 0 (Y) is %s %s, expected %s %s (the bound)",
                              o2p_dtype_name(Y->dtype), host_nn_shape_str(Y, s1, sizeof s1),
                              o2p_dtype_name(X->dtype),
                              host_nn_dims_str(y_rank, y_dims, s2, sizeof s2));
    }
    O2P_TRY(sel_output_opt(l, 1, "indices", &I));
    O2P_TRY(sel_output_opt(l, 2, "inverse_indices", &R));
    O2P_TRY(sel_output_opt(l, 3, "counts", &C));
    host_tensor *lists[3] = {I, R, C};
    const char *names[3] = {"indices", "inverse_indices", "counts"};
    for (int i = 0; i < 3; i++)
        if (lists[i] && (lists[i]->dtype != O2P_DTYPE_INT64 || !host_same_shape(lists[i], 1, &n))) {
            char s[256];
            return cg_layer_error(l, "output %d (%s) is %s %s, expected int64 [%lld]", i + 1,
                                  names[i], o2p_dtype_name(lists[i]->dtype),
                                  host_nn_shape_str(lists[i], s, sizeof s), (long long)n);
        }
    /* With more than one slice the count is known at run time only. */
    if (n > 1) {
        O2P_TRY(need_shape_tensor(l, 0, "Y"));
        if (I)
            O2P_TRY(need_shape_tensor(l, 1, "indices"));
        if (C)
            O2P_TRY(need_shape_tensor(l, 3, "counts"));
    }

    o2p_select_unique_params p;
    memset(&p, 0, sizeof p);
    p.outer = outer;
    p.n = n;
    p.inner = inner;
    memcpy(p.y_dims, y_dims, (size_t)y_rank * sizeof(int64_t));
    p.y_rank = y_rank;
    p.axis = y_axis;
    p.sorted = (int32_t)sorted;
    p.dtype = (int32_t)X->dtype;
    int y_shape = shape_tensor(l, 0), i_shape = I ? shape_tensor(l, 1) : -1,
        c_shape = C ? shape_tensor(l, 3) : -1;
    /* No slices: nothing to compare; the rank launch alone writes the empty shapes. */
    if (n == 0 && y_shape < 0 && i_shape < 0 && c_shape < 0)
        return O2P_OK;
    uint64_t slots = (uint64_t)(n > 0 ? n : 1) * sizeof(int64_t);
    uint64_t rep_at = cg_emit_workspace(e, slots), pos_at = cg_emit_workspace(e, slots);
    uint64_t cnt_at = cg_emit_workspace(e, slots), k_at = cg_emit_workspace(e, sizeof(int64_t));

    uint32_t grid[3], block[3];
    cg_launch *k;
    typedef o2p_select_unique_params U;
#define WORKSPACE(k)                                                                      \
    do {                                                                                  \
        cg_launch_ptr(e, k, (uint32_t)offsetof(U, rep_ptr), CG_TENSOR_WORKSPACE, rep_at); \
        cg_launch_ptr(e, k, (uint32_t)offsetof(U, pos_ptr), CG_TENSOR_WORKSPACE, pos_at); \
        cg_launch_ptr(e, k, (uint32_t)offsetof(U, cnt_ptr), CG_TENSOR_WORKSPACE, cnt_at); \
        cg_launch_ptr(e, k, (uint32_t)offsetof(U, k_ptr), CG_TENSOR_WORKSPACE, k_at);     \
        PTR(k, x_ptr, l->input_tensors[0], U);                                            \
    } while (0)
    cg_grid_1d((uint64_t)n, SEL_BLOCK, grid, block);
    if (n > 0) {
        k = cg_emit_kernel(e, "select", "o2p_select_unique_rep", grid, block, 0, &p, sizeof p);
        WORKSPACE(k);
    }
    k = cg_emit_kernel(e, "select", "o2p_select_unique_rank", grid, block, 0, &p, sizeof p);
    WORKSPACE(k);
    if (y_shape >= 0)
        PTR(k, y_shape_ptr, y_shape, U);
    if (i_shape >= 0)
        PTR(k, indices_shape_ptr, i_shape, U);
    if (c_shape >= 0)
        PTR(k, counts_shape_ptr, c_shape, U);
    if (n > 0) {
        int64_t total = outer * n * inner;
        cg_grid_1d((uint64_t)(total > n ? total : n), SEL_BLOCK, grid, block);
        k = cg_emit_kernel(e, "select", "o2p_select_unique_write", grid, block, 0, &p, sizeof p);
        WORKSPACE(k);
        PTR(k, y_ptr, l->output_tensors[0], U);
        if (I)
            PTR(k, indices_ptr, l->output_tensors[1], U);
        if (R)
            PTR(k, inverse_ptr, l->output_tensors[2], U);
        if (C)
            PTR(k, counts_ptr, l->output_tensors[3], U);
    }
#undef WORKSPACE
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- NonMaxSuppression */

/* Scalar input i (rank 0 or one element of rank 1) of dtype want (or alt): NULL when
 * omitted or empty, as the host kernel. */
static o2p_status nms_scalar(const cg_layer *l, int i, const char *what, o2p_dtype want,
                             o2p_dtype alt, const host_tensor **t)
{
    *t = host_in(&l->args, i);
    if (!*t || l->input_tensors[i] < 0) {
        *t = NULL;
        return O2P_OK;
    }
    O2P_TRY(cg_check_tensor(l, *t, "input", i, what));
    if (numel(*t) == 0) {
        *t = NULL;
        return O2P_OK;
    }
    if (((*t)->dtype != want && (*t)->dtype != alt) || (*t)->rank > 1 || numel(*t) != 1)
        return cg_layer_error(l, "%s must be a %s scalar", what, o2p_dtype_name(want));
    return O2P_OK;
}

static int nms_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                          const char **why)
{
    (void)o;
    const host_tensor *b = host_in(&l->args, 0), *s = host_in(&l->args, 1);
    if ((b && b->dtype != O2P_DTYPE_FLOAT) || (s && s->dtype != O2P_DTYPE_FLOAT)) {
        *why = "the CUDA kernel takes float boxes and scores only";
        return 0;
    }
    if (cap < 1)
        return 0;
    double work = 0.0;
    if (s && s->rank == 3)
        work = (double)s->dims[0] * (double)s->dims[1] * (double)s->dims[2] * (double)s->dims[2];
    out[0] = cg_simple_tactic("cuda.select.nms", 0, io_cost(l, work));
    return 1;
}

static o2p_status nms_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    (void)t;
    (void)o;
    const host_tensor *B = host_in(&l->args, 0), *S = host_in(&l->args, 1), *M, *IOU, *ST;
    if (!B || l->input_tensors[0] < 0)
        return cg_layer_error(l, "input 0 (boxes) is missing");
    if (!S || l->input_tensors[1] < 0)
        return cg_layer_error(l, "input 1 (scores) is missing");
    O2P_TRY(cg_check_tensor(l, B, "input", 0, "boxes"));
    O2P_TRY(cg_check_tensor(l, S, "input", 1, "scores"));
    O2P_TRY(nms_scalar(l, 2, "max_output_boxes_per_class", O2P_DTYPE_INT64, O2P_DTYPE_INT32, &M));
    O2P_TRY(nms_scalar(l, 3, "iou_threshold", O2P_DTYPE_FLOAT, O2P_DTYPE_FLOAT, &IOU));
    O2P_TRY(nms_scalar(l, 4, "score_threshold", O2P_DTYPE_FLOAT, O2P_DTYPE_FLOAT, &ST));
    if (B->dtype != O2P_DTYPE_FLOAT)
        return cg_unsupported_dtype(l, B->dtype);
    if (S->dtype != O2P_DTYPE_FLOAT)
        return cg_unsupported_dtype(l, S->dtype);
    char s1[256], s2[256];
    if (B->rank != 3 || B->dims[2] != 4)
        return cg_layer_error(l, "boxes are %s; they must be [batches, boxes, 4]",
                              host_nn_shape_str(B, s1, sizeof s1));
    if (S->rank != 3 || S->dims[0] != B->dims[0] || S->dims[2] != B->dims[1])
        return cg_layer_error(l, "scores are %s; with boxes %s they must be [%lld, classes, %lld]",
                              host_nn_shape_str(S, s1, sizeof s1),
                              host_nn_shape_str(B, s2, sizeof s2), (long long)B->dims[0],
                              (long long)B->dims[1]);
    int64_t center = host_attr_int(&l->args, "center_point_box", 0);
    if (center != 0 && center != 1)
        return cg_layer_error(l, "center_point_box %lld must be 0 or 1", (long long)center);
    if (IOU && IOU->data) {
        float iou = ((const float *)IOU->data)[0];
        if (!(iou >= 0.0f && iou <= 1.0f))
            return cg_layer_error(l, "iou_threshold %g must be in [0, 1]", (double)iou);
    }
    const int64_t nb = B->dims[0], nc = S->dims[1], n = B->dims[1];
    /* The per-class limit the output was sized for: a constant max_output_boxes_per_class
     * (omitted: none), else every box. The kernel clamps the run-time value to it. */
    int64_t cap = M ? n : 0;
    if (M && M->data) {
        int64_t v = host_get_i64(M, 0);
        cap = v < 0 ? 0 : (v < n ? v : n);
    }
    host_tensor *Y;
    O2P_TRY(sel_output_opt(l, 0, "selected_indices", &Y));
    if (!Y)
        return cg_layer_error(l, "output 0 (selected_indices) is missing");
    int64_t rows = 0, groups = 0;
    if (cap > 0 && __builtin_mul_overflow(nb, nc, &groups))
        return cg_layer_error(l, "batches * classes overflows");
    if (cap > 0 && __builtin_mul_overflow(groups, cap, &rows))
        return cg_layer_error(l, "the selection bound overflows");
    if (Y->dtype != O2P_DTYPE_INT64 || Y->rank != 2 || Y->dims[1] != 3 || Y->dims[0] < rows)
        return cg_layer_error(l,
                              "output 0 is %s %s; it must be int64 [%lld, 3] (up to %lld "
                              "boxes can be selected)",
                              o2p_dtype_name(Y->dtype), host_nn_shape_str(Y, s1, sizeof s1),
                              (long long)rows, (long long)rows);
    int y_shape = shape_tensor(l, 0);
    if (rows > 0)
        O2P_TRY(need_shape_tensor(l, 0, "selected_indices"));
    else if (y_shape < 0)
        return O2P_OK; /* nothing can be selected: a static empty output */
    int64_t work;
    if (rows > 0 && (__builtin_mul_overflow(groups, n, &work) ||
                     __builtin_mul_overflow(work, n, &work) || work > SEL_MAX_NMS_WORK))
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (NonMaxSuppression): %lld groups of %lld boxes are beyond "
                        "the CUDA kernel (it ranks boxes by counting: batches * classes * "
                        "boxes^2 must stay under 2^40); build it for the host target",
                        cg_layer_name(l), (long long)groups, (long long)n);

    o2p_select_nms_params p;
    memset(&p, 0, sizeof p);
    p.groups = rows > 0 ? groups : 0;
    p.classes = nc;
    p.boxes = n;
    p.max_cap = cap;
    p.rows = Y->dims[0];
    p.center_point_box = (int32_t)center;
    p.max_dtype = M ? (int32_t)M->dtype : O2P_CU_INT64;
    typedef o2p_select_nms_params P;
    uint64_t slots = (uint64_t)(p.groups > 0 ? p.groups * n : 1) * sizeof(int64_t);
    uint64_t order_at = cg_emit_workspace(e, slots), sel_at = cg_emit_workspace(e, slots);
    uint64_t count_at =
        cg_emit_workspace(e, (uint64_t)(p.groups > 0 ? p.groups : 1) * sizeof(int64_t));
    uint32_t grid[3] = {1, 1, 1}, block[3] = {SEL_BLOCK, 1, 1};
    cg_launch *k;
    if (p.groups > 0) {
        grid[0] = p.groups > 0x7fffffff ? 0x7fffffffu : (uint32_t)p.groups;
        k = cg_emit_kernel(e, "select", "o2p_select_nms_class", grid, block, 0, &p, sizeof p);
        PTR(k, boxes_ptr, l->input_tensors[0], P);
        PTR(k, scores_ptr, l->input_tensors[1], P);
        if (M)
            PTR(k, max_ptr, l->input_tensors[2], P);
        if (IOU)
            PTR(k, iou_ptr, l->input_tensors[3], P);
        if (ST)
            PTR(k, score_ptr, l->input_tensors[4], P);
        cg_launch_ptr(e, k, (uint32_t)offsetof(P, order_ptr), CG_TENSOR_WORKSPACE, order_at);
        cg_launch_ptr(e, k, (uint32_t)offsetof(P, sel_ptr), CG_TENSOR_WORKSPACE, sel_at);
        cg_launch_ptr(e, k, (uint32_t)offsetof(P, count_ptr), CG_TENSOR_WORKSPACE, count_at);
    }
    grid[0] = 1;
    k = cg_emit_kernel(e, "select", "o2p_select_nms_gather", grid, block, 0, &p, sizeof p);
    cg_launch_ptr(e, k, (uint32_t)offsetof(P, sel_ptr), CG_TENSOR_WORKSPACE, sel_at);
    cg_launch_ptr(e, k, (uint32_t)offsetof(P, count_ptr), CG_TENSOR_WORKSPACE, count_at);
    if (rows > 0)
        PTR(k, y_ptr, l->output_tensors[0], P);
    if (y_shape >= 0)
        PTR(k, y_shape_ptr, y_shape, P);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- the table */

const cg_op cg_select_ops[] = {
    {"NonMaxSuppression", nms_candidates, nms_lower},
    {"Unique", unique_candidates, unique_lower},
};
const int cg_select_op_count = (int)(sizeof cg_select_ops / sizeof cg_select_ops[0]);
