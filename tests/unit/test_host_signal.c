/* test_host_signal.c: the signal family of host kernels (kernels/host/signal.c) called directly
 * through host_kernel_find: DFT against a naive complex reference (real and complex input,
 * inverse, onesided, dft_length padding and truncation, other axes), STFT with and without a
 * window, the windows and MelWeightMatrix on hand values, MaxUnpool (with and without
 * output_shape), Det, CenterCropPad, and the random generators (seeded runs repeat, ranges,
 * moments, Bernoulli's extremes); and the refusals (bad shapes, types and attributes). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_kernels.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define F64 O2P_DTYPE_DOUBLE
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define D(...) ((const int64_t[]){__VA_ARGS__})

static uint64_t rng = 0x51f15eedull;

static int64_t numel_of(int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

static host_tensor *tensor(o2p_dtype t, int rank, const int64_t *dims)
{
    host_tensor *x = calloc(1, sizeof *x);
    ck_assert_ptr_nonnull(x);
    x->dtype = t;
    x->rank = rank;
    for (int i = 0; i < rank; i++)
        x->dims[i] = dims[i];
    x->data = calloc((size_t)numel_of(rank, dims) + 1, o2p_dtype_size(t));
    ck_assert_ptr_nonnull(x->data);
    return x;
}

static host_tensor *scalar_i64(int64_t v)
{
    host_tensor *x = tensor(I64, 0, NULL);
    host_set_i64(x, 0, v);
    return x;
}

static host_tensor *scalar_f32(float v)
{
    host_tensor *x = tensor(F32, 0, NULL);
    host_set_f64(x, 0, v);
    return x;
}

static host_tensor *tensor_rand(int rank, const int64_t *dims)
{
    host_tensor *x = tensor(F32, rank, dims);
    for (int64_t i = 0; i < numel_of(rank, dims); i++)
        host_set_f64(x, i, (double)(tu_rand(&rng) % 2001) / 1000.0 - 1.0);
    return x;
}

static void tensor_free(host_tensor *x)
{
    if (x) {
        free(x->data);
        free(x);
    }
}

typedef struct attrs {
    host_attr a[8];
    int n;
} attrs;

static host_attr *at_new(attrs *s, const char *name, o2p_attr_type type)
{
    host_attr *a = &s->a[s->n++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = type;
    return a;
}

static void at_int(attrs *s, const char *name, int64_t v)
{
    at_new(s, name, O2P_ATTR_INT)->i = v;
}

static void at_float(attrs *s, const char *name, float v)
{
    at_new(s, name, O2P_ATTR_FLOAT)->f = v;
}

static void at_ints(attrs *s, const char *name, int count, const int64_t *v)
{
    host_attr *a = at_new(s, name, O2P_ATTR_INTS);
    a->count = count;
    a->ints = v;
}

static o2p_status run(const char *op, int nin, const host_tensor *const *in, host_tensor *out,
                      const attrs *at)
{
    host_kernel_fn fn = host_kernel_find(op);
    ck_assert_msg(fn != NULL, "no host kernel for %s", op);
    host_tensor *outs[1] = {out};
    host_kernel_args a = {op, "t", 17, nin, in, 1, outs, at ? at->n : 0, at ? at->a : NULL};
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

static void assert_refused(o2p_status st, o2p_status want, const char *needle)
{
    ck_assert_int_eq(st, want);
    ck_assert_msg(strstr(o2p_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  o2p_last_error(), needle);
}

/* ---------------------------------------------------------------- DFT */

/* Naive DFT of X [outer, len, inner, comp] along len into [outer, nout, inner, 2]. */
static void dft_ref(const host_tensor *X, int64_t outer, int64_t len, int64_t inner, int comp,
                    int64_t n, int64_t nout, int inverse, double *y)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < nout; k++)
            for (int64_t j = 0; j < inner; j++) {
                double re = 0, im = 0;
                for (int64_t t = 0; t < n && t < len; t++) {
                    int64_t at = ((o * len + t) * inner + j) * comp;
                    double xr = host_get_f64(X, at), xi = comp == 2 ? host_get_f64(X, at + 1) : 0;
                    double ang = (inverse ? 2 : -2) * M_PI * (double)k * (double)t / (double)n;
                    re += xr * cos(ang) - xi * sin(ang);
                    im += xr * sin(ang) + xi * cos(ang);
                }
                int64_t q = ((o * nout + k) * inner + j) * 2;
                y[q] = inverse ? re / (double)n : re;
                y[q + 1] = inverse ? im / (double)n : im;
            }
}

