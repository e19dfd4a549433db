/* gemm.cu: the gemm kernel family: Gemm, MatMul and Conv as (batched, implicit) GEMMs with a
 * SIMT path (fp32 or fp64 FMA, the exact one) and tensor-core paths (mma.sync tf32 / f16 /
 * bf16 with fp32 accumulation, sm_80+), a direct Conv, a direct (gather) ConvTranspose and a
 * generic integer GEMM. The struct and the index conventions are in gemm_params.h; the
 * results follow kernels/host/nn_gemm.c and nn_conv.c. */
#include "o2p_cuda.h"
#include "gemm_params.h"

static_assert(sizeof(o2p_gemm_params) == 1504, "o2p_gemm_params layout");
static_assert(O2P_GEMM_PARAMS_SIZE == 1504, "O2P_GEMM_PARAMS_SIZE");

typedef o2p_gemm_params gemm_p;

/* ---------------------------------------------------------------- element access */

/* Storage types: the tensors' element type (S) and the type it is computed in (A). */
struct f32_t { typedef float A; };
struct f16_t { typedef float A; };
struct bf16_t { typedef float A; };
struct f64_t { typedef double A; };

O2P_DEVICE float ld(f32_t, o2p_u64 p, o2p_i64 i) { return ((const float *)p)[i]; }
O2P_DEVICE float ld(f16_t, o2p_u64 p, o2p_i64 i)
{
    return o2p_half_to_float(((const unsigned short *)p)[i]);
}
O2P_DEVICE float ld(bf16_t, o2p_u64 p, o2p_i64 i)
{
    return o2p_bf16_to_float(((const unsigned short *)p)[i]);
}
O2P_DEVICE double ld(f64_t, o2p_u64 p, o2p_i64 i) { return ((const double *)p)[i]; }

O2P_DEVICE void st(f32_t, o2p_u64 p, o2p_i64 i, float v) { ((float *)p)[i] = v; }
O2P_DEVICE void st(f16_t, o2p_u64 p, o2p_i64 i, float v)
{
    ((unsigned short *)p)[i] = o2p_float_to_half(v);
}
O2P_DEVICE void st(bf16_t, o2p_u64 p, o2p_i64 i, float v)
{
    ((unsigned short *)p)[i] = o2p_float_to_bf16(v);
}
O2P_DEVICE void st(f64_t, o2p_u64 p, o2p_i64 i, double v) { ((double *)p)[i] = v; }

/* Element offsets of GEMM z's A, B and C (z decoded row-major over bdims). */
O2P_DEVICE void batch_offsets(const gemm_p &p, o2p_i64 z, o2p_i64 &ao, o2p_i64 &bo, o2p_i64 &co)
{
    ao = bo = co = 0;
    for (int d = p.nb - 1; d >= 0; d--) {
        o2p_i64 n = p.bdims[d], q = z / n, r = z - q * n;
        ao += r * p.a_bstr[d];
        bo += r * p.b_bstr[d];
        co += r * p.c_bstr[d];
        z = q;
    }
}

/* A(i, k), 0 outside [0, M) x [0, K). */
template <class D>
O2P_DEVICE typename D::A load_a(const gemm_p &p, o2p_i64 ao, o2p_i64 i, o2p_i64 k)
{
    typedef typename D::A A;
    if (i >= p.M || k >= p.K)
        return (A)0;
    return ld(D(), p.a_ptr, ao + i * p.a_rs + k * p.a_cs);
}

/* B(k, j), 0 outside [0, K) x [0, N). CONV: the im2col element of X's group slice at bo:
 * k = c * kprod + kernel offset, j = output position; 0 where the window is in the padding. */
template <class D, bool CONV>
O2P_DEVICE typename D::A load_b(const gemm_p &p, o2p_i64 bo, o2p_i64 k, o2p_i64 j)
{
    typedef typename D::A A;
    if (k >= p.K || j >= p.N)
        return (A)0;
    if (!CONV)
        return ld(D(), p.b_ptr, bo + k * p.b_rs + j * p.b_cs);
    o2p_i64 c = k / p.kprod, kr = k - c * p.kprod, pos = j, off = 0, mul = 1;
    for (int d = p.nsp - 1; d >= 0; d--) {
        o2p_i64 kq = kr / p.kernel[d], pq = pos / p.out[d];
        o2p_i64 t = (pos - pq * p.out[d]) * p.stride[d] + (kr - kq * p.kernel[d]) * p.dilation[d] -
                    p.pad[d];
        if (t < 0 || t >= p.in[d])
            return (A)0;
        off += t * mul;
        mul *= p.in[d];
        kr = kq;
        pos = pq;
    }
    return ld(D(), p.b_ptr, bo + c * p.in_size + off);
}

