/* sequence.c: resolves ONNX sequences and optionals at build time. Plans are static, so a
 * sequence whose length, element shapes and positions are known at build is a list of
 * ordinary tensors: walking the main graph in order, each sequence (or optional) tensor gets
 * its list of element tensors, the list operators disappear and the others become tensor
 * layers (SequenceAt -> Identity, ConcatFromSequence -> Concat, SplitToSequence -> Split,
 * SequenceLength -> a constant, SequenceMap -> its body once per element, an If giving a
 * sequence -> its branch when the condition is known). A Loop carrying sequences cannot be
 * resolved in place: the first run leaves it (and its readers) to pass_unroll_control,
 * whose copies of the body the final run resolves; the lists found stay on their tensors
 * (ir_tensor.seq_list) between the runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* What a sequence or optional tensor holds (on the tensor: ir_tensor.seq_list). is_seq: a
 * sequence (or an optional sequence), elems its list; else an optional tensor, its value in
 * elems[0] when present. */
typedef ir_seq_list seq_val;

typedef struct seq_ctx {
    ir_network *net;
    ir_graph *g;
    int64_t opset;
    int final;            /* a Loop carrying sequences is an error, not left for unrolling */
    int lists_set;        /* sequences resolved in this run */
    o2p_ptrvec dropped;   /* layers replaced: removed at the end */
    o2p_ptrvec deferred;  /* tensors made by Loops left for unrolling, and what reads them */
    int next_name;
} seq_ctx;

/* A tensor from src mapped to one in the main graph, while a body is inlined. */
typedef struct seq_map {
    const ir_tensor **from;
    ir_tensor **to;
    int count, cap;
} seq_map;

static o2p_status resolve_layer(seq_ctx *c, ir_layer *l);

static const char *const sequence_ops[] = {
    "ConcatFromSequence", "Optional",       "OptionalGetElement", "OptionalHasElement",
    "SequenceAt",         "SequenceConstruct", "SequenceEmpty",   "SequenceErase",
    "SequenceInsert",     "SequenceLength", "SequenceMap",        "SplitToSequence"};

