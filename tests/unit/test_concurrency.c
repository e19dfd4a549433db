/* test_concurrency.c: one engine shared by 8 threads, each with its own context, running many
 * iterations on inputs that change from one iteration to the next: every output equals, byte
 * for byte, what one thread computed for the same input. Host target, two plans: tiny_cnn
 * and a model of many layer kinds (Conv, BatchNormalization, Sigmoid, Mul, MaxPool,
 * ReduceMean, Transpose, Reshape, Concat, Gemm, LayerNormalization, Softmax, Tanh). scripts/test
 * runs it also in a ThreadSanitizer build (build-tsan/, O2P_TSAN), where a data race fails it. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define NUM_THREADS 8
#define NUM_INPUTS 12 /* distinct input sets; iteration i of thread t uses (7t + i) % 12 */
#define MAX_IO 4

/* The iterations per thread: fewer under ThreadSanitizer, which runs ~10x slower. */
#if defined(__SANITIZE_THREAD__)
#define ITERATIONS 40
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ITERATIONS 40
#endif
#endif
#ifndef ITERATIONS
#define ITERATIONS 100
#endif

#define DT(x) O2P_DTYPE_##x

/* ---------------------------------------------------------------- the shared engine */

typedef struct io_info {
    const char *name;
    int is_input;
    size_t nbytes;
} io_info;

typedef struct shared {
    o2p_engine *engine;
    int num_io;
    io_info io[MAX_IO];
    /* inputs[k][j]: input set k, I/O tensor j (NULL for outputs); want[k][j] the outputs */
    void *inputs[NUM_INPUTS][MAX_IO];
    void *want[NUM_INPUTS][MAX_IO];
} shared;

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill_floats(float *x, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((double)(xorshift(&s) >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}

/* Runs the engine once in ctx on input set k, outputs into out[j] (allocated by the caller). */
static o2p_status run_once(const shared *sh, o2p_context *ctx, int k, void *const *out)
{
    for (int j = 0; j < sh->num_io; j++) {
        void *addr = sh->io[j].is_input ? sh->inputs[k][j] : out[j];
        o2p_status st = o2p_context_set_tensor_address(ctx, sh->io[j].name, addr);
        if (st != O2P_OK)
            return st;
    }
    return o2p_context_enqueue(ctx, NULL);
}

static void shared_init(shared *sh, const void *plan, size_t size)
{
    memset(sh, 0, sizeof *sh);
    o2p_runtime *rt;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    TU_ASSERT_STATUS(o2p_runtime_deserialize(rt, plan, size, &sh->engine), O2P_OK);
    o2p_runtime_destroy(rt);
    sh->num_io = o2p_engine_num_io_tensors(sh->engine);
    ck_assert_int_le(sh->num_io, MAX_IO);
    for (int j = 0; j < sh->num_io; j++) {
        io_info *io = &sh->io[j];
        io->name = o2p_engine_io_name(sh->engine, j);
        io->is_input = o2p_engine_io_is_input(sh->engine, j);
        size_t n = o2p_dtype_size(o2p_engine_io_dtype(sh->engine, j));
        for (int a = 0; a < o2p_engine_io_rank(sh->engine, j); a++)
            n *= (size_t)o2p_engine_io_dim(sh->engine, j, a);
        io->nbytes = n;
        ck_assert_int_eq(o2p_engine_io_dtype(sh->engine, j), O2P_DTYPE_FLOAT);
    }
    /* The reference: every input set run on one thread, one context. */
    o2p_context *ctx;
    TU_ASSERT_STATUS(o2p_engine_create_context(sh->engine, &ctx), O2P_OK);
    for (int k = 0; k < NUM_INPUTS; k++) {
        for (int j = 0; j < sh->num_io; j++) {
            void *buf = malloc(sh->io[j].nbytes);
            ck_assert_ptr_nonnull(buf);
            if (sh->io[j].is_input) {
                fill_floats(buf, sh->io[j].nbytes / 4, (uint64_t)(k * MAX_IO + j + 1));
                sh->inputs[k][j] = buf;
            } else {
                memset(buf, 0xA5, sh->io[j].nbytes);
                sh->want[k][j] = buf;
            }
        }
        TU_ASSERT_STATUS(run_once(sh, ctx, k, sh->want[k]), O2P_OK);
    }
    o2p_context_destroy(ctx);
    /* The input sets give different outputs (otherwise the comparison proves little). */
    for (int j = 0; j < sh->num_io; j++)
        if (!sh->io[j].is_input)
            ck_assert_msg(memcmp(sh->want[0][j], sh->want[1][j], sh->io[j].nbytes) != 0,
                          "input sets 0 and 1 give the same '%s'", sh->io[j].name);
}

static void shared_free(shared *sh)
{
    for (int k = 0; k < NUM_INPUTS; k++)
        for (int j = 0; j < sh->num_io; j++) {
            free(sh->inputs[k][j]);
            free(sh->want[k][j]);
        }
    o2p_engine_destroy(sh->engine);
}

/* ---------------------------------------------------------------- threads */

typedef struct worker {
    const shared *sh;
    int index;
    pthread_barrier_t *start;
    int runs, mismatches;
    o2p_status status;
    char error[512];
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    const shared *sh = w->sh;
    void *out[MAX_IO] = {0};
    o2p_context *ctx = NULL;
    /* Contexts are made concurrently too, all threads released at once. */
    pthread_barrier_wait(w->start);
    w->status = o2p_engine_create_context(sh->engine, &ctx);
    for (int j = 0; j < sh->num_io; j++)
        if (!sh->io[j].is_input)
            out[j] = malloc(sh->io[j].nbytes);
    for (int i = 0; i < ITERATIONS && w->status == O2P_OK; i++) {
        int k = (7 * w->index + i) % NUM_INPUTS;
        for (int j = 0; j < sh->num_io; j++)
            if (out[j])
                memset(out[j], 0x5A, sh->io[j].nbytes);
        w->status = run_once(sh, ctx, k, out);
        if (w->status != O2P_OK)
            break;
        w->runs++;
        for (int j = 0; j < sh->num_io; j++)
            if (out[j] && memcmp(out[j], sh->want[k][j], sh->io[j].nbytes) != 0)
                w->mismatches++;
    }
    if (w->status != O2P_OK)
        snprintf(w->error, sizeof w->error, "%s", o2p_last_error());
    for (int j = 0; j < sh->num_io; j++)
        free(out[j]);
    o2p_context_destroy(ctx);
    return NULL;
}

static void run_threads(const void *plan, size_t size)
{
    shared sh;
    shared_init(&sh, plan, size);
    pthread_barrier_t start;
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, NUM_THREADS), 0);
    pthread_t th[NUM_THREADS];
    worker w[NUM_THREADS];
    for (int t = 0; t < NUM_THREADS; t++) {
        w[t] = (worker){.sh = &sh, .index = t, .start = &start};
        ck_assert_int_eq(pthread_create(&th[t], NULL, work, &w[t]), 0);
    }
    for (int t = 0; t < NUM_THREADS; t++)
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int t = 0; t < NUM_THREADS; t++) {
        ck_assert_msg(w[t].status == O2P_OK, "thread %d failed with %s: %s", t,
                      o2p_status_name(w[t].status), w[t].error);
        ck_assert_int_eq(w[t].runs, ITERATIONS);
        ck_assert_msg(w[t].mismatches == 0,
                      "thread %d: %d outputs differ from the single-threaded run", t,
                      w[t].mismatches);
    }
    shared_free(&sh);
}

