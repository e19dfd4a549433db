/* test_passes.c: the network passes on networks built by hand: BatchNormalization folding
 * into Conv and Gemm (checked numerically against the unfolded network, both evaluated by
 * constant folding through the host reference kernels), the cases that must not fold, and
 * the removal of no-op and dead layers. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "passes/passes.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

#define F32 O2P_DTYPE_FLOAT
#define D(...) ((const int64_t[]){__VA_ARGS__})
#define T(...) ((o2p_tensor *const[]){__VA_ARGS__})

static o2p_network *net_new(int64_t opset)
{
    o2p_network *n = NULL;
    TU_ASSERT_STATUS(o2p_network_create(&n), O2P_OK);
    TU_ASSERT_STATUS(o2p_network_set_opset(n, "", opset), O2P_OK);
    return n;
}

static o2p_graph *G(o2p_network *n)
{
    return o2p_network_get_graph(n);
}

static int64_t numel(int rank, const int64_t *dims)
{
    int64_t count = 1;
    for (int i = 0; i < rank; i++)
        count *= dims[i];
    return count;
}

/* A float32 constant of uniform values in [lo, hi) drawn from *state. */
static o2p_tensor *crand(o2p_network *n, const char *name, int rank, const int64_t *dims, float lo,
                         float hi, uint64_t *state)
{
    int64_t count = numel(rank, dims);
    float *v = malloc((size_t)(count ? count : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (int64_t i = 0; i < count; i++)
        v[i] = lo + (hi - lo) * (float)((double)(tu_rand(state) >> 11) / 9007199254740992.0);
    o2p_tensor *t = NULL;
    TU_ASSERT_STATUS(
        o2p_graph_add_constant(G(n), name, F32, rank, dims, v, (size_t)count * sizeof *v, &t),
        O2P_OK);
    free(v);
    return t;
}

static o2p_tensor *input(o2p_network *n, const char *name, o2p_dtype dtype, int rank,
                         const int64_t *dims)
{
    o2p_tensor *t = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_input(G(n), name, dtype, rank, dims, NULL, &t), O2P_OK);
    return t;
}

static o2p_layer *op(o2p_network *n, const char *op_type, const char *name, int nin,
                     o2p_tensor *const *ins, int nout)
{
    o2p_layer *l = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_layer(G(n), "", op_type, name, nin, ins, nout, &l), O2P_OK);
    return l;
}

static o2p_tensor *out(o2p_layer *l, int i)
{
    return o2p_layer_get_output(l, i);
}

static void mark(o2p_network *n, o2p_tensor *t)
{
    TU_ASSERT_STATUS(o2p_graph_mark_output(G(n), t), O2P_OK);
}

static int count_op(o2p_network *n, const char *op_type)
{
    int count = 0;
    for (int i = 0; i < n->main->layers.count; i++)
        count += strcmp(((ir_layer *)n->main->layers.items[i])->op_type, op_type) == 0;
    return count;
}

/* BatchNormalization over `channels` with parameters drawn from *state (a positive
 * variance, a scale away from zero), named "<name>.scale" and so on. */
static o2p_layer *batchnorm(o2p_network *n, const char *name, o2p_tensor *x, int64_t channels,
                            int nout, uint64_t *state)
{
    char s[4][64];
    snprintf(s[0], sizeof s[0], "%s.scale", name);
    snprintf(s[1], sizeof s[1], "%s.bias", name);
    snprintf(s[2], sizeof s[2], "%s.mean", name);
    snprintf(s[3], sizeof s[3], "%s.var", name);
    o2p_tensor *scale = crand(n, s[0], 1, D(channels), 0.5f, 2.0f, state);
    o2p_tensor *bias = crand(n, s[1], 1, D(channels), -1.0f, 1.0f, state);
    o2p_tensor *mean = crand(n, s[2], 1, D(channels), -0.5f, 0.5f, state);
    o2p_tensor *var = crand(n, s[3], 1, D(channels), 0.1f, 2.0f, state);
    return op(n, "BatchNormalization", name, 5, T(x, scale, bias, mean, var), nout);
}

static void infer_ok(o2p_network *n)
{
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
}

/* Folds a whole network (all its inputs are constants) into constants. */
static void evaluate(o2p_network *n)
{
    infer_ok(n);
    TU_ASSERT_STATUS(pass_fold_constants(n, SIZE_MAX, NULL), O2P_OK);
    ck_assert_msg(n->main->layers.count == 0, "%d layers were not folded", n->main->layers.count);
}

/* Evaluates both networks and compares every graph output (relative 1e-5). */
static void same_outputs(o2p_network *ref, o2p_network *n)
{
    evaluate(ref);
    evaluate(n);
    ck_assert_int_eq(ref->main->outputs.count, n->main->outputs.count);
    for (int o = 0; o < ref->main->outputs.count; o++) {
        const ir_tensor *a = ref->main->outputs.items[o], *b = n->main->outputs.items[o];
        ck_assert_str_eq(a->name, b->name);
        ck_assert(ir_tensor_is_const(a) && ir_tensor_is_const(b));
        ck_assert_int_eq(a->dtype, F32);
        ck_assert_int_eq(b->dtype, F32);
        ck_assert_uint_eq(a->nbytes, b->nbytes);
        ck_assert_uint_gt(a->nbytes, 0);
        const float *x = a->data, *y = b->data;
        for (size_t i = 0; i < a->nbytes / 4; i++) {
            double tol = 1e-5 * fmax(1.0, fabs((double)x[i]));
            ck_assert_msg(fabs((double)x[i] - (double)y[i]) <= tol,
                          "output '%s' element %zu: %.9g unfolded, %.9g folded", a->name, i,
                          (double)x[i], (double)y[i]);
        }
    }
}