static int is_sequence_op(const ir_layer *l)
{
    if (*l->domain)
        return 0;
    for (size_t i = 0; i < sizeof sequence_ops / sizeof sequence_ops[0]; i++)
        if (strcmp(l->op_type, sequence_ops[i]) == 0)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- values */

static seq_val *find_val(seq_ctx *c, const ir_tensor *t)
{
    (void)c;
    return t ? t->seq_list : NULL;
}

static int is_deferred(const seq_ctx *c, const ir_tensor *t)
{
    for (int i = 0; t && i < c->deferred.count; i++)
        if (c->deferred.items[i] == t)
            return 1;
    return 0;
}

/* Records what t holds: a copy of the list (count elements of elems). */
static o2p_status set_val(seq_ctx *c, ir_tensor *t, int is_seq, int present, int count,
                          ir_tensor *const *elems)
{
    if (!t)
        return O2P_OK;
    ir_tensor **copy = o2p_arena_array(&c->net->arena, (size_t)count + 1, sizeof *copy);
    seq_val *v = o2p_arena_alloc(&c->net->arena, sizeof *v, 16);
    if (!copy || !v)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (sequences)");
    for (int i = 0; i < count; i++)
        copy[i] = elems[i];
    t->seq_list = v;
    c->lists_set++;
    v->is_seq = is_seq;
    v->present = present;
    v->count = count;
    v->elems = copy;
    return O2P_OK;
}

static o2p_status set_seq(seq_ctx *c, ir_tensor *t, int count, ir_tensor *const *elems)
{
    return set_val(c, t, 1, 1, count, elems);
}

/* The sequence input i of l (present in the map), or an error saying what it is. */
static o2p_status need_seq(seq_ctx *c, const ir_layer *l, int i, seq_val **out)
{
    ir_tensor *t = i < l->num_inputs ? l->inputs[i] : NULL;
    seq_val *v = find_val(c, t);
    if (!t)
        return ir_layer_unsupported(l, "input %d (a sequence) is missing", i);
    if (!v || !v->is_seq || !v->present)
        return ir_layer_unsupported(l, "input '%s' is not a sequence known at build (plans are static: "
                          "a sequence must be built in the graph from tensors, or be a graph "
                          "input whose length and element shapes are given with "
                          "o2p_tensor_set_sequence)", t->name);
    *out = v;
    return O2P_OK;
}

/* The value of a scalar (or one-element) int input: constant data or a value inference
 * knows. */
static o2p_status const_int(const ir_layer *l, int i, const char *what, int64_t *out)
{
    const ir_tensor *t = i < l->num_inputs ? l->inputs[i] : NULL;
    if (!t)
        return ir_layer_unsupported(l, "the %s is missing", what);
    if (ir_tensor_is_const(t) && ir_tensor_numel_const(t) == 1 && ir_const_get_i64(t, 0, out))
        return O2P_OK;
    if (t->values && t->values->count == 1 && t->values->e[0].known) {
        *out = t->values->e[0].value;
        return O2P_OK;
    }
    return ir_layer_unsupported(l, "%s '%s' must be a constant known at build (plans are static: "
                      "sequence positions and lengths are resolved when the plan is built); "
                      "make it an initializer or compute it from constants and shapes",
                      what, t->name);
}

/* ---------------------------------------------------------------- new tensors and layers */

static o2p_status new_tensor(seq_ctx *c, const char *base, ir_tensor_kind kind, ir_tensor **out)
{
    char name[512];
    snprintf(name, sizeof name, "%s", base);
    for (int k = 1; o2p_strmap_get(&c->g->by_name, name); k++)
        snprintf(name, sizeof name, "%s_%d", base, k);
    return ir_tensor_new(c->g, name, kind, out);
}

static o2p_status new_const_i64(seq_ctx *c, const char *base, int rank, const int64_t *values,
                                int64_t n, ir_tensor **out)
{
    O2P_TRY(new_tensor(c, base, IR_TENSOR_CONSTANT, out));
    size_t nbytes = (size_t)n * sizeof(int64_t);
    void *data = ir_network_alloc_data(c->net, nbytes ? nbytes : 1);
    if (!data)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (sequence constants)");
    if (nbytes)
        memcpy(data, values, nbytes);
    ir_tensor *t = *out;
    t->dtype = O2P_DTYPE_INT64;
    t->shape.rank = rank;
    if (rank == 1)
        t->shape.dims[0] = (ir_dim){n, NULL, 0};
    t->data = data;
    t->nbytes = nbytes;
    return O2P_OK;
}

/* A layer of op_type made for `from` (named after it), reading ins; outs[k] non-NULL are
 * existing tensors it now produces, NULL ones get new tensors (named after base). */
static o2p_status add_layer(seq_ctx *c, const ir_layer *from, const char *op_type, int nin,
                            ir_tensor *const *ins, int nout, ir_tensor **outs, const char *base,
                            ir_layer **out)
{
    char name[512];
    snprintf(name, sizeof name, "%s/%s_%d", from->name, op_type, c->next_name++);
    ir_layer *l;
    O2P_TRY(ir_layer_new(c->g, "", op_type, name, nin, nout, &l));
    for (int i = 0; i < nin; i++)
        l->inputs[i] = ins[i];
    for (int k = 0; k < nout; k++) {
        if (!outs[k]) {
            char tn[512];
            snprintf(tn, sizeof tn, "%s/%s", base, op_type);
            O2P_TRY(new_tensor(c, tn, IR_TENSOR_ACTIVATION, &outs[k]));
        }
        outs[k]->producer = l;
        outs[k]->vtype = IR_VALUE_TENSOR;
        l->outputs[k] = outs[k];
    }
    if (out)
        *out = l;
    return O2P_OK;
}

/* out = Identity(in), out an existing tensor (a layer's output that keeps its name). */
static o2p_status identity(seq_ctx *c, const ir_layer *from, ir_tensor *in, ir_tensor *out)
{
    return add_layer(c, from, "Identity", 1, &in, 1, &out, out->name, NULL);
}

/* Axes of Squeeze/Unsqueeze: an input from opset 13, an attribute before. */
static o2p_status axes_layer(seq_ctx *c, const ir_layer *from, const char *op_type,
                             ir_tensor *in, int64_t axis, ir_tensor **out)
{
    ir_layer *nl;
    ir_tensor *outs[1] = {NULL};
    if (c->opset >= 13) {
        ir_tensor *axes;
        O2P_TRY(new_const_i64(c, "axes", 1, &axis, 1, &axes));
        ir_tensor *ins[2] = {in, axes};
        O2P_TRY(add_layer(c, from, op_type, 2, ins, 1, outs, in->name, &nl));
    } else {
        O2P_TRY(add_layer(c, from, op_type, 1, &in, 1, outs, in->name, &nl));
        ir_attr *a;
        O2P_TRY(ir_layer_add_attr(nl, "axes", O2P_ATTR_INTS, &a));
        a->count = 1;
        if (!(a->ints = o2p_arena_array(&c->net->arena, 1, sizeof(int64_t))))
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (sequence axes)");
        a->ints[0] = axis;
    }
    *out = outs[0];
    return O2P_OK;
}

/* ---------------------------------------------------------------- inlining bodies */

static o2p_status map_put(seq_map *m, const ir_tensor *from, ir_tensor *to)
{
    if (m->count == m->cap) {
        int ncap = m->cap ? 2 * m->cap : 16;
        const ir_tensor **f = realloc(m->from, (size_t)ncap * sizeof *f);
        if (!f)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (inlining)");
        m->from = f;
        ir_tensor **t = realloc(m->to, (size_t)ncap * sizeof *t);
        if (!t)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (inlining)");
        m->to = t;
        m->cap = ncap;
    }
    m->from[m->count] = from;
    m->to[m->count++] = to;
    return O2P_OK;
}

static void map_free(seq_map *m)
{
    free(m->from);
    free(m->to);
}

/* The main-graph tensor that body tensor t stands for: mapped, a copy of a body constant,
 * or t itself when the body reads it from the graphs around. */
static o2p_status map_get(seq_ctx *c, seq_map *m, const ir_layer *owner, const ir_graph *body,
                          ir_tensor *t, ir_tensor **out)
{
    for (int i = 0; i < m->count; i++)
        if (m->from[i] == t) {
            *out = m->to[i];
            return O2P_OK;
        }
    if (t->graph != body) {
        *out = t;
        return O2P_OK;
    }
    if (t->kind != IR_TENSOR_CONSTANT)
        return ir_layer_unsupported(owner, "tensor '%s' of graph '%s' is read before it is computed",
                          t->name, body->name);
    char base[512];
    snprintf(base, sizeof base, "%s/%s", owner->name, t->name);
    ir_tensor *k;
    O2P_TRY(new_tensor(c, base, IR_TENSOR_CONSTANT, &k));
    k->dtype = t->dtype;
    k->shape = t->shape;
    k->data = t->data;
    k->nbytes = t->nbytes;
    O2P_TRY(map_put(m, t, k));
    *out = k;
    return O2P_OK;
}

/* Copies body's layers into the main graph (body inputs as mapped in m), resolving the
 * sequence operators among them at once; outs[k] gets what body output k stands for. */
static o2p_status inline_body(seq_ctx *c, const ir_layer *owner, ir_graph *body, int copy,
                              seq_map *m, ir_tensor **outs)
{
    for (int i = 0; i < body->layers.count; i++) {
        const ir_layer *bl = body->layers.items[i];
        for (int a = 0; a < bl->num_attrs; a++)
            if (bl->attrs[a].graphs)
                return ir_layer_unsupported(owner, "its graph '%s' holds node '%s' (%s) with a graph "
                                  "of its own; onnx2plan unrolls bodies without nested "
                                  "control flow only", body->name, bl->name, bl->op_type);
        char name[512];
        snprintf(name, sizeof name, "%s/%d/%s", owner->name, copy, bl->name);
        ir_layer *nl;
        O2P_TRY(ir_layer_new(c->g, bl->domain, bl->op_type, name, bl->num_inputs,
                             bl->num_outputs, &nl));
        nl->op = bl->op;
        nl->plugin = bl->plugin;
        nl->plugin_library = bl->plugin_library;
        nl->unsupported_reason = bl->unsupported_reason;
        for (int k = 0; k < bl->num_inputs; k++)
            if (bl->inputs[k])
                O2P_TRY(map_get(c, m, owner, body, bl->inputs[k], &nl->inputs[k]));
        for (int a = 0; a < bl->num_attrs; a++) {
            ir_attr *na;
            O2P_TRY(ir_layer_add_attr(nl, bl->attrs[a].name, bl->attrs[a].type, &na));
            *na = bl->attrs[a];
        }
        for (int k = 0; k < bl->num_outputs; k++) {
            ir_tensor *t = bl->outputs[k];
            if (!t)
                continue;
            char tn[512];
            snprintf(tn, sizeof tn, "%s/%d/%s", owner->name, copy, t->name);
            ir_tensor *nt;
            O2P_TRY(new_tensor(c, tn, IR_TENSOR_ACTIVATION, &nt));
            nt->producer = nl;
            nl->outputs[k] = nt;
            O2P_TRY(map_put(m, t, nt));
        }
        O2P_TRY(resolve_layer(c, nl));
    }
    for (int k = 0; k < body->outputs.count; k++)
        O2P_TRY(map_get(c, m, owner, body, body->outputs.items[k], &outs[k]));
    return O2P_OK;
}

/* Output k of `owner` is what `got` (a main-graph tensor) holds: its list when it is a
 * sequence or optional, else got itself through an Identity. */
static o2p_status bind_output(seq_ctx *c, const ir_layer *owner, int k, ir_tensor *got)
{
    ir_tensor *t = owner->outputs[k];
    if (!t)
        return O2P_OK;
    seq_val *v = find_val(c, got);
    if (v)
        return set_val(c, t, v->is_seq, v->present, v->count, v->elems);
    return identity(c, owner, got, t);
}

/* ---------------------------------------------------------------- the operators */

static o2p_status do_insert(seq_ctx *c, ir_layer *l)
{
    seq_val *s;
    O2P_TRY(need_seq(c, l, 0, &s));
    int n = s->count;
    int64_t pos = n;
    if (l->num_inputs > 2 && l->inputs[2])
        O2P_TRY(const_int(l, 2, "position", &pos));
    if (pos < -n || pos > n)
        return ir_layer_unsupported(l, "position %lld is outside [-%d, %d] for a sequence of %d",
                          (long long)pos, n, n, n);
    if (pos < 0)
        pos += n;
    ir_tensor **e = calloc((size_t)n + 1, sizeof *e);
    if (!e)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (sequences)");
    for (int i = 0, j = 0; i <= n; i++)
        e[i] = i == pos ? l->inputs[1] : s->elems[j++];
    o2p_status st = set_seq(c, l->outputs[0], n + 1, e);
    free(e);
    return st;
}

static o2p_status do_erase(seq_ctx *c, ir_layer *l)
{
    seq_val *s;
    O2P_TRY(need_seq(c, l, 0, &s));
    int n = s->count;
    int64_t pos = -1;
    if (l->num_inputs > 1 && l->inputs[1])
        O2P_TRY(const_int(l, 1, "position", &pos));
    if (n == 0 || pos < -n || pos >= n)
        return ir_layer_unsupported(l, "position %lld is outside [-%d, %d) for a sequence of %d",
                          (long long)pos, n, n, n);
    if (pos < 0)
        pos += n;
    ir_tensor **e = calloc((size_t)n + 1, sizeof *e);
    if (!e)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (sequences)");
    for (int i = 0, j = 0; i < n; i++)
        if (i != pos)
            e[j++] = s->elems[i];
    o2p_status st = set_seq(c, l->outputs[0], n - 1, e);
    free(e);
    return st;
}

static o2p_status do_at(seq_ctx *c, ir_layer *l)
{
    seq_val *s;
    O2P_TRY(need_seq(c, l, 0, &s));
    int n = s->count;
    int64_t pos;
    O2P_TRY(const_int(l, 1, "position", &pos));
    if (pos < -n || pos >= n)
        return ir_layer_unsupported(l, "position %lld is outside [-%d, %d) for a sequence of %d",
                          (long long)pos, n, n, n);
    if (pos < 0)
        pos += n;
    return l->outputs[0] ? identity(c, l, s->elems[pos], l->outputs[0]) : O2P_OK;
}

static o2p_status do_length(seq_ctx *c, ir_layer *l)
{
    seq_val *s;
    O2P_TRY(need_seq(c, l, 0, &s));
    ir_tensor *t = l->outputs[0];
    if (!t)
        return O2P_OK;
    int64_t *v = ir_network_alloc_data(c->net, sizeof *v);
    if (!v)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (sequences)");
    *v = s->count;
    ir_shape scalar;
    memset(&scalar, 0, sizeof scalar);
    t->vtype = IR_VALUE_TENSOR;
    return ir_tensor_make_constant(t, O2P_DTYPE_INT64, &scalar, v, sizeof *v);
}

static o2p_status do_concat(seq_ctx *c, ir_layer *l)
{
    seq_val *s;
    O2P_TRY(need_seq(c, l, 0, &s));
    if (s->count == 0)
        return ir_layer_unsupported(l, "the sequence '%s' is empty; there is nothing to concatenate",
                          l->inputs[0]->name);
    int64_t axis = ir_attr_int(l, "axis", 0);
    int new_axis = ir_attr_int(l, "new_axis", 0) != 0;
    ir_tensor **parts = calloc((size_t)s->count, sizeof *parts);
    if (!parts)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (sequences)");
    o2p_status st = O2P_OK;
    /* Unsqueeze's and Concat's axes both count in the output's rank, so a negative axis
     * needs no element rank here. */
    for (int i = 0; i < s->count && st == O2P_OK; i++) {
        parts[i] = s->elems[i];
        if (new_axis)
            st = axes_layer(c, l, "Unsqueeze", s->elems[i], axis, &parts[i]);
    }
    ir_layer *nl = NULL;
    ir_tensor *outs[1] = {l->outputs[0]};
    if (st == O2P_OK && outs[0])
        st = add_layer(c, l, "Concat", s->count, parts, 1, outs, outs[0]->name, &nl);
    free(parts);
    if (st == O2P_OK && nl) {
        ir_attr *a;
        O2P_TRY(ir_layer_add_attr(nl, "axis", O2P_ATTR_INT, &a));
        a->i = axis;
    }
    return st;
}

static o2p_status do_split(seq_ctx *c, ir_layer *l)
{
    ir_tensor *x = l->inputs[0];
    const ir_shape *xs = &x->shape;
    if (xs->rank < 0)
        return ir_layer_unsupported(l, "the shape of input '%s' is not known at build; splitting it "
                          "into a sequence needs its shape (fix the graph inputs' shapes)",
                          x->name);
    int axis = (int)ir_attr_int(l, "axis", 0);
    if (axis < -xs->rank || axis >= xs->rank)
        return ir_layer_unsupported(l, "axis %d is out of range for a rank-%d input", axis, xs->rank);
    if (axis < 0)
        axis += xs->rank;
    int64_t dim = xs->dims[axis].value;
    if (dim < 0)
        return ir_layer_unsupported(l, "input '%s' has an unknown length on axis %d; splitting it into "
                          "a sequence needs that length at build (fix the graph inputs' "
                          "shapes)", x->name, axis);
    int keepdims = ir_attr_int(l, "keepdims", 1) != 0;
    ir_tensor *split = l->num_inputs > 1 ? l->inputs[1] : NULL;
    int64_t n = 0, *sizes = NULL;
    if (!split) {
        n = dim;
        sizes = calloc((size_t)n + 1, sizeof *sizes);
        for (int64_t i = 0; sizes && i < n; i++)
            sizes[i] = 1;
    } else {
        int64_t count = ir_tensor_is_const(split) ? ir_tensor_numel_const(split)
                        : split->values                ? split->values->count
                                                       : -1;
        int scalar = split->shape.rank == 0;
        if (count < 0 || (scalar && count != 1))
            return ir_layer_unsupported(l, "split '%s' must be a constant known at build (plans are "
                              "static: a sequence's length is resolved when the plan is "
                              "built); make it an initializer", split->name);
        int64_t *v = calloc((size_t)count + 1, sizeof *v);
        if (!v)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (sequences)");
        for (int64_t i = 0; i < count; i++) {
            int ok = ir_tensor_is_const(split) ? ir_const_get_i64(split, i, &v[i])
                                               : split->values->e[i].known;
            if (!ir_tensor_is_const(split) && ok)
                v[i] = split->values->e[i].value;
            if (!ok) {
                free(v);
                return ir_layer_unsupported(l, "split '%s' must be a constant known at build (plans "
                                  "are static: a sequence's length is resolved when the plan "
                                  "is built); make it an initializer", split->name);
            }
        }
        if (scalar) {
            if (v[0] <= 0) {
                int64_t bad = v[0];
                free(v);
                return ir_layer_unsupported(l, "split is %lld; a chunk length must be positive",
                                  (long long)bad);
            }
            n = (dim + v[0] - 1) / v[0];
            sizes = calloc((size_t)n + 1, sizeof *sizes);
            for (int64_t i = 0; sizes && i < n; i++)
                sizes[i] = i + 1 < n ? v[0] : dim - v[0] * (n - 1);
            free(v);
        } else {
            int64_t sum = 0;
            for (int64_t i = 0; i < count; i++) {
                if (v[i] < 0) {
                    int64_t bad = v[i];
                    free(v);
                    return ir_layer_unsupported(l, "split has a negative length (%lld)", (long long)bad);
                }
                sum += v[i];
            }
            if (sum != dim) {
                free(v);
                return ir_layer_unsupported(l, "the lengths in split add up to %lld but input '%s' has "
                                  "%lld on axis %d", (long long)sum, x->name, (long long)dim,
                                  axis);
            }
            n = count;
            sizes = v;
        }
        keepdims = 1; /* ignored when split is given */
    }
    if (!sizes)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (sequences)");
    if (n > 65536) {
        free(sizes);
        return ir_layer_unsupported(l, "the sequence would have %lld elements, more than onnx2plan "
                          "unrolls (65536)", (long long)n);
    }
    ir_tensor **elems = calloc((size_t)n + 1, sizeof *elems);
    o2p_status st = elems ? O2P_OK : o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == O2P_OK && n > 0) {
        ir_layer *nl;
        if (c->opset >= 13) {
            ir_tensor *sz;
            st = new_const_i64(c, "split", 1, sizes, n, &sz);
            ir_tensor *ins[2] = {x, sz};
            if (st == O2P_OK)
                st = add_layer(c, l, "Split", 2, ins, (int)n, elems, l->outputs[0]->name, &nl);
        } else {
            st = add_layer(c, l, "Split", 1, &x, (int)n, elems, l->outputs[0]->name, &nl);
            ir_attr *a;
            if (st == O2P_OK)
                st = ir_layer_add_attr(nl, "split", O2P_ATTR_INTS, &a);
            if (st == O2P_OK) {
                a->count = (int)n;
                a->ints = o2p_arena_array(&c->net->arena, (size_t)n, sizeof(int64_t));
                if (!a->ints)
                    st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
                else
                    memcpy(a->ints, sizes, (size_t)n * sizeof(int64_t));
            }
        }
        ir_attr *a;
        if (st == O2P_OK)
            st = ir_layer_add_attr(nl, "axis", O2P_ATTR_INT, &a);
        if (st == O2P_OK)
            a->i = axis;
        for (int64_t i = 0; i < n && st == O2P_OK && !keepdims; i++)
            st = axes_layer(c, l, "Squeeze", elems[i], axis, &elems[i]);
    }
    if (st == O2P_OK)
        st = set_seq(c, l->outputs[0], (int)n, elems);
    free(elems);
    free(sizes);
    return st;
}

