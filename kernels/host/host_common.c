/* host_common.c: helpers shared by the host reference kernels: attributes, shapes,
 * broadcasting and element access by type. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "host/host_kernels.h"

o2p_status host_error(const host_kernel_args *a, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return o2p_fail(O2P_ERR_SHAPE, "layer '%s' (%s): %s", a->layer_name ? a->layer_name : "",
                    a->op_type ? a->op_type : "", msg);
}

o2p_status host_unsupported_dtype(const host_kernel_args *a, o2p_dtype t)
{
    return o2p_fail(O2P_ERR_UNSUPPORTED,
                    "layer '%s' (%s): element type %s is not supported by the host kernel",
                    a->layer_name ? a->layer_name : "", a->op_type ? a->op_type : "",
                    o2p_dtype_name(t));
}

const host_attr *host_attr_find(const host_kernel_args *a, const char *name)
{
    for (int i = 0; i < a->num_attrs; i++)
        if (a->attrs[i].name && strcmp(a->attrs[i].name, name) == 0)
            return &a->attrs[i];
    return NULL;
}

int64_t host_attr_int(const host_kernel_args *a, const char *name, int64_t dflt)
{
    const host_attr *at = host_attr_find(a, name);
    return at && at->type == O2P_ATTR_INT ? at->i : dflt;
}

float host_attr_float(const host_kernel_args *a, const char *name, float dflt)
{
    const host_attr *at = host_attr_find(a, name);
    if (at && at->type == O2P_ATTR_FLOAT)
        return at->f;
    if (at && at->type == O2P_ATTR_INT)
        return (float)at->i;
    return dflt;
}

const char *host_attr_string(const host_kernel_args *a, const char *name, const char *dflt)
{
    const host_attr *at = host_attr_find(a, name);
    return at && at->type == O2P_ATTR_STRING && at->s ? at->s : dflt;
}

const int64_t *host_attr_ints(const host_kernel_args *a, const char *name, int *count)
{
    const host_attr *at = host_attr_find(a, name);
    if (at && at->type == O2P_ATTR_INTS) {
        *count = at->count;
        return at->ints;
    }
    *count = 0;
    return NULL;
}

const float *host_attr_floats(const host_kernel_args *a, const char *name, int *count)
{
    const host_attr *at = host_attr_find(a, name);
    if (at && at->type == O2P_ATTR_FLOATS) {
        *count = at->count;
        return at->floats;
    }
    *count = 0;
    return NULL;
}

const host_tensor *host_in(const host_kernel_args *a, int i)
{
    return i >= 0 && i < a->num_inputs ? a->inputs[i] : NULL;
}

host_tensor *host_out(const host_kernel_args *a, int i)
{
    return i >= 0 && i < a->num_outputs ? a->outputs[i] : NULL;
}

int64_t host_numel(const host_tensor *t, int *ok)
{
    int64_t n = 1;
    *ok = 0;
    if (!t || t->rank < 0 || t->rank > HOST_MAX_RANK)
        return 0;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0 || !o2p_mul_i64(n, t->dims[i], &n))
            return 0;
    }
    *ok = 1;
    return n;
}

int host_same_shape(const host_tensor *t, int rank, const int64_t *dims)
{
    if (!t || t->rank != rank)
        return 0;
    for (int i = 0; i < rank; i++)
        if (t->dims[i] != dims[i])
            return 0;
    return 1;
}

int host_norm_axis(int64_t axis, int rank, int *out)
{
    int64_t lo = rank == 0 ? -1 : -(int64_t)rank, hi = rank == 0 ? 0 : (int64_t)rank - 1;
    if (axis < lo || axis > hi)
        return 0;
    *out = (int)(axis < 0 ? axis + (rank == 0 ? 1 : rank) : axis);
    return 1;
}

int host_broadcast_shape(int n, const host_tensor *const *ts, int *rank, int64_t *dims)
{
    int r = 0;
    for (int k = 0; k < n; k++) {
        if (!ts[k] || ts[k]->rank < 0 || ts[k]->rank > HOST_MAX_RANK)
            return 0;
        if (ts[k]->rank > r)
            r = ts[k]->rank;
    }
    for (int i = 0; i < r; i++) {
        int64_t d = 1;
        for (int k = 0; k < n; k++) {
            int j = i - (r - ts[k]->rank);
            int64_t e = j >= 0 ? ts[k]->dims[j] : 1;
            if (e < 0)
                return 0;
            if (e == d || e == 1)
                continue;
            if (d != 1)
                return 0;
            d = e;
        }
        dims[i] = d;
    }
    *rank = r;
    return 1;
}

void host_broadcast_strides(const host_tensor *t, int rank, const int64_t *dims,
                            int64_t *strides)
{
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int j = i - (rank - t->rank);
        int64_t d = j >= 0 ? t->dims[j] : 1;
        strides[i] = (d == 1 && dims[i] != 1) || j < 0 ? 0 : s;
        s *= d;
    }
}

double host_get_f64(const host_tensor *t, int64_t i)
{
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case O2P_DTYPE_FLOAT: { float v; memcpy(&v, p + 4 * i, 4); return v; }
    case O2P_DTYPE_DOUBLE: { double v; memcpy(&v, p + 8 * i, 8); return v; }
    case O2P_DTYPE_FLOAT16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return o2p_half_to_float(v); }
    case O2P_DTYPE_BFLOAT16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return o2p_bf16_to_float(v); }
    case O2P_DTYPE_UINT64: { uint64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
    case O2P_DTYPE_INT64: case O2P_DTYPE_INT32: case O2P_DTYPE_INT16: case O2P_DTYPE_INT8:
    case O2P_DTYPE_UINT8: case O2P_DTYPE_BOOL: case O2P_DTYPE_UINT16: case O2P_DTYPE_UINT32:
        return (double)host_get_i64(t, i);
    default: return 0.0; /* strings, complex, undefined: no number to read */
    }
}

