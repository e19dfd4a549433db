/* test_malformed.c: the parser on broken input: truncated models at every length, random
 * bytes, bit flips, structure-aware random models, broken protobuf encodings, nesting deep
 * enough to exhaust a stack, files that are not models; through the API and the CLI. Every
 * case must end in a status (with a message) and never in a crash. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../testutil.h"

#define DT(x) ONNX__TENSOR_PROTO__DATA_TYPE__##x

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void hex_prefix(char *out, size_t out_size, const uint8_t *b, size_t n)
{
    size_t pos = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && pos + 4 < out_size; i++)
        pos += (size_t)snprintf(out + pos, out_size - pos, "%02x ", b[i]);
}

/* A model that uses most of what the parser reads: metadata, two opsets, inputs with fixed,
 * symbolic and unknown dims, initializers in raw and typed form, a Constant node, an If
 * with two bodies (one with its own initializer), a node with every common attribute kind,
 * value_info, outputs. */
static tu_model *rich_model(void)
{
    tu_model *m = tu_model_new(13);
    tu_add_opset(m, "test.domain", 1);
    tu_add_metadata(m, "author", "tests");
    Onnx__ModelProto *mp = tu_model_proto(m);
    mp->doc_string = tu_strdup(m, "rich model");
    mp->has_model_version = 1;
    mp->model_version = 3;
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t dx[4] = {1, 3, -1, -1};
    const char *px[4] = {NULL, NULL, "N", NULL};
    const int64_t d3[1] = {3}, d2[1] = {2};
    tu_add_input(m, g, "x", DT(FLOAT), 4, dx, px);
    tu_add_input(m, g, "cond", DT(BOOL), 0, NULL, NULL);

    const float w[3] = {0.5f, -1.0f, 2.0f};
    tu_add_initializer_raw(m, g, "W", DT(FLOAT), 1, d3, w, sizeof w);
    Onnx__TensorProto *t = tu_tensor_new(m, "B", DT(INT64), 1, d2);
    const int64_t b[2] = {1, -1};
    tu_tensor_set_int64s(m, t, b, 2);
    tu_add_initializer(m, g, t);
    t = tu_tensor_new(m, "H", DT(FLOAT16), 1, d2);
    const int32_t h[2] = {0x3C00, 0x4000};
    tu_tensor_set_int32s(m, t, h, 2);
    tu_add_initializer(m, g, t);

    Onnx__NodeProto *n = tu_add_node(m, g, "Constant", "shape_const", "", "S");
    const int64_t sv[2] = {1, -1};
    tu_attr_ints(m, n, "value_ints", sv, 2);

    tu_add_node(m, g, "Relu", "relu", "x", "r");
    n = tu_add_node(m, g, "If", "branch", "cond", "z");
    Onnx__GraphProto *tg = tu_graph_new(m, "then_g");
    tu_add_initializer_raw(m, tg, "TW", DT(FLOAT), 1, d3, w, sizeof w);
    tu_add_node(m, tg, "Mul", "t_mul", "r,TW", "t_out");
    tu_add_output(m, tg, "t_out", DT(FLOAT), -1, NULL, NULL);
    Onnx__GraphProto *eg = tu_graph_new(m, "else_g");
    tu_add_node(m, eg, "Identity", "e_id", "r", "e_out");
    tu_add_output(m, eg, "e_out", DT(FLOAT), -1, NULL, NULL);
    tu_attr_graph(m, n, "then_branch", tg);
    tu_attr_graph(m, n, "else_branch", eg);

    n = tu_add_node(m, g, "Fancy", "fancy", "z,W,B,H,S", "out");
    tu_node_set_domain(m, n, "test.domain");
    tu_attr_float(m, n, "alpha", 0.25f);
    tu_attr_int(m, n, "axis", -1);
    tu_attr_string(m, n, "mode", "constant");
    const int64_t pads[4] = {0, 1, 0, 1};
    tu_attr_ints(m, n, "pads", pads, 4);
    const float scales[2] = {1.0f, 2.0f};
    tu_attr_floats(m, n, "scales", scales, 2);
    const char *names[2] = {"p", "q"};
    tu_attr_strings(m, n, "names", names, 2);
    Onnx__TensorProto *at = tu_tensor_new(m, NULL, DT(INT32), 1, d2);
    const int32_t av[2] = {7, 8};
    tu_tensor_set_raw(m, at, av, sizeof av);
    tu_attr_tensor(m, n, "table", at);

    tu_add_value_info(m, g, "r", DT(FLOAT), 4, dx, px);
    tu_add_output(m, g, "out", DT(FLOAT), -1, NULL, NULL);
    tu_add_output(m, g, "z", DT(FLOAT), -1, NULL, NULL);
    return m;
}

