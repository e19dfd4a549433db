/* cuda_libs.c: the library-call launches (cuda_libs.h): cuBLAS, cuBLASLt and cuDNN opened
 * once per process when an engine calls them; per context one handle per library and, per
 * launch, the descriptors and the algorithm chosen once at context create (cuBLASLt's
 * heuristic, cuDNN's v7 ranking under the launch's workspace); per enqueue the handle bound
 * to the caller's stream and one call with the patched addresses. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lean/cuda_libs.h"
#include "plan/engine_format.h"

/* ---------------------------------------------------------------- opening */

typedef struct sym {
    const char *name;
    void **slot;
} sym;

typedef struct library {
    const char *what;   /* "cuBLAS" */
    const char *soname; /* "libcublas.so.13" */
    const char *env;    /* the override */
    const char *source; /* the tactic source that needs it */
    pthread_once_t once;
    int ok;
    char error[768];
} library;

static cuda_cublas cublas_fns;
static cuda_cublaslt cublaslt_fns;
static cuda_cudnn cudnn_fns;

static library libs[3] = {
    {"cuBLAS", "libcublas.so.13", "O2P_CUBLAS_LIBRARY", "cublas", PTHREAD_ONCE_INIT, 0, ""},
    {"cuBLASLt", "libcublasLt.so.13", "O2P_CUBLASLT_LIBRARY", "cublaslt", PTHREAD_ONCE_INIT, 0, ""},
    {"cuDNN", "libcudnn.so.9", "O2P_CUDNN_LIBRARY", "cudnn", PTHREAD_ONCE_INIT, 0, ""}};

static void open_library(library *lib, const sym *syms, size_t n)
{
    const char *path = getenv(lib->env);
    if (!path || !*path)
        path = lib->soname;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(lib->error, sizeof lib->error,
                 "the plan's layers call %s (tactic source %s), and %s cannot be loaded (%s); "
                 "install %s (CUDA 13) or add its folder to LD_LIBRARY_PATH, or rebuild the "
                 "plan without --tactic-sources +%s",
                 lib->what, lib->source, path, why ? why : "not found", lib->soname, lib->source);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        *syms[i].slot = dlsym(h, syms[i].name);
        if (!*syms[i].slot) {
            snprintf(lib->error, sizeof lib->error,
                     "the plan's layers call %s (tactic source %s), and %s has no %s: it is "
                     "not the %s this runtime needs; install %s (CUDA 13) or rebuild the plan "
                     "without --tactic-sources +%s",
                     lib->what, lib->source, path, syms[i].name, lib->soname, lib->soname,
                     lib->source);
            dlclose(h);
            return;
        }
    }
    lib->ok = 1; /* kept open for the process: engines come and go */
}

#define SYM(table, field, name)     \
    {                               \
        name, (void **)&table.field \
    }

static void open_cublas(void)
{
    const sym syms[] = {
        SYM(cublas_fns, Create, "cublasCreate_v2"),
        SYM(cublas_fns, Destroy, "cublasDestroy_v2"),
        SYM(cublas_fns, SetStream, "cublasSetStream_v2"),
        SYM(cublas_fns, SetMathMode, "cublasSetMathMode"),
        SYM(cublas_fns, GetStatusString, "cublasGetStatusString"),
        SYM(cublas_fns, GemmStridedBatchedEx, "cublasGemmStridedBatchedEx"),
    };
    open_library(&libs[0], syms, sizeof syms / sizeof syms[0]);
}

static void open_cublaslt(void)
{
    const sym syms[] = {
        SYM(cublaslt_fns, Create, "cublasLtCreate"),
        SYM(cublaslt_fns, Destroy, "cublasLtDestroy"),
        SYM(cublaslt_fns, GetStatusString, "cublasLtGetStatusString"),
        SYM(cublaslt_fns, MatmulDescCreate, "cublasLtMatmulDescCreate"),
        SYM(cublaslt_fns, MatmulDescDestroy, "cublasLtMatmulDescDestroy"),
        SYM(cublaslt_fns, MatmulDescSetAttribute, "cublasLtMatmulDescSetAttribute"),
        SYM(cublaslt_fns, MatrixLayoutCreate, "cublasLtMatrixLayoutCreate"),
        SYM(cublaslt_fns, MatrixLayoutDestroy, "cublasLtMatrixLayoutDestroy"),
        SYM(cublaslt_fns, MatrixLayoutSetAttribute, "cublasLtMatrixLayoutSetAttribute"),
        SYM(cublaslt_fns, MatmulPreferenceCreate, "cublasLtMatmulPreferenceCreate"),
        SYM(cublaslt_fns, MatmulPreferenceDestroy, "cublasLtMatmulPreferenceDestroy"),
        SYM(cublaslt_fns, MatmulPreferenceSetAttribute, "cublasLtMatmulPreferenceSetAttribute"),
        SYM(cublaslt_fns, MatmulAlgoGetHeuristic, "cublasLtMatmulAlgoGetHeuristic"),
        SYM(cublaslt_fns, Matmul, "cublasLtMatmul"),
    };
    open_library(&libs[1], syms, sizeof syms / sizeof syms[0]);
}

