/* test_lower_elementwise.c: the elementwise family's CUDA lowerings (no GPU): hand-made layers
 * go through candidates() and lower(), and the launches they emit are checked: kernel names,
 * grids covering the elements, patched addresses, the params' shapes, strides and attributes;
 * layers the host kernel refuses are refused with a message. */
#include <stdio.h>
#include <string.h>

#include "cuda/elementwise_params.h"
#include "host/host_kernels.h"
#include "lower_testutil.h"

/* candidates() then lower(): no candidate is a failure that says why; else exactly one, of
 * this family (or the training family's Dropout). */
static o2p_status lower(lt_layer *y)
{
    cg_tactic t[LT_MAX_TACTICS];
    const char *why;
    int n = lt_candidates(y, t, &why);
    if (n == 0)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "no candidate: %s", why ? why : "?");
    ck_assert_int_eq(n, 1);
    ck_assert(strncmp(t[0].kernel, "cuda.elementwise.", 17) == 0 ||
              strcmp(t[0].kernel, "cuda.training.dropout") == 0);
    ck_assert(t[0].cost >= 0);
    return lt_op(y)->lower(&y->l, &t[0], &lt_options, &y->e);
}

/* Launch i is this family's kernel function, with a grid of at least threads. */
static const cg_launch *launch(lt_layer *y, int i, const char *function, uint64_t threads)
{
    const cg_launch *k = lt_launch(y, i);
    ck_assert_int_eq(k->kind, CG_LAUNCH_KERNEL);
    ck_assert_str_eq(k->family, "elementwise");
    ck_assert_str_eq(k->function, function);
    ck_assert_uint_ge((uint64_t)k->grid[0] * k->block[0], threads);
    return k;
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_every_host_op_has_a_lowering)
{
    for (int i = 0; i < host_elementwise_kernel_count; i++) {
        const char *op = host_elementwise_kernels[i].op_type;
        const cg_op *c = cg_op_find(op);
        ck_assert_msg(c != NULL, "no CUDA lowering for %s", op);
        ck_assert_str_eq(c->op_type, op);
    }
    ck_assert_int_eq(cg_elementwise_op_count, host_elementwise_kernel_count);
}
END_TEST

START_TEST(test_add_broadcasts)
{
    lt_layer y;
    lt_init(&y, "Add", 14);
    lt_add_in(&y, F32, 3, D(2, 3, 4));
    lt_add_in(&y, F32, 2, D(3, 1));
    lt_add_out(&y, F32, 3, D(2, 3, 4));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert_int_eq(y.e.count, 1);
    const cg_launch *k = launch(&y, 0, "o2p_elementwise_binary_f32", 24);
    ck_assert_uint_eq(k->param_size, sizeof(o2p_ew_binary_params));
    lt_assert_patch(k, offsetof(o2p_ew_binary_params, a_ptr), 0, 0);
    lt_assert_patch(k, offsetof(o2p_ew_binary_params, b_ptr), 1, 0);
    lt_assert_patch(k, offsetof(o2p_ew_binary_params, y_ptr), 10, 0);
    const o2p_ew_binary_params *p = PARAMS(o2p_ew_binary_params, k);
    ck_assert_int_eq(p->n, 24);
    ck_assert_int_eq(p->op, O2P_EW_B_ADD);
    ck_assert_int_eq(p->a_mode, O2P_EW_INDEX_SAME);
    ck_assert_int_eq(p->b_mode, O2P_EW_INDEX_SHAPE);
    ck_assert_int_eq(p->b.rank, 3);
    ck_assert_int_eq(p->b.dims[0], 2);
    ck_assert_int_eq(p->b.dims[2], 4);
    ck_assert_int_eq(p->b.strides[0], 0);
    ck_assert_int_eq(p->b.strides[1], 1);
    ck_assert_int_eq(p->b.strides[2], 0);
    ck_assert(p->divisor == 0);
    cg_emit_free(&y.e);

    /* a scalar operand is indexed as one element */
    lt_init(&y, "Mul", 14);
    lt_add_in(&y, F16, 2, D(5, 7));
    lt_add_in(&y, F16, 0, NULL);
    lt_add_out(&y, F16, 2, D(5, 7));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    k = launch(&y, 0, "o2p_elementwise_binary_f16", 35);
    ck_assert_int_eq(PARAMS(o2p_ew_binary_params, k)->b_mode, O2P_EW_INDEX_SCALAR);
    cg_emit_free(&y.e);

    /* shapes that do not broadcast, or a wrong output, are refused */
    lt_init(&y, "Add", 14);
    lt_add_in(&y, F32, 1, D(3));
    lt_add_in(&y, F32, 1, D(4));
    lt_add_out(&y, F32, 1, D(4));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("do not broadcast");
    cg_emit_free(&y.e);
    lt_init(&y, "Add", 14);
    lt_add_in(&y, F32, 1, D(4));
    lt_add_in(&y, F32, 1, D(4));
    lt_add_out(&y, F32, 1, D(5));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("output 0 has shape");
    cg_emit_free(&y.e);
    lt_init(&y, "Sub", 14);
    lt_add_in(&y, F32, 1, D(4));
    lt_add_in(&y, I32, 1, D(4));
    lt_add_out(&y, F32, 1, D(4));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("different element types");
    cg_emit_free(&y.e);
}
END_TEST

