/* tensor_index.c: host kernels that move elements by index: Gather, GatherElements,
 * GatherND, ScatterElements (and its opset 9 alias Scatter), ScatterND, OneHot, Compress,
 * ReverseSequence. Every index is range-checked before it addresses memory. */
#include <math.h>
#include <string.h>

#include "host/tensor_internal.h"

static int64_t prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* The data input, with element size, and an int32/int64 indices input. */
static o2p_status data_and_indices(const host_kernel_args *a, const host_tensor **x,
                                   int64_t *n, size_t *es, int ii, const host_tensor **idx,
                                   int64_t *ni)
{
    *x = host_in(a, 0);
    O2P_TRY(host_tn_check(a, *x, "input 0 (data)", n));
    O2P_TRY(host_tn_esize(a, (*x)->dtype, es));
    *idx = host_in(a, ii);
    O2P_TRY(host_tn_check(a, *idx, "the indices input", ni));
    if (!host_tn_is_index_type((*idx)->dtype))
        return host_error(a, "the indices must be int64 or int32, not %s",
                          o2p_dtype_name((*idx)->dtype));
    return O2P_OK;
}

static o2p_status index_error(const host_kernel_args *a, int64_t v, int64_t dim, int axis)
{
    return host_error(a, "index %lld is out of range for axis %d of size %lld (valid: %lld to "
                         "%lld)", (long long)v, axis, (long long)dim, (long long)-dim,
                      (long long)dim - 1);
}

/* ---------------------------------------------------------------- Gather */

o2p_status host_tn_gather(const host_kernel_args *a)
{
    const host_tensor *x, *ind;
    host_tensor *y;
    int64_t n, ni, dims[HOST_MAX_RANK];
    size_t es;
    int ax;
    O2P_TRY(data_and_indices(a, &x, &n, &es, 1, &ind, &ni));
    int64_t axis = host_attr_int(a, "axis", 0);
    if (x->rank == 0 || !host_norm_axis(axis, x->rank, &ax))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    int r = x->rank - 1 + ind->rank;
    if (r > HOST_MAX_RANK)
        return host_error(a, "the output would have rank %d (at most %d)", r, HOST_MAX_RANK);
    int k = 0;
    for (int i = 0; i < ax; i++)
        dims[k++] = x->dims[i];
    for (int i = 0; i < ind->rank; i++)
        dims[k++] = ind->dims[i];
    for (int i = ax + 1; i < x->rank; i++)
        dims[k++] = x->dims[i];
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, r, dims, &y));
    int64_t d = x->dims[ax], outer = prod(x->dims, 0, ax), inner = prod(x->dims, ax + 1, x->rank);
    for (int64_t j = 0; j < ni; j++) {
        int64_t v = host_get_i64(ind, j), w;
        if (!host_tn_wrap_index(v, d, &w))
            return index_error(a, v, d, ax);
    }
    size_t block = (size_t)inner * es;
    if (block == 0)
        return O2P_OK;
    unsigned char *dst = y->data;
    const unsigned char *src = x->data;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t j = 0; j < ni; j++, dst += block) {
            int64_t w;
            host_tn_wrap_index(host_get_i64(ind, j), d, &w);
            memcpy(dst, src + (size_t)(o * d + w) * block, block);
        }
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- GatherElements, Scatter */

/* Checks GatherElements/ScatterElements shapes: indices of data's rank, no larger than data
 * on the other axes; the axis. */
static o2p_status elements_shapes(const host_kernel_args *a, const host_tensor *x,
                                  const host_tensor *ind, int *ax)
{
    int64_t axis = host_attr_int(a, "axis", 0);
    if (x->rank == 0 || !host_norm_axis(axis, x->rank, ax))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    if (ind->rank != x->rank)
        return host_error(a, "the indices have rank %d, the data rank %d", ind->rank, x->rank);
    for (int i = 0; i < x->rank; i++)
        if (i != *ax && ind->dims[i] > x->dims[i])
            return host_error(a, "the indices have size %lld on axis %d, beyond the data's %lld",
                              (long long)ind->dims[i], i, (long long)x->dims[i]);
    return O2P_OK;
}

