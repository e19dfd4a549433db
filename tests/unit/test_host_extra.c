/* test_host_extra.c: the extra family of host kernels (kernels/host/extra.c) called directly
 * through host_kernel_find: the losses, Einsum and the quantization ops on hand-computed
 * values (ties that round half to even, saturation, per-axis parameters, ignore_index,
 * broadcasting), Einsum against a naive matmul, and hostile calls (wrong output shapes and
 * types, targets out of range, bad equations) that must fail with a message. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_kernels.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define F64 O2P_DTYPE_DOUBLE
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define U8 O2P_DTYPE_UINT8
#define I8 O2P_DTYPE_INT8
#define D(...) ((const int64_t[]){__VA_ARGS__})

/* A tensor owning zeroed data (at least 8 bytes so data is never NULL). */
static host_tensor *tensor(o2p_dtype t, int rank, const int64_t *dims)
{
    host_tensor *x = calloc(1, sizeof *x);
    ck_assert_ptr_nonnull(x);
    x->dtype = t;
    x->rank = rank;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        x->dims[i] = dims[i];
        n *= dims[i];
    }
    x->data = calloc((size_t)n + 8, o2p_dtype_size(t));
    ck_assert_ptr_nonnull(x->data);
    return x;
}

/* A tensor with values (given as doubles, stored in t's type). */
static host_tensor *tval(o2p_dtype t, int rank, const int64_t *dims, const double *v)
{
    host_tensor *x = tensor(t, rank, dims);
    int ok;
    int64_t n = host_numel(x, &ok);
    for (int64_t i = 0; i < n; i++)
        host_set_f64(x, i, v[i]);
    return x;
}
#define V(...) ((const double[]){__VA_ARGS__})

static void tfree(host_tensor *x)
{
    if (x) {
        free(x->data);
        free(x);
    }
}

static o2p_status run(const char *op, int64_t opset, int nin, const host_tensor *const *in,
                      int nout, host_tensor *const *out, int nattr, const host_attr *attrs)
{
    host_kernel_fn fn = host_kernel_find(op);
    ck_assert_msg(fn != NULL, "no host kernel for %s", op);
    host_kernel_args a = {op, "n0", opset, nin, in, nout, out, nattr, attrs};
    return fn(&a);
}

static host_attr aint(const char *name, int64_t v)
{
    host_attr a = {0};
    a.name = name;
    a.type = O2P_ATTR_INT;
    a.i = v;
    return a;
}

static host_attr astr(const char *name, const char *v)
{
    host_attr a = {0};
    a.name = name;
    a.type = O2P_ATTR_STRING;
    a.s = v;
    return a;
}

static host_attr aints(const char *name, const int64_t *v, int n)
{
    host_attr a = {0};
    a.name = name;
    a.type = O2P_ATTR_INTS;
    a.ints = v;
    a.count = n;
    return a;
}

static void assert_values(const host_tensor *y, const double *want, int64_t n, double tol)
{
    for (int64_t i = 0; i < n; i++) {
        double g = host_get_f64(y, i);
        ck_assert_msg(fabs(g - want[i]) <= tol * (1.0 + fabs(want[i])),
                      "element %lld is %.9g, expected %.9g", (long long)i, g, want[i]);
    }
}

/* ---------------------------------------------------------------- the table */

