/* test_lower_signal.c: the CUDA lowerings of the signal family (src/codegen/lower_signal.c)
 * without a GPU: layers built by hand go through candidates() and lower(); the launches' kernel
 * names, grids, device-address patches and parameter fields are checked against what
 * kernels/cuda/signal.cu expects, and bad shapes, types and non-constant inputs the kernels
 * need on the host side are refused with a message. */
#include <stddef.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/signal_params.h"
#include "testutil.h"

#define F32 O2P_DTYPE_FLOAT
#define F64 O2P_DTYPE_DOUBLE
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define D(...) ((const int64_t[]){__VA_ARGS__})

/* A layer under construction: inputs are tensors 0.., outputs 10.. */
typedef struct tl {
    host_tensor in[6], out[2];
    const host_tensor *ins[6];
    host_tensor *outs[2];
    int it[6], ot[2];
    host_attr attrs[8];
    int64_t data[6][8]; /* constant inputs' values */
    cg_layer l;
    cg_emit e;
} tl;

static void tl_init(tl *t, const char *op)
{
    memset(t, 0, sizeof *t);
    t->l.args.op_type = op;
    t->l.args.layer_name = "n0";
    t->l.args.opset = 17;
    t->l.args.inputs = t->ins;
    t->l.args.outputs = t->outs;
    t->l.args.attrs = t->attrs;
    t->l.input_tensors = t->it;
    t->l.output_tensors = t->ot;
    for (int i = 0; i < 6; i++)
        t->it[i] = -1;
    for (int i = 0; i < 2; i++)
        t->ot[i] = -1;
    cg_emit_init(&t->e);
}

static host_tensor *tl_in(tl *t, int i, o2p_dtype dt, int rank, const int64_t *dims)
{
    host_tensor *x = &t->in[i];
    x->dtype = dt;
    x->rank = rank;
    if (rank > 0)
        memcpy(x->dims, dims, (size_t)rank * sizeof(int64_t));
    t->ins[i] = x;
    t->it[i] = i;
    if (t->l.args.num_inputs < i + 1)
        t->l.args.num_inputs = i + 1;
    return x;
}

/* A constant int64 input (rank 0 for one value, else 1-D) with host data. */
static void tl_const(tl *t, int i, int n, const int64_t *v, int rank1)
{
    host_tensor *x = tl_in(t, i, I64, rank1 ? 1 : 0, D(n));
    memcpy(t->data[i], v, (size_t)n * sizeof(int64_t));
    x->data = t->data[i];
}

