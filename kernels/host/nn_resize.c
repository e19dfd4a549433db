/* nn_resize.c: Resize (opsets 10..19: nearest/linear/cubic, every coordinate transformation
 * mode, scales or sizes, axes, keep_aspect_ratio_policy, antialias, exclude_outside,
 * tf_crop_and_resize with roi and extrapolation), Upsample, GridSample (N-D; nearest,
 * linear, cubic; zeros/border/reflection padding), DepthToSpace and SpaceToDepth.
 * Resize follows ONNX's reference: separable, one axis at a time, in double; nearest is an
 * exact element copy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/nn_internal.h"

/* Copies element si of src to element di of dst (both of element size es). */
static void copy_elem(void *dst, int64_t di, const void *src, int64_t si, size_t es)
{
    memcpy((char *)dst + (size_t)di * es, (const char *)src + (size_t)si * es, es);
}

/* ---------------------------------------------------------------- Resize */

typedef enum { MODE_NEAREST, MODE_LINEAR, MODE_CUBIC } resize_mode;
typedef enum {
    CT_HALF_PIXEL,
    CT_HALF_PIXEL_SYMMETRIC,
    CT_PYTORCH_HALF_PIXEL,
    CT_ALIGN_CORNERS,
    CT_ASYMMETRIC,
    CT_TF_HALF_PIXEL_FOR_NN,
    CT_TF_CROP_AND_RESIZE
} coord_mode;
typedef enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL } nearest_mode;

typedef struct resize_params {
    resize_mode mode;
    coord_mode coord;
    nearest_mode nearest;
    double cubic_a;
    int exclude_outside, antialias;
    double extrapolation;
    int rank;
    int64_t in[HOST_MAX_RANK], out[HOST_MAX_RANK];
    double scale[HOST_MAX_RANK];
    double roi_start[HOST_MAX_RANK], roi_end[HOST_MAX_RANK];
} resize_params;

/* Source coordinate of output index y on axis d; *outside is set for tf_crop_and_resize
 * positions outside the input (they take the extrapolation value). */
static double source_coord(const resize_params *p, int d, double y, int *outside)
{
    double scale = p->scale[d], in = (double)p->in[d];
    double out_w = scale * in; /* ONNX's reference uses the unrounded output length */
    *outside = 0;
    switch (p->coord) {
    case CT_HALF_PIXEL: return (y + 0.5) / scale - 0.5;
    case CT_HALF_PIXEL_SYMMETRIC: {
        double adjustment = (double)p->out[d] / out_w, center = in / 2.0;
        return center * (1.0 - adjustment) + (y + 0.5) / scale - 0.5;
    }
    case CT_PYTORCH_HALF_PIXEL: return p->out[d] > 1 ? (y + 0.5) / scale - 0.5 : 0.0;
    case CT_ALIGN_CORNERS: return out_w == 1.0 ? 0.0 : y * (in - 1.0) / (out_w - 1.0);
    case CT_ASYMMETRIC: return y / scale;
    case CT_TF_HALF_PIXEL_FOR_NN: return (y + 0.5) / scale;
    case CT_TF_CROP_AND_RESIZE: {
        double rs = p->roi_start[d], re = p->roi_end[d], x;
        if (out_w == 1.0)
            x = (re - rs) * (in - 1.0) / 2.0;
        else
            x = y * (re - rs) * (in - 1.0) / (out_w - 1.0);
        x += rs * (in - 1.0);
        *outside = !(x >= 0.0 && x <= in - 1.0); /* NaN from a hostile roi too */
        return *outside ? 0.0 : x;
    }
    }
    return 0.0;
}

static int64_t nearest_index(const resize_params *p, double x)
{
    double f = floor(x), frac = x - f;
    double r;
    switch (p->nearest) {
    case NM_ROUND_PREFER_FLOOR: r = frac <= 0.5 ? f : f + 1.0; break;
    case NM_ROUND_PREFER_CEIL: r = frac < 0.5 ? f : f + 1.0; break;
    case NM_FLOOR: r = f; break;
    default: r = ceil(x); break;
    }
    return r < 0.0 ? 0 : r > 9e18 ? INT64_MAX : (int64_t)r;
}

static double cubic_weight(double x, double A) /* Keys' kernel */
{
    x = fabs(x);
    if (x <= 1.0)
        return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
    return 0.0;
}

