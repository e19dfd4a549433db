/* test_lower_extra.c: the CUDA lowerings of the extra family (src/codegen/lower_extra.c)
 * without a GPU: layers built by hand go through candidates() and lower(); the launches'
 * kernel names, grids, device-address patches and parameter fields are checked against what
 * kernels/cuda/extra.cu expects, and bad shapes, types and attributes are refused with a
 * message. */
#include <stddef.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/extra_params.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define F16 O2P_DTYPE_FLOAT16
#define F64 O2P_DTYPE_DOUBLE
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define U8 O2P_DTYPE_UINT8
#define I8 O2P_DTYPE_INT8
#define D(...) ((const int64_t[]){__VA_ARGS__})

/* A layer under construction: inputs are tensors 0.., outputs 10.. */
typedef struct tl {
    host_tensor in[9], out[4];
    const host_tensor *ins[9];
    host_tensor *outs[4];
    int it[9], ot[4];
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
    for (int i = 0; i < 9; i++)
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
    if (rank > 0) /* a scalar may come with no dims at all */
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
    if (rank > 0) /* a scalar may come with no dims at all */
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

/* Whether the launch patches an address at param offset off. */
static int has_patch(const cg_launch *k, size_t off)
{
    for (int i = 0; i < k->num_patches; i++)
        if (k->patches[i].param_offset == off)
            return 1;
    return 0;
}

static void assert_kernel(const cg_launch *k, const char *fn, uint32_t param_size)
{
    ck_assert_int_eq(k->kind, CG_LAUNCH_KERNEL);
    ck_assert_str_eq(k->family, "extra");
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
    static const char *const ops[] = {
        "ConvInteger",    "DequantizeLinear",          "DynamicQuantizeLinear", "Einsum",
        "MatMulInteger",  "NegativeLogLikelihoodLoss", "QLinearConv",           "QLinearMatMul",
        "QuantizeLinear", "SoftmaxCrossEntropyLoss"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const cg_op *op = cg_op_find(ops[i]);
        ck_assert_msg(op && op->candidates && op->lower, "%s is not lowered", ops[i]);
        ck_assert_str_eq(op->op_type, ops[i]);
    }
    ck_assert_int_eq(cg_extra_op_count, (int)(sizeof ops / sizeof ops[0]));
}
END_TEST

/* ---------------------------------------------------------------- losses */

START_TEST(test_nll_mean_weight)
{
    tl t;
    tl_init(&t, "NegativeLogLikelihoodLoss", 13);
    tl_in(&t, 0, F32, 4, D(2, 5, 3, 4));
    tl_in(&t, 1, I64, 3, D(2, 3, 4));
    tl_in(&t, 2, F32, 1, D(5));
    tl_out(&t, 0, F32, 0, NULL);
    attr_int(&t, "ignore_index", -1);
    const char *why;
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[2];
    ck_assert_int_eq(op_of(&t)->candidates(&t.l, &o, tac, 2, &why), 1);
    ck_assert_uint_ge(tac[0].workspace, 2 * 24 * sizeof(double));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    ck_assert_uint_ge(t.e.workspace, 2 * 24 * sizeof(double));
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_extra_loss", sizeof(o2p_extra_loss_params));
    assert_covers(k, 24);
    o2p_extra_loss_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.n, 2);
    ck_assert_int_eq(p.c, 5);
    ck_assert_int_eq(p.d, 12);
    ck_assert_int_eq(p.reduction, O2P_EXTRA_REDUCE_MEAN);
    ck_assert_int_eq(p.has_ignore, 1);
    ck_assert_int_eq(p.ignore_index, -1);
    ck_assert_int_eq(p.softmax, 0);
    ck_assert_int_eq(p.x_dtype, O2P_CU_FLOAT);
    ck_assert_int_eq(p.target_dtype, O2P_CU_INT64);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_loss_params, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_loss_params, target_ptr), NULL), 1);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_loss_params, weight_ptr), NULL), 2);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_loss_params, y_ptr), NULL), 10);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_loss_params, ws_ptr), NULL),
                     CG_TENSOR_WORKSPACE);
    ck_assert(!has_patch(k, offsetof(o2p_extra_loss_params, log_prob_ptr)));
    const cg_launch *r = &t.e.launches[1];
    assert_kernel(r, "o2p_extra_loss_reduce", sizeof(o2p_extra_loss_params));
    ck_assert_uint_eq(r->grid[0], 1);
    ck_assert_uint_eq(r->block[0], 256); /* the kernel's shared arrays hold 256 */
    ck_assert_int_eq(patch_tensor(r, offsetof(o2p_extra_loss_params, y_ptr), NULL), 10);
    ck_assert_int_eq(patch_tensor(r, offsetof(o2p_extra_loss_params, ws_ptr), NULL),
                     CG_TENSOR_WORKSPACE);
    tl_free(&t);
}
END_TEST

