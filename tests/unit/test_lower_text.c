/* test_lower_text.c: the CUDA lowering of the text family (src/codegen/lower_text.c) without
 * a GPU: TfIdfVectorizer layers built by hand go through candidates() and lower(); the
 * launch's kernel name, grid, device-address patches, its parameters and the n-gram table
 * and weights it leaves as constants of the layer are checked against what
 * kernels/cuda/text.cu reads; large tables lower too; bad types, shapes and attributes are
 * refused with a message. */
#include <stddef.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/text_params.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define D(...) ((const int64_t[]){__VA_ARGS__})

/* A TfIdfVectorizer layer: input tensor 3, output tensor 7. */
typedef struct tl {
    host_tensor in, out;
    const host_tensor *ins[1];
    host_tensor *outs[1];
    int it[1], ot[1];
    host_attr attrs[10];
    cg_layer l;
    cg_emit e;
} tl;

static host_attr *tl_attr(tl *t, const char *name, o2p_attr_type type)
{
    host_attr *a = &t->attrs[t->l.args.num_attrs++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = type;
    return a;
}

static void attr_int(tl *t, const char *name, int64_t v)
{
    tl_attr(t, name, O2P_ATTR_INT)->i = v;
}

static void attr_ints(tl *t, const char *name, const int64_t *v, int n)
{
    host_attr *a = tl_attr(t, name, O2P_ATTR_INTS);
    a->ints = v;
    a->count = n;
}

static void attr_floats(tl *t, const char *name, const float *v, int n)
{
    host_attr *a = tl_attr(t, name, O2P_ATTR_FLOATS);
    a->floats = v;
    a->count = n;
}

static const int64_t ex_counts[] = {0, 4};
static const int64_t ex_indexes[] = {0, 1, 2, 3, 4, 5, 6};
static const int64_t ex_pool[] = {2, 3, 5, 4, 5, 6, 7, 8, 6, 7};

/* The ONNX examples' layer: X [dims] of type xt, Y [rows?, 7], mode, grams min..max. */
static void tl_init(tl *t, o2p_dtype xt, int rank, const int64_t *dims, const char *mode,
                    int64_t min_n, int64_t max_n, int64_t skip)
{
    memset(t, 0, sizeof *t);
    t->l.args.op_type = "TfIdfVectorizer";
    t->l.args.layer_name = "n0";
    t->l.args.opset = 9;
    t->l.args.inputs = t->ins;
    t->l.args.outputs = t->outs;
    t->l.args.attrs = t->attrs;
    t->l.args.num_inputs = 1;
    t->l.args.num_outputs = 1;
    t->l.input_tensors = t->it;
    t->l.output_tensors = t->ot;
    t->in.dtype = xt;
    t->in.rank = rank;
    memcpy(t->in.dims, dims, (size_t)rank * sizeof *dims);
    t->out.dtype = F32;
    t->out.rank = rank == 2 ? 2 : 1;
    t->out.dims[0] = rank == 2 ? dims[0] : 7;
    t->out.dims[1] = 7;
    t->ins[0] = &t->in;
    t->outs[0] = &t->out;
    t->it[0] = 3;
    t->ot[0] = 7;
    tl_attr(t, "mode", O2P_ATTR_STRING)->s = mode;
    attr_int(t, "min_gram_length", min_n);
    attr_int(t, "max_gram_length", max_n);
    attr_int(t, "max_skip_count", skip);
    attr_ints(t, "ngram_counts", ex_counts, 2);
    attr_ints(t, "ngram_indexes", ex_indexes, 7);
    attr_ints(t, "pool_int64s", ex_pool, 10);
    cg_emit_init(&t->e);
}

static int tl_candidates(tl *t, cg_tactic *tac, const char **why)
{
    const cg_op *op = cg_op_find("TfIdfVectorizer");
    ck_assert_ptr_nonnull(op);
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    *why = NULL;
    return op->candidates(&t->l, &o, tac, 4, why);
}

static o2p_status tl_lower(tl *t)
{
    cg_tactic tac[4];
    const char *why;
    int n = tl_candidates(t, tac, &why);
    ck_assert_msg(n == 1, "%d candidates (%s)", n, why ? why : "");
    ck_assert_str_eq(tac[0].kernel, "cuda.text.tfidf");
    ck_assert(tac[0].cost > 0.0);
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    return cg_op_find("TfIdfVectorizer")->lower(&t->l, &tac[0], &o, &t->e);
}

static int patch_tensor(const cg_launch *k, size_t off)
{
    for (int i = 0; i < k->num_patches; i++)
        if (k->patches[i].param_offset == off) {
            ck_assert_uint_eq(k->patches[i].byte_offset, 0);
            return k->patches[i].tensor;
        }
    ck_abort_msg("no address patched at offset %zu", off);
    return -99;
}

static void assert_refused(o2p_status st, o2p_status want, const char *needle)
{
    ck_assert_int_eq(st, want);
    ck_assert_msg(strstr(o2p_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  o2p_last_error(), needle);
}

#define PARAMS(k) ((const o2p_text_tfidf_params *)(k)->params)

/* The layer's n-gram table (its first constant), checked for the size its layout gives. */
static const int64_t *table_of(const tl *t, const o2p_text_tfidf_params *p, int64_t tokens)
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
    tl t;
    tl_init(&t, I32, 2, D(2, 6), "TF", 1, 2, 5);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    ck_assert_int_eq(k->kind, CG_LAUNCH_KERNEL);
    ck_assert_str_eq(k->family, "text");
    ck_assert_str_eq(k->function, "o2p_text_tfidf");
    ck_assert_uint_eq(k->param_size, sizeof(o2p_text_tfidf_params));
    ck_assert_uint_ge((uint64_t)k->grid[0] * k->block[0], 14);
    ck_assert_int_eq(k->num_patches, 3);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_text_tfidf_params, x_ptr)), 3);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_text_tfidf_params, y_ptr)), 7);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_text_tfidf_params, table_ptr)),
                     CG_TENSOR_CONSTANT(0));
    const o2p_text_tfidf_params *p = PARAMS(k);
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
    tl t;
    tl_init(&t, I64, 1, D(12), "TFIDF", 2, 2, 0);
    attr_floats(&t, "weights", w, 7);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    const o2p_text_tfidf_params *p = PARAMS(k);
    ck_assert_int_eq(p->total, 7);
    ck_assert_int_eq(p->len, 12);
    ck_assert_int_eq(p->x_int64, 1);
    ck_assert_int_eq(p->mode, O2P_TEXT_TFIDF);
    ck_assert_int_eq(t.e.num_constants, 2);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_text_tfidf_params, weights_ptr)),
                     CG_TENSOR_CONSTANT(1));
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

    tl_init(&t, I32, 1, D(12), "IDF", 1, 1, 3);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(&t.e.launches[0]);
    ck_assert_int_eq(p->mode, O2P_TEXT_IDF);
    ck_assert_int_eq(t.e.num_constants, 1);
    ck_assert_int_eq(table_of(&t, p, 4)[7], 4); /* four unigrams */
    cg_emit_free(&t.e);

    /* the bigram (5 6) twice: it counts once, under its last entry (column 6) */
    static const int64_t pool[] = {5, 6, 7, 8, 5, 6};
    tl_init(&t, I32, 1, D(12), "TF", 2, 2, 0);
    t.attrs[4].ints = D(0, 0);
    t.attrs[5].count = 3;
    t.attrs[5].ints = D(4, 5, 6);
    t.attrs[6].ints = pool;
    t.attrs[6].count = 6;
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(&t.e.launches[0]);
    tab = table_of(&t, p, 4);
    ck_assert_int_eq(tab[5], 0); /* column 5: (7 8) */
    ck_assert_int_eq(tab[6], 1); /* column 6: (5 6) */
    ck_assert_int_eq(tab[7], 2);
    ck_assert_int_eq(tab[p->tokens_at + tab[p->grams_at + 2]], 5);
    cg_emit_free(&t.e);

    /* an empty batch: no launch */
    tl_init(&t, I32, 2, D(0, 6), "TF", 1, 2, 0);
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 0);
    cg_emit_free(&t.e);
}
END_TEST

