// tensor.cu: the tensor kernel family (data movement, indexing, TopK, CumSum, generators),
// the CUDA counterparts of kernels/host/tensor*.c. Data movement is type-agnostic: kernels
// move elements of 1, 2, 4 or 8 bytes; only TopK, CumSum, the scatter reductions and the
// generators look at values. An index read from an activation never addresses memory out
// of bounds: gathers write zeros for it, scatters skip it.
#include "o2p_cuda.h"
#include "tensor_params.h"

static_assert(sizeof(o2p_tn_copy_params) == 552, "");
static_assert(sizeof(o2p_tn_pad_params) == 552, "");
static_assert(sizeof(o2p_tn_gather_params) == 64, "");
static_assert(sizeof(o2p_tn_elements_params) == 368, "");
static_assert(sizeof(o2p_tn_nd_params) == 352, "");
static_assert(sizeof(o2p_tn_one_hot_params) == 80, "");
static_assert(sizeof(o2p_tn_reverse_sequence_params) == 72, "");
static_assert(sizeof(o2p_tn_topk_params) == 80, "");
static_assert(sizeof(o2p_tn_cumsum_params) == 208, "");
static_assert(sizeof(o2p_tn_trilu_params) == 72, "");
static_assert(sizeof(o2p_tn_fill_params) == 152, "");
static_assert(sizeof(o2p_tn_range_params) == 56, "");
static_assert(sizeof(o2p_tn_eye_params) == 40, "");
static_assert(sizeof(o2p_tn_nonzero_params) == 176, "");

typedef unsigned char tn_u8;
typedef unsigned short tn_u16;
typedef unsigned int tn_u32;
typedef unsigned long long tn_u64;

// ---------------------------------------------------------------- shared helpers

// Copies element si of src to element di of dst, es bytes each.
O2P_DEVICE void tn_move(void *dst, o2p_i64 di, const void *src, o2p_i64 si, int es)
{
    switch (es) {
    case 1: ((tn_u8 *)dst)[di] = ((const tn_u8 *)src)[si]; return;
    case 2: ((tn_u16 *)dst)[di] = ((const tn_u16 *)src)[si]; return;
    case 4: ((tn_u32 *)dst)[di] = ((const tn_u32 *)src)[si]; return;
    default: ((tn_u64 *)dst)[di] = ((const tn_u64 *)src)[si]; return;
    }
}

// Writes the low es bytes of bits into element di of dst.
O2P_DEVICE void tn_store_bits(void *dst, o2p_i64 di, tn_u64 bits, int es)
{
    switch (es) {
    case 1: ((tn_u8 *)dst)[di] = (tn_u8)bits; return;
    case 2: ((tn_u16 *)dst)[di] = (tn_u16)bits; return;
    case 4: ((tn_u32 *)dst)[di] = (tn_u32)bits; return;
    default: ((tn_u64 *)dst)[di] = bits; return;
    }
}

O2P_DEVICE o2p_i64 tn_index(const void *ind, int is64, o2p_i64 i)
{
    return is64 ? ((const long long *)ind)[i] : (o2p_i64)((const int *)ind)[i];
}

// An index of an axis of size d, negative counting from the end, into [0, d); -1 when out of
// [-d, d-1].
O2P_DEVICE o2p_i64 tn_wrap(o2p_i64 v, o2p_i64 d)
{
    if (v < -d || v >= d)
        return -1;
    return v < 0 ? v + d : v;
}

// ---------------------------------------------------------------- copy, pad

template <typename T> __device__ void tn_copy(const o2p_tn_copy_params &p)
{
    const T *x = (const T *)p.x_ptr;
    T *y = (T *)p.y_ptr;
    O2P_FOR(i, p.n) y[o2p_offset(p.dst, i)] = x[o2p_offset(p.src, i)];
}

extern "C" __global__ void o2p_tensor_copy_1(const o2p_tn_copy_params p) { tn_copy<tn_u8>(p); }
extern "C" __global__ void o2p_tensor_copy_2(const o2p_tn_copy_params p) { tn_copy<tn_u16>(p); }
extern "C" __global__ void o2p_tensor_copy_4(const o2p_tn_copy_params p) { tn_copy<tn_u32>(p); }
extern "C" __global__ void o2p_tensor_copy_8(const o2p_tn_copy_params p) { tn_copy<tn_u64>(p); }

