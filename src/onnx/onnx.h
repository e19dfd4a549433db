/* onnx.h: the ONNX parser stage: ModelProto bytes → network IR. Everything that touches
 * protobuf-c's ONNX structures lives in src/onnx/. */
#ifndef O2P_ONNX_H
#define O2P_ONNX_H

#include "ir/ir.h"

/* Loader limits (docs/limits.md lists them for users). */
#define ONNX_MAX_MODEL_BYTES ((size_t)2 << 30)   /* protobuf's own 2 GiB message limit */
#define ONNX_MAX_GRAPH_DEPTH 64                  /* subgraphs inside subgraphs */
#define ONNX_MAX_MESSAGE_DEPTH 320               /* any message inside messages */
#define ONNX_MAX_EXTERNAL_PATH 4096
/* Defaults of the limits a caller may change (o2p_parser_set_limit; why these values:
 * docs/limits.md). */
#define ONNX_MAX_NODES ((uint64_t)1 << 24)         /* NodeProtos in the whole model */
#define ONNX_MAX_WEIGHT_BYTES ((uint64_t)1 << 40)  /* tensor data, external data included */
#define ONNX_MAX_STRING_BYTES ((uint64_t)1 << 20)  /* one name, doc string, attribute string */

/* The limits one parse runs under. */
typedef struct onnx_limits {
    uint64_t nodes;
    uint64_t weight_bytes;
    uint64_t string_bytes;
} onnx_limits;

struct Onnx__TensorProto;

/* Checks, on the raw wire format and before protobuf-c unpacks anything, that graphs nest at
 * most ONNX_MAX_GRAPH_DEPTH deep and messages at most ONNX_MAX_MESSAGE_DEPTH (protobuf-c
 * recurses without a limit), that no string is longer than limits->string_bytes and that
 * the model has at most limits->nodes nodes (so that protobuf-c never allocates for them).
 * `what` names the model in messages. */
o2p_status onnx_check_wire(const uint8_t *bytes, size_t size, const char *what,
                           const onnx_limits *limits);

/* Reads the bytes of a tensor stored as external data (exactly nbytes) into memory it
 * allocates from net once every check has passed: a relative location without `..`, inside
 * base_dir also after resolving symbolic links, not itself a symbolic link, a regular file
 * with one link, and a range inside the file (docs/limits.md). The only function that opens
 * external data. */
o2p_status onnx_read_external(const char *base_dir, const struct Onnx__TensorProto *tp,
                              const char *tensor_name, size_t nbytes, ir_network *net,
                              void **out);

/* Reads a serialized TensorProto (e.g. a test case's input_0.pb) and turns tensor t of the
 * network into a constant holding it (dtype, shape, data). External data is refused.
 * `what` names the file in messages. */
o2p_status onnx_load_tensor_proto(ir_network *net, ir_tensor *t, const void *bytes, size_t size,
                                  const char *what);

#endif
