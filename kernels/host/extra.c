/* extra.c: the "extra" family of host reference kernels: the training losses
 * (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss), Einsum, and the quantization ops
 * (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger, QLinearMatMul,
 * ConvInteger, QLinearConv). Straightforward loops: these ops are rare in inference models,
 * and these kernels are the oracle the CUDA family (kernels/cuda/extra.cu) is tested against,
 * so they say plainly what each output element is. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/nn_internal.h"

/* ---------------------------------------------------------------- shared */

static int is_int_target(o2p_dtype t)
{
    return t == O2P_DTYPE_INT32 || t == O2P_DTYPE_INT64;
}

/* The integer types a quantized tensor may have, with their saturation range. */
static int quant_range(o2p_dtype t, double *lo, double *hi)
{
    switch (t) {
    case O2P_DTYPE_UINT8:
        *lo = 0;
        *hi = 255;
        return 1;
    case O2P_DTYPE_INT8:
        *lo = -128;
        *hi = 127;
        return 1;
    case O2P_DTYPE_UINT16:
        *lo = 0;
        *hi = 65535;
        return 1;
    case O2P_DTYPE_INT16:
        *lo = -32768;
        *hi = 32767;
        return 1;
    default: return 0;
    }
}

/* A quantization parameter (scale or zero point) of `count` entries: one for the whole
 * tensor or one per index along the quantized axis. */
static o2p_status qparam_count(const host_kernel_args *a, const host_tensor *p, const char *what,
                               int64_t *count)
{
    if (p->rank > 1)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): %s has rank %d; blocked quantization is not supported",
                        a->layer_name ? a->layer_name : "", a->op_type, what, p->rank);
    *count = host_nn_numel(p);
    if (*count < 1)
        return host_error(a, "%s has no elements", what);
    return O2P_OK;
}

/* y = saturate(round_half_even(v) + zp) into [lo, hi]. */
static double quant_round(double v, double zp, double lo, double hi)
{
    double r = nearbyint(v) + zp;
    if (r != r)
        r = 0;
    return r < lo ? lo : (r > hi ? hi : r);
}

/* ---------------------------------------------------------------- losses */

typedef struct loss_geom {
    int64_t n, c, d; /* input [N, C, D...] viewed as N x C x D */
    int reduction;   /* 0 none, 1 sum, 2 mean */
    int has_ignore;
    int64_t ignore_index;
} loss_geom;

static o2p_status loss_setup(const host_kernel_args *a, const host_tensor **X,
                             const host_tensor **T, const host_tensor **W, loss_geom *g)
{
    O2P_TRY(host_nn_input(a, 0, "input", X));
    O2P_TRY(host_nn_input(a, 1, "target", T));
    O2P_TRY(host_nn_input_opt(a, 2, "weight", 0, W));
    if (!host_nn_is_float((*X)->dtype))
        return host_unsupported_dtype(a, (*X)->dtype);
    if (!is_int_target((*T)->dtype))
        return host_unsupported_dtype(a, (*T)->dtype);
    if ((*X)->rank < 2)
        return host_error(a, "input must have rank >= 2 (N x C x ...), not %d", (*X)->rank);
    if ((*T)->rank != (*X)->rank - 1)
        return host_error(a, "target has rank %d, expected %d", (*T)->rank, (*X)->rank - 1);
    if ((*T)->dims[0] != (*X)->dims[0])
        return host_error(a, "target's dim 0 (%lld) differs from the input's (%lld)",
                          (long long)(*T)->dims[0], (long long)(*X)->dims[0]);
    for (int i = 2; i < (*X)->rank; i++)
        if ((*T)->dims[i - 1] != (*X)->dims[i])
            return host_error(a, "target's dim %d (%lld) differs from the input's dim %d (%lld)",
                              i - 1, (long long)(*T)->dims[i - 1], i, (long long)(*X)->dims[i]);
    g->n = (*X)->dims[0];
    g->c = (*X)->dims[1];
    g->d = host_nn_prod((*X)->dims, 2, (*X)->rank);
    if (*W) {
        if ((*W)->rank != 1 || (*W)->dims[0] != g->c)
            return host_error(a, "weight must be 1-D with %lld entries (C)", (long long)g->c);
        O2P_TRY(host_nn_want_dtype(a, *W, "weight", (*X)->dtype));
    }
    const char *red = host_attr_string(a, "reduction", "mean");
    if (strcmp(red, "none") == 0)
        g->reduction = 0;
    else if (strcmp(red, "sum") == 0)
        g->reduction = 1;
    else if (strcmp(red, "mean") == 0)
        g->reduction = 2;
    else
        return host_error(a, "reduction '%s' must be none, sum or mean", red);
    const host_attr *ii = host_attr_find(a, "ignore_index");
    g->has_ignore = ii && ii->type == O2P_ATTR_INT;
    g->ignore_index = g->has_ignore ? ii->i : 0;
    return O2P_OK;
}

