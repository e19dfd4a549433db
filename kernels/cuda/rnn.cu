/* rnn.cu: the rnn kernel family: LSTM, GRU and RNN as two launches (rnn_params.h): the input
 * projection X * W^T of every time step at once (a tiled GEMM), then the recurrence, one block
 * per (batch element, direction) walking its time steps, the hidden units spread over the
 * block's threads and the recurrent products R * h done a warp per row (coalesced reads of
 * R). The arithmetic and its order follow the host kernel (kernels/host/rnn.c): float tensors
 * (float, half, bfloat16) accumulate in float, double in double. */
#include "o2p_cuda.h"
#include "rnn_params.h"

static_assert(sizeof(o2p_rnn_params) == 304, "");

/* ---------------------------------------------------------------- element access */

template <int DT> struct rnn_io;
template <> struct rnn_io<O2P_CU_FLOAT> {
    typedef float A;
    static __device__ __forceinline__ A ld(o2p_u64 p, o2p_i64 i)
    {
        return ((const float *)p)[i];
    }
    static __device__ __forceinline__ void st(o2p_u64 p, o2p_i64 i, A v)
    {
        ((float *)p)[i] = v;
    }
};
template <> struct rnn_io<O2P_CU_FLOAT16> {
    typedef float A;
    static __device__ __forceinline__ A ld(o2p_u64 p, o2p_i64 i)
    {
        return o2p_half_to_float(((const unsigned short *)p)[i]);
    }
    static __device__ __forceinline__ void st(o2p_u64 p, o2p_i64 i, A v)
    {
        ((unsigned short *)p)[i] = o2p_float_to_half(v);
    }
};
template <> struct rnn_io<O2P_CU_BFLOAT16> {
    typedef float A;
    static __device__ __forceinline__ A ld(o2p_u64 p, o2p_i64 i)
    {
        return o2p_bf16_to_float(((const unsigned short *)p)[i]);
    }
    static __device__ __forceinline__ void st(o2p_u64 p, o2p_i64 i, A v)
    {
        ((unsigned short *)p)[i] = o2p_float_to_bf16(v);
    }
};
template <> struct rnn_io<O2P_CU_DOUBLE> {
    typedef double A;
    static __device__ __forceinline__ A ld(o2p_u64 p, o2p_i64 i)
    {
        return ((const double *)p)[i];
    }
    static __device__ __forceinline__ void st(o2p_u64 p, o2p_i64 i, A v)
    {
        ((double *)p)[i] = v;
    }
};

/* ---------------------------------------------------------------- activations */

O2P_DEVICE float rnn_exp(float x)
{
    return expf(x);
}
O2P_DEVICE double rnn_exp(double x)
{
    return exp(x);
}
O2P_DEVICE float rnn_tanh(float x)
{
    return tanhf(x);
}
O2P_DEVICE double rnn_tanh(double x)
{
    return tanh(x);
}
O2P_DEVICE float rnn_log1p(float x)
{
    return log1pf(x);
}
O2P_DEVICE double rnn_log1p(double x)
{
    return log1p(x);
}
O2P_DEVICE float rnn_abs(float x)
{
    return fabsf(x);
}
O2P_DEVICE double rnn_abs(double x)
{
    return fabs(x);
}

template <typename A> O2P_DEVICE A rnn_act(int act, A x, A alpha, A beta)
{
    switch (act) {
    case O2P_RNN_ACT_RELU: return x > (A)0 ? x : (A)0;
    case O2P_RNN_ACT_TANH: return rnn_tanh(x);
    case O2P_RNN_ACT_SIGMOID: return (A)1 / ((A)1 + rnn_exp(-x));
    case O2P_RNN_ACT_AFFINE: return alpha * x + beta;
    case O2P_RNN_ACT_LEAKY_RELU: return x >= (A)0 ? x : alpha * x;
    case O2P_RNN_ACT_THRESHOLDED_RELU: return x > alpha ? x : (A)0;
    case O2P_RNN_ACT_SCALED_TANH: return alpha * rnn_tanh(beta * x);
    case O2P_RNN_ACT_HARD_SIGMOID: {
        A v = alpha * x + beta;
        return v < (A)0 ? (A)0 : (v > (A)1 ? (A)1 : v);
    }
    case O2P_RNN_ACT_ELU: return x >= (A)0 ? x : alpha * (rnn_exp(x) - (A)1);
    case O2P_RNN_ACT_SOFTSIGN: return x / ((A)1 + rnn_abs(x));
    case O2P_RNN_ACT_SOFTPLUS: /* log(1 + e^x) without overflow, as the host */
        return x > (A)0 ? x + rnn_log1p(rnn_exp(-x)) : rnn_log1p(rnn_exp(x));
    default: return x;
    }
}

