/* test_infer.c: shape and type inference on networks built by hand with the public API:
 * broadcasting with symbolic dims, convolution geometry, Shape→Reshape chains, opset
 * differences, Slice, Resize, control flow, error messages; the op table; and a randomized
 * sweep that feeds every operator hostile attributes and shapes (it must never crash). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

static o2p_network *net_new(int64_t opset)
{
    o2p_network *n = NULL;
    ck_assert_int_eq(o2p_network_create(&n), O2P_OK);
    if (opset > 0)
        ck_assert_int_eq(o2p_network_set_opset(n, "", opset), O2P_OK);
    return n;
}

static o2p_graph *G(o2p_network *n)
{
    return o2p_network_get_graph(n);
}

/* An input; dims < 0 take their name from `syms` ("N,,C": empty for unnamed). */
static o2p_tensor *in_g(o2p_graph *g, const char *name, o2p_dtype t, int rank, const int64_t *dims,
                        const char *syms)
{
    const char *names[O2P_MAX_RANK] = {0};
    char buf[256] = "";
    if (syms) {
        snprintf(buf, sizeof buf, "%s", syms);
        char *p = buf;
        for (int i = 0; i < rank; i++) {
            char *c = strchr(p, ',');
            if (c)
                *c = '\0';
            names[i] = *p ? p : NULL;
            if (!c)
                break;
            p = c + 1;
        }
    }
    o2p_tensor *x = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_input(g, name, t, rank < 0 ? 0 : rank, dims, names, &x), O2P_OK);
    if (rank < 0)
        x->shape.rank = O2P_RANK_UNKNOWN; /* the public API has no unknown-rank inputs */
    return x;
}

static o2p_tensor *in(o2p_network *n, const char *name, o2p_dtype t, int rank, const int64_t *dims,
                      const char *syms)
{
    return in_g(G(n), name, t, rank, dims, syms);
}

static o2p_tensor *ci64_g(o2p_graph *g, const char *name, int rank, const int64_t *dims,
                          const int64_t *v)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    o2p_tensor *t = NULL;
    TU_ASSERT_STATUS(
        o2p_graph_add_constant(g, name, O2P_DTYPE_INT64, rank, dims, v, (size_t)n * 8, &t), O2P_OK);
    return t;
}

/* A 1-D int64 constant. */
static o2p_tensor *vec(o2p_network *n, const char *name, int count, const int64_t *v)
{
    int64_t d = count;
    return ci64_g(G(n), name, 1, &d, v);
}

static o2p_tensor *scalar_i64(o2p_network *n, const char *name, int64_t v)
{
    return ci64_g(G(n), name, 0, NULL, &v);
}

static o2p_tensor *vec_f32(o2p_network *n, const char *name, int count, const float *v)
{
    int64_t d = count;
    o2p_tensor *t = NULL;
    TU_ASSERT_STATUS(
        o2p_graph_add_constant(G(n), name, O2P_DTYPE_FLOAT, 1, &d, v, (size_t)count * 4, &t),
        O2P_OK);
    return t;
}

static o2p_layer *op_g(o2p_graph *g, const char *op, const char *name, int nin,
                       o2p_tensor *const *ins, int nout)
{
    o2p_layer *l = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_layer(g, "", op, name, nin, ins, nout, &l), O2P_OK);
    return l;
}

static o2p_layer *op(o2p_network *n, const char *op_type, int nin, o2p_tensor *const *ins, int nout)
{
    return op_g(G(n), op_type, NULL, nin, ins, nout);
}

static o2p_tensor *out(o2p_layer *l, int i)
{
    return o2p_layer_get_output(l, i);
}

static void infer_ok(o2p_network *n)
{
    TU_ASSERT_STATUS(o2p_network_infer_shapes(n), O2P_OK);
}

/* Infers, expecting O2P_ERR_SHAPE with a message that contains each needle. */
static void infer_fails(o2p_network *n, const char *needle1, const char *needle2)
{
    TU_ASSERT_STATUS(o2p_network_infer_shapes(n), O2P_ERR_SHAPE);
    if (needle1)
        TU_ASSERT_ERROR_HAS(needle1);
    if (needle2)
        TU_ASSERT_ERROR_HAS(needle2);
}

static void dtype_is(const o2p_tensor *t, o2p_dtype want)
{
    ck_assert_msg(o2p_tensor_get_dtype(t) == want, "tensor '%s' is %s, expected %s",
                  o2p_tensor_get_name(t), o2p_dtype_name(o2p_tensor_get_dtype(t)),
                  o2p_dtype_name(want));
}

#define F32 O2P_DTYPE_FLOAT
#define I64 O2P_DTYPE_INT64
#define D(...) ((const int64_t[]){__VA_ARGS__})
#define T(...) ((o2p_tensor *const[]){__VA_ARGS__})

/* ---------------------------------------------------------------- the op table */

START_TEST(test_op_table)
{
    int n = ir_op_count();
    ck_assert_int_ge(n, 160);
    for (int i = 0; i < n; i++) {
        const ir_op *a = ir_op_at(i);
        ck_assert_ptr_nonnull(a);
        ck_assert(a->infer != NULL);
        ck_assert_msg(a->min_inputs >= 0 && (a->max_inputs < 0 || a->max_inputs >= a->min_inputs),
                      "%s: bad input counts", a->op_type);
        ck_assert_msg(a->min_outputs >= 0 &&
                          (a->max_outputs < 0 || a->max_outputs >= a->min_outputs),
                      "%s: bad output counts", a->op_type);
        if (i > 0) {
            const ir_op *p = ir_op_at(i - 1);
            int c = strcmp(p->domain, a->domain);
            ck_assert_msg(c < 0 || (c == 0 && strcmp(p->op_type, a->op_type) < 0),
                          "the op table is not sorted: '%s' before '%s'", p->op_type, a->op_type);
        }
        ck_assert_ptr_eq(ir_op_find(a->domain, a->op_type), a);
    }
    ck_assert_ptr_null(ir_op_at(-1));
    ck_assert_ptr_null(ir_op_at(n));
    ck_assert(o2p_op_supported("", "Conv"));
    ck_assert(o2p_op_supported("ai.onnx", "Loop"));
    ck_assert(o2p_op_supported(NULL, "Abs"));
    ck_assert(!o2p_op_supported("", "conv"));
    ck_assert(o2p_op_supported("", "SequenceAt"));
    ck_assert(!o2p_op_supported("", "StringNormalizer"));
    ck_assert(!o2p_op_supported("", "StringNormalizer"));
    ck_assert(!o2p_op_supported("ai.onnx.ml", "Abs"));
    ck_assert(!o2p_op_supported("", ""));
    ck_assert_int_eq(o2p_max_opset(), 17);
}
END_TEST

/* ---------------------------------------------------------------- broadcasting */

