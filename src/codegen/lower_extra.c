/* lower_extra.c: lowerings of the extra kernel family (kernels/cuda/extra.cu): the losses,
 * Einsum and the quantization ops. Each lower() checks what its kernel relies on as the host
 * kernel (kernels/host/extra.c) does and fills the kernel's parameter struct
 * (kernels/cuda/extra_params.h). Einsum equations are planned by the host's own planner, and
 * convolution windows by host_nn_window, so both targets agree on every case. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/extra_params.h"
#include "host/nn_internal.h"

_Static_assert(sizeof(o2p_extra_loss_params) == 104, "o2p_extra_loss_params layout");
_Static_assert(sizeof(o2p_extra_einsum_params) == 2416, "o2p_extra_einsum_params layout");
_Static_assert(sizeof(o2p_extra_quant_params) == 96, "o2p_extra_quant_params layout");
_Static_assert(sizeof(o2p_extra_dynq_params) == 40, "o2p_extra_dynq_params layout");
_Static_assert(sizeof(o2p_extra_qmatmul_params) == 680, "o2p_extra_qmatmul_params layout");
_Static_assert(sizeof(o2p_extra_qconv_params) == 936, "o2p_extra_qconv_params layout");

/* Defined in kernels/host/extra.c (the host Einsum kernel's planner): labels numbered with
 * the output's first, dims[64] and strides[8][64] per input. */
o2p_status host_extra_einsum_plan(const host_kernel_args *a, int64_t *dims, int64_t *strides,
                                  int *num_labels, int *num_out);
#define EX_HOST_EIN_LABELS 64

#define EX_BLOCK 256u

/* ---------------------------------------------------------------- checks and messages */

static o2p_status ex_check_tensor(const cg_layer *l, const host_tensor *t, const char *kind, int i,
                                  const char *what)
{
    O2P_TRY(cg_check_tensor(l, t, kind, i, what));
    if (o2p_dtype_size(t->dtype) == 0)
        return cg_layer_error(l, "%s %d (%s) has an invalid element type %d", kind, i, what,
                        (int)t->dtype);
    return O2P_OK;
}

static int64_t numel(const host_tensor *t)
{
    int ok;
    int64_t n = host_numel(t, &ok);
    return ok ? n : 0;
}

/* Input i, required: present with a tensor index, header valid. */
static o2p_status ex_input(const cg_layer *l, int i, const char *what, const host_tensor **t)
{
    *t = host_in(&l->args, i);
    if (!*t || l->input_tensors[i] < 0)
        return cg_layer_error(l, "input %d (%s) is missing", i, what);
    return ex_check_tensor(l, *t, "input", i, what);
}

/* Input i, optional: NULL when omitted (or empty, when empty_is_omitted, as the host). */
static o2p_status ex_input_opt(const cg_layer *l, int i, const char *what, int empty_is_omitted,
                               const host_tensor **t)
{
    *t = host_in(&l->args, i);
    if (!*t || l->input_tensors[i] < 0) {
        *t = NULL;
        return O2P_OK;
    }
    O2P_TRY(ex_check_tensor(l, *t, "input", i, what));
    if (empty_is_omitted && numel(*t) == 0)
        *t = NULL;
    return O2P_OK;
}

/* Output i with exactly this dtype and shape; NULL when omitted and optional. */
static o2p_status ex_output_opt(const cg_layer *l, int i, o2p_dtype dtype, int rank,
                                const int64_t *dims, host_tensor **t)
{
    *t = host_out(&l->args, i);
    if (!*t || l->output_tensors[i] < 0) {
        *t = NULL;
        return O2P_OK;
    }
    O2P_TRY(ex_check_tensor(l, *t, "output", i, "result"));
    if ((*t)->dtype != dtype)
        return cg_layer_error(l, "output %d is %s, expected %s", i, o2p_dtype_name((*t)->dtype),
                        o2p_dtype_name(dtype));
    if (!host_same_shape(*t, rank, dims)) {
        char s1[256], s2[256];
        return cg_layer_error(l, "output %d has shape %s, expected %s", i,
                        host_nn_shape_str(*t, s1, sizeof s1),
                        host_nn_dims_str(rank, dims, s2, sizeof s2));
    }
    return O2P_OK;
}

static o2p_status ex_output(const cg_layer *l, int i, o2p_dtype dtype, int rank,
                            const int64_t *dims, host_tensor **t)
{
    O2P_TRY(ex_output_opt(l, i, dtype, rank, dims, t));
    if (!*t)
        return cg_layer_error(l, "output %d is missing", i);
    return O2P_OK;
}

static o2p_status ex_want_dtype(const cg_layer *l, const host_tensor *t, const char *what,
                                o2p_dtype dtype)
{
    if (t->dtype != dtype)
        return cg_layer_error(l, "%s is %s, expected %s", what, o2p_dtype_name(t->dtype),
                        o2p_dtype_name(dtype));
    return O2P_OK;
}

