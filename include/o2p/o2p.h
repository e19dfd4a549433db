/* o2p.h: the public C API of onnx2plan: version, status and logging, element types,
 * the network definition and the ONNX parser. C99; every name begins with o2p_ / O2P_. */
#ifndef O2P_H
#define O2P_H

#include <stddef.h>
#include <stdint.h>

#include "o2p/o2p_version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(O2P_BUILDING_LIBRARY)
#define O2P_API __attribute__((visibility("default")))
#else
#define O2P_API
#endif

/* ---------------------------------------------------------------- version */

/* "M.m.p.b" of the library actually loaded (compare with O2P_VERSION_STRING). */
O2P_API const char *o2p_version(void);
/* O2P_VERSION_NUMBER of the library actually loaded. */
O2P_API long o2p_version_number(void);

/* ---------------------------------------------------------------- status */

/* Every fallible call returns an o2p_status; 0 is success. The values below are stable. */
typedef int o2p_status;
enum {
    O2P_OK = 0,
    O2P_ERR_INVALID_ARGUMENT = 1, /* a bad argument to an API call */
    O2P_ERR_IO = 2,               /* a file could not be opened or read */
    O2P_ERR_PARSE = 3,            /* a model or plan is malformed */
    O2P_ERR_UNSUPPORTED = 4,      /* valid input that onnx2plan does not support (yet) */
    O2P_ERR_OUT_OF_MEMORY = 5,
    O2P_ERR_LIMIT = 6,            /* input exceeds a documented loader limit */
    O2P_ERR_SHAPE = 7,            /* shapes or types that do not fit an operator */
    O2P_ERR_SECURITY = 8,         /* refused for safety: external data escaping its folder, ... */
    O2P_ERR_INTERNAL = 9
};

/* "O2P_OK", "O2P_ERR_PARSE", ...; "O2P_ERR_UNKNOWN" for other values. */
O2P_API const char *o2p_status_name(o2p_status status);

/* The message of the last failed call on this thread ("" if none). Valid until the next
 * failing call on the same thread. */
O2P_API const char *o2p_last_error(void);

typedef enum o2p_severity {
    O2P_SEVERITY_ERROR = 1,
    O2P_SEVERITY_WARNING = 2,
    O2P_SEVERITY_INFO = 3,
    O2P_SEVERITY_VERBOSE = 4
} o2p_severity;

typedef void (*o2p_log_fn)(void *user, o2p_severity severity, const char *message);

/* Install a process-wide logger (NULL restores the default, which prints errors and warnings
 * to stderr). Messages up to and including max_severity are delivered. */
O2P_API void o2p_set_logger(o2p_log_fn fn, void *user, o2p_severity max_severity);

/* ---------------------------------------------------------------- element types */

/* Values equal ONNX TensorProto.DataType. */
typedef enum o2p_dtype {
    O2P_DTYPE_UNDEFINED = 0,
    O2P_DTYPE_FLOAT = 1,
    O2P_DTYPE_UINT8 = 2,
    O2P_DTYPE_INT8 = 3,
    O2P_DTYPE_UINT16 = 4,
    O2P_DTYPE_INT16 = 5,
    O2P_DTYPE_INT32 = 6,
    O2P_DTYPE_INT64 = 7,
    O2P_DTYPE_STRING = 8,
    O2P_DTYPE_BOOL = 9,
    O2P_DTYPE_FLOAT16 = 10,
    O2P_DTYPE_DOUBLE = 11,
    O2P_DTYPE_UINT32 = 12,
    O2P_DTYPE_UINT64 = 13,
    O2P_DTYPE_COMPLEX64 = 14,
    O2P_DTYPE_COMPLEX128 = 15,
    O2P_DTYPE_BFLOAT16 = 16
} o2p_dtype;

/* "float32", "int64", ...; "undefined" for unknown values. */
O2P_API const char *o2p_dtype_name(o2p_dtype dtype);
/* Bytes per element (0 for UNDEFINED and STRING). */
O2P_API size_t o2p_dtype_size(o2p_dtype dtype);

/* ---------------------------------------------------------------- network */

/* A network definition: tensors, layers and their order, with nested subgraphs for control
 * flow. Handles to tensors, layers and graphs stay valid until the network is destroyed. */
typedef struct o2p_network o2p_network;
typedef struct o2p_graph o2p_graph;
typedef struct o2p_tensor o2p_tensor;
typedef struct o2p_layer o2p_layer;

/* The highest rank a tensor may have. */
#define O2P_MAX_RANK 16
/* Dimension value meaning "not known": a symbolic dimension (see o2p_tensor_get_dim_name)
 * or one that shape inference could not determine. */
