/* test_host_select.c: the select family of host kernels (kernels/host/select.c) called
 * directly through host_kernel_find: Unique and NonMaxSuppression on the inputs of the ONNX
 * node tests (test_unique_*, test_nonmaxsuppression_*; expected values from their
 * output_*.pb), plus NaN and integer Unique, omitted outputs and inputs, and the refusals.
 * Outputs are allocated at their bound, as the data-dependent-shape contract says, and the
 * kernels must cut their dims to the actual ones. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_kernels.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define D(...) ((const int64_t[]){__VA_ARGS__})

static int64_t numel_of(int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

static host_tensor *tensor(o2p_dtype t, int rank, const int64_t *dims)
{
    host_tensor *x = calloc(1, sizeof *x);
    ck_assert_ptr_nonnull(x);
    x->dtype = t;
    x->rank = rank;
    for (int i = 0; i < rank; i++)
        x->dims[i] = dims[i];
    x->data = calloc((size_t)numel_of(rank, dims) + 1, o2p_dtype_size(t));
    ck_assert_ptr_nonnull(x->data);
    return x;
}

static host_tensor *tensor_f32(int rank, const int64_t *dims, const float *v)
{
    host_tensor *x = tensor(F32, rank, dims);
    memcpy(x->data, v, (size_t)numel_of(rank, dims) * sizeof(float));
    return x;
}

static void tensor_free(host_tensor *x)
{
    if (x) {
        free(x->data);
        free(x);
    }
}

typedef struct attrs {
    host_attr a[4];
    int n;
} attrs;

static void at_int(attrs *s, const char *name, int64_t v)
{
    host_attr *a = &s->a[s->n++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = O2P_ATTR_INT;
    a->i = v;
}

static o2p_status run(const char *op, int nin, const host_tensor *const *in, int nout,
                      host_tensor *const *out, const attrs *at)
{
    host_kernel_fn fn = host_kernel_find(op);
    ck_assert_msg(fn != NULL, "no host kernel for %s", op);
    host_kernel_args a = {op, "t", 11, nin, in, nout, out, at ? at->n : 0, at ? at->a : NULL};
    return fn(&a);
}

static void assert_i64(const host_tensor *t, int rank, const int64_t *dims, const int64_t *want,
                       const char *what)
{
    ck_assert_msg(t->rank == rank, "%s: rank %d, expected %d", what, t->rank, rank);
    for (int d = 0; d < rank; d++)
        ck_assert_msg(t->dims[d] == dims[d], "%s: dim %d is %lld, expected %lld", what, d,
                      (long long)t->dims[d], (long long)dims[d]);
    for (int64_t i = 0; i < numel_of(rank, dims); i++)
        ck_assert_msg(((const int64_t *)t->data)[i] == want[i],
                      "%s: element %lld is %lld, expected %lld", what, (long long)i,
                      (long long)((const int64_t *)t->data)[i], (long long)want[i]);
}

static void assert_f32(const host_tensor *t, int rank, const int64_t *dims, const float *want,
                       const char *what)
{
    ck_assert_msg(t->rank == rank, "%s: rank %d, expected %d", what, t->rank, rank);
    for (int d = 0; d < rank; d++)
        ck_assert_msg(t->dims[d] == dims[d], "%s: dim %d is %lld, expected %lld", what, d,
                      (long long)t->dims[d], (long long)dims[d]);
    for (int64_t i = 0; i < numel_of(rank, dims); i++) {
        float g = ((const float *)t->data)[i];
        ck_assert_msg(g == want[i] || (isnan(g) && isnan(want[i])),
                      "%s: element %lld is %g, expected %g", what, (long long)i, (double)g,
                      (double)want[i]);
    }
}

/* ---------------------------------------------------------------- Unique */

/* One Unique case: X float [rank, dims], axis (INT64_MIN: none), sorted; the expected four
 * outputs (Y's shape ydims, k uniques). Outputs are allocated at the bound. */
typedef struct uniq_case {
    const char *name;
    int rank;
    int64_t dims[3];
    float x[16];
    int64_t axis;
    int sorted;
    int64_t ydims[3];
    float y[16];
    int64_t k;
    int64_t indices[8], inverse[8], counts[8];
} uniq_case;

