/* test_lower_extra.c: the CUDA lowerings of the extra family (src/codegen/lower_extra.c)
 * without a GPU: layers built by hand go through candidates() and lower(); the launches'
 * kernel names, grids, device-address patches and parameter fields are checked against what
 * kernels/cuda/extra.cu expects, and bad shapes, types and attributes are refused with a
 * message. */
#include <stddef.h>
#include <string.h>

#include "cuda/extra_params.h"
#include "lower_testutil.h"

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
    lt_layer t;
    lt_init(&t, "NegativeLogLikelihoodLoss", 13);
    lt_in(&t, 0, F32, 4, D(2, 5, 3, 4));
    lt_in(&t, 1, I64, 3, D(2, 3, 4));
    lt_in(&t, 2, F32, 1, D(5));
    lt_out(&t, 0, F32, 0, NULL);
    lt_attr_int(&t, "ignore_index", -1);
    const char *why;
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[2];
    ck_assert_int_eq(lt_op(&t)->candidates(&t.l, &o, tac, 2, &why), 1);
    ck_assert_uint_ge(tac[0].workspace, 2 * 24 * sizeof(double));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    ck_assert_uint_ge(t.e.workspace, 2 * 24 * sizeof(double));
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "extra", "o2p_extra_loss", sizeof(o2p_extra_loss_params));
    lt_assert_covers(k, 24);
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
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_loss_params, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_loss_params, target_ptr), NULL), 1);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_loss_params, weight_ptr), NULL), 2);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_loss_params, y_ptr), NULL), 10);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_loss_params, ws_ptr), NULL),
                     CG_TENSOR_WORKSPACE);
    ck_assert(!lt_has_patch(k, offsetof(o2p_extra_loss_params, log_prob_ptr)));
    const cg_launch *r = &t.e.launches[1];
    lt_assert_kernel(r, "extra", "o2p_extra_loss_reduce", sizeof(o2p_extra_loss_params));
    ck_assert_uint_eq(r->grid[0], 1);
    ck_assert_uint_eq(r->block[0], 256); /* the kernel's shared arrays hold 256 */
    ck_assert_int_eq(lt_patch_tensor(r, offsetof(o2p_extra_loss_params, y_ptr), NULL), 10);
    ck_assert_int_eq(lt_patch_tensor(r, offsetof(o2p_extra_loss_params, ws_ptr), NULL),
                     CG_TENSOR_WORKSPACE);
    lt_free(&t);
}
END_TEST

START_TEST(test_sce_none_log_prob)
{
    lt_layer t;
    lt_init(&t, "SoftmaxCrossEntropyLoss", 13);
    lt_in(&t, 0, F16, 2, D(3, 5));
    lt_in(&t, 1, I32, 1, D(3));
    lt_out(&t, 0, F16, 1, D(3));
    lt_out(&t, 1, F16, 2, D(3, 5));
    lt_attr_str(&t, "reduction", "none");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    ck_assert_uint_eq(t.e.workspace, 0);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "extra", "o2p_extra_loss", sizeof(o2p_extra_loss_params));
    o2p_extra_loss_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.softmax, 1);
    ck_assert_int_eq(p.d, 1);
    ck_assert_int_eq(p.reduction, O2P_EXTRA_REDUCE_NONE);
    ck_assert_int_eq(p.has_ignore, 0);
    ck_assert_int_eq(p.x_dtype, O2P_CU_FLOAT16);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_loss_params, log_prob_ptr), NULL), 11);
    ck_assert(!lt_has_patch(k, offsetof(o2p_extra_loss_params, weight_ptr)));
    ck_assert(!lt_has_patch(k, offsetof(o2p_extra_loss_params, ws_ptr)));
    lt_free(&t);
}
END_TEST

