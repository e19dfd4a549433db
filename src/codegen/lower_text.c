/* lower_text.c: lowerings of the text kernel family (kernels/cuda/text.cu): TfIdfVectorizer.
 * The attributes become the n-gram table of kernels/host/text.c (host_tfidf_table_make, so
 * both targets check and read them alike), which travels in the kernel's parameter bytes:
 * a table beyond text_params.h's limits is refused with the numbers and a way out. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/text_params.h"

_Static_assert(sizeof(o2p_text_tfidf_params) == 3648, "o2p_text_tfidf_params layout");

#define TEXT_BLOCK 256u

/* Tokens of the table's n-grams together. */
static int64_t table_tokens(const host_tfidf_table *t)
{
    int64_t n = 0;
    for (int g = 0; g < t->num_grams; g++)
        n += t->grams[g].length;
    return n;
}

/* Whether the table fits the parameter struct: NULL, or what is over its limit. */
static const char *table_limit(const host_tfidf_table *t)
{
    if (t->num_grams > O2P_TEXT_MAX_GRAMS)
        return "n-grams";
    if (table_tokens(t) > O2P_TEXT_MAX_TOKENS)
        return "pool tokens";
    if (t->weights && t->columns > O2P_TEXT_MAX_WEIGHTS)
        return "weighted output columns";
    if (t->columns > INT32_MAX)
        return "output columns";
    return NULL;
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
    const char *over = table_limit(&t);
    double grams = t.num_grams, columns = (double)t.columns;
    double skips = (double)(t.max_skip < 64 ? t.max_skip + 1 : 64);
    host_tfidf_table_free(&t);
    if (over) {
        *why = "the n-gram table is larger than the CUDA kernel's parameter bytes hold";
        return 0;
    }
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
    const char *over = table_limit(&t);
    if (y->dtype != O2P_DTYPE_FLOAT ||
        !host_same_shape(y, x->rank == 2 ? 2 : 1, x->rank == 2 ? want : want + 1)) {
        st = cg_layer_error(l, "output Y must be float of shape %s%lld]",
                            x->rank == 2 ? "[N, " : "[", (long long)t.columns);
    } else if (over) {
        st = o2p_fail(O2P_ERR_UNSUPPORTED,
                      "layer '%s' (%s): the n-gram table (%d n-grams of %lld tokens, %lld "
                      "output columns%s) is over the CUDA kernel's limit of %s (at most %d "
                      "n-grams, %d tokens, %d columns with weights): build it for the host "
                      "target",
                      cg_layer_name(l), l->args.op_type, t.num_grams, (long long)table_tokens(&t),
                      (long long)t.columns, t.weights ? ", weighted" : "", over, O2P_TEXT_MAX_GRAMS,
                      O2P_TEXT_MAX_TOKENS, O2P_TEXT_MAX_WEIGHTS);
    } else if (rows > 0) {
        o2p_text_tfidf_params p;
        memset(&p, 0, sizeof p);
        p.total = rows * t.columns;
        p.len = len;
        p.columns = t.columns;
        p.max_skip = t.max_skip;
        p.x_int64 = x->dtype == O2P_DTYPE_INT64;
        p.mode = t.mode == HOST_TFIDF_IDF     ? O2P_TEXT_IDF
                 : t.mode == HOST_TFIDF_TFIDF ? O2P_TEXT_TFIDF
                                              : O2P_TEXT_TF;
        p.num_grams = t.num_grams;
        p.has_weights = t.weights != NULL;
        int32_t at = 0;
        for (int g = 0; g < t.num_grams; g++) {
            p.gram_start[g] = at;
            p.gram_length[g] = t.grams[g].length;
            p.gram_column[g] = (int32_t)t.grams[g].column;
            memcpy(p.tokens + at, t.grams[g].tokens,
                   (size_t)t.grams[g].length * sizeof *t.grams[g].tokens);
            at += t.grams[g].length;
        }
        for (int64_t c = 0; t.weights && c < t.columns; c++)
            p.weights[c] = t.weights[c];
        uint32_t grid[3], block[3];
        cg_grid_1d((uint64_t)p.total, TEXT_BLOCK, grid, block);
        cg_launch *k = cg_emit_kernel(e, "text", "o2p_text_tfidf", grid, block, 0, &p, sizeof p);
        if (k) {
            cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_text_tfidf_params, x_ptr),
                          l->input_tensors[0], 0);
            cg_launch_ptr(e, k, (uint32_t)offsetof(o2p_text_tfidf_params, y_ptr),
                          l->output_tensors[0], 0);
        }
        st = cg_emit_status(e);
    }
    host_tfidf_table_free(&t);
    return st;
}

const cg_op cg_text_ops[] = {
    {"TfIdfVectorizer", tfidf_candidates, tfidf_lower},
};
const int cg_text_op_count = (int)(sizeof cg_text_ops / sizeof cg_text_ops[0]);
