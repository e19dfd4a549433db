/* extra.cu: the extra kernel family: the training losses (NegativeLogLikelihoodLoss,
 * SoftmaxCrossEntropyLoss), Einsum, and the quantization ops (QuantizeLinear,
 * DequantizeLinear, DynamicQuantizeLinear, MatMulInteger, QLinearMatMul, ConvInteger,
 * QLinearConv). These ops are rare in inference models, so every kernel is one generic
 * function with the element types as run-time parameters (o2p_load_f64 / o2p_store_f64),
 * one thread per output element, computing exactly what the host reference kernels
 * (kernels/host/extra.c) compute, in the same precision: float32 where the host divides or
 * multiplies in float32 (quantization), double elsewhere. */
#include "extra_params.h"
#include "o2p_cuda.h"

static_assert(sizeof(o2p_extra_loss_params) == 104, "");
static_assert(sizeof(o2p_extra_einsum_params) == 2416, "");
static_assert(sizeof(o2p_extra_quant_params) == 96, "");
static_assert(sizeof(o2p_extra_dynq_params) == 40, "");
static_assert(sizeof(o2p_extra_qmatmul_params) == 680, "");
static_assert(sizeof(o2p_extra_qconv_params) == 936, "");

#define EXTRA_REDUCE_THREADS 256

/* saturate(round_half_even(v) + zp) into [lo, hi]; NaN gives 0 (as the host). */
O2P_DEVICE double extra_quant_round(double v, double zp, double lo, double hi)
{
    double r = rint(v) + zp;
    if (r != r)
        r = 0;
    return r < lo ? lo : (r > hi ? hi : r);
}

/* ---------------------------------------------------------------- losses */

extern "C" __global__ void o2p_extra_loss(o2p_extra_loss_params p)
{
    const void *x = (const void *)p.x_ptr;
    O2P_FOR(i, p.n * p.d)
    {
        o2p_i64 n = i / p.d, d = i - n * p.d;
        o2p_i64 base = n * p.c * p.d + d;
        double mx = 0.0, ls = 0.0;
        if (p.softmax) {
            mx = -__longlong_as_double(0x7ff0000000000000LL); /* -inf */
            for (o2p_i64 c = 0; c < p.c; c++) {
                double v = o2p_load_f64(x, p.x_dtype, base + c * p.d);
                mx = v > mx ? v : mx;
            }
            double s = 0.0;
            for (o2p_i64 c = 0; c < p.c; c++)
                s += exp(o2p_load_f64(x, p.x_dtype, base + c * p.d) - mx);
            ls = log(s);
            if (p.log_prob_ptr)
                for (o2p_i64 c = 0; c < p.c; c++)
                    o2p_store_f64((void *)p.log_prob_ptr, p.x_dtype, base + c * p.d,
                                  o2p_load_f64(x, p.x_dtype, base + c * p.d) - mx - ls);
        }
        o2p_i64 t = o2p_load_i64((const void *)p.target_ptr, p.target_dtype, i);
        double loss = 0.0, w = 0.0;
        if (!(p.has_ignore && t == p.ignore_index)) {
            if (t < 0 || t >= p.c) {
                loss = __longlong_as_double(0x7ff8000000000000LL); /* NaN: the host fails */
                w = 1.0;
            } else {
                w = p.weight_ptr ? o2p_load_f64((const void *)p.weight_ptr, p.x_dtype, t) : 1.0;
                double v = o2p_load_f64(x, p.x_dtype, base + t * p.d);
                if (p.softmax)
                    v = v - mx - ls;
                loss = -v * w;
            }
        }
        if (p.reduction == O2P_EXTRA_REDUCE_NONE) {
            o2p_store_f64((void *)p.y_ptr, p.x_dtype, i, loss);
        } else {
            ((double *)p.ws_ptr)[i] = loss;
            ((double *)p.ws_ptr)[p.n * p.d + i] = w;
        }
    }
}