START_TEST(test_loss_refuses)
{
    lt_layer t;
    const char *why;
    lt_init(&t, "NegativeLogLikelihoodLoss", 13);
    lt_in(&t, 0, F32, 2, D(3, 5));
    lt_in(&t, 1, F32, 1, D(3));
    lt_out(&t, 0, F32, 0, NULL);
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    ck_assert_ptr_nonnull(why);
    TU_ASSERT_STATUS(lt_op(&t)->lower(&t.l, NULL, NULL, &t.e), O2P_ERR_UNSUPPORTED);
    lt_free(&t);

    lt_init(&t, "NegativeLogLikelihoodLoss", 13);
    lt_in(&t, 0, F32, 2, D(3, 5));
    lt_in(&t, 1, I64, 1, D(4));
    lt_out(&t, 0, F32, 0, NULL);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("target");
    lt_free(&t);

    lt_init(&t, "SoftmaxCrossEntropyLoss", 13);
    lt_in(&t, 0, F32, 2, D(3, 5));
    lt_in(&t, 1, I64, 1, D(3));
    lt_out(&t, 0, F32, 1, D(3)); /* mean gives a scalar */
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    lt_free(&t);

    lt_init(&t, "SoftmaxCrossEntropyLoss", 13);
    lt_in(&t, 0, F32, 2, D(3, 5));
    lt_in(&t, 1, I64, 1, D(3));
    lt_in(&t, 2, F32, 1, D(4)); /* weight of C entries */
    lt_out(&t, 0, F32, 0, NULL);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("weight");
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- Einsum */

START_TEST(test_einsum_batch_matmul)
{
    lt_layer t;
    lt_init(&t, "Einsum", 12);
    lt_in(&t, 0, F32, 3, D(2, 3, 4));
    lt_in(&t, 1, F32, 3, D(2, 4, 5));
    lt_out(&t, 0, F32, 3, D(2, 3, 5));
    lt_attr_str(&t, "equation", "bij,bjk->bik");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "extra", "o2p_extra_einsum", sizeof(o2p_extra_einsum_params));
    lt_assert_covers(k, 30);
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
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_einsum_params, in_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_einsum_params, in_ptr) + 8, NULL), 1);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_einsum_params, y_ptr), NULL), 10);
    lt_free(&t);
}
END_TEST

START_TEST(test_einsum_diagonal_and_refusals)
{
    lt_layer t;
    lt_init(&t, "Einsum", 12);
    lt_in(&t, 0, I64, 3, D(2, 3, 3));
    lt_out(&t, 0, I64, 2, D(2, 3));
    lt_attr_str(&t, "equation", "...ii->...i");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    o2p_extra_einsum_params p;
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.num_labels, 2);
    ck_assert_int_eq(p.num_out, 2);
    ck_assert_int_eq(p.num_sum, 1);
    ck_assert_int_eq(p.is_float, 0);
    ck_assert_int_eq(p.strides[0][0], 9); /* the ellipsis dim */
    ck_assert_int_eq(p.strides[0][1], 4); /* i twice: 3 + 1 */
    lt_free(&t);

    /* a wrong output shape */
    lt_init(&t, "Einsum", 12);
    lt_in(&t, 0, F32, 2, D(3, 4));
    lt_out(&t, 0, F32, 2, D(3, 4));
    lt_attr_str(&t, "equation", "ij->ji");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    lt_free(&t);

    /* more labels than the kernel's 32 */
    lt_init(&t, "Einsum", 12);
    static const int64_t ones[11] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    for (int i = 0; i < 3; i++)
        lt_in(&t, i, F32, 11, ones);
    lt_out(&t, 0, F32, 0, NULL);
    lt_attr_str(&t, "equation", "abcdefghijk,lmnopqrstuv,wxyzABCDEFG->");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("labels");
    lt_free(&t);

    /* a bool input has no kernel */
    lt_init(&t, "Einsum", 12);
    lt_in(&t, 0, O2P_DTYPE_BOOL, 1, D(3));
    lt_out(&t, 0, O2P_DTYPE_BOOL, 1, D(3));
    lt_attr_str(&t, "equation", "i->i");
    const char *why;
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- quantization */

