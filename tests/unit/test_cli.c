/* test_cli.c: the onnx2plan command line: --version, --help, `inspect` in text and JSON,
 * --layers, --shapes, and the exit codes (0 success, 1 failure explained on stderr, 2 usage
 * error; never a signal). */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../testutil.h"

#define DT(x) ONNX__TENSOR_PROTO__DATA_TYPE__##x

/* The folder and model every test uses (made once per test: Check forks each test). */
static char *dir, *model;

/* cli_model: producer "cli-tests" 0.9, IR 8, opsets ai.onnx 13 and custom.ops 1.
 *   input  float [N,3,?,8]     -> Conv(conv_w [4,3,3,3], bias [4], pads 1) "conv" -> conv_out
 *   conv_out -> Relu "relu_a" -> r1 -> Relu "relu_b" -> r2 -> custom.ops.MyCustomOp
 *   "custom_node" -> custom_out
 *   in:0   float [?,4]         -> Add "adder" (in:0, in:0) -> sum_out
 * weights: 432 + 16 = 448 bytes in 2 constants. */
#define WEIGHT_BYTES 448

static void write_cli_model(const char *path)
{
    tu_model *m = tu_model_new(13);
    tu_add_opset(m, "custom.ops", 1);
    Onnx__ModelProto *mp = tu_model_proto(m);
    mp->producer_name = tu_strdup(m, "cli-tests");
    mp->producer_version = tu_strdup(m, "0.9");
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t din[4] = {-1, 3, -1, 8};
    const char *pin[4] = {"N", NULL, NULL, NULL};
    tu_add_input(m, g, "input", DT(FLOAT), 4, din, pin);
    const int64_t d2[2] = {-1, 4};
    tu_add_input(m, g, "in:0", DT(FLOAT), 2, d2, NULL);
    float w[108], b[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    for (int i = 0; i < 108; i++)
        w[i] = (float)i / 108.0f;
    const int64_t dw[4] = {4, 3, 3, 3}, db[1] = {4};
    tu_add_initializer_raw(m, g, "conv_w", DT(FLOAT), 4, dw, w, sizeof w);
    tu_add_initializer_raw(m, g, "bias", DT(FLOAT), 1, db, b, sizeof b);
    Onnx__NodeProto *n = tu_add_node(m, g, "Conv", "conv", "input,conv_w,bias", "conv_out");
    const int64_t pads[4] = {1, 1, 1, 1}, ks[2] = {3, 3};
    tu_attr_ints(m, n, "pads", pads, 4);
    tu_attr_ints(m, n, "kernel_shape", ks, 2);
    tu_add_node(m, g, "Relu", "relu_a", "conv_out", "r1");
    tu_add_node(m, g, "Relu", "relu_b", "r1", "r2");
    n = tu_add_node(m, g, "MyCustomOp", "custom_node", "r2", "custom_out");
    tu_node_set_domain(m, n, "custom.ops");
    tu_add_node(m, g, "Add", "adder", "in:0,in:0", "sum_out");
    tu_add_output(m, g, "custom_out", DT(FLOAT), -1, NULL, NULL);
    tu_add_output(m, g, "sum_out", DT(FLOAT), 2, d2, NULL);
    ck_assert_int_eq(tu_model_write(m, path), 0);
    tu_model_free(m);
}

static void setup(void)
{
    dir = tu_tempdir();
    ck_assert_ptr_nonnull(dir);
    model = tu_printf("%s/model.onnx", dir);
    write_cli_model(model);
}

static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
    free(model);
    dir = model = NULL;
}

/* Runs the CLI; fails the test if it died of a signal. out/err are always set (maybe ""). */
static int cli(const char *args, char **out, char **err)
{
    char *o = NULL, *e = NULL;
    int rc = tu_run_cli(args, &o, &e);
    ck_assert_msg(rc >= 0, "could not run onnx2plan %s", args);
    ck_assert_msg(rc < 128, "onnx2plan %s died of signal %d; stderr: %s", args, rc - 128,
                  e ? e : "");
    if (!o)
        o = strdup("");
    if (!e)
        e = strdup("");
    if (out)
        *out = o;
    else
        free(o);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}

/* Runs the CLI and checks the exit code; returns stdout (caller frees). */
static char *cli_expect(const char *args, int want_rc, char **err_out)
{
    char *out, *err;
    int rc = cli(args, &out, &err);
    ck_assert_msg(rc == want_rc, "onnx2plan %s: exit code %d, expected %d\nstdout: %s\nstderr: %s",
                  args, rc, want_rc, out, err);
    if (want_rc != 0)
        ck_assert_msg(strlen(err) > 0, "onnx2plan %s: exit code %d and nothing on stderr", args,
                      rc);
    if (err_out)
        *err_out = err;
    else
        free(err);
    return out;
}

