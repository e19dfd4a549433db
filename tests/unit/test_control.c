/* test_control.c: control flow (If, Loop, Scan; docs/control-flow.md). Networks built by hand
 * go through the builder (build_engine_create), the ENGINE writer and the lean runtime: If
 * picks its branch at run time and its bodies read outer-scope tensors; Loop runs its trip
 * count with carried values (swapped ones too), the iteration number and stacked scan
 * outputs, its trip count from an input; Scan slices and stacks along axis 1 in reverse; an
 * If inside a Loop reads the main graph two scopes out; a dynamic trip count with scan
 * outputs is refused naming the layer; broken body records are refused at create; and on
 * the cuda target an If and a Loop run by host-side dispatch through the fake driver
 * (tests/fakecuda: device memory is host memory, copies run). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../testutil.h"
#include "builder/builder.h"
#include "ir/ir.h"
#include "lean/lean.h"
#include "lean/lean_abi.h"
#include "plan/engine_format.h"
#include "plan/engine_writer.h"

#define F32 O2P_DTYPE_FLOAT
#define I64 O2P_DTYPE_INT64
#define BOOL O2P_DTYPE_BOOL
#define T(...) ((o2p_tensor *const[]){__VA_ARGS__})
#define D(...) ((const int64_t[]){__VA_ARGS__})

/* ---------------------------------------------------------------- networks */

static o2p_network *net_new(void)
{
    o2p_network *n = NULL;
    TU_ASSERT_STATUS(o2p_network_create(&n), O2P_OK);
    TU_ASSERT_STATUS(o2p_network_set_opset(n, "", 13), O2P_OK);
    return n;
}

static o2p_graph *G(o2p_network *n)
{
    return o2p_network_get_graph(n);
}

static o2p_tensor *in_g(o2p_graph *g, const char *name, o2p_dtype t, int rank, const int64_t *dims)
{
    o2p_tensor *x = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_input(g, name, t, rank, dims, NULL, &x), O2P_OK);
    return x;
}

static o2p_tensor *const_g(o2p_graph *g, const char *name, o2p_dtype t, int rank,
                           const int64_t *dims, const void *v, size_t nbytes)
{
    o2p_tensor *c = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_constant(g, name, t, rank, dims, v, nbytes, &c), O2P_OK);
    return c;
}

static o2p_layer *op_g(o2p_graph *g, const char *op, const char *name, int nin,
                       o2p_tensor *const *ins, int nout)
{
    o2p_layer *l = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_layer(g, "", op, name, nin, ins, nout, &l), O2P_OK);
    return l;
}

static o2p_tensor *out(o2p_layer *l, int i)
{
    return o2p_layer_get_output(l, i);
}

static o2p_graph *subgraph(o2p_graph *g, const char *name)
{
    o2p_graph *s = NULL;
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(g, name, &s), O2P_OK);
    return s;
}

/* ---------------------------------------------------------------- engines */

static build_options host_opts(void)
{
    build_options o;
    memset(&o, 0, sizeof o);
    o.target = BUILD_TARGET_HOST;
    o.tactic_sources = O2P_TACTIC_SOURCE_BUILTIN;
    return o;
}

static build_options cuda_opts(void)
{
    build_options o = host_opts();
    o.target = BUILD_TARGET_CUDA;
    o.num_archs = 1;
    o.archs[0] = 90;
    o.allow_tf32 = 1;
    o.kernel_cache = ""; /* copies only: nothing to compile */
    return o;
}

/* The ENGINE section of the network built with opt (malloc'ed). */
static uint8_t *section_of(o2p_network *net, const build_options *opt, size_t *size)
{
    build_engine be;
    o2p_status st = build_engine_create(net, opt, &be);
    ck_assert_msg(st == O2P_OK, "build: %s", o2p_last_error());
    uint8_t *bytes = NULL;
    st = plan_write_engine(&be, &bytes, size);
    ck_assert_msg(st == O2P_OK, "write: %s", o2p_last_error());
    build_engine_free(&be);
    return bytes;
}

static lean_engine *engine_of(o2p_network *net, const build_options *opt)
{
    size_t size;
    uint8_t *bytes = section_of(net, opt, &size);
    lean_engine *e = NULL;
    o2p_status st = lean_engine_create(bytes, size, "control.plan", &e);
    ck_assert_msg(st == O2P_OK, "create: %s", o2p_last_error());
    free(bytes);
    return e;
}

