/* tensor.c: host reference kernels of the tensor family (data movement and shape ops): the
 * family table, the checks its files share, and the shape-only ops (Reshape, Flatten,
 * Squeeze, Unsqueeze, Shape, Size) and generators (ConstantOfShape, Range, EyeLike).
 * Layout ops are in tensor_layout.c, indexing ops in tensor_index.c, TopK and CumSum in
 * tensor_axis.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "host/tensor_internal.h"

/* ---------------------------------------------------------------- shared checks */

o2p_status host_tn_check_dims(const host_kernel_args *a, const host_tensor *t, const char *what,
                              int64_t *numel)
{
    if (!t)
        return host_error(a, "%s is missing", what);
    if (t->rank < 0 || t->rank > HOST_MAX_RANK)
        return host_error(a, "%s has rank %d (the host kernels take 0 to %d)", what, t->rank,
                          HOST_MAX_RANK);
    int ok;
    int64_t n = host_numel(t, &ok);
    if (!ok)
        return host_error(a, "%s has a negative dim or more than 2^63 elements", what);
    *numel = n;
    return O2P_OK;
}

o2p_status host_tn_check(const host_kernel_args *a, const host_tensor *t, const char *what,
                         int64_t *numel)
{
    O2P_TRY(host_tn_check_dims(a, t, what, numel));
    size_t es = o2p_dtype_size(t->dtype), bytes;
    if (!o2p_mul_size((size_t)*numel, es, &bytes) || bytes > (size_t)PTRDIFF_MAX)
        return host_error(a, "%s is too large to address", what);
    if (bytes > 0 && !t->data)
        return host_error(a, "%s has no data", what);
    return O2P_OK;
}

o2p_status host_tn_esize(const host_kernel_args *a, o2p_dtype t, size_t *size)
{
    size_t es = o2p_dtype_size(t);
    if (es == 0)
        return host_unsupported_dtype(a, t);
    *size = es;
    return O2P_OK;
}

