/* training_params.h: parameter structs of the training kernel family (kernels/cuda/training.cu,
 * lowered by src/codegen/lower_training.c, lower_nn.c and lower_elementwise.c): the optimizers
 * of ai.onnx.preview.training, the batch statistics of a training-mode BatchNormalization and
 * training-mode Dropout. Rules in o2p_params.h. */
#ifndef O2P_TRAINING_PARAMS_H
#define O2P_TRAINING_PARAMS_H

#include "o2p_params.h"

/* ---- Adagrad, Adam, Momentum: one launch per optimized tensor, one thread per element (as
 * kernels/host/training.c). R (float or double) and T (int64) are read on the device, so the
 * scalars derived from them (the decayed or bias-corrected rate, Momentum's beta at T = 0)
 * are computed per thread. X, G, the states and the outputs are all of x_dtype (float or
 * double); computed in double. */
#define O2P_TRAINING_ADAGRAD 0
#define O2P_TRAINING_ADAM 1
#define O2P_TRAINING_MOMENTUM 2

typedef struct o2p_training_optimizer_params {
    o2p_u64 r_ptr; /* R, one element */
    o2p_u64 t_ptr; /* T, one int64 */
    o2p_u64 x_ptr;
    o2p_u64 g_ptr;
    o2p_u64 s1_ptr;     /* Adagrad's H, Adam's V, Momentum's V */
    o2p_u64 s2_ptr;     /* Adam's H; 0 for the others */
    o2p_u64 x_out_ptr;  /* X_new; 0 when the output is left out */
    o2p_u64 s1_out_ptr; /* the new s1; 0 when left out */
    o2p_u64 s2_out_ptr; /* the new s2 (Adam); 0 when left out */
    o2p_i64 total;      /* elements of X */
    o2p_f64 norm;       /* norm_coefficient */
    o2p_f64 post;       /* Adam's norm_coefficient_post */
    o2p_f64 alpha;      /* Adam, Momentum */
    o2p_f64 beta;       /* Adam, Momentum (Momentum uses 1 instead at T <= 0) */
    o2p_f64 epsilon;    /* Adagrad, Adam */
    o2p_f64 decay;      /* Adagrad's decay_factor */
    o2p_i32 kind;       /* O2P_TRAINING_ADAGRAD / _ADAM / _MOMENTUM */
    o2p_i32 nesterov;   /* Momentum's mode "nesterov" */
    o2p_i32 r_dtype;    /* R's element type */
    o2p_i32 x_dtype;    /* of X, G, the states and the outputs */
} o2p_training_optimizer_params;

/* ---- BatchNormalization in training mode, first step: per channel c (one block each, a
 * grid stride over channels) the mean and population variance of X over N and the spatial
 * dims, in double, written to stats (mean[C] then var[C], doubles: the nn family's
 * batch_norm kernel then normalizes with them), and the running statistics
 * input * momentum + current * (1 - momentum) when those outputs are wanted. */
typedef struct o2p_training_bn_stats_params {
    o2p_u64 x_ptr;
    o2p_u64 mean_in_ptr;  /* input_mean [C] */
    o2p_u64 var_in_ptr;   /* input_var [C] */
    o2p_u64 stats_ptr;    /* 2 C doubles (workspace) */
    o2p_u64 mean_out_ptr; /* running_mean [C]; 0 when left out */
    o2p_u64 var_out_ptr;  /* running_var [C]; 0 when left out */
    o2p_i64 batch;        /* N */
    o2p_i64 channels;     /* C */
    o2p_i64 inner;        /* product of the spatial dims */
    o2p_f64 momentum;
    o2p_i32 x_dtype;
    o2p_i32 mean_dtype; /* of input_mean and running_mean */
    o2p_i32 var_dtype;  /* of input_var and running_var */
    o2p_i32 reserved;   /* 0 */
} o2p_training_bn_stats_params;

/* The block size of the bn_stats kernel (a power of two: its reduction halves it). */
#define O2P_TRAINING_BN_BLOCK 256

/* ---- Dropout in training mode, one thread per element: element i is kept when u_i >= ratio
 * (u_i uniform in [0, 1) from the counter-based stream (seed, i), as kernels/host's
 * host_rand_u01) and then scaled by 1 / (1 - ratio), else 0; the bool mask says which.
 * ratio and training_mode come from the device when their tensors are set (not constants at
 * build): training false keeps every element unscaled. fresh: no seed attribute, the GPU's
 * clock is mixed into the seed so each run differs. */
typedef struct o2p_training_dropout_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 mask_ptr;     /* bool; 0 when left out */
    o2p_u64 ratio_ptr;    /* ratio's tensor, one element; 0: the ratio field */
    o2p_u64 training_ptr; /* training_mode's tensor, one bool; 0: training */
    o2p_u64 seed;
    o2p_i64 total;
    o2p_f64 ratio;
    o2p_i32 x_dtype;     /* float, float16, bfloat16, double (y the same) */
    o2p_i32 ratio_dtype; /* when ratio_ptr is set */
    o2p_i32 fresh;
    o2p_i32 reserved; /* 0 */
} o2p_training_dropout_params;

#endif
