/* lower_signal.c: lowerings of the signal kernel family (kernels/cuda/signal.cu): DFT, STFT,
 * the Hann/Hamming/Blackman windows, MelWeightMatrix, MaxUnpool, Det, CenterCropPad and the
 * random generators (with Multinomial). Each lower() checks what its kernel relies on as the host
 * kernel (kernels/host/signal.c) does and fills the kernel's parameter struct
 * (kernels/cuda/signal_params.h). Values the kernels need on the host side (dft_length,
 * frame_step, ...) must be constants at build time; sizes that the output's static shape
 * already fixes (a window's size, MaxUnpool's output_shape, CenterCropPad's shape) are taken
 * from it, and checked against the input when that is a constant. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "codegen/codegen.h"
#include "cuda/signal_params.h"
#include "host/nn_internal.h"

_Static_assert(sizeof(o2p_signal_dft_params) == 120, "o2p_signal_dft_params layout");
_Static_assert(sizeof(o2p_signal_window_params) == 32, "o2p_signal_window_params layout");
_Static_assert(sizeof(o2p_signal_mel_params) == 96, "o2p_signal_mel_params layout");
_Static_assert(sizeof(o2p_signal_unpool_params) == 304, "o2p_signal_unpool_params layout");
_Static_assert(sizeof(o2p_signal_det_params) == 48, "o2p_signal_det_params layout");
_Static_assert(sizeof(o2p_signal_crop_pad_params) == 416, "o2p_signal_crop_pad_params layout");
_Static_assert(sizeof(o2p_signal_random_params) == 64, "o2p_signal_random_params layout");
_Static_assert(sizeof(o2p_signal_multinomial_params) == 64, "o2p_signal_multinomial_params layout");

#define SIG_BLOCK 256u
#define SIG_MAX_DFT ((int64_t)1 << 31) /* as the host kernel: k * t stays exact */

/* ---------------------------------------------------------------- checks and messages */

/* Input i, required. need_address: the kernel reads it on the device (a tensor index is
 * required); otherwise only its header or constant data is used. */
static o2p_status sig_input(const cg_layer *l, int i, const char *what, int need_address,
                            const host_tensor **t)
{
    *t = host_in(&l->args, i);
    if (!*t || (need_address && l->input_tensors[i] < 0))
        return cg_layer_error(l, "input %d (%s) is missing", i, what);
    return cg_check_tensor(l, *t, "input", i, what);
}

/* Input i, optional: NULL when omitted or empty (as the host's empty_is_omitted). */
static o2p_status sig_input_opt(const cg_layer *l, int i, const char *what, int need_address,
                                const host_tensor **t)
{
    *t = host_in(&l->args, i);
    if (!*t || (need_address && l->input_tensors[i] < 0)) {
        *t = NULL;
        return O2P_OK;
    }
    O2P_TRY(cg_check_tensor(l, *t, "input", i, what));
    int ok;
    if (host_numel(*t, &ok) == 0)
        *t = NULL;
    return O2P_OK;
}

static o2p_status sig_output(const cg_layer *l, int i, o2p_dtype dtype, int rank,
                             const int64_t *dims, host_tensor **t)
{
    *t = host_out(&l->args, i);
    if (!*t || l->output_tensors[i] < 0)
        return cg_layer_error(l, "output %d is missing", i);
    O2P_TRY(cg_check_tensor(l, *t, "output", i, "result"));
    if ((*t)->dtype != dtype)
        return cg_layer_error(l, "output %d is %s, expected %s", i, o2p_dtype_name((*t)->dtype),
                         o2p_dtype_name(dtype));
    if (dims && !host_same_shape(*t, rank, dims)) {
        char s1[256], s2[256];
        return cg_layer_error(l, "output %d has shape %s, expected %s", i,
                         host_nn_shape_str(*t, s1, sizeof s1),
                         host_nn_dims_str(rank, dims, s2, sizeof s2));
    }
    if (!dims && (*t)->rank != rank)
        return cg_layer_error(l, "output %d has rank %d, expected %d", i, (*t)->rank, rank);
    return O2P_OK;
}

static int64_t numel(const host_tensor *t)
{
    int ok;
    int64_t n = host_numel(t, &ok);
    return ok ? n : 0;
}

/* The element types o2p_load_f64 / o2p_store_f64 know. */
static int cu_numeric(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT:
    case O2P_DTYPE_UINT8:
    case O2P_DTYPE_INT8:
    case O2P_DTYPE_UINT16:
    case O2P_DTYPE_INT16:
    case O2P_DTYPE_INT32:
    case O2P_DTYPE_INT64:
    case O2P_DTYPE_BOOL:
    case O2P_DTYPE_FLOAT16:
    case O2P_DTYPE_DOUBLE:
    case O2P_DTYPE_UINT32:
    case O2P_DTYPE_UINT64:
    case O2P_DTYPE_BFLOAT16: return 1;
    default: return 0;
    }
}