START_TEST(test_binary_kernels_by_type)
{
    lt_layer y;
    /* integers go through the generic integer kernel, with the type width for shifts */
    lt_init(&y, "BitShift", 11);
    lt_add_in(&y, U8, 1, D(6));
    lt_add_in(&y, U8, 1, D(6));
    lt_add_out(&y, U8, 1, D(6));
    lt_attr_str(&y, "direction", "RIGHT");
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    const cg_launch *k = launch(&y, 0, "o2p_elementwise_binary_int", 6);
    ck_assert_int_eq(PARAMS(o2p_ew_binary_params, k)->op, O2P_EW_B_SHR);
    ck_assert_int_eq(PARAMS(o2p_ew_binary_params, k)->bits, 8);
    cg_emit_free(&y.e);

    /* Pow of float by int32 computes in double */
    lt_init(&y, "Pow", 15);
    lt_add_in(&y, F32, 1, D(6));
    lt_add_in(&y, I32, 1, D(1));
    lt_add_out(&y, F32, 1, D(6));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    k = launch(&y, 0, "o2p_elementwise_binary_mixed", 6);
    ck_assert_int_eq(PARAMS(o2p_ew_binary_params, k)->b_dtype, I32);
    ck_assert_int_eq(PARAMS(o2p_ew_binary_params, k)->y_dtype, F32);
    cg_emit_free(&y.e);

    /* comparisons write bool */
    lt_init(&y, "Less", 13);
    lt_add_in(&y, F64, 1, D(6));
    lt_add_in(&y, F64, 1, D(6));
    lt_add_out(&y, BOOL, 1, D(6));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    k = launch(&y, 0, "o2p_elementwise_binary_f64", 6);
    ck_assert_int_eq(PARAMS(o2p_ew_binary_params, k)->op, O2P_EW_B_LT);
    ck_assert_int_eq(PARAMS(o2p_ew_binary_params, k)->y_dtype, BOOL);
    cg_emit_free(&y.e);
    lt_init(&y, "Less", 13);
    lt_add_in(&y, F64, 1, D(6));
    lt_add_in(&y, F64, 1, D(6));
    lt_add_out(&y, F64, 1, D(6));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("element type");
    cg_emit_free(&y.e);

    /* Mod: fmod selects C's remainder; floats need fmod=1 */
    lt_init(&y, "Mod", 13);
    lt_add_in(&y, I64, 1, D(3));
    lt_add_in(&y, I64, 1, D(3));
    lt_add_out(&y, I64, 1, D(3));
    lt_attr_int(&y, "fmod", 1);
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert_int_eq(
        PARAMS(o2p_ew_binary_params, launch(&y, 0, "o2p_elementwise_binary_int", 3))->op,
        O2P_EW_B_FMOD);
    cg_emit_free(&y.e);
    lt_init(&y, "Mod", 13);
    lt_add_in(&y, F32, 1, D(3));
    lt_add_in(&y, F32, 1, D(3));
    lt_add_out(&y, F32, 1, D(3));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("fmod=1");
    cg_emit_free(&y.e);

    /* And takes bool only */
    lt_init(&y, "And", 7);
    lt_add_in(&y, I32, 1, D(3));
    lt_add_in(&y, I32, 1, D(3));
    lt_add_out(&y, BOOL, 1, D(3));
    TU_ASSERT_FAILS(lower(&y));
    cg_emit_free(&y.e);
}
END_TEST

