/* gradient.c: expands each Gradient layer (ai.onnx.preview.training 1) into default-domain
 * layers computing its derivatives by reverse-mode differentiation of the layers between
 * its xs and its y: a seed of ones shaped like y, then, from y back, each layer's adjoint
 * rule, contributions to one tensor summed, broadcasting undone by ReduceSum (+ Reshape).
 * The kernels of both targets then run the result like any other layers. */
#include <string.h>

#include "passes/passes.h"

/* The adjoints found so far: tensor -> its gradient tensor. */
typedef struct grad_entry {
    ir_tensor *tensor;
    ir_tensor *grad;
} grad_entry;

typedef struct grad_ctx {
    ir_network *net;
    ir_graph *g;
    ir_layer *gl; /* the Gradient layer */
    int64_t opset;
    o2p_dtype dtype;
    grad_entry *entries;
    int count, cap;
    ir_tensor *one, *zero; /* scalars of dtype, made on first use */
} grad_ctx;

/* O2P_ERR_UNSUPPORTED naming the Gradient layer. */
#define gfail(c, ...) ir_layer_unsupported((c)->gl, __VA_ARGS__)

static o2p_status oom(const grad_ctx *c)
{
    return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory expanding Gradient layer '%s'",
                    c->gl->name);
}

/* A tensor name not used in the graph: "<gradient layer>/<what>_<k>". */
static const char *fresh(grad_ctx *c, const char *what)
{
    for (int k = c->net->next_anon++;; k++) {
        const char *n = o2p_arena_printf(&c->net->arena, "%s/%s_%d", c->gl->name, what, k);
        if (!n || !ir_graph_find(c->g, n))
            return n;
    }
}

static ir_tensor *grad_of(const grad_ctx *c, const ir_tensor *t)
{
    for (int i = 0; i < c->count; i++)
        if (c->entries[i].tensor == t)
            return c->entries[i].grad;
    return NULL;
}

/* A new default-domain layer of op over ins, its one output a new tensor in *out. */
static o2p_status emit(grad_ctx *c, const char *op, int nin, ir_tensor *const *ins,
                       ir_layer **layer, ir_tensor **out)
{
    ir_layer *l;
    const char *lname = fresh(c, op), *tname = fresh(c, "d");
    if (!lname || !tname)
        return oom(c);
    O2P_TRY(ir_layer_new(c->g, "", op, lname, nin, 1, &l));
    for (int i = 0; i < nin; i++)
        l->inputs[i] = ins[i];
    ir_tensor *t;
    O2P_TRY(ir_tensor_new(c->g, tname, IR_TENSOR_ACTIVATION, &t));
    t->producer = l;
    l->outputs[0] = t;
    if (layer)
        *layer = l;
    *out = t;
    return O2P_OK;
}

static o2p_status emit1(grad_ctx *c, const char *op, ir_tensor *a, ir_tensor **out)
{
    return emit(c, op, 1, &a, NULL, out);
}

static o2p_status emit2(grad_ctx *c, const char *op, ir_tensor *a, ir_tensor *b, ir_tensor **out)
{
    ir_tensor *ins[2] = {a, b};
    return emit(c, op, 2, ins, NULL, out);
}

static o2p_status attr_ints(grad_ctx *c, ir_layer *l, const char *name, const int64_t *v, int n)
{
    ir_attr *a;
    O2P_TRY(ir_layer_add_attr(l, name, O2P_ATTR_INTS, &a));
    if (n > 0 && !(a->ints = o2p_arena_array(&c->net->arena, (size_t)n, sizeof *a->ints)))
        return oom(c);
    if (n > 0)
        memcpy(a->ints, v, (size_t)n * sizeof *v);
    a->count = n;
    return O2P_OK;
}

