/* select.c: the kernels whose outputs have data-dependent shapes: Unique (opset 11) and
 * NonMaxSuppression (opsets 10, 11). Such an output arrives allocated at its bound, its dims
 * set to the bound (shape inference's ir_dim.bound); the kernel writes it packed for the
 * actual shape and sets its dims to the actual ones. The comparison rules (NaN ordering,
 * onnxruntime's IoU test) are the ones kernels/cuda/select.cu implements. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/nn_internal.h"

/* ---------------------------------------------------------------- Unique */

/* X viewed as [outer, n, inner]: n slices, each outer * inner elements. */
typedef struct uniq_view {
    const host_tensor *x;
    int64_t outer, n, inner;
} uniq_view;

/* The element types Unique compares: numbers and bool (not strings, not complex). */
static int uniq_supported(o2p_dtype t)
{
    return host_nn_is_float(t) || host_nn_is_integer(t) || t == O2P_DTYPE_BOOL;
}

/* -1, 0, 1 as element a is below, equal to or above element b. Floats: NaN above every
 * number and equal to NaN, so the order is total and NaNs collapse into one unique (numpy's
 * equal_nan); -0 equals 0. uint64 compares unsigned; other integers and bool as int64. */
static int uniq_elem_cmp(const host_tensor *x, int64_t a, int64_t b)
{
    if (host_nn_is_float(x->dtype)) {
        double va = host_get_f64(x, a), vb = host_get_f64(x, b);
        int na = isnan(va), nb = isnan(vb);
        if (na || nb)
            return na - nb;
        return va < vb ? -1 : (va > vb ? 1 : 0);
    }
    if (x->dtype == O2P_DTYPE_UINT64) {
        uint64_t va = ((const uint64_t *)x->data)[a], vb = ((const uint64_t *)x->data)[b];
        return va < vb ? -1 : (va > vb ? 1 : 0);
    }
    int64_t va = host_get_i64(x, a), vb = host_get_i64(x, b);
    return va < vb ? -1 : (va > vb ? 1 : 0);
}

/* Slice i against slice j, lexicographically in row-major order of the slice. */
static int uniq_slice_cmp(const uniq_view *v, int64_t i, int64_t j)
{
    for (int64_t o = 0; o < v->outer; o++) {
        int64_t bi = (o * v->n + i) * v->inner, bj = (o * v->n + j) * v->inner;
        for (int64_t e = 0; e < v->inner; e++) {
            int c = uniq_elem_cmp(v->x, bi + e, bj + e);
            if (c)
                return c;
        }
    }
    return 0;
}

/* Stable merge sort of the slice indices idx[0..n) (tmp of n entries): equal slices keep
 * their input order, so each run of equal slices starts with the first occurrence. */
static void uniq_sort(const uniq_view *v, int64_t *idx, int64_t *tmp, int64_t n)
{
    for (int64_t width = 1; width < n; width *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * width) {
            int64_t mid = lo + width < n ? lo + width : n;
            int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            int64_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                tmp[o++] = uniq_slice_cmp(v, idx[b], idx[a]) < 0 ? idx[b++] : idx[a++];
            while (a < mid)
                tmp[o++] = idx[a++];
            while (b < hi)
                tmp[o++] = idx[b++];
        }
        memcpy(idx, tmp, (size_t)n * sizeof *idx);
    }
}

/* An int64 [>= k] output whose actual length is k (indices, counts): NULL when omitted. */
static o2p_status uniq_list_out(const host_kernel_args *a, int i, int64_t k, host_tensor **t)
{
    *t = host_out(a, i);
    if (!*t)
        return O2P_OK;
    if ((*t)->dtype != O2P_DTYPE_INT64 || (*t)->rank != 1 || (*t)->dims[0] < k ||
        ((*t)->dims[0] > 0 && !(*t)->data)) {
        char s[256];
        return host_error(a, "output %d is %s %s; it must be int64 [%lld] (or a bound above)", i,
                          o2p_dtype_name((*t)->dtype), host_nn_shape_str(*t, s, sizeof s),
                          (long long)k);
    }
    return O2P_OK;
}

