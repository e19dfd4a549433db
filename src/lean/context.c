/* context.c: the lean runtime's execution context: the caller's I/O bindings and, for the
 * host target, an activation arena over an engine it only reads; execute runs the layers in
 * order through their host kernels. For the cuda target the device side lives in
 * cuda_exec.c. A context is for one thread at a time; contexts of one engine may run on as
 * many threads as there are contexts (lean.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lean/lean.h"
#include "lean/lean_abi.h"
#include "plan/engine_format.h"

#define ARENA_ALIGN 64u

struct lean_context {
    const lean_engine *engine;
    void *arena_block;      /* what calloc returned */
    unsigned char *arena;   /* inside it, ARENA_ALIGN-aligned, lean_engine_arena_size bytes */
    void **bound;           /* per I/O tensor, NULL while unbound */
    host_tensor *in_views;  /* the current layer's inputs and outputs, rebuilt per layer */
    host_tensor *out_views; /* (kernels may not change them, but they get fresh ones anyway) */
    const host_tensor **in_ptrs;
    host_tensor **out_ptrs;
    lean_range *ranges; /* per I/O tensor, for the overlap check */
    o2p_plugin_tensor *plugin_in, *plugin_out; /* a plugin layer's inputs and outputs */
    void *workspace; /* max_workspace bytes for plugin layers (NULL when 0) */
    lean_cuda_context *cuda; /* cuda engines: device memory and launch parameters */
    /* host engines: per I/O tensor, O2P_MAX_RANK dims as the last run's kernels reported
     * them (data-dependent outputs; lean_context_get_tensor_shape) */
    int64_t *dims;
    int ran; /* a run (host) or an enqueue (cuda) has been started */
};

/* Memory for tensors of no bytes that have none of their own (kernels get a valid pointer). */
static _Alignas(ARENA_ALIGN) unsigned char no_bytes[ARENA_ALIGN];

void lean_context_destroy(lean_context *ctx)
{
    if (!ctx)
        return;
    lean_cuda_context_destroy(ctx->cuda);
    free(ctx->arena_block);
    free(ctx->bound);
    free(ctx->in_views);
    free(ctx->out_views);
    free(ctx->in_ptrs);
    free(ctx->out_ptrs);
    free(ctx->ranges);
    free(ctx->plugin_in);
    free(ctx->plugin_out);
    free(ctx->workspace);
    free(ctx->dims);
    free(ctx);
}

