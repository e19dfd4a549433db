/* rnn.c: the recurrent host kernels LSTM, GRU and RNN (ONNX opsets 1-22): every direction,
 * the eleven activation functions with their alpha/beta, clip, sequence_lens, initial states,
 * peepholes, input_forget, linear_before_reset, layout 0/1 and the optional outputs. Float
 * types are computed in double (the reference the CUDA kernels are checked against). The
 * layer checks live in host_rnn_describe, which the CUDA lowering shares. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host/nn_internal.h"
#include "host/rnn_internal.h"

/* ---------------------------------------------------------------- activations */

typedef struct act_info {
    const char *name;
    int code;
    int uses_alpha, uses_beta;
    float alpha, beta; /* the defaults of the ONNX operators of the same name */
} act_info;

static const act_info acts[] = {
    {"Relu", HOST_RNN_RELU, 0, 0, 0.0f, 0.0f},
    {"Tanh", HOST_RNN_TANH, 0, 0, 0.0f, 0.0f},
    {"Sigmoid", HOST_RNN_SIGMOID, 0, 0, 0.0f, 0.0f},
    {"Affine", HOST_RNN_AFFINE, 1, 1, 1.0f, 0.0f},
    {"LeakyRelu", HOST_RNN_LEAKY_RELU, 1, 0, 0.01f, 0.0f},
    {"ThresholdedRelu", HOST_RNN_THRESHOLDED_RELU, 1, 0, 1.0f, 0.0f},
    {"ScaledTanh", HOST_RNN_SCALED_TANH, 1, 1, 1.0f, 1.0f},
    {"HardSigmoid", HOST_RNN_HARD_SIGMOID, 1, 1, 0.2f, 0.5f},
    {"Elu", HOST_RNN_ELU, 1, 0, 1.0f, 0.0f},
    {"Softsign", HOST_RNN_SOFTSIGN, 0, 0, 0.0f, 0.0f},
    {"Softplus", HOST_RNN_SOFTPLUS, 0, 0, 0.0f, 0.0f},
};
#define NUM_ACTS ((int)(sizeof acts / sizeof acts[0]))

double host_rnn_act(int act, double x, double alpha, double beta)
{
    switch (act) {
    case HOST_RNN_RELU: return x > 0 ? x : 0;
    case HOST_RNN_TANH: return tanh(x);
    case HOST_RNN_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case HOST_RNN_AFFINE: return alpha * x + beta;
    case HOST_RNN_LEAKY_RELU: return x >= 0 ? x : alpha * x;
    case HOST_RNN_THRESHOLDED_RELU: return x > alpha ? x : 0;
    case HOST_RNN_SCALED_TANH: return alpha * tanh(beta * x);
    case HOST_RNN_HARD_SIGMOID: {
        double v = alpha * x + beta;
        return v < 0 ? 0 : (v > 1 ? 1 : v);
    }
    case HOST_RNN_ELU: return x >= 0 ? x : alpha * (exp(x) - 1.0);
    case HOST_RNN_SOFTSIGN: return x / (1.0 + fabs(x));
    case HOST_RNN_SOFTPLUS: /* log(1 + e^x) without overflow */
        return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    default: return x;
    }
}

/* ---------------------------------------------------------------- checks */

static o2p_status check_tensor(const host_kernel_args *a, const host_tensor *t, int i,
                               const char *what, int need_data)
{
    int ok;
    if (t->rank < 0 || t->rank > HOST_MAX_RANK)
        return host_error(a, "input %d (%s) has rank %d, outside [0, %d]", i, what, t->rank,
                          HOST_MAX_RANK);
    int64_t n = host_numel(t, &ok), nonzero = 1;
    for (int k = 0; ok && k < t->rank; k++)
        if (t->dims[k] > 0 &&
            (__builtin_mul_overflow(nonzero, t->dims[k], &nonzero) || nonzero > INT64_MAX / 16))
            ok = 0;
    if (!ok || n > INT64_MAX / 16) {
        char s[256];
        return host_error(a, "input %d (%s) has invalid dims %s", i, what,
                          host_nn_shape_str(t, s, sizeof s));
    }
    if (need_data && n > 0 && !t->data)
        return host_error(a, "input %d (%s) has %lld elements but no data", i, what, (long long)n);
    return O2P_OK;
}