static o2p_status host_unique(const host_kernel_args *a)
{
    const host_tensor *X;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    if (!uniq_supported(X->dtype))
        return host_unsupported_dtype(a, X->dtype);
    int64_t sorted = host_attr_int(a, "sorted", 1);
    if (sorted != 0 && sorted != 1)
        return host_error(a, "sorted %lld must be 0 or 1", (long long)sorted);
    const host_attr *axis_attr = host_attr_find(a, "axis");
    int axis = -1; /* -1: flattened */
    uniq_view v = {X, 1, host_nn_numel(X), 1};
    if (axis_attr) {
        if (X->rank == 0 || !host_norm_axis(axis_attr->i, X->rank, &axis))
            return host_error(a, "axis %lld is out of range for input X of rank %d",
                              (long long)axis_attr->i, X->rank);
        v.outer = host_nn_prod(X->dims, 0, axis);
        v.n = X->dims[axis];
        v.inner = host_nn_prod(X->dims, axis + 1, X->rank);
    }
    const int64_t n = v.n;

    int64_t *idx = host_nn_alloc(a, n + 1, sizeof *idx);
    int64_t *tmp = host_nn_alloc(a, n + 1, sizeof *tmp);
    int64_t *group = host_nn_alloc(a, n + 1, sizeof *group); /* slice -> group (sorted order) */
    int64_t *first = host_nn_alloc(a, n + 1, sizeof *first); /* group -> first occurrence */
    int64_t *count = host_nn_alloc(a, n + 1, sizeof *count); /* group -> repeats */
    int64_t *pos = host_nn_alloc(a, n + 1, sizeof *pos);     /* group -> place in Y */
    o2p_status st = O2P_OK;
    if (!idx || !tmp || !group || !first || !count || !pos) {
        st = host_nn_oom(a);
        goto done;
    }
    for (int64_t j = 0; j < n; j++)
        idx[j] = j;
    uniq_sort(&v, idx, tmp, n);
    int64_t k = 0;
    for (int64_t s = 0; s < n; s++) {
        if (s == 0 || uniq_slice_cmp(&v, idx[s - 1], idx[s]) != 0) {
            first[k] = idx[s];
            count[k] = 0;
            k++;
        }
        group[idx[s]] = k - 1;
        count[k - 1]++;
    }
    /* Places: the sorted order itself, or the order of first occurrences. */
    if (sorted) {
        for (int64_t g = 0; g < k; g++)
            pos[g] = g;
    } else {
        int64_t next = 0;
        for (int64_t j = 0; j < n; j++)
            if (first[group[j]] == j)
                pos[group[j]] = next++;
    }

    /* Y: X's shape (or [n] flattened) with the unique axis cut to k. */
    int y_rank = axis < 0 ? 1 : X->rank, y_axis = axis < 0 ? 0 : axis;
    int64_t y_dims[HOST_MAX_RANK];
    if (axis < 0)
        y_dims[0] = k;
    else
        for (int d = 0; d < X->rank; d++)
            y_dims[d] = d == axis ? k : X->dims[d];
    host_tensor *Y = host_out(a, 0), *I, *R, *C;
    if (!Y) {
        st = host_error(a, "output 0 (Y) is missing");
        goto done;
    }
    int y_ok = Y->dtype == X->dtype && Y->rank == y_rank;
    for (int d = 0; y_ok && d < y_rank; d++)
        y_ok = d == y_axis ? Y->dims[d] >= k : Y->dims[d] == y_dims[d];
    if (!y_ok) {
        char s1[256], s2[256];
        st = host_error(a, "output 0 (Y) is %s %s; expected %s %s (or a bound above along axis %d)",
                        o2p_dtype_name(Y->dtype), host_nn_shape_str(Y, s1, sizeof s1),
                        o2p_dtype_name(X->dtype), host_nn_dims_str(y_rank, y_dims, s2, sizeof s2),
                        y_axis);
        goto done;
    }
    if ((st = uniq_list_out(a, 1, k, &I)) != O2P_OK || (st = uniq_list_out(a, 3, k, &C)) != O2P_OK)
        goto done;
    R = host_out(a, 2);
    if (R && (R->dtype != O2P_DTYPE_INT64 || !host_same_shape(R, 1, &n) || (n > 0 && !R->data))) {
        char s[256];
        st = host_error(a, "output 2 (inverse_indices) is %s %s; it must be int64 [%lld]",
                        o2p_dtype_name(R->dtype), host_nn_shape_str(R, s, sizeof s), (long long)n);
        goto done;
    }
    int64_t y_numel = v.outer * k * v.inner;
    if (y_numel > 0 && !Y->data) {
        st = host_error(a, "output 0 (Y) has no data");
        goto done;
    }

    size_t es = o2p_dtype_size(X->dtype);
    const unsigned char *xd = X->data;
    unsigned char *yd = Y->data;
    for (int64_t g = 0; g < k; g++)
        for (int64_t o = 0; o < v.outer; o++)
            memcpy(yd + (size_t)((o * k + pos[g]) * v.inner) * es,
                   xd + (size_t)((o * n + first[g]) * v.inner) * es, (size_t)v.inner * es);
    for (int64_t g = 0; g < k; g++) {
        if (I)
            ((int64_t *)I->data)[pos[g]] = first[g];
        if (C)
            ((int64_t *)C->data)[pos[g]] = count[g];
    }
    if (R)
        for (int64_t j = 0; j < n; j++)
            ((int64_t *)R->data)[j] = pos[group[j]];
    Y->dims[y_axis] = k;
    if (I)
        I->dims[0] = k;
    if (C)
        C->dims[0] = k;
done:
    free(idx);
    free(tmp);
    free(group);
    free(first);
    free(count);
    free(pos);
    return st;
}

