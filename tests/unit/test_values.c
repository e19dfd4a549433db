/* test_values.c: known values of small int tensors of any rank flow through shape arithmetic
 * (the F.pad chain PyTorch exports, Transpose/Slice/Reshape/Gather/Concat of 2-D values
 * with symbolic entries, broadcasting arithmetic, Expand/Tile, reductions, Range), never
 * wrong and never out of bounds on hostile parameters; and the real exported models of
 * tests/models/real infer their output shapes with fixed inputs (swin_t needs the above). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

#define F32 O2P_DTYPE_FLOAT
#define I64 O2P_DTYPE_INT64
#define D(...) ((const int64_t[]){__VA_ARGS__})
#define T(...) ((o2p_tensor *const[]){__VA_ARGS__})
#define BIG INT64_MAX

static o2p_network *net_new(int64_t opset)
{
    o2p_network *n = NULL;
    TU_ASSERT_STATUS(o2p_network_create(&n), O2P_OK);
    TU_ASSERT_STATUS(o2p_network_set_opset(n, "", opset), O2P_OK);
    return n;
}

static o2p_graph *G(o2p_network *n)
{
    return o2p_network_get_graph(n);
}

/* An input; dims < 0 take their names from syms (one per axis, NULL for unnamed). */
static o2p_tensor *input(o2p_network *n, const char *name, o2p_dtype t, int rank,
                         const int64_t *dims, const char *const *syms)
{
    o2p_tensor *x = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_input(G(n), name, t, rank, dims, syms, &x), O2P_OK);
    return x;
}

static o2p_tensor *const_i64(o2p_network *n, const char *name, int rank, const int64_t *dims,
                             const int64_t *v)
{
    int64_t count = 1;
    for (int i = 0; i < rank; i++)
        count *= dims[i];
    o2p_tensor *t = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_constant(G(n), name, I64, rank, dims, v, (size_t)count * 8, &t),
                     O2P_OK);
    return t;
}

static o2p_tensor *vec(o2p_network *n, const char *name, int count, const int64_t *v)
{
    int64_t d = count;
    return const_i64(n, name, 1, &d, v);
}

static o2p_tensor *scalar(o2p_network *n, const char *name, int64_t v)
{
    return const_i64(n, name, 0, NULL, &v);
}

static o2p_layer *layer(o2p_network *n, const char *op, int nin, o2p_tensor *const *ins)
{
    o2p_layer *l = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_layer(G(n), "", op, NULL, nin, ins, 1, &l), O2P_OK);
    return l;
}

/* Output 0 of a new layer. */
static o2p_tensor *op(o2p_network *n, const char *op_type, int nin, o2p_tensor *const *ins)
{
    return o2p_layer_get_output(layer(n, op_type, nin, ins), 0);
}

static o2p_tensor *op_axis(o2p_network *n, const char *op_type, int nin, o2p_tensor *const *ins,
                           int64_t axis)
{
    o2p_layer *l = layer(n, op_type, nin, ins);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(l, "axis", axis), O2P_OK);
    return o2p_layer_get_output(l, 0);
}

static o2p_tensor *transpose(o2p_network *n, o2p_tensor *x, int count, const int64_t *perm)
{
    o2p_layer *l = layer(n, "Transpose", 1, T(x));
    if (perm)
        TU_ASSERT_STATUS(o2p_layer_set_attr_ints(l, "perm", perm, count), O2P_OK);
    return o2p_layer_get_output(l, 0);
}

static void infer_ok(o2p_network *n)
{
    TU_ASSERT_STATUS(o2p_network_infer_shapes(n), O2P_OK);
}

/* The values inference knows, as "1,N,?" (known, symbol, unknown), or "none". */
static void values_is(const o2p_tensor *t, const char *want)
{
    char got[1024] = "none";
    ck_assert_ptr_nonnull(t);
    if (t->values) {
        size_t len = 0;
        got[0] = '\0';
        for (int k = 0; k < t->values->count; k++) {
            const ir_value_entry *e = &t->values->e[k];
            const char *sep = k ? "," : "";
            if (e->known)
                len += snprintf(got + len, sizeof got - len, "%s%lld", sep, (long long)e->value);
            else if (e->sym)
                len += snprintf(got + len, sizeof got - len, "%s%s", sep, e->sym);
            else
                len += snprintf(got + len, sizeof got - len, "%s?", sep);
            ck_assert(len < sizeof got);
        }
    }
    ck_assert_msg(strcmp(got, want) == 0, "tensor '%s': values %s, expected %s",
                  o2p_tensor_get_name(t), got, want);
}

