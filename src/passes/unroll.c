/* unroll.c: control flow the build can resolve. Plans are static-shape, and a Loop whose
 * carried values change shape from one iteration to the next (a growing Concat, a Slice at
 * the iteration number) or that carries values the engine cannot hold (sequences) has no
 * plan of its own; when its trip count is a constant and it cannot stop early, its body is
 * copied into the main graph once per iteration, the iteration number a constant in each
 * copy, so every shape is static again (subgraphs in the body, an If, are copied with it).
 * An If whose condition is a constant becomes the layers of the branch it takes. Other Loops
 * and Ifs are left to the control-flow runtime (docs/control-flow.md). */
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* At most this many iterations, and this many copied layers per Loop. */
#define UNROLL_MAX_TRIPS 64
#define UNROLL_MAX_LAYERS 4096

/* Body tensor → its copy, for one copy of a body; `outer` is the map of the graph around a
 * nested subgraph's copy (an If inside a Loop body reads the body's tensors). */
typedef struct copy_map {
    const struct copy_map *outer;
    ir_graph *dst; /* where the copies go: the main graph, or a copied subgraph */
    const void **from;
    ir_tensor **to;
    int count, cap;
} copy_map;

static o2p_status map_put(copy_map *m, const ir_tensor *from, ir_tensor *to)
{
    if (m->count == m->cap) {
        int cap = m->cap ? 2 * m->cap : 64;
        const void **f = realloc(m->from, (size_t)cap * sizeof *f);
        if (f)
            m->from = f;
        ir_tensor **t = f ? realloc(m->to, (size_t)cap * sizeof *t) : NULL;
        if (!f || !t)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory unrolling control flow");
        m->to = t;
        m->cap = cap;
    }
    m->from[m->count] = from;
    m->to[m->count++] = to;
    return O2P_OK;
}

static ir_tensor *map_get(const copy_map *m, const ir_tensor *from)
{
    for (; m; m = m->outer)
        for (int i = m->count - 1; i >= 0; i--)
            if (m->from[i] == from)
                return m->to[i];
    return NULL;
}

static void map_free(copy_map *m)
{
    free(m->from);
    free(m->to);
    m->from = NULL;
    m->to = NULL;
    m->count = m->cap = 0;
}

/* A fresh tensor name in g from a prefix and a body name. */
static const char *fresh_name(ir_graph *g, const char *prefix, const char *name)
{
    ir_network *net = g->network;
    const char *n = o2p_arena_printf(&net->arena, "%s/%s", prefix, name);
    for (int k = 1; n && o2p_strmap_get(&g->by_name, n); k++)
        n = o2p_arena_printf(&net->arena, "%s/%s_%d", prefix, name, k);
    return n;
}

/* The name of a copy in m->dst: prefixed in the main graph (one graph for every copy), the
 * body's own in a copied subgraph (a new graph of its own). */
static const char *copy_name(const copy_map *m, const char *prefix, const char *name)
{
    return m->outer ? name : fresh_name(m->dst, prefix, name);
}

static o2p_status new_constant(ir_graph *g, const char *name, o2p_dtype dtype, int rank,
                               const int64_t *dims, const void *bytes, size_t nbytes,
                               ir_tensor **out)
{
    ir_network *net = g->network;
    void *data = ir_network_alloc_data(net, nbytes ? nbytes : 1);
    if (!data || !name)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory unrolling control flow");
    memcpy(data, bytes, nbytes);
    ir_tensor *t;
    O2P_TRY(ir_tensor_new(g, name, IR_TENSOR_ACTIVATION, &t));
    ir_shape s;
    s.rank = rank;
    for (int i = 0; i < rank; i++)
        s.dims[i] = (ir_dim){dims[i], NULL, 0};
    O2P_TRY(ir_tensor_make_constant(t, dtype, &s, data, nbytes));
    *out = t;
    return O2P_OK;
}