/* A constant int32/int64 scalar input: 1 with *v, 0 when it has no data at build time. */
static o2p_status const_scalar_int(const cg_layer *l, const host_tensor *t, const char *what,
                                   int *have, int64_t *v)
{
    int ok;
    if ((t->dtype != O2P_DTYPE_INT64 && t->dtype != O2P_DTYPE_INT32) || t->rank > 1 ||
        host_numel(t, &ok) != 1)
        return cg_layer_error(l, "%s must be an int32 or int64 scalar", what);
    *have = t->data != NULL;
    *v = *have ? host_get_i64(t, 0) : 0;
    return O2P_OK;
}

/* ---------------------------------------------------------------- launches */

static cg_launch *emit_1d(cg_emit *e, const char *fn, uint64_t n, const void *p, uint32_t size)
{
    uint32_t grid[3], block[3];
    cg_grid_1d(n, SIG_BLOCK, grid, block);
    return cg_emit_kernel(e, "signal", fn, grid, block, 0, p, size);
}

#define PTR(k, field, tensor, T) cg_launch_ptr(e, k, (uint32_t)offsetof(T, field), tensor, 0)

static double io_cost(const cg_layer *l, double flops_per_elem)
{
    double bytes = 0.0, n = 0.0;
    const host_tensor *x = host_in(&l->args, 0), *y = host_out(&l->args, 0);
    if (x)
        bytes += (double)numel(x) * (double)o2p_dtype_size(x->dtype);
    if (y) {
        n = (double)numel(y);
        bytes += n * (double)o2p_dtype_size(y->dtype);
    }
    return 3e-6 + bytes / 1.5e12 + n * flops_per_elem / 1.5e13;
}

static int cand_one(cg_tactic *out, int cap, const char *kernel, double cost)
{
    if (cap < 1)
        return 0;
    out[0] = cg_simple_tactic(kernel, 0, cost);
    return 1;
}

/* ---------------------------------------------------------------- DFT, STFT */

static int float_x_candidates(const cg_layer *l, cg_tactic *out, int cap, const char **why,
                              const char *kernel, double flops)
{
    const host_tensor *x = host_in(&l->args, 0);
    if (x && !host_nn_is_float(x->dtype)) {
        *why = "the CUDA kernel takes float, float16, bfloat16 and double only";
        return 0;
    }
    return cand_one(out, cap, kernel, io_cost(l, flops));
}

static int dft_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                          const char **why)
{
    (void)o;
    const host_tensor *x = host_in(&l->args, 0);
    /* the direct sum: about 8 flops per term, a term per input sample of the axis */
    double taps = 1.0;
    if (x && x->rank >= 3) {
        int64_t axis = host_attr_int(&l->args, "axis", 1);
        axis = axis < 0 ? axis + x->rank : axis;
        if (axis >= 0 && axis < x->rank)
            taps = (double)x->dims[axis];
    }
    return float_x_candidates(l, out, cap, why, "cuda.signal.dft", 4.0 * taps);
}

static o2p_status dft_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    (void)t;
    (void)o;
    const host_tensor *X, *L;
    O2P_TRY(sig_input(l, 0, "input", 1, &X));
    O2P_TRY(sig_input_opt(l, 1, "dft_length", 0, &L));
    if (!host_nn_is_float(X->dtype))
        return cg_unsupported_dtype(l, X->dtype);
    int r = X->rank;
    if (r < 3)
        return cg_layer_error(l, "input has rank %d; DFT needs batch x signal... x 1|2", r);
    int64_t comp = X->dims[r - 1];
    if (comp != 1 && comp != 2)
        return cg_layer_error(l,
                         "the last dim of the input is %lld; it must be 1 (real) or 2 "
                         "(complex)",
                         (long long)comp);
    int64_t axis_attr = host_attr_int(&l->args, "axis", 1), axis = axis_attr;
    if (axis < 0)
        axis += r;
    if (axis < 1 || axis > r - 2)
        return cg_layer_error(l, "axis %lld is not a signal axis of a rank %d input (1 to %d)",
                         (long long)axis_attr, r, r - 2);
    int onesided = host_attr_int(&l->args, "onesided", 0) != 0;
    int inverse = host_attr_int(&l->args, "inverse", 0) != 0;
    if (onesided && inverse)
        return cg_layer_error(l, "onesided and inverse cannot both be set");
    int64_t len_in = X->dims[axis], n = len_in;
    if (L) {
        int have;
        O2P_TRY(const_scalar_int(l, L, "dft_length", &have, &n));
        if (!have)
            return cg_not_constant(l, "dft_length");
        if (n < 1)
            return cg_layer_error(l, "dft_length is %lld; it must be 1 or more", (long long)n);
    }
    if (n > SIG_MAX_DFT)
        return cg_layer_error(l, "DFT length %lld is larger than 2^31", (long long)n);
    int64_t nout = onesided ? n / 2 + 1 : n, ydims[O2P_CU_MAX_RANK];
    memcpy(ydims, X->dims, sizeof ydims);
    ydims[axis] = nout;
    ydims[r - 1] = 2;
    host_tensor *Y;
    O2P_TRY(sig_output(l, 0, X->dtype, r, ydims, &Y));
    int64_t total = numel(Y) / 2;
    if (total == 0)
        return O2P_OK;
    o2p_signal_dft_params p;
    memset(&p, 0, sizeof p);
    p.total = total;
    p.outer = host_nn_prod(X->dims, 0, (int)axis);
    p.frames = 1;
    p.nout = nout;
    p.inner = host_nn_prod(X->dims, (int)axis + 1, r - 1);
    p.len_in = len_in;
    p.n = n;
    p.taps = len_in < n ? len_in : n;
    p.step = 0;
    p.comp = (int32_t)comp;
    p.inverse = inverse;
    p.x_dtype = (int32_t)X->dtype;
    p.w_dtype = (int32_t)O2P_DTYPE_FLOAT;
    cg_launch *k = emit_1d(e, "o2p_signal_dft", (uint64_t)total, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_signal_dft_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_signal_dft_params);
    return cg_emit_status(e);
}