/* ---------------------------------------------------------------- plans */

static void build(o2p_network *net, void **plan, size_t *size)
{
    o2p_builder *b;
    o2p_builder_config *c;
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    o2p_status st = o2p_builder_build_serialized(b, net, c, plan, size);
    ck_assert_msg(st == O2P_OK, "build: %s", o2p_last_error());
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
}

START_TEST(test_tiny_cnn_eight_threads)
{
    char *path = tu_printf("%s/models/tiny_cnn.onnx", O2P_SOURCE_DIR);
    o2p_network *net;
    o2p_parser *parser;
    TU_ASSERT_STATUS(tu_parse_file(path, &net, &parser), O2P_OK);
    o2p_tensor *in = o2p_graph_find_tensor(o2p_network_get_graph(net), "input");
    ck_assert_ptr_nonnull(in);
    const int64_t dims[4] = {2, 3, 32, 32};
    TU_ASSERT_STATUS(o2p_tensor_set_shape(in, 4, dims), O2P_OK);
    void *plan;
    size_t size;
    build(net, &plan, &size);
    tu_parsed_free(net, parser);
    run_threads(plan, size);
    o2p_free(plan);
    free(path);
}
END_TEST

static Onnx__TensorProto *random_init(tu_model *m, Onnx__GraphProto *g, const char *name, int rank,
                                      const int64_t *dims, uint64_t seed, float lo)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    float *v = malloc(n * sizeof *v);
    fill_floats(v, n, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = lo >= 0 ? lo + fabsf(v[i]) : v[i] * 0.5f;
    Onnx__TensorProto *t =
        tu_add_initializer_raw(m, g, name, DT(FLOAT), rank, dims, v, n * sizeof *v);
    free(v);
    return t;
}

