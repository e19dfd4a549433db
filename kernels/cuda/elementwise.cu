/* elementwise.cu: CUDA kernels of the elementwise family: unary math and activations,
 * broadcasting binary arithmetic / comparisons / logic, Where, Cast (and a fill), reductions
 * and ArgMax/ArgMin. Semantics follow the host kernels (kernels/host/elementwise.c,
 * elementwise_reduce.c): float, float16 and bfloat16 compute in float (with the host's float32
 * formulas), double in double, integers in 64-bit two's complement wrapping to their width.
 * Where the host refuses a value at run time (integer division by zero, 0 ** -n) a kernel
 * cannot: it writes 0, the value the host computes before it refuses. */
#include "elementwise_params.h"
#include "o2p_cuda.h"

static_assert(sizeof(o2p_ew_unary_params) == 128, "o2p_ew_unary_params layout");
static_assert(sizeof(o2p_ew_binary_params) == 600, "o2p_ew_binary_params layout");
static_assert(sizeof(o2p_ew_where_params) == 848, "o2p_ew_where_params layout");
static_assert(sizeof(o2p_ew_cast_params) == 40, "o2p_ew_cast_params layout");
static_assert(sizeof(o2p_ew_reduce_params) == 592, "o2p_ew_reduce_params layout");
static_assert(sizeof(o2p_ew_arg_params) == 56, "o2p_ew_arg_params layout");

/* ---------------------------------------------------------------- math in float or double */

#define EW_MATH1(NAME, FF, DF)       \
    O2P_DEVICE float NAME(float x)   \
    {                                \
        return FF(x);                \
    }                                \
    O2P_DEVICE double NAME(double x) \
    {                                \
        return DF(x);                \
    }
#define EW_MATH2(NAME, FF, DF)                 \
    O2P_DEVICE float NAME(float x, float y)    \
    {                                          \
        return FF(x, y);                       \
    }                                          \
    O2P_DEVICE double NAME(double x, double y) \
    {                                          \
        return DF(x, y);                       \
    }

EW_MATH1(ew_fabs, fabsf, fabs)
EW_MATH1(ew_sqrt, sqrtf, sqrt)
EW_MATH1(ew_exp, expf, exp)
EW_MATH1(ew_expm1, expm1f, expm1)
EW_MATH1(ew_log, logf, log)
EW_MATH1(ew_log1p, log1pf, log1p)
EW_MATH1(ew_floor, floorf, floor)
EW_MATH1(ew_ceil, ceilf, ceil)
EW_MATH1(ew_rint, rintf, rint) /* half to even */
EW_MATH1(ew_tanh, tanhf, tanh)
EW_MATH1(ew_erf, erff, erf)
EW_MATH1(ew_sin, sinf, sin)
EW_MATH1(ew_cos, cosf, cos)
EW_MATH1(ew_tan, tanf, tan)
EW_MATH1(ew_asin, asinf, asin)
EW_MATH1(ew_acos, acosf, acos)
EW_MATH1(ew_atan, atanf, atan)
EW_MATH1(ew_sinh, sinhf, sinh)
EW_MATH1(ew_cosh, coshf, cosh)
EW_MATH1(ew_asinh, asinhf, asinh)
EW_MATH1(ew_acosh, acoshf, acosh)
EW_MATH1(ew_atanh, atanhf, atanh)
EW_MATH2(ew_pow, powf, pow)
EW_MATH2(ew_fmod, fmodf, fmod)
EW_MATH2(ew_fmax, fmaxf, fmax)
EW_MATH2(ew_fmin, fminf, fmin)

/* Element access of a floating-point storage type S computed in C. */
struct ew_f32 {
    typedef float S;
    typedef float C;
    static __device__ C load(const S *p, o2p_i64 i)
    {
        return p[i];
    }
    static __device__ void store(S *p, o2p_i64 i, C v)
    {
        p[i] = v;
    }
    static __device__ C round(C v)
    {
        return v;
    }
};
struct ew_f64 {
    typedef double S;
    typedef double C;
    static __device__ C load(const S *p, o2p_i64 i)
    {
        return p[i];
    }
    static __device__ void store(S *p, o2p_i64 i, C v)
    {
        p[i] = v;
    }
    static __device__ C round(C v)
    {
        return v;
    }
};
struct ew_f16 {
    typedef unsigned short S;
    typedef float C;
    static __device__ C load(const S *p, o2p_i64 i)
    {
        return o2p_half_to_float(p[i]);
    }
    static __device__ void store(S *p, o2p_i64 i, C v)
    {
        p[i] = o2p_float_to_half(v);
    }
    static __device__ C round(C v)
    {
        return o2p_half_to_float(o2p_float_to_half(v));
    }
};
struct ew_bf16 {
    typedef unsigned short S;
    typedef float C;
    static __device__ C load(const S *p, o2p_i64 i)
    {
        return o2p_bf16_to_float(p[i]);
    }
    static __device__ void store(S *p, o2p_i64 i, C v)
    {
        p[i] = o2p_float_to_bf16(v);
    }
    static __device__ C round(C v)
    {
        return o2p_bf16_to_float(o2p_float_to_bf16(v));
    }
};

