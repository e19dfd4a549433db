/* test_lower_training.c: the CUDA lowerings that launch the training kernel family
 * (kernels/cuda/training.cu) without a GPU: the optimizers (src/codegen/lower_training.c),
 * training-mode BatchNormalization (lower_nn.c: bn_stats then the nn family's batch_norm on
 * the statistics in the workspace) and training-mode Dropout (lower_elementwise.c). Layers
 * built by hand go through candidates() and lower(); the launches' kernel names, grids,
 * device-address patches and parameter fields are checked, and bad layers are refused with a
 * message. Also: the (domain, op type) lookups of the lowerings. */
#include <stddef.h>
#include <string.h>

#include "cuda/nn_params.h"
#include "cuda/training_params.h"
#include "lower_testutil.h"
/* A layer of op whose output i is tensor 20 + i. */
static void train_init(lt_layer *t, const char *op, int64_t opset)
{
    lt_init(t, op, opset);
    t->out_base = 20;
}

/* The next input: a constant scalar of dtype dt with value v (host data). */
static void const_scalar(lt_layer *t, o2p_dtype dt, double v)
{
    host_tensor *x = lt_add_in(t, dt, 0, NULL);
    x->data = t->data[t->l.args.num_inputs - 1];
    host_set_f64(x, 0, v);
}

/* lt_lower_tactic with the op looked up in domain ("" for the default one). */
static o2p_status lower_in(lt_layer *t, const char *domain, cg_tactic *tac)
{
    t->domain = domain;
    return lt_lower_tactic(t, tac);
}

#define OFF(T, f) offsetof(T, f)

/* ---------------------------------------------------------------- the table */

START_TEST(test_table)
{
    static const char *const ops[] = {"Adagrad", "Adam", "Momentum"};
    for (int i = 0; i < 3; i++) {
        ck_assert_ptr_nonnull(cg_op_lookup(HOST_DOMAIN_TRAINING, ops[i]));
        ck_assert_ptr_eq(cg_op_find(ops[i]), cg_op_lookup(HOST_DOMAIN_TRAINING, ops[i]));
        ck_assert_ptr_null(cg_op_lookup("", ops[i]));
        ck_assert_ptr_null(cg_op_lookup("com.example", ops[i]));
    }
    ck_assert_int_eq(cg_training_op_count, 3);
    ck_assert_ptr_nonnull(cg_op_lookup("", "Dropout"));
    ck_assert_ptr_nonnull(cg_op_lookup("ai.onnx", "BatchNormalization"));
    ck_assert_ptr_null(cg_op_lookup(HOST_DOMAIN_TRAINING, "Dropout"));
    ck_assert_ptr_null(cg_op_lookup("com.example", "Dropout"));
    /* op types are unique across the domains (a plan names a layer's op by type alone) */
    for (int i = 0; i < cg_op_count(); i++)
        for (int j = i + 1; j < cg_op_count(); j++)
            ck_assert_msg(strcmp(cg_op_at(i)->op_type, cg_op_at(j)->op_type) != 0,
                          "op type %s has two lowerings", cg_op_at(i)->op_type);
    ck_assert_ptr_nonnull(cg_family_source("training"));
}
END_TEST

/* ---------------------------------------------------------------- optimizers */