/* ---------------------------------------------------------------- Conv + BatchNormalization */

typedef struct conv_case {
    int spatial; /* 1 or 2 */
    int64_t batch, cin, cout, size, kernel, group;
    int with_bias;
    int relu_after; /* a Relu reads the BatchNormalization's output; its output is the graph's */
    int bn_outputs; /* 1, or 3 from opset 14 (running statistics nobody reads) */
    int64_t opset;
    float eps; /* 0: the default */
} conv_case;

typedef struct built {
    o2p_layer *conv, *bn;
    o2p_tensor *weight, *y; /* y: the BatchNormalization's output */
} built;

static built build_conv(o2p_network *n, const conv_case *c)
{
    uint64_t state = 0x9e3779b97f4a7c15ull;
    built b;
    int64_t xd[2 + 2], wd[2 + 2];
    int rank = 2 + c->spatial;
    xd[0] = c->batch;
    xd[1] = c->cin;
    wd[0] = c->cout;
    wd[1] = c->cin / c->group;
    for (int i = 0; i < c->spatial; i++) {
        xd[2 + i] = c->size + i;
        wd[2 + i] = c->kernel;
    }
    o2p_tensor *x = crand(n, "x", rank, xd, -1.0f, 1.0f, &state);
    b.weight = crand(n, "w", rank, wd, -0.5f, 0.5f, &state);
    o2p_tensor *bias = c->with_bias ? crand(n, "b", 1, D(c->cout), -1.0f, 1.0f, &state) : NULL;
    b.conv = op(n, "Conv", "conv", c->with_bias ? 3 : 2, T(x, b.weight, bias), 1);
    int64_t pads[4] = {1, 1, 1, 1};
    TU_ASSERT_STATUS(o2p_layer_set_attr_ints(b.conv, "pads", pads, 2 * c->spatial), O2P_OK);
    if (c->group != 1)
        TU_ASSERT_STATUS(o2p_layer_set_attr_int(b.conv, "group", c->group), O2P_OK);
    b.bn = batchnorm(n, "bn", out(b.conv, 0), c->cout, c->bn_outputs, &state);
    if (c->eps != 0.0f)
        TU_ASSERT_STATUS(o2p_layer_set_attr_float(b.bn, "epsilon", c->eps), O2P_OK);
    if (c->bn_outputs > 1 && c->opset >= 14)
        TU_ASSERT_STATUS(o2p_layer_set_attr_int(b.bn, "training_mode", 0), O2P_OK);
    b.y = out(b.bn, 0);
    if (c->relu_after)
        mark(n, out(op(n, "Relu", "relu", 1, T(b.y), 1), 0));
    else
        mark(n, b.y);
    return b;
}

static void check_conv_fold(const conv_case *c)
{
    o2p_network *ref = net_new(c->opset), *n = net_new(c->opset);
    build_conv(ref, c);
    built b = build_conv(n, c);
    infer_ok(n);
    int layers = n->main->layers.count, folded = -1;
    const void *w_data = b.weight->data;
    TU_ASSERT_STATUS(pass_fold_batchnorm(n, &folded), O2P_OK);
    ck_assert_int_eq(folded, 1);
    ck_assert_int_eq(n->main->layers.count, layers - 1);
    ck_assert_int_eq(count_op(n, "BatchNormalization"), 0);
    /* the Conv now writes the BatchNormalization's output, from new weights and a bias */
    ck_assert_ptr_eq(out(b.conv, 0), b.y);
    ck_assert_ptr_eq(b.y->producer, b.conv);
    ck_assert_int_eq(b.conv->num_inputs, 3);
    ck_assert_str_eq(b.conv->inputs[1]->name, "conv.folded_weight");
    ck_assert_str_eq(b.conv->inputs[2]->name, "conv.folded_bias");
    ck_assert_ptr_eq(b.weight->data, w_data);
    if (!c->relu_after)
        ck_assert_ptr_eq(n->main->outputs.items[0], b.y);
    same_outputs(ref, n);
    o2p_network_destroy(ref);
    o2p_network_destroy(n);
}

START_TEST(test_fold_conv2d_bias)
{
    conv_case c = {2, 2, 3, 4, 5, 3, 1, 1, 0, 1, 17, 0.0f};
    check_conv_fold(&c);
}
END_TEST

START_TEST(test_fold_conv2d_no_bias_relu_after)
{
    conv_case c = {2, 1, 3, 5, 6, 3, 1, 0, 1, 1, 13, 1e-3f};
    check_conv_fold(&c);
}
END_TEST

START_TEST(test_fold_conv2d_groups)
{
    conv_case c = {2, 2, 4, 6, 5, 3, 2, 1, 0, 1, 17, 0.0f};
    check_conv_fold(&c);
    conv_case depthwise = {2, 1, 4, 4, 5, 3, 4, 0, 1, 1, 11, 0.0f};
    check_conv_fold(&depthwise);
}
END_TEST

START_TEST(test_fold_conv1d)
{
    conv_case c = {1, 2, 3, 5, 7, 3, 1, 1, 0, 1, 17, 0.0f};
    check_conv_fold(&c);
    conv_case no_bias = {1, 1, 2, 3, 6, 1, 1, 0, 0, 1, 9, 0.0f};
    check_conv_fold(&no_bias);
}
END_TEST

/* From opset 14 the running statistics outputs may be there, with training_mode 0, as long
 * as nothing reads them. */
START_TEST(test_fold_conv_unused_statistics)
{
    conv_case c = {2, 1, 2, 3, 4, 3, 1, 1, 0, 3, 15, 0.0f};
    check_conv_fold(&c);
}
END_TEST

/* Two Conv + BatchNormalization chains and a third Conv share one weight tensor: both chains
 * fold, the shared weights are not touched, and a name already taken is not reused. */
