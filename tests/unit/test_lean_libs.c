/* test_lean_libs.c: cuBLAS, cuBLASLt and cuDNN as tactic sources, without a GPU. A one-layer
 * cuda engine is lowered by the gemm family's library tactics (cublas.gemm_ex,
 * cublaslt.matmul, cudnn.conv_fwd), written by the plan writer and run by the lean runtime
 * through fake libcuda / libcublas / libcublasLt / libcudnn (tests/fakecuda, which compute
 * on host memory and log every call): the results match a reference computed here, the
 * calls carry the right arguments and addresses, the reader refuses library records that
 * would reach outside their tensors, and a missing library is refused naming it. Last, offline
 * builds (sm_90, +cublas +cudnn; through the API and the CLI) whose plan header lists the
 * sources and whose layers show the library tactics. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../testutil.h"
#include "builder/builder.h"
#include "codegen/codegen.h"
#include "lean/lean.h"
#include "lean/lean_abi.h"
#include "plan/engine_format.h"
#include "plan/engine_writer.h"
#include "plan/plan.h"

#define WHAT "libs.plan"

/* ---------------------------------------------------------------- a one-layer engine */

enum { T_X, T_W, T_B, T_Y, NT };

typedef struct fixture {
    ir_tensor t[NT];
    build_tensor bt[NT];
    ir_layer l;
    ir_tensor *lin[3], *lout[1];
    build_layer bl;
    int bin[3], bout[1];
    build_image images[1];
    int inputs[1], outputs[1];
    float weights[2048]; /* W at 0, B at 1024 floats (4096 bytes) */
    build_engine e;
    cg_emit em;
    host_tensor h[NT];
    host_attr attrs[8];
    int num_attrs;
} fixture;

static fixture fx;

#define BIAS_OFFSET 4096u
#define ADD_IMAGE "FAKE sm_90\no2p_elementwise_binary_f32\n"

static void tensor(int i, const char *name, int rank, const int64_t *dims, uint32_t io,
                   uint32_t storage, uint64_t offset)
{
    ir_tensor *t = &fx.t[i];
    t->name = name;
    t->dtype = O2P_DTYPE_FLOAT;
    t->shape.rank = rank;
    uint64_t n = 1;
    for (int d = 0; d < rank; d++) {
        t->shape.dims[d].value = dims[d];
        n *= (uint64_t)dims[d];
    }
    build_tensor *b = &fx.bt[i];
    b->t = t;
    b->name = name;
    b->io = io;
    b->storage = storage;
    b->offset = offset;
    b->nbytes = n * 4;
    host_tensor *h = &fx.h[i];
    h->dtype = O2P_DTYPE_FLOAT;
    h->rank = rank;
    memcpy(h->dims, dims, (size_t)rank * sizeof *dims);
    if (storage == BUILD_STORAGE_WEIGHTS)
        t->data = h->data = (uint8_t *)fx.weights + offset;
}

static void attr_int(const char *name, int64_t v)
{
    fx.attrs[fx.num_attrs++] = (host_attr){.name = name, .type = O2P_ATTR_INT, .i = v};
}

static void attr_ints(const char *name, const int64_t *v, int n)
{
    fx.attrs[fx.num_attrs++] =
        (host_attr){.name = name, .type = O2P_ATTR_INTS, .count = n, .ints = v};
}

/* Lowers the layer (op over x, w and, when bias, b -> y) with the tactic named `kernel` of
 * the gemm family's candidates, and makes the engine of its launches. */