typedef struct binding {
    const char *name;
    void *ptr;
} binding;

static void execute(const lean_engine *e, const binding *b, int n)
{
    lean_context *ctx = NULL;
    TU_ASSERT_STATUS(lean_context_create(e, &ctx), O2P_OK);
    for (int i = 0; i < n; i++)
        TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, b[i].name, b[i].ptr), O2P_OK);
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_OK);
    lean_context_destroy(ctx);
}

static void floats_eq(const float *got, const float *want, int n)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "element %d: %g, expected %g", i, got[i], want[i]);
}

/* ---------------------------------------------------------------- If */

static const float K_DATA[3] = {10, 20, 30};

/* y = cond ? x + x : x * k (k a constant of the else branch; both read x, an outer tensor) */
static o2p_network *if_net(void)
{
    o2p_network *n = net_new();
    o2p_tensor *cond = in_g(G(n), "cond", BOOL, 0, NULL);
    o2p_tensor *x = in_g(G(n), "x", F32, 1, D(3));
    o2p_graph *tg = subgraph(G(n), "then"), *eg = subgraph(G(n), "else");
    o2p_graph_mark_output(tg, out(op_g(tg, "Add", "twice", 2, T(x, x), 1), 0));
    o2p_tensor *k = const_g(eg, "k", F32, 1, D(3), K_DATA, sizeof K_DATA);
    o2p_graph_mark_output(eg, out(op_g(eg, "Mul", "scaled", 2, T(x, k), 1), 0));
    o2p_layer *l = op_g(G(n), "If", "if", 1, T(cond), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "then_branch", tg), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "else_branch", eg), O2P_OK);
    TU_ASSERT_STATUS(o2p_tensor_set_name(out(l, 0), "y"), O2P_OK);
    o2p_graph_mark_output(G(n), out(l, 0));
    return n;
}

START_TEST(test_if_host)
{
    o2p_network *n = if_net();
    build_options o = host_opts();
    lean_engine *e = engine_of(n, &o);
    /* the If, then each branch's layer; x, read inside, is one of the If's inputs too */
    ck_assert_int_eq(lean_engine_num_layers(e), 3);
    ck_assert_str_eq(lean_engine_layer_op_type(e, 0), "If");
    ck_assert_str_eq(lean_engine_layer_op_type(e, 1), "Add");
    ck_assert_str_eq(lean_engine_layer_op_type(e, 2), "Mul");
    ck_assert_str_eq(lean_engine_layer_tactic_kernel(e, 0), "control.If");
    ck_assert_int_eq(lean_engine_layer_num_inputs(e, 0), 2);
    ck_assert_str_eq(lean_engine_tensor_name(e, lean_engine_layer_input(e, 0, 1)), "x");
    float x[3] = {1, 2, 3}, y[3];
    uint8_t cond = 1;
    binding b[] = {{"cond", &cond}, {"x", x}, {"y", y}};
    execute(e, b, 3);
    floats_eq(y, (const float[]){2, 4, 6}, 3);
    cond = 0;
    execute(e, b, 3);
    floats_eq(y, (const float[]){10, 40, 90}, 3);
    lean_engine_destroy(e);
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- Loop */

/* for i in 0..3: acc += x; outputs: acc, the stack of acc per iteration, the stack of i */
static o2p_network *loop_net(int trip_input)
{
    o2p_network *n = net_new();
    int64_t four = 4;
    o2p_tensor *m =
        trip_input ? in_g(G(n), "M", I64, 0, NULL) : const_g(G(n), "M", I64, 0, NULL, &four, 8);
    o2p_tensor *acc0 = in_g(G(n), "acc0", F32, 1, D(3));
    o2p_tensor *x = in_g(G(n), "x", F32, 1, D(3));
    o2p_graph *body = subgraph(G(n), "body");
    o2p_tensor *it = in_g(body, "i", I64, 0, NULL);
    o2p_tensor *cin = in_g(body, "cin", BOOL, 0, NULL);
    o2p_tensor *acc = in_g(body, "acc", F32, 1, D(3));
    o2p_layer *cid = op_g(body, "Identity", "cid", 1, T(cin), 1);
    o2p_layer *add = op_g(body, "Add", "add", 2, T(acc, x), 1);
    o2p_layer *sc = op_g(body, "Identity", "sc", 1, T(out(add, 0)), 1);
    o2p_layer *si = op_g(body, "Identity", "si", 1, T(it), 1);
    o2p_graph_mark_output(body, out(cid, 0));
    o2p_graph_mark_output(body, out(add, 0));
    o2p_graph_mark_output(body, out(sc, 0));
    o2p_graph_mark_output(body, out(si, 0));
    o2p_layer *l = op_g(G(n), "Loop", "loop", 3, T(m, NULL, acc0), 3);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "body", body), O2P_OK);
    const char *names[] = {"acc", "accs", "iters"};
    for (int i = 0; i < 3; i++) {
        TU_ASSERT_STATUS(o2p_tensor_set_name(out(l, i), names[i]), O2P_OK);
        o2p_graph_mark_output(G(n), out(l, i));
    }
    return n;
}

