/* test_plugin_parser.c: plugins from the parser's side: nodes without a native importer, the
 * plugin InstanceNormalization and RoiAlign go to registered plugins; `onnx2plan plugins`
 * lists the libraries a model needs; libraries without the entry or of another ABI major are
 * refused by name; plugin layers infer their shapes through the plugin, build into plans and
 * run through the registry's creators, matching the node tests. */
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir/ir.h"
#include "lean/lean.h"
#include "o2p/plugin.h"
#include "plan/plan.h"
#include "onnx.pb-c.h"
#include "plan/plan.h"
#include "testutil.h"

#define NODE O2P_TESTDATA_DIR "/node/"

static char *build_dir(void)
{
    char *copy = strdup(O2P_CLI_PATH);
    char *dir = strdup(dirname(copy));
    free(copy);
    return dir;
}

static char *bundled(void)
{
    char *dir = build_dir();
    char *path = tu_printf("%s/libo2p_plugins.so", dir);
    free(dir);
    return path;
}

START_TEST(test_plugins_command_lists_libraries)
{
    if (!tu_have_testdata()) {
        printf("test_plugin_parser: SKIPPED: no ONNX test data\n");
        return;
    }
    char *lib = bundled();
    char *out = NULL, *err = NULL;
    /* InstanceNormalization is native by default in the CLI: no plugin library needed */
    ck_assert_int_eq(tu_run_cli("plugins " NODE "test_instancenorm_example/model.onnx", &out, &err), 0);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
    ck_assert_int_eq(tu_run_cli("plugins " NODE "test_instancenorm_example/model.onnx "
                                "--plugin-instancenorm", &out, &err), 0);
    char *want = tu_printf("%s\n", lib);
    ck_assert_str_eq(out, want);
    free(want);
    free(out);
    free(err);
    ck_assert_int_eq(tu_run_cli("plugins " NODE "test_roialign_aligned_true/model.onnx", &out,
                                &err), 0);
    ck_assert_msg(tu_contains(out, "libo2p_plugins.so"), "RoiAlign goes to the plugin: %s", out);
    free(out);
    free(err);
    /* a model the registry cannot serve: the op is named, exit 1 */
    ck_assert_int_eq(tu_run_cli("plugins " NODE "test_strnormalizer_nostopwords_nochangecase/model.onnx", &out,
                                &err), 1);
    ck_assert_msg(tu_contains(err, "StringNormalizer"), "%s", err);
    free(out);
    free(err);
    free(lib);
}
END_TEST

START_TEST(test_plugin_layers_infer_and_build)
{
    if (!tu_have_testdata())
        return;
    o2p_network *net;
    o2p_parser *parser;
    ck_assert_int_eq(o2p_network_create(&net), O2P_OK);
    ck_assert_int_eq(o2p_parser_create(net, &parser), O2P_OK);
    /* API default: InstanceNormalization is the plugin layer (TensorRT 8.6) */
    ck_assert(!o2p_parser_get_flag(parser, O2P_PARSER_FLAG_NATIVE_INSTANCENORM));
    ck_assert_int_eq(o2p_parser_parse_file(parser, NODE "test_instancenorm_example/model.onnx"),
                     O2P_OK);
    ck_assert_int_eq(o2p_parser_num_unsupported(parser), 0);
    ck_assert_int_eq(o2p_parser_num_used_vc_plugin_libraries(parser), 1);
    const o2p_layer *l = o2p_graph_get_layer(o2p_network_get_graph(net), 0);
    ck_assert_ptr_nonnull(o2p_layer_get_plugin_library(l));
    ck_assert_int_eq(o2p_network_infer_shapes(net), O2P_OK);
    const o2p_tensor *y = o2p_graph_get_output(o2p_network_get_graph(net), 0);
    const o2p_tensor *x = o2p_graph_get_input(o2p_network_get_graph(net), 0);
    char ys[64], xs[64];
    o2p_tensor_format_shape(y, ys, sizeof ys);
    o2p_tensor_format_shape(x, xs, sizeof xs);
    ck_assert_str_eq(ys, xs); /* the plugin's shape inference ran */
    o2p_builder *b;
    o2p_builder_config *c;
    void *plan;
    size_t size;
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    /* plans take plugin layers (ENGINE format 2) */
    ck_assert_msg(o2p_builder_build_serialized(b, net, c, &plan, &size) == O2P_OK, "%s",
                  o2p_last_error());
    ck_assert_uint_gt(size, 0);
    free(plan);
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
    o2p_parser_destroy(parser);
    o2p_network_destroy(net);
}
END_TEST

