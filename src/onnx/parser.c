/* parser.c: the ONNX parser: ModelProto (protobuf-c) → network IR, and the o2p_parser API.
 * Each node becomes a layer of the same (domain, op type); Constant nodes and initializers
 * become constant tensors; If/Loop/Scan bodies become nested graphs. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx.h"
#include "onnx.pb-c.h"
#include "o2p/plugin.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "onnx2plan reads ONNX raw_data as little-endian and needs a little-endian host"
#endif

struct o2p_parser {
    ir_network *net;
    unsigned flags;
    int used;
    o2p_ptrvec unsupported; /* ir_layer* */
    o2p_plugin_registry *registry;
    o2p_ptrvec plugin_libraries; /* const char*, each once */
    onnx_limits limits;
};

static const onnx_limits default_limits = {ONNX_MAX_NODES, ONNX_MAX_WEIGHT_BYTES,
                                           ONNX_MAX_STRING_BYTES};

typedef struct parse_ctx {
    o2p_parser *parser;
    ir_network *net;
    const char *what;     /* file name (or caller's name) for messages */
    const char *base_dir; /* folder for external data, or NULL */
    onnx_limits limits;
    uint64_t weight_bytes; /* tensor data read so far, for limits.weight_bytes */
} parse_ctx;

#define S(x) ((x) ? (x) : "")

static o2p_status convert_graph(parse_ctx *pc, const Onnx__GraphProto *gp, ir_graph *g);

/* ---------------------------------------------------------------- tensors */

/* Counts nbytes of tensor data against the model's weight limit, before they are read or
 * allocated. */
static o2p_status charge_weights(parse_ctx *pc, uint64_t nbytes, const char *what)
{
    uint64_t limit = pc->limits.weight_bytes;
    if (pc->weight_bytes > limit || nbytes > limit - pc->weight_bytes)
        return o2p_fail(O2P_ERR_LIMIT,
                        "%s: its %llu bytes of data after %llu bytes of earlier tensors are "
                        "over the limit of %llu bytes of weights per model (initializers, "
                        "Constant values, tensor attributes and external data together; "
                        "loader limit O2P_PARSER_LIMIT_WEIGHT_BYTES); raise it with "
                        "o2p_parser_set_limit(parser, O2P_PARSER_LIMIT_WEIGHT_BYTES, bytes)",
                        what, (unsigned long long)nbytes, (unsigned long long)pc->weight_bytes,
                        (unsigned long long)limit);
    pc->weight_bytes += nbytes;
    return O2P_OK;
}

static int known_dtype(int32_t t)
{
    return t >= O2P_DTYPE_FLOAT && t <= O2P_DTYPE_BFLOAT16 && t != O2P_DTYPE_STRING;
}

