/* alloc_failures.c: allocation-failure injection (issue 8; Lua's ltests.c does the same).
 * This program replaces malloc, calloc, realloc, aligned_alloc, posix_memalign and free (glibc
 * lets a program interpose them; libc's own strdup and friends then come here too). For each
 * job (parse a model and infer shapes; build a host plan; load a plan and run it) it first
 * counts the allocations a run makes, then for every N from 1 to that count runs the job with
 * the Nth allocation failing and checks: no crash, the job fails with a status and a message
 * (or, where a failure was absorbed, succeeds with the same result), and every block allocated
 * during the job was freed. Prints a line per job; exits 1 on the first violation.
 *
 * Not in the sanitizer build: ASan replaces the allocator itself. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "o2p/o2p.h"

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void *__libc_memalign(size_t alignment, size_t size);
void __libc_free(void *p);

/* ---------------------------------------------------------------- the allocator */

static int armed;               /* counting and failing only inside a job */
static long long count;         /* allocations made since armed */
static long long fail_at;       /* the allocation that fails (1-based); 0: none */
static int failed;              /* whether it did */
#define TRACK_CAP (1 << 20)
static void *live[TRACK_CAP];   /* blocks allocated while armed and not yet freed */
static long long live_count;

static size_t slot(void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 44) & (TRACK_CAP - 1);
}

static void track(void *p)
{
    size_t i = slot(p);
    while (live[i])
        i = (i + 1) & (TRACK_CAP - 1);
    live[i] = p;
    live_count++;
}

/* Forgets p if it was tracked (blocks from before the job are not). Deletion keeps probe
 * chains intact by re-inserting the entries after the hole. */
static void untrack(void *p)
{
    size_t i = slot(p);
    while (live[i] && live[i] != p)
        i = (i + 1) & (TRACK_CAP - 1);
    if (!live[i])
        return;
    live[i] = NULL;
    live_count--;
    for (size_t j = (i + 1) & (TRACK_CAP - 1); live[j]; j = (j + 1) & (TRACK_CAP - 1)) {
        void *q = live[j];
        live[j] = NULL;
        live_count--;
        track(q);
    }
}

/* Whether this allocation is the one to fail. */
static int should_fail(void)
{
    if (!armed)
        return 0;
    count++;
    if (fail_at && count == fail_at) {
        failed = 1;
        return 1;
    }
    return 0;
}

void *malloc(size_t size)
{
    if (should_fail())
        return NULL;
    void *p = __libc_malloc(size);
    if (p && armed)
        track(p);
    return p;
}

void *calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    void *p = __libc_calloc(n, size);
    if (p && armed)
        track(p);
    return p;
}

void *realloc(void *old, size_t size)
{
    if (should_fail())
        return NULL;
    void *p = __libc_realloc(old, size);
    if (armed) {
        if (old && (p || size == 0))
            untrack(old);
        if (p)
            track(p);
    }
    return p;
}

void *aligned_alloc(size_t alignment, size_t size)
{
    if (should_fail())
        return NULL;
    void *p = __libc_memalign(alignment, size);
    if (p && armed)
        track(p);
    return p;
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    if (should_fail())
        return ENOMEM;
    void *p = __libc_memalign(alignment, size);
    if (!p)
        return ENOMEM;
    if (armed)
        track(p);
    *out = p;
    return 0;
}

void free(void *p)
{
    if (p && armed)
        untrack(p);
    __libc_free(p);
}

/* ---------------------------------------------------------------- jobs */

static void quiet(void *user, o2p_severity s, const char *m)
{
    (void)user;
    (void)s;
    (void)m;
}

static unsigned char *model_bytes;
static size_t model_size;
static void *plan_bytes;
static size_t plan_size;

/* A job returns its status and writes a fingerprint of its result (0 on failure). */
typedef o2p_status (*job_fn)(uint64_t *fingerprint);

static o2p_status parse_model(o2p_network **net, o2p_parser **parser)
{
    *net = NULL;
    *parser = NULL;
    o2p_status st = o2p_network_create(net);
    if (st == O2P_OK)
        st = o2p_parser_create(*net, parser);
    if (st == O2P_OK)
        st = o2p_parser_set_flag(*parser, O2P_PARSER_FLAG_NATIVE_INSTANCENORM, 1);
    if (st == O2P_OK)
        st = o2p_parser_parse_bytes(*parser, model_bytes, model_size, NULL, "tiny_cnn.onnx");
    if (st == O2P_OK) {
        o2p_tensor *in = o2p_graph_get_input(o2p_network_get_graph(*net), 0);
        int64_t dims[4] = {1, 3, 32, 32};
        st = in ? o2p_tensor_set_shape(in, 4, dims) : O2P_ERR_INTERNAL;
    }
    return st;
}

static o2p_status job_parse(uint64_t *fp)
{
    o2p_network *net;
    o2p_parser *parser;
    o2p_status st = parse_model(&net, &parser);
    if (st == O2P_OK)
        st = o2p_network_infer_shapes(net);
    if (st == O2P_OK) {
        o2p_graph *g = o2p_network_get_graph(net);
        o2p_tensor *out = o2p_graph_get_output(g, 0);
        *fp = (uint64_t)o2p_graph_num_layers(g) * 1000003u + (uint64_t)o2p_tensor_get_dim(out, 1);
    }
    o2p_parser_destroy(parser);
    o2p_network_destroy(net);
    return st;
}