START_TEST(test_dft)
{
    static const struct {
        int64_t b, len, inner;
        int comp, onesided, inverse;
        int64_t dft_length; /* 0: none */
        int axis;
    } cases[] = {
        {2, 8, 1, 1, 0, 0, 0, 1}, {1, 7, 1, 2, 0, 0, 0, 1}, {3, 6, 1, 1, 1, 0, 0, 1},
        {2, 5, 1, 2, 0, 1, 0, 1}, {1, 4, 1, 1, 0, 0, 9, 1}, {1, 9, 1, 2, 0, 0, 4, -2},
        {2, 3, 4, 1, 0, 0, 0, 1}, {1, 5, 3, 2, 1, 0, 8, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int has_inner = cases[c].inner > 1;
        int rank = has_inner ? 4 : 3;
        int64_t xd[4] = {cases[c].b, cases[c].len, cases[c].inner, cases[c].comp};
        if (!has_inner)
            xd[2] = cases[c].comp;
        host_tensor *X = tensor_rand(rank, xd);
        int64_t n = cases[c].dft_length ? cases[c].dft_length : cases[c].len;
        int64_t nout = cases[c].onesided ? n / 2 + 1 : n;
        int64_t yd[4];
        memcpy(yd, xd, sizeof yd);
        yd[1] = nout;
        yd[rank - 1] = 2;
        host_tensor *Y = tensor(F32, rank, yd);
        host_tensor *L = cases[c].dft_length ? scalar_i64(cases[c].dft_length) : NULL;
        attrs at = {0};
        at_int(&at, "axis", cases[c].axis);
        at_int(&at, "onesided", cases[c].onesided);
        at_int(&at, "inverse", cases[c].inverse);
        const host_tensor *in[2] = {X, L};
        ck_assert_msg(run("DFT", L ? 2 : 1, in, Y, &at) == O2P_OK, "case %zu: %s", c,
                      o2p_last_error());
        int64_t ny = numel_of(rank, yd);
        double *want = malloc((size_t)ny * sizeof *want);
        dft_ref(X, cases[c].b, cases[c].len, cases[c].inner, cases[c].comp, n, nout,
                cases[c].inverse, want);
        assert_close(Y, want, ny, 1e-5, "DFT");
        free(want);
        tensor_free(X);
        tensor_free(Y);
        tensor_free(L);
    }
}
END_TEST

START_TEST(test_dft_refusals)
{
    host_tensor *X = tensor_rand(3, D(1, 4, 3));
    host_tensor *Y = tensor(F32, 3, D(1, 4, 2));
    const host_tensor *in[1] = {X};
    assert_refused(run("DFT", 1, in, Y, NULL), O2P_ERR_SHAPE, "must be 1 (real) or 2");
    tensor_free(X);
    X = tensor_rand(3, D(1, 4, 1));
    in[0] = X;
    attrs at = {0};
    at_int(&at, "axis", 2);
    assert_refused(run("DFT", 1, in, Y, &at), O2P_ERR_SHAPE, "not a signal axis");
    attrs both = {0};
    at_int(&both, "onesided", 1);
    at_int(&both, "inverse", 1);
    assert_refused(run("DFT", 1, in, Y, &both), O2P_ERR_SHAPE, "cannot both be set");
    host_tensor *Ybad = tensor(F32, 3, D(1, 5, 2));
    assert_refused(run("DFT", 1, in, Ybad, NULL), O2P_ERR_SHAPE, "output 0 has shape");
    host_tensor *Xi = tensor(I32, 3, D(1, 4, 1));
    in[0] = Xi;
    assert_refused(run("DFT", 1, in, Y, NULL), O2P_ERR_UNSUPPORTED, "int32");
    tensor_free(X);
    tensor_free(Xi);
    tensor_free(Y);
    tensor_free(Ybad);
}
END_TEST

/* ---------------------------------------------------------------- STFT */

START_TEST(test_stft)
{
    for (int with_window = 0; with_window < 2; with_window++)
        for (int onesided = 0; onesided < 2; onesided++)
            for (int comp = 1; comp <= (onesided ? 1 : 2); comp++) {
                int64_t B = 2, len = 20, flen = 6, step = 3;
                int64_t frames = (len - flen) / step + 1, bins = onesided ? flen / 2 + 1 : flen;
                host_tensor *X = tensor_rand(3, D(B, len, comp));
                host_tensor *S = scalar_i64(step);
                host_tensor *W = with_window ? tensor_rand(1, D(flen)) : NULL;
                host_tensor *F = with_window ? NULL : scalar_i64(flen);
                host_tensor *Y = tensor(F32, 4, D(B, frames, bins, 2));
                attrs at = {0};
                at_int(&at, "onesided", onesided);
                const host_tensor *in[4] = {X, S, W, F};
                ck_assert_msg(run("STFT", 4, in, Y, &at) == O2P_OK, "%s", o2p_last_error());
                /* each frame: the DFT of the windowed slice */
                for (int64_t b = 0; b < B; b++)
                    for (int64_t f = 0; f < frames; f++) {
                        host_tensor *fr = tensor(F32, 3, D(1, flen, comp));
                        for (int64_t t = 0; t < flen; t++)
                            for (int c = 0; c < comp; c++) {
                                double w = W ? host_get_f64(W, t) : 1.0;
                                host_set_f64(fr, t * comp + c,
                                             host_get_f64(X, (b * len + f * step + t) * comp + c) *
                                                 w);
                            }
                        double want[2 * 6];
                        dft_ref(fr, 1, flen, 1, comp, flen, bins, 0, want);
                        for (int64_t k = 0; k < 2 * bins; k++) {
                            double g = host_get_f64(Y, ((b * frames + f) * bins) * 2 + k);
                            ck_assert_msg(fabs(g - want[k]) <= 1e-5 * (1 + fabs(want[k])),
                                          "STFT b%lld f%lld: %g vs %g", (long long)b, (long long)f,
                                          g, want[k]);
                        }
                        tensor_free(fr);
                    }
                tensor_free(X);
                tensor_free(S);
                tensor_free(W);
                tensor_free(F);
                tensor_free(Y);
            }
    /* window length and frame_length must agree; frames need frame_length <= length */
    host_tensor *X = tensor_rand(3, D(1, 8, 1)), *S = scalar_i64(2), *W = tensor_rand(1, D(4));
    host_tensor *F = scalar_i64(5), *Y = tensor(F32, 4, D(1, 3, 3, 2));
    const host_tensor *in[4] = {X, S, W, F};
    assert_refused(run("STFT", 4, in, Y, NULL), O2P_ERR_SHAPE, "frame_length is 5");
    host_tensor *F9 = scalar_i64(9);
    const host_tensor *in2[4] = {X, S, NULL, F9};
    assert_refused(run("STFT", 4, in2, Y, NULL), O2P_ERR_SHAPE, "longer than the signal");
    const host_tensor *in3[4] = {X, S, NULL, NULL};
    assert_refused(run("STFT", 4, in3, Y, NULL), O2P_ERR_SHAPE, "window or frame_length");
    tensor_free(X);
    tensor_free(S);
    tensor_free(W);
    tensor_free(F);
    tensor_free(F9);
    tensor_free(Y);
}
END_TEST

/* ---------------------------------------------------------------- windows, mel */

START_TEST(test_windows)
{
    host_tensor *S = scalar_i64(4);
    const host_tensor *in[1] = {S};
    host_tensor *Y = tensor(F32, 1, D(4));
    ck_assert_int_eq(run("HannWindow", 1, in, Y, NULL), O2P_OK);
    assert_close(Y, (const double[]){0, 0.5, 1, 0.5}, 4, 1e-6, "periodic Hann");
    attrs sym = {0};
    at_int(&sym, "periodic", 0);
    ck_assert_int_eq(run("HannWindow", 1, in, Y, &sym), O2P_OK);
    assert_close(Y, (const double[]){0, 0.75, 0.75, 0}, 4, 1e-6, "symmetric Hann");
    ck_assert_int_eq(run("HammingWindow", 1, in, Y, NULL), O2P_OK);
    double a0 = 25.0 / 46.0, a1 = 21.0 / 46.0;
    assert_close(Y, (const double[]){a0 - a1, a0, a0 + a1, a0}, 4, 1e-6, "Hamming");
    ck_assert_int_eq(run("BlackmanWindow", 1, in, Y, NULL), O2P_OK);
    assert_close(Y, (const double[]){0.0, 0.34, 1.0, 0.34}, 4, 1e-6, "Blackman");
    /* output_datatype picks the type; the output must have it */
    attrs dbl = {0};
    at_int(&dbl, "output_datatype", F64);
    host_tensor *Yd = tensor(F64, 1, D(4));
    ck_assert_int_eq(run("HannWindow", 1, in, Yd, &dbl), O2P_OK);
    ck_assert(fabs(((double *)Yd->data)[1] - 0.5) < 1e-15);
    assert_refused(run("HannWindow", 1, in, Y, &dbl), O2P_ERR_SHAPE, "output 0 is float32");
    host_tensor *Y5 = tensor(F32, 1, D(5));
    assert_refused(run("HannWindow", 1, in, Y5, NULL), O2P_ERR_SHAPE, "output 0 has shape");
    tensor_free(S);
    tensor_free(Y);
    tensor_free(Yd);
    tensor_free(Y5);
}
END_TEST

START_TEST(test_mel)
{
    /* ONNX's example: 8 bands over a 16-point DFT at 8192 Hz, 0..4096 Hz */
    host_tensor *bins = scalar_i64(8), *dft = scalar_i64(16), *rate = scalar_i64(8192);
    host_tensor *lo = scalar_f32(0.0f), *hi = scalar_f32(4096.0f);
    const host_tensor *in[5] = {bins, dft, rate, lo, hi};
    host_tensor *Y = tensor(F32, 2, D(9, 8));
    ck_assert_msg(run("MelWeightMatrix", 5, in, Y, NULL) == O2P_OK, "%s", o2p_last_error());
    /* every band is a triangle peaking at 1 */
    for (int64_t i = 0; i < 8; i++) {
        double peak = 0;
        for (int64_t j = 0; j < 9; j++) {
            double v = host_get_f64(Y, j * 8 + i);
            ck_assert(v >= 0.0 && v <= 1.0);
            peak = v > peak ? v : peak;
        }
        ck_assert_msg(peak == 1.0, "band %lld peaks at %g", (long long)i, peak);
    }
    /* band 0 spans bins 0..1 (edges 0, 0 (+1 peak) in the reference) */
    ck_assert(host_get_f64(Y, 0 * 8 + 0) == 1.0);
    host_tensor *Ybad = tensor(F32, 2, D(8, 8));
    assert_refused(run("MelWeightMatrix", 5, in, Ybad, NULL), O2P_ERR_SHAPE, "output 0 has shape");
    tensor_free(bins);
    tensor_free(dft);
    tensor_free(rate);
    tensor_free(lo);
    tensor_free(hi);
    tensor_free(Y);
    tensor_free(Ybad);
}
END_TEST

/* ---------------------------------------------------------------- MaxUnpool, Det, crop */

START_TEST(test_max_unpool)
{
    host_tensor *X = tensor(F32, 4, D(1, 1, 2, 2)), *I = tensor(I64, 4, D(1, 1, 2, 2));
    const float xv[4] = {5, 6, 7, 8};
    const int64_t iv[4] = {5, 7, 13, 15};
    memcpy(X->data, xv, sizeof xv);
    memcpy(I->data, iv, sizeof iv);
    attrs at = {0};
    at_ints(&at, "kernel_shape", 2, D(2, 2));
    at_ints(&at, "strides", 2, D(2, 2));
    const host_tensor *in[3] = {X, I, NULL};
    host_tensor *Y = tensor(F32, 4, D(1, 1, 4, 4));
    ck_assert_int_eq(run("MaxUnpool", 2, in, Y, &at), O2P_OK);
    double want[16] = {0};
    want[5] = 5, want[7] = 6, want[13] = 7, want[15] = 8;
    assert_close(Y, want, 16, 0, "MaxUnpool");
    /* output_shape larger: the same coordinates in the bigger tensor (ONNX's example) */
    host_tensor *S = tensor(I64, 1, D(4));
    memcpy(S->data, D(1, 1, 5, 5), 4 * sizeof(int64_t));
    host_tensor *Y5 = tensor(F32, 4, D(1, 1, 5, 5));
    in[2] = S;
    ck_assert_int_eq(run("MaxUnpool", 3, in, Y5, &at), O2P_OK);
    double want5[25] = {0};
    want5[6] = 5, want5[8] = 6, want5[16] = 7, want5[18] = 8;
    assert_close(Y5, want5, 25, 0, "MaxUnpool output_shape");
    /* an index outside the unpooled tensor is refused */
    ((int64_t *)I->data)[3] = 16;
    in[2] = NULL;
    assert_refused(run("MaxUnpool", 2, in, Y, &at), O2P_ERR_SHAPE, "index 16");
    tensor_free(X);
    tensor_free(I);
    tensor_free(Y);
    tensor_free(S);
    tensor_free(Y5);
}
END_TEST

START_TEST(test_det)
{
    host_tensor *X = tensor(F32, 3, D(3, 3, 3));
    const float v[27] = {2, 0, 0, 0, 3, 0, 0, 0, 4,  /* 24 */
                         0, 1, 0, 1, 0, 0, 0, 0, 1,  /* a swap: -1 */
                         1, 2, 3, 4, 5, 6, 7, 8, 9}; /* singular */
    memcpy(X->data, v, sizeof v);
    host_tensor *Y = tensor(F32, 1, D(3));
    const host_tensor *in[1] = {X};
    ck_assert_int_eq(run("Det", 1, in, Y, NULL), O2P_OK);
    assert_close(Y, (const double[]){24, -1, 0}, 3, 1e-5, "Det");
    host_tensor *Xr = tensor(F32, 2, D(2, 3)), *Y0 = tensor(F32, 0, NULL);
    in[0] = Xr;
    assert_refused(run("Det", 1, in, Y0, NULL), O2P_ERR_SHAPE, "square");
    tensor_free(X);
    tensor_free(Y);
    tensor_free(Xr);
    tensor_free(Y0);
}
END_TEST

START_TEST(test_center_crop_pad)
{
    host_tensor *X = tensor(F32, 2, D(3, 4));
    for (int i = 0; i < 12; i++)
        host_set_f64(X, i, i + 1);
    host_tensor *S = tensor(I64, 1, D(2));
    memcpy(S->data, D(5, 2), 2 * sizeof(int64_t));
    host_tensor *Y = tensor(F32, 2, D(5, 2));
    const host_tensor *in[2] = {X, S};
    ck_assert_int_eq(run("CenterCropPad", 2, in, Y, NULL), O2P_OK);
    /* rows padded by 1 before and after, columns 1..2 kept */
    assert_close(Y, (const double[]){0, 0, 2, 3, 6, 7, 10, 11, 0, 0}, 10, 0, "CenterCropPad");
    /* axes: only axis -1, cropped to 1 (odd: the extra element goes at the end) */
    attrs at = {0};
    at_ints(&at, "axes", 1, D(-1));
    host_tensor *S1 = tensor(I64, 1, D(1));
    ((int64_t *)S1->data)[0] = 1;
    host_tensor *Y1 = tensor(F32, 2, D(3, 1));
    in[1] = S1;
    ck_assert_int_eq(run("CenterCropPad", 2, in, Y1, &at), O2P_OK);
    assert_close(Y1, (const double[]){2, 6, 10}, 3, 0, "CenterCropPad axes");
    assert_refused(run("CenterCropPad", 2, in, Y, &at), O2P_ERR_SHAPE, "output 0 has shape");
    tensor_free(X);
    tensor_free(S);
    tensor_free(Y);
    tensor_free(S1);
    tensor_free(Y1);
}
END_TEST

/* ---------------------------------------------------------------- random */

START_TEST(test_random)
{
    int64_t n = 20000;
    host_tensor *A = tensor(F32, 1, D(n)), *B = tensor(F32, 1, D(n));
    attrs at = {0};
    at_ints(&at, "shape", 1, D(n));
    at_float(&at, "low", -2.0f);
    at_float(&at, "high", 3.0f);
    at_float(&at, "seed", 7.0f);
    ck_assert_int_eq(run("RandomUniform", 0, NULL, A, &at), O2P_OK);
    ck_assert_int_eq(run("RandomUniform", 0, NULL, B, &at), O2P_OK);
    ck_assert_msg(memcmp(A->data, B->data, (size_t)n * 4) == 0, "a seeded layer must repeat");
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = host_get_f64(A, i);
        ck_assert(v >= -2.0 && v <= 3.0);
        sum += v;
    }
    ck_assert_msg(fabs(sum / (double)n - 0.5) < 0.05, "uniform mean %g", sum / (double)n);
    /* another seed: other values */
    at.a[3].f = 8.0f;
    ck_assert_int_eq(run("RandomUniform", 0, NULL, B, &at), O2P_OK);
    ck_assert(memcmp(A->data, B->data, (size_t)n * 4) != 0);

    /* normal, as a Like op taking the input's shape; double output via dtype */
    host_tensor *L = tensor(F32, 2, D(100, 200)), *N = tensor(F64, 2, D(100, 200));
    attrs an = {0};
    at_float(&an, "mean", 1.0f);
    at_float(&an, "scale", 2.0f);
    at_int(&an, "dtype", F64);
    const host_tensor *in[1] = {L};
    ck_assert_int_eq(run("RandomNormalLike", 1, in, N, &an), O2P_OK);
    double s1 = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = host_get_f64(N, i);
        ck_assert(isfinite(v));
        s1 += v;
        s2 += v * v;
    }
    double mean = s1 / (double)n, var = s2 / (double)n - mean * mean;
    ck_assert_msg(fabs(mean - 1.0) < 0.05 && fabs(var - 4.0) < 0.2, "normal %g %g", mean, var);
    /* without a seed two runs differ (A and B take L's shape, the same element count) */
    for (host_tensor *t = A; t; t = t == A ? B : NULL) {
        t->rank = 2;
        t->dims[0] = 100;
        t->dims[1] = 200;
    }
    attrs un = {0};
    ck_assert_int_eq(run("RandomUniformLike", 1, in, A, &un), O2P_OK);
    ck_assert_int_eq(run("RandomUniformLike", 1, in, B, &un), O2P_OK);
    ck_assert(memcmp(A->data, B->data, (size_t)n * 4) != 0);
    /* integer outputs are refused for uniform/normal */
    attrs ai = {0};
    at_int(&ai, "dtype", I32);
    host_tensor *Yi = tensor(I32, 2, D(100, 200));
    assert_refused(run("RandomUniformLike", 1, in, Yi, &ai), O2P_ERR_UNSUPPORTED, "int32");
    tensor_free(A);
    tensor_free(B);
    tensor_free(L);
    tensor_free(N);
    tensor_free(Yi);
}
END_TEST