/* Compiles a tiny plugin library reporting ABI major `major` into dir; returns its path or
 * NULL when there is no C compiler. */
static char *compile_plugin(const char *dir, unsigned major)
{
    char *src = tu_printf("%s/p%u.c", dir, major);
    char *lib = tu_printf("%s/libp%u.so", dir, major);
    char *code = tu_printf(
        "#include \"o2p/plugin.h\"\n"
        "static const o2p_plugin_library lib = {sizeof(o2p_plugin_library), %uu, 0u, \"p\", 0, 0};\n"
        "__attribute__((visibility(\"default\"))) const o2p_plugin_library *\n"
        "o2p_get_plugin_library(unsigned m) { (void)m; return &lib; }\n", major);
    ck_assert_int_eq(tu_write_file(src, code, strlen(code)), 0);
    char *bdir = build_dir();
    char *cmd = tu_printf("cc -shared -fPIC -I'%s/include' -I'%s/include' -o '%s' '%s'",
                          O2P_SOURCE_DIR, bdir, lib, src);
    int rc = system(cmd);
    free(cmd);
    free(bdir);
    free(code);
    free(src);
    if (rc != 0) {
        free(lib);
        return NULL;
    }
    return lib;
}

START_TEST(test_bad_libraries_are_refused_by_name)
{
    o2p_plugin_registry *r;
    ck_assert_int_eq(o2p_plugin_registry_create(&r), O2P_OK);
    /* a shared library without the entry */
    char *dir = build_dir();
    char *lean = tu_printf("%s/libo2p_lean.so", dir);
    ck_assert_int_eq(o2p_plugin_registry_load_library(r, lean), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS(lean);
    TU_ASSERT_ERROR_HAS(O2P_PLUGIN_ENTRY_SYMBOL);
    ck_assert_int_ne(o2p_plugin_registry_load_library(r, "/nonexistent/libx.so"), O2P_OK);
    TU_ASSERT_ERROR_HAS("/nonexistent/libx.so");
    char *tmp = tu_tempdir();
    char *newer = compile_plugin(tmp, O2P_PLUGIN_ABI_MAJOR + 1);
    if (newer) {
        ck_assert_int_eq(o2p_plugin_registry_load_library(r, newer), O2P_ERR_UNSUPPORTED);
        TU_ASSERT_ERROR_HAS(newer);
        TU_ASSERT_ERROR_HAS("ABI");
        char *same = compile_plugin(tmp, O2P_PLUGIN_ABI_MAJOR);
        ck_assert_ptr_nonnull(same);
        ck_assert_int_eq(o2p_plugin_registry_load_library(r, same), O2P_OK);
        free(same);
        free(newer);
    } else {
        printf("test_plugin_parser: no C compiler: the newer-ABI library is not tested\n");
    }
    /* the bundled library registers InstanceNormalization and RoiAlign */
    char *lib = bundled();
    ck_assert_msg(o2p_plugin_registry_load_library(r, lib) == O2P_OK, "%s", o2p_last_error());
    int in = 0, roi = 0;
    for (int i = 0; i < o2p_plugin_registry_num_creators(r); i++) {
        in |= strcmp(o2p_plugin_registry_creator_name(r, i), "InstanceNormalization") == 0;
        roi |= strcmp(o2p_plugin_registry_creator_name(r, i), "RoiAlign") == 0;
    }
    ck_assert(in && roi);
    /* twice: the same creators are refused */
    ck_assert_int_eq(o2p_plugin_registry_load_library(r, lib), O2P_ERR_INVALID_ARGUMENT);
    free(lib);
    tu_rmtree(tmp);
    free(tmp);
    free(lean);
    free(dir);
    o2p_plugin_registry_destroy(r);
}
END_TEST

/* A plugin does not see the opset: the parser writes RoiAlign's opset-10 default out. */
START_TEST(test_roialign_opset10_default_is_pinned)
{
    for (int opset = 10; opset <= 16; opset += 6) {
        tu_model *m = tu_model_new(opset);
        Onnx__GraphProto *g = tu_main_graph(m);
        int64_t x[4] = {1, 2, 4, 4}, r[2] = {1, 4}, b[1] = {1}, y[4] = {1, 2, 1, 1};
        tu_add_input(m, g, "X", O2P_DTYPE_FLOAT, 4, x, NULL);
        tu_add_input(m, g, "rois", O2P_DTYPE_FLOAT, 2, r, NULL);
        tu_add_input(m, g, "batch_indices", O2P_DTYPE_INT64, 1, b, NULL);
        tu_add_node(m, g, "RoiAlign", "roi", "X,rois,batch_indices", "Y");
        tu_add_output(m, g, "Y", O2P_DTYPE_FLOAT, 4, y, NULL);
        o2p_network *net;
        o2p_parser *parser;
        ck_assert_msg(tu_parse_model(m, &net, &parser) == O2P_OK, "%s", o2p_last_error());
        const o2p_layer *l = o2p_graph_get_layer(o2p_network_get_graph(net), 0);
        ck_assert_ptr_nonnull(o2p_layer_get_plugin_library(l));
        int a = o2p_layer_find_attr(l, "coordinate_transformation_mode");
        if (opset < 16) {
            ck_assert_int_ge(a, 0);
            ck_assert_str_eq(o2p_layer_attr_string(l, a), "output_half_pixel");
        } else {
            ck_assert_int_lt(a, 0); /* the plugin's own default (half_pixel) applies */
        }
        ck_assert_int_eq(o2p_network_infer_shapes(net), O2P_OK);
        tu_parsed_free(net, parser);
        tu_model_free(m);
    }
}
END_TEST

/* A TensorProto file's bytes (raw_data, float_data or int64_data) and element count. */
static void *load_pb(const char *path, o2p_dtype *dtype, size_t *count)
{
    size_t size;
    char *bytes = tu_read_file(path, &size);
    ck_assert_msg(bytes != NULL, "cannot read %s", path);
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, (const uint8_t *)bytes);
    ck_assert_msg(tp != NULL, "cannot unpack %s", path);
    size_t n = 1;
    for (size_t i = 0; i < tp->n_dims; i++)
        n *= (size_t)tp->dims[i];
    ck_assert_msg(tp->data_type == O2P_DTYPE_FLOAT || tp->data_type == O2P_DTYPE_INT64,
                  "%s: unexpected data type %d", path, tp->data_type);
    size_t esz = tp->data_type == O2P_DTYPE_FLOAT ? 4 : 8;
    void *data = calloc(n + 1, esz);
    ck_assert_ptr_nonnull(data);
    if (tp->has_raw_data) {
        ck_assert_uint_eq(tp->raw_data.len, n * esz);
        memcpy(data, tp->raw_data.data, n * esz);
    } else if (tp->data_type == O2P_DTYPE_FLOAT) {
        ck_assert_uint_eq(tp->n_float_data, n);
        memcpy(data, tp->float_data, n * 4);
    } else {
        ck_assert_uint_eq(tp->n_int64_data, n);
        memcpy(data, tp->int64_data, n * 8);
    }
    *dtype = (o2p_dtype)tp->data_type;
    *count = n;
    onnx__tensor_proto__free_unpacked(tp, NULL);
    free(bytes);
    return data;
}