/* Walks the elements of indices (row-major) and gives, for each, the element offset in the
 * data that it addresses: the same coordinates but the index on the axis. */
typedef struct elements_walk {
    int rank, axis;
    const int64_t *dims; /* of indices */
    int64_t coord[HOST_MAX_RANK];
    int64_t data_strides[HOST_MAX_RANK];
    int64_t base; /* data offset of coord with 0 on the axis */
} elements_walk;

static void walk_init(elements_walk *w, const host_tensor *x, const host_tensor *ind, int axis)
{
    memset(w, 0, sizeof *w);
    w->rank = x->rank;
    w->axis = axis;
    w->dims = ind->dims;
    host_tn_strides(x->rank, x->dims, w->data_strides);
}

static void walk_next(elements_walk *w)
{
    for (int k = w->rank - 1; k >= 0; k--) {
        int64_t s = k == w->axis ? 0 : w->data_strides[k];
        w->base += s;
        if (++w->coord[k] < w->dims[k])
            return;
        w->base -= s * w->dims[k];
        w->coord[k] = 0;
    }
}

o2p_status host_tn_gather_elements(const host_kernel_args *a)
{
    const host_tensor *x, *ind;
    host_tensor *y;
    int64_t n, ni;
    size_t es;
    int ax;
    O2P_TRY(data_and_indices(a, &x, &n, &es, 1, &ind, &ni));
    O2P_TRY(elements_shapes(a, x, ind, &ax));
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, ind->rank, ind->dims, &y));
    elements_walk w;
    walk_init(&w, x, ind, ax);
    int64_t d = x->dims[ax];
    unsigned char *dst = y->data;
    const unsigned char *src = x->data;
    for (int64_t j = 0; j < ni; j++, walk_next(&w)) {
        int64_t v = host_get_i64(ind, j), i;
        if (!host_tn_wrap_index(v, d, &i))
            return index_error(a, v, d, ax);
        memcpy(dst + (size_t)j * es, src + (size_t)(w.base + i * w.data_strides[ax]) * es, es);
    }
    return O2P_OK;
}

typedef enum reduction { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } reduction;

static o2p_status read_reduction(const host_kernel_args *a, reduction *r)
{
    const char *s = host_attr_string(a, "reduction", "none");
    if (strcmp(s, "none") == 0)
        *r = RED_NONE;
    else if (strcmp(s, "add") == 0)
        *r = RED_ADD;
    else if (strcmp(s, "mul") == 0)
        *r = RED_MUL;
    else if (strcmp(s, "max") == 0)
        *r = RED_MAX;
    else if (strcmp(s, "min") == 0)
        *r = RED_MIN;
    else
        return host_error(a, "reduction '%s' is not none, add, mul, max or min", s);
    return O2P_OK;
}

/* Whether the reduction can combine elements of type t. */
static int reduction_supports(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT: case O2P_DTYPE_DOUBLE: case O2P_DTYPE_FLOAT16:
    case O2P_DTYPE_BFLOAT16: case O2P_DTYPE_BOOL:
    case O2P_DTYPE_INT8: case O2P_DTYPE_INT16: case O2P_DTYPE_INT32: case O2P_DTYPE_INT64:
    case O2P_DTYPE_UINT8: case O2P_DTYPE_UINT16: case O2P_DTYPE_UINT32: case O2P_DTYPE_UINT64:
        return 1;
    default:
        return 0;
    }
}

static double reduce_f(reduction r, double a, double b)
{
    switch (r) {
    case RED_ADD: return a + b;
    case RED_MUL: return a * b;
    case RED_MAX: return isnan(a) || isnan(b) ? NAN : a > b ? a : b;
    case RED_MIN: return isnan(a) || isnan(b) ? NAN : a < b ? a : b;
    default: return b;
    }
}

/* Combines element j of `upd` into element i of `out` (same dtype). Integers wrap on add and
 * mul as two's complement; floats are computed in their own precision (float16 in float). */