o2p_status lean_context_create(const lean_engine *e, lean_context **out)
{
    if (!out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "lean_context_create: out is NULL");
    *out = NULL;
    if (!e)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "lean_context_create: engine is NULL");
    if (e->flags & LEAN_CREATE_TABLES_ONLY)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "%s: the engine was created tables-only (for inspection): it looked up "
                        "no kernel and makes no execution context",
                        e->what);
    lean_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%s: out of memory for an execution context",
                        e->what);
    ctx->engine = e;
    if (e->target == ENGINE_TARGET_CUDA) {
        size_t num_io = (size_t)(e->num_inputs + e->num_outputs);
        ctx->bound = calloc(num_io + 1, sizeof *ctx->bound);
        ctx->ranges = calloc(num_io + 1, sizeof *ctx->ranges);
        if (!ctx->bound || !ctx->ranges) {
            lean_context_destroy(ctx);
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%s: out of memory for an execution context",
                            e->what);
        }
        o2p_status st = lean_cuda_context_create(e, &ctx->cuda);
        if (st != O2P_OK) {
            lean_context_destroy(ctx);
            return st;
        }
        *out = ctx;
        return O2P_OK;
    }

    /* calloc: the pages of a big arena come zeroed from the kernel as they are touched. */
    if (e->arena_size > SIZE_MAX - ARENA_ALIGN ||
        !(ctx->arena_block = calloc(1, (size_t)e->arena_size + ARENA_ALIGN))) {
        lean_context_destroy(ctx);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY,
                        "%s: cannot allocate the execution context's arena of %llu bytes (the "
                        "engine's device memory size)",
                        e->what, (unsigned long long)e->arena_size);
    }
    uintptr_t misalign = (uintptr_t)ctx->arena_block % ARENA_ALIGN;
    ctx->arena = (unsigned char *)ctx->arena_block + (misalign ? ARENA_ALIGN - misalign : 0);

    size_t num_io = (size_t)(e->num_inputs + e->num_outputs);
    size_t nin = (size_t)e->max_layer_inputs + 1, nout = (size_t)e->max_layer_outputs + 1;
    ctx->bound = calloc(num_io + 1, sizeof *ctx->bound);
    ctx->ranges = calloc(num_io + 1, sizeof *ctx->ranges);
    ctx->in_views = calloc(nin, sizeof *ctx->in_views);
    ctx->out_views = calloc(nout, sizeof *ctx->out_views);
    ctx->in_ptrs = calloc(nin, sizeof *ctx->in_ptrs);
    ctx->out_ptrs = calloc(nout, sizeof *ctx->out_ptrs);
    ctx->plugin_in = calloc(nin, sizeof *ctx->plugin_in);
    ctx->plugin_out = calloc(nout, sizeof *ctx->plugin_out);
    ctx->dims = calloc((num_io + 1) * O2P_MAX_RANK, sizeof *ctx->dims);
    if (e->max_workspace &&
        (e->max_workspace > SIZE_MAX - ARENA_ALIGN ||
         !(ctx->workspace = aligned_alloc(ARENA_ALIGN, ((size_t)e->max_workspace + ARENA_ALIGN - 1) &
                                                           ~(size_t)(ARENA_ALIGN - 1))))) {
        lean_context_destroy(ctx);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY,
                        "%s: cannot allocate the plugin workspace of %llu bytes", e->what,
                        (unsigned long long)e->max_workspace);
    }
    if (!ctx->bound || !ctx->ranges || !ctx->in_views || !ctx->out_views || !ctx->in_ptrs ||
        !ctx->out_ptrs || !ctx->plugin_in || !ctx->plugin_out || !ctx->dims) {
        lean_context_destroy(ctx);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%s: out of memory for an execution context",
                        e->what);
    }
    *out = ctx;
    return O2P_OK;
}

const lean_engine *lean_context_engine(const lean_context *ctx)
{
    return ctx ? ctx->engine : NULL;
}

/* The I/O index of `name`, or fails naming it (and saying what it is when it is a tensor
 * of the engine that is not an input or output). */
static o2p_status find_io(const lean_context *ctx, const char *name, const char *call, int *io)
{
    if (!ctx || !name)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "%s: the context or the name is NULL", call);
    const lean_engine *e = ctx->engine;
    *io = lean_engine_find_io(e, name);
    if (*io >= 0)
        return O2P_OK;
    for (int i = 0; i < e->num_tensors; i++)
        if (strcmp(e->tensors[i].name, name) == 0)
            return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                            "%s: %s: tensor '%.200s' is not an engine input or output; only those "
                            "are bound to memory",
                            e->what, call, name);
    return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "%s: %s: the engine has no tensor called '%.200s'",
                    e->what, call, name);
}

o2p_status lean_context_set_tensor_address(lean_context *ctx, const char *name, void *ptr)
{
    int io = -1;
    O2P_TRY(find_io(ctx, name, "set_tensor_address", &io));
    const lean_tensor *t = &ctx->engine->tensors[ctx->engine->io[io]];
    size_t align = lean_dtype_align(t->view.dtype);
    if (ptr && (uintptr_t)ptr % align)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "%s: set_tensor_address: the address %p for '%.200s' is not aligned to its "
                        "%zu-byte elements",
                        ctx->engine->what, ptr, name, align);
    ctx->bound[io] = ptr;
    return O2P_OK;
}

void *lean_context_get_tensor_address(const lean_context *ctx, const char *name)
{
    int io = ctx ? lean_engine_find_io(ctx->engine, name) : -1;
    return io >= 0 ? ctx->bound[io] : NULL;
}