#define O2P_DIM_UNKNOWN (-1)
/* Rank value meaning "rank not known". */
#define O2P_RANK_UNKNOWN (-1)

O2P_API o2p_status o2p_network_create(o2p_network **out);
O2P_API void o2p_network_destroy(o2p_network *network);

/* The top-level graph. */
O2P_API o2p_graph *o2p_network_get_graph(o2p_network *network);

/* Opset the network's layers follow for a domain ("" or "ai.onnx" is the default domain).
 * A network built by hand defaults to the newest default-domain opset onnx2plan knows. */
O2P_API o2p_status o2p_network_set_opset(o2p_network *network, const char *domain, int64_t version);
O2P_API int64_t o2p_network_get_opset(const o2p_network *network, const char *domain);
O2P_API int o2p_network_num_opsets(const o2p_network *network);
O2P_API const char *o2p_network_opset_domain(const o2p_network *network, int index);
O2P_API int64_t o2p_network_opset_version(const o2p_network *network, int index);

/* The newest default-domain opset onnx2plan knows. */
O2P_API int64_t o2p_max_opset(void);

/* Model information carried from the ONNX file (empty / 0 for a network built by hand). */
typedef enum o2p_model_info {
    O2P_INFO_PRODUCER_NAME,
    O2P_INFO_PRODUCER_VERSION,
    O2P_INFO_DOMAIN,
    O2P_INFO_DOC_STRING,
    O2P_INFO_GRAPH_NAME
} o2p_model_info;
O2P_API const char *o2p_network_get_info(const o2p_network *network, o2p_model_info what);
O2P_API int64_t o2p_network_ir_version(const o2p_network *network);
O2P_API int64_t o2p_network_model_version(const o2p_network *network);
O2P_API int o2p_network_num_metadata(const o2p_network *network);
O2P_API const char *o2p_network_metadata_key(const o2p_network *network, int index);
O2P_API const char *o2p_network_metadata_value(const o2p_network *network, int index);

/* Graph contents. Layers are kept in topological order once shapes are inferred. */
O2P_API const char *o2p_graph_get_name(const o2p_graph *graph);
O2P_API int o2p_graph_num_inputs(const o2p_graph *graph);
O2P_API o2p_tensor *o2p_graph_get_input(const o2p_graph *graph, int index);
O2P_API int o2p_graph_num_outputs(const o2p_graph *graph);
O2P_API o2p_tensor *o2p_graph_get_output(const o2p_graph *graph, int index);
O2P_API int o2p_graph_num_layers(const o2p_graph *graph);
O2P_API o2p_layer *o2p_graph_get_layer(const o2p_graph *graph, int index);
O2P_API int o2p_graph_num_constants(const o2p_graph *graph);
O2P_API o2p_tensor *o2p_graph_get_constant(const o2p_graph *graph, int index);
/* Looks a tensor up by name in this graph and then the graphs around it; NULL if none. */
O2P_API o2p_tensor *o2p_graph_find_tensor(const o2p_graph *graph, const char *name);

/* Building by hand, as with TensorRT's network definition. dims[i] < 0 is a dynamic
 * dimension, named by dim_names[i] when dim_names and dim_names[i] are not NULL. An input
 * may have rank O2P_RANK_UNKNOWN (dims is then ignored). */
O2P_API o2p_status o2p_graph_add_input(o2p_graph *graph, const char *name, o2p_dtype dtype,
                                       int rank, const int64_t *dims,
                                       const char *const *dim_names, o2p_tensor **out);
/* A constant (weights): the bytes are copied, packed little-endian, nbytes must equal the
 * element count times o2p_dtype_size(dtype). */
O2P_API o2p_status o2p_graph_add_constant(o2p_graph *graph, const char *name, o2p_dtype dtype,
                                          int rank, const int64_t *dims, const void *data,
                                          size_t nbytes, o2p_tensor **out);
/* A layer running op_type (an ONNX operator name, e.g. "Conv"; domain "" is the default
 * domain). inputs[i] may be NULL for an omitted optional input. The layer gets num_outputs
 * new tensors, named "<name>:<i>" unless renamed with o2p_tensor_set_name. Set attributes
 * with o2p_layer_set_attr_* before inferring shapes. */
O2P_API o2p_status o2p_graph_add_layer(o2p_graph *graph, const char *domain, const char *op_type,
                                       const char *name, int num_inputs,
                                       o2p_tensor *const *inputs, int num_outputs,
                                       o2p_layer **out);