START_TEST(test_prelu_per_channel_before_opset_7)
{
    lt_layer y;
    lt_init(&y, "PRelu", 6);
    lt_add_in(&y, F32, 4, D(2, 3, 4, 5));
    lt_add_in(&y, F32, 1, D(3));
    lt_add_out(&y, F32, 4, D(2, 3, 4, 5));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    const o2p_ew_binary_params *p =
        PARAMS(o2p_ew_binary_params, launch(&y, 0, "o2p_elementwise_binary_f32", 120));
    ck_assert_int_eq(p->op, O2P_EW_B_PRELU);
    ck_assert_int_eq(p->b.strides[0], 0);
    ck_assert_int_eq(p->b.strides[1], 1);
    ck_assert_int_eq(p->b.strides[2], 0);
    ck_assert_int_eq(p->b.strides[3], 0);
    cg_emit_free(&y.e);

    /* from opset 7 the slope must broadcast to X's shape (it does not here) */
    lt_init(&y, "PRelu", 16);
    lt_add_in(&y, F32, 1, D(3));
    lt_add_in(&y, F32, 2, D(2, 3));
    lt_add_out(&y, F32, 2, D(2, 3));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("slope");
    cg_emit_free(&y.e);
}
END_TEST

START_TEST(test_variadic_folds)
{
    lt_layer y;
    lt_init(&y, "Mean", 13);
    lt_add_in(&y, F32, 2, D(2, 3));
    lt_add_in(&y, F32, 1, D(3));
    lt_add_in(&y, F32, 2, D(2, 1));
    lt_add_out(&y, F32, 2, D(2, 3));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert_int_eq(y.e.count, 2);
    const cg_launch *k0 = launch(&y, 0, "o2p_elementwise_binary_f32", 6);
    const cg_launch *k1 = launch(&y, 1, "o2p_elementwise_binary_f32", 6);
    lt_assert_patch(k0, offsetof(o2p_ew_binary_params, a_ptr), 0, 0);
    lt_assert_patch(k0, offsetof(o2p_ew_binary_params, b_ptr), 1, 0);
    lt_assert_patch(k1, offsetof(o2p_ew_binary_params, a_ptr), 10, 0); /* the output so far */
    lt_assert_patch(k1, offsetof(o2p_ew_binary_params, b_ptr), 2, 0);
    lt_assert_patch(k1, offsetof(o2p_ew_binary_params, y_ptr), 10, 0);
    ck_assert(PARAMS(o2p_ew_binary_params, k0)->divisor == 0);
    ck_assert(PARAMS(o2p_ew_binary_params, k1)->divisor == 3);
    ck_assert_int_eq(PARAMS(o2p_ew_binary_params, k1)->a_mode, O2P_EW_INDEX_SAME);
    ck_assert_int_eq(PARAMS(o2p_ew_binary_params, k1)->b.strides[0], 1);
    ck_assert_int_eq(PARAMS(o2p_ew_binary_params, k1)->b.strides[1], 0);
    cg_emit_free(&y.e);

    /* one input is a copy */
    lt_init(&y, "Max", 13);
    lt_add_in(&y, I32, 1, D(5));
    lt_add_out(&y, I32, 1, D(5));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert_int_eq(y.e.count, 1);
    ck_assert_int_eq(y.e.launches[0].kind, CG_LAUNCH_COPY);
    ck_assert_uint_eq(((const cg_copy_params *)(const void *)y.e.launches[0].params)->bytes, 20);
    cg_emit_free(&y.e);

    /* Sum takes floating-point types only (as the host kernel) */
    lt_init(&y, "Sum", 13);
    lt_add_in(&y, I32, 1, D(5));
    lt_add_in(&y, I32, 1, D(5));
    lt_add_out(&y, I32, 1, D(5));
    TU_ASSERT_FAILS(lower(&y));
    cg_emit_free(&y.e);
}
END_TEST