/* Taps per output position: 2 (linear) or 4 (cubic), more with antialias when shrinking. */
static int64_t tap_count(const resize_params *p, int d)
{
    double s = p->scale[d] < 1.0 ? p->scale[d] : 1.0;
    if (!p->antialias || p->mode == MODE_NEAREST)
        return p->mode == MODE_CUBIC ? 4 : 2;
    int64_t start = (int64_t)floor((p->mode == MODE_CUBIC ? -2.0 : -1.0) / s) + 1;
    return 2 - 2 * start;
}

/* The taps of output index j on axis d: n source indices (clamped) and weights. */
static void taps_for(const resize_params *p, int d, int64_t j, int64_t n, int64_t *idx, double *wt,
                     int *outside)
{
    double x = source_coord(p, d, (double)j, outside);
    double xf = floor(x);
    int integer = x == xf;
    double ratio = integer ? 1.0 : x - xf;
    int64_t start = (int64_t)xf - (integer ? n / 2 : n / 2 - 1);
    double s = p->scale[d] < 1.0 ? p->scale[d] : 1.0, sum = 0.0;
    for (int64_t t = 0; t < n; t++) {
        double w;
        if (p->antialias) {
            /* the filter stretched by 1/scale, sampled at the taps, normalized */
            double arg = ((double)(t - n / 2 + 1) - ratio) * s;
            if (p->mode == MODE_CUBIC)
                w = cubic_weight(arg, p->cubic_a);
            else
                w = 1.0 - fabs(arg) > 0.0 ? 1.0 - fabs(arg) : 0.0;
        } else if (p->mode == MODE_CUBIC) {
            w = cubic_weight((double)(t - 1) - ratio, p->cubic_a);
        } else {
            w = t == 0 ? 1.0 - ratio : ratio;
        }
        int64_t i = start + t;
        if (p->exclude_outside && (i < 0 || i >= p->in[d]))
            w = 0.0;
        wt[t] = w;
        sum += w;
        idx[t] = i < 0 ? 0 : i >= p->in[d] ? p->in[d] - 1 : i;
    }
    if (p->antialias || p->exclude_outside)
        for (int64_t t = 0; t < n; t++)
            wt[t] = sum != 0.0 ? wt[t] / sum : wt[t];
}

/* One axis of a separable resize: src has dims `dims`; dst the same with dims[d] = out[d]. */
static o2p_status resample_axis(const host_kernel_args *a, const resize_params *p, int d,
                                const int64_t *dims, const double *src, double *dst)
{
    int64_t n = tap_count(p, d), out = p->out[d], in = dims[d];
    int64_t outer = host_nn_prod(dims, 0, d), inner = host_nn_prod(dims, d + 1, p->rank);
    int64_t *idx = host_nn_alloc(a, out * n, sizeof(int64_t));
    double *wt = idx ? host_nn_alloc(a, out * n, sizeof(double)) : NULL;
    int *outside = wt ? host_nn_alloc(a, out, sizeof(int)) : NULL;
    if (!outside) {
        free(idx);
        free(wt);
        return O2P_ERR_OUT_OF_MEMORY;
    }
    for (int64_t j = 0; j < out; j++)
        taps_for(p, d, j, n, idx + j * n, wt + j * n, &outside[j]);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < out; j++) {
            double *dp = dst + (o * out + j) * inner;
            if (outside[j]) {
                for (int64_t i = 0; i < inner; i++)
                    dp[i] = p->extrapolation;
                continue;
            }
            for (int64_t i = 0; i < inner; i++)
                dp[i] = 0.0;
            for (int64_t t = 0; t < n; t++) {
                const double *sp = src + (o * in + idx[j * n + t]) * inner;
                double w = wt[j * n + t];
                if (w != 0.0)
                    for (int64_t i = 0; i < inner; i++)
                        dp[i] += w * sp[i];
            }
        }
    free(idx);
    free(wt);
    free(outside);
    return O2P_OK;
}

/* Whether axis d is left as is (ONNX's reference skips such axes). */
static int identity_axis(const resize_params *p, int d)
{
    if (p->out[d] != p->in[d] || fabs(p->scale[d] - 1.0) > 1e-9)
        return 0;
    return p->coord != CT_TF_CROP_AND_RESIZE ||
           (fabs(p->roi_start[d]) <= 1e-9 && fabs(p->roi_end[d] - 1.0) <= 1e-9);
}

