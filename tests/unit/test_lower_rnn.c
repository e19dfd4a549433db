/* test_lower_rnn.c: the CUDA lowerings of the rnn family (src/codegen/lower_rnn.c) without a
 * GPU: LSTM, GRU and RNN layers built by hand go through candidates() and lower(); the
 * launches' kernel names, grids, device-address patches and parameter fields are checked
 * against what kernels/cuda/rnn.cu expects, and bad shapes, types and attributes are refused
 * with a message. */
#include <stddef.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/rnn_params.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define F16 O2P_DTYPE_FLOAT16
#define F64 O2P_DTYPE_DOUBLE
#define I32 O2P_DTYPE_INT32
#define D(...) ((const int64_t[]){__VA_ARGS__})

/* A layer under construction: inputs are tensors 0.., outputs 10.. */
typedef struct tl {
    host_tensor in[8], out[3];
    const host_tensor *ins[8];
    host_tensor *outs[3];
    int it[8], ot[3];
    host_attr attrs[12];
    cg_layer l;
    cg_emit e;
} tl;

static void tl_init(tl *t, const char *op, int64_t opset)
{
    memset(t, 0, sizeof *t);
    t->l.args.op_type = op;
    t->l.args.layer_name = "r0";
    t->l.args.opset = opset;
    t->l.args.inputs = t->ins;
    t->l.args.outputs = t->outs;
    t->l.args.attrs = t->attrs;
    t->l.input_tensors = t->it;
    t->l.output_tensors = t->ot;
    for (int i = 0; i < 8; i++)
        t->it[i] = -1;
    for (int i = 0; i < 3; i++)
        t->ot[i] = -1;
    cg_emit_init(&t->e);
}

static host_tensor *tl_in(tl *t, int i, o2p_dtype dt, int rank, const int64_t *dims)
{
    host_tensor *x = &t->in[i];
    x->dtype = dt;
    x->rank = rank;
    memcpy(x->dims, dims, (size_t)rank * sizeof(int64_t));
    t->ins[i] = x;
    t->it[i] = i;
    if (t->l.args.num_inputs < i + 1)
        t->l.args.num_inputs = i + 1;
    return x;
}

static host_tensor *tl_out(tl *t, int i, o2p_dtype dt, int rank, const int64_t *dims)
{
    host_tensor *x = &t->out[i];
    x->dtype = dt;
    x->rank = rank;
    memcpy(x->dims, dims, (size_t)rank * sizeof(int64_t));
    t->outs[i] = x;
    t->ot[i] = 10 + i;
    if (t->l.args.num_outputs < i + 1)
        t->l.args.num_outputs = i + 1;
    return x;
}

static host_attr *tl_attr(tl *t, const char *name, o2p_attr_type type)
{
    host_attr *a = &t->attrs[t->l.args.num_attrs++];
    a->name = name;
    a->type = type;
    return a;
}

static void attr_int(tl *t, const char *name, int64_t v)
{
    tl_attr(t, name, O2P_ATTR_INT)->i = v;
}

static void attr_float(tl *t, const char *name, float v)
{
    tl_attr(t, name, O2P_ATTR_FLOAT)->f = v;
}

static void attr_str(tl *t, const char *name, const char *v)
{
    tl_attr(t, name, O2P_ATTR_STRING)->s = v;
}

static void attr_strs(tl *t, const char *name, const char *const *v, int n)
{
    host_attr *a = tl_attr(t, name, O2P_ATTR_STRINGS);
    a->strings = v;
    a->count = n;
}

static void attr_floats(tl *t, const char *name, const float *v, int n)
{
    host_attr *a = tl_attr(t, name, O2P_ATTR_FLOATS);
    a->floats = v;
    a->count = n;
}

static const cg_op *op_of(tl *t)
{
    const cg_op *op = cg_op_find(t->l.args.op_type);
    ck_assert_msg(op != NULL, "no lowering for %s", t->l.args.op_type);
    return op;
}

