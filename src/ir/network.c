/* network.c: building and reading the network IR; the public network API over it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"

/* Constant blocks bigger than this get their own heap allocation. */
#define IR_HEAP_DATA_MIN (1u << 20)

size_t ir_dtype_size(o2p_dtype t)
{
    return o2p_dtype_size(t);
}

int ir_dtype_is_float(o2p_dtype t)
{
    return t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_FLOAT16 || t == O2P_DTYPE_DOUBLE ||
           t == O2P_DTYPE_BFLOAT16;
}

int ir_dtype_is_int(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_UINT8: case O2P_DTYPE_INT8: case O2P_DTYPE_UINT16: case O2P_DTYPE_INT16:
    case O2P_DTYPE_INT32: case O2P_DTYPE_INT64: case O2P_DTYPE_UINT32: case O2P_DTYPE_UINT64:
        return 1;
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- building */

ir_network *ir_network_new(void)
{
    ir_network *net = calloc(1, sizeof *net);
    if (!net)
        return NULL;
    o2p_arena_init(&net->arena);
    for (int i = 0; i < 5; i++)
        net->info[i] = "";
    net->main = ir_graph_new(net, NULL, "main");
    if (!net->main) {
        ir_network_free(net);
        return NULL;
    }
    return net;
}

void ir_network_free(ir_network *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->graphs.count; i++) {
        ir_graph *g = net->graphs.items[i];
        o2p_ptrvec_free(&g->inputs);
        o2p_ptrvec_free(&g->outputs);
        o2p_ptrvec_free(&g->layers);
        o2p_ptrvec_free(&g->constants);
        o2p_ptrvec_free(&g->tensors);
        o2p_strmap_free(&g->by_name);
    }
    for (int i = 0; i < net->heap_blocks.count; i++)
        free(net->heap_blocks.items[i]);
    o2p_ptrvec_free(&net->heap_blocks);
    o2p_ptrvec_free(&net->graphs);
    o2p_ptrvec_free(&net->opsets);
    o2p_ptrvec_free(&net->metadata);
    o2p_arena_free(&net->arena);
    free(net);
}

ir_graph *ir_graph_new(ir_network *net, ir_graph *parent, const char *name)
{
    ir_graph *g = o2p_arena_alloc(&net->arena, sizeof *g, 16);
    if (!g)
        return NULL;
    g->name = o2p_arena_strdup(&net->arena, name ? name : "");
    g->network = net;
    g->parent = parent;
    if (!g->name || o2p_ptrvec_push(&net->graphs, g) != O2P_OK)
        return NULL;
    return g;
}

ir_tensor *ir_graph_find(const ir_graph *g, const char *name)
{
    for (; g; g = g->parent) {
        ir_tensor *t = o2p_strmap_get(&g->by_name, name);
        if (t)
            return t;
    }
    return NULL;
}

o2p_status ir_tensor_new(ir_graph *g, const char *name, ir_tensor_kind kind, ir_tensor **out)
{
    ir_network *net = g->network;
    if (!name || !*name)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "graph '%s': a tensor needs a non-empty name",
                        g->name);
    if (o2p_strmap_get(&g->by_name, name))
        return o2p_fail(O2P_ERR_PARSE,
                        "graph '%s': tensor name '%s' is defined twice (ONNX graphs are in SSA "
                        "form: every tensor has exactly one producer)",
                        g->name, name);
    ir_tensor *t = o2p_arena_alloc(&net->arena, sizeof *t, 16);
    if (!t || !(t->name = o2p_arena_strdup(&net->arena, name)))
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating tensor '%s'", name);
    t->kind = kind;
    t->graph = g;
    t->shape.rank = O2P_RANK_UNKNOWN;
    O2P_TRY(o2p_ptrvec_push(&g->tensors, t));
    O2P_TRY(o2p_strmap_put(&g->by_name, t->name, t));
    if (kind == IR_TENSOR_CONSTANT)
        O2P_TRY(o2p_ptrvec_push(&g->constants, t));
    if (kind == IR_TENSOR_INPUT)
        O2P_TRY(o2p_ptrvec_push(&g->inputs, t));
    *out = t;
    return O2P_OK;
}

o2p_status ir_tensor_new_anonymous(ir_graph *g, const char *name, ir_tensor **out)
{
    ir_tensor *t = o2p_arena_alloc(&g->network->arena, sizeof *t, 16);
    if (!t || !(t->name = o2p_arena_strdup(&g->network->arena, name ? name : "")))
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating a tensor");
    t->kind = IR_TENSOR_CONSTANT;
    t->graph = g;
    t->shape.rank = O2P_RANK_UNKNOWN;
    *out = t;
    return O2P_OK;
}

o2p_status ir_tensor_make_constant(ir_tensor *t, o2p_dtype dtype, const ir_shape *shape,
                                   const void *data, size_t nbytes)
{
    ir_graph *g = t->graph;
    if (t->kind == IR_TENSOR_CONSTANT)
        return o2p_fail(O2P_ERR_INTERNAL, "tensor '%s' is already a constant", t->name);
    if (t->kind == IR_TENSOR_INPUT) {
        int k = 0;
        for (int i = 0; i < g->inputs.count; i++)
            if (g->inputs.items[i] != t)
                g->inputs.items[k++] = g->inputs.items[i];
        g->inputs.count = k;
    }
    if (t->producer) {
        ir_layer *l = t->producer;
        for (int i = 0; i < l->num_outputs; i++)
            if (l->outputs[i] == t)
                l->outputs[i] = NULL;
        t->producer = NULL;
    }
    O2P_TRY(o2p_ptrvec_push(&g->constants, t));
    t->kind = IR_TENSOR_CONSTANT;
    t->dtype = dtype;
    t->shape = *shape;
    t->data = data;
    t->nbytes = nbytes;
    t->values = NULL;
    return O2P_OK;
}

