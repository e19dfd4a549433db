/* test_host_code_gate.c: a plan whose embedded library is hostile (an ELF constructor that
 * creates a file the moment the library is loaded) is never loaded unless host code is
 * allowed, through any entry point: o2p_runtime_check, o2p_runtime_deserialize(_file), and
 * the CLI's check, inspect and run. The library rides in a PLUGIN_LIBRARY section
 * (--serialize-plugins) and, as a fake lean runtime, in the LEAN_RUNTIME section of a
 * version-compatible plan from an older version (which this runtime would run through the
 * lean runtime it carries). With host code allowed the file does appear: the test can fail. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/plan.h"
#include "testutil.h"

#define MARKER_ENV "O2P_TEST_HOSTILE_MARKER"

/* The hostile library: a valid plugin library (no creators), so that loading it succeeds
 * when allowed; its constructor runs at dlopen, before any check of what it exports. */
static const char hostile_source[] =
    "#include <fcntl.h>\n"
    "#include <stdlib.h>\n"
    "#include <unistd.h>\n"
    "#include \"o2p/plugin.h\"\n"
    "__attribute__((constructor)) static void hostile(void)\n"
    "{\n"
    "    const char *path = getenv(\"" MARKER_ENV "\");\n"
    "    if (!path || !*path)\n"
    "        return;\n"
    "    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);\n"
    "    if (fd >= 0) {\n"
    "        if (write(fd, \"owned\\n\", 6) != 6) {}\n"
    "        close(fd);\n"
    "    }\n"
    "}\n"
    "static const o2p_plugin_library lib = {sizeof lib, O2P_PLUGIN_ABI_MAJOR,\n"
    "                                       O2P_PLUGIN_ABI_MINOR, \"hostile\", 0, NULL};\n"
    "__attribute__((visibility(\"default\"))) const o2p_plugin_library *\n"
    "o2p_get_plugin_library(uint32_t major)\n"
    "{\n"
    "    return major == O2P_PLUGIN_ABI_MAJOR ? &lib : NULL;\n"
    "}\n";

typedef struct fixture {
    char *dir;
    char *lib;         /* the hostile .so */
    char *marker;      /* the file its constructor creates */
    char *plugin_plan; /* tiny_cnn with the library as a PLUGIN_LIBRARY section */
    char *lean_plan;   /* a version-compatible plan of an older version, the library as its
                          LEAN_RUNTIME */
} fixture;

static int marker_exists(const fixture *f)
{
    struct stat st;
    return stat(f->marker, &st) == 0;
}

static void build_dir_of_cli(char *out, size_t size)
{
    char *cli = strdup(O2P_CLI_PATH);
    snprintf(out, size, "%s", dirname(cli));
    free(cli);
}

static int have_cc(void)
{
    return system("command -v cc >/dev/null 2>&1") == 0;
}

static void cli_ok(const char *args)
{
    char *err = NULL;
    int rc = tu_run_cli(args, NULL, &err);
    ck_assert_msg(rc == 0, "onnx2plan %s failed (%d): %s", args, rc, err ? err : "");
    free(err);
}

/* An older version of the same major (or the previous major when this is M.0.0.0): a
 * version-compatible plan of it runs here through the lean runtime it carries. */
static plan_version older_version(void)
{
    plan_version v = plan_this_version();
    if (v.build)
        v.build--;
    else if (v.patch)
        v.patch--;
    else if (v.minor)
        v.minor--;
    else
        v.major--;
    return v;
}

