/* infer_text.c: shape inference of the text operators: TfIdfVectorizer (opset 9), [C] ->
 * [max(ngram_indexes) + 1] and [N, C] -> [N, max(ngram_indexes) + 1], float. The other
 * attributes are checked by the kernels (kernels/host/text.c builds the n-gram table). */
#include <string.h>

#include "ir/infer_ops.h"

o2p_status inf_tfidf(ir_infer_ctx *ctx)
{
    o2p_dtype t = inf_dtype(ctx, 0);
    const ir_attr *strings = ir_attr_find(ctx->layer, "pool_strings");
    if (t == O2P_DTYPE_STRING || (strings && strings->count > 0))
        return ir_infer_error(ctx,
                              "string tokens (pool_strings, string input '%s') are not "
                              "supported: onnx2plan has no string tensors; map the tokens "
                              "to int64 ids and use pool_int64s",
                              inf_name(ctx, 0));
    if (t != O2P_DTYPE_UNDEFINED && t != O2P_DTYPE_INT32 && t != O2P_DTYPE_INT64)
        return ir_infer_error(ctx, "input '%s' is %s; TfIdfVectorizer takes int32 or int64",
                              inf_name(ctx, 0), o2p_dtype_name(t));
    const char *mode = ir_attr_string(ctx->layer, "mode", "");
    if (strcmp(mode, "TF") != 0 && strcmp(mode, "IDF") != 0 && strcmp(mode, "TFIDF") != 0)
        return ir_infer_error(ctx, "mode '%s' is not TF, IDF or TFIDF", mode);
    if (!ir_attr_find(ctx->layer, "pool_int64s"))
        return ir_infer_error(ctx, "attribute pool_int64s is required");
    int n = 0;
    const int64_t *indexes = ir_attr_ints(ctx->layer, "ngram_indexes", &n);
    if (!indexes || n < 1)
        return ir_infer_error(ctx, "attribute ngram_indexes is required and must not be empty");
    int64_t max_index = 0;
    for (int i = 0; i < n; i++) {
        if (indexes[i] < 0 || indexes[i] == INT64_MAX)
            return ir_infer_error(ctx, "ngram_indexes[%d] is %lld; it must be a column index", i,
                                  (long long)indexes[i]);
        if (indexes[i] > max_index)
            max_index = indexes[i];
    }
    int rank = inf_rank(ctx, 0);
    if (rank > 2)
        return ir_infer_error(ctx, "input '%s' has rank %d; it must be [C] or [N, C]",
                              inf_name(ctx, 0), rank);
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    inf_shape_rank(&o, rank == 2 ? 2 : 1);
    if (rank < 0) /* [C] or [N, C]: the rank follows the input's */
        return inf_out_unknown(ctx, 0, O2P_DTYPE_FLOAT);
    if (rank == 2)
        o.dims[0] = x.dims[0];
    o.dims[o.rank - 1] = inf_dim(max_index + 1);
    return inf_out(ctx, 0, O2P_DTYPE_FLOAT, &o);
}