static const uniq_case uniq_cases[] = {
    {"not_sorted_without_axis",
     1,
     {6},
     {2, 1, 1, 3, 4, 3},
     INT64_MIN,
     0,
     {4},
     {2, 1, 3, 4},
     4,
     {0, 1, 3, 4},
     {0, 1, 1, 2, 3, 2},
     {1, 2, 2, 1}},
    {"sorted_without_axis",
     1,
     {6},
     {2, 1, 1, 3, 4, 3},
     INT64_MIN,
     1,
     {4},
     {1, 2, 3, 4},
     4,
     {1, 0, 3, 4},
     {1, 0, 0, 2, 3, 2},
     {2, 1, 2, 1}},
    {"sorted_with_axis",
     2,
     {3, 3},
     {1, 0, 0, 1, 0, 0, 2, 3, 4},
     0,
     1,
     {2, 3},
     {1, 0, 0, 2, 3, 4},
     2,
     {0, 2},
     {0, 0, 1},
     {2, 1}},
    {"sorted_with_axis_3d",
     3,
     {2, 4, 2},
     {1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 0, 1, 2, 1, 0, 1},
     1,
     1,
     {2, 3, 2},
     {0, 1, 1, 1, 2, 1, 0, 1, 1, 1, 2, 1},
     3,
     {1, 0, 2},
     {1, 0, 2, 0},
     {2, 1, 1}},
    {"sorted_with_negative_axis",
     2,
     {3, 3},
     {1, 0, 0, 1, 0, 0, 2, 3, 3},
     -1,
     1,
     {3, 2},
     {0, 1, 0, 1, 3, 2},
     2,
     {1, 0},
     {1, 0, 0},
     {2, 1}},
    /* not in the node tests: first-occurrence order along an axis */
    {"not_sorted_with_axis",
     2,
     {3, 3},
     {2, 3, 4, 1, 0, 0, 2, 3, 4},
     0,
     0,
     {2, 3},
     {2, 3, 4, 1, 0, 0},
     2,
     {0, 1},
     {0, 1, 0},
     {2, 1}},
};

static void run_uniq_case(const uniq_case *c)
{
    host_tensor *X = tensor_f32(c->rank, c->dims, c->x);
    int flat = c->axis == INT64_MIN;
    int64_t n =
        flat ? numel_of(c->rank, c->dims) : c->dims[c->axis < 0 ? c->axis + c->rank : c->axis];
    int yax = flat ? 0 : (int)(c->axis < 0 ? c->axis + c->rank : c->axis);
    int yrank = flat ? 1 : c->rank;
    int64_t bound[3] = {n, n, n};
    for (int d = 0; d < yrank; d++)
        bound[d] = d == yax ? n : c->dims[d];
    host_tensor *Y = tensor(F32, yrank, bound), *I = tensor(I64, 1, &n), *R = tensor(I64, 1, &n),
                *C = tensor(I64, 1, &n);
    const host_tensor *in[1] = {X};
    host_tensor *out[4] = {Y, I, R, C};
    attrs at = {0};
    if (!flat)
        at_int(&at, "axis", c->axis);
    at_int(&at, "sorted", c->sorted);
    o2p_status st = run("Unique", 1, in, 4, out, &at);
    ck_assert_msg(st == O2P_OK, "%s: %s", c->name, o2p_last_error());
    assert_f32(Y, yrank, c->ydims, c->y, c->name);
    assert_i64(I, 1, &c->k, c->indices, c->name);
    assert_i64(R, 1, &n, c->inverse, c->name);
    assert_i64(C, 1, &c->k, c->counts, c->name);
    tensor_free(X);
    tensor_free(Y);
    tensor_free(I);
    tensor_free(R);
    tensor_free(C);
}

START_TEST(test_unique_node_cases)
{
    for (size_t i = 0; i < sizeof uniq_cases / sizeof uniq_cases[0]; i++)
        run_uniq_case(&uniq_cases[i]);
}
END_TEST

/* NaN collapses into one unique above every number; -0 and 0 are one unique whose value is
 * the first occurrence's; only Y requested (the other outputs omitted). */