START_TEST(test_broadcast_symbolic)
{
    o2p_network *n = net_new(0);
    o2p_tensor *a = in(n, "a", F32, 3, D(-1, 3, 1), "N,,");
    o2p_tensor *b = in(n, "b", F32, 2, D(1, 4), NULL);
    o2p_tensor *c = in(n, "c", F32, 1, D(-1), "M");
    o2p_tensor *d = in(n, "d", F32, 2, D(-1, -1), "N,");
    o2p_layer *ab = op(n, "Add", 2, T(a, b), 1);
    o2p_layer *ac = op(n, "Mul", 2, T(a, c), 1); /* [N,3,1] * [M] */
    o2p_layer *ad = op(n, "Sub", 2, T(d, a), 1); /* [N,?] - [N,3,1]: ? vs N on axis 1 */
    o2p_layer *eq = op(n, "Equal", 2, T(a, b), 1);
    o2p_layer *w = op(n, "Where", 3, T(out(eq, 0), a, b), 1);
    o2p_layer *mx = op(n, "Max", 3, T(a, b, c), 1);
    infer_ok(n);
    tu_assert_shape(out(ab, 0), "Nx3x4");
    ck_assert_str_eq(o2p_tensor_get_dim_name(out(ab, 0), 0), "N");
    tu_assert_shape(out(ac, 0), "Nx3xM");
    tu_assert_shape(out(ad, 0), "Nx3x?"); /* [1,N,?] vs [N,3,1]: N; the known 3 wins; ? */
    dtype_is(out(eq, 0), O2P_DTYPE_BOOL);
    tu_assert_shape(out(w, 0), "Nx3x4");
    dtype_is(out(w, 0), F32);
    tu_assert_shape(out(mx, 0), "Nx3x4"); /* 4 vs M: M must be 4 or 1 */
    o2p_network_destroy(n);

    /* two different symbols broadcast to unknown; the same symbol stays */
    n = net_new(0);
    a = in(n, "a", F32, 2, D(-1, -1), "N,K");
    b = in(n, "b", F32, 2, D(-1, -1), "M,K");
    ab = op(n, "Add", 2, T(a, b), 1);
    infer_ok(n);
    tu_assert_shape(out(ab, 0), "?xK");
    o2p_network_destroy(n);

    n = net_new(0);
    a = in(n, "a", F32, 2, D(2, 3), NULL);
    b = in(n, "b", F32, 1, D(4), NULL);
    op(n, "Add", 2, T(a, b), 1);
    infer_fails(n, "cannot be broadcast", "Add");
    o2p_network_destroy(n);

    /* mixed element types are refused */
    n = net_new(0);
    a = in(n, "a", F32, 1, D(2), NULL);
    b = in(n, "b", I64, 1, D(2), NULL);
    op(n, "Add", 2, T(a, b), 1);
    infer_fails(n, "same element type", "'b'");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_legacy_broadcast)
{
    /* opset 6: B broadcast to A from `axis` */
    o2p_network *n = net_new(6);
    o2p_tensor *a = in(n, "a", F32, 4, D(2, 3, 4, 5), NULL);
    o2p_tensor *b = in(n, "b", F32, 1, D(3), NULL);
    o2p_layer *l = op(n, "Add", 2, T(a, b), 1);
    o2p_layer_set_attr_int(l, "broadcast", 1);
    o2p_layer_set_attr_int(l, "axis", 1);
    infer_ok(n);
    tu_assert_shape(out(l, 0), "2x3x4x5");
    o2p_network_destroy(n);

    n = net_new(6);
    a = in(n, "a", F32, 4, D(2, 3, 4, 5), NULL);
    b = in(n, "b", F32, 1, D(4), NULL);
    l = op(n, "Mul", 2, T(a, b), 1);
    o2p_layer_set_attr_int(l, "broadcast", 1);
    o2p_layer_set_attr_int(l, "axis", 1);
    infer_fails(n, "cannot be broadcast", NULL);
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- convolution */

START_TEST(test_conv)
{
    o2p_network *n = net_new(0);
    o2p_tensor *x = in(n, "x", F32, 4, D(-1, 3, 32, 32), "N,,,");
    float wdata[8 * 3 * 3 * 3] = {0};
    o2p_tensor *w;
    TU_ASSERT_STATUS(
        o2p_graph_add_constant(G(n), "w", F32, 4, D(8, 3, 3, 3), wdata, sizeof wdata, &w), O2P_OK);
    o2p_layer *c1 = op(n, "Conv", 2, T(x, w), 1);
    o2p_layer_set_attr_ints(c1, "pads", D(1, 1, 1, 1), 4);
    o2p_layer_set_attr_ints(c1, "strides", D(2, 2), 2);
    o2p_layer *c2 = op(n, "Conv", 2, T(x, w), 1);
    o2p_layer_set_attr_ints(c2, "dilations", D(2, 3), 2);
    o2p_layer *c3 = op(n, "Conv", 2, T(x, w), 1);
    o2p_layer_set_attr_string(c3, "auto_pad", "SAME_UPPER");
    o2p_layer_set_attr_ints(c3, "strides", D(3, 5), 2);
    o2p_layer *c4 = op(n, "Conv", 2, T(x, w), 1);
    o2p_layer_set_attr_string(c4, "auto_pad", "VALID");
    o2p_layer_set_attr_ints(c4, "strides", D(2, 2), 2);
    o2p_layer *c5 = op(n, "Conv", 2, T(x, w), 1);
    o2p_layer_set_attr_string(c5, "auto_pad", "SAME_LOWER");
    o2p_layer_set_attr_ints(c5, "pads", D(9, 9, 9, 9), 4); /* ignored under auto_pad */
    o2p_layer *c6 = op(n, "Conv", 2, T(x, w), 1);
    o2p_layer_set_attr_ints(c6, "pads", D(0, 1, 2, 3), 4); /* asymmetric */
    o2p_layer_set_attr_ints(c6, "kernel_shape", D(3, 3), 2);
    infer_ok(n);
    tu_assert_shape(out(c1, 0), "Nx8x16x16"); /* (32 + 2 - 3) / 2 + 1 */
    tu_assert_shape(out(c2, 0), "Nx8x28x26"); /* effective kernels 5 and 7 */
    tu_assert_shape(out(c3, 0), "Nx8x11x7");  /* ceil(32 / 3), ceil(32 / 5) */
    tu_assert_shape(out(c4, 0), "Nx8x15x15"); /* (32 - 3) / 2 + 1 */
    tu_assert_shape(out(c5, 0), "Nx8x32x32");
    tu_assert_shape(out(c6, 0), "Nx8x32x34"); /* pads (begin 0, 1), (end 2, 3) */
    o2p_network_destroy(n);

    /* grouped: 6 input channels, weights 4 x 3 x k: group 2 */
    n = net_new(0);
    x = in(n, "x", F32, 3, D(1, 6, 10), NULL);
    o2p_tensor *wg = in(n, "w", F32, 3, D(4, 3, 5), NULL);
    o2p_tensor *b = in(n, "b", F32, 1, D(4), NULL);
    o2p_layer *g = op(n, "Conv", 3, T(x, wg, b), 1);
    o2p_layer_set_attr_int(g, "group", 2);
    infer_ok(n);
    tu_assert_shape(out(g, 0), "1x4x6");
    o2p_network_destroy(n);

    /* channel mismatch */
    n = net_new(0);
    x = in(n, "x", F32, 4, D(1, 4, 8, 8), NULL);
    wg = in(n, "w", F32, 4, D(2, 3, 3, 3), NULL);
    op(n, "Conv", 2, T(x, wg), 1);
    infer_fails(n, "channels", "'x'");
    o2p_network_destroy(n);

    /* a kernel larger than the padded input */
    n = net_new(0);
    x = in(n, "x", F32, 4, D(1, 3, 2, 2), NULL);
    wg = in(n, "w", F32, 4, D(2, 3, 3, 3), NULL);
    op(n, "Conv", 2, T(x, wg), 1);
    infer_fails(n, "larger than the padded input", NULL);
    o2p_network_destroy(n);

    /* bad strides */
    n = net_new(0);
    x = in(n, "x", F32, 4, D(1, 3, 8, 8), NULL);
    wg = in(n, "w", F32, 4, D(2, 3, 3, 3), NULL);
    g = op(n, "Conv", 2, T(x, wg), 1);
    o2p_layer_set_attr_ints(g, "strides", D(0, 1), 2);
    infer_fails(n, "strides", NULL);
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_conv_transpose)
{
    o2p_network *n = net_new(0);
    o2p_tensor *x = in(n, "x", F32, 4, D(-1, 4, 5, 7), "N,,,");
    o2p_tensor *w = in(n, "w", F32, 4, D(4, 3, 3, 3), NULL);
    o2p_layer *t1 = op(n, "ConvTranspose", 2, T(x, w), 1);
    o2p_layer_set_attr_ints(t1, "strides", D(2, 2), 2);
    o2p_layer_set_attr_ints(t1, "output_padding", D(1, 0), 2);
    o2p_layer_set_attr_ints(t1, "pads", D(1, 1, 1, 1), 4);
    o2p_layer *t2 = op(n, "ConvTranspose", 2, T(x, w), 1);
    o2p_layer_set_attr_ints(t2, "output_shape", D(16, 22), 2); /* at most 15+2, 21+2 */
    o2p_layer_set_attr_ints(t2, "strides", D(3, 3), 2);
    o2p_layer *t3 = op(n, "ConvTranspose", 2, T(x, w), 1);
    o2p_layer_set_attr_string(t3, "auto_pad", "SAME_UPPER");
    o2p_layer_set_attr_ints(t3, "strides", D(2, 3), 2);
    o2p_layer *t4 = op(n, "ConvTranspose", 2, T(x, w), 1);
    o2p_layer_set_attr_int(t4, "group", 2); /* weights 4 x 3: 2 groups of 2 in, 6 out */
    o2p_layer_set_attr_ints(t4, "dilations", D(2, 2), 2);
    infer_ok(n);
    tu_assert_shape(out(t1, 0), "Nx3x10x13"); /* 2*(5-1) + 1 + 3 - 2, 2*(7-1) + 0 + 3 - 2 */
    tu_assert_shape(out(t2, 0), "Nx3x16x22");
    tu_assert_shape(out(t3, 0), "Nx3x10x21");
    tu_assert_shape(out(t4, 0), "Nx6x9x11"); /* (5-1) + 5, (7-1) + 5 */
    o2p_network_destroy(n);

    /* an output_shape the kernel cannot cover without negative padding */
    n = net_new(0);
    x = in(n, "x", F32, 3, D(1, 4, 5), NULL);
    w = in(n, "w", F32, 3, D(4, 3, 3), NULL);
    o2p_layer *bad = op(n, "ConvTranspose", 2, T(x, w), 1);
    o2p_layer_set_attr_ints(bad, "strides", D(3), 1);
    o2p_layer_set_attr_ints(bad, "output_shape", D(18), 1);
    infer_fails(n, "output_shape asks for 18", "at most 17");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_pooling)
{
    o2p_network *n = net_new(0);
    o2p_tensor *x = in(n, "x", F32, 4, D(1, 3, 32, 31), NULL);
    o2p_layer *m1 = op(n, "MaxPool", 1, T(x), 2);
    o2p_layer_set_attr_ints(m1, "kernel_shape", D(3, 3), 2);
    o2p_layer_set_attr_ints(m1, "strides", D(2, 2), 2);
    o2p_layer *m2 = op(n, "MaxPool", 1, T(x), 1);
    o2p_layer_set_attr_ints(m2, "kernel_shape", D(2, 2), 2);
    o2p_layer_set_attr_ints(m2, "strides", D(2, 2), 2);
    o2p_layer_set_attr_int(m2, "ceil_mode", 1);
    o2p_layer *m3 = op(n, "AveragePool", 1, T(x), 1);
    o2p_layer_set_attr_ints(m3, "kernel_shape", D(3, 3), 2);
    o2p_layer_set_attr_ints(m3, "strides", D(2, 2), 2);
    o2p_layer_set_attr_ints(m3, "pads", D(1, 1, 1, 1), 4);
    o2p_layer_set_attr_int(m3, "ceil_mode", 1);
    o2p_layer *m4 = op(n, "MaxPool", 1, T(x), 1);
    o2p_layer_set_attr_ints(m4, "kernel_shape", D(2, 2), 2);
    o2p_layer_set_attr_ints(m4, "dilations", D(2, 2), 2);
    o2p_layer *g = op(n, "GlobalAveragePool", 1, T(x), 1);
    infer_ok(n);
    tu_assert_shape(out(m1, 0), "1x3x15x15");
    tu_assert_shape(out(m1, 1), "1x3x15x15");
    dtype_is(out(m1, 1), I64);
    tu_assert_shape(out(m2, 0), "1x3x16x16");
    tu_assert_shape(out(m3, 0), "1x3x17x16"); /* ceil((32+2-3)/2)+1 = 17; 31: ceil(30/2)+1 = 16 */
    tu_assert_shape(out(m4, 0), "1x3x30x29");
    tu_assert_shape(out(g, 0), "1x3x1x1");
    o2p_network_destroy(n);

    /* ceil mode: the last window must start inside the input or its left padding */
    n = net_new(0);
    x = in(n, "x", F32, 3, D(1, 1, 5), NULL);
    o2p_layer *m = op(n, "MaxPool", 1, T(x), 1);
    o2p_layer_set_attr_ints(m, "kernel_shape", D(2), 1);
    o2p_layer_set_attr_ints(m, "strides", D(2), 1);
    o2p_layer_set_attr_ints(m, "pads", D(1, 1), 2);
    o2p_layer_set_attr_int(m, "ceil_mode", 1);
    o2p_layer *m_nopad = op(n, "MaxPool", 1, T(x), 1);
    o2p_layer_set_attr_ints(m_nopad, "kernel_shape", D(2), 1);
    o2p_layer_set_attr_ints(m_nopad, "strides", D(2), 1);
    o2p_layer_set_attr_int(m_nopad, "ceil_mode", 1);
    infer_ok(n);
    tu_assert_shape(out(m, 0), "1x1x3");       /* ceil(5/2)+1 = 4, but window 4 would start at 5 */
    tu_assert_shape(out(m_nopad, 0), "1x1x3"); /* ceil(3/2)+1: the last window starts at 4 */
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- shape arithmetic */

START_TEST(test_reshape_from_shape_chain)
{
    /* PyTorch's x.view(x.size(0), -1) */
    o2p_network *n = net_new(13);
    o2p_tensor *x = in(n, "x", F32, 4, D(-1, 3, 4, 5), "batch,,,");
    o2p_layer *shp = op(n, "Shape", 1, T(x), 1);
    o2p_layer *ga = op(n, "Gather", 2, T(out(shp, 0), scalar_i64(n, "zero", 0)), 1);
    o2p_layer *un = op(n, "Unsqueeze", 2, T(out(ga, 0), vec(n, "ax0", 1, D(0))), 1);
    o2p_layer *cc = op(n, "Concat", 2, T(out(un, 0), vec(n, "minus1", 1, D(-1))), 1);
    o2p_layer_set_attr_int(cc, "axis", 0);
    o2p_layer *rs = op(n, "Reshape", 2, T(x, out(cc, 0)), 1);
    /* the -1 of batch x 60 by cancelling the symbol: [-1, 3, 20] */
    o2p_layer *rs2 = op(n, "Reshape", 2, T(x, vec(n, "s2", 3, D(-1, 3, 20))), 1);
    /* 0 copies the input dim */
    o2p_layer *rs3 = op(n, "Reshape", 2, T(x, vec(n, "s3", 3, D(0, 12, -1))), 1);
    /* Flatten keeps the symbolic batch; Size has the symbolic count (not a known value) */
    o2p_layer *fl = op(n, "Flatten", 1, T(x), 1);
    infer_ok(n);
    tu_assert_shape(out(shp, 0), "4");
    dtype_is(out(shp, 0), I64);
    tu_assert_shape(out(ga, 0), "scalar");
    tu_assert_shape(out(cc, 0), "2");
    tu_assert_shape(out(rs, 0), "batchx60");
    ck_assert_str_eq(o2p_tensor_get_dim_name(out(rs, 0), 0), "batch");
    tu_assert_shape(out(rs2, 0), "batchx3x20");
    tu_assert_shape(out(rs3, 0), "batchx12x5");
    tu_assert_shape(out(fl, 0), "batchx60");
    o2p_network_destroy(n);

    /* [N, C, H, W] → Reshape [N, C*H*W] through Mul of gathered dims and Slice of Shape */
    n = net_new(13);
    x = in(n, "x", F32, 4, D(-1, 2, 3, 4), "N,,,");
    shp = op(n, "Shape", 1, T(x), 1);
    o2p_layer *sl =
        op(n, "Slice", 3, T(out(shp, 0), vec(n, "st", 1, D(1)), vec(n, "en", 1, D(INT64_MAX))), 1);
    o2p_layer *rp = op(n, "ReduceProd", 1, T(out(sl, 0)), 1);
    o2p_layer *n0 =
        op(n, "Slice", 3, T(out(shp, 0), vec(n, "z0", 1, D(0)), vec(n, "o1", 1, D(1))), 1);
    o2p_layer *cc2 = op(n, "Concat", 2, T(out(n0, 0), out(rp, 0)), 1);
    o2p_layer_set_attr_int(cc2, "axis", 0);
    rs = op(n, "Reshape", 2, T(x, out(cc2, 0)), 1);
    /* Expand to Shape-derived dims: [N, 1, 1] expanded with Where(Equal(s, -1), 1, s) */
    o2p_layer *eq = op(n, "Equal", 2, T(vec(n, "tgt", 3, D(-1, 5, 6)), scalar_i64(n, "m1", -1)), 1);
    o2p_layer *wh = op(n, "Where", 3,
                       T(out(eq, 0), scalar_i64(n, "one", 1), vec(n, "tgt2", 3, D(-1, 5, 6))), 1);
    o2p_tensor *y = in(n, "y", F32, 3, D(-1, 1, 1), "N,,");
    o2p_layer *ex = op(n, "Expand", 2, T(y, out(wh, 0)), 1);
    infer_ok(n);
    tu_assert_shape(out(rp, 0), "1");
    tu_assert_shape(out(rs, 0), "Nx24");
    tu_assert_shape(out(ex, 0), "Nx5x6");
    o2p_network_destroy(n);

    /* errors: two -1, a bad 0 copy, a wrong element count */
    n = net_new(13);
    x = in(n, "x", F32, 2, D(4, 6), NULL);
    op(n, "Reshape", 2, T(x, vec(n, "s", 2, D(-1, -1))), 1);
    infer_fails(n, "-1", "only one");
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 2, D(4, 6), NULL);
    op(n, "Reshape", 2, T(x, vec(n, "s", 2, D(5, -1))), 1);
    infer_fails(n, "cannot reshape", "'x'");
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 2, D(4, 6), NULL);
    op(n, "Reshape", 2, T(x, vec(n, "s", 3, D(2, 2, 2))), 1);
    infer_fails(n, "24 elements", "8 elements");
    o2p_network_destroy(n);

    /* allowzero: 0 is a real 0 */
    n = net_new(14);
    x = in(n, "x", F32, 2, D(0, 6), NULL);
    o2p_layer *az = op(n, "Reshape", 2, T(x, vec(n, "s", 2, D(6, 0))), 1);
    o2p_layer_set_attr_int(az, "allowzero", 1);
    infer_ok(n);
    tu_assert_shape(out(az, 0), "6x0");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_shape_values)
{
    /* Shape with start/end (opset 15), Range(0, N, 1), ConstantOfShape of a symbolic shape */
    o2p_network *n = net_new(15);
    o2p_tensor *x = in(n, "x", F32, 3, D(-1, -1, 8), "B,T,");
    o2p_layer *s = op(n, "Shape", 1, T(x), 1);
    o2p_layer_set_attr_int(s, "start", 1);
    o2p_layer_set_attr_int(s, "end", -1);
    o2p_layer *s_all = op(n, "Shape", 1, T(x), 1);
    o2p_layer *t = op(n, "Squeeze", 2, T(out(s, 0), vec(n, "a0", 1, D(0))), 1);
    o2p_layer *r =
        op(n, "Range", 3, T(scalar_i64(n, "zero", 0), out(t, 0), scalar_i64(n, "one", 1)), 1);
    o2p_layer *cos = op(n, "ConstantOfShape", 1, T(out(s_all, 0)), 1);
    o2p_layer *r2 = op(n, "Range", 3,
                       T(scalar_i64(n, "a", 10), scalar_i64(n, "b", 1), scalar_i64(n, "c", -4)), 1);
    o2p_layer *sz = op(n, "Size", 1, T(x), 1);
    infer_ok(n);
    tu_assert_shape(out(s, 0), "1");
    tu_assert_shape(out(t, 0), "scalar");
    tu_assert_shape(out(r, 0), "T");
    tu_assert_shape(out(cos, 0), "BxTx8");
    dtype_is(out(cos, 0), F32);
    tu_assert_shape(out(r2, 0), "3"); /* 10, 6, 2 */
    tu_assert_shape(out(sz, 0), "scalar");
    dtype_is(out(sz, 0), I64);
    o2p_network_destroy(n);

    n = net_new(15);
    op(n, "Range", 3, T(scalar_i64(n, "a", 0), scalar_i64(n, "b", 5), scalar_i64(n, "c", 0)), 1);
    infer_fails(n, "delta", "is 0");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_squeeze_unsqueeze_opsets)
{
    /* opset 11: axes are attributes, negative allowed */
    o2p_network *n = net_new(11);
    o2p_tensor *x = in(n, "x", F32, 4, D(1, 3, 1, 5), NULL);
    o2p_layer *sq = op(n, "Squeeze", 1, T(x), 1);
    o2p_layer_set_attr_ints(sq, "axes", D(0, -2), 2);
    o2p_layer *sq_all = op(n, "Squeeze", 1, T(x), 1);
    o2p_layer *un = op(n, "Unsqueeze", 1, T(x), 1);
    o2p_layer_set_attr_ints(un, "axes", D(-1, 0), 2);
    infer_ok(n);
    tu_assert_shape(out(sq, 0), "3x5");
    tu_assert_shape(out(sq_all, 0), "3x5");
    tu_assert_shape(out(un, 0), "1x1x3x1x5x1");
    o2p_network_destroy(n);

    /* opset 13: axes are an input */
    n = net_new(13);
    x = in(n, "x", F32, 3, D(-1, 1, 4), "N,,");
    sq = op(n, "Squeeze", 2, T(x, vec(n, "ax", 1, D(1))), 1);
    un = op(n, "Unsqueeze", 2, T(x, vec(n, "ax2", 2, D(1, 4))), 1);
    o2p_layer *sq_unk = op(n, "Squeeze", 1, T(x), 1); /* N might be 1: rank unknown */
    o2p_tensor *axes_in = in(n, "axes_in", I64, 1, D(2), NULL);
    o2p_layer *un_unk = op(n, "Unsqueeze", 2, T(x, axes_in), 1); /* axes unknown: rank known */
    infer_ok(n);
    tu_assert_shape(out(sq, 0), "Nx4");
    tu_assert_shape(out(un, 0), "Nx1x1x4x1");
    tu_assert_shape(out(sq_unk, 0), "rank?");
    tu_assert_shape(out(un_unk, 0), "?x?x?x?x?");
    o2p_network_destroy(n);

    /* at opset 13 the axes attribute is not read: Unsqueeze without the input fails */
    n = net_new(13);
    x = in(n, "x", F32, 1, D(3), NULL);
    un = op(n, "Unsqueeze", 1, T(x), 1);
    o2p_layer_set_attr_ints(un, "axes", D(0), 1);
    infer_fails(n, "axes", NULL);
    o2p_network_destroy(n);

    /* squeezing a dim that is not 1 */
    n = net_new(13);
    x = in(n, "x", F32, 2, D(2, 3), NULL);
    op(n, "Squeeze", 2, T(x, vec(n, "ax", 1, D(1))), 1);
    infer_fails(n, "cannot squeeze axis 1", "not 1");
    o2p_network_destroy(n);

    /* an unsqueeze axis out of range, and repeated */
    n = net_new(13);
    x = in(n, "x", F32, 2, D(2, 3), NULL);
    op(n, "Unsqueeze", 2, T(x, vec(n, "ax", 1, D(3))), 1);
    infer_fails(n, "axis 3 is out of range", NULL);
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 2, D(2, 3), NULL);
    op(n, "Unsqueeze", 2, T(x, vec(n, "ax", 2, D(1, -3))), 1);
    infer_fails(n, "twice", NULL);
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_slice)
{
    o2p_network *n = net_new(13);
    o2p_tensor *x = in(n, "x", F32, 3, D(10, 20, -1), ",,S");
    o2p_layer *rev = op(n, "Slice", 5,
                        T(x, vec(n, "st", 1, D(-1)), vec(n, "en", 1, D(INT64_MIN)),
                          vec(n, "ax", 1, D(0)), vec(n, "sp", 1, D(-1))),
                        1);
    o2p_layer *step3 = op(n, "Slice", 5,
                          T(x, vec(n, "st3", 1, D(-1)), vec(n, "en3", 1, D(INT64_MIN)),
                            vec(n, "ax3", 1, D(0)), vec(n, "sp3", 1, D(-3))),
                          1);
    o2p_layer *two = op(n, "Slice", 5,
                        T(x, vec(n, "st4", 2, D(8, 100)), vec(n, "en4", 2, D(2, -100)),
                          vec(n, "ax4", 2, D(0, -2)), vec(n, "sp4", 2, D(-2, -7))),
                        1);
    o2p_layer *keep =
        op(n, "Slice", 4,
           T(x, vec(n, "st5", 1, D(0)), vec(n, "en5", 1, D(INT64_MAX)), vec(n, "ax5", 1, D(2))), 1);
    o2p_layer *empty = op(n, "Slice", 3, T(x, vec(n, "st6", 1, D(7)), vec(n, "en6", 1, D(3))), 1);
    infer_ok(n);
    tu_assert_shape(out(rev, 0), "10x20xS");
    tu_assert_shape(out(step3, 0), "4x20xS"); /* 9, 6, 3, 0 */
    tu_assert_shape(out(two, 0), "3x3xS");    /* 8, 6, 4; 19, 12, 5 */
    tu_assert_shape(out(keep, 0), "10x20xS");
    tu_assert_shape(out(empty, 0), "0x20xS");
    o2p_network_destroy(n);

    /* opset 9: attributes */
    n = net_new(9);
    x = in(n, "x", F32, 2, D(5, 6), NULL);
    o2p_layer *a = op(n, "Slice", 1, T(x), 1);
    o2p_layer_set_attr_ints(a, "starts", D(1, -4), 2);
    o2p_layer_set_attr_ints(a, "ends", D(1000, -1), 2);
    infer_ok(n);
    tu_assert_shape(out(a, 0), "4x3");
    o2p_network_destroy(n);

    /* a zero step and a repeated axis are errors */
    n = net_new(13);
    x = in(n, "x", F32, 1, D(5), NULL);
    op(n, "Slice", 5,
       T(x, vec(n, "a", 1, D(0)), vec(n, "b", 1, D(5)), vec(n, "c", 1, D(0)), vec(n, "d", 1, D(0))),
       1);
    infer_fails(n, "step", "is 0");
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 2, D(5, 5), NULL);
    op(n, "Slice", 4,
       T(x, vec(n, "a", 2, D(0, 0)), vec(n, "b", 2, D(5, 5)), vec(n, "c", 2, D(1, -1))), 1);
    infer_fails(n, "axis 1 is sliced twice", NULL);
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_resize)
{
    o2p_network *n = net_new(13);
    o2p_tensor *x = in(n, "x", F32, 4, D(-1, 3, 10, 15), "N,,,");
    o2p_tensor *roi = vec_f32(n, "roi", 0, NULL);
    o2p_layer *up =
        op(n, "Resize", 3, T(x, roi, vec_f32(n, "sc", 4, (const float[]){1, 1, 2, 0.5f})), 1);
    o2p_layer *sz = op(n, "Resize", 4, T(x, NULL, NULL, vec(n, "sizes", 4, D(1, 3, 7, 9))), 1);
    /* sizes from the input's own shape: [N, 3] + [20, 30] */
    o2p_layer *shp = op(n, "Shape", 1, T(x), 1);
    o2p_layer *nc =
        op(n, "Slice", 3, T(out(shp, 0), vec(n, "z", 1, D(0)), vec(n, "two", 1, D(2))), 1);
    o2p_layer *cc = op(n, "Concat", 2, T(out(nc, 0), vec(n, "hw", 2, D(20, 30))), 1);
    o2p_layer_set_attr_int(cc, "axis", 0);
    o2p_layer *dyn = op(n, "Resize", 4, T(x, roi, vec_f32(n, "noscale", 0, NULL), out(cc, 0)), 1);
    o2p_tensor *scales_in = in(n, "scales_in", F32, 1, D(4), NULL);
    o2p_layer *unk = op(n, "Resize", 3, T(x, roi, scales_in), 1);
    infer_ok(n);
    tu_assert_shape(out(up, 0), "Nx3x20x7");
    tu_assert_shape(out(sz, 0), "1x3x7x9");
    tu_assert_shape(out(dyn, 0), "Nx3x20x30");
    tu_assert_shape(out(unk, 0), "?x?x?x?");
    o2p_network_destroy(n);

    /* opset 10: (X, scales); Upsample at opset 9 */
    n = net_new(10);
    x = in(n, "x", F32, 4, D(1, 1, 3, 3), NULL);
    o2p_layer *r10 =
        op(n, "Resize", 2, T(x, vec_f32(n, "sc", 4, (const float[]){1, 1, 1.5f, 3})), 1);
    infer_ok(n);
    tu_assert_shape(out(r10, 0), "1x1x4x9");
    o2p_network_destroy(n);
    n = net_new(9);
    x = in(n, "x", F32, 4, D(1, 1, 3, 3), NULL);
    o2p_layer *us = op(n, "Upsample", 2, T(x, vec_f32(n, "sc", 4, (const float[]){1, 1, 2, 2})), 1);
    infer_ok(n);
    tu_assert_shape(out(us, 0), "1x1x6x6");
    o2p_network_destroy(n);

    /* a wrong number of scales */
    n = net_new(13);
    x = in(n, "x", F32, 4, D(1, 1, 3, 3), NULL);
    op(n, "Resize", 3, T(x, vec_f32(n, "roi", 0, NULL), vec_f32(n, "sc", 2, (const float[]){2, 2})),
       1);
    infer_fails(n, "scales", "needs 4");
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- tensor ops */

START_TEST(test_tensor_ops)
{
    o2p_network *n = net_new(13);
    o2p_tensor *x = in(n, "x", F32, 3, D(-1, 6, 4), "N,,");
    o2p_layer *tr = op(n, "Transpose", 1, T(x), 1);
    o2p_layer *tp = op(n, "Transpose", 1, T(x), 1);
    o2p_layer_set_attr_ints(tp, "perm", D(1, 0, 2), 3);
    o2p_layer *sp = op(n, "Split", 2, T(x, vec(n, "parts", 2, D(2, 4))), 2);
    o2p_layer_set_attr_int(sp, "axis", 1);
    o2p_layer *sp3 = op(n, "Split", 1, T(x), 3);
    o2p_layer_set_attr_int(sp3, "axis", -2);
    o2p_layer *ga = op(n, "Gather", 2, T(x, vec(n, "idx", 3, D(0, -1, 2))), 1);
    o2p_layer_set_attr_int(ga, "axis", 1);
    o2p_layer *tk = op(n, "TopK", 2, T(x, vec(n, "k", 1, D(3))), 2);
    o2p_layer *am = op(n, "ArgMax", 1, T(x), 1);
    o2p_layer_set_attr_int(am, "axis", 1);
    o2p_layer_set_attr_int(am, "keepdims", 0);
    o2p_layer *rm = op(n, "ReduceMean", 1, T(x), 1);
    o2p_layer_set_attr_ints(rm, "axes", D(-1, 1), 2);
    o2p_layer *rs = op(n, "ReduceSum", 2, T(x, vec(n, "rax", 1, D(2))), 1);
    o2p_layer_set_attr_int(rs, "keepdims", 0);
    o2p_layer *ti = op(n, "Tile", 2, T(x, vec(n, "rep", 3, D(2, 1, 3))), 1);
    o2p_layer *pd = op(n, "Pad", 2, T(x, vec(n, "pads", 6, D(0, 1, -1, 0, 2, 3))), 1);
    o2p_layer *dt = op(n, "DepthToSpace", 1, T(in(n, "img", F32, 4, D(1, 8, 2, 3), NULL)), 1);
    o2p_layer_set_attr_int(dt, "blocksize", 2);
    o2p_layer *oh = op(
        n, "OneHot", 3,
        T(in(n, "ind", I64, 2, D(2, 3), NULL), scalar_i64(n, "dep", 7), vec(n, "vals", 2, D(0, 1))),
        1);
    o2p_layer_set_attr_int(oh, "axis", 1);
    o2p_layer *gnd =
        op(n, "GatherND", 2,
           T(in(n, "data", F32, 3, D(2, 3, 4), NULL), in(n, "nd", I64, 3, D(2, 5, 1), NULL)), 1);
    o2p_layer_set_attr_int(gnd, "batch_dims", 1);
    o2p_layer *ein =
        op(n, "Einsum", 2,
           T(in(n, "A", F32, 4, D(7, 2, 3, 4), NULL), in(n, "Bm", F32, 3, D(3, 4, 5), NULL)), 1);
    o2p_layer_set_attr_string(ein, "equation", "...ij,ijk->...ik");
    o2p_layer *ein2 = op(n, "Einsum", 1, T(in(n, "M", F32, 2, D(3, 3), NULL)), 1);
    o2p_layer_set_attr_string(ein2, "equation", "ii");
    o2p_layer *mm = op(n, "MatMul", 2, T(x, in(n, "v", F32, 1, D(4), NULL)), 1);
    o2p_layer *mm2 =
        op(n, "MatMul", 2,
           T(in(n, "b1", F32, 4, D(2, 1, 3, 4), NULL), in(n, "b2", F32, 3, D(5, 4, 6), NULL)), 1);
    o2p_layer *gm = op(n, "Gemm", 3,
                       T(in(n, "ga", F32, 2, D(4, 3), NULL), in(n, "gb", F32, 2, D(5, 4), NULL),
                         in(n, "gc", F32, 1, D(5), NULL)),
                       1);
    o2p_layer_set_attr_int(gm, "transA", 1);
    o2p_layer_set_attr_int(gm, "transB", 1);
    infer_ok(n);
    tu_assert_shape(out(tr, 0), "4x6xN");
    tu_assert_shape(out(tp, 0), "6xNx4");
    tu_assert_shape(out(sp, 0), "Nx2x4");
    tu_assert_shape(out(sp, 1), "Nx4x4");
    tu_assert_shape(out(sp3, 2), "Nx2x4");
    tu_assert_shape(out(ga, 0), "Nx3x4");
    tu_assert_shape(out(tk, 0), "Nx6x3");
    dtype_is(out(tk, 1), I64);
    tu_assert_shape(out(am, 0), "Nx4");
    dtype_is(out(am, 0), I64);
    tu_assert_shape(out(rm, 0), "Nx1x1");
    tu_assert_shape(out(rs, 0), "Nx6");
    tu_assert_shape(out(ti, 0), "?x6x12");
    tu_assert_shape(out(pd, 0), "Nx9x6"); /* begins 0, 1, -1; ends 0, 2, 3 */
    tu_assert_shape(out(dt, 0), "1x2x4x6");
    tu_assert_shape(out(oh, 0), "2x7x3");
    tu_assert_shape(out(gnd, 0), "2x5x4");
    tu_assert_shape(out(ein, 0), "7x2x3x5");
    tu_assert_shape(out(ein2, 0), "scalar");
    tu_assert_shape(out(mm, 0), "Nx6");
    tu_assert_shape(out(mm2, 0), "2x5x3x6");
    tu_assert_shape(out(gm, 0), "3x5");
    o2p_network_destroy(n);

    /* errors with the axis, the input and the rank named */
    n = net_new(13);
    x = in(n, "x", F32, 2, D(2, 3), NULL);
    o2p_layer *c = op(n, "Concat", 2, T(x, x), 1);
    o2p_layer_set_attr_int(c, "axis", 5);
    infer_fails(n, "axis 5 is out of range for rank 2 input 'x'", NULL);
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 2, D(2, 3), NULL);
    o2p_layer *t = op(n, "Transpose", 1, T(x), 1);
    o2p_layer_set_attr_ints(t, "perm", D(0, 0), 2);
    infer_fails(n, "perm", "repeats");
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 2, D(2, 3), NULL);
    o2p_layer *sm = op(n, "Softmax", 1, T(x), 1);
    o2p_layer_set_attr_int(sm, "axis", -3);
    infer_fails(n, "axis -3 is out of range", "'x'");
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 2, D(2, 3), NULL);
    op(n, "Gather", 2, T(x, vec(n, "i", 1, D(2))), 1);
    infer_fails(n, "index 2 is out of range", NULL);
    o2p_network_destroy(n);
    n = net_new(13);
    op(n, "MatMul", 2, T(in(n, "a", F32, 2, D(2, 3), NULL), in(n, "b", F32, 2, D(4, 5), NULL)), 1);
    infer_fails(n, "inner dimensions", NULL);
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 2, D(5, 3), NULL);
    op(n, "Split", 1, T(x), 2);
    infer_fails(n, "split evenly", NULL);
    o2p_network_destroy(n);
    n = net_new(13);
    o2p_layer *e = op(n, "Einsum", 2,
                      T(in(n, "a", F32, 2, D(2, 3), NULL), in(n, "b", F32, 2, D(4, 5), NULL)), 1);
    o2p_layer_set_attr_string(e, "equation", "ij,jk->ik");
    infer_fails(n, "label 'j'", NULL);
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 2, D(2, 3), NULL);
    o2p_layer *ca = op(n, "Cast", 1, T(x), 1);
    o2p_layer_set_attr_int(ca, "to", 99);
    infer_fails(n, "'to'", "99");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_nn_ops)
{
    o2p_network *n = net_new(17);
    o2p_tensor *x = in(n, "x", F32, 3, D(7, -1, 5), ",B,");
    o2p_tensor *w = in(n, "w", F32, 3, D(2, 12, 5), NULL);
    o2p_tensor *r = in(n, "r", F32, 3, D(2, 12, 3), NULL);
    o2p_layer *lstm = op(n, "LSTM", 3, T(x, w, r), 3);
    o2p_layer_set_attr_string(lstm, "direction", "bidirectional");
    o2p_layer *gru =
        op(n, "GRU", 3,
           T(x, in(n, "gw", F32, 3, D(1, 9, 5), NULL), in(n, "gr", F32, 3, D(1, 9, 3), NULL)), 2);
    o2p_layer_set_attr_int(gru, "layout", 0);
    o2p_tensor *img = in(n, "img", F32, 4, D(-1, 6, 8, 8), "N,,,");
    o2p_tensor *sc = in(n, "sc", F32, 1, D(6), NULL);
    o2p_layer *bn = op(n, "BatchNormalization", 5, T(img, sc, sc, sc, sc), 3);
    o2p_layer_set_attr_int(bn, "training_mode", 1);
    o2p_layer *ln = op(n, "LayerNormalization", 2, T(img, in(n, "lns", F32, 2, D(8, 8), NULL)), 3);
    o2p_layer_set_attr_int(ln, "axis", 2);
    o2p_layer *dq =
        op(n, "DequantizeLinear", 2,
           T(in(n, "q", O2P_DTYPE_INT8, 2, D(3, 4), NULL), in(n, "qs", F32, 0, NULL, NULL)), 1);
    o2p_layer *qz =
        op(n, "QuantizeLinear", 3,
           T(img, in(n, "ys", F32, 0, NULL, NULL), in(n, "yz", O2P_DTYPE_INT8, 0, NULL, NULL)), 1);
    o2p_layer *qu = op(n, "QuantizeLinear", 2, T(img, in(n, "ys2", F32, 0, NULL, NULL)), 1);
    o2p_layer *dr = op(n, "Dropout", 1, T(img), 2);
    o2p_layer *ra =
        op(n, "RoiAlign", 3,
           T(img, in(n, "rois", F32, 2, D(11, 4), NULL), in(n, "bi", I64, 1, D(11), NULL)), 1);
    o2p_layer_set_attr_int(ra, "output_height", 3);
    o2p_layer *dft = op(n, "DFT", 1, T(in(n, "sig", F32, 3, D(2, 16, 1), NULL)), 1);
    o2p_layer_set_attr_int(dft, "onesided", 1);
    o2p_layer *stft = op(n, "STFT", 4,
                         T(in(n, "sig2", F32, 3, D(1, 128, 1), NULL), scalar_i64(n, "step", 8),
                           NULL, scalar_i64(n, "flen", 16)),
                         1);
    o2p_layer *hw = op(n, "HannWindow", 1, T(scalar_i64(n, "wsize", 10)), 1);
    o2p_layer *nms = op(
        n, "NonMaxSuppression", 2,
        T(in(n, "boxes", F32, 3, D(1, 6, 4), NULL), in(n, "scores", F32, 3, D(1, 1, 6), NULL)), 1);
    o2p_layer *sce =
        op(n, "SoftmaxCrossEntropyLoss", 2,
           T(in(n, "logits", F32, 3, D(3, 5, 2), NULL), in(n, "labels", I64, 2, D(3, 2), NULL)), 2);
    o2p_layer_set_attr_string(sce, "reduction", "none");
    infer_ok(n);
    tu_assert_shape(out(lstm, 0), "7x2xBx3");
    tu_assert_shape(out(lstm, 1), "2xBx3");
    tu_assert_shape(out(lstm, 2), "2xBx3");
    tu_assert_shape(out(gru, 0), "7x1xBx3");
    tu_assert_shape(out(bn, 0), "Nx6x8x8");
    tu_assert_shape(out(bn, 1), "6");
    tu_assert_shape(out(ln, 1), "Nx6x1x1");
    dtype_is(out(ln, 1), F32);
    dtype_is(out(dq, 0), F32);
    dtype_is(out(qz, 0), O2P_DTYPE_INT8);
    dtype_is(out(qu, 0), O2P_DTYPE_UINT8);
    dtype_is(out(dr, 1), O2P_DTYPE_BOOL);
    tu_assert_shape(out(ra, 0), "11x6x3x1");
    tu_assert_shape(out(dft, 0), "2x9x2");
    tu_assert_shape(out(stft, 0), "1x15x9x2");
    tu_assert_shape(out(hw, 0), "10");
    tu_assert_shape(out(nms, 0), "0x3");
    tu_assert_shape(out(sce, 0), "3x2");
    tu_assert_shape(out(sce, 1), "3x5x2");
    o2p_network_destroy(n);

    n = net_new(17);
    op(n, "LSTM", 3,
       T(in(n, "x", F32, 3, D(7, 2, 5), NULL), in(n, "w", F32, 3, D(1, 12, 5), NULL),
         in(n, "r", F32, 3, D(1, 12, 3), NULL)),
       3);
    o2p_layer_set_attr_string(o2p_graph_get_layer(G(n), 0), "direction", "sideways");
    infer_fails(n, "direction", "sideways");
    o2p_network_destroy(n);
}
END_TEST

