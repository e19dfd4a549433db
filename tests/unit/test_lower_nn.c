/* test_lower_nn.c: the CUDA lowerings of the nn family (src/codegen/lower_nn.c) without a GPU:
 * layers built by hand go through candidates() and lower(); the launches' kernel names, grids,
 * device-address patches and parameter fields are checked against what kernels/cuda/nn.cu
 * expects, and bad shapes, types and attributes are refused with a message. */
#include <stddef.h>
#include <string.h>

#include "cuda/nn_params.h"
#include "lower_testutil.h"

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
    lt_layer t;
    lt_init(&t, "Softmax", 13);
    lt_in(&t, 0, F32, 3, D(2, 3, 5));
    lt_out(&t, 0, F32, 3, D(2, 3, 5));
    lt_attr_int(&t, "axis", 1);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_softmax_f32", sizeof(o2p_nn_rows_params));
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
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_nn_rows_params, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_nn_rows_params, y_ptr), NULL), 10);
    lt_free(&t);
}
END_TEST

START_TEST(test_softmax_legacy_coerces_2d)
{
    lt_layer t;
    lt_init(&t, "LogSoftmax", 11); /* opset < 13: axis 1 (default) flattens [3, 5] */
    lt_in(&t, 0, F16, 3, D(2, 3, 5));
    lt_out(&t, 0, F16, 3, D(2, 3, 5));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_softmax_f16", sizeof(o2p_nn_rows_params));
    o2p_nn_rows_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_LOG_SOFTMAX);
    ck_assert_int_eq(p.num_rows, 2);
    ck_assert_int_eq(p.row_len, 15);
    ck_assert_int_eq(p.cols.strides[0], 1);
    lt_free(&t);

    lt_init(&t, "Hardmax", 13); /* opset 13: axis -1 */
    lt_in(&t, 0, O2P_DTYPE_DOUBLE, 3, D(2, 3, 5));
    lt_out(&t, 0, O2P_DTYPE_DOUBLE, 3, D(2, 3, 5));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_softmax_f64", sizeof(o2p_nn_rows_params));
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_HARDMAX);
    ck_assert_int_eq(p.num_rows, 6);
    ck_assert_int_eq(p.row_len, 5);
    lt_free(&t);
}
END_TEST

START_TEST(test_softmax_refuses)
{
    lt_layer t;
    const char *why;
    lt_init(&t, "Softmax", 13);
    lt_in(&t, 0, O2P_DTYPE_INT32, 2, D(2, 3));
    lt_out(&t, 0, O2P_DTYPE_INT32, 2, D(2, 3));
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    ck_assert_ptr_nonnull(why);
    TU_ASSERT_STATUS(lt_op(&t)->lower(&t.l, NULL, NULL, &t.e), O2P_ERR_UNSUPPORTED);
    lt_free(&t);

    lt_init(&t, "Softmax", 13);
    lt_in(&t, 0, F32, 2, D(2, 3));
    lt_out(&t, 0, F32, 2, D(2, 4));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("n0");
    TU_ASSERT_ERROR_HAS("[2,3]");
    lt_free(&t);

    lt_init(&t, "Softmax", 13);
    lt_in(&t, 0, F32, 2, D(2, 3));
    lt_out(&t, 0, F32, 2, D(2, 3));
    lt_attr_int(&t, "axis", 2);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("axis");
    lt_free(&t);

    /* no elements: nothing to launch */
    lt_init(&t, "Softmax", 13);
    lt_in(&t, 0, F32, 2, D(0, 3));
    lt_out(&t, 0, F32, 2, D(0, 3));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 0);
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- normalizations */

