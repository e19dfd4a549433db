/* test_host_nn.c: the nn family of host kernels called directly through host_kernel_find:
 * Conv, ConvTranspose, Gemm and MatMul against naive references over randomized geometry
 * (every path: im2col chunks, pointwise, depthwise, the blocked GEMM's edges), pooling,
 * normalizations, softmax, Resize/Upsample/GridSample and the block rearrangements on
 * hand-computed values; and hostile calls (wrong output shapes and types, bad attributes,
 * zero-size dims, missing data), plus a randomized sweep of every op of the family that
 * must fail cleanly or work, never crash (run it under the sanitizer build). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_kernels.h"
#include "host/nn_internal.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

#define F32 O2P_DTYPE_FLOAT
#define F64 O2P_DTYPE_DOUBLE
#define F16 O2P_DTYPE_FLOAT16
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define D(...) ((const int64_t[]){__VA_ARGS__})

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static int rnd_int(int lo, int hi) /* [lo, hi] */
{
    return lo + (int)(tu_rand(&rng) % (uint64_t)(hi - lo + 1));
}

static float rnd_float(void)
{
    return (float)((double)(tu_rand(&rng) % 2001) / 1000.0 - 1.0);
}

static int64_t numel_of(int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        if (dims[i] == 0)
            return 0;
    for (int i = 0; i < rank; i++)
        if (__builtin_mul_overflow(n, dims[i], &n))
            return INT64_MAX;
    return n;
}

/* A tensor owning zeroed data (at least one byte so data is never NULL). */
static host_tensor *tensor(o2p_dtype t, int rank, const int64_t *dims)
{
    host_tensor *x = calloc(1, sizeof *x);
    ck_assert_ptr_nonnull(x);
    x->dtype = t;
    x->rank = rank;
    for (int i = 0; i < rank; i++)
        x->dims[i] = dims[i];
    size_t es = o2p_dtype_size(t) ? o2p_dtype_size(t) : 1;
    x->data = calloc((size_t)numel_of(rank, dims) + 1, es);
    ck_assert_ptr_nonnull(x->data);
    return x;
}

static host_tensor *tensor_f(int rank, const int64_t *dims, const float *v)
{
    host_tensor *x = tensor(F32, rank, dims);
    memcpy(x->data, v, (size_t)numel_of(rank, dims) * sizeof(float));
    return x;
}

/* Random values in [-1, 1] (any numeric type; integers get small values). */
static host_tensor *tensor_rand(o2p_dtype t, int rank, const int64_t *dims)
{
    host_tensor *x = tensor(t, rank, dims);
    int64_t n = numel_of(rank, dims);
    for (int64_t i = 0; i < n; i++) {
        if (host_nn_is_float(t))
            host_set_f64(x, i, rnd_float());
        else
            host_set_i64(x, i, rnd_int(-3, 3));
    }
    return x;
}

static void tensor_free(host_tensor *x)
{
    if (x) {
        free(x->data);
        free(x);
    }
}

static float fv(const host_tensor *t, int64_t i)
{
    return (float)host_get_f64(t, i);
}

typedef struct attrs {
    host_attr a[16];
    int n;
} attrs;

static void at_int(attrs *s, const char *name, int64_t v)
{
    host_attr *a = &s->a[s->n++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = O2P_ATTR_INT;
    a->i = v;
}

static void at_float(attrs *s, const char *name, float v)
{
    host_attr *a = &s->a[s->n++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = O2P_ATTR_FLOAT;
    a->f = v;
}

static void at_str(attrs *s, const char *name, const char *v)
{
    host_attr *a = &s->a[s->n++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = O2P_ATTR_STRING;
    a->s = v;
}

/* ints must outlive the call */
static void at_ints(attrs *s, const char *name, int count, const int64_t *v)
{
    host_attr *a = &s->a[s->n++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = O2P_ATTR_INTS;
    a->count = count;
    a->ints = v;
}

static void at_floats(attrs *s, const char *name, int count, const float *v)
{
    host_attr *a = &s->a[s->n++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = O2P_ATTR_FLOATS;
    a->count = count;
    a->floats = v;
}

static o2p_status run(const char *op, int64_t opset, int nin, const host_tensor *const *in,
                      int nout, host_tensor *const *out, const attrs *at)
{
    host_kernel_fn fn = host_kernel_find(op);
    ck_assert_msg(fn != NULL, "no host kernel for %s", op);
    host_kernel_args a = {op, "t", opset, nin, in, nout, out, at ? at->n : 0, at ? at->a : NULL};
    return fn(&a);
}

static void assert_close(const host_tensor *got, const double *want, int64_t n, double tol,
                         const char *what)
{
    for (int64_t i = 0; i < n; i++) {
        double g = host_get_f64(got, i), w = want[i];
        ck_assert_msg(fabs(g - w) <= tol * (1.0 + fabs(w)),
                      "%s: element %lld is %.7g, expected %.7g", what, (long long)i, g, w);
    }
}

static void assert_values(const host_tensor *got, const float *want, const char *what)
{
    int64_t n = numel_of(got->rank, got->dims);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(fv(got, i) - want[i]) <= 1e-4f * (1.0f + fabsf(want[i])),
                      "%s: element %lld is %.7g, expected %.7g", what, (long long)i,
                      (double)fv(got, i), (double)want[i]);
}

/* ---------------------------------------------------------------- Conv */

typedef struct conv_geo {
    int nsp;
    int64_t N, C, M, group;
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], out[3];
} conv_geo;

/* Naive N-D convolution in double. */
static void conv_ref(const conv_geo *g, const host_tensor *X, const host_tensor *W,
                     const host_tensor *B, double *y)
{
    int64_t cg = g->C / g->group, mg = g->M / g->group;
    int64_t osz = numel_of(g->nsp, g->out), isz = numel_of(g->nsp, g->in),
            ksz = numel_of(g->nsp, g->k);
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t m = 0; m < g->M; m++)
            for (int64_t o = 0; o < osz; o++) {
                int64_t oc[3], r = o;
                for (int d = g->nsp - 1; d >= 0; d--) {
                    oc[d] = r % g->out[d];
                    r /= g->out[d];
                }
                double acc = B ? host_get_f64(B, m) : 0.0;
                int64_t grp = m / mg;
                for (int64_t c = 0; c < cg; c++)
                    for (int64_t kk = 0; kk < ksz; kk++) {
                        int64_t kc[3], rr = kk, at = 0, ok = 1;
                        for (int d = g->nsp - 1; d >= 0; d--) {
                            kc[d] = rr % g->k[d];
                            rr /= g->k[d];
                        }
                        for (int d = 0; d < g->nsp; d++) {
                            int64_t i = oc[d] * g->s[d] + kc[d] * g->d[d] - g->pb[d];
                            if (i < 0 || i >= g->in[d])
                                ok = 0;
                            at = at * g->in[d] + i;
                        }
                        if (!ok)
                            continue;
                        acc += host_get_f64(X, (n * g->C + grp * cg + c) * isz + at) *
                               host_get_f64(W, (m * cg + c) * ksz + kk);
                    }
                y[(n * g->M + m) * osz + o] = acc;
            }
}

static void random_conv(conv_geo *g, int nsp, int force_depthwise)
{
    memset(g, 0, sizeof *g);
    g->nsp = nsp;
    g->N = rnd_int(1, 2);
    g->group = force_depthwise ? rnd_int(2, 5) : (rnd_int(0, 3) == 0 ? rnd_int(1, 3) : 1);
    int64_t cg = force_depthwise ? 1 : rnd_int(1, 5), mg = rnd_int(1, force_depthwise ? 2 : 9);
    g->C = cg * g->group;
    g->M = mg * g->group;
    for (int d = 0; d < nsp; d++) {
        g->k[d] = rnd_int(1, nsp == 3 ? 3 : 5);
        g->s[d] = rnd_int(1, 3);
        g->d[d] = rnd_int(1, 2);
        g->pb[d] = rnd_int(0, 2);
        g->pe[d] = rnd_int(0, 2);
        int64_t effk = (g->k[d] - 1) * g->d[d] + 1;
        g->in[d] = effk + rnd_int(0, nsp == 3 ? 5 : 12);
        g->out[d] = (g->in[d] + g->pb[d] + g->pe[d] - effk) / g->s[d] + 1;
    }
}

static void check_conv(const conv_geo *g, o2p_dtype t, int with_bias)
{
    int64_t xd[5] = {g->N, g->C}, wd[5] = {g->M, g->C / g->group}, yd[5] = {g->N, g->M};
    int64_t pads[6], strides[3], dil[3];
    for (int d = 0; d < g->nsp; d++) {
        xd[d + 2] = g->in[d];
        wd[d + 2] = g->k[d];
        yd[d + 2] = g->out[d];
        pads[d] = g->pb[d];
        pads[d + g->nsp] = g->pe[d];
        strides[d] = g->s[d];
        dil[d] = g->d[d];
    }
    int r = g->nsp + 2;
    host_tensor *X = tensor_rand(t, r, xd), *W = tensor_rand(t, r, wd);
    host_tensor *B = with_bias ? tensor_rand(t, 1, &g->M) : NULL, *Y = tensor(t, r, yd);
    attrs at = {.n = 0};
    at_ints(&at, "pads", 2 * g->nsp, pads);
    at_ints(&at, "strides", g->nsp, strides);
    at_ints(&at, "dilations", g->nsp, dil);
    at_int(&at, "group", g->group);
    const host_tensor *in[3] = {X, W, B};
    TU_ASSERT_STATUS(run("Conv", 13, with_bias ? 3 : 2, in, 1, &Y, &at), O2P_OK);
    int64_t n = numel_of(r, yd);
    double *want = malloc((size_t)n * sizeof(double) + 8);
    conv_ref(g, X, W, B, want);
    assert_close(Y, want, n, t == F16 ? 2e-2 : 1e-4, "Conv");
    free(want);
    tensor_free(X);
    tensor_free(W);
    tensor_free(B);
    tensor_free(Y);
}

START_TEST(test_conv_random)
{
    conv_geo g;
    for (int it = 0; it < 150; it++) {
        random_conv(&g, 1 + it % 3, 0);
        check_conv(&g, F32, it % 2);
    }
    for (int it = 0; it < 40; it++) {
        random_conv(&g, 2, 1);
        check_conv(&g, F32, it % 2);
    }
    /* float16 and double go through float32 */
    random_conv(&g, 2, 0);
    check_conv(&g, F16, 1);
    random_conv(&g, 2, 0);
    check_conv(&g, F64, 1);
}
END_TEST

START_TEST(test_conv_large_chunks)
{
    /* enough rows x positions to need several im2col chunks, and a pointwise conv with
     * GEMM dims past the blocking sizes */
    conv_geo g = {.nsp = 2, .N = 1, .C = 96, .M = 150, .group = 1};
    for (int d = 0; d < 2; d++) {
        g.in[d] = 90;
        g.k[d] = 3;
        g.s[d] = 1;
        g.d[d] = 1;
        g.pb[d] = g.pe[d] = 1;
        g.out[d] = 90;
    }
    check_conv(&g, F32, 1);
    conv_geo p = {.nsp = 2, .N = 1, .C = 300, .M = 20, .group = 1};
    for (int d = 0; d < 2; d++) {
        p.in[d] = p.out[d] = 47;
        p.k[d] = p.s[d] = p.d[d] = 1;
    }
    check_conv(&p, F32, 0);
}
END_TEST

START_TEST(test_conv_auto_pad)
{
    /* 1x1x5x5 ones, 3x3 ones, stride 2: SAME_UPPER/SAME_LOWER pad 1 each side -> 3x3 */
    float ones[25];
    for (int i = 0; i < 25; i++)
        ones[i] = (float)i;
    host_tensor *X = tensor_f(4, D(1, 1, 5, 5), ones), *W = tensor(F32, 4, D(1, 1, 3, 3));
    for (int i = 0; i < 9; i++)
        ((float *)W->data)[i] = 1.0f;
    host_tensor *Y = tensor(F32, 4, D(1, 1, 3, 3));
    const host_tensor *in[2] = {X, W};
    attrs at = {.n = 0};
    at_str(&at, "auto_pad", "SAME_UPPER");
    at_ints(&at, "strides", 2, D(2, 2));
    TU_ASSERT_STATUS(run("Conv", 11, 2, in, 1, &Y, &at), O2P_OK);
    /* total pad = (3-1)*2 + 3 - 5 = 2: one each side */
    const float want[9] = {12, 27, 24, 63, 108, 81, 72, 117, 84};
    assert_values(Y, want, "SAME_UPPER");
    /* SAME with 4x4 input: total = (2-1)*2 + 3 - 4 = 1 -> UPPER pads the end, LOWER the start */
    host_tensor *X4 = tensor_f(4, D(1, 1, 4, 4), ones), *Y2 = tensor(F32, 4, D(1, 1, 2, 2));
    const host_tensor *in4[2] = {X4, W};
    TU_ASSERT_STATUS(run("Conv", 11, 2, in4, 1, &Y2, &at), O2P_OK);
    const float up[4] = {45, 39, 66, 50};
    assert_values(Y2, up, "SAME_UPPER 4x4");
    at.a[0].s = "SAME_LOWER";
    TU_ASSERT_STATUS(run("Conv", 11, 2, in4, 1, &Y2, &at), O2P_OK);
    const float low[4] = {10, 24, 51, 90};
    assert_values(Y2, low, "SAME_LOWER 4x4");
    at.a[0].s = "VALID";
    host_tensor *Y1 = tensor(F32, 4, D(1, 1, 1, 1));
    TU_ASSERT_STATUS(run("Conv", 11, 2, in4, 1, &Y1, &at), O2P_OK);
    const float valid[1] = {45};
    assert_values(Y1, valid, "VALID 4x4");
    tensor_free(X);
    tensor_free(X4);
    tensor_free(W);
    tensor_free(Y);
    tensor_free(Y1);
    tensor_free(Y2);
}
END_TEST

START_TEST(test_conv_hostile)
{
    host_tensor *X = tensor_rand(F32, 4, D(1, 4, 5, 5)), *W = tensor_rand(F32, 4, D(6, 2, 3, 3));
    host_tensor *B = tensor_rand(F32, 1, D(6)), *Y = tensor(F32, 4, D(1, 6, 3, 3));
    const host_tensor *in[3] = {X, W, B};
    attrs at = {.n = 0};
    /* groups: 4 channels, W dim 1 is 2 -> group must be 2 */
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &at));
    TU_ASSERT_ERROR_HAS("group");
    at_int(&at, "group", 2);
    TU_ASSERT_STATUS(run("Conv", 13, 3, in, 1, &Y, &at), O2P_OK);
    /* wrong output shape, wrong output type, missing output */
    host_tensor *Ybad = tensor(F32, 4, D(1, 6, 3, 4)), *Yd = tensor(F64, 4, D(1, 6, 3, 3));
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Ybad, &at));
    TU_ASSERT_ERROR_HAS("expected [1,6,3,3]");
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Yd, &at));
    host_tensor *none = NULL;
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &none, &at));
    TU_ASSERT_FAILS(run("Conv", 13, 1, in, 1, &Y, &at));
    /* bad attributes */
    int64_t neg[4] = {-1, 0, 0, 0}, big[2] = {INT64_MAX, INT64_MAX}, zero[2] = {0, 1};
    attrs b = at;
    at_ints(&b, "pads", 4, neg);
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &b));
    b = at;
    at_ints(&b, "pads", 3, neg);
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &b));
    b = at;
    at_ints(&b, "strides", 2, zero);
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &b));
    b = at;
    at_ints(&b, "dilations", 2, big);
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &b));
    b = at;
    at_ints(&b, "pads", 4, D(INT64_MAX, 0, INT64_MAX, 0));
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &b));
    b = at;
    at_ints(&b, "kernel_shape", 2, D(3, 2));
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &b));
    b = at;
    at_str(&b, "auto_pad", "SOMETIMES");
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &b));
    b = at;
    b.a[0].i = 0; /* group */
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &b));
    /* kernel larger than the input */
    host_tensor *Wbig = tensor_rand(F32, 4, D(6, 2, 7, 7));
    const host_tensor *in2[3] = {X, Wbig, B};
    TU_ASSERT_FAILS(run("Conv", 13, 3, in2, 1, &Y, &at));
    TU_ASSERT_ERROR_HAS("exceeds");
    /* bias of the wrong length, W of another type, integer X */
    host_tensor *B5 = tensor_rand(F32, 1, D(5)), *Wd = tensor_rand(F64, 4, D(6, 2, 3, 3));
    const host_tensor *in3[3] = {X, W, B5}, *in4[3] = {X, Wd, B};
    TU_ASSERT_FAILS(run("Conv", 13, 3, in3, 1, &Y, &at));
    TU_ASSERT_FAILS(run("Conv", 13, 3, in4, 1, &Y, &at));
    host_tensor *Xi = tensor_rand(I32, 4, D(1, 4, 5, 5));
    const host_tensor *in5[3] = {Xi, W, B};
    ck_assert_int_eq(run("Conv", 13, 3, in5, 1, &Y, &at), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("int32");
    /* data missing on a non-empty tensor */
    void *keep = X->data;
    X->data = NULL;
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &at));
    X->data = keep;
    /* invalid rank and dims */
    X->rank = 40;
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &at));
    X->rank = 4;
    X->dims[3] = -5;
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &at));
    X->dims[3] = INT64_MAX / 2;
    TU_ASSERT_FAILS(run("Conv", 13, 3, in, 1, &Y, &at));
    X->dims[3] = 5;
    /* zero-size batch: works, writes nothing */
    host_tensor *X0 = tensor_rand(F32, 4, D(0, 4, 5, 5)), *Y0 = tensor(F32, 4, D(0, 6, 3, 3));
    const host_tensor *in6[3] = {X0, W, B};
    TU_ASSERT_STATUS(run("Conv", 13, 3, in6, 1, &Y0, &at), O2P_OK);
    /* zero input channels: the output is the bias */
    host_tensor *Xc = tensor_rand(F32, 4, D(1, 0, 5, 5)), *Wc = tensor_rand(F32, 4, D(6, 0, 3, 3));
    const host_tensor *in7[3] = {Xc, Wc, B};
    attrs one = {.n = 0};
    TU_ASSERT_STATUS(run("Conv", 13, 3, in7, 1, &Y, &one), O2P_OK);
    for (int i = 0; i < 54; i++)
        ck_assert_float_eq(fv(Y, i), fv(B, i / 9));
    host_tensor *tens[] = {X, W, B, Y, Ybad, Yd, Wbig, B5, Wd, Xi, X0, Y0, Xc, Wc};
    for (size_t i = 0; i < sizeof tens / sizeof tens[0]; i++)
        tensor_free(tens[i]);
}
END_TEST