/* The line of text that contains needle (malloc'ed), or NULL. */
static char *line_with(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    if (!p)
        return NULL;
    const char *start = p, *end = p;
    while (start > text && start[-1] != '\n')
        start--;
    while (*end && *end != '\n')
        end++;
    return strndup(start, (size_t)(end - start));
}

#define ASSERT_HAS(text, needle) \
    ck_assert_msg(tu_contains((text), (needle)), "output lacks '%s':\n%s", (needle), (text))

static int have_python3(void)
{
    return system("command -v python3 >/dev/null 2>&1") == 0;
}

/* Well-formed JSON by our own strict checker and, when available, by Python's. */
static void assert_json(const char *text)
{
    ck_assert_msg(tu_json_valid(text), "not well-formed JSON:\n%s", text);
    if (!have_python3())
        return;
    char *path = tu_printf("%s/out.json", dir);
    ck_assert_int_eq(tu_write_file(path, text, strlen(text)), 0);
    char *cmd = tu_printf("python3 -m json.tool '%s' >/dev/null 2>&1", path);
    int st = system(cmd);
    ck_assert_msg(st == 0, "python3 -m json.tool refuses the output:\n%s", text);
    free(cmd);
    free(path);
}

/* ================================================================ version and help */

START_TEST(test_version)
{
    char *out = cli_expect("--version", 0, NULL);
    char want[64];
    snprintf(want, sizeof want, "onnx2plan %s\n", O2P_VERSION_STRING);
    ck_assert_str_eq(out, want);
    /* four numeric parts, and the library agrees */
    int a, b, c, d;
    char tail;
    ck_assert_int_eq(sscanf(out, "onnx2plan %d.%d.%d.%d%c", &a, &b, &c, &d, &tail), 5);
    ck_assert_int_eq(tail, '\n');
    ck_assert_int_eq(a, O2P_VERSION_MAJOR);
    ck_assert_int_eq(d, O2P_VERSION_BUILD);
    ck_assert_str_eq(o2p_version(), O2P_VERSION_STRING);
    free(out);
}
END_TEST

START_TEST(test_help)
{
    const char *forms[] = {"--help", "-h"};
    for (int i = 0; i < 2; i++) {
        char *out = cli_expect(forms[i], 0, NULL);
        ck_assert_msg(tu_icontains(out, "usage"), "no usage in:\n%s", out);
        ASSERT_HAS(out, "inspect");
        ASSERT_HAS(out, "--version");
        free(out);
    }
    char *out = cli_expect("inspect --help", 0, NULL);
    ck_assert(tu_icontains(out, "usage"));
    ASSERT_HAS(out, "inspect");
    ASSERT_HAS(out, "--layers");
    ASSERT_HAS(out, "--json");
    ASSERT_HAS(out, "--shapes");
    free(out);
    /* --help wins wherever it is */
    char *args = tu_printf("inspect '%s' --help", model);
    out = cli_expect(args, 0, NULL);
    ASSERT_HAS(out, "--layers");
    free(out);
    free(args);
}
END_TEST

/* ================================================================ usage errors: exit 2 */

START_TEST(test_usage_errors)
{
    char *err;
    char *out = cli_expect("", 2, &err);
    ck_assert_msg(tu_icontains(err, "usage"), "no usage on stderr:\n%s", err);
    free(out);
    free(err);

    out = cli_expect("--bogus", 2, &err);
    ASSERT_HAS(err, "--bogus");
    free(out);
    free(err);

    out = cli_expect("frobnicate", 2, &err);
    ASSERT_HAS(err, "frobnicate");
    free(out);
    free(err);

    out = cli_expect("inspect", 2, NULL);
    free(out);

    char *args = tu_printf("inspect --bogus '%s'", model);
    out = cli_expect(args, 2, &err);
    ASSERT_HAS(err, "--bogus");
    free(out);
    free(err);
    free(args);

    args = tu_printf("inspect '%s' --shapes", model);
    out = cli_expect(args, 2, &err);
    ASSERT_HAS(err, "--shapes");
    free(out);
    free(err);
    free(args);

    args = tu_printf("inspect '%s' '%s'", model, model);
    out = cli_expect(args, 2, NULL);
    free(out);
    free(args);
}
END_TEST