/* The integer types a quantized tensor may have, with their saturation range. */
static int quant_range(o2p_dtype t, double *lo, double *hi)
{
    switch (t) {
    case O2P_DTYPE_UINT8:
        *lo = 0;
        *hi = 255;
        return 1;
    case O2P_DTYPE_INT8:
        *lo = -128;
        *hi = 127;
        return 1;
    case O2P_DTYPE_UINT16:
        *lo = 0;
        *hi = 65535;
        return 1;
    case O2P_DTYPE_INT16:
        *lo = -32768;
        *hi = 32767;
        return 1;
    default: return 0;
    }
}

/* A scale or zero point: rank <= 1, count entries (>= 1). */
static o2p_status qparam_count(const cg_layer *l, const host_tensor *p, const char *what,
                               int64_t *count)
{
    if (p->rank > 1)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): %s has rank %d; blocked quantization is not supported",
                        cg_layer_name(l), l->args.op_type, what, p->rank);
    *count = numel(p);
    if (*count < 1)
        return cg_layer_error(l, "%s has no elements", what);
    return O2P_OK;
}

/* ---------------------------------------------------------------- launches and costs */

#define PTR(k, T, field, tensor) cg_launch_ptr(e, k, (uint32_t)offsetof(T, field), tensor, 0)

static cg_launch *emit_1d(cg_emit *e, const char *fn, uint64_t n, const void *p, uint32_t size)
{
    uint32_t grid[3], block[3];
    cg_grid_1d(n, EX_BLOCK, grid, block);
    return cg_emit_kernel(e, "extra", fn, grid, block, 0, p, size);
}

static cg_launch *emit_one_block(cg_emit *e, const char *fn, const void *p, uint32_t size)
{
    uint32_t grid[3] = {1, 1, 1}, block[3] = {EX_BLOCK, 1, 1};
    return cg_emit_kernel(e, "extra", fn, grid, block, 0, p, size);
}

/* Seconds on an sm_80 GPU: launch cost, bytes of every input and output, arithmetic. */
static double layer_cost(const cg_layer *l, double flops)
{
    double bytes = 0.0;
    for (int i = 0; i < l->args.num_inputs; i++)
        if (l->args.inputs[i])
            bytes +=
                (double)numel(l->args.inputs[i]) * (double)o2p_dtype_size(l->args.inputs[i]->dtype);
    for (int i = 0; i < l->args.num_outputs; i++)
        if (l->args.outputs[i])
            bytes += (double)numel(l->args.outputs[i]) *
                     (double)o2p_dtype_size(l->args.outputs[i]->dtype);
    return 3e-6 + bytes / 1.5e12 + flops / 1.5e13;
}

static int cand_one(cg_tactic *out, int cap, const char *kernel, double cost, uint64_t workspace)
{
    if (cap < 1)
        return 0;
    out[0] = cg_simple_tactic(kernel, 0, cost);
    out[0].workspace = workspace;
    return 1;
}

/* ---------------------------------------------------------------- losses */

