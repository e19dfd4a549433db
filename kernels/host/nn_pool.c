/* nn_pool.c: MaxPool (with Indices, storage_order, dilations, ceil_mode), AveragePool
 * (count_include_pad), LpPool and the global pools, over any number of spatial axes.
 * Computed in float32 (int8/uint8 MaxPool too: float holds them exactly), sums in double. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/nn_internal.h"

typedef enum { POOL_MAX, POOL_AVG, POOL_LP } pool_kind;

static int64_t floor_div(int64_t a, int64_t b) /* b > 0 */
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return -floor_div(-a, b);
}

typedef struct pool_params {
    pool_kind kind;
    int count_include_pad;
    double p;          /* LpPool */
    int storage_order; /* MaxPool indices: 1 = column-major over the spatial axes */
} pool_params;

/* One (n, c) plane: x has prod(w->in) values, y prod(w->out); idx (may be NULL) gets the
 * argmax as a flat index into X, plane_base being the plane's first element. */
static void pool_plane(const nn_window *w, const pool_params *pp, const float *x, float *y,
                       int64_t *idx, int64_t plane_base)
{
    int nsp = w->nsp;
    int64_t instride[HOST_MAX_RANK], colstride[HOST_MAX_RANK];
    int64_t s = 1;
    for (int d = nsp - 1; d >= 0; d--) {
        instride[d] = s;
        s *= w->in[d];
    }
    s = 1;
    for (int d = 0; d < nsp; d++) {
        colstride[d] = s;
        s *= w->in[d];
    }
    int64_t out_size = host_nn_prod(w->out, 0, nsp);
    int64_t q[HOST_MAX_RANK] = {0};
    for (int64_t o = 0; o < out_size; o++) {
        int64_t start[HOST_MAX_RANK], klo[HOST_MAX_RANK], khi[HOST_MAX_RANK];
        int64_t taps = 1;
        double padded_taps = 1.0; /* a product of kernel dims: may be huge */
        for (int d = 0; d < nsp; d++) {
            int64_t dil = w->dilation[d];
            start[d] = q[d] * w->stride[d] - w->pad_begin[d];
            klo[d] = ceil_div(-start[d], dil);
            khi[d] = floor_div(w->in[d] - 1 - start[d], dil) + 1;
            klo[d] = klo[d] < 0 ? 0 : klo[d];
            khi[d] = khi[d] > w->kernel[d] ? w->kernel[d] : khi[d];
            if (khi[d] < klo[d])
                khi[d] = klo[d];
            taps *= khi[d] - klo[d];
            /* taps inside the explicitly padded extent (not the ceil_mode overhang) */
            int64_t ph = floor_div(w->in[d] + w->pad_end[d] - 1 - start[d], dil) + 1;
            ph = ph > w->kernel[d] ? w->kernel[d] : ph < 0 ? 0 : ph;
            padded_taps *= (double)ph;
        }
        double acc = 0.0;
        float best = -FLT_MAX;
        int64_t best_at = -1;
        if (taps > 0) {
            int64_t k[HOST_MAX_RANK];
            memcpy(k, klo, (size_t)nsp * sizeof k[0]);
            for (int64_t t = 0; t < taps; t++) {
                int64_t at = 0;
                for (int d = 0; d < nsp; d++)
                    at += (start[d] + k[d] * w->dilation[d]) * instride[d];
                float v = x[at];
                if (pp->kind == POOL_MAX) {
                    /* the first maximum wins; NaN only when every tap is NaN */
                    if (best_at < 0 || (!isnan(v) && (isnan(best) || v > best))) {
                        best = v;
                        best_at = at;
                    }
                } else if (pp->kind == POOL_AVG) {
                    acc += v;
                } else {
                    acc += pp->p == 2.0   ? (double)v * v
                           : pp->p == 1.0 ? fabs(v)
                                          : pow(fabs(v), pp->p);
                }
                for (int d = nsp - 1; d >= 0; d--) {
                    if (++k[d] < khi[d])
                        break;
                    k[d] = klo[d];
                }
            }
        }
        if (pp->kind == POOL_MAX) {
            y[o] = best;
            if (idx) {
                int64_t flat = -1;
                if (best_at >= 0) {
                    if (pp->storage_order) {
                        int64_t rem = best_at;
                        flat = 0;
                        for (int d = 0; d < nsp; d++) {
                            flat += (rem / instride[d]) * colstride[d];
                            rem %= instride[d];
                        }
                    } else {
                        flat = best_at;
                    }
                    flat += plane_base;
                }
                idx[o] = flat;
            }
        } else if (pp->kind == POOL_AVG) {
            y[o] = (float)(acc / (pp->count_include_pad ? padded_taps : (double)taps));
        } else {
            y[o] = (float)(pp->p == 2.0 ? sqrt(acc) : pp->p == 1.0 ? acc : pow(acc, 1.0 / pp->p));
        }
        for (int d = nsp - 1; d >= 0; d--) {
            if (++q[d] < w->out[d])
                break;
            q[d] = 0;
        }
    }
}

