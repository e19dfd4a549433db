/* test_lower_text.c: the CUDA lowering of the text family (src/codegen/lower_text.c) without
 * a GPU: TfIdfVectorizer layers built by hand go through candidates() and lower(); the
 * launch's kernel name, grid, device-address patches and the n-gram table in its parameter
 * bytes are checked against what kernels/cuda/text.cu reads, and bad types, shapes,
 * attributes and tables over the parameter limits are refused with a message. */
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
    ck_assert_int_eq(k->num_patches, 2);
    lt_assert_patch(k, offsetof(o2p_text_tfidf_params, x_ptr), 3, 0);
    lt_assert_patch(k, offsetof(o2p_text_tfidf_params, y_ptr), 7, 0);
    const o2p_text_tfidf_params *p = PARAMS(o2p_text_tfidf_params, k);
    ck_assert_int_eq(p->total, 14);
    ck_assert_int_eq(p->len, 6);
    ck_assert_int_eq(p->columns, 7);
    ck_assert_int_eq(p->max_skip, 5);
    ck_assert_int_eq(p->x_int64, 0);
    ck_assert_int_eq(p->mode, O2P_TEXT_TF);
    ck_assert_int_eq(p->has_weights, 0);
    ck_assert_int_eq(p->num_grams, 7);
    /* by column: the four unigrams, then the bigrams, tokens one after another */
    static const int start[] = {0, 1, 2, 3, 4, 6, 8}, length[] = {1, 1, 1, 1, 2, 2, 2};
    for (int g = 0; g < 7; g++) {
        ck_assert_int_eq(p->gram_column[g], g);
        ck_assert_int_eq(p->gram_start[g], start[g]);
        ck_assert_int_eq(p->gram_length[g], length[g]);
    }
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(p->tokens[i], ex_pool[i]);
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
    const o2p_text_tfidf_params *p = PARAMS(o2p_text_tfidf_params, &t.e.launches[0]);
    ck_assert_int_eq(p->total, 7);
    ck_assert_int_eq(p->len, 12);
    ck_assert_int_eq(p->x_int64, 1);
    ck_assert_int_eq(p->mode, O2P_TEXT_TFIDF);
    ck_assert_int_eq(p->has_weights, 1);
    ck_assert_int_eq(p->num_grams, 3); /* the unigrams are below min_gram_length */
    for (int g = 0; g < 3; g++) {
        ck_assert_int_eq(p->gram_column[g], 4 + g);
        ck_assert_int_eq(p->gram_length[g], 2);
        ck_assert_int_eq(p->gram_start[g], 2 * g);
    }
    ck_assert_int_eq(p->tokens[2], 7);
    for (int c = 0; c < 7; c++)
        ck_assert(p->weights[c] == w[c]);
    cg_emit_free(&t.e);

    tfidf_init(&t, I32, 1, D(12), "IDF", 1, 1, 3);
    ck_assert_msg(tfidf_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(o2p_text_tfidf_params, &t.e.launches[0]);
    ck_assert_int_eq(p->mode, O2P_TEXT_IDF);
    ck_assert_int_eq(p->has_weights, 0);
    ck_assert_int_eq(p->num_grams, 4);
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
    ck_assert_int_eq(p->num_grams, 2);
    ck_assert_int_eq(p->gram_column[0], 5);
    ck_assert_int_eq(p->gram_column[1], 6);
    ck_assert_int_eq(p->tokens[p->gram_start[1]], 5);
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

    /* a table over the parameter limits: 200 unigrams */
    static int64_t big_pool[200], big_idx[200];
    for (int i = 0; i < 200; i++) {
        big_pool[i] = i;
        big_idx[i] = i;
    }
    tfidf_init(&t, I32, 1, D(12), "TF", 1, 1, 0);
    t.attrs[4].count = 1;
    t.attrs[5].ints = big_idx;
    t.attrs[5].count = 200;
    t.attrs[6].ints = big_pool;
    t.attrs[6].count = 200;
    t.out[0].dims[0] = 200;
    ck_assert_int_eq(lt_candidates(&t, tac, &why), 0);
    ck_assert_ptr_nonnull(why);
    tac[0] = cg_simple_tactic("cuda.text.tfidf", 0, 1e-6);
    lt_assert_refused(op->lower(&t.l, &tac[0], &o, &t.e), O2P_ERR_UNSUPPORTED, "host target");
    ck_assert_int_eq(t.e.count, 0);
    cg_emit_free(&t.e);

    /* weighted columns over the limit, with few n-grams */
    static float big_w[200];
    tfidf_init(&t, I32, 1, D(12), "IDF", 1, 1, 0);
    t.attrs[4].count = 1;
    t.attrs[5].ints = D(0, 1, 199);
    t.attrs[5].count = 3;
    t.attrs[6].count = 3;
    lt_attr_floats(&t, "weights", big_w, 200);
    t.out[0].dims[0] = 200;
    ck_assert_int_eq(lt_candidates(&t, tac, &why), 0);
    lt_assert_refused(op->lower(&t.l, &tac[0], &o, &t.e), O2P_ERR_UNSUPPORTED,
                      "weighted output columns");
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
