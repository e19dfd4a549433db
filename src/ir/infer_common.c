/* infer_common.c: helpers shared by the operators' shape-inference functions (infer_*.c). */
#include <stdio.h>
#include <string.h>

#include "ir/infer_ops.h"

/* ---------------------------------------------------------------- inputs */

o2p_dtype inf_dtype(const ir_infer_ctx *ctx, int i)
{
    const ir_tensor *t = ir_input(ctx, i);
    return t ? t->dtype : O2P_DTYPE_UNDEFINED;
}

void inf_shape(const ir_infer_ctx *ctx, int i, ir_shape *out)
{
    const ir_tensor *t = ir_input(ctx, i);
    if (t && t->shape.rank >= 0 && t->shape.rank <= IR_MAX_RANK)
        *out = t->shape;
    else
        ir_shape_unknown(out);
}

int inf_rank(const ir_infer_ctx *ctx, int i)
{
    const ir_tensor *t = ir_input(ctx, i);
    return t && t->shape.rank >= 0 && t->shape.rank <= IR_MAX_RANK ? t->shape.rank : -1;
}

const char *inf_name(const ir_infer_ctx *ctx, int i)
{
    const ir_tensor *t = ir_input(ctx, i);
    return t ? t->name : "<omitted>";
}

int inf_has(const ir_infer_ctx *ctx, int i)
{
    return ir_input(ctx, i) != NULL;
}

int inf_values(const ir_infer_ctx *ctx, int i, ir_values *v)
{
    if (!ir_input_values(ctx, i, v))
        return 0;
    if (v->count < 0 || v->count > IR_MAX_VALUES)
        return 0;
    return 1;
}

int inf_ints(const ir_infer_ctx *ctx, int i, int64_t *out, int cap, int *n)
{
    ir_values v;
    if (!inf_values(ctx, i, &v) || v.count > cap)
        return 0;
    for (int k = 0; k < v.count; k++) {
        if (!v.e[k].known)
            return 0;
        out[k] = v.e[k].value;
    }
    *n = v.count;
    return 1;
}

int inf_int_scalar(const ir_infer_ctx *ctx, int i, int64_t *out)
{
    int64_t x[1];
    int n;
    if (!inf_ints(ctx, i, x, 1, &n) || n != 1)
        return 0;
    *out = x[0];
    return 1;
}

int inf_floats(const ir_infer_ctx *ctx, int i, double *out, int cap, int *n)
{
    const ir_tensor *t = ir_input(ctx, i);
    if (!t)
        return 0;
    if (ir_tensor_is_const(t)) {
        int64_t count = ir_tensor_numel_const(t);
        if (count < 0 || count > cap)
            return 0;
        for (int64_t k = 0; k < count; k++)
            if (!ir_const_get_f64(t, k, &out[k]))
                return 0;
        *n = (int)count;
        return 1;
    }
    int64_t iv[IR_MAX_VALUES];
    int cnt;
    if (!inf_ints(ctx, i, iv, cap < IR_MAX_VALUES ? cap : IR_MAX_VALUES, &cnt))
        return 0;
    for (int k = 0; k < cnt; k++)
        out[k] = (double)iv[k];
    *n = cnt;
    return 1;
}

int inf_num_scalar(const ir_infer_ctx *ctx, int i, double *out)
{
    double x[1];
    int n;
    if (!inf_floats(ctx, i, x, 1, &n) || n != 1)
        return 0;
    *out = x[0];
    return 1;
}

int64_t inf_len1d(const ir_infer_ctx *ctx, int i)
{
    const ir_tensor *t = ir_input(ctx, i);
    if (!t)
        return -1;
    if (t->shape.rank == 0)
        return 1;
    if (t->shape.rank == 1 && t->shape.dims[0].value >= 0)
        return t->shape.dims[0].value;
    if (t->values && t->values->count >= 0 && t->shape.rank != 0 && t->shape.rank <= 1)
        return t->values->count;
    return -1;
}

/* ---------------------------------------------------------------- values of any rank */

