/* test_device_check.c: the compatibility rules of DESIGN.md §5 between a cuda plan and a GPU
 * (rt_check_device), over synthetic plan headers and device records, for standard and
 * version-compatible plans alike: compute capability per hardware-compatibility level, each
 * device-property warning, device memory, tactic-source libraries; and rt_check_plan on a
 * cuda plan where no driver loads. No GPU needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "testutil.h"

/* ---------------------------------------------------------------- records */

static const plan_device_props h100_props = {
    .memory_bus_width = 5120,
    .l2_cache_size = 52428800,
    .shared_mem_per_block = 49152,
    .shared_mem_per_multiprocessor = 233472,
    .texture_alignment = 512,
    .multiprocessor_count = 132,
    .integrated = 0,
};

/* _i of a loop test: 0 a standard plan, 1 a version-compatible one (the device rules are the
 * same for both, DESIGN.md §5). */
static plan_header header_for(int vc, plan_hw_compat hw, uint16_t cc)
{
    plan_header h;
    plan_header_init(&h);
    h.target = PLAN_TARGET_CUDA;
    h.hw_compat = hw;
    h.compute_cap_count = 1;
    h.compute_caps[0] = cc;
    h.device = h100_props;
    h.device_memory_size = 1u << 30;
    h.tactic_sources = PLAN_TACTIC_BUILTIN;
    if (vc)
        h.flags = PLAN_FLAG_VERSION_COMPATIBLE | PLAN_FLAG_LEAN_RUNTIME_EMBEDDED |
                  PLAN_FLAG_HOST_CODE;
    return h;
}

static cuda_device_info device_for(int cc)
{
    cuda_device_info d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "Test GPU sm_%d", cc);
    d.compute_cap = cc;
    d.memory_bus_width = h100_props.memory_bus_width;
    d.l2_cache_size = h100_props.l2_cache_size;
    d.shared_mem_per_block = h100_props.shared_mem_per_block;
    d.shared_mem_per_block_optin = 232448;
    d.shared_mem_per_multiprocessor = h100_props.shared_mem_per_multiprocessor;
    d.texture_alignment = h100_props.texture_alignment;
    d.multiprocessor_count = h100_props.multiprocessor_count;
    d.integrated = h100_props.integrated;
    d.total_memory = 80ull << 30;
    d.free_memory = 79ull << 30;
    d.driver_version = 13000;
    return d;
}

/* ---------------------------------------------------------------- what the checks said */

typedef struct line {
    char check[32];
    int ok;
    char detail[1024];
} line;

typedef struct check_log {
    line lines[32];
    int count;
    int warnings_logged;
    char last_warning[1024];
} check_log;

static check_log seen;

static void record(void *user, const char *check, int ok, const char *detail)
{
    check_log *l = user;
    ck_assert_int_lt(l->count, 32);
    line *x = &l->lines[l->count++];
    snprintf(x->check, sizeof x->check, "%s", check);
    x->ok = ok;
    snprintf(x->detail, sizeof x->detail, "%s", detail);
}

static void logger(void *user, o2p_severity severity, const char *message)
{
    (void)user;
    if (severity == O2P_SEVERITY_WARNING) {
        seen.warnings_logged++;
        snprintf(seen.last_warning, sizeof seen.last_warning, "%s", message);
    }
}

static const line *find_line(const check_log *l, const char *check)
{
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->lines[i].check, check) == 0)
            return &l->lines[i];
    return NULL;
}

static int count_ok(const check_log *l, int ok)
{
    int n = 0;
    for (int i = 0; i < l->count; i++)
        n += l->lines[i].ok == ok;
    return n;
}

/* Probes that say every library / no library is there, and remember what they were asked. */
static char probed[8][64];
static int num_probed;
static int probe_all(const char *soname)
{
    snprintf(probed[num_probed++ % 8], 64, "%s", soname);
    return 1;
}
static int probe_none(const char *soname)
{
    snprintf(probed[num_probed++ % 8], 64, "%s", soname);
    return 0;
}
/* Only libcublas.so.13 is missing. */
static int probe_no_cublas(const char *soname)
{
    snprintf(probed[num_probed++ % 8], 64, "%s", soname);
    return strcmp(soname, RT_LIB_CUBLAS) != 0;
}

