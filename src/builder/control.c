/* control.c: the builder's side of control flow (If, Loop, Scan; docs/control-flow.md):
 * static-shape checks of the bodies, outer-scope reads listed as the control layer's
 * inputs, and the bodies' tensors and layers put into the engine after memory planning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/control.h"

#define BODY_ARENA_ALIGN 64u
#define BODY_WEIGHTS_ALIGN 256u

int build_control_is_control(const ir_layer *l)
{
    return l && !*l->domain && !l->plugin &&
           (strcmp(l->op_type, "If") == 0 || strcmp(l->op_type, "Loop") == 0 ||
            strcmp(l->op_type, "Scan") == 0);
}

/* The bodies of a control layer in the order the plan keeps them: If's then_branch and
 * else_branch, Loop's and Scan's body. Returns the count (0 when one is missing). */
static int bodies_of(const ir_layer *l, ir_graph **out)
{
    if (strcmp(l->op_type, "If") == 0) {
        out[0] = ir_attr_graph(l, "then_branch");
        out[1] = ir_attr_graph(l, "else_branch");
        return out[0] && out[1] ? 2 : 0;
    }
    out[0] = ir_attr_graph(l, "body");
    return out[0] ? 1 : 0;
}

static o2p_status dynamic(const ir_layer *owner, const ir_graph *body, const char *what,
                          const ir_tensor *t)
{
    char s[256];
    ir_shape_format(&t->shape, s, sizeof s);
    return o2p_fail(O2P_ERR_UNSUPPORTED,
                    "layer '%s' (%s): %s '%s' of its body '%s' has type %s and shape %s; plans "
                    "are static-shape, so a body's tensors need known types and static shapes "
                    "(a Loop's carried values keep their shapes, its trip count is a constant "
                    "when it has scan outputs, and If's branches give the same shapes)",
                    owner->name, owner->op_type, what, t->name, body->name ? body->name : "",
                    o2p_dtype_name(t->dtype), s);
}

static int is_static(const ir_tensor *t)
{
    return t->dtype != O2P_DTYPE_UNDEFINED && ir_dtype_size(t->dtype) &&
           ir_shape_is_static(&t->shape);
}

static o2p_status add_unique(ir_tensor ***list, int *n, int *cap, ir_tensor *t)
{
    for (int i = 0; i < *n; i++)
        if ((*list)[i] == t)
            return O2P_OK;
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 16;
        ir_tensor **nl = realloc(*list, (size_t)ncap * sizeof *nl);
        if (!nl)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (control-flow bodies)");
        *list = nl;
        *cap = ncap;
    }
    (*list)[(*n)++] = t;
    return O2P_OK;
}

static o2p_status prepare_layer(ir_network *net, ir_layer *l);
static o2p_status check_outputs_of(const ir_layer *l);

/* Checks a body and collects into *reads what it reads from outside it. */
static o2p_status prepare_body(ir_network *net, ir_layer *owner, ir_graph *body, ir_tensor ***reads,
                               int *n, int *cap)
{
    for (int i = 0; i < body->inputs.count; i++) {
        const ir_tensor *t = body->inputs.items[i];
        if (!is_static(t))
            return dynamic(owner, body, "input", t);
    }
    for (int li = 0; li < body->layers.count; li++) {
        ir_layer *l = body->layers.items[li];
        if (!l->op)
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "layer '%s' (%s%s%s) in the body of '%s' (%s) cannot be built: %s",
                            l->name, l->domain, *l->domain ? "." : "", l->op_type, owner->name,
                            owner->op_type, o2p_layer_get_unsupported_reason(l));
        if (l->plugin)
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "layer '%s' (%s) in the body of '%s' (%s) is a plugin layer; "
                            "plugin layers are not supported inside control-flow bodies",
                            l->name, l->op_type, owner->name, owner->op_type);
        if (build_control_is_control(l))
            O2P_TRY(check_outputs_of(l)); /* says what is dynamic */
        for (int k = 0; k < l->num_outputs; k++)
            if (l->outputs[k] && !is_static(l->outputs[k]))
                return dynamic(owner, body, "tensor", l->outputs[k]);
        if (build_control_is_control(l))
            O2P_TRY(prepare_layer(net, l)); /* its own outer reads become its inputs */
        for (int k = 0; k < l->num_inputs; k++)
            if (l->inputs[k] && l->inputs[k]->graph != body)
                O2P_TRY(add_unique(reads, n, cap, l->inputs[k]));
    }
    for (int i = 0; i < body->outputs.count; i++) {
        ir_tensor *t = body->outputs.items[i];
        if (!is_static(t))
            return dynamic(owner, body, "output", t);
        if (t->graph != body)
            O2P_TRY(add_unique(reads, n, cap, t));
    }
    return O2P_OK;
}

