/* cuda_driver.h: the CUDA driver API as the lean runtime uses it, opened at run time
 * (libcuda.so.1, or $O2P_CUDA_DRIVER_LIBRARY) so that nothing links against CUDA and a
 * machine without a GPU runs everything else. Declares just the types and entry points
 * onnx2plan calls, with the values of the driver's cuda.h. */
#ifndef O2P_CUDA_DRIVER_H
#define O2P_CUDA_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;

#define CUDA_SUCCESS 0
#define CUDA_ERROR_OUT_OF_MEMORY 2
#define CUDA_ERROR_NO_DEVICE 100
#define CUDA_ERROR_NO_BINARY_FOR_GPU 209

#define CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK 8
#define CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT 14
#define CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT 16
#define CU_DEVICE_ATTRIBUTE_INTEGRATED 18
#define CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH 37
#define CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE 38
#define CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR 75
#define CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR 76
#define CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR 81
#define CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN 97

#define CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES 8
#define CU_STREAM_NON_BLOCKING 1
#define CU_EVENT_DEFAULT 0

#define CU_LAUNCH_PARAM_END ((void *)0x00)
#define CU_LAUNCH_PARAM_BUFFER_POINTER ((void *)0x01)
#define CU_LAUNCH_PARAM_BUFFER_SIZE ((void *)0x02)

/* The entry points, resolved once per process (cuda_driver_get). */
typedef struct cuda_driver {
    CUresult (*cuInit)(unsigned int flags);
    CUresult (*cuDriverGetVersion)(int *version);
    CUresult (*cuGetErrorString)(CUresult error, const char **str);
    CUresult (*cuDeviceGetCount)(int *count);
    CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
    CUresult (*cuDeviceGetName)(char *name, int len, CUdevice device);
    CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
    CUresult (*cuDeviceTotalMem)(size_t *bytes, CUdevice device);
    CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *ctx, CUdevice device);
    CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device);
    CUresult (*cuCtxGetCurrent)(CUcontext *ctx);
    CUresult (*cuCtxSetCurrent)(CUcontext ctx);
    CUresult (*cuCtxPushCurrent)(CUcontext ctx);
    CUresult (*cuCtxPopCurrent)(CUcontext *ctx);
    CUresult (*cuCtxSynchronize)(void);
    CUresult (*cuMemGetInfo)(size_t *free_bytes, size_t *total_bytes);
    CUresult (*cuMemAlloc)(CUdeviceptr *ptr, size_t bytes);
    CUresult (*cuMemFree)(CUdeviceptr ptr);
    CUresult (*cuMemAllocHost)(void **ptr, size_t bytes);
    CUresult (*cuMemFreeHost)(void *ptr);
    CUresult (*cuMemcpyHtoD)(CUdeviceptr dst, const void *src, size_t bytes);
    CUresult (*cuMemcpyDtoH)(void *dst, CUdeviceptr src, size_t bytes);
    CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr dst, const void *src, size_t bytes, CUstream s);
    CUresult (*cuMemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes, CUstream s);
    CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream s);
    CUresult (*cuMemsetD8Async)(CUdeviceptr dst, unsigned char value, size_t n, CUstream s);
    CUresult (*cuModuleLoadData)(CUmodule *module, const void *image);
    CUresult (*cuModuleUnload)(CUmodule module);
    CUresult (*cuModuleGetFunction)(CUfunction *fn, CUmodule module, const char *name);
    CUresult (*cuFuncSetAttribute)(CUfunction fn, int attribute, int value);
    CUresult (*cuLaunchKernel)(CUfunction fn, unsigned int gx, unsigned int gy, unsigned int gz,
                               unsigned int bx, unsigned int by, unsigned int bz,
                               unsigned int smem, CUstream stream, void **params, void **extra);
    CUresult (*cuStreamCreate)(CUstream *stream, unsigned int flags);
    CUresult (*cuStreamDestroy)(CUstream stream);
    CUresult (*cuStreamSynchronize)(CUstream stream);
    CUresult (*cuEventCreate)(CUevent *event, unsigned int flags);
    CUresult (*cuEventDestroy)(CUevent event);
    CUresult (*cuEventRecord)(CUevent event, CUstream stream);
    CUresult (*cuEventSynchronize)(CUevent event);
    CUresult (*cuEventElapsedTime)(float *ms, CUevent start, CUevent end);
} cuda_driver;

/* The driver, opened and initialized (cuInit) on first use; NULL with an error that says
 * why (no libcuda.so.1: "no NVIDIA driver"; cuInit failing: no usable GPU) and what to do.
 * `what` starts the message (a plan path, or NULL). Thread-safe. */
const cuda_driver *cuda_driver_get(const char *what);

/* "CUDA_ERROR_NO_BINARY_FOR_GPU (no kernel image is available ...)" for a result. */
const char *cuda_result_text(const cuda_driver *d, CUresult r, char *buf, size_t size);

/* A device as the compatibility checks see it (DESIGN.md §4, §5). */
typedef struct cuda_device_info {
    int ordinal;
    char name[256];
    int compute_cap; /* major*10+minor */
    uint32_t memory_bus_width;
    uint32_t l2_cache_size;
    uint32_t shared_mem_per_block;       /* the default limit */
    uint32_t shared_mem_per_block_optin; /* what a kernel may opt into */
    uint32_t shared_mem_per_multiprocessor;
    uint32_t texture_alignment;
    uint32_t multiprocessor_count;
    uint32_t integrated;
    uint64_t total_memory;
    uint64_t free_memory; /* at the time of the query */
    int driver_version;   /* e.g. 13000 */
} cuda_device_info;

/* Queries device `ordinal` (0 unless $CUDA_VISIBLE_DEVICES says otherwise for the process).
 * Fails with O2P_ERR_UNSUPPORTED when there is no driver or no such device, naming it. */
o2p_status cuda_device_query(int ordinal, cuda_device_info *out);

/* The device's primary context made current on the calling thread (retained once per
 * process, never released before exit, so engines and contexts can share it with the
 * application's CUDA runtime). */
o2p_status cuda_use_device(int ordinal, CUcontext *ctx);

#endif