static o2p_status run_check(const plan_header *h, const cuda_device_info *d,
                            rt_library_probe_fn probe, int *warnings)
{
    memset(&seen, 0, sizeof seen);
    num_probed = 0;
    o2p_set_logger(logger, NULL, O2P_SEVERITY_WARNING);
    return rt_check_device(h, d, "test.plan", probe, record, &seen, warnings);
}

/* ---------------------------------------------------------------- compute capability */

/* hw none: the device must be one of the plan's compute capabilities. */
START_TEST(test_none_same_cc_passes)
{
    plan_header h = header_for(_i, PLAN_HW_COMPAT_NONE, 90);
    cuda_device_info d = device_for(90);
    int warnings = -1;
    ck_assert_int_eq(run_check(&h, &d, probe_all, &warnings), O2P_OK);
    ck_assert_int_eq(warnings, 0);
    ck_assert_int_eq(count_ok(&seen, 0), 0);
    ck_assert_int_eq(count_ok(&seen, RT_CHECK_WARNING), 0);
    ck_assert_int_eq(seen.warnings_logged, 0);
    /* every check reported, in order: compute capability, the 7 properties, memory, sources */
    ck_assert_int_eq(seen.count, 10);
    ck_assert_str_eq(seen.lines[0].check, "compute capability");
    ck_assert_str_eq(seen.lines[8].check, "device memory");
    ck_assert_str_eq(seen.lines[9].check, "tactic sources");
    ck_assert(tu_contains(seen.lines[0].detail, "sm_90"));
    ck_assert(tu_contains(seen.lines[0].detail, "Test GPU sm_90"));
    ck_assert_int_eq(num_probed, 0); /* builtin only: no library probed */
}
END_TEST

START_TEST(test_none_other_cc_refused)
{
    plan_header h = header_for(_i, PLAN_HW_COMPAT_NONE, 80);
    cuda_device_info d = device_for(90);
    ck_assert_int_eq(run_check(&h, &d, probe_all, NULL), O2P_ERR_UNSUPPORTED);
    const char *msg = o2p_last_error();
    ck_assert(tu_contains(msg, "test.plan"));
    ck_assert(tu_contains(msg, "compute capability sm_80"));
    ck_assert(tu_contains(msg, "Test GPU sm_90"));
    ck_assert(tu_contains(msg, "is sm_90"));
    ck_assert(tu_contains(msg, "--arch sm_90"));
    ck_assert(tu_contains(msg, "--hw-compat ampere+"));
    const line *cc = find_line(&seen, "compute capability");
    ck_assert_ptr_nonnull(cc);
    ck_assert_int_eq(cc->ok, 0);
    /* a newer minor of the same major is refused too: a cubin of another cc does not load */
    h = header_for(_i, PLAN_HW_COMPAT_NONE, 86);
    d = device_for(89);
    ck_assert_int_eq(run_check(&h, &d, probe_all, NULL), O2P_ERR_UNSUPPORTED);
    d = device_for(80);
    ck_assert_int_eq(run_check(&h, &d, probe_all, NULL), O2P_ERR_UNSUPPORTED);
}
END_TEST

/* A plan for several compute capabilities runs on each and on no other. */
START_TEST(test_none_several_caps)
{
    plan_header h = header_for(_i, PLAN_HW_COMPAT_NONE, 80);
    h.compute_cap_count = 2;
    h.compute_caps[1] = 90;
    static const int ok[] = {80, 90};
    static const int refused[] = {75, 86, 89, 100, 120};
    for (size_t k = 0; k < 2; k++) {
        cuda_device_info d = device_for(ok[k]);
        ck_assert_int_eq(run_check(&h, &d, probe_all, NULL), O2P_OK);
    }
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        cuda_device_info d = device_for(refused[k]);
        ck_assert_int_eq(run_check(&h, &d, probe_all, NULL), O2P_ERR_UNSUPPORTED);
        ck_assert(tu_contains(o2p_last_error(), "sm_80, sm_90"));
    }
}
END_TEST

