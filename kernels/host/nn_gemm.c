/* nn_gemm.c: the float32 GEMM the hot host kernels share (packed panels, cache blocking, a
 * register-tiled micro-kernel with an AVX2+FMA variant chosen at run time on x86-64), and
 * the Gemm and MatMul kernels (float32 through it; other float types staged in float32 or
 * computed in double; integers exact, wrapping like C unsigned arithmetic). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/nn_internal.h"

/* ---------------------------------------------------------------- sgemm */

/* Blocking: a KC x NC panel of B stays in L2/L3, an MC x KC panel of A in L2, and the
 * micro-kernel keeps an MR x NR tile of C in registers. */
#define MR 6
#define KC 256
#define MC (MR * 24)
#define NC 2048

typedef void (*micro_kernel_fn)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                                int mr, int nr, float alpha, float beta);

/* The micro-kernel: C[0..mr, 0..nr) = alpha * (packed A panel x packed B panel) + beta * C,
 * with a 6 x (2 vectors) tile of accumulators. VT is a GCC vector of LANES floats. Full
 * tiles are stored straight into C; edge tiles go through a local tile. */
#define NN_ROW_FMA(VT, i)       \
    do {                        \
        VT ai = (VT){0} + a[i]; \
        acc##i##0 += ai * b0;   \
        acc##i##1 += ai * b1;   \
    } while (0)
#define NN_ROW_STORE(VT, LANES, i)                                \
    do {                                                          \
        VT v0 = acc##i##0 * alpha, v1 = acc##i##1 * alpha;        \
        float *row = full ? c + (i)*ldc : tile + (i)*2 * (LANES); \
        if (full && beta != 0.0f) {                               \
            VT o0, o1;                                            \
            memcpy(&o0, row, sizeof o0);                          \
            memcpy(&o1, row + (LANES), sizeof o1);                \
            v0 += o0 * beta;                                      \
            v1 += o1 * beta;                                      \
        }                                                         \
        memcpy(row, &v0, sizeof v0);                              \
        memcpy(row + (LANES), &v1, sizeof v1);                    \
    } while (0)
#define NN_DEFINE_MICRO_KERNEL(NAME, VT, LANES, ATTR)                                              \
    ATTR static void NAME(int64_t kc, const float *restrict a, const float *restrict b,            \
                          float *restrict c, int64_t ldc, int mr, int nr, float alpha, float beta) \
    {                                                                                              \
        VT acc00 = {0}, acc01 = {0}, acc10 = {0}, acc11 = {0}, acc20 = {0}, acc21 = {0};           \
        VT acc30 = {0}, acc31 = {0}, acc40 = {0}, acc41 = {0}, acc50 = {0}, acc51 = {0};           \
        for (int64_t k = 0; k < kc; k++) {                                                         \
            VT b0, b1;                                                                             \
            memcpy(&b0, b, sizeof b0);                                                             \
            memcpy(&b1, b + (LANES), sizeof b1);                                                   \
            NN_ROW_FMA(VT, 0);                                                                     \
            NN_ROW_FMA(VT, 1);                                                                     \
            NN_ROW_FMA(VT, 2);                                                                     \
            NN_ROW_FMA(VT, 3);                                                                     \
            NN_ROW_FMA(VT, 4);                                                                     \
            NN_ROW_FMA(VT, 5);                                                                     \
            a += MR;                                                                               \
            b += 2 * (LANES);                                                                      \
        }                                                                                          \
        int full = mr == MR && nr == 2 * (LANES);                                                  \
        float tile[MR * 2 * (LANES)];                                                              \
        NN_ROW_STORE(VT, LANES, 0);                                                                \
        NN_ROW_STORE(VT, LANES, 1);                                                                \
        NN_ROW_STORE(VT, LANES, 2);                                                                \
        NN_ROW_STORE(VT, LANES, 3);                                                                \
        NN_ROW_STORE(VT, LANES, 4);                                                                \
        NN_ROW_STORE(VT, LANES, 5);                                                                \
        if (!full)                                                                                 \
            for (int i = 0; i < mr; i++)                                                           \
                for (int j = 0; j < nr; j++) {                                                     \
                    float v = tile[i * 2 * (LANES) + j];                                           \
                    c[i * ldc + j] = beta != 0.0f ? v + beta * c[i * ldc + j] : v;                 \
                }                                                                                  \
    }

typedef float nn_v4f __attribute__((vector_size(16)));
NN_DEFINE_MICRO_KERNEL(micro_kernel_v4, nn_v4f, 4, )

