/* signal_params.h: the parameter structs of the signal kernel family (kernels/cuda/signal.cu),
 * filled by src/codegen/lower_signal.c: DFT/STFT, the windows, MelWeightMatrix, MaxUnpool, Det,
 * CenterCropPad and the random generators. Layout rules in o2p_params.h; each struct's size
 * is asserted on both sides. */
#ifndef O2P_SIGNAL_PARAMS_H
#define O2P_SIGNAL_PARAMS_H

#include "o2p_params.h"

/* ---- DFT and STFT, one thread per complex output (o, f, k, j), flat index
 * ((o * frames + f) * nout + k) * inner + j:
 *   Y = sum_{t < taps} X[((o * len_in + f * step + t) * inner + j) * comp] * w[t]
 *       * exp(-+2 pi i k t / n)  (/ n when inverse)
 * DFT: frames 1, step 0, no window; STFT: inner 1, the window optional. */
typedef struct o2p_signal_dft_params {
    o2p_u64 x_ptr;
    o2p_u64 w_ptr; /* the window (STFT), 0 when absent */
    o2p_u64 y_ptr;
    o2p_i64 total; /* complex outputs */
    o2p_i64 outer;
    o2p_i64 frames;
    o2p_i64 nout; /* output bins along the transformed axis */
    o2p_i64 inner;
    o2p_i64 len_in; /* X's length along the transformed axis */
    o2p_i64 n;      /* the transform length */
    o2p_i64 taps;   /* terms summed: min(len_in, n) (DFT) or frame_length (STFT) */
    o2p_i64 step;
    o2p_i32 comp; /* 1 real, 2 complex */
    o2p_i32 inverse;
    o2p_i32 x_dtype; /* O2P_CU_* of X (and Y) */
    o2p_i32 w_dtype;
    o2p_i32 reserved[2];
} o2p_signal_dft_params;

/* ---- Hann / Hamming / Blackman windows: y[i] = f(2 pi i / denom) (NaN when denom is 0). */
#define O2P_SIGNAL_HANN 0
#define O2P_SIGNAL_HAMMING 1
#define O2P_SIGNAL_BLACKMAN 2

typedef struct o2p_signal_window_params {
    o2p_u64 y_ptr;
    o2p_i64 size;
    o2p_i64 denom; /* size (periodic) or size - 1 (symmetric) */
    o2p_i32 kind;
    o2p_i32 y_dtype;
} o2p_signal_window_params;

/* ---- MelWeightMatrix, one thread per output element; the five scalar inputs are read on
 * the device (a constant layer is folded at build time and never gets here). */
typedef struct o2p_signal_mel_params {
    o2p_u64 y_ptr;
    o2p_u64 in_ptr[5]; /* num_mel_bins, dft_length, sample_rate, lower/upper_edge_hertz */
    o2p_i64 total;
    o2p_i64 spec; /* Y's rows: dft_length / 2 + 1 */
    o2p_i64 bins; /* Y's columns */
    o2p_i32 in_dtype[5];
    o2p_i32 y_dtype;
} o2p_signal_mel_params;

/* ---- MaxUnpool: after a memset of Y, one thread per X element moves it to its index,
 * taken in the unpooled shape idims and placed at the same coordinates of Y (dims ydims;
 * dropped when outside). Indices outside [0, prod(idims)) are skipped. */
typedef struct o2p_signal_unpool_params {
    o2p_u64 x_ptr;
    o2p_u64 i_ptr;
    o2p_u64 y_ptr;
    o2p_i64 total;  /* X's elements */
    o2p_i64 icount; /* prod(idims) */
    o2p_i64 idims[O2P_CU_MAX_RANK];
    o2p_i64 ydims[O2P_CU_MAX_RANK];
    o2p_i32 rank;
    o2p_i32 elem_size; /* 1, 2, 4 or 8 */
} o2p_signal_unpool_params;

/* ---- Det, one thread per matrix: LU with partial pivoting in double in the workspace
 * (m * m doubles per matrix). */
typedef struct o2p_signal_det_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 ws_ptr;
    o2p_i64 batch;
    o2p_i64 m;
    o2p_i32 x_dtype; /* X's and Y's */
    o2p_i32 reserved;
} o2p_signal_det_params;

/* ---- CenterCropPad, one thread per output element: source coordinate = output coordinate
 * - shift per axis, zero outside the input. */
typedef struct o2p_signal_crop_pad_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_i64 total;
    o2p_i64 in[O2P_CU_MAX_RANK];
    o2p_i64 out[O2P_CU_MAX_RANK];
    o2p_i64 shift[O2P_CU_MAX_RANK];
    o2p_i32 rank;
    o2p_i32 elem_size; /* 1, 2, 4 or 8 */
} o2p_signal_crop_pad_params;

/* ---- RandomUniform(Like), RandomNormal(Like), Bernoulli: counter-based, element i from a
 * hash of (seed, i) as the host kernels (kernels/host/signal.c). fresh: no seed attribute,
 * the kernel mixes the GPU's clock into the seed so each run differs. */
#define O2P_SIGNAL_UNIFORM 0
#define O2P_SIGNAL_NORMAL 1
#define O2P_SIGNAL_BERNOULLI 2

typedef struct o2p_signal_random_params {
    o2p_u64 x_ptr; /* Bernoulli's probabilities */
    o2p_u64 y_ptr;
    o2p_u64 seed;
    o2p_i64 total;
    o2p_f64 a; /* low (uniform) or mean (normal) */
    o2p_f64 b; /* high or scale */
    o2p_i32 kind;
    o2p_i32 fresh;
    o2p_i32 x_dtype;
    o2p_i32 y_dtype;
} o2p_signal_random_params;

/* ---- Multinomial, one thread per sample (b, s): the first class whose running sum of
 * exp(x - max) exceeds u * total, u from the stream at index b * samples + s. */
typedef struct o2p_signal_multinomial_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 seed;
    o2p_i64 total; /* batch * samples */
    o2p_i64 classes;
    o2p_i64 samples;
    o2p_i32 fresh;
    o2p_i32 x_dtype;
    o2p_i32 y_dtype; /* int32 or int64 */
    o2p_i32 reserved;
} o2p_signal_multinomial_params;

#endif
