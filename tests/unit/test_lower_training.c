/* test_lower_training.c: the CUDA lowerings that launch the training kernel family
 * (kernels/cuda/training.cu) without a GPU: the optimizers (src/codegen/lower_training.c),
 * training-mode BatchNormalization (lower_nn.c: bn_stats then the nn family's batch_norm on
 * the statistics in the workspace) and training-mode Dropout (lower_elementwise.c). Layers
 * built by hand go through candidates() and lower(); the launches' kernel names, grids,
 * device-address patches and parameter fields are checked, and bad layers are refused with a
 * message. Also: the (domain, op type) lookups of the lowerings. */
#include <stddef.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/nn_params.h"
#include "cuda/training_params.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define F64 O2P_DTYPE_DOUBLE
#define F16 O2P_DTYPE_FLOAT16
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define BOOL O2P_DTYPE_BOOL
#define D(...) ((const int64_t[]){__VA_ARGS__})

/* A layer under construction: input i is tensor i, output i tensor 20 + i. */
typedef struct tl {
    host_tensor in[12], out[8];
    const host_tensor *ins[12];
    host_tensor *outs[8];
    int it[12], ot[8];
    host_attr attrs[8];
    unsigned char data[12][16]; /* constant inputs' values */
    cg_layer l;
    cg_emit e;
} tl;

static void tl_init(tl *t, const char *op, int64_t opset)
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
    for (int i = 0; i < 12; i++)
        t->it[i] = -1;
    for (int i = 0; i < 8; i++)
        t->ot[i] = -1;
    cg_emit_init(&t->e);
}

static void set_shape(host_tensor *x, o2p_dtype dt, int rank, const int64_t *dims)
{
    x->dtype = dt;
    x->rank = rank;
    if (rank > 0)
        memcpy(x->dims, dims, (size_t)rank * sizeof(int64_t));
}

static host_tensor *tl_in(tl *t, o2p_dtype dt, int rank, const int64_t *dims)
{
    int i = t->l.args.num_inputs++;
    set_shape(&t->in[i], dt, rank, dims);
    t->ins[i] = &t->in[i];
    t->it[i] = i;
    return &t->in[i];
}

/* A constant scalar input of dtype dt with value v (host data). */
static void tl_const(tl *t, o2p_dtype dt, double v)
{
    host_tensor *x = tl_in(t, dt, 0, NULL);
    x->data = t->data[t->l.args.num_inputs - 1];
    host_set_f64(x, 0, v);
}

/* The next output; omitted (a NULL entry) when dt is UNDEFINED. */
static void tl_out(tl *t, o2p_dtype dt, int rank, const int64_t *dims)
{
    int i = t->l.args.num_outputs++;
    if (dt == O2P_DTYPE_UNDEFINED)
        return;
    set_shape(&t->out[i], dt, rank, dims);
    t->outs[i] = &t->out[i];
    t->ot[i] = 20 + i;
}

static host_attr *tl_attr(tl *t, const char *name, o2p_attr_type type)
{
    host_attr *a = &t->attrs[t->l.args.num_attrs++];
    a->name = name;
    a->type = type;
    return a;
}

static void attr_float(tl *t, const char *name, float v)
{
    tl_attr(t, name, O2P_ATTR_FLOAT)->f = v;
}

static void attr_int(tl *t, const char *name, int64_t v)
{
    tl_attr(t, name, O2P_ATTR_INT)->i = v;
}

static void attr_string(tl *t, const char *name, const char *v)
{
    tl_attr(t, name, O2P_ATTR_STRING)->s = v;
}

static const cg_op *op_of(tl *t, const char *domain)
{
    const cg_op *op = cg_op_lookup(domain, t->l.args.op_type);
    ck_assert_msg(op != NULL, "no lowering for %s.%s", domain, t->l.args.op_type);
    return op;
}

static o2p_status tl_lower_tactic(tl *t, const char *domain, cg_tactic *tac)
{
    const cg_op *op = op_of(t, domain);
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic cand[4];
    const char *why = NULL;
    int n = op->candidates(&t->l, &o, cand, 4, &why);
    ck_assert_msg(n == 1, "%s: %d candidates (%s)", t->l.args.op_type, n, why ? why : "");
    ck_assert(cand[0].cost > 0.0);
    if (tac)
        *tac = cand[0];
    return op->lower(&t->l, &cand[0], &o, &t->e);
}

static o2p_status tl_lower(tl *t, const char *domain)
{
    return tl_lower_tactic(t, domain, NULL);
}