/* -DO2P_HOST_NO_AVX2 builds only the portable kernel (to test it on an AVX2 machine). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(O2P_HOST_NO_AVX2)
#define NN_HAVE_AVX2 1
typedef float nn_v8f __attribute__((vector_size(32)));
NN_DEFINE_MICRO_KERNEL(micro_kernel_avx2, nn_v8f, 8, __attribute__((target("avx2,fma"))))
#endif

/* The micro-kernel for this CPU and its NR (columns per B panel). */
static micro_kernel_fn pick_micro_kernel(int *nr)
{
#ifdef NN_HAVE_AVX2
    static int avx2 = -1;
    if (avx2 < 0) {
        __builtin_cpu_init();
        avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    if (avx2) {
        *nr = 16;
        return micro_kernel_avx2;
    }
#endif
    *nr = 8;
    return micro_kernel_v4;
}

/* Packs rows [0, mc) x cols [0, kc) of A into MR-row panels: (k, i) at p*kc*MR + k*MR + i,
 * zero-padding the last panel. */
static void pack_a(int64_t mc, int64_t kc, const float *A, int64_t rs, int64_t cs, float *buf)
{
    for (int64_t i0 = 0; i0 < mc; i0 += MR) {
        int64_t rows = mc - i0 < MR ? mc - i0 : MR;
        for (int64_t k = 0; k < kc; k++) {
            const float *src = A + i0 * rs + k * cs;
            int64_t i = 0;
            for (; i < rows; i++)
                buf[i] = src[i * rs];
            for (; i < MR; i++)
                buf[i] = 0.0f;
            buf += MR;
        }
    }
}

/* Packs rows [0, kc) x cols [0, nc) of B into nr-column panels: (k, j) at p*kc*nr + k*nr + j. */
static void pack_b(int64_t kc, int64_t nc, const float *B, int64_t rs, int64_t cs, int nr,
                   float *buf)
{
    for (int64_t j0 = 0; j0 < nc; j0 += nr) {
        int64_t cols = nc - j0 < nr ? nc - j0 : nr;
        for (int64_t k = 0; k < kc; k++) {
            const float *src = B + k * rs + j0 * cs;
            int64_t j = 0;
            if (cs == 1) {
                memcpy(buf, src, (size_t)cols * sizeof(float));
                j = cols;
            } else {
                for (; j < cols; j++)
                    buf[j] = src[j * cs];
            }
            for (; j < nr; j++)
                buf[j] = 0.0f;
            buf += nr;
        }
    }
}

/* C = beta * C (C is not read when beta is 0). */
static void scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++)
            C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

int host_nn_sgemm(int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t a_rs,
                  int64_t a_cs, const float *B, int64_t b_rs, int64_t b_cs, float beta, float *C,
                  int64_t ldc)
{
    if (M <= 0 || N <= 0)
        return 1;
    if (K <= 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return 1;
    }
    if (M <= 2048 && N <= 2048 && K <= 2048 && M * N * K <= 2048) {
        /* small products: packing would cost more than it saves */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                float s = 0.0f;
                for (int64_t k = 0; k < K; k++)
                    s += A[i * a_rs + k * a_cs] * B[k * b_rs + j * b_cs];
                float *c = &C[i * ldc + j];
                *c = beta == 0.0f ? alpha * s : alpha * s + beta * *c;
            }
        return 1;
    }
    int nr;
    micro_kernel_fn micro = pick_micro_kernel(&nr);
    int64_t kcap = K < KC ? K : KC;
    int64_t mcap = (M < MC ? M : MC) + MR;
    int64_t ncap = (N < NC ? N : NC) + nr;
    float *apack = malloc((size_t)(kcap * mcap) * sizeof(float));
    float *bpack = malloc((size_t)(kcap * ncap) * sizeof(float));
    if (!apack || !bpack) {
        free(apack);
        free(bpack);
        return 0;
    }
    for (int64_t jc = 0; jc < N; jc += NC) {
        int64_t nc = N - jc < NC ? N - jc : NC;
        for (int64_t pc = 0; pc < K; pc += KC) {
            int64_t kc = K - pc < KC ? K - pc : KC;
            float b = pc == 0 ? beta : 1.0f;
            pack_b(kc, nc, B + pc * b_rs + jc * b_cs, b_rs, b_cs, nr, bpack);
            for (int64_t ic = 0; ic < M; ic += MC) {
                int64_t mc = M - ic < MC ? M - ic : MC;
                pack_a(mc, kc, A + ic * a_rs + pc * a_cs, a_rs, a_cs, apack);
                for (int64_t jr = 0; jr < nc; jr += nr) {
                    int cols = (int)(nc - jr < nr ? nc - jr : nr);
                    const float *bp = bpack + (jr / nr) * kc * nr;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int rows = (int)(mc - ir < MR ? mc - ir : MR);
                        micro(kc, apack + (ir / MR) * kc * MR, bp, C + (ic + ir) * ldc + jc + jr,
                              ldc, rows, cols, alpha, b);
                    }
                }
            }
        }
    }
    free(apack);
    free(bpack);
    return 1;
}

