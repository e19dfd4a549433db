/* test_cuda_build.c: the build side of the cuda target without a GPU: the tactic filter and
 * the cost choice over synthetic tactics, the config's refusals and their messages (API and
 * CLI), and offline builds for sm_80,sm_90 and ampere+ whose plans say so and whose engines
 * carry a kernel image per family and architecture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/builder.h"
#include "codegen/codegen.h"
#include "lean/cuda_driver.h"
#include "plan/plan.h"
#include "testutil.h"

#define TINY_CNN O2P_SOURCE_DIR "/models/tiny_cnn.onnx"

/* One kernel cache for the whole run, so each family compiles once per architecture. */
static char *cache_dir;

/* ---------------------------------------------------------------- the filter */

static build_options cuda_opts(const int *archs, int n, int hw)
{
    build_options o;
    memset(&o, 0, sizeof o);
    o.target = BUILD_TARGET_CUDA;
    o.tactic_sources = O2P_TACTIC_SOURCE_BUILTIN;
    o.num_archs = n;
    memcpy(o.archs, archs, (size_t)n * sizeof *archs);
    o.hw_compat = hw;
    o.allow_tf32 = 1;
    return o;
}

static cg_tactic tactic(const char *kernel, const char *source, int min_cc, double cost)
{
    cg_tactic t;
    memset(&t, 0, sizeof t);
    t.kernel = kernel;
    t.source = source;
    t.min_cc = min_cc;
    t.cost = cost;
    t.precision = CG_PREC_NATIVE;
    return t;
}

/* The reason a tactic is excluded (asserted to exist and to mention every needle). */
static void expect_excluded(const cg_tactic *t, const build_options *o, o2p_dtype native,
                            const char *needle1, const char *needle2)
{
    char buf[256];
    const char *why = build_cuda_excluded(t, o, native, buf, sizeof buf);
    ck_assert_msg(why != NULL, "%s was not excluded (expected: %s)", t->kernel, needle1);
    ck_assert_msg(tu_contains(why, needle1), "%s: '%s' does not mention '%s'", t->kernel, why,
                  needle1);
    if (needle2)
        ck_assert_msg(tu_contains(why, needle2), "%s: '%s' does not mention '%s'", t->kernel,
                      why, needle2);
}

static void expect_allowed(const cg_tactic *t, const build_options *o, o2p_dtype native)
{
    char buf[256];
    const char *why = build_cuda_excluded(t, o, native, buf, sizeof buf);
    ck_assert_msg(why == NULL, "%s was excluded: %s", t->kernel, why ? why : "");
}

START_TEST(test_filter_architectures)
{
    const int two[] = {80, 90}, one90[] = {90};
    build_options o = cuda_opts(two, 2, O2P_HW_COMPAT_NONE);
    cg_tactic t = tactic("cuda.x.sm80", "builtin", 80, 1.0);
    expect_allowed(&t, &o, O2P_DTYPE_FLOAT);
    /* needs more than the lowest target */
    t = tactic("cuda.x.sm90", "builtin", 90, 1.0);
    expect_excluded(&t, &o, O2P_DTYPE_FLOAT, "sm_90", "sm_80");
    /* arch-specific: runs on exactly its architecture */
    t.arch_specific = 1;
    build_options only90 = cuda_opts(one90, 1, O2P_HW_COMPAT_NONE);
    expect_allowed(&t, &only90, O2P_DTYPE_FLOAT);
    build_options two_from_90 = cuda_opts((const int[]){90, 100}, 2, O2P_HW_COMPAT_NONE);
    expect_excluded(&t, &two_from_90, O2P_DTYPE_FLOAT, "sm_90a", "arch-specific");
    /* under ampere+ never, whatever the list */
    const int amp[] = {80, 90, 100, 120};
    build_options ampere = cuda_opts(amp, 4, O2P_HW_COMPAT_AMPERE_PLUS);
    t.min_cc = 80;
    expect_excluded(&t, &ampere, O2P_DTYPE_FLOAT, "ampere+", "arch-specific");
    t.arch_specific = 0;
    expect_allowed(&t, &ampere, O2P_DTYPE_FLOAT);
}
END_TEST

