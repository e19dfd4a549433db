/* test_limits.c: every loader limit of README.md's "Loader limits" table (docs/limits.md), at
 * the limit (accepted, or refused for another reason than the limit) and one past it (refused
 * with O2P_ERR_LIMIT and a message naming the limit and the value): the ONNX parser's
 * (nesting, rank, element count, weight bytes, node count, string lengths), the plan
 * container's section count and the ENGINE reader's ENGINE_MAX_* limits. Limits too big to
 * reach cheaply at their default are lowered with o2p_parser_set_limit, and a separate test
 * checks each default against the value the README states. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/common.h"
#include "lean/lean.h"
#include "lean/lean_abi.h"
#include "onnx/onnx.h"
#include "plan/engine_format.h"
#include "plan/plan.h"
#include "testutil.h"

#define DT(x) O2P_DTYPE_##x

/* Parses a model with the given limit lowered (limit < 0: none changed). */
static o2p_status parse_limited(tu_model *m, int limit, uint64_t value, const char *base_dir)
{
    size_t size;
    uint8_t *bytes = tu_model_pack(m, &size);
    o2p_network *net;
    o2p_parser *p;
    ck_assert_int_eq(o2p_network_create(&net), O2P_OK);
    ck_assert_int_eq(o2p_parser_create(net, &p), O2P_OK);
    if (limit >= 0)
        TU_ASSERT_STATUS(o2p_parser_set_limit(p, (o2p_parser_limit)limit, value), O2P_OK);
    o2p_status st = o2p_parser_parse_bytes(p, bytes, size, base_dir, "limits.onnx");
    o2p_parser_destroy(p);
    o2p_network_destroy(net);
    free(bytes);
    return st;
}

/* A refusal over a limit: O2P_ERR_LIMIT, naming the limit, the value and how to raise it. */
static void assert_limit_refusal(o2p_status st, const char *limit_name, long long value)
{
    ck_assert_msg(st == O2P_ERR_LIMIT, "got %s, expected O2P_ERR_LIMIT: %s", o2p_status_name(st),
                  o2p_last_error());
    TU_ASSERT_ERROR_HAS(limit_name);
    TU_ASSERT_ERROR_HAS("o2p_parser_set_limit");
    ck_assert_msg(tu_contains_number(o2p_last_error(), value), "the value %lld is not named: %s",
                  value, o2p_last_error());
}

/* ================================================================ defaults vs README */

/* The README row that mentions `name` (NULL if none). */
static char *readme_row(const char *readme, const char *name)
{
    const char *hit = strstr(readme, name);
    if (!hit)
        return NULL;
    const char *start = hit, *end = hit;
    while (start > readme && start[-1] != '\n')
        start--;
    while (*end && *end != '\n')
        end++;
    return strndup(start, (size_t)(end - start));
}

START_TEST(test_defaults_match_readme)
{
    char *path = tu_printf("%s/README.md", O2P_SOURCE_DIR);
    char *readme = tu_read_file(path, NULL);
    ck_assert_msg(readme != NULL, "cannot read %s", path);
    static const struct {
        o2p_parser_limit limit;
        const char *name;
        uint64_t value;
    } rows[] = {
        {O2P_PARSER_LIMIT_NODES, "O2P_PARSER_LIMIT_NODES", UINT64_C(16777216)},
        {O2P_PARSER_LIMIT_WEIGHT_BYTES, "O2P_PARSER_LIMIT_WEIGHT_BYTES", UINT64_C(1099511627776)},
        {O2P_PARSER_LIMIT_STRING_BYTES, "O2P_PARSER_LIMIT_STRING_BYTES", UINT64_C(1048576)},
    };
    o2p_network *net;
    o2p_parser *p;
    ck_assert_int_eq(o2p_network_create(&net), O2P_OK);
    ck_assert_int_eq(o2p_parser_create(net, &p), O2P_OK);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ck_assert_uint_eq(o2p_parser_get_limit(p, rows[i].limit), rows[i].value);
        ck_assert_uint_eq(o2p_parser_get_limit(NULL, rows[i].limit), rows[i].value);
        char *row = readme_row(readme, rows[i].name);
        ck_assert_msg(row != NULL, "README.md does not mention %s", rows[i].name);
        ck_assert_msg(tu_contains_number(row, (long long)rows[i].value),
                      "README.md's row for %s does not give %llu: %s", rows[i].name,
                      (unsigned long long)rows[i].value, row);
        free(row);
    }
    /* The fixed limits the README states next to them. */
    static const struct {
        const char *name;
        long long value;
    } fixed[] = {
        {"ONNX_MAX_GRAPH_DEPTH", ONNX_MAX_GRAPH_DEPTH}, {"O2P_MAX_RANK", O2P_MAX_RANK},
        {"PLAN_MAX_SECTIONS", PLAN_MAX_SECTIONS},       {"ENGINE_MAX_STRING", ENGINE_MAX_STRING},
        {"ENGINE_MAX_ATTRS", ENGINE_MAX_ATTRS},         {"ENGINE_MAX_LIST", ENGINE_MAX_LIST},
        {"ENGINE_MAX_TENSORS", ENGINE_MAX_TENSORS},     {"ENGINE_MAX_LAYERS", ENGINE_MAX_LAYERS}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        char *row = readme_row(readme, fixed[i].name);
        ck_assert_msg(row != NULL, "README.md does not mention %s", fixed[i].name);
        ck_assert_msg(tu_contains_number(row, fixed[i].value),
                      "README.md's row for %s does not give %lld: %s", fixed[i].name,
                      fixed[i].value, row);
        free(row);
    }
    /* A limit the API does not know is refused, not ignored. */
    TU_ASSERT_STATUS(o2p_parser_set_limit(p, (o2p_parser_limit)7, 1), O2P_ERR_INVALID_ARGUMENT);
    ck_assert_uint_eq(o2p_parser_get_limit(p, (o2p_parser_limit)7), 0);
    TU_ASSERT_STATUS(o2p_parser_set_limit(NULL, O2P_PARSER_LIMIT_NODES, 1),
                     O2P_ERR_INVALID_ARGUMENT);
    o2p_parser_destroy(p);
    o2p_network_destroy(net);
    free(readme);
    free(path);
}
END_TEST