/* candidates() then lower() with the first candidate: the status of lower. */
static o2p_status tl_lower(tl *t)
{
    const cg_op *op = op_of(t);
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[4];
    const char *why = NULL;
    int n = op->candidates(&t->l, &o, tac, 4, &why);
    ck_assert_msg(n == 1, "%s: %d candidates (%s)", t->l.args.op_type, n, why ? why : "");
    ck_assert(tac[0].cost > 0.0);
    ck_assert(strncmp(tac[0].kernel, "cuda.rnn.", 9) == 0);
    o2p_status st = op->lower(&t->l, &tac[0], &o, &t->e);
    /* the tactic announces at least the workspace the launches use */
    if (st == O2P_OK)
        ck_assert_uint_ge(tac[0].workspace, t->e.workspace);
    return st;
}

static void tl_free(tl *t)
{
    cg_emit_free(&t->e);
}

/* The launch's patch at param offset off: its tensor, -99 when there is none. */
static int patch_tensor(const cg_launch *k, size_t off, uint64_t *byte_offset)
{
    for (int i = 0; i < k->num_patches; i++)
        if (k->patches[i].param_offset == off) {
            if (byte_offset)
                *byte_offset = k->patches[i].byte_offset;
            return k->patches[i].tensor;
        }
    return -99;
}

static void assert_kernel(const cg_launch *k, const char *fn)
{
    ck_assert_int_eq(k->kind, CG_LAUNCH_KERNEL);
    ck_assert_str_eq(k->family, "rnn");
    ck_assert_str_eq(k->function, fn);
    ck_assert_uint_eq(k->param_size, sizeof(o2p_rnn_params));
}

static const o2p_rnn_params *params_of(const cg_launch *k)
{
    return (const o2p_rnn_params *)(const void *)k->params;
}

#define OFF(f) offsetof(o2p_rnn_params, f)

/* ---------------------------------------------------------------- the table */

START_TEST(test_table)
{
    static const char *const ops[] = {"GRU", "LSTM", "RNN"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const cg_op *op = cg_op_find(ops[i]);
        ck_assert_msg(op && op->candidates && op->lower, "%s is not lowered", ops[i]);
        ck_assert_str_eq(op->op_type, ops[i]);
    }
    ck_assert_int_eq(cg_rnn_op_count, 3);
    ck_assert_uint_eq(sizeof(o2p_rnn_params), O2P_RNN_PARAMS_SIZE);
}
END_TEST

/* ---------------------------------------------------------------- LSTM */

/* Bidirectional, layout 0, every input and output: the projection covers seq*batch x 4H for
 * both directions, the recurrence one block per (batch, direction), every address patched. */
