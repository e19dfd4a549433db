/* text.c: the text kernels: TfIdfVectorizer (opset 9) over int32/int64 token ids. The
 * attributes become an n-gram table (host_tfidf_table_make) that the CUDA lowering
 * (src/codegen/lower_text.c) builds too, so both targets read pool, ngram_counts,
 * ngram_indexes and weights the same way; the counting rule is the ONNX reference's (an
 * n-gram is its first token and every (skip + 1)-th after it, for each skip up to
 * max_skip_count; unigrams once per position). String pools and inputs are not supported:
 * onnx2plan has no string tensors. */
#include <stdlib.h>
#include <string.h>

#include "host/host_kernels.h"

static o2p_status need_int(const host_kernel_args *a, const char *name, int64_t *v)
{
    const host_attr *at = host_attr_find(a, name);
    if (!at || at->type != O2P_ATTR_INT)
        return host_error(a, "attribute %s (an int) is required", name);
    *v = at->i;
    return O2P_OK;
}

/* Same length and tokens. */
static int same_gram(const host_tfidf_gram *x, const host_tfidf_gram *y)
{
    return x->length == y->length &&
           memcmp(x->tokens, y->tokens, (size_t)x->length * sizeof *x->tokens) == 0;
}

/* Orders by length, tokens, then pool position: equal n-grams end up next to each other,
 * the last of the pool last. */
static int cmp_content(const void *pa, const void *pb)
{
    const host_tfidf_gram *x = pa, *y = pb;
    if (x->length != y->length)
        return x->length < y->length ? -1 : 1;
    for (int k = 0; k < x->length; k++)
        if (x->tokens[k] != y->tokens[k])
            return x->tokens[k] < y->tokens[k] ? -1 : 1;
    return (x->pool_index > y->pool_index) - (x->pool_index < y->pool_index);
}

static int cmp_column(const void *pa, const void *pb)
{
    const host_tfidf_gram *x = pa, *y = pb;
    if (x->column != y->column)
        return x->column < y->column ? -1 : 1;
    return (x->pool_index > y->pool_index) - (x->pool_index < y->pool_index);
}

