/* elementwise.c: host reference kernels of the elementwise family: unary math and
 * activations, broadcasting binary arithmetic, comparisons and logic, variadic Min/Max/Sum/
 * Mean, Where, Cast, Identity and Dropout. Reductions and ArgMax/ArgMin live in
 * elementwise_reduce.c; this file holds the family's table.
 *
 * float32 arithmetic, comparisons, Where and the common activations run typed loops over
 * broadcast rows (no per-element dispatch); rarer float32 functions, float16, bfloat16 and
 * double are computed in double and rounded once per element; integers are computed in 64-bit
 * two's complement and wrap to their width, as the C++ runtimes do. Integer division by zero
 * is refused, INT_MIN / -1 wraps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/elementwise_internal.h"
#include "host/host_kernels.h"


/* ---------------------------------------------------------------- element types */

#define TBIT(t) (1u << (t))
#define T_FLOATS                                                                \
    (TBIT(O2P_DTYPE_FLOAT) | TBIT(O2P_DTYPE_DOUBLE) | TBIT(O2P_DTYPE_FLOAT16) | \
     TBIT(O2P_DTYPE_BFLOAT16))
#define T_SINTS \
    (TBIT(O2P_DTYPE_INT8) | TBIT(O2P_DTYPE_INT16) | TBIT(O2P_DTYPE_INT32) | TBIT(O2P_DTYPE_INT64))
#define T_UINTS                                                                \
    (TBIT(O2P_DTYPE_UINT8) | TBIT(O2P_DTYPE_UINT16) | TBIT(O2P_DTYPE_UINT32) | \
     TBIT(O2P_DTYPE_UINT64))
#define T_INTS (T_SINTS | T_UINTS)
#define T_NUM (T_FLOATS | T_INTS)
#define T_BOOL TBIT(O2P_DTYPE_BOOL)
#define T_ANY (T_NUM | T_BOOL)

static int type_in(o2p_dtype t, uint32_t set)
{
    return (unsigned)t < 32 && ((set >> (unsigned)t) & 1u);
}

static int is_float_type(o2p_dtype t)
{
    return type_in(t, T_FLOATS);
}

static int is_unsigned_type(o2p_dtype t)
{
    return type_in(t, T_UINTS | T_BOOL);
}

static int bit_width(o2p_dtype t)
{
    return (int)o2p_dtype_size(t) * 8;
}

/* ---------------------------------------------------------------- argument checks */

static void format_dims(char *buf, size_t cap, int rank, const int64_t *dims)
{
    size_t len = 0;
    buf[0] = '\0';
    len += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
}

/* Input i, present, with a valid shape and data; *numel its element count. */
static o2p_status need_input(const host_kernel_args *a, int i, const host_tensor **out,
                             int64_t *numel)
{
    const host_tensor *t = host_in(a, i);
    int ok;
    if (!t)
        return host_error(a, "input %d is missing", i);
    int64_t n = host_numel(t, &ok);
    size_t es = o2p_dtype_size(t->dtype);
    int64_t bytes;
    if (!ok || !o2p_mul_i64(n, es ? (int64_t)es : 1, &bytes))
        return host_error(a, "input %d has an invalid shape", i);
    if (n > 0 && !t->data)
        return host_error(a, "input %d has no data", i);
    *out = t;
    if (numel)
        *numel = n;
    return O2P_OK;
}

/* Output i, present, with element type dt and shape (rank, dims). */
static o2p_status need_output(const host_kernel_args *a, int i, o2p_dtype dt, int rank,
                              const int64_t *dims, host_tensor **out)
{
    host_tensor *t = host_out(a, i);
    int ok;
    if (!t)
        return host_error(a, "output %d is missing", i);
    if (t->dtype != dt)
        return host_error(a, "output %d has element type %s where %s is expected", i,
                          o2p_dtype_name(t->dtype), o2p_dtype_name(dt));
    if (!host_same_shape(t, rank, dims)) {
        char want[256], got[256];
        format_dims(want, sizeof want, rank, dims);
        if (t->rank >= 0 && t->rank <= HOST_MAX_RANK)
            format_dims(got, sizeof got, t->rank, t->dims);
        else
            snprintf(got, sizeof got, "of rank %d", t->rank);
        return host_error(a, "output %d has shape %s where %s is expected", i, got, want);
    }
    int64_t n = host_numel(t, &ok);
    if (!ok)
        return host_error(a, "output %d has an invalid shape", i);
    if (n > 0 && !t->data)
        return host_error(a, "output %d has no data", i);
    *out = t;
    return O2P_OK;
}

static o2p_status need_type(const host_kernel_args *a, const host_tensor *t, uint32_t set)
{
    return type_in(t->dtype, set) ? O2P_OK : host_unsupported_dtype(a, t->dtype);
}

/* A scalar input (any shape of one element) of the given type, read as double and int64. */
static o2p_status read_scalar(const host_kernel_args *a, int i, o2p_dtype want, double *d,
                              int64_t *v)
{
    const host_tensor *t;
    int64_t n;
    O2P_TRY(need_input(a, i, &t, &n));
    if (t->dtype != want)
        return host_error(a, "input %d has element type %s where %s is expected", i,
                          o2p_dtype_name(t->dtype), o2p_dtype_name(want));
    if (n != 1)
        return host_error(a, "input %d must be a scalar, it has %lld elements", i, (long long)n);
    if (d)
        *d = host_get_f64(t, 0);
    if (v)
        *v = host_get_i64(t, 0);
    return O2P_OK;
}

/* ---------------------------------------------------------------- broadcast iteration
 *
 * A plan walks the output in rows of its innermost dimension; each input has an element
 * stride per dimension (0 where it is broadcast). Size-1 dimensions are dropped and adjacent
 * dimensions that every input walks contiguously are merged, so the common cases (same
 * shapes, a scalar, a per-channel bias) become one or a few long rows whose input strides
 * are 0 or 1. */

#define BMAX 3

typedef struct bplan {
    int nin;
    int rank;
    int64_t total;
    int64_t dims[HOST_MAX_RANK];
    int64_t strides[BMAX][HOST_MAX_RANK];
} bplan;

/* o: the row's first output element; off: each input's first element; inner: each input's
 * stride along the row (0 or 1); n: the row's length. */
typedef void (*bplan_row_fn)(void *ctx, int64_t o, const int64_t *off, const int64_t *inner,
                             int64_t n);

/* ins broadcast into (rank, dims), which host_broadcast_shape gave and whose element count
 * is known not to overflow. */
static void bplan_init(bplan *p, int nin, const host_tensor *const *ins, int rank,
                       const int64_t *dims)
{
    int64_t st[BMAX][HOST_MAX_RANK];
    for (int k = 0; k < nin; k++)
        host_broadcast_strides(ins[k], rank, dims, st[k]);
    p->nin = nin;
    p->rank = 0;
    p->total = 1;
    for (int d = 0; d < rank; d++) {
        p->total *= dims[d];
        if (dims[d] == 1)
            continue;
        int r = p->rank;
        int merge = r > 0;
        for (int k = 0; k < nin && merge; k++)
            if (p->strides[k][r - 1] != st[k][d] * dims[d])
                merge = 0;
        if (merge) {
            p->dims[r - 1] *= dims[d];
            for (int k = 0; k < nin; k++)
                p->strides[k][r - 1] = st[k][d];
            continue;
        }
        p->dims[r] = dims[d];
        for (int k = 0; k < nin; k++)
            p->strides[k][r] = st[k][d];
        p->rank++;
    }
    if (p->rank == 0) {
        p->rank = 1;
        p->dims[0] = 1;
        for (int k = 0; k < nin; k++)
            p->strides[k][0] = 0;
    }
}