O2P_DEVICE o2p_i64 ew_index(int mode, const o2p_cu_shape &s, o2p_i64 i)
{
    return mode == O2P_EW_INDEX_SAME ? i : mode == O2P_EW_INDEX_SCALAR ? 0 : o2p_offset(s, i);
}

/* ---------------------------------------------------------------- unary */

/* f32: the tensor is float32, whose host kernel uses float formulas for the common
 * activations (NaN handling differs from the fmax/fmin of its double path). */
template <typename F>
O2P_DEVICE F ew_unary_math(const o2p_ew_unary_params &p, F x, F lo, F hi, bool f32)
{
    const F alpha = (F)p.alpha, beta = (F)p.beta, gamma = (F)p.gamma;
    const bool dbl = sizeof(F) == 8;
    switch (p.op) {
    case O2P_EW_U_ABS: return ew_fabs(x);
    case O2P_EW_U_NEG: return -x;
    case O2P_EW_U_SIGN: return x != x ? x : (F)((x > 0) - (x < 0));
    case O2P_EW_U_RELU: return x < 0 ? (F)0 : x;
    case O2P_EW_U_CLIP:
        if (p.has_lo && x < lo)
            x = lo;
        if (p.has_hi && x > hi)
            x = hi;
        return x;
    case O2P_EW_U_SHRINK: return x < -beta ? x + alpha : x > beta ? x - alpha : (F)0;
    case O2P_EW_U_SQRT: return ew_sqrt(x);
    case O2P_EW_U_EXP: return ew_exp(x);
    case O2P_EW_U_LOG: return ew_log(x);
    case O2P_EW_U_RECIP: return (F)1 / x;
    case O2P_EW_U_FLOOR: return ew_floor(x);
    case O2P_EW_U_CEIL: return ew_ceil(x);
    case O2P_EW_U_ROUND: return ew_rint(x);
    case O2P_EW_U_LEAKY_RELU: return x < 0 ? alpha * x : x;
    case O2P_EW_U_ELU: return x < 0 ? alpha * (ew_exp(x) - (F)1) : x;
    case O2P_EW_U_SELU:
        /* the host computes float types in double; expm1 keeps float as close to it */
        if (dbl)
            return x > 0 ? gamma * x : gamma * (alpha * ew_exp(x) - alpha);
        return x > 0 ? gamma * x : gamma * alpha * ew_expm1(x);
    case O2P_EW_U_CELU:
        if (dbl)
            return ew_fmax((F)0, x) + ew_fmin((F)0, alpha * (ew_exp(x / alpha) - (F)1));
        return ew_fmax((F)0, x) + ew_fmin((F)0, alpha * ew_expm1(x / alpha));
    case O2P_EW_U_SIGMOID:
        if (!dbl)
            return (F)1 / ((F)1 + ew_exp(-x));
        return x >= 0 ? (F)1 / ((F)1 + ew_exp(-x)) : ew_exp(x) / ((F)1 + ew_exp(x));
    case O2P_EW_U_HARD_SIGMOID: {
        F v = alpha * x + beta;
        if (f32)
            return v < 0 ? (F)0 : v > 1 ? (F)1 : v;
        return ew_fmax((F)0, ew_fmin((F)1, v));
    }
    case O2P_EW_U_HARD_SWISH: {
        if (f32) {
            F v = x * ((F)1 / (F)6) + (F)0.5;
            return x * (v < 0 ? (F)0 : v > 1 ? (F)1 : v);
        }
        return x * ew_fmax((F)0, ew_fmin((F)1, x / (F)6 + (F)0.5));
    }
    case O2P_EW_U_TANH: return ew_tanh(x);
    case O2P_EW_U_ERF: return ew_erf(x);
    case O2P_EW_U_SOFTPLUS: return x > 0 ? x + ew_log1p(ew_exp(-x)) : ew_log1p(ew_exp(x));
    case O2P_EW_U_SOFTSIGN: return x / ((F)1 + ew_fabs(x));
    case O2P_EW_U_MISH: {
        F sp = x > 0 ? x + ew_log1p(ew_exp(-x)) : ew_log1p(ew_exp(x));
        return x * ew_tanh(sp);
    }
    case O2P_EW_U_THRESHOLDED_RELU: return x > alpha ? x : (F)0;
    case O2P_EW_U_SIN: return ew_sin(x);
    case O2P_EW_U_COS: return ew_cos(x);
    case O2P_EW_U_TAN: return ew_tan(x);
    case O2P_EW_U_ASIN: return ew_asin(x);
    case O2P_EW_U_ACOS: return ew_acos(x);
    case O2P_EW_U_ATAN: return ew_atan(x);
    case O2P_EW_U_SINH: return ew_sinh(x);
    case O2P_EW_U_COSH: return ew_cosh(x);
    case O2P_EW_U_ASINH: return ew_asinh(x);
    case O2P_EW_U_ACOSH: return ew_acosh(x);
    case O2P_EW_U_ATANH: return ew_atanh(x);
    default: return (F)0;
    }
}