START_TEST(test_refusals)
{
    tl t;
    cg_tactic tac[4];
    const char *why;
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    const cg_op *op = cg_op_find("TfIdfVectorizer");

    /* float tokens: no candidate, and lower() says why */
    tl_init(&t, F32, 1, D(12), "TF", 1, 2, 0);
    ck_assert_int_eq(tl_candidates(&t, tac, &why), 0);
    ck_assert_ptr_nonnull(why);
    tac[0] = cg_simple_tactic("cuda.text.tfidf", 0, 1e-6);
    assert_refused(op->lower(&t.l, &tac[0], &o, &t.e), O2P_ERR_UNSUPPORTED, "float");
    cg_emit_free(&t.e);

    /* string pools */
    tl_init(&t, I32, 1, D(12), "TF", 1, 2, 0);
    static const char *const strs[] = {"a"};
    host_attr *ps = tl_attr(&t, "pool_strings", O2P_ATTR_STRINGS);
    ps->strings = strs;
    ps->count = 1;
    ck_assert_int_eq(tl_candidates(&t, tac, &why), 0);
    assert_refused(op->lower(&t.l, &tac[0], &o, &t.e), O2P_ERR_UNSUPPORTED, "pool_strings");
    cg_emit_free(&t.e);

    /* bad attributes, as the host kernel words them */
    tl_init(&t, I32, 1, D(12), "TF", 1, 2, 0);
    t.attrs[5].count = 5;
    assert_refused(op->lower(&t.l, &tac[0], &o, &t.e), O2P_ERR_SHAPE, "ngram_indexes has 5");
    cg_emit_free(&t.e);

    /* shapes: the output's columns, the input's rank */
    tl_init(&t, I32, 1, D(12), "TF", 1, 2, 0);
    t.out.dims[0] = 8;
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "[7]");
    cg_emit_free(&t.e);
    tl_init(&t, I32, 3, D(1, 2, 6), "TF", 1, 2, 0);
    t.out.rank = 2;
    t.out.dims[0] = 1;
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "rank 3");
    cg_emit_free(&t.e);

    /* a large table lowers too (it is a constant of the plan): 200 weighted unigrams */
    static int64_t big_pool[200], big_idx[200];
    static float big_w[200];
    for (int i = 0; i < 200; i++) {
        big_pool[i] = i;
        big_idx[i] = 199 - i;
        big_w[i] = (float)i;
    }
    tl_init(&t, I32, 1, D(12), "TFIDF", 1, 1, 0);
    t.attrs[4].count = 1;
    t.attrs[5].ints = big_idx;
    t.attrs[5].count = 200;
    t.attrs[6].ints = big_pool;
    t.attrs[6].count = 200;
    attr_floats(&t, "weights", big_w, 200);
    t.out.dims[0] = 200;
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const o2p_text_tfidf_params *p = PARAMS(&t.e.launches[0]);
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
