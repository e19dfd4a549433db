/* test_lower_signal.c: the CUDA lowerings of the signal family (src/codegen/lower_signal.c)
 * without a GPU: layers built by hand go through candidates() and lower(); the launches' kernel
 * names, grids, device-address patches and parameter fields are checked against what
 * kernels/cuda/signal.cu expects, and bad shapes, types and non-constant inputs the kernels
 * need on the host side are refused with a message. */
#include <stddef.h>
#include <string.h>

#include "cuda/signal_params.h"
#include "lower_testutil.h"

#define OPSET 17

/* A constant int64 input (rank 0 for one value, else 1-D of n) with host data. */
static void const_i64(lt_layer *t, int i, int n, const int64_t *v, int rank1)
{
    lt_const_in(t, i, I64, rank1 ? 1 : 0, D(n), v);
}

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
    lt_layer t;
    lt_init(&t, "DFT", OPSET);
    lt_in(&t, 0, F32, 4, D(2, 8, 3, 2));
    lt_out(&t, 0, F32, 4, D(2, 8, 3, 2));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel_for(k, "signal", "o2p_signal_dft", sizeof(o2p_signal_dft_params), 48);
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
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_dft_params, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_dft_params, y_ptr), NULL), 10);
    ck_assert(!lt_has_patch(k, offsetof(o2p_signal_dft_params, w_ptr)));
    lt_free(&t);

    /* onesided with a longer constant dft_length: zero padding (taps stay at the input's) */
    lt_init(&t, "DFT", OPSET);
    lt_in(&t, 0, F32, 3, D(1, 8, 1));
    const_i64(&t, 1, 1, D(10), 0);
    lt_attr_int(&t, "onesided", 1);
    lt_out(&t, 0, F32, 3, D(1, 6, 2));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(o2p_signal_dft_params, &t.e.launches[0]);
    ck_assert_int_eq(p->n, 10);
    ck_assert_int_eq(p->nout, 6);
    ck_assert_int_eq(p->taps, 8);
    lt_free(&t);

    /* inverse along axis -2 of a rank-4 input */
    lt_init(&t, "DFT", OPSET);
    lt_in(&t, 0, F64, 4, D(2, 3, 5, 2));
    lt_attr_int(&t, "axis", -2);
    lt_attr_int(&t, "inverse", 1);
    lt_out(&t, 0, F64, 4, D(2, 3, 5, 2));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(o2p_signal_dft_params, &t.e.launches[0]);
    ck_assert_int_eq(p->outer, 6);
    ck_assert_int_eq(p->inner, 1);
    ck_assert_int_eq(p->n, 5);
    ck_assert_int_eq(p->inverse, 1);
    ck_assert_int_eq(p->x_dtype, F64);
    lt_free(&t);

    /* a dft_length only known at run time is refused; so are bad shapes and int inputs */
    lt_init(&t, "DFT", OPSET);
    lt_in(&t, 0, F32, 3, D(1, 8, 1));
    lt_in(&t, 1, I64, 0, NULL);
    lt_out(&t, 0, F32, 3, D(1, 8, 2));
    lt_assert_refused(lt_lower(&t), O2P_ERR_UNSUPPORTED, "dft_length as a constant");
    lt_free(&t);
    lt_init(&t, "DFT", OPSET);
    lt_in(&t, 0, F32, 3, D(1, 8, 3));
    lt_out(&t, 0, F32, 3, D(1, 8, 2));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "1 (real) or 2");
    lt_free(&t);
    lt_init(&t, "DFT", OPSET);
    lt_in(&t, 0, F32, 3, D(1, 8, 1));
    lt_out(&t, 0, F32, 3, D(1, 7, 2));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "output 0 has shape");
    lt_free(&t);
    lt_init(&t, "DFT", OPSET);
    lt_in(&t, 0, I32, 3, D(1, 8, 1));
    lt_out(&t, 0, I32, 3, D(1, 8, 2));
    const char *why;
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    ck_assert_ptr_nonnull(why);
    lt_free(&t);
}
END_TEST