/* ---------------------------------------------------------------- generic paths */

/* Element (i, j) of a matrix view: data index base + i * rs + j * cs. */
typedef struct mat_view {
    const host_tensor *t;
    int64_t base, rs, cs;
} mat_view;

/* Y[y_base + i*N + j] = sum_k A(i,k) B(k,j) for double / integer element types. acc_c:
 * add beta * C(i, j) (C given as a view), scaled by alpha. */
static void gemm_generic(int64_t M, int64_t N, int64_t K, mat_view A, mat_view B, host_tensor *Y,
                         int64_t y_base, double alpha, double beta, const mat_view *Cv)
{
    int integer = host_nn_is_integer(Y->dtype);
    int exact = integer && alpha == floor(alpha) && beta == floor(beta) && fabs(alpha) < 9e15 &&
                fabs(beta) < 9e15;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            int64_t yi = y_base + i * N + j;
            if (integer) {
                uint64_t s = 0;
                for (int64_t k = 0; k < K; k++)
                    s += (uint64_t)host_get_i64(A.t, A.base + i * A.rs + k * A.cs) *
                         (uint64_t)host_get_i64(B.t, B.base + k * B.rs + j * B.cs);
                if (exact) {
                    uint64_t v = s * (uint64_t)(int64_t)alpha;
                    if (Cv)
                        v += (uint64_t)host_get_i64(Cv->t, Cv->base + i * Cv->rs + j * Cv->cs) *
                             (uint64_t)(int64_t)beta;
                    host_set_i64(Y, yi, (int64_t)v);
                } else {
                    double v = alpha * (double)(int64_t)s;
                    if (Cv)
                        v += beta * host_get_f64(Cv->t, Cv->base + i * Cv->rs + j * Cv->cs);
                    host_set_f64(Y, yi, v);
                }
            } else {
                double s = 0.0;
                for (int64_t k = 0; k < K; k++)
                    s += host_get_f64(A.t, A.base + i * A.rs + k * A.cs) *
                         host_get_f64(B.t, B.base + k * B.rs + j * B.cs);
                double v = alpha * s;
                if (Cv)
                    v += beta * host_get_f64(Cv->t, Cv->base + i * Cv->rs + j * Cv->cs);
                host_set_f64(Y, yi, v);
            }
        }
}

static int gemm_dtype_ok(o2p_dtype t)
{
    return t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_FLOAT16 || t == O2P_DTYPE_BFLOAT16 ||
           t == O2P_DTYPE_DOUBLE || t == O2P_DTYPE_INT32 || t == O2P_DTYPE_INT64 ||
           t == O2P_DTYPE_UINT32 || t == O2P_DTYPE_UINT64;
}

/* ---------------------------------------------------------------- Gemm */