static void open_cudnn(void)
{
    const sym syms[] = {
        SYM(cudnn_fns, Create, "cudnnCreate"),
        SYM(cudnn_fns, Destroy, "cudnnDestroy"),
        SYM(cudnn_fns, SetStream, "cudnnSetStream"),
        SYM(cudnn_fns, GetErrorString, "cudnnGetErrorString"),
        SYM(cudnn_fns, CreateTensorDescriptor, "cudnnCreateTensorDescriptor"),
        SYM(cudnn_fns, SetTensorNdDescriptor, "cudnnSetTensorNdDescriptor"),
        SYM(cudnn_fns, DestroyTensorDescriptor, "cudnnDestroyTensorDescriptor"),
        SYM(cudnn_fns, CreateFilterDescriptor, "cudnnCreateFilterDescriptor"),
        SYM(cudnn_fns, SetFilterNdDescriptor, "cudnnSetFilterNdDescriptor"),
        SYM(cudnn_fns, DestroyFilterDescriptor, "cudnnDestroyFilterDescriptor"),
        SYM(cudnn_fns, CreateConvolutionDescriptor, "cudnnCreateConvolutionDescriptor"),
        SYM(cudnn_fns, SetConvolutionNdDescriptor, "cudnnSetConvolutionNdDescriptor"),
        SYM(cudnn_fns, SetConvolutionGroupCount, "cudnnSetConvolutionGroupCount"),
        SYM(cudnn_fns, SetConvolutionMathType, "cudnnSetConvolutionMathType"),
        SYM(cudnn_fns, DestroyConvolutionDescriptor, "cudnnDestroyConvolutionDescriptor"),
        SYM(cudnn_fns, GetConvolutionForwardAlgorithm_v7, "cudnnGetConvolutionForwardAlgorithm_v7"),
        SYM(cudnn_fns, ConvolutionForward, "cudnnConvolutionForward"),
    };
    open_library(&libs[2], syms, sizeof syms / sizeof syms[0]);
}

o2p_status cuda_libs_open(uint32_t needed, const char *prefix, const cuda_cublas **cublas,
                          const cuda_cublaslt **cublaslt, const cuda_cudnn **cudnn)
{
    *cublas = NULL;
    *cublaslt = NULL;
    *cudnn = NULL;
    static const uint32_t bits[3] = {LEAN_LIB_CUBLAS, LEAN_LIB_CUBLASLT, LEAN_LIB_CUDNN};
    void (*const openers[3])(void) = {open_cublas, open_cublaslt, open_cudnn};
    for (int i = 0; i < 3; i++) {
        if (!(needed & bits[i]))
            continue;
        pthread_once(&libs[i].once, openers[i]);
        if (!libs[i].ok)
            return o2p_fail(O2P_ERR_UNSUPPORTED, "%slibraries: %s", prefix, libs[i].error);
    }
    if (needed & LEAN_LIB_CUBLAS)
        *cublas = &cublas_fns;
    if (needed & LEAN_LIB_CUBLASLT)
        *cublaslt = &cublaslt_fns;
    if (needed & LEAN_LIB_CUDNN)
        *cudnn = &cudnn_fns;
    return O2P_OK;
}

/* ---------------------------------------------------------------- records */

static uint64_t rd_u64(const uint8_t *p, uint32_t at)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[at + (uint32_t)i] << (8 * i);
    return v;
}

static uint32_t rd_u32(const uint8_t *p, uint32_t at)
{
    return (uint32_t)p[at] | (uint32_t)p[at + 1] << 8 | (uint32_t)p[at + 2] << 16 |
           (uint32_t)p[at + 3] << 24;
}