START_TEST(test_lstm_bidirectional_all_inputs)
{
    tl t;
    tl_init(&t, "LSTM", 7);
    const int64_t S = 5, B = 3, I = 7, H = 20;
    tl_in(&t, 0, F32, 3, D(S, B, I));
    tl_in(&t, 1, F32, 3, D(2, 4 * H, I));
    tl_in(&t, 2, F32, 3, D(2, 4 * H, H));
    tl_in(&t, 3, F32, 2, D(2, 8 * H));
    tl_in(&t, 4, I32, 1, D(B));
    tl_in(&t, 5, F32, 3, D(2, B, H));
    tl_in(&t, 6, F32, 3, D(2, B, H));
    tl_in(&t, 7, F32, 2, D(2, 3 * H));
    tl_out(&t, 0, F32, 4, D(S, 2, B, H));
    tl_out(&t, 1, F32, 3, D(2, B, H));
    tl_out(&t, 2, F32, 3, D(2, B, H));
    attr_str(&t, "direction", "bidirectional");
    attr_int(&t, "hidden_size", H);
    attr_int(&t, "input_forget", 1);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);

    const cg_launch *proj = &t.e.launches[0], *seq = &t.e.launches[1];
    assert_kernel(proj, "o2p_rnn_proj_f32");
    assert_kernel(seq, "o2p_rnn_seq_f32");
    ck_assert_uint_eq(proj->block[0], O2P_RNN_TILE);
    ck_assert_uint_eq(proj->block[1], O2P_RNN_TILE);
    ck_assert_uint_ge((uint64_t)proj->grid[0] * O2P_RNN_TILE, 4 * H);
    ck_assert_uint_ge((uint64_t)proj->grid[1] * O2P_RNN_TILE, S * B);
    ck_assert_uint_eq(proj->grid[2], 2);
    ck_assert_uint_eq(seq->grid[0], B);
    ck_assert_uint_eq(seq->grid[1], 2);
    ck_assert_uint_eq(seq->block[0], O2P_RNN_THREADS);

    for (int li = 0; li < 2; li++) {
        const cg_launch *k = &t.e.launches[li];
        static const size_t in_off[8] = {OFF(x_ptr),   OFF(w_ptr),  OFF(r_ptr),  OFF(b_ptr),
                                         OFF(seq_ptr), OFF(h0_ptr), OFF(c0_ptr), OFF(p_ptr)};
        for (int i = 0; i < 8; i++)
            ck_assert_int_eq(patch_tensor(k, in_off[i], NULL), i);
        ck_assert_int_eq(patch_tensor(k, OFF(y_ptr), NULL), 10);
        ck_assert_int_eq(patch_tensor(k, OFF(yh_ptr), NULL), 11);
        ck_assert_int_eq(patch_tensor(k, OFF(yc_ptr), NULL), 12);
        uint64_t po = 0, so = 0;
        ck_assert_int_eq(patch_tensor(k, OFF(proj_ptr), &po), CG_TENSOR_WORKSPACE);
        ck_assert_int_eq(patch_tensor(k, OFF(state_ptr), &so), CG_TENSOR_WORKSPACE);
        /* the two areas do not overlap and fit in the workspace */
        uint64_t proj_bytes = 2u * S * B * 4 * H * 4, state_bytes = 2u * B * (3 * H + 4 * H) * 4;
        ck_assert(po + proj_bytes <= so || so + state_bytes <= po);
        ck_assert_uint_le(po + proj_bytes, t.e.workspace);
        ck_assert_uint_le(so + state_bytes, t.e.workspace);
    }
    const o2p_rnn_params *p = params_of(seq);
    ck_assert_int_eq(p->seq, S);
    ck_assert_int_eq(p->batch, B);
    ck_assert_int_eq(p->input, I);
    ck_assert_int_eq(p->hidden, H);
    ck_assert_int_eq(p->kind, O2P_RNN_LSTM);
    ck_assert_int_eq(p->gates, 4);
    ck_assert_int_eq(p->dirs, 2);
    ck_assert_int_eq(p->reverse[0], 0);
    ck_assert_int_eq(p->reverse[1], 1);
    ck_assert_int_eq(p->input_forget, 1);
    ck_assert_int_eq(p->has_clip, 0);
    ck_assert_int_eq(p->seq_dtype, O2P_CU_INT32);
    /* layout 0 strides: X [S, B, I], Y [S, 2, B, H], states [2, B, H] */
    ck_assert_int_eq(p->x_ts, B * I);
    ck_assert_int_eq(p->x_bs, I);
    ck_assert_int_eq(p->y_ts, 2 * B * H);
    ck_assert_int_eq(p->y_ds, B * H);
    ck_assert_int_eq(p->y_bs, H);
    ck_assert_int_eq(p->s_ds, B * H);
    ck_assert_int_eq(p->s_bs, H);
    /* the default activations f=Sigmoid g=Tanh h=Tanh, for both directions */
    static const int acts[6] = {O2P_RNN_ACT_SIGMOID, O2P_RNN_ACT_TANH, O2P_RNN_ACT_TANH,
                                O2P_RNN_ACT_SIGMOID, O2P_RNN_ACT_TANH, O2P_RNN_ACT_TANH};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(p->act[i], acts[i]);
    ck_assert(memcmp(proj->params, seq->params, sizeof(o2p_rnn_params)) == 0);
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- GRU */

/* Layout 1 (opset 14), float16, reverse, linear_before_reset, clip, explicit activations with
 * alpha/beta, Y omitted: the f16 kernels, layout-1 strides, no Y address, activations
 * consuming alpha/beta in order. */
