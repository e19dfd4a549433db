/* test_parser.c: the ONNX parser on models written in C: model information, inputs and
 * outputs, initializers in every storage form, Constant nodes, attributes, subgraphs, error
 * messages, loader limits and external data. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../testutil.h"
#include "ir/ir.h"

#define DT(x) ONNX__TENSOR_PROTO__DATA_TYPE__##x

/* Sanitizer builds reserve terabytes of address space; an address-space limit is only
 * usable without them. */
#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN 1
#endif
#endif
#ifndef TU_ASAN
#define TU_ASAN 0
#endif

/* Caps the address space of this (forked) test process so that a parser that allocates
 * what a tensor claims, before checking it, fails instead of quietly reserving terabytes.
 * Under ASan, the allocator itself aborts on such requests. */
static void limit_address_space(struct rlimit *saved)
{
    getrlimit(RLIMIT_AS, saved);
    if (TU_ASAN)
        return;
    struct rlimit r = *saved;
    rlim_t cap = (rlim_t)3 << 30;
    if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur > cap)
        r.rlim_cur = cap;
    setrlimit(RLIMIT_AS, &r);
}

static void restore_address_space(const struct rlimit *saved)
{
    setrlimit(RLIMIT_AS, saved);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_layers(const o2p_graph *g, const char *op)
{
    int n = 0;
    for (int i = 0; i < o2p_graph_num_layers(g); i++)
        n += strcmp(o2p_layer_get_op_type(o2p_graph_get_layer(g, i)), op) == 0;
    return n;
}

static o2p_layer *find_layer(const o2p_graph *g, const char *name)
{
    for (int i = 0; i < o2p_graph_num_layers(g); i++) {
        o2p_layer *l = o2p_graph_get_layer(g, i);
        const char *n = o2p_layer_get_name(l);
        if (n && strcmp(n, name) == 0)
            return l;
    }
    return NULL;
}

static o2p_tensor *find_input(const o2p_graph *g, const char *name)
{
    for (int i = 0; i < o2p_graph_num_inputs(g); i++)
        if (strcmp(o2p_tensor_get_name(o2p_graph_get_input(g, i)), name) == 0)
            return o2p_graph_get_input(g, i);
    return NULL;
}

static void assert_data(const o2p_tensor *t, const void *want, size_t want_size)
{
    ck_assert_ptr_nonnull(t);
    ck_assert_msg(o2p_tensor_is_constant(t), "tensor '%s' is not constant", o2p_tensor_get_name(t));
    size_t n = 12345;
    const void *data = o2p_tensor_get_data(t, &n);
    ck_assert_msg(n == want_size, "tensor '%s' holds %zu bytes, expected %zu",
                  o2p_tensor_get_name(t), n, want_size);
    if (want_size) {
        ck_assert_ptr_nonnull(data);
        ck_assert_msg(memcmp(data, want, want_size) == 0, "tensor '%s': wrong data bytes",
                      o2p_tensor_get_name(t));
    }
}

/* A small valid model: x float [1,3,N,?] -> Relu -> y. */
static tu_model *relu_model(void)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t dims[4] = {1, 3, -1, -1};
    const char *params[4] = {NULL, NULL, "N", NULL};
    tu_add_input(m, g, "x", DT(FLOAT), 4, dims, params);
    tu_add_node(m, g, "Relu", "relu0", "x", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 4, dims, params);
    return m;
}

/* ================================================================ model information */

START_TEST(test_model_info)
{
    tu_model *m = relu_model();
    Onnx__ModelProto *mp = tu_model_proto(m);
    mp->ir_version = 7;
    mp->producer_name = tu_strdup(m, "pytorch");
    mp->producer_version = tu_strdup(m, "2.1.0");
    mp->domain = tu_strdup(m, "org.example");
    mp->doc_string = tu_strdup(m, "a model for tests");
    mp->has_model_version = 1;
    mp->model_version = 42;
    tu_main_graph(m)->name = tu_strdup(m, "torch_jit");
    tu_add_opset(m, "com.microsoft", 1);
    tu_add_opset(m, "ai.onnx.ml", 3);
    tu_add_metadata(m, "author", "someone");
    tu_add_metadata(m, "license", "MIT");

    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    ck_assert_int_eq(o2p_network_ir_version(net), 7);
    ck_assert_int_eq(o2p_network_model_version(net), 42);
    ck_assert_str_eq(o2p_network_get_info(net, O2P_INFO_PRODUCER_NAME), "pytorch");
    ck_assert_str_eq(o2p_network_get_info(net, O2P_INFO_PRODUCER_VERSION), "2.1.0");
    ck_assert_str_eq(o2p_network_get_info(net, O2P_INFO_DOMAIN), "org.example");
    ck_assert_str_eq(o2p_network_get_info(net, O2P_INFO_DOC_STRING), "a model for tests");
    ck_assert_str_eq(o2p_network_get_info(net, O2P_INFO_GRAPH_NAME), "torch_jit");
    ck_assert_str_eq(o2p_graph_get_name(o2p_network_get_graph(net)), "torch_jit");

    ck_assert_int_eq(o2p_network_num_metadata(net), 2);
    ck_assert_str_eq(o2p_network_metadata_key(net, 0), "author");
    ck_assert_str_eq(o2p_network_metadata_value(net, 0), "someone");
    ck_assert_str_eq(o2p_network_metadata_key(net, 1), "license");
    ck_assert_str_eq(o2p_network_metadata_value(net, 1), "MIT");

    ck_assert_int_eq(o2p_network_num_opsets(net), 3);
    ck_assert_int_eq(o2p_network_get_opset(net, ""), 13);
    ck_assert_int_eq(o2p_network_get_opset(net, "ai.onnx"), 13);
    ck_assert_int_eq(o2p_network_get_opset(net, "com.microsoft"), 1);
    ck_assert_int_eq(o2p_network_get_opset(net, "ai.onnx.ml"), 3);
    int seen = 0;
    for (int i = 0; i < o2p_network_num_opsets(net); i++) {
        const char *d = o2p_network_opset_domain(net, i);
        ck_assert_ptr_nonnull(d);
        if (strcmp(d, "com.microsoft") == 0) {
            ck_assert_int_eq(o2p_network_opset_version(net, i), 1);
            seen++;
        }
    }
    ck_assert_int_eq(seen, 1);
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

START_TEST(test_model_ai_onnx_domain_spelling)
{
    /* "ai.onnx" is the default domain spelled out. */
    tu_model *m = tu_model_new(0);
    tu_add_opset(m, "ai.onnx", 11);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[1] = {4};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d, NULL);
    tu_add_node(m, g, "Relu", "r", "x", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d, NULL);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    ck_assert_int_eq(o2p_network_get_opset(net, ""), 11);
    ck_assert_int_eq(o2p_network_get_opset(net, "ai.onnx"), 11);
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

START_TEST(test_model_without_opset_import)
{
    /* IR version >= 3 requires opset_import. */
    tu_model *m = tu_model_new(0);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[1] = {4};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d, NULL);
    tu_add_node(m, g, "Relu", "r", "x", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d, NULL);
    o2p_network *net;
    TU_ASSERT_FAILS(tu_parse_model(m, &net, NULL));
    ck_assert_ptr_null(net);
    TU_ASSERT_ERROR_HAS("test.onnx");
    tu_model_free(m);
}
END_TEST

START_TEST(test_model_without_graph)
{
    tu_model *m = tu_model_new(13);
    tu_model_proto(m)->graph = NULL;
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("test.onnx");
    tu_model_free(m);
}
END_TEST

START_TEST(test_inputs_and_outputs)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d4[4] = {1, 3, -1, -1};
    const char *p4[4] = {NULL, NULL, "batch", NULL};
    const int64_t d2[2] = {0, 7};
    tu_add_input(m, g, "image", DT(FLOAT), 4, d4, p4);
    tu_add_input(m, g, "ids", DT(INT64), 2, d2, NULL);
    tu_add_input(m, g, "scalar", DT(INT32), 0, NULL, NULL);
    tu_add_input(m, g, "noshape", DT(FLOAT16), -1, NULL, NULL);
    tu_add_input(m, g, "mask", DT(BOOL), 2, d2, NULL);
    tu_add_input(m, g, "bf", DT(BFLOAT16), 2, d2, NULL);
    tu_add_input(m, g, "u8", DT(UINT8), 2, d2, NULL);
    tu_add_input(m, g, "dbl", DT(DOUBLE), 2, d2, NULL);
    Onnx__NodeProto *n =
        tu_add_node(m, g, "Sink", "sink", "image,ids,scalar,noshape,mask,bf,u8,dbl", "out0,out1");
    tu_node_set_domain(m, n, "test.domain");
    tu_add_opset(m, "test.domain", 1);
    const int64_t od[3] = {-1, 5, -1};
    const char *op[3] = {"batch", NULL, "seq"};
    tu_add_output(m, g, "out0", DT(FLOAT), 3, od, op);
    tu_add_output(m, g, "out1", DT(INT8), -1, NULL, NULL);

    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    o2p_graph *mg = o2p_network_get_graph(net);
    ck_assert_int_eq(o2p_graph_num_inputs(mg), 8);
    ck_assert_int_eq(o2p_graph_num_outputs(mg), 2);

    o2p_tensor *t = o2p_graph_get_input(mg, 0);
    ck_assert_str_eq(o2p_tensor_get_name(t), "image");
    ck_assert_int_eq(o2p_tensor_get_dtype(t), O2P_DTYPE_FLOAT);
    ck_assert_int_eq(o2p_tensor_get_rank(t), 4);
    ck_assert_int_eq(o2p_tensor_get_dim(t, 0), 1);
    ck_assert_int_eq(o2p_tensor_get_dim(t, 1), 3);
    ck_assert_int_eq(o2p_tensor_get_dim(t, 2), O2P_DIM_UNKNOWN);
    ck_assert_str_eq(o2p_tensor_get_dim_name(t, 2), "batch");
    ck_assert_int_eq(o2p_tensor_get_dim(t, 3), O2P_DIM_UNKNOWN);
    ck_assert_ptr_null(o2p_tensor_get_dim_name(t, 3));
    ck_assert_ptr_null(o2p_tensor_get_dim_name(t, 0));
    ck_assert(!o2p_tensor_is_constant(t));
    char buf[64];
    o2p_tensor_format_shape(t, buf, sizeof buf);
    ck_assert_str_eq(buf, "1x3xbatchx?");

    t = o2p_graph_get_input(mg, 1);
    ck_assert_str_eq(o2p_tensor_get_name(t), "ids");
    ck_assert_int_eq(o2p_tensor_get_dtype(t), O2P_DTYPE_INT64);
    ck_assert_int_eq(o2p_tensor_get_rank(t), 2);
    ck_assert_int_eq(o2p_tensor_get_dim(t, 0), 0); /* a zero dim is a known dim */
    ck_assert_int_eq(o2p_tensor_get_dim(t, 1), 7);

    t = o2p_graph_get_input(mg, 2);
    ck_assert_int_eq(o2p_tensor_get_dtype(t), O2P_DTYPE_INT32);
    ck_assert_int_eq(o2p_tensor_get_rank(t), 0);

    t = o2p_graph_get_input(mg, 3);
    ck_assert_int_eq(o2p_tensor_get_dtype(t), O2P_DTYPE_FLOAT16);
    ck_assert_int_eq(o2p_tensor_get_rank(t), O2P_RANK_UNKNOWN);

    ck_assert_int_eq(o2p_tensor_get_dtype(o2p_graph_get_input(mg, 4)), O2P_DTYPE_BOOL);
    ck_assert_int_eq(o2p_tensor_get_dtype(o2p_graph_get_input(mg, 5)), O2P_DTYPE_BFLOAT16);
    ck_assert_int_eq(o2p_tensor_get_dtype(o2p_graph_get_input(mg, 6)), O2P_DTYPE_UINT8);
    ck_assert_int_eq(o2p_tensor_get_dtype(o2p_graph_get_input(mg, 7)), O2P_DTYPE_DOUBLE);

    /* graph outputs are the tensors the node produces */
    o2p_layer *l = find_layer(mg, "sink");
    ck_assert_ptr_nonnull(l);
    ck_assert_ptr_eq(o2p_graph_get_output(mg, 0), o2p_layer_get_output(l, 0));
    ck_assert_ptr_eq(o2p_graph_get_output(mg, 1), o2p_layer_get_output(l, 1));
    ck_assert_str_eq(o2p_tensor_get_name(o2p_graph_get_output(mg, 0)), "out0");
    for (int i = 0; i < 8; i++)
        ck_assert_ptr_eq(o2p_layer_get_input(l, i), o2p_graph_get_input(mg, i));
    ck_assert_ptr_eq(o2p_graph_find_tensor(mg, "ids"), o2p_graph_get_input(mg, 1));
    ck_assert_ptr_null(o2p_graph_find_tensor(mg, "no_such_tensor"));
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

