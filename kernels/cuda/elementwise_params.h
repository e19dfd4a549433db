/* elementwise_params.h: the parameter structs and op codes of the elementwise kernel family
 * (kernels/cuda/elementwise.cu), shared byte for byte with its lowering
 * (src/codegen/lower_elementwise.c). Rules in o2p_params.h. */
#ifndef O2P_ELEMENTWISE_PARAMS_H
#define O2P_ELEMENTWISE_PARAMS_H

#include "o2p_params.h"

/* Unary op codes (o2p_ew_unary_params.op). */
#define O2P_EW_U_ABS 0
#define O2P_EW_U_NEG 1
#define O2P_EW_U_SIGN 2
#define O2P_EW_U_RELU 3
#define O2P_EW_U_CLIP 4
#define O2P_EW_U_SHRINK 5
#define O2P_EW_U_BITNOT 6
#define O2P_EW_U_NOT 7
#define O2P_EW_U_SQRT 8
#define O2P_EW_U_EXP 9
#define O2P_EW_U_LOG 10
#define O2P_EW_U_RECIP 11
#define O2P_EW_U_FLOOR 12
#define O2P_EW_U_CEIL 13
#define O2P_EW_U_ROUND 14
#define O2P_EW_U_LEAKY_RELU 15
#define O2P_EW_U_ELU 16
#define O2P_EW_U_SELU 17
#define O2P_EW_U_CELU 18
#define O2P_EW_U_SIGMOID 19
#define O2P_EW_U_HARD_SIGMOID 20
#define O2P_EW_U_HARD_SWISH 21
#define O2P_EW_U_TANH 22
#define O2P_EW_U_ERF 23
#define O2P_EW_U_SOFTPLUS 24
#define O2P_EW_U_SOFTSIGN 25
#define O2P_EW_U_MISH 26
#define O2P_EW_U_THRESHOLDED_RELU 27
#define O2P_EW_U_SIN 28
#define O2P_EW_U_COS 29
#define O2P_EW_U_TAN 30
#define O2P_EW_U_ASIN 31
#define O2P_EW_U_ACOS 32
#define O2P_EW_U_ATAN 33
#define O2P_EW_U_SINH 34
#define O2P_EW_U_COSH 35
#define O2P_EW_U_ASINH 36
#define O2P_EW_U_ACOSH 37
#define O2P_EW_U_ATANH 38
#define O2P_EW_U_ISNAN 39 /* output bool */
#define O2P_EW_U_ISINF 40 /* output bool */

/* Binary op codes (o2p_ew_binary_params.op); EQ..XOR write bool. */
#define O2P_EW_B_ADD 0
#define O2P_EW_B_SUB 1
#define O2P_EW_B_MUL 2
#define O2P_EW_B_DIV 3
#define O2P_EW_B_POW 4
#define O2P_EW_B_MOD 5  /* integers: sign of the divisor (Python's %) */
#define O2P_EW_B_FMOD 6 /* sign of the dividend (C's fmod / %) */
#define O2P_EW_B_MAX 7
#define O2P_EW_B_MIN 8
#define O2P_EW_B_PRELU 9
#define O2P_EW_B_EQ 10
#define O2P_EW_B_LT 11
#define O2P_EW_B_GT 12
#define O2P_EW_B_LE 13
#define O2P_EW_B_GE 14
#define O2P_EW_B_AND 15
#define O2P_EW_B_OR 16
#define O2P_EW_B_XOR 17
#define O2P_EW_B_BITAND 18
#define O2P_EW_B_BITOR 19
#define O2P_EW_B_BITXOR 20
#define O2P_EW_B_SHL 21
#define O2P_EW_B_SHR 22

/* Reduction op codes (o2p_ew_reduce_params.op). */
#define O2P_EW_R_SUM 0
#define O2P_EW_R_MEAN 1
#define O2P_EW_R_MAX 2
#define O2P_EW_R_MIN 3
#define O2P_EW_R_PROD 4
#define O2P_EW_R_L1 5
#define O2P_EW_R_L2 6
#define O2P_EW_R_SUM_SQUARE 7
#define O2P_EW_R_LOG_SUM 8
#define O2P_EW_R_LOG_SUM_EXP 9

/* How a broadcast input is indexed (the *_mode fields): its index is the output's, it is
 * one element, or through its o2p_cu_shape (o2p_offset). */
