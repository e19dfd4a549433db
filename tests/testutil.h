/* testutil.h: helpers shared by the unit tests: temporary folders, files, running the CLI,
 * and building ONNX models in C through the generated protobuf-c code. */
#ifndef O2P_TESTUTIL_H
#define O2P_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "o2p/o2p.h"
#include "onnx.pb-c.h"

/* A fresh folder under $TMPDIR or /tmp (malloc'ed path); removed with tu_rmtree. */
char *tu_tempdir(void);
void tu_rmtree(const char *path);
int tu_write_file(const char *path, const void *data, size_t size);
/* Reads a whole file (malloc'ed, NUL-terminated; *size without the NUL); NULL on failure. */
char *tu_read_file(const char *path, size_t *size);
/* Runs the onnx2plan CLI with the given arguments (a shell command-line fragment); captures
 * stdout and stderr (malloc'ed, may be NULL if not wanted). Returns the exit code, or 128 +
 * signal number if it died of a signal. */
int tu_run_cli(const char *args, char **out, char **err);
/* Runs fn(arg) in a child process. Returns fn's result as the child's exit status (0..255),
 * 128 + signal number if the child died of a signal, or -1 if it did not finish within
 * `seconds` (it is then killed): for calls that might hang. */
int tu_run_with_timeout(int (*fn)(void *), void *arg, double seconds);
/* Asserts a tensor's shape as o2p_tensor_format_shape writes it ("Nx3x?"), or "rank?" for
 * an unknown rank. */
void tu_assert_shape(const o2p_tensor *t, const char *want);
/* Runs every test of the suite (forked, as Check does by default), frees it, and returns the
 * exit code for main: 0 when all passed. */
int tu_run_suite(Suite *suite);
/* The kernel cache the tests that build cuda plans share (every build folder of one checkout
 * and every test: each kernel family compiles once per architecture per checkout; the cache
 * itself is tested on its own folders in test_codegen). */
const char *tu_kernel_cache(void);
/* Whether the ONNX test data is installed (O2P_TESTDATA_DIR). */
int tu_have_testdata(void);

/* ---------------------------------------------------------------- strings */

/* malloc'ed printf; never NULL (aborts the test on allocation failure). */
char *tu_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether s contains needle (case-sensitive / case-insensitive); NULL s never does. */
int tu_contains(const char *s, const char *needle);
int tu_icontains(const char *s, const char *needle);
/* Whether s contains the decimal number n as a whole number (not part of a longer one). */
int tu_contains_number(const char *s, long long n);
/* Whether text is one well-formed JSON value (RFC 8259), surrounded by optional space. */
int tu_json_valid(const char *text);

/* ---------------------------------------------------------------- parsing */

/* Asserts that expr returns status want; on failure shows both names and the last error. */
#define TU_ASSERT_STATUS(expr, want)                                                        \
    do {                                                                                    \
        o2p_status tu_s_ = (expr);                                                          \
        o2p_status tu_w_ = (want);                                                          \
        ck_assert_msg(tu_s_ == tu_w_, "%s returned %s, expected %s; last error: %s", #expr, \
                      o2p_status_name(tu_s_), o2p_status_name(tu_w_), o2p_last_error());    \
    } while (0)