/* x [2,4,8,8] -> Conv 3x3 -> BatchNormalization -> x*Sigmoid(x) -> MaxPool 2x2 -> two
 * branches, ReduceMean over H, W (and Tanh: output z) and Transpose + Reshape, -> Concat ->
 * Gemm -> LayerNormalization -> Softmax: output y. */
static tu_model *mixed_model(void)
{
    tu_model *m = tu_model_new(17);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t xd[4] = {2, 4, 8, 8}, wd[4] = {8, 4, 3, 3}, cd[1] = {8};
    const int64_t gw[2] = {136, 10}, gb[1] = {10}, shape_d[1] = {2}, yd[2] = {2, 10},
                  zd[2] = {2, 8};
    tu_add_input(m, g, "x", DT(FLOAT), 4, xd, NULL);
    random_init(m, g, "w", 4, wd, 11, -1);
    random_init(m, g, "b", 1, cd, 12, -1);
    random_init(m, g, "scale", 1, cd, 13, 0.5f);
    random_init(m, g, "bias", 1, cd, 14, -1);
    random_init(m, g, "mean", 1, cd, 15, -1);
    random_init(m, g, "var", 1, cd, 16, 0.5f);
    random_init(m, g, "gw", 2, gw, 17, -1);
    random_init(m, g, "gb", 1, gb, 18, -1);
    random_init(m, g, "ln_scale", 1, gb, 19, 0.5f);
    random_init(m, g, "ln_bias", 1, gb, 20, -1);
    const int64_t shape[2] = {2, 128};
    tu_add_initializer_raw(m, g, "shape", DT(INT64), 1, shape_d, shape, sizeof shape);

    Onnx__NodeProto *n = tu_add_node(m, g, "Conv", "conv", "x,w,b", "c");
    const int64_t k3[2] = {3, 3}, pads[4] = {1, 1, 1, 1}, k2[2] = {2, 2};
    tu_attr_ints(m, n, "kernel_shape", k3, 2);
    tu_attr_ints(m, n, "pads", pads, 4);
    tu_add_node(m, g, "BatchNormalization", "bn", "c,scale,bias,mean,var", "n");
    tu_add_node(m, g, "Sigmoid", "sig", "n", "s");
    tu_add_node(m, g, "Mul", "swish", "n,s", "sw");
    n = tu_add_node(m, g, "MaxPool", "pool", "sw", "p");
    tu_attr_ints(m, n, "kernel_shape", k2, 2);
    tu_attr_ints(m, n, "strides", k2, 2);
    n = tu_add_node(m, g, "ReduceMean", "mean_hw", "p", "r");
    const int64_t axes[2] = {2, 3};
    tu_attr_ints(m, n, "axes", axes, 2);
    tu_attr_int(m, n, "keepdims", 0);
    tu_add_node(m, g, "Tanh", "tanh", "r", "z");
    n = tu_add_node(m, g, "Transpose", "nhwc", "p", "t");
    const int64_t perm[4] = {0, 2, 3, 1};
    tu_attr_ints(m, n, "perm", perm, 4);
    tu_add_node(m, g, "Reshape", "flat", "t,shape", "f");
    n = tu_add_node(m, g, "Concat", "cat", "r,f", "cc");
    tu_attr_int(m, n, "axis", 1);
    tu_add_node(m, g, "Gemm", "fc", "cc,gw,gb", "gm");
    n = tu_add_node(m, g, "LayerNormalization", "ln", "gm,ln_scale,ln_bias", "l");
    tu_attr_int(m, n, "axis", -1);
    n = tu_add_node(m, g, "Softmax", "softmax", "l", "y");
    tu_attr_int(m, n, "axis", -1);
    tu_add_output(m, g, "y", DT(FLOAT), 2, yd, NULL);
    tu_add_output(m, g, "z", DT(FLOAT), 2, zd, NULL);
    return m;
}

START_TEST(test_many_layer_kinds_eight_threads)
{
    tu_model *m = mixed_model();
    o2p_network *net;
    o2p_parser *parser;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, &parser), O2P_OK);
    tu_model_free(m);
    void *plan;
    size_t size;
    build(net, &plan, &size);
    tu_parsed_free(net, parser);
    run_threads(plan, size);
    o2p_free(plan);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("concurrency");
    TCase *tc = tcase_create("concurrency");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_tiny_cnn_eight_threads);
    tcase_add_test(tc, test_many_layer_kinds_eight_threads);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
