/* test_lower_text.c: the CUDA lowering of the text family (src/codegen/lower_text.c) without
 * a GPU: TfIdfVectorizer layers built by hand go through candidates() and lower(); the
 * launch's kernel name, grid, device-address patches, its parameters and the n-gram table
 * and weights it leaves as constants of the layer are checked against what
 * kernels/cuda/text.cu reads; large tables lower too; bad types, shapes and attributes are
 * refused with a message. */
#include <stddef.h>
#include <string.h>

#include "cuda/text_params.h"
#include "lower_testutil.h"

static const int64_t ex_counts[] = {0, 4};
static const int64_t ex_indexes[] = {0, 1, 2, 3, 4, 5, 6};
static const int64_t ex_pool[] = {2, 3, 5, 4, 5, 6, 7, 8, 6, 7};

/* The ONNX examples' TfIdfVectorizer (input tensor 3, output tensor 7): X [dims] of type xt,
 * Y [rows?, 7], mode, grams min..max. */
static void tfidf_init(lt_layer *t, o2p_dtype xt, int rank, const int64_t *dims, const char *mode,
                       int64_t min_n, int64_t max_n, int64_t skip)
{
    lt_init(t, "TfIdfVectorizer", 9);
    lt_in(t, 0, xt, rank, dims);
    lt_out(t, 0, F32, rank == 2 ? 2 : 1, D(rank == 2 ? dims[0] : 7, 7));
    t->it[0] = 3;
    t->ot[0] = 7;
    lt_attr_str(t, "mode", mode);
    lt_attr_int(t, "min_gram_length", min_n);
    lt_attr_int(t, "max_gram_length", max_n);
    lt_attr_int(t, "max_skip_count", skip);
    lt_attr_ints(t, "ngram_counts", ex_counts, 2);
    lt_attr_ints(t, "ngram_indexes", ex_indexes, 7);
    lt_attr_ints(t, "pool_int64s", ex_pool, 10);
}

/* candidates() offers the one tfidf tactic; then lower(). */
static o2p_status tfidf_lower(lt_layer *t)
{
    cg_tactic tac;
    o2p_status st = lt_lower_tactic(t, &tac);
    ck_assert_str_eq(tac.kernel, "cuda.text.tfidf");
    return st;
}

/* The layer's n-gram table (its first constant), checked for the size its layout gives. */
static const int64_t *table_of(const lt_layer *t, const o2p_text_tfidf_params *p,
                               int64_t tokens)
{
    ck_assert_int_ge(t->e.num_constants, 1);
    int64_t grams = (p->tokens_at - p->grams_at) / 2;
    ck_assert_int_eq(p->grams_at, p->columns + 1);
    ck_assert_uint_eq(t->e.constants[0].size,
                      (uint64_t)(p->columns + 1 + 2 * grams + tokens) * sizeof(int64_t));
    return (const int64_t *)t->e.constants[0].bytes;
}

START_TEST(test_table)
{
    const cg_op *op = cg_op_find("TfIdfVectorizer");
    ck_assert_msg(op && op->candidates && op->lower, "TfIdfVectorizer is not lowered");
    ck_assert_str_eq(op->op_type, "TfIdfVectorizer");
    ck_assert(cg_family_source("text") != NULL);
}
END_TEST