static int stft_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                           const char **why)
{
    (void)o;
    const host_tensor *w = host_in(&l->args, 2);
    if (w && l->input_tensors[2] >= 0 && !host_nn_is_float(w->dtype)) {
        *why = "the window must be float, float16, bfloat16 or double";
        return 0;
    }
    const host_tensor *y = host_out(&l->args, 0);
    double taps = y && y->rank == 4 ? (double)y->dims[2] : 1.0;
    return float_x_candidates(l, out, cap, why, "cuda.signal.stft", 8.0 * taps);
}

static o2p_status stft_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    (void)t;
    (void)o;
    const host_tensor *X, *S, *W, *F;
    O2P_TRY(sig_input(l, 0, "signal", 1, &X));
    O2P_TRY(sig_input(l, 1, "frame_step", 0, &S));
    O2P_TRY(sig_input_opt(l, 2, "window", 1, &W));
    O2P_TRY(sig_input_opt(l, 3, "frame_length", 0, &F));
    if (!host_nn_is_float(X->dtype))
        return cg_unsupported_dtype(l, X->dtype);
    if (X->rank != 3 || (X->dims[2] != 1 && X->dims[2] != 2))
        return cg_layer_error(l, "signal must be batch x length x 1|2");
    int64_t step, flen = -1;
    int have;
    O2P_TRY(const_scalar_int(l, S, "frame_step", &have, &step));
    if (!have)
        return cg_not_constant(l, "frame_step");
    if (step < 1)
        return cg_layer_error(l, "frame_step is %lld; it must be 1 or more", (long long)step);
    if (W) {
        if (W->rank != 1 || !host_nn_is_float(W->dtype))
            return cg_layer_error(l, "window must be a 1-D float tensor");
        flen = W->dims[0];
    }
    if (F) {
        int64_t v;
        O2P_TRY(const_scalar_int(l, F, "frame_length", &have, &v));
        if (!have && !W)
            return cg_not_constant(l, "frame_length (or a window)");
        if (have) {
            if (W && v != flen)
                return cg_layer_error(l, "window has %lld entries but frame_length is %lld",
                                 (long long)flen, (long long)v);
            flen = v;
        }
    }
    if (flen < 0)
        return cg_layer_error(l, "either window or frame_length must be given");
    if (flen < 1)
        return cg_layer_error(l, "frame_length is %lld; it must be 1 or more", (long long)flen);
    if (flen > SIG_MAX_DFT)
        return cg_layer_error(l, "frame_length %lld is larger than 2^31", (long long)flen);
    int64_t B = X->dims[0], len = X->dims[1], comp = X->dims[2];
    if (flen > len)
        return cg_layer_error(l, "frame_length %lld is longer than the signal (%lld)", (long long)flen,
                         (long long)len);
    int onesided = host_attr_int(&l->args, "onesided", 1) != 0;
    int64_t frames = (len - flen) / step + 1, bins = onesided ? flen / 2 + 1 : flen;
    int64_t ydims[4] = {B, frames, bins, 2};
    host_tensor *Y;
    O2P_TRY(sig_output(l, 0, X->dtype, 4, ydims, &Y));
    int64_t total = numel(Y) / 2;
    if (total == 0)
        return O2P_OK;
    o2p_signal_dft_params p;
    memset(&p, 0, sizeof p);
    p.total = total;
    p.outer = B;
    p.frames = frames;
    p.nout = bins;
    p.inner = 1;
    p.len_in = len;
    p.n = flen;
    p.taps = flen;
    p.step = step;
    p.comp = (int32_t)comp;
    p.x_dtype = (int32_t)X->dtype;
    p.w_dtype = (int32_t)(W ? W->dtype : O2P_DTYPE_FLOAT);
    cg_launch *k = emit_1d(e, "o2p_signal_dft", (uint64_t)total, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_signal_dft_params);
    if (W)
        PTR(k, w_ptr, l->input_tensors[2], o2p_signal_dft_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_signal_dft_params);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- windows, MelWeightMatrix */