START_TEST(test_loop_host)
{
    o2p_network *n = loop_net(0);
    build_options o = host_opts();
    lean_engine *e = engine_of(n, &o);
    float acc0[3] = {1, 1, 1}, x[3] = {1, 2, 3}, acc[3], accs[12];
    int64_t iters[4] = {-1, -1, -1, -1};
    binding b[] = {{"acc0", acc0}, {"x", x}, {"acc", acc}, {"accs", accs}, {"iters", iters}};
    execute(e, b, 5);
    floats_eq(acc, (const float[]){5, 9, 13}, 3);
    floats_eq(accs, (const float[]){2, 3, 4, 3, 5, 7, 4, 7, 10, 5, 9, 13}, 12);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(iters[i], i);
    lean_engine_destroy(e);
    o2p_network_destroy(n);
}
END_TEST

/* Carried values the body swaps without a layer: (a, b) -> (b, a), three times. */
static o2p_network *swap_net(int with_scan)
{
    o2p_network *n = net_new();
    int64_t three = 3;
    o2p_tensor *m = const_g(G(n), "M", I64, 0, NULL, &three, 8);
    o2p_tensor *a0 = in_g(G(n), "a0", F32, 1, D(2));
    o2p_tensor *b0 = in_g(G(n), "b0", F32, 1, D(2));
    o2p_graph *body = subgraph(G(n), "body");
    o2p_tensor *it = in_g(body, "i", I64, 0, NULL);
    o2p_tensor *cin = in_g(body, "cin", BOOL, 0, NULL);
    o2p_tensor *a = in_g(body, "a", F32, 1, D(2));
    o2p_tensor *bb = in_g(body, "b", F32, 1, D(2));
    o2p_graph_mark_output(body, out(op_g(body, "Identity", "cid", 1, T(cin), 1), 0));
    o2p_graph_mark_output(body, bb);
    o2p_graph_mark_output(body, a);
    if (with_scan) {
        o2p_graph_mark_output(body, out(op_g(body, "Identity", "sa", 1, T(a), 1), 0));
        o2p_graph_mark_output(body, out(op_g(body, "Identity", "si", 1, T(it), 1), 0));
    }
    o2p_layer *l = op_g(G(n), "Loop", "swap", 4, T(m, NULL, a0, b0), with_scan ? 4 : 2);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "body", body), O2P_OK);
    const char *names[] = {"a", "b", "as", "is"};
    for (int i = 0; i < (with_scan ? 4 : 2); i++) {
        TU_ASSERT_STATUS(o2p_tensor_set_name(out(l, i), names[i]), O2P_OK);
        o2p_graph_mark_output(G(n), out(l, i));
    }
    return n;
}

START_TEST(test_loop_swaps_carried_values)
{
    o2p_network *n = swap_net(0);
    build_options o = host_opts();
    lean_engine *e = engine_of(n, &o);
    float a0[2] = {1, 2}, b0[2] = {3, 4}, a[2], b[2];
    binding bd[] = {{"a0", a0}, {"b0", b0}, {"a", a}, {"b", b}};
    execute(e, bd, 4);
    floats_eq(a, b0, 2); /* an odd count of swaps */
    floats_eq(b, a0, 2);
    lean_engine_destroy(e);
    o2p_network_destroy(n);
}
END_TEST