/* Builds a node test's model into a plan through the public API (InstanceNormalization as the
 * plugin layer: the API default), checks its one layer is a plugin layer, and returns the plan. */
static void *build_node_plan(const char *test, int vc, size_t *size)
{
    o2p_network *net;
    o2p_parser *parser;
    ck_assert_int_eq(o2p_network_create(&net), O2P_OK);
    ck_assert_int_eq(o2p_parser_create(net, &parser), O2P_OK);
    ck_assert_int_eq(o2p_parser_set_flag(parser, O2P_PARSER_FLAG_NATIVE_INSTANCENORM, 0), O2P_OK);
    char *model = tu_printf(NODE "%s/model.onnx", test);
    ck_assert_msg(o2p_parser_parse_file(parser, model) == O2P_OK, "%s", o2p_last_error());
    free(model);
    ck_assert_ptr_nonnull(
        o2p_layer_get_plugin_library(o2p_graph_get_layer(o2p_network_get_graph(net), 0)));
    o2p_builder *b;
    o2p_builder_config *c;
    void *plan;
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_set_flag(c, O2P_FLAG_VERSION_COMPATIBLE, vc), O2P_OK);
    ck_assert_msg(o2p_builder_build_serialized(b, net, c, &plan, size) == O2P_OK, "%s: %s", test,
                  o2p_last_error());
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
    o2p_parser_destroy(parser);
    o2p_network_destroy(net);
    return plan;
}

