/* elementwise_reduce.c: host reference kernels of the reductions (ReduceSum, ReduceMean, ...)
 * and ArgMax/ArgMin, part of the elementwise family (whose table is in elementwise.c).
 *
 * Floating-point reductions accumulate in double; integer ones in 64-bit two's complement,
 * wrapping to the element type's width (Sum, Prod, SumSquare, L1) or exact (Max, Min, Mean,
 * which truncates). L2, LogSum and LogSumExp of integers are computed in double. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/elementwise_internal.h"
#include "host/host_kernels.h"


/* ---------------------------------------------------------------- checks */

static int is_numeric(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT:
    case O2P_DTYPE_DOUBLE:
    case O2P_DTYPE_FLOAT16:
    case O2P_DTYPE_BFLOAT16:
    case O2P_DTYPE_INT8:
    case O2P_DTYPE_INT16:
    case O2P_DTYPE_INT32:
    case O2P_DTYPE_INT64:
    case O2P_DTYPE_UINT8:
    case O2P_DTYPE_UINT16:
    case O2P_DTYPE_UINT32:
    case O2P_DTYPE_UINT64: return 1;
    default: return 0;
    }
}

static int is_float(o2p_dtype t)
{
    return t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_DOUBLE || t == O2P_DTYPE_FLOAT16 ||
           t == O2P_DTYPE_BFLOAT16;
}

static int is_unsigned(o2p_dtype t)
{
    return t == O2P_DTYPE_UINT8 || t == O2P_DTYPE_UINT16 || t == O2P_DTYPE_UINT32 ||
           t == O2P_DTYPE_UINT64;
}

static o2p_status out_of_memory(const host_kernel_args *a)
{
    return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "layer '%s' (%s): out of memory",
                    a->layer_name ? a->layer_name : "", a->op_type ? a->op_type : "");
}

/* Input i, present, with a valid shape and data, of a numeric type. */
static o2p_status need_numeric_input(const host_kernel_args *a, int i, const host_tensor **out,
                                     int64_t *numel)
{
    const host_tensor *t = host_in(a, i);
    int ok;
    if (!t)
        return host_error(a, "input %d is missing", i);
    int64_t n = host_numel(t, &ok), bytes;
    if (!ok || !o2p_mul_i64(n, 8, &bytes))
        return host_error(a, "input %d has an invalid shape", i);
    if (!is_numeric(t->dtype))
        return host_unsupported_dtype(a, t->dtype);
    if (n > 0 && !t->data)
        return host_error(a, "input %d has no data", i);
    *out = t;
    *numel = n;
    return O2P_OK;
}

static o2p_status need_output(const host_kernel_args *a, o2p_dtype dt, int rank,
                              const int64_t *dims, host_tensor **out, int64_t *numel)
{
    host_tensor *t = host_out(a, 0);
    int ok;
    if (!t)
        return host_error(a, "output 0 is missing");
    if (t->dtype != dt)
        return host_error(a, "output 0 has element type %s where %s is expected",
                          o2p_dtype_name(t->dtype), o2p_dtype_name(dt));
    if (!host_same_shape(t, rank, dims)) {
        char want[256];
        size_t len = (size_t)snprintf(want, sizeof want, "[");
        for (int i = 0; i < rank && len < sizeof want; i++)
            len += (size_t)snprintf(want + len, sizeof want - len, i ? ",%lld" : "%lld",
                                    (long long)dims[i]);
        if (len < sizeof want)
            snprintf(want + len, sizeof want - len, "]");
        return host_error(a, "output 0 does not have the expected shape %s", want);
    }
    int64_t n = host_numel(t, &ok);
    if (!ok)
        return host_error(a, "output 0 has an invalid shape");
    if (n > 0 && !t->data)
        return host_error(a, "output 0 has no data");
    *out = t;
    *numel = n;
    return O2P_OK;
}

/* ---------------------------------------------------------------- reductions */

/* clang-format off */
enum redop {
    R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_SUM_SQUARE, R_LOG_SUM, R_LOG_SUM_EXP,
    R_SUM_EXP /* internal: sum of exp(x - shift) */
};
/* clang-format on */

/* The input walked in order as rows of its innermost (merged) dimension: dims of size 1 are
 * dropped, adjacent dims that are both reduced or both kept are merged. ostride is each
 * dim's stride in the output (0 for reduced dims). */
typedef struct rplan {
    int rank;
    int64_t dims[HOST_MAX_RANK];
    int64_t ostride[HOST_MAX_RANK];
    int reduced[HOST_MAX_RANK];
    int64_t total;
} rplan;