/* ---------------------------------------------------------------- the F.pad chain */

/* What torch.onnx exports for F.pad(x, (0, 0, 0, pad_w, 0, pad_h)) with pads computed from
 * x's shape (swin_t pads H and W up to a multiple of the window size, 7):
 *   pads6 = Concat(0, 0, 0, pad_w, 0, pad_h)
 *   zeros = ConstantOfShape(Sub(8, Gather(Shape(pads6), [0])))      -> [0, 0]
 *   rows  = Reshape(Concat(pads6, zeros), [-1, 2])                  -> 4x2, last axis first
 *   rev   = Slice(rows, starts [-1], ends [-huge], axes [0], steps [-1])
 *   pads  = Cast(Reshape(Transpose(rev, [1, 0]), [-1]))             -> begins, then ends
 * The batch is symbolic; H = 55 and W = 54 pad to 56. */
START_TEST(test_pad_chain_gives_known_pads)
{
    o2p_network *n = net_new(17);
    o2p_tensor *x = input(n, "x", F32, 4, D(-1, 55, 54, 96), (const char *const[]){"N", 0, 0, 0});
    o2p_tensor *shape = op(n, "Shape", 1, T(x));
    o2p_tensor *h = op_axis(n, "Gather", 2, T(shape, scalar(n, "one", 1)), 0);
    o2p_tensor *w = op_axis(n, "Gather", 2, T(shape, scalar(n, "two", 2)), 0);
    o2p_tensor *seven = scalar(n, "seven", 7);
    /* pad = (7 - d % 7) % 7 */
    o2p_tensor *pad_h =
        op(n, "Mod", 2, T(op(n, "Sub", 2, T(seven, op(n, "Mod", 2, T(h, seven)))), seven));
    o2p_tensor *pad_w =
        op(n, "Mod", 2, T(op(n, "Sub", 2, T(seven, op(n, "Mod", 2, T(w, seven)))), seven));
    o2p_tensor *ax0 = vec(n, "ax0", 1, D(0));
    o2p_tensor *zero1 = vec(n, "zero1", 1, D(0));
    o2p_tensor *pads6 = op_axis(n, "Concat", 6,
                                T(zero1, zero1, zero1, op(n, "Unsqueeze", 2, T(pad_w, ax0)), zero1,
                                  op(n, "Unsqueeze", 2, T(pad_h, ax0))),
                                0);
    o2p_tensor *len = op_axis(n, "Gather", 2, T(op(n, "Shape", 1, T(pads6)), ax0), 0);
    o2p_layer *cos =
        layer(n, "ConstantOfShape", 1, T(op(n, "Sub", 2, T(vec(n, "eight", 1, D(8)), len))));
    TU_ASSERT_STATUS(o2p_layer_set_attr_tensor(cos, "value", vec(n, "fill", 1, D(0))), O2P_OK);
    o2p_tensor *zeros = o2p_layer_get_output(cos, 0);
    o2p_tensor *all = op_axis(n, "Concat", 2, T(pads6, zeros), 0);
    o2p_tensor *rows = op(n, "Reshape", 2, T(all, vec(n, "rows_shape", 2, D(-1, 2))));
    o2p_tensor *rev = op(n, "Slice", 5,
                         T(rows, vec(n, "starts", 1, D(-1)), vec(n, "ends", 1, D(-BIG)), ax0,
                           vec(n, "steps", 1, D(-1))));
    o2p_tensor *cols = transpose(n, rev, 2, D(1, 0));
    o2p_tensor *flat = op(n, "Reshape", 2, T(cols, vec(n, "minus1", 1, D(-1))));
    o2p_layer *cast = layer(n, "Cast", 1, T(flat));
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(cast, "to", I64), O2P_OK);
    o2p_tensor *pads = o2p_layer_get_output(cast, 0);
    o2p_tensor *y = op(n, "Pad", 2, T(x, pads));
    infer_ok(n);

    values_is(shape, "N,55,54,96");
    values_is(pads6, "0,0,0,2,0,1");
    values_is(zeros, "0,0");
    tu_assert_shape(rows, "4x2");
    values_is(rows, "0,0,0,2,0,1,0,0");
    tu_assert_shape(rev, "4x2");
    values_is(rev, "0,0,0,1,0,2,0,0");
    tu_assert_shape(cols, "2x4");
    values_is(cols, "0,0,0,0,0,1,2,0");
    values_is(pads, "0,0,0,0,0,1,2,0");
    tu_assert_shape(y, "Nx56x56x96");
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- moving 2-D values */

