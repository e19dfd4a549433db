/* infer_sequence.c: inference of the sequence and optional operators. It types their outputs
 * (sequence, optional or tensor, and the element type). A sequence's shape stays unknown:
 * its elements may differ, and no static-shape check may take a sequence for a tensor (a
 * Loop carrying one must look dynamic, so that the build unrolls it). The lengths and
 * element shapes are resolved at build by the sequence pass (src/passes/sequence.c), which
 * replaces these layers by tensor layers and infers again. */
#include "ir/infer_ops.h"

static void set_vtype(ir_infer_ctx *ctx, int i, ir_value_type vtype)
{
    if (i >= 0 && i < ctx->layer->num_outputs && ctx->layer->outputs[i])
        ctx->layer->outputs[i]->vtype = vtype;
}

static ir_value_type in_vtype(const ir_infer_ctx *ctx, int i)
{
    const ir_tensor *t = ir_input(ctx, i);
    return t ? t->vtype : IR_VALUE_TENSOR;
}

static int is_sequence(ir_value_type v)
{
    return v == IR_VALUE_SEQUENCE || v == IR_VALUE_OPTIONAL_SEQUENCE;
}

/* A sequence output of elements of dtype. */
static o2p_status out_sequence(ir_infer_ctx *ctx, int i, o2p_dtype dtype)
{
    set_vtype(ctx, i, IR_VALUE_SEQUENCE);
    return inf_out(ctx, i, dtype, NULL);
}

INF_FN(inf_sequence_empty)
{
    int64_t dt = ir_attr_int(ctx->layer, "dtype", O2P_DTYPE_FLOAT);
    if (dt <= O2P_DTYPE_UNDEFINED || dt > O2P_DTYPE_BFLOAT16 || dt == O2P_DTYPE_STRING)
        return ir_infer_error(ctx, "attribute 'dtype' (%lld) is not a numeric element type",
                              (long long)dt);
    return out_sequence(ctx, 0, (o2p_dtype)dt);
}

INF_FN(inf_sequence_construct)
{
    for (int i = 1; i < ctx->layer->num_inputs; i++)
        O2P_TRY(inf_same_dtype(ctx, 0, i));
    return out_sequence(ctx, 0, inf_dtype(ctx, 0));
}

/* A position input (SequenceInsert, SequenceErase, SequenceAt): a scalar (or one-element)
 * int32 or int64 tensor. */
static o2p_status check_position(const ir_infer_ctx *ctx, int i)
{
    if (!inf_has(ctx, i))
        return O2P_OK;
    o2p_dtype t = inf_dtype(ctx, i);
    if (t != O2P_DTYPE_UNDEFINED && t != O2P_DTYPE_INT32 && t != O2P_DTYPE_INT64)
        return ir_infer_error(ctx, "position '%s' is %s; it must be int32 or int64",
                              inf_name(ctx, i), o2p_dtype_name(t));
    if (inf_rank(ctx, i) > 1)
        return ir_infer_error(ctx, "position '%s' must be a scalar, not rank %d",
                              inf_name(ctx, i), inf_rank(ctx, i));
    return O2P_OK;
}

INF_FN(inf_sequence_insert)
{
    O2P_TRY(check_position(ctx, 2));
    O2P_TRY(inf_same_dtype(ctx, 0, 1));
    o2p_dtype dt = inf_dtype(ctx, 0) != O2P_DTYPE_UNDEFINED ? inf_dtype(ctx, 0) : inf_dtype(ctx, 1);
    return out_sequence(ctx, 0, dt);
}

INF_FN(inf_sequence_erase)
{
    O2P_TRY(check_position(ctx, 1));
    return out_sequence(ctx, 0, inf_dtype(ctx, 0));
}

INF_FN(inf_sequence_at)
{
    O2P_TRY(check_position(ctx, 1));
    set_vtype(ctx, 0, IR_VALUE_TENSOR);
    return inf_out(ctx, 0, inf_dtype(ctx, 0), NULL);
}

INF_FN(inf_sequence_length)
{
    ir_shape s;
    inf_shape_rank(&s, 0);
    set_vtype(ctx, 0, IR_VALUE_TENSOR);
    return inf_out(ctx, 0, O2P_DTYPE_INT64, &s);
}

INF_FN(inf_concat_from_sequence)
{
    if (!ir_attr_find(ctx->layer, "axis"))
        return ir_infer_error(ctx, "the attribute 'axis' is required");
    int64_t new_axis = ir_attr_int(ctx->layer, "new_axis", 0);
    if (new_axis != 0 && new_axis != 1)
        return ir_infer_error(ctx, "attribute 'new_axis' is %lld; it must be 0 or 1",
                              (long long)new_axis);
    set_vtype(ctx, 0, IR_VALUE_TENSOR);
    return inf_out(ctx, 0, inf_dtype(ctx, 0), NULL);
}