static void bplan_run(const bplan *p, bplan_row_fn row, void *ctx)
{
    int r = p->rank;
    int64_t n = p->dims[r - 1];
    int64_t idx[HOST_MAX_RANK] = {0};
    int64_t off[BMAX] = {0}, inner[BMAX];
    for (int k = 0; k < p->nin; k++)
        inner[k] = p->strides[k][r - 1];
    if (p->total == 0)
        return;
    for (int64_t o = 0; o < p->total; o += n) {
        row(ctx, o, off, inner, n);
        for (int d = r - 2; d >= 0; d--) {
            for (int k = 0; k < p->nin; k++)
                off[k] += p->strides[k][d];
            if (++idx[d] < p->dims[d])
                break;
            for (int k = 0; k < p->nin; k++)
                off[k] -= p->strides[k][d] * p->dims[d];
            idx[d] = 0;
        }
    }
}

/* Broadcast shape of ins; fails with a message naming the shapes. */
static o2p_status broadcast_shape(const host_kernel_args *a, int n, const host_tensor *const *ins,
                                  int *rank, int64_t *dims)
{
    if (host_broadcast_shape(n, ins, rank, dims))
        return O2P_OK;
    char msg[512] = "", buf[256];
    for (int k = 0; k < n; k++) {
        format_dims(buf, sizeof buf, ins[k]->rank, ins[k]->dims);
        strncat(msg, k ? " and " : "", sizeof msg - strlen(msg) - 1);
        strncat(msg, buf, sizeof msg - strlen(msg) - 1);
    }
    return host_error(a, "input shapes %s do not broadcast", msg);
}

/* Copies src broadcast into dst (same element type, dst's shape is the broadcast one). */
typedef struct copy_ctx {
    const unsigned char *src;
    unsigned char *dst;
    size_t es;
} copy_ctx;

