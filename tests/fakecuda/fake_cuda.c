/* fake_cuda.c: a test-only libcuda.so.1 over host memory, so the lean runtime's cuda executor
 * runs without a GPU (tests point $O2P_CUDA_DRIVER_LIBRARY at it). It implements the entry
 * points of src/lean/cuda_driver.h:
 * - the device: compute capability $FAKE_CUDA_CC (default 90), name $FAKE_CUDA_NAME, free
 *   memory $FAKE_CUDA_FREE bytes, opt-in shared memory per block $FAKE_CUDA_SMEM_OPTIN;
 *   $FAKE_CUDA_INIT_FAIL makes cuInit fail with CUDA_ERROR_NO_DEVICE;
 * - device memory is host memory (cuMemAlloc = aligned malloc, copies and memsets run at once);
 * - an image is text: "FAKE sm_90\n" (or sm_90a, compute_80, compute_90a) then one kernel
 *   name per line; cuModuleLoadData loads it where the real driver would load that kind of
 *   image (SASS: same major, minor not above the device's; "a": that arch only; PTX: not
 *   above) and answers CUDA_ERROR_NO_BINARY_FOR_GPU otherwise, CUDA_ERROR_INVALID_IMAGE for
 *   anything else;
 * - every module load, allocation, launch (function, grid, block, smem, stream, parameter
 *   bytes in hex), copy and memset is appended as a line to the file $FAKE_CUDA_LOG. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

enum {
    OK = 0,
    ERR_INVALID_VALUE = 1,
    ERR_OUT_OF_MEMORY = 2,
    ERR_NOT_INITIALIZED = 3,
    ERR_NO_DEVICE = 100,
    ERR_INVALID_DEVICE = 101,
    ERR_INVALID_IMAGE = 200,
    ERR_NO_BINARY_FOR_GPU = 209,
    ERR_NOT_FOUND = 500
};

#define MAX_FUNCS 64

typedef struct fake_func {
    char name[128];
    int max_dynamic_smem;
} fake_func;

typedef struct fake_module {
    int nfuncs;
    fake_func funcs[MAX_FUNCS];
} fake_module;

static int initialized;
static int primary_ctx_token;
static __thread void *current_ctx;

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 0) : dflt;
}

static int device_cc(void)
{
    return (int)env_long("FAKE_CUDA_CC", 90);
}

static void logf_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_line(const char *fmt, ...)
{
    const char *path = getenv("FAKE_CUDA_LOG");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

EXPORT CUresult cuInit(unsigned int flags)
{
    (void)flags;
    if (getenv("FAKE_CUDA_INIT_FAIL"))
        return ERR_NO_DEVICE;
    initialized = 1;
    return OK;
}

EXPORT CUresult cuDriverGetVersion(int *v)
{
    *v = 13000;
    return OK;
}

EXPORT CUresult cuGetErrorString(CUresult e, const char **s)
{
    switch (e) {
    case OK: *s = "no error"; break;
    case ERR_INVALID_VALUE: *s = "invalid argument"; break;
    case ERR_OUT_OF_MEMORY: *s = "out of memory"; break;
    case ERR_NO_DEVICE: *s = "no CUDA-capable device is detected"; break;
    case ERR_INVALID_IMAGE: *s = "device kernel image is invalid"; break;
    case ERR_NO_BINARY_FOR_GPU: *s = "no kernel image is available for execution on the device"; break;
    case ERR_NOT_FOUND: *s = "named symbol not found"; break;
    default: *s = NULL; return ERR_INVALID_VALUE;
    }
    return OK;
}

EXPORT CUresult cuDeviceGetCount(int *n)
{
    *n = initialized ? 1 : 0;
    return initialized ? OK : ERR_NOT_INITIALIZED;
}

EXPORT CUresult cuDeviceGet(int *dev, int ordinal)
{
    if (ordinal != 0)
        return ERR_INVALID_DEVICE;
    *dev = 0;
    return OK;
}

EXPORT CUresult cuDeviceGetName(char *name, int len, int dev)
{
    (void)dev;
    const char *n = getenv("FAKE_CUDA_NAME");
    snprintf(name, (size_t)len, "%s", n && *n ? n : "Fake GPU");
    return OK;
}

EXPORT CUresult cuDeviceGetAttribute(int *v, int attr, int dev)
{
    (void)dev;
    switch (attr) {
    case 75: *v = device_cc() / 10; break;
    case 76: *v = device_cc() % 10; break;
    case 8: *v = 48 * 1024; break;
    case 97: *v = (int)env_long("FAKE_CUDA_SMEM_OPTIN", 227 * 1024); break;
    case 81: *v = 228 * 1024; break;
    case 14: *v = 512; break;
    case 16: *v = 132; break;
    case 18: *v = 0; break;
    case 37: *v = 5120; break;
    case 38: *v = 50 * 1024 * 1024; break;
    default: *v = 0; break;
    }
    return OK;
}

EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, int dev)
{
    (void)dev;
    *bytes = (size_t)80 << 30;
    return OK;
}

EXPORT CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev)
{
    (void)dev;
    *ctx = &primary_ctx_token;
    return OK;
}

EXPORT CUresult cuDevicePrimaryCtxRelease_v2(int dev)
{
    (void)dev;
    return OK;
}

EXPORT CUresult cuCtxGetCurrent(void **ctx)
{
    *ctx = current_ctx;
    return OK;
}

EXPORT CUresult cuCtxSetCurrent(void *ctx)
{
    current_ctx = ctx;
    return OK;
}

EXPORT CUresult cuCtxPushCurrent_v2(void *ctx)
{
    current_ctx = ctx;
    return OK;
}

EXPORT CUresult cuCtxPopCurrent_v2(void **ctx)
{
    if (ctx)
        *ctx = current_ctx;
    current_ctx = NULL;
    return OK;
}

/* Every call that needs a context checks there is a current one, as the driver does. */
#define NEED_CTX()                      \
    do {                                \
        if (current_ctx != &primary_ctx_token) \
            return 201; /* CUDA_ERROR_INVALID_CONTEXT */ \
    } while (0)