/* The loss of input values lp (log-probabilities, [N, C, D]): per element and reduced. */
static o2p_status loss_finish(const host_kernel_args *a, const host_tensor *X, const host_tensor *T,
                              const host_tensor *W, const loss_geom *g, const double *lp)
{
    host_tensor *Y;
    if (g->reduction == 0)
        O2P_TRY(host_nn_output(a, 0, X->dtype, T->rank, T->dims, &Y));
    else
        O2P_TRY(host_nn_output(a, 0, X->dtype, 0, NULL, &Y));
    double sum = 0.0, wsum = 0.0;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t d = 0; d < g->d; d++) {
            int64_t i = n * g->d + d, t = host_get_i64(T, i);
            double loss = 0.0, w = 0.0;
            if (!(g->has_ignore && t == g->ignore_index)) {
                if (t < 0 || t >= g->c)
                    return host_error(a, "target %lld at index %lld is outside [0, %lld)",
                                      (long long)t, (long long)i, (long long)g->c);
                w = W ? host_get_f64(W, t) : 1.0;
                loss = -lp[(n * g->c + t) * g->d + d] * w;
            }
            if (g->reduction == 0)
                host_set_f64(Y, i, loss);
            sum += loss;
            wsum += w;
        }
    if (g->reduction == 1)
        host_set_f64(Y, 0, sum);
    else if (g->reduction == 2)
        host_set_f64(Y, 0, sum / wsum);
    return O2P_OK;
}

static o2p_status nll_loss(const host_kernel_args *a)
{
    const host_tensor *X, *T, *W;
    loss_geom g;
    O2P_TRY(loss_setup(a, &X, &T, &W, &g));
    int64_t n = host_nn_numel(X);
    double *lp = host_nn_alloc(a, n > 0 ? n : 1, sizeof(double));
    if (!lp)
        return O2P_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < n; i++)
        lp[i] = host_get_f64(X, i);
    o2p_status st = loss_finish(a, X, T, W, &g, lp);
    free(lp);
    return st;
}

static o2p_status sce_loss(const host_kernel_args *a)
{
    const host_tensor *X, *T, *W;
    host_tensor *LP;
    loss_geom g;
    O2P_TRY(loss_setup(a, &X, &T, &W, &g));
    O2P_TRY(host_nn_output_opt(a, 1, X->dtype, X->rank, X->dims, &LP));
    int64_t n = host_nn_numel(X);
    double *lp = host_nn_alloc(a, n > 0 ? n : 1, sizeof(double));
    if (!lp)
        return O2P_ERR_OUT_OF_MEMORY;
    /* log_softmax over the class axis */
    for (int64_t i = 0; i < g.n; i++)
        for (int64_t d = 0; d < g.d; d++) {
            int64_t base = i * g.c * g.d + d;
            double mx = -INFINITY, s = 0.0;
            for (int64_t c = 0; c < g.c; c++) {
                double v = host_get_f64(X, base + c * g.d);
                mx = v > mx ? v : mx;
            }
            for (int64_t c = 0; c < g.c; c++)
                s += exp(host_get_f64(X, base + c * g.d) - mx);
            double ls = log(s);
            for (int64_t c = 0; c < g.c; c++) {
                int64_t k = base + c * g.d;
                lp[k] = host_get_f64(X, k) - mx - ls;
                if (LP)
                    host_set_f64(LP, k, lp[k]);
            }
        }
    o2p_status st = loss_finish(a, X, T, W, &g, lp);
    free(lp);
    return st;
}

/* ---------------------------------------------------------------- Einsum */

#define EIN_MAX_LABELS 64

typedef struct ein_plan {
    int num_labels;               /* distinct labels, ellipsis dims included */
    int num_out;                  /* the output's labels come first: 0..num_out-1 */
    int64_t dims[EIN_MAX_LABELS]; /* each label's extent */
    int num_ops;
    int64_t (*strides)[EIN_MAX_LABELS]; /* per operand: element stride of each label */
} ein_plan;

static int ein_letter(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    return -1;
}

/* Labels as numbers: 0..51 the letters, 52 + k the k-th ellipsis dim counted from the right. */
#define EIN_ELL 52

/* Parses one term (up to ',' '-' or end) into codes; *ell_rank the input's ellipsis dims. */
static o2p_status ein_term(const host_kernel_args *a, const char **pp, int rank, int *codes, int *n,
                           int is_output, int ell_rank_out)
{
    const char *p = *pp;
    int labels[HOST_MAX_RANK + 1], nl = 0, ell_pos = -1;
    while (*p && *p != ',' && *p != '-') {
        if (*p == ' ') {
            p++;
            continue;
        }
        if (*p == '.') {
            if (strncmp(p, "...", 3) != 0 || ell_pos >= 0)
                return host_error(a, "equation: a term may have one '...' only");
            ell_pos = nl;
            p += 3;
            continue;
        }
        int li = ein_letter(*p);
        if (li < 0)
            return host_error(a, "equation: '%c' is not a letter", *p);
        if (nl > HOST_MAX_RANK)
            return host_error(a, "equation: a term has more than %d labels", HOST_MAX_RANK);
        labels[nl++] = li;
        p++;
    }
    *pp = p;
    int ell = is_output ? (ell_pos >= 0 ? ell_rank_out : 0) : rank - nl;
    if (!is_output && (ell < 0 || (ell_pos < 0 && ell != 0)))
        return host_error(a, "equation: a term has %d labels%s but its input has rank %d", nl,
                          ell_pos >= 0 ? " and '...'" : "", rank);
    if (nl + ell > HOST_MAX_RANK)
        return host_error(a, "equation: a term has rank over %d", HOST_MAX_RANK);
    *n = 0;
    for (int k = 0; k <= nl; k++) {
        if (k == ell_pos)
            for (int e = 0; e < ell; e++)
                codes[(*n)++] = EIN_ELL + (ell - 1 - e);
        if (k < nl)
            codes[(*n)++] = labels[k];
    }
    return O2P_OK;
}