int inf_small_numel(const ir_shape *s)
{
    if (s->rank < 0 || s->rank > IR_MAX_RANK || !ir_shape_is_static(s))
        return -1;
    for (int i = 0; i < s->rank; i++)
        if (s->dims[i].value == 0)
            return 0;
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->dims[i].value > IR_MAX_VALUES)
            return -1;
        n *= s->dims[i].value; /* both factors <= IR_MAX_VALUES: no overflow */
        if (n > IR_MAX_VALUES)
            return -1;
    }
    return (int)n;
}

int inf_values_static(const ir_infer_ctx *ctx, int i, ir_values *v, ir_shape *s)
{
    if (!inf_values(ctx, i, v))
        return 0;
    inf_shape(ctx, i, s);
    /* a 1-D tensor whose length only its values tell */
    if (s->rank == 1 && s->dims[0].value < 0)
        s->dims[0] = inf_dim(v->count);
    return inf_small_numel(s) == v->count;
}

o2p_status inf_out_values(ir_infer_ctx *ctx, int i, const ir_shape *s, const ir_values *v)
{
    if (inf_small_numel(s) != v->count)
        return O2P_OK; /* the values would not match the shape: keep none */
    return ir_set_output_values(ctx, i, v);
}

void inf_coords(const ir_shape *s, int k, int *c)
{
    for (int i = s->rank - 1; i >= 0; i--) {
        int64_t d = s->dims[i].value;
        c[i] = d > 0 ? (int)(k % d) : 0;
        k = d > 0 ? (int)(k / d) : 0;
    }
}

int inf_flat_index(const ir_shape *s, const int *c)
{
    int64_t k = 0;
    for (int i = 0; i < s->rank; i++) {
        int64_t d = s->dims[i].value;
        if (c[i] < 0 || c[i] >= d || d > IR_MAX_VALUES)
            return -1;
        k = k * d + c[i];
        if (k >= IR_MAX_VALUES)
            return -1;
    }
    return (int)k;
}

int inf_broadcast_index(const ir_shape *in, const ir_shape *out, int k)
{
    int c[IR_MAX_RANK], ci[IR_MAX_RANK];
    if (in->rank > out->rank)
        return -1;
    inf_coords(out, k, c);
    int lead = out->rank - in->rank;
    for (int i = 0; i < in->rank; i++) {
        int64_t d = in->dims[i].value;
        if (d == 1)
            ci[i] = 0;
        else if (d == out->dims[lead + i].value)
            ci[i] = c[lead + i];
        else
            return -1;
    }
    return inf_flat_index(in, ci);
}

/* ---------------------------------------------------------------- attributes */

o2p_status inf_attr_ints(const ir_infer_ctx *ctx, const char *name, int64_t *out, int cap,
                         int *count)
{
    int n;
    const int64_t *v = ir_attr_ints(ctx->layer, name, &n);
    if (!v && !ir_attr_find(ctx->layer, name)) {
        *count = -1;
        return O2P_OK;
    }
    const ir_attr *a = ir_attr_find(ctx->layer, name);
    if (a && a->type != O2P_ATTR_INTS)
        return ir_infer_error(ctx, "attribute '%s' must be a list of ints", name);
    if (n > cap)
        return ir_infer_error(ctx, "attribute '%s' has %d values; at most %d are allowed here",
                              name, n, cap);
    if (n > 0)
        memcpy(out, v, (size_t)n * sizeof *out);
    *count = n;
    return O2P_OK;
}

/* ---------------------------------------------------------------- dims and shapes */

int inf_dim_same(ir_dim a, ir_dim b)
{
    if (a.value >= 0 || b.value >= 0)
        return a.value == b.value;
    return a.sym && b.sym && strcmp(a.sym, b.sym) == 0;
}

void inf_shape_rank(ir_shape *s, int rank)
{
    ir_shape_unknown(s);
    s->rank = rank;
    for (int i = 0; i < rank && i < IR_MAX_RANK; i++)
        s->dims[i] = IR_DIM_UNKNOWN;
}

