/* nn_conv.c: Conv and ConvTranspose (1-D, 2-D, 3-D and beyond; groups, dilations, strides,
 * pads and auto_pad; ConvTranspose's output_padding and output_shape). Computed in float32:
 * im2col into a bounded scratch buffer and the shared GEMM for Conv, GEMM then col2im for
 * ConvTranspose, a direct loop for 2-D convolutions with one input channel per group
 * (depthwise). Other float types are staged through float32. */
#include <stdlib.h>
#include <string.h>

#include "host/nn_internal.h"

/* Scratch budget of the column buffer, in floats (chunks of output positions keep it there). */
#define COL_BUDGET ((int64_t)1 << 21)

static int64_t floor_div(int64_t a, int64_t b) /* b > 0 */
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int64_t ceil_div(int64_t a, int64_t b) /* b > 0 */
{
    return -floor_div(-a, b);
}

/* The geometry shared by the gather (im2col) and the scatter (col2im): an iteration space of
 * positions `pos` (row-major), a target image `tgt` per channel, and for a kernel offset k the
 * target coordinate t_d = pos_d * stride_d + k_d * dilation_d - pad_d. */
typedef struct window_map {
    int nsp;
    const int64_t *pos, *tgt, *kernel, *stride, *dilation, *pad;
    int64_t kprod, tgt_size;
} window_map;

/* Rows r = (channel, kernel offset) of the column matrix, for positions [p0, p0 + np):
 * gather: col[r*np + j] = image value at the target, or 0 outside the image;
 * scatter: image value at the target += col[r*np + j] where inside the image. */
static void map_columns(const window_map *m, int gather, int64_t rows, int64_t p0, int64_t np,
                        float *img, float *col)
{
    int nsp = m->nsp, last = nsp - 1;
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / m->kprod, kr = r % m->kprod, off[HOST_MAX_RANK], q[HOST_MAX_RANK];
        for (int d = nsp - 1; d >= 0; d--) {
            off[d] = (kr % m->kernel[d]) * m->dilation[d] - m->pad[d];
            kr /= m->kernel[d];
        }
        int64_t p = p0;
        for (int d = nsp - 1; d >= 0; d--) {
            q[d] = p % m->pos[d];
            p /= m->pos[d];
        }
        float *image = img + c * m->tgt_size, *crow = col + r * np;
        int64_t s = m->stride[last], o = off[last], T = m->tgt[last];
        for (int64_t j = 0; j < np;) {
            int64_t run = m->pos[last] - q[last];
            if (run > np - j)
                run = np - j;
            int valid = 1;
            int64_t base = 0;
            for (int d = 0; d < last; d++) {
                int64_t t = q[d] * m->stride[d] + off[d];
                if (t < 0 || t >= m->tgt[d]) {
                    valid = 0;
                    break;
                }
                base = base * m->tgt[d] + t;
            }
            base *= T;
            float *cj = crow + j;
            int64_t q0 = q[last], lo = 0, hi = 0;
            if (valid) {
                /* positions whose target t = q*s + o lies in [0, T) */
                lo = ceil_div(-o, s) - q0;
                hi = floor_div(T - 1 - o, s) + 1 - q0;
                lo = lo < 0 ? 0 : lo > run ? run : lo;
                hi = hi < lo ? lo : hi > run ? run : hi;
            }
            const int64_t first = base + q0 * s + o;
            if (gather) {
                for (int64_t i = 0; i < lo; i++)
                    cj[i] = 0.0f;
                if (s == 1 && hi > lo)
                    memcpy(cj + lo, image + (first + lo), (size_t)(hi - lo) * sizeof(float));
                else
                    for (int64_t i = lo; i < hi; i++)
                        cj[i] = image[first + i * s];
                for (int64_t i = hi; i < run; i++)
                    cj[i] = 0.0f;
            } else {
                for (int64_t i = lo; i < hi; i++)
                    image[first + i * s] += cj[i];
            }
            j += run;
            q[last] += run;
            for (int d = last; d > 0 && q[d] == m->pos[d]; d--) {
                q[d] = 0;
                q[d - 1]++;
            }
        }
    }
}

/* Positions per chunk so that rows x chunk floats stay within the scratch budget. */
static int64_t chunk_positions(int64_t rows, int64_t total)
{
    int64_t np = COL_BUDGET / (rows > 0 ? rows : 1);
    if (np < 256)
        np = 256;
    return np < total ? np : total;
}