o2p_status host_nn_gemm(const host_kernel_args *a)
{
    const host_tensor *A, *B, *C;
    O2P_TRY(host_nn_input(a, 0, "A", &A));
    O2P_TRY(host_nn_input(a, 1, "B", &B));
    O2P_TRY(host_nn_input_opt(a, 2, "C", 0, &C));
    O2P_TRY(host_nn_want_rank(a, A, "A", 2));
    O2P_TRY(host_nn_want_rank(a, B, "B", 2));
    if (!gemm_dtype_ok(A->dtype))
        return host_unsupported_dtype(a, A->dtype);
    O2P_TRY(host_nn_want_dtype(a, B, "B", A->dtype));
    if (C)
        O2P_TRY(host_nn_want_dtype(a, C, "C", A->dtype));
    int trans_a = host_attr_int(a, "transA", 0) != 0, trans_b = host_attr_int(a, "transB", 0) != 0;
    float alpha = host_attr_float(a, "alpha", 1.0f), beta = host_attr_float(a, "beta", 1.0f);
    int64_t M = trans_a ? A->dims[1] : A->dims[0], K = trans_a ? A->dims[0] : A->dims[1];
    int64_t Kb = trans_b ? B->dims[1] : B->dims[0], N = trans_b ? B->dims[0] : B->dims[1];
    if (K != Kb) {
        char s1[64], s2[64];
        return host_error(a, "A %s%s and B %s%s do not multiply", host_nn_shape_str(A, s1, 64),
                          trans_a ? " (transposed)" : "", host_nn_shape_str(B, s2, 64),
                          trans_b ? " (transposed)" : "");
    }
    int64_t ydims[2] = {M, N};
    /* C broadcasts unidirectionally to [M, N]. */
    int64_t c_rs = 0, c_cs = 0;
    if (C) {
        if (C->rank > 2)
            return host_error(a, "C must have rank <= 2, not %d", C->rank);
        int64_t cm = C->rank == 2 ? C->dims[0] : 1;
        int64_t cn = C->rank >= 1 ? C->dims[C->rank - 1] : 1;
        if ((cm != 1 && cm != M) || (cn != 1 && cn != N)) {
            char s1[64];
            return host_error(a, "C %s does not broadcast to [%lld,%lld]",
                              host_nn_shape_str(C, s1, 64), (long long)M, (long long)N);
        }
        c_rs = cm == 1 ? 0 : cn;
        c_cs = cn == 1 ? 0 : 1;
    }
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, A->dtype, 2, ydims, &Y));
    if (M == 0 || N == 0)
        return O2P_OK;
    int64_t a_rs = trans_a ? 1 : K, a_cs = trans_a ? M : 1;
    int64_t b_rs = trans_b ? 1 : N, b_cs = trans_b ? K : 1;
    if (A->dtype == O2P_DTYPE_DOUBLE || host_nn_is_integer(A->dtype)) {
        mat_view av = {A, 0, a_rs, a_cs}, bv = {B, 0, b_rs, b_cs}, cv = {C, 0, c_rs, c_cs};
        gemm_generic(M, N, K, av, bv, Y, 0, alpha, beta, C && beta != 0.0f ? &cv : NULL);
        return O2P_OK;
    }
    float *oa = NULL, *ob = NULL, *oc = NULL, *oy = NULL;
    o2p_status st = O2P_OK;
    const float *fa = host_nn_f32_in(a, A, &oa), *fb = fa ? host_nn_f32_in(a, B, &ob) : NULL;
    const float *fc = fb && C ? host_nn_f32_in(a, C, &oc) : NULL;
    float *fy = fb && (!C || fc) ? host_nn_f32_buf(a, Y, &oy) : NULL;
    if (!fy) {
        st = O2P_ERR_OUT_OF_MEMORY;
        goto out;
    }
    float b = 0.0f;
    if (C && beta != 0.0f) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                fy[i * N + j] = fc[i * c_rs + j * c_cs];
        b = beta;
    }
    if (!host_nn_sgemm(M, N, K, alpha, fa, a_rs, a_cs, fb, b_rs, b_cs, b, fy, N)) {
        st = host_nn_oom(a);
        goto out;
    }
    host_nn_f32_out(Y, fy);
out:
    free(oa);
    free(ob);
    free(oc);
    free(oy);
    return st;
}

/* ---------------------------------------------------------------- MatMul */