static o2p_status resize_interpolate(const host_kernel_args *a, const resize_params *p,
                                     const host_tensor *X, host_tensor *Y)
{
    int64_t dims[HOST_MAX_RANK], cap = host_nn_numel(X), n = cap;
    memcpy(dims, p->in, sizeof dims);
    /* the largest intermediate: after each resized axis */
    for (int d = 0; d < p->rank; d++) {
        if (identity_axis(p, d))
            continue;
        int64_t rest = host_nn_prod(dims, 0, p->rank) / (dims[d] ? dims[d] : 1);
        dims[d] = p->out[d];
        if (dims[d] != 0 && rest > INT64_MAX / 16 / dims[d])
            return host_nn_oom(a);
        int64_t size = rest * dims[d];
        cap = size > cap ? size : cap;
    }
    double *buf0 = host_nn_alloc(a, cap, sizeof(double));
    double *buf1 = buf0 ? host_nn_alloc(a, cap, sizeof(double)) : NULL;
    if (!buf1) {
        free(buf0);
        return O2P_ERR_OUT_OF_MEMORY;
    }
    for (int64_t i = 0; i < n; i++)
        buf0[i] = host_get_f64(X, i);
    memcpy(dims, p->in, sizeof dims);
    double *cur = buf0, *next = buf1;
    o2p_status st = O2P_OK;
    for (int d = 0; d < p->rank && st == O2P_OK; d++) {
        if (identity_axis(p, d))
            continue;
        st = resample_axis(a, p, d, dims, cur, next);
        dims[d] = p->out[d];
        double *t = cur;
        cur = next;
        next = t;
    }
    if (st == O2P_OK) {
        int64_t total = host_nn_numel(Y);
        int integer = !host_nn_is_float(Y->dtype);
        for (int64_t i = 0; i < total; i++)
            host_set_f64(Y, i, integer ? nearbyint(cur[i]) : cur[i]);
    }
    free(buf0);
    free(buf1);
    return st;
}

static o2p_status resize_nearest(const host_kernel_args *a, const resize_params *p,
                                 const host_tensor *X, host_tensor *Y)
{
    int r = p->rank;
    int64_t *tables[HOST_MAX_RANK] = {0};
    o2p_status st = O2P_OK;
    for (int d = 0; d < r && st == O2P_OK; d++) {
        tables[d] = host_nn_alloc(a, p->out[d], sizeof(int64_t));
        if (!tables[d]) {
            st = O2P_ERR_OUT_OF_MEMORY;
            break;
        }
        for (int64_t j = 0; j < p->out[d]; j++) {
            int outside;
            double x = source_coord(p, d, (double)j, &outside);
            int64_t i = nearest_index(p, x);
            tables[d][j] = outside ? -1 : i >= p->in[d] ? p->in[d] - 1 : i;
        }
    }
    if (st == O2P_OK) {
        int64_t instride[HOST_MAX_RANK], s = 1, total = host_nn_numel(Y);
        for (int d = r - 1; d >= 0; d--) {
            instride[d] = s;
            s *= p->in[d];
        }
        size_t es = o2p_dtype_size(X->dtype);
        int64_t q[HOST_MAX_RANK] = {0};
        for (int64_t o = 0; o < total; o++) {
            int64_t at = 0;
            int outside = 0;
            for (int d = 0; d < r; d++) {
                int64_t i = tables[d][q[d]];
                outside |= i < 0;
                at += i * instride[d];
            }
            if (outside)
                host_set_f64(Y, o, p->extrapolation);
            else
                copy_elem(Y->data, o, X->data, at, es);
            for (int d = r - 1; d >= 0; d--) {
                if (++q[d] < p->out[d])
                    break;
                q[d] = 0;
            }
        }
    }
    for (int d = 0; d < r; d++)
        free(tables[d]);
    return st;
}

/* Runs the resize described by p (output dims and scales filled in) on X into Y. */
static o2p_status resize_run(const host_kernel_args *a, const resize_params *p,
                             const host_tensor *X)
{
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, p->out, &Y));
    if (host_nn_numel(Y) == 0)
        return O2P_OK;
    if (host_nn_numel(X) == 0)
        return host_error(a, "cannot resize an empty input into a non-empty output");
    if (p->mode == MODE_NEAREST)
        return resize_nearest(a, p, X, Y);
    if (X->dtype == O2P_DTYPE_STRING || X->dtype == O2P_DTYPE_BOOL ||
        X->dtype == O2P_DTYPE_COMPLEX64 || X->dtype == O2P_DTYPE_COMPLEX128)
        return host_unsupported_dtype(a, X->dtype);
    return resize_interpolate(a, p, X, Y);
}

