/* test_lower_select.c: the CUDA lowerings of the select family (src/codegen/lower_select.c)
 * without a GPU: Unique and NonMaxSuppression layers built by hand (outputs at their bound,
 * with shape tensors as the data-dependent-shape mechanism gives them) go through
 * candidates() and lower(); the launches' kernel names, grids, device-address patches
 * (inputs, outputs, shape tensors, workspace) and parameter fields are checked against what
 * kernels/cuda/select.cu expects, and bad shapes, types, sizes beyond the kernels and missing
 * shape tensors are refused with a message. */
#include <stddef.h>
#include <string.h>

#include "cuda/select_params.h"
#include "lower_testutil.h"

/* Unique and NonMaxSuppression at opset 11; outputs with a data-dependent shape get shape
 * tensors 20.. (lt_dynamic_out). */
#define OPSET 11

/* A [1] scalar input, constant (with host data) or not. */
static void scalar_i64(lt_layer *t, int i, int64_t v, int constant)
{
    host_tensor *x = lt_const_in(t, i, I64, 1, D(1), &v);
    x->data = constant ? x->data : NULL;
}

static void scalar_f32(lt_layer *t, int i, float v, int constant)
{
    host_tensor *x = lt_const_in(t, i, F32, 1, D(1), &v);
    x->data = constant ? x->data : NULL;
}

/* A workspace patch at off of at least bytes that stays inside the layer's workspace. */
static void assert_workspace(const lt_layer *t, const cg_launch *k, size_t off, uint64_t bytes)
{
    uint64_t at;
    ck_assert_int_eq(lt_patch_tensor(k, off, &at), CG_TENSOR_WORKSPACE);
    ck_assert_msg(at + bytes <= t->e.workspace, "%s: workspace slot at %llu + %llu beyond %llu",
                  k->function, (unsigned long long)at, (unsigned long long)bytes,
                  (unsigned long long)t->e.workspace);
}

#define OFF(T, f) offsetof(T, f)

START_TEST(test_table)
{
    static const char *const ops[] = {"NonMaxSuppression", "Unique"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const cg_op *op = cg_op_find(ops[i]);
        ck_assert_msg(op && op->candidates && op->lower, "%s is not lowered", ops[i]);
        ck_assert_str_eq(op->op_type, ops[i]);
    }
    ck_assert_int_eq(cg_select_op_count, (int)(sizeof ops / sizeof ops[0]));
    ck_assert_ptr_nonnull(cg_family_source("select"));
}
END_TEST

/* ---------------------------------------------------------------- Unique */

typedef o2p_select_unique_params U;

START_TEST(test_unique_axis)
{
    /* X [2, 4, 2] along axis 1 (the node test's 3-D case): every output, sorted */
    lt_layer t;
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, F32, 3, D(2, 4, 2));
    lt_attr_int(&t, "axis", -2);
    lt_dynamic_out(&t, 0, F32, 3, D(2, 4, 2));
    lt_dynamic_out(&t, 1, I64, 1, D(4));
    lt_out(&t, 2, I64, 1, D(4));
    lt_dynamic_out(&t, 3, I64, 1, D(4));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 3);
    const cg_launch *rep = &t.e.launches[0], *rank = &t.e.launches[1], *wr = &t.e.launches[2];
    lt_assert_kernel_for(rep, "select", "o2p_select_unique_rep", sizeof(U), 4);
    lt_assert_kernel_for(rank, "select", "o2p_select_unique_rank", sizeof(U), 4);
    lt_assert_kernel_for(wr, "select", "o2p_select_unique_write", sizeof(U), 16);
    const U *p = PARAMS(U, wr);
    ck_assert_int_eq(p->outer, 2);
    ck_assert_int_eq(p->n, 4);
    ck_assert_int_eq(p->inner, 2);
    ck_assert_int_eq(p->y_rank, 3);
    ck_assert_int_eq(p->axis, 1);
    ck_assert_int_eq(p->y_dims[0], 2);
    ck_assert_int_eq(p->y_dims[1], 4);
    ck_assert_int_eq(p->y_dims[2], 2);
    ck_assert_int_eq(p->sorted, 1);
    ck_assert_int_eq(p->dtype, F32);
    for (int i = 0; i < 3; i++) {
        const cg_launch *k = &t.e.launches[i];
        ck_assert_int_eq(lt_patch_tensor(k, OFF(U, x_ptr), NULL), 0);
        assert_workspace(&t, k, OFF(U, rep_ptr), 4 * 8);
        assert_workspace(&t, k, OFF(U, pos_ptr), 4 * 8);
        assert_workspace(&t, k, OFF(U, cnt_ptr), 4 * 8);
        assert_workspace(&t, k, OFF(U, k_ptr), 8);
    }
    /* the slots do not overlap */
    uint64_t a, b, c, d;
    lt_patch_tensor(rep, OFF(U, rep_ptr), &a);
    lt_patch_tensor(rep, OFF(U, pos_ptr), &b);
    lt_patch_tensor(rep, OFF(U, cnt_ptr), &c);
    lt_patch_tensor(rep, OFF(U, k_ptr), &d);
    ck_assert(a + 32 <= b && b + 32 <= c && c + 32 <= d);
    /* the rank launch writes the shape tensors of Y, indices and counts */
    ck_assert_int_eq(lt_patch_tensor(rank, OFF(U, y_shape_ptr), NULL), 20);
    ck_assert_int_eq(lt_patch_tensor(rank, OFF(U, indices_shape_ptr), NULL), 21);
    ck_assert_int_eq(lt_patch_tensor(rank, OFF(U, counts_shape_ptr), NULL), 23);
    /* the write launch the outputs */
    ck_assert_int_eq(lt_patch_tensor(wr, OFF(U, y_ptr), NULL), 10);
    ck_assert_int_eq(lt_patch_tensor(wr, OFF(U, indices_ptr), NULL), 11);
    ck_assert_int_eq(lt_patch_tensor(wr, OFF(U, inverse_ptr), NULL), 12);
    ck_assert_int_eq(lt_patch_tensor(wr, OFF(U, counts_ptr), NULL), 13);
    ck_assert(!lt_has_patch(rep, OFF(U, y_ptr)));
    lt_free(&t);
}
END_TEST