void ir_graph_remove_layer(ir_graph *g, ir_layer *l)
{
    int k = 0;
    for (int i = 0; i < g->layers.count; i++)
        if (g->layers.items[i] != l)
            g->layers.items[k++] = g->layers.items[i];
    g->layers.count = k;
    for (int i = 0; i < g->layers.count; i++)
        ((ir_layer *)g->layers.items[i])->index = i;
}

o2p_status ir_layer_new(ir_graph *g, const char *domain, const char *op_type, const char *name,
                        int num_inputs, int num_outputs, ir_layer **out)
{
    ir_network *net = g->network;
    if (num_inputs < 0 || num_outputs < 0)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "layer '%s': negative input or output count",
                        name ? name : "");
    ir_layer *l = o2p_arena_alloc(&net->arena, sizeof *l, 16);
    if (!l)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating a layer");
    if (domain && strcmp(domain, "ai.onnx") == 0)
        domain = "";
    l->domain = o2p_arena_strdup(&net->arena, domain ? domain : "");
    l->op_type = o2p_arena_strdup(&net->arena, op_type ? op_type : "");
    if (name && *name)
        l->name = o2p_arena_strdup(&net->arena, name);
    else
        l->name = o2p_arena_printf(&net->arena, "%s_%d", op_type ? op_type : "layer",
                                   net->next_anon++);
    l->graph = g;
    l->num_inputs = num_inputs;
    l->num_outputs = num_outputs;
    l->inputs = o2p_arena_array(&net->arena, (size_t)num_inputs, sizeof(ir_tensor *));
    l->outputs = o2p_arena_array(&net->arena, (size_t)num_outputs, sizeof(ir_tensor *));
    if (!l->domain || !l->op_type || !l->name || !l->inputs || !l->outputs)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating layer '%s'",
                        name ? name : "");
    l->op = ir_op_find(l->domain, l->op_type);
    l->index = g->layers.count;
    O2P_TRY(o2p_ptrvec_push(&g->layers, l));
    *out = l;
    return O2P_OK;
}

o2p_status ir_layer_add_attr(ir_layer *l, const char *name, o2p_attr_type type, ir_attr **out)
{
    ir_network *net = l->graph->network;
    ir_attr *a = NULL;
    for (int i = 0; i < l->num_attrs; i++)
        if (strcmp(l->attrs[i].name, name) == 0)
            a = &l->attrs[i];
    if (!a) {
        if (l->num_attrs == l->cap_attrs) {
            int cap = l->cap_attrs ? l->cap_attrs * 2 : 4;
            ir_attr *attrs = o2p_arena_array(&net->arena, (size_t)cap, sizeof *attrs);
            if (!attrs)
                return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (attributes)");
            if (l->num_attrs)
                memcpy(attrs, l->attrs, (size_t)l->num_attrs * sizeof *attrs);
            l->attrs = attrs;
            l->cap_attrs = cap;
        }
        a = &l->attrs[l->num_attrs++];
    }
    memset(a, 0, sizeof *a);
    a->name = o2p_arena_strdup(&net->arena, name);
    if (!a->name)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (attribute name)");
    a->type = type;
    *out = a;
    return O2P_OK;
}

void *ir_network_alloc_data(ir_network *net, size_t nbytes)
{
    if (nbytes < IR_HEAP_DATA_MIN)
        return o2p_arena_alloc(&net->arena, nbytes ? nbytes : 1, 64);
    void *p = aligned_alloc(256, (nbytes + 255) & ~(size_t)255);
    if (!p)
        return NULL;
    if (o2p_ptrvec_push(&net->heap_blocks, p) != O2P_OK) {
        free(p);
        return NULL;
    }
    return p;
}

o2p_status ir_network_add_opset(ir_network *net, const char *domain, int64_t version)
{
    if (domain && strcmp(domain, "ai.onnx") == 0)
        domain = "";
    for (int i = 0; i < net->opsets.count; i++) {
        ir_opset *o = net->opsets.items[i];
        if (strcmp(o->domain, domain ? domain : "") == 0) {
            o->version = version;
            return O2P_OK;
        }
    }
    ir_opset *o = o2p_arena_alloc(&net->arena, sizeof *o, 16);
    if (!o || !(o->domain = o2p_arena_strdup(&net->arena, domain)))
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (opsets)");
    o->version = version;
    return o2p_ptrvec_push(&net->opsets, o);
}

int64_t ir_network_opset(const ir_network *net, const char *domain)
{
    if (domain && strcmp(domain, "ai.onnx") == 0)
        domain = "";
    for (int i = 0; i < net->opsets.count; i++) {
        const ir_opset *o = net->opsets.items[i];
        if (strcmp(o->domain, domain ? domain : "") == 0)
            return o->version;
    }
    if (!domain || !*domain)
        return o2p_max_opset();
    return 1;
}

