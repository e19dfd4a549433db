/* nn.cu: the nn kernel family: softmax and the normalizations (one block per row), pools,
 * Resize/Upsample, GridSample, DepthToSpace/SpaceToDepth (one thread per output element).
 * Semantics follow the host reference kernels (kernels/host/nn_norm.c, nn_pool.c,
 * nn_resize.c): float types compute in float (double for double), sums accumulate in double
 * as the host does; Resize and GridSample compute coordinates in double exactly as the host
 * (products that feed an add use __dmul_rn so they are never fused: a fused multiply-add
 * could move a coordinate across a rounding boundary). */
#include "nn_params.h"
#include "o2p_cuda.h"

static_assert(sizeof(o2p_nn_rows_params) == 1152, "");
static_assert(sizeof(o2p_nn_batch_norm_params) == 104, "");
static_assert(sizeof(o2p_nn_lrn_params) == 72, "");
static_assert(sizeof(o2p_nn_pool_params) == 952, "");
static_assert(sizeof(o2p_nn_global_pool_params) == 48, "");
static_assert(sizeof(o2p_nn_resize_params) == 744, "");
static_assert(sizeof(o2p_nn_grid_sample_params) == 208, "");
static_assert(sizeof(o2p_nn_space_depth_params) == 80, "");

/* ---------------------------------------------------------------- element access */

/* Loads/stores of one element type in its compute type C (float, double for double). */
template <int DT> struct nn_io;
template <> struct nn_io<O2P_CU_FLOAT> {
    typedef float C;
    static __device__ C ld(const void *p, o2p_i64 i)
    {
        return ((const float *)p)[i];
    }
    static __device__ void st(void *p, o2p_i64 i, C v)
    {
        ((float *)p)[i] = v;
    }
};
template <> struct nn_io<O2P_CU_FLOAT16> {
    typedef float C;
    static __device__ C ld(const void *p, o2p_i64 i)
    {
        return o2p_half_to_float(((const unsigned short *)p)[i]);
    }
    static __device__ void st(void *p, o2p_i64 i, C v)
    {
        ((unsigned short *)p)[i] = o2p_float_to_half(v);
    }
};
template <> struct nn_io<O2P_CU_BFLOAT16> {
    typedef float C;
    static __device__ C ld(const void *p, o2p_i64 i)
    {
        return o2p_bf16_to_float(((const unsigned short *)p)[i]);
    }
    static __device__ void st(void *p, o2p_i64 i, C v)
    {
        ((unsigned short *)p)[i] = o2p_float_to_bf16(v);
    }
};
template <> struct nn_io<O2P_CU_DOUBLE> {
    typedef double C;
    static __device__ C ld(const void *p, o2p_i64 i)
    {
        return ((const double *)p)[i];
    }
    static __device__ void st(void *p, o2p_i64 i, C v)
    {
        ((double *)p)[i] = v;
    }
};
/* int8/uint8 (MaxPool only): exact in float; stores saturate like the host's. */
template <> struct nn_io<O2P_CU_INT8> {
    typedef float C;
    static __device__ C ld(const void *p, o2p_i64 i)
    {
        return ((const signed char *)p)[i];
    }
    static __device__ void st(void *p, o2p_i64 i, C v)
    {
        o2p_store_f64(p, O2P_CU_INT8, i, v);
    }
};
template <> struct nn_io<O2P_CU_UINT8> {
    typedef float C;
    static __device__ C ld(const void *p, o2p_i64 i)
    {
        return ((const unsigned char *)p)[i];
    }
    static __device__ void st(void *p, o2p_i64 i, C v)
    {
        o2p_store_f64(p, O2P_CU_UINT8, i, v);
    }
};

template <typename C> O2P_DEVICE C nn_inf();
template <> __device__ __forceinline__ float nn_inf<float>()
{
    return __int_as_float(0x7f800000);
}
template <> __device__ __forceinline__ double nn_inf<double>()
{
    return __longlong_as_double(0x7ff0000000000000LL);
}

O2P_DEVICE float nn_exp(float x)
{
    return expf(x);
}
O2P_DEVICE double nn_exp(double x)
{
    return exp(x);
}
O2P_DEVICE float nn_pow(float x, float y)
{
    return powf(x, y);
}
O2P_DEVICE double nn_pow(double x, double y)
{
    return pow(x, y);
}

/* o2p_offset with the common one-axis case without a division. */
O2P_DEVICE o2p_i64 nn_off(const o2p_cu_shape &s, o2p_i64 i)
{
    if (s.rank == 1)
        return i * s.strides[0];
    return o2p_offset(s, i);
}

/* The larger of a and b; NaN wins (as the host's max scans). */
template <typename C> O2P_DEVICE C nn_max_nan(C a, C b)
{
    if (a != a)
        return a;
    if (b != b)
        return b;
    return b > a ? b : a;
}

