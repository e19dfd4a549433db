/* test_host_text.c: the text family of host kernels (kernels/host/text.c) called directly
 * through host_kernel_find: TfIdfVectorizer on hand-computed values (the ONNX examples, skip
 * counts one by one, trigrams, int64 and batch input, IDF and TFIDF with and without
 * weights, repeated n-grams, gram lengths outside [min, max], columns without n-grams), and
 * the refusals (string pools and inputs, bad attributes, shapes and types). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_kernels.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define D(...) ((const int64_t[]){__VA_ARGS__})

static host_tensor *tensor(o2p_dtype t, int rank, const int64_t *dims)
{
    host_tensor *x = calloc(1, sizeof *x);
    ck_assert_ptr_nonnull(x);
    x->dtype = t;
    x->rank = rank;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        x->dims[i] = dims[i];
        n *= dims[i];
    }
    x->data = calloc((size_t)n + 1, o2p_dtype_size(t) ? o2p_dtype_size(t) : 8);
    ck_assert_ptr_nonnull(x->data);
    return x;
}

static host_tensor *tokens(o2p_dtype t, int rank, const int64_t *dims, const int64_t *v)
{
    host_tensor *x = tensor(t, rank, dims);
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    for (int64_t i = 0; i < n; i++)
        host_set_i64(x, i, v[i]);
    return x;
}

static void tensor_free(host_tensor *x)
{
    if (x) {
        free(x->data);
        free(x);
    }
}

/* The attributes of one TfIdfVectorizer layer. */
typedef struct tfidf {
    host_attr a[12];
    int n;
} tfidf;

static host_attr *at_new(tfidf *s, const char *name, o2p_attr_type type)
{
    host_attr *a = &s->a[s->n++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = type;
    return a;
}

static void at_int(tfidf *s, const char *name, int64_t v)
{
    at_new(s, name, O2P_ATTR_INT)->i = v;
}

static void at_ints(tfidf *s, const char *name, int count, const int64_t *v)
{
    host_attr *a = at_new(s, name, O2P_ATTR_INTS);
    a->count = count;
    a->ints = v;
}

static void at_floats(tfidf *s, const char *name, int count, const float *v)
{
    host_attr *a = at_new(s, name, O2P_ATTR_FLOATS);
    a->count = count;
    a->floats = v;
}

static void at_string(tfidf *s, const char *name, const char *v)
{
    at_new(s, name, O2P_ATTR_STRING)->s = v;
}

/* The ONNX examples' pool: unigrams 2 3 5 4, bigrams (5 6) (7 8) (6 7), columns 0..6. */
static const int64_t ex_counts[] = {0, 4};
static const int64_t ex_indexes[] = {0, 1, 2, 3, 4, 5, 6};
static const int64_t ex_pool[] = {2, 3, 5, 4, 5, 6, 7, 8, 6, 7};
static const int64_t ex_input[] = {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8};

static tfidf example(const char *mode, int64_t min_n, int64_t max_n, int64_t skip)
{
    tfidf s = {0};
    at_string(&s, "mode", mode);
    at_int(&s, "min_gram_length", min_n);
    at_int(&s, "max_gram_length", max_n);
    at_int(&s, "max_skip_count", skip);
    at_ints(&s, "ngram_counts", 2, ex_counts);
    at_ints(&s, "ngram_indexes", 7, ex_indexes);
    at_ints(&s, "pool_int64s", 10, ex_pool);
    return s;
}

static o2p_status run(const host_tensor *x, host_tensor *y, const tfidf *s)
{
    host_kernel_fn fn = host_kernel_find("TfIdfVectorizer");
    ck_assert_ptr_nonnull(fn);
    const host_tensor *in[1] = {x};
    host_tensor *outs[1] = {y};
    host_kernel_args a = {"TfIdfVectorizer", "t", 9, 1, in, 1, outs, s->n, s->a};
    return fn(&a);
}

static void assert_values(const host_tensor *y, const float *want, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabsf(((const float *)y->data)[i] - want[i]) <= 1e-6f,
                      "%s: element %d is %g, expected %g", what, i,
                      (double)((const float *)y->data)[i], (double)want[i]);
}

/* Runs the examples' pool on a 1-D input and checks the 7 columns. */
static void check_1d(const tfidf *s, const int64_t *x, int64_t len, o2p_dtype t,
                     const float want[7], const char *what)
{
    host_tensor *X = tokens(t, 1, D(len), x);
    host_tensor *Y = tensor(F32, 1, D(7));
    ck_assert_msg(run(X, Y, s) == O2P_OK, "%s: %s", what, o2p_last_error());
    assert_values(Y, want, 7, what);
    tensor_free(X);
    tensor_free(Y);
}

