/* select.cu: the select kernel family: Unique and NonMaxSuppression, whose outputs have
 * data-dependent shapes (written packed for the actual shape, which the kernels also write
 * into shape tensors). Semantics and comparison rules are the host kernels'
 * (kernels/host/select.c); params in select_params.h, filled by src/codegen/lower_select.c.
 * Both are written for clarity over speed: O(n^2) ranking instead of a device sort. */
#include "o2p_cuda.h"
#include "select_params.h"

static_assert(sizeof(o2p_select_unique_params) == 264, "");
static_assert(sizeof(o2p_select_nms_params) == 128, "");

/* ---------------------------------------------------------------- Unique */

/* -1, 0, 1 as element a of X is below, equal to or above element b. Floats: NaN above every
 * number and equal to NaN (a total order, as the host kernel's); uint64 unsigned; the other
 * integers and bool as int64. */
O2P_DEVICE int uniq_elem_cmp(const void *x, int t, o2p_i64 a, o2p_i64 b)
{
    switch (t) {
    case O2P_CU_FLOAT:
    case O2P_CU_DOUBLE:
    case O2P_CU_FLOAT16:
    case O2P_CU_BFLOAT16: {
        double va = o2p_load_f64(x, t, a), vb = o2p_load_f64(x, t, b);
        int na = va != va, nb = vb != vb;
        if (na || nb)
            return na - nb;
        return va < vb ? -1 : (va > vb ? 1 : 0);
    }
    case O2P_CU_UINT64: {
        unsigned long long va = ((const unsigned long long *)x)[a];
        unsigned long long vb = ((const unsigned long long *)x)[b];
        return va < vb ? -1 : (va > vb ? 1 : 0);
    }
    default: {
        o2p_i64 va = o2p_load_i64(x, t, a), vb = o2p_load_i64(x, t, b);
        return va < vb ? -1 : (va > vb ? 1 : 0);
    }
    }
}

/* Slice i against slice j, lexicographically over (outer, inner). */
O2P_DEVICE int uniq_slice_cmp(const o2p_select_unique_params &p, o2p_i64 i, o2p_i64 j)
{
    const void *x = (const void *)p.x_ptr;
    for (o2p_i64 o = 0; o < p.outer; o++) {
        o2p_i64 bi = (o * p.n + i) * p.inner, bj = (o * p.n + j) * p.inner;
        for (o2p_i64 e = 0; e < p.inner; e++) {
            int c = uniq_elem_cmp(x, p.dtype, bi + e, bj + e);
            if (c)
                return c;
        }
    }
    return 0;
}

extern "C" __global__ void o2p_select_unique_rep(o2p_select_unique_params p)
{
    o2p_i64 *rep = (o2p_i64 *)p.rep_ptr;
    O2P_FOR(j, p.n)
    {
        o2p_i64 r = j;
        for (o2p_i64 i = 0; i < j; i++)
            if (uniq_slice_cmp(p, i, j) == 0) {
                r = i;
                break;
            }
        rep[j] = r;
    }
}

extern "C" __global__ void o2p_select_unique_rank(o2p_select_unique_params p)
{
    const o2p_i64 *rep = (const o2p_i64 *)p.rep_ptr;
    o2p_i64 *pos = (o2p_i64 *)p.pos_ptr, *cnt = (o2p_i64 *)p.cnt_ptr;
    O2P_FOR(j, p.n)
    {
        if (rep[j] != j)
            continue;
        o2p_i64 before = 0, repeats = 0;
        for (o2p_i64 i = 0; i < p.n; i++) {
            if (rep[i] == j)
                repeats++;
            if (rep[i] != i || i == j)
                continue;
            if (p.sorted ? uniq_slice_cmp(p, i, j) < 0 : i < j)
                before++;
        }
        pos[j] = before;
        cnt[j] = repeats;
    }
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        o2p_i64 k = 0;
        for (o2p_i64 i = 0; i < p.n; i++)
            k += rep[i] == i;
        *(o2p_i64 *)p.k_ptr = k;
        if (p.y_shape_ptr) {
            o2p_i64 *s = (o2p_i64 *)p.y_shape_ptr;
            for (int d = 0; d < p.y_rank; d++)
                s[d] = d == p.axis ? k : p.y_dims[d];
        }
        if (p.indices_shape_ptr)
            *(o2p_i64 *)p.indices_shape_ptr = k;
        if (p.counts_shape_ptr)
            *(o2p_i64 *)p.counts_shape_ptr = k;
    }
}

