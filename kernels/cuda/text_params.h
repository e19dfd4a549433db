/* text_params.h: the parameter structs of the text kernel family (kernels/cuda/text.cu),
 * filled by src/codegen/lower_text.c: TfIdfVectorizer. Layout rules in o2p_params.h; each
 * struct's size is asserted on both sides. */
#ifndef O2P_TEXT_PARAMS_H
#define O2P_TEXT_PARAMS_H

#include "o2p_params.h"

#define O2P_TEXT_TF 0
#define O2P_TEXT_IDF 1
#define O2P_TEXT_TFIDF 2

/* ---- TfIdfVectorizer, one thread per output element (row, column) of Y [rows, columns]:
 * the sum, over the n-grams g of that column, of g's occurrences in row `row` of X (len
 * tokens): a unigram once per position; a longer one once per (start, skip <= max_skip)
 * with its tokens skip + 1 apart. Then TF: the count; IDF: weights[column] (or 1) when the
 * count is not 0, else 0; TFIDF: the count times weights[column] (or 1).
 *
 * The n-gram table is a constant of the layer (int64 elements, made by the lowering from the
 * attributes): columns + 1 offsets (column c's n-grams are gram_begin[c] .. gram_begin[c+1]
 * - 1; the n-grams are sorted by column), then per n-gram its first token's index in the
 * token list and its length (at grams_at + 2 * g), then the tokens (at tokens_at). The
 * weights, when the model has some, are a float constant of `columns` values. */
typedef struct o2p_text_tfidf_params {
    o2p_u64 x_ptr;       /* int32 or int64 token ids [rows, len] */
    o2p_u64 y_ptr;       /* float [rows, columns] */
    o2p_u64 table_ptr;   /* int64 n-gram table (above) */
    o2p_u64 weights_ptr; /* float [columns], or 0 */
    o2p_i64 total;       /* rows * columns */
    o2p_i64 len;
    o2p_i64 columns;
    o2p_i64 max_skip;
    o2p_i64 grams_at;  /* columns + 1 */
    o2p_i64 tokens_at; /* grams_at + 2 * n-grams */
    o2p_i32 x_int64;   /* 1: X is int64; 0: int32 */
    o2p_i32 mode;      /* O2P_TEXT_* */
} o2p_text_tfidf_params;

#endif