/* Dims a kernel reported for tensor t: its rank, each data-dependent dim within its bound
 * and the others as the engine has them. Anything else is the kernel's fault (or a plan's
 * that lies about its launches): O2P_ERR_INTERNAL before anyone reads that many elements. */
static o2p_status check_dims(const lean_engine *e, const lean_tensor *t, int rank,
                             const int64_t *dims)
{
    int ok = rank == t->view.rank;
    for (int d = 0; ok && d < rank; d++)
        ok = (t->dd_mask >> d & 1u) ? dims[d] >= 0 && dims[d] <= t->view.dims[d]
                                    : dims[d] == t->view.dims[d];
    if (ok)
        return O2P_OK;
    char got[200] = "", bound[200] = "";
    size_t gl = 0, bl = 0;
    for (int d = 0; d < rank && d < O2P_MAX_RANK && gl < sizeof got; d++)
        gl += (size_t)snprintf(got + gl, sizeof got - gl, "%s%lld", d ? "x" : "",
                               (long long)dims[d]);
    for (int d = 0; d < t->view.rank && bl < sizeof bound; d++)
        bl += (size_t)snprintf(bound + bl, sizeof bound - bl, "%s%s%lld", d ? "x" : "",
                               (t->dd_mask >> d & 1u) ? "<=" : "", (long long)t->view.dims[d]);
    return o2p_fail(O2P_ERR_INTERNAL,
                    "%s: tensor '%.200s': the kernel reported the shape %s (rank %d), which does "
                    "not fit its shape %s; the plan or its kernel is faulty",
                    e->what, t->name, got, rank, bound);
}

static const char *io_kind(const lean_engine *e, int io)
{
    return io < e->num_inputs ? "input" : "output";
}

/* Every I/O tensor with bytes is bound, and no output's memory overlaps another's. */
static o2p_status check_bindings(lean_context *ctx)
{
    const lean_engine *e = ctx->engine;
    int num_io = e->num_inputs + e->num_outputs;
    for (int k = 0; k < num_io; k++) {
        const lean_tensor *t = &e->tensors[e->io[k]];
        uint64_t start = (uintptr_t)ctx->bound[k];
        if (t->nbytes && !ctx->bound[k])
            return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                            "%s: engine %s '%.200s' has no memory bound; bind its %llu bytes with "
                            "set_tensor_address before execute",
                            e->what, io_kind(e, k), t->name, (unsigned long long)t->nbytes);
        if (t->nbytes > UINT64_MAX - start)
            return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                            "%s: the memory bound to engine %s '%.200s' wraps around the address "
                            "space",
                            e->what, io_kind(e, k), t->name);
        ctx->ranges[k] = (lean_range){start, start + t->nbytes, k >= e->num_inputs, k};
    }
    int a, b;
    if (lean_find_overlap(ctx->ranges, num_io, &a, &b))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "%s: the memory bound to engine %s '%.200s' overlaps the memory bound to "
                        "engine %s '%.200s'; an output's memory overlaps no other tensor's",
                        e->what, io_kind(e, a), e->tensors[e->io[a]].name, io_kind(e, b),
                        e->tensors[e->io[b]].name);
    return O2P_OK;
}

static void *tensor_data(const lean_context *ctx, const lean_tensor *t)
{
    switch (t->storage) {
    case ENGINE_STORAGE_ARENA: return ctx->arena + t->offset;
    case ENGINE_STORAGE_WEIGHTS: return ctx->engine->weights + t->offset;
    default: return ctx->bound[t->io_index] ? ctx->bound[t->io_index] : no_bytes;
    }
}

static void plugin_view(const lean_context *ctx, int32_t ti, o2p_plugin_tensor *v)
{
    memset(v, 0, sizeof *v);
    if (ti < 0)
        return; /* an omitted optional tensor: UNDEFINED, rank 0, no data */
    const lean_tensor *t = &ctx->engine->tensors[ti];
    v->dtype = t->view.dtype;
    v->rank = t->view.rank;
    for (int d = 0; d < t->view.rank; d++)
        v->dims[d] = t->view.dims[d];
    v->data = tensor_data(ctx, t);
}

