/* nn.c: the nn family of host reference kernels: its table, and the argument checking, float32
 * staging and window geometry its files share (nn_internal.h). The kernels live in
 * nn_gemm.c, nn_conv.c, nn_pool.c, nn_norm.c and nn_resize.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/nn_internal.h"

const host_kernel_entry host_nn_kernels[] = {
    {"Conv", host_nn_conv},
    {"ConvTranspose", host_nn_conv_transpose},
    {"Gemm", host_nn_gemm},
    {"MatMul", host_nn_matmul},
    {"BatchNormalization", host_nn_batch_norm},
    {"InstanceNormalization", host_nn_instance_norm},
    {"LayerNormalization", host_nn_layer_norm},
    {"GroupNormalization", host_nn_group_norm},
    {"LpNormalization", host_nn_lp_norm},
    {"MeanVarianceNormalization", host_nn_mvn},
    {"LRN", host_nn_lrn},
    {"Softmax", host_nn_softmax},
    {"LogSoftmax", host_nn_log_softmax},
    {"Hardmax", host_nn_hardmax},
    {"MaxPool", host_nn_max_pool},
    {"AveragePool", host_nn_average_pool},
    {"LpPool", host_nn_lp_pool},
    {"GlobalAveragePool", host_nn_global_average_pool},
    {"GlobalMaxPool", host_nn_global_max_pool},
    {"GlobalLpPool", host_nn_global_lp_pool},
    {"Resize", host_nn_resize},
    {"Upsample", host_nn_upsample},
    {"GridSample", host_nn_grid_sample},
    {"DepthToSpace", host_nn_depth_to_space},
    {"SpaceToDepth", host_nn_space_to_depth},
};
const int host_nn_kernel_count = (int)(sizeof host_nn_kernels / sizeof host_nn_kernels[0]);

/* ---------------------------------------------------------------- argument checking */

const char *host_nn_dims_str(int rank, const int64_t *dims, char *buf, size_t size)
{
    size_t n = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    n += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

const char *host_nn_shape_str(const host_tensor *t, char *buf, size_t size)
{
    if (!t || t->rank < 0 || t->rank > HOST_MAX_RANK) {
        snprintf(buf, size, "[?]");
        return buf;
    }
    return host_nn_dims_str(t->rank, t->dims, buf, size);
}

int host_nn_is_float(o2p_dtype t)
{
    return t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_FLOAT16 || t == O2P_DTYPE_BFLOAT16 ||
           t == O2P_DTYPE_DOUBLE;
}

int host_nn_is_integer(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_INT8:
    case O2P_DTYPE_UINT8:
    case O2P_DTYPE_INT16:
    case O2P_DTYPE_UINT16:
    case O2P_DTYPE_INT32:
    case O2P_DTYPE_UINT32:
    case O2P_DTYPE_INT64:
    case O2P_DTYPE_UINT64: return 1;
    default: return 0;
    }
}

int64_t host_nn_numel(const host_tensor *t)
{
    int ok;
    int64_t n = host_numel(t, &ok);
    return ok ? n : 0;
}

int64_t host_nn_prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* Shared checks of one tensor's header. */
static o2p_status check_tensor(const host_kernel_args *a, const host_tensor *t, const char *kind,
                               int i, const char *what)
{
    int ok;
    if (t->rank < 0 || t->rank > HOST_MAX_RANK)
        return host_error(a, "%s %d (%s) has rank %d, outside [0, %d]", kind, i, what, t->rank,
                          HOST_MAX_RANK);
    int64_t n = host_numel(t, &ok);
    size_t esize = o2p_dtype_size(t->dtype);
    /* the product of the non-zero dims must fit too: kernels take partial products (outer,
     * inner, spatial sizes) that an empty tensor's other dims could otherwise overflow */
    int64_t nonzero = 1;
    for (int d = 0; ok && d < t->rank; d++)
        if (t->dims[d] > 0 && (__builtin_mul_overflow(nonzero, t->dims[d], &nonzero) ||
                               nonzero > INT64_MAX / 16))
            ok = 0;
    if (!ok || n > INT64_MAX / 16) {
        char s[256];
        return host_error(a, "%s %d (%s) has invalid dims %s", kind, i, what,
                          host_nn_shape_str(t, s, sizeof s));
    }
    if (esize == 0 && t->dtype != O2P_DTYPE_STRING)
        return host_error(a, "%s %d (%s) has an invalid element type %d", kind, i, what,
                          (int)t->dtype);
    if (n > 0 && !t->data)
        return host_error(a, "%s %d (%s) has %lld elements but no data", kind, i, what,
                          (long long)n);
    return O2P_OK;
}