static void copy_row(void *vc, int64_t o, const int64_t *off, const int64_t *inner, int64_t n)
{
    copy_ctx *c = vc;
    unsigned char *d = c->dst + (size_t)o * c->es;
    const unsigned char *s = c->src + (size_t)off[0] * c->es;
    if (inner[0]) {
        memcpy(d, s, (size_t)n * c->es);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        memcpy(d + (size_t)i * c->es, s, c->es);
}

static void broadcast_copy(const host_tensor *src, host_tensor *dst)
{
    bplan p;
    const host_tensor *ins[1] = {src};
    copy_ctx c = {src->data, dst->data, o2p_dtype_size(src->dtype)};
    bplan_init(&p, 1, ins, dst->rank, dst->dims);
    bplan_run(&p, copy_row, &c);
}

/* ---------------------------------------------------------------- binary operations */

/* clang-format off */
enum binop {
    B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MOD, B_FMOD, B_MAX, B_MIN, B_PRELU,
    B_EQ, B_LT, B_GT, B_LE, B_GE,
    B_AND, B_OR, B_XOR,
    B_BITAND, B_BITOR, B_BITXOR, B_SHL, B_SHR,
    B_COUNT
};
/* clang-format on */

static int binop_is_compare(int op)
{
    return op >= B_EQ && op <= B_XOR;
}

/* float32 rows. Inputs are walked with stride 0 or 1; y may be pa (the variadic ops
 * accumulate in place), never pb. */
typedef void (*f32_row_fn)(float *y, const float *pa, int64_t sa, const float *pb, int64_t sb,
                           int64_t n);
typedef void (*f32_cmp_row_fn)(uint8_t *y, const float *pa, int64_t sa, const float *pb, int64_t sb,
                               int64_t n);

#define DEFINE_ROW(NAME, TY, EXPR)                                                               \
    static void NAME(TY *y, const float *pa, int64_t sa, const float *pb, int64_t sb, int64_t n) \
    {                                                                                            \
        if (sa && sb) {                                                                          \
            for (int64_t i = 0; i < n; i++) {                                                    \
                float a = pa[i], b = pb[i];                                                      \
                y[i] = (EXPR);                                                                   \
            }                                                                                    \
        } else if (sa) {                                                                         \
            const float b = pb[0];                                                               \
            for (int64_t i = 0; i < n; i++) {                                                    \
                float a = pa[i];                                                                 \
                y[i] = (EXPR);                                                                   \
            }                                                                                    \
        } else if (sb) {                                                                         \
            const float a = pa[0];                                                               \
            for (int64_t i = 0; i < n; i++) {                                                    \
                float b = pb[i];                                                                 \
                y[i] = (EXPR);                                                                   \
            }                                                                                    \
        } else {                                                                                 \
            const float a = pa[0], b = pb[0];                                                    \
            const TY v = (EXPR);                                                                 \
            for (int64_t i = 0; i < n; i++)                                                      \
                y[i] = v;                                                                        \
        }                                                                                        \
    }

/* Max/Min propagate NaN from either side, as numpy's maximum/minimum. */
/* clang-format off */
DEFINE_ROW(f32_add, float, a + b)
DEFINE_ROW(f32_sub, float, a - b)
DEFINE_ROW(f32_mul, float, a * b)
DEFINE_ROW(f32_div, float, a / b)
DEFINE_ROW(f32_pow, float, powf(a, b))
DEFINE_ROW(f32_fmod, float, fmodf(a, b))
DEFINE_ROW(f32_max, float, (a > b || a != a) ? a : b)
DEFINE_ROW(f32_min, float, (a < b || a != a) ? a : b)
DEFINE_ROW(f32_prelu, float, a < 0 ? a * b : a)
DEFINE_ROW(f32_eq, uint8_t, a == b)
DEFINE_ROW(f32_lt, uint8_t, a < b)
DEFINE_ROW(f32_gt, uint8_t, a > b)
DEFINE_ROW(f32_le, uint8_t, a <= b)
DEFINE_ROW(f32_ge, uint8_t, a >= b)

static const f32_row_fn f32_rows[B_COUNT] = {
    [B_ADD] = f32_add, [B_SUB] = f32_sub, [B_MUL] = f32_mul,   [B_DIV] = f32_div,
    [B_POW] = f32_pow, [B_FMOD] = f32_fmod, [B_MAX] = f32_max, [B_MIN] = f32_min,
    [B_PRELU] = f32_prelu,
};

static const f32_cmp_row_fn f32_cmp_rows[B_COUNT] = {
    [B_EQ] = f32_eq, [B_LT] = f32_lt, [B_GT] = f32_gt, [B_LE] = f32_le, [B_GE] = f32_ge,
};
/* clang-format on */

enum { MODE_F32, MODE_F32_CMP, MODE_FLOAT, MODE_INT };
enum { BERR_NONE, BERR_DIV_ZERO, BERR_ZERO_NEG_POW };

typedef struct bin_ctx {
    int op;
    int mode;
    const host_tensor *x, *y; /* operands A and B */
    host_tensor *z;           /* output */
    int x_uns, y_uns;         /* operands read as unsigned */
    int x_bool, y_bool;       /* operands are bool: any non-zero byte is true */
    int bits;                 /* width of the element type (shifts) */
    int err;
} bin_ctx;

static double float_binary(int op, double x, double y)
{
    switch (op) {
    case B_ADD: return x + y;
    case B_SUB: return x - y;
    case B_MUL: return x * y;
    case B_DIV: return x / y;
    case B_POW: return pow(x, y);
    case B_FMOD: return fmod(x, y);
    case B_MAX: return (x > y || x != x) ? x : y;
    case B_MIN: return (x < y || x != x) ? x : y;
    case B_PRELU: return x < 0 ? x * y : x;
    case B_EQ: return x == y;
    case B_LT: return x < y;
    case B_GT: return x > y;
    case B_LE: return x <= y;
    case B_GE: return x >= y;
    default: return 0;
    }
}

/* x ** y in wrapping integer arithmetic; a negative exponent gives what C++'s
 * static_cast<T>(std::pow(x, y)) gives (0 unless |x| == 1), and 0 ** -n is refused. */
static int64_t int_pow(bin_ctx *c, int64_t x, int64_t y)
{
    if (!c->y_uns && y < 0) {
        if (x == 1)
            return 1;
        if (!c->x_uns && x == -1)
            return (y & 1) ? -1 : 1;
        if (x == 0)
            c->err = BERR_ZERO_NEG_POW;
        return 0;
    }
    uint64_t r = 1, base = (uint64_t)x, e = (uint64_t)y;
    while (e) {
        if (e & 1)
            r *= base;
        base *= base;
        e >>= 1;
    }
    return (int64_t)r;
}

/* Integer (and bool) operations on values read by host_get_i64: zero-extended for unsigned
 * types, the bit pattern for uint64. Results wrap when stored into a narrower type. */
static int64_t int_binary(bin_ctx *c, int64_t x, int64_t y)
{
    uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
    int uns = c->x_uns;
    switch (c->op) {
    case B_ADD: return (int64_t)(ux + uy);
    case B_SUB: return (int64_t)(ux - uy);
    case B_MUL: return (int64_t)(ux * uy);
    case B_DIV:
        if (y == 0) {
            c->err = BERR_DIV_ZERO;
            return 0;
        }
        if (uns)
            return (int64_t)(ux / uy);
        if (y == -1)
            return (int64_t)(0 - ux); /* INT_MIN / -1 wraps to INT_MIN */
        return x / y;
    case B_MOD:  /* sign of the divisor, as Python's % */
    case B_FMOD: /* sign of the dividend, as C's % */
        if (y == 0) {
            c->err = BERR_DIV_ZERO;
            return 0;
        }
        if (uns)
            return (int64_t)(ux % uy);
        if (y == -1)
            return 0;
        {
            int64_t r = x % y;
            if (c->op == B_MOD && r != 0 && ((r < 0) != (y < 0)))
                r += y;
            return r;
        }
    case B_POW: return int_pow(c, x, y);
    case B_MAX: return (uns ? ux > uy : x > y) ? x : y;
    case B_MIN: return (uns ? ux < uy : x < y) ? x : y;
    case B_PRELU: return !uns && x < 0 ? (int64_t)(ux * uy) : x;
    case B_EQ: return x == y;
    case B_LT: return uns ? ux < uy : x < y;
    case B_GT: return uns ? ux > uy : x > y;
    case B_LE: return uns ? ux <= uy : x <= y;
    case B_GE: return uns ? ux >= uy : x >= y;
    case B_AND: return x && y;
    case B_OR: return x || y;
    case B_XOR: return !x != !y;
    case B_BITAND: return (int64_t)(ux & uy);
    case B_BITOR: return (int64_t)(ux | uy);
    case B_BITXOR: return (int64_t)(ux ^ uy);
    case B_SHL: return uy >= (uint64_t)c->bits ? 0 : (int64_t)(ux << uy);
    case B_SHR: return uy >= (uint64_t)c->bits ? 0 : (int64_t)(ux >> uy);
    default: return 0;
    }
}

static void binary_row(void *vc, int64_t o, const int64_t *off, const int64_t *inner, int64_t n)
{
    bin_ctx *c = vc;
    switch (c->mode) {
    case MODE_F32:
        f32_rows[c->op]((float *)c->z->data + o, (const float *)c->x->data + off[0], inner[0],
                        (const float *)c->y->data + off[1], inner[1], n);
        return;
    case MODE_F32_CMP:
        f32_cmp_rows[c->op]((uint8_t *)c->z->data + o, (const float *)c->x->data + off[0], inner[0],
                            (const float *)c->y->data + off[1], inner[1], n);
        return;
    case MODE_FLOAT:
        for (int64_t i = 0; i < n; i++) {
            double x = host_get_f64(c->x, off[0] + i * inner[0]);
            double y = host_get_f64(c->y, off[1] + i * inner[1]);
            host_set_f64(c->z, o + i, float_binary(c->op, x, y));
        }
        return;
    default:
        for (int64_t i = 0; i < n; i++) {
            int64_t x = host_get_i64(c->x, off[0] + i * inner[0]);
            int64_t y = host_get_i64(c->y, off[1] + i * inner[1]);
            if (c->x_bool)
                x = x != 0;
            if (c->y_bool)
                y = y != 0;
            host_set_i64(c->z, o + i, int_binary(c, x, y));
        }
        return;
    }
}

/* z = op(x, y) broadcast; z already checked against the broadcast shape. */
static o2p_status binary_apply(const host_kernel_args *a, int op, const host_tensor *x,
                               const host_tensor *y, host_tensor *z)
{
    bin_ctx c = {.op = op, .x = x, .y = y, .z = z};
    c.x_uns = is_unsigned_type(x->dtype);
    c.y_uns = is_unsigned_type(y->dtype);
    c.x_bool = x->dtype == O2P_DTYPE_BOOL;
    c.y_bool = y->dtype == O2P_DTYPE_BOOL;
    c.bits = bit_width(x->dtype);
    if (x->dtype == O2P_DTYPE_FLOAT && y->dtype == O2P_DTYPE_FLOAT && f32_rows[op])
        c.mode = MODE_F32;
    else if (x->dtype == O2P_DTYPE_FLOAT && y->dtype == O2P_DTYPE_FLOAT && f32_cmp_rows[op])
        c.mode = MODE_F32_CMP;
    else if (is_float_type(x->dtype) || is_float_type(y->dtype))
        c.mode = MODE_FLOAT;
    else
        c.mode = MODE_INT;
    bplan p;
    const host_tensor *ins[2] = {x, y};
    bplan_init(&p, 2, ins, z->rank, z->dims);
    bplan_run(&p, binary_row, &c);
    if (c.err == BERR_DIV_ZERO)
        return host_error(a, "integer division by zero");
    if (c.err == BERR_ZERO_NEG_POW)
        return host_error(a, "integer zero raised to a negative power");
    return O2P_OK;
}

/* A binary op of two inputs of one type from `types` (Pow: the exponent may be any numeric
 * type), broadcast; the output has the input type, or bool for comparisons. */
static o2p_status binary_checked(const host_kernel_args *a, int op, uint32_t types,
                                 const host_tensor *x, const host_tensor *y)
{
    host_tensor *z;
    int rank;
    int64_t dims[HOST_MAX_RANK];
    O2P_TRY(need_type(a, x, types));
    if (op == B_POW) {
        O2P_TRY(need_type(a, y, T_NUM));
    } else if (y->dtype != x->dtype) {
        return host_error(a, "inputs have different element types (%s and %s)",
                          o2p_dtype_name(x->dtype), o2p_dtype_name(y->dtype));
    }
    const host_tensor *ins[2] = {x, y};
    O2P_TRY(broadcast_shape(a, 2, ins, &rank, dims));
    if (op == B_PRELU && !host_same_shape(x, rank, dims))
        return host_error(a, "slope does not broadcast to the shape of X");
    o2p_dtype zt = binop_is_compare(op) ? O2P_DTYPE_BOOL : x->dtype;
    O2P_TRY(need_output(a, 0, zt, rank, dims, &z));
    return binary_apply(a, op, x, y, z);
}

static o2p_status run_binary(const host_kernel_args *a, int op, uint32_t types)
{
    const host_tensor *x, *y;
    O2P_TRY(need_input(a, 0, &x, NULL));
    O2P_TRY(need_input(a, 1, &y, NULL));
    return binary_checked(a, op, types, x, y);
}

#define BINARY_KERNEL(NAME, OP, TYPES)                \
    static o2p_status NAME(const host_kernel_args *a) \
    {                                                 \
        return run_binary(a, OP, TYPES);              \
    }

BINARY_KERNEL(k_add, B_ADD, T_NUM)
BINARY_KERNEL(k_sub, B_SUB, T_NUM)
BINARY_KERNEL(k_mul, B_MUL, T_NUM)
BINARY_KERNEL(k_div, B_DIV, T_NUM)
BINARY_KERNEL(k_pow, B_POW, T_NUM)
/* Before opset 7 a 1-D slope of C values is per channel (axis 1), not numpy-broadcast. */
static o2p_status k_prelu(const host_kernel_args *a)
{
    const host_tensor *x, *slope;
    O2P_TRY(need_input(a, 0, &x, NULL));
    O2P_TRY(need_input(a, 1, &slope, NULL));
    if (a->opset < 7 && slope->rank == 1 && slope->dims[0] != 1 && x->rank >= 2 &&
        slope->dims[0] == x->dims[1]) {
        host_tensor per_channel = *slope;
        per_channel.rank = x->rank - 1;
        for (int d = 1; d < per_channel.rank; d++)
            per_channel.dims[d] = 1;
        return binary_checked(a, B_PRELU, T_NUM, x, &per_channel);
    }
    return binary_checked(a, B_PRELU, T_NUM, x, slope);
}
BINARY_KERNEL(k_equal, B_EQ, T_ANY)
BINARY_KERNEL(k_less, B_LT, T_NUM)
BINARY_KERNEL(k_greater, B_GT, T_NUM)
BINARY_KERNEL(k_less_equal, B_LE, T_NUM)
BINARY_KERNEL(k_greater_equal, B_GE, T_NUM)
BINARY_KERNEL(k_and, B_AND, T_BOOL)
BINARY_KERNEL(k_or, B_OR, T_BOOL)
BINARY_KERNEL(k_xor, B_XOR, T_BOOL)
BINARY_KERNEL(k_bitwise_and, B_BITAND, T_INTS)
BINARY_KERNEL(k_bitwise_or, B_BITOR, T_INTS)
BINARY_KERNEL(k_bitwise_xor, B_BITXOR, T_INTS)

static o2p_status k_mod(const host_kernel_args *a)
{
    int64_t fmod_attr = host_attr_int(a, "fmod", 0);
    const host_tensor *x = host_in(a, 0);
    if (fmod_attr != 0 && fmod_attr != 1)
        return host_error(a, "fmod must be 0 or 1, not %lld", (long long)fmod_attr);
    if (x && is_float_type(x->dtype) && !fmod_attr)
        return host_error(a, "floating-point Mod needs fmod=1");
    return run_binary(a, fmod_attr ? B_FMOD : B_MOD, T_NUM);
}

static o2p_status k_bitshift(const host_kernel_args *a)
{
    const char *dir = host_attr_string(a, "direction", NULL);
    if (!dir)
        return host_error(a, "the direction attribute is missing");
    if (strcmp(dir, "LEFT") == 0)
        return run_binary(a, B_SHL, T_UINTS);
    if (strcmp(dir, "RIGHT") == 0)
        return run_binary(a, B_SHR, T_UINTS);
    return host_error(a, "direction must be LEFT or RIGHT, not '%s'", dir);
}

/* Min, Max, Sum, Mean: one or more inputs of one type, all broadcast together. */
static o2p_status run_variadic(const host_kernel_args *a, int op, uint32_t types, int mean)
{
    int n = a->num_inputs;
    host_tensor *z;
    int rank;
    int64_t dims[HOST_MAX_RANK];
    o2p_status s = O2P_OK;
    if (n < 1)
        return host_error(a, "needs at least one input");
    const host_tensor **ins = malloc((size_t)n * sizeof *ins);
    if (!ins)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    for (int k = 0; k < n && s == O2P_OK; k++) {
        s = need_input(a, k, &ins[k], NULL);
        if (s == O2P_OK && k == 0)
            s = need_type(a, ins[0], types);
        else if (s == O2P_OK && ins[k]->dtype != ins[0]->dtype)
            s = host_error(a, "inputs have different element types (%s and %s)",
                           o2p_dtype_name(ins[0]->dtype), o2p_dtype_name(ins[k]->dtype));
    }
    if (s == O2P_OK)
        s = broadcast_shape(a, n, ins, &rank, dims);
    if (s == O2P_OK)
        s = need_output(a, 0, ins[0]->dtype, rank, dims, &z);
    if (s == O2P_OK)
        broadcast_copy(ins[0], z);
    for (int k = 1; k < n && s == O2P_OK; k++)
        s = binary_apply(a, op, z, ins[k], z);
    free(ins);
    O2P_TRY(s);
    if (mean && n > 1) {
        int ok;
        int64_t count = host_numel(z, &ok);
        if (z->dtype == O2P_DTYPE_FLOAT) {
            float *p = z->data;
            for (int64_t i = 0; i < count; i++)
                p[i] /= (float)n;
        } else {
            for (int64_t i = 0; i < count; i++)
                host_set_f64(z, i, host_get_f64(z, i) / n);
        }
    }
    return O2P_OK;
}

#define VARIADIC_KERNEL(NAME, OP, TYPES, MEAN)        \
    static o2p_status NAME(const host_kernel_args *a) \
    {                                                 \
        return run_variadic(a, OP, TYPES, MEAN);      \
    }

VARIADIC_KERNEL(k_max, B_MAX, T_NUM, 0)
VARIADIC_KERNEL(k_min, B_MIN, T_NUM, 0)
VARIADIC_KERNEL(k_sum, B_ADD, T_FLOATS, 0)
VARIADIC_KERNEL(k_mean, B_ADD, T_FLOATS, 1)

/* ---------------------------------------------------------------- Where */

typedef struct where_ctx {
    const uint8_t *cond;
    const unsigned char *x, *y;
    unsigned char *z;
    size_t es;
} where_ctx;

#define WHERE_LOOP(TY)                                                           \
    do {                                                                         \
        TY *z = (TY *)c->z + o;                                                  \
        const TY *x = (const TY *)c->x + off[1], *y = (const TY *)c->y + off[2]; \
        for (int64_t i = 0; i < n; i++)                                          \
            z[i] = cond[i * inner[0]] ? x[i * inner[1]] : y[i * inner[2]];       \
    } while (0)

static void where_row(void *vc, int64_t o, const int64_t *off, const int64_t *inner, int64_t n)
{
    where_ctx *c = vc;
    const uint8_t *cond = c->cond + off[0];
    switch (c->es) {
    case 1: WHERE_LOOP(uint8_t); break;
    case 2: WHERE_LOOP(uint16_t); break;
    case 4: WHERE_LOOP(uint32_t); break;
    default: WHERE_LOOP(uint64_t); break;
    }
}

static o2p_status k_where(const host_kernel_args *a)
{
    const host_tensor *ins[3];
    host_tensor *z;
    int rank;
    int64_t dims[HOST_MAX_RANK];
    for (int k = 0; k < 3; k++)
        O2P_TRY(need_input(a, k, &ins[k], NULL));
    if (ins[0]->dtype != O2P_DTYPE_BOOL)
        return host_error(a, "the condition has element type %s, not bool",
                          o2p_dtype_name(ins[0]->dtype));
    O2P_TRY(need_type(a, ins[1], T_ANY));
    if (ins[2]->dtype != ins[1]->dtype)
        return host_error(a, "X and Y have different element types (%s and %s)",
                          o2p_dtype_name(ins[1]->dtype), o2p_dtype_name(ins[2]->dtype));
    O2P_TRY(broadcast_shape(a, 3, ins, &rank, dims));
    O2P_TRY(need_output(a, 0, ins[1]->dtype, rank, dims, &z));
    where_ctx c = {ins[0]->data, ins[1]->data, ins[2]->data, z->data, o2p_dtype_size(z->dtype)};
    bplan p;
    bplan_init(&p, 3, ins, rank, dims);
    bplan_run(&p, where_row, &c);
    return O2P_OK;
}

/* ---------------------------------------------------------------- unary operations */

/* clang-format off */
enum unop {
    U_ABS, U_NEG, U_SIGN, U_RELU, U_CLIP, U_SHRINK, U_BITNOT, U_NOT, /* numeric or more */
    U_SQRT, U_EXP, U_LOG, U_RECIP, U_FLOOR, U_CEIL, U_ROUND,
    U_LEAKY_RELU, U_ELU, U_SELU, U_CELU, U_SIGMOID, U_HARD_SIGMOID, U_HARD_SWISH, U_TANH,
    U_ERF, U_SOFTPLUS, U_SOFTSIGN, U_MISH, U_THRESHOLDED_RELU,
    U_SIN, U_COS, U_TAN, U_ASIN, U_ACOS, U_ATAN, U_SINH, U_COSH, U_ASINH, U_ACOSH, U_ATANH,
    U_ISNAN, U_ISINF
};
/* clang-format on */

typedef struct uparams {
    double alpha, beta, gamma;
    double lo, hi;    /* Clip bounds for float types */
    int64_t ilo, ihi; /* Clip bounds for integer types */
    int has_lo, has_hi;
    int detect_neg, detect_pos;
} uparams;

static double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double float_unary(int op, const uparams *p, double x)
{
    switch (op) {
    case U_ABS: return fabs(x);
    case U_NEG: return -x;
    case U_SIGN: return x != x ? x : (double)((x > 0) - (x < 0));
    case U_RELU: return x < 0 ? 0.0 : x;
    case U_CLIP:
        if (p->has_lo && x < p->lo)
            x = p->lo;
        if (p->has_hi && x > p->hi)
            x = p->hi;
        return x;
    case U_SHRINK: return x < -p->beta ? x + p->alpha : x > p->beta ? x - p->alpha : 0.0;
    case U_SQRT: return sqrt(x);
    case U_EXP: return exp(x);
    case U_LOG: return log(x);
    case U_RECIP: return 1.0 / x;
    case U_FLOOR: return floor(x);
    case U_CEIL: return ceil(x);
    case U_ROUND: return nearbyint(x); /* half to even in the default rounding mode */
    case U_LEAKY_RELU: return x < 0 ? p->alpha * x : x;
    case U_ELU: return x < 0 ? p->alpha * (exp(x) - 1.0) : x;
    case U_SELU: return x > 0 ? p->gamma * x : p->gamma * (p->alpha * exp(x) - p->alpha);
    case U_CELU: return fmax(0.0, x) + fmin(0.0, p->alpha * (exp(x / p->alpha) - 1.0));
    case U_SIGMOID: return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
    case U_HARD_SIGMOID: return fmax(0.0, fmin(1.0, p->alpha * x + p->beta));
    case U_HARD_SWISH: return x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5));
    case U_TANH: return tanh(x);
    case U_ERF: return erf(x);
    case U_SOFTPLUS: return softplus(x);
    case U_SOFTSIGN: return x / (1.0 + fabs(x));
    case U_MISH: return x * tanh(softplus(x));
    case U_THRESHOLDED_RELU: return x > p->alpha ? x : 0.0;
    case U_SIN: return sin(x);
    case U_COS: return cos(x);
    case U_TAN: return tan(x);
    case U_ASIN: return asin(x);
    case U_ACOS: return acos(x);
    case U_ATAN: return atan(x);
    case U_SINH: return sinh(x);
    case U_COSH: return cosh(x);
    case U_ASINH: return asinh(x);
    case U_ACOSH: return acosh(x);
    case U_ATANH: return atanh(x);
    case U_ISNAN: return isnan(x);
    case U_ISINF: return isinf(x) && ((x > 0 && p->detect_pos) || (x < 0 && p->detect_neg));
    default: return 0;
    }
}