START_TEST(test_same_cc)
{
    plan_header h = header_for(_i, PLAN_HW_COMPAT_SAME_CC, 86);
    cuda_device_info d = device_for(86);
    /* a different GPU of the same compute capability: no property warnings */
    d.multiprocessor_count = 84;
    d.l2_cache_size = 6291456;
    d.memory_bus_width = 384;
    int warnings = -1;
    ck_assert_int_eq(run_check(&h, &d, probe_all, &warnings), O2P_OK);
    ck_assert_int_eq(warnings, 0);
    ck_assert_int_eq(seen.warnings_logged, 0);
    ck_assert_int_eq(count_ok(&seen, RT_CHECK_WARNING), 0);
    const line *props = find_line(&seen, "device props");
    ck_assert_ptr_nonnull(props);
    ck_assert(tu_contains(props->detail, "same-cc"));
    static const int refused[] = {80, 87, 89, 90};
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        d = device_for(refused[k]);
        ck_assert_int_eq(run_check(&h, &d, probe_all, NULL), O2P_ERR_UNSUPPORTED);
        const char *msg = o2p_last_error();
        ck_assert(tu_contains(msg, "same-cc"));
        ck_assert(tu_contains(msg, "sm_86"));
        char want[32];
        snprintf(want, sizeof want, "--arch sm_%d", refused[k]);
        ck_assert(tu_contains(msg, want));
    }
}
END_TEST

START_TEST(test_ampere_plus)
{
    plan_header h = header_for(_i, PLAN_HW_COMPAT_AMPERE_PLUS, 80);
    h.compute_cap_count = 4;
    h.compute_caps[1] = 90;
    h.compute_caps[2] = 100;
    h.compute_caps[3] = 120;
    static const int ok[] = {80, 86, 87, 89, 90, 100, 103, 120, 121};
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
        cuda_device_info d = device_for(ok[k]);
        d.multiprocessor_count = 10 + (uint32_t)k; /* other GPUs: never a warning */
        d.integrated = 1;
        int warnings = -1;
        ck_assert_int_eq(run_check(&h, &d, probe_all, &warnings), O2P_OK);
        ck_assert_int_eq(warnings, 0);
        ck_assert_int_eq(seen.warnings_logged, 0);
        ck_assert(tu_contains(find_line(&seen, "device props")->detail, "ampere+"));
    }
    static const int refused[] = {70, 75};
    for (size_t k = 0; k < 2; k++) {
        cuda_device_info d = device_for(refused[k]);
        ck_assert_int_eq(run_check(&h, &d, probe_all, NULL), O2P_ERR_UNSUPPORTED);
        const char *msg = o2p_last_error();
        ck_assert(tu_contains(msg, "ampere+"));
        ck_assert(tu_contains(msg, "compute capability sm_80"));
        char want[32];
        snprintf(want, sizeof want, "--arch sm_%d", refused[k]);
        ck_assert(tu_contains(msg, want));
    }
}
END_TEST

/* ---------------------------------------------------------------- device properties */

/* Each property that differs from the build GPU's is one warning (log and check line), and
 * the plan still passes. _i: property index * 2 + vc. */