/* ---------------------------------------------------------------- ConvTranspose */

/* Naive transposed convolution: y[o] += x[i] * w[k] with o = i*s + k*d - pad_begin. */
static void conv_transpose_ref(const conv_geo *g, const host_tensor *X, const host_tensor *W,
                               const host_tensor *B, double *y)
{
    int64_t cg = g->C / g->group, mg = g->M / g->group;
    int64_t osz = numel_of(g->nsp, g->out), isz = numel_of(g->nsp, g->in),
            ksz = numel_of(g->nsp, g->k);
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t m = 0; m < g->M; m++)
            for (int64_t o = 0; o < osz; o++)
                y[(n * g->M + m) * osz + o] = B ? host_get_f64(B, m) : 0.0;
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t c = 0; c < g->C; c++)
            for (int64_t i = 0; i < isz; i++) {
                int64_t ic[3], r = i;
                for (int d = g->nsp - 1; d >= 0; d--) {
                    ic[d] = r % g->in[d];
                    r /= g->in[d];
                }
                int64_t grp = c / cg;
                for (int64_t mm = 0; mm < mg; mm++)
                    for (int64_t kk = 0; kk < ksz; kk++) {
                        int64_t kc[3], rr = kk, at = 0, ok = 1;
                        for (int d = g->nsp - 1; d >= 0; d--) {
                            kc[d] = rr % g->k[d];
                            rr /= g->k[d];
                        }
                        for (int d = 0; d < g->nsp; d++) {
                            int64_t o = ic[d] * g->s[d] + kc[d] * g->d[d] - g->pb[d];
                            if (o < 0 || o >= g->out[d])
                                ok = 0;
                            at = at * g->out[d] + o;
                        }
                        if (!ok)
                            continue;
                        int64_t m = grp * mg + mm;
                        y[(n * g->M + m) * osz + at] += host_get_f64(X, (n * g->C + c) * isz + i) *
                                                        host_get_f64(W, (c * mg + mm) * ksz + kk);
                    }
            }
}

START_TEST(test_conv_transpose_random)
{
    for (int it = 0; it < 120; it++) {
        conv_geo g;
        memset(&g, 0, sizeof g);
        g.nsp = 1 + it % 3;
        g.N = rnd_int(1, 2);
        g.group = rnd_int(0, 2) == 0 ? rnd_int(1, 3) : 1;
        int64_t cg = rnd_int(1, 4), mg = rnd_int(1, 4);
        g.C = cg * g.group;
        g.M = mg * g.group;
        int64_t pads[6], strides[3], dil[3], opad[3], oshape[3];
        int use_oshape = it % 4 == 3;
        for (int d = 0; d < g.nsp; d++) {
            g.k[d] = rnd_int(1, 3);
            g.s[d] = rnd_int(1, 3);
            g.d[d] = rnd_int(1, 2);
            g.in[d] = rnd_int(1, g.nsp == 3 ? 3 : 6);
            opad[d] = rnd_int(0, g.s[d] - 1);
            int64_t full = g.s[d] * (g.in[d] - 1) + opad[d] + (g.k[d] - 1) * g.d[d] + 1;
            if (use_oshape) {
                g.out[d] = full - rnd_int(0, full - 1 < 2 ? full - 1 : 2);
                int64_t total = full - g.out[d];
                g.pb[d] = total - total / 2; /* NOTSET with output_shape: larger part first */
                oshape[d] = g.out[d];
            } else {
                g.pb[d] = rnd_int(0, 1);
                g.pe[d] = rnd_int(0, 1);
                if (g.pb[d] + g.pe[d] >= full)
                    g.pb[d] = g.pe[d] = 0;
                g.out[d] = full - g.pb[d] - g.pe[d];
            }
            pads[d] = g.pb[d];
            pads[d + g.nsp] = g.pe[d];
            strides[d] = g.s[d];
            dil[d] = g.d[d];
        }
        int r = g.nsp + 2;
        int64_t xd[5] = {g.N, g.C}, wd[5] = {g.C, mg}, yd[5] = {g.N, g.M};
        for (int d = 0; d < g.nsp; d++) {
            xd[d + 2] = g.in[d];
            wd[d + 2] = g.k[d];
            yd[d + 2] = g.out[d];
        }
        host_tensor *X = tensor_rand(F32, r, xd), *W = tensor_rand(F32, r, wd);
        host_tensor *B = it % 2 ? tensor_rand(F32, 1, &g.M) : NULL, *Y = tensor(F32, r, yd);
        attrs at = {.n = 0};
        if (use_oshape)
            at_ints(&at, "output_shape", g.nsp, oshape);
        else
            at_ints(&at, "pads", 2 * g.nsp, pads);
        at_ints(&at, "strides", g.nsp, strides);
        at_ints(&at, "dilations", g.nsp, dil);
        at_ints(&at, "output_padding", g.nsp, opad);
        at_int(&at, "group", g.group);
        const host_tensor *in[3] = {X, W, B};
        TU_ASSERT_STATUS(run("ConvTranspose", 11, B ? 3 : 2, in, 1, &Y, &at), O2P_OK);
        int64_t n = numel_of(r, yd);
        double *want = malloc((size_t)n * sizeof(double) + 8);
        conv_transpose_ref(&g, X, W, B, want);
        assert_close(Y, want, n, 1e-4, "ConvTranspose");
        free(want);
        tensor_free(X);
        tensor_free(W);
        tensor_free(B);
        tensor_free(Y);
    }
}
END_TEST