o2p_status host_nn_input(const host_kernel_args *a, int i, const char *what, const host_tensor **t)
{
    *t = host_in(a, i);
    if (!*t)
        return host_error(a, "input %d (%s) is missing", i, what);
    return check_tensor(a, *t, "input", i, what);
}

o2p_status host_nn_input_opt(const host_kernel_args *a, int i, const char *what,
                             int empty_is_omitted, const host_tensor **t)
{
    *t = host_in(a, i);
    if (!*t)
        return O2P_OK;
    O2P_TRY(check_tensor(a, *t, "input", i, what));
    if (empty_is_omitted && host_nn_numel(*t) == 0)
        *t = NULL;
    return O2P_OK;
}

o2p_status host_nn_output_opt(const host_kernel_args *a, int i, o2p_dtype dtype, int rank,
                              const int64_t *dims, host_tensor **t)
{
    *t = host_out(a, i);
    if (!*t)
        return O2P_OK;
    O2P_TRY(check_tensor(a, *t, "output", i, "result"));
    if ((*t)->dtype != dtype)
        return host_error(a, "output %d is %s, expected %s", i, o2p_dtype_name((*t)->dtype),
                          o2p_dtype_name(dtype));
    if (!host_same_shape(*t, rank, dims)) {
        char s1[256], s2[256];
        return host_error(a, "output %d has shape %s, expected %s", i,
                          host_nn_shape_str(*t, s1, sizeof s1),
                          host_nn_dims_str(rank, dims, s2, sizeof s2));
    }
    return O2P_OK;
}

o2p_status host_nn_output(const host_kernel_args *a, int i, o2p_dtype dtype, int rank,
                          const int64_t *dims, host_tensor **t)
{
    O2P_TRY(host_nn_output_opt(a, i, dtype, rank, dims, t));
    if (!*t)
        return host_error(a, "output %d is missing", i);
    return O2P_OK;
}

o2p_status host_nn_want_rank(const host_kernel_args *a, const host_tensor *t, const char *what,
                             int rank)
{
    if (t->rank != rank) {
        char s[256];
        return host_error(a, "%s must have rank %d, not %s", what, rank,
                          host_nn_shape_str(t, s, sizeof s));
    }
    return O2P_OK;
}

o2p_status host_nn_want_dtype(const host_kernel_args *a, const host_tensor *t, const char *what,
                              o2p_dtype dtype)
{
    if (t->dtype != dtype)
        return host_error(a, "%s is %s, expected %s", what, o2p_dtype_name(t->dtype),
                          o2p_dtype_name(dtype));
    return O2P_OK;
}

/* ---------------------------------------------------------------- float32 staging */

o2p_status host_nn_oom(const host_kernel_args *a)
{
    return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "layer '%s' (%s): out of memory for scratch buffers",
                    a->layer_name ? a->layer_name : "", a->op_type ? a->op_type : "");
}

void *host_nn_alloc(const host_kernel_args *a, int64_t n, size_t size)
{
    size_t bytes;
    if (n < 0 || !o2p_mul_size((size_t)n, size, &bytes)) {
        host_nn_oom(a);
        return NULL;
    }
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        host_nn_oom(a);
    return p;
}

const float *host_nn_f32_in(const host_kernel_args *a, const host_tensor *t, float **owned)
{
    static const float empty[1];
    *owned = NULL;
    if (t->dtype == O2P_DTYPE_FLOAT)
        return t->data ? (const float *)t->data : empty;
    int64_t n = host_nn_numel(t);
    float *buf = host_nn_alloc(a, n, sizeof(float));
    if (!buf)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        buf[i] = (float)host_get_f64(t, i);
    *owned = buf;
    return buf;
}

float *host_nn_f32_buf(const host_kernel_args *a, host_tensor *t, float **owned)
{
    static float empty[1];
    *owned = NULL;
    if (t->dtype == O2P_DTYPE_FLOAT)
        return t->data ? (float *)t->data : empty;
    float *buf = host_nn_alloc(a, host_nn_numel(t), sizeof(float));
    *owned = buf;
    return buf;
}

void host_nn_f32_out(host_tensor *t, const float *buf)
{
    if (t->dtype == O2P_DTYPE_FLOAT)
        return;
    int64_t n = host_nn_numel(t);
    for (int64_t i = 0; i < n; i++)
        host_set_f64(t, i, buf[i]);
}

/* ---------------------------------------------------------------- window geometry */

