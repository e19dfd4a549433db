/* test_plans.c: plans through the public API: byte-identical rebuilds, memory reused by
 * liveness, outputs equal to the host reference (constant folding of the same network),
 * every truncation and single-byte change refused, a plan from another version refused with
 * both versions named, and the build's clear refusals. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "passes/passes.h"
#include "plan/plan.h"
#include "testutil.h"

#define MODEL O2P_SOURCE_DIR "/models/tiny_cnn.onnx"

static o2p_network *parse_model(const char *shape_spec_input, int batch)
{
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    ck_assert_int_eq(tu_parse_file(MODEL, &net, &parser), O2P_OK);
    o2p_parser_destroy(parser);
    if (shape_spec_input) {
        int64_t dims[4] = {batch, 3, 32, 32};
        o2p_tensor *in = o2p_graph_find_tensor(o2p_network_get_graph(net), shape_spec_input);
        ck_assert_ptr_nonnull(in);
        ck_assert_int_eq(o2p_tensor_set_shape(in, 4, dims), O2P_OK);
    }
    return net;
}

static void build_plan(int batch, void **plan, size_t *size)
{
    o2p_network *net = parse_model("input", batch);
    o2p_builder *b;
    o2p_builder_config *c;
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    o2p_status st = o2p_builder_build_serialized(b, net, c, plan, size);
    ck_assert_msg(st == O2P_OK, "%s", o2p_last_error());
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
    o2p_network_destroy(net);
}

/* Deterministic input values. */
static void fill_input(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)sin((double)i * 0.37) * 0.8f;
}

/* Runs a plan on fill_input's values; returns malloc'ed outputs (10 * batch floats). */
static o2p_status run_plan(const void *plan, size_t size, int batch, float **out)
{
    o2p_runtime *rt;
    o2p_engine *engine = NULL;
    o2p_context *ctx = NULL;
    *out = NULL;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    o2p_status st = o2p_runtime_deserialize(rt, plan, size, &engine);
    if (st == O2P_OK)
        st = o2p_engine_create_context(engine, &ctx);
    size_t nin = (size_t)batch * 3 * 32 * 32;
    float *x = malloc(nin * sizeof *x);
    float *y = calloc((size_t)batch * 10, sizeof *y);
    fill_input(x, nin);
    if (st == O2P_OK)
        st = o2p_context_set_tensor_address(ctx, "input", x);
    if (st == O2P_OK)
        st = o2p_context_set_tensor_address(ctx, "output", y);
    if (st == O2P_OK)
        st = o2p_context_enqueue(ctx, NULL);
    free(x);
    if (st == O2P_OK)
        *out = y;
    else
        free(y);
    o2p_context_destroy(ctx);
    o2p_engine_destroy(engine);
    o2p_runtime_destroy(rt);
    return st;
}

START_TEST(test_rebuild_is_byte_identical)
{
    void *a, *b;
    size_t na, nb;
    build_plan(2, &a, &na);
    build_plan(2, &b, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(a, b, na) == 0, "two builds of the same model differ");
    o2p_free(a);
    o2p_free(b);
}
END_TEST

START_TEST(test_outputs_equal_host_reference_and_memory_is_reused)
{
    const int batch = 2;
    void *plan;
    size_t size;
    build_plan(batch, &plan, &size);
    float *got;
    ck_assert_msg(run_plan(plan, size, batch, &got) == O2P_OK, "%s", o2p_last_error());

    /* The reference: the same network with its input a constant, folded to the end. */
    o2p_network *net = parse_model("input", batch);
    ir_tensor *in = o2p_graph_find_tensor(net->main, "input");
    size_t nin = (size_t)batch * 3 * 32 * 32;
    float *x = ir_network_alloc_data(net, nin * sizeof(float));
    fill_input(x, nin);
    ir_shape s = in->shape;
    ck_assert_int_eq(ir_tensor_make_constant(in, O2P_DTYPE_FLOAT, &s, x, nin * sizeof(float)),
                     O2P_OK);
    ck_assert_int_eq(ir_infer_network(net), O2P_OK);
    ck_assert_int_eq(pass_fold_constants(net, SIZE_MAX, NULL), O2P_OK);
    const ir_tensor *ref = net->main->outputs.items[0];
    ck_assert_msg(ir_tensor_is_const(ref), "the reference did not fold to a constant");
    const float *want = ref->data;
    for (int i = 0; i < batch * 10; i++)
        ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-6f + 1e-5f * fabsf(want[i]),
                      "output %d: plan %.9g, reference %.9g", i, got[i], want[i]);
    free(got);
    o2p_network_destroy(net);

    /* Activations: conv1, bn1, relu1 (8x32x32), pool1 (8x16x16), conv2, relu2 (16x16x16),
     * gap, flat, logits. The arena holds at most two 8x32x32 maps at a time. */
    o2p_runtime *rt;
    o2p_engine *engine;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    ck_assert_int_eq(o2p_runtime_deserialize(rt, plan, size, &engine), O2P_OK);
    uint64_t map = (uint64_t)batch * 8 * 32 * 32 * 4;
    uint64_t sum = 3 * map + map / 4 + 2 * (map / 2);
    uint64_t arena = o2p_engine_device_memory_size(engine);
    ck_assert_msg(arena <= 2 * map + 4096 && arena < sum,
                  "arena %llu bytes: no reuse (all activations: %llu)",
                  (unsigned long long)arena, (unsigned long long)sum);
    ck_assert_int_eq(o2p_engine_num_io_tensors(engine), 2);
    ck_assert_str_eq(o2p_engine_io_name(engine, 0), "input");
    ck_assert(o2p_engine_io_is_input(engine, 0));
    ck_assert_int_eq(o2p_engine_io_dim(engine, 1, 1), 10);
    o2p_engine_destroy(engine);
    o2p_runtime_destroy(rt);
    o2p_free(plan);
}
END_TEST