static int rd_i32(const uint8_t *p, uint32_t at)
{
    return (int)(int32_t)rd_u32(p, at);
}

static float rd_f32(const uint8_t *p, uint32_t at)
{
    uint32_t u = rd_u32(p, at);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int cuda_type(uint32_t dtype)
{
    return dtype == O2P_DTYPE_FLOAT16    ? CUDA_R_16F
           : dtype == O2P_DTYPE_BFLOAT16 ? CUDA_R_16BF
                                         : CUDA_R_32F;
}

/* ---------------------------------------------------------------- contexts */

typedef struct lib_launch {
    uint32_t kind; /* ENGINE_LAUNCH_*; 0 for launches that are not library calls */
    /* cuBLASLt */
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulAlgo_t algo;
    /* cuDNN */
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    int conv_algo;
} lib_launch;

struct cuda_libs_context {
    const lean_engine *e;
    const cuda_cublas *cublas;
    const cuda_cublaslt *cublaslt;
    const cuda_cudnn *cudnn;
    cublasHandle_t blas;
    cublasLtHandle_t lt;
    cudnnHandle_t dnn;
    lib_launch *launches; /* per launch of the engine (lean_launch.index) */
};

static const char *blas_text(const cuda_libs_context *c, int lt, cublasStatus_t s, char *buf,
                             size_t size)
{
    const char *t = lt ? c->cublaslt->GetStatusString(s) : c->cublas->GetStatusString(s);
    snprintf(buf, size, "%s (%d)", t ? t : "unknown status", s);
    return buf;
}

static const char *dnn_text(const cuda_libs_context *c, cudnnStatus_t s, char *buf, size_t size)
{
    const char *t = c->cudnn->GetErrorString(s);
    snprintf(buf, size, "%s (%d)", t ? t : "unknown status", s);
    return buf;
}

static o2p_status launch_fail(const cuda_libs_context *c, int li, int k, const char *call,
                              const char *why, int out_of_memory)
{
    const lean_layer *l = &c->e->layers[li];
    return o2p_fail(out_of_memory ? O2P_ERR_OUT_OF_MEMORY : O2P_ERR_INTERNAL,
                    "%s: layer %d '%.200s' (%.100s), launch %d (%s, tactic %.100s): %s: %s",
                    c->e->what, li, l->name, l->op_type, k,
                    l->launches[k].kind == ENGINE_LAUNCH_CUDNN_CONV    ? "cuDNN"
                    : l->launches[k].kind == ENGINE_LAUNCH_CUBLAS_GEMM ? "cuBLAS"
                                                                       : "cuBLASLt",
                    l->tactic_kernel, call, why);
}

#define BLAS_TRY(lt, call, expr)                                                    \
    do {                                                                            \
        cublasStatus_t s_ = (expr);                                                 \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                          \
            char t_[160];                                                           \
            return launch_fail(c, li, k, call, blas_text(c, lt, s_, t_, sizeof t_), \
                               s_ == CUBLAS_STATUS_ALLOC_FAILED);                   \
        }                                                                           \
    } while (0)

#define DNN_TRY(call, expr)                                                        \
    do {                                                                           \
        cudnnStatus_t s_ = (expr);                                                 \
        if (s_ != CUDNN_STATUS_SUCCESS) {                                          \
            char t_[160];                                                          \
            return launch_fail(c, li, k, call, dnn_text(c, s_, t_, sizeof t_), 0); \
        }                                                                          \
    } while (0)

/* cuBLASLt: the layouts of the record (column-major, batched), and the heuristic's best
 * algorithm within the launch's workspace. */
