/* runner.c: the ONNX conformance runner. Every case of the installed ONNX test data (Debian
 * libonnx-testdata: node, pytorch-converted, pytorch-operator, simple) goes through parse ->
 * build -> serialize -> deserialize -> run on a target, and its outputs are compared with the
 * case's: floats |a-b| <= atol + rtol*|b| (NaN where NaN), other types exactly.
 *
 *   o2p_conformance [--target host|cuda] [--arch sm_XY] [--data DIR] [--groups a,b]
 *                   [--filter SUBSTR] [--exclusions FILE] [--kernel-cache DIR]
 *                   [--precision fp32|tf32|fp16|bf16] [--compare-host] [--random SEED]
 *                   [--tactic-sources builtin,cublas,cublaslt,cudnn] [--build-only]
 *                   [--min-pass N] [-v]
 *
 * Prints a line per case that does not pass (and per passing case with -v), a table per op
 * and one per group, and last "N passed, N failed, N skipped". --compare-host also runs each case on the host
 * target and compares the target's outputs with the host's (relative error max|a-b|/max|b|
 * per output, bounded by the precision: fp32 1e-5, tf32 1e-3, fp16/bf16 1e-2); with
 * --random SEED the float inputs get seeded uniform values in [-2, 2] instead of the case's
 * (the case's outputs then do not apply: only the host comparison is made). --build-only
 * stops after building (to fill the kernel cache on a machine without a GPU).
 * Exit status: 0 when nothing failed (with --min-pass N: when at least N cases passed, which
 * is how ctest holds the line while ops are still missing), 1 otherwise, 2 on bad arguments. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/host_kernels.h"
#include "ir/ir.h"
#include "lean/cuda_driver.h"
#include "o2p/o2p.h"
#include "onnx/onnx.h"

typedef struct options {
    const char *data;
    const char *groups;
    const char *filter;
    const char *exclusions;
    const char *kernel_cache;
    const char *precision;
    o2p_target target;
    int arch;
    int compare_host;
    int verbose;
    int min_pass; /* --min-pass N: succeed when at least N cases pass (-1: when none fails) */
    int build_only; /* --build-only: build the plans (fills the kernel cache), run nothing */
    unsigned long long random_seed; /* --random SEED: float inputs get random values */
    int random;
    uint32_t tactic_sources; /* --tactic-sources builtin,cublas,...: 0 keeps the default */
} options;

typedef struct op_row {
    char op[64];
    int pass, fail, skip;
} op_row;

typedef struct stats {
    int pass, build_fail, run_fail, wrong, skip;
    op_row *ops;
    int num_ops, cap_ops;
    char **excl_names;
    char **excl_reasons;
    int num_excl;
    double worst_rel; /* --compare-host: the largest relative error seen */
    char worst_case[256];
} stats;

/* A tensor read from a .pb file. */
typedef struct pb_tensor {
    o2p_dtype dtype;
    int rank;
    int64_t dims[O2P_MAX_RANK];
    void *data;
    size_t nbytes;
} pb_tensor;

static void quiet(void *user, o2p_severity severity, const char *message)
{
    (void)user;
    (void)severity;
    (void)message;
}

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            char *g = realloc(buf, cap + 1);
            if (!g) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = g;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    *size = len;
    return buf;
}

/* Reads a TensorProto file. bfloat16 quirk of the onnx 1.12 data: stored as uint16 bits. */
static int read_pb(const char *path, o2p_dtype declared, pb_tensor *out, char *why, size_t wsize)
{
    memset(out, 0, sizeof *out);
    size_t size = 0;
    char *bytes = read_file(path, &size);
    if (!bytes) {
        snprintf(why, wsize, "cannot read %s", path);
        return 0;
    }
    ir_network *net = ir_network_new();
    ir_tensor *t = NULL;
    o2p_status st = net ? ir_tensor_new(net->main, "pb", IR_TENSOR_INPUT, &t) : O2P_ERR_OUT_OF_MEMORY;
    if (st == O2P_OK)
        st = onnx_load_tensor_proto(net, t, bytes, size, path);
    free(bytes);
    if (st != O2P_OK || !t->data) {
        snprintf(why, wsize, "%s: %s", path, st != O2P_OK ? o2p_last_error() : "no data");
        ir_network_free(net);
        return 0;
    }
    out->dtype = t->dtype;
    if (declared == O2P_DTYPE_BFLOAT16 && t->dtype == O2P_DTYPE_UINT16)
        out->dtype = O2P_DTYPE_BFLOAT16;
    out->rank = t->shape.rank;
    for (int i = 0; i < t->shape.rank; i++)
        out->dims[i] = t->shape.dims[i].value;
    out->nbytes = t->nbytes;
    out->data = malloc(out->nbytes ? out->nbytes : 1);
    if (out->data)
        memcpy(out->data, t->data, out->nbytes);
    ir_network_free(net);
    return out->data != NULL;
}