START_TEST(test_unary)
{
    lt_layer y;
    lt_init(&y, "LeakyRelu", 16);
    lt_add_in(&y, F32, 2, D(300, 10));
    lt_add_out(&y, F32, 2, D(300, 10));
    lt_attr_float(&y, "alpha", 0.25f);
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    const cg_launch *k = launch(&y, 0, "o2p_elementwise_unary_f32", 3000);
    const o2p_ew_unary_params *p = PARAMS(o2p_ew_unary_params, k);
    ck_assert_int_eq(p->op, O2P_EW_U_LEAKY_RELU);
    ck_assert(p->alpha == 0.25);
    ck_assert_int_eq(p->n, 3000);
    lt_assert_patch(k, offsetof(o2p_ew_unary_params, x_ptr), 0, 0);
    lt_assert_patch(k, offsetof(o2p_ew_unary_params, y_ptr), 10, 0);
    cg_emit_free(&y.e);

    /* IsNaN of bfloat16 writes bool */
    lt_init(&y, "IsNaN", 20);
    lt_add_in(&y, O2P_DTYPE_BFLOAT16, 1, D(7));
    lt_add_out(&y, BOOL, 1, D(7));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    launch(&y, 0, "o2p_elementwise_unary_bf16", 7);
    cg_emit_free(&y.e);

    /* Abs of int8 and Shrink of int32 */
    lt_init(&y, "Abs", 13);
    lt_add_in(&y, O2P_DTYPE_INT8, 1, D(7));
    lt_add_out(&y, O2P_DTYPE_INT8, 1, D(7));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert_int_eq(
        PARAMS(o2p_ew_unary_params, launch(&y, 0, "o2p_elementwise_unary_int", 7))->dtype,
        O2P_DTYPE_INT8);
    cg_emit_free(&y.e);
    lt_init(&y, "Shrink", 9);
    lt_add_in(&y, I32, 1, D(7));
    lt_add_out(&y, I32, 1, D(7));
    lt_attr_float(&y, "lambd", 1.5f);
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert(
        PARAMS(o2p_ew_unary_params, launch(&y, 0, "o2p_elementwise_unary_generic", 7))->beta ==
        1.5);
    cg_emit_free(&y.e);

    /* Sqrt of int32 is refused, as by the host kernel; so is Celu with alpha 0 */
    lt_init(&y, "Sqrt", 13);
    lt_add_in(&y, I32, 1, D(7));
    lt_add_out(&y, I32, 1, D(7));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_UNSUPPORTED);
    cg_emit_free(&y.e);
    lt_init(&y, "Celu", 12);
    lt_add_in(&y, F32, 1, D(7));
    lt_add_out(&y, F32, 1, D(7));
    lt_attr_float(&y, "alpha", 0.0f);
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("alpha");
    cg_emit_free(&y.e);

    /* zero elements: nothing to launch */
    lt_init(&y, "Exp", 13);
    lt_add_in(&y, F32, 2, D(0, 4));
    lt_add_out(&y, F32, 2, D(0, 4));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert_int_eq(y.e.count, 0);
    cg_emit_free(&y.e);
}
END_TEST