/* Operators the conformance data does not cover, and old-opset forms. */
START_TEST(test_more_ops)
{
    o2p_network *n = net_new(18);
    o2p_tensor *x = in(n, "x", F32, 4, D(-1, 6, 10, 12), "N,,,");
    o2p_layer *ccp = op(n, "CenterCropPad", 2, T(x, vec(n, "hw", 2, D(7, 20))), 1);
    o2p_layer_set_attr_ints(ccp, "axes", D(-2, -1), 2);
    o2p_layer *c2i = op(n, "Col2Im", 3,
                        T(in(n, "cols", F32, 3, D(2, 12, 30), NULL), vec(n, "img", 2, D(5, 8)),
                          vec(n, "blk", 2, D(2, 3))),
                        1);
    o2p_layer *glp = op(n, "GlobalLpPool", 1, T(x), 1);
    o2p_layer *gn = op(n, "GroupNormalization", 3,
                       T(x, in(n, "gs", F32, 1, D(3), NULL), in(n, "gb", F32, 1, D(3), NULL)), 1);
    o2p_layer_set_attr_int(gn, "num_groups", 3);
    o2p_layer *lpn = op(n, "LpNormalization", 1, T(x), 1);
    o2p_layer *lpp = op(n, "LpPool", 1, T(x), 1);
    o2p_layer_set_attr_ints(lpp, "kernel_shape", D(3, 4), 2);
    o2p_layer_set_attr_ints(lpp, "strides", D(3, 4), 2);
    o2p_layer *mrp = op(n, "MaxRoiPool", 2, T(x, in(n, "rois", F32, 2, D(9, 5), NULL)), 1);
    o2p_layer_set_attr_ints(mrp, "pooled_shape", D(2, 3), 2);
    o2p_layer *mish = op(n, "Mish", 1, T(x), 1);
    o2p_layer *mn = op(n, "Multinomial", 1, T(in(n, "probs", F32, 2, D(-1, 10), "B,")), 1);
    o2p_layer_set_attr_int(mn, "sample_size", 4);
    o2p_layer *rn = op(n, "RandomNormal", 0, NULL, 1);
    o2p_layer_set_attr_ints(rn, "shape", D(2, 3), 2);
    o2p_layer_set_attr_int(rn, "dtype", O2P_DTYPE_DOUBLE);
    o2p_layer *rnl = op(n, "RandomNormalLike", 1, T(x), 1);
    o2p_layer_set_attr_int(rnl, "dtype", O2P_DTYPE_FLOAT16);
    o2p_layer *ru = op(n, "RandomUniform", 0, NULL, 1);
    o2p_layer_set_attr_ints(ru, "shape", D(4), 1);
    o2p_tensor *bi = in(n, "bi", O2P_DTYPE_INT32, 2, D(3, 1), NULL);
    o2p_tensor *bj = in(n, "bj", O2P_DTYPE_INT32, 1, D(5), NULL);
    o2p_layer *band = op(n, "BitwiseAnd", 2, T(bi, bj), 1);
    o2p_layer *bnot = op(n, "BitwiseNot", 1, T(bi), 1);
    o2p_layer *red = op(n, "ReduceMax", 2, T(x, vec(n, "rax", 2, D(1, 3))), 1); /* opset 18 */
    o2p_layer_set_attr_int(red, "keepdims", 0);
    infer_ok(n);
    tu_assert_shape(out(ccp, 0), "Nx6x7x20");
    tu_assert_shape(out(c2i, 0), "2x2x5x8");
    tu_assert_shape(out(glp, 0), "Nx6x1x1");
    tu_assert_shape(out(gn, 0), "Nx6x10x12");
    tu_assert_shape(out(lpn, 0), "Nx6x10x12");
    tu_assert_shape(out(lpp, 0), "Nx6x3x3");
    tu_assert_shape(out(mrp, 0), "9x6x2x3");
    tu_assert_shape(out(mish, 0), "Nx6x10x12");
    tu_assert_shape(out(mn, 0), "Bx4");
    dtype_is(out(mn, 0), O2P_DTYPE_INT32);
    tu_assert_shape(out(rn, 0), "2x3");
    dtype_is(out(rn, 0), O2P_DTYPE_DOUBLE);
    dtype_is(out(rnl, 0), O2P_DTYPE_FLOAT16);
    tu_assert_shape(out(rnl, 0), "Nx6x10x12");
    tu_assert_shape(out(ru, 0), "4");
    dtype_is(out(ru, 0), F32);
    tu_assert_shape(out(band, 0), "3x5");
    dtype_is(out(band, 0), O2P_DTYPE_INT32);
    tu_assert_shape(out(bnot, 0), "3x1");
    tu_assert_shape(out(red, 0), "Nx10");
    o2p_network_destroy(n);

    n = net_new(18);
    x = in(n, "x", F32, 4, D(1, 6, 10, 12), NULL);
    o2p_layer *g = op(n, "GroupNormalization", 3,
                      T(x, in(n, "gs", F32, 1, D(4), NULL), in(n, "gb", F32, 1, D(4), NULL)), 1);
    o2p_layer_set_attr_int(g, "num_groups", 4);
    infer_fails(n, "groups", NULL);
    o2p_network_destroy(n);

    /* old forms: Cast with a type name (opset 1), Pad's pads attribute (opset 2), TopK's k
     * attribute and Split's split attribute (opset 1..), Tile with tiles and axis (opset 1),
     * Upsample's scales attribute (opset 7), Concat's default axis (opset 1) */
    n = net_new(1);
    x = in(n, "x", F32, 2, D(4, 6), NULL);
    o2p_layer *cast = op(n, "Cast", 1, T(x), 1);
    o2p_layer_set_attr_string(cast, "to", "INT32");
    o2p_layer *cat = op(n, "Concat", 2, T(x, x), 1);
    o2p_layer *tile =
        op(n, "Tile", 3, T(x, scalar_i64(n, "tiles", 3), scalar_i64(n, "axis", 0)), 1);
    o2p_layer *topk = op(n, "TopK", 1, T(x), 2);
    o2p_layer_set_attr_int(topk, "k", 2);
    o2p_layer *split = op(n, "Split", 1, T(x), 2);
    o2p_layer_set_attr_ints(split, "split", D(1, 5), 2);
    o2p_layer_set_attr_int(split, "axis", 1);
    infer_ok(n);
    dtype_is(out(cast, 0), O2P_DTYPE_INT32);
    tu_assert_shape(out(cat, 0), "4x12");
    tu_assert_shape(out(tile, 0), "12x6");
    tu_assert_shape(out(topk, 0), "4x2");
    tu_assert_shape(out(split, 1), "4x5");
    o2p_network_destroy(n);

    n = net_new(2);
    x = in(n, "x", F32, 2, D(4, 6), NULL);
    o2p_layer *pad = op(n, "Pad", 1, T(x), 1);
    o2p_layer_set_attr_ints(pad, "pads", D(1, 2, 3, 4), 4);
    o2p_layer_set_attr_string(pad, "mode", "reflect");
    infer_ok(n);
    tu_assert_shape(out(pad, 0), "8x12");
    o2p_network_destroy(n);

    n = net_new(7);
    x = in(n, "x", F32, 4, D(1, 2, 3, 4), NULL);
    o2p_layer *up = op(n, "Upsample", 1, T(x), 1);
    o2p_layer_set_attr_floats(up, "scales", (const float[]){1, 1, 2, 1.5f}, 4);
    infer_ok(n);
    tu_assert_shape(out(up, 0), "1x2x6x6");
    o2p_network_destroy(n);

    /* hostile values are errors that name the problem */
    n = net_new(13);
    x = in(n, "x", F32, 2, D(4, 6), NULL);
    op(n, "Pad", 2, T(x, vec(n, "p", 4, D(0, -7, 0, 0))), 1);
    infer_fails(n, "negative", NULL);
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 2, D(4, 6), NULL);
    op(n, "Tile", 2, T(x, vec(n, "r", 2, D(INT64_MAX, 3))), 1);
    infer_fails(n, "overflows", NULL);
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 1, D(4), NULL);
    op(n, "Expand", 2, T(x, vec(n, "s", 2, D(3, -2))), 1);
    infer_fails(n, "-2", "negative");
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 1, D(4), NULL);
    op(n, "TopK", 2, T(x, vec(n, "k", 1, D(5))), 2);
    infer_fails(n, "K (5) is larger", NULL);
    o2p_network_destroy(n);
    n = net_new(13);
    x = in(n, "x", F32, 4, D(1, 6, 4, 4), NULL);
    o2p_layer *d2s = op(n, "DepthToSpace", 1, T(x), 1);
    o2p_layer_set_attr_int(d2s, "blocksize", 0);
    infer_fails(n, "blocksize", NULL);
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- control flow */