/* ---------------------------------------------------------------- block reductions
 * Blocks are a multiple of 32 threads (the lowering launches 256). sh holds 32 entries; every
 * thread gets the result. */
template <typename A> O2P_DEVICE A nn_block_sum(A v, A *sh)
{
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_down_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    __syncthreads(); /* sh may still be read from the previous reduction */
    if (lane == 0)
        sh[warp] = v;
    __syncthreads();
    if (warp == 0) {
        A t = lane < nw ? sh[lane] : (A)0;
        for (int o = 16; o > 0; o >>= 1)
            t += __shfl_down_sync(0xffffffffu, t, o);
        if (lane == 0)
            sh[0] = t;
    }
    __syncthreads();
    return sh[0];
}

template <typename C> O2P_DEVICE C nn_block_max(C v, C *sh)
{
    for (int o = 16; o > 0; o >>= 1)
        v = nn_max_nan(v, __shfl_down_sync(0xffffffffu, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0)
        sh[warp] = v;
    __syncthreads();
    if (warp == 0) {
        C t = lane < nw ? sh[lane] : sh[0];
        for (int o = 16; o > 0; o >>= 1)
            t = nn_max_nan(t, __shfl_down_sync(0xffffffffu, t, o));
        if (lane == 0)
            sh[0] = t;
    }
    __syncthreads();
    return sh[0];
}

/* Argmax as Hardmax's host loop picks it: the first NaN if any, else the first maximum.
 * Index -1 is "nothing" (a thread that saw no element). */
template <typename C> O2P_DEVICE void nn_argmax_combine(C &v, o2p_i64 &i, C ov, o2p_i64 oi)
{
    if (oi < 0)
        return;
    bool take;
    if (i < 0)
        take = true;
    else if (v != v)
        take = ov != ov && oi < i;
    else if (ov != ov)
        take = true;
    else
        take = ov > v || (ov == v && oi < i);
    if (take) {
        v = ov;
        i = oi;
    }
}

template <typename C> O2P_DEVICE o2p_i64 nn_block_argmax(C v, o2p_i64 i, C *shv, o2p_i64 *shi)
{
    for (int o = 16; o > 0; o >>= 1) {
        C ov = __shfl_down_sync(0xffffffffu, v, o);
        o2p_i64 oi = __shfl_down_sync(0xffffffffu, i, o);
        nn_argmax_combine(v, i, ov, oi);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0) {
        shv[warp] = v;
        shi[warp] = i;
    }
    __syncthreads();
    if (warp == 0) {
        C tv = lane < nw ? shv[lane] : (C)0;
        o2p_i64 ti = lane < nw ? shi[lane] : -1;
        for (int o = 16; o > 0; o >>= 1) {
            C ov = __shfl_down_sync(0xffffffffu, tv, o);
            o2p_i64 oi = __shfl_down_sync(0xffffffffu, ti, o);
            nn_argmax_combine(tv, ti, ov, oi);
        }
        if (lane == 0)
            shi[0] = ti;
    }
    __syncthreads();
    return shi[0];
}

/* ---------------------------------------------------------------- Softmax, LogSoftmax, Hardmax */

template <int DT> O2P_DEVICE void nn_softmax(const o2p_nn_rows_params &p)
{
    typedef nn_io<DT> io;
    typedef typename io::C C;
    __shared__ C shc[32];
    __shared__ double shd[32];
    __shared__ o2p_i64 shi[32];
    const void *x = (const void *)p.x_ptr;
    void *y = (void *)p.y_ptr;
    o2p_i64 n = p.row_len;
    for (o2p_i64 r = blockIdx.x; r < p.num_rows; r += gridDim.x) {
        o2p_i64 base = nn_off(p.rows, r);
        if (p.kind == O2P_NN_HARDMAX) {
            C best = 0;
            o2p_i64 at = -1;
            for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x)
                nn_argmax_combine(best, at, io::ld(x, base + nn_off(p.cols, j)), j);
            at = nn_block_argmax(best, at, shc, shi);
            for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x)
                io::st(y, base + nn_off(p.cols, j), j == at ? (C)1 : (C)0);
            continue;
        }
        C mx = -nn_inf<C>();
        for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x)
            mx = nn_max_nan(mx, io::ld(x, base + nn_off(p.cols, j)));
        mx = nn_block_max(mx, shc);
        if (mx == -nn_inf<C>())
            mx = 0; /* every value -inf: exp gives zeros, the sum 0 (NaN results) */
        double sum = 0.0;
        for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x)
            sum += nn_exp(io::ld(x, base + nn_off(p.cols, j)) - mx);
        sum = nn_block_sum(sum, shd);
        if (p.kind == O2P_NN_SOFTMAX) {
            C inv = (C)(1.0 / sum);
            for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x) {
                o2p_i64 at = base + nn_off(p.cols, j);
                io::st(y, at, nn_exp(io::ld(x, at) - mx) * inv);
            }
        } else {
            C lse = (C)log(sum);
            for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x) {
                o2p_i64 at = base + nn_off(p.cols, j);
                io::st(y, at, io::ld(x, at) - mx - lse);
            }
        }
    }
}