START_TEST(test_fold_shared_weights)
{
    o2p_network *nets[2];
    built b[2];
    o2p_layer *plain[2];
    for (int k = 0; k < 2; k++) {
        uint64_t state = 42;
        o2p_network *n = nets[k] = net_new(17);
        o2p_tensor *x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
        o2p_tensor *w = crand(n, "w", 4, D(3, 2, 3, 3), -0.5f, 0.5f, &state);
        crand(n, "conv1.folded_weight", 1, D(1), 0.0f, 1.0f, &state);
        o2p_layer *c1 = op(n, "Conv", "conv1", 2, T(x, w), 1);
        o2p_layer *c2 = op(n, "Conv", "conv2", 2, T(x, w), 1);
        plain[k] = op(n, "Conv", "conv3", 2, T(x, w), 1);
        o2p_layer *bn1 = batchnorm(n, "bn1", out(c1, 0), 3, 1, &state);
        o2p_layer *bn2 = batchnorm(n, "bn2", out(c2, 0), 3, 1, &state);
        mark(n, out(bn1, 0));
        mark(n, out(bn2, 0));
        mark(n, out(plain[k], 0));
        b[k] = (built){c1, bn1, w, out(bn1, 0)};
        (void)c2;
    }
    o2p_network *n = nets[1];
    infer_ok(n);
    size_t wbytes = b[1].weight->nbytes;
    void *wcopy = malloc(wbytes);
    ck_assert_ptr_nonnull(wcopy);
    memcpy(wcopy, b[1].weight->data, wbytes);
    int folded = -1;
    TU_ASSERT_STATUS(pass_fold_batchnorm(n, &folded), O2P_OK);
    ck_assert_int_eq(folded, 2);
    ck_assert_int_eq(count_op(n, "BatchNormalization"), 0);
    ck_assert_int_eq(memcmp(wcopy, b[1].weight->data, wbytes), 0);
    ck_assert_ptr_eq(plain[1]->inputs[1], b[1].weight);
    ck_assert_str_eq(b[1].conv->inputs[1]->name, "conv1.folded_weight_1");
    ck_assert_ptr_ne(b[1].conv->inputs[1], b[1].weight);
    free(wcopy);
    same_outputs(nets[0], n);
    o2p_network_destroy(nets[0]);
    o2p_network_destroy(nets[1]);
}
END_TEST

/* ---------------------------------------------------------------- Gemm + BatchNormalization */

enum { C_NONE, C_N, C_1N, C_SCALAR, C_ONE, C_11, C_MN };

typedef struct gemm_case {
    int64_t M, K, N;
    int trans_a, trans_b;
    float alpha, beta; /* 1: attribute left out */
    int c_shape;
    int64_t opset;
    int spatial0; /* BatchNormalization spatial = 0 (opset < 9): per element, same for 2-D */
} gemm_case;

static built build_gemm(o2p_network *n, const gemm_case *c)
{
    uint64_t state = 7;
    built b;
    o2p_tensor *a = c->trans_a ? crand(n, "a", 2, D(c->K, c->M), -1.0f, 1.0f, &state)
                               : crand(n, "a", 2, D(c->M, c->K), -1.0f, 1.0f, &state);
    b.weight = c->trans_b ? crand(n, "w", 2, D(c->N, c->K), -0.5f, 0.5f, &state)
                          : crand(n, "w", 2, D(c->K, c->N), -0.5f, 0.5f, &state);
    o2p_tensor *cc = NULL;
    switch (c->c_shape) {
    case C_N: cc = crand(n, "c", 1, D(c->N), -1.0f, 1.0f, &state); break;
    case C_1N: cc = crand(n, "c", 2, D(1, c->N), -1.0f, 1.0f, &state); break;
    case C_SCALAR: cc = crand(n, "c", 0, NULL, -1.0f, 1.0f, &state); break;
    case C_ONE: cc = crand(n, "c", 1, D(1), -1.0f, 1.0f, &state); break;
    case C_11: cc = crand(n, "c", 2, D(1, 1), -1.0f, 1.0f, &state); break;
    case C_MN: cc = crand(n, "c", 2, D(c->M, c->N), -1.0f, 1.0f, &state); break;
    default: break;
    }
    b.conv = op(n, "Gemm", "gemm", cc ? 3 : 2, T(a, b.weight, cc), 1);
    if (c->trans_a)
        TU_ASSERT_STATUS(o2p_layer_set_attr_int(b.conv, "transA", 1), O2P_OK);
    if (c->trans_b)
        TU_ASSERT_STATUS(o2p_layer_set_attr_int(b.conv, "transB", 1), O2P_OK);
    if (c->alpha != 1.0f)
        TU_ASSERT_STATUS(o2p_layer_set_attr_float(b.conv, "alpha", c->alpha), O2P_OK);
    if (c->beta != 1.0f)
        TU_ASSERT_STATUS(o2p_layer_set_attr_float(b.conv, "beta", c->beta), O2P_OK);
    b.bn = batchnorm(n, "bn", out(b.conv, 0), c->N, 1, &state);
    if (c->spatial0)
        TU_ASSERT_STATUS(o2p_layer_set_attr_int(b.bn, "spatial", 0), O2P_OK);
    b.y = out(b.bn, 0);
    mark(n, out(op(n, "Sigmoid", "sigmoid", 1, T(b.y), 1), 0));
    return b;
}