static o2p_status prepare_lt(cuda_libs_context *c, int li, int k, const uint8_t *p, lib_launch *x)
{
    const cuda_cublaslt *f = c->cublaslt;
    int m = rd_i32(p, ENGINE_BG_M), n = rd_i32(p, ENGINE_BG_N), kk = rd_i32(p, ENGINE_BG_K);
    int ta = (int)rd_u32(p, ENGINE_BG_TRANS_A), tb = (int)rd_u32(p, ENGINE_BG_TRANS_B);
    int32_t batch = rd_i32(p, ENGINE_BG_BATCH);
    int type = cuda_type(rd_u32(p, ENGINE_BG_DTYPE));
    int compute = rd_u32(p, ENGINE_BG_COMPUTE) == ENGINE_BLAS_COMPUTE_TF32
                      ? CUBLAS_COMPUTE_32F_FAST_TF32
                      : CUBLAS_COMPUTE_32F;
    uint64_t ws = rd_u64(p, ENGINE_BG_WS_BYTES);
    BLAS_TRY(1, "cublasLtMatmulDescCreate", f->MatmulDescCreate(&x->desc, compute, CUDA_R_32F));
    int32_t ops[2] = {ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N};
    BLAS_TRY(1, "cublasLtMatmulDescSetAttribute",
             f->MatmulDescSetAttribute(x->desc, CUBLASLT_MATMUL_DESC_TRANSA, &ops[0], 4));
    BLAS_TRY(1, "cublasLtMatmulDescSetAttribute",
             f->MatmulDescSetAttribute(x->desc, CUBLASLT_MATMUL_DESC_TRANSB, &ops[1], 4));
    /* stored shapes: A m x k (k x m transposed), B k x n (n x k), C m x n */
    uint64_t rows[3] = {(uint64_t)(ta ? kk : m), (uint64_t)(tb ? n : kk), (uint64_t)m};
    uint64_t cols[3] = {(uint64_t)(ta ? m : kk), (uint64_t)(tb ? kk : n), (uint64_t)n};
    int64_t ld[3] = {rd_i32(p, ENGINE_BG_LDA), rd_i32(p, ENGINE_BG_LDB), rd_i32(p, ENGINE_BG_LDC)};
    int64_t stride[3] = {(int64_t)rd_u64(p, ENGINE_BG_STRIDE_A),
                         (int64_t)rd_u64(p, ENGINE_BG_STRIDE_B),
                         (int64_t)rd_u64(p, ENGINE_BG_STRIDE_C)};
    cublasLtMatrixLayout_t *layouts[3] = {&x->la, &x->lb, &x->lc};
    for (int i = 0; i < 3; i++) {
        BLAS_TRY(1, "cublasLtMatrixLayoutCreate",
                 f->MatrixLayoutCreate(layouts[i], type, rows[i], cols[i], ld[i]));
        if (batch > 1) {
            BLAS_TRY(1, "cublasLtMatrixLayoutSetAttribute",
                     f->MatrixLayoutSetAttribute(*layouts[i], CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                                 &batch, sizeof batch));
            BLAS_TRY(1, "cublasLtMatrixLayoutSetAttribute",
                     f->MatrixLayoutSetAttribute(*layouts[i],
                                                 CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                 &stride[i], sizeof stride[i]));
        }
    }
    cublasLtMatmulPreference_t pref = NULL;
    BLAS_TRY(1, "cublasLtMatmulPreferenceCreate", f->MatmulPreferenceCreate(&pref));
    cublasLtMatmulHeuristicResult_t result;
    memset(&result, 0, sizeof result);
    int returned = 0;
    cublasStatus_t s = f->MatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = f->MatmulAlgoGetHeuristic(c->lt, x->desc, x->la, x->lb, x->lc, x->lc, pref, 1, &result,
                                      &returned);
    f->MatmulPreferenceDestroy(pref);
    BLAS_TRY(1, "cublasLtMatmulAlgoGetHeuristic", s);
    if (returned < 1 || result.state != CUBLAS_STATUS_SUCCESS) {
        char why[200];
        snprintf(why, sizeof why,
                 "no algorithm for this matmul within %llu bytes of workspace "
                 "on this GPU; rebuild the plan without --tactic-sources +cublaslt",
                 (unsigned long long)ws);
        return launch_fail(c, li, k, "cublasLtMatmulAlgoGetHeuristic", why, 0);
    }
    x->algo = result.algo;
    return O2P_OK;
}

/* cuDNN: NCHW descriptors of the record, and the best algorithm of the v7 ranking that fits
 * in the launch's workspace. */
