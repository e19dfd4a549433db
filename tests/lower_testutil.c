/* lower_testutil.c: the CUDA lowering tests' shared fixture (lower_testutil.h): layers by hand,
 * candidates() and lower() into a cg_emit, and the checks of the launches. */
#include "lower_testutil.h"

#include <string.h>

const cg_options lt_options = {80, 90, 1, 0, 0, 0xffffffffu};

void lt_init(lt_layer *t, const char *op, int64_t opset)
{
    memset(t, 0, sizeof *t);
    t->l.args.op_type = op;
    t->l.args.layer_name = "n0";
    t->l.args.opset = opset;
    t->l.args.inputs = t->ins;
    t->l.args.outputs = t->outs;
    t->l.args.attrs = t->attrs;
    t->l.input_tensors = t->it;
    t->l.output_tensors = t->ot;
    t->l.output_shape_tensors = t->st;
    t->out_base = 10;
    for (int i = 0; i < LT_MAX_INPUTS; i++)
        t->it[i] = -1;
    for (int i = 0; i < LT_MAX_OUTPUTS; i++)
        t->ot[i] = t->st[i] = -1;
    cg_emit_init(&t->e);
}

void lt_free(lt_layer *t)
{
    cg_emit_free(&t->e);
}

static void set_shape(host_tensor *x, o2p_dtype dt, int rank, const int64_t *dims)
{
    ck_assert_int_le(rank, HOST_MAX_RANK);
    memset(x, 0, sizeof *x);
    x->dtype = dt;
    x->rank = rank;
    if (rank > 0) /* a scalar may come with no dims at all */
        memcpy(x->dims, dims, (size_t)rank * sizeof(int64_t));
}

host_tensor *lt_in(lt_layer *t, int i, o2p_dtype dt, int rank, const int64_t *dims)
{
    ck_assert_int_lt(i, LT_MAX_INPUTS);
    host_tensor *x = &t->in[i];
    set_shape(x, dt, rank, dims);
    t->ins[i] = x;
    t->it[i] = i;
    if (t->l.args.num_inputs < i + 1)
        t->l.args.num_inputs = i + 1;
    return x;
}

host_tensor *lt_add_in(lt_layer *t, o2p_dtype dt, int rank, const int64_t *dims)
{
    int i = t->l.args.num_inputs;
    if (dt != O2P_DTYPE_UNDEFINED)
        return lt_in(t, i, dt, rank, dims);
    ck_assert_int_lt(i, LT_MAX_INPUTS);
    t->l.args.num_inputs = i + 1;
    return NULL;
}

host_tensor *lt_const_in(lt_layer *t, int i, o2p_dtype dt, int rank, const int64_t *dims,
                         const void *values)
{
    host_tensor *x = lt_in(t, i, dt, rank, dims);
    int ok;
    size_t bytes = (size_t)host_numel(x, &ok) * o2p_dtype_size(dt);
    ck_assert_msg(ok && bytes <= sizeof t->data[i], "constant input %d: %zu bytes", i, bytes);
    memcpy(t->data[i], values, bytes);
    x->data = t->data[i];
    return x;
}

host_tensor *lt_out(lt_layer *t, int i, o2p_dtype dt, int rank, const int64_t *dims)
{
    ck_assert_int_lt(i, LT_MAX_OUTPUTS);
    host_tensor *x = &t->out[i];
    set_shape(x, dt, rank, dims);
    t->outs[i] = x;
    t->ot[i] = t->out_base + i;
    if (t->l.args.num_outputs < i + 1)
        t->l.args.num_outputs = i + 1;
    return x;
}

host_tensor *lt_dynamic_out(lt_layer *t, int i, o2p_dtype dt, int rank, const int64_t *dims)
{
    host_tensor *x = lt_out(t, i, dt, rank, dims);
    t->st[i] = LT_SHAPE_TENSOR_BASE + i;
    return x;
}

host_tensor *lt_add_out(lt_layer *t, o2p_dtype dt, int rank, const int64_t *dims)
{
    int i = t->l.args.num_outputs;
    if (dt != O2P_DTYPE_UNDEFINED)
        return lt_out(t, i, dt, rank, dims);
    ck_assert_int_lt(i, LT_MAX_OUTPUTS);
    t->l.args.num_outputs = i + 1;
    return NULL;
}

host_tensor *lt_view(lt_layer *t, o2p_dtype dt, int rank, const int64_t *dims, const void *data)
{
    ck_assert_int_lt(t->num_views, LT_MAX_VIEWS);
    host_tensor *x = &t->views[t->num_views++];
    set_shape(x, dt, rank, dims);
    x->data = (void *)data;
    return x;
}

void lt_use_in(lt_layer *t, const host_tensor *x)
{
    int i = t->l.args.num_inputs++;
    ck_assert_int_lt(i, LT_MAX_INPUTS);
    t->ins[i] = x;
    t->it[i] = x ? i : -1;
}

void lt_use_out(lt_layer *t, host_tensor *x)
{
    int i = t->l.args.num_outputs++;
    ck_assert_int_lt(i, LT_MAX_OUTPUTS);
    t->outs[i] = x;
    t->ot[i] = x ? t->out_base + i : -1;
}