START_TEST(test_conv_transpose_hostile)
{
    host_tensor *X = tensor_rand(F32, 4, D(1, 2, 3, 3)), *W = tensor_rand(F32, 4, D(2, 3, 3, 3));
    host_tensor *Y = tensor(F32, 4, D(1, 3, 5, 5));
    const host_tensor *in[2] = {X, W};
    attrs at = {.n = 0};
    TU_ASSERT_STATUS(run("ConvTranspose", 11, 2, in, 1, &Y, &at), O2P_OK);
    attrs b = at;
    at_ints(&b, "pads", 4, D(3, 3, 3, 3)); /* pads eat the whole output */
    TU_ASSERT_FAILS(run("ConvTranspose", 11, 2, in, 1, &Y, &b));
    b = at;
    at_ints(&b, "output_shape", 2, D(-1, 5));
    TU_ASSERT_FAILS(run("ConvTranspose", 11, 2, in, 1, &Y, &b));
    b = at;
    at_ints(&b, "strides", 2, D(INT64_MAX, 1));
    TU_ASSERT_FAILS(run("ConvTranspose", 11, 2, in, 1, &Y, &b));
    b = at;
    at_ints(&b, "output_padding", 2, D(-1, 0));
    TU_ASSERT_FAILS(run("ConvTranspose", 11, 2, in, 1, &Y, &b));
    b = at;
    at_int(&b, "group", 3);
    TU_ASSERT_FAILS(run("ConvTranspose", 11, 2, in, 1, &Y, &b));
    /* output_shape larger than the full output: the rest stays 0 (negative end padding) */
    host_tensor *Y7 = tensor(F32, 4, D(1, 3, 7, 6));
    b = at;
    at_ints(&b, "output_shape", 2, D(7, 6));
    TU_ASSERT_STATUS(run("ConvTranspose", 11, 2, in, 1, &Y7, &b), O2P_OK);
    /* SAME_UPPER: out = in * stride */
    host_tensor *Y6 = tensor(F32, 4, D(1, 3, 6, 6));
    b = at;
    at_str(&b, "auto_pad", "SAME_UPPER");
    at_ints(&b, "strides", 2, D(2, 2));
    TU_ASSERT_STATUS(run("ConvTranspose", 11, 2, in, 1, &Y6, &b), O2P_OK);
    tensor_free(X);
    tensor_free(W);
    tensor_free(Y);
    tensor_free(Y6);
    tensor_free(Y7);
}
END_TEST

/* ---------------------------------------------------------------- Gemm, MatMul, sgemm */

START_TEST(test_sgemm_blocking)
{
    /* sizes across MC, KC and NC and the micro-tile edges, with every stride layout */
    const int64_t sizes[][3] = {{1, 1, 1},     {7, 17, 3},     {6, 16, 256},   {145, 33, 257},
                                {13, 2049, 5}, {300, 70, 600}, {2, 3000, 300}, {50, 1, 9}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
        for (int layout = 0; layout < 4; layout++) {
            int ta = layout & 1, tb = layout >> 1;
            float *A = malloc((size_t)(M * K) * 4), *B = malloc((size_t)(K * N) * 4);
            float *C = malloc((size_t)(M * N) * 4);
            double *want = malloc((size_t)(M * N) * 8);
            for (int64_t i = 0; i < M * K; i++)
                A[i] = rnd_float();
            for (int64_t i = 0; i < K * N; i++)
                B[i] = rnd_float();
            for (int64_t i = 0; i < M * N; i++)
                C[i] = rnd_float();
            int64_t ars = ta ? 1 : K, acs = ta ? M : 1, brs = tb ? 1 : N, bcs = tb ? K : 1;
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double acc = 0;
                    for (int64_t k = 0; k < K; k++)
                        acc += (double)A[i * ars + k * acs] * B[k * brs + j * bcs];
                    want[i * N + j] = 0.5 * acc + (layout == 3 ? 0.0 : 2.0 * C[i * N + j]);
                }
            ck_assert(host_nn_sgemm(M, N, K, 0.5f, A, ars, acs, B, brs, bcs,
                                    layout == 3 ? 0.0f : 2.0f, C, N));
            for (int64_t i = 0; i < M * N; i++)
                ck_assert_msg(fabs(C[i] - want[i]) <= 1e-4 * (1 + fabs(want[i])) + 1e-4 * K * 1e-2,
                              "sgemm %lldx%lldx%lld layout %d: element %lld is %g, expected %g",
                              (long long)M, (long long)N, (long long)K, layout, (long long)i,
                              (double)C[i], want[i]);
            free(A);
            free(B);
            free(C);
            free(want);
        }
    }
}
END_TEST

START_TEST(test_gemm)
{
    const float a[6] = {1, 2, 3, 4, 5, 6}; /* [2,3] */
    const float b[6] = {1, 0, 0, 1, 1, 1}; /* [3,2] */
    host_tensor *A = tensor_f(2, D(2, 3), a), *B = tensor_f(2, D(3, 2), b);
    host_tensor *Crow = tensor_f(1, D(2), (const float[]){10, 20});
    host_tensor *Ccol = tensor_f(2, D(2, 1), (const float[]){100, 200});
    host_tensor *Y = tensor(F32, 2, D(2, 2));
    const host_tensor *in[3] = {A, B, Crow};
    attrs at = {.n = 0};
    at_float(&at, "alpha", 2.0f);
    at_float(&at, "beta", 0.5f);
    TU_ASSERT_STATUS(run("Gemm", 13, 3, in, 1, &Y, &at), O2P_OK);
    /* A x B = [[4,5],[10,11]] */
    assert_values(Y, (const float[]){13, 20, 25, 32}, "Gemm row C");
    in[2] = Ccol;
    TU_ASSERT_STATUS(run("Gemm", 13, 3, in, 1, &Y, &at), O2P_OK);
    assert_values(Y, (const float[]){58, 60, 120, 122}, "Gemm column C");
    TU_ASSERT_STATUS(run("Gemm", 13, 2, in, 1, &Y, &at), O2P_OK);
    assert_values(Y, (const float[]){8, 10, 20, 22}, "Gemm no C");
    /* transposes: A^T [3,2] x B^T [2,3] */
    host_tensor *Y3 = tensor(F32, 2, D(3, 3));
    attrs tt = {.n = 0};
    at_int(&tt, "transA", 1);
    at_int(&tt, "transB", 1);
    const host_tensor *in2[2] = {A, B};
    TU_ASSERT_STATUS(run("Gemm", 13, 2, in2, 1, &Y3, &tt), O2P_OK);
    /* A^T [3,2] x B^T [2,3] */
    assert_values(Y3, (const float[]){1, 4, 5, 2, 5, 7, 3, 6, 9}, "Gemm transA transB");
    /* integers: exact */
    host_tensor *Ai = tensor(I64, 2, D(1, 2)), *Bi = tensor(I64, 2, D(2, 1)),
                *Yi = tensor(I64, 2, D(1, 1));
    ((int64_t *)Ai->data)[0] = 3000000000LL;
    ((int64_t *)Ai->data)[1] = 7;
    ((int64_t *)Bi->data)[0] = 3;
    ((int64_t *)Bi->data)[1] = -2;
    const host_tensor *in3[2] = {Ai, Bi};
    TU_ASSERT_STATUS(run("Gemm", 13, 2, in3, 1, &Yi, NULL), O2P_OK);
    ck_assert_int_eq(((int64_t *)Yi->data)[0], 8999999986LL);
    /* hostile */
    TU_ASSERT_FAILS(run("Gemm", 13, 2, in2, 1, &Y3, NULL)); /* [2,3] x [3,2] is [2,2] */
    TU_ASSERT_ERROR_HAS("expected [2,2]");
    host_tensor *Cbad = tensor_f(1, D(3), (const float[]){1, 2, 3});
    const host_tensor *in4[3] = {A, B, Cbad};
    TU_ASSERT_FAILS(run("Gemm", 13, 3, in4, 1, &Y, NULL));
    const host_tensor *in5[2] = {A, A};
    TU_ASSERT_FAILS(run("Gemm", 13, 2, in5, 1, &Y, NULL));
    host_tensor *Ab = tensor(O2P_DTYPE_BOOL, 2, D(2, 3)), *Bb = tensor(O2P_DTYPE_BOOL, 2, D(3, 2));
    host_tensor *Yb = tensor(O2P_DTYPE_BOOL, 2, D(2, 2));
    const host_tensor *in6[2] = {Ab, Bb};
    ck_assert_int_eq(run("Gemm", 13, 2, in6, 1, &Yb, NULL), O2P_ERR_UNSUPPORTED);
    host_tensor *tens[] = {A, B, Crow, Ccol, Y, Y3, Ai, Bi, Yi, Cbad, Ab, Bb, Yb};
    for (size_t i = 0; i < sizeof tens / sizeof tens[0]; i++)
        tensor_free(tens[i]);
}
END_TEST

/* MatMul of random operands against a naive broadcast reference. */
static void check_matmul(o2p_dtype t, int ra, const int64_t *da, int rb, const int64_t *db, int ry,
                         const int64_t *dy)
{
    host_tensor *A = tensor_rand(t, ra, da), *B = tensor_rand(t, rb, db), *Y = tensor(t, ry, dy);
    const host_tensor *in[2] = {A, B};
    TU_ASSERT_STATUS(run("MatMul", 13, 2, in, 1, &Y, NULL), O2P_OK);
    /* reference through promoted shapes */
    int64_t pa[HOST_MAX_RANK + 2], pb[HOST_MAX_RANK + 2];
    int pra = ra, prb = rb;
    memcpy(pa, da, (size_t)ra * 8);
    memcpy(pb, db, (size_t)rb * 8);
    if (ra == 1) {
        pa[0] = 1;
        pa[1] = da[0];
        pra = 2;
    }
    if (rb == 1) {
        pb[0] = db[0];
        pb[1] = 1;
        prb = 2;
    }
    int64_t M = pa[pra - 2], K = pa[pra - 1], N = pb[prb - 1];
    int nb = (pra > prb ? pra : prb) - 2;
    int64_t batch = 1, bd[HOST_MAX_RANK];
    for (int i = 0; i < nb; i++) {
        int ia = i - (nb - (pra - 2)), ib = i - (nb - (prb - 2));
        int64_t x = ia >= 0 ? pa[ia] : 1, y = ib >= 0 ? pb[ib] : 1;
        bd[i] = x > y ? x : y;
        batch *= bd[i];
    }
    double *want = malloc((size_t)(batch * M * N) * 8 + 8);
    for (int64_t b = 0; b < batch; b++) {
        int64_t ao = 0, bo = 0, rem = b, sa = 1, sb = 1;
        for (int i = nb - 1; i >= 0; i--) {
            int64_t c = rem % bd[i];
            rem /= bd[i];
            int ia = i - (nb - (pra - 2)), ib = i - (nb - (prb - 2));
            int64_t x = ia >= 0 ? pa[ia] : 1, y = ib >= 0 ? pb[ib] : 1;
            ao += (x == 1 ? 0 : c) * sa;
            bo += (y == 1 ? 0 : c) * sb;
            sa *= x;
            sb *= y;
        }
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double acc = 0;
                for (int64_t k = 0; k < K; k++)
                    acc += host_get_f64(A, ao * M * K + i * K + k) *
                           host_get_f64(B, bo * K * N + k * N + j);
                want[(b * M + i) * N + j] = acc;
            }
    }
    assert_close(Y, want, batch * M * N, t == F16 ? 1e-2 : 1e-5, "MatMul");
    free(want);
    tensor_free(A);
    tensor_free(B);
    tensor_free(Y);
}