START_TEST(test_bernoulli)
{
    host_tensor *P = tensor(F32, 1, D(1000)), *Y = tensor(F32, 1, D(1000));
    for (int i = 0; i < 1000; i++)
        host_set_f64(P, i, i < 300 ? 0.0 : i < 600 ? 1.0 : 0.5);
    const host_tensor *in[1] = {P};
    attrs at = {0};
    at_float(&at, "seed", 1.0f);
    ck_assert_int_eq(run("Bernoulli", 1, in, Y, &at), O2P_OK);
    int ones = 0;
    for (int i = 0; i < 1000; i++) {
        double v = host_get_f64(Y, i);
        ck_assert(v == 0.0 || v == 1.0);
        if (i < 300)
            ck_assert(v == 0.0);
        else if (i < 600)
            ck_assert(v == 1.0);
        else
            ones += v == 1.0;
    }
    ck_assert_msg(ones > 150 && ones < 250, "%d ones of 400 at p = 0.5", ones);
    /* dtype: a bool output */
    attrs ab = {0};
    at_int(&ab, "dtype", O2P_DTYPE_BOOL);
    host_tensor *Yb = tensor(O2P_DTYPE_BOOL, 1, D(1000));
    ck_assert_int_eq(run("Bernoulli", 1, in, Yb, &ab), O2P_OK);
    ck_assert(((unsigned char *)Yb->data)[400] == 1 && ((unsigned char *)Yb->data)[0] == 0);
    host_tensor *Pi = tensor(I64, 1, D(1000));
    in[0] = Pi;
    assert_refused(run("Bernoulli", 1, in, Y, &ab), O2P_ERR_UNSUPPORTED, "int64");
    tensor_free(P);
    tensor_free(Y);
    tensor_free(Yb);
    tensor_free(Pi);
}
END_TEST