/* Op-specific limits of the executor (src/lean/control.c). */
static o2p_status check_op(const ir_layer *l, ir_graph *const *bodies)
{
    const ir_graph *b = bodies[0];
    if (strcmp(l->op_type, "Loop") == 0) {
        int n = b->inputs.count - 2;
        for (int i = 0; i < n && i < l->num_outputs; i++)
            if (!l->outputs[i])
                return o2p_fail(O2P_ERR_UNSUPPORTED,
                                "layer '%s' (Loop): loop-carried value %d has no output; give "
                                "it a name (the loop keeps its value there between iterations)",
                                l->name, i);
    } else if (strcmp(l->op_type, "Scan") == 0) {
        int64_t m = ir_attr_int(l, "num_scan_inputs", 0);
        int n = b->inputs.count - (int)m;
        for (int i = 0; i < n && i < l->num_outputs; i++)
            if (!l->outputs[i])
                return o2p_fail(O2P_ERR_UNSUPPORTED,
                                "layer '%s' (Scan): state variable %d has no output; give it a "
                                "name (the scan keeps its value there between iterations)",
                                l->name, i);
    } else if (strcmp(l->op_type, "If") == 0) {
        for (int k = 0; k < l->num_outputs; k++)
            if (!l->outputs[k])
                return o2p_fail(O2P_ERR_UNSUPPORTED,
                                "layer '%s' (If): output %d is omitted; every output of an If "
                                "needs a name",
                                l->name, k);
    }
    return O2P_OK;
}

static o2p_status prepare_layer(ir_network *net, ir_layer *l)
{
    ir_graph *bodies[2];
    int nb = bodies_of(l, bodies);
    if (!nb)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "layer '%s' (%s) lacks its body graph attribute",
                        l->name, l->op_type);
    O2P_TRY(check_op(l, bodies));
    ir_tensor **reads = NULL;
    int n = 0, cap = 0;
    o2p_status st = O2P_OK;
    for (int b = 0; b < nb && st == O2P_OK; b++)
        st = prepare_body(net, l, bodies[b], &reads, &n, &cap);
    /* what it reads already (its own inputs, or a call before this one) is not added */
    int add = 0;
    for (int i = 0; st == O2P_OK && i < n; i++) {
        int known = 0;
        for (int k = 0; k < l->num_inputs && !known; k++)
            known = l->inputs[k] == reads[i];
        if (!known)
            reads[add++] = reads[i];
    }
    if (st == O2P_OK && add) {
        ir_tensor **in = o2p_arena_array(&net->arena, (size_t)(l->num_inputs + add), sizeof *in);
        if (!in) {
            st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (control-flow bodies)");
        } else {
            if (l->num_inputs)
                memcpy(in, l->inputs, (size_t)l->num_inputs * sizeof *in);
            memcpy(in + l->num_inputs, reads, (size_t)add * sizeof *in);
            l->inputs = in;
            l->num_inputs += add;
        }
    }
    free(reads);
    return st;
}

o2p_status build_control_prepare(ir_network *net)
{
    ir_graph *g = net->main;
    for (int li = 0; li < g->layers.count; li++) {
        ir_layer *l = g->layers.items[li];
        if (build_control_is_control(l))
            O2P_TRY(prepare_layer(net, l));
    }
    return O2P_OK;
}