template <typename F> O2P_DEVICE bool ew_unary_class(const o2p_ew_unary_params &p, F x)
{
    if (p.op == O2P_EW_U_ISNAN)
        return x != x;
    /* IsInf */
    bool inf = x == x && ew_fabs(x) == (F)__int_as_float(0x7f800000);
    return inf && ((x > 0 && p.detect_pos) || (x < 0 && p.detect_neg));
}

template <typename IO> O2P_DEVICE void ew_unary_float(const o2p_ew_unary_params &p)
{
    typedef typename IO::C F;
    typedef typename IO::S S;
    F lo = (F)p.lo, hi = (F)p.hi;
    if (p.has_lo == O2P_EW_BOUND_POINTER)
        lo = (F)o2p_load_f64((const void *)p.lo_ptr, p.dtype, 0);
    if (p.has_hi == O2P_EW_BOUND_POINTER)
        hi = (F)o2p_load_f64((const void *)p.hi_ptr, p.dtype, 0);
    const S *x = (const S *)p.x_ptr;
    const bool to_bool = p.op == O2P_EW_U_ISNAN || p.op == O2P_EW_U_ISINF;
    const bool f32 = p.dtype == O2P_CU_FLOAT;
    O2P_FOR(i, p.n)
    {
        F v = IO::load(x, i);
        if (to_bool)
            ((unsigned char *)p.y_ptr)[i] = ew_unary_class<F>(p, v) ? 1 : 0;
        else
            IO::store((S *)p.y_ptr, i, ew_unary_math<F>(p, v, lo, hi, f32));
    }
}

extern "C" __global__ void o2p_elementwise_unary_f32(const __grid_constant__ o2p_ew_unary_params p)
{
    ew_unary_float<ew_f32>(p);
}

extern "C" __global__ void o2p_elementwise_unary_f16(const __grid_constant__ o2p_ew_unary_params p)
{
    ew_unary_float<ew_f16>(p);
}

extern "C" __global__ void o2p_elementwise_unary_bf16(const __grid_constant__ o2p_ew_unary_params p)
{
    ew_unary_float<ew_bf16>(p);
}

extern "C" __global__ void o2p_elementwise_unary_f64(const __grid_constant__ o2p_ew_unary_params p)
{
    ew_unary_float<ew_f64>(p);
}

/* Integers and bool (values as o2p_load_i64 reads them: zero-extended unsigned, the bit
 * pattern for uint64); results wrap to the type's width when stored. */
