/* fuzz_plan.c: a plan file from hostile bytes: the container reader, the text and JSON
 * descriptions, the runtime's checks, and deserialization with host code NOT allowed (so
 * nothing a plan carries is ever loaded), then a context. */
#include <stdlib.h>

#include "fuzz.h"
#include "o2p/o2p.h"
#include "plan/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    plan_view view;
    if (plan_read(data, size, "fuzz.plan", &view) == O2P_OK) {
        char small[64];
        size_t need = plan_format(&view, PLAN_FORMAT_TEXT, small, sizeof small);
        char *text = malloc(need + 1);
        if (text) {
            plan_format(&view, PLAN_FORMAT_TEXT, text, need + 1);
            free(text);
        }
        need = plan_format(&view, PLAN_FORMAT_JSON, NULL, 0);
        text = malloc(need + 1);
        if (text) {
            plan_format(&view, PLAN_FORMAT_JSON, text, need + 1);
            free(text);
        }
    }
    o2p_runtime *rt = NULL;
    if (o2p_runtime_create(&rt) != O2P_OK)
        return 0;
    o2p_engine *engine = NULL;
    if (o2p_runtime_check(rt, data, size, "fuzz.plan") == O2P_OK &&
        o2p_runtime_deserialize(rt, data, size, &engine) == O2P_OK) {
        o2p_context *ctx = NULL;
        if (o2p_engine_create_context(engine, &ctx) == O2P_OK)
            o2p_context_destroy(ctx);
        o2p_engine_destroy(engine);
    }
    o2p_runtime_destroy(rt);
    return 0;
}