static o2p_status do_map(seq_ctx *c, ir_layer *l)
{
    ir_graph *body = ir_attr_graph(l, "body");
    if (!body || body->inputs.count != l->num_inputs || body->outputs.count != l->num_outputs)
        return ir_layer_unsupported(l, "the body must have one input per node input and one output per "
                          "node output");
    seq_val *first;
    O2P_TRY(need_seq(c, l, 0, &first));
    int n = first->count;
    for (int i = 1; i < l->num_inputs; i++) {
        seq_val *v = find_val(c, l->inputs[i]);
        if (v && (!v->is_seq || !v->present))
            return ir_layer_unsupported(l, "input '%s' is an optional; SequenceMap takes sequences and "
                              "tensors", l->inputs[i]->name);
        if (v && v->count != n)
            return ir_layer_unsupported(l, "input '%s' has %d elements but '%s' has %d; the sequences "
                              "must have the same length", l->inputs[i]->name, v->count,
                              l->inputs[0]->name, n);
    }
    int nout = l->num_outputs;
    ir_tensor **lists = calloc((size_t)nout * (size_t)n + 1, sizeof *lists);
    ir_tensor **outs = calloc((size_t)nout + 1, sizeof *outs);
    o2p_status st = lists && outs ? O2P_OK : o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    for (int e = 0; e < n && st == O2P_OK; e++) {
        seq_map m;
        memset(&m, 0, sizeof m);
        for (int i = 0; i < l->num_inputs && st == O2P_OK; i++) {
            seq_val *v = find_val(c, l->inputs[i]);
            st = map_put(&m, body->inputs.items[i], v ? v->elems[e] : l->inputs[i]);
        }
        if (st == O2P_OK)
            st = inline_body(c, l, body, e, &m, outs);
        for (int k = 0; k < nout && st == O2P_OK; k++) {
            if (find_val(c, outs[k]))
                st = ir_layer_unsupported(l, "body output %d is a sequence or optional; SequenceMap "
                                "bodies that give tensors only are supported", k);
            lists[(size_t)k * (size_t)n + (size_t)e] = outs[k];
        }
        map_free(&m);
    }
    for (int k = 0; k < nout && st == O2P_OK; k++)
        st = set_seq(c, l->outputs[k], n, lists + (size_t)k * (size_t)n);
    free(lists);
    free(outs);
    return st;
}