const char *host_tn_dims_str(char *buf, size_t size, int rank, const int64_t *dims)
{
    size_t n = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

o2p_status host_tn_check_out(const host_kernel_args *a, int i, o2p_dtype dtype, int rank,
                             const int64_t *dims, host_tensor **out)
{
    char what[32], want[400], got[400];
    host_tensor *o = host_out(a, i);
    int64_t n;
    snprintf(what, sizeof what, "output %d", i);
    O2P_TRY(host_tn_check(a, o, what, &n));
    if (o->dtype != dtype)
        return host_error(a, "output %d has element type %s where %s is expected", i,
                          o2p_dtype_name(o->dtype), o2p_dtype_name(dtype));
    if (!host_same_shape(o, rank, dims))
        return host_error(a, "output %d has shape %s where the op gives %s", i,
                          host_tn_dims_str(got, sizeof got, o->rank, o->dims),
                          host_tn_dims_str(want, sizeof want, rank, dims));
    *out = o;
    return O2P_OK;
}

int host_tn_is_index_type(o2p_dtype t)
{
    return t == O2P_DTYPE_INT64 || t == O2P_DTYPE_INT32;
}

o2p_status host_tn_read_ints(const host_kernel_args *a, const host_tensor *t, const char *what,
                             int64_t *out, int cap, int *count)
{
    int64_t n;
    O2P_TRY(host_tn_check(a, t, what, &n));
    if (!host_tn_is_index_type(t->dtype))
        return host_error(a, "%s must be int64 (or int32), not %s", what,
                          o2p_dtype_name(t->dtype));
    if (t->rank > 1)
        return host_error(a, "%s must be 1-D, not rank %d", what, t->rank);
    if (n > cap)
        return host_error(a, "%s has %lld entries (at most %d here)", what, (long long)n, cap);
    for (int64_t k = 0; k < n; k++)
        out[k] = host_get_i64(t, k);
    *count = (int)n;
    return O2P_OK;
}

o2p_status host_tn_read_scalar_int(const host_kernel_args *a, const host_tensor *t,
                                   const char *what, int64_t *v)
{
    int64_t n;
    O2P_TRY(host_tn_check(a, t, what, &n));
    if (!host_tn_is_index_type(t->dtype))
        return host_error(a, "%s must be int64 (or int32), not %s", what,
                          o2p_dtype_name(t->dtype));
    if (t->rank > 1 || n != 1)
        return host_error(a, "%s must hold a single value (it has %lld, rank %d)", what,
                          (long long)n, t->rank);
    *v = host_get_i64(t, 0);
    return O2P_OK;
}

int host_tn_wrap_index(int64_t idx, int64_t dim, int64_t *out)
{
    if (idx < -dim || idx >= dim)
        return 0;
    *out = idx < 0 ? idx + dim : idx;
    return 1;
}

void host_tn_strides(int rank, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

/* One row of n elements at a source stride other than 1. */
static void copy_row(unsigned char *dst, const unsigned char *src, size_t esize, int64_t n,
                     int64_t stride)
{
    ptrdiff_t step = (ptrdiff_t)stride * (ptrdiff_t)esize;
    switch (esize) {
#define COPY_ROW_CASE(N)                          \
    case N:                                       \
        for (int64_t k = 0; k < n; k++) {         \
            memcpy(dst, src, N);                  \
            dst += N;                             \
            src += step;                          \
        }                                         \
        return;
        COPY_ROW_CASE(1)
        COPY_ROW_CASE(2)
        COPY_ROW_CASE(4)
        COPY_ROW_CASE(8)
#undef COPY_ROW_CASE
    default:
        for (int64_t k = 0; k < n; k++) {
            memcpy(dst, src, esize);
            dst += esize;
            src += step;
        }
    }
}

/* dst[i, j] = src[i, j] for a rows x cols block where dst rows are dst_row elements apart and
 * contiguous, and src is contiguous down a column (src[i, j] at i + j * src_col): a transpose.
 * Done in tiles that stay in cache, which is several times faster on large matrices. */
static void copy_transposed(unsigned char *dst, ptrdiff_t dst_row, const unsigned char *src,
                            ptrdiff_t src_col, int64_t rows, int64_t cols, size_t esize)
{
    enum { TILE = 32 };
    for (int64_t i0 = 0; i0 < rows; i0 += TILE) {
        int64_t i1 = i0 + TILE < rows ? i0 + TILE : rows;
        for (int64_t j0 = 0; j0 < cols; j0 += TILE) {
            int64_t j1 = j0 + TILE < cols ? j0 + TILE : cols;
            for (int64_t i = i0; i < i1; i++) {
                unsigned char *d = dst + (i * dst_row + j0) * (ptrdiff_t)esize;
                const unsigned char *s = src + (i + j0 * src_col) * (ptrdiff_t)esize;
                copy_row(d, s, esize, j1 - j0, src_col);
            }
        }
    }
}

void host_tn_copy_strided(void *dst_v, const void *src_v, size_t esize, int rank,
                          const int64_t *dims_in, const int64_t *strides_in)
{
    unsigned char *dst = dst_v;
    const unsigned char *src = src_v;
    int64_t dims[HOST_MAX_RANK], strides[HOST_MAX_RANK], idx[HOST_MAX_RANK];
    int r = 0;
    /* drop dims of 1 and merge a dim into the one before when they are contiguous in the
     * source, so that rows are as long as they can be */
    for (int i = 0; i < rank; i++) {
        if (dims_in[i] == 0)
            return;
        if (dims_in[i] == 1)
            continue;
        if (r > 0 && strides[r - 1] == strides_in[i] * dims_in[i]) {
            dims[r - 1] *= dims_in[i];
            strides[r - 1] = strides_in[i];
        } else {
            dims[r] = dims_in[i];
            strides[r] = strides_in[i];
            r++;
        }
    }
    if (r == 0) {
        memcpy(dst, src, esize);
        return;
    }
    int64_t n = dims[r - 1], st = strides[r - 1];
    /* a transpose: the last output dim is strided in the source but another dim is
     * contiguous there; copy the two as tiles */
    int p = -1;
    if (st != 1 && st != 0 && n >= 8)
        for (int i = r - 2; i >= 0 && p < 0; i--)
            if (strides[i] == 1 && dims[i] >= 8)
                p = i;
    int64_t dst_strides[HOST_MAX_RANK];
    host_tn_strides(r, dims, dst_strides);
    int64_t skip = p >= 0 ? p : r - 1; /* the dim the odometer leaves to the inner copy */
    ptrdiff_t off = 0, dst_off = 0; /* elements */
    memset(idx, 0, sizeof idx);
    for (;;) {
        const unsigned char *s = src + off * (ptrdiff_t)esize;
        unsigned char *d = dst + dst_off * (ptrdiff_t)esize;
        if (p >= 0)
            copy_transposed(d, dst_strides[p], s, st, dims[p], n, esize);
        else if (st == 1)
            memcpy(d, s, (size_t)n * esize);
        else
            copy_row(d, s, esize, n, st);
        int k = r - 2;
        for (; k >= 0; k--) {
            if (k == skip)
                continue;
            off += strides[k];
            dst_off += dst_strides[k];
            if (++idx[k] < dims[k])
                break;
            off -= strides[k] * dims[k];
            dst_off -= dst_strides[k] * dims[k];
            idx[k] = 0;
        }
        if (k < 0)
            return;
    }
}

void host_tn_fill(void *dst_v, const void *value, size_t esize, int64_t n)
{
    unsigned char *dst = dst_v;
    size_t total = (size_t)n * esize, done;
    if (total == 0)
        return;
    memcpy(dst, value, esize);
    for (done = esize; done < total;) {
        size_t c = done < total - done ? done : total - done;
        memcpy(dst + done, dst, c);
        done += c;
    }
}

/* Checks input 0 and its element size: the common start of a data movement kernel. */
static o2p_status data_input(const host_kernel_args *a, const host_tensor **x, int64_t *n,
                             size_t *es)
{
    *x = host_in(a, 0);
    O2P_TRY(host_tn_check(a, *x, "input 0 (data)", n));
    return host_tn_esize(a, (*x)->dtype, es);
}

/* Copies x into output 0, which must have x's dtype and the shape (rank, dims). */
static o2p_status copy_reshaped(const host_kernel_args *a, const host_tensor *x, int64_t n,
                                size_t es, int rank, const int64_t *dims)
{
    host_tensor *y;
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, rank, dims, &y));
    if (n > 0)
        memcpy(y->data, x->data, (size_t)n * es);
    return O2P_OK;
}

