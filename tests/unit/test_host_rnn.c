/* test_host_rnn.c: the recurrent host kernels (LSTM, GRU, RNN) called through
 * host_kernel_find: hand-computed cases (clip, reverse, linear_before_reset, peepholes with
 * input_forget), a randomized sweep against a naive reference written from the ONNX equations
 * (every direction, both layouts, all eleven activations with alpha/beta, clip, sequence
 * lengths including 0, initial states, peepholes, optional outputs, float16 and double), and
 * hostile calls that must fail with a message. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host/host_kernels.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define F16 O2P_DTYPE_FLOAT16
#define F64 O2P_DTYPE_DOUBLE
#define I32 O2P_DTYPE_INT32

static uint64_t rng = 0x243f6a8885a308d3ull;

static int rnd_int(int lo, int hi) /* [lo, hi] */
{
    return lo + (int)(tu_rand(&rng) % (uint64_t)(hi - lo + 1));
}

static double rnd_val(void)
{
    return (double)(tu_rand(&rng) % 2001) / 1000.0 - 1.0;
}

/* ---------------------------------------------------------------- tensors and calls */

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
    x->data = calloc((size_t)(n > 0 ? n : 1), o2p_dtype_size(t));
    ck_assert_ptr_nonnull(x->data);
    return x;
}

static int64_t numel(const host_tensor *t)
{
    int ok;
    return host_numel(t, &ok);
}

static void tensor_free(host_tensor *t)
{
    if (t) {
        free(t->data);
        free(t);
    }
}

typedef struct call {
    const char *op;
    int64_t opset;
    const host_tensor *in[8];
    host_tensor *out[3];
    host_attr attrs[12];
    int num_attrs;
} call;