static o2p_status ein_parse(const host_kernel_args *a, int nin, const host_tensor *const *in,
                            ein_plan *plan, int out_codes[HOST_MAX_RANK], int *out_rank)
{
    const char *eq = host_attr_string(a, "equation", NULL);
    if (!eq)
        return host_error(a, "attribute 'equation' is required");
    int codes[8][HOST_MAX_RANK + 1], ncodes[8];
    int64_t cdim[EIN_ELL + HOST_MAX_RANK];
    int count[EIN_ELL + HOST_MAX_RANK] = {0};
    for (int i = 0; i < EIN_ELL + HOST_MAX_RANK; i++)
        cdim[i] = 1;
    int ell_rank = 0;
    const char *p = eq;
    for (int t = 0; t < nin; t++) {
        while (*p == ' ')
            p++;
        O2P_TRY(ein_term(a, &p, in[t]->rank, codes[t], &ncodes[t], 0, 0));
        for (int k = 0; k < ncodes[t]; k++) {
            int c = codes[t][k];
            int64_t d = in[t]->dims[k];
            if (c >= EIN_ELL && c - EIN_ELL + 1 > ell_rank)
                ell_rank = c - EIN_ELL + 1;
            if (count[c] && cdim[c] != d && cdim[c] != 1 && d != 1)
                return host_error(a,
                                  "equation '%s': a label is %lld in one place and %lld in another",
                                  eq, (long long)cdim[c], (long long)d);
            if (!count[c] || cdim[c] == 1)
                cdim[c] = d;
            count[c]++;
        }
        if (t + 1 < nin) {
            if (*p != ',')
                return host_error(a, "equation '%s' has fewer terms than the %d inputs", eq, nin);
            p++;
        }
    }
    while (*p == ' ')
        p++;
    if (*p == ',')
        return host_error(a, "equation '%s' has more terms than the %d inputs", eq, nin);
    if (*p == '-') {
        if (p[1] != '>')
            return host_error(a, "equation '%s': '-' must be followed by '>'", eq);
        p += 2;
        while (*p == ' ')
            p++;
        O2P_TRY(ein_term(a, &p, 0, out_codes, out_rank, 1, ell_rank));
        if (*p)
            return host_error(a, "equation '%s': unexpected '%c' in the output", eq, *p);
        for (int k = 0; k < *out_rank; k++) {
            if (!count[out_codes[k]])
                return host_error(a, "equation '%s': an output label is in no input", eq);
            for (int j = 0; j < k; j++)
                if (out_codes[j] == out_codes[k])
                    return host_error(a, "equation '%s': an output label repeats", eq);
        }
    } else {
        *out_rank = 0;
        for (int e = ell_rank - 1; e >= 0; e--)
            out_codes[(*out_rank)++] = EIN_ELL + e;
        for (int c = 0; c < EIN_ELL; c++)
            if (count[c] == 1) {
                if (*out_rank >= HOST_MAX_RANK)
                    return host_error(a, "equation '%s': output rank over %d", eq, HOST_MAX_RANK);
                out_codes[(*out_rank)++] = c;
            }
    }
    /* number the labels: the output's first, then the summed ones */
    int num[EIN_ELL + HOST_MAX_RANK];
    for (int i = 0; i < EIN_ELL + HOST_MAX_RANK; i++)
        num[i] = -1;
    plan->num_labels = 0;
    for (int k = 0; k < *out_rank; k++) {
        num[out_codes[k]] = plan->num_labels;
        plan->dims[plan->num_labels++] = cdim[out_codes[k]];
    }
    plan->num_out = plan->num_labels;
    for (int c = 0; c < EIN_ELL + HOST_MAX_RANK; c++)
        if (count[c] && num[c] < 0) {
            if (plan->num_labels >= EIN_MAX_LABELS)
                return host_error(a, "equation '%s' has too many labels", eq);
            num[c] = plan->num_labels;
            plan->dims[plan->num_labels++] = cdim[c];
        }
    plan->num_ops = nin;
    for (int t = 0; t < nin; t++) {
        memset(plan->strides[t], 0, sizeof plan->strides[t]);
        int64_t s = 1;
        for (int k = ncodes[t] - 1; k >= 0; k--) {
            int64_t d = in[t]->dims[k];
            /* a dim of 1 broadcasts; a repeated label walks the diagonal (strides add) */
            if (d != 1)
                plan->strides[t][num[codes[t][k]]] += s;
            s *= d;
        }
    }
    return O2P_OK;
}

/* The einsum plan of layer a (its inputs and equation), checked: labels numbered with the
 * output's first; dims[EIN_MAX_LABELS]; strides[8][EIN_MAX_LABELS] per input. Exported (not
 * static) so the CUDA lowering (src/codegen/lower_extra.c) plans equations exactly as here;
 * it checks the inputs' headers only (the lowering has no data). */
o2p_status host_extra_einsum_plan(const host_kernel_args *a, int64_t *dims, int64_t *strides,
                                  int *num_labels, int *num_out);