/* The tensor a copied layer reads: mapped in this copy or the copies around it, the main
 * graph's own, or a body constant (copied once into the main graph and shared by every
 * iteration through `consts`; into a copied subgraph, per copy). */
static o2p_status resolve(ir_graph *root, copy_map *m, copy_map *consts, const char *prefix,
                          ir_tensor *t, ir_tensor **out)
{
    *out = NULL;
    if (!t)
        return O2P_OK;
    if ((*out = map_get(m, t)))
        return O2P_OK;
    if (t->graph == root) {
        *out = t;
        return O2P_OK;
    }
    if (t->kind == IR_TENSOR_CONSTANT && ir_tensor_is_const(t)) {
        copy_map *into = m->dst == root ? consts : m;
        if ((*out = map_get(into, t)))
            return O2P_OK;
        int64_t dims[IR_MAX_RANK];
        for (int i = 0; i < t->shape.rank; i++)
            dims[i] = t->shape.dims[i].value;
        O2P_TRY(new_constant(m->dst, copy_name(m, prefix, t->name), t->dtype, t->shape.rank,
                             dims, t->data, t->nbytes, out));
        return map_put(into, t, *out);
    }
    return o2p_fail(O2P_ERR_INTERNAL, "unrolling: tensor '%s' has no value in the copy",
                    t->name);
}

/* A new tensor in m->dst like t (its declared and inferred type, its kind of value). */
static o2p_status copy_tensor(copy_map *m, const char *prefix, const ir_tensor *t,
                              ir_tensor_kind kind, ir_tensor **out)
{
    O2P_TRY(ir_tensor_new(m->dst, copy_name(m, prefix, t->name), kind, out));
    ir_tensor *c = *out;
    c->vtype = t->vtype;
    c->has_declared = t->has_declared;
    c->declared_dtype = t->declared_dtype;
    c->declared_shape = t->declared_shape;
    if (kind == IR_TENSOR_INPUT) {
        c->dtype = t->dtype;
        c->shape = t->shape;
    }
    return map_put(m, t, c);
}

static o2p_status copy_layers(ir_graph *root, ir_graph *body, copy_map *m, copy_map *consts,
                              const char *prefix);

/* The subgraphs of a copied layer's GRAPH/GRAPHS attribute, copied under it: their inputs,
 * layers and outputs, reading the copy around them through m. */
static o2p_status copy_subgraphs(ir_graph *root, ir_layer *c, ir_attr *a, copy_map *m,
                                 copy_map *consts, const char *prefix)
{
    ir_network *net = root->network;
    ir_graph **graphs = o2p_arena_array(&net->arena, (size_t)a->count, sizeof *graphs);
    if (!graphs)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory unrolling control flow");
    for (int k = 0; k < a->count; k++) {
        ir_graph *sg = a->graphs[k];
        ir_graph *ng = ir_graph_new(net, m->dst, sg->name);
        if (!ng)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory unrolling control flow");
        ng->owner = c;
        copy_map sub = {m, ng, NULL, NULL, 0, 0};
        o2p_status st = O2P_OK;
        for (int i = 0; i < sg->inputs.count && st == O2P_OK; i++) {
            ir_tensor *t;
            st = copy_tensor(&sub, prefix, sg->inputs.items[i], IR_TENSOR_INPUT, &t);
        }
        if (st == O2P_OK)
            st = copy_layers(root, sg, &sub, consts, prefix);
        for (int i = 0; i < sg->outputs.count && st == O2P_OK; i++) {
            ir_tensor *o;
            st = resolve(root, &sub, consts, prefix, sg->outputs.items[i], &o);
            if (st == O2P_OK && o->graph == ng)
                o->is_output = 1;
            if (st == O2P_OK)
                st = o2p_ptrvec_push(&ng->outputs, o);
        }
        map_free(&sub);
        O2P_TRY(st);
        graphs[k] = ng;
    }
    a->graphs = graphs;
    return O2P_OK;
}