INF_FN(inf_split_to_sequence)
{
    int64_t keepdims = ir_attr_int(ctx->layer, "keepdims", 1);
    if (keepdims != 0 && keepdims != 1)
        return ir_infer_error(ctx, "attribute 'keepdims' is %lld; it must be 0 or 1",
                              (long long)keepdims);
    if (inf_has(ctx, 1)) {
        o2p_dtype t = inf_dtype(ctx, 1);
        if (t != O2P_DTYPE_UNDEFINED && t != O2P_DTYPE_INT32 && t != O2P_DTYPE_INT64)
            return ir_infer_error(ctx, "split '%s' is %s; it must be int32 or int64",
                                  inf_name(ctx, 1), o2p_dtype_name(t));
        O2P_TRY(inf_need_list(ctx, 1, "split"));
    }
    int rank = inf_rank(ctx, 0), axis = 0;
    if (rank >= 0)
        O2P_TRY(inf_axis(ctx, ir_attr_int(ctx->layer, "axis", 0), rank, "axis", &axis));
    return out_sequence(ctx, 0, inf_dtype(ctx, 0));
}

/* SequenceMap: every output is a sequence of what the body gives; the body itself is
 * inferred once per element, when the sequence pass unrolls it. */
INF_FN(inf_sequence_map)
{
    ir_graph *body = ir_attr_graph(ctx->layer, "body");
    if (!body)
        return ir_infer_error(ctx, "the graph attribute 'body' is required");
    if (!is_sequence(in_vtype(ctx, 0)) && in_vtype(ctx, 0) != IR_VALUE_TENSOR)
        return ir_infer_error(ctx, "input '%s' must be a sequence", inf_name(ctx, 0));
    if (body->inputs.count != ctx->layer->num_inputs ||
        body->outputs.count != ctx->layer->num_outputs)
        return ir_infer_error(ctx, "the body has %d inputs and %d outputs; the node has %d and "
                              "%d", body->inputs.count, body->outputs.count,
                              ctx->layer->num_inputs, ctx->layer->num_outputs);
    for (int i = 0; i < ctx->layer->num_outputs; i++) {
        const ir_tensor *b = body->outputs.items[i];
        o2p_dtype dt = b->dtype != O2P_DTYPE_UNDEFINED ? b->dtype
                       : b->has_declared           ? b->declared_dtype
                                                   : O2P_DTYPE_UNDEFINED;
        O2P_TRY(out_sequence(ctx, i, dt));
    }
    return O2P_OK;
}

INF_FN(inf_optional)
{
    if (inf_has(ctx, 0)) {
        int seq = is_sequence(in_vtype(ctx, 0));
        ir_shape s;
        inf_shape(ctx, 0, &s);
        set_vtype(ctx, 0, seq ? IR_VALUE_OPTIONAL_SEQUENCE : IR_VALUE_OPTIONAL);
        return inf_out(ctx, 0, inf_dtype(ctx, 0), seq ? NULL : &s);
    }
    /* An empty optional: its type attribute is kept by kind only, so the type is what the
     * model declares for the output (the parser set it), a tensor when it declares none. */
    ir_tensor *t = ctx->layer->num_outputs ? ctx->layer->outputs[0] : NULL;
    if (t && t->vtype != IR_VALUE_OPTIONAL && t->vtype != IR_VALUE_OPTIONAL_SEQUENCE)
        t->vtype = IR_VALUE_OPTIONAL;
    if (t && t->has_declared)
        return inf_out(ctx, 0, t->declared_dtype,
                       t->vtype == IR_VALUE_OPTIONAL ? &t->declared_shape : NULL);
    return O2P_OK;
}

INF_FN(inf_optional_has_element)
{
    ir_shape s;
    inf_shape_rank(&s, 0);
    set_vtype(ctx, 0, IR_VALUE_TENSOR);
    return inf_out(ctx, 0, O2P_DTYPE_BOOL, &s);
}

INF_FN(inf_optional_get_element)
{
    int seq = is_sequence(in_vtype(ctx, 0));
    set_vtype(ctx, 0, seq ? IR_VALUE_SEQUENCE : IR_VALUE_TENSOR);
    ir_shape s;
    inf_shape(ctx, 0, &s);
    return inf_out(ctx, 0, inf_dtype(ctx, 0), seq ? NULL : &s);
}