/* Fills t (dtype, shape, data) from a TensorProto; `what` names it in messages. */
static o2p_status convert_tensor(parse_ctx *pc, const Onnx__TensorProto *tp, ir_tensor *t,
                                 const char *what)
{
    int32_t dt = tp->data_type;
    if (dt == O2P_DTYPE_STRING)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "%s: string tensors are not supported (onnx2plan compiles numeric "
                        "tensors only)", what);
    if (!known_dtype(dt))
        return o2p_fail(O2P_ERR_PARSE, "%s: unknown or missing element type %d", what, (int)dt);
    if (tp->segment)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "%s: segmented tensors are not supported", what);
    if (tp->n_dims > IR_MAX_RANK)
        return o2p_fail(O2P_ERR_LIMIT, "%s: rank %zu is more than the limit of %d "
                        "(O2P_MAX_RANK, a fixed loader limit: see docs/limits.md)", what,
                        tp->n_dims, IR_MAX_RANK);
    t->dtype = (o2p_dtype)dt;
    t->shape.rank = (int)tp->n_dims;
    int64_t numel = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0)
            return o2p_fail(O2P_ERR_PARSE, "%s: dimension %zu is negative (%lld)", what, i,
                            (long long)tp->dims[i]);
        if (!o2p_mul_i64(numel, tp->dims[i], &numel))
            return o2p_fail(O2P_ERR_LIMIT, "%s: element count overflows 64 bits", what);
        t->shape.dims[i].value = tp->dims[i];
    }
    size_t es = ir_dtype_size(t->dtype);
    size_t nbytes;
    if ((uint64_t)numel > SIZE_MAX || !o2p_mul_size((size_t)numel, es, &nbytes) ||
        nbytes > (SIZE_MAX >> 2))
        return o2p_fail(O2P_ERR_LIMIT, "%s: %lld elements of %s do not fit in memory", what,
                        (long long)numel, o2p_dtype_name(t->dtype));

    int external = tp->has_data_location &&
                   tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    /* Which typed field the type uses, and how many entries per element. */
    size_t n_field = 0;
    const char *field = NULL;
    size_t per = 1;
    switch (t->dtype) {
    case O2P_DTYPE_FLOAT: n_field = tp->n_float_data; field = "float_data"; break;
    case O2P_DTYPE_COMPLEX64: n_field = tp->n_float_data; field = "float_data"; per = 2; break;
    case O2P_DTYPE_DOUBLE: n_field = tp->n_double_data; field = "double_data"; break;
    case O2P_DTYPE_COMPLEX128: n_field = tp->n_double_data; field = "double_data"; per = 2; break;
    case O2P_DTYPE_INT64: n_field = tp->n_int64_data; field = "int64_data"; break;
    case O2P_DTYPE_UINT32: case O2P_DTYPE_UINT64:
        n_field = tp->n_uint64_data; field = "uint64_data"; break;
    default: n_field = tp->n_int32_data; field = "int32_data"; break;
    }
    /* Entries in fields the type does not use are a sign of a broken file. */
    size_t stray = tp->n_float_data + tp->n_double_data + tp->n_int64_data + tp->n_uint64_data +
                   tp->n_int32_data + tp->n_string_data - n_field;
    if (stray)
        return o2p_fail(O2P_ERR_PARSE, "%s: a %s tensor has data in fields other than %s", what,
                        o2p_dtype_name(t->dtype), field);

    /* Every size claim is checked against the data actually present before anything is
     * allocated: a few bytes of model must not make us reserve terabytes. */
    int sources = (external != 0) + (tp->has_raw_data != 0) + (n_field != 0);
    if (sources > 1)
        return o2p_fail(O2P_ERR_PARSE, "%s: data given more than once (raw_data, %s, external)",
                        what, field);
    if (external) {
        void *ext;
        O2P_TRY(charge_weights(pc, nbytes, what));
        O2P_TRY(onnx_read_external(pc->base_dir, tp, what, nbytes, pc->net, &ext));
        t->data = ext;
        t->nbytes = nbytes;
        return O2P_OK;
    }
    if (tp->has_raw_data) {
        if (tp->raw_data.len != nbytes)
            return o2p_fail(O2P_ERR_PARSE,
                            "%s: raw_data holds %zu bytes but %lld elements of %s need %zu", what,
                            tp->raw_data.len, (long long)numel, o2p_dtype_name(t->dtype), nbytes);
    } else {
        size_t want;
        if (!o2p_mul_size((size_t)numel, per, &want) || n_field != want) {
            if (n_field == 0 && numel > 0)
                return o2p_fail(O2P_ERR_PARSE, "%s: has %lld elements but no data", what,
                                (long long)numel);
            return o2p_fail(O2P_ERR_PARSE, "%s: %s has %zu entries but the shape needs %zu",
                            what, field, n_field, want);
        }
    }
    O2P_TRY(charge_weights(pc, nbytes, what));
    void *data = ir_network_alloc_data(pc->net, nbytes);
    if (!data)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%s: out of memory for %zu bytes of data", what,
                        nbytes);
    t->data = data;
    t->nbytes = nbytes;
    if (tp->has_raw_data) {
        if (nbytes)
            memcpy(data, tp->raw_data.data, nbytes);
        return O2P_OK;
    }
    unsigned char *out = data;
    for (size_t i = 0; i < n_field; i++) {
        switch (t->dtype) {
        case O2P_DTYPE_FLOAT: case O2P_DTYPE_COMPLEX64:
            memcpy(out + 4 * i, &tp->float_data[i], 4); break;
        case O2P_DTYPE_DOUBLE: case O2P_DTYPE_COMPLEX128:
            memcpy(out + 8 * i, &tp->double_data[i], 8); break;
        case O2P_DTYPE_INT64: memcpy(out + 8 * i, &tp->int64_data[i], 8); break;
        case O2P_DTYPE_UINT64: memcpy(out + 8 * i, &tp->uint64_data[i], 8); break;
        case O2P_DTYPE_UINT32: {
            if (tp->uint64_data[i] > UINT32_MAX)
                return o2p_fail(O2P_ERR_PARSE, "%s: element %zu does not fit in uint32", what, i);
            uint32_t v = (uint32_t)tp->uint64_data[i];
            memcpy(out + 4 * i, &v, 4);
            break;
        }
        case O2P_DTYPE_INT32: memcpy(out + 4 * i, &tp->int32_data[i], 4); break;
        case O2P_DTYPE_INT16: case O2P_DTYPE_UINT16: case O2P_DTYPE_FLOAT16:
        case O2P_DTYPE_BFLOAT16: {
            /* int32_data holds the value (int16/uint16) or the bit pattern (half types) */
            uint16_t v = (uint16_t)tp->int32_data[i];
            memcpy(out + 2 * i, &v, 2);
            break;
        }
        case O2P_DTYPE_INT8: case O2P_DTYPE_UINT8: out[i] = (uint8_t)tp->int32_data[i]; break;
        case O2P_DTYPE_BOOL: out[i] = tp->int32_data[i] != 0; break;
        default:
            return o2p_fail(O2P_ERR_INTERNAL, "%s: unhandled element type", what);
        }
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- value info */

/* The tensor type inside a sequence or optional type (sequence(tensor), optional(tensor),
 * optional(sequence(tensor))) and which of those it is; NULL for any other type (maps,
 * sequences of sequences), which keep an undefined dtype: nothing can be built from them. */
static const Onnx__TypeProto *unwrap_type(const Onnx__TypeProto *tp, ir_value_type *vtype)
{
    *vtype = IR_VALUE_TENSOR;
    if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE && tp->optional_type) {
        const Onnx__TypeProto *inner = tp->optional_type->elem_type;
        *vtype = IR_VALUE_OPTIONAL;
        if (inner && inner->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE &&
            inner->sequence_type) {
            *vtype = IR_VALUE_OPTIONAL_SEQUENCE;
            inner = inner->sequence_type->elem_type;
        }
        return inner;
    }
    if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE && tp->sequence_type) {
        *vtype = IR_VALUE_SEQUENCE;
        return tp->sequence_type->elem_type;
    }
    return tp;
}

