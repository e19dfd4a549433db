/* rnn_params.h: the one parameter struct of the rnn kernel family (kernels/cuda/rnn.cu):
 * LSTM, GRU and RNN. Filled by src/codegen/lower_rnn.c; layout rules in o2p_params.h.
 *
 * A layer runs as two launches with the same parameters:
 * - o2p_rnn_proj_<t>: the input projection of every time step and direction, a GEMM
 *     proj[((d*seq + t)*batch + b)*G*H + n] = sum_k X(t, b, k) * W[d][n][k]
 *   (X(t, b, k) = x[t*x_ts + b*x_bs + k]) in the accumulation type (float; double for double
 *   tensors); 16x16 threads per block, a 16x16 tile of proj, grid (ceil(GH/16), <= 65535
 *   row tiles (the kernel loops), dirs);
 * - o2p_rnn_seq_<t>: the recurrence, one block per (batch element, direction): grid (batch,
 *   dirs), O2P_RNN_THREADS threads; the block keeps its state (h, c, the gate rows, GRU's
 *   r (.) h) in its slice of the state workspace: state[((d*batch + b) * (3H + G*H)].
 * Gates are the ONNX order: LSTM i o f c, GRU z r h, RNN one; biases B = [Wb, Rb]. */
#ifndef O2P_RNN_PARAMS_H
#define O2P_RNN_PARAMS_H

#include "o2p_params.h"

/* Activation functions (values shared with the host's HOST_RNN_*). */
#define O2P_RNN_ACT_RELU 0
#define O2P_RNN_ACT_TANH 1
#define O2P_RNN_ACT_SIGMOID 2
#define O2P_RNN_ACT_AFFINE 3
#define O2P_RNN_ACT_LEAKY_RELU 4
#define O2P_RNN_ACT_THRESHOLDED_RELU 5
#define O2P_RNN_ACT_SCALED_TANH 6
#define O2P_RNN_ACT_HARD_SIGMOID 7
#define O2P_RNN_ACT_ELU 8
#define O2P_RNN_ACT_SOFTSIGN 9
#define O2P_RNN_ACT_SOFTPLUS 10

/* Layer kinds. */
#define O2P_RNN_SIMPLE 0
#define O2P_RNN_GRU 1
#define O2P_RNN_LSTM 2

typedef struct o2p_rnn_params {
    o2p_u64 x_ptr;
    o2p_u64 w_ptr;
    o2p_u64 r_ptr;
    o2p_u64 b_ptr;     /* 0: no bias */
    o2p_u64 seq_ptr;   /* sequence_lens; 0: every sequence is seq long */
    o2p_u64 h0_ptr;    /* initial_h; 0: zeros */
    o2p_u64 c0_ptr;    /* initial_c (LSTM); 0: zeros */
    o2p_u64 p_ptr;     /* peepholes (LSTM) [dirs, 3H] (i o f); 0: none */
    o2p_u64 y_ptr;     /* 0: Y not wanted */
    o2p_u64 yh_ptr;    /* 0: Y_h not wanted */
    o2p_u64 yc_ptr;    /* 0: Y_c not wanted */
    o2p_u64 proj_ptr;  /* workspace: [dirs, seq, batch, G*H] of the accumulation type */
    o2p_u64 state_ptr; /* workspace: [dirs, batch, 3H + G*H] of the accumulation type */
    o2p_i64 seq, batch, input, hidden;
    o2p_i64 x_ts, x_bs;       /* X strides (elements) of t and b; k is contiguous */
    o2p_i64 y_ts, y_ds, y_bs; /* Y strides of t, d and b; the hidden unit is contiguous */
    o2p_i64 s_ds, s_bs;       /* initial_h/c, Y_h, Y_c strides of d and b */
    o2p_f32 alpha[6];         /* [d*3 + k]: activation k (f, g, h) of direction d */
    o2p_f32 beta[6];
    o2p_f32 clip; /* applied to every activation's input when has_clip */
    o2p_i32 act[6];
    o2p_i32 kind; /* O2P_RNN_SIMPLE / GRU / LSTM */
    o2p_i32 gates;
    o2p_i32 dirs;
    o2p_i32 reverse[2]; /* direction d runs backward in time */
    o2p_i32 has_clip;
    o2p_i32 input_forget;        /* LSTM: f = 1 - i */
    o2p_i32 linear_before_reset; /* GRU */
    o2p_i32 seq_dtype;           /* O2P_CU_INT32 / O2P_CU_INT64 */
} o2p_rnn_params;

/* sizeof(o2p_rnn_params): checked in rnn.cu and lower_rnn.c. */
#define O2P_RNN_PARAMS_SIZE 304

#define O2P_RNN_TILE 16     /* the projection GEMM's tile (16x16 threads) */
#define O2P_RNN_THREADS 256 /* threads of a recurrence block */
#define O2P_RNN_MAX_ROW_TILES 65535

#endif
