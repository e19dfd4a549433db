/* test_cuda_plugins.c: plugin layers in cuda plans, without a GPU. Through a fake libcuda.so.1
 * (tests/fakecuda: device memory is host memory, every copy and sync is logged):
 * - the bundled RoiAlign plugin (host code only) in a cuda plan built offline for sm_90
 *   through the public API runs on host copies and gives the host plan's outputs bit for bit;
 * - small plugins defined here, one with an enqueue_cuda that records its call: it gets the
 *   device addresses (arena, bound I/O), its workspace inside the context's device workspace
 *   and the enqueue stream, while a host-only plugin between two of its layers runs on staged
 *   copies with the stream synchronized around it; the chain matches the host plan;
 * - the builder's tactic and workspace for plugin layers on cuda, and the reader's and
 *   executor's refusals (workspace outside the device workspace, a plugin with no code for
 *   the target, a failing enqueue_cuda, a creator built before enqueue_cuda existed).
 * The fake driver's "device" pointers are host pointers, which is what lets the recording
 * enqueue_cuda compute its outputs here. Check forks per test; the driver is opened once per
 * process, so each test sets the fake device's environment first. */
#define _GNU_SOURCE
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/builder.h"
#include "ir/ir.h"
#include "lean/lean.h"
#include "lean/lean_abi.h"
#include "o2p/plugin.h"
#include "plan/engine_format.h"
#include "plan/engine_writer.h"
#include "testutil.h"

#define WHAT "plugins.plan"
#define STREAM ((void *)(uintptr_t)0x5eed0)

/* ---------------------------------------------------------------- the fake device */

static char *log_path;

/* The fake GPU (an sm_90) and its log, a file of this process's own. */
static void fake_device(void)
{
    setenv("O2P_CUDA_DRIVER_LIBRARY", O2P_FAKE_CUDA_PATH, 1);
    setenv("FAKE_CUDA_CC", "90", 1);
    setenv("FAKE_CUDA_NAME", "Fake H100", 1);
    free(log_path);
    log_path = tu_printf("/tmp/o2p_test_cuda_plugins_%d.log", (int)getpid());
    unlink(log_path);
    setenv("FAKE_CUDA_LOG", log_path, 1);
    /* the bundled plugin library lives next to the CLI in the build folder */
    char *cli = strdup(O2P_CLI_PATH);
    char *lib = tu_printf("%s/libo2p_plugins.so", dirname(cli));
    setenv("O2P_PLUGINS_LIBRARY", lib, 1);
    free(lib);
    free(cli);
}

/* The log so far (malloc'ed); the file is removed. */
static char *read_log(void)
{
    size_t size;
    char *s = tu_read_file(log_path, &size);
    unlink(log_path);
    return s ? s : calloc(1, 1);
}

/* ---------------------------------------------------------------- the test plugins */

/* y = x * factor over float tensors. "ScaleCuda" has an enqueue_cuda too; "ScaleHost" does
 * not. Every call is recorded. */
typedef struct call {
    int cuda;
    const void *in, *out, *workspace, *stream;
    size_t serialized_size;
} call;

static call calls[16];
static int num_calls;
static o2p_status cuda_result = O2P_OK; /* what enqueue_cuda returns */

static const char *const FIELD_NAMES[] = {"factor"};

static o2p_status scale_infer(const o2p_plugin_tensor_desc *in, int nin,
                              const o2p_plugin_field *f, int nf, o2p_plugin_tensor_desc *out,
                              int nout, o2p_plugin_error *err)
{
    (void)f, (void)nf;
    if (nin != 1 || nout != 1) {
        snprintf(err->message, err->size, "one input and one output");
        return O2P_ERR_INVALID_ARGUMENT;
    }
    out[0] = in[0];
    return O2P_OK;
}

static int scale_supports(const o2p_dtype *in, int nin, const o2p_dtype *out, int nout)
{
    return nin == 1 && nout == 1 && in[0] == O2P_DTYPE_FLOAT && out[0] == O2P_DTYPE_FLOAT;
}

static uint64_t cuda_workspace(const o2p_plugin_tensor_desc *in, int nin,
                               const o2p_plugin_field *f, int nf)
{
    (void)in, (void)nin, (void)f, (void)nf;
    return 256;
}