/* Input i: NULL when omitted or empty (ONNX writes an omitted input as an empty name, some
 * exporters as an empty tensor), else checked for its dims. */
static o2p_status rnn_input(const host_kernel_args *a, int i, const char *what, int need_data,
                            int rank, const int64_t *dims, const host_tensor **t)
{
    *t = host_in(a, i);
    if (!*t)
        return O2P_OK;
    O2P_TRY(check_tensor(a, *t, i, what, need_data));
    if (host_nn_numel(*t) == 0) {
        *t = NULL;
        return O2P_OK;
    }
    if (!host_same_shape(*t, rank, dims)) {
        char s1[256], s2[256];
        return host_error(a, "input %d (%s) has shape %s, expected %s", i, what,
                          host_nn_shape_str(*t, s1, sizeof s1),
                          host_nn_dims_str(rank, dims, s2, sizeof s2));
    }
    return O2P_OK;
}

/* Output i: NULL when omitted, else exactly this dtype and shape (with data when need_data
 * and it has elements). */
static o2p_status rnn_output(const host_kernel_args *a, int i, int need_data, o2p_dtype dtype,
                             int rank, const int64_t *dims, host_tensor **t)
{
    *t = host_out(a, i);
    if (!*t)
        return O2P_OK;
    char s1[256], s2[256];
    if ((*t)->dtype != dtype)
        return host_error(a, "output %d is %s, expected %s", i, o2p_dtype_name((*t)->dtype),
                          o2p_dtype_name(dtype));
    if (!host_same_shape(*t, rank, dims))
        return host_error(a, "output %d has shape %s, expected %s", i,
                          host_nn_shape_str(*t, s1, sizeof s1),
                          host_nn_dims_str(rank, dims, s2, sizeof s2));
    if (need_data && host_nn_numel(*t) > 0 && !(*t)->data)
        return host_error(a, "output %d has no data", i);
    return O2P_OK;
}

static o2p_status want_dtype(const host_kernel_args *a, const host_tensor *t, int i,
                             const char *what, o2p_dtype dtype)
{
    if (t && t->dtype != dtype)
        return host_error(a, "input %d (%s) is %s; X is %s", i, what, o2p_dtype_name(t->dtype),
                          o2p_dtype_name(dtype));
    return O2P_OK;
}

static o2p_status read_activations(const host_kernel_args *a, host_rnn_desc *d)
{
    static const int dflt[3][3] = {{HOST_RNN_TANH, 0, 0},                             /* RNN */
                                   {HOST_RNN_SIGMOID, HOST_RNN_TANH, 0},              /* GRU */
                                   {HOST_RNN_SIGMOID, HOST_RNN_TANH, HOST_RNN_TANH}}; /* LSTM */
    int n = 0, na = 0, nb = 0;
    const host_attr *names = host_attr_find(a, "activations");
    const float *alphas = host_attr_floats(a, "activation_alpha", &na);
    const float *betas = host_attr_floats(a, "activation_beta", &nb);
    if (names) {
        if (names->type != O2P_ATTR_STRINGS)
            return host_error(a, "attribute 'activations' must be a list of strings");
        n = names->count;
        /* one set per direction; a bidirectional layer may give one set for both */
        if (n != d->num_acts * d->num_dirs && !(d->num_dirs == 2 && n == d->num_acts))
            return host_error(a,
                              "attribute 'activations' has %d functions; %s with %d "
                              "direction(s) needs %d",
                              n, a->op_type, d->num_dirs, d->num_acts * d->num_dirs);
    }
    int ia = 0, ib = 0;
    for (int dir = 0; dir < d->num_dirs; dir++)
        for (int k = 0; k < d->num_acts; k++) {
            if (k == 0 && n == d->num_acts)
                ia = ib = 0; /* one set for both directions: its alpha/beta too */
            const act_info *info = NULL;
            if (n) {
                int idx = (n == d->num_acts ? 0 : dir * d->num_acts) + k;
                const char *s = names->strings ? names->strings[idx] : NULL;
                for (int f = 0; s && f < NUM_ACTS; f++)
                    if (strcasecmp(s, acts[f].name) == 0)
                        info = &acts[f];
                if (!info)
                    return host_error(a,
                                      "activation function '%s' is not one of the ONNX "
                                      "recurrent activations (Relu, Tanh, Sigmoid, Affine, "
                                      "LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, "
                                      "Elu, Softsign, Softplus)",
                                      s ? s : "");
            } else {
                info = &acts[dflt[d->kind][k]];
            }
            d->act[dir][k] = info->code;
            /* alpha and beta values are consumed in order by the functions that use them */
            d->alpha[dir][k] = info->alpha;
            d->beta[dir][k] = info->beta;
            if (info->uses_alpha && ia < na)
                d->alpha[dir][k] = alphas[ia++];
            if (info->uses_beta && ib < nb)
                d->beta[dir][k] = betas[ib++];
        }
    return O2P_OK;
}