START_TEST(test_layer_norm)
{
    lt_layer t;
    lt_init(&t, "LayerNormalization", 17);
    lt_in(&t, 0, F32, 3, D(2, 4, 8));
    lt_in(&t, 1, F16, 1, D(8));
    lt_in(&t, 2, F32, 2, D(1, 8));
    lt_out(&t, 0, F32, 3, D(2, 4, 8));
    lt_out(&t, 2, F32, 3, D(2, 4, 1)); /* InvStdDev only */
    lt_attr_float(&t, "epsilon", 1e-3f);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_norm_f32", sizeof(o2p_nn_rows_params));
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
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_nn_rows_params, scale_ptr), NULL), 1);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_nn_rows_params, bias_ptr), NULL), 2);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_nn_rows_params, inv_ptr), NULL), 12);
    lt_free(&t);

    lt_init(&t, "LayerNormalization", 17);
    lt_in(&t, 0, F32, 2, D(4, 8));
    lt_in(&t, 1, F32, 1, D(7));
    lt_out(&t, 0, F32, 2, D(4, 8));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("broadcast");
    lt_free(&t);
}
END_TEST

START_TEST(test_instance_group_norm)
{
    lt_layer t;
    lt_init(&t, "InstanceNormalization", 6);
    lt_in(&t, 0, O2P_DTYPE_BFLOAT16, 4, D(2, 3, 4, 5));
    lt_in(&t, 1, F32, 1, D(3));
    lt_in(&t, 2, F32, 1, D(3));
    lt_out(&t, 0, O2P_DTYPE_BFLOAT16, 4, D(2, 3, 4, 5));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_norm_bf16", sizeof(o2p_nn_rows_params));
    o2p_nn_rows_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.num_rows, 6);
    ck_assert_int_eq(p.row_len, 20);
    ck_assert_int_eq(p.scale.dims[1], 3);
    ck_assert_int_eq(p.scale.dims[2], 20);
    ck_assert_int_eq(p.scale.strides[1], 1);
    ck_assert_int_eq(p.scale.strides[2], 0);
    ck_assert_uint_eq(k->grid[0], 6);
    lt_free(&t);

    /* opset 18 GroupNormalization: scale per group */
    lt_init(&t, "GroupNormalization", 18);
    lt_in(&t, 0, F32, 4, D(2, 6, 4, 4));
    lt_in(&t, 1, F32, 1, D(3));
    lt_in(&t, 2, F32, 1, D(3));
    lt_out(&t, 0, F32, 4, D(2, 6, 4, 4));
    lt_attr_int(&t, "num_groups", 3);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.num_rows, 6);
    ck_assert_int_eq(p.row_len, 32);
    ck_assert_int_eq(p.scale.dims[1], 3);
    ck_assert_int_eq(p.scale.dims[2], 32);
    lt_free(&t);

    /* opset 21: per channel */
    lt_init(&t, "GroupNormalization", 21);
    lt_in(&t, 0, F32, 4, D(2, 6, 4, 4));
    lt_in(&t, 1, F32, 1, D(6));
    lt_in(&t, 2, F32, 1, D(6));
    lt_out(&t, 0, F32, 4, D(2, 6, 4, 4));
    lt_attr_int(&t, "num_groups", 3);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.scale.dims[1], 6);
    ck_assert_int_eq(p.scale.dims[2], 16);
    lt_free(&t);

    lt_init(&t, "GroupNormalization", 21);
    lt_in(&t, 0, F32, 4, D(2, 6, 4, 4));
    lt_in(&t, 1, F32, 1, D(6));
    lt_in(&t, 2, F32, 1, D(6));
    lt_out(&t, 0, F32, 4, D(2, 6, 4, 4));
    lt_attr_int(&t, "num_groups", 4);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("num_groups");
    lt_free(&t);
}
END_TEST

