/* test_gradient.c: the Gradient expansion pass (src/passes/gradient.c) on networks built by
 * hand with constant inputs: the expanded layers are evaluated by constant folding through
 * the host reference kernels and compared with derivatives written out by hand (broadcast
 * Mul/Sub/Div/Neg/Add at opset 12, ReduceSum's axes attribute) and with central differences
 * of a forward pass in C (batched MatMul, Sigmoid, Tanh, Exp, Relu at opset 17, ReduceSum's
 * axes input); an x that y does not depend on gets zeros; other ops are refused by name. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "passes/passes.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define D(...) ((const int64_t[]){__VA_ARGS__})
#define T(...) ((o2p_tensor *const[]){__VA_ARGS__})
#define TRAINING "ai.onnx.preview.training"

static o2p_network *net_new(int64_t opset)
{
    o2p_network *n = NULL;
    TU_ASSERT_STATUS(o2p_network_create(&n), O2P_OK);
    TU_ASSERT_STATUS(o2p_network_set_opset(n, "", opset), O2P_OK);
    TU_ASSERT_STATUS(o2p_network_set_opset(n, TRAINING, 1), O2P_OK);
    return n;
}

static o2p_graph *G(o2p_network *n)
{
    return o2p_network_get_graph(n);
}

static o2p_tensor *cfloat(o2p_network *n, const char *name, int rank, const int64_t *dims,
                          const float *v, size_t count)
{
    o2p_tensor *t = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_constant(G(n), name, F32, rank, dims, v, count * sizeof *v, &t),
                     O2P_OK);
    return t;
}

static o2p_tensor *op(o2p_network *n, const char *op_type, int nin, o2p_tensor *const *ins)
{
    o2p_layer *l = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_layer(G(n), "", op_type, NULL, nin, ins, 1, &l), O2P_OK);
    return o2p_layer_get_output(l, 0);
}

/* A Gradient layer of y by the nx tensors xs (its inputs too); its outputs are marked as
 * graph outputs and returned in d. */
static void gradient(o2p_network *n, const char *y, int nx, o2p_tensor *const *xs,
                     const char *const *names, o2p_tensor **d)
{
    o2p_layer *l = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_layer(G(n), TRAINING, "Gradient", "grad", nx, xs, nx, &l),
                     O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_strings(l, "xs", names, nx), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_string(l, "y", y), O2P_OK);
    for (int i = 0; i < nx; i++) {
        d[i] = o2p_layer_get_output(l, i);
        TU_ASSERT_STATUS(o2p_graph_mark_output(G(n), d[i]), O2P_OK);
    }
}

/* Infers, expands the Gradient layers, folds everything into constants. */
static void evaluate(o2p_network *n)
{
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    int expanded = 0;
    TU_ASSERT_STATUS(pass_expand_gradients(n, &expanded), O2P_OK);
    ck_assert_int_eq(expanded, 1);
    TU_ASSERT_STATUS(pass_fold_constants(n, SIZE_MAX, NULL), O2P_OK);
    ck_assert_msg(n->main->layers.count == 0, "%d layers were not folded", n->main->layers.count);
}

static void assert_values(const o2p_tensor *t, const double *want, int count, double tol)
{
    const ir_tensor *x = t;
    ck_assert_ptr_nonnull(x->data);
    ck_assert_uint_eq(x->nbytes, (size_t)count * sizeof(float));
    for (int i = 0; i < count; i++) {
        double g = ((const float *)x->data)[i];
        ck_assert_msg(fabs(g - want[i]) <= tol * (1.0 + fabs(want[i])),
                      "%s[%d] is %.7g, expected %.7g", x->name, i, g, want[i]);
    }
}

/* T = -((A * B - B) / C) + A with A [2,3], B [3], C [2,1]; d sum(T) by hand. */
START_TEST(test_broadcast)
{
    static const float A[6] = {1, 2, 3, -1, 0.5f, 4}, B[3] = {2, -3, 0.5f}, C[2] = {2, -4};
    o2p_network *n = net_new(12);
    o2p_tensor *a = cfloat(n, "A", 2, D(2, 3), A, 6), *b = cfloat(n, "B", 1, D(3), B, 3),
               *c = cfloat(n, "C", 2, D(2, 1), C, 2);
    o2p_tensor *q = op(n, "Sub", 2, T(op(n, "Mul", 2, T(a, b)), b));
    o2p_tensor *t = op(n, "Add", 2, T(op(n, "Neg", 1, T(op(n, "Div", 2, T(q, c)))), a));
    o2p_tensor *y = op(n, "Identity", 1, T(t));
    o2p_tensor *d[3];
    gradient(n, y->name, 3, T(a, b, c), (const char *const[]){"A", "B", "C"}, d);
    evaluate(n);
    double dA[6], dB[3] = {0}, dC[2] = {0};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) {
            dA[i * 3 + j] = 1.0 - B[j] / C[i];
            dB[j] += -(A[i * 3 + j] - 1.0) / C[i];
            dC[i] += (A[i * 3 + j] * B[j] - B[j]) / ((double)C[i] * C[i]);
        }
    assert_values(d[0], dA, 6, 1e-5);
    assert_values(d[1], dB, 3, 1e-5);
    assert_values(d[2], dC, 2, 1e-5);
    o2p_network_destroy(n);
}
END_TEST