/* ================================================================ node count */

/* A chain of n Relu nodes x -> t1 -> ... -> y. */
static tu_model *relu_chain(int n)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[1] = {4};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d, NULL);
    for (int i = 0; i < n; i++) {
        char *in = i ? tu_printf("t%d", i) : tu_printf("x");
        char *out = i == n - 1 ? tu_printf("y") : tu_printf("t%d", i + 1);
        tu_add_node(m, g, "Relu", NULL, in, out);
        free(in);
        free(out);
    }
    tu_add_output(m, g, "y", DT(FLOAT), 1, d, NULL);
    return m;
}

START_TEST(test_nodes_at_and_past)
{
    tu_model *m = relu_chain(100);
    TU_ASSERT_STATUS(parse_limited(m, O2P_PARSER_LIMIT_NODES, 100, NULL), O2P_OK);
    assert_limit_refusal(parse_limited(m, O2P_PARSER_LIMIT_NODES, 99, NULL),
                         "O2P_PARSER_LIMIT_NODES", 100);
    ck_assert(tu_contains_number(o2p_last_error(), 99));
    tu_model_free(m);

    /* Nodes of subgraphs and Constant nodes count too: If + two bodies of one Relu each +
     * one Constant = 4. */
    m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[1] = {2};
    tu_add_input(m, g, "cond", DT(BOOL), 0, NULL, NULL);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d, NULL);
    Onnx__NodeProto *c = tu_add_node(m, g, "Constant", "c", "", "k");
    tu_attr_int(m, c, "value_int", 3);
    Onnx__NodeProto *n = tu_add_node(m, g, "If", "if", "cond", "y");
    Onnx__GraphProto *then_g = tu_graph_new(m, "then"), *else_g = tu_graph_new(m, "else");
    tu_add_node(m, then_g, "Relu", NULL, "x", "a");
    tu_add_output(m, then_g, "a", DT(FLOAT), 1, d, NULL);
    tu_add_node(m, else_g, "Relu", NULL, "x", "b");
    tu_add_output(m, else_g, "b", DT(FLOAT), 1, d, NULL);
    tu_attr_graph(m, n, "then_branch", then_g);
    tu_attr_graph(m, n, "else_branch", else_g);
    tu_add_output(m, g, "y", DT(FLOAT), 1, d, NULL);
    TU_ASSERT_STATUS(parse_limited(m, O2P_PARSER_LIMIT_NODES, 4, NULL), O2P_OK);
    assert_limit_refusal(parse_limited(m, O2P_PARSER_LIMIT_NODES, 3, NULL),
                         "O2P_PARSER_LIMIT_NODES", 4);
    tu_model_free(m);
}
END_TEST

/* ================================================================ weight bytes */

