// training.cu: the training kernel family: the optimizers of ai.onnx.preview.training
// (Adagrad, Adam, Momentum), the batch statistics of a training-mode BatchNormalization and
// training-mode Dropout. Same formulas as kernels/host/training.c, nn_norm.c and
// elementwise.c, computed in double; element types are run-time parameters (these ops are
// rare: one generic kernel each keeps the module small).
#include "o2p_cuda.h"
#include "training_params.h"

static_assert(sizeof(o2p_training_optimizer_params) == 144, "");
static_assert(sizeof(o2p_training_bn_stats_params) == 96, "");
static_assert(sizeof(o2p_training_dropout_params) == 80, "");

// ---------------------------------------------------------------- optimizers

extern "C" __global__ void o2p_training_optimizer(const o2p_training_optimizer_params p)
{
    double r = o2p_load_f64((const void *)p.r_ptr, p.r_dtype, 0);
    double t = (double)((const long long *)p.t_ptr)[0];
    // the rate as the update uses it, and Momentum's beta (1 at the first update)
    double rate = r, beta = p.beta;
    if (p.kind == O2P_TRAINING_ADAGRAD)
        rate = r / (1.0 + t * p.decay);
    else if (p.kind == O2P_TRAINING_ADAM && t > 0)
        rate = r * sqrt(1.0 - pow(p.beta, t)) / (1.0 - pow(p.alpha, t));
    else if (p.kind == O2P_TRAINING_MOMENTUM && t <= 0)
        beta = 1.0;
    const void *xp = (const void *)p.x_ptr;
    O2P_FOR(i, p.total)
    {
        double x = o2p_load_f64(xp, p.x_dtype, i);
        double gr = p.norm * x + o2p_load_f64((const void *)p.g_ptr, p.x_dtype, i);
        double s1 = o2p_load_f64((const void *)p.s1_ptr, p.x_dtype, i);
        double x_new, s1_new, s2_new = 0.0;
        if (p.kind == O2P_TRAINING_ADAGRAD) {
            s1_new = s1 + gr * gr;
            x_new = x - rate * gr / (sqrt(s1_new) + p.epsilon);
        } else if (p.kind == O2P_TRAINING_ADAM) {
            double s2 = o2p_load_f64((const void *)p.s2_ptr, p.x_dtype, i);
            s1_new = p.alpha * s1 + (1.0 - p.alpha) * gr;
            s2_new = p.beta * s2 + (1.0 - p.beta) * gr * gr;
            x_new = (1.0 - p.post) * (x - rate * (s1_new / (sqrt(s2_new) + p.epsilon)));
        } else {
            s1_new = p.alpha * s1 + beta * gr;
            x_new = p.nesterov ? x - rate * (gr + p.alpha * s1_new) : x - rate * s1_new;
        }
        if (p.x_out_ptr)
            o2p_store_f64((void *)p.x_out_ptr, p.x_dtype, i, x_new);
        if (p.s1_out_ptr)
            o2p_store_f64((void *)p.s1_out_ptr, p.x_dtype, i, s1_new);
        if (p.s2_out_ptr)
            o2p_store_f64((void *)p.s2_out_ptr, p.x_dtype, i, s2_new);
    }
}

// ---------------------------------------------------------------- BatchNormalization statistics

// The sum of v over the block (blockDim.x a power of two, at most O2P_TRAINING_BN_BLOCK);
// every thread gets it.
O2P_DEVICE double o2p_training_block_sum(double v, double *sh)
{
    sh[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s)
            sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    double total = sh[0];
    __syncthreads(); // sh is reused by the next sum
    return total;
}

extern "C" __global__ void o2p_training_bn_stats(const o2p_training_bn_stats_params p)
{
    __shared__ double sh[O2P_TRAINING_BN_BLOCK];
    const void *x = (const void *)p.x_ptr;
    o2p_i64 count = p.batch * p.inner;
    for (o2p_i64 c = blockIdx.x; c < p.channels; c += gridDim.x) {
        double sum = 0.0;
        for (o2p_i64 e = threadIdx.x; e < count; e += blockDim.x)
            sum += o2p_load_f64(x, p.x_dtype,
                                ((e / p.inner) * p.channels + c) * p.inner + e % p.inner);
        double mean = count > 0 ? o2p_training_block_sum(sum, sh) / (double)count : 0.0;
        double sq = 0.0;
        for (o2p_i64 e = threadIdx.x; e < count; e += blockDim.x) {
            double d = o2p_load_f64(x, p.x_dtype,
                                    ((e / p.inner) * p.channels + c) * p.inner + e % p.inner) -
                       mean;
            sq += d * d;
        }
        double var = count > 0 ? o2p_training_block_sum(sq, sh) / (double)count : 0.0;
        if (threadIdx.x == 0) {
            double *stats = (double *)p.stats_ptr;
            stats[c] = mean;
            stats[p.channels + c] = var;
            if (p.mean_out_ptr)
                o2p_store_f64((void *)p.mean_out_ptr, p.mean_dtype, c,
                              o2p_load_f64((const void *)p.mean_in_ptr, p.mean_dtype, c) *
                                      p.momentum +
                                  mean * (1.0 - p.momentum));
            if (p.var_out_ptr)
                o2p_store_f64((void *)p.var_out_ptr, p.var_dtype, c,
                              o2p_load_f64((const void *)p.var_in_ptr, p.var_dtype, c) *
                                      p.momentum +
                                  var * (1.0 - p.momentum));
        }
    }
}

// ---------------------------------------------------------------- Dropout

extern "C" __global__ void o2p_training_dropout(const o2p_training_dropout_params p)
{
    unsigned long long seed = o2p_rand_stream(p.seed, p.fresh);
    double ratio =
        p.ratio_ptr ? o2p_load_f64((const void *)p.ratio_ptr, p.ratio_dtype, 0) : p.ratio;
    if (p.training_ptr && ((const unsigned char *)p.training_ptr)[0] == 0)
        ratio = 0.0; // inference: the identity with an all-true mask
    // ratio >= 1 keeps nothing, so the scale is never inf * 0
    double scale = ratio < 1.0 ? 1.0 / (1.0 - ratio) : 0.0;
    O2P_FOR(i, p.total)
    {
        int keep = ratio == 0.0 || o2p_rand_u01(seed, (unsigned long long)i) >= ratio;
        double v = o2p_load_f64((const void *)p.x_ptr, p.x_dtype, i);
        o2p_store_f64((void *)p.y_ptr, p.x_dtype, i, keep ? v * scale : 0.0);
        if (p.mask_ptr)
            ((unsigned char *)p.mask_ptr)[i] = (unsigned char)keep;
    }
}