/* ---------------------------------------------------------------- Reshape, Flatten */

static o2p_status k_reshape(const host_kernel_args *a)
{
    const host_tensor *x;
    int64_t n, shape[HOST_MAX_RANK], dims[HOST_MAX_RANK];
    size_t es;
    int r;
    O2P_TRY(data_input(a, &x, &n, &es));
    if (host_in(a, 1)) {
        O2P_TRY(host_tn_read_ints(a, host_in(a, 1), "input 1 (shape)", shape, HOST_MAX_RANK, &r));
    } else {
        const int64_t *s = host_attr_ints(a, "shape", &r);
        if (a->opset >= 5 || !s)
            return host_error(a, "the 'shape' input is missing");
        if (r > HOST_MAX_RANK)
            return host_error(a, "attribute 'shape' has %d entries (at most %d)", r,
                              HOST_MAX_RANK);
        memcpy(shape, s, (size_t)r * sizeof shape[0]);
    }
    int allowzero = a->opset >= 14 && host_attr_int(a, "allowzero", 0) != 0;
    int minus = -1;
    int64_t known = 1;
    for (int i = 0; i < r; i++) {
        int64_t v = shape[i];
        if (v == -1) {
            if (minus >= 0)
                return host_error(a, "the shape has more than one -1 (entries %d and %d)",
                                  minus, i);
            minus = i;
            dims[i] = 1;
            continue;
        }
        if (v == 0 && !allowzero) {
            if (i >= x->rank)
                return host_error(a, "shape entry %d is 0 (copy the input's dim) but the input "
                                     "has rank %d", i, x->rank);
            v = x->dims[i];
        } else if (v < 0) {
            return host_error(a, "shape entry %d is %lld", i, (long long)v);
        }
        dims[i] = v;
        if (!o2p_mul_i64(known, v, &known))
            return host_error(a, "the shape has more than 2^63 elements");
    }
    if (minus >= 0) {
        if (known == 0 || n % known != 0)
            return host_error(a, "cannot infer the -1 of the shape: %lld elements into a "
                                 "multiple of %lld", (long long)n, (long long)known);
        dims[minus] = n / known;
    } else if (known != n) {
        return host_error(a, "the shape has %lld elements but the input has %lld",
                          (long long)known, (long long)n);
    }
    return copy_reshaped(a, x, n, es, r, dims);
}

