/* o2p_cuda.h: device helpers every kernel family includes (compiled by NVRTC with no other
 * header: no CUDA toolkit headers are needed at plan build, so these replace cuda_fp16.h
 * and friends). Element access by dtype, half/bfloat16 conversions, grid-stride loops. */
#ifndef O2P_CUDA_H
#define O2P_CUDA_H

#include "o2p_params.h"

#define O2P_DEVICE static __device__ __forceinline__

/* Grid-stride loop over [0, n). */
#define O2P_FOR(i, n)                                                                      \
    for (o2p_i64 i = (o2p_i64)blockIdx.x * blockDim.x + threadIdx.x; i < (o2p_i64)(n);      \
         i += (o2p_i64)blockDim.x * gridDim.x)

O2P_DEVICE float o2p_half_to_float(unsigned short h)
{
    float f;
    asm("{ .reg .f16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
    return f;
}

O2P_DEVICE unsigned short o2p_float_to_half(float f)
{
    unsigned short h;
    asm("{ .reg .f16 t; cvt.rn.f16.f32 t, %1; mov.b16 %0, t; }" : "=h"(h) : "f"(f));
    return h;
}

O2P_DEVICE float o2p_bf16_to_float(unsigned short b)
{
    return __uint_as_float(((unsigned int)b) << 16);
}

/* Round to nearest even; NaN stays NaN. */
O2P_DEVICE unsigned short o2p_float_to_bf16(float f)
{
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (unsigned short)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}

/* Element i of a tensor of dtype t (O2P_CU_*) as double / as int64, and stores of them;
 * the conversions follow the host kernels (float to int truncates toward zero). For generic
 * kernels where the type is a run-time parameter; hot paths template on the type. */
O2P_DEVICE double o2p_load_f64(const void *p, int t, o2p_i64 i)
{
    switch (t) {
    case O2P_CU_FLOAT: return ((const float *)p)[i];
    case O2P_CU_DOUBLE: return ((const double *)p)[i];
    case O2P_CU_FLOAT16: return o2p_half_to_float(((const unsigned short *)p)[i]);
    case O2P_CU_BFLOAT16: return o2p_bf16_to_float(((const unsigned short *)p)[i]);
    case O2P_CU_INT8: return ((const signed char *)p)[i];
    case O2P_CU_UINT8: return ((const unsigned char *)p)[i];
    case O2P_CU_BOOL: return ((const unsigned char *)p)[i] != 0;
    case O2P_CU_INT16: return ((const short *)p)[i];
    case O2P_CU_UINT16: return ((const unsigned short *)p)[i];
    case O2P_CU_INT32: return ((const int *)p)[i];
    case O2P_CU_UINT32: return ((const unsigned int *)p)[i];
    case O2P_CU_INT64: return (double)((const long long *)p)[i];
    case O2P_CU_UINT64: return (double)((const unsigned long long *)p)[i];
    }
    return 0;
}

O2P_DEVICE o2p_i64 o2p_load_i64(const void *p, int t, o2p_i64 i)
{
    switch (t) {
    case O2P_CU_INT64: return ((const long long *)p)[i];
    case O2P_CU_UINT64: return (o2p_i64)((const unsigned long long *)p)[i];
    case O2P_CU_INT32: return ((const int *)p)[i];
    case O2P_CU_UINT32: return ((const unsigned int *)p)[i];
    case O2P_CU_INT16: return ((const short *)p)[i];
    case O2P_CU_UINT16: return ((const unsigned short *)p)[i];
    case O2P_CU_INT8: return ((const signed char *)p)[i];
    case O2P_CU_UINT8: return ((const unsigned char *)p)[i];
    case O2P_CU_BOOL: return ((const unsigned char *)p)[i] != 0;
    default: return (o2p_i64)o2p_load_f64(p, t, i);
    }
}

O2P_DEVICE void o2p_store_f64(void *p, int t, o2p_i64 i, double v)
{
    switch (t) {
    case O2P_CU_FLOAT: ((float *)p)[i] = (float)v; return;
    case O2P_CU_DOUBLE: ((double *)p)[i] = v; return;
    case O2P_CU_FLOAT16: ((unsigned short *)p)[i] = o2p_float_to_half((float)v); return;
    case O2P_CU_BFLOAT16: ((unsigned short *)p)[i] = o2p_float_to_bf16((float)v); return;
    case O2P_CU_BOOL: ((unsigned char *)p)[i] = v != 0; return;
    default: break;
    }
    /* integers: truncate toward zero, saturate (as host_set_f64) */
    double lo, hi;
    switch (t) {
    case O2P_CU_INT8: lo = -128.0; hi = 127.0; break;
    case O2P_CU_UINT8: lo = 0.0; hi = 255.0; break;
    case O2P_CU_INT16: lo = -32768.0; hi = 32767.0; break;
    case O2P_CU_UINT16: lo = 0.0; hi = 65535.0; break;
    case O2P_CU_INT32: lo = -2147483648.0; hi = 2147483647.0; break;
    case O2P_CU_UINT32: lo = 0.0; hi = 4294967295.0; break;
    case O2P_CU_INT64: lo = -9223372036854775808.0; hi = 9223372036854775807.0; break;
    default: lo = 0.0; hi = 18446744073709551615.0; break;
    }
    if (v != v)
        v = 0;
    v = v < lo ? lo : (v > hi ? hi : v);
    switch (t) {
    case O2P_CU_INT8: ((signed char *)p)[i] = (signed char)v; return;
    case O2P_CU_UINT8: ((unsigned char *)p)[i] = (unsigned char)v; return;
    case O2P_CU_INT16: ((short *)p)[i] = (short)v; return;
    case O2P_CU_UINT16: ((unsigned short *)p)[i] = (unsigned short)v; return;
    case O2P_CU_INT32: ((int *)p)[i] = (int)v; return;
    case O2P_CU_UINT32: ((unsigned int *)p)[i] = (unsigned int)v; return;
    case O2P_CU_INT64:
        ((long long *)p)[i] = v >= 9223372036854775807.0 ? 9223372036854775807LL : (long long)v;
        return;
    default:
        ((unsigned long long *)p)[i] =
            v >= 18446744073709551615.0 ? 18446744073709551615ULL : (unsigned long long)v;
        return;
    }
}

O2P_DEVICE void o2p_store_i64(void *p, int t, o2p_i64 i, o2p_i64 v)
{
    switch (t) {
    case O2P_CU_INT64: ((long long *)p)[i] = v; return;
    case O2P_CU_UINT64: ((unsigned long long *)p)[i] = (unsigned long long)v; return;
    case O2P_CU_INT32: ((int *)p)[i] = (int)v; return;
    case O2P_CU_UINT32: ((unsigned int *)p)[i] = (unsigned int)v; return;
    case O2P_CU_INT16: ((short *)p)[i] = (short)v; return;
    case O2P_CU_UINT16: ((unsigned short *)p)[i] = (unsigned short)v; return;
    case O2P_CU_INT8: ((signed char *)p)[i] = (signed char)v; return;
    case O2P_CU_UINT8: ((unsigned char *)p)[i] = (unsigned char)v; return;
    case O2P_CU_BOOL: ((unsigned char *)p)[i] = v != 0; return;
    default: o2p_store_f64(p, t, i, (double)v); return;
    }
}

/* The offset (in elements) of output index i in a tensor whose shape/strides (broadcast
 * strides allowed) are given over the output's dims. */
O2P_DEVICE o2p_i64 o2p_offset(const o2p_cu_shape &s, o2p_i64 i)
{
    o2p_i64 off = 0;
    for (int d = s.rank - 1; d >= 0; d--) {
        o2p_i64 n = s.dims[d];
        o2p_i64 q = n ? i / n : 0;
        off += (i - q * n) * s.strides[d];
        i = q;
    }
    return off;
}


/* The random ops' counter-based generator, as the host's host_mix64 / host_rand_u01
 * (kernels/host/host_kernels.h): element i of stream `seed` is a hash of (seed, i), so a
 * seeded layer draws the same values on both targets. */
O2P_DEVICE unsigned long long o2p_mix64(unsigned long long z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) for stream element i. */
O2P_DEVICE double o2p_rand_u01(unsigned long long seed, unsigned long long i)
{
    return (double)(o2p_mix64(seed ^ o2p_mix64(i)) >> 11) * (1.0 / 9007199254740992.0);
}

/* The stream of a run: the layer's seed, with the GPU's clock mixed in when the layer has
 * no seed attribute (fresh values every run; every element still hashes its own index, so
 * threads that read different clock values stay independent). */
O2P_DEVICE unsigned long long o2p_rand_stream(unsigned long long seed, int fresh)
{
    if (fresh) {
        unsigned long long clk;
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(clk));
        seed ^= o2p_mix64(clk);
    }
    return seed;
}

#endif