static o2p_status loss_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    int softmax = strcmp(l->args.op_type, "SoftmaxCrossEntropyLoss") == 0;
    const host_tensor *X, *T, *W;
    O2P_TRY(ex_input(l, 0, "input", &X));
    O2P_TRY(ex_input(l, 1, "target", &T));
    O2P_TRY(ex_input_opt(l, 2, "weight", 0, &W));
    if (!host_nn_is_float(X->dtype))
        return cg_unsupported_dtype(l, X->dtype);
    if (T->dtype != O2P_DTYPE_INT32 && T->dtype != O2P_DTYPE_INT64)
        return cg_unsupported_dtype(l, T->dtype);
    if (X->rank < 2)
        return cg_layer_error(l, "input must have rank >= 2 (N x C x ...), not %d", X->rank);
    if (T->rank != X->rank - 1)
        return cg_layer_error(l, "target has rank %d, expected %d", T->rank, X->rank - 1);
    if (T->dims[0] != X->dims[0])
        return cg_layer_error(l, "target's dim 0 (%lld) differs from the input's (%lld)",
                        (long long)T->dims[0], (long long)X->dims[0]);
    for (int i = 2; i < X->rank; i++)
        if (T->dims[i - 1] != X->dims[i])
            return cg_layer_error(l, "target's dim %d (%lld) differs from the input's dim %d (%lld)",
                            i - 1, (long long)T->dims[i - 1], i, (long long)X->dims[i]);
    o2p_extra_loss_params p;
    memset(&p, 0, sizeof p);
    p.n = X->dims[0];
    p.c = X->dims[1];
    p.d = host_nn_prod(X->dims, 2, X->rank);
    if (W) {
        if (W->rank != 1 || W->dims[0] != p.c)
            return cg_layer_error(l, "weight must be 1-D with %lld entries (C)", (long long)p.c);
        O2P_TRY(ex_want_dtype(l, W, "weight", X->dtype));
    }
    const char *red = host_attr_string(&l->args, "reduction", "mean");
    if (strcmp(red, "none") == 0)
        p.reduction = O2P_EXTRA_REDUCE_NONE;
    else if (strcmp(red, "sum") == 0)
        p.reduction = O2P_EXTRA_REDUCE_SUM;
    else if (strcmp(red, "mean") == 0)
        p.reduction = O2P_EXTRA_REDUCE_MEAN;
    else
        return cg_layer_error(l, "reduction '%s' must be none, sum or mean", red);
    const host_attr *ii = host_attr_find(&l->args, "ignore_index");
    p.has_ignore = ii && ii->type == O2P_ATTR_INT;
    p.ignore_index = p.has_ignore ? ii->i : 0;
    host_tensor *Y, *LP = NULL;
    if (p.reduction == O2P_EXTRA_REDUCE_NONE)
        O2P_TRY(ex_output(l, 0, X->dtype, T->rank, T->dims, &Y));
    else
        O2P_TRY(ex_output(l, 0, X->dtype, 0, NULL, &Y));
    if (softmax)
        O2P_TRY(ex_output_opt(l, 1, X->dtype, X->rank, X->dims, &LP));
    p.x_dtype = (int32_t)X->dtype;
    p.target_dtype = (int32_t)T->dtype;
    p.softmax = softmax;
    int64_t rows = p.n * p.d;
    if (rows == 0 && p.reduction == O2P_EXTRA_REDUCE_NONE)
        return O2P_OK;
    uint64_t ws = 0;
    if (p.reduction != O2P_EXTRA_REDUCE_NONE && rows > 0)
        ws = cg_emit_workspace(e, 2u * (uint64_t)rows * sizeof(double));
    if (rows > 0) {
        cg_launch *k = emit_1d(e, "o2p_extra_loss", (uint64_t)rows, &p, sizeof p);
        PTR(k, o2p_extra_loss_params, x_ptr, l->input_tensors[0]);
        PTR(k, o2p_extra_loss_params, target_ptr, l->input_tensors[1]);
        if (W)
            PTR(k, o2p_extra_loss_params, weight_ptr, l->input_tensors[2]);
        PTR(k, o2p_extra_loss_params, y_ptr, l->output_tensors[0]);
        if (LP && numel(LP) > 0)
            PTR(k, o2p_extra_loss_params, log_prob_ptr, l->output_tensors[1]);
        if (p.reduction != O2P_EXTRA_REDUCE_NONE)
            cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_extra_loss_params, ws_ptr),
                          CG_TENSOR_WORKSPACE, ws);
    }
    if (p.reduction != O2P_EXTRA_REDUCE_NONE) {
        /* with no rows the reduce kernel reads nothing: sum 0, mean 0 / 0 = NaN as the host */
        cg_launch *k = emit_one_block(e, "o2p_extra_loss_reduce", &p, sizeof p);
        PTR(k, o2p_extra_loss_params, y_ptr, l->output_tensors[0]);
        if (rows > 0)
            cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_extra_loss_params, ws_ptr),
                          CG_TENSOR_WORKSPACE, ws);
    }
    return cg_emit_status(e);
}

static int loss_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                           const char **why)
{
    const host_tensor *x = host_in(&l->args, 0), *t = host_in(&l->args, 1);
    if (x && !host_nn_is_float(x->dtype)) {
        *why = "the CUDA kernel takes float, float16, bfloat16 and double scores only";
        return 0;
    }
    if (t && t->dtype != O2P_DTYPE_INT32 && t->dtype != O2P_DTYPE_INT64) {
        *why = "the CUDA kernel takes int32 and int64 targets only";
        return 0;
    }
    uint64_t ws = 0;
    const char *red = host_attr_string(&l->args, "reduction", "mean");
    if (x && x->rank >= 2 && strcmp(red, "none") != 0)
        ws = 2u * (uint64_t)(numel(x) / (x->dims[1] > 0 ? x->dims[1] : 1)) * sizeof(double) + 256u;
    return cand_one(out, cap, "cuda.extra.loss", layer_cost(l, x ? 8.0 * (double)numel(x) : 0), ws);
}

/* ---------------------------------------------------------------- Einsum */

static o2p_status einsum_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                               cg_emit *e)
{
    int nin = l->args.num_inputs;
    const host_tensor *in0;
    for (int i = 0; i < nin; i++)
        O2P_TRY(ex_input(l, i, "Inputs", &in0));
    int64_t dims[EX_HOST_EIN_LABELS], strides[8][EX_HOST_EIN_LABELS];
    int num_labels, num_out;
    O2P_TRY(host_extra_einsum_plan(&l->args, dims, &strides[0][0], &num_labels, &num_out));
    in0 = host_in(&l->args, 0);
    if (nin > O2P_EXTRA_EIN_MAX_OPS || num_labels > O2P_EXTRA_EIN_MAX_LABELS)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (Einsum): %d inputs with %d labels; the CUDA kernel "
                        "handles at most %d inputs and %d labels; build it for the host target",
                        cg_layer_name(l), nin, num_labels, O2P_EXTRA_EIN_MAX_OPS,
                        O2P_EXTRA_EIN_MAX_LABELS);
    host_tensor *Y;
    O2P_TRY(ex_output(l, 0, in0->dtype, num_out, dims, &Y));
    o2p_extra_einsum_params p;
    memset(&p, 0, sizeof p);
    p.num_ops = nin;
    p.num_labels = num_labels;
    p.num_out = num_out;
    p.dtype = (int32_t)in0->dtype;
    p.is_float = host_nn_is_float(in0->dtype);
    memcpy(p.dims, dims, sizeof(int64_t) * (size_t)num_labels);
    for (int i = 0; i < nin; i++)
        memcpy(p.strides[i], strides[i], sizeof(int64_t) * (size_t)num_labels);
    p.total = numel(Y);
    p.num_sum = host_nn_prod(dims, num_out, num_labels);
    if (p.total == 0)
        return O2P_OK;
    cg_launch *k = emit_1d(e, "o2p_extra_einsum", (uint64_t)p.total, &p, sizeof p);
    for (int i = 0; i < nin; i++)
        cg_launch_ptr(e, k,
                      (uint32_t)(offsetof(o2p_extra_einsum_params, in_ptr) + 8u * (uint32_t)i),
                      l->input_tensors[i], 0);
    PTR(k, o2p_extra_einsum_params, y_ptr, l->output_tensors[0]);
    return cg_emit_status(e);
}