START_TEST(test_sce_none_log_prob)
{
    tl t;
    tl_init(&t, "SoftmaxCrossEntropyLoss", 13);
    tl_in(&t, 0, F16, 2, D(3, 5));
    tl_in(&t, 1, I32, 1, D(3));
    tl_out(&t, 0, F16, 1, D(3));
    tl_out(&t, 1, F16, 2, D(3, 5));
    attr_str(&t, "reduction", "none");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    ck_assert_uint_eq(t.e.workspace, 0);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_extra_loss", sizeof(o2p_extra_loss_params));
    o2p_extra_loss_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.softmax, 1);
    ck_assert_int_eq(p.d, 1);
    ck_assert_int_eq(p.reduction, O2P_EXTRA_REDUCE_NONE);
    ck_assert_int_eq(p.has_ignore, 0);
    ck_assert_int_eq(p.x_dtype, O2P_CU_FLOAT16);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_loss_params, log_prob_ptr), NULL), 11);
    ck_assert(!has_patch(k, offsetof(o2p_extra_loss_params, weight_ptr)));
    ck_assert(!has_patch(k, offsetof(o2p_extra_loss_params, ws_ptr)));
    tl_free(&t);
}
END_TEST

START_TEST(test_loss_refuses)
{
    tl t;
    const char *why;
    tl_init(&t, "NegativeLogLikelihoodLoss", 13);
    tl_in(&t, 0, F32, 2, D(3, 5));
    tl_in(&t, 1, F32, 1, D(3));
    tl_out(&t, 0, F32, 0, NULL);
    ck_assert_int_eq(tl_candidates(&t, &why), 0);
    ck_assert_ptr_nonnull(why);
    TU_ASSERT_STATUS(op_of(&t)->lower(&t.l, NULL, NULL, &t.e), O2P_ERR_UNSUPPORTED);
    tl_free(&t);

    tl_init(&t, "NegativeLogLikelihoodLoss", 13);
    tl_in(&t, 0, F32, 2, D(3, 5));
    tl_in(&t, 1, I64, 1, D(4));
    tl_out(&t, 0, F32, 0, NULL);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("target");
    tl_free(&t);

    tl_init(&t, "SoftmaxCrossEntropyLoss", 13);
    tl_in(&t, 0, F32, 2, D(3, 5));
    tl_in(&t, 1, I64, 1, D(3));
    tl_out(&t, 0, F32, 1, D(3)); /* mean gives a scalar */
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    tl_free(&t);

    tl_init(&t, "SoftmaxCrossEntropyLoss", 13);
    tl_in(&t, 0, F32, 2, D(3, 5));
    tl_in(&t, 1, I64, 1, D(3));
    tl_in(&t, 2, F32, 1, D(4)); /* weight of C entries */
    tl_out(&t, 0, F32, 0, NULL);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("weight");
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- Einsum */

START_TEST(test_einsum_batch_matmul)
{
    tl t;
    tl_init(&t, "Einsum", 12);
    tl_in(&t, 0, F32, 3, D(2, 3, 4));
    tl_in(&t, 1, F32, 3, D(2, 4, 5));
    tl_out(&t, 0, F32, 3, D(2, 3, 5));
    attr_str(&t, "equation", "bij,bjk->bik");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_extra_einsum", sizeof(o2p_extra_einsum_params));
    assert_covers(k, 30);
    o2p_extra_einsum_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.num_ops, 2);
    ck_assert_int_eq(p.num_labels, 4);
    ck_assert_int_eq(p.num_out, 3);
    ck_assert_int_eq(p.total, 30);
    ck_assert_int_eq(p.num_sum, 4);
    ck_assert_int_eq(p.is_float, 1);
    /* labels b i k (output) then j */
    static const int64_t dims[4] = {2, 3, 5, 4}, sa[4] = {12, 4, 0, 1}, sb[4] = {20, 0, 1, 5};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(p.dims[i], dims[i]);
        ck_assert_int_eq(p.strides[0][i], sa[i]);
        ck_assert_int_eq(p.strides[1][i], sb[i]);
    }
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_einsum_params, in_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_einsum_params, in_ptr) + 8, NULL), 1);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_einsum_params, y_ptr), NULL), 10);
    tl_free(&t);
}
END_TEST