START_TEST(test_mvn_lp_lrn)
{
    lt_layer t;
    lt_init(&t, "MeanVarianceNormalization", 13); /* default axes 0, 2, 3 */
    lt_in(&t, 0, F32, 4, D(2, 3, 4, 5));
    lt_out(&t, 0, F32, 4, D(2, 3, 4, 5));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
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
    lt_free(&t);

    lt_init(&t, "LpNormalization", 1);
    lt_in(&t, 0, F32, 2, D(3, 4));
    lt_out(&t, 0, F32, 2, D(3, 4));
    lt_attr_int(&t, "p", 1);
    lt_attr_int(&t, "axis", 0);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_NORM_LP1);
    ck_assert_int_eq(p.num_rows, 4);
    ck_assert_int_eq(p.row_len, 3);
    ck_assert_int_eq(p.cols.strides[0], 4);
    lt_free(&t);

    lt_init(&t, "LpNormalization", 1);
    lt_in(&t, 0, F32, 2, D(3, 4));
    lt_out(&t, 0, F32, 2, D(3, 4));
    lt_attr_int(&t, "p", 3);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    lt_free(&t);

    lt_init(&t, "LRN", 13);
    lt_in(&t, 0, F32, 4, D(1, 5, 3, 3));
    lt_out(&t, 0, F32, 4, D(1, 5, 3, 3));
    lt_attr_int(&t, "size", 3);
    lt_attr_float(&t, "beta", 0.5f);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_lrn_f32", sizeof(o2p_nn_lrn_params));
    lt_assert_covers(k, 45);
    o2p_nn_lrn_params lp;
    memcpy(&lp, k->params, sizeof lp);
    ck_assert_int_eq(lp.total, 45);
    ck_assert_int_eq(lp.channels, 5);
    ck_assert_int_eq(lp.inner, 9);
    ck_assert_int_eq(lp.size, 3);
    ck_assert_double_eq_tol(lp.beta, 0.5, 1e-9);
    ck_assert_double_eq_tol(lp.alpha, 1e-4, 1e-9);
    lt_free(&t);

    lt_init(&t, "LRN", 13);
    lt_in(&t, 0, F32, 4, D(1, 5, 3, 3));
    lt_out(&t, 0, F32, 4, D(1, 5, 3, 3));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("size");
    lt_free(&t);
}
END_TEST

START_TEST(test_batch_norm)
{
    lt_layer t;
    lt_init(&t, "BatchNormalization", 15);
    lt_in(&t, 0, F32, 4, D(2, 3, 4, 4));
    for (int i = 1; i < 5; i++)
        lt_in(&t, i, F32, 1, D(3));
    lt_out(&t, 0, F32, 4, D(2, 3, 4, 4));
    lt_out(&t, 1, F32, 1, D(3));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    /* running_mean is input_mean unchanged: a copy */
    const cg_launch *c = &t.e.launches[0];
    ck_assert_int_eq(c->kind, CG_LAUNCH_COPY);
    cg_copy_params cp;
    memcpy(&cp, c->params, sizeof cp);
    ck_assert_uint_eq(cp.bytes, 12);
    ck_assert_int_eq(lt_patch_tensor(c, 0, NULL), 11);
    ck_assert_int_eq(lt_patch_tensor(c, 8, NULL), 3);
    const cg_launch *k = &t.e.launches[1];
    lt_assert_kernel(k, "nn", "o2p_nn_batch_norm_f32", sizeof(o2p_nn_batch_norm_params));
    lt_assert_covers(k, 96);
    o2p_nn_batch_norm_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.total, 96);
    ck_assert_int_eq(p.channels, 3);
    ck_assert_int_eq(p.inner, 16);
    ck_assert_int_eq(p.per_element, 0);
    ck_assert_int_eq(k->num_patches, 6);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_nn_batch_norm_params, var_ptr), NULL), 4);
    lt_free(&t);

    lt_init(&t, "BatchNormalization", 15);
    lt_in(&t, 0, F32, 4, D(2, 3, 4, 4));
    for (int i = 1; i < 5; i++)
        lt_in(&t, i, F32, 1, D(3));
    lt_out(&t, 0, F32, 4, D(2, 3, 4, 4));
    lt_attr_int(&t, "training_mode", 1);
    /* training mode: the batch statistics (training family), then the normalization with
     * them (test_lower_training.c checks the launches) */
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    ck_assert_str_eq(t.e.launches[0].function, "o2p_training_bn_stats");
    ck_assert_str_eq(t.e.launches[1].function, "o2p_nn_batch_norm_f32");
    lt_free(&t);

    lt_init(&t, "BatchNormalization", 15);
    lt_in(&t, 0, F32, 4, D(2, 3, 4, 4));
    for (int i = 1; i < 5; i++)
        lt_in(&t, i, F32, 1, D(i == 2 ? 4 : 3));
    lt_out(&t, 0, F32, 4, D(2, 3, 4, 4));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("B must have");
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- pools */

