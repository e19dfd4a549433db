/* nn_norm.c: normalizations (BatchNormalization, InstanceNormalization,
 * LayerNormalization, GroupNormalization, LpNormalization, MeanVarianceNormalization, LRN)
 * and Softmax, LogSoftmax, Hardmax. Values are staged in float32; means and variances are
 * accumulated in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/nn_internal.h"

/* Stages the float inputs/outputs of one kernel and frees them together. */
typedef struct staging {
    float *owned[8];
    int count;
} staging;

static const float *stage_in(const host_kernel_args *a, staging *s, const host_tensor *t)
{
    float *o = NULL;
    const float *p = host_nn_f32_in(a, t, &o);
    if (o)
        s->owned[s->count++] = o;
    return p;
}

static float *stage_out(const host_kernel_args *a, staging *s, host_tensor *t)
{
    float *o = NULL;
    float *p = host_nn_f32_buf(a, t, &o);
    if (o)
        s->owned[s->count++] = o;
    return p;
}

static void stage_free(staging *s)
{
    for (int i = 0; i < s->count; i++)
        free(s->owned[i]);
    s->count = 0;
}

/* Stages the usual pair: input X read, output Y written. */
static o2p_status stage_xy(const host_kernel_args *a, staging *s, const host_tensor *X,
                           host_tensor *Y, const float **x, float **y)
{
    *x = stage_in(a, s, X);
    *y = *x ? stage_out(a, s, Y) : NULL;
    if (*y)
        return O2P_OK;
    stage_free(s);
    return O2P_ERR_OUT_OF_MEMORY;
}

static o2p_status want_float(const host_kernel_args *a, const host_tensor *t)
{
    return host_nn_is_float(t->dtype) ? O2P_OK : host_unsupported_dtype(a, t->dtype);
}

/* A per-channel parameter of C values (what names it). */
static o2p_status want_vector(const host_kernel_args *a, const host_tensor *t, const char *what,
                              int64_t c)
{
    O2P_TRY(want_float(a, t));
    if (t->rank != 1 || t->dims[0] != c) {
        char s[256];
        return host_error(a, "%s must have shape [%lld], not %s", what, (long long)c,
                          host_nn_shape_str(t, s, sizeof s));
    }
    return O2P_OK;
}

/* Walks the elements of a tensor broadcast to an output shape: off is the element of the
 * broadcast tensor at the current output index. */
typedef struct bcast_iter {
    int rank;
    int64_t dims[HOST_MAX_RANK], strides[HOST_MAX_RANK], coord[HOST_MAX_RANK];
    int64_t off;
} bcast_iter;

static void bcast_init(bcast_iter *it, const host_tensor *t, int rank, const int64_t *dims)
{
    memset(it, 0, sizeof *it);
    it->rank = rank;
    memcpy(it->dims, dims, (size_t)rank * sizeof(int64_t));
    host_broadcast_strides(t, rank, dims, it->strides);
}

static void bcast_next(bcast_iter *it)
{
    for (int d = it->rank - 1; d >= 0; d--) {
        it->off += it->strides[d];
        if (++it->coord[d] < it->dims[d])
            return;
        it->off -= it->strides[d] * it->dims[d];
        it->coord[d] = 0;
    }
}