/* ---------------------------------------------------------------- attributes */

const ir_attr *ir_attr_find(const ir_layer *l, const char *name)
{
    for (int i = 0; i < l->num_attrs; i++)
        if (strcmp(l->attrs[i].name, name) == 0)
            return &l->attrs[i];
    return NULL;
}

int64_t ir_attr_int(const ir_layer *l, const char *name, int64_t dflt)
{
    const ir_attr *a = ir_attr_find(l, name);
    return a && a->type == O2P_ATTR_INT ? a->i : dflt;
}

float ir_attr_float(const ir_layer *l, const char *name, float dflt)
{
    const ir_attr *a = ir_attr_find(l, name);
    if (a && a->type == O2P_ATTR_FLOAT)
        return a->f;
    if (a && a->type == O2P_ATTR_INT)
        return (float)a->i;
    return dflt;
}

const char *ir_attr_string(const ir_layer *l, const char *name, const char *dflt)
{
    const ir_attr *a = ir_attr_find(l, name);
    return a && a->type == O2P_ATTR_STRING ? a->s : dflt;
}

const int64_t *ir_attr_ints(const ir_layer *l, const char *name, int *count)
{
    const ir_attr *a = ir_attr_find(l, name);
    if (a && a->type == O2P_ATTR_INTS) {
        *count = a->count;
        return a->ints;
    }
    *count = 0;
    return NULL;
}

const float *ir_attr_floats(const ir_layer *l, const char *name, int *count)
{
    const ir_attr *a = ir_attr_find(l, name);
    if (a && a->type == O2P_ATTR_FLOATS) {
        *count = a->count;
        return a->floats;
    }
    *count = 0;
    return NULL;
}

ir_graph *ir_attr_graph(const ir_layer *l, const char *name)
{
    const ir_attr *a = ir_attr_find(l, name);
    return a && a->type == O2P_ATTR_GRAPH && a->count == 1 ? a->graphs[0] : NULL;
}

/* ---------------------------------------------------------------- shapes and constants */

void ir_shape_unknown(ir_shape *s)
{
    memset(s, 0, sizeof *s);
    s->rank = O2P_RANK_UNKNOWN;
}

int ir_shape_is_static(const ir_shape *s)
{
    if (s->rank < 0)
        return 0;
    for (int i = 0; i < s->rank; i++)
        if (s->dims[i].value < 0)
            return 0;
    return 1;
}

int64_t ir_shape_numel(const ir_shape *s, int *ok)
{
    int64_t n = 1;
    *ok = 0;
    if (!ir_shape_is_static(s))
        return 0;
    for (int i = 0; i < s->rank; i++)
        if (!o2p_mul_i64(n, s->dims[i].value, &n))
            return 0;
    *ok = 1;
    return n;
}

void ir_shape_format(const ir_shape *s, char *buf, size_t size)
{
    if (!size)
        return;
    buf[0] = '\0';
    if (s->rank < 0) {
        snprintf(buf, size, "?");
        return;
    }
    if (s->rank == 0) {
        snprintf(buf, size, "scalar");
        return;
    }
    size_t len = 0;
    for (int i = 0; i < s->rank && len < size; i++) {
        const ir_dim *d = &s->dims[i];
        int n;
        if (d->value >= 0)
            n = snprintf(buf + len, size - len, "%s%lld", i ? "x" : "", (long long)d->value);
        else if (d->sym)
            n = snprintf(buf + len, size - len, "%s%s", i ? "x" : "", d->sym);
        else if (d->bound > 0) /* data-dependent, at most bound */
            n = snprintf(buf + len, size - len, "%s?<=%lld", i ? "x" : "", (long long)d->bound);
        else
            n = snprintf(buf + len, size - len, "%s?", i ? "x" : "");
        if (n < 0)
            break;
        len += (size_t)n;
    }
}

int ir_tensor_is_const(const ir_tensor *t)
{
    return t && t->kind == IR_TENSOR_CONSTANT && t->data;
}

int64_t ir_tensor_numel_const(const ir_tensor *t)
{
    if (!ir_tensor_is_const(t))
        return -1;
    size_t es = ir_dtype_size(t->dtype);
    return es ? (int64_t)(t->nbytes / es) : -1;
}

int ir_const_get_f64(const ir_tensor *t, int64_t i, double *out)
{
    int64_t n = ir_tensor_numel_const(t);
    if (n < 0 || i < 0 || i >= n)
        return 0;
    const unsigned char *p = (const unsigned char *)t->data + (size_t)i * ir_dtype_size(t->dtype);
    switch (t->dtype) {
    case O2P_DTYPE_FLOAT: { float v; memcpy(&v, p, 4); *out = v; return 1; }
    case O2P_DTYPE_DOUBLE: { double v; memcpy(&v, p, 8); *out = v; return 1; }
    case O2P_DTYPE_FLOAT16: { uint16_t v; memcpy(&v, p, 2); *out = o2p_half_to_float(v); return 1; }
    case O2P_DTYPE_BFLOAT16: { uint16_t v; memcpy(&v, p, 2); *out = o2p_bf16_to_float(v); return 1; }
    case O2P_DTYPE_UINT64: { uint64_t v; memcpy(&v, p, 8); *out = (double)v; return 1; }
    default: {
        int64_t v;
        if (!ir_const_get_i64(t, i, &v))
            return 0;
        *out = (double)v;
        return 1;
    }
    }
}