o2p_status host_nn_matmul(const host_kernel_args *a)
{
    const host_tensor *A, *B;
    O2P_TRY(host_nn_input(a, 0, "A", &A));
    O2P_TRY(host_nn_input(a, 1, "B", &B));
    if (!gemm_dtype_ok(A->dtype))
        return host_unsupported_dtype(a, A->dtype);
    O2P_TRY(host_nn_want_dtype(a, B, "B", A->dtype));
    if (A->rank < 1 || B->rank < 1)
        return host_error(a, "inputs must have rank >= 1, not %d and %d", A->rank, B->rank);
    /* 1-D operands are promoted to matrices ([K] -> [1,K] for A, [K,1] for B) and the added
     * axis is dropped from the result. */
    int64_t M = A->rank >= 2 ? A->dims[A->rank - 2] : 1, K = A->dims[A->rank - 1];
    int64_t Kb = B->rank >= 2 ? B->dims[B->rank - 2] : B->dims[0];
    int64_t N = B->rank >= 2 ? B->dims[B->rank - 1] : 1;
    if (K != Kb) {
        char s1[256], s2[256];
        return host_error(a, "A %s and B %s do not multiply (inner dims %lld and %lld)",
                          host_nn_shape_str(A, s1, sizeof s1), host_nn_shape_str(B, s2, sizeof s2),
                          (long long)K, (long long)Kb);
    }
    int ab = A->rank > 2 ? A->rank - 2 : 0, bb = B->rank > 2 ? B->rank - 2 : 0;
    int nb = ab > bb ? ab : bb;
    int64_t bdims[HOST_MAX_RANK], astr[HOST_MAX_RANK], bstr[HOST_MAX_RANK];
    int64_t a_mat = M * K, b_mat = K * N;
    /* batch dims broadcast right-aligned; strides in matrices (0 where broadcast) */
    int64_t as = 1, bs = 1;
    for (int i = nb - 1; i >= 0; i--) {
        int ia = i - (nb - ab), ib = i - (nb - bb);
        int64_t da = ia >= 0 ? A->dims[ia] : 1, db = ib >= 0 ? B->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char s1[256], s2[256];
            return host_error(a, "batch dims of A %s and B %s do not broadcast",
                              host_nn_shape_str(A, s1, sizeof s1),
                              host_nn_shape_str(B, s2, sizeof s2));
        }
        bdims[i] = da == 1 ? db : da;
        astr[i] = da == 1 ? 0 : as;
        bstr[i] = db == 1 ? 0 : bs;
        as *= da;
        bs *= db;
    }
    int64_t ydims[HOST_MAX_RANK];
    int yr = 0;
    for (int i = 0; i < nb; i++)
        ydims[yr++] = bdims[i];
    if (A->rank >= 2)
        ydims[yr++] = M;
    if (B->rank >= 2)
        ydims[yr++] = N;
    if (yr > HOST_MAX_RANK)
        return host_error(a, "result rank %d exceeds %d", yr, HOST_MAX_RANK);
    host_tensor *Y;
    O2P_TRY(host_nn_output(a, 0, A->dtype, yr, ydims, &Y));
    int64_t batch = host_nn_prod(bdims, 0, nb);
    if (batch == 0 || M == 0 || N == 0)
        return O2P_OK;
    int b_shared = 1; /* B the same matrix for every batch: one GEMM with batch * M rows */
    for (int i = 0; i < nb; i++)
        if (bstr[i] != 0 && bdims[i] != 1)
            b_shared = 0;
    int generic = A->dtype == O2P_DTYPE_DOUBLE || host_nn_is_integer(A->dtype);
    float *oa = NULL, *ob = NULL, *oy = NULL;
    const float *fa = NULL, *fb = NULL;
    float *fy = NULL;
    if (!generic) {
        fa = host_nn_f32_in(a, A, &oa);
        fb = fa ? host_nn_f32_in(a, B, &ob) : NULL;
        fy = fb ? host_nn_f32_buf(a, Y, &oy) : NULL;
        if (!fy) {
            free(oa);
            free(ob);
            return O2P_ERR_OUT_OF_MEMORY;
        }
    }
    o2p_status st = O2P_OK;
    if (!generic && b_shared) {
        if (!host_nn_sgemm(batch * M, N, K, 1.0f, fa, K, 1, fb, N, 1, 0.0f, fy, N))
            st = host_nn_oom(a);
    } else {
        int64_t idx[HOST_MAX_RANK] = {0};
        for (int64_t bi = 0; bi < batch && st == O2P_OK; bi++) {
            int64_t ao = 0, bo = 0;
            for (int i = 0; i < nb; i++) {
                ao += idx[i] * astr[i];
                bo += idx[i] * bstr[i];
            }
            if (generic) {
                mat_view av = {A, ao * a_mat, K, 1}, bv = {B, bo * b_mat, N, 1};
                gemm_generic(M, N, K, av, bv, Y, bi * M * N, 1.0, 0.0, NULL);
            } else if (!host_nn_sgemm(M, N, K, 1.0f, fa + ao * a_mat, K, 1, fb + bo * b_mat, N, 1,
                                      0.0f, fy + bi * M * N, N)) {
                st = host_nn_oom(a);
            }
            for (int i = nb - 1; i >= 0; i--) {
                if (++idx[i] < bdims[i])
                    break;
                idx[i] = 0;
            }
        }
    }
    if (st == O2P_OK && !generic)
        host_nn_f32_out(Y, fy);
    free(oa);
    free(ob);
    free(oy);
    return st;
}