/* Runs the node test's plan on test_data_set_0's inputs (in the engine's input order) and
 * compares every output with |got - want| <= atol + rtol |want|. */
static void run_node_test_as(const char *test, int vc, double atol, double rtol)
{
    size_t size;
    void *plan = build_node_plan(test, vc, &size);
    o2p_runtime *rt;
    o2p_engine *e;
    o2p_context *ctx;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    if (vc) {
        /* a version-compatible plan carries the plugin library: host code, behind the gate */
        ck_assert_int_eq(o2p_runtime_deserialize(rt, plan, size, &e), O2P_ERR_UNSUPPORTED);
        TU_ASSERT_ERROR_HAS("plugin libraries");
        TU_ASSERT_ERROR_HAS("o2p_runtime_set_engine_host_code_allowed");
        ck_assert_int_eq(o2p_runtime_set_engine_host_code_allowed(rt, 1), O2P_OK);
    }
    ck_assert_msg(o2p_runtime_deserialize(rt, plan, size, &e) == O2P_OK, "%s",
                  o2p_last_error());
    ck_assert_msg(o2p_engine_create_context(e, &ctx) == O2P_OK, "%s", o2p_last_error());
    int nio = o2p_engine_num_io_tensors(e), nin = 0, nout = 0;
    void *bufs[16] = {0}, *want[16] = {0};
    size_t counts[16] = {0};
    ck_assert_int_le(nio, 16);
    for (int i = 0; i < nio; i++) {
        const char *name = o2p_engine_io_name(e, i);
        o2p_dtype dt;
        char *path;
        if (o2p_engine_io_is_input(e, i)) {
            path = tu_printf(NODE "%s/test_data_set_0/input_%d.pb", test, nin++);
            bufs[i] = load_pb(path, &dt, &counts[i]);
            ck_assert_int_eq(dt, o2p_engine_io_dtype(e, i));
        } else {
            path = tu_printf(NODE "%s/test_data_set_0/output_%d.pb", test, nout++);
            want[i] = load_pb(path, &dt, &counts[i]);
            ck_assert_int_eq(dt, O2P_DTYPE_FLOAT);
            ck_assert_int_eq(o2p_engine_io_dtype(e, i), O2P_DTYPE_FLOAT);
            bufs[i] = calloc(counts[i] + 1, sizeof(float));
        }
        free(path);
        ck_assert_int_eq(o2p_context_set_tensor_address(ctx, name, bufs[i]), O2P_OK);
    }
    ck_assert_int_ge(nout, 1);
    ck_assert_msg(o2p_context_enqueue(ctx, NULL) == O2P_OK, "%s", o2p_last_error());
    for (int i = 0; i < nio; i++) {
        if (!want[i])
            continue;
        const float *g = bufs[i], *w = want[i];
        for (size_t k = 0; k < counts[i]; k++)
            ck_assert_msg(fabs((double)g[k] - w[k]) <= atol + rtol * fabs((double)w[k]),
                          "%s: output '%s'[%zu] is %g, expected %g", test,
                          o2p_engine_io_name(e, i), k, g[k], w[k]);
        free(want[i]);
    }
    for (int i = 0; i < nio; i++)
        free(bufs[i]);
    o2p_context_destroy(ctx);
    o2p_engine_destroy(e);
    o2p_runtime_destroy(rt);
    free(plan);
}