int ir_const_get_i64(const ir_tensor *t, int64_t i, int64_t *out)
{
    int64_t n = ir_tensor_numel_const(t);
    if (n < 0 || i < 0 || i >= n)
        return 0;
    const unsigned char *p = (const unsigned char *)t->data + (size_t)i * ir_dtype_size(t->dtype);
    switch (t->dtype) {
    case O2P_DTYPE_INT64: { int64_t v; memcpy(&v, p, 8); *out = v; return 1; }
    case O2P_DTYPE_INT32: { int32_t v; memcpy(&v, p, 4); *out = v; return 1; }
    case O2P_DTYPE_INT16: { int16_t v; memcpy(&v, p, 2); *out = v; return 1; }
    case O2P_DTYPE_INT8: { int8_t v; memcpy(&v, p, 1); *out = v; return 1; }
    case O2P_DTYPE_UINT8: case O2P_DTYPE_BOOL: *out = p[0]; return 1;
    case O2P_DTYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); *out = v; return 1; }
    case O2P_DTYPE_UINT32: { uint32_t v; memcpy(&v, p, 4); *out = v; return 1; }
    case O2P_DTYPE_UINT64: {
        uint64_t v;
        memcpy(&v, p, 8);
        if (v > (uint64_t)INT64_MAX)
            return 0;
        *out = (int64_t)v;
        return 1;
    }
    case O2P_DTYPE_FLOAT: case O2P_DTYPE_DOUBLE: case O2P_DTYPE_FLOAT16: case O2P_DTYPE_BFLOAT16: {
        double d;
        if (!ir_const_get_f64(t, i, &d) || !(d >= -9.2e18 && d <= 9.2e18))
            return 0;
        *out = (int64_t)d;
        return 1;
    }
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- public API */

o2p_status o2p_network_create(o2p_network **out)
{
    if (!out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_network_create: out is NULL");
    *out = ir_network_new();
    if (!*out)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating a network");
    return O2P_OK;
}

void o2p_network_destroy(o2p_network *network)
{
    ir_network_free(network);
}

o2p_graph *o2p_network_get_graph(o2p_network *network)
{
    return network ? network->main : NULL;
}

o2p_status o2p_network_set_opset(o2p_network *network, const char *domain, int64_t version)
{
    if (!network || version < 1)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_network_set_opset: bad network or version");
    return ir_network_add_opset(network, domain ? domain : "", version);
}

int64_t o2p_network_get_opset(const o2p_network *network, const char *domain)
{
    return network ? ir_network_opset(network, domain) : 0;
}

int o2p_network_num_opsets(const o2p_network *network)
{
    return network ? network->opsets.count : 0;
}

const char *o2p_network_opset_domain(const o2p_network *network, int index)
{
    if (!network || index < 0 || index >= network->opsets.count)
        return NULL;
    return ((const ir_opset *)network->opsets.items[index])->domain;
}

int64_t o2p_network_opset_version(const o2p_network *network, int index)
{
    if (!network || index < 0 || index >= network->opsets.count)
        return 0;
    return ((const ir_opset *)network->opsets.items[index])->version;
}

const char *o2p_network_get_info(const o2p_network *network, o2p_model_info what)
{
    if (!network || (unsigned)what >= 5)
        return "";
    return network->info[what];
}

int64_t o2p_network_ir_version(const o2p_network *network)
{
    return network ? network->ir_version : 0;
}

int64_t o2p_network_model_version(const o2p_network *network)
{
    return network ? network->model_version : 0;
}

int o2p_network_num_metadata(const o2p_network *network)
{
    return network ? network->metadata.count / 2 : 0;
}

const char *o2p_network_metadata_key(const o2p_network *network, int index)
{
    if (!network || index < 0 || index >= network->metadata.count / 2)
        return NULL;
    return network->metadata.items[2 * index];
}

const char *o2p_network_metadata_value(const o2p_network *network, int index)
{
    if (!network || index < 0 || index >= network->metadata.count / 2)
        return NULL;
    return network->metadata.items[2 * index + 1];
}

const char *o2p_graph_get_name(const o2p_graph *graph)
{
    return graph ? graph->name : NULL;
}

#define VEC_GET(vec, index) \
    ((index) >= 0 && (index) < (vec).count ? (vec).items[(index)] : NULL)

int o2p_graph_num_inputs(const o2p_graph *graph) { return graph ? graph->inputs.count : 0; }
o2p_tensor *o2p_graph_get_input(const o2p_graph *graph, int index)
{
    return graph ? VEC_GET(graph->inputs, index) : NULL;
}
int o2p_graph_num_outputs(const o2p_graph *graph) { return graph ? graph->outputs.count : 0; }
o2p_tensor *o2p_graph_get_output(const o2p_graph *graph, int index)
{
    return graph ? VEC_GET(graph->outputs, index) : NULL;
}
int o2p_graph_num_layers(const o2p_graph *graph) { return graph ? graph->layers.count : 0; }
o2p_layer *o2p_graph_get_layer(const o2p_graph *graph, int index)
{
    return graph ? VEC_GET(graph->layers, index) : NULL;
}
int o2p_graph_num_constants(const o2p_graph *graph) { return graph ? graph->constants.count : 0; }
o2p_tensor *o2p_graph_get_constant(const o2p_graph *graph, int index)
{
    return graph ? VEC_GET(graph->constants, index) : NULL;
}

o2p_tensor *o2p_graph_find_tensor(const o2p_graph *graph, const char *name)
{
    return graph && name ? ir_graph_find(graph, name) : NULL;
}

static o2p_status set_dims(ir_network *net, ir_shape *shape, int rank, const int64_t *dims,
                           const char *const *dim_names, const char *what)
{
    if (rank < 0 || rank > IR_MAX_RANK)
        return o2p_fail(O2P_ERR_LIMIT, "%s: rank %d is outside 0..%d", what, rank, IR_MAX_RANK);
    if (rank > 0 && !dims)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "%s: dims is NULL", what);
    shape->rank = rank;
    for (int i = 0; i < rank; i++) {
        shape->dims[i].value = dims[i] < 0 ? -1 : dims[i];
        shape->dims[i].sym = NULL;
        if (dims[i] < 0 && dim_names && dim_names[i] &&
            !(shape->dims[i].sym = o2p_arena_strdup(&net->arena, dim_names[i])))
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    }
    return O2P_OK;
}