START_TEST(test_parse_file)
{
    char *dir = tu_tempdir();
    char *path = tu_printf("%s/relu.onnx", dir);
    tu_model *m = relu_model();
    ck_assert_int_eq(tu_model_write(m, path), 0);
    o2p_network *net;
    o2p_parser *parser;
    TU_ASSERT_STATUS(tu_parse_file(path, &net, &parser), O2P_OK);
    o2p_graph *g = o2p_network_get_graph(net);
    ck_assert_int_eq(o2p_graph_num_layers(g), 1);
    o2p_layer *l = o2p_graph_get_layer(g, 0);
    ck_assert_str_eq(o2p_layer_get_op_type(l), "Relu");
    ck_assert_str_eq(o2p_layer_get_name(l), "relu0");
    ck_assert_str_eq(o2p_layer_get_domain(l), "");
    ck_assert_int_eq(o2p_layer_num_inputs(l), 1);
    ck_assert_int_eq(o2p_layer_num_outputs(l), 1);
    ck_assert_ptr_eq(o2p_layer_get_input(l, 0), o2p_graph_get_input(g, 0));
    ck_assert_int_eq(o2p_parser_num_unsupported(parser), 0);
    tu_parsed_free(net, parser);
    tu_model_free(m);
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* ================================================================ initializers */

typedef struct dtype_case {
    int dtype;
    size_t size;
} dtype_case;

static const dtype_case every_dtype[] = {
    {DT(FLOAT), 4},  {DT(UINT8), 1},  {DT(INT8), 1},      {DT(UINT16), 2},      {DT(INT16), 2},
    {DT(INT32), 4},  {DT(INT64), 8},  {DT(BOOL), 1},      {DT(FLOAT16), 2},     {DT(DOUBLE), 8},
    {DT(UINT32), 4}, {DT(UINT64), 8}, {DT(COMPLEX64), 8}, {DT(COMPLEX128), 16}, {DT(BFLOAT16), 2},
};
#define N_DTYPES (sizeof every_dtype / sizeof every_dtype[0])

START_TEST(test_initializers_raw_every_dtype)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t dims[2] = {2, 3};
    uint8_t data[N_DTYPES][6 * 16];
    for (size_t k = 0; k < N_DTYPES; k++) {
        size_t n = 6 * every_dtype[k].size;
        for (size_t i = 0; i < n; i++)
            data[k][i] = (uint8_t)(i * 7 + k);
        if (every_dtype[k].dtype == DT(BOOL))
            for (size_t i = 0; i < n; i++)
                data[k][i] = (uint8_t)(i & 1);
        char name[32];
        snprintf(name, sizeof name, "w_%d", every_dtype[k].dtype);
        tu_add_initializer_raw(m, g, name, every_dtype[k].dtype, 2, dims, data[k], n);
    }
    const int64_t d1[1] = {1};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d1, NULL);
    tu_add_node(m, g, "Relu", "r", "x", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d1, NULL);

    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    o2p_graph *mg = o2p_network_get_graph(net);
    ck_assert_int_eq(o2p_graph_num_constants(mg), (int)N_DTYPES);
    ck_assert_int_eq(o2p_graph_num_inputs(mg), 1); /* initializers are not inputs */
    for (size_t k = 0; k < N_DTYPES; k++) {
        char name[32];
        snprintf(name, sizeof name, "w_%d", every_dtype[k].dtype);
        o2p_tensor *t = o2p_graph_find_tensor(mg, name);
        ck_assert_msg(t != NULL, "initializer %s not found", name);
        ck_assert_int_eq(o2p_tensor_get_dtype(t), every_dtype[k].dtype);
        ck_assert_int_eq(o2p_tensor_get_rank(t), 2);
        ck_assert_int_eq(o2p_tensor_get_dim(t, 0), 2);
        ck_assert_int_eq(o2p_tensor_get_dim(t, 1), 3);
        ck_assert_uint_eq(o2p_dtype_size(o2p_tensor_get_dtype(t)), every_dtype[k].size);
        assert_data(t, data[k], 6 * every_dtype[k].size);
    }
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

START_TEST(test_initializers_typed_fields)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2}, d3[1] = {3}, d1[1] = {1};
    Onnx__TensorProto *t;

    const float f[2] = {1.5f, -2.0f};
    t = tu_tensor_new(m, "f32", DT(FLOAT), 1, d2);
    tu_tensor_set_floats(m, t, f, 2);
    tu_add_initializer(m, g, t);

    const float c64[4] = {1, 2, 3, 4}; /* two complex numbers: real, imaginary */
    t = tu_tensor_new(m, "c64", DT(COMPLEX64), 1, d2);
    tu_tensor_set_floats(m, t, c64, 4);
    tu_add_initializer(m, g, t);

    const double dbl[2] = {0.25, -8.0};
    t = tu_tensor_new(m, "f64", DT(DOUBLE), 1, d2);
    tu_tensor_set_doubles(m, t, dbl, 2);
    tu_add_initializer(m, g, t);

    const double c128[2] = {1.0, 2.0};
    t = tu_tensor_new(m, "c128", DT(COMPLEX128), 1, d1);
    tu_tensor_set_doubles(m, t, c128, 2);
    tu_add_initializer(m, g, t);

    const int64_t i64[2] = {-1, (int64_t)1 << 40};
    t = tu_tensor_new(m, "i64", DT(INT64), 1, d2);
    tu_tensor_set_int64s(m, t, i64, 2);
    tu_add_initializer(m, g, t);

    const uint64_t u64[2] = {UINT64_MAX, 7};
    t = tu_tensor_new(m, "u64", DT(UINT64), 1, d2);
    tu_tensor_set_uint64s(m, t, u64, 2);
    tu_add_initializer(m, g, t);

    const uint64_t u32in[2] = {4000000000u, 1};
    t = tu_tensor_new(m, "u32", DT(UINT32), 1, d2);
    tu_tensor_set_uint64s(m, t, u32in, 2);
    tu_add_initializer(m, g, t);

    const int32_t i32[2] = {-5, 1 << 30};
    t = tu_tensor_new(m, "i32", DT(INT32), 1, d2);
    tu_tensor_set_int32s(m, t, i32, 2);
    tu_add_initializer(m, g, t);

    const int32_t i16in[2] = {-2, 300};
    t = tu_tensor_new(m, "i16", DT(INT16), 1, d2);
    tu_tensor_set_int32s(m, t, i16in, 2);
    tu_add_initializer(m, g, t);

    const int32_t u16in[2] = {65535, 1};
    t = tu_tensor_new(m, "u16", DT(UINT16), 1, d2);
    tu_tensor_set_int32s(m, t, u16in, 2);
    tu_add_initializer(m, g, t);

    const int32_t i8in[3] = {-1, 127, -128};
    t = tu_tensor_new(m, "i8", DT(INT8), 1, d3);
    tu_tensor_set_int32s(m, t, i8in, 3);
    tu_add_initializer(m, g, t);

    const int32_t u8in[3] = {255, 0, 7};
    t = tu_tensor_new(m, "u8", DT(UINT8), 1, d3);
    tu_tensor_set_int32s(m, t, u8in, 3);
    tu_add_initializer(m, g, t);

    const int32_t bin[3] = {1, 0, 1};
    t = tu_tensor_new(m, "b", DT(BOOL), 1, d3);
    tu_tensor_set_int32s(m, t, bin, 3);
    tu_add_initializer(m, g, t);

    const int32_t h[2] = {0x3C00, 0xC000}; /* 1.0, -2.0 as float16 bit patterns */
    t = tu_tensor_new(m, "f16", DT(FLOAT16), 1, d2);
    tu_tensor_set_int32s(m, t, h, 2);
    tu_add_initializer(m, g, t);

    const int32_t bf[2] = {0x3F80, 0x4049}; /* 1.0, 3.140625 as bfloat16 bit patterns */
    t = tu_tensor_new(m, "bf16", DT(BFLOAT16), 1, d2);
    tu_tensor_set_int32s(m, t, bf, 2);
    tu_add_initializer(m, g, t);

    tu_add_input(m, g, "x", DT(FLOAT), 1, d1, NULL);
    tu_add_node(m, g, "Relu", "r", "x", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d1, NULL);

    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    o2p_graph *mg = o2p_network_get_graph(net);
    assert_data(o2p_graph_find_tensor(mg, "f32"), f, sizeof f);
    assert_data(o2p_graph_find_tensor(mg, "c64"), c64, sizeof c64);
    ck_assert_int_eq(o2p_tensor_get_dim(o2p_graph_find_tensor(mg, "c64"), 0), 2);
    assert_data(o2p_graph_find_tensor(mg, "f64"), dbl, sizeof dbl);
    assert_data(o2p_graph_find_tensor(mg, "c128"), c128, sizeof c128);
    assert_data(o2p_graph_find_tensor(mg, "i64"), i64, sizeof i64);
    assert_data(o2p_graph_find_tensor(mg, "u64"), u64, sizeof u64);
    const uint32_t u32[2] = {4000000000u, 1};
    assert_data(o2p_graph_find_tensor(mg, "u32"), u32, sizeof u32);
    assert_data(o2p_graph_find_tensor(mg, "i32"), i32, sizeof i32);
    const int16_t i16[2] = {-2, 300};
    assert_data(o2p_graph_find_tensor(mg, "i16"), i16, sizeof i16);
    const uint16_t u16[2] = {65535, 1};
    assert_data(o2p_graph_find_tensor(mg, "u16"), u16, sizeof u16);
    const int8_t i8[3] = {-1, 127, -128};
    assert_data(o2p_graph_find_tensor(mg, "i8"), i8, sizeof i8);
    const uint8_t u8[3] = {255, 0, 7};
    assert_data(o2p_graph_find_tensor(mg, "u8"), u8, sizeof u8);
    const uint8_t b[3] = {1, 0, 1};
    assert_data(o2p_graph_find_tensor(mg, "b"), b, sizeof b);
    const uint16_t h16[2] = {0x3C00, 0xC000};
    assert_data(o2p_graph_find_tensor(mg, "f16"), h16, sizeof h16);
    const uint16_t bf16[2] = {0x3F80, 0x4049};
    assert_data(o2p_graph_find_tensor(mg, "bf16"), bf16, sizeof bf16);
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

START_TEST(test_initializer_scalar_and_empty)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const float one = 1.0f;
    tu_add_initializer_raw(m, g, "scalar", DT(FLOAT), 0, NULL, &one, 4);
    const int64_t d0[1] = {0}, d203[3] = {2, 0, 3};
    tu_add_initializer_raw(m, g, "empty_raw", DT(FLOAT), 1, d0, NULL, 0);
    tu_add_initializer(m, g, tu_tensor_new(m, "empty_nodata", DT(INT64), 3, d203));
    const int64_t d1[1] = {1};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d1, NULL);
    tu_add_node(m, g, "Relu", "r", "x", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d1, NULL);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    o2p_graph *mg = o2p_network_get_graph(net);
    o2p_tensor *t = o2p_graph_find_tensor(mg, "scalar");
    ck_assert_int_eq(o2p_tensor_get_rank(t), 0);
    assert_data(t, &one, 4);
    t = o2p_graph_find_tensor(mg, "empty_raw");
    ck_assert_int_eq(o2p_tensor_get_rank(t), 1);
    ck_assert_int_eq(o2p_tensor_get_dim(t, 0), 0);
    assert_data(t, NULL, 0);
    t = o2p_graph_find_tensor(mg, "empty_nodata");
    ck_assert_int_eq(o2p_tensor_get_rank(t), 3);
    ck_assert_int_eq(o2p_tensor_get_dim(t, 1), 0);
    assert_data(t, NULL, 0);
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

/* A model whose only initializer is t (plus a trivial Relu), parsed; returns the status. */
static o2p_status parse_with_initializer(tu_model *m, Onnx__TensorProto *t)
{
    Onnx__GraphProto *g = tu_main_graph(m);
    tu_add_initializer(m, g, t);
    const int64_t d1[1] = {1};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d1, NULL);
    tu_add_node(m, g, "Relu", "r", "x", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d1, NULL);
    o2p_network *net;
    o2p_status s = tu_parse_model(m, &net, NULL);
    tu_parsed_free(net, NULL);
    return s;
}

START_TEST(test_initializer_string_refused)
{
    tu_model *m = tu_model_new(13);
    const int64_t d2[1] = {2};
    Onnx__TensorProto *t = tu_tensor_new(m, "vocab_strings", DT(STRING), 1, d2);
    const char *v[2] = {"hello", "world"};
    tu_tensor_set_strings(m, t, v, 2);
    TU_ASSERT_FAILS(parse_with_initializer(m, t));
    TU_ASSERT_ERROR_HAS("vocab_strings");
    ck_assert_msg(tu_icontains(o2p_last_error(), "string"), "message does not say 'string': %s",
                  o2p_last_error());
    tu_model_free(m);
}
END_TEST

