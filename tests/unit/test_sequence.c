/* test_sequence.c: the sequence pass (src/passes/sequence.c) on networks built by hand: each
 * rewrite (SequenceAt -> Identity, ConcatFromSequence -> Concat with and without new_axis,
 * SplitToSequence -> Split and Squeeze, SequenceLength and OptionalHasElement -> constants,
 * SequenceMap unrolled, an If giving a sequence inlined, sequence inputs and outputs as
 * "<name>[<i>]"), checked by structure and by the values constant folding computes, and
 * each refusal with its message; then a sequence network built and run on the host. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "passes/passes.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define I64 O2P_DTYPE_INT64
#define BOOL O2P_DTYPE_BOOL
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

static o2p_tensor *input(o2p_graph *g, const char *name, o2p_dtype t, int rank,
                         const int64_t *dims)
{
    o2p_tensor *x = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_input(g, name, t, rank, dims, NULL, &x), O2P_OK);
    return x;
}

/* A float constant of `count` values start, start+1, ... */
static o2p_tensor *fconst(o2p_graph *g, const char *name, int rank, const int64_t *dims,
                          float start)
{
    int64_t count = 1;
    for (int i = 0; i < rank; i++)
        count *= dims[i];
    float *v = malloc((size_t)count * sizeof *v + 1);
    ck_assert_ptr_nonnull(v);
    for (int64_t i = 0; i < count; i++)
        v[i] = start + (float)i;
    o2p_tensor *t = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_constant(g, name, F32, rank, dims, v,
                                            (size_t)count * sizeof *v, &t),
                     O2P_OK);
    free(v);
    return t;
}

static o2p_tensor *iconst(o2p_graph *g, const char *name, int64_t v)
{
    o2p_tensor *t = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_constant(g, name, I64, 0, NULL, &v, sizeof v, &t), O2P_OK);
    return t;
}

static o2p_layer *op(o2p_graph *g, const char *type, int nin, o2p_tensor *const *ins, int nout)
{
    o2p_layer *l = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_layer(g, "", type, NULL, nin, ins, nout, &l), O2P_OK);
    return l;
}

static o2p_tensor *out(o2p_layer *l, int i)
{
    return o2p_layer_get_output(l, i);
}

/* Marks t an output named name. */
static void mark(o2p_graph *g, o2p_tensor *t, const char *name)
{
    TU_ASSERT_STATUS(o2p_tensor_set_name(t, name), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_mark_output(g, t), O2P_OK);
}

/* Infers, resolves the sequences, folds constants. */
static void resolve(o2p_network *n)
{
    int rewritten = 0;
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    TU_ASSERT_STATUS(pass_resolve_sequences(n, 1, &rewritten), O2P_OK);
    ck_assert_int_ne(rewritten, 0);
    TU_ASSERT_STATUS(pass_fold_constants(n, (size_t)1 << 20, NULL), O2P_OK);
}

/* Infers and runs the pass, which must fail mentioning needle. */
static void refuse(o2p_network *n, const char *needle)
{
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    TU_ASSERT_FAILS(pass_resolve_sequences(n, 1, NULL));
    TU_ASSERT_ERROR_HAS(needle);
}

static int count_ops(const ir_graph *g, const char *type)
{
    int c = 0;
    for (int i = 0; i < g->layers.count; i++)
        c += strcmp(((const ir_layer *)g->layers.items[i])->op_type, type) == 0;
    return c;
}

/* Asserts that t is a constant float tensor of shape `shape` holding want[0..count). */
static void assert_floats(const o2p_tensor *t, const char *shape, const float *want, int count)
{
    tu_assert_shape(t, shape);
    ck_assert_msg(o2p_tensor_is_constant(t), "'%s' was not folded", o2p_tensor_get_name(t));
    size_t nbytes = 0;
    const float *v = o2p_tensor_get_data(t, &nbytes);
    ck_assert_uint_eq(nbytes, (size_t)count * sizeof(float));
    for (int i = 0; i < count; i++)
        ck_assert_msg(v[i] == want[i], "'%s'[%d] is %g, expected %g", o2p_tensor_get_name(t), i,
                      v[i], want[i]);
}

static int64_t const_i64(const o2p_tensor *t)
{
    ck_assert(o2p_tensor_is_constant(t));
    size_t nbytes = 0;
    const int64_t *v = o2p_tensor_get_data(t, &nbytes);
    ck_assert_uint_eq(nbytes, 8);
    return v[0];
}

