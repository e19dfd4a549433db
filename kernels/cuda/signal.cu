// signal.cu: the signal kernel family: DFT/STFT (direct sums in double), the windows,
// MelWeightMatrix, MaxUnpool, Det, CenterCropPad and the counter-based random generators.
// The element type is a run-time parameter (o2p_load_f64/o2p_store_f64): these ops are rare,
// so one generic kernel each keeps the module small. Same formulas as kernels/host/signal.c.
#include "o2p_cuda.h"
#include "signal_params.h"

static_assert(sizeof(o2p_signal_dft_params) == 120, "");
static_assert(sizeof(o2p_signal_window_params) == 32, "");
static_assert(sizeof(o2p_signal_mel_params) == 96, "");
static_assert(sizeof(o2p_signal_unpool_params) == 304, "");
static_assert(sizeof(o2p_signal_det_params) == 48, "");
static_assert(sizeof(o2p_signal_crop_pad_params) == 416, "");
static_assert(sizeof(o2p_signal_random_params) == 64, "");
static_assert(sizeof(o2p_signal_multinomial_params) == 64, "");

#define O2P_SIGNAL_PI 3.14159265358979323846

// ---------------------------------------------------------------- DFT / STFT

extern "C" __global__ void o2p_signal_dft(const o2p_signal_dft_params p)
{
    const void *x = (const void *)p.x_ptr;
    const void *w = (const void *)p.w_ptr;
    O2P_FOR(q, p.total)
    {
        o2p_i64 j = q % p.inner, r = q / p.inner;
        o2p_i64 k = r % p.nout;
        r /= p.nout;
        o2p_i64 f = r % p.frames, o = r / p.frames;
        double re = 0.0, im = 0.0;
        for (o2p_i64 t = 0; t < p.taps; t++) {
            o2p_i64 at = ((o * p.len_in + f * p.step + t) * p.inner + j) * p.comp;
            double wt = w ? o2p_load_f64(w, p.w_dtype, t) : 1.0;
            double xr = o2p_load_f64(x, p.x_dtype, at) * wt;
            double xi = p.comp == 2 ? o2p_load_f64(x, p.x_dtype, at + 1) * wt : 0.0;
            // the twiddle's angle reduced mod n (k, t < 2^31: exact), as the host kernel
            unsigned long long m =
                ((unsigned long long)k * (unsigned long long)t) % (unsigned long long)p.n;
            double ang = 2.0 * O2P_SIGNAL_PI * (double)m / (double)p.n;
            if (!p.inverse)
                ang = -ang;
            double s, c;
            sincos(ang, &s, &c);
            re += xr * c - xi * s;
            im += xr * s + xi * c;
        }
        if (p.inverse) {
            re /= (double)p.n;
            im /= (double)p.n;
        }
        o2p_store_f64((void *)p.y_ptr, p.x_dtype, 2 * q, re);
        o2p_store_f64((void *)p.y_ptr, p.x_dtype, 2 * q + 1, im);
    }
}

// ---------------------------------------------------------------- windows

extern "C" __global__ void o2p_signal_window(const o2p_signal_window_params p)
{
    O2P_FOR(i, p.size)
    {
        double x = p.denom > 0 ? 2.0 * O2P_SIGNAL_PI * (double)i / (double)p.denom
                               : __longlong_as_double(0x7ff8000000000000LL),
               v;
        if (p.kind == O2P_SIGNAL_HANN)
            v = 0.5 - 0.5 * cos(x);
        else if (p.kind == O2P_SIGNAL_HAMMING)
            v = 25.0 / 46.0 - 21.0 / 46.0 * cos(x);
        else
            v = 0.42 - 0.5 * cos(x) + 0.08 * cos(2.0 * x);
        o2p_store_f64((void *)p.y_ptr, p.y_dtype, i, v);
    }
}

// ---------------------------------------------------------------- MelWeightMatrix

