/* selftest.cu: a tiny family no layer uses: it proves that the embedding, NVRTC, the kernel
 * cache and (on a GPU) the launch path work, and that o2p_cuda.h compiles under NVRTC:
 * o2p_selftest_convert calls every helper in it. It has no lowering, so its parameter
 * structs live here rather than in a selftest_params.h; C code that launches these kernels
 * declares the same layouts (o2p_params.h's rules hold). */
#include "o2p_cuda.h"

/* dst[i] = value for i in [0, n). 24 bytes. */
struct o2p_selftest_fill_params {
    o2p_u64 dst_ptr;
    o2p_i64 n;
    o2p_f32 value;
    o2p_u32 reserved; /* 0 */
};

extern "C" __global__ void o2p_selftest_fill(const o2p_selftest_fill_params p)
{
    float *dst = (float *)p.dst_ptr;
    O2P_FOR(i, p.n) dst[i] = p.value;
}

/* dst (dtype dst_type, contiguous in the output's index space `shape.dims`) = src (dtype
 * src_type) read through shape's strides (0 along broadcast axes), converted as the host
 * kernels convert: through int64 when both types are integers (exact for every value), else
 * through double. */
struct o2p_selftest_convert_params {
    o2p_u64 dst_ptr;
    o2p_u64 src_ptr;
    o2p_i64 n;
    o2p_cu_shape shape;
    o2p_i32 dst_type;
    o2p_i32 src_type;
};

static __device__ __forceinline__ int o2p_selftest_is_int(int t)
{
    return t != O2P_CU_FLOAT && t != O2P_CU_DOUBLE && t != O2P_CU_FLOAT16 && t != O2P_CU_BFLOAT16;
}

extern "C" __global__ void o2p_selftest_convert(const o2p_selftest_convert_params p)
{
    const void *src = (const void *)p.src_ptr;
    void *dst = (void *)p.dst_ptr;
    const bool ints = o2p_selftest_is_int(p.src_type) && o2p_selftest_is_int(p.dst_type);
    O2P_FOR(i, p.n)
    {
        o2p_i64 at = o2p_offset(p.shape, i);
        if (ints) {
            o2p_store_i64(dst, p.dst_type, i, o2p_load_i64(src, p.src_type, at));
        } else if (p.src_type == O2P_CU_FLOAT16 && p.dst_type == O2P_CU_BFLOAT16) {
            /* the 16-bit conversions by name, as fused kernels call them */
            float f = o2p_half_to_float(((const unsigned short *)src)[at]);
            ((unsigned short *)dst)[i] = o2p_float_to_bf16(f);
        } else if (p.src_type == O2P_CU_BFLOAT16 && p.dst_type == O2P_CU_FLOAT16) {
            float f = o2p_bf16_to_float(((const unsigned short *)src)[at]);
            ((unsigned short *)dst)[i] = o2p_float_to_half(f);
        } else {
            o2p_store_f64(dst, p.dst_type, i, o2p_load_f64(src, p.src_type, at));
        }
    }
}