static void rplan_init(rplan *p, const host_tensor *x, const int *reduced)
{
    p->rank = 0;
    p->total = 1;
    for (int d = 0; d < x->rank; d++) {
        p->total *= x->dims[d];
        if (x->dims[d] == 1)
            continue;
        if (p->rank > 0 && p->reduced[p->rank - 1] == reduced[d]) {
            p->dims[p->rank - 1] *= x->dims[d];
            continue;
        }
        p->dims[p->rank] = x->dims[d];
        p->reduced[p->rank] = reduced[d];
        p->rank++;
    }
    if (p->rank == 0) {
        p->rank = 1;
        p->dims[0] = 1;
        p->reduced[0] = 0;
    }
    int64_t s = 1;
    for (int d = p->rank - 1; d >= 0; d--) {
        p->ostride[d] = p->reduced[d] ? 0 : s;
        if (!p->reduced[d])
            s *= p->dims[d];
    }
}

#define CHUNK 512

typedef struct rctx {
    int op;
    const host_tensor *x;
    double *acc;         /* double path: one accumulator per output element */
    uint64_t *iacc;      /* integer path */
    const double *shift; /* R_SUM_EXP: the maximum per output element */
    int uns;
} rctx;

/* UPDATE reads x and updates *s, the accumulator of the element. */
#define ACC_LOOP(TY, ACC, V, UPDATE)          \
    do {                                      \
        if (so) {                             \
            for (int64_t j = 0; j < n; j++) { \
                TY *s = &(ACC)[j];            \
                TY x = (V)[j];                \
                UPDATE;                       \
            }                                 \
        } else {                              \
            TY s0 = (ACC)[0], *s = &s0;       \
            for (int64_t j = 0; j < n; j++) { \
                TY x = (V)[j];                \
                UPDATE;                       \
            }                                 \
            (ACC)[0] = s0;                    \
        }                                     \
    } while (0)

static void acc_double(int op, double *acc, const double *shift, int64_t so, const double *v,
                       int64_t n)
{
    switch (op) {
    case R_SUM:
    case R_MEAN:
    case R_LOG_SUM: ACC_LOOP(double, acc, v, *s += x); break;
    case R_PROD: ACC_LOOP(double, acc, v, *s *= x); break;
    case R_MAX: ACC_LOOP(double, acc, v, if (x > *s || x != x) *s = x); break;
    case R_MIN: ACC_LOOP(double, acc, v, if (x < *s || x != x) *s = x); break;
    case R_L1: ACC_LOOP(double, acc, v, *s += fabs(x)); break;
    case R_L2:
    case R_SUM_SQUARE: ACC_LOOP(double, acc, v, *s += x * x); break;
    case R_SUM_EXP:
        if (so)
            for (int64_t j = 0; j < n; j++)
                acc[j] += exp(v[j] - shift[j]);
        else
            for (int64_t j = 0; j < n; j++)
                acc[0] += exp(v[j] - shift[0]);
        break;
    default: break;
    }
}

static void acc_int(int op, int uns, uint64_t *acc, int64_t so, const uint64_t *v, int64_t n)
{
    switch (op) {
    case R_SUM:
    case R_MEAN: ACC_LOOP(uint64_t, acc, v, *s += x); break;
    case R_PROD: ACC_LOOP(uint64_t, acc, v, *s *= x); break;
    case R_SUM_SQUARE: ACC_LOOP(uint64_t, acc, v, *s += x * x); break;
    case R_L1:
        if (uns)
            ACC_LOOP(uint64_t, acc, v, *s += x);
        else
            ACC_LOOP(uint64_t, acc, v, *s += (int64_t)x < 0 ? 0 - x : x);
        break;
    case R_MAX:
        if (uns)
            ACC_LOOP(uint64_t, acc, v, if (x > *s) *s = x);
        else
            ACC_LOOP(uint64_t, acc, v, if ((int64_t)x > (int64_t)*s) *s = x);
        break;
    case R_MIN:
        if (uns)
            ACC_LOOP(uint64_t, acc, v, if (x < *s) *s = x);
        else
            ACC_LOOP(uint64_t, acc, v, if ((int64_t)x < (int64_t)*s) *s = x);
        break;
    default: break;
    }
}