O2P_DEVICE o2p_i64 ew_unary_int(const o2p_ew_unary_params &p, o2p_i64 x, o2p_i64 lo, o2p_i64 hi)
{
    unsigned long long ux = (unsigned long long)x;
    switch (p.op) {
    case O2P_EW_U_ABS: return p.uns || x >= 0 ? x : (o2p_i64)(0ull - ux);
    case O2P_EW_U_NEG: return (o2p_i64)(0ull - ux);
    case O2P_EW_U_SIGN: return p.uns ? (x != 0) : (x > 0) - (x < 0);
    case O2P_EW_U_RELU: return !p.uns && x < 0 ? 0 : x;
    case O2P_EW_U_CLIP:
        if (p.uns) {
            if (p.has_lo && ux < (unsigned long long)lo)
                x = lo;
            if (p.has_hi && (unsigned long long)x > (unsigned long long)hi)
                x = hi;
        } else {
            if (p.has_lo && x < lo)
                x = lo;
            if (p.has_hi && x > hi)
                x = hi;
        }
        return x;
    case O2P_EW_U_BITNOT: return (o2p_i64)~ux;
    case O2P_EW_U_NOT: return x == 0;
    default: return 0;
    }
}

extern "C" __global__ void o2p_elementwise_unary_int(const __grid_constant__ o2p_ew_unary_params p)
{
    o2p_i64 lo = p.ilo, hi = p.ihi;
    if (p.has_lo == O2P_EW_BOUND_POINTER)
        lo = o2p_load_i64((const void *)p.lo_ptr, p.dtype, 0);
    if (p.has_hi == O2P_EW_BOUND_POINTER)
        hi = o2p_load_i64((const void *)p.hi_ptr, p.dtype, 0);
    O2P_FOR(i, p.n)
    {
        o2p_i64 v = o2p_load_i64((const void *)p.x_ptr, p.dtype, i);
        o2p_store_i64((void *)p.y_ptr, p.dtype, i, ew_unary_int(p, v, lo, hi));
    }
}

/* Shrink of integers: computed in double and stored truncated and saturated, as the host. */
extern "C" __global__ void
o2p_elementwise_unary_generic(const __grid_constant__ o2p_ew_unary_params p)
{
    O2P_FOR(i, p.n)
    {
        double v = o2p_load_f64((const void *)p.x_ptr, p.dtype, i);
        o2p_store_f64((void *)p.y_ptr, p.dtype, i, ew_unary_math<double>(p, v, p.lo, p.hi, false));
    }
}

/* ---------------------------------------------------------------- binary */

O2P_DEVICE bool ew_is_compare(int op)
{
    return op >= O2P_EW_B_EQ && op <= O2P_EW_B_XOR;
}

/* Max/Min propagate NaN from either side, as numpy's maximum/minimum. */
template <typename F> O2P_DEVICE F ew_binary_math(int op, F a, F b)
{
    switch (op) {
    case O2P_EW_B_ADD: return a + b;
    case O2P_EW_B_SUB: return a - b;
    case O2P_EW_B_MUL: return a * b;
    case O2P_EW_B_DIV: return a / b;
    case O2P_EW_B_POW: return ew_pow(a, b);
    case O2P_EW_B_FMOD: return ew_fmod(a, b);
    case O2P_EW_B_MAX: return (a > b || a != a) ? a : b;
    case O2P_EW_B_MIN: return (a < b || a != a) ? a : b;
    case O2P_EW_B_PRELU: return a < 0 ? a * b : a;
    default: return (F)0;
    }
}

template <typename F> O2P_DEVICE bool ew_compare(int op, F a, F b)
{
    switch (op) {
    case O2P_EW_B_EQ: return a == b;
    case O2P_EW_B_LT: return a < b;
    case O2P_EW_B_GT: return a > b;
    case O2P_EW_B_LE: return a <= b;
    case O2P_EW_B_GE: return a >= b;
    default: return false;
    }
}

template <typename IO> O2P_DEVICE void ew_binary_float(const o2p_ew_binary_params &p)
{
    typedef typename IO::C F;
    typedef typename IO::S S;
    const S *a = (const S *)p.a_ptr, *b = (const S *)p.b_ptr;
    const int op = p.op;
    const bool cmp = ew_is_compare(op);
    const F divisor = (F)p.divisor;
    O2P_FOR(i, p.n)
    {
        F va = IO::load(a, ew_index(p.a_mode, p.a, i));
        F vb = IO::load(b, ew_index(p.b_mode, p.b, i));
        if (cmp) {
            ((unsigned char *)p.y_ptr)[i] = ew_compare<F>(op, va, vb) ? 1 : 0;
        } else {
            F r = ew_binary_math<F>(op, va, vb);
            if (p.divisor != 0)
                r = IO::round(r) / divisor;
            IO::store((S *)p.y_ptr, i, r);
        }
    }
}

extern "C" __global__ void
o2p_elementwise_binary_f32(const __grid_constant__ o2p_ew_binary_params p)
{
    ew_binary_float<ew_f32>(p);
}