START_TEST(test_filter_ampere_plus_shared_memory)
{
    const int amp[] = {80, 90, 100, 120};
    build_options ampere = cuda_opts(amp, 4, O2P_HW_COMPAT_AMPERE_PLUS);
    cg_tactic t = tactic("cuda.gemm.big", "builtin", 80, 1.0);
    t.smem_bytes = 99u * 1024u;
    expect_allowed(&t, &ampere, O2P_DTYPE_FLOAT);
    t.smem_bytes = 99u * 1024u + 1;
    expect_excluded(&t, &ampere, O2P_DTYPE_FLOAT, "99 KiB", "ampere+");
    /* for one architecture, the tactic's own limit is the family's business */
    build_options h100 = cuda_opts((const int[]){90}, 1, O2P_HW_COMPAT_NONE);
    t.smem_bytes = 200u * 1024u;
    expect_allowed(&t, &h100, O2P_DTYPE_FLOAT);
}
END_TEST

START_TEST(test_filter_tactic_sources)
{
    const int one[] = {90};
    build_options o = cuda_opts(one, 1, O2P_HW_COMPAT_NONE);
    cg_tactic t = tactic("cublas.gemm", "cublas", 80, 1.0);
    expect_excluded(&t, &o, O2P_DTYPE_FLOAT, "cublas", "--tactic-sources");
    o.tactic_sources |= O2P_TACTIC_SOURCE_CUBLAS;
    expect_allowed(&t, &o, O2P_DTYPE_FLOAT);
    /* builtin off: the builtin kernels go too */
    o.tactic_sources = O2P_TACTIC_SOURCE_CUBLAS;
    cg_tactic b = tactic("cuda.gemm.simt", "builtin", 80, 1.0);
    expect_excluded(&b, &o, O2P_DTYPE_FLOAT, "builtin", NULL);
    /* a hardware-compatibility level disables the libraries even when asked for */
    o.tactic_sources = O2P_TACTIC_SOURCE_BUILTIN | O2P_TACTIC_SOURCE_CUBLAS |
                       O2P_TACTIC_SOURCE_CUDNN;
    o.hw_compat = O2P_HW_COMPAT_SAME_COMPUTE_CAPABILITY;
    expect_excluded(&t, &o, O2P_DTYPE_FLOAT, "same-cc", "hardware-compatibility");
    cg_tactic d = tactic("cudnn.conv", "cudnn", 80, 1.0);
    expect_excluded(&d, &o, O2P_DTYPE_FLOAT, "cudnn", "same-cc");
    expect_allowed(&b, &o, O2P_DTYPE_FLOAT);
    ck_assert_uint_eq(build_effective_tactic_sources(&o), O2P_TACTIC_SOURCE_BUILTIN);
    o.hw_compat = O2P_HW_COMPAT_NONE;
    ck_assert_uint_eq(build_effective_tactic_sources(&o), o.tactic_sources);
    cg_options co;
    build_cg_options(&o, &co);
    ck_assert_uint_eq(co.tactic_sources, o.tactic_sources);
    ck_assert_int_eq(co.min_cc, 90);
    ck_assert_int_eq(co.max_cc, 90);
}
END_TEST

START_TEST(test_filter_precision)
{
    const int one[] = {80};
    build_options o = cuda_opts(one, 1, O2P_HW_COMPAT_NONE);
    cg_tactic t = tactic("cuda.gemm.tf32", "builtin", 80, 1.0);
    t.precision = CG_PREC_TF32;
    expect_allowed(&t, &o, O2P_DTYPE_FLOAT);
    o.allow_tf32 = 0;
    expect_excluded(&t, &o, O2P_DTYPE_FLOAT, "tf32", "--no-tf32");

    cg_tactic h = tactic("cuda.gemm.fp16", "builtin", 80, 1.0);
    h.precision = CG_PREC_FP16;
    expect_excluded(&h, &o, O2P_DTYPE_FLOAT, "fp16", "--fp16");
    /* float16 tensors compute in fp16 natively: no flag needed */
    expect_allowed(&h, &o, O2P_DTYPE_FLOAT16);
    expect_excluded(&h, &o, O2P_DTYPE_BFLOAT16, "--fp16", NULL);
    o.allow_fp16 = 1;
    expect_allowed(&h, &o, O2P_DTYPE_FLOAT);

    cg_tactic bf = tactic("cuda.gemm.bf16", "builtin", 80, 1.0);
    bf.precision = CG_PREC_BF16;
    expect_excluded(&bf, &o, O2P_DTYPE_FLOAT, "bf16", "--bf16");
    expect_allowed(&bf, &o, O2P_DTYPE_BFLOAT16);
    o.allow_bf16 = 1;
    expect_allowed(&bf, &o, O2P_DTYPE_FLOAT);

    cg_options co;
    build_cg_options(&o, &co);
    ck_assert_int_eq(co.allow_tf32, 0);
    ck_assert_int_eq(co.allow_fp16, 1);
    ck_assert_int_eq(co.allow_bf16, 1);
}
END_TEST