/* The hot float32 activations in typed loops; 0 when op has none (the caller then goes
 * through float_unary in double). */
static int f32_unary(int op, const uparams *p, float *y, const float *x, int64_t n)
{
    const float alpha = (float)p->alpha, beta = (float)p->beta;
    switch (op) {
    case U_ABS:
        for (int64_t i = 0; i < n; i++)
            y[i] = fabsf(x[i]);
        return 1;
    case U_NEG:
        for (int64_t i = 0; i < n; i++)
            y[i] = -x[i];
        return 1;
    case U_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? 0.0f : x[i];
        return 1;
    case U_CLIP: {
        const float lo = p->has_lo ? (float)p->lo : -INFINITY;
        const float hi = p->has_hi ? (float)p->hi : INFINITY;
        for (int64_t i = 0; i < n; i++) {
            float v = x[i];
            v = v < lo ? lo : v;
            y[i] = v > hi ? hi : v;
        }
        return 1;
    }
    case U_SQRT:
        for (int64_t i = 0; i < n; i++)
            y[i] = sqrtf(x[i]);
        return 1;
    case U_EXP:
        for (int64_t i = 0; i < n; i++)
            y[i] = expf(x[i]);
        return 1;
    case U_LOG:
        for (int64_t i = 0; i < n; i++)
            y[i] = logf(x[i]);
        return 1;
    case U_RECIP:
        for (int64_t i = 0; i < n; i++)
            y[i] = 1.0f / x[i];
        return 1;
    case U_FLOOR:
        for (int64_t i = 0; i < n; i++)
            y[i] = floorf(x[i]);
        return 1;
    case U_CEIL:
        for (int64_t i = 0; i < n; i++)
            y[i] = ceilf(x[i]);
        return 1;
    case U_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? alpha * x[i] : x[i];
        return 1;
    case U_ELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < 0 ? alpha * (expf(x[i]) - 1.0f) : x[i];
        return 1;
    case U_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = 1.0f / (1.0f + expf(-x[i]));
        return 1;
    case U_HARD_SIGMOID:
        for (int64_t i = 0; i < n; i++) {
            float v = alpha * x[i] + beta;
            y[i] = v < 0 ? 0.0f : v > 1 ? 1.0f : v;
        }
        return 1;
    case U_HARD_SWISH:
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] * (1.0f / 6.0f) + 0.5f;
            y[i] = x[i] * (v < 0 ? 0.0f : v > 1 ? 1.0f : v);
        }
        return 1;
    case U_TANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = tanhf(x[i]);
        return 1;
    case U_ERF:
        for (int64_t i = 0; i < n; i++)
            y[i] = erff(x[i]);
        return 1;
    default: return 0;
    }
}