/* ---------------------------------------------------------------- rewrites */

/* [a, b, c] -> erase(0) -> insert(a, at 1) = [b, a, c]; At(-1) = c, At(1) = a */
START_TEST(test_list_ops_and_at)
{
    o2p_network *n = net_new(17);
    o2p_graph *g = G(n);
    o2p_tensor *a = fconst(g, "a", 1, D(2), 0), *b = fconst(g, "b", 1, D(2), 10),
               *c = fconst(g, "c", 1, D(2), 20);
    o2p_tensor *s = out(op(g, "SequenceConstruct", 3, T(a, b, c), 1), 0);
    o2p_tensor *s2 = out(op(g, "SequenceErase", 2, T(s, iconst(g, "zero", 0)), 1), 0);
    o2p_tensor *s3 = out(op(g, "SequenceInsert", 3, T(s2, a, iconst(g, "one", 1)), 1), 0);
    mark(g, out(op(g, "SequenceAt", 2, T(s3, iconst(g, "last", -1)), 1), 0), "last_elem");
    mark(g, out(op(g, "SequenceAt", 2, T(s3, iconst(g, "second", 1)), 1), 0), "second_elem");
    mark(g, out(op(g, "SequenceLength", 1, T(s3), 1), 0), "len");
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    ck_assert_int_eq(o2p_tensor_get_value_kind(s3), O2P_VALUE_SEQUENCE);
    ck_assert_int_eq(o2p_tensor_get_value_kind(o2p_graph_get_output(g, 0)), O2P_VALUE_TENSOR);
    resolve(n);
    ck_assert_int_eq(count_ops(n->main, "SequenceConstruct") + count_ops(n->main, "SequenceAt"),
                     0);
    assert_floats(o2p_graph_get_output(g, 0), "2", (const float[]){20, 21}, 2);
    assert_floats(o2p_graph_get_output(g, 1), "2", (const float[]){0, 1}, 2);
    ck_assert_int_eq(const_i64(o2p_graph_get_output(g, 2)), 3);
    o2p_network_destroy(n);
}
END_TEST

/* SequenceAt of a non-constant element is an Identity that reads that element. */
START_TEST(test_at_is_identity)
{
    o2p_network *n = net_new(17);
    o2p_graph *g = G(n);
    o2p_tensor *x = input(g, "x", F32, 2, D(2, 3)), *y = input(g, "y", F32, 1, D(4));
    o2p_tensor *s = out(op(g, "SequenceConstruct", 2, T(x, y), 1), 0);
    o2p_tensor *r = out(op(g, "SequenceAt", 2, T(s, iconst(g, "p", 1)), 1), 0);
    mark(g, out(op(g, "Relu", 1, T(r), 1), 0), "out");
    resolve(n);
    ck_assert_int_eq(n->main->layers.count, 2);
    ck_assert_str_eq(r->producer->op_type, "Identity");
    ck_assert_ptr_eq(r->producer->inputs[0], y);
    tu_assert_shape(o2p_graph_get_output(g, 0), "4");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_concat_from_sequence)
{
    o2p_network *n = net_new(13);
    o2p_graph *g = G(n);
    o2p_tensor *a = fconst(g, "a", 2, D(1, 2), 0), *b = fconst(g, "b", 2, D(1, 2), 10);
    o2p_tensor *s = out(op(g, "SequenceConstruct", 2, T(a, b), 1), 0);
    o2p_layer *c0 = op(g, "ConcatFromSequence", 1, T(s), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(c0, "axis", 1), O2P_OK);
    mark(g, out(c0, 0), "cat");
    o2p_layer *c1 = op(g, "ConcatFromSequence", 1, T(s), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(c1, "axis", -1), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(c1, "new_axis", 1), O2P_OK);
    mark(g, out(c1, 0), "stack");
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    TU_ASSERT_STATUS(pass_resolve_sequences(n, 1, NULL), O2P_OK);
    ck_assert_int_eq(count_ops(n->main, "Concat"), 2);
    ck_assert_int_eq(count_ops(n->main, "Unsqueeze"), 2);
    ck_assert_int_eq(count_ops(n->main, "ConcatFromSequence"), 0);
    TU_ASSERT_STATUS(pass_fold_constants(n, (size_t)1 << 20, NULL), O2P_OK);
    assert_floats(o2p_graph_get_output(g, 0), "1x4", (const float[]){0, 1, 10, 11}, 4);
    assert_floats(o2p_graph_get_output(g, 1), "1x2x2", (const float[]){0, 10, 1, 11}, 4);
    o2p_network_destroy(n);
}
END_TEST