/* ---------------------------------------------------------------- the input projection */

template <int DT> __device__ void rnn_proj(const o2p_rnn_params &p)
{
    typedef rnn_io<DT> io;
    typedef typename io::A A;
    __shared__ A xs[O2P_RNN_TILE][O2P_RNN_TILE + 1];
    __shared__ A ws[O2P_RNN_TILE][O2P_RNN_TILE + 1];
    const o2p_i64 M = p.seq * p.batch, N = (o2p_i64)p.gates * p.hidden, K = p.input;
    const o2p_i64 d = blockIdx.z;
    const int tx = threadIdx.x, ty = threadIdx.y;
    const o2p_i64 n0 = (o2p_i64)blockIdx.x * O2P_RNN_TILE;
    A *proj = (A *)p.proj_ptr + d * M * N;
    /* every thread of a block runs the same number of row tiles (m0 is uniform), so the
     * barriers below are reached by all */
    for (o2p_i64 m0 = (o2p_i64)blockIdx.y * O2P_RNN_TILE; m0 < M;
         m0 += (o2p_i64)gridDim.y * O2P_RNN_TILE) {
        const o2p_i64 m_ld = m0 + ty, n_ld = n0 + ty;
        o2p_i64 xrow = 0;
        if (m_ld < M) {
            o2p_i64 t = m_ld / p.batch, b = m_ld - t * p.batch;
            xrow = t * p.x_ts + b * p.x_bs;
        }
        const o2p_i64 wrow = (d * N + n_ld) * K;
        A acc = (A)0;
        for (o2p_i64 k0 = 0; k0 < K; k0 += O2P_RNN_TILE) {
            const o2p_i64 k = k0 + tx;
            xs[ty][tx] = m_ld < M && k < K ? io::ld(p.x_ptr, xrow + k) : (A)0;
            ws[ty][tx] = n_ld < N && k < K ? io::ld(p.w_ptr, wrow + k) : (A)0;
            __syncthreads();
            for (int kk = 0; kk < O2P_RNN_TILE; kk++)
                acc += xs[ty][kk] * ws[tx][kk];
            __syncthreads();
        }
        const o2p_i64 m = m0 + ty, n = n0 + tx;
        if (m < M && n < N)
            proj[m * N + n] = acc;
    }
}

/* ---------------------------------------------------------------- the recurrence */

/* out[row] = R[row] . v for rows [row0, row1) of R (rows of H elements from element `base`),
 * a warp per row. */
template <int DT>
O2P_DEVICE void rnn_matvec(o2p_u64 r, o2p_i64 base, o2p_i64 row0, o2p_i64 row1, o2p_i64 H,
                           const typename rnn_io<DT>::A *v, typename rnn_io<DT>::A *out)
{
    typedef typename rnn_io<DT>::A A;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    for (o2p_i64 row = row0 + warp; row < row1; row += nwarps) {
        A s = (A)0;
        for (o2p_i64 k = lane; k < H; k += 32)
            s += rnn_io<DT>::ld(r, base + row * H + k) * v[k];
        for (int o = 16; o > 0; o >>= 1)
            s += __shfl_down_sync(0xffffffffu, s, o);
        if (lane == 0)
            out[row] = s;
    }
}