o2p_status host_extra_einsum_plan(const host_kernel_args *a, int64_t *dims, int64_t *strides,
                                  int *num_labels, int *num_out)
{
    int nin = a->num_inputs;
    if (nin < 1 || nin > 8)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (Einsum): %d inputs; the kernel handles 1 to 8",
                        a->layer_name ? a->layer_name : "", nin);
    const host_tensor *in[8];
    for (int i = 0; i < nin; i++) {
        int ok;
        in[i] = host_in(a, i);
        if (!in[i])
            return host_error(a, "input %d is missing", i);
        if (in[i]->rank < 0 || in[i]->rank > HOST_MAX_RANK || (host_numel(in[i], &ok), !ok))
            return host_error(a, "input %d has an invalid shape", i);
        if (in[i]->dtype != in[0]->dtype)
            return host_error(a, "input %d is %s but input 0 is %s", i,
                              o2p_dtype_name(in[i]->dtype), o2p_dtype_name(in[0]->dtype));
    }
    o2p_dtype dt = in[0]->dtype;
    if (!host_nn_is_float(dt) && !host_nn_is_integer(dt))
        return host_unsupported_dtype(a, dt);
    ein_plan plan;
    plan.strides = (int64_t(*)[EIN_MAX_LABELS])strides;
    int out_codes[HOST_MAX_RANK], out_rank;
    O2P_TRY(ein_parse(a, nin, in, &plan, out_codes, &out_rank));
    memcpy(dims, plan.dims, sizeof plan.dims);
    *num_labels = plan.num_labels;
    *num_out = plan.num_out;
    return O2P_OK;
}

static o2p_status einsum(const host_kernel_args *a)
{
    int64_t strides[8][EIN_MAX_LABELS];
    ein_plan plan;
    plan.strides = strides;
    const host_tensor *t;
    for (int i = 0; i < a->num_inputs; i++)
        O2P_TRY(host_nn_input(a, i, "Inputs", &t));
    O2P_TRY(host_extra_einsum_plan(a, plan.dims, &strides[0][0], &plan.num_labels, &plan.num_out));
    int nin = a->num_inputs;
    const host_tensor *in[8];
    for (int i = 0; i < nin; i++)
        in[i] = host_in(a, i);
    o2p_dtype dt = in[0]->dtype;
    int is_float = host_nn_is_float(dt);
    int out_rank = plan.num_out;
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, dt, out_rank, plan.dims, &Y));
    int64_t nout = host_nn_numel(Y);
    int64_t nsum = host_nn_prod(plan.dims, plan.num_out, plan.num_labels);
    for (int64_t o = 0; o < nout; o++) {
        int64_t base[8] = {0}, rem = o;
        for (int l = plan.num_out - 1; l >= 0; l--) {
            int64_t idx = rem % plan.dims[l];
            rem /= plan.dims[l];
            for (int t = 0; t < nin; t++)
                base[t] += idx * strides[t][l];
        }
        double accf = 0.0;
        uint64_t acci = 0;
        for (int64_t s = 0; s < nsum; s++) {
            int64_t off[8];
            memcpy(off, base, sizeof off);
            rem = s;
            for (int l = plan.num_labels - 1; l >= plan.num_out; l--) {
                int64_t idx = rem % plan.dims[l];
                rem /= plan.dims[l];
                for (int t = 0; t < nin; t++)
                    off[t] += idx * strides[t][l];
            }
            if (is_float) {
                double v = 1.0;
                for (int t = 0; t < nin; t++)
                    v *= host_get_f64(in[t], off[t]);
                accf += v;
            } else {
                uint64_t v = 1;
                for (int t = 0; t < nin; t++)
                    v *= (uint64_t)host_get_i64(in[t], off[t]);
                acci += v;
            }
        }
        if (is_float)
            host_set_f64(Y, o, accf);
        else
            host_set_i64(Y, o, (int64_t)acci);
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- QuantizeLinear, DequantizeLinear
 */

/* Common checks: x, scale (input 1), optional zero point (input 2); the per-axis geometry. */
static o2p_status q_setup(const host_kernel_args *a, const host_tensor **X, const host_tensor **S,
                          const host_tensor **Z, int64_t *count, int64_t *inner)
{
    O2P_TRY(host_nn_input(a, 0, "x", X));
    O2P_TRY(host_nn_input(a, 1, "scale", S));
    O2P_TRY(host_nn_input_opt(a, 2, "zero_point", 0, Z));
    O2P_TRY(qparam_count(a, *S, "scale", count));
    if (!host_nn_is_float((*S)->dtype))
        return host_unsupported_dtype(a, (*S)->dtype);
    if (*Z) {
        int64_t zc;
        O2P_TRY(qparam_count(a, *Z, "zero_point", &zc));
        if (zc != *count)
            return host_error(a, "zero_point has %lld entries but scale has %lld", (long long)zc,
                              (long long)*count);
    }
    *inner = 1;
    if ((*S)->rank == 1 && *count != 1) {
        int axis;
        if ((*X)->rank == 0 || !host_norm_axis(host_attr_int(a, "axis", 1), (*X)->rank, &axis))
            return host_error(a, "axis %lld is out of range for rank %d",
                              (long long)host_attr_int(a, "axis", 1), (*X)->rank);
        if ((*X)->dims[axis] != *count)
            return host_error(a, "scale has %lld entries but axis %d of x has %lld",
                              (long long)*count, axis, (long long)(*X)->dims[axis]);
        *inner = host_nn_prod((*X)->dims, axis + 1, (*X)->rank);
    }
    return O2P_OK;
}

static o2p_status quantize_linear(const host_kernel_args *a)
{
    const host_tensor *X, *S, *Z;
    int64_t count, inner;
    O2P_TRY(q_setup(a, &X, &S, &Z, &count, &inner));
    if (!host_nn_is_float(X->dtype) && X->dtype != O2P_DTYPE_INT32)
        return host_unsupported_dtype(a, X->dtype);
    o2p_dtype yt = Z ? Z->dtype : O2P_DTYPE_UINT8;
    double lo, hi;
    if (!quant_range(yt, &lo, &hi))
        return host_unsupported_dtype(a, yt);
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, yt, X->rank, X->dims, &Y));
    int64_t n = host_nn_numel(X);
    int f32 = X->dtype != O2P_DTYPE_INT32 && X->dtype != O2P_DTYPE_DOUBLE;
    for (int64_t i = 0; i < n; i++) {
        int64_t q = count == 1 ? 0 : (i / inner) % count;
        double s = host_get_f64(S, q), x = host_get_f64(X, i);
        /* float inputs divide in float32, as the reference and onnxruntime do */
        double v = f32 ? (double)((float)x / (float)s) : x / s;
        host_set_f64(Y, i, quant_round(v, Z ? host_get_f64(Z, q) : 0.0, lo, hi));
    }
    return O2P_OK;
}

