/* infer_ops.h: the shape-inference functions of the operators (one file per op family,
 * infer_*.c) and the helpers they share (infer_common.c); ops.c lists them in the op table.
 * Internal to src/ir: the rest of onnx2plan reaches inference through ir.h only. */
#ifndef O2P_INFER_OPS_H
#define O2P_INFER_OPS_H

#include <string.h>

#include "ir/ir.h"

/* ---- inputs */

/* The input's element type (UNDEFINED when omitted or not known). */
o2p_dtype inf_dtype(const ir_infer_ctx *ctx, int i);
/* Copies input i's shape (unknown rank when omitted). */
void inf_shape(const ir_infer_ctx *ctx, int i, ir_shape *out);
/* Input i's rank, -1 when omitted or unknown. */
int inf_rank(const ir_infer_ctx *ctx, int i);
/* Input i's name for messages ("<omitted>" when omitted). */
const char *inf_name(const ir_infer_ctx *ctx, int i);
/* Whether input i is present (not omitted). */
int inf_has(const ir_infer_ctx *ctx, int i);
/* Fails unless input i (a list: axes, pads, sizes, a shape) is 1-D or of unknown rank. */
o2p_status inf_need_list(const ir_infer_ctx *ctx, int i, const char *what);
/* Values of input i (ir_input_values), also for bool tensors. */
int inf_values(const ir_infer_ctx *ctx, int i, ir_values *v);
/* All int values of input i when every one is known and there are at most cap: 1 and *n
 * set; 0 otherwise (callers check lengths themselves, with inf_len1d). */
int inf_ints(const ir_infer_ctx *ctx, int i, int64_t *out, int cap, int *n);
/* A known scalar (or one-element) int input. */
int inf_int_scalar(const ir_infer_ctx *ctx, int i, int64_t *out);
/* Float values of a constant input (any numeric type) or of known int values: 1 when all
 * of them were read and there are at most cap; 0 otherwise. */
int inf_floats(const ir_infer_ctx *ctx, int i, double *out, int cap, int *n);
/* A known scalar (or one-element) numeric input as a double: constant data or known value. */
int inf_num_scalar(const ir_infer_ctx *ctx, int i, double *out);
/* Element count of a rank-0/1 input with a static shape, or -1. */
int64_t inf_len1d(const ir_infer_ctx *ctx, int i);

/* ---- values of any rank: row-major, at most IR_MAX_VALUES elements, static shapes.
 * Coordinates and flat indices are ints: every such tensor has at most IR_MAX_VALUES
 * elements. */

/* Element count of a static shape when it is at most IR_MAX_VALUES; -1 otherwise. */
int inf_small_numel(const ir_shape *s);
/* Values of input i with its static shape: 1 when the input carries values and its shape
 * is static with exactly that many elements (a 1-D input of unknown length takes the count
 * of its values). */
int inf_values_static(const ir_infer_ctx *ctx, int i, ir_values *v, ir_shape *s);
/* Sets output i's values when shape s is static with exactly v->count elements; does
 * nothing otherwise, so values never disagree with the shape they are for. */
o2p_status inf_out_values(ir_infer_ctx *ctx, int i, const ir_shape *s, const ir_values *v);
/* Coordinates of flat index k in static shape s (at most IR_MAX_VALUES elements). */
void inf_coords(const ir_shape *s, int k, int *c);
/* Flat index of coordinates c in static shape s; -1 when one is out of range. */
int inf_flat_index(const ir_shape *s, const int *c);
/* Flat index into `in` of element k of `out` when `in` is broadcast to `out` (numpy
 * rules: trailing axes aligned, size-1 axes repeated); -1 when it does not broadcast. */
int inf_broadcast_index(const ir_shape *in, const ir_shape *out, int k);

/* ---- attributes: INTS with a length check. Returns the count (-1 when absent); fails when
 * longer than cap. */
o2p_status inf_attr_ints(const ir_infer_ctx *ctx, const char *name, int64_t *out, int cap,
                         int *count);

/* ---- dims and shapes */
static inline ir_dim inf_dim(int64_t v)
{
    ir_dim d = {v >= 0 ? v : -1, NULL, 0};
    return d;
}
/* Known and equal, or the same symbol. */
int inf_dim_same(ir_dim a, ir_dim b);
void inf_shape_rank(ir_shape *s, int rank); /* rank known, every dim unknown */
/* Product of n dims: known when all known (overflow is an error), a symbol when exactly one
 * symbol and the other dims are 1, 0 when one is known 0, unknown otherwise. */
o2p_status inf_dims_product(const ir_infer_ctx *ctx, const ir_dim *dims, int n, ir_dim *out);
/* a*b, a+b with the same rules (a symbol times 1 or plus 0 stays the symbol). */
o2p_status inf_dim_mul(const ir_infer_ctx *ctx, ir_dim a, ir_dim b, ir_dim *out);
o2p_status inf_dim_add(const ir_infer_ctx *ctx, ir_dim a, ir_dim b, ir_dim *out);
/* An axis in [-rank, rank) normalized, or an error naming input `what`. */
o2p_status inf_axis(const ir_infer_ctx *ctx, int64_t axis, int rank, const char *what, int *out);
/* Merges b into a (equal ranks, dims unified); mismatch of two known dims is an error naming
 * both inputs. Unknown rank on one side takes the other. */
o2p_status inf_merge_shapes(const ir_infer_ctx *ctx, ir_shape *a, const ir_shape *b,
                            const char *what_a, const char *what_b);