static o2p_status resize_dtype_ok(const host_kernel_args *a, const host_tensor *X)
{
    if (X->dtype == O2P_DTYPE_STRING || X->dtype == O2P_DTYPE_COMPLEX64 ||
        X->dtype == O2P_DTYPE_COMPLEX128 || o2p_dtype_size(X->dtype) == 0)
        return host_unsupported_dtype(a, X->dtype);
    return O2P_OK;
}

/* Output dims from per-axis scales: floor(in * scale), as ONNX's reference (in double). */
static o2p_status dims_from_scales(const host_kernel_args *a, resize_params *p)
{
    for (int d = 0; d < p->rank; d++) {
        double s = p->scale[d];
        if (!(s > 0.0) || isinf(s))
            return host_error(a, "scale %g on axis %d must be a positive number", s, d);
        double o = floor(s * (double)p->in[d]);
        if (o > 1e15)
            return host_error(a, "output dim %g on axis %d is too large", o, d);
        p->out[d] = (int64_t)o;
    }
    return O2P_OK;
}

static o2p_status parse_mode(const host_kernel_args *a, resize_params *p)
{
    const char *mode = host_attr_string(a, "mode", "nearest");
    if (strcmp(mode, "nearest") == 0)
        p->mode = MODE_NEAREST;
    else if (strcmp(mode, "linear") == 0 || strcmp(mode, "bilinear") == 0 ||
             strcmp(mode, "trilinear") == 0)
        p->mode = MODE_LINEAR;
    else if (strcmp(mode, "cubic") == 0 && strcmp(a->op_type, "Resize") == 0 && a->opset >= 11)
        p->mode = MODE_CUBIC;
    else
        return host_error(a, "mode '%s' is not supported", mode);
    return O2P_OK;
}