static o2p_status out_datatype(const cg_layer *l, o2p_dtype *t)
{
    int64_t v = host_attr_int(&l->args, "output_datatype", O2P_DTYPE_FLOAT);
    if (v <= 0 || v > O2P_DTYPE_BFLOAT16 || !cu_numeric((o2p_dtype)v))
        return cg_layer_error(l, "output_datatype %lld is not a numeric element type", (long long)v);
    *t = (o2p_dtype)v;
    return O2P_OK;
}

static int gen_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                          const char **why)
{
    (void)o;
    int64_t v = host_attr_int(&l->args, "output_datatype", O2P_DTYPE_FLOAT);
    if (v <= 0 || v > O2P_DTYPE_BFLOAT16 || !cu_numeric((o2p_dtype)v)) {
        *why = "output_datatype is not a numeric element type";
        return 0;
    }
    return cand_one(out, cap,
                    strcmp(l->args.op_type, "MelWeightMatrix") == 0 ? "cuda.signal.mel"
                                                                    : "cuda.signal.window",
                    io_cost(l, 20.0));
}

static o2p_status window_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                               cg_emit *e)
{
    (void)t;
    (void)o;
    const char *op = l->args.op_type;
    int kind = strcmp(op, "HannWindow") == 0      ? O2P_SIGNAL_HANN
               : strcmp(op, "HammingWindow") == 0 ? O2P_SIGNAL_HAMMING
                                                  : O2P_SIGNAL_BLACKMAN;
    const host_tensor *S;
    O2P_TRY(sig_input(l, 0, "size", 0, &S));
    int have;
    int64_t size;
    O2P_TRY(const_scalar_int(l, S, "size", &have, &size));
    o2p_dtype dt;
    O2P_TRY(out_datatype(l, &dt));
    host_tensor *Y;
    /* the output's static shape is the size; a constant size must agree with it */
    O2P_TRY(sig_output(l, 0, dt, 1, have ? &size : NULL, &Y));
    if (have && size < 0)
        return cg_layer_error(l, "size is %lld; it must not be negative", (long long)size);
    size = Y->dims[0];
    if (size == 0)
        return O2P_OK;
    o2p_signal_window_params p;
    memset(&p, 0, sizeof p);
    p.size = size;
    p.denom = host_attr_int(&l->args, "periodic", 1) != 0 ? size : size - 1;
    p.kind = kind;
    p.y_dtype = (int32_t)dt;
    cg_launch *k = emit_1d(e, "o2p_signal_window", (uint64_t)size, &p, sizeof p);
    PTR(k, y_ptr, l->output_tensors[0], o2p_signal_window_params);
    return cg_emit_status(e);
}

static o2p_status mel_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    (void)t;
    (void)o;
    static const char *const names[5] = {"num_mel_bins", "dft_length", "sample_rate",
                                         "lower_edge_hertz", "upper_edge_hertz"};
    const host_tensor *in[5];
    for (int i = 0; i < 5; i++) {
        O2P_TRY(sig_input(l, i, names[i], 1, &in[i]));
        int ok;
        if (in[i]->rank > 1 || host_numel(in[i], &ok) != 1 || !cu_numeric(in[i]->dtype) ||
            (i < 3 && in[i]->dtype != O2P_DTYPE_INT32 && in[i]->dtype != O2P_DTYPE_INT64))
            return cg_layer_error(l, "%s must be a %s scalar", names[i],
                             i < 3 ? "int32 or int64" : "numeric");
    }
    o2p_dtype dt;
    O2P_TRY(out_datatype(l, &dt));
    host_tensor *Y;
    O2P_TRY(sig_output(l, 0, dt, 2, NULL, &Y));
    int64_t total = numel(Y);
    if (total == 0)
        return O2P_OK;
    o2p_signal_mel_params p;
    memset(&p, 0, sizeof p);
    p.total = total;
    p.spec = Y->dims[0];
    p.bins = Y->dims[1];
    for (int i = 0; i < 5; i++)
        p.in_dtype[i] = (int32_t)in[i]->dtype;
    p.y_dtype = (int32_t)dt;
    cg_launch *k = emit_1d(e, "o2p_signal_mel", (uint64_t)total, &p, sizeof p);
    for (int i = 0; i < 5; i++)
        cg_launch_ptr(
            e, k, (uint32_t)(offsetof(o2p_signal_mel_params, in_ptr) + (size_t)i * sizeof(o2p_u64)),
            l->input_tensors[i], 0);
    PTR(k, y_ptr, l->output_tensors[0], o2p_signal_mel_params);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- MaxUnpool, CenterCropPad */