/* Why output k of control layer l is not static, in words (buf). */
static void explain(const ir_layer *l, int k, char *buf, size_t size)
{
    char a[256], b[256];
    ir_graph *bodies[2];
    int nb = bodies_of(l, bodies);
    const ir_tensor *o = l->outputs[k];
    if (!nb) {
        snprintf(buf, size, "its body graph is missing");
        return;
    }
    if (strcmp(l->op_type, "If") == 0) {
        const ir_tensor *t = k < bodies[0]->outputs.count ? bodies[0]->outputs.items[k] : NULL;
        const ir_tensor *e = k < bodies[1]->outputs.count ? bodies[1]->outputs.items[k] : NULL;
        if (!t || !e) {
            snprintf(buf, size, "a branch lacks output %d", k);
            return;
        }
        ir_shape_format(&t->shape, a, sizeof a);
        ir_shape_format(&e->shape, b, sizeof b);
        snprintf(buf, size,
                 "the then branch gives %s ('%s') and the else branch %s ('%s'); both "
                 "branches must give one static shape",
                 a, t->name, b, e->name);
        return;
    }
    const ir_graph *body = bodies[0];
    if (strcmp(l->op_type, "Loop") == 0) {
        int n = body->inputs.count - 2;
        if (k < n) {
            const ir_tensor *in = l->inputs[2 + k];
            const ir_tensor *bo = 1 + k < body->outputs.count ? body->outputs.items[1 + k] : NULL;
            ir_shape_format(in ? &in->shape : &o->shape, a, sizeof a);
            ir_shape_format(bo ? &bo->shape : &o->shape, b, sizeof b);
            snprintf(buf, size,
                     "loop-carried value %d enters as %s and the body gives %s ('%s'): a "
                     "carried value must keep one static shape on every iteration",
                     k, a, b, bo ? bo->name : "?");
            return;
        }
        const ir_tensor *m = l->num_inputs > 0 ? l->inputs[0] : NULL;
        if (!m || !ir_tensor_is_const(m)) {
            snprintf(buf, size,
                     "it is a scan output, stacked once per iteration, and the trip count "
                     "%s%s%s is not a constant known at build (a graph input or computed)",
                     m ? "'" : "", m ? m->name : "(omitted)", m ? "'" : "");
            return;
        }
        snprintf(buf, size,
                 "it is a scan output, stacked once per iteration, and the number of "
                 "iterations is not known at build (the body computes its condition, or "
                 "the slice it stacks has a dynamic shape)");
        return;
    }
    snprintf(buf, size,
             "the scan inputs' sequence length or the body's shapes are not known at build");
}

static o2p_status check_outputs_of(const ir_layer *l)
{
    for (int k = 0; k < l->num_outputs; k++) {
        const ir_tensor *o = l->outputs[k];
        if (!o || is_static(o))
            continue;
        char why[768], s[256];
        explain(l, k, why, sizeof why);
        ir_shape_format(&o->shape, s, sizeof s);
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): output '%s' has type %s and shape %s: %s; plans are "
                        "static-shape",
                        l->name, l->op_type, o->name, o2p_dtype_name(o->dtype), s, why);
    }
    return O2P_OK;
}

o2p_status build_control_check_outputs(const ir_graph *g)
{
    for (int li = 0; li < g->layers.count; li++)
        if (build_control_is_control(g->layers.items[li]))
            O2P_TRY(check_outputs_of(g->layers.items[li]));
    return O2P_OK;
}

void build_control_tactic(const ir_layer *l, const build_options *opt, build_tactic *out)
{
    memset(out, 0, sizeof *out);
    out->source = "builtin";
    out->family = "control";
    out->kernel = l->op_type;
    out->target = opt->target;
    out->cuda.source = "builtin";
    out->cuda.kernel = l->op_type;
}

