/* ops.c: the operator table: every operator onnx2plan imports, with its input and output
 * counts (over every opset it supports) and its shape-inference function. The table is
 * sorted by (domain, op type) in byte order, so lookups are a binary search. */
#include <stdlib.h>
#include <string.h>

#include "ir/infer_ops.h"

/* The newest default-domain opset whose operators and semantics the table covers. A few
 * opset-18 operators (BitwiseAnd/Or/Xor/Not, CenterCropPad, Col2Im, GroupNormalization,
 * Mish) and changes (the axes input of the reductions and Pad, Split's num_outputs,
 * Resize's axes and keep_aspect_ratio_policy) are handled too, but not all of opset 18: the
 * parser warns about models of a newer opset. */
#define O2P_MAX_OPSET 17

int64_t o2p_max_opset(void)
{
    return O2P_MAX_OPSET;
}

/* Sorted by domain then op type (strcmp order); tests/unit/test_infer.c checks the order.
 * Inputs and outputs: min, max (-1 for variadic). */
static const ir_op ir_op_table[] = {
    {"", "Abs", 1, 1, 1, 1, inf_unary_values},
    {"", "Acos", 1, 1, 1, 1, inf_unary},
    {"", "Acosh", 1, 1, 1, 1, inf_unary},
    {"", "Add", 2, 2, 1, 1, inf_binary},
    {"", "And", 2, 2, 1, 1, inf_logical},
    {"", "ArgMax", 1, 1, 1, 1, inf_argminmax},
    {"", "ArgMin", 1, 1, 1, 1, inf_argminmax},
    {"", "Asin", 1, 1, 1, 1, inf_unary},
    {"", "Asinh", 1, 1, 1, 1, inf_unary},
    {"", "Atan", 1, 1, 1, 1, inf_unary},
    {"", "Atanh", 1, 1, 1, 1, inf_unary},
    {"", "AveragePool", 1, 1, 1, 1, inf_pool},
    {"", "BatchNormalization", 5, 5, 1, 5, inf_batchnorm},
    {"", "Bernoulli", 1, 1, 1, 1, inf_bernoulli},
    {"", "BitShift", 2, 2, 1, 1, inf_binary},
    {"", "BitwiseAnd", 2, 2, 1, 1, inf_binary},
    {"", "BitwiseNot", 1, 1, 1, 1, inf_unary},
    {"", "BitwiseOr", 2, 2, 1, 1, inf_binary},
    {"", "BitwiseXor", 2, 2, 1, 1, inf_binary},
    {"", "BlackmanWindow", 1, 1, 1, 1, inf_window},
    {"", "Cast", 1, 1, 1, 1, inf_cast},
    {"", "CastLike", 2, 2, 1, 1, inf_castlike},
    {"", "Ceil", 1, 1, 1, 1, inf_unary},
    {"", "Celu", 1, 1, 1, 1, inf_unary},
    {"", "CenterCropPad", 2, 2, 1, 1, inf_center_crop_pad},
    {"", "Clip", 1, 3, 1, 1, inf_clip},
    {"", "Col2Im", 3, 3, 1, 1, inf_col2im},
    {"", "Compress", 2, 2, 1, 1, inf_compress},
    {"", "Concat", 1, -1, 1, 1, inf_concat},
    {"", "ConcatFromSequence", 1, 1, 1, 1, inf_concat_from_sequence},
    {"", "Constant", 0, 0, 1, 1, inf_constant},
    {"", "ConstantOfShape", 1, 1, 1, 1, inf_constant_of_shape},
    {"", "Conv", 2, 3, 1, 1, inf_conv},
    {"", "ConvInteger", 2, 4, 1, 1, inf_conv_integer},
    {"", "ConvTranspose", 2, 3, 1, 1, inf_conv_transpose},
    {"", "Cos", 1, 1, 1, 1, inf_unary},
    {"", "Cosh", 1, 1, 1, 1, inf_unary},
    {"", "CumSum", 2, 2, 1, 1, inf_cumsum},
    {"", "DFT", 1, 2, 1, 1, inf_dft},
    {"", "DepthToSpace", 1, 1, 1, 1, inf_depth_to_space},
    {"", "DequantizeLinear", 2, 3, 1, 1, inf_dequantize},
    {"", "Det", 1, 1, 1, 1, inf_det},
    {"", "Div", 2, 2, 1, 1, inf_binary},
    {"", "Dropout", 1, 3, 1, 2, inf_dropout},
    {"", "DynamicQuantizeLinear", 1, 1, 3, 3, inf_dynamic_quantize},
    {"", "Einsum", 1, -1, 1, 1, inf_einsum},
    {"", "Elu", 1, 1, 1, 1, inf_unary},
    {"", "Equal", 2, 2, 1, 1, inf_compare},
    {"", "Erf", 1, 1, 1, 1, inf_unary},
    {"", "Exp", 1, 1, 1, 1, inf_unary},
    {"", "Expand", 2, 2, 1, 1, inf_expand},
    {"", "EyeLike", 1, 1, 1, 1, inf_eyelike},
    {"", "Flatten", 1, 1, 1, 1, inf_flatten},
    {"", "Floor", 1, 1, 1, 1, inf_unary},
    {"", "GRU", 3, 6, 0, 2, inf_rnn},
    {"", "Gather", 2, 2, 1, 1, inf_gather},
    {"", "GatherElements", 2, 2, 1, 1, inf_gather_elements},
    {"", "GatherND", 2, 2, 1, 1, inf_gather_nd},
    {"", "Gemm", 2, 3, 1, 1, inf_gemm},
    {"", "GlobalAveragePool", 1, 1, 1, 1, inf_global_pool},
    {"", "GlobalLpPool", 1, 1, 1, 1, inf_global_pool},
    {"", "GlobalMaxPool", 1, 1, 1, 1, inf_global_pool},
    {"", "Greater", 2, 2, 1, 1, inf_compare},
    {"", "GreaterOrEqual", 2, 2, 1, 1, inf_compare},
    {"", "GridSample", 2, 2, 1, 1, inf_grid_sample},
    {"", "GroupNormalization", 3, 3, 1, 1, inf_groupnorm},
    {"", "HammingWindow", 1, 1, 1, 1, inf_window},
    {"", "HannWindow", 1, 1, 1, 1, inf_window},
    {"", "HardSigmoid", 1, 1, 1, 1, inf_unary},
    {"", "HardSwish", 1, 1, 1, 1, inf_unary},
    {"", "Hardmax", 1, 1, 1, 1, inf_softmax},
    {"", "Identity", 1, 1, 1, 1, inf_identity},
    {"", "If", 1, 1, 1, -1, inf_if},
    {"", "InstanceNormalization", 3, 3, 1, 1, inf_instancenorm},
    {"", "IsInf", 1, 1, 1, 1, inf_unary_bool},
    {"", "IsNaN", 1, 1, 1, 1, inf_unary_bool},
    {"", "LRN", 1, 1, 1, 1, inf_norm_same},
    {"", "LSTM", 3, 8, 0, 3, inf_rnn},
    {"", "LayerNormalization", 2, 3, 1, 3, inf_layernorm},
    {"", "LeakyRelu", 1, 1, 1, 1, inf_unary},
    {"", "Less", 2, 2, 1, 1, inf_compare},
    {"", "LessOrEqual", 2, 2, 1, 1, inf_compare},
    {"", "Log", 1, 1, 1, 1, inf_unary},
    {"", "LogSoftmax", 1, 1, 1, 1, inf_softmax},
    {"", "Loop", 2, -1, 1, -1, inf_loop},
    {"", "LpNormalization", 1, 1, 1, 1, inf_norm_same},
    {"", "LpPool", 1, 1, 1, 1, inf_pool},
    {"", "MatMul", 2, 2, 1, 1, inf_matmul},
    {"", "MatMulInteger", 2, 4, 1, 1, inf_matmul_integer},
    {"", "Max", 1, -1, 1, 1, inf_variadic},
    {"", "MaxPool", 1, 1, 1, 2, inf_pool},
    {"", "MaxRoiPool", 2, 2, 1, 1, inf_max_roi_pool},
    {"", "MaxUnpool", 2, 3, 1, 1, inf_max_unpool},
    {"", "Mean", 1, -1, 1, 1, inf_variadic},
    {"", "MeanVarianceNormalization", 1, 1, 1, 1, inf_norm_same},
    {"", "MelWeightMatrix", 5, 5, 1, 1, inf_mel_weight_matrix},
    {"", "Min", 1, -1, 1, 1, inf_variadic},
    {"", "Mish", 1, 1, 1, 1, inf_unary},
    {"", "Mod", 2, 2, 1, 1, inf_binary},
    {"", "Mul", 2, 2, 1, 1, inf_binary},
    {"", "Multinomial", 1, 1, 1, 1, inf_multinomial},
    {"", "Neg", 1, 1, 1, 1, inf_unary_values},
    {"", "NegativeLogLikelihoodLoss", 2, 3, 1, 1, inf_nll_loss},
    {"", "NonMaxSuppression", 2, 5, 1, 1, inf_nms},
    {"", "NonZero", 1, 1, 1, 1, inf_nonzero},
    {"", "Not", 1, 1, 1, 1, inf_not},
    {"", "OneHot", 3, 3, 1, 1, inf_onehot},
    {"", "Optional", 0, 1, 1, 1, inf_optional},
    {"", "OptionalGetElement", 1, 1, 1, 1, inf_optional_get_element},
    {"", "OptionalHasElement", 0, 1, 1, 1, inf_optional_has_element},
    {"", "Or", 2, 2, 1, 1, inf_logical},
    {"", "PRelu", 2, 2, 1, 1, inf_prelu},
    {"", "Pad", 1, 4, 1, 1, inf_pad},
    {"", "Pow", 2, 2, 1, 1, inf_pow},
    {"", "QLinearConv", 8, 9, 1, 1, inf_qlinear_conv},
    {"", "QLinearMatMul", 8, 8, 1, 1, inf_qlinear_matmul},
    {"", "QuantizeLinear", 2, 3, 1, 1, inf_quantize},
    {"", "RNN", 3, 6, 0, 2, inf_rnn},
    {"", "RandomNormal", 0, 0, 1, 1, inf_random},
    {"", "RandomNormalLike", 1, 1, 1, 1, inf_random_like},
    {"", "RandomUniform", 0, 0, 1, 1, inf_random},
    {"", "RandomUniformLike", 1, 1, 1, 1, inf_random_like},
    {"", "Range", 3, 3, 1, 1, inf_range},
    {"", "Reciprocal", 1, 1, 1, 1, inf_unary},
    {"", "ReduceL1", 1, 2, 1, 1, inf_reduce},
    {"", "ReduceL2", 1, 2, 1, 1, inf_reduce},
    {"", "ReduceLogSum", 1, 2, 1, 1, inf_reduce},
    {"", "ReduceLogSumExp", 1, 2, 1, 1, inf_reduce},
    {"", "ReduceMax", 1, 2, 1, 1, inf_reduce},
    {"", "ReduceMean", 1, 2, 1, 1, inf_reduce},
    {"", "ReduceMin", 1, 2, 1, 1, inf_reduce},
    {"", "ReduceProd", 1, 2, 1, 1, inf_reduce},
    {"", "ReduceSum", 1, 2, 1, 1, inf_reduce},
    {"", "ReduceSumSquare", 1, 2, 1, 1, inf_reduce},
    {"", "Relu", 1, 1, 1, 1, inf_unary_values},
    {"", "Reshape", 1, 2, 1, 1, inf_reshape},
    {"", "Resize", 1, 4, 1, 1, inf_resize},
    {"", "ReverseSequence", 2, 2, 1, 1, inf_reverse_sequence},
    {"", "RoiAlign", 3, 3, 1, 1, inf_roi_align},
    {"", "Round", 1, 1, 1, 1, inf_unary},
    {"", "STFT", 2, 4, 1, 1, inf_stft},
    {"", "Scan", 1, -1, 1, -1, inf_scan},
    {"", "Scatter", 3, 3, 1, 1, inf_scatter},
    {"", "ScatterElements", 3, 3, 1, 1, inf_scatter},
    {"", "ScatterND", 3, 3, 1, 1, inf_scatter},
    {"", "Selu", 1, 1, 1, 1, inf_unary},
    {"", "SequenceAt", 2, 2, 1, 1, inf_sequence_at},
    {"", "SequenceConstruct", 1, -1, 1, 1, inf_sequence_construct},
    {"", "SequenceEmpty", 0, 0, 1, 1, inf_sequence_empty},
    {"", "SequenceErase", 1, 2, 1, 1, inf_sequence_erase},
    {"", "SequenceInsert", 2, 3, 1, 1, inf_sequence_insert},
    {"", "SequenceLength", 1, 1, 1, 1, inf_sequence_length},
    {"", "SequenceMap", 1, -1, 1, -1, inf_sequence_map},
    {"", "Shape", 1, 1, 1, 1, inf_shape_op},
    {"", "Shrink", 1, 1, 1, 1, inf_unary},
    {"", "Sigmoid", 1, 1, 1, 1, inf_unary},
    {"", "Sign", 1, 1, 1, 1, inf_unary_values},
    {"", "Sin", 1, 1, 1, 1, inf_unary},
    {"", "Sinh", 1, 1, 1, 1, inf_unary},
    {"", "Size", 1, 1, 1, 1, inf_size},
    {"", "Slice", 1, 5, 1, 1, inf_slice},
    {"", "Softmax", 1, 1, 1, 1, inf_softmax},
    {"", "SoftmaxCrossEntropyLoss", 2, 3, 1, 2, inf_sce_loss},
    {"", "Softplus", 1, 1, 1, 1, inf_unary},
    {"", "Softsign", 1, 1, 1, 1, inf_unary},
    {"", "SpaceToDepth", 1, 1, 1, 1, inf_space_to_depth},
    {"", "Split", 1, 2, 1, -1, inf_split},
    {"", "SplitToSequence", 1, 2, 1, 1, inf_split_to_sequence},
    {"", "Sqrt", 1, 1, 1, 1, inf_unary},
    {"", "Squeeze", 1, 2, 1, 1, inf_squeeze},
    {"", "Sub", 2, 2, 1, 1, inf_binary},
    {"", "Sum", 1, -1, 1, 1, inf_variadic},
    {"", "Tan", 1, 1, 1, 1, inf_unary},
    {"", "Tanh", 1, 1, 1, 1, inf_unary},
    {"", "TfIdfVectorizer", 1, 1, 1, 1, inf_tfidf},
    {"", "ThresholdedRelu", 1, 1, 1, 1, inf_unary},
    {"", "Tile", 2, 3, 1, 1, inf_tile},
    {"", "TopK", 1, 2, 2, 2, inf_topk},
    {"", "Transpose", 1, 1, 1, 1, inf_transpose},
    {"", "Trilu", 1, 2, 1, 1, inf_trilu},
    {"", "Unique", 1, 1, 1, 4, inf_unique},
    {"", "Unsqueeze", 1, 2, 1, 1, inf_unsqueeze},
    {"", "Upsample", 1, 2, 1, 1, inf_upsample},
    {"", "Where", 3, 3, 1, 1, inf_where},
    {"", "Xor", 2, 2, 1, 1, inf_logical},
    {"ai.onnx.preview.training", "Adagrad", 5, -1, 1, -1, inf_adagrad},
    {"ai.onnx.preview.training", "Adam", 6, -1, 1, -1, inf_adam},
    {"ai.onnx.preview.training", "Gradient", 1, -1, 1, -1, inf_gradient},
    {"ai.onnx.preview.training", "Momentum", 5, -1, 1, -1, inf_momentum},
};

#define IR_OP_COUNT ((int)(sizeof ir_op_table / sizeof ir_op_table[0]))

static int op_cmp(const char *domain, const char *op_type, const ir_op *op)
{
    int c = strcmp(domain, op->domain);
    return c ? c : strcmp(op_type, op->op_type);
}

const ir_op *ir_op_find(const char *domain, const char *op_type)
{
    if (!op_type)
        return NULL;
    if (!domain || strcmp(domain, "ai.onnx") == 0)
        domain = "";
    int lo = 0, hi = IR_OP_COUNT - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = op_cmp(domain, op_type, &ir_op_table[mid]);
        if (c == 0)
            return &ir_op_table[mid];
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

int ir_op_count(void)
{
    return IR_OP_COUNT;
}

const ir_op *ir_op_at(int index)
{
    return index >= 0 && index < IR_OP_COUNT ? &ir_op_table[index] : NULL;
}