o2p_status host_nn_resize(const host_kernel_args *a)
{
    const host_tensor *X, *roi = NULL, *scales = NULL, *sizes = NULL;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    O2P_TRY(resize_dtype_ok(a, X));
    resize_params p;
    memset(&p, 0, sizeof p);
    p.rank = X->rank;
    memcpy(p.in, X->dims, sizeof p.in);
    O2P_TRY(parse_mode(a, &p));
    if (a->opset < 11) {
        /* Resize-10: X, scales; asymmetric coordinates, nearest rounds down */
        O2P_TRY(host_nn_input(a, 1, "scales", &scales));
        p.coord = CT_ASYMMETRIC;
        p.nearest = NM_FLOOR;
    } else {
        O2P_TRY(host_nn_input_opt(a, 1, "roi", 1, &roi));
        O2P_TRY(host_nn_input_opt(a, 2, "scales", 1, &scales));
        O2P_TRY(host_nn_input_opt(a, 3, "sizes", 1, &sizes));
        static const char *const coords[] = {
            "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
            "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
        const char *ct = host_attr_string(a, "coordinate_transformation_mode", "half_pixel");
        int found = 0;
        for (int i = 0; i < 7 && !found; i++)
            if (strcmp(ct, coords[i]) == 0) {
                p.coord = (coord_mode)i;
                found = 1;
            }
        if (!found)
            return host_error(a, "coordinate_transformation_mode '%s' is not supported", ct);
        static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                               "ceil"};
        const char *nm = host_attr_string(a, "nearest_mode", "round_prefer_floor");
        found = 0;
        for (int i = 0; i < 4 && !found; i++)
            if (strcmp(nm, nearests[i]) == 0) {
                p.nearest = (nearest_mode)i;
                found = 1;
            }
        if (!found)
            return host_error(a, "nearest_mode '%s' is not supported", nm);
        p.cubic_a = host_attr_float(a, "cubic_coeff_a", -0.75f);
        p.exclude_outside = host_attr_int(a, "exclude_outside", 0) != 0;
        p.extrapolation = host_attr_float(a, "extrapolation_value", 0.0f);
        p.antialias = a->opset >= 18 && host_attr_int(a, "antialias", 0) != 0;
    }
    /* axes (opset 18): scales, sizes and roi then cover only those axes */
    int64_t axes[HOST_MAX_RANK];
    int naxes = p.rank;
    for (int i = 0; i < p.rank; i++)
        axes[i] = i;
    int count = 0;
    const int64_t *ax = a->opset >= 18 ? host_attr_ints(a, "axes", &count) : NULL;
    if (ax) {
        int seen[HOST_MAX_RANK] = {0};
        if (count > p.rank)
            return host_error(a, "axes has %d entries for rank %d", count, p.rank);
        for (int i = 0; i < count; i++) {
            int d;
            if (!host_norm_axis(ax[i], p.rank, &d) || p.rank == 0 || seen[d])
                return host_error(a, "axes[%d] = %lld is out of range or repeated", i,
                                  (long long)ax[i]);
            seen[d] = 1;
            axes[i] = d;
        }
        naxes = count;
    }
    for (int d = 0; d < p.rank; d++) {
        p.scale[d] = 1.0;
        p.roi_start[d] = 0.0;
        p.roi_end[d] = 1.0;
    }
    if (p.coord == CT_TF_CROP_AND_RESIZE) {
        if (!roi)
            return host_error(a, "tf_crop_and_resize needs the roi input");
        if (!host_nn_is_float(roi->dtype))
            return host_unsupported_dtype(a, roi->dtype);
        if (roi->rank != 1 || roi->dims[0] != 2 * naxes)
            return host_error(a, "roi must have %d values (start and end per axis)", 2 * naxes);
        for (int i = 0; i < naxes; i++) {
            p.roi_start[axes[i]] = host_get_f64(roi, i);
            p.roi_end[axes[i]] = host_get_f64(roi, i + naxes);
        }
    }
    if ((scales != NULL) == (sizes != NULL))
        return host_error(a, "exactly one of scales and sizes must be given");
    if (scales) {
        if (!host_nn_is_float(scales->dtype))
            return host_unsupported_dtype(a, scales->dtype);
        if (scales->rank != 1 || scales->dims[0] != naxes)
            return host_error(a, "scales must have %d values", naxes);
        for (int i = 0; i < naxes; i++)
            p.scale[axes[i]] = host_get_f64(scales, i);
        O2P_TRY(dims_from_scales(a, &p));
    } else {
        if (sizes->dtype != O2P_DTYPE_INT64)
            return host_unsupported_dtype(a, sizes->dtype);
        if (sizes->rank != 1 || sizes->dims[0] != naxes)
            return host_error(a, "sizes must have %d values", naxes);
        for (int i = 0; i < naxes; i++) {
            int64_t v = host_get_i64(sizes, i);
            if (v < 0 || v > ((int64_t)1 << 50))
                return host_error(a, "sizes[%d] = %lld is invalid", i, (long long)v);
            p.out[axes[i]] = v;
        }
        int touched[HOST_MAX_RANK] = {0};
        for (int i = 0; i < naxes; i++)
            touched[axes[i]] = 1;
        for (int d = 0; d < p.rank; d++) {
            if (!touched[d])
                p.out[d] = p.in[d];
            p.scale[d] = p.in[d] ? (double)p.out[d] / (double)p.in[d] : 1.0;
        }
        const char *policy =
            a->opset >= 18 ? host_attr_string(a, "keep_aspect_ratio_policy", "stretch") : "stretch";
        if (strcmp(policy, "stretch") != 0) {
            int larger = strcmp(policy, "not_smaller") == 0;
            if (!larger && strcmp(policy, "not_larger") != 0)
                return host_error(a, "keep_aspect_ratio_policy '%s' is not supported", policy);
            double s = larger ? 0.0 : INFINITY;
            for (int i = 0; i < naxes; i++) {
                double v = p.scale[axes[i]];
                s = larger ? (v > s ? v : s) : (v < s ? v : s);
            }
            for (int i = 0; i < naxes; i++) {
                int d = axes[i];
                p.scale[d] = s;
                p.out[d] = (int64_t)(s * (double)p.in[d] + 0.5);
            }
        }
        for (int d = 0; d < p.rank; d++)
            if (p.in[d] == 0 && p.out[d] != 0)
                return host_error(a, "axis %d is empty in X but not in sizes", d);
    }
    return resize_run(a, &p, X);
}

/* ---------------------------------------------------------------- Upsample */