/* Whether g, or a graph nested in it, uses sequences or optionals. */
static int graph_uses_sequences(const ir_graph *g)
{
    for (int i = 0; i < g->inputs.count; i++)
        if (((const ir_tensor *)g->inputs.items[i])->vtype != IR_VALUE_TENSOR)
            return 1;
    for (int i = 0; i < g->outputs.count; i++)
        if (((const ir_tensor *)g->outputs.items[i])->vtype != IR_VALUE_TENSOR)
            return 1;
    for (int i = 0; i < g->layers.count; i++) {
        const ir_layer *l = g->layers.items[i];
        if (is_sequence_op(l))
            return 1;
        for (int k = 0; k < l->num_inputs; k++)
            if (l->inputs[k] && l->inputs[k]->vtype != IR_VALUE_TENSOR)
                return 1;
        for (int k = 0; k < l->num_outputs; k++)
            if (l->outputs[k] && l->outputs[k]->vtype != IR_VALUE_TENSOR)
                return 1;
        for (int a = 0; a < l->num_attrs; a++)
            for (int k = 0; l->attrs[a].graphs && k < l->attrs[a].count; k++)
                if (graph_uses_sequences(l->attrs[a].graphs[k]))
                    return 1;
    }
    return 0;
}

static int layer_uses_sequences(seq_ctx *c, const ir_layer *l)
{
    for (int k = 0; k < l->num_inputs; k++)
        if (find_val(c, l->inputs[k]))
            return 1;
    for (int k = 0; k < l->num_outputs; k++)
        if (l->outputs[k] && l->outputs[k]->vtype != IR_VALUE_TENSOR)
            return 1;
    for (int a = 0; a < l->num_attrs; a++)
        for (int k = 0; l->attrs[a].graphs && k < l->attrs[a].count; k++)
            if (graph_uses_sequences(l->attrs[a].graphs[k]))
                return 1;
    return 0;
}