START_TEST(test_adam_multiple)
{
    /* R, T, X1, X2, G1, G2, V1, V2, H1, H2; V2_new left out */
    lt_layer t;
    train_init(&t, "Adam", 17);
    lt_add_in(&t, F32, 0, NULL);
    lt_add_in(&t, I64, 0, NULL);
    const int64_t *dims[2] = {D(3), D(4, 5)};
    int rank[2] = {1, 2};
    for (int g = 0; g < 4; g++)
        for (int i = 0; i < 2; i++)
            lt_add_in(&t, F32, rank[i], dims[i]);
    for (int g = 0; g < 3; g++)
        for (int i = 0; i < 2; i++)
            lt_add_out(&t, g == 1 && i == 1 ? O2P_DTYPE_UNDEFINED : F32, rank[i], dims[i]);
    lt_attr_float(&t, "alpha", 0.95f);
    lt_attr_float(&t, "beta", 0.85f);
    lt_attr_float(&t, "norm_coefficient", 0.001f);
    lt_attr_float(&t, "norm_coefficient_post", 0.25f);
    cg_tactic tac;
    ck_assert_msg(lower_in(&t, HOST_DOMAIN_TRAINING, &tac) == O2P_OK, "%s", o2p_last_error());
    ck_assert_str_eq(tac.kernel, "cuda.training.optimizer");
    ck_assert_int_eq(t.e.count, 2);
    for (int i = 0; i < 2; i++) {
        const cg_launch *k = &t.e.launches[i];
        int64_t total = i ? 20 : 3;
        lt_assert_kernel_for(k, "training", "o2p_training_optimizer",
                             sizeof(o2p_training_optimizer_params), (uint64_t)total);
        const o2p_training_optimizer_params *p = PARAMS(o2p_training_optimizer_params, k);
        ck_assert_int_eq(p->kind, O2P_TRAINING_ADAM);
        ck_assert_int_eq(p->total, total);
        ck_assert_int_eq(p->x_dtype, F32);
        ck_assert_int_eq(p->r_dtype, F32);
        ck_assert(p->alpha == (double)0.95f && p->beta == (double)0.85f);
        ck_assert(p->norm == (double)0.001f && p->post == (double)0.25f);
        ck_assert(p->epsilon == (double)1e-6f); /* the default */
        typedef o2p_training_optimizer_params P;
        ck_assert_int_eq(lt_patch_tensor(k, OFF(P, r_ptr), NULL), 0);
        ck_assert_int_eq(lt_patch_tensor(k, OFF(P, t_ptr), NULL), 1);
        ck_assert_int_eq(lt_patch_tensor(k, OFF(P, x_ptr), NULL), 2 + i);
        ck_assert_int_eq(lt_patch_tensor(k, OFF(P, g_ptr), NULL), 4 + i);
        ck_assert_int_eq(lt_patch_tensor(k, OFF(P, s1_ptr), NULL), 6 + i);
        ck_assert_int_eq(lt_patch_tensor(k, OFF(P, s2_ptr), NULL), 8 + i);
        ck_assert_int_eq(lt_patch_tensor(k, OFF(P, x_out_ptr), NULL), 20 + i);
        ck_assert_int_eq(lt_patch_tensor(k, OFF(P, s2_out_ptr), NULL), 24 + i);
        if (i == 0)
            ck_assert_int_eq(lt_patch_tensor(k, OFF(P, s1_out_ptr), NULL), 22);
        else
            ck_assert(!lt_has_patch(k, OFF(P, s1_out_ptr)));
    }
    lt_free(&t);
}
END_TEST