static void reduce_into(reduction r, host_tensor *out, int64_t i, const host_tensor *upd,
                        int64_t j)
{
    o2p_dtype t = out->dtype;
    if (t == O2P_DTYPE_FLOAT) {
        float x, u;
        memcpy(&x, (float *)out->data + i, 4);
        memcpy(&u, (const float *)upd->data + j, 4);
        x = (float)reduce_f(r, x, u);
        memcpy((float *)out->data + i, &x, 4);
    } else if (t == O2P_DTYPE_DOUBLE || t == O2P_DTYPE_FLOAT16 || t == O2P_DTYPE_BFLOAT16) {
        host_set_f64(out, i, reduce_f(r, host_get_f64(out, i), host_get_f64(upd, j)));
    } else if (t == O2P_DTYPE_BOOL) {
        unsigned char *p = (unsigned char *)out->data + i;
        unsigned char u = ((const unsigned char *)upd->data)[j] != 0;
        *p = r == RED_ADD || r == RED_MAX ? (*p || u) : (*p && u);
    } else if (t == O2P_DTYPE_UINT64) {
        uint64_t x, u;
        memcpy(&x, (uint64_t *)out->data + i, 8);
        memcpy(&u, (const uint64_t *)upd->data + j, 8);
        x = r == RED_ADD ? x + u : r == RED_MUL ? x * u : r == RED_MAX ? (x > u ? x : u)
                                                                      : (x < u ? x : u);
        memcpy((uint64_t *)out->data + i, &x, 8);
    } else {
        /* the other integers fit int64 exactly; host_set_i64 keeps the low bits */
        int64_t x = host_get_i64(out, i), u = host_get_i64(upd, j);
        int64_t v = r == RED_ADD ? (int64_t)((uint64_t)x + (uint64_t)u)
                    : r == RED_MUL ? (int64_t)((uint64_t)x * (uint64_t)u)
                    : r == RED_MAX ? (x > u ? x : u)
                                   : (x < u ? x : u);
        host_set_i64(out, i, v);
    }
}