static o2p_status k_flatten(const host_kernel_args *a)
{
    const host_tensor *x;
    int64_t n;
    size_t es;
    O2P_TRY(data_input(a, &x, &n, &es));
    int64_t axis = host_attr_int(a, "axis", 1);
    if (axis < -(int64_t)x->rank || axis > x->rank)
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    if (axis < 0)
        axis += x->rank;
    int64_t dims[2] = {1, 1};
    for (int i = 0; i < x->rank; i++)
        dims[i < axis ? 0 : 1] *= x->dims[i];
    return copy_reshaped(a, x, n, es, 2, dims);
}

/* ---------------------------------------------------------------- Squeeze, Unsqueeze */

/* The axes of Squeeze/Unsqueeze: an attribute before opset 13, input 1 from it. */
static o2p_status read_axes(const host_kernel_args *a, int64_t *axes, int *count, int *given)
{
    *given = 0;
    *count = 0;
    if (a->opset >= 13) {
        if (!host_in(a, 1))
            return O2P_OK;
        *given = 1;
        return host_tn_read_ints(a, host_in(a, 1), "input 1 (axes)", axes, HOST_MAX_RANK, count);
    }
    int c;
    const int64_t *v = host_attr_ints(a, "axes", &c);
    if (!v)
        return O2P_OK;
    if (c > HOST_MAX_RANK)
        return host_error(a, "attribute 'axes' has %d entries (at most %d)", c, HOST_MAX_RANK);
    memcpy(axes, v, (size_t)c * sizeof axes[0]);
    *count = c;
    *given = 1;
    return O2P_OK;
}

static o2p_status k_squeeze(const host_kernel_args *a)
{
    const host_tensor *x;
    int64_t n, axes[HOST_MAX_RANK], dims[HOST_MAX_RANK];
    size_t es;
    int c, given, drop[HOST_MAX_RANK] = {0}, r = 0;
    O2P_TRY(data_input(a, &x, &n, &es));
    O2P_TRY(read_axes(a, axes, &c, &given));
    for (int i = 0; i < c; i++) {
        int ax;
        if (x->rank == 0 || !host_norm_axis(axes[i], x->rank, &ax))
            return host_error(a, "axis %lld is out of range for rank %d", (long long)axes[i],
                              x->rank);
        if (drop[ax])
            return host_error(a, "axis %d appears twice", ax);
        if (x->dims[ax] != 1)
            return host_error(a, "axis %d has size %lld, not 1", ax, (long long)x->dims[ax]);
        drop[ax] = 1;
    }
    /* no axes, or an empty list (as onnxruntime reads it): every dim of 1 goes */
    for (int i = 0; i < x->rank; i++)
        if (!(given && c > 0 ? drop[i] : x->dims[i] == 1))
            dims[r++] = x->dims[i];
    return copy_reshaped(a, x, n, es, r, dims);
}

static o2p_status k_unsqueeze(const host_kernel_args *a)
{
    const host_tensor *x;
    int64_t n, axes[HOST_MAX_RANK], dims[HOST_MAX_RANK];
    size_t es;
    int c, given, add[HOST_MAX_RANK] = {0};
    O2P_TRY(data_input(a, &x, &n, &es));
    O2P_TRY(read_axes(a, axes, &c, &given));
    if (!given)
        return host_error(a, "the axes are missing");
    int r = x->rank + c;
    if (r > HOST_MAX_RANK)
        return host_error(a, "the output would have rank %d (at most %d)", r, HOST_MAX_RANK);
    for (int i = 0; i < c; i++) {
        int ax;
        if (!host_norm_axis(axes[i], r, &ax))
            return host_error(a, "axis %lld is out of range for output rank %d",
                              (long long)axes[i], r);
        if (add[ax])
            return host_error(a, "axis %d appears twice", ax);
        add[ax] = 1;
    }
    for (int i = 0, j = 0; i < r; i++)
        dims[i] = add[i] ? 1 : x->dims[j++];
    return copy_reshaped(a, x, n, es, r, dims);
}

/* ---------------------------------------------------------------- Shape, Size */

