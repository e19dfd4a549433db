/* lower_rnn.c: lowerings of the rnn kernel family (kernels/cuda/rnn.cu): LSTM, GRU and RNN.
 * The layer is checked and its attributes read by host_rnn_describe, the host kernel's own
 * (kernels/host/rnn.c), so both targets accept the same layers with the same defaults; the
 * lowering then fills o2p_rnn_params and emits the input projection and the recurrence. */
#include <stddef.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/rnn_params.h"
#include "host/rnn_internal.h"

_Static_assert(sizeof(o2p_rnn_params) == 304, "o2p_rnn_params layout");
_Static_assert(O2P_RNN_PARAMS_SIZE == 304, "o2p_rnn_params layout");
_Static_assert(HOST_RNN_SIMPLE == O2P_RNN_SIMPLE && HOST_RNN_GRU == O2P_RNN_GRU &&
                   HOST_RNN_LSTM == O2P_RNN_LSTM,
               "layer kinds of host and CUDA agree");
_Static_assert(HOST_RNN_RELU == O2P_RNN_ACT_RELU && HOST_RNN_TANH == O2P_RNN_ACT_TANH &&
                   HOST_RNN_SIGMOID == O2P_RNN_ACT_SIGMOID &&
                   HOST_RNN_AFFINE == O2P_RNN_ACT_AFFINE &&
                   HOST_RNN_LEAKY_RELU == O2P_RNN_ACT_LEAKY_RELU &&
                   HOST_RNN_THRESHOLDED_RELU == O2P_RNN_ACT_THRESHOLDED_RELU &&
                   HOST_RNN_SCALED_TANH == O2P_RNN_ACT_SCALED_TANH &&
                   HOST_RNN_HARD_SIGMOID == O2P_RNN_ACT_HARD_SIGMOID &&
                   HOST_RNN_ELU == O2P_RNN_ACT_ELU && HOST_RNN_SOFTSIGN == O2P_RNN_ACT_SOFTSIGN &&
                   HOST_RNN_SOFTPLUS == O2P_RNN_ACT_SOFTPLUS,
               "activation codes of host and CUDA agree");

static int is_float(o2p_dtype t)
{
    return t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_FLOAT16 || t == O2P_DTYPE_BFLOAT16 ||
           t == O2P_DTYPE_DOUBLE;
}

/* The kernels for a tensor type (cg_launch keeps the name's pointer: literals only). */
static const char *proj_fn(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT16: return "o2p_rnn_proj_f16";
    case O2P_DTYPE_BFLOAT16: return "o2p_rnn_proj_bf16";
    case O2P_DTYPE_DOUBLE: return "o2p_rnn_proj_f64";
    default: return "o2p_rnn_proj_f32";
    }
}

static const char *seq_fn(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT16: return "o2p_rnn_seq_f16";
    case O2P_DTYPE_BFLOAT16: return "o2p_rnn_seq_bf16";
    case O2P_DTYPE_DOUBLE: return "o2p_rnn_seq_f64";
    default: return "o2p_rnn_seq_f32";
    }
}

/* The accumulation type's size: double for double tensors, float otherwise. */
static uint64_t acc_size(o2p_dtype t)
{
    return t == O2P_DTYPE_DOUBLE ? 8u : 4u;
}

/* ---------------------------------------------------------------- candidates */

/* The workspace the lowering reserves (cg_emit_workspace rounds each area to 256 bytes). */
static uint64_t round256(uint64_t n)
{
    return (n + 255u) & ~(uint64_t)255u;
}

static void workspace_bytes(const host_rnn_desc *d, uint64_t *proj, uint64_t *state)
{
    uint64_t as = acc_size(d->dtype), gh = (uint64_t)(d->gates * d->hidden);
    *proj = (uint64_t)d->num_dirs * (uint64_t)d->seq * (uint64_t)d->batch * gh * as;
    *state = (uint64_t)d->num_dirs * (uint64_t)d->batch * (3u * (uint64_t)d->hidden + gh) * as;
}