o2p_status o2p_graph_add_input(o2p_graph *graph, const char *name, o2p_dtype dtype, int rank,
                               const int64_t *dims, const char *const *dim_names,
                               o2p_tensor **out)
{
    if (!graph)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_graph_add_input: graph is NULL");
    if (!ir_dtype_size(dtype))
        return o2p_fail(O2P_ERR_UNSUPPORTED, "input '%s': element type %s is not supported",
                        name ? name : "", o2p_dtype_name(dtype));
    ir_tensor *t;
    O2P_TRY(ir_tensor_new(graph, name, IR_TENSOR_INPUT, &t));
    t->dtype = dtype;
    if (rank == O2P_RANK_UNKNOWN) {
        ir_shape_unknown(&t->shape);
        if (out)
            *out = t;
        return O2P_OK;
    }
    O2P_TRY(set_dims(graph->network, &t->shape, rank, dims, dim_names, t->name));
    if (out)
        *out = t;
    return O2P_OK;
}

o2p_status o2p_graph_add_constant(o2p_graph *graph, const char *name, o2p_dtype dtype, int rank,
                                  const int64_t *dims, const void *data, size_t nbytes,
                                  o2p_tensor **out)
{
    if (!graph)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_graph_add_constant: graph is NULL");
    size_t es = ir_dtype_size(dtype);
    if (!es)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "constant '%s': element type %s is not supported",
                        name ? name : "", o2p_dtype_name(dtype));
    ir_shape shape;
    ir_shape_unknown(&shape);
    O2P_TRY(set_dims(graph->network, &shape, rank, dims, NULL, name ? name : "constant"));
    int ok;
    int64_t n = ir_shape_numel(&shape, &ok);
    size_t want;
    if (!ok || !o2p_mul_size((size_t)n, es, &want))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "constant '%s': the shape must be static and "
                        "its byte size must fit in memory", name ? name : "");
    if (want != nbytes || (nbytes && !data))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "constant '%s': %zu bytes given, the shape and type need %zu",
                        name ? name : "", nbytes, want);
    void *copy = ir_network_alloc_data(graph->network, nbytes);
    if (!copy)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory copying constant '%s'", name);
    if (nbytes)
        memcpy(copy, data, nbytes);
    ir_tensor *t;
    O2P_TRY(ir_tensor_new(graph, name, IR_TENSOR_CONSTANT, &t));
    t->dtype = dtype;
    t->shape = shape;
    t->data = copy;
    t->nbytes = nbytes;
    if (out)
        *out = t;
    return O2P_OK;
}

o2p_status o2p_graph_add_layer(o2p_graph *graph, const char *domain, const char *op_type,
                               const char *name, int num_inputs, o2p_tensor *const *inputs,
                               int num_outputs, o2p_layer **out)
{
    if (!graph || !op_type || !*op_type)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_graph_add_layer: graph or op_type missing");
    if (num_inputs > 0 && !inputs)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_graph_add_layer: inputs is NULL");
    for (int i = 0; i < num_inputs; i++)
        if (inputs[i] && inputs[i]->graph->network != graph->network)
            return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                            "layer '%s': input %d belongs to another network", name ? name : "", i);
    ir_layer *l;
    O2P_TRY(ir_layer_new(graph, domain, op_type, name, num_inputs, num_outputs, &l));
    for (int i = 0; i < num_inputs; i++)
        l->inputs[i] = inputs[i];
    for (int i = 0; i < num_outputs; i++) {
        char tname[512];
        snprintf(tname, sizeof tname, "%s:%d", l->name, i);
        ir_tensor *t;
        O2P_TRY(ir_tensor_new(graph, tname, IR_TENSOR_ACTIVATION, &t));
        t->producer = l;
        l->outputs[i] = t;
    }
    if (out)
        *out = l;
    return O2P_OK;
}

o2p_status o2p_graph_mark_output(o2p_graph *graph, o2p_tensor *tensor)
{
    if (!graph || !tensor)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_graph_mark_output: graph or tensor NULL");
    tensor->is_output = 1;
    return o2p_ptrvec_push(&graph->outputs, tensor);
}