/* The epilogue: Y(z; i, j) = alpha * acc + beta * C(z; i, j) (C when has_c), in range only.
 * alpha 0 gives exactly beta * C, as the host kernel, which then skips the product. */
template <class D>
O2P_DEVICE void store_y(const gemm_p &p, o2p_i64 z, o2p_i64 co, o2p_i64 i, o2p_i64 j,
                        typename D::A acc)
{
    typedef typename D::A A;
    if (i >= p.M || j >= p.N)
        return;
    A v = p.alpha == 0.0 ? (A)0 : (A)p.alpha * acc;
    if (p.has_c)
        v += (A)p.beta * ld(D(), p.c_ptr, co + i * p.c_rs + j * p.c_cs);
    st(D(), p.y_ptr, (z * p.M + i) * p.N + j, v);
}

/* ---------------------------------------------------------------- SIMT GEMM */

/* 16x16 threads compute a 64x64 tile of Y; thread (ty, tx) owns rows ty + 16*r and columns
 * tx + 16*c (r, c < 4). Tiles of A (64 x 16) and B (16 x 64) go through shared memory in the
 * accumulator type. Grid: x over N tiles, y over M tiles, z over the batch (each loops with
 * its grid stride, so any size fits the grid limits). */
template <class D, bool CONV>
O2P_DEVICE void simt_gemm(const gemm_p &p)
{
    typedef typename D::A A;
    __shared__ A As[O2P_GEMM_SIMT_TILE_K][O2P_GEMM_TILE_M];
    __shared__ A Bs[O2P_GEMM_SIMT_TILE_K][O2P_GEMM_TILE_N];
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * 16 + tx;
    const o2p_i64 mtiles = (p.M + 63) / 64, ntiles = (p.N + 63) / 64;
    for (o2p_i64 z = blockIdx.z; z < p.batch; z += gridDim.z) {
        o2p_i64 ao, bo, co;
        batch_offsets(p, z, ao, bo, co);
        for (o2p_i64 tm = blockIdx.y; tm < mtiles; tm += gridDim.y)
            for (o2p_i64 tn = blockIdx.x; tn < ntiles; tn += gridDim.x) {
                const o2p_i64 m0 = tm * 64, n0 = tn * 64;
                A acc[4][4];
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 4; c++)
                        acc[r][c] = (A)0;
                for (o2p_i64 k0 = 0; k0 < p.K; k0 += O2P_GEMM_SIMT_TILE_K) {
                    for (int r = 0; r < 4; r++) {
                        int e = tid + 256 * r;
                        int arow = e >> 4, ak = e & 15; /* A: 64 rows x 16 k */
                        As[ak][arow] = load_a<D>(p, ao, m0 + arow, k0 + ak);
                        int bk = e >> 6, bcol = e & 63; /* B: 16 k x 64 columns */
                        Bs[bk][bcol] = load_b<D, CONV>(p, bo, k0 + bk, n0 + bcol);
                    }
                    __syncthreads();
                    for (int kk = 0; kk < O2P_GEMM_SIMT_TILE_K; kk++) {
                        A av[4], bv[4];
                        for (int r = 0; r < 4; r++)
                            av[r] = As[kk][ty + 16 * r];
                        for (int c = 0; c < 4; c++)
                            bv[c] = Bs[kk][tx + 16 * c];
                        for (int r = 0; r < 4; r++)
                            for (int c = 0; c < 4; c++)
                                acc[r][c] += av[r] * bv[c];
                    }
                    __syncthreads();
                }
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 4; c++)
                        store_y<D>(p, z, co, m0 + ty + 16 * r, n0 + tx + 16 * c, acc[r][c]);
            }
    }
}

/* ---------------------------------------------------------------- tensor-core GEMM */

