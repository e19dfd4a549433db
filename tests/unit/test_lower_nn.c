/* test_lower_nn.c: the CUDA lowerings of the nn family (src/codegen/lower_nn.c) without a GPU:
 * layers built by hand go through candidates() and lower(); the launches' kernel names, grids,
 * device-address patches and parameter fields are checked against what kernels/cuda/nn.cu
 * expects, and bad shapes, types and attributes are refused with a message. */
#include <stddef.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/nn_params.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define F16 O2P_DTYPE_FLOAT16
#define I64 O2P_DTYPE_INT64
#define D(...) ((const int64_t[]){__VA_ARGS__})

/* A layer under construction: inputs are tensors 0.., outputs 10.. */
typedef struct tl {
    host_tensor in[6], out[4];
    const host_tensor *ins[6];
    host_tensor *outs[4];
    int it[6], ot[4];
    host_attr attrs[12];
    cg_layer l;
    cg_emit e;
} tl;

static void tl_init(tl *t, const char *op, int64_t opset)
{
    memset(t, 0, sizeof *t);
    t->l.args.op_type = op;
    t->l.args.layer_name = "n0";
    t->l.args.opset = opset;
    t->l.args.inputs = t->ins;
    t->l.args.outputs = t->outs;
    t->l.args.attrs = t->attrs;
    t->l.input_tensors = t->it;
    t->l.output_tensors = t->ot;
    for (int i = 0; i < 6; i++)
        t->it[i] = -1;
    for (int i = 0; i < 4; i++)
        t->ot[i] = -1;
    cg_emit_init(&t->e);
}

static host_tensor *tl_in(tl *t, int i, o2p_dtype dt, int rank, const int64_t *dims)
{
    host_tensor *x = &t->in[i];
    x->dtype = dt;
    x->rank = rank;
    memcpy(x->dims, dims, (size_t)rank * sizeof(int64_t));
    t->ins[i] = x;
    t->it[i] = i;
    if (t->l.args.num_inputs < i + 1)
        t->l.args.num_inputs = i + 1;
    return x;
}

static host_tensor *tl_out(tl *t, int i, o2p_dtype dt, int rank, const int64_t *dims)
{
    host_tensor *x = &t->out[i];
    x->dtype = dt;
    x->rank = rank;
    memcpy(x->dims, dims, (size_t)rank * sizeof(int64_t));
    t->outs[i] = x;
    t->ot[i] = 10 + i;
    if (t->l.args.num_outputs < i + 1)
        t->l.args.num_outputs = i + 1;
    return x;
}

static host_attr *tl_attr(tl *t, const char *name, o2p_attr_type type)
{
    host_attr *a = &t->attrs[t->l.args.num_attrs++];
    a->name = name;
    a->type = type;
    return a;
}

static void attr_int(tl *t, const char *name, int64_t v)
{
    tl_attr(t, name, O2P_ATTR_INT)->i = v;
}

static void attr_float(tl *t, const char *name, float v)
{
    tl_attr(t, name, O2P_ATTR_FLOAT)->f = v;
}

static void attr_str(tl *t, const char *name, const char *v)
{
    tl_attr(t, name, O2P_ATTR_STRING)->s = v;
}

static void attr_ints(tl *t, const char *name, const int64_t *v, int n)
{
    host_attr *a = tl_attr(t, name, O2P_ATTR_INTS);
    a->ints = v;
    a->count = n;
}

static const cg_op *op_of(tl *t)
{
    const cg_op *op = cg_op_find(t->l.args.op_type);
    ck_assert_msg(op != NULL, "no lowering for %s", t->l.args.op_type);
    return op;
}

/* candidates() then lower() with the first candidate: the status of lower. */
static o2p_status tl_lower(tl *t)
{
    const cg_op *op = op_of(t);
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[4];
    const char *why = NULL;
    int n = op->candidates(&t->l, &o, tac, 4, &why);
    ck_assert_msg(n == 1, "%s: %d candidates (%s)", t->l.args.op_type, n, why ? why : "");
    ck_assert(tac[0].cost > 0.0);
    return op->lower(&t->l, &tac[0], &o, &t->e);
}

static int tl_candidates(tl *t, const char **why)
{
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[4];
    *why = NULL;
    return op_of(t)->candidates(&t->l, &o, tac, 4, why);
}

static void tl_free(tl *t)
{
    cg_emit_free(&t->e);
}

/* The launch's patch at param offset off: its tensor (fails when there is none). */
static int patch_tensor(const cg_launch *k, size_t off, uint64_t *byte_offset)
{
    for (int i = 0; i < k->num_patches; i++)
        if (k->patches[i].param_offset == off) {
            if (byte_offset)
                *byte_offset = k->patches[i].byte_offset;
            return k->patches[i].tensor;
        }
    ck_abort_msg("kernel %s: no address patched at offset %zu", k->function, off);
    return -99;
}