static void check_gemm_fold(const gemm_case *c)
{
    o2p_network *ref = net_new(c->opset), *n = net_new(c->opset);
    build_gemm(ref, c);
    built b = build_gemm(n, c);
    infer_ok(n);
    int folded = -1;
    TU_ASSERT_STATUS(pass_fold_batchnorm(n, &folded), O2P_OK);
    ck_assert_int_eq(folded, 1);
    ck_assert_int_eq(count_op(n, "BatchNormalization"), 0);
    ck_assert_ptr_eq(out(b.conv, 0), b.y);
    ck_assert_ptr_eq(b.y->producer, b.conv);
    ck_assert_int_eq(b.conv->num_inputs, 3);
    ck_assert_str_eq(b.conv->inputs[1]->name, "gemm.folded_weight");
    ck_assert_str_eq(b.conv->inputs[2]->name, "gemm.folded_bias");
    ck_assert_float_eq(ir_attr_float(b.conv, "beta", 0.0f), 1.0f);
    ck_assert_float_eq(ir_attr_float(b.conv, "alpha", 1.0f), c->alpha);
    /* before opset 7 the new C of shape [N] needs broadcast = 1 */
    if (c->opset < 7)
        ck_assert_int_eq(ir_attr_int(b.conv, "broadcast", 0), 1);
    same_outputs(ref, n);
    o2p_network_destroy(ref);
    o2p_network_destroy(n);
}

START_TEST(test_fold_gemm)
{
    static const gemm_case cases[] = {
        {3, 4, 5, 0, 0, 1.0f, 1.0f, C_N, 17, 0},
        {3, 4, 5, 0, 1, 1.0f, 1.0f, C_N, 17, 0},
        {3, 4, 5, 0, 0, 0.7f, 1.3f, C_N, 17, 0},
        {3, 4, 5, 0, 1, 1.5f, -0.6f, C_1N, 13, 0},
        {2, 6, 4, 1, 1, 0.5f, 2.0f, C_SCALAR, 17, 0},
        {2, 6, 4, 1, 0, 1.0f, 0.25f, C_ONE, 11, 0},
        {4, 3, 2, 0, 1, 1.0f, 3.0f, C_11, 17, 0},
        {3, 4, 5, 0, 0, 1.0f, 1.0f, C_NONE, 17, 0},
        {3, 4, 5, 0, 1, 2.5f, 1.0f, C_NONE, 17, 0},
        {3, 4, 5, 1, 0, 0.3f, 0.0f, C_N, 17, 0}, /* beta 0: C ignored */
        {1, 8, 6, 0, 1, 1.0f, 1.0f, C_N, 9, 0},
        {3, 4, 5, 0, 1, 1.0f, 1.0f, C_N, 8, 1},
        {3, 4, 5, 0, 0, 0.5f, 1.0f, C_NONE, 6, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_gemm_fold(&cases[i]);
}
END_TEST

/* ---------------------------------------------------------------- what must not fold */

/* The layers' op types, inputs and outputs, to check that a pass left them alone. */
typedef struct snapshot {
    int count;
    const char *op_type[16];
    int num_inputs[16];
    ir_tensor *inputs[16][8];
    ir_tensor *outputs[16][8];
} snapshot;

static void take(o2p_network *n, snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->count = n->main->layers.count;
    ck_assert_int_le(s->count, 16);
    for (int i = 0; i < s->count; i++) {
        const ir_layer *l = n->main->layers.items[i];
        s->op_type[i] = l->op_type;
        s->num_inputs[i] = l->num_inputs;
        for (int k = 0; k < l->num_inputs && k < 8; k++)
            s->inputs[i][k] = l->inputs[k];
        for (int k = 0; k < l->num_outputs && k < 8; k++)
            s->outputs[i][k] = l->outputs[k];
    }
}

/* Runs the pass and expects nothing folded and nothing changed. */
static void no_fold(o2p_network *n, const char *why)
{
    snapshot before, after;
    take(n, &before);
    int folded = -1;
    TU_ASSERT_STATUS(pass_fold_batchnorm(n, &folded), O2P_OK);
    ck_assert_msg(folded == 0, "%s: %d folded", why, folded);
    take(n, &after);
    ck_assert_msg(memcmp(&before, &after, sizeof before) == 0, "%s: the layers changed", why);
    ck_assert_int_eq(count_op(n, "BatchNormalization"), 1);
    o2p_network_destroy(n);
}

START_TEST(test_no_fold_input_read_elsewhere)
{
    conv_case c = {2, 1, 2, 3, 4, 3, 1, 1, 0, 1, 17, 0.0f};
    o2p_network *n = net_new(17);
    built b = build_conv(n, &c);
    mark(n, out(op(n, "Relu", "side", 1, T(out(b.conv, 0)), 1), 0));
    infer_ok(n);
    no_fold(n, "Conv output also read by a Relu");

    n = net_new(17);
    b = build_conv(n, &c);
    mark(n, out(b.conv, 0));
    infer_ok(n);
    no_fold(n, "Conv output also a graph output");

    /* a layer of a subgraph reading the Conv output counts too */
    n = net_new(17);
    b = build_conv(n, &c);
    o2p_graph *then_g, *else_g;
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(G(n), "then", &then_g), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(G(n), "else", &else_g), O2P_OK);
    o2p_layer *t = NULL, *e = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_layer(then_g, "", "Identity", "t", 1, T(out(b.conv, 0)), 1, &t),
                     O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_add_layer(else_g, "", "Identity", "e", 1, T(b.y), 1, &e), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_mark_output(then_g, out(t, 0)), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_mark_output(else_g, out(e, 0)), O2P_OK);
    uint8_t yes = 1;
    o2p_tensor *cond = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_constant(G(n), "cond", O2P_DTYPE_BOOL, 0, NULL, &yes, 1, &cond),
                     O2P_OK);
    o2p_layer *iff = op(n, "If", "if", 1, T(cond), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(iff, "then_branch", then_g), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(iff, "else_branch", else_g), O2P_OK);
    mark(n, out(iff, 0));
    infer_ok(n);
    no_fold(n, "Conv output read in a subgraph");
}
END_TEST