START_TEST(test_every_truncation_and_byte_change_is_refused)
{
    void *plan;
    size_t size;
    build_plan(1, &plan, &size);
    float *good;
    ck_assert_int_eq(run_plan(plan, size, 1, &good), O2P_OK);
    tu_quiet_log();
    o2p_runtime *rt;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    for (size_t n = 0; n < size; n++) {
        o2p_engine *e = NULL;
        ck_assert_msg(o2p_runtime_deserialize(rt, plan, n, &e) != O2P_OK,
                      "a plan cut to %zu of %zu bytes was accepted", n, size);
        ck_assert_msg(o2p_last_error()[0] != '\0', "no message for a cut at %zu", n);
    }
    unsigned char *copy = malloc(size);
    int accepted = 0;
    for (size_t i = 0; i < size; i++) {
        memcpy(copy, plan, size);
        copy[i] ^= 0x01;
        float *out = NULL;
        if (run_plan(copy, size, 1, &out) == O2P_OK) {
            /* only possible for bytes no check covers: the outputs must be the same */
            accepted++;
            ck_assert_msg(memcmp(out, good, 10 * sizeof(float)) == 0,
                          "byte %zu changed: accepted with different outputs", i);
            free(out);
        } else {
            ck_assert_msg(o2p_last_error()[0] != '\0', "no message for byte %zu", i);
        }
    }
    ck_assert_int_eq(accepted, 0); /* every byte is under a checksum */
    free(copy);
    free(good);
    o2p_runtime_destroy(rt);
    o2p_free(plan);
}
END_TEST


/* A version-compatible plan that carries its lean runtime and a plugin library (three
 * sections): truncations around and inside every section, and byte changes at the edges and
 * across the inside of every section (plus header and table), run with host code allowed:
 * each is refused with a message, or runs with exactly the original outputs. Sampled, as
 * every byte of a 400 KB plan would take minutes. */
static o2p_status run_plan_allowed(const void *plan, size_t size, float **out)
{
    o2p_runtime *rt;
    o2p_engine *engine = NULL;
    o2p_context *ctx = NULL;
    *out = NULL;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    ck_assert_int_eq(o2p_runtime_set_engine_host_code_allowed(rt, 1), O2P_OK);
    o2p_status st = o2p_runtime_deserialize(rt, plan, size, &engine);
    if (st == O2P_OK)
        st = o2p_engine_create_context(engine, &ctx);
    float x[3 * 32 * 32];
    float *y = calloc(10, sizeof *y);
    fill_input(x, 3 * 32 * 32);
    if (st == O2P_OK)
        st = o2p_context_set_tensor_address(ctx, "input", x);
    if (st == O2P_OK)
        st = o2p_context_set_tensor_address(ctx, "output", y);
    if (st == O2P_OK)
        st = o2p_context_enqueue(ctx, NULL);
    if (st == O2P_OK)
        *out = y;
    else
        free(y);
    o2p_context_destroy(ctx);
    o2p_engine_destroy(engine);
    o2p_runtime_destroy(rt);
    return st;
}