host_attr *lt_attr(lt_layer *t, const char *name, o2p_attr_type type)
{
    ck_assert_int_lt(t->l.args.num_attrs, LT_MAX_ATTRS);
    host_attr *a = &t->attrs[t->l.args.num_attrs++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = type;
    return a;
}

void lt_attr_int(lt_layer *t, const char *name, int64_t v)
{
    lt_attr(t, name, O2P_ATTR_INT)->i = v;
}

void lt_attr_float(lt_layer *t, const char *name, float v)
{
    lt_attr(t, name, O2P_ATTR_FLOAT)->f = v;
}

void lt_attr_str(lt_layer *t, const char *name, const char *v)
{
    lt_attr(t, name, O2P_ATTR_STRING)->s = v;
}

void lt_attr_ints(lt_layer *t, const char *name, const int64_t *v, int n)
{
    host_attr *a = lt_attr(t, name, O2P_ATTR_INTS);
    a->ints = v;
    a->count = n;
}

void lt_attr_floats(lt_layer *t, const char *name, const float *v, int n)
{
    host_attr *a = lt_attr(t, name, O2P_ATTR_FLOATS);
    a->floats = v;
    a->count = n;
}

void lt_attr_strs(lt_layer *t, const char *name, const char *const *v, int n)
{
    host_attr *a = lt_attr(t, name, O2P_ATTR_STRINGS);
    a->strings = v;
    a->count = n;
}

const cg_op *lt_op(const lt_layer *t)
{
    const char *op_type = t->l.args.op_type;
    const cg_op *op = t->domain ? cg_op_lookup(t->domain, op_type) : cg_op_find(op_type);
    if (t->domain)
        ck_assert_msg(op != NULL, "no lowering for %s.%s", t->domain, op_type);
    else
        ck_assert_msg(op != NULL, "no lowering for %s", op_type);
    return op;
}

int lt_candidates(lt_layer *t, cg_tactic *tac, const char **why)
{
    cg_tactic mine[LT_MAX_TACTICS];
    *why = NULL;
    return lt_op(t)->candidates(&t->l, &lt_options, tac ? tac : mine, LT_MAX_TACTICS, why);
}

o2p_status lt_lower_tactic(lt_layer *t, cg_tactic *chosen)
{
    cg_tactic tac[LT_MAX_TACTICS];
    const char *why;
    int n = lt_candidates(t, tac, &why);
    ck_assert_msg(n == 1, "%s: %d candidates (%s)", t->l.args.op_type, n, why ? why : "");
    ck_assert(tac[0].cost > 0.0);
    if (chosen)
        *chosen = tac[0];
    return lt_op(t)->lower(&t->l, &tac[0], &lt_options, &t->e);
}

o2p_status lt_lower(lt_layer *t)
{
    return lt_lower_tactic(t, NULL);
}

void lt_assert_no_candidate(lt_layer *t, const char *why_part)
{
    const char *why;
    ck_assert_int_eq(lt_candidates(t, NULL, &why), 0);
    ck_assert_msg(tu_contains(why, why_part), "why: %s", why ? why : "(none)");
}

const cg_launch *lt_launch(const lt_layer *t, int i)
{
    ck_assert_int_lt(i, t->e.count);
    return &t->e.launches[i];
}

void lt_assert_kernel(const cg_launch *k, const char *family, const char *fn,
                      uint32_t param_size)
{
    ck_assert_int_eq(k->kind, CG_LAUNCH_KERNEL);
    ck_assert_str_eq(k->family, family);
    ck_assert_str_eq(k->function, fn);
    ck_assert_uint_eq(k->param_size, param_size);
}

void lt_assert_covers(const cg_launch *k, uint64_t n)
{
    uint64_t threads = (uint64_t)k->grid[0] * k->block[0];
    ck_assert_msg(threads >= n || k->grid[0] == 0x7fffffffu, "%s: %llu threads for %llu",
                  k->function, (unsigned long long)threads, (unsigned long long)n);
    ck_assert_uint_eq(k->block[0] % 32, 0);
}

void lt_assert_kernel_for(const cg_launch *k, const char *family, const char *fn,
                          uint32_t param_size, uint64_t n)
{
    lt_assert_kernel(k, family, fn, param_size);
    lt_assert_covers(k, n);
}

const cg_patch *lt_find_patch(const cg_launch *k, size_t off)
{
    for (int i = 0; i < k->num_patches; i++)
        if (k->patches[i].param_offset == off)
            return &k->patches[i];
    return NULL;
}

int lt_has_patch(const cg_launch *k, size_t off)
{
    return lt_find_patch(k, off) != NULL;
}

int lt_patch_tensor(const cg_launch *k, size_t off, uint64_t *byte_offset)
{
    const cg_patch *p = lt_find_patch(k, off);
    ck_assert_msg(p != NULL, "kernel %s: no address patched at offset %zu", k->function, off);
    if (byte_offset)
        *byte_offset = p->byte_offset;
    return p->tensor;
}

void lt_assert_patch(const cg_launch *k, size_t off, int tensor, uint64_t byte_offset)
{
    uint64_t at;
    ck_assert_int_eq(lt_patch_tensor(k, off, &at), tensor);
    ck_assert_uint_eq(at, byte_offset);
}

void lt_assert_refused(o2p_status st, o2p_status want, const char *needle)
{
    ck_assert_int_eq(st, want);
    ck_assert_msg(strstr(o2p_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  o2p_last_error(), needle);
}