EXPORT CUresult cuCtxSynchronize(void)
{
    NEED_CTX();
    return OK;
}

EXPORT CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total)
{
    NEED_CTX();
    *free_bytes = (size_t)env_long("FAKE_CUDA_FREE", 1L << 34);
    *total = (size_t)80 << 30;
    return OK;
}

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes)
{
    NEED_CTX();
    if (!bytes)
        return ERR_INVALID_VALUE;
    void *m = aligned_alloc(256, (bytes + 255) & ~(size_t)255);
    if (!m)
        return ERR_OUT_OF_MEMORY;
    memset(m, 0xA5, bytes); /* device memory is not zeroed */
    *p = (CUdeviceptr)(uintptr_t)m;
    logf_line("alloc 0x%llx %zu", *p, bytes);
    return OK;
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr p)
{
    NEED_CTX();
    logf_line("free 0x%llx", p);
    free((void *)(uintptr_t)p);
    return OK;
}

EXPORT CUresult cuMemAllocHost_v2(void **p, size_t bytes)
{
    NEED_CTX();
    if (!bytes)
        return ERR_INVALID_VALUE;
    *p = aligned_alloc(256, (bytes + 255) & ~(size_t)255);
    if (!*p)
        return ERR_OUT_OF_MEMORY;
    memset(*p, 0x5A, bytes); /* not zeroed either */
    logf_line("allochost %zu", bytes);
    return OK;
}

EXPORT CUresult cuMemFreeHost(void *p)
{
    NEED_CTX();
    logf_line("freehost");
    free(p);
    return OK;
}

EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n)
{
    NEED_CTX();
    memcpy((void *)(uintptr_t)dst, src, n);
    logf_line("htod 0x%llx %zu", dst, n);
    return OK;
}

EXPORT CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n)
{
    NEED_CTX();
    memcpy(dst, (const void *)(uintptr_t)src, n);
    return OK;
}

EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, void *s)
{
    (void)s;
    return cuMemcpyHtoD_v2(dst, src, n);
}

EXPORT CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, void *s)
{
    NEED_CTX();
    (void)s;
    memcpy(dst, (const void *)(uintptr_t)src, n);
    return OK;
}

EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void *s)
{
    NEED_CTX();
    memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
    logf_line("copy 0x%llx 0x%llx %zu stream %p", dst, src, n, s);
    return OK;
}

EXPORT CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char v, size_t n, void *s)
{
    NEED_CTX();
    memset((void *)(uintptr_t)dst, v, n);
    logf_line("memset 0x%llx %u %zu stream %p", dst, v, n, s);
    return OK;
}