/* Opset 11: Unsqueeze takes its axes as an attribute. */
START_TEST(test_concat_new_axis_opset11)
{
    o2p_network *n = net_new(11);
    o2p_graph *g = G(n);
    o2p_tensor *a = fconst(g, "a", 1, D(2), 0), *b = fconst(g, "b", 1, D(2), 10);
    o2p_tensor *s = out(op(g, "SequenceConstruct", 2, T(a, b), 1), 0);
    o2p_layer *c = op(g, "ConcatFromSequence", 1, T(s), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(c, "axis", 0), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(c, "new_axis", 1), O2P_OK);
    mark(g, out(c, 0), "stack");
    resolve(n);
    assert_floats(o2p_graph_get_output(g, 0), "2x2", (const float[]){0, 1, 10, 11}, 4);
    o2p_network_destroy(n);
}
END_TEST

/* No split: chunks of 1 (keepdims 0 squeezes them); a scalar split: chunks of that length,
 * the last shorter; a 1-D split: those lengths. */
START_TEST(test_split_to_sequence)
{
    o2p_network *n = net_new(13);
    o2p_graph *g = G(n);
    o2p_tensor *x = fconst(g, "x", 2, D(5, 2), 0);
    o2p_layer *s0 = op(g, "SplitToSequence", 1, T(x), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(s0, "keepdims", 0), O2P_OK);
    mark(g, out(op(g, "SequenceLength", 1, T(out(s0, 0)), 1), 0), "len0");
    mark(g, out(op(g, "SequenceAt", 2, T(out(s0, 0), iconst(g, "p3", 3)), 1), 0), "row3");
    o2p_layer *s1 = op(g, "SplitToSequence", 2, T(x, iconst(g, "two", 2)), 1);
    mark(g, out(op(g, "SequenceLength", 1, T(out(s1, 0)), 1), 0), "len1");
    mark(g, out(op(g, "SequenceAt", 2, T(out(s1, 0), iconst(g, "pl", -1)), 1), 0), "tail");
    int64_t lens[2] = {1, 4};
    o2p_tensor *split = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_constant(g, "lens", I64, 1, D(2), lens, sizeof lens, &split),
                     O2P_OK);
    o2p_layer *s2 = op(g, "SplitToSequence", 2, T(x, split), 1);
    mark(g, out(op(g, "SequenceAt", 2, T(out(s2, 0), iconst(g, "p1", 1)), 1), 0), "rest");
    resolve(n);
    ck_assert_int_eq(const_i64(o2p_graph_get_output(g, 0)), 5);
    assert_floats(o2p_graph_get_output(g, 1), "2", (const float[]){6, 7}, 2);
    ck_assert_int_eq(const_i64(o2p_graph_get_output(g, 2)), 3);
    assert_floats(o2p_graph_get_output(g, 3), "1x2", (const float[]){8, 9}, 2);
    assert_floats(o2p_graph_get_output(g, 4), "4x2", (const float[]){2, 3, 4, 5, 6, 7, 8, 9}, 8);
    o2p_network_destroy(n);
}
END_TEST

/* SequenceMap: the body once per element, tensors inputs shared by every copy. */
START_TEST(test_sequence_map)
{
    o2p_network *n = net_new(17);
    o2p_graph *g = G(n);
    o2p_tensor *a = fconst(g, "a", 1, D(2), 0), *b = fconst(g, "b", 1, D(2), 10);
    o2p_tensor *k = fconst(g, "k", 1, D(2), 100);
    o2p_tensor *s = out(op(g, "SequenceConstruct", 2, T(a, b), 1), 0);
    o2p_graph *body = NULL;
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(g, "body", &body), O2P_OK);
    o2p_tensor *e = input(body, "e", F32, 1, D(2)), *t = input(body, "t", F32, 1, D(2));
    o2p_graph_mark_output(body, out(op(body, "Add", 2, T(e, t), 1), 0));
    o2p_layer *m = op(g, "SequenceMap", 2, T(s, k), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(m, "body", body), O2P_OK);
    mark(g, out(op(g, "SequenceAt", 2, T(out(m, 0), iconst(g, "p", 1)), 1), 0), "second");
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    TU_ASSERT_STATUS(pass_resolve_sequences(n, 1, NULL), O2P_OK);
    ck_assert_int_eq(count_ops(n->main, "Add"), 2);
    ck_assert_int_eq(count_ops(n->main, "SequenceMap"), 0);
    TU_ASSERT_STATUS(pass_fold_constants(n, (size_t)1 << 20, NULL), O2P_OK);
    assert_floats(o2p_graph_get_output(g, 0), "2", (const float[]){110, 112}, 2);
    o2p_network_destroy(n);
}
END_TEST

