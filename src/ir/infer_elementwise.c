/* infer_elementwise.c: shape inference of the elementwise operators: unary math and
 * activations, broadcasting binary and variadic ops, comparisons and logic, Where, Cast,
 * Clip. The integer ones also compute known values, for the shape arithmetic that
 * exporters put between Shape and Reshape. */
#include <stdlib.h>
#include <string.h>

#include "ir/infer_ops.h"

static int is_op(const ir_infer_ctx *ctx, const char *name)
{
    return strcmp(ctx->layer->op_type, name) == 0;
}

static int values_dtype(o2p_dtype t)
{
    return ir_dtype_is_int(t) || t == O2P_DTYPE_BOOL;
}

/* ---------------------------------------------------------------- unary */

o2p_status inf_unary(ir_infer_ctx *ctx)
{
    ir_shape s;
    inf_shape(ctx, 0, &s);
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &s);
}

o2p_status inf_identity(ir_infer_ctx *ctx)
{
    return inf_out_like(ctx, 0, 0);
}

/* Neg, Abs, Sign and Relu of int shape values. */
o2p_status inf_unary_values(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_unary(ctx));
    ir_values v;
    if (!values_dtype(inf_dtype(ctx, 0)) || !inf_values(ctx, 0, &v))
        return O2P_OK;
    for (int k = 0; k < v.count; k++) {
        ir_value_entry *e = &v.e[k];
        if (!e->known) {
            /* symbols stand for dims, which are >= 0 */
            if (e->sym && (is_op(ctx, "Abs") || is_op(ctx, "Relu")))
                continue;
            e->sym = NULL;
            continue;
        }
        if ((is_op(ctx, "Neg") || is_op(ctx, "Abs")) && e->value == INT64_MIN)
            e->known = 0; /* no int64 negation */
        else if (is_op(ctx, "Neg"))
            e->value = -e->value;
        else if (is_op(ctx, "Abs"))
            e->value = e->value < 0 ? -e->value : e->value;
        else if (is_op(ctx, "Sign"))
            e->value = e->value > 0 ? 1 : e->value < 0 ? -1 : 0;
        else if (is_op(ctx, "Relu"))
            e->value = e->value > 0 ? e->value : 0;
    }
    return ir_set_output_values(ctx, 0, &v);
}

/* IsNaN, IsInf: bool of the same shape. */
o2p_status inf_unary_bool(ir_infer_ctx *ctx)
{
    ir_shape s;
    inf_shape(ctx, 0, &s);
    return inf_out(ctx, 0, O2P_DTYPE_BOOL, &s);
}

o2p_status inf_not(ir_infer_ctx *ctx)
{
    o2p_dtype t = inf_dtype(ctx, 0);
    if (t != O2P_DTYPE_UNDEFINED && t != O2P_DTYPE_BOOL)
        return ir_infer_error(ctx, "input '%s' is %s; Not takes bool", inf_name(ctx, 0),
                              o2p_dtype_name(t));
    ir_shape s;
    inf_shape(ctx, 0, &s);
    O2P_TRY(inf_out(ctx, 0, O2P_DTYPE_BOOL, &s));
    ir_values v;
    if (!inf_values(ctx, 0, &v))
        return O2P_OK;
    for (int k = 0; k < v.count; k++) {
        v.e[k].sym = NULL;
        if (v.e[k].known)
            v.e[k].value = !v.e[k].value;
    }
    return ir_set_output_values(ctx, 0, &v);
}

/* ---------------------------------------------------------------- broadcasting */

/* Opsets before 7 had no numpy broadcasting: with broadcast=1, B is broadcast to A's shape
 * (its dims matching A's from `axis`, or A's trailing dims); otherwise shapes are equal. */