static void lower_with(const char *op, int bias, const char *kernel)
{
    ir_layer *l = &fx.l;
    l->name = "layer";
    l->op_type = op;
    l->domain = "";
    l->num_inputs = bias ? 3 : 2;
    l->inputs = fx.lin;
    l->num_outputs = 1;
    l->outputs = fx.lout;
    fx.lin[0] = &fx.t[T_X];
    fx.lin[1] = &fx.t[T_W];
    fx.lin[2] = bias ? &fx.t[T_B] : NULL;
    fx.lout[0] = &fx.t[T_Y];
    fx.bin[0] = T_X, fx.bin[1] = T_W, fx.bin[2] = bias ? T_B : -1, fx.bout[0] = T_Y;

    const host_tensor *ins[3] = {&fx.h[T_X], &fx.h[T_W], bias ? &fx.h[T_B] : NULL};
    host_tensor *outs[1] = {&fx.h[T_Y]};
    cg_layer cl = {{op, "layer", 17, bias ? 3 : 2, ins, 1, outs, fx.num_attrs, fx.attrs},
                   fx.bin,
                   fx.bout,
                   NULL,
                   NULL};
    cg_options o;
    memset(&o, 0, sizeof o);
    o.min_cc = o.max_cc = 90;
    o.tactic_sources = O2P_TACTIC_SOURCE_BUILTIN | O2P_TACTIC_SOURCE_CUBLAS |
                       O2P_TACTIC_SOURCE_CUBLASLT | O2P_TACTIC_SOURCE_CUDNN;
    const cg_op *cop = cg_op_find(op);
    ck_assert_ptr_nonnull(cop);
    cg_tactic cand[32];
    const char *why = NULL;
    int n = cop->candidates(&cl, &o, cand, 32, &why);
    int pick = -1;
    for (int i = 0; i < n; i++)
        if (strcmp(cand[i].kernel, kernel) == 0)
            pick = i;
    ck_assert_msg(pick >= 0, "no candidate %s for %s (%d candidates)", kernel, op, n);
    cg_emit_init(&fx.em);
    ck_assert_msg(cop->lower(&cl, &cand[pick], &o, &fx.em) == O2P_OK, "%s", o2p_last_error());

    build_layer *b = &fx.bl;
    b->layer = l;
    b->tactic = (build_tactic){.source = cand[pick].source,
                               .family = "cuda",
                               .kernel = kernel,
                               .target = BUILD_TARGET_CUDA};
    b->inputs = fx.bin;
    b->outputs = fx.bout;
    b->num_launches = fx.em.count;
    b->launches = fx.em.launches;
    b->workspace = fx.em.workspace;

    build_engine *e = &fx.e;
    e->target = BUILD_TARGET_CUDA;
    e->num_tensors = NT;
    e->tensors = fx.bt;
    e->num_layers = 1;
    e->layers = &fx.bl;
    e->num_inputs = 1;
    e->inputs = fx.inputs;
    e->num_outputs = 1;
    e->outputs = fx.outputs;
    fx.inputs[0] = T_X;
    fx.outputs[0] = T_Y;
    e->arena_size = 0;
    e->weights_size = sizeof fx.weights;
    e->workspace_size = fx.em.workspace;
    e->opset = 17;
    int kernels = 0;
    for (int i = 0; i < fx.em.count; i++)
        kernels += fx.em.launches[i].kind == CG_LAUNCH_KERNEL;
    fx.images[0] = (build_image){"elementwise", CG_IMAGE_SASS, 90, 0, ADD_IMAGE, strlen(ADD_IMAGE)};
    e->num_images = kernels ? 1 : 0;
    e->images = fx.images;
}

static void fixture_free(void)
{
    cg_emit_free(&fx.em);
}

/* MatMul x [rows, k] (or [batch, rows, k]) by w [k, n]. */
static void matmul_fixture(int batch, int64_t rows, int64_t k, int64_t n)
{
    memset(&fx, 0, sizeof fx);
    int64_t xd[3] = {batch, rows, k}, wd[2] = {k, n}, yd[3] = {batch, rows, n};
    int r = batch ? 3 : 2;
    tensor(T_X, "x", r, batch ? xd : xd + 1, ENGINE_IO_INPUT, BUILD_STORAGE_IO, 0);
    tensor(T_W, "w", 2, wd, 0, BUILD_STORAGE_WEIGHTS, 0);
    tensor(T_B, "b", 1, &n, 0, BUILD_STORAGE_WEIGHTS, BIAS_OFFSET);
    tensor(T_Y, "y", r, batch ? yd : yd + 1, ENGINE_IO_OUTPUT, BUILD_STORAGE_IO, 0);
    for (int i = 0; i < k * n; i++)
        fx.weights[i] = (float)((i * 5) % 7) - 3.0f;
    for (int i = 0; i < n; i++)
        fx.weights[BIAS_OFFSET / 4 + i] = 0.5f * (float)i;
}

/* Conv x [1, 4, 5, 5] by w [6, 2, 3, 3], group 2, pads 1, strides 2 -> y [1, 6, 3, 3]. */
static const int64_t CONV_PADS[4] = {1, 1, 1, 1}, CONV_STRIDES[2] = {2, 2};

static void conv_fixture(void)
{
    memset(&fx, 0, sizeof fx);
    int64_t xd[4] = {1, 4, 5, 5}, wd[4] = {6, 2, 3, 3}, bd[1] = {6}, yd[4] = {1, 6, 3, 3};
    tensor(T_X, "x", 4, xd, ENGINE_IO_INPUT, BUILD_STORAGE_IO, 0);
    tensor(T_W, "w", 4, wd, 0, BUILD_STORAGE_WEIGHTS, 0);
    tensor(T_B, "b", 1, bd, 0, BUILD_STORAGE_WEIGHTS, BIAS_OFFSET);
    tensor(T_Y, "y", 4, yd, ENGINE_IO_OUTPUT, BUILD_STORAGE_IO, 0);
    for (int i = 0; i < 6 * 2 * 9; i++)
        fx.weights[i] = (float)((i * 3) % 5) - 2.0f;
    for (int i = 0; i < 6; i++)
        fx.weights[BIAS_OFFSET / 4 + i] = (float)i;
    attr_int("group", 2);
    attr_ints("pads", CONV_PADS, 4);
    attr_ints("strides", CONV_STRIDES, 2);
}

static o2p_status create(uint32_t flags, lean_engine **e)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    ck_assert_msg(plan_write_engine(&fx.e, &bytes, &size) == O2P_OK, "%s", o2p_last_error());
    o2p_clear_error();
    o2p_status st = lean_engine_create_flags(bytes, size, WHAT, NULL, NULL, NULL, flags, e);
    free(bytes);
    return st;
}