static void check_mutant(const unsigned char *bytes, size_t size, const float *good,
                         const char *what, size_t at, int *accepted)
{
    float *out = NULL;
    if (run_plan_allowed(bytes, size, &out) == O2P_OK) {
        (*accepted)++;
        ck_assert_msg(memcmp(out, good, 10 * sizeof(float)) == 0,
                      "%s at %zu: accepted with different outputs", what, at);
        free(out);
    } else {
        ck_assert_msg(o2p_last_error()[0] != '\0', "%s at %zu: refused without a message", what,
                      at);
    }
}

START_TEST(test_every_section_of_a_plan_is_guarded)
{
    o2p_network *net = parse_model("input", 1);
    o2p_builder *b;
    o2p_builder_config *c;
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_set_flag(c, O2P_FLAG_VERSION_COMPATIBLE, 1), O2P_OK);
    char *lib = tu_printf("%s", O2P_LEAN_LIB_PATH);
    char *slash = strrchr(lib, '/');
    ck_assert_ptr_nonnull(slash);
    strcpy(slash + 1, "libo2p_plugins.so");
    const char *libs[1] = {lib};
    ck_assert_int_eq(o2p_builder_config_set_plugins_to_serialize(c, libs, 1), O2P_OK);
    void *plan;
    size_t size;
    o2p_status st = o2p_builder_build_serialized(b, net, c, &plan, &size);
    ck_assert_msg(st == O2P_OK, "%s", o2p_last_error());
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
    o2p_network_destroy(net);
    free(lib);
    float *good;
    ck_assert_int_eq(run_plan_allowed(plan, size, &good), O2P_OK);
    plan_view view;
    ck_assert_int_eq(plan_read(plan, size, "vc.plan", &view), O2P_OK);
    ck_assert_uint_ge(view.section_count, 3); /* ENGINE, LEAN_RUNTIME, PLUGIN_LIBRARY */
    tu_quiet_log();
    unsigned char *copy = malloc(size);
    int accepted = 0, tried = 0;
    /* regions: the header and table, then each section */
    size_t starts[PLAN_MAX_SECTIONS + 1], lens[PLAN_MAX_SECTIONS + 1];
    int nreg = 0;
    starts[nreg] = 0;
    lens[nreg++] = (size_t)view.section_table_offset + view.section_count * PLAN_SECTION_ENTRY_SIZE;
    for (uint32_t i = 0; i < view.section_count; i++) {
        starts[nreg] = (size_t)view.sections[i].offset;
        lens[nreg++] = (size_t)view.sections[i].size;
    }
    for (int r = 0; r < nreg; r++) {
        size_t n = lens[r];
        for (size_t k = 0; k < 64 + 64 + 192; k++) {
            size_t off = k < 64 ? k : k < 128 ? (n > 64 ? n - 128 + k : k - 64)
                                              : (k - 128) * (n / 192);
            if (off >= n)
                continue;
            size_t at = starts[r] + off;
            for (int x = 0; x < 2; x++) {
                memcpy(copy, plan, size);
                copy[at] ^= x ? 0x80 : 0x01;
                check_mutant(copy, size, good, "byte change", at, &accepted);
                tried++;
            }
            /* a cut just before this byte */
            if (k % 8 == 0) {
                check_mutant(plan, at, good, "truncation", at, &accepted);
                tried++;
            }
        }
    }
    ck_assert_int_gt(tried, 1000);
    ck_assert_int_eq(accepted, 0); /* every byte is under a checksum */
    free(copy);
    free(good);
    o2p_free(plan);
}
END_TEST

