/* ir.h: the network IR (tensors, layers, graphs) and shape inference, shared by the parser,
 * the passes and the builder. The public o2p_network / o2p_graph / o2p_tensor / o2p_layer
 * handles are these structs. */
#ifndef O2P_IR_H
#define O2P_IR_H

#include <stdint.h>

#include "common/common.h"

typedef struct o2p_network ir_network;
typedef struct o2p_graph ir_graph;
typedef struct o2p_tensor ir_tensor;
typedef struct o2p_layer ir_layer;
typedef struct ir_op ir_op;

#define IR_MAX_RANK O2P_MAX_RANK
/* Int tensors with at most this many elements carry their values for shape inference. */
#define IR_MAX_VALUES 64

/* A dimension (or a value of a shape tensor): known when value >= 0 (for a dim) or when
 * known != 0 (for a value); otherwise optionally symbolic (sym != NULL, arena string). */
typedef struct ir_dim {
    int64_t value;
    const char *sym;
    /* A data-dependent dim (NonZero, Unique, NonMaxSuppression outputs): value < 0 and
     * bound > 0 is the most it can be at run time (the plan allocates that much and the
     * kernel reports the actual dim after the run); 0: no bound known. */
    int64_t bound;
} ir_dim;

#define IR_DIM_UNKNOWN ((ir_dim){-1, NULL, 0})

typedef struct ir_shape {
    int rank; /* O2P_RANK_UNKNOWN (-1) when unknown */
    ir_dim dims[IR_MAX_RANK];
} ir_shape;

typedef enum ir_tensor_kind {
    IR_TENSOR_ACTIVATION = 0, /* produced by a layer */
    IR_TENSOR_INPUT = 1,      /* graph input */
    IR_TENSOR_CONSTANT = 2    /* initializer, Constant node or hand-made weights */
} ir_tensor_kind;

/* What a value is: a tensor, or one of ONNX's sequence and optional types. Plans are static:
 * the sequence pass (src/passes/sequence.c) turns every sequence and optional into plain
 * tensors at build time, before anything after inference sees them. */
typedef enum ir_value_type {
    IR_VALUE_TENSOR = 0,
    IR_VALUE_SEQUENCE = 1,          /* dtype and shape: every element's (merged) */
    IR_VALUE_OPTIONAL = 2,          /* an optional tensor: dtype and shape: the tensor's */
    IR_VALUE_OPTIONAL_SEQUENCE = 3  /* an optional sequence: dtype and shape: its elements' */
} ir_value_type;

/* What the sequence pass found a sequence or optional to hold: the tensors of a sequence
 * (or of a present optional sequence), the tensor of a present optional, or nothing for an
 * empty optional. Kept on the tensor between the pass's runs, which alternate with Loop
 * unrolling (a Loop's copies read the lists of the sequences around them). */
typedef struct ir_seq_list {
    int is_seq;
    int present;
    int count;
    struct o2p_tensor **elems;
} ir_seq_list;

/* Known element values of a small int or bool tensor (at most IR_MAX_VALUES elements, any
 * rank, row-major): from constants, Shape, and the shape arithmetic that follows it. Each
 * entry is known (known != 0, value), or symbolic (sym), or unknown. */
typedef struct ir_value_entry {
    int known;
    int64_t value;
    const char *sym;
} ir_value_entry;

typedef struct ir_values {
    int count;
    ir_value_entry e[IR_MAX_VALUES];
} ir_values;

struct o2p_tensor {
    const char *name;
    o2p_dtype dtype; /* UNDEFINED until known */
    ir_shape shape;
    ir_tensor_kind kind;
    ir_graph *graph;    /* graph that owns the tensor */
    ir_layer *producer; /* NULL for inputs and constants */
    int is_output;
    /* constants: packed little-endian bytes (owned by the network's arena or heap list) */
    const void *data;
    size_t nbytes;
    /* shape inference: values of small int tensors, NULL if none known */
    ir_values *values;
    /* declared (from the model's value_info / outputs), kept to compare with inference */
    int has_declared;
    o2p_dtype declared_dtype;
    ir_shape declared_shape;
    /* Sequences and optionals (IR_VALUE_TENSOR for everything else). A sequence or optional
     * graph input is described at build (o2p_tensor_set_sequence, o2p_tensor_set_optional):
     * when seq_given, seq_count elements of shapes seq_shapes; opt_state 1 present, 2
     * absent, 0 not given. */
    ir_value_type vtype;
    int seq_given;
    int seq_count;
    ir_shape *seq_shapes;
    int opt_state;
    ir_seq_list *seq_list; /* set by the sequence pass; NULL until it resolves the value */
};

typedef struct ir_attr {
    const char *name;
    o2p_attr_type type;
    float f;
    int64_t i;
    const char *s; /* STRING: bytes, s_len long, also NUL-terminated */
    size_t s_len;
    int count; /* list length for FLOATS INTS STRINGS TENSORS GRAPHS; 1 for TENSOR, GRAPH */
    float *floats;
    int64_t *ints;
    const char **strings;
    ir_tensor **tensors; /* TENSOR uses tensors[0] */
    ir_graph **graphs;   /* GRAPH uses graphs[0] */
} ir_attr;