#define O2P_MMA_TF32 0
#define O2P_MMA_F16 1
#define O2P_MMA_BF16 2

/* Operand storage in shared memory: tf32 as 32-bit words, f16/bf16 as 16-bit halves. */
template <int OP> struct mma_traits {
    typedef unsigned short S;
    enum { PAD = O2P_GEMM_MMA_PAD_16 };
};
template <> struct mma_traits<O2P_MMA_TF32> {
    typedef unsigned int S;
    enum { PAD = O2P_GEMM_MMA_PAD_TF32 };
};

/* float to the operand type: tf32 rounds to nearest (ties away), f16/bf16 to nearest even. */
O2P_DEVICE void cvt_op(float f, unsigned int *out)
{
    unsigned int u;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(u) : "f"(f));
    *out = u;
}

template <int OP> O2P_DEVICE void cvt_op(float f, unsigned short *out)
{
    *out = OP == O2P_MMA_F16 ? o2p_float_to_half(f) : o2p_float_to_bf16(f);
}

template <int OP> O2P_DEVICE void store_op(float f, unsigned int *out) { cvt_op(f, out); }
template <int OP> O2P_DEVICE void store_op(float f, unsigned short *out) { cvt_op<OP>(f, out); }

/* Two adjacent 16-bit elements as one .b32 register: the lower index in the low half. */
O2P_DEVICE unsigned int pack2(unsigned short lo, unsigned short hi)
{
    return (unsigned int)lo | ((unsigned int)hi << 16);
}

/* D = A x B + D for one 16x8 tile (PTX ISA, "Matrix fragments for mma.m16n8k8" (.tf32) and
 * "mma.m16n8k16" (.f16/.bf16)). */