START_TEST(test_bad_shapes_values)
{
    const char *bad[] = {"input", "input:2xax8", "input:1x",   "input:-1x3x4x8",
                         ":1x2",  "input:x",     "input:1xx2", "input:1.5"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char *args = tu_printf("inspect '%s' --shapes '%s'", model, bad[k]);
        char *out, *err;
        int rc = cli(args, &out, &err);
        ck_assert_msg(rc == 2,
                      "--shapes '%s': exit code %d, expected 2 (a malformed value is a "
                      "usage error)\nstderr: %s",
                      bad[k], rc, err);
        ck_assert(strlen(err) > 0);
        free(out);
        free(err);
        free(args);
    }
}
END_TEST

/* ================================================================ failures: exit 1 */

START_TEST(test_failures_exit_1)
{
    char *err;
    char *missing = tu_printf("%s/missing.onnx", dir);
    char *args = tu_printf("inspect '%s'", missing);
    char *out = cli_expect(args, 1, &err);
    ASSERT_HAS(err, "missing.onnx");
    free(out);
    free(err);
    free(args);
    free(missing);

    char *junk = tu_printf("%s/junk.onnx", dir);
    ck_assert_int_eq(tu_write_file(junk, "\x3a\x7f\x01", 3), 0);
    args = tu_printf("inspect '%s'", junk);
    out = cli_expect(args, 1, &err);
    ASSERT_HAS(err, "junk.onnx");
    free(out);
    free(err);
    free(args);
    args = tu_printf("inspect --json '%s'", junk);
    out = cli_expect(args, 1, NULL);
    free(out);
    free(args);
    free(junk);

    /* --shapes naming an input the model does not have */
    args = tu_printf("inspect '%s' --shapes nosuch:1x2", model);
    out = cli_expect(args, 1, &err);
    ASSERT_HAS(err, "nosuch");
    free(out);
    free(err);
    free(args);

    /* --shapes contradicting the model (channel 3 is fixed; Conv needs 3) */
    args = tu_printf("inspect '%s' --shapes input:2x5x16x8", model);
    out = cli_expect(args, 1, NULL);
    free(out);
    free(args);

    /* --shapes with the wrong rank */
    args = tu_printf("inspect '%s' --shapes input:2x3", model);
    out = cli_expect(args, 1, NULL);
    free(out);
    free(args);
}
END_TEST

/* ================================================================ inspect, text */

START_TEST(test_inspect_text)
{
    char *args = tu_printf("inspect '%s'", model);
    char *out = cli_expect(args, 0, NULL);
    ASSERT_HAS(out, "cli-tests");
    ASSERT_HAS(out, "0.9");
    char *line = line_with(out, "IR");
    ck_assert_msg(line && tu_contains_number(line, 8), "no IR version 8 in:\n%s", out);
    free(line);
    line = line_with(out, "custom.ops");
    ck_assert_msg(line != NULL, "opset domain custom.ops missing:\n%s", out);
    free(line);
    ck_assert_msg(tu_contains_number(out, 13), "opset 13 missing:\n%s", out);

    /* inputs and outputs with types and shapes */
    line = line_with(out, "input ");
    ck_assert_msg(line && tu_contains(line, "float32") && tu_contains(line, "Nx3x?x8"),
                  "input line wrong: %s\n%s", line ? line : "(none)", out);
    free(line);
    line = line_with(out, "in:0");
    ck_assert_msg(line && tu_contains(line, "float32") && tu_contains(line, "?x4"),
                  "in:0 line wrong: %s\n%s", line ? line : "(none)", out);
    free(line);
    ASSERT_HAS(out, "custom_out");
    ASSERT_HAS(out, "sum_out");

    /* layers per op type */
    line = line_with(out, "Relu");
    ck_assert_msg(line && tu_contains_number(line, 2), "Relu count 2 missing: %s\n%s",
                  line ? line : "(none)", out);
    free(line);
    line = line_with(out, "Conv");
    ck_assert_msg(line && tu_contains_number(line, 1), "Conv count missing:\n%s", out);
    free(line);

    /* ops without an importer, with node names */
    ASSERT_HAS(out, "MyCustomOp");
    ASSERT_HAS(out, "custom_node");

    /* weight bytes */
    ck_assert_msg(tu_contains_number(out, WEIGHT_BYTES), "weight bytes %d missing:\n%s",
                  WEIGHT_BYTES, out);
    /* layers are not listed without --layers */
    ck_assert_msg(!tu_contains(out, "relu_a"), "layer names listed without --layers:\n%s", out);
    free(out);
    free(args);
}
END_TEST