/* An If giving a sequence, with a known condition: the branch it takes, inlined. */
START_TEST(test_if_sequence_inlined)
{
    o2p_network *n = net_new(16);
    o2p_graph *g = G(n);
    uint8_t yes = 1;
    o2p_tensor *cond = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_constant(g, "cond", BOOL, 0, NULL, &yes, 1, &cond), O2P_OK);
    o2p_graph *tb = NULL, *eb = NULL;
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(g, "then", &tb), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(g, "else", &eb), O2P_OK);
    o2p_tensor *tk = fconst(tb, "tk", 1, D(2), 1), *ek = fconst(eb, "ek", 1, D(2), 5);
    o2p_graph_mark_output(tb, out(op(tb, "SequenceConstruct", 2, T(tk, tk), 1), 0));
    o2p_graph_mark_output(eb, out(op(eb, "SequenceConstruct", 1, T(ek), 1), 0));
    o2p_layer *l = op(g, "If", 1, T(cond), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "then_branch", tb), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "else_branch", eb), O2P_OK);
    mark(g, out(op(g, "SequenceLength", 1, T(out(l, 0)), 1), 0), "len");
    mark(g, out(op(g, "SequenceAt", 2, T(out(l, 0), iconst(g, "p", 0)), 1), 0), "first");
    resolve(n);
    ck_assert_int_eq(count_ops(n->main, "If"), 0);
    ck_assert_int_eq(const_i64(o2p_graph_get_output(g, 0)), 2);
    assert_floats(o2p_graph_get_output(g, 1), "2", (const float[]){1, 2}, 2);
    o2p_network_destroy(n);
}
END_TEST

/* A sequence graph input is one input per element, a sequence output one output each. */
START_TEST(test_sequence_io)
{
    o2p_network *n = net_new(17);
    o2p_graph *g = G(n);
    o2p_tensor *x = input(g, "x", F32, 0, NULL);
    x->vtype = IR_VALUE_SEQUENCE; /* as the parser marks a sequence(tensor(float)) input */
    o2p_tensor *z = input(g, "z", F32, 1, D(3));
    o2p_tensor *s = out(op(g, "SequenceInsert", 2, T(x, z), 1), 0);
    mark(g, s, "y");
    s->vtype = IR_VALUE_SEQUENCE;
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    TU_ASSERT_FAILS(pass_resolve_sequences(n, 1, NULL));
    TU_ASSERT_ERROR_HAS("o2p_tensor_set_sequence");
    TU_ASSERT_FAILS(o2p_tensor_set_sequence(z, 0, NULL, NULL));
    TU_ASSERT_STATUS(o2p_tensor_set_sequence(x, 2, (const int[]){1, 2}, D(3, 2, 2)), O2P_OK);
    resolve(n);
    ck_assert_int_eq(o2p_graph_num_inputs(g), 3);
    ck_assert_str_eq(o2p_tensor_get_name(o2p_graph_get_input(g, 0)), "x[0]");
    ck_assert_str_eq(o2p_tensor_get_name(o2p_graph_get_input(g, 1)), "x[1]");
    ck_assert_str_eq(o2p_tensor_get_name(o2p_graph_get_input(g, 2)), "z");
    tu_assert_shape(o2p_graph_get_input(g, 1), "2x2");
    ck_assert_int_eq(o2p_graph_num_outputs(g), 3);
    const char *names[3] = {"y[0]", "y[1]", "y[2]"};
    o2p_tensor *from[3] = {o2p_graph_get_input(g, 0), o2p_graph_get_input(g, 1), z};
    for (int i = 0; i < 3; i++) {
        o2p_tensor *o = o2p_graph_get_output(g, i);
        ck_assert_str_eq(o2p_tensor_get_name(o), names[i]);
        ck_assert_str_eq(o->producer->op_type, "Identity");
        ck_assert_ptr_eq(o->producer->inputs[0], from[i]);
    }
    tu_assert_shape(o2p_graph_get_output(g, 2), "3");
    o2p_network_destroy(n);
}
END_TEST

