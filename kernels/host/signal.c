/* signal.c: the signal-processing and miscellaneous generator kernels: DFT and STFT (opset 17,
 * real or complex-as-last-dim-2), the Hann/Hamming/Blackman windows, MelWeightMatrix,
 * MaxUnpool, Det, CenterCropPad and the random generators (RandomUniform/Normal, their *Like
 * forms, Bernoulli, Multinomial). Everything is computed in double through
 * host_get_f64/host_set_f64: these ops are rare and small, so exactness beats speed. The DFT is the
 * direct O(N^2) sum with twiddles reduced mod N (the same formula the CUDA kernels use, so both
 * targets agree to rounding). The random generators are counter based (a hash of seed and element
 * index), so a seeded layer gives the same values on every run and on both targets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/nn_internal.h"

/* The largest DFT length: k * t of two indices below it must fit 64 bits exactly. */
#define SIG_MAX_DFT ((int64_t)1 << 31)

static int is_float(o2p_dtype t)
{
    return host_nn_is_float(t);
}

/* A numeric element type host_set_f64 can write (not string, not complex). */
static int is_numeric(o2p_dtype t)
{
    return t != O2P_DTYPE_STRING && o2p_dtype_size(t) > 0 && t != O2P_DTYPE_UNDEFINED &&
           t != O2P_DTYPE_COMPLEX64 && t != O2P_DTYPE_COMPLEX128;
}

/* A scalar (rank 0, or rank 1 of one element) int32/int64 input. */
static o2p_status scalar_int(const host_kernel_args *a, const host_tensor *t, const char *what,
                             int64_t *v)
{
    int ok;
    if ((t->dtype != O2P_DTYPE_INT64 && t->dtype != O2P_DTYPE_INT32) || t->rank > 1 ||
        host_numel(t, &ok) != 1)
        return host_error(a, "%s must be an int32 or int64 scalar", what);
    *v = host_get_i64(t, 0);
    return O2P_OK;
}

static o2p_status scalar_float(const host_kernel_args *a, const host_tensor *t, const char *what,
                               double *v)
{
    int ok;
    if (!is_numeric(t->dtype) || t->rank > 1 || host_numel(t, &ok) != 1)
        return host_error(a, "%s must be a numeric scalar", what);
    *v = host_get_f64(t, 0);
    return O2P_OK;
}

/* (k * t) mod n as an angle factor: exact for n <= SIG_MAX_DFT. */
static double twiddle_angle(int64_t k, int64_t t, int64_t n, int inverse)
{
    uint64_t m = ((uint64_t)k * (uint64_t)t) % (uint64_t)n;
    double ang = 2.0 * M_PI * (double)m / (double)n;
    return inverse ? ang : -ang;
}

/* ---------------------------------------------------------------- DFT */

static o2p_status host_dft(const host_kernel_args *a)
{
    const host_tensor *X, *L;
    O2P_TRY(host_nn_input(a, 0, "input", &X));
    O2P_TRY(host_nn_input_opt(a, 1, "dft_length", 1, &L));
    if (!is_float(X->dtype))
        return host_unsupported_dtype(a, X->dtype);
    int r = X->rank;
    if (r < 3)
        return host_error(a, "input has rank %d; DFT needs batch x signal... x 1|2", r);
    int64_t comp = X->dims[r - 1];
    if (comp != 1 && comp != 2)
        return host_error(a,
                          "the last dim of the input is %lld; it must be 1 (real) or 2 "
                          "(complex)",
                          (long long)comp);
    int64_t axis_attr = host_attr_int(a, "axis", 1), axis = axis_attr;
    if (axis < 0)
        axis += r;
    if (axis < 1 || axis > r - 2)
        return host_error(a, "axis %lld is not a signal axis of a rank %d input (1 to %d)",
                          (long long)axis_attr, r, r - 2);
    int onesided = host_attr_int(a, "onesided", 0) != 0;
    int inverse = host_attr_int(a, "inverse", 0) != 0;
    if (onesided && inverse)
        return host_error(a, "onesided and inverse cannot both be set");
    int64_t len_in = X->dims[axis], n = len_in;
    if (L) {
        O2P_TRY(scalar_int(a, L, "dft_length", &n));
        if (n < 1)
            return host_error(a, "dft_length is %lld; it must be 1 or more", (long long)n);
    }
    if (n > SIG_MAX_DFT)
        return host_error(a, "DFT length %lld is larger than 2^31", (long long)n);
    int64_t nout = onesided ? n / 2 + 1 : n;
    int64_t ydims[HOST_MAX_RANK];
    memcpy(ydims, X->dims, sizeof ydims);
    ydims[axis] = nout;
    ydims[r - 1] = 2;
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, r, ydims, &Y));
    int64_t outer = host_nn_prod(X->dims, 0, (int)axis);
    int64_t inner = host_nn_prod(X->dims, (int)axis + 1, r - 1);
    int64_t taps = len_in < n ? len_in : n;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < nout; k++)
            for (int64_t j = 0; j < inner; j++) {
                double re = 0.0, im = 0.0;
                for (int64_t t = 0; t < taps; t++) {
                    int64_t at = ((o * len_in + t) * inner + j) * comp;
                    double xr = host_get_f64(X, at), xi = comp == 2 ? host_get_f64(X, at + 1) : 0.0;
                    double ang = twiddle_angle(k, t, n, inverse), c = cos(ang), s = sin(ang);
                    re += xr * c - xi * s;
                    im += xr * s + xi * c;
                }
                if (inverse) {
                    re /= (double)n;
                    im /= (double)n;
                }
                int64_t y = ((o * nout + k) * inner + j) * 2;
                host_set_f64(Y, y, re);
                host_set_f64(Y, y + 1, im);
            }
    return O2P_OK;
}