/* Common checks of X, W and B; *kernel gets W's spatial dims (checked against kernel_shape). */
static o2p_status conv_inputs(const host_kernel_args *a, const host_tensor **X,
                              const host_tensor **W, const host_tensor **B, int64_t *group)
{
    O2P_TRY(host_nn_input(a, 0, "X", X));
    O2P_TRY(host_nn_input(a, 1, "W", W));
    O2P_TRY(host_nn_input_opt(a, 2, "B", 1, B));
    if (!host_nn_is_float((*X)->dtype))
        return host_unsupported_dtype(a, (*X)->dtype);
    O2P_TRY(host_nn_want_dtype(a, *W, "W", (*X)->dtype));
    if (*B)
        O2P_TRY(host_nn_want_dtype(a, *B, "B", (*X)->dtype));
    if ((*X)->rank < 3)
        return host_error(a, "X must have rank >= 3 (N, C and spatial axes), not %d", (*X)->rank);
    if ((*W)->rank != (*X)->rank) {
        char s1[256], s2[256];
        return host_error(a, "W %s must have the rank of X %s",
                          host_nn_shape_str(*W, s1, sizeof s1),
                          host_nn_shape_str(*X, s2, sizeof s2));
    }
    int nsp = (*X)->rank - 2, count = 0;
    const int64_t *ks = host_attr_ints(a, "kernel_shape", &count);
    if (ks) {
        if (count != nsp)
            return host_error(a, "kernel_shape has %d values, expected %d", count, nsp);
        for (int i = 0; i < nsp; i++)
            if (ks[i] != (*W)->dims[i + 2])
                return host_error(a, "kernel_shape[%d] = %lld disagrees with W's dim %lld", i,
                                  (long long)ks[i], (long long)(*W)->dims[i + 2]);
    }
    *group = host_attr_int(a, "group", 1);
    if (*group < 1)
        return host_error(a, "group is %lld, must be >= 1", (long long)*group);
    return O2P_OK;
}

/* ---------------------------------------------------------------- Conv */

/* 2-D convolution of one input channel into mg output channels (a depthwise group), tap by
 * tap: y[m] += w[m, kh, kw] * shifted x. */
static void conv2d_one_channel(const nn_window *w, const float *x, const float *wt, int64_t mg,
                               float *y)
{
    int64_t H = w->in[0], W = w->in[1], Ho = w->out[0], Wo = w->out[1];
    int64_t kh = w->kernel[0], kw = w->kernel[1], sh = w->stride[0], sw = w->stride[1];
    for (int64_t m = 0; m < mg; m++) {
        float *ym = y + m * Ho * Wo;
        for (int64_t i = 0; i < kh; i++)
            for (int64_t j = 0; j < kw; j++) {
                float wv = wt[(m * kh + i) * kw + j];
                int64_t oh_off = i * w->dilation[0] - w->pad_begin[0];
                int64_t ow_off = j * w->dilation[1] - w->pad_begin[1];
                int64_t lo = ceil_div(-ow_off, sw), hi = floor_div(W - 1 - ow_off, sw) + 1;
                lo = lo < 0 ? 0 : lo;
                hi = hi > Wo ? Wo : hi;
                for (int64_t oh = 0; oh < Ho; oh++) {
                    int64_t ih = oh * sh + oh_off;
                    if (ih < 0 || ih >= H)
                        continue;
                    const float *xr = x + ih * W;
                    float *yr = ym + oh * Wo;
                    if (sw == 1)
                        for (int64_t ow = lo; ow < hi; ow++)
                            yr[ow] += wv * xr[ow + ow_off];
                    else
                        for (int64_t ow = lo; ow < hi; ow++)
                            yr[ow] += wv * xr[ow * sw + ow_off];
                }
            }
    }
}