/* ---------------------------------------------------------------- normalizations */

template <int DT> O2P_DEVICE void nn_norm(const o2p_nn_rows_params &p)
{
    typedef nn_io<DT> io;
    typedef typename io::C C;
    __shared__ double shd[32];
    const void *x = (const void *)p.x_ptr;
    void *y = (void *)p.y_ptr;
    o2p_i64 n = p.row_len;
    double dn = (double)n;
    for (o2p_i64 r = blockIdx.x; r < p.num_rows; r += gridDim.x) {
        o2p_i64 base = nn_off(p.rows, r);
        double s1 = 0.0, s2 = 0.0;
        if (p.kind == O2P_NN_NORM_LP1 || p.kind == O2P_NN_NORM_LP2) {
            for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x) {
                double v = io::ld(x, base + nn_off(p.cols, j));
                s1 += p.kind == O2P_NN_NORM_LP1 ? fabs(v) : v * v;
            }
            double norm = nn_block_sum(s1, shd);
            if (p.kind == O2P_NN_NORM_LP2)
                norm = sqrt(norm);
            for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x) {
                o2p_i64 at = base + nn_off(p.cols, j);
                io::st(y, at, norm == 0.0 ? (C)0 : (C)(io::ld(x, at) / norm));
            }
            continue;
        }
        if (p.kind == O2P_NN_NORM_MVN) {
            for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x) {
                double v = io::ld(x, base + nn_off(p.cols, j));
                s1 += v;
                s2 += v * v;
            }
            s1 = nn_block_sum(s1, shd);
            s2 = nn_block_sum(s2, shd);
            double mean = s1 / dn, var = s2 / dn - mean * mean;
            double inv = 1.0 / (sqrt(var > 0.0 ? var : 0.0) + 1e-9);
            for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x) {
                o2p_i64 at = base + nn_off(p.cols, j);
                io::st(y, at, (C)((io::ld(x, at) - mean) * inv));
            }
            continue;
        }
        /* AFFINE: mean, then the variance around it (two passes, as the host) */
        for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x)
            s1 += io::ld(x, base + nn_off(p.cols, j));
        double mean = n > 0 ? nn_block_sum(s1, shd) / dn : 0.0;
        for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x) {
            double d = io::ld(x, base + nn_off(p.cols, j)) - mean;
            s2 += d * d;
        }
        double var = n > 0 ? nn_block_sum(s2, shd) / dn : 0.0;
        double inv = 1.0 / sqrt(var + p.eps);
        for (o2p_i64 j = threadIdx.x; j < n; j += blockDim.x) {
            o2p_i64 at = base + nn_off(p.cols, j);
            C v = (C)((io::ld(x, at) - mean) * inv);
            v = v * (C)o2p_load_f64((const void *)p.scale_ptr, p.scale_dtype, nn_off(p.scale, at));
            if (p.bias_ptr)
                v += (C)o2p_load_f64((const void *)p.bias_ptr, p.bias_dtype, nn_off(p.bias, at));
            io::st(y, at, v);
        }
        if (threadIdx.x == 0) {
            if (p.mean_ptr)
                o2p_store_f64((void *)p.mean_ptr, p.mean_dtype, r, mean);
            if (p.inv_ptr)
                o2p_store_f64((void *)p.inv_ptr, p.inv_dtype, r, inv);
        }
    }
}

/* ---------------------------------------------------------------- BatchNormalization, LRN */

template <int DT> O2P_DEVICE void nn_batch_norm(const o2p_nn_batch_norm_params &p)
{
    typedef nn_io<DT> io;
    typedef typename io::C C;
    O2P_FOR(i, p.total)
    {
        o2p_i64 c = (i / p.inner) % p.channels;
        o2p_i64 k = p.per_element ? i % (p.channels * p.inner) : c;
        C s = (C)o2p_load_f64((const void *)p.scale_ptr, p.scale_dtype, k);
        C b = (C)o2p_load_f64((const void *)p.bias_ptr, p.bias_dtype, k);
        C m = (C)o2p_load_f64((const void *)p.mean_ptr, p.mean_dtype, k);
        C v = (C)o2p_load_f64((const void *)p.var_ptr, p.var_dtype, k);
        C mul = s / sqrt(v + (C)p.eps);
        C add = b - m * mul;
        io::st((void *)p.y_ptr, i, io::ld((const void *)p.x_ptr, i) * mul + add);
    }
}