START_TEST(test_no_fold_non_constant)
{
    uint64_t state = 1;
    /* scale is a graph input */
    o2p_network *n = net_new(17);
    o2p_tensor *x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
    o2p_tensor *w = crand(n, "w", 4, D(3, 2, 3, 3), -1.0f, 1.0f, &state);
    o2p_layer *conv = op(n, "Conv", "conv", 2, T(x, w), 1);
    o2p_tensor *p = crand(n, "p", 1, D(3), 0.5f, 1.0f, &state);
    o2p_layer *bn = op(n, "BatchNormalization", "bn", 5,
                       T(out(conv, 0), input(n, "scale", F32, 1, D(3)), p, p, p), 1);
    mark(n, out(bn, 0));
    infer_ok(n);
    no_fold(n, "scale is not a constant");

    /* the weights are a graph input */
    n = net_new(17);
    x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
    conv = op(n, "Conv", "conv", 2, T(x, input(n, "w", F32, 4, D(3, 2, 3, 3))), 1);
    p = crand(n, "p", 1, D(3), 0.5f, 1.0f, &state);
    mark(n, out(op(n, "BatchNormalization", "bn", 5, T(out(conv, 0), p, p, p, p), 1), 0));
    infer_ok(n);
    no_fold(n, "W is not a constant");

    /* the Conv bias is a graph input */
    n = net_new(17);
    x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
    w = crand(n, "w", 4, D(3, 2, 3, 3), -1.0f, 1.0f, &state);
    conv = op(n, "Conv", "conv", 3, T(x, w, input(n, "b", F32, 1, D(3))), 1);
    p = crand(n, "p", 1, D(3), 0.5f, 1.0f, &state);
    mark(n, out(op(n, "BatchNormalization", "bn", 5, T(out(conv, 0), p, p, p, p), 1), 0));
    infer_ok(n);
    no_fold(n, "the Conv bias is not a constant");

    /* Gemm's C is a graph input */
    n = net_new(17);
    x = crand(n, "x", 2, D(2, 3), -1.0f, 1.0f, &state);
    w = crand(n, "w", 2, D(3, 4), -1.0f, 1.0f, &state);
    o2p_layer *gemm = op(n, "Gemm", "gemm", 3, T(x, w, input(n, "c", F32, 1, D(4))), 1);
    p = crand(n, "p", 1, D(4), 0.5f, 1.0f, &state);
    mark(n, out(op(n, "BatchNormalization", "bn", 5, T(out(gemm, 0), p, p, p, p), 1), 0));
    infer_ok(n);
    no_fold(n, "C is not a constant");
}
END_TEST

START_TEST(test_no_fold_training)
{
    conv_case c = {2, 1, 2, 3, 4, 3, 1, 1, 0, 1, 17, 0.0f};
    o2p_network *n = net_new(17);
    built b = build_conv(n, &c);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(b.bn, "training_mode", 1), O2P_OK);
    infer_ok(n);
    no_fold(n, "training_mode = 1");

    /* opset 14+: a running statistic that something reads */
    conv_case three = {2, 1, 2, 3, 4, 3, 1, 1, 0, 3, 17, 0.0f};
    n = net_new(17);
    b = build_conv(n, &three);
    mark(n, out(b.bn, 1));
    infer_ok(n);
    no_fold(n, "running mean is a graph output");

    n = net_new(17);
    b = build_conv(n, &three);
    mark(n, out(op(n, "Neg", "neg", 1, T(out(b.bn, 2)), 1), 0));
    infer_ok(n);
    no_fold(n, "running var is read");

    /* before opset 14, the statistics outputs mean training mode */
    conv_case old = {2, 1, 2, 3, 4, 3, 1, 1, 0, 5, 9, 0.0f};
    n = net_new(9);
    build_conv(n, &old);
    infer_ok(n);
    no_fold(n, "opset 9 with five outputs");

    /* opset 7 spatial = 0: one parameter per channel and position */
    conv_case spatial = {2, 1, 2, 3, 4, 3, 1, 1, 0, 1, 7, 0.0f};
    n = net_new(7);
    b = build_conv(n, &spatial);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(b.bn, "spatial", 0), O2P_OK);
    no_fold(n, "spatial = 0 after a Conv");
}
END_TEST

START_TEST(test_no_fold_not_after_conv)
{
    uint64_t state = 3;
    o2p_network *n = net_new(17);
    o2p_tensor *x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
    o2p_tensor *w = crand(n, "w", 4, D(3, 2, 3, 3), -1.0f, 1.0f, &state);
    o2p_layer *conv = op(n, "Conv", "conv", 2, T(x, w), 1);
    o2p_layer *relu = op(n, "Relu", "relu", 1, T(out(conv, 0)), 1);
    mark(n, out(batchnorm(n, "bn", out(relu, 0), 3, 1, &state), 0));
    infer_ok(n);
    no_fold(n, "BatchNormalization after a Relu");

    /* straight on a graph input */
    n = net_new(17);
    x = input(n, "x", F32, 4, D(1, 3, 4, 4));
    mark(n, out(batchnorm(n, "bn", x, 3, 1, &state), 0));
    infer_ok(n);
    no_fold(n, "BatchNormalization on a graph input");

    /* a Conv of another domain */
    n = net_new(17);
    TU_ASSERT_STATUS(o2p_network_set_opset(n, "com.example", 1), O2P_OK);
    x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
    w = crand(n, "w", 4, D(3, 2, 3, 3), -1.0f, 1.0f, &state);
    TU_ASSERT_STATUS(o2p_graph_add_layer(G(n), "com.example", "Conv", "conv", 2, T(x, w), 1, &conv),
                     O2P_OK);
    mark(n, out(batchnorm(n, "bn", out(conv, 0), 3, 1, &state), 0));
    no_fold(n, "Conv of another domain");
}
END_TEST