o2p_status host_nn_upsample(const host_kernel_args *a)
{
    const host_tensor *X;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    O2P_TRY(resize_dtype_ok(a, X));
    resize_params p;
    memset(&p, 0, sizeof p);
    p.rank = X->rank;
    memcpy(p.in, X->dims, sizeof p.in);
    O2P_TRY(parse_mode(a, &p));
    p.coord = CT_ASYMMETRIC;
    p.nearest = NM_FLOOR;
    if (a->opset >= 9) {
        const host_tensor *S;
        O2P_TRY(host_nn_input(a, 1, "scales", &S));
        if (!host_nn_is_float(S->dtype))
            return host_unsupported_dtype(a, S->dtype);
        if (S->rank != 1 || S->dims[0] != X->rank)
            return host_error(a, "scales must have %d values", X->rank);
        for (int d = 0; d < X->rank; d++)
            p.scale[d] = host_get_f64(S, d);
    } else {
        int count = 0;
        const float *s = host_attr_floats(a, "scales", &count);
        if (!s || count != X->rank)
            return host_error(a, "attribute scales must have %d values", X->rank);
        for (int d = 0; d < X->rank; d++)
            p.scale[d] = s[d];
    }
    O2P_TRY(dims_from_scales(a, &p));
    return resize_run(a, &p, X);
}

/* ---------------------------------------------------------------- GridSample */

typedef enum { PAD_ZEROS, PAD_BORDER, PAD_REFLECTION } grid_padding;

static double reflect(double x, double lo, double hi)
{
    double range = hi - lo;
    if (range <= 0.0)
        return lo;
    if (x < lo) {
        double dx = lo - x;
        double n = floor(dx / range), r = dx - n * range;
        return fmod(n, 2.0) == 0.0 ? lo + r : hi - r;
    }
    if (x > hi) {
        double dx = x - hi;
        double n = floor(dx / range), r = dx - n * range;
        return fmod(n, 2.0) == 0.0 ? hi - r : lo + r;
    }
    return x;
}

typedef struct grid_ctx {
    int nsp;
    const int64_t *dims; /* spatial dims of X */
    int64_t stride[HOST_MAX_RANK];
    grid_padding padding;
    double lo[HOST_MAX_RANK], hi[HOST_MAX_RANK]; /* reflection borders */
} grid_ctx;

/* The value of X's plane at integer position idx, with the padding mode for positions
 * outside (zeros: 0, border: clamped, reflection: reflected). */
static double grid_pixel(const grid_ctx *g, const host_tensor *X, int64_t base, const int64_t *idx)
{
    int64_t at = base;
    for (int d = 0; d < g->nsp; d++) {
        int64_t i = idx[d], n = g->dims[d];
        if (i < 0 || i >= n) {
            if (g->padding == PAD_ZEROS)
                return 0.0;
            if (g->padding == PAD_BORDER)
                i = i < 0 ? 0 : n - 1;
            else
                i = (int64_t)reflect((double)i, g->lo[d], g->hi[d]);
            i = i < 0 ? 0 : i >= n ? n - 1 : i;
        }
        at += i * g->stride[d];
    }
    return host_get_f64(X, at);
}