START_TEST(test_max_pool)
{
    lt_layer t;
    static const int64_t k2[] = {2, 2}, s2[] = {2, 2}, pads[] = {0, 1, 0, 0};
    lt_init(&t, "MaxPool", 12);
    lt_in(&t, 0, F32, 4, D(1, 2, 5, 5));
    /* 5 wide, kernel 2 stride 2, ceil_mode: 3 outputs; pad 1 on the left of W: 3 too */
    lt_out(&t, 0, F32, 4, D(1, 2, 3, 3));
    lt_out(&t, 1, I64, 4, D(1, 2, 3, 3));
    lt_attr_ints(&t, "kernel_shape", k2, 2);
    lt_attr_ints(&t, "strides", s2, 2);
    lt_attr_ints(&t, "pads", pads, 4);
    lt_attr_int(&t, "ceil_mode", 1);
    lt_attr_int(&t, "storage_order", 1);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_pool_f32", sizeof(o2p_nn_pool_params));
    lt_assert_covers(k, 18);
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
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_nn_pool_params, idx_ptr), NULL), 11);
    lt_free(&t);

    /* the output shape must be what the window gives */
    lt_init(&t, "MaxPool", 12);
    lt_in(&t, 0, F32, 4, D(1, 2, 5, 5));
    lt_out(&t, 0, F32, 4, D(1, 2, 3, 3));
    lt_attr_ints(&t, "kernel_shape", k2, 2);
    lt_attr_ints(&t, "strides", s2, 2);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("[1,2,2,2]");
    lt_free(&t);

    /* int8 MaxPool has a kernel; int8 AveragePool does not */
    lt_init(&t, "MaxPool", 12);
    lt_in(&t, 0, O2P_DTYPE_INT8, 3, D(1, 1, 4));
    lt_out(&t, 0, O2P_DTYPE_INT8, 3, D(1, 1, 3));
    lt_attr_ints(&t, "kernel_shape", k2, 1);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_str_eq(t.e.launches[0].function, "o2p_nn_pool_i8");
    lt_free(&t);

    const char *why;
    lt_init(&t, "AveragePool", 12);
    lt_in(&t, 0, O2P_DTYPE_INT8, 3, D(1, 1, 4));
    lt_out(&t, 0, O2P_DTYPE_INT8, 3, D(1, 1, 3));
    lt_attr_ints(&t, "kernel_shape", k2, 1);
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    ck_assert_ptr_nonnull(why);
    lt_free(&t);
}
END_TEST