/* A constant of the given type and shape holding data (nbytes). */
static o2p_status constant(grad_ctx *c, const char *what, o2p_dtype t, int rank,
                           const int64_t *dims, const void *data, size_t nbytes, ir_tensor **out)
{
    const char *name = fresh(c, what);
    void *copy = nbytes ? ir_network_alloc_data(c->net, nbytes) : NULL;
    if (!name || (nbytes && !copy))
        return oom(c);
    if (nbytes)
        memcpy(copy, data, nbytes);
    ir_tensor *x;
    O2P_TRY(ir_tensor_new(c->g, name, IR_TENSOR_CONSTANT, &x));
    x->dtype = t;
    x->shape.rank = rank;
    for (int i = 0; i < rank; i++)
        x->shape.dims[i] = (ir_dim){dims[i], NULL, 0};
    x->data = copy;
    x->nbytes = nbytes;
    *out = x;
    return O2P_OK;
}

/* The scalar v in the gradient's element type. */
static o2p_status scalar(grad_ctx *c, double v, ir_tensor **out)
{
    unsigned char bytes[8];
    size_t n = o2p_dtype_size(c->dtype);
    switch (c->dtype) {
    case O2P_DTYPE_FLOAT: {
        float f = (float)v;
        memcpy(bytes, &f, 4);
        break;
    }
    case O2P_DTYPE_DOUBLE: memcpy(bytes, &v, 8); break;
    case O2P_DTYPE_FLOAT16: {
        uint16_t h = o2p_float_to_half((float)v);
        memcpy(bytes, &h, 2);
        break;
    }
    default: {
        uint16_t b = o2p_float_to_bf16((float)v);
        memcpy(bytes, &b, 2);
        break;
    }
    }
    return constant(c, v == 0.0 ? "zero" : "one", c->dtype, 0, NULL, bytes, n, out);
}

static o2p_status one(grad_ctx *c, ir_tensor **out)
{
    if (!c->one)
        O2P_TRY(scalar(c, 1.0, &c->one));
    *out = c->one;
    return O2P_OK;
}

static o2p_status zero(grad_ctx *c, ir_tensor **out)
{
    if (!c->zero)
        O2P_TRY(scalar(c, 0.0, &c->zero));
    *out = c->zero;
    return O2P_OK;
}

/* s (a scalar) expanded to t's shape, whatever it is at run time. */
static o2p_status filled_like(grad_ctx *c, ir_tensor *s, ir_tensor *t, ir_tensor **out)
{
    ir_tensor *shape;
    O2P_TRY(emit1(c, "Shape", t, &shape));
    return emit2(c, "Expand", s, shape, out);
}

static int same_dim(ir_dim a, ir_dim b)
{
    if (a.value >= 0 || b.value >= 0)
        return a.value == b.value;
    return a.sym && b.sym && strcmp(a.sym, b.sym) == 0;
}

static int same_shape(const ir_shape *a, const ir_shape *b)
{
    if (a->rank < 0 || a->rank != b->rank)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (!same_dim(a->dims[i], b->dims[i]))
            return 0;
    return 1;
}

/* g, the gradient of a layer output shaped like `out`, summed down to input x's shape: the
 * axes x was broadcast along are reduced, then the result reshaped to x's rank. */