START_TEST(test_initializer_raw_size_mismatch)
{
    const size_t sizes[] = {0, 4, 15, 17, 32};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        tu_model *m = tu_model_new(13);
        const int64_t d4[1] = {4}; /* 16 bytes of float */
        uint8_t bytes[32] = {0};
        Onnx__TensorProto *t = tu_tensor_new(m, "bad_raw", DT(FLOAT), 1, d4);
        tu_tensor_set_raw(m, t, bytes, sizes[k]);
        TU_ASSERT_STATUS(parse_with_initializer(m, t), O2P_ERR_PARSE);
        TU_ASSERT_ERROR_HAS("bad_raw");
        TU_ASSERT_ERROR_HAS("test.onnx");
        tu_model_free(m);
    }
    /* raw bytes for an empty tensor */
    tu_model *m = tu_model_new(13);
    const int64_t d0[1] = {0};
    uint8_t bytes[4] = {0};
    Onnx__TensorProto *t = tu_tensor_new(m, "bad_empty", DT(FLOAT), 1, d0);
    tu_tensor_set_raw(m, t, bytes, 4);
    TU_ASSERT_STATUS(parse_with_initializer(m, t), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("bad_empty");
    tu_model_free(m);
}
END_TEST

START_TEST(test_initializer_typed_count_mismatch)
{
    const int64_t d4[1] = {4};
    const float f[5] = {1, 2, 3, 4, 5};
    const int32_t i[5] = {1, 2, 3, 4, 5};
    const int64_t l[5] = {1, 2, 3, 4, 5};
    for (int k = 0; k < 6; k++) {
        tu_model *m = tu_model_new(13);
        Onnx__TensorProto *t;
        switch (k) {
        case 0:
            t = tu_tensor_new(m, "bad_typed", DT(FLOAT), 1, d4);
            tu_tensor_set_floats(m, t, f, 3);
            break;
        case 1:
            t = tu_tensor_new(m, "bad_typed", DT(FLOAT), 1, d4);
            tu_tensor_set_floats(m, t, f, 5);
            break;
        case 2:
            t = tu_tensor_new(m, "bad_typed", DT(INT8), 1, d4);
            tu_tensor_set_int32s(m, t, i, 2);
            break;
        case 3:
            t = tu_tensor_new(m, "bad_typed", DT(INT64), 1, d4);
            tu_tensor_set_int64s(m, t, l, 5);
            break;
        case 4:
            t = tu_tensor_new(m, "bad_typed", DT(COMPLEX64), 1, d4);
            tu_tensor_set_floats(m, t, f, 4);
            break;
        default: t = tu_tensor_new(m, "bad_typed", DT(FLOAT), 1, d4); break; /* no data at all */
        }
        TU_ASSERT_STATUS(parse_with_initializer(m, t), O2P_ERR_PARSE);
        TU_ASSERT_ERROR_HAS("bad_typed");
        tu_model_free(m);
    }
}
END_TEST

START_TEST(test_initializer_unknown_dtype)
{
    const int bad[] = {0, 17, 99, -1};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        tu_model *m = tu_model_new(13);
        const int64_t d1[1] = {1};
        uint8_t b[4] = {0};
        Onnx__TensorProto *t = tu_tensor_new(m, "odd_type", bad[k], 1, d1);
        tu_tensor_set_raw(m, t, b, 4);
        TU_ASSERT_FAILS(parse_with_initializer(m, t));
        TU_ASSERT_ERROR_HAS("odd_type");
        tu_model_free(m);
    }
}
END_TEST

START_TEST(test_constant_nodes)
{
    tu_model *m = tu_model_new(13);
    tu_add_opset(m, "test.domain", 1);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2}, d3[1] = {3};
    const float tv[2] = {0.5f, -1.5f};
    Onnx__NodeProto *n;

    n = tu_add_node(m, g, "Constant", "const_t", "", "c_t");
    Onnx__TensorProto *t = tu_tensor_new(m, NULL, DT(FLOAT), 1, d2);
    tu_tensor_set_raw(m, t, tv, sizeof tv);
    tu_attr_tensor(m, n, "value", t);

    n = tu_add_node(m, g, "Constant", "const_t64", "", "c_t64");
    const int64_t iv[3] = {7, -8, 9};
    t = tu_tensor_new(m, NULL, DT(INT64), 1, d3);
    tu_tensor_set_int64s(m, t, iv, 3);
    tu_attr_tensor(m, n, "value", t);

    n = tu_add_node(m, g, "Constant", "const_f", "", "c_f");
    tu_attr_float(m, n, "value_float", 2.5f);
    n = tu_add_node(m, g, "Constant", "const_fs", "", "c_fs");
    const float fs[3] = {1, 2, 3};
    tu_attr_floats(m, n, "value_floats", fs, 3);
    n = tu_add_node(m, g, "Constant", "const_i", "", "c_i");
    tu_attr_int(m, n, "value_int", -7);
    n = tu_add_node(m, g, "Constant", "const_is", "", "c_is");
    const int64_t is[2] = {4, 5};
    tu_attr_ints(m, n, "value_ints", is, 2);

    const int64_t d1[1] = {1};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d1, NULL);
    n = tu_add_node(m, g, "Sink", "sink", "x,c_t,c_t64,c_f,c_fs,c_i,c_is", "y");
    tu_node_set_domain(m, n, "test.domain");
    tu_add_output(m, g, "y", DT(FLOAT), -1, NULL, NULL);

    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    o2p_graph *mg = o2p_network_get_graph(net);
    ck_assert_int_eq(o2p_graph_num_layers(mg), 1); /* Constant nodes are not layers */
    ck_assert_int_eq(count_layers(mg, "Constant"), 0);
    ck_assert_int_eq(o2p_graph_num_constants(mg), 6);
    o2p_layer *l = find_layer(mg, "sink");
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(o2p_layer_num_inputs(l), 7);

    o2p_tensor *c = o2p_layer_get_input(l, 1);
    ck_assert_str_eq(o2p_tensor_get_name(c), "c_t");
    ck_assert_int_eq(o2p_tensor_get_dtype(c), O2P_DTYPE_FLOAT);
    ck_assert_int_eq(o2p_tensor_get_rank(c), 1);
    ck_assert_int_eq(o2p_tensor_get_dim(c, 0), 2);
    assert_data(c, tv, sizeof tv);

    c = o2p_layer_get_input(l, 2);
    ck_assert_int_eq(o2p_tensor_get_dtype(c), O2P_DTYPE_INT64);
    assert_data(c, iv, sizeof iv);

    c = o2p_layer_get_input(l, 3);
    ck_assert_int_eq(o2p_tensor_get_dtype(c), O2P_DTYPE_FLOAT);
    ck_assert_int_eq(o2p_tensor_get_rank(c), 0);
    const float f = 2.5f;
    assert_data(c, &f, 4);

    c = o2p_layer_get_input(l, 4);
    ck_assert_int_eq(o2p_tensor_get_dtype(c), O2P_DTYPE_FLOAT);
    ck_assert_int_eq(o2p_tensor_get_rank(c), 1);
    ck_assert_int_eq(o2p_tensor_get_dim(c, 0), 3);
    assert_data(c, fs, sizeof fs);

    c = o2p_layer_get_input(l, 5);
    ck_assert_int_eq(o2p_tensor_get_dtype(c), O2P_DTYPE_INT64);
    ck_assert_int_eq(o2p_tensor_get_rank(c), 0);
    const int64_t i = -7;
    assert_data(c, &i, 8);

    c = o2p_layer_get_input(l, 6);
    ck_assert_int_eq(o2p_tensor_get_dtype(c), O2P_DTYPE_INT64);
    ck_assert_int_eq(o2p_tensor_get_rank(c), 1);
    ck_assert_int_eq(o2p_tensor_get_dim(c, 0), 2);
    assert_data(c, is, sizeof is);
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

START_TEST(test_constant_string_refused)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    Onnx__NodeProto *n = tu_add_node(m, g, "Constant", "str_const", "", "c_s");
    const int64_t d1[1] = {1};
    Onnx__TensorProto *t = tu_tensor_new(m, NULL, DT(STRING), 1, d1);
    const char *v[1] = {"text"};
    tu_tensor_set_strings(m, t, v, 1);
    tu_attr_tensor(m, n, "value", t);
    tu_add_output(m, g, "c_s", DT(STRING), 1, d1, NULL);
    o2p_network *net;
    TU_ASSERT_FAILS(tu_parse_model(m, &net, NULL));
    TU_ASSERT_ERROR_HAS("str_const");
    ck_assert(tu_icontains(o2p_last_error(), "string"));
    tu_model_free(m);
}
END_TEST

/* ================================================================ attributes */

START_TEST(test_attributes_every_kind)
{
    tu_model *m = tu_model_new(13);
    tu_add_opset(m, "test.domain", 1);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    Onnx__NodeProto *n = tu_add_node(m, g, "AllAttrs", "attrs_node", "x", "y");
    tu_node_set_domain(m, n, "test.domain");
    tu_attr_float(m, n, "f", 0.5f);
    tu_attr_int(m, n, "i", -42);
    tu_attr_string(m, n, "s", "hello");
    tu_attr_string(m, n, "s_empty", "");
    const int32_t tv[2] = {3, 4};
    Onnx__TensorProto *t = tu_tensor_new(m, "attr_tensor", DT(INT32), 1, d2);
    tu_tensor_set_raw(m, t, tv, sizeof tv);
    tu_attr_tensor(m, n, "t", t);
    const float fs[2] = {1.5f, 2.5f};
    tu_attr_floats(m, n, "fs", fs, 2);
    const int64_t is[3] = {1, -2, (int64_t)1 << 50};
    tu_attr_ints(m, n, "is", is, 3);
    const char *ss[2] = {"a", "bc"};
    tu_attr_strings(m, n, "ss", ss, 2);
    const float t1v[1] = {9.0f};
    const int64_t d1[1] = {1};
    Onnx__TensorProto *ts[2] = {tu_tensor_new(m, NULL, DT(FLOAT), 1, d1),
                                tu_tensor_new(m, NULL, DT(INT64), 1, d2)};
    tu_tensor_set_floats(m, ts[0], t1v, 1);
    tu_tensor_set_int64s(m, ts[1], is, 2);
    tu_attr_tensors(m, n, "ts", ts, 2);
    Onnx__GraphProto *sub = tu_graph_new(m, "attr_graph");
    tu_add_node(m, sub, "Relu", "sub_relu", "x", "sub_y");
    tu_add_output(m, sub, "sub_y", DT(FLOAT), 1, d2, NULL);
    tu_attr_graph(m, n, "g", sub);
    Onnx__GraphProto *gs[2] = {tu_graph_new(m, "gs0"), tu_graph_new(m, "gs1")};
    tu_add_node(m, gs[0], "Identity", "gs0_id", "x", "gs0_y");
    tu_add_output(m, gs[0], "gs0_y", DT(FLOAT), 1, d2, NULL);
    tu_add_node(m, gs[1], "Neg", "gs1_neg", "x", "gs1_y");
    tu_add_output(m, gs[1], "gs1_y", DT(FLOAT), 1, d2, NULL);
    tu_attr_graphs(m, n, "gs", gs, 2);
    tu_attr_ints(m, n, "is_empty", NULL, 0);
    tu_add_output(m, g, "y", DT(FLOAT), -1, NULL, NULL);

    o2p_network *net;
    o2p_parser *parser;
    size_t size;
    uint8_t *bytes = tu_model_pack(m, &size);
    TU_ASSERT_STATUS(tu_parse_bytes(bytes, size, NULL, "attrs.onnx", &net, &parser), O2P_OK);
    free(bytes);
    o2p_graph *mg = o2p_network_get_graph(net);
    o2p_layer *l = find_layer(mg, "attrs_node");
    ck_assert_ptr_nonnull(l);
    ck_assert_str_eq(o2p_layer_get_domain(l), "test.domain");
    ck_assert_str_eq(o2p_layer_get_op_type(l), "AllAttrs");
    ck_assert(!o2p_layer_is_supported(l));
    ck_assert_int_eq(o2p_layer_num_attrs(l), 12);
    ck_assert_int_eq(o2p_layer_find_attr(l, "nope"), -1);

    int a = o2p_layer_find_attr(l, "f");
    ck_assert_int_ge(a, 0);
    ck_assert_str_eq(o2p_layer_attr_name(l, a), "f");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_FLOAT);
    ck_assert(o2p_layer_attr_float(l, a) == 0.5f);

    a = o2p_layer_find_attr(l, "i");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_INT);
    ck_assert_int_eq(o2p_layer_attr_int(l, a), -42);

    a = o2p_layer_find_attr(l, "s");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_STRING);
    ck_assert_str_eq(o2p_layer_attr_string(l, a), "hello");
    a = o2p_layer_find_attr(l, "s_empty");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_STRING);
    ck_assert_str_eq(o2p_layer_attr_string(l, a), "");

    a = o2p_layer_find_attr(l, "t");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_TENSOR);
    o2p_tensor *at = o2p_layer_attr_tensor(l, a, 0);
    ck_assert_ptr_nonnull(at);
    ck_assert_int_eq(o2p_tensor_get_dtype(at), O2P_DTYPE_INT32);
    ck_assert_int_eq(o2p_tensor_get_rank(at), 1);
    assert_data(at, tv, sizeof tv);

    a = o2p_layer_find_attr(l, "fs");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_FLOATS);
    ck_assert_int_eq(o2p_layer_attr_count(l, a), 2);
    ck_assert(o2p_layer_attr_floats(l, a)[0] == 1.5f && o2p_layer_attr_floats(l, a)[1] == 2.5f);

    a = o2p_layer_find_attr(l, "is");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_INTS);
    ck_assert_int_eq(o2p_layer_attr_count(l, a), 3);
    ck_assert_int_eq(o2p_layer_attr_ints(l, a)[0], 1);
    ck_assert_int_eq(o2p_layer_attr_ints(l, a)[1], -2);
    ck_assert_int_eq(o2p_layer_attr_ints(l, a)[2], (int64_t)1 << 50);

    a = o2p_layer_find_attr(l, "is_empty");
    ck_assert_int_ge(a, 0);
    ck_assert_int_eq(o2p_layer_attr_count(l, a), 0);

    a = o2p_layer_find_attr(l, "ss");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_STRINGS);
    ck_assert_int_eq(o2p_layer_attr_count(l, a), 2);
    /* The public API has no accessor for STRINGS elements; read the IR. */
    const ir_attr *ia = ir_attr_find(l, "ss");
    ck_assert_ptr_nonnull(ia);
    ck_assert_str_eq(ia->strings[0], "a");
    ck_assert_str_eq(ia->strings[1], "bc");

    a = o2p_layer_find_attr(l, "ts");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_TENSORS);
    ck_assert_int_eq(o2p_layer_attr_count(l, a), 2);
    assert_data(o2p_layer_attr_tensor(l, a, 0), t1v, sizeof t1v);
    ck_assert_int_eq(o2p_tensor_get_dtype(o2p_layer_attr_tensor(l, a, 1)), O2P_DTYPE_INT64);
    assert_data(o2p_layer_attr_tensor(l, a, 1), is, 16);
    ck_assert_ptr_null(o2p_layer_attr_tensor(l, a, 2));

    a = o2p_layer_find_attr(l, "g");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_GRAPH);
    o2p_graph *sg = o2p_layer_attr_graph(l, a, 0);
    ck_assert_ptr_nonnull(sg);
    ck_assert_str_eq(o2p_graph_get_name(sg), "attr_graph");
    ck_assert_int_eq(o2p_graph_num_layers(sg), 1);
    ck_assert_str_eq(o2p_layer_get_op_type(o2p_graph_get_layer(sg, 0)), "Relu");
    /* the body reads x from the graph around it */
    ck_assert_ptr_eq(o2p_layer_get_input(o2p_graph_get_layer(sg, 0), 0),
                     o2p_graph_get_input(mg, 0));
    ck_assert_int_eq(o2p_graph_num_outputs(sg), 1);

    a = o2p_layer_find_attr(l, "gs");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_GRAPHS);
    ck_assert_int_eq(o2p_layer_attr_count(l, a), 2);
    ck_assert_str_eq(o2p_graph_get_name(o2p_layer_attr_graph(l, a, 0)), "gs0");
    ck_assert_str_eq(o2p_graph_get_name(o2p_layer_attr_graph(l, a, 1)), "gs1");
    ck_assert_str_eq(o2p_layer_get_op_type(o2p_graph_get_layer(o2p_layer_attr_graph(l, a, 1), 0)),
                     "Neg");
    ck_assert_ptr_null(o2p_layer_attr_graph(l, a, 2));

    /* the custom op has no importer and is reported */
    int found = 0;
    for (int i = 0; i < o2p_parser_num_unsupported(parser); i++)
        found += o2p_parser_get_unsupported(parser, i) == l;
    ck_assert_int_eq(found, 1);
    tu_parsed_free(net, parser);
    tu_model_free(m);
}
END_TEST