START_TEST(test_inspect_layers)
{
    char *args = tu_printf("inspect '%s' --layers", model);
    char *out = cli_expect(args, 0, NULL);
    const char *layers[] = {"conv", "relu_a", "relu_b", "custom_node", "adder"};
    for (size_t k = 0; k < 5; k++)
        ASSERT_HAS(out, layers[k]);
    /* inferred shapes: Conv with pads 1 keeps the spatial dims */
    char *line = line_with(out, "out conv_out");
    if (!line)
        line = line_with(out, "conv_out");
    ck_assert_msg(line && tu_contains(line, "Nx4x?x8"), "conv_out shape wrong: %s\n%s",
                  line ? line : "(none)", out);
    free(line);
    line = line_with(out, "out r2");
    if (!line)
        line = line_with(out, "r2");
    ck_assert_msg(line && tu_contains(line, "Nx4x?x8"), "r2 shape wrong:\n%s", out);
    free(line);
    line = line_with(out, "out sum_out");
    if (!line)
        line = line_with(out, "sum_out");
    ck_assert_msg(line && tu_contains(line, "?x4"), "sum_out shape wrong:\n%s", out);
    free(line);
    free(out);
    free(args);
}
END_TEST

START_TEST(test_inspect_shapes)
{
    /* `in:0` contains a colon: the value splits at the last one */
    char *args = tu_printf("inspect '%s' --layers --shapes 'input:2x3x16x8,in:0:5x4'", model);
    char *out = cli_expect(args, 0, NULL);
    char *line = line_with(out, "out conv_out");
    if (!line)
        line = line_with(out, "conv_out");
    ck_assert_msg(line && tu_contains(line, "2x4x16x8"), "conv_out not 2x4x16x8: %s\n%s",
                  line ? line : "(none)", out);
    free(line);
    line = line_with(out, "out sum_out");
    if (!line)
        line = line_with(out, "sum_out");
    ck_assert_msg(line && tu_contains(line, "5x4"), "sum_out not 5x4:\n%s", out);
    free(line);
    /* the inputs are shown fixed too */
    ASSERT_HAS(out, "2x3x16x8");
    free(out);
    free(args);

    /* --shapes=VALUE form, one input only */
    args = tu_printf("inspect '%s' --layers --shapes=input:1x3x10x8", model);
    out = cli_expect(args, 0, NULL);
    ASSERT_HAS(out, "1x4x10x8");
    free(out);
    free(args);
}
END_TEST

/* ================================================================ inspect, JSON */

START_TEST(test_inspect_json)
{
    char *args = tu_printf("inspect '%s' --json", model);
    char *out = cli_expect(args, 0, NULL);
    assert_json(out);
    ASSERT_HAS(out, "\"cli-tests\"");
    ASSERT_HAS(out, "\"input\"");
    ASSERT_HAS(out, "\"in:0\"");
    ASSERT_HAS(out, "\"custom_node\"");
    ASSERT_HAS(out, "MyCustomOp");
    ASSERT_HAS(out, "float32");
    ck_assert(tu_contains_number(out, WEIGHT_BYTES));
    ck_assert(tu_contains_number(out, 13));
    free(out);
    free(args);

    args = tu_printf("inspect --json --layers '%s'", model);
    out = cli_expect(args, 0, NULL);
    assert_json(out);
    ASSERT_HAS(out, "\"relu_b\"");
    ASSERT_HAS(out, "\"conv_out\"");
    free(out);
    free(args);

    args = tu_printf("inspect --json --layers '%s' --shapes 'input:2x3x16x8,in:0:5x4'", model);
    out = cli_expect(args, 0, NULL);
    assert_json(out);
    ck_assert(tu_contains_number(out, 16));
    free(out);
    free(args);
}
END_TEST

START_TEST(test_inspect_json_escapes)
{
    /* names and metadata with quotes, backslashes, control characters and UTF-8 */
    tu_model *m = tu_model_new(13);
    tu_add_metadata(m, "quote\"key", "back\\slash\nnewline\ttab\x01");
    tu_model_proto(m)->producer_name = tu_strdup(m, "pro\"ducer \xc3\xa9");
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[1] = {2};
    tu_add_input(m, g, "we\"ird\\name", DT(FLOAT), 1, d, NULL);
    tu_add_node(m, g, "Relu", "node\"with\x02quotes", "we\"ird\\name", "out\nput");
    tu_add_output(m, g, "out\nput", DT(FLOAT), 1, d, NULL);
    char *path = tu_printf("%s/weird.onnx", dir);
    ck_assert_int_eq(tu_model_write(m, path), 0);
    tu_model_free(m);
    char *args = tu_printf("inspect --json --layers '%s'", path);
    char *out = cli_expect(args, 0, NULL);
    assert_json(out);
    free(out);
    free(args);
    /* the text form does not break either */
    args = tu_printf("inspect --layers '%s'", path);
    out = cli_expect(args, 0, NULL);
    free(out);
    free(args);
    free(path);
}
END_TEST