START_TEST(test_each_property_warns)
{
    int prop = _i / 2, vc = _i % 2;
    static const char *const checks[] = {"memory bus", "L2 cache", "smem/block", "smem/SM",
                                         "texture align", "SM count", "integrated"};
    static const char *const words[] = {"memory bus width", "L2 cache size",
                                        "shared memory per block",
                                        "shared memory per multiprocessor", "texture alignment",
                                        "multiprocessor count", "integrated"};
    plan_header h = header_for(vc, PLAN_HW_COMPAT_NONE, 90);
    cuda_device_info d = device_for(90);
    switch (prop) {
    case 0: d.memory_bus_width = 4096; break;
    case 1: d.l2_cache_size = 41943040; break;
    case 2: d.shared_mem_per_block = 65536; break;
    case 3: d.shared_mem_per_multiprocessor = 167936; break;
    case 4: d.texture_alignment = 256; break;
    case 5: d.multiprocessor_count = 114; break;
    case 6: d.integrated = 1; break;
    }
    int warnings = -1;
    ck_assert_int_eq(run_check(&h, &d, probe_all, &warnings), O2P_OK);
    ck_assert_int_eq(warnings, 1);
    ck_assert_int_eq(seen.warnings_logged, 1);
    ck_assert_int_eq(count_ok(&seen, RT_CHECK_WARNING), 1);
    ck_assert_int_eq(count_ok(&seen, 0), 0);
    const line *l = find_line(&seen, checks[prop]);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(l->ok, RT_CHECK_WARNING);
    ck_assert_msg(tu_contains(seen.last_warning, words[prop]), "warning: %s", seen.last_warning);
    ck_assert(tu_contains(seen.last_warning, "test.plan"));
    ck_assert(tu_contains(seen.last_warning, "Test GPU sm_90"));
    static const char *const here[] = {"4096", "41943040", "65536", "167936", "256", "114",
                                       "integrated"};
    static const char *const built[] = {"5120", "52428800", "49152", "233472", "512", "132",
                                        "discrete"};
    ck_assert_msg(tu_contains(l->detail, here[prop]) && tu_contains(l->detail, built[prop]),
                  "line: %s", l->detail);
    /* the same difference under a hardware-compatibility level: no warning */
    h.hw_compat = PLAN_HW_COMPAT_SAME_CC;
    ck_assert_int_eq(run_check(&h, &d, probe_all, &warnings), O2P_OK);
    ck_assert_int_eq(warnings, 0);
    ck_assert_int_eq(seen.warnings_logged, 0);
}
END_TEST

START_TEST(test_all_properties_differ)
{
    plan_header h = header_for(_i, PLAN_HW_COMPAT_NONE, 80);
    cuda_device_info d = device_for(80);
    d.memory_bus_width = 1;
    d.l2_cache_size = 2;
    d.shared_mem_per_block = 3;
    d.shared_mem_per_multiprocessor = 4;
    d.texture_alignment = 5;
    d.multiprocessor_count = 6;
    d.integrated = 1;
    int warnings = 0;
    ck_assert_int_eq(run_check(&h, &d, probe_all, &warnings), O2P_OK);
    ck_assert_int_eq(warnings, 7);
    ck_assert_int_eq(seen.warnings_logged, 7);
}
END_TEST

/* A plan built offline recorded no build GPU: nothing to compare, no warning. */
START_TEST(test_no_build_device)
{
    plan_header h = header_for(_i, PLAN_HW_COMPAT_NONE, 90);
    memset(&h.device, 0, sizeof h.device);
    cuda_device_info d = device_for(90);
    int warnings = -1;
    ck_assert_int_eq(run_check(&h, &d, probe_all, &warnings), O2P_OK);
    ck_assert_int_eq(warnings, 0);
    ck_assert_int_eq(seen.warnings_logged, 0);
    const line *l = find_line(&seen, "device props");
    ck_assert_ptr_nonnull(l);
    ck_assert(tu_contains(l->detail, "offline"));
    ck_assert_ptr_null(find_line(&seen, "SM count"));
}
END_TEST

/* ---------------------------------------------------------------- device memory */

START_TEST(test_device_memory)
{
    plan_header h = header_for(_i, PLAN_HW_COMPAT_NONE, 90);
    h.device_memory_size = 3000000000ull;
    cuda_device_info d = device_for(90);
    d.free_memory = 2999999999ull;
    d.total_memory = 4000000000ull;
    ck_assert_int_eq(run_check(&h, &d, probe_all, NULL), O2P_ERR_OUT_OF_MEMORY);
    const char *msg = o2p_last_error();
    ck_assert(tu_contains(msg, "3000000000"));
    ck_assert(tu_contains(msg, "2999999999"));
    ck_assert(tu_contains(msg, "test.plan"));
    ck_assert(tu_contains(msg, "device memory"));
    ck_assert_int_eq(find_line(&seen, "device memory")->ok, 0);
    d.free_memory = 3000000000ull; /* exactly enough */
    ck_assert_int_eq(run_check(&h, &d, probe_all, NULL), O2P_OK);
    ck_assert_int_eq(find_line(&seen, "device memory")->ok, 1);
}
END_TEST