static o2p_status legacy_broadcast(ir_infer_ctx *ctx, const ir_shape *a, const ir_shape *b,
                                   ir_shape *out)
{
    *out = *a;
    if (!ir_attr_int(ctx->layer, "broadcast", 0)) {
        if (a->rank >= 0 && b->rank >= 0 && a->rank == b->rank)
            return inf_merge_shapes(ctx, out, b, inf_name(ctx, 0), inf_name(ctx, 1));
        if (a->rank < 0)
            *out = *b;
        return O2P_OK;
    }
    if (a->rank < 0 || b->rank < 0)
        return O2P_OK;
    if (b->rank > a->rank)
        return ir_infer_error(ctx,
                              "input '%s' (rank %d) cannot be broadcast to input '%s' "
                              "(rank %d)",
                              inf_name(ctx, 1), b->rank, inf_name(ctx, 0), a->rank);
    const ir_attr *ax = ir_attr_find(ctx->layer, "axis");
    int64_t axis = ax && ax->type == O2P_ATTR_INT ? ax->i : a->rank - b->rank;
    if (axis < 0)
        axis += a->rank;
    /* A scalar-like B (one element) broadcasts anywhere. */
    int ok;
    if (ir_shape_numel(b, &ok) == 1 && ok)
        return O2P_OK;
    if (axis < 0 || axis + b->rank > a->rank)
        return ir_infer_error(ctx,
                              "broadcast axis %lld does not fit input '%s' (rank %d) into "
                              "input '%s' (rank %d)",
                              (long long)axis, inf_name(ctx, 1), b->rank, inf_name(ctx, 0),
                              a->rank);
    for (int i = 0; i < b->rank; i++) {
        ir_dim da = a->dims[axis + i], db = b->dims[i];
        if (da.value >= 0 && db.value >= 0 && da.value != db.value && db.value != 1)
            return ir_infer_error(ctx,
                                  "input '%s' cannot be broadcast to input '%s': axis %d "
                                  "is %lld, not %lld",
                                  inf_name(ctx, 1), inf_name(ctx, 0), (int)(axis + i),
                                  (long long)db.value, (long long)da.value);
    }
    return O2P_OK;
}

/* Broadcast shape of inputs [first, last] (omitted ones skipped). */
static o2p_status broadcast_inputs(ir_infer_ctx *ctx, int first, int last, ir_shape *out)
{
    if (ctx->opset < 7 && last == first + 1) {
        ir_shape a, b;
        inf_shape(ctx, first, &a);
        inf_shape(ctx, last, &b);
        return legacy_broadcast(ctx, &a, &b, out);
    }
    int have = 0;
    for (int i = first; i <= last; i++) {
        if (!inf_has(ctx, i))
            continue;
        ir_shape s;
        inf_shape(ctx, i, &s);
        if (!have) {
            *out = s;
            have = 1;
            continue;
        }
        ir_shape r;
        O2P_TRY(ir_broadcast(ctx, out, &s, &r));
        /* unknown rank anywhere makes the result rank unknown */
        *out = r;
    }
    if (!have)
        ir_shape_unknown(out);
    return O2P_OK;
}

/* ---------------------------------------------------------------- values of binary ops */

typedef enum vop {
    VOP_NONE,
    VOP_ADD,
    VOP_SUB,
    VOP_MUL,
    VOP_DIV,
    VOP_MOD,
    VOP_EQ,
    VOP_LT,
    VOP_GT,
    VOP_LE,
    VOP_GE,
    VOP_AND,
    VOP_OR,
    VOP_XOR,
    VOP_MAX,
    VOP_MIN
} vop;

