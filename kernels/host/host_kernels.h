/* host_kernels.h: the reference kernels in plain C (DESIGN.md §8, §9). They run the `host`
 * target, evaluate constant folding at build time, and are the oracle the CUDA kernels are
 * tested against. They know nothing of ONNX files or the IR: a kernel gets tensors (element
 * type, shape, data), the layer's attributes and the opset, and writes its outputs.
 *
 * Contract for every kernel:
 * - The caller allocates each output with the dtype and shape that shape inference gave and
 *   sets them in the host_tensor; the kernel fills data. Inputs and outputs never alias.
 * - Data-dependent outputs (NonZero's count, Unique's, NonMaxSuppression's: a dim known only
 *   from the data): the caller allocates the output at its bound shape and sets dims to the
 *   bound; the kernel writes the data packed, row-major, for the actual shape and sets
 *   outputs[k]->dims to the actual dims (each <= the bound; more is an error, never a write
 *   past the bound). The lean runtime reports those dims after the run.
 * - A kernel trusts nothing about its arguments (they may come from a hostile plan): before it
 *   touches memory it checks that input and output ranks, dims and dtypes are what its
 *   semantics give for these attributes, and fails with o2p_fail(O2P_ERR_SHAPE or
 *   O2P_ERR_UNSUPPORTED, "...") otherwise: never an out-of-bounds access.
 * - Full ONNX semantics for the opsets it claims: broadcasting, negative axes, attribute
 *   defaults, opset differences (args->opset is the layer's default-domain opset).
 * - float32 everywhere; integer and bool types where the op defines them; float16/bfloat16/
 *   double computed in float or double as the spec allows. An element type it does not
 *   implement is O2P_ERR_UNSUPPORTED with a message naming the op and the type. */
#ifndef O2P_HOST_KERNELS_H
#define O2P_HOST_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define HOST_MAX_RANK O2P_MAX_RANK

typedef struct host_tensor {
    o2p_dtype dtype;
    int rank;
    int64_t dims[HOST_MAX_RANK];
    void *data; /* packed, row-major, little-endian; bool is one byte (0 or 1) */
} host_tensor;

/* An attribute (the kinds kernels use: INT, FLOAT, STRING, INTS, FLOATS, STRINGS, TENSOR). */
typedef struct host_attr {
    const char *name;
    o2p_attr_type type;
    int64_t i;
    float f;
    const char *s;
    int count; /* list length */
    const int64_t *ints;
    const float *floats;
    const char *const *strings;
    const host_tensor *tensor; /* TENSOR */
} host_attr;

typedef struct host_kernel_args {
    const char *op_type;
    const char *layer_name; /* for messages */
    int64_t opset;
    int num_inputs;
    const host_tensor *const *inputs; /* entries NULL for omitted optional inputs */
    int num_outputs;
    host_tensor *const *outputs; /* entries NULL for omitted optional outputs */
    int num_attrs;
    const host_attr *attrs;
} host_kernel_args;

typedef o2p_status (*host_kernel_fn)(const host_kernel_args *args);

typedef struct host_kernel_entry {
    const char *op_type; /* unique across the domains below (its family's domain) */
    host_kernel_fn run;
} host_kernel_entry;

/* The ONNX domains whose ops have kernels: the default one ("", also spelled "ai.onnx") and
 * the training operators'. A plan stores a layer's op type without its domain, so op types
 * are unique across these domains (a unit test checks it). */
#define HOST_DOMAIN_TRAINING "ai.onnx.preview.training"
/* The canonical name of `domain` ("" for the default domain, NULL and "ai.onnx" included)
 * when kernels exist for its ops; NULL for any other domain. The one place that says which
 * domains the host kernels and the CUDA lowerings take. */
const char *host_kernel_domain(const char *domain);

/* The kernel for an op type of any of those domains, or NULL (how a plan's layer finds it). */
host_kernel_fn host_kernel_find(const char *op_type);
/* The entry of the op (domain, op_type), or NULL: the ops of other domains are not found. */
const host_kernel_entry *host_kernel_lookup(const char *domain, const char *op_type);
int host_kernel_count(void);
const host_kernel_entry *host_kernel_at(int index);

/* Each family file defines its table; registry.c joins them. */
extern const host_kernel_entry host_elementwise_kernels[];
extern const int host_elementwise_kernel_count;
extern const host_kernel_entry host_extra_kernels[];
extern const int host_extra_kernel_count;
extern const host_kernel_entry host_nn_kernels[];
extern const int host_nn_kernel_count;
extern const host_kernel_entry host_signal_kernels[];
extern const int host_signal_kernel_count;
extern const host_kernel_entry host_rnn_kernels[];
extern const int host_rnn_kernel_count;
extern const host_kernel_entry host_select_kernels[];
extern const int host_select_kernel_count;
extern const host_kernel_entry host_tensor_kernels[];
extern const int host_tensor_kernel_count;
extern const host_kernel_entry host_text_kernels[];
extern const int host_text_kernel_count;
/* HOST_DOMAIN_TRAINING's ops (training.c). */
extern const host_kernel_entry host_training_kernels[];
extern const int host_training_kernel_count;

/* ---- helpers shared by the kernels (host_common.c). */