START_TEST(test_weight_bytes_at_and_past)
{
    /* 400 (initializer) + 40 (Constant value) + 24 (Constant value_ints) + 4 (a tensor
     * attribute) + 64 (external data) = 532 bytes of weights. */
    char *dir = tu_tempdir();
    uint8_t ext[64];
    for (int i = 0; i < 64; i++)
        ext[i] = (uint8_t)i;
    char *ext_path = tu_printf("%s/w.bin", dir);
    ck_assert_int_eq(tu_write_file(ext_path, ext, sizeof ext), 0);
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d100[1] = {100}, d10[1] = {10}, d16[1] = {16}, d1[1] = {1};
    float f[100] = {0};
    tu_add_initializer_raw(m, g, "w", DT(FLOAT), 1, d100, f, sizeof f);
    Onnx__TensorProto *e = tu_tensor_new(m, "e", DT(FLOAT), 1, d16);
    tu_tensor_set_external(m, e, "w.bin", NULL, NULL);
    tu_add_initializer(m, g, e);
    Onnx__NodeProto *c1 = tu_add_node(m, g, "Constant", "c1", "", "k1");
    Onnx__TensorProto *cv = tu_tensor_new(m, NULL, DT(FLOAT), 1, d10);
    tu_tensor_set_floats(m, cv, f, 10);
    tu_attr_tensor(m, c1, "value", cv);
    Onnx__NodeProto *c2 = tu_add_node(m, g, "Constant", "c2", "", "k2");
    const int64_t iv[3] = {1, 2, 3};
    tu_attr_ints(m, c2, "value_ints", iv, 3);
    Onnx__NodeProto *cs = tu_add_node(m, g, "ConstantOfShape", "cs", "k2", "y");
    Onnx__TensorProto *av = tu_tensor_new(m, NULL, DT(FLOAT), 1, d1);
    tu_tensor_set_floats(m, av, f, 1);
    tu_attr_tensor(m, cs, "value", av);
    tu_add_output(m, g, "y", DT(FLOAT), -1, NULL, NULL);
    TU_ASSERT_STATUS(parse_limited(m, -1, 0, dir), O2P_OK);
    TU_ASSERT_STATUS(parse_limited(m, O2P_PARSER_LIMIT_WEIGHT_BYTES, 532, dir), O2P_OK);
    assert_limit_refusal(parse_limited(m, O2P_PARSER_LIMIT_WEIGHT_BYTES, 531, dir),
                         "O2P_PARSER_LIMIT_WEIGHT_BYTES", 531);
    tu_model_free(m);
    free(ext_path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* The default (2^40) reached cheaply: external data is charged before its file is opened,
 * so a claim of 2^40 bytes gets past the limit (and fails on the missing file) while one of
 * 2^40 + 4 is refused by the limit. */
START_TEST(test_weight_bytes_default)
{
    char *dir = tu_tempdir();
    const int64_t at[1] = {(int64_t)1 << 38}, past[1] = {((int64_t)1 << 38) + 1};
    const int64_t *dims[2] = {at, past};
    for (int k = 0; k < 2; k++) {
        tu_model *m = tu_model_new(13);
        Onnx__GraphProto *g = tu_main_graph(m);
        Onnx__TensorProto *t = tu_tensor_new(m, "huge", DT(FLOAT), 1, dims[k]);
        tu_tensor_set_external(m, t, "missing.bin", NULL, NULL);
        tu_add_initializer(m, g, t);
        tu_add_output(m, g, "huge", DT(FLOAT), -1, NULL, NULL);
        o2p_status st = parse_limited(m, -1, 0, dir);
        if (k == 0) {
            ck_assert_msg(st != O2P_OK && st != O2P_ERR_LIMIT,
                          "2^40 bytes of weights: got %s (%s), expected the missing file",
                          o2p_status_name(st), o2p_last_error());
            TU_ASSERT_ERROR_HAS("missing.bin");
        } else {
            assert_limit_refusal(st, "O2P_PARSER_LIMIT_WEIGHT_BYTES", (long long)1 << 40);
        }
        tu_model_free(m);
    }
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ================================================================ string lengths */

static char *string_of(size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, 'a', n);
    s[n] = '\0';
    return s;
}

/* A model with one string of length n in the place `where` names. */
static tu_model *model_with_string(int where, size_t n)
{
    char *s = string_of(n);
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[1] = {4};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d, NULL);
    Onnx__NodeProto *node = tu_add_node(m, g, "Relu", where == 0 ? s : "r", "x", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d, NULL);
    switch (where) {
    case 0: break; /* node name */
    case 1: node->doc_string = tu_strdup(m, s); break;
    case 2: tu_attr_string(m, node, "note", s); break;
    case 3: tu_add_metadata(m, "key", s); break;
    case 4: tu_model_proto(m)->doc_string = tu_strdup(m, s); break;
    default: {
        const char *list[2] = {"short", s};
        tu_attr_strings(m, node, "notes", list, 2);
        break;
    }
    }
    free(s);
    return m;
}

START_TEST(test_string_bytes_at_and_past)
{
    static const char *const places[] = {"node name",      "doc_string",       "STRING attribute",
                                         "metadata value", "model doc_string", "STRINGS attribute"};
    for (int where = 0; where < 6; where++) {
        tu_model *m = model_with_string(where, 64);
        o2p_status st = parse_limited(m, O2P_PARSER_LIMIT_STRING_BYTES, 64, NULL);
        ck_assert_msg(st == O2P_OK, "%s of 64 bytes at a limit of 64: %s", places[where],
                      o2p_last_error());
        tu_model_free(m);
        m = model_with_string(where, 65);
        assert_limit_refusal(parse_limited(m, O2P_PARSER_LIMIT_STRING_BYTES, 64, NULL),
                             "O2P_PARSER_LIMIT_STRING_BYTES", 65);
        tu_model_free(m);
    }
    /* Tensor data is not a string: 400 bytes of raw_data pass a string limit of 64. */
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[1] = {100};
    float f[100] = {0};
    tu_add_initializer_raw(m, g, "w", DT(FLOAT), 1, d, f, sizeof f);
    tu_add_output(m, g, "w", DT(FLOAT), 1, d, NULL);
    TU_ASSERT_STATUS(parse_limited(m, O2P_PARSER_LIMIT_STRING_BYTES, 64, NULL), O2P_OK);
    tu_model_free(m);
}
END_TEST

START_TEST(test_string_bytes_default)
{
    tu_model *m = model_with_string(0, (size_t)1 << 20);
    TU_ASSERT_STATUS(parse_limited(m, -1, 0, NULL), O2P_OK);
    tu_model_free(m);
    m = model_with_string(1, ((size_t)1 << 20) + 1);
    assert_limit_refusal(parse_limited(m, -1, 0, NULL), "O2P_PARSER_LIMIT_STRING_BYTES",
                         ((long long)1 << 20) + 1);
    TU_ASSERT_ERROR_HAS("NodeProto.doc_string");
    tu_model_free(m);
}
END_TEST

/* ================================================================ fixed parser limits */

START_TEST(test_nesting_at_and_past)
{
    size_t size;
    uint8_t *bytes = tu_nested_if_model(ONNX_MAX_GRAPH_DEPTH, &size);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_bytes(bytes, size, NULL, "deep.onnx", &net, NULL), O2P_OK);
    tu_parsed_free(net, NULL);
    free(bytes);
    bytes = tu_nested_if_model(ONNX_MAX_GRAPH_DEPTH + 1, &size);
    TU_ASSERT_STATUS(tu_parse_bytes(bytes, size, NULL, "deep.onnx", &net, NULL), O2P_ERR_LIMIT);
    ck_assert(tu_contains_number(o2p_last_error(), ONNX_MAX_GRAPH_DEPTH));
    free(bytes);
}
END_TEST