template <int DT> O2P_DEVICE void nn_lrn(const o2p_nn_lrn_params &p)
{
    typedef nn_io<DT> io;
    typedef typename io::C C;
    const void *x = (const void *)p.x_ptr;
    o2p_i64 before = (p.size - 1) / 2, after = p.size / 2;
    O2P_FOR(i, p.total)
    {
        o2p_i64 pos = i % p.inner, c = (i / p.inner) % p.channels;
        o2p_i64 plane0 = i - (c * p.inner + pos); /* element (n, 0, 0..) */
        o2p_i64 lo = c - before < 0 ? 0 : c - before;
        o2p_i64 hi = after > p.channels - 1 - c ? p.channels - 1 : c + after;
        C sq = 0;
        for (o2p_i64 k = lo; k <= hi; k++) {
            C v = io::ld(x, plane0 + k * p.inner + pos);
            sq += v * v;
        }
        C den = nn_pow((C)p.bias + (C)(p.alpha / (double)p.size) * sq, (C)p.beta);
        io::st((void *)p.y_ptr, i, io::ld(x, i) / den);
    }
}

/* ---------------------------------------------------------------- pools */

O2P_DEVICE o2p_i64 nn_floor_div(o2p_i64 a, o2p_i64 b) /* b > 0 */
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

template <int DT> O2P_DEVICE void nn_pool(const o2p_nn_pool_params &p)
{
    typedef nn_io<DT> io;
    typedef typename io::C C;
    int nsp = p.nsp;
    o2p_i64 in_size = 1, out_size = 1;
    for (int d = 0; d < nsp; d++) {
        in_size *= p.in[d];
        out_size *= p.out[d];
    }
    O2P_FOR(o, p.total)
    {
        o2p_i64 plane = o / out_size, rem = o - plane * out_size;
        o2p_i64 q[O2P_CU_MAX_RANK], start[O2P_CU_MAX_RANK], klo[O2P_CU_MAX_RANK],
            khi[O2P_CU_MAX_RANK], instride[O2P_CU_MAX_RANK];
        o2p_i64 s = 1;
        for (int d = nsp - 1; d >= 0; d--) {
            q[d] = rem % p.out[d];
            rem /= p.out[d];
            instride[d] = s;
            s *= p.in[d];
        }
        o2p_i64 taps = 1;
        double padded_taps = 1.0;
        for (int d = 0; d < nsp; d++) {
            o2p_i64 dil = p.dilation[d];
            start[d] = q[d] * p.stride[d] - p.pad_begin[d];
            klo[d] = -nn_floor_div(start[d], dil); /* ceil(-start / dil) */
            khi[d] = nn_floor_div(p.in[d] - 1 - start[d], dil) + 1;
            klo[d] = klo[d] < 0 ? 0 : klo[d];
            khi[d] = khi[d] > p.kernel[d] ? p.kernel[d] : khi[d];
            if (khi[d] < klo[d])
                khi[d] = klo[d];
            taps *= khi[d] - klo[d];
            o2p_i64 ph = nn_floor_div(p.in[d] + p.pad_end[d] - 1 - start[d], dil) + 1;
            ph = ph > p.kernel[d] ? p.kernel[d] : ph < 0 ? 0 : ph;
            padded_taps *= (double)ph;
        }
        const void *x = (const void *)p.x_ptr;
        o2p_i64 xbase = plane * in_size;
        double acc = 0.0;
        C best = (C)-3.402823466e+38f;
        o2p_i64 best_at = -1;
        o2p_i64 k[O2P_CU_MAX_RANK];
        for (int d = 0; d < nsp; d++)
            k[d] = klo[d];
        for (o2p_i64 t = 0; t < taps; t++) {
            o2p_i64 at = 0;
            for (int d = 0; d < nsp; d++)
                at += (start[d] + k[d] * p.dilation[d]) * instride[d];
            C v = io::ld(x, xbase + at);
            if (p.kind == O2P_NN_POOL_MAX) {
                /* the first maximum wins; NaN only when every tap is NaN */
                if (best_at < 0 || (v == v && (best != best || v > best))) {
                    best = v;
                    best_at = at;
                }
            } else if (p.kind == O2P_NN_POOL_AVG) {
                acc += (double)v;
            } else {
                double a = fabs((double)v);
                acc += p.p == 2.0 ? a * a : p.p == 1.0 ? a : pow(a, p.p);
            }
            for (int d = nsp - 1; d >= 0; d--) {
                if (++k[d] < khi[d])
                    break;
                k[d] = klo[d];
            }
        }
        void *y = (void *)p.y_ptr;
        if (p.kind == O2P_NN_POOL_MAX) {
            io::st(y, o, best);
            if (p.idx_ptr) {
                o2p_i64 flat = -1;
                if (best_at >= 0) {
                    if (p.storage_order) {
                        /* column-major over the spatial axes */
                        o2p_i64 r2 = best_at, colstride = 1;
                        flat = 0;
                        for (int d = 0; d < nsp; d++) {
                            o2p_i64 cs = colstride;
                            colstride *= p.in[d];
                            flat += (r2 / instride[d]) * cs;
                            r2 %= instride[d];
                        }
                    } else {
                        flat = best_at;
                    }
                    flat += xbase;
                }
                ((long long *)p.idx_ptr)[o] = flat;
            }
        } else if (p.kind == O2P_NN_POOL_AVG) {
            io::st(y, o, (C)(float)(acc / (p.count_include_pad ? padded_taps : (double)taps)));
        } else {
            io::st(y, o,
                   (C)(float)(p.p == 2.0   ? sqrt(acc)
                              : p.p == 1.0 ? acc
                                           : pow(acc, 1.0 / p.p)));
        }
    }
}