START_TEST(test_einsum_diagonal_and_refusals)
{
    tl t;
    tl_init(&t, "Einsum", 12);
    tl_in(&t, 0, I64, 3, D(2, 3, 3));
    tl_out(&t, 0, I64, 2, D(2, 3));
    attr_str(&t, "equation", "...ii->...i");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    o2p_extra_einsum_params p;
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.num_labels, 2);
    ck_assert_int_eq(p.num_out, 2);
    ck_assert_int_eq(p.num_sum, 1);
    ck_assert_int_eq(p.is_float, 0);
    ck_assert_int_eq(p.strides[0][0], 9); /* the ellipsis dim */
    ck_assert_int_eq(p.strides[0][1], 4); /* i twice: 3 + 1 */
    tl_free(&t);

    /* a wrong output shape */
    tl_init(&t, "Einsum", 12);
    tl_in(&t, 0, F32, 2, D(3, 4));
    tl_out(&t, 0, F32, 2, D(3, 4));
    attr_str(&t, "equation", "ij->ji");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    tl_free(&t);

    /* more labels than the kernel's 32 */
    tl_init(&t, "Einsum", 12);
    static const int64_t ones[11] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    for (int i = 0; i < 3; i++)
        tl_in(&t, i, F32, 11, ones);
    tl_out(&t, 0, F32, 0, NULL);
    attr_str(&t, "equation", "abcdefghijk,lmnopqrstuv,wxyzABCDEFG->");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("labels");
    tl_free(&t);

    /* a bool input has no kernel */
    tl_init(&t, "Einsum", 12);
    tl_in(&t, 0, O2P_DTYPE_BOOL, 1, D(3));
    tl_out(&t, 0, O2P_DTYPE_BOOL, 1, D(3));
    attr_str(&t, "equation", "i->i");
    const char *why;
    ck_assert_int_eq(tl_candidates(&t, &why), 0);
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- quantization */