/* ScatterElements and, without reductions, opset 9's Scatter. */
o2p_status host_tn_scatter_elements(const host_kernel_args *a)
{
    const host_tensor *x, *ind, *upd = host_in(a, 2);
    host_tensor *y;
    int64_t n, ni, nu;
    size_t es;
    int ax;
    reduction red = RED_NONE;
    O2P_TRY(data_and_indices(a, &x, &n, &es, 1, &ind, &ni));
    O2P_TRY(host_tn_check(a, upd, "input 2 (updates)", &nu));
    if (strcmp(a->op_type ? a->op_type : "", "Scatter") != 0)
        O2P_TRY(read_reduction(a, &red));
    O2P_TRY(elements_shapes(a, x, ind, &ax));
    if (upd->dtype != x->dtype)
        return host_error(a, "the updates are %s, the data %s", o2p_dtype_name(upd->dtype),
                          o2p_dtype_name(x->dtype));
    if (!host_same_shape(upd, ind->rank, ind->dims))
        return host_error(a, "the updates and the indices have different shapes");
    if (red != RED_NONE && !reduction_supports(x->dtype))
        return host_unsupported_dtype(a, x->dtype);
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, x->rank, x->dims, &y));
    if (n > 0)
        memcpy(y->data, x->data, (size_t)n * es);
    elements_walk w;
    walk_init(&w, x, ind, ax);
    int64_t d = x->dims[ax];
    for (int64_t j = 0; j < ni; j++, walk_next(&w)) {
        int64_t v = host_get_i64(ind, j), i;
        if (!host_tn_wrap_index(v, d, &i))
            return index_error(a, v, d, ax);
        int64_t at = w.base + i * w.data_strides[ax];
        if (red == RED_NONE)
            memcpy((unsigned char *)y->data + (size_t)at * es,
                   (const unsigned char *)upd->data + (size_t)j * es, es);
        else
            reduce_into(red, y, at, upd, j);
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- GatherND, ScatterND */

/* The element offset in the data (of rank r, strides st) of the index tuple at ind[j*m ..]
 * over axes from..from+m-1; fails on an index out of range. */
static o2p_status tuple_offset(const host_kernel_args *a, const host_tensor *x,
                               const int64_t *st, const host_tensor *ind, int64_t j, int m,
                               int from, int64_t *off)
{
    int64_t o = 0;
    for (int k = 0; k < m; k++) {
        int64_t v = host_get_i64(ind, j * m + k), i, d = x->dims[from + k];
        if (!host_tn_wrap_index(v, d, &i))
            return index_error(a, v, d, from + k);
        o += i * st[from + k];
    }
    *off = o;
    return O2P_OK;
}

o2p_status host_tn_gather_nd(const host_kernel_args *a)
{
    const host_tensor *x, *ind;
    host_tensor *y;
    int64_t n, ni, dims[HOST_MAX_RANK], st[HOST_MAX_RANK];
    size_t es;
    O2P_TRY(data_and_indices(a, &x, &n, &es, 1, &ind, &ni));
    int64_t b = a->opset >= 12 ? host_attr_int(a, "batch_dims", 0) : 0;
    int r = x->rank, q = ind->rank;
    if (r < 1 || q < 1)
        return host_error(a, "the data and the indices must have rank 1 or more (%d, %d)", r, q);
    if (b < 0 || b >= q || b >= r)
        return host_error(a, "batch_dims %lld must be below the ranks of data (%d) and "
                             "indices (%d)", (long long)b, r, q);
    int64_t m = ind->dims[q - 1];
    if (m < 1 || m > r - b)
        return host_error(a, "the last dim of the indices (%lld) must be between 1 and %lld",
                          (long long)m, (long long)(r - b));
    for (int i = 0; i < b; i++)
        if (x->dims[i] != ind->dims[i])
            return host_error(a, "batch axis %d has size %lld in the data but %lld in the "
                                 "indices", i, (long long)x->dims[i], (long long)ind->dims[i]);
    int orank = q - 1 + r - (int)b - (int)m, k = 0;
    if (orank > HOST_MAX_RANK)
        return host_error(a, "the output would have rank %d (at most %d)", orank, HOST_MAX_RANK);
    for (int i = 0; i < q - 1; i++)
        dims[k++] = ind->dims[i];
    for (int i = (int)(b + m); i < r; i++)
        dims[k++] = x->dims[i];
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, orank, dims, &y));
    host_tn_strides(r, x->dims, st);
    int64_t batches = prod(ind->dims, 0, (int)b), tuples = prod(ind->dims, (int)b, q - 1);
    int64_t slice = prod(x->dims, (int)(b + m), r), batch_stride = prod(x->dims, (int)b, r);
    size_t block = (size_t)slice * es;
    unsigned char *dst = y->data;
    const unsigned char *src = x->data;
    for (int64_t bi = 0; bi < batches; bi++) {
        for (int64_t t = 0; t < tuples; t++) {
            int64_t off;
            O2P_TRY(tuple_offset(a, x, st, ind, bi * tuples + t, (int)m, (int)b, &off));
            if (block > 0)
                memcpy(dst, src + (size_t)(bi * batch_stride + off) * es, block);
            dst += block;
        }
    }
    return O2P_OK;
}