/* ---------------------------------------------------------------- NonMaxSuppression */

typedef struct nms_cand {
    float key; /* the score, NaN as -infinity */
    int64_t box;
} nms_cand;

/* Descending key, equal keys by ascending box index (onnxruntime's priority order). */
static int nms_cand_cmp(const void *pa, const void *pb)
{
    const nms_cand *x = pa, *y = pb;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return x->box < y->box ? -1 : (x->box > y->box ? 1 : 0);
}

/* onnxruntime's SuppressByIOU: boxes are [y1, x1, y2, x2] with either corner first
 * (center_point_box 0) or [x_center, y_center, width, height] (1); a box is suppressed when
 * its IoU with a selected box is above the threshold. Every step in float, as the CUDA
 * kernel's. */
static int nms_suppress(const float *a, const float *b, int center, float iou_threshold)
{
    float ax0, ax1, ay0, ay1, bx0, bx1, by0, by1;
    if (center == 0) {
        ax0 = a[1] < a[3] ? a[1] : a[3];
        ax1 = a[1] < a[3] ? a[3] : a[1];
        ay0 = a[0] < a[2] ? a[0] : a[2];
        ay1 = a[0] < a[2] ? a[2] : a[0];
        bx0 = b[1] < b[3] ? b[1] : b[3];
        bx1 = b[1] < b[3] ? b[3] : b[1];
        by0 = b[0] < b[2] ? b[0] : b[2];
        by1 = b[0] < b[2] ? b[2] : b[0];
    } else {
        float aw = a[2] * 0.5f, ah = a[3] * 0.5f, bw = b[2] * 0.5f, bh = b[3] * 0.5f;
        ax0 = a[0] - aw;
        ax1 = a[0] + aw;
        ay0 = a[1] - ah;
        ay1 = a[1] + ah;
        bx0 = b[0] - bw;
        bx1 = b[0] + bw;
        by0 = b[1] - bh;
        by1 = b[1] + bh;
    }
    float ix0 = ax0 < bx0 ? bx0 : ax0, ix1 = ax1 < bx1 ? ax1 : bx1;
    if (ix1 <= ix0)
        return 0;
    float iy0 = ay0 < by0 ? by0 : ay0, iy1 = ay1 < by1 ? ay1 : by1;
    if (iy1 <= iy0)
        return 0;
    float iw = ix1 - ix0, ih = iy1 - iy0;
    float inter = iw * ih;
    if (inter <= 0.0f)
        return 0;
    float aw = ax1 - ax0, ah = ay1 - ay0, bw = bx1 - bx0, bh = by1 - by0;
    float area_a = aw * ah, area_b = bw * bh;
    float sum = area_a + area_b;
    float uni = sum - inter;
    if (area_a <= 0.0f || area_b <= 0.0f || uni <= 0.0f)
        return 0;
    return inter / uni > iou_threshold;
}

/* A scalar (rank 0, or one element of rank 1) input of dtype `want`: NULL when omitted. */
static o2p_status nms_scalar(const host_kernel_args *a, int i, const char *what, o2p_dtype want,
                             o2p_dtype alt, const host_tensor **t)
{
    O2P_TRY(host_nn_input_opt(a, i, what, 1, t));
    if (!*t)
        return O2P_OK;
    if (((*t)->dtype != want && (*t)->dtype != alt) || (*t)->rank > 1 || host_nn_numel(*t) != 1)
        return host_error(a, "%s must be a %s scalar", what, o2p_dtype_name(want));
    return O2P_OK;
}