START_TEST(test_filter_workspace)
{
    const int one[] = {80};
    build_options o = cuda_opts(one, 1, O2P_HW_COMPAT_NONE);
    cg_tactic t = tactic("cuda.gemm.splitk", "builtin", 80, 1.0);
    t.workspace = 2u << 20;
    expect_allowed(&t, &o, O2P_DTYPE_FLOAT); /* 0: no limit */
    o.workspace_limit = 1u << 20;
    expect_excluded(&t, &o, O2P_DTYPE_FLOAT, "workspace", "2097152");
    o.workspace_limit = 2u << 20;
    expect_allowed(&t, &o, O2P_DTYPE_FLOAT);
}
END_TEST

START_TEST(test_cost_choice)
{
    const int two[] = {80, 90};
    build_options o = cuda_opts(two, 2, O2P_HW_COMPAT_NONE);
    cg_tactic c[4] = {tactic("cuda.a", "builtin", 80, 3.0), tactic("cuda.b", "builtin", 80, 1.0),
                      tactic("cuda.c", "builtin", 80, 2.0), tactic("cuda.d", "builtin", 80, 1.0)};
    /* the lowest cost; the first of equals */
    ck_assert_int_eq(build_cuda_choose(c, 4, &o, O2P_DTYPE_FLOAT), 1);
    /* the cheapest excluded: the next cheapest that passes */
    c[1].min_cc = 90;
    ck_assert_int_eq(build_cuda_choose(c, 4, &o, O2P_DTYPE_FLOAT), 3);
    c[3].precision = CG_PREC_FP16;
    ck_assert_int_eq(build_cuda_choose(c, 4, &o, O2P_DTYPE_FLOAT), 2);
    ck_assert_int_eq(build_cuda_choose(c, 4, &o, O2P_DTYPE_FLOAT16), 3);
    for (int i = 0; i < 4; i++)
        c[i].source = "cudnn";
    ck_assert_int_eq(build_cuda_choose(c, 4, &o, O2P_DTYPE_FLOAT), -1);
    ck_assert_int_eq(build_cuda_choose(c, 0, &o, O2P_DTYPE_FLOAT), -1);
}
END_TEST

START_TEST(test_native_dtype)
{
    host_tensor a = {O2P_DTYPE_FLOAT16, 1, {4}, NULL}, b = {O2P_DTYPE_FLOAT16, 1, {4}, NULL};
    host_tensor idx = {O2P_DTYPE_INT64, 1, {4}, NULL}, f = {O2P_DTYPE_FLOAT, 1, {4}, NULL};
    const host_tensor *in[3] = {&a, NULL, &idx};
    host_tensor *out[1] = {&b};
    cg_layer l;
    memset(&l, 0, sizeof l);
    l.args.num_inputs = 3;
    l.args.inputs = in;
    l.args.num_outputs = 1;
    l.args.outputs = out;
    ck_assert_int_eq(build_layer_native_dtype(&l), O2P_DTYPE_FLOAT16);
    out[0] = &f;
    ck_assert_int_eq(build_layer_native_dtype(&l), O2P_DTYPE_FLOAT);
    in[0] = &idx;
    out[0] = &idx;
    ck_assert_int_eq(build_layer_native_dtype(&l), O2P_DTYPE_UNDEFINED);
}
END_TEST

/* ---------------------------------------------------------------- models */