static void assert_kernel(const cg_launch *k, const char *fn, uint32_t param_size)
{
    ck_assert_int_eq(k->kind, CG_LAUNCH_KERNEL);
    ck_assert_str_eq(k->family, "nn");
    ck_assert_str_eq(k->function, fn);
    ck_assert_uint_eq(k->param_size, param_size);
}

/* A one-thread-per-element launch covers n. */
static void assert_covers(const cg_launch *k, uint64_t n)
{
    uint64_t threads = (uint64_t)k->grid[0] * k->block[0];
    ck_assert_msg(threads >= n || k->grid[0] == 0x7fffffffu, "%s: %llu threads for %llu",
                  k->function, (unsigned long long)threads, (unsigned long long)n);
    ck_assert_uint_eq(k->block[0] % 32, 0);
}

/* ---------------------------------------------------------------- the table */

START_TEST(test_table)
{
    static const char *const ops[] = {"AveragePool",
                                      "BatchNormalization",
                                      "DepthToSpace",
                                      "GlobalAveragePool",
                                      "GlobalLpPool",
                                      "GlobalMaxPool",
                                      "GridSample",
                                      "GroupNormalization",
                                      "Hardmax",
                                      "InstanceNormalization",
                                      "LRN",
                                      "LayerNormalization",
                                      "LogSoftmax",
                                      "LpNormalization",
                                      "LpPool",
                                      "MaxPool",
                                      "MeanVarianceNormalization",
                                      "Resize",
                                      "Softmax",
                                      "SpaceToDepth",
                                      "Upsample"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const cg_op *op = cg_op_find(ops[i]);
        ck_assert_msg(op && op->candidates && op->lower, "%s is not lowered", ops[i]);
        ck_assert_str_eq(op->op_type, ops[i]);
    }
    ck_assert_int_eq(cg_nn_op_count, (int)(sizeof ops / sizeof ops[0]));
}
END_TEST

/* ---------------------------------------------------------------- softmax family */

START_TEST(test_softmax_axis)
{
    tl t;
    tl_init(&t, "Softmax", 13);
    tl_in(&t, 0, F32, 3, D(2, 3, 5));
    tl_out(&t, 0, F32, 3, D(2, 3, 5));
    attr_int(&t, "axis", 1);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_softmax_f32", sizeof(o2p_nn_rows_params));
    o2p_nn_rows_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_SOFTMAX);
    ck_assert_int_eq(p.num_rows, 10); /* outer 2 x inner 5 */
    ck_assert_int_eq(p.row_len, 3);
    ck_assert_int_eq(p.rows.rank, 2);
    ck_assert_int_eq(p.rows.dims[0], 2);
    ck_assert_int_eq(p.rows.dims[1], 5);
    ck_assert_int_eq(p.rows.strides[0], 15);
    ck_assert_int_eq(p.rows.strides[1], 1);
    ck_assert_int_eq(p.cols.rank, 1);
    ck_assert_int_eq(p.cols.strides[0], 5);
    ck_assert_uint_eq(k->grid[0], 10);
    ck_assert_uint_eq(k->block[0], 256);
    ck_assert_int_eq(k->num_patches, 2);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_nn_rows_params, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_nn_rows_params, y_ptr), NULL), 10);
    tl_free(&t);
}
END_TEST

START_TEST(test_softmax_legacy_coerces_2d)
{
    tl t;
    tl_init(&t, "LogSoftmax", 11); /* opset < 13: axis 1 (default) flattens [3, 5] */
    tl_in(&t, 0, F16, 3, D(2, 3, 5));
    tl_out(&t, 0, F16, 3, D(2, 3, 5));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_softmax_f16", sizeof(o2p_nn_rows_params));
    o2p_nn_rows_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_LOG_SOFTMAX);
    ck_assert_int_eq(p.num_rows, 2);
    ck_assert_int_eq(p.row_len, 15);
    ck_assert_int_eq(p.cols.strides[0], 1);
    tl_free(&t);

    tl_init(&t, "Hardmax", 13); /* opset 13: axis -1 */
    tl_in(&t, 0, O2P_DTYPE_DOUBLE, 3, D(2, 3, 5));
    tl_out(&t, 0, O2P_DTYPE_DOUBLE, 3, D(2, 3, 5));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_softmax_f64", sizeof(o2p_nn_rows_params));
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_HARDMAX);
    ck_assert_int_eq(p.num_rows, 6);
    ck_assert_int_eq(p.row_len, 5);
    tl_free(&t);
}
END_TEST