START_TEST(test_quantize_per_axis)
{
    tl t;
    tl_init(&t, "QuantizeLinear", 13);
    tl_in(&t, 0, F32, 3, D(2, 3, 4));
    tl_in(&t, 1, F32, 1, D(3));
    tl_in(&t, 2, I8, 1, D(3));
    tl_out(&t, 0, I8, 3, D(2, 3, 4));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_extra_quantize", sizeof(o2p_extra_quant_params));
    assert_covers(k, 24);
    o2p_extra_quant_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.total, 24);
    ck_assert_int_eq(p.count, 3);
    ck_assert_int_eq(p.inner, 4);
    ck_assert(p.lo == -128.0 && p.hi == 127.0);
    ck_assert_int_eq(p.f32_div, 1);
    ck_assert_int_eq(p.y_dtype, O2P_CU_INT8);
    ck_assert_int_eq(p.zp_dtype, O2P_CU_INT8);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_quant_params, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_quant_params, scale_ptr), NULL), 1);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_quant_params, zp_ptr), NULL), 2);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_quant_params, y_ptr), NULL), 10);
    tl_free(&t);

    /* opset 10 form: int32 x, no zero point: uint8, division in double */
    tl_init(&t, "QuantizeLinear", 10);
    tl_in(&t, 0, I32, 1, D(5));
    tl_in(&t, 1, F32, 0, NULL);
    tl_out(&t, 0, U8, 1, D(5));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.count, 1);
    ck_assert_int_eq(p.f32_div, 0);
    ck_assert(p.lo == 0.0 && p.hi == 255.0);
    ck_assert(!has_patch(&t.e.launches[0], offsetof(o2p_extra_quant_params, zp_ptr)));
    tl_free(&t);

    /* blocked quantization (a 2-D scale) is not handled */
    tl_init(&t, "QuantizeLinear", 21);
    tl_in(&t, 0, F32, 2, D(4, 4));
    tl_in(&t, 1, F32, 2, D(4, 2));
    tl_out(&t, 0, U8, 2, D(4, 4));
    const char *why;
    ck_assert_int_eq(tl_candidates(&t, &why), 0);
    TU_ASSERT_STATUS(op_of(&t)->lower(&t.l, NULL, NULL, &t.e), O2P_ERR_UNSUPPORTED);
    tl_free(&t);

    /* a per-axis scale that disagrees with the axis */
    tl_init(&t, "QuantizeLinear", 13);
    tl_in(&t, 0, F32, 2, D(2, 3));
    tl_in(&t, 1, F32, 1, D(3));
    tl_out(&t, 0, U8, 2, D(2, 3));
    attr_int(&t, "axis", 0);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("axis");
    tl_free(&t);
}
END_TEST

START_TEST(test_dequantize)
{
    tl t;
    tl_init(&t, "DequantizeLinear", 13);
    tl_in(&t, 0, U8, 2, D(4, 5));
    tl_in(&t, 1, F32, 0, NULL);
    tl_in(&t, 2, U8, 0, NULL);
    tl_out(&t, 0, F32, 2, D(4, 5));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_extra_dequantize", sizeof(o2p_extra_quant_params));
    o2p_extra_quant_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.total, 20);
    ck_assert_int_eq(p.count, 1);
    ck_assert_int_eq(p.x_dtype, O2P_CU_UINT8);
    ck_assert_int_eq(p.y_dtype, O2P_CU_FLOAT);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_quant_params, zp_ptr), NULL), 2);
    tl_free(&t);

    /* a zero point of another type than x */
    tl_init(&t, "DequantizeLinear", 13);
    tl_in(&t, 0, U8, 1, D(4));
    tl_in(&t, 1, F32, 0, NULL);
    tl_in(&t, 2, I8, 0, NULL);
    tl_out(&t, 0, F32, 1, D(4));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    tl_free(&t);

    /* float x is not a quantized type */
    tl_init(&t, "DequantizeLinear", 13);
    tl_in(&t, 0, F32, 1, D(4));
    tl_in(&t, 1, F32, 0, NULL);
    tl_out(&t, 0, F32, 1, D(4));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_UNSUPPORTED);
    tl_free(&t);
}
END_TEST