static vop op_vop(const ir_infer_ctx *ctx)
{
    static const struct {
        const char *name;
        vop op;
    } map[] = {
        {"Add", VOP_ADD},        {"Sub", VOP_SUB},           {"Mul", VOP_MUL}, {"Div", VOP_DIV},
        {"Mod", VOP_MOD},        {"Equal", VOP_EQ},          {"Less", VOP_LT}, {"Greater", VOP_GT},
        {"LessOrEqual", VOP_LE}, {"GreaterOrEqual", VOP_GE}, {"And", VOP_AND}, {"Or", VOP_OR},
        {"Xor", VOP_XOR},        {"Max", VOP_MAX},           {"Min", VOP_MIN},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (is_op(ctx, map[i].name))
            return map[i].op;
    return VOP_NONE;
}

static int same_sym(const ir_value_entry *a, const ir_value_entry *b)
{
    return !a->known && !b->known && a->sym && b->sym && strcmp(a->sym, b->sym) == 0;
}

static ir_value_entry value_known(int64_t v)
{
    ir_value_entry e = {1, v, NULL};
    return e;
}

/* One element of a binary op on values. Symbols stand for dims (>= 0). */
static ir_value_entry vop_apply(vop op, int fmod, const ir_value_entry *a, const ir_value_entry *b)
{
    ir_value_entry u = {0, 0, NULL};
    if (a->known && b->known) {
        int64_t x = a->value, y = b->value, r;
        switch (op) {
        case VOP_ADD: return __builtin_add_overflow(x, y, &r) ? u : value_known(r);
        case VOP_SUB: return __builtin_sub_overflow(x, y, &r) ? u : value_known(r);
        case VOP_MUL: return __builtin_mul_overflow(x, y, &r) ? u : value_known(r);
        case VOP_DIV:
            if (y == 0 || (x == INT64_MIN && y == -1))
                return u;
            return value_known(x / y); /* C semantics, as the integer kernels */
        case VOP_MOD:
            if (y == 0 || (x == INT64_MIN && y == -1))
                return u;
            r = x % y;
            if (!fmod && r != 0 && ((r < 0) != (y < 0)))
                r += y; /* the sign of the divisor, as Python */
            return value_known(r);
        case VOP_EQ: return value_known(x == y);
        case VOP_LT: return value_known(x < y);
        case VOP_GT: return value_known(x > y);
        case VOP_LE: return value_known(x <= y);
        case VOP_GE: return value_known(x >= y);
        case VOP_AND: return value_known(x && y);
        case VOP_OR: return value_known(x || y);
        case VOP_XOR: return value_known(!x != !y);
        case VOP_MAX: return value_known(x > y ? x : y);
        case VOP_MIN: return value_known(x < y ? x : y);
        default: return u;
        }
    }
    /* symbol rules */
    const ir_value_entry *s = a->known ? b : a; /* the unknown one */
    const ir_value_entry *k = a->known ? a : (b->known ? b : NULL);
    switch (op) {
    case VOP_ADD:
        if (k && k->value == 0 && s->sym)
            return *s;
        break;
    case VOP_SUB:
        if (b->known && b->value == 0 && a->sym)
            return *a;
        if (same_sym(a, b))
            return value_known(0);
        break;
    case VOP_MUL:
        if (k && k->value == 1 && s->sym)
            return *s;
        if (k && k->value == 0)
            return value_known(0);
        break;
    case VOP_DIV:
        if (b->known && b->value == 1 && a->sym)
            return *a;
        if (same_sym(a, b))
            return u; /* 0/0 possible */
        break;
    case VOP_EQ:
        if (same_sym(a, b))
            return value_known(1);
        if (k && k->value < 0 && s->sym)
            return value_known(0);
        break;
    case VOP_LE:
    case VOP_GE:
        if (same_sym(a, b))
            return value_known(1);
        break;
    case VOP_LT:
    case VOP_GT:
        if (same_sym(a, b))
            return value_known(0);
        break;
    case VOP_MAX:
        if (same_sym(a, b))
            return *a;
        if (k && k->value <= 0 && s->sym)
            return *s;
        break;
    case VOP_MIN:
        if (same_sym(a, b))
            return *a;
        if (k && k->value <= 0 && s->sym)
            return *k;
        break;
    default: break;
    }
    return u;
}

/* Values of input i broadcast to `out` (a static shape of at most IR_MAX_VALUES elements):
 * src[k] is the input's entry for output element k. Before opset 7, where B may line up
 * with any axis of A, only a one-element input or the output's own shape is taken. */
static int broadcast_values(const ir_infer_ctx *ctx, int i, const ir_shape *out, int cnt,
                            ir_values *v, int *src)
{
    ir_shape s;
    if (!inf_values_static(ctx, i, v, &s))
        return 0;
    if (ctx->opset < 7 && v->count != 1) {
        if (s.rank != out->rank)
            return 0;
        for (int d = 0; d < s.rank; d++)
            if (s.dims[d].value != out->dims[d].value)
                return 0;
    }
    for (int k = 0; k < cnt; k++) {
        src[k] = v->count == 1 && cnt > 0 ? 0 : inf_broadcast_index(&s, out, k);
        if (src[k] < 0)
            return 0;
    }
    return 1;
}

/* Output values of a binary op whose inputs carry values, broadcast to a small static
 * output shape. */
static o2p_status binary_values(ir_infer_ctx *ctx, int ia, int ib, vop op, const ir_shape *out)
{
    ir_values a, b, r;
    int sa[IR_MAX_VALUES], sb[IR_MAX_VALUES];
    int n = inf_small_numel(out);
    if (op == VOP_NONE || n < 0 || !broadcast_values(ctx, ia, out, n, &a, sa) ||
        !broadcast_values(ctx, ib, out, n, &b, sb))
        return O2P_OK;
    int fmod = (int)ir_attr_int(ctx->layer, "fmod", 0);
    memset(&r, 0, sizeof r);
    r.count = n;
    for (int k = 0; k < n; k++)
        r.e[k] = vop_apply(op, fmod, &a.e[sa[k]], &b.e[sb[k]]);
    return inf_out_values(ctx, 0, out, &r);
}

/* ---------------------------------------------------------------- binary */

/* Add, Sub, Mul, Div, Mod, BitShift, Bitwise*: same types, broadcast. */
o2p_status inf_binary(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_same_dtype(ctx, 0, 1));
    if (is_op(ctx, "BitShift")) {
        const char *dir = ir_attr_string(ctx->layer, "direction", NULL);
        if (!dir || (strcmp(dir, "LEFT") != 0 && strcmp(dir, "RIGHT") != 0))
            return ir_infer_error(ctx, "attribute 'direction' must be \"LEFT\" or \"RIGHT\"");
    }
    ir_shape s;
    O2P_TRY(broadcast_inputs(ctx, 0, 1, &s));
    o2p_dtype t = inf_dtype(ctx, 0);
    if (t == O2P_DTYPE_UNDEFINED)
        t = inf_dtype(ctx, 1);
    O2P_TRY(inf_out(ctx, 0, t, &s));
    if (ir_dtype_is_int(t))
        O2P_TRY(binary_values(ctx, 0, 1, op_vop(ctx), &s));
    return O2P_OK;
}