START_TEST(test_softmax_refuses)
{
    tl t;
    const char *why;
    tl_init(&t, "Softmax", 13);
    tl_in(&t, 0, O2P_DTYPE_INT32, 2, D(2, 3));
    tl_out(&t, 0, O2P_DTYPE_INT32, 2, D(2, 3));
    ck_assert_int_eq(tl_candidates(&t, &why), 0);
    ck_assert_ptr_nonnull(why);
    TU_ASSERT_STATUS(op_of(&t)->lower(&t.l, NULL, NULL, &t.e), O2P_ERR_UNSUPPORTED);
    tl_free(&t);

    tl_init(&t, "Softmax", 13);
    tl_in(&t, 0, F32, 2, D(2, 3));
    tl_out(&t, 0, F32, 2, D(2, 4));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("n0");
    TU_ASSERT_ERROR_HAS("[2,3]");
    tl_free(&t);

    tl_init(&t, "Softmax", 13);
    tl_in(&t, 0, F32, 2, D(2, 3));
    tl_out(&t, 0, F32, 2, D(2, 3));
    attr_int(&t, "axis", 2);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("axis");
    tl_free(&t);

    /* no elements: nothing to launch */
    tl_init(&t, "Softmax", 13);
    tl_in(&t, 0, F32, 2, D(0, 3));
    tl_out(&t, 0, F32, 2, D(0, 3));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 0);
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- normalizations */

START_TEST(test_layer_norm)
{
    tl t;
    tl_init(&t, "LayerNormalization", 17);
    tl_in(&t, 0, F32, 3, D(2, 4, 8));
    tl_in(&t, 1, F16, 1, D(8));
    tl_in(&t, 2, F32, 2, D(1, 8));
    tl_out(&t, 0, F32, 3, D(2, 4, 8));
    tl_out(&t, 2, F32, 3, D(2, 4, 1)); /* InvStdDev only */
    attr_float(&t, "epsilon", 1e-3f);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_norm_f32", sizeof(o2p_nn_rows_params));
    o2p_nn_rows_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_NORM_AFFINE);
    ck_assert_int_eq(p.num_rows, 8);
    ck_assert_int_eq(p.row_len, 8);
    ck_assert_int_eq(p.rows.strides[0], 8);
    ck_assert_double_eq_tol(p.eps, 1e-3, 1e-9);
    ck_assert_int_eq(p.scale_dtype, O2P_CU_FLOAT16);
    ck_assert_int_eq(p.scale.rank, 3);
    ck_assert_int_eq(p.scale.strides[0], 0);
    ck_assert_int_eq(p.scale.strides[1], 0);
    ck_assert_int_eq(p.scale.strides[2], 1);
    ck_assert_int_eq(p.bias.strides[2], 1);
    ck_assert_int_eq(p.inv_dtype, O2P_CU_FLOAT);
    ck_assert_int_eq(k->num_patches, 5);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_nn_rows_params, scale_ptr), NULL), 1);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_nn_rows_params, bias_ptr), NULL), 2);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_nn_rows_params, inv_ptr), NULL), 12);
    tl_free(&t);

    tl_init(&t, "LayerNormalization", 17);
    tl_in(&t, 0, F32, 2, D(4, 8));
    tl_in(&t, 1, F32, 1, D(7));
    tl_out(&t, 0, F32, 2, D(4, 8));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("broadcast");
    tl_free(&t);
}
END_TEST

START_TEST(test_instance_group_norm)
{
    tl t;
    tl_init(&t, "InstanceNormalization", 6);
    tl_in(&t, 0, O2P_DTYPE_BFLOAT16, 4, D(2, 3, 4, 5));
    tl_in(&t, 1, F32, 1, D(3));
    tl_in(&t, 2, F32, 1, D(3));
    tl_out(&t, 0, O2P_DTYPE_BFLOAT16, 4, D(2, 3, 4, 5));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_norm_bf16", sizeof(o2p_nn_rows_params));
    o2p_nn_rows_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.num_rows, 6);
    ck_assert_int_eq(p.row_len, 20);
    ck_assert_int_eq(p.scale.dims[1], 3);
    ck_assert_int_eq(p.scale.dims[2], 20);
    ck_assert_int_eq(p.scale.strides[1], 1);
    ck_assert_int_eq(p.scale.strides[2], 0);
    ck_assert_uint_eq(k->grid[0], 6);
    tl_free(&t);

    /* opset 18 GroupNormalization: scale per group */
    tl_init(&t, "GroupNormalization", 18);
    tl_in(&t, 0, F32, 4, D(2, 6, 4, 4));
    tl_in(&t, 1, F32, 1, D(3));
    tl_in(&t, 2, F32, 1, D(3));
    tl_out(&t, 0, F32, 4, D(2, 6, 4, 4));
    attr_int(&t, "num_groups", 3);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.num_rows, 6);
    ck_assert_int_eq(p.row_len, 32);
    ck_assert_int_eq(p.scale.dims[1], 3);
    ck_assert_int_eq(p.scale.dims[2], 32);
    tl_free(&t);

    /* opset 21: per channel */
    tl_init(&t, "GroupNormalization", 21);
    tl_in(&t, 0, F32, 4, D(2, 6, 4, 4));
    tl_in(&t, 1, F32, 1, D(6));
    tl_in(&t, 2, F32, 1, D(6));
    tl_out(&t, 0, F32, 4, D(2, 6, 4, 4));
    attr_int(&t, "num_groups", 3);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.scale.dims[1], 6);
    ck_assert_int_eq(p.scale.dims[2], 16);
    tl_free(&t);

    tl_init(&t, "GroupNormalization", 21);
    tl_in(&t, 0, F32, 4, D(2, 6, 4, 4));
    tl_in(&t, 1, F32, 1, D(6));
    tl_in(&t, 2, F32, 1, D(6));
    tl_out(&t, 0, F32, 4, D(2, 6, 4, 4));
    attr_int(&t, "num_groups", 4);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("num_groups");
    tl_free(&t);
}
END_TEST