static host_tensor *tl_out(tl *t, o2p_dtype dt, int rank, const int64_t *dims)
{
    host_tensor *x = &t->out[0];
    x->dtype = dt;
    x->rank = rank;
    if (rank > 0)
        memcpy(x->dims, dims, (size_t)rank * sizeof(int64_t));
    t->outs[0] = x;
    t->ot[0] = 10;
    t->l.args.num_outputs = 1;
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

static void attr_ints(tl *t, const char *name, const int64_t *v, int n)
{
    host_attr *a = tl_attr(t, name, O2P_ATTR_INTS);
    a->ints = v;
    a->count = n;
}

static const cg_op *op_of(tl *t)
{
    const cg_op *op = cg_op_find(t->l.args.op_type);
    ck_assert_msg(op != NULL, "no lowering for %s", t->l.args.op_type);
    return op;
}

static o2p_status tl_lower(tl *t)
{
    const cg_op *op = op_of(t);
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[4];
    const char *why = NULL;
    int n = op->candidates(&t->l, &o, tac, 4, &why);
    ck_assert_msg(n == 1, "%s: %d candidates (%s)", t->l.args.op_type, n, why ? why : "");
    ck_assert(tac[0].cost > 0.0);
    return op->lower(&t->l, &tac[0], &o, &t->e);
}

static int tl_candidates(tl *t, const char **why)
{
    cg_options o = {80, 90, 1, 0, 0, 0xffffffffu};
    cg_tactic tac[4];
    *why = NULL;
    return op_of(t)->candidates(&t->l, &o, tac, 4, why);
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

static void assert_kernel(const cg_launch *k, const char *fn, uint32_t param_size, uint64_t n)
{
    ck_assert_int_eq(k->kind, CG_LAUNCH_KERNEL);
    ck_assert_str_eq(k->family, "signal");
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

/* ---------------------------------------------------------------- the table */

START_TEST(test_table)
{
    static const char *const ops[] = {"Bernoulli",
                                      "BlackmanWindow",
                                      "CenterCropPad",
                                      "DFT",
                                      "Det",
                                      "HammingWindow",
                                      "HannWindow",
                                      "MaxUnpool",
                                      "MelWeightMatrix",
                                      "Multinomial",
                                      "RandomNormal",
                                      "RandomNormalLike",
                                      "RandomUniform",
                                      "RandomUniformLike",
                                      "STFT"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const cg_op *op = cg_op_find(ops[i]);
        ck_assert_msg(op && op->candidates && op->lower, "%s is not lowered", ops[i]);
        ck_assert_str_eq(op->op_type, ops[i]);
    }
    ck_assert_int_eq(cg_signal_op_count, (int)(sizeof ops / sizeof ops[0]));
}
END_TEST

/* ---------------------------------------------------------------- DFT, STFT */

START_TEST(test_dft)
{
    tl t;
    tl_init(&t, "DFT");
    tl_in(&t, 0, F32, 4, D(2, 8, 3, 2));
    tl_out(&t, F32, 4, D(2, 8, 3, 2));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_signal_dft", sizeof(o2p_signal_dft_params), 48);
    const o2p_signal_dft_params *p = PARAMS(o2p_signal_dft_params, k);
    ck_assert_int_eq(p->total, 48);
    ck_assert_int_eq(p->outer, 2);
    ck_assert_int_eq(p->frames, 1);
    ck_assert_int_eq(p->nout, 8);
    ck_assert_int_eq(p->inner, 3);
    ck_assert_int_eq(p->len_in, 8);
    ck_assert_int_eq(p->n, 8);
    ck_assert_int_eq(p->taps, 8);
    ck_assert_int_eq(p->comp, 2);
    ck_assert_int_eq(p->inverse, 0);
    ck_assert_int_eq(p->x_dtype, F32);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_dft_params, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_dft_params, y_ptr), NULL), 10);
    ck_assert(!has_patch(k, offsetof(o2p_signal_dft_params, w_ptr)));
    tl_free(&t);

    /* onesided with a longer constant dft_length: zero padding (taps stay at the input's) */
    tl_init(&t, "DFT");
    tl_in(&t, 0, F32, 3, D(1, 8, 1));
    tl_const(&t, 1, 1, D(10), 0);
    attr_int(&t, "onesided", 1);
    tl_out(&t, F32, 3, D(1, 6, 2));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(o2p_signal_dft_params, &t.e.launches[0]);
    ck_assert_int_eq(p->n, 10);
    ck_assert_int_eq(p->nout, 6);
    ck_assert_int_eq(p->taps, 8);
    tl_free(&t);

    /* inverse along axis -2 of a rank-4 input */
    tl_init(&t, "DFT");
    tl_in(&t, 0, F64, 4, D(2, 3, 5, 2));
    attr_int(&t, "axis", -2);
    attr_int(&t, "inverse", 1);
    tl_out(&t, F64, 4, D(2, 3, 5, 2));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(o2p_signal_dft_params, &t.e.launches[0]);
    ck_assert_int_eq(p->outer, 6);
    ck_assert_int_eq(p->inner, 1);
    ck_assert_int_eq(p->n, 5);
    ck_assert_int_eq(p->inverse, 1);
    ck_assert_int_eq(p->x_dtype, F64);
    tl_free(&t);

    /* a dft_length only known at run time is refused; so are bad shapes and int inputs */
    tl_init(&t, "DFT");
    tl_in(&t, 0, F32, 3, D(1, 8, 1));
    tl_in(&t, 1, I64, 0, NULL);
    tl_out(&t, F32, 3, D(1, 8, 2));
    assert_refused(tl_lower(&t), O2P_ERR_UNSUPPORTED, "dft_length as a constant");
    tl_free(&t);
    tl_init(&t, "DFT");
    tl_in(&t, 0, F32, 3, D(1, 8, 3));
    tl_out(&t, F32, 3, D(1, 8, 2));
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "1 (real) or 2");
    tl_free(&t);
    tl_init(&t, "DFT");
    tl_in(&t, 0, F32, 3, D(1, 8, 1));
    tl_out(&t, F32, 3, D(1, 7, 2));
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "output 0 has shape");
    tl_free(&t);
    tl_init(&t, "DFT");
    tl_in(&t, 0, I32, 3, D(1, 8, 1));
    tl_out(&t, I32, 3, D(1, 8, 2));
    const char *why;
    ck_assert_int_eq(tl_candidates(&t, &why), 0);
    ck_assert_ptr_nonnull(why);
    tl_free(&t);
}
END_TEST