/* Scan along axis 1, both directions reversed: columns of x summed from the last. */
START_TEST(test_scan_axes_and_directions)
{
    o2p_network *n = net_new();
    o2p_tensor *s0 = in_g(G(n), "s0", F32, 1, D(2));
    o2p_tensor *x = in_g(G(n), "x", F32, 2, D(2, 3));
    o2p_graph *body = subgraph(G(n), "body");
    o2p_tensor *st = in_g(body, "s", F32, 1, D(2));
    o2p_tensor *xt = in_g(body, "xt", F32, 1, D(2));
    o2p_layer *add = op_g(body, "Add", "add", 2, T(st, xt), 1);
    o2p_graph_mark_output(body, out(add, 0));
    o2p_graph_mark_output(body, out(op_g(body, "Identity", "y", 1, T(out(add, 0)), 1), 0));
    o2p_layer *l = op_g(G(n), "Scan", "scan", 2, T(s0, x), 2);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "body", body), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(l, "num_scan_inputs", 1), O2P_OK);
    const int64_t one[1] = {1};
    TU_ASSERT_STATUS(o2p_layer_set_attr_ints(l, "scan_input_axes", one, 1), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_ints(l, "scan_input_directions", one, 1), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_ints(l, "scan_output_axes", one, 1), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_ints(l, "scan_output_directions", one, 1), O2P_OK);
    TU_ASSERT_STATUS(o2p_tensor_set_name(out(l, 0), "s"), O2P_OK);
    TU_ASSERT_STATUS(o2p_tensor_set_name(out(l, 1), "ys"), O2P_OK);
    o2p_graph_mark_output(G(n), out(l, 0));
    o2p_graph_mark_output(G(n), out(l, 1));
    build_options o = host_opts();
    lean_engine *e = engine_of(n, &o);
    float s0v[2] = {0, 0}, xv[6] = {1, 2, 3, 4, 5, 6}, sv[2], ys[6];
    binding b[] = {{"s0", s0v}, {"x", xv}, {"s", sv}, {"ys", ys}};
    execute(e, b, 4);
    /* columns 2, 1, 0 added in turn; the k-th sum goes to column 2-k */
    floats_eq(sv, (const float[]){6, 15}, 2);
    floats_eq(ys, (const float[]){6, 5, 3, 15, 11, 6}, 6);
    lean_engine_destroy(e);
    o2p_network_destroy(n);
}
END_TEST

/* An If inside a Loop body reads x and flag from the main graph, two scopes out. */
START_TEST(test_nested_if_in_loop_reads_main_graph)
{
    o2p_network *n = net_new();
    int64_t two = 2;
    o2p_tensor *m = const_g(G(n), "M", I64, 0, NULL, &two, 8);
    o2p_tensor *flag = in_g(G(n), "flag", BOOL, 0, NULL);
    o2p_tensor *x = in_g(G(n), "x", F32, 1, D(2));
    o2p_tensor *acc0 = in_g(G(n), "acc0", F32, 1, D(2));
    o2p_graph *body = subgraph(G(n), "body");
    in_g(body, "i", I64, 0, NULL);
    o2p_tensor *cin = in_g(body, "cin", BOOL, 0, NULL);
    o2p_tensor *acc = in_g(body, "acc", F32, 1, D(2));
    o2p_graph *tg = subgraph(body, "then"), *eg = subgraph(body, "else");
    o2p_graph_mark_output(tg, out(op_g(tg, "Add", "plus", 2, T(acc, x), 1), 0));
    o2p_graph_mark_output(eg, out(op_g(eg, "Sub", "minus", 2, T(acc, x), 1), 0));
    o2p_layer *inner = op_g(body, "If", "inner", 1, T(flag), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(inner, "then_branch", tg), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(inner, "else_branch", eg), O2P_OK);
    o2p_graph_mark_output(body, cin);
    o2p_graph_mark_output(body, out(inner, 0));
    o2p_layer *l = op_g(G(n), "Loop", "outer", 3, T(m, NULL, acc0), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "body", body), O2P_OK);
    TU_ASSERT_STATUS(o2p_tensor_set_name(out(l, 0), "acc"), O2P_OK);
    o2p_graph_mark_output(G(n), out(l, 0));
    build_options o = host_opts();
    lean_engine *e = engine_of(n, &o);
    /* the Loop lists flag and x (read by the If inside) among its inputs */
    ck_assert_int_eq(lean_engine_layer_num_inputs(e, 0), 5);
    float xv[2] = {1, 10}, a0[2] = {0, 0}, accv[2];
    uint8_t f = 1;
    binding b[] = {{"flag", &f}, {"x", xv}, {"acc0", a0}, {"acc", accv}};
    execute(e, b, 4);
    floats_eq(accv, (const float[]){2, 20}, 2);
    f = 0;
    execute(e, b, 4);
    floats_eq(accv, (const float[]){-2, -20}, 2);
    lean_engine_destroy(e);
    o2p_network_destroy(n);
}
END_TEST

