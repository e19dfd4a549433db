/* test_ddshape.c: data-dependent output shapes end to end on the host target, and the cuda
 * build offline: NonZero's output is allocated at its bound, the public API says -1 for the
 * data-dependent dim and the bound as its max, and the context reports the actual shape
 * after a run; a data-dependent tensor read by another layer is refused at build naming the
 * layers; the cuda build gives the output a shape tensor its launch writes (tables only, no
 * GPU); the host executor refuses dims a kernel reports over the bound; the CLI runs such a
 * plan and saves the output with its actual shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/builder.h"
#include "common/npy.h"
#include "lean/lean.h"
#include "lean/lean_abi.h"
#include "plan/engine_format.h"
#include "plan/engine_writer.h"
#include "plan/plan.h"
#include "testutil.h"

/* x float [2,3] -> NonZero -> y; with `reader`, y -> Transpose -> z as well. */
static tu_model *nonzero_model(int reader)
{
    tu_model *m = tu_model_new(13);
    Onnx__GraphProto *g = tu_main_graph(m);
    tu_add_input(m, g, "x", O2P_DTYPE_FLOAT, 2, (const int64_t[]){2, 3}, NULL);
    tu_add_node(m, g, "NonZero", "nz", "x", "y");
    tu_add_output(m, g, "y", O2P_DTYPE_INT64, -1, NULL, NULL);
    if (reader) {
        tu_add_node(m, g, "Transpose", "after", "y", "z");
        tu_add_output(m, g, "z", O2P_DTYPE_INT64, -1, NULL, NULL);
    }
    return m;
}

static o2p_status build(tu_model *m, o2p_target target, void **plan, size_t *size)
{
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    o2p_builder *b = NULL;
    o2p_builder_config *c = NULL;
    ck_assert_int_eq(tu_parse_model(m, &net, &parser), O2P_OK);
    ck_assert_int_eq(o2p_builder_create(&b), O2P_OK);
    ck_assert_int_eq(o2p_builder_config_create(&c), O2P_OK);
    int caps[1] = {90};
    ck_assert_int_eq(o2p_builder_config_set_target(c, target, target == O2P_TARGET_CUDA ? caps
                                                                                         : NULL,
                                                   target == O2P_TARGET_CUDA ? 1 : 0),
                     O2P_OK);
    if (target == O2P_TARGET_CUDA)
        ck_assert_int_eq(o2p_builder_config_set_kernel_cache(c, tu_kernel_cache()), O2P_OK);
    o2p_status st = o2p_builder_build_serialized(b, net, c, plan, size);
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
    tu_parsed_free(net, parser);
    return st;
}

