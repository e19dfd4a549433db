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

/* ---------------------------------------------------------------- sequences, optionals */

/* Cases whose graph inputs or outputs are ONNX sequences or optionals: their .pb files are
 * SequenceProto / OptionalProto (onnx-data.proto, which Debian does not ship, so the two
 * messages' wire format is read here by hand; the TensorProto inside each goes through the
 * parser's reader). A sequence becomes one engine tensor per element, "<name>[<i>]", its
 * length and element shapes given at build (o2p_tensor_set_sequence); an optional is given
 * as present or absent (o2p_tensor_set_optional). */
typedef struct seq_value {
    int present; /* optionals: the value is there; sequences: 1 */
    int is_seq;
    int count;
    pb_tensor *elems; /* a sequence's elements, or an optional tensor in elems[0] */
} seq_value;

static void seq_value_free(seq_value *v)
{
    for (int i = 0; i < v->count; i++)
        free(v->elems[i].data);
    free(v->elems);
    memset(v, 0, sizeof *v);
}

static int wire_varint(const uint8_t *p, size_t n, size_t *at, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *at < n; shift += 7) {
        uint8_t b = p[(*at)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

/* The next field of a message: its number, and for length-delimited fields the bytes. */
static int wire_next(const uint8_t *p, size_t n, size_t *at, int *field, const uint8_t **bytes,
                     size_t *len, uint64_t *value)
{
    uint64_t key;
    if (!wire_varint(p, n, at, &key))
        return 0;
    *field = (int)(key >> 3);
    *bytes = NULL;
    *len = 0;
    switch (key & 7) {
    case 0: return wire_varint(p, n, at, value);
    case 1: if (n - *at < 8) return 0; *at += 8; return 1;
    case 5: if (n - *at < 4) return 0; *at += 4; return 1;
    case 2:
        if (!wire_varint(p, n, at, value) || *value > n - *at)
            return 0;
        *bytes = p + *at;
        *len = (size_t)*value;
        *at += *len;
        return 1;
    default: return 0;
    }
}

static int tensor_from_bytes(const uint8_t *bytes, size_t size, const char *what,
                             pb_tensor *out, char *why, size_t wsize)
{
    memset(out, 0, sizeof *out);
    ir_network *net = ir_network_new();
    ir_tensor *t = NULL;
    o2p_status st = net ? ir_tensor_new(net->main, "pb", IR_TENSOR_INPUT, &t)
                        : O2P_ERR_OUT_OF_MEMORY;
    if (st == O2P_OK)
        st = onnx_load_tensor_proto(net, t, bytes, size, what);
    if (st != O2P_OK || !t->data) {
        snprintf(why, wsize, "%s: %s", what, st != O2P_OK ? o2p_last_error() : "no data");
        ir_network_free(net);
        return 0;
    }
    out->dtype = t->dtype;
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

/* SequenceProto: name 1, elem_type 2 (1: tensors), tensor_values 3. */
static int decode_sequence(const uint8_t *p, size_t n, const char *what, seq_value *out,
                           char *why, size_t wsize)
{
    out->present = 1;
    out->is_seq = 1;
    size_t at = 0;
    while (at < n) {
        int field;
        const uint8_t *b;
        size_t len;
        uint64_t v;
        if (!wire_next(p, n, &at, &field, &b, &len, &v)) {
            snprintf(why, wsize, "%s: not a valid SequenceProto", what);
            return 0;
        }
        if (field == 2 && v != 1 && v != 0) {
            snprintf(why, wsize, "%s: a sequence of element kind %llu (only tensors are "
                     "supported)", what, (unsigned long long)v);
            return 0;
        }
        if (field != 3 || !b)
            continue;
        pb_tensor *e = realloc(out->elems, (size_t)(out->count + 1) * sizeof *e);
        if (!e) {
            snprintf(why, wsize, "out of memory");
            return 0;
        }
        out->elems = e;
        if (!tensor_from_bytes(b, len, what, &out->elems[out->count], why, wsize))
            return 0;
        out->count++;
    }
    return 1;
}

/* OptionalProto: name 1, elem_type 2, tensor_value 3, sequence_value 5; neither: empty. */
static int decode_optional(const uint8_t *p, size_t n, const char *what, seq_value *out,
                           char *why, size_t wsize)
{
    size_t at = 0;
    while (at < n) {
        int field;
        const uint8_t *b;
        size_t len;
        uint64_t v;
        if (!wire_next(p, n, &at, &field, &b, &len, &v)) {
            snprintf(why, wsize, "%s: not a valid OptionalProto", what);
            return 0;
        }
        if (field == 3 && b) {
            out->present = 1;
            out->count = 1;
            out->elems = calloc(1, sizeof *out->elems);
            if (!out->elems || !tensor_from_bytes(b, len, what, &out->elems[0], why, wsize))
                return 0;
        } else if (field == 5 && b) {
            if (!decode_sequence(b, len, what, out, why, wsize))
                return 0;
        }
    }
    return 1;
}

static int read_seq_pb(const char *path, o2p_value_kind kind, seq_value *out, char *why,
                       size_t wsize)
{
    memset(out, 0, sizeof *out);
    size_t size = 0;
    char *bytes = read_file(path, &size);
    if (!bytes) {
        snprintf(why, wsize, "cannot read %s", path);
        return 0;
    }
    int ok = kind == O2P_VALUE_SEQUENCE
                 ? decode_sequence((const uint8_t *)bytes, size, path, out, why, wsize)
                 : decode_optional((const uint8_t *)bytes, size, path, out, why, wsize);
    free(bytes);
    return ok;
}

static int seq_io_case(const o2p_graph *g)
{
    for (int i = 0; i < o2p_graph_num_inputs(g); i++)
        if (o2p_tensor_get_value_kind(o2p_graph_get_input(g, i)) != O2P_VALUE_TENSOR)
            return 1;
    for (int i = 0; i < o2p_graph_num_outputs(g); i++)
        if (o2p_tensor_get_value_kind(o2p_graph_get_output(g, i)) != O2P_VALUE_TENSOR)
            return 1;
    return 0;
}

/* A named tensor list that grows (engine inputs or expected outputs). */
typedef struct seq_list {
    int count, cap;
    char **names;
    pb_tensor *values;
} seq_list;

static int seq_list_add(seq_list *l, const char *name, int index, pb_tensor *value)
{
    if (l->count == l->cap) {
        int ncap = l->cap ? 2 * l->cap : 16;
        char **n = realloc(l->names, (size_t)ncap * sizeof *n);
        if (!n)
            return 0;
        l->names = n;
        pb_tensor *v = realloc(l->values, (size_t)ncap * sizeof *v);
        if (!v)
            return 0;
        l->values = v;
        l->cap = ncap;
    }
    char buf[600];
    if (index >= 0)
        snprintf(buf, sizeof buf, "%s[%d]", name, index);
    else
        snprintf(buf, sizeof buf, "%s", name);
    if (!(l->names[l->count] = strdup(buf)))
        return 0;
    l->values[l->count++] = *value; /* takes the data */
    memset(value, 0, sizeof *value);
    return 1;
}

static void seq_list_free(seq_list *l)
{
    for (int i = 0; i < l->count; i++) {
        free(l->names[i]);
        free(l->values[i].data);
    }
    free(l->names);
    free(l->values);
}

/* Adds value's tensors to list under name: "<name>[<i>]" per sequence element, name for an
 * optional tensor, nothing for an empty optional. */
static int seq_list_add_value(seq_list *l, const char *name, seq_value *v)
{
    for (int i = 0; v->present && i < v->count; i++)
        if (!seq_list_add(l, name, v->is_seq ? i : -1, &v->elems[i]))
            return 0;
    return 1;
}

/* Describes a sequence or optional graph input for the build from its value. */
static int seq_describe_input(o2p_tensor *t, const seq_value *v, char *why, size_t wsize)
{
    o2p_value_kind kind = o2p_tensor_get_value_kind(t);
    o2p_status st = O2P_OK;
    if (kind == O2P_VALUE_OPTIONAL_TENSOR || kind == O2P_VALUE_OPTIONAL_SEQUENCE)
        st = o2p_tensor_set_optional(t, v->present);
    if (st == O2P_OK && v->present && v->is_seq) {
        int *ranks = calloc((size_t)v->count + 1, sizeof *ranks);
        int64_t *dims = calloc((size_t)v->count * O2P_MAX_RANK + 1, sizeof *dims);
        int at = 0;
        for (int i = 0; ranks && dims && i < v->count; i++) {
            ranks[i] = v->elems[i].rank;
            for (int k = 0; k < v->elems[i].rank; k++)
                dims[at++] = v->elems[i].dims[k];
        }
        st = ranks && dims ? o2p_tensor_set_sequence(t, v->count, ranks, dims)
                           : O2P_ERR_OUT_OF_MEMORY;
        free(ranks);
        free(dims);
    } else if (st == O2P_OK && v->present) {
        st = o2p_tensor_set_shape(t, v->elems[0].rank, v->elems[0].dims);
    }
    if (st != O2P_OK)
        snprintf(why, wsize, "input '%s': %s", o2p_tensor_get_name(t), o2p_last_error());
    return st == O2P_OK;
}

static int small_input(const pb_tensor *t);
static void make_constant(o2p_network *net, o2p_tensor *t, const pb_tensor *v);

/* Runs a case with sequence or optional inputs or outputs (the caller parsed it into net):
 * inputs described and flattened into element tensors, outputs compared element by
 * element, an empty optional output by its absence from the engine. */
static result seq_run_case(const char *dir, const options *o, int fold_small_inputs,
                        o2p_network *net, char *why, size_t wsize)
{
    o2p_graph *g = o2p_network_get_graph(net);
    int nin = o2p_graph_num_inputs(g), nout = o2p_graph_num_outputs(g);
    o2p_tensor **ins = calloc((size_t)nin + 1, sizeof *ins);
    o2p_tensor **outs = calloc((size_t)nout + 1, sizeof *outs);
    seq_list in = {0}, want = {0};
    run_io io;
    memset(&io, 0, sizeof io);
    void *plan = NULL;
    size_t plan_size = 0;
    result res = R_BUILD;
    char path[4200];
    if (!ins || !outs)
        goto out;
    for (int i = 0; i < nin; i++)
        ins[i] = o2p_graph_get_input(g, i);
    for (int k = 0; k < nout; k++)
        outs[k] = o2p_graph_get_output(g, k);
    for (int i = 0; i < nin; i++) {
        o2p_tensor *t = ins[i];
        const char *name = o2p_tensor_get_name(t);
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, i);
        o2p_value_kind kind = o2p_tensor_get_value_kind(t);
        if (kind == O2P_VALUE_TENSOR) {
            pb_tensor v;
            if (!read_pb(path, o2p_tensor_get_dtype(t), &v, why, wsize))
                goto out;
            if (o2p_tensor_set_shape(t, v.rank, v.dims) != O2P_OK) {
                snprintf(why, wsize, "input '%s': %s", name, o2p_last_error());
                free(v.data);
                goto out;
            }
            /* plans are static: small inputs (positions, conditions) may have to be
             * constants of the plan, as in run_case */
            if (fold_small_inputs && small_input(&v)) {
                make_constant(net, t, &v);
                free(v.data);
                continue;
            }
            if (!seq_list_add(&in, name, -1, &v)) {
                free(v.data);
                goto out;
            }
            continue;
        }
        seq_value v;
        int ok = read_seq_pb(path, kind == O2P_VALUE_SEQUENCE ? kind : O2P_VALUE_OPTIONAL_TENSOR,
                             &v, why, wsize) &&
                 seq_describe_input(t, &v, why, wsize) && seq_list_add_value(&in, name, &v);
        seq_value_free(&v);
        if (!ok)
            goto out;
    }
    /* Expected outputs, and the names whose absence an empty optional promises. */
    char **absent = calloc((size_t)nout + 1, sizeof *absent);
    int nabsent = 0;
    for (int k = 0; absent && k < nout; k++) {
        o2p_tensor *t = outs[k];
        const char *name = o2p_tensor_get_name(t);
        snprintf(path, sizeof path, "%s/test_data_set_0/output_%d.pb", dir, k);
        o2p_value_kind kind = o2p_tensor_get_value_kind(t);
        int ok;
        if (kind == O2P_VALUE_TENSOR) {
            pb_tensor v;
            ok = read_pb(path, o2p_tensor_get_dtype(t), &v, why, wsize);
            if (ok && !seq_list_add(&want, name, -1, &v)) {
                free(v.data);
                ok = 0;
            }
        } else {
            seq_value v;
            ok = read_seq_pb(path, kind == O2P_VALUE_SEQUENCE ? kind : O2P_VALUE_OPTIONAL_TENSOR,
                             &v, why, wsize) &&
                 seq_list_add_value(&want, name, &v);
            if (ok && !v.present)
                absent[nabsent++] = (char *)name;
            seq_value_free(&v);
        }
        if (!ok) {
            free(absent);
            goto out;
        }
    }
    if (!build_plan(net, o, o->target, &plan, &plan_size, why, wsize)) {
        free(absent);
        goto out;
    }
    /* An empty optional output is no engine output at all. */
    for (int a = 0; a < nabsent; a++)
        for (int k = 0; k < o2p_graph_num_outputs(g); k++) {
            const char *got = o2p_tensor_get_name(o2p_graph_get_output(g, k));
            size_t len = strlen(absent[a]);
            if (strncmp(got, absent[a], len) == 0 && (got[len] == '\0' || got[len] == '[')) {
                snprintf(why, wsize, "output '%s' is an empty optional, but the engine has "
                         "an output '%s'", absent[a], got);
                free(absent);
                res = R_WRONG;
                goto out;
            }
        }
    free(absent);
    if (o->build_only) {
        res = R_PASS;
        goto out;
    }
    res = R_RUN;
    io.num_inputs = in.count;
    io.input_names = (const char **)in.names;
    io.inputs = in.values;
    io.num_outputs = want.count;
    io.output_names = (const char **)want.names;
    io.outputs = calloc((size_t)want.count + 1, sizeof *io.outputs);
    io.output_bytes = calloc((size_t)want.count + 1, sizeof *io.output_bytes);
    if (!io.outputs || !io.output_bytes || !run_plan(plan, plan_size, o->target, &io, why, wsize))
        goto out;
    res = R_WRONG;
    for (int k = 0; k < want.count; k++) {
        if (!io.outputs[k]) {
            snprintf(why, wsize, "output '%s' is not an engine output", want.names[k]);
            goto out;
        }
        if (io.output_bytes[k] != want.values[k].nbytes) {
            snprintf(why, wsize, "output '%s' has %zu bytes, expected %zu", want.names[k],
                     io.output_bytes[k], want.values[k].nbytes);
            goto out;
        }
        if (!same(want.names[k], io.outputs[k], &want.values[k], why, wsize))
            goto out;
    }
    res = R_PASS;
out:
    if (io.outputs)
        free_outputs(&io);
    free(io.outputs);
    free(io.output_bytes);
    o2p_free(plan);
    seq_list_free(&in);
    seq_list_free(&want);
    free(ins);
    free(outs);
    return res;
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

/* A training-mode Dropout (training_mode true, ratio above 0) draws its own mask; the case's
 * outputs came from numpy's generator. Found before the build changes the network: the names
 * of its x, y and mask (NULL when not an output) and its ratio. */
typedef struct dropout_case {
    const char *x, *y, *mask;
    double ratio;
} dropout_case;

/* A scalar's value: a case input's (by name) or a constant's. */
static int scalar_value(const run_io *io, o2p_tensor *t, double *v)
{
    for (int i = 0; t && i < io->num_inputs; i++)
        if (strcmp(io->input_names[i], o2p_tensor_get_name(t)) == 0 && numel(&io->inputs[i]) == 1) {
            host_tensor h = view(io->inputs[i].dtype, io->inputs[i].data);
            *v = host_get_f64(&h, 0);
            return 1;
        }
    size_t nbytes = 0;
    const void *data = t ? o2p_tensor_get_data(t, &nbytes) : NULL;
    if (!data || nbytes != o2p_dtype_size(o2p_tensor_get_dtype(t)))
        return 0;
    host_tensor h = view(o2p_tensor_get_dtype(t), (void *)data);
    *v = host_get_f64(&h, 0);
    return 1;
}

static int training_dropout(o2p_graph *g, const run_io *io, dropout_case *d)
{
    for (int i = 0; i < o2p_graph_num_layers(g); i++) {
        const o2p_layer *l = o2p_graph_get_layer(g, i);
        double training = 0, ratio = 0.5;
        if (strcmp(o2p_layer_get_op_type(l), "Dropout") != 0 || o2p_layer_num_inputs(l) < 3 ||
            !scalar_value(io, o2p_layer_get_input(l, 2), &training) || training == 0 ||
            (o2p_layer_get_input(l, 1) && !scalar_value(io, o2p_layer_get_input(l, 1), &ratio)) ||
            ratio == 0)
            continue;
        o2p_tensor *mask = o2p_layer_num_outputs(l) > 1 ? o2p_layer_get_output(l, 1) : NULL;
        d->x = o2p_tensor_get_name(o2p_layer_get_input(l, 0));
        d->y = o2p_tensor_get_name(o2p_layer_get_output(l, 0));
        d->mask = mask ? o2p_tensor_get_name(mask) : NULL;
        d->ratio = ratio;
        return 1;
    }
    return 0;
}

/* Every element of y is 0 (dropped) or x / (1 - ratio) (kept), as the mask says when it is an
 * output, and about 1 - ratio of them are kept. */
static int valid_dropout(const dropout_case *d, const run_io *io, const pb_tensor *want,
                         char *why, size_t wsize)
{
    const pb_tensor *x = NULL;
    int y = -1, mask = -1;
    for (int i = 0; i < io->num_inputs; i++)
        if (strcmp(io->input_names[i], d->x) == 0)
            x = &io->inputs[i];
    for (int k = 0; k < io->num_outputs; k++) {
        if (strcmp(io->output_names[k], d->y) == 0)
            y = k;
        if (d->mask && strcmp(io->output_names[k], d->mask) == 0)
            mask = k;
    }
    if (!x || y < 0 || numel(x) != numel(&want[y]) || (mask >= 0 && numel(&want[mask]) != numel(x))) {
        snprintf(why, wsize, "Dropout's input and output are not the case's");
        return 0;
    }
    host_tensor hx = view(x->dtype, x->data), hy = view(want[y].dtype, io->outputs[y]);
    host_tensor hm = view(O2P_DTYPE_BOOL, mask >= 0 ? io->outputs[mask] : NULL);
    double scale = 1.0 / (1.0 - d->ratio);
    int64_t n = numel(x), kept = 0;
    for (int64_t i = 0; i < n; i++) {
        double xv = host_get_f64(&hx, i) * scale, yv = host_get_f64(&hy, i);
        int dropped = yv == 0, keeps = fabs(yv - xv) <= 1e-5 * fabs(xv) + 1e-6;
        int m = mask >= 0 ? host_get_i64(&hm, i) != 0 : keeps && !dropped;
        if (m ? !keeps : !dropped) {
            if (mask < 0)
                snprintf(why, wsize, "Dropout output '%s' element %lld is %.9g; it must be 0 or "
                         "%.9g", d->y, (long long)i, yv, xv);
            else
                snprintf(why, wsize, "Dropout output '%s' element %lld is %.9g; the mask %s it, "
                         "so it must be %.9g", d->y, (long long)i, yv, m ? "keeps" : "drops",
                         m ? xv : 0.0);
            return 0;
        }
        kept += m;
    }
    if (n >= 50 && fabs((double)kept / (double)n - (1.0 - d->ratio)) > 0.2) {
        snprintf(why, wsize, "Dropout kept %lld of %lld elements with ratio %g", (long long)kept,
                 (long long)n, d->ratio);
        return 0;
    }
    return 1;
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
    if (seq_io_case(g)) {
        res = seq_run_case(dir, o, fold_small_inputs, net, why, wsize);
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
            /* Single values are parameters (a Dropout ratio, NMS thresholds), not data. */
            if (!is_float(t->dtype) || numel(t) <= 1 || (fold_small_inputs && small_input(t)))
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
    dropout_case dropout = {NULL, NULL, NULL, 0.0};
    int random_dropout = training_dropout(g, &io, &dropout);
    int random_values = has_op(ops, "Bernoulli") || has_op(ops, "RandomUniform") ||
                        has_op(ops, "RandomNormal") || has_op(ops, "RandomUniformLike") ||
                        has_op(ops, "RandomNormalLike") || has_op(ops, "Multinomial") ||
                        random_dropout;
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
        /* With --random the case's outputs do not apply (compared with the host's below). */
        if (io.output_dd[k] && !o->random) {
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
        if (io.output_bytes[k] != want[k].nbytes && !(o->random && io.output_dd[k])) {
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
    if (random_dropout && !valid_dropout(&dropout, &io, want, why, wsize))
        goto out;
    if (o->compare_host) {
        run_io hio = io;
        void **houts = calloc((size_t)io.num_outputs + 1, sizeof *houts);
        size_t *hbytes = calloc((size_t)io.num_outputs + 1, sizeof *hbytes);
        int *hdd = calloc((size_t)io.num_outputs + 1, sizeof *hdd);
        pb_tensor *hshapes = calloc((size_t)io.num_outputs + 1, sizeof *hshapes);
        hio.outputs = houts;
        hio.output_bytes = hbytes;
        hio.output_dd = hdd;
        hio.output_shapes = hshapes;
        int ok = build_plan(net_host, o, O2P_TARGET_HOST, &plan_host, &plan_host_size, why,
                            wsize) &&
                 run_plan(plan_host, plan_host_size, O2P_TARGET_HOST, &hio, why, wsize);
        const char *p = o->precision ? o->precision : "fp32";
        double bound = strcmp(p, "tf32") == 0 ? 1e-3 : strcmp(p, "fp32") == 0 ? 1e-5 : 1e-2;
        /* random ops draw other values on each target (their own seeds): not compared */
        for (int k = 0; ok && !random_values && k < io.num_outputs; k++) {
            if (!houts[k])
                continue;
            /* Data-dependent outputs: the same actual shape as the host's. Others than floats:
             * the same bytes. */
            if (io.output_bytes[k] != hbytes[k] ||
                (io.output_dd[k] && (!hdd[k] || memcmp(io.output_shapes[k].dims,
                                                       hshapes[k].dims,
                                                       sizeof hshapes[k].dims) != 0))) {
                snprintf(why, wsize, "output '%s' has another shape than the host target's "
                         "(%zu bytes, host %zu)", io.output_names[k], io.output_bytes[k],
                         hbytes[k]);
                ok = 0;
                break;
            }
            if (!is_float(want[k].dtype)) {
                if (memcmp(io.outputs[k], houts[k], hbytes[k]) != 0) {
                    snprintf(why, wsize, "output '%s' differs from the host target's (exact "
                             "compare)", io.output_names[k]);
                    ok = 0;
                }
                continue;
            }
            double r = rel_error(io.outputs[k], houts[k], want[k].dtype,
                                 (int64_t)(hbytes[k] / o2p_dtype_size(want[k].dtype)));
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
        free(hdd);
        free(hshapes);
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