START_TEST(test_dynamic_quantize)
{
    tl t;
    tl_init(&t, "DynamicQuantizeLinear", 11);
    tl_in(&t, 0, F32, 2, D(3, 1000));
    tl_out(&t, 0, U8, 2, D(3, 1000));
    tl_out(&t, 1, F32, 0, NULL);
    tl_out(&t, 2, U8, 0, NULL);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    const cg_launch *r = &t.e.launches[0], *a = &t.e.launches[1];
    assert_kernel(r, "o2p_extra_dynq_range", sizeof(o2p_extra_dynq_params));
    ck_assert_uint_eq(r->grid[0], 1);
    ck_assert_uint_eq(r->block[0], 256);
    ck_assert_int_eq(patch_tensor(r, offsetof(o2p_extra_dynq_params, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(r, offsetof(o2p_extra_dynq_params, scale_ptr), NULL), 11);
    ck_assert_int_eq(patch_tensor(r, offsetof(o2p_extra_dynq_params, zp_ptr), NULL), 12);
    assert_kernel(a, "o2p_extra_dynq_apply", sizeof(o2p_extra_dynq_params));
    assert_covers(a, 3000);
    ck_assert_int_eq(patch_tensor(a, offsetof(o2p_extra_dynq_params, y_ptr), NULL), 10);
    ck_assert_int_eq(patch_tensor(a, offsetof(o2p_extra_dynq_params, scale_ptr), NULL), 11);
    o2p_extra_dynq_params p;
    memcpy(&p, a->params, sizeof p);
    ck_assert_int_eq(p.total, 3000);
    tl_free(&t);

    tl_init(&t, "DynamicQuantizeLinear", 11);
    tl_in(&t, 0, F16, 1, D(4));
    tl_out(&t, 0, U8, 1, D(4));
    tl_out(&t, 1, F32, 0, NULL);
    tl_out(&t, 2, U8, 0, NULL);
    const char *why;
    ck_assert_int_eq(tl_candidates(&t, &why), 0);
    tl_free(&t);
}
END_TEST

START_TEST(test_matmul_integer_broadcast)
{
    tl t;
    tl_init(&t, "MatMulInteger", 10);
    tl_in(&t, 0, U8, 3, D(2, 2, 3));
    tl_in(&t, 1, I8, 2, D(3, 4));
    tl_in(&t, 2, U8, 1, D(2)); /* per row */
    tl_in(&t, 3, I8, 0, NULL);
    tl_out(&t, 0, I32, 3, D(2, 2, 4));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_extra_qmatmul", sizeof(o2p_extra_qmatmul_params));
    assert_covers(k, 16);
    o2p_extra_qmatmul_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.m, 2);
    ck_assert_int_eq(p.n, 4);
    ck_assert_int_eq(p.k, 3);
    ck_assert_int_eq(p.total, 16);
    ck_assert_int_eq(p.a_batch.rank, 1);
    ck_assert_int_eq(p.a_batch.dims[0], 2);
    ck_assert_int_eq(p.a_batch.strides[0], 6);
    ck_assert_int_eq(p.b_batch.strides[0], 0);
    ck_assert_int_eq(p.a_zp_count, 2);
    ck_assert_int_eq(p.b_zp_count, 1);
    ck_assert_int_eq(p.requant, 0);
    ck_assert_int_eq(p.a_dtype, O2P_CU_UINT8);
    ck_assert_int_eq(p.b_dtype, O2P_CU_INT8);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_qmatmul_params, a_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_qmatmul_params, b_ptr), NULL), 1);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_qmatmul_params, a_zp_ptr), NULL), 2);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_qmatmul_params, b_zp_ptr), NULL), 3);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_qmatmul_params, y_ptr), NULL), 10);
    ck_assert(!has_patch(k, offsetof(o2p_extra_qmatmul_params, a_scale_ptr)));
    tl_free(&t);

    /* a zero point with as many entries as K (neither 1 nor M) is refused */
    tl_init(&t, "MatMulInteger", 10);
    tl_in(&t, 0, U8, 2, D(2, 3));
    tl_in(&t, 1, U8, 2, D(3, 4));
    tl_in(&t, 2, U8, 1, D(3));
    tl_out(&t, 0, I32, 2, D(2, 4));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("zero point");
    tl_free(&t);
}
END_TEST