START_TEST(test_stft)
{
    tl t;
    tl_init(&t, "STFT");
    tl_in(&t, 0, F32, 3, D(2, 16, 1));
    tl_const(&t, 1, 1, D(4), 0);
    tl_in(&t, 2, F32, 1, D(8));
    tl_out(&t, F32, 4, D(2, 3, 5, 2));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_signal_dft", sizeof(o2p_signal_dft_params), 30);
    const o2p_signal_dft_params *p = PARAMS(o2p_signal_dft_params, k);
    ck_assert_int_eq(p->total, 30);
    ck_assert_int_eq(p->outer, 2);
    ck_assert_int_eq(p->frames, 3);
    ck_assert_int_eq(p->nout, 5);
    ck_assert_int_eq(p->inner, 1);
    ck_assert_int_eq(p->len_in, 16);
    ck_assert_int_eq(p->n, 8);
    ck_assert_int_eq(p->taps, 8);
    ck_assert_int_eq(p->step, 4);
    ck_assert_int_eq(p->w_dtype, F32);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_dft_params, w_ptr), NULL), 2);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_dft_params, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_dft_params, y_ptr), NULL), 10);
    tl_free(&t);

    /* frame_length without a window, two-sided */
    tl_init(&t, "STFT");
    tl_in(&t, 0, F32, 3, D(1, 10, 2));
    tl_const(&t, 1, 1, D(3), 0);
    tl_const(&t, 3, 1, D(4), 0);
    attr_int(&t, "onesided", 0);
    tl_out(&t, F32, 4, D(1, 3, 4, 2));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(o2p_signal_dft_params, &t.e.launches[0]);
    ck_assert_int_eq(p->frames, 3);
    ck_assert_int_eq(p->nout, 4);
    ck_assert_int_eq(p->comp, 2);
    ck_assert(!has_patch(&t.e.launches[0], offsetof(o2p_signal_dft_params, w_ptr)));
    tl_free(&t);

    /* frame_step must be a constant */
    tl_init(&t, "STFT");
    tl_in(&t, 0, F32, 3, D(1, 10, 1));
    tl_in(&t, 1, I64, 0, NULL);
    tl_const(&t, 3, 1, D(4), 0);
    tl_out(&t, F32, 4, D(1, 3, 3, 2));
    assert_refused(tl_lower(&t), O2P_ERR_UNSUPPORTED, "frame_step as a constant");
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- windows, mel */

START_TEST(test_windows)
{
    tl t;
    tl_init(&t, "HammingWindow");
    tl_in(&t, 0, I64, 0, NULL); /* size known only from the output's shape */
    attr_int(&t, "periodic", 0);
    attr_int(&t, "output_datatype", F64);
    tl_out(&t, F64, 1, D(10));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_signal_window", sizeof(o2p_signal_window_params), 10);
    const o2p_signal_window_params *p = PARAMS(o2p_signal_window_params, k);
    ck_assert_int_eq(p->size, 10);
    ck_assert_int_eq(p->denom, 9);
    ck_assert_int_eq(p->kind, O2P_SIGNAL_HAMMING);
    ck_assert_int_eq(p->y_dtype, F64);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_window_params, y_ptr), NULL), 10);
    ck_assert_int_eq(k->num_patches, 1);
    tl_free(&t);

    /* a constant size must agree with the output */
    tl_init(&t, "BlackmanWindow");
    tl_const(&t, 0, 1, D(6), 0);
    tl_out(&t, F32, 1, D(7));
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "output 0 has shape");
    tl_free(&t);
    tl_init(&t, "HannWindow");
    tl_const(&t, 0, 1, D(6), 0);
    tl_out(&t, F32, 1, D(6));
    ck_assert_int_eq(tl_lower(&t), O2P_OK);
    p = PARAMS(o2p_signal_window_params, &t.e.launches[0]);
    ck_assert_int_eq(p->denom, 6);
    ck_assert_int_eq(p->kind, O2P_SIGNAL_HANN);
    tl_free(&t);
    /* an empty window: no launch */
    tl_init(&t, "HannWindow");
    tl_const(&t, 0, 1, D(0), 0);
    tl_out(&t, F32, 1, D(0));
    ck_assert_int_eq(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 0);
    tl_free(&t);
}
END_TEST