/* Reads a TypeProto into a value type, dtype and shape: a sequence's or optional's are those
 * of the tensors it holds. Map types give an undefined dtype and unknown shape; the ops
 * that use them have no importer and say so. */
static o2p_status convert_type(parse_ctx *pc, const Onnx__TypeProto *tp, ir_value_type *vtype,
                               o2p_dtype *dtype, ir_shape *shape, const char *what)
{
    *dtype = O2P_DTYPE_UNDEFINED;
    ir_shape_unknown(shape);
    tp = unwrap_type(tp, vtype);
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return O2P_OK;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type && tt->elem_type != 0) {
        /* String inputs and outputs are kept so the model loads and its string ops are
         * reported; no layer that touches them can be imported. */
        if (tt->elem_type != O2P_DTYPE_STRING && !known_dtype(tt->elem_type))
            return o2p_fail(O2P_ERR_PARSE, "%s: unknown element type %d", what,
                            (int)tt->elem_type);
        *dtype = (o2p_dtype)tt->elem_type;
    }
    if (!tt->shape)
        return O2P_OK;
    if (tt->shape->n_dim > IR_MAX_RANK)
        return o2p_fail(O2P_ERR_LIMIT, "%s: rank %zu is more than the limit of %d "
                        "(O2P_MAX_RANK, a fixed loader limit: see docs/limits.md)", what,
                        tt->shape->n_dim, IR_MAX_RANK);
    shape->rank = (int)tt->shape->n_dim;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        shape->dims[i] = IR_DIM_UNKNOWN;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0)
                return o2p_fail(O2P_ERR_PARSE, "%s: dimension %zu is negative (%lld)", what, i,
                                (long long)d->dim_value);
            shape->dims[i].value = d->dim_value;
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                   d->dim_param && *d->dim_param) {
            if (!(shape->dims[i].sym = o2p_arena_strdup(&pc->net->arena, d->dim_param)))
                return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        }
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- attributes */

static o2p_status make_attr_tensor(parse_ctx *pc, ir_graph *g, const Onnx__TensorProto *tp,
                                   const char *what, ir_tensor **out)
{
    O2P_TRY(ir_tensor_new_anonymous(g, S(tp->name), out));
    return convert_tensor(pc, tp, *out, what);
}