static int einsum_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                             const char **why)
{
    const host_tensor *x = host_in(&l->args, 0);
    if (x && !host_nn_is_float(x->dtype) && !host_nn_is_integer(x->dtype)) {
        *why = "the CUDA kernel takes float and integer types only";
        return 0;
    }
    if (l->args.num_inputs > O2P_EXTRA_EIN_MAX_OPS) {
        *why = "the CUDA kernel takes at most 8 inputs";
        return 0;
    }
    double flops = 0.0;
    const host_tensor *y = host_out(&l->args, 0);
    if (y) {
        /* every output element walks the summed labels: estimate them from the inputs */
        double in_elems = 0.0;
        for (int i = 0; i < l->args.num_inputs; i++)
            if (l->args.inputs[i])
                in_elems += (double)numel(l->args.inputs[i]);
        flops = (double)numel(y) * (in_elems > 1.0 ? in_elems : 1.0);
    }
    return cand_one(out, cap, "cuda.extra.einsum", layer_cost(l, flops), 0);
}

/* ---------------------------------------------------------------- Quantize/DequantizeLinear */

static o2p_status q_setup(const cg_layer *l, const host_tensor **X, const host_tensor **S,
                          const host_tensor **Z, o2p_extra_quant_params *p)
{
    O2P_TRY(ex_input(l, 0, "x", X));
    O2P_TRY(ex_input(l, 1, "scale", S));
    O2P_TRY(ex_input_opt(l, 2, "zero_point", 0, Z));
    int64_t count;
    O2P_TRY(qparam_count(l, *S, "scale", &count));
    if (!host_nn_is_float((*S)->dtype))
        return cg_unsupported_dtype(l, (*S)->dtype);
    if (*Z) {
        int64_t zc;
        O2P_TRY(qparam_count(l, *Z, "zero_point", &zc));
        if (zc != count)
            return cg_layer_error(l, "zero_point has %lld entries but scale has %lld", (long long)zc,
                            (long long)count);
    }
    memset(p, 0, sizeof *p);
    p->count = count;
    p->inner = 1;
    if ((*S)->rank == 1 && count != 1) {
        int axis;
        int64_t ax = host_attr_int(&l->args, "axis", 1);
        if ((*X)->rank == 0 || !host_norm_axis(ax, (*X)->rank, &axis))
            return cg_layer_error(l, "axis %lld is out of range for rank %d", (long long)ax, (*X)->rank);
        if ((*X)->dims[axis] != count)
            return cg_layer_error(l, "scale has %lld entries but axis %d of x has %lld", (long long)count,
                            axis, (long long)(*X)->dims[axis]);
        p->inner = host_nn_prod((*X)->dims, axis + 1, (*X)->rank);
    }
    p->total = numel(*X);
    p->x_dtype = (int32_t)(*X)->dtype;
    p->scale_dtype = (int32_t)(*S)->dtype;
    p->zp_dtype = *Z ? (int32_t)(*Z)->dtype : 0;
    return O2P_OK;
}

static o2p_status q_emit(const cg_layer *l, cg_emit *e, const char *fn,
                         const o2p_extra_quant_params *p, int has_zp)
{
    if (p->total == 0)
        return O2P_OK;
    cg_launch *k = emit_1d(e, fn, (uint64_t)p->total, p, sizeof *p);
    PTR(k, o2p_extra_quant_params, x_ptr, l->input_tensors[0]);
    PTR(k, o2p_extra_quant_params, scale_ptr, l->input_tensors[1]);
    if (has_zp)
        PTR(k, o2p_extra_quant_params, zp_ptr, l->input_tensors[2]);
    PTR(k, o2p_extra_quant_params, y_ptr, l->output_tensors[0]);
    return cg_emit_status(e);
}