START_TEST(test_mvn_lp_lrn)
{
    tl t;
    tl_init(&t, "MeanVarianceNormalization", 13); /* default axes 0, 2, 3 */
    tl_in(&t, 0, F32, 4, D(2, 3, 4, 5));
    tl_out(&t, 0, F32, 4, D(2, 3, 4, 5));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    o2p_nn_rows_params p;
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_NORM_MVN);
    ck_assert_int_eq(p.num_rows, 3);
    ck_assert_int_eq(p.row_len, 40);
    ck_assert_int_eq(p.rows.rank, 1);
    ck_assert_int_eq(p.rows.strides[0], 20);
    ck_assert_int_eq(p.cols.rank, 3);
    ck_assert_int_eq(p.cols.dims[0], 2);
    ck_assert_int_eq(p.cols.strides[0], 60);
    ck_assert_int_eq(p.cols.dims[1], 4);
    ck_assert_int_eq(p.cols.strides[1], 5);
    ck_assert_int_eq(p.cols.strides[2], 1);
    ck_assert_int_eq(p.cols.dims[3], 0);
    tl_free(&t);

    tl_init(&t, "LpNormalization", 1);
    tl_in(&t, 0, F32, 2, D(3, 4));
    tl_out(&t, 0, F32, 2, D(3, 4));
    attr_int(&t, "p", 1);
    attr_int(&t, "axis", 0);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_NORM_LP1);
    ck_assert_int_eq(p.num_rows, 4);
    ck_assert_int_eq(p.row_len, 3);
    ck_assert_int_eq(p.cols.strides[0], 4);
    tl_free(&t);

    tl_init(&t, "LpNormalization", 1);
    tl_in(&t, 0, F32, 2, D(3, 4));
    tl_out(&t, 0, F32, 2, D(3, 4));
    attr_int(&t, "p", 3);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    tl_free(&t);

    tl_init(&t, "LRN", 13);
    tl_in(&t, 0, F32, 4, D(1, 5, 3, 3));
    tl_out(&t, 0, F32, 4, D(1, 5, 3, 3));
    attr_int(&t, "size", 3);
    attr_float(&t, "beta", 0.5f);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_lrn_f32", sizeof(o2p_nn_lrn_params));
    assert_covers(k, 45);
    o2p_nn_lrn_params lp;
    memcpy(&lp, k->params, sizeof lp);
    ck_assert_int_eq(lp.total, 45);
    ck_assert_int_eq(lp.channels, 5);
    ck_assert_int_eq(lp.inner, 9);
    ck_assert_int_eq(lp.size, 3);
    ck_assert_double_eq_tol(lp.beta, 0.5, 1e-9);
    ck_assert_double_eq_tol(lp.alpha, 1e-4, 1e-9);
    tl_free(&t);

    tl_init(&t, "LRN", 13);
    tl_in(&t, 0, F32, 4, D(1, 5, 3, 3));
    tl_out(&t, 0, F32, 4, D(1, 5, 3, 3));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("size");
    tl_free(&t);
}
END_TEST