static o2p_status unbroadcast(grad_ctx *c, ir_tensor *g, const ir_tensor *x, const ir_tensor *out,
                              ir_tensor **res)
{
    if (same_shape(&x->shape, &out->shape)) {
        *res = g;
        return O2P_OK;
    }
    if (!ir_shape_is_static(&x->shape) || !ir_shape_is_static(&out->shape))
        return gfail(c,
                     "'%s' is broadcast into '%s' along dims not known at build time: undoing "
                     "the broadcast in its gradient needs static shapes",
                     x->name, out->name);
    int r = out->shape.rank, xr = x->shape.rank, n = 0;
    int64_t axes[IR_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int k = i - (r - xr);
        if (k < 0 || (x->shape.dims[k].value == 1 && out->shape.dims[i].value != 1))
            axes[n++] = i;
    }
    ir_tensor *t = g;
    if (n > 0) {
        ir_layer *l;
        ir_tensor *ins[2] = {g, NULL};
        if (c->opset >= 13)
            O2P_TRY(constant(c, "axes", O2P_DTYPE_INT64, 1, (int64_t[]){n}, axes,
                             (size_t)n * sizeof *axes, &ins[1]));
        O2P_TRY(emit(c, "ReduceSum", c->opset >= 13 ? 2 : 1, ins, &l, &t));
        if (c->opset < 13)
            O2P_TRY(attr_ints(c, l, "axes", axes, n));
        ir_attr *kd;
        O2P_TRY(ir_layer_add_attr(l, "keepdims", O2P_ATTR_INT, &kd));
        kd->i = 1;
    }
    if (xr != r) {
        int64_t dims[IR_MAX_RANK];
        for (int i = 0; i < xr; i++)
            dims[i] = x->shape.dims[i].value;
        ir_tensor *shape;
        O2P_TRY(constant(c, "shape", O2P_DTYPE_INT64, 1, (int64_t[]){xr}, dims,
                         (size_t)xr * sizeof *dims, &shape));
        O2P_TRY(emit2(c, "Reshape", t, shape, &t));
    }
    *res = t;
    return O2P_OK;
}

/* Adds contribution d to x's gradient. */
static o2p_status accumulate(grad_ctx *c, ir_tensor *x, ir_tensor *d)
{
    for (int i = 0; i < c->count; i++)
        if (c->entries[i].tensor == x)
            return emit2(c, "Add", c->entries[i].grad, d, &c->entries[i].grad);
    if (c->count == c->cap) {
        int cap = c->cap ? c->cap * 2 : 16;
        grad_entry *e = o2p_arena_array(&c->net->arena, (size_t)cap, sizeof *e);
        if (!e)
            return oom(c);
        if (c->count)
            memcpy(e, c->entries, (size_t)c->count * sizeof *e);
        c->entries = e;
        c->cap = cap;
    }
    c->entries[c->count++] = (grad_entry){x, d};
    return O2P_OK;
}

/* Matrix transpose of the last two axes. */
static o2p_status transpose_last(grad_ctx *c, ir_tensor *t, ir_tensor **out)
{
    int r = t->shape.rank;
    int64_t perm[IR_MAX_RANK];
    for (int i = 0; i < r; i++)
        perm[i] = i;
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    ir_layer *l;
    O2P_TRY(emit(c, "Transpose", 1, &t, &l, out));
    return attr_ints(c, l, "perm", perm, r);
}

/* The contributions of layer l (output gradient gy) to the gradients of its inputs that
 * depend on an x (active[i]). */