/* The attribute's kind: its `type`, or for old files without one, the field that is set. */
static o2p_attr_type attr_kind(const Onnx__AttributeProto *ap)
{
    if (ap->has_type && ap->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
        return (o2p_attr_type)ap->type;
    if (ap->has_f) return O2P_ATTR_FLOAT;
    if (ap->has_i) return O2P_ATTR_INT;
    if (ap->has_s) return O2P_ATTR_STRING;
    if (ap->t) return O2P_ATTR_TENSOR;
    if (ap->g) return O2P_ATTR_GRAPH;
    if (ap->n_floats) return O2P_ATTR_FLOATS;
    if (ap->n_ints) return O2P_ATTR_INTS;
    if (ap->n_strings) return O2P_ATTR_STRINGS;
    if (ap->n_tensors) return O2P_ATTR_TENSORS;
    if (ap->n_graphs) return O2P_ATTR_GRAPHS;
    return O2P_ATTR_UNDEFINED;
}

static o2p_status convert_attr(parse_ctx *pc, ir_layer *l, const Onnx__AttributeProto *ap,
                               const char *node_desc)
{
    o2p_arena *arena = &pc->net->arena;
    char what[768];
    if (!ap->name || !*ap->name)
        return o2p_fail(O2P_ERR_PARSE, "%s: an attribute has no name", node_desc);
    if (ap->ref_attr_name && *ap->ref_attr_name)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "%s: attribute '%s' refers to a function attribute ('%s'), which only "
                        "functions may do", node_desc, ap->name, ap->ref_attr_name);
    snprintf(what, sizeof what, "%s, attribute '%s'", node_desc, ap->name);
    o2p_attr_type kind = attr_kind(ap);
    ir_attr *a;
    O2P_TRY(ir_layer_add_attr(l, ap->name, kind, &a));
    switch (kind) {
    case O2P_ATTR_FLOAT: a->f = ap->f; break;
    case O2P_ATTR_INT: a->i = ap->i; break;
    case O2P_ATTR_STRING:
        a->s = o2p_arena_strndup(arena, (const char *)ap->s.data, ap->s.len);
        a->s_len = ap->s.len;
        if (!a->s)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        break;
    case O2P_ATTR_TENSOR:
        if (!ap->t)
            return o2p_fail(O2P_ERR_PARSE, "%s: a TENSOR attribute without a tensor", what);
        a->count = 1;
        if (!(a->tensors = o2p_arena_array(arena, 1, sizeof(ir_tensor *))))
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        O2P_TRY(make_attr_tensor(pc, l->graph, ap->t, what, &a->tensors[0]));
        break;
    case O2P_ATTR_GRAPH:
    case O2P_ATTR_GRAPHS: {
        size_t n = kind == O2P_ATTR_GRAPH ? (ap->g ? 1 : 0) : ap->n_graphs;
        if (kind == O2P_ATTR_GRAPH && !ap->g)
            return o2p_fail(O2P_ERR_PARSE, "%s: a GRAPH attribute without a graph", what);
        a->count = (int)n;
        if (!(a->graphs = o2p_arena_array(arena, n, sizeof(ir_graph *))))
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        for (size_t k = 0; k < n; k++) {
            const Onnx__GraphProto *gp = kind == O2P_ATTR_GRAPH ? ap->g : ap->graphs[k];
            ir_graph *sub = ir_graph_new(pc->net, l->graph,
                                         gp->name && *gp->name ? gp->name : ap->name);
            if (!sub)
                return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
            sub->owner = l;
            a->graphs[k] = sub;
            O2P_TRY(convert_graph(pc, gp, sub));
        }
        break;
    }
    case O2P_ATTR_FLOATS:
        a->count = (int)ap->n_floats;
        if (ap->n_floats > INT32_MAX ||
            !(a->floats = o2p_arena_array(arena, ap->n_floats, sizeof(float))))
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        if (ap->n_floats)
            memcpy(a->floats, ap->floats, ap->n_floats * sizeof(float));
        break;
    case O2P_ATTR_INTS:
        a->count = (int)ap->n_ints;
        if (ap->n_ints > INT32_MAX ||
            !(a->ints = o2p_arena_array(arena, ap->n_ints, sizeof(int64_t))))
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        if (ap->n_ints)
            memcpy(a->ints, ap->ints, ap->n_ints * sizeof(int64_t));
        break;
    case O2P_ATTR_STRINGS:
        a->count = (int)ap->n_strings;
        if (ap->n_strings > INT32_MAX ||
            !(a->strings = o2p_arena_array(arena, ap->n_strings, sizeof(char *))))
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        for (size_t k = 0; k < ap->n_strings; k++)
            if (!(a->strings[k] = o2p_arena_strndup(arena, (const char *)ap->strings[k].data,
                                                    ap->strings[k].len)))
                return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        break;
    case O2P_ATTR_TENSORS:
        a->count = (int)ap->n_tensors;
        if (ap->n_tensors > INT32_MAX ||
            !(a->tensors = o2p_arena_array(arena, ap->n_tensors, sizeof(ir_tensor *))))
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        for (size_t k = 0; k < ap->n_tensors; k++)
            O2P_TRY(make_attr_tensor(pc, l->graph, ap->tensors[k], what, &a->tensors[k]));
        break;
    case O2P_ATTR_SPARSE_TENSOR:
    case O2P_ATTR_SPARSE_TENSORS:
    case O2P_ATTR_TYPE_PROTO:
    case O2P_ATTR_TYPE_PROTOS:
        /* Kept by kind only: no importer reads these yet, and one that needs them must say
         * it is unsupported. */
        break;
    default:
        return o2p_fail(O2P_ERR_PARSE, "%s: unknown attribute type %d", what, (int)kind);
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- nodes */

static void describe_node(char *buf, size_t size, const parse_ctx *pc, const ir_graph *g,
                          const Onnx__NodeProto *np, size_t index)
{
    const char *dom = S(np->domain);
    if (g->parent)
        snprintf(buf, size, "%s: node '%s' (#%zu, %s%s%s) in subgraph '%s'", pc->what,
                 S(np->name), index, dom, *dom ? "." : "", S(np->op_type), g->name);
    else
        snprintf(buf, size, "%s: node '%s' (#%zu, %s%s%s)", pc->what, S(np->name), index, dom,
                 *dom ? "." : "", S(np->op_type));
}

/* A Constant node becomes a constant tensor named after its output. */
static o2p_status convert_constant_node(parse_ctx *pc, ir_graph *g, const Onnx__NodeProto *np,
                                        const char *desc)
{
    if (np->n_output != 1 || !np->output[0] || !*np->output[0])
        return o2p_fail(O2P_ERR_PARSE, "%s: a Constant node must have exactly one output", desc);
    if (np->n_attribute != 1)
        return o2p_fail(O2P_ERR_PARSE, "%s: a Constant node must have exactly one attribute, "
                        "it has %zu", desc, np->n_attribute);
    const Onnx__AttributeProto *ap = np->attribute[0];
    const char *an = S(ap->name);
    ir_tensor *t;
    O2P_TRY(ir_tensor_new(g, np->output[0], IR_TENSOR_CONSTANT, &t));
    if (strcmp(an, "value") == 0) {
        if (!ap->t)
            return o2p_fail(O2P_ERR_PARSE, "%s: attribute 'value' holds no tensor", desc);
        return convert_tensor(pc, ap->t, t, desc);
    }
    if (strcmp(an, "sparse_value") == 0 || strcmp(an, "value_string") == 0 ||
        strcmp(an, "value_strings") == 0)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "%s: Constant with '%s' is not supported (string "
                        "and sparse constants)", desc, an);
    int is_list = strcmp(an, "value_floats") == 0 || strcmp(an, "value_ints") == 0;
    int is_float = strcmp(an, "value_float") == 0 || strcmp(an, "value_floats") == 0;
    if (!is_float && strcmp(an, "value_int") != 0 && strcmp(an, "value_ints") != 0)
        return o2p_fail(O2P_ERR_PARSE, "%s: unknown Constant attribute '%s'", desc, an);
    size_t n = is_list ? (is_float ? ap->n_floats : ap->n_ints) : 1;
    size_t es = is_float ? 4 : 8;
    t->dtype = is_float ? O2P_DTYPE_FLOAT : O2P_DTYPE_INT64;
    t->shape.rank = is_list ? 1 : 0;
    if (is_list)
        t->shape.dims[0].value = (int64_t)n;
    O2P_TRY(charge_weights(pc, (uint64_t)n * es, desc));
    void *data = ir_network_alloc_data(pc->net, n * es);
    if (!data)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    if (is_list && n)
        memcpy(data, is_float ? (const void *)ap->floats : (const void *)ap->ints, n * es);
    else if (!is_list && is_float)
        memcpy(data, &ap->f, 4);
    else if (!is_list)
        memcpy(data, &ap->i, 8);
    t->data = data;
    t->nbytes = n * es;
    return O2P_OK;
}

static int is_constant_node(const Onnx__NodeProto *np)
{
    const char *dom = S(np->domain);
    return strcmp(S(np->op_type), "Constant") == 0 && (!*dom || strcmp(dom, "ai.onnx") == 0);
}

/* Pass 1 for one node: the layer (or constant) and its output tensors, so that pass 2 can
 * resolve inputs whatever order the nodes come in. */
static o2p_status declare_node(parse_ctx *pc, ir_graph *g, const Onnx__NodeProto *np,
                               size_t index, ir_layer **out)
{
    char desc[1024];
    describe_node(desc, sizeof desc, pc, g, np, index);
    *out = NULL;
    if (!np->op_type || !*np->op_type)
        return o2p_fail(O2P_ERR_PARSE, "%s: the node has no op_type", desc);
    if (is_constant_node(np))
        return convert_constant_node(pc, g, np, desc);
    if (np->n_input > INT32_MAX || np->n_output > INT32_MAX)
        return o2p_fail(O2P_ERR_LIMIT, "%s: too many inputs or outputs", desc);
    ir_layer *l;
    O2P_TRY(ir_layer_new(g, np->domain, np->op_type, np->name && *np->name ? np->name : NULL,
                         (int)np->n_input, (int)np->n_output, &l));
    int plugin_instancenorm = strcmp(l->op_type, "InstanceNormalization") == 0 &&
                              !*l->domain &&
                              !(pc->parser->flags & (1u << O2P_PARSER_FLAG_NATIVE_INSTANCENORM));
    /* RoiAlign runs as a plugin, as TensorRT maps it to its version-compatible plugin
     * library (onnx2plan infers its shapes natively but has no kernel of its own). */
    int plugin_preferred = strcmp(l->op_type, "RoiAlign") == 0 && !*l->domain;
    if (!l->op || plugin_instancenorm || plugin_preferred) {
        /* No native importer (or the plugin InstanceNormalization asked for): a registered
         * plugin of the same (domain, op type) implements the node. */
        const char *library = NULL;
        const o2p_plugin_creator *c =
            ir_plugin_find(pc->parser->registry ? pc->parser->registry
                                                : o2p_default_plugin_registry(),
                           l->domain, l->op_type, &library);
        if (c) {
            l->op = ir_plugin_op();
            l->plugin = c;
            l->plugin_library = library;
        } else if (plugin_instancenorm) {
            l->op = NULL;
            l->unsupported_reason = "the InstanceNormalization plugin is not registered (the "
                                    "bundled plugin library libo2p_plugins.so was not found); "
                                    "set O2P_PARSER_FLAG_NATIVE_INSTANCENORM for the native "
                                    "layer";
        }
    }
    for (size_t k = 0; k < np->n_output; k++) {
        const char *name = np->output[k];
        if (!name || !*name)
            continue; /* an omitted optional output */
        ir_tensor *t;
        o2p_status st = ir_tensor_new(g, name, IR_TENSOR_ACTIVATION, &t);
        if (st != O2P_OK) {
            o2p_error_prefix("%s", desc);
            return st;
        }
        t->producer = l;
        l->outputs[k] = t;
    }
    *out = l;
    return O2P_OK;
}

/* A plugin sees fields, not the opset: where an opset changed a default, the parser writes
 * the opset's value out. RoiAlign before opset 16 meant output_half_pixel coordinates. */
static o2p_status pin_opset_defaults(parse_ctx *pc, ir_layer *l)
{
    if (!l->plugin || *l->domain || strcmp(l->op_type, "RoiAlign") != 0 ||
        ir_network_opset(pc->net, "") >= 16 || ir_attr_find(l, "coordinate_transformation_mode"))
        return O2P_OK;
    ir_attr *a;
    O2P_TRY(ir_layer_add_attr(l, "coordinate_transformation_mode", O2P_ATTR_STRING, &a));
    a->s = "output_half_pixel";
    a->s_len = strlen(a->s);
    return O2P_OK;
}

static o2p_status connect_node(parse_ctx *pc, ir_graph *g, const Onnx__NodeProto *np,
                               size_t index, ir_layer *l)
{
    char desc[1024];
    describe_node(desc, sizeof desc, pc, g, np, index);
    for (size_t k = 0; k < np->n_input; k++) {
        const char *name = np->input[k];
        if (!name || !*name)
            continue;
        ir_tensor *t = ir_graph_find(g, name);
        if (!t)
            return o2p_fail(O2P_ERR_PARSE,
                            "%s: input %zu '%s' is not a graph input, an initializer or the "
                            "output of any node", desc, k, name);
        l->inputs[k] = t;
    }
    for (size_t k = 0; k < np->n_attribute; k++)
        O2P_TRY(convert_attr(pc, l, np->attribute[k], desc));
    return pin_opset_defaults(pc, l);
}

/* ---------------------------------------------------------------- graphs */

static o2p_status convert_graph(parse_ctx *pc, const Onnx__GraphProto *gp, ir_graph *g)
{
    char what[1024];
    if (gp->n_sparse_initializer)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "%s: graph '%s' has sparse initializers, which are "
                        "not supported", pc->what, S(gp->name));
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        snprintf(what, sizeof what, "%s: initializer '%s'", pc->what, S(tp->name));
        ir_tensor *t;
        O2P_TRY(ir_tensor_new(g, S(tp->name), IR_TENSOR_CONSTANT, &t));
        O2P_TRY(convert_tensor(pc, tp, t, what));
    }
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        snprintf(what, sizeof what, "%s: graph input '%s'", pc->what, S(vi->name));
        ir_tensor *t = o2p_strmap_get(&g->by_name, S(vi->name));
        if (t && t->kind == IR_TENSOR_CONSTANT)
            continue; /* IR < 4 lists initializers among the inputs: they stay constants */
        O2P_TRY(ir_tensor_new(g, S(vi->name), IR_TENSOR_INPUT, &t));
        O2P_TRY(convert_type(pc, vi->type, &t->vtype, &t->dtype, &t->shape, what));
    }
    ir_layer **layers = NULL;
    if (gp->n_node) {
        layers = calloc(gp->n_node, sizeof *layers);
        if (!layers)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    }
    o2p_status st = O2P_OK;
    for (size_t i = 0; i < gp->n_node && st == O2P_OK; i++)
        st = declare_node(pc, g, gp->node[i], i, &layers[i]);
    for (size_t i = 0; i < gp->n_node && st == O2P_OK; i++)
        if (layers[i])
            st = connect_node(pc, g, gp->node[i], i, layers[i]);
    free(layers);
    O2P_TRY(st);
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        snprintf(what, sizeof what, "%s: graph output '%s'", pc->what, S(vi->name));
        ir_tensor *t = o2p_strmap_get(&g->by_name, S(vi->name));
        if (!t && g->parent)
            t = ir_graph_find(g, S(vi->name)); /* a body may pass an outer tensor through */
        if (!t)
            return o2p_fail(O2P_ERR_PARSE, "%s is not produced by any node, input or "
                            "initializer", what);
        O2P_TRY(o2p_ptrvec_push(&g->outputs, t));
        t->is_output = 1;
        if (vi->type) {
            ir_value_type vtype;
            t->has_declared = 1;
            O2P_TRY(convert_type(pc, vi->type, &vtype, &t->declared_dtype, &t->declared_shape,
                                 what));
            /* an output's kind is what the model declares (sequence inference sets it too) */
            if (t->kind == IR_TENSOR_ACTIVATION)
                t->vtype = vtype;
        }
    }
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = gp->value_info[i];
        ir_tensor *t = o2p_strmap_get(&g->by_name, S(vi->name));
        if (!t || !vi->type || t->kind != IR_TENSOR_ACTIVATION)
            continue;
        snprintf(what, sizeof what, "%s: value_info '%s'", pc->what, S(vi->name));
        ir_value_type vtype;
        t->has_declared = 1;
        O2P_TRY(convert_type(pc, vi->type, &vtype, &t->declared_dtype, &t->declared_shape,
                             what));
    }
    return O2P_OK;
}

