/* test_lean_library.c: libo2p_lean.so on its own: it exports exactly its entry, needs no
 * library but libc and libm, has a non-executable stack, and runs a plan's ENGINE section
 * through its function table with the same outputs as libo2p's built-in lean runtime. */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lean/lean_abi.h"
#include "plan/plan.h"
#include "testutil.h"

static char *command_output(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0)
        len += n;
    buf[len] = '\0';
    pclose(p);
    return buf;
}

START_TEST(test_exports_and_dependencies)
{
    char *syms = command_output("nm -D --defined-only '" O2P_LEAN_LIB_PATH "' | awk '{print $3}'");
    ck_assert_msg(strcmp(syms, "o2p_lean_entry\n") == 0,
                  "libo2p_lean.so must export only o2p_lean_entry, it exports:\n%s", syms);
    free(syms);
    char *needed = command_output("readelf -dW '" O2P_LEAN_LIB_PATH "' | grep NEEDED");
    for (char *line = strtok(needed, "\n"); line; line = strtok(NULL, "\n")) {
        int ok = strstr(line, "[libc.so") || strstr(line, "[libm.so") ||
                 strstr(line, "[libasan.so") || strstr(line, "[libubsan.so") ||
                 strstr(line, "[libgcc_s.so") || strstr(line, "[ld-linux");
        ck_assert_msg(ok, "libo2p_lean.so needs more than libc/libm: %s", line);
    }
    free(needed);
    char *stack = command_output("readelf -lW '" O2P_LEAN_LIB_PATH "' | grep GNU_STACK");
    ck_assert_msg(strstr(stack, "RW ") && !strstr(stack, "RWE"),
                  "the stack must not be executable: %s", stack);
    free(stack);
}
END_TEST

/* Builds models/tiny_cnn.onnx at batch 1 into a plan. */
static void build_plan(void **plan, size_t *size)
{
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    ck_assert_int_eq(tu_parse_file(O2P_SOURCE_DIR "/models/tiny_cnn.onnx", &net, &parser), O2P_OK);
    int64_t dims[4] = {1, 3, 32, 32};
    ck_assert_int_eq(o2p_tensor_set_shape(o2p_graph_find_tensor(o2p_network_get_graph(net),
                                                                "input"), 4, dims), O2P_OK);
    o2p_builder *b;
    o2p_builder_config *c;
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    ck_assert_msg(o2p_builder_build_serialized(b, net, c, plan, size) == O2P_OK, "%s",
                  o2p_last_error());
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
    tu_parsed_free(net, parser);
}

START_TEST(test_runs_a_plan_through_its_table)
{
    void *plan;
    size_t size;
    build_plan(&plan, &size);
    float x[3 * 32 * 32], y_lib[10] = {0}, y_builtin[10] = {0};
    for (int i = 0; i < 3 * 32 * 32; i++)
        x[i] = (float)cos(i * 0.11);

    /* libo2p's own lean runtime */
    o2p_runtime *rt;
    o2p_engine *engine;
    o2p_context *ctx;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    ck_assert_int_eq(o2p_runtime_deserialize(rt, plan, size, &engine), O2P_OK);
    ck_assert_int_eq(o2p_engine_create_context(engine, &ctx), O2P_OK);
    ck_assert_int_eq(o2p_context_set_tensor_address(ctx, "input", x), O2P_OK);
    ck_assert_int_eq(o2p_context_set_tensor_address(ctx, "output", y_builtin), O2P_OK);
    ck_assert_int_eq(o2p_context_enqueue(ctx, NULL), O2P_OK);

    /* the same ENGINE section through the library's table */
    void *lib = dlopen(O2P_LEAN_LIB_PATH, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(lib != NULL, "dlopen: %s", dlerror());
    o2p_lean_entry_fn entry = (o2p_lean_entry_fn)dlsym(lib, O2P_LEAN_ENTRY_SYMBOL);
    ck_assert_ptr_nonnull(entry);
    ck_assert_ptr_null(entry(O2P_LEAN_ABI_VERSION + 1));
    const o2p_lean_api *api = entry(O2P_LEAN_ABI_VERSION);
    ck_assert_ptr_nonnull(api);
    ck_assert_uint_eq(api->size, sizeof(o2p_lean_api)); /* with the format-3 fields */
    ck_assert_uint_eq(api->version_major, O2P_VERSION_MAJOR);
    ck_assert_uint_eq(api->version_build, O2P_VERSION_BUILD);
    plan_view view;
    ck_assert_int_eq(plan_read(plan, size, "plan", &view), O2P_OK);
    const plan_section *s = &view.sections[plan_find_section(&view, PLAN_SECTION_ENGINE, 0)];
    void *le = NULL, *lc = NULL;
    ck_assert_msg(api->engine_create(s->data, (size_t)s->size, "plan", &le) == O2P_OK, "%s",
                  api->last_error());
    ck_assert_int_eq(api->engine_num_io(le), 2);
    ck_assert_str_eq(api->engine_io_name(le, 0), "input");
    ck_assert(api->engine_io_is_input(le, 0));
    ck_assert_int_eq(api->engine_io_dim(le, 1, 1), 10);
    ck_assert_uint_eq(api->engine_arena_size(le), o2p_engine_device_memory_size(engine));
    ck_assert_int_eq(api->context_create(le, &lc), O2P_OK);
    ck_assert_int_eq(api->context_set_tensor_address(lc, "input", x), O2P_OK);
    ck_assert_int_eq(api->context_set_tensor_address(lc, "output", y_lib), O2P_OK);
    ck_assert_uint_eq(api->engine_target(le), 0); /* host */
    ck_assert_int_eq(api->engine_num_images(le), 0);
    ck_assert_int_ne(api->context_enqueue(lc, (void *)1), O2P_OK); /* host: no streams */
    ck_assert_msg(api->context_enqueue(lc, NULL) == O2P_OK, "%s", api->last_error());
    ck_assert_msg(memcmp(y_lib, y_builtin, sizeof y_lib) == 0,
                  "the library and the built-in lean runtime disagree");
    /* its errors are its own, readable through the table */
    ck_assert_int_ne(api->context_set_tensor_address(lc, "no_such_tensor", x), O2P_OK);
    ck_assert(strstr(api->last_error(), "no_such_tensor") != NULL);
    api->context_destroy(lc);
    api->engine_destroy(le);
    dlclose(lib);

    o2p_context_destroy(ctx);
    o2p_engine_destroy(engine);
    o2p_runtime_destroy(rt);
    o2p_free(plan);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lean_library");
    TCase *tc = tcase_create("lean_library");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_exports_and_dependencies);
    tcase_add_test(tc, test_runs_a_plan_through_its_table);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