START_TEST(test_attributes_without_type_field)
{
    /* Files written for IR version 1 have no AttributeProto.type: the kind follows from the
     * field that is set. */
    tu_model *m = tu_model_new(13);
    tu_add_opset(m, "test.domain", 1);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    Onnx__NodeProto *n = tu_add_node(m, g, "Old", "old_node", "x", "y");
    tu_node_set_domain(m, n, "test.domain");
    tu_attr_int(m, n, "i", 5);
    tu_attr_float(m, n, "f", 0.25f);
    const int64_t is[2] = {1, 2};
    tu_attr_ints(m, n, "is", is, 2);
    for (size_t k = 0; k < n->n_attribute; k++)
        n->attribute[k]->has_type = 0;
    tu_add_output(m, g, "y", DT(FLOAT), -1, NULL, NULL);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    o2p_layer *l = find_layer(o2p_network_get_graph(net), "old_node");
    int a = o2p_layer_find_attr(l, "i");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_INT);
    ck_assert_int_eq(o2p_layer_attr_int(l, a), 5);
    a = o2p_layer_find_attr(l, "f");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_FLOAT);
    a = o2p_layer_find_attr(l, "is");
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_INTS);
    ck_assert_int_eq(o2p_layer_attr_count(l, a), 2);
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

START_TEST(test_attributes_rare_kinds)
{
    /* TYPE_PROTO and SPARSE_TENSOR attributes are kept by kind (no importer reads them). */
    tu_model *m = tu_model_new(13);
    tu_add_opset(m, "test.domain", 1);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    Onnx__NodeProto *n = tu_add_node(m, g, "Rare", "rare_node", "x", "y");
    tu_node_set_domain(m, n, "test.domain");
    Onnx__AttributeProto *a =
        tu_attr_new(m, n, "tp", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO);
    a->tp = tu_tensor_type(m, DT(FLOAT), 1, d2, NULL);
    a = tu_attr_new(m, n, "sp", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR);
    Onnx__SparseTensorProto *sp = tu_alloc(m, sizeof *sp);
    onnx__sparse_tensor_proto__init(sp);
    const float vals[1] = {3.0f};
    const int64_t idx[1] = {1}, d1[1] = {1};
    sp->values = tu_tensor_new(m, "sp_values", DT(FLOAT), 1, d1);
    tu_tensor_set_floats(m, sp->values, vals, 1);
    sp->indices = tu_tensor_new(m, "sp_indices", DT(INT64), 1, d1);
    tu_tensor_set_int64s(m, sp->indices, idx, 1);
    sp->n_dims = 1;
    sp->dims = tu_alloc(m, sizeof(int64_t));
    sp->dims[0] = 4;
    a->sparse_tensor = sp;
    tu_add_output(m, g, "y", DT(FLOAT), -1, NULL, NULL);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    o2p_layer *l = find_layer(o2p_network_get_graph(net), "rare_node");
    ck_assert_int_eq(o2p_layer_attr_type(l, o2p_layer_find_attr(l, "tp")), O2P_ATTR_TYPE_PROTO);
    ck_assert_int_eq(o2p_layer_attr_type(l, o2p_layer_find_attr(l, "sp")), O2P_ATTR_SPARSE_TENSOR);
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

/* ================================================================ subgraphs */

START_TEST(test_if_subgraphs)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "cond", DT(BOOL), 0, NULL, NULL);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    Onnx__NodeProto *n = tu_add_node(m, g, "If", "the_if", "cond", "y");
    Onnx__GraphProto *then_g = tu_graph_new(m, "then_g");
    tu_add_node(m, then_g, "Relu", "then_relu", "x", "then_out");
    tu_add_output(m, then_g, "then_out", DT(FLOAT), 1, d2, NULL);
    Onnx__GraphProto *else_g = tu_graph_new(m, "else_g");
    const float w[2] = {1, 2};
    tu_add_initializer_raw(m, else_g, "else_w", DT(FLOAT), 1, d2, w, sizeof w);
    tu_add_node(m, else_g, "Add", "else_add", "x,else_w", "else_out");
    tu_add_output(m, else_g, "else_out", DT(FLOAT), 1, d2, NULL);
    tu_attr_graph(m, n, "then_branch", then_g);
    tu_attr_graph(m, n, "else_branch", else_g);
    tu_add_output(m, g, "y", DT(FLOAT), 1, d2, NULL);

    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    o2p_graph *mg = o2p_network_get_graph(net);
    ck_assert_int_eq(o2p_graph_num_layers(mg), 1);
    o2p_layer *l = o2p_graph_get_layer(mg, 0);
    ck_assert_str_eq(o2p_layer_get_op_type(l), "If");
    int a = o2p_layer_find_attr(l, "then_branch");
    ck_assert_int_ge(a, 0);
    ck_assert_int_eq(o2p_layer_attr_type(l, a), O2P_ATTR_GRAPH);
    o2p_graph *tg = o2p_layer_attr_graph(l, a, 0);
    ck_assert_ptr_nonnull(tg);
    ck_assert_str_eq(o2p_graph_get_name(tg), "then_g");
    ck_assert_int_eq(o2p_graph_num_layers(tg), 1);
    o2p_layer *tl = o2p_graph_get_layer(tg, 0);
    ck_assert_str_eq(o2p_layer_get_name(tl), "then_relu");
    ck_assert_ptr_eq(o2p_layer_get_input(tl, 0), find_input(mg, "x"));
    ck_assert_int_eq(o2p_graph_num_outputs(tg), 1);
    ck_assert_str_eq(o2p_tensor_get_name(o2p_graph_get_output(tg, 0)), "then_out");
    ck_assert_ptr_eq(o2p_graph_find_tensor(tg, "x"), find_input(mg, "x"));
    ck_assert_ptr_null(o2p_graph_find_tensor(mg, "then_out")); /* inner names stay inside */

    a = o2p_layer_find_attr(l, "else_branch");
    o2p_graph *eg = o2p_layer_attr_graph(l, a, 0);
    ck_assert_ptr_nonnull(eg);
    ck_assert_str_eq(o2p_graph_get_name(eg), "else_g");
    ck_assert_int_eq(o2p_graph_num_constants(eg), 1);
    assert_data(o2p_graph_find_tensor(eg, "else_w"), w, sizeof w);
    o2p_layer *el = o2p_graph_get_layer(eg, 0);
    ck_assert_ptr_eq(o2p_layer_get_input(el, 1), o2p_graph_find_tensor(eg, "else_w"));
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