START_TEST(test_stft)
{
    lt_layer t;
    lt_init(&t, "STFT", OPSET);
    lt_in(&t, 0, F32, 3, D(2, 16, 1));
    const_i64(&t, 1, 1, D(4), 0);
    lt_in(&t, 2, F32, 1, D(8));
    lt_out(&t, 0, F32, 4, D(2, 3, 5, 2));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 1);
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel_for(k, "signal", "o2p_signal_dft", sizeof(o2p_signal_dft_params), 30);
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
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_dft_params, w_ptr), NULL), 2);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_dft_params, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_dft_params, y_ptr), NULL), 10);
    lt_free(&t);

    /* frame_length without a window, two-sided */
    lt_init(&t, "STFT", OPSET);
    lt_in(&t, 0, F32, 3, D(1, 10, 2));
    const_i64(&t, 1, 1, D(3), 0);
    const_i64(&t, 3, 1, D(4), 0);
    lt_attr_int(&t, "onesided", 0);
    lt_out(&t, 0, F32, 4, D(1, 3, 4, 2));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    p = PARAMS(o2p_signal_dft_params, &t.e.launches[0]);
    ck_assert_int_eq(p->frames, 3);
    ck_assert_int_eq(p->nout, 4);
    ck_assert_int_eq(p->comp, 2);
    ck_assert(!lt_has_patch(&t.e.launches[0], offsetof(o2p_signal_dft_params, w_ptr)));
    lt_free(&t);

    /* frame_step must be a constant */
    lt_init(&t, "STFT", OPSET);
    lt_in(&t, 0, F32, 3, D(1, 10, 1));
    lt_in(&t, 1, I64, 0, NULL);
    const_i64(&t, 3, 1, D(4), 0);
    lt_out(&t, 0, F32, 4, D(1, 3, 3, 2));
    lt_assert_refused(lt_lower(&t), O2P_ERR_UNSUPPORTED, "frame_step as a constant");
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- windows, mel */

START_TEST(test_windows)
{
    lt_layer t;
    lt_init(&t, "HammingWindow", OPSET);
    lt_in(&t, 0, I64, 0, NULL); /* size known only from the output's shape */
    lt_attr_int(&t, "periodic", 0);
    lt_attr_int(&t, "output_datatype", F64);
    lt_out(&t, 0, F64, 1, D(10));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel_for(k, "signal", "o2p_signal_window", sizeof(o2p_signal_window_params), 10);
    const o2p_signal_window_params *p = PARAMS(o2p_signal_window_params, k);
    ck_assert_int_eq(p->size, 10);
    ck_assert_int_eq(p->denom, 9);
    ck_assert_int_eq(p->kind, O2P_SIGNAL_HAMMING);
    ck_assert_int_eq(p->y_dtype, F64);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_window_params, y_ptr), NULL), 10);
    ck_assert_int_eq(k->num_patches, 1);
    lt_free(&t);

    /* a constant size must agree with the output */
    lt_init(&t, "BlackmanWindow", OPSET);
    const_i64(&t, 0, 1, D(6), 0);
    lt_out(&t, 0, F32, 1, D(7));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "output 0 has shape");
    lt_free(&t);
    lt_init(&t, "HannWindow", OPSET);
    const_i64(&t, 0, 1, D(6), 0);
    lt_out(&t, 0, F32, 1, D(6));
    ck_assert_int_eq(lt_lower(&t), O2P_OK);
    p = PARAMS(o2p_signal_window_params, &t.e.launches[0]);
    ck_assert_int_eq(p->denom, 6);
    ck_assert_int_eq(p->kind, O2P_SIGNAL_HANN);
    lt_free(&t);
    /* an empty window: no launch */
    lt_init(&t, "HannWindow", OPSET);
    const_i64(&t, 0, 1, D(0), 0);
    lt_out(&t, 0, F32, 1, D(0));
    ck_assert_int_eq(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(t.e.count, 0);
    lt_free(&t);
}
END_TEST