extern "C" __global__ void
o2p_elementwise_binary_f16(const __grid_constant__ o2p_ew_binary_params p)
{
    ew_binary_float<ew_f16>(p);
}

extern "C" __global__ void
o2p_elementwise_binary_bf16(const __grid_constant__ o2p_ew_binary_params p)
{
    ew_binary_float<ew_bf16>(p);
}

extern "C" __global__ void
o2p_elementwise_binary_f64(const __grid_constant__ o2p_ew_binary_params p)
{
    ew_binary_float<ew_f64>(p);
}

/* Pow with operands of different types, one of them floating-point: in double, stored into
 * y's type (truncated and saturated for integers), as the host. */
extern "C" __global__ void
o2p_elementwise_binary_mixed(const __grid_constant__ o2p_ew_binary_params p)
{
    O2P_FOR(i, p.n)
    {
        double va = o2p_load_f64((const void *)p.a_ptr, p.a_dtype, ew_index(p.a_mode, p.a, i));
        double vb = o2p_load_f64((const void *)p.b_ptr, p.b_dtype, ew_index(p.b_mode, p.b, i));
        double r = ew_is_compare(p.op) ? (ew_compare<double>(p.op, va, vb) ? 1.0 : 0.0)
                                       : ew_binary_math<double>(p.op, va, vb);
        o2p_store_f64((void *)p.y_ptr, p.y_dtype, i, r);
    }
}

O2P_DEVICE bool ew_unsigned_type(int t)
{
    return t == O2P_CU_UINT8 || t == O2P_CU_UINT16 || t == O2P_CU_UINT32 || t == O2P_CU_UINT64 ||
           t == O2P_CU_BOOL;
}

/* x ** y in wrapping integer arithmetic; a negative exponent gives 0 unless |x| == 1. */
O2P_DEVICE o2p_i64 ew_int_pow(o2p_i64 x, o2p_i64 y, bool x_uns, bool y_uns)
{
    if (!y_uns && y < 0) {
        if (x == 1)
            return 1;
        if (!x_uns && x == -1)
            return (y & 1) ? -1 : 1;
        return 0;
    }
    unsigned long long r = 1, base = (unsigned long long)x, e = (unsigned long long)y;
    while (e) {
        if (e & 1)
            r *= base;
        base *= base;
        e >>= 1;
    }
    return (o2p_i64)r;
}

O2P_DEVICE o2p_i64 ew_int_binary(int op, o2p_i64 x, o2p_i64 y, bool uns, bool y_uns, int bits)
{
    unsigned long long ux = (unsigned long long)x, uy = (unsigned long long)y;
    switch (op) {
    case O2P_EW_B_ADD: return (o2p_i64)(ux + uy);
    case O2P_EW_B_SUB: return (o2p_i64)(ux - uy);
    case O2P_EW_B_MUL: return (o2p_i64)(ux * uy);
    case O2P_EW_B_DIV:
        if (y == 0)
            return 0;
        if (uns)
            return (o2p_i64)(ux / uy);
        if (y == -1)
            return (o2p_i64)(0ull - ux);
        return x / y;
    case O2P_EW_B_MOD:
    case O2P_EW_B_FMOD: {
        if (y == 0)
            return 0;
        if (uns)
            return (o2p_i64)(ux % uy);
        if (y == -1)
            return 0;
        o2p_i64 r = x % y;
        if (op == O2P_EW_B_MOD && r != 0 && ((r < 0) != (y < 0)))
            r += y;
        return r;
    }
    case O2P_EW_B_POW: return ew_int_pow(x, y, uns, y_uns);
    case O2P_EW_B_MAX: return (uns ? ux > uy : x > y) ? x : y;
    case O2P_EW_B_MIN: return (uns ? ux < uy : x < y) ? x : y;
    case O2P_EW_B_PRELU: return !uns && x < 0 ? (o2p_i64)(ux * uy) : x;
    case O2P_EW_B_EQ: return x == y;
    case O2P_EW_B_LT: return uns ? ux < uy : x < y;
    case O2P_EW_B_GT: return uns ? ux > uy : x > y;
    case O2P_EW_B_LE: return uns ? ux <= uy : x <= y;
    case O2P_EW_B_GE: return uns ? ux >= uy : x >= y;
    case O2P_EW_B_AND: return x && y;
    case O2P_EW_B_OR: return x || y;
    case O2P_EW_B_XOR: return !x != !y;
    case O2P_EW_B_BITAND: return (o2p_i64)(ux & uy);
    case O2P_EW_B_BITOR: return (o2p_i64)(ux | uy);
    case O2P_EW_B_BITXOR: return (o2p_i64)(ux ^ uy);
    case O2P_EW_B_SHL: return uy >= (unsigned long long)bits ? 0 : (o2p_i64)(ux << uy);
    case O2P_EW_B_SHR: return uy >= (unsigned long long)bits ? 0 : (o2p_i64)(ux >> uy);
    default: return 0;
    }
}