/* An If's condition as a constant known at build, when it is one. */
static int const_condition(const ir_layer *l, int64_t *cond)
{
    const ir_tensor *ct = l->num_inputs > 0 ? l->inputs[0] : NULL;
    if (!ct)
        return 0;
    if (ir_tensor_is_const(ct) && ir_tensor_numel_const(ct) == 1 &&
        ir_const_get_i64(ct, 0, cond))
        return 1;
    if (ct->values && ct->values->count == 1 && ct->values->e[0].known) {
        *cond = ct->values->e[0].value;
        return 1;
    }
    return 0;
}

static o2p_status do_if(seq_ctx *c, ir_layer *l)
{
    int64_t cond;
    if (!l->inputs[0])
        return ir_layer_unsupported(l, "the condition is missing");
    const ir_tensor *ct = l->inputs[0];
    if (!const_condition(l, &cond))
        return ir_layer_unsupported(l, "its branches use sequences or optionals, so its condition '%s' "
                          "must be a constant known at build (plans are static: onnx2plan "
                          "resolves sequences by taking the branch the condition picks)",
                          ct->name);
    ir_graph *branch = ir_attr_graph(l, cond ? "then_branch" : "else_branch");
    if (!branch || branch->outputs.count != l->num_outputs)
        return ir_layer_unsupported(l, "the %s branch must have one output per node output",
                          cond ? "then" : "else");
    ir_tensor **outs = calloc((size_t)l->num_outputs + 1, sizeof *outs);
    if (!outs)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    seq_map m;
    memset(&m, 0, sizeof m);
    o2p_status st = inline_body(c, l, branch, 0, &m, outs);
    for (int k = 0; k < l->num_outputs && st == O2P_OK; k++)
        st = bind_output(c, l, k, outs[k]);
    map_free(&m);
    free(outs);
    return st;
}