o2p_status host_rnn_describe(const host_kernel_args *a, int need_data, host_rnn_desc *d)
{
    memset(d, 0, sizeof *d);
    const char *op = a->op_type ? a->op_type : "";
    if (strcmp(op, "LSTM") == 0) {
        d->kind = HOST_RNN_LSTM;
        d->gates = 4;
        d->num_acts = 3;
    } else if (strcmp(op, "GRU") == 0) {
        d->kind = HOST_RNN_GRU;
        d->gates = 3;
        d->num_acts = 2;
    } else if (strcmp(op, "RNN") == 0) {
        d->kind = HOST_RNN_SIMPLE;
        d->gates = 1;
        d->num_acts = 1;
    } else {
        return host_error(a, "not a recurrent layer (LSTM, GRU or RNN)");
    }
    int max_in = d->kind == HOST_RNN_LSTM ? 8 : 6, max_out = d->kind == HOST_RNN_LSTM ? 3 : 2;
    for (int i = max_in; i < a->num_inputs; i++)
        if (host_in(a, i))
            return host_error(a, "has input %d; %s takes at most %d inputs", i, op, max_in);
    for (int i = max_out; i < a->num_outputs; i++)
        if (host_out(a, i))
            return host_error(a, "has output %d; %s has at most %d outputs", i, op, max_out);

    const char *dir = host_attr_string(a, "direction", "forward");
    if (strcmp(dir, "forward") == 0 || strcmp(dir, "reverse") == 0) {
        d->num_dirs = 1;
        d->reverse[0] = dir[0] == 'r';
    } else if (strcmp(dir, "bidirectional") == 0) {
        d->num_dirs = 2;
        d->reverse[1] = 1;
    } else {
        return host_error(a, "direction '%s' is not forward, reverse or bidirectional", dir);
    }
    int64_t layout = a->opset >= 14 ? host_attr_int(a, "layout", 0) : 0;
    if (layout != 0 && layout != 1)
        return host_error(a, "layout %lld must be 0 or 1", (long long)layout);
    d->layout = (int)layout;
    if (host_attr_find(a, "clip")) {
        d->clip = host_attr_float(a, "clip", 0.0f);
        if (!(d->clip > 0.0f))
            return host_error(a, "clip %g must be a positive number", (double)d->clip);
        d->has_clip = 1;
    }
    int64_t v = d->kind == HOST_RNN_LSTM ? host_attr_int(a, "input_forget", 0) : 0;
    if (v != 0 && v != 1)
        return host_error(a, "input_forget %lld must be 0 or 1", (long long)v);
    d->input_forget = (int)v;
    v = d->kind == HOST_RNN_GRU ? host_attr_int(a, "linear_before_reset", 0) : 0;
    d->linear_before_reset = v != 0;
    O2P_TRY(read_activations(a, d));

    /* X, W, R: required, rank 3 */
    const char *names[3] = {"X", "W", "R"};
    const host_tensor *xwr[3];
    for (int i = 0; i < 3; i++) {
        xwr[i] = host_in(a, i);
        if (!xwr[i])
            return host_error(a, "input %d (%s) is missing", i, names[i]);
        O2P_TRY(check_tensor(a, xwr[i], i, names[i], need_data));
        if (xwr[i]->rank != 3) {
            char s[256];
            return host_error(a, "input %d (%s) must have rank 3, not %s", i, names[i],
                              host_nn_shape_str(xwr[i], s, sizeof s));
        }
    }
    d->x = xwr[0];
    d->w = xwr[1];
    d->r = xwr[2];
    d->dtype = d->x->dtype;
    if (d->dtype != O2P_DTYPE_FLOAT && d->dtype != O2P_DTYPE_FLOAT16 &&
        d->dtype != O2P_DTYPE_BFLOAT16 && d->dtype != O2P_DTYPE_DOUBLE)
        return host_unsupported_dtype(a, d->dtype);
    d->seq = d->x->dims[layout ? 1 : 0];
    d->batch = d->x->dims[layout ? 0 : 1];
    d->input = d->x->dims[2];
    d->hidden = d->r->dims[2];
    int64_t gh = d->gates * d->hidden, nd = d->num_dirs;
    if (d->hidden < 1)
        return host_error(a, "the hidden size (R's last dim) is %lld; it must be 1 or more",
                          (long long)d->hidden);
    const host_attr *hs = host_attr_find(a, "hidden_size");
    if (hs && hs->i != d->hidden)
        return host_error(a, "hidden_size %lld does not match R's last dim %lld", (long long)hs->i,
                          (long long)d->hidden);
    int64_t wd[3] = {nd, gh, d->input}, rd[3] = {nd, gh, d->hidden};
    for (int i = 1; i < 3; i++) {
        const int64_t *want = i == 1 ? wd : rd;
        if (!host_same_shape(xwr[i], 3, want)) {
            char s1[256], s2[256];
            return host_error(a,
                              "input %d (%s) has shape %s, expected %s (%lld direction(s), "
                              "%d gates of hidden size %lld)",
                              i, names[i], host_nn_shape_str(xwr[i], s1, sizeof s1),
                              host_nn_dims_str(3, want, s2, sizeof s2), (long long)nd, d->gates,
                              (long long)d->hidden);
        }
    }
    int64_t bd[2] = {nd, 2 * gh}, sd[1] = {d->batch}, pd[2] = {nd, 3 * d->hidden};
    int64_t hd[3] = {layout ? d->batch : nd, layout ? nd : d->batch, d->hidden};
    O2P_TRY(rnn_input(a, 3, "B", need_data, 2, bd, &d->b));
    O2P_TRY(rnn_input(a, 4, "sequence_lens", need_data, 1, sd, &d->seq_lens));
    O2P_TRY(rnn_input(a, 5, "initial_h", need_data, 3, hd, &d->h0));
    if (d->kind == HOST_RNN_LSTM) {
        O2P_TRY(rnn_input(a, 6, "initial_c", need_data, 3, hd, &d->c0));
        O2P_TRY(rnn_input(a, 7, "P", need_data, 2, pd, &d->p));
    }
    O2P_TRY(want_dtype(a, d->w, 1, "W", d->dtype));
    O2P_TRY(want_dtype(a, d->r, 2, "R", d->dtype));
    O2P_TRY(want_dtype(a, d->b, 3, "B", d->dtype));
    O2P_TRY(want_dtype(a, d->h0, 5, "initial_h", d->dtype));
    O2P_TRY(want_dtype(a, d->c0, 6, "initial_c", d->dtype));
    O2P_TRY(want_dtype(a, d->p, 7, "P", d->dtype));
    if (d->seq_lens && d->seq_lens->dtype != O2P_DTYPE_INT32 &&
        d->seq_lens->dtype != O2P_DTYPE_INT64)
        return host_error(a, "input 4 (sequence_lens) is %s; it must be int32",
                          o2p_dtype_name(d->seq_lens->dtype));

    int64_t yd[4];
    if (layout == 0) {
        yd[0] = d->seq, yd[1] = nd, yd[2] = d->batch;
        d->x_ts = d->batch * d->input, d->x_bs = d->input;
        d->y_ts = nd * d->batch * d->hidden, d->y_ds = d->batch * d->hidden, d->y_bs = d->hidden;
        d->s_ds = d->batch * d->hidden, d->s_bs = d->hidden;
    } else {
        yd[0] = d->batch, yd[1] = d->seq, yd[2] = nd;
        d->x_ts = d->input, d->x_bs = d->seq * d->input;
        d->y_ts = nd * d->hidden, d->y_ds = d->hidden, d->y_bs = d->seq * nd * d->hidden;
        d->s_ds = d->hidden, d->s_bs = nd * d->hidden;
    }
    yd[3] = d->hidden;
    O2P_TRY(rnn_output(a, 0, need_data, d->dtype, 4, yd, &d->y));
    O2P_TRY(rnn_output(a, 1, need_data, d->dtype, 3, hd, &d->yh));
    if (d->kind == HOST_RNN_LSTM)
        O2P_TRY(rnn_output(a, 2, need_data, d->dtype, 3, hd, &d->yc));
    return O2P_OK;
}