/* ---------------------------------------------------------------- STFT */

static o2p_status host_stft(const host_kernel_args *a)
{
    const host_tensor *X, *S, *W, *F;
    O2P_TRY(host_nn_input(a, 0, "signal", &X));
    O2P_TRY(host_nn_input(a, 1, "frame_step", &S));
    O2P_TRY(host_nn_input_opt(a, 2, "window", 1, &W));
    O2P_TRY(host_nn_input_opt(a, 3, "frame_length", 1, &F));
    if (!is_float(X->dtype))
        return host_unsupported_dtype(a, X->dtype);
    if (X->rank != 3 || (X->dims[2] != 1 && X->dims[2] != 2))
        return host_error(a, "signal must be batch x length x 1|2");
    int64_t step, flen = -1;
    O2P_TRY(scalar_int(a, S, "frame_step", &step));
    if (step < 1)
        return host_error(a, "frame_step is %lld; it must be 1 or more", (long long)step);
    if (W) {
        if (W->rank != 1 || !is_float(W->dtype))
            return host_error(a, "window must be a 1-D float tensor");
        flen = W->dims[0];
    }
    if (F) {
        int64_t v;
        O2P_TRY(scalar_int(a, F, "frame_length", &v));
        if (W && v != flen)
            return host_error(a, "window has %lld entries but frame_length is %lld",
                              (long long)flen, (long long)v);
        flen = v;
    }
    if (flen < 0)
        return host_error(a, "either window or frame_length must be given");
    if (flen < 1)
        return host_error(a, "frame_length is %lld; it must be 1 or more", (long long)flen);
    if (flen > SIG_MAX_DFT)
        return host_error(a, "frame_length %lld is larger than 2^31", (long long)flen);
    int64_t B = X->dims[0], len = X->dims[1], comp = X->dims[2];
    if (flen > len)
        return host_error(a, "frame_length %lld is longer than the signal (%lld)", (long long)flen,
                          (long long)len);
    int onesided = host_attr_int(a, "onesided", 1) != 0;
    int64_t frames = (len - flen) / step + 1, bins = onesided ? flen / 2 + 1 : flen;
    int64_t ydims[4] = {B, frames, bins, 2};
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, 4, ydims, &Y));
    for (int64_t b = 0; b < B; b++)
        for (int64_t f = 0; f < frames; f++)
            for (int64_t k = 0; k < bins; k++) {
                double re = 0.0, im = 0.0;
                for (int64_t t = 0; t < flen; t++) {
                    int64_t at = (b * len + f * step + t) * comp;
                    double w = W ? host_get_f64(W, t) : 1.0;
                    double xr = host_get_f64(X, at) * w;
                    double xi = comp == 2 ? host_get_f64(X, at + 1) * w : 0.0;
                    double ang = twiddle_angle(k, t, flen, 0), c = cos(ang), s = sin(ang);
                    re += xr * c - xi * s;
                    im += xr * s + xi * c;
                }
                int64_t y = ((b * frames + f) * bins + k) * 2;
                host_set_f64(Y, y, re);
                host_set_f64(Y, y + 1, im);
            }
    return O2P_OK;
}