/* One row of n input elements from xi on; its output elements start at oo with stride so. */
static void reduce_row(rctx *c, int64_t xi, int64_t oo, int64_t so, int64_t n)
{
    for (int64_t j0 = 0; j0 < n; j0 += CHUNK) {
        int64_t m = n - j0 < CHUNK ? n - j0 : CHUNK;
        int64_t ob = oo + (so ? j0 : 0);
        if (c->acc) {
            double v[CHUNK];
            if (c->x->dtype == O2P_DTYPE_FLOAT) {
                const float *xs = (const float *)c->x->data + xi + j0;
                for (int64_t j = 0; j < m; j++)
                    v[j] = xs[j];
            } else {
                for (int64_t j = 0; j < m; j++)
                    v[j] = host_get_f64(c->x, xi + j0 + j);
            }
            acc_double(c->op, c->acc + ob, c->shift ? c->shift + ob : NULL, so, v, m);
        } else {
            uint64_t v[CHUNK];
            for (int64_t j = 0; j < m; j++)
                v[j] = (uint64_t)host_get_i64(c->x, xi + j0 + j);
            acc_int(c->op, c->uns, c->iacc + ob, so, v, m);
        }
    }
}

static void rplan_run(const rplan *p, rctx *c)
{
    int r = p->rank;
    int64_t n = p->dims[r - 1], so = p->ostride[r - 1] ? 1 : 0;
    int64_t idx[HOST_MAX_RANK] = {0}, oo = 0;
    if (p->total == 0)
        return;
    for (int64_t xi = 0; xi < p->total; xi += n) {
        reduce_row(c, xi, oo, so, n);
        for (int d = r - 2; d >= 0; d--) {
            oo += p->ostride[d];
            if (++idx[d] < p->dims[d])
                break;
            oo -= p->ostride[d] * p->dims[d];
            idx[d] = 0;
        }
    }
}

/* The smallest and largest values of an integer type, as 64-bit patterns. */
static void int_limits(o2p_dtype t, uint64_t *lo, uint64_t *hi)
{
    int bits = (int)o2p_dtype_size(t) * 8;
    if (is_unsigned(t)) {
        *lo = 0;
        *hi = bits >= 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    } else {
        *hi = bits >= 64 ? (uint64_t)INT64_MAX : ((uint64_t)1 << (bits - 1)) - 1;
        *lo = (uint64_t)(-(int64_t)*hi - 1);
    }
}

/* The reduced axes: from the axes attribute, or from opset 18 (ReduceSum: 13) from the
 * optional second input. *count 0 means none were given. */
static o2p_status read_axes(const host_kernel_args *a, int op, int64_t *axes, int *count, int *noop)
{
    int from_input = a->opset >= 18 || (op == R_SUM && a->opset >= 13);
    *count = 0;
    *noop = 0;
    if (from_input) {
        const host_tensor *t = host_in(a, 1);
        *noop = host_attr_int(a, "noop_with_empty_axes", 0) != 0;
        if (!t)
            return O2P_OK;
        int ok;
        int64_t n = host_numel(t, &ok);
        if (!ok || t->rank > 1 || (t->dtype != O2P_DTYPE_INT64 && t->dtype != O2P_DTYPE_INT32))
            return host_error(a, "axes must be a 1-D int64 tensor");
        if (n > HOST_MAX_RANK)
            return host_error(a, "%lld axes given, more than any tensor has", (long long)n);
        if (n > 0 && !t->data)
            return host_error(a, "axes has no data");
        *count = host_read_ints(t, axes, HOST_MAX_RANK);
        if (*count < 0)
            return host_error(a, "axes cannot be read");
        return O2P_OK;
    }
    const host_attr *at = host_attr_find(a, "axes");
    if (!at)
        return O2P_OK;
    if (at->type != O2P_ATTR_INTS || at->count < 0 || (at->count > 0 && !at->ints))
        return host_error(a, "the axes attribute must be a list of ints");
    if (at->count > HOST_MAX_RANK)
        return host_error(a, "%d axes given, more than any tensor has", at->count);
    memcpy(axes, at->ints, (size_t)at->count * sizeof *axes);
    *count = at->count;
    return O2P_OK;
}

static void store_double(host_tensor *y, int64_t i, double v)
{
    if (y->dtype == O2P_DTYPE_FLOAT)
        ((float *)y->data)[i] = (float)v;
    else
        host_set_f64(y, i, v);
}

