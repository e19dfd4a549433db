/* lower_tensor.c: lowerings of the tensor kernel family (kernels/cuda/tensor.cu): data
 * movement, indexing, TopK, CumSum and the generators. Each op checks its layer as the host
 * kernel of kernels/host/tensor*.c does (with the family's shared checks, tensor_internal.h,
 * so the messages match) and emits device copies where bytes move unchanged, kernels
 * otherwise. Values the host kernel reads from constant inputs (shapes, pads, axes, k) are
 * read here at build; where such an input is computed at run time, the output shape that
 * inference gave stands in when it determines them, and the op is refused otherwise. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/tensor_params.h"
#include "host/tensor_internal.h"

_Static_assert(sizeof(o2p_tn_copy_params) == 552, "o2p_tn_copy_params layout");
_Static_assert(sizeof(o2p_tn_pad_params) == 552, "o2p_tn_pad_params layout");
_Static_assert(sizeof(o2p_tn_gather_params) == 64, "o2p_tn_gather_params layout");
_Static_assert(sizeof(o2p_tn_elements_params) == 368, "o2p_tn_elements_params layout");
_Static_assert(sizeof(o2p_tn_nd_params) == 352, "o2p_tn_nd_params layout");
_Static_assert(sizeof(o2p_tn_one_hot_params) == 80, "o2p_tn_one_hot_params layout");
_Static_assert(sizeof(o2p_tn_reverse_sequence_params) == 72,
               "o2p_tn_reverse_sequence_params layout");
_Static_assert(sizeof(o2p_tn_topk_params) == 80, "o2p_tn_topk_params layout");
_Static_assert(sizeof(o2p_tn_cumsum_params) == 208, "o2p_tn_cumsum_params layout");
_Static_assert(sizeof(o2p_tn_trilu_params) == 72, "o2p_tn_trilu_params layout");
_Static_assert(sizeof(o2p_tn_fill_params) == 152, "o2p_tn_fill_params layout");
_Static_assert(sizeof(o2p_tn_range_params) == 56, "o2p_tn_range_params layout");
_Static_assert(sizeof(o2p_tn_eye_params) == 40, "o2p_tn_eye_params layout");
_Static_assert(sizeof(o2p_tn_nonzero_params) == 176, "o2p_tn_nonzero_params layout");

#define FAMILY "tensor"
#define BLOCK 256u
#define TOPK_THREADS 256u /* TN_TOPK_THREADS of tensor.cu */

/* ---------------------------------------------------------------- shared helpers */

static o2p_status tn_unsupported(const host_kernel_args *a, const char *fmt, ...)
    O2P_PRINTF(2, 3);
static o2p_status tn_unsupported(const host_kernel_args *a, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return o2p_fail(O2P_ERR_UNSUPPORTED, "layer '%s' (%s): %s (CUDA target)",
                    a->layer_name ? a->layer_name : "", a->op_type ? a->op_type : "", msg);
}

static int64_t prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* Whether input t has its values at build: a constant, or nothing to read. */
static int is_const(const host_tensor *t)
{
    int ok;
    return t && (t->data || host_numel(t, &ok) == 0);
}

/* Fails unless input i (when present) is a constant. */
static o2p_status need_const(const host_kernel_args *a, int i, const char *what)
{
    const host_tensor *t = host_in(a, i);
    if (t && !is_const(t))
        return tn_unsupported(a, "%s is computed at run time; the CUDA lowering needs its "
                                 "values at build (make it a constant, e.g. by fixing the "
                                 "input shapes)", what);
    return O2P_OK;
}

/* The element size of t, which the kernels move as one word of 1, 2, 4 or 8 bytes. */
static o2p_status word_size(const host_kernel_args *a, o2p_dtype t, size_t *es)
{
    O2P_TRY(host_tn_esize(a, t, es));
    if (*es != 1 && *es != 2 && *es != 4 && *es != 8)
        return tn_unsupported(a, "element type %s (%zu bytes) has no kernel", o2p_dtype_name(t),
                              *es);
    return O2P_OK;
}

/* Checks output i as host_tn_check_out does, but without data (it lives on the device). */
static o2p_status check_out(const host_kernel_args *a, int i, o2p_dtype dtype, int rank,
                            const int64_t *dims, const host_tensor **out)
{
    char what[32], want[400], got[400];
    const host_tensor *o = host_out(a, i);
    int64_t n;
    snprintf(what, sizeof what, "output %d", i);
    O2P_TRY(host_tn_check_dims(a, o, what, &n));
    if (o->dtype != dtype)
        return host_error(a, "output %d has element type %s where %s is expected", i,
                          o2p_dtype_name(o->dtype), o2p_dtype_name(dtype));
    if (!host_same_shape(o, rank, dims))
        return host_error(a, "output %d has shape %s where the op gives %s", i,
                          host_tn_dims_str(got, sizeof got, o->rank, o->dims),
                          host_tn_dims_str(want, sizeof want, rank, dims));
    if (out)
        *out = o;
    return O2P_OK;
}

static int in_id(const cg_layer *l, int i)
{
    return l->input_tensors[i];
}

static int out_id(const cg_layer *l, int i)
{
    return l->output_tensors[i];
}

static int size_slot(size_t es)
{
    return es == 1 ? 0 : es == 2 ? 1 : es == 4 ? 2 : 3;
}

static const char *const copy_fn[4] = {"o2p_tensor_copy_1", "o2p_tensor_copy_2",
                                       "o2p_tensor_copy_4", "o2p_tensor_copy_8"};
static const char *const pad_fn[4] = {"o2p_tensor_pad_1", "o2p_tensor_pad_2", "o2p_tensor_pad_4",
                                      "o2p_tensor_pad_8"};
static const char *const gather_fn[4] = {"o2p_tensor_gather_1", "o2p_tensor_gather_2",
                                         "o2p_tensor_gather_4", "o2p_tensor_gather_8"};

/* A grid-stride launch over n elements. */
static cg_launch *launch_1d(cg_emit *e, const char *fn, uint64_t n, const void *p, uint32_t size)
{
    uint32_t grid[3], block[3];
    cg_grid_1d(n, BLOCK, grid, block);
    return cg_emit_kernel(e, FAMILY, fn, grid, block, 0, p, size);
}

#define PTR(e, l, type, field, tensor, off) \
    cg_launch_ptr((e), (l), (uint32_t)offsetof(type, field), (tensor), (off))

static void set_shape(o2p_cu_shape *s, int rank, const int64_t *dims, const int64_t *strides)
{
    memset(s, 0, sizeof *s);
    s->rank = rank;
    for (int i = 0; i < rank; i++) {
        s->dims[i] = dims[i];
        s->strides[i] = strides[i];
    }
}

/* Emits y[view dst] = x[view src] over dims (element strides, any sign, 0 broadcasts; byte
 * offsets of the first element): a device copy when both views are contiguous, the copy
 * kernel otherwise. Nothing for an empty view. */
static void emit_view(cg_emit *e, size_t es, int rank, const int64_t *dims_in, int src,
                      uint64_t src_off, const int64_t *src_st_in, int dst, uint64_t dst_off,
                      const int64_t *dst_st_in)
{
    int64_t dims[O2P_CU_MAX_RANK], ss[O2P_CU_MAX_RANK], ds[O2P_CU_MAX_RANK], n = 1;
    int r = 0;
    /* drop dims of 1 and merge a dim into the one before where both views allow it */
    for (int i = 0; i < rank; i++) {
        if (dims_in[i] == 0)
            return;
        n *= dims_in[i];
        if (dims_in[i] == 1)
            continue;
        if (r > 0 && ss[r - 1] == src_st_in[i] * dims_in[i] &&
            ds[r - 1] == dst_st_in[i] * dims_in[i]) {
            dims[r - 1] *= dims_in[i];
            ss[r - 1] = src_st_in[i];
            ds[r - 1] = dst_st_in[i];
        } else {
            dims[r] = dims_in[i];
            ss[r] = src_st_in[i];
            ds[r] = dst_st_in[i];
            r++;
        }
    }
    if (r == 0 || (r == 1 && ss[0] == 1 && ds[0] == 1)) {
        cg_emit_copy(e, dst, dst_off, src, src_off, (uint64_t)n * es);
        return;
    }
    o2p_tn_copy_params p;
    memset(&p, 0, sizeof p);
    p.n = n;
    set_shape(&p.src, r, dims, ss);
    set_shape(&p.dst, r, dims, ds);
    cg_launch *l = launch_1d(e, copy_fn[size_slot(es)], (uint64_t)n, &p, sizeof p);
    PTR(e, l, o2p_tn_copy_params, x_ptr, src, src_off);
    PTR(e, l, o2p_tn_copy_params, y_ptr, dst, dst_off);
}

/* The data input 0: present, valid dims, and its element size. */
static o2p_status data_in(const host_kernel_args *a, const char *what, const host_tensor **x,
                          int64_t *n, size_t *es, int any_size)
{
    *x = host_in(a, 0);
    O2P_TRY(host_tn_check_dims(a, *x, what, n));
    if (any_size)
        return host_tn_esize(a, (*x)->dtype, es);
    return word_size(a, (*x)->dtype, es);
}

/* An int32/int64 indices input. */
static o2p_status indices_in(const host_kernel_args *a, int i, const host_tensor **ind,
                             int64_t *ni)
{
    *ind = host_in(a, i);
    O2P_TRY(host_tn_check_dims(a, *ind, "the indices input", ni));
    if (!host_tn_is_index_type((*ind)->dtype))
        return host_error(a, "the indices must be int64 or int32, not %s",
                          o2p_dtype_name((*ind)->dtype));
    return O2P_OK;
}

static o2p_status index_error(const host_kernel_args *a, int64_t v, int64_t dim, int axis)
{
    return host_error(a, "index %lld is out of range for axis %d of size %lld (valid: %lld to "
                         "%lld)", (long long)v, axis, (long long)dim, (long long)-dim,
                      (long long)dim - 1);
}

/* ---------------------------------------------------------------- Reshape, Flatten,
 * Squeeze, Unsqueeze: the bytes do not move */

/* Output 0 is x's bytes under another shape: (rank, dims) when the shape is known here,
 * the output's own shape (same element count) when it came from a run-time input. */
static o2p_status emit_reshaped(const cg_layer *l, cg_emit *e, const host_tensor *x, int64_t n,
                                size_t es, int known, int rank, const int64_t *dims)
{
    const host_kernel_args *a = &l->args;
    if (known) {
        O2P_TRY(check_out(a, 0, x->dtype, rank, dims, NULL));
    } else {
        const host_tensor *y = host_out(a, 0);
        int64_t m;
        O2P_TRY(host_tn_check_dims(a, y, "output 0", &m));
        O2P_TRY(check_out(a, 0, x->dtype, y->rank, y->dims, NULL));
        if (m != n)
            return host_error(a, "output 0 has %lld elements but the input has %lld",
                              (long long)m, (long long)n);
    }
    if (n > 0)
        cg_emit_copy(e, out_id(l, 0), 0, in_id(l, 0), 0, (uint64_t)n * es);
    return cg_emit_status(e);
}