START_TEST(test_batch_norm)
{
    tl t;
    tl_init(&t, "BatchNormalization", 15);
    tl_in(&t, 0, F32, 4, D(2, 3, 4, 4));
    for (int i = 1; i < 5; i++)
        tl_in(&t, i, F32, 1, D(3));
    tl_out(&t, 0, F32, 4, D(2, 3, 4, 4));
    tl_out(&t, 1, F32, 1, D(3));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    /* running_mean is input_mean unchanged: a copy */
    const cg_launch *c = &t.e.launches[0];
    ck_assert_int_eq(c->kind, CG_LAUNCH_COPY);
    cg_copy_params cp;
    memcpy(&cp, c->params, sizeof cp);
    ck_assert_uint_eq(cp.bytes, 12);
    ck_assert_int_eq(patch_tensor(c, 0, NULL), 11);
    ck_assert_int_eq(patch_tensor(c, 8, NULL), 3);
    const cg_launch *k = &t.e.launches[1];
    assert_kernel(k, "o2p_nn_batch_norm_f32", sizeof(o2p_nn_batch_norm_params));
    assert_covers(k, 96);
    o2p_nn_batch_norm_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.total, 96);
    ck_assert_int_eq(p.channels, 3);
    ck_assert_int_eq(p.inner, 16);
    ck_assert_int_eq(p.per_element, 0);
    ck_assert_int_eq(k->num_patches, 6);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_nn_batch_norm_params, var_ptr), NULL), 4);
    tl_free(&t);

    tl_init(&t, "BatchNormalization", 15);
    tl_in(&t, 0, F32, 4, D(2, 3, 4, 4));
    for (int i = 1; i < 5; i++)
        tl_in(&t, i, F32, 1, D(3));
    tl_out(&t, 0, F32, 4, D(2, 3, 4, 4));
    attr_int(&t, "training_mode", 1);
    /* training mode: the batch statistics (training family), then the normalization with
     * them (test_lower_training.c checks the launches) */
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    ck_assert_str_eq(t.e.launches[0].function, "o2p_training_bn_stats");
    ck_assert_str_eq(t.e.launches[1].function, "o2p_nn_batch_norm_f32");
    tl_free(&t);

    tl_init(&t, "BatchNormalization", 15);
    tl_in(&t, 0, F32, 4, D(2, 3, 4, 4));
    for (int i = 1; i < 5; i++)
        tl_in(&t, i, F32, 1, D(i == 2 ? 4 : 3));
    tl_out(&t, 0, F32, 4, D(2, 3, 4, 4));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("B must have");
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- pools */

START_TEST(test_max_pool)
{
    tl t;
    static const int64_t k2[] = {2, 2}, s2[] = {2, 2}, pads[] = {0, 1, 0, 0};
    tl_init(&t, "MaxPool", 12);
    tl_in(&t, 0, F32, 4, D(1, 2, 5, 5));
    /* 5 wide, kernel 2 stride 2, ceil_mode: 3 outputs; pad 1 on the left of W: 3 too */
    tl_out(&t, 0, F32, 4, D(1, 2, 3, 3));
    tl_out(&t, 1, I64, 4, D(1, 2, 3, 3));
    attr_ints(&t, "kernel_shape", k2, 2);
    attr_ints(&t, "strides", s2, 2);
    attr_ints(&t, "pads", pads, 4);
    attr_int(&t, "ceil_mode", 1);
    attr_int(&t, "storage_order", 1);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_pool_f32", sizeof(o2p_nn_pool_params));
    assert_covers(k, 18);
    o2p_nn_pool_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_POOL_MAX);
    ck_assert_int_eq(p.total, 18);
    ck_assert_int_eq(p.nsp, 2);
    ck_assert_int_eq(p.in[0], 5);
    ck_assert_int_eq(p.out[0], 3);
    ck_assert_int_eq(p.out[1], 3);
    ck_assert_int_eq(p.kernel[1], 2);
    ck_assert_int_eq(p.stride[0], 2);
    ck_assert_int_eq(p.dilation[0], 1);
    ck_assert_int_eq(p.pad_begin[1], 1);
    ck_assert_int_eq(p.pad_end[1], 0);
    ck_assert_int_eq(p.storage_order, 1);
    ck_assert_int_eq(k->num_patches, 3);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_nn_pool_params, idx_ptr), NULL), 11);
    tl_free(&t);

    /* the output shape must be what the window gives */
    tl_init(&t, "MaxPool", 12);
    tl_in(&t, 0, F32, 4, D(1, 2, 5, 5));
    tl_out(&t, 0, F32, 4, D(1, 2, 3, 3));
    attr_ints(&t, "kernel_shape", k2, 2);
    attr_ints(&t, "strides", s2, 2);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("[1,2,2,2]");
    tl_free(&t);

    /* int8 MaxPool has a kernel; int8 AveragePool does not */
    tl_init(&t, "MaxPool", 12);
    tl_in(&t, 0, O2P_DTYPE_INT8, 3, D(1, 1, 4));
    tl_out(&t, 0, O2P_DTYPE_INT8, 3, D(1, 1, 3));
    attr_ints(&t, "kernel_shape", k2, 1);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_str_eq(t.e.launches[0].function, "o2p_nn_pool_i8");
    tl_free(&t);

    const char *why;
    tl_init(&t, "AveragePool", 12);
    tl_in(&t, 0, O2P_DTYPE_INT8, 3, D(1, 1, 4));
    tl_out(&t, 0, O2P_DTYPE_INT8, 3, D(1, 1, 3));
    attr_ints(&t, "kernel_shape", k2, 1);
    ck_assert_int_eq(tl_candidates(&t, &why), 0);
    ck_assert_ptr_nonnull(why);
    tl_free(&t);
}
END_TEST