/* ---------------------------------------------------------------- tactic sources */

START_TEST(test_tactic_sources)
{
    static const struct {
        uint32_t bit;
        const char *soname;
        const char *name;
    } libs[] = {{PLAN_TACTIC_CUBLAS, "libcublas.so.13", "cublas"},
                {PLAN_TACTIC_CUBLASLT, "libcublasLt.so.13", "cublaslt"},
                {PLAN_TACTIC_CUDNN, "libcudnn.so.9", "cudnn"}};
    for (size_t k = 0; k < 3; k++) {
        plan_header h = header_for(_i, PLAN_HW_COMPAT_NONE, 90);
        h.tactic_sources |= libs[k].bit;
        cuda_device_info d = device_for(90);
        ck_assert_int_eq(run_check(&h, &d, probe_all, NULL), O2P_OK);
        ck_assert_int_eq(num_probed, 1);
        ck_assert_str_eq(probed[0], libs[k].soname);
        ck_assert_int_eq(run_check(&h, &d, probe_none, NULL), O2P_ERR_UNSUPPORTED);
        const char *msg = o2p_last_error();
        ck_assert_msg(tu_contains(msg, libs[k].soname), "message: %s", msg);
        ck_assert(tu_contains(msg, libs[k].name));
        ck_assert(tu_contains(msg, "test.plan"));
        ck_assert_int_eq(find_line(&seen, "tactic sources")->ok, 0);
    }
    /* all three: only the missing one is named */
    plan_header h = header_for(_i, PLAN_HW_COMPAT_NONE, 90);
    h.tactic_sources = PLAN_TACTICS_KNOWN;
    cuda_device_info d = device_for(90);
    ck_assert_int_eq(run_check(&h, &d, probe_no_cublas, NULL), O2P_ERR_UNSUPPORTED);
    ck_assert_int_eq(num_probed, 3);
    ck_assert(tu_contains(o2p_last_error(), "libcublas.so.13"));
    ck_assert(!tu_contains(o2p_last_error(), "libcudnn"));
}
END_TEST

/* cuBLAS/cuDNN are disabled under a hardware-compatibility level: a plan that says it uses
 * them there was not made by the builder. */
START_TEST(test_tactic_sources_under_hw_compat)
{
    plan_header h = header_for(_i, PLAN_HW_COMPAT_AMPERE_PLUS, 80);
    h.tactic_sources |= PLAN_TACTIC_CUDNN;
    cuda_device_info d = device_for(90);
    ck_assert_int_eq(run_check(&h, &d, probe_all, NULL), O2P_ERR_PARSE);
    ck_assert(tu_contains(o2p_last_error(), "ampere+"));
    ck_assert_int_eq(num_probed, 0);
}
END_TEST

START_TEST(test_library_probe)
{
    ck_assert_int_eq(rt_library_present("libc.so.6"), 1);
    ck_assert_int_eq(rt_library_present("libo2p-no-such-library.so.1"), 0);
}
END_TEST

/* Every check runs and reports; the verdict is the first failure's message. */
START_TEST(test_every_check_reports)
{
    plan_header h = header_for(_i, PLAN_HW_COMPAT_NONE, 80);
    h.tactic_sources |= PLAN_TACTIC_CUBLAS;
    h.device_memory_size = 100ull << 30;
    cuda_device_info d = device_for(90);
    d.multiprocessor_count = 1;
    int warnings = 0;
    ck_assert_int_eq(run_check(&h, &d, probe_none, &warnings), O2P_ERR_UNSUPPORTED);
    ck_assert(tu_contains(o2p_last_error(), "--arch sm_90"));
    ck_assert_int_eq(warnings, 1);
    ck_assert_int_eq(find_line(&seen, "compute capability")->ok, 0);
    ck_assert_int_eq(find_line(&seen, "SM count")->ok, RT_CHECK_WARNING);
    ck_assert_int_eq(find_line(&seen, "device memory")->ok, 0);
    ck_assert_int_eq(find_line(&seen, "tactic sources")->ok, 0);
}
END_TEST