START_TEST(test_clip_bounds)
{
    lt_layer y;
    float lo = -1.5f;
    lt_init(&y, "Clip", 13);
    lt_add_in(&y, F32, 1, D(9));
    lt_add_in(&y, F32, 0, NULL)->data = &lo; /* constant */
    lt_add_in(&y, F32, 1, D(1));             /* computed */
    lt_add_out(&y, F32, 1, D(9));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    const cg_launch *k = launch(&y, 0, "o2p_elementwise_unary_f32", 9);
    const o2p_ew_unary_params *p = PARAMS(o2p_ew_unary_params, k);
    ck_assert_int_eq(p->has_lo, O2P_EW_BOUND_VALUE);
    ck_assert(p->lo == -1.5);
    ck_assert_int_eq(p->has_hi, O2P_EW_BOUND_POINTER);
    lt_assert_patch(k, offsetof(o2p_ew_unary_params, hi_ptr), 2, 0);
    ck_assert_int_eq(k->num_patches, 3);
    cg_emit_free(&y.e);

    /* before opset 11 the bounds are attributes */
    lt_init(&y, "Clip", 6);
    lt_add_in(&y, F16, 1, D(9));
    lt_add_out(&y, F16, 1, D(9));
    lt_attr_float(&y, "max", 6.0f);
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    p = PARAMS(o2p_ew_unary_params, launch(&y, 0, "o2p_elementwise_unary_f16", 9));
    ck_assert_int_eq(p->has_lo, O2P_EW_BOUND_NONE);
    ck_assert_int_eq(p->has_hi, O2P_EW_BOUND_VALUE);
    ck_assert(p->hi == 6.0);
    cg_emit_free(&y.e);

    /* a bound of another type, or not a scalar, is refused */
    lt_init(&y, "Clip", 13);
    lt_add_in(&y, I32, 1, D(9));
    lt_add_in(&y, I64, 0, NULL);
    lt_add_out(&y, I32, 1, D(9));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    cg_emit_free(&y.e);
    lt_init(&y, "Clip", 13);
    lt_add_in(&y, I32, 1, D(9));
    lt_add_in(&y, I32, 1, D(2));
    lt_add_out(&y, I32, 1, D(9));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("scalar");
    cg_emit_free(&y.e);
}
END_TEST

START_TEST(test_where)
{
    lt_layer y;
    lt_init(&y, "Where", 16);
    lt_add_in(&y, BOOL, 2, D(4, 1));
    lt_add_in(&y, I64, 1, D(5));
    lt_add_in(&y, I64, 0, NULL);
    lt_add_out(&y, I64, 2, D(4, 5));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    const cg_launch *k = launch(&y, 0, "o2p_elementwise_where_8", 20);
    const o2p_ew_where_params *p = PARAMS(o2p_ew_where_params, k);
    ck_assert_int_eq(p->n, 20);
    ck_assert_int_eq(p->cond_mode, O2P_EW_INDEX_SHAPE);
    ck_assert_int_eq(p->cond.strides[0], 1);
    ck_assert_int_eq(p->cond.strides[1], 0);
    ck_assert_int_eq(p->x_mode, O2P_EW_INDEX_SHAPE);
    ck_assert_int_eq(p->y_mode, O2P_EW_INDEX_SCALAR);
    lt_assert_patch(k, offsetof(o2p_ew_where_params, cond_ptr), 0, 0);
    lt_assert_patch(k, offsetof(o2p_ew_where_params, x_ptr), 1, 0);
    lt_assert_patch(k, offsetof(o2p_ew_where_params, y_ptr), 2, 0);
    lt_assert_patch(k, offsetof(o2p_ew_where_params, out_ptr), 10, 0);
    cg_emit_free(&y.e);

    lt_init(&y, "Where", 16);
    lt_add_in(&y, U8, 1, D(5));
    lt_add_in(&y, F32, 1, D(5));
    lt_add_in(&y, F32, 1, D(5));
    lt_add_out(&y, F32, 1, D(5));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("not bool");
    cg_emit_free(&y.e);
}
END_TEST

