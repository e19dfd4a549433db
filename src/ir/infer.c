/* infer.c: the shape-inference driver (topological order, per-layer dispatch through the op
 * table) and the helpers every op's inference function uses. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/infer_ops.h"

o2p_status ir_layer_unsupported(const ir_layer *l, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return o2p_fail(O2P_ERR_UNSUPPORTED, "layer '%s' (%s): %s", l->name, l->op_type, msg);
}

o2p_status ir_infer_error(const ir_infer_ctx *ctx, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const ir_layer *l = ctx->layer;
    if (!l)
        return o2p_fail(O2P_ERR_SHAPE, "%s", msg);
    if (l->graph->parent)
        return o2p_fail(O2P_ERR_SHAPE, "node '%s' (#%d, %s%s%s) in subgraph '%s': %s", l->name,
                        l->index, *l->domain ? l->domain : "", *l->domain ? "." : "", l->op_type,
                        l->graph->name, msg);
    return o2p_fail(O2P_ERR_SHAPE, "node '%s' (#%d, %s%s%s): %s", l->name, l->index,
                    *l->domain ? l->domain : "", *l->domain ? "." : "", l->op_type, msg);
}

ir_tensor *ir_input(const ir_infer_ctx *ctx, int i)
{
    const ir_layer *l = ctx->layer;
    return i >= 0 && i < l->num_inputs ? l->inputs[i] : NULL;
}

/* Merge one dim: known beats unknown, a symbol beats nothing; two different known values
 * conflict. */
static int merge_dim(ir_dim *into, const ir_dim *from)
{
    if (from->value >= 0) {
        if (into->value >= 0 && into->value != from->value)
            return 0;
        into->value = from->value;
        into->sym = NULL;
        into->bound = 0;
    } else if (into->value < 0 && from->sym) {
        into->sym = from->sym;
    }
    /* a data-dependent dim keeps the tightest bound either side knows */
    if (into->value < 0 && from->value < 0 && from->bound > 0 &&
        (into->bound <= 0 || from->bound < into->bound))
        into->bound = from->bound;
    return 1;
}

o2p_status ir_set_output(ir_infer_ctx *ctx, int index, o2p_dtype dtype, const ir_shape *shape)
{
    ir_layer *l = ctx->layer;
    if (index < 0 || index >= l->num_outputs || !l->outputs[index])
        return O2P_OK;
    ir_tensor *t = l->outputs[index];
    if (dtype != O2P_DTYPE_UNDEFINED) {
        if (t->dtype != O2P_DTYPE_UNDEFINED && t->dtype != dtype)
            return ir_infer_error(ctx, "output '%s' is %s by inference but %s before", t->name,
                                  o2p_dtype_name(dtype), o2p_dtype_name(t->dtype));
        t->dtype = dtype;
    }
    if (!shape || shape->rank < 0)
        return O2P_OK;
    if (shape->rank > IR_MAX_RANK)
        return ir_infer_error(ctx, "output '%s' would have rank %d, more than the limit of %d",
                              t->name, shape->rank, IR_MAX_RANK);
    for (int i = 0; i < shape->rank; i++)
        if (shape->dims[i].value < -1)
            return ir_infer_error(ctx, "output '%s' would have a negative dimension (%lld) on "
                                  "axis %d", t->name, (long long)shape->dims[i].value, i);
    if (t->shape.rank < 0) {
        t->shape = *shape;
        return O2P_OK;
    }
    if (t->shape.rank != shape->rank) {
        char a[256], b[256];
        ir_shape_format(shape, a, sizeof a);
        ir_shape_format(&t->shape, b, sizeof b);
        return ir_infer_error(ctx, "output '%s' has shape %s by inference but %s before", t->name,
                              a, b);
    }
    ir_shape merged = t->shape;
    for (int i = 0; i < shape->rank; i++) {
        if (!merge_dim(&merged.dims[i], &shape->dims[i])) {
            char a[256], b[256];
            ir_shape_format(shape, a, sizeof a);
            ir_shape_format(&t->shape, b, sizeof b);
            return ir_infer_error(ctx, "output '%s' has shape %s by inference but %s before",
                                  t->name, a, b);
        }
    }
    t->shape = merged;
    return O2P_OK;
}

o2p_status ir_set_output_values(ir_infer_ctx *ctx, int index, const ir_values *values)
{
    ir_layer *l = ctx->layer;
    if (index < 0 || index >= l->num_outputs || !l->outputs[index] || !values)
        return O2P_OK;
    if (values->count < 0 || values->count > IR_MAX_VALUES)
        return O2P_OK;
    ir_tensor *t = l->outputs[index];
    ir_values *v = o2p_arena_alloc(&ctx->net->arena, sizeof *v, 16);
    if (!v)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (shape values)");
    *v = *values;
    t->values = v;
    return O2P_OK;
}