/* rich_model() serialized with the graph field last: every proper prefix is then broken
 * protobuf or a model without a graph. */
static uint8_t *rich_bytes(size_t *size)
{
    tu_model *m = rich_model();
    uint8_t *bytes = tu_model_pack(m, size);
    tu_model_free(m);
    ck_assert_int_eq(tu_wire_move_field_last(bytes, *size, 7), 0);
    return bytes;
}

/* Parses bytes; fails the test when it succeeds or fails without a message. */
static void expect_refused(const uint8_t *bytes, size_t size, const char *what)
{
    o2p_network *net;
    o2p_status s = tu_parse_bytes(bytes, size, NULL, "broken.onnx", &net, NULL);
    if (s == O2P_OK) {
        char hex[200];
        hex_prefix(hex, sizeof hex, bytes, size < 48 ? size : 48);
        tu_parsed_free(net, NULL);
        ck_abort_msg("%s (%zu bytes: %s...) was accepted", what, size, hex);
    }
    ck_assert_msg(o2p_last_error()[0], "%s: failed with %s but no message", what,
                  o2p_status_name(s));
}

/* Parses bytes; either outcome is fine, but a failure must explain itself. */
static int parse_any(const uint8_t *bytes, size_t size, const char *base_dir, const char *what)
{
    o2p_network *net;
    o2p_parser *parser;
    o2p_status s = tu_parse_bytes(bytes, size, base_dir, "fuzz.onnx", &net, &parser);
    if (s == O2P_OK) {
        /* walk what came out, so that a broken network shows up under the sanitizers */
        o2p_graph *g = o2p_network_get_graph(net);
        char buf[256];
        for (int i = 0; i < o2p_graph_num_inputs(g); i++)
            o2p_tensor_format_shape(o2p_graph_get_input(g, i), buf, sizeof buf);
        for (int i = 0; i < o2p_graph_num_layers(g); i++) {
            o2p_layer *l = o2p_graph_get_layer(g, i);
            for (int k = 0; k < o2p_layer_num_outputs(l); k++)
                if (o2p_layer_get_output(l, k))
                    o2p_tensor_format_shape(o2p_layer_get_output(l, k), buf, sizeof buf);
        }
        for (int i = 0; i < o2p_parser_num_unsupported(parser); i++)
            (void)o2p_layer_get_name(o2p_parser_get_unsupported(parser, i));
        tu_parsed_free(net, parser);
        return 1;
    }
    ck_assert_msg(o2p_last_error()[0], "%s: failed with %s but no message", what,
                  o2p_status_name(s));
    return 0;
}

/* ================================================================ truncation */

START_TEST(test_rich_model_is_valid)
{
    size_t size;
    uint8_t *bytes = rich_bytes(&size);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_bytes(bytes, size, NULL, "rich.onnx", &net, NULL), O2P_OK);
    tu_parsed_free(net, NULL);
    free(bytes);
}
END_TEST

START_TEST(test_truncated_at_every_length)
{
    size_t size;
    uint8_t *bytes = rich_bytes(&size);
    ck_assert_uint_gt(size, 200);
    for (size_t len = 0; len < size; len++) {
        /* a copy of exactly len bytes, so that ASan sees any read past the end */
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, bytes, len);
        char what[96];
        snprintf(what, sizeof what, "the model cut at %zu of %zu bytes", len, size);
        expect_refused(copy, len, what);
        free(copy);
    }
    free(bytes);
}
END_TEST