/* uni+bigrams, batch int32: every field the kernel reads. */
START_TEST(test_batch)
{
    lt_layer t;
    tfidf_init(&t, I32, 2, D(2, 6), "TF", 1, 2, 5);
    ck_assert_msg(tfidf_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    ck_assert_int_eq(k->kind, CG_LAUNCH_KERNEL);
    ck_assert_str_eq(k->family, "text");
    ck_assert_str_eq(k->function, "o2p_text_tfidf");
    ck_assert_uint_eq(k->param_size, sizeof(o2p_text_tfidf_params));
    ck_assert_uint_ge((uint64_t)k->grid[0] * k->block[0], 14);
    ck_assert_int_eq(k->num_patches, 3);
    lt_assert_patch(k, offsetof(o2p_text_tfidf_params, x_ptr), 3, 0);
    lt_assert_patch(k, offsetof(o2p_text_tfidf_params, y_ptr), 7, 0);
    lt_assert_patch(k, offsetof(o2p_text_tfidf_params, table_ptr), CG_TENSOR_CONSTANT(0), 0);
    const o2p_text_tfidf_params *p = PARAMS(o2p_text_tfidf_params, k);
    ck_assert_int_eq(p->total, 14);
    ck_assert_int_eq(p->len, 6);
    ck_assert_int_eq(p->columns, 7);
    ck_assert_int_eq(p->max_skip, 5);
    ck_assert_int_eq(p->x_int64, 0);
    ck_assert_int_eq(p->mode, O2P_TEXT_TF);
    ck_assert_uint_eq(p->weights_ptr, 0);
    ck_assert_int_eq(t.e.num_constants, 1); /* no weights */
    ck_assert_int_eq(p->tokens_at, 8 + 2 * 7);
    const int64_t *tab = table_of(&t, p, 10);
    /* by column: the four unigrams, then the bigrams, tokens one after another */
    static const int start[] = {0, 1, 2, 3, 4, 6, 8}, length[] = {1, 1, 1, 1, 2, 2, 2};
    for (int c = 0; c <= 7; c++)
        ck_assert_int_eq(tab[c], c); /* one n-gram per column */
    for (int g = 0; g < 7; g++) {
        ck_assert_int_eq(tab[p->grams_at + 2 * g], start[g]);
        ck_assert_int_eq(tab[p->grams_at + 2 * g + 1], length[g]);
    }
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(tab[p->tokens_at + i], ex_pool[i]);
    cg_emit_free(&t.e);
}
END_TEST

/* bigrams only from a 1-D int64 input, TFIDF with weights; IDF; repeated n-grams. */
START_TEST(test_modes)
{
    static const float w[] = {0.5f, 1, 2, 3, 4, 5, 6};
    lt_layer t;
    tfidf_init(&t, I64, 1, D(12), "TFIDF", 2, 2, 0);
    lt_attr_floats(&t, "weights", w, 7);
    ck_assert_msg(tfidf_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    const o2p_text_tfidf_params *p = PARAMS(o2p_text_tfidf_params, k);
    ck_assert_int_eq(p->total, 7);
    ck_assert_int_eq(p->len, 12);
    ck_assert_int_eq(p->x_int64, 1);
    ck_assert_int_eq(p->mode, O2P_TEXT_TFIDF);
    ck_assert_int_eq(t.e.num_constants, 2);
    lt_assert_patch(k, offsetof(o2p_text_tfidf_params, weights_ptr), CG_TENSOR_CONSTANT(1), 0);
    ck_assert_uint_eq(t.e.constants[1].size, sizeof w);
    ck_assert(memcmp(t.e.constants[1].bytes, w, sizeof w) == 0);
    /* the unigrams are below min_gram_length: three bigrams, in columns 4, 5 and 6 */
    ck_assert_int_eq(p->tokens_at - p->grams_at, 2 * 3);
    const int64_t *tab = table_of(&t, p, 6);
    static const int64_t begin[] = {0, 0, 0, 0, 0, 1, 2, 3};
    for (int c = 0; c <= 7; c++)
        ck_assert_int_eq(tab[c], begin[c]);
    for (int g = 0; g < 3; g++) {
        ck_assert_int_eq(tab[p->grams_at + 2 * g], 2 * g);
        ck_assert_int_eq(tab[p->grams_at + 2 * g + 1], 2);
    }
    ck_assert_int_eq(tab[p->tokens_at + 2], 7);
    cg_emit_free(&t.e);

    tfidf_init(&t, I32, 1, D(12), "IDF", 1, 1, 3);
    ck_assert_msg(tfidf_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(o2p_text_tfidf_params, &t.e.launches[0]);
    ck_assert_int_eq(p->mode, O2P_TEXT_IDF);
    ck_assert_int_eq(t.e.num_constants, 1);
    ck_assert_int_eq(table_of(&t, p, 4)[7], 4); /* four unigrams */
    cg_emit_free(&t.e);

    /* the bigram (5 6) twice: it counts once, under its last entry (column 6) */
    static const int64_t pool[] = {5, 6, 7, 8, 5, 6};
    tfidf_init(&t, I32, 1, D(12), "TF", 2, 2, 0);
    t.attrs[4].ints = D(0, 0);
    t.attrs[5].count = 3;
    t.attrs[5].ints = D(4, 5, 6);
    t.attrs[6].ints = pool;
    t.attrs[6].count = 6;
    ck_assert_msg(tfidf_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(o2p_text_tfidf_params, &t.e.launches[0]);
    tab = table_of(&t, p, 4);
    ck_assert_int_eq(tab[5], 0); /* column 5: (7 8) */
    ck_assert_int_eq(tab[6], 1); /* column 6: (5 6) */
    ck_assert_int_eq(tab[7], 2);
    ck_assert_int_eq(tab[p->tokens_at + tab[p->grams_at + 2]], 5);
    cg_emit_free(&t.e);

    /* an empty batch: no launch */
    tfidf_init(&t, I32, 2, D(0, 6), "TF", 1, 2, 0);
    ck_assert_msg(tfidf_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 0);
    cg_emit_free(&t.e);
}
END_TEST

START_TEST(test_refusals)
{
    lt_layer t;
    cg_tactic tac[LT_MAX_TACTICS];
    const char *why;
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    const cg_op *op = cg_op_find("TfIdfVectorizer");

    /* float tokens: no candidate, and lower() says why */
    tfidf_init(&t, F32, 1, D(12), "TF", 1, 2, 0);
    ck_assert_int_eq(lt_candidates(&t, tac, &why), 0);
    ck_assert_ptr_nonnull(why);
    tac[0] = cg_simple_tactic("cuda.text.tfidf", 0, 1e-6);
    lt_assert_refused(op->lower(&t.l, &tac[0], &o, &t.e), O2P_ERR_UNSUPPORTED, "float");
    cg_emit_free(&t.e);

    /* string pools */
    tfidf_init(&t, I32, 1, D(12), "TF", 1, 2, 0);
    static const char *const strs[] = {"a"};
    host_attr *ps = lt_attr(&t, "pool_strings", O2P_ATTR_STRINGS);
    ps->strings = strs;
    ps->count = 1;
    ck_assert_int_eq(lt_candidates(&t, tac, &why), 0);
    lt_assert_refused(op->lower(&t.l, &tac[0], &o, &t.e), O2P_ERR_UNSUPPORTED, "pool_strings");
    cg_emit_free(&t.e);

    /* bad attributes, as the host kernel words them */
    tfidf_init(&t, I32, 1, D(12), "TF", 1, 2, 0);
    t.attrs[5].count = 5;
    lt_assert_refused(op->lower(&t.l, &tac[0], &o, &t.e), O2P_ERR_SHAPE, "ngram_indexes has 5");
    cg_emit_free(&t.e);

    /* shapes: the output's columns, the input's rank */
    tfidf_init(&t, I32, 1, D(12), "TF", 1, 2, 0);
    t.out[0].dims[0] = 8;
    lt_assert_refused(tfidf_lower(&t), O2P_ERR_SHAPE, "[7]");
    cg_emit_free(&t.e);
    tfidf_init(&t, I32, 3, D(1, 2, 6), "TF", 1, 2, 0);
    t.out[0].rank = 2;
    t.out[0].dims[0] = 1;
    lt_assert_refused(tfidf_lower(&t), O2P_ERR_SHAPE, "rank 3");
    cg_emit_free(&t.e);

    /* a large table lowers too (it is a constant of the plan): 200 weighted unigrams */
    static int64_t big_pool[200], big_idx[200];
    static float big_w[200];
    for (int i = 0; i < 200; i++) {
        big_pool[i] = i;
        big_idx[i] = 199 - i;
        big_w[i] = (float)i;
    }
    tfidf_init(&t, I32, 1, D(12), "TFIDF", 1, 1, 0);
    t.attrs[4].count = 1;
    t.attrs[5].ints = big_idx;
    t.attrs[5].count = 200;
    t.attrs[6].ints = big_pool;
    t.attrs[6].count = 200;
    lt_attr_floats(&t, "weights", big_w, 200);
    t.out[0].dims[0] = 200;
    ck_assert_msg(tfidf_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const o2p_text_tfidf_params *p = PARAMS(o2p_text_tfidf_params, &t.e.launches[0]);
    const int64_t *tab = table_of(&t, p, 200);
    /* column c counts the token 199 - c */
    ck_assert_int_eq(tab[p->tokens_at + tab[p->grams_at + 2 * tab[0]]], 199);
    ck_assert_int_eq(tab[p->tokens_at + tab[p->grams_at + 2 * tab[150]]], 49);
    ck_assert_uint_eq(t.e.constants[1].size, sizeof big_w);
    cg_emit_free(&t.e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lower_text");
    TCase *tc = tcase_create("text");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_batch);
    tcase_add_test(tc, test_modes);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