START_TEST(test_unique_flat)
{
    /* flattened [2, 3], first-occurrence order, only Y */
    lt_layer t;
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, I32, 2, D(2, 3));
    lt_attr_int(&t, "sorted", 0);
    lt_dynamic_out(&t, 0, I32, 1, D(6));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 3);
    const cg_launch *rank = &t.e.launches[1], *wr = &t.e.launches[2];
    const U *p = PARAMS(U, rank);
    ck_assert_int_eq(p->outer, 1);
    ck_assert_int_eq(p->n, 6);
    ck_assert_int_eq(p->inner, 1);
    ck_assert_int_eq(p->y_rank, 1);
    ck_assert_int_eq(p->axis, 0);
    ck_assert_int_eq(p->y_dims[0], 6);
    ck_assert_int_eq(p->sorted, 0);
    ck_assert_int_eq(p->dtype, I32);
    ck_assert_int_eq(lt_patch_tensor(rank, OFF(U, y_shape_ptr), NULL), 20);
    ck_assert(!lt_has_patch(rank, OFF(U, indices_shape_ptr)));
    ck_assert(!lt_has_patch(rank, OFF(U, counts_shape_ptr)));
    ck_assert(!lt_has_patch(wr, OFF(U, indices_ptr)));
    ck_assert(!lt_has_patch(wr, OFF(U, inverse_ptr)));
    ck_assert(!lt_has_patch(wr, OFF(U, counts_ptr)));
    lt_free(&t);

    /* one element: its own unique, a static shape needs no shape tensor */
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, F32, 1, D(1));
    lt_out(&t, 0, F32, 1, D(1));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 3);
    ck_assert(!lt_has_patch(&t.e.launches[1], OFF(U, y_shape_ptr)));
    lt_free(&t);

    /* no elements and static shapes: nothing to launch; with a shape tensor: the rank launch
     * alone writes the empty shape */
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, F32, 1, D(0));
    lt_out(&t, 0, F32, 1, D(0));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 0);
    lt_free(&t);
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, F32, 1, D(0));
    lt_dynamic_out(&t, 0, F32, 1, D(0));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    lt_assert_kernel_for(&t.e.launches[0], "select", "o2p_select_unique_rank", sizeof(U), 1);
    ck_assert_int_eq(lt_patch_tensor(&t.e.launches[0], OFF(U, y_shape_ptr), NULL), 20);
    lt_free(&t);
}
END_TEST