START_TEST(test_loop_and_scan_bodies)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2}, d32[2] = {3, 2};
    tu_add_input(m, g, "M", DT(INT64), 0, NULL, NULL);
    tu_add_input(m, g, "c", DT(BOOL), 0, NULL, NULL);
    tu_add_input(m, g, "v", DT(FLOAT), 1, d2, NULL);
    tu_add_input(m, g, "seq", DT(FLOAT), 2, d32, NULL);

    Onnx__NodeProto *loop = tu_add_node(m, g, "Loop", "the_loop", "M,c,v", "v_final");
    Onnx__GraphProto *body = tu_graph_new(m, "loop_body");
    tu_add_input(m, body, "iter", DT(INT64), 0, NULL, NULL);
    tu_add_input(m, body, "c_in", DT(BOOL), 0, NULL, NULL);
    tu_add_input(m, body, "v_in", DT(FLOAT), 1, d2, NULL);
    tu_add_node(m, body, "Identity", "c_pass", "c_in", "c_out");
    tu_add_node(m, body, "Relu", "v_relu", "v_in", "v_out");
    tu_add_output(m, body, "c_out", DT(BOOL), 0, NULL, NULL);
    tu_add_output(m, body, "v_out", DT(FLOAT), 1, d2, NULL);
    tu_attr_graph(m, loop, "body", body);

    Onnx__NodeProto *scan = tu_add_node(m, g, "Scan", "the_scan", "v,seq", "s_final,s_all");
    Onnx__GraphProto *sbody = tu_graph_new(m, "scan_body");
    tu_add_input(m, sbody, "s_in", DT(FLOAT), 1, d2, NULL);
    tu_add_input(m, sbody, "e_in", DT(FLOAT), 1, d2, NULL);
    tu_add_node(m, sbody, "Add", "s_add", "s_in,e_in", "s_out");
    tu_add_node(m, sbody, "Identity", "s_id", "s_out", "scan_out");
    tu_add_output(m, sbody, "s_out", DT(FLOAT), 1, d2, NULL);
    tu_add_output(m, sbody, "scan_out", DT(FLOAT), 1, d2, NULL);
    tu_attr_graph(m, scan, "body", sbody);
    tu_attr_int(m, scan, "num_scan_inputs", 1);

    tu_add_output(m, g, "v_final", DT(FLOAT), 1, d2, NULL);
    tu_add_output(m, g, "s_final", DT(FLOAT), 1, d2, NULL);
    tu_add_output(m, g, "s_all", DT(FLOAT), 2, d32, NULL);

    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    o2p_graph *mg = o2p_network_get_graph(net);
    o2p_layer *l = find_layer(mg, "the_loop");
    ck_assert_ptr_nonnull(l);
    o2p_graph *b = o2p_layer_attr_graph(l, o2p_layer_find_attr(l, "body"), 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(o2p_graph_get_name(b), "loop_body");
    ck_assert_int_eq(o2p_graph_num_inputs(b), 3);
    ck_assert_int_eq(o2p_graph_num_outputs(b), 2);
    ck_assert_int_eq(o2p_graph_num_layers(b), 2);
    ck_assert_str_eq(o2p_tensor_get_name(o2p_graph_get_input(b, 2)), "v_in");
    ck_assert_int_eq(o2p_tensor_get_dtype(o2p_graph_get_input(b, 0)), O2P_DTYPE_INT64);

    l = find_layer(mg, "the_scan");
    ck_assert_ptr_nonnull(l);
    int a = o2p_layer_find_attr(l, "num_scan_inputs");
    ck_assert_int_eq(o2p_layer_attr_int(l, a), 1);
    b = o2p_layer_attr_graph(l, o2p_layer_find_attr(l, "body"), 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(o2p_graph_get_name(b), "scan_body");
    ck_assert_int_eq(o2p_graph_num_layers(b), 2);
    ck_assert_int_eq(o2p_graph_num_outputs(b), 2);
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

START_TEST(test_unsupported_ops_listed)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "cond", DT(BOOL), 0, NULL, NULL);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    Onnx__NodeProto *n = tu_add_node(m, g, "If", "the_if", "cond", "y");
    Onnx__GraphProto *then_g = tu_graph_new(m, "then_g");
    tu_add_node(m, then_g, "NoSuchOpInBody", "weird_inner", "x", "t_out");
    tu_add_output(m, then_g, "t_out", DT(FLOAT), 1, d2, NULL);
    Onnx__GraphProto *else_g = tu_graph_new(m, "else_g");
    tu_add_node(m, else_g, "Identity", "e_id", "x", "e_out");
    tu_add_output(m, else_g, "e_out", DT(FLOAT), 1, d2, NULL);
    tu_attr_graph(m, n, "then_branch", then_g);
    tu_attr_graph(m, n, "else_branch", else_g);
    tu_add_node(m, g, "NoSuchOp", "mystery", "y", "z");
    tu_add_node(m, g, "Relu", "fine", "z", "w");
    tu_add_output(m, g, "w", DT(FLOAT), 1, d2, NULL);

    o2p_network *net;
    o2p_parser *parser;
    size_t size;
    uint8_t *bytes = tu_model_pack(m, &size);
    TU_ASSERT_STATUS(tu_parse_bytes(bytes, size, NULL, "u.onnx", &net, &parser), O2P_OK);
    free(bytes);
    int inner = -1, outer = -1;
    for (int i = 0; i < o2p_parser_num_unsupported(parser); i++) {
        const o2p_layer *l = o2p_parser_get_unsupported(parser, i);
        ck_assert_ptr_nonnull(l);
        ck_assert(!o2p_layer_is_supported(l));
        const char *name = o2p_layer_get_name(l);
        ck_assert_msg(!name || strcmp(name, "fine") != 0, "Relu listed as unsupported");
        if (name && strcmp(name, "weird_inner") == 0)
            inner = i;
        if (name && strcmp(name, "mystery") == 0)
            outer = i;
    }
    ck_assert_msg(inner >= 0, "the unsupported node inside the If body is not listed");
    ck_assert_msg(outer >= 0, "the unsupported node of the main graph is not listed");
    ck_assert_msg(inner < outer, "not in graph order: the If (and its body) come first");
    ck_assert_ptr_null(o2p_parser_get_unsupported(parser, o2p_parser_num_unsupported(parser)));
    ck_assert(!o2p_layer_is_supported(find_layer(o2p_network_get_graph(net), "mystery")));
    ck_assert(o2p_layer_is_supported(find_layer(o2p_network_get_graph(net), "fine")));
    tu_parsed_free(net, parser);
    tu_model_free(m);
}
END_TEST

/* ================================================================ error messages */

START_TEST(test_error_missing_file)
{
    char *dir = tu_tempdir();
    char *path = tu_printf("%s/does_not_exist.onnx", dir);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_file(path, &net, NULL), O2P_ERR_IO);
    TU_ASSERT_ERROR_HAS(path);
    /* a folder is not a model either */
    TU_ASSERT_FAILS(tu_parse_file(dir, &net, NULL));
    TU_ASSERT_ERROR_HAS(dir);
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_error_names_file_and_node)
{
    char *dir = tu_tempdir();
    char *path = tu_printf("%s/broken_model.onnx", dir);
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    tu_add_node(m, g, "Relu", "first_node", "x", "a");
    tu_add_node(m, g, "Add", "bad_node", "a,missing_tensor", "b");
    tu_add_output(m, g, "b", DT(FLOAT), 1, d2, NULL);
    ck_assert_int_eq(tu_model_write(m, path), 0);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_file(path, &net, NULL), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("broken_model.onnx");
    TU_ASSERT_ERROR_HAS("bad_node");
    TU_ASSERT_ERROR_HAS("Add");
    TU_ASSERT_ERROR_HAS("missing_tensor");
    ck_assert_msg(tu_contains_number(o2p_last_error(), 1), "node index 1 missing: %s",
                  o2p_last_error());

    /* an unnamed node is named by index and op type */
    tu_model_free(m);
    m = tu_model_new(13);
    g = tu_main_graph(m);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    tu_add_node(m, g, "Relu", NULL, "x", "a");
    tu_add_node(m, g, "Relu", NULL, "a", "b");
    tu_add_node(m, g, "Sigmoid", NULL, "ghost_input", "c");
    tu_add_output(m, g, "c", DT(FLOAT), 1, d2, NULL);
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("test.onnx");
    TU_ASSERT_ERROR_HAS("Sigmoid");
    TU_ASSERT_ERROR_HAS("ghost_input");
    ck_assert_msg(tu_contains_number(o2p_last_error(), 2), "node index 2 missing: %s",
                  o2p_last_error());
    tu_model_free(m);
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_error_in_subgraph_names_node)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "cond", DT(BOOL), 0, NULL, NULL);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    Onnx__NodeProto *n = tu_add_node(m, g, "If", "outer_if", "cond", "y");
    Onnx__GraphProto *then_g = tu_graph_new(m, "then_g");
    tu_add_node(m, then_g, "Mul", "inner_bad", "x,nowhere", "t_out");
    tu_add_output(m, then_g, "t_out", DT(FLOAT), 1, d2, NULL);
    Onnx__GraphProto *else_g = tu_graph_new(m, "else_g");
    tu_add_node(m, else_g, "Identity", "e_id", "x", "e_out");
    tu_add_output(m, else_g, "e_out", DT(FLOAT), 1, d2, NULL);
    tu_attr_graph(m, n, "then_branch", then_g);
    tu_attr_graph(m, n, "else_branch", else_g);
    tu_add_output(m, g, "y", DT(FLOAT), 1, d2, NULL);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("inner_bad");
    TU_ASSERT_ERROR_HAS("Mul");
    TU_ASSERT_ERROR_HAS("nowhere");
    tu_model_free(m);
}
END_TEST

START_TEST(test_error_duplicate_tensor_names)
{
    /* two nodes writing the same tensor */
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    tu_add_node(m, g, "Relu", "writer_one", "x", "same");
    tu_add_node(m, g, "Neg", "writer_two", "x", "same");
    tu_add_output(m, g, "same", DT(FLOAT), 1, d2, NULL);
    o2p_network *net;
    TU_ASSERT_FAILS(tu_parse_model(m, &net, NULL));
    TU_ASSERT_ERROR_HAS("same");
    TU_ASSERT_ERROR_HAS("writer_two");
    tu_model_free(m);

    /* a node overwriting a graph input */
    m = tu_model_new(13);
    g = tu_main_graph(m);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    tu_add_node(m, g, "Relu", "clobber", "x", "x");
    tu_add_output(m, g, "x", DT(FLOAT), 1, d2, NULL);
    TU_ASSERT_FAILS(tu_parse_model(m, &net, NULL));
    TU_ASSERT_ERROR_HAS("clobber");
    tu_model_free(m);
}
END_TEST

START_TEST(test_error_node_without_op_type)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    Onnx__NodeProto *n = tu_add_node(m, g, "Relu", "nameless_op", "x", "y");
    n->op_type = NULL;
    tu_add_output(m, g, "y", DT(FLOAT), 1, d2, NULL);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("nameless_op");
    tu_model_free(m);
}
END_TEST

START_TEST(test_error_graph_output_not_produced)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    tu_add_node(m, g, "Relu", "r", "x", "y");
    tu_add_output(m, g, "phantom_output", DT(FLOAT), 1, d2, NULL);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("phantom_output");
    tu_model_free(m);
}
END_TEST

START_TEST(test_error_input_unknown_elem_type)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "weird_input", 77, 1, d2, NULL);
    tu_add_node(m, g, "Relu", "r", "weird_input", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d2, NULL);
    o2p_network *net;
    TU_ASSERT_FAILS(tu_parse_model(m, &net, NULL));
    TU_ASSERT_ERROR_HAS("weird_input");
    tu_model_free(m);
}
END_TEST

START_TEST(test_error_graph_attribute_without_graph)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "cond", DT(BOOL), 0, NULL, NULL);
    Onnx__NodeProto *n = tu_add_node(m, g, "If", "hollow_if", "cond", "y");
    tu_attr_new(m, n, "then_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    tu_attr_new(m, n, "else_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    tu_add_output(m, g, "y", DT(FLOAT), 1, d2, NULL);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("hollow_if");
    TU_ASSERT_ERROR_HAS("then_branch");
    tu_model_free(m);
}
END_TEST

/* ================================================================ limits */

START_TEST(test_limit_rank)
{
    for (int rank = O2P_MAX_RANK; rank <= O2P_MAX_RANK + 4; rank++) {
        /* a graph input of this rank */
        tu_model *m = tu_model_new(13);
        Onnx__GraphProto *g = tu_main_graph(m);
        int64_t d[O2P_MAX_RANK + 4];
        for (int i = 0; i < rank; i++)
            d[i] = 1;
        tu_add_input(m, g, "high_rank_input", DT(FLOAT), rank, d, NULL);
        tu_add_node(m, g, "Relu", "r", "high_rank_input", "y");
        tu_add_output(m, g, "y", DT(FLOAT), -1, NULL, NULL);
        o2p_network *net;
        o2p_status s = tu_parse_model(m, &net, NULL);
        if (rank <= O2P_MAX_RANK) {
            TU_ASSERT_STATUS(s, O2P_OK);
            ck_assert_int_eq(
                o2p_tensor_get_rank(o2p_graph_get_input(o2p_network_get_graph(net), 0)), rank);
            tu_parsed_free(net, NULL);
        } else {
            TU_ASSERT_STATUS(s, O2P_ERR_LIMIT);
            TU_ASSERT_ERROR_HAS("high_rank_input");
        }
        tu_model_free(m);

        /* an initializer of this rank */
        m = tu_model_new(13);
        float one = 1.0f;
        Onnx__TensorProto *t = tu_tensor_new(m, "high_rank_weight", DT(FLOAT), rank, d);
        tu_tensor_set_raw(m, t, &one, 4);
        s = parse_with_initializer(m, t);
        if (rank <= O2P_MAX_RANK) {
            TU_ASSERT_STATUS(s, O2P_OK);
        } else {
            TU_ASSERT_STATUS(s, O2P_ERR_LIMIT);
            TU_ASSERT_ERROR_HAS("high_rank_weight");
        }
        tu_model_free(m);
    }
}
END_TEST

START_TEST(test_limit_negative_dims)
{
    const int64_t bad[] = {-1, -2, INT64_MIN};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        /* graph input with a negative dim_value */
        tu_model *m = tu_model_new(13);
        Onnx__GraphProto *g = tu_main_graph(m);
        const int64_t d2[2] = {3, 0};
        Onnx__ValueInfoProto *vi = tu_add_input(m, g, "neg_input", DT(FLOAT), 2, d2, NULL);
        vi->type->tensor_type->shape->dim[1]->dim_value = bad[k];
        tu_add_node(m, g, "Relu", "r", "neg_input", "y");
        tu_add_output(m, g, "y", DT(FLOAT), -1, NULL, NULL);
        o2p_network *net;
        TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_ERR_PARSE);
        TU_ASSERT_ERROR_HAS("neg_input");
        tu_model_free(m);

        /* initializer dims */
        m = tu_model_new(13);
        const int64_t dd[2] = {bad[k], bad[k]};
        Onnx__TensorProto *t = tu_tensor_new(m, "neg_weight", DT(FLOAT), 2, dd);
        float v = 1;
        tu_tensor_set_raw(m, t, &v, 4); /* (-1)*(-1) = 1 element: must still be refused */
        TU_ASSERT_STATUS(parse_with_initializer(m, t), O2P_ERR_PARSE);
        TU_ASSERT_ERROR_HAS("neg_weight");
        tu_model_free(m);
    }
}
END_TEST

