/* test_cuda_cli.c: `onnx2plan check` and `inspect` on cuda plans where no GPU can be used (the
 * CLI runs with O2P_CUDA_DRIVER_LIBRARY pointing at no library, so the same holds on a GPU
 * machine): check refuses with the reason and what to do, and prints what the plan needs;
 * inspect describes the plan, its kernel images and its layers' tactics without a GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan/plan.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
    /* the CLI inherits it: no driver loads, GPU or not */
    setenv("O2P_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1);
    dir = tu_tempdir();
    ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

static int cli(const char *args, char **out, char **err)
{
    return tu_run_cli(args, out, err);
}

#define ASSERT_HAS(text, needle) \
    ck_assert_msg(tu_contains((text), (needle)), "output lacks '%s':\n%s", (needle), (text))

/* A cuda plan written with the container writer (its ENGINE is not read by check before the
 * target check, so a few bytes do). */
static char *write_cuda_plan(const char *name, plan_hw_compat hw, const uint16_t *caps, int ncaps,
                             const plan_device_props *device, uint32_t sources,
                             plan_version *producer)
{
    plan_header h;
    plan_header_init(&h);
    if (producer)
        h.producer = *producer;
    h.target = PLAN_TARGET_CUDA;
    h.hw_compat = hw;
    h.compute_cap_count = (uint32_t)ncaps;
    for (int i = 0; i < ncaps; i++)
        h.compute_caps[i] = caps[i];
    if (device)
        h.device = *device;
    h.device_memory_size = 123456789;
    h.tactic_sources = sources;
    static const unsigned char engine[64] = {'O', '2', 'P', 'E'};
    plan_section_desc s = {PLAN_SECTION_ENGINE, 0, 0, engine, sizeof engine};
    uint8_t *bytes = NULL;
    size_t size = 0;
    ck_assert_int_eq(plan_write_alloc(&h, &s, 1, &bytes, &size), O2P_OK);
    char *path = tu_printf("%s/%s", dir, name);
    ck_assert_int_eq(tu_write_file(path, bytes, size), 0);
    free(bytes);
    return path;
}

/* check on a machine without a usable GPU: exit 1, the target check fails with the driver's
 * reason, the requirements are printed, and the error says what to do. */
START_TEST(test_check_without_gpu)
{
    static const uint16_t caps[] = {80, 90};
    char *plan = write_cuda_plan("gpu.plan", PLAN_HW_COMPAT_NONE, caps, 2, NULL,
                                 PLAN_TACTIC_BUILTIN | PLAN_TACTIC_CUBLAS, NULL);
    char *args = tu_printf("check '%s'", plan);
    char *out, *err;
    int rc = cli(args, &out, &err);
    ck_assert_msg(rc == 1, "check: exit %d\n%s\n%s", rc, out, err);
    ASSERT_HAS(out, "[ok]   container");
    ASSERT_HAS(out, "[ok]   version");
    ASSERT_HAS(out, "[FAIL] target");
    ASSERT_HAS(out, "requirements of the plan");
    ASSERT_HAS(out, "sm_80, sm_90 exactly");
    ASSERT_HAS(out, "123456789 bytes");
    ASSERT_HAS(out, "cublas (libcublas.so.13)");
    ASSERT_HAS(out, "none recorded (built offline)");
    ASSERT_HAS(out, "verdict: NOT loadable here");
    ASSERT_HAS(err, "cuda target");
    ASSERT_HAS(err, "no usable NVIDIA GPU");
    ASSERT_HAS(err, "/nonexistent/libcuda.so.1");
    ASSERT_HAS(err, "--target host");
    ASSERT_HAS(err, "onnx2plan check");
    free(out);
    free(err);
    /* run refuses the same way */
    free(args);
    args = tu_printf("run '%s'", plan);
    rc = cli(args, &out, &err);
    ck_assert_int_eq(rc, 1);
    ASSERT_HAS(err, "cuda target");
    ASSERT_HAS(err, "--target host");
    free(out);
    free(err);
    free(args);
    free(plan);
}
END_TEST

/* The requirements of ampere+ and same-cc plans, and a recorded build GPU. */
START_TEST(test_check_requirements)
{
    static const uint16_t caps[] = {80, 90, 100, 120};
    char *plan = write_cuda_plan("a.plan", PLAN_HW_COMPAT_AMPERE_PLUS, caps, 4, NULL,
                                 PLAN_TACTIC_BUILTIN, NULL);
    char *args = tu_printf("check '%s'", plan);
    char *out, *err;
    ck_assert_int_eq(cli(args, &out, &err), 1);
    ASSERT_HAS(out, "any GPU from sm_80 up (--hw-compat ampere+");
    ASSERT_HAS(out, "tactic sources         builtin\n");
    free(out);
    free(err);
    free(args);
    free(plan);

    static const uint16_t cc86[] = {86};
    plan_device_props props = {384, 6291456, 49152, 102400, 512, 84, 0};
    plan = write_cuda_plan("s.plan", PLAN_HW_COMPAT_SAME_CC, cc86, 1, &props, PLAN_TACTIC_BUILTIN,
                           NULL);
    args = tu_printf("check '%s'", plan);
    ck_assert_int_eq(cli(args, &out, &err), 1);
    ASSERT_HAS(out, "sm_86 exactly (--hw-compat same-cc)");
    ASSERT_HAS(out, "84 SMs, discrete, memory bus 384 bits, L2 6291456 bytes");
    free(out);
    free(err);
    free(args);
    free(plan);
}
END_TEST

/* A cuda plan of another onnx2plan version: inspect describes its header (target, compute
 * capabilities, hardware compatibility, build GPU); the ENGINE belongs to that version. */
START_TEST(test_inspect_other_version_header)
{
    static const uint16_t caps[] = {80, 90};
    plan_device_props props = {5120, 52428800, 49152, 233472, 512, 132, 0};
    plan_version old = {0, 9, 0, 0};
    char *plan = write_cuda_plan("old.plan", PLAN_HW_COMPAT_NONE, caps, 2, &props,
                                 PLAN_TACTIC_BUILTIN, &old);
    char *args = tu_printf("inspect '%s' --json", plan);
    char *out, *err;
    ck_assert_int_eq(cli(args, &out, &err), 0);
    ck_assert_msg(tu_json_valid(out), "not JSON:\n%s", out);
    ASSERT_HAS(out, "\"target\":\"cuda\"");
    ASSERT_HAS(out, "\"compute_capabilities\":[80,90]");
    ASSERT_HAS(out, "\"multiprocessor_count\":132");
    ASSERT_HAS(out, "\"images\": null");
    ASSERT_HAS(out, "\"layers\": null");
    free(out);
    free(err);
    free(args);
    args = tu_printf("inspect '%s'", plan);
    ck_assert_int_eq(cli(args, &out, &err), 0);
    ASSERT_HAS(out, "target             cuda sm_80, sm_90");
    ASSERT_HAS(out, "build device       132 SMs");
    ASSERT_HAS(out, "belongs to onnx2plan 0.9.0.0");
    free(out);
    free(err);
    free(args);
    free(plan);
    /* built offline: no build GPU recorded */
    plan = write_cuda_plan("old-offline.plan", PLAN_HW_COMPAT_NONE, caps, 2, NULL,
                           PLAN_TACTIC_BUILTIN, &old);
    args = tu_printf("inspect '%s'", plan);
    ck_assert_int_eq(cli(args, &out, &err), 0);
    ASSERT_HAS(out, "build device       none recorded");
    free(out);
    free(err);
    free(args);
    free(plan);
}
END_TEST

/* Plans built offline (no GPU: --arch / ampere+) through the builder: inspect lists their
 * kernel images and tactics without a GPU; check refuses them naming what they need; and with
 * the fake driver (a GPU of $FAKE_CUDA_CC) check runs the device checks. */

/* y = x @ W: an op that has a cuda lowering in every tree that has the cuda target. */
static o2p_network *matmul_network(void)
{
    o2p_network *net = NULL;
    ck_assert_int_eq(o2p_network_create(&net), O2P_OK);
    o2p_graph *g = o2p_network_get_graph(net);
    int64_t xd[2] = {4, 8}, wd[2] = {8, 16};
    float w[8 * 16];
    for (int i = 0; i < 8 * 16; i++)
        w[i] = (float)((i * 7) % 11) * 0.1f - 0.5f;
    o2p_tensor *x, *wt;
    ck_assert_int_eq(o2p_graph_add_input(g, "x", O2P_DTYPE_FLOAT, 2, xd, NULL, &x), O2P_OK);
    ck_assert_int_eq(o2p_graph_add_constant(g, "W", O2P_DTYPE_FLOAT, 2, wd, w, sizeof w, &wt),
                     O2P_OK);
    o2p_tensor *mm_in[2] = {x, wt};
    o2p_layer *mm;
    ck_assert_int_eq(o2p_graph_add_layer(g, "", "MatMul", "mm", 2, mm_in, 1, &mm), O2P_OK);
    ck_assert_int_eq(o2p_tensor_set_name(o2p_layer_get_output(mm, 0), "y"), O2P_OK);
    ck_assert_int_eq(o2p_graph_mark_output(g, o2p_layer_get_output(mm, 0)), O2P_OK);
    return net;
}

/* Builds it for archs (n 0: ampere+) into dir/name; NULL when NVRTC cannot be loaded here. */
static char *build_cuda(const char *name, const int *archs, int n)
{
    o2p_builder_config *c = NULL;
    o2p_builder *b = NULL;
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_set_target(c, O2P_TARGET_CUDA, n ? archs : NULL, n),
                     O2P_OK);
    ck_assert_int_eq(o2p_builder_config_set_hardware_compatibility_level(
                         c, n ? O2P_HW_COMPAT_NONE : O2P_HW_COMPAT_AMPERE_PLUS),
                     O2P_OK);
    char *cache = tu_printf("%s", tu_kernel_cache());
    ck_assert_int_eq(o2p_builder_config_set_kernel_cache(c, cache), O2P_OK);
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    o2p_network *net = matmul_network();
    void *bytes = NULL;
    size_t size = 0;
    o2p_status st = o2p_builder_build_serialized(b, net, c, &bytes, &size);
    char *plan = NULL;
    if (st == O2P_OK) {
        plan = tu_printf("%s/%s", dir, name);
        ck_assert_int_eq(tu_write_file(plan, bytes, size), 0);
    } else {
        ck_assert_msg(tu_icontains(o2p_last_error(), "nvrtc"), "the build failed: %s",
                      o2p_last_error());
        printf("test_cuda_cli: SKIPPED built plans: %s\n", o2p_last_error());
    }
    o2p_free(bytes);
    o2p_network_destroy(net);
    o2p_builder_destroy(b);
    o2p_builder_config_destroy(c);
    free(cache);
    return plan;
}