static o2p_status prepare_conv(cuda_libs_context *c, int li, int k, const uint8_t *p, lib_launch *x)
{
    const cuda_cudnn *f = c->cudnn;
    int n = rd_i32(p, ENGINE_DC_N), ch = rd_i32(p, ENGINE_DC_C), h = rd_i32(p, ENGINE_DC_H),
        w = rd_i32(p, ENGINE_DC_WD), kk = rd_i32(p, ENGINE_DC_K), r = rd_i32(p, ENGINE_DC_R),
        s = rd_i32(p, ENGINE_DC_S), pp = rd_i32(p, ENGINE_DC_P), q = rd_i32(p, ENGINE_DC_Q);
    int groups = rd_i32(p, ENGINE_DC_GROUPS);
    uint32_t dtype = rd_u32(p, ENGINE_DC_DTYPE);
    int type = dtype == O2P_DTYPE_FLOAT16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    int math = dtype == O2P_DTYPE_FLOAT16 ? CUDNN_TENSOR_OP_MATH
               : rd_u32(p, ENGINE_DC_COMPUTE) == ENGINE_BLAS_COMPUTE_TF32
                   ? CUDNN_DEFAULT_MATH /* tf32 tensor cores allowed */
                   : CUDNN_FMA_MATH;    /* exact fp32 */
    uint64_t ws = rd_u64(p, ENGINE_DC_WS_BYTES);
    int xd[4] = {n, ch, h, w}, xs[4] = {ch * h * w, h * w, w, 1};
    int yd[4] = {n, kk, pp, q}, ys[4] = {kk * pp * q, pp * q, q, 1};
    int wd[4] = {kk, ch / groups, r, s};
    int pads[2] = {rd_i32(p, ENGINE_DC_PAD_H), rd_i32(p, ENGINE_DC_PAD_W)};
    int strides[2] = {rd_i32(p, ENGINE_DC_STRIDE_H), rd_i32(p, ENGINE_DC_STRIDE_W)};
    int dil[2] = {rd_i32(p, ENGINE_DC_DIL_H), rd_i32(p, ENGINE_DC_DIL_W)};
    DNN_TRY("cudnnCreateTensorDescriptor", f->CreateTensorDescriptor(&x->x));
    DNN_TRY("cudnnCreateTensorDescriptor", f->CreateTensorDescriptor(&x->y));
    DNN_TRY("cudnnCreateFilterDescriptor", f->CreateFilterDescriptor(&x->w));
    DNN_TRY("cudnnCreateConvolutionDescriptor", f->CreateConvolutionDescriptor(&x->conv));
    DNN_TRY("cudnnSetTensorNdDescriptor", f->SetTensorNdDescriptor(x->x, type, 4, xd, xs));
    DNN_TRY("cudnnSetTensorNdDescriptor", f->SetTensorNdDescriptor(x->y, type, 4, yd, ys));
    DNN_TRY("cudnnSetFilterNdDescriptor",
            f->SetFilterNdDescriptor(x->w, type, CUDNN_TENSOR_NCHW, 4, wd));
    DNN_TRY("cudnnSetConvolutionNdDescriptor",
            f->SetConvolutionNdDescriptor(x->conv, 2, pads, strides, dil, CUDNN_CROSS_CORRELATION,
                                          CUDNN_DATA_FLOAT));
    DNN_TRY("cudnnSetConvolutionGroupCount", f->SetConvolutionGroupCount(x->conv, groups));
    DNN_TRY("cudnnSetConvolutionMathType", f->SetConvolutionMathType(x->conv, math));
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int returned = 0;
    memset(perf, 0, sizeof perf);
    DNN_TRY("cudnnGetConvolutionForwardAlgorithm_v7",
            f->GetConvolutionForwardAlgorithm_v7(c->dnn, x->x, x->w, x->conv, x->y,
                                                 CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned,
                                                 perf));
    if (returned > CUDNN_CONVOLUTION_FWD_ALGO_COUNT)
        returned = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    /* the ranking is best first; FMA math forbids the tensor-op variants, so take the first
     * that runs with the math asked for within the workspace */
    for (int i = 0; i < returned; i++) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > ws)
            continue;
        if (math == CUDNN_FMA_MATH && perf[i].mathType != CUDNN_FMA_MATH &&
            perf[i].mathType != CUDNN_DEFAULT_MATH)
            continue;
        x->conv_algo = perf[i].algo;
        return O2P_OK;
    }
    char why[200];
    snprintf(why, sizeof why,
             "no algorithm for this convolution within %llu bytes of "
             "workspace on this GPU; rebuild the plan without --tactic-sources +cudnn",
             (unsigned long long)ws);
    return launch_fail(c, li, k, "cudnnGetConvolutionForwardAlgorithm_v7", why, 0);
}