static o2p_status quantize_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                 cg_emit *e)
{
    const host_tensor *X, *S, *Z;
    o2p_extra_quant_params p;
    O2P_TRY(q_setup(l, &X, &S, &Z, &p));
    if (!host_nn_is_float(X->dtype) && X->dtype != O2P_DTYPE_INT32)
        return cg_unsupported_dtype(l, X->dtype);
    o2p_dtype yt = Z ? Z->dtype : O2P_DTYPE_UINT8;
    if (!quant_range(yt, &p.lo, &p.hi))
        return cg_unsupported_dtype(l, yt);
    host_tensor *Y;
    O2P_TRY(ex_output(l, 0, yt, X->rank, X->dims, &Y));
    p.y_dtype = (int32_t)yt;
    p.f32_div = X->dtype != O2P_DTYPE_INT32 && X->dtype != O2P_DTYPE_DOUBLE;
    return q_emit(l, e, "o2p_extra_quantize", &p, Z != NULL);
}

static o2p_status dequantize_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                   cg_emit *e)
{
    const host_tensor *X, *S, *Z;
    o2p_extra_quant_params p;
    O2P_TRY(q_setup(l, &X, &S, &Z, &p));
    double lo, hi;
    if (!quant_range(X->dtype, &lo, &hi) && X->dtype != O2P_DTYPE_INT32)
        return cg_unsupported_dtype(l, X->dtype);
    if (Z)
        O2P_TRY(ex_want_dtype(l, Z, "zero_point", X->dtype));
    host_tensor *Y;
    O2P_TRY(ex_output(l, 0, S->dtype, X->rank, X->dims, &Y));
    p.y_dtype = (int32_t)S->dtype;
    return q_emit(l, e, "o2p_extra_dequantize", &p, Z != NULL);
}

static int quant_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                            const char **why)
{
    const host_tensor *s = host_in(&l->args, 1);
    if (s && (!host_nn_is_float(s->dtype) || s->rank > 1)) {
        *why = "the CUDA kernel takes float scales, per tensor or per axis";
        return 0;
    }
    const host_tensor *x = host_in(&l->args, 0);
    return cand_one(out, cap, "cuda.extra.quantize", layer_cost(l, x ? 4.0 * (double)numel(x) : 0),
                    0);
}

/* ---------------------------------------------------------------- DynamicQuantizeLinear */

static o2p_status dynq_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    const host_tensor *X;
    host_tensor *Y, *S, *Z;
    O2P_TRY(ex_input(l, 0, "x", &X));
    if (X->dtype != O2P_DTYPE_FLOAT)
        return cg_unsupported_dtype(l, X->dtype);
    O2P_TRY(ex_output(l, 0, O2P_DTYPE_UINT8, X->rank, X->dims, &Y));
    O2P_TRY(ex_output(l, 1, O2P_DTYPE_FLOAT, 0, NULL, &S));
    O2P_TRY(ex_output(l, 2, O2P_DTYPE_UINT8, 0, NULL, &Z));
    o2p_extra_dynq_params p;
    memset(&p, 0, sizeof p);
    p.total = numel(X);
    /* the range kernel runs on an empty x too: it writes scale 0 and zero point 0 */
    cg_launch *k = emit_one_block(e, "o2p_extra_dynq_range", &p, sizeof p);
    if (p.total > 0)
        PTR(k, o2p_extra_dynq_params, x_ptr, l->input_tensors[0]);
    PTR(k, o2p_extra_dynq_params, scale_ptr, l->output_tensors[1]);
    PTR(k, o2p_extra_dynq_params, zp_ptr, l->output_tensors[2]);
    if (p.total > 0) {
        k = emit_1d(e, "o2p_extra_dynq_apply", (uint64_t)p.total, &p, sizeof p);
        PTR(k, o2p_extra_dynq_params, x_ptr, l->input_tensors[0]);
        PTR(k, o2p_extra_dynq_params, y_ptr, l->output_tensors[0]);
        PTR(k, o2p_extra_dynq_params, scale_ptr, l->output_tensors[1]);
        PTR(k, o2p_extra_dynq_params, zp_ptr, l->output_tensors[2]);
    }
    return cg_emit_status(e);
}

static int dynq_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                           const char **why)
{
    const host_tensor *x = host_in(&l->args, 0);
    if (x && x->dtype != O2P_DTYPE_FLOAT) {
        *why = "the CUDA kernel takes float32 input only";
        return 0;
    }
    return cand_one(out, cap, "cuda.extra.dynamic_quantize",
                    layer_cost(l, x ? 4.0 * (double)numel(x) : 0), 0);
}

/* ---------------------------------------------------------------- quantized operands */

typedef struct q_operand {
    const host_tensor *t, *zp, *scale;
    int64_t zp_count, scale_count;
} q_operand;