static o2p_status do_optional(seq_ctx *c, ir_layer *l)
{
    ir_tensor *x = l->num_inputs > 0 ? l->inputs[0] : NULL;
    if (!x)
        return set_val(c, l->outputs[0], l->outputs[0] &&
                       l->outputs[0]->vtype == IR_VALUE_OPTIONAL_SEQUENCE, 0, 0, NULL);
    seq_val *v = find_val(c, x);
    if (v && !v->is_seq)
        return ir_layer_unsupported(l, "input '%s' is an optional already", x->name);
    if (v)
        return set_val(c, l->outputs[0], 1, 1, v->count, v->elems);
    return set_val(c, l->outputs[0], 0, 1, 1, &x);
}

static o2p_status do_has_element(seq_ctx *c, ir_layer *l)
{
    ir_tensor *x = l->num_inputs > 0 ? l->inputs[0] : NULL;
    seq_val *v = find_val(c, x);
    uint8_t *b = ir_network_alloc_data(c->net, 1);
    if (!b)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    /* a tensor or sequence (opset 18 takes those too) is always there; no input never */
    *b = x ? (v ? (uint8_t)v->present : 1) : 0;
    ir_tensor *t = l->outputs[0];
    if (!t)
        return O2P_OK;
    ir_shape scalar;
    memset(&scalar, 0, sizeof scalar);
    t->vtype = IR_VALUE_TENSOR;
    return ir_tensor_make_constant(t, O2P_DTYPE_BOOL, &scalar, b, 1);
}

static o2p_status do_get_element(seq_ctx *c, ir_layer *l)
{
    ir_tensor *x = l->inputs[0];
    seq_val *v = find_val(c, x);
    if (v && !v->present)
        return ir_layer_unsupported(l, "the optional '%s' is empty at build, and getting its element "
                          "fails (give it as present, or remove the node)", x->name);
    if (v && v->is_seq)
        return set_seq(c, l->outputs[0], v->count, v->elems);
    if (!l->outputs[0])
        return O2P_OK;
    return identity(c, l, v ? v->elems[0] : x, l->outputs[0]);
}

/* Identity of a sequence or optional passes its list on. */
static o2p_status do_identity(seq_ctx *c, ir_layer *l)
{
    seq_val *v = find_val(c, l->inputs[0]);
    return set_val(c, l->outputs[0], v->is_seq, v->present, v->count, v->elems);
}

/* Resolves one layer: a sequence operator (or a layer carrying sequences) is replaced and
 * dropped; any other layer is left alone. */
