/* control.c: the lean runtime's control flow (If, Loop, Scan; docs/control-flow.md). A
 * control layer's bodies are layers of the same table that follow it; this file checks
 * their records at create and runs them: on the host target directly, on the cuda target by
 * host-side dispatch (device copies on the stream, and a read back to the host, which waits
 * for the stream, wherever a condition or trip count decides what runs next). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lean/cuda_driver.h"
#include "lean/lean.h"
#include "plan/engine_format.h"

int lean_control_op(const char *op_type)
{
    return op_type && (strcmp(op_type, "If") == 0 || strcmp(op_type, "Loop") == 0 ||
                       strcmp(op_type, "Scan") == 0);
}

static const host_attr *find_attr(const lean_layer *l, const char *name)
{
    for (int a = 0; a < l->num_attrs; a++)
        if (strcmp(l->attrs[a].name, name) == 0)
            return &l->attrs[a];
    return NULL;
}

static int64_t attr_int(const lean_layer *l, const char *name, int64_t dflt)
{
    const host_attr *a = find_attr(l, name);
    return a && a->type == O2P_ATTR_INT ? a->i : dflt;
}

/* Entry i of an INTS attribute, or dflt when it is absent or too short. */
static int64_t attr_ints_at(const lean_layer *l, const char *name, int i, int64_t dflt)
{
    const host_attr *a = find_attr(l, name);
    return a && a->type == O2P_ATTR_INTS && i < a->count ? a->ints[i] : dflt;
}

/* ---------------------------------------------------------------- the shapes of a layer */

/* How a Loop or Scan maps its tensors: counts of loop-carried (state) values and scan
 * inputs and outputs, where its inputs start, and the number of iterations its scan outputs
 * hold (Scan: the sequence length). */
typedef struct cf_shape {
    int states, scan_in, scan_out;
    int first_state; /* index of the first state among the layer's inputs */
    int v8;          /* Scan of opset 8: a batch axis first, sequence_lens input */
    int64_t batch;   /* Scan v8 */
    int64_t iters;   /* Scan: the sequence length; Loop: the stacked count (-1: none) */
} cf_shape;

static const lean_tensor *tensor(const lean_engine *e, int32_t ti)
{
    return ti >= 0 ? &e->tensors[ti] : NULL;
}

static int norm_axis(int64_t axis, int rank, int *out)
{
    if (axis < -(int64_t)rank || axis >= rank)
        return 0;
    *out = (int)(axis < 0 ? axis + rank : axis);
    return 1;
}

/* Whether `big` is `small` with one more axis of length len at position axis (and the same
 * element type). */
static int stacks(const lean_tensor *big, const lean_tensor *small, int axis, int64_t len)
{
    if (!big || !small || big->view.dtype != small->view.dtype ||
        big->view.rank != small->view.rank + 1 || big->view.dims[axis] != len)
        return 0;
    for (int i = 0, j = 0; i < big->view.rank; i++)
        if (i != axis && big->view.dims[i] != small->view.dims[j++])
            return 0;
    return 1;
}

static int same_size(const lean_tensor *a, const lean_tensor *b)
{
    return a && b && a->nbytes == b->nbytes && a->view.dtype == b->view.dtype;
}

static o2p_status bad(const lean_engine *e, int li, const char *fmt, ...) O2P_PRINTF(3, 4);
static o2p_status bad(const lean_engine *e, int li, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    const lean_layer *l = &e->layers[li];
    return o2p_fail(O2P_ERR_PARSE, "%s: ENGINE section, layer %d '%.100s' (%s): %s", e->what, li,
                    l->name, l->op_type, reason);
}