#define O2P_EW_INDEX_SAME 0
#define O2P_EW_INDEX_SCALAR 1
#define O2P_EW_INDEX_SHAPE 2

/* Where a Clip bound comes from (has_lo / has_hi). */
#define O2P_EW_BOUND_NONE 0
#define O2P_EW_BOUND_VALUE 1   /* lo/hi (float types), ilo/ihi (integer types) */
#define O2P_EW_BOUND_POINTER 2 /* element 0 of lo_ptr / hi_ptr (x's type), read at run time */

/* y[i] = op(x[i]) over n elements; y is bool for IsNaN/IsInf, x's type otherwise. */
typedef struct o2p_ew_unary_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 lo_ptr;
    o2p_u64 hi_ptr;
    o2p_i64 n;
    o2p_f64 alpha; /* LeakyRelu, Elu, Selu, Celu, HardSigmoid, ThresholdedRelu; Shrink's bias */
    o2p_f64 beta;  /* HardSigmoid; Shrink's lambd */
    o2p_f64 gamma; /* Selu */
    o2p_f64 lo;
    o2p_f64 hi;
    o2p_i64 ilo;
    o2p_i64 ihi;
    o2p_i32 op;
    o2p_i32 dtype; /* x's O2P_CU_* type */
    o2p_i32 has_lo;
    o2p_i32 has_hi;
    o2p_i32 detect_neg; /* IsInf */
    o2p_i32 detect_pos;
    o2p_i32 uns; /* x's type is unsigned */
    o2p_i32 reserved;
} o2p_ew_unary_params;

/* y[i] = op(a[.], b[.]) with a and b broadcast into y's n elements (a's and b's shapes are
 * given over y's dims); when divisor != 0, the result is divided by it (Mean's last fold). */
typedef struct o2p_ew_binary_params {
    o2p_u64 a_ptr;
    o2p_u64 b_ptr;
    o2p_u64 y_ptr;
    o2p_i64 n;
    o2p_f64 divisor;
    o2p_cu_shape a;
    o2p_cu_shape b;
    o2p_i32 op;
    o2p_i32 a_dtype;
    o2p_i32 b_dtype;
    o2p_i32 y_dtype;
    o2p_i32 a_mode; /* O2P_EW_INDEX_* */
    o2p_i32 b_mode;
    o2p_i32 bits; /* a's type width in bits (BitShift) */
    o2p_i32 reserved;
} o2p_ew_binary_params;

/* out[i] = cond[.] ? x[.] : y[.], broadcast; elements of 1, 2, 4 or 8 bytes (the kernel). */
typedef struct o2p_ew_where_params {
    o2p_u64 cond_ptr;
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 out_ptr;
    o2p_i64 n;
    o2p_cu_shape cond;
    o2p_cu_shape x;
    o2p_cu_shape y;
    o2p_i32 cond_mode;
    o2p_i32 x_mode;
    o2p_i32 y_mode;
    o2p_i32 reserved;
} o2p_ew_where_params;

/* Cast: y[i] = (to) x[i] over n elements. Fill: y[i] = value in type `to` (x_ptr unused). */
typedef struct o2p_ew_cast_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_i64 n;
    o2p_f64 value;
    o2p_i32 from;
    o2p_i32 to;
} o2p_ew_cast_params;

/* y[o] = reduce over r < red_count of x[o2p_offset(kept, o) + o2p_offset(red, r)], for
 * o < out_count. kept holds the kept dims (in order) with x's strides, red the reduced ones.
 * Floating-point types (and L2, LogSum, LogSumExp of integers) accumulate in double from
 * init; integers in 64-bit wrapping arithmetic from iinit (a bit pattern). */
typedef struct o2p_ew_reduce_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_i64 out_count;
    o2p_i64 red_count;
    o2p_f64 init;
    o2p_i64 iinit;
    o2p_cu_shape kept;
    o2p_cu_shape red;
    o2p_i32 op;
    o2p_i32 dtype; /* x's and y's type */
    o2p_i32 use_double;
    o2p_i32 uns;
} o2p_ew_reduce_params;

/* ArgMax/ArgMin of x viewed as [outer, k, inner] along k; y (int64) is [outer, inner]. */
typedef struct o2p_ew_arg_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_i64 outer;
    o2p_i64 k;
    o2p_i64 inner;
    o2p_i32 dtype;
    o2p_i32 is_max;
    o2p_i32 last; /* select_last_index */
    o2p_i32 reserved;
} o2p_ew_arg_params;

#endif