START_TEST(test_matmul)
{
    check_matmul(F32, 2, D(3, 4), 2, D(4, 5), 2, D(3, 5));
    check_matmul(F32, 1, D(4), 2, D(4, 5), 1, D(5));
    check_matmul(F32, 2, D(3, 4), 1, D(4), 1, D(3));
    check_matmul(F32, 1, D(4), 1, D(4), 0, NULL);
    check_matmul(F32, 3, D(2, 3, 4), 2, D(4, 5), 3, D(2, 3, 5));          /* B shared */
    check_matmul(F32, 2, D(3, 4), 3, D(2, 4, 5), 3, D(2, 3, 5));          /* A broadcast */
    check_matmul(F32, 4, D(2, 1, 3, 4), 3, D(3, 4, 5), 4, D(2, 3, 3, 5)); /* both */
    check_matmul(F32, 3, D(2, 40, 70), 3, D(2, 70, 300), 3, D(2, 40, 300));
    check_matmul(F32, 1, D(5), 3, D(2, 5, 3), 2, D(2, 3));
    check_matmul(F32, 3, D(2, 3, 5), 1, D(5), 2, D(2, 3));
    check_matmul(F64, 3, D(2, 3, 4), 3, D(2, 4, 2), 3, D(2, 3, 2));
    check_matmul(F16, 2, D(3, 4), 2, D(4, 5), 2, D(3, 5));
    check_matmul(I32, 3, D(2, 3, 4), 2, D(4, 2), 3, D(2, 3, 2));
    check_matmul(I64, 2, D(3, 4), 3, D(2, 4, 2), 3, D(2, 3, 2));
    check_matmul(F32, 2, D(0, 4), 2, D(4, 5), 2, D(0, 5));
    check_matmul(F32, 2, D(3, 0), 2, D(0, 5), 2, D(3, 5)); /* K = 0: zeros */
    /* hostile */
    host_tensor *A = tensor_rand(F32, 2, D(3, 4)), *B = tensor_rand(F32, 2, D(5, 4));
    host_tensor *Y = tensor(F32, 2, D(3, 4));
    const host_tensor *in[2] = {A, B};
    TU_ASSERT_FAILS(run("MatMul", 13, 2, in, 1, &Y, NULL));
    TU_ASSERT_ERROR_HAS("do not multiply");
    host_tensor *A3 = tensor_rand(F32, 3, D(2, 3, 4)), *B3 = tensor_rand(F32, 3, D(3, 4, 5));
    host_tensor *Y3 = tensor(F32, 3, D(3, 3, 5));
    const host_tensor *in2[2] = {A3, B3};
    TU_ASSERT_FAILS(run("MatMul", 13, 2, in2, 1, &Y3, NULL));
    TU_ASSERT_ERROR_HAS("broadcast");
    host_tensor *S = tensor_rand(F32, 0, NULL);
    const host_tensor *in3[2] = {S, B};
    TU_ASSERT_FAILS(run("MatMul", 13, 2, in3, 1, &Y, NULL));
    tensor_free(A);
    tensor_free(B);
    tensor_free(Y);
    tensor_free(A3);
    tensor_free(B3);
    tensor_free(Y3);
    tensor_free(S);
}
END_TEST

/* ---------------------------------------------------------------- pooling */

START_TEST(test_max_pool)
{
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)((i * 7) % 16);
    /* x = [[0,7,14,5],[12,3,10,1],[8,15,6,13],[4,11,2,9]] */
    host_tensor *X = tensor_f(4, D(1, 1, 4, 4), x), *Y = tensor(F32, 4, D(1, 1, 2, 2));
    host_tensor *I = tensor(I64, 4, D(1, 1, 2, 2));
    attrs at = {.n = 0};
    at_ints(&at, "kernel_shape", 2, D(2, 2));
    at_ints(&at, "strides", 2, D(2, 2));
    const host_tensor *in[1] = {X};
    host_tensor *out[2] = {Y, I};
    TU_ASSERT_STATUS(run("MaxPool", 12, 1, in, 2, out, &at), O2P_OK);
    assert_values(Y, (const float[]){12, 14, 15, 13}, "MaxPool");
    int64_t *idx = I->data;
    ck_assert(idx[0] == 4 && idx[1] == 2 && idx[2] == 9 && idx[3] == 11);
    at_int(&at, "storage_order", 1);
    TU_ASSERT_STATUS(run("MaxPool", 12, 1, in, 2, out, &at), O2P_OK);
    ck_assert(idx[0] == 1 && idx[1] == 8 && idx[2] == 6 && idx[3] == 14);
    /* ceil_mode with 3x3 stride 2 over 4x4: 2x2 windows, the last one clipped */
    attrs c = {.n = 0};
    at_ints(&c, "kernel_shape", 2, D(3, 3));
    at_ints(&c, "strides", 2, D(2, 2));
    at_int(&c, "ceil_mode", 1);
    TU_ASSERT_STATUS(run("MaxPool", 12, 1, in, 1, out, &c), O2P_OK);
    assert_values(Y, (const float[]){15, 14, 15, 13}, "MaxPool ceil_mode");
    /* uint8 */
    host_tensor *Xu = tensor(O2P_DTYPE_UINT8, 4, D(1, 1, 4, 4)),
                *Yu = tensor(O2P_DTYPE_UINT8, 4, D(1, 1, 2, 2));
    for (int i = 0; i < 16; i++)
        ((uint8_t *)Xu->data)[i] = (uint8_t)(x[i] * 10);
    const host_tensor *inu[1] = {Xu};
    TU_ASSERT_STATUS(run("MaxPool", 12, 1, inu, 1, &Yu, &at), O2P_OK);
    ck_assert_int_eq(((uint8_t *)Yu->data)[2], 150);
    /* hostile: no kernel_shape, wrong Indices type, rank 2 input */
    attrs none = {.n = 0};
    TU_ASSERT_FAILS(run("MaxPool", 12, 1, in, 1, out, &none));
    host_tensor *If = tensor(F32, 4, D(1, 1, 2, 2));
    host_tensor *out2[2] = {Y, If};
    TU_ASSERT_FAILS(run("MaxPool", 12, 1, in, 2, out2, &at));
    host_tensor *X2 = tensor_rand(F32, 2, D(4, 4));
    const host_tensor *in2[1] = {X2};
    TU_ASSERT_FAILS(run("MaxPool", 12, 1, in2, 1, out, &at));
    host_tensor *tens[] = {X, Y, I, Xu, Yu, If, X2};
    for (size_t i = 0; i < sizeof tens / sizeof tens[0]; i++)
        tensor_free(tens[i]);
}
END_TEST

START_TEST(test_average_pool)
{
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    host_tensor *X = tensor_f(4, D(1, 1, 3, 3), x), *Y = tensor(F32, 4, D(1, 1, 2, 2));
    attrs at = {.n = 0};
    at_ints(&at, "kernel_shape", 2, D(2, 2));
    at_ints(&at, "pads", 4, D(1, 1, 0, 0));
    at_ints(&at, "strides", 2, D(2, 2));
    const host_tensor *in[1] = {X};
    TU_ASSERT_STATUS(run("AveragePool", 11, 1, in, 1, &Y, &at), O2P_OK);
    /* windows: [1], [2,3], [4,7], [5,6,8,9] */
    assert_values(Y, (const float[]){1, 2.5f, 5.5f, 7}, "AveragePool");
    at_int(&at, "count_include_pad", 1);
    TU_ASSERT_STATUS(run("AveragePool", 11, 1, in, 1, &Y, &at), O2P_OK);
    assert_values(Y, (const float[]){0.25f, 1.25f, 2.75f, 7}, "AveragePool count_include_pad");
    /* global pools and LpPool */
    host_tensor *G = tensor(F32, 4, D(1, 1, 1, 1));
    TU_ASSERT_STATUS(run("GlobalAveragePool", 1, 1, in, 1, &G, NULL), O2P_OK);
    ck_assert_float_eq_tol(fv(G, 0), 5.0f, 1e-6f);
    TU_ASSERT_STATUS(run("GlobalMaxPool", 1, 1, in, 1, &G, NULL), O2P_OK);
    ck_assert_float_eq(fv(G, 0), 9.0f);
    TU_ASSERT_STATUS(run("GlobalLpPool", 2, 1, in, 1, &G, NULL), O2P_OK);
    ck_assert_float_eq_tol(fv(G, 0), sqrtf(285.0f), 1e-4f);
    attrs lp = {.n = 0};
    at_ints(&lp, "kernel_shape", 2, D(3, 3));
    at_int(&lp, "p", 1);
    TU_ASSERT_STATUS(run("LpPool", 11, 1, in, 1, &G, &lp), O2P_OK);
    ck_assert_float_eq_tol(fv(G, 0), 45.0f, 1e-4f);
    attrs badp = {.n = 0};
    at_ints(&badp, "kernel_shape", 2, D(3, 3));
    at_float(&badp, "p", -1.0f);
    TU_ASSERT_FAILS(run("LpPool", 11, 1, in, 1, &G, &badp));
    tensor_free(X);
    tensor_free(Y);
    tensor_free(G);
}
END_TEST

/* ---------------------------------------------------------------- normalizations, softmax */