START_TEST(test_cast_identity_dropout)
{
    lt_layer y;
    lt_init(&y, "Cast", 19);
    lt_add_in(&y, F32, 2, D(3, 3));
    lt_add_out(&y, F16, 2, D(3, 3));
    lt_attr_int(&y, "to", F16);
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    const o2p_ew_cast_params *p =
        PARAMS(o2p_ew_cast_params, launch(&y, 0, "o2p_elementwise_cast", 9));
    ck_assert_int_eq(p->from, F32);
    ck_assert_int_eq(p->to, F16);
    ck_assert_int_eq(p->n, 9);
    cg_emit_free(&y.e);

    /* CastLike to the same type is a copy */
    lt_init(&y, "CastLike", 19);
    lt_add_in(&y, I64, 1, D(4));
    lt_add_in(&y, I64, 0, NULL);
    lt_add_out(&y, I64, 1, D(4));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert_int_eq(y.e.count, 1);
    ck_assert_int_eq(y.e.launches[0].kind, CG_LAUNCH_COPY);
    cg_emit_free(&y.e);

    lt_init(&y, "Cast", 19);
    lt_add_in(&y, F32, 1, D(4));
    lt_add_out(&y, STR, 1, D(4));
    lt_attr_int(&y, "to", STR);
    TU_ASSERT_FAILS(lower(&y));
    cg_emit_free(&y.e);

    lt_init(&y, "Identity", 19);
    lt_add_in(&y, BOOL, 1, D(4));
    lt_add_out(&y, BOOL, 1, D(4));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert_int_eq(y.e.count, 1);
    ck_assert_int_eq(y.e.launches[0].kind, CG_LAUNCH_COPY);
    ck_assert_int_eq(y.e.launches[0].patches[0].tensor, 10);
    ck_assert_int_eq(y.e.launches[0].patches[1].tensor, 0);
    cg_emit_free(&y.e);

    /* Dropout: a copy and an all-true bool mask */
    lt_init(&y, "Dropout", 13);
    lt_add_in(&y, F32, 1, D(6));
    lt_add_out(&y, F32, 1, D(6));
    lt_add_out(&y, BOOL, 1, D(6));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert_int_eq(y.e.count, 2);
    ck_assert_int_eq(y.e.launches[0].kind, CG_LAUNCH_COPY);
    ck_assert_int_eq(y.e.launches[1].kind, CG_LAUNCH_MEMSET);
    const cg_memset_params *m = (const cg_memset_params *)(const void *)y.e.launches[1].params;
    ck_assert_uint_eq(m->bytes, 6);
    ck_assert_uint_eq(m->value, 1);
    ck_assert_int_eq(y.e.launches[1].patches[0].tensor, 11);
    cg_emit_free(&y.e);

    /* before opset 10 the mask has X's type: filled with 1.0 */
    lt_init(&y, "Dropout", 7);
    lt_add_in(&y, F64, 1, D(6));
    lt_add_out(&y, F64, 1, D(6));
    lt_add_out(&y, F64, 1, D(6));
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert_int_eq(y.e.count, 2);
    p = PARAMS(o2p_ew_cast_params, launch(&y, 1, "o2p_elementwise_fill", 6));
    ck_assert(p->value == 1.0);
    ck_assert_int_eq(p->to, F64);
    cg_emit_free(&y.e);

    /* training mode with a ratio (default 0.5) is random: the training family's kernel, with
     * training_mode read on the device when it is computed (test_lower_training.c checks the
     * parameters) */
    uint8_t yes = 1;
    for (int computed = 0; computed < 2; computed++) {
        lt_init(&y, "Dropout", 13);
        lt_add_in(&y, F32, 1, D(6));
        lt_add_in(&y, O2P_DTYPE_UNDEFINED, 0, NULL);
        lt_add_in(&y, BOOL, 0, NULL)->data = computed ? NULL : &yes;
        lt_add_out(&y, F32, 1, D(6));
        TU_ASSERT_STATUS(lower(&y), O2P_OK);
        ck_assert_int_eq(y.e.count, 1);
        ck_assert_str_eq(y.e.launches[0].family, "training");
        ck_assert_str_eq(y.e.launches[0].function, "o2p_training_dropout");
        ck_assert_int_eq(y.e.launches[0].num_patches, computed ? 3 : 2);
        cg_emit_free(&y.e);
    }
}
END_TEST

