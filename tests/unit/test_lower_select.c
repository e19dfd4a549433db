/* test_lower_select.c: the CUDA lowerings of the select family (src/codegen/lower_select.c)
 * without a GPU: Unique and NonMaxSuppression layers built by hand (outputs at their bound,
 * with shape tensors as the data-dependent-shape mechanism gives them) go through
 * candidates() and lower(); the launches' kernel names, grids, device-address patches
 * (inputs, outputs, shape tensors, workspace) and parameter fields are checked against what
 * kernels/cuda/select.cu expects, and bad shapes, types, sizes beyond the kernels and missing
 * shape tensors are refused with a message. */
#include <stddef.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/select_params.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define D(...) ((const int64_t[]){__VA_ARGS__})

/* A layer under construction: inputs are tensors 0.., outputs 10.., shape tensors 20.. */
typedef struct tl {
    host_tensor in[5], out[4];
    const host_tensor *ins[5];
    host_tensor *outs[4];
    int it[5], ot[4], st[4];
    host_attr attrs[4];
    int64_t idata[5];
    float fdata[5];
    cg_layer l;
    cg_emit e;
} tl;

static void tl_init(tl *t, const char *op)
{
    memset(t, 0, sizeof *t);
    t->l.args.op_type = op;
    t->l.args.layer_name = "n0";
    t->l.args.opset = 11;
    t->l.args.inputs = t->ins;
    t->l.args.outputs = t->outs;
    t->l.args.attrs = t->attrs;
    t->l.input_tensors = t->it;
    t->l.output_tensors = t->ot;
    t->l.output_shape_tensors = t->st;
    for (int i = 0; i < 5; i++)
        t->it[i] = -1;
    for (int i = 0; i < 4; i++)
        t->ot[i] = t->st[i] = -1;
    cg_emit_init(&t->e);
}

static host_tensor *tl_in(tl *t, int i, o2p_dtype dt, int rank, const int64_t *dims)
{
    host_tensor *x = &t->in[i];
    x->dtype = dt;
    x->rank = rank;
    if (rank > 0)
        memcpy(x->dims, dims, (size_t)rank * sizeof(int64_t));
    t->ins[i] = x;
    t->it[i] = i;
    if (t->l.args.num_inputs < i + 1)
        t->l.args.num_inputs = i + 1;
    return x;
}

/* A [1] scalar input, constant (with host data) or not. */
static void tl_scalar_i64(tl *t, int i, int64_t v, int constant)
{
    host_tensor *x = tl_in(t, i, I64, 1, D(1));
    t->idata[i] = v;
    x->data = constant ? &t->idata[i] : NULL;
}

static void tl_scalar_f32(tl *t, int i, float v, int constant)
{
    host_tensor *x = tl_in(t, i, F32, 1, D(1));
    t->fdata[i] = v;
    x->data = constant ? &t->fdata[i] : NULL;
}

/* Output i at (rank, dims); shape tensor 20 + i when dynamic. */
static host_tensor *tl_out(tl *t, int i, o2p_dtype dt, int rank, const int64_t *dims, int dynamic)
{
    host_tensor *x = &t->out[i];
    x->dtype = dt;
    x->rank = rank;
    if (rank > 0)
        memcpy(x->dims, dims, (size_t)rank * sizeof(int64_t));
    t->outs[i] = x;
    t->ot[i] = 10 + i;
    t->st[i] = dynamic ? 20 + i : -1;
    if (t->l.args.num_outputs < i + 1)
        t->l.args.num_outputs = i + 1;
    return x;
}

static void attr_int(tl *t, const char *name, int64_t v)
{
    host_attr *a = &t->attrs[t->l.args.num_attrs++];
    a->name = name;
    a->type = O2P_ATTR_INT;
    a->i = v;
}

static const cg_op *op_of(tl *t)
{
    const cg_op *op = cg_op_find(t->l.args.op_type);
    ck_assert_msg(op != NULL, "no lowering for %s", t->l.args.op_type);
    return op;
}

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

static void tl_free(tl *t)
{
    cg_emit_free(&t->e);
}