template <int DT> O2P_DEVICE void nn_global_pool(const o2p_nn_global_pool_params &p)
{
    typedef nn_io<DT> io;
    typedef typename io::C C;
    __shared__ C shc[32];
    __shared__ double shd[32];
    const void *x = (const void *)p.x_ptr;
    for (o2p_i64 pl = blockIdx.x; pl < p.planes; pl += gridDim.x) {
        o2p_i64 base = pl * p.size;
        if (p.kind == O2P_NN_POOL_MAX) {
            C m = -nn_inf<C>(); /* NaN propagates, as numpy's max */
            for (o2p_i64 i = threadIdx.x; i < p.size; i += blockDim.x)
                m = nn_max_nan(m, io::ld(x, base + i));
            m = nn_block_max(m, shc);
            if (threadIdx.x == 0)
                io::st((void *)p.y_ptr, pl, m);
            continue;
        }
        double acc = 0.0;
        for (o2p_i64 i = threadIdx.x; i < p.size; i += blockDim.x) {
            double v = io::ld(x, base + i);
            acc += p.kind == O2P_NN_POOL_AVG ? v : p.p == 2.0 ? v * v : pow(fabs(v), p.p);
        }
        acc = nn_block_sum(acc, shd);
        double r = p.kind == O2P_NN_POOL_AVG ? acc / (double)p.size
                   : p.p == 2.0              ? sqrt(acc)
                                             : pow(acc, 1.0 / p.p);
        if (threadIdx.x == 0)
            io::st((void *)p.y_ptr, pl, (C)r);
    }
}

/* ---------------------------------------------------------------- Resize / Upsample */

/* Source coordinate of output index j on axis d; *outside for tf_crop_and_resize positions
 * outside the input (they take the extrapolation value). The host's source_coord. */
O2P_DEVICE double nn_source_coord(const o2p_nn_resize_params &p, int d, double y, int *outside)
{
    double scale = p.scale[d], in = (double)p.in[d];
    double out_w = __dmul_rn(scale, in); /* ONNX's reference uses the unrounded length */
    *outside = 0;
    switch (p.coord) {
    case O2P_NN_CT_HALF_PIXEL: return (y + 0.5) / scale - 0.5;
    case O2P_NN_CT_HALF_PIXEL_SYMMETRIC: {
        double adjustment = (double)p.out[d] / out_w, center = in / 2.0;
        return __dmul_rn(center, 1.0 - adjustment) + (y + 0.5) / scale - 0.5;
    }
    case O2P_NN_CT_PYTORCH_HALF_PIXEL: return p.out[d] > 1 ? (y + 0.5) / scale - 0.5 : 0.0;
    case O2P_NN_CT_ALIGN_CORNERS: return out_w == 1.0 ? 0.0 : y * (in - 1.0) / (out_w - 1.0);
    case O2P_NN_CT_ASYMMETRIC: return y / scale;
    case O2P_NN_CT_TF_HALF_PIXEL_FOR_NN: return (y + 0.5) / scale;
    case O2P_NN_CT_TF_CROP_AND_RESIZE: {
        double rs = p.roi_start[d], re = p.roi_end[d], x;
        if (out_w == 1.0)
            x = (re - rs) * (in - 1.0) / 2.0;
        else
            x = y * (re - rs) * (in - 1.0) / (out_w - 1.0);
        x += __dmul_rn(rs, in - 1.0);
        *outside = !(x >= 0.0 && x <= in - 1.0); /* NaN from a hostile roi too */
        return *outside ? 0.0 : x;
    }
    }
    return 0.0;
}