/* Shape of [N, 3, H, 5] viewed as 2x2: symbols move with Transpose, Slice (negative step,
 * clamped ends) and Reshape, and become dims again through ConstantOfShape. */
START_TEST(test_2d_values_keep_symbols)
{
    o2p_network *n = net_new(17);
    o2p_tensor *x = input(n, "x", F32, 4, D(-1, 3, -1, 5), (const char *const[]){"N", 0, "H", 0});
    o2p_tensor *s = op(n, "Shape", 1, T(x));
    o2p_tensor *m = op(n, "Reshape", 2, T(s, vec(n, "two_by_two", 2, D(2, 2))));
    o2p_tensor *t = transpose(n, m, 0, NULL); /* default perm: reversed axes */
    o2p_tensor *ax1 = vec(n, "ax1", 1, D(1));
    /* columns reversed: starts past the end clamp to the last column */
    o2p_tensor *r =
        op(n, "Slice", 5,
           T(t, vec(n, "st", 1, D(100)), vec(n, "en", 1, D(-BIG)), ax1, vec(n, "sp", 1, D(-1))));
    /* rows 1.. on axis 0, columns 0..0 on axis 1: steps omitted */
    o2p_tensor *corner = op(
        n, "Slice", 4,
        T(t, vec(n, "st2", 2, D(1, 0)), vec(n, "en2", 2, D(BIG, 1)), vec(n, "ax01", 2, D(0, 1))));
    o2p_tensor *flat = op(n, "Reshape", 2, T(r, vec(n, "m1", 1, D(-1))));
    o2p_layer *cos = layer(n, "ConstantOfShape", 1, T(flat));
    o2p_tensor *filled = o2p_layer_get_output(cos, 0);
    o2p_tensor *sq = op(n, "Squeeze", 2, T(corner, vec(n, "sqax", 1, D(1))));
    o2p_tensor *fl = o2p_layer_get_output(layer(n, "Flatten", 1, T(m)), 0);
    /* arithmetic: a symbol times 2 is unknown, times 1 stays, plus 0 stays */
    o2p_tensor *twice = op(n, "Mul", 2, T(m, scalar(n, "k2", 2)));
    o2p_tensor *once = op(n, "Mul", 2, T(m, vec(n, "k1", 1, D(1))));
    o2p_tensor *plus0 = op(n, "Add", 2, T(m, const_i64(n, "z", 2, D(2, 1), D(0, 0))));
    infer_ok(n);

    tu_assert_shape(m, "2x2");
    values_is(m, "N,3,H,5");
    tu_assert_shape(t, "2x2");
    values_is(t, "N,H,3,5");
    tu_assert_shape(r, "2x2");
    values_is(r, "H,N,5,3");
    tu_assert_shape(corner, "1x1");
    values_is(corner, "3");
    values_is(sq, "3");
    tu_assert_shape(fl, "2x2");
    values_is(fl, "N,3,H,5");
    values_is(flat, "H,N,5,3");
    tu_assert_shape(filled, "HxNx5x3");
    values_is(twice, "?,6,?,10");
    values_is(once, "N,3,H,5");
    values_is(plus0, "N,3,H,5");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_gather_axis1_of_2d_constant)
{
    o2p_network *n = net_new(17);
    o2p_tensor *data = const_i64(n, "data", 2, D(2, 3), D(10, 11, 12, 20, 21, 22));
    o2p_tensor *g = op_axis(n, "Gather", 2, T(data, vec(n, "idx", 2, D(2, 0))), 1);
    o2p_tensor *g_neg = op_axis(n, "Gather", 2, T(data, scalar(n, "last", -1)), 1);
    o2p_tensor *g_2d =
        op_axis(n, "Gather", 2, T(data, const_i64(n, "idx2", 2, D(2, 1), D(1, 2))), 1);
    o2p_tensor *g_rows = op_axis(n, "Gather", 2, T(data, vec(n, "row", 1, D(1))), 0);
    infer_ok(n);
    tu_assert_shape(g, "2x2");
    values_is(g, "12,10,22,20");
    tu_assert_shape(g_neg, "2");
    values_is(g_neg, "12,22");
    tu_assert_shape(g_2d, "2x2x1");
    values_is(g_2d, "11,12,21,22");
    tu_assert_shape(g_rows, "1x3");
    values_is(g_rows, "20,21,22");
    o2p_network_destroy(n);

    /* an index out of range is an error, not a read */
    n = net_new(17);
    data = const_i64(n, "data", 2, D(2, 3), D(10, 11, 12, 20, 21, 22));
    op_axis(n, "Gather", 2, T(data, const_i64(n, "idx", 2, D(1, 2), D(0, 3))), 1);
    TU_ASSERT_STATUS(o2p_network_infer_shapes(n), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("out of range");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_concat_expand_tile_any_axis)
{
    o2p_network *n = net_new(17);
    o2p_tensor *x = input(n, "x", F32, 2, D(-1, 7), (const char *const[]){"B", 0});
    o2p_tensor *s = op(n, "Shape", 1, T(x));                               /* B, 7 */
    o2p_tensor *col = op(n, "Unsqueeze", 2, T(s, vec(n, "ax1", 1, D(1)))); /* 2x1 */
    o2p_tensor *c = const_i64(n, "c", 2, D(2, 2), D(1, 2, 3, 4));
    o2p_tensor *cat1 = op_axis(n, "Concat", 2, T(col, c), 1); /* 2x3 */
    o2p_tensor *cat0 = op_axis(n, "Concat", 2, T(c, c), -2);  /* 4x2 */
    o2p_tensor *e = op(n, "Expand", 2, T(col, vec(n, "es", 2, D(2, 3))));
    o2p_tensor *tl = op(n, "Tile", 2, T(col, vec(n, "reps", 2, D(2, 2))));
    /* an input whose values are not known gives unknown entries, not a wrong order */
    o2p_tensor *u = input(n, "u", I64, 2, D(2, 1), NULL);
    o2p_tensor *cat_u = op_axis(n, "Concat", 2, T(u, col), 1);
    /* a big expand keeps no values, but still has its shape */
    o2p_tensor *big = op(n, "Expand", 2, T(col, vec(n, "bs", 2, D(2, 40))));
    infer_ok(n);
    tu_assert_shape(cat1, "2x3");
    values_is(cat1, "B,1,2,7,3,4");
    values_is(cat0, "1,2,3,4,1,2,3,4");
    tu_assert_shape(e, "2x3");
    values_is(e, "B,B,B,7,7,7");
    tu_assert_shape(tl, "4x2");
    values_is(tl, "B,B,7,7,B,B,7,7");
    values_is(cat_u, "?,B,?,7");
    tu_assert_shape(big, "2x40");
    values_is(big, "none");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_broadcast_arithmetic_and_where)
{
    o2p_network *n = net_new(17);
    o2p_tensor *a = const_i64(n, "a", 2, D(2, 1), D(10, 20));
    o2p_tensor *b = vec(n, "b", 3, D(1, 2, 3));
    o2p_tensor *sum = op(n, "Add", 2, T(a, b));
    o2p_tensor *lt = op(n, "Less", 2, T(b, a));
    o2p_tensor *gt = op(n, "Greater", 2, T(b, scalar(n, "two", 2)));
    o2p_tensor *w = op(n, "Where", 3, T(gt, a, b));
    o2p_tensor *mx = op(n, "Max", 3, T(a, b, scalar(n, "fifteen", 15)));
    o2p_tensor *div = op(n, "Div", 2, T(a, const_i64(n, "zero_one", 2, D(1, 2), D(0, 3))));
    infer_ok(n);
    tu_assert_shape(sum, "2x3");
    values_is(sum, "11,12,13,21,22,23");
    values_is(lt, "1,1,1,1,1,1");
    values_is(gt, "0,0,1");
    tu_assert_shape(w, "2x3");
    values_is(w, "1,2,10,1,2,20");
    values_is(mx, "15,15,15,20,20,20");
    values_is(div, "?,3,?,6"); /* no division by zero */
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_reductions_and_range)
{
    o2p_network *n = net_new(17);
    o2p_tensor *x = input(n, "x", F32, 3, D(-1, 4, 6), (const char *const[]){"N", 0, 0});
    o2p_tensor *s = op(n, "Shape", 1, T(x));
    o2p_tensor *tail = op(n, "Slice", 3, T(s, vec(n, "st", 1, D(1)), vec(n, "en", 1, D(BIG))));
    o2p_layer *lp = layer(n, "ReduceProd", 1, T(tail));
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(lp, "keepdims", 0), O2P_OK);
    o2p_tensor *numel = o2p_layer_get_output(lp, 0);
    o2p_tensor *prod_all = op(n, "ReduceProd", 1, T(s)); /* N*24: unknown */
    o2p_tensor *m = const_i64(n, "m", 2, D(2, 3), D(1, 5, 3, 4, 2, 6));
    o2p_layer *rs = layer(n, "ReduceSum", 2, T(m, vec(n, "ax1", 1, D(1))));
    o2p_tensor *rsum = o2p_layer_get_output(rs, 0);
    o2p_layer *rm = layer(n, "ReduceMax", 1, T(m));
    TU_ASSERT_STATUS(o2p_layer_set_attr_ints(rm, "axes", D(0), 1), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(rm, "keepdims", 0), O2P_OK);
    o2p_tensor *rmax = o2p_layer_get_output(rm, 0);
    o2p_tensor *rng = op(n, "Range", 3, T(scalar(n, "r0", 0), numel, scalar(n, "r8", 8)));
    /* start + k*delta does not fit in int64 on the way, the values do */
    o2p_tensor *wide = op(n, "Range", 3,
                          T(scalar(n, "lo", INT64_MIN), scalar(n, "hi", INT64_MAX),
                            scalar(n, "step", (int64_t)1 << 62)));
    infer_ok(n);
    tu_assert_shape(numel, "scalar");
    values_is(numel, "24");
    values_is(prod_all, "?");
    tu_assert_shape(rsum, "2x1");
    values_is(rsum, "9,12");
    tu_assert_shape(rmax, "3");
    values_is(rmax, "4,5,6");
    tu_assert_shape(rng, "3");
    values_is(rng, "0,8,16");
    tu_assert_shape(wide, "4");
    values_is(wide, "-9223372036854775808,-4611686018427387904,0,4611686018427387904");
    o2p_network_destroy(n);
}
END_TEST