/* The tensor patched at param offset off (-99 when none: fails), with its byte offset. */
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

static int has_patch(const cg_launch *k, size_t off)
{
    for (int i = 0; i < k->num_patches; i++)
        if (k->patches[i].param_offset == off)
            return 1;
    return 0;
}

static void assert_kernel(const cg_launch *k, const char *fn, uint32_t param_size, uint64_t n)
{
    ck_assert_int_eq(k->kind, CG_LAUNCH_KERNEL);
    ck_assert_str_eq(k->family, "select");
    ck_assert_str_eq(k->function, fn);
    ck_assert_uint_eq(k->param_size, param_size);
    uint64_t threads = (uint64_t)k->grid[0] * k->block[0];
    ck_assert_msg(threads >= n, "%s: %llu threads for %llu", fn, (unsigned long long)threads,
                  (unsigned long long)n);
    ck_assert_uint_eq(k->block[0] % 32, 0);
}

/* A workspace patch at off of at least bytes that stays inside the layer's workspace. */
static void assert_workspace(const tl *t, const cg_launch *k, size_t off, uint64_t bytes)
{
    uint64_t at;
    ck_assert_int_eq(patch_tensor(k, off, &at), CG_TENSOR_WORKSPACE);
    ck_assert_msg(at + bytes <= t->e.workspace, "%s: workspace slot at %llu + %llu beyond %llu",
                  k->function, (unsigned long long)at, (unsigned long long)bytes,
                  (unsigned long long)t->e.workspace);
}

static void assert_refused(o2p_status st, o2p_status want, const char *needle)
{
    ck_assert_int_eq(st, want);
    ck_assert_msg(strstr(o2p_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  o2p_last_error(), needle);
}

#define PARAMS(T, k) ((const T *)(k)->params)
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
    tl t;
    tl_init(&t, "Unique");
    tl_in(&t, 0, F32, 3, D(2, 4, 2));
    attr_int(&t, "axis", -2);
    tl_out(&t, 0, F32, 3, D(2, 4, 2), 1);
    tl_out(&t, 1, I64, 1, D(4), 1);
    tl_out(&t, 2, I64, 1, D(4), 0);
    tl_out(&t, 3, I64, 1, D(4), 1);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 3);
    const cg_launch *rep = &t.e.launches[0], *rank = &t.e.launches[1], *wr = &t.e.launches[2];
    assert_kernel(rep, "o2p_select_unique_rep", sizeof(U), 4);
    assert_kernel(rank, "o2p_select_unique_rank", sizeof(U), 4);
    assert_kernel(wr, "o2p_select_unique_write", sizeof(U), 16);
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
        ck_assert_int_eq(patch_tensor(k, OFF(U, x_ptr), NULL), 0);
        assert_workspace(&t, k, OFF(U, rep_ptr), 4 * 8);
        assert_workspace(&t, k, OFF(U, pos_ptr), 4 * 8);
        assert_workspace(&t, k, OFF(U, cnt_ptr), 4 * 8);
        assert_workspace(&t, k, OFF(U, k_ptr), 8);
    }
    /* the slots do not overlap */
    uint64_t a, b, c, d;
    patch_tensor(rep, OFF(U, rep_ptr), &a);
    patch_tensor(rep, OFF(U, pos_ptr), &b);
    patch_tensor(rep, OFF(U, cnt_ptr), &c);
    patch_tensor(rep, OFF(U, k_ptr), &d);
    ck_assert(a + 32 <= b && b + 32 <= c && c + 32 <= d);
    /* the rank launch writes the shape tensors of Y, indices and counts */
    ck_assert_int_eq(patch_tensor(rank, OFF(U, y_shape_ptr), NULL), 20);
    ck_assert_int_eq(patch_tensor(rank, OFF(U, indices_shape_ptr), NULL), 21);
    ck_assert_int_eq(patch_tensor(rank, OFF(U, counts_shape_ptr), NULL), 23);
    /* the write launch the outputs */
    ck_assert_int_eq(patch_tensor(wr, OFF(U, y_ptr), NULL), 10);
    ck_assert_int_eq(patch_tensor(wr, OFF(U, indices_ptr), NULL), 11);
    ck_assert_int_eq(patch_tensor(wr, OFF(U, inverse_ptr), NULL), 12);
    ck_assert_int_eq(patch_tensor(wr, OFF(U, counts_ptr), NULL), 13);
    ck_assert(!has_patch(rep, OFF(U, y_ptr)));
    tl_free(&t);
}
END_TEST