/* Shapes, sizes and types that do not fit: the pass must leave them alone without reading
 * out of bounds (the IR may come from a hostile model; no inference runs here to tidy up). */
START_TEST(test_no_fold_mismatch)
{
    uint64_t state = 5;
    /* BatchNormalization over 4 channels after a Conv with 3 */
    o2p_network *n = net_new(17);
    o2p_tensor *x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
    o2p_tensor *w = crand(n, "w", 4, D(3, 2, 3, 3), -1.0f, 1.0f, &state);
    o2p_layer *conv = op(n, "Conv", "conv", 2, T(x, w), 1);
    mark(n, out(batchnorm(n, "bn", out(conv, 0), 4, 1, &state), 0));
    no_fold(n, "4 BatchNormalization channels, 3 Conv output channels");

    /* one parameter with 2 values */
    n = net_new(17);
    x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
    w = crand(n, "w", 4, D(3, 2, 3, 3), -1.0f, 1.0f, &state);
    conv = op(n, "Conv", "conv", 2, T(x, w), 1);
    o2p_tensor *p3 = crand(n, "p3", 1, D(3), 0.5f, 1.0f, &state);
    o2p_tensor *p2 = crand(n, "p2", 1, D(2), 0.5f, 1.0f, &state);
    mark(n, out(op(n, "BatchNormalization", "bn", 5, T(out(conv, 0), p3, p3, p2, p3), 1), 0));
    no_fold(n, "mean has 2 values for 3 channels");

    /* parameters of shape [1, 3] after a Conv */
    n = net_new(17);
    x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
    w = crand(n, "w", 4, D(3, 2, 3, 3), -1.0f, 1.0f, &state);
    conv = op(n, "Conv", "conv", 2, T(x, w), 1);
    o2p_tensor *p13 = crand(n, "p13", 2, D(1, 3), 0.5f, 1.0f, &state);
    mark(n, out(op(n, "BatchNormalization", "bn", 5, T(out(conv, 0), p13, p13, p13, p13), 1), 0));
    no_fold(n, "parameters of rank 2");

    /* weights whose byte count does not match their shape */
    n = net_new(17);
    x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
    w = crand(n, "w", 4, D(3, 2, 3, 3), -1.0f, 1.0f, &state);
    w->nbytes -= 4;
    conv = op(n, "Conv", "conv", 2, T(x, w), 1);
    mark(n, out(batchnorm(n, "bn", out(conv, 0), 3, 1, &state), 0));
    no_fold(n, "W short by one element");

    /* a scale whose byte count is short */
    n = net_new(17);
    x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
    w = crand(n, "w", 4, D(3, 2, 3, 3), -1.0f, 1.0f, &state);
    conv = op(n, "Conv", "conv", 2, T(x, w), 1);
    o2p_layer *bn = batchnorm(n, "bn", out(conv, 0), 3, 1, &state);
    bn->inputs[1]->nbytes = 8;
    mark(n, out(bn, 0));
    no_fold(n, "scale short by one element");

    /* a Conv bias with 2 values for 3 channels */
    n = net_new(17);
    x = crand(n, "x", 4, D(1, 2, 4, 4), -1.0f, 1.0f, &state);
    w = crand(n, "w", 4, D(3, 2, 3, 3), -1.0f, 1.0f, &state);
    conv = op(n, "Conv", "conv", 3, T(x, w, crand(n, "b", 1, D(2), 0.0f, 1.0f, &state)), 1);
    mark(n, out(batchnorm(n, "bn", out(conv, 0), 3, 1, &state), 0));
    no_fold(n, "Conv bias of 2 values");

    /* double precision */
    n = net_new(17);
    double xd[32] = {0}, wd[54] = {0}, pd[3] = {1, 1, 1};
    o2p_tensor *xt, *wt, *pt;
    TU_ASSERT_STATUS(
        o2p_graph_add_constant(G(n), "x", O2P_DTYPE_DOUBLE, 4, D(1, 2, 4, 4), xd, sizeof xd, &xt),
        O2P_OK);
    TU_ASSERT_STATUS(
        o2p_graph_add_constant(G(n), "w", O2P_DTYPE_DOUBLE, 4, D(3, 2, 3, 3), wd, sizeof wd, &wt),
        O2P_OK);
    TU_ASSERT_STATUS(
        o2p_graph_add_constant(G(n), "p", O2P_DTYPE_DOUBLE, 1, D(3), pd, sizeof pd, &pt), O2P_OK);
    conv = op(n, "Conv", "conv", 2, T(xt, wt), 1);
    mark(n, out(op(n, "BatchNormalization", "bn", 5, T(out(conv, 0), pt, pt, pt, pt), 1), 0));
    infer_ok(n);
    no_fold(n, "double precision");

    /* Gemm C of shape [M, N]: not one value per column */
    gemm_case g = {3, 4, 5, 0, 0, 1.0f, 1.0f, C_MN, 17, 0};
    n = net_new(17);
    build_gemm(n, &g);
    infer_ok(n);
    no_fold(n, "C of shape [M, N]");

    /* Gemm with BatchNormalization over 4 columns for 5 */
    n = net_new(17);
    x = crand(n, "x", 2, D(2, 3), -1.0f, 1.0f, &state);
    w = crand(n, "w", 2, D(3, 5), -1.0f, 1.0f, &state);
    o2p_layer *gemm = op(n, "Gemm", "gemm", 2, T(x, w), 1);
    mark(n, out(batchnorm(n, "bn", out(gemm, 0), 4, 1, &state), 0));
    no_fold(n, "4 BatchNormalization channels, 5 Gemm columns");
}
END_TEST