o2p_status host_tfidf_table_make(const host_kernel_args *a, host_tfidf_table *t)
{
    memset(t, 0, sizeof *t);
    const char *mode = host_attr_string(a, "mode", NULL);
    if (!mode)
        return host_error(a, "attribute mode (TF, IDF or TFIDF) is required");
    if (strcmp(mode, "TF") == 0)
        t->mode = HOST_TFIDF_TF;
    else if (strcmp(mode, "IDF") == 0)
        t->mode = HOST_TFIDF_IDF;
    else if (strcmp(mode, "TFIDF") == 0)
        t->mode = HOST_TFIDF_TFIDF;
    else
        return host_error(a, "mode '%s' is not TF, IDF or TFIDF", mode);
    int64_t min_n = 0, max_n = 0;
    O2P_TRY(need_int(a, "min_gram_length", &min_n));
    O2P_TRY(need_int(a, "max_gram_length", &max_n));
    O2P_TRY(need_int(a, "max_skip_count", &t->max_skip));
    if (min_n < 1 || max_n < min_n)
        return host_error(a,
                          "min_gram_length %lld and max_gram_length %lld: they must satisfy "
                          "1 <= min_gram_length <= max_gram_length",
                          (long long)min_n, (long long)max_n);
    if (t->max_skip < 0)
        return host_error(a, "max_skip_count is %lld; it must not be negative",
                          (long long)t->max_skip);
    const host_attr *strings = host_attr_find(a, "pool_strings");
    if (strings && strings->count > 0)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): pool_strings is not supported: onnx2plan has no "
                        "string tensors; map the tokens to ids and use pool_int64s",
                        a->layer_name ? a->layer_name : "", a->op_type);
    const host_attr *pool_at = host_attr_find(a, "pool_int64s");
    if (!pool_at || pool_at->type != O2P_ATTR_INTS)
        return host_error(a, "attribute pool_int64s is required");
    const int64_t *pool = pool_at->ints;
    int64_t pool_len = pool_at->count;
    int ncounts = 0, nindexes = 0;
    const int64_t *counts = host_attr_ints(a, "ngram_counts", &ncounts);
    const int64_t *indexes = host_attr_ints(a, "ngram_indexes", &nindexes);
    if (!indexes || nindexes < 1)
        return host_error(a, "attribute ngram_indexes is required and must not be empty");
    int64_t max_index = 0;
    for (int i = 0; i < nindexes; i++) {
        if (indexes[i] < 0 || indexes[i] == INT64_MAX)
            return host_error(a, "ngram_indexes[%d] is %lld; it must be a column index", i,
                              (long long)indexes[i]);
        if (indexes[i] > max_index)
            max_index = indexes[i];
    }
    t->columns = max_index + 1;

    /* Every n-gram of the pool takes the next entry of ngram_indexes, also those of lengths
     * outside [min_gram_length, max_gram_length], which never count. */
    int64_t total = 0;
    for (int g = 0; g < ncounts; g++) {
        int64_t begin = counts[g], end = g + 1 < ncounts ? counts[g + 1] : pool_len;
        if (begin < 0 || begin > end || end > pool_len)
            return host_error(a,
                              "ngram_counts[%d] is %lld: the starts of the n-gram groups "
                              "must not decrease and lie within the pool (%lld items)",
                              g, (long long)begin, (long long)pool_len);
        if ((end - begin) % (g + 1) != 0)
            return host_error(a, "the pool holds %lld items of %d-grams: not a multiple of %d",
                              (long long)(end - begin), g + 1, g + 1);
        total += (end - begin) / (g + 1);
    }
    if (total != nindexes)
        return host_error(a, "the pool holds %lld n-grams but ngram_indexes has %d entries",
                          (long long)total, nindexes);
    if (t->mode != HOST_TFIDF_TF) {
        int nw = 0;
        const float *w = host_attr_floats(a, "weights", &nw);
        if (w && nw > 0) {
            if (nw < t->columns)
                return host_error(a, "weights has %d entries but the output has %lld columns", nw,
                                  (long long)t->columns);
            t->weights = w;
            t->num_weights = nw;
        }
    }

    int64_t kept = 0, id = 0;
    for (int g = 0; g < ncounts; g++) {
        int64_t begin = counts[g], end = g + 1 < ncounts ? counts[g + 1] : pool_len;
        if (g + 1 >= min_n && g + 1 <= max_n)
            kept += (end - begin) / (g + 1);
    }
    if (kept > 0 && !(t->grams = malloc((size_t)kept * sizeof *t->grams)))
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "layer '%s' (%s): out of memory",
                        a->layer_name ? a->layer_name : "", a->op_type);
    for (int g = 0; g < ncounts; g++) {
        int64_t begin = counts[g], end = g + 1 < ncounts ? counts[g + 1] : pool_len;
        for (int64_t at = begin; at < end; at += g + 1, id++) {
            if (g + 1 < min_n || g + 1 > max_n)
                continue;
            host_tfidf_gram *gr = &t->grams[t->num_grams++];
            gr->tokens = pool + at;
            gr->length = g + 1;
            gr->column = indexes[id];
            gr->pool_index = id;
        }
    }
    /* A repeated n-gram counts once, under its last pool entry (the reference's trie keeps
     * the last id it was given). */
    if (t->num_grams > 1) {
        qsort(t->grams, (size_t)t->num_grams, sizeof *t->grams, cmp_content);
        int n = 0;
        for (int i = 0; i < t->num_grams; i++)
            if (i + 1 == t->num_grams || !same_gram(&t->grams[i], &t->grams[i + 1]))
                t->grams[n++] = t->grams[i];
        t->num_grams = n;
        qsort(t->grams, (size_t)t->num_grams, sizeof *t->grams, cmp_column);
    }
    return O2P_OK;
}

void host_tfidf_table_free(host_tfidf_table *t)
{
    free(t->grams);
    memset(t, 0, sizeof *t);
}

