/* infer_control.c: shape inference of the control-flow operators If, Loop and Scan, which
 * infer their subgraphs (ir_infer_graph) after giving the body inputs their types. */
#include <stdlib.h>
#include <string.h>

#include "ir/infer_ops.h"

/* Keeps in `a` what `b` agrees with: a dim both have (equal known, or the same symbol);
 * a different rank makes the rank unknown. */
static void loosen(ir_shape *a, const ir_shape *b)
{
    if (a->rank < 0)
        return;
    if (b->rank != a->rank) {
        ir_shape_unknown(a);
        return;
    }
    for (int i = 0; i < a->rank; i++)
        if (!inf_dim_same(a->dims[i], b->dims[i]))
            a->dims[i] = IR_DIM_UNKNOWN;
}

static int shape_equal(const ir_shape *a, const ir_shape *b)
{
    if (a->rank != b->rank)
        return 0;
    for (int i = 0; i < a->rank; i++) {
        const ir_dim *x = &a->dims[i], *y = &b->dims[i];
        if (x->value != y->value)
            return 0;
        if ((x->sym == NULL) != (y->sym == NULL) || (x->sym && strcmp(x->sym, y->sym) != 0))
            return 0;
    }
    return 1;
}

static ir_graph *need_graph(ir_infer_ctx *ctx, const char *name, o2p_status *st)
{
    ir_graph *g = ir_attr_graph(ctx->layer, name);
    *st = O2P_OK;
    if (!g)
        *st = ir_infer_error(ctx, "the graph attribute '%s' is required", name);
    return g;
}

static void set_body_input(ir_tensor *t, o2p_dtype dtype, const ir_shape *shape)
{
    if (dtype != O2P_DTYPE_UNDEFINED)
        t->dtype = dtype;
    t->shape = *shape;
    t->values = NULL;
}

static o2p_status check_scalar_input(ir_infer_ctx *ctx, int i, o2p_dtype want, const char *what)
{
    if (!inf_has(ctx, i))
        return O2P_OK;
    o2p_dtype t = inf_dtype(ctx, i);
    if (t != O2P_DTYPE_UNDEFINED && t != want)
        return ir_infer_error(ctx, "%s '%s' is %s; it must be %s", what, inf_name(ctx, i),
                              o2p_dtype_name(t), o2p_dtype_name(want));
    ir_shape s;
    inf_shape(ctx, i, &s);
    int ok;
    int64_t n = ir_shape_numel(&s, &ok);
    if (s.rank > 1 || (ok && n != 1))
        return ir_infer_error(ctx, "%s '%s' must hold exactly one value", what, inf_name(ctx, i));
    return O2P_OK;
}

/* ---------------------------------------------------------------- If */