static int rnn_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                          const char **why)
{
    (void)o;
    const host_tensor *x = host_in(&l->args, 0);
    if (x && !is_float(x->dtype)) {
        *why = "the CUDA kernel takes float, float16, bfloat16 and double only";
        return 0;
    }
    if (cap < 1)
        return 0;
    const char *kernel = strcmp(l->args.op_type, "LSTM") == 0  ? "cuda.rnn.lstm"
                         : strcmp(l->args.op_type, "GRU") == 0 ? "cuda.rnn.gru"
                                                               : "cuda.rnn.rnn";
    host_rnn_desc d;
    if (host_rnn_describe(&l->args, 0, &d) != O2P_OK) {
        /* lower() reports what is wrong with the layer */
        out[0] = cg_simple_tactic(kernel, 0, 1e-5);
        return 1;
    }
    /* cost: the projection GEMM and the recurrent products (flops), R read once per step,
     * and a fixed latency per time step (the steps run one after the other) */
    double gh = (double)(d.gates * d.hidden), dirs = (double)d.num_dirs;
    double flops =
        2.0 * dirs * (double)d.seq * (double)d.batch * gh * ((double)d.input + (double)d.hidden);
    double bytes = (double)o2p_dtype_size(d.dtype) * (double)d.seq * dirs * gh *
                   ((double)d.hidden + (double)d.batch);
    double cost = 1e-6 + flops / 1.5e13 + bytes / 1.5e12 + (double)d.seq * 5e-6;
    uint64_t proj, state;
    workspace_bytes(&d, &proj, &state);
    out[0] = cg_simple_tactic(
        kernel, (uint32_t)(2 * O2P_RNN_TILE * (O2P_RNN_TILE + 1) * acc_size(d.dtype)), cost);
    out[0].workspace = round256(proj) + round256(state);
    return 1;
}

/* ---------------------------------------------------------------- lowering */

/* Marks field `off` of launch k as input/output tensor t, when t is used. */
static void ptr_in(cg_emit *e, cg_launch *k, const cg_layer *l, size_t off, int i,
                   const host_tensor *t)
{
    if (t)
        cg_launch_ptr(e, k, (uint32_t)off, l->input_tensors[i], 0);
}

static void ptr_out(cg_emit *e, cg_launch *k, const cg_layer *l, size_t off, int i,
                    const host_tensor *t)
{
    if (t)
        cg_launch_ptr(e, k, (uint32_t)off, l->output_tensors[i], 0);
}

static void patch_all(cg_emit *e, cg_launch *k, const cg_layer *l, const host_rnn_desc *d,
                      uint64_t proj_off, uint64_t state_off)
{
    if (!k)
        return;
    ptr_in(e, k, l, offsetof(o2p_rnn_params, x_ptr), 0, d->x);
    ptr_in(e, k, l, offsetof(o2p_rnn_params, w_ptr), 1, d->w);
    ptr_in(e, k, l, offsetof(o2p_rnn_params, r_ptr), 2, d->r);
    ptr_in(e, k, l, offsetof(o2p_rnn_params, b_ptr), 3, d->b);
    ptr_in(e, k, l, offsetof(o2p_rnn_params, seq_ptr), 4, d->seq_lens);
    ptr_in(e, k, l, offsetof(o2p_rnn_params, h0_ptr), 5, d->h0);
    ptr_in(e, k, l, offsetof(o2p_rnn_params, c0_ptr), 6, d->c0);
    ptr_in(e, k, l, offsetof(o2p_rnn_params, p_ptr), 7, d->p);
    ptr_out(e, k, l, offsetof(o2p_rnn_params, y_ptr), 0, d->y);
    ptr_out(e, k, l, offsetof(o2p_rnn_params, yh_ptr), 1, d->yh);
    ptr_out(e, k, l, offsetof(o2p_rnn_params, yc_ptr), 2, d->yc);
    if (d->seq > 0)
        cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_rnn_params, proj_ptr), CG_TENSOR_WORKSPACE,
                      proj_off);
    cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_rnn_params, state_ptr), CG_TENSOR_WORKSPACE,
                  state_off);
}