static int64_t int_unary(int op, const uparams *p, int64_t x, int uns)
{
    uint64_t ux = (uint64_t)x;
    switch (op) {
    case U_ABS: return uns || x >= 0 ? x : (int64_t)(0 - ux);
    case U_NEG: return (int64_t)(0 - ux);
    case U_SIGN: return uns ? x != 0 : (x > 0) - (x < 0);
    case U_RELU: return !uns && x < 0 ? 0 : x;
    case U_CLIP:
        if (uns) {
            if (p->has_lo && ux < (uint64_t)p->ilo)
                x = p->ilo;
            if (p->has_hi && (uint64_t)x > (uint64_t)p->ihi)
                x = p->ihi;
        } else {
            if (p->has_lo && x < p->ilo)
                x = p->ilo;
            if (p->has_hi && x > p->ihi)
                x = p->ihi;
        }
        return x;
    case U_BITNOT: return (int64_t)~ux;
    case U_NOT: return x == 0;
    default: return 0;
    }
}

/* y = op(x) for x of a type in `types`; the output has x's type, or bool for IsNaN/IsInf. */
static o2p_status run_unary(const host_kernel_args *a, int op, uint32_t types, const uparams *p)
{
    const host_tensor *x;
    host_tensor *y;
    int64_t n;
    O2P_TRY(need_input(a, 0, &x, &n));
    O2P_TRY(need_type(a, x, types));
    o2p_dtype yt = op == U_ISNAN || op == U_ISINF ? O2P_DTYPE_BOOL : x->dtype;
    O2P_TRY(need_output(a, 0, yt, x->rank, x->dims, &y));
    if (x->dtype == O2P_DTYPE_FLOAT && yt == O2P_DTYPE_FLOAT) {
        const float *xs = x->data;
        float *ys = y->data;
        if (!f32_unary(op, p, ys, xs, n))
            for (int64_t i = 0; i < n; i++)
                ys[i] = (float)float_unary(op, p, xs[i]);
    } else if (is_float_type(x->dtype) || op == U_SHRINK) {
        for (int64_t i = 0; i < n; i++)
            host_set_f64(y, i, float_unary(op, p, host_get_f64(x, i)));
    } else {
        int uns = is_unsigned_type(x->dtype);
        for (int64_t i = 0; i < n; i++)
            host_set_i64(y, i, int_unary(op, p, host_get_i64(x, i), uns));
    }
    return O2P_OK;
}