/* Hostile slice parameters on 2-D values: huge and INT64_MIN steps and bounds clamp, and
 * no entry is read from outside the input. */
START_TEST(test_slice_hostile_params)
{
    const int64_t cases[][4] = {
        /* start, end, step, axis */
        {INT64_MIN, INT64_MAX, INT64_MAX, 0},
        {INT64_MAX, INT64_MIN, INT64_MIN, 1},
        {-1, INT64_MIN, -1, -1},
        {INT64_MIN, INT64_MIN, -1, 0}, /* start clamps to 0, end to -1: one row */
        {2, 1, 1, 1},
        {-100, 100, 2, 1},
    };
    /* as onnxruntime 1.32 slices them */
    const char *want[] = {"1,2,3", "3,6", "3,2,1,6,5,4", "1,2,3", "none-empty", "1,3,4,6"};
    const char *want_shape[] = {"1x3", "2x1", "2x3", "1x3", "2x0", "2x2"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        o2p_network *n = net_new(17);
        o2p_tensor *m = const_i64(n, "m", 2, D(2, 3), D(1, 2, 3, 4, 5, 6));
        o2p_tensor *r = op(n, "Slice", 5,
                           T(m, vec(n, "s", 1, &cases[i][0]), vec(n, "e", 1, &cases[i][1]),
                             vec(n, "a", 1, &cases[i][3]), vec(n, "p", 1, &cases[i][2])));
        infer_ok(n);
        tu_assert_shape(r, want_shape[i]);
        if (strcmp(want[i], "none-empty") == 0)
            ck_assert(r->values == NULL || r->values->count == 0);
        else
            values_is(r, want[i]);
        o2p_network_destroy(n);
    }
}
END_TEST