/* A plugin layer: the creator's enqueue_host over views of its tensors. */
static o2p_status run_plugin(lean_context *ctx, int index)
{
    const lean_engine *e = ctx->engine;
    const lean_layer *l = &e->layers[index];
    for (int i = 0; i < l->num_inputs; i++)
        plugin_view(ctx, l->inputs[i], &ctx->plugin_in[i]);
    for (int i = 0; i < l->num_outputs; i++)
        plugin_view(ctx, l->outputs[i], &ctx->plugin_out[i]);
    char msg[512] = "";
    o2p_plugin_error err = {msg, sizeof msg};
    o2p_status st = l->plugin->enqueue_host(l->plugin_data, l->plugin_size, ctx->plugin_in,
                                            l->num_inputs, ctx->plugin_out, l->num_outputs,
                                            l->workspace ? ctx->workspace : NULL, &err);
    msg[sizeof msg - 1] = '\0';
    return st == O2P_OK ? O2P_OK : lean_plugin_failed(e, index, st, msg);
}

o2p_status lean_plugin_failed(const lean_engine *e, int index, o2p_status st, const char *msg)
{
    const lean_layer *l = &e->layers[index];
    if ((int)st <= 0 || (int)st > (int)O2P_ERR_INTERNAL)
        st = O2P_ERR_INTERNAL; /* a plugin's status is not trusted to be one of ours */
    return o2p_fail(st, "%s: layer %d '%.200s' (%.100s): the plugin %.100s version '%.50s' failed: %s",
                    e->what, index, l->name, l->op_type, l->plugin_name, l->plugin_version,
                    msg && msg[0] ? msg : o2p_status_name(st));
}

static o2p_status run_layer(lean_context *ctx, int index)
{
    const lean_engine *e = ctx->engine;
    const lean_layer *l = &e->layers[index];
    if (l->is_plugin)
        return run_plugin(ctx, index);
    for (int i = 0; i < l->num_inputs; i++) {
        ctx->in_ptrs[i] = NULL;
        if (l->inputs[i] < 0)
            continue;
        const lean_tensor *t = &e->tensors[l->inputs[i]];
        ctx->in_views[i] = t->view;
        ctx->in_views[i].data = tensor_data(ctx, t);
        ctx->in_ptrs[i] = &ctx->in_views[i];
    }
    for (int i = 0; i < l->num_outputs; i++) {
        ctx->out_ptrs[i] = NULL;
        if (l->outputs[i] < 0)
            continue;
        const lean_tensor *t = &e->tensors[l->outputs[i]];
        ctx->out_views[i] = t->view;
        ctx->out_views[i].data = tensor_data(ctx, t);
        ctx->out_ptrs[i] = &ctx->out_views[i];
    }
    host_kernel_args args = {
        .op_type = l->op_type,
        .layer_name = l->name,
        .opset = l->opset,
        .num_inputs = l->num_inputs,
        .inputs = ctx->in_ptrs,
        .num_outputs = l->num_outputs,
        .outputs = ctx->out_ptrs,
        .num_attrs = l->num_attrs,
        .attrs = l->attrs,
    };
    o2p_clear_error();
    o2p_status st = l->run(&args);
    /* data-dependent outputs: the kernel set their actual dims in its views */
    for (int i = 0; st == O2P_OK && i < l->num_outputs; i++) {
        if (l->outputs[i] < 0 || !e->tensors[l->outputs[i]].dd_mask)
            continue;
        const lean_tensor *t = &e->tensors[l->outputs[i]];
        st = check_dims(e, t, ctx->out_views[i].rank, ctx->out_views[i].dims);
        if (st == O2P_OK && t->io_index >= 0)
            memcpy(ctx->dims + (size_t)t->io_index * O2P_MAX_RANK, ctx->out_views[i].dims,
                   (size_t)t->view.rank * sizeof *ctx->dims);
    }
    if (st == O2P_OK)
        return O2P_OK;
    if (!o2p_last_error()[0])
        o2p_fail(st, "the kernel failed with %s", o2p_status_name(st));
    o2p_error_prefix("%s: layer %d '%.200s' (%.100s)", e->what, index, l->name, l->op_type);
    return st;
}