o2p_status o2p_graph_create_subgraph(o2p_graph *parent, const char *name, o2p_graph **out)
{
    if (!parent || !out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_graph_create_subgraph: bad argument");
    *out = ir_graph_new(parent->network, parent, name);
    if (!*out)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating subgraph");
    return O2P_OK;
}

o2p_status o2p_network_infer_shapes(o2p_network *network)
{
    if (!network)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_network_infer_shapes: network is NULL");
    return ir_infer_network(network);
}

int o2p_op_supported(const char *domain, const char *op_type)
{
    return op_type && ir_op_find(domain ? domain : "", op_type) != NULL;
}

const char *o2p_tensor_get_name(const o2p_tensor *tensor) { return tensor ? tensor->name : NULL; }

o2p_status o2p_tensor_set_name(o2p_tensor *tensor, const char *name)
{
    if (!tensor || !name || !*name)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_tensor_set_name: bad argument");
    ir_graph *g = tensor->graph;
    if (o2p_strmap_get(&g->by_name, name))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "tensor name '%s' is already used", name);
    const char *copy = o2p_arena_strdup(&g->network->arena, name);
    if (!copy)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    /* The map keeps the old key pointing at the tensor too; lookups by the old name still
     * work, which is harmless, and the new name is what every report shows. */
    O2P_TRY(o2p_strmap_put(&g->by_name, copy, tensor));
    tensor->name = copy;
    return O2P_OK;
}

o2p_dtype o2p_tensor_get_dtype(const o2p_tensor *tensor)
{
    return tensor ? tensor->dtype : O2P_DTYPE_UNDEFINED;
}
int o2p_tensor_get_rank(const o2p_tensor *tensor)
{
    return tensor ? tensor->shape.rank : O2P_RANK_UNKNOWN;
}
int64_t o2p_tensor_get_dim(const o2p_tensor *tensor, int axis)
{
    if (!tensor || axis < 0 || axis >= tensor->shape.rank)
        return O2P_DIM_UNKNOWN;
    return tensor->shape.dims[axis].value;
}
const char *o2p_tensor_get_dim_name(const o2p_tensor *tensor, int axis)
{
    if (!tensor || axis < 0 || axis >= tensor->shape.rank)
        return NULL;
    return tensor->shape.dims[axis].sym;
}
int o2p_tensor_is_constant(const o2p_tensor *tensor)
{
    return tensor && tensor->kind == IR_TENSOR_CONSTANT;
}
const void *o2p_tensor_get_data(const o2p_tensor *tensor, size_t *nbytes)
{
    if (nbytes)
        *nbytes = tensor && tensor->kind == IR_TENSOR_CONSTANT ? tensor->nbytes : 0;
    return tensor && tensor->kind == IR_TENSOR_CONSTANT ? tensor->data : NULL;
}

o2p_status o2p_tensor_set_shape(o2p_tensor *tensor, int rank, const int64_t *dims)
{
    if (!tensor)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_tensor_set_shape: tensor is NULL");
    if (tensor->kind != IR_TENSOR_INPUT)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "tensor '%s' is not a graph input; only input shapes can be set",
                        tensor->name);
    const ir_shape *old = &tensor->shape;
    if (old->rank >= 0 && old->rank != rank)
        return o2p_fail(O2P_ERR_SHAPE, "input '%s' has rank %d; the shape given has rank %d",
                        tensor->name, old->rank, rank);
    for (int i = 0; old->rank >= 0 && i < rank; i++)
        if (old->dims[i].value >= 0 && dims[i] >= 0 && dims[i] != old->dims[i].value)
            return o2p_fail(O2P_ERR_SHAPE,
                            "input '%s': dimension %d is fixed at %lld by the model; the shape "
                            "given says %lld",
                            tensor->name, i, (long long)old->dims[i].value, (long long)dims[i]);
    ir_shape s;
    ir_shape_unknown(&s);
    O2P_TRY(set_dims(tensor->graph->network, &s, rank, dims, NULL, tensor->name));
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0 && old->rank >= 0)
            s.dims[i] = old->dims[i];
    tensor->shape = s;
    return O2P_OK;
}

o2p_value_kind o2p_tensor_get_value_kind(const o2p_tensor *tensor)
{
    return tensor ? (o2p_value_kind)tensor->vtype : O2P_VALUE_TENSOR;
}

o2p_status o2p_tensor_set_sequence(o2p_tensor *tensor, int count, const int *ranks,
                                   const int64_t *dims)
{
    if (!tensor || count < 0 || (count > 0 && !ranks))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "o2p_tensor_set_sequence: tensor is NULL, count negative or ranks NULL");
    if (tensor->kind != IR_TENSOR_INPUT || (tensor->vtype != IR_VALUE_SEQUENCE &&
                                            tensor->vtype != IR_VALUE_OPTIONAL_SEQUENCE))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "tensor '%s' is not a sequence graph input (nor an optional sequence "
                        "one); set a tensor input's shape with o2p_tensor_set_shape",
                        tensor->name);
    ir_network *net = tensor->graph->network;
    ir_shape *shapes = o2p_arena_array(&net->arena, (size_t)count + 1, sizeof *shapes);
    if (!shapes)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (sequence input '%s')",
                        tensor->name);
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        char what[300];
        snprintf(what, sizeof what, "sequence input '%s', element %d", tensor->name, i);
        O2P_TRY(set_dims(net, &shapes[i], ranks[i], ranks[i] > 0 ? dims + at : NULL, NULL,
                         what));
        for (int k = 0; k < ranks[i]; k++)
            if (dims[at + (size_t)k] < 0)
                return o2p_fail(O2P_ERR_SHAPE, "%s: dimension %d is not known (%lld); a "
                                "sequence's elements need static shapes", what, k,
                                (long long)dims[at + (size_t)k]);
        at += (size_t)ranks[i];
    }
    tensor->seq_shapes = shapes;
    tensor->seq_count = count;
    tensor->seq_given = 1;
    if (tensor->vtype == IR_VALUE_OPTIONAL_SEQUENCE)
        tensor->opt_state = 1;
    return O2P_OK;
}