// The input coordinate that output coordinate c reads (pad_source of tensor_layout.c), or
// -1 for the constant.
O2P_DEVICE o2p_i64 tn_pad_source(int mode, o2p_i64 c, o2p_i64 begin, o2p_i64 dim)
{
    o2p_i64 i = c - begin;
    if (i >= 0 && i < dim)
        return i;
    if (mode == O2P_TN_PAD_CONSTANT || dim <= 0)
        return -1;
    if (mode == O2P_TN_PAD_EDGE)
        return i < 0 ? 0 : dim - 1;
    if (mode == O2P_TN_PAD_WRAP) {
        o2p_i64 m = i % dim;
        return m < 0 ? m + dim : m;
    }
    // reflect, numpy's: period 2*(dim-1), the edge not repeated
    if (dim == 1)
        return 0;
    o2p_i64 period = 2 * (dim - 1), m = i % period;
    m = m < 0 ? m + period : m;
    return m < dim ? m : period - m;
}

template <typename T> __device__ void tn_pad(const o2p_tn_pad_params &p)
{
    const T *x = (const T *)p.x_ptr;
    T *y = (T *)p.y_ptr;
    const T value = (T)p.value;
    O2P_FOR(i, p.n) {
        o2p_i64 rest = i, off = 0;
        bool inside = true;
        for (int a = p.rank - 1; a >= 0; a--) {
            o2p_i64 dim = p.out_dims[a];
            o2p_i64 q = dim ? rest / dim : 0;
            o2p_i64 c = rest - q * dim;
            rest = q;
            o2p_i64 s = tn_pad_source(p.mode, c, p.begin[a], p.in_dims[a]);
            if (s < 0) {
                inside = false;
                break;
            }
            off += s * p.in_strides[a];
        }
        y[i] = inside ? x[off] : value;
    }
}

extern "C" __global__ void o2p_tensor_pad_1(const o2p_tn_pad_params p) { tn_pad<tn_u8>(p); }
extern "C" __global__ void o2p_tensor_pad_2(const o2p_tn_pad_params p) { tn_pad<tn_u16>(p); }
extern "C" __global__ void o2p_tensor_pad_4(const o2p_tn_pad_params p) { tn_pad<tn_u32>(p); }
extern "C" __global__ void o2p_tensor_pad_8(const o2p_tn_pad_params p) { tn_pad<tn_u64>(p); }

// ---------------------------------------------------------------- Gather

template <typename T> __device__ void tn_gather(const o2p_tn_gather_params &p)
{
    const T *x = (const T *)p.x_ptr;
    T *y = (T *)p.y_ptr;
    O2P_FOR(i, p.n) {
        o2p_i64 in = i % p.inner, r = i / p.inner;
        o2p_i64 j = r % p.ni, o = r / p.ni;
        o2p_i64 w = tn_wrap(tn_index((const void *)p.ind_ptr, p.ind_i64, j), p.d);
        y[i] = w < 0 ? (T)0 : x[(o * p.d + w) * p.inner + in];
    }
}

extern "C" __global__ void o2p_tensor_gather_1(const o2p_tn_gather_params p) { tn_gather<tn_u8>(p); }
extern "C" __global__ void o2p_tensor_gather_2(const o2p_tn_gather_params p) { tn_gather<tn_u16>(p); }
extern "C" __global__ void o2p_tensor_gather_4(const o2p_tn_gather_params p) { tn_gather<tn_u32>(p); }
extern "C" __global__ void o2p_tensor_gather_8(const o2p_tn_gather_params p) { tn_gather<tn_u64>(p); }

// ---------------------------------------------------------------- scatter reductions

O2P_DEVICE double tn_reduce_f(int r, double a, double b)
{
    const double nan = __longlong_as_double(0x7ff8000000000000LL);
    switch (r) {
    case O2P_TN_RED_ADD: return a + b;
    case O2P_TN_RED_MUL: return a * b;
    case O2P_TN_RED_MAX: return (a != a || b != b) ? nan : (a > b ? a : b);
    case O2P_TN_RED_MIN: return (a != a || b != b) ? nan : (a < b ? a : b);
    default: return b;
    }
}