START_TEST(test_adagrad_momentum)
{
    /* Adagrad of doubles: decay and epsilon; s2 unused */
    lt_layer t;
    train_init(&t, "Adagrad", 17);
    lt_add_in(&t, F64, 1, D(1));
    lt_add_in(&t, I64, 0, NULL);
    for (int g = 0; g < 3; g++)
        lt_add_in(&t, F64, 1, D(7));
    lt_add_out(&t, F64, 1, D(7));
    lt_add_out(&t, F64, 1, D(7));
    lt_attr_float(&t, "decay_factor", 0.1f);
    lt_attr_float(&t, "epsilon", 1e-5f);
    ck_assert_msg(lower_in(&t, HOST_DOMAIN_TRAINING, NULL) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    const o2p_training_optimizer_params *p = PARAMS(o2p_training_optimizer_params, k);
    ck_assert_int_eq(p->kind, O2P_TRAINING_ADAGRAD);
    ck_assert_int_eq(p->x_dtype, F64);
    ck_assert_int_eq(p->r_dtype, F64);
    ck_assert(p->decay == (double)0.1f && p->epsilon == (double)1e-5f && p->norm == 0.0);
    ck_assert(!lt_has_patch(k, OFF(o2p_training_optimizer_params, s2_ptr)));
    ck_assert(!lt_has_patch(k, OFF(o2p_training_optimizer_params, s2_out_ptr)));
    ck_assert_int_eq(lt_patch_tensor(k, OFF(o2p_training_optimizer_params, s1_out_ptr), NULL), 21);
    lt_free(&t);

    /* Momentum, nesterov */
    train_init(&t, "Momentum", 17);
    lt_add_in(&t, F32, 0, NULL);
    lt_add_in(&t, I64, 0, NULL);
    for (int g = 0; g < 3; g++)
        lt_add_in(&t, F32, 2, D(2, 3));
    lt_add_out(&t, F32, 2, D(2, 3));
    lt_attr_float(&t, "alpha", 0.9f);
    lt_attr_float(&t, "beta", 0.5f);
    lt_attr_float(&t, "norm_coefficient", 0.01f);
    lt_attr_str(&t, "mode", "nesterov");
    ck_assert_msg(lower_in(&t, HOST_DOMAIN_TRAINING, NULL) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(o2p_training_optimizer_params, &t.e.launches[0]);
    ck_assert_int_eq(p->kind, O2P_TRAINING_MOMENTUM);
    ck_assert_int_eq(p->nesterov, 1);
    ck_assert(p->alpha == (double)0.9f && p->beta == (double)0.5f);
    ck_assert(!lt_has_patch(&t.e.launches[0], OFF(o2p_training_optimizer_params, s1_out_ptr)));
    lt_free(&t);
}
END_TEST

START_TEST(test_optimizer_refusals)
{
    lt_layer t;
    /* Momentum without mode, and with an unknown one */
    for (int m = 0; m < 2; m++) {
        train_init(&t, "Momentum", 17);
        lt_add_in(&t, F32, 0, NULL);
        lt_add_in(&t, I64, 0, NULL);
        for (int g = 0; g < 3; g++)
            lt_add_in(&t, F32, 1, D(4));
        lt_add_out(&t, F32, 1, D(4));
        lt_attr_float(&t, "alpha", 0.9f);
        lt_attr_float(&t, "beta", 0.5f);
        lt_attr_float(&t, "norm_coefficient", 0.0f);
        if (m)
            lt_attr_str(&t, "mode", "heavy-ball");
        lt_assert_refused(lower_in(&t, HOST_DOMAIN_TRAINING, NULL), O2P_ERR_SHAPE,
                          m ? "heavy-ball" : "'mode'");
        lt_free(&t);
    }
    /* a G of another shape; 4 inputs to Adagrad; T of int32; too many outputs */
    for (int k = 0; k < 4; k++) {
        train_init(&t, "Adagrad", 17);
        lt_add_in(&t, F32, 0, NULL);
        lt_add_in(&t, k == 2 ? I32 : I64, 0, NULL);
        lt_add_in(&t, F32, 1, D(4));
        lt_add_in(&t, F32, 1, D(k == 0 ? 5 : 4));
        if (k != 1)
            lt_add_in(&t, F32, 1, D(4));
        for (int o = 0; o < (k == 3 ? 3 : 1); o++)
            lt_add_out(&t, F32, 1, D(4));
        o2p_status st = lower_in(&t, HOST_DOMAIN_TRAINING, NULL);
        if (k == 0)
            lt_assert_refused(st, O2P_ERR_SHAPE, "type and shape of input 2");
        else if (k == 1)
            lt_assert_refused(st, O2P_ERR_SHAPE, "4 inputs");
        else if (k == 2)
            ck_assert_int_eq(st, O2P_ERR_UNSUPPORTED);
        else
            lt_assert_refused(st, O2P_ERR_SHAPE, "at most 2");
        lt_free(&t);
    }
    /* int32 tensors have no candidate */
    train_init(&t, "Adagrad", 17);
    lt_add_in(&t, F32, 0, NULL);
    lt_add_in(&t, I64, 0, NULL);
    for (int g = 0; g < 3; g++)
        lt_add_in(&t, I32, 1, D(4));
    lt_add_out(&t, I32, 1, D(4));
    const char *why;
    t.domain = HOST_DOMAIN_TRAINING;
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    ck_assert_ptr_nonnull(why);
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- BatchNormalization */

START_TEST(test_batchnorm_training)
{
    lt_layer t;
    train_init(&t, "BatchNormalization", 15);
    lt_add_in(&t, F16, 4, D(2, 3, 4, 5));
    lt_add_in(&t, F32, 1, D(3));
    lt_add_in(&t, F32, 1, D(3));
    lt_add_in(&t, F64, 1, D(3));
    lt_add_in(&t, F64, 1, D(3));
    lt_add_out(&t, F16, 4, D(2, 3, 4, 5));
    lt_add_out(&t, F64, 1, D(3));
    lt_add_out(&t, F64, 1, D(3));
    lt_attr_int(&t, "training_mode", 1);
    lt_attr_float(&t, "momentum", 0.75f);
    cg_tactic tac;
    ck_assert_msg(lower_in(&t, "", &tac) == O2P_OK, "%s", o2p_last_error());
    ck_assert_uint_ge(tac.workspace, 6 * sizeof(double));
    ck_assert_int_eq(t.e.count, 2);
    ck_assert_uint_ge(t.e.workspace, 6 * sizeof(double));
    ck_assert_uint_le(t.e.workspace, tac.workspace);

    const cg_launch *k = &t.e.launches[0];
    typedef o2p_training_bn_stats_params S;
    lt_assert_kernel_for(k, "training", "o2p_training_bn_stats", sizeof(S), 0);
    ck_assert_uint_eq(k->block[0], O2P_TRAINING_BN_BLOCK);
    ck_assert_uint_eq(k->grid[0], 3); /* a block per channel */
    const S *s = PARAMS(S, k);
    ck_assert_int_eq(s->batch, 2);
    ck_assert_int_eq(s->channels, 3);
    ck_assert_int_eq(s->inner, 20);
    ck_assert(s->momentum == (double)0.75f);
    ck_assert_int_eq(s->x_dtype, F16);
    ck_assert_int_eq(s->mean_dtype, F64);
    ck_assert_int_eq(s->var_dtype, F64);
    uint64_t stats;
    ck_assert_int_eq(lt_patch_tensor(k, OFF(S, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, OFF(S, mean_in_ptr), NULL), 3);
    ck_assert_int_eq(lt_patch_tensor(k, OFF(S, var_in_ptr), NULL), 4);
    ck_assert_int_eq(lt_patch_tensor(k, OFF(S, stats_ptr), &stats), CG_TENSOR_WORKSPACE);
    ck_assert_int_eq(lt_patch_tensor(k, OFF(S, mean_out_ptr), NULL), 21);
    ck_assert_int_eq(lt_patch_tensor(k, OFF(S, var_out_ptr), NULL), 22);

    /* then the nn family's normalization reads the statistics (doubles) from the workspace */
    k = &t.e.launches[1];
    typedef o2p_nn_batch_norm_params B;
    lt_assert_kernel_for(k, "nn", "o2p_nn_batch_norm_f16", sizeof(B), 120);
    const B *b = PARAMS(B, k);
    ck_assert_int_eq(b->mean_dtype, F64);
    ck_assert_int_eq(b->var_dtype, F64);
    ck_assert_int_eq(b->channels, 3);
    uint64_t mo, vo;
    ck_assert_int_eq(lt_patch_tensor(k, OFF(B, mean_ptr), &mo), CG_TENSOR_WORKSPACE);
    ck_assert_int_eq(lt_patch_tensor(k, OFF(B, var_ptr), &vo), CG_TENSOR_WORKSPACE);
    ck_assert_uint_eq(mo, stats);
    ck_assert_uint_eq(vo, stats + 3 * sizeof(double));
    ck_assert_int_eq(lt_patch_tensor(k, OFF(B, y_ptr), NULL), 20);
    lt_free(&t);

    /* inference: no statistics launch; running outputs are copies of the inputs */
    train_init(&t, "BatchNormalization", 15);
    lt_add_in(&t, F32, 3, D(2, 3, 4));
    for (int i = 0; i < 4; i++)
        lt_add_in(&t, F32, 1, D(3));
    lt_add_out(&t, F32, 3, D(2, 3, 4));
    lt_add_out(&t, F32, 1, D(3));
    ck_assert_msg(lower_in(&t, "", NULL) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 2);
    ck_assert_int_eq(t.e.launches[0].kind, CG_LAUNCH_COPY);
    ck_assert_str_eq(t.e.launches[1].function, "o2p_nn_batch_norm_f32");
    ck_assert_uint_eq(t.e.workspace, 0);
    lt_free(&t);

    /* the statistics outputs before opset 14 are refused */
    train_init(&t, "BatchNormalization", 9);
    lt_add_in(&t, F32, 3, D(2, 3, 4));
    for (int i = 0; i < 4; i++)
        lt_add_in(&t, F32, 1, D(3));
    lt_add_out(&t, F32, 3, D(2, 3, 4));
    lt_add_out(&t, F32, 1, D(3));
    lt_assert_refused(lower_in(&t, "", NULL), O2P_ERR_UNSUPPORTED, "before opset 14");
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- Dropout */

START_TEST(test_dropout_training)
{
    /* constants: training true, ratio 0.75, a seed */
    lt_layer t;
    train_init(&t, "Dropout", 13);
    lt_add_in(&t, F32, 3, D(3, 4, 5));
    const_scalar(&t, F32, 0.75);
    const_scalar(&t, BOOL, 1);
    lt_add_out(&t, F32, 3, D(3, 4, 5));
    lt_add_out(&t, BOOL, 3, D(3, 4, 5));
    lt_attr_int(&t, "seed", 7);
    cg_tactic tac;
    ck_assert_msg(lower_in(&t, "", &tac) == O2P_OK, "%s", o2p_last_error());
    ck_assert_str_eq(tac.kernel, "cuda.training.dropout");
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    typedef o2p_training_dropout_params P;
    lt_assert_kernel_for(k, "training", "o2p_training_dropout", sizeof(P), 60);
    const P *p = PARAMS(P, k);
    ck_assert_int_eq(p->total, 60);
    ck_assert(p->ratio == 0.75);
    ck_assert_int_eq(p->fresh, 0);
    ck_assert_uint_eq(p->seed, host_mix64(7)); /* the host kernel's stream */
    ck_assert_int_eq(p->x_dtype, F32);
    ck_assert_int_eq(lt_patch_tensor(k, OFF(P, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, OFF(P, y_ptr), NULL), 20);
    ck_assert_int_eq(lt_patch_tensor(k, OFF(P, mask_ptr), NULL), 21);
    ck_assert(!lt_has_patch(k, OFF(P, ratio_ptr)));
    ck_assert(!lt_has_patch(k, OFF(P, training_ptr)));
    lt_free(&t);

    /* ratio and training_mode as run-time tensors, no seed, no mask */
    train_init(&t, "Dropout", 13);
    lt_add_in(&t, F16, 1, D(100));
    lt_add_in(&t, F64, 0, NULL);
    lt_add_in(&t, BOOL, 0, NULL);
    lt_add_out(&t, F16, 1, D(100));
    ck_assert_msg(lower_in(&t, "", NULL) == O2P_OK, "%s", o2p_last_error());
    k = &t.e.launches[0];
    p = PARAMS(P, k);
    ck_assert_int_eq(p->fresh, 1);
    ck_assert_int_eq(p->ratio_dtype, F64);
    ck_assert_int_eq(p->x_dtype, F16);
    ck_assert_int_eq(lt_patch_tensor(k, OFF(P, ratio_ptr), NULL), 1);
    ck_assert_int_eq(lt_patch_tensor(k, OFF(P, training_ptr), NULL), 2);
    ck_assert(!lt_has_patch(k, OFF(P, mask_ptr)));
    lt_free(&t);

    /* training false (constant) or ratio 0 (constant): the copy and the mask's memset */
    for (int c = 0; c < 2; c++) {
        train_init(&t, "Dropout", 13);
        lt_add_in(&t, F32, 1, D(10));
        const_scalar(&t, F32, c ? 0.0 : 0.5);
        const_scalar(&t, BOOL, c);
        lt_add_out(&t, F32, 1, D(10));
        lt_add_out(&t, BOOL, 1, D(10));
        ck_assert_msg(lower_in(&t, "", &tac) == O2P_OK, "%s", o2p_last_error());
        ck_assert_str_ne(tac.kernel, "cuda.training.dropout");
        ck_assert_int_eq(t.e.count, 2);
        ck_assert_int_eq(t.e.launches[0].kind, CG_LAUNCH_COPY);
        ck_assert_int_eq(t.e.launches[1].kind, CG_LAUNCH_MEMSET);
        lt_free(&t);
    }

    /* a training_mode that is not bool is refused */
    train_init(&t, "Dropout", 13);
    lt_add_in(&t, F32, 1, D(10));
    const_scalar(&t, F32, 0.5);
    const_scalar(&t, F32, 1);
    lt_add_out(&t, F32, 1, D(10));
    lt_assert_refused(lower_in(&t, "", NULL), O2P_ERR_SHAPE, "element type");
    lt_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lower_training");
    TCase *tc = tcase_create("training");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_adam_multiple);
    tcase_add_test(tc, test_adagrad_momentum);
    tcase_add_test(tc, test_optimizer_refusals);
    tcase_add_test(tc, test_batchnorm_training);
    tcase_add_test(tc, test_dropout_training);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