void cuda_libs_context_destroy(cuda_libs_context *c)
{
    if (!c)
        return;
    for (int i = 0; c->launches && i < c->e->num_launches; i++) {
        lib_launch *x = &c->launches[i];
        if (c->cublaslt) {
            if (x->la)
                c->cublaslt->MatrixLayoutDestroy(x->la);
            if (x->lb)
                c->cublaslt->MatrixLayoutDestroy(x->lb);
            if (x->lc)
                c->cublaslt->MatrixLayoutDestroy(x->lc);
            if (x->desc)
                c->cublaslt->MatmulDescDestroy(x->desc);
        }
        if (c->cudnn) {
            if (x->x)
                c->cudnn->DestroyTensorDescriptor(x->x);
            if (x->y)
                c->cudnn->DestroyTensorDescriptor(x->y);
            if (x->w)
                c->cudnn->DestroyFilterDescriptor(x->w);
            if (x->conv)
                c->cudnn->DestroyConvolutionDescriptor(x->conv);
        }
    }
    if (c->blas)
        c->cublas->Destroy(c->blas);
    if (c->lt)
        c->cublaslt->Destroy(c->lt);
    if (c->dnn)
        c->cudnn->Destroy(c->dnn);
    free(c->launches);
    free(c);
}

static o2p_status create_handles(cuda_libs_context *c)
{
    const lean_engine *e = c->e;
    char t[160];
    cublasStatus_t s;
    if (c->cublas && (s = c->cublas->Create(&c->blas)) != CUBLAS_STATUS_SUCCESS) {
        c->blas = NULL;
        return o2p_fail(s == CUBLAS_STATUS_ALLOC_FAILED ? O2P_ERR_OUT_OF_MEMORY : O2P_ERR_INTERNAL,
                        "%s: an execution context: cublasCreate_v2: %s", e->what,
                        blas_text(c, 0, s, t, sizeof t));
    }
    /* the compute type of each call says whether tf32 is allowed; the default math mode adds
     * nothing to it */
    if (c->blas &&
        (s = c->cublas->SetMathMode(c->blas, CUBLAS_DEFAULT_MATH)) != CUBLAS_STATUS_SUCCESS)
        return o2p_fail(O2P_ERR_INTERNAL, "%s: an execution context: cublasSetMathMode: %s",
                        e->what, blas_text(c, 0, s, t, sizeof t));
    if (c->cublaslt && (s = c->cublaslt->Create(&c->lt)) != CUBLAS_STATUS_SUCCESS) {
        c->lt = NULL;
        return o2p_fail(s == CUBLAS_STATUS_ALLOC_FAILED ? O2P_ERR_OUT_OF_MEMORY : O2P_ERR_INTERNAL,
                        "%s: an execution context: cublasLtCreate: %s", e->what,
                        blas_text(c, 1, s, t, sizeof t));
    }
    cudnnStatus_t d;
    if (c->cudnn && (d = c->cudnn->Create(&c->dnn)) != CUDNN_STATUS_SUCCESS) {
        c->dnn = NULL;
        return o2p_fail(O2P_ERR_INTERNAL, "%s: an execution context: cudnnCreate: %s", e->what,
                        dnn_text(c, d, t, sizeof t));
    }
    return O2P_OK;
}

o2p_status cuda_libs_context_create(const lean_engine *e, const cuda_cublas *cublas,
                                    const cuda_cublaslt *cublaslt, const cuda_cudnn *cudnn,
                                    cuda_libs_context **out)
{
    *out = NULL;
    cuda_libs_context *c = calloc(1, sizeof *c);
    if (c)
        c->launches = calloc((size_t)e->num_launches + 1, sizeof *c->launches);
    if (!c || !c->launches) {
        free(c);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%s: out of memory for an execution context",
                        e->what);
    }
    c->e = e;
    c->cublas = cublas;
    c->cublaslt = cublaslt;
    c->cudnn = cudnn;
    o2p_status st = create_handles(c);
    for (int li = 0; li < e->num_layers && st == O2P_OK; li++)
        for (int k = 0; k < e->layers[li].num_launches && st == O2P_OK; k++) {
            const lean_launch *lk = &e->layers[li].launches[k];
            lib_launch *x = &c->launches[lk->index];
            if (lk->kind == ENGINE_LAUNCH_CUBLASLT_MATMUL)
                st = prepare_lt(c, li, k, lk->params, x);
            else if (lk->kind == ENGINE_LAUNCH_CUDNN_CONV)
                st = prepare_conv(c, li, k, lk->params, x);
            x->kind = lk->kind;
        }
    if (st != O2P_OK) {
        cuda_libs_context_destroy(c);
        return st;
    }
    *out = c;
    return O2P_OK;
}