// Combines element j of upd into element i of y (reduce_into of tensor_index.c): float in
// float, the other floats through double, bool as or/and, integers wrapping.
O2P_DEVICE void tn_reduce_into(int r, int t, void *y, o2p_i64 i, const void *upd, o2p_i64 j)
{
    if (t == O2P_CU_FLOAT) {
        float *p = (float *)y + i;
        *p = (float)tn_reduce_f(r, *p, ((const float *)upd)[j]);
    } else if (t == O2P_CU_DOUBLE || t == O2P_CU_FLOAT16 || t == O2P_CU_BFLOAT16) {
        o2p_store_f64(y, t, i, tn_reduce_f(r, o2p_load_f64(y, t, i), o2p_load_f64(upd, t, j)));
    } else if (t == O2P_CU_BOOL) {
        tn_u8 *p = (tn_u8 *)y + i;
        tn_u8 u = ((const tn_u8 *)upd)[j] != 0;
        *p = (r == O2P_TN_RED_ADD || r == O2P_TN_RED_MAX) ? (*p || u) : (*p && u);
    } else if (t == O2P_CU_UINT64) {
        tn_u64 *p = (tn_u64 *)y + i;
        tn_u64 x = *p, u = ((const tn_u64 *)upd)[j];
        *p = r == O2P_TN_RED_ADD ? x + u
             : r == O2P_TN_RED_MUL ? x * u
             : r == O2P_TN_RED_MAX ? (x > u ? x : u)
                                   : (x < u ? x : u);
    } else {
        o2p_i64 x = o2p_load_i64(y, t, i), u = o2p_load_i64(upd, t, j);
        o2p_i64 v = r == O2P_TN_RED_ADD ? (o2p_i64)((tn_u64)x + (tn_u64)u)
                    : r == O2P_TN_RED_MUL ? (o2p_i64)((tn_u64)x * (tn_u64)u)
                    : r == O2P_TN_RED_MAX ? (x > u ? x : u)
                                          : (x < u ? x : u);
        o2p_store_i64(y, t, i, v);
    }
}

// ---------------------------------------------------------------- GatherElements, ScatterElements

extern "C" __global__ void o2p_tensor_gather_elements(const o2p_tn_elements_params p)
{
    const void *ind = (const void *)p.ind_ptr;
    O2P_FOR(j, p.n) {
        o2p_i64 w = tn_wrap(tn_index(ind, p.ind_i64, j), p.d);
        if (w < 0)
            tn_store_bits((void *)p.y_ptr, j, 0, p.esize);
        else
            tn_move((void *)p.y_ptr, j, (const void *)p.x_ptr,
                    o2p_offset(p.ind, j) + w * p.axis_stride, p.esize);
    }
}

// Applies update j to element `at` of y.
O2P_DEVICE void tn_scatter_one(const o2p_tn_elements_params &p, o2p_i64 at, o2p_i64 j)
{
    if (p.reduction == O2P_TN_RED_NONE)
        tn_move((void *)p.y_ptr, at, (const void *)p.upd_ptr, j, p.esize);
    else
        tn_reduce_into(p.reduction, p.dtype, (void *)p.y_ptr, at, (const void *)p.upd_ptr, j);
}

extern "C" __global__ void o2p_tensor_scatter_elements(const o2p_tn_elements_params p)
{
    const void *ind = (const void *)p.ind_ptr;
    if (p.per_update) {
        O2P_FOR(j, p.n) {
            o2p_i64 w = tn_wrap(tn_index(ind, p.ind_i64, j), p.d);
            if (w >= 0)
                tn_scatter_one(p, o2p_offset(p.ind, j) + w * p.axis_stride, j);
        }
        return;
    }
    O2P_FOR(line, p.lines) {
        o2p_i64 in = line % p.ind_inner, o = line / p.ind_inner;
        for (o2p_i64 t = 0; t < p.ind_axis_dim; t++) {
            o2p_i64 j = (o * p.ind_axis_dim + t) * p.ind_inner + in;
            o2p_i64 w = tn_wrap(tn_index(ind, p.ind_i64, j), p.d);
            if (w < 0)
                continue;
            tn_scatter_one(p, o2p_offset(p.ind, j) + w * p.axis_stride, j);
        }
    }
}