START_TEST(test_inspect_subgraphs_and_external_data)
{
    /* a model with an If and external weights, inspected from another working folder */
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[1] = {4};
    tu_add_input(m, g, "cond", DT(BOOL), 0, NULL, NULL);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d, NULL);
    Onnx__TensorProto *t = tu_tensor_new(m, "ext_w", DT(FLOAT), 1, d);
    tu_tensor_set_external(m, t, "w.bin", "0", "16");
    tu_add_initializer(m, g, t);
    Onnx__NodeProto *n = tu_add_node(m, g, "If", "branch", "cond", "y");
    Onnx__GraphProto *tg = tu_graph_new(m, "then_g");
    tu_add_node(m, tg, "Add", "then_add", "x,ext_w", "t_out");
    tu_add_output(m, tg, "t_out", DT(FLOAT), 1, d, NULL);
    Onnx__GraphProto *eg = tu_graph_new(m, "else_g");
    tu_add_node(m, eg, "Neg", "else_neg", "x", "e_out");
    tu_add_output(m, eg, "e_out", DT(FLOAT), 1, d, NULL);
    tu_attr_graph(m, n, "then_branch", tg);
    tu_attr_graph(m, n, "else_branch", eg);
    tu_add_output(m, g, "y", DT(FLOAT), 1, d, NULL);
    char *sub = tu_printf("%s/sub", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    char *path = tu_printf("%s/sub/ext.onnx", dir);
    ck_assert_int_eq(tu_model_write(m, path), 0);
    tu_model_free(m);
    float w[4] = {1, 2, 3, 4};
    char *wpath = tu_printf("%s/sub/w.bin", dir);
    ck_assert_int_eq(tu_write_file(wpath, w, sizeof w), 0);

    char *args = tu_printf("inspect --layers '%s'", path);
    char *out = cli_expect(args, 0, NULL);
    ASSERT_HAS(out, "then_add");
    ASSERT_HAS(out, "else_neg");
    ck_assert(tu_contains_number(out, 16)); /* weight bytes */
    free(out);
    free(args);
    args = tu_printf("inspect --json --layers '%s'", path);
    out = cli_expect(args, 0, NULL);
    assert_json(out);
    ASSERT_HAS(out, "then_add");
    free(out);
    free(args);

    /* weights escaping the folder: refused, exit 1, the reason on stderr */
    m = tu_model_new(13);
    g = tu_main_graph(m);
    t = tu_tensor_new(m, "ext_w", DT(FLOAT), 1, d);
    tu_tensor_set_external(m, t, "../model.onnx", "0", "16");
    tu_add_initializer(m, g, t);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d, NULL);
    tu_add_node(m, g, "Add", "a", "x,ext_w", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d, NULL);
    ck_assert_int_eq(tu_model_write(m, path), 0);
    tu_model_free(m);
    char *err;
    args = tu_printf("inspect '%s'", path);
    out = cli_expect(args, 1, &err);
    ASSERT_HAS(err, "ext_w");
    ASSERT_HAS(err, "../model.onnx");
    free(out);
    free(err);
    free(args);
    free(sub);
    free(path);
    free(wpath);
}
END_TEST

START_TEST(test_inspect_empty_graph)
{
    /* a model with no nodes at all still inspects */
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[1] = {3};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d, NULL);
    tu_add_output(m, g, "x", DT(FLOAT), 1, d, NULL);
    char *path = tu_printf("%s/empty_graph.onnx", dir);
    ck_assert_int_eq(tu_model_write(m, path), 0);
    tu_model_free(m);
    char *args = tu_printf("inspect '%s'", path);
    char *out = cli_expect(args, 0, NULL);
    free(out);
    free(args);
    args = tu_printf("inspect --json --layers '%s'", path);
    out = cli_expect(args, 0, NULL);
    assert_json(out);
    free(out);
    free(args);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_help);
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_bad_shapes_values);
    tcase_add_test(tc, test_failures_exit_1);
    tcase_add_test(tc, test_inspect_text);
    tcase_add_test(tc, test_inspect_layers);
    tcase_add_test(tc, test_inspect_shapes);
    tcase_add_test(tc, test_inspect_json);
    tcase_add_test(tc, test_inspect_json_escapes);
    tcase_add_test(tc, test_inspect_subgraphs_and_external_data);
    tcase_add_test(tc, test_inspect_empty_graph);
    suite_add_tcase(s, tc);

    return tu_run_suite(s);
}