/* ---------------------------------------------------------------- no-op and dead layers */

START_TEST(test_remove_noops)
{
    /* an Identity chain goes: the Relu reads x */
    o2p_network *n = net_new(17);
    o2p_tensor *x = input(n, "x", F32, 2, D(2, 3));
    o2p_layer *i1 = op(n, "Identity", "i1", 1, T(x), 1);
    o2p_layer *i2 = op(n, "Identity", "i2", 1, T(out(i1, 0)), 1);
    o2p_layer *relu = op(n, "Relu", "relu", 1, T(out(i2, 0)), 1);
    mark(n, out(relu, 0));
    infer_ok(n);
    int removed = -1;
    TU_ASSERT_STATUS(pass_remove_noops(n, &removed), O2P_OK);
    ck_assert_int_eq(removed, 2);
    ck_assert_int_eq(n->main->layers.count, 1);
    ck_assert_ptr_eq(relu->inputs[0], x);
    infer_ok(n);
    o2p_network_destroy(n);

    /* an Identity that produces a graph output stays; the one before it goes */
    n = net_new(17);
    x = input(n, "x", F32, 2, D(2, 3));
    i1 = op(n, "Identity", "i1", 1, T(x), 1);
    i2 = op(n, "Identity", "i2", 1, T(out(i1, 0)), 1);
    mark(n, out(i2, 0));
    infer_ok(n);
    TU_ASSERT_STATUS(pass_remove_noops(n, &removed), O2P_OK);
    ck_assert_int_eq(removed, 1);
    ck_assert_int_eq(n->main->layers.count, 1);
    ck_assert_ptr_eq(n->main->layers.items[0], i2);
    ck_assert_ptr_eq(i2->inputs[0], x);
    ck_assert_ptr_eq(o2p_graph_get_output(G(n), 0), out(i2, 0));
    o2p_network_destroy(n);

    /* Dropout whose mask is read stays; Dropout with an unused mask goes */
    n = net_new(17);
    x = input(n, "x", F32, 2, D(2, 3));
    o2p_layer *d1 = op(n, "Dropout", "d1", 1, T(x), 2);
    o2p_layer *d2 = op(n, "Dropout", "d2", 1, T(out(d1, 0)), 2);
    relu = op(n, "Relu", "relu", 1, T(out(d2, 0)), 1);
    mark(n, out(relu, 0));
    mark(n, out(op(n, "Not", "not", 1, T(out(d1, 1)), 1), 0));
    infer_ok(n);
    TU_ASSERT_STATUS(pass_remove_noops(n, &removed), O2P_OK);
    ck_assert_int_eq(removed, 1);
    ck_assert_int_eq(count_op(n, "Dropout"), 1);
    ck_assert_ptr_eq(n->main->layers.items[0], d1);
    ck_assert_ptr_eq(relu->inputs[0], out(d1, 0));
    o2p_network_destroy(n);

    /* Dropout whose mask is a graph output stays */
    n = net_new(17);
    x = input(n, "x", F32, 2, D(2, 3));
    d1 = op(n, "Dropout", "d1", 1, T(x), 2);
    mark(n, out(op(n, "Relu", "relu", 1, T(out(d1, 0)), 1), 0));
    mark(n, out(d1, 1));
    infer_ok(n);
    TU_ASSERT_STATUS(pass_remove_noops(n, &removed), O2P_OK);
    ck_assert_int_eq(removed, 0);
    ck_assert_int_eq(n->main->layers.count, 2);
    o2p_network_destroy(n);

    /* an Identity read inside a subgraph: the subgraph's layer reads x afterwards */
    n = net_new(17);
    x = input(n, "x", F32, 2, D(2, 3));
    i1 = op(n, "Identity", "i1", 1, T(x), 1);
    o2p_graph *then_g, *else_g;
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(G(n), "then", &then_g), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(G(n), "else", &else_g), O2P_OK);
    o2p_layer *t = NULL, *e = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_layer(then_g, "", "Neg", "t", 1, T(out(i1, 0)), 1, &t), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_add_layer(else_g, "", "Abs", "e", 1, T(out(i1, 0)), 1, &e), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_mark_output(then_g, out(t, 0)), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_mark_output(else_g, out(e, 0)), O2P_OK);
    o2p_layer *iff = op(n, "If", "if", 1, T(input(n, "cond", O2P_DTYPE_BOOL, 0, NULL)), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(iff, "then_branch", then_g), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(iff, "else_branch", else_g), O2P_OK);
    mark(n, out(iff, 0));
    infer_ok(n);
    TU_ASSERT_STATUS(pass_remove_noops(n, &removed), O2P_OK);
    ck_assert_int_eq(removed, 1);
    ck_assert_ptr_eq(t->inputs[0], x);
    ck_assert_ptr_eq(e->inputs[0], x);
    infer_ok(n);
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_remove_dead)
{
    /* x -> Exp -> Relu -> output; x -> Sigmoid -> Neg (nobody reads it); Exp -> Abs (nor it) */
    o2p_network *n = net_new(17);
    o2p_tensor *x = input(n, "x", F32, 2, D(2, 3));
    o2p_layer *exp_l = op(n, "Exp", "exp", 1, T(x), 1);
    o2p_layer *sig = op(n, "Sigmoid", "sig", 1, T(x), 1);
    op(n, "Neg", "neg", 1, T(out(sig, 0)), 1);
    op(n, "Abs", "abs", 1, T(out(exp_l, 0)), 1);
    o2p_layer *relu = op(n, "Relu", "relu", 1, T(out(exp_l, 0)), 1);
    mark(n, out(relu, 0));
    infer_ok(n);
    int removed = -1;
    TU_ASSERT_STATUS(pass_remove_dead(n, &removed), O2P_OK);
    ck_assert_int_eq(removed, 3);
    ck_assert_int_eq(n->main->layers.count, 2);
    ck_assert_ptr_eq(n->main->layers.items[0], exp_l);
    ck_assert_ptr_eq(n->main->layers.items[1], relu);
    ck_assert_int_eq(exp_l->index, 0);
    ck_assert_int_eq(relu->index, 1);
    o2p_network_destroy(n);

    /* nothing dead: a layer with one output read and one not stays whole */
    n = net_new(17);
    x = input(n, "x", F32, 2, D(2, 3));
    o2p_layer *d = op(n, "Dropout", "d", 1, T(x), 2);
    mark(n, out(op(n, "Relu", "relu", 1, T(out(d, 0)), 1), 0));
    infer_ok(n);
    TU_ASSERT_STATUS(pass_remove_dead(n, &removed), O2P_OK);
    ck_assert_int_eq(removed, 0);
    ck_assert_int_eq(n->main->layers.count, 2);
    o2p_network_destroy(n);

    /* a layer read only inside a subgraph is live */
    n = net_new(17);
    x = input(n, "x", F32, 2, D(2, 3));
    sig = op(n, "Sigmoid", "sig", 1, T(x), 1);
    o2p_graph *then_g, *else_g;
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(G(n), "then", &then_g), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(G(n), "else", &else_g), O2P_OK);
    o2p_layer *t = NULL, *e = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_layer(then_g, "", "Neg", "t", 1, T(out(sig, 0)), 1, &t), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_add_layer(else_g, "", "Abs", "e", 1, T(x), 1, &e), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_mark_output(then_g, out(t, 0)), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_mark_output(else_g, out(e, 0)), O2P_OK);
    o2p_layer *iff = op(n, "If", "if", 1, T(input(n, "cond", O2P_DTYPE_BOOL, 0, NULL)), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(iff, "then_branch", then_g), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(iff, "else_branch", else_g), O2P_OK);
    mark(n, out(iff, 0));
    infer_ok(n);
    TU_ASSERT_STATUS(pass_remove_dead(n, &removed), O2P_OK);
    ck_assert_int_eq(removed, 0);
    ck_assert_int_eq(n->main->layers.count, 2);
    o2p_network_destroy(n);
}
END_TEST