START_TEST(test_if)
{
    o2p_network *n = net_new(13);
    o2p_tensor *c = in(n, "c", O2P_DTYPE_BOOL, 0, NULL, NULL);
    o2p_tensor *x = in(n, "x", F32, 2, D(-1, 4), "N,");
    o2p_graph *tg, *eg;
    ck_assert_int_eq(o2p_graph_create_subgraph(G(n), "then", &tg), O2P_OK);
    ck_assert_int_eq(o2p_graph_create_subgraph(G(n), "else", &eg), O2P_OK);
    o2p_layer *tl = op_g(tg, "Relu", "t_relu", 1, T(x), 1);
    o2p_graph_mark_output(tg, out(tl, 0));
    o2p_layer *tl2 = op_g(tg, "Identity", "t_id", 1, T(x), 1);
    o2p_graph_mark_output(tg, out(tl2, 0));
    o2p_layer *el = op_g(eg, "Transpose", "e_tr", 1, T(x), 1);
    o2p_graph_mark_output(eg, out(el, 0));
    o2p_layer *el2 = op_g(eg, "Neg", "e_neg", 1, T(x), 1);
    o2p_graph_mark_output(eg, out(el2, 0));
    o2p_layer *iff = op(n, "If", 1, T(c), 2);
    o2p_layer_set_attr_graph(iff, "then_branch", tg);
    o2p_layer_set_attr_graph(iff, "else_branch", eg);
    infer_ok(n);
    tu_assert_shape(out(tl, 0), "Nx4");
    tu_assert_shape(out(el, 0), "4xN");
    tu_assert_shape(out(iff, 0), "?x?"); /* N x 4 or 4 x N */
    tu_assert_shape(out(iff, 1), "Nx4");
    dtype_is(out(iff, 0), F32);
    o2p_network_destroy(n);

    /* a known condition picks the branch */
    n = net_new(13);
    uint8_t yes = 1;
    TU_ASSERT_STATUS(o2p_graph_add_constant(G(n), "c", O2P_DTYPE_BOOL, 0, NULL, &yes, 1, &c),
                     O2P_OK);
    x = in(n, "x", F32, 2, D(3, 4), NULL);
    ck_assert_int_eq(o2p_graph_create_subgraph(G(n), "then", &tg), O2P_OK);
    ck_assert_int_eq(o2p_graph_create_subgraph(G(n), "else", &eg), O2P_OK);
    o2p_graph_mark_output(tg, out(op_g(tg, "Transpose", "t", 1, T(x), 1), 0));
    o2p_graph_mark_output(eg, out(op_g(eg, "Identity", "e", 1, T(x), 1), 0));
    iff = op(n, "If", 1, T(c), 1);
    o2p_layer_set_attr_graph(iff, "then_branch", tg);
    o2p_layer_set_attr_graph(iff, "else_branch", eg);
    infer_ok(n);
    tu_assert_shape(out(iff, 0), "4x3");
    o2p_network_destroy(n);

    /* branches of different element types */
    n = net_new(13);
    c = in(n, "c", O2P_DTYPE_BOOL, 0, NULL, NULL);
    x = in(n, "x", F32, 1, D(3), NULL);
    ck_assert_int_eq(o2p_graph_create_subgraph(G(n), "then", &tg), O2P_OK);
    ck_assert_int_eq(o2p_graph_create_subgraph(G(n), "else", &eg), O2P_OK);
    o2p_graph_mark_output(tg, out(op_g(tg, "Identity", "t", 1, T(x), 1), 0));
    o2p_layer *sh = op_g(eg, "Shape", "e", 1, T(x), 1);
    o2p_graph_mark_output(eg, out(sh, 0));
    iff = op(n, "If", 1, T(c), 1);
    o2p_layer_set_attr_graph(iff, "then_branch", tg);
    o2p_layer_set_attr_graph(iff, "else_branch", eg);
    infer_fails(n, "then branch", "else branch");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_loop)
{
    /* for i in range(5): acc = acc + x; scan out acc (shape fixed) and a growing Concat */
    o2p_network *n = net_new(13);
    o2p_tensor *m = scalar_i64(n, "M", 5);
    o2p_tensor *x = in(n, "x", F32, 2, D(-1, 3), "N,");
    o2p_tensor *acc0 = in(n, "acc0", F32, 2, D(-1, 3), "N,");
    o2p_tensor *grow0 = in(n, "grow0", F32, 1, D(1), NULL);
    o2p_graph *body;
    ck_assert_int_eq(o2p_graph_create_subgraph(G(n), "body", &body), O2P_OK);
    o2p_tensor *it = in_g(body, "i", I64, -1, NULL, NULL);
    o2p_tensor *cin = in_g(body, "cin", O2P_DTYPE_BOOL, -1, NULL, NULL);
    o2p_tensor *acc = in_g(body, "acc", F32, -1, NULL, NULL);
    o2p_tensor *grow = in_g(body, "grow", F32, -1, NULL, NULL);
    (void)it;
    o2p_layer *cid = op_g(body, "Identity", "cid", 1, T(cin), 1);
    o2p_layer *add = op_g(body, "Add", "add", 2, T(acc, x), 1);
    o2p_layer *cat = op_g(body, "Concat", "cat", 2, T(grow, grow), 1);
    o2p_layer_set_attr_int(cat, "axis", 0);
    o2p_layer *sc = op_g(body, "Identity", "sc", 1, T(out(add, 0)), 1);
    o2p_graph_mark_output(body, out(cid, 0));
    o2p_graph_mark_output(body, out(add, 0));
    o2p_graph_mark_output(body, out(cat, 0));
    o2p_graph_mark_output(body, out(sc, 0));
    o2p_layer *loop = op(n, "Loop", 4, T(m, NULL, acc0, grow0), 3);
    o2p_layer_set_attr_graph(loop, "body", body);
    infer_ok(n);
    dtype_is(it, I64);
    tu_assert_shape(it, "scalar");
    tu_assert_shape(cin, "scalar");
    tu_assert_shape(out(loop, 0), "Nx3");
    tu_assert_shape(out(loop, 1), "?"); /* grows: the rank stays 1, the dim is not known */
    ck_assert_int_eq(o2p_tensor_get_rank(out(loop, 1)), 1);
    tu_assert_shape(out(loop, 2), "5xNx3");
    tu_assert_shape(grow, "?");
    o2p_network_destroy(n);

    /* a body whose output count does not fit */
    n = net_new(13);
    x = in(n, "x", F32, 1, D(3), NULL);
    ck_assert_int_eq(o2p_graph_create_subgraph(G(n), "body", &body), O2P_OK);
    in_g(body, "i", I64, 0, NULL, NULL);
    in_g(body, "c", O2P_DTYPE_BOOL, 0, NULL, NULL);
    loop = op(n, "Loop", 3, T(NULL, NULL, x), 1);
    o2p_layer_set_attr_graph(loop, "body", body);
    infer_fails(n, "body has 2 inputs", NULL);
    o2p_network_destroy(n);
}
END_TEST