static int touches_strings(const ir_layer *l)
{
    for (int k = 0; k < l->num_inputs; k++)
        if (l->inputs[k] && (l->inputs[k]->dtype == O2P_DTYPE_STRING ||
                             l->inputs[k]->declared_dtype == O2P_DTYPE_STRING))
            return 1;
    for (int k = 0; k < l->num_outputs; k++)
        if (l->outputs[k] && l->outputs[k]->declared_dtype == O2P_DTYPE_STRING)
            return 1;
    return (strcmp(l->op_type, "Cast") == 0 && ir_attr_int(l, "to", 0) == O2P_DTYPE_STRING);
}

static o2p_status note_plugin_library(o2p_parser *p, const char *library)
{
    for (int i = 0; i < p->plugin_libraries.count; i++)
        if (strcmp(p->plugin_libraries.items[i], library) == 0)
            return O2P_OK;
    return o2p_ptrvec_push(&p->plugin_libraries, (void *)library);
}

static o2p_status collect_unsupported(o2p_parser *p, const ir_graph *g)
{
    for (int i = 0; i < g->layers.count; i++) {
        ir_layer *l = g->layers.items[i];
        if (l->plugin && l->plugin_library)
            O2P_TRY(note_plugin_library(p, l->plugin_library));
        if (l->op && touches_strings(l)) {
            l->op = NULL;
            l->unsupported_reason = "string tensors are not supported (onnx2plan compiles "
                                    "numeric tensors only)";
        }
        if (!l->op)
            O2P_TRY(o2p_ptrvec_push(&p->unsupported, l));
        for (int a = 0; a < l->num_attrs; a++)
            for (int k = 0; l->attrs[a].graphs && k < l->attrs[a].count; k++)
                O2P_TRY(collect_unsupported(p, l->attrs[a].graphs[k]));
    }
    return O2P_OK;
}