START_TEST(test_quantize_per_axis)
{
    lt_layer t;
    lt_init(&t, "QuantizeLinear", 13);
    lt_in(&t, 0, F32, 3, D(2, 3, 4));
    lt_in(&t, 1, F32, 1, D(3));
    lt_in(&t, 2, I8, 1, D(3));
    lt_out(&t, 0, I8, 3, D(2, 3, 4));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "extra", "o2p_extra_quantize", sizeof(o2p_extra_quant_params));
    lt_assert_covers(k, 24);
    o2p_extra_quant_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.total, 24);
    ck_assert_int_eq(p.count, 3);
    ck_assert_int_eq(p.inner, 4);
    ck_assert(p.lo == -128.0 && p.hi == 127.0);
    ck_assert_int_eq(p.f32_div, 1);
    ck_assert_int_eq(p.y_dtype, O2P_CU_INT8);
    ck_assert_int_eq(p.zp_dtype, O2P_CU_INT8);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_quant_params, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_quant_params, scale_ptr), NULL), 1);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_quant_params, zp_ptr), NULL), 2);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_quant_params, y_ptr), NULL), 10);
    lt_free(&t);

    /* opset 10 form: int32 x, no zero point: uint8, division in double */
    lt_init(&t, "QuantizeLinear", 10);
    lt_in(&t, 0, I32, 1, D(5));
    lt_in(&t, 1, F32, 0, NULL);
    lt_out(&t, 0, U8, 1, D(5));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.count, 1);
    ck_assert_int_eq(p.f32_div, 0);
    ck_assert(p.lo == 0.0 && p.hi == 255.0);
    ck_assert(!lt_has_patch(&t.e.launches[0], offsetof(o2p_extra_quant_params, zp_ptr)));
    lt_free(&t);

    /* blocked quantization (a 2-D scale) is not handled */
    lt_init(&t, "QuantizeLinear", 21);
    lt_in(&t, 0, F32, 2, D(4, 4));
    lt_in(&t, 1, F32, 2, D(4, 2));
    lt_out(&t, 0, U8, 2, D(4, 4));
    const char *why;
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    TU_ASSERT_STATUS(lt_op(&t)->lower(&t.l, NULL, NULL, &t.e), O2P_ERR_UNSUPPORTED);
    lt_free(&t);

    /* a per-axis scale that disagrees with the axis */
    lt_init(&t, "QuantizeLinear", 13);
    lt_in(&t, 0, F32, 2, D(2, 3));
    lt_in(&t, 1, F32, 1, D(3));
    lt_out(&t, 0, U8, 2, D(2, 3));
    lt_attr_int(&t, "axis", 0);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("axis");
    lt_free(&t);
}
END_TEST

START_TEST(test_dequantize)
{
    lt_layer t;
    lt_init(&t, "DequantizeLinear", 13);
    lt_in(&t, 0, U8, 2, D(4, 5));
    lt_in(&t, 1, F32, 0, NULL);
    lt_in(&t, 2, U8, 0, NULL);
    lt_out(&t, 0, F32, 2, D(4, 5));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "extra", "o2p_extra_dequantize", sizeof(o2p_extra_quant_params));
    o2p_extra_quant_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.total, 20);
    ck_assert_int_eq(p.count, 1);
    ck_assert_int_eq(p.x_dtype, O2P_CU_UINT8);
    ck_assert_int_eq(p.y_dtype, O2P_CU_FLOAT);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_quant_params, zp_ptr), NULL), 2);
    lt_free(&t);

    /* a zero point of another type than x */
    lt_init(&t, "DequantizeLinear", 13);
    lt_in(&t, 0, U8, 1, D(4));
    lt_in(&t, 1, F32, 0, NULL);
    lt_in(&t, 2, I8, 0, NULL);
    lt_out(&t, 0, F32, 1, D(4));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    lt_free(&t);

    /* float x is not a quantized type */
    lt_init(&t, "DequantizeLinear", 13);
    lt_in(&t, 0, F32, 1, D(4));
    lt_in(&t, 1, F32, 0, NULL);
    lt_out(&t, 0, F32, 1, D(4));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_UNSUPPORTED);
    lt_free(&t);
}
END_TEST