static o2p_status build(o2p_network *net, void **plan, size_t *size)
{
    o2p_builder *b = NULL;
    o2p_builder_config *c = NULL;
    o2p_status st = o2p_builder_create(&b);
    if (st == O2P_OK)
        st = o2p_builder_config_create(&c);
    if (st == O2P_OK)
        st = o2p_builder_config_set_target(c, O2P_TARGET_HOST, NULL, 0);
    if (st == O2P_OK)
        st = o2p_builder_build_serialized(b, net, c, plan, size);
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
    return st;
}

static uint64_t hash_bytes(const void *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ull;
    return h;
}

static o2p_status job_build(uint64_t *fp)
{
    o2p_network *net;
    o2p_parser *parser;
    void *plan = NULL;
    size_t size = 0;
    o2p_status st = parse_model(&net, &parser);
    if (st == O2P_OK)
        st = build(net, &plan, &size);
    if (st == O2P_OK)
        *fp = hash_bytes(plan, size);
    o2p_free(plan);
    o2p_parser_destroy(parser);
    o2p_network_destroy(net);
    return st;
}

static o2p_status job_load_and_run(uint64_t *fp)
{
    o2p_runtime *rt = NULL;
    o2p_engine *e = NULL;
    o2p_context *ctx = NULL;
    float in[3 * 32 * 32], out[64];
    for (int i = 0; i < 3 * 32 * 32; i++)
        in[i] = (float)((i * 7919) % 200 - 100) / 100.0f;
    memset(out, 0, sizeof out);
    o2p_status st = o2p_runtime_create(&rt);
    if (st == O2P_OK)
        st = o2p_runtime_deserialize(rt, plan_bytes, plan_size, &e);
    if (st == O2P_OK)
        st = o2p_engine_create_context(e, &ctx);
    if (st == O2P_OK)
        st = o2p_context_set_tensor_address(ctx, o2p_engine_io_name(e, 0), in);
    if (st == O2P_OK)
        st = o2p_context_set_tensor_address(ctx, o2p_engine_io_name(e, 1), out);
    if (st == O2P_OK)
        st = o2p_context_enqueue(ctx, NULL);
    if (st == O2P_OK)
        *fp = hash_bytes(out, sizeof(float) * 10);
    o2p_context_destroy(ctx);
    o2p_engine_destroy(e);
    o2p_runtime_destroy(rt);
    return st;
}

static int run_job(const char *name, job_fn job)
{
    uint64_t want = 0;
    armed = 1;
    count = 0;
    fail_at = 0;
    live_count = 0;
    memset(live, 0, sizeof live);
    o2p_status st = job(&want);
    armed = 0;
    long long total = count;
    if (st != O2P_OK || live_count != 0) {
        printf("%s: the job itself fails (%s: %s) or leaks (%lld blocks)\n", name,
               o2p_status_name(st), o2p_last_error(), live_count);
        return 0;
    }
    long long failures = 0, absorbed = 0;
    for (long long n = 1; n <= total; n++) {
        uint64_t got = 0;
        memset(live, 0, sizeof live);
        live_count = 0;
        failed = 0;
        count = 0;
        fail_at = n;
        armed = 1;
        st = job(&got);
        armed = 0;
        if (live_count != 0) {
            printf("%s: allocation %lld of %lld failing leaks %lld blocks (status %s: %s)\n",
                   name, n, total, live_count, o2p_status_name(st), o2p_last_error());
            return 0;
        }
        if (st == O2P_OK) {
            if (got != want) {
                printf("%s: allocation %lld of %lld failing gives O2P_OK with another result\n",
                       name, n, total);
                return 0;
            }
            absorbed++;
        } else if (!o2p_last_error()[0]) {
            printf("%s: allocation %lld failing gives %s with no message\n", name, n,
                   o2p_status_name(st));
            return 0;
        } else {
            failures++;
        }
    }
    printf("%s: %lld allocations; each failing in turn: %lld clean errors, %lld absorbed "
           "(same result), no leak\n",
           name, total, failures, absorbed);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: alloc_failures MODEL.onnx (models/tiny_cnn.onnx)\n");
        return 2;
    }
    o2p_set_logger(quiet, NULL, O2P_SEVERITY_ERROR);
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "alloc_failures: cannot open %s\n", argv[1]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    model_size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    model_bytes = malloc(model_size);
    if (!model_bytes || fread(model_bytes, 1, model_size, f) != model_size) {
        fclose(f);
        return 2;
    }
    fclose(f);
    /* The plan the load job reads, made before any injection. */
    o2p_network *net;
    o2p_parser *parser;
    if (parse_model(&net, &parser) != O2P_OK || build(net, &plan_bytes, &plan_size) != O2P_OK) {
        fprintf(stderr, "alloc_failures: cannot build %s: %s\n", argv[1], o2p_last_error());
        return 2;
    }
    o2p_parser_destroy(parser);
    o2p_network_destroy(net);
    int ok = run_job("parse + infer", job_parse) && run_job("build (host plan)", job_build) &&
             run_job("load plan + run", job_load_and_run);
    o2p_free(plan_bytes);
    free(model_bytes);
    return ok ? 0 : 1;
}