static void fake_libs(const char *log)
{
    setenv("O2P_CUDA_DRIVER_LIBRARY", O2P_FAKE_CUDA_PATH, 1);
    setenv("O2P_CUBLAS_LIBRARY", O2P_FAKE_CUBLAS_PATH, 1);
    setenv("O2P_CUBLASLT_LIBRARY", O2P_FAKE_CUBLASLT_PATH, 1);
    setenv("O2P_CUDNN_LIBRARY", O2P_FAKE_CUDNN_PATH, 1);
    setenv("FAKE_CUDA_CC", "90", 1);
    if (log) {
        unlink(log);
        setenv("FAKE_CUDA_LOG", log, 1);
    }
}

static char *read_log(const char *path)
{
    void *data = NULL;
    size_t size = 0;
    if (o2p_read_file(path, 1 << 24, &data, &size) != O2P_OK)
        return calloc(1, 1);
    char *s = realloc(data, size + 1);
    s[size] = '\0';
    return s;
}

static char *temp_log(char *path)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    return path;
}

/* The weights' device address: the fake's first allocation. */
static unsigned long long weights_address(const char *log)
{
    unsigned long long a = 0;
    size_t n = 0;
    const char *p = strstr(log, "alloc ");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(sscanf(p, "alloc %llx %zu", &a, &n), 2);
    return a;
}

/* Creates the engine and a context, binds x and y, enqueues on stream 0x77 and returns the
 * log; ctx_mem gets the context's device memory. */
static char *run(const char *logpath, float *x, float *y, uint64_t *ctx_mem)
{
    lean_engine *e = NULL;
    ck_assert_msg(create(0, &e) == O2P_OK, "%s", o2p_last_error());
    lean_context *ctx = NULL;
    ck_assert_msg(lean_context_create(e, &ctx) == O2P_OK, "%s", o2p_last_error());
    *ctx_mem = lean_context_device_memory(ctx);
    ck_assert_int_eq(lean_context_set_tensor_address(ctx, "x", x), O2P_OK);
    ck_assert_int_eq(lean_context_set_tensor_address(ctx, "y", y), O2P_OK);
    ck_assert_msg(lean_context_enqueue(ctx, (void *)0x77) == O2P_OK, "%s", o2p_last_error());
    lean_context_destroy(ctx);
    lean_engine_destroy(e);
    return read_log(logpath);
}

static int count_of(const char *log, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(log, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void expect_line(const char *log, const char *line)
{
    ck_assert_msg(tu_contains(log, line), "no '%s' in:\n%s", line, log);
}

/* ---------------------------------------------------------------- execution */

/* Row-major y = x w (+ b): the column-major trick gives cuBLAS m = n, n = rows, A = w. */
START_TEST(test_cublas_gemm)
{
    char logpath[] = "/tmp/test_lean_libs_XXXXXX";
    fake_libs(temp_log(logpath));
    matmul_fixture(0, 2, 3, 4);
    /* Gemm with transB: w is [n, k] = [4, 3] */
    int64_t wd[2] = {4, 3};
    tensor(T_W, "w", 2, wd, 0, BUILD_STORAGE_WEIGHTS, 0);
    attr_int("transB", 1);
    lower_with("Gemm", 1, "cublas.gemm_ex");
    ck_assert_int_eq(fx.em.count, 2); /* the call, then the bias add */
    ck_assert_int_eq(fx.em.launches[0].kind, CG_LAUNCH_CUBLAS_GEMM);
    ck_assert_int_eq(fx.em.launches[1].kind, CG_LAUNCH_KERNEL);
    float x[6] = {1, 2, 3, 4, 5, 6}, y[8];
    for (int i = 0; i < 8; i++)
        y[i] = NAN; /* beta 0: never read */
    uint64_t mem;
    char *log = run(logpath, x, y, &mem);
    unsigned long long w = weights_address(log);
    char line[512];
    snprintf(line, sizeof line,
             "stream 0x77 transa 1 transb 0 m 4 n 2 k 3 alpha 1 A 0x%llx type 0 lda 3 strideA 0 "
             "B %p type 0 ldb 3 strideB 0 beta 0 C %p type 0 ldc 4 strideC 8 batch 1 compute 68 "
             "algo -1",
             w, (void *)x, (void *)y);
    expect_line(log, line);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) {
            float ref = 0;
            for (int p = 0; p < 3; p++)
                ref += x[i * 3 + p] * fx.weights[j * 3 + p];
            ck_assert_msg(fabsf(y[i * 4 + j] - ref) < 1e-5f, "y[%d][%d] = %g, expected %g", i, j,
                          y[i * 4 + j], ref);
        }
    /* the bias: y += b through the elementwise family, in place */
    snprintf(line, sizeof line, "launch o2p_elementwise_binary_f32 ");
    expect_line(log, line);
    ck_assert_int_eq(count_of(log, "cublasCreate "), 1);
    ck_assert_int_eq(count_of(log, "cublasDestroy "), 1);
    free(log);
    fixture_free();
    unlink(logpath);
}
END_TEST

/* A batched MatMul (w shared by the batch: stride 0) through cuBLASLt: layouts, batch, the
 * heuristic once at context create within the launch's workspace, and the workspace address. */
START_TEST(test_cublaslt_matmul)
{
    char logpath[] = "/tmp/test_lean_libs_XXXXXX";
    fake_libs(temp_log(logpath));
    matmul_fixture(2, 3, 4, 5);
    lower_with("MatMul", 0, "cublaslt.matmul");
    ck_assert_int_eq(fx.em.count, 1);
    ck_assert_uint_eq(fx.em.workspace, 32u << 20);
    float x[24], y[30];
    for (int i = 0; i < 24; i++)
        x[i] = (float)(i % 5) - 1.5f;
    uint64_t mem;
    char *log = run(logpath, x, y, &mem);
    unsigned long long w = weights_address(log);
    expect_line(log, "cublasLtMatmulAlgoGetHeuristic compute 68 scale 0 transa 0 transb 0 A 5x4 "
                     "ld 5 B 4x3 ld 4 C 5x3 ld 5 batch 2 strides 0 12 15 D same 1 max_ws 33554432");
    ck_assert_int_eq(count_of(log, "cublasLtMatmulAlgoGetHeuristic"), 1);
    char line[512];
    /* the workspace follows the (empty) arena */
    snprintf(line, sizeof line,
             "cublasLtMatmul A 0x%llx B %p C %p D %p algo 42 workspace 0x%llx "
             "33554432 stream 0x77",
             w, (void *)x, (void *)y, (void *)y, (unsigned long long)mem);
    expect_line(log, line);
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++) {
                float ref = 0;
                for (int p = 0; p < 4; p++)
                    ref += x[b * 12 + i * 4 + p] * fx.weights[p * 5 + j];
                ck_assert_msg(fabsf(y[b * 15 + i * 5 + j] - ref) < 1e-5f, "y[%d][%d][%d]", b, i, j);
            }
    free(log);
    fixture_free();
    unlink(logpath);
}
END_TEST