static uint64_t host_workspace(const o2p_plugin_tensor_desc *in, int nin,
                               const o2p_plugin_field *f, int nf)
{
    (void)in, (void)nin, (void)f, (void)nf;
    return 96;
}

static size_t scale_serialize(const o2p_plugin_field *f, int nf, void *buf, size_t cap)
{
    float factor = 1;
    for (int i = 0; i < nf; i++)
        if (strcmp(f[i].name, "factor") == 0)
            factor = f[i].f;
    if (cap >= sizeof factor)
        memcpy(buf, &factor, sizeof factor);
    return sizeof factor;
}

static o2p_status scale(const void *ser, size_t size, const o2p_plugin_tensor *in,
                        o2p_plugin_tensor *out, void *workspace, size_t ws_bytes)
{
    float factor;
    if (size != sizeof factor)
        return O2P_ERR_PARSE;
    memcpy(&factor, ser, sizeof factor);
    if (workspace)
        memset(workspace, 0x3c, ws_bytes); /* the workspace is writable, all of it */
    size_t n = 1;
    for (int d = 0; d < in[0].rank; d++)
        n *= (size_t)in[0].dims[d];
    const float *x = in[0].data;
    float *y = out[0].data;
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * factor;
    return O2P_OK;
}

static void record(int cuda, const void *ser, size_t size, const o2p_plugin_tensor *in,
                   const o2p_plugin_tensor *out, void *ws, void *stream)
{
    (void)ser;
    if (num_calls < 16)
        calls[num_calls++] = (call){cuda, in[0].data, out[0].data, ws, stream, size};
}

static o2p_status host_enqueue(const void *ser, size_t size, const o2p_plugin_tensor *in,
                               int nin, o2p_plugin_tensor *out, int nout, void *ws,
                               o2p_plugin_error *err)
{
    (void)nin, (void)nout, (void)err;
    record(0, ser, size, in, out, ws, NULL);
    return scale(ser, size, in, out, ws, 96);
}

/* The fake driver's device memory is host memory: computing here stands for a kernel. */
static o2p_status cuda_enqueue(const void *ser, size_t size, const o2p_plugin_tensor *in,
                               int nin, o2p_plugin_tensor *out, int nout, void *ws, void *stream,
                               o2p_plugin_error *err)
{
    (void)nin, (void)nout;
    record(1, ser, size, in, out, ws, stream);
    if (cuda_result != O2P_OK) {
        snprintf(err->message, err->size, "the test's enqueue_cuda refuses stream %p", stream);
        return cuda_result;
    }
    return scale(ser, size, in, out, ws, 256);
}

static o2p_plugin_creator creator(const char *name, int with_cuda)
{
    o2p_plugin_creator c = {
        .size = sizeof(o2p_plugin_creator),
        .name = name,
        .version = "1",
        .plugin_namespace = "",
        .onnx_domain = "test.o2p",
        .num_fields = 1,
        .field_names = FIELD_NAMES,
        .min_inputs = 1,
        .max_inputs = 1,
        .infer_outputs = scale_infer,
        .supports = scale_supports,
        .workspace_size = with_cuda ? cuda_workspace : host_workspace,
        .serialize = scale_serialize,
        .enqueue_host = host_enqueue,
        .enqueue_cuda = with_cuda ? cuda_enqueue : NULL,
    };
    return c;
}

static o2p_plugin_creator scale_cuda, scale_host;
/* What the lean runtime finds for "ScaleCuda" (the builder always takes scale_cuda). */
static const o2p_plugin_creator *found_cuda;

static const o2p_plugin_creator *lookup(void *user, const char *name, const char *version,
                                        const char *ns)
{
    (void)user, (void)version, (void)ns;
    if (strcmp(name, "ScaleCuda") == 0)
        return found_cuda;
    if (strcmp(name, "ScaleHost") == 0)
        return &scale_host;
    return NULL;
}

static void plugins_init(void)
{
    scale_cuda = creator("ScaleCuda", 1);
    scale_host = creator("ScaleHost", 0);
    found_cuda = &scale_cuda;
    num_calls = 0;
    cuda_result = O2P_OK;
}