static o2p_status resolve_layer(seq_ctx *c, ir_layer *l)
{
    const char *op = l->op_type;
    o2p_status st;
    /* A Loop carrying sequences waits for the build to unroll it (its trip count may be a
     * SequenceLength resolved here); so does everything that reads what it makes. */
    int loop = !*l->domain && (strcmp(op, "Loop") == 0 || strcmp(op, "Scan") == 0) &&
               layer_uses_sequences(c, l);
    /* So does an If whose condition is not a constant yet (folding may make it one). */
    int64_t cond;
    int pending_if = !*l->domain && strcmp(op, "If") == 0 && layer_uses_sequences(c, l) &&
                     !const_condition(l, &cond);
    int reads_deferred = 0;
    for (int k = 0; k < l->num_inputs; k++)
        reads_deferred |= is_deferred(c, l->inputs[k]);
    if (reads_deferred || ((loop || pending_if) && !c->final)) {
        for (int k = 0; k < l->num_outputs; k++)
            if (l->outputs[k])
                O2P_TRY(o2p_ptrvec_push(&c->deferred, l->outputs[k]));
        return O2P_OK;
    }
    if (!is_sequence_op(l)) {
        if (!layer_uses_sequences(c, l))
            return O2P_OK;
        if (!*l->domain && strcmp(op, "Identity") == 0 && l->num_inputs == 1 &&
            find_val(c, l->inputs[0]))
            st = do_identity(c, l);
        else if (!*l->domain && strcmp(op, "If") == 0)
            st = do_if(c, l);
        else if (!*l->domain && (strcmp(op, "Loop") == 0 || strcmp(op, "Scan") == 0))
            return ir_layer_unsupported(l, "sequences in %s bodies are not supported unless the build "
                              "unrolls the %s (plans are static and onnx2plan resolves "
                              "sequences at build): that needs a Loop whose trip count "
                              "'%s' must be a constant known at build (at most 64 "
                              "iterations), that never stops early, and whose body holds no "
                              "plugin layer", op, op,
                              l->num_inputs > 0 && l->inputs[0] ? l->inputs[0]->name : "");
        else {
            for (int k = 0; k < l->num_inputs; k++)
                if (find_val(c, l->inputs[k]))
                    return ir_layer_unsupported(l, "input '%s' is a sequence or optional; only the "
                                      "sequence and optional operators (and Identity, If, "
                                      "SequenceMap) can take one", l->inputs[k]->name);
            return ir_layer_unsupported(l, "it gives or holds a sequence or optional, which onnx2plan "
                              "resolves only through the sequence and optional operators");
        }
    } else if (strcmp(op, "SequenceEmpty") == 0) {
        st = set_seq(c, l->outputs[0], 0, NULL);
    } else if (strcmp(op, "SequenceConstruct") == 0) {
        for (int k = 0; k < l->num_inputs; k++)
            if (!l->inputs[k] || find_val(c, l->inputs[k]))
                return ir_layer_unsupported(l, "input %d must be a tensor", k);
        st = set_seq(c, l->outputs[0], l->num_inputs, l->inputs);
    } else if (strcmp(op, "SequenceInsert") == 0) {
        st = do_insert(c, l);
    } else if (strcmp(op, "SequenceErase") == 0) {
        st = do_erase(c, l);
    } else if (strcmp(op, "SequenceAt") == 0) {
        st = do_at(c, l);
    } else if (strcmp(op, "SequenceLength") == 0) {
        st = do_length(c, l);
    } else if (strcmp(op, "ConcatFromSequence") == 0) {
        st = do_concat(c, l);
    } else if (strcmp(op, "SplitToSequence") == 0) {
        st = do_split(c, l);
    } else if (strcmp(op, "SequenceMap") == 0) {
        st = do_map(c, l);
    } else if (strcmp(op, "Optional") == 0) {
        st = do_optional(c, l);
    } else if (strcmp(op, "OptionalHasElement") == 0) {
        st = do_has_element(c, l);
    } else {
        st = do_get_element(c, l);
    }
    O2P_TRY(st);
    return o2p_ptrvec_push(&c->dropped, l);
}

/* ---------------------------------------------------------------- graph inputs, outputs */

/* Sequence inputs become one input per element ("<name>[<i>]", in place), optional ones
 * their tensor or nothing. */
static o2p_status resolve_inputs(seq_ctx *c)
{
    ir_graph *g = c->g;
    o2p_ptrvec order = {0};
    int old_count = g->inputs.count;
    ir_tensor **old = calloc((size_t)old_count + 1, sizeof *old);
    if (!old)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < old_count; i++)
        old[i] = g->inputs.items[i];
    o2p_status st = O2P_OK;
    for (int i = 0; i < old_count && st == O2P_OK; i++) {
        ir_tensor *t = old[i];
        int optional = t->vtype == IR_VALUE_OPTIONAL || t->vtype == IR_VALUE_OPTIONAL_SEQUENCE;
        if (t->vtype == IR_VALUE_TENSOR) {
            st = o2p_ptrvec_push(&order, t);
            continue;
        }
        if (optional && t->opt_state == 0) {
            st = o2p_fail(O2P_ERR_UNSUPPORTED,
                          "optional input '%s' must be given as present or absent for the "
                          "build (plans are static; API: o2p_tensor_set_optional)", t->name);
            break;
        }
        if (optional && t->opt_state == 2) {
            st = set_val(c, t, t->vtype == IR_VALUE_OPTIONAL_SEQUENCE, 0, 0, NULL);
            continue;
        }
        if (t->vtype == IR_VALUE_OPTIONAL) {
            /* a present optional tensor is that tensor, an engine input of its own name */
            ir_tensor *self = t;
            st = set_val(c, t, 0, 1, 1, &self);
            if (st == O2P_OK)
                st = o2p_ptrvec_push(&order, t);
            t->vtype = IR_VALUE_TENSOR;
            continue;
        }
        if (!t->seq_given) {
            st = o2p_fail(O2P_ERR_UNSUPPORTED,
                          "sequence input '%s' needs its length and element shapes for the "
                          "build (plans are static: each element becomes an engine input "
                          "'%s[<i>]'; API: o2p_tensor_set_sequence)", t->name, t->name);
            break;
        }
        if (t->dtype == O2P_DTYPE_UNDEFINED || !ir_dtype_size(t->dtype)) {
            st = o2p_fail(O2P_ERR_UNSUPPORTED, "sequence input '%s' has no numeric element "
                          "type in the model", t->name);
            break;
        }
        ir_tensor **elems = calloc((size_t)t->seq_count + 1, sizeof *elems);
        if (!elems) {
            st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
            break;
        }
        for (int k = 0; k < t->seq_count && st == O2P_OK; k++) {
            char name[512];
            snprintf(name, sizeof name, "%s[%d]", t->name, k);
            st = ir_tensor_new(g, name, IR_TENSOR_INPUT, &elems[k]);
            if (st != O2P_OK)
                break;
            elems[k]->dtype = t->dtype;
            elems[k]->shape = t->seq_shapes[k];
            st = o2p_ptrvec_push(&order, elems[k]);
        }
        if (st == O2P_OK)
            st = set_seq(c, t, t->seq_count, elems);
        free(elems);
    }
    if (st == O2P_OK) {
        g->inputs.count = 0;
        for (int i = 0; i < order.count && st == O2P_OK; i++)
            st = o2p_ptrvec_push(&g->inputs, order.items[i]);
    }
    o2p_ptrvec_free(&order);
    free(old);
    return st;
}