/* Whether t broadcasts to exactly (rank, dims). */
static int broadcasts_to(const host_tensor *t, int rank, const int64_t *dims)
{
    if (t->rank > rank)
        return 0;
    for (int i = 0; i < t->rank; i++) {
        int64_t d = t->dims[i], o = dims[rank - t->rank + i];
        if (d != o && d != 1)
            return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- BatchNormalization */

/* Training mode (opset 14+): Y from the batch's statistics per channel (the mean and the
 * population variance over N and the spatial dims, in double), and the running statistics
 * updated with momentum: running = input * momentum + current * (1 - momentum). Y is
 * normalized as in inference mode (x * mul + add) with those statistics. */
static o2p_status batch_norm_training(const host_kernel_args *a, const host_tensor *X,
                                      const host_tensor *S, const host_tensor *B,
                                      const host_tensor *Mean, const host_tensor *Var,
                                      host_tensor *Y, host_tensor *run_mean, host_tensor *run_var,
                                      double eps)
{
    int64_t N = X->dims[0], C = X->dims[1], inner = host_nn_prod(X->dims, 2, X->rank);
    double momentum = host_attr_float(a, "momentum", 0.9f);
    staging st = {0};
    const float *x = stage_in(a, &st, X);
    float *y = x ? stage_out(a, &st, Y) : NULL;
    if (!y) {
        stage_free(&st);
        return O2P_ERR_OUT_OF_MEMORY;
    }
    double count = (double)N * (double)inner;
    for (int64_t c = 0; c < C; c++) {
        double sum = 0.0, sq = 0.0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < inner; i++)
                sum += x[(n * C + c) * inner + i];
        double mean = count > 0 ? sum / count : 0.0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < inner; i++) {
                double d = x[(n * C + c) * inner + i] - mean;
                sq += d * d;
            }
        double var = count > 0 ? sq / count : 0.0;
        if (run_mean)
            host_set_f64(run_mean, c, host_get_f64(Mean, c) * momentum + mean * (1.0 - momentum));
        if (run_var)
            host_set_f64(run_var, c, host_get_f64(Var, c) * momentum + var * (1.0 - momentum));
        double k = host_get_f64(S, c) / sqrt(var + eps);
        float mul = (float)k, add = (float)(host_get_f64(B, c) - mean * k);
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < inner; i++)
                y[(n * C + c) * inner + i] = x[(n * C + c) * inner + i] * mul + add;
    }
    if (host_nn_numel(Y) > 0)
        host_nn_f32_out(Y, y);
    stage_free(&st);
    return O2P_OK;
}

o2p_status host_nn_batch_norm(const host_kernel_args *a)
{
    const host_tensor *X, *S, *B, *Mean, *Var;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    O2P_TRY(host_nn_input(a, 1, "scale", &S));
    O2P_TRY(host_nn_input(a, 2, "B", &B));
    O2P_TRY(host_nn_input(a, 3, "input_mean", &Mean));
    O2P_TRY(host_nn_input(a, 4, "input_var", &Var));
    O2P_TRY(want_float(a, X));
    /* From opset 14 training_mode says it; before, the statistics outputs meant training,
     * whose saved_mean / saved_var outputs the opsets define loosely: refused. */
    int training = a->opset >= 14 && host_attr_int(a, "training_mode", 0) != 0;
    if (a->opset < 14 && (host_out(a, 1) || host_out(a, 2) || host_out(a, 3) || host_out(a, 4)))
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (BatchNormalization): training mode before opset 14 (the "
                        "mean, var, saved_mean and saved_var outputs) is not supported by the "
                        "host kernel; export the model with opset 14 or in inference mode",
                        a->layer_name ? a->layer_name : "");
    if (X->rank < 2)
        return host_error(a, "X must have rank >= 2 (N, C, ...), not %d", X->rank);
    int64_t C = X->dims[1], inner = host_nn_prod(X->dims, 2, X->rank);
    /* opset 7's spatial=0: one parameter per (channel, spatial position) */
    int per_element = a->opset < 9 && host_attr_int(a, "spatial", 1) == 0;
    int64_t pc = per_element ? C * inner : C;
    const host_tensor *params[4] = {S, B, Mean, Var};
    const char *names[4] = {"scale", "B", "input_mean", "input_var"};
    for (int i = 0; i < 4; i++) {
        O2P_TRY(want_float(a, params[i]));
        if (per_element ? host_nn_numel(params[i]) != pc
                        : (params[i]->rank != 1 || params[i]->dims[0] != C)) {
            char s[256];
            return host_error(a, "%s must have %s%lld values, not shape %s", names[i],
                              per_element ? "C x spatial = " : "shape [C] = ", (long long)pc,
                              host_nn_shape_str(params[i], s, sizeof s));
        }
    }
    host_tensor *Y, *run_mean = NULL, *run_var = NULL;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, X->dims, &Y));
    if (a->opset >= 14) {
        O2P_TRY(host_nn_output_opt(a, 1, Mean->dtype, Mean->rank, Mean->dims, &run_mean));
        O2P_TRY(host_nn_output_opt(a, 2, Var->dtype, Var->rank, Var->dims, &run_var));
        /* outside training, running_mean and running_var are the inputs unchanged */
        if (!training && run_mean && pc > 0)
            memcpy(run_mean->data, Mean->data, (size_t)pc * o2p_dtype_size(Mean->dtype));
        if (!training && run_var && pc > 0)
            memcpy(run_var->data, Var->data, (size_t)pc * o2p_dtype_size(Var->dtype));
    }
    double eps = host_attr_float(a, "epsilon", 1e-5f);
    int64_t N = X->dims[0];
    if (training)
        return batch_norm_training(a, X, S, B, Mean, Var, Y, run_mean, run_var, eps);
    if (host_nn_numel(Y) == 0)
        return O2P_OK;
    staging st = {0};
    const float *x = stage_in(a, &st, X), *s = x ? stage_in(a, &st, S) : NULL;
    const float *b = s ? stage_in(a, &st, B) : NULL, *m = b ? stage_in(a, &st, Mean) : NULL;
    const float *v = m ? stage_in(a, &st, Var) : NULL;
    float *y = v ? stage_out(a, &st, Y) : NULL;
    float *mul = y ? host_nn_alloc(a, pc, sizeof(float)) : NULL;
    float *add = mul ? host_nn_alloc(a, pc, sizeof(float)) : NULL;
    if (!add) {
        free(mul);
        stage_free(&st);
        return O2P_ERR_OUT_OF_MEMORY;
    }
    /* y = x * mul + add with mul = scale / sqrt(var + eps), add = B - mean * mul */
    for (int64_t c = 0; c < pc; c++) {
        double k = s[c] / sqrt((double)v[c] + eps);
        mul[c] = (float)k;
        add[c] = (float)(b[c] - m[c] * k);
    }
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            const float *xp = x + (n * C + c) * inner;
            float *yp = y + (n * C + c) * inner;
            if (per_element) {
                for (int64_t i = 0; i < inner; i++)
                    yp[i] = xp[i] * mul[c * inner + i] + add[c * inner + i];
            } else {
                float k = mul[c], d = add[c];
                for (int64_t i = 0; i < inner; i++)
                    yp[i] = xp[i] * k + d;
            }
        }
    host_nn_f32_out(Y, y);
    free(mul);
    free(add);
    stage_free(&st);
    return O2P_OK;
}