static o2p_status check_if(const lean_engine *e, int li)
{
    const lean_layer *l = &e->layers[li];
    const lean_tensor *c = tensor(e, l->num_inputs ? l->inputs[0] : -1);
    if (!c || c->view.dtype != O2P_DTYPE_BOOL || c->nbytes != 1)
        return bad(e, li, "its condition is not one bool");
    for (int b = 0; b < 2; b++) {
        const lean_body *body = &l->bodies[b];
        if (body->num_inputs || body->num_outputs != l->num_outputs)
            return bad(e, li, "branch %d has %d inputs and %d outputs; it needs 0 and %d", b,
                       body->num_inputs, body->num_outputs, l->num_outputs);
        for (int k = 0; k < l->num_outputs; k++)
            if (!same_size(tensor(e, l->outputs[k]), tensor(e, body->outputs[k])))
                return bad(e, li,
                           "output %d and branch %d's output %d differ in type or size (plans "
                           "are static-shape)",
                           k, b, k);
    }
    return O2P_OK;
}

static o2p_status loop_shape(const lean_engine *e, int li, cf_shape *s)
{
    const lean_layer *l = &e->layers[li];
    const lean_body *body = &l->bodies[0];
    memset(s, 0, sizeof *s);
    s->states = body->num_inputs - 2;
    s->scan_out = body->num_outputs - 1 - s->states;
    s->first_state = 2;
    s->iters = -1;
    if (s->states < 0 || s->scan_out < 0 || l->num_inputs < 2 + s->states ||
        l->num_outputs != s->states + s->scan_out)
        return bad(e, li,
                   "the body has %d inputs and %d outputs for a layer of %d inputs and %d "
                   "outputs",
                   body->num_inputs, body->num_outputs, l->num_inputs, l->num_outputs);
    const lean_tensor *m = tensor(e, l->inputs[0]), *c = tensor(e, l->inputs[1]);
    if ((m && (m->view.dtype != O2P_DTYPE_INT64 || m->nbytes != 8)) ||
        (c && (c->view.dtype != O2P_DTYPE_BOOL || c->nbytes != 1)))
        return bad(e, li, "its trip count is not one int64 or its condition not one bool");
    const lean_tensor *it = tensor(e, body->inputs[0]), *ci = tensor(e, body->inputs[1]);
    const lean_tensor *co = tensor(e, body->outputs[0]);
    if (it->view.dtype != O2P_DTYPE_INT64 || it->nbytes != 8 || ci->view.dtype != O2P_DTYPE_BOOL ||
        ci->nbytes != 1 || co->view.dtype != O2P_DTYPE_BOOL || co->nbytes != 1)
        return bad(e, li,
                   "the body's iteration number, condition input or condition output "
                   "is not one int64 / bool");
    for (int i = 0; i < s->states; i++)
        if (!same_size(tensor(e, l->inputs[2 + i]), tensor(e, body->inputs[2 + i])) ||
            !same_size(tensor(e, l->outputs[i]), tensor(e, body->inputs[2 + i])) ||
            !same_size(tensor(e, body->outputs[1 + i]), tensor(e, body->inputs[2 + i])))
            return bad(e, li,
                       "loop-carried value %d changes type or size between the layer's input, "
                       "the body and the layer's output (plans are static-shape)",
                       i);
    for (int j = 0; j < s->scan_out; j++) {
        const lean_tensor *o = tensor(e, l->outputs[s->states + j]);
        const lean_tensor *bo = tensor(e, body->outputs[1 + s->states + j]);
        if (!o || o->view.rank < 1 || (j && o->view.dims[0] != s->iters) ||
            !stacks(o, bo, 0, o->view.dims[0]))
            return bad(e, li,
                       "scan output %d does not stack the body's output %d over one count of "
                       "iterations",
                       j, 1 + s->states + j);
        s->iters = o->view.dims[0];
    }
    return O2P_OK;
}