/* Equal, Less, Greater, LessOrEqual, GreaterOrEqual: bool. */
o2p_status inf_compare(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_same_dtype(ctx, 0, 1));
    ir_shape s;
    O2P_TRY(broadcast_inputs(ctx, 0, 1, &s));
    O2P_TRY(inf_out(ctx, 0, O2P_DTYPE_BOOL, &s));
    if (values_dtype(inf_dtype(ctx, 0)))
        O2P_TRY(binary_values(ctx, 0, 1, op_vop(ctx), &s));
    return O2P_OK;
}

/* And, Or, Xor: bool in, bool out. */
o2p_status inf_logical(ir_infer_ctx *ctx)
{
    for (int i = 0; i < 2; i++) {
        o2p_dtype t = inf_dtype(ctx, i);
        if (t != O2P_DTYPE_UNDEFINED && t != O2P_DTYPE_BOOL)
            return ir_infer_error(ctx, "input '%s' is %s; %s takes bool", inf_name(ctx, i),
                                  o2p_dtype_name(t), ctx->layer->op_type);
    }
    ir_shape s;
    O2P_TRY(broadcast_inputs(ctx, 0, 1, &s));
    O2P_TRY(inf_out(ctx, 0, O2P_DTYPE_BOOL, &s));
    return binary_values(ctx, 0, 1, op_vop(ctx), &s);
}

/* Pow: the base's type; the exponent may have another type (opset 12+). */
o2p_status inf_pow(ir_infer_ctx *ctx)
{
    if (ctx->opset < 12)
        O2P_TRY(inf_same_dtype(ctx, 0, 1));
    ir_shape s;
    O2P_TRY(broadcast_inputs(ctx, 0, 1, &s));
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &s);
}

/* PRelu: slope broadcasts to X (unidirectionally). */
o2p_status inf_prelu(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_same_dtype(ctx, 0, 1));
    ir_shape x, slope, s;
    inf_shape(ctx, 0, &x);
    inf_shape(ctx, 1, &slope);
    if (ctx->opset < 7) {
        /* the slope is 1-D ([C] or [1]) and applies along the channels */
        return inf_out(ctx, 0, inf_dtype(ctx, 0), &x);
    }
    O2P_TRY(ir_broadcast(ctx, &x, &slope, &s));
    if (x.rank >= 0 && slope.rank > x.rank)
        return ir_infer_error(ctx,
                              "slope '%s' (rank %d) cannot be broadcast to input '%s' "
                              "(rank %d)",
                              inf_name(ctx, 1), slope.rank, inf_name(ctx, 0), x.rank);
    for (int i = 0; x.rank >= 0 && s.rank == x.rank && i < x.rank; i++)
        if (x.dims[i].value >= 0 && s.dims[i].value >= 0 && x.dims[i].value != s.dims[i].value)
            return ir_infer_error(ctx, "slope '%s' cannot be broadcast to input '%s' (axis %d)",
                                  inf_name(ctx, 1), inf_name(ctx, 0), i);
    /* the output is X's shape; dims of X that are unknown may be learned from the slope */
    if (x.rank >= 0)
        s = x;
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &s);
}

