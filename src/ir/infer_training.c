/* infer_training.c: shape inference of the ai.onnx.preview.training operators: the
 * optimizers Adagrad, Adam and Momentum (inputs R, T, then per optimized tensor a group of X,
 * G and its states; outputs the new X values, then the new states in the inputs' order). */
#include <string.h>

#include "ir/infer_ops.h"

static o2p_status need_scalar(ir_infer_ctx *ctx, int i, const char *what)
{
    int r = inf_rank(ctx, i);
    int64_t len = inf_len1d(ctx, i);
    if (!inf_has(ctx, i))
        return ir_infer_error(ctx, "input %d (%s) is missing", i, what);
    if (r > 1 || (r == 1 && len >= 0 && len != 1))
        return ir_infer_error(ctx, "input '%s' (%s) must be a scalar", inf_name(ctx, i), what);
    return O2P_OK;
}

static int float_or_double(o2p_dtype t)
{
    return t == O2P_DTYPE_UNDEFINED || t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_DOUBLE;
}

/* k tensors per group: X, G and k - 2 states. */
static o2p_status infer_optimizer(ir_infer_ctx *ctx, int k)
{
    const ir_layer *l = ctx->layer;
    if (l->num_inputs < 2 + k || (l->num_inputs - 2) % k != 0)
        return ir_infer_error(ctx,
                              "%d inputs; it takes R, T and %d tensors per optimized "
                              "tensor (X, G and %d state%s)",
                              l->num_inputs, k, k - 2, k > 3 ? "s" : "");
    int n = (l->num_inputs - 2) / k;
    if (l->num_outputs > (k - 1) * n)
        return ir_infer_error(ctx, "%d outputs; %d optimized tensors give at most %d",
                              l->num_outputs, n, (k - 1) * n);
    O2P_TRY(need_scalar(ctx, 0, "R"));
    O2P_TRY(need_scalar(ctx, 1, "T"));
    if (!float_or_double(inf_dtype(ctx, 0)))
        return ir_infer_error(ctx, "R '%s' is %s; it must be float or double", inf_name(ctx, 0),
                              o2p_dtype_name(inf_dtype(ctx, 0)));
    o2p_dtype tt = inf_dtype(ctx, 1);
    if (tt != O2P_DTYPE_UNDEFINED && tt != O2P_DTYPE_INT64)
        return ir_infer_error(ctx, "T '%s' is %s; it must be int64", inf_name(ctx, 1),
                              o2p_dtype_name(tt));
    for (int i = 0; i < n; i++) {
        int x = 2 + i;
        ir_shape s;
        inf_shape(ctx, x, &s);
        o2p_dtype t = inf_dtype(ctx, x);
        for (int g = 0; g < k; g++) {
            int j = 2 + g * n + i;
            if (!inf_has(ctx, j))
                return ir_infer_error(ctx, "input %d is missing", j);
            if (!float_or_double(inf_dtype(ctx, j)))
                return ir_infer_error(ctx, "input '%s' is %s; it must be float or double",
                                      inf_name(ctx, j), o2p_dtype_name(inf_dtype(ctx, j)));
            O2P_TRY(inf_same_dtype(ctx, x, j));
            ir_shape sj;
            inf_shape(ctx, j, &sj);
            O2P_TRY(inf_merge_shapes(ctx, &s, &sj, inf_name(ctx, x), inf_name(ctx, j)));
            if (t == O2P_DTYPE_UNDEFINED)
                t = inf_dtype(ctx, j);
        }
        for (int g = 0; g < k - 1; g++)
            O2P_TRY(inf_out(ctx, g * n + i, t, &s));
    }
    return O2P_OK;
}

o2p_status inf_adagrad(ir_infer_ctx *ctx)
{
    return infer_optimizer(ctx, 3);
}

o2p_status inf_adam(ir_infer_ctx *ctx)
{
    return infer_optimizer(ctx, 4);
}

o2p_status inf_momentum(ir_infer_ctx *ctx)
{
    return infer_optimizer(ctx, 3);
}