static o2p_status q_operand_check(const cg_layer *l, q_operand *q, const char *name,
                                  int64_t per_axis_len)
{
    double lo, hi;
    if (!quant_range(q->t->dtype, &lo, &hi) || o2p_dtype_size(q->t->dtype) != 1)
        return cg_unsupported_dtype(l, q->t->dtype);
    q->zp_count = q->scale_count = 1;
    if (q->zp) {
        O2P_TRY(qparam_count(l, q->zp, "a zero point", &q->zp_count));
        O2P_TRY(ex_want_dtype(l, q->zp, "zero point", q->t->dtype));
        if (q->zp_count != 1 && q->zp_count != per_axis_len)
            return cg_layer_error(l, "the zero point of %s has %lld entries; expected 1 or %lld", name,
                            (long long)q->zp_count, (long long)per_axis_len);
    }
    if (q->scale) {
        O2P_TRY(qparam_count(l, q->scale, "a scale", &q->scale_count));
        if (q->scale->dtype != O2P_DTYPE_FLOAT)
            return cg_unsupported_dtype(l, q->scale->dtype);
        if (q->scale_count != 1 && q->scale_count != per_axis_len)
            return cg_layer_error(l, "the scale of %s has %lld entries; expected 1 or %lld", name,
                            (long long)q->scale_count, (long long)per_axis_len);
    }
    return O2P_OK;
}