static o2p_status rnn_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    (void)t;
    (void)o;
    const host_kernel_args *a = &l->args;
    host_rnn_desc d;
    O2P_TRY(host_rnn_describe(a, 0, &d));
    /* tensors the engine does not have (index -1): required ones are an error, optional
     * ones are omitted */
    static const char *const req[3] = {"X", "W", "R"};
    for (int i = 0; i < 3; i++)
        if (l->input_tensors[i] < 0)
            return host_error(a, "input %d (%s) is missing", i, req[i]);
    const host_tensor **opt_in[5] = {&d.b, &d.seq_lens, &d.h0, &d.c0, &d.p};
    for (int i = 3; i < 8; i++)
        if (i < a->num_inputs && *opt_in[i - 3] && l->input_tensors[i] < 0)
            *opt_in[i - 3] = NULL;
    host_tensor **outs[3] = {&d.y, &d.yh, &d.yc};
    for (int i = 0; i < 3; i++)
        if (i < a->num_outputs && *outs[i] && l->output_tensors[i] < 0)
            *outs[i] = NULL;
    /* sequence lengths known at build time: refuse what the host kernel refuses */
    if (d.seq_lens && d.seq_lens->data)
        for (int64_t b = 0; b < d.batch; b++) {
            int64_t len = host_get_i64(d.seq_lens, b);
            if (len < 0 || len > d.seq)
                return host_error(a, "sequence_lens[%lld] is %lld, outside [0, %lld]", (long long)b,
                                  (long long)len, (long long)d.seq);
        }
    if (d.batch == 0 || (!d.y && !d.yh && !d.yc))
        return O2P_OK; /* nothing to compute */

    int64_t gh = d.gates * d.hidden, nd = d.num_dirs;
    int64_t row_tiles = (d.seq * d.batch + O2P_RNN_TILE - 1) / O2P_RNN_TILE;
    int64_t col_tiles = (gh + O2P_RNN_TILE - 1) / O2P_RNN_TILE;
    if (d.batch > INT32_MAX || col_tiles > INT32_MAX)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): batch %lld x %lld gate rows exceed the CUDA grid; "
                        "build it for the host target",
                        cg_layer_name(l), a->op_type, (long long)d.batch, (long long)gh);
    uint64_t proj_bytes, state_bytes;
    workspace_bytes(&d, &proj_bytes, &state_bytes);
    uint64_t proj_off = d.seq > 0 ? cg_emit_workspace(e, proj_bytes) : 0;
    uint64_t state_off = cg_emit_workspace(e, state_bytes);

    o2p_rnn_params p;
    memset(&p, 0, sizeof p);
    p.seq = d.seq;
    p.batch = d.batch;
    p.input = d.input;
    p.hidden = d.hidden;
    p.x_ts = d.x_ts;
    p.x_bs = d.x_bs;
    p.y_ts = d.y_ts;
    p.y_ds = d.y_ds;
    p.y_bs = d.y_bs;
    p.s_ds = d.s_ds;
    p.s_bs = d.s_bs;
    for (int dir = 0; dir < 2; dir++)
        for (int k = 0; k < 3; k++) {
            p.act[dir * 3 + k] = d.act[dir][k];
            p.alpha[dir * 3 + k] = d.alpha[dir][k];
            p.beta[dir * 3 + k] = d.beta[dir][k];
        }
    p.clip = d.clip;
    p.has_clip = d.has_clip;
    p.kind = (int32_t)d.kind;
    p.gates = d.gates;
    p.dirs = d.num_dirs;
    p.reverse[0] = d.reverse[0];
    p.reverse[1] = d.reverse[1];
    p.input_forget = d.input_forget;
    p.linear_before_reset = d.linear_before_reset;
    p.seq_dtype = d.seq_lens && d.seq_lens->dtype == O2P_DTYPE_INT64 ? O2P_CU_INT64 : O2P_CU_INT32;

    if (d.seq > 0) {
        uint32_t grid[3] = {
            (uint32_t)col_tiles,
            (uint32_t)(row_tiles < O2P_RNN_MAX_ROW_TILES ? row_tiles : O2P_RNN_MAX_ROW_TILES),
            (uint32_t)nd};
        uint32_t block[3] = {O2P_RNN_TILE, O2P_RNN_TILE, 1};
        cg_launch *k = cg_emit_kernel(e, "rnn", proj_fn(d.dtype), grid, block, 0, &p, sizeof p);
        patch_all(e, k, l, &d, proj_off, state_off);
    }
    uint32_t grid[3] = {(uint32_t)d.batch, (uint32_t)nd, 1};
    uint32_t block[3] = {O2P_RNN_THREADS, 1, 1};
    cg_launch *k = cg_emit_kernel(e, "rnn", seq_fn(d.dtype), grid, block, 0, &p, sizeof p);
    patch_all(e, k, l, &d, proj_off, state_off);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- the table */

const cg_op cg_rnn_ops[] = {
    {"GRU", rnn_candidates, rnn_lower},
    {"LSTM", rnn_candidates, rnn_lower},
    {"RNN", rnn_candidates, rnn_lower},
};
const int cg_rnn_op_count = (int)(sizeof cg_rnn_ops / sizeof cg_rnn_ops[0]);