START_TEST(test_unique_nan_and_omitted)
{
    host_tensor *X = tensor_f32(1, D(5), (const float[]){NAN, 1.0f, NAN, -0.0f, 0.0f});
    host_tensor *Y = tensor(F32, 1, D(5));
    const host_tensor *in[1] = {X};
    host_tensor *out[4] = {Y, NULL, NULL, NULL};
    ck_assert_int_eq(run("Unique", 1, in, 4, out, NULL), O2P_OK);
    assert_f32(Y, 1, D(3), (const float[]){-0.0f, 1.0f, NAN}, "nan");
    ck_assert(signbit(((const float *)Y->data)[0]));
    /* with counts and inverse too */
    Y->dims[0] = 5;
    host_tensor *R = tensor(I64, 1, D(5)), *C = tensor(I64, 1, D(5));
    host_tensor *out2[4] = {Y, NULL, R, C};
    ck_assert_int_eq(run("Unique", 1, in, 4, out2, NULL), O2P_OK);
    assert_i64(R, 1, D(5), D(2, 1, 2, 0, 0), "nan inverse");
    assert_i64(C, 1, D(3), D(2, 1, 2), "nan counts");
    tensor_free(X);
    tensor_free(Y);
    tensor_free(R);
    tensor_free(C);
}
END_TEST

/* Integer types keep their exact values: int32 negatives, uint64 above INT64_MAX. */
START_TEST(test_unique_integers)
{
    host_tensor *X = tensor(I32, 1, D(6));
    const int32_t xv[6] = {5, -7, 5, 2147483647, -7, 0};
    memcpy(X->data, xv, sizeof xv);
    host_tensor *Y = tensor(I32, 1, D(6)), *I = tensor(I64, 1, D(6));
    const host_tensor *in[1] = {X};
    host_tensor *out[2] = {Y, I};
    ck_assert_int_eq(run("Unique", 1, in, 2, out, NULL), O2P_OK);
    ck_assert_int_eq(Y->dims[0], 4);
    const int32_t want[4] = {-7, 0, 5, 2147483647};
    ck_assert_mem_eq(Y->data, want, sizeof want);
    assert_i64(I, 1, D(4), D(1, 5, 0, 3), "int32 indices");

    host_tensor *U = tensor(O2P_DTYPE_UINT64, 1, D(3)), *UY = tensor(O2P_DTYPE_UINT64, 1, D(3));
    const uint64_t uv[3] = {UINT64_MAX, 1, UINT64_MAX};
    memcpy(U->data, uv, sizeof uv);
    const host_tensor *uin[1] = {U};
    host_tensor *uout[1] = {UY};
    ck_assert_int_eq(run("Unique", 1, uin, 1, uout, NULL), O2P_OK);
    ck_assert_int_eq(UY->dims[0], 2);
    ck_assert(((const uint64_t *)UY->data)[0] == 1 &&
              ((const uint64_t *)UY->data)[1] == UINT64_MAX);
    tensor_free(X);
    tensor_free(Y);
    tensor_free(I);
    tensor_free(U);
    tensor_free(UY);
}
END_TEST

START_TEST(test_unique_refusals)
{
    host_tensor *X = tensor_f32(2, D(2, 3), (const float[]){1, 2, 3, 4, 5, 6});
    const host_tensor *in[1] = {X};
    attrs at = {0};
    /* Y's bound below the actual count */
    host_tensor *Y = tensor(F32, 1, D(5));
    host_tensor *out[1] = {Y};
    ck_assert_int_eq(run("Unique", 1, in, 1, out, NULL), O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "output 0 (Y)"));
    /* a wrong non-axis dim */
    host_tensor *Y2 = tensor(F32, 2, D(2, 2));
    host_tensor *out2[1] = {Y2};
    at_int(&at, "axis", 0);
    ck_assert_int_eq(run("Unique", 1, in, 1, out2, &at), O2P_ERR_SHAPE);
    /* axis out of range, sorted not 0/1 */
    at.n = 0;
    at_int(&at, "axis", 2);
    ck_assert_int_eq(run("Unique", 1, in, 1, out2, &at), O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "axis 2"));
    at.n = 0;
    at_int(&at, "sorted", 2);
    host_tensor *Y3 = tensor(F32, 1, D(6));
    host_tensor *out3[1] = {Y3};
    ck_assert_int_eq(run("Unique", 1, in, 1, out3, &at), O2P_ERR_SHAPE);
    /* inverse_indices of the wrong length */
    host_tensor *R = tensor(I64, 1, D(5));
    host_tensor *out4[3] = {Y3, NULL, R};
    ck_assert_int_eq(run("Unique", 1, in, 3, out4, NULL), O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "inverse_indices"));
    /* a type it does not compare */
    const char *strings[2] = {"a", "b"};
    host_tensor S = {O2P_DTYPE_STRING, 1, {2}, strings};
    const host_tensor *sin[1] = {&S};
    ck_assert_int_eq(run("Unique", 1, sin, 1, out3, NULL), O2P_ERR_UNSUPPORTED);
    tensor_free(X);
    tensor_free(Y);
    tensor_free(Y2);
    tensor_free(Y3);
    tensor_free(R);
}
END_TEST

