/* run.c: `onnx2plan run PLAN`: load a plan, bind inputs (from .npz/.npy or seeded random
 * values), run it, print the outputs and the latency in trtexec's style, save outputs. A cuda
 * plan runs on device 0 from device buffers the command allocates, on a stream of its own,
 * with the GPU compute time measured apart by CUDA events. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/npy.h"
#include "host/host_kernels.h"
#include "lean/cuda_driver.h"

static const char *const run_usage =
    "usage: onnx2plan run PLAN [options]\n"
    "\n"
    "Runs a plan and reports its outputs and latency. A cuda plan runs on device 0 (pick\n"
    "another with CUDA_VISIBLE_DEVICES): inputs are copied to the GPU, the plan is enqueued\n"
    "on a stream and the outputs are copied back each iteration (the latency); the GPU\n"
    "compute time between them is measured with CUDA events and reported apart.\n"
    "\n"
    "options:\n"
    "  --inputs IN.npz            input values, one array per input name\n"
    "  --input NAME=FILE.npy      the value of one input (repeatable; wins over --inputs)\n"
    "                             inputs given by neither get seeded random values\n"
    "  --seed N                   seed of the random inputs (default 1)\n"
    "  --save-outputs OUT.npz     write every output, named as in the model\n"
    "  --iterations N             timed runs (default 10)\n"
    "  --warmup N                 untimed runs first (default 2)\n"
    CLI_RUNTIME_OPTIONS_HELP
    "  -h, --help                 print this help and exit\n";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, int n, double p)
{
    if (n <= 0)
        return 0;
    int k = (int)ceil(p / 100.0 * n) - 1;
    if (k < 0)
        k = 0;
    if (k >= n)
        k = n - 1;
    return sorted[k];
}

/* ---------------------------------------------------------------- cuda plans */

/* What running a cuda plan from the command line needs: a buffer on the GPU per I/O tensor,
 * a stream and a pair of events around each enqueue. */
typedef struct gpu_run {
    const cuda_driver *d;
    cuda_device_info device;
    CUstream stream;
    CUevent start, end;
    CUdeviceptr *buffers; /* one per I/O tensor, 0 until allocated */
    int count;
} gpu_run;

static o2p_status cu_check(const cuda_driver *d, CUresult r, const char *what)
{
    if (r == CUDA_SUCCESS)
        return O2P_OK;
    char text[200];
    return o2p_fail(r == CUDA_ERROR_OUT_OF_MEMORY ? O2P_ERR_OUT_OF_MEMORY : O2P_ERR_INTERNAL,
                    "%s: %s", what, cuda_result_text(d, r, text, sizeof text));
}

static o2p_status gpu_setup(gpu_run *g, int nio, const char *plan)
{
    O2P_TRY(cuda_device_query(0, &g->device));
    if (!(g->d = cuda_driver_get(plan)))
        return O2P_ERR_UNSUPPORTED;
    CUcontext cuctx;
    O2P_TRY(cuda_use_device(0, &cuctx));
    g->buffers = calloc((size_t)nio + 1, sizeof *g->buffers);
    if (!g->buffers)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    g->count = nio;
    O2P_TRY(cu_check(g->d, g->d->cuStreamCreate(&g->stream, CU_STREAM_NON_BLOCKING),
                     "creating a CUDA stream"));
    O2P_TRY(cu_check(g->d, g->d->cuEventCreate(&g->start, CU_EVENT_DEFAULT),
                     "creating a CUDA event"));
    return cu_check(g->d, g->d->cuEventCreate(&g->end, CU_EVENT_DEFAULT), "creating a CUDA event");
}

/* A device buffer for I/O tensor io, bound to the context (a zero-byte tensor gets one byte:
 * every tensor has an address). */
static o2p_status gpu_bind(gpu_run *g, o2p_context *ctx, int io, const char *name,
                           size_t nbytes)
{
    char what[300];
    snprintf(what, sizeof what, "allocating %zu bytes of device memory for '%s'", nbytes, name);
    O2P_TRY(cu_check(g->d, g->d->cuMemAlloc(&g->buffers[io], nbytes ? nbytes : 1), what));
    return o2p_context_set_tensor_address(ctx, name, (void *)(uintptr_t)g->buffers[io]);
}