/* Optionals: present and absent inputs, HasElement a constant, GetElement an Identity. */
START_TEST(test_optionals)
{
    o2p_network *n = net_new(16);
    o2p_graph *g = G(n);
    o2p_tensor *p = input(g, "p", F32, 1, D(4)), *q = input(g, "q", F32, 1, D(4));
    p->vtype = q->vtype = IR_VALUE_OPTIONAL;
    mark(g, out(op(g, "OptionalHasElement", 1, T(p), 1), 0), "has_p");
    mark(g, out(op(g, "OptionalHasElement", 1, T(q), 1), 0), "has_q");
    o2p_tensor *e = out(op(g, "OptionalGetElement", 1, T(p), 1), 0);
    mark(g, out(op(g, "Neg", 1, T(e), 1), 0), "neg");
    o2p_tensor *w = out(op(g, "Optional", 1, T(e), 1), 0);
    mark(g, w, "wrapped");
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    ck_assert_int_eq(o2p_tensor_get_value_kind(w), O2P_VALUE_OPTIONAL_TENSOR);
    TU_ASSERT_FAILS(pass_resolve_sequences(n, 1, NULL));
    TU_ASSERT_ERROR_HAS("o2p_tensor_set_optional");
    TU_ASSERT_STATUS(o2p_tensor_set_optional(p, 1), O2P_OK);
    TU_ASSERT_STATUS(o2p_tensor_set_optional(q, 0), O2P_OK);
    TU_ASSERT_FAILS(o2p_tensor_set_optional(e, 1));
    resolve(n);
    ck_assert_int_eq(o2p_graph_num_inputs(g), 1);
    ck_assert_ptr_eq(o2p_graph_get_input(g, 0), p);
    uint8_t has_p = *(const uint8_t *)o2p_tensor_get_data(o2p_graph_get_output(g, 0), NULL);
    uint8_t has_q = *(const uint8_t *)o2p_tensor_get_data(o2p_graph_get_output(g, 1), NULL);
    ck_assert_int_eq(has_p, 1);
    ck_assert_int_eq(has_q, 0);
    ck_assert_str_eq(e->producer->op_type, "Identity");
    ck_assert_ptr_eq(e->producer->inputs[0], p);
    /* the optional output is its tensor under its own name */
    ck_assert_str_eq(o2p_tensor_get_name(o2p_graph_get_output(g, 3)), "wrapped");
    ck_assert_int_eq(o2p_tensor_get_value_kind(o2p_graph_get_output(g, 3)), O2P_VALUE_TENSOR);
    o2p_network_destroy(n);
}
END_TEST

/* A Loop that builds a sequence, its trip count a SequenceLength: the first run resolves the
 * length and leaves the Loop (and what reads it), the unrolling copies the body out, and
 * the final run resolves the copies. y = Concat over i of 2 * x[i]. */