/* Asserts a failure (any status but OK) that left a message in o2p_last_error(). */
#define TU_ASSERT_FAILS(expr)                                                                      \
    do {                                                                                           \
        o2p_status tu_s_ = (expr);                                                                 \
        ck_assert_msg(tu_s_ != O2P_OK, "%s succeeded; expected a failure", #expr);                 \
        ck_assert_msg(o2p_last_error()[0] != '\0', "%s failed with %s but left no message", #expr, \
                      o2p_status_name(tu_s_));                                                     \
    } while (0)
/* Asserts that the last error contains needle. */
#define TU_ASSERT_ERROR_HAS(needle)                        \
    ck_assert_msg(tu_contains(o2p_last_error(), (needle)), \
                  "the error message does not mention '%s': %s", (needle), o2p_last_error())

/* Parses bytes (base_dir and name as o2p_parser_parse_bytes) into a fresh network. On
 * success *net (and *parser when parser is not NULL) are set; on failure they are NULL and
 * everything is freed. The status is returned either way. */
o2p_status tu_parse_bytes(const void *bytes, size_t size, const char *base_dir, const char *name,
                          o2p_network **net, o2p_parser **parser);
o2p_status tu_parse_file(const char *path, o2p_network **net, o2p_parser **parser);
/* Frees what tu_parse_* returned (either may be NULL). */
void tu_parsed_free(o2p_network *net, o2p_parser *parser);
/* Installs a logger that drops every message (for tests that parse thousands of odd models
 * and would otherwise flood stderr with warnings). Errors stay readable in o2p_last_error. */
void tu_quiet_log(void);

/* ---------------------------------------------------------------- model building
 *
 * A tu_model owns every protobuf-c struct hung under it (one arena, freed by
 * tu_model_free), so tests can build models field by field and never free them one by one.
 * Element types are ONNX TensorProto.DataType values (== o2p_dtype). */
typedef struct tu_model tu_model;

/* ir_version 8, one default-domain opset import (none if opset <= 0), producer
 * "o2p-tests" 1.0, a main graph named "main". */
tu_model *tu_model_new(int64_t opset);
void tu_model_free(tu_model *m);
Onnx__ModelProto *tu_model_proto(tu_model *m);
Onnx__GraphProto *tu_main_graph(tu_model *m);
/* Zeroed memory / a copy of s owned by the model. */
void *tu_alloc(tu_model *m, size_t size);
char *tu_strdup(tu_model *m, const char *s);
void tu_add_opset(tu_model *m, const char *domain, int64_t version);
void tu_add_metadata(tu_model *m, const char *key, const char *value);

/* A new graph for a subgraph attribute. */
Onnx__GraphProto *tu_graph_new(tu_model *m, const char *name);
/* A tensor type; rank < 0: no shape. dims[i] >= 0 is a dim_value; dims[i] < 0 is a
 * dim_param params[i] when params and params[i] are not NULL, otherwise a dimension with
 * neither (unknown). */
Onnx__TypeProto *tu_tensor_type(tu_model *m, int elem_type, int rank, const int64_t *dims,
                                const char *const *params);
Onnx__ValueInfoProto *tu_value_info(tu_model *m, const char *name, int elem_type, int rank,
                                    const int64_t *dims, const char *const *params);
Onnx__ValueInfoProto *tu_add_input(tu_model *m, Onnx__GraphProto *g, const char *name,
                                   int elem_type, int rank, const int64_t *dims,
                                   const char *const *params);
Onnx__ValueInfoProto *tu_add_output(tu_model *m, Onnx__GraphProto *g, const char *name,
                                    int elem_type, int rank, const int64_t *dims,
                                    const char *const *params);
Onnx__ValueInfoProto *tu_add_value_info(tu_model *m, Onnx__GraphProto *g, const char *name,
                                        int elem_type, int rank, const int64_t *dims,
                                        const char *const *params);

/* A tensor with a data type and dims but no data yet (name may be NULL). */
Onnx__TensorProto *tu_tensor_new(tu_model *m, const char *name, int dtype, int rank,
                                 const int64_t *dims);
void tu_tensor_set_raw(tu_model *m, Onnx__TensorProto *t, const void *data, size_t size);
void tu_tensor_set_floats(tu_model *m, Onnx__TensorProto *t, const float *v, size_t n);
void tu_tensor_set_int32s(tu_model *m, Onnx__TensorProto *t, const int32_t *v, size_t n);
void tu_tensor_set_int64s(tu_model *m, Onnx__TensorProto *t, const int64_t *v, size_t n);
void tu_tensor_set_doubles(tu_model *m, Onnx__TensorProto *t, const double *v, size_t n);
void tu_tensor_set_uint64s(tu_model *m, Onnx__TensorProto *t, const uint64_t *v, size_t n);
void tu_tensor_set_strings(tu_model *m, Onnx__TensorProto *t, const char *const *v, size_t n);
/* Marks the tensor EXTERNAL with the given keys (NULL: key left out). */
void tu_tensor_set_external(tu_model *m, Onnx__TensorProto *t, const char *location,
                            const char *offset, const char *length);
void tu_tensor_add_external_entry(tu_model *m, Onnx__TensorProto *t, const char *key,
                                  const char *value);
void tu_add_initializer(tu_model *m, Onnx__GraphProto *g, Onnx__TensorProto *t);
Onnx__TensorProto *tu_add_initializer_raw(tu_model *m, Onnx__GraphProto *g, const char *name,
                                          int dtype, int rank, const int64_t *dims,
                                          const void *data, size_t size);

/* A node; inputs and outputs are comma-separated names ("" = none, "a,,b" has an omitted
 * middle input). name may be NULL (unnamed node); domain NULL leaves the field out. */
Onnx__NodeProto *tu_add_node(tu_model *m, Onnx__GraphProto *g, const char *op_type,
                             const char *name, const char *inputs, const char *outputs);
void tu_node_set_domain(tu_model *m, Onnx__NodeProto *n, const char *domain);
/* Attributes (the type field is set to match). */
Onnx__AttributeProto *tu_attr_new(tu_model *m, Onnx__NodeProto *n, const char *name, int type);
void tu_attr_int(tu_model *m, Onnx__NodeProto *n, const char *name, int64_t v);
void tu_attr_float(tu_model *m, Onnx__NodeProto *n, const char *name, float v);
void tu_attr_string(tu_model *m, Onnx__NodeProto *n, const char *name, const char *v);
void tu_attr_ints(tu_model *m, Onnx__NodeProto *n, const char *name, const int64_t *v,
                  size_t count);
void tu_attr_floats(tu_model *m, Onnx__NodeProto *n, const char *name, const float *v,
                    size_t count);
void tu_attr_strings(tu_model *m, Onnx__NodeProto *n, const char *name, const char *const *v,
                     size_t count);
void tu_attr_tensor(tu_model *m, Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t);
void tu_attr_tensors(tu_model *m, Onnx__NodeProto *n, const char *name, Onnx__TensorProto *const *t,
                     size_t count);
void tu_attr_graph(tu_model *m, Onnx__NodeProto *n, const char *name, Onnx__GraphProto *g);
void tu_attr_graphs(tu_model *m, Onnx__NodeProto *n, const char *name, Onnx__GraphProto *const *g,
                    size_t count);

/* Serializes the model (malloc'ed bytes). */
uint8_t *tu_model_pack(tu_model *m, size_t *size);
/* Serializes the model into path; 0 on success. */
int tu_model_write(tu_model *m, const char *path);
/* Packs and parses the model as bytes (base_dir NULL, name "test.onnx"). */
o2p_status tu_parse_model(tu_model *m, o2p_network **net, o2p_parser **parser);

/* ---------------------------------------------------------------- raw wire format
 *
 * A small protobuf encoder to write what protobuf-c would not (fields out of order, deep
 * nesting without recursion, invalid lengths). */
typedef struct tu_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} tu_buf;