static void assert_refused(o2p_status st, o2p_status want, const char *needle)
{
    ck_assert_int_eq(st, want);
    ck_assert_msg(strstr(o2p_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  o2p_last_error(), needle);
}

START_TEST(test_table)
{
    ck_assert_ptr_nonnull(host_kernel_find("TfIdfVectorizer"));
    ck_assert_int_eq(host_text_kernel_count, 1);
    ck_assert_str_eq(host_text_kernels[0].op_type, "TfIdfVectorizer");
}
END_TEST

/* The ONNX operator examples (the conformance cases), 1-D and batch, int32 and int64. */
START_TEST(test_examples)
{
    tfidf s = example("TF", 2, 2, 0);
    check_1d(&s, ex_input, 12, I32, (const float[]){0, 0, 0, 0, 1, 1, 1}, "bigrams skip0");
    s = example("TF", 2, 2, 5);
    check_1d(&s, ex_input, 12, I32, (const float[]){0, 0, 0, 0, 1, 3, 1}, "bigrams skip5");
    check_1d(&s, ex_input, 12, I64, (const float[]){0, 0, 0, 0, 1, 3, 1}, "int64 skip5");
    s = example("TF", 1, 2, 5);
    check_1d(&s, ex_input, 12, I32, (const float[]){0, 3, 1, 0, 1, 3, 1}, "uni+bigrams skip5");

    /* batch: each row counts on its own */
    s = example("TF", 1, 2, 5);
    host_tensor *X = tokens(I32, 2, D(2, 6), ex_input);
    host_tensor *Y = tensor(F32, 2, D(2, 7));
    ck_assert_msg(run(X, Y, &s) == O2P_OK, "%s", o2p_last_error());
    assert_values(Y, (const float[]){0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1}, 14, "batch");
    tensor_free(Y);
    s = example("TF", 2, 2, 0);
    Y = tensor(F32, 2, D(2, 7));
    ck_assert_msg(run(X, Y, &s) == O2P_OK, "%s", o2p_last_error());
    assert_values(Y, (const float[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1}, 14, "batch skip0");
    tensor_free(Y);
    tensor_free(X);

    /* no unigrams in the pool (ngram_counts [0, 0]) */
    tfidf e = {0};
    at_string(&e, "mode", "TF");
    at_int(&e, "min_gram_length", 2);
    at_int(&e, "max_gram_length", 2);
    at_int(&e, "max_skip_count", 0);
    at_ints(&e, "ngram_counts", 2, D(0, 0));
    at_ints(&e, "ngram_indexes", 3, D(0, 1, 2));
    at_ints(&e, "pool_int64s", 6, D(5, 6, 7, 8, 6, 7));
    X = tokens(I32, 1, D(12), ex_input);
    Y = tensor(F32, 1, D(3));
    ck_assert_msg(run(X, Y, &e) == O2P_OK, "%s", o2p_last_error());
    assert_values(Y, (const float[]){1, 1, 1}, 3, "level empty");
    tensor_free(Y);
    tensor_free(X);
}
END_TEST

/* Skip counts by hand: in 1 2 1 2 1 2 the bigram (1 2) is at distance 1 three times, at 3
 * twice and at 5 once; the trigram (1 2 1) at distance 1 twice and never at 2. */
START_TEST(test_skips)
{
    static const int64_t x[] = {1, 2, 1, 2, 1, 2};
    static const struct {
        int64_t skip;
        float bigram, trigram;
    } cases[] = {{0, 3, 2}, {1, 3, 2},   {2, 5, 2},        {3, 5, 2},
                 {4, 6, 2}, {100, 6, 2}, {INT64_MAX, 6, 2}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tfidf s = {0};
        at_string(&s, "mode", "TF");
        at_int(&s, "min_gram_length", 2);
        at_int(&s, "max_gram_length", 3);
        at_int(&s, "max_skip_count", cases[c].skip);
        /* unigram 1 (column 2, below min: never counted), bigram (1 2), trigram (1 2 1) */
        at_ints(&s, "ngram_counts", 3, D(0, 1, 3));
        at_ints(&s, "ngram_indexes", 3, D(2, 0, 1));
        at_ints(&s, "pool_int64s", 6, D(1, 1, 2, 1, 2, 1));
        host_tensor *X = tokens(I64, 1, D(6), x);
        host_tensor *Y = tensor(F32, 1, D(3));
        ck_assert_msg(run(X, Y, &s) == O2P_OK, "%s", o2p_last_error());
        assert_values(Y, (const float[]){cases[c].bigram, cases[c].trigram, 0}, 3, "skips");
        tensor_free(X);
        tensor_free(Y);
    }
    /* unigrams count once per position whatever the skips */
    tfidf u = {0};
    at_string(&u, "mode", "TF");
    at_int(&u, "min_gram_length", 1);
    at_int(&u, "max_gram_length", 2);
    at_int(&u, "max_skip_count", 4);
    at_ints(&u, "ngram_counts", 1, D(0));
    at_ints(&u, "ngram_indexes", 2, D(0, 1));
    at_ints(&u, "pool_int64s", 2, D(2, 1));
    host_tensor *X = tokens(I32, 1, D(6), x);
    host_tensor *Y = tensor(F32, 1, D(2));
    ck_assert_msg(run(X, Y, &u) == O2P_OK, "%s", o2p_last_error());
    assert_values(Y, (const float[]){3, 3}, 2, "unigrams");
    tensor_free(X);
    tensor_free(Y);
}
END_TEST

/* IDF and TFIDF on the uni+bigram counts 0 3 1 0 1 3 1, weights by column. */
START_TEST(test_weighting)
{
    static const float w[] = {0.5f, 1.5f, 2, 3, 4, 5, 6};
    tfidf s = example("IDF", 1, 2, 5);
    at_floats(&s, "weights", 7, w);
    check_1d(&s, ex_input, 12, I32, (const float[]){0, 1.5f, 2, 0, 4, 5, 6}, "IDF");
    s = example("TFIDF", 1, 2, 5);
    at_floats(&s, "weights", 7, w);
    check_1d(&s, ex_input, 12, I32, (const float[]){0, 4.5f, 2, 0, 4, 15, 6}, "TFIDF");
    s = example("IDF", 1, 2, 5);
    check_1d(&s, ex_input, 12, I32, (const float[]){0, 1, 1, 0, 1, 1, 1}, "IDF unweighted");
    s = example("TFIDF", 1, 2, 5);
    check_1d(&s, ex_input, 12, I32, (const float[]){0, 3, 1, 0, 1, 3, 1}, "TFIDF unweighted");
    /* TF ignores weights */
    s = example("TF", 1, 2, 5);
    at_floats(&s, "weights", 7, w);
    check_1d(&s, ex_input, 12, I32, (const float[]){0, 3, 1, 0, 1, 3, 1}, "TF weighted");
}
END_TEST

START_TEST(test_columns)
{
    /* a repeated bigram counts once, under its last entry; column 3 has no n-gram; two
     * n-grams share column 4 */
    tfidf s = {0};
    at_string(&s, "mode", "TF");
    at_int(&s, "min_gram_length", 1);
    at_int(&s, "max_gram_length", 2);
    at_int(&s, "max_skip_count", 0);
    at_ints(&s, "ngram_counts", 2, D(0, 2));
    at_ints(&s, "ngram_indexes", 5, D(4, 4, 0, 1, 2));
    at_ints(&s, "pool_int64s", 8, D(7, 8, 7, 8, 7, 8, 8, 7));
    static const int64_t x[] = {7, 8, 7, 8, 8};
    host_tensor *X = tokens(I32, 1, D(5), x);
    host_tensor *Y = tensor(F32, 1, D(5));
    ck_assert_msg(run(X, Y, &s) == O2P_OK, "%s", o2p_last_error());
    /* (7 8) twice -> column 1 (last), (8 7) once -> column 2; unigrams 7: 2, 8: 3 -> 4 */
    assert_values(Y, (const float[]){0, 2, 1, 0, 5}, 5, "columns");
    tensor_free(X);
    tensor_free(Y);

    /* a rank-0 input is one token; an empty batch gives no rows */
    s = example("TF", 1, 1, 0);
    X = tokens(I64, 0, NULL, D(3));
    Y = tensor(F32, 1, D(7));
    ck_assert_msg(run(X, Y, &s) == O2P_OK, "%s", o2p_last_error());
    assert_values(Y, (const float[]){0, 1, 0, 0, 0, 0, 0}, 7, "scalar");
    tensor_free(X);
    tensor_free(Y);
    X = tensor(I32, 2, D(0, 4));
    Y = tensor(F32, 2, D(0, 7));
    ck_assert_msg(run(X, Y, &s) == O2P_OK, "%s", o2p_last_error());
    tensor_free(X);
    tensor_free(Y);
}
END_TEST

START_TEST(test_refusals)
{
    host_tensor *X = tokens(I32, 1, D(12), ex_input);
    host_tensor *Y = tensor(F32, 1, D(7));
    tfidf s = example("TF", 1, 2, 0);
    static const char *const strs[] = {"a", "b"};
    host_attr *ps = at_new(&s, "pool_strings", O2P_ATTR_STRINGS);
    ps->count = 2;
    ps->strings = strs;
    assert_refused(run(X, Y, &s), O2P_ERR_UNSUPPORTED, "pool_strings");

    s = example("BM25", 1, 2, 0);
    assert_refused(run(X, Y, &s), O2P_ERR_SHAPE, "mode 'BM25'");
    s = example("TF", 3, 2, 0);
    assert_refused(run(X, Y, &s), O2P_ERR_SHAPE, "min_gram_length");
    s = example("TF", 0, 2, 0);
    assert_refused(run(X, Y, &s), O2P_ERR_SHAPE, "min_gram_length");
    s = example("TF", 1, 2, -1);
    assert_refused(run(X, Y, &s), O2P_ERR_SHAPE, "max_skip_count");
    s = example("TF", 1, 2, 0);
    s.a[5].count = 6; /* ngram_indexes shorter than the pool's n-grams */
    assert_refused(run(X, Y, &s), O2P_ERR_SHAPE, "ngram_indexes has 6");
    s = example("TF", 1, 2, 0);
    s.a[4].ints = D(0, 3); /* 7 items of bigrams */
    assert_refused(run(X, Y, &s), O2P_ERR_SHAPE, "not a multiple of 2");
    s = example("TF", 1, 2, 0);
    s.a[4].ints = D(5, 4);
    assert_refused(run(X, Y, &s), O2P_ERR_SHAPE, "ngram_counts[0] is 5");
    s = example("TF", 1, 2, 0);
    s.a[5].ints = D(0, 1, 2, 3, 4, 5, -6);
    assert_refused(run(X, Y, &s), O2P_ERR_SHAPE, "ngram_indexes[6]");
    s = example("IDF", 1, 2, 0);
    at_floats(&s, "weights", 3, (const float[]){1, 2, 3});
    assert_refused(run(X, Y, &s), O2P_ERR_SHAPE, "weights has 3");
    tfidf m = {0};
    at_string(&m, "mode", "TF");
    assert_refused(run(X, Y, &m), O2P_ERR_SHAPE, "min_gram_length");

    /* shapes and types */
    s = example("TF", 1, 2, 0);
    host_tensor *Y8 = tensor(F32, 1, D(8));
    assert_refused(run(X, Y8, &s), O2P_ERR_SHAPE, "[7]");
    host_tensor *X3 = tensor(I32, 3, D(1, 2, 6));
    assert_refused(run(X3, Y, &s), O2P_ERR_SHAPE, "rank 3");
    host_tensor *XF = tensor(F32, 1, D(12));
    assert_refused(run(XF, Y, &s), O2P_ERR_UNSUPPORTED, "float");
    host_tensor *XS = tensor(O2P_DTYPE_STRING, 1, D(12));
    assert_refused(run(XS, Y, &s), O2P_ERR_UNSUPPORTED, "string");
    tensor_free(X);
    tensor_free(Y);
    tensor_free(Y8);
    tensor_free(X3);
    tensor_free(XF);
    tensor_free(XS);
}
END_TEST

/* The shared table: lengths outside [min, max] dropped, repeats merged, column order. */
START_TEST(test_table_make)
{
    tfidf s = example("TFIDF", 2, 2, 3);
    at_floats(&s, "weights", 7, (const float[]){1, 2, 3, 4, 5, 6, 7});
    host_kernel_args a = {"TfIdfVectorizer", "t", 9, 0, NULL, 0, NULL, s.n, s.a};
    host_tfidf_table t;
    ck_assert_int_eq(host_tfidf_table_make(&a, &t), O2P_OK);
    ck_assert_int_eq(t.mode, HOST_TFIDF_TFIDF);
    ck_assert_int_eq(t.max_skip, 3);
    ck_assert_int_eq(t.columns, 7);
    ck_assert_int_eq(t.num_grams, 3);
    for (int g = 0; g < 3; g++) {
        ck_assert_int_eq(t.grams[g].length, 2);
        ck_assert_int_eq(t.grams[g].column, 4 + g);
        ck_assert_int_eq(t.grams[g].tokens[0], ex_pool[4 + 2 * g]);
    }
    ck_assert_ptr_nonnull(t.weights);
    ck_assert(host_tfidf_value(&t, 5, 2) == 12.0f);
    host_tfidf_table_free(&t);
    ck_assert_ptr_null(t.grams);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_text");
    TCase *tc = tcase_create("text");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_examples);
    tcase_add_test(tc, test_skips);
    tcase_add_test(tc, test_weighting);
    tcase_add_test(tc, test_columns);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_table_make);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