/* Copies element `from` of x to element `to` of y, both of `size` bytes. */
O2P_DEVICE void uniq_copy(void *y, o2p_i64 to, const void *x, o2p_i64 from, int size)
{
    switch (size) {
    case 1: ((unsigned char *)y)[to] = ((const unsigned char *)x)[from]; return;
    case 2: ((unsigned short *)y)[to] = ((const unsigned short *)x)[from]; return;
    case 4: ((unsigned int *)y)[to] = ((const unsigned int *)x)[from]; return;
    default: ((unsigned long long *)y)[to] = ((const unsigned long long *)x)[from]; return;
    }
}

O2P_DEVICE int uniq_elem_size(int t)
{
    switch (t) {
    case O2P_CU_UINT8:
    case O2P_CU_INT8:
    case O2P_CU_BOOL: return 1;
    case O2P_CU_UINT16:
    case O2P_CU_INT16:
    case O2P_CU_FLOAT16:
    case O2P_CU_BFLOAT16: return 2;
    case O2P_CU_FLOAT:
    case O2P_CU_INT32:
    case O2P_CU_UINT32: return 4;
    default: return 8;
    }
}

extern "C" __global__ void o2p_select_unique_write(o2p_select_unique_params p)
{
    const o2p_i64 *rep = (const o2p_i64 *)p.rep_ptr;
    const o2p_i64 *pos = (const o2p_i64 *)p.pos_ptr, *cnt = (const o2p_i64 *)p.cnt_ptr;
    const o2p_i64 k = *(const o2p_i64 *)p.k_ptr;
    O2P_FOR(j, p.n)
    {
        o2p_i64 at = pos[rep[j]];
        if (p.inverse_ptr)
            ((o2p_i64 *)p.inverse_ptr)[j] = at;
        if (rep[j] != j)
            continue;
        if (p.indices_ptr)
            ((o2p_i64 *)p.indices_ptr)[at] = j;
        if (p.counts_ptr)
            ((o2p_i64 *)p.counts_ptr)[at] = cnt[j];
    }
    const int size = uniq_elem_size(p.dtype);
    O2P_FOR(t, p.outer * p.n * p.inner)
    {
        o2p_i64 e = t % p.inner, q = t / p.inner;
        o2p_i64 j = q % p.n, o = q / p.n;
        if (rep[j] == j)
            uniq_copy((void *)p.y_ptr, (o * k + pos[j]) * p.inner + e, (const void *)p.x_ptr, t,
                      size);
    }
}

/* ---------------------------------------------------------------- NonMaxSuppression */

/* The ordering key of a score: NaN ranks as -infinity (last), as the host kernel. */
O2P_DEVICE float nms_key(float s)
{
    return s != s ? -__int_as_float(0x7f800000) : s;
}

/* onnxruntime's SuppressByIOU, in float with every operation rounded on its own (no
 * contraction into FMA), so the decision is the host kernel's bit for bit. Boxes are
 * [y1, x1, y2, x2] with either corner first (center_point_box 0) or
 * [x_center, y_center, width, height] (1). */
O2P_DEVICE bool nms_suppress(const float *a, const float *b, int center, float iou_threshold)
{
    float ax0, ax1, ay0, ay1, bx0, bx1, by0, by1;
    if (center == 0) {
        ax0 = a[1] < a[3] ? a[1] : a[3];
        ax1 = a[1] < a[3] ? a[3] : a[1];
        ay0 = a[0] < a[2] ? a[0] : a[2];
        ay1 = a[0] < a[2] ? a[2] : a[0];
        bx0 = b[1] < b[3] ? b[1] : b[3];
        bx1 = b[1] < b[3] ? b[3] : b[1];
        by0 = b[0] < b[2] ? b[0] : b[2];
        by1 = b[0] < b[2] ? b[2] : b[0];
    } else {
        float aw = __fmul_rn(a[2], 0.5f), ah = __fmul_rn(a[3], 0.5f);
        float bw = __fmul_rn(b[2], 0.5f), bh = __fmul_rn(b[3], 0.5f);
        ax0 = __fsub_rn(a[0], aw);
        ax1 = __fadd_rn(a[0], aw);
        ay0 = __fsub_rn(a[1], ah);
        ay1 = __fadd_rn(a[1], ah);
        bx0 = __fsub_rn(b[0], bw);
        bx1 = __fadd_rn(b[0], bw);
        by0 = __fsub_rn(b[1], bh);
        by1 = __fadd_rn(b[1], bh);
    }
    float ix0 = ax0 < bx0 ? bx0 : ax0, ix1 = ax1 < bx1 ? ax1 : bx1;
    if (ix1 <= ix0)
        return false;
    float iy0 = ay0 < by0 ? by0 : ay0, iy1 = ay1 < by1 ? ay1 : by1;
    if (iy1 <= iy0)
        return false;
    float inter = __fmul_rn(__fsub_rn(ix1, ix0), __fsub_rn(iy1, iy0));
    if (inter <= 0.0f)
        return false;
    float area_a = __fmul_rn(__fsub_rn(ax1, ax0), __fsub_rn(ay1, ay0));
    float area_b = __fmul_rn(__fsub_rn(bx1, bx0), __fsub_rn(by1, by0));
    float uni = __fsub_rn(__fadd_rn(area_a, area_b), inter);
    if (area_a <= 0.0f || area_b <= 0.0f || uni <= 0.0f)
        return false;
    return __fdiv_rn(inter, uni) > iou_threshold;
}