O2P_API o2p_status o2p_graph_mark_output(o2p_graph *graph, o2p_tensor *tensor);
/* A new empty graph to use as a subgraph attribute of a layer of this network (If, Loop,
 * Scan); its layers may read tensors of the graphs around it. */
O2P_API o2p_status o2p_graph_create_subgraph(o2p_graph *parent, const char *name,
                                             o2p_graph **out);

/* Runs shape and type inference over the whole network, subgraphs included. Known dims
 * and symbolic names are propagated; a contradiction is an error naming the layer. */
O2P_API o2p_status o2p_network_infer_shapes(o2p_network *network);

/* Whether onnx2plan has an importer (a layer kind with shape inference) for an operator. */
O2P_API int o2p_op_supported(const char *domain, const char *op_type);

/* Tensors. */
O2P_API const char *o2p_tensor_get_name(const o2p_tensor *tensor);
O2P_API o2p_status o2p_tensor_set_name(o2p_tensor *tensor, const char *name);
O2P_API o2p_dtype o2p_tensor_get_dtype(const o2p_tensor *tensor);
O2P_API int o2p_tensor_get_rank(const o2p_tensor *tensor);
O2P_API int64_t o2p_tensor_get_dim(const o2p_tensor *tensor, int axis);
/* The symbolic name of a dynamic dim, or NULL. */
O2P_API const char *o2p_tensor_get_dim_name(const o2p_tensor *tensor, int axis);
O2P_API int o2p_tensor_is_constant(const o2p_tensor *tensor);
/* Constant data (NULL for non-constants) and its size. */
O2P_API const void *o2p_tensor_get_data(const o2p_tensor *tensor, size_t *nbytes);
/* Fix a graph input's shape (a dynamic dim becomes known); used by --shapes. */
O2P_API o2p_status o2p_tensor_set_shape(o2p_tensor *tensor, int rank, const int64_t *dims);
/* Writes the shape as "1x3xNx224", "?" for an unknown rank, into buf (always terminated). */
O2P_API void o2p_tensor_format_shape(const o2p_tensor *tensor, char *buf, size_t size);

/* ONNX sequence and optional values. Plans are static, so a build resolves them: a sequence
 * whose length and element shapes are known at build becomes a list of ordinary tensors.
 * A sequence graph input becomes one engine input per element, named "<name>[<i>]", and a
 * sequence graph output one engine output per element, "<name>[<i>]"; an optional input or
 * output is an ordinary tensor (or sequence) when present and no engine tensor at all when
 * absent. The dtype and shape getters of a sequence describe its elements. */
typedef enum o2p_value_kind {
    O2P_VALUE_TENSOR = 0,
    O2P_VALUE_SEQUENCE = 1,
    O2P_VALUE_OPTIONAL_TENSOR = 2,
    O2P_VALUE_OPTIONAL_SEQUENCE = 3
} o2p_value_kind;
O2P_API o2p_value_kind o2p_tensor_get_value_kind(const o2p_tensor *tensor);
/* Describes a sequence graph input (or a present optional sequence) for the build: count
 * elements; element i has rank ranks[i] and its dims follow those of element i-1 in dims
 * (every rank summed is dims' length). dims must be known (>= 0). */
O2P_API o2p_status o2p_tensor_set_sequence(o2p_tensor *tensor, int count, const int *ranks,
                                           const int64_t *dims);
/* Says whether an optional graph input is present at build. A present optional tensor then
 * takes its shape from o2p_tensor_set_shape, a present optional sequence from
 * o2p_tensor_set_sequence. */
O2P_API o2p_status o2p_tensor_set_optional(o2p_tensor *tensor, int present);

/* Layers. */
O2P_API const char *o2p_layer_get_name(const o2p_layer *layer);
O2P_API const char *o2p_layer_get_op_type(const o2p_layer *layer);
O2P_API const char *o2p_layer_get_domain(const o2p_layer *layer);
O2P_API int o2p_layer_num_inputs(const o2p_layer *layer);
O2P_API o2p_tensor *o2p_layer_get_input(const o2p_layer *layer, int index); /* may be NULL */
O2P_API int o2p_layer_num_outputs(const o2p_layer *layer);
O2P_API o2p_tensor *o2p_layer_get_output(const o2p_layer *layer, int index); /* may be NULL */
/* Whether the layer's op has an importer; layers without one are kept so that tools can
 * report them, but shapes after them stay unknown and a build refuses them. */
O2P_API int o2p_layer_is_supported(const o2p_layer *layer);
/* Why a layer is not supported (e.g. "no importer for this op"), or NULL when it is. */
O2P_API const char *o2p_layer_get_unsupported_reason(const o2p_layer *layer);

