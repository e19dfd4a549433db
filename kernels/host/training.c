/* training.c: the optimizers of the ai.onnx.preview.training domain (opset 1): Adagrad, Adam
 * and Momentum. Each is a pure function of the learning rate R, the update count T and, per
 * optimized tensor, its value X, gradient G and state (Adagrad: H; Adam: V, H; Momentum: V):
 * inputs R, T, X1..Xn, G1..Gn, S1_1..S1_n[, S2_1..S2_n]; outputs X1_new..Xn_new, then the new
 * states in the same group order (trailing outputs may be left out). Computed in double. */
#include <math.h>
#include <string.h>

#include "host/host_kernels.h"

typedef enum opt_kind { OPT_ADAGRAD, OPT_ADAM, OPT_MOMENTUM } opt_kind;

/* Scalars one call uses for every element, from R, T and the attributes. */
typedef struct opt_scalars {
    opt_kind kind;
    double rate;    /* the learning rate as the update uses it (decayed / bias-corrected) */
    double norm;    /* norm_coefficient */
    double post;    /* Adam's norm_coefficient_post */
    double alpha;   /* Adam, Momentum */
    double beta;    /* Adam; Momentum's as adjusted for T (1 at T = 0) */
    double epsilon; /* Adagrad, Adam */
    int nesterov;   /* Momentum's mode */
} opt_scalars;

/* Tensors in a group per optimized tensor: X, G and the states. */
static int group_count(opt_kind k)
{
    return k == OPT_ADAM ? 4 : 3;
}

static int is_float_or_double(o2p_dtype t)
{
    return t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_DOUBLE;
}

/* A required FLOAT attribute (Momentum's are all required) or the default. */
static o2p_status attr_float(const host_kernel_args *a, const char *name, int required, double dflt,
                             double *out)
{
    const host_attr *at = host_attr_find(a, name);
    if (!at) {
        if (required)
            return host_error(a, "the attribute '%s' is required", name);
        *out = dflt;
        return O2P_OK;
    }
    if (at->type != O2P_ATTR_FLOAT)
        return host_error(a, "the attribute '%s' must be a float", name);
    *out = at->f;
    return O2P_OK;
}

/* One element: x and the states s1, s2 in, their new values out. */
static void opt_step(const opt_scalars *c, double x, double g, double s1, double s2, double *x_new,
                     double *s1_new, double *s2_new)
{
    double gr = c->norm * x + g;
    switch (c->kind) {
    case OPT_ADAGRAD: {
        double h = s1 + gr * gr;
        *x_new = x - c->rate * gr / (sqrt(h) + c->epsilon);
        *s1_new = h;
        *s2_new = 0.0;
        break;
    }
    case OPT_ADAM: {
        double v = c->alpha * s1 + (1.0 - c->alpha) * gr;
        double h = c->beta * s2 + (1.0 - c->beta) * gr * gr;
        *x_new = (1.0 - c->post) * (x - c->rate * (v / (sqrt(h) + c->epsilon)));
        *s1_new = v;
        *s2_new = h;
        break;
    }
    case OPT_MOMENTUM: {
        double v = c->alpha * s1 + c->beta * gr;
        *x_new = c->nesterov ? x - c->rate * (gr + c->alpha * v) : x - c->rate * v;
        *s1_new = v;
        *s2_new = 0.0;
        break;
    }
    }
}

/* The scalar input i (R: float or double; T: int64) with exactly one element. */
static o2p_status scalar_input(const host_kernel_args *a, int i, const char *what, int is_t,
                               double *out)
{
    const host_tensor *t = host_in(a, i);
    if (!t)
        return host_error(a, "input %d (%s) is missing", i, what);
    if (is_t ? t->dtype != O2P_DTYPE_INT64 : !is_float_or_double(t->dtype))
        return host_unsupported_dtype(a, t->dtype);
    int ok;
    if (host_numel(t, &ok) != 1 || t->rank > 1)
        return host_error(a, "input %d (%s) must be a scalar", i, what);
    *out = is_t ? (double)host_get_i64(t, 0) : host_get_f64(t, 0);
    return O2P_OK;
}