START_TEST(test_loop_over_sequence_unrolled)
{
    o2p_network *n = net_new(16);
    o2p_graph *g = G(n);
    o2p_tensor *a = fconst(g, "a", 1, D(2), 0), *b = fconst(g, "b", 1, D(2), 10);
    o2p_tensor *x = out(op(g, "SequenceConstruct", 2, T(a, b), 1), 0);
    o2p_tensor *len = out(op(g, "SequenceLength", 1, T(x), 1), 0);
    o2p_tensor *empty = out(op(g, "SequenceEmpty", 0, NULL, 1), 0);
    o2p_graph *body = NULL;
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(g, "body", &body), O2P_OK);
    o2p_tensor *i = input(body, "i", I64, 0, NULL);
    o2p_tensor *cin = input(body, "cin", BOOL, 0, NULL);
    o2p_tensor *acc = input(body, "acc", F32, 0, NULL);
    acc->vtype = IR_VALUE_SEQUENCE;
    o2p_graph_mark_output(body, out(op(body, "Identity", 1, T(cin), 1), 0));
    o2p_tensor *e = out(op(body, "SequenceAt", 2, T(x, i), 1), 0);
    o2p_tensor *twice = out(op(body, "Add", 2, T(e, e), 1), 0);
    o2p_graph_mark_output(body, out(op(body, "SequenceInsert", 2, T(acc, twice), 1), 0));
    o2p_layer *loop = op(g, "Loop", 3, T(len, NULL, empty), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(loop, "body", body), O2P_OK);
    o2p_layer *c = op(g, "ConcatFromSequence", 1, T(out(loop, 0)), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(c, "axis", 0), O2P_OK);
    mark(g, out(c, 0), "y");
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    TU_ASSERT_STATUS(pass_resolve_sequences(n, 0, NULL), O2P_OK);
    ck_assert_int_eq(count_ops(n->main, "Loop"), 1);
    ck_assert_int_eq(count_ops(n->main, "ConcatFromSequence"), 1);
    ck_assert_int_eq(count_ops(n->main, "SequenceLength"), 0);
    ck_assert_int_eq(const_i64(len), 2);
    int unrolled = 0;
    TU_ASSERT_STATUS(pass_unroll_control(n, &unrolled), O2P_OK);
    ck_assert_int_eq(unrolled, 1);
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    TU_ASSERT_STATUS(pass_resolve_sequences(n, 1, NULL), O2P_OK);
    TU_ASSERT_STATUS(pass_fold_constants(n, (size_t)1 << 20, NULL), O2P_OK);
    assert_floats(o2p_graph_get_output(g, 0), "4", (const float[]){0, 2, 20, 22}, 4);
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- refusals */

START_TEST(test_refuse_position_not_constant)
{
    o2p_network *n = net_new(17);
    o2p_graph *g = G(n);
    o2p_tensor *a = fconst(g, "a", 1, D(2), 0);
    o2p_tensor *pos = input(g, "pos", I64, 0, NULL);
    o2p_tensor *s = out(op(g, "SequenceConstruct", 2, T(a, a), 1), 0);
    mark(g, out(op(g, "SequenceAt", 2, T(s, pos), 1), 0), "o");
    refuse(n, "position 'pos' must be a constant known at build");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_refuse_position_out_of_range)
{
    o2p_network *n = net_new(17);
    o2p_graph *g = G(n);
    o2p_tensor *a = fconst(g, "a", 1, D(2), 0);
    o2p_tensor *s = out(op(g, "SequenceConstruct", 2, T(a, a), 1), 0);
    mark(g, out(op(g, "SequenceErase", 2, T(s, iconst(g, "p", 2)), 1), 0), "o");
    refuse(n, "position 2 is outside");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_refuse_split_not_constant)
{
    o2p_network *n = net_new(17);
    o2p_graph *g = G(n);
    o2p_tensor *x = input(g, "x", F32, 1, D(6));
    o2p_tensor *sp = input(g, "sp", I64, 1, D(2));
    o2p_tensor *s = out(op(g, "SplitToSequence", 2, T(x, sp), 1), 0);
    mark(g, out(op(g, "SequenceLength", 1, T(s), 1), 0), "len");
    refuse(n, "split 'sp' must be a constant known at build");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_refuse_split_unknown_length)
{
    o2p_network *n = net_new(17);
    o2p_graph *g = G(n);
    o2p_tensor *x = NULL;
    TU_ASSERT_STATUS(o2p_graph_add_input(g, "x", F32, 1, D(-1), (const char *[]){"N"}, &x),
                     O2P_OK);
    o2p_tensor *s = out(op(g, "SplitToSequence", 1, T(x), 1), 0);
    mark(g, out(op(g, "SequenceLength", 1, T(s), 1), 0), "len");
    refuse(n, "unknown length on axis 0");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_refuse_if_condition_not_constant)
{
    o2p_network *n = net_new(16);
    o2p_graph *g = G(n);
    o2p_tensor *cond = input(g, "c", BOOL, 0, NULL);
    o2p_graph *tb = NULL, *eb = NULL;
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(g, "then", &tb), O2P_OK);
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(g, "else", &eb), O2P_OK);
    o2p_tensor *k = fconst(g, "k", 1, D(2), 0);
    o2p_graph_mark_output(tb, out(op(tb, "SequenceConstruct", 1, T(k), 1), 0));
    o2p_graph_mark_output(eb, out(op(eb, "SequenceConstruct", 2, T(k, k), 1), 0));
    o2p_layer *l = op(g, "If", 1, T(cond), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "then_branch", tb), O2P_OK);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "else_branch", eb), O2P_OK);
    mark(g, out(op(g, "SequenceLength", 1, T(out(l, 0)), 1), 0), "len");
    refuse(n, "condition 'c' must be a constant known at build");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_refuse_loop_with_sequence)
{
    o2p_network *n = net_new(16);
    o2p_graph *g = G(n);
    o2p_tensor *trip = iconst(g, "trip", 2);
    o2p_tensor *x = input(g, "x", F32, 1, D(2));
    o2p_graph *body = NULL;
    TU_ASSERT_STATUS(o2p_graph_create_subgraph(g, "body", &body), O2P_OK);
    input(body, "i", I64, 0, NULL);
    o2p_tensor *cin = input(body, "cin", BOOL, 0, NULL);
    o2p_tensor *v = input(body, "v", F32, 1, D(2));
    o2p_graph_mark_output(body, out(op(body, "Identity", 1, T(cin), 1), 0));
    o2p_tensor *s = out(op(body, "SequenceConstruct", 2, T(v, v), 1), 0);
    o2p_graph_mark_output(body, out(op(body, "SequenceAt", 2, T(s, iconst(g, "zero", 0)), 1), 0));
    o2p_layer *l = op(g, "Loop", 3, T(trip, NULL, x), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_graph(l, "body", body), O2P_OK);
    mark(g, out(l, 0), "y");
    refuse(n, "sequences in Loop bodies are not supported");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_refuse_tensor_op_on_sequence)
{
    o2p_network *n = net_new(17);
    o2p_graph *g = G(n);
    o2p_tensor *a = fconst(g, "a", 1, D(2), 0);
    o2p_tensor *s = out(op(g, "SequenceConstruct", 1, T(a), 1), 0);
    TU_ASSERT_STATUS(o2p_tensor_set_name(s, "seq"), O2P_OK);
    mark(g, out(op(g, "Relu", 1, T(s), 1), 0), "o");
    refuse(n, "input 'seq' is a sequence or optional");
    o2p_network_destroy(n);
}
END_TEST