/* One iteration: inputs in, enqueue between the events, outputs back, wait; *gpu_ms is the
 * time between the events. */
static o2p_status gpu_iteration(gpu_run *g, o2p_context *ctx, const o2p_engine *engine,
                                const npy_array *arrays, float *gpu_ms)
{
    const cuda_driver *d = g->d;
    for (int i = 0; i < g->count; i++)
        if (o2p_engine_io_is_input(engine, i) && arrays[i].nbytes)
            O2P_TRY(cu_check(d, d->cuMemcpyHtoDAsync(g->buffers[i], arrays[i].data,
                                                     arrays[i].nbytes, g->stream),
                             "copying an input to the GPU"));
    O2P_TRY(cu_check(d, d->cuEventRecord(g->start, g->stream), "recording a CUDA event"));
    O2P_TRY(o2p_context_enqueue(ctx, g->stream));
    O2P_TRY(cu_check(d, d->cuEventRecord(g->end, g->stream), "recording a CUDA event"));
    for (int i = 0; i < g->count; i++)
        if (!o2p_engine_io_is_input(engine, i) && arrays[i].nbytes)
            O2P_TRY(cu_check(d, d->cuMemcpyDtoHAsync(arrays[i].data, g->buffers[i],
                                                     arrays[i].nbytes, g->stream),
                             "copying an output from the GPU"));
    /* an error of a kernel launched by the enqueue shows here */
    O2P_TRY(cu_check(d, d->cuStreamSynchronize(g->stream), "running the plan on the GPU"));
    return cu_check(d, d->cuEventElapsedTime(gpu_ms, g->start, g->end),
                    "reading the GPU compute time");
}

static void gpu_teardown(gpu_run *g)
{
    if (!g->d)
        return;
    for (int i = 0; g->buffers && i < g->count; i++)
        if (g->buffers[i])
            g->d->cuMemFree(g->buffers[i]);
    free(g->buffers);
    if (g->start)
        g->d->cuEventDestroy(g->start);
    if (g->end)
        g->d->cuEventDestroy(g->end);
    if (g->stream)
        g->d->cuStreamDestroy(g->stream);
}

static void print_times(const char *label, double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double sum = 0;
    for (int it = 0; it < n; it++)
        sum += t[it];
    printf("%s: min = %.4f ms, max = %.4f ms, mean = %.4f ms, median = %.4f ms, "
           "percentile(90%%) = %.4f ms, percentile(99%%) = %.4f ms\n",
           label, t[0], t[n - 1], sum / n, percentile(t, n, 50), percentile(t, n, 90),
           percentile(t, n, 99));
}

/* xorshift64*: small, seeded, the same values everywhere. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void fill_random(npy_array *a, uint64_t *state)
{
    unsigned char *p = a->data;
    size_t es = o2p_dtype_size(a->dtype);
    for (size_t i = 0; i < a->count; i++) {
        double u = (double)(next_random(state) >> 11) * (1.0 / 9007199254740992.0);
        switch (a->dtype) {
        case O2P_DTYPE_FLOAT: { float v = (float)(2 * u - 1); memcpy(p + i * 4, &v, 4); break; }
        case O2P_DTYPE_DOUBLE: { double v = 2 * u - 1; memcpy(p + i * 8, &v, 8); break; }
        case O2P_DTYPE_FLOAT16: { uint16_t v = o2p_float_to_half((float)(2 * u - 1)); memcpy(p + i * 2, &v, 2); break; }
        case O2P_DTYPE_BFLOAT16: { uint16_t v = o2p_float_to_bf16((float)(2 * u - 1)); memcpy(p + i * 2, &v, 2); break; }
        case O2P_DTYPE_BOOL: p[i] = u < 0.5; break;
        default: {
            /* integers: small non-negative values, valid as indices of most axes */
            uint64_t v = (uint64_t)(u * 4);
            memcpy(p + i * es, &v, es); /* little-endian: the low bytes */
            break;
        }
        }
    }
}