/* ---------------------------------------------------------------- windows */

static o2p_status out_datatype(const host_kernel_args *a, o2p_dtype *t)
{
    int64_t v = host_attr_int(a, "output_datatype", O2P_DTYPE_FLOAT);
    if (v <= 0 || v > O2P_DTYPE_BFLOAT16 || !is_numeric((o2p_dtype)v))
        return host_error(a, "output_datatype %lld is not a numeric element type", (long long)v);
    *t = (o2p_dtype)v;
    return O2P_OK;
}

typedef enum { WIN_HANN, WIN_HAMMING, WIN_BLACKMAN } win_kind;

static o2p_status window(const host_kernel_args *a, win_kind kind)
{
    const host_tensor *S;
    O2P_TRY(host_nn_input(a, 0, "size", &S));
    int64_t size;
    O2P_TRY(scalar_int(a, S, "size", &size));
    if (size < 0)
        return host_error(a, "size is %lld; it must not be negative", (long long)size);
    o2p_dtype t;
    O2P_TRY(out_datatype(a, &t));
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, t, 1, &size, &Y));
    int periodic = host_attr_int(a, "periodic", 1) != 0;
    int64_t N = periodic ? size : size - 1;
    for (int64_t i = 0; i < size; i++) {
        /* a symmetric window of one point divides 0 by 0: NaN, as ONNX's reference */
        double x = N > 0 ? 2.0 * M_PI * (double)i / (double)N : NAN, v;
        if (kind == WIN_HANN)
            v = 0.5 - 0.5 * cos(x);
        else if (kind == WIN_HAMMING)
            v = 25.0 / 46.0 - 21.0 / 46.0 * cos(x);
        else
            v = 0.42 - 0.5 * cos(x) + 0.08 * cos(2.0 * x);
        host_set_f64(Y, i, v);
    }
    return O2P_OK;
}

static o2p_status host_hann_window(const host_kernel_args *a)
{
    return window(a, WIN_HANN);
}

static o2p_status host_hamming_window(const host_kernel_args *a)
{
    return window(a, WIN_HAMMING);
}

static o2p_status host_blackman_window(const host_kernel_args *a)
{
    return window(a, WIN_BLACKMAN);
}

/* ---------------------------------------------------------------- MelWeightMatrix */

/* The spectrogram bin of mel band edge i (0 .. bins+1), as ONNX's reference computes it:
 * the mel edges in float32 (its inputs' type), the rest in double, floored. */
static int64_t mel_edge(int64_t i, int64_t bins, int64_t dft, int64_t rate, float lo, float hi)
{
    float lo_mel = 2595.0f * log10f(1.0f + lo / 700.0f);
    float hi_mel = 2595.0f * log10f(1.0f + hi / 700.0f);
    float step = (hi_mel - lo_mel) / (float)(bins + 2);
    double f = (double)i * (double)step + (double)lo_mel;
    f = 700.0 * (pow(10.0, f / 2595.0) - 1.0);
    return (int64_t)floor((double)(dft + 1) * f / (double)rate);
}