o2p_status host_tn_scatter_nd(const host_kernel_args *a)
{
    const host_tensor *x, *ind, *upd = host_in(a, 2);
    host_tensor *y;
    int64_t n, ni, nu, dims[HOST_MAX_RANK], st[HOST_MAX_RANK];
    size_t es;
    reduction red = RED_NONE;
    O2P_TRY(data_and_indices(a, &x, &n, &es, 1, &ind, &ni));
    O2P_TRY(host_tn_check(a, upd, "input 2 (updates)", &nu));
    O2P_TRY(read_reduction(a, &red));
    int r = x->rank, q = ind->rank;
    if (r < 1 || q < 1)
        return host_error(a, "the data and the indices must have rank 1 or more (%d, %d)", r, q);
    int64_t m = ind->dims[q - 1];
    if (m > r)
        return host_error(a, "the last dim of the indices (%lld) exceeds the data's rank %d",
                          (long long)m, r);
    int urank = q - 1 + r - (int)m, k = 0;
    if (urank > HOST_MAX_RANK)
        return host_error(a, "the updates would need rank %d", urank);
    for (int i = 0; i < q - 1; i++)
        dims[k++] = ind->dims[i];
    for (int i = (int)m; i < r; i++)
        dims[k++] = x->dims[i];
    if (upd->dtype != x->dtype)
        return host_error(a, "the updates are %s, the data %s", o2p_dtype_name(upd->dtype),
                          o2p_dtype_name(x->dtype));
    if (!host_same_shape(upd, urank, dims)) {
        char want[400], got[400];
        return host_error(a, "the updates have shape %s where %s is expected",
                          host_tn_dims_str(got, sizeof got, upd->rank, upd->dims),
                          host_tn_dims_str(want, sizeof want, urank, dims));
    }
    if (red != RED_NONE && !reduction_supports(x->dtype))
        return host_unsupported_dtype(a, x->dtype);
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, r, x->dims, &y));
    if (n > 0)
        memcpy(y->data, x->data, (size_t)n * es);
    host_tn_strides(r, x->dims, st);
    int64_t tuples = prod(ind->dims, 0, q - 1), slice = prod(x->dims, (int)m, r);
    for (int64_t t = 0; t < tuples; t++) {
        int64_t off;
        O2P_TRY(tuple_offset(a, x, st, ind, t, (int)m, 0, &off));
        if (red == RED_NONE) {
            if (slice > 0)
                memcpy((unsigned char *)y->data + (size_t)off * es,
                       (const unsigned char *)upd->data + (size_t)(t * slice) * es,
                       (size_t)slice * es);
        } else {
            for (int64_t e = 0; e < slice; e++)
                reduce_into(red, y, off + e, upd, t * slice + e);
        }
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- OneHot */

o2p_status host_tn_one_hot(const host_kernel_args *a)
{
    const host_tensor *ind = host_in(a, 0), *dep = host_in(a, 1), *val = host_in(a, 2);
    host_tensor *y;
    int64_t ni, nd, nv, dims[HOST_MAX_RANK];
    size_t es;
    int ax;
    O2P_TRY(host_tn_check(a, ind, "input 0 (indices)", &ni));
    O2P_TRY(host_tn_check(a, dep, "input 1 (depth)", &nd));
    O2P_TRY(host_tn_check(a, val, "input 2 (values)", &nv));
    if (o2p_dtype_size(ind->dtype) == 0 || ind->dtype == O2P_DTYPE_BOOL ||
        ind->dtype == O2P_DTYPE_COMPLEX64 || ind->dtype == O2P_DTYPE_COMPLEX128)
        return host_unsupported_dtype(a, ind->dtype);
    if (nd != 1 || dep->rank > 1 || o2p_dtype_size(dep->dtype) == 0 ||
        dep->dtype == O2P_DTYPE_COMPLEX64 || dep->dtype == O2P_DTYPE_COMPLEX128)
        return host_error(a, "input 1 (depth) must be one number");
    if (nv != 2 || val->rank != 1)
        return host_error(a, "input 2 (values) must be 1-D with 2 entries (off, on)");
    O2P_TRY(host_tn_esize(a, val->dtype, &es));
    int64_t depth = host_get_i64(dep, 0);
    if (depth < 1)
        return host_error(a, "depth is %lld; it must be 1 or more", (long long)depth);
    int r = ind->rank + 1;
    if (r > HOST_MAX_RANK)
        return host_error(a, "the output would have rank %d (at most %d)", r, HOST_MAX_RANK);
    int64_t axis = host_attr_int(a, "axis", -1);
    if (!host_norm_axis(axis, r, &ax))
        return host_error(a, "axis %lld is out of range for output rank %d", (long long)axis, r);
    for (int i = 0, j = 0; i < r; i++)
        dims[i] = i == ax ? depth : ind->dims[j++];
    O2P_TRY(host_tn_check_out(a, 0, val->dtype, r, dims, &y));
    int ok;
    if (host_numel(y, &ok) == 0)
        return O2P_OK;
    const unsigned char *off = val->data, *on = off + es;
    host_tn_fill(y->data, off, es, host_numel(y, &ok));
    /* out[o, d, i] is on where indices[o, i] == d; the others stay off */
    int64_t inner = prod(ind->dims, ax, ind->rank);
    for (int64_t j = 0; j < ni; j++) {
        int64_t v = host_get_i64(ind, j), o = j / inner, i = j % inner;
        if (v < 0 && a->opset >= 11)
            v += depth; /* negative indices count from the end from opset 11 */
        if (v < 0 || v >= depth)
            continue; /* the spec makes such an entry all off */
        memcpy((unsigned char *)y->data + (size_t)((o * depth + v) * inner + i) * es, on, es);
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- Compress */

o2p_status host_tn_compress(const host_kernel_args *a)
{
    const host_tensor *x = host_in(a, 0), *cond = host_in(a, 1);
    host_tensor *y;
    int64_t n, nc, dims[HOST_MAX_RANK];
    size_t es;
    O2P_TRY(host_tn_check(a, x, "input 0 (input)", &n));
    O2P_TRY(host_tn_esize(a, x->dtype, &es));
    O2P_TRY(host_tn_check(a, cond, "input 1 (condition)", &nc));
    if (cond->dtype != O2P_DTYPE_BOOL || cond->rank != 1)
        return host_error(a, "input 1 (condition) must be a 1-D bool tensor");
    const host_attr *at = host_attr_find(a, "axis");
    int flat = !at || at->type != O2P_ATTR_INT, ax = 0, r;
    int64_t outer, d, inner;
    if (flat) {
        r = 1;
        outer = 1;
        d = n;
        inner = 1;
    } else {
        if (x->rank == 0 || !host_norm_axis(at->i, x->rank, &ax))
            return host_error(a, "axis %lld is out of range for rank %d", (long long)at->i,
                              x->rank);
        r = x->rank;
        memcpy(dims, x->dims, sizeof dims);
        outer = prod(x->dims, 0, ax);
        d = x->dims[ax];
        inner = prod(x->dims, ax + 1, x->rank);
    }
    /* slices beyond the condition's length are dropped, as are conditions beyond the axis */
    const unsigned char *c = cond->data;
    int64_t len = nc < d ? nc : d, kept = 0;
    for (int64_t i = 0; i < len; i++)
        kept += c[i] != 0;
    dims[flat ? 0 : ax] = kept;
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, r, dims, &y));
    size_t block = (size_t)inner * es;
    if (block == 0 || kept == 0)
        return O2P_OK;
    unsigned char *dst = y->data;
    const unsigned char *src = x->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < len; i++)
            if (c[i]) {
                memcpy(dst, src + (size_t)(o * d + i) * block, block);
                dst += block;
            }
    return O2P_OK;
}

