/* fake_cublaslt.c: a test-only libcublasLt.so.13 over host memory: descriptors hold what they
 * are given, the heuristic answers one algorithm (data[0] = 42, workspace the smaller of the
 * preference's limit and 4096; none when $FAKE_CUBLASLT_NO_ALGO is set), and cublasLtMatmul
 * computes D = alpha op(A) op(B) + beta C in float (CUDA_R_32F only). Calls are logged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_log.h"

enum { OK = 0, INVALID_VALUE = 7, NOT_SUPPORTED = 15 };

typedef struct desc {
    int compute, scale, transa, transb;
} desc;

typedef struct layout {
    int type;
    uint64_t rows, cols;
    int64_t ld, stride;
    int32_t batch;
} layout;

typedef struct pref {
    uint64_t max_ws;
} pref;

typedef struct algo {
    uint64_t data[8];
} algo;

typedef struct heuristic {
    algo a;
    size_t workspace;
    int state;
    float waves;
    int reserved[4];
} heuristic;

EXPORT int cublasLtCreate(void **h)
{
    *h = malloc(1);
    fake_log("cublasLtCreate %p", *h);
    return OK;
}

EXPORT int cublasLtDestroy(void *h)
{
    fake_log("cublasLtDestroy %p", h);
    free(h);
    return OK;
}

EXPORT const char *cublasLtGetStatusString(int s)
{
    return s == OK ? "CUBLAS_STATUS_SUCCESS" : "CUBLAS_STATUS_NOT_SUPPORTED";
}

EXPORT int cublasLtMatmulDescCreate(desc **d, int compute, int scale)
{
    *d = calloc(1, sizeof **d);
    (*d)->compute = compute;
    (*d)->scale = scale;
    return OK;
}

EXPORT int cublasLtMatmulDescDestroy(desc *d)
{
    free(d);
    return OK;
}

EXPORT int cublasLtMatmulDescSetAttribute(desc *d, int attr, const void *buf, size_t size)
{
    if (size != 4)
        return INVALID_VALUE;
    if (attr == 3)
        memcpy(&d->transa, buf, 4);
    else if (attr == 4)
        memcpy(&d->transb, buf, 4);
    return OK;
}

EXPORT int cublasLtMatrixLayoutCreate(layout **l, int type, uint64_t rows, uint64_t cols,
                                      int64_t ld)
{
    *l = calloc(1, sizeof **l);
    (*l)->type = type;
    (*l)->rows = rows;
    (*l)->cols = cols;
    (*l)->ld = ld;
    (*l)->batch = 1;
    return OK;
}

EXPORT int cublasLtMatrixLayoutDestroy(layout *l)
{
    free(l);
    return OK;
}

EXPORT int cublasLtMatrixLayoutSetAttribute(layout *l, int attr, const void *buf, size_t size)
{
    if (attr == 5 && size == 4)
        memcpy(&l->batch, buf, 4);
    else if (attr == 6 && size == 8)
        memcpy(&l->stride, buf, 8);
    else
        return INVALID_VALUE;
    return OK;
}

EXPORT int cublasLtMatmulPreferenceCreate(pref **p)
{
    *p = calloc(1, sizeof **p);
    return OK;
}

EXPORT int cublasLtMatmulPreferenceDestroy(pref *p)
{
    free(p);
    return OK;
}

EXPORT int cublasLtMatmulPreferenceSetAttribute(pref *p, int attr, const void *buf, size_t size)
{
    if (attr != 1 || size != 8)
        return INVALID_VALUE;
    memcpy(&p->max_ws, buf, 8);
    return OK;
}

EXPORT int cublasLtMatmulAlgoGetHeuristic(void *h, desc *d, layout *a, layout *b, layout *c,
                                          layout *dd, pref *p, int requested, heuristic *out,
                                          int *returned)
{
    (void)h;
    fake_log("cublasLtMatmulAlgoGetHeuristic compute %d scale %d transa %d transb %d A %llux%llu "
             "ld %lld B %llux%llu ld %lld C %llux%llu ld %lld batch %d strides %lld %lld %lld "
             "D same %d max_ws %llu requested %d",
             d->compute, d->scale, d->transa, d->transb, (unsigned long long)a->rows,
             (unsigned long long)a->cols, (long long)a->ld, (unsigned long long)b->rows,
             (unsigned long long)b->cols, (long long)b->ld, (unsigned long long)c->rows,
             (unsigned long long)c->cols, (long long)c->ld, c->batch, (long long)a->stride,
             (long long)b->stride, (long long)c->stride, c == dd, (unsigned long long)p->max_ws,
             requested);
    *returned = 0;
    if (getenv("FAKE_CUBLASLT_NO_ALGO"))
        return OK;
    memset(out, 0, sizeof *out);
    out->a.data[0] = 42;
    out->workspace = p->max_ws < 4096 ? p->max_ws : 4096;
    *returned = 1;
    return OK;
}

static float at(const float *m, int trans, int64_t ld, int64_t i, int64_t j)
{
    return trans ? m[j + i * ld] : m[i + j * ld];
}

EXPORT int cublasLtMatmul(void *h, desc *d, const void *alpha, const void *A, layout *la,
                          const void *B, layout *lb, const void *beta, const void *C, layout *lc,
                          void *D, layout *ld, const algo *al, void *ws, size_t ws_size,
                          void *stream)
{
    (void)h;
    fake_log("cublasLtMatmul A %p B %p C %p D %p algo %llu workspace %p %zu stream %p alpha %g "
             "beta %g",
             A, B, C, D, (unsigned long long)al->data[0], ws, ws_size, stream,
             *(const float *)alpha, *(const float *)beta);
    if (la->type != 0 || lb->type != 0 || lc->type != 0 || ld->type != 0)
        return NOT_SUPPORTED;
    int64_t m = (int64_t)lc->rows, n = (int64_t)lc->cols;
    int64_t k = d->transa ? (int64_t)la->rows : (int64_t)la->cols;
    float a1 = *(const float *)alpha, b1 = *(const float *)beta;
    for (int32_t b = 0; b < lc->batch; b++) {
        const float *pa = (const float *)A + b * la->stride;
        const float *pb = (const float *)B + b * lb->stride;
        const float *pc = (const float *)C + b * lc->stride;
        float *pd = (float *)D + b * ld->stride;
        for (int64_t j = 0; j < n; j++)
            for (int64_t i = 0; i < m; i++) {
                float acc = 0;
                for (int64_t p = 0; p < k; p++)
                    acc += at(pa, d->transa, la->ld, i, p) * at(pb, d->transb, lb->ld, p, j);
                pd[i + j * ld->ld] = a1 * acc + (b1 != 0 ? b1 * pc[i + j * lc->ld] : 0.0f);
            }
    }
    return OK;
}