/* The public API on a host plan: -1 and the bound, then the actual shape of each run. */
START_TEST(test_api_host)
{
    tu_model *m = nonzero_model(0);
    void *plan = NULL;
    size_t size = 0;
    ck_assert_msg(build(m, O2P_TARGET_HOST, &plan, &size) == O2P_OK, "%s", o2p_last_error());
    tu_model_free(m);
    o2p_runtime *rt = NULL;
    o2p_engine *e = NULL;
    o2p_context *ctx = NULL;
    ck_assert_int_eq(o2p_runtime_create(&rt), O2P_OK);
    ck_assert_msg(o2p_runtime_deserialize(rt, plan, size, &e) == O2P_OK, "%s", o2p_last_error());
    o2p_free(plan);
    int y = o2p_engine_find_io(e, "y"), x = o2p_engine_find_io(e, "x");
    ck_assert_int_ge(y, 0);
    ck_assert_int_eq(o2p_engine_io_rank(e, y), 2);
    ck_assert_int_eq(o2p_engine_io_dim(e, y, 0), 2);
    ck_assert_int_eq(o2p_engine_io_dim(e, y, 1), -1); /* data-dependent */
    ck_assert_int_eq(o2p_engine_io_max_dim(e, y, 0), 2);
    ck_assert_int_eq(o2p_engine_io_max_dim(e, y, 1), 6); /* at most every element */
    ck_assert_int_eq(o2p_engine_io_max_dim(e, x, 1), 3);
    ck_assert_int_eq(o2p_engine_io_max_dim(e, x, 2), -1);
    ck_assert_int_eq(o2p_engine_create_context(e, &ctx), O2P_OK);
    int rank = 0;
    int64_t dims[O2P_MAX_RANK];
    ck_assert_int_eq(o2p_context_get_tensor_shape(ctx, "y", &rank, dims), O2P_OK);
    ck_assert_int_eq(rank, 2);
    ck_assert_int_eq(dims[0], 2);
    ck_assert_int_eq(dims[1], -1); /* before any run */

    float xv[6] = {0, 1.5f, 0, -2, 0, NAN};
    int64_t yv[12];
    for (int i = 0; i < 12; i++)
        yv[i] = -7;
    ck_assert_int_eq(o2p_context_set_tensor_address(ctx, "x", xv), O2P_OK);
    ck_assert_int_eq(o2p_context_set_tensor_address(ctx, "y", yv), O2P_OK);
    ck_assert_msg(o2p_context_enqueue(ctx, NULL) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(o2p_context_get_tensor_shape(ctx, "y", &rank, dims), O2P_OK);
    ck_assert_int_eq(rank, 2);
    ck_assert_int_eq(dims[1], 3);
    /* (0,1), (1,0), (1,2) packed as [2, 3]; the rest of the bound untouched */
    const int64_t want[6] = {0, 1, 1, 1, 0, 2};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(yv[i], want[i]);
    for (int i = 6; i < 12; i++)
        ck_assert_int_eq(yv[i], -7);
    ck_assert_int_eq(o2p_context_get_tensor_shape(ctx, "x", &rank, dims), O2P_OK);
    ck_assert_int_eq(rank, 2);
    ck_assert_int_eq(dims[1], 3);

    memset(xv, 0, sizeof xv); /* -0.0 counts as zero too */
    xv[4] = -0.0f;
    ck_assert_int_eq(o2p_context_enqueue(ctx, NULL), O2P_OK);
    ck_assert_int_eq(o2p_context_get_tensor_shape(ctx, "y", &rank, dims), O2P_OK);
    ck_assert_int_eq(dims[1], 0);
    TU_ASSERT_STATUS(o2p_context_get_tensor_shape(ctx, "nope", &rank, dims),
                     O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_STATUS(o2p_context_get_tensor_shape(ctx, "y", NULL, dims),
                     O2P_ERR_INVALID_ARGUMENT);
    o2p_context_destroy(ctx);
    o2p_engine_destroy(e);
    o2p_runtime_destroy(rt);
}
END_TEST

/* A layer reading a data-dependent tensor: refused at build, naming both layers. */
START_TEST(test_build_refuses_reader)
{
    tu_model *m = nonzero_model(1);
    void *plan = NULL;
    size_t size = 0;
    TU_ASSERT_STATUS(build(m, O2P_TARGET_HOST, &plan, &size), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("layer 'nz' (NonZero)");
    TU_ASSERT_ERROR_HAS("layer 'after' (Transpose) reads it");
    TU_ASSERT_ERROR_HAS("data-dependent shapes can only be engine outputs");
    tu_model_free(m);
}
END_TEST

/* The cuda build (offline: NVRTC, no GPU): the output gets a shape tensor, which the NonZero
 * launch writes, and the plan's tables say so. */
START_TEST(test_cuda_build_tables)
{
    tu_model *m = nonzero_model(0);
    void *plan = NULL;
    size_t size = 0;
    ck_assert_msg(build(m, O2P_TARGET_CUDA, &plan, &size) == O2P_OK, "%s", o2p_last_error());
    tu_model_free(m);
    plan_view *v = malloc(sizeof *v);
    ck_assert_int_eq(plan_read(plan, size, NULL, v), O2P_OK);
    const plan_section *s = &v->sections[plan_find_section(v, PLAN_SECTION_ENGINE, 0)];
    lean_engine *e = NULL;
    ck_assert_msg(lean_engine_create_flags(s->data, (size_t)s->size, "t", NULL, NULL, NULL,
                                           LEAN_CREATE_TABLES_ONLY, &e) == O2P_OK,
                  "%s", o2p_last_error());
    int y = lean_engine_io_tensor(e, lean_engine_find_io(e, "y"));
    ck_assert_uint_eq(lean_engine_tensor_dd_mask(e, y), 2);
    int st = lean_engine_tensor_shape_tensor(e, y);
    ck_assert_int_ge(st, 0);
    ck_assert_str_eq(lean_engine_tensor_name(e, st), "y:shape");
    ck_assert_int_eq(lean_engine_tensor_dtype(e, st), O2P_DTYPE_INT64);
    ck_assert_int_eq(lean_engine_tensor_dim(e, st, 0), 2);
    ck_assert_int_eq(lean_engine_tensor_storage(e, st), ENGINE_STORAGE_ARENA);
    ck_assert_int_eq(lean_engine_tensor_dim(e, y, 1), 6);
    ck_assert_int_eq(lean_engine_num_layers(e), 1);
    ck_assert_str_eq(lean_engine_layer_tactic_kernel(e, 0), "cuda.tensor.nonzero");
    ck_assert_int_eq(lean_engine_layer_num_launches(e, 0), 1);
    const lean_launch *l = lean_engine_layer_launch(e, 0, 0);
    ck_assert_str_eq(l->function, "o2p_tensor_nonzero");
    int patches_shape = 0;
    for (int i = 0; i < l->num_patches; i++)
        patches_shape |= l->patches[i].tensor == st;
    ck_assert(patches_shape);
    lean_engine_destroy(e);
    free(v);
    o2p_free(plan);
}
END_TEST

/* A hand-made host engine whose "NonZero" kernel reports a dim over the bound. */
static o2p_status over_bound(const host_kernel_args *a)
{
    a->outputs[0]->dims[1] = a->outputs[0]->dims[1] + 1;
    return O2P_OK;
}

static host_kernel_fn over_bound_lookup(const char *op)
{
    return strcmp(op, "NonZero") == 0 ? over_bound : NULL;
}

START_TEST(test_host_executor_checks_dims)
{
    ir_tensor t[2];
    build_tensor bt[2];
    memset(t, 0, sizeof t);
    memset(bt, 0, sizeof bt);
    t[0] = (ir_tensor){.name = "x", .dtype = O2P_DTYPE_FLOAT, .shape = {1, {{4, NULL, 0}}}};
    t[1] = (ir_tensor){.name = "y", .dtype = O2P_DTYPE_INT64,
                       .shape = {2, {{1, NULL, 0}, {-1, NULL, 4}}}};
    bt[0] = (build_tensor){&t[0], "x", 1, BUILD_STORAGE_IO, 0, 16, 0, -1};
    bt[1] = (build_tensor){&t[1], "y", 2, BUILD_STORAGE_IO, 0, 32, 2, -1};
    ir_tensor *lin[1] = {&t[0]}, *lout[1] = {&t[1]};
    ir_layer l = {.name = "nz", .op_type = "NonZero", .domain = "", .num_inputs = 1,
                  .inputs = lin, .num_outputs = 1, .outputs = lout};
    int bin[1] = {0}, bout[1] = {1}, ins[1] = {0}, outs[1] = {1};
    build_layer bl = {.layer = &l, .inputs = bin, .outputs = bout};
    bl.tactic = (build_tactic){.source = "builtin", .family = "host", .kernel = "NonZero"};
    build_engine be = {.target = BUILD_TARGET_HOST, .num_tensors = 2, .tensors = bt,
                       .num_layers = 1, .layers = &bl, .num_inputs = 1, .num_outputs = 1,
                       .inputs = ins, .outputs = outs, .opset = 13};
    uint8_t *bytes = NULL;
    size_t size = 0;
    ck_assert_int_eq(plan_write_engine(&be, &bytes, &size), O2P_OK);
    lean_engine *e = NULL;
    ck_assert_msg(lean_engine_create_with_kernels(bytes, size, "h", over_bound_lookup, &e) ==
                      O2P_OK,
                  "%s", o2p_last_error());
    ck_assert_int_eq(lean_engine_tensor_shape_tensor(e, 1), -1); /* the host kernel reports */
    lean_context *ctx = NULL;
    ck_assert_int_eq(lean_context_create(e, &ctx), O2P_OK);
    float xv[4] = {0};
    int64_t yv[4];
    ck_assert_int_eq(lean_context_set_tensor_address(ctx, "x", xv), O2P_OK);
    ck_assert_int_eq(lean_context_set_tensor_address(ctx, "y", yv), O2P_OK);
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_ERR_INTERNAL);
    TU_ASSERT_ERROR_HAS("reported the shape 1x5");
    TU_ASSERT_ERROR_HAS("layer 0 'nz'");
    lean_context_destroy(ctx);
    lean_engine_destroy(e);
    /* the host target has no shape tensors */
    bt[1].shape_tensor = 0;
    free(bytes);
    ck_assert_int_eq(plan_write_engine(&be, &bytes, &size), O2P_OK);
    TU_ASSERT_STATUS(lean_engine_create_flags(bytes, size, "h", NULL, NULL, NULL,
                                              LEAN_CREATE_TABLES_ONLY, &e),
                     O2P_ERR_PARSE);
    TU_ASSERT_ERROR_HAS("on the host target");
    free(bytes);
}
END_TEST

/* The CLI: inspect shows the bound, run saves the output with its actual shape. */
START_TEST(test_cli_run)
{
    char *dir = tu_tempdir();
    char *model = tu_printf("%s/nz.onnx", dir), *plan = tu_printf("%s/nz.plan", dir);
    char *in = tu_printf("%s/x.npy", dir), *out = tu_printf("%s/out.npz", dir);
    tu_model *m = nonzero_model(0);
    ck_assert_int_eq(tu_model_write(m, model), 0);
    tu_model_free(m);
    float xv[6] = {1, 0, 0, 0, 2, 0};
    npy_array a;
    ck_assert_int_eq(npy_array_init(&a, O2P_DTYPE_FLOAT, 2, (const int64_t[]){2, 3}, xv), O2P_OK);
    ck_assert_int_eq(npy_write_npy_file(in, &a), O2P_OK);
    char *args = tu_printf("build %s --target host -o %s", model, plan), *o = NULL, *err = NULL;
    ck_assert_msg(tu_run_cli(args, &o, &err) == 0, "%s", err);
    free(args), free(o), free(err);
    args = tu_printf("inspect %s", plan);
    ck_assert_msg(tu_run_cli(args, &o, &err) == 0, "%s", err);
    ck_assert_msg(tu_contains(o, "2x?<=6"), "%s", o);
    free(args), free(o), free(err);
    args = tu_printf("run %s --input x=%s --iterations 1 --warmup 0 --save-outputs %s", plan,
                     in, out);
    ck_assert_msg(tu_run_cli(args, &o, &err) == 0, "%s", err);
    ck_assert_msg(tu_contains(o, "2x2"), "%s", o); /* two non-zeros */
    free(args), free(o), free(err);
    npy_npz npz = {0};
    ck_assert_int_eq(npy_read_npz_file(out, &npz), O2P_OK);
    const npy_array *y = npy_npz_find(&npz, "y");
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(y->rank, 2);
    ck_assert_int_eq(y->dims[0], 2);
    ck_assert_int_eq(y->dims[1], 2);
    const int64_t want[4] = {0, 1, 0, 1}; /* (0,0), (1,1) */
    ck_assert(memcmp(y->data, want, sizeof want) == 0);
    npy_npz_free(&npz);
    tu_rmtree(dir);
    free(dir), free(model), free(plan), free(in), free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ddshape");
    TCase *tc = tcase_create("ddshape");
    tcase_set_timeout(tc, 300); /* the cuda build compiles the tensor family once per cache */
    tcase_add_test(tc, test_api_host);
    tcase_add_test(tc, test_build_refuses_reader);
    tcase_add_test(tc, test_cuda_build_tables);
    tcase_add_test(tc, test_host_executor_checks_dims);
    tcase_add_test(tc, test_cli_run);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