START_TEST(test_dynamic_quantize)
{
    lt_layer t;
    lt_init(&t, "DynamicQuantizeLinear", 11);
    lt_in(&t, 0, F32, 2, D(3, 1000));
    lt_out(&t, 0, U8, 2, D(3, 1000));
    lt_out(&t, 1, F32, 0, NULL);
    lt_out(&t, 2, U8, 0, NULL);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    const cg_launch *r = &t.e.launches[0], *a = &t.e.launches[1];
    lt_assert_kernel(r, "extra", "o2p_extra_dynq_range", sizeof(o2p_extra_dynq_params));
    ck_assert_uint_eq(r->grid[0], 1);
    ck_assert_uint_eq(r->block[0], 256);
    ck_assert_int_eq(lt_patch_tensor(r, offsetof(o2p_extra_dynq_params, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(r, offsetof(o2p_extra_dynq_params, scale_ptr), NULL), 11);
    ck_assert_int_eq(lt_patch_tensor(r, offsetof(o2p_extra_dynq_params, zp_ptr), NULL), 12);
    lt_assert_kernel(a, "extra", "o2p_extra_dynq_apply", sizeof(o2p_extra_dynq_params));
    lt_assert_covers(a, 3000);
    ck_assert_int_eq(lt_patch_tensor(a, offsetof(o2p_extra_dynq_params, y_ptr), NULL), 10);
    ck_assert_int_eq(lt_patch_tensor(a, offsetof(o2p_extra_dynq_params, scale_ptr), NULL), 11);
    o2p_extra_dynq_params p;
    memcpy(&p, a->params, sizeof p);
    ck_assert_int_eq(p.total, 3000);
    lt_free(&t);

    lt_init(&t, "DynamicQuantizeLinear", 11);
    lt_in(&t, 0, F16, 1, D(4));
    lt_out(&t, 0, U8, 1, D(4));
    lt_out(&t, 1, F32, 0, NULL);
    lt_out(&t, 2, U8, 0, NULL);
    const char *why;
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    lt_free(&t);
}
END_TEST

START_TEST(test_matmul_integer_broadcast)
{
    lt_layer t;
    lt_init(&t, "MatMulInteger", 10);
    lt_in(&t, 0, U8, 3, D(2, 2, 3));
    lt_in(&t, 1, I8, 2, D(3, 4));
    lt_in(&t, 2, U8, 1, D(2)); /* per row */
    lt_in(&t, 3, I8, 0, NULL);
    lt_out(&t, 0, I32, 3, D(2, 2, 4));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "extra", "o2p_extra_qmatmul", sizeof(o2p_extra_qmatmul_params));
    lt_assert_covers(k, 16);
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
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_qmatmul_params, a_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_qmatmul_params, b_ptr), NULL), 1);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_qmatmul_params, a_zp_ptr), NULL), 2);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_qmatmul_params, b_zp_ptr), NULL), 3);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_qmatmul_params, y_ptr), NULL), 10);
    ck_assert(!lt_has_patch(k, offsetof(o2p_extra_qmatmul_params, a_scale_ptr)));
    lt_free(&t);

    /* a zero point with as many entries as K (neither 1 nor M) is refused */
    lt_init(&t, "MatMulInteger", 10);
    lt_in(&t, 0, U8, 2, D(2, 3));
    lt_in(&t, 1, U8, 2, D(3, 4));
    lt_in(&t, 2, U8, 1, D(3));
    lt_out(&t, 0, I32, 2, D(2, 4));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("zero point");
    lt_free(&t);
}
END_TEST

START_TEST(test_qlinear_matmul)
{
    lt_layer t;
    lt_init(&t, "QLinearMatMul", 10);
    lt_in(&t, 0, U8, 2, D(2, 4));
    lt_in(&t, 1, F32, 0, NULL);
    lt_in(&t, 2, U8, 0, NULL);
    lt_in(&t, 3, U8, 2, D(4, 3));
    lt_in(&t, 4, F32, 1, D(3)); /* per column */
    lt_in(&t, 5, U8, 1, D(3));
    lt_in(&t, 6, F32, 0, NULL);
    lt_in(&t, 7, U8, 0, NULL);
    lt_out(&t, 0, U8, 2, D(2, 3));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
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
        ck_assert_int_eq(lt_patch_tensor(k, offs[i], NULL), i);
    lt_free(&t);

    /* a float scale is required */
    lt_init(&t, "QLinearMatMul", 10);
    lt_in(&t, 0, U8, 2, D(2, 4));
    lt_in(&t, 1, F64, 0, NULL);
    lt_in(&t, 2, U8, 0, NULL);
    lt_in(&t, 3, U8, 2, D(4, 3));
    lt_in(&t, 4, F32, 0, NULL);
    lt_in(&t, 5, U8, 0, NULL);
    lt_in(&t, 6, F32, 0, NULL);
    lt_in(&t, 7, U8, 0, NULL);
    lt_out(&t, 0, U8, 2, D(2, 3));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_UNSUPPORTED);
    lt_free(&t);
}
END_TEST