enum { TU_WIRE_VARINT = 0, TU_WIRE_I64 = 1, TU_WIRE_LEN = 2, TU_WIRE_I32 = 5 };

void tu_buf_free(tu_buf *b);
void tu_buf_raw(tu_buf *b, const void *data, size_t size);
void tu_buf_varint(tu_buf *b, uint64_t v);
void tu_buf_tag(tu_buf *b, uint32_t field, int wire_type);
size_t tu_varint_size(uint64_t v);
/* field = varint v / length-delimited bytes / string / an embedded message. */
void tu_wire_uint(tu_buf *b, uint32_t field, uint64_t v);
void tu_wire_bytes(tu_buf *b, uint32_t field, const void *data, size_t size);
void tu_wire_string(tu_buf *b, uint32_t field, const char *s);
void tu_wire_message(tu_buf *b, uint32_t field, const tu_buf *sub);

/* One level of a nest: prefix bytes, then the next level as field child_field, then
 * suffix bytes. tu_wire_nest writes layers[0] holding layers[1] ... holding inner, without
 * recursion (lengths are computed from the inside out, bytes written outside in). */
typedef struct tu_wire_layer {
    const uint8_t *prefix;
    size_t prefix_len;
    uint32_t child_field;
    const uint8_t *suffix;
    size_t suffix_len;
} tu_wire_layer;
uint8_t *tu_wire_nest(const tu_wire_layer *layers, size_t count, const uint8_t *inner,
                      size_t inner_len, size_t *out_len);

/* Moves every top-level occurrence of a field to the end of a serialized message (in place;
 * protobuf readers accept fields in any order). 0 on success, -1 if bytes are malformed. */
int tu_wire_move_field_last(uint8_t *bytes, size_t size, uint32_t field);

/* A model whose main graph holds an If whose then_branch holds an If ... `depth` bodies
 * deep (depth 0: just an Identity). Inputs cond (bool scalar) and x (float [2]), output y0
 * (float [2]); every else_branch is a one-Identity graph. Valid ONNX at every depth. */
uint8_t *tu_nested_if_model(int depth, size_t *size);
/* A bare model nesting `depth` graphs through If.then_branch with nothing else in them
 * (a tiny file per level: for stack-exhaustion tests). */
uint8_t *tu_deep_graph_model(size_t depth, size_t *size);
/* A model whose one graph input has a TypeProto nested `depth` sequence_types deep. */
uint8_t *tu_deep_type_model(size_t depth, size_t *size);

/* ---------------------------------------------------------------- random */

/* xorshift64*: deterministic across platforms. */
uint64_t tu_rand(uint64_t *state);

#endif