/* Y = Exp(Tanh(Sigmoid(H))) + Relu(H), H = X W with X [2,2,3] (batched), W [3,4]. */
static double forward(const double *X, const double *W)
{
    double s = 0;
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 4; j++) {
                double h = 0;
                for (int k = 0; k < 3; k++)
                    h += X[(b * 2 + i) * 3 + k] * W[k * 4 + j];
                s += exp(tanh(1.0 / (1.0 + exp(-h)))) + (h > 0 ? h : 0);
            }
    return s;
}

START_TEST(test_matmul_activations)
{
    float X[12], W[12];
    double Xd[12], Wd[12];
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 12; i++) {
        X[i] = (float)((double)(tu_rand(&state) % 2001) / 1000.0 - 1.0);
        W[i] = (float)((double)(tu_rand(&state) % 2001) / 1000.0 - 1.0);
        Xd[i] = X[i];
        Wd[i] = W[i];
    }
    o2p_network *n = net_new(17);
    o2p_tensor *x = cfloat(n, "X", 3, D(2, 2, 3), X, 12), *w = cfloat(n, "W", 2, D(3, 4), W, 12);
    o2p_tensor *h = op(n, "MatMul", 2, T(x, w));
    o2p_tensor *e = op(n, "Exp", 1, T(op(n, "Tanh", 1, T(op(n, "Sigmoid", 1, T(h))))));
    o2p_tensor *y = op(n, "Add", 2, T(e, op(n, "Relu", 1, T(h))));
    o2p_tensor *d[2];
    gradient(n, y->name, 2, T(x, w), (const char *const[]){"X", "W"}, d);
    evaluate(n);
    double want[2][12];
    const double eps = 1e-6;
    for (int v = 0; v < 2; v++)
        for (int i = 0; i < 12; i++) {
            double *p = v == 0 ? Xd : Wd, keep = p[i];
            p[i] = keep + eps;
            double up = forward(Xd, Wd);
            p[i] = keep - eps;
            double down = forward(Xd, Wd);
            p[i] = keep;
            want[v][i] = (up - down) / (2 * eps);
        }
    assert_values(d[0], want[0], 12, 1e-3);
    assert_values(d[1], want[1], 12, 1e-3);
    o2p_network_destroy(n);
}
END_TEST

/* An x that y does not depend on gets zeros; y itself as an x gets ones. */
START_TEST(test_unrelated)
{
    static const float A[2] = {1, 2}, B[3] = {3, 4, 5};
    o2p_network *n = net_new(13);
    o2p_tensor *a = cfloat(n, "A", 1, D(2), A, 2), *b = cfloat(n, "B", 1, D(3), B, 3);
    o2p_tensor *y = op(n, "Exp", 1, T(a));
    o2p_tensor *d[2];
    gradient(n, y->name, 2, T(b, y), (const char *const[]){"B", y->name}, d);
    evaluate(n);
    assert_values(d[0], (const double[]){0, 0, 0}, 3, 0);
    assert_values(d[1], (const double[]){1, 1}, 2, 0);
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_refused)
{
    static const float A[4] = {1, 2, 3, 4};
    o2p_network *n = net_new(13);
    o2p_tensor *a = cfloat(n, "A", 2, D(2, 2), A, 4);
    o2p_tensor *s = op(n, "Softmax", 1, T(op(n, "Neg", 1, T(a))));
    o2p_tensor *d[1];
    gradient(n, s->name, 1, T(a), (const char *const[]){"A"}, d);
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    int expanded = 0;
    TU_ASSERT_STATUS(pass_expand_gradients(n, &expanded), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("Softmax");
    TU_ASSERT_ERROR_HAS("grad");
    o2p_network_destroy(n);

    /* y names no tensor */
    n = net_new(13);
    a = cfloat(n, "A", 2, D(2, 2), A, 4);
    gradient(n, "nowhere", 1, T(a), (const char *const[]){"A"}, d);
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    TU_ASSERT_STATUS(pass_expand_gradients(n, &expanded), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("nowhere");
    o2p_network_destroy(n);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gradient");
    TCase *tc = tcase_create("gradient");
    tcase_add_test(tc, test_broadcast);
    tcase_add_test(tc, test_matmul_activations);
    tcase_add_test(tc, test_unrelated);
    tcase_add_test(tc, test_refused);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
