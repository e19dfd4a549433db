/* test_lower_rnn.c: the CUDA lowerings of the rnn family (src/codegen/lower_rnn.c) without a
 * GPU: LSTM, GRU and RNN layers built by hand go through candidates() and lower(); the
 * launches' kernel names, grids, device-address patches and parameter fields are checked
 * against what kernels/cuda/rnn.cu expects, and bad shapes, types and attributes are refused
 * with a message. */
#include <stddef.h>
#include <string.h>

#include "cuda/rnn_params.h"
#include "lower_testutil.h"

/* candidates() offers one rnn tactic, which announces at least the workspace its launches use;
 * then lower(). */
static o2p_status rnn_lower(lt_layer *t)
{
    cg_tactic tac;
    o2p_status st = lt_lower_tactic(t, &tac);
    ck_assert(strncmp(tac.kernel, "cuda.rnn.", 9) == 0);
    if (st == O2P_OK)
        ck_assert_uint_ge(tac.workspace, t->e.workspace);
    return st;
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
    lt_layer t;
    lt_init(&t, "LSTM", 7);
    const int64_t S = 5, B = 3, I = 7, H = 20;
    lt_in(&t, 0, F32, 3, D(S, B, I));
    lt_in(&t, 1, F32, 3, D(2, 4 * H, I));
    lt_in(&t, 2, F32, 3, D(2, 4 * H, H));
    lt_in(&t, 3, F32, 2, D(2, 8 * H));
    lt_in(&t, 4, I32, 1, D(B));
    lt_in(&t, 5, F32, 3, D(2, B, H));
    lt_in(&t, 6, F32, 3, D(2, B, H));
    lt_in(&t, 7, F32, 2, D(2, 3 * H));
    lt_out(&t, 0, F32, 4, D(S, 2, B, H));
    lt_out(&t, 1, F32, 3, D(2, B, H));
    lt_out(&t, 2, F32, 3, D(2, B, H));
    lt_attr_str(&t, "direction", "bidirectional");
    lt_attr_int(&t, "hidden_size", H);
    lt_attr_int(&t, "input_forget", 1);
    TU_ASSERT_STATUS(rnn_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);

    const cg_launch *proj = &t.e.launches[0], *seq = &t.e.launches[1];
    lt_assert_kernel(proj, "rnn", "o2p_rnn_proj_f32", sizeof(o2p_rnn_params));
    lt_assert_kernel(seq, "rnn", "o2p_rnn_seq_f32", sizeof(o2p_rnn_params));
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
            ck_assert_int_eq(lt_patch_tensor(k, in_off[i], NULL), i);
        ck_assert_int_eq(lt_patch_tensor(k, OFF(y_ptr), NULL), 10);
        ck_assert_int_eq(lt_patch_tensor(k, OFF(yh_ptr), NULL), 11);
        ck_assert_int_eq(lt_patch_tensor(k, OFF(yc_ptr), NULL), 12);
        uint64_t po = 0, so = 0;
        ck_assert_int_eq(lt_patch_tensor(k, OFF(proj_ptr), &po), CG_TENSOR_WORKSPACE);
        ck_assert_int_eq(lt_patch_tensor(k, OFF(state_ptr), &so), CG_TENSOR_WORKSPACE);
        /* the two areas do not overlap and fit in the workspace */
        uint64_t proj_bytes = 2u * S * B * 4 * H * 4, state_bytes = 2u * B * (3 * H + 4 * H) * 4;
        ck_assert(po + proj_bytes <= so || so + state_bytes <= po);
        ck_assert_uint_le(po + proj_bytes, t.e.workspace);
        ck_assert_uint_le(so + state_bytes, t.e.workspace);
    }
    const o2p_rnn_params *p = PARAMS(o2p_rnn_params, seq);
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
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- GRU */

/* Layout 1 (opset 14), float16, reverse, linear_before_reset, clip, explicit activations with
 * alpha/beta, Y omitted: the f16 kernels, layout-1 strides, no Y address, activations
 * consuming alpha/beta in order. */