/* Runs a pool over every (n, c) plane of X with geometry w into Y (and Indices). */
static o2p_status run_pool(const host_kernel_args *a, const host_tensor *X, const nn_window *w,
                           const pool_params *pp, host_tensor *Y, host_tensor *I)
{
    int64_t planes = X->dims[0] * X->dims[1];
    int64_t in_size = host_nn_prod(w->in, 0, w->nsp), out_size = host_nn_prod(w->out, 0, w->nsp);
    if (planes == 0 || out_size == 0)
        return O2P_OK;
    float *ox = NULL, *oy = NULL;
    const float *x = host_nn_f32_in(a, X, &ox);
    float *y = x ? host_nn_f32_buf(a, Y, &oy) : NULL;
    if (!y) {
        free(ox);
        return O2P_ERR_OUT_OF_MEMORY;
    }
    int64_t *idx = I ? (int64_t *)I->data : NULL;
    for (int64_t p = 0; p < planes; p++)
        pool_plane(w, pp, x + p * in_size, y + p * out_size, idx ? idx + p * out_size : NULL,
                   p * in_size);
    host_nn_f32_out(Y, y);
    free(ox);
    free(oy);
    return O2P_OK;
}

/* X, the kernel and the window of a windowed pool. */
static o2p_status pool_setup(const host_kernel_args *a, int allow_int8, const host_tensor **X,
                             nn_window *w)
{
    O2P_TRY(host_nn_input(a, 0, "X", X));
    o2p_dtype t = (*X)->dtype;
    if (!host_nn_is_float(t) && !(allow_int8 && (t == O2P_DTYPE_INT8 || t == O2P_DTYPE_UINT8)))
        return host_unsupported_dtype(a, t);
    if ((*X)->rank < 3)
        return host_error(a, "X must have rank >= 3 (N, C and spatial axes), not %d", (*X)->rank);
    int nsp = (*X)->rank - 2, count = 0;
    const int64_t *ks = host_attr_ints(a, "kernel_shape", &count);
    if (!ks)
        return host_error(a, "attribute kernel_shape is required");
    if (count != nsp)
        return host_error(a, "kernel_shape has %d values, expected %d", count, nsp);
    return host_nn_window(a, *X, ks, 1, 1, w);
}

static void out_dims(const host_tensor *X, const nn_window *w, int64_t *dims)
{
    dims[0] = X->dims[0];
    dims[1] = X->dims[1];
    memcpy(dims + 2, w->out, (size_t)w->nsp * sizeof(int64_t));
}

o2p_status host_nn_max_pool(const host_kernel_args *a)
{
    const host_tensor *X;
    nn_window w;
    O2P_TRY(pool_setup(a, 1, &X, &w));
    int64_t dims[HOST_MAX_RANK];
    out_dims(X, &w, dims);
    host_tensor *Y, *I;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, dims, &Y));
    O2P_TRY(host_nn_output_opt(a, 1, O2P_DTYPE_INT64, X->rank, dims, &I));
    pool_params pp = {POOL_MAX, 0, 0.0, host_attr_int(a, "storage_order", 0) != 0};
    return run_pool(a, X, &w, &pp, Y, I);
}