START_TEST(test_limit_element_count_overflow)
{
    struct rlimit saved;
    limit_address_space(&saved);
    const int64_t p40 = (int64_t)1 << 40;
    const int64_t cases[][3] = {
        {p40, p40, 1},            /* 2^80 elements */
        {(int64_t)1 << 62, 4, 1}, /* 2^64 elements */
        {(int64_t)1 << 61, 1, 1}, /* 2^61 elements of 8 bytes: bytes overflow */
        {INT64_MAX, INT64_MAX, 1},
        {(int64_t)1 << 31, (int64_t)1 << 31, (int64_t)1 << 31},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tu_model *m = tu_model_new(13);
        Onnx__TensorProto *t = tu_tensor_new(m, "overflowing", DT(DOUBLE), 3, cases[k]);
        double v = 1.0;
        tu_tensor_set_raw(m, t, &v, 8);
        o2p_status s = parse_with_initializer(m, t);
        ck_assert_msg(s == O2P_ERR_LIMIT || s == O2P_ERR_PARSE,
                      "case %zu: got %s (%s), expected a LIMIT or PARSE error", k,
                      o2p_status_name(s), o2p_last_error());
        TU_ASSERT_ERROR_HAS("overflowing");
        tu_model_free(m);
    }
    /* the same claims on a graph input: no data, but the shape must not crash anything */
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tu_model *m = tu_model_new(13);
        Onnx__GraphProto *g = tu_main_graph(m);
        tu_add_input(m, g, "huge_input", DT(FLOAT), 3, cases[k], NULL);
        tu_add_node(m, g, "Relu", "r", "huge_input", "y");
        tu_add_output(m, g, "y", DT(FLOAT), -1, NULL, NULL);
        o2p_network *net;
        o2p_status s = tu_parse_model(m, &net, NULL);
        if (s != O2P_OK)
            ck_assert(o2p_last_error()[0]);
        tu_parsed_free(net, NULL);
        tu_model_free(m);
    }
    restore_address_space(&saved);
}
END_TEST

START_TEST(test_limit_huge_claim_is_not_allocated)
{
    /* Shapes that fit in 64 bits but claim far more data than the file holds: refused by
     * comparing sizes, before allocating what the shape claims. */
    struct rlimit saved;
    limit_address_space(&saved);
    const int64_t d16g[2] = {(int64_t)1 << 16, (int64_t)1 << 16}; /* 16 GiB of float */
    const int64_t d4t[2] = {(int64_t)1 << 20, (int64_t)1 << 20};  /* 4 TiB of float */
    const int64_t *dims[2] = {d16g, d4t};
    for (int k = 0; k < 2; k++) {
        for (int form = 0; form < 3; form++) {
            tu_model *m = tu_model_new(13);
            Onnx__TensorProto *t = tu_tensor_new(m, "greedy", DT(FLOAT), 2, dims[k]);
            float v[2] = {1, 2};
            if (form == 0)
                tu_tensor_set_raw(m, t, v, sizeof v);
            else if (form == 1)
                tu_tensor_set_floats(m, t, v, 2);
            /* form 2: no data at all */
            o2p_status s = parse_with_initializer(m, t);
            ck_assert_msg(s == O2P_ERR_PARSE || s == O2P_ERR_LIMIT,
                          "%s with %s: got %s (%s), expected PARSE (or LIMIT) without "
                          "allocating the claimed size",
                          k ? "4 TiB" : "16 GiB",
                          form == 0   ? "raw_data"
                          : form == 1 ? "float_data"
                                      : "no data",
                          o2p_status_name(s), o2p_last_error());
            TU_ASSERT_ERROR_HAS("greedy");
            tu_model_free(m);
        }
    }
    restore_address_space(&saved);
}
END_TEST

/* A protobuf-c model of `depth` If bodies nested through then_branch (see
 * tu_nested_if_model for the shape; this one is built from structs). */
static tu_model *nested_if_structs(int depth)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "cond", DT(BOOL), 0, NULL, NULL);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    for (int k = 0; k <= depth; k++) {
        char out[32], name[32];
        snprintf(out, sizeof out, "y_%d", k);
        tu_add_output(m, g, out, DT(FLOAT), 1, d2, NULL);
        if (k == depth) {
            snprintf(name, sizeof name, "id_%d", k);
            tu_add_node(m, g, "Identity", name, "x", out);
            break;
        }
        snprintf(name, sizeof name, "if_%d", k);
        Onnx__NodeProto *n = tu_add_node(m, g, "If", name, "cond", out);
        snprintf(name, sizeof name, "e_%d", k + 1);
        Onnx__GraphProto *e = tu_graph_new(m, name);
        snprintf(out, sizeof out, "ye_%d", k + 1);
        snprintf(name, sizeof name, "eid_%d", k + 1);
        tu_add_node(m, e, "Identity", name, "x", out);
        tu_add_output(m, e, out, DT(FLOAT), 1, d2, NULL);
        snprintf(name, sizeof name, "g_%d", k + 1);
        Onnx__GraphProto *next = tu_graph_new(m, name);
        tu_attr_graph(m, n, "then_branch", next);
        tu_attr_graph(m, n, "else_branch", e);
        g = next;
    }
    return m;
}

/* Walks then_branch down from the main graph; returns how many bodies deep it went. */
static int if_depth(o2p_network *net)
{
    o2p_graph *g = o2p_network_get_graph(net);
    int depth = 0;
    for (;;) {
        if (o2p_graph_num_layers(g) != 1)
            return -1;
        o2p_layer *l = o2p_graph_get_layer(g, 0);
        if (strcmp(o2p_layer_get_op_type(l), "Identity") == 0)
            return depth;
        int a = o2p_layer_find_attr(l, "then_branch");
        if (a < 0 || !(g = o2p_layer_attr_graph(l, a, 0)))
            return -1;
        depth++;
    }
}

START_TEST(test_limit_nesting_64_accepted)
{
    for (int depth = 60; depth <= 64; depth++) {
        tu_model *m = nested_if_structs(depth);
        o2p_network *net;
        TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
        ck_assert_int_eq(if_depth(net), depth);
        tu_parsed_free(net, NULL);
        tu_model_free(m);

        size_t size;
        uint8_t *bytes = tu_nested_if_model(depth, &size);
        TU_ASSERT_STATUS(tu_parse_bytes(bytes, size, NULL, "nested.onnx", &net, NULL), O2P_OK);
        ck_assert_int_eq(if_depth(net), depth);
        tu_parsed_free(net, NULL);
        free(bytes);
    }
}
END_TEST

START_TEST(test_limit_nesting_65_refused)
{
    for (int depth = 65; depth <= 70; depth += 5) {
        tu_model *m = nested_if_structs(depth);
        o2p_network *net;
        TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_ERR_LIMIT);
        TU_ASSERT_ERROR_HAS("test.onnx");
        ck_assert_msg(tu_contains_number(o2p_last_error(), 64), "the limit is not named: %s",
                      o2p_last_error());
        tu_model_free(m);

        size_t size;
        uint8_t *bytes = tu_nested_if_model(depth, &size);
        TU_ASSERT_STATUS(tu_parse_bytes(bytes, size, NULL, "nested.onnx", &net, NULL),
                         O2P_ERR_LIMIT);
        free(bytes);
    }
}
END_TEST

/* Loop bodies nested `depth` deep: body_k runs a Loop over body_k+1. */
static tu_model *nested_loop_structs(int depth)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "M", DT(INT64), 0, NULL, NULL);
    tu_add_input(m, g, "c", DT(BOOL), 0, NULL, NULL);
    tu_add_input(m, g, "v", DT(FLOAT), 1, d2, NULL);
    char cin[32] = "c", vin[32] = "v", out[32], name[32];
    for (int k = 0; k <= depth; k++) {
        snprintf(out, sizeof out, "w_%d", k);
        if (k == depth) {
            snprintf(name, sizeof name, "id_%d", k);
            tu_add_node(m, g, "Identity", name, vin, out);
        } else {
            snprintf(name, sizeof name, "loop_%d", k);
            char ins[80];
            snprintf(ins, sizeof ins, "M,%s,%s", cin, vin);
            Onnx__NodeProto *n = tu_add_node(m, g, "Loop", name, ins, out);
            snprintf(name, sizeof name, "body_%d", k + 1);
            Onnx__GraphProto *body = tu_graph_new(m, name);
            tu_attr_graph(m, n, "body", body);
            if (k > 0) {
                snprintf(name, sizeof name, "cp_%d", k);
                char co[32];
                snprintf(co, sizeof co, "co_%d", k);
                tu_add_node(m, g, "Identity", name, cin, co);
                tu_add_output(m, g, co, DT(BOOL), 0, NULL, NULL);
            }
            tu_add_output(m, g, out, DT(FLOAT), 1, d2, NULL);
            g = body;
            snprintf(name, sizeof name, "i_%d", k + 1);
            tu_add_input(m, g, name, DT(INT64), 0, NULL, NULL);
            snprintf(cin, sizeof cin, "c_%d", k + 1);
            tu_add_input(m, g, cin, DT(BOOL), 0, NULL, NULL);
            snprintf(vin, sizeof vin, "v_%d", k + 1);
            tu_add_input(m, g, vin, DT(FLOAT), 1, d2, NULL);
            continue;
        }
        char co[32];
        snprintf(name, sizeof name, "cp_%d", k);
        snprintf(co, sizeof co, "co_%d", k);
        tu_add_node(m, g, "Identity", name, cin, co);
        tu_add_output(m, g, co, DT(BOOL), 0, NULL, NULL);
        tu_add_output(m, g, out, DT(FLOAT), 1, d2, NULL);
    }
    return m;
}

/* A custom op whose GRAPHS attribute holds the next level, `depth` deep. */
static tu_model *nested_graphs_structs(int depth)
{
    tu_model *m = tu_model_new(13);
    tu_add_opset(m, "test.domain", 1);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    for (int k = 0; k <= depth; k++) {
        char out[32], name[32];
        snprintf(out, sizeof out, "n_%d", k);
        snprintf(name, sizeof name, "nest_%d", k);
        Onnx__NodeProto *n = tu_add_node(m, g, k == depth ? "Relu" : "Nest", name, "x", out);
        tu_add_output(m, g, out, DT(FLOAT), 1, d2, NULL);
        if (k == depth)
            break;
        tu_node_set_domain(m, n, "test.domain");
        snprintf(name, sizeof name, "gs_%d", k + 1);
        Onnx__GraphProto *next = tu_graph_new(m, name);
        tu_attr_graphs(m, n, "bodies", &next, 1);
        g = next;
    }
    return m;
}

START_TEST(test_limit_nesting_loop_and_graphs)
{
    for (int depth = 63; depth <= 66; depth++) {
        for (int kind = 0; kind < 2; kind++) {
            tu_model *m = kind ? nested_graphs_structs(depth) : nested_loop_structs(depth);
            o2p_network *net;
            o2p_status s = tu_parse_model(m, &net, NULL);
            if (depth <= 64)
                ck_assert_msg(s == O2P_OK, "%s nested %d deep: got %s (%s), expected O2P_OK",
                              kind ? "GRAPHS attributes" : "Loop bodies", depth, o2p_status_name(s),
                              o2p_last_error());
            else
                ck_assert_msg(s == O2P_ERR_LIMIT,
                              "%s nested %d deep: got %s (%s), expected O2P_ERR_LIMIT",
                              kind ? "GRAPHS attributes" : "Loop bodies", depth, o2p_status_name(s),
                              o2p_last_error());
            tu_parsed_free(net, NULL);
            tu_model_free(m);
        }
    }
}
END_TEST

START_TEST(test_limit_nesting_wide_is_fine)
{
    /* Many sibling bodies are not nesting: 200 Ifs side by side in one graph. */
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "cond", DT(BOOL), 0, NULL, NULL);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    for (int k = 0; k < 200; k++) {
        char name[32], out[32];
        snprintf(name, sizeof name, "if_%d", k);
        snprintf(out, sizeof out, "y_%d", k);
        Onnx__NodeProto *n = tu_add_node(m, g, "If", name, "cond", out);
        for (int b = 0; b < 2; b++) {
            char gname[32], bout[32], bname[32];
            snprintf(gname, sizeof gname, "b_%d_%d", k, b);
            snprintf(bout, sizeof bout, "bo_%d_%d", k, b);
            snprintf(bname, sizeof bname, "bid_%d_%d", k, b);
            Onnx__GraphProto *body = tu_graph_new(m, gname);
            tu_add_node(m, body, "Identity", bname, "x", bout);
            tu_add_output(m, body, bout, DT(FLOAT), 1, d2, NULL);
            tu_attr_graph(m, n, b ? "else_branch" : "then_branch", body);
        }
        tu_add_output(m, g, out, DT(FLOAT), 1, d2, NULL);
    }
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_model(m, &net, NULL), O2P_OK);
    ck_assert_int_eq(o2p_graph_num_layers(o2p_network_get_graph(net)), 200);
    tu_parsed_free(net, NULL);
    tu_model_free(m);
}
END_TEST