// The spectrogram bin of band edge i, as the host's mel_edge (float32 mel edges, then double).
O2P_DEVICE long long o2p_signal_mel_edge(long long i, long long bins, long long dft, long long rate,
                                         float lo, float hi)
{
    float lo_mel = 2595.0f * log10f(1.0f + lo / 700.0f);
    float hi_mel = 2595.0f * log10f(1.0f + hi / 700.0f);
    float step = (hi_mel - lo_mel) / (float)(bins + 2);
    double f = (double)i * (double)step + (double)lo_mel;
    f = 700.0 * (pow(10.0, f / 2595.0) - 1.0);
    return (long long)floor((double)(dft + 1) * f / (double)rate);
}

extern "C" __global__ void o2p_signal_mel(const o2p_signal_mel_params p)
{
    long long bins = o2p_load_i64((const void *)p.in_ptr[0], p.in_dtype[0], 0);
    long long dft = o2p_load_i64((const void *)p.in_ptr[1], p.in_dtype[1], 0);
    long long rate = o2p_load_i64((const void *)p.in_ptr[2], p.in_dtype[2], 0);
    float lo = (float)o2p_load_f64((const void *)p.in_ptr[3], p.in_dtype[3], 0);
    float hi = (float)o2p_load_f64((const void *)p.in_ptr[4], p.in_dtype[4], 0);
    // inputs that disagree with the built shape (the host kernel refuses them) give zeros
    int ok = bins == p.bins && dft >= 1 && dft / 2 + 1 == p.spec && rate >= 1;
    O2P_FOR(e, p.total)
    {
        long long j = e / p.bins, i = e % p.bins;
        double v = 0.0;
        if (ok) {
            long long l = o2p_signal_mel_edge(i, bins, dft, rate, lo, hi);
            long long c = o2p_signal_mel_edge(i + 1, bins, dft, rate, lo, hi);
            long long h = o2p_signal_mel_edge(i + 2, bins, dft, rate, lo, hi);
            // the host writes the rising edge, then the falling edge over it
            if (c < h && j >= c && j < h)
                v = (double)(h - j) / (double)(h - c);
            else if (c == l)
                v = j == c ? 1.0 : 0.0;
            else if (j >= l && j <= c)
                v = (double)(j - l) / (double)(c - l);
        }
        o2p_store_f64((void *)p.y_ptr, p.y_dtype, e, v);
    }
}

// ---------------------------------------------------------------- MaxUnpool

O2P_DEVICE void o2p_signal_copy_elem(void *dst, o2p_i64 di, const void *src, o2p_i64 si, int es)
{
    switch (es) {
    case 1: ((unsigned char *)dst)[di] = ((const unsigned char *)src)[si]; break;
    case 2: ((unsigned short *)dst)[di] = ((const unsigned short *)src)[si]; break;
    case 4: ((unsigned int *)dst)[di] = ((const unsigned int *)src)[si]; break;
    default: ((unsigned long long *)dst)[di] = ((const unsigned long long *)src)[si]; break;
    }
}

extern "C" __global__ void o2p_signal_unpool(const o2p_signal_unpool_params p)
{
    const long long *idx = (const long long *)p.i_ptr;
    O2P_FOR(i, p.total)
    {
        long long v = idx[i];
        if (v < 0 || v >= p.icount)
            continue;
        o2p_i64 rem = v, at = 0, stride = 1;
        int inside = 1;
        for (int d = p.rank - 1; d >= 0; d--) {
            o2p_i64 q = rem % p.idims[d];
            rem /= p.idims[d];
            inside &= q < p.ydims[d];
            at += q * stride;
            stride *= p.ydims[d];
        }
        if (inside)
            o2p_signal_copy_elem((void *)p.y_ptr, at, (const void *)p.x_ptr, i, p.elem_size);
    }
}

// ---------------------------------------------------------------- Det

