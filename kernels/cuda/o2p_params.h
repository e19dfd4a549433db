/* o2p_params.h: types shared by the C lowering (src/codegen/) and the CUDA kernels
 * (kernels/cuda/, compiled by NVRTC). Every kernel of a family takes exactly one parameter,
 * a struct declared in kernels/cuda/<family>_params.h with these types only, so that gcc
 * (x86-64 / aarch64 LP64) and NVRTC lay it out byte for byte the same: the builder writes
 * the struct's bytes into the plan, the runtime patches the device addresses in and passes
 * the bytes to cuLaunchKernel as the parameter buffer (CU_LAUNCH_PARAM_BUFFER_POINTER).
 *
 * Rules for a params struct:
 * - fields of o2p_u64 / o2p_i64 / o2p_i32 / o2p_u32 / o2p_f32 / o2p_f64 and arrays of them;
 *   device addresses are o2p_u64 fields (named *_ptr) the lowering fills through
 *   cg_launch_ptr(); order fields from 8-byte to 4-byte so no padding hides between them;
 * - at most CG_MAX_PARAM_BYTES (4096) bytes;
 * - plain old data: no pointers, no constructors. */
#ifndef O2P_PARAMS_H
#define O2P_PARAMS_H

#ifdef __CUDACC_RTC__
typedef unsigned long long o2p_u64;
typedef long long o2p_i64;
typedef int o2p_i32;
typedef unsigned int o2p_u32;
typedef float o2p_f32;
typedef double o2p_f64;
#else
#include <stdint.h>
typedef uint64_t o2p_u64;
typedef int64_t o2p_i64;
typedef int32_t o2p_i32;
typedef uint32_t o2p_u32;
typedef float o2p_f32;
typedef double o2p_f64;
#endif

/* The largest rank a CUDA kernel handles (the IR's O2P_MAX_RANK). */
#define O2P_CU_MAX_RANK 16

/* A tensor's shape with row-major strides in elements; for broadcasting an input into an
 * output's index space, strides are 0 along broadcast axes and rank/dims are the output's. */
typedef struct o2p_cu_shape {
    o2p_i64 dims[O2P_CU_MAX_RANK];
    o2p_i64 strides[O2P_CU_MAX_RANK];
    o2p_i32 rank;
    o2p_i32 reserved; /* 0 */
} o2p_cu_shape;

/* Element types as kernels see them: the o2p_dtype values (include/o2p/o2p.h). */
#define O2P_CU_FLOAT 1
#define O2P_CU_UINT8 2
#define O2P_CU_INT8 3
#define O2P_CU_UINT16 4
#define O2P_CU_INT16 5
#define O2P_CU_INT32 6
#define O2P_CU_INT64 7
#define O2P_CU_BOOL 9
#define O2P_CU_FLOAT16 10
#define O2P_CU_DOUBLE 11
#define O2P_CU_UINT32 12
#define O2P_CU_UINT64 13
#define O2P_CU_BFLOAT16 16

#endif