static o2p_status convert_model(parse_ctx *pc, const Onnx__ModelProto *mp)
{
    ir_network *net = pc->net;
    o2p_arena *arena = &net->arena;
    net->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    net->model_version = mp->has_model_version ? mp->model_version : 0;
    if (!mp->graph)
        return o2p_fail(O2P_ERR_PARSE, "%s: the model has no graph (is this an ONNX model?)",
                        pc->what);
    const char *info[5] = {mp->producer_name, mp->producer_version, mp->domain, mp->doc_string,
                           mp->graph->name};
    for (int i = 0; i < 5; i++)
        if (!(net->info[i] = o2p_arena_strdup(arena, S(info[i]))))
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    if (*net->info[O2P_INFO_GRAPH_NAME])
        net->main->name = net->info[O2P_INFO_GRAPH_NAME];
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        char *k = o2p_arena_strdup(arena, S(mp->metadata_props[i]->key));
        char *v = o2p_arena_strdup(arena, S(mp->metadata_props[i]->value));
        if (!k || !v)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        O2P_TRY(o2p_ptrvec_push(&net->metadata, k));
        O2P_TRY(o2p_ptrvec_push(&net->metadata, v));
    }
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (!o->has_version || o->version < 1)
            return o2p_fail(O2P_ERR_PARSE, "%s: opset import for domain '%s' has no valid "
                            "version", pc->what, S(o->domain));
        O2P_TRY(ir_network_add_opset(net, S(o->domain), o->version));
    }
    if (mp->n_opset_import == 0) {
        /* IR version 1 and 2 models have no opset imports and mean opset 1. */
        if (net->ir_version >= 3)
            return o2p_fail(O2P_ERR_PARSE, "%s: the model imports no opset (IR version %lld "
                            "requires opset_import)", pc->what, (long long)net->ir_version);
        O2P_TRY(ir_network_add_opset(net, "", 1));
    }
    int64_t opset = ir_network_opset(net, "");
    if (opset > o2p_max_opset())
        o2p_log(O2P_SEVERITY_WARNING, "%s: the model uses opset %lld; onnx2plan knows opsets up "
                "to %lld and reads newer ones with the rules of %lld", pc->what,
                (long long)opset, (long long)o2p_max_opset(), (long long)o2p_max_opset());
    if (mp->n_functions)
        o2p_log(O2P_SEVERITY_WARNING, "%s: the model defines %zu local functions; nodes that "
                "call them are reported as ops without an importer", pc->what, mp->n_functions);
    return convert_graph(pc, mp->graph, net->main);
}