int64_t host_tfidf_count(const host_tfidf_gram *g, int64_t max_skip, const int64_t *x, int64_t len)
{
    int64_t count = 0;
    if (g->length == 1) {
        for (int64_t s = 0; s < len; s++)
            count += x[s] == g->tokens[0];
        return count;
    }
    if (len < 1)
        return 0;
    /* skip distances d = skip + 1 with the last token (n - 1) * d after the first in range */
    int64_t dmax = (len - 1) / (g->length - 1);
    if (max_skip < dmax)
        dmax = max_skip + 1;
    for (int64_t d = 1; d <= dmax; d++)
        for (int64_t s = 0; s + (g->length - 1) * d < len; s++) {
            int k = 0;
            while (k < g->length && x[s + k * d] == g->tokens[k])
                k++;
            count += k == g->length;
        }
    return count;
}

float host_tfidf_value(const host_tfidf_table *t, int64_t column, int64_t count)
{
    float w = t->weights ? t->weights[column] : 1.0f;
    switch (t->mode) {
    case HOST_TFIDF_IDF: return count > 0 ? w : 0.0f;
    case HOST_TFIDF_TFIDF: return t->weights ? (float)count * w : (float)count;
    default: return (float)count;
    }
}

static o2p_status host_tfidf_vectorizer(const host_kernel_args *a)
{
    const host_tensor *x = host_in(a, 0);
    host_tensor *y = host_out(a, 0);
    if (!x || !y)
        return host_error(a, "needs input X and output Y");
    if (x->dtype == O2P_DTYPE_STRING)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): string input is not supported: onnx2plan has no "
                        "string tensors; feed int32/int64 token ids",
                        a->layer_name ? a->layer_name : "", a->op_type);
    if (x->dtype != O2P_DTYPE_INT32 && x->dtype != O2P_DTYPE_INT64)
        return host_unsupported_dtype(a, x->dtype);
    if (x->rank > 2)
        return host_error(a, "input X has rank %d; it must be [C] or [N, C]", x->rank);
    host_tfidf_table t;
    O2P_TRY(host_tfidf_table_make(a, &t));
    int64_t rows = x->rank == 2 ? x->dims[0] : 1;
    int64_t len = x->rank == 0 ? 1 : x->dims[x->rank - 1];
    int64_t want[2] = {rows, t.columns};
    int out_rank = x->rank == 2 ? 2 : 1;
    if (y->dtype != O2P_DTYPE_FLOAT ||
        !host_same_shape(y, out_rank, x->rank == 2 ? want : want + 1)) {
        o2p_status st = host_error(a, "output Y must be float of shape %s%lld]",
                                   x->rank == 2 ? "[N, " : "[", (long long)t.columns);
        host_tfidf_table_free(&t);
        return st;
    }
    int64_t *tokens = NULL, *counts = NULL;
    if (len > 0 && !(tokens = malloc((size_t)len * sizeof *tokens))) {
        host_tfidf_table_free(&t);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "layer '%s' (%s): out of memory",
                        a->layer_name ? a->layer_name : "", a->op_type);
    }
    if (!(counts = calloc((size_t)t.columns, sizeof *counts))) {
        free(tokens);
        host_tfidf_table_free(&t);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "layer '%s' (%s): out of memory",
                        a->layer_name ? a->layer_name : "", a->op_type);
    }
    float *out = y->data;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < len; i++)
            tokens[i] = host_get_i64(x, r * len + i);
        memset(counts, 0, (size_t)t.columns * sizeof *counts);
        for (int g = 0; g < t.num_grams; g++)
            counts[t.grams[g].column] += host_tfidf_count(&t.grams[g], t.max_skip, tokens, len);
        for (int64_t c = 0; c < t.columns; c++)
            out[r * t.columns + c] = host_tfidf_value(&t, c, counts[c]);
    }
    free(tokens);
    free(counts);
    host_tfidf_table_free(&t);
    return O2P_OK;
}

const host_kernel_entry host_text_kernels[] = {
    {"TfIdfVectorizer", host_tfidf_vectorizer},
};
const int host_text_kernel_count = (int)(sizeof host_text_kernels / sizeof host_text_kernels[0]);