static void conv_reference(const float *x, float *ref)
{
    for (int k = 0; k < 6; k++)
        for (int p = 0; p < 3; p++)
            for (int q = 0; q < 3; q++) {
                float acc = 0;
                int g = k / 3;
                for (int c = 0; c < 2; c++)
                    for (int r = 0; r < 3; r++)
                        for (int s = 0; s < 3; s++) {
                            int ih = p * 2 - 1 + r, iw = q * 2 - 1 + s;
                            if (ih >= 0 && ih < 5 && iw >= 0 && iw < 5)
                                acc += x[((g * 2 + c) * 5 + ih) * 5 + iw] *
                                       fx.weights[((k * 2 + c) * 3 + r) * 3 + s];
                        }
                ref[(k * 3 + p) * 3 + q] = acc;
            }
}

/* cuDNN: NCHW descriptors, groups, the algorithm the workspace allows, then the bias add. */
START_TEST(test_cudnn_conv)
{
    for (int nows = 0; nows < 2; nows++) {
        char logpath[] = "/tmp/test_lean_libs_XXXXXX";
        fake_libs(temp_log(logpath));
        conv_fixture();
        lower_with("Conv", 1, nows ? "cudnn.conv_fwd_nows" : "cudnn.conv_fwd");
        ck_assert_int_eq(fx.em.count, 2);
        ck_assert_int_eq(fx.em.launches[0].kind, CG_LAUNCH_CUDNN_CONV);
        float x[100], y[54], ref[54];
        for (int i = 0; i < 100; i++)
            x[i] = (float)((i * 7) % 9) - 4.0f;
        uint64_t mem;
        char *log = run(logpath, x, y, &mem);
        unsigned long long w = weights_address(log);
        expect_line(log, "cudnnGetConvolutionForwardAlgorithm_v7 x 1x4x5x5 strides 100,25,5,1 "
                         "type 0 w 6x2x3x3 format 0 y 1x6x3x3 pads 1,1 strides 2,2 dil 1,1 mode 1 "
                         "compute 0 groups 2 math 3");
        char line[512];
        if (nows)
            snprintf(line, sizeof line,
                     "cudnnConvolutionForward stream 0x77 algo 0 x %p w 0x%llx "
                     "y %p workspace (nil) 0 alpha 1 beta 0",
                     (void *)x, w, (void *)y);
        else /* algorithm 1 needs 1 MiB: the launch's workspace has it */
            snprintf(line, sizeof line,
                     "cudnnConvolutionForward stream 0x77 algo 1 x %p w 0x%llx "
                     "y %p workspace 0x%llx 33554432 alpha 1 beta 0",
                     (void *)x, w, (void *)y, (unsigned long long)mem);
        expect_line(log, line);
        conv_reference(x, ref);
        for (int i = 0; i < 54; i++)
            ck_assert_msg(fabsf(y[i] - ref[i]) < 1e-4f, "y[%d] = %g, expected %g", i, y[i], ref[i]);
        expect_line(log, "launch o2p_elementwise_binary_f32 ");
        ck_assert_int_eq(count_of(log, "cudnnCreate "), 1);
        ck_assert_int_eq(count_of(log, "cudnnDestroy "), 1);
        free(log);
        fixture_free();
        unlink(logpath);
    }
}
END_TEST