static o2p_status host_mel_weight_matrix(const host_kernel_args *a)
{
    const host_tensor *in[5];
    static const char *const names[5] = {"num_mel_bins", "dft_length", "sample_rate",
                                         "lower_edge_hertz", "upper_edge_hertz"};
    for (int i = 0; i < 5; i++)
        O2P_TRY(host_nn_input(a, i, names[i], &in[i]));
    int64_t bins, dft, rate;
    double lo, hi;
    O2P_TRY(scalar_int(a, in[0], names[0], &bins));
    O2P_TRY(scalar_int(a, in[1], names[1], &dft));
    O2P_TRY(scalar_int(a, in[2], names[2], &rate));
    O2P_TRY(scalar_float(a, in[3], names[3], &lo));
    O2P_TRY(scalar_float(a, in[4], names[4], &hi));
    if (bins < 1 || dft < 1 || rate < 1)
        return host_error(a,
                          "num_mel_bins (%lld), dft_length (%lld) and sample_rate (%lld) "
                          "must be 1 or more",
                          (long long)bins, (long long)dft, (long long)rate);
    if (bins > ((int64_t)1 << 24) || dft > ((int64_t)1 << 40))
        return host_error(a, "num_mel_bins %lld or dft_length %lld is too large", (long long)bins,
                          (long long)dft);
    o2p_dtype t;
    O2P_TRY(out_datatype(a, &t));
    int64_t spec = dft / 2 + 1, ydims[2] = {spec, bins};
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, t, 2, ydims, &Y));
    for (int64_t i = 0; i < spec * bins; i++)
        host_set_f64(Y, i, 0.0);
    for (int64_t i = 0; i < bins; i++) {
        int64_t l = mel_edge(i, bins, dft, rate, (float)lo, (float)hi);
        int64_t c = mel_edge(i + 1, bins, dft, rate, (float)lo, (float)hi);
        int64_t h = mel_edge(i + 2, bins, dft, rate, (float)lo, (float)hi);
        if (l < 0 || c < l || h < c || c >= spec || h > spec)
            return host_error(a,
                              "mel band %lld spans spectrogram bins %lld..%lld, outside 0..%lld "
                              "(check sample_rate and the edge frequencies)",
                              (long long)i, (long long)l, (long long)h, (long long)spec - 1);
        if (c == l) {
            host_set_f64(Y, c * bins + i, 1.0);
        } else {
            for (int64_t j = l; j <= c; j++)
                host_set_f64(Y, j * bins + i, (double)(j - l) / (double)(c - l));
        }
        for (int64_t j = c; j < h; j++)
            host_set_f64(Y, j * bins + i, (double)(h - j) / (double)(h - c));
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- MaxUnpool */

static o2p_status host_max_unpool(const host_kernel_args *a)
{
    const host_tensor *X, *I, *S;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    O2P_TRY(host_nn_input(a, 1, "I", &I));
    O2P_TRY(host_nn_input_opt(a, 2, "output_shape", 0, &S));
    if (!is_numeric(X->dtype))
        return host_unsupported_dtype(a, X->dtype);
    if (X->rank < 3)
        return host_error(a, "X has rank %d; MaxUnpool needs rank 3 or more", X->rank);
    if (I->dtype != O2P_DTYPE_INT64 || !host_same_shape(I, X->rank, X->dims))
        return host_error(a, "I must be an int64 tensor of X's shape");
    int nsp = X->rank - 2;
    int kc;
    const int64_t *ks = host_attr_ints(a, "kernel_shape", &kc);
    if (!ks || kc != nsp)
        return host_error(a, "attribute kernel_shape is required with %d entries", nsp);
    int64_t strides[HOST_MAX_RANK], pads[2 * HOST_MAX_RANK];
    O2P_TRY(host_nn_spatial_ints(a, "strides", nsp, 1, 1, strides));
    O2P_TRY(host_nn_spatial_ints(a, "pads", 2 * nsp, 0, 0, pads));
    for (int d = 0; d < nsp; d++)
        if (ks[d] < 1)
            return host_error(a, "kernel_shape has %lld", (long long)ks[d]);
    /* ONNX's reference scatters into the shape the attributes give (the indices' index
     * space), then places that at the start of output_shape's tensor: where the two differ,
     * an element keeps its coordinates and is dropped when they fall outside the output */
    int64_t idims[HOST_MAX_RANK], ydims[HOST_MAX_RANK];
    idims[0] = X->dims[0];
    idims[1] = X->dims[1];
    for (int d = 0; d < nsp; d++) {
        int64_t in = X->dims[d + 2] > 0 ? X->dims[d + 2] - 1 : 0;
        if (in > INT64_MAX / 4 / strides[d] || ks[d] > INT64_MAX / 4)
            return host_error(a, "spatial axis %d overflows", d);
        idims[d + 2] = in * strides[d] + ks[d] - pads[d] - pads[d + nsp];
        if (idims[d + 2] < 0)
            return host_error(a, "spatial axis %d of the output would be %lld", d,
                              (long long)idims[d + 2]);
    }
    memcpy(ydims, idims, sizeof ydims);
    if (S) {
        if (host_read_ints(S, ydims, HOST_MAX_RANK) != X->rank)
            return host_error(a, "output_shape must be a 1-D int tensor of %d entries", X->rank);
        for (int d = 0; d < X->rank; d++)
            if (ydims[d] < 0)
                return host_error(a, "output_shape has %lld on axis %d", (long long)ydims[d], d);
    }
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, X->rank, ydims, &Y));
    int64_t ny = host_nn_numel(Y), nx = host_nn_numel(X), ni = 1;
    for (int d = 0; d < X->rank; d++)
        if (__builtin_mul_overflow(ni, idims[d], &ni))
            return host_error(a, "the unpooled shape overflows");
    if (ny > 0)
        memset(Y->data, 0, (size_t)ny * o2p_dtype_size(Y->dtype));
    size_t es = o2p_dtype_size(X->dtype);
    const int64_t *idx = I->data;
    for (int64_t i = 0; i < nx; i++) {
        if (idx[i] < 0 || idx[i] >= ni)
            return host_error(a, "index %lld at %lld is outside the unpooled %lld elements",
                              (long long)idx[i], (long long)i, (long long)ni);
        int64_t rem = idx[i], at = 0, stride = 1;
        int inside = 1;
        for (int d = X->rank - 1; d >= 0; d--) {
            int64_t q = rem % idims[d];
            rem /= idims[d];
            inside &= q < ydims[d];
            at += q * stride;
            stride *= ydims[d];
        }
        if (inside)
            memcpy((char *)Y->data + (size_t)at * es, (const char *)X->data + (size_t)i * es, es);
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- Det */

static o2p_status host_det(const host_kernel_args *a)
{
    const host_tensor *X;
    O2P_TRY(host_nn_input(a, 0, "X", &X));
    if (!is_float(X->dtype))
        return host_unsupported_dtype(a, X->dtype);
    int r = X->rank;
    if (r < 2 || X->dims[r - 1] != X->dims[r - 2])
        return host_error(a, "X must hold square matrices in its last two dims");
    int64_t m = X->dims[r - 1];
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, r - 2, X->dims, &Y));
    int64_t batch = host_nn_prod(X->dims, 0, r - 2);
    if (batch == 0)
        return O2P_OK;
    double *lu = host_nn_alloc(a, m * m > 0 ? m * m : 1, sizeof(double));
    if (!lu)
        return O2P_ERR_OUT_OF_MEMORY;
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t i = 0; i < m * m; i++)
            lu[i] = host_get_f64(X, b * m * m + i);
        /* LU with partial pivoting: det = sign * prod of the pivots */
        double det = 1.0;
        for (int64_t k = 0; k < m && det != 0.0; k++) {
            int64_t p = k;
            for (int64_t i = k + 1; i < m; i++)
                if (fabs(lu[i * m + k]) > fabs(lu[p * m + k]))
                    p = i;
            if (lu[p * m + k] == 0.0) {
                det = 0.0;
                break;
            }
            if (p != k) {
                for (int64_t j = 0; j < m; j++) {
                    double tmp = lu[k * m + j];
                    lu[k * m + j] = lu[p * m + j];
                    lu[p * m + j] = tmp;
                }
                det = -det;
            }
            double piv = lu[k * m + k];
            det *= piv;
            for (int64_t i = k + 1; i < m; i++) {
                double f = lu[i * m + k] / piv;
                for (int64_t j = k + 1; j < m; j++)
                    lu[i * m + j] -= f * lu[k * m + j];
            }
        }
        host_set_f64(Y, b, det);
    }
    free(lu);
    return O2P_OK;
}