static o2p_status k_shape(const host_kernel_args *a)
{
    const host_tensor *x = host_in(a, 0);
    host_tensor *y;
    int64_t n;
    O2P_TRY(host_tn_check_dims(a, x, "input 0 (data)", &n)); /* the data is not read */
    int64_t r = x->rank, start = 0, end = r;
    if (a->opset >= 15) {
        start = host_attr_int(a, "start", 0);
        end = host_attr_int(a, "end", r);
    }
    start = start < 0 ? start + r : start;
    end = end < 0 ? end + r : end;
    start = start < 0 ? 0 : start > r ? r : start;
    end = end < 0 ? 0 : end > r ? r : end;
    int64_t len = end > start ? end - start : 0;
    O2P_TRY(host_tn_check_out(a, 0, O2P_DTYPE_INT64, 1, &len, &y));
    for (int64_t i = 0; i < len; i++)
        host_set_i64(y, i, x->dims[start + i]);
    return O2P_OK;
}

static o2p_status k_size(const host_kernel_args *a)
{
    host_tensor *y;
    int64_t n;
    O2P_TRY(host_tn_check_dims(a, host_in(a, 0), "input 0 (data)", &n));
    O2P_TRY(host_tn_check_out(a, 0, O2P_DTYPE_INT64, 0, NULL, &y));
    host_set_i64(y, 0, n);
    return O2P_OK;
}

/* ---------------------------------------------------------------- generators */

static o2p_status k_constant_of_shape(const host_kernel_args *a)
{
    int64_t dims[HOST_MAX_RANK];
    int r;
    O2P_TRY(host_tn_read_ints(a, host_in(a, 0), "input 0 (shape)", dims, HOST_MAX_RANK, &r));
    for (int i = 0; i < r; i++)
        if (dims[i] < 0)
            return host_error(a, "shape entry %d is %lld", i, (long long)dims[i]);
    unsigned char value[16] = {0};
    o2p_dtype t = O2P_DTYPE_FLOAT;
    size_t es = 4;
    const host_attr *at = host_attr_find(a, "value");
    if (at) {
        int64_t vn;
        if (at->type != O2P_ATTR_TENSOR || !at->tensor)
            return host_error(a, "attribute 'value' must be a tensor");
        O2P_TRY(host_tn_check(a, at->tensor, "attribute 'value'", &vn));
        if (vn != 1)
            return host_error(a, "attribute 'value' must hold one element, not %lld",
                              (long long)vn);
        t = at->tensor->dtype;
        O2P_TRY(host_tn_esize(a, t, &es));
        if (es > sizeof value)
            return host_unsupported_dtype(a, t);
        memcpy(value, at->tensor->data, es);
    }
    host_tensor *y;
    O2P_TRY(host_tn_check_out(a, 0, t, r, dims, &y));
    int ok;
    int64_t n = host_numel(y, &ok);
    host_tn_fill(y->data, value, es, n);
    return O2P_OK;
}

static o2p_status k_range(const host_kernel_args *a)
{
    const host_tensor *in[3];
    static const char *const names[3] = {"input 0 (start)", "input 1 (limit)",
                                         "input 2 (delta)"};
    for (int i = 0; i < 3; i++) {
        int64_t n;
        in[i] = host_in(a, i);
        O2P_TRY(host_tn_check(a, in[i], names[i], &n));
        if (n != 1 || in[i]->rank > 1)
            return host_error(a, "%s must be a scalar", names[i]);
        if (in[i]->dtype != in[0]->dtype)
            return host_error(a, "the inputs have different element types (%s and %s)",
                              o2p_dtype_name(in[0]->dtype), o2p_dtype_name(in[i]->dtype));
    }
    o2p_dtype t = in[0]->dtype;
    host_tensor *y;
    int64_t n = 0;
    switch (t) {
    case O2P_DTYPE_INT16: case O2P_DTYPE_INT32: case O2P_DTYPE_INT64: {
        int64_t st = host_get_i64(in[0], 0), li = host_get_i64(in[1], 0),
                de = host_get_i64(in[2], 0);
        if (de == 0)
            return host_error(a, "delta is 0");
        int up = de > 0;
        /* count = max(ceil((limit - start) / delta), 0) in unsigned magnitudes */
        if (up ? li > st : li < st) {
            uint64_t dist = up ? (uint64_t)li - (uint64_t)st : (uint64_t)st - (uint64_t)li;
            uint64_t step = up ? (uint64_t)de : (uint64_t)0 - (uint64_t)de;
            uint64_t q = dist / step + (dist % step != 0);
            if (q > (uint64_t)INT64_MAX)
                return host_error(a, "the range has more than 2^63 elements");
            n = (int64_t)q;
        }
        O2P_TRY(host_tn_check_out(a, 0, t, 1, &n, &y));
        for (int64_t k = 0; k < n; k++)
            host_set_i64(y, k, (int64_t)((uint64_t)st + (uint64_t)k * (uint64_t)de));
        return O2P_OK;
    }
    case O2P_DTYPE_FLOAT: case O2P_DTYPE_DOUBLE: {
        double st = host_get_f64(in[0], 0), li = host_get_f64(in[1], 0),
               de = host_get_f64(in[2], 0);
        if (de == 0)
            return host_error(a, "delta is 0");
        double c = ceil((li - st) / de);
        if (!(c <= 9.0e18)) /* also NaN */
            return host_error(a, "the range from %g to %g by %g has no finite count", st, li,
                              de);
        n = c > 0 ? (int64_t)c : 0;
        O2P_TRY(host_tn_check_out(a, 0, t, 1, &n, &y));
        /* the spec's function body adds delta to the previous value, in the element type */
        if (t == O2P_DTYPE_FLOAT) {
            float v = (float)st, d = (float)de;
            for (int64_t k = 0; k < n; k++, v += d)
                memcpy((float *)y->data + k, &v, sizeof v);
        } else {
            double v = st;
            for (int64_t k = 0; k < n; k++, v += de)
                memcpy((double *)y->data + k, &v, sizeof v);
        }
        return O2P_OK;
    }
    default:
        return host_unsupported_dtype(a, t);
    }
}