static o2p_status conv_f32(const host_kernel_args *a, const nn_window *w, int64_t N, int64_t C,
                           int64_t M, int64_t group, const float *x, const float *wt,
                           const float *b, float *y)
{
    int nsp = w->nsp;
    int64_t cg = C / group, mg = M / group, kprod = host_nn_prod(w->kernel, 0, nsp);
    int64_t in_size = host_nn_prod(w->in, 0, nsp), out_size = host_nn_prod(w->out, 0, nsp);
    int64_t rows = cg * kprod;
    /* y starts as the bias (or 0); the GEMM accumulates onto it */
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++) {
            float v = b ? b[m] : 0.0f;
            float *ym = y + (n * M + m) * out_size;
            for (int64_t i = 0; i < out_size; i++)
                ym[i] = v;
        }
    if (out_size == 0 || mg == 0)
        return O2P_OK;
    int pointwise = 1; /* 1x1 kernel, stride 1, no padding: the input is the column matrix */
    for (int d = 0; d < nsp; d++)
        if (w->kernel[d] != 1 || w->stride[d] != 1 || w->pad_begin[d] != 0 || w->pad_end[d] != 0)
            pointwise = 0;
    int depthwise = nsp == 2 && cg == 1;
    float *col = NULL;
    int64_t chunk = chunk_positions(rows, out_size);
    if (!pointwise && !depthwise) {
        col = host_nn_alloc(a, rows * chunk, sizeof(float));
        if (!col)
            return O2P_ERR_OUT_OF_MEMORY;
    }
    window_map map = {nsp,         w->out,       w->in, w->kernel, w->stride,
                      w->dilation, w->pad_begin, kprod, in_size};
    o2p_status st = O2P_OK;
    for (int64_t n = 0; n < N && st == O2P_OK; n++)
        for (int64_t g = 0; g < group && st == O2P_OK; g++) {
            const float *xg = x + (n * C + g * cg) * in_size;
            const float *wg = wt + g * mg * rows;
            float *yg = y + (n * M + g * mg) * out_size;
            if (depthwise) {
                conv2d_one_channel(w, xg, wg, mg, yg);
            } else if (pointwise) {
                if (!host_nn_sgemm(mg, out_size, cg, 1.0f, wg, rows, 1, xg, in_size, 1, 1.0f, yg,
                                   out_size))
                    st = host_nn_oom(a);
            } else {
                for (int64_t p0 = 0; p0 < out_size && st == O2P_OK; p0 += chunk) {
                    int64_t np = out_size - p0 < chunk ? out_size - p0 : chunk;
                    map_columns(&map, 1, rows, p0, np, (float *)xg, col);
                    if (!host_nn_sgemm(mg, np, rows, 1.0f, wg, rows, 1, col, np, 1, 1.0f, yg + p0,
                                       out_size))
                        st = host_nn_oom(a);
                }
            }
        }
    free(col);
    return st;
}

/* The computation over float32 views of X, W, B (optional) and Y. */
typedef o2p_status (*conv_fn)(const host_kernel_args *a, const nn_window *w, int64_t N,
                              int64_t C, int64_t M, int64_t group, const float *x,
                              const float *wt, const float *b, float *y);

/* Allocates output 0 with ydims, stages X, W, B and Y as float32 and runs fn: the tail that
 * Conv and ConvTranspose share. */
static o2p_status run_staged(const host_kernel_args *a, const host_tensor *X,
                             const host_tensor *W, const host_tensor *B, const int64_t *ydims,
                             const nn_window *w, int64_t N, int64_t C, int64_t M, int64_t group,
                             conv_fn fn)
{
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, ydims, &Y));
    if (host_nn_numel(Y) == 0)
        return O2P_OK;
    float *ox = NULL, *ow = NULL, *ob = NULL, *oy = NULL;
    o2p_status st = O2P_ERR_OUT_OF_MEMORY;
    const float *x = host_nn_f32_in(a, X, &ox), *wt = x ? host_nn_f32_in(a, W, &ow) : NULL;
    const float *b = wt && B ? host_nn_f32_in(a, B, &ob) : NULL;
    float *y = wt && (!B || b) ? host_nn_f32_buf(a, Y, &oy) : NULL;
    if (y) {
        st = fn(a, w, N, C, M, group, x, wt, b, y);
        if (st == O2P_OK)
            host_nn_f32_out(Y, y);
    }
    free(ox);
    free(ow);
    free(ob);
    free(oy);
    return st;
}

