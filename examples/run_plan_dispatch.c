/* run_plan_dispatch.c: runs a version-compatible plan with libo2p_dispatch alone (no parser,
 * no builder, no kernels in this program or that library: the plan's own lean runtime runs
 * it). Inputs get fixed values; each output's first values are printed.
 *
 *   run_plan_dispatch PLAN [--allow-host-code]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "o2p/o2p.h"

static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static size_t io_bytes(const o2p_engine *e, int i)
{
    size_t n = o2p_dtype_size(o2p_engine_io_dtype(e, i));
    for (int d = 0; d < o2p_engine_io_rank(e, i); d++)
        n *= (size_t)o2p_engine_io_dim(e, i, d);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PLAN [--allow-host-code]\n", argv[0]);
        return 2;
    }
    int allow = argc > 2 && strcmp(argv[2], "--allow-host-code") == 0;
    size_t size;
    void *plan = read_file(argv[1], &size);
    if (!plan) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    o2p_runtime *rt = NULL;
    o2p_engine *engine = NULL;
    o2p_context *ctx = NULL;
    int rc = 1;
    void **buffers = NULL;
    int n = 0;
    if (o2p_runtime_create(&rt) != O2P_OK ||
        o2p_runtime_set_engine_host_code_allowed(rt, allow) != O2P_OK ||
        o2p_runtime_deserialize(rt, plan, size, &engine) != O2P_OK ||
        o2p_engine_create_context(engine, &ctx) != O2P_OK) {
        fprintf(stderr, "error: %s\n", o2p_last_error());
        goto out;
    }
    printf("runtime %s; lean runtime: %s\n", o2p_version(), o2p_engine_lean_runtime(engine));
    n = o2p_engine_num_io_tensors(engine);
    buffers = calloc((size_t)n, sizeof *buffers);
    for (int i = 0; i < n; i++) {
        size_t bytes = io_bytes(engine, i);
        buffers[i] = calloc(1, bytes ? bytes : 1);
        if (o2p_engine_io_is_input(engine, i) &&
            o2p_engine_io_dtype(engine, i) == O2P_DTYPE_FLOAT)
            for (size_t k = 0; k < bytes / 4; k++)
                ((float *)buffers[i])[k] = (float)((k % 17) - 8) * 0.1f;
        if (o2p_context_set_tensor_address(ctx, o2p_engine_io_name(engine, i), buffers[i]) !=
            O2P_OK) {
            fprintf(stderr, "error: %s\n", o2p_last_error());
            goto out;
        }
    }
    if (o2p_context_enqueue(ctx, NULL) != O2P_OK) {
        fprintf(stderr, "error: %s\n", o2p_last_error());
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (o2p_engine_io_is_input(engine, i) || o2p_engine_io_dtype(engine, i) != O2P_DTYPE_FLOAT)
            continue;
        printf("%s:", o2p_engine_io_name(engine, i));
        for (size_t k = 0; k < io_bytes(engine, i) / 4 && k < 5; k++)
            printf(" %.6f", ((float *)buffers[i])[k]);
        printf("\n");
    }
    rc = 0;
out:
    for (int i = 0; buffers && i < n; i++)
        free(buffers[i]);
    free(buffers);
    o2p_context_destroy(ctx);
    o2p_engine_destroy(engine);
    o2p_runtime_destroy(rt);
    free(plan);
    return rc;
}
