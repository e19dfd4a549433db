/* test_host_tensor.c: the host kernels of the tensor family (data movement and shape ops)
 * called directly through host_kernel_find with small hand-made tensors: known results for
 * every op, opset differences, element types, zero-size dims, against naive loops for
 * Transpose and Slice; and hostile arguments (bad axes, out-of-range indices, wrong output
 * shapes and types, missing inputs, random fuzzing) that must fail cleanly or work, never
 * touch memory out of bounds (run it under the sanitizer build). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_kernels.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define NI64(...) ((int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
#define IN(...) \
    (const host_tensor *const[]){__VA_ARGS__}, \
        (int)(sizeof((const host_tensor *const[]){__VA_ARGS__}) / sizeof(host_tensor *))
#define OUT(...) \
    (host_tensor *const[]){__VA_ARGS__}, \
        (int)(sizeof((host_tensor *const[]){__VA_ARGS__}) / sizeof(host_tensor *))
#define AT(...) \
    (const host_attr[]){__VA_ARGS__}, (int)(sizeof((const host_attr[]){__VA_ARGS__}) / sizeof(host_attr))
#define NO_AT NULL, 0
#define AI(n, v) {.name = (n), .type = O2P_ATTR_INT, .i = (v)}
#define AF(n, v) {.name = (n), .type = O2P_ATTR_FLOAT, .f = (v)}
#define AS(n, v) {.name = (n), .type = O2P_ATTR_STRING, .s = (v)}
#define AINTS(n, ...) {.name = (n), .type = O2P_ATTR_INTS, .count = NI64(__VA_ARGS__), .ints = D(__VA_ARGS__)}
#define AT_TENSOR(n, t) {.name = (n), .type = O2P_ATTR_TENSOR, .tensor = (t)}

#define F32 O2P_DTYPE_FLOAT
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define BOOL O2P_DTYPE_BOOL

/* Tensors of one test, freed by pool_free. */
#define POOL_MAX 512
static host_tensor *pool[POOL_MAX];
static int pool_n;

static void pool_free(void)
{
    for (int i = 0; i < pool_n; i++) {
        free(pool[i]->data);
        free(pool[i]);
    }
    pool_n = 0;
}

/* A tensor of exactly numel * size bytes (ASan sees any overrun); without data it is filled
 * with 0xAB so that an element a kernel forgets to write shows. */
static host_tensor *mk(o2p_dtype t, int rank, const int64_t *dims, const void *data)
{
    ck_assert_int_lt(pool_n, POOL_MAX);
    host_tensor *x = calloc(1, sizeof *x);
    ck_assert_ptr_nonnull(x);
    x->dtype = t;
    x->rank = rank;
    int64_t n = 1;
    for (int i = 0; i < rank && i < HOST_MAX_RANK; i++) {
        x->dims[i] = dims[i];
        n *= dims[i] > 0 ? dims[i] : 0;
    }
    size_t bytes = (size_t)n * o2p_dtype_size(t);
    if (bytes > 0) {
        x->data = malloc(bytes);
        ck_assert_ptr_nonnull(x->data);
        if (data)
            memcpy(x->data, data, bytes);
        else
            memset(x->data, 0xAB, bytes);
    }
    pool[pool_n++] = x;
    return x;
}

#define TF(rank, dims, ...) mk(F32, rank, dims, (const float[]){__VA_ARGS__})
#define TI(rank, dims, ...) mk(I64, rank, dims, (const int64_t[]){__VA_ARGS__})
#define TI32(rank, dims, ...) mk(I32, rank, dims, (const int32_t[]){__VA_ARGS__})
#define TB(rank, dims, ...) mk(BOOL, rank, dims, (const uint8_t[]){__VA_ARGS__})
/* a 1-D int64 list */
#define LIST(...) TI(1, D(NI64(__VA_ARGS__)), __VA_ARGS__)
#define SCALAR_I(v) TI(0, NULL, v)
#define OUTT(t, rank, dims) mk(t, rank, dims, NULL)

static o2p_status run(const char *op, int64_t opset, const host_tensor *const *in, int nin,
                      host_tensor *const *out, int nout, const host_attr *at, int nat)
{
    host_kernel_fn fn = host_kernel_find(op);
    ck_assert_msg(fn != NULL, "no host kernel for %s", op);
    host_kernel_args a = {.op_type = op, .layer_name = "test", .opset = opset,
                          .num_inputs = nin, .inputs = in, .num_outputs = nout,
                          .outputs = out, .num_attrs = nat, .attrs = at};
    return fn(&a);
}