o2p_status onnx_load_tensor_proto(ir_network *net, ir_tensor *t, const void *bytes, size_t size,
                                  const char *what)
{
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, bytes);
    if (!tp)
        return o2p_fail(O2P_ERR_PARSE, "%s: not a valid TensorProto", what);
    ir_tensor tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.name = t->name;
    parse_ctx pc = {NULL, net, what, NULL, default_limits, 0};
    o2p_status st = convert_tensor(&pc, tp, &tmp, what);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    if (st == O2P_OK)
        st = ir_tensor_make_constant(t, tmp.dtype, &tmp.shape, tmp.data, tmp.nbytes);
    return st;
}

/* ---------------------------------------------------------------- API */

o2p_status o2p_parser_create(o2p_network *network, o2p_parser **out)
{
    if (!network || !out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_parser_create: network or out is NULL");
    o2p_parser *p = calloc(1, sizeof *p);
    if (!p)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating a parser");
    p->net = network;
    p->limits = default_limits;
    *out = p;
    return O2P_OK;
}

void o2p_parser_destroy(o2p_parser *parser)
{
    if (!parser)
        return;
    o2p_ptrvec_free(&parser->unsupported);
    o2p_ptrvec_free(&parser->plugin_libraries);
    free(parser);
}

o2p_status o2p_parser_set_flag(o2p_parser *parser, o2p_parser_flag flag, int on)
{
    if (!parser || (unsigned)flag > O2P_PARSER_FLAG_NATIVE_INSTANCENORM)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_parser_set_flag: bad parser or flag %d",
                        (int)flag);
    if (on)
        parser->flags |= 1u << flag;
    else
        parser->flags &= ~(1u << flag);
    return O2P_OK;
}