/* Integers and bool, any widths (Pow's exponent may have another integer type). */
extern "C" __global__ void
o2p_elementwise_binary_int(const __grid_constant__ o2p_ew_binary_params p)
{
    const bool uns = ew_unsigned_type(p.a_dtype), y_uns = ew_unsigned_type(p.b_dtype);
    O2P_FOR(i, p.n)
    {
        o2p_i64 va = o2p_load_i64((const void *)p.a_ptr, p.a_dtype, ew_index(p.a_mode, p.a, i));
        o2p_i64 vb = o2p_load_i64((const void *)p.b_ptr, p.b_dtype, ew_index(p.b_mode, p.b, i));
        o2p_store_i64((void *)p.y_ptr, p.y_dtype, i,
                      ew_int_binary(p.op, va, vb, uns, y_uns, p.bits));
    }
}

/* ---------------------------------------------------------------- Where */

template <typename T> O2P_DEVICE void ew_where(const o2p_ew_where_params &p)
{
    const unsigned char *cond = (const unsigned char *)p.cond_ptr;
    const T *x = (const T *)p.x_ptr, *y = (const T *)p.y_ptr;
    T *out = (T *)p.out_ptr;
    O2P_FOR(i, p.n)
    {
        bool c = cond[ew_index(p.cond_mode, p.cond, i)] != 0;
        out[i] = c ? x[ew_index(p.x_mode, p.x, i)] : y[ew_index(p.y_mode, p.y, i)];
    }
}

extern "C" __global__ void o2p_elementwise_where_1(const __grid_constant__ o2p_ew_where_params p)
{
    ew_where<unsigned char>(p);
}

extern "C" __global__ void o2p_elementwise_where_2(const __grid_constant__ o2p_ew_where_params p)
{
    ew_where<unsigned short>(p);
}

extern "C" __global__ void o2p_elementwise_where_4(const __grid_constant__ o2p_ew_where_params p)
{
    ew_where<unsigned int>(p);
}

extern "C" __global__ void o2p_elementwise_where_8(const __grid_constant__ o2p_ew_where_params p)
{
    ew_where<unsigned long long>(p);
}

/* ---------------------------------------------------------------- Cast, fill */

O2P_DEVICE bool ew_float_type(int t)
{
    return t == O2P_CU_FLOAT || t == O2P_CU_DOUBLE || t == O2P_CU_FLOAT16 || t == O2P_CU_BFLOAT16;
}

/* double to float16 with one rounding, as numpy (and the host): double -> float may land on
 * a float16 half-way point the double was not on; the float next to it on the double's side
 * then rounds right. */
O2P_DEVICE unsigned short ew_double_to_half(double d)
{
    float f = (float)d;
    unsigned short h = o2p_float_to_half(f);
    double back = o2p_half_to_float(h);
    if ((double)f != d && back != d && d == d) {
        unsigned short h2 = o2p_float_to_half(
            nextafterf(f, d > (double)f ? __int_as_float(0x7f800000) : __int_as_float(0xff800000)));
        double b2 = o2p_half_to_float(h2);
        if (fabs(b2 - d) < fabs(back - d))
            h = h2;
    }
    return h;
}

extern "C" __global__ void o2p_elementwise_cast(const __grid_constant__ o2p_ew_cast_params p)
{
    const int from = p.from, to = p.to;
    const bool fl = ew_float_type(from) || ew_float_type(to);
    O2P_FOR(i, p.n)
    {
        if (from == O2P_CU_INT64 && to == O2P_CU_FLOAT)
            ((float *)p.y_ptr)[i] = (float)((const long long *)p.x_ptr)[i]; /* one rounding */
        else if (from == O2P_CU_DOUBLE && to == O2P_CU_FLOAT16)
            ((unsigned short *)p.y_ptr)[i] = ew_double_to_half(((const double *)p.x_ptr)[i]);
        else if (fl)
            o2p_store_f64((void *)p.y_ptr, to, i, o2p_load_f64((const void *)p.x_ptr, from, i));
        else
            o2p_store_i64((void *)p.y_ptr, to, i, o2p_load_i64((const void *)p.x_ptr, from, i));
    }
}