o2p_status inf_if(ir_infer_ctx *ctx)
{
    o2p_status st;
    ir_graph *tg = need_graph(ctx, "then_branch", &st);
    if (!tg)
        return st;
    ir_graph *eg = need_graph(ctx, "else_branch", &st);
    if (!eg)
        return st;
    O2P_TRY(check_scalar_input(ctx, 0, O2P_DTYPE_BOOL, "condition"));
    int nout = ctx->layer->num_outputs;
    if (tg->outputs.count != nout || eg->outputs.count != nout)
        return ir_infer_error(ctx, "the branches have %d and %d outputs but the node has %d",
                              tg->outputs.count, eg->outputs.count, nout);
    inf_reset_graph(ctx->net, tg);
    inf_reset_graph(ctx->net, eg);
    O2P_TRY(ir_infer_graph(ctx->net, tg));
    O2P_TRY(ir_infer_graph(ctx->net, eg));
    ir_values cv;
    int cond = -1;
    if (inf_values(ctx, 0, &cv) && cv.count == 1 && cv.e[0].known)
        cond = cv.e[0].value != 0;
    for (int i = 0; i < nout; i++) {
        const ir_tensor *a = tg->outputs.items[i], *b = eg->outputs.items[i];
        if (cond >= 0) {
            /* a known condition: the branch taken decides */
            const ir_tensor *c = cond ? a : b;
            O2P_TRY(inf_out(ctx, i, c->dtype, &c->shape));
            if (c->values)
                O2P_TRY(ir_set_output_values(ctx, i, c->values));
            continue;
        }
        if (a->dtype != O2P_DTYPE_UNDEFINED && b->dtype != O2P_DTYPE_UNDEFINED &&
            a->dtype != b->dtype)
            return ir_infer_error(ctx,
                                  "output %d is %s in the then branch ('%s') but %s in the "
                                  "else branch ('%s')",
                                  i, o2p_dtype_name(a->dtype), a->name, o2p_dtype_name(b->dtype),
                                  b->name);
        o2p_dtype t = a->dtype != O2P_DTYPE_UNDEFINED ? a->dtype : b->dtype;
        ir_shape s = a->shape;
        if (b->shape.rank < 0)
            ir_shape_unknown(&s);
        else
            loosen(&s, &b->shape);
        O2P_TRY(inf_out(ctx, i, t, &s));
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- loop bodies */

#define BODY_ROUNDS 8
/* Bodies nested deeper than this start with loop-carried values of unknown shape and are
 * inferred once: re-inferring a body re-infers the loops inside it, so rounds at every
 * level of a deep nest would multiply. */
#define BODY_DEEP 3

/* Infers `body` with its state inputs (body inputs first_in.., outputs first_out..) typed
 * from states[]; when an iteration changes a state's shape, the state is loosened to what
 * both agree on and the body inferred again, until the shapes hold. */
static o2p_status infer_body(ir_infer_ctx *ctx, ir_graph *body, int first_in, int first_out,
                             int nstate, const o2p_dtype *dtypes, ir_shape *states)
{
    int depth = 0;
    for (const ir_graph *g = body->parent; g; g = g->parent)
        depth++;
    if (depth > BODY_DEEP)
        for (int i = 0; i < nstate; i++)
            ir_shape_unknown(&states[i]);
    for (int round = 0;; round++) {
        for (int i = 0; i < nstate; i++)
            set_body_input(body->inputs.items[first_in + i], dtypes[i], &states[i]);
        inf_reset_graph(ctx->net, body);
        O2P_TRY(ir_infer_graph(ctx->net, body));
        int changed = 0;
        for (int i = 0; i < nstate; i++) {
            const ir_tensor *o = body->outputs.items[first_out + i];
            if (dtypes[i] != O2P_DTYPE_UNDEFINED && o->dtype != O2P_DTYPE_UNDEFINED &&
                o->dtype != dtypes[i])
                return ir_infer_error(ctx,
                                      "loop-carried value %d enters the body as %s but "
                                      "leaves it as %s ('%s')",
                                      i, o2p_dtype_name(dtypes[i]), o2p_dtype_name(o->dtype),
                                      o->name);
            ir_shape s = states[i];
            if (o->shape.rank < 0)
                ir_shape_unknown(&s);
            else
                loosen(&s, &o->shape);
            if (!shape_equal(&s, &states[i])) {
                changed = 1;
                states[i] = round + 1 >= BODY_ROUNDS ? (ir_shape){.rank = -1} : s;
            }
        }
        if (!changed)
            return O2P_OK;
    }
}

/* Whether the body's condition output stays true on every iteration (it is the condition
 * input passed through, or a known true). */
static int cond_always_true(const ir_graph *body)
{
    const ir_tensor *c = body->outputs.items[0];
    if (c == body->inputs.items[1])
        return 1;
    if (c->values && c->values->count == 1 && c->values->e[0].known)
        return c->values->e[0].value != 0;
    int64_t v;
    if (ir_tensor_is_const(c) && ir_tensor_numel_const(c) == 1 && ir_const_get_i64(c, 0, &v))
        return v != 0;
    /* an Identity of the condition input */
    if (c->producer && strcmp(c->producer->op_type, "Identity") == 0 &&
        c->producer->num_inputs == 1 && c->producer->inputs[0] == body->inputs.items[1])
        return 1;
    return 0;
}

o2p_status inf_loop(ir_infer_ctx *ctx)
{
    o2p_status st;
    ir_graph *body = need_graph(ctx, "body", &st);
    if (!body)
        return st;
    const ir_layer *l = ctx->layer;
    int n = l->num_inputs - 2;
    if (n < 0)
        return ir_infer_error(ctx, "Loop needs the trip count and condition inputs (which may "
                                   "be omitted, but not left out of the input list)");
    if (body->inputs.count != n + 2)
        return ir_infer_error(ctx,
                              "the body has %d inputs; it needs %d (iteration number, "
                              "condition and %d loop-carried values)",
                              body->inputs.count, n + 2, n);
    int k = body->outputs.count - 1 - n;
    if (k < 0)
        return ir_infer_error(ctx,
                              "the body has %d outputs; it needs at least %d (condition "
                              "and %d loop-carried values)",
                              body->outputs.count, n + 1, n);
    if (l->num_outputs != n + k)
        return ir_infer_error(ctx,
                              "the node has %d outputs; its body gives %d loop-carried "
                              "values and %d scan outputs",
                              l->num_outputs, n, k);
    O2P_TRY(check_scalar_input(ctx, 0, O2P_DTYPE_INT64, "trip count"));
    O2P_TRY(check_scalar_input(ctx, 1, O2P_DTYPE_BOOL, "condition"));
    ir_shape scalar;
    inf_shape_rank(&scalar, 0);
    set_body_input(body->inputs.items[0], O2P_DTYPE_INT64, &scalar);
    set_body_input(body->inputs.items[1], O2P_DTYPE_BOOL, &scalar);
    ir_shape *states = calloc((size_t)(n > 0 ? n : 1), sizeof *states);
    o2p_dtype *dtypes = calloc((size_t)(n > 0 ? n : 1), sizeof *dtypes);
    if (!states || !dtypes) {
        free(states);
        free(dtypes);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory inferring loop '%s'", l->name);
    }
    for (int i = 0; i < n; i++) {
        const ir_tensor *bi = body->inputs.items[2 + i];
        inf_shape(ctx, 2 + i, &states[i]);
        if (states[i].rank < 0)
            states[i] = bi->shape; /* what the model declares for the body input */
        dtypes[i] = inf_dtype(ctx, 2 + i);
        if (dtypes[i] == O2P_DTYPE_UNDEFINED)
            dtypes[i] = bi->dtype;
    }
    st = infer_body(ctx, body, 2, 1, n, dtypes, states);
    for (int i = 0; st == O2P_OK && i < n; i++)
        st = inf_out(ctx, i, dtypes[i], &states[i]);
    free(states);
    free(dtypes);
    O2P_TRY(st);
    /* scan outputs: one slice per iteration, stacked on a new first axis */
    ir_dim iters = IR_DIM_UNKNOWN;
    int64_t m, c;
    if (inf_int_scalar(ctx, 0, &m) && m >= 0 &&
        (!inf_has(ctx, 1) || (inf_int_scalar(ctx, 1, &c) && c != 0)) && cond_always_true(body))
        iters = inf_dim(m);
    for (int j = 0; j < k; j++) {
        const ir_tensor *o = body->outputs.items[1 + n + j];
        ir_shape s;
        if (o->shape.rank < 0 || o->shape.rank + 1 > IR_MAX_RANK) {
            ir_shape_unknown(&s);
        } else {
            inf_shape_rank(&s, o->shape.rank + 1);
            s.dims[0] = iters;
            memcpy(&s.dims[1], o->shape.dims, (size_t)o->shape.rank * sizeof s.dims[0]);
        }
        O2P_TRY(inf_out(ctx, n + j, o->dtype, &s));
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- Scan */

static o2p_status remove_axis(ir_infer_ctx *ctx, const ir_shape *x, int64_t axis, const char *what,
                              ir_shape *out, ir_dim *removed)
{
    if (x->rank < 0) {
        ir_shape_unknown(out);
        *removed = IR_DIM_UNKNOWN;
        return O2P_OK;
    }
    int ax;
    O2P_TRY(inf_axis(ctx, axis, x->rank, what, &ax));
    *removed = x->dims[ax];
    *out = *x;
    for (int i = ax; i + 1 < x->rank; i++)
        out->dims[i] = x->dims[i + 1];
    out->rank--;
    return O2P_OK;
}

static o2p_status check_directions(ir_infer_ctx *ctx, const char *name, int count)
{
    int n;
    const int64_t *d = ir_attr_ints(ctx->layer, name, &n);
    if (!d)
        return O2P_OK;
    if (n != count)
        return ir_infer_error(ctx, "attribute '%s' has %d values; it needs %d", name, n, count);
    for (int i = 0; i < n; i++)
        if (d[i] != 0 && d[i] != 1)
            return ir_infer_error(ctx, "attribute '%s' has %lld; directions are 0 or 1", name,
                                  (long long)d[i]);
    return O2P_OK;
}

o2p_status inf_scan(ir_infer_ctx *ctx)
{
    o2p_status st;
    ir_graph *body = need_graph(ctx, "body", &st);
    if (!body)
        return st;
    const ir_layer *l = ctx->layer;
    const ir_attr *ns = ir_attr_find(l, "num_scan_inputs");
    if (!ns || ns->type != O2P_ATTR_INT)
        return ir_infer_error(ctx, "attribute 'num_scan_inputs' is required");
    int v8 = ctx->opset < 9;
    int first = v8 ? 1 : 0; /* opset 8 starts with the optional sequence_lens */
    int64_t m = ns->i;
    int n = l->num_inputs - first - (int)(m > l->num_inputs ? l->num_inputs : m);
    if (m < 1 || m > l->num_inputs - first || n < 0)
        return ir_infer_error(ctx, "num_scan_inputs is %lld but the node has %d inputs",
                              (long long)m, l->num_inputs - first);
    int k = l->num_outputs - n;
    if (k < 0)
        return ir_infer_error(ctx, "the node has %d outputs but %d state variables", l->num_outputs,
                              n);
    if (body->inputs.count != n + m || body->outputs.count != n + k)
        return ir_infer_error(ctx, "the body has %d inputs and %d outputs; it needs %lld and %d",
                              body->inputs.count, body->outputs.count, (long long)(n + m), n + k);
    int64_t in_axes[IR_MAX_VALUES], out_axes[IR_MAX_VALUES];
    int nia = -1, noa = -1;
    if (!v8) {
        if (m > IR_MAX_VALUES || k > IR_MAX_VALUES)
            return ir_infer_error(ctx,
                                  "Scan with more than %d scan inputs or outputs is not "
                                  "supported",
                                  IR_MAX_VALUES);
        O2P_TRY(inf_attr_ints(ctx, "scan_input_axes", in_axes, IR_MAX_VALUES, &nia));
        O2P_TRY(inf_attr_ints(ctx, "scan_output_axes", out_axes, IR_MAX_VALUES, &noa));
        if (nia >= 0 && nia != m)
            return ir_infer_error(ctx, "scan_input_axes has %d values for %lld scan inputs", nia,
                                  (long long)m);
        if (noa >= 0 && noa != k)
            return ir_infer_error(ctx, "scan_output_axes has %d values for %d scan outputs", noa,
                                  k);
        O2P_TRY(check_directions(ctx, "scan_input_directions", (int)m));
        O2P_TRY(check_directions(ctx, "scan_output_directions", k));
    } else {
        O2P_TRY(check_directions(ctx, "directions", (int)m));
    }
    ir_dim seq = IR_DIM_UNKNOWN, batch = IR_DIM_UNKNOWN;
    int seq_set = 0;
    /* scan inputs: one slice per iteration goes into the body */
    for (int j = 0; j < m; j++) {
        int idx = first + n + j;
        ir_shape x, slice;
        ir_dim len;
        inf_shape(ctx, idx, &x);
        if (v8) {
            ir_shape nb;
            ir_dim b;
            O2P_TRY(remove_axis(ctx, &x, 0, inf_name(ctx, idx), &nb, &b));
            O2P_TRY(remove_axis(ctx, &nb, 0, inf_name(ctx, idx), &slice, &len));
            if (batch.value < 0)
                batch = b;
        } else {
            O2P_TRY(
                remove_axis(ctx, &x, nia >= 0 ? in_axes[j] : 0, inf_name(ctx, idx), &slice, &len));
        }
        if (seq_set && seq.value >= 0 && len.value >= 0 && seq.value != len.value)
            return ir_infer_error(ctx, "scan input '%s' has %lld iterations but another has %lld",
                                  inf_name(ctx, idx), (long long)len.value, (long long)seq.value);
        if (!seq_set || (seq.value < 0 && len.value >= 0))
            seq = len;
        else if (!inf_dim_same(seq, len) && len.value < 0 && seq.value < 0)
            seq = IR_DIM_UNKNOWN;
        seq_set = 1;
        set_body_input(body->inputs.items[n + j], inf_dtype(ctx, idx), &slice);
    }
    ir_shape *states = calloc((size_t)(n > 0 ? n : 1), sizeof *states);
    o2p_dtype *dtypes = calloc((size_t)(n > 0 ? n : 1), sizeof *dtypes);
    if (!states || !dtypes) {
        free(states);
        free(dtypes);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory inferring scan '%s'", l->name);
    }
    st = O2P_OK;
    for (int i = 0; i < n && st == O2P_OK; i++) {
        ir_shape x;
        ir_dim b;
        inf_shape(ctx, first + i, &x);
        dtypes[i] = inf_dtype(ctx, first + i);
        if (v8) {
            st = remove_axis(ctx, &x, 0, inf_name(ctx, first + i), &states[i], &b);
            if (batch.value < 0)
                batch = b;
        } else {
            states[i] = x;
        }
    }
    if (st == O2P_OK)
        st = infer_body(ctx, body, 0, 0, n, dtypes, states);
    for (int i = 0; st == O2P_OK && i < n; i++) {
        ir_shape s = states[i];
        if (v8 && s.rank >= 0) {
            if (s.rank + 1 > IR_MAX_RANK) {
                ir_shape_unknown(&s);
            } else {
                memmove(&s.dims[1], &s.dims[0], (size_t)s.rank * sizeof s.dims[0]);
                s.dims[0] = batch;
                s.rank++;
            }
        }
        st = inf_out(ctx, i, dtypes[i], &s);
    }
    free(states);
    free(dtypes);
    O2P_TRY(st);
    for (int j = 0; j < k; j++) {
        const ir_tensor *o = body->outputs.items[n + j];
        ir_shape s;
        int extra = v8 ? 2 : 1;
        if (o->shape.rank < 0 || o->shape.rank + extra > IR_MAX_RANK) {
            ir_shape_unknown(&s);
        } else if (v8) {
            inf_shape_rank(&s, o->shape.rank + 2);
            s.dims[0] = batch;
            s.dims[1] = seq;
            memcpy(&s.dims[2], o->shape.dims, (size_t)o->shape.rank * sizeof s.dims[0]);
        } else {
            int r = o->shape.rank + 1;
            int64_t a = noa >= 0 ? out_axes[j] : 0;
            if (a < -(int64_t)r || a >= r)
                return ir_infer_error(ctx,
                                      "scan_output_axes has %lld, out of range for the "
                                      "rank %d scan output %d",
                                      (long long)a, r, j);
            int ax = (int)(a < 0 ? a + r : a);
            inf_shape_rank(&s, r);
            for (int i = 0, src = 0; i < r; i++)
                s.dims[i] = i == ax ? seq : o->shape.dims[src++];
        }
        O2P_TRY(inf_out(ctx, n + j, o->dtype, &s));
    }
    return O2P_OK;
}