#define NMS_BLOCK 256

extern "C" __global__ void __launch_bounds__(NMS_BLOCK)
    o2p_select_nms_class(o2p_select_nms_params p)
{
    __shared__ unsigned long long s_cand;
    __shared__ long long s_count;
    const o2p_i64 n = p.boxes;
    o2p_i64 limit = 0;
    if (p.max_ptr)
        limit = p.max_dtype == O2P_CU_INT32 ? (o2p_i64) * (const int *)p.max_ptr
                                            : *(const long long *)p.max_ptr;
    limit = limit < 0 ? 0 : (limit > p.max_cap ? p.max_cap : limit);
    const float iou = p.iou_ptr ? *(const float *)p.iou_ptr : 0.0f;
    const bool have_st = p.score_ptr != 0;
    const float st = have_st ? *(const float *)p.score_ptr : 0.0f;
    for (o2p_i64 g = blockIdx.x; g < p.groups; g += gridDim.x) {
        const float *sc = (const float *)p.scores_ptr + g * n;
        const float *bx = (const float *)p.boxes_ptr + (g / p.classes) * n * 4;
        o2p_i64 *order = (o2p_i64 *)p.order_ptr + g * n;
        o2p_i64 *sel = (o2p_i64 *)p.sel_ptr + g * n;
        if (threadIdx.x == 0) {
            s_cand = 0;
            s_count = 0;
        }
        __syncthreads();
        /* rank of candidate i: the candidates before it (higher key, or equal key and lower
         * index), a permutation of [0, candidates) */
        unsigned long long mine = 0;
        for (o2p_i64 i = threadIdx.x; i < n; i += blockDim.x) {
            if (have_st && !(sc[i] > st))
                continue;
            float ki = nms_key(sc[i]);
            o2p_i64 r = 0;
            for (o2p_i64 j = 0; j < n; j++) {
                if (have_st && !(sc[j] > st))
                    continue;
                float kj = nms_key(sc[j]);
                r += kj > ki || (kj == ki && j < i);
            }
            order[r] = i;
            mine++;
        }
        if (mine)
            atomicAdd(&s_cand, mine);
        __syncthreads();
        const o2p_i64 cand = (o2p_i64)s_cand;
        for (o2p_i64 c = 0; c < cand; c++) {
            const o2p_i64 chosen = s_count; /* the same in every thread: written before a sync */
            if (chosen >= limit)
                break;
            const o2p_i64 i = order[c];
            int hit = 0;
            for (o2p_i64 m = threadIdx.x; m < chosen && !hit; m += blockDim.x)
                hit = nms_suppress(bx + sel[m] * 4, bx + i * 4, p.center_point_box, iou);
            if (!__syncthreads_or(hit) && threadIdx.x == 0) {
                sel[chosen] = i;
                s_count = chosen + 1;
            }
            __syncthreads();
        }
        if (threadIdx.x == 0)
            ((o2p_i64 *)p.count_ptr)[g] = s_count;
        __syncthreads();
    }
}

/* One block: every thread walks the groups with the same running row, writing its share of
 * each group's rows; no synchronization is needed since each thread sums the same counts. */
extern "C" __global__ void o2p_select_nms_gather(o2p_select_nms_params p)
{
    const o2p_i64 *count = (const o2p_i64 *)p.count_ptr;
    const o2p_i64 *sel = (const o2p_i64 *)p.sel_ptr;
    o2p_i64 *y = (o2p_i64 *)p.y_ptr;
    o2p_i64 row = 0;
    for (o2p_i64 g = 0; g < p.groups; g++) {
        o2p_i64 c = count[g];
        if (c > p.rows - row)
            c = p.rows - row; /* never past the allocation (the lowering sizes it to fit) */
        for (o2p_i64 m = threadIdx.x; m < c; m += blockDim.x) {
            o2p_i64 *r = y + (row + m) * 3;
            r[0] = g / p.classes;
            r[1] = g % p.classes;
            r[2] = sel[g * p.boxes + m];
        }
        row += c;
    }
    if (threadIdx.x == 0 && p.y_shape_ptr) {
        ((o2p_i64 *)p.y_shape_ptr)[0] = row;
        ((o2p_i64 *)p.y_shape_ptr)[1] = 3;
    }
}