/* Loops nested 40 deep, each carrying a value that grows every iteration: inference must
 * stay fast (rounds of re-inference must not multiply level by level: 2^40 here). */
START_TEST(test_loop_deep_nest)
{
    o2p_network *n = net_new(13);
    o2p_tensor *v0 = in(n, "v0", F32, 1, D(1), NULL);
    o2p_graph *g = G(n);
    o2p_tensor *carried = v0;
    o2p_layer *outer = NULL;
    for (int level = 0; level < 40; level++) {
        char name[64];
        o2p_graph *body;
        snprintf(name, sizeof name, "body%d", level);
        ck_assert_int_eq(o2p_graph_create_subgraph(g, name, &body), O2P_OK);
        snprintf(name, sizeof name, "i%d", level);
        in_g(body, name, I64, 0, NULL, NULL);
        snprintf(name, sizeof name, "c%d", level);
        o2p_tensor *c = in_g(body, name, O2P_DTYPE_BOOL, 0, NULL, NULL);
        snprintf(name, sizeof name, "s%d", level);
        o2p_tensor *st = in_g(body, name, F32, -1, NULL, NULL);
        if (level > 0) {
            /* a fresh [1] in every body: each loop needs a second round whatever the loops
             * around it do */
            float one = 1;
            snprintf(name, sizeof name, "one%d", level);
            TU_ASSERT_STATUS(o2p_graph_add_constant(g, name, F32, 1, D(1), &one, 4, &carried),
                             O2P_OK);
        }
        snprintf(name, sizeof name, "loop%d", level);
        o2p_layer *loop = op_g(g, "Loop", name, 3, T(NULL, NULL, carried), 1);
        o2p_layer_set_attr_graph(loop, "body", body);
        if (!outer)
            outer = loop;
        snprintf(name, sizeof name, "cat%d", level);
        o2p_layer *cat = op_g(body, "Concat", name, 2, T(st, st), 1);
        o2p_layer_set_attr_int(cat, "axis", 0);
        snprintf(name, sizeof name, "cid%d", level);
        o2p_graph_mark_output(body, out(op_g(body, "Identity", name, 1, T(c), 1), 0));
        o2p_graph_mark_output(body, out(cat, 0));
        g = body;
    }
    infer_ok(n);
    ck_assert_int_eq(o2p_tensor_get_rank(out(outer, 0)), 1);
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_scan)
{
    /* cumulative sum over axis 1 of [B, T, 4]; scan output stacked on axis 1 */
    o2p_network *n = net_new(16);
    o2p_tensor *init = in(n, "init", F32, 2, D(-1, 4), "B,");
    o2p_tensor *xs = in(n, "xs", F32, 3, D(-1, 9, 4), "B,,");
    o2p_graph *body;
    ck_assert_int_eq(o2p_graph_create_subgraph(G(n), "body", &body), O2P_OK);
    o2p_tensor *s = in_g(body, "s", F32, -1, NULL, NULL);
    o2p_tensor *xi = in_g(body, "xi", F32, -1, NULL, NULL);
    o2p_layer *add = op_g(body, "Add", "add", 2, T(s, xi), 1);
    o2p_layer *id = op_g(body, "Identity", "id", 1, T(out(add, 0)), 1);
    o2p_graph_mark_output(body, out(add, 0));
    o2p_graph_mark_output(body, out(id, 0));
    o2p_layer *scan = op(n, "Scan", 2, T(init, xs), 2);
    o2p_layer_set_attr_graph(scan, "body", body);
    o2p_layer_set_attr_int(scan, "num_scan_inputs", 1);
    o2p_layer_set_attr_ints(scan, "scan_input_axes", D(1), 1);
    o2p_layer_set_attr_ints(scan, "scan_output_axes", D(-1), 1);
    infer_ok(n);
    tu_assert_shape(xi, "Bx4");
    tu_assert_shape(out(scan, 0), "Bx4");
    tu_assert_shape(out(scan, 1), "Bx4x9");
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- robustness */

static const char *const attr_names[] = {"axis",
                                         "axes",
                                         "perm",
                                         "kernel_shape",
                                         "strides",
                                         "pads",
                                         "dilations",
                                         "group",
                                         "keepdims",
                                         "to",
                                         "split",
                                         "starts",
                                         "ends",
                                         "shape",
                                         "blocksize",
                                         "k",
                                         "auto_pad",
                                         "mode",
                                         "direction",
                                         "hidden_size",
                                         "layout",
                                         "equation",
                                         "output_shape",
                                         "output_padding",
                                         "batch_dims",
                                         "num_scan_inputs",
                                         "scan_input_axes",
                                         "scan_output_axes",
                                         "transA",
                                         "transB",
                                         "ceil_mode",
                                         "allowzero",
                                         "noop_with_empty_axes",
                                         "start",
                                         "end",
                                         "dtype",
                                         "sample_size",
                                         "scales",
                                         "broadcast",
                                         "num_outputs",
                                         "pooled_shape",
                                         "size",
                                         "output_height",
                                         "stash_type",
                                         "onesided",
                                         "value",
                                         "value_ints",
                                         "value_int",
                                         "num_groups",
                                         "p",
                                         "time_axis",
                                         "batch_axis",
                                         "center_point_box",
                                         "reduction",
                                         "output_datatype",
                                         "select_last_index",
                                         "training_mode",
                                         "spatial",
                                         "then_branch",
                                         "else_branch",
                                         "body"};

static int64_t rand_int(uint64_t *st)
{
    static const int64_t pool[] = {
        0,  1,  2,   3,          -1,        -2,        4,         5,
        16, 64, -17, 1000000007, INT64_MAX, INT64_MIN, INT32_MAX, (int64_t)1 << 40,
        7,  8};
    return pool[tu_rand(st) % (sizeof pool / sizeof pool[0])];
}

static o2p_tensor *rand_tensor(o2p_network *n, uint64_t *st, int idx)
{
    char name[32];
    snprintf(name, sizeof name, "t%d", idx);
    static const o2p_dtype types[] = {O2P_DTYPE_FLOAT,  O2P_DTYPE_INT64, O2P_DTYPE_INT32,
                                      O2P_DTYPE_BOOL,   O2P_DTYPE_UINT8, O2P_DTYPE_INT8,
                                      O2P_DTYPE_FLOAT16};
    o2p_dtype t = types[tu_rand(st) % (sizeof types / sizeof types[0])];
    int rank = (int)(tu_rand(st) % 6);
    if (tu_rand(st) % 8 == 0)
        rank = (int)(tu_rand(st) % (O2P_MAX_RANK + 1));
    int64_t dims[O2P_MAX_RANK];
    const char *syms[O2P_MAX_RANK] = {0};
    static const int64_t dpool[] = {-1, 0, 1, 1, 2, 3, 4, 5, 8, 64, (int64_t)1 << 40};
    for (int i = 0; i < rank; i++) {
        dims[i] = dpool[tu_rand(st) % (sizeof dpool / sizeof dpool[0])];
        if (dims[i] < 0 && tu_rand(st) % 2)
            syms[i] = tu_rand(st) % 2 ? "N" : "M";
    }
    o2p_tensor *x = NULL;
    if (tu_rand(st) % 3 == 0 && rank <= 1) {
        /* a small constant: shapes, axes, pads... */
        int64_t cnt = rank == 0 ? 1 : (int64_t)(tu_rand(st) % 9);
        int64_t d = cnt;
        int64_t v[8];
        for (int i = 0; i < cnt; i++)
            v[i] = rand_int(st);
        o2p_dtype ct = tu_rand(st) % 4 ? O2P_DTYPE_INT64 : O2P_DTYPE_FLOAT;
        float fv[8];
        for (int i = 0; i < cnt; i++)
            fv[i] = (float)v[i] / (tu_rand(st) % 2 ? 1.0f : 3.0f);
        ck_assert_int_eq(o2p_graph_add_constant(G(n), name, ct, rank, &d,
                                                ct == O2P_DTYPE_FLOAT ? (void *)fv : (void *)v,
                                                (size_t)cnt * (ct == O2P_DTYPE_FLOAT ? 4 : 8), &x),
                         O2P_OK);
        return x;
    }
    if (tu_rand(st) % 6 == 0)
        rank = -1;
    ck_assert_int_eq(o2p_graph_add_input(G(n), name, t, rank < 0 ? 0 : rank, dims, syms, &x),
                     O2P_OK);
    if (rank < 0)
        x->shape.rank = O2P_RANK_UNKNOWN; /* an unknown rank, as after an unsupported op */
    return x;
}

static void rand_attr(o2p_network *n, o2p_layer *l, uint64_t *st)
{
    const char *name = attr_names[tu_rand(st) % (sizeof attr_names / sizeof attr_names[0])];
    int64_t v[20];
    int cnt = (int)(tu_rand(st) % 7);
    if (tu_rand(st) % 10 == 0)
        cnt = (int)(tu_rand(st) % 20);
    for (int i = 0; i < cnt; i++)
        v[i] = rand_int(st);
    static const char *const strs[] = {"NOTSET", "SAME_UPPER", "VALID",         "bogus",
                                       "",       "ij,jk->ik",  "...i,...i",     "ii->i",
                                       "->",     "a...b...",   "bidirectional", "DCR",
                                       "none",   "LEFT",       "linear",        "abc,cd"};
    switch (tu_rand(st) % 6) {
    case 0:
    case 1: o2p_layer_set_attr_int(l, name, v[0] = rand_int(st)); break;
    case 2:
    case 3: o2p_layer_set_attr_ints(l, name, v, cnt); break;
    case 4:
        o2p_layer_set_attr_string(l, name, strs[tu_rand(st) % (sizeof strs / sizeof strs[0])]);
        break;
    default: {
        float f[20];
        for (int i = 0; i < cnt; i++)
            f[i] = (float)v[i] / 2.0f;
        if (tu_rand(st) % 2)
            o2p_layer_set_attr_floats(l, name, f, cnt);
        else
            o2p_layer_set_attr_float(l, name, f[0]);
        break;
    }
    }
    (void)n;
}

/* A subgraph with a few inputs and one or two layers, for If/Loop/Scan. */
static o2p_graph *rand_body(o2p_network *n, uint64_t *st, const char *name)
{
    o2p_graph *b;
    ck_assert_int_eq(o2p_graph_create_subgraph(G(n), name, &b), O2P_OK);
    int nin = (int)(tu_rand(st) % 4);
    o2p_tensor *ins[4] = {0};
    for (int i = 0; i < nin; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "%s_in%d", name, i);
        ins[i] = in_g(b, nm, i == 1 ? O2P_DTYPE_BOOL : F32, -1, NULL, NULL);
    }
    int nout = (int)(tu_rand(st) % 4);
    for (int i = 0; i < nout; i++) {
        o2p_tensor *src = nin ? ins[tu_rand(st) % nin] : o2p_graph_get_input(G(n), 0);
        if (!src)
            break;
        char nm[64];
        snprintf(nm, sizeof nm, "%s_l%d", name, i);
        o2p_layer *l = op_g(b, tu_rand(st) % 2 ? "Identity" : "Add", nm, 1 + (int)(tu_rand(st) % 2),
                            T(src, src), 1);
        o2p_graph_mark_output(b, out(l, 0));
    }
    return b;
}