/* Attributes (ONNX AttributeProto kinds). */
typedef enum o2p_attr_type {
    O2P_ATTR_UNDEFINED = 0,
    O2P_ATTR_FLOAT = 1,
    O2P_ATTR_INT = 2,
    O2P_ATTR_STRING = 3,
    O2P_ATTR_TENSOR = 4,
    O2P_ATTR_GRAPH = 5,
    O2P_ATTR_FLOATS = 6,
    O2P_ATTR_INTS = 7,
    O2P_ATTR_STRINGS = 8,
    O2P_ATTR_TENSORS = 9,
    O2P_ATTR_GRAPHS = 10,
    O2P_ATTR_SPARSE_TENSOR = 11,
    O2P_ATTR_SPARSE_TENSORS = 12,
    O2P_ATTR_TYPE_PROTO = 13,
    O2P_ATTR_TYPE_PROTOS = 14
} o2p_attr_type;

O2P_API int o2p_layer_num_attrs(const o2p_layer *layer);
O2P_API const char *o2p_layer_attr_name(const o2p_layer *layer, int index);
O2P_API o2p_attr_type o2p_layer_attr_type(const o2p_layer *layer, int index);
/* Index of the attribute called name, or -1. */
O2P_API int o2p_layer_find_attr(const o2p_layer *layer, const char *name);
O2P_API int64_t o2p_layer_attr_int(const o2p_layer *layer, int index);
O2P_API float o2p_layer_attr_float(const o2p_layer *layer, int index);
O2P_API const char *o2p_layer_attr_string(const o2p_layer *layer, int index);
/* Element `element` of a STRINGS attribute, or NULL. */
O2P_API const char *o2p_layer_attr_strings_at(const o2p_layer *layer, int index, int element);
O2P_API int o2p_layer_attr_count(const o2p_layer *layer, int index); /* list length */
O2P_API const int64_t *o2p_layer_attr_ints(const o2p_layer *layer, int index);
O2P_API const float *o2p_layer_attr_floats(const o2p_layer *layer, int index);
O2P_API o2p_graph *o2p_layer_attr_graph(const o2p_layer *layer, int index, int element);
O2P_API o2p_tensor *o2p_layer_attr_tensor(const o2p_layer *layer, int index, int element);

O2P_API o2p_status o2p_layer_set_attr_int(o2p_layer *layer, const char *name, int64_t value);
O2P_API o2p_status o2p_layer_set_attr_float(o2p_layer *layer, const char *name, float value);
O2P_API o2p_status o2p_layer_set_attr_string(o2p_layer *layer, const char *name,
                                             const char *value);
O2P_API o2p_status o2p_layer_set_attr_ints(o2p_layer *layer, const char *name,
                                           const int64_t *values, int count);
O2P_API o2p_status o2p_layer_set_attr_floats(o2p_layer *layer, const char *name,
                                             const float *values, int count);
O2P_API o2p_status o2p_layer_set_attr_strings(o2p_layer *layer, const char *name,
                                              const char *const *values, int count);
/* tensor must be a constant made by o2p_graph_add_constant (it is used, not copied). */
O2P_API o2p_status o2p_layer_set_attr_tensor(o2p_layer *layer, const char *name,
                                             o2p_tensor *tensor);
/* graph must come from o2p_graph_create_subgraph on the layer's graph. */
O2P_API o2p_status o2p_layer_set_attr_graph(o2p_layer *layer, const char *name,
                                            o2p_graph *graph);
O2P_API o2p_status o2p_layer_set_attr_graphs(o2p_layer *layer, const char *name,
                                             o2p_graph *const *graphs, int count);

/* ---------------------------------------------------------------- plugin registry */

/* Plugin libraries (include/o2p/plugin.h) and their creators. The parser maps an ONNX node
 * it has no native importer for to a creator of the same (domain, op type). */
typedef struct o2p_plugin_registry o2p_plugin_registry;

/* The process-wide registry, with the bundled plugin library (libo2p_plugins.so, found next to
 * libo2p or the program, or at $O2P_PLUGINS_LIBRARY) registered, like TensorRT's standard
 * plugins. Never NULL; not to be destroyed. */
O2P_API o2p_plugin_registry *o2p_default_plugin_registry(void);
/* An empty registry of your own. */
O2P_API o2p_status o2p_plugin_registry_create(o2p_plugin_registry **out);
O2P_API void o2p_plugin_registry_destroy(o2p_plugin_registry *registry);
/* Loads a plugin library (dlopen: host code) and registers its creators. A library without
 * the entry, or of another ABI major, is refused by name. A creator of the same (domain, op,
 * version, namespace) as one already registered is refused. */