/* A sequence output becomes one output per element ("<name>[<i>]"), an optional output its
 * tensor (under its own name) or nothing. */
static o2p_status resolve_outputs(seq_ctx *c)
{
    ir_graph *g = c->g;
    o2p_ptrvec order = {0};
    o2p_status st = O2P_OK;
    for (int i = 0; i < g->outputs.count && st == O2P_OK; i++) {
        ir_tensor *t = g->outputs.items[i];
        seq_val *v = find_val(c, t);
        if (is_deferred(c, t)) {
            st = o2p_ptrvec_push(&order, t); /* resolved once its Loop is unrolled */
            continue;
        }
        if (!v) {
            if (t->vtype != IR_VALUE_TENSOR && t->kind == IR_TENSOR_ACTIVATION &&
                (!t->producer || t->producer->op))
                st = o2p_fail(O2P_ERR_UNSUPPORTED, "graph output '%s' is a sequence or "
                              "optional that is not known at build", t->name);
            else
                st = o2p_ptrvec_push(&order, t);
            continue;
        }
        t->is_output = 0;
        if (!v->present)
            continue;
        if (!v->is_seq) {
            /* the tensor takes the output's name: an Identity gives it */
            ir_layer owner = {0};
            owner.name = t->name;
            owner.op_type = "Optional";
            if (v->elems[0] != t)
                st = identity(c, &owner, v->elems[0], t);
            t->is_output = 1;
            if (st == O2P_OK)
                st = o2p_ptrvec_push(&order, t);
            continue;
        }
        for (int k = 0; k < v->count && st == O2P_OK; k++) {
            char name[512];
            snprintf(name, sizeof name, "%s[%d]", t->name, k);
            ir_tensor *e;
            if (o2p_strmap_get(&g->by_name, name)) {
                st = o2p_fail(O2P_ERR_UNSUPPORTED, "graph output '%s': element %d would be the "
                              "engine output '%s', but the model has a tensor of that name",
                              t->name, k, name);
                break;
            }
            st = ir_tensor_new(g, name, IR_TENSOR_ACTIVATION, &e);
            ir_layer owner = {0};
            owner.name = t->name;
            owner.op_type = "Sequence";
            if (st == O2P_OK)
                st = identity(c, &owner, v->elems[k], e);
            if (st == O2P_OK) {
                e->is_output = 1;
                st = o2p_ptrvec_push(&order, e);
            }
        }
    }
    if (st == O2P_OK) {
        g->outputs.count = 0;
        for (int i = 0; i < order.count && st == O2P_OK; i++)
            st = o2p_ptrvec_push(&g->outputs, order.items[i]);
    }
    o2p_ptrvec_free(&order);
    return st;
}

o2p_status pass_resolve_sequences(ir_network *net, int final, int *rewritten)
{
    ir_graph *g = net->main;
    if (rewritten)
        *rewritten = 0;
    if (!graph_uses_sequences(g))
        return O2P_OK;
    seq_ctx c;
    memset(&c, 0, sizeof c);
    c.net = net;
    c.g = g;
    c.opset = ir_network_opset(net, "");
    c.final = final;
    o2p_status st = resolve_inputs(&c);
    /* The layers as inference ordered them; the ones added here come after and need no
     * visit (inlined bodies resolve theirs as they go). */
    int n = g->layers.count;
    ir_layer **layers = calloc((size_t)n + 1, sizeof *layers);
    if (!layers && st == O2P_OK)
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < n && st == O2P_OK; i++)
        layers[i] = g->layers.items[i];
    for (int i = 0; i < n && st == O2P_OK; i++)
        st = resolve_layer(&c, layers[i]);
    free(layers);
    if (st == O2P_OK)
        st = resolve_outputs(&c);
    for (int i = 0; i < c.dropped.count && st == O2P_OK; i++) {
        ir_layer *l = c.dropped.items[i];
        for (int k = 0; k < l->num_outputs; k++)
            if (l->outputs[k] && l->outputs[k]->producer == l)
                l->outputs[k]->producer = NULL;
        ir_graph_remove_layer(l->graph, l);
    }
    if (st == O2P_OK && rewritten)
        *rewritten = c.dropped.count + c.lists_set;
    o2p_ptrvec_free(&c.dropped);
    o2p_ptrvec_free(&c.deferred);
    O2P_TRY(st);
    /* Everything left is a tensor layer: infer the rewritten graph from its inputs. */
    return ir_infer_network(net);
}
