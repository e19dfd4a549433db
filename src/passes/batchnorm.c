/* batchnorm.c: folding an inference BatchNormalization into the Conv or Gemm that feeds it:
 * the per-channel affine map y = x * s + t moves into that layer's weights and bias. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* How many times layers of g (and of the graphs nested in it) read t, plus one per listing
 * of t among g's outputs. */
static int count_reads(const ir_graph *g, const ir_tensor *t)
{
    int n = 0;
    for (int i = 0; i < g->layers.count; i++) {
        const ir_layer *l = g->layers.items[i];
        for (int k = 0; k < l->num_inputs; k++)
            n += l->inputs[k] == t;
        for (int a = 0; a < l->num_attrs; a++)
            for (int k = 0; l->attrs[a].graphs && k < l->attrs[a].count; k++)
                n += count_reads(l->attrs[a].graphs[k], t);
    }
    for (int i = 0; i < g->outputs.count; i++)
        n += g->outputs.items[i] == t;
    return n;
}

/* Element count of t when it is a float32 constant whose bytes match its static shape;
 * -1 otherwise (the IR may come from a hostile model: nothing here trusts nbytes alone). */
static int64_t f32_numel(const ir_tensor *t)
{
    if (!t || !ir_tensor_is_const(t) || t->dtype != O2P_DTYPE_FLOAT)
        return -1;
    int ok;
    int64_t n = ir_shape_numel(&t->shape, &ok);
    size_t want;
    if (!ok || n < 0 || !o2p_mul_size((size_t)n, sizeof(float), &want) || want != t->nbytes)
        return -1;
    return n;
}

/* Element i of a float32 constant checked by f32_numel (the data may be unaligned). */
static double f32_at(const ir_tensor *t, int64_t i)
{
    float v;
    memcpy(&v, (const unsigned char *)t->data + (size_t)i * sizeof v, sizeof v);
    return v;
}

static int is_op(const ir_layer *l, const char *op_type)
{
    return !*l->domain && strcmp(l->op_type, op_type) == 0;
}

/* Whether bn computes Y from running statistics only, with nothing reading its other
 * outputs. Before opset 14 the presence of the statistics outputs means training mode (as
 * ONNX and the host kernel read it); from 14, training_mode says so. */
static int inference_bn(const ir_layer *bn, int64_t opset)
{
    if (!is_op(bn, "BatchNormalization") || bn->num_inputs != 5 || bn->num_outputs < 1 ||
        !bn->outputs[0])
        return 0;
    for (int i = 0; i < 5; i++)
        if (!bn->inputs[i])
            return 0;
    if (opset >= 14) {
        const ir_attr *tm = ir_attr_find(bn, "training_mode");
        if (tm && (tm->type != O2P_ATTR_INT || tm->i != 0))
            return 0;
    }
    for (int i = 1; i < bn->num_outputs; i++) {
        const ir_tensor *t = bn->outputs[i];
        if (t && (opset < 14 || t->is_output || count_reads(bn->graph, t) > 0))
            return 0;
    }
    return 1;
}

/* What a fold needs to know about the Conv or Gemm before the BatchNormalization. */
typedef struct fold_site {
    ir_layer *layer;
    int is_gemm;
    ir_tensor *weight; /* Conv W, Gemm B */
    ir_tensor *bias;   /* Conv B, Gemm C; NULL when absent */
    int64_t channels;  /* output channels (Conv) or columns (Gemm) */
    int trans_b;
    double beta;
} fold_site;