o2p_status host_nn_spatial_ints(const host_kernel_args *a, const char *name, int nsp, int64_t dflt,
                                int64_t min, int64_t *out)
{
    int count = 0;
    const int64_t *v = host_attr_ints(a, name, &count);
    if (!v) {
        for (int i = 0; i < nsp; i++)
            out[i] = dflt;
        return O2P_OK;
    }
    if (count != nsp)
        return host_error(a, "attribute %s has %d values, expected %d (one per spatial axis)", name,
                          count, nsp);
    for (int i = 0; i < nsp; i++) {
        if (v[i] < min)
            return host_error(a, "attribute %s[%d] is %lld, must be >= %lld", name, i,
                              (long long)v[i], (long long)min);
        out[i] = v[i];
    }
    return O2P_OK;
}

o2p_status host_nn_window(const host_kernel_args *a, const host_tensor *x, const int64_t *kernel,
                          int use_dilations, int use_ceil_mode, nn_window *w)
{
    memset(w, 0, sizeof *w);
    if (x->rank < 3)
        return host_error(a, "input must have rank >= 3 (N, C and spatial axes), not %d", x->rank);
    int nsp = w->nsp = x->rank - 2;
    for (int i = 0; i < nsp; i++) {
        w->in[i] = x->dims[i + 2];
        if (kernel[i] < 1)
            return host_error(a, "kernel dim %d is %lld, must be >= 1", i, (long long)kernel[i]);
        w->kernel[i] = kernel[i];
    }
    O2P_TRY(host_nn_spatial_ints(a, "strides", nsp, 1, 1, w->stride));
    if (use_dilations)
        O2P_TRY(host_nn_spatial_ints(a, "dilations", nsp, 1, 1, w->dilation));
    else
        for (int i = 0; i < nsp; i++)
            w->dilation[i] = 1;
    const char *auto_pad = host_attr_string(a, "auto_pad", "NOTSET");
    int ceil_mode = use_ceil_mode ? (int)host_attr_int(a, "ceil_mode", 0) : 0;
    int count = 0;
    const int64_t *pads = host_attr_ints(a, "pads", &count);
    int same_upper = strcmp(auto_pad, "SAME_UPPER") == 0;
    int same_lower = strcmp(auto_pad, "SAME_LOWER") == 0;
    int valid = strcmp(auto_pad, "VALID") == 0;
    int notset = strcmp(auto_pad, "NOTSET") == 0 || auto_pad[0] == '\0';
    if (!same_upper && !same_lower && !valid && !notset)
        return host_error(a, "auto_pad '%s' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID",
                          auto_pad);
    if (notset && pads) {
        if (count != 2 * nsp)
            return host_error(a, "attribute pads has %d values, expected %d", count, 2 * nsp);
        for (int i = 0; i < 2 * nsp; i++)
            if (pads[i] < 0)
                return host_error(a, "pads[%d] is %lld, must be >= 0", i, (long long)pads[i]);
    }
    for (int i = 0; i < nsp; i++) {
        int64_t in = w->in[i], s = w->stride[i], effk;
        if (__builtin_mul_overflow(w->kernel[i] - 1, w->dilation[i], &effk) ||
            __builtin_add_overflow(effk, 1, &effk))
            return host_error(a, "kernel extent overflows on spatial axis %d", i);
        if (same_upper || same_lower) {
            int64_t out = in / s + (in % s != 0), total;
            if (out > 0) {
                if (__builtin_mul_overflow(out - 1, s, &total) ||
                    __builtin_add_overflow(total, effk - in, &total))
                    return host_error(a, "padding overflows on spatial axis %d", i);
                if (total < 0)
                    total = 0;
            } else {
                total = 0;
            }
            w->pad_begin[i] = same_upper ? total / 2 : total - total / 2;
            w->pad_end[i] = total - w->pad_begin[i];
            w->out[i] = out;
            continue;
        }
        int64_t pb = notset && pads ? pads[i] : 0, pe = notset && pads ? pads[i + nsp] : 0;
        int64_t padded;
        if (__builtin_add_overflow(in, pb, &padded) || __builtin_add_overflow(padded, pe, &padded))
            return host_error(a, "padded size overflows on spatial axis %d", i);
        if (padded < effk)
            return host_error(a,
                              "kernel extent %lld exceeds the padded input size %lld on spatial "
                              "axis %d",
                              (long long)effk, (long long)padded, i);
        int64_t num = padded - effk, out = num / s + 1;
        if (ceil_mode) {
            out += num % s != 0;
            /* the last window must start inside the input or its leading padding */
            if ((out - 1) * s >= in + pb)
                out--;
        }
        w->pad_begin[i] = pb;
        w->pad_end[i] = pe;
        w->out[i] = out;
    }
    return O2P_OK;
}