/* Copies every layer of body into m->dst (appended), reading through m and consts; the
 * copies' outputs are new tensors, entered into m. */
static o2p_status copy_layers(ir_graph *root, ir_graph *body, copy_map *m, copy_map *consts,
                              const char *prefix)
{
    ir_network *net = root->network;
    for (int li = 0; li < body->layers.count; li++) {
        ir_layer *l = body->layers.items[li];
        ir_layer *c;
        O2P_TRY(ir_layer_new(m->dst, l->domain, l->op_type, fresh_name(root, prefix, l->name),
                             l->num_inputs, l->num_outputs, &c));
        if (l->num_attrs) {
            c->attrs = o2p_arena_array(&net->arena, (size_t)l->num_attrs, sizeof *c->attrs);
            if (!c->attrs)
                return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory unrolling control flow");
            memcpy(c->attrs, l->attrs, (size_t)l->num_attrs * sizeof *c->attrs);
            c->num_attrs = c->cap_attrs = l->num_attrs;
        }
        for (int i = 0; i < l->num_inputs; i++)
            O2P_TRY(resolve(root, m, consts, prefix, l->inputs[i], &c->inputs[i]));
        for (int a = 0; a < c->num_attrs; a++)
            if (c->attrs[a].type == O2P_ATTR_GRAPH || c->attrs[a].type == O2P_ATTR_GRAPHS)
                O2P_TRY(copy_subgraphs(root, c, &c->attrs[a], m, consts, prefix));
        for (int i = 0; i < l->num_outputs; i++) {
            if (!l->outputs[i])
                continue;
            ir_tensor *t;
            O2P_TRY(copy_tensor(m, prefix, l->outputs[i], IR_TENSOR_ACTIVATION, &t));
            t->producer = c;
            c->outputs[i] = t;
        }
    }
    return O2P_OK;
}

/* A layer of op_type in g producing out from the given inputs (appended). */
static o2p_status add_layer(ir_graph *g, const char *op_type, const char *name, int nin,
                            ir_tensor *const *in, ir_tensor *out, ir_layer **made)
{
    ir_layer *c;
    O2P_TRY(ir_layer_new(g, "", op_type, name, nin, 1, &c));
    for (int i = 0; i < nin; i++)
        c->inputs[i] = in[i];
    c->outputs[0] = out;
    out->producer = c;
    if (made)
        *made = c;
    return O2P_OK;
}

/* Moves the layers appended after `first_new` to where `old` stands, and removes `old`. */
static void splice(ir_graph *g, ir_layer *old, int first_new)
{
    int pos = old->index, added = g->layers.count - first_new;
    void **items = g->layers.items;
    void **moved = malloc((size_t)(added ? added : 1) * sizeof *moved);
    if (moved) {
        memcpy(moved, items + first_new, (size_t)added * sizeof *moved);
        memmove(items + pos + added, items + pos, (size_t)(first_new - pos) * sizeof *items);
        memcpy(items + pos, moved, (size_t)added * sizeof *moved);
        free(moved);
    } else {
        /* rotate in place, one at a time (only on allocation failure) */
        for (int k = 0; k < added; k++) {
            void *x = items[first_new + k];
            memmove(items + pos + k + 1, items + pos + k,
                    (size_t)(first_new + k - pos - k) * sizeof *items);
            items[pos + k] = x;
        }
    }
    for (int i = 0; i < g->layers.count; i++)
        ((ir_layer *)items[i])->index = i;
    ir_graph_remove_layer(g, old);
}

/* Plugin layers keep their creator and fields with the layer: not copied. */
static int has_plugins(const ir_graph *body)
{
    for (int li = 0; li < body->layers.count; li++) {
        const ir_layer *l = body->layers.items[li];
        if (l->plugin)
            return 1;
        for (int a = 0; a < l->num_attrs; a++)
            if (l->attrs[a].type == O2P_ATTR_GRAPH || l->attrs[a].type == O2P_ATTR_GRAPHS)
                for (int k = 0; k < l->attrs[a].count; k++)
                    if (has_plugins(l->attrs[a].graphs[k]))
                        return 1;
    }
    return 0;
}