/* ---------------------------------------------------------------- no driver */

/* rt_check_plan on a cuda plan where the driver does not load: the target check fails with
 * the driver's reason, what the plan is, and what to do. */
START_TEST(test_check_plan_without_driver)
{
    setenv("O2P_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1);
    /* a version-compatible plan of this version runs on the built-in lean runtime: its
     * version checks pass without host code allowed (and without a LEAN_RUNTIME section) */
    plan_header h = header_for(_i, PLAN_HW_COMPAT_NONE, 90);
    if (_i)
        h.flags = PLAN_FLAG_VERSION_COMPATIBLE | PLAN_FLAG_LEAN_RUNTIME_EXCLUDED;
    static const unsigned char engine[16] = {'O', '2', 'P', 'E'};
    plan_section_desc s = {PLAN_SECTION_ENGINE, 0, 0, engine, sizeof engine};
    uint8_t *bytes = NULL;
    size_t size = 0;
    ck_assert_int_eq(plan_write_alloc(&h, &s, 1, &bytes, &size), O2P_OK);
    o2p_runtime *rt = NULL;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    plan_view *view = malloc(sizeof *view);
    rt_route route;
    memset(&seen, 0, sizeof seen);
    o2p_status st = rt_check_plan(rt, bytes, size, "gpu.plan", view, &route, record, &seen);
    ck_assert_int_eq(st, O2P_ERR_UNSUPPORTED);
    const char *msg = o2p_last_error();
    ck_assert_msg(tu_contains(msg, "cuda target"), "message: %s", msg);
    ck_assert(tu_contains(msg, "gpu.plan"));
    ck_assert(tu_contains(msg, "no usable NVIDIA GPU"));
    ck_assert(tu_contains(msg, "/nonexistent/libcuda.so.1")); /* the driver's own reason */
    ck_assert(tu_contains(msg, "onnx2plan check"));
    ck_assert(tu_contains(msg, "--target host"));
    const line *t = find_line(&seen, "target");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->ok, 0);
    ck_assert_int_eq(find_line(&seen, "version")->ok, 1);
    /* and the public check says the same */
    ck_assert_int_eq(o2p_runtime_check(rt, bytes, size, "gpu.plan"), O2P_ERR_UNSUPPORTED);
    ck_assert(tu_contains(o2p_last_error(), "cuda target"));
    o2p_engine *e = NULL;
    ck_assert_int_eq(o2p_runtime_deserialize(rt, bytes, size, &e), O2P_ERR_UNSUPPORTED);
    ck_assert_ptr_null(e);
    free(view);
    o2p_runtime_destroy(rt);
    free(bytes);
}
END_TEST

static Suite *device_check_suite(void)
{
    Suite *s = suite_create("device_check");
    TCase *tc = tcase_create("rules");
    tcase_add_loop_test(tc, test_none_same_cc_passes, 0, 2);
    tcase_add_loop_test(tc, test_none_other_cc_refused, 0, 2);
    tcase_add_loop_test(tc, test_none_several_caps, 0, 2);
    tcase_add_loop_test(tc, test_same_cc, 0, 2);
    tcase_add_loop_test(tc, test_ampere_plus, 0, 2);
    tcase_add_loop_test(tc, test_each_property_warns, 0, 14);
    tcase_add_loop_test(tc, test_all_properties_differ, 0, 2);
    tcase_add_loop_test(tc, test_no_build_device, 0, 2);
    tcase_add_loop_test(tc, test_device_memory, 0, 2);
    tcase_add_loop_test(tc, test_tactic_sources, 0, 2);
    tcase_add_loop_test(tc, test_tactic_sources_under_hw_compat, 0, 2);
    tcase_add_test(tc, test_library_probe);
    tcase_add_loop_test(tc, test_every_check_reports, 0, 2);
    tcase_add_loop_test(tc, test_check_plan_without_driver, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tu_quiet_log();
    return tu_run_suite(device_check_suite());
}