static void print_stats(const char *name, const npy_array *a)
{
    char shape[256] = "";
    size_t len = 0;
    for (int d = 0; d < a->rank && len < sizeof shape; d++)
        len += (size_t)snprintf(shape + len, sizeof shape - len, "%s%lld", d ? "x" : "",
                                (long long)a->dims[d]);
    if (a->rank == 0)
        snprintf(shape, sizeof shape, "scalar");
    /* the kernels' typed reads: every numeric type as a double */
    host_tensor view = {a->dtype, 0, {0}, a->data};
    double mn = INFINITY, mx = -INFINITY, sum = 0;
    int nan = 0;
    for (size_t i = 0; i < a->count; i++) {
        double v = o2p_dtype_size(a->dtype) && a->dtype != O2P_DTYPE_COMPLEX64 &&
                           a->dtype != O2P_DTYPE_COMPLEX128
                       ? host_get_f64(&view, (int64_t)i)
                       : NAN;
        if (isnan(v)) {
            nan++;
            continue;
        }
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
        sum += v;
    }
    size_t ok = a->count - (size_t)nan;
    printf("  %-24s %-8s %-16s", name, o2p_dtype_name(a->dtype), shape);
    if (ok)
        printf(" min %.6g  max %.6g  mean %.6g", mn, mx, sum / (double)ok);
    if (nan)
        printf("  (%d NaN)", nan);
    printf("\n");
}