/* y = x @ W + b: x float [4, 8], W [8, 16], b [16], made with the network API. */
static o2p_network *matmul_add_network(void)
{
    o2p_network *net = NULL;
    ck_assert_int_eq(o2p_network_create(&net), O2P_OK);
    o2p_graph *g = o2p_network_get_graph(net);
    int64_t xd[2] = {4, 8}, wd[2] = {8, 16}, bd[1] = {16};
    float w[8 * 16], bias[16];
    for (int i = 0; i < 8 * 16; i++)
        w[i] = (float)((i * 7) % 11) * 0.1f - 0.5f;
    for (int i = 0; i < 16; i++)
        bias[i] = (float)i * 0.25f;
    o2p_tensor *x, *wt, *bt;
    ck_assert_int_eq(o2p_graph_add_input(g, "x", O2P_DTYPE_FLOAT, 2, xd, NULL, &x), O2P_OK);
    ck_assert_int_eq(o2p_graph_add_constant(g, "W", O2P_DTYPE_FLOAT, 2, wd, w, sizeof w, &wt),
                     O2P_OK);
    ck_assert_int_eq(o2p_graph_add_constant(g, "b", O2P_DTYPE_FLOAT, 1, bd, bias, sizeof bias,
                                            &bt),
                     O2P_OK);
    o2p_tensor *mm_in[2] = {x, wt};
    o2p_layer *mm, *add;
    ck_assert_int_eq(o2p_graph_add_layer(g, "", "MatMul", "mm", 2, mm_in, 1, &mm), O2P_OK);
    o2p_tensor *add_in[2] = {o2p_layer_get_output(mm, 0), bt};
    ck_assert_int_eq(o2p_graph_add_layer(g, "", "Add", "add", 2, add_in, 1, &add), O2P_OK);
    ck_assert_int_eq(o2p_tensor_set_name(o2p_layer_get_output(add, 0), "y"), O2P_OK);
    ck_assert_int_eq(o2p_graph_mark_output(g, o2p_layer_get_output(add, 0)), O2P_OK);
    return net;
}

static o2p_network *tiny_cnn_network(void)
{
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    ck_assert_int_eq(tu_parse_file(TINY_CNN, &net, &parser), O2P_OK);
    o2p_parser_destroy(parser);
    int64_t dims[4] = {2, 3, 32, 32};
    o2p_tensor *in = o2p_graph_find_tensor(o2p_network_get_graph(net), "input");
    ck_assert_ptr_nonnull(in);
    ck_assert_int_eq(o2p_tensor_set_shape(in, 4, dims), O2P_OK);
    return net;
}

static int have_gpu(void)
{
    cuda_device_info d;
    int ok = cuda_device_query(0, &d) == O2P_OK;
    o2p_clear_error();
    return ok;
}

/* A cuda config for archs (n of them; 0: the GPU present) and a level. */
static o2p_builder_config *cuda_config(const int *archs, int n, o2p_hardware_compatibility hw)
{
    o2p_builder_config *c = NULL;
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_set_target(c, O2P_TARGET_CUDA, n ? archs : NULL, n),
                     O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_set_hardware_compatibility_level(c, hw), O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_set_kernel_cache(c, cache_dir), O2P_OK);
    return c;
}

static o2p_status build(o2p_network *net, o2p_builder_config *c, void **plan, size_t *size)
{
    o2p_builder *b = NULL;
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    *plan = NULL;
    *size = 0;
    o2p_status st = o2p_builder_build_serialized(b, net, c, plan, size);
    o2p_builder_destroy(b);
    return st;
}

/* ---------------------------------------------------------------- refusals */