o2p_status host_nn_conv(const host_kernel_args *a)
{
    const host_tensor *X, *W, *B;
    int64_t group;
    O2P_TRY(conv_inputs(a, &X, &W, &B, &group));
    int64_t N = X->dims[0], C = X->dims[1], M = W->dims[0];
    if (C % group != 0 || W->dims[1] != C / group)
        return host_error(a,
                          "X has %lld channels; W's dim 1 (%lld) times group (%lld) must "
                          "equal it",
                          (long long)C, (long long)W->dims[1], (long long)group);
    if (M % group != 0)
        return host_error(a, "W's %lld output channels are not divisible by group %lld",
                          (long long)M, (long long)group);
    if (B && (B->rank != 1 || B->dims[0] != M))
        return host_error(a, "B must have shape [%lld]", (long long)M);
    nn_window w;
    O2P_TRY(host_nn_window(a, X, W->dims + 2, 1, 0, &w));
    int64_t ydims[HOST_MAX_RANK] = {N, M};
    memcpy(ydims + 2, w.out, (size_t)w.nsp * sizeof(int64_t));
    return run_staged(a, X, W, B, ydims, &w, N, C, M, group, conv_f32);
}

/* ---------------------------------------------------------------- ConvTranspose */

/* Output dims and leading pads of ConvTranspose. With output_shape or SAME_* auto_pad the
 * total padding full - out (full = stride * (in - 1) + output_padding + dilated kernel; out
 * = output_shape or in * stride) is split as ONNX says: SAME_UPPER puts the smaller half
 * first, otherwise the larger. Otherwise explicit pads (none for VALID). */
static o2p_status conv_transpose_geometry(const host_kernel_args *a, const host_tensor *X,
                                          const host_tensor *W, nn_window *w)
{
    int nsp = X->rank - 2;
    memset(w, 0, sizeof *w);
    w->nsp = nsp;
    int64_t opad[HOST_MAX_RANK];
    for (int i = 0; i < nsp; i++) {
        w->in[i] = X->dims[i + 2];
        w->kernel[i] = W->dims[i + 2];
        if (w->kernel[i] < 1)
            return host_error(a, "kernel dim %d is %lld, must be >= 1", i, (long long)w->kernel[i]);
    }
    O2P_TRY(host_nn_spatial_ints(a, "strides", nsp, 1, 1, w->stride));
    O2P_TRY(host_nn_spatial_ints(a, "dilations", nsp, 1, 1, w->dilation));
    O2P_TRY(host_nn_spatial_ints(a, "output_padding", nsp, 0, 0, opad));
    const char *auto_pad = host_attr_string(a, "auto_pad", "NOTSET");
    int same_upper = strcmp(auto_pad, "SAME_UPPER") == 0;
    int same_lower = strcmp(auto_pad, "SAME_LOWER") == 0;
    int valid = strcmp(auto_pad, "VALID") == 0;
    if (!same_upper && !same_lower && !valid && strcmp(auto_pad, "NOTSET") != 0 && *auto_pad)
        return host_error(a, "auto_pad '%s' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID",
                          auto_pad);
    int count = 0, pcount = 0;
    const int64_t *oshape = host_attr_ints(a, "output_shape", &count);
    const int64_t *pads = host_attr_ints(a, "pads", &pcount);
    if (oshape && count != nsp && count != nsp + 2)
        return host_error(a, "output_shape has %d values, expected %d", count, nsp);
    if (!oshape && !same_upper && !same_lower && !valid && pads) {
        if (pcount != 2 * nsp)
            return host_error(a, "attribute pads has %d values, expected %d", pcount, 2 * nsp);
        for (int i = 0; i < 2 * nsp; i++)
            if (pads[i] < 0)
                return host_error(a, "pads[%d] is %lld, must be >= 0", i, (long long)pads[i]);
    }
    for (int i = 0; i < nsp; i++) {
        /* full = stride * (in - 1) + output_padding + dilated kernel: the output without pads
         * (in - 1 is -1 for an empty input, as in ONNX's formula); target = in * stride */
        int64_t effk, full, target;
        if (__builtin_mul_overflow(w->kernel[i] - 1, w->dilation[i], &effk) ||
            __builtin_mul_overflow(w->stride[i], w->in[i] - 1, &full) ||
            __builtin_add_overflow(full, opad[i], &full) ||
            __builtin_add_overflow(full, effk, &full) || __builtin_add_overflow(full, 1, &full) ||
            __builtin_mul_overflow(w->stride[i], w->in[i], &target))
            return host_error(a, "the output size overflows on spatial axis %d", i);
        if (oshape || same_upper || same_lower) {
            int64_t out = oshape ? oshape[count - nsp + i] : target;
            if (out < 0)
                return host_error(a, "output_shape[%d] = %lld is invalid", i, (long long)out);
            /* a negative total (the kernel shorter than the stride, or output_shape longer
             * than the full output) pads nothing, as onnxruntime: SAME then gives the full
             * output, an explicit output_shape zero-fills its tail (bias only) */
            int64_t total;
            if (__builtin_sub_overflow(full, out, &total))
                return host_error(a, "output_shape[%d] = %lld is invalid", i, (long long)out);
            if (total < 0) {
                total = 0;
                if (!oshape)
                    out = full;
            }
            int64_t half = total / 2;
            w->pad_begin[i] = same_upper ? half : total - half;
            w->pad_end[i] = total - w->pad_begin[i];
            w->out[i] = out;
        } else {
            int64_t pb = pads && !valid ? pads[i] : 0, pe = pads && !valid ? pads[i + nsp] : 0;
            if (pb > full || pe > full - pb)
                return host_error(a,
                                  "pads %lld + %lld exceed the output size %lld on spatial "
                                  "axis %d",
                                  (long long)pb, (long long)pe, (long long)full, i);
            w->pad_begin[i] = pb;
            w->pad_end[i] = pe;
            w->out[i] = full - pb - pe;
        }
    }
    return O2P_OK;
}