o2p_status o2p_tensor_set_optional(o2p_tensor *tensor, int present)
{
    if (!tensor)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_tensor_set_optional: tensor is NULL");
    if (tensor->kind != IR_TENSOR_INPUT || (tensor->vtype != IR_VALUE_OPTIONAL &&
                                            tensor->vtype != IR_VALUE_OPTIONAL_SEQUENCE))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "tensor '%s' is not an optional graph input",
                        tensor->name);
    tensor->opt_state = present ? 1 : 2;
    return O2P_OK;
}

void o2p_tensor_format_shape(const o2p_tensor *tensor, char *buf, size_t size)
{
    if (!tensor) {
        if (size)
            buf[0] = '\0';
        return;
    }
    ir_shape_format(&tensor->shape, buf, size);
}

const char *o2p_layer_get_name(const o2p_layer *layer) { return layer ? layer->name : NULL; }
const char *o2p_layer_get_op_type(const o2p_layer *layer) { return layer ? layer->op_type : NULL; }
const char *o2p_layer_get_domain(const o2p_layer *layer) { return layer ? layer->domain : NULL; }
int o2p_layer_num_inputs(const o2p_layer *layer) { return layer ? layer->num_inputs : 0; }
o2p_tensor *o2p_layer_get_input(const o2p_layer *layer, int index)
{
    return layer && index >= 0 && index < layer->num_inputs ? layer->inputs[index] : NULL;
}
int o2p_layer_num_outputs(const o2p_layer *layer) { return layer ? layer->num_outputs : 0; }
o2p_tensor *o2p_layer_get_output(const o2p_layer *layer, int index)
{
    return layer && index >= 0 && index < layer->num_outputs ? layer->outputs[index] : NULL;
}
int o2p_layer_is_supported(const o2p_layer *layer) { return layer && layer->op; }
const char *o2p_layer_get_unsupported_reason(const o2p_layer *layer)
{
    if (!layer || layer->op)
        return NULL;
    return layer->unsupported_reason ? layer->unsupported_reason : "no importer for this op";
}

int o2p_layer_num_attrs(const o2p_layer *layer) { return layer ? layer->num_attrs : 0; }

static const ir_attr *attr_at(const o2p_layer *layer, int index)
{
    return layer && index >= 0 && index < layer->num_attrs ? &layer->attrs[index] : NULL;
}

const char *o2p_layer_attr_name(const o2p_layer *layer, int index)
{
    const ir_attr *a = attr_at(layer, index);
    return a ? a->name : NULL;
}
o2p_attr_type o2p_layer_attr_type(const o2p_layer *layer, int index)
{
    const ir_attr *a = attr_at(layer, index);
    return a ? a->type : O2P_ATTR_UNDEFINED;
}
int o2p_layer_find_attr(const o2p_layer *layer, const char *name)
{
    for (int i = 0; layer && name && i < layer->num_attrs; i++)
        if (strcmp(layer->attrs[i].name, name) == 0)
            return i;
    return -1;
}
int64_t o2p_layer_attr_int(const o2p_layer *layer, int index)
{
    const ir_attr *a = attr_at(layer, index);
    return a ? a->i : 0;
}
float o2p_layer_attr_float(const o2p_layer *layer, int index)
{
    const ir_attr *a = attr_at(layer, index);
    return a ? a->f : 0.0f;
}
const char *o2p_layer_attr_string(const o2p_layer *layer, int index)
{
    const ir_attr *a = attr_at(layer, index);
    return a && a->type == O2P_ATTR_STRING ? a->s : NULL;
}
const char *o2p_layer_attr_strings_at(const o2p_layer *layer, int index, int element)
{
    const ir_attr *a = attr_at(layer, index);
    return a && a->type == O2P_ATTR_STRINGS && a->strings && element >= 0 && element < a->count
               ? a->strings[element]
               : NULL;
}
int o2p_layer_attr_count(const o2p_layer *layer, int index)
{
    const ir_attr *a = attr_at(layer, index);
    return a ? a->count : 0;
}
const int64_t *o2p_layer_attr_ints(const o2p_layer *layer, int index)
{
    const ir_attr *a = attr_at(layer, index);
    return a ? a->ints : NULL;
}
const float *o2p_layer_attr_floats(const o2p_layer *layer, int index)
{
    const ir_attr *a = attr_at(layer, index);
    return a ? a->floats : NULL;
}
o2p_graph *o2p_layer_attr_graph(const o2p_layer *layer, int index, int element)
{
    const ir_attr *a = attr_at(layer, index);
    return a && a->graphs && element >= 0 && element < a->count ? a->graphs[element] : NULL;
}
o2p_tensor *o2p_layer_attr_tensor(const o2p_layer *layer, int index, int element)
{
    const ir_attr *a = attr_at(layer, index);
    return a && a->tensors && element >= 0 && element < a->count ? a->tensors[element] : NULL;
}