o2p_status host_nn_average_pool(const host_kernel_args *a)
{
    const host_tensor *X;
    nn_window w;
    O2P_TRY(pool_setup(a, 0, &X, &w));
    int64_t dims[HOST_MAX_RANK];
    out_dims(X, &w, dims);
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, dims, &Y));
    pool_params pp = {POOL_AVG, host_attr_int(a, "count_include_pad", 0) != 0, 0.0, 0};
    return run_pool(a, X, &w, &pp, Y, NULL);
}

static o2p_status lp_order(const host_kernel_args *a, double *p)
{
    *p = host_attr_float(a, "p", 2.0f);
    if (!(*p > 0.0) || isinf(*p))
        return host_error(a, "p is %g, must be a positive number", *p);
    return O2P_OK;
}

o2p_status host_nn_lp_pool(const host_kernel_args *a)
{
    const host_tensor *X;
    nn_window w;
    O2P_TRY(pool_setup(a, 0, &X, &w));
    int64_t dims[HOST_MAX_RANK];
    out_dims(X, &w, dims);
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, dims, &Y));
    pool_params pp = {POOL_LP, 0, 0.0, 0};
    O2P_TRY(lp_order(a, &pp.p));
    return run_pool(a, X, &w, &pp, Y, NULL);
}

/* Global pools: one window over all spatial axes. */
static o2p_status global_pool(const host_kernel_args *a, pool_kind kind)
{
    const host_tensor *X;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    if (!host_nn_is_float(X->dtype))
        return host_unsupported_dtype(a, X->dtype);
    if (X->rank < 2)
        return host_error(a, "X must have rank >= 2 (N, C and spatial axes), not %d", X->rank);
    int64_t dims[HOST_MAX_RANK];
    dims[0] = X->dims[0];
    dims[1] = X->dims[1];
    for (int i = 2; i < X->rank; i++)
        dims[i] = 1;
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, dims, &Y));
    double p = 2.0;
    if (kind == POOL_LP)
        O2P_TRY(lp_order(a, &p));
    int64_t planes = dims[0] * dims[1], size = host_nn_prod(X->dims, 2, X->rank);
    if (planes == 0)
        return O2P_OK;
    float *ox = NULL, *oy = NULL;
    const float *x = host_nn_f32_in(a, X, &ox);
    float *y = x ? host_nn_f32_buf(a, Y, &oy) : NULL;
    if (!y) {
        free(ox);
        return O2P_ERR_OUT_OF_MEMORY;
    }
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * size;
        if (kind == POOL_MAX) {
            float m = -INFINITY; /* NaN propagates, as numpy's max */
            for (int64_t i = 0; i < size && !isnan(m); i++)
                if (xp[i] > m || isnan(xp[i]))
                    m = xp[i];
            y[pl] = m;
        } else {
            double acc = 0.0;
            for (int64_t i = 0; i < size; i++)
                acc += kind == POOL_AVG ? xp[i]
                       : p == 2.0       ? (double)xp[i] * xp[i]
                                        : pow(fabs(xp[i]), p);
            y[pl] = (float)(kind == POOL_AVG ? acc / (double)size
                            : p == 2.0       ? sqrt(acc)
                                             : pow(acc, 1.0 / p));
        }
    }
    host_nn_f32_out(Y, y);
    free(ox);
    free(oy);
    return O2P_OK;
}

o2p_status host_nn_global_average_pool(const host_kernel_args *a)
{
    return global_pool(a, POOL_AVG);
}

o2p_status host_nn_global_max_pool(const host_kernel_args *a)
{
    return global_pool(a, POOL_MAX);
}

o2p_status host_nn_global_lp_pool(const host_kernel_args *a)
{
    return global_pool(a, POOL_LP);
}