START_TEST(test_random_hostile)
{
    /* O2P_INFER_TRIALS and O2P_INFER_SEED widen the sweep for a local fuzzing run */
    const char *env_trials = getenv("O2P_INFER_TRIALS"), *env_seed = getenv("O2P_INFER_SEED");
    int per_op = env_trials ? atoi(env_trials) : 150;
    uint64_t st = env_seed ? strtoull(env_seed, NULL, 0) : 0x9e3779b97f4a7c15ull;
    if (st == 0)
        st = 1;
    int trials = 0, failures = 0;
    for (int opi = 0; opi < ir_op_count(); opi++) {
        const ir_op *opd = ir_op_at(opi);
        for (int trial = 0; trial < per_op; trial++) {
            static const int64_t opsets[] = {1, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
            o2p_network *n = net_new(opsets[tu_rand(&st) % (sizeof opsets / sizeof opsets[0])]);
            int maxin = opd->max_inputs < 0 ? opd->min_inputs + 4 : opd->max_inputs;
            int nin =
                opd->min_inputs + (int)(tu_rand(&st) % (unsigned)(maxin - opd->min_inputs + 1));
            int maxout = opd->max_outputs < 0 ? opd->min_outputs + 4 : opd->max_outputs;
            int nout =
                opd->min_outputs + (int)(tu_rand(&st) % (unsigned)(maxout - opd->min_outputs + 1));
            o2p_tensor *ins[16] = {0};
            for (int i = 0; i < nin && i < 16; i++)
                ins[i] = tu_rand(&st) % 10 == 0 && i > 0 ? NULL : rand_tensor(n, &st, i);
            o2p_layer *l;
            ck_assert_int_eq(o2p_graph_add_layer(G(n), "", opd->op_type, "L", nin < 16 ? nin : 16,
                                                 ins, nout, &l),
                             O2P_OK);
            int na = (int)(tu_rand(&st) % 6);
            for (int a = 0; a < na; a++)
                rand_attr(n, l, &st);
            if (strcmp(opd->op_type, "If") == 0 || strcmp(opd->op_type, "Loop") == 0 ||
                strcmp(opd->op_type, "Scan") == 0) {
                o2p_layer_set_attr_graph(l, "then_branch", rand_body(n, &st, "tb"));
                o2p_layer_set_attr_graph(l, "else_branch", rand_body(n, &st, "eb"));
                o2p_layer_set_attr_graph(l, "body", rand_body(n, &st, "bd"));
                if (tu_rand(&st) % 2)
                    o2p_layer_set_attr_int(l, "num_scan_inputs", (int64_t)(tu_rand(&st) % 3));
            }
            /* a consumer of every output: inference must leave them consistent */
            for (int i = 0; i < nout; i++)
                if (out(l, i))
                    op(n, "Identity", 1, T(out(l, i)), 1);
            o2p_status s = o2p_network_infer_shapes(n);
            trials++;
            if (s != O2P_OK) {
                failures++;
                ck_assert_msg(o2p_last_error()[0] != '\0', "%s failed with no message",
                              opd->op_type);
            }
            /* what inference produced must be a valid shape */
            for (int i = 0; i < nout; i++) {
                o2p_tensor *t = out(l, i);
                if (!t)
                    continue;
                int r = o2p_tensor_get_rank(t);
                ck_assert_msg(r >= -1 && r <= O2P_MAX_RANK, "%s: output rank %d", opd->op_type, r);
                for (int d = 0; d < r; d++)
                    ck_assert_msg(o2p_tensor_get_dim(t, d) >= -1, "%s: dim %d is %lld",
                                  opd->op_type, d, (long long)o2p_tensor_get_dim(t, d));
            }
            o2p_network_destroy(n);
        }
    }
    printf("test_infer: random sweep: %d trials, %d rejected with a message\n", trials, failures);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("infer");
    TCase *tc = tcase_create("infer");
    tcase_add_test(tc, test_op_table);
    tcase_add_test(tc, test_broadcast_symbolic);
    tcase_add_test(tc, test_legacy_broadcast);
    tcase_add_test(tc, test_conv);
    tcase_add_test(tc, test_conv_transpose);
    tcase_add_test(tc, test_pooling);
    tcase_add_test(tc, test_reshape_from_shape_chain);
    tcase_add_test(tc, test_shape_values);
    tcase_add_test(tc, test_squeeze_unsqueeze_opsets);
    tcase_add_test(tc, test_slice);
    tcase_add_test(tc, test_resize);
    tcase_add_test(tc, test_tensor_ops);
    tcase_add_test(tc, test_nn_ops);
    tcase_add_test(tc, test_more_ops);
    tcase_add_test(tc, test_if);
    tcase_add_test(tc, test_loop);
    tcase_add_test(tc, test_scan);
    suite_add_tcase(s, tc);
    TCase *lim = tcase_create("limits");
    tcase_set_timeout(lim, 30); /* an exponential blow-up shows as a timeout */
    tcase_add_test(lim, test_loop_deep_nest);
    suite_add_tcase(s, lim);
    TCase *rob = tcase_create("robustness");
    tcase_set_timeout(rob, 600);
    tcase_add_test(rob, test_random_hostile);
    suite_add_tcase(s, rob);
    return tu_run_suite(s);
}