/* ---------------------------------------------------------------- expansion */

typedef struct expander {
    build_engine *e;
    const build_options *opt;
    o2p_strmap index; /* tensor address as text -> index + 1 */
    int cap_tensors;
    build_layer *layers; /* the new layer list */
    int num_layers, cap_layers;
} expander;

static o2p_status tensor_index(expander *x, ir_tensor *t, int *out)
{
    char key[32];
    snprintf(key, sizeof key, "%p", (void *)t);
    intptr_t known = (intptr_t)o2p_strmap_get(&x->index, key);
    if (known) {
        *out = (int)known - 1;
        return O2P_OK;
    }
    build_engine *e = x->e;
    char *stored = o2p_arena_strdup(&e->arena, key);
    if (!stored)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine tensors)");
    if (e->num_tensors == x->cap_tensors) {
        int ncap = x->cap_tensors ? x->cap_tensors * 2 : 64;
        build_tensor *n = realloc(e->tensors, (size_t)ncap * sizeof *n);
        if (!n)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine tensors)");
        e->tensors = n;
        x->cap_tensors = ncap;
    }
    build_tensor *bt = &e->tensors[e->num_tensors];
    memset(bt, 0, sizeof *bt);
    bt->t = t;
    bt->name = t->name;
    if (!t->name || !*t->name) {
        bt->name = o2p_arena_printf(&e->arena, "constant_%d", e->num_tensors);
        if (!bt->name)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine tensors)");
    }
    int ok;
    int64_t n = ir_shape_numel(&t->shape, &ok);
    bt->nbytes = ok ? (uint64_t)n * ir_dtype_size(t->dtype) : 0;
    /* Body tensors never share bytes: a body runs many times, and its inputs and outputs
     * are read around its layers, so none is dead while the control layer runs. */
    if (t->kind == IR_TENSOR_CONSTANT) {
        bt->storage = BUILD_STORAGE_WEIGHTS;
        bt->offset = e->weights_size;
        e->weights_size = (e->weights_size + bt->nbytes + BODY_WEIGHTS_ALIGN - 1) &
                          ~(uint64_t)(BODY_WEIGHTS_ALIGN - 1);
    } else {
        bt->storage = BUILD_STORAGE_ARENA;
        bt->offset = (e->arena_size + BODY_ARENA_ALIGN - 1) & ~(uint64_t)(BODY_ARENA_ALIGN - 1);
        e->arena_size = bt->offset + (bt->nbytes ? bt->nbytes : 1);
    }
    O2P_TRY(o2p_strmap_put(&x->index, stored, (void *)(intptr_t)(e->num_tensors + 1)));
    *out = e->num_tensors++;
    return O2P_OK;
}

static o2p_status push_layer(expander *x, const build_layer *bl, int *at)
{
    if (x->num_layers == x->cap_layers) {
        int ncap = x->cap_layers ? x->cap_layers * 2 : 64;
        build_layer *n = realloc(x->layers, (size_t)ncap * sizeof *n);
        if (!n)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine layers)");
        x->layers = n;
        x->cap_layers = ncap;
    }
    x->layers[x->num_layers] = *bl;
    *at = x->num_layers++;
    return O2P_OK;
}

static o2p_status index_list(expander *x, ir_tensor **ts, int n, int **out)
{
    *out = o2p_arena_array(&x->e->arena, (size_t)n, sizeof **out);
    if (!*out)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine layers)");
    for (int k = 0; k < n; k++) {
        (*out)[k] = -1;
        if (ts[k])
            O2P_TRY(tensor_index(x, ts[k], &(*out)[k]));
    }
    return O2P_OK;
}

static o2p_status expand_layer(expander *x, int at);