/* ---------------------------------------------------------------- the network */

/* x float[2,3] -> ScaleCuda(2) -> t -> ScaleHost(3) -> u -> ScaleCuda(0.5) -> y: a host-only
 * plugin between two cuda ones, every tensor between them in the arena. */
static const float X[6] = {1, -2, 3.5f, 4, -0.25f, 6};

static void add_scale(o2p_graph *g, const char *op, const char *name, o2p_tensor *in,
                      float factor, const char *out_name, o2p_tensor **out)
{
    o2p_layer *l;
    TU_ASSERT_STATUS(o2p_graph_add_layer(g, "test.o2p", op, name, 1, &in, 1, &l), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_float(l, "factor", factor), O2P_OK);
    /* what the parser does for a node a registered plugin implements */
    l->op = ir_plugin_op();
    l->plugin = strcmp(op, "ScaleCuda") == 0 ? &scale_cuda : &scale_host;
    l->plugin_library = "libtest_plugins.so";
    *out = o2p_layer_get_output(l, 0);
    TU_ASSERT_STATUS(o2p_tensor_set_name(*out, out_name), O2P_OK);
}

static o2p_network *chain_network(void)
{
    o2p_network *net;
    TU_ASSERT_STATUS(o2p_network_create(&net), O2P_OK);
    o2p_graph *g = o2p_network_get_graph(net);
    int64_t dims[2] = {2, 3};
    o2p_tensor *x, *t, *u, *y;
    TU_ASSERT_STATUS(o2p_graph_add_input(g, "x", O2P_DTYPE_FLOAT, 2, dims, NULL, &x), O2P_OK);
    add_scale(g, "ScaleCuda", "first", x, 2, "t", &t);
    add_scale(g, "ScaleHost", "middle", t, 3, "u", &u);
    add_scale(g, "ScaleCuda", "last", u, 0.5f, "y", &y);
    TU_ASSERT_STATUS(o2p_graph_mark_output(g, y), O2P_OK);
    return net;
}

static build_options options(build_target target)
{
    build_options o;
    memset(&o, 0, sizeof o);
    o.target = target;
    o.tactic_sources = O2P_TACTIC_SOURCE_BUILTIN;
    o.allow_tf32 = 1;
    o.kernel_cache = "";
    if (target == BUILD_TARGET_CUDA) {
        o.num_archs = 1;
        o.archs[0] = 90;
    }
    return o;
}

/* Builds the chain for a target into an ENGINE section; *workspace (may be NULL) overrides
 * the engine's workspace_size when >= 0. */
static uint8_t *chain_section(build_target target, int64_t workspace, size_t *size)
{
    o2p_network *net = chain_network();
    build_options o = options(target);
    build_engine e;
    TU_ASSERT_STATUS(build_engine_create(net, &o, &e), O2P_OK);
    if (workspace >= 0)
        e.workspace_size = (uint64_t)workspace;
    uint8_t *bytes = NULL;
    TU_ASSERT_STATUS(plan_write_engine(&e, &bytes, size), O2P_OK);
    build_engine_free(&e);
    o2p_network_destroy(net);
    return bytes;
}

static o2p_status create_engine(build_target target, int64_t workspace, uint32_t flags,
                                lean_engine **e)
{
    size_t size;
    uint8_t *bytes = chain_section(target, workspace, &size);
    o2p_clear_error();
    o2p_status st = lean_engine_create_flags(bytes, size, WHAT, NULL, lookup, NULL, flags, e);
    free(bytes);
    return st;
}

static int tensor_index(const lean_engine *e, const char *name)
{
    for (int i = 0; i < lean_engine_num_tensors(e); i++)
        if (strcmp(lean_engine_tensor_name(e, i), name) == 0)
            return i;
    ck_abort_msg("no tensor %s", name);
    return -1;
}

/* Runs the engine with x bound to a copy of X and y to a fresh buffer; returns y (malloc'ed)
 * and the status in *st. */