static int const_scalar(const ir_tensor *t, int64_t *v)
{
    if (t && t->values && t->values->count == 1 && t->values->e[0].known) {
        *v = t->values->e[0].value;
        return 1;
    }
    return t && ir_tensor_is_const(t) && ir_tensor_numel_const(t) == 1 &&
           ir_const_get_i64(t, 0, v);
}

/* The body's condition output is the condition input (passed on or through an Identity) or
 * a constant true: the loop runs its trip count. */
static int runs_all_trips(const ir_graph *body)
{
    const ir_tensor *c = body->outputs.items[0];
    int64_t v;
    if (c == body->inputs.items[1])
        return 1;
    if (const_scalar(c, &v))
        return v != 0;
    return c->producer && strcmp(c->producer->op_type, "Identity") == 0 &&
           c->producer->num_inputs == 1 && c->producer->inputs[0] == body->inputs.items[1];
}

static int all_outputs_static(const ir_layer *l)
{
    for (int i = 0; i < l->num_outputs; i++)
        if (l->outputs[i] && (l->outputs[i]->dtype == O2P_DTYPE_UNDEFINED ||
                              !ir_shape_is_static(&l->outputs[i]->shape)))
            return 0;
    return 1;
}

/* Layer c, and the layers of its subgraphs, read `to` where they read `from`. */
static void replace_reads(ir_layer *c, const ir_tensor *from, ir_tensor *to)
{
    for (int k = 0; k < c->num_inputs; k++)
        if (c->inputs[k] == from)
            c->inputs[k] = to;
    for (int a = 0; a < c->num_attrs; a++)
        if (c->attrs[a].type == O2P_ATTR_GRAPH || c->attrs[a].type == O2P_ATTR_GRAPHS)
            for (int k = 0; k < c->attrs[a].count; k++) {
                ir_graph *sg = c->attrs[a].graphs[k];
                for (int i = 0; i < sg->layers.count; i++)
                    replace_reads(sg->layers.items[i], from, to);
                for (int i = 0; i < sg->outputs.count; i++)
                    if (sg->outputs.items[i] == from)
                        sg->outputs.items[i] = to;
            }
}

/* Gives `out` (a Loop's or If's output: it keeps its name and its readers) the value of
 * `from`. When a copied layer (index >= first_new) makes `from`, that layer writes `out`
 * instead and its readers read `out`: no Identity left in the plan; `renamed` remembers it
 * for a second output of the same value, which gets an Identity of `out`. */
static o2p_status forward(ir_graph *g, const char *prefix, int first_new, copy_map *renamed,
                          ir_tensor *from, ir_tensor *out)
{
    ir_tensor *r = map_get(renamed, from);
    if (r)
        from = r;
    ir_layer *p = from->producer;
    if (!r && p && p->graph == g && p->index >= first_new && from->kind == IR_TENSOR_ACTIVATION &&
        !from->is_output) {
        for (int i = first_new; i < g->layers.count; i++)
            replace_reads(g->layers.items[i], from, out);
        for (int k = 0; k < p->num_outputs; k++)
            if (p->outputs[k] == from)
                p->outputs[k] = out;
        out->producer = p;
        from->producer = NULL;
        return map_put(renamed, from, out);
    }
    return add_layer(g, "Identity", fresh_name(g, prefix, out->name), 1, &from, out, NULL);
}