START_TEST(test_rank_at_and_past)
{
    for (int rank = O2P_MAX_RANK; rank <= O2P_MAX_RANK + 1; rank++) {
        int64_t dims[O2P_MAX_RANK + 1];
        for (int i = 0; i < rank; i++)
            dims[i] = 1;
        tu_model *m = tu_model_new(13);
        Onnx__GraphProto *g = tu_main_graph(m);
        float one = 1;
        tu_add_initializer_raw(m, g, "w", DT(FLOAT), rank, dims, &one, sizeof one);
        tu_add_output(m, g, "w", DT(FLOAT), -1, NULL, NULL);
        o2p_status st = parse_limited(m, -1, 0, NULL);
        if (rank == O2P_MAX_RANK) {
            TU_ASSERT_STATUS(st, O2P_OK);
        } else {
            TU_ASSERT_STATUS(st, O2P_ERR_LIMIT);
            TU_ASSERT_ERROR_HAS("O2P_MAX_RANK");
            ck_assert(tu_contains_number(o2p_last_error(), O2P_MAX_RANK + 1));
        }
        tu_model_free(m);
    }
}
END_TEST

/* The element count must fit in int64 and the byte size in SIZE_MAX / 4 (2^62 - 1 bytes):
 * 2147483647 x 2147483649 bytes is 2^62 - 1 (over the size check only for want of data),
 * 2^31 x 2^31 bytes is 2^62 (refused by the limit), 2^32 x 2^32 elements overflow int64. */
START_TEST(test_element_count_at_and_past)
{
    const int64_t at[2] = {INT64_C(2147483647), INT64_C(2147483649)};
    const int64_t past[2] = {INT64_C(1) << 31, INT64_C(1) << 31};
    const int64_t overflow[2] = {INT64_C(1) << 32, INT64_C(1) << 32};
    const int64_t *dims[3] = {at, past, overflow};
    for (int k = 0; k < 3; k++) {
        tu_model *m = tu_model_new(13);
        Onnx__GraphProto *g = tu_main_graph(m);
        uint8_t byte = 1;
        tu_add_initializer_raw(m, g, "big", DT(UINT8), 2, dims[k], &byte, 1);
        tu_add_output(m, g, "big", DT(UINT8), -1, NULL, NULL);
        o2p_status st = parse_limited(m, -1, 0, NULL);
        if (k == 0) {
            TU_ASSERT_STATUS(st, O2P_ERR_PARSE);
            TU_ASSERT_ERROR_HAS("raw_data holds 1 bytes");
        } else {
            TU_ASSERT_STATUS(st, O2P_ERR_LIMIT);
            TU_ASSERT_ERROR_HAS("big");
        }
        tu_model_free(m);
    }
}
END_TEST

/* 2 GiB of model: at the limit the bytes are read (zero pages: refused as broken protobuf at
 * the first byte), one byte more is refused by its size alone, as is a (sparse) file of that
 * size. */