/* Dim from a value entry: known non-negative value, or the symbol, or unknown. */
ir_dim inf_dim_from_value(const ir_value_entry *e);
ir_value_entry inf_value_from_dim(ir_dim d);
/* Requires rank == want when known; error otherwise. */
o2p_status inf_need_rank(const ir_infer_ctx *ctx, int i, int want);
/* Requires rank >= want when known; error otherwise. */
o2p_status inf_need_min_rank(const ir_infer_ctx *ctx, int i, int want);
/* Both dtypes known and different: an error naming the two inputs. */
o2p_status inf_same_dtype(const ir_infer_ctx *ctx, int i, int j);

/* ---- outputs */
o2p_status inf_out(ir_infer_ctx *ctx, int i, o2p_dtype dtype, const ir_shape *shape);
/* Output i is input j's dtype and shape (and values, when it carries them). */
o2p_status inf_out_like(ir_infer_ctx *ctx, int i, int j);
/* Output i: dtype, unknown rank. */
o2p_status inf_out_unknown(ir_infer_ctx *ctx, int i, o2p_dtype dtype);

/* ---- subgraphs (control flow) */
/* Forgets what inference found in g and the graphs nested in it (activations only), so a
 * body can be inferred again with looser inputs. */
void inf_reset_graph(ir_network *net, ir_graph *g);

/* ---- the inference functions, by family. */
#define INF_FN(name) o2p_status name(ir_infer_ctx *ctx)

/* infer_elementwise.c */
INF_FN(inf_unary);
INF_FN(inf_unary_values);
INF_FN(inf_unary_bool);
INF_FN(inf_not);
INF_FN(inf_binary);
INF_FN(inf_compare);
INF_FN(inf_logical);
INF_FN(inf_pow);
INF_FN(inf_prelu);
INF_FN(inf_variadic);
INF_FN(inf_where);
INF_FN(inf_cast);
INF_FN(inf_castlike);
INF_FN(inf_clip);
INF_FN(inf_identity);

/* infer_tensor.c */
INF_FN(inf_constant);
INF_FN(inf_shape_op);
INF_FN(inf_size);
INF_FN(inf_constant_of_shape);
INF_FN(inf_range);
INF_FN(inf_reshape);
INF_FN(inf_flatten);
INF_FN(inf_transpose);
INF_FN(inf_squeeze);
INF_FN(inf_unsqueeze);
INF_FN(inf_concat);
INF_FN(inf_split);
INF_FN(inf_slice);
INF_FN(inf_gather);
INF_FN(inf_gather_elements);
INF_FN(inf_gather_nd);
INF_FN(inf_scatter);
INF_FN(inf_expand);
INF_FN(inf_tile);
INF_FN(inf_pad);
INF_FN(inf_resize);
INF_FN(inf_upsample);
INF_FN(inf_depth_to_space);
INF_FN(inf_space_to_depth);
INF_FN(inf_topk);
INF_FN(inf_argminmax);
INF_FN(inf_reduce);
INF_FN(inf_cumsum);
INF_FN(inf_nonzero);
INF_FN(inf_onehot);
INF_FN(inf_trilu);
INF_FN(inf_compress);
INF_FN(inf_unique);
INF_FN(inf_eyelike);
INF_FN(inf_random);
INF_FN(inf_random_like);
INF_FN(inf_bernoulli);
INF_FN(inf_multinomial);
INF_FN(inf_center_crop_pad);
INF_FN(inf_reverse_sequence);
INF_FN(inf_einsum);

/* infer_nn.c */
INF_FN(inf_conv);
INF_FN(inf_conv_integer);
INF_FN(inf_qlinear_conv);
INF_FN(inf_conv_transpose);
INF_FN(inf_pool);
INF_FN(inf_global_pool);
INF_FN(inf_batchnorm);
INF_FN(inf_instancenorm);
INF_FN(inf_layernorm);
INF_FN(inf_groupnorm);
INF_FN(inf_norm_same);
INF_FN(inf_dropout);
INF_FN(inf_gemm);
INF_FN(inf_matmul);
INF_FN(inf_matmul_integer);
INF_FN(inf_qlinear_matmul);
INF_FN(inf_quantize);
INF_FN(inf_dequantize);
INF_FN(inf_dynamic_quantize);
INF_FN(inf_softmax);
INF_FN(inf_rnn);
INF_FN(inf_roi_align);
INF_FN(inf_max_roi_pool);
INF_FN(inf_max_unpool);
INF_FN(inf_nms);
INF_FN(inf_grid_sample);
INF_FN(inf_col2im);
INF_FN(inf_det);
INF_FN(inf_nll_loss);
INF_FN(inf_sce_loss);

/* infer_signal.c */
INF_FN(inf_dft);
INF_FN(inf_stft);
INF_FN(inf_window);
INF_FN(inf_mel_weight_matrix);

/* infer_text.c */
INF_FN(inf_tfidf);

/* infer_gradient.c */
INF_FN(inf_gradient);

/* infer_training.c (domain ai.onnx.preview.training) */
INF_FN(inf_adagrad);
INF_FN(inf_adam);
INF_FN(inf_momentum);

/* infer_control.c */
INF_FN(inf_if);
INF_FN(inf_loop);
INF_FN(inf_scan);

/* infer_sequence.c */
INF_FN(inf_sequence_empty);
INF_FN(inf_sequence_construct);
INF_FN(inf_sequence_insert);
INF_FN(inf_sequence_erase);
INF_FN(inf_sequence_at);
INF_FN(inf_sequence_length);
INF_FN(inf_concat_from_sequence);
INF_FN(inf_split_to_sequence);
INF_FN(inf_sequence_map);
INF_FN(inf_optional);
INF_FN(inf_optional_has_element);
INF_FN(inf_optional_get_element);

#endif