O2P_API o2p_status o2p_plugin_registry_load_library(o2p_plugin_registry *registry,
                                                   const char *path);
O2P_API int o2p_plugin_registry_num_creators(const o2p_plugin_registry *registry);
/* Creator `index`: its op name, version, namespace, ONNX domain and the library it came from. */
O2P_API const char *o2p_plugin_registry_creator_name(const o2p_plugin_registry *registry,
                                                     int index);
O2P_API const char *o2p_plugin_registry_creator_version(const o2p_plugin_registry *registry,
                                                        int index);
O2P_API const char *o2p_plugin_registry_creator_namespace(const o2p_plugin_registry *registry,
                                                          int index);
O2P_API const char *o2p_plugin_registry_creator_domain(const o2p_plugin_registry *registry,
                                                       int index);
O2P_API const char *o2p_plugin_registry_creator_library(const o2p_plugin_registry *registry,
                                                        int index);

/* ---------------------------------------------------------------- parser */

typedef struct o2p_parser o2p_parser;

typedef enum o2p_parser_flag {
    /* InstanceNormalization becomes a native layer instead of the plugin layer. */
    O2P_PARSER_FLAG_NATIVE_INSTANCENORM = 0
} o2p_parser_flag;

/* A parser fills `network` (which must be empty) and does not own it. */
O2P_API o2p_status o2p_parser_create(o2p_network *network, o2p_parser **out);
O2P_API void o2p_parser_destroy(o2p_parser *parser);
O2P_API o2p_status o2p_parser_set_flag(o2p_parser *parser, o2p_parser_flag flag, int on);
O2P_API int o2p_parser_get_flag(const o2p_parser *parser, o2p_parser_flag flag);

/* Loader limits a caller may change (docs/limits.md lists every limit, these with the
 * reasons for their defaults). A model over one is refused with O2P_ERR_LIMIT and a message
 * naming the limit and the value. */
typedef enum o2p_parser_limit {
    /* NodeProtos in the whole model: every graph, subgraph and local function together.
     * Default 2^24 (16 777 216), ENGINE_MAX_LAYERS of a plan. */
    O2P_PARSER_LIMIT_NODES = 0,
    /* Bytes of tensor data in the whole model: initializers, Constant values and tensor
     * attributes, external data included. Default 2^40 (1 TiB), the largest plan the CLI
     * reads. */
    O2P_PARSER_LIMIT_WEIGHT_BYTES = 1,
    /* Bytes of one string: a name, doc_string, metadata key or value, STRING(S) attribute.
     * Default 2^20 (1 MiB), the longest string a plan's ENGINE section holds. */
    O2P_PARSER_LIMIT_STRING_BYTES = 2
} o2p_parser_limit;

/* Sets a limit for the models this parser reads (any value, higher or lower than the
 * default); call it before parsing. */
O2P_API o2p_status o2p_parser_set_limit(o2p_parser *parser, o2p_parser_limit limit,
                                        uint64_t value);
/* The limit in force (parser NULL: the default); 0 for an unknown limit. */
O2P_API uint64_t o2p_parser_get_limit(const o2p_parser *parser, o2p_parser_limit limit);

/* Parses an ONNX model file; external data is read relative to the file's folder. */
O2P_API o2p_status o2p_parser_parse_file(o2p_parser *parser, const char *path);
/* Parses a model held in memory. base_dir is the folder external data is read from (NULL:
 * a model with external data is refused); name is used in messages (may be NULL). */
O2P_API o2p_status o2p_parser_parse_bytes(o2p_parser *parser, const void *bytes, size_t size,
                                          const char *base_dir, const char *name);

/* The registry the parser maps nodes without a native importer to (default:
 * o2p_default_plugin_registry()). Set before parsing; the registry must outlive the network. */
O2P_API o2p_status o2p_parser_set_plugin_registry(o2p_parser *parser,
                                                  o2p_plugin_registry *registry);
/* The plugin libraries the parsed network's plugin layers come from (paths, each once): what
 * a version-compatible plan has to carry (TensorRT's getUsedVCPluginLibraries). */
O2P_API int o2p_parser_num_used_vc_plugin_libraries(const o2p_parser *parser);
O2P_API const char *o2p_parser_get_used_vc_plugin_library(const o2p_parser *parser, int index);

/* Whether a layer runs a plugin, and which: NULL for native layers. */
O2P_API const char *o2p_layer_get_plugin_library(const o2p_layer *layer);