/* One block: y[0] = sum of the losses (divided by the sum of the weights for mean). */
extern "C" __global__ void o2p_extra_loss_reduce(o2p_extra_loss_params p)
{
    __shared__ double sl[EXTRA_REDUCE_THREADS], sw[EXTRA_REDUCE_THREADS];
    o2p_i64 count = p.n * p.d;
    const double *ws = (const double *)p.ws_ptr;
    double l = 0.0, w = 0.0;
    for (o2p_i64 i = threadIdx.x; i < count; i += blockDim.x) {
        l += ws[i];
        w += ws[count + i];
    }
    sl[threadIdx.x] = l;
    sw[threadIdx.x] = w;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            sl[threadIdx.x] += sl[threadIdx.x + s];
            sw[threadIdx.x] += sw[threadIdx.x + s];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0)
        o2p_store_f64((void *)p.y_ptr, p.x_dtype, 0,
                      p.reduction == O2P_EXTRA_REDUCE_MEAN ? sl[0] / sw[0] : sl[0]);
}

/* ---------------------------------------------------------------- Einsum */

extern "C" __global__ void o2p_extra_einsum(o2p_extra_einsum_params p)
{
    O2P_FOR(o, p.total)
    {
        o2p_i64 base[O2P_EXTRA_EIN_MAX_OPS];
        for (int t = 0; t < O2P_EXTRA_EIN_MAX_OPS; t++)
            base[t] = 0;
        o2p_i64 rem = o;
        for (int l = p.num_out - 1; l >= 0; l--) {
            o2p_i64 idx = rem % p.dims[l];
            rem /= p.dims[l];
            for (int t = 0; t < p.num_ops; t++)
                base[t] += idx * p.strides[t][l];
        }
        double accf = 0.0;
        unsigned long long acci = 0;
        for (o2p_i64 s = 0; s < p.num_sum; s++) {
            o2p_i64 off[O2P_EXTRA_EIN_MAX_OPS];
            for (int t = 0; t < p.num_ops; t++)
                off[t] = base[t];
            rem = s;
            for (int l = p.num_labels - 1; l >= p.num_out; l--) {
                o2p_i64 idx = rem % p.dims[l];
                rem /= p.dims[l];
                for (int t = 0; t < p.num_ops; t++)
                    off[t] += idx * p.strides[t][l];
            }
            if (p.is_float) {
                double v = 1.0;
                for (int t = 0; t < p.num_ops; t++)
                    v *= o2p_load_f64((const void *)p.in_ptr[t], p.dtype, off[t]);
                accf += v;
            } else {
                unsigned long long v = 1;
                for (int t = 0; t < p.num_ops; t++)
                    v *= (unsigned long long)o2p_load_i64((const void *)p.in_ptr[t], p.dtype,
                                                          off[t]);
                acci += v;
            }
        }
        if (p.is_float)
            o2p_store_f64((void *)p.y_ptr, p.dtype, o, accf);
        else
            o2p_store_i64((void *)p.y_ptr, p.dtype, o, (o2p_i64)acci);
    }
}

/* ---------------------------------------------------------------- Quantize/DequantizeLinear */

extern "C" __global__ void o2p_extra_quantize(o2p_extra_quant_params p)
{
    O2P_FOR(i, p.total)
    {
        o2p_i64 q = p.count == 1 ? 0 : (i / p.inner) % p.count;
        double s = o2p_load_f64((const void *)p.scale_ptr, p.scale_dtype, q);
        double x = o2p_load_f64((const void *)p.x_ptr, p.x_dtype, i);
        double v = p.f32_div ? (double)__fdiv_rn((float)x, (float)s) : __ddiv_rn(x, s);
        double zp = p.zp_ptr ? o2p_load_f64((const void *)p.zp_ptr, p.zp_dtype, q) : 0.0;
        o2p_store_f64((void *)p.y_ptr, p.y_dtype, i, extra_quant_round(v, zp, p.lo, p.hi));
    }
}