START_TEST(test_model_bytes_at_and_past)
{
    const size_t limit = (size_t)2 << 30;
    void *zeros =
        mmap(NULL, limit + 1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert_ptr_ne(zeros, MAP_FAILED);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_bytes(zeros, limit, NULL, "2g.onnx", &net, NULL), O2P_ERR_PARSE);
    TU_ASSERT_STATUS(tu_parse_bytes(zeros, limit + 1, NULL, "2g.onnx", &net, NULL), O2P_ERR_LIMIT);
    TU_ASSERT_ERROR_HAS("2 GiB");
    ck_assert(tu_contains_number(o2p_last_error(), (long long)limit + 1));
    munmap(zeros, limit + 1);
    char *dir = tu_tempdir();
    char *path = tu_printf("%s/big.onnx", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ftruncate(fileno(f), (off_t)limit + 1), 0);
    fclose(f);
    TU_ASSERT_STATUS(tu_parse_file(path, &net, NULL), O2P_ERR_LIMIT);
    TU_ASSERT_ERROR_HAS("big.onnx");
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ================================================================ plan sections */

START_TEST(test_plan_sections_at_and_past)
{
    /* A real host plan, then unknown optional sections up to 64 and 65. */
    char *dir = tu_tempdir();
    char *plan_path = tu_printf("%s/t.plan", dir);
    char *args = tu_printf("'%s/models/tiny_cnn.onnx' --target host --shapes input:1x3x32x32 "
                           "-o '%s'",
                           O2P_SOURCE_DIR, plan_path);
    ck_assert_int_eq(tu_run_cli(args, NULL, NULL), 0);
    size_t size;
    char *plan = tu_read_file(plan_path, &size);
    ck_assert_ptr_nonnull(plan);
    plan_view v;
    TU_ASSERT_STATUS(plan_read(plan, size, "t.plan", &v), O2P_OK);
    plan_section_desc s[PLAN_MAX_SECTIONS + 1];
    uint32_t n = 0;
    for (; n < v.section_count; n++)
        s[n] = (plan_section_desc){v.sections[n].type, v.sections[n].flags, v.sections[n].alignment,
                                   v.sections[n].data, (size_t)v.sections[n].size};
    static const char extra[] = "x";
    for (; n < PLAN_MAX_SECTIONS + 1; n++)
        s[n] = (plan_section_desc){100, 0, 0, extra, 1};
    uint8_t *out;
    size_t out_size;
    TU_ASSERT_STATUS(plan_write_alloc(&v.header, s, PLAN_MAX_SECTIONS, &out, &out_size), O2P_OK);
    plan_view v64;
    TU_ASSERT_STATUS(plan_read(out, out_size, "64.plan", &v64), O2P_OK);
    ck_assert_uint_eq(v64.section_count, 64);
    o2p_runtime *rt;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    TU_ASSERT_STATUS(o2p_runtime_check(rt, out, out_size, "64.plan"), O2P_OK);
    /* 65: the writer refuses, and so does the reader (count patched, header CRC redone). */
    uint8_t *out65 = NULL;
    size_t size65 = 0;
    TU_ASSERT_STATUS(plan_write_alloc(&v.header, s, PLAN_MAX_SECTIONS + 1, &out65, &size65),
                     O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("65 sections");
    out[132] = 65;
    uint32_t crc = o2p_crc32c(0, out, 252);
    for (int i = 0; i < 4; i++)
        out[252 + i] = (uint8_t)(crc >> (8 * i));
    TU_ASSERT_STATUS(plan_read(out, out_size, "65.plan", &v64), O2P_ERR_PARSE);
    ck_assert(tu_contains_number(o2p_last_error(), 64));
    TU_ASSERT_STATUS(o2p_runtime_check(rt, out, out_size, "65.plan"), O2P_ERR_PARSE);
    o2p_runtime_destroy(rt);
    free(out);
    free(plan);
    free(args);
    free(plan_path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ================================================================ ENGINE reader */

/* A small ENGINE section encoder (layout in src/plan/engine_format.h). */
static void put_u32(tu_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    tu_buf_raw(b, x, 4);
}

static void put_u64(tu_buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_str(tu_buf *b, const char *s, size_t n)
{
    put_u32(b, (uint32_t)n);
    tu_buf_raw(b, s, n);
}

static void put_cstr(tu_buf *b, const char *s)
{
    put_str(b, s, strlen(s));
}

/* What varies between the engines the tests make. */
typedef struct eng_spec {
    uint32_t target;
    uint64_t workspace;
    size_t name_len;       /* of tensor x; 0: "x" */
    uint32_t num_attrs;    /* INT attributes on the layer */
    uint32_t list_len;     /* > 0: one more FLOATS attribute of that many entries */
    int plugin;            /* the layer is a plugin layer */
    uint32_t plugin_data;  /* its serialized bytes */
    uint64_t plugin_ws;    /* its workspace */
    uint32_t num_launches; /* cuda: MEMSET launches on the layer */
    uint32_t param_size;   /* > 0: the first launch is a KERNEL with this many param bytes */
    uint32_t num_patches;  /* patches of that KERNEL launch */
    uint32_t num_images;   /* cuda: images */
    uint32_t image_size;   /* bytes of the first image */
    /* > 0: instead of the tables, the tensor (tensor_count) or layer (layer_count) count,
     * with room for that many records after it */
    uint32_t tensor_count, layer_count;
} eng_spec;

static uint8_t *encode_engine(const eng_spec *sp, size_t *size)
{
    tu_buf b = {0};
    put_u32(&b, ENGINE_MAGIC);
    put_u32(&b, ENGINE_FORMAT_VERSION);
    put_u32(&b, sp->target);
    put_u32(&b, 0);
    put_u64(&b, 64); /* arena */
    size_t woff_at = b.len;
    put_u64(&b, 0); /* weights_offset, patched below */
    put_u64(&b, 0); /* weights_size */
    put_u64(&b, sp->workspace);
    if (sp->tensor_count) {
        put_u32(&b, sp->tensor_count);
        size_t need = b.len + (size_t)sp->tensor_count * 44;
        need = (need + 255) & ~(size_t)255;
        uint8_t *out = calloc(1, need);
        memcpy(out, b.data, b.len);
        for (int i = 0; i < 8; i++)
            out[woff_at + i] = (uint8_t)((uint64_t)need >> (8 * i));
        tu_buf_free(&b);
        *size = need;
        return out;
    }
    /* tensors: x (input) and y (output), float [4], bound by the caller */
    put_u32(&b, 2);
    for (int t = 0; t < 2; t++) {
        if (t == 0 && sp->name_len) {
            char *name = string_of(sp->name_len);
            put_str(&b, name, sp->name_len);
            free(name);
        } else {
            put_cstr(&b, t ? "y" : "x");
        }
        put_u32(&b, O2P_DTYPE_FLOAT);
        put_u32(&b, 1);
        put_u64(&b, 4);
        put_u32(&b, 0);  /* dd_mask (format 6): static */
        put_u32(&b, UINT32_MAX); /* shape_tensor: -1 */
        put_u32(&b, t ? ENGINE_IO_OUTPUT : ENGINE_IO_INPUT);
        put_u32(&b, ENGINE_STORAGE_IO);
        put_u64(&b, 0);
        put_u64(&b, 16);
    }
    if (sp->layer_count) {
        put_u32(&b, sp->layer_count);
        size_t need = b.len + (size_t)sp->layer_count * 52;
        need = (need + 255) & ~(size_t)255;
        uint8_t *out = calloc(1, need);
        memcpy(out, b.data, b.len);
        for (int i = 0; i < 8; i++)
            out[woff_at + i] = (uint8_t)((uint64_t)need >> (8 * i));
        tu_buf_free(&b);
        *size = need;
        return out;
    }
    put_u32(&b, 1);
    put_cstr(&b, "relu");
    put_cstr(&b, "Relu");
    put_u64(&b, 13);
    put_u32(&b, 1);
    put_u32(&b, 0);
    put_u32(&b, 1);
    put_u32(&b, 1);
    put_cstr(&b, sp->plugin ? "plugin" : "builtin");
    put_cstr(&b, sp->plugin ? "plugin.Relu" : "host.Relu");
    put_u32(&b, 0);
    put_u32(&b, 0);
    put_u32(&b, sp->num_attrs + (sp->list_len ? 1 : 0));
    for (uint32_t a = 0; a < sp->num_attrs; a++) {
        char name[32];
        snprintf(name, sizeof name, "a%u", a);
        put_cstr(&b, name);
        put_u32(&b, O2P_ATTR_INT);
        put_u64(&b, a);
    }
    if (sp->list_len) {
        put_cstr(&b, "list");
        put_u32(&b, O2P_ATTR_FLOATS);
        put_u32(&b, sp->list_len);
        uint8_t *zeros = calloc(sp->list_len, 4);
        tu_buf_raw(&b, zeros, (size_t)sp->list_len * 4);
        free(zeros);
    }
    put_u32(&b, sp->plugin ? 1 : 0);
    if (sp->plugin) {
        put_cstr(&b, "Relu");
        put_cstr(&b, "1");
        put_cstr(&b, "");
        put_cstr(&b, "libnone.so");
        put_u32(&b, sp->plugin_data);
        uint8_t *zeros = calloc(sp->plugin_data ? sp->plugin_data : 1, 1);
        tu_buf_raw(&b, zeros, sp->plugin_data);
        free(zeros);
        put_u64(&b, sp->plugin_ws);
    }
    put_u32(&b, sp->num_launches);
    for (uint32_t k = 0; k < sp->num_launches; k++) {
        int kernel = k == 0 && sp->param_size;
        put_u32(&b, kernel ? ENGINE_LAUNCH_KERNEL : 2u /* MEMSET */);
        put_cstr(&b, kernel ? "elementwise" : "");
        put_cstr(&b, kernel ? "o2p_elementwise_relu" : "");
        for (int i = 0; i < 6; i++)
            put_u32(&b, 1);
        put_u32(&b, 0);
        if (kernel) {
            put_u32(&b, sp->param_size);
            uint8_t *zeros = calloc(sp->param_size, 1);
            tu_buf_raw(&b, zeros, sp->param_size);
            free(zeros);
            put_u32(&b, sp->num_patches);
            for (uint32_t p = 0; p < sp->num_patches; p++) {
                put_u32(&b, 8 * (p % (sp->param_size / 8)));
                put_u32(&b, 1);
                put_u64(&b, 0);
            }
        } else {
            put_u32(&b, 24);
            put_u64(&b, 0);
            put_u64(&b, 16);
            put_u64(&b, 0);
            put_u32(&b, 1);
            put_u32(&b, 0);
            put_u32(&b, 1);
            put_u64(&b, 0);
        }
    }
    put_u32(&b, 1);
    put_u32(&b, 0);
    put_u32(&b, 1);
    put_u32(&b, 1);
    put_u32(&b, sp->num_images);
    for (uint32_t k = 0; k < sp->num_images; k++) {
        char family[32];
        snprintf(family, sizeof family, k ? "family%u" : "elementwise", k);
        put_cstr(&b, family);
        put_u32(&b, 1); /* PTX */
        put_u32(&b, 80);
        put_u32(&b, 0);
        uint32_t n = k == 0 && sp->image_size ? sp->image_size : 1;
        put_u32(&b, n);
        uint8_t *text = malloc(n);
        memset(text, ' ', n);
        tu_buf_raw(&b, text, n);
        free(text);
    }
    size_t woff = (b.len + 255) & ~(size_t)255;
    while (b.len < woff) {
        uint8_t z = 0;
        tu_buf_raw(&b, &z, 1);
    }
    for (int i = 0; i < 8; i++)
        b.data[woff_at + i] = (uint8_t)((uint64_t)woff >> (8 * i));
    *size = b.len;
    return b.data;
}

/* Reads the engine's tables only (no kernel or plugin looked up, nothing loaded). */
static o2p_status read_engine(const eng_spec *sp)
{
    size_t size;
    uint8_t *bytes = encode_engine(sp, &size);
    lean_engine *e = NULL;
    o2p_status st = lean_engine_create_flags(bytes, size, "ENGINE", NULL, NULL, NULL,
                                             LEAN_CREATE_TABLES_ONLY, &e);
    lean_engine_destroy(e);
    free(bytes);
    return st;
}

#define ENGINE_AT(spec_init)                                                     \
    do {                                                                         \
        eng_spec s_ = spec_init;                                                 \
        o2p_status st_ = read_engine(&s_);                                       \
        ck_assert_msg(st_ == O2P_OK, "%s: at the limit, got %s: %s", #spec_init, \
                      o2p_status_name(st_), o2p_last_error());                   \
    } while (0)
#define ENGINE_PAST(spec_init, needle)                                                    \
    do {                                                                                  \
        eng_spec s_ = spec_init;                                                          \
        o2p_status st_ = read_engine(&s_);                                                \
        ck_assert_msg(st_ == O2P_ERR_LIMIT, "%s: past the limit, got %s: %s", #spec_init, \
                      o2p_status_name(st_), o2p_last_error());                            \
        TU_ASSERT_ERROR_HAS(needle);                                                      \
    } while (0)

START_TEST(test_engine_minimal_is_valid)
{
    ENGINE_AT(((eng_spec){.target = ENGINE_TARGET_HOST}));
    ENGINE_AT(((eng_spec){.target = ENGINE_TARGET_CUDA, .num_launches = 1}));
}
END_TEST

START_TEST(test_engine_string_attrs_list)
{
    ENGINE_AT(((eng_spec){.name_len = ENGINE_MAX_STRING}));
    ENGINE_PAST(((eng_spec){.name_len = ENGINE_MAX_STRING + 1}), "over the limit of 1048576");
    ENGINE_AT(((eng_spec){.num_attrs = ENGINE_MAX_ATTRS}));
    ENGINE_PAST(((eng_spec){.num_attrs = ENGINE_MAX_ATTRS + 1}), "over the limit of 4096");
    ENGINE_AT(((eng_spec){.num_attrs = 0, .list_len = ENGINE_MAX_LIST}));
    ENGINE_PAST(((eng_spec){.list_len = ENGINE_MAX_LIST + 1}), "over the limit of 16777216");
}
END_TEST

/* 2^24 tensors or layers take at least 600 MiB of tables: the count is checked against the
 * limit right after the bytes it needs, so zeroed room (untouched pages) is enough; at the
 * limit the reader goes on to the first record (refused for its zero dtype / empty op). */
START_TEST(test_engine_tensors_layers)
{
    eng_spec at = {.tensor_count = ENGINE_MAX_TENSORS};
    o2p_status st = read_engine(&at);
    ck_assert_msg(st == O2P_ERR_PARSE, "2^24 tensors: got %s: %s", o2p_status_name(st),
                  o2p_last_error());
    TU_ASSERT_ERROR_HAS("tensor 0");
    ENGINE_PAST(((eng_spec){.tensor_count = ENGINE_MAX_TENSORS + 1}), "over the limit of 16777216");
    eng_spec lat = {.layer_count = ENGINE_MAX_LAYERS};
    st = read_engine(&lat);
    ck_assert_msg(st == O2P_ERR_PARSE, "2^24 layers: got %s: %s", o2p_status_name(st),
                  o2p_last_error());
    TU_ASSERT_ERROR_HAS("layer 0");
    ENGINE_PAST(((eng_spec){.layer_count = ENGINE_MAX_LAYERS + 1}), "over the limit of 16777216");
}
END_TEST

START_TEST(test_engine_plugin_limits)
{
    ENGINE_AT(((eng_spec){.plugin = 1, .plugin_data = ENGINE_MAX_PLUGIN_DATA}));
    ENGINE_PAST(((eng_spec){.plugin = 1, .plugin_data = ENGINE_MAX_PLUGIN_DATA + 1}), "16777216");
    ENGINE_AT(((eng_spec){.plugin = 1, .plugin_ws = ENGINE_MAX_PLUGIN_WORKSPACE}));
    ENGINE_PAST(((eng_spec){.plugin = 1, .plugin_ws = ENGINE_MAX_PLUGIN_WORKSPACE + 1}),
                "1099511627776");
}
END_TEST

START_TEST(test_engine_cuda_limits)
{
    const uint32_t cuda = ENGINE_TARGET_CUDA;
    ENGINE_AT(((eng_spec){.target = cuda, .workspace = ENGINE_MAX_WORKSPACE}));
    ENGINE_PAST(((eng_spec){.target = cuda, .workspace = ENGINE_MAX_WORKSPACE + 1}),
                "1099511627776");
    ENGINE_AT(((eng_spec){.target = cuda, .num_launches = ENGINE_MAX_LAUNCHES}));
    ENGINE_PAST(((eng_spec){.target = cuda, .num_launches = ENGINE_MAX_LAUNCHES + 1}),
                "over the limit of 4096");
    ENGINE_AT(((eng_spec){
        .target = cuda, .num_launches = 1, .param_size = ENGINE_MAX_PARAM_BYTES, .num_images = 1}));
    ENGINE_PAST(((eng_spec){.target = cuda,
                            .num_launches = 1,
                            .param_size = ENGINE_MAX_PARAM_BYTES + 8,
                            .num_images = 1}),
                "4096");
    ENGINE_AT(((eng_spec){.target = cuda,
                          .num_launches = 1,
                          .param_size = 256,
                          .num_patches = ENGINE_MAX_PATCHES,
                          .num_images = 1}));
    ENGINE_PAST(((eng_spec){.target = cuda,
                            .num_launches = 1,
                            .param_size = 256,
                            .num_patches = ENGINE_MAX_PATCHES + 1,
                            .num_images = 1}),
                "over the limit of 32");
    ENGINE_AT(((eng_spec){.target = cuda, .num_launches = 1, .num_images = ENGINE_MAX_IMAGES}));
    ENGINE_PAST(
        ((eng_spec){.target = cuda, .num_launches = 1, .num_images = ENGINE_MAX_IMAGES + 1}),
        "over the limit of 1024");
    ENGINE_AT(((eng_spec){
        .target = cuda, .num_launches = 1, .num_images = 1, .image_size = ENGINE_MAX_IMAGE}));
    ENGINE_PAST(((eng_spec){.target = cuda,
                            .num_launches = 1,
                            .num_images = 1,
                            .image_size = ENGINE_MAX_IMAGE + 1}),
                "268435456");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("limits");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_defaults_match_readme);
    tcase_add_test(tc, test_nodes_at_and_past);
    tcase_add_test(tc, test_weight_bytes_at_and_past);
    tcase_add_test(tc, test_weight_bytes_default);
    tcase_add_test(tc, test_string_bytes_at_and_past);
    tcase_add_test(tc, test_string_bytes_default);
    tcase_add_test(tc, test_nesting_at_and_past);
    tcase_add_test(tc, test_rank_at_and_past);
    tcase_add_test(tc, test_element_count_at_and_past);
    tcase_add_test(tc, test_model_bytes_at_and_past);
    tcase_add_test(tc, test_plan_sections_at_and_past);
    tcase_add_test(tc, test_engine_minimal_is_valid);
    tcase_add_test(tc, test_engine_string_attrs_list);
    tcase_add_test(tc, test_engine_tensors_layers);
    tcase_add_test(tc, test_engine_plugin_limits);
    tcase_add_test(tc, test_engine_cuda_limits);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