O2P_DEVICE o2p_i64 nn_nearest_index(int mode, double x)
{
    double f = floor(x), frac = x - f, r;
    switch (mode) {
    case O2P_NN_NM_ROUND_PREFER_FLOOR: r = frac <= 0.5 ? f : f + 1.0; break;
    case O2P_NN_NM_ROUND_PREFER_CEIL: r = frac < 0.5 ? f : f + 1.0; break;
    case O2P_NN_NM_FLOOR: r = f; break;
    default: r = ceil(x); break;
    }
    return r < 0.0 ? 0 : r > 9e18 ? 9223372036854775807LL : (o2p_i64)r;
}

/* Copies one element of es bytes. */
O2P_DEVICE void nn_copy_elem(void *dst, o2p_i64 di, const void *src, o2p_i64 si, int es)
{
    switch (es) {
    case 1: ((unsigned char *)dst)[di] = ((const unsigned char *)src)[si]; return;
    case 2: ((unsigned short *)dst)[di] = ((const unsigned short *)src)[si]; return;
    case 4: ((unsigned int *)dst)[di] = ((const unsigned int *)src)[si]; return;
    default: ((unsigned long long *)dst)[di] = ((const unsigned long long *)src)[si]; return;
    }
}

/* Nearest: an exact element copy from the source position of every axis. */
extern "C" __global__ void o2p_nn_resize_nearest(const o2p_nn_resize_params p)
{
    int r = p.rank;
    O2P_FOR(o, p.total)
    {
        o2p_i64 rem = o, at = 0, s = 1;
        int outside = 0;
        for (int d = r - 1; d >= 0; d--) {
            o2p_i64 j = rem % p.out[d];
            rem /= p.out[d];
            int out_d;
            double xc = nn_source_coord(p, d, (double)j, &out_d);
            o2p_i64 i = nn_nearest_index(p.nearest, xc);
            i = i >= p.in[d] ? p.in[d] - 1 : i;
            outside |= out_d;
            at += i * s;
            s *= p.in[d];
        }
        if (outside)
            o2p_store_f64((void *)p.y_ptr, p.y_dtype, o, p.extrapolation);
        else
            nn_copy_elem((void *)p.y_ptr, o, (const void *)p.x_ptr, at, p.elem_size);
    }
}

O2P_DEVICE double nn_cubic_weight(double x, double A) /* Keys' kernel */
{
    x = fabs(x);
    if (x <= 1.0)
        return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
    return 0.0;
}

/* Tap t of n of output index j on axis d (the host's taps_for): the clamped source index and
 * the unnormalized weight. */
O2P_DEVICE double nn_tap(const o2p_nn_resize_params &p, int d, double xc, o2p_i64 n, o2p_i64 t,
                         o2p_i64 *idx)
{
    double xf = floor(xc);
    bool integer = xc == xf;
    double ratio = integer ? 1.0 : xc - xf;
    o2p_i64 start = (o2p_i64)xf - (integer ? n / 2 : n / 2 - 1);
    double s = p.scale[d] < 1.0 ? p.scale[d] : 1.0, w;
    if (p.antialias) {
        double arg = ((double)(t - n / 2 + 1) - ratio) * s;
        if (p.mode == O2P_NN_RESIZE_CUBIC)
            w = nn_cubic_weight(arg, p.cubic_a);
        else
            w = 1.0 - fabs(arg) > 0.0 ? 1.0 - fabs(arg) : 0.0;
    } else if (p.mode == O2P_NN_RESIZE_CUBIC) {
        w = nn_cubic_weight((double)(t - 1) - ratio, p.cubic_a);
    } else {
        w = t == 0 ? 1.0 - ratio : ratio;
    }
    o2p_i64 i = start + t;
    if (p.exclude_outside && (i < 0 || i >= p.in[d]))
        w = 0.0;
    *idx = i < 0 ? 0 : i >= p.in[d] ? p.in[d] - 1 : i;
    return w;
}

/* Linear/cubic along one axis: source [outer, in[axis], inner] (x_dtype) into destination
 * [outer, out[axis], inner] (y_dtype; integer types round to nearest even). */