START_TEST(test_unique_flat)
{
    /* flattened [2, 3], first-occurrence order, only Y */
    tl t;
    tl_init(&t, "Unique");
    tl_in(&t, 0, I32, 2, D(2, 3));
    attr_int(&t, "sorted", 0);
    tl_out(&t, 0, I32, 1, D(6), 1);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
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
    ck_assert_int_eq(patch_tensor(rank, OFF(U, y_shape_ptr), NULL), 20);
    ck_assert(!has_patch(rank, OFF(U, indices_shape_ptr)));
    ck_assert(!has_patch(rank, OFF(U, counts_shape_ptr)));
    ck_assert(!has_patch(wr, OFF(U, indices_ptr)));
    ck_assert(!has_patch(wr, OFF(U, inverse_ptr)));
    ck_assert(!has_patch(wr, OFF(U, counts_ptr)));
    tl_free(&t);

    /* one element: its own unique, a static shape needs no shape tensor */
    tl_init(&t, "Unique");
    tl_in(&t, 0, F32, 1, D(1));
    tl_out(&t, 0, F32, 1, D(1), 0);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 3);
    ck_assert(!has_patch(&t.e.launches[1], OFF(U, y_shape_ptr)));
    tl_free(&t);

    /* no elements and static shapes: nothing to launch; with a shape tensor: the rank launch
     * alone writes the empty shape */
    tl_init(&t, "Unique");
    tl_in(&t, 0, F32, 1, D(0));
    tl_out(&t, 0, F32, 1, D(0), 0);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 0);
    tl_free(&t);
    tl_init(&t, "Unique");
    tl_in(&t, 0, F32, 1, D(0));
    tl_out(&t, 0, F32, 1, D(0), 1);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    assert_kernel(&t.e.launches[0], "o2p_select_unique_rank", sizeof(U), 1);
    ck_assert_int_eq(patch_tensor(&t.e.launches[0], OFF(U, y_shape_ptr), NULL), 20);
    tl_free(&t);
}
END_TEST

START_TEST(test_unique_refusals)
{
    tl t;
    /* Y not at its bound */
    tl_init(&t, "Unique");
    tl_in(&t, 0, F32, 2, D(3, 3));
    attr_int(&t, "axis", 0);
    tl_out(&t, 0, F32, 2, D(2, 3), 1);
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "output 0 (Y)");
    tl_free(&t);
    /* Y's type differs */
    tl_init(&t, "Unique");
    tl_in(&t, 0, F32, 1, D(4));
    tl_out(&t, 0, I64, 1, D(4), 1);
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "output 0 (Y)");
    tl_free(&t);
    /* inverse_indices of the wrong length */
    tl_init(&t, "Unique");
    tl_in(&t, 0, F32, 1, D(4));
    tl_out(&t, 0, F32, 1, D(4), 1);
    tl_out(&t, 2, I64, 1, D(3), 0);
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "inverse_indices");
    tl_free(&t);
    /* axis out of range, sorted not 0/1 */
    tl_init(&t, "Unique");
    tl_in(&t, 0, F32, 2, D(3, 3));
    attr_int(&t, "axis", 2);
    tl_out(&t, 0, F32, 2, D(3, 3), 1);
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "axis 2");
    tl_free(&t);
    tl_init(&t, "Unique");
    tl_in(&t, 0, F32, 1, D(4));
    attr_int(&t, "sorted", 3);
    tl_out(&t, 0, F32, 1, D(4), 1);
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "sorted 3");
    tl_free(&t);
    /* a data-dependent output without a shape tensor */
    tl_init(&t, "Unique");
    tl_in(&t, 0, F32, 1, D(4));
    tl_out(&t, 0, F32, 1, D(4), 1);
    tl_out(&t, 3, I64, 1, D(4), 0);
    assert_refused(tl_lower(&t), O2P_ERR_UNSUPPORTED, "no shape tensor");
    tl_free(&t);
    /* beyond the O(n^2) kernels */
    tl_init(&t, "Unique");
    tl_in(&t, 0, F32, 1, D(1 << 20));
    tl_out(&t, 0, F32, 1, D(1 << 20), 1);
    assert_refused(tl_lower(&t), O2P_ERR_UNSUPPORTED, "2^36");
    tl_free(&t);
    /* strings: no candidate */
    tl_init(&t, "Unique");
    tl_in(&t, 0, O2P_DTYPE_STRING, 1, D(4));
    tl_out(&t, 0, O2P_DTYPE_STRING, 1, D(4), 1);
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[2];
    const char *why = NULL;
    ck_assert_int_eq(op_of(&t)->candidates(&t.l, &o, tac, 2, &why), 0);
    ck_assert_ptr_nonnull(why);
    assert_refused(op_of(&t)->lower(&t.l, &tac[0], &o, &t.e), O2P_ERR_UNSUPPORTED, "string");
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- NonMaxSuppression */