START_TEST(test_qlinear_matmul)
{
    tl t;
    tl_init(&t, "QLinearMatMul", 10);
    tl_in(&t, 0, U8, 2, D(2, 4));
    tl_in(&t, 1, F32, 0, NULL);
    tl_in(&t, 2, U8, 0, NULL);
    tl_in(&t, 3, U8, 2, D(4, 3));
    tl_in(&t, 4, F32, 1, D(3)); /* per column */
    tl_in(&t, 5, U8, 1, D(3));
    tl_in(&t, 6, F32, 0, NULL);
    tl_in(&t, 7, U8, 0, NULL);
    tl_out(&t, 0, U8, 2, D(2, 3));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    o2p_extra_qmatmul_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.requant, 1);
    ck_assert_int_eq(p.b_scale_count, 3);
    ck_assert_int_eq(p.b_zp_count, 3);
    ck_assert(p.lo == 0.0 && p.hi == 255.0);
    ck_assert_int_eq(p.a_batch.rank, 0);
    static const size_t offs[8] = {offsetof(o2p_extra_qmatmul_params, a_ptr),
                                   offsetof(o2p_extra_qmatmul_params, a_scale_ptr),
                                   offsetof(o2p_extra_qmatmul_params, a_zp_ptr),
                                   offsetof(o2p_extra_qmatmul_params, b_ptr),
                                   offsetof(o2p_extra_qmatmul_params, b_scale_ptr),
                                   offsetof(o2p_extra_qmatmul_params, b_zp_ptr),
                                   offsetof(o2p_extra_qmatmul_params, y_scale_ptr),
                                   offsetof(o2p_extra_qmatmul_params, y_zp_ptr)};
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(patch_tensor(k, offs[i], NULL), i);
    tl_free(&t);

    /* a float scale is required */
    tl_init(&t, "QLinearMatMul", 10);
    tl_in(&t, 0, U8, 2, D(2, 4));
    tl_in(&t, 1, F64, 0, NULL);
    tl_in(&t, 2, U8, 0, NULL);
    tl_in(&t, 3, U8, 2, D(4, 3));
    tl_in(&t, 4, F32, 0, NULL);
    tl_in(&t, 5, U8, 0, NULL);
    tl_in(&t, 6, F32, 0, NULL);
    tl_in(&t, 7, U8, 0, NULL);
    tl_out(&t, 0, U8, 2, D(2, 3));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_UNSUPPORTED);
    tl_free(&t);
}
END_TEST

START_TEST(test_conv_integer)
{
    tl t;
    tl_init(&t, "ConvInteger", 10);
    tl_in(&t, 0, U8, 4, D(1, 1, 3, 3));
    tl_in(&t, 1, U8, 4, D(1, 1, 2, 2));
    tl_in(&t, 2, U8, 0, NULL);
    tl_out(&t, 0, I32, 4, D(1, 1, 4, 4));
    attr_ints(&t, "pads", D(1, 1, 1, 1), 4);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_extra_qconv", sizeof(o2p_extra_qconv_params));
    assert_covers(k, 16);
    o2p_extra_qconv_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.nsp, 2);
    ck_assert_int_eq(p.total, 16);
    ck_assert_int_eq(p.in[0], 3);
    ck_assert_int_eq(p.out[1], 4);
    ck_assert_int_eq(p.kernel[0], 2);
    ck_assert_int_eq(p.stride[1], 1);
    ck_assert_int_eq(p.dilation[0], 1);
    ck_assert_int_eq(p.pad[0], 1);
    ck_assert_int_eq(p.pad[1], 1);
    ck_assert_int_eq(p.group, 1);
    ck_assert_int_eq(p.requant, 0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_qconv_params, x_zp_ptr), NULL), 2);
    ck_assert(!has_patch(k, offsetof(o2p_extra_qconv_params, w_zp_ptr)));
    tl_free(&t);

    /* without pads the output is 2 x 2 */
    tl_init(&t, "ConvInteger", 10);
    tl_in(&t, 0, U8, 4, D(1, 1, 3, 3));
    tl_in(&t, 1, U8, 4, D(1, 1, 2, 2));
    tl_out(&t, 0, I32, 4, D(1, 1, 4, 4));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    tl_free(&t);

    /* float x has no integer kernel */
    tl_init(&t, "ConvInteger", 10);
    tl_in(&t, 0, F32, 4, D(1, 1, 3, 3));
    tl_in(&t, 1, F32, 4, D(1, 1, 2, 2));
    tl_out(&t, 0, I32, 4, D(1, 1, 2, 2));
    const char *why;
    ck_assert_int_eq(tl_candidates(&t, &why), 0);
    tl_free(&t);
}
END_TEST