extern "C" __global__ void o2p_elementwise_fill(const __grid_constant__ o2p_ew_cast_params p)
{
    O2P_FOR(i, p.n)
    o2p_store_f64((void *)p.y_ptr, p.to, i, p.value);
}

/* ---------------------------------------------------------------- reductions */

/* Combines two partial results (an element already transformed, or another lane's). */
O2P_DEVICE double ew_red_combine_f(int op, double s, double x)
{
    switch (op) {
    case O2P_EW_R_PROD: return s * x;
    case O2P_EW_R_MAX: return (x > s || x != x) ? x : s;
    case O2P_EW_R_MIN: return (x < s || x != x) ? x : s;
    default: return s + x;
    }
}

O2P_DEVICE unsigned long long ew_red_combine_i(int op, bool uns, unsigned long long s,
                                               unsigned long long x)
{
    switch (op) {
    case O2P_EW_R_PROD: return s * x;
    case O2P_EW_R_MAX: return (uns ? x > s : (o2p_i64)x > (o2p_i64)s) ? x : s;
    case O2P_EW_R_MIN: return (uns ? x < s : (o2p_i64)x < (o2p_i64)s) ? x : s;
    default: return s + x;
    }
}

template <int LANES> O2P_DEVICE double ew_lanes_f(int op, double v)
{
    for (int off = LANES / 2; off > 0; off /= 2)
        v = ew_red_combine_f(op, v, __shfl_xor_sync(0xffffffffu, v, off));
    return v;
}

template <int LANES>
O2P_DEVICE unsigned long long ew_lanes_i(int op, bool uns, unsigned long long v)
{
    for (int off = LANES / 2; off > 0; off /= 2)
        v = ew_red_combine_i(op, uns, v, __shfl_xor_sync(0xffffffffu, v, off));
    return v;
}

/* Each output element is reduced by LANES threads (1, or a warp of 32); the host order is
 * kept with one lane. */
template <int LANES> O2P_DEVICE void ew_reduce(const o2p_ew_reduce_params &p)
{
    const o2p_i64 tid = (o2p_i64)blockIdx.x * blockDim.x + threadIdx.x;
    const o2p_i64 lane = LANES == 1 ? 0 : (threadIdx.x & (LANES - 1));
    const o2p_i64 groups = (o2p_i64)gridDim.x * blockDim.x / LANES;
    const void *x = (const void *)p.x_ptr;
    const int op = p.op, dt = p.dtype;
    const bool uns = p.uns != 0;
    const bool flat = p.red.rank == 1;
    for (o2p_i64 o = tid / LANES; o < p.out_count; o += groups) {
        const o2p_i64 base = o2p_offset(p.kept, o);
        if (p.use_double) {
            double shift = 0;
            int acc_op = op;
            if (op == O2P_EW_R_LOG_SUM_EXP) {
                /* the maximum first, so that exp never overflows */
                double m = -__longlong_as_double(0x7ff0000000000000ll);
                for (o2p_i64 r = lane; r < p.red_count; r += LANES) {
                    o2p_i64 off = base + (flat ? r * p.red.strides[0] : o2p_offset(p.red, r));
                    m = ew_red_combine_f(O2P_EW_R_MAX, m, o2p_load_f64(x, dt, off));
                }
                shift = ew_lanes_f<LANES>(O2P_EW_R_MAX, m);
                acc_op = O2P_EW_R_SUM;
            }
            /* init is the combine's identity, so lanes with no element change nothing */
            double s = op == O2P_EW_R_LOG_SUM_EXP ? 0.0 : p.init;
            for (o2p_i64 r = lane; r < p.red_count; r += LANES) {
                o2p_i64 off = base + (flat ? r * p.red.strides[0] : o2p_offset(p.red, r));
                double v = o2p_load_f64(x, dt, off);
                switch (op) {
                case O2P_EW_R_L1: v = fabs(v); break;
                case O2P_EW_R_L2:
                case O2P_EW_R_SUM_SQUARE: v = v * v; break;
                case O2P_EW_R_LOG_SUM_EXP: v = exp(v - shift); break;
                default: break;
                }
                s = ew_red_combine_f(acc_op, s, v);
            }
            s = ew_lanes_f<LANES>(acc_op, s);
            if (lane == 0) {
                switch (op) {
                case O2P_EW_R_MEAN: s /= (double)p.red_count; break;
                case O2P_EW_R_L2: s = sqrt(s); break;
                case O2P_EW_R_LOG_SUM: s = log(s); break;
                case O2P_EW_R_LOG_SUM_EXP: s = isinf(shift) ? shift : log(s) + shift; break;
                default: break;
                }
                if (dt == O2P_CU_FLOAT)
                    ((float *)p.y_ptr)[o] = (float)s;
                else
                    o2p_store_f64((void *)p.y_ptr, dt, o, s);
            }
        } else {
            unsigned long long s = (unsigned long long)p.iinit;
            for (o2p_i64 r = lane; r < p.red_count; r += LANES) {
                o2p_i64 off = base + (flat ? r * p.red.strides[0] : o2p_offset(p.red, r));
                unsigned long long v = (unsigned long long)o2p_load_i64(x, dt, off);
                if (op == O2P_EW_R_L1 && !uns && (o2p_i64)v < 0)
                    v = 0ull - v;
                else if (op == O2P_EW_R_SUM_SQUARE)
                    v = v * v;
                s = ew_red_combine_i(op, uns, s, v);
            }
            s = ew_lanes_i<LANES>(op, uns, s);
            if (lane == 0) {
                if (op == O2P_EW_R_MEAN) {
                    o2p_i64 count = p.red_count;
                    s = count == 0 ? 0
                        : uns      ? s / (unsigned long long)count
                                   : (unsigned long long)((o2p_i64)s / count);
                }
                o2p_store_i64((void *)p.y_ptr, dt, o, (o2p_i64)s);
            }
        }
    }
}