static void setup(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->dir = tu_tempdir();
    f->lib = tu_printf("%s/libhostile.so", f->dir);
    f->marker = tu_printf("%s/owned", f->dir);
    char *src = tu_printf("%s/hostile.c", f->dir);
    ck_assert_int_eq(tu_write_file(src, hostile_source, strlen(hostile_source)), 0);
    char bdir[4096];
    build_dir_of_cli(bdir, sizeof bdir);
    char *cmd = tu_printf("cc -std=gnu11 -shared -fPIC -fvisibility=hidden -I'%s/include' "
                          "-I'%s/include' -o '%s' '%s' 2>&1",
                          O2P_SOURCE_DIR, bdir, f->lib, src);
    ck_assert_msg(system(cmd) == 0, "cannot build the hostile library: %s", cmd);
    free(cmd);
    free(src);
    /* Everything below runs with the marker armed: building a plan only reads the library. */
    ck_assert_int_eq(setenv(MARKER_ENV, f->marker, 1), 0);

    f->plugin_plan = tu_printf("%s/plugin.plan", f->dir);
    char *args = tu_printf("'%s/models/tiny_cnn.onnx' --target host --shapes input:1x3x32x32 "
                           "--serialize-plugins '%s' -o '%s'",
                           O2P_SOURCE_DIR, f->lib, f->plugin_plan);
    cli_ok(args);
    free(args);

    char *vc = tu_printf("%s/vc.plan", f->dir);
    args = tu_printf("'%s/models/tiny_cnn.onnx' --target host --shapes input:1x3x32x32 "
                     "--version-compatible -o '%s'",
                     O2P_SOURCE_DIR, vc);
    cli_ok(args);
    free(args);
    size_t size, lib_size;
    char *plan = tu_read_file(vc, &size);
    char *lib_bytes = tu_read_file(f->lib, &lib_size);
    ck_assert(plan && lib_bytes);
    plan_view v;
    TU_ASSERT_STATUS(plan_read(plan, size, vc, &v), O2P_OK);
    plan_section_desc s[PLAN_MAX_SECTIONS];
    int replaced = 0;
    for (uint32_t i = 0; i < v.section_count; i++) {
        s[i] = (plan_section_desc){v.sections[i].type, v.sections[i].flags, v.sections[i].alignment,
                                   v.sections[i].data, (size_t)v.sections[i].size};
        if (v.sections[i].type == PLAN_SECTION_LEAN_RUNTIME) {
            s[i].data = lib_bytes;
            s[i].size = lib_size;
            replaced = 1;
        }
    }
    ck_assert_msg(replaced, "the version-compatible plan carries no LEAN_RUNTIME section");
    plan_header h = v.header;
    h.producer = older_version();
    uint8_t *out;
    size_t out_size;
    TU_ASSERT_STATUS(plan_write_alloc(&h, s, v.section_count, &out, &out_size), O2P_OK);
    f->lean_plan = tu_printf("%s/lean.plan", f->dir);
    ck_assert_int_eq(tu_write_file(f->lean_plan, out, out_size), 0);
    free(out);
    free(plan);
    free(lib_bytes);
    free(vc);
    ck_assert_msg(!marker_exists(f), "building the plans loaded the library");
}

static void teardown(fixture *f)
{
    unsetenv(MARKER_ENV);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->lib);
    free(f->marker);
    free(f->plugin_plan);
    free(f->lean_plan);
}

/* Every entry point, host code not allowed: each refuses (or, inspect, reads only the
 * tables), and the constructor never runs. */