START_TEST(test_gru_layout1_half_reverse)
{
    tl t;
    tl_init(&t, "GRU", 14);
    const int64_t S = 4, B = 2, I = 3, H = 5;
    tl_in(&t, 0, F16, 3, D(B, S, I));
    tl_in(&t, 1, F16, 3, D(1, 3 * H, I));
    tl_in(&t, 2, F16, 3, D(1, 3 * H, H));
    tl_out(&t, 1, F16, 3, D(B, 1, H));
    attr_int(&t, "layout", 1);
    attr_str(&t, "direction", "reverse");
    attr_int(&t, "linear_before_reset", 1);
    attr_float(&t, "clip", 2.5f);
    static const char *const names[] = {"HardSigmoid", "leakyrelu"};
    static const float alphas[] = {0.3f, 0.05f}, betas[] = {0.4f};
    attr_strs(&t, "activations", names, 2);
    attr_floats(&t, "activation_alpha", alphas, 2);
    attr_floats(&t, "activation_beta", betas, 1);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    assert_kernel(&t.e.launches[0], "o2p_rnn_proj_f16");
    assert_kernel(&t.e.launches[1], "o2p_rnn_seq_f16");
    const cg_launch *k = &t.e.launches[1];
    const o2p_rnn_params *p = params_of(k);
    ck_assert_int_eq(patch_tensor(k, OFF(y_ptr), NULL), -99);
    ck_assert_int_eq(patch_tensor(k, OFF(b_ptr), NULL), -99);
    ck_assert_int_eq(patch_tensor(k, OFF(h0_ptr), NULL), -99);
    ck_assert_int_eq(patch_tensor(k, OFF(yh_ptr), NULL), 11);
    ck_assert_uint_eq(p->y_ptr, 0);
    ck_assert_uint_eq(p->b_ptr, 0);
    ck_assert_int_eq(p->kind, O2P_RNN_GRU);
    ck_assert_int_eq(p->gates, 3);
    ck_assert_int_eq(p->dirs, 1);
    ck_assert_int_eq(p->reverse[0], 1);
    ck_assert_int_eq(p->linear_before_reset, 1);
    ck_assert_int_eq(p->has_clip, 1);
    ck_assert(p->clip == 2.5f);
    /* layout 1: X [B, S, I], Y [B, S, 1, H], Y_h [B, 1, H] */
    ck_assert_int_eq(p->x_ts, I);
    ck_assert_int_eq(p->x_bs, S * I);
    ck_assert_int_eq(p->y_ts, H);
    ck_assert_int_eq(p->y_ds, H);
    ck_assert_int_eq(p->y_bs, S * H);
    ck_assert_int_eq(p->s_ds, H);
    ck_assert_int_eq(p->s_bs, H);
    ck_assert_int_eq(p->act[0], O2P_RNN_ACT_HARD_SIGMOID);
    ck_assert_int_eq(p->act[1], O2P_RNN_ACT_LEAKY_RELU);
    ck_assert(p->alpha[0] == 0.3f && p->beta[0] == 0.4f);
    ck_assert(p->alpha[1] == 0.05f);
    /* workspace in float for float16 tensors */
    ck_assert_uint_ge(t.e.workspace, (uint64_t)S * B * 3 * H * 4 + (uint64_t)B * 6 * H * 4);
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- RNN, edge shapes */

/* A sequence of length 0 needs no projection (only the states are written); batch 0 emits
 * nothing; double tensors get the f64 kernels and a double workspace. */
START_TEST(test_rnn_edges)
{
    tl t;
    tl_init(&t, "RNN", 7);
    tl_in(&t, 0, F64, 3, D(0, 2, 3));
    tl_in(&t, 1, F64, 3, D(1, 4, 3));
    tl_in(&t, 2, F64, 3, D(1, 4, 4));
    tl_out(&t, 0, F64, 4, D(0, 1, 2, 4));
    tl_out(&t, 1, F64, 3, D(1, 2, 4));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    assert_kernel(&t.e.launches[0], "o2p_rnn_seq_f64");
    ck_assert_int_eq(patch_tensor(&t.e.launches[0], OFF(proj_ptr), NULL), -99);
    ck_assert_uint_ge(t.e.workspace, 2u * (3 * 4 + 4) * 8);
    ck_assert_int_eq(params_of(&t.e.launches[0])->act[0], O2P_RNN_ACT_TANH);
    tl_free(&t);

    tl_init(&t, "RNN", 7);
    tl_in(&t, 0, F32, 3, D(3, 0, 3));
    tl_in(&t, 1, F32, 3, D(1, 4, 3));
    tl_in(&t, 2, F32, 3, D(1, 4, 4));
    tl_out(&t, 0, F32, 4, D(3, 1, 0, 4));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 0);
    tl_free(&t);

    /* a long sequence: the projection's row tiles are capped (the kernel loops over them) */
    tl_init(&t, "RNN", 7);
    tl_in(&t, 0, F32, 3, D(100000, 20, 1));
    tl_in(&t, 1, F32, 3, D(1, 2, 1));
    tl_in(&t, 2, F32, 3, D(1, 2, 2));
    tl_out(&t, 1, F32, 3, D(1, 20, 2));
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    ck_assert_uint_eq(t.e.launches[0].grid[1], O2P_RNN_MAX_ROW_TILES);
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- refusals */

/* A valid forward LSTM [S=2, B=1, I=3], H=2, into t (outputs Y and Y_h). */
static void lstm_base(tl *t)
{
    tl_init(t, "LSTM", 7);
    tl_in(t, 0, F32, 3, D(2, 1, 3));
    tl_in(t, 1, F32, 3, D(1, 8, 3));
    tl_in(t, 2, F32, 3, D(1, 8, 2));
    tl_out(t, 0, F32, 4, D(2, 1, 1, 2));
    tl_out(t, 1, F32, 3, D(1, 1, 2));
}

START_TEST(test_refusals)
{
    tl t;
    const char *why = NULL;
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[2];

    /* integer X: no candidate, and why says so */
    tl_init(&t, "RNN", 7);
    tl_in(&t, 0, I32, 3, D(2, 1, 3));
    tl_in(&t, 1, I32, 3, D(1, 2, 3));
    tl_in(&t, 2, I32, 3, D(1, 2, 2));
    tl_out(&t, 1, I32, 3, D(1, 1, 2));
    ck_assert_int_eq(op_of(&t)->candidates(&t.l, &o, tac, 2, &why), 0);
    ck_assert(why && strstr(why, "float"));
    tl_free(&t);

    lstm_base(&t);
    TU_ASSERT_STATUS(tl_lower(&t), O2P_OK); /* the base is valid */
    tl_free(&t);

    lstm_base(&t);
    t.in[1].dims[1] = 6; /* W for 3 gates */
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("W");
    tl_free(&t);

    lstm_base(&t);
    attr_str(&t, "direction", "sideways");
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("sideways");
    tl_free(&t);

    lstm_base(&t);
    static const char *const bad[] = {"Sigmoid", "Swish", "Tanh"};
    attr_strs(&t, "activations", bad, 3);
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("Swish");
    tl_free(&t);

    lstm_base(&t);
    attr_strs(&t, "activations", bad, 2); /* LSTM needs 3 per direction */
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("activations");
    tl_free(&t);

    lstm_base(&t);
    attr_int(&t, "hidden_size", 3);
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("hidden_size");
    tl_free(&t);

    lstm_base(&t);
    t.out[1].dims[2] = 3; /* Y_h of the wrong hidden size */
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("output 1");
    tl_free(&t);

    lstm_base(&t);
    tl_in(&t, 2, F16, 3, D(1, 8, 2)); /* R's type differs from X's */
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("R");
    tl_free(&t);

    lstm_base(&t);
    t.l.args.opset = 14;
    attr_int(&t, "layout", 2);
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("layout");
    tl_free(&t);

    lstm_base(&t);
    tl_in(&t, 7, F32, 2, D(1, 4)); /* P must be [1, 3H] = [1, 6] */
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("P");
    tl_free(&t);

    lstm_base(&t);
    attr_float(&t, "clip", -1.0f);
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("clip");
    tl_free(&t);

    /* constant sequence lengths are checked at build time, as the host checks them */
    lstm_base(&t);
    static const int32_t lens[1] = {3};
    host_tensor *sl = tl_in(&t, 4, I32, 1, D(1));
    sl->data = (void *)lens;
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("sequence_lens");
    tl_free(&t);

    /* GRU has no third output */
    tl_init(&t, "GRU", 7);
    tl_in(&t, 0, F32, 3, D(2, 1, 3));
    tl_in(&t, 1, F32, 3, D(1, 6, 3));
    tl_in(&t, 2, F32, 3, D(1, 6, 2));
    tl_out(&t, 2, F32, 3, D(1, 1, 2));
    TU_ASSERT_FAILS(tl_lower(&t));
    TU_ASSERT_ERROR_HAS("output 2");
    tl_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lower_rnn");
    TCase *tc = tcase_create("lower_rnn");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_lstm_bidirectional_all_inputs);
    tcase_add_test(tc, test_gru_layout1_half_reverse);
    tcase_add_test(tc, test_rnn_edges);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