extern "C" __global__ void o2p_elementwise_reduce(const __grid_constant__ o2p_ew_reduce_params p)
{
    ew_reduce<1>(p);
}

/* blockDim.x must be a multiple of 32. */
extern "C" __global__ void
o2p_elementwise_reduce_warp(const __grid_constant__ o2p_ew_reduce_params p)
{
    ew_reduce<32>(p);
}

/* ---------------------------------------------------------------- ArgMax, ArgMin */

/* Whether v replaces best: strictly better, or as good with select_last_index. NaN counts as
 * the extreme (numpy returns the first NaN). */
O2P_DEVICE bool ew_arg_better_f(bool is_max, bool last, double v, double best)
{
    if (v != v)
        return last || best == best;
    if (best != best)
        return false;
    if (is_max)
        return last ? v >= best : v > best;
    return last ? v <= best : v < best;
}

O2P_DEVICE bool ew_arg_better_i(bool is_max, bool last, o2p_i64 v, o2p_i64 best)
{
    if (is_max)
        return last ? v >= best : v > best;
    return last ? v <= best : v < best;
}

extern "C" __global__ void o2p_elementwise_arg(const __grid_constant__ o2p_ew_arg_params p)
{
    const void *x = (const void *)p.x_ptr;
    const int dt = p.dtype;
    const bool fl = ew_float_type(dt), is_max = p.is_max != 0, last = p.last != 0;
    /* uint64 compares as signed after flipping the sign bit; narrower types fit int64 */
    const unsigned long long flip = dt == O2P_CU_UINT64 ? 1ull << 63 : 0ull;
    O2P_FOR(o, p.outer * p.inner)
    {
        o2p_i64 outer = o / p.inner, inner = o - outer * p.inner;
        o2p_i64 base = outer * p.k * p.inner + inner, best_j = 0;
        double bf = 0;
        o2p_i64 bi = 0;
        for (o2p_i64 j = 0; j < p.k; j++) {
            o2p_i64 off = base + j * p.inner;
            if (fl) {
                double v = o2p_load_f64(x, dt, off);
                if (j == 0 || ew_arg_better_f(is_max, last, v, bf)) {
                    bf = v;
                    best_j = j;
                }
            } else {
                o2p_i64 v = (o2p_i64)((unsigned long long)o2p_load_i64(x, dt, off) ^ flip);
                if (j == 0 || ew_arg_better_i(is_max, last, v, bi)) {
                    bi = v;
                    best_j = j;
                }
            }
        }
        ((long long *)p.y_ptr)[o] = best_j;
    }
}