static void never_loaded(const fixture *f, const char *plan_path)
{
    size_t size;
    char *plan = tu_read_file(plan_path, &size);
    ck_assert_ptr_nonnull(plan);
    o2p_runtime *rt;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    TU_ASSERT_STATUS(o2p_runtime_check(rt, plan, size, plan_path), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("host code");
    ck_assert_msg(!marker_exists(f), "o2p_runtime_check loaded %s", plan_path);
    o2p_engine *e = NULL;
    TU_ASSERT_STATUS(o2p_runtime_deserialize(rt, plan, size, &e), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("o2p_runtime_set_engine_host_code_allowed");
    ck_assert_ptr_null(e);
    ck_assert_msg(!marker_exists(f), "o2p_runtime_deserialize loaded %s", plan_path);
    TU_ASSERT_STATUS(o2p_runtime_deserialize_file(rt, plan_path, &e), O2P_ERR_UNSUPPORTED);
    ck_assert_msg(!marker_exists(f), "o2p_runtime_deserialize_file loaded %s", plan_path);
    /* Explicitly not allowed is the same as the default. */
    TU_ASSERT_STATUS(o2p_runtime_set_engine_host_code_allowed(rt, 0), O2P_OK);
    TU_ASSERT_STATUS(o2p_runtime_deserialize(rt, plan, size, &e), O2P_ERR_UNSUPPORTED);
    ck_assert_msg(!marker_exists(f), "o2p_runtime_deserialize loaded %s", plan_path);
    o2p_runtime_destroy(rt);
    free(plan);

    static const char *const commands[] = {"check", "run", "inspect"};
    for (int k = 0; k < 3; k++) {
        char *args = tu_printf("%s '%s'", commands[k], plan_path);
        char *err = NULL;
        int rc = tu_run_cli(args, NULL, &err);
        if (k < 2)
            ck_assert_msg(rc != 0, "onnx2plan %s accepted a plan with host code: %s", args,
                          err ? err : "");
        ck_assert_msg(!marker_exists(f), "onnx2plan %s loaded the plan's library (exit %d): %s",
                      args, rc, err ? err : "");
        free(err);
        free(args);
    }
}

START_TEST(test_plugin_library_never_loaded_without_host_code)
{
    if (!have_cc()) {
        printf("test_host_code_gate: SKIPPED: no cc on PATH to build the hostile library\n");
        return;
    }
    fixture f;
    setup(&f);
    never_loaded(&f, f.plugin_plan);

    /* Allowed: the library loads (a valid plugin library), so the constructor runs. */
    size_t size;
    char *plan = tu_read_file(f.plugin_plan, &size);
    o2p_runtime *rt;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    TU_ASSERT_STATUS(o2p_runtime_set_engine_host_code_allowed(rt, 1), O2P_OK);
    o2p_engine *e = NULL;
    TU_ASSERT_STATUS(o2p_runtime_deserialize(rt, plan, size, &e), O2P_OK);
    ck_assert_msg(marker_exists(&f), "host code allowed, yet the constructor did not run");
    o2p_engine_destroy(e);
    o2p_runtime_destroy(rt);
    free(plan);
    ck_assert_int_eq(unlink(f.marker), 0);
    char *args = tu_printf("run '%s' --allow-host-code", f.plugin_plan);
    cli_ok(args);
    free(args);
    ck_assert_msg(marker_exists(&f), "onnx2plan run --allow-host-code did not load the library");
    teardown(&f);
}
END_TEST

START_TEST(test_lean_runtime_never_loaded_without_host_code)
{
    if (!have_cc()) {
        printf("test_host_code_gate: SKIPPED: no cc on PATH to build the hostile library\n");
        return;
    }
    fixture f;
    setup(&f);
    never_loaded(&f, f.lean_plan);

    /* Allowed: the fake lean runtime is loaded (and then refused, as it has no lean entry),
     * so the constructor has run. */
    size_t size;
    char *plan = tu_read_file(f.lean_plan, &size);
    o2p_runtime *rt;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    TU_ASSERT_STATUS(o2p_runtime_set_engine_host_code_allowed(rt, 1), O2P_OK);
    o2p_engine *e = NULL;
    TU_ASSERT_FAILS(o2p_runtime_deserialize(rt, plan, size, &e));
    TU_ASSERT_ERROR_HAS("not a lean runtime");
    ck_assert_msg(marker_exists(&f), "host code allowed, yet the constructor did not run");
    o2p_runtime_destroy(rt);
    free(plan);
    ck_assert_int_eq(unlink(f.marker), 0);
    char *args = tu_printf("run '%s' --allow-host-code", f.lean_plan);
    ck_assert_int_ne(tu_run_cli(args, NULL, NULL), 0);
    free(args);
    ck_assert_msg(marker_exists(&f), "onnx2plan run --allow-host-code did not load the library");
    teardown(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_code_gate");
    TCase *tc = tcase_create("host_code_gate");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_plugin_library_never_loaded_without_host_code);
    tcase_add_test(tc, test_lean_runtime_never_loaded_without_host_code);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