START_TEST(test_avg_lp_global_pool)
{
    lt_layer t;
    static const int64_t k3[] = {3, 3}, pads[] = {1, 1, 1, 1};
    lt_init(&t, "AveragePool", 19);
    lt_in(&t, 0, F16, 4, D(1, 1, 4, 4));
    lt_out(&t, 0, F16, 4, D(1, 1, 4, 4));
    lt_attr_ints(&t, "kernel_shape", k3, 2);
    lt_attr_ints(&t, "pads", pads, 4);
    lt_attr_int(&t, "count_include_pad", 1);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_pool_f16", sizeof(o2p_nn_pool_params));
    o2p_nn_pool_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_POOL_AVG);
    ck_assert_int_eq(p.count_include_pad, 1);
    ck_assert_int_eq(p.pad_begin[0], 1);
    ck_assert_int_eq(k->num_patches, 2);
    lt_free(&t);

    lt_init(&t, "LpPool", 18);
    lt_in(&t, 0, F32, 4, D(1, 1, 4, 4));
    lt_out(&t, 0, F32, 4, D(1, 1, 2, 2));
    lt_attr_ints(&t, "kernel_shape", k3, 2);
    lt_attr_int(&t, "p", 3);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.kind, O2P_NN_POOL_LP);
    ck_assert_double_eq_tol(p.p, 3.0, 1e-12);
    lt_free(&t);

    lt_init(&t, "GlobalAveragePool", 1);
    lt_in(&t, 0, F32, 4, D(2, 3, 7, 7));
    lt_out(&t, 0, F32, 4, D(2, 3, 1, 1));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_global_pool_f32", sizeof(o2p_nn_global_pool_params));
    o2p_nn_global_pool_params g;
    memcpy(&g, k->params, sizeof g);
    ck_assert_int_eq(g.kind, O2P_NN_POOL_AVG);
    ck_assert_int_eq(g.planes, 6);
    ck_assert_int_eq(g.size, 49);
    ck_assert_uint_eq(k->grid[0], 6);
    lt_free(&t);

    lt_init(&t, "GlobalMaxPool", 1);
    lt_in(&t, 0, F32, 4, D(2, 3, 7, 7));
    lt_out(&t, 0, F32, 4, D(2, 3, 7, 1));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- Resize, Upsample */

START_TEST(test_resize_nearest_scales)
{
    lt_layer t;
    static const float scales[4] = {1.0f, 1.0f, 2.0f, 1.5f};
    lt_init(&t, "Resize", 13);
    lt_in(&t, 0, O2P_DTYPE_UINT8, 4, D(1, 1, 2, 2));
    lt_in(&t, 2, F32, 1, D(4))->data = (void *)scales;
    lt_out(&t, 0, O2P_DTYPE_UINT8, 4, D(1, 1, 4, 3));
    lt_attr_str(&t, "coordinate_transformation_mode", "asymmetric");
    lt_attr_str(&t, "nearest_mode", "ceil");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_resize_nearest", sizeof(o2p_nn_resize_params));
    lt_assert_covers(k, 12);
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
    lt_free(&t);

    /* scales computed at run time: no CUDA kernel */
    const char *why;
    lt_init(&t, "Resize", 13);
    lt_in(&t, 0, F32, 4, D(1, 1, 2, 2));
    lt_in(&t, 2, F32, 1, D(4));
    lt_out(&t, 0, F32, 4, D(1, 1, 4, 4));
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    ck_assert_ptr_nonnull(why);
    lt_free(&t);

    /* the output must have floor(in * scale) */
    lt_init(&t, "Resize", 13);
    lt_in(&t, 0, O2P_DTYPE_UINT8, 4, D(1, 1, 2, 2));
    lt_in(&t, 2, F32, 1, D(4))->data = (void *)scales;
    lt_out(&t, 0, O2P_DTYPE_UINT8, 4, D(1, 1, 4, 4));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    lt_free(&t);
}
END_TEST