// ---------------------------------------------------------------- GatherND, ScatterND

// The data offset of tuple t (its m entries at ind[t*m ..]), or -1 when an entry is out of
// range.
O2P_DEVICE o2p_i64 tn_tuple_offset(const o2p_tn_nd_params &p, o2p_i64 t)
{
    o2p_i64 off = 0;
    for (o2p_i64 k = 0; k < p.m; k++) {
        o2p_i64 w = tn_wrap(tn_index((const void *)p.ind_ptr, p.ind_i64, t * p.m + k),
                            p.dims[k]);
        if (w < 0)
            return -1;
        off += w * p.strides[k];
    }
    return off;
}

extern "C" __global__ void o2p_tensor_gather_nd(const o2p_tn_nd_params p)
{
    O2P_FOR(i, p.n) {
        o2p_i64 e = i % p.slice, t = i / p.slice, b = t / p.tuples;
        o2p_i64 off = tn_tuple_offset(p, t);
        if (off < 0)
            tn_store_bits((void *)p.y_ptr, i, 0, p.esize);
        else
            tn_move((void *)p.y_ptr, i, (const void *)p.x_ptr, b * p.batch_stride + off + e,
                    p.esize);
    }
}

extern "C" __global__ void o2p_tensor_scatter_nd(const o2p_tn_nd_params p)
{
    if (p.per_update) {
        // no two threads meet: the tuples are distinct, or without a reduction ONNX leaves
        // the winner among duplicates open
        O2P_FOR(i, p.n) {
            o2p_i64 e = i % p.slice, t = i / p.slice;
            o2p_i64 off = tn_tuple_offset(p, t);
            if (off < 0)
                continue;
            if (p.reduction == O2P_TN_RED_NONE)
                tn_move((void *)p.y_ptr, off + e, (const void *)p.upd_ptr, i, p.esize);
            else
                tn_reduce_into(p.reduction, p.dtype, (void *)p.y_ptr, off + e,
                               (const void *)p.upd_ptr, i);
        }
        return;
    }
    O2P_FOR(e, p.n) {
        for (o2p_i64 t = 0; t < p.tuples; t++) {
            o2p_i64 off = tn_tuple_offset(p, t);
            if (off >= 0)
                tn_reduce_into(p.reduction, p.dtype, (void *)p.y_ptr, off + e,
                               (const void *)p.upd_ptr, t * p.slice + e);
        }
    }
}

// ---------------------------------------------------------------- OneHot, ReverseSequence

extern "C" __global__ void o2p_tensor_one_hot(const o2p_tn_one_hot_params p)
{
    O2P_FOR(i, p.n) {
        o2p_i64 in = i % p.inner, r = i / p.inner;
        o2p_i64 v = r % p.depth, o = r / p.depth;
        o2p_i64 idx = o2p_load_i64((const void *)p.ind_ptr, p.ind_dtype, o * p.inner + in);
        if (idx < 0 && p.negative)
            idx += p.depth;
        if (p.values_known)
            tn_store_bits((void *)p.y_ptr, i, idx == v ? p.on_bits : p.off_bits, p.esize);
        else
            tn_move((void *)p.y_ptr, i, (const void *)p.val_ptr, idx == v ? 1 : 0, p.esize);
    }
}

extern "C" __global__ void o2p_tensor_reverse_sequence(const o2p_tn_reverse_sequence_params p)
{
    O2P_FOR(i, p.n) {
        o2p_i64 e = i % p.block, r = i / p.block;
        o2p_i64 b, t;
        if (p.time_axis == 0) {
            b = r % p.batch;
            t = r / p.batch;
        } else {
            t = r % p.seq;
            b = r / p.seq;
        }
        o2p_i64 l = tn_index((const void *)p.lens_ptr, p.lens_i64, b);
        l = l < 0 ? 0 : (l > p.seq ? p.seq : l);
        o2p_i64 s = t < l ? l - 1 - t : t;
        o2p_i64 from = p.time_axis == 0 ? s * p.batch + b : b * p.seq + s;
        tn_move((void *)p.y_ptr, i, (const void *)p.x_ptr, from * p.block + e, p.esize);
    }
}