static o2p_status dequantize_linear(const host_kernel_args *a)
{
    const host_tensor *X, *S, *Z;
    int64_t count, inner;
    O2P_TRY(q_setup(a, &X, &S, &Z, &count, &inner));
    double lo, hi;
    if (!quant_range(X->dtype, &lo, &hi) && X->dtype != O2P_DTYPE_INT32)
        return host_unsupported_dtype(a, X->dtype);
    if (Z)
        O2P_TRY(host_nn_want_dtype(a, Z, "zero_point", X->dtype));
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, S->dtype, X->rank, X->dims, &Y));
    int64_t n = host_nn_numel(X);
    for (int64_t i = 0; i < n; i++) {
        int64_t q = count == 1 ? 0 : (i / inner) % count;
        int64_t z = Z ? host_get_i64(Z, q) : 0;
        float d = (float)(host_get_i64(X, i) - z);
        host_set_f64(Y, i, (double)(d * (float)host_get_f64(S, q)));
    }
    return O2P_OK;
}

static o2p_status dynamic_quantize_linear(const host_kernel_args *a)
{
    const host_tensor *X;
    host_tensor *Y, *S, *Z;
    O2P_TRY(host_nn_input(a, 0, "x", &X));
    if (X->dtype != O2P_DTYPE_FLOAT)
        return host_unsupported_dtype(a, X->dtype);
    O2P_TRY(host_nn_output(a, 0, O2P_DTYPE_UINT8, X->rank, X->dims, &Y));
    O2P_TRY(host_nn_output(a, 1, O2P_DTYPE_FLOAT, 0, NULL, &S));
    O2P_TRY(host_nn_output(a, 2, O2P_DTYPE_UINT8, 0, NULL, &Z));
    const float *x = X->data;
    int64_t n = host_nn_numel(X);
    float mn = 0.0f, mx = 0.0f; /* the range always includes 0 */
    for (int64_t i = 0; i < n; i++) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    float scale = (mx - mn) / 255.0f;
    float zp = 0.0f;
    if (scale != 0.0f)
        zp = (float)quant_round((double)(0.0f - mn / scale), 0.0, 0.0, 255.0);
    ((float *)S->data)[0] = scale;
    ((uint8_t *)Z->data)[0] = (uint8_t)zp;
    uint8_t *y = Y->data;
    for (int64_t i = 0; i < n; i++)
        y[i] = scale != 0.0f ? (uint8_t)quant_round((double)(x[i] / scale), zp, 0.0, 255.0)
                             : (uint8_t)zp;
    return O2P_OK;
}

/* ---------------------------------------------------------------- integer MatMul */

/* One quantized operand with its zero point and scale (scale NULL for the integer ops). */
typedef struct q_operand {
    const host_tensor *t, *zp, *scale;
    int64_t zp_count, scale_count;
} q_operand;

static o2p_status q_operand_check(const host_kernel_args *a, q_operand *q, const char *name,
                                  int64_t per_axis_len)
{
    double lo, hi;
    if (!quant_range(q->t->dtype, &lo, &hi) || o2p_dtype_size(q->t->dtype) != 1)
        return host_unsupported_dtype(a, q->t->dtype);
    q->zp_count = q->scale_count = 1;
    if (q->zp) {
        O2P_TRY(qparam_count(a, q->zp, "a zero point", &q->zp_count));
        O2P_TRY(host_nn_want_dtype(a, q->zp, "zero point", q->t->dtype));
        if (q->zp_count != 1 && q->zp_count != per_axis_len)
            return host_error(a, "the zero point of %s has %lld entries; expected 1 or %lld", name,
                              (long long)q->zp_count, (long long)per_axis_len);
    }
    if (q->scale) {
        O2P_TRY(qparam_count(a, q->scale, "a scale", &q->scale_count));
        if (q->scale->dtype != O2P_DTYPE_FLOAT)
            return host_unsupported_dtype(a, q->scale->dtype);
        if (q->scale_count != 1 && q->scale_count != per_axis_len)
            return host_error(a, "the scale of %s has %lld entries; expected 1 or %lld", name,
                              (long long)q->scale_count, (long long)per_axis_len);
    }
    return O2P_OK;
}

static int64_t q_zp(const q_operand *q, int64_t k)
{
    return q->zp ? host_get_i64(q->zp, q->zp_count == 1 ? 0 : k) : 0;
}

static float q_scale(const q_operand *q, int64_t k)
{
    return ((const float *)q->scale->data)[q->scale_count == 1 ? 0 : k];
}

/* Requantizes an int32 accumulator: saturate(rint(acc * multiplier) + zp). */
static double requant(int64_t acc, float multiplier, double zp, double lo, double hi)
{
    return quant_round((double)acc * (double)multiplier, zp, lo, hi);
}