/* Mean and 1 / sqrt(variance + eps) of n values (two passes in double). */
static void moments(const float *x, int64_t n, double eps, double *mean, double *inv_std)
{
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += x[i];
    double mu = n > 0 ? sum / (double)n : 0.0, sq = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = x[i] - mu;
        sq += d * d;
    }
    *mean = mu;
    *inv_std = 1.0 / sqrt((n > 0 ? sq / (double)n : 0.0) + eps);
}

/* ---------------------------------------------------------------- InstanceNormalization */

o2p_status host_nn_instance_norm(const host_kernel_args *a)
{
    const host_tensor *X, *S, *B;
    O2P_TRY(host_nn_input(a, 0, "input", &X));
    O2P_TRY(host_nn_input(a, 1, "scale", &S));
    O2P_TRY(host_nn_input(a, 2, "B", &B));
    O2P_TRY(want_float(a, X));
    if (X->rank < 2)
        return host_error(a, "input must have rank >= 2 (N, C, ...), not %d", X->rank);
    int64_t N = X->dims[0], C = X->dims[1], inner = host_nn_prod(X->dims, 2, X->rank);
    O2P_TRY(want_vector(a, S, "scale", C));
    O2P_TRY(want_vector(a, B, "B", C));
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, X->dims, &Y));
    double eps = host_attr_float(a, "epsilon", 1e-5f);
    if (host_nn_numel(Y) == 0)
        return O2P_OK;
    staging st = {0};
    const float *x = stage_in(a, &st, X), *s = x ? stage_in(a, &st, S) : NULL;
    const float *b = s ? stage_in(a, &st, B) : NULL;
    float *y = b ? stage_out(a, &st, Y) : NULL;
    if (!y) {
        stage_free(&st);
        return O2P_ERR_OUT_OF_MEMORY;
    }
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            const float *xp = x + (n * C + c) * inner;
            float *yp = y + (n * C + c) * inner;
            double mean, inv;
            moments(xp, inner, eps, &mean, &inv);
            double k = s[c] * inv;
            for (int64_t i = 0; i < inner; i++)
                yp[i] = (float)((xp[i] - mean) * k + b[c]);
        }
    host_nn_f32_out(Y, y);
    stage_free(&st);
    return O2P_OK;
}