START_TEST(test_gru_layout1_half_reverse)
{
    lt_layer t;
    lt_init(&t, "GRU", 14);
    const int64_t S = 4, B = 2, I = 3, H = 5;
    lt_in(&t, 0, F16, 3, D(B, S, I));
    lt_in(&t, 1, F16, 3, D(1, 3 * H, I));
    lt_in(&t, 2, F16, 3, D(1, 3 * H, H));
    lt_out(&t, 1, F16, 3, D(B, 1, H));
    lt_attr_int(&t, "layout", 1);
    lt_attr_str(&t, "direction", "reverse");
    lt_attr_int(&t, "linear_before_reset", 1);
    lt_attr_float(&t, "clip", 2.5f);
    static const char *const names[] = {"HardSigmoid", "leakyrelu"};
    static const float alphas[] = {0.3f, 0.05f}, betas[] = {0.4f};
    lt_attr_strs(&t, "activations", names, 2);
    lt_attr_floats(&t, "activation_alpha", alphas, 2);
    lt_attr_floats(&t, "activation_beta", betas, 1);
    TU_ASSERT_STATUS(rnn_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    lt_assert_kernel(&t.e.launches[0], "rnn", "o2p_rnn_proj_f16", sizeof(o2p_rnn_params));
    lt_assert_kernel(&t.e.launches[1], "rnn", "o2p_rnn_seq_f16", sizeof(o2p_rnn_params));
    const cg_launch *k = &t.e.launches[1];
    const o2p_rnn_params *p = PARAMS(o2p_rnn_params, k);
    ck_assert(!lt_has_patch(k, OFF(y_ptr)));
    ck_assert(!lt_has_patch(k, OFF(b_ptr)));
    ck_assert(!lt_has_patch(k, OFF(h0_ptr)));
    ck_assert_int_eq(lt_patch_tensor(k, OFF(yh_ptr), NULL), 11);
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
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- RNN, edge shapes */

/* A sequence of length 0 needs no projection (only the states are written); batch 0 emits
 * nothing; double tensors get the f64 kernels and a double workspace. */
START_TEST(test_rnn_edges)
{
    lt_layer t;
    lt_init(&t, "RNN", 7);
    lt_in(&t, 0, F64, 3, D(0, 2, 3));
    lt_in(&t, 1, F64, 3, D(1, 4, 3));
    lt_in(&t, 2, F64, 3, D(1, 4, 4));
    lt_out(&t, 0, F64, 4, D(0, 1, 2, 4));
    lt_out(&t, 1, F64, 3, D(1, 2, 4));
    TU_ASSERT_STATUS(rnn_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 1);
    lt_assert_kernel(&t.e.launches[0], "rnn", "o2p_rnn_seq_f64", sizeof(o2p_rnn_params));
    ck_assert(!lt_has_patch(&t.e.launches[0], OFF(proj_ptr)));
    ck_assert_uint_ge(t.e.workspace, 2u * (3 * 4 + 4) * 8);
    ck_assert_int_eq(PARAMS(o2p_rnn_params, &t.e.launches[0])->act[0], O2P_RNN_ACT_TANH);
    lt_free(&t);

    lt_init(&t, "RNN", 7);
    lt_in(&t, 0, F32, 3, D(3, 0, 3));
    lt_in(&t, 1, F32, 3, D(1, 4, 3));
    lt_in(&t, 2, F32, 3, D(1, 4, 4));
    lt_out(&t, 0, F32, 4, D(3, 1, 0, 4));
    TU_ASSERT_STATUS(rnn_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 0);
    lt_free(&t);

    /* a long sequence: the projection's row tiles are capped (the kernel loops over them) */
    lt_init(&t, "RNN", 7);
    lt_in(&t, 0, F32, 3, D(100000, 20, 1));
    lt_in(&t, 1, F32, 3, D(1, 2, 1));
    lt_in(&t, 2, F32, 3, D(1, 2, 2));
    lt_out(&t, 1, F32, 3, D(1, 20, 2));
    TU_ASSERT_STATUS(rnn_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 2);
    ck_assert_uint_eq(t.e.launches[0].grid[1], O2P_RNN_MAX_ROW_TILES);
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- refusals */

/* A valid forward LSTM [S=2, B=1, I=3], H=2, into t (outputs Y and Y_h). */
static void lstm_base(lt_layer *t)
{
    lt_init(t, "LSTM", 7);
    lt_in(t, 0, F32, 3, D(2, 1, 3));
    lt_in(t, 1, F32, 3, D(1, 8, 3));
    lt_in(t, 2, F32, 3, D(1, 8, 2));
    lt_out(t, 0, F32, 4, D(2, 1, 1, 2));
    lt_out(t, 1, F32, 3, D(1, 1, 2));
}

START_TEST(test_refusals)
{
    lt_layer t;
    const char *why = NULL;
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[2];

    /* integer X: no candidate, and why says so */
    lt_init(&t, "RNN", 7);
    lt_in(&t, 0, I32, 3, D(2, 1, 3));
    lt_in(&t, 1, I32, 3, D(1, 2, 3));
    lt_in(&t, 2, I32, 3, D(1, 2, 2));
    lt_out(&t, 1, I32, 3, D(1, 1, 2));
    ck_assert_int_eq(lt_op(&t)->candidates(&t.l, &o, tac, 2, &why), 0);
    ck_assert(why && strstr(why, "float"));
    lt_free(&t);

    lstm_base(&t);
    TU_ASSERT_STATUS(rnn_lower(&t), O2P_OK); /* the base is valid */
    lt_free(&t);

    lstm_base(&t);
    t.in[1].dims[1] = 6; /* W for 3 gates */
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("W");
    lt_free(&t);

    lstm_base(&t);
    lt_attr_str(&t, "direction", "sideways");
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("sideways");
    lt_free(&t);

    lstm_base(&t);
    static const char *const bad[] = {"Sigmoid", "Swish", "Tanh"};
    lt_attr_strs(&t, "activations", bad, 3);
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("Swish");
    lt_free(&t);

    lstm_base(&t);
    lt_attr_strs(&t, "activations", bad, 2); /* LSTM needs 3 per direction */
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("activations");
    lt_free(&t);

    lstm_base(&t);
    lt_attr_int(&t, "hidden_size", 3);
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("hidden_size");
    lt_free(&t);

    lstm_base(&t);
    t.out[1].dims[2] = 3; /* Y_h of the wrong hidden size */
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("output 1");
    lt_free(&t);

    lstm_base(&t);
    lt_in(&t, 2, F16, 3, D(1, 8, 2)); /* R's type differs from X's */
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("R");
    lt_free(&t);

    lstm_base(&t);
    t.l.args.opset = 14;
    lt_attr_int(&t, "layout", 2);
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("layout");
    lt_free(&t);

    lstm_base(&t);
    lt_in(&t, 7, F32, 2, D(1, 4)); /* P must be [1, 3H] = [1, 6] */
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("P");
    lt_free(&t);

    lstm_base(&t);
    lt_attr_float(&t, "clip", -1.0f);
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("clip");
    lt_free(&t);

    /* constant sequence lengths are checked at build time, as the host checks them */
    lstm_base(&t);
    static const int32_t lens[1] = {3};
    host_tensor *sl = lt_in(&t, 4, I32, 1, D(1));
    sl->data = (void *)lens;
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("sequence_lens");
    lt_free(&t);

    /* GRU has no third output */
    lt_init(&t, "GRU", 7);
    lt_in(&t, 0, F32, 3, D(2, 1, 3));
    lt_in(&t, 1, F32, 3, D(1, 6, 3));
    lt_in(&t, 2, F32, 3, D(1, 6, 2));
    lt_out(&t, 2, F32, 3, D(1, 1, 2));
    TU_ASSERT_FAILS(rnn_lower(&t));
    TU_ASSERT_ERROR_HAS("output 2");
    lt_free(&t);
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