START_TEST(test_normalizations)
{
    float x[8] = {1, 2, 3, 4, -1, 0, 1, 2}; /* [1,2,4]: channel 0 = 1..4, channel 1 = -1..2 */
    host_tensor *X = tensor_f(3, D(1, 2, 4), x), *Y = tensor(F32, 3, D(1, 2, 4));
    host_tensor *S = tensor_f(1, D(2), (const float[]){2, 1}),
                *B = tensor_f(1, D(2), (const float[]){0, 1});
    host_tensor *Mn = tensor_f(1, D(2), (const float[]){2.5f, 0.5f});
    host_tensor *V = tensor_f(1, D(2), (const float[]){1.25f, 1.25f});
    const host_tensor *in[5] = {X, S, B, Mn, V};
    attrs eps = {.n = 0};
    at_float(&eps, "epsilon", 0.0f);
    TU_ASSERT_STATUS(run("BatchNormalization", 15, 5, in, 1, &Y, &eps), O2P_OK);
    float k = 1.0f / sqrtf(1.25f);
    const float bn[8] = {-3 * k,       -k,           k,           3 * k, 1 - 1.5f * k,
                         1 - 0.5f * k, 1 + 0.5f * k, 1 + 1.5f * k};
    assert_values(Y, bn, "BatchNormalization");
    /* InstanceNormalization has the same statistics here */
    TU_ASSERT_STATUS(run("InstanceNormalization", 6, 3, in, 1, &Y, &eps), O2P_OK);
    assert_values(Y, bn, "InstanceNormalization");
    /* training mode normalizes with the batch's statistics (test_host_training.c checks the
     * running statistics); the statistics outputs before opset 14 are refused */
    attrs tr = {.n = 0};
    at_int(&tr, "training_mode", 1);
    at_float(&tr, "epsilon", 0.0f);
    TU_ASSERT_STATUS(run("BatchNormalization", 15, 5, in, 1, &Y, &tr), O2P_OK);
    host_tensor *Ymean = tensor(F32, 1, D(2));
    host_tensor *outs[2] = {Y, Ymean};
    ck_assert_int_eq(run("BatchNormalization", 9, 5, in, 2, outs, NULL), O2P_ERR_UNSUPPORTED);
    /* LayerNormalization over the last axis with Mean and InvStdDev */
    host_tensor *W4 = tensor_f(1, D(4), (const float[]){1, 1, 1, 1});
    host_tensor *M = tensor(F32, 3, D(1, 2, 1)), *Is = tensor(F32, 3, D(1, 2, 1));
    const host_tensor *lin[2] = {X, W4};
    host_tensor *lout[3] = {Y, M, Is};
    TU_ASSERT_STATUS(run("LayerNormalization", 17, 2, lin, 3, lout, &eps), O2P_OK);
    ck_assert_float_eq_tol(fv(M, 0), 2.5f, 1e-6f);
    ck_assert_float_eq_tol(fv(M, 1), 0.5f, 1e-6f);
    ck_assert_float_eq_tol(fv(Is, 0), k, 1e-6f);
    ck_assert_float_eq_tol(fv(Y, 0), -1.5f * k, 1e-5f);
    /* wrong Mean shape */
    host_tensor *Mbad = tensor(F32, 2, D(1, 2));
    host_tensor *lout2[2] = {Y, Mbad};
    TU_ASSERT_FAILS(run("LayerNormalization", 17, 2, lin, 2, lout2, &eps));
    /* Scale not broadcastable */
    host_tensor *W3 = tensor_f(1, D(3), (const float[]){1, 1, 1});
    const host_tensor *lin2[2] = {X, W3};
    TU_ASSERT_FAILS(run("LayerNormalization", 17, 2, lin2, 1, &Y, &eps));
    attrs bad_axis = {.n = 0};
    at_int(&bad_axis, "axis", 3);
    TU_ASSERT_FAILS(run("LayerNormalization", 17, 2, lin, 1, &Y, &bad_axis));
    /* GroupNormalization with one group per channel = InstanceNormalization */
    attrs gn = eps;
    at_int(&gn, "num_groups", 2);
    const host_tensor *gin[3] = {X, S, B};
    TU_ASSERT_STATUS(run("GroupNormalization", 18, 3, gin, 1, &Y, &gn), O2P_OK);
    assert_values(Y, bn, "GroupNormalization");
    attrs gn3 = eps;
    at_int(&gn3, "num_groups", 3);
    TU_ASSERT_FAILS(run("GroupNormalization", 18, 3, gin, 1, &Y, &gn3));
    /* LpNormalization */
    attrs l1 = {.n = 0};
    at_int(&l1, "p", 1);
    TU_ASSERT_STATUS(run("LpNormalization", 1, 1, in, 1, &Y, &l1), O2P_OK);
    ck_assert_float_eq_tol(fv(Y, 0), 0.1f, 1e-6f);
    ck_assert_float_eq_tol(fv(Y, 4), -0.25f, 1e-6f);
    attrs l3 = {.n = 0};
    at_int(&l3, "p", 3);
    TU_ASSERT_FAILS(run("LpNormalization", 1, 1, in, 1, &Y, &l3));
    /* MeanVarianceNormalization over axes 0, 2 */
    attrs mvn = {.n = 0};
    at_ints(&mvn, "axes", 2, D(0, 2));
    TU_ASSERT_STATUS(run("MeanVarianceNormalization", 13, 1, in, 1, &Y, &mvn), O2P_OK);
    ck_assert_float_eq_tol(fv(Y, 3), 3 * k / 2 * 1.0f, 1e-4f * 3);
    attrs mvn_dup = {.n = 0};
    at_ints(&mvn_dup, "axes", 2, D(2, -1));
    TU_ASSERT_FAILS(run("MeanVarianceNormalization", 13, 1, in, 1, &Y, &mvn_dup));
    /* LRN: size 3 across the two channels */
    host_tensor *X4 = tensor_f(4, D(1, 2, 1, 1), (const float[]){1, 2}),
                *Y4 = tensor(F32, 4, D(1, 2, 1, 1));
    attrs lrn = {.n = 0};
    at_int(&lrn, "size", 3);
    at_float(&lrn, "alpha", 3.0f);
    at_float(&lrn, "beta", 1.0f);
    const host_tensor *lrnin[1] = {X4};
    TU_ASSERT_STATUS(run("LRN", 13, 1, lrnin, 1, &Y4, &lrn), O2P_OK);
    assert_values(Y4, (const float[]){1.0f / 6, 2.0f / 6}, "LRN");
    attrs nolrn = {.n = 0};
    TU_ASSERT_FAILS(run("LRN", 13, 1, lrnin, 1, &Y4, &nolrn));
    host_tensor *tens[] = {X, Y, S, B, Mn, V, Ymean, W4, M, Is, Mbad, W3, X4, Y4};
    for (size_t i = 0; i < sizeof tens / sizeof tens[0]; i++)
        tensor_free(tens[i]);
}
END_TEST

START_TEST(test_softmax)
{
    float x[6] = {1, 2, 3, 1, 1, 1}; /* [2,3] */
    host_tensor *X = tensor_f(2, D(2, 3), x), *Y = tensor(F32, 2, D(2, 3));
    const host_tensor *in[1] = {X};
    TU_ASSERT_STATUS(run("Softmax", 13, 1, in, 1, &Y, NULL), O2P_OK);
    double e = exp(1.0), s = 1 + e + e * e;
    assert_values(Y,
                  (const float[]){(float)(1 / s), (float)(e / s), (float)(e * e / s), 1 / 3.0f,
                                  1 / 3.0f, 1 / 3.0f},
                  "Softmax");
    /* opset 11, axis 0: the whole tensor is one row */
    attrs ax0 = {.n = 0};
    at_int(&ax0, "axis", 0);
    TU_ASSERT_STATUS(run("Softmax", 11, 1, in, 1, &Y, &ax0), O2P_OK);
    double tot = exp(1.0) + exp(2.0) + exp(3.0) + 3 * exp(1.0);
    ck_assert_float_eq_tol(fv(Y, 2), (float)(exp(3.0) / tot), 1e-6f);
    /* opset 13, axis 0: columns */
    TU_ASSERT_STATUS(run("Softmax", 13, 1, in, 1, &Y, &ax0), O2P_OK);
    ck_assert_float_eq_tol(fv(Y, 0), 0.5f, 1e-6f);
    TU_ASSERT_STATUS(run("LogSoftmax", 13, 1, in, 1, &Y, NULL), O2P_OK);
    ck_assert_float_eq_tol(fv(Y, 3), (float)-log(3.0), 1e-6f);
    TU_ASSERT_STATUS(run("Hardmax", 13, 1, in, 1, &Y, NULL), O2P_OK);
    assert_values(Y, (const float[]){0, 0, 1, 1, 0, 0}, "Hardmax");
    attrs bad = {.n = 0};
    at_int(&bad, "axis", 2);
    TU_ASSERT_FAILS(run("Softmax", 13, 1, in, 1, &Y, &bad));
    /* a scalar and an empty tensor */
    host_tensor *S = tensor_f(0, NULL, (const float[]){5}), *Ys = tensor(F32, 0, NULL);
    const host_tensor *ins[1] = {S};
    TU_ASSERT_STATUS(run("Softmax", 13, 1, ins, 1, &Ys, NULL), O2P_OK);
    ck_assert_float_eq(fv(Ys, 0), 1.0f);
    host_tensor *E = tensor(F32, 2, D(0, 3)), *Ye = tensor(F32, 2, D(0, 3));
    const host_tensor *ine[1] = {E};
    TU_ASSERT_STATUS(run("Softmax", 13, 1, ine, 1, &Ye, NULL), O2P_OK);
    tensor_free(X);
    tensor_free(Y);
    tensor_free(S);
    tensor_free(Ys);
    tensor_free(E);
    tensor_free(Ye);
}
END_TEST

/* ---------------------------------------------------------------- Resize, GridSample, blocks */