START_TEST(test_config_refusals)
{
    void *plan;
    size_t size;
    /* no GPU and no architectures: the message says what to give */
    if (!have_gpu()) {
        o2p_builder_config *c = cuda_config(NULL, 0, O2P_HW_COMPAT_NONE);
        o2p_network *net = matmul_add_network();
        TU_ASSERT_STATUS(build(net, c, &plan, &size), O2P_ERR_UNSUPPORTED);
        TU_ASSERT_ERROR_HAS("--arch sm_XY");
        TU_ASSERT_ERROR_HAS("--target host");
        ck_assert_ptr_null(plan);
        o2p_network_destroy(net);
        o2p_builder_config_destroy(c);
    } else {
        printf("test_cuda_build: SKIPPED the no-GPU refusal: a GPU is present\n");
    }
    /* ampere+ takes no architectures, in either order of the calls */
    const int two[] = {90, 80};
    o2p_builder_config *c = cuda_config(two, 2, O2P_HW_COMPAT_AMPERE_PLUS);
    o2p_network *net = matmul_add_network();
    TU_ASSERT_STATUS(build(net, c, &plan, &size), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("ampere+");
    TU_ASSERT_ERROR_HAS("--arch");
    TU_ASSERT_ERROR_HAS("sm_80, sm_90"); /* sorted */
    o2p_network_destroy(net);
    /* same-cc: exactly one */
    TU_ASSERT_STATUS(o2p_builder_config_set_hardware_compatibility_level(
                         c, O2P_HW_COMPAT_SAME_COMPUTE_CAPABILITY),
                     O2P_OK);
    net = matmul_add_network();
    TU_ASSERT_STATUS(build(net, c, &plan, &size), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("same-cc");
    TU_ASSERT_ERROR_HAS("one");
    o2p_network_destroy(net);
    /* before Ampere, and nonsense */
    TU_ASSERT_STATUS(o2p_builder_config_set_target(c, O2P_TARGET_CUDA, (const int[]){75}, 1),
                     O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("sm_80");
    TU_ASSERT_STATUS(o2p_builder_config_set_target(c, O2P_TARGET_CUDA, NULL, 2),
                     O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_STATUS(o2p_builder_config_set_target(c, O2P_TARGET_HOST, two, 2),
                     O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("--arch");
    TU_ASSERT_STATUS(o2p_builder_config_set_tactic_sources(c, 0x10), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_STATUS(o2p_builder_config_set_flag(c, O2P_FLAG_STRICT_TYPES, 1),
                     O2P_ERR_UNSUPPORTED);
    ck_assert(o2p_builder_config_get_flag(c, O2P_FLAG_TF32)); /* on by default */
    o2p_builder_config_destroy(c);

    /* the host target refuses what only the cuda target means */
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_set_flag(c, O2P_FLAG_FP16, 1), O2P_OK);
    net = matmul_add_network();
    TU_ASSERT_STATUS(build(net, c, &plan, &size), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("--fp16");
    TU_ASSERT_ERROR_HAS("--target cuda");
    o2p_network_destroy(net);
    TU_ASSERT_STATUS(o2p_builder_config_set_flag(c, O2P_FLAG_FP16, 0), O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_set_flag(c, O2P_FLAG_BF16, 1), O2P_OK);
    net = matmul_add_network();
    TU_ASSERT_STATUS(build(net, c, &plan, &size), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("--bf16");
    o2p_network_destroy(net);
    TU_ASSERT_STATUS(o2p_builder_config_set_flag(c, O2P_FLAG_BF16, 0), O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_set_hardware_compatibility_level(
                         c, O2P_HW_COMPAT_AMPERE_PLUS),
                     O2P_OK);
    net = matmul_add_network();
    TU_ASSERT_STATUS(build(net, c, &plan, &size), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("ampere+");
    TU_ASSERT_ERROR_HAS("--hw-compat");
    o2p_network_destroy(net);
    /* and the host build still goes through without them, with the libraries in the mask */
    TU_ASSERT_STATUS(o2p_builder_config_set_hardware_compatibility_level(c, O2P_HW_COMPAT_NONE),
                     O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_set_tactic_sources(
                         c, O2P_TACTIC_SOURCE_BUILTIN | O2P_TACTIC_SOURCE_CUBLAS),
                     O2P_OK);
    net = matmul_add_network();
    TU_ASSERT_STATUS(build(net, c, &plan, &size), O2P_OK);
    plan_view v;
    TU_ASSERT_STATUS(plan_read(plan, size, NULL, &v), O2P_OK);
    ck_assert_int_eq(v.header.target, PLAN_TARGET_HOST);
    ck_assert_uint_eq(v.header.compute_cap_count, 0);
    o2p_free(plan);
    o2p_network_destroy(net);
    o2p_builder_config_destroy(c);
}
END_TEST

START_TEST(test_cli_options)
{
    char *out = NULL, *err = NULL;
    ck_assert_int_eq(tu_run_cli("build --help", &out, &err), 0);
    const char *flags[] = {"--target cuda|host", "--arch", "--hw-compat", "--tactic-sources",
                           "--fp16", "--bf16", "--no-tf32", "--workspace", "--kernel-cache"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        ck_assert_msg(tu_contains(out, flags[i]), "build --help does not mention %s", flags[i]);
    free(out);
    free(err);
    char *dir = tu_tempdir();
    struct {
        const char *args;
        int rc;
        const char *needle;
    } cases[] = {
        {"--arch sm80", 2, "--arch"},
        {"--arch sm_80,", 2, "--arch"},
        {"--arch sm_90a", 2, "--arch"},
        {"--target host --arch sm_80", 2, "--target cuda"},
        {"--hw-compat turing+", 2, "ampere+"},
        {"--tactic-sources cublas", 2, "+NAME"},
        {"--tactic-sources +cublas,-magic", 2, "cudnn"},
        {"--workspace 12X", 2, "--workspace"},
        {"--workspace 99999999999999999999G", 2, "--workspace"},
        {"--target cuda --hw-compat ampere+ --arch sm_80", 1, "ampere+"},
        {"--hw-compat same-cc --arch sm_80,sm_90", 1, "same-cc"},
        {"--target host --fp16", 1, "--fp16"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *args = tu_printf("'%s' -o '%s/m.plan' --shapes input:1x3x32x32 %s", TINY_CNN, dir,
                               cases[i].args);
        int rc = tu_run_cli(args, &out, &err);
        ck_assert_msg(rc == cases[i].rc, "onnx2plan %s: exit %d, expected %d; stderr: %s",
                      cases[i].args, rc, cases[i].rc, err ? err : "");
        ck_assert_msg(tu_contains(err, cases[i].needle), "onnx2plan %s: stderr does not mention "
                      "%s: %s", cases[i].args, cases[i].needle, err ? err : "");
        free(args);
        free(out);
        free(err);
    }
    /* cuda is the default target: without a GPU and --arch, the error says what to do */
    if (!have_gpu()) {
        char *args = tu_printf("'%s' -o '%s/m.plan' --shapes input:1x3x32x32", TINY_CNN, dir);
        ck_assert_int_eq(tu_run_cli(args, &out, &err), 1);
        ck_assert_msg(tu_contains(err, "--arch") && tu_contains(err, "--target host"),
                      "stderr: %s", err ? err : "");
        free(args);
        free(out);
        free(err);
    }
    /* plugin layers build for the cuda target too: the plugin tactic, no launches */
    if (tu_have_testdata()) {
        char *args = tu_printf("'%s/node/test_instancenorm_example/model.onnx' -o '%s/p.plan' "
                               "--plugin-instancenorm --arch sm_90",
                               O2P_TESTDATA_DIR, dir);
        ck_assert_msg(tu_run_cli(args, &out, &err) == 0, "stderr: %s", err ? err : "");
        free(args);
        free(out);
        free(err);
    }
    /* the host target as before */
    char *args = tu_printf("'%s' -o '%s/m.plan' --shapes input:1x3x32x32 --target host "
                           "--workspace 64M --tactic-sources +cublas,-cublas --no-tf32",
                           TINY_CNN, dir);
    ck_assert_msg(tu_run_cli(args, &out, &err) == 0, "stderr: %s", err ? err : "");
    ck_assert(tu_contains(out, "target host"));
    free(args);
    free(out);
    free(err);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------- offline builds */

/* Whether every layer of what the network becomes has a CUDA lowering: the builds below
 * need the families; until they exist, the build must say which op has none. */
static int nvrtc_ready(void)
{
    int archs[32];
    int n = cg_nvrtc_archs(archs, 32);
    o2p_clear_error();
    return n > 0;
}

/* Checks an engine's images: for each family its launches use, SASS per arch in archs and,
 * with ptx, compute_80 PTX; nothing else. */
static void check_images(const build_engine *e, const int *archs, int n, int ptx)
{
    int families = 0;
    for (int i = 0; i < e->num_images; i++) {
        const build_image *img = &e->images[i];
        ck_assert_ptr_nonnull(img->bytes);
        ck_assert_uint_gt(img->size, 0);
        int first = 1;
        for (int k = 0; k < i; k++)
            first &= strcmp(e->images[k].family, img->family) != 0;
        families += first;
        if (img->kind == CG_IMAGE_PTX) {
            ck_assert_msg(ptx, "a PTX image in a plan without ampere+");
            ck_assert_int_eq(img->arch, 80);
            continue;
        }
        int listed = 0;
        for (int k = 0; k < n; k++)
            listed |= archs[k] == img->arch;
        ck_assert_msg(listed, "an image for sm_%d, not a target", img->arch);
    }
    /* every family used has all its images */
    int used = 0;
    for (int li = 0; li < e->num_layers; li++)
        for (int k = 0; k < e->layers[li].num_launches; k++)
            used += e->layers[li].launches[k].kind == CG_LAUNCH_KERNEL;
    if (used)
        ck_assert_int_gt(families, 0);
    ck_assert_int_eq(e->num_images, families * (n + ptx));
}

static void offline_build(o2p_network *(*make)(void), const char *what)
{
    if (!nvrtc_ready()) {
        printf("test_cuda_build: SKIPPED offline builds of %s: NVRTC cannot be loaded\n", what);
        return;
    }
    const int two[] = {80, 90};
    struct {
        const int *archs;
        int n;
        o2p_hardware_compatibility hw;
    } runs[] = {{two, 2, O2P_HW_COMPAT_NONE}, {NULL, 0, O2P_HW_COMPAT_AMPERE_PLUS}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        o2p_builder_config *c = cuda_config(runs[r].archs, runs[r].n, runs[r].hw);
        o2p_network *net = make();
        void *plan;
        size_t size;
        o2p_status st = build(net, c, &plan, &size);
        if (st != O2P_OK) {
            /* only a missing lowering may stop it */
            ck_assert_msg(tu_contains(o2p_last_error(), "for the cuda target"),
                          "%s: the build failed: %s", what, o2p_last_error());
            printf("test_cuda_build: %s not built yet: %s\n", what, o2p_last_error());
            o2p_network_destroy(net);
            o2p_builder_config_destroy(c);
            return;
        }
        plan_view v;
        TU_ASSERT_STATUS(plan_read(plan, size, what, &v), O2P_OK);
        ck_assert_int_eq(v.header.target, PLAN_TARGET_CUDA);
        if (runs[r].hw == O2P_HW_COMPAT_NONE) {
            ck_assert_int_eq(v.header.hw_compat, PLAN_HW_COMPAT_NONE);
            ck_assert_uint_eq(v.header.compute_cap_count, 2);
            ck_assert_uint_eq(v.header.compute_caps[0], 80);
            ck_assert_uint_eq(v.header.compute_caps[1], 90);
        } else {
            ck_assert_int_eq(v.header.hw_compat, PLAN_HW_COMPAT_AMPERE_PLUS);
            ck_assert_uint_ge(v.header.compute_cap_count, 2);
            ck_assert_uint_eq(v.header.compute_caps[0], 80);
            ck_assert_uint_eq(v.header.compute_caps[1], 90);
        }
        ck_assert_uint_eq(v.header.tactic_sources & ~(uint32_t)PLAN_TACTIC_BUILTIN, 0);
        ck_assert_uint_gt(v.header.device_memory_size, 0);
        if (!have_gpu())
            ck_assert_uint_eq(v.header.device.multiprocessor_count, 0);
        o2p_free(plan);
        o2p_network_destroy(net);
        o2p_builder_config_destroy(c);

        /* the engine description itself: a tactic and launches per layer, images per arch */
        build_options opt;
        memset(&opt, 0, sizeof opt);
        opt.target = BUILD_TARGET_CUDA;
        opt.tactic_sources = O2P_TACTIC_SOURCE_BUILTIN;
        opt.allow_tf32 = 1;
        opt.hw_compat = runs[r].hw;
        opt.kernel_cache = cache_dir;
        for (uint32_t k = 0; k < v.header.compute_cap_count; k++)
            opt.archs[opt.num_archs++] = v.header.compute_caps[k];
        net = make();
        build_engine e;
        TU_ASSERT_STATUS(build_engine_create(net, &opt, &e), O2P_OK);
        ck_assert_int_eq(e.target, BUILD_TARGET_CUDA);
        uint64_t max_ws = 0;
        for (int li = 0; li < e.num_layers; li++) {
            const build_layer *bl = &e.layers[li];
            ck_assert_int_eq(bl->tactic.target, BUILD_TARGET_CUDA);
            ck_assert_str_eq(bl->tactic.family, "cuda");
            ck_assert_int_eq(bl->tactic.arch_specific, 0);
            ck_assert_msg(bl->num_launches > 0, "layer %s has no launches", bl->layer->name);
            if (bl->workspace > max_ws)
                max_ws = bl->workspace;
        }
        ck_assert_uint_eq(e.workspace_size, max_ws);
        check_images(&e, opt.archs, opt.num_archs, runs[r].hw == O2P_HW_COMPAT_AMPERE_PLUS);
        build_engine_free(&e);
        o2p_network_destroy(net);
    }
}

START_TEST(test_offline_matmul_add)
{
    offline_build(matmul_add_network, "MatMul+Add");
}
END_TEST

START_TEST(test_offline_tiny_cnn)
{
    offline_build(tiny_cnn_network, "tiny_cnn");
}
END_TEST

/* A layer whose op has no CUDA lowering is refused by name (a plugin-free custom domain op
 * has none on any target; the message is the cuda one). */
START_TEST(test_unlowered_op_refused)
{
    o2p_network *net = NULL;
    ck_assert_int_eq(o2p_network_create(&net), O2P_OK);
    o2p_graph *g = o2p_network_get_graph(net);
    int64_t d[1] = {4};
    o2p_tensor *x;
    ck_assert_int_eq(o2p_graph_add_input(g, "x", O2P_DTYPE_FLOAT, 1, d, NULL, &x), O2P_OK);
    o2p_layer *l;
    ck_assert_int_eq(o2p_graph_add_layer(g, "", "Hardmax", "hm", 1, &x, 1, &l), O2P_OK);
    ck_assert_int_eq(o2p_graph_mark_output(g, o2p_layer_get_output(l, 0)), O2P_OK);
    build_options opt;
    memset(&opt, 0, sizeof opt);
    opt.target = BUILD_TARGET_CUDA;
    opt.tactic_sources = O2P_TACTIC_SOURCE_BUILTIN;
    opt.num_archs = 1;
    opt.archs[0] = 90;
    opt.kernel_cache = cache_dir;
    build_engine e;
    o2p_status st = build_engine_create(net, &opt, &e);
    if (cg_op_find("Hardmax")) {
        printf("test_cuda_build: Hardmax has a CUDA lowering: the refusal is not checked\n");
        if (st == O2P_OK)
            build_engine_free(&e);
    } else {
        TU_ASSERT_STATUS(st, O2P_ERR_UNSUPPORTED);
        TU_ASSERT_ERROR_HAS("'hm'");
        TU_ASSERT_ERROR_HAS("no kernel implements this op for the cuda target");
        TU_ASSERT_ERROR_HAS("--target host");
    }
    o2p_network_destroy(net);
}
END_TEST

int main(void)
{
    cache_dir = tu_printf("%s", tu_kernel_cache());
    Suite *s = suite_create("cuda_build");
    TCase *tc = tcase_create("cuda_build");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_filter_architectures);
    tcase_add_test(tc, test_filter_ampere_plus_shared_memory);
    tcase_add_test(tc, test_filter_tactic_sources);
    tcase_add_test(tc, test_filter_precision);
    tcase_add_test(tc, test_filter_workspace);
    tcase_add_test(tc, test_cost_choice);
    tcase_add_test(tc, test_native_dtype);
    tcase_add_test(tc, test_config_refusals);
    tcase_add_test(tc, test_cli_options);
    tcase_add_test(tc, test_unlowered_op_refused);
    tcase_add_test(tc, test_offline_matmul_add);
    tcase_add_test(tc, test_offline_tiny_cnn);
    suite_add_tcase(s, tc);
    int rc = tu_run_suite(s);
    free(cache_dir);
    return rc;
}