/* The matmul geometry of A [..., M, K] x B [..., K, N] with numpy broadcasting and 1-D
 * promotion: output dims, and per output batch index the offsets into A and B. */
typedef struct mm_geom {
    int64_t M, N, K, batch;
    int out_rank, batch_rank;
    int64_t out_dims[HOST_MAX_RANK];
    int64_t batch_dims[HOST_MAX_RANK];
    int64_t a_bstride[HOST_MAX_RANK], b_bstride[HOST_MAX_RANK];
} mm_geom;

static o2p_status mm_setup(const host_kernel_args *a, const host_tensor *A, const host_tensor *B,
                           mm_geom *g)
{
    if (A->rank < 1 || B->rank < 1)
        return host_error(a, "A and B must have rank >= 1");
    int64_t ad[HOST_MAX_RANK + 1], bd[HOST_MAX_RANK + 1];
    int ar = A->rank, br = B->rank;
    memcpy(ad, A->dims, sizeof(int64_t) * (size_t)ar);
    memcpy(bd, B->dims, sizeof(int64_t) * (size_t)br);
    if (ar == 1) {
        ad[1] = ad[0];
        ad[0] = 1;
        ar = 2;
    }
    if (br == 1) {
        bd[1] = 1;
        br = 2;
    }
    g->M = ad[ar - 2];
    g->K = ad[ar - 1];
    g->N = bd[br - 1];
    if (bd[br - 2] != g->K)
        return host_error(a, "inner dimensions differ: A has %lld columns, B has %lld rows",
                          (long long)g->K, (long long)bd[br - 2]);
    g->batch_rank = (ar > br ? ar : br) - 2;
    g->batch = 1;
    int64_t sa = g->M * g->K, sb = g->K * g->N;
    for (int i = g->batch_rank - 1; i >= 0; i--) {
        int ia = i - (g->batch_rank - (ar - 2)), ib = i - (g->batch_rank - (br - 2));
        int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return host_error(a, "batch dims %lld and %lld do not broadcast", (long long)da,
                              (long long)db);
        g->batch_dims[i] = da > db ? da : db;
        if (da == 0 || db == 0)
            g->batch_dims[i] = 0;
        g->a_bstride[i] = da == 1 ? 0 : sa;
        g->b_bstride[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
        g->batch *= g->batch_dims[i];
    }
    g->out_rank = 0;
    for (int i = 0; i < g->batch_rank; i++)
        g->out_dims[g->out_rank++] = g->batch_dims[i];
    if (A->rank != 1)
        g->out_dims[g->out_rank++] = g->M;
    if (B->rank != 1)
        g->out_dims[g->out_rank++] = g->N;
    return O2P_OK;
}

/* acc[b, m, n] = sum_k (A[m, k] - za[m]) * (B[k, n] - zb[n]), into acc (batch * M * N). */
static void mm_int(const mm_geom *g, const q_operand *qa, const q_operand *qb, int64_t *acc)
{
    for (int64_t b = 0; b < g->batch; b++) {
        int64_t oa = 0, ob = 0, rem = b;
        for (int i = g->batch_rank - 1; i >= 0; i--) {
            int64_t idx = rem % g->batch_dims[i];
            rem /= g->batch_dims[i];
            oa += idx * g->a_bstride[i];
            ob += idx * g->b_bstride[i];
        }
        for (int64_t m = 0; m < g->M; m++)
            for (int64_t n = 0; n < g->N; n++) {
                int64_t za = q_zp(qa, m), zb = q_zp(qb, n), s = 0;
                for (int64_t k = 0; k < g->K; k++)
                    s += (host_get_i64(qa->t, oa + m * g->K + k) - za) *
                         (host_get_i64(qb->t, ob + k * g->N + n) - zb);
                acc[(b * g->M + m) * g->N + n] = (int32_t)s;
            }
    }
}

static o2p_status matmul_integer(const host_kernel_args *a)
{
    q_operand qa = {0}, qb = {0};
    O2P_TRY(host_nn_input(a, 0, "A", &qa.t));
    O2P_TRY(host_nn_input(a, 1, "B", &qb.t));
    O2P_TRY(host_nn_input_opt(a, 2, "a_zero_point", 1, &qa.zp));
    O2P_TRY(host_nn_input_opt(a, 3, "b_zero_point", 1, &qb.zp));
    mm_geom g;
    O2P_TRY(mm_setup(a, qa.t, qb.t, &g));
    O2P_TRY(q_operand_check(a, &qa, "A", g.M));
    O2P_TRY(q_operand_check(a, &qb, "B", g.N));
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, O2P_DTYPE_INT32, g.out_rank, g.out_dims, &Y));
    int64_t n = host_nn_numel(Y);
    int64_t *acc = host_nn_alloc(a, n > 0 ? n : 1, sizeof(int64_t));
    if (!acc)
        return O2P_ERR_OUT_OF_MEMORY;
    mm_int(&g, &qa, &qb, acc);
    for (int64_t i = 0; i < n; i++)
        ((int32_t *)Y->data)[i] = (int32_t)acc[i];
    free(acc);
    return O2P_OK;
}

