/* infer_signal.c: shape inference of the signal-processing operators (opset 17): DFT, STFT,
 * the window generators and MelWeightMatrix. */
#include <string.h>

#include "ir/infer_ops.h"

static o2p_status need_scalar(ir_infer_ctx *ctx, int i)
{
    int r = inf_rank(ctx, i);
    int64_t len = inf_len1d(ctx, i);
    if (r > 1 || (r == 1 && len >= 0 && len != 1))
        return ir_infer_error(ctx, "input '%s' must be a scalar", inf_name(ctx, i));
    return O2P_OK;
}

static o2p_status out_dtype_attr(ir_infer_ctx *ctx, o2p_dtype *t)
{
    int64_t v = ir_attr_int(ctx->layer, "output_datatype", O2P_DTYPE_FLOAT);
    if (v <= 0 || v > O2P_DTYPE_BFLOAT16 || v == O2P_DTYPE_STRING)
        return ir_infer_error(ctx, "output_datatype %lld is not a numeric element type",
                              (long long)v);
    *t = (o2p_dtype)v;
    return O2P_OK;
}

o2p_status inf_dft(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    int onesided = ir_attr_int(ctx->layer, "onesided", 0) != 0;
    int inverse = ir_attr_int(ctx->layer, "inverse", 0) != 0;
    if (onesided && inverse)
        return ir_infer_error(ctx, "onesided and inverse cannot both be set");
    if (inf_has(ctx, 1))
        O2P_TRY(need_scalar(ctx, 1));
    if (x.rank < 0)
        return inf_out(ctx, 0, t, &x);
    if (x.rank < 3)
        return ir_infer_error(ctx, "input '%s' has rank %d; DFT needs batch x signal... x 1|2",
                              inf_name(ctx, 0), x.rank);
    ir_dim last = x.dims[x.rank - 1];
    if (last.value >= 0 && last.value != 1 && last.value != 2)
        return ir_infer_error(ctx,
                              "the last dim of input '%s' is %lld; it must be 1 (real) or "
                              "2 (complex)",
                              inf_name(ctx, 0), (long long)last.value);
    int64_t axis = ir_attr_int(ctx->layer, "axis", 1);
    /* the signal axes lie between the batch axis and the real/imaginary axis */
    if (axis < 0)
        axis += x.rank;
    if (axis < 1 || axis > x.rank - 2)
        return ir_infer_error(ctx,
                              "axis %lld is not a signal axis of rank %d input '%s' (1 to "
                              "%d)",
                              (long long)ir_attr_int(ctx->layer, "axis", 1), x.rank,
                              inf_name(ctx, 0), x.rank - 2);
    o = x;
    o.dims[x.rank - 1] = inf_dim(2);
    ir_dim n = x.dims[axis];
    if (inf_has(ctx, 1)) {
        int64_t len;
        n = IR_DIM_UNKNOWN;
        if (inf_int_scalar(ctx, 1, &len)) {
            if (len < 1)
                return ir_infer_error(ctx, "dft_length is %lld; it must be 1 or more",
                                      (long long)len);
            n = inf_dim(len);
        }
    }
    if (onesided)
        n = n.value >= 0 ? inf_dim(n.value / 2 + 1) : IR_DIM_UNKNOWN;
    o.dims[axis] = n;
    return inf_out(ctx, 0, t, &o);
}

o2p_status inf_stft(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    O2P_TRY(inf_need_rank(ctx, 0, 3));
    O2P_TRY(need_scalar(ctx, 1));
    if (inf_has(ctx, 2))
        O2P_TRY(inf_need_rank(ctx, 2, 1));
    if (inf_has(ctx, 3))
        O2P_TRY(need_scalar(ctx, 3));
    int onesided = ir_attr_int(ctx->layer, "onesided", 1) != 0;
    if (x.rank == 3 && x.dims[2].value >= 0 && x.dims[2].value != 1 && x.dims[2].value != 2)
        return ir_infer_error(ctx, "the last dim of signal '%s' is %lld; it must be 1 or 2",
                              inf_name(ctx, 0), (long long)x.dims[2].value);
    int64_t step = -1, flen = -1;
    if (inf_int_scalar(ctx, 1, &step) && step < 1)
        return ir_infer_error(ctx, "frame_step is %lld; it must be 1 or more", (long long)step);
    if (inf_has(ctx, 3)) {
        if (inf_int_scalar(ctx, 3, &flen) && flen < 1)
            return ir_infer_error(ctx, "frame_length is %lld; it must be 1 or more",
                                  (long long)flen);
    } else if (inf_has(ctx, 2)) {
        flen = inf_len1d(ctx, 2);
    }
    if (inf_has(ctx, 2) && inf_has(ctx, 3) && flen >= 0 && inf_len1d(ctx, 2) >= 0 &&
        inf_len1d(ctx, 2) != flen)
        return ir_infer_error(ctx, "window '%s' has %lld entries but frame_length is %lld",
                              inf_name(ctx, 2), (long long)inf_len1d(ctx, 2), (long long)flen);
    inf_shape_rank(&o, 4);
    o.dims[3] = inf_dim(2);
    if (x.rank == 3) {
        o.dims[0] = x.dims[0];
        int64_t len = x.dims[1].value;
        if (len >= 0 && flen >= 0 && step >= 1) {
            if (flen > len)
                return ir_infer_error(ctx, "frame_length %lld is longer than the signal (%lld)",
                                      (long long)flen, (long long)len);
            o.dims[1] = inf_dim((len - flen) / step + 1);
        }
    }
    if (flen >= 0)
        o.dims[2] = inf_dim(onesided ? flen / 2 + 1 : flen);
    return inf_out(ctx, 0, t, &o);
}

/* HannWindow, HammingWindow, BlackmanWindow: [size]. */
o2p_status inf_window(ir_infer_ctx *ctx)
{
    O2P_TRY(need_scalar(ctx, 0));
    o2p_dtype t = O2P_DTYPE_FLOAT;
    O2P_TRY(out_dtype_attr(ctx, &t));
    ir_shape o;
    inf_shape_rank(&o, 1);
    int64_t n;
    if (inf_int_scalar(ctx, 0, &n)) {
        if (n < 0)
            return ir_infer_error(ctx, "size is %lld; it must not be negative", (long long)n);
        o.dims[0] = inf_dim(n);
    }
    return inf_out(ctx, 0, t, &o);
}

o2p_status inf_mel_weight_matrix(ir_infer_ctx *ctx)
{
    for (int i = 0; i < 5; i++)
        O2P_TRY(need_scalar(ctx, i));
    o2p_dtype t = O2P_DTYPE_FLOAT;
    O2P_TRY(out_dtype_attr(ctx, &t));
    ir_shape o;
    inf_shape_rank(&o, 2);
    int64_t bins, dft;
    if (inf_int_scalar(ctx, 0, &bins)) {
        if (bins < 1)
            return ir_infer_error(ctx, "num_mel_bins is %lld; it must be 1 or more",
                                  (long long)bins);
        o.dims[1] = inf_dim(bins);
    }
    if (inf_int_scalar(ctx, 1, &dft)) {
        if (dft < 1)
            return ir_infer_error(ctx, "dft_length is %lld; it must be 1 or more", (long long)dft);
        o.dims[0] = inf_dim(dft / 2 + 1);
    }
    return inf_out(ctx, 0, t, &o);
}