template <typename A> O2P_DEVICE A rnn_clip(const o2p_rnn_params &p, A x)
{
    if (!p.has_clip)
        return x;
    const A c = (A)p.clip;
    return x < -c ? -c : (x > c ? c : x);
}

/* Bias element i / peephole element i, 0 when the layer has none (as the host's zeros). */
#define BIAS(i) (p.b_ptr ? io::ld(p.b_ptr, (i)) : (A)0)
#define PEEP(i) (p.p_ptr ? io::ld(p.p_ptr, (i)) : (A)0)

template <int DT> __device__ void rnn_seq(const o2p_rnn_params &p)
{
    typedef rnn_io<DT> io;
    typedef typename io::A A;
    const o2p_i64 b = blockIdx.x;
    const int d = blockIdx.y;
    const o2p_i64 H = p.hidden, GH = (o2p_i64)p.gates * H, S = p.seq, B = p.batch;
    const int tid = threadIdx.x, nthr = blockDim.x;
    A *h = (A *)p.state_ptr + ((o2p_i64)d * B + b) * (3 * H + GH);
    A *c = h + H, *tmp = h + 2 * H, *g = h + 3 * H;
    o2p_i64 len = S;
    if (p.seq_ptr) { /* the host refuses lengths outside [0, seq]; here they are clamped */
        len = o2p_load_i64((const void *)p.seq_ptr, p.seq_dtype, b);
        len = len < 0 ? 0 : (len > S ? S : len);
    }
    const o2p_i64 sbase = d * p.s_ds + b * p.s_bs;
    const o2p_i64 wb = (o2p_i64)d * 2 * GH, rb = wb + GH, pb = (o2p_i64)d * 3 * H;
    const o2p_i64 rbase = (o2p_i64)d * GH * H;
    const int a0 = p.act[d * 3], a1 = p.act[d * 3 + 1], a2 = p.act[d * 3 + 2];
    const A al0 = (A)p.alpha[d * 3], al1 = (A)p.alpha[d * 3 + 1], al2 = (A)p.alpha[d * 3 + 2];
    const A be0 = (A)p.beta[d * 3], be1 = (A)p.beta[d * 3 + 1], be2 = (A)p.beta[d * 3 + 2];
    const A *projd = (const A *)p.proj_ptr + (o2p_i64)d * S * B * GH;

    for (o2p_i64 j = tid; j < H; j += nthr) {
        h[j] = p.h0_ptr ? io::ld(p.h0_ptr, sbase + j) : (A)0;
        c[j] = p.c0_ptr ? io::ld(p.c0_ptr, sbase + j) : (A)0;
    }
    __syncthreads();
    const bool gru_split = p.kind == O2P_RNN_GRU && !p.linear_before_reset;
    for (o2p_i64 s = 0; s < len; s++) {
        const o2p_i64 t = p.reverse[d] ? len - 1 - s : s;
        const A *xg = projd + (t * B + b) * GH;
        /* the recurrent products; GRU's h row without linear_before_reset needs r first */
        rnn_matvec<DT>(p.r_ptr, rbase, 0, gru_split ? 2 * H : GH, H, h, g);
        __syncthreads();
        if (p.kind == O2P_RNN_SIMPLE) {
            for (o2p_i64 j = tid; j < H; j += nthr)
                h[j] = rnn_act<A>(a0, rnn_clip<A>(p, xg[j] + BIAS(wb + j) + BIAS(rb + j) + g[j]),
                                  al0, be0);
        } else if (p.kind == O2P_RNN_GRU) {
            for (o2p_i64 j = tid; j < H; j += nthr) {
                const o2p_i64 kz = j, kr = H + j;
                A z = rnn_act<A>(a0, rnn_clip<A>(p, xg[kz] + BIAS(wb + kz) + BIAS(rb + kz) + g[kz]),
                                 al0, be0);
                A r = rnn_act<A>(a0, rnn_clip<A>(p, xg[kr] + BIAS(wb + kr) + BIAS(rb + kr) + g[kr]),
                                 al0, be0);
                g[kz] = z;
                g[kr] = r;
                tmp[j] = r * h[j];
            }
            if (gru_split) {
                __syncthreads();
                rnn_matvec<DT>(p.r_ptr, rbase, 2 * H, 3 * H, H, tmp, g);
                __syncthreads();
            }
            for (o2p_i64 j = tid; j < H; j += nthr) {
                const o2p_i64 k = 2 * H + j;
                A pre = p.linear_before_reset
                            ? xg[k] + BIAS(wb + k) + g[H + j] * (g[k] + BIAS(rb + k))
                            : xg[k] + BIAS(wb + k) + BIAS(rb + k) + g[k];
                A hh = rnn_act<A>(a1, rnn_clip<A>(p, pre), al1, be1);
                h[j] = ((A)1 - g[j]) * hh + g[j] * h[j];
            }
        } else {
            for (o2p_i64 j = tid; j < H; j += nthr) {
                const o2p_i64 ki = j, ko = H + j, kf = 2 * H + j, kc = 3 * H + j;
                const A pi = PEEP(pb + j), po = PEEP(pb + H + j), pf = PEEP(pb + 2 * H + j);
                const A cj = c[j];
                A i = rnn_act<A>(
                    a0, rnn_clip<A>(p, xg[ki] + BIAS(wb + ki) + BIAS(rb + ki) + g[ki] + pi * cj),
                    al0, be0);
                A f = p.input_forget
                          ? (A)1 - i
                          : rnn_act<A>(a0,
                                       rnn_clip<A>(p, xg[kf] + BIAS(wb + kf) + BIAS(rb + kf) +
                                                          g[kf] + pf * cj),
                                       al0, be0);
                A cc = rnn_act<A>(
                    a1, rnn_clip<A>(p, xg[kc] + BIAS(wb + kc) + BIAS(rb + kc) + g[kc]), al1, be1);
                A cn = f * cj + i * cc;
                A o = rnn_act<A>(
                    a0, rnn_clip<A>(p, xg[ko] + BIAS(wb + ko) + BIAS(rb + ko) + g[ko] + po * cn),
                    al0, be0);
                c[j] = cn;
                h[j] = o * rnn_act<A>(a2, cn, al2, be2);
            }
        }
        if (p.y_ptr)
            for (o2p_i64 j = tid; j < H; j += nthr)
                io::st(p.y_ptr, t * p.y_ts + d * p.y_ds + b * p.y_bs + j, h[j]);
        __syncthreads();
    }
    /* steps past the sequence's end are 0 in Y; a sequence of length 0 leaves 0 states */
    if (p.y_ptr)
        for (o2p_i64 i = tid; i < (S - len) * H; i += nthr) {
            const o2p_i64 t = len + i / H, j = i - (i / H) * H;
            io::st(p.y_ptr, t * p.y_ts + d * p.y_ds + b * p.y_bs + j, (A)0);
        }
    for (o2p_i64 j = tid; j < H; j += nthr) {
        if (p.yh_ptr)
            io::st(p.yh_ptr, sbase + j, len > 0 ? h[j] : (A)0);
        if (p.yc_ptr)
            io::st(p.yc_ptr, sbase + j, len > 0 ? c[j] : (A)0);
    }
}

#define RNN_KERNELS(SUFFIX, DT)                                              \
    extern "C" __global__ void o2p_rnn_proj_##SUFFIX(const o2p_rnn_params p) \
    {                                                                        \
        rnn_proj<DT>(p);                                                     \
    }                                                                        \
    extern "C" __global__ void __launch_bounds__(O2P_RNN_THREADS)            \
        o2p_rnn_seq_##SUFFIX(const o2p_rnn_params p)                         \
    {                                                                        \
        rnn_seq<DT>(p);                                                      \
    }

RNN_KERNELS(f32, O2P_CU_FLOAT)
RNN_KERNELS(f16, O2P_CU_FLOAT16)
RNN_KERNELS(bf16, O2P_CU_BFLOAT16)
RNN_KERNELS(f64, O2P_CU_DOUBLE)