static o2p_status qlinear_matmul(const host_kernel_args *a)
{
    q_operand qa = {0}, qb = {0}, qy = {0};
    O2P_TRY(host_nn_input(a, 0, "a", &qa.t));
    O2P_TRY(host_nn_input(a, 1, "a_scale", &qa.scale));
    O2P_TRY(host_nn_input(a, 2, "a_zero_point", &qa.zp));
    O2P_TRY(host_nn_input(a, 3, "b", &qb.t));
    O2P_TRY(host_nn_input(a, 4, "b_scale", &qb.scale));
    O2P_TRY(host_nn_input(a, 5, "b_zero_point", &qb.zp));
    O2P_TRY(host_nn_input(a, 6, "y_scale", &qy.scale));
    O2P_TRY(host_nn_input(a, 7, "y_zero_point", &qy.zp));
    qy.t = qy.zp;
    mm_geom g;
    O2P_TRY(mm_setup(a, qa.t, qb.t, &g));
    O2P_TRY(q_operand_check(a, &qa, "a", g.M));
    O2P_TRY(q_operand_check(a, &qb, "b", g.N));
    O2P_TRY(q_operand_check(a, &qy, "y", 1));
    double lo = 0, hi = 0;
    quant_range(qy.zp->dtype, &lo, &hi); /* checked by q_operand_check */
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, qy.zp->dtype, g.out_rank, g.out_dims, &Y));
    int64_t n = host_nn_numel(Y);
    int64_t *acc = host_nn_alloc(a, n > 0 ? n : 1, sizeof(int64_t));
    if (!acc)
        return O2P_ERR_OUT_OF_MEMORY;
    mm_int(&g, &qa, &qb, acc);
    for (int64_t i = 0; i < n; i++) {
        int64_t col = i % g.N, row = (i / g.N) % g.M;
        float mult = q_scale(&qa, row) * q_scale(&qb, col) / q_scale(&qy, 0);
        host_set_f64(Y, i, requant(acc[i], mult, (double)q_zp(&qy, 0), lo, hi));
    }
    free(acc);
    return O2P_OK;
}

/* ---------------------------------------------------------------- integer Conv */

typedef struct conv_geom {
    nn_window w;
    int64_t N, C, M, group;
} conv_geom;

static o2p_status conv_setup(const host_kernel_args *a, const host_tensor *X, const host_tensor *W,
                             conv_geom *g, int64_t *ydims)
{
    if (X->rank < 3)
        return host_error(a, "x must have rank >= 3 (N, C and spatial axes), not %d", X->rank);
    if (W->rank != X->rank)
        return host_error(a, "w has rank %d; x has rank %d", W->rank, X->rank);
    int nsp = X->rank - 2, count = 0;
    const int64_t *ks = host_attr_ints(a, "kernel_shape", &count);
    if (ks) {
        if (count != nsp)
            return host_error(a, "kernel_shape has %d values, expected %d", count, nsp);
        for (int i = 0; i < nsp; i++)
            if (ks[i] != W->dims[i + 2])
                return host_error(a, "kernel_shape[%d] = %lld disagrees with w's dim %lld", i,
                                  (long long)ks[i], (long long)W->dims[i + 2]);
    }
    g->group = host_attr_int(a, "group", 1);
    if (g->group < 1)
        return host_error(a, "group is %lld, must be >= 1", (long long)g->group);
    g->N = X->dims[0];
    g->C = X->dims[1];
    g->M = W->dims[0];
    if (g->C % g->group != 0 || W->dims[1] != g->C / g->group)
        return host_error(a, "x has %lld channels; w's dim 1 (%lld) times group (%lld) must match",
                          (long long)g->C, (long long)W->dims[1], (long long)g->group);
    if (g->M % g->group != 0)
        return host_error(a, "w's %lld output channels are not divisible by group %lld",
                          (long long)g->M, (long long)g->group);
    O2P_TRY(host_nn_window(a, X, W->dims + 2, 1, 0, &g->w));
    ydims[0] = g->N;
    ydims[1] = g->M;
    for (int i = 0; i < nsp; i++)
        ydims[i + 2] = g->w.out[i];
    return O2P_OK;
}

/* acc[n, m, out...] = sum over the window of (x - zx) * (w[m] - zw[m]); padding reads as zx
 * (it contributes 0). */
static void conv_int(const conv_geom *g, const q_operand *qx, const q_operand *qw, int64_t *acc)
{
    const nn_window *w = &g->w;
    int nsp = w->nsp;
    int64_t osp = host_nn_prod(w->out, 0, nsp), isp = host_nn_prod(w->in, 0, nsp);
    int64_t ksp = host_nn_prod(w->kernel, 0, nsp);
    int64_t cg = g->C / g->group, mg = g->M / g->group;
    int64_t zx = q_zp(qx, 0);
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t m = 0; m < g->M; m++) {
            int64_t zw = q_zp(qw, m), c0 = (m / mg) * cg;
            for (int64_t o = 0; o < osp; o++) {
                int64_t opos[HOST_MAX_RANK], rem = o;
                for (int d = nsp - 1; d >= 0; d--) {
                    opos[d] = rem % w->out[d];
                    rem /= w->out[d];
                }
                int64_t s = 0;
                for (int64_t kk = 0; kk < ksp; kk++) {
                    int64_t ioff = 0, krem = kk;
                    int inside = 1;
                    for (int d = nsp - 1; d >= 0; d--) {
                        int64_t kd = krem % w->kernel[d];
                        krem /= w->kernel[d];
                        int64_t ip = opos[d] * w->stride[d] - w->pad_begin[d] + kd * w->dilation[d];
                        if (ip < 0 || ip >= w->in[d])
                            inside = 0;
                    }
                    if (!inside)
                        continue;
                    int64_t mul = 1;
                    krem = kk;
                    for (int d = nsp - 1; d >= 0; d--) {
                        int64_t kd = krem % w->kernel[d];
                        krem /= w->kernel[d];
                        ioff +=
                            (opos[d] * w->stride[d] - w->pad_begin[d] + kd * w->dilation[d]) * mul;
                        mul *= w->in[d];
                    }
                    for (int64_t c = 0; c < cg; c++) {
                        int64_t xv = host_get_i64(qx->t, (n * g->C + c0 + c) * isp + ioff) - zx;
                        int64_t wv = host_get_i64(qw->t, (m * cg + c) * ksp + kk) - zw;
                        s += xv * wv;
                    }
                }
                acc[(n * g->M + m) * osp + o] = (int32_t)s;
            }
        }
}