static o2p_status lower_reshape(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x;
    int64_t n, shape[HOST_MAX_RANK], dims[HOST_MAX_RANK];
    size_t es;
    int r = 0;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 1));
    if (host_in(a, 1)) {
        if (!is_const(host_in(a, 1)))
            return emit_reshaped(l, e, x, n, es, 0, 0, NULL);
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
    return emit_reshaped(l, e, x, n, es, 1, r, dims);
}

static o2p_status lower_flatten(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x;
    int64_t n;
    size_t es;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 1));
    int64_t axis = host_attr_int(a, "axis", 1);
    if (axis < -(int64_t)x->rank || axis > x->rank)
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    if (axis < 0)
        axis += x->rank;
    int64_t dims[2] = {1, 1};
    for (int i = 0; i < x->rank; i++)
        dims[i < axis ? 0 : 1] *= x->dims[i];
    return emit_reshaped(l, e, x, n, es, 1, 2, dims);
}

/* The axes of Squeeze/Unsqueeze: an attribute before opset 13, input 1 from it. *known is 0
 * when input 1 is computed at run time. */
static o2p_status read_axes(const host_kernel_args *a, int64_t *axes, int *count, int *given,
                            int *known)
{
    *given = 0;
    *count = 0;
    *known = 1;
    if (a->opset >= 13) {
        if (!host_in(a, 1))
            return O2P_OK;
        *given = 1;
        if (!is_const(host_in(a, 1))) {
            *known = 0;
            return O2P_OK;
        }
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

static o2p_status lower_squeeze(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x;
    int64_t n, axes[HOST_MAX_RANK], dims[HOST_MAX_RANK];
    size_t es;
    int c, given, known, drop[HOST_MAX_RANK] = {0}, r = 0;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 1));
    O2P_TRY(read_axes(a, axes, &c, &given, &known));
    if (!known)
        return emit_reshaped(l, e, x, n, es, 0, 0, NULL);
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
    for (int i = 0; i < x->rank; i++)
        if (!(given && c > 0 ? drop[i] : x->dims[i] == 1))
            dims[r++] = x->dims[i];
    return emit_reshaped(l, e, x, n, es, 1, r, dims);
}

static o2p_status lower_unsqueeze(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x;
    int64_t n, axes[HOST_MAX_RANK], dims[HOST_MAX_RANK];
    size_t es;
    int c, given, known, add[HOST_MAX_RANK] = {0};
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 1));
    O2P_TRY(read_axes(a, axes, &c, &given, &known));
    if (!given)
        return host_error(a, "the axes are missing");
    if (!known)
        return emit_reshaped(l, e, x, n, es, 0, 0, NULL);
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
    return emit_reshaped(l, e, x, n, es, 1, r, dims);
}

/* ---------------------------------------------------------------- Shape, Size,
 * ConstantOfShape, Range, EyeLike: values known at build */

/* Fills n elements of es bytes of output 0 with values[i % count]: a memset when every byte
 * is the same. */
static void emit_fill(const cg_layer *l, cg_emit *e, int64_t n, size_t es,
                      const uint64_t *values, int count)
{
    if (n <= 0)
        return;
    uint8_t b0 = (uint8_t)values[0];
    int same = 1;
    for (int k = 0; k < count && same; k++)
        for (size_t j = 0; j < es; j++)
            if ((uint8_t)(values[k] >> (8 * j)) != b0)
                same = 0;
    if (same) {
        cg_emit_memset(e, out_id(l, 0), 0, (uint64_t)n * es, b0);
        return;
    }
    o2p_tn_fill_params p;
    memset(&p, 0, sizeof p);
    p.n = n;
    p.count = count;
    p.esize = (int32_t)es;
    for (int k = 0; k < count; k++)
        p.values[k] = values[k];
    cg_launch *ln = launch_1d(e, "o2p_tensor_fill", (uint64_t)n, &p, sizeof p);
    PTR(e, ln, o2p_tn_fill_params, y_ptr, out_id(l, 0), 0);
}

static o2p_status lower_shape(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x = host_in(a, 0);
    int64_t n;
    O2P_TRY(host_tn_check_dims(a, x, "input 0 (data)", &n));
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
    O2P_TRY(check_out(a, 0, O2P_DTYPE_INT64, 1, &len, NULL));
    uint64_t values[O2P_CU_MAX_RANK];
    for (int64_t i = 0; i < len; i++)
        values[i] = (uint64_t)x->dims[start + i];
    emit_fill(l, e, len, 8, values, (int)len);
    return cg_emit_status(e);
}

static o2p_status lower_size(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    int64_t n;
    O2P_TRY(host_tn_check_dims(a, host_in(a, 0), "input 0 (data)", &n));
    O2P_TRY(check_out(a, 0, O2P_DTYPE_INT64, 0, NULL, NULL));
    uint64_t v = (uint64_t)n;
    emit_fill(l, e, 1, 8, &v, 1);
    return cg_emit_status(e);
}

static o2p_status lower_constant_of_shape(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    int64_t dims[HOST_MAX_RANK];
    int r;
    const host_tensor *s = host_in(a, 0), *y;
    unsigned char value[8] = {0};
    o2p_dtype t = O2P_DTYPE_FLOAT;
    size_t es = 4;
    int64_t sn;
    O2P_TRY(host_tn_check_dims(a, s, "input 0 (shape)", &sn));
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
        O2P_TRY(word_size(a, t, &es));
        memcpy(value, at->tensor->data, es);
    }
    if (is_const(s)) {
        O2P_TRY(host_tn_read_ints(a, s, "input 0 (shape)", dims, HOST_MAX_RANK, &r));
        for (int i = 0; i < r; i++)
            if (dims[i] < 0)
                return host_error(a, "shape entry %d is %lld", i, (long long)dims[i]);
        O2P_TRY(check_out(a, 0, t, r, dims, &y));
    } else {
        /* the shape is computed at run time: the output's inferred shape is it */
        int64_t m;
        y = host_out(a, 0);
        O2P_TRY(host_tn_check_dims(a, y, "output 0", &m));
        O2P_TRY(check_out(a, 0, t, y->rank, y->dims, &y));
    }
    int ok;
    uint64_t bits = 0;
    memcpy(&bits, value, es); /* little-endian: the low es bytes are the element */
    emit_fill(l, e, host_numel(y, &ok), es, &bits, 1);
    return cg_emit_status(e);
}

static o2p_status lower_range(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *in[3];
    static const char *const names[3] = {"input 0 (start)", "input 1 (limit)",
                                         "input 2 (delta)"};
    int known = 1;
    for (int i = 0; i < 3; i++) {
        int64_t n;
        in[i] = host_in(a, i);
        O2P_TRY(host_tn_check_dims(a, in[i], names[i], &n));
        if (n != 1 || in[i]->rank > 1)
            return host_error(a, "%s must be a scalar", names[i]);
        if (in[i]->dtype != in[0]->dtype)
            return host_error(a, "the inputs have different element types (%s and %s)",
                              o2p_dtype_name(in[0]->dtype), o2p_dtype_name(in[i]->dtype));
        known &= is_const(in[i]);
    }
    o2p_dtype t = in[0]->dtype;
    int64_t n = 0;
    switch (t) {
    case O2P_DTYPE_INT16: case O2P_DTYPE_INT32: case O2P_DTYPE_INT64:
        if (known) {
            int64_t st = host_get_i64(in[0], 0), li = host_get_i64(in[1], 0),
                    de = host_get_i64(in[2], 0);
            if (de == 0)
                return host_error(a, "delta is 0");
            int up = de > 0;
            if (up ? li > st : li < st) {
                uint64_t dist = up ? (uint64_t)li - (uint64_t)st : (uint64_t)st - (uint64_t)li;
                uint64_t step = up ? (uint64_t)de : (uint64_t)0 - (uint64_t)de;
                uint64_t q = dist / step + (dist % step != 0);
                if (q > (uint64_t)INT64_MAX)
                    return host_error(a, "the range has more than 2^63 elements");
                n = (int64_t)q;
            }
        }
        break;
    case O2P_DTYPE_FLOAT: case O2P_DTYPE_DOUBLE:
        if (known) {
            double st = host_get_f64(in[0], 0), li = host_get_f64(in[1], 0),
                   de = host_get_f64(in[2], 0);
            if (de == 0)
                return host_error(a, "delta is 0");
            double c = __builtin_ceil((li - st) / de);
            if (!(c <= 9.0e18))
                return host_error(a, "the range from %g to %g by %g has no finite count", st,
                                  li, de);
            n = c > 0 ? (int64_t)c : 0;
        }
        break;
    default:
        return host_unsupported_dtype(a, t);
    }
    if (!known) {
        /* start, limit or delta come at run time: the inferred length is the count */
        const host_tensor *y = host_out(a, 0);
        int64_t m;
        O2P_TRY(host_tn_check_dims(a, y, "output 0", &m));
        if (y->rank != 1)
            return host_error(a, "output 0 must be 1-D, not rank %d", y->rank);
        n = m;
    }
    O2P_TRY(check_out(a, 0, t, 1, &n, NULL));
    if (n == 0)
        return O2P_OK;
    o2p_tn_range_params p;
    memset(&p, 0, sizeof p);
    p.n = n;
    p.dtype = (int32_t)t;
    if (known) {
        /* the values are here: the kernel needs no device copy of the constants */
        size_t es = o2p_dtype_size(t);
        p.known = 1;
        memcpy(&p.start_bits, in[0]->data, es);
        memcpy(&p.delta_bits, in[2]->data, es);
    }
    cg_launch *ln;
    if (t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_DOUBLE) {
        /* a running sum: one thread, as the host kernel adds */
        const uint32_t one[3] = {1, 1, 1};
        ln = cg_emit_kernel(e, FAMILY, "o2p_tensor_range", one, one, 0, &p, sizeof p);
    } else {
        ln = launch_1d(e, "o2p_tensor_range", (uint64_t)n, &p, sizeof p);
    }
    if (!known) {
        PTR(e, ln, o2p_tn_range_params, start_ptr, in_id(l, 0), 0);
        PTR(e, ln, o2p_tn_range_params, delta_ptr, in_id(l, 2), 0);
    }
    PTR(e, ln, o2p_tn_range_params, y_ptr, out_id(l, 0), 0);
    return cg_emit_status(e);
}