/* ---------------------------------------------------------------- the kernel */

/* t as doubles (malloc'ed; NULL with an error set when out of memory); an omitted t gives a
 * zeroed array of n. */
static double *stage(const host_kernel_args *a, const host_tensor *t, int64_t n)
{
    double *p = host_nn_alloc(a, n > 0 ? n : 1, sizeof(double));
    if (!p)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        p[i] = t ? host_get_f64(t, i) : 0.0;
    return p;
}

static double dot(const double *x, const double *y, int64_t n)
{
    double s = 0.0;
    for (int64_t k = 0; k < n; k++)
        s += x[k] * y[k];
    return s;
}

static double clip(const host_rnn_desc *d, double x)
{
    if (!d->has_clip)
        return x;
    return x < -d->clip ? -d->clip : (x > d->clip ? d->clip : x);
}

#define ACT(k, x) host_rnn_act(d->act[dir][k], (x), d->alpha[dir][k], d->beta[dir][k])

/* One direction of one batch element: the recurrence over its len time steps. */
static void run_sequence(const host_rnn_desc *d, int dir, int64_t bi, int64_t len, const double *x,
                         const double *w, const double *r, const double *bias, const double *p,
                         const double *h0, const double *c0, double *h, double *c, double *xg,
                         double *g, double *tmp)
{
    int64_t H = d->hidden, I = d->input, gh = d->gates * H;
    const double *wd = w + dir * gh * I, *rd = r + dir * gh * H;
    const double *wb = bias + dir * 2 * gh, *rb = wb + gh, *pd = p + dir * 3 * H;
    for (int64_t j = 0; j < H; j++) {
        h[j] = h0[dir * d->s_ds + bi * d->s_bs + j];
        c[j] = c0[dir * d->s_ds + bi * d->s_bs + j];
    }
    for (int64_t s = 0; s < len; s++) {
        int64_t t = d->reverse[dir] ? len - 1 - s : s;
        const double *xt = x + t * d->x_ts + bi * d->x_bs;
        for (int64_t row = 0; row < gh; row++)
            xg[row] = dot(xt, wd + row * I, I);
        /* the recurrent products: every row but GRU's h row (without linear_before_reset),
         * which multiplies r (.) H_{t-1} */
        int64_t rows = d->kind == HOST_RNN_GRU && !d->linear_before_reset ? 2 * H : gh;
        for (int64_t row = 0; row < rows; row++)
            g[row] = dot(h, rd + row * H, H);
        if (d->kind == HOST_RNN_SIMPLE) {
            for (int64_t j = 0; j < H; j++)
                h[j] = ACT(0, clip(d, xg[j] + wb[j] + rb[j] + g[j]));
        } else if (d->kind == HOST_RNN_GRU) {
            for (int64_t j = 0; j < H; j++) {
                double z = ACT(0, clip(d, xg[j] + wb[j] + rb[j] + g[j]));
                double rr = ACT(0, clip(d, xg[H + j] + wb[H + j] + rb[H + j] + g[H + j]));
                g[j] = z;
                g[H + j] = rr;
                tmp[j] = rr * h[j];
            }
            if (!d->linear_before_reset)
                for (int64_t j = 0; j < H; j++)
                    g[2 * H + j] = dot(tmp, rd + (2 * H + j) * H, H);
            for (int64_t j = 0; j < H; j++) {
                int64_t k = 2 * H + j;
                double pre = d->linear_before_reset ? xg[k] + wb[k] + g[H + j] * (g[k] + rb[k])
                                                    : xg[k] + wb[k] + rb[k] + g[k];
                double hh = ACT(1, clip(d, pre));
                h[j] = (1.0 - g[j]) * hh + g[j] * h[j];
            }
        } else {
            for (int64_t j = 0; j < H; j++) {
                int64_t ki = j, ko = H + j, kf = 2 * H + j, kc = 3 * H + j;
                double i = ACT(0, clip(d, xg[ki] + wb[ki] + rb[ki] + g[ki] + pd[j] * c[j]));
                double f =
                    d->input_forget
                        ? 1.0 - i
                        : ACT(0, clip(d, xg[kf] + wb[kf] + rb[kf] + g[kf] + pd[2 * H + j] * c[j]));
                double cc = ACT(1, clip(d, xg[kc] + wb[kc] + rb[kc] + g[kc]));
                double cn = f * c[j] + i * cc;
                double o = ACT(0, clip(d, xg[ko] + wb[ko] + rb[ko] + g[ko] + pd[H + j] * cn));
                c[j] = cn;
                h[j] = o * ACT(2, cn);
            }
        }
        if (d->y)
            for (int64_t j = 0; j < H; j++)
                host_set_f64(d->y, t * d->y_ts + dir * d->y_ds + bi * d->y_bs + j, h[j]);
    }
    /* steps past the sequence's end are 0 in Y; a sequence of length 0 leaves 0 states */
    if (d->y)
        for (int64_t t = len; t < d->seq; t++)
            for (int64_t j = 0; j < H; j++)
                host_set_f64(d->y, t * d->y_ts + dir * d->y_ds + bi * d->y_bs + j, 0.0);
    for (int64_t j = 0; j < H; j++) {
        int64_t o = dir * d->s_ds + bi * d->s_bs + j;
        if (d->yh)
            host_set_f64(d->yh, o, len > 0 ? h[j] : 0.0);
        if (d->yc)
            host_set_f64(d->yc, o, len > 0 ? c[j] : 0.0);
    }
}