/* Nodes of the parsed model whose op has no importer, in graph order (subgraphs included). */
O2P_API int o2p_parser_num_unsupported(const o2p_parser *parser);
O2P_API const o2p_layer *o2p_parser_get_unsupported(const o2p_parser *parser, int index);

/* ---------------------------------------------------------------- builder */

typedef struct o2p_builder o2p_builder;
typedef struct o2p_builder_config o2p_builder_config;

typedef enum o2p_builder_flag {
    O2P_FLAG_VERSION_COMPATIBLE = 0,
    O2P_FLAG_EXCLUDE_LEAN_RUNTIME = 1,
    O2P_FLAG_FP16 = 2,
    O2P_FLAG_BF16 = 3,
    O2P_FLAG_TF32 = 4, /* on by default */
    O2P_FLAG_STRICT_TYPES = 5
} o2p_builder_flag;

typedef enum o2p_hardware_compatibility {
    O2P_HW_COMPAT_NONE = 0,
    O2P_HW_COMPAT_AMPERE_PLUS = 1,
    O2P_HW_COMPAT_SAME_COMPUTE_CAPABILITY = 2
} o2p_hardware_compatibility;

typedef enum o2p_target {
    O2P_TARGET_HOST = 0, /* the reference kernels in C: runs anywhere, no GPU needed */
    O2P_TARGET_CUDA = 1
} o2p_target;

/* Tactic sources (a bit mask). */
enum {
    O2P_TACTIC_SOURCE_BUILTIN = 1,
    O2P_TACTIC_SOURCE_CUBLAS = 2,
    O2P_TACTIC_SOURCE_CUBLASLT = 4,
    O2P_TACTIC_SOURCE_CUDNN = 8
};

O2P_API o2p_status o2p_builder_create(o2p_builder **out);
O2P_API void o2p_builder_destroy(o2p_builder *builder);
O2P_API o2p_status o2p_builder_config_create(o2p_builder_config **out);
O2P_API void o2p_builder_config_destroy(o2p_builder_config *config);

/* Flags, levels, sources and targets that this version does not implement yet are refused
 * with O2P_ERR_UNSUPPORTED and a message saying so (never silently ignored). How they fit
 * together (a flag or level against the target) is checked by o2p_builder_build_serialized,
 * so the calls may come in any order. */
/* FP16 / BF16: float layers may use kernels that compute in fp16 / bf16 (cuda target only;
 * a host build refuses them). TF32 (on by default): float GEMMs and convolutions may use tf32
 * tensor cores. STRICT_TYPES is not supported yet. */
O2P_API o2p_status o2p_builder_config_set_flag(o2p_builder_config *config, o2p_builder_flag flag,
                                               int on);
O2P_API int o2p_builder_config_get_flag(const o2p_builder_config *config, o2p_builder_flag flag);
/* cuda target only (DESIGN.md §7). AMPERE_PLUS: one plan for every GPU from sm_80 up (SASS
 * per major architecture NVRTC knows, plus compute_80 PTX); it takes no compute capabilities
 * (the build refuses a list), excludes arch-specific kernels and kernels with more than
 * 99 KiB of shared memory per block, and disables cuBLAS(Lt)/cuDNN (with a warning when they
 * were asked for). SAME_COMPUTE_CAPABILITY: any GPU of exactly one compute capability (the
 * build refuses more than one); cuBLAS(Lt)/cuDNN disabled likewise. */
O2P_API o2p_status o2p_builder_config_set_hardware_compatibility_level(
    o2p_builder_config *config, o2p_hardware_compatibility level);
/* The tactic sources the build may choose kernels from (default: BUILTIN). */
O2P_API o2p_status o2p_builder_config_set_tactic_sources(o2p_builder_config *config,
                                                         uint32_t sources);
/* The target (default: HOST). CUDA takes the compute capabilities to build for (major*10+
 * minor, e.g. 80, 90, 120; each 80 or more; order and repeats do not matter), none of which
 * need be present; count 0 builds for the GPU present at build time (none: the build fails
 * with O2P_ERR_UNSUPPORTED, saying to give compute capabilities or use the host target).
 * HOST takes none (compute_caps NULL, count 0). */
O2P_API o2p_status o2p_builder_config_set_target(o2p_builder_config *config, o2p_target target,
                                                 const int *compute_caps, int count);
/* Largest scratch memory a layer may use (bytes; 0: no limit). */
O2P_API o2p_status o2p_builder_config_set_workspace_limit(o2p_builder_config *config,
                                                          uint64_t bytes);
/* Where the cuda target keeps compiled kernels between builds (a content-addressed cache,
 * safe for concurrent builds): NULL (the default) is $XDG_CACHE_HOME/onnx2plan/kernels, else
 * $HOME/.cache/onnx2plan/kernels; "" disables the cache; otherwise that folder. The string
 * is copied. */