START_TEST(test_refuse_get_element_of_empty)
{
    o2p_network *n = net_new(16);
    o2p_graph *g = G(n);
    o2p_tensor *p = input(g, "p", F32, 1, D(4));
    p->vtype = IR_VALUE_OPTIONAL;
    TU_ASSERT_STATUS(o2p_tensor_set_optional(p, 0), O2P_OK);
    mark(g, out(op(g, "OptionalGetElement", 1, T(p), 1), 0), "o");
    refuse(n, "the optional 'p' is empty at build");
    o2p_network_destroy(n);
}
END_TEST

/* No sequences: the pass leaves the network as it is. */
START_TEST(test_no_sequences_untouched)
{
    o2p_network *n = net_new(17);
    o2p_graph *g = G(n);
    o2p_tensor *x = input(g, "x", F32, 1, D(2));
    mark(g, out(op(g, "Relu", 1, T(x), 1), 0), "o");
    TU_ASSERT_STATUS(ir_infer_network(n), O2P_OK);
    int rewritten = -1;
    TU_ASSERT_STATUS(pass_resolve_sequences(n, 1, &rewritten), O2P_OK);
    ck_assert_int_eq(rewritten, 0);
    ck_assert_int_eq(n->main->layers.count, 1);
    o2p_network_destroy(n);
}
END_TEST

/* ---------------------------------------------------------------- build and run */

/* y = ConcatFromSequence(Insert(x, z, 0), axis 0) with x a 2-element sequence input: built
 * for the host target and run with inputs "x[0]", "x[1]", "z". */