static o2p_status conv_integer(const host_kernel_args *a)
{
    q_operand qx = {0}, qw = {0};
    O2P_TRY(host_nn_input(a, 0, "x", &qx.t));
    O2P_TRY(host_nn_input(a, 1, "w", &qw.t));
    O2P_TRY(host_nn_input_opt(a, 2, "x_zero_point", 1, &qx.zp));
    O2P_TRY(host_nn_input_opt(a, 3, "w_zero_point", 1, &qw.zp));
    conv_geom g;
    int64_t ydims[HOST_MAX_RANK];
    O2P_TRY(conv_setup(a, qx.t, qw.t, &g, ydims));
    O2P_TRY(q_operand_check(a, &qx, "x", 1));
    O2P_TRY(q_operand_check(a, &qw, "w", g.M));
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, O2P_DTYPE_INT32, qx.t->rank, ydims, &Y));
    int64_t n = host_nn_numel(Y);
    int64_t *acc = host_nn_alloc(a, n > 0 ? n : 1, sizeof(int64_t));
    if (!acc)
        return O2P_ERR_OUT_OF_MEMORY;
    conv_int(&g, &qx, &qw, acc);
    for (int64_t i = 0; i < n; i++)
        ((int32_t *)Y->data)[i] = (int32_t)acc[i];
    free(acc);
    return O2P_OK;
}

static o2p_status qlinear_conv(const host_kernel_args *a)
{
    q_operand qx = {0}, qw = {0}, qy = {0};
    const host_tensor *B;
    O2P_TRY(host_nn_input(a, 0, "x", &qx.t));
    O2P_TRY(host_nn_input(a, 1, "x_scale", &qx.scale));
    O2P_TRY(host_nn_input(a, 2, "x_zero_point", &qx.zp));
    O2P_TRY(host_nn_input(a, 3, "w", &qw.t));
    O2P_TRY(host_nn_input(a, 4, "w_scale", &qw.scale));
    O2P_TRY(host_nn_input(a, 5, "w_zero_point", &qw.zp));
    O2P_TRY(host_nn_input(a, 6, "y_scale", &qy.scale));
    O2P_TRY(host_nn_input(a, 7, "y_zero_point", &qy.zp));
    O2P_TRY(host_nn_input_opt(a, 8, "B", 1, &B));
    qy.t = qy.zp;
    conv_geom g;
    int64_t ydims[HOST_MAX_RANK];
    O2P_TRY(conv_setup(a, qx.t, qw.t, &g, ydims));
    O2P_TRY(q_operand_check(a, &qx, "x", 1));
    O2P_TRY(q_operand_check(a, &qw, "w", g.M));
    O2P_TRY(q_operand_check(a, &qy, "y", 1));
    if (B) {
        O2P_TRY(host_nn_want_dtype(a, B, "B", O2P_DTYPE_INT32));
        if (B->rank != 1 || B->dims[0] != g.M)
            return host_error(a, "B must be 1-D with %lld entries", (long long)g.M);
    }
    double lo = 0, hi = 0;
    quant_range(qy.zp->dtype, &lo, &hi); /* checked by q_operand_check */
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, qy.zp->dtype, qx.t->rank, ydims, &Y));
    int64_t n = host_nn_numel(Y);
    int64_t *acc = host_nn_alloc(a, n > 0 ? n : 1, sizeof(int64_t));
    if (!acc)
        return O2P_ERR_OUT_OF_MEMORY;
    conv_int(&g, &qx, &qw, acc);
    int64_t osp = host_nn_prod(g.w.out, 0, g.w.nsp);
    for (int64_t i = 0; i < n; i++) {
        int64_t m = (i / osp) % g.M;
        int64_t v = acc[i] + (B ? ((const int32_t *)B->data)[m] : 0);
        float mult = q_scale(&qx, 0) * q_scale(&qw, m) / q_scale(&qy, 0);
        host_set_f64(Y, i, requant(v, mult, (double)q_zp(&qy, 0), lo, hi));
    }
    free(acc);
    return O2P_OK;
}

const host_kernel_entry host_extra_kernels[] = {
    {"ConvInteger", conv_integer},
    {"DequantizeLinear", dequantize_linear},
    {"DynamicQuantizeLinear", dynamic_quantize_linear},
    {"Einsum", einsum},
    {"MatMulInteger", matmul_integer},
    {"NegativeLogLikelihoodLoss", nll_loss},
    {"QLinearConv", qlinear_conv},
    {"QLinearMatMul", qlinear_matmul},
    {"QuantizeLinear", quantize_linear},
    {"SoftmaxCrossEntropyLoss", sce_loss},
};
const int host_extra_kernel_count = (int)(sizeof host_extra_kernels / sizeof host_extra_kernels[0]);