static void run_node_test(const char *test, double atol, double rtol)
{
    run_node_test_as(test, 0, atol, rtol);
    run_node_test_as(test, 1, atol, rtol);
}

static const o2p_plugin_creator *no_plugins_but_default(void *user, const char *name,
                                                        const char *version,
                                                        const char *plugin_namespace)
{
    (void)user;
    return ir_plugin_find_creator(o2p_default_plugin_registry(), name, version,
                                  plugin_namespace);
}

static const o2p_plugin_creator *no_plugins(void *user, const char *name, const char *version,
                                            const char *plugin_namespace)
{
    (void)user, (void)name, (void)version, (void)plugin_namespace;
    return NULL;
}

START_TEST(test_plugin_plans_run_node_tests)
{
    if (!tu_have_testdata())
        return;
    run_node_test("test_roialign_aligned_true", 1e-4, 1e-4);
    run_node_test("test_roialign_aligned_false", 1e-4, 1e-4);
    run_node_test("test_instancenorm_example", 1e-5, 1e-4);
    run_node_test("test_instancenorm_epsilon", 1e-5, 1e-4);

    /* The plan names its plugin; a loader that finds no creator refuses it by name. */
    size_t size;
    void *plan = build_node_plan("test_roialign_aligned_true", 0, &size);
    plan_view *view = malloc(sizeof *view);
    ck_assert_ptr_nonnull(view);
    ck_assert_int_eq(plan_read(plan, size, "r.plan", view), O2P_OK);
    int si = plan_find_section(view, PLAN_SECTION_ENGINE, 0);
    ck_assert_int_ge(si, 0);
    lean_engine *le = NULL;
    ck_assert_int_eq(lean_engine_create_ex(view->sections[si].data, view->sections[si].size,
                                           "r.plan", NULL, no_plugins, NULL, &le),
                     O2P_ERR_UNSUPPORTED);
    ck_assert_ptr_null(le);
    TU_ASSERT_ERROR_HAS("r.plan: ENGINE section, layer 0");
    TU_ASSERT_ERROR_HAS("the plugin RoiAlign version '1'");
    TU_ASSERT_ERROR_HAS("is not registered");
    TU_ASSERT_ERROR_HAS("--plugins LIB");
    /* No lookup at all (lean_engine_create): the same refusal. */
    ck_assert_int_eq(lean_engine_create(view->sections[si].data, view->sections[si].size,
                                        "r.plan", &le),
                     O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("RoiAlign");
    /* With the registry: the layer's plugin record reads back. */
    ck_assert_int_eq(lean_engine_create_ex(view->sections[si].data, view->sections[si].size,
                                           "r.plan", NULL, no_plugins_but_default, NULL, &le),
                     O2P_OK);
    ck_assert_str_eq(lean_engine_layer_plugin(le, 0), "RoiAlign");
    ck_assert_str_eq(lean_engine_layer_tactic_source(le, 0), "plugin");
    ck_assert_str_eq(lean_engine_layer_tactic_kernel(le, 0), "plugin.RoiAlign");
    lean_engine_destroy(le);
    free(view);
    free(plan);
}
END_TEST

/* An op in a custom domain that no plugin implements: loaded and reported by name, and a
 * build refuses it naming the node and the op. */
START_TEST(test_unknown_custom_op_is_refused_by_name)
{
    tu_model *m = tu_model_new(13);
    tu_add_opset(m, "com.example.unknown", 1);
    Onnx__GraphProto *g = tu_main_graph(m);
    int64_t d[2] = {2, 3};
    tu_add_input(m, g, "x", O2P_DTYPE_FLOAT, 2, d, NULL);
    Onnx__NodeProto *n = tu_add_node(m, g, "Frobnicate", "frob", "x", "y");
    tu_node_set_domain(m, n, "com.example.unknown");
    tu_add_output(m, g, "y", O2P_DTYPE_FLOAT, 2, d, NULL);
    o2p_network *net;
    o2p_parser *parser;
    ck_assert_int_eq(tu_parse_model(m, &net, &parser), O2P_OK);
    ck_assert_int_eq(o2p_parser_num_unsupported(parser), 1);
    ck_assert_str_eq(o2p_layer_get_op_type(o2p_parser_get_unsupported(parser, 0)), "Frobnicate");
    o2p_builder *b;
    o2p_builder_config *c;
    void *plan;
    size_t size;
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    ck_assert_int_eq(o2p_builder_build_serialized(b, net, c, &plan, &size), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("frob");
    TU_ASSERT_ERROR_HAS("com.example.unknown.Frobnicate");
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
    tu_parsed_free(net, parser);
    tu_model_free(m);
}
END_TEST

/* A version-compatible plan carries the plugin libraries its layers came from, unless told
 * not to; --serialize-plugins adds libraries. */
START_TEST(test_vc_plans_carry_used_plugin_libraries)
{
    if (!tu_have_testdata())
        return;
    for (int ignore = 0; ignore <= 1; ignore++) {
        o2p_network *net;
        o2p_parser *parser;
        ck_assert_int_eq(o2p_network_create(&net), O2P_OK);
        ck_assert_int_eq(o2p_parser_create(net, &parser), O2P_OK);
        ck_assert_int_eq(o2p_parser_parse_file(parser, NODE "test_roialign_aligned_true/model.onnx"),
                         O2P_OK);
        o2p_builder *b;
        o2p_builder_config *c;
        void *plan;
        size_t size;
        ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
        ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
        ck_assert_int_eq(o2p_builder_config_set_flag(c, O2P_FLAG_VERSION_COMPATIBLE, 1), O2P_OK);
        ck_assert_int_eq(o2p_builder_config_set_ignore_parsed_plugin_libraries(c, ignore), O2P_OK);
        ck_assert_msg(o2p_builder_build_serialized(b, net, c, &plan, &size) == O2P_OK, "%s",
                      o2p_last_error());
        plan_view view;
        ck_assert_int_eq(plan_read(plan, size, "plan", &view), O2P_OK);
        int sec = plan_find_section(&view, PLAN_SECTION_PLUGIN_LIBRARY, 0);
        ck_assert_msg((sec >= 0) == !ignore, "ignore=%d: PLUGIN_LIBRARY section %d", ignore, sec);
        ck_assert(view.header.flags & PLAN_FLAG_HAS_PLUGINS);
        o2p_free(plan);
        o2p_builder_config_destroy(c);
        o2p_builder_destroy(b);
        o2p_parser_destroy(parser);
        o2p_network_destroy(net);
    }
}
END_TEST

int main(void)
{
    /* The default registry looks next to the program for the bundled library; this program
     * lives in build/tests, the library in build. */
    char *lib = bundled();
    setenv("O2P_PLUGINS_LIBRARY", lib, 1);
    free(lib);
    Suite *s = suite_create("plugin_parser");
    TCase *tc = tcase_create("plugin_parser");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_plugins_command_lists_libraries);
    tcase_add_test(tc, test_plugin_layers_infer_and_build);
    tcase_add_test(tc, test_bad_libraries_are_refused_by_name);
    tcase_add_test(tc, test_roialign_opset10_default_is_pinned);
    tcase_add_test(tc, test_unknown_custom_op_is_refused_by_name);
    tcase_add_test(tc, test_vc_plans_carry_used_plugin_libraries);
    tcase_add_test(tc, test_plugin_plans_run_node_tests);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