/* ---------------------------------------------------------------- CenterCropPad */

static o2p_status host_center_crop_pad(const host_kernel_args *a)
{
    const host_tensor *X, *S;
    O2P_TRY(host_nn_input(a, 0, "input_data", &X));
    O2P_TRY(host_nn_input(a, 1, "shape", &S));
    if (X->dtype == O2P_DTYPE_STRING || o2p_dtype_size(X->dtype) == 0)
        return host_unsupported_dtype(a, X->dtype);
    int r = X->rank, axes[HOST_MAX_RANK], na = r;
    for (int i = 0; i < r; i++)
        axes[i] = i;
    int nattr;
    const int64_t *av = host_attr_ints(a, "axes", &nattr);
    if (av) {
        if (nattr > r)
            return host_error(a, "axes has %d entries for a rank %d input", nattr, r);
        int seen[HOST_MAX_RANK] = {0};
        for (int i = 0; i < nattr; i++) {
            if (!host_norm_axis(av[i], r, &axes[i]) || seen[axes[i]]++)
                return host_error(a, "axes entry %lld is out of range or repeated",
                                  (long long)av[i]);
        }
        na = nattr;
    }
    int64_t sh[HOST_MAX_RANK];
    if (host_read_ints(S, sh, HOST_MAX_RANK) != na)
        return host_error(a, "shape must be a 1-D int tensor of %d entries", na);
    int64_t ydims[HOST_MAX_RANK];
    memcpy(ydims, X->dims, sizeof ydims);
    for (int i = 0; i < na; i++) {
        if (sh[i] < 0)
            return host_error(a, "shape has %lld on axis %d", (long long)sh[i], axes[i]);
        ydims[axes[i]] = sh[i];
    }
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, X->dtype, r, ydims, &Y));
    /* source index = output index - shift; shift > 0 pads (centered, the extra one at the
     * end), shift < 0 crops (likewise) */
    int64_t shift[HOST_MAX_RANK];
    for (int d = 0; d < r; d++)
        shift[d] =
            ydims[d] >= X->dims[d] ? (ydims[d] - X->dims[d]) / 2 : -((X->dims[d] - ydims[d]) / 2);
    int64_t ny = host_nn_numel(Y);
    size_t es = o2p_dtype_size(X->dtype);
    for (int64_t o = 0; o < ny; o++) {
        int64_t rem = o, src = 0, stride = 1;
        int inside = 1;
        for (int d = r - 1; d >= 0; d--) {
            int64_t q = rem % ydims[d], s = q - shift[d];
            rem /= ydims[d];
            if (s < 0 || s >= X->dims[d])
                inside = 0;
            src += s * stride;
            stride *= X->dims[d];
        }
        char *dst = (char *)Y->data + (size_t)o * es;
        if (inside)
            memcpy(dst, (const char *)X->data + (size_t)src * es, es);
        else
            memset(dst, 0, es);
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- random generators */

/* The stream of a layer: the seed attribute's bits when set (same values every run), else a
 * fresh one per call (the spec leaves unseeded values to the implementation). */
static uint64_t layer_seed(const host_kernel_args *a)
{
    const host_attr *s = host_attr_find(a, "seed");
    if (s && s->type == O2P_ATTR_FLOAT) {
        uint32_t bits;
        memcpy(&bits, &s->f, sizeof bits);
        return host_mix64((uint64_t)bits | ((uint64_t)1 << 32));
    }
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    uint64_t local = 0;
    return host_mix64((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
           host_mix64((uint64_t)(uintptr_t)&local) ^ host_mix64((uint64_t)(uintptr_t)a);
}

typedef enum { RAND_UNIFORM, RAND_NORMAL, RAND_BERNOULLI } rand_kind;

static o2p_status random_op(const host_kernel_args *a, rand_kind kind, int like)
{
    const host_tensor *X = NULL;
    if (like)
        O2P_TRY(host_nn_input(a, 0, "input", &X));
    int64_t dt = host_attr_int(a, "dtype", X ? (int64_t)X->dtype : (int64_t)O2P_DTYPE_FLOAT);
    if (dt <= 0 || dt > O2P_DTYPE_BFLOAT16 || !is_numeric((o2p_dtype)dt))
        return host_error(a, "dtype %lld is not a numeric element type", (long long)dt);
    o2p_dtype t = (o2p_dtype)dt;
    if (kind != RAND_BERNOULLI && !is_float(t))
        return host_unsupported_dtype(a, t);
    if (kind == RAND_BERNOULLI && !is_float(X->dtype))
        return host_unsupported_dtype(a, X->dtype);
    int rank;
    int64_t dims[HOST_MAX_RANK];
    if (X) {
        rank = X->rank;
        memcpy(dims, X->dims, sizeof dims);
    } else {
        const int64_t *sh = host_attr_ints(a, "shape", &rank);
        if (!sh || rank > HOST_MAX_RANK)
            return host_error(a, "attribute shape is required (at most %d entries)", HOST_MAX_RANK);
        for (int i = 0; i < rank; i++)
            if ((dims[i] = sh[i]) < 0)
                return host_error(a, "attribute shape has %lld on axis %d", (long long)sh[i], i);
    }
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, t, rank, dims, &Y));
    uint64_t seed = layer_seed(a);
    int64_t n = host_nn_numel(Y);
    if (kind == RAND_UNIFORM) {
        double lo = host_attr_float(a, "low", 0.0f), hi = host_attr_float(a, "high", 1.0f);
        for (int64_t i = 0; i < n; i++)
            host_set_f64(Y, i, lo + (hi - lo) * host_rand_u01(seed, (uint64_t)i));
    } else if (kind == RAND_NORMAL) {
        double mean = host_attr_float(a, "mean", 0.0f), scale = host_attr_float(a, "scale", 1.0f);
        for (int64_t i = 0; i < n; i++) {
            /* Box-Muller on two stream elements; 1 - u keeps the log's argument in (0, 1] */
            double u1 = 1.0 - host_rand_u01(seed, 2 * (uint64_t)i);
            double u2 = host_rand_u01(seed, 2 * (uint64_t)i + 1);
            double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
            host_set_f64(Y, i, mean + scale * z);
        }
    } else {
        for (int64_t i = 0; i < n; i++)
            host_set_f64(Y, i, host_rand_u01(seed, (uint64_t)i) < host_get_f64(X, i) ? 1.0 : 0.0);
    }
    return O2P_OK;
}

static o2p_status host_random_uniform(const host_kernel_args *a)
{
    return random_op(a, RAND_UNIFORM, 0);
}

static o2p_status host_random_normal(const host_kernel_args *a)
{
    return random_op(a, RAND_NORMAL, 0);
}

static o2p_status host_random_uniform_like(const host_kernel_args *a)
{
    return random_op(a, RAND_UNIFORM, 1);
}

static o2p_status host_random_normal_like(const host_kernel_args *a)
{
    return random_op(a, RAND_NORMAL, 1);
}

static o2p_status host_bernoulli(const host_kernel_args *a)
{
    return random_op(a, RAND_BERNOULLI, 1);
}

/* Multinomial: X [batch, classes] of unnormalized log-probabilities; sample s of row b picks
 * the first class whose running sum of exp(x - max) exceeds u * total, u from the stream at
 * b * sample_size + s (the CUDA kernel does the same per sample). */
static o2p_status host_multinomial(const host_kernel_args *a)
{
    const host_tensor *X;
    O2P_TRY(host_nn_input(a, 0, "input", &X));
    if (!is_float(X->dtype))
        return host_unsupported_dtype(a, X->dtype);
    if (X->rank != 2)
        return host_error(a, "input must be batch x classes, not rank %d", X->rank);
    int64_t dt = host_attr_int(a, "dtype", O2P_DTYPE_INT32);
    if (dt != O2P_DTYPE_INT32 && dt != O2P_DTYPE_INT64)
        return host_error(a, "dtype %lld must be int32 (6) or int64 (7)", (long long)dt);
    int64_t ns = host_attr_int(a, "sample_size", 1);
    if (ns < 1)
        return host_error(a, "sample_size %lld must be 1 or more", (long long)ns);
    int64_t B = X->dims[0], C = X->dims[1], ydims[2] = {B, ns};
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, (o2p_dtype)dt, 2, ydims, &Y));
    if (B > 0 && ns > 0 && C == 0)
        return host_error(a, "input has no classes to sample from");
    uint64_t seed = layer_seed(a);
    for (int64_t b = 0; b < B; b++) {
        double mx = -INFINITY, total = 0.0;
        for (int64_t c = 0; c < C; c++)
            mx = fmax(mx, host_get_f64(X, b * C + c));
        for (int64_t c = 0; c < C; c++)
            total += exp(host_get_f64(X, b * C + c) - mx);
        for (int64_t s = 0; s < ns; s++) {
            double target = host_rand_u01(seed, (uint64_t)(b * ns + s)) * total, cum = 0.0;
            int64_t pick = C - 1;
            for (int64_t c = 0; c < C; c++) {
                cum += exp(host_get_f64(X, b * C + c) - mx);
                if (cum > target) {
                    pick = c;
                    break;
                }
            }
            host_set_i64(Y, b * ns + s, pick);
        }
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- the table */

const host_kernel_entry host_signal_kernels[] = {
    {"Bernoulli", host_bernoulli},
    {"BlackmanWindow", host_blackman_window},
    {"CenterCropPad", host_center_crop_pad},
    {"DFT", host_dft},
    {"Det", host_det},
    {"HammingWindow", host_hamming_window},
    {"HannWindow", host_hann_window},
    {"MaxUnpool", host_max_unpool},
    {"MelWeightMatrix", host_mel_weight_matrix},
    {"Multinomial", host_multinomial},
    {"RandomNormal", host_random_normal},
    {"RandomNormalLike", host_random_normal_like},
    {"RandomUniform", host_random_uniform},
    {"RandomUniformLike", host_random_uniform_like},
    {"STFT", host_stft},
};
const int host_signal_kernel_count =
    (int)(sizeof host_signal_kernels / sizeof host_signal_kernels[0]);