/* Sum, Mean, Max, Min: one or more inputs, broadcast together. */
o2p_status inf_variadic(ir_infer_ctx *ctx)
{
    int n = ctx->layer->num_inputs;
    o2p_dtype t = O2P_DTYPE_UNDEFINED;
    int first = -1;
    for (int i = 0; i < n; i++) {
        if (!inf_has(ctx, i))
            continue;
        if (first < 0)
            first = i;
        else
            O2P_TRY(inf_same_dtype(ctx, first, i));
        if (t == O2P_DTYPE_UNDEFINED)
            t = inf_dtype(ctx, i);
    }
    if (first < 0)
        return ir_infer_error(ctx, "%s needs at least one input", ctx->layer->op_type);
    ir_shape s;
    if (ctx->opset < 8) {
        /* no broadcasting yet: every input has the output's shape */
        inf_shape(ctx, first, &s);
        for (int i = first + 1; i < n; i++) {
            ir_shape si;
            if (!inf_has(ctx, i))
                continue;
            inf_shape(ctx, i, &si);
            O2P_TRY(inf_merge_shapes(ctx, &s, &si, inf_name(ctx, first), inf_name(ctx, i)));
        }
    } else {
        O2P_TRY(broadcast_inputs(ctx, 0, n - 1, &s));
    }
    O2P_TRY(inf_out(ctx, 0, t, &s));
    /* values of Max/Min/Sum over small int inputs */
    vop op = is_op(ctx, "Sum") ? VOP_ADD : op_vop(ctx);
    int cnt = inf_small_numel(&s);
    if ((op != VOP_ADD && op != VOP_MAX && op != VOP_MIN) || !ir_dtype_is_int(t) || cnt < 0)
        return O2P_OK;
    ir_values acc;
    int have = 0;
    for (int i = 0; i < n; i++) {
        ir_values v;
        int src[IR_MAX_VALUES];
        if (!inf_has(ctx, i))
            continue;
        if (!broadcast_values(ctx, i, &s, cnt, &v, src))
            return O2P_OK;
        if (!have) {
            memset(&acc, 0, sizeof acc);
            acc.count = cnt;
            for (int k = 0; k < cnt; k++)
                acc.e[k] = v.e[src[k]];
            have = 1;
            continue;
        }
        for (int k = 0; k < cnt; k++)
            acc.e[k] = vop_apply(op, 0, &acc.e[k], &v.e[src[k]]);
    }
    return have ? inf_out_values(ctx, 0, &s, &acc) : O2P_OK;
}

/* Where(cond, X, Y): broadcast of the three; X's type. */
o2p_status inf_where(ir_infer_ctx *ctx)
{
    o2p_dtype c = inf_dtype(ctx, 0);
    if (c != O2P_DTYPE_UNDEFINED && c != O2P_DTYPE_BOOL)
        return ir_infer_error(ctx, "condition '%s' is %s; it must be bool", inf_name(ctx, 0),
                              o2p_dtype_name(c));
    O2P_TRY(inf_same_dtype(ctx, 1, 2));
    ir_shape s;
    O2P_TRY(broadcast_inputs(ctx, 0, 2, &s));
    o2p_dtype t = inf_dtype(ctx, 1);
    if (t == O2P_DTYPE_UNDEFINED)
        t = inf_dtype(ctx, 2);
    O2P_TRY(inf_out(ctx, 0, t, &s));
    ir_values vc, vx, vy, r;
    int sc[IR_MAX_VALUES], sx[IR_MAX_VALUES], sy[IR_MAX_VALUES];
    int n = inf_small_numel(&s);
    if (!values_dtype(t) || n < 0 || !broadcast_values(ctx, 0, &s, n, &vc, sc) ||
        !broadcast_values(ctx, 1, &s, n, &vx, sx) || !broadcast_values(ctx, 2, &s, n, &vy, sy))
        return O2P_OK;
    memset(&r, 0, sizeof r);
    r.count = n;
    for (int k = 0; k < n; k++) {
        const ir_value_entry *ce = &vc.e[sc[k]];
        const ir_value_entry *xe = &vx.e[sx[k]];
        const ir_value_entry *ye = &vy.e[sy[k]];
        if (ce->known)
            r.e[k] = ce->value ? *xe : *ye;
        else if ((xe->known && ye->known && xe->value == ye->value) || same_sym(xe, ye))
            r.e[k] = *xe;
    }
    return inf_out_values(ctx, 0, &s, &r);
}

/* ---------------------------------------------------------------- casts */