static host_attr *add_attr(call *c, const char *name, o2p_attr_type type)
{
    host_attr *a = &c->attrs[c->num_attrs++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = type;
    return a;
}

static o2p_status run(call *c)
{
    host_kernel_fn fn = host_kernel_find(c->op);
    ck_assert_msg(fn != NULL, "no host kernel for %s", c->op);
    host_kernel_args a = {c->op, "r0", c->opset, 8, c->in, 3, c->out, c->num_attrs, c->attrs};
    return fn(&a);
}

/* A float tensor from values. */
static host_tensor *ft(int rank, const int64_t *dims, const double *v)
{
    host_tensor *t = tensor(F32, rank, dims);
    for (int64_t i = 0; i < numel(t); i++)
        host_set_f64(t, i, v[i]);
    return t;
}

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define V(...) ((const double[]){__VA_ARGS__})

static void assert_values(const host_tensor *t, const double *want, double tol)
{
    for (int64_t i = 0; i < numel(t); i++) {
        double v = host_get_f64(t, i);
        ck_assert_msg(fabs(v - want[i]) <= tol, "element %lld: %.9g, expected %.9g", (long long)i,
                      v, want[i]);
    }
}

static void call_free(call *c)
{
    for (int i = 0; i < 8; i++)
        tensor_free((host_tensor *)c->in[i]);
    for (int i = 0; i < 3; i++)
        tensor_free(c->out[i]);
}

/* ---------------------------------------------------------------- hand-computed */

/* RNN, H = I = 1, Relu: h1 = relu(0.5*1 + 0.3) = 0.8, h2 = relu(0.5*2 + 0.3 + 2*0.8) = 2.9;
 * reverse: t=1 first: 1.3, then t=0: 0.5 + 0.3 + 2*1.3 = 3.4; clip 1 bounds the second. */
START_TEST(test_rnn_hand)
{
    for (int mode = 0; mode < 3; mode++) {
        call c = {.op = "RNN", .opset = 7};
        c.in[0] = ft(3, D(2, 1, 1), V(1, 2));
        c.in[1] = ft(3, D(1, 1, 1), V(0.5));
        c.in[2] = ft(3, D(1, 1, 1), V(2));
        c.in[3] = ft(2, D(1, 2), V(0.1, 0.2));
        c.out[0] = tensor(F32, 4, D(2, 1, 1, 1));
        c.out[1] = tensor(F32, 3, D(1, 1, 1));
        static const char *const relu[] = {"Relu"};
        host_attr *a = add_attr(&c, "activations", O2P_ATTR_STRINGS);
        a->strings = relu;
        a->count = 1;
        if (mode == 1)
            add_attr(&c, "direction", O2P_ATTR_STRING)->s = "reverse";
        if (mode == 2)
            add_attr(&c, "clip", O2P_ATTR_FLOAT)->f = 1.0f;
        TU_ASSERT_STATUS(run(&c), O2P_OK);
        static const double y[3][2] = {{0.8, 2.9}, {3.4, 1.3}, {0.8, 1.0}};
        static const double yh[3] = {2.9, 3.4, 1.0};
        assert_values(c.out[0], y[mode], 1e-6);
        assert_values(c.out[1], &yh[mode], 1e-6);
        call_free(&c);
    }
}
END_TEST

/* GRU, H = I = 1, x = 1, W = [0, 0, 1], R = [0, 0, 1], Rbh = 1, h0 = 2: z = r = 0.5;
 * h~ = tanh(1 + 0.5*2*1 + 1) = tanh(3), or with linear_before_reset tanh(1 + 0.5*(2 + 1));
 * H = 0.5*h~ + 0.5*2. */
START_TEST(test_gru_hand)
{
    for (int lbr = 0; lbr < 2; lbr++) {
        call c = {.op = "GRU", .opset = 7};
        c.in[0] = ft(3, D(1, 1, 1), V(1));
        c.in[1] = ft(3, D(1, 3, 1), V(0, 0, 1));
        c.in[2] = ft(3, D(1, 3, 1), V(0, 0, 1));
        c.in[3] = ft(2, D(1, 6), V(0, 0, 0, 0, 0, 1));
        c.in[5] = ft(3, D(1, 1, 1), V(2));
        c.out[1] = tensor(F32, 3, D(1, 1, 1));
        add_attr(&c, "linear_before_reset", O2P_ATTR_INT)->i = lbr;
        TU_ASSERT_STATUS(run(&c), O2P_OK);
        double want = lbr ? 1.493307149075715 : 1.4975273768433652;
        assert_values(c.out[1], &want, 1e-6);
        call_free(&c);
    }
}
END_TEST

/* LSTM, H = I = 1, one step, x = 1, W = [0, 0, 0, 1] (i o f c), c0 = 1, P = [1, 1, 1]
 * (i o f), input_forget: i = sigmoid(1), f = 1 - i, C = f + i*tanh(1), o = sigmoid(C),
 * H = o*tanh(C). */
START_TEST(test_lstm_hand)
{
    call c = {.op = "LSTM", .opset = 7};
    c.in[0] = ft(3, D(1, 1, 1), V(1));
    c.in[1] = ft(3, D(1, 4, 1), V(0, 0, 0, 1));
    c.in[2] = ft(3, D(1, 4, 1), V(0, 0, 0, 0));
    c.in[6] = ft(3, D(1, 1, 1), V(1));
    c.in[7] = ft(2, D(1, 3), V(1, 1, 1));
    c.out[1] = tensor(F32, 3, D(1, 1, 1));
    c.out[2] = tensor(F32, 3, D(1, 1, 1));
    add_attr(&c, "input_forget", O2P_ATTR_INT)->i = 1;
    TU_ASSERT_STATUS(run(&c), O2P_OK);
    assert_values(c.out[1], V(0.471629090474751), 1e-6);
    assert_values(c.out[2], V(0.8257113625159348), 1e-6);
    call_free(&c);
}
END_TEST

/* ---------------------------------------------------------------- the reference */

typedef struct act_fn {
    const char *name;
    int uses_alpha, uses_beta;
} act_fn;

static const act_fn act_fns[] = {
    {"Relu", 0, 0},       {"Tanh", 0, 0},        {"Sigmoid", 0, 0},
    {"Affine", 1, 1},     {"LeakyRelu", 1, 0},   {"ThresholdedRelu", 1, 0},
    {"ScaledTanh", 1, 1}, {"HardSigmoid", 1, 1}, {"Elu", 1, 0},
    {"Softsign", 0, 0},   {"Softplus", 0, 0},
};

/* The ONNX definitions (docs/Operators.md, RNN). */
static double ref_act(const char *n, double x, double alpha, double beta)
{
    if (!strcasecmp(n, "Relu"))
        return x > 0 ? x : 0;
    if (!strcasecmp(n, "Tanh"))
        return tanh(x);
    if (!strcasecmp(n, "Sigmoid"))
        return 1 / (1 + exp(-x));
    if (!strcasecmp(n, "Affine"))
        return alpha * x + beta;
    if (!strcasecmp(n, "LeakyRelu"))
        return x >= 0 ? x : alpha * x;
    if (!strcasecmp(n, "ThresholdedRelu"))
        return x > alpha ? x : 0;
    if (!strcasecmp(n, "ScaledTanh"))
        return alpha * tanh(beta * x);
    if (!strcasecmp(n, "HardSigmoid"))
        return fmin(fmax(alpha * x + beta, 0), 1);
    if (!strcasecmp(n, "Elu"))
        return x >= 0 ? x : alpha * (exp(x) - 1);
    if (!strcasecmp(n, "Softsign"))
        return x / (1 + fabs(x));
    if (!strcasecmp(n, "Softplus"))
        return log(1 + exp(x));
    ck_abort_msg("unknown activation %s", n);
    return 0;
}

typedef struct cfg {
    const char *op;
    int gates, nacts;
    int64_t S, B, I, H;
    int dirs, reverse_only, layout;
    double clip; /* 0: none */
    int input_forget, lbr;
    const char *act[2][3];
    double alpha[2][3], beta[2][3];
    int64_t lens[8];
} cfg;

static double clipv(const cfg *g, double x)
{
    return g->clip > 0 ? fmin(fmax(x, -g->clip), g->clip) : x;
}

/* Everything in layout 0 and double: x[S][B][I], w[D][G*H][I], r[D][G*H][H], b[D][2GH],
 * h0/c0[D][B][H], p[D][3H]; writes y[S][D][B][H], yh/yc[D][B][H]. */
static void reference(const cfg *g, const double *x, const double *w, const double *r,
                      const double *b, const double *h0, const double *c0, const double *p,
                      double *y, double *yh, double *yc)
{
    int64_t S = g->S, B = g->B, I = g->I, H = g->H, GH = g->gates * H;
    double *hp = calloc((size_t)H, sizeof(double)), *cp = calloc((size_t)H, sizeof(double));
    double *gate = calloc((size_t)GH, sizeof(double)), *hn = calloc((size_t)H, sizeof(double));
    for (int d = 0; d < g->dirs; d++) {
        int rev = g->reverse_only || d == 1;
        const double *W = w + d * GH * I, *R = r + d * GH * H, *Wb = b + d * 2 * GH, *Rb = Wb + GH,
                     *P = p + d * 3 * H;
#define F(k, v) ref_act(g->act[d][k], (v), g->alpha[d][k], g->beta[d][k])
        for (int64_t bi = 0; bi < B; bi++) {
            int64_t len = g->lens[bi];
            for (int64_t j = 0; j < H; j++) {
                hp[j] = h0[(d * B + bi) * H + j];
                cp[j] = c0[(d * B + bi) * H + j];
            }
            for (int64_t t = 0; t < S; t++)
                for (int64_t j = 0; j < H; j++)
                    y[((t * g->dirs + d) * B + bi) * H + j] = 0;
            for (int64_t step = 0; step < len; step++) {
                int64_t t = rev ? len - 1 - step : step;
                const double *xt = x + (t * B + bi) * I;
                /* gate pre-activations: Xt*W^T + Wb + Rb + Ht-1*R^T (GRU's h row: below) */
                for (int64_t q = 0; q < GH; q++) {
                    double sx = 0, sh = 0;
                    for (int64_t k = 0; k < I; k++)
                        sx += xt[k] * W[q * I + k];
                    for (int64_t k = 0; k < H; k++)
                        sh += hp[k] * R[q * H + k];
                    gate[q] = sx + Wb[q] + Rb[q] + sh;
                }
                for (int64_t j = 0; j < H; j++) {
                    if (g->gates == 1) {
                        hn[j] = F(0, clipv(g, gate[j]));
                    } else if (g->gates == 3) {
                        /* r (.) H_{t-1} is elementwise over the hidden units: r of unit k */
                        double z = F(0, clipv(g, gate[j])), rr = F(0, clipv(g, gate[H + j]));
                        double xh = 0, rh = 0, rhr = 0;
                        for (int64_t k = 0; k < I; k++)
                            xh += xt[k] * W[(2 * H + j) * I + k];
                        for (int64_t k = 0; k < H; k++) {
                            double rk = F(0, clipv(g, gate[H + k]));
                            rh += rk * hp[k] * R[(2 * H + j) * H + k];
                            rhr += hp[k] * R[(2 * H + j) * H + k];
                        }
                        double pre = g->lbr ? xh + Wb[2 * H + j] + rr * (rhr + Rb[2 * H + j])
                                            : xh + Wb[2 * H + j] + Rb[2 * H + j] + rh;
                        hn[j] = (1 - z) * F(1, clipv(g, pre)) + z * hp[j];
                    } else {
                        double i = F(0, clipv(g, gate[j] + P[j] * cp[j]));
                        double f = g->input_forget
                                       ? 1 - i
                                       : F(0, clipv(g, gate[2 * H + j] + P[2 * H + j] * cp[j]));
                        double cc = F(1, clipv(g, gate[3 * H + j]));
                        double cn = f * cp[j] + i * cc;
                        double o = F(0, clipv(g, gate[H + j] + P[H + j] * cn));
                        hn[j] = o * F(2, cn);
                        gate[3 * H + j] = cn; /* the new cell, applied after the step */
                    }
                }
                for (int64_t j = 0; j < H; j++) {
                    hp[j] = hn[j];
                    if (g->gates == 4)
                        cp[j] = gate[3 * H + j];
                    y[((t * g->dirs + d) * B + bi) * H + j] = hn[j];
                }
            }
            for (int64_t j = 0; j < H; j++) {
                yh[(d * B + bi) * H + j] = len ? hp[j] : 0;
                yc[(d * B + bi) * H + j] = len ? cp[j] : 0;
            }
        }
#undef F
    }
    free(hp);
    free(cp);
    free(gate);
    free(hn);
}

static double *rnd_array(int64_t n)
{
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    ck_assert_ptr_nonnull(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = rnd_val();
    return v;
}

/* One random case: the kernel's outputs against the reference. */
static void sweep_case(int iter)
{
    static const char *const ops[3] = {"RNN", "GRU", "LSTM"};
    cfg g;
    memset(&g, 0, sizeof g);
    int kind = rnd_int(0, 2);
    g.op = ops[kind];
    g.gates = kind == 0 ? 1 : kind == 1 ? 3 : 4;
    g.nacts = kind + 1;
    g.S = rnd_int(0, 4);
    g.B = rnd_int(1, 3);
    g.I = rnd_int(1, 4);
    g.H = rnd_int(1, 5);
    int dmode = rnd_int(0, 2);
    g.dirs = dmode == 2 ? 2 : 1;
    g.reverse_only = dmode == 1;
    g.layout = rnd_int(0, 1);
    g.clip = rnd_int(0, 1) ? 0.5 + rnd_int(0, 3) * 0.5 : 0;
    g.input_forget = kind == 2 && rnd_int(0, 1);
    g.lbr = kind == 1 && rnd_int(0, 1);
    o2p_dtype dt = rnd_int(0, 5) == 0 ? F64 : (rnd_int(0, 5) == 0 ? F16 : F32);
    int has_b = rnd_int(0, 1), has_seq = rnd_int(0, 1), has_h0 = rnd_int(0, 1);
    int has_c0 = kind == 2 && rnd_int(0, 1), has_p = kind == 2 && rnd_int(0, 1);
    int custom_acts = rnd_int(0, 1);
    static const char *const dflt[3][3] = {
        {"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};

    /* activations: names and the alpha/beta lists consumed in order */
    const char *names[6];
    float alphas[6], betas[6];
    int na = 0, nb = 0;
    for (int d = 0; d < g.dirs; d++)
        for (int k = 0; k < g.nacts; k++) {
            const act_fn *f = NULL;
            if (custom_acts) {
                f = &act_fns[rnd_int(0, 10)];
                g.act[d][k] = f->name;
                names[d * g.nacts + k] = f->name;
            } else {
                g.act[d][k] = dflt[kind][k];
            }
            g.alpha[d][k] = g.beta[d][k] = 0;
            if (f && f->uses_alpha) {
                alphas[na] = (float)(0.1 * rnd_int(1, 9));
                g.alpha[d][k] = alphas[na++];
            }
            if (f && f->uses_beta) {
                betas[nb] = (float)(0.1 * rnd_int(1, 9));
                g.beta[d][k] = betas[nb++];
            }
        }

    int64_t S = g.S, B = g.B, I = g.I, H = g.H, GH = g.gates * H, ND = g.dirs;
    for (int64_t bi = 0; bi < B; bi++)
        g.lens[bi] = has_seq ? rnd_int(0, (int)S) : S;
    double *x = rnd_array(S * B * I), *w = rnd_array(ND * GH * I), *r = rnd_array(ND * GH * H);
    double *b = rnd_array(ND * 2 * GH), *h0 = rnd_array(ND * B * H), *c0 = rnd_array(ND * B * H);
    double *p = rnd_array(ND * 3 * H);
    if (!has_b)
        memset(b, 0, (size_t)(ND * 2 * GH) * sizeof(double));
    if (!has_h0)
        memset(h0, 0, (size_t)(ND * B * H) * sizeof(double));
    if (!has_c0)
        memset(c0, 0, (size_t)(ND * B * H) * sizeof(double));
    if (!has_p)
        memset(p, 0, (size_t)(ND * 3 * H) * sizeof(double));
    /* the tensors store dt-rounded values: the reference reads them back */
    call c = {.op = g.op, .opset = g.layout ? 14 : rnd_int(0, 1) ? 7 : 14};
    host_tensor *X = tensor(dt, 3, g.layout ? D(B, S, I) : D(S, B, I));
    for (int64_t t = 0; t < S; t++)
        for (int64_t bi = 0; bi < B; bi++)
            for (int64_t k = 0; k < I; k++) {
                int64_t o = g.layout ? (bi * S + t) * I + k : (t * B + bi) * I + k;
                host_set_f64(X, o, x[(t * B + bi) * I + k]);
                x[(t * B + bi) * I + k] = host_get_f64(X, o);
            }
    c.in[0] = X;
    host_tensor *Wt = tensor(dt, 3, D(ND, GH, I)), *Rt = tensor(dt, 3, D(ND, GH, H));
    for (int64_t i = 0; i < ND * GH * I; i++) {
        host_set_f64(Wt, i, w[i]);
        w[i] = host_get_f64(Wt, i);
    }
    for (int64_t i = 0; i < ND * GH * H; i++) {
        host_set_f64(Rt, i, r[i]);
        r[i] = host_get_f64(Rt, i);
    }
    c.in[1] = Wt;
    c.in[2] = Rt;
    if (has_b) {
        host_tensor *t = tensor(dt, 2, D(ND, 2 * GH));
        for (int64_t i = 0; i < ND * 2 * GH; i++) {
            host_set_f64(t, i, b[i]);
            b[i] = host_get_f64(t, i);
        }
        c.in[3] = t;
    }
    if (has_seq) {
        host_tensor *t = tensor(I32, 1, D(B));
        for (int64_t bi = 0; bi < B; bi++)
            host_set_i64(t, bi, g.lens[bi]);
        c.in[4] = t;
    }
    /* states: [D, B, H] in layout 0, [B, D, H] in layout 1 */
    double *states[2] = {h0, c0};
    int has_state[2] = {has_h0, has_c0};
    for (int s = 0; s < 2; s++) {
        if (!has_state[s])
            continue;
        host_tensor *t = tensor(dt, 3, g.layout ? D(B, ND, H) : D(ND, B, H));
        for (int64_t d = 0; d < ND; d++)
            for (int64_t bi = 0; bi < B; bi++)
                for (int64_t j = 0; j < H; j++) {
                    int64_t o = g.layout ? (bi * ND + d) * H + j : (d * B + bi) * H + j;
                    host_set_f64(t, o, states[s][(d * B + bi) * H + j]);
                    states[s][(d * B + bi) * H + j] = host_get_f64(t, o);
                }
        c.in[5 + s] = t;
    }
    if (has_p) {
        host_tensor *t = tensor(dt, 2, D(ND, 3 * H));
        for (int64_t i = 0; i < ND * 3 * H; i++) {
            host_set_f64(t, i, p[i]);
            p[i] = host_get_f64(t, i);
        }
        c.in[7] = t;
    }
    int want_y = rnd_int(0, 3) != 0, want_yh = !want_y || rnd_int(0, 1);
    int want_yc = kind == 2 && rnd_int(0, 1);
    if (want_y)
        c.out[0] = tensor(dt, 4, g.layout ? D(B, S, ND, H) : D(S, ND, B, H));
    if (want_yh)
        c.out[1] = tensor(dt, 3, g.layout ? D(B, ND, H) : D(ND, B, H));
    if (want_yc)
        c.out[2] = tensor(dt, 3, g.layout ? D(B, ND, H) : D(ND, B, H));

    const char *dirs[3] = {"forward", "reverse", "bidirectional"};
    if (dmode || rnd_int(0, 1))
        add_attr(&c, "direction", O2P_ATTR_STRING)->s = dirs[dmode];
    if (g.layout || c.opset >= 14)
        add_attr(&c, "layout", O2P_ATTR_INT)->i = g.layout;
    if (rnd_int(0, 1))
        add_attr(&c, "hidden_size", O2P_ATTR_INT)->i = H;
    if (g.clip > 0)
        add_attr(&c, "clip", O2P_ATTR_FLOAT)->f = (float)g.clip;
    if (kind == 2)
        add_attr(&c, "input_forget", O2P_ATTR_INT)->i = g.input_forget;
    if (kind == 1)
        add_attr(&c, "linear_before_reset", O2P_ATTR_INT)->i = g.lbr;
    if (custom_acts) {
        host_attr *a = add_attr(&c, "activations", O2P_ATTR_STRINGS);
        a->strings = names;
        a->count = g.dirs * g.nacts;
        a = add_attr(&c, "activation_alpha", O2P_ATTR_FLOATS);
        a->floats = alphas;
        a->count = na;
        a = add_attr(&c, "activation_beta", O2P_ATTR_FLOATS);
        a->floats = betas;
        a->count = nb;
    }
    o2p_status st = run(&c);
    ck_assert_msg(st == O2P_OK, "case %d (%s): %s", iter, g.op, o2p_last_error());

    double *y = calloc((size_t)(S * ND * B * H + 1), sizeof(double));
    double *yh = calloc((size_t)(ND * B * H), sizeof(double));
    double *yc = calloc((size_t)(ND * B * H), sizeof(double));
    reference(&g, x, w, r, b, h0, c0, p, y, yh, yc);
    double tol = dt == F16 ? 2e-2 : dt == F64 ? 1e-9 : 2e-5;
    for (int64_t d = 0; d < ND; d++)
        for (int64_t bi = 0; bi < B; bi++)
            for (int64_t j = 0; j < H; j++) {
                int64_t so = g.layout ? (bi * ND + d) * H + j : (d * B + bi) * H + j;
                int64_t ro = (d * B + bi) * H + j;
                for (int64_t t = 0; want_y && t < S; t++) {
                    int64_t yo = g.layout ? ((bi * S + t) * ND + d) * H + j
                                          : ((t * ND + d) * B + bi) * H + j;
                    double want = y[((t * ND + d) * B + bi) * H + j];
                    double got = host_get_f64(c.out[0], yo);
                    ck_assert_msg(fabs(got - want) <= tol * (1 + fabs(want)),
                                  "case %d (%s, dirs %d, layout %d): Y[t=%lld d=%lld b=%lld "
                                  "j=%lld] = %.9g, expected %.9g",
                                  iter, g.op, g.dirs, g.layout, (long long)t, (long long)d,
                                  (long long)bi, (long long)j, got, want);
                }
                if (want_yh) {
                    double got = host_get_f64(c.out[1], so);
                    ck_assert_msg(fabs(got - yh[ro]) <= tol * (1 + fabs(yh[ro])),
                                  "case %d (%s): Y_h = %.9g, expected %.9g", iter, g.op, got,
                                  yh[ro]);
                }
                if (want_yc) {
                    double got = host_get_f64(c.out[2], so);
                    ck_assert_msg(fabs(got - yc[ro]) <= tol * (1 + fabs(yc[ro])),
                                  "case %d (%s): Y_c = %.9g, expected %.9g", iter, g.op, got,
                                  yc[ro]);
                }
            }
    free(y);
    free(yh);
    free(yc);
    free(x);
    free(w);
    free(r);
    free(b);
    free(h0);
    free(c0);
    free(p);
    call_free(&c);
}

START_TEST(test_sweep)
{
    for (int i = 0; i < 1500; i++)
        sweep_case(i);
}
END_TEST

/* ---------------------------------------------------------------- hostile calls */

/* A valid GRU [S=2, B=2, I=2], H=2 with Y and Y_h. */
static void gru_base(call *c)
{
    memset(c, 0, sizeof *c);
    c->op = "GRU";
    c->opset = 14;
    c->in[0] = tensor(F32, 3, D(2, 2, 2));
    c->in[1] = tensor(F32, 3, D(1, 6, 2));
    c->in[2] = tensor(F32, 3, D(1, 6, 2));
    c->out[0] = tensor(F32, 4, D(2, 1, 2, 2));
    c->out[1] = tensor(F32, 3, D(1, 2, 2));
}

START_TEST(test_refusals)
{
    call c;
    gru_base(&c);
    TU_ASSERT_STATUS(run(&c), O2P_OK);
    call_free(&c);

    gru_base(&c);
    host_tensor *lens = tensor(I32, 1, D(2));
    host_set_i64(lens, 1, 3); /* longer than the sequence */
    c.in[4] = lens;
    TU_ASSERT_FAILS(run(&c));
    TU_ASSERT_ERROR_HAS("sequence_lens");
    call_free(&c);

    gru_base(&c);
    c.in[4] = tensor(O2P_DTYPE_FLOAT, 1, D(2)); /* float lengths */
    TU_ASSERT_FAILS(run(&c));
    TU_ASSERT_ERROR_HAS("sequence_lens");
    call_free(&c);

    gru_base(&c);
    free(((host_tensor *)c.in[2])->data);
    ((host_tensor *)c.in[2])->data = NULL; /* R without data */
    TU_ASSERT_FAILS(run(&c));
    TU_ASSERT_ERROR_HAS("R");
    call_free(&c);

    gru_base(&c);
    c.out[0]->dims[0] = 3; /* Y of the wrong length */
    TU_ASSERT_FAILS(run(&c));
    TU_ASSERT_ERROR_HAS("output 0");
    call_free(&c);

    gru_base(&c);
    c.out[1]->dtype = F64; /* Y_h of another type */
    TU_ASSERT_FAILS(run(&c));
    TU_ASSERT_ERROR_HAS("output 1");
    call_free(&c);

    gru_base(&c);
    c.in[5] = tensor(F32, 3, D(2, 1, 2)); /* initial_h in layout 1 form under layout 0 */
    TU_ASSERT_FAILS(run(&c));
    TU_ASSERT_ERROR_HAS("initial_h");
    call_free(&c);

    gru_base(&c);
    c.in[7] = tensor(F32, 2, D(1, 6)); /* GRU takes no P */
    TU_ASSERT_FAILS(run(&c));
    TU_ASSERT_ERROR_HAS("input 7");
    call_free(&c);

    gru_base(&c);
    tensor_free((host_tensor *)c.in[0]);
    c.in[0] = tensor(I32, 3, D(2, 2, 2));
    TU_ASSERT_STATUS(run(&c), O2P_ERR_UNSUPPORTED);
    call_free(&c);

    gru_base(&c);
    static const char *const two[] = {"Sigmoid", "Tanh"};
    host_attr *a = add_attr(&c, "activations", O2P_ATTR_STRINGS);
    a->strings = two;
    a->count = 2;
    add_attr(&c, "direction", O2P_ATTR_STRING)->s = "bidirectional"; /* W is for 1 direction */
    TU_ASSERT_FAILS(run(&c));
    TU_ASSERT_ERROR_HAS("direction");
    call_free(&c);

    /* a bidirectional layer may give one set of activations for both directions */
    memset(&c, 0, sizeof c);
    c.op = "RNN";
    c.opset = 7;
    c.in[0] = ft(3, D(1, 1, 1), V(1));
    c.in[1] = ft(3, D(2, 1, 1), V(1, 1));
    c.in[2] = ft(3, D(2, 1, 1), V(0, 0));
    c.out[1] = tensor(F32, 3, D(2, 1, 1));
    static const char *const relu[] = {"Affine"};
    static const float al[] = {2.0f}, be[] = {0.5f};
    a = add_attr(&c, "activations", O2P_ATTR_STRINGS);
    a->strings = relu;
    a->count = 1;
    a = add_attr(&c, "activation_alpha", O2P_ATTR_FLOATS);
    a->floats = al;
    a->count = 1;
    a = add_attr(&c, "activation_beta", O2P_ATTR_FLOATS);
    a->floats = be;
    a->count = 1;
    add_attr(&c, "direction", O2P_ATTR_STRING)->s = "bidirectional";
    TU_ASSERT_STATUS(run(&c), O2P_OK);
    assert_values(c.out[1], V(2.5, 2.5), 1e-6);
    call_free(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_rnn");
    TCase *tc = tcase_create("host_rnn");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_rnn_hand);
    tcase_add_test(tc, test_gru_hand);
    tcase_add_test(tc, test_lstm_hand);
    tcase_add_test(tc, test_sweep);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