START_TEST(test_truncated_files)
{
    size_t size;
    uint8_t *bytes = rich_bytes(&size);
    char *dir = tu_tempdir();
    char *path = tu_printf("%s/cut.onnx", dir);
    const size_t cuts[] = {0, 1, 2, size / 3, size / 2, size - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        ck_assert_int_eq(tu_write_file(path, bytes, cuts[k]), 0);
        o2p_network *net;
        TU_ASSERT_FAILS(tu_parse_file(path, &net, NULL));
        TU_ASSERT_ERROR_HAS("cut.onnx");
    }
    tu_rmtree(dir);
    free(path);
    free(dir);
    free(bytes);
}
END_TEST

/* ================================================================ random input */

START_TEST(test_random_bytes)
{
    uint64_t state = 0x5eed0001;
    for (int i = 0; i < 4000; i++) {
        size_t len = (size_t)(tu_rand(&state) % (i < 1000 ? 16 : 1024));
        uint8_t *buf = malloc(len ? len : 1);
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)tu_rand(&state);
        char what[64];
        snprintf(what, sizeof what, "random buffer %d", i);
        expect_refused(buf, len, what);
        free(buf);
    }
}
END_TEST

START_TEST(test_random_bytes_after_valid_header)
{
    /* A valid start (ir_version, opset_import) and then garbage: gets past the first
     * fields into the decoder's deeper paths. */
    tu_buf head = {0}, op = {0};
    tu_wire_uint(&head, 1, 8);
    tu_wire_string(&op, 1, "");
    tu_wire_uint(&op, 2, 13);
    tu_wire_message(&head, 8, &op);
    uint64_t state = 0x5eed0002;
    for (int i = 0; i < 3000; i++) {
        size_t len = (size_t)(tu_rand(&state) % 512);
        uint8_t *buf = malloc(head.len + len + 8);
        memcpy(buf, head.data, head.len);
        size_t pos = head.len;
        /* half of them open a graph field whose contents are random */
        if (i & 1) {
            buf[pos++] = (7 << 3) | 2;
            size_t l = len;
            do {
                buf[pos++] = (uint8_t)((l & 0x7f) | (l >= 0x80 ? 0x80 : 0));
                l >>= 7;
            } while (l);
        }
        for (size_t k = 0; k < len; k++)
            buf[pos++] = (uint8_t)tu_rand(&state);
        parse_any(buf, pos, NULL, "random after header");
        free(buf);
    }
    tu_buf_free(&head);
    tu_buf_free(&op);
}
END_TEST

START_TEST(test_bit_flips)
{
    /* A flipped bit may leave a valid model (a weight changes); it must never crash, and a
     * refusal must say why. */
    size_t size;
    uint8_t *bytes = rich_bytes(&size);
    uint8_t *copy = malloc(size);
    int refused = 0, total = 0;
    for (size_t pos = 0; pos < size; pos++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, bytes, size);
            copy[pos] ^= (uint8_t)(1u << bit);
            char what[64];
            snprintf(what, sizeof what, "bit %d of byte %zu flipped", bit, pos);
            refused += !parse_any(copy, size, NULL, what);
            total++;
        }
    }
    /* interesting byte values at every position */
    const uint8_t values[] = {0x00, 0xff, 0x7f, 0x80};
    for (size_t pos = 0; pos < size; pos++) {
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(copy, bytes, size);
            copy[pos] = values[v];
            char what[64];
            snprintf(what, sizeof what, "byte %zu set to 0x%02x", pos, values[v]);
            refused += !parse_any(copy, size, NULL, what);
            total++;
        }
    }
    ck_assert_msg(refused > total / 10, "only %d of %d corrupted models were refused", refused,
                  total);
    free(copy);
    free(bytes);
}
END_TEST

/* ---- structure-aware random models: valid protobuf, random content */

static const char *const name_pool[] = {
    "x",        "y",      "z",           "r",           "W",
    "cond",     "",       "a:b",         "then_branch", "else_branch",
    "body",     "value",  "value_float", "value_ints",  "location",
    "offset",   "length", "w.bin",       "../w.bin",    "/etc/passwd",
    "Relu",     "Add",    "If",          "Loop",        "Scan",
    "Constant", "Conv",   "Reshape",     "ai.onnx",     "test.domain",
    "\xff\xfe", "a/../b", "0",           "-1",          "99999999999999999999"};
