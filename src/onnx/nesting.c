/* nesting.c: a wire-format walk that bounds message nesting before protobuf-c unpacks a
 * model (protobuf-c recurses once per nested message and has no depth limit, so a few
 * hundred bytes of nested graphs would otherwise exhaust the stack). The same walk bounds
 * string lengths and counts nodes, so that protobuf-c never allocates for a model over
 * those limits either. */
#include <string.h>

#include "onnx.pb-c.h"
#include "onnx/onnx.h"

typedef struct nest_walk {
    const char *what;
    const onnx_limits *limits;
    int graph_depth;
    uint64_t nodes;
} nest_walk;

/* Fields that hold text: every `string`, and the `bytes` fields that ONNX uses for strings
 * (AttributeProto.s / strings, TensorProto.string_data); raw_data is tensor data, bounded by
 * the weight limit instead. */
static int is_text_field(const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor *f)
{
    if (f->type == PROTOBUF_C_TYPE_STRING)
        return 1;
    return f->type == PROTOBUF_C_TYPE_BYTES &&
           !(desc == &onnx__tensor_proto__descriptor && strcmp(f->name, "raw_data") == 0);
}

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return 0;
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

static o2p_status walk(nest_walk *w, const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                       const uint8_t *end, int depth)
{
    if (depth > ONNX_MAX_MESSAGE_DEPTH)
        return o2p_fail(O2P_ERR_LIMIT,
                        "%s: messages nest more than %d deep; refusing to decode it (loader "
                        "limit, see docs/limits.md)",
                        w->what, ONNX_MAX_MESSAGE_DEPTH);
    int is_graph = desc == &onnx__graph_proto__descriptor;
    if (is_graph && ++w->graph_depth > ONNX_MAX_GRAPH_DEPTH)
        return o2p_fail(O2P_ERR_LIMIT,
                        "%s: subgraphs nest more than %d deep (If/Loop/Scan bodies inside "
                        "bodies); refusing to decode it (loader limit, see docs/limits.md)",
                        w->what, ONNX_MAX_GRAPH_DEPTH);
    while (p < end) {
        uint64_t key, len;
        if (!read_varint(&p, end, &key))
            goto malformed;
        uint32_t wire = (uint32_t)(key & 7);
        uint64_t field = key >> 3;
        if (field == 0 || field > 0x1fffffff)
            goto malformed;
        switch (wire) {
        case 0:
            if (!read_varint(&p, end, &len))
                goto malformed;
            break;
        case 1:
            if (end - p < 8)
                goto malformed;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                goto malformed;
            p += 4;
            break;
        case 2: {
            if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p))
                goto malformed;
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(desc, (unsigned)field);
            if (f && is_text_field(desc, f) && len > w->limits->string_bytes)
                return o2p_fail(O2P_ERR_LIMIT,
                                "%s: a string (%s.%s) is %llu bytes long, over the limit of %llu "
                                "bytes for one name, doc string or attribute string (loader "
                                "limit O2P_PARSER_LIMIT_STRING_BYTES); raise it with "
                                "o2p_parser_set_limit(parser, O2P_PARSER_LIMIT_STRING_BYTES, "
                                "bytes)",
                                w->what, desc->short_name, f->name, (unsigned long long)len,
                                (unsigned long long)w->limits->string_bytes);
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (f->descriptor == &onnx__node_proto__descriptor)
                    w->nodes++;
                O2P_TRY(walk(w, f->descriptor, p, p + len, depth + 1));
            }
            p += len;
            break;
        }
        default: /* groups (3, 4) are not used by onnx.proto; anything else is invalid */
            goto malformed;
        }
    }
    if (is_graph)
        w->graph_depth--;
    return O2P_OK;
malformed:
    return o2p_fail(O2P_ERR_PARSE,
                    "%s: not a valid ONNX model: the protobuf encoding is broken inside a %s "
                    "message (truncated or corrupted file?)",
                    w->what, desc->short_name);
}

o2p_status onnx_check_wire(const uint8_t *bytes, size_t size, const char *what,
                           const onnx_limits *limits)
{
    nest_walk w = {what, limits, -1, 0}; /* the main graph is depth 0; bodies count from 1 */
    O2P_TRY(walk(&w, &onnx__model_proto__descriptor, bytes, bytes + size, 1));
    /* Counted to the end rather than stopped at the limit, so the message gives the count. */
    if (w.nodes > limits->nodes)
        return o2p_fail(O2P_ERR_LIMIT,
                        "%s: the model has %llu nodes (all graphs, subgraphs and functions "
                        "together), over the limit of %llu (loader limit "
                        "O2P_PARSER_LIMIT_NODES); raise it with o2p_parser_set_limit(parser, "
                        "O2P_PARSER_LIMIT_NODES, count)",
                        what, (unsigned long long)w.nodes, (unsigned long long)limits->nodes);
    return O2P_OK;
}
