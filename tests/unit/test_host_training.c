/* test_host_training.c: the host kernels of training: the ai.onnx.preview.training optimizers
 * (kernels/host/training.c: Adagrad with decay, Adam with bias correction and
 * norm_coefficient_post, Momentum standard and Nesterov, several tensors per call, left-out
 * outputs), BatchNormalization in training mode (kernels/host/nn_norm.c) and training-mode
 * Dropout (kernels/host/elementwise.c: the counter-based stream the CUDA kernel shares), on
 * hand-computed values; the refusals; and the domain lookups (host_kernel_lookup). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_kernels.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define F64 O2P_DTYPE_DOUBLE
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define BOOL O2P_DTYPE_BOOL
#define D(...) ((const int64_t[]){__VA_ARGS__})
#define V(...) ((const double[]){__VA_ARGS__})

static int64_t numel_of(const host_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

/* A tensor of dtype t and shape (rank, dims), its first values from v (NULL: zeros). */
static host_tensor *tensor(o2p_dtype t, int rank, const int64_t *dims, const double *v)
{
    host_tensor *x = calloc(1, sizeof *x);
    ck_assert_ptr_nonnull(x);
    x->dtype = t;
    x->rank = rank;
    for (int i = 0; i < rank; i++)
        x->dims[i] = dims[i];
    x->data = calloc((size_t)numel_of(x) + 1, o2p_dtype_size(t));
    ck_assert_ptr_nonnull(x->data);
    for (int64_t i = 0; v && i < numel_of(x); i++)
        host_set_f64(x, i, v[i]);
    return x;
}

static host_tensor *vec(o2p_dtype t, int n, const double *v)
{
    return tensor(t, 1, D(n), v);
}

static host_tensor *scalar(o2p_dtype t, double v)
{
    return tensor(t, 0, NULL, V(v));
}

typedef struct call {
    const char *op;
    int64_t opset;
    int nin, nout;
    const host_tensor *in[12];
    host_tensor *out[8];
    host_attr attrs[8];
    int nattr;
} call;

static void call_init(call *c, const char *op, int64_t opset)
{
    memset(c, 0, sizeof *c);
    c->op = op;
    c->opset = opset;
}

static void add_in(call *c, host_tensor *t)
{
    c->in[c->nin++] = t;
}

static void add_out(call *c, host_tensor *t)
{
    c->out[c->nout++] = t;
}