static int bytes_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                            const char **why)
{
    (void)o;
    const host_tensor *x = host_in(&l->args, 0);
    size_t es = x ? o2p_dtype_size(x->dtype) : 4;
    if (x && (x->dtype == O2P_DTYPE_STRING || (es != 1 && es != 2 && es != 4 && es != 8))) {
        *why = "the CUDA kernel moves elements of 1, 2, 4 or 8 bytes only";
        return 0;
    }
    return cand_one(out, cap,
                    strcmp(l->args.op_type, "MaxUnpool") == 0 ? "cuda.signal.unpool"
                                                              : "cuda.signal.crop_pad",
                    io_cost(l, 0.0));
}

static o2p_status elem_size_ok(const cg_layer *l, const host_tensor *X, int32_t *es)
{
    size_t s = o2p_dtype_size(X->dtype);
    if (X->dtype == O2P_DTYPE_STRING || (s != 1 && s != 2 && s != 4 && s != 8))
        return cg_unsupported_dtype(l, X->dtype);
    *es = (int32_t)s;
    return O2P_OK;
}

static o2p_status unpool_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                               cg_emit *e)
{
    (void)t;
    (void)o;
    const host_tensor *X, *I, *S;
    O2P_TRY(sig_input(l, 0, "X", 1, &X));
    O2P_TRY(sig_input(l, 1, "I", 1, &I));
    O2P_TRY(sig_input_opt(l, 2, "output_shape", 0, &S));
    int32_t es = 0;
    O2P_TRY(elem_size_ok(l, X, &es));
    if (X->rank < 3)
        return cg_layer_error(l, "X has rank %d; MaxUnpool needs rank 3 or more", X->rank);
    if (I->dtype != O2P_DTYPE_INT64 || !host_same_shape(I, X->rank, X->dims))
        return cg_layer_error(l, "I must be an int64 tensor of X's shape");
    int nsp = X->rank - 2, kc;
    const int64_t *ks = host_attr_ints(&l->args, "kernel_shape", &kc);
    if (!ks || kc != nsp)
        return cg_layer_error(l, "attribute kernel_shape is required with %d entries", nsp);
    for (int d = 0; d < nsp; d++)
        if (ks[d] < 1)
            return cg_layer_error(l, "kernel_shape has %lld", (long long)ks[d]);
    int64_t strides[O2P_CU_MAX_RANK], pads[2 * O2P_CU_MAX_RANK];
    O2P_TRY(host_nn_spatial_ints(&l->args, "strides", nsp, 1, 1, strides));
    O2P_TRY(host_nn_spatial_ints(&l->args, "pads", 2 * nsp, 0, 0, pads));
    o2p_signal_unpool_params p;
    memset(&p, 0, sizeof p);
    p.idims[0] = X->dims[0];
    p.idims[1] = X->dims[1];
    for (int d = 0; d < nsp; d++) {
        int64_t in = X->dims[d + 2] > 0 ? X->dims[d + 2] - 1 : 0;
        if (in > INT64_MAX / 4 / strides[d] || ks[d] > INT64_MAX / 4)
            return cg_layer_error(l, "spatial axis %d overflows", d);
        p.idims[d + 2] = in * strides[d] + ks[d] - pads[d] - pads[d + nsp];
        if (p.idims[d + 2] < 0)
            return cg_layer_error(l, "spatial axis %d of the output would be %lld", d,
                             (long long)p.idims[d + 2]);
    }
    int64_t ydims[O2P_CU_MAX_RANK];
    memcpy(ydims, p.idims, sizeof ydims);
    int use_y_shape = 0;
    if (S) {
        /* output_shape's values are the output's static shape; a constant must agree */
        if (S->rank != 1 || S->dims[0] != X->rank ||
            (S->dtype != O2P_DTYPE_INT64 && S->dtype != O2P_DTYPE_INT32))
            return cg_layer_error(l, "output_shape must be a 1-D int tensor of %d entries", X->rank);
        if (S->data)
            host_read_ints(S, ydims, O2P_CU_MAX_RANK);
        else
            use_y_shape = 1;
    }
    host_tensor *Y;
    O2P_TRY(sig_output(l, 0, X->dtype, X->rank, use_y_shape ? NULL : ydims, &Y));
    p.icount = 1;
    for (int d = 0; d < X->rank; d++) {
        p.ydims[d] = Y->dims[d];
        if (__builtin_mul_overflow(p.icount, p.idims[d], &p.icount))
            return cg_layer_error(l, "the unpooled shape overflows");
    }
    int64_t ny = numel(Y), nx = numel(X);
    if (ny == 0)
        return O2P_OK;
    cg_emit_memset(e, l->output_tensors[0], 0, (uint64_t)ny * (uint64_t)es, 0);
    if (nx == 0)
        return cg_emit_status(e);
    p.total = nx;
    p.rank = X->rank;
    p.elem_size = es;
    cg_launch *k = emit_1d(e, "o2p_signal_unpool", (uint64_t)nx, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_signal_unpool_params);
    PTR(k, i_ptr, l->input_tensors[1], o2p_signal_unpool_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_signal_unpool_params);
    return cg_emit_status(e);
}