static o2p_status host_nms(const host_kernel_args *a)
{
    const host_tensor *B, *S, *M, *IOU, *ST;
    O2P_TRY(host_nn_input(a, 0, "boxes", &B));
    O2P_TRY(host_nn_input(a, 1, "scores", &S));
    O2P_TRY(nms_scalar(a, 2, "max_output_boxes_per_class", O2P_DTYPE_INT64, O2P_DTYPE_INT32, &M));
    O2P_TRY(nms_scalar(a, 3, "iou_threshold", O2P_DTYPE_FLOAT, O2P_DTYPE_FLOAT, &IOU));
    O2P_TRY(nms_scalar(a, 4, "score_threshold", O2P_DTYPE_FLOAT, O2P_DTYPE_FLOAT, &ST));
    if (B->dtype != O2P_DTYPE_FLOAT)
        return host_unsupported_dtype(a, B->dtype);
    if (S->dtype != O2P_DTYPE_FLOAT)
        return host_unsupported_dtype(a, S->dtype);
    char s1[256], s2[256];
    if (B->rank != 3 || B->dims[2] != 4)
        return host_error(a, "boxes are %s; they must be [batches, boxes, 4]",
                          host_nn_shape_str(B, s1, sizeof s1));
    if (S->rank != 3 || S->dims[0] != B->dims[0] || S->dims[2] != B->dims[1])
        return host_error(a, "scores are %s; with boxes %s they must be [%lld, classes, %lld]",
                          host_nn_shape_str(S, s1, sizeof s1), host_nn_shape_str(B, s2, sizeof s2),
                          (long long)B->dims[0], (long long)B->dims[1]);
    int64_t center = host_attr_int(a, "center_point_box", 0);
    if (center != 0 && center != 1)
        return host_error(a, "center_point_box %lld must be 0 or 1", (long long)center);
    int64_t limit = M ? host_get_i64(M, 0) : 0;
    limit = limit < 0 ? 0 : limit;
    float iou = IOU ? ((const float *)IOU->data)[0] : 0.0f;
    if (!(iou >= 0.0f && iou <= 1.0f))
        return host_error(a, "iou_threshold %g must be in [0, 1]", (double)iou);
    float st = ST ? ((const float *)ST->data)[0] : 0.0f;

    host_tensor *Y = host_out(a, 0);
    if (!Y || Y->dtype != O2P_DTYPE_INT64 || Y->rank != 2 || Y->dims[1] != 3 || Y->dims[0] < 0 ||
        (Y->dims[0] > 0 && !Y->data))
        return host_error(a, "output 0 is %s %s; it must be int64 [selected, 3]",
                          Y ? o2p_dtype_name(Y->dtype) : "missing",
                          Y ? host_nn_shape_str(Y, s1, sizeof s1) : "");

    const int64_t nb = B->dims[0], nc = S->dims[1], n = B->dims[1];
    const float *boxes = B->data, *scores = S->data;
    int64_t *y = Y->data;
    nms_cand *cand = host_nn_alloc(a, n + 1, sizeof *cand);
    int64_t *sel = host_nn_alloc(a, n + 1, sizeof *sel);
    o2p_status status = O2P_OK;
    if (!cand || !sel) {
        status = host_nn_oom(a);
        goto done;
    }
    int64_t rows = 0;
    for (int64_t b = 0; b < nb && limit > 0; b++) {
        const float *bx = boxes + b * n * 4;
        for (int64_t c = 0; c < nc; c++) {
            const float *sc = scores + (b * nc + c) * n;
            int64_t ncand = 0;
            for (int64_t i = 0; i < n; i++)
                if (!ST || sc[i] > st) /* strict, as onnxruntime */
                    cand[ncand++] = (nms_cand){isnan(sc[i]) ? -INFINITY : sc[i], i};
            qsort(cand, (size_t)ncand, sizeof *cand, nms_cand_cmp);
            int64_t nsel = 0;
            for (int64_t k = 0; k < ncand && nsel < limit; k++) {
                int keep = 1;
                for (int64_t m = 0; m < nsel && keep; m++)
                    keep = !nms_suppress(bx + sel[m] * 4, bx + cand[k].box * 4, (int)center, iou);
                if (keep)
                    sel[nsel++] = cand[k].box;
            }
            if (nsel > Y->dims[0] - rows) {
                status = host_error(a,
                                    "output 0 holds %lld rows; more boxes than that were "
                                    "selected",
                                    (long long)Y->dims[0]);
                goto done;
            }
            for (int64_t m = 0; m < nsel; m++, rows++) {
                y[rows * 3] = b;
                y[rows * 3 + 1] = c;
                y[rows * 3 + 2] = sel[m];
            }
        }
    }
    Y->dims[0] = rows;
done:
    free(cand);
    free(sel);
    return status;
}

/* ---------------------------------------------------------------- the table */

const host_kernel_entry host_select_kernels[] = {
    {"NonMaxSuppression", host_nms},
    {"Unique", host_unique},
};
const int host_select_kernel_count =
    (int)(sizeof host_select_kernels / sizeof host_select_kernels[0]);