/* Input 0 (A / x) is 8-bit, as the host kernels require; the rest is checked in lower(). */
static int q_candidates_ok(const cg_layer *l, const char **why)
{
    const host_tensor *a = host_in(&l->args, 0);
    if (a && a->dtype != O2P_DTYPE_UINT8 && a->dtype != O2P_DTYPE_INT8) {
        *why = "the CUDA kernel takes uint8 and int8 operands only";
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- MatMulInteger, QLinearMatMul */

/* A [..., M, K] x B [..., K, N] with broadcasting and 1-D promotion, as the host's mm_setup:
 * fills m, n, k, total and the batch shapes; out dims in odims. */
static o2p_status mm_setup(const cg_layer *l, const host_tensor *A, const host_tensor *B,
                           o2p_extra_qmatmul_params *p, int *orank, int64_t *odims)
{
    if (A->rank < 1 || B->rank < 1)
        return cg_layer_error(l, "A and B must have rank >= 1");
    int64_t ad[O2P_CU_MAX_RANK + 1], bd[O2P_CU_MAX_RANK + 1];
    int ar = A->rank, br = B->rank;
    memcpy(ad, A->dims, sizeof(int64_t) * (size_t)ar);
    memcpy(bd, B->dims, sizeof(int64_t) * (size_t)br);
    if (ar == 1) {
        ad[1] = ad[0];
        ad[0] = 1;
        ar = 2;
    }
    if (br == 1) {
        bd[1] = 1;
        br = 2;
    }
    p->m = ad[ar - 2];
    p->k = ad[ar - 1];
    p->n = bd[br - 1];
    if (bd[br - 2] != p->k)
        return cg_layer_error(l, "inner dimensions differ: A has %lld columns, B has %lld rows",
                        (long long)p->k, (long long)bd[br - 2]);
    int brank = (ar > br ? ar : br) - 2;
    int64_t sa = p->m * p->k, sb = p->k * p->n, batch = 1;
    memset(&p->a_batch, 0, sizeof p->a_batch);
    memset(&p->b_batch, 0, sizeof p->b_batch);
    p->a_batch.rank = p->b_batch.rank = brank;
    for (int i = brank - 1; i >= 0; i--) {
        int ia = i - (brank - (ar - 2)), ib = i - (brank - (br - 2));
        int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return cg_layer_error(l, "batch dims %lld and %lld do not broadcast", (long long)da,
                            (long long)db);
        int64_t d = da > db ? da : db;
        if (da == 0 || db == 0)
            d = 0;
        p->a_batch.dims[i] = p->b_batch.dims[i] = d;
        p->a_batch.strides[i] = da == 1 ? 0 : sa;
        p->b_batch.strides[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
        batch *= d;
    }
    *orank = 0;
    for (int i = 0; i < brank; i++)
        odims[(*orank)++] = p->a_batch.dims[i];
    if (A->rank != 1)
        odims[(*orank)++] = p->m;
    if (B->rank != 1)
        odims[(*orank)++] = p->n;
    p->total = batch * p->m * p->n;
    return O2P_OK;
}

static o2p_status qmatmul_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                cg_emit *e)
{
    int requant = strcmp(l->args.op_type, "QLinearMatMul") == 0;
    int bi = requant ? 3 : 1; /* B's input index */
    q_operand qa = {0}, qb = {0}, qy = {0};
    O2P_TRY(ex_input(l, 0, "A", &qa.t));
    O2P_TRY(ex_input(l, bi, "B", &qb.t));
    if (requant) {
        O2P_TRY(ex_input(l, 1, "a_scale", &qa.scale));
        O2P_TRY(ex_input(l, 2, "a_zero_point", &qa.zp));
        O2P_TRY(ex_input(l, 4, "b_scale", &qb.scale));
        O2P_TRY(ex_input(l, 5, "b_zero_point", &qb.zp));
        O2P_TRY(ex_input(l, 6, "y_scale", &qy.scale));
        O2P_TRY(ex_input(l, 7, "y_zero_point", &qy.zp));
        qy.t = qy.zp;
    } else {
        O2P_TRY(ex_input_opt(l, 2, "a_zero_point", 1, &qa.zp));
        O2P_TRY(ex_input_opt(l, 3, "b_zero_point", 1, &qb.zp));
    }
    o2p_extra_qmatmul_params p;
    memset(&p, 0, sizeof p);
    int orank = 0;
    int64_t odims[O2P_CU_MAX_RANK + 2];
    O2P_TRY(mm_setup(l, qa.t, qb.t, &p, &orank, odims));
    O2P_TRY(q_operand_check(l, &qa, "A", p.m));
    O2P_TRY(q_operand_check(l, &qb, "B", p.n));
    o2p_dtype yt = O2P_DTYPE_INT32;
    if (requant) {
        O2P_TRY(q_operand_check(l, &qy, "y", 1));
        yt = qy.zp->dtype;
        quant_range(yt, &p.lo, &p.hi);
    }
    host_tensor *Y;
    O2P_TRY(ex_output(l, 0, yt, orank, odims, &Y));
    p.a_dtype = (int32_t)qa.t->dtype;
    p.b_dtype = (int32_t)qb.t->dtype;
    p.y_dtype = (int32_t)yt;
    p.a_zp_count = (int32_t)qa.zp_count;
    p.b_zp_count = (int32_t)qb.zp_count;
    p.a_scale_count = (int32_t)qa.scale_count;
    p.b_scale_count = (int32_t)qb.scale_count;
    p.requant = requant;
    if (p.total == 0)
        return O2P_OK;
    typedef o2p_extra_qmatmul_params P;
    cg_launch *k = emit_1d(e, "o2p_extra_qmatmul", (uint64_t)p.total, &p, sizeof p);
    PTR(k, P, a_ptr, l->input_tensors[0]);
    PTR(k, P, b_ptr, l->input_tensors[bi]);
    PTR(k, P, y_ptr, l->output_tensors[0]);
    if (qa.zp)
        PTR(k, P, a_zp_ptr, l->input_tensors[2]);
    if (qb.zp)
        PTR(k, P, b_zp_ptr, l->input_tensors[requant ? 5 : 3]);
    if (requant) {
        PTR(k, P, a_scale_ptr, l->input_tensors[1]);
        PTR(k, P, b_scale_ptr, l->input_tensors[4]);
        PTR(k, P, y_scale_ptr, l->input_tensors[6]);
        PTR(k, P, y_zp_ptr, l->input_tensors[7]);
    }
    return cg_emit_status(e);
}

static int qmatmul_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                              const char **why)
{
    if (!q_candidates_ok(l, why))
        return 0;
    const host_tensor *a = host_in(&l->args, 0), *y = host_out(&l->args, 0);
    double flops = 0.0;
    if (a && y && a->rank >= 1)
        flops = 2.0 * (double)numel(y) * (double)a->dims[a->rank - 1];
    return cand_one(out, cap, "cuda.extra.qmatmul", layer_cost(l, flops), 0);
}

/* ---------------------------------------------------------------- ConvInteger, QLinearConv */

static o2p_status qconv_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                              cg_emit *e)
{
    int requant = strcmp(l->args.op_type, "QLinearConv") == 0;
    int wi = requant ? 3 : 1;
    q_operand qx = {0}, qw = {0}, qy = {0};
    const host_tensor *B = NULL;
    O2P_TRY(ex_input(l, 0, "x", &qx.t));
    O2P_TRY(ex_input(l, wi, "w", &qw.t));
    if (requant) {
        O2P_TRY(ex_input(l, 1, "x_scale", &qx.scale));
        O2P_TRY(ex_input(l, 2, "x_zero_point", &qx.zp));
        O2P_TRY(ex_input(l, 4, "w_scale", &qw.scale));
        O2P_TRY(ex_input(l, 5, "w_zero_point", &qw.zp));
        O2P_TRY(ex_input(l, 6, "y_scale", &qy.scale));
        O2P_TRY(ex_input(l, 7, "y_zero_point", &qy.zp));
        O2P_TRY(ex_input_opt(l, 8, "B", 1, &B));
        qy.t = qy.zp;
    } else {
        O2P_TRY(ex_input_opt(l, 2, "x_zero_point", 1, &qx.zp));
        O2P_TRY(ex_input_opt(l, 3, "w_zero_point", 1, &qw.zp));
    }
    const host_tensor *X = qx.t, *W = qw.t;
    if (X->rank < 3)
        return cg_layer_error(l, "x must have rank >= 3 (N, C and spatial axes), not %d", X->rank);
    if (W->rank != X->rank)
        return cg_layer_error(l, "w has rank %d; x has rank %d", W->rank, X->rank);
    int nsp = X->rank - 2, count = 0;
    const int64_t *ks = host_attr_ints(&l->args, "kernel_shape", &count);
    if (ks) {
        if (count != nsp)
            return cg_layer_error(l, "kernel_shape has %d values, expected %d", count, nsp);
        for (int i = 0; i < nsp; i++)
            if (ks[i] != W->dims[i + 2])
                return cg_layer_error(l, "kernel_shape[%d] = %lld disagrees with w's dim %lld", i,
                                (long long)ks[i], (long long)W->dims[i + 2]);
    }
    o2p_extra_qconv_params p;
    memset(&p, 0, sizeof p);
    p.group = host_attr_int(&l->args, "group", 1);
    if (p.group < 1)
        return cg_layer_error(l, "group is %lld, must be >= 1", (long long)p.group);
    p.n = X->dims[0];
    p.c = X->dims[1];
    p.m = W->dims[0];
    if (p.c % p.group != 0 || W->dims[1] != p.c / p.group)
        return cg_layer_error(l, "x has %lld channels; w's dim 1 (%lld) times group (%lld) must match",
                        (long long)p.c, (long long)W->dims[1], (long long)p.group);
    if (p.m % p.group != 0)
        return cg_layer_error(l, "w's %lld output channels are not divisible by group %lld",
                        (long long)p.m, (long long)p.group);
    nn_window w;
    O2P_TRY(host_nn_window(&l->args, X, W->dims + 2, 1, 0, &w));
    O2P_TRY(q_operand_check(l, &qx, "x", 1));
    O2P_TRY(q_operand_check(l, &qw, "w", p.m));
    o2p_dtype yt = O2P_DTYPE_INT32;
    if (requant) {
        O2P_TRY(q_operand_check(l, &qy, "y", 1));
        if (B) {
            O2P_TRY(ex_want_dtype(l, B, "B", O2P_DTYPE_INT32));
            if (B->rank != 1 || B->dims[0] != p.m)
                return cg_layer_error(l, "B must be 1-D with %lld entries", (long long)p.m);
        }
        yt = qy.zp->dtype;
        quant_range(yt, &p.lo, &p.hi);
    }
    int64_t ydims[O2P_CU_MAX_RANK];
    ydims[0] = p.n;
    ydims[1] = p.m;
    p.nsp = nsp;
    for (int i = 0; i < nsp; i++) {
        ydims[i + 2] = w.out[i];
        p.in[i] = w.in[i];
        p.out[i] = w.out[i];
        p.kernel[i] = w.kernel[i];
        p.stride[i] = w.stride[i];
        p.dilation[i] = w.dilation[i];
        p.pad[i] = w.pad_begin[i];
    }
    host_tensor *Y;
    O2P_TRY(ex_output(l, 0, yt, X->rank, ydims, &Y));
    p.total = numel(Y);
    p.x_dtype = (int32_t)X->dtype;
    p.w_dtype = (int32_t)W->dtype;
    p.y_dtype = (int32_t)yt;
    p.w_zp_count = (int32_t)qw.zp_count;
    p.w_scale_count = (int32_t)qw.scale_count;
    p.requant = requant;
    if (p.total == 0)
        return O2P_OK;
    typedef o2p_extra_qconv_params P;
    cg_launch *k = emit_1d(e, "o2p_extra_qconv", (uint64_t)p.total, &p, sizeof p);
    PTR(k, P, x_ptr, l->input_tensors[0]);
    PTR(k, P, w_ptr, l->input_tensors[wi]);
    PTR(k, P, y_ptr, l->output_tensors[0]);
    if (qx.zp)
        PTR(k, P, x_zp_ptr, l->input_tensors[2]);
    if (qw.zp)
        PTR(k, P, w_zp_ptr, l->input_tensors[requant ? 5 : 3]);
    if (requant) {
        PTR(k, P, x_scale_ptr, l->input_tensors[1]);
        PTR(k, P, w_scale_ptr, l->input_tensors[4]);
        PTR(k, P, y_scale_ptr, l->input_tensors[6]);
        PTR(k, P, y_zp_ptr, l->input_tensors[7]);
        if (B)
            PTR(k, P, bias_ptr, l->input_tensors[8]);
    }
    return cg_emit_status(e);
}