static host_attr *attr(call *c, const char *name, o2p_attr_type type)
{
    host_attr *a = &c->attrs[c->nattr++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = type;
    return a;
}

static void attr_float(call *c, const char *name, float v)
{
    attr(c, name, O2P_ATTR_FLOAT)->f = v;
}

static void attr_int(call *c, const char *name, int64_t v)
{
    attr(c, name, O2P_ATTR_INT)->i = v;
}

static void attr_string(call *c, const char *name, const char *v)
{
    attr(c, name, O2P_ATTR_STRING)->s = v;
}

/* Runs c.op through the kernel of its domain. */
static o2p_status call_run(call *c, const char *domain)
{
    const host_kernel_entry *e = host_kernel_lookup(domain, c->op);
    ck_assert_msg(e != NULL, "no host kernel for %s.%s", domain, c->op);
    host_kernel_args a = {c->op, "t", c->opset, c->nin, c->in, c->nout, c->out, c->nattr, c->attrs};
    return e->run(&a);
}

static void call_free(call *c)
{
    for (int i = 0; i < c->nin; i++)
        if (c->in[i]) {
            free(c->in[i]->data);
            free((host_tensor *)c->in[i]);
        }
    for (int i = 0; i < c->nout; i++)
        if (c->out[i]) {
            free(c->out[i]->data);
            free(c->out[i]);
        }
}

static void assert_close(const host_tensor *got, const double *want, double tol, const char *what)
{
    for (int64_t i = 0; i < numel_of(got); i++) {
        double g = host_get_f64(got, i), w = want[i];
        ck_assert_msg(fabs(g - w) <= tol * (1.0 + fabs(w)),
                      "%s: element %lld is %.9g, expected %.9g", what, (long long)i, g, w);
    }
}

static void assert_refused(o2p_status st, o2p_status want, const char *needle)
{
    ck_assert_int_eq(st, want);
    ck_assert_msg(strstr(o2p_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  o2p_last_error(), needle);
}

/* ---------------------------------------------------------------- domains */

START_TEST(test_domains)
{
    ck_assert_str_eq(host_kernel_domain(NULL), "");
    ck_assert_str_eq(host_kernel_domain(""), "");
    ck_assert_str_eq(host_kernel_domain("ai.onnx"), "");
    ck_assert_str_eq(host_kernel_domain("ai.onnx.preview.training"), HOST_DOMAIN_TRAINING);
    ck_assert_ptr_null(host_kernel_domain("com.example"));
    ck_assert_ptr_null(host_kernel_domain("ai.onnx.ml"));
    static const char *const ops[] = {"Adagrad", "Adam", "Momentum"};
    for (int i = 0; i < 3; i++) {
        ck_assert_ptr_nonnull(host_kernel_lookup(HOST_DOMAIN_TRAINING, ops[i]));
        ck_assert_ptr_nonnull(host_kernel_find(ops[i])); /* how a plan finds it */
        ck_assert_ptr_null(host_kernel_lookup("", ops[i]));
        ck_assert_ptr_null(host_kernel_lookup("com.example", ops[i]));
    }
    ck_assert_ptr_nonnull(host_kernel_lookup("", "Relu"));
    ck_assert_ptr_nonnull(host_kernel_lookup("ai.onnx", "Relu"));
    ck_assert_ptr_null(host_kernel_lookup(HOST_DOMAIN_TRAINING, "Relu"));
    ck_assert_ptr_null(host_kernel_lookup("com.example", "Relu"));
    /* a plan names a layer's op by type alone: types are unique across the domains */
    for (int i = 0; i < host_kernel_count(); i++)
        for (int j = i + 1; j < host_kernel_count(); j++)
            ck_assert_msg(strcmp(host_kernel_at(i)->op_type, host_kernel_at(j)->op_type) != 0,
                          "op type %s has two host kernels", host_kernel_at(i)->op_type);
}
END_TEST

/* ---------------------------------------------------------------- optimizers */

START_TEST(test_adagrad)
{
    /* two tensors, decay: rate 0.1 / (1 + 2 * 0.5) */
    call c;
    call_init(&c, "Adagrad", 1);
    add_in(&c, scalar(F32, 0.1));
    add_in(&c, scalar(I64, 2));
    add_in(&c, vec(F32, 1, V(1.0)));
    add_in(&c, vec(F32, 2, V(1.0, 2.0)));
    add_in(&c, vec(F32, 1, V(-1.0)));
    add_in(&c, vec(F32, 2, V(-1.0, -3.0)));
    add_in(&c, vec(F32, 1, V(2.0)));
    add_in(&c, vec(F32, 2, V(4.0, 1.0)));
    add_out(&c, vec(F32, 1, NULL));
    add_out(&c, vec(F32, 2, NULL));
    add_out(&c, vec(F32, 1, NULL));
    add_out(&c, vec(F32, 2, NULL));
    attr_float(&c, "norm_coefficient", 0.001f);
    attr_float(&c, "epsilon", 1e-5f);
    attr_float(&c, "decay_factor", 0.5f);
    TU_ASSERT_STATUS(call_run(&c, HOST_DOMAIN_TRAINING), O2P_OK);
    assert_close(c.out[0], V(1.02884809), 1e-6, "X1_new");
    assert_close(c.out[1], V(1.02234269, 2.04743085), 1e-6, "X2_new");
    assert_close(c.out[2], V(2.998001), 1e-6, "H1_new");
    assert_close(c.out[3], V(4.998001, 9.988004), 1e-6, "H2_new");
    call_free(&c);
}
END_TEST

START_TEST(test_adam)
{
    /* double tensors, T = 3 (bias correction), norm_coefficient_post, V_new left out */
    call c;
    call_init(&c, "Adam", 1);
    add_in(&c, scalar(F64, 0.05));
    add_in(&c, scalar(I64, 3));
    add_in(&c, vec(F64, 2, V(1.2, -0.5)));
    add_in(&c, vec(F64, 2, V(0.3, -1.0)));
    add_in(&c, vec(F64, 2, V(0.1, 0.2)));
    add_in(&c, vec(F64, 2, V(0.01, 0.5)));
    add_out(&c, vec(F64, 2, NULL));
    c.out[c.nout++] = NULL;
    add_out(&c, vec(F64, 2, NULL));
    attr_float(&c, "alpha", 0.9f);
    attr_float(&c, "beta", 0.99f);
    attr_float(&c, "epsilon", 1e-4f);
    attr_float(&c, "norm_coefficient", 0.01f);
    attr_float(&c, "norm_coefficient_post", 0.1f);
    TU_ASSERT_STATUS(call_run(&c, HOST_DOMAIN_TRAINING), O2P_OK);
    assert_close(c.out[0], V(1.04676992128, -0.45320070345), 1e-9, "X_new");
    assert_close(c.out[2], V(0.0108734391653, 0.505100245134), 1e-9, "H_new");
    call_free(&c);

    /* T = 0: no bias correction; the defaults alpha 0.9, beta 0.999, epsilon 1e-6 */
    call_init(&c, "Adam", 1);
    add_in(&c, scalar(F32, 0.1));
    add_in(&c, scalar(I64, 0));
    add_in(&c, vec(F32, 1, V(1.0)));
    add_in(&c, vec(F32, 1, V(0.5)));
    add_in(&c, vec(F32, 1, V(0.0)));
    add_in(&c, vec(F32, 1, V(0.0)));
    add_out(&c, vec(F32, 1, NULL));
    add_out(&c, vec(F32, 1, NULL));
    TU_ASSERT_STATUS(call_run(&c, HOST_DOMAIN_TRAINING), O2P_OK);
    /* v = 0.05, h = 0.00025, x = 1 - 0.1 * 0.05 / (sqrt(0.00025) + 1e-6) */
    double v = 0.1 * 0.5, h = (1.0 - (double)0.999f) * 0.25;
    assert_close(c.out[0], V(1.0 - 0.1 * v / (sqrt(h) + (double)1e-6f)), 1e-6, "X_new");
    assert_close(c.out[1], V(v), 1e-6, "V_new");
    call_free(&c);
}
END_TEST

START_TEST(test_momentum)
{
    for (int nesterov = 0; nesterov < 2; nesterov++) {
        call c;
        call_init(&c, "Momentum", 1);
        add_in(&c, scalar(F32, 0.1));
        add_in(&c, scalar(I64, nesterov ? 5 : 0)); /* T = 0: the gradient's coefficient is 1 */
        add_in(&c, vec(F32, 2, V(1.0, 2.0)));
        add_in(&c, vec(F32, 2, V(0.5, -0.5)));
        add_in(&c, vec(F32, 2, V(0.2, 0.1)));
        add_out(&c, vec(F32, 2, NULL));
        add_out(&c, vec(F32, 2, NULL));
        attr_float(&c, "alpha", 0.9f);
        attr_float(&c, "beta", 0.5f);
        attr_float(&c, "norm_coefficient", 0.01f);
        attr_string(&c, "mode", nesterov ? "nesterov" : "standard");
        TU_ASSERT_STATUS(call_run(&c, HOST_DOMAIN_TRAINING), O2P_OK);
        if (nesterov) {
            assert_close(c.out[0], V(0.90985, 2.0615), 1e-6, "X_new (nesterov)");
            assert_close(c.out[1], V(0.434999995, -0.150000003), 1e-6, "V_new (nesterov)");
        } else {
            assert_close(c.out[0], V(0.930999999, 2.039), 1e-6, "X_new");
            assert_close(c.out[1], V(0.689999995, -0.390000003), 1e-6, "V_new");
        }
        call_free(&c);
    }
}
END_TEST

START_TEST(test_optimizer_refusals)
{
    call c;
    /* Momentum's attributes are required; mode is standard or nesterov */
    const char *const missing[] = {"mode", "alpha", "norm_coefficient"};
    for (int m = 0; m < 4; m++) {
        call_init(&c, "Momentum", 1);
        add_in(&c, scalar(F32, 0.1));
        add_in(&c, scalar(I64, 1));
        add_in(&c, vec(F32, 1, V(1.0)));
        add_in(&c, vec(F32, 1, V(1.0)));
        add_in(&c, vec(F32, 1, V(1.0)));
        add_out(&c, vec(F32, 1, NULL));
        if (m != 1)
            attr_float(&c, "alpha", 0.9f);
        attr_float(&c, "beta", 0.5f);
        if (m != 2)
            attr_float(&c, "norm_coefficient", 0.0f);
        if (m != 0)
            attr_string(&c, "mode", m == 3 ? "heavy-ball" : "standard");
        if (m < 3)
            assert_refused(call_run(&c, HOST_DOMAIN_TRAINING), O2P_ERR_SHAPE, missing[m]);
        else
            assert_refused(call_run(&c, HOST_DOMAIN_TRAINING), O2P_ERR_SHAPE, "heavy-ball");
        call_free(&c);
    }
    /* inputs not in groups of X, G, H */
    call_init(&c, "Adagrad", 1);
    add_in(&c, scalar(F32, 0.1));
    add_in(&c, scalar(I64, 1));
    add_in(&c, vec(F32, 1, V(1.0)));
    add_in(&c, vec(F32, 1, V(1.0)));
    add_out(&c, vec(F32, 1, NULL));
    assert_refused(call_run(&c, HOST_DOMAIN_TRAINING), O2P_ERR_SHAPE, "4 inputs");
    call_free(&c);
    /* G of another shape than X; an int32 X; a float T */
    for (int k = 0; k < 3; k++) {
        call_init(&c, "Adagrad", 1);
        add_in(&c, scalar(F32, 0.1));
        add_in(&c, scalar(k == 2 ? F32 : I64, 1));
        add_in(&c, vec(k == 1 ? I32 : F32, 2, V(1.0, 2.0)));
        add_in(&c, vec(F32, k == 0 ? 3 : 2, V(1.0, 2.0, 3.0)));
        add_in(&c, vec(F32, 2, V(1.0, 2.0)));
        add_out(&c, vec(F32, 2, NULL));
        o2p_status st = call_run(&c, HOST_DOMAIN_TRAINING);
        if (k == 0)
            assert_refused(st, O2P_ERR_SHAPE, "type and shape of input 2");
        else
            ck_assert_int_eq(st, O2P_ERR_UNSUPPORTED);
        call_free(&c);
    }
    /* more outputs than the groups give */
    call_init(&c, "Adagrad", 1);
    add_in(&c, scalar(F32, 0.1));
    add_in(&c, scalar(I64, 1));
    for (int i = 0; i < 3; i++)
        add_in(&c, vec(F32, 1, V(1.0)));
    for (int i = 0; i < 3; i++)
        add_out(&c, vec(F32, 1, NULL));
    assert_refused(call_run(&c, HOST_DOMAIN_TRAINING), O2P_ERR_SHAPE, "at most 2");
    call_free(&c);
}
END_TEST

/* ---------------------------------------------------------------- BatchNormalization */

START_TEST(test_batchnorm_training)
{
    call c;
    call_init(&c, "BatchNormalization", 15);
    add_in(&c, tensor(F32, 3, D(2, 2, 2), V(1.0, 2.0, 3.0, -1.0, 0.5, -2.0, 4.0, 0.0)));
    add_in(&c, vec(F32, 2, V(1.0, 2.0)));
    add_in(&c, vec(F32, 2, V(0.0, 1.0)));
    add_in(&c, vec(F64, 2, V(0.5, -1.0))); /* opset 15: the statistics may be of another type */
    add_in(&c, vec(F64, 2, V(1.0, 2.0)));
    add_out(&c, tensor(F32, 3, D(2, 2, 2), NULL));
    add_out(&c, vec(F64, 2, NULL));
    add_out(&c, vec(F64, 2, NULL));
    attr_int(&c, "training_mode", 1);
    attr_float(&c, "momentum", 0.8f);
    attr_float(&c, "epsilon", 1e-5f);
    TU_ASSERT_STATUS(call_run(&c, ""), O2P_OK);
    assert_close(c.out[0],
                 V(0.424093489, 1.10264307, 2.45521204, -1.4253534, 0.0848186977, -1.61155526,
                   3.4253534, -0.455212038),
                 1e-6, "Y");
    assert_close(c.out[1], V(0.475000001, -0.50000003), 1e-6, "running_mean");
    assert_close(c.out[2], V(1.23437499, 2.44999997), 1e-6, "running_var");
    call_free(&c);

    /* inference (training_mode 0) passes the statistics through and normalizes with them */
    call_init(&c, "BatchNormalization", 15);
    add_in(&c, tensor(F32, 3, D(1, 2, 1), V(1.5, 1.0)));
    add_in(&c, vec(F32, 2, V(1.0, 1.0)));
    add_in(&c, vec(F32, 2, V(0.0, 0.0)));
    add_in(&c, vec(F32, 2, V(0.5, -1.0)));
    add_in(&c, vec(F32, 2, V(1.0, 4.0)));
    add_out(&c, tensor(F32, 3, D(1, 2, 1), NULL));
    add_out(&c, vec(F32, 2, NULL));
    attr_float(&c, "epsilon", 0.0f);
    TU_ASSERT_STATUS(call_run(&c, ""), O2P_OK);
    assert_close(c.out[0], V(1.0, 1.0), 1e-6, "Y (inference)");
    assert_close(c.out[1], V(0.5, -1.0), 0, "running_mean (inference)");
    call_free(&c);

    /* before opset 14 the statistics outputs (training) are refused */
    call_init(&c, "BatchNormalization", 9);
    add_in(&c, tensor(F32, 3, D(1, 2, 1), V(1.5, 1.0)));
    for (int i = 0; i < 4; i++)
        add_in(&c, vec(F32, 2, V(1.0, 1.0)));
    add_out(&c, tensor(F32, 3, D(1, 2, 1), NULL));
    add_out(&c, vec(F32, 2, NULL));
    assert_refused(call_run(&c, ""), O2P_ERR_UNSUPPORTED, "before opset 14");
    call_free(&c);
}
END_TEST

/* ---------------------------------------------------------------- Dropout */

START_TEST(test_dropout_training)
{
    int64_t n = 4000;
    double ratio = 0.3;
    host_tensor *x = tensor(F32, 2, D(40, 100), NULL);
    for (int64_t i = 0; i < n; i++)
        host_set_f64(x, i, 1.0 + (double)(i % 17) * 0.25);
    host_tensor *first = NULL;
    for (int run = 0; run < 2; run++) {
        call c;
        call_init(&c, "Dropout", 13);
        add_in(&c, x);
        add_in(&c, scalar(F32, ratio));
        add_in(&c, scalar(BOOL, 1));
        add_out(&c, tensor(F32, 2, D(40, 100), NULL));
        add_out(&c, tensor(BOOL, 2, D(40, 100), NULL));
        attr_int(&c, "seed", 42);
        TU_ASSERT_STATUS(call_run(&c, ""), O2P_OK);
        int64_t kept = 0;
        for (int64_t i = 0; i < n; i++) {
            int m = (int)host_get_i64(c.out[1], i);
            /* the stream the CUDA kernel draws from too (kernels/cuda/training.cu) */
            ck_assert_int_eq(m, host_rand_u01(host_mix64(42), (uint64_t)i) >= ratio);
            double want = m ? host_get_f64(x, i) / (1.0 - ratio) : 0.0;
            ck_assert_msg(fabs(host_get_f64(c.out[0], i) - want) <= 1e-5 * fabs(want),
                          "element %lld is %g, expected %g", (long long)i,
                          host_get_f64(c.out[0], i), want);
            kept += m;
        }
        ck_assert_msg(fabs((double)kept / (double)n - (1.0 - ratio)) < 0.03, "kept %lld of %lld",
                      (long long)kept, (long long)n);
        if (run == 0) {
            first = c.out[0];
            c.out[0] = NULL;
        } else {
            /* seeded: the same masks on every run */
            ck_assert_int_eq(memcmp(first->data, c.out[0]->data, (size_t)n * 4), 0);
        }
        c.in[0] = NULL; /* x is freed below */
        call_free(&c);
    }
    free(first->data);
    free(first);

    /* training_mode false, or ratio 0: the identity with an all-true mask */
    for (int k = 0; k < 2; k++) {
        call c;
        call_init(&c, "Dropout", 13);
        add_in(&c, x);
        add_in(&c, scalar(F32, k ? 0.0 : 0.5));
        add_in(&c, scalar(BOOL, k));
        add_out(&c, tensor(F32, 2, D(40, 100), NULL));
        add_out(&c, tensor(BOOL, 2, D(40, 100), NULL));
        TU_ASSERT_STATUS(call_run(&c, ""), O2P_OK);
        ck_assert_int_eq(memcmp(x->data, c.out[0]->data, (size_t)n * 4), 0);
        for (int64_t i = 0; i < n; i++)
            ck_assert_int_eq(host_get_i64(c.out[1], i), 1);
        c.in[0] = NULL;
        call_free(&c);
    }
    free(x->data);
    free(x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_training");
    TCase *tc = tcase_create("training");
    tcase_add_test(tc, test_domains);
    tcase_add_test(tc, test_adagrad);
    tcase_add_test(tc, test_adam);
    tcase_add_test(tc, test_momentum);
    tcase_add_test(tc, test_optimizer_refusals);
    tcase_add_test(tc, test_batchnorm_training);
    tcase_add_test(tc, test_dropout_training);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