START_TEST(test_reductions)
{
    lt_layer y;
    int64_t axes[1] = {-2};
    lt_init(&y, "ReduceSum", 13);
    lt_add_in(&y, F32, 3, D(2, 3, 4));
    lt_add_in(&y, I64, 1, D(1))->data = axes;
    lt_add_out(&y, F32, 2, D(2, 4));
    lt_attr_int(&y, "keepdims", 0);
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    const cg_launch *k = launch(&y, 0, "o2p_elementwise_reduce", 8);
    const o2p_ew_reduce_params *p = PARAMS(o2p_ew_reduce_params, k);
    ck_assert_int_eq(p->out_count, 8);
    ck_assert_int_eq(p->red_count, 3);
    ck_assert_int_eq(p->op, O2P_EW_R_SUM);
    ck_assert_int_eq(p->use_double, 1);
    ck_assert_int_eq(p->kept.rank, 2);
    ck_assert_int_eq(p->kept.dims[0], 2);
    ck_assert_int_eq(p->kept.strides[0], 12);
    ck_assert_int_eq(p->kept.dims[1], 4);
    ck_assert_int_eq(p->kept.strides[1], 1);
    ck_assert_int_eq(p->red.rank, 1);
    ck_assert_int_eq(p->red.dims[0], 3);
    ck_assert_int_eq(p->red.strides[0], 4);
    lt_assert_patch(k, offsetof(o2p_ew_reduce_params, x_ptr), 0, 0);
    lt_assert_patch(k, offsetof(o2p_ew_reduce_params, y_ptr), 10, 0);
    cg_emit_free(&y.e);

    /* a long reduction gets a warp per output; adjacent reduced dims merge; integer max
     * starts from the type's minimum */
    lt_init(&y, "ReduceMax", 13);
    lt_add_in(&y, I32, 3, D(5, 8, 16));
    lt_add_out(&y, I32, 3, D(5, 1, 1));
    int64_t ax[2] = {1, 2};
    lt_attr_ints(&y, "axes", ax, 2);
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    p = PARAMS(o2p_ew_reduce_params, launch(&y, 0, "o2p_elementwise_reduce_warp", 5 * 32));
    ck_assert_int_eq(p->red.rank, 1);
    ck_assert_int_eq(p->red.dims[0], 128);
    ck_assert_int_eq(p->red.strides[0], 1);
    ck_assert_int_eq(p->use_double, 0);
    ck_assert_int_eq(p->iinit, INT32_MIN);
    ck_assert_uint_eq(y.e.launches[0].block[0] % 32, 0);
    cg_emit_free(&y.e);

    /* no axes with noop_with_empty_axes: a copy */
    lt_init(&y, "ReduceMean", 18);
    lt_add_in(&y, F32, 2, D(2, 3));
    lt_add_out(&y, F32, 2, D(2, 3));
    lt_attr_int(&y, "noop_with_empty_axes", 1);
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    ck_assert_int_eq(y.e.count, 1);
    ck_assert_int_eq(y.e.launches[0].kind, CG_LAUNCH_COPY);
    cg_emit_free(&y.e);

    /* computed axes cannot be lowered; a repeated or out-of-range axis is refused */
    lt_init(&y, "ReduceLogSumExp", 18);
    lt_add_in(&y, F32, 2, D(2, 3));
    lt_add_in(&y, I64, 1, D(1));
    lt_add_out(&y, F32, 2, D(1, 3));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("axes");
    cg_emit_free(&y.e);
    int64_t bad[2] = {0, -2};
    lt_init(&y, "ReduceProd", 13);
    lt_add_in(&y, F32, 2, D(2, 3));
    lt_add_out(&y, F32, 2, D(1, 3));
    lt_attr_ints(&y, "axes", bad, 2);
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("twice");
    cg_emit_free(&y.e);

    /* bool is not reduced */
    lt_init(&y, "ReduceSum", 11);
    lt_add_in(&y, BOOL, 1, D(3));
    lt_add_out(&y, BOOL, 1, D(1));
    TU_ASSERT_FAILS(lower(&y));
    cg_emit_free(&y.e);
}
END_TEST

