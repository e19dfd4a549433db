/* rnn_internal.h: the recurrent layers (LSTM, GRU, RNN) as both targets see them. The host
 * kernels (rnn.c) and the CUDA lowering (src/codegen/lower_rnn.c) check a layer and read its
 * attributes through host_rnn_describe, so the two agree on every shape rule, default and
 * activation function; the activation codes are the CUDA kernel's (rnn_params.h) too. */
#ifndef O2P_HOST_RNN_INTERNAL_H
#define O2P_HOST_RNN_INTERNAL_H

#include "host/host_kernels.h"

typedef enum host_rnn_kind {
    HOST_RNN_SIMPLE = 0,
    HOST_RNN_GRU = 1,
    HOST_RNN_LSTM = 2
} host_rnn_kind;

/* Activation functions (the values are O2P_RNN_ACT_* of kernels/cuda/rnn_params.h). */
enum {
    HOST_RNN_RELU = 0,
    HOST_RNN_TANH = 1,
    HOST_RNN_SIGMOID = 2,
    HOST_RNN_AFFINE = 3,
    HOST_RNN_LEAKY_RELU = 4,
    HOST_RNN_THRESHOLDED_RELU = 5,
    HOST_RNN_SCALED_TANH = 6,
    HOST_RNN_HARD_SIGMOID = 7,
    HOST_RNN_ELU = 8,
    HOST_RNN_SOFTSIGN = 9,
    HOST_RNN_SOFTPLUS = 10
};

/* Inputs by position: X, W, R, B, sequence_lens, initial_h, initial_c (LSTM), P (LSTM). */
typedef struct host_rnn_desc {
    host_rnn_kind kind;
    int gates;      /* 1, 3 (z r h), 4 (i o f c) */
    int num_acts;   /* activations per direction: 1, 2 (f g), 3 (f g h) */
    int num_dirs;   /* 1 or 2 */
    int reverse[2]; /* direction d runs backward in time */
    int layout;     /* 0: X [seq, batch, input]; 1: X [batch, seq, input] (opset 14) */
    int64_t seq, batch, input, hidden;
    int act[2][3];
    float alpha[2][3], beta[2][3];
    int has_clip;
    float clip;              /* > 0 when has_clip */
    int input_forget;        /* LSTM */
    int linear_before_reset; /* GRU */
    o2p_dtype dtype;         /* X, W, R, B, initial_h/c, P and every output */
    /* NULL where omitted (an empty optional input counts as omitted) */
    const host_tensor *x, *w, *r, *b, *seq_lens, *h0, *c0, *p;
    host_tensor *y, *yh, *yc;
    /* element strides: X of t and b; Y of t, d and b; initial_h/c, Y_h, Y_c of d and b */
    int64_t x_ts, x_bs, y_ts, y_ds, y_bs, s_ds, s_bs;
} host_rnn_desc;

/* Checks the layer (input/output counts, dtypes, ranks, dims against the attributes, the
 * attributes' values) and fills d. need_data: inputs with elements must have data (the host
 * kernel); the lowering passes 0 (only constants have data at build time). Float types only
 * (float, float16, bfloat16, double); sequence_lens int32 or int64. Fails with
 * O2P_ERR_SHAPE / O2P_ERR_UNSUPPORTED naming the layer. */
o2p_status host_rnn_describe(const host_kernel_args *a, int need_data, host_rnn_desc *d);

/* Activation function `act` with its alpha and beta. */
double host_rnn_act(int act, double x, double alpha, double beta);

#endif