#define OK(expr) TU_ASSERT_STATUS(expr, O2P_OK)
/* Fails cleanly with an error that mentions `needle`. */
#define FAILS(expr, needle)                                                                  \
    do {                                                                                     \
        o2p_status s_ = (expr);                                                              \
        ck_assert_msg(s_ != O2P_OK, "%s succeeded", #expr);                                  \
        ck_assert_msg(tu_contains(o2p_last_error(), (needle)), "%s: error '%s' lacks '%s'", \
                      #expr, o2p_last_error(), (needle));                                    \
    } while (0)

static void expect_values(const host_tensor *y, int n, const double *want, const char *where,
                          int line)
{
    int ok;
    int64_t numel = host_numel(y, &ok);
    ck_assert_msg(ok && numel == n, "line %d (%s): %lld elements, expected %d", line, where,
                  (long long)numel, n);
    for (int i = 0; i < n; i++) {
        /* float32 results against the wanted value rounded to float32 */
        double g = host_get_f64(y, i), w = y->dtype == F32 ? (double)(float)want[i] : want[i];
        int same = isnan(w) ? isnan(g) : g == w;
        ck_assert_msg(same, "line %d (%s): element %d is %g, expected %g", line, where, i, g,
                      want[i]);
    }
}
#define EXPECT(y, ...)                                                                      \
    expect_values((y), (int)(sizeof((const double[]){__VA_ARGS__}) / sizeof(double)),       \
                  (const double[]){__VA_ARGS__}, #y, __LINE__)

/* ---------------------------------------------------------------- shape ops */

START_TEST(test_reshape)
{
    host_tensor *x = TF(2, D(2, 3), 0, 1, 2, 3, 4, 5);
    host_tensor *y = OUTT(F32, 2, D(3, 2));
    OK(run("Reshape", 13, IN(x, LIST(3, -1)), OUT(y), NO_AT));
    EXPECT(y, 0, 1, 2, 3, 4, 5);
    y = OUTT(F32, 3, D(2, 3, 1));
    OK(run("Reshape", 13, IN(x, LIST(0, 0, -1)), OUT(y), NO_AT));
    /* allowzero: a 0 is a 0 (from opset 14 only) */
    host_tensor *e = OUTT(F32, 2, D(0, 3));
    host_tensor *x0 = mk(F32, 2, D(3, 0), NULL);
    OK(run("Reshape", 14, IN(x0, LIST(0, 3)), OUT(e), AT(AI("allowzero", 1))));
    FAILS(run("Reshape", 13, IN(x0, LIST(0, 3)), OUT(e), AT(AI("allowzero", 1))), "shape");
    FAILS(run("Reshape", 14, IN(x0, LIST(0, -1)), OUT(e), AT(AI("allowzero", 1))), "-1");
    /* hostile */
    FAILS(run("Reshape", 13, IN(x, LIST(-1, -1)), OUT(y), NO_AT), "more than one -1");
    FAILS(run("Reshape", 13, IN(x, LIST(4, -1)), OUT(y), NO_AT), "-1");
    FAILS(run("Reshape", 13, IN(x, LIST(7)), OUT(y), NO_AT), "elements");
    FAILS(run("Reshape", 13, IN(x, LIST(-2, -3)), OUT(y), NO_AT), "-2");
    FAILS(run("Reshape", 13, IN(x, LIST(0, 0, 0, 0)), OUT(y), NO_AT), "rank");
    FAILS(run("Reshape", 13, IN(x, LIST(3, 2)), OUT(y), NO_AT), "output 0 has shape");
    host_tensor *yi = OUTT(I64, 2, D(3, 2));
    FAILS(run("Reshape", 13, IN(x, LIST(3, 2)), OUT(yi), NO_AT), "element type");
    FAILS(run("Reshape", 13, IN(x, TF(1, D(2), 3, 2)), OUT(y), NO_AT), "int64");
    FAILS(run("Reshape", 13, IN(x), OUT(y), NO_AT), "shape");
    FAILS(run("Reshape", 13, IN(x, NULL), OUT(y), NO_AT), "shape");
    pool_free();
}
END_TEST

START_TEST(test_flatten_squeeze_unsqueeze)
{
    host_tensor *x = mk(I32, 4, D(2, 1, 3, 1), (const int32_t[]){1, 2, 3, 4, 5, 6});
    host_tensor *y = OUTT(I32, 2, D(2, 3));
    OK(run("Flatten", 13, IN(x), OUT(y), NO_AT));
    EXPECT(y, 1, 2, 3, 4, 5, 6);
    OK(run("Flatten", 13, IN(x), OUT(y), AT(AI("axis", -3))));
    y = OUTT(I32, 2, D(1, 6));
    OK(run("Flatten", 13, IN(x), OUT(y), AT(AI("axis", 0))));
    y = OUTT(I32, 2, D(6, 1));
    OK(run("Flatten", 13, IN(x), OUT(y), AT(AI("axis", 4))));
    FAILS(run("Flatten", 13, IN(x), OUT(y), AT(AI("axis", 5))), "axis");
    FAILS(run("Flatten", 13, IN(x), OUT(y), AT(AI("axis", -5))), "axis");

    /* Squeeze: all ones, attr before 13, input from 13 */
    host_tensor *s = OUTT(I32, 2, D(2, 3));
    OK(run("Squeeze", 13, IN(x), OUT(s), NO_AT));
    EXPECT(s, 1, 2, 3, 4, 5, 6);
    OK(run("Squeeze", 11, IN(x), OUT(s), AT(AINTS("axes", 1, -1))));
    OK(run("Squeeze", 13, IN(x, LIST(-1, 1)), OUT(s), NO_AT));
    OK(run("Squeeze", 13, IN(x, mk(I64, 1, D(0), NULL)), OUT(s), NO_AT));
    host_tensor *s3 = OUTT(I32, 3, D(2, 3, 1));
    OK(run("Squeeze", 13, IN(x, LIST(1)), OUT(s3), NO_AT));
    FAILS(run("Squeeze", 13, IN(x, LIST(0)), OUT(s3), NO_AT), "not 1");
    FAILS(run("Squeeze", 13, IN(x, LIST(1, 1)), OUT(s), NO_AT), "twice");
    FAILS(run("Squeeze", 13, IN(x, LIST(4)), OUT(s), NO_AT), "out of range");
    FAILS(run("Squeeze", 13, IN(x, LIST(1)), OUT(s), NO_AT), "output 0 has shape");
    /* the attribute is not read from opset 13 */
    OK(run("Squeeze", 13, IN(x), OUT(s), AT(AINTS("axes", 1))));

    /* Unsqueeze */
    host_tensor *v = TF(1, D(3), 1, 2, 3);
    host_tensor *u = OUTT(F32, 4, D(1, 3, 1, 1));
    OK(run("Unsqueeze", 13, IN(v, LIST(0, -1, 2)), OUT(u), NO_AT));
    EXPECT(u, 1, 2, 3);
    OK(run("Unsqueeze", 11, IN(v), OUT(u), AT(AINTS("axes", 3, 0, 2))));
    FAILS(run("Unsqueeze", 13, IN(v), OUT(u), AT(AINTS("axes", 3, 0, 2))), "axes");
    FAILS(run("Unsqueeze", 13, IN(v, LIST(0, 0, 2)), OUT(u), NO_AT), "twice");
    FAILS(run("Unsqueeze", 13, IN(v, LIST(0, 4, 2)), OUT(u), NO_AT), "out of range");
    host_tensor *sc = TF(0, NULL, 7);
    host_tensor *u1 = OUTT(F32, 1, D(1));
    OK(run("Unsqueeze", 13, IN(sc, LIST(-1)), OUT(u1), NO_AT));
    EXPECT(u1, 7);
    /* rank limit */
    host_tensor *big = mk(F32, 12, D(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), (const float[]){1});
    FAILS(run("Unsqueeze", 13, IN(big, LIST(0, 1, 2, 3, 4)), OUT(u1), NO_AT), "rank");
    pool_free();
}
END_TEST

START_TEST(test_shape_size)
{
    host_tensor *x = mk(F32, 4, D(2, 3, 0, 5), NULL);
    host_tensor *y = OUTT(I64, 1, D(4));
    OK(run("Shape", 13, IN(x), OUT(y), NO_AT));
    EXPECT(y, 2, 3, 0, 5);
    /* start / end from opset 15, clamped */
    host_tensor *y2 = OUTT(I64, 1, D(2));
    OK(run("Shape", 15, IN(x), OUT(y2), AT(AI("start", 1), AI("end", -1))));
    EXPECT(y2, 3, 0);
    host_tensor *y0 = OUTT(I64, 1, D(0));
    OK(run("Shape", 15, IN(x), OUT(y0), AT(AI("start", 3), AI("end", 1))));
    host_tensor *y1 = OUTT(I64, 1, D(1));
    OK(run("Shape", 15, IN(x), OUT(y1), AT(AI("start", -100), AI("end", -3))));
    EXPECT(y1, 2);
    OK(run("Shape", 15, IN(x), OUT(y1), AT(AI("start", 3), AI("end", 100))));
    EXPECT(y1, 5);
    /* before 15 start/end are not attributes of Shape */
    OK(run("Shape", 13, IN(x), OUT(y), AT(AI("start", 3))));
    FAILS(run("Shape", 13, IN(x), OUT(y2), NO_AT), "output 0 has shape");
    /* Shape of a tensor whose data is absent: only dims are needed */
    host_tensor nodata = {.dtype = F32, .rank = 2, .dims = {4, 4}, .data = NULL};
    host_tensor *y22 = OUTT(I64, 1, D(2));
    OK(run("Shape", 13, IN(&nodata), OUT(y22), NO_AT));
    EXPECT(y22, 4, 4);
    host_tensor *sz = OUTT(I64, 0, NULL);
    OK(run("Size", 13, IN(&nodata), OUT(sz), NO_AT));
    EXPECT(sz, 16);
    OK(run("Size", 13, IN(x), OUT(sz), NO_AT));
    EXPECT(sz, 0);
    host_tensor *szf = OUTT(F32, 0, NULL);
    FAILS(run("Size", 13, IN(x), OUT(szf), NO_AT), "element type");
    host_tensor bad = {.dtype = F32, .rank = 2, .dims = {-1, 4}, .data = NULL};
    FAILS(run("Size", 13, IN(&bad), OUT(sz), NO_AT), "negative");
    host_tensor bad_rank = {.dtype = F32, .rank = HOST_MAX_RANK + 1};
    FAILS(run("Shape", 13, IN(&bad_rank), OUT(y), NO_AT), "rank");
    host_tensor huge = {.dtype = F32, .rank = 3, .dims = {1LL << 40, 1LL << 40, 1LL << 40}};
    FAILS(run("Size", 13, IN(&huge), OUT(sz), NO_AT), "2^63");
    pool_free();
}
END_TEST

START_TEST(test_constant_of_shape_range_eyelike)
{
    host_tensor *y = OUTT(F32, 2, D(2, 3));
    OK(run("ConstantOfShape", 13, IN(LIST(2, 3)), OUT(y), NO_AT));
    EXPECT(y, 0, 0, 0, 0, 0, 0);
    host_tensor *v = mk(I32, 1, D(1), (const int32_t[]){-7});
    host_tensor *yi = OUTT(I32, 1, D(5));
    OK(run("ConstantOfShape", 13, IN(LIST(5)), OUT(yi), AT(AT_TENSOR("value", v))));
    EXPECT(yi, -7, -7, -7, -7, -7);
    host_tensor *ys = OUTT(I32, 0, NULL);
    OK(run("ConstantOfShape", 13, IN(mk(I64, 1, D(0), NULL)), OUT(ys), AT(AT_TENSOR("value", v))));
    EXPECT(ys, -7);
    host_tensor *yz = OUTT(I32, 2, D(0, 4));
    OK(run("ConstantOfShape", 13, IN(LIST(0, 4)), OUT(yz), AT(AT_TENSOR("value", v))));
    FAILS(run("ConstantOfShape", 13, IN(LIST(2, 3)), OUT(y), AT(AT_TENSOR("value", v))),
          "element type");
    FAILS(run("ConstantOfShape", 13, IN(LIST(-2, 3)), OUT(y), NO_AT), "-2");
    FAILS(run("ConstantOfShape", 13, IN(LIST(2, 3)), OUT(y),
              AT(AT_TENSOR("value", TF(1, D(2), 1, 2)))), "one element");
    FAILS(run("ConstantOfShape", 13, IN(LIST(2, 3)), OUT(y), AT(AI("value", 1))), "tensor");

    /* Range: ints (negative delta), floats, the count formula */
    host_tensor *r = OUTT(I32, 1, D(4));
    OK(run("Range", 11, IN(mk(I32, 0, NULL, (const int32_t[]){10}), mk(I32, 0, NULL, (const int32_t[]){0}),
                        mk(I32, 0, NULL, (const int32_t[]){-3})), OUT(r), NO_AT));
    EXPECT(r, 10, 7, 4, 1);
    host_tensor *rf = OUTT(F32, 1, D(2));
    OK(run("Range", 11, IN(TF(0, NULL, 1), TF(0, NULL, 5), TF(0, NULL, 2)), OUT(rf), NO_AT));
    EXPECT(rf, 1, 3);
    host_tensor *r0 = OUTT(I64, 1, D(0));
    OK(run("Range", 11, IN(SCALAR_I(5), SCALAR_I(1), SCALAR_I(2)), OUT(r0), NO_AT));
    /* ceil((2^64 - 1) / (2^63 - 1)) = 3 values, the last just below the limit */
    host_tensor *rbig = OUTT(I64, 1, D(3));
    OK(run("Range", 11, IN(SCALAR_I(INT64_MIN), SCALAR_I(INT64_MAX), SCALAR_I(INT64_MAX)),
           OUT(rbig), NO_AT));
    ck_assert_int_eq(((int64_t *)rbig->data)[0], INT64_MIN);
    ck_assert_int_eq(((int64_t *)rbig->data)[1], -1);
    ck_assert_int_eq(((int64_t *)rbig->data)[2], INT64_MAX - 1);
    FAILS(run("Range", 11, IN(SCALAR_I(1), SCALAR_I(5), SCALAR_I(0)), OUT(r0), NO_AT), "delta is 0");
    FAILS(run("Range", 11, IN(TF(0, NULL, 1), TF(0, NULL, 5), TF(0, NULL, 0)), OUT(rf), NO_AT),
          "delta is 0");
    FAILS(run("Range", 11, IN(TF(0, NULL, 0), TF(0, NULL, INFINITY), TF(0, NULL, 1)), OUT(rf),
              NO_AT), "count");
    FAILS(run("Range", 11, IN(TF(0, NULL, 1), SCALAR_I(5), TF(0, NULL, 1)), OUT(rf), NO_AT),
          "element types");
    FAILS(run("Range", 11, IN(SCALAR_I(0), SCALAR_I(5), SCALAR_I(1)), OUT(r0), NO_AT),
          "output 0 has shape");
    FAILS(run("Range", 11, IN(LIST(0, 1), SCALAR_I(5), SCALAR_I(1)), OUT(r0), NO_AT), "scalar");
    FAILS(run("Range", 11, IN(TB(0, NULL, 0), TB(0, NULL, 1), TB(0, NULL, 1)), OUT(r0), NO_AT),
          "not supported");

    /* EyeLike: dtype attribute, k on both sides, non-square */
    host_tensor *x = mk(I32, 2, D(3, 4), NULL);
    host_tensor *e = OUTT(F32, 2, D(3, 4));
    OK(run("EyeLike", 9, IN(x), OUT(e), AT(AI("dtype", F32), AI("k", 1))));
    EXPECT(e, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
    host_tensor *ei = OUTT(I32, 2, D(3, 4));
    OK(run("EyeLike", 9, IN(x), OUT(ei), AT(AI("k", -2))));
    EXPECT(ei, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0);
    OK(run("EyeLike", 9, IN(x), OUT(ei), AT(AI("k", INT64_MIN))));
    EXPECT(ei, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    OK(run("EyeLike", 9, IN(x), OUT(ei), AT(AI("k", INT64_MAX))));
    host_tensor *eb = OUTT(BOOL, 2, D(3, 4));
    OK(run("EyeLike", 9, IN(x), OUT(eb), AT(AI("dtype", BOOL))));
    EXPECT(eb, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0);
    FAILS(run("EyeLike", 9, IN(x), OUT(e), NO_AT), "element type");
    FAILS(run("EyeLike", 9, IN(x), OUT(e), AT(AI("dtype", 99))), "dtype");
    FAILS(run("EyeLike", 9, IN(LIST(1, 2)), OUT(e), NO_AT), "2-D");
    pool_free();
}
END_TEST

/* ---------------------------------------------------------------- layout ops */

/* Naive transpose, element by element, of any element size. */
static void naive_transpose(const host_tensor *x, const int64_t *perm, void *out)
{
    int r = x->rank;
    size_t es = o2p_dtype_size(x->dtype);
    int64_t st[HOST_MAX_RANK], odims[HOST_MAX_RANK], idx[HOST_MAX_RANK] = {0}, n = 1;
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        st[i] = s;
        s *= x->dims[i];
    }
    for (int i = 0; i < r; i++) {
        odims[i] = x->dims[perm[i]];
        n *= odims[i];
    }
    for (int64_t j = 0; j < n; j++) {
        int64_t off = 0;
        for (int i = 0; i < r; i++)
            off += idx[i] * st[perm[i]];
        memcpy((unsigned char *)out + j * es, (const unsigned char *)x->data + off * es, es);
        for (int i = r - 1; i >= 0; i--) {
            if (++idx[i] < odims[i])
                break;
            idx[i] = 0;
        }
    }
}

static int next_perm(int64_t *p, int n)
{
    int i = n - 2;
    while (i >= 0 && p[i] >= p[i + 1])
        i--;
    if (i < 0)
        return 0;
    int j = n - 1;
    while (p[j] <= p[i])
        j--;
    int64_t t = p[i];
    p[i] = p[j];
    p[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--) {
        t = p[a];
        p[a] = p[b];
        p[b] = t;
    }
    return 1;
}

START_TEST(test_transpose)
{
    /* every permutation of a rank-4 tensor with dims of 1 in it, against the naive loop */
    int64_t dims[4] = {2, 1, 3, 4};
    float data[24];
    for (int i = 0; i < 24; i++)
        data[i] = (float)i;
    host_tensor *x = mk(F32, 4, dims, data);
    /* and larger ones, of 1, 4 and 8 bytes, that take the tiled path */
    static const int64_t big_dims[3][4] = {{9, 1, 40, 33}, {2, 35, 1, 12}, {37, 8, 2, 9}};
    static const o2p_dtype big_types[3] = {O2P_DTYPE_INT8, F32, O2P_DTYPE_DOUBLE};
    host_tensor *xs[4] = {x};
    for (int b = 0; b < 3; b++) {
        xs[b + 1] = mk(big_types[b], 4, big_dims[b], NULL);
        int ok;
        int64_t n = host_numel(xs[b + 1], &ok);
        for (int64_t i = 0; i < n; i++)
            host_set_i64(xs[b + 1], i, i % 97);
    }
    for (int t = 0; t < 4; t++) {
        int64_t perm[4] = {0, 1, 2, 3};
        do {
            int64_t od[4];
            for (int i = 0; i < 4; i++)
                od[i] = xs[t]->dims[perm[i]];
            host_tensor *y = OUTT(xs[t]->dtype, 4, od);
            host_attr at[1] = {{.name = "perm", .type = O2P_ATTR_INTS, .count = 4, .ints = perm}};
            OK(run("Transpose", 13, IN(xs[t]), OUT(y), at, 1));
            int ok;
            size_t bytes = (size_t)host_numel(y, &ok) * o2p_dtype_size(y->dtype);
            void *want = malloc(bytes);
            naive_transpose(xs[t], perm, want);
            ck_assert_msg(memcmp(y->data, want, bytes) == 0, "tensor %d perm %lld%lld%lld%lld",
                          t, (long long)perm[0], (long long)perm[1], (long long)perm[2],
                          (long long)perm[3]);
            free(want);
        } while (next_perm(perm, 4));
    }
    /* default: reversed; other element sizes */
    host_tensor *b = TB(2, D(2, 3), 1, 0, 0, 1, 1, 0);
    host_tensor *bt = OUTT(BOOL, 2, D(3, 2));
    OK(run("Transpose", 13, IN(b), OUT(bt), NO_AT));
    EXPECT(bt, 1, 1, 0, 1, 0, 0);
    host_tensor *h = mk(O2P_DTYPE_COMPLEX128, 2, D(1, 2), NULL);
    host_tensor *ht = OUTT(O2P_DTYPE_COMPLEX128, 2, D(2, 1));
    OK(run("Transpose", 13, IN(h), OUT(ht), NO_AT));
    ck_assert_mem_eq(ht->data, h->data, 32);
    host_tensor *z = mk(F32, 3, D(2, 0, 3), NULL), *zt = OUTT(F32, 3, D(3, 0, 2));
    OK(run("Transpose", 13, IN(z), OUT(zt), NO_AT));
    host_tensor *s = TF(0, NULL, 5), *st = OUTT(F32, 0, NULL);
    OK(run("Transpose", 13, IN(s), OUT(st), NO_AT));
    EXPECT(st, 5);
    /* hostile perms */
    host_tensor *y = OUTT(F32, 4, D(4, 3, 1, 2));
    FAILS(run("Transpose", 13, IN(x), OUT(y), AT(AINTS("perm", 0, 1, 2))), "perm");
    FAILS(run("Transpose", 13, IN(x), OUT(y), AT(AINTS("perm", 0, 1, 1, 2))), "permutation");
    FAILS(run("Transpose", 13, IN(x), OUT(y), AT(AINTS("perm", 0, 1, 2, 4))), "permutation");
    FAILS(run("Transpose", 13, IN(x), OUT(y), AT(AINTS("perm", 0, 1, 2, -1))), "permutation");
    FAILS(run("Transpose", 13, IN(x), OUT(y), AT(AINTS("perm", 0, 1, 2, 3))), "output 0");
    host_tensor str = {.dtype = O2P_DTYPE_STRING, .rank = 1, .dims = {2}};
    FAILS(run("Transpose", 13, IN(&str), OUT(y), NO_AT), "string");
    pool_free();
}
END_TEST

START_TEST(test_concat_split)
{
    host_tensor *a = TF(2, D(2, 1), 1, 2), *b = TF(2, D(2, 2), 3, 4, 5, 6);
    host_tensor *e = mk(F32, 2, D(2, 0), NULL);
    host_tensor *y = OUTT(F32, 2, D(2, 3));
    OK(run("Concat", 13, IN(a, e, b), OUT(y), AT(AI("axis", -1))));
    EXPECT(y, 1, 3, 4, 2, 5, 6);
    host_tensor *y0 = OUTT(F32, 2, D(4, 1));
    OK(run("Concat", 13, IN(a, a), OUT(y0), AT(AI("axis", 0))));
    EXPECT(y0, 1, 2, 1, 2);
    FAILS(run("Concat", 13, IN(a, b), OUT(y0), AT(AI("axis", 0))), "size");
    FAILS(run("Concat", 13, IN(a, b), OUT(y), NO_AT), "axis");
    FAILS(run("Concat", 13, IN(a, b), OUT(y), AT(AI("axis", 2))), "out of range");
    FAILS(run("Concat", 13, IN(a, LIST(1, 2)), OUT(y), AT(AI("axis", 1))), "int64");
    FAILS(run("Concat", 13, IN(a, NULL), OUT(y), AT(AI("axis", 1))), "missing");
    FAILS(run("Concat", 13, IN(a, b), OUT(y0), AT(AI("axis", 1))), "output 0");
    FAILS(run("Concat", 13, NULL, 0, OUT(y0), AT(AI("axis", 1))), "at least one");
    FAILS(run("Concat", 13, IN(TF(0, NULL, 1), TF(0, NULL, 2)), OUT(y0), AT(AI("axis", 0))),
          "out of range");

    /* Split: equal, attribute (opset 11), input (13), num_outputs (18), zero sizes */
    host_tensor *x = TI(2, D(2, 6), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    host_tensor *p[3] = {OUTT(I64, 2, D(2, 2)), OUTT(I64, 2, D(2, 2)), OUTT(I64, 2, D(2, 2))};
    OK(run("Split", 13, IN(x), p, 3, AT(AI("axis", 1))));
    EXPECT(p[0], 0, 1, 6, 7);
    EXPECT(p[2], 4, 5, 10, 11);
    host_tensor *q[3] = {OUTT(I64, 2, D(2, 1)), OUTT(I64, 2, D(2, 0)), OUTT(I64, 2, D(2, 5))};
    OK(run("Split", 11, IN(x), q, 3, AT(AI("axis", -1), AINTS("split", 1, 0, 5))));
    EXPECT(q[0], 0, 6);
    EXPECT(q[2], 1, 2, 3, 4, 5, 7, 8, 9, 10, 11);
    OK(run("Split", 13, IN(x, LIST(1, 0, 5)), q, 3, AT(AI("axis", 1))));
    EXPECT(q[2], 1, 2, 3, 4, 5, 7, 8, 9, 10, 11);
    host_tensor *r[4] = {OUTT(I64, 2, D(2, 2)), OUTT(I64, 2, D(2, 2)), OUTT(I64, 2, D(2, 2)),
                         OUTT(I64, 2, D(2, 0))};
    OK(run("Split", 18, IN(x), r, 4, AT(AI("axis", 1), AI("num_outputs", 4))));
    EXPECT(r[2], 4, 5, 10, 11);
    host_tensor *r5[5] = {OUTT(I64, 2, D(2, 2)), OUTT(I64, 2, D(2, 2)), OUTT(I64, 2, D(2, 2)),
                          OUTT(I64, 2, D(2, 2)), OUTT(I64, 2, D(2, 2))};
    FAILS(run("Split", 18, IN(x), r5, 5, AT(AI("axis", 1), AI("num_outputs", 5))), "chunks");
    FAILS(run("Split", 13, IN(x), r, 4, AT(AI("axis", 1))), "equal parts");
    FAILS(run("Split", 13, IN(x, LIST(1, 1, 5)), q, 3, AT(AI("axis", 1))), "add up");
    FAILS(run("Split", 13, IN(x, LIST(7, -1, 0)), q, 3, AT(AI("axis", 1))), "negative");
    FAILS(run("Split", 13, IN(x, LIST(1, 5)), q, 3, AT(AI("axis", 1))), "entries");
    FAILS(run("Split", 11, IN(x), q, 3, AT(AI("axis", 1), AINTS("split", 1, 5))), "entries");
    FAILS(run("Split", 13, IN(x), q, 3, AT(AI("axis", 2))), "out of range");
    FAILS(run("Split", 13, IN(x, LIST(1, 0, 5)), q, 3, AT(AI("axis", 0))), "add up");
    /* an output not wanted */
    host_tensor *w[3] = {NULL, OUTT(I64, 2, D(2, 2)), NULL};
    OK(run("Split", 13, IN(x), w, 3, AT(AI("axis", 1))));
    EXPECT(w[1], 2, 3, 8, 9);
    FAILS(run("Split", 13, IN(x), NULL, 0, AT(AI("axis", 1))), "at least one");
    pool_free();
}
END_TEST

/* Slice of 0..9 by (start, end, step): the result's values, or a mismatch message. */
static void slice1(int64_t opset, int64_t s, int64_t e, int64_t st, int n, const double *want,
                   int line)
{
    float v[10];
    for (int i = 0; i < 10; i++)
        v[i] = (float)i;
    host_tensor *x = mk(F32, 1, D(10), v);
    host_tensor *y = OUTT(F32, 1, D(n));
    OK(run("Slice", opset, IN(x, LIST(s), LIST(e), LIST(0), LIST(st)), OUT(y), NO_AT));
    expect_values(y, n, want, "slice", line);
}
#define SLICE1(s, e, st, ...)                                                                    \
    slice1(13, s, e, st, (int)(sizeof((const double[]){0, __VA_ARGS__}) / sizeof(double)) - 1, \
           (const double[]){__VA_ARGS__ + 0}, __LINE__)

START_TEST(test_slice)
{
    SLICE1(-1, INT64_MIN, -1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    SLICE1(8, 1, -3, 8, 5, 2);
    SLICE1(0, 100, 3, 0, 3, 6, 9);
    SLICE1(20, 5, -1, 9, 8, 7, 6);
    SLICE1(-100, 3, 1, 0, 1, 2);
    SLICE1(INT64_MAX, INT64_MIN, INT64_MIN, 9);
    SLICE1(0, INT64_MAX, INT64_MAX, 0);
    SLICE1(-3, -1, 1, 7, 8);
    SLICE1(-1, -100, -4, 9, 5, 1);
    {
        float v[10] = {0};
        host_tensor *x = mk(F32, 1, D(10), v), *y = OUTT(F32, 1, D(0));
        OK(run("Slice", 13, IN(x, LIST(5), LIST(5)), OUT(y), NO_AT));
        OK(run("Slice", 13, IN(x, LIST(12), LIST(20)), OUT(y), NO_AT));
        /* the spec clamps a negative step's start into [0, dim-1] (numpy would give
         * nothing here): one element */
        host_tensor *y1 = OUTT(F32, 1, D(1));
        OK(run("Slice", 13, IN(x, LIST(-20), LIST(-12), LIST(0), LIST(-1)), OUT(y1), NO_AT));
    }
    /* 3-D against a naive loop: several axes, negative axes, negative steps, int32 params */
    float v[60];
    for (int i = 0; i < 60; i++)
        v[i] = (float)i;
    host_tensor *x = mk(F32, 3, D(3, 4, 5), v);
    host_tensor *y = OUTT(F32, 3, D(2, 4, 2));
    OK(run("Slice", 13,
           IN(x, TI32(1, D(2), -1, 4), TI32(1, D(2), 0, -6), TI32(1, D(2), 0, -1),
              TI32(1, D(2), -1, -3)),
           OUT(y), NO_AT));
    /* axis 0: 2, 1; axis 2: 4, 1 */
    EXPECT(y, 44, 41, 49, 46, 54, 51, 59, 56, 24, 21, 29, 26, 34, 31, 39, 36);
    /* opset 1: attributes, axes default */
    host_tensor *y1 = OUTT(F32, 3, D(1, 2, 5));
    OK(run("Slice", 9, IN(x), OUT(y1), AT(AINTS("starts", 1, 2), AINTS("ends", 2, 100))));
    EXPECT(y1, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39);
    FAILS(run("Slice", 9, IN(x), OUT(y1), AT(AINTS("starts", 1, 2))), "required");
    /* hostile */
    FAILS(run("Slice", 13, IN(x, LIST(0), LIST(1), LIST(0), LIST(0)), OUT(y), NO_AT), "step");
    FAILS(run("Slice", 13, IN(x, LIST(0, 0), LIST(1, 1), LIST(0, -3)), OUT(y), NO_AT), "twice");
    FAILS(run("Slice", 13, IN(x, LIST(0), LIST(1), LIST(3)), OUT(y), NO_AT), "out of range");
    FAILS(run("Slice", 13, IN(x, LIST(0), LIST(1, 2)), OUT(y), NO_AT), "lengths");
    FAILS(run("Slice", 13, IN(x, LIST(0), LIST(1), LIST(0), LIST(1, 1)), OUT(y), NO_AT),
          "lengths");
    FAILS(run("Slice", 13, IN(x, LIST(0, 0, 0, 0), LIST(1, 1, 1, 1)), OUT(y), NO_AT),
          "out of range");
    FAILS(run("Slice", 13, IN(x, LIST(0), LIST(1)), OUT(y), NO_AT), "output 0");
    FAILS(run("Slice", 13, IN(x, TF(1, D(1), 0), LIST(1)), OUT(y), NO_AT), "int64");
    FAILS(run("Slice", 13, IN(x, LIST(0)), OUT(y), NO_AT), "missing");
    FAILS(run("Slice", 13, IN(x, TI(2, D(1, 1), 0), LIST(1)), OUT(y), NO_AT), "1-D");
    pool_free();
}
END_TEST

/* Slice against index lists made by walking from start toward end, per the spec's clamping,
 * on random parameters. */
START_TEST(test_slice_random)
{
    static const int64_t dims[3] = {5, 1, 7};
    float v[35];
    for (int i = 0; i < 35; i++)
        v[i] = (float)i;
    host_tensor *x = mk(F32, 3, dims, v);
    uint64_t state = 12345;
    for (int it = 0; it < 3000; it++) {
        int64_t starts[3], ends[3], steps[3], axes[3], lists[3][16], lens[3];
        int used[3] = {0}, c = 0;
        for (int k = 0; k < 3; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t rv = state >> 20;
            if (rv % 4 == 0)
                continue; /* this axis not sliced */
            axes[c] = rv % 2 ? k : k - 3;
            starts[c] = (int64_t)((rv >> 4) % 21) - 10;
            ends[c] = (int64_t)((rv >> 12) % 21) - 10;
            steps[c] = (int64_t)((rv >> 20) % 7) - 3;
            if (steps[c] == 0)
                steps[c] = 1;
            used[k] = 1;
            c++;
        }
        /* the index lists */
        for (int k = 0, j = 0; k < 3; k++) {
            int64_t d = dims[k], s = 0, e = d, st = 1;
            if (used[k]) {
                s = starts[j];
                e = ends[j];
                st = steps[j];
                j++;
                s = s < 0 ? s + d : s;
                e = e < 0 ? e + d : e;
                if (st > 0) {
                    s = s < 0 ? 0 : s > d ? d : s;
                    e = e < 0 ? 0 : e > d ? d : e;
                } else {
                    s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
                    e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
                }
            }
            lens[k] = 0;
            for (int64_t i = s; st > 0 ? i < e : i > e; i += st)
                lists[k][lens[k]++] = i;
        }
        host_tensor *y = OUTT(F32, 3, lens);
        host_tensor *ts = mk(I64, 1, D(c), starts), *te = mk(I64, 1, D(c), ends);
        host_tensor *ta = mk(I64, 1, D(c), axes), *tst = mk(I64, 1, D(c), steps);
        OK(run("Slice", 13, IN(x, ts, te, ta, tst), OUT(y), NO_AT));
        int64_t n = 0;
        for (int64_t a0 = 0; a0 < lens[0]; a0++)
            for (int64_t a1 = 0; a1 < lens[1]; a1++)
                for (int64_t a2 = 0; a2 < lens[2]; a2++, n++)
                    ck_assert_float_eq(((float *)y->data)[n],
                                       v[lists[0][a0] * 7 + lists[1][a1] * 7 + lists[2][a2]]);
        if (pool_n > POOL_MAX - 10) {
            pool_free();
            x = mk(F32, 3, dims, v);
        }
    }
    pool_free();
}
END_TEST

START_TEST(test_expand_tile)
{
    host_tensor *x = TF(2, D(3, 1), 1, 2, 3);
    host_tensor *y = OUTT(F32, 3, D(2, 3, 2));
    OK(run("Expand", 13, IN(x, LIST(2, 1, 2)), OUT(y), NO_AT));
    EXPECT(y, 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3);
    host_tensor *y2 = OUTT(F32, 2, D(3, 1));
    OK(run("Expand", 13, IN(x, LIST(1)), OUT(y2), NO_AT));
    EXPECT(y2, 1, 2, 3);
    host_tensor *y0 = OUTT(F32, 2, D(3, 0));
    OK(run("Expand", 13, IN(x, LIST(0)), OUT(y0), NO_AT));
    host_tensor *ys = OUTT(F32, 2, D(2, 2));
    OK(run("Expand", 13, IN(TF(0, NULL, 4), LIST(2, 2)), OUT(ys), NO_AT));
    EXPECT(ys, 4, 4, 4, 4);
    FAILS(run("Expand", 13, IN(x, LIST(2, 2)), OUT(ys), NO_AT), "broadcast");
    FAILS(run("Expand", 13, IN(x, LIST(-1)), OUT(ys), NO_AT), "-1");
    FAILS(run("Expand", 13, IN(x, LIST(3, 3)), OUT(ys), NO_AT), "output 0");

    host_tensor *t = TI(2, D(2, 2), 1, 2, 3, 4);
    host_tensor *ty = OUTT(I64, 2, D(4, 6));
    OK(run("Tile", 13, IN(t, LIST(2, 3)), OUT(ty), NO_AT));
    EXPECT(ty, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4);
    host_tensor *t0 = OUTT(I64, 2, D(0, 2));
    OK(run("Tile", 13, IN(t, LIST(0, 1)), OUT(t0), NO_AT));
    host_tensor *ts = OUTT(I64, 0, NULL);
    OK(run("Tile", 13, IN(SCALAR_I(9), mk(I64, 1, D(0), NULL)), OUT(ts), NO_AT));
    EXPECT(ts, 9);
    host_tensor *t3 = OUTT(I64, 3, D(2, 2, 3));
    OK(run("Tile", 13, IN(TI(3, D(1, 2, 1), 5, 6), LIST(2, 1, 3)), OUT(t3), NO_AT));
    EXPECT(t3, 5, 5, 5, 6, 6, 6, 5, 5, 5, 6, 6, 6);
    FAILS(run("Tile", 13, IN(t, LIST(2)), OUT(ty), NO_AT), "entries");
    FAILS(run("Tile", 13, IN(t, LIST(2, -3)), OUT(ty), NO_AT), "-3");
    FAILS(run("Tile", 13, IN(t, LIST(INT64_MAX, 1)), OUT(ty), NO_AT), "2^63");
    FAILS(run("Tile", 13, IN(t, LIST(1, 1)), OUT(ty), NO_AT), "output 0");
    pool_free();
}
END_TEST

START_TEST(test_pad)
{
    host_tensor *x = TF(2, D(2, 3), 1, 2, 3, 4, 5, 6);
    host_tensor *y = OUTT(F32, 2, D(3, 6));
    /* constant with a value input; reflect; edge; wrap */
    OK(run("Pad", 13, IN(x, LIST(1, 2, 0, 1), TF(0, NULL, 9)), OUT(y), NO_AT));
    EXPECT(y, 9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9);
    OK(run("Pad", 13, IN(x, LIST(1, 2, 0, 1)), OUT(y), AT(AS("mode", "reflect"))));
    EXPECT(y, 6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5);
    OK(run("Pad", 13, IN(x, LIST(1, 2, 0, 1)), OUT(y), AT(AS("mode", "edge"))));
    EXPECT(y, 1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6);
    OK(run("Pad", 13, IN(x, LIST(1, 2, 0, 1)), OUT(y), AT(AS("mode", "wrap"))));
    EXPECT(y, 5, 6, 4, 5, 6, 4, 2, 3, 1, 2, 3, 1, 5, 6, 4, 5, 6, 4);
    /* reflect wider than the axis (numpy's repeated reflection) */
    host_tensor *yr = OUTT(F32, 1, D(9));
    OK(run("Pad", 13, IN(TF(1, D(3), 1, 2, 3), LIST(3, 3)), OUT(yr), AT(AS("mode", "reflect"))));
    EXPECT(yr, 2, 3, 2, 1, 2, 3, 2, 1, 2);
    OK(run("Pad", 13, IN(TF(1, D(1), 7), LIST(4, 4)), OUT(yr), AT(AS("mode", "reflect"))));
    EXPECT(yr, 7, 7, 7, 7, 7, 7, 7, 7, 7);
    /* negative pads crop */
    host_tensor *yc = OUTT(F32, 2, D(1, 3));
    OK(run("Pad", 13, IN(x, LIST(-1, -1, 0, 1)), OUT(yc), NO_AT));
    EXPECT(yc, 5, 6, 0);
    OK(run("Pad", 13, IN(x, LIST(-1, -1, 0, 1)), OUT(yc), AT(AS("mode", "edge"))));
    EXPECT(yc, 5, 6, 6);
    /* opset 2: attributes */
    host_tensor *yo = OUTT(F32, 2, D(2, 4));
    OK(run("Pad", 2, IN(x), OUT(yo), AT(AINTS("pads", 0, 1, 0, 0), AF("value", 1.5f))));
    EXPECT(yo, 1.5, 1, 2, 3, 1.5, 4, 5, 6);
    /* opset 18: axes */
    OK(run("Pad", 18, IN(x, LIST(1, 0), NULL, LIST(-1)), OUT(yo), NO_AT));
    EXPECT(yo, 0, 1, 2, 3, 0, 4, 5, 6);
    FAILS(run("Pad", 13, IN(x, LIST(1, 0), NULL, LIST(-1)), OUT(yo), NO_AT), "2 axes");
    FAILS(run("Pad", 18, IN(x, LIST(1, 0, 0, 0), NULL, LIST(1, 1)), OUT(yo), NO_AT), "twice");
    FAILS(run("Pad", 18, IN(x, LIST(1, 0), NULL, LIST(2)), OUT(yo), NO_AT), "out of range");
    /* int types and an int constant */
    host_tensor *xi = mk(I32, 1, D(2), (const int32_t[]){1, 2}), *yi = OUTT(I32, 1, D(4));
    OK(run("Pad", 11, IN(xi, LIST(1, 1), mk(I32, 0, NULL, (const int32_t[]){-5})), OUT(yi),
           NO_AT));
    EXPECT(yi, -5, 1, 2, -5);
    /* zero-size */
    host_tensor *xe = mk(F32, 2, D(0, 2), NULL), *ye = OUTT(F32, 2, D(2, 2));
    OK(run("Pad", 13, IN(xe, LIST(1, 0, 1, 0)), OUT(ye), NO_AT));
    EXPECT(ye, 0, 0, 0, 0);
    FAILS(run("Pad", 13, IN(xe, LIST(1, 0, 1, 0)), OUT(ye), AT(AS("mode", "edge"))), "empty");
    FAILS(run("Pad", 13, IN(xe, LIST(1, 0, 1, 0)), OUT(ye), AT(AS("mode", "reflect"))), "empty");
    /* hostile */
    FAILS(run("Pad", 13, IN(x, LIST(1, 0, 0)), OUT(y), NO_AT), "entries");
    FAILS(run("Pad", 13, IN(x, LIST(-3, 0, 0, 0)), OUT(y), NO_AT), "no valid size");
    FAILS(run("Pad", 13, IN(x, LIST(INT64_MAX, 0, INT64_MAX, 0)), OUT(y), NO_AT),
          "no valid size");
    FAILS(run("Pad", 13, IN(x, LIST(1, 2, 0, 1)), OUT(y), AT(AS("mode", "mirror"))), "mirror");
    FAILS(run("Pad", 13, IN(x, LIST(1, 2, 0, 1), TI(0, NULL, 9)), OUT(y), NO_AT),
          "constant_value");
    FAILS(run("Pad", 13, IN(x, LIST(1, 2, 0, 0)), OUT(y), NO_AT), "output 0");
    FAILS(run("Pad", 2, IN(x), OUT(y), NO_AT), "pads");
    pool_free();
}
END_TEST

START_TEST(test_trilu)
{
    host_tensor *x = TI(2, D(3, 4), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    host_tensor *y = OUTT(I64, 2, D(3, 4));
    OK(run("Trilu", 14, IN(x), OUT(y), NO_AT));
    EXPECT(y, 1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12);
    OK(run("Trilu", 14, IN(x, SCALAR_I(-1)), OUT(y), AT(AI("upper", 0))));
    EXPECT(y, 0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0);
    OK(run("Trilu", 14, IN(x, SCALAR_I(2)), OUT(y), NO_AT));
    EXPECT(y, 0, 0, 3, 4, 0, 0, 0, 8, 0, 0, 0, 0);
    OK(run("Trilu", 14, IN(x, SCALAR_I(INT64_MIN)), OUT(y), NO_AT));
    EXPECT(y, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    OK(run("Trilu", 14, IN(x, SCALAR_I(INT64_MAX)), OUT(y), AT(AI("upper", 0))));
    EXPECT(y, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    OK(run("Trilu", 14, IN(x, SCALAR_I(INT64_MAX)), OUT(y), NO_AT));
    EXPECT(y, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    host_tensor *b = mk(F32, 3, D(2, 0, 3), NULL), *by = OUTT(F32, 3, D(2, 0, 3));
    OK(run("Trilu", 14, IN(b), OUT(by), NO_AT));
    FAILS(run("Trilu", 14, IN(LIST(1, 2)), OUT(y), NO_AT), "rank 2");
    FAILS(run("Trilu", 14, IN(x, LIST(1, 2)), OUT(y), NO_AT), "single value");
    pool_free();
}
END_TEST

/* ---------------------------------------------------------------- indexing ops */

START_TEST(test_gather)
{
    host_tensor *x = TF(2, D(3, 2), 1, 2, 3, 4, 5, 6);
    host_tensor *y = OUTT(F32, 3, D(2, 2, 2));
    OK(run("Gather", 13, IN(x, TI(2, D(2, 2), 0, 1, -1, 1)), OUT(y), NO_AT));
    EXPECT(y, 1, 2, 3, 4, 5, 6, 3, 4);
    host_tensor *y1 = OUTT(F32, 1, D(3));
    OK(run("Gather", 13, IN(x, TI32(0, NULL, -2)), OUT(y1), AT(AI("axis", 1))));
    EXPECT(y1, 1, 3, 5);
    host_tensor *y0 = OUTT(F32, 2, D(0, 2));
    OK(run("Gather", 13, IN(x, mk(I64, 1, D(0), NULL)), OUT(y0), NO_AT));
    host_tensor *y22 = OUTT(F32, 2, D(2, 2)), *y12 = OUTT(F32, 2, D(1, 2));
    FAILS(run("Gather", 13, IN(x, TI(1, D(2), 0, 3)), OUT(y22), NO_AT), "out of range");
    FAILS(run("Gather", 13, IN(x, TI(1, D(2), 0, -4)), OUT(y22), NO_AT), "index -4");
    FAILS(run("Gather", 13, IN(x, TI(1, D(1), INT64_MIN)), OUT(y12), NO_AT), "out of range");
    /* an out-of-range index still fails when there is nothing to copy */
    host_tensor *xe = mk(F32, 2, D(3, 0), NULL), *ye = OUTT(F32, 2, D(1, 0));
    FAILS(run("Gather", 13, IN(xe, TI(1, D(1), 5)), OUT(ye), NO_AT), "out of range");
    FAILS(run("Gather", 13, IN(x, TF(1, D(1), 0)), OUT(y0), NO_AT), "int64 or int32");
    FAILS(run("Gather", 13, IN(x, TI(1, D(1), 0)), OUT(y0), AT(AI("axis", 2))), "axis");
    FAILS(run("Gather", 13, IN(x, TI(1, D(1), 0)), OUT(y0), NO_AT), "output 0");
    FAILS(run("Gather", 13, IN(TF(0, NULL, 1), SCALAR_I(0)), OUT(y0), NO_AT), "axis");

    /* GatherElements */
    host_tensor *ge = OUTT(F32, 2, D(2, 2));
    OK(run("GatherElements", 13, IN(x, TI(2, D(2, 2), 2, 0, -3, 1)), OUT(ge), NO_AT));
    EXPECT(ge, 5, 2, 1, 4);
    host_tensor *ge1 = OUTT(F32, 2, D(3, 1));
    OK(run("GatherElements", 13, IN(x, TI(2, D(3, 1), 1, 0, -1)), OUT(ge1), AT(AI("axis", -1))));
    EXPECT(ge1, 2, 3, 6);
    FAILS(run("GatherElements", 13, IN(x, TI(2, D(2, 2), 3, 0, 0, 0)), OUT(ge), NO_AT),
          "out of range");
    FAILS(run("GatherElements", 13, IN(x, TI(2, D(2, 3), 0, 0, 0, 0, 0, 0)), OUT(ge), NO_AT),
          "beyond");
    FAILS(run("GatherElements", 13, IN(x, TI(1, D(2), 0, 0)), OUT(ge), NO_AT), "rank");
    FAILS(run("GatherElements", 13, IN(x, TI(2, D(2, 2), 0, 0, 0, 0)), OUT(ge1), NO_AT),
          "output 0");

    /* GatherND: the spec's examples, batch_dims */
    host_tensor *d = TI32(3, D(2, 2, 2), 0, 1, 2, 3, 4, 5, 6, 7);
    host_tensor *g = OUTT(I32, 2, D(2, 2));
    OK(run("GatherND", 13, IN(d, TI(2, D(2, 2), 0, 1, 1, 0)), OUT(g), NO_AT));
    EXPECT(g, 2, 3, 4, 5);
    host_tensor *g1 = OUTT(I32, 2, D(2, 2));
    OK(run("GatherND", 13, IN(d, TI(2, D(2, 1), 1, 0)), OUT(g1), AT(AI("batch_dims", 1))));
    EXPECT(g1, 2, 3, 4, 5);
    host_tensor *g3 = OUTT(I32, 1, D(2));
    OK(run("GatherND", 13, IN(d, TI(2, D(2, 3), 0, 0, 1, -1, -1, -2)), OUT(g3), NO_AT));
    EXPECT(g3, 1, 6);
    FAILS(run("GatherND", 13, IN(d, TI(2, D(2, 3), 0, 0, 2, 1, 1, 0)), OUT(g3), NO_AT),
          "out of range");
    FAILS(run("GatherND", 13, IN(d, TI(2, D(1, 4), 0, 0, 0, 0)), OUT(g3), NO_AT), "between");
    FAILS(run("GatherND", 13, IN(d, mk(I64, 2, D(2, 0), NULL)), OUT(g3), NO_AT), "between");
    FAILS(run("GatherND", 13, IN(d, TI(2, D(3, 1), 1, 0, 0)), OUT(g1), AT(AI("batch_dims", 1))),
          "batch axis");
    FAILS(run("GatherND", 13, IN(d, TI(2, D(2, 1), 1, 0)), OUT(g1), AT(AI("batch_dims", 2))),
          "batch_dims");
    FAILS(run("GatherND", 13, IN(d, TI(2, D(2, 1), 1, 0)), OUT(g1), AT(AI("batch_dims", -1))),
          "batch_dims");
    pool_free();
}
END_TEST

START_TEST(test_scatter)
{
    host_tensor *x = TF(2, D(3, 3), 0, 0, 0, 0, 0, 0, 0, 0, 0);
    host_tensor *idx = TI(2, D(2, 3), 1, 0, 2, 0, 2, 1);
    host_tensor *upd = TF(2, D(2, 3), 1.0, 1.1, 1.2, 2.0, 2.1, 2.2);
    host_tensor *y = OUTT(F32, 2, D(3, 3));
    OK(run("ScatterElements", 13, IN(x, idx, upd), OUT(y), NO_AT));
    EXPECT(y, 2.0, 1.1, 0, 1.0, 0, 2.2, 0, 2.1, 1.2);
    OK(run("Scatter", 9, IN(x, idx, upd), OUT(y), NO_AT));
    EXPECT(y, 2.0, 1.1, 0, 1.0, 0, 2.2, 0, 2.1, 1.2);
    /* duplicates with add / mul / max / min; negative indices */
    host_tensor *x1 = TF(2, D(1, 5), 1, 2, 3, 4, 5), *y1 = OUTT(F32, 2, D(1, 5));
    host_tensor *i1 = TI(2, D(1, 2), 1, -4), *u1 = TF(2, D(1, 2), 1.5f, 2);
    OK(run("ScatterElements", 16, IN(x1, i1, u1), OUT(y1), AT(AI("axis", 1), AS("reduction", "add"))));
    EXPECT(y1, 1, 5.5, 3, 4, 5);
    OK(run("ScatterElements", 16, IN(x1, i1, u1), OUT(y1), AT(AI("axis", 1), AS("reduction", "mul"))));
    EXPECT(y1, 1, 6, 3, 4, 5);
    OK(run("ScatterElements", 18, IN(x1, i1, u1), OUT(y1), AT(AI("axis", 1), AS("reduction", "max"))));
    EXPECT(y1, 1, 2, 3, 4, 5);
    OK(run("ScatterElements", 18, IN(x1, i1, u1), OUT(y1), AT(AI("axis", 1), AS("reduction", "min"))));
    EXPECT(y1, 1, 1.5, 3, 4, 5);
    /* integers wrap; bool ors */
    host_tensor *xi = mk(O2P_DTYPE_INT8, 1, D(2), (const int8_t[]){120, -5});
    host_tensor *yi = OUTT(O2P_DTYPE_INT8, 1, D(2));
    OK(run("ScatterElements", 16, IN(xi, TI(1, D(2), 0, 0), mk(O2P_DTYPE_INT8, 1, D(2), (const int8_t[]){5, 5})),
           OUT(yi), AT(AS("reduction", "add"))));
    EXPECT(yi, -126, -5);
    host_tensor *xu = mk(O2P_DTYPE_UINT64, 1, D(1), (const uint64_t[]){UINT64_MAX});
    host_tensor *yu = OUTT(O2P_DTYPE_UINT64, 1, D(1));
    OK(run("ScatterElements", 18, IN(xu, TI(1, D(1), 0), mk(O2P_DTYPE_UINT64, 1, D(1), (const uint64_t[]){1})),
           OUT(yu), AT(AS("reduction", "max"))));
    ck_assert_uint_eq(((uint64_t *)yu->data)[0], UINT64_MAX);
    host_tensor *xb = TB(1, D(2), 0, 1), *yb = OUTT(BOOL, 1, D(2));
    OK(run("ScatterElements", 16, IN(xb, TI(1, D(2), 0, 1), TB(1, D(2), 1, 0)), OUT(yb),
           AT(AS("reduction", "mul"))));
    EXPECT(yb, 0, 0);
    FAILS(run("ScatterElements", 13, IN(x, TI(2, D(1, 1), 3), TF(2, D(1, 1), 1)), OUT(y), NO_AT),
          "out of range");
    FAILS(run("ScatterElements", 13, IN(x, TI(2, D(1, 1), 0), TF(2, D(1, 2), 1, 2)), OUT(y), NO_AT),
          "different shapes");
    FAILS(run("ScatterElements", 13, IN(x, TI(2, D(1, 1), 0), TI(2, D(1, 1), 1)), OUT(y), NO_AT),
          "updates");
    FAILS(run("ScatterElements", 16, IN(x, idx, upd), OUT(y), AT(AS("reduction", "avg"))), "avg");
    FAILS(run("ScatterElements", 13, IN(x, idx), OUT(y), NO_AT), "updates");
    FAILS(run("ScatterElements", 13, IN(x, idx, upd), OUT(y1), NO_AT), "output 0");
    host_tensor *xc = mk(O2P_DTYPE_COMPLEX64, 1, D(1), NULL), *yc = OUTT(O2P_DTYPE_COMPLEX64, 1, D(1));
    FAILS(run("ScatterElements", 16, IN(xc, TI(1, D(1), 0), xc), OUT(yc), AT(AS("reduction", "add"))),
          "not supported");

    /* ScatterND: the spec's examples */
    host_tensor *d = TF(1, D(8), 1, 2, 3, 4, 5, 6, 7, 8), *dy = OUTT(F32, 1, D(8));
    OK(run("ScatterND", 13, IN(d, TI(2, D(4, 1), 4, 3, 1, 7), TF(1, D(4), 9, 10, 11, 12)), OUT(dy),
           NO_AT));
    EXPECT(dy, 1, 11, 3, 10, 9, 6, 7, 12);
    OK(run("ScatterND", 16, IN(d, TI(2, D(2, 1), 0, -8), TF(1, D(2), 3, 4)), OUT(dy),
           AT(AS("reduction", "mul"))));
    EXPECT(dy, 12, 2, 3, 4, 5, 6, 7, 8);
    host_tensor *m = TI(3, D(2, 2, 2), 1, 2, 3, 4, 5, 6, 7, 8), *my = OUTT(I64, 3, D(2, 2, 2));
    OK(run("ScatterND", 16, IN(m, TI(2, D(1, 2), 1, 0), TI(2, D(1, 2), 10, 20)), OUT(my),
           AT(AS("reduction", "add"))));
    EXPECT(my, 1, 2, 3, 4, 15, 26, 7, 8);
    /* k = 0 replaces everything */
    OK(run("ScatterND", 13, IN(m, mk(I64, 2, D(1, 0), NULL), TI(4, D(1, 2, 2, 2), 8, 7, 6, 5, 4, 3, 2, 1)),
           OUT(my), NO_AT));
    EXPECT(my, 8, 7, 6, 5, 4, 3, 2, 1);
    FAILS(run("ScatterND", 13, IN(d, TI(2, D(1, 1), 8), TF(1, D(1), 1)), OUT(dy), NO_AT),
          "out of range");
    FAILS(run("ScatterND", 13, IN(d, TI(2, D(1, 2), 0, 0), TF(1, D(1), 1)), OUT(dy), NO_AT),
          "exceeds");
    FAILS(run("ScatterND", 13, IN(d, TI(2, D(2, 1), 0, 1), TF(1, D(1), 1)), OUT(dy), NO_AT),
          "updates have shape");
    pool_free();
}
END_TEST

START_TEST(test_onehot_compress_reverse)
{
    host_tensor *y = OUTT(F32, 2, D(4, 3));
    host_tensor *vals = TF(1, D(2), 0, 5);
    OK(run("OneHot", 11, IN(TI(1, D(4), 0, 2, -1, 7), TF(0, NULL, 3), vals), OUT(y), NO_AT));
    EXPECT(y, 5, 0, 0, 0, 0, 5, 0, 0, 5, 0, 0, 0);
    host_tensor *y0 = OUTT(F32, 2, D(3, 4));
    OK(run("OneHot", 11, IN(TI(1, D(4), 0, 2, -1, 7), SCALAR_I(3), vals), OUT(y0),
           AT(AI("axis", 0))));
    EXPECT(y0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 0);
    /* before opset 11 a negative index is out of range: all off */
    OK(run("OneHot", 9, IN(TI(1, D(4), 0, 2, -1, 7), SCALAR_I(3), vals), OUT(y0),
           AT(AI("axis", -2))));
    EXPECT(y0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0);
    /* float indices, depth as float */
    host_tensor *yf = OUTT(I64, 3, D(1, 2, 2));
    OK(run("OneHot", 11, IN(TF(2, D(1, 2), 1.0f, 0.0f), TF(1, D(1), 2.0f), TI(1, D(2), -1, 1)),
           OUT(yf), AT(AI("axis", 1))));
    EXPECT(yf, -1, 1, 1, -1);
    FAILS(run("OneHot", 11, IN(TI(1, D(1), 0), SCALAR_I(-1), vals), OUT(y), NO_AT), "depth");
    FAILS(run("OneHot", 11, IN(TI(1, D(1), 0), LIST(1, 2), vals), OUT(y), NO_AT), "depth");
    FAILS(run("OneHot", 11, IN(TI(1, D(1), 0), TF(0, NULL, 0.5f), vals), OUT(y), NO_AT), "depth");
    FAILS(run("OneHot", 11, IN(TI(1, D(1), 0), SCALAR_I(3), TF(1, D(3), 0, 1, 2)), OUT(y),
              NO_AT), "values");
    FAILS(run("OneHot", 11, IN(TI(1, D(1), 0), SCALAR_I(3), vals), OUT(y), AT(AI("axis", 2))),
          "axis");
    FAILS(run("OneHot", 11, IN(TI(1, D(1), 0), SCALAR_I(3), vals), OUT(y), NO_AT), "output 0");

    /* Compress: with an axis, flattened, short condition */
    host_tensor *x = TF(2, D(3, 2), 1, 2, 3, 4, 5, 6);
    host_tensor *c = OUTT(F32, 2, D(2, 2));
    OK(run("Compress", 11, IN(x, TB(1, D(3), 0, 1, 1)), OUT(c), AT(AI("axis", 0))));
    EXPECT(c, 3, 4, 5, 6);
    host_tensor *c1 = OUTT(F32, 2, D(3, 1));
    OK(run("Compress", 11, IN(x, TB(1, D(1), 0)), OUT(OUTT(F32, 2, D(3, 0))), AT(AI("axis", -1))));
    OK(run("Compress", 11, IN(x, TB(1, D(2), 0, 1)), OUT(c1), AT(AI("axis", -1))));
    EXPECT(c1, 2, 4, 6);
    host_tensor *cf = OUTT(F32, 1, D(3));
    OK(run("Compress", 11, IN(x, TB(1, D(5), 1, 0, 0, 1, 1)), OUT(cf), NO_AT));
    EXPECT(cf, 1, 4, 5);
    /* trues beyond the axis are dropped */
    OK(run("Compress", 11, IN(x, TB(1, D(4), 1, 0, 1, 1)), OUT(OUTT(F32, 2, D(2, 2))),
           AT(AI("axis", 0))));
    FAILS(run("Compress", 11, IN(x, TI(1, D(3), 0, 1, 1)), OUT(c), AT(AI("axis", 0))), "bool");
    FAILS(run("Compress", 11, IN(x, TB(1, D(3), 0, 1, 1)), OUT(c), AT(AI("axis", 2))), "axis");
    FAILS(run("Compress", 11, IN(x, TB(1, D(3), 1, 1, 1)), OUT(c), AT(AI("axis", 0))),
          "output 0");

    /* ReverseSequence: the spec's examples */
    host_tensor *s = TF(2, D(4, 4), 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    host_tensor *sy = OUTT(F32, 2, D(4, 4));
    OK(run("ReverseSequence", 10, IN(s, TI(1, D(4), 4, 3, 2, 1)), OUT(sy),
           AT(AI("time_axis", 0), AI("batch_axis", 1))));
    EXPECT(sy, 3, 6, 9, 12, 2, 5, 8, 13, 1, 4, 10, 14, 0, 7, 11, 15);
    host_tensor *b = TF(2, D(4, 4), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    OK(run("ReverseSequence", 10, IN(b, TI(1, D(4), 1, 2, 3, 0)), OUT(sy),
           AT(AI("time_axis", 1), AI("batch_axis", 0))));
    EXPECT(sy, 0, 1, 2, 3, 5, 4, 6, 7, 10, 9, 8, 11, 12, 13, 14, 15);
    FAILS(run("ReverseSequence", 10, IN(b, TI(1, D(4), 1, 2, 5, 0)), OUT(sy), NO_AT), "within");
    FAILS(run("ReverseSequence", 10, IN(b, TI(1, D(4), 1, 2, -1, 0)), OUT(sy), NO_AT), "within");
    FAILS(run("ReverseSequence", 10, IN(b, TI(1, D(3), 1, 2, 1)), OUT(sy), NO_AT), "batch size");
    FAILS(run("ReverseSequence", 10, IN(b, TI(1, D(4), 1, 2, 3, 0)), OUT(sy),
              AT(AI("time_axis", 1), AI("batch_axis", 1))), "time_axis");
    FAILS(run("ReverseSequence", 10, IN(LIST(1, 2), TI(1, D(1), 1)), OUT(sy), NO_AT), "rank 2");
    pool_free();
}
END_TEST

/* ---------------------------------------------------------------- TopK, CumSum */

START_TEST(test_topk)
{
    host_tensor *x = TF(2, D(2, 5), 3, 1, 3, NAN, -0.0f, 0.0f, 2, -1, 2, 5);
    host_tensor *v = OUTT(F32, 2, D(2, 3)), *i = OUTT(I64, 2, D(2, 3));
    OK(run("TopK", 11, IN(x, LIST(3)), OUT(v, i), NO_AT));
    /* NaN is the largest; ties keep the lower index first */
    EXPECT(v, NAN, 3, 3, 5, 2, 2);
    EXPECT(i, 3, 0, 2, 4, 1, 3);
    OK(run("TopK", 11, IN(x, LIST(3)), OUT(v, i), AT(AI("largest", 0))));
    EXPECT(v, -0.0, 1, 3, -1, 0, 2);
    EXPECT(i, 4, 1, 0, 2, 0, 1);
    /* opset 1: k attribute, always largest */
    host_tensor *v1 = OUTT(F32, 2, D(1, 5)), *i1 = OUTT(I64, 2, D(1, 5));
    OK(run("TopK", 1, IN(x), OUT(v1, i1), AT(AI("k", 1), AI("axis", 0), AI("largest", 0))));
    EXPECT(v1, 3, 2, 3, NAN, 5);
    EXPECT(i1, 0, 1, 0, 0, 1);
    /* ints, including int64 extremes */
    host_tensor *xi = TI(1, D(4), INT64_MIN, INT64_MAX, 0, -1);
    host_tensor *vi = OUTT(I64, 1, D(4)), *ii = OUTT(I64, 1, D(4));
    OK(run("TopK", 11, IN(xi, LIST(4)), OUT(vi, ii), NO_AT));
    EXPECT(ii, 1, 2, 3, 0);
    host_tensor *xu = mk(O2P_DTYPE_UINT64, 1, D(2), (const uint64_t[]){UINT64_MAX, 1});
    host_tensor *vu = OUTT(O2P_DTYPE_UINT64, 1, D(1)), *iu = OUTT(I64, 1, D(1));
    OK(run("TopK", 11, IN(xu, LIST(1)), OUT(vu, iu), NO_AT));
    EXPECT(iu, 0);
    /* K = 0 and an omitted output */
    host_tensor *v0 = OUTT(F32, 2, D(2, 0));
    OK(run("TopK", 11, IN(x, LIST(0)), OUT(v0, NULL), NO_AT));
    FAILS(run("TopK", 11, IN(x, LIST(6)), OUT(v, i), NO_AT), "out of range");
    FAILS(run("TopK", 11, IN(x, LIST(-1)), OUT(v, i), NO_AT), "out of range");
    FAILS(run("TopK", 11, IN(x, LIST(3, 3)), OUT(v, i), NO_AT), "single value");
    FAILS(run("TopK", 11, IN(x), OUT(v, i), NO_AT), "missing");
    FAILS(run("TopK", 11, IN(x, LIST(3)), OUT(v, i), AT(AI("axis", 2))), "axis");
    FAILS(run("TopK", 11, IN(x, LIST(3)), OUT(v, v), NO_AT), "output 1");
    FAILS(run("TopK", 11, IN(TB(1, D(2), 0, 1), LIST(1)), OUT(v, i), NO_AT), "not supported");
    FAILS(run("TopK", 1, IN(x), OUT(v, i), NO_AT), "'k'");
    pool_free();
}
END_TEST

START_TEST(test_cumsum)
{
    host_tensor *x = TF(2, D(2, 3), 1, 2, 3, 4, 5, 6);
    host_tensor *y = OUTT(F32, 2, D(2, 3));
    OK(run("CumSum", 14, IN(x, SCALAR_I(1)), OUT(y), NO_AT));
    EXPECT(y, 1, 3, 6, 4, 9, 15);
    OK(run("CumSum", 14, IN(x, mk(I32, 1, D(1), (const int32_t[]){0})), OUT(y), NO_AT));
    EXPECT(y, 1, 2, 3, 5, 7, 9);
    OK(run("CumSum", 14, IN(x, SCALAR_I(-1)), OUT(y), AT(AI("exclusive", 1), AI("reverse", 1))));
    EXPECT(y, 5, 3, 0, 11, 6, 0);
    OK(run("CumSum", 14, IN(x, SCALAR_I(-1)), OUT(y), AT(AI("exclusive", 1))));
    EXPECT(y, 0, 1, 3, 0, 4, 9);
    OK(run("CumSum", 14, IN(x, SCALAR_I(-1)), OUT(y), AT(AI("reverse", 1))));
    EXPECT(y, 6, 5, 3, 15, 11, 6);
    host_tensor *xi = mk(I32, 1, D(3), (const int32_t[]){INT32_MAX, 1, -5});
    host_tensor *yi = OUTT(I32, 1, D(3));
    OK(run("CumSum", 14, IN(xi, SCALAR_I(0)), OUT(yi), NO_AT));
    EXPECT(yi, INT32_MAX, INT32_MIN, (double)INT32_MIN - 5 + 4294967296.0);
    host_tensor *xe = mk(F32, 2, D(0, 3), NULL), *ye = OUTT(F32, 2, D(0, 3));
    OK(run("CumSum", 14, IN(xe, SCALAR_I(0)), OUT(ye), NO_AT));
    FAILS(run("CumSum", 14, IN(x, SCALAR_I(2)), OUT(y), NO_AT), "axis");
    FAILS(run("CumSum", 14, IN(x, TF(0, NULL, 0)), OUT(y), NO_AT), "int64");
    FAILS(run("CumSum", 14, IN(x), OUT(y), NO_AT), "missing");
    FAILS(run("CumSum", 14, IN(TB(1, D(1), 1), SCALAR_I(0)), OUT(y), NO_AT), "not supported");
    pool_free();
}
END_TEST

/* ---------------------------------------------------------------- hostile calls */

/* Every kernel of the table, with nothing, with NULL inputs and outputs, and with inputs of
 * an invalid rank, negative dims or no data: an error, never a crash. */
START_TEST(test_every_kernel_refuses_garbage)
{
    host_tensor neg = {.dtype = F32, .rank = 2, .dims = {-1, 3}};
    host_tensor bad_rank = {.dtype = F32, .rank = HOST_MAX_RANK + 1};
    host_tensor neg_rank = {.dtype = F32, .rank = -1};
    host_tensor nodata = {.dtype = I64, .rank = 1, .dims = {3}};
    host_tensor undef = {.dtype = O2P_DTYPE_UNDEFINED, .rank = 1, .dims = {3}};
    const host_tensor *bad[] = {&neg, &bad_rank, &neg_rank, &nodata, &undef, NULL};
    host_tensor *out = OUTT(F32, 1, D(3));
    for (int k = 0; k < host_tensor_kernel_count; k++) {
        const char *op = host_tensor_kernels[k].op_type;
        for (int64_t opset = 7; opset <= 18; opset++) {
            host_kernel_args a = {.op_type = op, .layer_name = "g", .opset = opset};
            ck_assert_msg(host_tensor_kernels[k].run(&a) != O2P_OK, "%s ran with nothing", op);
            for (int b = 0; b < (int)(sizeof bad / sizeof bad[0]); b++) {
                const host_tensor *ins[5] = {bad[b], bad[b], bad[b], bad[b], bad[b]};
                host_tensor *outs[2] = {out, out};
                a.inputs = ins;
                a.num_inputs = 5;
                a.outputs = outs;
                a.num_outputs = 2;
                ck_assert_msg(host_tensor_kernels[k].run(&a) != O2P_OK, "%s ran on garbage %d",
                              op, b);
                /* a good first input and garbage after it */
                const host_tensor *ins2[5] = {out, bad[b], bad[b], bad[b], bad[b]};
                a.inputs = ins2;
                (void)host_tensor_kernels[k].run(&a);
                /* good inputs and garbage outputs */
                host_tensor *outs2[2] = {(host_tensor *)bad[b], (host_tensor *)bad[b]};
                const host_tensor *ins3[5] = {out, NULL, NULL, NULL, NULL};
                a.inputs = ins3;
                a.outputs = outs2;
                (void)host_tensor_kernels[k].run(&a);
            }
        }
    }
    pool_free();
}
END_TEST

/* ---- random fuzzing: random inputs and attributes; when a kernel says the output should
 * have another shape or type, the output is made so and the kernel run again, which drives
 * the fuzzing into the copying code. ASan (the sanitizer build) watches every access. */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (uint32_t)(rng_state % n) : 0;
}

/* A random tensor; like `like` (when given) in shape or type now and then. */
static host_tensor *fuzz_tensor_like(const host_tensor *like)
{
    static const o2p_dtype types[] = {I64, I64, I64, F32, F32, I32, BOOL, O2P_DTYPE_UINT8,
                                      O2P_DTYPE_FLOAT16, O2P_DTYPE_DOUBLE, O2P_DTYPE_UINT64};
    o2p_dtype t = types[rnd(sizeof types / sizeof types[0])];
    int rank = (int)rnd(5);
    int64_t dims[HOST_MAX_RANK];
    for (int i = 0; i < rank; i++)
        dims[i] = rnd(8) == 0 ? 0 : 1 + rnd(4);
    if (like && rnd(3) == 0) {
        rank = like->rank;
        memcpy(dims, like->dims, sizeof dims);
    }
    if (like && rnd(3) == 0)
        t = like->dtype;
    if (like && rnd(4) == 0) { /* a parameter list: pads, starts, shape, repeats, ... */
        t = I64;
        rank = 1;
        dims[0] = rnd(9);
    }
    host_tensor *x = mk(t, rank, dims, NULL);
    int ok;
    int64_t n = host_numel(x, &ok);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = rnd(4) == 0 ? (int64_t)rnd(1u << 31) - (1 << 30) : (int64_t)rnd(11) - 5;
        if (rnd(50) == 0)
            v = rnd(2) ? INT64_MAX : INT64_MIN;
        host_set_i64(x, i, v);
    }
    return x;
}

static host_tensor *fuzz_tensor(void)
{
    return fuzz_tensor_like(NULL);
}

static const char *const fuzz_strings[] = {"constant", "reflect", "edge", "wrap", "none",
                                           "add", "mul", "max", "min", "bogus"};
static const char *const fuzz_attr_names[] = {
    "axis", "axes", "perm", "k", "upper", "exclusive", "reverse", "allowzero", "batch_dims",
    "start", "end", "split", "starts", "ends", "mode", "reduction", "value", "dtype",
    "batch_axis", "time_axis", "largest", "sorted", "num_outputs", "pads", "shape"};

static void fuzz_attr(host_attr *at, int64_t *ints_store)
{
    at->name = fuzz_attr_names[rnd(sizeof fuzz_attr_names / sizeof fuzz_attr_names[0])];
    switch (rnd(6)) {
    case 0: case 1:
        at->type = O2P_ATTR_INT;
        at->i = rnd(10) == 0 ? (rnd(2) ? INT64_MAX : INT64_MIN) : (int64_t)rnd(9) - 4;
        break;
    case 2: case 3:
        at->type = O2P_ATTR_INTS;
        at->count = (int)rnd(9);
        for (int i = 0; i < at->count; i++)
            ints_store[i] = rnd(12) == 0 ? INT64_MIN : (int64_t)rnd(9) - 4;
        at->ints = ints_store;
        break;
    case 4:
        at->type = O2P_ATTR_STRING;
        at->s = fuzz_strings[rnd(sizeof fuzz_strings / sizeof fuzz_strings[0])];
        break;
    default:
        at->type = rnd(2) ? O2P_ATTR_TENSOR : O2P_ATTR_FLOAT;
        at->tensor = rnd(4) ? fuzz_tensor() : NULL;
        at->f = 1.5f;
        break;
    }
}

/* From "output N has shape [..] where the op gives [..]" or "output N has element type X
 * where Y is expected": which output, and what it should be. */
static int parse_wanted_output(const char *msg, int *index, o2p_dtype *t, int *rank,
                               int64_t *dims, int *is_shape)
{
    const char *p = strstr(msg, "output ");
    if (!p || sscanf(p, "output %d", index) != 1)
        return 0;
    const char *g = strstr(p, "where the op gives [");
    if (g) {
        g += strlen("where the op gives [");
        *rank = 0;
        *is_shape = 1;
        while (*g && *g != ']') {
            if (*rank >= HOST_MAX_RANK)
                return 0;
            char *end;
            dims[(*rank)++] = strtoll(g, &end, 10);
            if (end == g)
                return 0;
            g = end;
            if (*g == ',')
                g++;
        }
        return 1;
    }
    const char *w = strstr(p, " where ");
    if (!w || !strstr(p, "element type"))
        return 0;
    w += strlen(" where ");
    *is_shape = 0;
    for (int d = 1; d <= O2P_DTYPE_BFLOAT16; d++) {
        const char *name = o2p_dtype_name((o2p_dtype)d);
        size_t len = strlen(name);
        if (strncmp(w, name, len) == 0 && w[len] == ' ') {
            *t = (o2p_dtype)d;
            return 1;
        }
    }
    return 0;
}

START_TEST(test_fuzz)
{
    static const int64_t opsets[] = {7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
    /* O2P_TENSOR_FUZZ=iterations[:seed] for a longer run */
    int ran_ok = 0, iterations = 6000;
    const char *env = getenv("O2P_TENSOR_FUZZ");
    if (env) {
        unsigned long long seed = 0;
        if (sscanf(env, "%d:%llu", &iterations, &seed) == 2 && seed != 0)
            rng_state = seed;
    }
    for (int k = 0; k < host_tensor_kernel_count; k++) {
        const char *op = host_tensor_kernels[k].op_type;
        int op_ok = 0;
        for (int it = 0; it < iterations; it++) {
            const host_tensor *ins[5];
            host_tensor *outs[4];
            host_attr attrs[4];
            int64_t ints_store[4][8];
            int nin = 1 + (int)rnd(5), nout = 1 + (int)rnd(3), nat = (int)rnd(4);
            for (int i = 0; i < nin; i++)
                ins[i] = rnd(10) == 0 ? NULL : fuzz_tensor_like(i > 0 ? ins[0] : NULL);
            for (int i = 0; i < nout; i++) {
                const host_tensor *x = ins[0];
                outs[i] = x && rnd(2) ? mk(x->dtype, x->rank, x->dims, NULL) : fuzz_tensor();
            }
            memset(attrs, 0, sizeof attrs);
            for (int i = 0; i < nat; i++)
                fuzz_attr(&attrs[i], ints_store[i]);
            host_kernel_args a = {.op_type = op, .layer_name = "fuzz",
                                  .opset = opsets[rnd(sizeof opsets / sizeof opsets[0])],
                                  .num_inputs = nin, .inputs = ins, .num_outputs = nout,
                                  .outputs = outs, .num_attrs = nat, .attrs = attrs};
            for (int attempt = 0; attempt < 8; attempt++) {
                o2p_status s = host_tensor_kernels[k].run(&a);
                if (s == O2P_OK) {
                    op_ok++;
                    break;
                }
                ck_assert_msg(s == O2P_ERR_SHAPE || s == O2P_ERR_UNSUPPORTED ||
                                  s == O2P_ERR_OUT_OF_MEMORY,
                              "%s: status %s", op, o2p_status_name(s));
                ck_assert_ptr_nonnull(o2p_last_error());
                int idx, rank = 0, is_shape = 0;
                int64_t dims[HOST_MAX_RANK];
                o2p_dtype t = O2P_DTYPE_UNDEFINED;
                if (!parse_wanted_output(o2p_last_error(), &idx, &t, &rank, dims, &is_shape) ||
                    idx < 0 || idx >= nout)
                    break;
                host_tensor *o = outs[idx];
                if (is_shape) {
                    int64_t n = 1;
                    for (int i = 0; i < rank && n >= 0; i++)
                        n = dims[i] < 0 || dims[i] > 100000 || n * dims[i] > 100000
                                ? -1
                                : n * dims[i];
                    if (n < 0)
                        break;
                    outs[idx] = mk(o->dtype, rank, dims, NULL);
                } else {
                    outs[idx] = mk(t, o->rank, o->dims, NULL);
                }
            }
            if (pool_n > POOL_MAX - 40)
                pool_free();
        }
        pool_free();
        if (op_ok > 0)
            ran_ok++;
        else
            fprintf(stderr, "fuzz: %s never succeeded\n", op);
    }
    /* most kernels get past their checks on random arguments now and then */
    ck_assert_int_ge(ran_ok, host_tensor_kernel_count * 2 / 3);
}
END_TEST

START_TEST(test_table)
{
    ck_assert_int_ge(host_tensor_kernel_count, 28);
    for (int k = 0; k < host_tensor_kernel_count; k++) {
        ck_assert_ptr_nonnull(host_tensor_kernels[k].run);
        ck_assert_msg(host_kernel_find(host_tensor_kernels[k].op_type) != NULL, "%s",
                      host_tensor_kernels[k].op_type);
        for (int j = 0; j < k; j++)
            ck_assert_str_ne(host_tensor_kernels[j].op_type, host_tensor_kernels[k].op_type);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_tensor");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_reshape);
    tcase_add_test(tc, test_flatten_squeeze_unsqueeze);
    tcase_add_test(tc, test_shape_size);
    tcase_add_test(tc, test_constant_of_shape_range_eyelike);
    tcase_add_test(tc, test_transpose);
    tcase_add_test(tc, test_concat_split);
    tcase_add_test(tc, test_slice);
    tcase_add_test(tc, test_slice_random);
    tcase_add_test(tc, test_expand_tile);
    tcase_add_test(tc, test_pad);
    tcase_add_test(tc, test_trilu);
    tcase_add_test(tc, test_gather);
    tcase_add_test(tc, test_scatter);
    tcase_add_test(tc, test_onehot_compress_reverse);
    tcase_add_test(tc, test_topk);
    tcase_add_test(tc, test_cumsum);
    tcase_add_test(tc, test_every_kernel_refuses_garbage);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