static o2p_dtype dtype_from_name(const char *s)
{
    static const struct {
        const char *name;
        o2p_dtype t;
    } map[] = {
        {"FLOAT", O2P_DTYPE_FLOAT},
        {"UINT8", O2P_DTYPE_UINT8},
        {"INT8", O2P_DTYPE_INT8},
        {"UINT16", O2P_DTYPE_UINT16},
        {"INT16", O2P_DTYPE_INT16},
        {"INT32", O2P_DTYPE_INT32},
        {"INT64", O2P_DTYPE_INT64},
        {"STRING", O2P_DTYPE_STRING},
        {"BOOL", O2P_DTYPE_BOOL},
        {"FLOAT16", O2P_DTYPE_FLOAT16},
        {"DOUBLE", O2P_DTYPE_DOUBLE},
        {"UINT32", O2P_DTYPE_UINT32},
        {"UINT64", O2P_DTYPE_UINT64},
        {"COMPLEX64", O2P_DTYPE_COMPLEX64},
        {"COMPLEX128", O2P_DTYPE_COMPLEX128},
        {"BFLOAT16", O2P_DTYPE_BFLOAT16},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(s, map[i].name) == 0)
            return map[i].t;
    return O2P_DTYPE_UNDEFINED;
}

static int fits(int64_t v, o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_INT8: return v >= INT8_MIN && v <= INT8_MAX;
    case O2P_DTYPE_UINT8: return v >= 0 && v <= UINT8_MAX;
    case O2P_DTYPE_INT16: return v >= INT16_MIN && v <= INT16_MAX;
    case O2P_DTYPE_UINT16: return v >= 0 && v <= UINT16_MAX;
    case O2P_DTYPE_INT32: return v >= INT32_MIN && v <= INT32_MAX;
    case O2P_DTYPE_UINT32: return v >= 0 && v <= (int64_t)UINT32_MAX;
    case O2P_DTYPE_UINT64: return v >= 0;
    default: return 1;
    }
}

static o2p_status cast_to(ir_infer_ctx *ctx, o2p_dtype to)
{
    ir_shape s;
    inf_shape(ctx, 0, &s);
    O2P_TRY(inf_out(ctx, 0, to, &s));
    ir_values v;
    if (!values_dtype(to) || !values_dtype(inf_dtype(ctx, 0)) || !inf_values(ctx, 0, &v))
        return O2P_OK;
    for (int k = 0; k < v.count; k++) {
        ir_value_entry *e = &v.e[k];
        if (to == O2P_DTYPE_BOOL) {
            if (e->known)
                e->value = e->value != 0;
            e->sym = NULL;
        } else if (e->known && !fits(e->value, to)) {
            e->known = 0;
        } else if (!e->known && ir_dtype_size(to) < 4) {
            e->sym = NULL; /* a dim may not fit in 8 or 16 bits */
        }
    }
    return ir_set_output_values(ctx, 0, &v);
}

o2p_status inf_cast(ir_infer_ctx *ctx)
{
    const ir_attr *a = ir_attr_find(ctx->layer, "to");
    o2p_dtype to = O2P_DTYPE_UNDEFINED;
    if (a && a->type == O2P_ATTR_INT && a->i > 0 && a->i <= O2P_DTYPE_BFLOAT16)
        to = (o2p_dtype)a->i;
    else if (a && a->type == O2P_ATTR_STRING && a->s)
        to = dtype_from_name(a->s); /* opset 1 named the type */
    if (to == O2P_DTYPE_UNDEFINED) {
        if (!a)
            return ir_infer_error(ctx, "attribute 'to' is required");
        if (a->type == O2P_ATTR_STRING)
            return ir_infer_error(ctx, "attribute 'to' names no element type ('%s')", a->s);
        return ir_infer_error(ctx, "attribute 'to' (%lld) is not a known element type",
                              (long long)a->i);
    }
    return cast_to(ctx, to);
}

o2p_status inf_castlike(ir_infer_ctx *ctx)
{
    return cast_to(ctx, inf_dtype(ctx, 1));
}

/* Clip: min and max are attributes before opset 11 and optional scalar inputs after. */
o2p_status inf_clip(ir_infer_ctx *ctx)
{
    for (int i = 1; i <= 2 && ctx->opset >= 11; i++) {
        if (!inf_has(ctx, i))
            continue;
        O2P_TRY(inf_same_dtype(ctx, 0, i));
        int r = inf_rank(ctx, i);
        if (r > 1 || (r == 1 && inf_len1d(ctx, i) > 1))
            return ir_infer_error(ctx, "input '%s' (the %s bound) must be a scalar",
                                  inf_name(ctx, i), i == 1 ? "lower" : "upper");
    }
    return inf_unary(ctx);
}