/* Fills *s when the producer of x is a Conv or Gemm whose weights (and bias) fold. */
static int foldable_producer(const ir_layer *bn, int64_t opset, fold_site *s)
{
    ir_tensor *x = bn->inputs[0];
    ir_layer *p = x->producer;
    memset(s, 0, sizeof *s);
    if (!p || p->graph != bn->graph || p->index >= bn->index || p->num_outputs != 1 ||
        p->outputs[0] != x || x == bn->outputs[0] || x->is_output || count_reads(bn->graph, x) != 1)
        return 0;
    if (x->dtype != O2P_DTYPE_FLOAT && x->dtype != O2P_DTYPE_UNDEFINED)
        return 0;
    if (p->num_inputs < 2 || p->num_inputs > 3 || !p->inputs[0])
        return 0;
    s->layer = p;
    s->weight = p->inputs[1];
    s->bias = p->num_inputs == 3 ? p->inputs[2] : NULL;
    int64_t wn = f32_numel(s->weight);
    if (wn < 0)
        return 0;
    const ir_shape *ws = &s->weight->shape;
    if (is_op(p, "Conv")) {
        if (ws->rank < 3)
            return 0;
        s->channels = ws->dims[0].value;
        if (s->bias && (f32_numel(s->bias) != s->channels || s->bias->shape.rank != 1))
            return 0;
    } else if (is_op(p, "Gemm")) {
        if (ws->rank != 2)
            return 0;
        s->is_gemm = 1;
        s->trans_b = ir_attr_int(p, "transB", 0) != 0;
        s->beta = ir_attr_float(p, "beta", 1.0f);
        s->channels = ws->dims[s->trans_b ? 0 : 1].value;
        if (s->bias) {
            /* C must be one value per column, or one value: [], [1], [N], [1,1], [1,N]. */
            int64_t cn = f32_numel(s->bias);
            const ir_shape *cs = &s->bias->shape;
            if ((cn != 1 && cn != s->channels) || cs->rank > 2 ||
                (cs->rank == 2 && cs->dims[0].value != 1))
                return 0;
        }
    } else {
        return 0;
    }
    if (s->channels <= 0)
        return 0;
    /* opset < 9 spatial = 0 has one parameter per (channel, position), in any shape: the
     * same thing for a Gemm's 2-D output, not for a Conv's. */
    int per_element = opset < 9 && ir_attr_int(bn, "spatial", 1) == 0;
    if (per_element && !s->is_gemm)
        return 0;
    /* where inference knows the channel count, it must be W's */
    if (x->shape.rank >= 0 && (x->shape.rank < 2 || (x->shape.dims[1].value >= 0 &&
                                                     x->shape.dims[1].value != s->channels)))
        return 0;
    for (int i = 1; i < 5; i++) {
        const ir_tensor *t = bn->inputs[i];
        if (f32_numel(t) != s->channels || (t->shape.rank != 1 && !per_element))
            return 0;
    }
    return 1;
}

/* A name not yet used in g: "<layer>.<what>", then "<layer>.<what>_1", ... */
static const char *fresh_name(ir_network *net, ir_graph *g, const char *layer, const char *what)
{
    const char *name = o2p_arena_printf(&net->arena, "%s.%s", layer, what);
    for (int k = 1; name && ir_graph_find(g, name); k++)
        name = o2p_arena_printf(&net->arena, "%s.%s_%d", layer, what, k);
    return name;
}

static o2p_status new_constant(ir_network *net, ir_graph *g, const char *layer, const char *what,
                               const ir_shape *shape, void *data, size_t nbytes, ir_tensor **out)
{
    const char *name = fresh_name(net, g, layer, what);
    if (!name)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory folding BatchNormalization into '%s'",
                        layer);
    ir_tensor *t;
    O2P_TRY(ir_tensor_new(g, name, IR_TENSOR_CONSTANT, &t));
    t->dtype = O2P_DTYPE_FLOAT;
    t->shape = *shape;
    t->data = data;
    t->nbytes = nbytes;
    *out = t;
    return O2P_OK;
}

/* Writes the scaled weights and the new bias, points the layer at them, hands it the
 * BatchNormalization's output and removes the BatchNormalization. */