START_TEST(test_mel)
{
    tl t;
    tl_init(&t, "MelWeightMatrix");
    tl_in(&t, 0, I32, 0, NULL);
    tl_in(&t, 1, I64, 0, NULL);
    tl_in(&t, 2, I64, 0, NULL);
    tl_in(&t, 3, F32, 0, NULL);
    tl_in(&t, 4, F32, 0, NULL);
    tl_out(&t, F32, 2, D(9, 8));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_signal_mel", sizeof(o2p_signal_mel_params), 72);
    const o2p_signal_mel_params *p = PARAMS(o2p_signal_mel_params, k);
    ck_assert_int_eq(p->spec, 9);
    ck_assert_int_eq(p->bins, 8);
    ck_assert_int_eq(p->in_dtype[0], I32);
    ck_assert_int_eq(p->in_dtype[3], F32);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_mel_params, in_ptr) + 8u * i, NULL),
                         i);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_mel_params, y_ptr), NULL), 10);
    tl_free(&t);
    /* sample_rate must be an integer scalar */
    tl_init(&t, "MelWeightMatrix");
    tl_in(&t, 0, I32, 0, NULL);
    tl_in(&t, 1, I64, 0, NULL);
    tl_in(&t, 2, F32, 0, NULL);
    tl_in(&t, 3, F32, 0, NULL);
    tl_in(&t, 4, F32, 0, NULL);
    tl_out(&t, F32, 2, D(9, 8));
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "sample_rate");
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- MaxUnpool, crop, Det */

START_TEST(test_max_unpool)
{
    static const int64_t ks[2] = {2, 2}, st[2] = {2, 2};
    tl t;
    tl_init(&t, "MaxUnpool");
    tl_in(&t, 0, F32, 4, D(1, 2, 2, 2));
    tl_in(&t, 1, I64, 4, D(1, 2, 2, 2));
    tl_in(&t, 2, I64, 1, D(4)); /* output_shape, values only at run time: Y's shape */
    attr_ints(&t, "kernel_shape", ks, 2);
    attr_ints(&t, "strides", st, 2);
    tl_out(&t, F32, 4, D(1, 2, 5, 5));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 2);
    const cg_launch *m = &t.e.launches[0];
    ck_assert_int_eq(m->kind, CG_LAUNCH_MEMSET);
    ck_assert_uint_eq(((const cg_memset_params *)m->params)->bytes, 50 * 4);
    ck_assert_int_eq(patch_tensor(m, 0, NULL), 10);
    const cg_launch *k = &t.e.launches[1];
    assert_kernel(k, "o2p_signal_unpool", sizeof(o2p_signal_unpool_params), 8);
    const o2p_signal_unpool_params *p = PARAMS(o2p_signal_unpool_params, k);
    ck_assert_int_eq(p->total, 8);
    ck_assert_int_eq(p->rank, 4);
    ck_assert_int_eq(p->elem_size, 4);
    ck_assert_int_eq(p->idims[2], 4);
    ck_assert_int_eq(p->idims[3], 4);
    ck_assert_int_eq(p->ydims[2], 5);
    ck_assert_int_eq(p->icount, 32);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_unpool_params, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_unpool_params, i_ptr), NULL), 1);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_unpool_params, y_ptr), NULL), 10);
    tl_free(&t);
    /* without output_shape the output must be the unpooled shape */
    tl_init(&t, "MaxUnpool");
    tl_in(&t, 0, F32, 4, D(1, 2, 2, 2));
    tl_in(&t, 1, I64, 4, D(1, 2, 2, 2));
    attr_ints(&t, "kernel_shape", ks, 2);
    attr_ints(&t, "strides", st, 2);
    tl_out(&t, F32, 4, D(1, 2, 5, 5));
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "output 0 has shape");
    tl_free(&t);
    /* indices must be int64 */
    tl_init(&t, "MaxUnpool");
    tl_in(&t, 0, F32, 4, D(1, 2, 2, 2));
    tl_in(&t, 1, I32, 4, D(1, 2, 2, 2));
    attr_ints(&t, "kernel_shape", ks, 2);
    tl_out(&t, F32, 4, D(1, 2, 3, 3));
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "int64");
    tl_free(&t);
}
END_TEST