START_TEST(test_qlinear_conv_groups_bias)
{
    tl t;
    tl_init(&t, "QLinearConv", 10);
    tl_in(&t, 0, I8, 4, D(2, 4, 5, 5));
    tl_in(&t, 1, F32, 0, NULL);
    tl_in(&t, 2, I8, 0, NULL);
    tl_in(&t, 3, I8, 4, D(6, 2, 3, 3));
    tl_in(&t, 4, F32, 1, D(6));
    tl_in(&t, 5, I8, 1, D(6));
    tl_in(&t, 6, F32, 0, NULL);
    tl_in(&t, 7, I8, 0, NULL);
    tl_in(&t, 8, I32, 1, D(6));
    tl_out(&t, 0, I8, 4, D(2, 6, 3, 3));
    attr_int(&t, "group", 2);
    attr_ints(&t, "strides", D(2, 2), 2);
    attr_str(&t, "auto_pad", "SAME_UPPER");
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    o2p_extra_qconv_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.group, 2);
    ck_assert_int_eq(p.c, 4);
    ck_assert_int_eq(p.m, 6);
    ck_assert_int_eq(p.total, 2 * 6 * 9);
    ck_assert_int_eq(p.stride[0], 2);
    ck_assert_int_eq(p.pad[0], 1); /* SAME_UPPER: total 2, 1 before */
    ck_assert_int_eq(p.w_scale_count, 6);
    ck_assert_int_eq(p.w_zp_count, 6);
    ck_assert_int_eq(p.requant, 1);
    ck_assert(p.lo == -128.0 && p.hi == 127.0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_qconv_params, w_ptr), NULL), 3);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_qconv_params, w_scale_ptr), NULL), 4);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_qconv_params, bias_ptr), NULL), 8);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_extra_qconv_params, y_zp_ptr), NULL), 7);
    tl_free(&t);

    /* channels that do not match the groups */
    tl_init(&t, "QLinearConv", 10);
    tl_in(&t, 0, I8, 4, D(2, 4, 5, 5));
    tl_in(&t, 1, F32, 0, NULL);
    tl_in(&t, 2, I8, 0, NULL);
    tl_in(&t, 3, I8, 4, D(6, 3, 3, 3));
    tl_in(&t, 4, F32, 0, NULL);
    tl_in(&t, 5, I8, 0, NULL);
    tl_in(&t, 6, F32, 0, NULL);
    tl_in(&t, 7, I8, 0, NULL);
    tl_out(&t, 0, I8, 4, D(2, 6, 3, 3));
    attr_int(&t, "group", 2);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("group");
    tl_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lower_extra");
    TCase *tc = tcase_create("lower_extra");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_nll_mean_weight);
    tcase_add_test(tc, test_sce_none_log_prob);
    tcase_add_test(tc, test_loss_refuses);
    tcase_add_test(tc, test_einsum_batch_matmul);
    tcase_add_test(tc, test_einsum_diagonal_and_refusals);
    tcase_add_test(tc, test_quantize_per_axis);
    tcase_add_test(tc, test_dequantize);
    tcase_add_test(tc, test_dynamic_quantize);
    tcase_add_test(tc, test_matmul_integer_broadcast);
    tcase_add_test(tc, test_qlinear_matmul);
    tcase_add_test(tc, test_conv_integer);
    tcase_add_test(tc, test_qlinear_conv_groups_bias);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