/* Lists given as rank-2 tensors are refused rather than read flattened. */
START_TEST(test_list_inputs_must_be_1d)
{
    o2p_network *n = net_new(17);
    o2p_tensor *x = input(n, "x", F32, 2, D(1, 4), NULL);
    op(n, "Squeeze", 2, T(x, const_i64(n, "axes", 2, D(1, 1), D(0))));
    TU_ASSERT_STATUS(o2p_network_infer_shapes(n), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("1-D");
    o2p_network_destroy(n);

    n = net_new(17);
    x = input(n, "x", F32, 2, D(1, 4), NULL);
    op(n, "Pad", 2, T(x, const_i64(n, "pads", 2, D(2, 2), D(0, 0, 1, 1))));
    TU_ASSERT_STATUS(o2p_network_infer_shapes(n), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("1-D");
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- random chains */

static int64_t rand_value(uint64_t *st)
{
    static const int64_t pool[] = {0,
                                   1,
                                   2,
                                   3,
                                   -1,
                                   -2,
                                   4,
                                   7,
                                   64,
                                   INT64_MAX,
                                   INT64_MIN,
                                   INT32_MAX,
                                   (int64_t)1 << 40,
                                   -((int64_t)1 << 62)};
    return pool[tu_rand(st) % (sizeof pool / sizeof pool[0])];
}

/* A small int64 constant of rank 0 to 3 (at most 64 elements) with hostile entries. */
static o2p_tensor *rand_const(o2p_network *n, uint64_t *st, int idx)
{
    char name[32];
    snprintf(name, sizeof name, "c%d", idx);
    int rank = (int)(tu_rand(st) % 4);
    int64_t dims[3], count = 1, v[64];
    for (int i = 0; i < rank; i++) {
        dims[i] = (int64_t)(tu_rand(st) % 5);
        count *= dims[i];
    }
    for (int64_t k = 0; k < count; k++)
        v[k] = tu_rand(st) % 3 ? (int64_t)(tu_rand(st) % 5) - 1 : rand_value(st);
    return const_i64(n, name, rank, dims, v);
}

/* Every tensor that carries values has as many as its static shape has elements; returns
 * how many of rank 2 or more carry some. */
static int check_values_fit(o2p_network *n, const char *what)
{
    int multi = 0;
    o2p_graph *g = G(n);
    for (int i = 0; i < o2p_graph_num_layers(g); i++) {
        const o2p_layer *l = o2p_graph_get_layer(g, i);
        for (int j = 0; j < o2p_layer_num_outputs(l); j++) {
            const o2p_tensor *t = o2p_layer_get_output(l, j);
            if (!t || !t->values)
                continue;
            ck_assert_msg(t->values->count >= 0 && t->values->count <= IR_MAX_VALUES,
                          "%s: %s has %d values", what, o2p_layer_get_op_type(l), t->values->count);
            int r = o2p_tensor_get_rank(t);
            multi += r >= 2;
            int64_t numel = 1;
            for (int d = 0; d < r && numel >= 0; d++) {
                int64_t dim = o2p_tensor_get_dim(t, d);
                numel = dim < 0 ? -1 : numel * (dim > 64 ? 65 : dim);
            }
            if (r >= 0 && numel >= 0)
                ck_assert_msg(numel == t->values->count || (numel > 64 && t->values->count == 0),
                              "%s: %s output has %d values for %lld elements", what,
                              o2p_layer_get_op_type(l), t->values->count, (long long)numel);
        }
    }
    return multi;
}

/* Chains of the value-moving and arithmetic ops over hostile small constants and a shape
 * with a symbol: inference may refuse them, but never crashes, overflows or leaves values
 * that do not fit their shape (the sanitizer build runs this too). */
START_TEST(test_random_value_chains)
{
    static const char *const ops[] = {"Reshape",   "Transpose", "Slice",     "Gather",
                                      "Concat",    "Expand",    "Tile",      "Add",
                                      "Sub",       "Mul",       "Div",       "Mod",
                                      "Equal",     "Less",      "Where",     "Max",
                                      "Min",       "Sum",       "ReduceSum", "ReduceProd",
                                      "ReduceMax", "ReduceMin", "Squeeze",   "Unsqueeze",
                                      "Flatten",   "Cast",      "Range",     "ConstantOfShape",
                                      "Identity",  "Neg",       "Abs",       "Shape",
                                      "Size",      "Pad",       "Split",     "Not"};
    static const char *const attrs[] = {"axis", "perm", "axes",   "keepdims",
                                        "to",   "fmod", "starts", "ends"};
    const char *env = getenv("O2P_VALUES_TRIALS");
    int trials = env ? atoi(env) : 3000, refused = 0, multi = 0;
    uint64_t st = 0x5eed5eed1234ull;
    for (int trial = 0; trial < trials; trial++) {
        static const int64_t opsets[] = {9, 11, 13, 17};
        o2p_network *n = net_new(opsets[tu_rand(&st) % 4]);
        o2p_tensor *pool[32];
        int np = 0;
        int64_t xd[4];
        const char *syms[4] = {0};
        for (int i = 0; i < 4; i++) {
            xd[i] = (int64_t)(tu_rand(&st) % 4) - 1;
            if (xd[i] < 0)
                syms[i] = i % 2 ? "N" : "M";
        }
        o2p_tensor *x = input(n, "x", F32, 4, xd, syms);
        pool[np++] = op(n, "Shape", 1, T(x));
        for (int i = 0; i < 3; i++)
            pool[np++] = rand_const(n, &st, i);
        int steps = 2 + (int)(tu_rand(&st) % 6);
        for (int k = 0; k < steps && np < 32; k++) {
            const char *name = ops[tu_rand(&st) % (sizeof ops / sizeof ops[0])];
            const ir_op *d = ir_op_find("", name);
            ck_assert_ptr_nonnull(d);
            o2p_tensor *ins[5];
            for (int i = 0; i < 5; i++)
                ins[i] = pool[tu_rand(&st) % (unsigned)np];
            int nin = 1 + (int)(tu_rand(&st) % 5);
            if (nin < d->min_inputs)
                nin = d->min_inputs;
            if (d->max_inputs >= 0 && nin > d->max_inputs)
                nin = d->max_inputs;
            if (tu_rand(&st) % 3)
                ins[0] = pool[np - 1]; /* mostly a chain */
            if (nin > 1 && tu_rand(&st) % 8 == 0)
                ins[nin - 1] = NULL; /* an omitted optional input */
            o2p_layer *l = NULL;
            int nout = strcmp(name, "Split") == 0 ? 1 + (int)(tu_rand(&st) % 3) : 1;
            TU_ASSERT_STATUS(o2p_graph_add_layer(G(n), "", name, NULL, nin, ins, nout, &l), O2P_OK);
            int na = tu_rand(&st) % 2 ? 0 : 1 + (int)(tu_rand(&st) % 2);
            for (int a = 0; a < na; a++) {
                const char *an = attrs[tu_rand(&st) % (sizeof attrs / sizeof attrs[0])];
                int64_t v[4];
                int cnt = 1 + (int)(tu_rand(&st) % 4);
                for (int i = 0; i < cnt; i++)
                    v[i] = tu_rand(&st) % 2 ? (int64_t)(tu_rand(&st) % 5) - 2 : rand_value(&st);
                if (strcmp(an, "perm") == 0 || strcmp(an, "axes") == 0 ||
                    strcmp(an, "starts") == 0 || strcmp(an, "ends") == 0)
                    o2p_layer_set_attr_ints(l, an, v, cnt);
                else if (strcmp(an, "to") == 0)
                    o2p_layer_set_attr_int(l, an,
                                           tu_rand(&st) % 2 ? I64 : (int64_t)(tu_rand(&st) % 14));
                else
                    o2p_layer_set_attr_int(l, an, v[0]);
            }
            if (strcmp(name, "Cast") == 0 && o2p_layer_find_attr(l, "to") < 0)
                o2p_layer_set_attr_int(l, "to", tu_rand(&st) % 2 ? I64 : O2P_DTYPE_INT8);
            if (strcmp(name, "Concat") == 0 && o2p_layer_find_attr(l, "axis") < 0)
                o2p_layer_set_attr_int(l, "axis", (int64_t)(tu_rand(&st) % 3) - 1);
            pool[np++] = o2p_layer_get_output(l, 0);
        }
        char what[64];
        snprintf(what, sizeof what, "trial %d", trial);
        o2p_status s = o2p_network_infer_shapes(n);
        if (s != O2P_OK) {
            refused++;
            ck_assert_msg(o2p_last_error()[0] != '\0', "%s: refused with no message", what);
            if (getenv("O2P_VALUES_VERBOSE"))
                printf("%s: %s\n", what, o2p_last_error());
        }
        multi += check_values_fit(n, what);
        o2p_network_destroy(n);
    }
    printf("test_values: random chains: %d trials, %d refused with a message, %d tensors of "
           "rank 2+ with values\n",
           trials, refused, multi);
}
END_TEST

/* ---------------------------------------------------------------- real models */

START_TEST(test_real_models_fixed_inputs)
{
    static const struct {
        const char *file, *input, *want;
        int rank;
        int64_t dims[4];
    } models[] = {
        {"resnet18_light.onnx", "input", "2x1000", 4, {2, 3, 224, 224}},
        {"convnext_tiny_light.onnx", "input", "2x1000", 4, {2, 3, 224, 224}},
        {"vit_b_16_light.onnx", "input", "2x1000", 4, {2, 3, 224, 224}},
        {"swin_t_light.onnx", "input", "2x1000", 4, {2, 3, 224, 224}},
        {"bert_tiny_light.onnx", "input_ids", "2x16x128", 2, {2, 16}},
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char *path = tu_printf("%s/tests/models/real/%s", O2P_SOURCE_DIR, models[i].file);
        o2p_network *net = NULL;
        o2p_parser *parser = NULL;
        o2p_status st = tu_parse_file(path, &net, &parser);
        ck_assert_msg(st == O2P_OK, "%s: %s", path, o2p_last_error());
        o2p_tensor *in = o2p_graph_find_tensor(o2p_network_get_graph(net), models[i].input);
        ck_assert_msg(in != NULL, "%s: no input '%s'", models[i].file, models[i].input);
        TU_ASSERT_STATUS(o2p_tensor_set_shape(in, models[i].rank, models[i].dims), O2P_OK);
        st = o2p_network_infer_shapes(net);
        ck_assert_msg(st == O2P_OK, "%s: %s", models[i].file, o2p_last_error());
        o2p_graph *g = o2p_network_get_graph(net);
        char got[256];
        o2p_tensor_format_shape(o2p_graph_get_output(g, 0), got, sizeof got);
        ck_assert_msg(strcmp(got, models[i].want) == 0, "%s: output %s, expected %s",
                      models[i].file, got, models[i].want);
        /* with the input fixed, every layer's outputs are fully known */
        for (int k = 0; k < o2p_graph_num_layers(g); k++) {
            const o2p_layer *l = o2p_graph_get_layer(g, k);
            for (int j = 0; j < o2p_layer_num_outputs(l); j++) {
                const o2p_tensor *t = o2p_layer_get_output(l, j);
                if (!t)
                    continue;
                char s[256];
                o2p_tensor_format_shape(t, s, sizeof s);
                ck_assert_msg(!strchr(s, '?'), "%s: '%s' (%s) has shape %s", models[i].file,
                              o2p_tensor_get_name(t), o2p_layer_get_op_type(l), s);
            }
        }
        printf("test_values: %-26s output %s\n", models[i].file, got);
        tu_parsed_free(net, parser);
        free(path);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("values");
    TCase *tc = tcase_create("values");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_pad_chain_gives_known_pads);
    tcase_add_test(tc, test_2d_values_keep_symbols);
    tcase_add_test(tc, test_gather_axis1_of_2d_constant);
    tcase_add_test(tc, test_concat_expand_tile_any_axis);
    tcase_add_test(tc, test_broadcast_arithmetic_and_where);
    tcase_add_test(tc, test_reductions_and_range);
    tcase_add_test(tc, test_slice_hostile_params);
    tcase_add_test(tc, test_list_inputs_must_be_1d);
    tcase_add_test(tc, test_random_value_chains);
    tcase_add_test(tc, test_real_models_fixed_inputs);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