static o2p_status run_rnn(const host_kernel_args *a)
{
    host_rnn_desc d;
    O2P_TRY(host_rnn_describe(a, 1, &d));
    if (d.batch == 0)
        return O2P_OK;
    int64_t *lens = host_nn_alloc(a, d.batch, sizeof(int64_t));
    if (!lens)
        return host_nn_oom(a);
    for (int64_t bi = 0; bi < d.batch; bi++) {
        lens[bi] = d.seq_lens ? host_get_i64(d.seq_lens, bi) : d.seq;
        if (lens[bi] < 0 || lens[bi] > d.seq) {
            long long v = (long long)lens[bi];
            free(lens);
            return host_error(a, "sequence_lens[%lld] is %lld, outside [0, %lld]", (long long)bi, v,
                              (long long)d.seq);
        }
    }
    int64_t nd = d.num_dirs, H = d.hidden, gh = d.gates * H;
    int64_t ns = nd * d.batch * H;
    double *x = stage(a, d.x, d.seq * d.batch * d.input);
    double *w = stage(a, d.w, nd * gh * d.input);
    double *r = stage(a, d.r, nd * gh * H);
    double *b = stage(a, d.b, nd * 2 * gh);
    double *p = stage(a, d.p, nd * 3 * H);
    double *h0 = stage(a, d.h0, ns);
    double *c0 = stage(a, d.c0, ns);
    double *work = host_nn_alloc(a, 3 * H + 2 * gh, sizeof(double));
    o2p_status st = O2P_OK;
    if (!x || !w || !r || !b || !p || !h0 || !c0 || !work) {
        st = host_nn_oom(a);
    } else {
        for (int dir = 0; dir < d.num_dirs; dir++)
            for (int64_t bi = 0; bi < d.batch; bi++)
                run_sequence(&d, dir, bi, lens[bi], x, w, r, b, p, h0, c0, work, work + H,
                             work + 2 * H, work + 2 * H + gh, work + 2 * H + 2 * gh);
    }
    free(lens);
    free(x);
    free(w);
    free(r);
    free(b);
    free(p);
    free(h0);
    free(c0);
    free(work);
    return st;
}

const host_kernel_entry host_rnn_kernels[] = {
    {"LSTM", run_rnn},
    {"GRU", run_rnn},
    {"RNN", run_rnn},
};
const int host_rnn_kernel_count = (int)(sizeof host_rnn_kernels / sizeof host_rnn_kernels[0]);