struct o2p_layer {
    const char *name;
    const char *domain; /* "" for the default domain */
    const char *op_type;
    const ir_op *op; /* NULL when the op has no importer or cannot be imported */
    const struct o2p_plugin_creator *plugin; /* a plugin layer's creator, else NULL */
    const char *plugin_library;              /* the library it came from */
    const char *unsupported_reason; /* why op is NULL (static string), NULL otherwise */
    ir_graph *graph;
    int index; /* in graph->layers */
    int num_inputs;
    ir_tensor **inputs; /* entries may be NULL (omitted optional input) */
    int num_outputs;
    ir_tensor **outputs; /* entries may be NULL (omitted optional output) */
    int num_attrs;
    int cap_attrs;
    ir_attr *attrs;
};

struct o2p_graph {
    const char *name;
    ir_network *network;
    ir_graph *parent;   /* NULL for the main graph */
    ir_layer *owner;    /* for subgraphs: the layer whose attribute it is (set when attached) */
    o2p_ptrvec inputs;  /* ir_tensor* */
    o2p_ptrvec outputs; /* ir_tensor* */
    o2p_ptrvec layers;  /* ir_layer* in order */
    o2p_ptrvec constants;
    o2p_ptrvec tensors; /* every tensor the graph owns */
    o2p_strmap by_name;
};

typedef struct ir_opset {
    const char *domain;
    int64_t version;
} ir_opset;

struct o2p_network {
    o2p_arena arena;
    ir_graph *main;
    o2p_ptrvec graphs;  /* every graph, main first (for freeing) */
    o2p_ptrvec opsets;  /* ir_opset* */
    o2p_ptrvec heap_blocks; /* large constant data blocks, freed with the network */
    o2p_ptrvec metadata;    /* alternating key, value (const char*) */
    const char *info[5];    /* o2p_model_info */
    int64_t ir_version;
    int64_t model_version;
    int next_anon; /* for generated names */
};

/* ---- network building (used by the parser and the public API). */
ir_network *ir_network_new(void);
void ir_network_free(ir_network *net);
ir_graph *ir_graph_new(ir_network *net, ir_graph *parent, const char *name);
/* Creates a tensor owned by g; the name must be unique in g (error otherwise). */
o2p_status ir_tensor_new(ir_graph *g, const char *name, ir_tensor_kind kind, ir_tensor **out);
/* A constant tensor owned by g but not registered under its name (attribute values). */
o2p_status ir_tensor_new_anonymous(ir_graph *g, const char *name, ir_tensor **out);
/* Turns a graph input or an activation into a constant holding data (nbytes, owned by the
 * network: allocate it with ir_network_alloc_data); an activation's producer forgets it, an
 * input leaves the graph's inputs. dtype and shape are set as given. */
o2p_status ir_tensor_make_constant(ir_tensor *t, o2p_dtype dtype, const ir_shape *shape,
                                   const void *data, size_t nbytes);
/* Removes layer l from its graph (its outputs must no longer be produced by it). */
void ir_graph_remove_layer(ir_graph *g, ir_layer *l);
/* Finds a tensor by name in g, then in the graphs around it. */
ir_tensor *ir_graph_find(const ir_graph *g, const char *name);
o2p_status ir_layer_new(ir_graph *g, const char *domain, const char *op_type, const char *name,
                        int num_inputs, int num_outputs, ir_layer **out);
/* A new attribute slot on the layer (zeroed, name set); replaces one of the same name. */
o2p_status ir_layer_add_attr(ir_layer *l, const char *name, o2p_attr_type type, ir_attr **out);
/* Allocates nbytes for constant data owned by the network (heap for big blocks). */
void *ir_network_alloc_data(ir_network *net, size_t nbytes);
o2p_status ir_network_add_opset(ir_network *net, const char *domain, int64_t version);
int64_t ir_network_opset(const ir_network *net, const char *domain);

/* ---- attribute lookup for importers and inference (NULL / default when absent). */
const ir_attr *ir_attr_find(const ir_layer *l, const char *name);
int64_t ir_attr_int(const ir_layer *l, const char *name, int64_t dflt);
float ir_attr_float(const ir_layer *l, const char *name, float dflt);
const char *ir_attr_string(const ir_layer *l, const char *name, const char *dflt);
/* INTS attribute: sets *count and returns the array, or NULL (count 0) when absent. */
const int64_t *ir_attr_ints(const ir_layer *l, const char *name, int *count);
const float *ir_attr_floats(const ir_layer *l, const char *name, int *count);
ir_graph *ir_attr_graph(const ir_layer *l, const char *name);

/* ---- shapes. */
void ir_shape_unknown(ir_shape *s);
int ir_shape_is_static(const ir_shape *s); /* known rank and every dim known */
/* Element count of a static shape; 0 (and *ok = 0) when unknown or on overflow. */
int64_t ir_shape_numel(const ir_shape *s, int *ok);
void ir_shape_format(const ir_shape *s, char *buf, size_t size);
size_t ir_dtype_size(o2p_dtype t);
int ir_dtype_is_float(o2p_dtype t);
int ir_dtype_is_int(o2p_dtype t); /* signed or unsigned integer (not bool) */