#define UNARY_KERNEL(NAME, OP, TYPES)                 \
    static o2p_status NAME(const host_kernel_args *a) \
    {                                                 \
        uparams p = {0};                              \
        return run_unary(a, OP, TYPES, &p);           \
    }

UNARY_KERNEL(k_abs, U_ABS, T_NUM)
UNARY_KERNEL(k_neg, U_NEG, T_FLOATS | T_SINTS)
UNARY_KERNEL(k_sign, U_SIGN, T_NUM)
UNARY_KERNEL(k_relu, U_RELU, T_FLOATS | T_SINTS)
UNARY_KERNEL(k_bitwise_not, U_BITNOT, T_INTS)
UNARY_KERNEL(k_not, U_NOT, T_BOOL)
UNARY_KERNEL(k_sqrt, U_SQRT, T_FLOATS)
UNARY_KERNEL(k_exp, U_EXP, T_FLOATS)
UNARY_KERNEL(k_log, U_LOG, T_FLOATS)
UNARY_KERNEL(k_reciprocal, U_RECIP, T_FLOATS)
UNARY_KERNEL(k_floor, U_FLOOR, T_FLOATS)
UNARY_KERNEL(k_ceil, U_CEIL, T_FLOATS)
UNARY_KERNEL(k_round, U_ROUND, T_FLOATS)
UNARY_KERNEL(k_sigmoid, U_SIGMOID, T_FLOATS)
UNARY_KERNEL(k_hard_swish, U_HARD_SWISH, T_FLOATS)
UNARY_KERNEL(k_tanh, U_TANH, T_FLOATS)
UNARY_KERNEL(k_erf, U_ERF, T_FLOATS)
UNARY_KERNEL(k_softplus, U_SOFTPLUS, T_FLOATS)
UNARY_KERNEL(k_softsign, U_SOFTSIGN, T_FLOATS)
UNARY_KERNEL(k_mish, U_MISH, T_FLOATS)
UNARY_KERNEL(k_sin, U_SIN, T_FLOATS)
UNARY_KERNEL(k_cos, U_COS, T_FLOATS)
UNARY_KERNEL(k_tan, U_TAN, T_FLOATS)
UNARY_KERNEL(k_asin, U_ASIN, T_FLOATS)
UNARY_KERNEL(k_acos, U_ACOS, T_FLOATS)
UNARY_KERNEL(k_atan, U_ATAN, T_FLOATS)
UNARY_KERNEL(k_sinh, U_SINH, T_FLOATS)
UNARY_KERNEL(k_cosh, U_COSH, T_FLOATS)
UNARY_KERNEL(k_asinh, U_ASINH, T_FLOATS)
UNARY_KERNEL(k_acosh, U_ACOSH, T_FLOATS)
UNARY_KERNEL(k_atanh, U_ATANH, T_FLOATS)
UNARY_KERNEL(k_isnan, U_ISNAN, T_FLOATS)

static o2p_status k_leaky_relu(const host_kernel_args *a)
{
    uparams p = {.alpha = host_attr_float(a, "alpha", 0.01f)};
    return run_unary(a, U_LEAKY_RELU, T_FLOATS, &p);
}

static o2p_status k_elu(const host_kernel_args *a)
{
    uparams p = {.alpha = host_attr_float(a, "alpha", 1.0f)};
    return run_unary(a, U_ELU, T_FLOATS, &p);
}