/* ---------------------------------------------------------------- NonMaxSuppression */

static const float std_boxes[24] = {0, 0,  1, 1,  0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                                    0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100,   1, 101};
static const float flipped_boxes[24] = {1, 1,  0, 0,  0, 0.1f,  1, 1.1f,  0, 0.9f, 1, -0.1f,
                                        0, 10, 1, 11, 1, 10.1f, 0, 11.1f, 1, 101,  0, 100};
static const float center_boxes[24] = {0.5f, 0.5f,  1, 1, 0.5f, 0.6f,  1, 1, 0.5f, 0.4f,   1, 1,
                                       0.5f, 10.5f, 1, 1, 0.5f, 10.6f, 1, 1, 0.5f, 100.5f, 1, 1};
static const float std_scores[6] = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};

/* NMS with max_output_boxes_per_class, iou_threshold, score_threshold as [1] inputs (as the
 * node tests give them; a negative score_threshold here: omitted). The output is allocated
 * at rows (the bound) and must come back as want_rows x 3. */
static o2p_status nms_run(int64_t nb, int64_t nc, int64_t n, const float *boxes,
                          const float *scores, int64_t max_out, float iou, float st, int64_t center,
                          int64_t rows, host_tensor **y)
{
    host_tensor *B = tensor(F32, 3, D(nb, n, 4)), *S = tensor(F32, 3, D(nb, nc, n));
    for (int64_t b = 0; b < nb; b++)
        memcpy((float *)B->data + b * n * 4, boxes, (size_t)n * 4 * sizeof(float));
    for (int64_t b = 0; b < nb; b++)
        for (int64_t c = 0; c < nc; c++)
            memcpy((float *)S->data + (b * nc + c) * n, scores, (size_t)n * sizeof(float));
    host_tensor *M = tensor(I64, 1, D(1)), *IOU = tensor(F32, 1, D(1)), *ST = tensor(F32, 1, D(1));
    ((int64_t *)M->data)[0] = max_out;
    ((float *)IOU->data)[0] = iou;
    ((float *)ST->data)[0] = st;
    *y = tensor(I64, 2, D(rows, 3));
    const host_tensor *in[5] = {B, S, M, IOU, st < 0 ? NULL : ST};
    host_tensor *out[1] = {*y};
    attrs at = {0};
    if (center)
        at_int(&at, "center_point_box", center);
    o2p_status s = run("NonMaxSuppression", 5, in, 1, out, &at);
    tensor_free(B);
    tensor_free(S);
    tensor_free(M);
    tensor_free(IOU);
    tensor_free(ST);
    return s;
}

static void nms_expect(const char *name, int64_t nb, int64_t nc, int64_t n, const float *boxes,
                       const float *scores, int64_t max_out, float st, int64_t center,
                       int64_t want_rows, const int64_t *want)
{
    int64_t per = max_out < n ? max_out : n;
    host_tensor *Y;
    o2p_status s = nms_run(nb, nc, n, boxes, scores, max_out, 0.5f, st, center, nb * nc * per, &Y);
    ck_assert_msg(s == O2P_OK, "%s: %s", name, o2p_last_error());
    assert_i64(Y, 2, D(want_rows, 3), want, name);
    tensor_free(Y);
}