START_TEST(test_avg_lp_global_pool)
{
    tl t;
    static const int64_t k3[] = {3, 3}, pads[] = {1, 1, 1, 1};
    tl_init(&t, "AveragePool", 19);
    tl_in(&t, 0, F16, 4, D(1, 1, 4, 4));
    tl_out(&t, 0, F16, 4, D(1, 1, 4, 4));
    attr_ints(&t, "kernel_shape", k3, 2);
    attr_ints(&t, "pads", pads, 4);
    attr_int(&t, "count_include_pad", 1);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_pool_f16", sizeof(o2p_nn_pool_params));
    o2p_nn_pool_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_POOL_AVG);
    ck_assert_int_eq(p.count_include_pad, 1);
    ck_assert_int_eq(p.pad_begin[0], 1);
    ck_assert_int_eq(k->num_patches, 2);
    tl_free(&t);

    tl_init(&t, "LpPool", 18);
    tl_in(&t, 0, F32, 4, D(1, 1, 4, 4));
    tl_out(&t, 0, F32, 4, D(1, 1, 2, 2));
    attr_ints(&t, "kernel_shape", k3, 2);
    attr_int(&t, "p", 3);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_POOL_LP);
    ck_assert_double_eq_tol(p.p, 3.0, 1e-12);
    tl_free(&t);

    tl_init(&t, "GlobalAveragePool", 1);
    tl_in(&t, 0, F32, 4, D(2, 3, 7, 7));
    tl_out(&t, 0, F32, 4, D(2, 3, 1, 1));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_global_pool_f32", sizeof(o2p_nn_global_pool_params));
    o2p_nn_global_pool_params g;
    memcpy(&g, k->params, sizeof g);
    ck_assert_int_eq(g.kind, O2P_NN_POOL_AVG);
    ck_assert_int_eq(g.planes, 6);
    ck_assert_int_eq(g.size, 49);
    ck_assert_uint_eq(k->grid[0], 6);
    tl_free(&t);

    tl_init(&t, "GlobalMaxPool", 1);
    tl_in(&t, 0, F32, 4, D(2, 3, 7, 7));
    tl_out(&t, 0, F32, 4, D(2, 3, 7, 1));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- Resize, Upsample */

START_TEST(test_resize_nearest_scales)
{
    tl t;
    static const float scales[4] = {1.0f, 1.0f, 2.0f, 1.5f};
    tl_init(&t, "Resize", 13);
    tl_in(&t, 0, O2P_DTYPE_UINT8, 4, D(1, 1, 2, 2));
    tl_in(&t, 2, F32, 1, D(4))->data = (void *)scales;
    tl_out(&t, 0, O2P_DTYPE_UINT8, 4, D(1, 1, 4, 3));
    attr_str(&t, "coordinate_transformation_mode", "asymmetric");
    attr_str(&t, "nearest_mode", "ceil");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_resize_nearest", sizeof(o2p_nn_resize_params));
    assert_covers(k, 12);
    o2p_nn_resize_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.total, 12);
    ck_assert_int_eq(p.rank, 4);
    ck_assert_int_eq(p.out[2], 4);
    ck_assert_int_eq(p.out[3], 3);
    ck_assert_double_eq_tol(p.scale[3], 1.5, 1e-12);
    ck_assert_int_eq(p.coord, O2P_NN_CT_ASYMMETRIC);
    ck_assert_int_eq(p.nearest, O2P_NN_NM_CEIL);
    ck_assert_int_eq(p.elem_size, 1);
    ck_assert_int_eq(p.y_dtype, O2P_CU_UINT8);
    tl_free(&t);

    /* scales computed at run time: no CUDA kernel */
    const char *why;
    tl_init(&t, "Resize", 13);
    tl_in(&t, 0, F32, 4, D(1, 1, 2, 2));
    tl_in(&t, 2, F32, 1, D(4));
    tl_out(&t, 0, F32, 4, D(1, 1, 4, 4));
    ck_assert_int_eq(tl_candidates(&t, &why), 0);
    ck_assert_ptr_nonnull(why);
    tl_free(&t);

    /* the output must have floor(in * scale) */
    tl_init(&t, "Resize", 13);
    tl_in(&t, 0, O2P_DTYPE_UINT8, 4, D(1, 1, 2, 2));
    tl_in(&t, 2, F32, 1, D(4))->data = (void *)scales;
    tl_out(&t, 0, O2P_DTYPE_UINT8, 4, D(1, 1, 4, 4));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    tl_free(&t);
}
END_TEST