/* Without scan outputs the trip count may come from a graph input, read at run time. */
START_TEST(test_trip_count_from_an_input)
{
    o2p_network *n = net_new();
    o2p_tensor *m = in_g(G(n), "M", I64, 0, NULL);
    o2p_tensor *acc0 = in_g(G(n), "acc0", F32, 1, D(2));
    o2p_tensor *x = in_g(G(n), "x", F32, 1, D(2));
    o2p_graph *body = subgraph(G(n), "body");
    in_g(body, "i", I64, 0, NULL);
    o2p_tensor *cin = in_g(body, "cin", BOOL, 0, NULL);
    o2p_tensor *acc = in_g(body, "acc", F32, 1, D(2));
    o2p_graph_mark_output(body, cin);
    o2p_graph_mark_output(body, out(op_g(body, "Add", "add", 2, T(acc, x), 1), 0));
    o2p_layer *l = op_g(G(n), "Loop", "loop", 3, T(m, NULL, acc0), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "body", body), O2P_OK);
    TU_ASSERT_STATUS(o2p_tensor_set_name(out(l, 0), "acc"), O2P_OK);
    o2p_graph_mark_output(G(n), out(l, 0));
    build_options o = host_opts();
    lean_engine *e = engine_of(n, &o);
    int64_t mv = 3;
    float a0[2] = {1, 2}, xv[2] = {10, 20}, accv[2];
    binding b[] = {{"M", &mv}, {"acc0", a0}, {"x", xv}, {"acc", accv}};
    execute(e, b, 4);
    floats_eq(accv, (const float[]){31, 62}, 2);
    mv = 0; /* no iteration: the initial value */
    execute(e, b, 4);
    floats_eq(accv, a0, 2);
    lean_engine_destroy(e);
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_dynamic_trip_count_is_refused)
{
    o2p_network *n = loop_net(1); /* M a graph input: the scan outputs' length is unknown */
    build_options o = host_opts();
    build_engine be;
    ck_assert_int_ne(build_engine_create(n, &o, &be), O2P_OK);
    TU_ASSERT_ERROR_HAS("'loop' (Loop)");
    TU_ASSERT_ERROR_HAS("the trip count 'M' is not a constant known at build");
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- resolved at build */

/* for i in 0..trips: y = Concat(y, k), scan i; y grows a value per iteration: no static
 * shape for a Loop of its own, so the build copies the body out (src/passes/unroll.c). */
static const float K10[1] = {10};
static o2p_network *growing_net(int64_t trips)
{
    o2p_network *n = net_new();
    o2p_tensor *m = const_g(G(n), "M", I64, 0, NULL, &trips, 8);
    o2p_tensor *y0 = in_g(G(n), "y0", F32, 1, D(1));
    o2p_tensor *k = const_g(G(n), "k", F32, 1, D(1), K10, sizeof K10);
    o2p_graph *body = subgraph(G(n), "body");
    o2p_tensor *it = in_g(body, "i", I64, 0, NULL);
    o2p_tensor *cin = in_g(body, "cin", BOOL, 0, NULL);
    o2p_tensor *y = in_g(body, "y", F32, 1, D(-1));
    o2p_layer *cid = op_g(body, "Identity", "cid", 1, T(cin), 1);
    o2p_layer *cat = op_g(body, "Concat", "cat", 2, T(y, k), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(cat, "axis", 0), O2P_OK);
    o2p_layer *si = op_g(body, "Identity", "si", 1, T(it), 1);
    o2p_graph_mark_output(body, out(cid, 0));
    o2p_graph_mark_output(body, out(cat, 0));
    o2p_graph_mark_output(body, out(si, 0));
    o2p_layer *l = op_g(G(n), "Loop", "grow", 3, T(m, NULL, y0), 2);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "body", body), O2P_OK);
    TU_ASSERT_STATUS(o2p_tensor_set_name(out(l, 0), "y"), O2P_OK);
    TU_ASSERT_STATUS(o2p_tensor_set_name(out(l, 1), "iters"), O2P_OK);
    o2p_graph_mark_output(G(n), out(l, 0));
    o2p_graph_mark_output(G(n), out(l, 1));
    return n;
}