extern "C" __global__ void o2p_extra_dequantize(o2p_extra_quant_params p)
{
    O2P_FOR(i, p.total)
    {
        o2p_i64 q = p.count == 1 ? 0 : (i / p.inner) % p.count;
        o2p_i64 z = p.zp_ptr ? o2p_load_i64((const void *)p.zp_ptr, p.zp_dtype, q) : 0;
        float d = (float)(o2p_load_i64((const void *)p.x_ptr, p.x_dtype, i) - z);
        float s = (float)o2p_load_f64((const void *)p.scale_ptr, p.scale_dtype, q);
        o2p_store_f64((void *)p.y_ptr, p.y_dtype, i, (double)__fmul_rn(d, s));
    }
}

/* ---------------------------------------------------------------- DynamicQuantizeLinear */

extern "C" __global__ void o2p_extra_dynq_range(o2p_extra_dynq_params p)
{
    __shared__ float smin[EXTRA_REDUCE_THREADS], smax[EXTRA_REDUCE_THREADS];
    const float *x = (const float *)p.x_ptr;
    float mn = 0.0f, mx = 0.0f; /* the range always includes 0 */
    for (o2p_i64 i = threadIdx.x; i < p.total; i += blockDim.x) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    smin[threadIdx.x] = mn;
    smax[threadIdx.x] = mx;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            smin[threadIdx.x] = fminf(smin[threadIdx.x], smin[threadIdx.x + s]);
            smax[threadIdx.x] = fmaxf(smax[threadIdx.x], smax[threadIdx.x + s]);
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        float scale = __fdiv_rn(__fsub_rn(smax[0], smin[0]), 255.0f);
        float zp = 0.0f;
        if (scale != 0.0f)
            zp = (float)extra_quant_round((double)(0.0f - __fdiv_rn(smin[0], scale)), 0.0, 0.0,
                                          255.0);
        *(float *)p.scale_ptr = scale;
        *(unsigned char *)p.zp_ptr = (unsigned char)zp;
    }
}

extern "C" __global__ void o2p_extra_dynq_apply(o2p_extra_dynq_params p)
{
    const float *x = (const float *)p.x_ptr;
    unsigned char *y = (unsigned char *)p.y_ptr;
    float scale = *(const float *)p.scale_ptr;
    double zp = *(const unsigned char *)p.zp_ptr;
    O2P_FOR(i, p.total)
    {
        y[i] = scale != 0.0f ? (unsigned char)extra_quant_round((double)__fdiv_rn(x[i], scale), zp,
                                                                0.0, 255.0)
                             : (unsigned char)zp;
    }
}

/* ---------------------------------------------------------------- integer MatMul */

/* saturate(rint(acc * (s1 * s2 / s3)) + zp) with the multiplier in float32, as the host. */
O2P_DEVICE double extra_requant(o2p_i64 acc, float s1, float s2, float s3, double zp, double lo,
                                double hi)
{
    float mult = __fdiv_rn(__fmul_rn(s1, s2), s3);
    return extra_quant_round(__dmul_rn((double)acc, (double)mult), zp, lo, hi);
}

extern "C" __global__ void o2p_extra_qmatmul(o2p_extra_qmatmul_params p)
{
    O2P_FOR(i, p.total)
    {
        o2p_i64 col = i % p.n, row = (i / p.n) % p.m, b = i / (p.n * p.m);
        o2p_i64 oa = o2p_offset(p.a_batch, b), ob = o2p_offset(p.b_batch, b);
        o2p_i64 za = p.a_zp_ptr ? o2p_load_i64((const void *)p.a_zp_ptr, p.a_dtype,
                                               p.a_zp_count == 1 ? 0 : row)
                                : 0;
        o2p_i64 zb = p.b_zp_ptr ? o2p_load_i64((const void *)p.b_zp_ptr, p.b_dtype,
                                               p.b_zp_count == 1 ? 0 : col)
                                : 0;
        const void *a = (const void *)p.a_ptr, *bb = (const void *)p.b_ptr;
        o2p_i64 s = 0;
        for (o2p_i64 k = 0; k < p.k; k++)
            s += (o2p_load_i64(a, p.a_dtype, oa + row * p.k + k) - za) *
                 (o2p_load_i64(bb, p.b_dtype, ob + k * p.n + col) - zb);
        s = (int)s; /* int32 accumulation, as the host */
        if (!p.requant) {
            ((int *)p.y_ptr)[i] = (int)s;
            continue;
        }
        const float *sa = (const float *)p.a_scale_ptr, *sb = (const float *)p.b_scale_ptr;
        double zy = o2p_load_f64((const void *)p.y_zp_ptr, p.y_dtype, 0);
        double v =
            extra_requant(s, sa[p.a_scale_count == 1 ? 0 : row], sb[p.b_scale_count == 1 ? 0 : col],
                          *(const float *)p.y_scale_ptr, zy, p.lo, p.hi);
        o2p_store_f64((void *)p.y_ptr, p.y_dtype, i, v);
    }
}