extern "C" __global__ void o2p_signal_det(const o2p_signal_det_params p)
{
    O2P_FOR(b, p.batch)
    {
        o2p_i64 m = p.m;
        double *lu = (double *)p.ws_ptr + b * m * m;
        for (o2p_i64 i = 0; i < m * m; i++)
            lu[i] = o2p_load_f64((const void *)p.x_ptr, p.x_dtype, b * m * m + i);
        double det = 1.0;
        for (o2p_i64 k = 0; k < m; k++) {
            o2p_i64 piv = k;
            for (o2p_i64 i = k + 1; i < m; i++)
                if (fabs(lu[i * m + k]) > fabs(lu[piv * m + k]))
                    piv = i;
            if (lu[piv * m + k] == 0.0) {
                det = 0.0;
                break;
            }
            if (piv != k) {
                for (o2p_i64 j = 0; j < m; j++) {
                    double tmp = lu[k * m + j];
                    lu[k * m + j] = lu[piv * m + j];
                    lu[piv * m + j] = tmp;
                }
                det = -det;
            }
            double d = lu[k * m + k];
            det *= d;
            for (o2p_i64 i = k + 1; i < m; i++) {
                double f = lu[i * m + k] / d;
                for (o2p_i64 j = k + 1; j < m; j++)
                    lu[i * m + j] -= f * lu[k * m + j];
            }
        }
        o2p_store_f64((void *)p.y_ptr, p.x_dtype, b, det);
    }
}

// ---------------------------------------------------------------- CenterCropPad

extern "C" __global__ void o2p_signal_crop_pad(const o2p_signal_crop_pad_params p)
{
    O2P_FOR(o, p.total)
    {
        o2p_i64 rem = o, src = 0, stride = 1;
        int inside = 1;
        for (int d = p.rank - 1; d >= 0; d--) {
            o2p_i64 q = rem % p.out[d], s = q - p.shift[d];
            rem /= p.out[d];
            inside &= s >= 0 && s < p.in[d];
            src += s * stride;
            stride *= p.in[d];
        }
        if (inside) {
            o2p_signal_copy_elem((void *)p.y_ptr, o, (const void *)p.x_ptr, src, p.elem_size);
        } else {
            switch (p.elem_size) {
            case 1: ((unsigned char *)p.y_ptr)[o] = 0; break;
            case 2: ((unsigned short *)p.y_ptr)[o] = 0; break;
            case 4: ((unsigned int *)p.y_ptr)[o] = 0; break;
            default: ((unsigned long long *)p.y_ptr)[o] = 0; break;
            }
        }
    }
}

// ---------------------------------------------------------------- random generators

extern "C" __global__ void o2p_signal_random(const o2p_signal_random_params p)
{
    unsigned long long seed = o2p_rand_stream(p.seed, p.fresh);
    O2P_FOR(i, p.total)
    {
        unsigned long long u = (unsigned long long)i;
        double v;
        if (p.kind == O2P_SIGNAL_UNIFORM) {
            v = p.a + (p.b - p.a) * o2p_rand_u01(seed, u);
        } else if (p.kind == O2P_SIGNAL_NORMAL) {
            double u1 = 1.0 - o2p_rand_u01(seed, 2 * u);
            double u2 = o2p_rand_u01(seed, 2 * u + 1);
            v = p.a + p.b * (sqrt(-2.0 * log(u1)) * cos(2.0 * O2P_SIGNAL_PI * u2));
        } else {
            v = o2p_rand_u01(seed, u) < o2p_load_f64((const void *)p.x_ptr, p.x_dtype, i) ? 1.0
                                                                                            : 0.0;
        }
        o2p_store_f64((void *)p.y_ptr, p.y_dtype, i, v);
    }
}

extern "C" __global__ void o2p_signal_multinomial(const o2p_signal_multinomial_params p)
{
    unsigned long long seed = o2p_rand_stream(p.seed, p.fresh);
    const void *x = (const void *)p.x_ptr;
    O2P_FOR(q, p.total)
    {
        o2p_i64 row = (q / p.samples) * p.classes;
        double mx = -__longlong_as_double(0x7ff0000000000000LL), total = 0.0;
        for (o2p_i64 c = 0; c < p.classes; c++)
            mx = fmax(mx, o2p_load_f64(x, p.x_dtype, row + c));
        for (o2p_i64 c = 0; c < p.classes; c++)
            total += exp(o2p_load_f64(x, p.x_dtype, row + c) - mx);
        double target = o2p_rand_u01(seed, (unsigned long long)q) * total, cum = 0.0;
        o2p_i64 pick = p.classes - 1;
        for (o2p_i64 c = 0; c < p.classes; c++) {
            cum += exp(o2p_load_f64(x, p.x_dtype, row + c) - mx);
            if (cum > target) {
                pick = c;
                break;
            }
        }
        o2p_store_i64((void *)p.y_ptr, p.y_dtype, q, pick);
    }
}