int ir_input_values(const ir_infer_ctx *ctx, int i, ir_values *v)
{
    const ir_tensor *t = ir_input(ctx, i);
    if (!t)
        return 0;
    if (t->values) {
        *v = *t->values;
        return 1;
    }
    if (!ir_tensor_is_const(t) || !(ir_dtype_is_int(t->dtype) || t->dtype == O2P_DTYPE_BOOL))
        return 0;
    int64_t n = ir_tensor_numel_const(t);
    if (n < 0 || n > IR_MAX_VALUES)
        return 0;
    memset(v, 0, sizeof *v);
    v->count = (int)n;
    for (int64_t k = 0; k < n; k++) {
        int64_t x;
        if (ir_const_get_i64(t, k, &x)) {
            v->e[k].known = 1;
            v->e[k].value = x;
        }
    }
    return 1;
}

o2p_status ir_norm_axis(const ir_infer_ctx *ctx, int64_t axis, int rank, int *out)
{
    if (axis < -(int64_t)rank || axis >= (int64_t)rank || (rank == 0 && axis != 0))
        return ir_infer_error(ctx, "axis %lld is out of range for a rank-%d input",
                              (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return O2P_OK;
}

o2p_status ir_broadcast(const ir_infer_ctx *ctx, const ir_shape *a, const ir_shape *b,
                        ir_shape *out)
{
    if (a->rank < 0 || b->rank < 0) {
        ir_shape_unknown(out);
        return O2P_OK;
    }
    int rank = a->rank > b->rank ? a->rank : b->rank;
    ir_shape r;
    memset(&r, 0, sizeof r);
    r.rank = rank;
    for (int i = 0; i < rank; i++) {
        int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
        ir_dim da = ia >= 0 ? a->dims[ia] : (ir_dim){1, NULL, 0};
        ir_dim db = ib >= 0 ? b->dims[ib] : (ir_dim){1, NULL, 0};
        ir_dim d = IR_DIM_UNKNOWN;
        if (da.value == 1)
            d = db;
        else if (db.value == 1)
            d = da;
        else if (da.value >= 0 && db.value >= 0) {
            if (da.value != db.value) {
                char sa[256], sb[256];
                ir_shape_format(a, sa, sizeof sa);
                ir_shape_format(b, sb, sizeof sb);
                return ir_infer_error(ctx, "shapes %s and %s cannot be broadcast (axis %d: %lld "
                                      "vs %lld)", sa, sb, i, (long long)da.value,
                                      (long long)db.value);
            }
            d = da;
        } else if (da.value >= 0) {
            d = da; /* the other must be 1 or equal; when valid it is this value */
        } else if (db.value >= 0) {
            d = db;
        } else if (da.sym && db.sym && strcmp(da.sym, db.sym) == 0) {
            d = da;
        }
        r.dims[i] = d;
    }
    *out = r;
    return O2P_OK;
}

/* ---------------------------------------------------------------- the driver */

/* A layer without an importer cannot infer its outputs; what the model declares for them
 * (value_info, graph outputs) lets inference go on past it. */
static void use_declared_outputs(ir_layer *l)
{
    for (int i = 0; i < l->num_outputs; i++) {
        ir_tensor *t = l->outputs[i];
        if (!t || !t->has_declared)
            continue;
        if (t->dtype == O2P_DTYPE_UNDEFINED)
            t->dtype = t->declared_dtype;
        if (t->shape.rank < 0)
            t->shape = t->declared_shape;
    }
}

/* Collects the tensors of graph g (or of graphs nested in it) that l's subgraphs read from
 * the graph of l: every tensor read by a nested layer that was not made inside. */
static o2p_status collect_outer_reads(const ir_graph *g, const ir_graph *home, o2p_ptrvec *out)
{
    for (int i = 0; i < g->layers.count; i++) {
        const ir_layer *l = g->layers.items[i];
        for (int k = 0; k < l->num_inputs; k++)
            if (l->inputs[k] && l->inputs[k]->graph == home)
                O2P_TRY(o2p_ptrvec_push(out, l->inputs[k]));
        for (int a = 0; a < l->num_attrs; a++)
            for (int k = 0; l->attrs[a].graphs && k < l->attrs[a].count; k++)
                O2P_TRY(collect_outer_reads(l->attrs[a].graphs[k], home, out));
    }
    for (int i = 0; i < g->outputs.count; i++) {
        ir_tensor *t = g->outputs.items[i];
        if (t->graph == home)
            O2P_TRY(o2p_ptrvec_push(out, t));
    }
    return O2P_OK;
}

static o2p_status layer_deps(const ir_layer *l, o2p_ptrvec *deps)
{
    for (int k = 0; k < l->num_inputs; k++)
        if (l->inputs[k] && l->inputs[k]->graph == l->graph)
            O2P_TRY(o2p_ptrvec_push(deps, l->inputs[k]));
    for (int a = 0; a < l->num_attrs; a++)
        for (int k = 0; l->attrs[a].graphs && k < l->attrs[a].count; k++)
            O2P_TRY(collect_outer_reads(l->attrs[a].graphs[k], l->graph, deps));
    return O2P_OK;
}

/* Reorders g->layers topologically (Kahn), keeping the original order among ready layers.
 * A layer depends on the producers of its inputs and of every tensor of g that its
 * subgraphs read. */
static o2p_status topo_sort(ir_graph *g)
{
    int n = g->layers.count;
    if (n <= 0)
        return O2P_OK;
    o2p_status st = O2P_OK;
    int *pending = calloc((size_t)n, sizeof *pending);
    ir_layer **order = calloc((size_t)n, sizeof *order);
    char *done = calloc((size_t)n, 1);
    /* consumers[i]: layers waiting for layer i's outputs, as a flat edge list */
    o2p_ptrvec edges_from = {0}, edges_to = {0};
    if (!pending || !order || !done) {
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory sorting graph '%s'", g->name);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        ir_layer *l = g->layers.items[i];
        l->index = i;
    }
    for (int i = 0; i < n && st == O2P_OK; i++) {
        ir_layer *l = g->layers.items[i];
        o2p_ptrvec deps = {0};
        st = layer_deps(l, &deps);
        for (int k = 0; k < deps.count && st == O2P_OK; k++) {
            ir_tensor *t = deps.items[k];
            if (t->producer && t->producer->graph == g && t->producer != l) {
                pending[i]++;
                st = o2p_ptrvec_push(&edges_from, t->producer);
                if (st == O2P_OK)
                    st = o2p_ptrvec_push(&edges_to, l);
            } else if (t->producer == l) {
                st = o2p_fail(O2P_ERR_PARSE, "graph '%s': node '%s' (%s) reads its own output '%s'",
                              g->name, l->name, l->op_type, t->name);
            }
        }
        o2p_ptrvec_free(&deps);
    }
    if (st != O2P_OK)
        goto out;
    /* Edge lists by source, so each pass is linear. */
    int ne = edges_from.count;
    int *start = calloc((size_t)n + 1, sizeof *start);
    ir_layer **targets = calloc((size_t)(ne ? ne : 1), sizeof *targets);
    if (!start || !targets) {
        free(start);
        free(targets);
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory sorting graph '%s'", g->name);
        goto out;
    }
    for (int e = 0; e < ne; e++)
        start[((ir_layer *)edges_from.items[e])->index + 1]++;
    for (int i = 0; i < n; i++)
        start[i + 1] += start[i];
    int *fill = calloc((size_t)n, sizeof *fill);
    if (!fill) {
        free(start);
        free(targets);
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory sorting graph '%s'", g->name);
        goto out;
    }
    for (int e = 0; e < ne; e++) {
        int src = ((ir_layer *)edges_from.items[e])->index;
        targets[start[src] + fill[src]++] = edges_to.items[e];
    }
    free(fill);
    /* A queue in original order: a min-heap would keep it stable, but a FIFO of ready
     * layers seeded in order keeps already-sorted graphs unchanged, which is what matters. */
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        if (pending[i] == 0)
            order[tail++] = g->layers.items[i];
    while (head < tail) {
        ir_layer *l = order[head++];
        done[l->index] = 1;
        for (int e = start[l->index]; e < start[l->index + 1]; e++) {
            ir_layer *c = targets[e];
            if (--pending[c->index] == 0)
                order[tail++] = c;
        }
    }
    free(start);
    free(targets);
    if (tail != n) {
        for (int i = 0; i < n; i++)
            if (!done[i]) {
                ir_layer *l = g->layers.items[i];
                st = o2p_fail(O2P_ERR_PARSE,
                              "graph '%s': node '%s' (%s) is part of a cycle or reads a tensor "
                              "that is produced by a node in a cycle",
                              g->name, l->name, l->op_type);
                break;
            }
        goto out;
    }
    for (int i = 0; i < n; i++) {
        g->layers.items[i] = order[i];
        order[i]->index = i;
    }
out:
    o2p_ptrvec_free(&edges_from);
    o2p_ptrvec_free(&edges_to);
    free(pending);
    free(order);
    free(done);
    return st;
}

o2p_status ir_infer_graph(ir_network *net, ir_graph *g)
{
    O2P_TRY(topo_sort(g));
    for (int i = 0; i < g->layers.count; i++) {
        ir_layer *l = g->layers.items[i];
        if (!l->op || !l->op->infer) {
            use_declared_outputs(l);
            continue;
        }
        ir_infer_ctx ctx = {net, g, l, ir_network_opset(net, l->domain)};
        if (l->num_inputs < l->op->min_inputs ||
            (l->op->max_inputs >= 0 && l->num_inputs > l->op->max_inputs))
            return ir_infer_error(&ctx, "has %d inputs; %s takes %d to %d", l->num_inputs,
                                  l->op_type, l->op->min_inputs, l->op->max_inputs);
        if (l->num_outputs < l->op->min_outputs ||
            (l->op->max_outputs >= 0 && l->num_outputs > l->op->max_outputs))
            return ir_infer_error(&ctx, "has %d outputs; %s gives %d to %d", l->num_outputs,
                                  l->op_type, l->op->min_outputs, l->op->max_outputs);
        O2P_TRY(l->op->infer(&ctx));
    }
    return O2P_OK;
}

o2p_status ir_infer_network(ir_network *net)
{
    /* Start from nothing, so that inferring again after an input shape changed gives the
     * new shapes rather than a conflict with the old ones. */
    inf_reset_graph(net, net->main);
    return ir_infer_graph(net, net->main);
}
