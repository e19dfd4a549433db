/* plugin.h: the plugin ABI of onnx2plan (DESIGN.md §10). A plugin library is a shared library
 * that exports one function, O2P_PLUGIN_ENTRY_SYMBOL, of type o2p_plugin_library_fn; it
 * returns the library's creators. A creator implements one operator: the parser maps ONNX
 * nodes of (onnx_domain, name) to it when onnx2plan has no native importer for them.
 *
 * Versioning: the ABI has a major and a minor. A library built for major M is loaded only by
 * hosts of major M (the host passes its major to the entry; the entry returns NULL for one it
 * does not serve, and the host refuses a library that reports another major). Within a major,
 * structs only grow: fields are appended, never moved, and each struct starts with its size so
 * that either side uses only the fields both know.
 *
 * C99, no onnx2plan internals: a plugin library builds against this header (and o2p.h for the
 * element types) alone. */
#ifndef O2P_PLUGIN_H
#define O2P_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "o2p/o2p.h"

#ifdef __cplusplus
extern "C" {
#endif

#define O2P_PLUGIN_ABI_MAJOR 1u
#define O2P_PLUGIN_ABI_MINOR 0u
/* The one function a plugin library exports, of type o2p_plugin_library_fn:
 *   const o2p_plugin_library *o2p_get_plugin_library(uint32_t host_abi_major); */
#define O2P_PLUGIN_ENTRY_SYMBOL "o2p_get_plugin_library"

/* A tensor's type and shape as seen at build time: dims[i] < 0 is unknown (symbolic);
 * rank O2P_RANK_UNKNOWN when not even the rank is known. */
typedef struct o2p_plugin_tensor_desc {
    o2p_dtype dtype;
    int rank;
    int64_t dims[O2P_MAX_RANK];
} o2p_plugin_tensor_desc;

/* A tensor at run time: packed, row-major; host memory for the host target. */
typedef struct o2p_plugin_tensor {
    o2p_dtype dtype;
    int rank;
    int64_t dims[O2P_MAX_RANK];
    void *data;
} o2p_plugin_tensor;

/* A field (the ONNX node's attribute of the same name), kinds as o2p_attr_type: INT, FLOAT,
 * STRING, INTS, FLOATS. */
typedef struct o2p_plugin_field {
    const char *name;
    o2p_attr_type type;
    int64_t i;
    float f;
    const char *s;
    int count;
    const int64_t *ints;
    const float *floats;
} o2p_plugin_field;

/* Where a plugin writes why it refuses something (always NUL-terminated by the host). */
typedef struct o2p_plugin_error {
    char *message;
    size_t size;
} o2p_plugin_error;

typedef struct o2p_plugin_creator {
    uint32_t size; /* sizeof(o2p_plugin_creator) as the library was built */
    const char *name;             /* the operator, e.g. "InstanceNormalization" */
    const char *version;          /* the plugin's version, e.g. "1" */
    const char *plugin_namespace; /* "" or e.g. "o2p" */
    const char *onnx_domain;      /* domain of the ONNX nodes it implements ("" default) */
    int num_fields;               /* the fields it reads */
    const char *const *field_names;
    int min_inputs, max_inputs;

    /* Output count, types and shapes from the inputs' (shapes may be partly unknown) and the
     * fields. Returns O2P_OK, or a status with a message in err. num_outputs is the count the
     * node declares; the plugin checks it. */
    o2p_status (*infer_outputs)(const o2p_plugin_tensor_desc *inputs, int num_inputs,
                                const o2p_plugin_field *fields, int num_fields,
                                o2p_plugin_tensor_desc *outputs, int num_outputs,
                                o2p_plugin_error *err);
    /* Whether it runs with these element types. */
    int (*supports)(const o2p_dtype *inputs, int num_inputs, const o2p_dtype *outputs,
                    int num_outputs);
    /* Scratch bytes enqueue needs for these (static) shapes. */
    uint64_t (*workspace_size)(const o2p_plugin_tensor_desc *inputs, int num_inputs,
                               const o2p_plugin_field *fields, int num_fields);
    /* Writes the fields it needs at run time into buf (at most capacity bytes) and returns
     * the bytes needed (call with capacity 0 to ask); the plan keeps them. */
    size_t (*serialize)(const o2p_plugin_field *fields, int num_fields, void *buf,
                        size_t capacity);
    /* Runs on the host: inputs and outputs with static shapes, the serialized fields, a
     * workspace of workspace_size bytes. The plugin validates everything it reads (the bytes
     * come from a plan). */
    o2p_status (*enqueue_host)(const void *serialized, size_t serialized_size,
                               const o2p_plugin_tensor *inputs, int num_inputs,
                               o2p_plugin_tensor *outputs, int num_outputs, void *workspace,
                               o2p_plugin_error *err);
    /* Runs on a CUDA stream (device pointers); NULL when the plugin has no CUDA code. */
    o2p_status (*enqueue_cuda)(const void *serialized, size_t serialized_size,
                               const o2p_plugin_tensor *inputs, int num_inputs,
                               o2p_plugin_tensor *outputs, int num_outputs, void *workspace,
                               void *stream, o2p_plugin_error *err);
} o2p_plugin_creator;

typedef struct o2p_plugin_library {
    uint32_t size; /* sizeof(o2p_plugin_library) as the library was built */
    uint32_t abi_major, abi_minor;
    const char *name; /* e.g. "o2p_plugins" */
    int num_creators;
    const o2p_plugin_creator *const *creators;
} o2p_plugin_library;

/* The entry: NULL when the library does not serve host_abi_major. */
typedef const o2p_plugin_library *(*o2p_plugin_library_fn)(uint32_t host_abi_major);

#ifdef __cplusplus
}
#endif

#endif