/* A body layer: its tensors, its tactic (host), and its own bodies when it has some. */
static o2p_status add_body_layer(expander *x, ir_layer *l)
{
    build_engine *e = x->e;
    build_layer bl;
    memset(&bl, 0, sizeof bl);
    bl.layer = l;
    if (build_control_is_control(l))
        build_control_tactic(l, x->opt, &bl.tactic);
    else if (x->opt->target == BUILD_TARGET_HOST)
        O2P_TRY(build_select_tactic(l, x->opt, &bl.tactic));
    O2P_TRY(index_list(x, l->inputs, l->num_inputs, &bl.inputs));
    O2P_TRY(index_list(x, l->outputs, l->num_outputs, &bl.outputs));
    bl.attr_tensors = o2p_arena_array(&e->arena, (size_t)l->num_attrs, sizeof(int));
    if (!bl.attr_tensors)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine layers)");
    for (int a = 0; a < l->num_attrs; a++) {
        bl.attr_tensors[a] = -1;
        if (l->attrs[a].type == O2P_ATTR_TENSOR && l->attrs[a].tensors && l->attrs[a].tensors[0])
            O2P_TRY(tensor_index(x, l->attrs[a].tensors[0], &bl.attr_tensors[a]));
    }
    int at;
    O2P_TRY(push_layer(x, &bl, &at));
    return build_control_is_control(l) ? expand_layer(x, at) : O2P_OK;
}

/* Appends the bodies of the control layer at x->layers[at] after it. */
static o2p_status expand_layer(expander *x, int at)
{
    ir_layer *l = x->layers[at].layer;
    ir_graph *bodies[2];
    int nb = bodies_of(l, bodies);
    build_body *bb = o2p_arena_array(&x->e->arena, (size_t)(nb ? nb : 1), sizeof *bb);
    if (!bb)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine layers)");
    for (int b = 0; b < nb; b++) {
        ir_graph *g = bodies[b];
        int start = x->num_layers;
        O2P_TRY(index_list(x, (ir_tensor **)g->inputs.items, g->inputs.count, &bb[b].inputs));
        bb[b].num_inputs = g->inputs.count;
        for (int li = 0; li < g->layers.count; li++)
            O2P_TRY(add_body_layer(x, g->layers.items[li]));
        O2P_TRY(index_list(x, (ir_tensor **)g->outputs.items, g->outputs.count, &bb[b].outputs));
        bb[b].num_outputs = g->outputs.count;
        bb[b].num_layers = x->num_layers - start;
    }
    /* x->layers may have moved while the bodies were added */
    x->layers[at].bodies = bb;
    x->layers[at].num_bodies = nb;
    return O2P_OK;
}

o2p_status build_control_expand(build_engine *e, const build_options *opt)
{
    int any = 0;
    for (int li = 0; li < e->num_layers && !any; li++)
        any = build_control_is_control(e->layers[li].layer);
    if (!any)
        return O2P_OK;
    expander x;
    memset(&x, 0, sizeof x);
    x.e = e;
    x.opt = opt;
    x.cap_tensors = e->num_tensors;
    o2p_status st = O2P_OK;
    char key[32];
    for (int i = 0; i < e->num_tensors && st == O2P_OK; i++) {
        snprintf(key, sizeof key, "%p", (void *)e->tensors[i].t);
        char *stored = o2p_arena_strdup(&e->arena, key);
        st = stored ? o2p_strmap_put(&x.index, stored, (void *)(intptr_t)(i + 1))
                    : o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine tensors)");
    }
    for (int li = 0; li < e->num_layers && st == O2P_OK; li++) {
        int at;
        st = push_layer(&x, &e->layers[li], &at);
        if (st == O2P_OK && build_control_is_control(e->layers[li].layer))
            st = expand_layer(&x, at);
    }
    if (st == O2P_OK) {
        build_layer *layers = o2p_arena_array(&e->arena, (size_t)x.num_layers, sizeof *layers);
        if (!layers) {
            st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine layers)");
        } else {
            memcpy(layers, x.layers, (size_t)x.num_layers * sizeof *layers);
            e->layers = layers;
            e->num_layers = x.num_layers;
        }
    }
    free(x.layers);
    o2p_strmap_free(&x.index);
    return st;
}