static int qconv_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                            const char **why)
{
    if (!q_candidates_ok(l, why))
        return 0;
    int wi = strcmp(l->args.op_type, "QLinearConv") == 0 ? 3 : 1;
    const host_tensor *w = host_in(&l->args, wi), *y = host_out(&l->args, 0);
    double flops = 0.0;
    if (w && y && w->dims[0] > 0)
        flops = 2.0 * (double)numel(y) * (double)(numel(w) / w->dims[0]);
    return cand_one(out, cap, "cuda.extra.qconv", layer_cost(l, flops), 0);
}

const cg_op cg_extra_ops[] = {
    {"ConvInteger", qconv_candidates, qconv_lower},
    {"DequantizeLinear", quant_candidates, dequantize_lower},
    {"DynamicQuantizeLinear", dynq_candidates, dynq_lower},
    {"Einsum", einsum_candidates, einsum_lower},
    {"MatMulInteger", qmatmul_candidates, qmatmul_lower},
    {"NegativeLogLikelihoodLoss", loss_candidates, loss_lower},
    {"QLinearConv", qconv_candidates, qconv_lower},
    {"QLinearMatMul", qmatmul_candidates, qmatmul_lower},
    {"QuantizeLinear", quant_candidates, quantize_lower},
    {"SoftmaxCrossEntropyLoss", loss_candidates, loss_lower},
};
const int cg_extra_op_count = (int)(sizeof cg_extra_ops / sizeof cg_extra_ops[0]);