START_TEST(test_multinomial)
{
    /* row 0: classes 0 and 1 at 1:3; row 1: only class 2 (the others at -inf weight) */
    host_tensor *X = tensor(F32, 2, D(2, 3)), *Y = tensor(I64, 2, D(2, 4000));
    const float xv[6] = {0.0f, logf(3.0f), -INFINITY, -INFINITY, -INFINITY, 5.0f};
    memcpy(X->data, xv, sizeof xv);
    attrs at = {0};
    at_int(&at, "sample_size", 4000);
    at_int(&at, "dtype", I64);
    at_float(&at, "seed", 2.0f);
    const host_tensor *in[1] = {X};
    ck_assert_msg(run("Multinomial", 1, in, Y, &at) == O2P_OK, "%s", o2p_last_error());
    const int64_t *y = Y->data;
    int ones = 0;
    for (int s = 0; s < 4000; s++) {
        ck_assert(y[s] == 0 || y[s] == 1);
        ones += y[s] == 1;
        ck_assert_int_eq(y[4000 + s], 2);
    }
    ck_assert_msg(ones > 2850 && ones < 3150, "%d of 4000 picked class 1 (p = 0.75)", ones);
    /* a seeded layer repeats */
    host_tensor *Y2 = tensor(I64, 2, D(2, 4000));
    ck_assert_int_eq(run("Multinomial", 1, in, Y2, &at), O2P_OK);
    ck_assert(memcmp(Y->data, Y2->data, 8000 * sizeof(int64_t)) == 0);
    /* int32 by default: an int64 output is then the wrong type */
    attrs def = {0};
    at_int(&def, "sample_size", 4000);
    assert_refused(run("Multinomial", 1, in, Y, &def), O2P_ERR_SHAPE, "output 0 is int64");
    tensor_free(X);
    tensor_free(Y);
    tensor_free(Y2);
}
END_TEST