static o2p_status crop_pad_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                 cg_emit *e)
{
    (void)t;
    (void)o;
    const host_tensor *X, *S;
    O2P_TRY(sig_input(l, 0, "input_data", 1, &X));
    O2P_TRY(sig_input(l, 1, "shape", 0, &S));
    int32_t es = 0;
    O2P_TRY(elem_size_ok(l, X, &es));
    int r = X->rank, axes[O2P_CU_MAX_RANK], na = r;
    for (int i = 0; i < r; i++)
        axes[i] = i;
    int nattr;
    const int64_t *av = host_attr_ints(&l->args, "axes", &nattr);
    if (av) {
        if (nattr > r)
            return cg_layer_error(l, "axes has %d entries for a rank %d input", nattr, r);
        int seen[O2P_CU_MAX_RANK] = {0};
        for (int i = 0; i < nattr; i++)
            if (!host_norm_axis(av[i], r, &axes[i]) || seen[axes[i]]++)
                return cg_layer_error(l, "axes entry %lld is out of range or repeated",
                                 (long long)av[i]);
        na = nattr;
    }
    if (S->rank != 1 || S->dims[0] != na ||
        (S->dtype != O2P_DTYPE_INT64 && S->dtype != O2P_DTYPE_INT32))
        return cg_layer_error(l, "shape must be a 1-D int tensor of %d entries", na);
    host_tensor *Y;
    if (S->data) {
        int64_t sh[O2P_CU_MAX_RANK], ydims[O2P_CU_MAX_RANK];
        host_read_ints(S, sh, O2P_CU_MAX_RANK);
        memcpy(ydims, X->dims, sizeof ydims);
        for (int i = 0; i < na; i++) {
            if (sh[i] < 0)
                return cg_layer_error(l, "shape has %lld on axis %d", (long long)sh[i], axes[i]);
            ydims[axes[i]] = sh[i];
        }
        O2P_TRY(sig_output(l, 0, X->dtype, r, ydims, &Y));
    } else {
        /* the output's static shape carries the values; the other axes keep X's dims */
        O2P_TRY(sig_output(l, 0, X->dtype, r, NULL, &Y));
        int cropped[O2P_CU_MAX_RANK] = {0};
        for (int i = 0; i < na; i++)
            cropped[axes[i]] = 1;
        for (int d = 0; d < r; d++)
            if (!cropped[d] && Y->dims[d] != X->dims[d])
                return cg_layer_error(l, "output dim %d is %lld, expected the input's %lld", d,
                                 (long long)Y->dims[d], (long long)X->dims[d]);
    }
    int64_t total = numel(Y);
    if (total == 0)
        return O2P_OK;
    o2p_signal_crop_pad_params p;
    memset(&p, 0, sizeof p);
    p.total = total;
    p.rank = r;
    p.elem_size = es;
    for (int d = 0; d < r; d++) {
        p.in[d] = X->dims[d];
        p.out[d] = Y->dims[d];
        p.shift[d] = Y->dims[d] >= X->dims[d] ? (Y->dims[d] - X->dims[d]) / 2
                                              : -((X->dims[d] - Y->dims[d]) / 2);
    }
    cg_launch *k = emit_1d(e, "o2p_signal_crop_pad", (uint64_t)total, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_signal_crop_pad_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_signal_crop_pad_params);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- Det */

static int det_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                          const char **why)
{
    (void)o;
    const host_tensor *x = host_in(&l->args, 0);
    double m = x && x->rank >= 2 ? (double)x->dims[x->rank - 1] : 1.0;
    int n = float_x_candidates(l, out, cap, why, "cuda.signal.det", m * m * m);
    if (n == 1 && x)
        out[0].workspace = numel(x) > 0 ? (uint64_t)numel(x) * sizeof(double) : 8;
    return n;
}

static o2p_status det_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    (void)t;
    (void)o;
    const host_tensor *X;
    O2P_TRY(sig_input(l, 0, "X", 1, &X));
    if (!host_nn_is_float(X->dtype))
        return cg_unsupported_dtype(l, X->dtype);
    int r = X->rank;
    if (r < 2 || X->dims[r - 1] != X->dims[r - 2])
        return cg_layer_error(l, "X must hold square matrices in its last two dims");
    host_tensor *Y;
    O2P_TRY(sig_output(l, 0, X->dtype, r - 2, X->dims, &Y));
    int64_t batch = host_nn_prod(X->dims, 0, r - 2), m = X->dims[r - 1];
    if (batch == 0)
        return O2P_OK;
    o2p_signal_det_params p;
    memset(&p, 0, sizeof p);
    p.batch = batch;
    p.m = m;
    p.x_dtype = (int32_t)X->dtype;
    /* a 0 x 0 matrix has determinant 1: the kernel's loop is empty, no workspace is read */
    uint64_t ws_bytes = (uint64_t)numel(X) * sizeof(double);
    uint64_t ws = cg_emit_workspace(e, ws_bytes ? ws_bytes : 8);
    cg_launch *k = emit_1d(e, "o2p_signal_det", (uint64_t)batch, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_signal_det_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_signal_det_params);
    cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_signal_det_params, ws_ptr), CG_TENSOR_WORKSPACE, ws);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- random generators */