START_TEST(test_mel)
{
    lt_layer t;
    lt_init(&t, "MelWeightMatrix", OPSET);
    lt_in(&t, 0, I32, 0, NULL);
    lt_in(&t, 1, I64, 0, NULL);
    lt_in(&t, 2, I64, 0, NULL);
    lt_in(&t, 3, F32, 0, NULL);
    lt_in(&t, 4, F32, 0, NULL);
    lt_out(&t, 0, F32, 2, D(9, 8));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel_for(k, "signal", "o2p_signal_mel", sizeof(o2p_signal_mel_params), 72);
    const o2p_signal_mel_params *p = PARAMS(o2p_signal_mel_params, k);
    ck_assert_int_eq(p->spec, 9);
    ck_assert_int_eq(p->bins, 8);
    ck_assert_int_eq(p->in_dtype[0], I32);
    ck_assert_int_eq(p->in_dtype[3], F32);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_mel_params, in_ptr) + 8u * i, NULL),
                         i);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_mel_params, y_ptr), NULL), 10);
    lt_free(&t);
    /* sample_rate must be an integer scalar */
    lt_init(&t, "MelWeightMatrix", OPSET);
    lt_in(&t, 0, I32, 0, NULL);
    lt_in(&t, 1, I64, 0, NULL);
    lt_in(&t, 2, F32, 0, NULL);
    lt_in(&t, 3, F32, 0, NULL);
    lt_in(&t, 4, F32, 0, NULL);
    lt_out(&t, 0, F32, 2, D(9, 8));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "sample_rate");
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- MaxUnpool, crop, Det */

START_TEST(test_max_unpool)
{
    static const int64_t ks[2] = {2, 2}, st[2] = {2, 2};
    lt_layer t;
    lt_init(&t, "MaxUnpool", OPSET);
    lt_in(&t, 0, F32, 4, D(1, 2, 2, 2));
    lt_in(&t, 1, I64, 4, D(1, 2, 2, 2));
    lt_in(&t, 2, I64, 1, D(4)); /* output_shape, values only at run time: Y's shape */
    lt_attr_ints(&t, "kernel_shape", ks, 2);
    lt_attr_ints(&t, "strides", st, 2);
    lt_out(&t, 0, F32, 4, D(1, 2, 5, 5));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(t.e.count, 2);
    const cg_launch *m = &t.e.launches[0];
    ck_assert_int_eq(m->kind, CG_LAUNCH_MEMSET);
    ck_assert_uint_eq(((const cg_memset_params *)m->params)->bytes, 50 * 4);
    ck_assert_int_eq(lt_patch_tensor(m, 0, NULL), 10);
    const cg_launch *k = &t.e.launches[1];
    lt_assert_kernel_for(k, "signal", "o2p_signal_unpool", sizeof(o2p_signal_unpool_params), 8);
    const o2p_signal_unpool_params *p = PARAMS(o2p_signal_unpool_params, k);
    ck_assert_int_eq(p->total, 8);
    ck_assert_int_eq(p->rank, 4);
    ck_assert_int_eq(p->elem_size, 4);
    ck_assert_int_eq(p->idims[2], 4);
    ck_assert_int_eq(p->idims[3], 4);
    ck_assert_int_eq(p->ydims[2], 5);
    ck_assert_int_eq(p->icount, 32);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_unpool_params, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_unpool_params, i_ptr), NULL), 1);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_unpool_params, y_ptr), NULL), 10);
    lt_free(&t);
    /* without output_shape the output must be the unpooled shape */
    lt_init(&t, "MaxUnpool", OPSET);
    lt_in(&t, 0, F32, 4, D(1, 2, 2, 2));
    lt_in(&t, 1, I64, 4, D(1, 2, 2, 2));
    lt_attr_ints(&t, "kernel_shape", ks, 2);
    lt_attr_ints(&t, "strides", st, 2);
    lt_out(&t, 0, F32, 4, D(1, 2, 5, 5));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "output 0 has shape");
    lt_free(&t);
    /* indices must be int64 */
    lt_init(&t, "MaxUnpool", OPSET);
    lt_in(&t, 0, F32, 4, D(1, 2, 2, 2));
    lt_in(&t, 1, I32, 4, D(1, 2, 2, 2));
    lt_attr_ints(&t, "kernel_shape", ks, 2);
    lt_out(&t, 0, F32, 4, D(1, 2, 3, 3));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "int64");
    lt_free(&t);
}
END_TEST