static o2p_status lower_eye_like(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x = host_in(a, 0);
    int64_t n;
    size_t es;
    O2P_TRY(host_tn_check_dims(a, x, "input 0", &n));
    if (x->rank != 2)
        return host_error(a, "the input must be 2-D, not rank %d", x->rank);
    int64_t dt = host_attr_int(a, "dtype", 0);
    o2p_dtype t = dt != 0 ? (o2p_dtype)dt : x->dtype;
    if (dt < 0 || dt > O2P_DTYPE_BFLOAT16)
        return host_error(a, "attribute 'dtype' (%lld) is not an element type", (long long)dt);
    if (t == O2P_DTYPE_STRING || t == O2P_DTYPE_COMPLEX64 || t == O2P_DTYPE_COMPLEX128 ||
        o2p_dtype_size(t) == 0)
        return host_unsupported_dtype(a, t);
    O2P_TRY(word_size(a, t, &es));
    O2P_TRY(check_out(a, 0, t, 2, x->dims, NULL));
    if (n == 0)
        return O2P_OK;
    o2p_tn_eye_params p;
    memset(&p, 0, sizeof p);
    p.n = n;
    p.cols = x->dims[1];
    p.k = host_attr_int(a, "k", 0);
    p.dtype = (int32_t)t;
    cg_launch *ln = launch_1d(e, "o2p_tensor_eye_like", (uint64_t)n, &p, sizeof p);
    PTR(e, ln, o2p_tn_eye_params, y_ptr, out_id(l, 0), 0);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- Transpose, Concat, Split */

static o2p_status lower_transpose(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x;
    int64_t n, perm[HOST_MAX_RANK], dims[HOST_MAX_RANK], in_strides[HOST_MAX_RANK],
        strides[HOST_MAX_RANK], out_strides[HOST_MAX_RANK];
    size_t es;
    int seen[HOST_MAX_RANK] = {0}, c;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    const int64_t *pa = host_attr_ints(a, "perm", &c);
    if (pa) {
        if (c != x->rank)
            return host_error(a, "attribute 'perm' has %d entries for rank %d", c, x->rank);
        for (int i = 0; i < c; i++)
            perm[i] = pa[i];
    } else {
        for (int i = 0; i < x->rank; i++)
            perm[i] = x->rank - 1 - i;
    }
    for (int i = 0; i < x->rank; i++) {
        if (perm[i] < 0 || perm[i] >= x->rank || seen[perm[i]])
            return host_error(a, "attribute 'perm' is not a permutation of 0..%d", x->rank - 1);
        seen[perm[i]] = 1;
    }
    host_tn_strides(x->rank, x->dims, in_strides);
    for (int i = 0; i < x->rank; i++) {
        dims[i] = x->dims[perm[i]];
        strides[i] = in_strides[perm[i]];
    }
    O2P_TRY(check_out(a, 0, x->dtype, x->rank, dims, NULL));
    host_tn_strides(x->rank, dims, out_strides);
    if (n > 0)
        emit_view(e, es, x->rank, dims, in_id(l, 0), 0, strides, out_id(l, 0), 0, out_strides);
    return cg_emit_status(e);
}

static o2p_status lower_concat(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x0 = host_in(a, 0);
    int64_t n, dims[HOST_MAX_RANK], out_strides[HOST_MAX_RANK], in_strides[HOST_MAX_RANK];
    size_t es;
    int ax;
    if (a->num_inputs < 1)
        return host_error(a, "Concat needs at least one input");
    O2P_TRY(host_tn_check_dims(a, x0, "input 0", &n));
    O2P_TRY(word_size(a, x0->dtype, &es));
    const host_attr *at = host_attr_find(a, "axis");
    if (!at || at->type != O2P_ATTR_INT)
        return host_error(a, "attribute 'axis' is missing");
    if (x0->rank == 0 || !host_norm_axis(at->i, x0->rank, &ax))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)at->i,
                          x0->rank);
    memcpy(dims, x0->dims, sizeof dims);
    dims[ax] = 0;
    for (int k = 0; k < a->num_inputs; k++) {
        const host_tensor *x = host_in(a, k);
        char what[32];
        snprintf(what, sizeof what, "input %d", k);
        O2P_TRY(host_tn_check_dims(a, x, what, &n));
        if (x->dtype != x0->dtype)
            return host_error(a, "input %d is %s, input 0 %s", k, o2p_dtype_name(x->dtype),
                              o2p_dtype_name(x0->dtype));
        if (x->rank != x0->rank)
            return host_error(a, "input %d has rank %d, input 0 rank %d", k, x->rank,
                              x0->rank);
        for (int i = 0; i < x->rank; i++)
            if (i != ax && x->dims[i] != x0->dims[i])
                return host_error(a, "input %d has size %lld on axis %d where input 0 has %lld",
                                  k, (long long)x->dims[i], i, (long long)x0->dims[i]);
        if (__builtin_add_overflow(dims[ax], x->dims[ax], &dims[ax]))
            return host_error(a, "the output has more than 2^63 elements on axis %d", ax);
    }
    O2P_TRY(check_out(a, 0, x0->dtype, x0->rank, dims, NULL));
    host_tn_strides(x0->rank, dims, out_strides);
    int64_t at_axis = 0;
    for (int k = 0; k < a->num_inputs; k++) {
        const host_tensor *x = host_in(a, k);
        host_tn_strides(x->rank, x->dims, in_strides);
        emit_view(e, es, x->rank, x->dims, in_id(l, k), 0, in_strides, out_id(l, 0),
                  (uint64_t)(at_axis * out_strides[ax]) * es, out_strides);
        at_axis += x->dims[ax];
    }
    return cg_emit_status(e);
}

