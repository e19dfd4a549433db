// text.cu: the text kernel family: TfIdfVectorizer over int32/int64 token ids, one thread per
// output element counting its column's n-grams in its row. The n-gram table is a constant of
// the layer (text_params.h); the counting rule and the weighting are kernels/host/text.c's.
#include "o2p_cuda.h"
#include "text_params.h"

static_assert(sizeof(o2p_text_tfidf_params) == 88, "");

O2P_DEVICE o2p_i64 o2p_text_token(const o2p_text_tfidf_params &p, long long i)
{
    return p.x_int64 ? ((const o2p_i64 *)p.x_ptr)[i] : (o2p_i64)((const o2p_i32 *)p.x_ptr)[i];
}

// Occurrences of the n-gram tok[0..n) in the row starting at token `row` (p.len tokens), as
// host_tfidf_count: unigrams once per position; longer n-grams once per skip distance
// d = skip + 1 <= max_skip + 1 and start with the last token inside the row.
O2P_DEVICE long long o2p_text_count(const o2p_text_tfidf_params &p, const o2p_i64 *tok, int n,
                                    long long row)
{
    long long count = 0;
    if (n == 1) {
        for (long long s = 0; s < p.len; s++)
            count += o2p_text_token(p, row + s) == tok[0];
        return count;
    }
    if (p.len < 1)
        return 0;
    long long dmax = (p.len - 1) / (n - 1);
    if (p.max_skip < dmax)
        dmax = p.max_skip + 1;
    for (long long d = 1; d <= dmax; d++)
        for (long long s = 0; s + (n - 1) * d < p.len; s++) {
            int k = 0;
            while (k < n && o2p_text_token(p, row + s + k * d) == tok[k])
                k++;
            count += k == n;
        }
    return count;
}

extern "C" __global__ void o2p_text_tfidf(const o2p_text_tfidf_params p)
{
    const o2p_i64 *table = (const o2p_i64 *)p.table_ptr;
    O2P_FOR(i, p.total)
    {
        long long r = i / p.columns, c = i % p.columns;
        long long count = 0;
        for (o2p_i64 g = table[c]; g < table[c + 1]; g++) {
            const o2p_i64 *rec = table + p.grams_at + 2 * g;
            count += o2p_text_count(p, table + p.tokens_at + rec[0], (int)rec[1], r * p.len);
        }
        float w = p.weights_ptr ? ((const float *)p.weights_ptr)[c] : 1.0f;
        float v;
        if (p.mode == O2P_TEXT_IDF)
            v = count > 0 ? w : 0.0f;
        else if (p.mode == O2P_TEXT_TFIDF)
            v = (float)count * w;
        else
            v = (float)count;
        ((float *)p.y_ptr)[i] = v;
    }
}