// ---------------------------------------------------------------- TopK

#define TN_TOPK_THREADS 256

// A key whose unsigned order is the value order (order_key of tensor_axis.c): floats with
// -0 == +0 and NaN above +inf, signed integers offset by 2^63.
O2P_DEVICE tn_u64 tn_order_key(const void *x, int t, o2p_i64 i)
{
    switch (t) {
    case O2P_CU_FLOAT: case O2P_CU_DOUBLE: case O2P_CU_FLOAT16: case O2P_CU_BFLOAT16: {
        double d = o2p_load_f64(x, t, i);
        if (d != d)
            return ~0ull;
        if (d == 0)
            d = 0;
        tn_u64 bits = (tn_u64)__double_as_longlong(d);
        return (bits >> 63) ? ~bits : (bits | (1ull << 63));
    }
    case O2P_CU_UINT64: case O2P_CU_UINT32: case O2P_CU_UINT16: case O2P_CU_UINT8:
        return (tn_u64)o2p_load_i64(x, t, i);
    default:
        return (tn_u64)o2p_load_i64(x, t, i) ^ (1ull << 63);
    }
}

O2P_DEVICE bool tn_pair_less(tn_u64 ak, o2p_i64 ai, tn_u64 bk, o2p_i64 bi)
{
    return ak < bk || (ak == bk && ai < bi);
}

// Output position j of a row holds the j-th smallest (key, index) pair, where the key is
// inverted for largest: ties go to the lower index, as the host kernel's sort does.
extern "C" __global__ void __launch_bounds__(TN_TOPK_THREADS)
o2p_tensor_topk(const o2p_tn_topk_params p)
{
    __shared__ tn_u64 s_key[TN_TOPK_THREADS];
    __shared__ o2p_i64 s_idx[TN_TOPK_THREADS];
    const void *x = (const void *)p.x_ptr;
    const int tid = threadIdx.x;
    for (o2p_i64 row = blockIdx.x; row < p.rows; row += gridDim.x) {
        o2p_i64 o = row / p.inner, in = row % p.inner;
        o2p_i64 base = o * p.d * p.inner + in;
        tn_u64 prev_key = 0;
        o2p_i64 prev_idx = -1; // nothing taken yet: every pair is above (0, -1)
        for (o2p_i64 j = 0; j < p.k; j++) {
            tn_u64 best_key = ~0ull;
            o2p_i64 best_idx = -1;
            for (o2p_i64 c = tid; c < p.d; c += blockDim.x) {
                tn_u64 key = tn_order_key(x, p.dtype, base + c * p.inner);
                if (p.largest)
                    key = ~key;
                if (!tn_pair_less(prev_key, prev_idx, key, c))
                    continue;
                if (best_idx < 0 || tn_pair_less(key, c, best_key, best_idx)) {
                    best_key = key;
                    best_idx = c;
                }
            }
            s_key[tid] = best_key;
            s_idx[tid] = best_idx;
            __syncthreads();
            for (int half = blockDim.x / 2; half > 0; half /= 2) {
                if (tid < half) {
                    tn_u64 k2 = s_key[tid + half];
                    o2p_i64 i2 = s_idx[tid + half];
                    if (i2 >= 0 && (s_idx[tid] < 0 || tn_pair_less(k2, i2, s_key[tid], s_idx[tid]))) {
                        s_key[tid] = k2;
                        s_idx[tid] = i2;
                    }
                }
                __syncthreads();
            }
            prev_key = s_key[0];
            prev_idx = s_idx[0];
            if (tid == 0 && prev_idx >= 0) {
                o2p_i64 to = (o * p.k + j) * p.inner + in;
                if (p.has_values)
                    tn_move((void *)p.values_ptr, to, x, base + prev_idx * p.inner, p.esize);
                if (p.has_indices)
                    ((long long *)p.indices_ptr)[to] = prev_idx;
            }
            __syncthreads(); // s_key/s_idx are rewritten in the next round
        }
    }
}