static o2p_status backprop(grad_ctx *c, ir_layer *l, ir_tensor *gy, const int *active)
{
    const char *op = l->op_type;
    ir_tensor *y = l->outputs[0], *a = l->inputs[0], *b = l->num_inputs > 1 ? l->inputs[1] : NULL;
    ir_tensor *d, *t, *s;
    if (strcmp(op, "Identity") == 0)
        return accumulate(c, a, gy);
    if (strcmp(op, "Neg") == 0) {
        O2P_TRY(emit1(c, "Neg", gy, &d));
        return accumulate(c, a, d);
    }
    if (strcmp(op, "Add") == 0 || strcmp(op, "Sub") == 0) {
        if (active[0]) {
            O2P_TRY(unbroadcast(c, gy, a, y, &d));
            O2P_TRY(accumulate(c, a, d));
        }
        if (active[1]) {
            t = gy;
            if (op[0] == 'S')
                O2P_TRY(emit1(c, "Neg", gy, &t));
            O2P_TRY(unbroadcast(c, t, b, y, &d));
            O2P_TRY(accumulate(c, b, d));
        }
        return O2P_OK;
    }
    if (strcmp(op, "Mul") == 0) {
        if (active[0]) {
            O2P_TRY(emit2(c, "Mul", gy, b, &t));
            O2P_TRY(unbroadcast(c, t, a, y, &d));
            O2P_TRY(accumulate(c, a, d));
        }
        if (active[1]) {
            O2P_TRY(emit2(c, "Mul", gy, a, &t));
            O2P_TRY(unbroadcast(c, t, b, y, &d));
            O2P_TRY(accumulate(c, b, d));
        }
        return O2P_OK;
    }
    if (strcmp(op, "Div") == 0) {
        if (active[0]) { /* dy/da = 1/b */
            O2P_TRY(emit2(c, "Div", gy, b, &t));
            O2P_TRY(unbroadcast(c, t, a, y, &d));
            O2P_TRY(accumulate(c, a, d));
        }
        if (active[1]) { /* dy/db = -a/b^2 = -y/b */
            O2P_TRY(emit2(c, "Mul", gy, y, &t));
            O2P_TRY(emit2(c, "Div", t, b, &t));
            O2P_TRY(emit1(c, "Neg", t, &t));
            O2P_TRY(unbroadcast(c, t, b, y, &d));
            O2P_TRY(accumulate(c, b, d));
        }
        return O2P_OK;
    }
    if (strcmp(op, "MatMul") == 0) {
        if (a->shape.rank < 2 || b->shape.rank < 2)
            return gfail(c,
                         "MatMul layer '%s' has a 1-D or unknown-rank operand ('%s'): its "
                         "gradient is supported for operands of rank 2 or more",
                         l->name, a->shape.rank < 2 ? a->name : b->name);
        if (active[0]) { /* dA = dY B^T */
            O2P_TRY(transpose_last(c, b, &t));
            O2P_TRY(emit2(c, "MatMul", gy, t, &t));
            O2P_TRY(unbroadcast(c, t, a, y, &d));
            O2P_TRY(accumulate(c, a, d));
        }
        if (active[1]) { /* dB = A^T dY */
            O2P_TRY(transpose_last(c, a, &t));
            O2P_TRY(emit2(c, "MatMul", t, gy, &t));
            O2P_TRY(unbroadcast(c, t, b, y, &d));
            O2P_TRY(accumulate(c, b, d));
        }
        return O2P_OK;
    }
    if (strcmp(op, "Relu") == 0) { /* dy/da = 1 where a > 0, else 0 */
        ir_tensor *z, *mask;
        O2P_TRY(zero(c, &z));
        O2P_TRY(emit2(c, "Greater", a, z, &mask));
        ir_tensor *ins[3] = {mask, gy, z};
        O2P_TRY(emit(c, "Where", 3, ins, NULL, &d));
        return accumulate(c, a, d);
    }
    if (strcmp(op, "Sigmoid") == 0) { /* y (1 - y) */
        O2P_TRY(one(c, &s));
        O2P_TRY(emit2(c, "Sub", s, y, &t));
        O2P_TRY(emit2(c, "Mul", y, t, &t));
        O2P_TRY(emit2(c, "Mul", gy, t, &d));
        return accumulate(c, a, d);
    }
    if (strcmp(op, "Tanh") == 0) { /* 1 - y^2 */
        O2P_TRY(one(c, &s));
        O2P_TRY(emit2(c, "Mul", y, y, &t));
        O2P_TRY(emit2(c, "Sub", s, t, &t));
        O2P_TRY(emit2(c, "Mul", gy, t, &d));
        return accumulate(c, a, d);
    }
    if (strcmp(op, "Exp") == 0) {
        O2P_TRY(emit2(c, "Mul", gy, y, &d));
        return accumulate(c, a, d);
    }
    return gfail(c,
                 "cannot differentiate layer '%s' (%s) on the way from xs to y: the "
                 "differentiable ops are Add, Sub, Mul, Div, Neg, Identity, MatMul, Relu, "
                 "Sigmoid, Tanh and Exp",
                 l->name, op);
}