static o2p_status fold(ir_network *net, ir_layer *bn, const fold_site *s)
{
    ir_graph *g = bn->graph;
    ir_layer *p = s->layer;
    int64_t C = s->channels;
    const char *oom = "out of memory folding BatchNormalization '%s' into '%s'";
    double *scale = malloc((size_t)C * sizeof *scale);
    float *bias = ir_network_alloc_data(net, (size_t)C * sizeof *bias);
    float *weight = ir_network_alloc_data(net, s->weight->nbytes);
    if (!scale || !bias || !weight) {
        free(scale);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, oom, bn->name, p->name);
    }
    /* y = (x - mean) * scale / sqrt(var + eps) + B, in double as the host kernel does */
    double eps = ir_attr_float(bn, "epsilon", 1e-5f);
    int64_t bias_n = s->bias ? f32_numel(s->bias) : 0;
    for (int64_t c = 0; c < C; c++) {
        double k = f32_at(bn->inputs[1], c) / sqrt(f32_at(bn->inputs[4], c) + eps);
        double b = 0.0;
        if (s->bias && (!s->is_gemm || s->beta != 0.0)) /* beta 0 ignores C, as Gemm does */
            b = f32_at(s->bias, bias_n == 1 ? 0 : c) * (s->is_gemm ? s->beta : 1.0);
        scale[c] = k;
        bias[c] = (float)((b - f32_at(bn->inputs[3], c)) * k + f32_at(bn->inputs[2], c));
    }
    int64_t wn = f32_numel(s->weight);
    /* the output channel of element i: Conv W [C, ...] and Gemm B^T [N, K] lead with it;
     * Gemm B [K, N] ends with it */
    int64_t inner = wn / C;
    for (int64_t i = 0; i < wn; i++) {
        int64_t c = s->is_gemm && !s->trans_b ? i % C : i / inner;
        weight[i] = (float)(f32_at(s->weight, i) * scale[c]);
    }
    free(scale);

    ir_tensor **inputs = p->inputs;
    if (p->num_inputs < 3) {
        inputs = o2p_arena_array(&net->arena, 3, sizeof *inputs);
        if (!inputs)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, oom, bn->name, p->name);
        memcpy(inputs, p->inputs, (size_t)p->num_inputs * sizeof *inputs);
    }
    ir_tensor *w_t, *b_t;
    ir_shape bias_shape = {.rank = 1, .dims = {{C, NULL}}};
    O2P_TRY(new_constant(net, g, p->name, "folded_weight", &s->weight->shape, weight,
                         s->weight->nbytes, &w_t));
    O2P_TRY(new_constant(net, g, p->name, "folded_bias", &bias_shape, bias,
                         (size_t)C * sizeof *bias, &b_t));
    if (s->is_gemm) {
        ir_attr *a;
        O2P_TRY(ir_layer_add_attr(p, "beta", O2P_ATTR_FLOAT, &a));
        a->f = 1.0f;
        /* before opset 7 a C of another shape than [M, N] needs broadcast = 1 */
        if (ir_network_opset(net, "") < 7) {
            O2P_TRY(ir_layer_add_attr(p, "broadcast", O2P_ATTR_INT, &a));
            a->i = 1;
        }
    }
    inputs[1] = w_t;
    inputs[2] = b_t;
    p->inputs = inputs;
    p->num_inputs = 3;

    ir_tensor *x = p->outputs[0], *y = bn->outputs[0];
    p->outputs[0] = y;
    y->producer = p;
    x->producer = NULL;
    for (int i = 1; i < bn->num_outputs; i++)
        if (bn->outputs[i])
            bn->outputs[i]->producer = NULL;
    ir_graph_remove_layer(g, bn);
    return O2P_OK;
}

o2p_status pass_fold_batchnorm(ir_network *net, int *folded)
{
    ir_graph *g = net->main;
    int64_t opset = ir_network_opset(net, "");
    int n = 0;
    /* Removing a BatchNormalization shifts the layers after it down by one. */
    for (int i = 0; i < g->layers.count;) {
        ir_layer *bn = g->layers.items[i];
        fold_site s;
        if (!inference_bn(bn, opset) || !foldable_producer(bn, opset, &s)) {
            i++;
            continue;
        }
        O2P_TRY(fold(net, bn, &s));
        n++;
    }
    if (folded)
        *folded = n;
    return O2P_OK;
}