#define N_NAMES (sizeof name_pool / sizeof name_pool[0])

static const int64_t int_pool[] = {0,
                                   1,
                                   2,
                                   3,
                                   4,
                                   5,
                                   6,
                                   7,
                                   8,
                                   9,
                                   10,
                                   11,
                                   13,
                                   14,
                                   16,
                                   17,
                                   20,
                                   -1,
                                   -2,
                                   64,
                                   65,
                                   255,
                                   1 << 20,
                                   (int64_t)1 << 31,
                                   (int64_t)1 << 40,
                                   INT64_MAX,
                                   INT64_MIN};
#define N_INTS (sizeof int_pool / sizeof int_pool[0])

static void gen_message(tu_buf *b, const ProtobufCMessageDescriptor *desc, int depth, uint64_t *st);

static void gen_value(tu_buf *b, const ProtobufCFieldDescriptor *f, int depth, uint64_t *st)
{
    uint64_t r = tu_rand(st);
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_BOOL: tu_wire_uint(b, f->id, (uint64_t)int_pool[r % N_INTS]); break;
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SINT64: tu_wire_uint(b, f->id, r % 1000); break;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32: {
        uint32_t v = (uint32_t)(r >> 7);
        tu_buf_tag(b, f->id, TU_WIRE_I32);
        tu_buf_raw(b, &v, 4);
        break;
    }
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        uint64_t v = r;
        tu_buf_tag(b, f->id, TU_WIRE_I64);
        tu_buf_raw(b, &v, 8);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: tu_wire_string(b, f->id, name_pool[r % N_NAMES]); break;
    case PROTOBUF_C_TYPE_BYTES: {
        uint8_t raw[64];
        size_t n = (r >> 8) % 3 == 0 ? (size_t)((r >> 16) % 64) : (size_t)((r >> 16) % 3) * 4;
        for (size_t i = 0; i < n; i++)
            raw[i] = (uint8_t)tu_rand(st);
        if ((r >> 24) % 4 == 0)
            tu_wire_string(b, f->id, name_pool[(r >> 32) % N_NAMES]);
        else
            tu_wire_bytes(b, f->id, raw, n);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        if (depth < 7) {
            tu_buf sub = {0};
            gen_message(&sub, f->descriptor, depth + 1, st);
            tu_wire_message(b, f->id, &sub);
            tu_buf_free(&sub);
        }
        break;
    default: break;
    }
}

static void gen_message(tu_buf *b, const ProtobufCMessageDescriptor *desc, int depth, uint64_t *st)
{
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        uint64_t r = tu_rand(st);
        int deep_message = f->type == PROTOBUF_C_TYPE_MESSAGE;
        /* include a field with probability 1/2 (1/4 for messages, less when deep) */
        if (r % (deep_message ? 4u + 2u * (unsigned)depth : 2u) != 0)
            continue;
        int count = f->label == PROTOBUF_C_LABEL_REPEATED ? 1 + (int)((r >> 8) % 3) : 1;
        for (int k = 0; k < count; k++)
            gen_value(b, f, depth, st);
    }
}

START_TEST(test_structured_random_models)
{
    char *dir = tu_tempdir();
    float w[16] = {0};
    char *wpath = tu_printf("%s/w.bin", dir);
    ck_assert_int_eq(tu_write_file(wpath, w, sizeof w), 0);
    uint64_t state = 0x5eed0003;
    int accepted = 0;
    const int rounds = 2500;
    for (int i = 0; i < rounds; i++) {
        tu_buf b = {0};
        /* always a graph, so that the parser gets past "no graph" */
        tu_wire_uint(&b, 1, (uint64_t)int_pool[tu_rand(&state) % 12]);
        tu_buf g = {0};
        gen_message(&g, &onnx__graph_proto__descriptor, 1, &state);
        tu_buf rest = {0};
        gen_message(&rest, &onnx__model_proto__descriptor, 1, &state);
        tu_buf_raw(&b, rest.data, rest.len);
        tu_wire_message(&b, 7, &g);
        char what[64];
        snprintf(what, sizeof what, "structured random model %d", i);
        accepted += parse_any(b.data, b.len, (i & 1) ? dir : NULL, what);
        tu_buf_free(&b);
        tu_buf_free(&g);
        tu_buf_free(&rest);
    }
    /* not an assertion of behaviour, a check that the generator exercises both outcomes */
    ck_assert_msg(accepted < rounds, "every random model was accepted");
    tu_rmtree(dir);
    free(wpath);
    free(dir);
}
END_TEST