// ---------------------------------------------------------------- CumSum

extern "C" __global__ void o2p_tensor_cumsum(const o2p_tn_cumsum_params p)
{
    const int t = p.dtype;
    const bool is_float = t == O2P_CU_FLOAT || t == O2P_CU_FLOAT16 || t == O2P_CU_BFLOAT16;
    const void *x = (const void *)p.x_ptr;
    void *y = (void *)p.y_ptr;
    o2p_i64 lines = p.lines, d = p.d, inner = p.inner;
    if (p.axis_ptr) {
        o2p_i64 a = tn_index((const void *)p.axis_ptr, p.axis_i64, 0);
        if (a < -p.rank || a >= p.rank) {
            O2P_FOR(i, p.n) o2p_store_i64(y, t, i, 0);
            return;
        }
        a = a < 0 ? a + p.rank : a;
        d = p.dims[a];
        inner = 1;
        for (int k = (int)a + 1; k < p.rank; k++)
            inner *= p.dims[k];
        lines = d * inner ? p.n / (d * inner) * inner : 0;
    }
    O2P_FOR(line, lines) {
        o2p_i64 o = line / inner, in = line % inner;
        // float32 and the 16-bit floats sum in float, double in double, integers wrap
        float accf = 0;
        double accd = 0;
        tn_u64 acci = 0;
        for (o2p_i64 s = 0; s < d; s++) {
            o2p_i64 j = p.reverse ? d - 1 - s : s, at = (o * d + j) * inner + in;
            if (p.exclusive) {
                if (t == O2P_CU_DOUBLE)
                    o2p_store_f64(y, t, at, accd);
                else if (is_float)
                    o2p_store_f64(y, t, at, accf);
                else
                    o2p_store_i64(y, t, at, (o2p_i64)acci);
            }
            if (t == O2P_CU_DOUBLE)
                accd += o2p_load_f64(x, t, at);
            else if (is_float)
                accf += (float)o2p_load_f64(x, t, at);
            else
                acci += (tn_u64)o2p_load_i64(x, t, at);
            if (!p.exclusive) {
                if (t == O2P_CU_DOUBLE)
                    o2p_store_f64(y, t, at, accd);
                else if (is_float)
                    o2p_store_f64(y, t, at, accf);
                else
                    o2p_store_i64(y, t, at, (o2p_i64)acci);
            }
        }
    }
}

// ---------------------------------------------------------------- Trilu

extern "C" __global__ void o2p_tensor_trilu(const o2p_tn_trilu_params p)
{
    o2p_i64 k = p.k;
    if (p.k_ptr) {
        // beyond [-rows, cols] k has the effect of the bound; keeps r + k from overflowing
        k = tn_index((const void *)p.k_ptr, p.k_i64, 0);
        k = k < -p.rows ? -p.rows : (k > p.cols ? p.cols : k);
    }
    O2P_FOR(i, p.n) {
        o2p_i64 c = i % p.cols, r = (i / p.cols) % p.rows;
        // upper keeps c >= r + k, lower keeps c <= r + k
        bool keep = p.upper ? c >= r + k : c <= r + k;
        if (keep)
            tn_move((void *)p.y_ptr, i, (const void *)p.x_ptr, i, p.esize);
        else
            tn_store_bits((void *)p.y_ptr, i, 0, p.esize);
    }
}

// ---------------------------------------------------------------- generators

extern "C" __global__ void o2p_tensor_fill(const o2p_tn_fill_params p)
{
    O2P_FOR(i, p.n) tn_store_bits((void *)p.y_ptr, i, p.values[i % p.count], p.esize);
}

