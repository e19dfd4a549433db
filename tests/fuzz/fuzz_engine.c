/* fuzz_engine.c: an ENGINE section from hostile bytes: the lean runtime's reader (tables only,
 * which is how cuda engines with their launches and images are checked without a GPU; then
 * as a host engine) and, when it accepts a host engine small enough to run in a moment, a
 * context that executes it on zeroed inputs with the host reference kernels. */
#include <stdlib.h>

#include "fuzz.h"
#include "lean/lean.h"
#include "lean/lean_abi.h"

/* Run an accepted engine only when all its memory fits in this (keeps each input fast). */
#define RUN_LIMIT ((uint64_t)1 << 20)

static void run(const lean_engine *e)
{
    uint64_t total = lean_engine_arena_size(e);
    int nio = lean_engine_num_io(e);
    for (int i = 0; i < nio; i++)
        total += lean_engine_io_nbytes(e, i);
    for (int t = 0; t < lean_engine_num_tensors(e); t++)
        total += lean_engine_tensor_nbytes(e, t);
    if (total > RUN_LIMIT)
        return;
    lean_context *ctx = NULL;
    if (lean_context_create(e, &ctx) != O2P_OK)
        return;
    void **bufs = calloc((size_t)nio + 1, sizeof *bufs);
    int ok = bufs != NULL;
    for (int i = 0; ok && i < nio; i++) {
        uint64_t n = lean_engine_io_nbytes(e, i);
        bufs[i] = calloc(1, n ? (size_t)n : 1);
        ok = bufs[i] && lean_context_set_tensor_address(ctx, lean_engine_io_name(e, i),
                                                        bufs[i]) == O2P_OK;
    }
    if (ok)
        lean_context_execute(ctx);
    for (int i = 0; bufs && i < nio; i++)
        free(bufs[i]);
    free(bufs);
    lean_context_destroy(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    lean_engine *e = NULL;
    if (lean_engine_create_flags(data, size, "fuzz ENGINE", NULL, NULL, NULL,
                                 LEAN_CREATE_TABLES_ONLY, &e) == O2P_OK) {
        for (int i = 0; i < lean_engine_num_images(e); i++) {
            const char *family;
            uint32_t kind, arch, arch_specific;
            uint64_t bytes;
            lean_engine_image(e, i, &family, &kind, &arch, &arch_specific, &bytes);
        }
        lean_engine_destroy(e);
        e = NULL;
    }
    if (lean_engine_create(data, size, "fuzz ENGINE", &e) == O2P_OK) {
        run(e);
        lean_engine_destroy(e);
    }
    return 0;
}