START_TEST(test_build_and_run_host)
{
    o2p_network *n = net_new(17);
    o2p_graph *g = G(n);
    o2p_tensor *x = input(g, "x", F32, 0, NULL);
    x->vtype = IR_VALUE_SEQUENCE;
    o2p_tensor *z = input(g, "z", F32, 1, D(1));
    o2p_tensor *s = out(op(g, "SequenceInsert", 3, T(x, z, iconst(g, "front", 0)), 1), 0);
    o2p_layer *c = op(g, "ConcatFromSequence", 1, T(s), 1);
    TU_ASSERT_STATUS(o2p_layer_set_attr_int(c, "axis", 0), O2P_OK);
    mark(g, out(c, 0), "y");
    TU_ASSERT_STATUS(o2p_tensor_set_sequence(x, 2, (const int[]){1, 1}, D(2, 3)), O2P_OK);
    o2p_builder *b = NULL;
    o2p_builder_config *cfg = NULL;
    TU_ASSERT_STATUS(o2p_builder_create(&b), O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_create(&cfg), O2P_OK);
    TU_ASSERT_STATUS(o2p_builder_config_set_target(cfg, O2P_TARGET_HOST, NULL, 0), O2P_OK);
    void *plan = NULL;
    size_t size = 0;
    TU_ASSERT_STATUS(o2p_builder_build_serialized(b, n, cfg, &plan, &size), O2P_OK);
    o2p_runtime *rt = NULL;
    o2p_engine *e = NULL;
    o2p_context *ctx = NULL;
    TU_ASSERT_STATUS(o2p_runtime_create(&rt), O2P_OK);
    TU_ASSERT_STATUS(o2p_runtime_deserialize(rt, plan, size, &e), O2P_OK);
    TU_ASSERT_STATUS(o2p_engine_create_context(e, &ctx), O2P_OK);
    float x0[2] = {1, 2}, x1[3] = {3, 4, 5}, zv[1] = {9}, y[6] = {0};
    TU_ASSERT_STATUS(o2p_context_set_tensor_address(ctx, "x[0]", x0), O2P_OK);
    TU_ASSERT_STATUS(o2p_context_set_tensor_address(ctx, "x[1]", x1), O2P_OK);
    TU_ASSERT_STATUS(o2p_context_set_tensor_address(ctx, "z", zv), O2P_OK);
    TU_ASSERT_STATUS(o2p_context_set_tensor_address(ctx, "y", y), O2P_OK);
    TU_ASSERT_STATUS(o2p_context_enqueue(ctx, NULL), O2P_OK);
    const float want[6] = {9, 1, 2, 3, 4, 5};
    for (int i = 0; i < 6; i++)
        ck_assert_msg(y[i] == want[i], "y[%d] is %g, expected %g", i, y[i], want[i]);
    o2p_context_destroy(ctx);
    o2p_engine_destroy(e);
    o2p_runtime_destroy(rt);
    o2p_free(plan);
    o2p_builder_config_destroy(cfg);
    o2p_builder_destroy(b);
    o2p_network_destroy(n);
}
END_TEST

int main(void)
{
    tu_quiet_log();
    Suite *s = suite_create("sequence");
    TCase *rw = tcase_create("rewrites");
    tcase_add_test(rw, test_list_ops_and_at);
    tcase_add_test(rw, test_at_is_identity);
    tcase_add_test(rw, test_concat_from_sequence);
    tcase_add_test(rw, test_concat_new_axis_opset11);
    tcase_add_test(rw, test_split_to_sequence);
    tcase_add_test(rw, test_sequence_map);
    tcase_add_test(rw, test_if_sequence_inlined);
    tcase_add_test(rw, test_sequence_io);
    tcase_add_test(rw, test_optionals);
    tcase_add_test(rw, test_no_sequences_untouched);
    tcase_add_test(rw, test_loop_over_sequence_unrolled);
    suite_add_tcase(s, rw);
    TCase *rf = tcase_create("refusals");
    tcase_add_test(rf, test_refuse_position_not_constant);
    tcase_add_test(rf, test_refuse_position_out_of_range);
    tcase_add_test(rf, test_refuse_split_not_constant);
    tcase_add_test(rf, test_refuse_split_unknown_length);
    tcase_add_test(rf, test_refuse_if_condition_not_constant);
    tcase_add_test(rf, test_refuse_loop_with_sequence);
    tcase_add_test(rf, test_refuse_tensor_op_on_sequence);
    tcase_add_test(rf, test_refuse_get_element_of_empty);
    suite_add_tcase(s, rf);
    TCase *run = tcase_create("run");
    tcase_add_test(run, test_build_and_run_host);
    suite_add_tcase(s, run);
    return tu_run_suite(s);
}