static o2p_status run_reduce(const host_kernel_args *a, int op)
{
    const host_tensor *x;
    host_tensor *y;
    int64_t xn, yn, axes[HOST_MAX_RANK];
    int naxes, noop, reduced[HOST_MAX_RANK] = {0};
    O2P_TRY(need_numeric_input(a, 0, &x, &xn));
    O2P_TRY(read_axes(a, op, axes, &naxes, &noop));
    for (int k = 0; k < naxes; k++) {
        int d;
        if (!host_norm_axis(axes[k], x->rank, &d))
            return host_error(a, "axis %lld is out of range for rank %d", (long long)axes[k],
                              x->rank);
        if (x->rank == 0)
            continue;
        if (reduced[d])
            return host_error(a, "axis %lld is given twice", (long long)axes[k]);
        reduced[d] = 1;
    }
    if (naxes == 0 && noop) {
        O2P_TRY(need_output(a, x->dtype, x->rank, x->dims, &y, &yn));
        if (xn)
            memcpy(y->data, x->data, (size_t)xn * o2p_dtype_size(x->dtype));
        return O2P_OK;
    }
    if (naxes == 0)
        for (int d = 0; d < x->rank; d++)
            reduced[d] = 1;
    int keepdims = host_attr_int(a, "keepdims", 1) != 0, yrank = 0;
    int64_t ydims[HOST_MAX_RANK], count = 1;
    for (int d = 0; d < x->rank; d++) {
        if (reduced[d])
            count *= x->dims[d];
        if (!reduced[d] || keepdims)
            ydims[yrank++] = reduced[d] ? 1 : x->dims[d];
    }
    O2P_TRY(need_output(a, x->dtype, yrank, ydims, &y, &yn));

    int use_double = is_float(x->dtype) || op == R_L2 || op == R_LOG_SUM || op == R_LOG_SUM_EXP;
    size_t cells = yn > 0 ? (size_t)yn : 1;
    rplan p;
    rctx c = {.op = op, .x = x, .uns = is_unsigned(x->dtype)};
    rplan_init(&p, x, reduced);
    if (use_double) {
        double init = op == R_PROD                         ? 1.0
                      : op == R_MAX || op == R_LOG_SUM_EXP ? -INFINITY
                      : op == R_MIN                        ? INFINITY
                                                           : 0.0;
        double *acc = malloc(cells * sizeof *acc);
        double *mx = op == R_LOG_SUM_EXP ? malloc(cells * sizeof *mx) : NULL;
        if (!acc || (op == R_LOG_SUM_EXP && !mx)) {
            free(acc);
            free(mx);
            return out_of_memory(a);
        }
        for (int64_t i = 0; i < yn; i++)
            acc[i] = init;
        c.acc = acc;
        if (op == R_LOG_SUM_EXP) {
            /* the maximum first, so that exp never overflows */
            c.op = R_MAX;
            rplan_run(&p, &c);
            memcpy(mx, acc, (size_t)yn * sizeof *mx);
            for (int64_t i = 0; i < yn; i++)
                acc[i] = 0.0;
            c.op = R_SUM_EXP;
            c.shift = mx;
        }
        rplan_run(&p, &c);
        for (int64_t i = 0; i < yn; i++) {
            double v = acc[i];
            switch (op) {
            case R_MEAN: v /= (double)count; break;
            case R_L2: v = sqrt(v); break;
            case R_LOG_SUM: v = log(v); break;
            case R_LOG_SUM_EXP: v = isinf(mx[i]) ? mx[i] : log(v) + mx[i]; break;
            default: break;
            }
            store_double(y, i, v);
        }
        free(acc);
        free(mx);
        return O2P_OK;
    }

    uint64_t lo, hi, init = 0;
    int_limits(x->dtype, &lo, &hi);
    if (op == R_PROD)
        init = 1;
    else if (op == R_MAX)
        init = lo;
    else if (op == R_MIN)
        init = hi;
    uint64_t *iacc = malloc(cells * sizeof *iacc);
    if (!iacc)
        return out_of_memory(a);
    for (int64_t i = 0; i < yn; i++)
        iacc[i] = init;
    c.iacc = iacc;
    rplan_run(&p, &c);
    for (int64_t i = 0; i < yn; i++) {
        uint64_t v = iacc[i];
        if (op == R_MEAN)
            v = count == 0 ? 0 : c.uns ? v / (uint64_t)count : (uint64_t)((int64_t)v / count);
        host_set_i64(y, i, (int64_t)v);
    }
    free(iacc);
    return O2P_OK;
}

o2p_status host_reduce_mean(const host_kernel_args *a)
{
    return run_reduce(a, R_MEAN);
}

o2p_status host_reduce_sum(const host_kernel_args *a)
{
    return run_reduce(a, R_SUM);
}

o2p_status host_reduce_max(const host_kernel_args *a)
{
    return run_reduce(a, R_MAX);
}