/* As kernels/host/signal.c: splitmix64's finalizer and the seed attribute's stream. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The seed attribute's stream (as the host's layer_seed), or a build-time value with fresh
 * set: the kernel then mixes the GPU clock in at each run (the value keeps two such layers of
 * one plan apart). */
static void layer_stream(const cg_layer *l, o2p_u64 *seed, o2p_i32 *fresh)
{
    const host_attr *s = host_attr_find(&l->args, "seed");
    if (s && s->type == O2P_ATTR_FLOAT) {
        uint32_t bits;
        memcpy(&bits, &s->f, sizeof bits);
        *seed = mix64((uint64_t)bits | ((uint64_t)1 << 32));
        *fresh = 0;
    } else {
        *seed = mix64((uint64_t)time(NULL)) ^ mix64((uint64_t)(uintptr_t)l);
        *fresh = 1;
    }
}

static int rand_kind(const char *op, int *like)
{
    *like = strstr(op, "Like") != NULL || strcmp(op, "Bernoulli") == 0;
    return strcmp(op, "Bernoulli") == 0           ? O2P_SIGNAL_BERNOULLI
           : strncmp(op, "RandomNormal", 12) == 0 ? O2P_SIGNAL_NORMAL
                                                  : O2P_SIGNAL_UNIFORM;
}

/* The output type (the dtype attribute, or the input's / float), 0 when not handled. */
static o2p_dtype rand_dtype(const cg_layer *l, int kind, const host_tensor *x)
{
    int64_t dt = host_attr_int(&l->args, "dtype", x ? (int64_t)x->dtype : O2P_DTYPE_FLOAT);
    if (dt <= 0 || dt > O2P_DTYPE_BFLOAT16 || !cu_numeric((o2p_dtype)dt))
        return O2P_DTYPE_UNDEFINED;
    if (kind != O2P_SIGNAL_BERNOULLI && !host_nn_is_float((o2p_dtype)dt))
        return O2P_DTYPE_UNDEFINED;
    return (o2p_dtype)dt;
}

static int random_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                             const char **why)
{
    (void)o;
    int like, kind = rand_kind(l->args.op_type, &like);
    const host_tensor *x = like ? host_in(&l->args, 0) : NULL;
    if ((kind == O2P_SIGNAL_BERNOULLI && x && !host_nn_is_float(x->dtype)) ||
        rand_dtype(l, kind, x) == O2P_DTYPE_UNDEFINED) {
        *why = "the CUDA kernel makes float types (Bernoulli: numeric types from float "
               "probabilities) only";
        return 0;
    }
    return cand_one(out, cap, "cuda.signal.random", io_cost(l, 30.0));
}

static o2p_status random_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                               cg_emit *e)
{
    (void)t;
    (void)o;
    int like, kind = rand_kind(l->args.op_type, &like);
    const host_tensor *X = NULL;
    if (like)
        O2P_TRY(sig_input(l, 0, "input", kind == O2P_SIGNAL_BERNOULLI, &X));
    if (kind == O2P_SIGNAL_BERNOULLI && !host_nn_is_float(X->dtype))
        return cg_unsupported_dtype(l, X->dtype);
    o2p_dtype dt = rand_dtype(l, kind, X);
    if (dt == O2P_DTYPE_UNDEFINED)
        return o2p_fail(
            O2P_ERR_UNSUPPORTED, "layer '%s' (%s): dtype %lld is not a type the CUDA kernel makes",
            cg_layer_name(l), l->args.op_type, (long long)host_attr_int(&l->args, "dtype", 0));
    int rank;
    int64_t dims[O2P_CU_MAX_RANK];
    if (X) {
        rank = X->rank;
        memcpy(dims, X->dims, sizeof dims);
    } else {
        const int64_t *sh = host_attr_ints(&l->args, "shape", &rank);
        if (!sh || rank > O2P_CU_MAX_RANK)
            return cg_layer_error(l, "attribute shape is required (at most %d entries)",
                             O2P_CU_MAX_RANK);
        for (int i = 0; i < rank; i++)
            if ((dims[i] = sh[i]) < 0)
                return cg_layer_error(l, "attribute shape has %lld on axis %d", (long long)sh[i], i);
    }
    host_tensor *Y;
    O2P_TRY(sig_output(l, 0, dt, rank, dims, &Y));
    int64_t total = numel(Y);
    if (total == 0)
        return O2P_OK;
    o2p_signal_random_params p;
    memset(&p, 0, sizeof p);
    p.total = total;
    p.kind = kind;
    p.y_dtype = (int32_t)dt;
    p.x_dtype = (int32_t)(X ? X->dtype : O2P_DTYPE_FLOAT);
    layer_stream(l, &p.seed, &p.fresh);
    if (kind == O2P_SIGNAL_UNIFORM) {
        p.a = host_attr_float(&l->args, "low", 0.0f);
        p.b = host_attr_float(&l->args, "high", 1.0f);
    } else if (kind == O2P_SIGNAL_NORMAL) {
        p.a = host_attr_float(&l->args, "mean", 0.0f);
        p.b = host_attr_float(&l->args, "scale", 1.0f);
    }
    cg_launch *k = emit_1d(e, "o2p_signal_random", (uint64_t)total, &p, sizeof p);
    if (kind == O2P_SIGNAL_BERNOULLI)
        PTR(k, x_ptr, l->input_tensors[0], o2p_signal_random_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_signal_random_params);
    return cg_emit_status(e);
}