void *lean_context_tensor_data(const lean_context *ctx, int tensor)
{
    return tensor_data(ctx, &ctx->engine->tensors[tensor]);
}

o2p_status lean_context_run_layers(lean_context *ctx, int first, int end)
{
    for (int i = first; i < end; i++) {
        const lean_layer *l = &ctx->engine->layers[i];
        if (l->num_bodies) { /* control flow runs its bodies, the layers after it */
            O2P_TRY(lean_control_run_host(ctx, i));
            i += l->body_layers;
            continue;
        }
        O2P_TRY(run_layer(ctx, i));
    }
    return O2P_OK;
}

o2p_status lean_context_execute(lean_context *ctx)
{
    if (!ctx)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "lean_context_execute: the context is NULL");
    const lean_engine *e = ctx->engine;
    O2P_TRY(check_bindings(ctx));
    if (ctx->cuda) {
        ctx->ran = 1;
        O2P_TRY(lean_cuda_enqueue(ctx->cuda, ctx->bound, NULL));
        return lean_cuda_sync(e, NULL);
    }
    ctx->ran = 1;
    O2P_TRY(lean_context_run_layers(ctx, 0, e->num_layers));
    /* Outputs the builder folded to constants. */
    for (int k = e->num_inputs; k < e->num_inputs + e->num_outputs; k++) {
        const lean_tensor *t = &e->tensors[e->io[k]];
        if (t->storage == ENGINE_STORAGE_WEIGHTS && t->nbytes)
            memcpy(ctx->bound[k], e->weights + t->offset, (size_t)t->nbytes);
    }
    return O2P_OK;
}

o2p_status lean_context_enqueue(lean_context *ctx, void *stream)
{
    if (!ctx)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "lean_context_enqueue: the context is NULL");
    if (!ctx->cuda) {
        if (stream)
            return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                            "%s: enqueue: the engine runs on the host target, which has no "
                            "streams; pass a NULL stream",
                            ctx->engine->what);
        return lean_context_execute(ctx);
    }
    O2P_TRY(check_bindings(ctx));
    ctx->ran = 1;
    return lean_cuda_enqueue(ctx->cuda, ctx->bound, stream);
}

o2p_status lean_context_get_tensor_shape(const lean_context *ctx, const char *name, int *rank,
                                         int64_t *dims)
{
    int io = -1;
    O2P_TRY(find_io(ctx, name, "get_tensor_shape", &io));
    if (!rank || !dims)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "%s: get_tensor_shape: rank or dims is NULL",
                        ctx->engine->what);
    const lean_engine *e = ctx->engine;
    const lean_tensor *t = &e->tensors[e->io[io]];
    *rank = t->view.rank;
    for (int d = 0; d < t->view.rank; d++)
        dims[d] = (t->dd_mask >> d & 1u) ? -1 : t->view.dims[d];
    if (!t->dd_mask || !ctx->ran)
        return O2P_OK;
    const int64_t *got = ctx->cuda ? lean_cuda_output_dims(ctx->cuda, io)
                                   : ctx->dims + (size_t)io * O2P_MAX_RANK;
    if (!got)
        return O2P_OK;
    /* what a kernel wrote is checked before anyone sizes a read by it */
    O2P_TRY(check_dims(e, t, t->view.rank, got));
    memcpy(dims, got, (size_t)t->view.rank * sizeof *dims);
    return O2P_OK;
}

uint64_t lean_context_device_memory(const lean_context *ctx)
{
    return ctx ? lean_cuda_context_memory(ctx->cuda) : 0;
}