static o2p_status attr_new(o2p_layer *layer, const char *name, o2p_attr_type type, ir_attr **a)
{
    if (!layer || !name || !*name)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "setting an attribute: layer or name missing");
    return ir_layer_add_attr(layer, name, type, a);
}

o2p_status o2p_layer_set_attr_int(o2p_layer *layer, const char *name, int64_t value)
{
    ir_attr *a;
    O2P_TRY(attr_new(layer, name, O2P_ATTR_INT, &a));
    a->i = value;
    return O2P_OK;
}

o2p_status o2p_layer_set_attr_float(o2p_layer *layer, const char *name, float value)
{
    ir_attr *a;
    O2P_TRY(attr_new(layer, name, O2P_ATTR_FLOAT, &a));
    a->f = value;
    return O2P_OK;
}

o2p_status o2p_layer_set_attr_string(o2p_layer *layer, const char *name, const char *value)
{
    ir_attr *a;
    O2P_TRY(attr_new(layer, name, O2P_ATTR_STRING, &a));
    a->s = o2p_arena_strdup(&layer->graph->network->arena, value ? value : "");
    a->s_len = value ? strlen(value) : 0;
    return a->s ? O2P_OK : o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
}

o2p_status o2p_layer_set_attr_ints(o2p_layer *layer, const char *name, const int64_t *values,
                                   int count)
{
    ir_attr *a;
    if (count < 0 || (count && !values))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "attribute '%s': bad list", name ? name : "");
    O2P_TRY(attr_new(layer, name, O2P_ATTR_INTS, &a));
    a->count = count;
    a->ints = o2p_arena_array(&layer->graph->network->arena, (size_t)count, sizeof(int64_t));
    if (!a->ints)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    if (count)
        memcpy(a->ints, values, (size_t)count * sizeof(int64_t));
    return O2P_OK;
}

o2p_status o2p_layer_set_attr_floats(o2p_layer *layer, const char *name, const float *values,
                                     int count)
{
    ir_attr *a;
    if (count < 0 || (count && !values))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "attribute '%s': bad list", name ? name : "");
    O2P_TRY(attr_new(layer, name, O2P_ATTR_FLOATS, &a));
    a->count = count;
    a->floats = o2p_arena_array(&layer->graph->network->arena, (size_t)count, sizeof(float));
    if (!a->floats)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    if (count)
        memcpy(a->floats, values, (size_t)count * sizeof(float));
    return O2P_OK;
}

o2p_status o2p_layer_set_attr_strings(o2p_layer *layer, const char *name,
                                      const char *const *values, int count)
{
    ir_attr *a;
    if (count < 0 || (count && !values))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "attribute '%s': bad list", name ? name : "");
    O2P_TRY(attr_new(layer, name, O2P_ATTR_STRINGS, &a));
    o2p_arena *arena = &layer->graph->network->arena;
    a->count = count;
    a->strings = o2p_arena_array(arena, (size_t)count, sizeof(char *));
    if (!a->strings)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < count; i++)
        if (!(a->strings[i] = o2p_arena_strdup(arena, values[i])))
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    return O2P_OK;
}

o2p_status o2p_layer_set_attr_tensor(o2p_layer *layer, const char *name, o2p_tensor *tensor)
{
    ir_attr *a;
    if (!tensor || tensor->kind != IR_TENSOR_CONSTANT)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "attribute '%s': the tensor must be a constant", name ? name : "");
    O2P_TRY(attr_new(layer, name, O2P_ATTR_TENSOR, &a));
    a->count = 1;
    a->tensors = o2p_arena_array(&layer->graph->network->arena, 1, sizeof(ir_tensor *));
    if (!a->tensors)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    a->tensors[0] = tensor;
    return O2P_OK;
}

static o2p_status set_graphs(o2p_layer *layer, const char *name, o2p_attr_type type,
                             o2p_graph *const *graphs, int count)
{
    ir_attr *a;
    if (!layer)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "setting attribute '%s': layer is NULL",
                        name ? name : "");
    if (count < 0 || (count && !graphs))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "attribute '%s': bad list", name ? name : "");
    for (int i = 0; i < count; i++)
        if (!graphs[i] || graphs[i]->parent != layer->graph)
            return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                            "attribute '%s': graph %d was not created as a subgraph of layer "
                            "'%s''s graph", name, i, layer->name);
    O2P_TRY(attr_new(layer, name, type, &a));
    a->count = count;
    a->graphs = o2p_arena_array(&layer->graph->network->arena, (size_t)count, sizeof(ir_graph *));
    if (!a->graphs)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < count; i++) {
        a->graphs[i] = graphs[i];
        graphs[i]->owner = layer;
    }
    return O2P_OK;
}

o2p_status o2p_layer_set_attr_graphs(o2p_layer *layer, const char *name,
                                     o2p_graph *const *graphs, int count)
{
    return set_graphs(layer, name, O2P_ATTR_GRAPHS, graphs, count);
}

o2p_status o2p_layer_set_attr_graph(o2p_layer *layer, const char *name, o2p_graph *graph)
{
    return set_graphs(layer, name, O2P_ATTR_GRAPH, &graph, 1);
}