int64_t host_get_i64(const host_tensor *t, int64_t i)
{
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case O2P_DTYPE_INT64: { int64_t v; memcpy(&v, p + 8 * i, 8); return v; }
    case O2P_DTYPE_INT32: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    case O2P_DTYPE_INT16: { int16_t v; memcpy(&v, p + 2 * i, 2); return v; }
    case O2P_DTYPE_INT8: return (int8_t)p[i];
    case O2P_DTYPE_UINT8: case O2P_DTYPE_BOOL: return p[i];
    case O2P_DTYPE_UINT16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return v; }
    case O2P_DTYPE_UINT32: { uint32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    case O2P_DTYPE_UINT64: { uint64_t v; memcpy(&v, p + 8 * i, 8); return (int64_t)v; }
    case O2P_DTYPE_FLOAT: case O2P_DTYPE_DOUBLE: case O2P_DTYPE_FLOAT16:
    case O2P_DTYPE_BFLOAT16: {
        double d = host_get_f64(t, i);
        if (isnan(d))
            return 0;
        if (d >= 9.2233720368547758e18)
            return INT64_MAX;
        if (d <= -9.2233720368547758e18)
            return INT64_MIN;
        return (int64_t)d;
    }
    default:
        return 0; /* strings, complex, undefined: no number to read */
    }
}

static int64_t clamp_i64(double d, double lo, double hi)
{
    if (isnan(d))
        return 0;
    if (d <= lo)
        return (int64_t)lo;
    if (d >= hi)
        return (int64_t)hi;
    return (int64_t)d;
}

void host_set_f64(host_tensor *t, int64_t i, double v)
{
    unsigned char *p = t->data;
    switch (t->dtype) {
    case O2P_DTYPE_FLOAT: { float f = (float)v; memcpy(p + 4 * i, &f, 4); return; }
    case O2P_DTYPE_DOUBLE: memcpy(p + 8 * i, &v, 8); return;
    case O2P_DTYPE_FLOAT16: { uint16_t h = o2p_float_to_half((float)v); memcpy(p + 2 * i, &h, 2); return; }
    case O2P_DTYPE_BFLOAT16: { uint16_t h = o2p_float_to_bf16((float)v); memcpy(p + 2 * i, &h, 2); return; }
    case O2P_DTYPE_BOOL: p[i] = v != 0.0; return;
    case O2P_DTYPE_INT8: host_set_i64(t, i, clamp_i64(v, -128, 127)); return;
    case O2P_DTYPE_UINT8: host_set_i64(t, i, clamp_i64(v, 0, 255)); return;
    case O2P_DTYPE_INT16: host_set_i64(t, i, clamp_i64(v, -32768, 32767)); return;
    case O2P_DTYPE_UINT16: host_set_i64(t, i, clamp_i64(v, 0, 65535)); return;
    case O2P_DTYPE_INT32: host_set_i64(t, i, clamp_i64(v, -2147483648.0, 2147483647.0)); return;
    case O2P_DTYPE_UINT32: host_set_i64(t, i, clamp_i64(v, 0, 4294967295.0)); return;
    case O2P_DTYPE_INT64:
        host_set_i64(t, i, clamp_i64(v, -9.2233720368547758e18, 9.2233720368547748e18));
        return;
    case O2P_DTYPE_UINT64: {
        uint64_t u = isnan(v) || v <= 0 ? 0 : v >= 1.8446744073709552e19 ? UINT64_MAX : (uint64_t)v;
        memcpy(p + 8 * i, &u, 8);
        return;
    }
    default: return;
    }
}

void host_set_i64(host_tensor *t, int64_t i, int64_t v)
{
    unsigned char *p = t->data;
    switch (t->dtype) {
    case O2P_DTYPE_INT64: memcpy(p + 8 * i, &v, 8); return;
    case O2P_DTYPE_UINT64: { uint64_t u = (uint64_t)v; memcpy(p + 8 * i, &u, 8); return; }
    case O2P_DTYPE_INT32: case O2P_DTYPE_UINT32: { uint32_t u = (uint32_t)v; memcpy(p + 4 * i, &u, 4); return; }
    case O2P_DTYPE_INT16: case O2P_DTYPE_UINT16: { uint16_t u = (uint16_t)v; memcpy(p + 2 * i, &u, 2); return; }
    case O2P_DTYPE_INT8: case O2P_DTYPE_UINT8: p[i] = (uint8_t)v; return;
    case O2P_DTYPE_BOOL: p[i] = v != 0; return;
    default: host_set_f64(t, i, (double)v); return;
    }
}

int host_read_ints(const host_tensor *t, int64_t *out, int cap)
{
    int ok;
    if (!t || t->rank > 1)
        return -1;
    int64_t n = host_numel(t, &ok);
    if (!ok || n > cap || (t->dtype != O2P_DTYPE_INT64 && t->dtype != O2P_DTYPE_INT32))
        return -1;
    for (int64_t i = 0; i < n; i++)
        out[i] = host_get_i64(t, i);
    return (int)n;
}