o2p_status inf_dim_mul(const ir_infer_ctx *ctx, ir_dim a, ir_dim b, ir_dim *out)
{
    if (a.value == 0 || b.value == 0) {
        *out = inf_dim(0);
        return O2P_OK;
    }
    if (a.value >= 0 && b.value >= 0) {
        int64_t r;
        if (!o2p_mul_i64(a.value, b.value, &r))
            return ir_infer_error(ctx, "dimension %lld x %lld overflows 64 bits",
                                  (long long)a.value, (long long)b.value);
        *out = inf_dim(r);
        return O2P_OK;
    }
    if (a.value == 1)
        *out = b;
    else if (b.value == 1)
        *out = a;
    else
        *out = IR_DIM_UNKNOWN;
    return O2P_OK;
}

o2p_status inf_dim_add(const ir_infer_ctx *ctx, ir_dim a, ir_dim b, ir_dim *out)
{
    if (a.value >= 0 && b.value >= 0) {
        if (a.value > INT64_MAX - b.value)
            return ir_infer_error(ctx, "dimension %lld + %lld overflows 64 bits",
                                  (long long)a.value, (long long)b.value);
        *out = inf_dim(a.value + b.value);
    } else if (a.value == 0) {
        *out = b;
    } else if (b.value == 0) {
        *out = a;
    } else {
        *out = IR_DIM_UNKNOWN;
    }
    return O2P_OK;
}

o2p_status inf_dims_product(const ir_infer_ctx *ctx, const ir_dim *dims, int n, ir_dim *out)
{
    int64_t known = 1;
    int unknown = 0;
    ir_dim other = IR_DIM_UNKNOWN;
    for (int i = 0; i < n; i++)
        if (dims[i].value == 0) {
            *out = inf_dim(0);
            return O2P_OK;
        }
    for (int i = 0; i < n; i++) {
        if (dims[i].value < 0) {
            unknown++;
            other = dims[i];
        } else if (!o2p_mul_i64(known, dims[i].value, &known)) {
            return ir_infer_error(ctx, "the product of the dimensions overflows 64 bits");
        }
    }
    if (unknown == 0)
        *out = inf_dim(known);
    else if (unknown == 1 && known == 1)
        *out = other;
    else
        *out = IR_DIM_UNKNOWN;
    return O2P_OK;
}

o2p_status inf_axis(const ir_infer_ctx *ctx, int64_t axis, int rank, const char *what, int *out)
{
    if (axis < -(int64_t)rank || axis >= (int64_t)rank)
        return ir_infer_error(ctx, "axis %lld is out of range for rank %d input '%s'",
                              (long long)axis, rank, what);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return O2P_OK;
}

o2p_status inf_merge_shapes(const ir_infer_ctx *ctx, ir_shape *a, const ir_shape *b,
                            const char *what_a, const char *what_b)
{
    if (b->rank < 0)
        return O2P_OK;
    if (a->rank < 0) {
        *a = *b;
        return O2P_OK;
    }
    char sa[256], sb[256];
    if (a->rank != b->rank) {
        ir_shape_format(a, sa, sizeof sa);
        ir_shape_format(b, sb, sizeof sb);
        return ir_infer_error(ctx,
                              "'%s' has shape %s but '%s' has shape %s; they must have "
                              "the same rank",
                              what_a, sa, what_b, sb);
    }
    for (int i = 0; i < a->rank; i++) {
        ir_dim *x = &a->dims[i];
        const ir_dim *y = &b->dims[i];
        if (x->value >= 0 && y->value >= 0 && x->value != y->value) {
            ir_shape_format(a, sa, sizeof sa);
            ir_shape_format(b, sb, sizeof sb);
            return ir_infer_error(ctx,
                                  "'%s' has shape %s but '%s' has shape %s (axis %d "
                                  "differs)",
                                  what_a, sa, what_b, sb, i);
        }
        if (x->value < 0 && y->value >= 0)
            *x = *y;
        else if (x->value < 0 && !x->sym && y->sym)
            x->sym = y->sym;
    }
    return O2P_OK;
}