START_TEST(test_center_crop_pad)
{
    static const int64_t axes[1] = {-1};
    lt_layer t;
    lt_init(&t, "CenterCropPad", OPSET);
    lt_in(&t, 0, O2P_DTYPE_FLOAT16, 3, D(2, 3, 4));
    const_i64(&t, 1, 2, D(5, 1), 1);
    static const int64_t ax2[2] = {1, 2};
    lt_attr_ints(&t, "axes", ax2, 2);
    lt_out(&t, 0, O2P_DTYPE_FLOAT16, 3, D(2, 5, 1));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel_for(k, "signal", "o2p_signal_crop_pad", sizeof(o2p_signal_crop_pad_params),
                         10);
    const o2p_signal_crop_pad_params *p = PARAMS(o2p_signal_crop_pad_params, k);
    ck_assert_int_eq(p->rank, 3);
    ck_assert_int_eq(p->elem_size, 2);
    ck_assert_int_eq(p->shift[0], 0);
    ck_assert_int_eq(p->shift[1], 1);  /* pad 3 -> 5 */
    ck_assert_int_eq(p->shift[2], -1); /* crop 4 -> 1: start at 1 */
    ck_assert_int_eq(p->out[1], 5);
    ck_assert_int_eq(p->in[2], 4);
    lt_free(&t);
    /* a run-time shape: the output's static shape gives it, other axes must be kept */
    lt_init(&t, "CenterCropPad", OPSET);
    lt_in(&t, 0, F32, 2, D(3, 4));
    lt_in(&t, 1, I64, 1, D(1));
    lt_attr_ints(&t, "axes", axes, 1);
    lt_out(&t, 0, F32, 2, D(2, 6));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "expected the input's");
    lt_free(&t);
    lt_init(&t, "CenterCropPad", OPSET);
    lt_in(&t, 0, F32, 2, D(3, 4));
    lt_in(&t, 1, I64, 1, D(1));
    lt_attr_ints(&t, "axes", axes, 1);
    lt_out(&t, 0, F32, 2, D(3, 6));
    ck_assert_int_eq(lt_lower(&t), O2P_OK);
    ck_assert_int_eq(PARAMS(o2p_signal_crop_pad_params, &t.e.launches[0])->shift[1], 1);
    lt_free(&t);
}
END_TEST

START_TEST(test_det)
{
    lt_layer t;
    lt_init(&t, "Det", OPSET);
    lt_in(&t, 0, F32, 3, D(5, 3, 3));
    lt_out(&t, 0, F32, 1, D(5));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel_for(k, "signal", "o2p_signal_det", sizeof(o2p_signal_det_params), 5);
    const o2p_signal_det_params *p = PARAMS(o2p_signal_det_params, k);
    ck_assert_int_eq(p->batch, 5);
    ck_assert_int_eq(p->m, 3);
    ck_assert_uint_ge(t.e.workspace, 5 * 9 * sizeof(double));
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_det_params, ws_ptr), NULL),
                     CG_TENSOR_WORKSPACE);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_det_params, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_det_params, y_ptr), NULL), 10);
    lt_free(&t);
    lt_init(&t, "Det", OPSET);
    lt_in(&t, 0, F32, 2, D(3, 2));
    lt_out(&t, 0, F32, 0, NULL);
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "square");
    lt_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- random */

