/* fake_cublas.c: a test-only libcublas.so.13 over host memory (fake_cuda.c's device memory is
 * host memory): the entry points src/lean/cuda_libs.c calls. cublasGemmStridedBatchedEx
 * computes the column-major GEMM in float (CUDA_R_32F only) and logs its arguments. */
#include <stdint.h>
#include <stdlib.h>

#include "fake_log.h"

enum { OK = 0, NOT_INITIALIZED = 1, INVALID_VALUE = 7, NOT_SUPPORTED = 15 };

typedef struct fake_handle {
    void *stream;
    int math;
} fake_handle;

EXPORT int cublasCreate_v2(fake_handle **h)
{
    *h = calloc(1, sizeof **h);
    fake_log("cublasCreate %p", (void *)*h);
    return *h ? OK : 3;
}

EXPORT int cublasDestroy_v2(fake_handle *h)
{
    fake_log("cublasDestroy %p", (void *)h);
    free(h);
    return OK;
}

EXPORT int cublasSetStream_v2(fake_handle *h, void *stream)
{
    h->stream = stream;
    return OK;
}

EXPORT int cublasSetMathMode(fake_handle *h, int mode)
{
    h->math = mode;
    return OK;
}

EXPORT const char *cublasGetStatusString(int s)
{
    return s == OK              ? "CUBLAS_STATUS_SUCCESS"
           : s == NOT_SUPPORTED ? "CUBLAS_STATUS_NOT_SUPPORTED"
                                : "CUBLAS_STATUS_INVALID_VALUE";
}

/* element (i, j) of a column-major matrix, op applied */
static float at(const float *m, int trans, long long ld, long long i, long long j)
{
    return trans ? m[j + i * ld] : m[i + j * ld];
}

EXPORT int cublasGemmStridedBatchedEx(fake_handle *h, int transa, int transb, int m, int n, int k,
                                      const void *alpha, const void *A, int at_, int lda,
                                      long long sa, const void *B, int bt, int ldb, long long sb,
                                      const void *beta, void *C, int ct, int ldc, long long sc,
                                      int batch, int compute, int algo)
{
    fake_log("cublasGemmStridedBatchedEx handle %p stream %p transa %d transb %d m %d n %d k %d "
             "alpha %g A %p type %d lda %d strideA %lld B %p type %d ldb %d strideB %lld beta %g "
             "C %p type %d ldc %d strideC %lld batch %d compute %d algo %d",
             (void *)h, h->stream, transa, transb, m, n, k, *(const float *)alpha, A, at_, lda, sa,
             B, bt, ldb, sb, *(const float *)beta, C, ct, ldc, sc, batch, compute, algo);
    if (at_ != 0 || bt != 0 || ct != 0)
        return NOT_SUPPORTED;
    float al = *(const float *)alpha, be = *(const float *)beta;
    for (int b = 0; b < batch; b++) {
        const float *a = (const float *)A + b * sa, *bb = (const float *)B + b * sb;
        float *c = (float *)C + b * sc;
        for (long long j = 0; j < n; j++)
            for (long long i = 0; i < m; i++) {
                float acc = 0;
                for (long long p = 0; p < k; p++)
                    acc += at(a, transa, lda, i, p) * at(bb, transb, ldb, p, j);
                float *y = &c[i + j * ldc];
                *y = al * acc + (be != 0 ? be * *y : 0.0f);
            }
    }
    return OK;
}