int cmd_run(int argc, char **argv)
{
    const char *plan_path = NULL, *inputs_npz = NULL, *save = NULL;
    const char **single = calloc((size_t)argc + 1, sizeof *single);
    int nsingle = 0, iterations = 10, warmup = 2;
    unsigned long long seed = 1;
    runtime_opts ro = {0};
    if (!single)
        return cli_fail();
    int rc = EXIT_OK;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int used = cli_runtime_option(argc, argv, &i, &ro, "run");
        if (used >= 2) {
            free(single);
            return used == 2 ? EXIT_USAGE : EXIT_FAIL;
        }
        if (used)
            continue;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(run_usage, stdout);
            free(single);
            return EXIT_OK;
        } else if (strcmp(a, "--inputs") == 0 || strcmp(a, "--input") == 0 ||
                   strcmp(a, "--save-outputs") == 0 || strcmp(a, "--iterations") == 0 ||
                   strcmp(a, "--warmup") == 0 || strcmp(a, "--seed") == 0) {
            if (!val) {
                free(single);
                return cli_usage_error("%s needs a value", a, "run");
            }
            i++;
            char *end;
            if (strcmp(a, "--inputs") == 0) {
                inputs_npz = val;
            } else if (strcmp(a, "--input") == 0) {
                if (!strchr(val, '=')) {
                    free(single);
                    return cli_usage_error("--input '%s': expected NAME=FILE.npy", val, "run");
                }
                single[nsingle++] = val;
            } else if (strcmp(a, "--save-outputs") == 0) {
                save = val;
            } else if (strcmp(a, "--seed") == 0) {
                seed = strtoull(val, &end, 10);
                if (*end || !*val) {
                    free(single);
                    return cli_usage_error("--seed '%s': expected a number", val, "run");
                }
            } else {
                long n = strtol(val, &end, 10);
                if (*end || !*val || n < 0 || n > 1000000000 ||
                    (n == 0 && strcmp(a, "--iterations") == 0)) {
                    free(single);
                    return cli_usage_error("%s: expected a count (iterations at least 1)", a,
                                           "run");
                }
                if (strcmp(a, "--iterations") == 0)
                    iterations = (int)n;
                else
                    warmup = (int)n;
            }
        } else if (a[0] == '-' && a[1]) {
            free(single);
            return cli_usage_error("unknown option '%s'", a, "run");
        } else if (plan_path) {
            free(single);
            return cli_usage_error("more than one plan given ('%s')", a, "run");
        } else {
            plan_path = a;
        }
    }
    if (!plan_path) {
        free(single);
        return cli_usage_error("%srun needs a plan file", "", "run");
    }

    o2p_runtime *base = NULL, *rt = NULL;
    o2p_engine *engine = NULL;
    o2p_context *ctx = NULL;
    npy_npz npz = {0};
    npy_array *arrays = NULL;
    const char **names = NULL;
    double *lat = NULL, *gpu = NULL;
    int nio = 0;
    gpu_run g = {0};
    int cuda = 0;
    if ((rc = cli_make_runtime(&ro, &base, &rt)) != EXIT_OK)
        goto out;
    if (o2p_runtime_deserialize_file(rt, plan_path, &engine) != O2P_OK ||
        o2p_engine_create_context(engine, &ctx) != O2P_OK) {
        rc = cli_fail();
        goto out;
    }
    if (ro.verbose)
        printf("lean runtime: %s\n", o2p_engine_lean_runtime(engine));
    cuda = o2p_engine_target(engine) == O2P_TARGET_CUDA;
    if (inputs_npz && npy_read_npz_file(inputs_npz, &npz) != O2P_OK) {
        rc = cli_fail();
        goto out;
    }
    nio = o2p_engine_num_io_tensors(engine);
    arrays = calloc((size_t)nio + 1, sizeof *arrays);
    names = calloc((size_t)nio + 1, sizeof *names);
    lat = calloc((size_t)iterations + 1, sizeof *lat);
    gpu = calloc((size_t)iterations + 1, sizeof *gpu);
    if (!arrays || !names || !lat || !gpu) {
        o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        rc = cli_fail();
        goto out;
    }
    if (cuda && gpu_setup(&g, nio, plan_path) != O2P_OK) {
        rc = cli_fail();
        goto out;
    }
    uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < nio; i++) {
        const char *name = o2p_engine_io_name(engine, i);
        int64_t dims[O2P_MAX_RANK];
        int rank = o2p_engine_io_rank(engine, i);
        /* data-dependent output dims at their bound: the memory they may fill */
        for (int d = 0; d < rank; d++)
            dims[d] = o2p_engine_io_max_dim(engine, i, d);
        names[i] = name;
        const npy_array *given = NULL;
        npy_array single_arr = {0};
        int from_single = 0;
        if (o2p_engine_io_is_input(engine, i)) {
            for (int s = 0; s < nsingle; s++) {
                const char *eq = strrchr(single[s], '=');
                if ((size_t)(eq - single[s]) == strlen(name) &&
                    strncmp(single[s], name, strlen(name)) == 0) {
                    if (npy_read_npy_file(eq + 1, &single_arr) != O2P_OK) {
                        rc = cli_fail();
                        goto out;
                    }
                    given = &single_arr;
                    from_single = 1;
                }
            }
            if (!given && npz.count)
                given = npy_npz_find(&npz, name);
        }
        if (given) {
            int same = given->dtype == o2p_engine_io_dtype(engine, i) && given->rank == rank;
            for (int d = 0; same && d < rank; d++)
                same = given->dims[d] == dims[d];
            if (!same) {
                fprintf(stderr, "onnx2plan: error: the value given for input '%s' is %s with "
                        "rank %d; the plan wants %s", name, o2p_dtype_name(given->dtype),
                        given->rank, o2p_dtype_name(o2p_engine_io_dtype(engine, i)));
                for (int d = 0; d < rank; d++)
                    fprintf(stderr, "%s%lld", d ? "x" : " of shape ", (long long)dims[d]);
                fprintf(stderr, "\n");
                if (from_single)
                    npy_array_free(&single_arr);
                rc = EXIT_FAIL;
                goto out;
            }
        }
        size_t nbytes = o2p_dtype_size(o2p_engine_io_dtype(engine, i));
        for (int d = 0; d < rank && nbytes; d++)
            if (dims[d] < 0 || !o2p_mul_size(nbytes, (size_t)dims[d], &nbytes))
                nbytes = SIZE_MAX;
        void *buf = nbytes == SIZE_MAX ? NULL : malloc(nbytes ? nbytes : 1);
        if (!buf || npy_array_init(&arrays[i], o2p_engine_io_dtype(engine, i), rank, dims, buf) !=
                        O2P_OK) {
            free(buf);
            if (!buf)
                o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory for %s '%s'",
                         o2p_engine_io_is_input(engine, i) ? "input" : "output", name);
            if (from_single)
                npy_array_free(&single_arr);
            rc = cli_fail();
            goto out;
        }
        if (given && given->nbytes)
            memcpy(arrays[i].data, given->data, given->nbytes);
        if (from_single)
            npy_array_free(&single_arr);
        if (o2p_engine_io_is_input(engine, i) && !given)
            fill_random(&arrays[i], &state);
        if ((cuda ? gpu_bind(&g, ctx, i, name, arrays[i].nbytes)
                  : o2p_context_set_tensor_address(ctx, name, arrays[i].data)) != O2P_OK) {
            rc = cli_fail();
            goto out;
        }
    }
    for (int it = -warmup; it < iterations; it++) {
        double t0 = now_ms();
        float ms = 0;
        if ((cuda ? gpu_iteration(&g, ctx, engine, arrays, &ms)
                  : o2p_context_enqueue(ctx, NULL)) != O2P_OK) {
            rc = cli_fail();
            goto out;
        }
        if (it >= 0) {
            lat[it] = now_ms() - t0;
            gpu[it] = ms;
        }
    }
    /* Outputs with data-dependent dims: their data is packed for the shape the last run
     * gave, at the start of the bound-sized memory (the cuda iteration has synchronized). */
    for (int i = 0; i < nio; i++) {
        int dd = 0, rank = 0;
        for (int d = 0; d < o2p_engine_io_rank(engine, i); d++)
            dd |= o2p_engine_io_dim(engine, i, d) < 0;
        if (o2p_engine_io_is_input(engine, i) || !dd)
            continue;
        int64_t dims[O2P_MAX_RANK];
        if (o2p_context_get_tensor_shape(ctx, names[i], &rank, dims) != O2P_OK ||
            npy_array_init(&arrays[i], arrays[i].dtype, rank, dims, arrays[i].data) != O2P_OK) {
            rc = cli_fail();
            goto out;
        }
    }
    printf("outputs:\n");
    for (int i = 0; i < nio; i++)
        if (!o2p_engine_io_is_input(engine, i))
            print_stats(names[i], &arrays[i]);
    double sum = 0;
    for (int it = 0; it < iterations; it++)
        sum += lat[it];
    double mean = sum / iterations;
    print_times("Latency", lat, iterations);
    if (cuda) {
        print_times("GPU Compute Time", gpu, iterations);
        printf("Throughput: %.4g qps (%d iterations after %d warm-up, cuda target on device "
               "%d, %s; the latency includes copying inputs in and outputs out, the GPU "
               "compute time is the enqueue alone)\n",
               mean > 0 ? 1000.0 / mean : 0.0, iterations, warmup, g.device.ordinal,
               g.device.name);
    } else {
        printf("Throughput: %.4g qps (%d iterations after %d warm-up, host target, one "
               "thread)\n",
               mean > 0 ? 1000.0 / mean : 0.0, iterations, warmup);
    }
    if (save) {
        int nout = 0;
        const char **onames = calloc((size_t)nio + 1, sizeof *onames);
        npy_array *oarr = calloc((size_t)nio + 1, sizeof *oarr);
        if (!onames || !oarr) {
            free(onames);
            free(oarr);
            rc = cli_fail();
            goto out;
        }
        for (int i = 0; i < nio; i++)
            if (!o2p_engine_io_is_input(engine, i)) {
                onames[nout] = names[i];
                oarr[nout++] = arrays[i];
            }
        o2p_status st = npy_write_npz_file(save, onames, oarr, (size_t)nout, 0);
        free(onames);
        free(oarr);
        if (st != O2P_OK) {
            rc = cli_fail();
            goto out;
        }
        printf("saved %d output%s to %s\n", nout, nout == 1 ? "" : "s", save);
    }
out:
    for (int i = 0; arrays && i < nio; i++)
        free(arrays[i].data);
    free(arrays);
    free(names);
    free(lat);
    free(gpu);
    npy_npz_free(&npz);
    o2p_context_destroy(ctx);
    gpu_teardown(&g);
    o2p_engine_destroy(engine);
    cli_destroy_runtime(base, rt);
    free(single);
    return rc;
}
