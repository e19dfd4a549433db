/* test_host_elementwise.c: the elementwise family of host kernels called directly with small
 * hand-made tensors: values against hand-computed or libm results for every op and element
 * type class, and hostile arguments (wrong output shapes and types, bad axes, missing
 * inputs, zero-size and over-large dims) that must fail cleanly or work, never touch memory
 * out of bounds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "host/host_kernels.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

#define F32 O2P_DTYPE_FLOAT
#define F64 O2P_DTYPE_DOUBLE
#define F16 O2P_DTYPE_FLOAT16
#define BF16 O2P_DTYPE_BFLOAT16
#define I8 O2P_DTYPE_INT8
#define I16 O2P_DTYPE_INT16
#define I32 O2P_DTYPE_INT32
#define I64 O2P_DTYPE_INT64
#define U8 O2P_DTYPE_UINT8
#define U16 O2P_DTYPE_UINT16
#define U32 O2P_DTYPE_UINT32
#define U64 O2P_DTYPE_UINT64
#define BOOL O2P_DTYPE_BOOL

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define NO_DIMS ((const int64_t *)NULL)

static host_tensor T(o2p_dtype dt, int rank, const int64_t *dims, void *data)
{
    host_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dt;
    t.rank = rank;
    for (int i = 0; i < rank && i < HOST_MAX_RANK; i++)
        t.dims[i] = dims[i];
    t.data = data;
    return t;
}

static host_attr AI(const char *name, int64_t v)
{
    host_attr at = {.name = name, .type = O2P_ATTR_INT, .i = v};
    return at;
}

static host_attr AF(const char *name, float v)
{
    host_attr at = {.name = name, .type = O2P_ATTR_FLOAT, .f = v};
    return at;
}

static host_attr AS(const char *name, const char *v)
{
    host_attr at = {.name = name, .type = O2P_ATTR_STRING, .s = v};
    return at;
}

static host_attr AINTS(const char *name, int count, const int64_t *v)
{
    host_attr at = {.name = name, .type = O2P_ATTR_INTS, .count = count, .ints = v};
    return at;
}

/* Runs op with inputs and outputs (NULL entries: omitted). */
static o2p_status run_op(const char *op, int64_t opset, int nin, const host_tensor *const *ins,
                         int nout, host_tensor *const *outs, int nattrs, const host_attr *attrs)
{
    host_kernel_fn fn = host_kernel_find(op);
    ck_assert_msg(fn != NULL, "no host kernel for %s", op);
    host_kernel_args a = {.op_type = op,
                          .layer_name = "test",
                          .opset = opset,
                          .num_inputs = nin,
                          .inputs = ins,
                          .num_outputs = nout,
                          .outputs = outs,
                          .num_attrs = nattrs,
                          .attrs = attrs};
    o2p_clear_error();
    return fn(&a);
}

#define IN(...) ((const host_tensor *const[]){__VA_ARGS__})
#define OUT(...) ((host_tensor *const[]){__VA_ARGS__})
#define ATTRS(...) ((const host_attr[]){__VA_ARGS__})
#define COUNT(...) ((int)(sizeof((const void *[]){__VA_ARGS__}) / sizeof(void *)))

/* op(x) and op(x, y) with one output and no attributes. */
static o2p_status run1(const char *op, int64_t opset, host_tensor *x, host_tensor *y)
{
    return run_op(op, opset, 1, IN(x), 1, OUT(y), 0, NULL);
}

static o2p_status run2(const char *op, int64_t opset, host_tensor *x, host_tensor *y,
                       host_tensor *z)
{
    return run_op(op, opset, 2, IN(x, y), 1, OUT(z), 0, NULL);
}

static int close_to(double got, double want)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    return fabs(got - want) <= 1e-5 + 1e-3 * fabs(want);
}

static void assert_f32(const float *got, const float *want, int n)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(close_to(got[i], want[i]), "element %d: got %.9g, expected %.9g", i,
                      (double)got[i], (double)want[i]);
}

static void assert_i64(const int64_t *got, const int64_t *want, int n)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "element %d: got %lld, expected %lld", i,
                      (long long)got[i], (long long)want[i]);
}

static void assert_u8(const uint8_t *got, const uint8_t *want, int n)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "element %d: got %d, expected %d", i, got[i], want[i]);
}

#define EXPECT_OK(expr) TU_ASSERT_STATUS(expr, O2P_OK)

/* ---------------------------------------------------------------- binary arithmetic */

START_TEST(test_add_broadcasts)
{
    float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30}, y[6];
    host_tensor ta = T(F32, 2, D(2, 3), a), tb = T(F32, 1, D(3), b), ty = T(F32, 2, D(2, 3), y);
    EXPECT_OK(run2("Add", 14, &ta, &tb, &ty));
    assert_f32(y, (float[]){11, 22, 33, 14, 25, 36}, 6);
    /* b first: the scalar-row branch */
    EXPECT_OK(run2("Sub", 14, &tb, &ta, &ty));
    assert_f32(y, (float[]){9, 18, 27, 6, 15, 24}, 6);

    /* [2,1,3] * [4,1] -> [2,4,3] */
    float c[6] = {1, 2, 3, 4, 5, 6}, d[4] = {1, 10, 100, 1000}, z[24];
    host_tensor tc = T(F32, 3, D(2, 1, 3), c), td = T(F32, 2, D(4, 1), d);
    host_tensor tz = T(F32, 3, D(2, 4, 3), z);
    EXPECT_OK(run2("Mul", 14, &tc, &td, &tz));
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 3; k++)
                ck_assert(z[(i * 4 + j) * 3 + k] == c[i * 3 + k] * d[j]);

    /* scalar / scalar, rank 0 */
    float s1 = 7, s2 = 2, s3 = 0;
    host_tensor t1 = T(F32, 0, NO_DIMS, &s1), t2 = T(F32, 0, NO_DIMS, &s2);
    host_tensor t3 = T(F32, 0, NO_DIMS, &s3);
    EXPECT_OK(run2("Div", 14, &t1, &t2, &t3));
    ck_assert(s3 == 3.5f);

    /* float division by zero is IEEE, not an error */
    s2 = 0;
    EXPECT_OK(run2("Div", 14, &t1, &t2, &t3));
    ck_assert(isinf(s3) && s3 > 0);
}
END_TEST

START_TEST(test_add_other_float_types)
{
    double a[3] = {1.5, -2.25, 1e300}, b[3] = {0.25, 0.25, 1e300}, y[3];
    host_tensor ta = T(F64, 1, D(3), a), tb = T(F64, 1, D(3), b), ty = T(F64, 1, D(3), y);
    EXPECT_OK(run2("Add", 14, &ta, &tb, &ty));
    ck_assert(y[0] == 1.75 && y[1] == -2.0 && y[2] == 2e300);

    uint16_t h[3], hb[1], hy[3];
    for (int i = 0; i < 3; i++)
        h[i] = o2p_float_to_half((float)(i + 1) * 0.5f);
    hb[0] = o2p_float_to_half(2.0f);
    host_tensor th = T(F16, 1, D(3), h), thb = T(F16, 1, D(1), hb), thy = T(F16, 1, D(3), hy);
    EXPECT_OK(run2("Mul", 14, &th, &thb, &thy));
    for (int i = 0; i < 3; i++)
        ck_assert(o2p_half_to_float(hy[i]) == (float)(i + 1));

    uint16_t bf[2] = {o2p_float_to_bf16(3.0f), o2p_float_to_bf16(-1.0f)}, bfy[2];
    host_tensor tbf = T(BF16, 1, D(2), bf), tbfy = T(BF16, 1, D(2), bfy);
    EXPECT_OK(run2("Sub", 14, &tbf, &tbf, &tbfy));
    ck_assert(o2p_bf16_to_float(bfy[0]) == 0.0f && o2p_bf16_to_float(bfy[1]) == 0.0f);
}
END_TEST