O2P_API o2p_status o2p_builder_config_set_kernel_cache(o2p_builder_config *config,
                                                       const char *dir);
/* An optimization profile for an input: the smallest, typical and largest shape it will get.
 * Plans of this version have static shapes: min, opt and max must be equal, and the input
 * takes that shape (a range is refused with O2P_ERR_UNSUPPORTED). */
O2P_API o2p_status o2p_builder_config_add_optimization_profile(o2p_builder_config *config,
                                                               const char *input, int rank,
                                                               const int64_t *min,
                                                               const int64_t *opt,
                                                               const int64_t *max);
/* Plugin libraries to embed in the plan (paths; read at build time). A version-compatible plan
 * that carries its lean runtime also carries the libraries its plugin layers came from. At
 * load, embedded plugin libraries are host code: the same gate and loading as the lean
 * runtime; their creators are looked up before the default registry's. */
O2P_API o2p_status o2p_builder_config_set_plugins_to_serialize(o2p_builder_config *config,
                                                               const char *const *paths,
                                                               int count);
/* 1: a version-compatible plan does not carry the libraries its plugin layers came from
 * (they are then found in the registry at load: --plugins); default 0 (trtexec's
 * --ignoreParsedPluginLibs). */
O2P_API o2p_status o2p_builder_config_set_ignore_parsed_plugin_libraries(o2p_builder_config *config,
                                                                        int ignore);
/* Prints each layer's candidate tactics, why excluded ones were excluded, and the choice, to
 * the logger at O2P_SEVERITY_INFO. */
O2P_API o2p_status o2p_builder_config_set_verbose(o2p_builder_config *config, int on);

/* Builds a plan: infers shapes (every shape must be static: fix dynamic inputs first with
 * o2p_tensor_set_shape), folds constants, removes dead and no-op layers, picks a tactic per
 * layer, plans memory and serializes. The network is optimized in place (constants folded,
 * layers removed): parse again to build it another way. *plan is malloc'ed: free it with
 * o2p_free. */
O2P_API o2p_status o2p_builder_build_serialized(o2p_builder *builder, o2p_network *network,
                                                const o2p_builder_config *config, void **plan,
                                                size_t *size);
/* Frees memory onnx2plan returned (plans, ...). */
O2P_API void o2p_free(void *ptr);

/* ---------------------------------------------------------------- runtime */

typedef struct o2p_runtime o2p_runtime;
typedef struct o2p_engine o2p_engine;
typedef struct o2p_context o2p_context;

O2P_API o2p_status o2p_runtime_create(o2p_runtime **out);
O2P_API void o2p_runtime_destroy(o2p_runtime *runtime);

/* Version-compatible plans run through the lean runtime they carry (or one given with
 * o2p_runtime_load_runtime): that is host code from the plan, loaded only after this call
 * with allowed = 1 (TensorRT's setEngineHostCodeAllowed). Default 0. */
O2P_API o2p_status o2p_runtime_set_engine_host_code_allowed(o2p_runtime *runtime, int allowed);
/* Where a lean runtime from a plan may be written to be loaded (a bit mask; default both). */
enum {
    O2P_TEMPFILE_ALLOW_IN_MEMORY_FILES = 1, /* a sealed memfd, loaded through /proc/self/fd */
    O2P_TEMPFILE_ALLOW_TEMPORARY_FILES = 2  /* a 0600 file in a private 0700 folder of the
                                               temporary directory, unlinked once loaded */
};
O2P_API o2p_status o2p_runtime_set_tempfile_control_flags(o2p_runtime *runtime, uint32_t flags);
/* The temporary directory (default: $TMPDIR, then /tmp); NULL restores the default. */
O2P_API o2p_status o2p_runtime_set_temporary_directory(o2p_runtime *runtime, const char *path);
/* Loads the lean runtime library at path (a libo2p_lean.so) and returns a shim runtime that
 * runs version-compatible plans of that library's version through it (plans built with
 * --exclude-lean-runtime need one). The library is host code: it is loaded here, when called.
 * Destroy the shim with o2p_runtime_destroy. */
O2P_API o2p_status o2p_runtime_load_runtime(o2p_runtime *runtime, const char *path,
                                            o2p_runtime **shim);

/* Checks a plan against this runtime and machine (DESIGN.md §5: container, version, target,
 * memory; for cuda plans, against device 0: compute capability, free device memory, the
 * tactic sources' libraries, and a warning through the logger for each device property that
 * differs from the build GPU's) without creating anything; O2P_OK when it would load. Every
 * failed check is an error that says why and what to do. name (e.g. the file path) starts
 * the messages. */