/* ---------------------------------------------------------------- NonZero */

/* The indices of the non-zero elements of x, row-major order, as an int64 [rank, nnz]
 * tensor. nnz depends on the data: the output comes allocated at its bound [rank, cap] and
 * gets its actual dims (host_kernels.h: data-dependent outputs). NaN counts as non-zero,
 * -0.0 as zero (x != 0). */
o2p_status host_tn_nonzero_check(const host_kernel_args *a, int with_data, int64_t *n)
{
    const host_tensor *x = host_in(a, 0), *y = host_out(a, 0);
    O2P_TRY(with_data ? host_tn_check(a, x, "input 0 (X)", n)
                      : host_tn_check_dims(a, x, "input 0 (X)", n));
    switch (x->dtype) {
    case O2P_DTYPE_FLOAT: case O2P_DTYPE_DOUBLE: case O2P_DTYPE_FLOAT16: case O2P_DTYPE_BFLOAT16:
    case O2P_DTYPE_INT8: case O2P_DTYPE_INT16: case O2P_DTYPE_INT32: case O2P_DTYPE_INT64:
    case O2P_DTYPE_UINT8: case O2P_DTYPE_UINT16: case O2P_DTYPE_UINT32: case O2P_DTYPE_UINT64:
    case O2P_DTYPE_BOOL:
        break;
    default:
        return host_unsupported_dtype(a, x->dtype);
    }
    if (!y || y->dtype != O2P_DTYPE_INT64 || y->rank != 2 || y->dims[0] != x->rank ||
        y->dims[1] < 0)
        return host_error(a, "output 0 must be int64 [%d, N] (N: the most non-zeros it holds)",
                          x->rank);
    return O2P_OK;
}