static int multinomial_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                                  const char **why)
{
    (void)o;
    const host_tensor *x = host_in(&l->args, 0);
    int64_t dt = host_attr_int(&l->args, "dtype", O2P_DTYPE_INT32);
    if ((x && !host_nn_is_float(x->dtype)) || (dt != O2P_DTYPE_INT32 && dt != O2P_DTYPE_INT64)) {
        *why = "the CUDA kernel samples float inputs into int32 or int64 only";
        return 0;
    }
    double classes = x && x->rank == 2 ? (double)x->dims[1] : 1.0;
    return cand_one(out, cap, "cuda.signal.multinomial", io_cost(l, 60.0 * classes));
}

static o2p_status multinomial_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                    cg_emit *e)
{
    (void)t;
    (void)o;
    const host_tensor *X;
    O2P_TRY(sig_input(l, 0, "input", 1, &X));
    if (!host_nn_is_float(X->dtype))
        return cg_unsupported_dtype(l, X->dtype);
    if (X->rank != 2)
        return cg_layer_error(l, "input must be batch x classes, not rank %d", X->rank);
    int64_t dt = host_attr_int(&l->args, "dtype", O2P_DTYPE_INT32);
    if (dt != O2P_DTYPE_INT32 && dt != O2P_DTYPE_INT64)
        return cg_layer_error(l, "dtype %lld must be int32 (6) or int64 (7)", (long long)dt);
    int64_t ns = host_attr_int(&l->args, "sample_size", 1);
    if (ns < 1)
        return cg_layer_error(l, "sample_size %lld must be 1 or more", (long long)ns);
    int64_t ydims[2] = {X->dims[0], ns};
    host_tensor *Y;
    O2P_TRY(sig_output(l, 0, (o2p_dtype)dt, 2, ydims, &Y));
    int64_t total = numel(Y);
    if (total == 0)
        return O2P_OK;
    if (X->dims[1] == 0)
        return cg_layer_error(l, "input has no classes to sample from");
    o2p_signal_multinomial_params p;
    memset(&p, 0, sizeof p);
    p.total = total;
    p.classes = X->dims[1];
    p.samples = ns;
    p.x_dtype = (int32_t)X->dtype;
    p.y_dtype = (int32_t)dt;
    layer_stream(l, &p.seed, &p.fresh);
    cg_launch *k = emit_1d(e, "o2p_signal_multinomial", (uint64_t)total, &p, sizeof p);
    PTR(k, x_ptr, l->input_tensors[0], o2p_signal_multinomial_params);
    PTR(k, y_ptr, l->output_tensors[0], o2p_signal_multinomial_params);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- the table */

const cg_op cg_signal_ops[] = {
    {"Bernoulli", random_candidates, random_lower},
    {"BlackmanWindow", gen_candidates, window_lower},
    {"CenterCropPad", bytes_candidates, crop_pad_lower},
    {"DFT", dft_candidates, dft_lower},
    {"Det", det_candidates, det_lower},
    {"HammingWindow", gen_candidates, window_lower},
    {"HannWindow", gen_candidates, window_lower},
    {"MaxUnpool", bytes_candidates, unpool_lower},
    {"MelWeightMatrix", gen_candidates, mel_lower},
    {"Multinomial", multinomial_candidates, multinomial_lower},
    {"RandomNormal", random_candidates, random_lower},
    {"RandomNormalLike", random_candidates, random_lower},
    {"RandomUniform", random_candidates, random_lower},
    {"RandomUniformLike", random_candidates, random_lower},
    {"STFT", stft_candidates, stft_lower},
};
const int cg_signal_op_count = (int)(sizeof cg_signal_ops / sizeof cg_signal_ops[0]);