/* ---------------------------------------------------------------- refusals */

static void refused(const char *needle)
{
    lean_engine *e = (lean_engine *)1;
    o2p_status st = create(LEAN_CREATE_TABLES_ONLY, &e);
    ck_assert_msg(st == O2P_ERR_PARSE, "'%s': got %s: %s", needle, o2p_status_name(st),
                  o2p_last_error());
    ck_assert_ptr_null(e);
    ck_assert_msg(tu_contains(o2p_last_error(), needle), "'%s' not in: %s", needle,
                  o2p_last_error());
}

static cg_blas_gemm_params *blas(void)
{
    return (cg_blas_gemm_params *)fx.em.launches[0].params;
}

static cg_dnn_conv_params *dnn(void)
{
    return (cg_dnn_conv_params *)fx.em.launches[0].params;
}

START_TEST(test_reader_refusals)
{
    setenv("O2P_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1);
#define GEMM(kernel) (fixture_free(), matmul_fixture(0, 2, 3, 4), lower_with("MatMul", 0, kernel))
    GEMM("cublas.gemm_ex");
    lean_engine *e = NULL;
    ck_assert_msg(create(LEAN_CREATE_TABLES_ONLY, &e) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(lean_engine_layer_launch(e, 0, 0)->kind, ENGINE_LAUNCH_CUBLAS_GEMM);
    lean_engine_destroy(e);
    /* one more row of C than y has: cuBLAS would write past y */
    GEMM("cublas.gemm_ex");
    blas()->ldc = 5;
    refused("its C range, 36 bytes at byte 0 of tensor 3 'y' (32 bytes), lies outside it");
    GEMM("cublas.gemm_ex");
    blas()->n = 3; /* B (x) is read first: 3 rows of 3 where x has 2 */
    refused("its B range, 36 bytes at byte 0 of tensor 0 'x' (24 bytes), lies outside it");
    GEMM("cublas.gemm_ex");
    blas()->k = 4, blas()->ldb = 4;
    refused("its A range, 64 bytes at byte 0 of tensor 1 'w' (48 bytes), lies outside it");
    GEMM("cublas.gemm_ex");
    blas()->ldb = 1000;
    refused("its B range");
    GEMM("cublas.gemm_ex");
    blas()->batch = 2, blas()->stride_c = 8;
    refused("its C range, 64 bytes");
    GEMM("cublas.gemm_ex");
    blas()->batch = 2, blas()->stride_c = 4;
    refused("they overlap");
    GEMM("cublas.gemm_ex");
    blas()->stride_a = -1, blas()->batch = 2;
    refused("a negative batch stride");
    GEMM("cublas.gemm_ex");
    blas()->lda = 2;
    refused("below the rows");
    GEMM("cublas.gemm_ex");
    blas()->m = 0;
    refused("each is at least 1");
    GEMM("cublas.gemm_ex");
    blas()->k = 0x40000000, blas()->lda = blas()->ldb = 0x7fffffff, blas()->batch = 0x7fffffff,
    blas()->stride_a = INT64_MAX / 2;
    refused("overflow");
    GEMM("cublas.gemm_ex");
    blas()->dtype = O2P_DTYPE_DOUBLE;
    refused("dtype 11; it takes float, float16 or bfloat16");
    GEMM("cublas.gemm_ex");
    blas()->dtype = O2P_DTYPE_FLOAT16;
    refused("computes in float16, and its A is tensor 1 'w' of float");
    GEMM("cublas.gemm_ex");
    blas()->compute = 2;
    refused("compute type 2");
    GEMM("cublas.gemm_ex");
    blas()->reserved = 1;
    refused("reserved field is not 0");
    GEMM("cublas.gemm_ex");
    blas()->workspace_bytes = 16;
    refused("a CUBLAS_GEMM has 16 workspace bytes");
    GEMM("cublas.gemm_ex");
    fx.em.launches[0].patches[2].tensor = T_W; /* C at the weights */
    refused("a CUBLAS_GEMM writes tensor 1 'w', which is not one of the layer's outputs");
    GEMM("cublas.gemm_ex");
    fx.em.launches[0].patches[0].tensor = T_X; /* A (w, 3x4) at x (2x3): too small */
    refused("its A range");
    GEMM("cublas.gemm_ex");
    fx.em.launches[0].patches[1].param_offset = 24;
    refused("device addresses at other places than 0 (A), 8 (B), 16 (C)");
    GEMM("cublas.gemm_ex");
    fx.em.launches[0].param_size = 112;
    refused("a CUBLAS_GEMM has 112 parameter bytes; it has 120");
    GEMM("cublas.gemm_ex");
    fx.em.launches[0].params[0] = 1;
    refused("non-zero bytes where its A address goes");
    GEMM("cublas.gemm_ex");
    fx.em.launches[0].grid[0] = 2;
    refused("a CUBLAS_GEMM has a grid or block other than 1");
    GEMM("cublas.gemm_ex");
    fx.em.launches[0].kind = 6;
    refused("launch kind 6 is unknown");
    /* cuBLASLt's workspace: inside the engine's, and a workspace patch */
    GEMM("cublaslt.matmul");
    blas()->workspace_bytes += 1;
    refused("its workspace range, 33554433 bytes at byte 0 of the workspace (33554432 bytes)");
    GEMM("cublaslt.matmul");
    fx.em.launches[0].patches[3].tensor = T_Y;
    refused("workspace address points at tensor 3, not the workspace");
#undef GEMM

#define CONV(kernel) (fixture_free(), conv_fixture(), lower_with("Conv", 1, kernel))
    CONV("cudnn.conv_fwd");
    e = NULL;
    ck_assert_msg(create(LEAN_CREATE_TABLES_ONLY, &e) == O2P_OK, "%s", o2p_last_error());
    lean_engine_destroy(e);
    CONV("cudnn.conv_fwd");
    dnn()->n = 2, dnn()->p = 3;
    refused("its x range, 800 bytes at byte 0 of tensor 0 'x' (400 bytes), lies outside it");
    CONV("cudnn.conv_fwd");
    dnn()->pad_h = 3;
    refused("output is 3x3; an input of 5x5 with this window gives 5x3");
    CONV("cudnn.conv_fwd");
    dnn()->p = 4, dnn()->h = 7;
    refused("its x range");
    CONV("cudnn.conv_fwd");
    dnn()->groups = 4;
    refused("the groups divide the channels");
    CONV("cudnn.conv_fwd");
    dnn()->k = 12, dnn()->groups = 1; /* w [12, 4, 3, 3] */
    refused("its w range");
    CONV("cudnn.conv_fwd");
    dnn()->compute = 1, dnn()->dtype = O2P_DTYPE_FLOAT16;
    refused("compute type 1");
    CONV("cudnn.conv_fwd");
    fx.em.launches[0].patches[2].tensor = T_X;
    refused("a CUDNN_CONV writes tensor 0 'x'");
    CONV("cudnn.conv_fwd");
    dnn()->stride_w = 0;
    refused("the others >= 1");
#undef CONV
    fixture_free();
}
END_TEST

/* A plan whose layers call a library this machine lacks is refused at create, by name. */
START_TEST(test_missing_library)
{
    fake_libs(NULL);
    setenv("O2P_CUBLAS_LIBRARY", "/nonexistent/libcublas.so.13", 1);
    matmul_fixture(0, 2, 3, 4);
    lower_with("MatMul", 0, "cublas.gemm_ex");
    lean_engine *e = (lean_engine *)1;
    TU_ASSERT_STATUS(create(0, &e), O2P_ERR_UNSUPPORTED);
    ck_assert_ptr_null(e);
    TU_ASSERT_ERROR_HAS(WHAT ": ENGINE section, libraries: the plan's layers call cuBLAS "
                             "(tactic source cublas), and /nonexistent/libcublas.so.13 cannot be "
                             "loaded");
    TU_ASSERT_ERROR_HAS("--tactic-sources +cublas");
    /* tables only (inspect) needs no library */
    ck_assert_msg(create(LEAN_CREATE_TABLES_ONLY, &e) == O2P_OK, "%s", o2p_last_error());
    lean_engine_destroy(e);
    fixture_free();

    /* a library without the entry points: refused naming the missing one */
    setenv("O2P_CUDNN_LIBRARY", O2P_FAKE_CUBLAS_PATH, 1);
    conv_fixture();
    lower_with("Conv", 1, "cudnn.conv_fwd");
    TU_ASSERT_STATUS(create(0, &e), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("call cuDNN (tactic source cudnn)");
    TU_ASSERT_ERROR_HAS("has no cudnnCreate");
    fixture_free();
}
END_TEST

/* No algorithm within the workspace: the context is refused naming the layer and the call. */
START_TEST(test_no_algorithm)
{
    fake_libs(NULL);
    setenv("FAKE_CUBLASLT_NO_ALGO", "1", 1);
    matmul_fixture(0, 2, 3, 4);
    lower_with("MatMul", 0, "cublaslt.matmul");
    lean_engine *e = NULL;
    ck_assert_msg(create(0, &e) == O2P_OK, "%s", o2p_last_error());
    lean_context *ctx = (lean_context *)1;
    TU_ASSERT_STATUS(lean_context_create(e, &ctx), O2P_ERR_INTERNAL);
    TU_ASSERT_ERROR_HAS(
        "layer 0 'layer' (MatMul), launch 0 (cuBLASLt, tactic cuda.cublaslt.matmul): "
        "cublasLtMatmulAlgoGetHeuristic: no algorithm");
    lean_engine_destroy(e);
    fixture_free();
}
END_TEST

/* ---------------------------------------------------------------- offline builds */

static o2p_network *gemm_network(void)
{
    o2p_network *net = NULL;
    ck_assert_int_eq(o2p_network_create(&net), O2P_OK);
    o2p_graph *g = o2p_network_get_graph(net);
    int64_t xd[2] = {8, 32}, wd[2] = {16, 32}, bd[1] = {16};
    static float w[16 * 32], bias[16];
    o2p_tensor *x, *wt, *bt;
    ck_assert_int_eq(o2p_graph_add_input(g, "x", O2P_DTYPE_FLOAT, 2, xd, NULL, &x), O2P_OK);
    ck_assert_int_eq(o2p_graph_add_constant(g, "W", O2P_DTYPE_FLOAT, 2, wd, w, sizeof w, &wt),
                     O2P_OK);
    ck_assert_int_eq(o2p_graph_add_constant(g, "b", O2P_DTYPE_FLOAT, 1, bd, bias, sizeof bias, &bt),
                     O2P_OK);
    o2p_tensor *in[3] = {x, wt, bt};
    o2p_layer *gemm;
    ck_assert_int_eq(o2p_graph_add_layer(g, "", "Gemm", "fc", 3, in, 1, &gemm), O2P_OK);
    ck_assert_int_eq(o2p_layer_set_attr_int(gemm, "transB", 1), O2P_OK);
    ck_assert_int_eq(o2p_tensor_set_name(o2p_layer_get_output(gemm, 0), "y"), O2P_OK);
    ck_assert_int_eq(o2p_graph_mark_output(g, o2p_layer_get_output(gemm, 0)), O2P_OK);
    return net;
}

/* y = Relu(Conv(x, W, b)): x [1, 4, 8, 8], W [8, 4, 3, 3], pads 1. */
static o2p_network *conv_network(void)
{
    o2p_network *net = NULL;
    ck_assert_int_eq(o2p_network_create(&net), O2P_OK);
    o2p_graph *g = o2p_network_get_graph(net);
    int64_t xd[4] = {1, 4, 8, 8}, wd[4] = {8, 4, 3, 3}, bd[1] = {8};
    static float w[8 * 4 * 9], bias[8];
    o2p_tensor *x, *wt, *bt;
    ck_assert_int_eq(o2p_graph_add_input(g, "x", O2P_DTYPE_FLOAT, 4, xd, NULL, &x), O2P_OK);
    ck_assert_int_eq(o2p_graph_add_constant(g, "W", O2P_DTYPE_FLOAT, 4, wd, w, sizeof w, &wt),
                     O2P_OK);
    ck_assert_int_eq(o2p_graph_add_constant(g, "b", O2P_DTYPE_FLOAT, 1, bd, bias, sizeof bias, &bt),
                     O2P_OK);
    o2p_tensor *in[3] = {x, wt, bt};
    o2p_layer *conv, *relu;
    ck_assert_int_eq(o2p_graph_add_layer(g, "", "Conv", "conv", 3, in, 1, &conv), O2P_OK);
    const int64_t pads[4] = {1, 1, 1, 1};
    ck_assert_int_eq(o2p_layer_set_attr_ints(conv, "pads", pads, 4), O2P_OK);
    o2p_tensor *r_in[1] = {o2p_layer_get_output(conv, 0)};
    ck_assert_int_eq(o2p_graph_add_layer(g, "", "Relu", "relu", 1, r_in, 1, &relu), O2P_OK);
    ck_assert_int_eq(o2p_tensor_set_name(o2p_layer_get_output(relu, 0), "y"), O2P_OK);
    ck_assert_int_eq(o2p_graph_mark_output(g, o2p_layer_get_output(relu, 0)), O2P_OK);
    return net;
}

/* Builds for sm_90 with the sources; the header lists the ones used, and the op's layers
 * show a tactic of `source` whose name holds `kernel`. */
static void offline_build(o2p_network *net, uint32_t sources, const char *op, const char *source,
                          const char *kernel, uint32_t header_bit)
{
    o2p_builder_config *c = NULL;
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    const int arch[1] = {90};
    TU_ASSERT_STATUS(o2p_builder_config_set_target(c, O2P_TARGET_CUDA, arch, 1), O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_set_tactic_sources(c, sources), O2P_OK);
    o2p_builder *b = NULL;
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    void *plan = NULL;
    size_t size = 0;
    ck_assert_msg(o2p_builder_build_serialized(b, net, c, &plan, &size) == O2P_OK, "%s",
                  o2p_last_error());
    plan_view v;
    TU_ASSERT_STATUS(plan_read(plan, size, WHAT, &v), O2P_OK);
    ck_assert_int_eq(v.header.target, PLAN_TARGET_CUDA);
    ck_assert_msg(v.header.tactic_sources & header_bit, "tactic_sources 0x%x",
                  v.header.tactic_sources);
    int sec = plan_find_section(&v, PLAN_SECTION_ENGINE, 0);
    ck_assert_int_ge(sec, 0);
    lean_engine *e = NULL;
    ck_assert_msg(lean_engine_create_flags(v.sections[sec].data, v.sections[sec].size, WHAT, NULL,
                                           NULL, NULL, LEAN_CREATE_TABLES_ONLY, &e) == O2P_OK,
                  "%s", o2p_last_error());
    int found = 0;
    for (int i = 0; i < lean_engine_num_layers(e); i++) {
        if (strcmp(lean_engine_layer_op_type(e, i), op) != 0)
            continue;
        ck_assert_str_eq(lean_engine_layer_tactic_source(e, i), source);
        ck_assert_msg(tu_contains(lean_engine_layer_tactic_kernel(e, i), kernel), "%s",
                      lean_engine_layer_tactic_kernel(e, i));
        found++;
    }
    ck_assert_int_gt(found, 0);
    lean_engine_destroy(e);
    o2p_free(plan);
    o2p_builder_destroy(b);
    o2p_builder_config_destroy(c);
}

START_TEST(test_offline_builds)
{
    int archs[32];
    if (cg_nvrtc_archs(archs, 32) <= 0) {
        o2p_clear_error();
        printf("test_lean_libs: SKIPPED offline builds: NVRTC cannot be loaded\n");
        return;
    }
    uint32_t srcs = O2P_TACTIC_SOURCE_BUILTIN | O2P_TACTIC_SOURCE_CUBLAS | O2P_TACTIC_SOURCE_CUDNN;
    o2p_network *net = gemm_network();
    offline_build(net, srcs, "Gemm", "cublas", "cublas.gemm_ex", PLAN_TACTIC_CUBLAS);
    o2p_network_destroy(net);
    net = conv_network();
    offline_build(net, srcs, "Conv", "cudnn", "cudnn.conv_fwd", PLAN_TACTIC_CUDNN);
    o2p_network_destroy(net);
    /* the default sources: builtin kernels only, and the header says so */
    net = gemm_network();
    offline_build(net, O2P_TACTIC_SOURCE_BUILTIN, "Gemm", "builtin", "gemm.", PLAN_TACTIC_BUILTIN);
    o2p_network_destroy(net);
}
END_TEST

/* The CLI: tiny_cnn (Conv, Gemm) built for sm_90 with +cublas,+cudnn shows the sources in
 * its header and the library tactics in its layers; under a hardware-compatibility level (same-cc)
 * they are dropped. */
START_TEST(test_cli_build)
{
    int archs[32];
    if (cg_nvrtc_archs(archs, 32) <= 0) {
        o2p_clear_error();
        printf("test_lean_libs: SKIPPED the CLI build: NVRTC cannot be loaded\n");
        return;
    }
    char dir[] = "/tmp/test_lean_libs_cli_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *out = NULL, *err = NULL;
    char *args = tu_printf("'%s/models/tiny_cnn.onnx' --shapes input:1x3x32x32 --arch sm_90 "
                           "--tactic-sources +cublas,+cudnn -o '%s/m.plan'",
                           O2P_SOURCE_DIR, dir);
    ck_assert_msg(tu_run_cli(args, &out, &err) == 0, "%s", err ? err : "");
    free(args), free(out), free(err);
    args = tu_printf("inspect '%s/m.plan' --layers", dir);
    ck_assert_int_eq(tu_run_cli(args, &out, &err), 0);
    ck_assert_msg(tu_contains(out, "tactic sources     builtin, cublas, cudnn"), "%s", out);
    ck_assert_msg(tu_contains(out, "[Conv] tactic cudnn/"), "%s", out);
    ck_assert_msg(tu_contains(out, "[Gemm] tactic cublas/"), "%s", out);
    free(args), free(out), free(err);
    /* a hardware-compatibility level keeps to the builtin kernels */
    args = tu_printf("'%s/models/tiny_cnn.onnx' --shapes input:1x3x32x32 --arch sm_90 "
                     "--hw-compat same-cc --tactic-sources +cublas,+cudnn -o '%s/a.plan'",
                     O2P_SOURCE_DIR, dir);
    ck_assert_msg(tu_run_cli(args, &out, &err) == 0, "%s", err ? err : "");
    free(args), free(out), free(err);
    args = tu_printf("inspect '%s/a.plan' --layers", dir);
    ck_assert_int_eq(tu_run_cli(args, &out, &err), 0);
    ck_assert_msg(tu_contains(out, "tactic sources     builtin\n"), "%s", out);
    ck_assert_msg(!tu_contains(out, "cudnn/") && !tu_contains(out, "cublas/"), "%s", out);
    free(args), free(out), free(err);
    args = tu_printf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(args), 0);
    free(args);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lean_libs");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_cublas_gemm);
    tcase_add_test(tc, test_cublaslt_matmul);
    tcase_add_test(tc, test_cudnn_conv);
    tcase_add_test(tc, test_reader_refusals);
    tcase_add_test(tc, test_missing_library);
    tcase_add_test(tc, test_no_algorithm);
    tcase_add_test(tc, test_offline_builds);
    tcase_add_test(tc, test_cli_build);
    suite_add_tcase(s, tc);
    /* each test opens the driver and the libraries in its own process */
    setenv("CK_FORK", "yes", 1);
    return tu_run_suite(s);
}