START_TEST(test_resize_linear_passes)
{
    lt_layer t;
    /* sizes not known at build time: the output's dims (stretch) */
    lt_init(&t, "Resize", 19);
    lt_in(&t, 0, F32, 4, D(1, 2, 4, 6));
    lt_in(&t, 3, I64, 1, D(4));
    lt_out(&t, 0, F32, 4, D(1, 2, 8, 3));
    lt_attr_str(&t, "mode", "linear");
    lt_attr_int(&t, "antialias", 1);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2); /* H then W */
    ck_assert_uint_ge(t.e.workspace, 2 * 2 * 8 * 6 * sizeof(double));
    const cg_launch *k0 = &t.e.launches[0], *k1 = &t.e.launches[1];
    lt_assert_kernel(k0, "nn", "o2p_nn_resize_axis", sizeof(o2p_nn_resize_params));
    lt_assert_kernel(k1, "nn", "o2p_nn_resize_axis", sizeof(o2p_nn_resize_params));
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
    ck_assert_int_eq(lt_patch_tensor(k0, offsetof(o2p_nn_resize_params, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k0, offsetof(o2p_nn_resize_params, y_ptr), &off),
                     CG_TENSOR_WORKSPACE);
    uint64_t off1;
    ck_assert_int_eq(lt_patch_tensor(k1, offsetof(o2p_nn_resize_params, x_ptr), &off1),
                     CG_TENSOR_WORKSPACE);
    ck_assert_uint_eq(off, off1);
    ck_assert_int_eq(lt_patch_tensor(k1, offsetof(o2p_nn_resize_params, y_ptr), NULL), 10);
    lt_free(&t);

    /* cubic needs opset 11; keep_aspect_ratio_policy needs constant sizes */
    lt_init(&t, "Resize", 10);
    static const float sc[4] = {1, 1, 2, 2};
    lt_in(&t, 0, F32, 4, D(1, 1, 2, 2));
    lt_in(&t, 1, F32, 1, D(4))->data = (void *)sc;
    lt_out(&t, 0, F32, 4, D(1, 1, 4, 4));
    lt_attr_str(&t, "mode", "cubic");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("cubic");
    lt_free(&t);

    lt_init(&t, "Resize", 19);
    lt_in(&t, 0, F32, 4, D(1, 2, 4, 6));
    lt_in(&t, 3, I64, 1, D(4));
    lt_out(&t, 0, F32, 4, D(1, 2, 8, 12));
    lt_attr_str(&t, "keep_aspect_ratio_policy", "not_larger");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("sizes");
    lt_free(&t);

    /* constant sizes with not_larger: one scale for both axes */
    static const int64_t sizes[2] = {8, 24}, axes[2] = {2, -1};
    lt_init(&t, "Resize", 19);
    lt_in(&t, 0, F32, 4, D(1, 2, 4, 6));
    lt_in(&t, 3, I64, 1, D(2))->data = (void *)sizes;
    lt_out(&t, 0, F32, 4, D(1, 2, 8, 12));
    lt_attr_ints(&t, "axes", axes, 2);
    lt_attr_str(&t, "keep_aspect_ratio_policy", "not_larger");
    lt_attr_str(&t, "mode", "cubic");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    o2p_nn_resize_params p;
    memcpy(&p, t.e.launches[1].params, sizeof p);
    ck_assert_double_eq_tol(p.scale[3], 2.0, 1e-12);
    ck_assert_int_eq(p.taps, 4);
    ck_assert_int_eq(p.mode, O2P_NN_RESIZE_CUBIC);
    ck_assert_double_eq_tol(p.cubic_a, -0.75, 1e-7);
    lt_free(&t);
}
END_TEST

START_TEST(test_upsample)
{
    lt_layer t;
    static const float scales[4] = {1, 1, 2, 3};
    lt_init(&t, "Upsample", 7); /* opset 7: scales is an attribute */
    lt_in(&t, 0, F32, 4, D(1, 1, 2, 2));
    lt_out(&t, 0, F32, 4, D(1, 1, 4, 6));
    host_attr *a = lt_attr(&t, "scales", O2P_ATTR_FLOATS);
    a->floats = scales;
    a->count = 4;
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_str_eq(t.e.launches[0].function, "o2p_nn_resize_nearest");
    o2p_nn_resize_params p;
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.coord, O2P_NN_CT_ASYMMETRIC);
    ck_assert_int_eq(p.nearest, O2P_NN_NM_FLOOR);
    ck_assert_int_eq(p.out[3], 6);
    lt_free(&t);

    lt_init(&t, "Upsample", 9); /* opset 9: an input */
    lt_in(&t, 0, O2P_DTYPE_INT32, 4, D(1, 1, 2, 2));
    lt_in(&t, 1, F32, 1, D(4))->data = (void *)scales;
    lt_out(&t, 0, O2P_DTYPE_INT32, 4, D(1, 1, 4, 6));
    lt_attr_str(&t, "mode", "linear");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    memcpy(&p, t.e.launches[1].params, sizeof p);
    ck_assert_int_eq(p.y_dtype, O2P_CU_INT32);
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- GridSample, blocks */