int o2p_parser_get_flag(const o2p_parser *parser, o2p_parser_flag flag)
{
    return parser && (unsigned)flag <= O2P_PARSER_FLAG_NATIVE_INSTANCENORM &&
           (parser->flags >> flag) & 1u;
}

o2p_status o2p_parser_set_limit(o2p_parser *parser, o2p_parser_limit limit, uint64_t value)
{
    if (!parser)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_parser_set_limit: parser is NULL");
    switch (limit) {
    case O2P_PARSER_LIMIT_NODES: parser->limits.nodes = value; return O2P_OK;
    case O2P_PARSER_LIMIT_WEIGHT_BYTES: parser->limits.weight_bytes = value; return O2P_OK;
    case O2P_PARSER_LIMIT_STRING_BYTES: parser->limits.string_bytes = value; return O2P_OK;
    }
    return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                    "o2p_parser_set_limit: unknown limit %d (O2P_PARSER_LIMIT_NODES, "
                    "_WEIGHT_BYTES or _STRING_BYTES)", (int)limit);
}

uint64_t o2p_parser_get_limit(const o2p_parser *parser, o2p_parser_limit limit)
{
    const onnx_limits *l = parser ? &parser->limits : &default_limits;
    switch (limit) {
    case O2P_PARSER_LIMIT_NODES: return l->nodes;
    case O2P_PARSER_LIMIT_WEIGHT_BYTES: return l->weight_bytes;
    case O2P_PARSER_LIMIT_STRING_BYTES: return l->string_bytes;
    }
    return 0;
}

o2p_status o2p_parser_parse_bytes(o2p_parser *parser, const void *bytes, size_t size,
                                  const char *base_dir, const char *name)
{
    if (!parser || (!bytes && size))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_parser_parse_bytes: bad argument");
    const char *what = name && *name ? name : "<model bytes>";
    if (parser->used)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "%s: this parser already parsed a model; create a new network and "
                        "parser for each model", what);
    parser->used = 1;
    if (size > ONNX_MAX_MODEL_BYTES)
        return o2p_fail(O2P_ERR_LIMIT, "%s: %zu bytes is more than the 2 GiB protobuf limit; "
                        "store the weights as external data", what, size);
    if (size == 0)
        return o2p_fail(O2P_ERR_PARSE, "%s: the file is empty", what);
    O2P_TRY(onnx_check_wire(bytes, size, what, &parser->limits));
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, bytes);
    if (!mp)
        return o2p_fail(O2P_ERR_PARSE,
                        "%s: not a valid ONNX model (protobuf decoding failed: truncated, "
                        "corrupted, or not an ONNX file)", what);
    parse_ctx pc = {parser, parser->net, what, base_dir, parser->limits, 0};
    o2p_status st = convert_model(&pc, mp);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (st == O2P_OK)
        st = collect_unsupported(parser, parser->net->main);
    return st;
}

o2p_status o2p_parser_parse_file(o2p_parser *parser, const char *path)
{
    if (!parser || !path)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_parser_parse_file: bad argument");
    void *bytes;
    size_t size;
    O2P_TRY(o2p_read_file(path, ONNX_MAX_MODEL_BYTES, &bytes, &size));
    char *copy = strdup(path);
    if (!copy) {
        free(bytes);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    }
    const char *dir = dirname(copy);
    o2p_status st = o2p_parser_parse_bytes(parser, bytes, size, dir, path);
    free(copy);
    free(bytes);
    return st;
}

o2p_status o2p_parser_set_plugin_registry(o2p_parser *parser, o2p_plugin_registry *registry)
{
    if (!parser)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_parser_set_plugin_registry: parser is "
                        "NULL");
    parser->registry = registry;
    return O2P_OK;
}

int o2p_parser_num_used_vc_plugin_libraries(const o2p_parser *parser)
{
    return parser ? parser->plugin_libraries.count : 0;
}

const char *o2p_parser_get_used_vc_plugin_library(const o2p_parser *parser, int index)
{
    if (!parser || index < 0 || index >= parser->plugin_libraries.count)
        return NULL;
    return parser->plugin_libraries.items[index];
}

int o2p_parser_num_unsupported(const o2p_parser *parser)
{
    return parser ? parser->unsupported.count : 0;
}

const o2p_layer *o2p_parser_get_unsupported(const o2p_parser *parser, int index)
{
    if (!parser || index < 0 || index >= parser->unsupported.count)
        return NULL;
    return parser->unsupported.items[index];
}