START_TEST(test_growing_loop_is_unrolled)
{
    o2p_network *n = growing_net(3);
    build_options o = host_opts();
    lean_engine *e = engine_of(n, &o);
    for (int i = 0; i < lean_engine_num_layers(e); i++)
        ck_assert_str_ne(lean_engine_layer_op_type(e, i), "Loop");
    tu_assert_shape(o2p_graph_find_tensor(G(n), "y"), "4");
    tu_assert_shape(o2p_graph_find_tensor(G(n), "iters"), "3");
    float y0 = 7, y[4] = {0};
    int64_t iters[3] = {-1, -1, -1};
    binding b[] = {{"y0", &y0}, {"y", y}, {"iters", iters}};
    execute(e, b, 3);
    floats_eq(y, (const float[]){7, 10, 10, 10}, 4);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(iters[i], i);
    lean_engine_destroy(e);
    o2p_network_destroy(n);
}
END_TEST

/* The body holds an If on the iteration number: copied with the body, its condition a
 * constant in each copy, then inlined: y = [y0, 10, 20, 20]. */
START_TEST(test_unrolled_body_with_an_if)
{
    o2p_network *n = net_new();
    int64_t trips = 3, zero = 0;
    static const float two[1] = {2};
    o2p_tensor *m = const_g(G(n), "M", I64, 0, NULL, &trips, 8);
    o2p_tensor *y0 = in_g(G(n), "y0", F32, 1, D(1));
    o2p_tensor *k = const_g(G(n), "k", F32, 1, D(1), K10, sizeof K10);
    o2p_graph *body = subgraph(G(n), "body");
    o2p_tensor *it = in_g(body, "i", I64, 0, NULL);
    o2p_tensor *cin = in_g(body, "cin", BOOL, 0, NULL);
    o2p_tensor *y = in_g(body, "y", F32, 1, D(-1));
    o2p_tensor *z = const_g(body, "zero", I64, 0, NULL, &zero, 8);
    o2p_layer *first = op_g(body, "Equal", "first", 2, T(it, z), 1);
    o2p_graph *tg = subgraph(body, "then"), *eg = subgraph(body, "else");
    o2p_graph_mark_output(tg, out(op_g(tg, "Identity", "same", 1, T(k), 1), 0));
    o2p_tensor *c2 = const_g(eg, "two", F32, 1, D(1), two, sizeof two);
    o2p_graph_mark_output(eg, out(op_g(eg, "Mul", "twice", 2, T(k, c2), 1), 0));
    o2p_layer *iff = op_g(body, "If", "pick", 1, T(out(first, 0)), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(iff, "then_branch", tg), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(iff, "else_branch", eg), O2P_OK);
    o2p_layer *cid = op_g(body, "Identity", "cid", 1, T(cin), 1);
    o2p_layer *cat = op_g(body, "Concat", "cat", 2, T(y, out(iff, 0)), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(cat, "axis", 0), O2P_OK);
    o2p_graph_mark_output(body, out(cid, 0));
    o2p_graph_mark_output(body, out(cat, 0));
    o2p_layer *l = op_g(G(n), "Loop", "grow", 3, T(m, NULL, y0), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "body", body), O2P_OK);
    TU_ASSERT_STATUS(o2p_tensor_set_name(out(l, 0), "y"), O2P_OK);
    o2p_graph_mark_output(G(n), out(l, 0));
    build_options o = host_opts();
    lean_engine *e = engine_of(n, &o);
    for (int i = 0; i < lean_engine_num_layers(e); i++) {
        ck_assert_str_ne(lean_engine_layer_op_type(e, i), "Loop");
        ck_assert_str_ne(lean_engine_layer_op_type(e, i), "If");
    }
    float v0 = 7, out_y[4] = {0};
    binding b[] = {{"y0", &v0}, {"y", out_y}};
    execute(e, b, 2);
    floats_eq(out_y, (const float[]){7, 10, 20, 20}, 4);
    lean_engine_destroy(e);
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_long_growing_loop_is_refused)
{
    o2p_network *n = growing_net(65); /* more iterations than the build copies out */
    build_options o = host_opts();
    build_engine be;
    ck_assert_int_ne(build_engine_create(n, &o, &be), O2P_OK);
    TU_ASSERT_ERROR_HAS("'grow' (Loop)");
    TU_ASSERT_ERROR_HAS("static");
    o2p_network_destroy(n);
}
END_TEST

