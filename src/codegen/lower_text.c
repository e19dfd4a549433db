/* lower_text.c: lowerings of the text kernel family (kernels/cuda/text.cu): TfIdfVectorizer.
 * The attributes become the n-gram table of kernels/host/text.c (host_tfidf_table_make, so
 * both targets check and read them alike), which goes into the plan as a constant of the
 * layer (cg_emit_constant) in the layout text_params.h gives, with the weights as another. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/text_params.h"

_Static_assert(sizeof(o2p_text_tfidf_params) == 88, "o2p_text_tfidf_params layout");

#define TEXT_BLOCK 256u

/* Tokens of the table's n-grams together. */
static int64_t table_tokens(const host_tfidf_table *t)
{
    int64_t n = 0;
    for (int g = 0; g < t->num_grams; g++)
        n += t->grams[g].length;
    return n;
}

/* The int64 table of text_params.h (malloc'ed, *count elements), or NULL when out of memory
 * or when the n-grams are not sorted by column (host_tfidf_table_make sorts them). */
static int64_t *table_bytes(const host_tfidf_table *t, size_t *count)
{
    size_t cols = (size_t)t->columns, grams = (size_t)t->num_grams;
    size_t n = cols + 1 + 2 * grams + (size_t)table_tokens(t);
    int64_t *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return NULL;
    int64_t *recs = v + cols + 1, *toks = recs + 2 * grams;
    int64_t at = 0;
    size_t g = 0;
    for (size_t c = 0; c <= cols; c++) {
        v[c] = (int64_t)g;
        while (c < cols && g < grams && t->grams[g].column == (int64_t)c) {
            recs[2 * g] = at;
            recs[2 * g + 1] = t->grams[g].length;
            memcpy(toks + at, t->grams[g].tokens, (size_t)t->grams[g].length * sizeof *toks);
            at += t->grams[g].length;
            g++;
        }
    }
    if (g != grams) {
        free(v);
        return NULL;
    }
    *count = n;
    return v;
}

static int tfidf_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                            const char **why)
{
    (void)o;
    const host_tensor *x = host_in(&l->args, 0);
    const host_tensor *y = host_out(&l->args, 0);
    if (!x || (x->dtype != O2P_DTYPE_INT32 && x->dtype != O2P_DTYPE_INT64)) {
        *why = "the CUDA kernel takes int32 and int64 token ids only";
        return 0;
    }
    host_tfidf_table t;
    if (host_tfidf_table_make(&l->args, &t) != O2P_OK) {
        *why = "the TfIdfVectorizer attributes are invalid (the lowering says why)";
        return 0;
    }
    double grams = t.num_grams, columns = (double)t.columns;
    double skips = (double)(t.max_skip < 64 ? t.max_skip + 1 : 64);
    host_tfidf_table_free(&t);
    if (cap < 1)
        return 0;
    int ok;
    double len = x->rank == 0 ? 1.0 : (double)x->dims[x->rank - 1];
    double outs = y ? (double)host_numel(y, &ok) : 0.0;
    /* each output scans its column's n-grams over its row, a few ops per token compared */
    double flops = outs * (grams / (columns > 0 ? columns : 1.0) + 1.0) * len * skips * 4.0;
    out[0] = cg_simple_tactic("cuda.text.tfidf", 0,
                              3e-6 + (double)host_numel(x, &ok) * 8.0 / 1.5e12 +
                                  outs * 4.0 / 1.5e12 + flops / 1.5e13);
    return 1;
}

static o2p_status tfidf_lower(const cg_layer *l, const cg_tactic *tac, const cg_options *o,
                              cg_emit *e)
{
    (void)tac;
    (void)o;
    const host_tensor *x = host_in(&l->args, 0);
    host_tensor *y = host_out(&l->args, 0);
    if (!x || l->input_tensors[0] < 0)
        return cg_layer_error(l, "input 0 (X) is missing");
    if (!y || l->output_tensors[0] < 0)
        return cg_layer_error(l, "output 0 (Y) is missing");
    O2P_TRY(cg_check_tensor(l, x, "input", 0, "X"));
    O2P_TRY(cg_check_tensor(l, y, "output", 0, "Y"));
    if (x->dtype == O2P_DTYPE_STRING)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): string input is not supported: onnx2plan has no "
                        "string tensors; feed int32/int64 token ids",
                        cg_layer_name(l), l->args.op_type);
    if (x->dtype != O2P_DTYPE_INT32 && x->dtype != O2P_DTYPE_INT64)
        return cg_unsupported_dtype(l, x->dtype);
    if (x->rank > 2)
        return cg_layer_error(l, "input X has rank %d; it must be [C] or [N, C]", x->rank);
    host_tfidf_table t;
    O2P_TRY(host_tfidf_table_make(&l->args, &t));
    int64_t rows = x->rank == 2 ? x->dims[0] : 1;
    int64_t len = x->rank == 0 ? 1 : x->dims[x->rank - 1];
    int64_t want[2] = {rows, t.columns};
    o2p_status st = O2P_OK;
    if (y->dtype != O2P_DTYPE_FLOAT ||
        !host_same_shape(y, x->rank == 2 ? 2 : 1, x->rank == 2 ? want : want + 1)) {
        st = cg_layer_error(l, "output Y must be float of shape %s%lld]",
                            x->rank == 2 ? "[N, " : "[", (long long)t.columns);
    } else if (rows > 0) {
        o2p_text_tfidf_params p;
        memset(&p, 0, sizeof p);
        p.total = rows * t.columns;
        p.len = len;
        p.columns = t.columns;
        p.max_skip = t.max_skip;
        p.grams_at = t.columns + 1;
        p.tokens_at = p.grams_at + 2 * (int64_t)t.num_grams;
        p.x_int64 = x->dtype == O2P_DTYPE_INT64;
        p.mode = t.mode == HOST_TFIDF_IDF     ? O2P_TEXT_IDF
                 : t.mode == HOST_TFIDF_TFIDF ? O2P_TEXT_TFIDF
                                              : O2P_TEXT_TF;
        size_t n = 0;
        int64_t *table = table_bytes(&t, &n);
        int table_t = -1, weights_t = -1;
        if (!table)
            st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "layer '%s' (%s): out of memory (n-gram "
                          "table)", cg_layer_name(l), l->args.op_type);
        else
            table_t = cg_emit_constant(e, table, (uint64_t)n * sizeof *table);
        free(table);
        if (st == O2P_OK && t.weights)
            weights_t = cg_emit_constant(e, t.weights, (uint64_t)t.columns * sizeof(float));
        uint32_t grid[3], block[3];
        cg_grid_1d((uint64_t)p.total, TEXT_BLOCK, grid, block);
        cg_launch *k = st == O2P_OK ? cg_emit_kernel(e, "text", "o2p_text_tfidf", grid, block,
                                                     0, &p, sizeof p)
                                    : NULL;
        if (k) {
            cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_text_tfidf_params, x_ptr),
                          l->input_tensors[0], 0);
            cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_text_tfidf_params, y_ptr),
                          l->output_tensors[0], 0);
            cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_text_tfidf_params, table_ptr), table_t,
                          0);
            if (weights_t != -1)
                cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_text_tfidf_params, weights_ptr),
                              weights_t, 0);
        }
        if (st == O2P_OK)
            st = cg_emit_status(e);
    }
    host_tfidf_table_free(&t);
    return st;
}

const cg_op cg_text_ops[] = {
    {"TfIdfVectorizer", tfidf_candidates, tfidf_lower},
};
const int cg_text_op_count = (int)(sizeof cg_text_ops / sizeof cg_text_ops[0]);