START_TEST(test_table)
{
    static const char *const ops[] = {"Bernoulli",
                                      "BlackmanWindow",
                                      "CenterCropPad",
                                      "DFT",
                                      "Det",
                                      "HammingWindow",
                                      "HannWindow",
                                      "MaxUnpool",
                                      "MelWeightMatrix",
                                      "Multinomial",
                                      "RandomNormal",
                                      "RandomNormalLike",
                                      "RandomUniform",
                                      "RandomUniformLike",
                                      "STFT"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        ck_assert_msg(host_kernel_find(ops[i]) != NULL, "%s has no host kernel", ops[i]);
    ck_assert_int_eq(host_signal_kernel_count, (int)(sizeof ops / sizeof ops[0]));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_signal");
    TCase *tc = tcase_create("signal");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_dft);
    tcase_add_test(tc, test_dft_refusals);
    tcase_add_test(tc, test_stft);
    tcase_add_test(tc, test_windows);
    tcase_add_test(tc, test_mel);
    tcase_add_test(tc, test_max_unpool);
    tcase_add_test(tc, test_det);
    tcase_add_test(tc, test_center_crop_pad);
    tcase_add_test(tc, test_random);
    tcase_add_test(tc, test_bernoulli);
    tcase_add_test(tc, test_multinomial);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