static o2p_status scan_shape(const lean_engine *e, int li, cf_shape *s)
{
    const lean_layer *l = &e->layers[li];
    const lean_body *body = &l->bodies[0];
    memset(s, 0, sizeof *s);
    s->v8 = l->opset < 9;
    /* checked against the body before any arithmetic: a plan's attribute may be any int64 */
    int64_t scan_in = attr_int(l, "num_scan_inputs", -1);
    if (scan_in < 1 || scan_in > body->num_inputs)
        return bad(e, li,
                   "num_scan_inputs %lld does not fit a body of %d inputs (1 to that many are "
                   "scanned)",
                   (long long)scan_in, body->num_inputs);
    s->scan_in = (int)scan_in;
    s->states = body->num_inputs - s->scan_in;
    s->scan_out = body->num_outputs - s->states;
    s->first_state = s->v8 ? 1 : 0;
    if (s->scan_out < 0 ||
        l->num_inputs < s->first_state + s->states + s->scan_in ||
        l->num_outputs != s->states + s->scan_out)
        return bad(e, li,
                   "num_scan_inputs %d and a body of %d inputs and %d outputs do not fit a "
                   "layer of %d inputs and %d outputs",
                   s->scan_in, body->num_inputs, body->num_outputs, l->num_inputs, l->num_outputs);
    s->iters = -1;
    s->batch = 1;
    for (int j = 0; j < s->scan_in; j++) {
        const lean_tensor *x = tensor(e, l->inputs[s->first_state + s->states + j]);
        const lean_tensor *bx = tensor(e, body->inputs[s->states + j]);
        int ax = 0;
        if (!x || (s->v8 && x->view.rank < 2))
            return bad(e, li, "scan input %d is omitted or of too low a rank", j);
        if (s->v8) {
            if (j == 0)
                s->batch = x->view.dims[0];
            ax = 1;
        } else if (!norm_axis(attr_ints_at(l, "scan_input_axes", j, 0), x->view.rank, &ax)) {
            return bad(e, li, "scan_input_axes %d is out of range", j);
        }
        int64_t len = x->view.dims[ax];
        if (s->iters >= 0 && len != s->iters)
            return bad(e, li, "scan input %d has %lld iterations, another %lld", j, (long long)len,
                       (long long)s->iters);
        s->iters = len;
        /* v8: the body sees [rest] of [batch, seq, rest]: the batch axis too is gone */
        if (s->v8 ? (x->view.dims[0] != s->batch || !bx || bx->view.rank != x->view.rank - 2 ||
                     bx->nbytes * (uint64_t)s->batch * (uint64_t)len != x->nbytes ||
                     bx->view.dtype != x->view.dtype)
                  : !stacks(x, bx, ax, len))
            return bad(e, li, "scan input %d is not a stack of the body's input %d", j,
                       s->states + j);
    }
    for (int i = 0; i < s->states; i++) {
        const lean_tensor *in = tensor(e, l->inputs[s->first_state + i]);
        const lean_tensor *bi = tensor(e, body->inputs[i]), *bo = tensor(e, body->outputs[i]);
        const lean_tensor *out = tensor(e, l->outputs[i]);
        uint64_t per = s->v8 ? (uint64_t)s->batch : 1;
        if (!in || !bi || !bo || !out || in->nbytes != bi->nbytes * per ||
            out->nbytes != in->nbytes || !same_size(bi, bo) || in->view.dtype != bi->view.dtype ||
            out->view.dtype != in->view.dtype)
            return bad(e, li,
                       "state variable %d changes type or size between the layer's input, the "
                       "body and the layer's output (plans are static-shape)",
                       i);
    }
    for (int j = 0; j < s->scan_out; j++) {
        const lean_tensor *o = tensor(e, l->outputs[s->states + j]);
        const lean_tensor *bo = tensor(e, body->outputs[s->states + j]);
        int ax = 1;
        if (!o || !bo)
            return bad(e, li, "scan output %d is omitted", j);
        if (s->v8) {
            if (o->view.rank != bo->view.rank + 2 || o->view.dims[0] != s->batch ||
                o->view.dims[1] != s->iters ||
                o->nbytes != bo->nbytes * (uint64_t)s->batch * (uint64_t)s->iters ||
                o->view.dtype != bo->view.dtype)
                return bad(e, li, "scan output %d is not [batch, sequence, body output]", j);
            continue;
        }
        if (!norm_axis(attr_ints_at(l, "scan_output_axes", j, 0), o->view.rank, &ax) ||
            !stacks(o, bo, ax, s->iters))
            return bad(e, li,
                       "scan output %d does not stack the body's output %d over the sequence", j,
                       s->states + j);
    }
    return O2P_OK;
}