START_TEST(test_center_crop_pad)
{
    static const int64_t axes[1] = {-1};
    tl t;
    tl_init(&t, "CenterCropPad");
    tl_in(&t, 0, O2P_DTYPE_FLOAT16, 3, D(2, 3, 4));
    tl_const(&t, 1, 2, D(5, 1), 1);
    static const int64_t ax2[2] = {1, 2};
    attr_ints(&t, "axes", ax2, 2);
    tl_out(&t, O2P_DTYPE_FLOAT16, 3, D(2, 5, 1));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_signal_crop_pad", sizeof(o2p_signal_crop_pad_params), 10);
    const o2p_signal_crop_pad_params *p = PARAMS(o2p_signal_crop_pad_params, k);
    ck_assert_int_eq(p->rank, 3);
    ck_assert_int_eq(p->elem_size, 2);
    ck_assert_int_eq(p->shift[0], 0);
    ck_assert_int_eq(p->shift[1], 1);  /* pad 3 -> 5 */
    ck_assert_int_eq(p->shift[2], -1); /* crop 4 -> 1: start at 1 */
    ck_assert_int_eq(p->out[1], 5);
    ck_assert_int_eq(p->in[2], 4);
    tl_free(&t);
    /* a run-time shape: the output's static shape gives it, other axes must be kept */
    tl_init(&t, "CenterCropPad");
    tl_in(&t, 0, F32, 2, D(3, 4));
    tl_in(&t, 1, I64, 1, D(1));
    attr_ints(&t, "axes", axes, 1);
    tl_out(&t, F32, 2, D(2, 6));
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "expected the input's");
    tl_free(&t);
    tl_init(&t, "CenterCropPad");
    tl_in(&t, 0, F32, 2, D(3, 4));
    tl_in(&t, 1, I64, 1, D(1));
    attr_ints(&t, "axes", axes, 1);
    tl_out(&t, F32, 2, D(3, 6));
    ck_assert_int_eq(tl_lower(&t), O2P_OK);
    ck_assert_int_eq(PARAMS(o2p_signal_crop_pad_params, &t.e.launches[0])->shift[1], 1);
    tl_free(&t);
}
END_TEST

START_TEST(test_det)
{
    tl t;
    tl_init(&t, "Det");
    tl_in(&t, 0, F32, 3, D(5, 3, 3));
    tl_out(&t, F32, 1, D(5));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_signal_det", sizeof(o2p_signal_det_params), 5);
    const o2p_signal_det_params *p = PARAMS(o2p_signal_det_params, k);
    ck_assert_int_eq(p->batch, 5);
    ck_assert_int_eq(p->m, 3);
    ck_assert_uint_ge(t.e.workspace, 5 * 9 * sizeof(double));
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_det_params, ws_ptr), NULL),
                     CG_TENSOR_WORKSPACE);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_det_params, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_det_params, y_ptr), NULL), 10);
    tl_free(&t);
    tl_init(&t, "Det");
    tl_in(&t, 0, F32, 2, D(3, 2));
    tl_out(&t, F32, 0, NULL);
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "square");
    tl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- random */