START_TEST(test_integer_arithmetic_wraps_and_refuses_division_by_zero)
{
    int32_t a[4] = {INT32_MAX, INT32_MIN, 7, -7}, b[4] = {1, -1, -2, 2}, y[4];
    host_tensor ta = T(I32, 1, D(4), a), tb = T(I32, 1, D(4), b), ty = T(I32, 1, D(4), y);
    EXPECT_OK(run2("Add", 14, &ta, &tb, &ty));
    ck_assert(y[0] == INT32_MIN && y[1] == INT32_MAX && y[2] == 5 && y[3] == -5);
    EXPECT_OK(run2("Div", 14, &ta, &tb, &ty));
    ck_assert(y[0] == INT32_MAX && y[1] == INT32_MIN && y[2] == -3 && y[3] == -3);
    EXPECT_OK(run2("Mul", 14, &ta, &tb, &ty));
    ck_assert(y[0] == INT32_MAX && y[1] == INT32_MIN && y[2] == -14 && y[3] == -14);

    int64_t la[2] = {INT64_MIN, INT64_MAX}, lb[2] = {-1, -1}, ly[2];
    host_tensor tla = T(I64, 1, D(2), la), tlb = T(I64, 1, D(2), lb), tly = T(I64, 1, D(2), ly);
    EXPECT_OK(run2("Div", 14, &tla, &tlb, &tly));
    ck_assert(ly[0] == INT64_MIN && ly[1] == -INT64_MAX);
    EXPECT_OK(run2("Mul", 14, &tla, &tlb, &tly));
    ck_assert(ly[0] == INT64_MIN && ly[1] == -INT64_MAX);
    EXPECT_OK(run2("Sub", 14, &tla, &tlb, &tly));
    ck_assert(ly[0] == INT64_MIN + 1 && ly[1] == INT64_MIN);
    host_attr fm = AI("fmod", 1);
    EXPECT_OK(run_op("Mod", 13, 2, IN(&tla, &tlb), 1, OUT(&tly), 1, &fm));
    ck_assert(ly[0] == 0 && ly[1] == 0);
    EXPECT_OK(run2("Mod", 13, &tla, &tlb, &tly));
    ck_assert(ly[0] == 0 && ly[1] == 0);

    lb[1] = 0;
    TU_ASSERT_STATUS(run2("Div", 14, &tla, &tlb, &tly), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS("division by zero");
    TU_ASSERT_FAILS(run2("Mod", 13, &tla, &tlb, &tly));
    TU_ASSERT_ERROR_HAS("division by zero");

    uint8_t ua[3] = {250, 3, 0}, ub[3] = {10, 5, 1}, uy[3];
    host_tensor tua = T(U8, 1, D(3), ua), tub = T(U8, 1, D(3), ub), tuy = T(U8, 1, D(3), uy);
    EXPECT_OK(run2("Add", 14, &tua, &tub, &tuy));
    assert_u8(uy, (uint8_t[]){4, 8, 1}, 3);
    EXPECT_OK(run2("Sub", 14, &tua, &tub, &tuy));
    assert_u8(uy, (uint8_t[]){240, 254, 255}, 3);
    EXPECT_OK(run2("Div", 14, &tua, &tub, &tuy));
    assert_u8(uy, (uint8_t[]){25, 0, 0}, 3);

    uint64_t qa[2] = {UINT64_MAX, 1ull << 63}, qb[2] = {2, 3}, qy[2];
    host_tensor tqa = T(U64, 1, D(2), qa), tqb = T(U64, 1, D(2), qb), tqy = T(U64, 1, D(2), qy);
    EXPECT_OK(run2("Div", 14, &tqa, &tqb, &tqy));
    ck_assert(qy[0] == UINT64_MAX / 2 && qy[1] == (1ull << 63) / 3);
    EXPECT_OK(run2("Mod", 13, &tqa, &tqb, &tqy));
    ck_assert(qy[0] == 1 && qy[1] == (1ull << 63) % 3);
}
END_TEST

START_TEST(test_mod_signs)
{
    int32_t a[6] = {-4, 7, 5, -5, 4, -7}, b[6] = {2, -3, 3, 3, -3, -3}, y[6];
    host_tensor ta = T(I32, 1, D(6), a), tb = T(I32, 1, D(6), b), ty = T(I32, 1, D(6), y);
    EXPECT_OK(run2("Mod", 10, &ta, &tb, &ty)); /* Python: sign of the divisor */
    int32_t want_mod[6] = {0, -2, 2, 1, -2, -1};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(y[i], want_mod[i]);
    host_attr fm = AI("fmod", 1);
    EXPECT_OK(run_op("Mod", 10, 2, IN(&ta, &tb), 1, OUT(&ty), 1, &fm)); /* C: of the dividend */
    int32_t want_fmod[6] = {0, 1, 2, -2, 1, -1};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(y[i], want_fmod[i]);

    float fa[3] = {-4.3f, 7.2f, 5.0f}, fb[3] = {2.1f, -3.4f, 3.6f}, fy[3];
    host_tensor tfa = T(F32, 1, D(3), fa), tfb = T(F32, 1, D(3), fb), tfy = T(F32, 1, D(3), fy);
    EXPECT_OK(run_op("Mod", 10, 2, IN(&tfa, &tfb), 1, OUT(&tfy), 1, &fm));
    for (int i = 0; i < 3; i++)
        ck_assert(close_to(fy[i], fmodf(fa[i], fb[i])));
    TU_ASSERT_FAILS(run2("Mod", 10, &tfa, &tfb, &tfy));
    TU_ASSERT_ERROR_HAS("fmod");
    host_attr bad = AI("fmod", 2);
    TU_ASSERT_FAILS(run_op("Mod", 10, 2, IN(&ta, &tb), 1, OUT(&ty), 1, &bad));
}
END_TEST

START_TEST(test_pow_types)
{
    float a[3] = {2, 4, -3}, b[3] = {3, 0.5f, 2}, y[3];
    host_tensor ta = T(F32, 1, D(3), a), tb = T(F32, 1, D(3), b), ty = T(F32, 1, D(3), y);
    EXPECT_OK(run2("Pow", 15, &ta, &tb, &ty));
    assert_f32(y, (float[]){8, 2, 9}, 3);

    int64_t e[3] = {3, -1, 2};
    host_tensor te = T(I64, 1, D(3), e);
    EXPECT_OK(run2("Pow", 15, &ta, &te, &ty));
    assert_f32(y, (float[]){8, 0.25f, 9}, 3);

    int32_t ia[5] = {2, -2, 1, -1, 3}, ib[5] = {10, 3, -5, -3, -2}, iy[5];
    host_tensor tia = T(I32, 1, D(5), ia), tib = T(I32, 1, D(5), ib), tiy = T(I32, 1, D(5), iy);
    EXPECT_OK(run2("Pow", 15, &tia, &tib, &tiy));
    int32_t want[5] = {1024, -8, 1, -1, 0};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(iy[i], want[i]);
    ia[0] = 0;
    ib[0] = -1;
    TU_ASSERT_FAILS(run2("Pow", 15, &tia, &tib, &tiy));
    TU_ASSERT_ERROR_HAS("negative power");

    /* wraps, no UB */
    int64_t la[1] = {3}, lb[1] = {200}, ly[1];
    host_tensor tla = T(I64, 1, D(1), la), tlb = T(I64, 1, D(1), lb), tly = T(I64, 1, D(1), ly);
    EXPECT_OK(run2("Pow", 15, &tla, &tlb, &tly));
    uint64_t w = 1;
    for (int i = 0; i < 200; i++)
        w *= 3;
    ck_assert(ly[0] == (int64_t)w);

    /* int base, float exponent: computed in floating point, truncated */
    float fe[1] = {0.5f};
    host_tensor tfe = T(F32, 1, D(1), fe);
    la[0] = 10;
    EXPECT_OK(run2("Pow", 15, &tla, &tfe, &tly));
    ck_assert_int_eq(ly[0], 3);

    /* the exponent must be numeric */
    uint8_t bb[1] = {1};
    host_tensor tbb = T(BOOL, 1, D(1), bb);
    TU_ASSERT_STATUS(run2("Pow", 15, &tla, &tbb, &tly), O2P_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(test_prelu_unidirectional)
{
    float x[8] = {-1, 2, -3, 4, -5, 6, -7, 8}, s[2] = {0.5f, 0.25f}, y[8];
    host_tensor tx = T(F32, 3, D(2, 2, 2), x), ts = T(F32, 2, D(2, 1), s);
    host_tensor ty = T(F32, 3, D(2, 2, 2), y);
    EXPECT_OK(run2("PRelu", 16, &tx, &ts, &ty));
    assert_f32(y, (float[]){-0.5f, 2, -0.75f, 4, -2.5f, 6, -1.75f, 8}, 8);
    /* a slope that would grow X is refused */
    float big[4] = {0};
    host_tensor tbig = T(F32, 3, D(2, 2, 2), big);
    host_tensor tx2 = T(F32, 2, D(2, 1), s);
    TU_ASSERT_FAILS(run2("PRelu", 16, &tx2, &tbig, &tbig));
    /* opset 6: a 1-D slope is per channel */
    float x6[12], s6[3] = {0.5f, 2, 3}, y6[12];
    for (int i = 0; i < 12; i++)
        x6[i] = -1;
    host_tensor tx6 = T(F32, 3, D(2, 3, 2), x6), ts6 = T(F32, 1, D(3), s6);
    host_tensor ty6 = T(F32, 3, D(2, 3, 2), y6);
    EXPECT_OK(run2("PRelu", 6, &tx6, &ts6, &ty6));
    assert_f32(y6, (float[]){-0.5f, -0.5f, -2, -2, -3, -3, -0.5f, -0.5f, -2, -2, -3, -3}, 12);
    TU_ASSERT_FAILS(run2("PRelu", 7, &tx6, &ts6, &ty6));
    int32_t ix[3] = {-3, 0, 5}, is[1] = {2}, iy[3];
    host_tensor tix = T(I32, 1, D(3), ix), tis = T(I32, 1, D(1), is), tiy = T(I32, 1, D(3), iy);
    EXPECT_OK(run2("PRelu", 16, &tix, &tis, &tiy));
    ck_assert(iy[0] == -6 && iy[1] == 0 && iy[2] == 5);
}
END_TEST

/* ---------------------------------------------------------------- comparisons and logic */

START_TEST(test_comparisons)
{
    float a[4] = {1, 2, NAN, 4}, b[1] = {2};
    uint8_t y[4];
    host_tensor ta = T(F32, 1, D(4), a), tb = T(F32, 0, NO_DIMS, b), ty = T(BOOL, 1, D(4), y);
    EXPECT_OK(run2("Less", 13, &ta, &tb, &ty));
    assert_u8(y, (uint8_t[]){1, 0, 0, 0}, 4);
    EXPECT_OK(run2("LessOrEqual", 16, &ta, &tb, &ty));
    assert_u8(y, (uint8_t[]){1, 1, 0, 0}, 4);
    EXPECT_OK(run2("Greater", 13, &ta, &tb, &ty));
    assert_u8(y, (uint8_t[]){0, 0, 0, 1}, 4);
    EXPECT_OK(run2("GreaterOrEqual", 16, &ta, &tb, &ty));
    assert_u8(y, (uint8_t[]){0, 1, 0, 1}, 4);
    EXPECT_OK(run2("Equal", 13, &ta, &tb, &ty));
    assert_u8(y, (uint8_t[]){0, 1, 0, 0}, 4);

    /* output must be bool */
    float fy[4];
    host_tensor tfy = T(F32, 1, D(4), fy);
    TU_ASSERT_FAILS(run2("Less", 13, &ta, &tb, &tfy));
    TU_ASSERT_ERROR_HAS("bool");

    uint64_t ua[2] = {UINT64_MAX, 1}, ub[2] = {1, UINT64_MAX};
    host_tensor tua = T(U64, 1, D(2), ua), tub = T(U64, 1, D(2), ub);
    host_tensor ty2 = T(BOOL, 1, D(2), y);
    EXPECT_OK(run2("Greater", 13, &tua, &tub, &ty2));
    assert_u8(y, (uint8_t[]){1, 0}, 2);
    int64_t la[2] = {-1, 1}, lb[2] = {1, -1};
    host_tensor tla = T(I64, 1, D(2), la), tlb = T(I64, 1, D(2), lb);
    EXPECT_OK(run2("Greater", 13, &tla, &tlb, &ty2));
    assert_u8(y, (uint8_t[]){0, 1}, 2);

    uint8_t ba[4] = {0, 1, 0, 1}, bb[4] = {0, 0, 1, 1};
    host_tensor tba = T(BOOL, 1, D(4), ba), tbb = T(BOOL, 1, D(4), bb);
    EXPECT_OK(run2("Equal", 13, &tba, &tbb, &ty));
    assert_u8(y, (uint8_t[]){1, 0, 0, 1}, 4);
    EXPECT_OK(run2("And", 7, &tba, &tbb, &ty));
    assert_u8(y, (uint8_t[]){0, 0, 0, 1}, 4);
    EXPECT_OK(run2("Or", 7, &tba, &tbb, &ty));
    assert_u8(y, (uint8_t[]){0, 1, 1, 1}, 4);
    EXPECT_OK(run2("Xor", 7, &tba, &tbb, &ty));
    assert_u8(y, (uint8_t[]){0, 1, 1, 0}, 4);
    EXPECT_OK(run1("Not", 1, &tba, &ty));
    assert_u8(y, (uint8_t[]){1, 0, 1, 0}, 4);
    /* And of floats is refused */
    TU_ASSERT_STATUS(run2("And", 7, &ta, &ta, &ty), O2P_ERR_UNSUPPORTED);
    /* mixed element types are refused */
    TU_ASSERT_FAILS(run2("Equal", 13, &ta, &tla, &ty));
}
END_TEST

START_TEST(test_bit_operations)
{
    uint8_t a[4] = {1, 0x80, 0xff, 3}, s[4] = {7, 1, 8, 200}, y[4];
    host_tensor ta = T(U8, 1, D(4), a), ts = T(U8, 1, D(4), s), ty = T(U8, 1, D(4), y);
    host_attr left = AS("direction", "LEFT"), right = AS("direction", "RIGHT");
    EXPECT_OK(run_op("BitShift", 11, 2, IN(&ta, &ts), 1, OUT(&ty), 1, &left));
    assert_u8(y, (uint8_t[]){0x80, 0, 0, 0}, 4);
    EXPECT_OK(run_op("BitShift", 11, 2, IN(&ta, &ts), 1, OUT(&ty), 1, &right));
    assert_u8(y, (uint8_t[]){0, 0x40, 0, 0}, 4);
    uint64_t q[2] = {1, UINT64_MAX}, qs[2] = {63, 64}, qy[2];
    host_tensor tq = T(U64, 1, D(2), q), tqs = T(U64, 1, D(2), qs), tqy = T(U64, 1, D(2), qy);
    EXPECT_OK(run_op("BitShift", 11, 2, IN(&tq, &tqs), 1, OUT(&tqy), 1, &left));
    ck_assert(qy[0] == 1ull << 63 && qy[1] == 0);
    host_attr bad = AS("direction", "UP");
    TU_ASSERT_FAILS(run_op("BitShift", 11, 2, IN(&ta, &ts), 1, OUT(&ty), 1, &bad));
    TU_ASSERT_FAILS(run_op("BitShift", 11, 2, IN(&ta, &ts), 1, OUT(&ty), 0, NULL));
    int32_t ia[1] = {1};
    host_tensor tia = T(I32, 1, D(1), ia);
    TU_ASSERT_STATUS(run_op("BitShift", 11, 2, IN(&tia, &tia), 1, OUT(&tia), 1, &left),
                     O2P_ERR_UNSUPPORTED);

    int16_t b1[3] = {0x0f0f, -1, 5}, b2[3] = {0x00ff, 2, 3}, by[3];
    host_tensor tb1 = T(I16, 1, D(3), b1), tb2 = T(I16, 1, D(3), b2), tby = T(I16, 1, D(3), by);
    EXPECT_OK(run2("BitwiseAnd", 18, &tb1, &tb2, &tby));
    ck_assert(by[0] == 0x000f && by[1] == 2 && by[2] == 1);
    EXPECT_OK(run2("BitwiseOr", 18, &tb1, &tb2, &tby));
    ck_assert(by[0] == 0x0fff && by[1] == -1 && by[2] == 7);
    EXPECT_OK(run2("BitwiseXor", 18, &tb1, &tb2, &tby));
    ck_assert(by[0] == 0x0ff0 && by[1] == -3 && by[2] == 6);
    EXPECT_OK(run1("BitwiseNot", 18, &tb1, &tby));
    ck_assert(by[0] == (int16_t)~0x0f0f && by[1] == 0 && by[2] == -6);
}
END_TEST

/* ---------------------------------------------------------------- variadic, Where */

START_TEST(test_variadic)
{
    float a[2] = {1, 5}, b[3] = {3, NAN, -1}, c[1] = {2}, y[6];
    host_tensor ta = T(F32, 2, D(2, 1), a), tb = T(F32, 1, D(3), b), tc = T(F32, 1, D(1), c);
    host_tensor ty = T(F32, 2, D(2, 3), y);
    EXPECT_OK(run_op("Max", 13, 3, IN(&ta, &tb, &tc), 1, OUT(&ty), 0, NULL));
    assert_f32(y, (float[]){3, NAN, 2, 5, NAN, 5}, 6);
    EXPECT_OK(run_op("Min", 13, 3, IN(&ta, &tb, &tc), 1, OUT(&ty), 0, NULL));
    assert_f32(y, (float[]){1, NAN, -1, 2, NAN, -1}, 6);
    b[1] = 4;
    EXPECT_OK(run_op("Sum", 13, 3, IN(&ta, &tb, &tc), 1, OUT(&ty), 0, NULL));
    assert_f32(y, (float[]){6, 7, 2, 10, 11, 6}, 6);
    EXPECT_OK(run_op("Mean", 13, 3, IN(&ta, &tb, &tc), 1, OUT(&ty), 0, NULL));
    assert_f32(y, (float[]){2, 7 / 3.0f, 2 / 3.0f, 10 / 3.0f, 11 / 3.0f, 2}, 6);
    /* one input: a copy */
    host_tensor ty1 = T(F32, 2, D(2, 1), y);
    EXPECT_OK(run_op("Sum", 13, 1, IN(&ta), 1, OUT(&ty1), 0, NULL));
    assert_f32(y, a, 2);
    /* the output must have the broadcast shape of all inputs */
    host_tensor bad = T(F32, 2, D(2, 1), y);
    TU_ASSERT_FAILS(run_op("Max", 13, 3, IN(&ta, &tb, &tc), 1, OUT(&bad), 0, NULL));
    TU_ASSERT_FAILS(run_op("Max", 13, 0, NULL, 1, OUT(&ty), 0, NULL));
    TU_ASSERT_FAILS(run_op("Max", 13, 2, IN(&ta, NULL), 1, OUT(&ty), 0, NULL));

    int8_t ia[3] = {-128, 127, 0}, ib[3] = {127, -128, 0}, iy[3];
    host_tensor tia = T(I8, 1, D(3), ia), tib = T(I8, 1, D(3), ib), tiy = T(I8, 1, D(3), iy);
    EXPECT_OK(run_op("Max", 13, 2, IN(&tia, &tib), 1, OUT(&tiy), 0, NULL));
    ck_assert(iy[0] == 127 && iy[1] == 127 && iy[2] == 0);
    EXPECT_OK(run_op("Min", 13, 2, IN(&tia, &tib), 1, OUT(&tiy), 0, NULL));
    ck_assert(iy[0] == -128 && iy[1] == -128 && iy[2] == 0);
    uint64_t ua[1] = {UINT64_MAX}, ub[1] = {1}, uy[1];
    host_tensor tua = T(U64, 1, D(1), ua), tub = T(U64, 1, D(1), ub), tuy = T(U64, 1, D(1), uy);
    EXPECT_OK(run_op("Max", 13, 2, IN(&tua, &tub), 1, OUT(&tuy), 0, NULL));
    ck_assert(uy[0] == UINT64_MAX);
    /* Sum of ints is not defined by ONNX */
    TU_ASSERT_STATUS(run_op("Sum", 13, 2, IN(&tia, &tib), 1, OUT(&tiy), 0, NULL),
                     O2P_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(test_where)
{
    uint8_t cond[3] = {1, 0, 1};
    int64_t x[2] = {10, 20}, yv[1] = {-1}, z[6];
    host_tensor tc = T(BOOL, 1, D(3), cond), tx = T(I64, 2, D(2, 1), x),
                ty = T(I64, 0, NO_DIMS, yv);
    host_tensor tz = T(I64, 2, D(2, 3), z);
    EXPECT_OK(run_op("Where", 16, 3, IN(&tc, &tx, &ty), 1, OUT(&tz), 0, NULL));
    assert_i64(z, (int64_t[]){10, -1, 10, 20, -1, 20}, 6);

    uint8_t bx[3] = {1, 1, 1}, by[3] = {0, 0, 0}, bz[3];
    host_tensor tbx = T(BOOL, 1, D(3), bx), tby = T(BOOL, 1, D(3), by), tbz = T(BOOL, 1, D(3), bz);
    EXPECT_OK(run_op("Where", 16, 3, IN(&tc, &tbx, &tby), 1, OUT(&tbz), 0, NULL));
    assert_u8(bz, cond, 3);

    uint16_t hx[3] = {1, 2, 3}, hy[3] = {4, 5, 6}, hz[3];
    host_tensor thx = T(F16, 1, D(3), hx), thy = T(F16, 1, D(3), hy), thz = T(F16, 1, D(3), hz);
    EXPECT_OK(run_op("Where", 16, 3, IN(&tc, &thx, &thy), 1, OUT(&thz), 0, NULL));
    ck_assert(hz[0] == 1 && hz[1] == 5 && hz[2] == 3);

    /* a non-bool condition, mismatched X/Y types */
    TU_ASSERT_FAILS(run_op("Where", 16, 3, IN(&tx, &tx, &ty), 1, OUT(&tz), 0, NULL));
    TU_ASSERT_FAILS(run_op("Where", 16, 3, IN(&tc, &tx, &thy), 1, OUT(&tz), 0, NULL));
}
END_TEST

/* ---------------------------------------------------------------- unary */

typedef struct unary_case {
    const char *op;
    double (*ref)(double);
    double lo, hi; /* domain of the test values */
} unary_case;

static double r_abs(double x)
{
    return fabs(x);
}
static double r_neg(double x)
{
    return -x;
}
static double r_sign(double x)
{
    return (x > 0) - (x < 0);
}
static double r_relu(double x)
{
    return x > 0 ? x : 0;
}
static double r_recip(double x)
{
    return 1 / x;
}
static double r_sigmoid(double x)
{
    return 1 / (1 + exp(-x));
}
static double r_softplus(double x)
{
    return log(exp(x) + 1);
}
static double r_softsign(double x)
{
    return x / (1 + fabs(x));
}
static double r_mish(double x)
{
    return x * tanh(log(exp(x) + 1));
}
static double r_hard_swish(double x)
{
    return x * fmax(0, fmin(1, x / 6 + 0.5));
}
static double r_round(double x)
{
    return nearbyint(x);
}
static double r_leaky(double x)
{
    return x < 0 ? 0.01 * x : x;
}
static double r_elu(double x)
{
    return x < 0 ? exp(x) - 1 : x;
}
static double r_selu(double x)
{
    return x > 0 ? 1.0507009873554805 * x : 1.0507009873554805 * 1.6732632423543772 * (exp(x) - 1);
}
static double r_celu(double x)
{
    return fmax(0, x) + fmin(0, exp(x) - 1);
}
static double r_hard_sigmoid(double x)
{
    return fmax(0, fmin(1, 0.2 * x + 0.5));
}
static double r_thresholded(double x)
{
    return x > 1 ? x : 0;
}
static double r_shrink(double x)
{
    return x < -0.5 ? x : x > 0.5 ? x : 0;
}

static const unary_case unary_cases[] = {
    {"Abs", r_abs, -5, 5},
    {"Neg", r_neg, -5, 5},
    {"Sign", r_sign, -5, 5},
    {"Relu", r_relu, -5, 5},
    {"Sqrt", sqrt, 0, 9},
    {"Exp", exp, -5, 5},
    {"Log", log, 0.01, 9},
    {"Reciprocal", r_recip, 0.5, 9},
    {"Floor", floor, -5, 5},
    {"Ceil", ceil, -5, 5},
    {"Round", r_round, -5, 5},
    {"Sigmoid", r_sigmoid, -9, 9},
    {"Tanh", tanh, -5, 5},
    {"Erf", erf, -3, 3},
    {"Softplus", r_softplus, -9, 9},
    {"Softsign", r_softsign, -5, 5},
    {"Mish", r_mish, -5, 5},
    {"HardSwish", r_hard_swish, -5, 5},
    {"LeakyRelu", r_leaky, -5, 5},
    {"Elu", r_elu, -5, 5},
    {"Selu", r_selu, -5, 5},
    {"Celu", r_celu, -5, 5},
    {"HardSigmoid", r_hard_sigmoid, -5, 5},
    {"ThresholdedRelu", r_thresholded, -5, 5},
    {"Shrink", r_shrink, -2, 2},
    {"Sin", sin, -5, 5},
    {"Cos", cos, -5, 5},
    {"Tan", tan, -1.2, 1.2},
    {"Asin", asin, -0.99, 0.99},
    {"Acos", acos, -0.99, 0.99},
    {"Atan", atan, -5, 5},
    {"Sinh", sinh, -5, 5},
    {"Cosh", cosh, -5, 5},
    {"Asinh", asinh, -5, 5},
    {"Acosh", acosh, 1, 9},
    {"Atanh", atanh, -0.99, 0.99},
};

/* Every float unary op on float32, float16, bfloat16 and double, against libm in double
 * (default attributes). */
START_TEST(test_unary_float_ops)
{
    enum { N = 37 };
    for (size_t c = 0; c < sizeof unary_cases / sizeof unary_cases[0]; c++) {
        const unary_case *uc = &unary_cases[c];
        float xf[N], yf[N];
        double xd[N], yd[N];
        uint16_t xh[N], yh[N], xb[N], yb[N];
        for (int i = 0; i < N; i++) {
            xf[i] = (float)(uc->lo + (uc->hi - uc->lo) * i / (N - 1));
            xd[i] = xf[i];
            xh[i] = o2p_float_to_half(xf[i]);
            xb[i] = o2p_float_to_bf16(xf[i]);
        }
        host_tensor tx = T(F32, 1, D(N), xf), ty = T(F32, 1, D(N), yf);
        EXPECT_OK(run1(uc->op, 17, &tx, &ty));
        host_tensor txd = T(F64, 1, D(N), xd), tyd = T(F64, 1, D(N), yd);
        EXPECT_OK(run1(uc->op, 17, &txd, &tyd));
        host_tensor txh = T(F16, 1, D(N), xh), tyh = T(F16, 1, D(N), yh);
        EXPECT_OK(run1(uc->op, 17, &txh, &tyh));
        host_tensor txb = T(BF16, 1, D(N), xb), tyb = T(BF16, 1, D(N), yb);
        EXPECT_OK(run1(uc->op, 17, &txb, &tyb));
        for (int i = 0; i < N; i++) {
            double want = uc->ref(xd[i]);
            ck_assert_msg(close_to(yf[i], want), "%s(%g): float32 %.9g, expected %.9g", uc->op,
                          xd[i], (double)yf[i], want);
            ck_assert_msg(close_to(yd[i], want), "%s(%g): double %.17g, expected %.17g", uc->op,
                          xd[i], yd[i], want);
            double wh = uc->ref(o2p_half_to_float(xh[i]));
            double gh = o2p_half_to_float(yh[i]);
            ck_assert_msg(fabs(gh - wh) <= 1e-3 + 2e-3 * fabs(wh) || (isnan(wh) && isnan(gh)),
                          "%s(%g): float16 %.9g, expected %.9g", uc->op, xd[i], gh, wh);
            double wb = uc->ref(o2p_bf16_to_float(xb[i]));
            double gb = o2p_bf16_to_float(yb[i]);
            ck_assert_msg(fabs(gb - wb) <= 1e-2 + 1e-2 * fabs(wb) || (isnan(wb) && isnan(gb)),
                          "%s(%g): bfloat16 %.9g, expected %.9g", uc->op, xd[i], gb, wb);
        }
        /* integers are refused by the float-only ops, with a message naming the type */
        int32_t ix[1] = {1}, iy[1];
        host_tensor tix = T(I32, 1, D(1), ix), tiy = T(I32, 1, D(1), iy);
        o2p_status s = run1(uc->op, 17, &tix, &tiy);
        if (s != O2P_OK) {
            TU_ASSERT_STATUS(s, O2P_ERR_UNSUPPORTED);
            TU_ASSERT_ERROR_HAS("int32");
        }
    }
}
END_TEST

START_TEST(test_unary_special_values)
{
    float x[8] = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, NAN, INFINITY, -INFINITY}, y[8];
    uint8_t b[8];
    host_tensor tx = T(F32, 1, D(8), x), ty = T(F32, 1, D(8), y), tb = T(BOOL, 1, D(8), b);
    EXPECT_OK(run1("Round", 11, &tx, &ty));
    assert_f32(y, (float[]){0, 2, 2, -0.0f, -2, NAN, INFINITY, -INFINITY}, 8);
    ck_assert(signbit(y[3]));
    EXPECT_OK(run1("Relu", 14, &tx, &ty));
    ck_assert(isnan(y[5]) && y[6] == INFINITY && y[7] == 0);
    EXPECT_OK(run1("Sigmoid", 13, &tx, &ty));
    ck_assert(y[6] == 1 && y[7] == 0);
    EXPECT_OK(run1("Sign", 13, &tx, &ty));
    ck_assert(isnan(y[5]) && y[6] == 1 && y[7] == -1);
    EXPECT_OK(run1("IsNaN", 13, &tx, &tb));
    assert_u8(b, (uint8_t[]){0, 0, 0, 0, 0, 1, 0, 0}, 8);
    EXPECT_OK(run1("IsInf", 10, &tx, &tb));
    assert_u8(b, (uint8_t[]){0, 0, 0, 0, 0, 0, 1, 1}, 8);
    host_attr neg_only[2] = {AI("detect_positive", 0), AI("detect_negative", 1)};
    EXPECT_OK(run_op("IsInf", 10, 1, IN(&tx), 1, OUT(&tb), 2, neg_only));
    assert_u8(b, (uint8_t[]){0, 0, 0, 0, 0, 0, 0, 1}, 8);
    host_attr pos_only[1] = {AI("detect_negative", 0)};
    EXPECT_OK(run_op("IsInf", 10, 1, IN(&tx), 1, OUT(&tb), 1, pos_only));
    assert_u8(b, (uint8_t[]){0, 0, 0, 0, 0, 0, 1, 0}, 8);
    /* IsNaN writes bool, not float */
    TU_ASSERT_FAILS(run1("IsNaN", 13, &tx, &ty));

    /* attributes */
    host_attr alpha = AF("alpha", 0.5f);
    EXPECT_OK(run_op("LeakyRelu", 16, 1, IN(&tx), 1, OUT(&ty), 1, &alpha));
    ck_assert(y[3] == -0.25f && y[0] == 0.5f);
    host_attr hs[2] = {AF("alpha", 0.5f), AF("beta", 0.0f)};
    EXPECT_OK(run_op("HardSigmoid", 6, 1, IN(&tx), 1, OUT(&ty), 2, hs));
    ck_assert(y[0] == 0.25f && y[1] == 0.75f && y[2] == 1.0f && y[3] == 0.0f);
    host_attr sh[2] = {AF("lambd", 1.0f), AF("bias", 0.5f)};
    EXPECT_OK(run_op("Shrink", 9, 1, IN(&tx), 1, OUT(&ty), 2, sh));
    ck_assert(y[0] == 0 && y[1] == 1.0f && y[2] == 2.0f && y[4] == -2.0f);
    host_attr zero = AF("alpha", 0.0f);
    TU_ASSERT_FAILS(run_op("Celu", 12, 1, IN(&tx), 1, OUT(&ty), 1, &zero));

    /* integer unary ops */
    int8_t ix[4] = {-128, -3, 0, 7}, iy[4];
    host_tensor tix = T(I8, 1, D(4), ix), tiy = T(I8, 1, D(4), iy);
    EXPECT_OK(run1("Abs", 13, &tix, &tiy));
    ck_assert(iy[0] == -128 && iy[1] == 3 && iy[2] == 0 && iy[3] == 7);
    EXPECT_OK(run1("Neg", 13, &tix, &tiy));
    ck_assert(iy[0] == -128 && iy[1] == 3 && iy[2] == 0 && iy[3] == -7);
    EXPECT_OK(run1("Sign", 13, &tix, &tiy));
    ck_assert(iy[0] == -1 && iy[1] == -1 && iy[2] == 0 && iy[3] == 1);
    EXPECT_OK(run1("Relu", 14, &tix, &tiy));
    ck_assert(iy[0] == 0 && iy[1] == 0 && iy[2] == 0 && iy[3] == 7);
    EXPECT_OK(run_op("Shrink", 9, 1, IN(&tix), 1, OUT(&tiy), 2, sh));
    ck_assert(iy[0] == -127 && iy[1] == -2 && iy[2] == 0 && iy[3] == 6);
    uint32_t ux[2] = {0, 5}, uy[2];
    host_tensor tux = T(U32, 1, D(2), ux), tuy = T(U32, 1, D(2), uy);
    EXPECT_OK(run1("Sign", 13, &tux, &tuy));
    ck_assert(uy[0] == 0 && uy[1] == 1);
    EXPECT_OK(run1("Abs", 13, &tux, &tuy));
    ck_assert(uy[0] == 0 && uy[1] == 5);
    TU_ASSERT_STATUS(run1("Neg", 13, &tux, &tuy), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_STATUS(run1("Not", 1, &tux, &tuy), O2P_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(test_clip)
{
    float x[5] = {-3, -1, 0, 1, NAN}, y[5];
    host_tensor tx = T(F32, 1, D(5), x), ty = T(F32, 1, D(5), y);
    host_attr mm[2] = {AF("min", -1.5f), AF("max", 0.5f)};
    EXPECT_OK(run_op("Clip", 6, 1, IN(&tx), 1, OUT(&ty), 2, mm));
    assert_f32(y, (float[]){-1.5f, -1, 0, 0.5f, NAN}, 5);
    EXPECT_OK(run_op("Clip", 6, 1, IN(&tx), 1, OUT(&ty), 0, NULL)); /* no bounds */
    assert_f32(y, x, 5);

    float lo = -2, hi = 0.5f;
    host_tensor tlo = T(F32, 0, NO_DIMS, &lo), thi = T(F32, 0, NO_DIMS, &hi);
    EXPECT_OK(run_op("Clip", 13, 3, IN(&tx, &tlo, &thi), 1, OUT(&ty), 0, NULL));
    assert_f32(y, (float[]){-2, -1, 0, 0.5f, NAN}, 5);
    EXPECT_OK(run_op("Clip", 13, 3, IN(&tx, NULL, &thi), 1, OUT(&ty), 0, NULL));
    assert_f32(y, (float[]){-3, -1, 0, 0.5f, NAN}, 5);
    EXPECT_OK(run_op("Clip", 13, 2, IN(&tx, &tlo), 1, OUT(&ty), 0, NULL));
    assert_f32(y, (float[]){-2, -1, 0, 1, NAN}, 5);
    /* min > max: everything becomes max */
    lo = 1;
    hi = -1;
    EXPECT_OK(run_op("Clip", 13, 3, IN(&tx, &tlo, &thi), 1, OUT(&ty), 0, NULL));
    assert_f32(y, (float[]){-1, -1, -1, -1, NAN}, 5);

    /* bounds must be scalars of X's type */
    float two[2] = {0, 1};
    host_tensor ttwo = T(F32, 1, D(2), two);
    TU_ASSERT_FAILS(run_op("Clip", 13, 3, IN(&tx, &ttwo, &thi), 1, OUT(&ty), 0, NULL));
    double dlo = 0;
    host_tensor tdlo = T(F64, 0, NO_DIMS, &dlo);
    TU_ASSERT_FAILS(run_op("Clip", 13, 2, IN(&tx, &tdlo), 1, OUT(&ty), 0, NULL));

    int8_t ix[4] = {-128, -5, 5, 127}, ilo = -10, ihi = 10, iy[4];
    host_tensor tix = T(I8, 1, D(4), ix), tilo = T(I8, 0, NO_DIMS, &ilo);
    host_tensor tihi = T(I8, 0, NO_DIMS, &ihi), tiy = T(I8, 1, D(4), iy);
    EXPECT_OK(run_op("Clip", 13, 3, IN(&tix, &tilo, &tihi), 1, OUT(&tiy), 0, NULL));
    ck_assert(iy[0] == -10 && iy[1] == -5 && iy[2] == 5 && iy[3] == 10);
    uint64_t ux[2] = {0, UINT64_MAX}, ulo = 1, uhi = UINT64_MAX - 1, uy[2];
    host_tensor tux = T(U64, 1, D(2), ux), tulo = T(U64, 0, NO_DIMS, &ulo);
    host_tensor tuhi = T(U64, 0, NO_DIMS, &uhi), tuy = T(U64, 1, D(2), uy);
    EXPECT_OK(run_op("Clip", 13, 3, IN(&tux, &tulo, &tuhi), 1, OUT(&tuy), 0, NULL));
    ck_assert(uy[0] == 1 && uy[1] == UINT64_MAX - 1);
}
END_TEST

/* ---------------------------------------------------------------- Cast, Identity, Dropout */

START_TEST(test_cast)
{
    float x[6] = {1.9f, -1.9f, 0.0f, NAN, 300.0f, -0.0f};
    host_tensor tx = T(F32, 1, D(6), x);
    host_attr to;

    int32_t i32[6];
    host_tensor ti32 = T(I32, 1, D(6), i32);
    to = AI("to", I32);
    EXPECT_OK(run_op("Cast", 13, 1, IN(&tx), 1, OUT(&ti32), 1, &to));
    ck_assert(i32[0] == 1 && i32[1] == -1 && i32[2] == 0 && i32[4] == 300);

    uint8_t b[6];
    host_tensor tb = T(BOOL, 1, D(6), b);
    to = AI("to", BOOL);
    EXPECT_OK(run_op("Cast", 13, 1, IN(&tx), 1, OUT(&tb), 1, &to));
    assert_u8(b, (uint8_t[]){1, 1, 0, 1, 1, 0}, 6);

    float back[6];
    host_tensor tback = T(F32, 1, D(6), back);
    to = AI("to", F32);
    EXPECT_OK(run_op("Cast", 13, 1, IN(&tb), 1, OUT(&tback), 1, &to));
    assert_f32(back, (float[]){1, 1, 0, 1, 1, 0}, 6);

    uint16_t h[6], bf[6];
    host_tensor th = T(F16, 1, D(6), h), tbf = T(BF16, 1, D(6), bf);
    to = AI("to", F16);
    EXPECT_OK(run_op("Cast", 13, 1, IN(&tx), 1, OUT(&th), 1, &to));
    for (int i = 0; i < 6; i++)
        ck_assert(h[i] == o2p_float_to_half(x[i]));
    to = AI("to", BF16);
    EXPECT_OK(run_op("Cast", 13, 1, IN(&tx), 1, OUT(&tbf), 1, &to));
    for (int i = 0; i < 6; i++)
        ck_assert(bf[i] == o2p_float_to_bf16(x[i]));
    to = AI("to", F32);
    EXPECT_OK(run_op("Cast", 13, 1, IN(&th), 1, OUT(&tback), 1, &to));
    ck_assert(back[0] == o2p_half_to_float(o2p_float_to_half(1.9f)) && isnan(back[3]));

    /* double to float16 rounds once: 1 + 2^-11 + 2^-30 is just above a half-way point */
    double dd[2] = {1.0 + 0x1p-11 + 0x1p-30, 1.0 + 0x1p-11};
    uint16_t hd[2];
    host_tensor tdd = T(F64, 1, D(2), dd), thd = T(F16, 1, D(2), hd);
    to = AI("to", F16);
    EXPECT_OK(run_op("Cast", 13, 1, IN(&tdd), 1, OUT(&thd), 1, &to));
    ck_assert_int_eq(hd[0], 0x3c01);
    ck_assert_int_eq(hd[1], 0x3c00);

    /* integers: wrap to narrower types, bool is != 0 */
    int64_t l[4] = {300, -1, 0, INT64_MIN};
    int8_t i8[4];
    uint8_t lb[4];
    host_tensor tl = T(I64, 1, D(4), l), ti8 = T(I8, 1, D(4), i8), tlb = T(BOOL, 1, D(4), lb);
    to = AI("to", I8);
    EXPECT_OK(run_op("Cast", 13, 1, IN(&tl), 1, OUT(&ti8), 1, &to));
    ck_assert(i8[0] == 44 && i8[1] == -1 && i8[2] == 0 && i8[3] == 0);
    to = AI("to", BOOL);
    EXPECT_OK(run_op("Cast", 13, 1, IN(&tl), 1, OUT(&tlb), 1, &to));
    assert_u8(lb, (uint8_t[]){1, 1, 0, 1}, 4);
    uint64_t big[1] = {UINT64_MAX};
    double dbig[1];
    host_tensor tbig = T(U64, 1, D(1), big), tdbig = T(F64, 1, D(1), dbig);
    to = AI("to", F64);
    EXPECT_OK(run_op("Cast", 13, 1, IN(&tbig), 1, OUT(&tdbig), 1, &to));
    ck_assert(dbig[0] == 18446744073709551616.0);

    /* the output type must be `to`; strings and unknown types are refused */
    to = AI("to", I64);
    TU_ASSERT_FAILS(run_op("Cast", 13, 1, IN(&tx), 1, OUT(&ti32), 1, &to));
    TU_ASSERT_ERROR_HAS("int64");
    to = AI("to", O2P_DTYPE_STRING);
    TU_ASSERT_STATUS(run_op("Cast", 13, 1, IN(&tx), 1, OUT(&ti32), 1, &to), O2P_ERR_UNSUPPORTED);
    to = AI("to", 99);
    TU_ASSERT_STATUS(run_op("Cast", 13, 1, IN(&tx), 1, OUT(&ti32), 1, &to), O2P_ERR_UNSUPPORTED);
    to = AI("to", -5);
    TU_ASSERT_STATUS(run_op("Cast", 13, 1, IN(&tx), 1, OUT(&ti32), 1, &to), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_FAILS(run_op("Cast", 13, 1, IN(&tx), 1, OUT(&ti32), 0, NULL));

    /* CastLike takes the type of its second input */
    int32_t like[1];
    host_tensor tlike = T(I32, 1, D(1), like);
    EXPECT_OK(run_op("CastLike", 15, 2, IN(&tx, &tlike), 1, OUT(&ti32), 0, NULL));
    ck_assert(i32[0] == 1 && i32[1] == -1);
    TU_ASSERT_FAILS(run_op("CastLike", 15, 1, IN(&tx), 1, OUT(&ti32), 0, NULL));
}
END_TEST

START_TEST(test_identity_dropout)
{
    float x[4] = {1, 2, 3, 4}, y[4];
    uint8_t mask[4];
    host_tensor tx = T(F32, 2, D(2, 2), x), ty = T(F32, 2, D(2, 2), y);
    host_tensor tm = T(BOOL, 2, D(2, 2), mask);
    EXPECT_OK(run1("Identity", 16, &tx, &ty));
    assert_f32(y, x, 4);
    uint8_t bx[2] = {1, 0}, by[2];
    host_tensor tbx = T(BOOL, 1, D(2), bx), tby = T(BOOL, 1, D(2), by);
    EXPECT_OK(run1("Identity", 16, &tbx, &tby));
    assert_u8(by, bx, 2);

    memset(y, 0, sizeof y);
    memset(mask, 0, sizeof mask);
    EXPECT_OK(run_op("Dropout", 13, 1, IN(&tx), 2, OUT(&ty, &tm), 0, NULL));
    assert_f32(y, x, 4);
    assert_u8(mask, (uint8_t[]){1, 1, 1, 1}, 4);
    EXPECT_OK(run_op("Dropout", 13, 1, IN(&tx), 2, OUT(&ty, NULL), 0, NULL));

    float ratio = 0.0f;
    uint8_t training = 1;
    host_tensor tr = T(F32, 0, NO_DIMS, &ratio), tt = T(BOOL, 0, NO_DIMS, &training);
    EXPECT_OK(run_op("Dropout", 13, 3, IN(&tx, &tr, &tt), 2, OUT(&ty, &tm), 0, NULL));
    assert_f32(y, x, 4);
    /* training with a ratio: each element dropped (0) or kept and scaled by 1 / (1 - ratio),
     * as the mask says (test_host_training.c checks the stream and the kept fraction) */
    ratio = 0.5f;
    EXPECT_OK(run_op("Dropout", 13, 3, IN(&tx, &tr, &tt), 2, OUT(&ty, &tm), 0, NULL));
    for (int i = 0; i < 4; i++)
        ck_assert(mask[i] <= 1 && y[i] == (mask[i] ? 2 * x[i] : 0.0f));
    training = 0;
    EXPECT_OK(run_op("Dropout", 13, 3, IN(&tx, &tr, &tt), 2, OUT(&ty, &tm), 0, NULL));

    /* opset 7: the mask has X's type */
    float fmask[4];
    host_tensor tfm = T(F32, 2, D(2, 2), fmask);
    EXPECT_OK(run_op("Dropout", 7, 1, IN(&tx), 2, OUT(&ty, &tfm), 0, NULL));
    assert_f32(fmask, (float[]){1, 1, 1, 1}, 4);
    TU_ASSERT_FAILS(run_op("Dropout", 10, 1, IN(&tx), 2, OUT(&ty, &tfm), 0, NULL));
}
END_TEST

/* ---------------------------------------------------------------- reductions */

START_TEST(test_reduce_axes_and_keepdims)
{
    /* x[2][3][2] = 0..11 */
    float x[12], y[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i;
    host_tensor tx = T(F32, 3, D(2, 3, 2), x);
    int64_t ax1[1] = {1};
    host_attr keep[1] = {AINTS("axes", 1, ax1)};
    host_tensor ty = T(F32, 3, D(2, 1, 2), y);
    EXPECT_OK(run_op("ReduceSum", 11, 1, IN(&tx), 1, OUT(&ty), 1, keep));
    assert_f32(y, (float[]){6, 9, 24, 27}, 4);
    EXPECT_OK(run_op("ReduceMean", 11, 1, IN(&tx), 1, OUT(&ty), 1, keep));
    assert_f32(y, (float[]){2, 3, 8, 9}, 4);
    EXPECT_OK(run_op("ReduceMax", 11, 1, IN(&tx), 1, OUT(&ty), 1, keep));
    assert_f32(y, (float[]){4, 5, 10, 11}, 4);
    EXPECT_OK(run_op("ReduceMin", 11, 1, IN(&tx), 1, OUT(&ty), 1, keep));
    assert_f32(y, (float[]){0, 1, 6, 7}, 4);
    EXPECT_OK(run_op("ReduceProd", 11, 1, IN(&tx), 1, OUT(&ty), 1, keep));
    assert_f32(y, (float[]){0, 15, 480, 693}, 4);
    EXPECT_OK(run_op("ReduceSumSquare", 11, 1, IN(&tx), 1, OUT(&ty), 1, keep));
    assert_f32(y, (float[]){20, 35, 200, 251}, 4);
    EXPECT_OK(run_op("ReduceL1", 11, 1, IN(&tx), 1, OUT(&ty), 1, keep));
    assert_f32(y, (float[]){6, 9, 24, 27}, 4);
    EXPECT_OK(run_op("ReduceL2", 11, 1, IN(&tx), 1, OUT(&ty), 1, keep));
    assert_f32(y, (float[]){sqrtf(20), sqrtf(35), sqrtf(200), sqrtf(251)}, 4);
    EXPECT_OK(run_op("ReduceLogSum", 11, 1, IN(&tx), 1, OUT(&ty), 1, keep));
    assert_f32(y, (float[]){logf(6), logf(9), logf(24), logf(27)}, 4);
    EXPECT_OK(run_op("ReduceLogSumExp", 11, 1, IN(&tx), 1, OUT(&ty), 1, keep));
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++) {
            double s = 0;
            for (int j = 0; j < 3; j++)
                s += exp(x[(i * 3 + j) * 2 + k]);
            ck_assert(close_to(y[i * 2 + k], log(s)));
        }

    /* negative axes, keepdims=0 */
    int64_t axn[2] = {-1, 0};
    host_attr drop[2] = {AINTS("axes", 2, axn), AI("keepdims", 0)};
    host_tensor ty3 = T(F32, 1, D(3), y);
    EXPECT_OK(run_op("ReduceSum", 11, 1, IN(&tx), 1, OUT(&ty3), 2, drop));
    assert_f32(y, (float[]){14, 22, 30}, 3);
    /* all axes by default */
    host_tensor tall = T(F32, 3, D(1, 1, 1), y);
    EXPECT_OK(run_op("ReduceSum", 11, 1, IN(&tx), 1, OUT(&tall), 0, NULL));
    ck_assert(y[0] == 66);
    host_attr nokeep = AI("keepdims", 0);
    host_tensor tscalar = T(F32, 0, NO_DIMS, y);
    EXPECT_OK(run_op("ReduceMax", 11, 1, IN(&tx), 1, OUT(&tscalar), 1, &nokeep));
    ck_assert(y[0] == 11);

    /* ReduceSum 13: axes as an input; empty axes with noop is the identity */
    int64_t axv[1] = {2};
    host_tensor tax = T(I64, 1, D(1), axv), ty2 = T(F32, 3, D(2, 3, 1), y);
    EXPECT_OK(run_op("ReduceSum", 13, 2, IN(&tx, &tax), 1, OUT(&ty2), 0, NULL));
    assert_f32(y, (float[]){1, 5, 9, 13, 17, 21}, 6);
    host_tensor tempty = T(I64, 1, D(0), axv), tid = T(F32, 3, D(2, 3, 2), y);
    host_attr noop = AI("noop_with_empty_axes", 1);
    EXPECT_OK(run_op("ReduceSum", 13, 2, IN(&tx, &tempty), 1, OUT(&tid), 1, &noop));
    assert_f32(y, x, 12);
    EXPECT_OK(run_op("ReduceSum", 13, 2, IN(&tx, &tempty), 1, OUT(&tall), 0, NULL));
    ck_assert(y[0] == 66);
    EXPECT_OK(run_op("ReduceSum", 13, 1, IN(&tx), 1, OUT(&tall), 0, NULL));
    ck_assert(y[0] == 66);
    /* ReduceMean 18 likewise; at 13 it reads the attribute */
    EXPECT_OK(run_op("ReduceMean", 18, 2, IN(&tx, &tax), 1, OUT(&ty2), 0, NULL));
    assert_f32(y, (float[]){0.5f, 2.5f, 4.5f, 6.5f, 8.5f, 10.5f}, 6);
    host_attr ax2 = AINTS("axes", 1, axv);
    EXPECT_OK(run_op("ReduceMean", 13, 1, IN(&tx), 1, OUT(&ty2), 1, &ax2));
    assert_f32(y, (float[]){0.5f, 2.5f, 4.5f, 6.5f, 8.5f, 10.5f}, 6);

    /* bad axes */
    int64_t bad1[1] = {3}, dup[2] = {1, -2}, many[17] = {0};
    host_attr abad = AINTS("axes", 1, bad1), adup = AINTS("axes", 2, dup);
    host_attr amany = AINTS("axes", 17, many);
    TU_ASSERT_FAILS(run_op("ReduceSum", 11, 1, IN(&tx), 1, OUT(&ty), 1, &abad));
    TU_ASSERT_ERROR_HAS("out of range");
    TU_ASSERT_FAILS(run_op("ReduceSum", 11, 1, IN(&tx), 1, OUT(&ty), 1, &adup));
    TU_ASSERT_ERROR_HAS("twice");
    TU_ASSERT_FAILS(run_op("ReduceSum", 11, 1, IN(&tx), 1, OUT(&ty), 1, &amany));
    host_tensor tbadax = T(I64, 1, D(1), bad1);
    TU_ASSERT_FAILS(run_op("ReduceSum", 13, 2, IN(&tx, &tbadax), 1, OUT(&ty), 0, NULL));
    float fax[1] = {1};
    host_tensor tfax = T(F32, 1, D(1), fax);
    TU_ASSERT_FAILS(run_op("ReduceSum", 13, 2, IN(&tx, &tfax), 1, OUT(&ty), 0, NULL));
    host_tensor t2dax = T(I64, 2, D(1, 1), axv);
    TU_ASSERT_FAILS(run_op("ReduceSum", 13, 2, IN(&tx, &t2dax), 1, OUT(&ty), 0, NULL));
    /* wrong output shape or type */
    host_tensor twrong = T(F32, 3, D(2, 3, 1), y);
    TU_ASSERT_FAILS(run_op("ReduceSum", 11, 1, IN(&tx), 1, OUT(&twrong), 1, keep));
    TU_ASSERT_ERROR_HAS("shape");
    int32_t iy[4];
    host_tensor tiy = T(I32, 3, D(2, 1, 2), iy);
    TU_ASSERT_FAILS(run_op("ReduceSum", 11, 1, IN(&tx), 1, OUT(&tiy), 1, keep));
}
END_TEST

START_TEST(test_reduce_types_and_empty)
{
    int32_t x[6] = {-7, 2, 3, INT32_MAX, 1, -2}, y[2];
    host_tensor tx = T(I32, 2, D(2, 3), x), ty = T(I32, 2, D(2, 1), y);
    int64_t ax[1] = {1};
    host_attr axes = AINTS("axes", 1, ax);
    EXPECT_OK(run_op("ReduceSum", 11, 1, IN(&tx), 1, OUT(&ty), 1, &axes));
    ck_assert(y[0] == -2 && y[1] == INT32_MAX - 1);
    int32_t w[2] = {INT32_MAX, 2}, wy[1];
    host_tensor tw = T(I32, 1, D(2), w), twy = T(I32, 1, D(1), wy);
    EXPECT_OK(run_op("ReduceSum", 11, 1, IN(&tw), 1, OUT(&twy), 0, NULL));
    ck_assert(wy[0] == INT32_MIN + 1); /* wraps */
    EXPECT_OK(run_op("ReduceProd", 11, 1, IN(&tw), 1, OUT(&twy), 0, NULL));
    ck_assert(wy[0] == -2);
    EXPECT_OK(run_op("ReduceMean", 11, 1, IN(&tx), 1, OUT(&ty), 1, &axes));
    ck_assert(y[0] == 0 && y[1] == (int32_t)((2147483647LL - 1) / 3));
    EXPECT_OK(run_op("ReduceMax", 11, 1, IN(&tx), 1, OUT(&ty), 1, &axes));
    ck_assert(y[0] == 3 && y[1] == INT32_MAX);
    EXPECT_OK(run_op("ReduceMin", 11, 1, IN(&tx), 1, OUT(&ty), 1, &axes));
    ck_assert(y[0] == -7 && y[1] == -2);
    EXPECT_OK(run_op("ReduceL1", 11, 1, IN(&tx), 1, OUT(&ty), 1, &axes));
    ck_assert(y[0] == 12);
    EXPECT_OK(run_op("ReduceProd", 11, 1, IN(&tx), 1, OUT(&ty), 1, &axes));
    ck_assert(y[0] == -42);
    EXPECT_OK(run_op("ReduceL2", 11, 1, IN(&tx), 1, OUT(&ty), 1, &axes));
    ck_assert(y[0] == 7); /* sqrt(62) truncated */

    uint64_t u[3] = {UINT64_MAX, 1, 5}, uy[1];
    host_tensor tu = T(U64, 1, D(3), u), tuy = T(U64, 1, D(1), uy);
    EXPECT_OK(run_op("ReduceMax", 11, 1, IN(&tu), 1, OUT(&tuy), 0, NULL));
    ck_assert(uy[0] == UINT64_MAX);
    EXPECT_OK(run_op("ReduceMin", 11, 1, IN(&tu), 1, OUT(&tuy), 0, NULL));
    ck_assert(uy[0] == 1);

    /* a zero-size reduced axis: the identity of each reduction */
    float fe[1];
    float fy[2];
    host_tensor tfe = T(F32, 2, D(2, 0), fe), tfy = T(F32, 2, D(2, 1), fy);
    EXPECT_OK(run_op("ReduceSum", 11, 1, IN(&tfe), 1, OUT(&tfy), 1, &axes));
    ck_assert(fy[0] == 0 && fy[1] == 0);
    EXPECT_OK(run_op("ReduceProd", 11, 1, IN(&tfe), 1, OUT(&tfy), 1, &axes));
    ck_assert(fy[0] == 1);
    EXPECT_OK(run_op("ReduceMax", 11, 1, IN(&tfe), 1, OUT(&tfy), 1, &axes));
    ck_assert(fy[0] == -INFINITY);
    EXPECT_OK(run_op("ReduceLogSumExp", 11, 1, IN(&tfe), 1, OUT(&tfy), 1, &axes));
    ck_assert(fy[0] == -INFINITY);
    EXPECT_OK(run_op("ReduceMean", 11, 1, IN(&tfe), 1, OUT(&tfy), 1, &axes));
    ck_assert(isnan(fy[0]));
    int8_t ie[1], iy8[2];
    host_tensor tie = T(I8, 2, D(2, 0), ie), tiy8 = T(I8, 2, D(2, 1), iy8);
    EXPECT_OK(run_op("ReduceMax", 11, 1, IN(&tie), 1, OUT(&tiy8), 1, &axes));
    ck_assert(iy8[0] == -128);
    EXPECT_OK(run_op("ReduceMin", 11, 1, IN(&tie), 1, OUT(&tiy8), 1, &axes));
    ck_assert(iy8[0] == 127);
    EXPECT_OK(run_op("ReduceMean", 11, 1, IN(&tie), 1, OUT(&tiy8), 1, &axes));
    ck_assert(iy8[0] == 0);
    /* a zero-size kept axis: an empty output */
    int64_t ax0[1] = {0};
    host_attr axes0 = AINTS("axes", 1, ax0);
    host_tensor tfy0 = T(F32, 2, D(1, 0), NULL);
    EXPECT_OK(run_op("ReduceSum", 11, 1, IN(&tfe), 1, OUT(&tfy0), 1, &axes0));

    /* LogSumExp does not overflow */
    float big[2] = {1000, 1000}, by[1];
    host_tensor tbig = T(F32, 1, D(2), big), tby = T(F32, 1, D(1), by);
    EXPECT_OK(run_op("ReduceLogSumExp", 11, 1, IN(&tbig), 1, OUT(&tby), 0, NULL));
    ck_assert(close_to(by[0], 1000 + log(2.0)));

    /* float16 and double */
    uint16_t h[4], hy[1];
    for (int i = 0; i < 4; i++)
        h[i] = o2p_float_to_half((float)i + 0.5f);
    host_tensor th = T(F16, 1, D(4), h), thy = T(F16, 1, D(1), hy);
    EXPECT_OK(run_op("ReduceMean", 11, 1, IN(&th), 1, OUT(&thy), 0, NULL));
    ck_assert(o2p_half_to_float(hy[0]) == 2.0f);
    double d[3] = {1e300, 1e300, -1e300}, dy[1];
    host_tensor td = T(F64, 1, D(3), d), tdy = T(F64, 1, D(1), dy);
    EXPECT_OK(run_op("ReduceSum", 11, 1, IN(&td), 1, OUT(&tdy), 0, NULL));
    ck_assert(dy[0] == 1e300);

    /* bool is not a reduction type */
    uint8_t b[2] = {1, 0}, bo[1];
    host_tensor tb = T(BOOL, 1, D(2), b), tbo = T(BOOL, 1, D(1), bo);
    TU_ASSERT_STATUS(run_op("ReduceSum", 11, 1, IN(&tb), 1, OUT(&tbo), 0, NULL),
                     O2P_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(test_argmax_argmin)
{
    float x[8] = {1, 5, 5, 2, NAN, 0, 3, 3};
    int64_t y[4];
    host_tensor tx = T(F32, 2, D(2, 4), x);
    host_attr a1[3] = {AI("axis", 1), AI("keepdims", 1), AI("select_last_index", 0)};
    host_tensor ty = T(I64, 2, D(2, 1), y);
    EXPECT_OK(run_op("ArgMax", 13, 1, IN(&tx), 1, OUT(&ty), 3, a1));
    assert_i64(y, (int64_t[]){1, 0}, 2); /* first NaN wins */
    a1[2] = AI("select_last_index", 1);
    EXPECT_OK(run_op("ArgMax", 13, 1, IN(&tx), 1, OUT(&ty), 3, a1));
    assert_i64(y, (int64_t[]){2, 0}, 2);
    EXPECT_OK(run_op("ArgMin", 13, 1, IN(&tx), 1, OUT(&ty), 3, a1));
    assert_i64(y, (int64_t[]){0, 0}, 2);
    x[4] = 4;
    EXPECT_OK(run_op("ArgMin", 13, 1, IN(&tx), 1, OUT(&ty), 3, a1));
    assert_i64(y, (int64_t[]){0, 1}, 2);
    EXPECT_OK(run_op("ArgMax", 13, 1, IN(&tx), 1, OUT(&ty), 3, a1));
    assert_i64(y, (int64_t[]){2, 0}, 2);
    a1[2] = AI("select_last_index", 0);
    x[7] = 4;
    EXPECT_OK(run_op("ArgMax", 13, 1, IN(&tx), 1, OUT(&ty), 3, a1));
    assert_i64(y, (int64_t[]){1, 0}, 2);

    /* axis 0 by default, keepdims 0, negative axis */
    host_attr nokeep = AI("keepdims", 0);
    host_tensor ty4 = T(I64, 1, D(4), y);
    EXPECT_OK(run_op("ArgMax", 13, 1, IN(&tx), 1, OUT(&ty4), 1, &nokeep));
    assert_i64(y, (int64_t[]){1, 0, 0, 1}, 4);
    host_attr neg[2] = {AI("axis", -1), AI("keepdims", 0)};
    host_tensor ty2 = T(I64, 1, D(2), y);
    EXPECT_OK(run_op("ArgMin", 13, 1, IN(&tx), 1, OUT(&ty2), 2, neg));
    assert_i64(y, (int64_t[]){0, 1}, 2);

    uint64_t u[3] = {1, UINT64_MAX, 0};
    host_tensor tu = T(U64, 1, D(3), u), tuy = T(I64, 1, D(1), y);
    EXPECT_OK(run_op("ArgMax", 13, 1, IN(&tu), 1, OUT(&tuy), 0, NULL));
    ck_assert_int_eq(y[0], 1);
    EXPECT_OK(run_op("ArgMin", 13, 1, IN(&tu), 1, OUT(&tuy), 0, NULL));
    ck_assert_int_eq(y[0], 2);

    /* bad axis, wrong output type, empty axis */
    host_attr bad = AI("axis", 2);
    TU_ASSERT_FAILS(run_op("ArgMax", 13, 1, IN(&tx), 1, OUT(&ty), 1, &bad));
    int32_t iy[2];
    host_tensor tiy = T(I32, 2, D(2, 1), iy);
    TU_ASSERT_FAILS(run_op("ArgMax", 13, 1, IN(&tx), 1, OUT(&tiy), 1, a1));
    host_tensor te = T(F32, 2, D(2, 0), x);
    TU_ASSERT_FAILS(run_op("ArgMax", 13, 1, IN(&te), 1, OUT(&ty), 1, a1));
    TU_ASSERT_ERROR_HAS("empty");
    /* [0,3] along axis 0: nothing to choose from for 3 outputs; along axis 1: no outputs */
    host_tensor te2 = T(F32, 2, D(0, 3), NULL), tey = T(I64, 2, D(1, 3), y);
    TU_ASSERT_FAILS(run_op("ArgMax", 13, 1, IN(&te2), 1, OUT(&tey), 0, NULL));
    host_tensor tey0 = T(I64, 2, D(0, 1), NULL);
    EXPECT_OK(run_op("ArgMax", 13, 1, IN(&te2), 1, OUT(&tey0), 1, a1));
}
END_TEST

/* ---------------------------------------------------------------- hostile arguments */

/* Every kernel of the family, called with arguments that are wrong in one way each, fails
 * with a message (and touches no memory it was not given: the sanitizer build checks). */
START_TEST(test_hostile_arguments)
{
    static const char *const ops[] = {"Add",
                                      "Sub",
                                      "Mul",
                                      "Div",
                                      "Pow",
                                      "Mod",
                                      "PRelu",
                                      "Equal",
                                      "Less",
                                      "Greater",
                                      "LessOrEqual",
                                      "GreaterOrEqual",
                                      "And",
                                      "Or",
                                      "Xor",
                                      "BitShift",
                                      "BitwiseAnd",
                                      "BitwiseOr",
                                      "BitwiseXor",
                                      "BitwiseNot",
                                      "Max",
                                      "Min",
                                      "Sum",
                                      "Mean",
                                      "Where",
                                      "Abs",
                                      "Neg",
                                      "Sign",
                                      "Relu",
                                      "Not",
                                      "Sqrt",
                                      "Exp",
                                      "Log",
                                      "Reciprocal",
                                      "Floor",
                                      "Ceil",
                                      "Round",
                                      "LeakyRelu",
                                      "Elu",
                                      "Selu",
                                      "Celu",
                                      "Sigmoid",
                                      "HardSigmoid",
                                      "HardSwish",
                                      "Tanh",
                                      "Erf",
                                      "Softplus",
                                      "Softsign",
                                      "Mish",
                                      "ThresholdedRelu",
                                      "Shrink",
                                      "Clip",
                                      "Sin",
                                      "Cos",
                                      "Tan",
                                      "Asin",
                                      "Acos",
                                      "Atan",
                                      "Sinh",
                                      "Cosh",
                                      "Asinh",
                                      "Acosh",
                                      "Atanh",
                                      "IsNaN",
                                      "IsInf",
                                      "Cast",
                                      "CastLike",
                                      "Identity",
                                      "Dropout",
                                      "ReduceMean",
                                      "ReduceSum",
                                      "ReduceMax",
                                      "ReduceMin",
                                      "ReduceProd",
                                      "ReduceL1",
                                      "ReduceL2",
                                      "ReduceSumSquare",
                                      "ReduceLogSum",
                                      "ReduceLogSumExp",
                                      "ArgMax",
                                      "ArgMin"};
    float data[64], out[64];
    for (int i = 0; i < 64; i++)
        data[i] = 1.0f;
    host_attr dir = AS("direction", "LEFT");
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        const char *op = ops[k];
        ck_assert_msg(host_kernel_find(op) != NULL, "no kernel for %s", op);
        host_tensor good = T(F32, 2, D(2, 3), data);
        host_tensor bad_rank = T(F32, 2, D(2, 3), data);
        bad_rank.rank = HOST_MAX_RANK + 1;
        host_tensor neg_rank = T(F32, 2, D(2, 3), data);
        neg_rank.rank = -1;
        host_tensor neg_dim = T(F32, 2, D(2, -3), data);
        host_tensor huge = T(F32, 4, D(INT64_MAX / 2, 4, 1, 1), data);
        host_tensor null_data = T(F32, 2, D(2, 3), NULL);
        host_tensor bad_type = T((o2p_dtype)77, 2, D(2, 3), data);
        host_tensor string_type = T(O2P_DTYPE_STRING, 2, D(2, 3), data);
        host_tensor *hostile_in[] = {&bad_rank,  &neg_rank, &neg_dim,    &huge,
                                     &null_data, &bad_type, &string_type};
        host_attr attrs[2] = {AI("to", F32), dir};
        int nin = strcmp(op, "Where") == 0 ? 3 : 2;
        for (size_t h = 0; h < sizeof hostile_in / sizeof hostile_in[0]; h++) {
            for (int pos = 0; pos < nin; pos++) {
                const host_tensor *ins[3] = {&good, &good, &good};
                ins[pos] = hostile_in[h];
                host_tensor y = T(F32, 2, D(2, 3), out);
                o2p_status s = run_op(op, 13, nin, ins, 1, OUT(&y), 2, attrs);
                /* a hostile X always fails; later inputs may be ignored (unary ops) */
                ck_assert_msg(pos > 0 || s != O2P_OK, "%s accepted hostile input %zu", op, h);
                if (s != O2P_OK)
                    ck_assert_msg(o2p_last_error()[0] != '\0', "%s failed without a message", op);
            }
            /* as the output */
            host_tensor x = T(F32, 2, D(2, 3), data);
            host_tensor *o = hostile_in[h];
            o2p_status s = run_op(op, 13, nin, IN(&x, &x, &x), 1, OUT(o), 2, attrs);
            ck_assert_msg(s != O2P_OK, "%s accepted hostile output %zu", op, h);
            ck_assert_msg(o2p_last_error()[0] != '\0', "%s failed without a message", op);
        }
        /* no inputs, no outputs, wrong output shapes */
        TU_ASSERT_FAILS(run_op(op, 13, 0, NULL, 1, OUT(&good), 2, attrs));
        host_tensor x = T(F32, 2, D(2, 3), data);
        TU_ASSERT_FAILS(run_op(op, 13, nin, IN(&x, &x, &x), 0, NULL, 2, attrs));
        TU_ASSERT_FAILS(run_op(op, 13, nin, IN(&x, &x, &x), 1, OUT(NULL), 2, attrs));
        host_tensor small = T(F32, 2, D(1, 1), out);
        host_tensor big = T(F32, 2, D(5, 7), out);
        host_tensor wrong_rank = T(F32, 3, D(2, 3, 1), out);
        TU_ASSERT_FAILS(run_op(op, 13, nin, IN(&x, &x, &x), 1, OUT(&big), 2, attrs));
        TU_ASSERT_FAILS(run_op(op, 13, nin, IN(&x, &x, &x), 1, OUT(&wrong_rank), 2, attrs));
        if (strncmp(op, "Reduce", 6) != 0)
            TU_ASSERT_FAILS(run_op(op, 13, nin, IN(&x, &x, &x), 1, OUT(&small), 2, attrs));
        /* zero-size dims work or fail cleanly */
        host_tensor ez = T(F32, 2, D(0, 3), NULL), eo = T(F32, 2, D(0, 3), NULL);
        (void)run_op(op, 13, nin, IN(&ez, &ez, &ez), 1, OUT(&eo), 2, attrs);
    }
}
END_TEST

START_TEST(test_broadcast_hostile)
{
    float a[6] = {0}, b[6] = {0}, y[12];
    host_tensor ta = T(F32, 2, D(2, 3), a), tb = T(F32, 2, D(3, 2), b);
    host_tensor ty = T(F32, 2, D(2, 3), y);
    TU_ASSERT_FAILS(run2("Add", 14, &ta, &tb, &ty));
    TU_ASSERT_ERROR_HAS("broadcast");
    /* zero-size broadcast: [0,3] + [1,3] -> [0,3] */
    host_tensor tz = T(F32, 2, D(0, 3), NULL), t13 = T(F32, 2, D(1, 3), a);
    host_tensor tzo = T(F32, 2, D(0, 3), NULL);
    EXPECT_OK(run2("Add", 14, &tz, &t13, &tzo));
    /* [0] does not broadcast with [3] */
    host_tensor t0 = T(F32, 1, D(0), NULL), t3 = T(F32, 1, D(3), a), t3o = T(F32, 1, D(3), y);
    TU_ASSERT_FAILS(run2("Add", 14, &t0, &t3, &t3o));
    /* rank 16 with ones */
    int64_t ones[16];
    for (int i = 0; i < 16; i++)
        ones[i] = 1;
    ones[15] = 3;
    host_tensor t16 = T(F32, 16, ones, a), t16o = T(F32, 16, ones, y);
    EXPECT_OK(run2("Add", 14, &t16, &t3, &t16o));
    /* output type differs from the inputs' */
    double dy[6];
    host_tensor tdy = T(F64, 2, D(2, 3), dy);
    TU_ASSERT_FAILS(run2("Add", 14, &ta, &ta, &tdy));
    TU_ASSERT_ERROR_HAS("element type");
}
END_TEST

/* float32 fast paths: a 1M-element Add/Relu/ReduceMean should take milliseconds. */
START_TEST(test_float32_speed)
{
    enum { N = 1 << 20 };
    float *a = malloc(N * sizeof *a), *b = malloc(64 * sizeof *b), *y = malloc(N * sizeof *y);
    ck_assert(a && b && y);
    for (int i = 0; i < N; i++)
        a[i] = (float)(i % 97) - 48;
    for (int i = 0; i < 64; i++)
        b[i] = (float)i;
    host_tensor ta = T(F32, 4, D(1, 64, 128, 128), a), tb = T(F32, 4, D(1, 64, 1, 1), b);
    host_tensor ty = T(F32, 4, D(1, 64, 128, 128), y);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < 10; r++) {
        EXPECT_OK(run2("Add", 14, &ta, &tb, &ty));
        EXPECT_OK(run1("Relu", 14, &ty, &ta));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    ck_assert(y[128 * 128 + 5] == a[128 * 128 + 5] || 1);
    int64_t axes[2] = {2, 3};
    host_attr ax = AINTS("axes", 2, axes);
    host_tensor tm = T(F32, 4, D(1, 64, 1, 1), b);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < 10; r++)
        EXPECT_OK(run_op("ReduceMean", 13, 1, IN(&ta), 1, OUT(&tm), 1, &ax));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms2 = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("float32 1M elements: 10x(Add+Relu) %.1f ms, 10x ReduceMean %.1f ms\n", ms, ms2);
    /* generous bounds (sanitizer builds are slow) that still catch a per-element dispatch */
    ck_assert_msg(ms < 5000 && ms2 < 5000, "too slow: %.1f ms, %.1f ms", ms, ms2);
    free(a);
    free(b);
    free(y);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_elementwise");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_add_broadcasts);
    tcase_add_test(tc, test_add_other_float_types);
    tcase_add_test(tc, test_integer_arithmetic_wraps_and_refuses_division_by_zero);
    tcase_add_test(tc, test_mod_signs);
    tcase_add_test(tc, test_pow_types);
    tcase_add_test(tc, test_prelu_unidirectional);
    tcase_add_test(tc, test_comparisons);
    tcase_add_test(tc, test_bit_operations);
    tcase_add_test(tc, test_variadic);
    tcase_add_test(tc, test_where);
    tcase_add_test(tc, test_unary_float_ops);
    tcase_add_test(tc, test_unary_special_values);
    tcase_add_test(tc, test_clip);
    tcase_add_test(tc, test_cast);
    tcase_add_test(tc, test_identity_dropout);
    tcase_add_test(tc, test_reduce_axes_and_keepdims);
    tcase_add_test(tc, test_reduce_types_and_empty);
    tcase_add_test(tc, test_argmax_argmin);
    tcase_add_test(tc, test_hostile_arguments);
    tcase_add_test(tc, test_broadcast_hostile);
    tcase_add_test(tc, test_float32_speed);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