START_TEST(test_resize)
{
    float x[4] = {1, 2, 3, 4};
    host_tensor *X = tensor_f(4, D(1, 1, 2, 2), x), *Y = tensor(F32, 4, D(1, 1, 4, 4));
    host_tensor *scales = tensor_f(1, D(4), (const float[]){1, 1, 2, 2});
    const host_tensor *in[3] = {X, NULL, scales};
    attrs nn = {.n = 0};
    TU_ASSERT_STATUS(run("Resize", 13, 3, in, 1, &Y, &nn), O2P_OK);
    assert_values(Y, (const float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, "nearest");
    attrs lin = {.n = 0};
    at_str(&lin, "mode", "linear");
    TU_ASSERT_STATUS(run("Resize", 13, 3, in, 1, &Y, &lin), O2P_OK);
    /* half_pixel: row 0 = 1, 1.25, 1.75, 2 */
    ck_assert_float_eq_tol(fv(Y, 1), 1.25f, 1e-6f);
    ck_assert_float_eq_tol(fv(Y, 5), 1.75f, 1e-6f);
    at_str(&lin, "coordinate_transformation_mode", "align_corners");
    TU_ASSERT_STATUS(run("Resize", 13, 3, in, 1, &Y, &lin), O2P_OK);
    ck_assert_float_eq_tol(fv(Y, 1), 1.0f + 1.0f / 3, 1e-6f);
    ck_assert_float_eq_tol(fv(Y, 15), 4.0f, 1e-6f);
    /* sizes with axes (opset 18) and keep_aspect_ratio_policy */
    host_tensor *sizes = tensor(I64, 1, D(2));
    ((int64_t *)sizes->data)[0] = 3;
    ((int64_t *)sizes->data)[1] = 6;
    host_tensor *Y33 = tensor(F32, 4, D(1, 1, 3, 3));
    const host_tensor *in2[4] = {X, NULL, NULL, sizes};
    attrs ax = {.n = 0};
    at_ints(&ax, "axes", 2, D(2, 3));
    at_str(&ax, "keep_aspect_ratio_policy", "not_larger");
    TU_ASSERT_STATUS(run("Resize", 18, 4, in2, 1, &Y33, &ax), O2P_OK);
    /* integer input, linear: rounds */
    host_tensor *Xi = tensor(O2P_DTYPE_UINT8, 4, D(1, 1, 1, 2)),
                *Yi = tensor(O2P_DTYPE_UINT8, 4, D(1, 1, 1, 4));
    ((uint8_t *)Xi->data)[0] = 0;
    ((uint8_t *)Xi->data)[1] = 10;
    host_tensor *sc2 = tensor_f(1, D(4), (const float[]){1, 1, 1, 2});
    const host_tensor *in3[3] = {Xi, NULL, sc2};
    attrs lin2 = {.n = 0};
    at_str(&lin2, "mode", "linear");
    TU_ASSERT_STATUS(run("Resize", 13, 3, in3, 1, &Yi, &lin2), O2P_OK);
    ck_assert_int_eq(((uint8_t *)Yi->data)[1], 2); /* 2.5 rounds to even */
    ck_assert_int_eq(((uint8_t *)Yi->data)[2], 8); /* 7.5 */
    /* Upsample (opset 9 input, opset 7 attribute) */
    const host_tensor *in4[2] = {X, scales};
    TU_ASSERT_STATUS(run("Upsample", 9, 2, in4, 1, &Y, &nn), O2P_OK);
    ck_assert_float_eq(fv(Y, 2), 2.0f);
    attrs up7 = {.n = 0};
    const float sc[4] = {1, 1, 2, 2};
    at_floats(&up7, "scales", 4, sc);
    TU_ASSERT_STATUS(run("Upsample", 7, 1, in4, 1, &Y, &up7), O2P_OK);
    /* hostile */
    TU_ASSERT_FAILS(run("Resize", 13, 3, in, 1, &Y33, &nn)); /* output shape */
    host_tensor *neg = tensor_f(1, D(4), (const float[]){1, 1, -2, 2});
    const host_tensor *in5[3] = {X, NULL, neg};
    TU_ASSERT_FAILS(run("Resize", 13, 3, in5, 1, &Y, &nn));
    const host_tensor *in6[4] = {X, NULL, scales, sizes};
    TU_ASSERT_FAILS(run("Resize", 13, 4, in6, 1, &Y, &nn)); /* both scales and sizes */
    TU_ASSERT_ERROR_HAS("exactly one");
    attrs tf = {.n = 0};
    at_str(&tf, "coordinate_transformation_mode", "tf_crop_and_resize");
    TU_ASSERT_FAILS(run("Resize", 13, 3, in, 1, &Y, &tf)); /* no roi */
    attrs badmode = {.n = 0};
    at_str(&badmode, "mode", "sinc");
    TU_ASSERT_FAILS(run("Resize", 13, 3, in, 1, &Y, &badmode));
    /* tf_crop_and_resize with a NaN and an infinite roi: extrapolation, no wild index */
    host_tensor *roi = tensor_f(1, D(8), (const float[]){0, 0, NAN, -INFINITY, 1, 1, 1, INFINITY});
    const host_tensor *in8[3] = {X, roi, scales};
    attrs tfl = {.n = 0};
    at_str(&tfl, "coordinate_transformation_mode", "tf_crop_and_resize");
    at_str(&tfl, "mode", "linear");
    at_float(&tfl, "extrapolation_value", 7.0f);
    TU_ASSERT_STATUS(run("Resize", 13, 3, in8, 1, &Y, &tfl), O2P_OK);
    ck_assert_float_eq(fv(Y, 0), 7.0f);
    tfl.a[1].s = "nearest";
    TU_ASSERT_STATUS(run("Resize", 13, 3, in8, 1, &Y, &tfl), O2P_OK);
    tensor_free(roi);
    host_tensor *huge = tensor_f(1, D(4), (const float[]){1, 1, 1e30f, 2});
    const host_tensor *in7[3] = {X, NULL, huge};
    TU_ASSERT_FAILS(run("Resize", 13, 3, in7, 1, &Y, &nn));
    host_tensor *tens[] = {X, Y, scales, sizes, Y33, Xi, Yi, sc2, neg, huge};
    for (size_t i = 0; i < sizeof tens / sizeof tens[0]; i++)
        tensor_free(tens[i]);
}
END_TEST

START_TEST(test_grid_sample_and_blocks)
{
    float x[4] = {1, 2, 3, 4};
    host_tensor *X = tensor_f(4, D(1, 1, 2, 2), x);
    /* grid points: the corners and the centre (align_corners = 1) */
    host_tensor *G = tensor_f(4, D(1, 1, 3, 2), (const float[]){-1, -1, 1, 1, 0, 0});
    host_tensor *Y = tensor(F32, 4, D(1, 1, 1, 3));
    attrs at = {.n = 0};
    at_int(&at, "align_corners", 1);
    const host_tensor *in[2] = {X, G};
    TU_ASSERT_STATUS(run("GridSample", 16, 2, in, 1, &Y, &at), O2P_OK);
    assert_values(Y, (const float[]){1, 4, 2.5f}, "GridSample bilinear");
    at_str(&at, "padding_mode", "reflection");
    at_str(&at, "mode", "bicubic");
    TU_ASSERT_STATUS(run("GridSample", 16, 2, in, 1, &Y, &at), O2P_OK);
    host_tensor *Gbad = tensor_f(4, D(1, 1, 3, 3), (const float[]){0, 0, 0, 0, 0, 0, 0, 0, 0});
    const host_tensor *in2[2] = {X, Gbad};
    TU_ASSERT_FAILS(run("GridSample", 16, 2, in2, 1, &Y, &at));
    /* DepthToSpace / SpaceToDepth round trip */
    host_tensor *D4 = tensor_rand(F32, 4, D(1, 8, 2, 3)), *S4 = tensor(F32, 4, D(1, 2, 4, 6));
    host_tensor *B4 = tensor(F32, 4, D(1, 8, 2, 3));
    attrs bs = {.n = 0};
    at_int(&bs, "blocksize", 2);
    const host_tensor *din[1] = {D4}, *sin[1] = {S4};
    TU_ASSERT_STATUS(run("DepthToSpace", 13, 1, din, 1, &S4, &bs), O2P_OK);
    TU_ASSERT_STATUS(run("SpaceToDepth", 13, 1, sin, 1, &B4, &bs), O2P_OK);
    ck_assert_mem_eq(D4->data, B4->data, 48 * sizeof(float));
    attrs bs3 = {.n = 0};
    at_int(&bs3, "blocksize", 3);
    TU_ASSERT_FAILS(run("DepthToSpace", 13, 1, din, 1, &S4, &bs3));
    TU_ASSERT_FAILS(run("SpaceToDepth", 13, 1, sin, 1, &B4, &bs3));
    attrs bs0 = {.n = 0};
    TU_ASSERT_FAILS(run("DepthToSpace", 13, 1, din, 1, &S4, &bs0));
    host_tensor *tens[] = {X, G, Y, Gbad, D4, S4, B4};
    for (size_t i = 0; i < sizeof tens / sizeof tens[0]; i++)
        tensor_free(tens[i]);
}
END_TEST

/* ---------------------------------------------------------------- randomized hostile sweep */

static o2p_dtype dtype_by_name(const char *name, size_t len)
{
    for (int t = 1; t <= 16; t++)
        if (strlen(o2p_dtype_name((o2p_dtype)t)) == len &&
            strncmp(o2p_dtype_name((o2p_dtype)t), name, len) == 0)
            return (o2p_dtype)t;
    return O2P_DTYPE_UNDEFINED;
}

/* From "output N has shape [..], expected [a,b]" or "output N is T, expected U", what the
 * kernel wants of output N (1 when understood). */
static int wanted_output(const char *msg, int *which, host_tensor *want)
{
    const char *p = strstr(msg, "output ");
    if (!p)
        return 0;
    *which = atoi(p + 7);
    const char *e = strstr(p, "expected ");
    if (!e)
        return 0;
    e += 9;
    if (*e == '[') {
        want->rank = 0;
        e++;
        while (*e && *e != ']') {
            if (want->rank == HOST_MAX_RANK)
                return 0;
            want->dims[want->rank++] = strtoll(e, (char **)&e, 10);
            if (*e == ',')
                e++;
        }
        return 2;
    }
    size_t len = strcspn(e, " ,;)");
    want->dtype = dtype_by_name(e, len);
    return want->dtype != O2P_DTYPE_UNDEFINED;
}

static const char *const sweep_ops[] = {"Conv",
                                        "ConvTranspose",
                                        "Gemm",
                                        "MatMul",
                                        "BatchNormalization",
                                        "InstanceNormalization",
                                        "LayerNormalization",
                                        "GroupNormalization",
                                        "LpNormalization",
                                        "MeanVarianceNormalization",
                                        "LRN",
                                        "Softmax",
                                        "LogSoftmax",
                                        "Hardmax",
                                        "MaxPool",
                                        "AveragePool",
                                        "LpPool",
                                        "GlobalAveragePool",
                                        "GlobalMaxPool",
                                        "GlobalLpPool",
                                        "Resize",
                                        "Upsample",
                                        "GridSample",
                                        "DepthToSpace",
                                        "SpaceToDepth"};

static const char *const sweep_strings[] = {"NOTSET",
                                            "SAME_UPPER",
                                            "SAME_LOWER",
                                            "VALID",
                                            "DCR",
                                            "CRD",
                                            "nearest",
                                            "linear",
                                            "cubic",
                                            "bicubic",
                                            "half_pixel",
                                            "align_corners",
                                            "asymmetric",
                                            "tf_crop_and_resize",
                                            "pytorch_half_pixel",
                                            "reflection",
                                            "border",
                                            "not_larger",
                                            "floor",
                                            "x"};

static int64_t sweep_int(void)
{
    switch (rnd_int(0, 9)) {
    case 0: return rnd_int(-3, 0);
    case 1: return INT64_MAX;
    case 2: return INT64_MIN;
    case 3: return (int64_t)1 << rnd_int(20, 62);
    default: return rnd_int(0, 4);
    }
}

static void sweep_attrs(attrs *at, int64_t (*ints)[6])
{
    static const char *const int_names[] = {"group",
                                            "axis",
                                            "ceil_mode",
                                            "storage_order",
                                            "count_include_pad",
                                            "transA",
                                            "transB",
                                            "blocksize",
                                            "size",
                                            "num_groups",
                                            "p",
                                            "exclude_outside",
                                            "align_corners",
                                            "spatial",
                                            "training_mode",
                                            "antialias"};
    static const char *const ints_names[] = {
        "kernel_shape", "pads", "strides", "dilations", "output_padding", "output_shape", "axes"};
    static const char *const str_names[] = {
        "auto_pad",     "mode",         "coordinate_transformation_mode",
        "padding_mode", "nearest_mode", "keep_aspect_ratio_policy"};
    static const char *const float_names[] = {"alpha", "beta",          "epsilon",
                                              "bias",  "cubic_coeff_a", "extrapolation_value"};
    at->n = 0;
    int n = rnd_int(0, 8);
    for (int i = 0; i < n && at->n < 14; i++) {
        switch (rnd_int(0, 3)) {
        case 0: at_int(at, int_names[rnd_int(0, 15)], sweep_int()); break;
        case 1: {
            int64_t *v = ints[at->n];
            int count = rnd_int(0, 6);
            for (int k = 0; k < count; k++)
                v[k] = rnd_int(0, 3) == 0 ? sweep_int() : rnd_int(0, 3);
            at_ints(at, ints_names[rnd_int(0, 6)], count, v);
            break;
        }
        case 2: at_str(at, str_names[rnd_int(0, 5)], sweep_strings[rnd_int(0, 19)]); break;
        default: {
            static const float fs[] = {0.0f, -1.0f, 1e-5f, 2.0f, NAN, INFINITY, 1e30f};
            at_float(at, float_names[rnd_int(0, 5)], fs[rnd_int(0, 6)]);
        }
        }
    }
}

static const o2p_dtype sweep_types[] = {F32,
                                        F32,
                                        F32,
                                        F16,
                                        F64,
                                        I64,
                                        I32,
                                        O2P_DTYPE_UINT8,
                                        O2P_DTYPE_BOOL,
                                        O2P_DTYPE_BFLOAT16,
                                        O2P_DTYPE_STRING};

/* Random values, some of them NaN or extreme. */
static void fill_hostile(host_tensor *t)
{
    int64_t n = numel_of(t->rank, t->dims);
    for (int64_t k = 0; k < n; k++) {
        if (t->dtype == O2P_DTYPE_STRING)
            continue;
        if (host_nn_is_float(t->dtype))
            host_set_f64(t, k, rnd_int(0, 20) == 0 ? NAN : rnd_float() * 3);
        else
            host_set_i64(t, k, rnd_int(0, 10) == 0 ? sweep_int() : rnd_int(-1, 6));
    }
}

/* Calls op; while it fails asking for another output shape or type (and that output is
 * small), gives it that output and calls again. Returns the last status; frees nothing. */
static o2p_status call_adapting_outputs(const char *op, int64_t opset, int nin, host_tensor **ins,
                                        int nout, host_tensor **outs, const attrs *at)
{
    o2p_status st = O2P_OK;
    for (int attempt = 0; attempt < 4; attempt++) {
        o2p_clear_error();
        st = run(op, opset, nin, (const host_tensor *const *)ins, nout, outs, at);
        if (st == O2P_OK)
            break;
        ck_assert_msg(o2p_last_error()[0] != '\0', "%s failed without a message", op);
        host_tensor want;
        memset(&want, 0, sizeof want);
        int which, what = wanted_output(o2p_last_error(), &which, &want);
        if (!what || which < 0 || which >= nout || !outs[which])
            break;
        host_tensor *o = outs[which];
        int rank = what == 2 ? want.rank : o->rank;
        const int64_t *dims = what == 2 ? want.dims : o->dims;
        int64_t n = 1, okdims = 1;
        for (int d = 0; d < rank; d++) {
            if (dims[d] < 0 || dims[d] > 100000 || (n *= dims[d]) > 200000)
                okdims = 0;
        }
        if (!okdims)
            break;
        host_tensor *r = tensor(what == 2 ? o->dtype : want.dtype, rank, dims);
        tensor_free(o);
        outs[which] = r;
    }
    return st;
}

enum { NUM_SWEEP_OPS = (int)(sizeof sweep_ops / sizeof sweep_ops[0]) };

static void print_worked(const char *what, int ok, int refused, const int *worked)
{
    printf("test_host_nn: %s: %d calls worked, %d were refused; worked per op:", what, ok, refused);
    for (int i = 0; i < NUM_SWEEP_OPS; i++)
        printf(" %s %d", sweep_ops[i], worked[i]);
    printf("\n");
}

START_TEST(test_hostile_sweep)
{
    int ok = 0, refused = 0, worked[NUM_SWEEP_OPS] = {0};
    for (int it = 0; it < 12000; it++) {
        const char *op = sweep_ops[it % NUM_SWEEP_OPS];
        int64_t opset = rnd_int(7, 19);
        int nin = rnd_int(0, 5);
        host_tensor *ins[5] = {0};
        o2p_dtype main_t = sweep_types[rnd_int(0, 10)];
        int base_rank = rnd_int(0, 5);
        int64_t base_dims[HOST_MAX_RANK];
        for (int d = 0; d < base_rank; d++)
            base_dims[d] = rnd_int(0, 9) == 0 ? 0 : rnd_int(1, 5);
        for (int i = 0; i < nin; i++) {
            if (rnd_int(0, 8) == 0)
                continue; /* omitted */
            o2p_dtype t = rnd_int(0, 3) == 0 ? sweep_types[rnd_int(0, 10)] : main_t;
            if (i > 0 && rnd_int(0, 2) == 0)
                t = rnd_int(0, 1) ? I64 : F32;
            int64_t dims[HOST_MAX_RANK];
            int rank = base_rank;
            memcpy(dims, base_dims, sizeof dims);
            if (i > 0 && rnd_int(0, 1)) {
                rank = rnd_int(0, 3);
                for (int d = 0; d < rank; d++)
                    dims[d] = rnd_int(0, 9) == 0 ? 0 : rnd_int(1, 8);
            }
            ins[i] = tensor(t, rank, dims);
            fill_hostile(ins[i]);
        }
        attrs at;
        int64_t ints[16][6];
        sweep_attrs(&at, ints);
        int nout = rnd_int(1, 3);
        host_tensor *outs[3] = {0};
        for (int i = 0; i < nout; i++)
            if (i == 0 || rnd_int(0, 1))
                outs[i] = tensor(main_t, base_rank, base_dims);
        if (call_adapting_outputs(op, opset, nin, ins, nout, outs, &at) == O2P_OK) {
            ok++;
            worked[it % NUM_SWEEP_OPS]++;
        } else {
            refused++;
        }
        for (int i = 0; i < 5; i++)
            tensor_free(ins[i]);
        for (int i = 0; i < 3; i++)
            tensor_free(outs[i]);
    }
    print_worked("hostile sweep", ok, refused, worked);
    ck_assert_int_gt(ok, 100);
}
END_TEST

/* A plausible call of one op (what a valid model would give), before mutation. */
typedef struct gen_case {
    int64_t opset;
    int nin, nout;
    host_tensor *in[5];
    attrs at;
    int64_t ints[16][8];
} gen_case;

static void g_in(gen_case *g, int i, o2p_dtype t, int rank, const int64_t *dims)
{
    g->in[i] = tensor(t, rank, dims);
    fill_hostile(g->in[i]);
    if (i >= g->nin)
        g->nin = i + 1;
}

static void g_ints(gen_case *g, const char *name, int count, const int64_t *v)
{
    int64_t *dst = g->ints[g->at.n];
    memcpy(dst, v, (size_t)count * sizeof(int64_t));
    at_ints(&g->at, name, count, dst);
}

/* Spatial attributes of a window op over nsp axes of size `in`; kernel k. */
static void g_window(gen_case *g, int nsp, const int64_t *k, int with_dilations)
{
    int64_t v[8];
    if (rnd_int(0, 1)) {
        for (int d = 0; d < nsp; d++)
            v[d] = rnd_int(1, 3);
        g_ints(g, "strides", nsp, v);
    }
    if (with_dilations && rnd_int(0, 2) == 0) {
        for (int d = 0; d < nsp; d++)
            v[d] = rnd_int(1, 2);
        g_ints(g, "dilations", nsp, v);
    }
    if (rnd_int(0, 3) == 0) {
        static const char *const ap[] = {"SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET"};
        at_str(&g->at, "auto_pad", ap[rnd_int(0, 3)]);
    } else if (rnd_int(0, 1)) {
        for (int d = 0; d < 2 * nsp; d++)
            v[d] = rnd_int(0, (int)k[d % nsp] - 1 > 2 ? 2 : (int)k[d % nsp] - 1);
        g_ints(g, "pads", 2 * nsp, v);
    }
}

static void gen_op(gen_case *g, const char *op)
{
    memset(g, 0, sizeof *g);
    g->opset = rnd_int(11, 18);
    g->nout = 1;
    o2p_dtype t = rnd_int(0, 4) == 0 ? sweep_types[rnd_int(3, 4)] : F32;
    int nsp = rnd_int(1, 3);
    int64_t x[HOST_MAX_RANK] = {rnd_int(1, 2), rnd_int(1, 4)}, k[HOST_MAX_RANK];
    for (int d = 0; d < nsp; d++) {
        k[d] = rnd_int(1, 3);
        x[d + 2] = rnd_int(1, 6) + k[d];
    }
    int xr = nsp + 2;
    if (!strcmp(op, "Conv") || !strcmp(op, "ConvTranspose")) {
        int64_t group = rnd_int(0, 2) ? 1 : rnd_int(1, 3), mg = rnd_int(1, 3);
        x[1] = group * rnd_int(1, 3);
        int64_t w[HOST_MAX_RANK];
        int transpose = op[4] == 'T';
        w[0] = transpose ? x[1] : mg * group;
        w[1] = transpose ? mg : x[1] / group;
        memcpy(w + 2, k, (size_t)nsp * sizeof k[0]);
        g_in(g, 0, t, xr, x);
        g_in(g, 1, t, xr, w);
        if (rnd_int(0, 1))
            g_in(g, 2, t, 1, D(mg * group));
        at_int(&g->at, "group", group);
        if (rnd_int(0, 2) == 0)
            g_ints(g, "kernel_shape", nsp, k);
        g_window(g, nsp, k, 1);
        if (transpose && rnd_int(0, 1)) {
            int64_t v[8];
            for (int d = 0; d < nsp; d++)
                v[d] = rnd_int(0, 1);
            g_ints(g, "output_padding", nsp, v);
        }
        if (transpose && rnd_int(0, 3) == 0) {
            int64_t v[8];
            for (int d = 0; d < nsp; d++)
                v[d] = x[d + 2] * rnd_int(1, 2) + rnd_int(-1, 1);
            g_ints(g, "output_shape", nsp, v);
        }
    } else if (!strcmp(op, "Gemm")) {
        int64_t M = rnd_int(1, 9), N = rnd_int(1, 9), K = rnd_int(1, 9);
        int ta = rnd_int(0, 1), tb = rnd_int(0, 1);
        t = sweep_types[rnd_int(0, 6)];
        g_in(g, 0, t, 2, ta ? D(K, M) : D(M, K));
        g_in(g, 1, t, 2, tb ? D(N, K) : D(K, N));
        if (rnd_int(0, 2))
            g_in(g, 2, t, rnd_int(0, 2), rnd_int(0, 1) ? D(M, N) : D(1, N));
        at_int(&g->at, "transA", ta);
        at_int(&g->at, "transB", tb);
        at_float(&g->at, "alpha", rnd_float() * 3);
        at_float(&g->at, "beta", rnd_float() * 3);
    } else if (!strcmp(op, "MatMul")) {
        t = sweep_types[rnd_int(0, 6)];
        int ra = rnd_int(1, 4), rb = rnd_int(1, 4);
        int64_t a[4], b[4], K = rnd_int(0, 6);
        for (int i = 0; i < 4; i++)
            a[i] = b[i] = rnd_int(1, 3);
        a[ra - 1] = K;
        b[rb >= 2 ? rb - 2 : 0] = K;
        if (rnd_int(0, 1) && ra > 2)
            a[0] = 1;
        g_in(g, 0, t, ra, a);
        g_in(g, 1, t, rb, b);
    } else if (!strcmp(op, "BatchNormalization") || !strcmp(op, "InstanceNormalization")) {
        g->opset = rnd_int(7, 15);
        xr = rnd_int(2, 5);
        g_in(g, 0, t, xr, x);
        for (int i = 1; i < (op[0] == 'B' ? 5 : 3); i++)
            g_in(g, i, t, 1, D(x[1]));
        if (op[0] == 'B' && rnd_int(0, 3) == 0)
            at_int(&g->at, "training_mode", 1);
        if (op[0] == 'B' && rnd_int(0, 3) == 0)
            g->nout = 3;
        if (rnd_int(0, 1))
            at_float(&g->at, "epsilon", 1e-3f);
    } else if (!strcmp(op, "LayerNormalization") || !strcmp(op, "GroupNormalization")) {
        g->opset = op[0] == 'L' ? 17 : 18;
        g_in(g, 0, t, xr, x);
        if (op[0] == 'L') {
            int axis = rnd_int(-xr, xr - 1), from = axis < 0 ? axis + xr : axis;
            at_int(&g->at, "axis", axis);
            g_in(g, 1, t, xr - from, x + from);
            if (rnd_int(0, 1))
                g_in(g, 2, t, xr - from, x + from);
            g->nout = rnd_int(1, 3);
        } else {
            int64_t G = rnd_int(0, 1) ? 1 : x[1];
            at_int(&g->at, "num_groups", G);
            g_in(g, 1, t, 1, D(rnd_int(0, 1) ? G : x[1]));
            g_in(g, 2, t, 1, D(g->in[1]->dims[0]));
        }
    } else if (strstr(op, "Pool") && strncmp(op, "Global", 6) != 0) {
        g_in(g, 0, op[0] == 'M' && rnd_int(0, 3) == 0 ? O2P_DTYPE_UINT8 : t, xr, x);
        g_ints(g, "kernel_shape", nsp, k);
        g_window(g, nsp, k, op[0] != 'A' || rnd_int(0, 1));
        if (rnd_int(0, 2) == 0)
            at_int(&g->at, "ceil_mode", 1);
        if (op[0] == 'A' && rnd_int(0, 1))
            at_int(&g->at, "count_include_pad", 1);
        if (op[0] == 'L')
            at_int(&g->at, "p", rnd_int(1, 3));
        if (op[0] == 'M') {
            g->nout = rnd_int(1, 2);
            at_int(&g->at, "storage_order", rnd_int(0, 1));
        }
    } else if (!strcmp(op, "Resize") || !strcmp(op, "Upsample")) {
        int r = rnd_int(1, 4);
        t = rnd_int(0, 2) ? F32 : sweep_types[rnd_int(0, 9)];
        g_in(g, 0, t, r, x + 4 - r);
        static const char *const modes[] = {"nearest", "linear", "cubic"};
        at_str(&g->at, "mode", modes[rnd_int(0, op[0] == 'R' ? 2 : 1)]);
        float sc[4];
        for (int i = 0; i < r; i++)
            sc[i] = rnd_int(0, 1) ? 1.0f : (float)rnd_int(1, 8) / 4.0f;
        if (op[0] == 'U') {
            g->opset = rnd_int(7, 9);
            if (g->opset < 9) {
                static float keep[4];
                memcpy(keep, sc, sizeof keep);
                at_floats(&g->at, "scales", r, keep);
            } else {
                g->in[1] = tensor_f(1, D(r), sc);
                g->nin = 2;
            }
        } else {
            g->opset = rnd_int(10, 19);
            static const char *const ct[] = {
                "half_pixel",         "pytorch_half_pixel",   "align_corners",       "asymmetric",
                "tf_crop_and_resize", "half_pixel_symmetric", "tf_half_pixel_for_nn"};
            static const char *const nm[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                             "ceil"};
            at_str(&g->at, "coordinate_transformation_mode", ct[rnd_int(0, 6)]);
            at_str(&g->at, "nearest_mode", nm[rnd_int(0, 3)]);
            at_int(&g->at, "exclude_outside", rnd_int(0, 1));
            at_int(&g->at, "antialias", rnd_int(0, 1));
            if (g->opset < 11) {
                g->in[1] = tensor_f(1, D(r), sc);
                g->nin = 2;
            } else {
                float roi[8];
                for (int i = 0; i < r; i++) {
                    roi[i] = rnd_float() * 0.3f;
                    roi[i + r] = 1.0f + rnd_float() * 0.3f;
                }
                g->in[1] = tensor_f(1, D(2 * r), roi);
                if (rnd_int(0, 1)) {
                    g->in[2] = tensor_f(1, D(r), sc);
                    g->nin = 3;
                } else {
                    g->in[3] = tensor(I64, 1, D(r));
                    for (int i = 0; i < r; i++)
                        ((int64_t *)g->in[3]->data)[i] = rnd_int(0, 7);
                    g->nin = 4;
                    if (rnd_int(0, 2) == 0)
                        at_str(&g->at, "keep_aspect_ratio_policy",
                               rnd_int(0, 1) ? "not_larger" : "not_smaller");
                }
            }
        }
    } else if (!strcmp(op, "GridSample")) {
        g->opset = rnd_int(16, 20);
        g_in(g, 0, t, xr, x);
        int64_t gd[HOST_MAX_RANK] = {x[0]};
        for (int d = 0; d < nsp; d++)
            gd[d + 1] = rnd_int(1, 4);
        gd[nsp + 1] = nsp;
        g_in(g, 1, F32, nsp + 2, gd);
        static const char *const modes[] = {"bilinear", "nearest", "bicubic", "linear", "cubic"};
        static const char *const pads[] = {"zeros", "border", "reflection"};
        at_str(&g->at, "mode", modes[rnd_int(0, 4)]);
        at_str(&g->at, "padding_mode", pads[rnd_int(0, 2)]);
        at_int(&g->at, "align_corners", rnd_int(0, 1));
    } else if (!strcmp(op, "DepthToSpace") || !strcmp(op, "SpaceToDepth")) {
        int64_t b = rnd_int(1, 3), d4[4] = {1, 2, 2 * b, 3 * b};
        if (op[0] == 'D')
            d4[1] = 2 * b * b;
        g_in(g, 0, sweep_types[rnd_int(0, 9)], 4, d4);
        at_int(&g->at, "blocksize", b);
        at_str(&g->at, "mode", rnd_int(0, 1) ? "DCR" : "CRD");
    } else {
        /* softmax family, Lp/MVN/LRN and the global pools: X and maybe an axis */
        xr = rnd_int(1, 5);
        g_in(g, 0, t, xr, x);
        if (rnd_int(0, 1))
            at_int(&g->at, "axis", rnd_int(-xr, xr - 1));
        if (!strcmp(op, "LRN"))
            at_int(&g->at, "size", rnd_int(1, 5));
        if (!strcmp(op, "LpNormalization"))
            at_int(&g->at, "p", rnd_int(1, 2));
        if (!strcmp(op, "MeanVarianceNormalization") && rnd_int(0, 1))
            g_ints(g, "axes", 1, D(rnd_int(0, xr - 1)));
        g->opset = rnd_int(7, 18);
    }
}

/* One hostile change to a plausible case. */
static void mutate(gen_case *g)
{
    int i = rnd_int(0, g->nin > 0 ? g->nin - 1 : 0);
    host_tensor *t = g->in[i];
    if (t && numel_of(t->rank, t->dims) == 0)
        return; /* maybe empty with huge dims: leave it so */
    switch (rnd_int(0, 6)) {
    case 0: /* a dim */
        if (t && t->rank > 0) {
            int64_t dims[HOST_MAX_RANK];
            memcpy(dims, t->dims, sizeof dims);
            dims[rnd_int(0, t->rank - 1)] = rnd_int(0, 2) == 0 ? 0 : rnd_int(1, 9);
            host_tensor *r = tensor(t->dtype, t->rank, dims);
            fill_hostile(r);
            tensor_free(t);
            g->in[i] = r;
        }
        break;
    case 1: /* the rank */
        if (t) {
            int64_t dims[HOST_MAX_RANK];
            memcpy(dims, t->dims, sizeof dims);
            int rank = t->rank + (rnd_int(0, 1) ? 1 : -1);
            if (rank < 0 || rank > 6)
                rank = 1;
            for (int d = t->rank; d < rank; d++)
                dims[d] = rnd_int(1, 3);
            host_tensor *r = tensor(t->dtype, rank, dims);
            fill_hostile(r);
            tensor_free(t);
            g->in[i] = r;
        }
        break;
    case 2: /* the element type */
        if (t && t->dtype != O2P_DTYPE_STRING && o2p_dtype_size(t->dtype) > 0) {
            host_tensor *r = tensor(sweep_types[rnd_int(0, 10)], t->rank, t->dims);
            fill_hostile(r);
            tensor_free(t);
            g->in[i] = r;
        }
        break;
    case 6: /* empty, with huge other dims */
        if (t && t->rank >= 2) {
            int64_t dims[HOST_MAX_RANK];
            memcpy(dims, t->dims, sizeof dims);
            dims[0] = 0;
            for (int d = 1; d < t->rank; d++)
                dims[d] = (int64_t)1 << rnd_int(20, 62);
            host_tensor *r = tensor(t->dtype, t->rank, dims);
            tensor_free(t);
            g->in[i] = r;
        }
        break;
    case 3: /* drop the input */
        tensor_free(t);
        g->in[i] = NULL;
        break;
    default: /* an attribute */
        if (g->at.n > 0) {
            host_attr *a = &g->at.a[rnd_int(0, g->at.n - 1)];
            if (a->type == O2P_ATTR_INT)
                a->i = sweep_int();
            else if (a->type == O2P_ATTR_FLOAT)
                a->f = (float[]){NAN, INFINITY, -1.0f, 0.0f, 1e30f}[rnd_int(0, 4)];
            else if (a->type == O2P_ATTR_STRING)
                a->s = sweep_strings[rnd_int(0, 19)];
            else if (a->type == O2P_ATTR_INTS && a->count > 0) {
                int64_t *v = (int64_t *)a->ints;
                v[rnd_int(0, a->count - 1)] = sweep_int();
                if (rnd_int(0, 3) == 0)
                    a->count = rnd_int(0, a->count);
            }
        }
    }
}

/* Empty tensors whose other dims are huge: every op returns at once (works or refuses),
 * never loops over the huge dims nor overflows their products. */
START_TEST(test_empty_with_huge_dims)
{
    const int64_t shapes[][4] = {{0, (int64_t)1 << 40, (int64_t)1 << 20, 3},
                                 {(int64_t)1 << 40, 0, 4, 4},
                                 {2, 3, (int64_t)1 << 40, 0},
                                 {(int64_t)1 << 62, (int64_t)1 << 62, 0, 1}};
    for (int sh = 0; sh < 4; sh++)
        for (int op = 0; op < NUM_SWEEP_OPS; op++) {
            gen_case g;
            gen_op(&g, sweep_ops[op]);
            host_tensor *x = g.in[0];
            if (!x || x->rank < 2)
                goto next;
            int64_t dims[HOST_MAX_RANK];
            memcpy(dims, x->dims, sizeof dims);
            for (int d = 0; d < x->rank && d < 4; d++)
                dims[d] = shapes[sh][d];
            if (numel_of(x->rank, dims) != 0)
                goto next;
            g.in[0] = tensor(x->dtype, x->rank, dims);
            tensor_free(x);
            host_tensor *outs[3] = {0};
            for (int i = 0; i < g.nout; i++)
                outs[i] = tensor(g.in[0]->dtype, 1, D(1));
            call_adapting_outputs(sweep_ops[op], g.opset, g.nin, g.in, g.nout, outs, &g.at);
            for (int i = 0; i < 3; i++)
                tensor_free(outs[i]);
        next:
            for (int i = 0; i < 5; i++)
                tensor_free(g.in[i]);
        }
}
END_TEST

START_TEST(test_plausible_sweep)
{
    int ok = 0, refused = 0, worked[NUM_SWEEP_OPS] = {0};
    for (int it = 0; it < 15000; it++) {
        const char *op = sweep_ops[it % NUM_SWEEP_OPS];
        gen_case g;
        gen_op(&g, op);
        int mutations = rnd_int(0, 2) == 0 ? rnd_int(1, 2) : 0;
        for (int m = 0; m < mutations; m++)
            mutate(&g);
        host_tensor *outs[3] = {0};
        for (int i = 0; i < g.nout; i++)
            outs[i] = tensor(g.in[0] ? g.in[0]->dtype : F32, 1, D(1));
        o2p_status st = call_adapting_outputs(op, g.opset, g.nin, g.in, g.nout, outs, &g.at);
        if (st == O2P_OK) {
            ok++;
            worked[it % NUM_SWEEP_OPS]++;
        } else {
            refused++;
        }
        for (int i = 0; i < 5; i++)
            tensor_free(g.in[i]);
        for (int i = 0; i < 3; i++)
            tensor_free(outs[i]);
    }
    print_worked("plausible sweep", ok, refused, worked);
    for (int i = 0; i < NUM_SWEEP_OPS; i++)
        ck_assert_msg(worked[i] > 20, "%s worked only %d times in the sweep", sweep_ops[i],
                      worked[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_nn");
    TCase *tc = tcase_create("nn");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_conv_random);
    tcase_add_test(tc, test_conv_large_chunks);
    tcase_add_test(tc, test_conv_auto_pad);
    tcase_add_test(tc, test_conv_hostile);
    tcase_add_test(tc, test_conv_transpose_random);
    tcase_add_test(tc, test_conv_transpose_hostile);
    tcase_add_test(tc, test_sgemm_blocking);
    tcase_add_test(tc, test_gemm);
    tcase_add_test(tc, test_matmul);
    tcase_add_test(tc, test_max_pool);
    tcase_add_test(tc, test_average_pool);
    tcase_add_test(tc, test_normalizations);
    tcase_add_test(tc, test_softmax);
    tcase_add_test(tc, test_resize);
    tcase_add_test(tc, test_grid_sample_and_blocks);
    tcase_add_test(tc, test_hostile_sweep);
    tcase_add_test(tc, test_plausible_sweep);
    tcase_add_test(tc, test_empty_with_huge_dims);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
