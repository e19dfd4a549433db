/* nesting.c: a wire-format walk that bounds message nesting before protobuf-c unpacks a
 * model (protobuf-c recurses once per nested message and has no depth limit, so a few
 * hundred bytes of nested graphs would otherwise exhaust the stack). */
#include "onnx/onnx.h"
#include "onnx.pb-c.h"

typedef struct nest_walk {
    const char *what;
    int graph_depth;
} nest_walk;

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
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE)
                O2P_TRY(walk(w, f->descriptor, p, p + len, depth + 1));
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

o2p_status onnx_check_nesting(const uint8_t *bytes, size_t size, const char *what)
{
    nest_walk w = {what, -1}; /* the main graph is depth 0; bodies count from 1 */
    return walk(&w, &onnx__model_proto__descriptor, bytes, bytes + size, 1);
}