template <int OP> O2P_DEVICE void mma(float *d, const unsigned int *a, const unsigned int *b)
{
    if (OP == O2P_MMA_TF32)
        asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
                     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    else if (OP == O2P_MMA_F16)
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    else
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/* 4 warps compute a 64x64 tile of Y: warp w owns rows (w / 2) * 32 + [0, 32) and columns
 * (w % 2) * 32 + [0, 32), as 2 x 4 mma tiles of 16x8. Per k-step of 32, A's tile (64 x 32,
 * As[row][k]) and B's (32 x 64, stored transposed: Bs[col][k], the "col" operand) are
 * converted to the operand type on the way into shared memory; out-of-range elements are
 * 0, so any M, N, K works. Fragment coordinates, with g = lane / 4 and t = lane % 4:
 *   tf32 m16n8k8:  a[r] = A(g + 8*(r%2), t + 4*(r/2)); b[r] = B(t + 4*r, g)
 *   f16  m16n8k16: a[r] = A(g + 8*(r%2), 2t + 8*(r/2) + {0,1}); b[r] = B(2t + 8*r + {0,1}, g)
 *   both:          d[r] = D(g + 8*(r/2), 2t + r%2). */
template <class D, int OP, bool CONV>
O2P_DEVICE void mma_gemm(const gemm_p &p)
{
    typedef typename mma_traits<OP>::S S;
    const int LD = O2P_GEMM_MMA_TILE_K + mma_traits<OP>::PAD;
    __shared__ __align__(16) S As[O2P_GEMM_TILE_M][LD];
    __shared__ __align__(16) S Bs[O2P_GEMM_TILE_N][LD];
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    const int wm = (warp >> 1) * 32, wn = (warp & 1) * 32;
    const o2p_i64 mtiles = (p.M + 63) / 64, ntiles = (p.N + 63) / 64;
    for (o2p_i64 z = blockIdx.z; z < p.batch; z += gridDim.z) {
        o2p_i64 ao, bo, co;
        batch_offsets(p, z, ao, bo, co);
        for (o2p_i64 tm = blockIdx.y; tm < mtiles; tm += gridDim.y)
            for (o2p_i64 tn = blockIdx.x; tn < ntiles; tn += gridDim.x) {
                const o2p_i64 m0 = tm * 64, n0 = tn * 64;
                float acc[2][4][4];
                for (int mi = 0; mi < 2; mi++)
                    for (int ni = 0; ni < 4; ni++)
                        for (int r = 0; r < 4; r++)
                            acc[mi][ni][r] = 0.0f;
                for (o2p_i64 k0 = 0; k0 < p.K; k0 += O2P_GEMM_MMA_TILE_K) {
                    for (int r = 0; r < 16; r++) {
                        int e = tid + 128 * r;
                        int arow = e >> 5, ak = e & 31; /* A: 64 rows x 32 k */
                        store_op<OP>(load_a<D>(p, ao, m0 + arow, k0 + ak), &As[arow][ak]);
                        int bcol = e & 63, bk = e >> 6; /* B: 32 k x 64 columns */
                        store_op<OP>(load_b<D, CONV>(p, bo, k0 + bk, n0 + bcol), &Bs[bcol][bk]);
                    }
                    __syncthreads();
                    if (OP == O2P_MMA_TF32) {
                        for (int kb = 0; kb < O2P_GEMM_MMA_TILE_K; kb += 8) {
                            unsigned int a[2][4], b[4][2];
                            for (int mi = 0; mi < 2; mi++) {
                                int r0 = wm + mi * 16 + g;
                                a[mi][0] = (unsigned int)As[r0][kb + t];
                                a[mi][1] = (unsigned int)As[r0 + 8][kb + t];
                                a[mi][2] = (unsigned int)As[r0][kb + t + 4];
                                a[mi][3] = (unsigned int)As[r0 + 8][kb + t + 4];
                            }
                            for (int ni = 0; ni < 4; ni++) {
                                int c = wn + ni * 8 + g;
                                b[ni][0] = (unsigned int)Bs[c][kb + t];
                                b[ni][1] = (unsigned int)Bs[c][kb + t + 4];
                            }
                            for (int mi = 0; mi < 2; mi++)
                                for (int ni = 0; ni < 4; ni++)
                                    mma<OP>(acc[mi][ni], a[mi], b[ni]);
                        }
                    } else {
                        for (int kb = 0; kb < O2P_GEMM_MMA_TILE_K; kb += 16) {
                            unsigned int a[2][4], b[4][2];
                            const int k0t = kb + 2 * t;
                            for (int mi = 0; mi < 2; mi++) {
                                int r0 = wm + mi * 16 + g;
                                a[mi][0] = pack2(As[r0][k0t], As[r0][k0t + 1]);
                                a[mi][1] = pack2(As[r0 + 8][k0t], As[r0 + 8][k0t + 1]);
                                a[mi][2] = pack2(As[r0][k0t + 8], As[r0][k0t + 9]);
                                a[mi][3] = pack2(As[r0 + 8][k0t + 8], As[r0 + 8][k0t + 9]);
                            }
                            for (int ni = 0; ni < 4; ni++) {
                                int c = wn + ni * 8 + g;
                                b[ni][0] = pack2(Bs[c][k0t], Bs[c][k0t + 1]);
                                b[ni][1] = pack2(Bs[c][k0t + 8], Bs[c][k0t + 9]);
                            }
                            for (int mi = 0; mi < 2; mi++)
                                for (int ni = 0; ni < 4; ni++)
                                    mma<OP>(acc[mi][ni], a[mi], b[ni]);
                        }
                    }
                    __syncthreads();
                }
                for (int mi = 0; mi < 2; mi++)
                    for (int ni = 0; ni < 4; ni++)
                        for (int r = 0; r < 4; r++)
                            store_y<D>(p, z, co, m0 + wm + mi * 16 + g + 8 * (r >> 1),
                                       n0 + wn + ni * 8 + 2 * t + (r & 1),
                                       (typename D::A)acc[mi][ni][r]);
            }
    }
}

/* ---------------------------------------------------------------- direct convolutions */

/* Conv, one output element per thread: y[n, m, o] = bias[m] + sum over the group's channels
 * c and kernel offsets k of x[n, g*cg + c, o*stride + k*dilation - pad] * w[m, c, k].
 * a_ptr = W, b_ptr = X, c_ptr = the bias. */
template <class D>
O2P_DEVICE void conv_direct(const gemm_p &p)
{
    typedef typename D::A A;
    const o2p_i64 cg = p.c_in / p.group, mg = p.c_out / p.group;
    O2P_FOR(idx, p.n_img * p.c_out * p.out_size)
    {
        o2p_i64 pos = idx % p.out_size, m = (idx / p.out_size) % p.c_out;
        o2p_i64 n = idx / (p.out_size * p.c_out), g = m / mg;
        o2p_i64 od[O2P_CU_MAX_RANK];
        for (int d = p.nsp - 1; d >= 0; d--) {
            od[d] = pos % p.out[d];
            pos /= p.out[d];
        }
        A s = (A)0;
        for (o2p_i64 c = 0; c < cg; c++) {
            const o2p_i64 xbase = (n * p.c_in + g * cg + c) * p.in_size;
            const o2p_i64 wbase = (m * cg + c) * p.kprod;
            for (o2p_i64 kr = 0; kr < p.kprod; kr++) {
                o2p_i64 rest = kr, off = 0, mul = 1;
                bool inside = true;
                for (int d = p.nsp - 1; d >= 0 && inside; d--) {
                    o2p_i64 kd = rest % p.kernel[d];
                    rest /= p.kernel[d];
                    o2p_i64 t = od[d] * p.stride[d] + kd * p.dilation[d] - p.pad[d];
                    inside = t >= 0 && t < p.in[d];
                    off += t * mul;
                    mul *= p.in[d];
                }
                if (inside)
                    s += ld(D(), p.b_ptr, xbase + off) * ld(D(), p.a_ptr, wbase + kr);
            }
        }
        if (p.has_c)
            s += ld(D(), p.c_ptr, m);
        st(D(), p.y_ptr, idx, s);
    }
}

/* ConvTranspose as a gather, one output element per thread: y[n, m, o] = bias[m] + sum over
 * the group's input channels c and kernel offsets k with o = i*stride + k*dilation - pad for
 * an input position i of x[n, g*cg + c, i] * w[g*cg + c, m - g*mg, k] (W is [C, M/group, k]).
 * a_ptr = W, b_ptr = X, c_ptr = the bias; in = X's spatial dims, out = Y's. */
template <class D>
O2P_DEVICE void conv_transpose_direct(const gemm_p &p)
{
    typedef typename D::A A;
    const o2p_i64 cg = p.c_in / p.group, mg = p.c_out / p.group;
    O2P_FOR(idx, p.n_img * p.c_out * p.out_size)
    {
        o2p_i64 pos = idx % p.out_size, m = (idx / p.out_size) % p.c_out;
        o2p_i64 n = idx / (p.out_size * p.c_out), g = m / mg, ml = m - g * mg;
        o2p_i64 od[O2P_CU_MAX_RANK];
        for (int d = p.nsp - 1; d >= 0; d--) {
            od[d] = pos % p.out[d];
            pos /= p.out[d];
        }
        A s = (A)0;
        for (o2p_i64 c = 0; c < cg; c++) {
            const o2p_i64 cglob = g * cg + c;
            const o2p_i64 xbase = (n * p.c_in + cglob) * p.in_size;
            const o2p_i64 wbase = (cglob * mg + ml) * p.kprod;
            for (o2p_i64 kr = 0; kr < p.kprod; kr++) {
                o2p_i64 rest = kr, off = 0, mul = 1;
                bool inside = true;
                for (int d = p.nsp - 1; d >= 0 && inside; d--) {
                    o2p_i64 kd = rest % p.kernel[d];
                    rest /= p.kernel[d];
                    o2p_i64 num = od[d] + p.pad[d] - kd * p.dilation[d];
                    o2p_i64 i = num >= 0 ? num / p.stride[d] : -1;
                    inside = num >= 0 && i * p.stride[d] == num && i < p.in[d];
                    off += i * mul;
                    mul *= p.in[d];
                }
                if (inside)
                    s += ld(D(), p.b_ptr, xbase + off) * ld(D(), p.a_ptr, wbase + kr);
            }
        }
        if (p.has_c)
            s += ld(D(), p.c_ptr, m);
        st(D(), p.y_ptr, idx, s);
    }
}

/* ---------------------------------------------------------------- integer GEMM */

/* Integer Gemm/MatMul, one output element per thread, as the host kernel: products summed
 * in uint64 (wrapping like C unsigned arithmetic); with integer alpha and beta (int_exact)
 * the epilogue wraps too, otherwise it is computed in double and saturates on the store. */
extern "C" __global__ void o2p_gemm_int(const gemm_p p)
{
    const int t = p.dtype;
    O2P_FOR(idx, p.batch * p.M * p.N)
    {
        o2p_i64 j = idx % p.N, i = (idx / p.N) % p.M, z = idx / (p.M * p.N);
        o2p_i64 ao, bo, co;
        batch_offsets(p, z, ao, bo, co);
        unsigned long long s = 0;
        for (o2p_i64 k = 0; k < p.K; k++)
            s += (unsigned long long)o2p_load_i64((const void *)p.a_ptr, t,
                                                  ao + i * p.a_rs + k * p.a_cs) *
                 (unsigned long long)o2p_load_i64((const void *)p.b_ptr, t,
                                                  bo + k * p.b_rs + j * p.b_cs);
        const o2p_i64 ci = co + i * p.c_rs + j * p.c_cs;
        if (p.int_exact) {
            unsigned long long v = s * (unsigned long long)p.alpha_i;
            if (p.has_c)
                v += (unsigned long long)o2p_load_i64((const void *)p.c_ptr, t, ci) *
                     (unsigned long long)p.beta_i;
            o2p_store_i64((void *)p.y_ptr, t, idx, (o2p_i64)v);
        } else {
            double v = p.alpha * (double)(o2p_i64)s;
            if (p.has_c)
                v += p.beta * o2p_load_f64((const void *)p.c_ptr, t, ci);
            o2p_store_f64((void *)p.y_ptr, t, idx, v);
        }
    }
}

/* ---------------------------------------------------------------- entry points */

#define O2P_GEMM_FLOAT_KERNELS(NAME, D)                                                       \
    extern "C" __global__ void __launch_bounds__(O2P_GEMM_SIMT_THREADS)                       \
        o2p_gemm_simt_##NAME(const gemm_p p)                                                  \
    {                                                                                         \
        simt_gemm<D, false>(p);                                                               \
    }                                                                                         \
    extern "C" __global__ void __launch_bounds__(O2P_GEMM_SIMT_THREADS)                       \
        o2p_gemm_conv_simt_##NAME(const gemm_p p)                                             \
    {                                                                                         \
        simt_gemm<D, true>(p);                                                                \
    }                                                                                         \
    extern "C" __global__ void o2p_gemm_conv_direct_##NAME(const gemm_p p)                    \
    {                                                                                         \
        conv_direct<D>(p);                                                                    \
    }                                                                                         \
    extern "C" __global__ void o2p_gemm_convt_##NAME(const gemm_p p)                          \
    {                                                                                         \
        conv_transpose_direct<D>(p);                                                          \
    }

O2P_GEMM_FLOAT_KERNELS(f32, f32_t)
O2P_GEMM_FLOAT_KERNELS(f16, f16_t)
O2P_GEMM_FLOAT_KERNELS(bf16, bf16_t)
O2P_GEMM_FLOAT_KERNELS(f64, f64_t)

#define O2P_GEMM_MMA_KERNELS(OPNAME, OP, NAME, D)                                             \
    extern "C" __global__ void __launch_bounds__(O2P_GEMM_MMA_THREADS)                        \
        o2p_gemm_mma_##OPNAME##_##NAME(const gemm_p p)                                        \
    {                                                                                         \
        mma_gemm<D, OP, false>(p);                                                            \
    }                                                                                         \
    extern "C" __global__ void __launch_bounds__(O2P_GEMM_MMA_THREADS)                        \
        o2p_gemm_conv_mma_##OPNAME##_##NAME(const gemm_p p)                                   \
    {                                                                                         \
        mma_gemm<D, OP, true>(p);                                                             \
    }

O2P_GEMM_MMA_KERNELS(tf32, O2P_MMA_TF32, f32, f32_t)
O2P_GEMM_MMA_KERNELS(f16, O2P_MMA_F16, f32, f32_t)
O2P_GEMM_MMA_KERNELS(f16, O2P_MMA_F16, f16, f16_t)
O2P_GEMM_MMA_KERNELS(bf16, O2P_MMA_BF16, f32, f32_t)
O2P_GEMM_MMA_KERNELS(bf16, O2P_MMA_BF16, bf16, bf16_t)
