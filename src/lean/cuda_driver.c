/* cuda_driver.c: libcuda.so.1 opened at run time (cuda_driver.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lean/cuda_driver.h"

static cuda_driver driver;
static const cuda_driver *driver_ok;
static char driver_error[512];
static pthread_once_t driver_once = PTHREAD_ONCE_INIT;

static void open_driver(void)
{
    const char *path = getenv("O2P_CUDA_DRIVER_LIBRARY");
    if (!path || !*path)
        path = "libcuda.so.1";
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(driver_error, sizeof driver_error,
                 "cannot load the CUDA driver (%s: %s): this machine has no NVIDIA driver; run "
                 "cuda plans on a machine with an NVIDIA GPU and its driver, or build with "
                 "--target host",
                 path, why ? why : "not found");
        return;
    }
    struct {
        const char *name;
        void **slot;
    } syms[] = {
#define SYM(field, name) {name, (void **)&driver.field}
        SYM(cuInit, "cuInit"),
        SYM(cuDriverGetVersion, "cuDriverGetVersion"),
        SYM(cuGetErrorString, "cuGetErrorString"),
        SYM(cuDeviceGetCount, "cuDeviceGetCount"),
        SYM(cuDeviceGet, "cuDeviceGet"),
        SYM(cuDeviceGetName, "cuDeviceGetName"),
        SYM(cuDeviceGetAttribute, "cuDeviceGetAttribute"),
        SYM(cuDeviceTotalMem, "cuDeviceTotalMem_v2"),
        SYM(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
        SYM(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"),
        SYM(cuCtxGetCurrent, "cuCtxGetCurrent"),
        SYM(cuCtxSetCurrent, "cuCtxSetCurrent"),
        SYM(cuCtxPushCurrent, "cuCtxPushCurrent_v2"),
        SYM(cuCtxPopCurrent, "cuCtxPopCurrent_v2"),
        SYM(cuCtxSynchronize, "cuCtxSynchronize"),
        SYM(cuMemGetInfo, "cuMemGetInfo_v2"),
        SYM(cuMemAlloc, "cuMemAlloc_v2"),
        SYM(cuMemFree, "cuMemFree_v2"),
        SYM(cuMemAllocHost, "cuMemAllocHost_v2"),
        SYM(cuMemFreeHost, "cuMemFreeHost"),
        SYM(cuMemcpyHtoD, "cuMemcpyHtoD_v2"),
        SYM(cuMemcpyDtoH, "cuMemcpyDtoH_v2"),
        SYM(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"),
        SYM(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2"),
        SYM(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2"),
        SYM(cuMemsetD8Async, "cuMemsetD8Async"),
        SYM(cuModuleLoadData, "cuModuleLoadData"),
        SYM(cuModuleUnload, "cuModuleUnload"),
        SYM(cuModuleGetFunction, "cuModuleGetFunction"),
        SYM(cuFuncSetAttribute, "cuFuncSetAttribute"),
        SYM(cuLaunchKernel, "cuLaunchKernel"),
        SYM(cuStreamCreate, "cuStreamCreate"),
        SYM(cuStreamDestroy, "cuStreamDestroy_v2"),
        SYM(cuStreamSynchronize, "cuStreamSynchronize"),
        SYM(cuEventCreate, "cuEventCreate"),
        SYM(cuEventDestroy, "cuEventDestroy_v2"),
        SYM(cuEventRecord, "cuEventRecord"),
        SYM(cuEventSynchronize, "cuEventSynchronize"),
        SYM(cuEventElapsedTime, "cuEventElapsedTime"),
#undef SYM
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].slot = dlsym(h, syms[i].name);
        if (!*syms[i].slot) {
            snprintf(driver_error, sizeof driver_error,
                     "the CUDA driver %s lacks %s: it is too old for onnx2plan (CUDA 12 or "
                     "newer is needed); update the NVIDIA driver",
                     path, syms[i].name);
            dlclose(h);
            return;
        }
    }
    CUresult r = driver.cuInit(0);
    if (r != CUDA_SUCCESS) {
        const char *s = NULL;
        driver.cuGetErrorString(r, &s);
        snprintf(driver_error, sizeof driver_error,
                 "the CUDA driver (%s) found no usable GPU: cuInit failed with %d (%s); check "
                 "nvidia-smi and CUDA_VISIBLE_DEVICES, or build with --target host",
                 path, r, s ? s : "unknown error");
        return; /* the library stays open: a failed cuInit keeps failing the same way */
    }
    driver_ok = &driver;
}

const cuda_driver *cuda_driver_get(const char *what)
{
    pthread_once(&driver_once, open_driver);
    if (!driver_ok)
        o2p_fail(O2P_ERR_UNSUPPORTED, "%s%s%s", what ? what : "", what ? ": " : "",
                 driver_error);
    return driver_ok;
}