ir_dim inf_dim_from_value(const ir_value_entry *e)
{
    if (e->known)
        return e->value >= 0 ? inf_dim(e->value) : IR_DIM_UNKNOWN;
    ir_dim d = {-1, e->sym, 0};
    return d;
}

ir_value_entry inf_value_from_dim(ir_dim d)
{
    ir_value_entry e;
    memset(&e, 0, sizeof e);
    if (d.value >= 0) {
        e.known = 1;
        e.value = d.value;
    } else {
        e.sym = d.sym;
    }
    return e;
}

o2p_status inf_need_rank(const ir_infer_ctx *ctx, int i, int want)
{
    int r = inf_rank(ctx, i);
    if (r >= 0 && r != want)
        return ir_infer_error(ctx, "input '%s' has rank %d; it must have rank %d", inf_name(ctx, i),
                              r, want);
    return O2P_OK;
}

o2p_status inf_need_min_rank(const ir_infer_ctx *ctx, int i, int want)
{
    int r = inf_rank(ctx, i);
    if (r >= 0 && r < want)
        return ir_infer_error(ctx, "input '%s' has rank %d; it must have rank %d or more",
                              inf_name(ctx, i), r, want);
    return O2P_OK;
}

o2p_status inf_same_dtype(const ir_infer_ctx *ctx, int i, int j)
{
    o2p_dtype a = inf_dtype(ctx, i), b = inf_dtype(ctx, j);
    if (a != O2P_DTYPE_UNDEFINED && b != O2P_DTYPE_UNDEFINED && a != b)
        return ir_infer_error(ctx,
                              "input '%s' is %s but input '%s' is %s; they must have the "
                              "same element type",
                              inf_name(ctx, i), o2p_dtype_name(a), inf_name(ctx, j),
                              o2p_dtype_name(b));
    return O2P_OK;
}

/* ---------------------------------------------------------------- outputs */

o2p_status inf_out(ir_infer_ctx *ctx, int i, o2p_dtype dtype, const ir_shape *shape)
{
    if (i < 0 || i >= ctx->layer->num_outputs || !ctx->layer->outputs[i])
        return O2P_OK;
    return ir_set_output(ctx, i, dtype, shape);
}

o2p_status inf_out_like(ir_infer_ctx *ctx, int i, int j)
{
    ir_shape s;
    inf_shape(ctx, j, &s);
    O2P_TRY(inf_out(ctx, i, inf_dtype(ctx, j), &s));
    ir_values v;
    if (i < ctx->layer->num_outputs && inf_values(ctx, j, &v))
        O2P_TRY(ir_set_output_values(ctx, i, &v));
    return O2P_OK;
}

o2p_status inf_out_unknown(ir_infer_ctx *ctx, int i, o2p_dtype dtype)
{
    return inf_out(ctx, i, dtype, NULL);
}

/* ---------------------------------------------------------------- subgraphs */

static int graph_within(const ir_graph *g, const ir_graph *root)
{
    for (; g; g = g->parent)
        if (g == root)
            return 1;
    return 0;
}

void inf_reset_graph(ir_network *net, ir_graph *root)
{
    for (int k = 0; k < net->graphs.count; k++) {
        ir_graph *g = net->graphs.items[k];
        if (!graph_within(g, root))
            continue;
        for (int i = 0; i < g->tensors.count; i++) {
            ir_tensor *t = g->tensors.items[i];
            if (t->kind != IR_TENSOR_ACTIVATION)
                continue;
            t->dtype = O2P_DTYPE_UNDEFINED;
            ir_shape_unknown(&t->shape);
            t->values = NULL;
        }
    }
}

/* A list input (axes, pads, split sizes, scales, shapes): values flow through tensors of any
 * rank, so a rank-2 tensor would otherwise read as its flattened entries. */
o2p_status inf_need_list(const ir_infer_ctx *ctx, int i, const char *what)
{
    int r = inf_rank(ctx, i);
    if (r > 1)
        return ir_infer_error(ctx, "input '%s' (%s) must be 1-D, not rank %d", inf_name(ctx, i),
                              what, r);
    return O2P_OK;
}