typedef o2p_select_nms_params P;

/* boxes [nb, n, 4], scores [nb, nc, n], max_output_boxes_per_class (constant or not),
 * iou_threshold and score_threshold not constant; the output at rows x 3, dynamic. */
static void nms_layer(tl *t, int64_t nb, int64_t nc, int64_t n, int64_t max_out, int max_const,
                      int64_t rows)
{
    tl_init(t, "NonMaxSuppression");
    tl_in(t, 0, F32, 3, D(nb, n, 4));
    tl_in(t, 1, F32, 3, D(nb, nc, n));
    tl_scalar_i64(t, 2, max_out, max_const);
    tl_scalar_f32(t, 3, 0.5f, 0);
    tl_scalar_f32(t, 4, 0.0f, 0);
    tl_out(t, 0, I64, 2, D(rows, 3), 1);
}

START_TEST(test_nms)
{
    /* two batches, three classes, a constant limit of 2: 2*3*2 rows */
    tl t;
    nms_layer(&t, 2, 3, 6, 2, 1, 12);
    attr_int(&t, "center_point_box", 1);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 2);
    const cg_launch *cls = &t.e.launches[0], *ga = &t.e.launches[1];
    assert_kernel(cls, "o2p_select_nms_class", sizeof(P), 6 * 256);
    ck_assert_uint_eq(cls->grid[0], 6); /* one block per (batch, class) */
    assert_kernel(ga, "o2p_select_nms_gather", sizeof(P), 1);
    ck_assert_uint_eq(ga->grid[0], 1); /* one block: the rows go out in order */
    const P *p = PARAMS(P, cls);
    ck_assert_int_eq(p->groups, 6);
    ck_assert_int_eq(p->classes, 3);
    ck_assert_int_eq(p->boxes, 6);
    ck_assert_int_eq(p->max_cap, 2);
    ck_assert_int_eq(p->rows, 12);
    ck_assert_int_eq(p->center_point_box, 1);
    ck_assert_int_eq(p->max_dtype, I64);
    ck_assert_int_eq(patch_tensor(cls, OFF(P, boxes_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(cls, OFF(P, scores_ptr), NULL), 1);
    ck_assert_int_eq(patch_tensor(cls, OFF(P, max_ptr), NULL), 2);
    ck_assert_int_eq(patch_tensor(cls, OFF(P, iou_ptr), NULL), 3);
    ck_assert_int_eq(patch_tensor(cls, OFF(P, score_ptr), NULL), 4);
    assert_workspace(&t, cls, OFF(P, order_ptr), 6 * 6 * 8);
    assert_workspace(&t, cls, OFF(P, sel_ptr), 6 * 6 * 8);
    assert_workspace(&t, cls, OFF(P, count_ptr), 6 * 8);
    assert_workspace(&t, ga, OFF(P, sel_ptr), 6 * 6 * 8);
    assert_workspace(&t, ga, OFF(P, count_ptr), 6 * 8);
    uint64_t s1, s2, c1, c2;
    patch_tensor(cls, OFF(P, sel_ptr), &s1);
    patch_tensor(ga, OFF(P, sel_ptr), &s2);
    patch_tensor(cls, OFF(P, count_ptr), &c1);
    patch_tensor(ga, OFF(P, count_ptr), &c2);
    ck_assert(s1 == s2 && c1 == c2);
    ck_assert_int_eq(patch_tensor(ga, OFF(P, y_ptr), NULL), 10);
    ck_assert_int_eq(patch_tensor(ga, OFF(P, y_shape_ptr), NULL), 20);
    ck_assert(!has_patch(cls, OFF(P, y_ptr)));
    tl_free(&t);

    /* the limit only known at run time: every box may be selected, the kernel clamps to the
     * box count; no score threshold: no address */
    nms_layer(&t, 1, 1, 6, 3, 0, 6);
    t.ins[4] = NULL;
    t.it[4] = -1;
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(P, &t.e.launches[0]);
    ck_assert_int_eq(p->max_cap, 6);
    ck_assert_int_eq(p->rows, 6);
    ck_assert(!has_patch(&t.e.launches[0], OFF(P, score_ptr)));
    tl_free(&t);
}
END_TEST

START_TEST(test_nms_empty)
{
    /* max_output_boxes_per_class omitted: a static empty output, nothing to launch */
    tl t;
    tl_init(&t, "NonMaxSuppression");
    tl_in(&t, 0, F32, 3, D(1, 6, 4));
    tl_in(&t, 1, F32, 3, D(1, 1, 6));
    tl_out(&t, 0, I64, 2, D(0, 3), 0);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 0);
    tl_free(&t);
    /* a constant 0 with a shape tensor anyway: the gather alone writes [0, 3] */
    nms_layer(&t, 1, 1, 6, 0, 1, 0);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    assert_kernel(&t.e.launches[0], "o2p_select_nms_gather", sizeof(P), 1);
    ck_assert_int_eq(PARAMS(P, &t.e.launches[0])->groups, 0);
    ck_assert_int_eq(patch_tensor(&t.e.launches[0], OFF(P, y_shape_ptr), NULL), 20);
    ck_assert(!has_patch(&t.e.launches[0], OFF(P, y_ptr)));
    tl_free(&t);
}
END_TEST