/* ---------------------------------------------------------------- LayerNormalization */

/* An optional statistics output (Mean, InvStdDev): any float type, the given shape. */
static o2p_status stat_output(const host_kernel_args *a, int i, const host_tensor *X, int rank,
                              const int64_t *dims, host_tensor **t)
{
    host_tensor *o = host_out(a, i);
    o2p_dtype want = o && host_nn_is_float(o->dtype) ? o->dtype : X->dtype;
    return host_nn_output_opt(a, i, want, rank, dims, t);
}

o2p_status host_nn_layer_norm(const host_kernel_args *a)
{
    const host_tensor *X, *S, *B;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    O2P_TRY(host_nn_input(a, 1, "Scale", &S));
    O2P_TRY(host_nn_input_opt(a, 2, "B", 0, &B));
    O2P_TRY(want_float(a, X));
    O2P_TRY(want_float(a, S));
    if (B)
        O2P_TRY(want_float(a, B));
    if (X->rank < 1)
        return host_error(a, "X must have rank >= 1");
    int axis;
    int64_t axis_attr = host_attr_int(a, "axis", -1);
    if (!host_norm_axis(axis_attr, X->rank, &axis))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis_attr,
                          X->rank);
    char s1[256], s2[256];
    if (!broadcasts_to(S, X->rank, X->dims) || (B && !broadcasts_to(B, X->rank, X->dims)))
        return host_error(a, "Scale %s and B %s must broadcast to X %s",
                          host_nn_shape_str(S, s1, sizeof s1),
                          B ? host_nn_shape_str(B, s2, sizeof s2) : "(none)",
                          host_nn_shape_str(X, s2, sizeof s2));
    int64_t sdims[HOST_MAX_RANK];
    for (int i = 0; i < X->rank; i++)
        sdims[i] = i < axis ? X->dims[i] : 1;
    host_tensor *Y, *Mo, *Io;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, X->dims, &Y));
    O2P_TRY(stat_output(a, 1, X, X->rank, sdims, &Mo));
    O2P_TRY(stat_output(a, 2, X, X->rank, sdims, &Io));
    double eps = host_attr_float(a, "epsilon", 1e-5f);
    int64_t rows = host_nn_prod(X->dims, 0, axis), cols = host_nn_prod(X->dims, axis, X->rank);
    if (rows == 0 || (cols == 0 && !Mo && !Io))
        return O2P_OK;
    staging st = {0};
    const float *x = stage_in(a, &st, X), *s = x ? stage_in(a, &st, S) : NULL;
    const float *b = s && B ? stage_in(a, &st, B) : NULL;
    float *y = s && (!B || b) ? stage_out(a, &st, Y) : NULL;
    if (!y) {
        stage_free(&st);
        return O2P_ERR_OUT_OF_MEMORY;
    }
    bcast_iter si, bi;
    bcast_init(&si, S, X->rank, X->dims);
    if (B)
        bcast_init(&bi, B, X->rank, X->dims);
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        double mean, inv;
        moments(xr, cols, eps, &mean, &inv);
        for (int64_t i = 0; i < cols; i++) {
            float v = (float)((xr[i] - mean) * inv) * s[si.off];
            if (b) {
                v += b[bi.off];
                bcast_next(&bi);
            }
            yr[i] = v;
            bcast_next(&si);
        }
        if (Mo)
            host_set_f64(Mo, r, mean);
        if (Io)
            host_set_f64(Io, r, inv);
    }
    host_nn_f32_out(Y, y);
    stage_free(&st);
    return O2P_OK;
}

/* ---------------------------------------------------------------- GroupNormalization */