/* ---- constant access for inference: element i of a constant (or value-known) tensor. */
int ir_tensor_is_const(const ir_tensor *t);
int64_t ir_tensor_numel_const(const ir_tensor *t); /* element count of constant data, or -1 */
/* Reads element i of constant data as int64 / double; 0 when not readable. */
int ir_const_get_i64(const ir_tensor *t, int64_t i, int64_t *out);
int ir_const_get_f64(const ir_tensor *t, int64_t i, double *out);

/* ---- shape inference. */
typedef struct ir_infer_ctx {
    ir_network *net;
    ir_graph *graph;
    ir_layer *layer;
    int64_t opset; /* opset version of the layer's domain */
} ir_infer_ctx;

typedef o2p_status (*ir_infer_fn)(ir_infer_ctx *ctx);

/* One entry per operator onnx2plan imports. The table (ir_op_table in ops.c) is the only
 * place that lists the operators; everything else asks it. */
struct ir_op {
    const char *domain; /* "" for the default domain */
    const char *op_type;
    int min_inputs, max_inputs;   /* max -1: variadic */
    int min_outputs, max_outputs; /* max -1: variadic */
    ir_infer_fn infer;
};

const ir_op *ir_op_find(const char *domain, const char *op_type);

/* Plugin layers (plugins.c): the creator registered for ONNX nodes of (domain, op_type) (the
 * library path in *library), or NULL; and the op every plugin layer has, whose inference asks
 * the plugin. */
struct o2p_plugin_creator;
const struct o2p_plugin_creator *ir_plugin_find(const o2p_plugin_registry *registry,
                                                const char *domain, const char *op_type,
                                                const char **library);
const ir_op *ir_plugin_op(void);
/* Registers the creators of a plugin library already loaded (handle from dlopen; path names
 * it in messages and as its library). On failure the handle is closed. */
o2p_status ir_plugin_registry_add_handle(o2p_plugin_registry *registry, void *handle,
                                         const char *path);
/* A plugin layer's tensor as the plugin ABI describes it (t may be NULL: an omitted input). */
struct o2p_plugin_tensor_desc;
struct o2p_plugin_field;
void ir_plugin_desc(const ir_tensor *t, struct o2p_plugin_tensor_desc *desc);
/* The layer's attributes of the kinds plugins take (INT FLOAT STRING INTS FLOATS; the others
 * are skipped) as fields, into `fields` (room for num_attrs); returns the count. The fields
 * point into the layer. */
int ir_plugin_fields(const ir_layer *layer, struct o2p_plugin_field *fields);
/* The creator registered as (name, version, namespace) ("" and NULL alike), the last
 * registered winning, or NULL: how a plan's plugin layer finds its code at load. */
const struct o2p_plugin_creator *ir_plugin_find_creator(const o2p_plugin_registry *registry,
                                                        const char *name, const char *version,
                                                        const char *plugin_namespace);
int ir_op_count(void);
const ir_op *ir_op_at(int index);

/* Fails with O2P_ERR_SHAPE and a message naming the layer (name, op type) and its graph. */
o2p_status ir_infer_error(const ir_infer_ctx *ctx, const char *fmt, ...) O2P_PRINTF(2, 3);
/* O2P_ERR_UNSUPPORTED "layer '<name>' (<op>): <message>", for the passes that refuse a layer
 * the build cannot resolve. */
o2p_status ir_layer_unsupported(const ir_layer *l, const char *fmt, ...) O2P_PRINTF(2, 3);

/* Sets an output's dtype and shape (merging with what it had; a conflict between two known
 * dims is an error). Does nothing for an omitted output. */
o2p_status ir_set_output(ir_infer_ctx *ctx, int index, o2p_dtype dtype, const ir_shape *shape);
/* Sets the known values of output `index` (copied). */
o2p_status ir_set_output_values(ir_infer_ctx *ctx, int index, const ir_values *values);
/* Input i, or NULL when omitted or out of range. */
ir_tensor *ir_input(const ir_infer_ctx *ctx, int i);
/* Values of input i as known by inference: from constant data or propagated values.
 * Returns 1 and fills *v when the tensor is a small int or bool tensor (any rank) whose
 * values are known or partly known. */
int ir_input_values(const ir_infer_ctx *ctx, int i, ir_values *v);
/* Normalizes a possibly negative axis into [0, rank); error when out of range. */
o2p_status ir_norm_axis(const ir_infer_ctx *ctx, int64_t axis, int rank, int *out);
/* Numpy-style multidirectional broadcasting of two shapes. */
o2p_status ir_broadcast(const ir_infer_ctx *ctx, const ir_shape *a, const ir_shape *b,
                        ir_shape *out);

/* Infers every graph of the network (topologically sorting the layers of each). */
o2p_status ir_infer_network(ir_network *net);
/* Infers one graph (used for subgraphs by If/Loop/Scan inference). */
o2p_status ir_infer_graph(ir_network *net, ir_graph *g);

#endif