o2p_status host_tn_nonzero(const host_kernel_args *a)
{
    const host_tensor *x = host_in(a, 0);
    host_tensor *y = host_out(a, 0);
    int64_t n;
    O2P_TRY(host_tn_nonzero_check(a, 1, &n));
    int64_t cap = y->dims[1], nnz = 0;
    for (int64_t i = 0; i < n; i++)
        nnz += host_get_f64(x, i) != 0.0;
    if (nnz > cap)
        return host_error(a, "%lld non-zero elements, more than the %lld the output holds",
                          (long long)nnz, (long long)cap);
    if (nnz && !y->data)
        return host_error(a, "output 0 has no data");
    int64_t *out = y->data, strides[HOST_MAX_RANK];
    host_tn_strides(x->rank, x->dims, strides);
    int64_t j = 0;
    for (int64_t i = 0; i < n && j < nnz; i++) {
        if (host_get_f64(x, i) == 0.0)
            continue;
        int64_t rem = i;
        for (int d = 0; d < x->rank; d++) {
            out[d * nnz + j] = strides[d] ? rem / strides[d] : 0;
            rem = strides[d] ? rem % strides[d] : rem;
        }
        j++;
    }
    y->dims[1] = nnz; /* packed for [rank, nnz] */
    return O2P_OK;
}

/* ---------------------------------------------------------------- ReverseSequence */

o2p_status host_tn_reverse_sequence(const host_kernel_args *a)
{
    const host_tensor *x = host_in(a, 0), *lens = host_in(a, 1);
    host_tensor *y;
    int64_t n, nl;
    size_t es;
    O2P_TRY(host_tn_check(a, x, "input 0 (input)", &n));
    O2P_TRY(host_tn_esize(a, x->dtype, &es));
    O2P_TRY(host_tn_check(a, lens, "input 1 (sequence_lens)", &nl));
    if (x->rank < 2)
        return host_error(a, "the input must have rank 2 or more, not %d", x->rank);
    int64_t batch_axis = host_attr_int(a, "batch_axis", 1),
            time_axis = host_attr_int(a, "time_axis", 0);
    if (!((batch_axis == 0 && time_axis == 1) || (batch_axis == 1 && time_axis == 0)))
        return host_error(a, "batch_axis (%lld) and time_axis (%lld) must be 0 and 1 or 1 and 0",
                          (long long)batch_axis, (long long)time_axis);
    int64_t batch = x->dims[batch_axis], seq = x->dims[time_axis];
    if (!host_tn_is_index_type(lens->dtype) || lens->rank != 1 || nl != batch)
        return host_error(a, "input 1 (sequence_lens) must be a 1-D int64 tensor of %lld "
                             "entries (the batch size)", (long long)batch);
    for (int64_t b = 0; b < batch; b++) {
        int64_t l = host_get_i64(lens, b);
        if (l < 0 || l > seq)
            return host_error(a, "sequence length %lld (batch %lld) is not within 0 to %lld",
                              (long long)l, (long long)b, (long long)seq);
    }
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, x->rank, x->dims, &y));
    size_t block = (size_t)prod(x->dims, 2, x->rank) * es;
    if (block == 0)
        return O2P_OK;
    for (int64_t b = 0; b < batch; b++) {
        int64_t l = host_get_i64(lens, b);
        for (int64_t t = 0; t < seq; t++) {
            int64_t s = t < l ? l - 1 - t : t;
            int64_t to = time_axis == 0 ? t * batch + b : b * seq + t;
            int64_t from = time_axis == 0 ? s * batch + b : b * seq + s;
            memcpy((unsigned char *)y->data + (size_t)to * block,
                   (const unsigned char *)x->data + (size_t)from * block, block);
        }
    }
    return O2P_OK;
}