static o2p_status conv_transpose_f32(const host_kernel_args *a, const nn_window *w, int64_t N,
                                     int64_t C, int64_t M, int64_t group, const float *x,
                                     const float *wt, const float *b, float *y)
{
    int nsp = w->nsp;
    int64_t cg = C / group, mg = M / group, kprod = host_nn_prod(w->kernel, 0, nsp);
    int64_t in_size = host_nn_prod(w->in, 0, nsp), out_size = host_nn_prod(w->out, 0, nsp);
    int64_t rows = mg * kprod;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++) {
            float v = b ? b[m] : 0.0f;
            float *ym = y + (n * M + m) * out_size;
            for (int64_t i = 0; i < out_size; i++)
                ym[i] = v;
        }
    if (in_size == 0 || rows == 0 || out_size == 0)
        return O2P_OK;
    int64_t chunk = chunk_positions(rows, in_size);
    float *col = host_nn_alloc(a, rows * chunk, sizeof(float));
    if (!col)
        return O2P_ERR_OUT_OF_MEMORY;
    window_map map = {nsp,         w->in,        w->out, w->kernel, w->stride,
                      w->dilation, w->pad_begin, kprod,  out_size};
    o2p_status st = O2P_OK;
    for (int64_t n = 0; n < N && st == O2P_OK; n++)
        for (int64_t g = 0; g < group && st == O2P_OK; g++) {
            const float *xg = x + (n * C + g * cg) * in_size;
            const float *wg = wt + g * cg * rows; /* [cg, mg * kprod] */
            float *yg = y + (n * M + g * mg) * out_size;
            for (int64_t p0 = 0; p0 < in_size && st == O2P_OK; p0 += chunk) {
                int64_t np = in_size - p0 < chunk ? in_size - p0 : chunk;
                /* col[rows, np] = wg^T [rows, cg] x xg[cg, p0 .. p0 + np) */
                if (!host_nn_sgemm(rows, np, cg, 1.0f, wg, 1, rows, xg + p0, in_size, 1, 0.0f, col,
                                   np)) {
                    st = host_nn_oom(a);
                    break;
                }
                map_columns(&map, 0, rows, p0, np, yg, col);
            }
        }
    free(col);
    return st;
}

o2p_status host_nn_conv_transpose(const host_kernel_args *a)
{
    const host_tensor *X, *W, *B;
    int64_t group;
    O2P_TRY(conv_inputs(a, &X, &W, &B, &group));
    int64_t N = X->dims[0], C = X->dims[1];
    if (W->dims[0] != C || C % group != 0)
        return host_error(a,
                          "W's dim 0 (%lld) must equal X's %lld channels, divisible by "
                          "group %lld",
                          (long long)W->dims[0], (long long)C, (long long)group);
    int64_t M;
    if (__builtin_mul_overflow(W->dims[1], group, &M))
        return host_error(a, "output channel count overflows");
    if (B && (B->rank != 1 || B->dims[0] != M))
        return host_error(a, "B must have shape [%lld]", (long long)M);
    nn_window w;
    O2P_TRY(conv_transpose_geometry(a, X, W, &w));
    int64_t ydims[HOST_MAX_RANK] = {N, M};
    memcpy(ydims + 2, w.out, (size_t)w.nsp * sizeof(int64_t));
    return run_staged(a, X, W, B, ydims, &w, N, C, M, group, conv_transpose_f32);
}