static float *run_chain(lean_engine *e, void *stream, o2p_status *st, lean_context **keep)
{
    lean_context *ctx = NULL;
    TU_ASSERT_STATUS(lean_context_create(e, &ctx), O2P_OK);
    float *x = malloc(sizeof X), *y = malloc(sizeof X);
    memcpy(x, X, sizeof X);
    memset(y, 0xee, sizeof X);
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "x", x), O2P_OK);
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "y", y), O2P_OK);
    o2p_clear_error();
    *st = lean_engine_target(e) == ENGINE_TARGET_CUDA ? lean_context_enqueue(ctx, stream)
                                                      : lean_context_execute(ctx);
    ck_assert(memcmp(x, X, sizeof X) == 0); /* inputs are read only */
    free(x);
    if (keep)
        *keep = ctx;
    else
        lean_context_destroy(ctx);
    return y;
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_builder_plugin_tactic_on_cuda)
{
    plugins_init();
    o2p_network *net = chain_network();
    build_options o = options(BUILD_TARGET_CUDA);
    build_engine e;
    TU_ASSERT_STATUS(build_engine_create(net, &o, &e), O2P_OK);
    ck_assert_int_eq(e.num_layers, 3);
    for (int i = 0; i < 3; i++) {
        const build_layer *bl = &e.layers[i];
        ck_assert_str_eq(bl->tactic.source, "plugin");
        ck_assert_str_eq(bl->tactic.family, "plugin");
        ck_assert_str_eq(bl->tactic.kernel, i == 1 ? "ScaleHost" : "ScaleCuda");
        ck_assert_int_eq(bl->tactic.target, BUILD_TARGET_CUDA);
        ck_assert_uint_eq(bl->tactic.workspace, i == 1 ? 96 : 256);
        ck_assert_int_eq(bl->num_launches, 0);
    }
    /* the plugins' workspace lies in the context's device workspace; nothing to compile */
    ck_assert_uint_eq(e.workspace_size, 256);
    ck_assert_int_eq(e.num_images, 0);
    build_engine_free(&e);
    o2p_network_destroy(net);

    /* a workspace limit under the plugin's excludes it, naming why */
    net = chain_network();
    o.workspace_limit = 128;
    TU_ASSERT_STATUS(build_engine_create(net, &o, &e), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("'first'");
    TU_ASSERT_ERROR_HAS("needs more workspace than the limit");
    o2p_network_destroy(net);
}
END_TEST

START_TEST(test_tables_and_refusals)
{
    setenv("O2P_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1); /* never needed */
    plugins_init();
    lean_engine *e = NULL;
    /* tables only: plugin records read, no creator looked up */
    TU_ASSERT_STATUS(create_engine(BUILD_TARGET_CUDA, -1, LEAN_CREATE_TABLES_ONLY, &e), O2P_OK);
    ck_assert_uint_eq(lean_engine_target(e), ENGINE_TARGET_CUDA);
    ck_assert_str_eq(lean_engine_layer_plugin(e, 0), "ScaleCuda");
    ck_assert_str_eq(lean_engine_layer_plugin(e, 1), "ScaleHost");
    ck_assert_str_eq(lean_engine_layer_tactic_source(e, 1), "plugin");
    ck_assert_str_eq(lean_engine_layer_tactic_kernel(e, 1), "plugin.ScaleHost");
    ck_assert_int_eq(lean_engine_layer_num_launches(e, 1), 0);
    ck_assert_uint_eq(lean_engine_workspace_size(e), 256);
    lean_engine_destroy(e);

    /* a plugin workspace beyond the engine's device workspace */
    e = (lean_engine *)1;
    TU_ASSERT_STATUS(create_engine(BUILD_TARGET_CUDA, 200, LEAN_CREATE_TABLES_ONLY, &e),
                     O2P_ERR_PARSE);
    ck_assert_ptr_null(e);
    TU_ASSERT_ERROR_HAS("layer 0 'first'");
    TU_ASSERT_ERROR_HAS("the plugin workspace is 256 bytes, more than the engine's "
                        "workspace_size of 200");

    /* creators without code for the target are refused before any device is touched */
    o2p_plugin_creator none = creator("ScaleCuda", 0);
    none.enqueue_host = NULL;
    found_cuda = &none;
    TU_ASSERT_STATUS(create_engine(BUILD_TARGET_CUDA, -1, 0, &e), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("the plugin ScaleCuda version '1' has neither CUDA code (enqueue_cuda) "
                        "nor host code (enqueue_host)");
    o2p_plugin_creator cuda_only = creator("ScaleCuda", 1);
    cuda_only.enqueue_host = NULL;
    found_cuda = &cuda_only;
    TU_ASSERT_STATUS(create_engine(BUILD_TARGET_HOST, -1, 0, &e), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("has no host code (enqueue_host)");
    /* ... and one that is not registered, by name */
    found_cuda = NULL;
    TU_ASSERT_STATUS(create_engine(BUILD_TARGET_CUDA, -1, 0, &e), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("the plugin ScaleCuda version '1'");
    TU_ASSERT_ERROR_HAS("is not registered");
}
END_TEST

START_TEST(test_enqueue_cuda_and_staged)
{
    fake_device();
    plugins_init();
    /* the host plan: every plugin through enqueue_host */
    lean_engine *he = NULL;
    TU_ASSERT_STATUS(create_engine(BUILD_TARGET_HOST, -1, 0, &he), O2P_OK);
    o2p_status st;
    float *want = run_chain(he, NULL, &st, NULL);
    TU_ASSERT_STATUS(st, O2P_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(want[i], X[i] * 3);
    ck_assert_int_eq(num_calls, 3);
    lean_engine_destroy(he);

    num_calls = 0;
    lean_engine *e = NULL;
    TU_ASSERT_STATUS(create_engine(BUILD_TARGET_CUDA, -1, 0, &e), O2P_OK);
    lean_context *ctx = NULL;
    float *y = run_chain(e, STREAM, &st, &ctx);
    TU_ASSERT_STATUS(st, O2P_OK);
    ck_assert(memcmp(y, want, sizeof X) == 0);

    /* the device side the plugins saw */
    uint64_t mem = lean_context_device_memory(ctx);
    ck_assert_uint_ne(mem, 0);
    uint64_t ws = mem + ((lean_engine_arena_size(e) + 255) & ~(uint64_t)255);
    uintptr_t t = (uintptr_t)(mem + lean_engine_tensor_offset(e, tensor_index(e, "t")));
    uintptr_t u = (uintptr_t)(mem + lean_engine_tensor_offset(e, tensor_index(e, "u")));
    ck_assert_int_eq(num_calls, 3);
    ck_assert_int_eq(calls[0].cuda, 1);
    ck_assert_ptr_eq(calls[0].in, lean_context_get_tensor_address(ctx, "x"));
    ck_assert_ptr_eq(calls[0].out, (void *)t);
    ck_assert_ptr_eq(calls[0].workspace, (void *)(uintptr_t)ws);
    ck_assert_ptr_eq(calls[0].stream, STREAM);
    ck_assert_uint_eq(calls[0].serialized_size, 4);
    /* the host-only plugin: host copies, never the device addresses, its own workspace */
    ck_assert_int_eq(calls[1].cuda, 0);
    ck_assert_ptr_nonnull(calls[1].in);
    ck_assert_ptr_nonnull(calls[1].workspace);
    ck_assert_ptr_ne(calls[1].in, (void *)t);
    ck_assert_ptr_ne(calls[1].out, (void *)u);
    ck_assert_ptr_ne(calls[1].workspace, (void *)(uintptr_t)ws);
    ck_assert_int_eq(calls[2].cuda, 1);
    ck_assert_ptr_eq(calls[2].in, (void *)u);
    ck_assert_ptr_eq(calls[2].out, lean_context_get_tensor_address(ctx, "y"));
    ck_assert_ptr_eq(calls[2].stream, STREAM);

    /* the stream is synchronized before the staged plugin, its output copied back, and the
     * stream synchronized again (the fake driver logs these three in order) */
    char *log = read_log();
    char *sync = tu_printf("sync %p", STREAM);
    char *htod = tu_printf("htod 0x%llx 24", (unsigned long long)u);
    const char *s1 = strstr(log, sync);
    ck_assert_msg(s1 != NULL, "no '%s' in the log: %s", sync, log);
    const char *h = strstr(s1, htod);
    ck_assert_msg(h != NULL, "no '%s' after the first sync: %s", htod, log);
    ck_assert_msg(strstr(h, sync) != NULL, "no sync after the copy back: %s", log);
    free(sync);
    free(htod);
    free(log);
    free(y);

    /* the context runs again with the same staging memory */
    num_calls = 0;
    float *y2 = run_chain(e, STREAM, &st, NULL);
    TU_ASSERT_STATUS(st, O2P_OK);
    ck_assert(memcmp(y2, want, sizeof X) == 0);
    ck_assert_int_eq(num_calls, 3);
    free(y2);
    lean_context_destroy(ctx);
    lean_engine_destroy(e);
    free(want);
}
END_TEST

/* A creator built before enqueue_cuda existed (a shorter struct) runs on the host even when
 * the bytes past its end happen to be non-zero. */
START_TEST(test_old_creator_runs_staged)
{
    fake_device();
    plugins_init();
    o2p_plugin_creator old = creator("ScaleCuda", 1);
    old.size = (uint32_t)offsetof(o2p_plugin_creator, enqueue_cuda);
    found_cuda = &old;
    lean_engine *e = NULL;
    TU_ASSERT_STATUS(create_engine(BUILD_TARGET_CUDA, -1, 0, &e), O2P_OK);
    o2p_status st;
    float *y = run_chain(e, STREAM, &st, NULL);
    TU_ASSERT_STATUS(st, O2P_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(y[i], X[i] * 3);
    ck_assert_int_eq(num_calls, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(calls[i].cuda == 0, "call %d went to enqueue_cuda", i);
    free(y);
    lean_engine_destroy(e);
    free(read_log());
}
END_TEST

START_TEST(test_enqueue_cuda_failure)
{
    fake_device();
    plugins_init();
    cuda_result = O2P_ERR_INVALID_ARGUMENT;
    lean_engine *e = NULL;
    TU_ASSERT_STATUS(create_engine(BUILD_TARGET_CUDA, -1, 0, &e), O2P_OK);
    o2p_status st;
    float *y = run_chain(e, STREAM, &st, NULL);
    ck_assert_int_eq(st, O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS(WHAT ": layer 0 'first' (ScaleCuda): the plugin ScaleCuda version '1' "
                        "failed: the test's enqueue_cuda refuses stream");
    ck_assert_int_eq(num_calls, 1); /* nothing after the failed layer ran */
    free(y);
    /* a status that is none of ours becomes INTERNAL */
    cuda_result = (o2p_status)977;
    num_calls = 0;
    y = run_chain(e, STREAM, &st, NULL);
    ck_assert_int_eq(st, O2P_ERR_INTERNAL);
    free(y);
    lean_engine_destroy(e);
    free(read_log());
}
END_TEST

/* ---------------------------------------------------------------- the bundled RoiAlign */

#define ROIALIGN O2P_TESTDATA_DIR "/node/test_roialign_aligned_false/model.onnx"

static void *build_plan(o2p_target target, size_t *size)
{
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    TU_ASSERT_STATUS(tu_parse_file(ROIALIGN, &net, &parser), O2P_OK);
    o2p_builder *b;
    o2p_builder_config *c;
    TU_ASSERT_STATUS(o2p_builder_create(&b), O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_create(&c), O2P_OK);
    int cc = 90;
    TU_ASSERT_STATUS(o2p_builder_config_set_target(c, target, target == O2P_TARGET_CUDA ? &cc
                                                                                       : NULL,
                                                   target == O2P_TARGET_CUDA),
                     O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_set_kernel_cache(c, ""), O2P_OK);
    void *plan = NULL;
    o2p_status st = o2p_builder_build_serialized(b, net, c, &plan, size);
    ck_assert_msg(st == O2P_OK, "the %s build failed: %s",
                  target == O2P_TARGET_CUDA ? "cuda" : "host", o2p_last_error());
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
    tu_parsed_free(net, parser);
    return plan;
}

/* Runs a plan with synthetic inputs (the same for every call); returns Y (malloc'ed). */
static float *run_roialign(const void *plan, size_t size, size_t *ybytes)
{
    o2p_runtime *rt;
    o2p_engine *e = NULL;
    o2p_context *ctx = NULL;
    TU_ASSERT_STATUS(o2p_runtime_create(&rt), O2P_OK);
    TU_ASSERT_STATUS(o2p_runtime_deserialize(rt, plan, size, &e), O2P_OK);
    TU_ASSERT_STATUS(o2p_engine_create_context(e, &ctx), O2P_OK);
    void *bufs[8] = {0};
    float *y = NULL;
    int n = o2p_engine_num_io_tensors(e);
    ck_assert_int_le(n, 8);
    for (int i = 0; i < n; i++) {
        const char *name = o2p_engine_io_name(e, i);
        size_t count = 1;
        for (int d = 0; d < o2p_engine_io_rank(e, i); d++)
            count *= (size_t)o2p_engine_io_dim(e, i, d);
        size_t bytes = count * o2p_dtype_size(o2p_engine_io_dtype(e, i));
        bufs[i] = calloc(1, bytes + 1);
        if (strcmp(name, "X") == 0) {
            float *x = bufs[i];
            for (size_t k = 0; k < count; k++)
                x[k] = (float)((k * 37) % 101) / 7.0f - 3.0f;
        } else if (strcmp(name, "rois") == 0) {
            static const float boxes[4][4] = {
                {0, 0, 9, 9}, {0.5f, 5, 4.25f, 9}, {5, 5, 9, 9}, {2.5f, 1, 7, 3.5f}};
            float *r = bufs[i];
            for (size_t k = 0; k < count; k++)
                r[k] = boxes[(k / 4) % 4][k % 4];
        } else if (!o2p_engine_io_is_input(e, i)) {
            memset(bufs[i], 0xee, bytes);
            y = bufs[i];
            *ybytes = bytes;
        } /* batch_indices: zeros */
        TU_ASSERT_STATUS(o2p_context_set_tensor_address(ctx, name, bufs[i]), O2P_OK);
    }
    ck_assert_ptr_nonnull(y);
    TU_ASSERT_STATUS(o2p_context_enqueue(ctx, NULL), O2P_OK);
    float *out = malloc(*ybytes);
    memcpy(out, y, *ybytes);
    for (int i = 0; i < n; i++)
        free(bufs[i]);
    o2p_context_destroy(ctx);
    o2p_engine_destroy(e);
    o2p_runtime_destroy(rt);
    return out;
}

START_TEST(test_bundled_roialign_cuda_plan)
{
    if (!tu_have_testdata()) {
        printf("test_cuda_plugins: SKIPPED RoiAlign: no ONNX test data\n");
        return;
    }
    fake_device();
    size_t hsize, csize, hy, cy;
    void *host = build_plan(O2P_TARGET_HOST, &hsize);
    void *cuda = build_plan(O2P_TARGET_CUDA, &csize);
    float *want = run_roialign(host, hsize, &hy);
    float *got = run_roialign(cuda, csize, &cy);
    ck_assert_uint_eq(hy, cy);
    ck_assert_uint_gt(hy, 0);
    ck_assert_msg(memcmp(want, got, hy) == 0, "the cuda plan's Y differs from the host plan's");
    int nonzero = 0;
    for (size_t i = 0; i < hy / sizeof(float); i++)
        nonzero += want[i] != 0;
    ck_assert_int_gt(nonzero, 0); /* a real result, not two zeroed buffers */
    /* it ran on the host inside the cuda plan: the stream synchronized around it */
    char *log = read_log();
    ck_assert_msg(tu_contains(log, "sync (nil)") && tu_contains(log, "htod "), "log: %s", log);
    free(log);
    free(want);
    free(got);
    o2p_free(host);
    o2p_free(cuda);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cuda_plugins");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_builder_plugin_tactic_on_cuda);
    tcase_add_test(tc, test_tables_and_refusals);
    tcase_add_test(tc, test_enqueue_cuda_and_staged);
    tcase_add_test(tc, test_old_creator_runs_staged);
    tcase_add_test(tc, test_enqueue_cuda_failure);
    tcase_add_test(tc, test_bundled_roialign_cuda_plan);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