extern "C" __global__ void o2p_nn_resize_axis(const o2p_nn_resize_params p)
{
    int d = p.axis;
    o2p_i64 in = p.in[d], out = p.out[d], n = p.taps;
    bool integer = p.y_dtype != O2P_CU_FLOAT && p.y_dtype != O2P_CU_DOUBLE &&
                   p.y_dtype != O2P_CU_FLOAT16 && p.y_dtype != O2P_CU_BFLOAT16;
    bool normalize = p.antialias || p.exclude_outside;
    O2P_FOR(e, p.total)
    {
        o2p_i64 i = e % p.inner, oj = e / p.inner, j = oj % out, o = oj / out;
        int outside;
        double xc = nn_source_coord(p, d, (double)j, &outside);
        double v;
        if (outside) {
            v = p.extrapolation;
        } else {
            double sum = 0.0;
            o2p_i64 idx;
            if (normalize)
                for (o2p_i64 t = 0; t < n; t++)
                    sum += nn_tap(p, d, xc, n, t, &idx);
            v = 0.0;
            for (o2p_i64 t = 0; t < n; t++) {
                double w = nn_tap(p, d, xc, n, t, &idx);
                if (normalize && sum != 0.0)
                    w /= sum;
                if (w != 0.0)
                    v += w * o2p_load_f64((const void *)p.x_ptr, p.x_dtype,
                                          (o * in + idx) * p.inner + i);
            }
        }
        o2p_store_f64((void *)p.y_ptr, p.y_dtype, e, integer ? rint(v) : v);
    }
}

/* ---------------------------------------------------------------- GridSample */

O2P_DEVICE double nn_reflect(double x, double lo, double hi)
{
    double range = hi - lo;
    if (range <= 0.0)
        return lo;
    if (x < lo) {
        double dx = lo - x;
        double n = floor(dx / range), r = dx - __dmul_rn(n, range);
        return fmod(n, 2.0) == 0.0 ? lo + r : hi - r;
    }
    if (x > hi) {
        double dx = x - hi;
        double n = floor(dx / range), r = dx - __dmul_rn(n, range);
        return fmod(n, 2.0) == 0.0 ? hi - r : lo + r;
    }
    return x;
}

extern "C" __global__ void o2p_nn_grid_sample(const o2p_nn_grid_sample_params p)
{
    int nsp = p.nsp;
    int ntaps = p.mode == O2P_NN_RESIZE_NEAREST ? 1 : p.mode == O2P_NN_RESIZE_LINEAR ? 2 : 4;
    bool align = p.align_corners != 0;
    O2P_FOR(e, p.total)
    {
        o2p_i64 o = e % p.out_size, nc = e / p.out_size, n = nc / p.channels;
        o2p_i64 base[O2P_CU_MAX_RANK], stride[O2P_CU_MAX_RANK];
        double w[O2P_CU_MAX_RANK][4], lo[O2P_CU_MAX_RANK], hi[O2P_CU_MAX_RANK];
        o2p_i64 s = 1;
        for (int d = nsp - 1; d >= 0; d--) {
            stride[d] = s;
            s *= p.dims[d];
            lo[d] = align ? 0.0 : -0.5;
            hi[d] = align ? (double)p.dims[d] - 1.0 : (double)p.dims[d] - 0.5;
        }
        for (int d = 0; d < nsp; d++) {
            /* the grid's last axis is x, y, ...: reversed */
            double gn = o2p_load_f64((const void *)p.grid_ptr, p.grid_dtype,
                                     (n * p.out_size + o) * nsp + (nsp - 1 - d));
            double len = (double)p.dims[d];
            float x = (float)(align ? (gn + 1.0) / 2.0 * (len - 1.0)
                                    : (__dmul_rn(gn + 1.0, len) - 1.0) / 2.0);
            if (p.mode == O2P_NN_RESIZE_NEAREST)
                x = rintf(x);
            if (x < lo[d] || x > hi[d]) {
                if (p.padding == O2P_NN_GRID_BORDER)
                    x = x < 0.0f ? 0.0f : x > len - 1.0 ? (float)(len - 1.0) : x;
                else if (p.padding == O2P_NN_GRID_REFLECTION)
                    x = (float)nn_reflect(x, lo[d], hi[d]);
            }
            if (x != x)
                x = -2.0f; /* a NaN coordinate samples outside */
            double xd = x > 1e15f ? 1e15 : x < -1e15f ? -1e15 : (double)x;
            if (p.mode == O2P_NN_RESIZE_NEAREST) {
                base[d] = (o2p_i64)xd;
                w[d][0] = 1.0;
                continue;
            }
            double xf = floor(xd), r = (double)x - xf;
            if (p.mode == O2P_NN_RESIZE_LINEAR) {
                base[d] = (o2p_i64)xf;
                w[d][0] = 1.0 - r;
                w[d][1] = r;
            } else {
                base[d] = (o2p_i64)xf - 1;
                for (int t = 0; t < 4; t++)
                    w[d][t] = nn_cubic_weight((double)(t - 1) - r, -0.75);
            }
        }
        o2p_i64 plane = nc * p.in_size;
        o2p_i64 combos = 1;
        for (int d = 0; d < nsp; d++)
            combos *= ntaps;
        int t[O2P_CU_MAX_RANK];
        for (int d = 0; d < nsp; d++)
            t[d] = 0;
        double v = 0.0;
        for (o2p_i64 k = 0; k < combos; k++) {
            double wt = 1.0;
            o2p_i64 at = plane;
            bool zero = false;
            for (int d = 0; d < nsp; d++) {
                wt *= w[d][t[d]];
                o2p_i64 i = base[d] + t[d], len = p.dims[d];
                if (i < 0 || i >= len) {
                    if (p.padding == O2P_NN_GRID_ZEROS)
                        zero = true;
                    else if (p.padding == O2P_NN_GRID_BORDER)
                        i = i < 0 ? 0 : len - 1;
                    else
                        i = (o2p_i64)nn_reflect((double)i, lo[d], hi[d]);
                    i = i < 0 ? 0 : i >= len ? len - 1 : i;
                }
                at += i * stride[d];
            }
            if (wt != 0.0 && !zero)
                v += wt * o2p_load_f64((const void *)p.x_ptr, p.x_dtype, at);
            for (int d = nsp - 1; d >= 0; d--) {
                if (++t[d] < ntaps)
                    break;
                t[d] = 0;
            }
        }
        o2p_store_f64((void *)p.y_ptr, p.x_dtype, e, v);
    }
}