START_TEST(test_random)
{
    static const int64_t shape[2] = {4, 5};
    o2p_u64 seeds[2];
    for (int r = 0; r < 2; r++) {
        lt_layer t;
        lt_init(&t, "RandomNormal", OPSET);
        lt_attr_ints(&t, "shape", shape, 2);
        lt_attr_float(&t, "seed", 3.0f);
        lt_attr_float(&t, "mean", 1.5f);
        lt_attr_float(&t, "scale", 0.5f);
        lt_out(&t, 0, F32, 2, D(4, 5));
        ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
        const cg_launch *k = &t.e.launches[0];
        lt_assert_kernel_for(k, "signal", "o2p_signal_random", sizeof(o2p_signal_random_params),
                             20);
        const o2p_signal_random_params *p = PARAMS(o2p_signal_random_params, k);
        ck_assert_int_eq(p->kind, O2P_SIGNAL_NORMAL);
        ck_assert_int_eq(p->fresh, 0);
        ck_assert(p->a == 1.5 && p->b == 0.5);
        ck_assert_int_eq(k->num_patches, 1);
        seeds[r] = p->seed;
        lt_free(&t);
    }
    ck_assert_msg(seeds[0] == seeds[1], "a seeded layer must lower to the same stream");

    /* no seed: the kernel mixes in the clock */
    lt_layer t;
    lt_init(&t, "RandomUniformLike", OPSET);
    lt_in(&t, 0, F32, 2, D(4, 5));
    lt_attr_int(&t, "dtype", O2P_DTYPE_FLOAT16);
    lt_out(&t, 0, O2P_DTYPE_FLOAT16, 2, D(4, 5));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const o2p_signal_random_params *p = PARAMS(o2p_signal_random_params, &t.e.launches[0]);
    ck_assert_int_eq(p->fresh, 1);
    ck_assert_int_eq(p->kind, O2P_SIGNAL_UNIFORM);
    ck_assert(p->a == 0.0 && p->b == 1.0);
    ck_assert_int_eq(p->y_dtype, O2P_DTYPE_FLOAT16);
    lt_free(&t);

    /* Bernoulli reads its probabilities; any numeric output type */
    lt_init(&t, "Bernoulli", OPSET);
    lt_in(&t, 0, F64, 1, D(7));
    lt_attr_int(&t, "dtype", O2P_DTYPE_BOOL);
    lt_out(&t, 0, O2P_DTYPE_BOOL, 1, D(7));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    p = PARAMS(o2p_signal_random_params, k);
    ck_assert_int_eq(p->kind, O2P_SIGNAL_BERNOULLI);
    ck_assert_int_eq(p->x_dtype, F64);
    ck_assert_int_eq(p->y_dtype, O2P_DTYPE_BOOL);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_random_params, x_ptr), NULL), 0);
    lt_free(&t);

    /* RandomUniform with an integer dtype has no candidate */
    lt_init(&t, "RandomUniform", OPSET);
    lt_attr_ints(&t, "shape", shape, 2);
    lt_attr_int(&t, "dtype", I32);
    lt_out(&t, 0, I32, 2, D(4, 5));
    const char *why;
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    ck_assert_ptr_nonnull(why);
    lt_free(&t);
    /* an output shape other than the attribute's is refused */
    lt_init(&t, "RandomUniform", OPSET);
    lt_attr_ints(&t, "shape", shape, 2);
    lt_out(&t, 0, F32, 2, D(5, 4));
    lt_assert_refused(lt_lower(&t), O2P_ERR_SHAPE, "output 0 has shape");
    lt_free(&t);
}
END_TEST

START_TEST(test_multinomial)
{
    lt_layer t;
    lt_init(&t, "Multinomial", OPSET);
    lt_in(&t, 0, F32, 2, D(3, 10));
    lt_attr_int(&t, "sample_size", 7);
    lt_attr_float(&t, "seed", 1.0f);
    lt_out(&t, 0, I32, 2, D(3, 7));
    ck_assert_msg(lt_lower(&t) == O2P_OK, "%s", o2p_last_error());
    const cg_launch *k = &t.e.launches[0];
    lt_assert_kernel_for(k, "signal", "o2p_signal_multinomial",
                         sizeof(o2p_signal_multinomial_params), 21);
    const o2p_signal_multinomial_params *p = PARAMS(o2p_signal_multinomial_params, k);
    ck_assert_int_eq(p->total, 21);
    ck_assert_int_eq(p->classes, 10);
    ck_assert_int_eq(p->samples, 7);
    ck_assert_int_eq(p->fresh, 0);
    ck_assert_int_eq(p->y_dtype, I32);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_multinomial_params, x_ptr), NULL), 0);
    ck_assert_int_eq(lt_patch_tensor(k, offsetof(o2p_signal_multinomial_params, y_ptr), NULL), 10);
    lt_free(&t);
    lt_init(&t, "Multinomial", OPSET);
    lt_in(&t, 0, F32, 2, D(3, 10));
    lt_attr_int(&t, "dtype", F32);
    lt_out(&t, 0, F32, 2, D(3, 1));
    const char *why;
    ck_assert_int_eq(lt_candidates(&t, NULL, &why), 0);
    ck_assert_ptr_nonnull(why);
    lt_free(&t);
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