/* ---------------------------------------------------------------- enqueue */

o2p_status cuda_libs_enqueue(cuda_libs_context *c, int li, int k, const uint8_t *p, CUstream stream)
{
    const lean_launch *lk = &c->e->layers[li].launches[k];
    const lib_launch *x = &c->launches[lk->index];
    switch (lk->kind) {
    case ENGINE_LAUNCH_CUBLAS_GEMM: {
        const cuda_cublas *f = c->cublas;
        float alpha = rd_f32(p, ENGINE_BG_ALPHA), beta = rd_f32(p, ENGINE_BG_BETA);
        int type = cuda_type(rd_u32(p, ENGINE_BG_DTYPE));
        int compute = rd_u32(p, ENGINE_BG_COMPUTE) == ENGINE_BLAS_COMPUTE_TF32
                          ? CUBLAS_COMPUTE_32F_FAST_TF32
                          : CUBLAS_COMPUTE_32F;
        BLAS_TRY(0, "cublasSetStream_v2", f->SetStream(c->blas, stream));
        BLAS_TRY(0, "cublasGemmStridedBatchedEx",
                 f->GemmStridedBatchedEx(
                     c->blas, rd_u32(p, ENGINE_BG_TRANS_A) ? CUBLAS_OP_T : CUBLAS_OP_N,
                     rd_u32(p, ENGINE_BG_TRANS_B) ? CUBLAS_OP_T : CUBLAS_OP_N,
                     rd_i32(p, ENGINE_BG_M), rd_i32(p, ENGINE_BG_N), rd_i32(p, ENGINE_BG_K), &alpha,
                     (const void *)(uintptr_t)rd_u64(p, ENGINE_BG_A), type,
                     rd_i32(p, ENGINE_BG_LDA), (long long)rd_u64(p, ENGINE_BG_STRIDE_A),
                     (const void *)(uintptr_t)rd_u64(p, ENGINE_BG_B), type,
                     rd_i32(p, ENGINE_BG_LDB), (long long)rd_u64(p, ENGINE_BG_STRIDE_B), &beta,
                     (void *)(uintptr_t)rd_u64(p, ENGINE_BG_C), type, rd_i32(p, ENGINE_BG_LDC),
                     (long long)rd_u64(p, ENGINE_BG_STRIDE_C), rd_i32(p, ENGINE_BG_BATCH), compute,
                     CUBLAS_GEMM_DEFAULT));
        return O2P_OK;
    }
    case ENGINE_LAUNCH_CUBLASLT_MATMUL: {
        float alpha = rd_f32(p, ENGINE_BG_ALPHA), beta = rd_f32(p, ENGINE_BG_BETA);
        void *cptr = (void *)(uintptr_t)rd_u64(p, ENGINE_BG_C);
        BLAS_TRY(1, "cublasLtMatmul",
                 c->cublaslt->Matmul(
                     c->lt, x->desc, &alpha, (const void *)(uintptr_t)rd_u64(p, ENGINE_BG_A), x->la,
                     (const void *)(uintptr_t)rd_u64(p, ENGINE_BG_B), x->lb, &beta, cptr, x->lc,
                     cptr, x->lc, &x->algo, (void *)(uintptr_t)rd_u64(p, ENGINE_BG_WS),
                     (size_t)rd_u64(p, ENGINE_BG_WS_BYTES), stream));
        return O2P_OK;
    }
    default: {
        const cuda_cudnn *f = c->cudnn;
        float alpha = rd_f32(p, ENGINE_DC_ALPHA), beta = rd_f32(p, ENGINE_DC_BETA);
        DNN_TRY("cudnnSetStream", f->SetStream(c->dnn, stream));
        DNN_TRY("cudnnConvolutionForward",
                f->ConvolutionForward(c->dnn, &alpha, x->x,
                                      (const void *)(uintptr_t)rd_u64(p, ENGINE_DC_X), x->w,
                                      (const void *)(uintptr_t)rd_u64(p, ENGINE_DC_W), x->conv,
                                      x->conv_algo, (void *)(uintptr_t)rd_u64(p, ENGINE_DC_WS),
                                      (size_t)rd_u64(p, ENGINE_DC_WS_BYTES), &beta, x->y,
                                      (void *)(uintptr_t)rd_u64(p, ENGINE_DC_Y)));
        return O2P_OK;
    }
    }
}