o2p_status host_nn_group_norm(const host_kernel_args *a)
{
    const host_tensor *X, *S, *B;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    O2P_TRY(host_nn_input(a, 1, "scale", &S));
    O2P_TRY(host_nn_input(a, 2, "bias", &B));
    O2P_TRY(want_float(a, X));
    O2P_TRY(want_float(a, S));
    O2P_TRY(want_float(a, B));
    if (X->rank < 2)
        return host_error(a, "X must have rank >= 2 (N, C, ...), not %d", X->rank);
    const host_attr *ga = host_attr_find(a, "num_groups");
    if (!ga || ga->type != O2P_ATTR_INT)
        return host_error(a, "attribute num_groups is required");
    int64_t G = ga->i, N = X->dims[0], C = X->dims[1], inner = host_nn_prod(X->dims, 2, X->rank);
    if (G < 1 || C % G != 0)
        return host_error(a, "num_groups %lld must be >= 1 and divide the %lld channels",
                          (long long)G, (long long)C);
    /* opset 18 scales per group, opset 21 per channel: take what the shape says */
    int64_t ns = host_nn_numel(S);
    int per_channel = ns == C;
    if ((S->rank != 1 || B->rank != 1) || (ns != C && ns != G) || host_nn_numel(B) != ns) {
        char s1[256], s2[256];
        return host_error(a,
                          "scale %s and bias %s must both have shape [%lld] (channels) or "
                          "[%lld] (groups)",
                          host_nn_shape_str(S, s1, sizeof s1), host_nn_shape_str(B, s2, sizeof s2),
                          (long long)C, (long long)G);
    }
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, X->dims, &Y));
    double eps = host_attr_float(a, "epsilon", 1e-5f);
    if (host_nn_numel(Y) == 0)
        return O2P_OK;
    staging st = {0};
    const float *x = stage_in(a, &st, X), *s = x ? stage_in(a, &st, S) : NULL;
    const float *b = s ? stage_in(a, &st, B) : NULL;
    float *y = b ? stage_out(a, &st, Y) : NULL;
    if (!y) {
        stage_free(&st);
        return O2P_ERR_OUT_OF_MEMORY;
    }
    int64_t cg = C / G, gsize = cg * inner;
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            const float *xg = x + (n * C + g * cg) * inner;
            float *yg = y + (n * C + g * cg) * inner;
            double mean, inv;
            moments(xg, gsize, eps, &mean, &inv);
            for (int64_t c = 0; c < cg; c++) {
                int64_t p = per_channel ? g * cg + c : g;
                for (int64_t i = 0; i < inner; i++)
                    yg[c * inner + i] = (float)((xg[c * inner + i] - mean) * inv) * s[p] + b[p];
            }
        }
    host_nn_f32_out(Y, y);
    stage_free(&st);
    return O2P_OK;
}

/* ---------------------------------------------------------------- along one axis */

/* outer x n x inner view of X around `axis` (opset < 13 Softmax: n = everything from axis). */
static o2p_status axis_view(const host_kernel_args *a, const host_tensor *X, int64_t axis_attr,
                            int coerce_2d, int64_t *outer, int64_t *n, int64_t *inner)
{
    int axis;
    if (X->rank == 0) {
        *outer = *n = *inner = 1;
        return O2P_OK;
    }
    if (!host_norm_axis(axis_attr, X->rank, &axis))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis_attr,
                          X->rank);
    *outer = host_nn_prod(X->dims, 0, axis);
    if (coerce_2d) {
        *n = host_nn_prod(X->dims, axis, X->rank);
        *inner = 1;
    } else {
        *n = X->dims[axis];
        *inner = host_nn_prod(X->dims, axis + 1, X->rank);
    }
    return O2P_OK;
}

typedef enum { SOFTMAX, LOG_SOFTMAX, HARDMAX } softmax_kind;