static o2p_status unroll_loop(ir_graph *g, ir_layer *l, int64_t trips, int *done)
{
    ir_network *net = g->network;
    ir_graph *body = ir_attr_graph(l, "body");
    int n = l->num_inputs - 2, k = l->num_outputs - n;
    copy_map consts = {NULL, g, NULL, NULL, 0, 0};
    copy_map m = {NULL, g, NULL, NULL, 0, 0};
    ir_tensor **carried = calloc((size_t)(n > 0 ? n : 1), sizeof *carried);
    ir_tensor **scans = calloc((size_t)((k > 0 ? k : 1) * trips), sizeof *scans);
    o2p_status st = O2P_OK;
    int first_new = g->layers.count;
    if (!carried || !scans) {
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory unrolling Loop '%s'", l->name);
        goto out;
    }
    for (int i = 0; i < n; i++)
        carried[i] = l->inputs[2 + i];
    for (int64_t it = 0; it < trips && st == O2P_OK; it++) {
        const char *prefix = o2p_arena_printf(&net->arena, "%s/%lld", l->name, (long long)it);
        m.count = 0;
        int64_t iter = it;
        uint8_t yes = 1;
        int64_t none[1] = {0};
        ir_tensor *t_iter, *t_cond;
        st = new_constant(g, fresh_name(g, prefix, "iteration"), O2P_DTYPE_INT64, 0, none, &iter,
                          sizeof iter, &t_iter);
        if (st == O2P_OK)
            st = new_constant(g, fresh_name(g, prefix, "condition"), O2P_DTYPE_BOOL, 0, none,
                              &yes, 1, &t_cond);
        if (st == O2P_OK)
            st = map_put(&m, body->inputs.items[0], t_iter);
        if (st == O2P_OK)
            st = map_put(&m, body->inputs.items[1], t_cond);
        for (int i = 0; i < n && st == O2P_OK; i++)
            st = map_put(&m, body->inputs.items[2 + i], carried[i]);
        if (st == O2P_OK)
            st = copy_layers(g, body, &m, &consts, prefix);
        for (int i = 0; i < n && st == O2P_OK; i++)
            st = resolve(g, &m, &consts, prefix, body->outputs.items[1 + i], &carried[i]);
        for (int j = 0; j < k && st == O2P_OK; j++)
            st = resolve(g, &m, &consts, prefix, body->outputs.items[1 + n + j],
                         &scans[j * trips + it]);
    }
    /* The Loop's outputs: the last carried values, and each scan output stacked on a new
     * first axis (Unsqueeze of each iteration's value, then one Concat). */
    int64_t opset = ir_network_opset(net, "");
    for (int j = 0; j < k && st == O2P_OK; j++) {
        ir_tensor *out_t = l->outputs[n + j];
        if (!out_t)
            continue;
        ir_tensor **parts = calloc((size_t)trips, sizeof *parts);
        ir_tensor *axes = NULL;
        int64_t zero = 0, one = 1;
        if (!parts) {
            st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory unrolling Loop '%s'", l->name);
            break;
        }
        if (opset >= 13)
            st = new_constant(g, fresh_name(g, l->name, "scan_axes"), O2P_DTYPE_INT64, 1, &one,
                              &zero, sizeof zero, &axes);
        for (int64_t it = 0; it < trips && st == O2P_OK; it++) {
            const char *pname = o2p_arena_printf(&net->arena, "%s/%lld/scan%d", l->name,
                                                 (long long)it, j);
            ir_layer *u;
            st = ir_tensor_new(g, fresh_name(g, pname, "stacked"), IR_TENSOR_ACTIVATION,
                               &parts[it]);
            ir_tensor *in[2] = {scans[j * trips + it], axes};
            if (st == O2P_OK)
                st = add_layer(g, "Unsqueeze", fresh_name(g, pname, "unsqueeze"),
                               opset >= 13 ? 2 : 1, in, parts[it], &u);
            if (st == O2P_OK && opset < 13) {
                ir_attr *a;
                st = ir_layer_add_attr(u, "axes", O2P_ATTR_INTS, &a);
                if (st == O2P_OK) {
                    a->ints = o2p_arena_array(&net->arena, 1, sizeof(int64_t));
                    a->count = 1;
                    if (!a->ints)
                        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory unrolling");
                    else
                        a->ints[0] = 0;
                }
            }
        }
        ir_layer *cat;
        if (st == O2P_OK)
            st = add_layer(g, "Concat", fresh_name(g, l->name, "scan_concat"), (int)trips,
                           parts, out_t, &cat);
        if (st == O2P_OK) {
            ir_attr *a;
            st = ir_layer_add_attr(cat, "axis", O2P_ATTR_INT, &a);
            if (st == O2P_OK)
                a->i = 0;
        }
        free(parts);
    }
    copy_map renamed = {NULL, g, NULL, NULL, 0, 0};
    for (int i = 0; i < n && st == O2P_OK; i++)
        if (l->outputs[i])
            st = forward(g, l->name, first_new, &renamed, carried[i], l->outputs[i]);
    map_free(&renamed);
    if (st == O2P_OK) {
        splice(g, l, first_new);
        *done = 1;
    }
out:
    free(carried);
    free(scans);
    map_free(&consts);
    map_free(&m);
    return st;
}