static void tl_free(tl *t)
{
    cg_emit_free(&t->e);
}

static int patch_tensor(const cg_launch *k, size_t off, uint64_t *byte_offset)
{
    for (int i = 0; i < k->num_patches; i++)
        if (k->patches[i].param_offset == off) {
            if (byte_offset)
                *byte_offset = k->patches[i].byte_offset;
            return k->patches[i].tensor;
        }
    ck_abort_msg("kernel %s: no address patched at offset %zu", k->function, off);
    return -99;
}

static int has_patch(const cg_launch *k, size_t off)
{
    for (int i = 0; i < k->num_patches; i++)
        if (k->patches[i].param_offset == off)
            return 1;
    return 0;
}

static void assert_kernel(const cg_launch *k, const char *family, const char *fn,
                          uint32_t param_size, uint64_t n)
{
    ck_assert_int_eq(k->kind, CG_LAUNCH_KERNEL);
    ck_assert_str_eq(k->family, family);
    ck_assert_str_eq(k->function, fn);
    ck_assert_uint_eq(k->param_size, param_size);
    uint64_t threads = (uint64_t)k->grid[0] * k->block[0];
    ck_assert_msg(threads >= n, "%s: %llu threads for %llu", fn, (unsigned long long)threads,
                  (unsigned long long)n);
    ck_assert_uint_eq(k->block[0] % 32, 0);
}