static o2p_status softmax_family(const host_kernel_args *a, softmax_kind kind)
{
    const host_tensor *X;
    O2P_TRY(host_nn_input(a, 0, "input", &X));
    O2P_TRY(want_float(a, X));
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, X->dims, &Y));
    int legacy = a->opset < 13;
    int64_t outer, n, inner;
    O2P_TRY(axis_view(a, X, host_attr_int(a, "axis", legacy ? 1 : -1), legacy, &outer, &n, &inner));
    if (host_nn_numel(Y) == 0)
        return O2P_OK;
    staging st = {0};
    const float *x;
    float *y;
    O2P_TRY(stage_xy(a, &st, X, Y, &x, &y));
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            const float *xp = x + o * n * inner + in;
            float *yp = y + o * n * inner + in;
            if (kind == HARDMAX) {
                int64_t best = 0;
                for (int64_t i = 1; i < n && !isnan(xp[best * inner]); i++)
                    if (xp[i * inner] > xp[best * inner] || isnan(xp[i * inner]))
                        best = i;
                for (int64_t i = 0; i < n; i++)
                    yp[i * inner] = i == best ? 1.0f : 0.0f;
                continue;
            }
            float mx = -INFINITY;
            for (int64_t i = 0; i < n; i++)
                if (xp[i * inner] > mx || isnan(xp[i * inner]))
                    mx = isnan(mx) ? mx : xp[i * inner];
            if (isinf(mx) && mx < 0)
                mx = 0.0f; /* every value -inf: exp gives zeros, the sum 0 (NaN results) */
            double sum = 0.0;
            for (int64_t i = 0; i < n; i++) {
                float e = expf(xp[i * inner] - mx);
                if (kind == SOFTMAX)
                    yp[i * inner] = e;
                sum += e;
            }
            if (kind == SOFTMAX) {
                float inv = (float)(1.0 / sum);
                for (int64_t i = 0; i < n; i++)
                    yp[i * inner] *= inv;
            } else {
                float lse = (float)log(sum);
                for (int64_t i = 0; i < n; i++)
                    yp[i * inner] = xp[i * inner] - mx - lse;
            }
        }
    host_nn_f32_out(Y, y);
    stage_free(&st);
    return O2P_OK;
}

o2p_status host_nn_softmax(const host_kernel_args *a)
{
    return softmax_family(a, SOFTMAX);
}

o2p_status host_nn_log_softmax(const host_kernel_args *a)
{
    return softmax_family(a, LOG_SOFTMAX);
}

o2p_status host_nn_hardmax(const host_kernel_args *a)
{
    return softmax_family(a, HARDMAX);
}

/* ---------------------------------------------------------------- LpNormalization */

o2p_status host_nn_lp_norm(const host_kernel_args *a)
{
    const host_tensor *X;
    O2P_TRY(host_nn_input(a, 0, "input", &X));
    O2P_TRY(want_float(a, X));
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, X->dims, &Y));
    int64_t p = host_attr_int(a, "p", 2);
    if (p != 1 && p != 2)
        return host_error(a, "p is %lld, must be 1 or 2", (long long)p);
    if (X->rank < 1)
        return host_error(a, "input must have rank >= 1");
    int64_t outer, n, inner;
    O2P_TRY(axis_view(a, X, host_attr_int(a, "axis", -1), 0, &outer, &n, &inner));
    if (host_nn_numel(Y) == 0)
        return O2P_OK;
    staging st = {0};
    const float *x;
    float *y;
    O2P_TRY(stage_xy(a, &st, X, Y, &x, &y));
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            const float *xp = x + o * n * inner + in;
            float *yp = y + o * n * inner + in;
            double norm = 0.0;
            for (int64_t i = 0; i < n; i++)
                norm += p == 1 ? fabs(xp[i * inner]) : (double)xp[i * inner] * xp[i * inner];
            if (p == 2)
                norm = sqrt(norm);
            for (int64_t i = 0; i < n; i++)
                yp[i * inner] = norm == 0.0 ? 0.0f : (float)(xp[i * inner] / norm);
        }
    host_nn_f32_out(Y, y);
    stage_free(&st);
    return O2P_OK;
}

/* ---------------------------------------------------------------- MeanVarianceNormalization */