/* ---------------------------------------------------------------- DepthToSpace, SpaceToDepth */

extern "C" __global__ void o2p_nn_space_depth(const o2p_nn_space_depth_params p)
{
    o2p_i64 b = p.block, C = p.c, H = p.h, W = p.w;
    O2P_FOR(o, p.total)
    {
        o2p_i64 src;
        if (p.to_space) {
            /* Y is [N, C / b^2, H * b, W * b] */
            o2p_i64 Co = C / (b * b), Wo = W * b, Ho = H * b;
            o2p_i64 w = o % Wo, t = o / Wo, h = t % Ho;
            t /= Ho;
            o2p_i64 c = t % Co, n = t / Co;
            o2p_i64 i = h % b, j = w % b;
            o2p_i64 ci = p.crd ? c * b * b + i * b + j : (i * b + j) * Co + c;
            src = ((n * C + ci) * H + h / b) * W + w / b;
        } else {
            /* Y is [N, C * b^2, H / b, W / b] */
            o2p_i64 Ho = H / b, Wo = W / b, Co = C * b * b;
            o2p_i64 w = o % Wo, t = o / Wo, h = t % Ho;
            t /= Ho;
            o2p_i64 co = t % Co, n = t / Co;
            o2p_i64 blk = p.crd ? co % (b * b) : co / C, c = p.crd ? co / (b * b) : co % C;
            o2p_i64 i = blk / b, j = blk % b;
            src = ((n * C + c) * H + h * b + i) * W + w * b + j;
        }
        nn_copy_elem((void *)p.y_ptr, o, (const void *)p.x_ptr, src, p.elem_size);
    }
}

/* ---------------------------------------------------------------- entry points */

#define NN_FLOAT_KERNELS(name, body, ptype)                        \
    extern "C" __global__ void o2p_nn_##name##_f32(const ptype p)  \
    {                                                              \
        body<O2P_CU_FLOAT>(p);                                     \
    }                                                              \
    extern "C" __global__ void o2p_nn_##name##_f16(const ptype p)  \
    {                                                              \
        body<O2P_CU_FLOAT16>(p);                                   \
    }                                                              \
    extern "C" __global__ void o2p_nn_##name##_bf16(const ptype p) \
    {                                                              \
        body<O2P_CU_BFLOAT16>(p);                                  \
    }                                                              \
    extern "C" __global__ void o2p_nn_##name##_f64(const ptype p)  \
    {                                                              \
        body<O2P_CU_DOUBLE>(p);                                    \
    }

NN_FLOAT_KERNELS(softmax, nn_softmax, o2p_nn_rows_params)
NN_FLOAT_KERNELS(norm, nn_norm, o2p_nn_rows_params)
NN_FLOAT_KERNELS(batch_norm, nn_batch_norm, o2p_nn_batch_norm_params)
NN_FLOAT_KERNELS(lrn, nn_lrn, o2p_nn_lrn_params)
NN_FLOAT_KERNELS(pool, nn_pool, o2p_nn_pool_params)
NN_FLOAT_KERNELS(global_pool, nn_global_pool, o2p_nn_global_pool_params)

/* MaxPool also takes int8 and uint8. */
extern "C" __global__ void o2p_nn_pool_i8(const o2p_nn_pool_params p)
{
    nn_pool<O2P_CU_INT8>(p);
}
extern "C" __global__ void o2p_nn_pool_u8(const o2p_nn_pool_params p)
{
    nn_pool<O2P_CU_UINT8>(p);
}