START_TEST(test_unique_refusals)
{
    lt_layer t;
    /* Y not at its bound */
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, F32, 2, D(3, 3));
    lt_attr_int(&t, "axis", 0);
    lt_dynamic_out(&t, 0, F32, 2, D(2, 3));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "output 0 (Y)");
    lt_free(&t);
    /* Y's type differs */
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, F32, 1, D(4));
    lt_dynamic_out(&t, 0, I64, 1, D(4));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "output 0 (Y)");
    lt_free(&t);
    /* inverse_indices of the wrong length */
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, F32, 1, D(4));
    lt_dynamic_out(&t, 0, F32, 1, D(4));
    lt_out(&t, 2, I64, 1, D(3));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "inverse_indices");
    lt_free(&t);
    /* axis out of range, sorted not 0/1 */
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, F32, 2, D(3, 3));
    lt_attr_int(&t, "axis", 2);
    lt_dynamic_out(&t, 0, F32, 2, D(3, 3));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "axis 2");
    lt_free(&t);
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, F32, 1, D(4));
    lt_attr_int(&t, "sorted", 3);
    lt_dynamic_out(&t, 0, F32, 1, D(4));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "sorted 3");
    lt_free(&t);
    /* a data-dependent output without a shape tensor */
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, F32, 1, D(4));
    lt_dynamic_out(&t, 0, F32, 1, D(4));
    lt_out(&t, 3, I64, 1, D(4));
    lt_assert_refused(lt_lower(&t), O2P_ERR_UNSUPPORTED, "no shape tensor");
    lt_free(&t);
    /* beyond the O(n^2) kernels */
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, F32, 1, D(1 << 20));
    lt_dynamic_out(&t, 0, F32, 1, D(1 << 20));
    lt_assert_refused(lt_lower(&t), O2P_ERR_UNSUPPORTED, "2^36");
    lt_free(&t);
    /* strings: no candidate */
    lt_init(&t, "Unique", OPSET);
    lt_in(&t, 0, O2P_DTYPE_STRING, 1, D(4));
    lt_dynamic_out(&t, 0, O2P_DTYPE_STRING, 1, D(4));
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[2];
    const char *why = NULL;
    ck_assert_int_eq(lt_op(&t)->candidates(&t.l, &o, tac, 2, &why), 0);
    ck_assert_ptr_nonnull(why);
    lt_assert_refused(lt_op(&t)->lower(&t.l, &tac[0], &o, &t.e), O2P_ERR_UNSUPPORTED, "string");
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- NonMaxSuppression */

typedef o2p_select_nms_params P;

/* boxes [nb, n, 4], scores [nb, nc, n], max_output_boxes_per_class (constant or not),
 * iou_threshold and score_threshold not constant; the output at rows x 3, dynamic. */
static void nms_layer(lt_layer *t, int64_t nb, int64_t nc, int64_t n, int64_t max_out,
                      int max_const, int64_t rows)
{
    lt_init(t, "NonMaxSuppression", OPSET);
    lt_in(t, 0, F32, 3, D(nb, n, 4));
    lt_in(t, 1, F32, 3, D(nb, nc, n));
    scalar_i64(t, 2, max_out, max_const);
    scalar_f32(t, 3, 0.5f, 0);
    scalar_f32(t, 4, 0.0f, 0);
    lt_dynamic_out(t, 0, I64, 2, D(rows, 3));
}