static o2p_status k_eye_like(const host_kernel_args *a)
{
    const host_tensor *x = host_in(a, 0);
    int64_t n;
    O2P_TRY(host_tn_check_dims(a, x, "input 0", &n)); /* only its shape and type are used */
    if (x->rank != 2)
        return host_error(a, "the input must be 2-D, not rank %d", x->rank);
    int64_t dt = host_attr_int(a, "dtype", 0);
    o2p_dtype t = dt != 0 ? (o2p_dtype)dt : x->dtype;
    if (dt < 0 || dt > O2P_DTYPE_BFLOAT16)
        return host_error(a, "attribute 'dtype' (%lld) is not an element type", (long long)dt);
    if (t == O2P_DTYPE_STRING || t == O2P_DTYPE_COMPLEX64 || t == O2P_DTYPE_COMPLEX128 ||
        o2p_dtype_size(t) == 0)
        return host_unsupported_dtype(a, t);
    host_tensor *y;
    O2P_TRY(host_tn_check_out(a, 0, t, 2, x->dims, &y));
    int64_t rows = x->dims[0], cols = x->dims[1], k = host_attr_int(a, "k", 0);
    if (n > 0)
        memset(y->data, 0, (size_t)n * o2p_dtype_size(t));
    for (int64_t i = 0; i < rows; i++) {
        /* j = i + k without overflow: only k within (-rows, cols) puts ones anywhere */
        if (k <= -rows || k >= cols)
            break;
        int64_t j = i + k;
        if (j >= 0 && j < cols)
            host_set_i64(y, i * cols + j, 1);
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- the family table */

const host_kernel_entry host_tensor_kernels[] = {
    {"Reshape", k_reshape},
    {"Flatten", k_flatten},
    {"Squeeze", k_squeeze},
    {"Unsqueeze", k_unsqueeze},
    {"Shape", k_shape},
    {"Size", k_size},
    {"ConstantOfShape", k_constant_of_shape},
    {"Range", k_range},
    {"EyeLike", k_eye_like},
    {"Transpose", host_tn_transpose},
    {"Concat", host_tn_concat},
    {"Split", host_tn_split},
    {"Slice", host_tn_slice},
    {"Expand", host_tn_expand},
    {"Tile", host_tn_tile},
    {"Pad", host_tn_pad},
    {"Trilu", host_tn_trilu},
    {"Gather", host_tn_gather},
    {"GatherElements", host_tn_gather_elements},
    {"GatherND", host_tn_gather_nd},
    {"ScatterElements", host_tn_scatter_elements},
    {"Scatter", host_tn_scatter_elements},
    {"ScatterND", host_tn_scatter_nd},
    {"OneHot", host_tn_one_hot},
    {"Compress", host_tn_compress},
    {"NonZero", host_tn_nonzero},
    {"ReverseSequence", host_tn_reverse_sequence},
    {"TopK", host_tn_topk},
    {"CumSum", host_tn_cumsum},
};
const int host_tensor_kernel_count =
    (int)(sizeof host_tensor_kernels / sizeof host_tensor_kernels[0]);