START_TEST(test_limit_deep_nesting_is_quick)
{
    size_t size;
    uint8_t *bytes = tu_deep_graph_model(100000, &size);
    double t0 = now_seconds();
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_bytes(bytes, size, NULL, "deep.onnx", &net, NULL), O2P_ERR_LIMIT);
    double dt = now_seconds() - t0;
    ck_assert_msg(dt < 2.0, "refusing a %zu-byte, 100000-deep model took %.2f s", size, dt);
    TU_ASSERT_ERROR_HAS("deep.onnx");
    free(bytes);
}
END_TEST

/* ================================================================ external data */

typedef struct ext_env {
    char *root; /* temp folder */
    char *dir;  /* root/model: the model's folder */
    char *model_path;
} ext_env;

static void ext_setup(ext_env *e)
{
    e->root = tu_tempdir();
    ck_assert_ptr_nonnull(e->root);
    e->dir = tu_printf("%s/model", e->root);
    ck_assert_int_eq(mkdir(e->dir, 0700), 0);
    e->model_path = tu_printf("%s/model.onnx", e->dir);
}

static void ext_teardown(ext_env *e)
{
    tu_rmtree(e->root);
    free(e->root);
    free(e->dir);
    free(e->model_path);
}

/* n floats 0.5*i (+ base) */
static void float_ramp(float *v, size_t n, float base)
{
    for (size_t i = 0; i < n; i++)
        v[i] = base + 0.5f * (float)i;
}

static void write_at(const char *dir, const char *rel, const void *data, size_t size)
{
    char *p = tu_printf("%s/%s", dir, rel);
    ck_assert_msg(tu_write_file(p, data, size) == 0, "cannot write %s", p);
    free(p);
}

/* A model with one external float initializer "ext_weight" of `count` elements (dims
 * [count]), added to input x. */
static tu_model *ext_model(const char *location, const char *offset, const char *length,
                           int64_t count)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[1] = {count};
    Onnx__TensorProto *t = tu_tensor_new(m, "ext_weight", DT(FLOAT), 1, d);
    tu_tensor_set_external(m, t, location, offset, length);
    tu_add_initializer(m, g, t);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d, NULL);
    tu_add_node(m, g, "Add", "add", "x,ext_weight", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d, NULL);
    return m;
}

/* Writes ext_model(...) to e->model_path and parses the file. */
static o2p_status ext_parse(ext_env *e, const char *location, const char *offset,
                            const char *length, int64_t count, o2p_network **net)
{
    tu_model *m = ext_model(location, offset, length, count);
    ck_assert_int_eq(tu_model_write(m, e->model_path), 0);
    tu_model_free(m);
    return tu_parse_file(e->model_path, net, NULL);
}

static void ext_expect_ok(ext_env *e, const char *location, const char *offset, const char *length,
                          const float *want, int64_t count)
{
    o2p_network *net;
    o2p_status s = ext_parse(e, location, offset, length, count, &net);
    ck_assert_msg(s == O2P_OK, "location '%s' offset '%s' length '%s': %s (%s)", location,
                  offset ? offset : "-", length ? length : "-", o2p_status_name(s),
                  o2p_last_error());
    assert_data(o2p_graph_find_tensor(o2p_network_get_graph(net), "ext_weight"), want,
                (size_t)count * 4);
    tu_parsed_free(net, NULL);
}

static void ext_expect(ext_env *e, const char *location, const char *offset, const char *length,
                       int64_t count, o2p_status want)
{
    o2p_network *net;
    o2p_status s = ext_parse(e, location, offset, length, count, &net);
    ck_assert_msg(s == want, "location '%s' offset '%s' length '%s': got %s (%s), expected %s",
                  location ? location : "-", offset ? offset : "-", length ? length : "-",
                  o2p_status_name(s), o2p_last_error(), o2p_status_name(want));
    ck_assert_msg(tu_contains(o2p_last_error(), "ext_weight"),
                  "the message does not name the tensor: %s", o2p_last_error());
    ck_assert_msg(tu_contains(o2p_last_error(), "model.onnx"),
                  "the message does not name the model file: %s", o2p_last_error());
    if (want == O2P_ERR_SECURITY && location)
        ck_assert_msg(tu_contains(o2p_last_error(), location),
                      "the message does not name the location '%s': %s", location,
                      o2p_last_error());
    tu_parsed_free(net, NULL);
}