o2p_status host_nn_grid_sample(const host_kernel_args *a)
{
    const host_tensor *X, *G;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    O2P_TRY(host_nn_input(a, 1, "grid", &G));
    O2P_TRY(resize_dtype_ok(a, X));
    if (!host_nn_is_float(G->dtype))
        return host_unsupported_dtype(a, G->dtype);
    if (X->rank < 3)
        return host_error(a, "X must have rank >= 3 (N, C and spatial axes), not %d", X->rank);
    int nsp = X->rank - 2;
    if (G->rank != X->rank || G->dims[0] != X->dims[0] || G->dims[G->rank - 1] != nsp) {
        char s1[256], s2[256];
        return host_error(a, "grid %s must have shape [N, out spatial..., %d] for X %s",
                          host_nn_shape_str(G, s1, sizeof s1), nsp,
                          host_nn_shape_str(X, s2, sizeof s2));
    }
    const char *mode = host_attr_string(a, "mode", a->opset >= 20 ? "linear" : "bilinear");
    resize_mode m;
    if (strcmp(mode, "bilinear") == 0 || strcmp(mode, "linear") == 0)
        m = MODE_LINEAR;
    else if (strcmp(mode, "nearest") == 0)
        m = MODE_NEAREST;
    else if (strcmp(mode, "bicubic") == 0 || strcmp(mode, "cubic") == 0)
        m = MODE_CUBIC;
    else
        return host_error(a, "mode '%s' is not supported", mode);
    const char *pm = host_attr_string(a, "padding_mode", "zeros");
    grid_ctx g;
    memset(&g, 0, sizeof g);
    if (strcmp(pm, "zeros") == 0)
        g.padding = PAD_ZEROS;
    else if (strcmp(pm, "border") == 0)
        g.padding = PAD_BORDER;
    else if (strcmp(pm, "reflection") == 0)
        g.padding = PAD_REFLECTION;
    else
        return host_error(a, "padding_mode '%s' is not supported", pm);
    int align = host_attr_int(a, "align_corners", 0) != 0;
    int64_t ydims[HOST_MAX_RANK];
    ydims[0] = X->dims[0];
    ydims[1] = X->dims[1];
    for (int d = 0; d < nsp; d++)
        ydims[d + 2] = G->dims[d + 1];
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, ydims, &Y));
    int64_t N = X->dims[0], C = X->dims[1], out_size = host_nn_prod(ydims, 2, X->rank);
    int64_t in_size = host_nn_prod(X->dims, 2, X->rank);
    if (host_nn_numel(Y) == 0)
        return O2P_OK;
    if (in_size == 0 && g.padding != PAD_ZEROS)
        return host_error(a, "cannot sample an empty input with padding_mode '%s'", pm);
    g.nsp = nsp;
    g.dims = X->dims + 2;
    int64_t s = 1;
    for (int d = nsp - 1; d >= 0; d--) {
        g.stride[d] = s;
        s *= g.dims[d];
        g.lo[d] = align ? 0.0 : -0.5;
        g.hi[d] = align ? (double)g.dims[d] - 1.0 : (double)g.dims[d] - 0.5;
    }
    int ntaps = m == MODE_NEAREST ? 1 : m == MODE_LINEAR ? 2 : 4;
    int64_t combos = 1;
    for (int d = 0; d < nsp; d++)
        combos *= ntaps;
    if (combos > ((int64_t)1 << 20))
        return host_error(a, "%d spatial axes are too many for mode '%s'", nsp, mode);
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < out_size; o++) {
            /* the grid point's coordinate per spatial axis (grid's last axis is x, y, ...:
             * reversed) */
            int64_t base[HOST_MAX_RANK];
            double w[HOST_MAX_RANK][4];
            for (int d = 0; d < nsp; d++) {
                double gn = host_get_f64(G, (n * out_size + o) * nsp + (nsp - 1 - d));
                double len = (double)g.dims[d];
                float x = (float)(align ? (gn + 1.0) / 2.0 * (len - 1.0)
                                        : ((gn + 1.0) * len - 1.0) / 2.0);
                if (m == MODE_NEAREST)
                    x = nearbyintf(x);
                if (x < g.lo[d] || x > g.hi[d]) {
                    if (g.padding == PAD_BORDER)
                        x = x < 0.0f ? 0.0f : x > len - 1.0 ? (float)(len - 1.0) : x;
                    else if (g.padding == PAD_REFLECTION)
                        x = (float)reflect(x, g.lo[d], g.hi[d]);
                }
                if (isnan(x))
                    x = -2.0f; /* a NaN coordinate samples outside */
                if (m == MODE_NEAREST) {
                    double t = x > 1e15f ? 1e15 : x < -1e15f ? -1e15 : x;
                    base[d] = (int64_t)t;
                    w[d][0] = 1.0;
                    continue;
                }
                double xf = floor(x > 1e15f ? 1e15 : x < -1e15f ? -1e15 : x), r = x - xf;
                if (m == MODE_LINEAR) {
                    base[d] = (int64_t)xf;
                    w[d][0] = 1.0 - r;
                    w[d][1] = r;
                } else {
                    base[d] = (int64_t)xf - 1;
                    for (int t = 0; t < 4; t++)
                        w[d][t] = cubic_weight((double)(t - 1) - r, -0.75);
                }
            }
            for (int64_t c = 0; c < C; c++) {
                int64_t plane = (n * C + c) * in_size;
                double v = 0.0;
                int t[HOST_MAX_RANK] = {0};
                for (int64_t k = 0; k < combos; k++) {
                    int64_t idx[HOST_MAX_RANK];
                    double wt = 1.0;
                    for (int d = 0; d < nsp; d++) {
                        idx[d] = base[d] + t[d];
                        wt *= w[d][t[d]];
                    }
                    if (wt != 0.0)
                        v += wt * grid_pixel(&g, X, plane, idx);
                    for (int d = nsp - 1; d >= 0; d--) {
                        if (++t[d] < ntaps)
                            break;
                        t[d] = 0;
                    }
                }
                host_set_f64(Y, (n * C + c) * out_size + o, v);
            }
        }
    return O2P_OK;
}