START_TEST(test_table)
{
    static const char *const ops[] = {
        "ConvInteger",    "DequantizeLinear",          "DynamicQuantizeLinear", "Einsum",
        "MatMulInteger",  "NegativeLogLikelihoodLoss", "QLinearConv",           "QLinearMatMul",
        "QuantizeLinear", "SoftmaxCrossEntropyLoss"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        ck_assert_msg(host_kernel_find(ops[i]) != NULL, "%s has no host kernel", ops[i]);
    ck_assert_int_eq(host_extra_kernel_count, (int)(sizeof ops / sizeof ops[0]));
}
END_TEST

/* ---------------------------------------------------------------- losses */

START_TEST(test_nll_loss)
{
    /* input [2, 3] (log-probabilities), target {0, 2}, weight {1, 2, 3} */
    host_tensor *x = tval(F32, 2, D(2, 3), V(-1, -2, -3, -4, -5, -6));
    host_tensor *t = tval(I64, 1, D(2), V(0, 2));
    host_tensor *w = tval(F32, 1, D(3), V(1, 2, 3));
    host_tensor *y = tensor(F32, 0, NULL);
    const host_tensor *in[3] = {x, t, w};
    host_attr mean[1] = {astr("reduction", "mean")};
    TU_ASSERT_STATUS(run("NegativeLogLikelihoodLoss", 13, 3, in, 1, &y, 1, mean), O2P_OK);
    assert_values(y, V((1.0 * 1 + 6.0 * 3) / 4.0), 1, 1e-6);

    /* ignore_index 2 with sum: only the first element counts */
    host_attr sum_ii[2] = {astr("reduction", "sum"), aint("ignore_index", 2)};
    TU_ASSERT_STATUS(run("NegativeLogLikelihoodLoss", 13, 3, in, 1, &y, 2, sum_ii), O2P_OK);
    assert_values(y, V(1.0), 1, 1e-6);

    /* none: one loss per target, no weight */
    host_tensor *yn = tensor(F32, 1, D(2));
    host_attr none[1] = {astr("reduction", "none")};
    TU_ASSERT_STATUS(run("NegativeLogLikelihoodLoss", 13, 2, in, 1, &yn, 1, none), O2P_OK);
    assert_values(yn, V(1.0, 6.0), 2, 1e-6);

    /* a target outside [0, C) that is not ignored fails */
    host_set_f64(t, 1, 3);
    TU_ASSERT_STATUS(run("NegativeLogLikelihoodLoss", 13, 3, in, 1, &y, 1, mean), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("outside");
    /* a scalar output for reduction none is refused */
    host_set_f64(t, 1, 2);
    TU_ASSERT_STATUS(run("NegativeLogLikelihoodLoss", 13, 3, in, 1, &y, 1, none), O2P_ERR_SHAPE);
    /* a bad reduction */
    host_attr bad[1] = {astr("reduction", "max")};
    TU_ASSERT_STATUS(run("NegativeLogLikelihoodLoss", 13, 3, in, 1, &y, 1, bad), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("reduction");
    tfree(x), tfree(t), tfree(w), tfree(y), tfree(yn);
}
END_TEST

START_TEST(test_sce_loss)
{
    /* scores [1, 2, 2] (N, C, d1): position 0 {0, ln 3}, position 1 {0, 0} */
    double l3 = log(3.0);
    host_tensor *x = tval(F64, 3, D(1, 2, 2), V(0, 0, l3, 0));
    host_tensor *t = tval(I32, 2, D(1, 2), V(1, 0));
    host_tensor *y = tensor(F64, 0, NULL);
    host_tensor *lp = tensor(F64, 3, D(1, 2, 2));
    const host_tensor *in[2] = {x, t};
    host_tensor *out[2] = {y, lp};
    TU_ASSERT_STATUS(run("SoftmaxCrossEntropyLoss", 13, 2, in, 2, out, 0, NULL), O2P_OK);
    double want = (-log(0.75) - log(0.5)) / 2.0;
    assert_values(y, V(want), 1, 1e-12);
    assert_values(lp, V(log(0.25), log(0.5), log(0.75), log(0.5)), 4, 1e-12);

    /* ignore_index: the ignored position weighs nothing in the mean */
    host_attr ii[1] = {aint("ignore_index", 0)};
    TU_ASSERT_STATUS(run("SoftmaxCrossEntropyLoss", 13, 2, in, 1, out, 1, ii), O2P_OK);
    assert_values(y, V(-log(0.75)), 1, 1e-12);

    /* log_prob with the wrong shape is refused */
    host_tensor *bad = tensor(F64, 2, D(2, 2));
    host_tensor *out2[2] = {y, bad};
    TU_ASSERT_STATUS(run("SoftmaxCrossEntropyLoss", 13, 2, in, 2, out2, 0, NULL), O2P_ERR_SHAPE);
    /* float targets are refused */
    host_tensor *tf = tval(F32, 2, D(1, 2), V(1, 0));
    const host_tensor *in2[2] = {x, tf};
    TU_ASSERT_STATUS(run("SoftmaxCrossEntropyLoss", 13, 2, in2, 1, out, 0, NULL),
                     O2P_ERR_UNSUPPORTED);
    tfree(x), tfree(t), tfree(y), tfree(lp), tfree(bad), tfree(tf);
}
END_TEST

/* ---------------------------------------------------------------- Einsum */

static o2p_status einsum(const char *eq, int nin, const host_tensor *const *in, host_tensor *y)
{
    host_attr a[1] = {astr("equation", eq)};
    return run("Einsum", 12, nin, in, 1, &y, 1, a);
}

START_TEST(test_einsum_matmul)
{
    uint64_t rng = 7;
    host_tensor *a = tensor(F32, 3, D(2, 3, 4)), *b = tensor(F32, 3, D(2, 4, 5));
    for (int i = 0; i < 24; i++)
        ((float *)a->data)[i] = (float)(tu_rand(&rng) % 17) - 8.0f;
    for (int i = 0; i < 40; i++)
        ((float *)b->data)[i] = (float)(tu_rand(&rng) % 13) - 6.0f;
    const host_tensor *in[2] = {a, b};
    host_tensor *y = tensor(F32, 3, D(2, 3, 5));
    TU_ASSERT_STATUS(einsum("bij,bjk->bik", 2, in, y), O2P_OK);
    const float *A = a->data, *B = b->data, *Y = y->data;
    for (int bb = 0; bb < 2; bb++)
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 5; k++) {
                float s = 0;
                for (int j = 0; j < 4; j++)
                    s += A[(bb * 3 + i) * 4 + j] * B[(bb * 4 + j) * 5 + k];
                ck_assert_float_eq_tol(Y[(bb * 3 + i) * 5 + k], s, 1e-4);
            }
    /* the same with an ellipsis and an implicit output ("...ij,...jk" gives ...ik) */
    host_tensor *y2 = tensor(F32, 3, D(2, 3, 5));
    TU_ASSERT_STATUS(einsum("...ij,...jk", 2, in, y2), O2P_OK);
    ck_assert_int_eq(memcmp(y->data, y2->data, 15 * 2 * sizeof(float)), 0);
    /* a wrong output shape is refused */
    host_tensor *bad = tensor(F32, 3, D(2, 5, 3));
    TU_ASSERT_STATUS(einsum("bij,bjk->bik", 2, in, bad), O2P_ERR_SHAPE);
    /* labels that disagree */
    TU_ASSERT_STATUS(einsum("bij,bik->bjk", 2, in, bad), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("equation");
    tfree(a), tfree(b), tfree(y), tfree(y2), tfree(bad);
}
END_TEST

START_TEST(test_einsum_forms)
{
    /* diagonal, trace, transpose, sum and inner product on a 3 x 3 matrix of 0..8 */
    host_tensor *m = tval(F64, 2, D(3, 3), V(0, 1, 2, 3, 4, 5, 6, 7, 8));
    const host_tensor *in[2] = {m, m};
    host_tensor *d = tensor(F64, 1, D(3)), *s = tensor(F64, 0, NULL), *t = tensor(F64, 2, D(3, 3));
    TU_ASSERT_STATUS(einsum("ii->i", 1, in, d), O2P_OK);
    assert_values(d, V(0, 4, 8), 3, 0);
    TU_ASSERT_STATUS(einsum("ii", 1, in, s), O2P_OK);
    assert_values(s, V(12), 1, 0);
    TU_ASSERT_STATUS(einsum("ij->ji", 1, in, t), O2P_OK);
    assert_values(t, V(0, 3, 6, 1, 4, 7, 2, 5, 8), 9, 0);
    TU_ASSERT_STATUS(einsum("ij->", 1, in, s), O2P_OK);
    assert_values(s, V(36), 1, 0);
    TU_ASSERT_STATUS(einsum("ij,ij->", 2, in, s), O2P_OK);
    assert_values(s, V(204), 1, 0);
    /* integers: an outer product of int64 vectors */
    host_tensor *v = tval(I64, 1, D(2), V(3, -2)), *o = tensor(I64, 2, D(2, 2));
    const host_tensor *vi[2] = {v, v};
    TU_ASSERT_STATUS(einsum("i,j->ij", 2, vi, o), O2P_OK);
    assert_values(o, V(9, -6, -6, 4), 4, 0);
    /* bad equations */
    TU_ASSERT_STATUS(einsum("i1->i", 1, in, d), O2P_ERR_SHAPE);
    TU_ASSERT_STATUS(einsum("ij,jk->ik", 1, in, t), O2P_ERR_SHAPE);
    TU_ASSERT_STATUS(einsum("ijk->i", 1, in, d), O2P_ERR_SHAPE);
    TU_ASSERT_STATUS(einsum("ij->iq", 1, in, t), O2P_ERR_SHAPE);
    tfree(m), tfree(d), tfree(s), tfree(t), tfree(v), tfree(o);
}
END_TEST

/* ---------------------------------------------------------------- Quantize/Dequantize */

START_TEST(test_quantize)
{
    /* ties round half to even; saturation at both ends */
    host_tensor *x = tval(F32, 1, D(6), V(0.5, 1.5, 2.5, -3, 600, 3.2));
    host_tensor *s = tval(F32, 0, NULL, V(2.0));
    host_tensor *z = tval(U8, 0, NULL, V(1));
    host_tensor *y = tensor(U8, 1, D(6));
    const host_tensor *in[3] = {x, s, z};
    TU_ASSERT_STATUS(run("QuantizeLinear", 13, 3, in, 1, &y, 0, NULL), O2P_OK);
    /* x / 2 = 0.25 0.75 1.25 -1.5 300 1.6 -> 0 1 1 -2 300 2, + 1, clipped */
    assert_values(y, V(1, 2, 2, 0, 255, 3), 6, 0);
    /* opset 10 form without a zero point: uint8 */
    TU_ASSERT_STATUS(run("QuantizeLinear", 10, 2, in, 1, &y, 0, NULL), O2P_OK);
    assert_values(y, V(0, 1, 1, 0, 255, 2), 6, 0);
    /* per axis (axis 1 of [2, 3]), int8 */
    host_tensor *x2 = tval(F32, 2, D(2, 3), V(1, 2, 3, -100, -200, 300));
    host_tensor *s2 = tval(F32, 1, D(3), V(1, 2, 4));
    host_tensor *z2 = tval(I8, 1, D(3), V(0, -1, 1));
    host_tensor *y2 = tensor(I8, 2, D(2, 3));
    const host_tensor *in2[3] = {x2, s2, z2};
    TU_ASSERT_STATUS(run("QuantizeLinear", 13, 3, in2, 1, &y2, 0, NULL), O2P_OK);
    assert_values(y2, V(1, 0, 2, -100, -101, 76), 6, 0);
    /* a per-axis scale that does not match the axis */
    host_attr ax0[1] = {aint("axis", 0)};
    TU_ASSERT_STATUS(run("QuantizeLinear", 13, 3, in2, 1, &y2, 1, ax0), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("axis");
    /* an output type other than the zero point's */
    TU_ASSERT_STATUS(run("QuantizeLinear", 13, 3, in, 1, &y2, 0, NULL), O2P_ERR_SHAPE);
    tfree(x), tfree(s), tfree(z), tfree(y), tfree(x2), tfree(s2), tfree(z2), tfree(y2);
}
END_TEST

START_TEST(test_dequantize)
{
    host_tensor *x = tval(U8, 1, D(3), V(0, 128, 255));
    host_tensor *s = tval(F32, 0, NULL, V(2.0));
    host_tensor *z = tval(U8, 0, NULL, V(128));
    host_tensor *y = tensor(F32, 1, D(3));
    const host_tensor *in[3] = {x, s, z};
    TU_ASSERT_STATUS(run("DequantizeLinear", 13, 3, in, 1, &y, 0, NULL), O2P_OK);
    assert_values(y, V(-256, 0, 254), 3, 0);
    /* int32 input without a zero point */
    host_tensor *xi = tval(I32, 1, D(2), V(-7, 100000));
    const host_tensor *in2[2] = {xi, s};
    host_tensor *y2 = tensor(F32, 1, D(2));
    TU_ASSERT_STATUS(run("DequantizeLinear", 10, 2, in2, 1, &y2, 0, NULL), O2P_OK);
    assert_values(y2, V(-14, 200000), 2, 0);
    /* per axis 0 of [2, 2], int8 */
    host_tensor *x3 = tval(I8, 2, D(2, 2), V(-128, 127, 10, 20));
    host_tensor *s3 = tval(F32, 1, D(2), V(0.5, 3));
    host_tensor *z3 = tval(I8, 1, D(2), V(0, 10));
    host_tensor *y3 = tensor(F32, 2, D(2, 2));
    const host_tensor *in3[3] = {x3, s3, z3};
    host_attr ax0[1] = {aint("axis", 0)};
    TU_ASSERT_STATUS(run("DequantizeLinear", 13, 3, in3, 1, &y3, 1, ax0), O2P_OK);
    assert_values(y3, V(-64, 63.5, 0, 30), 4, 0);
    /* a zero point of another type than x */
    const host_tensor *in4[3] = {x3, s3, tval(U8, 1, D(2), V(0, 0))};
    TU_ASSERT_STATUS(run("DequantizeLinear", 13, 3, in4, 1, &y3, 1, ax0), O2P_ERR_SHAPE);
    tfree((host_tensor *)in4[2]);
    tfree(x), tfree(s), tfree(z), tfree(y), tfree(xi), tfree(y2), tfree(x3), tfree(s3), tfree(z3),
        tfree(y3);
}
END_TEST

START_TEST(test_dynamic_quantize)
{
    host_tensor *x = tval(F32, 1, D(4), V(-1, 0, 2, 3.5));
    host_tensor *y = tensor(U8, 1, D(4)), *s = tensor(F32, 0, NULL), *z = tensor(U8, 0, NULL);
    host_tensor *out[3] = {y, s, z};
    TU_ASSERT_STATUS(
        run("DynamicQuantizeLinear", 11, 1, (const host_tensor *const[]){x}, 3, out, 0, NULL),
        O2P_OK);
    float scale = 4.5f / 255.0f;
    ck_assert_float_eq(((float *)s->data)[0], scale);
    ck_assert_int_eq(((uint8_t *)z->data)[0], 57); /* rint(1 / scale) = rint(56.67) */
    for (int i = 0; i < 4; i++) {
        double want = nearbyint((double)(((float *)x->data)[i] / scale)) + 57;
        want = want > 255 ? 255 : want;
        ck_assert_int_eq(((uint8_t *)y->data)[i], (int)want);
    }
    /* all zeros: scale 0, zero point 0, y 0 */
    host_tensor *x0 = tensor(F32, 1, D(2)), *y0 = tensor(U8, 1, D(2));
    TU_ASSERT_STATUS(run("DynamicQuantizeLinear", 11, 1, (const host_tensor *const[]){x0}, 3,
                         (host_tensor *const[]){y0, s, z}, 0, NULL),
                     O2P_OK);
    ck_assert_int_eq(((uint8_t *)y0->data)[1], 0);
    ck_assert_float_eq(((float *)s->data)[0], 0.0f);
    ck_assert_int_eq(((uint8_t *)z->data)[0], 0);
    /* double input is refused */
    host_tensor *xd = tensor(F64, 1, D(2));
    TU_ASSERT_STATUS(
        run("DynamicQuantizeLinear", 11, 1, (const host_tensor *const[]){xd}, 3, out, 0, NULL),
        O2P_ERR_UNSUPPORTED);
    tfree(x), tfree(y), tfree(s), tfree(z), tfree(x0), tfree(y0), tfree(xd);
}
END_TEST

/* ---------------------------------------------------------------- integer MatMul and Conv */

START_TEST(test_matmul_integer)
{
    /* A [2, 2, 3] (batch broadcast against B [3, 2]), a_zero_point 1, b_zero_point per column */
    host_tensor *a = tval(U8, 3, D(2, 2, 3), V(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
    host_tensor *b = tval(U8, 2, D(3, 2), V(1, 2, 3, 4, 5, 6));
    host_tensor *za = tval(U8, 0, NULL, V(1)), *zb = tval(U8, 1, D(2), V(0, 2));
    host_tensor *y = tensor(I32, 3, D(2, 2, 2));
    const host_tensor *in[4] = {a, b, za, zb};
    TU_ASSERT_STATUS(run("MatMulInteger", 10, 4, in, 1, &y, 0, NULL), O2P_OK);
    const uint8_t *A = a->data, *B = b->data;
    for (int bb = 0; bb < 2; bb++)
        for (int m = 0; m < 2; m++)
            for (int n = 0; n < 2; n++) {
                int s = 0;
                for (int k = 0; k < 3; k++)
                    s += (A[(bb * 2 + m) * 3 + k] - 1) * (B[k * 2 + n] - (n ? 2 : 0));
                ck_assert_int_eq(((int32_t *)y->data)[(bb * 2 + m) * 2 + n], s);
            }
    /* inner dims that differ */
    host_tensor *b2 = tensor(U8, 2, D(2, 2));
    const host_tensor *in2[2] = {a, b2};
    TU_ASSERT_STATUS(run("MatMulInteger", 10, 2, in2, 1, &y, 0, NULL), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("inner");
    tfree(a), tfree(b), tfree(za), tfree(zb), tfree(y), tfree(b2);
}
END_TEST

START_TEST(test_qlinear_matmul)
{
    /* [1, 2] x [2, 1]: (3 - 1) * (5 - 2) + (4 - 1) * (7 - 2) = 21; * 0.5 * 0.25 / 0.1 = 26.25
     * -> 26, + 10 */
    host_tensor *a = tval(U8, 2, D(1, 2), V(3, 4)), *b = tval(U8, 2, D(2, 1), V(5, 7));
    host_tensor *sa = tval(F32, 0, NULL, V(0.5)), *za = tval(U8, 0, NULL, V(1));
    host_tensor *sb = tval(F32, 0, NULL, V(0.25)), *zb = tval(U8, 0, NULL, V(2));
    host_tensor *sy = tval(F32, 0, NULL, V(0.1)), *zy = tval(U8, 0, NULL, V(10));
    host_tensor *y = tensor(U8, 2, D(1, 1));
    const host_tensor *in[8] = {a, sa, za, b, sb, zb, sy, zy};
    TU_ASSERT_STATUS(run("QLinearMatMul", 10, 8, in, 1, &y, 0, NULL), O2P_OK);
    ck_assert_int_eq(((uint8_t *)y->data)[0], 36);
    /* saturates at 255 */
    ((float *)sy->data)[0] = 0.001f;
    TU_ASSERT_STATUS(run("QLinearMatMul", 10, 8, in, 1, &y, 0, NULL), O2P_OK);
    ck_assert_int_eq(((uint8_t *)y->data)[0], 255);
    /* a zero point of another type than its operand */
    host_tensor *zbad = tval(I8, 0, NULL, V(0));
    const host_tensor *in2[8] = {a, sa, zbad, b, sb, zb, sy, zy};
    TU_ASSERT_STATUS(run("QLinearMatMul", 10, 8, in2, 1, &y, 0, NULL), O2P_ERR_SHAPE);
    tfree(a), tfree(b), tfree(sa), tfree(za), tfree(sb), tfree(zb), tfree(sy), tfree(zy), tfree(y),
        tfree(zbad);
}
END_TEST

START_TEST(test_conv_integer)
{
    /* x [1, 1, 3, 3] = 1..9 with zero point 1, w [1, 1, 2, 2] all 1, pads 1 on every side:
     * each output is the sum of (x - 1) over the window inside the image */
    host_tensor *x = tval(U8, 4, D(1, 1, 3, 3), V(1, 2, 3, 4, 5, 6, 7, 8, 9));
    host_tensor *w = tval(U8, 4, D(1, 1, 2, 2), V(1, 1, 1, 1));
    host_tensor *zx = tval(U8, 0, NULL, V(1));
    host_tensor *y = tensor(I32, 4, D(1, 1, 4, 4));
    const host_tensor *in[3] = {x, w, zx};
    host_attr pads[1] = {aints("pads", D(1, 1, 1, 1), 4)};
    TU_ASSERT_STATUS(run("ConvInteger", 10, 3, in, 1, &y, 1, pads), O2P_OK);
    static const int want[16] = {0, 1, 3, 2, 3, 8, 12, 7, 9, 20, 24, 13, 6, 13, 15, 8};
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(((int32_t *)y->data)[i], want[i]);
    /* the output shape without padding is 2 x 2; 4 x 4 is refused */
    TU_ASSERT_STATUS(run("ConvInteger", 10, 3, in, 1, &y, 0, NULL), O2P_ERR_SHAPE);

    /* QLinearConv of the same with scales 1, 1 / 2, y zero point 100 and bias 4 */
    host_tensor *sx = tval(F32, 0, NULL, V(1)), *sw = tval(F32, 1, D(1), V(1));
    host_tensor *sy = tval(F32, 0, NULL, V(2)), *zy = tval(U8, 0, NULL, V(100));
    host_tensor *zw = tval(U8, 1, D(1), V(0)), *bias = tval(I32, 1, D(1), V(4));
    host_tensor *yq = tensor(U8, 4, D(1, 1, 4, 4));
    const host_tensor *qin[9] = {x, sx, zx, w, sw, zw, sy, zy, bias};
    TU_ASSERT_STATUS(run("QLinearConv", 10, 9, qin, 1, &yq, 1, pads), O2P_OK);
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(((uint8_t *)yq->data)[i], (int)nearbyint((want[i] + 4) / 2.0) + 100);
    /* a bias of the wrong length */
    host_tensor *b2 = tval(I32, 1, D(2), V(0, 0));
    const host_tensor *qin2[9] = {x, sx, zx, w, sw, zw, sy, zy, b2};
    TU_ASSERT_STATUS(run("QLinearConv", 10, 9, qin2, 1, &yq, 1, pads), O2P_ERR_SHAPE);
    tfree(x), tfree(w), tfree(zx), tfree(y), tfree(sx), tfree(sw), tfree(sy), tfree(zy), tfree(zw),
        tfree(bias), tfree(yq), tfree(b2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_extra");
    TCase *tc = tcase_create("host_extra");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_nll_loss);
    tcase_add_test(tc, test_sce_loss);
    tcase_add_test(tc, test_einsum_matmul);
    tcase_add_test(tc, test_einsum_forms);
    tcase_add_test(tc, test_quantize);
    tcase_add_test(tc, test_dequantize);
    tcase_add_test(tc, test_dynamic_quantize);
    tcase_add_test(tc, test_matmul_integer);
    tcase_add_test(tc, test_qlinear_matmul);
    tcase_add_test(tc, test_conv_integer);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