static o2p_status inline_if(ir_graph *g, ir_layer *l, int cond, int *done)
{
    ir_graph *branch = ir_attr_graph(l, cond ? "then_branch" : "else_branch");
    copy_map consts = {NULL, g, NULL, NULL, 0, 0};
    copy_map m = {NULL, g, NULL, NULL, 0, 0};
    int first_new = g->layers.count;
    copy_map renamed = {NULL, g, NULL, NULL, 0, 0};
    o2p_status st = copy_layers(g, branch, &m, &consts, l->name);
    for (int i = 0; i < l->num_outputs && st == O2P_OK; i++) {
        ir_tensor *v;
        if (!l->outputs[i])
            continue;
        st = resolve(g, &m, &consts, l->name, branch->outputs.items[i], &v);
        if (st == O2P_OK)
            st = forward(g, l->name, first_new, &renamed, v, l->outputs[i]);
    }
    map_free(&renamed);
    if (st == O2P_OK) {
        splice(g, l, first_new);
        *done = 1;
    }
    map_free(&consts);
    map_free(&m);
    return st;
}

o2p_status pass_unroll_control(ir_network *net, int *unrolled)
{
    ir_graph *g = net->main;
    *unrolled = 0;
    for (int i = 0; i < g->layers.count;) {
        ir_layer *l = g->layers.items[i];
        int done = 0;
        int64_t v;
        if (*l->domain || !l->op) {
            i++;
            continue;
        }
        if (strcmp(l->op_type, "If") == 0 && const_scalar(l->inputs[0], &v)) {
            ir_graph *b = ir_attr_graph(l, v ? "then_branch" : "else_branch");
            if (b && !has_plugins(b) && b->outputs.count == l->num_outputs)
                O2P_TRY(inline_if(g, l, v != 0, &done));
        } else if (strcmp(l->op_type, "Loop") == 0 && l->num_inputs >= 2 &&
                   !all_outputs_static(l)) {
            ir_graph *body = ir_attr_graph(l, "body");
            int64_t trips, cond = 1;
            int n = l->num_inputs - 2;
            if (body && !has_plugins(body) && const_scalar(l->inputs[0], &trips) &&
                trips >= 1 && trips <= UNROLL_MAX_TRIPS &&
                (int64_t)body->layers.count * trips <= UNROLL_MAX_LAYERS &&
                (!l->inputs[1] || (const_scalar(l->inputs[1], &cond) && cond)) &&
                body->inputs.count == n + 2 && body->outputs.count == l->num_outputs + 1 &&
                runs_all_trips(body))
                O2P_TRY(unroll_loop(g, l, trips, &done));
        }
        if (done)
            (*unrolled)++; /* the copies start at index i: look at them too (nested If) */
        else
            i++;
    }
    return O2P_OK;
}