static o2p_status k_selu(const host_kernel_args *a)
{
    uparams p = {.alpha = host_attr_float(a, "alpha", 1.67326319217681884765625f),
                 .gamma = host_attr_float(a, "gamma", 1.05070102214813232421875f)};
    return run_unary(a, U_SELU, T_FLOATS, &p);
}

static o2p_status k_celu(const host_kernel_args *a)
{
    uparams p = {.alpha = host_attr_float(a, "alpha", 1.0f)};
    if (p.alpha == 0)
        return host_error(a, "alpha must not be 0");
    return run_unary(a, U_CELU, T_FLOATS, &p);
}

static o2p_status k_hard_sigmoid(const host_kernel_args *a)
{
    uparams p = {.alpha = host_attr_float(a, "alpha", 0.2f),
                 .beta = host_attr_float(a, "beta", 0.5f)};
    return run_unary(a, U_HARD_SIGMOID, T_FLOATS, &p);
}

static o2p_status k_thresholded_relu(const host_kernel_args *a)
{
    uparams p = {.alpha = host_attr_float(a, "alpha", 1.0f)};
    return run_unary(a, U_THRESHOLDED_RELU, T_FLOATS, &p);
}

/* Shrink: alpha holds bias, beta holds lambd. */
static o2p_status k_shrink(const host_kernel_args *a)
{
    uparams p = {.alpha = host_attr_float(a, "bias", 0.0f),
                 .beta = host_attr_float(a, "lambd", 0.5f)};
    return run_unary(a, U_SHRINK, T_NUM, &p);
}

static o2p_status k_isinf(const host_kernel_args *a)
{
    uparams p = {.detect_neg = host_attr_int(a, "detect_negative", 1) != 0,
                 .detect_pos = host_attr_int(a, "detect_positive", 1) != 0};
    return run_unary(a, U_ISINF, T_FLOATS, &p);
}

/* Clip: bounds are attributes up to opset 10, optional scalar inputs of X's type after. */
static o2p_status k_clip(const host_kernel_args *a)
{
    uparams p = {0};
    const host_tensor *x = host_in(a, 0);
    if (a->opset < 11) {
        const host_attr *lo = host_attr_find(a, "min"), *hi = host_attr_find(a, "max");
        p.has_lo = lo != NULL;
        p.has_hi = hi != NULL;
        p.lo = host_attr_float(a, "min", 0.0f);
        p.hi = host_attr_float(a, "max", 0.0f);
        return run_unary(a, U_CLIP, T_FLOATS, &p);
    }
    if (!x)
        return host_error(a, "input 0 is missing");
    if (host_in(a, 1)) {
        O2P_TRY(read_scalar(a, 1, x->dtype, &p.lo, &p.ilo));
        p.has_lo = 1;
    }
    if (host_in(a, 2)) {
        O2P_TRY(read_scalar(a, 2, x->dtype, &p.hi, &p.ihi));
        p.has_hi = 1;
    }
    return run_unary(a, U_CLIP, T_NUM, &p);
}

/* ---------------------------------------------------------------- Cast, Identity, Dropout */

static void cast_elements(const host_tensor *x, host_tensor *y, int64_t n)
{
    o2p_dtype from = x->dtype, to = y->dtype;
    if (n == 0)
        return;
    if (from == to) {
        memcpy(y->data, x->data, (size_t)n * o2p_dtype_size(to));
        return;
    }
    if (from == O2P_DTYPE_FLOAT && to == O2P_DTYPE_FLOAT16) {
        const float *s = x->data;
        uint16_t *d = y->data;
        for (int64_t i = 0; i < n; i++)
            d[i] = o2p_float_to_half(s[i]);
    } else if (from == O2P_DTYPE_FLOAT16 && to == O2P_DTYPE_FLOAT) {
        const uint16_t *s = x->data;
        float *d = y->data;
        for (int64_t i = 0; i < n; i++)
            d[i] = o2p_half_to_float(s[i]);
    } else if (from == O2P_DTYPE_FLOAT && to == O2P_DTYPE_BFLOAT16) {
        const float *s = x->data;
        uint16_t *d = y->data;
        for (int64_t i = 0; i < n; i++)
            d[i] = o2p_float_to_bf16(s[i]);
    } else if (from == O2P_DTYPE_BFLOAT16 && to == O2P_DTYPE_FLOAT) {
        const uint16_t *s = x->data;
        float *d = y->data;
        for (int64_t i = 0; i < n; i++)
            d[i] = o2p_bf16_to_float(s[i]);
    } else if (from == O2P_DTYPE_INT64 && to == O2P_DTYPE_FLOAT) {
        const int64_t *s = x->data;
        float *d = y->data;
        for (int64_t i = 0; i < n; i++)
            d[i] = (float)s[i];
    } else if (from == O2P_DTYPE_DOUBLE && to == O2P_DTYPE_FLOAT16) {
        /* One rounding, as numpy: double -> float may land exactly on a float16 half-way
         * point that the double was not on, and then the tie would go to even instead of
         * toward the double; the float next to it on the double's side rounds right. */
        const double *s = x->data;
        uint16_t *d = y->data;
        for (int64_t i = 0; i < n; i++) {
            float f = (float)s[i];
            uint16_t h = o2p_float_to_half(f);
            double back = o2p_half_to_float(h);
            if ((double)f != s[i] && back != s[i] && !isnan(s[i])) {
                uint16_t h2 = o2p_float_to_half(nextafterf(f, s[i] > f ? INFINITY : -INFINITY));
                double b2 = o2p_half_to_float(h2);
                if (fabs(b2 - s[i]) < fabs(back - s[i]))
                    h = h2;
            }
            d[i] = h;
        }
    } else if (is_float_type(from) || is_float_type(to)) {
        for (int64_t i = 0; i < n; i++)
            host_set_f64(y, i, host_get_f64(x, i));
    } else {
        /* integers and bool: C conversions (wrapping to narrower types, bool is != 0) */
        for (int64_t i = 0; i < n; i++)
            host_set_i64(y, i, host_get_i64(x, i));
    }
}

static o2p_status run_cast(const host_kernel_args *a, int64_t to)
{
    const host_tensor *x;
    host_tensor *y;
    int64_t n;
    O2P_TRY(need_input(a, 0, &x, &n));
    if (x->dtype == O2P_DTYPE_STRING || to == O2P_DTYPE_STRING)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): casts from or to string are not supported",
                        a->layer_name ? a->layer_name : "", a->op_type ? a->op_type : "");
    O2P_TRY(need_type(a, x, T_ANY));
    if (to < 0 || to > 31 || !type_in((o2p_dtype)to, T_ANY))
        return o2p_fail(
            O2P_ERR_UNSUPPORTED, "layer '%s' (%s): casting to element type %lld is not supported",
            a->layer_name ? a->layer_name : "", a->op_type ? a->op_type : "", (long long)to);
    O2P_TRY(need_output(a, 0, (o2p_dtype)to, x->rank, x->dims, &y));
    cast_elements(x, y, n);
    return O2P_OK;
}

static o2p_status k_cast(const host_kernel_args *a)
{
    const host_attr *to = host_attr_find(a, "to");
    if (!to || to->type != O2P_ATTR_INT)
        return host_error(a, "the 'to' attribute is missing or not an int");
    return run_cast(a, to->i);
}