static int is_float(o2p_dtype t)
{
    return t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_DOUBLE || t == O2P_DTYPE_FLOAT16 ||
           t == O2P_DTYPE_BFLOAT16;
}

static int index_of(ir_tensor *const *v, int n, const ir_tensor *t)
{
    for (int i = 0; i < n; i++)
        if (v[i] == t)
            return i;
    return -1;
}

static o2p_status expand(ir_network *net, ir_layer *gl)
{
    grad_ctx c;
    memset(&c, 0, sizeof c);
    c.net = net;
    c.g = gl->graph;
    c.gl = gl;
    c.opset = ir_network_opset(net, "");
    ir_graph *g = gl->graph;
    const ir_attr *xs = ir_attr_find(gl, "xs");
    const char *yname = ir_attr_string(gl, "y", NULL);
    if (!xs || xs->type != O2P_ATTR_STRINGS || xs->count < 1 || !yname)
        return gfail(&c, "attributes xs and y (tensor names) are required");
    if (gl->num_outputs != xs->count || gl->num_inputs < xs->count)
        return gfail(&c,
                     "xs names %d tensors: the layer needs their values as its first inputs "
                     "and one output each",
                     xs->count);
    ir_tensor *y = ir_graph_find(g, yname);
    if (!y)
        return gfail(&c, "y names '%s', which is not a tensor of the graph", yname);
    c.dtype = y->dtype;
    if (!is_float(y->dtype))
        return gfail(&c, "y ('%s') is %s: only floating-point tensors have gradients", y->name,
                     o2p_dtype_name(y->dtype));
    int nx = xs->count;
    ir_tensor **x = o2p_arena_array(&net->arena, (size_t)nx, sizeof *x);
    if (!x)
        return oom(&c);
    for (int i = 0; i < nx; i++) {
        x[i] = ir_graph_find(g, xs->strings[i]);
        if (!x[i])
            return gfail(&c, "xs names '%s', which is not a tensor of the graph", xs->strings[i]);
        /* The inputs are the values xs take; evaluating the graph at other values than its
         * own would need a copy of it. */
        if (gl->inputs[i] != x[i])
            return gfail(&c,
                         "input %s is not the tensor xs names ('%s'): only gradients at the "
                         "graph's own values are supported",
                         gl->inputs[i] ? gl->inputs[i]->name : "<omitted>", xs->strings[i]);
        if (x[i]->dtype != y->dtype)
            return gfail(&c, "'%s' is not of y's element type (%s)", x[i]->name,
                         o2p_dtype_name(y->dtype));
    }

    /* The layers between: those reading a tensor that depends on an x (forward, in
     * topological order) and producing one that y depends on (backward). */
    int nl = g->layers.count;
    char *dep_x = o2p_arena_array(&net->arena, (size_t)nl + 1, 1);
    char *need = o2p_arena_array(&net->arena, (size_t)nl + 1, 1);
    if (!dep_x || !need)
        return oom(&c);
    o2p_ptrvec active = {0}; /* tensors that depend on an x */
    o2p_status st = O2P_OK;
    for (int i = 0; i < nx && st == O2P_OK; i++)
        st = o2p_ptrvec_push(&active, x[i]);
    for (int li = 0; li < nl && st == O2P_OK; li++) {
        ir_layer *l = g->layers.items[li];
        for (int k = 0; k < l->num_inputs; k++)
            if (l->inputs[k] &&
                index_of((ir_tensor **)active.items, active.count, l->inputs[k]) >= 0)
                dep_x[li] = 1;
        for (int k = 0; dep_x[li] && k < l->num_outputs && st == O2P_OK; k++)
            if (l->outputs[k])
                st = o2p_ptrvec_push(&active, l->outputs[k]);
    }
    o2p_ptrvec needed = {0}; /* tensors y depends on */
    if (st == O2P_OK)
        st = o2p_ptrvec_push(&needed, y);
    for (int li = nl - 1; li >= 0 && st == O2P_OK; li--) {
        ir_layer *l = g->layers.items[li];
        for (int k = 0; k < l->num_outputs; k++)
            if (l->outputs[k] &&
                index_of((ir_tensor **)needed.items, needed.count, l->outputs[k]) >= 0)
                need[li] = 1;
        for (int k = 0; need[li] && k < l->num_inputs && st == O2P_OK; k++)
            if (l->inputs[k])
                st = o2p_ptrvec_push(&needed, l->inputs[k]);
    }

    /* The seed, then each layer from y back. */
    ir_tensor *seed = NULL, *s;
    if (st == O2P_OK && (st = one(&c, &s)) == O2P_OK)
        st = filled_like(&c, s, y, &seed);
    if (st == O2P_OK)
        st = accumulate(&c, y, seed);
    for (int li = nl - 1; li >= 0 && st == O2P_OK; li--) {
        ir_layer *l = g->layers.items[li];
        if (!dep_x[li] || !need[li] || l == gl)
            continue;
        ir_tensor *gy = l->num_outputs == 1 && l->outputs[0] ? grad_of(&c, l->outputs[0]) : NULL;
        if (l->num_outputs != 1 || !l->outputs[0]) {
            st = gfail(&c, "cannot differentiate layer '%s' (%s): it has several outputs", l->name,
                       l->op_type);
            break;
        }
        if (!gy)
            continue;
        int act[8] = {0};
        if (l->num_inputs > 8) {
            st = gfail(&c, "cannot differentiate layer '%s' (%s): too many inputs", l->name,
                       l->op_type);
            break;
        }
        for (int k = 0; k < l->num_inputs; k++)
            act[k] = l->inputs[k] &&
                     index_of((ir_tensor **)active.items, active.count, l->inputs[k]) >= 0;
        st = backprop(&c, l, gy, act);
    }
    o2p_ptrvec_free(&active);
    o2p_ptrvec_free(&needed);
    O2P_TRY(st);

    /* The Gradient layer's outputs now come from Identity layers over the gradients (zeros
     * for an x that y does not depend on). */
    ir_tensor **outs = o2p_arena_array(&net->arena, (size_t)nx, sizeof *outs);
    if (!outs)
        return oom(&c);
    for (int i = 0; i < nx; i++)
        outs[i] = gl->outputs[i];
    ir_graph_remove_layer(g, gl);
    for (int i = 0; i < nx; i++) {
        ir_tensor *d = grad_of(&c, x[i]);
        if (!d) {
            ir_tensor *z;
            O2P_TRY(zero(&c, &z));
            O2P_TRY(filled_like(&c, z, x[i], &d));
        }
        if (!outs[i])
            continue;
        ir_layer *id;
        const char *name = fresh(&c, "Identity");
        if (!name)
            return oom(&c);
        O2P_TRY(ir_layer_new(g, "", "Identity", name, 1, 1, &id));
        id->inputs[0] = d;
        id->outputs[0] = outs[i];
        outs[i]->producer = id;
    }
    return O2P_OK;
}

o2p_status pass_expand_gradients(ir_network *net, int *expanded)
{
    *expanded = 0;
    ir_graph *g = net->main;
    for (int li = 0; li < g->layers.count; li++) {
        ir_layer *l = g->layers.items[li];
        if (strcmp(l->domain, "ai.onnx.preview.training") != 0 ||
            strcmp(l->op_type, "Gradient") != 0)
            continue;
        O2P_TRY(expand(net, l));
        (*expanded)++;
        /* the new layers were appended: inference sorts the list topologically again, which
         * the next expansion relies on */
        O2P_TRY(ir_infer_network(net));
        li = -1;
    }
    return O2P_OK;
}
