/* fake_cudnn.c: a test-only libcudnn.so.9 over host memory: descriptors hold what they are
 * given; the v7 ranking answers algorithm 1 (needing 1 MiB of workspace) before algorithm 0
 * (none); cudnnConvolutionForward computes the grouped NCHW cross-correlation in float
 * (CUDNN_DATA_FLOAT only) and logs its arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_log.h"

enum { OK = 0, BAD_PARAM = 2000, NOT_SUPPORTED = 3000 };

typedef struct tensor {
    int type, nb, dims[8], strides[8];
} tensor;

typedef struct filter {
    int type, format, nb, dims[8];
} filter;

typedef struct conv {
    int len, pads[4], strides[4], dil[4], mode, compute, groups, math;
} conv;

typedef struct perf {
    int algo, status;
    float time;
    size_t memory;
    int determinism, math, reserved[3];
} perf;

typedef struct handle {
    void *stream;
} handle;

EXPORT int cudnnCreate(handle **h)
{
    *h = calloc(1, sizeof **h);
    fake_log("cudnnCreate %p", (void *)*h);
    return OK;
}

EXPORT int cudnnDestroy(handle *h)
{
    fake_log("cudnnDestroy %p", (void *)h);
    free(h);
    return OK;
}

EXPORT int cudnnSetStream(handle *h, void *s)
{
    h->stream = s;
    return OK;
}

EXPORT const char *cudnnGetErrorString(int s)
{
    return s == OK ? "CUDNN_STATUS_SUCCESS" : "CUDNN_STATUS_BAD_PARAM";
}

EXPORT int cudnnCreateTensorDescriptor(tensor **t)
{
    *t = calloc(1, sizeof **t);
    return OK;
}

EXPORT int cudnnSetTensorNdDescriptor(tensor *t, int type, int nb, const int *dims,
                                      const int *strides)
{
    if (nb < 1 || nb > 8)
        return BAD_PARAM;
    t->type = type;
    t->nb = nb;
    memcpy(t->dims, dims, (size_t)nb * sizeof *dims);
    memcpy(t->strides, strides, (size_t)nb * sizeof *strides);
    return OK;
}

EXPORT int cudnnDestroyTensorDescriptor(tensor *t)
{
    free(t);
    return OK;
}

EXPORT int cudnnCreateFilterDescriptor(filter **f)
{
    *f = calloc(1, sizeof **f);
    return OK;
}

EXPORT int cudnnSetFilterNdDescriptor(filter *f, int type, int format, int nb, const int *dims)
{
    if (nb < 1 || nb > 8)
        return BAD_PARAM;
    f->type = type;
    f->format = format;
    f->nb = nb;
    memcpy(f->dims, dims, (size_t)nb * sizeof *dims);
    return OK;
}

EXPORT int cudnnDestroyFilterDescriptor(filter *f)
{
    free(f);
    return OK;
}

EXPORT int cudnnCreateConvolutionDescriptor(conv **c)
{
    *c = calloc(1, sizeof **c);
    (*c)->groups = 1;
    return OK;
}

EXPORT int cudnnSetConvolutionNdDescriptor(conv *c, int len, const int *pads, const int *strides,
                                           const int *dil, int mode, int compute)
{
    if (len < 1 || len > 4)
        return BAD_PARAM;
    c->len = len;
    memcpy(c->pads, pads, (size_t)len * sizeof *pads);
    memcpy(c->strides, strides, (size_t)len * sizeof *strides);
    memcpy(c->dil, dil, (size_t)len * sizeof *dil);
    c->mode = mode;
    c->compute = compute;
    return OK;
}

EXPORT int cudnnSetConvolutionGroupCount(conv *c, int groups)
{
    c->groups = groups;
    return OK;
}

EXPORT int cudnnSetConvolutionMathType(conv *c, int math)
{
    c->math = math;
    return OK;
}

EXPORT int cudnnDestroyConvolutionDescriptor(conv *c)
{
    free(c);
    return OK;
}

EXPORT int cudnnGetConvolutionForwardAlgorithm_v7(handle *h, tensor *x, filter *w, conv *c,
                                                  tensor *y, int requested, int *returned,
                                                  perf *out)
{
    (void)h;
    fake_log("cudnnGetConvolutionForwardAlgorithm_v7 x %dx%dx%dx%d strides %d,%d,%d,%d type %d "
             "w %dx%dx%dx%d format %d y %dx%dx%dx%d pads %d,%d strides %d,%d dil %d,%d mode %d "
             "compute %d groups %d math %d requested %d",
             x->dims[0], x->dims[1], x->dims[2], x->dims[3], x->strides[0], x->strides[1],
             x->strides[2], x->strides[3], x->type, w->dims[0], w->dims[1], w->dims[2], w->dims[3],
             w->format, y->dims[0], y->dims[1], y->dims[2], y->dims[3], c->pads[0], c->pads[1],
             c->strides[0], c->strides[1], c->dil[0], c->dil[1], c->mode, c->compute, c->groups,
             c->math, requested);
    if (requested < 2)
        return BAD_PARAM;
    memset(out, 0, 2 * sizeof *out);
    out[0].algo = 1;
    out[0].memory = 1u << 20;
    out[0].math = c->math;
    out[1].algo = 0;
    out[1].memory = 0;
    out[1].math = c->math;
    *returned = 2;
    return OK;
}

EXPORT int cudnnConvolutionForward(handle *h, const void *alpha, tensor *xd, const void *x,
                                   filter *wd, const void *w, conv *c, int algo, void *ws,
                                   size_t ws_size, const void *beta, tensor *yd, void *y)
{
    fake_log("cudnnConvolutionForward stream %p algo %d x %p w %p y %p workspace %p %zu alpha %g "
             "beta %g",
             h->stream, algo, x, w, y, ws, ws_size, *(const float *)alpha, *(const float *)beta);
    if (xd->type != 0)
        return NOT_SUPPORTED;
    int N = xd->dims[0], C = xd->dims[1], H = xd->dims[2], W = xd->dims[3];
    int K = wd->dims[0], CG = wd->dims[1], R = wd->dims[2], S = wd->dims[3];
    int P = yd->dims[2], Q = yd->dims[3], KG = K / c->groups;
    const float *xf = x, *wf = w;
    float *yf = y, al = *(const float *)alpha, be = *(const float *)beta;
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++)
            for (int p = 0; p < P; p++)
                for (int q = 0; q < Q; q++) {
                    float acc = 0;
                    int g = k / KG;
                    for (int cc = 0; cc < CG; cc++)
                        for (int r = 0; r < R; r++)
                            for (int s = 0; s < S; s++) {
                                int ih = p * c->strides[0] - c->pads[0] + r * c->dil[0];
                                int iw = q * c->strides[1] - c->pads[1] + s * c->dil[1];
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue;
                                acc += xf[((n * C + g * CG + cc) * H + ih) * W + iw] *
                                       wf[((k * CG + cc) * R + r) * S + s];
                            }
                    float *o = &yf[((n * K + k) * P + p) * Q + q];
                    *o = al * acc + (be != 0 ? be * *o : 0.0f);
                }
    return OK;
}