static void assert_refused(o2p_status st, o2p_status want, const char *needle)
{
    ck_assert_int_eq(st, want);
    ck_assert_msg(strstr(o2p_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  o2p_last_error(), needle);
}

#define PARAMS(T, k) ((const T *)(k)->params)
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
    tl t;
    tl_init(&t, "Adam", 17);
    tl_in(&t, F32, 0, NULL);
    tl_in(&t, I64, 0, NULL);
    const int64_t *dims[2] = {D(3), D(4, 5)};
    int rank[2] = {1, 2};
    for (int g = 0; g < 4; g++)
        for (int i = 0; i < 2; i++)
            tl_in(&t, F32, rank[i], dims[i]);
    for (int g = 0; g < 3; g++)
        for (int i = 0; i < 2; i++)
            tl_out(&t, g == 1 && i == 1 ? O2P_DTYPE_UNDEFINED : F32, rank[i], dims[i]);
    attr_float(&t, "alpha", 0.95f);
    attr_float(&t, "beta", 0.85f);
    attr_float(&t, "norm_coefficient", 0.001f);
    attr_float(&t, "norm_coefficient_post", 0.25f);
    cg_tactic tac;
    ck_assert_msg(tl_lower_tactic(&t, HOST_DOMAIN_TRAINING, &tac) == O2P_OK, "%s",
                  o2p_last_error());
    ck_assert_str_eq(tac.kernel, "cuda.training.optimizer");
    ck_assert_int_eq(t.e.count, 2);
    for (int i = 0; i < 2; i++) {
        const cg_launch *k = &t.e.launches[i];
        int64_t total = i ? 20 : 3;
        assert_kernel(k, "training", "o2p_training_optimizer",
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
        ck_assert_int_eq(patch_tensor(k, OFF(P, r_ptr), NULL), 0);
        ck_assert_int_eq(patch_tensor(k, OFF(P, t_ptr), NULL), 1);
        ck_assert_int_eq(patch_tensor(k, OFF(P, x_ptr), NULL), 2 + i);
        ck_assert_int_eq(patch_tensor(k, OFF(P, g_ptr), NULL), 4 + i);
        ck_assert_int_eq(patch_tensor(k, OFF(P, s1_ptr), NULL), 6 + i);
        ck_assert_int_eq(patch_tensor(k, OFF(P, s2_ptr), NULL), 8 + i);
        ck_assert_int_eq(patch_tensor(k, OFF(P, x_out_ptr), NULL), 20 + i);
        ck_assert_int_eq(patch_tensor(k, OFF(P, s2_out_ptr), NULL), 24 + i);
        if (i == 0)
            ck_assert_int_eq(patch_tensor(k, OFF(P, s1_out_ptr), NULL), 22);
        else
            ck_assert(!has_patch(k, OFF(P, s1_out_ptr)));
    }
    tl_free(&t);
}
END_TEST

START_TEST(test_adagrad_momentum)
{
    /* Adagrad of doubles: decay and epsilon; s2 unused */
    tl t;
    tl_init(&t, "Adagrad", 17);
    tl_in(&t, F64, 1, D(1));
    tl_in(&t, I64, 0, NULL);
    for (int g = 0; g < 3; g++)
        tl_in(&t, F64, 1, D(7));
    tl_out(&t, F64, 1, D(7));
    tl_out(&t, F64, 1, D(7));
    attr_float(&t, "decay_factor", 0.1f);
    attr_float(&t, "epsilon", 1e-5f);
    ck_assert_msg(tl_lower(&t, HOST_DOMAIN_TRAINING) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    const o2p_training_optimizer_params *p = PARAMS(o2p_training_optimizer_params, k);
    ck_assert_int_eq(p->kind, O2P_TRAINING_ADAGRAD);
    ck_assert_int_eq(p->x_dtype, F64);
    ck_assert_int_eq(p->r_dtype, F64);
    ck_assert(p->decay == (double)0.1f && p->epsilon == (double)1e-5f && p->norm == 0.0);
    ck_assert(!has_patch(k, OFF(o2p_training_optimizer_params, s2_ptr)));
    ck_assert(!has_patch(k, OFF(o2p_training_optimizer_params, s2_out_ptr)));
    ck_assert_int_eq(patch_tensor(k, OFF(o2p_training_optimizer_params, s1_out_ptr), NULL), 21);
    tl_free(&t);

    /* Momentum, nesterov */
    tl_init(&t, "Momentum", 17);
    tl_in(&t, F32, 0, NULL);
    tl_in(&t, I64, 0, NULL);
    for (int g = 0; g < 3; g++)
        tl_in(&t, F32, 2, D(2, 3));
    tl_out(&t, F32, 2, D(2, 3));
    attr_float(&t, "alpha", 0.9f);
    attr_float(&t, "beta", 0.5f);
    attr_float(&t, "norm_coefficient", 0.01f);
    attr_string(&t, "mode", "nesterov");
    ck_assert_msg(tl_lower(&t, HOST_DOMAIN_TRAINING) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(o2p_training_optimizer_params, &t.e.launches[0]);
    ck_assert_int_eq(p->kind, O2P_TRAINING_MOMENTUM);
    ck_assert_int_eq(p->nesterov, 1);
    ck_assert(p->alpha == (double)0.9f && p->beta == (double)0.5f);
    ck_assert(!has_patch(&t.e.launches[0], OFF(o2p_training_optimizer_params, s1_out_ptr)));
    tl_free(&t);
}
END_TEST

START_TEST(test_optimizer_refusals)
{
    tl t;
    /* Momentum without mode, and with an unknown one */
    for (int m = 0; m < 2; m++) {
        tl_init(&t, "Momentum", 17);
        tl_in(&t, F32, 0, NULL);
        tl_in(&t, I64, 0, NULL);
        for (int g = 0; g < 3; g++)
            tl_in(&t, F32, 1, D(4));
        tl_out(&t, F32, 1, D(4));
        attr_float(&t, "alpha", 0.9f);
        attr_float(&t, "beta", 0.5f);
        attr_float(&t, "norm_coefficient", 0.0f);
        if (m)
            attr_string(&t, "mode", "heavy-ball");
        assert_refused(tl_lower(&t, HOST_DOMAIN_TRAINING), O2P_ERR_SHAPE,
                       m ? "heavy-ball" : "'mode'");
        tl_free(&t);
    }
    /* a G of another shape; 4 inputs to Adagrad; T of int32; too many outputs */
    for (int k = 0; k < 4; k++) {
        tl_init(&t, "Adagrad", 17);
        tl_in(&t, F32, 0, NULL);
        tl_in(&t, k == 2 ? I32 : I64, 0, NULL);
        tl_in(&t, F32, 1, D(4));
        tl_in(&t, F32, 1, D(k == 0 ? 5 : 4));
        if (k != 1)
            tl_in(&t, F32, 1, D(4));
        for (int o = 0; o < (k == 3 ? 3 : 1); o++)
            tl_out(&t, F32, 1, D(4));
        o2p_status st = tl_lower(&t, HOST_DOMAIN_TRAINING);
        if (k == 0)
            assert_refused(st, O2P_ERR_SHAPE, "type and shape of input 2");
        else if (k == 1)
            assert_refused(st, O2P_ERR_SHAPE, "4 inputs");
        else if (k == 2)
            ck_assert_int_eq(st, O2P_ERR_UNSUPPORTED);
        else
            assert_refused(st, O2P_ERR_SHAPE, "at most 2");
        tl_free(&t);
    }
    /* int32 tensors have no candidate */
    tl_init(&t, "Adagrad", 17);
    tl_in(&t, F32, 0, NULL);
    tl_in(&t, I64, 0, NULL);
    for (int g = 0; g < 3; g++)
        tl_in(&t, I32, 1, D(4));
    tl_out(&t, I32, 1, D(4));
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic cand[2];
    const char *why = NULL;
    ck_assert_int_eq(op_of(&t, HOST_DOMAIN_TRAINING)->candidates(&t.l, &o, cand, 2, &why), 0);
    ck_assert_ptr_nonnull(why);
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- BatchNormalization */

START_TEST(test_batchnorm_training)
{
    tl t;
    tl_init(&t, "BatchNormalization", 15);
    tl_in(&t, F16, 4, D(2, 3, 4, 5));
    tl_in(&t, F32, 1, D(3));
    tl_in(&t, F32, 1, D(3));
    tl_in(&t, F64, 1, D(3));
    tl_in(&t, F64, 1, D(3));
    tl_out(&t, F16, 4, D(2, 3, 4, 5));
    tl_out(&t, F64, 1, D(3));
    tl_out(&t, F64, 1, D(3));
    attr_int(&t, "training_mode", 1);
    attr_float(&t, "momentum", 0.75f);
    cg_tactic tac;
    ck_assert_msg(tl_lower_tactic(&t, "", &tac) == O2P_OK, "%s", o2p_last_error());
    ck_assert_uint_ge(tac.workspace, 6 * sizeof(double));
    ck_assert_int_eq(t.e.count, 2);
    ck_assert_uint_ge(t.e.workspace, 6 * sizeof(double));
    ck_assert_uint_le(t.e.workspace, tac.workspace);

    const cg_launch *k = &t.e.launches[0];
    typedef o2p_training_bn_stats_params S;
    assert_kernel(k, "training", "o2p_training_bn_stats", sizeof(S), 0);
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
    ck_assert_int_eq(patch_tensor(k, OFF(S, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, OFF(S, mean_in_ptr), NULL), 3);
    ck_assert_int_eq(patch_tensor(k, OFF(S, var_in_ptr), NULL), 4);
    ck_assert_int_eq(patch_tensor(k, OFF(S, stats_ptr), &stats), CG_TENSOR_WORKSPACE);
    ck_assert_int_eq(patch_tensor(k, OFF(S, mean_out_ptr), NULL), 21);
    ck_assert_int_eq(patch_tensor(k, OFF(S, var_out_ptr), NULL), 22);

    /* then the nn family's normalization reads the statistics (doubles) from the workspace */
    k = &t.e.launches[1];
    typedef o2p_nn_batch_norm_params B;
    assert_kernel(k, "nn", "o2p_nn_batch_norm_f16", sizeof(B), 120);
    const B *b = PARAMS(B, k);
    ck_assert_int_eq(b->mean_dtype, F64);
    ck_assert_int_eq(b->var_dtype, F64);
    ck_assert_int_eq(b->channels, 3);
    uint64_t mo, vo;
    ck_assert_int_eq(patch_tensor(k, OFF(B, mean_ptr), &mo), CG_TENSOR_WORKSPACE);
    ck_assert_int_eq(patch_tensor(k, OFF(B, var_ptr), &vo), CG_TENSOR_WORKSPACE);
    ck_assert_uint_eq(mo, stats);
    ck_assert_uint_eq(vo, stats + 3 * sizeof(double));
    ck_assert_int_eq(patch_tensor(k, OFF(B, y_ptr), NULL), 20);
    tl_free(&t);

    /* inference: no statistics launch; running outputs are copies of the inputs */
    tl_init(&t, "BatchNormalization", 15);
    tl_in(&t, F32, 3, D(2, 3, 4));
    for (int i = 0; i < 4; i++)
        tl_in(&t, F32, 1, D(3));
    tl_out(&t, F32, 3, D(2, 3, 4));
    tl_out(&t, F32, 1, D(3));
    ck_assert_msg(tl_lower(&t, "") == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 2);
    ck_assert_int_eq(t.e.launches[0].kind, CG_LAUNCH_COPY);
    ck_assert_str_eq(t.e.launches[1].function, "o2p_nn_batch_norm_f32");
    ck_assert_uint_eq(t.e.workspace, 0);
    tl_free(&t);

    /* the statistics outputs before opset 14 are refused */
    tl_init(&t, "BatchNormalization", 9);
    tl_in(&t, F32, 3, D(2, 3, 4));
    for (int i = 0; i < 4; i++)
        tl_in(&t, F32, 1, D(3));
    tl_out(&t, F32, 3, D(2, 3, 4));
    tl_out(&t, F32, 1, D(3));
    assert_refused(tl_lower(&t, ""), O2P_ERR_UNSUPPORTED, "before opset 14");
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- Dropout */

START_TEST(test_dropout_training)
{
    /* constants: training true, ratio 0.75, a seed */
    tl t;
    tl_init(&t, "Dropout", 13);
    tl_in(&t, F32, 3, D(3, 4, 5));
    tl_const(&t, F32, 0.75);
    tl_const(&t, BOOL, 1);
    tl_out(&t, F32, 3, D(3, 4, 5));
    tl_out(&t, BOOL, 3, D(3, 4, 5));
    attr_int(&t, "seed", 7);
    cg_tactic tac;
    ck_assert_msg(tl_lower_tactic(&t, "", &tac) == O2P_OK, "%s", o2p_last_error());
    ck_assert_str_eq(tac.kernel, "cuda.training.dropout");
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    typedef o2p_training_dropout_params P;
    assert_kernel(k, "training", "o2p_training_dropout", sizeof(P), 60);
    const P *p = PARAMS(P, k);
    ck_assert_int_eq(p->total, 60);
    ck_assert(p->ratio == 0.75);
    ck_assert_int_eq(p->fresh, 0);
    ck_assert_uint_eq(p->seed, host_mix64(7)); /* the host kernel's stream */
    ck_assert_int_eq(p->x_dtype, F32);
    ck_assert_int_eq(patch_tensor(k, OFF(P, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, OFF(P, y_ptr), NULL), 20);
    ck_assert_int_eq(patch_tensor(k, OFF(P, mask_ptr), NULL), 21);
    ck_assert(!has_patch(k, OFF(P, ratio_ptr)));
    ck_assert(!has_patch(k, OFF(P, training_ptr)));
    tl_free(&t);

    /* ratio and training_mode as run-time tensors, no seed, no mask */
    tl_init(&t, "Dropout", 13);
    tl_in(&t, F16, 1, D(100));
    tl_in(&t, F64, 0, NULL);
    tl_in(&t, BOOL, 0, NULL);
    tl_out(&t, F16, 1, D(100));
    ck_assert_msg(tl_lower(&t, "") == O2P_OK, "%s", o2p_last_error());
    k = &t.e.launches[0];
    p = PARAMS(P, k);
    ck_assert_int_eq(p->fresh, 1);
    ck_assert_int_eq(p->ratio_dtype, F64);
    ck_assert_int_eq(p->x_dtype, F16);
    ck_assert_int_eq(patch_tensor(k, OFF(P, ratio_ptr), NULL), 1);
    ck_assert_int_eq(patch_tensor(k, OFF(P, training_ptr), NULL), 2);
    ck_assert(!has_patch(k, OFF(P, mask_ptr)));
    tl_free(&t);

    /* training false (constant) or ratio 0 (constant): the copy and the mask's memset */
    for (int c = 0; c < 2; c++) {
        tl_init(&t, "Dropout", 13);
        tl_in(&t, F32, 1, D(10));
        tl_const(&t, F32, c ? 0.0 : 0.5);
        tl_const(&t, BOOL, c);
        tl_out(&t, F32, 1, D(10));
        tl_out(&t, BOOL, 1, D(10));
        ck_assert_msg(tl_lower_tactic(&t, "", &tac) == O2P_OK, "%s", o2p_last_error());
        ck_assert_str_ne(tac.kernel, "cuda.training.dropout");
        ck_assert_int_eq(t.e.count, 2);
        ck_assert_int_eq(t.e.launches[0].kind, CG_LAUNCH_COPY);
        ck_assert_int_eq(t.e.launches[1].kind, CG_LAUNCH_MEMSET);
        tl_free(&t);
    }

    /* a training_mode that is not bool is refused */
    tl_init(&t, "Dropout", 13);
    tl_in(&t, F32, 1, D(10));
    tl_const(&t, F32, 0.5);
    tl_const(&t, F32, 1);
    tl_out(&t, F32, 1, D(10));
    assert_refused(tl_lower(&t, ""), O2P_ERR_SHAPE, "element type");
    tl_free(&t);
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