START_TEST(test_plan_of_another_version_is_refused)
{
    void *plan;
    size_t size;
    build_plan(1, &plan, &size);
    plan_view view;
    ck_assert_int_eq(plan_read(plan, size, "plan", &view), O2P_OK);
    plan_header h = view.header;
    h.producer.patch += 1; /* a plan from 1.0.1 */
    plan_section_desc sec[PLAN_MAX_SECTIONS];
    for (uint32_t i = 0; i < view.section_count; i++) {
        sec[i].type = view.sections[i].type;
        sec[i].flags = view.sections[i].flags;
        sec[i].alignment = view.sections[i].alignment;
        sec[i].data = view.sections[i].data;
        sec[i].size = (size_t)view.sections[i].size;
    }
    uint8_t *other;
    size_t other_size;
    ck_assert_int_eq(plan_write_alloc(&h, sec, view.section_count, &other, &other_size), O2P_OK);
    o2p_runtime *rt;
    o2p_engine *e = NULL;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    ck_assert_int_eq(o2p_runtime_deserialize(rt, other, other_size, &e), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS(o2p_version());
    TU_ASSERT_ERROR_HAS("rebuild");
    char v[64];
    snprintf(v, sizeof v, "%u.%u.%u.%u", h.producer.major, h.producer.minor, h.producer.patch,
             h.producer.build);
    TU_ASSERT_ERROR_HAS(v);
    o2p_runtime_destroy(rt);
    free(other);
    o2p_free(plan);
}
END_TEST

START_TEST(test_build_refusals_are_clear)
{
    o2p_builder *b;
    o2p_builder_config *c;
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    /* dynamic batch: the message says how to fix it */
    o2p_network *net = parse_model(NULL, 0);
    void *plan = NULL;
    size_t size = 0;
    ck_assert_int_eq(o2p_builder_build_serialized(b, net, c, &plan, &size), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("--shapes");
    TU_ASSERT_ERROR_HAS("input");
    o2p_network_destroy(net);
    /* what only the cuda target means is refused by name on the host target, never ignored
     * (the cuda target itself: tests/unit/test_cuda_build.c) */
    ck_assert_int_eq(o2p_builder_config_set_flag(c, O2P_FLAG_FP16, 1), O2P_OK);
    net = parse_model("input", 1);
    ck_assert_int_eq(o2p_builder_build_serialized(b, net, c, &plan, &size), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("--fp16");
    o2p_network_destroy(net);
    ck_assert_int_eq(o2p_builder_config_set_flag(c, O2P_FLAG_FP16, 0), O2P_OK);
    /* excluding the lean runtime only means something for version-compatible plans */
    ck_assert_int_eq(o2p_builder_config_set_flag(c, O2P_FLAG_EXCLUDE_LEAN_RUNTIME, 1), O2P_OK);
    net = parse_model("input", 1);
    ck_assert_int_eq(o2p_builder_build_serialized(b, net, c, &plan, &size),
                     O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("--version-compatible");
    o2p_network_destroy(net);
    ck_assert_int_eq(o2p_builder_config_set_flag(c, O2P_FLAG_EXCLUDE_LEAN_RUNTIME, 0), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_set_hardware_compatibility_level(
                         c, O2P_HW_COMPAT_AMPERE_PLUS),
                     O2P_OK);
    net = parse_model("input", 1);
    ck_assert_int_eq(o2p_builder_build_serialized(b, net, c, &plan, &size), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("--hw-compat");
    o2p_network_destroy(net);
    ck_assert_int_eq(o2p_builder_config_set_hardware_compatibility_level(c, O2P_HW_COMPAT_NONE),
                     O2P_OK);
    ck_assert_int_eq(o2p_builder_config_set_tactic_sources(c, 0x10), O2P_ERR_INVALID_ARGUMENT);
    ck_assert(o2p_builder_config_get_flag(c, O2P_FLAG_TF32));
    /* a plugin library to carry that does not exist: the build names it */
    const char *lib = "/nonexistent/libfoo.so";
    ck_assert_int_eq(o2p_builder_config_set_plugins_to_serialize(c, &lib, 1), O2P_OK);
    net = parse_model("input", 1);
    ck_assert_int_eq(o2p_builder_build_serialized(b, net, c, &plan, &size), O2P_ERR_IO);
    TU_ASSERT_ERROR_HAS(lib);
    o2p_network_destroy(net);
    ck_assert_int_eq(o2p_builder_config_set_plugins_to_serialize(c, NULL, 0), O2P_OK);
    int64_t lo[4] = {1, 3, 32, 32}, hi[4] = {8, 3, 32, 32};
    ck_assert_int_eq(o2p_builder_config_add_optimization_profile(c, "input", 4, lo, lo, hi),
                     O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("static");
    /* a static profile fixes the input's shape, and the build goes through */
    ck_assert_int_eq(o2p_builder_config_add_optimization_profile(c, "input", 4, hi, hi, hi),
                     O2P_OK);
    net = parse_model(NULL, 0);
    ck_assert_msg(o2p_builder_build_serialized(b, net, c, &plan, &size) == O2P_OK, "%s",
                  o2p_last_error());
    o2p_free(plan);
    o2p_network_destroy(net);
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plans");
    TCase *tc = tcase_create("plans");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_rebuild_is_byte_identical);
    tcase_add_test(tc, test_outputs_equal_host_reference_and_memory_is_reused);
    tcase_add_test(tc, test_every_truncation_and_byte_change_is_refused);
    tcase_add_test(tc, test_every_section_of_a_plan_is_guarded);
    tcase_add_test(tc, test_plan_of_another_version_is_refused);
    tcase_add_test(tc, test_build_refusals_are_clear);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
