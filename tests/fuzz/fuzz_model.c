/* fuzz_model.c: an ONNX model from hostile bytes: parse (no external data: no base folder),
 * then shape inference over whatever graph came out. */
#include "fuzz.h"
#include "o2p/o2p.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    if (o2p_network_create(&net) != O2P_OK)
        return 0;
    if (o2p_parser_create(net, &parser) == O2P_OK &&
        o2p_parser_parse_bytes(parser, data, size, NULL, "fuzz.onnx") == O2P_OK)
        o2p_network_infer_shapes(net);
    o2p_parser_destroy(parser);
    o2p_network_destroy(net);
    return 0;
}