/* Fails with O2P_ERR_SHAPE: "<layer> (<op>): <message>". */
o2p_status host_error(const host_kernel_args *a, const char *fmt, ...) O2P_PRINTF(2, 3);
/* Fails with O2P_ERR_UNSUPPORTED naming the op and the element type. */
o2p_status host_unsupported_dtype(const host_kernel_args *a, o2p_dtype t);

const host_attr *host_attr_find(const host_kernel_args *a, const char *name);
int64_t host_attr_int(const host_kernel_args *a, const char *name, int64_t dflt);
float host_attr_float(const host_kernel_args *a, const char *name, float dflt);
const char *host_attr_string(const host_kernel_args *a, const char *name, const char *dflt);
/* INTS attribute: *count and the array, or NULL with *count 0 when absent. */
const int64_t *host_attr_ints(const host_kernel_args *a, const char *name, int *count);
const float *host_attr_floats(const host_kernel_args *a, const char *name, int *count);

/* Input i or NULL (omitted / out of range); output i likewise. */
const host_tensor *host_in(const host_kernel_args *a, int i);
host_tensor *host_out(const host_kernel_args *a, int i);

/* Element count (0 and *ok = 0 on overflow or a negative dim). */
int64_t host_numel(const host_tensor *t, int *ok);
/* Whether t's shape equals (rank, dims). */
int host_same_shape(const host_tensor *t, int rank, const int64_t *dims);
/* Normalizes an axis in [-rank, rank-1] into [0, rank) (a rank-0 tensor takes 0 and -1);
 * returns 0 when out of range. */
int host_norm_axis(int64_t axis, int rank, int *out);
/* Numpy broadcast of n shapes into (rank, dims); 0 when they do not broadcast. */
int host_broadcast_shape(int n, const host_tensor *const *ts, int *rank, int64_t *dims);
/* Row-major strides of t for broadcasting into an output of rank `rank` and dims `dims`
 * (0 where t's dim is 1 and the output's is not): strides[rank]. */
void host_broadcast_strides(const host_tensor *t, int rank, const int64_t *dims,
                            int64_t *strides);

/* Element i of t as double / int64 (any numeric type or bool); setting likewise, with the
 * conversions of ONNX Cast (float to int truncates toward zero; out-of-range is
 * implementation-defined in ONNX, here it saturates). */
double host_get_f64(const host_tensor *t, int64_t i);
int64_t host_get_i64(const host_tensor *t, int64_t i);
void host_set_f64(host_tensor *t, int64_t i, double v);
void host_set_i64(host_tensor *t, int64_t i, int64_t v);
/* Reads a 1-D (or scalar) int tensor into out (at most cap entries): count or -1. */
int host_read_ints(const host_tensor *t, int64_t *out, int cap);

/* ---- TfIdfVectorizer's n-gram table (text.c): the attributes checked and turned into the
 * n-grams that count, shared with the CUDA lowering so both targets read them alike. */
#define HOST_TFIDF_TF 0
#define HOST_TFIDF_IDF 1
#define HOST_TFIDF_TFIDF 2

typedef struct host_tfidf_gram {
    const int64_t *tokens; /* `length` tokens, into the layer's pool_int64s */
    int length;
    int64_t column;     /* its output column (ngram_indexes entry) */
    int64_t pool_index; /* which n-gram of the pool it is */
} host_tfidf_gram;

typedef struct host_tfidf_table {
    int mode; /* HOST_TFIDF_* */
    int64_t max_skip;
    int64_t columns; /* max(ngram_indexes) + 1 */
    /* The pool's n-grams of lengths min_gram_length..max_gram_length, each once (a repeated
     * one under its last pool entry), sorted by column then pool order; malloc'ed. */
    int num_grams;
    host_tfidf_gram *grams;
    const float *weights; /* per column (num_weights >= columns); NULL: all 1 (and in TF) */
    int num_weights;
} host_tfidf_table;

/* Checks mode, the gram lengths, max_skip_count, pool_int64s (pool_strings is refused as
 * unsupported), ngram_counts, ngram_indexes and weights, and builds the table. */
o2p_status host_tfidf_table_make(const host_kernel_args *a, host_tfidf_table *t);
void host_tfidf_table_free(host_tfidf_table *t);
/* How many times g occurs in the tokens x[0..len): once per start for a unigram; for
 * longer ones once per (start, skip <= max_skip) with every token skip + 1 after the last. */
int64_t host_tfidf_count(const host_tfidf_gram *g, int64_t max_skip, const int64_t *x,
                         int64_t len);
/* The output value of a column that counted `count` n-grams, by mode and weights. */
float host_tfidf_value(const host_tfidf_table *t, int64_t column, int64_t count);
/* The counter-based generator of the random ops: element i of the stream `seed` is a hash of
 * (seed, i), so any element can be drawn alone and the CUDA kernels draw the same values
 * (kernels/cuda/signal.cu, training.cu). mix64 is splitmix64's finalizer. */
static inline uint64_t host_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) for stream element i. */
static inline double host_rand_u01(uint64_t seed, uint64_t i)
{
    return (double)(host_mix64(seed ^ host_mix64(i)) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
