/* infer_gradient.c: shape inference of Gradient (ai.onnx.preview.training 1): the i-th output,
 * dY/dX_i, has the type and shape of the i-th input (the value of xs[i]). The builder then
 * expands the layer into the layers of its derivative (src/passes/gradient.c). */
#include "ir/infer_ops.h"

o2p_status inf_gradient(ir_infer_ctx *ctx)
{
    const ir_attr *xs = ir_attr_find(ctx->layer, "xs");
    if (!xs || xs->type != O2P_ATTR_STRINGS || xs->count < 1)
        return ir_infer_error(ctx, "attribute xs (the names of the tensors to differentiate "
                                   "by) is required");
    if (!ir_attr_string(ctx->layer, "y", NULL))
        return ir_infer_error(ctx, "attribute y (the name of the tensor to differentiate) is "
                                   "required");
    int nout = ctx->layer->num_outputs;
    if (nout != xs->count || ctx->layer->num_inputs < xs->count)
        return ir_infer_error(ctx,
                              "xs names %d tensors: the layer needs their %d values as its "
                              "first inputs and %d outputs (it has %d and %d)",
                              xs->count, xs->count, xs->count, ctx->layer->num_inputs, nout);
    for (int i = 0; i < nout; i++)
        O2P_TRY(inf_out_like(ctx, i, i));
    return O2P_OK;
}