extern "C" __global__ void o2p_tensor_range(const o2p_tn_range_params p)
{
    const int t = p.dtype;
    // constants travel in the params (their bytes), run-time values in device memory
    const void *sp = p.known ? (const void *)&p.start_bits : (const void *)p.start_ptr;
    const void *dp = p.known ? (const void *)&p.delta_bits : (const void *)p.delta_ptr;
    if (t == O2P_CU_FLOAT || t == O2P_CU_DOUBLE) {
        // the running sum in the element type, as the host kernel: one thread
        if (blockIdx.x != 0 || threadIdx.x != 0)
            return;
        if (t == O2P_CU_FLOAT) {
            float v = *(const float *)sp, d = *(const float *)dp;
            for (o2p_i64 k = 0; k < p.n; k++, v += d)
                ((float *)p.y_ptr)[k] = v;
        } else {
            double v = *(const double *)sp, d = *(const double *)dp;
            for (o2p_i64 k = 0; k < p.n; k++, v += d)
                ((double *)p.y_ptr)[k] = v;
        }
        return;
    }
    tn_u64 st = (tn_u64)o2p_load_i64(sp, t, 0), de = (tn_u64)o2p_load_i64(dp, t, 0);
    O2P_FOR(k, p.n) o2p_store_i64((void *)p.y_ptr, t, k, (o2p_i64)(st + (tn_u64)k * de));
}

extern "C" __global__ void o2p_tensor_eye_like(const o2p_tn_eye_params p)
{
    O2P_FOR(i, p.n) {
        o2p_i64 r = i / p.cols, c = i % p.cols;
        o2p_store_i64((void *)p.y_ptr, p.dtype, i, c - r == p.k ? 1 : 0);
    }
}

// ---------------------------------------------------------------- NonZero

// One block: the count first (the output is [rank, nnz], so every index's place depends on
// nnz), then the elements in chunks of the block's size, each placed by a block-wide scan of
// the chunk's non-zero flags after those of the chunks before. Simple and exact; its output
// shape goes to the shape tensor for the runtime (data-dependent shapes).
extern "C" __global__ void __launch_bounds__(O2P_TN_NONZERO_THREADS)
    o2p_tensor_nonzero(const o2p_tn_nonzero_params p)
{
    __shared__ o2p_i64 s_scan[O2P_TN_NONZERO_THREADS];
    const int t = threadIdx.x;
    const void *x = (const void *)p.x_ptr;
    long long *y = (long long *)p.y_ptr;
    o2p_i64 mine = 0;
    for (o2p_i64 i = t; i < p.n; i += O2P_TN_NONZERO_THREADS)
        mine += o2p_load_f64(x, p.dtype, i) != 0.0;
    s_scan[t] = mine;
    __syncthreads();
    for (int half = O2P_TN_NONZERO_THREADS / 2; half > 0; half /= 2) {
        if (t < half)
            s_scan[t] += s_scan[t + half];
        __syncthreads();
    }
    const o2p_i64 nnz = s_scan[0] < p.cap ? s_scan[0] : p.cap;
    __syncthreads(); // everyone has read the total before s_scan is reused
    if (t == 0) {
        ((long long *)p.shape_ptr)[0] = p.rank;
        ((long long *)p.shape_ptr)[1] = nnz;
    }
    o2p_i64 before = 0; // non-zeros in the chunks before this one
    for (o2p_i64 base = 0; base < p.n && before < nnz; base += O2P_TN_NONZERO_THREADS) {
        const o2p_i64 i = base + t;
        const int flag = i < p.n && o2p_load_f64(x, p.dtype, i) != 0.0;
        s_scan[t] = flag;
        __syncthreads();
        // inclusive Hillis-Steele scan of the flags
        for (int off = 1; off < O2P_TN_NONZERO_THREADS; off *= 2) {
            const o2p_i64 v = t >= off ? s_scan[t - off] : 0;
            __syncthreads();
            s_scan[t] += v;
            __syncthreads();
        }
        const o2p_i64 pos = before + s_scan[t] - 1;
        if (flag && pos < nnz) {
            o2p_i64 rem = i;
            for (int d = p.rank - 1; d >= 0; d--) {
                const o2p_i64 dim = p.dims[d];
                y[(o2p_i64)d * nnz + pos] = dim > 0 ? rem % dim : 0;
                rem = dim > 0 ? rem / dim : 0;
            }
        }
        before += s_scan[O2P_TN_NONZERO_THREADS - 1];
        __syncthreads(); // s_scan is rewritten by the next chunk
    }
}