/* Whether tensor ti may be read when body `body` of layer li ends. */
static int readable_after(const lean_engine *e, int li, const lean_body *body, int32_t ti)
{
    const lean_tensor *t = &e->tensors[ti];
    if (t->storage == ENGINE_STORAGE_WEIGHTS || (t->io & ENGINE_IO_INPUT))
        return 1;
    if (t->writer >= 0 && t->writer < li)
        return 1;
    if (t->writer >= body->first_layer && t->writer < body->first_layer + body->num_layers)
        return 1;
    for (int i = 0; i < body->num_inputs; i++)
        if (body->inputs[i] == ti)
            return 1;
    return 0;
}

o2p_status lean_control_check(const lean_engine *e)
{
    for (int li = 0; li < e->num_layers; li++) {
        const lean_layer *l = &e->layers[li];
        if (!l->num_bodies)
            continue;
        for (int b = 0; b < l->num_bodies; b++) {
            const lean_body *body = &l->bodies[b];
            int end = body->first_layer + body->num_layers;
            /* a control layer inside keeps its bodies inside this one */
            for (int k = body->first_layer; k < end; k++)
                if (k + e->layers[k].body_layers >= end)
                    return bad(e, li, "body %d ends inside the bodies of layer %d", b, k);
            for (int k = 0; k < body->num_outputs; k++)
                if (!readable_after(e, li, body, body->outputs[k]))
                    return bad(e, li,
                               "body %d output %d is tensor %d, which is not written when the "
                               "body ends",
                               b, k, (int)body->outputs[k]);
        }
        cf_shape s;
        if (strcmp(l->op_type, "If") == 0)
            O2P_TRY(check_if(e, li));
        else if (strcmp(l->op_type, "Loop") == 0)
            O2P_TRY(loop_shape(e, li, &s));
        else
            O2P_TRY(scan_shape(e, li, &s));
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- the executor */

/* One executor over either target: the host context, or a cuda context and its stream. */
typedef struct cf_exec {
    const lean_engine *e;
    int layer;
    lean_context *host;
    lean_cuda_context *cuda;
    void *stream;
    const cuda_driver *d;
} cf_exec;

static o2p_status driver_failed(const cf_exec *x, const char *call, CUresult r)
{
    const lean_layer *l = &x->e->layers[x->layer];
    char rt[200];
    return o2p_fail(r == CUDA_ERROR_OUT_OF_MEMORY ? O2P_ERR_OUT_OF_MEMORY : O2P_ERR_INTERNAL,
                    "%s: layer %d '%.200s' (%s): %s: %s", x->e->what, x->layer, l->name, l->op_type,
                    call, cuda_result_text(x->d, r, rt, sizeof rt));
}

static o2p_status run_layers(cf_exec *x, const lean_body *body)
{
    int end = body->first_layer + body->num_layers;
    if (x->host)
        return lean_context_run_layers(x->host, body->first_layer, end);
    return lean_cuda_enqueue_layers(x->cuda, x->stream, body->first_layer, end);
}

/* n bytes from tensor src at soff to tensor dst at doff. */
static o2p_status copy(cf_exec *x, int32_t dst, uint64_t doff, int32_t src, uint64_t soff,
                       uint64_t n)
{
    if (!n || (dst == src && doff == soff))
        return O2P_OK;
    if (x->host) {
        memmove((unsigned char *)lean_context_tensor_data(x->host, dst) + doff,
                (const unsigned char *)lean_context_tensor_data(x->host, src) + soff, (size_t)n);
        return O2P_OK;
    }
    CUresult r = x->d->cuMemcpyDtoDAsync(lean_cuda_tensor_address(x->cuda, dst) + doff,
                                         lean_cuda_tensor_address(x->cuda, src) + soff, (size_t)n,
                                         (CUstream)x->stream);
    return r == CUDA_SUCCESS ? O2P_OK : driver_failed(x, "cuMemcpyDtoDAsync", r);
}

/* Reads n bytes of tensor ti to the host (cuda: waits for the stream). */
static o2p_status read_back(cf_exec *x, int32_t ti, uint64_t off, void *out, size_t n)
{
    if (x->host) {
        memcpy(out, (const unsigned char *)lean_context_tensor_data(x->host, ti) + off, n);
        return O2P_OK;
    }
    CUresult r = x->d->cuMemcpyDtoHAsync(out, lean_cuda_tensor_address(x->cuda, ti) + off, n,
                                         (CUstream)x->stream);
    if (r != CUDA_SUCCESS)
        return driver_failed(x, "cuMemcpyDtoHAsync", r);
    r = x->d->cuStreamSynchronize((CUstream)x->stream);
    return r == CUDA_SUCCESS ? O2P_OK : driver_failed(x, "cuStreamSynchronize", r);
}

/* Writes n bytes (at most 8) from the host into tensor ti. On cuda as byte memsets on the
 * stream: a cuMemcpyHtoDAsync from pageable memory would wait for the stream first, and a
 * counted loop would then wait on every iteration. */
static o2p_status write_value(cf_exec *x, int32_t ti, const void *in, size_t n)
{
    if (x->host) {
        memcpy(lean_context_tensor_data(x->host, ti), in, n);
        return O2P_OK;
    }
    const uint8_t *b = in;
    CUdeviceptr at = lean_cuda_tensor_address(x->cuda, ti);
    CUresult r = x->d->cuMemsetD8Async(at, 0, n, (CUstream)x->stream);
    for (size_t k = 0; k < n && r == CUDA_SUCCESS; k++)
        if (b[k])
            r = x->d->cuMemsetD8Async(at + k, b[k], 1, (CUstream)x->stream);
    return r == CUDA_SUCCESS ? O2P_OK : driver_failed(x, "cuMemsetD8Async", r);
}

/* Copies slice idx of `big` along axis (of length len there) to or from `small`. */
static o2p_status copy_slice(cf_exec *x, int32_t big, int axis, int64_t idx, int32_t small,
                             int to_small)
{
    const lean_tensor *t = &x->e->tensors[big];
    uint64_t outer = 1, inner = lean_dtype_size(t->view.dtype);
    for (int i = 0; i < axis; i++)
        outer *= (uint64_t)t->view.dims[i];
    for (int i = axis + 1; i < t->view.rank; i++)
        inner *= (uint64_t)t->view.dims[i];
    uint64_t len = (uint64_t)t->view.dims[axis];
    for (uint64_t o = 0; o < outer; o++) {
        uint64_t boff = (o * len + (uint64_t)idx) * inner, soff = o * inner;
        O2P_TRY(to_small ? copy(x, small, soff, big, boff, inner)
                         : copy(x, big, boff, small, soff, inner));
    }
    return O2P_OK;
}

static uint64_t nbytes(const cf_exec *x, int32_t ti)
{
    return x->e->tensors[ti].nbytes;
}

static o2p_status run_if(cf_exec *x, const lean_layer *l)
{
    uint8_t cond = 0;
    O2P_TRY(read_back(x, l->inputs[0], 0, &cond, 1));
    const lean_body *body = &l->bodies[cond ? 0 : 1];
    O2P_TRY(run_layers(x, body));
    for (int k = 0; k < l->num_outputs; k++)
        O2P_TRY(copy(x, l->outputs[k], 0, body->outputs[k], 0, nbytes(x, l->outputs[k])));
    return O2P_OK;
}

static o2p_status run_loop(cf_exec *x, const lean_layer *l)
{
    cf_shape s;
    O2P_TRY(loop_shape(x->e, x->layer, &s));
    const lean_body *body = &l->bodies[0];
    int64_t m = INT64_MAX;
    uint8_t cond = 1;
    if (l->inputs[0] >= 0)
        O2P_TRY(read_back(x, l->inputs[0], 0, &m, 8));
    if (l->inputs[1] >= 0)
        O2P_TRY(read_back(x, l->inputs[1], 0, &cond, 1));
    /* The carried values live in the layer's outputs between iterations: copies through
     * them stay right when the body swaps or passes its inputs through. */
    for (int i = 0; i < s.states; i++)
        O2P_TRY(copy(x, l->outputs[i], 0, l->inputs[2 + i], 0, nbytes(x, l->outputs[i])));
    /* the condition the body gets is true on every iteration that runs */
    const uint8_t one = 1;
    int64_t it = 0;
    for (; it < m && cond; it++) {
        if (s.scan_out && it >= s.iters)
            return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                            "%s: layer %d '%.200s' (Loop) runs more than the %lld iterations its "
                            "scan outputs hold (plans are static-shape: the trip count and "
                            "condition must keep to what the build saw)",
                            x->e->what, x->layer, l->name, (long long)s.iters);
        O2P_TRY(write_value(x, body->inputs[0], &it, 8));
        O2P_TRY(write_value(x, body->inputs[1], &one, 1));
        for (int i = 0; i < s.states; i++)
            O2P_TRY(copy(x, body->inputs[2 + i], 0, l->outputs[i], 0, nbytes(x, l->outputs[i])));
        O2P_TRY(run_layers(x, body));
        for (int i = 0; i < s.states; i++)
            O2P_TRY(copy(x, l->outputs[i], 0, body->outputs[1 + i], 0, nbytes(x, l->outputs[i])));
        for (int j = 0; j < s.scan_out; j++) {
            int32_t bo = body->outputs[1 + s.states + j];
            O2P_TRY(copy(x, l->outputs[s.states + j], (uint64_t)it * nbytes(x, bo), bo, 0,
                         nbytes(x, bo)));
        }
        /* a condition passed through stays true: no read back (no wait on cuda) */
        if (body->outputs[0] != body->inputs[1])
            O2P_TRY(read_back(x, body->outputs[0], 0, &cond, 1));
    }
    if (s.scan_out && it != s.iters)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "%s: layer %d '%.200s' (Loop) stopped after %lld iterations, but its "
                        "scan outputs hold %lld (plans are static-shape: the trip count and "
                        "condition must keep to what the build saw)",
                        x->e->what, x->layer, l->name, (long long)it, (long long)s.iters);
    return O2P_OK;
}