/* The passes in the builder's order on one network: constant folding, BatchNormalization
 * folding, no-op and dead-layer removal; the result still computes the same thing. */
START_TEST(test_passes_together)
{
    o2p_network *nets[2];
    for (int k = 0; k < 2; k++) {
        uint64_t state = 11;
        o2p_network *n = nets[k] = net_new(17);
        o2p_tensor *x = crand(n, "x", 4, D(1, 2, 8, 8), -1.0f, 1.0f, &state);
        o2p_tensor *w = crand(n, "w", 4, D(4, 2, 3, 3), -0.5f, 0.5f, &state);
        o2p_layer *id = op(n, "Identity", "id", 1, T(w), 1);
        o2p_layer *conv = op(n, "Conv", "conv", 2, T(x, out(id, 0)), 1);
        o2p_layer *bn = batchnorm(n, "bn", out(conv, 0), 4, 1, &state);
        o2p_layer *drop = op(n, "Dropout", "drop", 1, T(out(bn, 0)), 1);
        op(n, "Sigmoid", "unused", 1, T(out(bn, 0)), 1);
        mark(n, out(op(n, "Relu", "relu", 1, T(out(drop, 0)), 1), 0));
    }
    o2p_network *n = nets[1];
    infer_ok(n);
    /* a limit that folds the Identity on the weights (288 bytes) and nothing after it */
    TU_ASSERT_STATUS(pass_fold_constants(n, 4 * 2 * 3 * 3 * 4, NULL), O2P_OK);
    int folded = -1, noops = -1, dead = -1;
    TU_ASSERT_STATUS(pass_fold_batchnorm(n, &folded), O2P_OK);
    TU_ASSERT_STATUS(pass_remove_noops(n, &noops), O2P_OK);
    TU_ASSERT_STATUS(pass_remove_dead(n, &dead), O2P_OK);
    ck_assert_int_eq(folded, 1);
    ck_assert_int_eq(noops, 1);
    ck_assert_int_eq(dead, 1);
    ck_assert_int_eq(n->main->layers.count, 2); /* Conv, Relu */
    same_outputs(nets[0], n);
    o2p_network_destroy(nets[0]);
    o2p_network_destroy(nets[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("passes");
    TCase *bn = tcase_create("batchnorm");
    tcase_add_test(bn, test_fold_conv2d_bias);
    tcase_add_test(bn, test_fold_conv2d_no_bias_relu_after);
    tcase_add_test(bn, test_fold_conv2d_groups);
    tcase_add_test(bn, test_fold_conv1d);
    tcase_add_test(bn, test_fold_conv_unused_statistics);
    tcase_add_test(bn, test_fold_shared_weights);
    tcase_add_test(bn, test_fold_gemm);
    tcase_add_test(bn, test_no_fold_input_read_elsewhere);
    tcase_add_test(bn, test_no_fold_non_constant);
    tcase_add_test(bn, test_no_fold_training);
    tcase_add_test(bn, test_no_fold_not_after_conv);
    tcase_add_test(bn, test_no_fold_mismatch);
    suite_add_tcase(s, bn);
    TCase *simplify = tcase_create("simplify");
    tcase_add_test(simplify, test_remove_noops);
    tcase_add_test(simplify, test_remove_dead);
    tcase_add_test(simplify, test_passes_together);
    suite_add_tcase(s, simplify);
    return tu_run_suite(s);
}