START_TEST(test_nms)
{
    /* two batches, three classes, a constant limit of 2: 2*3*2 rows */
    lt_layer t;
    nms_layer(&t, 2, 3, 6, 2, 1, 12);
    lt_attr_int(&t, "center_point_box", 1);
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 2);
    const cg_launch *cls = &t.e.launches[0], *ga = &t.e.launches[1];
    lt_assert_kernel_for(cls, "select", "o2p_select_nms_class", sizeof(P), 6 * 256);
    ck_assert_uint_eq(cls->grid[0], 6); /* one block per (batch, class) */
    lt_assert_kernel_for(ga, "select", "o2p_select_nms_gather", sizeof(P), 1);
    ck_assert_uint_eq(ga->grid[0], 1); /* one block: the rows go out in order */
    const P *p = PARAMS(P, cls);
    ck_assert_int_eq(p->groups, 6);
    ck_assert_int_eq(p->classes, 3);
    ck_assert_int_eq(p->boxes, 6);
    ck_assert_int_eq(p->max_cap, 2);
    ck_assert_int_eq(p->rows, 12);
    ck_assert_int_eq(p->center_point_box, 1);
    ck_assert_int_eq(p->max_dtype, I64);
    ck_assert_int_eq(lt_patch_tensor(cls, OFF(P, boxes_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(cls, OFF(P, scores_ptr), NULL), 1);
    ck_assert_int_eq(lt_patch_tensor(cls, OFF(P, max_ptr), NULL), 2);
    ck_assert_int_eq(lt_patch_tensor(cls, OFF(P, iou_ptr), NULL), 3);
    ck_assert_int_eq(lt_patch_tensor(cls, OFF(P, score_ptr), NULL), 4);
    assert_workspace(&t, cls, OFF(P, order_ptr), 6 * 6 * 8);
    assert_workspace(&t, cls, OFF(P, sel_ptr), 6 * 6 * 8);
    assert_workspace(&t, cls, OFF(P, count_ptr), 6 * 8);
    assert_workspace(&t, ga, OFF(P, sel_ptr), 6 * 6 * 8);
    assert_workspace(&t, ga, OFF(P, count_ptr), 6 * 8);
    uint64_t s1, s2, c1, c2;
    lt_patch_tensor(cls, OFF(P, sel_ptr), &s1);
    lt_patch_tensor(ga, OFF(P, sel_ptr), &s2);
    lt_patch_tensor(cls, OFF(P, count_ptr), &c1);
    lt_patch_tensor(ga, OFF(P, count_ptr), &c2);
    ck_assert(s1 == s2 && c1 == c2);
    ck_assert_int_eq(lt_patch_tensor(ga, OFF(P, y_ptr), NULL), 10);
    ck_assert_int_eq(lt_patch_tensor(ga, OFF(P, y_shape_ptr), NULL), 20);
    ck_assert(!lt_has_patch(cls, OFF(P, y_ptr)));
    lt_free(&t);

    /* the limit only known at run time: every box may be selected, the kernel clamps to the
     * box count; no score threshold: no address */
    nms_layer(&t, 1, 1, 6, 3, 0, 6);
    t.ins[4] = NULL;
    t.it[4] = -1;
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(P, &t.e.launches[0]);
    ck_assert_int_eq(p->max_cap, 6);
    ck_assert_int_eq(p->rows, 6);
    ck_assert(!lt_has_patch(&t.e.launches[0], OFF(P, score_ptr)));
    lt_free(&t);
}
END_TEST

START_TEST(test_nms_empty)
{
    /* max_output_boxes_per_class omitted: a static empty output, nothing to launch */
    lt_layer t;
    lt_init(&t, "NonMaxSuppression", OPSET);
    lt_in(&t, 0, F32, 3, D(1, 6, 4));
    lt_in(&t, 1, F32, 3, D(1, 1, 6));
    lt_out(&t, 0, I64, 2, D(0, 3));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 0);
    lt_free(&t);
    /* a constant 0 with a shape tensor anyway: the gather alone writes [0, 3] */
    nms_layer(&t, 1, 1, 6, 0, 1, 0);
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    lt_assert_kernel_for(&t.e.launches[0], "select", "o2p_select_nms_gather", sizeof(P), 1);
    ck_assert_int_eq(PARAMS(P, &t.e.launches[0])->groups, 0);
    ck_assert_int_eq(lt_patch_tensor(&t.e.launches[0], OFF(P, y_shape_ptr), NULL), 20);
    ck_assert(!lt_has_patch(&t.e.launches[0], OFF(P, y_ptr)));
    lt_free(&t);
}
END_TEST

START_TEST(test_nms_refusals)
{
    lt_layer t;
    /* the output below the bound */
    nms_layer(&t, 1, 2, 6, 3, 1, 5);
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "up to 6 boxes");
    lt_free(&t);
    /* boxes not [b, n, 4]; scores not matching */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    t.in[0].dims[2] = 5;
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "boxes are");
    lt_free(&t);
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    t.in[1].dims[2] = 5;
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "scores are");
    lt_free(&t);
    /* a constant iou_threshold outside [0, 1] */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    scalar_f32(&t, 3, 1.5f, 1);
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "iou_threshold");
    lt_free(&t);
    /* center_point_box not 0/1 */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    lt_attr_int(&t, "center_point_box", 2);
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "center_point_box");
    lt_free(&t);
    /* max_output_boxes_per_class not a scalar */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    t.in[2].dims[0] = 2;
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "max_output_boxes_per_class");
    lt_free(&t);
    /* no shape tensor for a data-dependent output */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    t.st[0] = -1;
    lt_assert_refused(lt_lower(&t), O2P_ERR_UNSUPPORTED, "no shape tensor");
    lt_free(&t);
    /* beyond the O(boxes^2) ranking */
    nms_layer(&t, 1, 80, 1 << 17, 100, 1, 8000);
    lt_assert_refused(lt_lower(&t), O2P_ERR_UNSUPPORTED, "2^40");
    lt_free(&t);
    /* double boxes: no candidate */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    t.in[0].dtype = O2P_DTYPE_DOUBLE;
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[2];
    const char *why = NULL;
    ck_assert_int_eq(lt_op(&t)->candidates(&t.l, &o, tac, 2, &why), 0);
    ck_assert_ptr_nonnull(why);
    lt_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lower_select");
    TCase *tc = tcase_create("select");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_unique_axis);
    tcase_add_test(tc, test_unique_flat);
    tcase_add_test(tc, test_unique_refusals);
    tcase_add_test(tc, test_nms);
    tcase_add_test(tc, test_nms_empty);
    tcase_add_test(tc, test_nms_refusals);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