START_TEST(test_nms_node_cases)
{
    const float ident_boxes[40] = {0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1,
                                   0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1};
    float ident_scores[10];
    for (int i = 0; i < 10; i++)
        ident_scores[i] = 0.9f;
    nms_expect("center_point_box_format", 1, 1, 6, center_boxes, std_scores, 3, 0.0f, 1, 3,
               D(0, 0, 3, 0, 0, 0, 0, 0, 5));
    nms_expect("flipped_coordinates", 1, 1, 6, flipped_boxes, std_scores, 3, 0.0f, 0, 3,
               D(0, 0, 3, 0, 0, 0, 0, 0, 5));
    nms_expect("identical_boxes", 1, 1, 10, ident_boxes, ident_scores, 3, 0.0f, 0, 1, D(0, 0, 0));
    nms_expect("limit_output_size", 1, 1, 6, std_boxes, std_scores, 2, 0.0f, 0, 2,
               D(0, 0, 3, 0, 0, 0));
    nms_expect("single_box", 1, 1, 1, (const float[]){0, 0, 1, 1}, (const float[]){0.9f}, 3, 0.0f,
               0, 1, D(0, 0, 0));
    nms_expect("suppress_by_IOU", 1, 1, 6, std_boxes, std_scores, 3, 0.0f, 0, 3,
               D(0, 0, 3, 0, 0, 0, 0, 0, 5));
    nms_expect("suppress_by_IOU_and_scores", 1, 1, 6, std_boxes, std_scores, 3, 0.4f, 0, 2,
               D(0, 0, 3, 0, 0, 0));
    nms_expect("two_batches", 2, 1, 6, std_boxes, std_scores, 2, 0.0f, 0, 4,
               D(0, 0, 3, 0, 0, 0, 1, 0, 3, 1, 0, 0));
    nms_expect("two_classes", 1, 2, 6, std_boxes, std_scores, 2, 0.0f, 0, 4,
               D(0, 0, 3, 0, 0, 0, 0, 1, 3, 0, 1, 0));
}
END_TEST

/* No score threshold: every box is a candidate (a NaN score ranks last); the threshold is
 * strict (a score equal to it is dropped); equal scores go by box index; a negative or
 * omitted max_output_boxes_per_class selects nothing. */
START_TEST(test_nms_edges)
{
    const float far[12] = {0, 0, 1, 1, 5, 5, 6, 6, 10, 10, 11, 11};
    host_tensor *Y;
    ck_assert_int_eq(
        nms_run(1, 1, 3, far, (const float[]){NAN, 0.2f, 0.9f}, 3, 0.5f, -1.0f, 0, 3, &Y), O2P_OK);
    assert_i64(Y, 2, D(3, 3), D(0, 0, 2, 0, 0, 1, 0, 0, 0), "no threshold, NaN last");
    tensor_free(Y);
    ck_assert_int_eq(nms_run(1, 1, 6, std_boxes, std_scores, 6, 0.5f, 0.3f, 0, 6, &Y), O2P_OK);
    assert_i64(Y, 2, D(2, 3), D(0, 0, 3, 0, 0, 0), "strict threshold");
    tensor_free(Y);
    ck_assert_int_eq(
        nms_run(1, 1, 3, far, (const float[]){0.5f, 0.7f, 0.7f}, 3, 0.5f, -1.0f, 0, 3, &Y), O2P_OK);
    assert_i64(Y, 2, D(3, 3), D(0, 0, 1, 0, 0, 2, 0, 0, 0), "ties by index");
    tensor_free(Y);
    /* iou_threshold 0: any overlap suppresses; 1: nothing does */
    ck_assert_int_eq(nms_run(1, 1, 6, std_boxes, std_scores, 6, 0.0f, -1.0f, 0, 6, &Y), O2P_OK);
    assert_i64(Y, 2, D(3, 3), D(0, 0, 3, 0, 0, 0, 0, 0, 5), "iou 0");
    tensor_free(Y);
    ck_assert_int_eq(nms_run(1, 1, 6, std_boxes, std_scores, 6, 1.0f, -1.0f, 0, 6, &Y), O2P_OK);
    ck_assert_int_eq(Y->dims[0], 6);
    tensor_free(Y);
    ck_assert_int_eq(nms_run(1, 1, 6, std_boxes, std_scores, -3, 0.5f, -1.0f, 0, 6, &Y), O2P_OK);
    ck_assert_int_eq(Y->dims[0], 0);
    tensor_free(Y);

    /* max_output_boxes_per_class omitted: nothing selected, into a [0, 3] output */
    host_tensor *B = tensor_f32(3, D(1, 6, 4), std_boxes),
                *S = tensor_f32(3, D(1, 1, 6), std_scores);
    host_tensor *Y0 = tensor(I64, 2, D(0, 3));
    const host_tensor *in[2] = {B, S};
    host_tensor *out[1] = {Y0};
    ck_assert_int_eq(run("NonMaxSuppression", 2, in, 1, out, NULL), O2P_OK);
    ck_assert_int_eq(Y0->dims[0], 0);
    tensor_free(B);
    tensor_free(S);
    tensor_free(Y0);
}
END_TEST