static int64_t numel(const pb_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

static int is_float(o2p_dtype t)
{
    return t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_DOUBLE || t == O2P_DTYPE_FLOAT16 ||
           t == O2P_DTYPE_BFLOAT16;
}

static host_tensor view(o2p_dtype dtype, void *data)
{
    host_tensor h;
    memset(&h, 0, sizeof h);
    h.dtype = dtype;
    h.data = data;
    return h;
}

/* Compares got (dtype/shape of want) with want: 1 when equal within the tolerance. */
static int same(const char *name, const void *got, const pb_tensor *want, char *why,
                size_t wsize)
{
    host_tensor hg = view(want->dtype, (void *)got), hw = view(want->dtype, want->data);
    int64_t n = numel(want);
    double atol = 1e-5, rtol = 1e-3;
    if (want->dtype == O2P_DTYPE_FLOAT16 || want->dtype == O2P_DTYPE_BFLOAT16)
        atol = 1e-3, rtol = 1e-2;
    for (int64_t i = 0; i < n; i++) {
        if (is_float(want->dtype)) {
            double a = host_get_f64(&hg, i), b = host_get_f64(&hw, i);
            if (isnan(b) ? !isnan(a) : !(a == b || fabs(a - b) <= atol + rtol * fabs(b))) {
                snprintf(why, wsize, "output '%s' element %lld is %.9g, expected %.9g", name,
                         (long long)i, a, b);
                return 0;
            }
        } else if (host_get_i64(&hg, i) != host_get_i64(&hw, i)) {
            snprintf(why, wsize, "output '%s' element %lld is %lld, expected %lld", name,
                     (long long)i, (long long)host_get_i64(&hg, i),
                     (long long)host_get_i64(&hw, i));
            return 0;
        }
    }
    return 1;
}

static int has_op(const char *ops, const char *op)
{
    char list[600], key[80];
    snprintf(list, sizeof list, ",%s,", ops);
    snprintf(key, sizeof key, ",%s,", op);
    return strstr(list, key) != NULL;
}

/* A random op's output: right size (checked by the caller), and for Bernoulli only 0 and 1. */
static int valid_random(const char *name, const void *got, const pb_tensor *want,
                        const char *ops, char *why, size_t wsize)
{
    if (!has_op(ops, "Bernoulli"))
        return 1;
    host_tensor h = view(want->dtype, (void *)got);
    for (int64_t i = 0; i < numel(want); i++) {
        double v = host_get_f64(&h, i);
        if (v != 0 && v != 1) {
            snprintf(why, wsize, "output '%s' element %lld is %g; Bernoulli gives 0 or 1", name,
                     (long long)i, v);
            return 0;
        }
    }
    return 1;
}

/* max|a-b| / max|b| over an output (0 when both are all zero; NaN positions must agree). */
static double rel_error(const void *a, const void *b, o2p_dtype dtype, int64_t n)
{
    host_tensor ha = view(dtype, (void *)a), hb = view(dtype, (void *)b);
    double diff = 0, mag = 0;
    for (int64_t i = 0; i < n; i++) {
        double x = host_get_f64(&ha, i), y = host_get_f64(&hb, i);
        if (isnan(x) || isnan(y)) {
            if (isnan(x) != isnan(y))
                return INFINITY;
            continue;
        }
        if (isinf(x) || isinf(y)) {
            if (x != y)
                return INFINITY;
            continue;
        }
        if (fabs(x - y) > diff)
            diff = fabs(x - y);
        if (fabs(y) > mag)
            mag = fabs(y);
    }
    return mag > 0 ? diff / mag : diff;
}

/* ---------------------------------------------------------------- running a plan */

typedef struct run_io {
    int num_inputs;
    const char **input_names;
    pb_tensor *inputs;
    int num_outputs;
    const char **output_names;
    void **outputs; /* malloc'ed host copies, filled by run_plan */
    size_t *output_bytes; /* of the actual shape (data-dependent outputs: less than bound) */
    /* per output, set by run_plan when one of its dims is data-dependent: its actual shape
     * (o2p_context_get_tensor_shape), which must be the expected one */
    int *output_dd;
    pb_tensor *output_shapes;
} run_io;

/* Bytes to bind: data-dependent dims at their bound (o2p_engine_io_max_dim). */
static size_t engine_io_bytes(const o2p_engine *e, int io)
{
    size_t n = 1;
    for (int a = 0; a < o2p_engine_io_rank(e, io); a++)
        n *= (size_t)o2p_engine_io_max_dim(e, io, a);
    return n * o2p_dtype_size(o2p_engine_io_dtype(e, io));
}

/* After a run (cuda: after the sync): each output's actual shape, and its bytes for that
 * shape (a data-dependent output's data is packed at the start of its bound-sized memory). */
static int output_shapes(const o2p_engine *e, const o2p_context *ctx, run_io *io, char *why,
                         size_t wsize)
{
    for (int k = 0; k < io->num_outputs; k++) {
        int i = o2p_engine_find_io(e, io->output_names[k]);
        if (i < 0 || !io->outputs[k])
            continue;
        int dd = 0;
        for (int a = 0; a < o2p_engine_io_rank(e, i); a++)
            dd |= o2p_engine_io_dim(e, i, a) < 0;
        if (!dd)
            continue;
        pb_tensor *sh = &io->output_shapes[k];
        if (o2p_context_get_tensor_shape(ctx, io->output_names[k], &sh->rank, sh->dims) !=
            O2P_OK) {
            snprintf(why, wsize, "output '%s': %s", io->output_names[k], o2p_last_error());
            return 0;
        }
        size_t n = 1;
        for (int a = 0; a < sh->rank; a++)
            n *= (size_t)sh->dims[a];
        sh->nbytes = n * o2p_dtype_size(o2p_engine_io_dtype(e, i));
        if (sh->nbytes > io->output_bytes[k]) {
            snprintf(why, wsize, "output '%s': its shape has %zu bytes, over the %zu bound",
                     io->output_names[k], sh->nbytes, io->output_bytes[k]);
            return 0;
        }
        io->output_bytes[k] = sh->nbytes;
        io->output_dd[k] = 1;
    }
    return 1;
}

static int build_plan(o2p_network *net, const options *o, o2p_target target, void **plan,
                      size_t *size, char *why, size_t wsize)
{
    o2p_builder *b = NULL;
    o2p_builder_config *c = NULL;
    o2p_status st = o2p_builder_create(&b);
    if (st == O2P_OK)
        st = o2p_builder_config_create(&c);
    if (st == O2P_OK && target == O2P_TARGET_CUDA) {
        int caps[1] = {o->arch};
        st = o2p_builder_config_set_target(c, O2P_TARGET_CUDA, caps, o->arch ? 1 : 0);
        const char *p = o->precision ? o->precision : "fp32";
        if (st == O2P_OK)
            st = o2p_builder_config_set_flag(c, O2P_FLAG_TF32, strcmp(p, "tf32") == 0);
        if (st == O2P_OK && strcmp(p, "fp16") == 0)
            st = o2p_builder_config_set_flag(c, O2P_FLAG_FP16, 1);
        if (st == O2P_OK && strcmp(p, "bf16") == 0)
            st = o2p_builder_config_set_flag(c, O2P_FLAG_BF16, 1);
        if (st == O2P_OK && o->kernel_cache)
            st = o2p_builder_config_set_kernel_cache(c, o->kernel_cache);
        if (st == O2P_OK && o->tactic_sources)
            st = o2p_builder_config_set_tactic_sources(c, o->tactic_sources);
    } else if (st == O2P_OK) {
        st = o2p_builder_config_set_target(c, O2P_TARGET_HOST, NULL, 0);
    }
    if (st == O2P_OK)
        st = o2p_builder_build_serialized(b, net, c, plan, size);
    if (st != O2P_OK)
        snprintf(why, wsize, "%s", o2p_last_error());
    o2p_builder_config_destroy(c);
    o2p_builder_destroy(b);
    return st == O2P_OK;
}

/* Deserializes and runs a plan with io's inputs; fills io->outputs. */
static int run_plan(const void *plan, size_t size, o2p_target target, run_io *io, char *why,
                    size_t wsize)
{
    o2p_runtime *rt = NULL;
    o2p_engine *e = NULL;
    o2p_context *ctx = NULL;
    const cuda_driver *d = NULL;
    int nio = 0, ok = 0;
    CUdeviceptr *dev = NULL;
    o2p_status st = o2p_runtime_create(&rt);
    if (st == O2P_OK)
        st = o2p_runtime_deserialize(rt, plan, size, &e);
    if (st == O2P_OK)
        st = o2p_engine_create_context(e, &ctx);
    if (st != O2P_OK) {
        snprintf(why, wsize, "load: %s", o2p_last_error());
        goto out;
    }
    nio = o2p_engine_num_io_tensors(e);
    dev = calloc((size_t)nio + 1, sizeof *dev);
    if (target == O2P_TARGET_CUDA) {
        d = cuda_driver_get(NULL);
        CUcontext cu;
        if (!d || cuda_use_device(0, &cu) != O2P_OK) {
            snprintf(why, wsize, "run: %s", o2p_last_error());
            goto out;
        }
    }
    for (int k = 0; k < io->num_outputs; k++)
        io->outputs[k] = NULL;
    for (int i = 0; i < nio; i++) {
        const char *name = o2p_engine_io_name(e, i);
        size_t bytes = engine_io_bytes(e, i);
        const void *host_in = NULL;
        int out_index = -1;
        if (o2p_engine_io_is_input(e, i)) {
            for (int k = 0; k < io->num_inputs; k++)
                if (strcmp(io->input_names[k], name) == 0) {
                    host_in = io->inputs[k].data;
                    if (io->inputs[k].nbytes != bytes) {
                        snprintf(why, wsize, "input '%s': %zu bytes, the engine wants %zu", name,
                                 io->inputs[k].nbytes, bytes);
                        goto out;
                    }
                }
            if (!host_in) {
                snprintf(why, wsize, "no test data for engine input '%s'", name);
                goto out;
            }
        } else {
            for (int k = 0; k < io->num_outputs; k++)
                if (strcmp(io->output_names[k], name) == 0)
                    out_index = k;
            if (out_index < 0)
                continue;
            io->outputs[out_index] = calloc(1, bytes ? bytes : 1);
            io->output_bytes[out_index] = bytes;
        }
        void *addr;
        if (target == O2P_TARGET_CUDA) {
            if (d->cuMemAlloc(&dev[i], bytes ? bytes : 1) != CUDA_SUCCESS) {
                snprintf(why, wsize, "run: cuMemAlloc of %zu bytes failed", bytes);
                goto out;
            }
            if (host_in && bytes && d->cuMemcpyHtoD(dev[i], host_in, bytes) != CUDA_SUCCESS) {
                snprintf(why, wsize, "run: copying input '%s' failed", name);
                goto out;
            }
            addr = (void *)(uintptr_t)dev[i];
        } else {
            addr = host_in ? (void *)host_in : io->outputs[out_index];
        }
        if (o2p_context_set_tensor_address(ctx, name, addr) != O2P_OK) {
            snprintf(why, wsize, "bind '%s': %s", name, o2p_last_error());
            goto out;
        }
    }
    if (o2p_context_enqueue(ctx, NULL) != O2P_OK) {
        snprintf(why, wsize, "run: %s", o2p_last_error());
        goto out;
    }
    if (target != O2P_TARGET_CUDA && !output_shapes(e, ctx, io, why, wsize))
        goto out;
    if (target == O2P_TARGET_CUDA) {
        CUresult r = d->cuCtxSynchronize();
        if (r != CUDA_SUCCESS) {
            char t[160];
            snprintf(why, wsize, "run: %s", cuda_result_text(d, r, t, sizeof t));
            goto out;
        }
        if (!output_shapes(e, ctx, io, why, wsize))
            goto out;
        for (int i = 0; i < nio; i++) {
            if (o2p_engine_io_is_input(e, i))
                continue;
            for (int k = 0; k < io->num_outputs; k++)
                if (strcmp(io->output_names[k], o2p_engine_io_name(e, i)) == 0 &&
                    io->output_bytes[k] &&
                    d->cuMemcpyDtoH(io->outputs[k], dev[i], io->output_bytes[k]) != CUDA_SUCCESS) {
                    snprintf(why, wsize, "run: copying output '%s' back failed",
                             io->output_names[k]);
                    goto out;
                }
        }
    }
    ok = 1;
out:
    if (dev && d)
        for (int i = 0; i < nio; i++)
            if (dev[i])
                d->cuMemFree(dev[i]);
    free(dev);
    o2p_context_destroy(ctx);
    o2p_engine_destroy(e);
    o2p_runtime_destroy(rt);
    return ok;
}

static void free_outputs(run_io *io)
{
    for (int k = 0; k < io->num_outputs; k++) {
        free(io->outputs[k]);
        io->outputs[k] = NULL;
    }
}

/* ---------------------------------------------------------------- one case */

typedef enum { R_PASS, R_BUILD, R_RUN, R_WRONG, R_SKIP } result;

static const char *result_name(result r)
{
    static const char *names[] = {"PASS", "BUILD-FAIL", "RUN-FAIL", "WRONG", "SKIP"};
    return names[r];
}

/* Plans have static shapes: a case whose output shapes depend on the values of a small 1-D
 * input (Reshape's shape, Resize's scales, Slice's starts, TopK's k, axes ...) is run again
 * with those inputs made constants of the plan (fold_small_inputs): at most 16 elements,
 * rank <= 1. The other inputs stay engine inputs, so the kernels still run on the target. */
static int small_input(const pb_tensor *t)
{
    return t->rank <= 1 && numel(t) <= 16;
}

static void make_constant(o2p_network *net, o2p_tensor *t, const pb_tensor *v)
{
    ir_network *n = (ir_network *)net;
    void *data = ir_network_alloc_data(n, v->nbytes ? v->nbytes : 1);
    if (!data)
        return;
    memcpy(data, v->data, v->nbytes);
    ir_shape shape = t->shape;
    ir_tensor_make_constant(t, v->dtype, &shape, data, v->nbytes);
}

static result run_case(const char *dir, const options *o, int fold_small_inputs, char *ops,
                       size_t ops_size, char *why, size_t wsize, stats *s,
                       const char *case_label)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    o2p_network *net = NULL, *net_host = NULL;
    o2p_parser *parser = NULL, *parser_host = NULL;
    void *plan = NULL, *plan_host = NULL;
    size_t plan_size = 0, plan_host_size = 0;
    run_io io;
    memset(&io, 0, sizeof io);
    pb_tensor *want = NULL;
    result res = R_BUILD;
    ops[0] = '\0';

    if (o2p_network_create(&net) != O2P_OK || o2p_parser_create(net, &parser) != O2P_OK ||
        o2p_parser_set_flag(parser, O2P_PARSER_FLAG_NATIVE_INSTANCENORM, 1) != O2P_OK ||
        o2p_parser_parse_file(parser, path) != O2P_OK) {
        snprintf(why, wsize, "parse: %s", o2p_last_error());
        goto out;
    }
    o2p_graph *g = o2p_network_get_graph(net);
    for (int i = 0; i < o2p_graph_num_layers(g); i++) {
        const char *op = o2p_layer_get_op_type(o2p_graph_get_layer(g, i));
        size_t n = strlen(ops);
        char key[80];
        snprintf(key, sizeof key, ",%s,", op);
        char probe[600];
        snprintf(probe, sizeof probe, ",%s,", ops);
        if (!strstr(probe, key) && n + strlen(op) + 2 < ops_size)
            snprintf(ops + n, ops_size - n, "%s%s", n ? "," : "", op);
    }
    if (o2p_parser_num_unsupported(parser) > 0) {
        const o2p_layer *l = o2p_parser_get_unsupported(parser, 0);
        snprintf(why, wsize, "no importer for %s", o2p_layer_get_op_type(l));
        goto out;
    }
    /* Inputs: test_data_set_0/input_<i>.pb in graph-input order; their shapes fix the
     * network's. */
    io.num_inputs = o2p_graph_num_inputs(g);
    io.num_outputs = o2p_graph_num_outputs(g);
    io.inputs = calloc((size_t)io.num_inputs + 1, sizeof *io.inputs);
    io.input_names = calloc((size_t)io.num_inputs + 1, sizeof *io.input_names);
    io.output_names = calloc((size_t)io.num_outputs + 1, sizeof *io.output_names);
    io.outputs = calloc((size_t)io.num_outputs + 1, sizeof *io.outputs);
    io.output_bytes = calloc((size_t)io.num_outputs + 1, sizeof *io.output_bytes);
    io.output_dd = calloc((size_t)io.num_outputs + 1, sizeof *io.output_dd);
    io.output_shapes = calloc((size_t)io.num_outputs + 1, sizeof *io.output_shapes);
    want = calloc((size_t)io.num_outputs + 1, sizeof *want);
    for (int i = 0; i < io.num_inputs; i++) {
        o2p_tensor *t = o2p_graph_get_input(g, i);
        io.input_names[i] = o2p_tensor_get_name(t);
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, i);
        if (o2p_tensor_get_dtype(t) == O2P_DTYPE_UNDEFINED) {
            snprintf(why, wsize, "input '%s' is not a tensor", io.input_names[i]);
            goto out;
        }
        if (!read_pb(path, o2p_tensor_get_dtype(t), &io.inputs[i], why, wsize))
            goto out;
        if (o2p_tensor_set_shape(t, io.inputs[i].rank, io.inputs[i].dims) != O2P_OK) {
            snprintf(why, wsize, "input '%s': %s", io.input_names[i], o2p_last_error());
            goto out;
        }
    }
    if (o->random) {
        unsigned long long state = o->random_seed * 2654435761ull + 0x9e3779b97f4a7c15ull;
        for (int i = 0; i < io.num_inputs; i++) {
            pb_tensor *t = &io.inputs[i];
            if (!is_float(t->dtype) || (fold_small_inputs && small_input(t)))
                continue;
            host_tensor h = view(t->dtype, t->data);
            for (int64_t k = 0; k < numel(t); k++) {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                double u = (double)((state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
                host_set_f64(&h, k, 4 * u - 2);
            }
        }
    }
    /* Constants last: making one removes it from the graph's inputs (indices shift). */
    for (int i = io.num_inputs - 1; fold_small_inputs && i >= 0; i--)
        if (small_input(&io.inputs[i]))
            make_constant(net, o2p_graph_get_input(g, i), &io.inputs[i]);
    for (int k = 0; k < io.num_outputs; k++) {
        o2p_tensor *t = o2p_graph_get_output(g, k);
        io.output_names[k] = o2p_tensor_get_name(t);
        snprintf(path, sizeof path, "%s/test_data_set_0/output_%d.pb", dir, k);
        if (!read_pb(path, o2p_tensor_get_dtype(t), &want[k], why, wsize))
            goto out;
    }
    if (o->compare_host) {
        snprintf(path, sizeof path, "%s/model.onnx", dir);
        if (o2p_network_create(&net_host) != O2P_OK ||
            o2p_parser_create(net_host, &parser_host) != O2P_OK ||
            o2p_parser_set_flag(parser_host, O2P_PARSER_FLAG_NATIVE_INSTANCENORM, 1) != O2P_OK ||
            o2p_parser_parse_file(parser_host, path) != O2P_OK) {
            snprintf(why, wsize, "parse: %s", o2p_last_error());
            goto out;
        }
        o2p_graph *gh = o2p_network_get_graph(net_host);
        for (int i = 0; i < io.num_inputs; i++)
            o2p_tensor_set_shape(o2p_graph_get_input(gh, i), io.inputs[i].rank,
                                 io.inputs[i].dims);
        for (int i = io.num_inputs - 1; fold_small_inputs && i >= 0; i--)
            if (small_input(&io.inputs[i]))
                make_constant(net_host, o2p_graph_get_input(gh, i), &io.inputs[i]);
    }
    /* Build names outputs before building: the builder may rename nothing, but keep the
     * strings alive (they belong to net, which the build changes but does not free). */
    /* Random ops: the case's values come from numpy's generator, which no implementation
     * reproduces; their outputs are compared by type and size, Bernoulli's also by value
     * set (0 or 1). */
    int random_values = has_op(ops, "Bernoulli") || has_op(ops, "RandomUniform") ||
                        has_op(ops, "RandomNormal") || has_op(ops, "RandomUniformLike") ||
                        has_op(ops, "RandomNormalLike") || has_op(ops, "Multinomial");
    if (!build_plan(net, o, o->target, &plan, &plan_size, why, wsize))
        goto out;
    if (o->build_only) {
        res = R_PASS;
        goto out;
    }
    res = R_RUN;
    if (!run_plan(plan, plan_size, o->target, &io, why, wsize))
        goto out;
    res = R_WRONG;
    for (int k = 0; k < io.num_outputs; k++) {
        if (!io.outputs[k]) {
            snprintf(why, wsize, "output '%s' is not an engine output", io.output_names[k]);
            goto out;
        }
        if (io.output_dd[k]) {
            const pb_tensor *sh = &io.output_shapes[k];
            int same_shape = sh->rank == want[k].rank;
            for (int a = 0; same_shape && a < sh->rank; a++)
                same_shape = sh->dims[a] == want[k].dims[a];
            if (!same_shape) {
                snprintf(why, wsize, "output '%s' has a data-dependent shape of rank %d "
                         "(first dims %lld, %lld), expected rank %d (%lld, %lld)",
                         io.output_names[k], sh->rank, (long long)sh->dims[0],
                         (long long)(sh->rank > 1 ? sh->dims[1] : 0), want[k].rank,
                         (long long)want[k].dims[0],
                         (long long)(want[k].rank > 1 ? want[k].dims[1] : 0));
                goto out;
            }
        }
        if (io.output_bytes[k] != want[k].nbytes) {
            snprintf(why, wsize, "output '%s' has %zu bytes, expected %zu", io.output_names[k],
                     io.output_bytes[k], want[k].nbytes);
            goto out;
        }
        if (random_values && !valid_random(io.output_names[k], io.outputs[k], &want[k], ops,
                                           why, wsize))
            goto out;
        if (!o->random && !random_values &&
            !same(io.output_names[k], io.outputs[k], &want[k], why, wsize))
            goto out;
    }
    if (o->compare_host) {
        run_io hio = io;
        void **houts = calloc((size_t)io.num_outputs + 1, sizeof *houts);
        size_t *hbytes = calloc((size_t)io.num_outputs + 1, sizeof *hbytes);
        hio.outputs = houts;
        hio.output_bytes = hbytes;
        int ok = build_plan(net_host, o, O2P_TARGET_HOST, &plan_host, &plan_host_size, why,
                            wsize) &&
                 run_plan(plan_host, plan_host_size, O2P_TARGET_HOST, &hio, why, wsize);
        const char *p = o->precision ? o->precision : "fp32";
        double bound = strcmp(p, "tf32") == 0 ? 1e-3 : strcmp(p, "fp32") == 0 ? 1e-5 : 1e-2;
        /* random ops draw other values on each target (their own seeds): not compared */
        for (int k = 0; ok && !random_values && k < io.num_outputs; k++) {
            if (!houts[k] || !is_float(want[k].dtype))
                continue;
            double r = rel_error(io.outputs[k], houts[k], want[k].dtype, numel(&want[k]));
            if (r > s->worst_rel) {
                s->worst_rel = r;
                snprintf(s->worst_case, sizeof s->worst_case, "%s", case_label);
            }
            if (r > bound) {
                snprintf(why, wsize, "output '%s' differs from the host target's by %.3g "
                         "(relative; bound %.0e for %s)", io.output_names[k], r, bound, p);
                ok = 0;
            }
        }
        for (int k = 0; k < io.num_outputs; k++)
            free(houts[k]);
        free(houts);
        free(hbytes);
        if (!ok)
            goto out;
    }
    res = R_PASS;
out:
    free_outputs(&io);
    for (int i = 0; io.inputs && i < io.num_inputs; i++)
        free(io.inputs[i].data);
    for (int k = 0; want && k < io.num_outputs; k++)
        free(want[k].data);
    free(want);
    free(io.inputs);
    free(io.input_names);
    free(io.output_names);
    free(io.outputs);
    free(io.output_bytes);
    free(io.output_dd);
    free(io.output_shapes);
    o2p_free(plan);
    o2p_free(plan_host);
    o2p_parser_destroy(parser);
    o2p_network_destroy(net);
    o2p_parser_destroy(parser_host);
    o2p_network_destroy(net_host);
    return res;
}

/* ---------------------------------------------------------------- bookkeeping */

static op_row *op_entry(stats *s, const char *op)
{
    for (int i = 0; i < s->num_ops; i++)
        if (strcmp(s->ops[i].op, op) == 0)
            return &s->ops[i];
    if (s->num_ops == s->cap_ops) {
        s->cap_ops = s->cap_ops ? s->cap_ops * 2 : 64;
        s->ops = realloc(s->ops, (size_t)s->cap_ops * sizeof *s->ops);
        if (!s->ops) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
    }
    op_row *r = &s->ops[s->num_ops++];
    memset(r, 0, sizeof *r);
    snprintf(r->op, sizeof r->op, "%s", op);
    return r;
}

static void count_ops(stats *s, const char *ops, result r)
{
    char buf[600];
    snprintf(buf, sizeof buf, "%s", *ops ? ops : "(no layer)");
    for (char *save = NULL, *op = strtok_r(buf, ",", &save); op; op = strtok_r(NULL, ",", &save)) {
        op_row *row = op_entry(s, op);
        if (r == R_PASS)
            row->pass++;
        else if (r == R_SKIP)
            row->skip++;
        else
            row->fail++;
    }
}

static void load_exclusions(stats *s, const char *path)
{
    size_t size = 0;
    char *text = read_file(path, &size);
    if (!text) {
        fprintf(stderr, "o2p_conformance: cannot read the exclusion file %s\n", path);
        exit(2);
    }
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line || *line == '#')
            continue;
        char *sp = line + strcspn(line, " \t");
        char *reason = sp;
        if (*sp) {
            *sp = '\0';
            reason = sp + 1;
            while (*reason == ' ' || *reason == '\t')
                reason++;
        }
        s->excl_names = realloc(s->excl_names, (size_t)(s->num_excl + 1) * sizeof(char *));
        s->excl_reasons = realloc(s->excl_reasons, (size_t)(s->num_excl + 1) * sizeof(char *));
        s->excl_names[s->num_excl] = strdup(line);
        s->excl_reasons[s->num_excl] = strdup(*reason ? reason : "(no reason given)");
        s->num_excl++;
    }
    free(text);
}