START_TEST(test_resize_linear_passes)
{
    tl t;
    /* sizes not known at build time: the output's dims (stretch) */
    tl_init(&t, "Resize", 19);
    tl_in(&t, 0, F32, 4, D(1, 2, 4, 6));
    tl_in(&t, 3, I64, 1, D(4));
    tl_out(&t, 0, F32, 4, D(1, 2, 8, 3));
    attr_str(&t, "mode", "linear");
    attr_int(&t, "antialias", 1);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2); /* H then W */
    ck_assert_uint_ge(t.e.workspace, 2 * 2 * 8 * 6 * sizeof(double));
    const cg_launch *k0 = &t.e.launches[0], *k1 = &t.e.launches[1];
    assert_kernel(k0, "o2p_nn_resize_axis", sizeof(o2p_nn_resize_params));
    assert_kernel(k1, "o2p_nn_resize_axis", sizeof(o2p_nn_resize_params));
    o2p_nn_resize_params p0, p1;
    memcpy(&p0, k0->params, sizeof p0);
    memcpy(&p1, k1->params, sizeof p1);
    ck_assert_int_eq(p0.axis, 2);
    ck_assert_int_eq(p0.outer, 2);
    ck_assert_int_eq(p0.inner, 6);
    ck_assert_int_eq(p0.total, 2 * 8 * 6);
    ck_assert_int_eq(p0.taps, 2); /* upscaling: antialias adds no taps */
    ck_assert_int_eq(p0.x_dtype, O2P_CU_FLOAT);
    ck_assert_int_eq(p0.y_dtype, O2P_CU_DOUBLE);
    ck_assert_int_eq(p0.antialias, 1);
    ck_assert_double_eq_tol(p0.scale[3], 0.5, 1e-12);
    ck_assert_int_eq(p1.axis, 3);
    ck_assert_int_eq(p1.outer, 16);
    ck_assert_int_eq(p1.inner, 1);
    ck_assert_int_eq(p1.total, 48);
    ck_assert_int_eq(p1.taps, 4); /* halving with antialias: the filter is twice as wide */
    ck_assert_int_eq(p1.x_dtype, O2P_CU_DOUBLE);
    ck_assert_int_eq(p1.y_dtype, O2P_CU_FLOAT);
    uint64_t off;
    ck_assert_int_eq(patch_tensor(k0, offsetof(o2p_nn_resize_params, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k0, offsetof(o2p_nn_resize_params, y_ptr), &off),
                     CG_TENSOR_WORKSPACE);
    uint64_t off1;
    ck_assert_int_eq(patch_tensor(k1, offsetof(o2p_nn_resize_params, x_ptr), &off1),
                     CG_TENSOR_WORKSPACE);
    ck_assert_uint_eq(off, off1);
    ck_assert_int_eq(patch_tensor(k1, offsetof(o2p_nn_resize_params, y_ptr), NULL), 10);
    tl_free(&t);

    /* cubic needs opset 11; keep_aspect_ratio_policy needs constant sizes */
    tl_init(&t, "Resize", 10);
    static const float sc[4] = {1, 1, 2, 2};
    tl_in(&t, 0, F32, 4, D(1, 1, 2, 2));
    tl_in(&t, 1, F32, 1, D(4))->data = (void *)sc;
    tl_out(&t, 0, F32, 4, D(1, 1, 4, 4));
    attr_str(&t, "mode", "cubic");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("cubic");
    tl_free(&t);

    tl_init(&t, "Resize", 19);
    tl_in(&t, 0, F32, 4, D(1, 2, 4, 6));
    tl_in(&t, 3, I64, 1, D(4));
    tl_out(&t, 0, F32, 4, D(1, 2, 8, 12));
    attr_str(&t, "keep_aspect_ratio_policy", "not_larger");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("sizes");
    tl_free(&t);

    /* constant sizes with not_larger: one scale for both axes */
    static const int64_t sizes[2] = {8, 24}, axes[2] = {2, -1};
    tl_init(&t, "Resize", 19);
    tl_in(&t, 0, F32, 4, D(1, 2, 4, 6));
    tl_in(&t, 3, I64, 1, D(2))->data = (void *)sizes;
    tl_out(&t, 0, F32, 4, D(1, 2, 8, 12));
    attr_ints(&t, "axes", axes, 2);
    attr_str(&t, "keep_aspect_ratio_policy", "not_larger");
    attr_str(&t, "mode", "cubic");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    o2p_nn_resize_params p;
    memcpy(&p, t.e.launches[1].params, sizeof p);
    ck_assert_double_eq_tol(p.scale[3], 2.0, 1e-12);
    ck_assert_int_eq(p.taps, 4);
    ck_assert_int_eq(p.mode, O2P_NN_RESIZE_CUBIC);
    ck_assert_double_eq_tol(p.cubic_a, -0.75, 1e-7);
    tl_free(&t);
}
END_TEST

START_TEST(test_upsample)
{
    tl t;
    static const float scales[4] = {1, 1, 2, 3};
    tl_init(&t, "Upsample", 7); /* opset 7: scales is an attribute */
    tl_in(&t, 0, F32, 4, D(1, 1, 2, 2));
    tl_out(&t, 0, F32, 4, D(1, 1, 4, 6));
    host_attr *a = tl_attr(&t, "scales", O2P_ATTR_FLOATS);
    a->floats = scales;
    a->count = 4;
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_str_eq(t.e.launches[0].function, "o2p_nn_resize_nearest");
    o2p_nn_resize_params p;
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.coord, O2P_NN_CT_ASYMMETRIC);
    ck_assert_int_eq(p.nearest, O2P_NN_NM_FLOOR);
    ck_assert_int_eq(p.out[3], 6);
    tl_free(&t);

    tl_init(&t, "Upsample", 9); /* opset 9: an input */
    tl_in(&t, 0, O2P_DTYPE_INT32, 4, D(1, 1, 2, 2));
    tl_in(&t, 1, F32, 1, D(4))->data = (void *)scales;
    tl_out(&t, 0, O2P_DTYPE_INT32, 4, D(1, 1, 4, 6));
    attr_str(&t, "mode", "linear");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    memcpy(&p, t.e.launches[1].params, sizeof p);
    ck_assert_int_eq(p.y_dtype, O2P_CU_INT32);
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- GridSample, blocks */