START_TEST(test_random)
{
    static const int64_t shape[2] = {4, 5};
    o2p_u64 seeds[2];
    for (int r = 0; r < 2; r++) {
        tl t;
        tl_init(&t, "RandomNormal");
        attr_ints(&t, "shape", shape, 2);
        attr_float(&t, "seed", 3.0f);
        attr_float(&t, "mean", 1.5f);
        attr_float(&t, "scale", 0.5f);
        tl_out(&t, F32, 2, D(4, 5));
        ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
        const cg_launch *k = &t.e.launches[0];
        assert_kernel(k, "o2p_signal_random", sizeof(o2p_signal_random_params), 20);
        const o2p_signal_random_params *p = PARAMS(o2p_signal_random_params, k);
        ck_assert_int_eq(p->kind, O2P_SIGNAL_NORMAL);
        ck_assert_int_eq(p->fresh, 0);
        ck_assert(p->a == 1.5 && p->b == 0.5);
        ck_assert_int_eq(k->num_patches, 1);
        seeds[r] = p->seed;
        tl_free(&t);
    }
    ck_assert_msg(seeds[0] == seeds[1], "a seeded layer must lower to the same stream");

    /* no seed: the kernel mixes in the clock */
    tl t;
    tl_init(&t, "RandomUniformLike");
    tl_in(&t, 0, F32, 2, D(4, 5));
    attr_int(&t, "dtype", O2P_DTYPE_FLOAT16);
    tl_out(&t, O2P_DTYPE_FLOAT16, 2, D(4, 5));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const o2p_signal_random_params *p = PARAMS(o2p_signal_random_params, &t.e.launches[0]);
    ck_assert_int_eq(p->fresh, 1);
    ck_assert_int_eq(p->kind, O2P_SIGNAL_UNIFORM);
    ck_assert(p->a == 0.0 && p->b == 1.0);
    ck_assert_int_eq(p->y_dtype, O2P_DTYPE_FLOAT16);
    tl_free(&t);

    /* Bernoulli reads its probabilities; any numeric output type */
    tl_init(&t, "Bernoulli");
    tl_in(&t, 0, F64, 1, D(7));
    attr_int(&t, "dtype", O2P_DTYPE_BOOL);
    tl_out(&t, O2P_DTYPE_BOOL, 1, D(7));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    p = PARAMS(o2p_signal_random_params, k);
    ck_assert_int_eq(p->kind, O2P_SIGNAL_BERNOULLI);
    ck_assert_int_eq(p->x_dtype, F64);
    ck_assert_int_eq(p->y_dtype, O2P_DTYPE_BOOL);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_random_params, x_ptr), NULL), 0);
    tl_free(&t);

    /* RandomUniform with an integer dtype has no candidate */
    tl_init(&t, "RandomUniform");
    attr_ints(&t, "shape", shape, 2);
    attr_int(&t, "dtype", I32);
    tl_out(&t, I32, 2, D(4, 5));
    const char *why;
    ck_assert_int_eq(tl_candidates(&t, &why), 0);
    ck_assert_ptr_nonnull(why);
    tl_free(&t);
    /* an output shape other than the attribute's is refused */
    tl_init(&t, "RandomUniform");
    attr_ints(&t, "shape", shape, 2);
    tl_out(&t, F32, 2, D(5, 4));
    assert_refused(tl_lower(&t), O2P_ERR_SHAPE, "output 0 has shape");
    tl_free(&t);
}
END_TEST

START_TEST(test_multinomial)
{
    tl t;
    tl_init(&t, "Multinomial");
    tl_in(&t, 0, F32, 2, D(3, 10));
    attr_int(&t, "sample_size", 7);
    attr_float(&t, "seed", 1.0f);
    tl_out(&t, I32, 2, D(3, 7));
    ck_assert_msg(tl_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    assert_kernel(k, "o2p_signal_multinomial", sizeof(o2p_signal_multinomial_params), 21);
    const o2p_signal_multinomial_params *p = PARAMS(o2p_signal_multinomial_params, k);
    ck_assert_int_eq(p->total, 21);
    ck_assert_int_eq(p->classes, 10);
    ck_assert_int_eq(p->samples, 7);
    ck_assert_int_eq(p->fresh, 0);
    ck_assert_int_eq(p->y_dtype, I32);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_multinomial_params, x_ptr), NULL), 0);
    ck_assert_int_eq(patch_tensor(k, offsetof(o2p_signal_multinomial_params, y_ptr), NULL), 10);
    tl_free(&t);
    tl_init(&t, "Multinomial");
    tl_in(&t, 0, F32, 2, D(3, 10));
    attr_int(&t, "dtype", F32);
    tl_out(&t, F32, 2, D(3, 1));
    const char *why;
    ck_assert_int_eq(tl_candidates(&t, &why), 0);
    ck_assert_ptr_nonnull(why);
    tl_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lower_signal");
    TCase *tc = tcase_create("signal");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_dft);
    tcase_add_test(tc, test_stft);
    tcase_add_test(tc, test_windows);
    tcase_add_test(tc, test_mel);
    tcase_add_test(tc, test_max_unpool);
    tcase_add_test(tc, test_center_crop_pad);
    tcase_add_test(tc, test_det);
    tcase_add_test(tc, test_random);
    tcase_add_test(tc, test_multinomial);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