/* ---------------------------------------------------------------- integer Conv */

extern "C" __global__ void o2p_extra_qconv(o2p_extra_qconv_params p)
{
    int nsp = p.nsp;
    o2p_i64 osp = 1, isp = 1, ksp = 1;
    for (int d = 0; d < nsp; d++) {
        osp *= p.out[d];
        isp *= p.in[d];
        ksp *= p.kernel[d];
    }
    o2p_i64 cg = p.c / p.group, mg = p.m / p.group;
    const void *x = (const void *)p.x_ptr, *w = (const void *)p.w_ptr;
    o2p_i64 zx = p.x_zp_ptr ? o2p_load_i64((const void *)p.x_zp_ptr, p.x_dtype, 0) : 0;
    O2P_FOR(i, p.total)
    {
        o2p_i64 o = i % osp, m = (i / osp) % p.m, n = i / (osp * p.m);
        o2p_i64 zw = p.w_zp_ptr ? o2p_load_i64((const void *)p.w_zp_ptr, p.w_dtype,
                                               p.w_zp_count == 1 ? 0 : m)
                                : 0;
        o2p_i64 c0 = (m / mg) * cg;
        o2p_i64 opos[O2P_CU_MAX_RANK];
        o2p_i64 rem = o;
        for (int d = nsp - 1; d >= 0; d--) {
            opos[d] = rem % p.out[d];
            rem /= p.out[d];
        }
        o2p_i64 s = 0;
        for (o2p_i64 kk = 0; kk < ksp; kk++) {
            o2p_i64 ioff = 0, mul = 1, krem = kk;
            bool inside = true;
            for (int d = nsp - 1; d >= 0; d--) {
                o2p_i64 kd = krem % p.kernel[d];
                krem /= p.kernel[d];
                o2p_i64 ip = opos[d] * p.stride[d] - p.pad[d] + kd * p.dilation[d];
                if (ip < 0 || ip >= p.in[d])
                    inside = false;
                ioff += ip * mul;
                mul *= p.in[d];
            }
            if (!inside)
                continue;
            for (o2p_i64 c = 0; c < cg; c++)
                s += (o2p_load_i64(x, p.x_dtype, (n * p.c + c0 + c) * isp + ioff) - zx) *
                     (o2p_load_i64(w, p.w_dtype, (m * cg + c) * ksp + kk) - zw);
        }
        s = (int)s; /* int32 accumulation, as the host */
        if (!p.requant) {
            ((int *)p.y_ptr)[i] = (int)s;
            continue;
        }
        if (p.bias_ptr)
            s += ((const int *)p.bias_ptr)[m];
        const float *sw = (const float *)p.w_scale_ptr;
        double zy = o2p_load_f64((const void *)p.y_zp_ptr, p.y_dtype, 0);
        double v = extra_requant(s, *(const float *)p.x_scale_ptr, sw[p.w_scale_count == 1 ? 0 : m],
                                 *(const float *)p.y_scale_ptr, zy, p.lo, p.hi);
        o2p_store_f64((void *)p.y_ptr, p.y_dtype, i, v);
    }
}