O2P_API o2p_status o2p_runtime_check(o2p_runtime *runtime, const void *plan, size_t size,
                                     const char *name);
/* Checks, then creates an engine from a plan (the bytes are not needed afterwards). */
O2P_API o2p_status o2p_runtime_deserialize(o2p_runtime *runtime, const void *plan, size_t size,
                                           o2p_engine **out);
/* The same for a plan file; messages name the file. */
O2P_API o2p_status o2p_runtime_deserialize_file(o2p_runtime *runtime, const char *path,
                                                o2p_engine **out);
O2P_API void o2p_engine_destroy(o2p_engine *engine);

/* Engine inputs and outputs, in the model's order (inputs first). */
O2P_API int o2p_engine_num_io_tensors(const o2p_engine *engine);
O2P_API const char *o2p_engine_io_name(const o2p_engine *engine, int index);
O2P_API int o2p_engine_io_is_input(const o2p_engine *engine, int index);
O2P_API o2p_dtype o2p_engine_io_dtype(const o2p_engine *engine, int index);
O2P_API int o2p_engine_io_rank(const o2p_engine *engine, int index);
/* The dim; -1 for a data-dependent dim (an output such as NonZero's whose size is known only
 * after a run: o2p_context_get_tensor_shape), and for an index or axis out of range. */
O2P_API int64_t o2p_engine_io_dim(const o2p_engine *engine, int index, int axis);
/* The dim the tensor's memory is sized for: a data-dependent dim's upper bound, otherwise
 * o2p_engine_io_dim. Bind product(max dims) * element size bytes for every I/O tensor. */
O2P_API int64_t o2p_engine_io_max_dim(const o2p_engine *engine, int index, int axis);
/* Index of the I/O tensor called name, or -1. */
O2P_API int o2p_engine_find_io(const o2p_engine *engine, const char *name);
/* Which lean runtime runs the engine: "built-in 1.0.0.1", "embedded 1.0.0.1 (in-memory
 * file)", "embedded 1.0.0.1 (temporary file)" or "loaded 1.0.0.1 from PATH". */
O2P_API const char *o2p_engine_lean_runtime(const o2p_engine *engine);
/* Memory a context needs for activations (bytes): host memory on the host target; device
 * memory on the cuda target (activation arena and workspace). */
O2P_API uint64_t o2p_engine_device_memory_size(const o2p_engine *engine);
/* The target the plan was built for: O2P_TARGET_HOST (bind host memory, NULL stream) or
 * O2P_TARGET_CUDA (bind device memory, enqueue on a CUstream). */
O2P_API o2p_target o2p_engine_target(const o2p_engine *engine);

/* A context executes the engine; one engine may have many contexts, each used by one thread
 * at a time. */
O2P_API o2p_status o2p_engine_create_context(o2p_engine *engine, o2p_context **out);
O2P_API void o2p_context_destroy(o2p_context *context);
/* Shapes are static in plans of this version: a shape other than the plan's is refused. */
O2P_API o2p_status o2p_context_set_input_shape(o2p_context *context, const char *name, int rank,
                                               const int64_t *dims);
/* Binds the memory of an input (read) or output (written): packed, row-major; a device
 * address (CUdeviceptr cast to void *) on the cuda target. */
O2P_API o2p_status o2p_context_set_tensor_address(o2p_context *context, const char *name,
                                                  void *address);
/* Runs the engine. On the host target it runs to completion on the calling thread and the
 * stream must be NULL. On the cuda target it is enqueued on stream (a CUstream of the current
 * device's primary context; NULL: the legacy default stream) and returns without waiting:
 * synchronize the stream before reading outputs or reusing inputs. */
O2P_API o2p_status o2p_context_enqueue(o2p_context *context, void *stream);
/* The shape of an input or output (rank into *rank, dims into dims, which has room for the
 * tensor's rank; O2P_MAX_RANK always suffices). Static dims are the engine's. A
 * data-dependent dim of an output is the one the last run gave (the output's data is packed,
 * row-major, for these dims at the start of its memory): on the host target once enqueue
 * returns, on the cuda target once the stream of the last enqueue is synchronized (before
 * that it may be an older run's); -1 before any run. O2P_ERR_INVALID_ARGUMENT for an
 * unknown name. */
O2P_API o2p_status o2p_context_get_tensor_shape(const o2p_context *context, const char *name,
                                                int *rank, int64_t *dims);

#ifdef __cplusplus
}
#endif

#endif