START_TEST(test_built_cuda_plans)
{
    static const int two[] = {80, 90};
    char *plan = build_cuda("sm.plan", two, 2);
    if (!plan)
        return;
    char *args = tu_printf("inspect '%s' --json", plan);
    char *out, *err;
    ck_assert_int_eq(cli(args, &out, &err), 0);
    ck_assert_msg(tu_json_valid(out), "not JSON:\n%s", out);
    ASSERT_HAS(out, "\"target\":\"cuda\"");
    ASSERT_HAS(out, "\"compute_capabilities\":[80,90]");
    ASSERT_HAS(out, "\"kind\": \"sass\", \"arch\": \"sm_80\"");
    ASSERT_HAS(out, "\"kind\": \"sass\", \"arch\": \"sm_90\"");
    ck_assert(!tu_contains(out, "\"kind\": \"ptx\""));
    ASSERT_HAS(out, "{\"family\": \"gemm\"");
    ck_assert(!tu_contains(out, "\"bytes\": 0}"));
    ASSERT_HAS(out, "\"tactic\": {\"source\": \"builtin\", \"kernel\": ");
    ASSERT_HAS(out, "\"smem_bytes\": ");
    ASSERT_HAS(out, "\"arch_specific\": ");
    free(out);
    free(err);
    free(args);
    args = tu_printf("inspect '%s' --layers", plan);
    ck_assert_int_eq(cli(args, &out, &err), 0);
    ASSERT_HAS(out, "kernel images: 2\n");
    ASSERT_HAS(out, "gemm             SASS sm_90 ");
    ASSERT_HAS(out, " tactic builtin/");
    free(out);
    free(err);
    free(args);
    args = tu_printf("check '%s'", plan);
    ck_assert_int_eq(cli(args, &out, &err), 1);
    ASSERT_HAS(out, "[FAIL] target");
    ASSERT_HAS(out, "kernel images          sm_80, sm_90 (2 images");
    ASSERT_HAS(out, "every table entry valid (read without a GPU)");
    ASSERT_HAS(err, "--target host");
    free(out);
    free(err);
    free(args);

    /* the fake driver's GPU: an sm_86 is refused by compute capability, with what to do */
    char *fake = tu_printf("%.*s/tests/libo2p_fake_cuda.so",
                           (int)(strrchr(O2P_CLI_PATH, '/') - O2P_CLI_PATH), O2P_CLI_PATH);
    if (access(fake, R_OK) == 0) {
        args = tu_printf("check '%s'", plan);
        setenv("O2P_CUDA_DRIVER_LIBRARY", fake, 1);
        setenv("FAKE_CUDA_CC", "86", 1);
        setenv("FAKE_CUDA_NAME", "Fake A10", 1);
        ck_assert_int_eq(cli(args, &out, &err), 1);
        ASSERT_HAS(out, "[ok]   target             cuda: device 0, Fake A10 (sm_86)");
        ASSERT_HAS(out, "[FAIL] compute capability");
        ASSERT_HAS(out, "[ok]   device props       not compared");
        ASSERT_HAS(err, "compute capability sm_80, sm_90");
        ASSERT_HAS(err, "--arch sm_86");
        free(out);
        free(err);
        /* too little free device memory */
        setenv("FAKE_CUDA_CC", "90", 1);
        setenv("FAKE_CUDA_FREE", "100", 1);
        ck_assert_int_eq(cli(args, &out, &err), 1);
        ASSERT_HAS(out, "[ok]   compute capability");
        ASSERT_HAS(out, "[FAIL] device memory");
        ASSERT_HAS(err, "has 100 bytes free");
        free(out);
        free(err);
        free(args);
        unsetenv("FAKE_CUDA_FREE");
        setenv("O2P_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1);
    } else {
        printf("test_cuda_cli: no fake driver at %s (build the o2p_fake_cuda target)\n", fake);
    }
    free(fake);
    free(plan);

    plan = build_cuda("ampere.plan", NULL, 0);
    ck_assert_ptr_nonnull(plan);
    args = tu_printf("inspect '%s' --json", plan);
    int rc = cli(args, &out, &err);
    ck_assert_msg(rc == 0, "inspect: exit %d: %s", rc, err);
    ck_assert_msg(tu_json_valid(out), "not JSON:\n%s", out);
    ASSERT_HAS(out, "\"hardware_compatibility\":\"ampere+\"");
    ASSERT_HAS(out, "\"kind\": \"ptx\", \"arch\": \"compute_80\"");
    ASSERT_HAS(out, "\"kind\": \"sass\", \"arch\": \"sm_80\"");
    ASSERT_HAS(out, "\"kind\": \"sass\", \"arch\": \"sm_90\"");
    /* ampere+ excludes arch-specific tactics */
    ck_assert(!tu_contains(out, "\"arch_specific\": true"));
    free(out);
    free(err);
    free(args);
    args = tu_printf("check '%s'", plan);
    ck_assert_int_eq(cli(args, &out, &err), 1);
    ASSERT_HAS(out, "any GPU from sm_80 up");
    ASSERT_HAS(out, "compute_80");
    free(out);
    free(err);
    free(args);
    free(plan);
}
END_TEST

static Suite *cuda_cli_suite(void)
{
    Suite *s = suite_create("cuda_cli");
    TCase *tc = tcase_create("no_gpu");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_check_without_gpu);
    tcase_add_test(tc, test_check_requirements);
    tcase_add_test(tc, test_inspect_other_version_header);
    tcase_add_test(tc, test_built_cuda_plans);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tu_quiet_log();
    return tu_run_suite(cuda_cli_suite());
}
