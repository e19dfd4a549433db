/* text_params.h: the parameter structs of the text kernel family (kernels/cuda/text.cu),
 * filled by src/codegen/lower_text.c: TfIdfVectorizer. Layout rules in o2p_params.h; each
 * struct's size is asserted on both sides. */
#ifndef O2P_TEXT_PARAMS_H
#define O2P_TEXT_PARAMS_H

#include "o2p_params.h"

/* The n-gram table travels in the parameter bytes (the plan has no other place for an
 * attribute's table), so it is bounded: a layer beyond these limits is refused at build. */
#define O2P_TEXT_MAX_TOKENS 192  /* tokens of all n-grams together */
#define O2P_TEXT_MAX_GRAMS 128   /* n-grams that count */
#define O2P_TEXT_MAX_WEIGHTS 128 /* output columns, when weights scale them */

#define O2P_TEXT_TF 0
#define O2P_TEXT_IDF 1
#define O2P_TEXT_TFIDF 2

/* ---- TfIdfVectorizer, one thread per output element (row, column) of Y [rows, columns]:
 * the sum, over the n-grams g of that column, of g's occurrences in row `row` of X (len
 * tokens): a unigram once per position; a longer one once per (start, skip <= max_skip)
 * with its tokens skip + 1 apart. Then TF: the count; IDF: weights[column] (or 1) when the
 * count is not 0, else 0; TFIDF: the count times weights[column] (or 1). */
typedef struct o2p_text_tfidf_params {
    o2p_u64 x_ptr; /* int32 or int64 token ids [rows, len] */
    o2p_u64 y_ptr; /* float [rows, columns] */
    o2p_i64 total; /* rows * columns */
    o2p_i64 len;
    o2p_i64 columns;
    o2p_i64 max_skip;
    o2p_i64 tokens[O2P_TEXT_MAX_TOKENS]; /* the n-grams' tokens, one after another */
    o2p_i32 x_int64;                     /* 1: X is int64; 0: int32 */
    o2p_i32 mode;                        /* O2P_TEXT_* */
    o2p_i32 num_grams;
    o2p_i32 has_weights;
    o2p_i32 gram_start[O2P_TEXT_MAX_GRAMS]; /* first token of n-gram g in tokens */
    o2p_i32 gram_length[O2P_TEXT_MAX_GRAMS];
    o2p_i32 gram_column[O2P_TEXT_MAX_GRAMS]; /* its output column */
    o2p_f32 weights[O2P_TEXT_MAX_WEIGHTS];   /* per column, when has_weights */
} o2p_text_tfidf_params;

#endif