static o2p_status k_cast_like(const host_kernel_args *a)
{
    const host_tensor *like = host_in(a, 1);
    if (!like)
        return host_error(a, "input 1 (target_type) is missing");
    return run_cast(a, like->dtype);
}

static o2p_status k_identity(const host_kernel_args *a)
{
    const host_tensor *x;
    host_tensor *y;
    int64_t n;
    O2P_TRY(need_input(a, 0, &x, &n));
    O2P_TRY(need_type(a, x, T_ANY));
    O2P_TRY(need_output(a, 0, x->dtype, x->rank, x->dims, &y));
    if (n)
        memcpy(y->data, x->data, (size_t)n * o2p_dtype_size(x->dtype));
    return O2P_OK;
}

/* The stream of a training-mode Dropout: its seed attribute's (same masks every run and on
 * the CUDA target, src/codegen/lower_elementwise.c), else a fresh one per call (the spec
 * leaves unseeded masks to the implementation). */
static uint64_t dropout_seed(const host_kernel_args *a)
{
    const host_attr *s = host_attr_find(a, "seed");
    if (s && s->type == O2P_ATTR_INT)
        return host_mix64((uint64_t)s->i);
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    uint64_t local = 0;
    return host_mix64((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
           host_mix64((uint64_t)(uintptr_t)&local) ^ host_mix64((uint64_t)(uintptr_t)a);
}

/* Dropout at inference is the identity with an all-true mask. From opset 12 training_mode
 * may be a true input: with ratio 0 that is still the identity; otherwise element i is kept
 * when u_i >= ratio (u_i uniform in [0, 1) from the counter-based stream, as numpy's
 * reference draws it) and scaled by 1 / (1 - ratio), dropped (0) otherwise; the mask says
 * which. The mask is bool from opset 10, of X's type before (1.0). */
static o2p_status k_dropout(const host_kernel_args *a)
{
    const host_tensor *x;
    host_tensor *y, *mask = NULL;
    int64_t n, training = 0;
    double ratio = 0.5;
    O2P_TRY(need_input(a, 0, &x, &n));
    O2P_TRY(need_type(a, x, T_FLOATS));
    if (a->opset >= 12 && host_in(a, 2)) {
        O2P_TRY(read_scalar(a, 2, O2P_DTYPE_BOOL, NULL, &training));
        if (host_in(a, 1)) {
            const host_tensor *r = host_in(a, 1);
            if (!is_float_type(r->dtype))
                return host_unsupported_dtype(a, r->dtype);
            O2P_TRY(read_scalar(a, 1, r->dtype, &ratio, NULL));
        }
    }
    O2P_TRY(need_output(a, 0, x->dtype, x->rank, x->dims, &y));
    if (host_out(a, 1)) {
        o2p_dtype mt = a->opset >= 10 ? O2P_DTYPE_BOOL : x->dtype;
        O2P_TRY(need_output(a, 1, mt, x->rank, x->dims, &mask));
    }
    if (training && ratio != 0) {
        uint64_t seed = dropout_seed(a);
        /* ratio >= 1 keeps nothing, so the scale is never inf * 0 */
        double scale = ratio < 1 ? 1.0 / (1.0 - ratio) : 0.0;
        for (int64_t i = 0; i < n; i++) {
            int keep = host_rand_u01(seed, (uint64_t)i) >= ratio;
            host_set_f64(y, i, keep ? host_get_f64(x, i) * scale : 0.0);
            if (mask)
                host_set_i64(mask, i, keep);
        }
        return O2P_OK;
    }
    if (n)
        memcpy(y->data, x->data, (size_t)n * o2p_dtype_size(x->dtype));
    if (mask)
        for (int64_t i = 0; i < n; i++)
            host_set_i64(mask, i, 1);
    return O2P_OK;
}

/* ---------------------------------------------------------------- the family's table */

const host_kernel_entry host_elementwise_kernels[] = {
    {"Add", k_add},
    {"Sub", k_sub},
    {"Mul", k_mul},
    {"Div", k_div},
    {"Pow", k_pow},
    {"Mod", k_mod},
    {"PRelu", k_prelu},
    {"Equal", k_equal},
    {"Less", k_less},
    {"Greater", k_greater},
    {"LessOrEqual", k_less_equal},
    {"GreaterOrEqual", k_greater_equal},
    {"And", k_and},
    {"Or", k_or},
    {"Xor", k_xor},
    {"BitShift", k_bitshift},
    {"BitwiseAnd", k_bitwise_and},
    {"BitwiseOr", k_bitwise_or},
    {"BitwiseXor", k_bitwise_xor},
    {"BitwiseNot", k_bitwise_not},
    {"Max", k_max},
    {"Min", k_min},
    {"Sum", k_sum},
    {"Mean", k_mean},
    {"Where", k_where},
    {"Abs", k_abs},
    {"Neg", k_neg},
    {"Sign", k_sign},
    {"Relu", k_relu},
    {"Not", k_not},
    {"Sqrt", k_sqrt},
    {"Exp", k_exp},
    {"Log", k_log},
    {"Reciprocal", k_reciprocal},
    {"Floor", k_floor},
    {"Ceil", k_ceil},
    {"Round", k_round},
    {"LeakyRelu", k_leaky_relu},
    {"Elu", k_elu},
    {"Selu", k_selu},
    {"Celu", k_celu},
    {"Sigmoid", k_sigmoid},
    {"HardSigmoid", k_hard_sigmoid},
    {"HardSwish", k_hard_swish},
    {"Tanh", k_tanh},
    {"Erf", k_erf},
    {"Softplus", k_softplus},
    {"Softsign", k_softsign},
    {"Mish", k_mish},
    {"ThresholdedRelu", k_thresholded_relu},
    {"Shrink", k_shrink},
    {"Clip", k_clip},
    {"Sin", k_sin},
    {"Cos", k_cos},
    {"Tan", k_tan},
    {"Asin", k_asin},
    {"Acos", k_acos},
    {"Atan", k_atan},
    {"Sinh", k_sinh},
    {"Cosh", k_cosh},
    {"Asinh", k_asinh},
    {"Acosh", k_acosh},
    {"Atanh", k_atanh},
    {"IsNaN", k_isnan},
    {"IsInf", k_isinf},
    {"Cast", k_cast},
    {"CastLike", k_cast_like},
    {"Identity", k_identity},
    {"Dropout", k_dropout},
    {"ReduceMean", host_reduce_mean},
    {"ReduceSum", host_reduce_sum},
    {"ReduceMax", host_reduce_max},
    {"ReduceMin", host_reduce_min},
    {"ReduceProd", host_reduce_prod},
    {"ReduceL1", host_reduce_l1},
    {"ReduceL2", host_reduce_l2},
    {"ReduceSumSquare", host_reduce_sum_square},
    {"ReduceLogSum", host_reduce_log_sum},
    {"ReduceLogSumExp", host_reduce_log_sum_exp},
    {"ArgMax", host_argmax},
    {"ArgMin", host_argmin},
};

const int host_elementwise_kernel_count =
    (int)(sizeof host_elementwise_kernels / sizeof host_elementwise_kernels[0]);