START_TEST(test_argmax_argmin)
{
    lt_layer y;
    lt_init(&y, "ArgMin", 13);
    lt_add_in(&y, F16, 3, D(2, 7, 3));
    lt_add_out(&y, I64, 2, D(2, 3));
    lt_attr_int(&y, "axis", -2);
    lt_attr_int(&y, "keepdims", 0);
    lt_attr_int(&y, "select_last_index", 1);
    TU_ASSERT_STATUS(lower(&y), O2P_OK);
    const cg_launch *k = launch(&y, 0, "o2p_elementwise_arg", 6);
    const o2p_ew_arg_params *p = PARAMS(o2p_ew_arg_params, k);
    ck_assert_int_eq(p->outer, 2);
    ck_assert_int_eq(p->k, 7);
    ck_assert_int_eq(p->inner, 3);
    ck_assert_int_eq(p->is_max, 0);
    ck_assert_int_eq(p->last, 1);
    ck_assert_int_eq(p->dtype, F16);
    cg_emit_free(&y.e);

    lt_init(&y, "ArgMax", 13);
    lt_add_in(&y, F32, 2, D(3, 0));
    lt_add_out(&y, I64, 2, D(3, 1));
    lt_attr_int(&y, "axis", 1);
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("empty");
    cg_emit_free(&y.e);

    lt_init(&y, "ArgMax", 13);
    lt_add_in(&y, F32, 2, D(3, 4));
    lt_add_out(&y, I32, 2, D(1, 4));
    TU_ASSERT_STATUS(lower(&y), O2P_ERR_SHAPE);
    cg_emit_free(&y.e);
}
END_TEST

START_TEST(test_candidates_refuse_strings)
{
    lt_layer y;
    lt_init(&y, "Identity", 19);
    lt_add_in(&y, STR, 1, D(2));
    lt_add_out(&y, STR, 1, D(2));
    const cg_op *op = cg_op_find("Identity");
    cg_tactic t[2];
    const char *why = NULL;
    ck_assert_int_eq(op->candidates(&y.l, NULL, t, 2, &why), 0);
    ck_assert_ptr_nonnull(why);
    cg_emit_free(&y.e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lower_elementwise");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_every_host_op_has_a_lowering);
    tcase_add_test(tc, test_add_broadcasts);
    tcase_add_test(tc, test_binary_kernels_by_type);
    tcase_add_test(tc, test_prelu_per_channel_before_opset_7);
    tcase_add_test(tc, test_variadic_folds);
    tcase_add_test(tc, test_unary);
    tcase_add_test(tc, test_clip_bounds);
    tcase_add_test(tc, test_where);
    tcase_add_test(tc, test_cast_identity_dropout);
    tcase_add_test(tc, test_reductions);
    tcase_add_test(tc, test_argmax_argmin);
    tcase_add_test(tc, test_candidates_refuse_strings);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