const char *cuda_result_text(const cuda_driver *d, CUresult r, char *buf, size_t size)
{
    const char *s = NULL;
    if (d && d->cuGetErrorString)
        d->cuGetErrorString(r, &s);
    snprintf(buf, size, "CUDA error %d (%s)", r, s ? s : "unknown");
    return buf;
}

o2p_status cuda_device_query(int ordinal, cuda_device_info *out)
{
    memset(out, 0, sizeof *out);
    const cuda_driver *d = cuda_driver_get(NULL);
    if (!d)
        return O2P_ERR_UNSUPPORTED;
    int count = 0;
    char rt[160];
    CUresult r = d->cuDeviceGetCount(&count);
    if (r != CUDA_SUCCESS || ordinal < 0 || ordinal >= count)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "no CUDA device %d (%d visible%s%s)", ordinal,
                        count, r ? ": " : "", r ? cuda_result_text(d, r, rt, sizeof rt) : "");
    CUdevice dev;
    if ((r = d->cuDeviceGet(&dev, ordinal)) != CUDA_SUCCESS)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "CUDA device %d: %s", ordinal,
                        cuda_result_text(d, r, rt, sizeof rt));
    out->ordinal = ordinal;
    d->cuDeviceGetName(out->name, (int)sizeof out->name - 1, dev);
    int v[10] = {0};
    static const int attrs[10] = {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                                  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                                  CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH,
                                  CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE,
                                  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK,
                                  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                                  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR,
                                  CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT,
                                  CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                                  CU_DEVICE_ATTRIBUTE_INTEGRATED};
    for (int i = 0; i < 10; i++)
        if ((r = d->cuDeviceGetAttribute(&v[i], attrs[i], dev)) != CUDA_SUCCESS)
            return o2p_fail(O2P_ERR_UNSUPPORTED, "CUDA device %d: attribute %d: %s", ordinal,
                            attrs[i], cuda_result_text(d, r, rt, sizeof rt));
    out->compute_cap = v[0] * 10 + v[1];
    out->memory_bus_width = (uint32_t)v[2];
    out->l2_cache_size = (uint32_t)v[3];
    out->shared_mem_per_block = (uint32_t)v[4];
    out->shared_mem_per_block_optin = (uint32_t)v[5];
    out->shared_mem_per_multiprocessor = (uint32_t)v[6];
    out->texture_alignment = (uint32_t)v[7];
    out->multiprocessor_count = (uint32_t)v[8];
    out->integrated = (uint32_t)v[9];
    size_t total = 0;
    d->cuDeviceTotalMem(&total, dev);
    out->total_memory = total;
    d->cuDriverGetVersion(&out->driver_version);
    CUcontext ctx;
    o2p_status st = cuda_use_device(ordinal, &ctx);
    if (st != O2P_OK)
        return st;
    size_t free_bytes = 0, total_bytes = 0;
    if ((r = d->cuMemGetInfo(&free_bytes, &total_bytes)) != CUDA_SUCCESS)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "CUDA device %d: free memory: %s", ordinal,
                        cuda_result_text(d, r, rt, sizeof rt));
    out->free_memory = free_bytes;
    return O2P_OK;
}

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static CUcontext primary[64];

o2p_status cuda_use_device(int ordinal, CUcontext *out)
{
    const cuda_driver *d = cuda_driver_get(NULL);
    if (!d)
        return O2P_ERR_UNSUPPORTED;
    if (ordinal < 0 || ordinal >= 64)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "CUDA device %d is out of range", ordinal);
    char rt[160];
    CUresult r = CUDA_SUCCESS;
    pthread_mutex_lock(&ctx_lock);
    if (!primary[ordinal]) {
        CUdevice dev;
        r = d->cuDeviceGet(&dev, ordinal);
        if (r == CUDA_SUCCESS)
            r = d->cuDevicePrimaryCtxRetain(&primary[ordinal], dev);
    }
    CUcontext ctx = primary[ordinal];
    pthread_mutex_unlock(&ctx_lock);
    if (r != CUDA_SUCCESS || !ctx)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "CUDA device %d: cannot create its context: %s",
                        ordinal, cuda_result_text(d, r, rt, sizeof rt));
    CUcontext cur = NULL;
    d->cuCtxGetCurrent(&cur);
    if (cur != ctx && (r = d->cuCtxSetCurrent(ctx)) != CUDA_SUCCESS)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "CUDA device %d: cannot make its context current: "
                        "%s", ordinal, cuda_result_text(d, r, rt, sizeof rt));
    *out = ctx;
    return O2P_OK;
}