START_TEST(test_external_whole_file)
{
    ext_env e;
    ext_setup(&e);
    float v[4];
    float_ramp(v, 4, 1.0f);
    write_at(e.dir, "weights.bin", v, sizeof v);
    ext_expect_ok(&e, "weights.bin", NULL, NULL, v, 4);
    ext_expect_ok(&e, "weights.bin", "0", NULL, v, 4);
    ext_expect_ok(&e, "weights.bin", "0", "16", v, 4);
    ext_expect_ok(&e, "weights.bin", NULL, "16", v, 4);
    ext_expect_ok(&e, "./weights.bin", NULL, NULL, v, 4);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_offset_and_subfolder)
{
    ext_env e;
    ext_setup(&e);
    float big[2048 + 64];
    float_ramp(big, sizeof big / sizeof big[0], -3.0f);
    write_at(e.dir, "weights.bin", big, sizeof big);
    ext_expect_ok(&e, "weights.bin", "4096", "64", big + 1024, 16);
    ext_expect_ok(&e, "weights.bin", "8192", "256", big + 2048, 64); /* up to the end */
    ext_expect_ok(&e, "weights.bin", "4", "8", big + 1, 2);          /* unaligned */

    char *sub = tu_printf("%s/data", e.dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    char *deeper = tu_printf("%s/data/deeper", e.dir);
    ck_assert_int_eq(mkdir(deeper, 0700), 0);
    write_at(e.dir, "data/w.bin", big, 64);
    write_at(e.dir, "data/deeper/w.bin", big + 16, 64);
    ext_expect_ok(&e, "data/w.bin", NULL, NULL, big, 16);
    ext_expect_ok(&e, "data/deeper/w.bin", "0", "64", big + 16, 16);
    ext_expect_ok(&e, "data/./w.bin", NULL, NULL, big, 16);
    /* names that merely start with dots are fine */
    write_at(e.dir, "..weights", big, 64);
    write_at(e.dir, "a..b", big, 64);
    ext_expect_ok(&e, "..weights", NULL, NULL, big, 16);
    ext_expect_ok(&e, "a..b", NULL, NULL, big, 16);
    free(sub);
    free(deeper);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_two_tensors_one_file)
{
    ext_env e;
    ext_setup(&e);
    float v[12];
    float_ramp(v, 12, 0.0f);
    write_at(e.dir, "shared.bin", v, sizeof v);
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d4[1] = {4}, d8[1] = {8};
    Onnx__TensorProto *a = tu_tensor_new(m, "first", DT(FLOAT), 1, d4);
    tu_tensor_set_external(m, a, "shared.bin", "0", "16");
    tu_add_initializer(m, g, a);
    Onnx__TensorProto *b = tu_tensor_new(m, "second", DT(FLOAT), 1, d8);
    tu_tensor_set_external(m, b, "shared.bin", "16", "32");
    tu_add_initializer(m, g, b);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d4, NULL);
    tu_add_node(m, g, "Add", "add", "x,first", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d4, NULL);
    ck_assert_int_eq(tu_model_write(m, e.model_path), 0);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_file(e.model_path, &net, NULL), O2P_OK);
    assert_data(o2p_graph_find_tensor(o2p_network_get_graph(net), "first"), v, 16);
    assert_data(o2p_graph_find_tensor(o2p_network_get_graph(net), "second"), v + 4, 32);
    tu_parsed_free(net, NULL);

    /* the same model from bytes, with base_dir */
    size_t size;
    uint8_t *bytes = tu_model_pack(m, &size);
    TU_ASSERT_STATUS(tu_parse_bytes(bytes, size, e.dir, "mem.onnx", &net, NULL), O2P_OK);
    assert_data(o2p_graph_find_tensor(o2p_network_get_graph(net), "second"), v + 4, 32);
    tu_parsed_free(net, NULL);

    /* ... and without: refused, naming the tensor */
    TU_ASSERT_FAILS(tu_parse_bytes(bytes, size, NULL, "mem.onnx", &net, NULL));
    ck_assert_ptr_null(net);
    TU_ASSERT_ERROR_HAS("first");
    TU_ASSERT_ERROR_HAS("mem.onnx");
    free(bytes);
    tu_model_free(m);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_in_subgraph_and_attribute)
{
    /* External data is read wherever a tensor is: an initializer of an If body. */
    ext_env e;
    ext_setup(&e);
    float v[2] = {4.0f, 5.0f};
    write_at(e.dir, "body.bin", v, sizeof v);
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d2[1] = {2};
    tu_add_input(m, g, "cond", DT(BOOL), 0, NULL, NULL);
    tu_add_input(m, g, "x", DT(FLOAT), 1, d2, NULL);
    Onnx__NodeProto *n = tu_add_node(m, g, "If", "the_if", "cond", "y");
    Onnx__GraphProto *tg = tu_graph_new(m, "then_g");
    Onnx__TensorProto *t = tu_tensor_new(m, "body_weight", DT(FLOAT), 1, d2);
    tu_tensor_set_external(m, t, "body.bin", NULL, NULL);
    tu_add_initializer(m, tg, t);
    tu_add_node(m, tg, "Add", "t_add", "x,body_weight", "t_out");
    tu_add_output(m, tg, "t_out", DT(FLOAT), 1, d2, NULL);
    Onnx__GraphProto *eg = tu_graph_new(m, "else_g");
    tu_add_node(m, eg, "Identity", "e_id", "x", "e_out");
    tu_add_output(m, eg, "e_out", DT(FLOAT), 1, d2, NULL);
    tu_attr_graph(m, n, "then_branch", tg);
    tu_attr_graph(m, n, "else_branch", eg);
    tu_add_output(m, g, "y", DT(FLOAT), 1, d2, NULL);
    ck_assert_int_eq(tu_model_write(m, e.model_path), 0);
    o2p_network *net;
    TU_ASSERT_STATUS(tu_parse_file(e.model_path, &net, NULL), O2P_OK);
    o2p_layer *l = o2p_graph_get_layer(o2p_network_get_graph(net), 0);
    o2p_graph *body = o2p_layer_attr_graph(l, o2p_layer_find_attr(l, "then_branch"), 0);
    assert_data(o2p_graph_find_tensor(body, "body_weight"), v, sizeof v);
    tu_parsed_free(net, NULL);
    tu_model_free(m);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_absolute_path_refused)
{
    ext_env e;
    ext_setup(&e);
    float v[4] = {1, 2, 3, 4};
    write_at(e.dir, "weights.bin", v, sizeof v);
    /* a valid file, named by its absolute path: refused for the form alone */
    char *abs = tu_printf("%s/weights.bin", e.dir);
    ext_expect(&e, abs, NULL, NULL, 4, O2P_ERR_SECURITY);
    ext_expect(&e, "/etc/passwd", "0", "16", 4, O2P_ERR_SECURITY);
    ext_expect(&e, "//weights.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    free(abs);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_dotdot_refused)
{
    ext_env e;
    ext_setup(&e);
    float v[4] = {1, 2, 3, 4};
    write_at(e.root, "outside.bin", v, sizeof v);
    write_at(e.dir, "weights.bin", v, sizeof v);
    char *sub = tu_printf("%s/a", e.dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    write_at(e.dir, "a/w.bin", v, sizeof v);
    ext_expect(&e, "../outside.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    ext_expect(&e, "a/../../outside.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    ext_expect(&e, "a/../weights.bin", NULL, NULL, 4, O2P_ERR_SECURITY); /* stays inside */
    ext_expect(&e, "./../outside.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    ext_expect(&e, "a/..", NULL, NULL, 4, O2P_ERR_SECURITY);
    ext_expect(&e, "..", NULL, NULL, 4, O2P_ERR_SECURITY);
    ext_expect(&e, "a//../weights.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    ext_expect(&e, "../model/weights.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    free(sub);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_symlink_in_parent_refused)
{
    ext_env e;
    ext_setup(&e);
    float v[4] = {1, 2, 3, 4};
    char *outside = tu_printf("%s/outside_dir", e.root);
    ck_assert_int_eq(mkdir(outside, 0700), 0);
    write_at(outside, "w.bin", v, sizeof v);
    char *link = tu_printf("%s/link", e.dir);
    ck_assert_int_eq(symlink(outside, link), 0);
    ext_expect(&e, "link/w.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    /* a relative link that climbs out */
    char *link2 = tu_printf("%s/link2", e.dir);
    ck_assert_int_eq(symlink("../outside_dir", link2), 0);
    ext_expect(&e, "link2/w.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    /* a link to the root folder, then a path that looks inside */
    char *link3 = tu_printf("%s/up", e.dir);
    ck_assert_int_eq(symlink("..", link3), 0);
    ext_expect(&e, "up/outside_dir/w.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    free(outside);
    free(link);
    free(link2);
    free(link3);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_symlink_file_refused)
{
    ext_env e;
    ext_setup(&e);
    float v[4] = {1, 2, 3, 4};
    write_at(e.dir, "real.bin", v, sizeof v);
    write_at(e.root, "outside.bin", v, sizeof v);
    /* a link to a file inside the folder: refused all the same */
    char *l1 = tu_printf("%s/inner_link.bin", e.dir);
    ck_assert_int_eq(symlink("real.bin", l1), 0);
    ext_expect(&e, "inner_link.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    char *target = tu_printf("%s/outside.bin", e.root);
    char *l2 = tu_printf("%s/outer_link.bin", e.dir);
    ck_assert_int_eq(symlink(target, l2), 0);
    ext_expect(&e, "outer_link.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    /* a dangling link */
    char *l3 = tu_printf("%s/dangling.bin", e.dir);
    ck_assert_int_eq(symlink("nothing_here.bin", l3), 0);
    o2p_network *net;
    TU_ASSERT_FAILS(ext_parse(&e, "dangling.bin", NULL, NULL, 4, &net));
    TU_ASSERT_ERROR_HAS("ext_weight");
    free(l1);
    free(l2);
    free(l3);
    free(target);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_hard_link_refused)
{
    ext_env e;
    ext_setup(&e);
    float v[4] = {1, 2, 3, 4};
    write_at(e.root, "secret.bin", v, sizeof v);
    char *src = tu_printf("%s/secret.bin", e.root);
    char *dst = tu_printf("%s/weights.bin", e.dir);
    if (link(src, dst) != 0) {
        /* hard links not possible here (odd file system): nothing to test */
        free(src);
        free(dst);
        ext_teardown(&e);
        return;
    }
    ext_expect(&e, "weights.bin", NULL, NULL, 4, O2P_ERR_SECURITY);
    /* once the other link is gone, the same file is fine */
    ck_assert_int_eq(unlink(src), 0);
    ext_expect_ok(&e, "weights.bin", NULL, NULL, v, 4);
    free(src);
    free(dst);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_range_outside_file)
{
    ext_env e;
    ext_setup(&e);
    float v[4] = {1, 2, 3, 4};
    write_at(e.dir, "weights.bin", v, sizeof v);
    write_at(e.dir, "short.bin", v, 12);
    ext_expect(&e, "weights.bin", "8", NULL, 4, O2P_ERR_PARSE);   /* runs 8 bytes past */
    ext_expect(&e, "weights.bin", "16", "16", 4, O2P_ERR_PARSE);  /* starts at the end */
    ext_expect(&e, "weights.bin", "100", "16", 4, O2P_ERR_PARSE); /* starts past the end */
    ext_expect(&e, "weights.bin", "1", "16", 4, O2P_ERR_PARSE);
    ext_expect(&e, "short.bin", NULL, NULL, 4, O2P_ERR_PARSE); /* file too short */
    ext_expect(&e, "short.bin", "0", "16", 4, O2P_ERR_PARSE);
    /* offset + length overflowing 64 bits */
    ext_expect(&e, "weights.bin", "18446744073709551600", "16", 4, O2P_ERR_PARSE);
    ext_expect(&e, "weights.bin", "9223372036854775807", "16", 4, O2P_ERR_PARSE);
    ext_expect(&e, "weights.bin", "9223372036854775800", "16", 4, O2P_ERR_PARSE);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_bad_numbers)
{
    ext_env e;
    ext_setup(&e);
    float v[4] = {1, 2, 3, 4};
    write_at(e.dir, "weights.bin", v, sizeof v);
    const char *bad[] = {"-4",
                         "-0",
                         "abc",
                         "12abc",
                         "",
                         "0x10",
                         " 4",
                         "4 ",
                         "+4",
                         "1e3",
                         "99999999999999999999999",
                         "18446744073709551616",
                         "3.0",
                         "\t0"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ext_expect(&e, "weights.bin", bad[k], "16", 4, O2P_ERR_PARSE);
        ext_expect(&e, "weights.bin", "0", bad[k], 4, O2P_ERR_PARSE);
    }
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_length_mismatch)
{
    ext_env e;
    ext_setup(&e);
    float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    write_at(e.dir, "weights.bin", v, sizeof v);
    ext_expect(&e, "weights.bin", "0", "12", 4, O2P_ERR_PARSE);
    ext_expect(&e, "weights.bin", "0", "20", 4, O2P_ERR_PARSE);
    ext_expect(&e, "weights.bin", "0", "0", 4, O2P_ERR_PARSE);
    ext_expect(&e, "weights.bin", "0", "32", 4, O2P_ERR_PARSE);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_missing_pieces)
{
    ext_env e;
    ext_setup(&e);
    float v[4] = {1, 2, 3, 4};
    write_at(e.dir, "weights.bin", v, sizeof v);
    o2p_network *net;
    /* no location entry */
    TU_ASSERT_STATUS(ext_parse(&e, NULL, "0", "16", 4, &net), O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("ext_weight");
    /* empty location */
    TU_ASSERT_FAILS(ext_parse(&e, "", NULL, NULL, 4, &net));
    TU_ASSERT_ERROR_HAS("ext_weight");
    /* a file that is not there */
    TU_ASSERT_FAILS(ext_parse(&e, "nope.bin", NULL, NULL, 4, &net));
    TU_ASSERT_ERROR_HAS("ext_weight");
    TU_ASSERT_ERROR_HAS("nope.bin");
    /* a folder */
    char *sub = tu_printf("%s/folder", e.dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    TU_ASSERT_FAILS(ext_parse(&e, "folder", NULL, NULL, 4, &net));
    TU_ASSERT_ERROR_HAS("ext_weight");
    /* the model's folder itself */
    TU_ASSERT_FAILS(ext_parse(&e, ".", NULL, NULL, 4, &net));
    TU_ASSERT_ERROR_HAS("ext_weight");
    /* external data and raw_data at once */
    tu_model *m = ext_model("weights.bin", NULL, NULL, 4);
    Onnx__TensorProto *t = tu_main_graph(m)->initializer[0];
    tu_tensor_set_raw(m, t, v, sizeof v);
    ck_assert_int_eq(tu_model_write(m, e.model_path), 0);
    TU_ASSERT_FAILS(tu_parse_file(e.model_path, &net, NULL));
    TU_ASSERT_ERROR_HAS("ext_weight");
    tu_model_free(m);
    free(sub);
    ext_teardown(&e);
}
END_TEST

static int parse_fifo_weights(void *arg)
{
    ext_env *e = arg;
    o2p_network *net;
    o2p_status s = ext_parse(e, "pipe.bin", NULL, NULL, 4, &net);
    tu_parsed_free(net, NULL);
    return s != O2P_OK && tu_contains(o2p_last_error(), "ext_weight") ? 0 : 1;
}

START_TEST(test_external_fifo_does_not_block)
{
    /* A named pipe as the data file: refused, without a read that waits for a writer. */
    ext_env e;
    ext_setup(&e);
    char *fifo = tu_printf("%s/pipe.bin", e.dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    int rc = tu_run_with_timeout(parse_fifo_weights, &e, 5.0);
    free(fifo);
    ext_teardown(&e);
    ck_assert_msg(rc != -1, "parsing blocked for 5 s on external data that is a named pipe");
    ck_assert_msg(rc == 0,
                  "external data in a named pipe was not refused naming the tensor "
                  "(child rc %d)",
                  rc);
}
END_TEST

START_TEST(test_external_huge_claim_is_not_allocated)
{
    ext_env e;
    ext_setup(&e);
    struct rlimit saved;
    limit_address_space(&saved);
    float v[4] = {1, 2, 3, 4};
    write_at(e.dir, "weights.bin", v, sizeof v);
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    const int64_t d[2] = {(int64_t)1 << 20, (int64_t)1 << 20}; /* 4 TiB of float */
    Onnx__TensorProto *t = tu_tensor_new(m, "ext_weight", DT(FLOAT), 2, d);
    tu_tensor_set_external(m, t, "weights.bin", "0", "4398046511104");
    tu_add_initializer(m, g, t);
    const int64_t d1[1] = {1};
    tu_add_input(m, g, "x", DT(FLOAT), 1, d1, NULL);
    tu_add_node(m, g, "Relu", "r", "x", "y");
    tu_add_output(m, g, "y", DT(FLOAT), 1, d1, NULL);
    ck_assert_int_eq(tu_model_write(m, e.model_path), 0);
    o2p_network *net;
    o2p_status s = tu_parse_file(e.model_path, &net, NULL);
    ck_assert_msg(s == O2P_ERR_PARSE || s == O2P_ERR_LIMIT,
                  "got %s (%s), expected PARSE (range outside the file) without allocating 4 TiB",
                  o2p_status_name(s), o2p_last_error());
    TU_ASSERT_ERROR_HAS("ext_weight");
    tu_model_free(m);
    restore_address_space(&saved);
    ext_teardown(&e);
}
END_TEST

START_TEST(test_external_long_location)
{
    ext_env e;
    ext_setup(&e);
    char loc[5000];
    memset(loc, 'a', sizeof loc - 1);
    loc[sizeof loc - 1] = '\0';
    o2p_network *net;
    TU_ASSERT_FAILS(ext_parse(&e, loc, NULL, NULL, 4, &net));
    TU_ASSERT_ERROR_HAS("ext_weight");
    ext_teardown(&e);
}
END_TEST

/* ================================================================ suite */

int main(void)
{
    Suite *s = suite_create("parser");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_model_info);
    tcase_add_test(tc, test_model_ai_onnx_domain_spelling);
    tcase_add_test(tc, test_model_without_opset_import);
    tcase_add_test(tc, test_model_without_graph);
    tcase_add_test(tc, test_inputs_and_outputs);
    tcase_add_test(tc, test_parse_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("tensors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_initializers_raw_every_dtype);
    tcase_add_test(tc, test_initializers_typed_fields);
    tcase_add_test(tc, test_initializer_scalar_and_empty);
    tcase_add_test(tc, test_initializer_string_refused);
    tcase_add_test(tc, test_initializer_raw_size_mismatch);
    tcase_add_test(tc, test_initializer_typed_count_mismatch);
    tcase_add_test(tc, test_initializer_unknown_dtype);
    tcase_add_test(tc, test_constant_nodes);
    tcase_add_test(tc, test_constant_string_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("attributes");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_attributes_every_kind);
    tcase_add_test(tc, test_attributes_without_type_field);
    tcase_add_test(tc, test_attributes_rare_kinds);
    tcase_add_test(tc, test_if_subgraphs);
    tcase_add_test(tc, test_loop_and_scan_bodies);
    tcase_add_test(tc, test_unsupported_ops_listed);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_error_missing_file);
    tcase_add_test(tc, test_error_names_file_and_node);
    tcase_add_test(tc, test_error_in_subgraph_names_node);
    tcase_add_test(tc, test_error_duplicate_tensor_names);
    tcase_add_test(tc, test_error_node_without_op_type);
    tcase_add_test(tc, test_error_graph_output_not_produced);
    tcase_add_test(tc, test_error_input_unknown_elem_type);
    tcase_add_test(tc, test_error_graph_attribute_without_graph);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_limit_rank);
    tcase_add_test(tc, test_limit_negative_dims);
    tcase_add_test(tc, test_limit_element_count_overflow);
    tcase_add_test(tc, test_limit_huge_claim_is_not_allocated);
    tcase_add_test(tc, test_limit_nesting_64_accepted);
    tcase_add_test(tc, test_limit_nesting_65_refused);
    tcase_add_test(tc, test_limit_nesting_loop_and_graphs);
    tcase_add_test(tc, test_limit_nesting_wide_is_fine);
    tcase_add_test(tc, test_limit_deep_nesting_is_quick);
    suite_add_tcase(s, tc);

    tc = tcase_create("external");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_external_whole_file);
    tcase_add_test(tc, test_external_offset_and_subfolder);
    tcase_add_test(tc, test_external_two_tensors_one_file);
    tcase_add_test(tc, test_external_in_subgraph_and_attribute);
    tcase_add_test(tc, test_external_absolute_path_refused);
    tcase_add_test(tc, test_external_dotdot_refused);
    tcase_add_test(tc, test_external_symlink_in_parent_refused);
    tcase_add_test(tc, test_external_symlink_file_refused);
    tcase_add_test(tc, test_external_hard_link_refused);
    tcase_add_test(tc, test_external_range_outside_file);
    tcase_add_test(tc, test_external_bad_numbers);
    tcase_add_test(tc, test_external_length_mismatch);
    tcase_add_test(tc, test_external_missing_pieces);
    tcase_add_test(tc, test_external_fifo_does_not_block);
    tcase_add_test(tc, test_external_huge_claim_is_not_allocated);
    tcase_add_test(tc, test_external_long_location);
    suite_add_tcase(s, tc);

    return tu_run_suite(s);
}