EXPORT CUresult cuModuleLoadData(fake_module **out, const void *image)
{
    NEED_CTX();
    const char *text = image;
    char kind[16] = "";
    int arch = 0;
    char suffix = 0;
    if (strncmp(text, "FAKE ", 5) != 0)
        return ERR_INVALID_IMAGE;
    if (sscanf(text + 5, "sm_%d%c", &arch, &suffix) >= 1)
        strcpy(kind, "sm");
    else if (sscanf(text + 5, "compute_%d%c", &arch, &suffix) >= 1)
        strcpy(kind, "compute");
    else
        return ERR_INVALID_IMAGE;
    int specific = suffix == 'a';
    int cc = device_cc();
    int ok = specific               ? cc == arch
             : strcmp(kind, "sm") == 0 ? cc / 10 == arch / 10 && cc >= arch
                                       : cc >= arch;
    logf_line("load %s_%d%s %s", kind, arch, specific ? "a" : "", ok ? "ok" : "no-binary");
    if (!ok)
        return ERR_NO_BINARY_FOR_GPU;
    fake_module *m = calloc(1, sizeof *m);
    if (!m)
        return ERR_OUT_OF_MEMORY;
    const char *line = strchr(text, '\n');
    while (line && line[1] && m->nfuncs < MAX_FUNCS) {
        line++;
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (n && n < sizeof m->funcs[0].name) {
            memcpy(m->funcs[m->nfuncs].name, line, n);
            m->nfuncs++;
        }
        line = end;
    }
    *out = m;
    return OK;
}

EXPORT CUresult cuModuleUnload(fake_module *m)
{
    NEED_CTX();
    logf_line("unload");
    free(m);
    return OK;
}

EXPORT CUresult cuModuleGetFunction(fake_func **fn, fake_module *m, const char *name)
{
    NEED_CTX();
    for (int i = 0; i < m->nfuncs; i++)
        if (strcmp(m->funcs[i].name, name) == 0) {
            *fn = &m->funcs[i];
            return OK;
        }
    return ERR_NOT_FOUND;
}

EXPORT CUresult cuFuncSetAttribute(fake_func *fn, int attr, int value)
{
    NEED_CTX();
    if (attr != 8)
        return ERR_INVALID_VALUE;
    fn->max_dynamic_smem = value;
    logf_line("setattr %s %d", fn->name, value);
    return OK;
}

EXPORT CUresult cuLaunchKernel(fake_func *fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                               unsigned by, unsigned bz, unsigned smem, void *stream,
                               void **params, void **extra)
{
    NEED_CTX();
    if (params)
        return ERR_INVALID_VALUE; /* the lean runtime passes one parameter buffer */
    const unsigned char *buf = NULL;
    size_t size = 0;
    for (int i = 0; extra && extra[i]; i += 2) {
        if (extra[i] == (void *)1)
            buf = extra[i + 1];
        else if (extra[i] == (void *)2)
            size = *(size_t *)extra[i + 1];
        else
            return ERR_INVALID_VALUE;
    }
    if (smem > 48 * 1024 && (int)smem > fn->max_dynamic_smem)
        return ERR_INVALID_VALUE;
    if ((unsigned long long)bx * by * bz > 1024)
        return ERR_INVALID_VALUE;
    char *hex = malloc(size * 2 + 1);
    if (!hex)
        return ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < size; i++)
        sprintf(hex + 2 * i, "%02x", buf[i]);
    hex[2 * size] = '\0';
    logf_line("launch %s grid %u %u %u block %u %u %u smem %u stream %p params %s", fn->name, gx,
              gy, gz, bx, by, bz, smem, stream, hex);
    free(hex);
    return OK;
}

EXPORT CUresult cuStreamCreate(void **s, unsigned flags)
{
    (void)flags;
    static int streams;
    *s = &streams;
    return OK;
}

EXPORT CUresult cuStreamDestroy_v2(void *s)
{
    (void)s;
    return OK;
}

EXPORT CUresult cuStreamSynchronize(void *s)
{
    NEED_CTX();
    logf_line("sync %p", s);
    return OK;
}

EXPORT CUresult cuEventCreate(void **e, unsigned flags)
{
    (void)flags;
    static int events;
    *e = &events;
    return OK;
}

EXPORT CUresult cuEventDestroy_v2(void *e)
{
    (void)e;
    return OK;
}

EXPORT CUresult cuEventRecord(void *e, void *s)
{
    (void)e, (void)s;
    return OK;
}

EXPORT CUresult cuEventSynchronize(void *e)
{
    (void)e;
    return OK;
}

EXPORT CUresult cuEventElapsedTime(float *ms, void *a, void *b)
{
    (void)a, (void)b;
    *ms = 0;
    return OK;
}