static o2p_status run_scan(cf_exec *x, const lean_layer *l)
{
    cf_shape s;
    O2P_TRY(scan_shape(x->e, x->layer, &s));
    const lean_body *body = &l->bodies[0];
    if (s.v8 && l->inputs[0] >= 0) {
        /* sequence_lens: only full-length sequences are supported */
        const lean_tensor *t = &x->e->tensors[l->inputs[0]];
        uint64_t count = t->nbytes / (t->view.dtype == O2P_DTYPE_INT64 ? 8 : 4);
        for (uint64_t b = 0; b < count; b++) {
            int64_t v = 0;
            if (t->view.dtype == O2P_DTYPE_INT64) {
                O2P_TRY(read_back(x, l->inputs[0], b * 8, &v, 8));
            } else {
                int32_t v32 = 0;
                O2P_TRY(read_back(x, l->inputs[0], b * 4, &v32, 4));
                v = v32;
            }
            if (v != s.iters)
                return o2p_fail(O2P_ERR_UNSUPPORTED,
                                "%s: layer %d '%.200s' (Scan): sequence_lens[%llu] is %lld, but "
                                "only full sequences of %lld are supported",
                                x->e->what, x->layer, l->name, (unsigned long long)b, (long long)v,
                                (long long)s.iters);
        }
    }
    for (int i = 0; i < s.states; i++)
        O2P_TRY(
            copy(x, l->outputs[i], 0, l->inputs[s.first_state + i], 0, nbytes(x, l->outputs[i])));
    for (int64_t b = 0; b < s.batch; b++) {
        for (int64_t t = 0; t < s.iters; t++) {
            for (int i = 0; i < s.states; i++) {
                uint64_t n = nbytes(x, body->inputs[i]);
                O2P_TRY(copy(x, body->inputs[i], 0, l->outputs[i], (uint64_t)b * n, n));
            }
            for (int j = 0; j < s.scan_in; j++) {
                int32_t in = l->inputs[s.first_state + s.states + j];
                int32_t bi = body->inputs[s.states + j];
                if (s.v8) {
                    int64_t idx = attr_ints_at(l, "directions", j, 0) ? s.iters - 1 - t : t;
                    uint64_t n = nbytes(x, bi);
                    O2P_TRY(copy(x, bi, 0, in,
                                 ((uint64_t)b * (uint64_t)s.iters + (uint64_t)idx) * n, n));
                    continue;
                }
                int ax = 0;
                norm_axis(attr_ints_at(l, "scan_input_axes", j, 0), x->e->tensors[in].view.rank,
                          &ax);
                int64_t idx = attr_ints_at(l, "scan_input_directions", j, 0) ? s.iters - 1 - t : t;
                O2P_TRY(copy_slice(x, in, ax, idx, bi, 1));
            }
            O2P_TRY(run_layers(x, body));
            for (int i = 0; i < s.states; i++) {
                uint64_t n = nbytes(x, body->outputs[i]);
                O2P_TRY(copy(x, l->outputs[i], (uint64_t)b * n, body->outputs[i], 0, n));
            }
            for (int j = 0; j < s.scan_out; j++) {
                int32_t out = l->outputs[s.states + j];
                int32_t bo = body->outputs[s.states + j];
                if (s.v8) {
                    uint64_t n = nbytes(x, bo);
                    O2P_TRY(copy(x, out, ((uint64_t)b * (uint64_t)s.iters + (uint64_t)t) * n, bo, 0,
                                 n));
                    continue;
                }
                int ax = 0;
                norm_axis(attr_ints_at(l, "scan_output_axes", j, 0), x->e->tensors[out].view.rank,
                          &ax);
                int64_t idx = attr_ints_at(l, "scan_output_directions", j, 0) ? s.iters - 1 - t : t;
                O2P_TRY(copy_slice(x, out, ax, idx, bo, 0));
            }
        }
    }
    return O2P_OK;
}

static o2p_status run(cf_exec *x)
{
    const lean_layer *l = &x->e->layers[x->layer];
    if (strcmp(l->op_type, "If") == 0)
        return run_if(x, l);
    if (strcmp(l->op_type, "Loop") == 0)
        return run_loop(x, l);
    return run_scan(x, l);
}

o2p_status lean_control_run_host(lean_context *ctx, int layer)
{
    cf_exec x = {lean_context_engine(ctx), layer, ctx, NULL, NULL, NULL};
    return run(&x);
}

o2p_status lean_control_enqueue_cuda(lean_cuda_context *c, int layer, void *stream)
{
    /* the engine is the one the context was made from; its driver table is loaded */
    cf_exec x = {NULL, layer, NULL, c, stream, NULL};
    x.e = lean_cuda_context_engine(c);
    x.d = lean_cuda_driver_of(x.e);
    return run(&x);
}