static o2p_status read_scalars(const host_kernel_args *a, opt_kind kind, opt_scalars *c)
{
    double r, t;
    memset(c, 0, sizeof *c);
    c->kind = kind;
    O2P_TRY(scalar_input(a, 0, "R", 0, &r));
    O2P_TRY(scalar_input(a, 1, "T", 1, &t));
    int momentum = kind == OPT_MOMENTUM;
    O2P_TRY(attr_float(a, "norm_coefficient", momentum, 0.0, &c->norm));
    if (kind == OPT_ADAGRAD) {
        double decay = 0.0;
        O2P_TRY(attr_float(a, "decay_factor", 0, 0.0, &decay));
        O2P_TRY(attr_float(a, "epsilon", 0, 1e-6f, &c->epsilon));
        c->rate = r / (1.0 + t * decay);
    } else if (kind == OPT_ADAM) {
        O2P_TRY(attr_float(a, "alpha", 0, 0.9f, &c->alpha));
        O2P_TRY(attr_float(a, "beta", 0, 0.999f, &c->beta));
        O2P_TRY(attr_float(a, "epsilon", 0, 1e-6f, &c->epsilon));
        O2P_TRY(attr_float(a, "norm_coefficient_post", 0, 0.0, &c->post));
        /* bias correction of both momentums from the first update on */
        c->rate = t > 0 ? r * sqrt(1.0 - pow(c->beta, t)) / (1.0 - pow(c->alpha, t)) : r;
    } else {
        O2P_TRY(attr_float(a, "alpha", 1, 0.0, &c->alpha));
        O2P_TRY(attr_float(a, "beta", 1, 0.0, &c->beta));
        const host_attr *m = host_attr_find(a, "mode");
        if (!m || m->type != O2P_ATTR_STRING || !m->s)
            return host_error(a, "the attribute 'mode' (\"standard\" or \"nesterov\") is "
                                 "required");
        if (strcmp(m->s, "nesterov") == 0)
            c->nesterov = 1;
        else if (strcmp(m->s, "standard") != 0)
            return host_error(a, "mode '%s' is neither \"standard\" nor \"nesterov\"", m->s);
        /* the gradient's coefficient is 1 at the first update */
        if (t <= 0)
            c->beta = 1.0;
        c->rate = r;
    }
    return O2P_OK;
}

/* The tensor count n of a call with k tensors per group: inputs 2 + k n, outputs at most
 * (k - 1) n. */
static o2p_status tensor_count(const host_kernel_args *a, int k, int *n)
{
    if (a->num_inputs < 2 + k || (a->num_inputs - 2) % k != 0)
        return host_error(a, "%d inputs; it takes R, T and %d tensors per optimized tensor",
                          a->num_inputs, k);
    *n = (a->num_inputs - 2) / k;
    if (a->num_outputs < 1 || a->num_outputs > (k - 1) * *n)
        return host_error(a, "%d outputs; %d optimized tensors give at most %d", a->num_outputs, *n,
                          (k - 1) * *n);
    return O2P_OK;
}

static o2p_status run_optimizer(const host_kernel_args *a, opt_kind kind)
{
    int k = group_count(kind), n;
    O2P_TRY(tensor_count(a, k, &n));
    opt_scalars c;
    O2P_TRY(read_scalars(a, kind, &c));
    for (int i = 0; i < n; i++) {
        /* in[0] X, in[1] G, in[2..] the states; out[0] X_new, out[1..] the new states */
        const host_tensor *in[4] = {NULL, NULL, NULL, NULL};
        host_tensor *out[3] = {NULL, NULL, NULL};
        for (int g = 0; g < k; g++) {
            in[g] = host_in(a, 2 + g * n + i);
            if (!in[g])
                return host_error(a, "input %d is missing", 2 + g * n + i);
            if (!is_float_or_double(in[g]->dtype))
                return host_unsupported_dtype(a, in[g]->dtype);
            if (in[g]->dtype != in[0]->dtype || !host_same_shape(in[g], in[0]->rank, in[0]->dims))
                return host_error(a,
                                  "input %d must have the type and shape of input %d (the "
                                  "optimized tensor)",
                                  2 + g * n + i, 2 + i);
        }
        for (int g = 0; g < k - 1; g++) {
            int j = g * n + i;
            out[g] = host_out(a, j);
            if (out[g] && (out[g]->dtype != in[0]->dtype ||
                           !host_same_shape(out[g], in[0]->rank, in[0]->dims)))
                return host_error(a, "output %d must have the type and shape of input %d", j,
                                  2 + i);
        }
        int ok;
        int64_t count = host_numel(in[0], &ok);
        if (!ok)
            return host_error(a, "input %d has an invalid shape", 2 + i);
        for (int64_t e = 0; e < count; e++) {
            double s1 = host_get_f64(in[2], e), s2 = k > 3 ? host_get_f64(in[3], e) : 0.0;
            double v[3];
            opt_step(&c, host_get_f64(in[0], e), host_get_f64(in[1], e), s1, s2, &v[0], &v[1],
                     &v[2]);
            for (int g = 0; g < k - 1; g++)
                if (out[g])
                    host_set_f64(out[g], e, v[g]);
        }
    }
    return O2P_OK;
}

static o2p_status host_adagrad(const host_kernel_args *a)
{
    return run_optimizer(a, OPT_ADAGRAD);
}

static o2p_status host_adam(const host_kernel_args *a)
{
    return run_optimizer(a, OPT_ADAM);
}

static o2p_status host_momentum(const host_kernel_args *a)
{
    return run_optimizer(a, OPT_MOMENTUM);
}

const host_kernel_entry host_training_kernels[] = {
    {"Adagrad", host_adagrad},
    {"Adam", host_adam},
    {"Momentum", host_momentum},
};

const int host_training_kernel_count =
    (int)(sizeof host_training_kernels / sizeof host_training_kernels[0]);