o2p_status host_nn_mvn(const host_kernel_args *a)
{
    const host_tensor *X;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    O2P_TRY(want_float(a, X));
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, X->dims, &Y));
    static const int64_t default_axes[3] = {0, 2, 3};
    int count = 0;
    const int64_t *axes = host_attr_ints(a, "axes", &count);
    if (!axes) {
        axes = default_axes;
        count = 3;
    }
    int reduced[HOST_MAX_RANK] = {0};
    for (int i = 0; i < count; i++) {
        int ax;
        if (!host_norm_axis(axes[i], X->rank, &ax) || X->rank == 0)
            return host_error(a, "axes[%d] = %lld is out of range for rank %d", i,
                              (long long)axes[i], X->rank);
        if (reduced[ax])
            return host_error(a, "axis %d appears twice in axes", ax);
        reduced[ax] = 1;
    }
    int64_t total = host_nn_numel(X);
    if (total == 0)
        return O2P_OK;
    /* groups: the positions of the kept axes */
    int64_t groups = 1, per_group = 1;
    for (int i = 0; i < X->rank; i++) {
        if (reduced[i])
            per_group *= X->dims[i];
        else
            groups *= X->dims[i];
    }
    staging st = {0};
    const float *x = stage_in(a, &st, X);
    float *y = x ? stage_out(a, &st, Y) : NULL;
    double *sum = y ? host_nn_alloc(a, groups, 2 * sizeof(double)) : NULL;
    int64_t *gidx = sum ? host_nn_alloc(a, total, sizeof(int64_t)) : NULL;
    if (!gidx) {
        free(sum);
        stage_free(&st);
        return O2P_ERR_OUT_OF_MEMORY;
    }
    memset(sum, 0, (size_t)groups * 2 * sizeof(double));
    int64_t coord[HOST_MAX_RANK] = {0};
    for (int64_t i = 0; i < total; i++) {
        int64_t g = 0;
        for (int d = 0; d < X->rank; d++)
            if (!reduced[d])
                g = g * X->dims[d] + coord[d];
        gidx[i] = g;
        sum[2 * g] += x[i];
        sum[2 * g + 1] += (double)x[i] * x[i];
        for (int d = X->rank - 1; d >= 0; d--) {
            if (++coord[d] < X->dims[d])
                break;
            coord[d] = 0;
        }
    }
    for (int64_t g = 0; g < groups; g++) {
        double mean = sum[2 * g] / (double)per_group;
        double var = sum[2 * g + 1] / (double)per_group - mean * mean;
        sum[2 * g] = mean;
        sum[2 * g + 1] = 1.0 / (sqrt(var > 0.0 ? var : 0.0) + 1e-9);
    }
    for (int64_t i = 0; i < total; i++)
        y[i] = (float)((x[i] - sum[2 * gidx[i]]) * sum[2 * gidx[i] + 1]);
    host_nn_f32_out(Y, y);
    free(sum);
    free(gidx);
    stage_free(&st);
    return O2P_OK;
}

/* ---------------------------------------------------------------- LRN */

o2p_status host_nn_lrn(const host_kernel_args *a)
{
    const host_tensor *X;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    O2P_TRY(want_float(a, X));
    if (X->rank < 2)
        return host_error(a, "X must have rank >= 2 (N, C, ...), not %d", X->rank);
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, X->dims, &Y));
    const host_attr *sa = host_attr_find(a, "size");
    if (!sa || sa->type != O2P_ATTR_INT || sa->i < 1)
        return host_error(a, "attribute size is required and must be >= 1");
    int64_t size = sa->i;
    double alpha = host_attr_float(a, "alpha", 1e-4f), beta = host_attr_float(a, "beta", 0.75f);
    double bias = host_attr_float(a, "bias", 1.0f);
    int64_t N = X->dims[0], C = X->dims[1], inner = host_nn_prod(X->dims, 2, X->rank);
    if (host_nn_numel(Y) == 0)
        return O2P_OK;
    staging st = {0};
    const float *x;
    float *y;
    O2P_TRY(stage_xy(a, &st, X, Y, &x, &y));
    int64_t before = (size - 1) / 2, after = size / 2; /* floor and ceil of (size - 1) / 2 */
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            int64_t lo = c - before < 0 ? 0 : c - before;
            int64_t hi = after > C - 1 - c ? C - 1 : c + after;
            for (int64_t i = 0; i < inner; i++) {
                double sq = 0.0;
                for (int64_t k = lo; k <= hi; k++) {
                    double v = x[(n * C + k) * inner + i];
                    sq += v * v;
                }
                int64_t at = (n * C + c) * inner + i;
                y[at] = (float)(x[at] / pow(bias + alpha / (double)size * sq, beta));
            }
        }
    host_nn_f32_out(Y, y);
    stage_free(&st);
    return O2P_OK;
}