START_TEST(test_nms_refusals)
{
    host_tensor *Y;
    /* a bound too small for what is selected */
    ck_assert_int_eq(nms_run(1, 1, 6, std_boxes, std_scores, 3, 0.5f, 0.0f, 0, 2, &Y),
                     O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "rows"));
    tensor_free(Y);
    /* iou_threshold outside [0, 1] (onnxruntime refuses it too) */
    ck_assert_int_eq(nms_run(1, 1, 6, std_boxes, std_scores, 3, 1.5f, 0.0f, 0, 3, &Y),
                     O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "iou_threshold"));
    tensor_free(Y);
    ck_assert_int_eq(nms_run(1, 1, 6, std_boxes, std_scores, 3, 0.5f, 0.0f, 2, 3, &Y),
                     O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "center_point_box"));
    tensor_free(Y);

    host_tensor *B = tensor_f32(3, D(1, 6, 4), std_boxes),
                *S = tensor_f32(3, D(1, 1, 5), std_scores);
    host_tensor *Y3 = tensor(I64, 2, D(6, 3)), *M = tensor(I64, 1, D(1));
    ((int64_t *)M->data)[0] = 1;
    const host_tensor *in[3] = {B, S, M};
    host_tensor *out[1] = {Y3};
    ck_assert_int_eq(run("NonMaxSuppression", 3, in, 1, out, NULL), O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "scores"));
    host_tensor *Bi = tensor(I64, 3, D(1, 6, 4));
    const host_tensor *in2[3] = {Bi, S, M};
    ck_assert_int_eq(run("NonMaxSuppression", 3, in2, 1, out, NULL), O2P_ERR_UNSUPPORTED);
    host_tensor *M2 = tensor(I64, 1, D(2));
    S->dims[2] = 6;
    const host_tensor *in3[3] = {B, S, M2};
    ck_assert_int_eq(run("NonMaxSuppression", 3, in3, 1, out, NULL), O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "max_output_boxes_per_class"));
    /* the output must be int64 [*, 3] */
    host_tensor *Yf = tensor(F32, 2, D(6, 3));
    host_tensor *outf[1] = {Yf};
    const host_tensor *in4[3] = {B, S, M};
    ck_assert_int_eq(run("NonMaxSuppression", 3, in4, 1, outf, NULL), O2P_ERR_SHAPE);
    tensor_free(B);
    tensor_free(S);
    tensor_free(Y3);
    tensor_free(M);
    tensor_free(Bi);
    tensor_free(M2);
    tensor_free(Yf);
}
END_TEST

START_TEST(test_table)
{
    ck_assert_ptr_nonnull(host_kernel_find("Unique"));
    ck_assert_ptr_nonnull(host_kernel_find("NonMaxSuppression"));
    ck_assert_int_eq(host_select_kernel_count, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_select");
    TCase *tc = tcase_create("select");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_unique_node_cases);
    tcase_add_test(tc, test_unique_nan_and_omitted);
    tcase_add_test(tc, test_unique_integers);
    tcase_add_test(tc, test_unique_refusals);
    tcase_add_test(tc, test_nms_node_cases);
    tcase_add_test(tc, test_nms_edges);
    tcase_add_test(tc, test_nms_refusals);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