static const char *exclusion(const stats *s, const char *label)
{
    for (int i = 0; i < s->num_excl; i++)
        if (strcmp(s->excl_names[i], label) == 0)
            return s->excl_reasons[i];
    return NULL;
}

static int cmp_rows(const void *a, const void *b)
{
    return strcmp(((const op_row *)a)->op, ((const op_row *)b)->op);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: o2p_conformance [--target host|cuda] [--arch sm_XY] [--data DIR] "
               "[--groups node,pytorch-converted,pytorch-operator,simple] [--filter SUBSTR] "
               "[--exclusions FILE] [--kernel-cache DIR] [--precision fp32|tf32|fp16|bf16] "
               "[--compare-host] [--random SEED] [--build-only] [--min-pass N] [-v]\n");
}

int main(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    o.data = O2P_TESTDATA_DIR;
    o.groups = "node,pytorch-converted,pytorch-operator,simple";
    o.target = O2P_TARGET_HOST;
    o.min_pass = -1;
    int random_without_host = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--target") == 0 && v) {
            if (strcmp(v, "host") == 0)
                o.target = O2P_TARGET_HOST;
            else if (strcmp(v, "cuda") == 0)
                o.target = O2P_TARGET_CUDA;
            else {
                fprintf(stderr, "o2p_conformance: --target is host or cuda, not '%s'\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--arch") == 0 && v) {
            int cc = 0;
            char tail = 0;
            if (sscanf(v, "sm_%d%c", &cc, &tail) != 1 || cc < 10 || cc > 999) {
                fprintf(stderr, "o2p_conformance: --arch looks like sm_90 or sm_120, not '%s'\n",
                        v);
                return 2;
            }
            o.arch = cc;
            i++;
        } else if (strcmp(a, "--data") == 0 && v) {
            o.data = v;
            i++;
        } else if (strcmp(a, "--groups") == 0 && v) {
            o.groups = v;
            i++;
        } else if (strcmp(a, "--filter") == 0 && v) {
            o.filter = v;
            i++;
        } else if (strcmp(a, "--exclusions") == 0 && v) {
            o.exclusions = v;
            i++;
        } else if (strcmp(a, "--kernel-cache") == 0 && v) {
            o.kernel_cache = v;
            i++;
        } else if (strcmp(a, "--precision") == 0 && v) {
            if (strcmp(v, "fp32") && strcmp(v, "tf32") && strcmp(v, "fp16") && strcmp(v, "bf16")) {
                fprintf(stderr, "o2p_conformance: --precision is fp32, tf32, fp16 or bf16\n");
                return 2;
            }
            o.precision = v;
            i++;
        } else if (strcmp(a, "--min-pass") == 0 && v) {
            o.min_pass = atoi(v);
            i++;
        } else if (strcmp(a, "--random") == 0 && v) {
            o.random = 1;
            o.random_seed = strtoull(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--tactic-sources") == 0 && v) {
            char list[128];
            snprintf(list, sizeof list, "%s", v);
            for (char *sv = NULL, *n = strtok_r(list, ",", &sv); n; n = strtok_r(NULL, ",", &sv)) {
                if (strcmp(n, "builtin") == 0)
                    o.tactic_sources |= O2P_TACTIC_SOURCE_BUILTIN;
                else if (strcmp(n, "cublas") == 0)
                    o.tactic_sources |= O2P_TACTIC_SOURCE_CUBLAS;
                else if (strcmp(n, "cublaslt") == 0)
                    o.tactic_sources |= O2P_TACTIC_SOURCE_CUBLASLT;
                else if (strcmp(n, "cudnn") == 0)
                    o.tactic_sources |= O2P_TACTIC_SOURCE_CUDNN;
                else {
                    fprintf(stderr, "o2p_conformance: unknown tactic source '%s'\n", n);
                    return 2;
                }
            }
            i++;
        } else if (strcmp(a, "--build-only") == 0) {
            o.build_only = 1;
        } else if (strcmp(a, "--compare-host") == 0) {
            o.compare_host = 1;
        } else if (strcmp(a, "-v") == 0) {
            o.verbose = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "o2p_conformance: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    random_without_host = o.random && !o.compare_host;
    if (random_without_host) {
        fprintf(stderr, "o2p_conformance: --random needs --compare-host (the case's outputs "
                        "do not apply to random inputs)\n");
        return 2;
    }
    o2p_set_logger(quiet, NULL, O2P_SEVERITY_ERROR);
#ifdef O2P_PLUGINS_LIB
    /* The bundled plugins (RoiAlign) from this build, unless the caller names a library. */
    if (!getenv("O2P_PLUGINS_LIBRARY"))
        setenv("O2P_PLUGINS_LIBRARY", O2P_PLUGINS_LIB, 0);
#endif
    stats s;
    memset(&s, 0, sizeof s);
    if (o.exclusions)
        load_exclusions(&s, o.exclusions);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char groups[256];
    snprintf(groups, sizeof groups, "%s", o.groups);
    int cases = 0;
    op_row group_rows[16];
    int num_groups = 0;
    for (char *gs = NULL, *group = strtok_r(groups, ",", &gs); group;
         group = strtok_r(NULL, ",", &gs)) {
        op_row *grow = num_groups < 16 ? &group_rows[num_groups++] : &group_rows[15];
        memset(grow, 0, sizeof *grow);
        snprintf(grow->op, sizeof grow->op, "%s", group);
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", o.data, group);
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, alphasort);
        if (n < 0) {
            fprintf(stderr, "o2p_conformance: cannot read %s (install Debian's "
                            "libonnx-testdata or pass --data)\n", dir);
            return 2;
        }
        for (int i = 0; i < n; i++) {
            const char *name = names[i]->d_name;
            if (name[0] == '.' || (o.filter && !strstr(name, o.filter))) {
                free(names[i]);
                continue;
            }
            char label[600], casedir[4800], why[2048] = "", ops[512] = "";
            snprintf(label, sizeof label, "%s/%s", group, name);
            snprintf(casedir, sizeof casedir, "%s/%s", dir, name);
            cases++;
            const char *excl = exclusion(&s, label);
            result r;
            if (excl) {
                r = R_SKIP;
                snprintf(why, sizeof why, "excluded: %s", excl);
            } else {
                r = run_case(casedir, &o, 0, ops, sizeof ops, why, sizeof why, &s, label);
                /* Plans are static and some kernels take an input's values at build: retry
                 * with small inputs made constants when the build says so. */
                if (r == R_BUILD && (strstr(why, "static shape") || strstr(why, "static-shape") ||
                                     strstr(why, "dynamic shape") ||
                                     strstr(why, "must be a constant") ||
                                     strstr(why, "computed at run")))
                    r = run_case(casedir, &o, 1, ops, sizeof ops, why, sizeof why, &s, label);
            }
            switch (r) {
            case R_PASS: s.pass++; break;
            case R_BUILD: s.build_fail++; break;
            case R_RUN: s.run_fail++; break;
            case R_WRONG: s.wrong++; break;
            case R_SKIP: s.skip++; break;
            }
            count_ops(&s, r == R_SKIP ? "(excluded)" : ops, r);
            if (r == R_PASS)
                grow->pass++;
            else if (r == R_SKIP)
                grow->skip++;
            else
                grow->fail++;
            if (r != R_PASS || o.verbose)
                printf("%-10s %s [%s]%s%s\n", result_name(r), label, ops, *why ? ": " : "", why);
            fflush(stdout);
            free(names[i]);
        }
        free(names);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    qsort(s.ops, (size_t)s.num_ops, sizeof *s.ops, cmp_rows);
    printf("\n%-32s %6s %6s %6s\n", "op", "pass", "fail", "skip");
    for (int i = 0; i < s.num_ops; i++)
        printf("%-32s %6d %6d %6d\n", s.ops[i].op, s.ops[i].pass, s.ops[i].fail, s.ops[i].skip);
    printf("\n%-32s %6s %6s %6s\n", "group", "pass", "fail", "skip");
    for (int i = 0; i < num_groups; i++)
        printf("%-32s %6d %6d %6d\n", group_rows[i].op, group_rows[i].pass, group_rows[i].fail,
               group_rows[i].skip);
    int failed = s.build_fail + s.run_fail + s.wrong;
    printf("\ntarget %s%s%s, %d cases in %.1f s: build failures %d, run failures %d, wrong "
           "results %d\n",
           o.target == O2P_TARGET_CUDA ? "cuda" : "host", o.precision ? ", precision " : "",
           o.precision ? o.precision : "", cases,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
           s.build_fail, s.run_fail, s.wrong);
    if (o.compare_host)
        printf("largest relative difference from the host target: %.3g (%s)\n", s.worst_rel,
               s.worst_case[0] ? s.worst_case : "-");
    printf("%d passed, %d failed, %d skipped\n", s.pass, failed, s.skip);
    for (int i = 0; i < s.num_excl; i++) {
        free(s.excl_names[i]);
        free(s.excl_reasons[i]);
    }
    free(s.excl_names);
    free(s.excl_reasons);
    free(s.ops);
    if (o.min_pass >= 0) {
        if (s.pass < o.min_pass)
            printf("FAILED: %d passed, fewer than the %d expected (--min-pass)\n", s.pass,
                   o.min_pass);
        return s.pass < o.min_pass ? 1 : 0;
    }
    return failed ? 1 : 0;
}