START_TEST(test_nms_refusals)
{
    tl t;
    /* the output below the bound */
    nms_layer(&t, 1, 2, 6, 3, 1, 5);
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "up to 6 boxes");
    tl_free(&t);
    /* boxes not [b, n, 4]; scores not matching */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    t.in[0].dims[2] = 5;
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "boxes are");
    tl_free(&t);
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    t.in[1].dims[2] = 5;
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "scores are");
    tl_free(&t);
    /* a constant iou_threshold outside [0, 1] */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    t.fdata[3] = 1.5f;
    t.in[3].data = &t.fdata[3];
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "iou_threshold");
    tl_free(&t);
    /* center_point_box not 0/1 */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    attr_int(&t, "center_point_box", 2);
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "center_point_box");
    tl_free(&t);
    /* max_output_boxes_per_class not a scalar */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    t.in[2].dims[0] = 2;
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "max_output_boxes_per_class");
    tl_free(&t);
    /* no shape tensor for a data-dependent output */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    t.st[0] = -1;
    assert_refused(tl_lower(&t), O2P_ERR_UNSUPPORTED, "no shape tensor");
    tl_free(&t);
    /* beyond the O(boxes^2) ranking */
    nms_layer(&t, 1, 80, 1 << 17, 100, 1, 8000);
    assert_refused(tl_lower(&t), O2P_ERR_UNSUPPORTED, "2^40");
    tl_free(&t);
    /* double boxes: no candidate */
    nms_layer(&t, 1, 1, 6, 3, 1, 3);
    t.in[0].dtype = O2P_DTYPE_DOUBLE;
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[2];
    const char *why = NULL;
    ck_assert_int_eq(op_of(&t)->candidates(&t.l, &o, tac, 2, &why), 0);
    ck_assert_ptr_nonnull(why);
    tl_free(&t);
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