START_TEST(test_conv_integer)
{
    lt_layer t;
    lt_init(&t, "ConvInteger", 10);
    lt_in(&t, 0, U8, 4, D(1, 1, 3, 3));
    lt_in(&t, 1, U8, 4, D(1, 1, 2, 2));
    lt_in(&t, 2, U8, 0, NULL);
    lt_out(&t, 0, I32, 4, D(1, 1, 4, 4));
    lt_attr_ints(&t, "pads", D(1, 1, 1, 1), 4);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "extra", "o2p_extra_qconv", sizeof(o2p_extra_qconv_params));
    lt_assert_covers(k, 16);
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
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_qconv_params, x_zp_ptr), NULL), 2);
    ck_assert(!lt_has_patch(k, offsetof(o2p_extra_qconv_params, w_zp_ptr)));
    lt_free(&t);

    /* without pads the output is 2 x 2 */
    lt_init(&t, "ConvInteger", 10);
    lt_in(&t, 0, U8, 4, D(1, 1, 3, 3));
    lt_in(&t, 1, U8, 4, D(1, 1, 2, 2));
    lt_out(&t, 0, I32, 4, D(1, 1, 4, 4));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    lt_free(&t);

    /* float x has no integer kernel */
    lt_init(&t, "ConvInteger", 10);
    lt_in(&t, 0, F32, 4, D(1, 1, 3, 3));
    lt_in(&t, 1, F32, 4, D(1, 1, 2, 2));
    lt_out(&t, 0, I32, 4, D(1, 1, 2, 2));
    const char *why;
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    lt_free(&t);
}
END_TEST

START_TEST(test_qlinear_conv_groups_bias)
{
    lt_layer t;
    lt_init(&t, "QLinearConv", 10);
    lt_in(&t, 0, I8, 4, D(2, 4, 5, 5));
    lt_in(&t, 1, F32, 0, NULL);
    lt_in(&t, 2, I8, 0, NULL);
    lt_in(&t, 3, I8, 4, D(6, 2, 3, 3));
    lt_in(&t, 4, F32, 1, D(6));
    lt_in(&t, 5, I8, 1, D(6));
    lt_in(&t, 6, F32, 0, NULL);
    lt_in(&t, 7, I8, 0, NULL);
    lt_in(&t, 8, I32, 1, D(6));
    lt_out(&t, 0, I8, 4, D(2, 6, 3, 3));
    lt_attr_int(&t, "group", 2);
    lt_attr_ints(&t, "strides", D(2, 2), 2);
    lt_attr_str(&t, "auto_pad", "SAME_UPPER");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
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
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_qconv_params, w_ptr), NULL), 3);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_qconv_params, w_scale_ptr), NULL), 4);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_qconv_params, bias_ptr), NULL), 8);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_extra_qconv_params, y_zp_ptr), NULL), 7);
    lt_free(&t);

    /* channels that do not match the groups */
    lt_init(&t, "QLinearConv", 10);
    lt_in(&t, 0, I8, 4, D(2, 4, 5, 5));
    lt_in(&t, 1, F32, 0, NULL);
    lt_in(&t, 2, I8, 0, NULL);
    lt_in(&t, 3, I8, 4, D(6, 3, 3, 3));
    lt_in(&t, 4, F32, 0, NULL);
    lt_in(&t, 5, I8, 0, NULL);
    lt_in(&t, 6, F32, 0, NULL);
    lt_in(&t, 7, I8, 0, NULL);
    lt_out(&t, 0, I8, 4, D(2, 6, 3, 3));
    lt_attr_int(&t, "group", 2);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("group");
    lt_free(&t);
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