START_TEST(test_grid_sample)
{
    lt_layer t;
    lt_init(&t, "GridSample", 16);
    lt_in(&t, 0, F32, 4, D(2, 3, 5, 6));
    lt_in(&t, 1, F32, 4, D(2, 4, 7, 2));
    lt_out(&t, 0, F32, 4, D(2, 3, 4, 7));
    lt_attr_str(&t, "mode", "bicubic");
    lt_attr_str(&t, "padding_mode", "reflection");
    lt_attr_int(&t, "align_corners", 1);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_grid_sample", sizeof(o2p_nn_grid_sample_params));
    lt_assert_covers(k, 168);
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
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_nn_grid_sample_params, grid_ptr), NULL), 1);
    lt_free(&t);

    lt_init(&t, "GridSample", 16);
    lt_in(&t, 0, F32, 4, D(2, 3, 5, 6));
    lt_in(&t, 1, F32, 4, D(2, 4, 7, 3));
    lt_out(&t, 0, F32, 4, D(2, 3, 4, 7));
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("grid");
    lt_free(&t);
}
END_TEST

START_TEST(test_depth_space)
{
    lt_layer t;
    lt_init(&t, "DepthToSpace", 13);
    lt_in(&t, 0, F16, 4, D(1, 8, 2, 3));
    lt_out(&t, 0, F16, 4, D(1, 2, 4, 6));
    lt_attr_int(&t, "blocksize", 2);
    lt_attr_str(&t, "mode", "CRD");
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel(k, "nn", "o2p_nn_space_depth", sizeof(o2p_nn_space_depth_params));
    lt_assert_covers(k, 48);
    o2p_nn_space_depth_params p;
    memcpy(&p, k->params, sizeof p);
    ck_assert_int_eq(p.total, 48);
    ck_assert_int_eq(p.c, 8);
    ck_assert_int_eq(p.block, 2);
    ck_assert_int_eq(p.to_space, 1);
    ck_assert_int_eq(p.crd, 1);
    ck_assert_int_eq(p.elem_size, 2);
    lt_free(&t);

    lt_init(&t, "SpaceToDepth", 13);
    lt_in(&t, 0, I64, 4, D(1, 2, 4, 6));
    lt_out(&t, 0, I64, 4, D(1, 8, 2, 3));
    lt_attr_int(&t, "blocksize", 2);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_OK);
    memcpy(&p, t.e.launches[0].params, sizeof p);
    ck_assert_int_eq(p.to_space, 0);
    ck_assert_int_eq(p.crd, 0);
    ck_assert_int_eq(p.elem_size, 8);
    lt_free(&t);

    lt_init(&t, "SpaceToDepth", 13);
    lt_in(&t, 0, F32, 4, D(1, 2, 5, 6));
    lt_out(&t, 0, F32, 4, D(1, 8, 2, 3));
    lt_attr_int(&t, "blocksize", 2);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("divisible");
    lt_free(&t);

    lt_init(&t, "DepthToSpace", 13);
    lt_in(&t, 0, F32, 3, D(8, 2, 3));
    lt_out(&t, 0, F32, 3, D(8, 2, 3));
    lt_attr_int(&t, "blocksize", 2);
    TU_ASSERT_STATUS(lt_lower(&t), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("rank 4");
    lt_free(&t);
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