/* ================================================================ broken encodings */

START_TEST(test_broken_encodings)
{
    struct {
        const char *what;
        uint8_t bytes[32];
        size_t size;
    } cases[] = {
        {"varint of 11 bytes",
         {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
         12},
        {"length 2^63", {0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 11},
        {"length past the end", {0x3a, 0x10, 0x0a, 0x00}, 4},
        {"field number 0", {0x02, 0x00}, 2},
        {"wire type 3 (group start)", {0x3b, 0x00}, 2},
        {"wire type 4 (group end)", {0x3c}, 1},
        {"wire type 6", {0x3e, 0x00}, 2},
        {"wire type 7", {0x3f, 0x00}, 2},
        {"fixed64 cut short", {0x09, 0x01, 0x02}, 3},
        {"fixed32 cut short", {0x0d, 0x01}, 2},
        {"graph of the wrong wire type", {0x38, 0x01}, 2},
        {"string field as varint", {0x10, 0x05, 0x3a, 0x00}, 4},
        {"nested length past its parent", {0x3a, 0x03, 0x0a, 0x7f, 0x00}, 5},
        {"a lone tag", {0x3a}, 1},
        {"a lone continuation byte", {0x80}, 1},
        {"field number 2^29", {0xfa, 0xff, 0xff, 0xff, 0x0f, 0x00}, 6},
        {"empty graph, no opsets, IR 8", {0x08, 0x08, 0x3a, 0x00}, 4},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        expect_refused(cases[k].bytes, cases[k].size, cases[k].what);

    /* invalid UTF-8 in a string field: protobuf-c checks it for `string` fields */
    tu_buf b = {0}, g = {0}, op = {0};
    tu_wire_uint(&b, 1, 8);
    tu_wire_string(&op, 1, "");
    tu_wire_uint(&op, 2, 13);
    tu_wire_message(&b, 8, &op);
    tu_wire_string(&g, 2, "\xc3\x28 bad utf8");
    tu_wire_message(&b, 7, &g);
    parse_any(b.data, b.len, NULL, "invalid UTF-8 graph name");
    tu_buf_free(&b);
    tu_buf_free(&g);
    tu_buf_free(&op);
}
END_TEST

START_TEST(test_not_onnx_at_all)
{
    const char *texts[] = {
        "hello world\n",
        "ir_version: 8\ngraph {\n  node { op_type: \"Relu\" }\n}\n", /* text format */
        "\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        "PK\x03\x04 a zip file",
        "{\"ir_version\": 8}",
    };
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        size_t n = k == 2 ? 16 : strlen(texts[k]);
        expect_refused((const uint8_t *)texts[k], n, texts[k]);
    }
    /* NULL bytes and size 0 */
    o2p_network *net;
    TU_ASSERT_FAILS(tu_parse_bytes(NULL, 0, NULL, "nothing.onnx", &net, NULL));
}
END_TEST

/* ================================================================ deep nesting */

START_TEST(test_deep_graph_nesting)
{
    const size_t depths[] = {65, 1000, 100000};
    for (size_t k = 0; k < sizeof depths / sizeof depths[0]; k++) {
        size_t size;
        uint8_t *bytes = tu_deep_graph_model(depths[k], &size);
        double t0 = now_seconds();
        o2p_network *net;
        TU_ASSERT_STATUS(tu_parse_bytes(bytes, size, NULL, "deep.onnx", &net, NULL), O2P_ERR_LIMIT);
        double dt = now_seconds() - t0;
        ck_assert_msg(dt < 2.0, "refusing %zu levels took %.2f s", depths[k], dt);
        TU_ASSERT_ERROR_HAS("deep.onnx");
        free(bytes);
    }
}
END_TEST

START_TEST(test_deep_type_nesting)
{
    /* TypeProto nests through sequence_type: not a subgraph, but the same stack danger. */
    const size_t depths[] = {10, 100000};
    for (size_t k = 0; k < sizeof depths / sizeof depths[0]; k++) {
        size_t size;
        uint8_t *bytes = tu_deep_type_model(depths[k], &size);
        double t0 = now_seconds();
        o2p_network *net;
        o2p_status s = tu_parse_bytes(bytes, size, NULL, "deeptype.onnx", &net, NULL);
        double dt = now_seconds() - t0;
        if (depths[k] > 1000) {
            ck_assert_msg(s != O2P_OK, "a %zu-deep type was accepted", depths[k]);
            ck_assert(o2p_last_error()[0]);
            ck_assert_msg(dt < 2.0, "refusing %zu levels took %.2f s", depths[k], dt);
        }
        tu_parsed_free(net, NULL);
        free(bytes);
    }
}
END_TEST

START_TEST(test_deep_unknown_fields)
{
    /* Unknown fields are skipped, never decoded: nesting inside them is harmless. */
    const size_t depth = 100000;
    tu_wire_layer *layers = calloc(depth, sizeof *layers);
    for (size_t k = 0; k < depth; k++)
        layers[k].child_field = 1000; /* not a field of any ONNX message */
    size_t size;
    uint8_t *inner = tu_wire_nest(layers, depth, NULL, 0, &size);
    free(layers);
    size_t model_size;
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[1] = {2};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d, NULL);
    tu_add_node(m, g, "Relu", "r", "x", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d, NULL);
    uint8_t *model = tu_model_pack(m, &model_size);
    tu_model_free(m);
    uint8_t *all = malloc(model_size + size);
    memcpy(all, model, model_size);
    memcpy(all + model_size, inner, size);
    double t0 = now_seconds();
    parse_any(all, model_size + size, NULL, "unknown deep field");
    double dt = now_seconds() - t0;
    ck_assert_msg(dt < 5.0, "took %.2f s", dt);
    free(all);
    free(model);
    free(inner);
}
END_TEST

/* ================================================================ special files */

START_TEST(test_special_files)
{
    char *dir = tu_tempdir();
    o2p_network *net;
    /* empty file */
    char *empty = tu_printf("%s/empty.onnx", dir);
    ck_assert_int_eq(tu_write_file(empty, "", 0), 0);
    TU_ASSERT_STATUS(tu_parse_file(empty, &net, NULL), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("empty.onnx");
    /* a folder */
    TU_ASSERT_FAILS(tu_parse_file(dir, &net, NULL));
    /* a character device */
    TU_ASSERT_FAILS(tu_parse_file("/dev/null", &net, NULL));
    TU_ASSERT_FAILS(tu_parse_file("/dev/zero", &net, NULL));
    /* unreadable file (root reads everything; then it is just garbage) */
    char *locked = tu_printf("%s/locked.onnx", dir);
    ck_assert_int_eq(tu_write_file(locked, "xx", 2), 0);
    chmod(locked, 0);
    TU_ASSERT_FAILS(tu_parse_file(locked, &net, NULL));
    TU_ASSERT_ERROR_HAS("locked.onnx");
    tu_rmtree(dir);
    free(empty);
    free(locked);
    free(dir);
}
END_TEST

static int parse_fifo(void *path)
{
    o2p_network *net;
    o2p_status s = tu_parse_file(path, &net, NULL);
    return s != O2P_OK && tu_contains(o2p_last_error(), "pipe.onnx") ? 0 : 1;
}

START_TEST(test_fifo_does_not_block)
{
    /* A named pipe with no writer: opening it for reading blocks unless the loader looks
     * before it opens (or opens without blocking). */
    char *dir = tu_tempdir();
    char *fifo = tu_printf("%s/pipe.onnx", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    int rc = tu_run_with_timeout(parse_fifo, fifo, 5.0);
    tu_rmtree(dir);
    free(fifo);
    free(dir);
    ck_assert_msg(rc != -1, "o2p_parser_parse_file blocked for 5 s on a named pipe (it must refuse "
                            "a file that is not regular without opening it for a blocking read)");
    ck_assert_msg(rc == 0, "a named pipe was not refused with a message naming it (child rc %d)",
                  rc);
}
END_TEST

/* ================================================================ through the CLI */

static void cli_expect_failure(const char *path, const char *what)
{
    char *args = tu_printf("inspect '%s'", path);
    char *out = NULL, *err = NULL;
    int rc = tu_run_cli(args, &out, &err);
    ck_assert_msg(rc < 128, "%s: onnx2plan died of signal %d; stderr: %s", what, rc - 128,
                  err ? err : "");
    ck_assert_msg(rc == 1, "%s: exit code %d, expected 1; stderr: %s", what, rc, err ? err : "");
    ck_assert_msg(err && strlen(err) > 10, "%s: no explanation on stderr", what);
    free(args);
    free(out);
    free(err);
}

START_TEST(test_cli_refuses_broken_models)
{
    char *dir = tu_tempdir();
    size_t size;
    uint8_t *bytes = rich_bytes(&size);
    char *path = tu_printf("%s/m.onnx", dir);

    ck_assert_int_eq(tu_write_file(path, bytes, 0), 0);
    cli_expect_failure(path, "empty file");
    ck_assert_int_eq(tu_write_file(path, bytes, size / 2), 0);
    cli_expect_failure(path, "model cut in half");
    ck_assert_int_eq(tu_write_file(path, bytes, size - 1), 0);
    cli_expect_failure(path, "model missing its last byte");

    uint64_t state = 42;
    uint8_t rnd[300];
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (uint8_t)tu_rand(&state);
    ck_assert_int_eq(tu_write_file(path, rnd, sizeof rnd), 0);
    cli_expect_failure(path, "random bytes");

    size_t dsize;
    uint8_t *deep = tu_deep_graph_model(100000, &dsize);
    ck_assert_int_eq(tu_write_file(path, deep, dsize), 0);
    cli_expect_failure(path, "100000 nested graphs");
    free(deep);
    deep = tu_deep_type_model(100000, &dsize);
    ck_assert_int_eq(tu_write_file(path, deep, dsize), 0);
    cli_expect_failure(path, "100000 nested types");
    free(deep);

    ck_assert_int_eq(tu_write_file(path, "hello world\n", 12), 0);
    cli_expect_failure(path, "a text file");
    cli_expect_failure(dir, "a folder");

    /* and a good one still works */
    ck_assert_int_eq(tu_write_file(path, bytes, size), 0);
    char *args = tu_printf("inspect '%s'", path);
    char *err = NULL;
    int rc = tu_run_cli(args, NULL, &err);
    ck_assert_msg(rc != 0 || err, "no stderr captured");
    ck_assert_msg(rc < 128, "onnx2plan died of signal %d on a valid model", rc - 128);
    free(args);
    free(err);
    tu_rmtree(dir);
    free(path);
    free(bytes);
    free(dir);
}
END_TEST

int main(void)
{
    tu_quiet_log();
    Suite *s = suite_create("malformed");
    TCase *tc = tcase_create("truncation");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_rich_model_is_valid);
    tcase_add_test(tc, test_truncated_at_every_length);
    tcase_add_test(tc, test_truncated_files);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_random_bytes);
    tcase_add_test(tc, test_random_bytes_after_valid_header);
    tcase_add_test(tc, test_bit_flips);
    tcase_add_test(tc, test_structured_random_models);
    suite_add_tcase(s, tc);

    tc = tcase_create("encodings");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_broken_encodings);
    tcase_add_test(tc, test_not_onnx_at_all);
    tcase_add_test(tc, test_deep_graph_nesting);
    tcase_add_test(tc, test_deep_type_nesting);
    tcase_add_test(tc, test_deep_unknown_fields);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_special_files);
    tcase_add_test(tc, test_fifo_does_not_block);
    tcase_add_test(tc, test_cli_refuses_broken_models);
    suite_add_tcase(s, tc);

    return tu_run_suite(s);
}