START_TEST(test_grid_sample)
{
    tl t;
    tl_init(&t, "GridSample", 16);
    tl_in(&t, 0, F32, 4, D(2, 3, 5, 6));
    tl_in(&t, 1, F32, 4, D(2, 4, 7, 2));
    tl_out(&t, 0, F32, 4, D(2, 3, 4, 7));
    attr_str(&t, "mode", "bicubic");
    attr_str(&t, "padding_mode", "reflection");
    attr_int(&t, "align_corners", 1);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_grid_sample", sizeof(o2p_nn_grid_sample_params));
    assert_covers(k, 168);
    o2p_nn_grid_sample_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.total, 168);
    ck_assert_int_eq(p.channels, 3);
    ck_assert_int_eq(p.out_size, 28);
    ck_assert_int_eq(p.in_size, 30);
    ck_assert_int_eq(p.dims[0], 5);
    ck_assert_int_eq(p.dims[1], 6);
    ck_assert_int_eq(p.mode, O2P_NN_RESIZE_CUBIC);
    ck_assert_int_eq(p.padding, O2P_NN_GRID_REFLECTION);
    ck_assert_int_eq(p.align_corners, 1);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_nn_grid_sample_params, grid_ptr), NULL), 1);
    tl_free(&t);

    tl_init(&t, "GridSample", 16);
    tl_in(&t, 0, F32, 4, D(2, 3, 5, 6));
    tl_in(&t, 1, F32, 4, D(2, 4, 7, 3));
    tl_out(&t, 0, F32, 4, D(2, 3, 4, 7));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("grid");
    tl_free(&t);
}
END_TEST

START_TEST(test_depth_space)
{
    tl t;
    tl_init(&t, "DepthToSpace", 13);
    tl_in(&t, 0, F16, 4, D(1, 8, 2, 3));
    tl_out(&t, 0, F16, 4, D(1, 2, 4, 6));
    attr_int(&t, "blocksize", 2);
    attr_str(&t, "mode", "CRD");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_nn_space_depth", sizeof(o2p_nn_space_depth_params));
    assert_covers(k, 48);
    o2p_nn_space_depth_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.total, 48);
    ck_assert_int_eq(p.c, 8);
    ck_assert_int_eq(p.block, 2);
    ck_assert_int_eq(p.to_space, 1);
    ck_assert_int_eq(p.crd, 1);
    ck_assert_int_eq(p.elem_size, 2);
    tl_free(&t);

    tl_init(&t, "SpaceToDepth", 13);
    tl_in(&t, 0, I64, 4, D(1, 2, 4, 6));
    tl_out(&t, 0, I64, 4, D(1, 8, 2, 3));
    attr_int(&t, "blocksize", 2);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.to_space, 0);
    ck_assert_int_eq(p.crd, 0);
    ck_assert_int_eq(p.elem_size, 8);
    tl_free(&t);

    tl_init(&t, "SpaceToDepth", 13);
    tl_in(&t, 0, F32, 4, D(1, 2, 5, 6));
    tl_out(&t, 0, F32, 4, D(1, 8, 2, 3));
    attr_int(&t, "blocksize", 2);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("divisible");
    tl_free(&t);

    tl_init(&t, "DepthToSpace", 13);
    tl_in(&t, 0, F32, 3, D(8, 2, 3));
    tl_out(&t, 0, F32, 3, D(8, 2, 3));
    attr_int(&t, "blocksize", 2);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("rank 4");
    tl_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lower_nn");
    TCase *tc = tcase_create("lower_nn");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_softmax_axis);
    tcase_add_test(tc, test_softmax_legacy_coerces_2d);
    tcase_add_test(tc, test_softmax_refuses);
    tcase_add_test(tc, test_layer_norm);
    tcase_add_test(tc, test_instance_group_norm);
    tcase_add_test(tc, test_mvn_lp_lrn);
    tcase_add_test(tc, test_batch_norm);
    tcase_add_test(tc, test_max_pool);
    tcase_add_test(tc, test_avg_lp_global_pool);
    tcase_add_test(tc, test_resize_nearest_scales);
    tcase_add_test(tc, test_resize_linear_passes);
    tcase_add_test(tc, test_upsample);
    tcase_add_test(tc, test_grid_sample);
    tcase_add_test(tc, test_depth_space);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