o2p_status host_reduce_min(const host_kernel_args *a)
{
    return run_reduce(a, R_MIN);
}

o2p_status host_reduce_prod(const host_kernel_args *a)
{
    return run_reduce(a, R_PROD);
}

o2p_status host_reduce_l1(const host_kernel_args *a)
{
    return run_reduce(a, R_L1);
}

o2p_status host_reduce_l2(const host_kernel_args *a)
{
    return run_reduce(a, R_L2);
}

o2p_status host_reduce_sum_square(const host_kernel_args *a)
{
    return run_reduce(a, R_SUM_SQUARE);
}

o2p_status host_reduce_log_sum(const host_kernel_args *a)
{
    return run_reduce(a, R_LOG_SUM);
}

o2p_status host_reduce_log_sum_exp(const host_kernel_args *a)
{
    return run_reduce(a, R_LOG_SUM_EXP);
}

/* ---------------------------------------------------------------- ArgMax, ArgMin */

/* Whether v replaces best: strictly better, or as good with select_last_index. NaN counts as
 * the extreme (numpy's argmax/argmin return the first NaN). */
static int arg_better_f(int is_max, int last, double v, double best)
{
    if (v != v)
        return last || best == best;
    if (best != best)
        return 0;
    if (is_max)
        return last ? v >= best : v > best;
    return last ? v <= best : v < best;
}

static int arg_better_i(int is_max, int last, int64_t v, int64_t best)
{
    if (is_max)
        return last ? v >= best : v > best;
    return last ? v <= best : v < best;
}

static o2p_status run_arg(const host_kernel_args *a, int is_max)
{
    const host_tensor *x;
    host_tensor *y;
    int64_t xn, yn;
    int axis;
    O2P_TRY(need_numeric_input(a, 0, &x, &xn));
    int64_t ax = host_attr_int(a, "axis", 0);
    int keepdims = host_attr_int(a, "keepdims", 1) != 0;
    int last = host_attr_int(a, "select_last_index", 0) != 0;
    if (!host_norm_axis(ax, x->rank, &axis))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)ax, x->rank);
    int64_t ydims[HOST_MAX_RANK], outer = 1, inner = 1, k = 1;
    int yrank = 0;
    for (int d = 0; d < x->rank; d++) {
        if (d < axis)
            outer *= x->dims[d];
        else if (d > axis)
            inner *= x->dims[d];
        else
            k = x->dims[d];
        if (d != axis || keepdims)
            ydims[yrank++] = d == axis ? 1 : x->dims[d];
    }
    O2P_TRY(need_output(a, O2P_DTYPE_INT64, yrank, ydims, &y, &yn));
    if (yn == 0)
        return O2P_OK;
    if (k == 0)
        return host_error(a, "the reduced axis is empty");

    int64_t *idx = y->data;
    int fl = is_float(x->dtype);
    /* uint64 compares as signed after flipping the sign bit; narrower types fit int64 */
    uint64_t flip = x->dtype == O2P_DTYPE_UINT64 ? (uint64_t)1 << 63 : 0;
    size_t cells = inner > 0 ? (size_t)inner : 1;
    double *bf = fl ? malloc(cells * sizeof *bf) : NULL;
    int64_t *bi = fl ? NULL : malloc(cells * sizeof *bi);
    if (!bf && !bi)
        return out_of_memory(a);
    for (int64_t o = 0; o < outer; o++) {
        int64_t *yo = idx + o * inner;
        for (int64_t j = 0; j < k; j++) {
            int64_t base = (o * k + j) * inner;
            for (int64_t i = 0; i < inner; i++) {
                int take;
                if (fl) {
                    double v = x->dtype == O2P_DTYPE_FLOAT ? ((const float *)x->data)[base + i]
                                                           : host_get_f64(x, base + i);
                    take = j == 0 || arg_better_f(is_max, last, v, bf[i]);
                    if (take)
                        bf[i] = v;
                } else {
                    int64_t v = (int64_t)((uint64_t)host_get_i64(x, base + i) ^ flip);
                    take = j == 0 || arg_better_i(is_max, last, v, bi[i]);
                    if (take)
                        bi[i] = v;
                }
                if (take)
                    yo[i] = j;
            }
        }
    }
    free(bf);
    free(bi);
    return O2P_OK;
}

o2p_status host_argmax(const host_kernel_args *a)
{
    return run_arg(a, 1);
}

o2p_status host_argmin(const host_kernel_args *a)
{
    return run_arg(a, 0);
}