/* An If whose condition is a constant: the branch it takes, inlined; no If in the engine. */
START_TEST(test_constant_if_is_inlined)
{
    for (int c = 0; c < 2; c++) {
        o2p_network *n = if_net();
        uint8_t v = (uint8_t)c;
        o2p_tensor *cond = o2p_graph_find_tensor(G(n), "cond");
        ir_shape scalar = {0};
        void *data = ir_network_alloc_data((ir_network *)n, 1);
        memcpy(data, &v, 1);
        TU_ASSERT_STATUS(ir_tensor_make_constant(cond, BOOL, &scalar, data, 1), O2P_OK);
        build_options o = host_opts();
        lean_engine *e = engine_of(n, &o);
        ck_assert_int_eq(lean_engine_num_layers(e), 1);
        ck_assert_str_eq(lean_engine_layer_op_type(e, 0), c ? "Add" : "Mul");
        float x[3] = {1, 2, 3}, y[3];
        binding b[] = {{"x", x}, {"y", y}};
        execute(e, b, 2);
        floats_eq(y, c ? (const float[]){2, 4, 6} : (const float[]){10, 40, 90}, 3);
        lean_engine_destroy(e);
        o2p_network_destroy(n);
    }
}
END_TEST

/* ---------------------------------------------------------------- the format's rules */

static void expect_refused(build_engine *be, const char *needle)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    TU_ASSERT_STATUS(plan_write_engine(be, &bytes, &size), O2P_OK);
    lean_engine *e = NULL;
    ck_assert_int_eq(lean_engine_create_flags(bytes, size, "bad.plan", NULL, NULL, NULL,
                                              LEAN_CREATE_TABLES_ONLY, &e),
                     O2P_ERR_PARSE);
    ck_assert_ptr_null(e);
    TU_ASSERT_ERROR_HAS(needle);
    free(bytes);
}

START_TEST(test_broken_bodies_are_refused)
{
    o2p_network *n = if_net();
    build_options o = host_opts();
    build_engine be;
    TU_ASSERT_STATUS(build_engine_create(n, &o, &be), O2P_OK);
    ck_assert_int_eq(be.num_layers, 3);
    build_body *bodies = be.layers[0].bodies;
    ck_assert_int_eq(be.layers[0].num_bodies, 2);
    /* a body longer than the table */
    bodies[1].num_layers = 50;
    expect_refused(&be, "body 1 has 50 layers");
    bodies[1].num_layers = 1;
    /* the then branch giving the else branch's result, which it never computes */
    int then_out = bodies[0].outputs[0];
    bodies[0].outputs[0] = bodies[1].outputs[0];
    expect_refused(&be, "not written when the body ends");
    bodies[0].outputs[0] = then_out;
    /* an output of another size than the If's */
    int x = be.layers[0].inputs[0]; /* the condition: one bool, not three floats */
    bodies[0].outputs[0] = x;
    expect_refused(&be, "differ in type or size");
    bodies[0].outputs[0] = then_out;
    /* the tables as they were are accepted */
    uint8_t *bytes = NULL;
    size_t size = 0;
    TU_ASSERT_STATUS(plan_write_engine(&be, &bytes, &size), O2P_OK);
    lean_engine *e = NULL;
    TU_ASSERT_STATUS(lean_engine_create_flags(bytes, size, "ok.plan", NULL, NULL, NULL,
                                              LEAN_CREATE_TABLES_ONLY, &e),
                     O2P_OK);
    lean_engine_destroy(e);
    free(bytes);
    build_engine_free(&be);
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- cuda, fake driver */

static char *fake_device(void)
{
    char *log = strdup("/tmp/test_control_XXXXXX");
    int fd = mkstemp(log);
    ck_assert_int_ge(fd, 0);
    close(fd);
    setenv("O2P_CUDA_DRIVER_LIBRARY", O2P_FAKE_CUDA_PATH, 1);
    setenv("FAKE_CUDA_CC", "90", 1);
    setenv("FAKE_CUDA_NAME", "Fake H100", 1);
    setenv("FAKE_CUDA_LOG", log, 1);
    return log;
}

static int count_lines(const char *path, const char *prefix)
{
    size_t size;
    char *text = tu_read_file(path, &size);
    int n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    free(text);
    return n;
}

/* If with Identity branches (copies, which the fake driver runs): then x, else a constant. */
START_TEST(test_if_cuda_fake_driver)
{
    char *log = fake_device();
    o2p_network *n = net_new();
    o2p_tensor *cond = in_g(G(n), "cond", BOOL, 0, NULL);
    o2p_tensor *x = in_g(G(n), "x", F32, 1, D(3));
    o2p_graph *tg = subgraph(G(n), "then"), *eg = subgraph(G(n), "else");
    o2p_graph_mark_output(tg, out(op_g(tg, "Identity", "tx", 1, T(x), 1), 0));
    o2p_tensor *k = const_g(eg, "k", F32, 1, D(3), K_DATA, sizeof K_DATA);
    o2p_graph_mark_output(eg, out(op_g(eg, "Identity", "tk", 1, T(k), 1), 0));
    o2p_layer *l = op_g(G(n), "If", "if", 1, T(cond), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "then_branch", tg), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "else_branch", eg), O2P_OK);
    TU_ASSERT_STATUS(o2p_tensor_set_name(out(l, 0), "y"), O2P_OK);
    o2p_graph_mark_output(G(n), out(l, 0));
    build_options o = cuda_opts();
    lean_engine *e = engine_of(n, &o);
    ck_assert_uint_eq(lean_engine_target(e), ENGINE_TARGET_CUDA);
    ck_assert_int_eq(lean_engine_layer_num_launches(e, 0), 0); /* the If runs on the host */
    /* "device" memory is host memory with the fake driver */
    float *xd = aligned_alloc(256, 256), *yd = aligned_alloc(256, 256);
    uint8_t *cd = aligned_alloc(256, 256);
    memcpy(xd, (const float[]){7, 8, 9}, 12);
    *cd = 1;
    binding b[] = {{"cond", cd}, {"x", xd}, {"y", yd}};
    int before = count_lines(log, "copy ");
    execute(e, b, 3);
    floats_eq(yd, (const float[]){7, 8, 9}, 3);
    /* the then branch's copy, then the If's output copy: the else branch never ran */
    ck_assert_int_eq(count_lines(log, "copy ") - before, 2);
    *cd = 0;
    execute(e, b, 3);
    floats_eq(yd, K_DATA, 3);
    lean_engine_destroy(e);
    o2p_network_destroy(n);
    free(xd);
    free(yd);
    free(cd);
    unlink(log);
    free(log);
}
END_TEST