static o2p_status lower_split(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x;
    int64_t n, sizes[HOST_MAX_RANK * 64];
    size_t es;
    int ax, nout = a->num_outputs;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    if (nout < 1)
        return host_error(a, "Split needs at least one output");
    if (nout > (int)(sizeof sizes / sizeof sizes[0]))
        return tn_unsupported(a, "%d outputs (at most %d)", nout,
                              (int)(sizeof sizes / sizeof sizes[0]));
    int64_t axis = host_attr_int(a, "axis", 0);
    if (x->rank == 0 || !host_norm_axis(axis, x->rank, &ax))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    int64_t dim = x->dims[ax];
    const host_tensor *sp = a->opset >= 13 ? host_in(a, 1) : NULL;
    int c = 0;
    const int64_t *attr = a->opset < 13 ? host_attr_ints(a, "split", &c) : NULL;
    int64_t num_outputs = a->opset >= 18 ? host_attr_int(a, "num_outputs", 0) : 0;
    if (sp && !is_const(sp)) {
        /* the sizes come at run time: the outputs' inferred shapes give them */
        for (int i = 0; i < nout; i++) {
            int64_t m;
            const host_tensor *y = host_out(a, i);
            if (!y)
                return tn_unsupported(a, "input 1 (split) is computed at run time and output "
                                         "%d is omitted: its size is not known at build", i);
            O2P_TRY(host_tn_check_dims(a, y, "an output", &m));
            if (y->rank != x->rank)
                return host_error(a, "output %d has rank %d, the input %d", i, y->rank,
                                  x->rank);
            sizes[i] = y->dims[ax];
        }
    } else if (sp) {
        int64_t m;
        O2P_TRY(host_tn_check(a, sp, "input 1 (split)", &m));
        if (!host_tn_is_index_type(sp->dtype) || sp->rank > 1 || m != nout)
            return host_error(a, "input 1 (split) must be a 1-D int64 tensor of %d entries",
                              nout);
        for (int i = 0; i < nout; i++)
            sizes[i] = host_get_i64(sp, i);
    } else if (attr) {
        if (c != nout)
            return host_error(a, "attribute 'split' has %d entries for %d outputs", c, nout);
        for (int i = 0; i < nout; i++)
            sizes[i] = attr[i];
    } else if (num_outputs > 0) {
        if (num_outputs != nout)
            return host_error(a, "num_outputs is %lld but the node has %d outputs",
                              (long long)num_outputs, nout);
        int64_t chunk = dim / nout + (dim % nout != 0);
        if (chunk * (nout - 1) > dim)
            return host_error(a, "axis %d (size %lld) cannot be split into %d chunks of %lld "
                                 "with only the last one smaller", ax, (long long)dim, nout,
                              (long long)chunk);
        for (int i = 0; i < nout; i++)
            sizes[i] = i < nout - 1 ? chunk : dim - chunk * (nout - 1);
    } else {
        if (dim % nout != 0)
            return host_error(a, "axis %d (size %lld) does not split into %d equal parts", ax,
                              (long long)dim, nout);
        for (int i = 0; i < nout; i++)
            sizes[i] = dim / nout;
    }
    int64_t sum = 0;
    for (int i = 0; i < nout; i++) {
        if (sizes[i] < 0)
            return host_error(a, "split size %lld (output %d) is negative", (long long)sizes[i],
                              i);
        if (__builtin_add_overflow(sum, sizes[i], &sum))
            return host_error(a, "the split sizes overflow");
    }
    if (sum != dim)
        return host_error(a, "the split sizes add up to %lld but axis %d has size %lld",
                          (long long)sum, ax, (long long)dim);
    int64_t in_strides[HOST_MAX_RANK], out_strides[HOST_MAX_RANK], dims[HOST_MAX_RANK];
    for (int i = 0; i < nout; i++) {
        if (!host_out(a, i))
            continue;
        memcpy(dims, x->dims, sizeof dims);
        dims[ax] = sizes[i];
        O2P_TRY(check_out(a, i, x->dtype, x->rank, dims, NULL));
    }
    host_tn_strides(x->rank, x->dims, in_strides);
    int64_t off = 0;
    for (int i = 0; i < nout; i++) {
        memcpy(dims, x->dims, sizeof dims);
        dims[ax] = sizes[i];
        if (host_out(a, i) && n > 0) {
            host_tn_strides(x->rank, dims, out_strides);
            emit_view(e, es, x->rank, dims, in_id(l, 0), (uint64_t)(off * in_strides[ax]) * es,
                      in_strides, out_id(l, i), 0, out_strides);
        }
        off += sizes[i];
    }
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- Slice */

static o2p_status slice_params(const host_kernel_args *a, int64_t *starts, int64_t *ends,
                               int64_t *axes, int64_t *steps, int *count)
{
    int ns, ne, na = -1, nst = -1;
    if (a->opset < 10) {
        const int64_t *s = host_attr_ints(a, "starts", &ns), *en = host_attr_ints(a, "ends", &ne);
        const int64_t *ax = host_attr_ints(a, "axes", &na);
        if (!s || !en)
            return host_error(a, "attributes 'starts' and 'ends' are required");
        if (ns > HOST_MAX_RANK || ne > HOST_MAX_RANK || na > HOST_MAX_RANK)
            return host_error(a, "more than %d axes are sliced", HOST_MAX_RANK);
        memcpy(starts, s, (size_t)ns * sizeof *s);
        memcpy(ends, en, (size_t)ne * sizeof *en);
        if (ax)
            memcpy(axes, ax, (size_t)na * sizeof *ax);
        else
            na = -1;
    } else {
        static const char *const what[5] = {"", "input 1 (starts)", "input 2 (ends)",
                                            "input 3 (axes)", "input 4 (steps)"};
        for (int i = 1; i <= 4; i++)
            O2P_TRY(need_const(a, i, what[i]));
        O2P_TRY(host_tn_read_ints(a, host_in(a, 1), what[1], starts, HOST_MAX_RANK, &ns));
        O2P_TRY(host_tn_read_ints(a, host_in(a, 2), what[2], ends, HOST_MAX_RANK, &ne));
        if (host_in(a, 3))
            O2P_TRY(host_tn_read_ints(a, host_in(a, 3), what[3], axes, HOST_MAX_RANK, &na));
        if (host_in(a, 4))
            O2P_TRY(host_tn_read_ints(a, host_in(a, 4), what[4], steps, HOST_MAX_RANK, &nst));
    }
    if (ne != ns || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return host_error(a, "starts, ends, axes and steps have different lengths");
    if (na < 0)
        for (int i = 0; i < ns; i++)
            axes[i] = i;
    if (nst < 0)
        for (int i = 0; i < ns; i++)
            steps[i] = 1;
    *count = ns;
    return O2P_OK;
}

static o2p_status lower_slice(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x;
    int64_t n, starts[HOST_MAX_RANK], ends[HOST_MAX_RANK], axes[HOST_MAX_RANK],
        steps[HOST_MAX_RANK];
    int64_t first[HOST_MAX_RANK], step_of[HOST_MAX_RANK], dims[HOST_MAX_RANK],
        strides[HOST_MAX_RANK], in_strides[HOST_MAX_RANK], out_strides[HOST_MAX_RANK];
    size_t es;
    int c = 0, seen[HOST_MAX_RANK] = {0};
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    O2P_TRY(slice_params(a, starts, ends, axes, steps, &c));
    for (int i = 0; i < x->rank; i++) {
        first[i] = 0;
        step_of[i] = 1;
        dims[i] = x->dims[i];
    }
    for (int k = 0; k < c; k++) {
        int ax;
        if (x->rank == 0 || !host_norm_axis(axes[k], x->rank, &ax))
            return host_error(a, "axis %lld is out of range for rank %d", (long long)axes[k],
                              x->rank);
        if (seen[ax])
            return host_error(a, "axis %d is sliced twice", ax);
        seen[ax] = 1;
        int64_t d = x->dims[ax], s = starts[k], en = ends[k], st = steps[k], len;
        if (st == 0)
            return host_error(a, "step of axis %d is 0", ax);
        s = s < 0 ? (s < -d ? -d : s) + d : s;
        en = en < 0 ? (en < -d ? -d - 1 : en) + d : en;
        if (st > 0) {
            s = s > d ? d : s;
            en = en < 0 ? 0 : en > d ? d : en;
            len = en > s ? (en - s - 1) / st + 1 : 0;
        } else {
            s = s > d - 1 ? d - 1 : s;
            en = en < -1 ? -1 : en > d - 1 ? d - 1 : en;
            len = s > en ? (st == INT64_MIN ? 1 : (s - en - 1) / -st + 1) : 0;
        }
        first[ax] = s;
        step_of[ax] = st;
        dims[ax] = len;
    }
    O2P_TRY(check_out(a, 0, x->dtype, x->rank, dims, NULL));
    if (prod(dims, 0, x->rank) == 0)
        return O2P_OK;
    host_tn_strides(x->rank, x->dims, in_strides);
    host_tn_strides(x->rank, dims, out_strides);
    int64_t base = 0;
    for (int i = 0; i < x->rank; i++) {
        base += first[i] * in_strides[i];
        strides[i] = dims[i] > 1 ? step_of[i] * in_strides[i] : 0;
    }
    emit_view(e, es, x->rank, dims, in_id(l, 0), (uint64_t)base * es, strides, out_id(l, 0), 0,
              out_strides);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- Expand, Tile, Pad */

static o2p_status lower_expand(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x, *s = host_in(a, 1);
    int64_t n, shape[HOST_MAX_RANK], dims[HOST_MAX_RANK], in_strides[HOST_MAX_RANK],
        strides[HOST_MAX_RANK], out_strides[HOST_MAX_RANK];
    size_t es;
    int c;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    if (is_const(s)) {
        O2P_TRY(host_tn_read_ints(a, s, "input 1 (shape)", shape, HOST_MAX_RANK, &c));
    } else {
        /* the shape comes at run time: the output's inferred shape broadcasts like it */
        const host_tensor *y = host_out(a, 0);
        int64_t m;
        O2P_TRY(host_tn_check_dims(a, y, "output 0", &m));
        c = y->rank;
        memcpy(shape, y->dims, sizeof shape);
    }
    int r = c > x->rank ? c : x->rank;
    host_tn_strides(x->rank, x->dims, in_strides);
    for (int i = 0; i < r; i++) {
        int j = i - (r - x->rank), k = i - (r - c);
        int64_t xd = j >= 0 ? x->dims[j] : 1, sd = k >= 0 ? shape[k] : 1;
        if (sd < 0)
            return host_error(a, "shape entry %d is %lld", k, (long long)sd);
        if (xd != sd && xd != 1 && sd != 1)
            return host_error(a, "input dim %lld (axis %d) does not broadcast to %lld",
                              (long long)xd, j, (long long)sd);
        dims[i] = xd == 1 ? sd : xd;
        strides[i] = j >= 0 && xd == dims[i] ? in_strides[j] : 0;
    }
    O2P_TRY(check_out(a, 0, x->dtype, r, dims, NULL));
    host_tn_strides(r, dims, out_strides);
    emit_view(e, es, r, dims, in_id(l, 0), 0, strides, out_id(l, 0), 0, out_strides);
    return cg_emit_status(e);
}

/* The pad kernel over output 0 (dims, rank r) from input 0. */
static void emit_pad(const cg_layer *l, cg_emit *e, size_t es, int r, const int64_t *out_dims,
                     const int64_t *in_dims, const int64_t *begin, int mode, uint64_t value)
{
    o2p_tn_pad_params p;
    memset(&p, 0, sizeof p);
    int64_t n = prod(out_dims, 0, r);
    if (n == 0)
        return;
    p.n = n;
    p.value = value;
    p.rank = r;
    p.mode = mode;
    host_tn_strides(r, in_dims, p.in_strides);
    for (int i = 0; i < r; i++) {
        p.out_dims[i] = out_dims[i];
        p.in_dims[i] = in_dims[i];
        p.begin[i] = begin[i];
    }
    cg_launch *ln = launch_1d(e, pad_fn[size_slot(es)], (uint64_t)n, &p, sizeof p);
    PTR(e, ln, o2p_tn_pad_params, x_ptr, in_id(l, 0), 0);
    PTR(e, ln, o2p_tn_pad_params, y_ptr, out_id(l, 0), 0);
}

static o2p_status lower_tile(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x, *rp = host_in(a, 1);
    int64_t n, reps[HOST_MAX_RANK], dims[HOST_MAX_RANK], begin[HOST_MAX_RANK] = {0};
    size_t es;
    int c;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    if (is_const(rp)) {
        O2P_TRY(host_tn_read_ints(a, rp, "input 1 (repeats)", reps, HOST_MAX_RANK, &c));
        if (c != x->rank)
            return host_error(a, "repeats has %d entries for rank %d", c, x->rank);
        for (int i = 0; i < c; i++) {
            if (reps[i] < 0)
                return host_error(a, "repeats entry %d is %lld", i, (long long)reps[i]);
            if (!o2p_mul_i64(x->dims[i], reps[i], &dims[i]))
                return host_error(a, "axis %d would have more than 2^63 elements", i);
        }
        O2P_TRY(check_out(a, 0, x->dtype, x->rank, dims, NULL));
    } else {
        /* the repeats come at run time: the output's inferred shape is a whole multiple */
        const host_tensor *y = host_out(a, 0);
        int64_t m;
        O2P_TRY(host_tn_check_dims(a, y, "output 0", &m));
        O2P_TRY(check_out(a, 0, x->dtype, x->rank, y->dims, NULL));
        for (int i = 0; i < x->rank; i++) {
            if (x->dims[i] == 0 ? y->dims[i] != 0 : y->dims[i] % x->dims[i] != 0)
                return host_error(a, "output 0 has size %lld on axis %d, not a multiple of the "
                                     "input's %lld", (long long)y->dims[i], i,
                                  (long long)x->dims[i]);
            dims[i] = y->dims[i];
        }
    }
    if (x->rank == 0) {
        if (n > 0)
            cg_emit_copy(e, out_id(l, 0), 0, in_id(l, 0), 0, es);
        return cg_emit_status(e);
    }
    /* output coordinate c reads input coordinate c mod dim: wrap padding from 0 */
    emit_pad(l, e, es, x->rank, dims, x->dims, begin, O2P_TN_PAD_WRAP, 0);
    return cg_emit_status(e);
}

static o2p_status pad_params(const host_kernel_args *a, int rank, int64_t *begin, int64_t *end,
                             unsigned char *value, size_t es, o2p_dtype t)
{
    int64_t pads[2 * HOST_MAX_RANK], axes[HOST_MAX_RANK];
    int np, na;
    for (int i = 0; i < rank; i++)
        begin[i] = end[i] = 0;
    memset(value, 0, 16);
    if (a->opset < 11) {
        const int64_t *p = host_attr_ints(a, "pads", &np);
        if (!p)
            return host_error(a, "attribute 'pads' is missing");
        if (np != 2 * rank)
            return host_error(a, "attribute 'pads' has %d entries for rank %d", np, rank);
        memcpy(pads, p, (size_t)np * sizeof *p);
        host_tensor v = {.dtype = t, .rank = 0, .data = value};
        host_set_f64(&v, 0, host_attr_float(a, "value", 0.0f));
        for (int i = 0; i < rank; i++)
            axes[i] = i;
        na = rank;
    } else {
        O2P_TRY(need_const(a, 1, "input 1 (pads)"));
        O2P_TRY(need_const(a, 2, "input 2 (constant_value)"));
        if (a->opset >= 18)
            O2P_TRY(need_const(a, 3, "input 3 (axes)"));
        O2P_TRY(host_tn_read_ints(a, host_in(a, 1), "input 1 (pads)", pads, 2 * HOST_MAX_RANK,
                                  &np));
        const host_tensor *cv = host_in(a, 2);
        if (cv) {
            int64_t n;
            O2P_TRY(host_tn_check(a, cv, "input 2 (constant_value)", &n));
            if (cv->dtype != t || n != 1 || cv->rank > 1)
                return host_error(a, "input 2 (constant_value) must be one %s value",
                                  o2p_dtype_name(t));
            memcpy(value, cv->data, es);
        }
        if (host_in(a, 3) && a->opset >= 18) {
            O2P_TRY(host_tn_read_ints(a, host_in(a, 3), "input 3 (axes)", axes, HOST_MAX_RANK,
                                      &na));
        } else {
            for (int i = 0; i < rank; i++)
                axes[i] = i;
            na = rank;
        }
        if (np != 2 * na)
            return host_error(a, "pads has %d entries for %d axes", np, na);
    }
    int seen[HOST_MAX_RANK] = {0};
    for (int k = 0; k < na; k++) {
        int ax;
        if (rank == 0 || !host_norm_axis(axes[k], rank, &ax))
            return host_error(a, "axis %lld is out of range for rank %d", (long long)axes[k],
                              rank);
        if (seen[ax])
            return host_error(a, "axis %d appears twice", ax);
        seen[ax] = 1;
        begin[ax] = pads[k];
        end[ax] = pads[na + k];
    }
    return O2P_OK;
}

static o2p_status lower_pad(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x;
    int64_t n, begin[HOST_MAX_RANK], end[HOST_MAX_RANK], dims[HOST_MAX_RANK];
    size_t es;
    unsigned char value[16];
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    const char *ms = host_attr_string(a, "mode", "constant");
    int mode;
    if (strcmp(ms, "constant") == 0)
        mode = O2P_TN_PAD_CONSTANT;
    else if (strcmp(ms, "reflect") == 0)
        mode = O2P_TN_PAD_REFLECT;
    else if (strcmp(ms, "edge") == 0)
        mode = O2P_TN_PAD_EDGE;
    else if (strcmp(ms, "wrap") == 0)
        mode = O2P_TN_PAD_WRAP;
    else
        return host_error(a, "mode '%s' is not constant, reflect, edge or wrap", ms);
    O2P_TRY(pad_params(a, x->rank, begin, end, value, es, x->dtype));
    int r = x->rank;
    for (int i = 0; i < r; i++) {
        int64_t d = x->dims[i];
        if (__builtin_add_overflow(d, begin[i], &dims[i]) ||
            __builtin_add_overflow(dims[i], end[i], &dims[i]) || dims[i] < 0)
            return host_error(a, "axis %d of size %lld padded by %lld and %lld has no valid "
                                 "size", i, (long long)d, (long long)begin[i],
                              (long long)end[i]);
        if (mode != O2P_TN_PAD_CONSTANT && d == 0 && dims[i] > 0)
            return host_error(a, "axis %d is empty: nothing to pad it with in mode '%s'", i,
                              ms);
    }
    O2P_TRY(check_out(a, 0, x->dtype, r, dims, NULL));
    if (r == 0) {
        if (n > 0)
            cg_emit_copy(e, out_id(l, 0), 0, in_id(l, 0), 0, es);
        return cg_emit_status(e);
    }
    uint64_t bits = 0;
    memcpy(&bits, value, es);
    emit_pad(l, e, es, r, dims, x->dims, begin, mode, bits);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- Trilu */

static o2p_status lower_trilu(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x;
    int64_t n, k = 0;
    size_t es;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    if (x->rank < 2)
        return host_error(a, "the input must have rank 2 or more, not %d", x->rank);
    const host_tensor *kt = host_in(a, 1);
    int k_known = !kt || is_const(kt);
    if (kt && k_known) {
        O2P_TRY(host_tn_read_scalar_int(a, kt, "input 1 (k)", &k));
    } else if (kt) {
        /* k comes at run time: the kernel reads and clamps it */
        int64_t nk;
        O2P_TRY(host_tn_check_dims(a, kt, "input 1 (k)", &nk));
        if (!host_tn_is_index_type(kt->dtype))
            return host_error(a, "input 1 (k) must be int64 (or int32), not %s",
                              o2p_dtype_name(kt->dtype));
        if (kt->rank > 1 || nk != 1)
            return host_error(a, "input 1 (k) must hold a single value (it has %lld, rank %d)",
                              (long long)nk, kt->rank);
    }
    int upper = host_attr_int(a, "upper", 1) != 0;
    O2P_TRY(check_out(a, 0, x->dtype, x->rank, x->dims, NULL));
    if (n == 0)
        return O2P_OK;
    int64_t rows = x->dims[x->rank - 2], cols = x->dims[x->rank - 1];
    o2p_tn_trilu_params p;
    memset(&p, 0, sizeof p);
    p.n = n;
    p.rows = rows;
    p.cols = cols;
    /* beyond these bounds k has the effect of the bound; keeps r + k from overflowing */
    p.k = k < -rows ? -rows : k > cols ? cols : k;
    p.upper = upper;
    p.esize = (int32_t)es;
    p.k_i64 = kt && kt->dtype == O2P_DTYPE_INT64;
    cg_launch *ln = launch_1d(e, "o2p_tensor_trilu", (uint64_t)n, &p, sizeof p);
    PTR(e, ln, o2p_tn_trilu_params, x_ptr, in_id(l, 0), 0);
    if (!k_known)
        PTR(e, ln, o2p_tn_trilu_params, k_ptr, in_id(l, 1), 0);
    PTR(e, ln, o2p_tn_trilu_params, y_ptr, out_id(l, 0), 0);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- Gather */

/* Checks every index of a constant indices tensor against an axis of size d, as the host
 * kernel does before it moves anything; run-time indices are guarded in the kernel. */
static o2p_status check_indices(const host_kernel_args *a, const host_tensor *ind, int64_t ni,
                                int64_t d, int axis)
{
    if (!is_const(ind))
        return O2P_OK;
    for (int64_t j = 0; j < ni; j++) {
        int64_t v = host_get_i64(ind, j), w;
        if (!host_tn_wrap_index(v, d, &w))
            return index_error(a, v, d, axis);
    }
    return O2P_OK;
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return a < b ? -1 : a > b;
}

/* Whether the n target offsets are pairwise distinct (sorts them); 0 when out of memory. */
static int distinct(int64_t *offs, int64_t n)
{
    qsort(offs, (size_t)n, sizeof *offs, cmp_i64);
    for (int64_t i = 1; i < n; i++)
        if (offs[i] == offs[i - 1])
            return 0;
    return 1;
}

static o2p_status lower_gather(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x, *ind;
    int64_t n, ni, dims[HOST_MAX_RANK];
    size_t es;
    int ax;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    O2P_TRY(indices_in(a, 1, &ind, &ni));
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
    O2P_TRY(check_out(a, 0, x->dtype, r, dims, NULL));
    int64_t d = x->dims[ax];
    O2P_TRY(check_indices(a, ind, ni, d, ax));
    int64_t m = prod(dims, 0, r);
    if (m == 0)
        return O2P_OK;
    o2p_tn_gather_params p;
    memset(&p, 0, sizeof p);
    p.n = m;
    p.d = d;
    p.inner = prod(x->dims, ax + 1, x->rank);
    p.ni = ni;
    p.ind_i64 = ind->dtype == O2P_DTYPE_INT64;
    cg_launch *ln = launch_1d(e, gather_fn[size_slot(es)], (uint64_t)m, &p, sizeof p);
    PTR(e, ln, o2p_tn_gather_params, x_ptr, in_id(l, 0), 0);
    PTR(e, ln, o2p_tn_gather_params, ind_ptr, in_id(l, 1), 0);
    PTR(e, ln, o2p_tn_gather_params, y_ptr, out_id(l, 0), 0);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- GatherElements,
 * ScatterElements */

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

static void elements_fill(o2p_tn_elements_params *p, const host_tensor *x,
                          const host_tensor *ind, int ax, int64_t ni, size_t es)
{
    int64_t st[HOST_MAX_RANK];
    memset(p, 0, sizeof *p);
    host_tn_strides(x->rank, x->dims, st);
    p->n = ni;
    p->d = x->dims[ax];
    p->axis_stride = st[ax];
    p->ind_axis_dim = ind->dims[ax];
    p->ind_inner = prod(ind->dims, ax + 1, ind->rank);
    p->lines = ind->dims[ax] ? ni / ind->dims[ax] : 0;
    st[ax] = 0;
    set_shape(&p->ind, ind->rank, ind->dims, st);
    p->ind_i64 = ind->dtype == O2P_DTYPE_INT64;
    p->esize = (int32_t)es;
    p->dtype = (int32_t)x->dtype;
}

static o2p_status lower_gather_elements(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x, *ind;
    int64_t n, ni;
    size_t es;
    int ax;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    O2P_TRY(indices_in(a, 1, &ind, &ni));
    O2P_TRY(elements_shapes(a, x, ind, &ax));
    O2P_TRY(check_out(a, 0, x->dtype, ind->rank, ind->dims, NULL));
    O2P_TRY(check_indices(a, ind, ni, x->dims[ax], ax));
    if (ni == 0)
        return O2P_OK;
    o2p_tn_elements_params p;
    elements_fill(&p, x, ind, ax, ni, es);
    cg_launch *ln = launch_1d(e, "o2p_tensor_gather_elements", (uint64_t)ni, &p, sizeof p);
    PTR(e, ln, o2p_tn_elements_params, x_ptr, in_id(l, 0), 0);
    PTR(e, ln, o2p_tn_elements_params, ind_ptr, in_id(l, 1), 0);
    PTR(e, ln, o2p_tn_elements_params, y_ptr, out_id(l, 0), 0);
    return cg_emit_status(e);
}

static o2p_status read_reduction(const host_kernel_args *a, int *r)
{
    const char *s = host_attr_string(a, "reduction", "none");
    if (strcmp(s, "none") == 0)
        *r = O2P_TN_RED_NONE;
    else if (strcmp(s, "add") == 0)
        *r = O2P_TN_RED_ADD;
    else if (strcmp(s, "mul") == 0)
        *r = O2P_TN_RED_MUL;
    else if (strcmp(s, "max") == 0)
        *r = O2P_TN_RED_MAX;
    else if (strcmp(s, "min") == 0)
        *r = O2P_TN_RED_MIN;
    else
        return host_error(a, "reduction '%s' is not none, add, mul, max or min", s);
    return O2P_OK;
}

/* Whether the reductions combine elements of type t (and the device helpers know it). */
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

static o2p_status lower_scatter_elements(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x, *ind, *upd = host_in(a, 2);
    int64_t n, ni, nu;
    size_t es;
    int ax, red = O2P_TN_RED_NONE;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    O2P_TRY(indices_in(a, 1, &ind, &ni));
    O2P_TRY(host_tn_check_dims(a, upd, "input 2 (updates)", &nu));
    if (strcmp(a->op_type ? a->op_type : "", "Scatter") != 0)
        O2P_TRY(read_reduction(a, &red));
    O2P_TRY(elements_shapes(a, x, ind, &ax));
    if (upd->dtype != x->dtype)
        return host_error(a, "the updates are %s, the data %s", o2p_dtype_name(upd->dtype),
                          o2p_dtype_name(x->dtype));
    if (!host_same_shape(upd, ind->rank, ind->dims))
        return host_error(a, "the updates and the indices have different shapes");
    if (red != O2P_TN_RED_NONE && !reduction_supports(x->dtype))
        return host_unsupported_dtype(a, x->dtype);
    O2P_TRY(check_out(a, 0, x->dtype, x->rank, x->dims, NULL));
    O2P_TRY(check_indices(a, ind, ni, x->dims[ax], ax));
    if (n > 0)
        cg_emit_copy(e, out_id(l, 0), 0, in_id(l, 0), 0, (uint64_t)n * es);
    if (ni == 0 || n == 0)
        return cg_emit_status(e);
    o2p_tn_elements_params p;
    elements_fill(&p, x, ind, ax, ni, es);
    p.reduction = red;
    /* a thread per update where no two can meet (indices known to be distinct) or where
     * ONNX leaves the winner among run-time duplicates open (no reduction); otherwise a
     * thread per line that applies its updates in the host kernel's order */
    p.per_update = red == O2P_TN_RED_NONE && !is_const(ind);
    if (is_const(ind)) {
        int64_t *offs = malloc((size_t)ni * sizeof *offs), coord[HOST_MAX_RANK] = {0};
        int64_t st[HOST_MAX_RANK];
        if (offs) {
            host_tn_strides(x->rank, x->dims, st);
            for (int64_t j = 0; j < ni; j++) {
                int64_t w = 0, at = 0;
                host_tn_wrap_index(host_get_i64(ind, j), x->dims[ax], &w);
                for (int k = 0; k < x->rank; k++)
                    at += (k == ax ? w : coord[k]) * st[k];
                offs[j] = at;
                for (int k = ind->rank - 1; k >= 0 && ++coord[k] == ind->dims[k]; k--)
                    coord[k] = 0;
            }
            p.per_update = distinct(offs, ni);
            free(offs);
        }
    }
    uint64_t threads = p.per_update ? (uint64_t)ni : (uint64_t)p.lines;
    cg_launch *ln = launch_1d(e, "o2p_tensor_scatter_elements", threads, &p, sizeof p);
    PTR(e, ln, o2p_tn_elements_params, ind_ptr, in_id(l, 1), 0);
    PTR(e, ln, o2p_tn_elements_params, upd_ptr, in_id(l, 2), 0);
    PTR(e, ln, o2p_tn_elements_params, y_ptr, out_id(l, 0), 0);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- GatherND, ScatterND */

/* Checks the m-entry tuples of constant indices against axes from.. of x. */
static o2p_status check_tuples(const host_kernel_args *a, const host_tensor *x,
                               const host_tensor *ind, int64_t tuples, int m, int from)
{
    if (!is_const(ind))
        return O2P_OK;
    for (int64_t t = 0; t < tuples; t++)
        for (int k = 0; k < m; k++) {
            int64_t v = host_get_i64(ind, t * m + k), w, d = x->dims[from + k];
            if (!host_tn_wrap_index(v, d, &w))
                return index_error(a, v, d, from + k);
        }
    return O2P_OK;
}

static void nd_fill(o2p_tn_nd_params *p, const host_tensor *x, const host_tensor *ind, int m,
                    int from, size_t es)
{
    int64_t st[HOST_MAX_RANK];
    memset(p, 0, sizeof *p);
    host_tn_strides(x->rank, x->dims, st);
    p->m = m;
    for (int k = 0; k < m; k++) {
        p->dims[k] = x->dims[from + k];
        p->strides[k] = st[from + k];
    }
    p->slice = prod(x->dims, from + m, x->rank);
    p->ind_i64 = ind->dtype == O2P_DTYPE_INT64;
    p->esize = (int32_t)es;
    p->dtype = (int32_t)x->dtype;
}

static o2p_status lower_gather_nd(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x, *ind;
    int64_t n, ni, dims[HOST_MAX_RANK];
    size_t es;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    O2P_TRY(indices_in(a, 1, &ind, &ni));
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
    O2P_TRY(check_out(a, 0, x->dtype, orank, dims, NULL));
    int64_t batches = prod(ind->dims, 0, (int)b), tuples = prod(ind->dims, (int)b, q - 1);
    O2P_TRY(check_tuples(a, x, ind, batches * tuples, (int)m, (int)b));
    int64_t total = prod(dims, 0, orank);
    if (total == 0)
        return O2P_OK;
    o2p_tn_nd_params p;
    nd_fill(&p, x, ind, (int)m, (int)b, es);
    p.n = total;
    p.tuples = tuples;
    p.batch_stride = prod(x->dims, (int)b, r);
    cg_launch *ln = launch_1d(e, "o2p_tensor_gather_nd", (uint64_t)total, &p, sizeof p);
    PTR(e, ln, o2p_tn_nd_params, x_ptr, in_id(l, 0), 0);
    PTR(e, ln, o2p_tn_nd_params, ind_ptr, in_id(l, 1), 0);
    PTR(e, ln, o2p_tn_nd_params, y_ptr, out_id(l, 0), 0);
    return cg_emit_status(e);
}

static o2p_status lower_scatter_nd(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x, *ind, *upd = host_in(a, 2);
    int64_t n, ni, nu, dims[HOST_MAX_RANK];
    size_t es;
    int red = O2P_TN_RED_NONE;
    O2P_TRY(data_in(a, "input 0 (data)", &x, &n, &es, 0));
    O2P_TRY(indices_in(a, 1, &ind, &ni));
    O2P_TRY(host_tn_check_dims(a, upd, "input 2 (updates)", &nu));
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
    if (red != O2P_TN_RED_NONE && !reduction_supports(x->dtype))
        return host_unsupported_dtype(a, x->dtype);
    O2P_TRY(check_out(a, 0, x->dtype, r, x->dims, NULL));
    int64_t tuples = prod(ind->dims, 0, q - 1);
    O2P_TRY(check_tuples(a, x, ind, tuples, (int)m, 0));
    if (n > 0)
        cg_emit_copy(e, out_id(l, 0), 0, in_id(l, 0), 0, (uint64_t)n * es);
    o2p_tn_nd_params p;
    nd_fill(&p, x, ind, (int)m, 0, es);
    p.tuples = tuples;
    p.reduction = red;
    /* with tuples known to be distinct, or without a reduction on run-time tuples (ONNX
     * leaves the winner among duplicates open), every update element is independent;
     * otherwise a thread owns a slice position and applies the tuples in order (duplicates
     * combine, or the last one wins, as on the host) */
    p.per_update = red == O2P_TN_RED_NONE && !is_const(ind);
    if (is_const(ind) && tuples > 0) {
        int64_t *offs = malloc((size_t)tuples * sizeof *offs);
        if (offs) {
            for (int64_t t = 0; t < tuples; t++) {
                int64_t at = 0, w = 0;
                for (int k = 0; k < (int)m; k++) {
                    host_tn_wrap_index(host_get_i64(ind, t * m + k), x->dims[k], &w);
                    at += w * p.strides[k];
                }
                offs[t] = at;
            }
            p.per_update = distinct(offs, tuples);
            free(offs);
        }
    }
    p.n = p.per_update ? tuples * p.slice : p.slice;
    if (n == 0 || tuples == 0 || p.slice == 0)
        return cg_emit_status(e);
    cg_launch *ln = launch_1d(e, "o2p_tensor_scatter_nd", (uint64_t)p.n, &p, sizeof p);
    PTR(e, ln, o2p_tn_nd_params, ind_ptr, in_id(l, 1), 0);
    PTR(e, ln, o2p_tn_nd_params, upd_ptr, in_id(l, 2), 0);
    PTR(e, ln, o2p_tn_nd_params, y_ptr, out_id(l, 0), 0);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- OneHot */

static o2p_status lower_one_hot(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *ind = host_in(a, 0), *dep = host_in(a, 1), *val = host_in(a, 2);
    int64_t ni, nd, nv, dims[HOST_MAX_RANK];
    size_t es;
    int ax;
    O2P_TRY(host_tn_check_dims(a, ind, "input 0 (indices)", &ni));
    O2P_TRY(host_tn_check_dims(a, dep, "input 1 (depth)", &nd));
    O2P_TRY(host_tn_check_dims(a, val, "input 2 (values)", &nv));
    if (o2p_dtype_size(ind->dtype) == 0 || ind->dtype == O2P_DTYPE_BOOL ||
        ind->dtype == O2P_DTYPE_COMPLEX64 || ind->dtype == O2P_DTYPE_COMPLEX128)
        return host_unsupported_dtype(a, ind->dtype);
    if (nd != 1 || dep->rank > 1 || o2p_dtype_size(dep->dtype) == 0 ||
        dep->dtype == O2P_DTYPE_COMPLEX64 || dep->dtype == O2P_DTYPE_COMPLEX128)
        return host_error(a, "input 1 (depth) must be one number");
    if (nv != 2 || val->rank != 1)
        return host_error(a, "input 2 (values) must be 1-D with 2 entries (off, on)");
    O2P_TRY(word_size(a, val->dtype, &es));
    O2P_TRY(need_const(a, 1, "input 1 (depth)"));
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
    O2P_TRY(check_out(a, 0, val->dtype, r, dims, NULL));
    int64_t total = prod(dims, 0, r);
    if (total == 0)
        return O2P_OK;
    o2p_tn_one_hot_params p;
    memset(&p, 0, sizeof p);
    p.n = total;
    p.depth = depth;
    p.inner = prod(ind->dims, ax, ind->rank);
    p.ind_dtype = (int32_t)ind->dtype;
    p.esize = (int32_t)es;
    p.negative = a->opset >= 11;
    if (is_const(val)) {
        /* off and on are here: the kernel needs no device copy of them */
        p.values_known = 1;
        memcpy(&p.off_bits, val->data, es);
        memcpy(&p.on_bits, (const unsigned char *)val->data + es, es);
    }
    cg_launch *ln = launch_1d(e, "o2p_tensor_one_hot", (uint64_t)total, &p, sizeof p);
    PTR(e, ln, o2p_tn_one_hot_params, ind_ptr, in_id(l, 0), 0);
    if (!p.values_known)
        PTR(e, ln, o2p_tn_one_hot_params, val_ptr, in_id(l, 2), 0);
    PTR(e, ln, o2p_tn_one_hot_params, y_ptr, out_id(l, 0), 0);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- NonZero */

/* A data-dependent output (cg_layer.output_shape_tensors): y comes at its bound [rank, n];
 * one block counts, scans and writes the packed [rank, nnz] indices and {rank, nnz} into the
 * output's shape tensor, which the runtime reads after the layer. */
static o2p_status lower_nonzero(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x = host_in(a, 0), *y = host_out(a, 0);
    int64_t n;
    O2P_TRY(host_tn_nonzero_check(a, 0, &n));
    int shape = l->output_shape_tensors ? l->output_shape_tensors[0] : -1;
    if (shape < 0) {
        if (n == 0 && y->dims[1] == 0)
            return O2P_OK; /* an empty input: [rank, 0], static, nothing to write */
        return tn_unsupported(a, "the number of non-zeros depends on the data, and the output "
                                 "has no shape tensor to report it in (the builder gives one "
                                 "to an output with a data-dependent dim)");
    }
    if (x->rank > O2P_CU_MAX_RANK)
        return tn_unsupported(a, "rank %d is over the kernels' %d", x->rank, O2P_CU_MAX_RANK);
    o2p_tn_nonzero_params p;
    memset(&p, 0, sizeof p);
    p.n = n;
    p.cap = y->dims[1];
    for (int d = 0; d < x->rank; d++)
        p.dims[d] = x->dims[d];
    p.rank = x->rank;
    p.dtype = (int32_t)x->dtype;
    uint32_t grid[3] = {1, 1, 1}, block[3] = {O2P_TN_NONZERO_THREADS, 1, 1};
    cg_launch *ln = cg_emit_kernel(e, FAMILY, "o2p_tensor_nonzero", grid, block, 0, &p, sizeof p);
    PTR(e, ln, o2p_tn_nonzero_params, x_ptr, in_id(l, 0), 0);
    PTR(e, ln, o2p_tn_nonzero_params, y_ptr, out_id(l, 0), 0);
    PTR(e, ln, o2p_tn_nonzero_params, shape_ptr, shape, 0);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- Compress */

static o2p_status lower_compress(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x = host_in(a, 0), *cond = host_in(a, 1);
    int64_t n, nc, dims[HOST_MAX_RANK];
    size_t es;
    O2P_TRY(host_tn_check_dims(a, x, "input 0 (input)", &n));
    O2P_TRY(word_size(a, x->dtype, &es));
    O2P_TRY(host_tn_check_dims(a, cond, "input 1 (condition)", &nc));
    if (cond->dtype != O2P_DTYPE_BOOL || cond->rank != 1)
        return host_error(a, "input 1 (condition) must be a 1-D bool tensor");
    O2P_TRY(need_const(a, 1, "input 1 (condition)"));
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
    const unsigned char *c = cond->data;
    int64_t len = nc < d ? nc : d, kept = 0;
    for (int64_t i = 0; i < len; i++)
        kept += c[i] != 0;
    dims[flat ? 0 : ax] = kept;
    O2P_TRY(check_out(a, 0, x->dtype, r, dims, NULL));
    if (inner == 0 || kept == 0 || outer == 0)
        return O2P_OK;
    /* each run of kept slices is one strided copy: [outer, run, inner] of the input into
     * the output at the run's place */
    int64_t done = 0;
    for (int64_t i = 0; i < len;) {
        if (!c[i]) {
            i++;
            continue;
        }
        int64_t j = i;
        while (j < len && c[j])
            j++;
        const int64_t vd[3] = {outer, j - i, inner};
        const int64_t ss[3] = {d * inner, inner, 1}, ds[3] = {kept * inner, inner, 1};
        emit_view(e, es, 3, vd, in_id(l, 0), (uint64_t)(i * inner) * es, ss, out_id(l, 0),
                  (uint64_t)(done * inner) * es, ds);
        done += j - i;
        i = j;
    }
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- ReverseSequence */

static o2p_status lower_reverse_sequence(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x = host_in(a, 0), *lens = host_in(a, 1);
    int64_t n, nl;
    size_t es;
    O2P_TRY(host_tn_check_dims(a, x, "input 0 (input)", &n));
    O2P_TRY(word_size(a, x->dtype, &es));
    O2P_TRY(host_tn_check_dims(a, lens, "input 1 (sequence_lens)", &nl));
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
    if (is_const(lens))
        for (int64_t b = 0; b < batch; b++) {
            int64_t len = host_get_i64(lens, b);
            if (len < 0 || len > seq)
                return host_error(a, "sequence length %lld (batch %lld) is not within 0 to "
                                     "%lld", (long long)len, (long long)b, (long long)seq);
        }
    O2P_TRY(check_out(a, 0, x->dtype, x->rank, x->dims, NULL));
    if (n == 0)
        return O2P_OK;
    o2p_tn_reverse_sequence_params p;
    memset(&p, 0, sizeof p);
    p.n = n;
    p.batch = batch;
    p.seq = seq;
    p.block = prod(x->dims, 2, x->rank);
    p.time_axis = (int32_t)time_axis;
    p.esize = (int32_t)es;
    p.lens_i64 = lens->dtype == O2P_DTYPE_INT64;
    cg_launch *ln = launch_1d(e, "o2p_tensor_reverse_sequence", (uint64_t)n, &p, sizeof p);
    PTR(e, ln, o2p_tn_reverse_sequence_params, x_ptr, in_id(l, 0), 0);
    PTR(e, ln, o2p_tn_reverse_sequence_params, lens_ptr, in_id(l, 1), 0);
    PTR(e, ln, o2p_tn_reverse_sequence_params, y_ptr, out_id(l, 0), 0);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- TopK, CumSum */

static int topk_supports(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT: case O2P_DTYPE_DOUBLE: case O2P_DTYPE_FLOAT16:
    case O2P_DTYPE_BFLOAT16:
    case O2P_DTYPE_INT8: case O2P_DTYPE_INT16: case O2P_DTYPE_INT32: case O2P_DTYPE_INT64:
    case O2P_DTYPE_UINT8: case O2P_DTYPE_UINT16: case O2P_DTYPE_UINT32: case O2P_DTYPE_UINT64:
        return 1;
    default:
        return 0;
    }
}

static o2p_status lower_topk(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x = host_in(a, 0);
    int64_t n, k = -1, dims[HOST_MAX_RANK];
    size_t es;
    int ax;
    O2P_TRY(host_tn_check_dims(a, x, "input 0 (X)", &n));
    O2P_TRY(word_size(a, x->dtype, &es));
    if (!topk_supports(x->dtype))
        return host_unsupported_dtype(a, x->dtype);
    int64_t axis = host_attr_int(a, "axis", -1);
    if (x->rank == 0 || !host_norm_axis(axis, x->rank, &ax))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    if (a->opset >= 10) {
        const host_tensor *kt = host_in(a, 1);
        if (is_const(kt)) {
            O2P_TRY(host_tn_read_scalar_int(a, kt, "input 1 (K)", &k));
        } else {
            /* K comes at run time: the outputs' inferred size on the axis is it */
            const host_tensor *y = host_out(a, 0) ? host_out(a, 0) : host_out(a, 1);
            int64_t m;
            if (!kt)
                return host_error(a, "input 1 (K) is missing");
            O2P_TRY(host_tn_check_dims(a, y, "output 0", &m));
            if (y->rank != x->rank)
                return host_error(a, "the outputs have rank %d, the input %d", y->rank,
                                  x->rank);
            k = y->dims[ax];
        }
    } else {
        const host_attr *at = host_attr_find(a, "k");
        if (!at || at->type != O2P_ATTR_INT)
            return host_error(a, "attribute 'k' is missing");
        k = at->i;
    }
    int64_t d = x->dims[ax];
    if (k < 0 || k > d)
        return host_error(a, "K = %lld is out of range for axis %d of size %lld", (long long)k,
                          ax, (long long)d);
    int largest = a->opset < 11 || host_attr_int(a, "largest", 1) != 0;
    memcpy(dims, x->dims, sizeof dims);
    dims[ax] = k;
    if (host_out(a, 0))
        O2P_TRY(check_out(a, 0, x->dtype, x->rank, dims, NULL));
    if (host_out(a, 1))
        O2P_TRY(check_out(a, 1, O2P_DTYPE_INT64, x->rank, dims, NULL));
    if (k == 0 || n == 0 || (!host_out(a, 0) && !host_out(a, 1)))
        return O2P_OK;
    o2p_tn_topk_params p;
    memset(&p, 0, sizeof p);
    p.rows = prod(x->dims, 0, ax) * prod(x->dims, ax + 1, x->rank);
    p.d = d;
    p.k = k;
    p.inner = prod(x->dims, ax + 1, x->rank);
    p.dtype = (int32_t)x->dtype;
    p.esize = (int32_t)es;
    p.largest = largest;
    p.has_values = host_out(a, 0) != NULL;
    p.has_indices = host_out(a, 1) != NULL;
    /* one block per row (the kernel loops when rows exceed the grid) */
    uint32_t grid[3] = {(uint32_t)(p.rows < 65535 * 32 ? p.rows : 65535 * 32), 1, 1};
    uint32_t block[3] = {TOPK_THREADS, 1, 1};
    cg_launch *ln = cg_emit_kernel(e, FAMILY, "o2p_tensor_topk", grid, block, 0, &p, sizeof p);
    PTR(e, ln, o2p_tn_topk_params, x_ptr, in_id(l, 0), 0);
    if (p.has_values)
        PTR(e, ln, o2p_tn_topk_params, values_ptr, out_id(l, 0), 0);
    if (p.has_indices)
        PTR(e, ln, o2p_tn_topk_params, indices_ptr, out_id(l, 1), 0);
    return cg_emit_status(e);
}

static o2p_status lower_cumsum(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x = host_in(a, 0), *at = host_in(a, 1);
    int64_t n, axis = 0;
    int ax = 0;
    O2P_TRY(host_tn_check_dims(a, x, "input 0 (x)", &n));
    int axis_known = is_const(at);
    if (axis_known) {
        O2P_TRY(host_tn_read_scalar_int(a, at, "input 1 (axis)", &axis));
    } else {
        /* the axis comes at run time: the kernel reads it and finds its line */
        int64_t na;
        O2P_TRY(host_tn_check_dims(a, at, "input 1 (axis)", &na));
        if (!host_tn_is_index_type(at->dtype))
            return host_error(a, "input 1 (axis) must be int64 (or int32), not %s",
                              o2p_dtype_name(at->dtype));
        if (at->rank > 1 || na != 1)
            return host_error(a, "input 1 (axis) must hold a single value (it has %lld, rank "
                                 "%d)", (long long)na, at->rank);
    }
    o2p_dtype t = x->dtype;
    int is_float = t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_DOUBLE || t == O2P_DTYPE_FLOAT16 ||
                   t == O2P_DTYPE_BFLOAT16;
    int is_int = t == O2P_DTYPE_INT8 || t == O2P_DTYPE_INT16 || t == O2P_DTYPE_INT32 ||
                 t == O2P_DTYPE_INT64 || t == O2P_DTYPE_UINT8 || t == O2P_DTYPE_UINT16 ||
                 t == O2P_DTYPE_UINT32 || t == O2P_DTYPE_UINT64;
    if (!is_float && !is_int)
        return host_unsupported_dtype(a, t);
    if (x->rank == 0 || (axis_known && !host_norm_axis(axis, x->rank, &ax)))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    O2P_TRY(check_out(a, 0, t, x->rank, x->dims, NULL));
    if (n == 0)
        return O2P_OK;
    o2p_tn_cumsum_params p;
    memset(&p, 0, sizeof p);
    p.n = n;
    p.rank = x->rank;
    for (int i = 0; i < x->rank; i++)
        p.dims[i] = x->dims[i];
    p.d = x->dims[ax];
    p.inner = prod(x->dims, ax + 1, x->rank);
    p.lines = prod(x->dims, 0, ax) * p.inner;
    p.axis_i64 = at->dtype == O2P_DTYPE_INT64;
    p.dtype = (int32_t)t;
    p.exclusive = host_attr_int(a, "exclusive", 0) != 0;
    p.reverse = host_attr_int(a, "reverse", 0) != 0;
    /* a run-time axis leaves the line count to the kernel: at most n */
    uint64_t threads = axis_known ? (uint64_t)p.lines : (uint64_t)n;
    cg_launch *ln = launch_1d(e, "o2p_tensor_cumsum", threads, &p, sizeof p);
    PTR(e, ln, o2p_tn_cumsum_params, x_ptr, in_id(l, 0), 0);
    PTR(e, ln, o2p_tn_cumsum_params, y_ptr, out_id(l, 0), 0);
    if (!axis_known)
        PTR(e, ln, o2p_tn_cumsum_params, axis_ptr, in_id(l, 1), 0);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- the family table */

typedef o2p_status (*tn_lower_fn)(const cg_layer *l, cg_emit *e);

/* What the candidates check cheaply (the lowering checks everything): the ops whose bytes
 * move unchanged take any element size; the others words of 1, 2, 4 or 8 bytes. */
typedef struct tn_op {
    const char *op_type;
    const char *kernel;
    tn_lower_fn lower;
    int any_size;
} tn_op;

static const tn_op tn_ops[] = {
    {"Reshape", "cuda.tensor.copy", lower_reshape, 1},
    {"Flatten", "cuda.tensor.copy", lower_flatten, 1},
    {"Squeeze", "cuda.tensor.copy", lower_squeeze, 1},
    {"Unsqueeze", "cuda.tensor.copy", lower_unsqueeze, 1},
    {"Shape", "cuda.tensor.fill", lower_shape, 1},
    {"Size", "cuda.tensor.fill", lower_size, 1},
    {"ConstantOfShape", "cuda.tensor.fill", lower_constant_of_shape, 0},
    {"Range", "cuda.tensor.range", lower_range, 0},
    {"EyeLike", "cuda.tensor.eye_like", lower_eye_like, 0},
    {"Transpose", "cuda.tensor.copy_strided", lower_transpose, 0},
    {"Concat", "cuda.tensor.copy_strided", lower_concat, 0},
    {"Split", "cuda.tensor.copy_strided", lower_split, 0},
    {"Slice", "cuda.tensor.copy_strided", lower_slice, 0},
    {"Expand", "cuda.tensor.copy_strided", lower_expand, 0},
    {"Tile", "cuda.tensor.pad", lower_tile, 0},
    {"Pad", "cuda.tensor.pad", lower_pad, 0},
    {"Trilu", "cuda.tensor.trilu", lower_trilu, 0},
    {"Gather", "cuda.tensor.gather", lower_gather, 0},
    {"GatherElements", "cuda.tensor.gather_elements", lower_gather_elements, 0},
    {"GatherND", "cuda.tensor.gather_nd", lower_gather_nd, 0},
    {"ScatterElements", "cuda.tensor.scatter_elements", lower_scatter_elements, 0},
    {"Scatter", "cuda.tensor.scatter_elements", lower_scatter_elements, 0},
    {"ScatterND", "cuda.tensor.scatter_nd", lower_scatter_nd, 0},
    {"OneHot", "cuda.tensor.one_hot", lower_one_hot, 0},
    {"Compress", "cuda.tensor.copy_strided", lower_compress, 0},
    {"NonZero", "cuda.tensor.nonzero", lower_nonzero, 0},
    {"ReverseSequence", "cuda.tensor.reverse_sequence", lower_reverse_sequence, 0},
    {"TopK", "cuda.tensor.topk", lower_topk, 0},
    {"CumSum", "cuda.tensor.cumsum", lower_cumsum, 0},
};
#define TN_OP_COUNT ((int)(sizeof tn_ops / sizeof tn_ops[0]))

static const tn_op *tn_find(const char *op_type)
{
    for (int i = 0; op_type && i < TN_OP_COUNT; i++)
        if (strcmp(tn_ops[i].op_type, op_type) == 0)
            return &tn_ops[i];
    return NULL;
}

/* Why input i of this layer must be a constant (its values decide what the kernel does and
 * no output shape stands in for them), or NULL when it need not be. */
static const char *needs_const(const host_kernel_args *a, int i)
{
    const char *op = a->op_type;
    if (strcmp(op, "Slice") == 0 && a->opset >= 10 && i >= 1 && i <= 4)
        return "Slice's starts, ends, axes and steps are computed at run time (the CUDA "
               "lowering needs them at build)";
    if (strcmp(op, "Pad") == 0 && a->opset >= 11 &&
        (i == 1 || i == 2 || (i == 3 && a->opset >= 18)))
        return "Pad's pads, constant_value or axes are computed at run time (the CUDA lowering "
               "needs them at build)";
    if (strcmp(op, "Compress") == 0 && i == 1)
        return "Compress's condition is computed at run time (the output shape depends on it)";
    if (strcmp(op, "OneHot") == 0 && i == 1)
        return "OneHot's depth is computed at run time (the output shape depends on it)";
    return NULL;
}

static int tn_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                         const char **why)
{
    const host_kernel_args *a = &l->args;
    const tn_op *op = tn_find(a->op_type);
    (void)o;
    if (!op || cap < 1) {
        if (why)
            *why = "not an op of the tensor family";
        return 0;
    }
    for (int i = 0; i < a->num_inputs; i++)
        if (needs_const(a, i) && host_in(a, i) && !is_const(host_in(a, i))) {
            if (why)
                *why = needs_const(a, i);
            return 0;
        }
    const host_tensor *x = host_in(a, 0);
    if (x && (strcmp(a->op_type, "TopK") == 0 || strcmp(a->op_type, "CumSum") == 0) &&
        !topk_supports(x->dtype)) {
        if (why)
            *why = "the element type is not a number the kernel orders or sums";
        return 0;
    }
    if (x && strcmp(a->op_type, "Range") == 0 && x->dtype != O2P_DTYPE_INT16 &&
        x->dtype != O2P_DTYPE_INT32 && x->dtype != O2P_DTYPE_INT64 &&
        x->dtype != O2P_DTYPE_FLOAT && x->dtype != O2P_DTYPE_DOUBLE) {
        if (why)
            *why = "Range takes int16, int32, int64, float or double";
        return 0;
    }
    uint64_t bytes = 0;
    for (int i = 0; i < a->num_outputs; i++) {
        const host_tensor *y = host_out(a, i);
        int ok;
        if (!y)
            continue;
        size_t es = o2p_dtype_size(y->dtype);
        if (es == 0 || (!op->any_size && es != 1 && es != 2 && es != 4 && es != 8)) {
            if (why)
                *why = "an element type that is not 1, 2, 4 or 8 bytes wide";
            return 0;
        }
        int64_t n = host_numel(y, &ok);
        bytes += (uint64_t)(ok ? n : 0) * es;
    }
    /* read once, written once */
    out[0] = cg_simple_tactic(op->kernel, strcmp(a->op_type, "TopK") == 0 ? 4096 : 0,
                              2.0 * (double)bytes / 1.5e12 + 3e-6);
    return 1;
}

static o2p_status tn_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                           cg_emit *e)
{
    const tn_op *op = tn_find(l->args.op_type);
    (void)t;
    (void)o;
    if (!op)
        return o2p_fail(O2P_ERR_INTERNAL, "layer '%s' (%s): not an op of the tensor family",
                        l->args.layer_name ? l->args.layer_name : "",
                        l->args.op_type ? l->args.op_type : "");
    O2P_TRY(cg_emit_status(e));
    return op->lower(l, e);
}

const cg_op cg_tensor_ops[] = {
    {"Reshape", tn_candidates, tn_lower},
    {"Flatten", tn_candidates, tn_lower},
    {"Squeeze", tn_candidates, tn_lower},
    {"Unsqueeze", tn_candidates, tn_lower},
    {"Shape", tn_candidates, tn_lower},
    {"Size", tn_candidates, tn_lower},
    {"ConstantOfShape", tn_candidates, tn_lower},
    {"Range", tn_candidates, tn_lower},
    {"EyeLike", tn_candidates, tn_lower},
    {"Transpose", tn_candidates, tn_lower},
    {"Concat", tn_candidates, tn_lower},
    {"Split", tn_candidates, tn_lower},
    {"Slice", tn_candidates, tn_lower},
    {"Expand", tn_candidates, tn_lower},
    {"Tile", tn_candidates, tn_lower},
    {"Pad", tn_candidates, tn_lower},
    {"Trilu", tn_candidates, tn_lower},
    {"Gather", tn_candidates, tn_lower},
    {"GatherElements", tn_candidates, tn_lower},
    {"GatherND", tn_candidates, tn_lower},
    {"ScatterElements", tn_candidates, tn_lower},
    {"Scatter", tn_candidates, tn_lower},
    {"ScatterND", tn_candidates, tn_lower},
    {"OneHot", tn_candidates, tn_lower},
    {"Compress", tn_candidates, tn_lower},
    {"NonZero", tn_candidates, tn_lower},
    {"ReverseSequence", tn_candidates, tn_lower},
    {"TopK", tn_candidates, tn_lower},
    {"CumSum", tn_candidates, tn_lower},
};
const int cg_tensor_op_count = (int)(sizeof cg_tensor_ops / sizeof cg_tensor_ops[0]);