/* ---------------------------------------------------------------- DepthToSpace, SpaceToDepth */

static o2p_status block_setup(const host_kernel_args *a, const host_tensor **X, int64_t *b)
{
    O2P_TRY(host_nn_input(a, 0, "input", X));
    if ((*X)->dtype == O2P_DTYPE_STRING || o2p_dtype_size((*X)->dtype) == 0)
        return host_unsupported_dtype(a, (*X)->dtype);
    O2P_TRY(host_nn_want_rank(a, *X, "input", 4));
    const host_attr *ba = host_attr_find(a, "blocksize");
    if (!ba || ba->type != O2P_ATTR_INT || ba->i < 1 || ba->i > ((int64_t)1 << 20))
        return host_error(a, "attribute blocksize is required and must be >= 1");
    *b = ba->i;
    return O2P_OK;
}

o2p_status host_nn_depth_to_space(const host_kernel_args *a)
{
    const host_tensor *X;
    int64_t b;
    O2P_TRY(block_setup(a, &X, &b));
    int64_t N = X->dims[0], C = X->dims[1], H = X->dims[2], W = X->dims[3];
    if (C % (b * b) != 0)
        return host_error(a, "%lld channels are not divisible by blocksize^2 = %lld", (long long)C,
                          (long long)(b * b));
    const char *mode = host_attr_string(a, "mode", "DCR");
    int crd = strcmp(mode, "CRD") == 0;
    if (!crd && strcmp(mode, "DCR") != 0)
        return host_error(a, "mode '%s' is not DCR or CRD", mode);
    int64_t Co = C / (b * b), ydims[4] = {N, Co, H * b, W * b};
    if (H > INT64_MAX / b || W > INT64_MAX / b)
        return host_error(a, "output dims overflow");
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, 4, ydims, &Y));
    size_t es = o2p_dtype_size(X->dtype);
    int64_t o = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < Co; c++)
            for (int64_t h = 0; h < H * b; h++)
                for (int64_t w = 0; w < W * b; w++, o++) {
                    int64_t i = h % b, j = w % b;
                    int64_t ci = crd ? c * b * b + i * b + j : (i * b + j) * Co + c;
                    copy_elem(Y->data, o, X->data, ((n * C + ci) * H + h / b) * W + w / b, es);
                }
    return O2P_OK;
}

o2p_status host_nn_space_to_depth(const host_kernel_args *a)
{
    const host_tensor *X;
    int64_t b;
    O2P_TRY(block_setup(a, &X, &b));
    int64_t N = X->dims[0], C = X->dims[1], H = X->dims[2], W = X->dims[3];
    if (H % b != 0 || W % b != 0)
        return host_error(a, "spatial dims %lld x %lld are not divisible by blocksize %lld",
                          (long long)H, (long long)W, (long long)b);
    if (C > INT64_MAX / (b * b))
        return host_error(a, "output dims overflow");
    /* ONNX has only DCR; CRD (as DepthToSpace's) is accepted for symmetry */
    const char *mode = host_attr_string(a, "mode", "DCR");
    int crd = strcmp(mode, "CRD") == 0;
    if (!crd && strcmp(mode, "DCR") != 0)
        return host_error(a, "mode '%s' is not DCR or CRD", mode);
    int64_t Ho = H / b, Wo = W / b, ydims[4] = {N, C * b * b, Ho, Wo};
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, 4, ydims, &Y));
    size_t es = o2p_dtype_size(X->dtype);
    int64_t o = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t co = 0; co < C * b * b; co++) {
            int64_t blk = crd ? co % (b * b) : co / C, c = crd ? co / (b * b) : co % C;
            int64_t i = blk / b, j = blk % b;
            for (int64_t h = 0; h < Ho; h++)
                for (int64_t w = 0; w < Wo; w++, o++)
                    copy_elem(Y->data, o, X->data, ((n * C + c) * H + h * b + i) * W + w * b + j,
                              es);
        }
    return O2P_OK;
}