START_TEST(test_loop_cuda_fake_driver)
{
    char *log = fake_device();
    o2p_network *n = swap_net(1);
    build_options o = cuda_opts();
    lean_engine *e = engine_of(n, &o);
    float *a0 = aligned_alloc(256, 256), *b0 = aligned_alloc(256, 256);
    float *a = aligned_alloc(256, 256), *bv = aligned_alloc(256, 256);
    float *as = aligned_alloc(256, 256);
    int64_t *is = aligned_alloc(256, 256);
    memcpy(a0, (const float[]){1, 2}, 8);
    memcpy(b0, (const float[]){3, 4}, 8);
    binding b[] = {{"a0", a0}, {"b0", b0}, {"a", a}, {"b", bv}, {"as", as}, {"is", is}};
    execute(e, b, 6);
    floats_eq(a, (const float[]){3, 4}, 2);
    floats_eq(bv, (const float[]){1, 2}, 2);
    floats_eq(as, (const float[]){1, 2, 3, 4, 1, 2}, 6);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(is[i], i); /* the iteration number, written from the host */
    ck_assert_int_gt(count_lines(log, "copy "), 0);
    lean_engine_destroy(e);
    o2p_network_destroy(n);
    free(a0);
    free(b0);
    free(a);
    free(bv);
    free(as);
    free(is);
    unlink(log);
    free(log);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("control");
    TCase *tc = tcase_create("control");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_if_host);
    tcase_add_test(tc, test_loop_host);
    tcase_add_test(tc, test_loop_swaps_carried_values);
    tcase_add_test(tc, test_scan_axes_and_directions);
    tcase_add_test(tc, test_nested_if_in_loop_reads_main_graph);
    tcase_add_test(tc, test_trip_count_from_an_input);
    tcase_add_test(tc, test_dynamic_trip_count_is_refused);
    tcase_add_test(tc, test_broken_bodies_are_refused);
    tcase_add_test(tc, test_growing_loop_is_unrolled);
    tcase_add_test(tc, test_long_growing_loop_is_refused);
    tcase_add_test(tc, test_unrolled_body_with_an_if);
    tcase_add_test(tc, test_constant_if_is_inlined);
    tcase_add_test(tc, test_if_cuda_fake_driver);
    tcase_add_test(tc, test_loop_cuda_fake_driver);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
