/* lower_elementwise.c: lowerings of the elementwise kernel family (kernels/cuda/elementwise.cu):
 * unary math, broadcasting binary ops, variadic Min/Max/Sum/Mean, Where, Cast, Identity,
 * Dropout, reductions and ArgMax/ArgMin. Each lowering checks its layer as the host kernel
 * (kernels/host/elementwise.c, elementwise_reduce.c) does and fills the kernel's params. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "codegen/codegen.h"
#include "cuda/elementwise_params.h"
#include "cuda/training_params.h"

_Static_assert(sizeof(o2p_ew_unary_params) == 128, "o2p_ew_unary_params layout");
_Static_assert(sizeof(o2p_ew_binary_params) == 600, "o2p_ew_binary_params layout");
_Static_assert(sizeof(o2p_ew_where_params) == 848, "o2p_ew_where_params layout");
_Static_assert(sizeof(o2p_ew_cast_params) == 40, "o2p_ew_cast_params layout");
_Static_assert(sizeof(o2p_ew_reduce_params) == 592, "o2p_ew_reduce_params layout");
_Static_assert(sizeof(o2p_ew_arg_params) == 56, "o2p_ew_arg_params layout");
_Static_assert(sizeof(o2p_training_dropout_params) == 80, "o2p_training_dropout_params layout");
_Static_assert(O2P_CU_MAX_RANK >= HOST_MAX_RANK, "kernel shapes hold every rank");

#define FAMILY "elementwise"
#define BLOCK 256u

/* ---------------------------------------------------------------- element types */

#define TBIT(t) (1u << (t))
#define T_FLOATS                                                                \
    (TBIT(O2P_DTYPE_FLOAT) | TBIT(O2P_DTYPE_DOUBLE) | TBIT(O2P_DTYPE_FLOAT16) | \
     TBIT(O2P_DTYPE_BFLOAT16))
#define T_SINTS \
    (TBIT(O2P_DTYPE_INT8) | TBIT(O2P_DTYPE_INT16) | TBIT(O2P_DTYPE_INT32) | TBIT(O2P_DTYPE_INT64))
#define T_UINTS                                                                \
    (TBIT(O2P_DTYPE_UINT8) | TBIT(O2P_DTYPE_UINT16) | TBIT(O2P_DTYPE_UINT32) | \
     TBIT(O2P_DTYPE_UINT64))
#define T_INTS (T_SINTS | T_UINTS)
#define T_NUM (T_FLOATS | T_INTS)
#define T_BOOL TBIT(O2P_DTYPE_BOOL)
#define T_ANY (T_NUM | T_BOOL)

static int type_in(o2p_dtype t, uint32_t set)
{
    return (unsigned)t < 32 && ((set >> (unsigned)t) & 1u);
}

static int is_float_type(o2p_dtype t)
{
    return type_in(t, T_FLOATS);
}

static int is_unsigned_type(o2p_dtype t)
{
    return type_in(t, T_UINTS | T_BOOL);
}

/* ---------------------------------------------------------------- the ops */

typedef enum ew_kind {
    K_UNARY,
    K_CLIP,
    K_BINARY,
    K_MOD,
    K_BITSHIFT,
    K_PRELU,
    K_VARIADIC,
    K_WHERE,
    K_CAST,
    K_IDENTITY,
    K_DROPOUT,
    K_REDUCE,
    K_ARG
} ew_kind;

typedef struct ew_spec {
    const char *op_type;
    ew_kind kind;
    int code;       /* O2P_EW_U_* / O2P_EW_B_* / O2P_EW_R_*; ArgMax 1, ArgMin 0; Mean 1 */
    uint32_t types; /* input 0's element types (the host kernel's) */
    const char *tactic;
} ew_spec;

#define TAC_UNARY "cuda.elementwise.unary"
#define TAC_BINARY "cuda.elementwise.binary"
#define TAC_WHERE "cuda.elementwise.where"
#define TAC_CAST "cuda.elementwise.cast"
#define TAC_COPY "cuda.elementwise.copy"
#define TAC_REDUCE "cuda.elementwise.reduce"
#define TAC_ARG "cuda.elementwise.arg"

/* clang-format off */
#define EW_OPS(X)                                                              \
    X("Add", K_BINARY, O2P_EW_B_ADD, T_NUM, TAC_BINARY)                          \
    X("Sub", K_BINARY, O2P_EW_B_SUB, T_NUM, TAC_BINARY)                          \
    X("Mul", K_BINARY, O2P_EW_B_MUL, T_NUM, TAC_BINARY)                          \
    X("Div", K_BINARY, O2P_EW_B_DIV, T_NUM, TAC_BINARY)                          \
    X("Pow", K_BINARY, O2P_EW_B_POW, T_NUM, TAC_BINARY)                          \
    X("Mod", K_MOD, O2P_EW_B_MOD, T_NUM, TAC_BINARY)                             \
    X("PRelu", K_PRELU, O2P_EW_B_PRELU, T_NUM, TAC_BINARY)                       \
    X("Equal", K_BINARY, O2P_EW_B_EQ, T_ANY, TAC_BINARY)                         \
    X("Less", K_BINARY, O2P_EW_B_LT, T_NUM, TAC_BINARY)                          \
    X("Greater", K_BINARY, O2P_EW_B_GT, T_NUM, TAC_BINARY)                       \
    X("LessOrEqual", K_BINARY, O2P_EW_B_LE, T_NUM, TAC_BINARY)                   \
    X("GreaterOrEqual", K_BINARY, O2P_EW_B_GE, T_NUM, TAC_BINARY)                \
    X("And", K_BINARY, O2P_EW_B_AND, T_BOOL, TAC_BINARY)                         \
    X("Or", K_BINARY, O2P_EW_B_OR, T_BOOL, TAC_BINARY)                           \
    X("Xor", K_BINARY, O2P_EW_B_XOR, T_BOOL, TAC_BINARY)                         \
    X("BitShift", K_BITSHIFT, O2P_EW_B_SHL, T_UINTS, TAC_BINARY)                 \
    X("BitwiseAnd", K_BINARY, O2P_EW_B_BITAND, T_INTS, TAC_BINARY)               \
    X("BitwiseOr", K_BINARY, O2P_EW_B_BITOR, T_INTS, TAC_BINARY)                 \
    X("BitwiseXor", K_BINARY, O2P_EW_B_BITXOR, T_INTS, TAC_BINARY)               \
    X("BitwiseNot", K_UNARY, O2P_EW_U_BITNOT, T_INTS, TAC_UNARY)                 \
    X("Max", K_VARIADIC, O2P_EW_B_MAX, T_NUM, TAC_BINARY)                        \
    X("Min", K_VARIADIC, O2P_EW_B_MIN, T_NUM, TAC_BINARY)                        \
    X("Sum", K_VARIADIC, O2P_EW_B_ADD, T_FLOATS, TAC_BINARY)                     \
    X("Mean", K_VARIADIC, O2P_EW_B_ADD, T_FLOATS, TAC_BINARY)                    \
    X("Where", K_WHERE, 0, T_BOOL, TAC_WHERE)                                    \
    X("Abs", K_UNARY, O2P_EW_U_ABS, T_NUM, TAC_UNARY)                            \
    X("Neg", K_UNARY, O2P_EW_U_NEG, T_FLOATS | T_SINTS, TAC_UNARY)               \
    X("Sign", K_UNARY, O2P_EW_U_SIGN, T_NUM, TAC_UNARY)                          \
    X("Relu", K_UNARY, O2P_EW_U_RELU, T_FLOATS | T_SINTS, TAC_UNARY)             \
    X("Not", K_UNARY, O2P_EW_U_NOT, T_BOOL, TAC_UNARY)                           \
    X("Sqrt", K_UNARY, O2P_EW_U_SQRT, T_FLOATS, TAC_UNARY)                       \
    X("Exp", K_UNARY, O2P_EW_U_EXP, T_FLOATS, TAC_UNARY)                         \
    X("Log", K_UNARY, O2P_EW_U_LOG, T_FLOATS, TAC_UNARY)                         \
    X("Reciprocal", K_UNARY, O2P_EW_U_RECIP, T_FLOATS, TAC_UNARY)                \
    X("Floor", K_UNARY, O2P_EW_U_FLOOR, T_FLOATS, TAC_UNARY)                     \
    X("Ceil", K_UNARY, O2P_EW_U_CEIL, T_FLOATS, TAC_UNARY)                       \
    X("Round", K_UNARY, O2P_EW_U_ROUND, T_FLOATS, TAC_UNARY)                     \
    X("LeakyRelu", K_UNARY, O2P_EW_U_LEAKY_RELU, T_FLOATS, TAC_UNARY)            \
    X("Elu", K_UNARY, O2P_EW_U_ELU, T_FLOATS, TAC_UNARY)                         \
    X("Selu", K_UNARY, O2P_EW_U_SELU, T_FLOATS, TAC_UNARY)                       \
    X("Celu", K_UNARY, O2P_EW_U_CELU, T_FLOATS, TAC_UNARY)                       \
    X("Sigmoid", K_UNARY, O2P_EW_U_SIGMOID, T_FLOATS, TAC_UNARY)                 \
    X("HardSigmoid", K_UNARY, O2P_EW_U_HARD_SIGMOID, T_FLOATS, TAC_UNARY)        \
    X("HardSwish", K_UNARY, O2P_EW_U_HARD_SWISH, T_FLOATS, TAC_UNARY)            \
    X("Tanh", K_UNARY, O2P_EW_U_TANH, T_FLOATS, TAC_UNARY)                       \
    X("Erf", K_UNARY, O2P_EW_U_ERF, T_FLOATS, TAC_UNARY)                         \
    X("Softplus", K_UNARY, O2P_EW_U_SOFTPLUS, T_FLOATS, TAC_UNARY)               \
    X("Softsign", K_UNARY, O2P_EW_U_SOFTSIGN, T_FLOATS, TAC_UNARY)               \
    X("Mish", K_UNARY, O2P_EW_U_MISH, T_FLOATS, TAC_UNARY)                       \
    X("ThresholdedRelu", K_UNARY, O2P_EW_U_THRESHOLDED_RELU, T_FLOATS, TAC_UNARY) \
    X("Shrink", K_UNARY, O2P_EW_U_SHRINK, T_NUM, TAC_UNARY)                      \
    X("Clip", K_CLIP, O2P_EW_U_CLIP, T_NUM, TAC_UNARY)                           \
    X("Sin", K_UNARY, O2P_EW_U_SIN, T_FLOATS, TAC_UNARY)                         \
    X("Cos", K_UNARY, O2P_EW_U_COS, T_FLOATS, TAC_UNARY)                         \
    X("Tan", K_UNARY, O2P_EW_U_TAN, T_FLOATS, TAC_UNARY)                         \
    X("Asin", K_UNARY, O2P_EW_U_ASIN, T_FLOATS, TAC_UNARY)                       \
    X("Acos", K_UNARY, O2P_EW_U_ACOS, T_FLOATS, TAC_UNARY)                       \
    X("Atan", K_UNARY, O2P_EW_U_ATAN, T_FLOATS, TAC_UNARY)                       \
    X("Sinh", K_UNARY, O2P_EW_U_SINH, T_FLOATS, TAC_UNARY)                       \
    X("Cosh", K_UNARY, O2P_EW_U_COSH, T_FLOATS, TAC_UNARY)                       \
    X("Asinh", K_UNARY, O2P_EW_U_ASINH, T_FLOATS, TAC_UNARY)                     \
    X("Acosh", K_UNARY, O2P_EW_U_ACOSH, T_FLOATS, TAC_UNARY)                     \
    X("Atanh", K_UNARY, O2P_EW_U_ATANH, T_FLOATS, TAC_UNARY)                     \
    X("IsNaN", K_UNARY, O2P_EW_U_ISNAN, T_FLOATS, TAC_UNARY)                     \
    X("IsInf", K_UNARY, O2P_EW_U_ISINF, T_FLOATS, TAC_UNARY)                     \
    X("Cast", K_CAST, 0, T_ANY, TAC_CAST)                                        \
    X("CastLike", K_CAST, 1, T_ANY, TAC_CAST)                                    \
    X("Identity", K_IDENTITY, 0, T_ANY, TAC_COPY)                                \
    X("Dropout", K_DROPOUT, 0, T_FLOATS, TAC_COPY)                               \
    X("ReduceMean", K_REDUCE, O2P_EW_R_MEAN, T_NUM, TAC_REDUCE)                  \
    X("ReduceSum", K_REDUCE, O2P_EW_R_SUM, T_NUM, TAC_REDUCE)                    \
    X("ReduceMax", K_REDUCE, O2P_EW_R_MAX, T_NUM, TAC_REDUCE)                    \
    X("ReduceMin", K_REDUCE, O2P_EW_R_MIN, T_NUM, TAC_REDUCE)                    \
    X("ReduceProd", K_REDUCE, O2P_EW_R_PROD, T_NUM, TAC_REDUCE)                  \
    X("ReduceL1", K_REDUCE, O2P_EW_R_L1, T_NUM, TAC_REDUCE)                      \
    X("ReduceL2", K_REDUCE, O2P_EW_R_L2, T_NUM, TAC_REDUCE)                      \
    X("ReduceSumSquare", K_REDUCE, O2P_EW_R_SUM_SQUARE, T_NUM, TAC_REDUCE)       \
    X("ReduceLogSum", K_REDUCE, O2P_EW_R_LOG_SUM, T_NUM, TAC_REDUCE)             \
    X("ReduceLogSumExp", K_REDUCE, O2P_EW_R_LOG_SUM_EXP, T_NUM, TAC_REDUCE)      \
    X("ArgMax", K_ARG, 1, T_NUM, TAC_ARG)                                        \
    X("ArgMin", K_ARG, 0, T_NUM, TAC_ARG)
/* clang-format on */

#define EW_SPEC(NAME, KIND, CODE, TYPES, TACTIC) {NAME, KIND, CODE, TYPES, TACTIC},
static const ew_spec specs[] = {EW_OPS(EW_SPEC)};
#define NUM_SPECS ((int)(sizeof specs / sizeof specs[0]))

static const ew_spec *spec_find(const char *op_type)
{
    for (int i = 0; op_type && i < NUM_SPECS; i++)
        if (strcmp(specs[i].op_type, op_type) == 0)
            return &specs[i];
    return NULL;
}

/* ---------------------------------------------------------------- argument checks */

static void format_dims(char *buf, size_t cap, int rank, const int64_t *dims)
{
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
}

static int tensor_index(const int *indices, int i)
{
    return indices ? indices[i] : -1;
}

/* Input i, present, with a valid shape; *numel its element count. (Inputs only read at build
 * time need no tensor index; cg_launch_ptr refuses a missing one where an address is used.) */
static o2p_status need_input(const cg_layer *l, int i, const host_tensor **out, int64_t *numel)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *t = host_in(a, i);
    int ok;
    if (!t)
        return host_error(a, "input %d is missing", i);
    int64_t n = host_numel(t, &ok), bytes;
    if (!ok || t->rank > O2P_CU_MAX_RANK || !o2p_mul_i64(n, 8, &bytes))
        return host_error(a, "input %d has an invalid shape", i);
    *out = t;
    if (numel)
        *numel = n;
    return O2P_OK;
}

/* Output i, present, with element type dt and shape (rank, dims). */
static o2p_status need_output(const cg_layer *l, int i, o2p_dtype dt, int rank, const int64_t *dims,
                              const host_tensor **out, int64_t *numel)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *t = host_out(a, i);
    int ok;
    if (!t)
        return host_error(a, "output %d is missing", i);
    if (t->dtype != dt)
        return host_error(a, "output %d has element type %s where %s is expected", i,
                          o2p_dtype_name(t->dtype), o2p_dtype_name(dt));
    if (!host_same_shape(t, rank, dims)) {
        char want[256], got[256];
        format_dims(want, sizeof want, rank, dims);
        if (t->rank >= 0 && t->rank <= HOST_MAX_RANK)
            format_dims(got, sizeof got, t->rank, t->dims);
        else
            snprintf(got, sizeof got, "of rank %d", t->rank);
        return host_error(a, "output %d has shape %s where %s is expected", i, got, want);
    }
    int64_t n = host_numel(t, &ok), bytes;
    if (!ok || !o2p_mul_i64(n, 8, &bytes))
        return host_error(a, "output %d has an invalid shape", i);
    if (tensor_index(l->output_tensors, i) < 0)
        return host_error(a, "output %d has no tensor", i);
    *out = t;
    if (numel)
        *numel = n;
    return O2P_OK;
}

static o2p_status need_type(const cg_layer *l, const host_tensor *t, uint32_t set)
{
    return type_in(t->dtype, set) ? O2P_OK : host_unsupported_dtype(&l->args, t->dtype);
}

/* A value the kernel needs at build time that only the run gives (a computed input). */
static o2p_status need_constant(const cg_layer *l, const host_tensor *t, int i, const char *what)
{
    if (t->data)
        return O2P_OK;
    return o2p_fail(O2P_ERR_UNSUPPORTED,
                    "layer '%s' (%s): input %d (%s) must be a constant for the CUDA target; "
                    "fold it to an initializer or build for the host target",
                    l->args.layer_name ? l->args.layer_name : "",
                    l->args.op_type ? l->args.op_type : "", i, what);
}

/* A scalar input (one element) of type want: read at build time when it is constant. */
static o2p_status need_scalar(const cg_layer *l, int i, o2p_dtype want, const host_tensor **out)
{
    const host_tensor *t;
    int64_t n;
    O2P_TRY(need_input(l, i, &t, &n));
    if (t->dtype != want)
        return host_error(&l->args, "input %d has element type %s where %s is expected", i,
                          o2p_dtype_name(t->dtype), o2p_dtype_name(want));
    if (n != 1)
        return host_error(&l->args, "input %d must be a scalar, it has %lld elements", i,
                          (long long)n);
    *out = t;
    return O2P_OK;
}

static o2p_status broadcast_shape(const cg_layer *l, int n, const host_tensor *const *ins,
                                  int *rank, int64_t *dims)
{
    if (host_broadcast_shape(n, ins, rank, dims))
        return O2P_OK;
    char msg[512] = "", buf[256];
    for (int k = 0; k < n; k++) {
        format_dims(buf, sizeof buf, ins[k]->rank, ins[k]->dims);
        strncat(msg, k ? " and " : "", sizeof msg - strlen(msg) - 1);
        strncat(msg, buf, sizeof msg - strlen(msg) - 1);
    }
    return host_error(&l->args, "input shapes %s do not broadcast", msg);
}

/* ---------------------------------------------------------------- launch helpers */

static uint64_t tensor_bytes(const host_tensor *t)
{
    int ok;
    int64_t n = host_numel(t, &ok);
    return ok ? (uint64_t)n * o2p_dtype_size(t->dtype) : 0;
}

static cg_launch *launch_1d(cg_emit *e, const char *function, uint64_t threads, const void *params,
                            uint32_t size)
{
    uint32_t grid[3], block[3];
    cg_grid_1d(threads, BLOCK, grid, block);
    return cg_emit_kernel(e, FAMILY, function, grid, block, 0, params, size);
}

/* t's shape broadcast into the output (rank, dims): strides 0 on broadcast axes, and how the
 * kernel indexes it (the output's index, element 0, or the shape). */
static void broadcast_into(const host_tensor *t, int rank, const int64_t *dims, o2p_cu_shape *s,
                           int32_t *mode)
{
    int64_t strides[HOST_MAX_RANK], contiguous = 1;
    int same = 1, scalar = 1;
    memset(s, 0, sizeof *s);
    host_broadcast_strides(t, rank, dims, strides);
    s->rank = rank;
    for (int d = rank - 1; d >= 0; d--) {
        s->dims[d] = dims[d];
        s->strides[d] = strides[d];
        if (dims[d] != 1) {
            same &= strides[d] == contiguous;
            scalar &= strides[d] == 0;
        }
        contiguous *= dims[d];
    }
    *mode = scalar ? O2P_EW_INDEX_SCALAR : same ? O2P_EW_INDEX_SAME : O2P_EW_INDEX_SHAPE;
}

static double elementwise_cost(uint64_t bytes, uint64_t flops)
{
    return (double)bytes / 1.5e12 + (double)flops / 1.5e13;
}

/* ---------------------------------------------------------------- unary */

static const char *unary_float_kernel(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT: return "o2p_elementwise_unary_f32";
    case O2P_DTYPE_FLOAT16: return "o2p_elementwise_unary_f16";
    case O2P_DTYPE_BFLOAT16: return "o2p_elementwise_unary_bf16";
    default: return "o2p_elementwise_unary_f64";
    }
}

/* y = op(x); p holds the attributes and bounds; lo/hi tensors: Clip's bounds read at run
 * time (NULL otherwise), with their input indices. */
static o2p_status emit_unary(const cg_layer *l, int types, o2p_ew_unary_params *p,
                             const host_tensor *lo, const host_tensor *hi, cg_emit *e)
{
    const host_tensor *x, *y;
    int64_t n;
    O2P_TRY(need_input(l, 0, &x, &n));
    O2P_TRY(need_type(l, x, (uint32_t)types));
    o2p_dtype yt = p->op == O2P_EW_U_ISNAN || p->op == O2P_EW_U_ISINF ? O2P_DTYPE_BOOL : x->dtype;
    O2P_TRY(need_output(l, 0, yt, x->rank, x->dims, &y, NULL));
    if (n == 0)
        return O2P_OK;
    p->n = n;
    p->dtype = (int32_t)x->dtype;
    p->uns = is_unsigned_type(x->dtype);
    const char *fn = is_float_type(x->dtype)    ? unary_float_kernel(x->dtype)
                     : p->op == O2P_EW_U_SHRINK ? "o2p_elementwise_unary_generic"
                                                : "o2p_elementwise_unary_int";
    cg_launch *k = launch_1d(e, fn, (uint64_t)n, p, sizeof *p);
    cg_launch_ptr(e, k, offsetof(o2p_ew_unary_params, x_ptr), l->input_tensors[0], 0);
    cg_launch_ptr(e, k, offsetof(o2p_ew_unary_params, y_ptr), l->output_tensors[0], 0);
    if (lo)
        cg_launch_ptr(e, k, offsetof(o2p_ew_unary_params, lo_ptr), l->input_tensors[1], 0);
    if (hi)
        cg_launch_ptr(e, k, offsetof(o2p_ew_unary_params, hi_ptr), l->input_tensors[2], 0);
    return cg_emit_status(e);
}

static o2p_status lower_unary(const cg_layer *l, const ew_spec *s, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    o2p_ew_unary_params p;
    memset(&p, 0, sizeof p);
    p.op = s->code;
    switch (s->code) {
    case O2P_EW_U_LEAKY_RELU: p.alpha = host_attr_float(a, "alpha", 0.01f); break;
    case O2P_EW_U_ELU:
    case O2P_EW_U_THRESHOLDED_RELU: p.alpha = host_attr_float(a, "alpha", 1.0f); break;
    case O2P_EW_U_SELU:
        p.alpha = host_attr_float(a, "alpha", 1.67326319217681884765625f);
        p.gamma = host_attr_float(a, "gamma", 1.05070102214813232421875f);
        break;
    case O2P_EW_U_CELU:
        p.alpha = host_attr_float(a, "alpha", 1.0f);
        if (p.alpha == 0)
            return host_error(a, "alpha must not be 0");
        break;
    case O2P_EW_U_HARD_SIGMOID:
        p.alpha = host_attr_float(a, "alpha", 0.2f);
        p.beta = host_attr_float(a, "beta", 0.5f);
        break;
    case O2P_EW_U_SHRINK: /* alpha holds bias, beta holds lambd */
        p.alpha = host_attr_float(a, "bias", 0.0f);
        p.beta = host_attr_float(a, "lambd", 0.5f);
        break;
    case O2P_EW_U_ISINF:
        p.detect_neg = host_attr_int(a, "detect_negative", 1) != 0;
        p.detect_pos = host_attr_int(a, "detect_positive", 1) != 0;
        break;
    default: break;
    }
    return emit_unary(l, (int)s->types, &p, NULL, NULL, e);
}

/* Clip: bounds are attributes up to opset 10, optional scalar inputs of X's type after
 * (constant ones are baked into the params, computed ones read by the kernel). */
static o2p_status lower_clip(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    o2p_ew_unary_params p;
    const host_tensor *lo_t = NULL, *hi_t = NULL, *x = host_in(a, 0);
    memset(&p, 0, sizeof p);
    p.op = O2P_EW_U_CLIP;
    if (a->opset < 11) {
        const host_attr *lo = host_attr_find(a, "min"), *hi = host_attr_find(a, "max");
        p.has_lo = lo ? O2P_EW_BOUND_VALUE : O2P_EW_BOUND_NONE;
        p.has_hi = hi ? O2P_EW_BOUND_VALUE : O2P_EW_BOUND_NONE;
        p.lo = host_attr_float(a, "min", 0.0f);
        p.hi = host_attr_float(a, "max", 0.0f);
        return emit_unary(l, T_FLOATS, &p, NULL, NULL, e);
    }
    if (!x)
        return host_error(a, "input 0 is missing");
    for (int i = 1; i <= 2; i++) {
        const host_tensor *b;
        if (!host_in(a, i))
            continue;
        O2P_TRY(need_scalar(l, i, x->dtype, &b));
        int32_t how = b->data ? O2P_EW_BOUND_VALUE : O2P_EW_BOUND_POINTER;
        double v = b->data ? host_get_f64(b, 0) : 0;
        int64_t iv = b->data ? host_get_i64(b, 0) : 0;
        if (i == 1) {
            p.has_lo = how, p.lo = v, p.ilo = iv;
            lo_t = b->data ? NULL : b;
        } else {
            p.has_hi = how, p.hi = v, p.ihi = iv;
            hi_t = b->data ? NULL : b;
        }
    }
    return emit_unary(l, T_NUM, &p, lo_t, hi_t, e);
}

/* ---------------------------------------------------------------- binary */

static int binop_is_compare(int op)
{
    return op >= O2P_EW_B_EQ && op <= O2P_EW_B_XOR;
}

static const char *binary_kernel(o2p_dtype at, o2p_dtype bt)
{
    if (at == bt) {
        switch (at) {
        case O2P_DTYPE_FLOAT: return "o2p_elementwise_binary_f32";
        case O2P_DTYPE_FLOAT16: return "o2p_elementwise_binary_f16";
        case O2P_DTYPE_BFLOAT16: return "o2p_elementwise_binary_bf16";
        case O2P_DTYPE_DOUBLE: return "o2p_elementwise_binary_f64";
        default: break;
        }
    }
    if (is_float_type(at) || is_float_type(bt))
        return "o2p_elementwise_binary_mixed";
    return "o2p_elementwise_binary_int";
}

/* z = op(x, y) with x and y broadcast into z's shape; x_tensor etc. are tensor indices. */
static void emit_binary(cg_emit *e, int op, const host_tensor *x, int x_tensor,
                        const host_tensor *y, int y_tensor, const host_tensor *z, int z_tensor,
                        double divisor)
{
    o2p_ew_binary_params p;
    int ok;
    int64_t n = host_numel(z, &ok);
    if (n == 0)
        return;
    memset(&p, 0, sizeof p);
    p.n = n;
    p.divisor = divisor;
    p.op = op;
    p.a_dtype = (int32_t)x->dtype;
    p.b_dtype = (int32_t)y->dtype;
    p.y_dtype = (int32_t)z->dtype;
    p.bits = (int32_t)o2p_dtype_size(x->dtype) * 8;
    broadcast_into(x, z->rank, z->dims, &p.a, &p.a_mode);
    broadcast_into(y, z->rank, z->dims, &p.b, &p.b_mode);
    cg_launch *k = launch_1d(e, binary_kernel(x->dtype, y->dtype), (uint64_t)n, &p, sizeof p);
    cg_launch_ptr(e, k, offsetof(o2p_ew_binary_params, a_ptr), x_tensor, 0);
    cg_launch_ptr(e, k, offsetof(o2p_ew_binary_params, b_ptr), y_tensor, 0);
    cg_launch_ptr(e, k, offsetof(o2p_ew_binary_params, y_ptr), z_tensor, 0);
}

/* A binary op of two inputs of one type from `types` (Pow: the exponent may be any numeric
 * type), broadcast; the output has the input type, or bool for comparisons. y may be a view
 * of input 1 (PRelu's per-channel slope). */
static o2p_status lower_binary_checked(const cg_layer *l, int op, uint32_t types,
                                       const host_tensor *x, const host_tensor *y, cg_emit *e)
{
    const host_tensor *z;
    int rank;
    int64_t dims[HOST_MAX_RANK];
    O2P_TRY(need_type(l, x, types));
    if (op == O2P_EW_B_POW) {
        O2P_TRY(need_type(l, y, T_NUM));
    } else if (y->dtype != x->dtype) {
        return host_error(&l->args, "inputs have different element types (%s and %s)",
                          o2p_dtype_name(x->dtype), o2p_dtype_name(y->dtype));
    }
    const host_tensor *ins[2] = {x, y};
    O2P_TRY(broadcast_shape(l, 2, ins, &rank, dims));
    if (op == O2P_EW_B_PRELU && !host_same_shape(x, rank, dims))
        return host_error(&l->args, "slope does not broadcast to the shape of X");
    o2p_dtype zt = binop_is_compare(op) ? O2P_DTYPE_BOOL : x->dtype;
    O2P_TRY(need_output(l, 0, zt, rank, dims, &z, NULL));
    emit_binary(e, op, x, l->input_tensors[0], y, l->input_tensors[1], z, l->output_tensors[0], 0);
    return cg_emit_status(e);
}

static o2p_status lower_binary(const cg_layer *l, int op, uint32_t types, cg_emit *e)
{
    const host_tensor *x, *y;
    O2P_TRY(need_input(l, 0, &x, NULL));
    O2P_TRY(need_input(l, 1, &y, NULL));
    return lower_binary_checked(l, op, types, x, y, e);
}

static o2p_status lower_mod(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    int64_t fmod_attr = host_attr_int(a, "fmod", 0);
    const host_tensor *x = host_in(a, 0);
    if (fmod_attr != 0 && fmod_attr != 1)
        return host_error(a, "fmod must be 0 or 1, not %lld", (long long)fmod_attr);
    if (x && is_float_type(x->dtype) && !fmod_attr)
        return host_error(a, "floating-point Mod needs fmod=1");
    return lower_binary(l, fmod_attr ? O2P_EW_B_FMOD : O2P_EW_B_MOD, T_NUM, e);
}

static o2p_status lower_bitshift(const cg_layer *l, cg_emit *e)
{
    const char *dir = host_attr_string(&l->args, "direction", NULL);
    if (!dir)
        return host_error(&l->args, "the direction attribute is missing");
    if (strcmp(dir, "LEFT") == 0)
        return lower_binary(l, O2P_EW_B_SHL, T_UINTS, e);
    if (strcmp(dir, "RIGHT") == 0)
        return lower_binary(l, O2P_EW_B_SHR, T_UINTS, e);
    return host_error(&l->args, "direction must be LEFT or RIGHT, not '%s'", dir);
}

/* Before opset 7 a 1-D slope of C values is per channel (axis 1), not numpy-broadcast. */
static o2p_status lower_prelu(const cg_layer *l, cg_emit *e)
{
    const host_tensor *x, *slope;
    O2P_TRY(need_input(l, 0, &x, NULL));
    O2P_TRY(need_input(l, 1, &slope, NULL));
    if (l->args.opset < 7 && slope->rank == 1 && slope->dims[0] != 1 && x->rank >= 2 &&
        slope->dims[0] == x->dims[1]) {
        host_tensor per_channel = *slope;
        per_channel.rank = x->rank - 1;
        for (int d = 1; d < per_channel.rank; d++)
            per_channel.dims[d] = 1;
        return lower_binary_checked(l, O2P_EW_B_PRELU, T_NUM, x, &per_channel, e);
    }
    return lower_binary_checked(l, O2P_EW_B_PRELU, T_NUM, x, slope, e);
}

/* Min, Max, Sum, Mean: inputs of one type broadcast together, folded pairwise into the
 * output (the first fold reads inputs 0 and 1, each later one the output and the next
 * input); Mean divides in its last fold. */
static o2p_status lower_variadic(const cg_layer *l, const ew_spec *s, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    int n = a->num_inputs;
    const host_tensor *ins[O2P_CU_MAX_RANK * 4], *z;
    int rank;
    int64_t dims[HOST_MAX_RANK], zn;
    if (n < 1)
        return host_error(a, "needs at least one input");
    if (n > (int)(sizeof ins / sizeof ins[0]))
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): %d inputs; the CUDA lowering takes at most %d",
                        a->layer_name ? a->layer_name : "", a->op_type ? a->op_type : "", n,
                        (int)(sizeof ins / sizeof ins[0]));
    for (int k = 0; k < n; k++) {
        O2P_TRY(need_input(l, k, &ins[k], NULL));
        if (k == 0)
            O2P_TRY(need_type(l, ins[0], s->types));
        else if (ins[k]->dtype != ins[0]->dtype)
            return host_error(a, "inputs have different element types (%s and %s)",
                              o2p_dtype_name(ins[0]->dtype), o2p_dtype_name(ins[k]->dtype));
    }
    O2P_TRY(broadcast_shape(l, n, ins, &rank, dims));
    O2P_TRY(need_output(l, 0, ins[0]->dtype, rank, dims, &z, &zn));
    if (zn == 0)
        return O2P_OK;
    int out = l->output_tensors[0];
    if (n == 1) {
        cg_emit_copy(e, out, 0, l->input_tensors[0], 0, tensor_bytes(z));
        return cg_emit_status(e);
    }
    int mean = s->code == O2P_EW_B_ADD && strcmp(s->op_type, "Mean") == 0;
    for (int k = 1; k < n; k++) {
        double divisor = mean && k == n - 1 ? (double)n : 0.0;
        if (k == 1)
            emit_binary(e, s->code, ins[0], l->input_tensors[0], ins[1], l->input_tensors[1], z,
                        out, divisor);
        else
            emit_binary(e, s->code, z, out, ins[k], l->input_tensors[k], z, out, divisor);
    }
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- Where */

static o2p_status lower_where(const cg_layer *l, cg_emit *e)
{
    const host_tensor *ins[3], *z;
    int rank;
    int64_t dims[HOST_MAX_RANK], n;
    for (int k = 0; k < 3; k++)
        O2P_TRY(need_input(l, k, &ins[k], NULL));
    if (ins[0]->dtype != O2P_DTYPE_BOOL)
        return host_error(&l->args, "the condition has element type %s, not bool",
                          o2p_dtype_name(ins[0]->dtype));
    O2P_TRY(need_type(l, ins[1], T_ANY));
    if (ins[2]->dtype != ins[1]->dtype)
        return host_error(&l->args, "X and Y have different element types (%s and %s)",
                          o2p_dtype_name(ins[1]->dtype), o2p_dtype_name(ins[2]->dtype));
    O2P_TRY(broadcast_shape(l, 3, ins, &rank, dims));
    O2P_TRY(need_output(l, 0, ins[1]->dtype, rank, dims, &z, &n));
    if (n == 0)
        return O2P_OK;
    o2p_ew_where_params p;
    memset(&p, 0, sizeof p);
    p.n = n;
    broadcast_into(ins[0], rank, dims, &p.cond, &p.cond_mode);
    broadcast_into(ins[1], rank, dims, &p.x, &p.x_mode);
    broadcast_into(ins[2], rank, dims, &p.y, &p.y_mode);
    const char *fn;
    switch (o2p_dtype_size(z->dtype)) {
    case 1: fn = "o2p_elementwise_where_1"; break;
    case 2: fn = "o2p_elementwise_where_2"; break;
    case 4: fn = "o2p_elementwise_where_4"; break;
    default: fn = "o2p_elementwise_where_8"; break;
    }
    cg_launch *k = launch_1d(e, fn, (uint64_t)n, &p, sizeof p);
    cg_launch_ptr(e, k, offsetof(o2p_ew_where_params, cond_ptr), l->input_tensors[0], 0);
    cg_launch_ptr(e, k, offsetof(o2p_ew_where_params, x_ptr), l->input_tensors[1], 0);
    cg_launch_ptr(e, k, offsetof(o2p_ew_where_params, y_ptr), l->input_tensors[2], 0);
    cg_launch_ptr(e, k, offsetof(o2p_ew_where_params, out_ptr), l->output_tensors[0], 0);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- Cast, Identity, Dropout */

static o2p_status lower_cast(const cg_layer *l, const ew_spec *s, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x, *y;
    int64_t n, to;
    if (s->code == 0) {
        const host_attr *at = host_attr_find(a, "to");
        if (!at || at->type != O2P_ATTR_INT)
            return host_error(a, "the 'to' attribute is missing or not an int");
        to = at->i;
    } else {
        const host_tensor *like = host_in(a, 1);
        if (!like)
            return host_error(a, "input 1 (target_type) is missing");
        to = like->dtype;
    }
    O2P_TRY(need_input(l, 0, &x, &n));
    if (x->dtype == O2P_DTYPE_STRING || to == O2P_DTYPE_STRING)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): casts from or to string are not supported",
                        a->layer_name ? a->layer_name : "", a->op_type ? a->op_type : "");
    O2P_TRY(need_type(l, x, T_ANY));
    if (to < 0 || to > 31 || !type_in((o2p_dtype)to, T_ANY))
        return o2p_fail(
            O2P_ERR_UNSUPPORTED, "layer '%s' (%s): casting to element type %lld is not supported",
            a->layer_name ? a->layer_name : "", a->op_type ? a->op_type : "", (long long)to);
    O2P_TRY(need_output(l, 0, (o2p_dtype)to, x->rank, x->dims, &y, NULL));
    if (n == 0)
        return O2P_OK;
    if (x->dtype == (o2p_dtype)to) {
        cg_emit_copy(e, l->output_tensors[0], 0, l->input_tensors[0], 0, tensor_bytes(x));
        return cg_emit_status(e);
    }
    o2p_ew_cast_params p;
    memset(&p, 0, sizeof p);
    p.n = n;
    p.from = (int32_t)x->dtype;
    p.to = (int32_t)to;
    cg_launch *k = launch_1d(e, "o2p_elementwise_cast", (uint64_t)n, &p, sizeof p);
    cg_launch_ptr(e, k, offsetof(o2p_ew_cast_params, x_ptr), l->input_tensors[0], 0);
    cg_launch_ptr(e, k, offsetof(o2p_ew_cast_params, y_ptr), l->output_tensors[0], 0);
    return cg_emit_status(e);
}

static o2p_status lower_identity(const cg_layer *l, cg_emit *e)
{
    const host_tensor *x, *y;
    int64_t n;
    O2P_TRY(need_input(l, 0, &x, &n));
    O2P_TRY(need_type(l, x, T_ANY));
    O2P_TRY(need_output(l, 0, x->dtype, x->rank, x->dims, &y, NULL));
    if (n)
        cg_emit_copy(e, l->output_tensors[0], 0, l->input_tensors[0], 0, tensor_bytes(x));
    return cg_emit_status(e);
}

/* Whether a Dropout layer draws a mask (the host kernel's training && ratio != 0): it has a
 * training_mode input (opset 12+) that is not a constant false, and its ratio (0.5 when
 * absent) is not a constant 0. */
static int dropout_random(const cg_layer *l)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *t = a->opset >= 12 ? host_in(a, 2) : NULL, *r = host_in(a, 1);
    int ok;
    if (!t)
        return 0;
    if (t->data && host_numel(t, &ok) == 1 && host_get_i64(t, 0) == 0)
        return 0;
    if (r && r->data && is_float_type(r->dtype) && host_numel(r, &ok) == 1 &&
        host_get_f64(r, 0) == 0)
        return 0;
    return 1;
}

/* Training-mode Dropout: the training family's kernel (kernels/cuda/training.cu) draws the
 * mask from the host kernel's stream: with a seed attribute the same masks as the host
 * target, else a fresh stream per run. training_mode and ratio are read on the device
 * unless they are constants. */
static o2p_status lower_dropout_training(const cg_layer *l, const host_tensor *x,
                                         const host_tensor *mask, const host_tensor *training,
                                         const host_tensor *ratio, int64_t n, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    o2p_training_dropout_params p;
    memset(&p, 0, sizeof p);
    p.total = n;
    p.x_dtype = (int32_t)x->dtype;
    p.ratio = 0.5;
    const host_attr *seed = host_attr_find(a, "seed");
    if (seed && seed->type == O2P_ATTR_INT) {
        p.seed = host_mix64((uint64_t)seed->i); /* as the host kernel's dropout_seed */
    } else {
        /* a build-time value keeps two such layers of one plan apart; the kernel mixes the
         * GPU clock in at each run */
        p.seed = host_mix64((uint64_t)time(NULL)) ^ host_mix64((uint64_t)(uintptr_t)l);
        p.fresh = 1;
    }
    int ratio_index = -1, training_index = -1;
    if (ratio && ratio->data) {
        p.ratio = host_get_f64(ratio, 0);
    } else if (ratio) {
        if (l->input_tensors[1] < 0)
            return host_error(a, "input 1 (ratio) is missing");
        ratio_index = l->input_tensors[1];
        p.ratio_dtype = (int32_t)ratio->dtype;
    }
    if (!training->data) {
        if (l->input_tensors[2] < 0)
            return host_error(a, "input 2 (training_mode) is missing");
        training_index = l->input_tensors[2];
    }
    uint32_t grid[3], block[3];
    cg_grid_1d((uint64_t)n, BLOCK, grid, block);
    cg_launch *k = cg_emit_kernel(e, "training", "o2p_training_dropout", grid, block, 0, &p,
                                  sizeof p);
    cg_launch_ptr(e, k, offsetof(o2p_training_dropout_params, x_ptr), l->input_tensors[0], 0);
    cg_launch_ptr(e, k, offsetof(o2p_training_dropout_params, y_ptr), l->output_tensors[0], 0);
    if (mask)
        cg_launch_ptr(e, k, offsetof(o2p_training_dropout_params, mask_ptr),
                      l->output_tensors[1], 0);
    if (ratio_index >= 0)
        cg_launch_ptr(e, k, offsetof(o2p_training_dropout_params, ratio_ptr), ratio_index, 0);
    if (training_index >= 0)
        cg_launch_ptr(e, k, offsetof(o2p_training_dropout_params, training_ptr),
                      training_index, 0);
    return cg_emit_status(e);
}

/* Dropout at inference is the identity with an all-true mask. From opset 12 training_mode
 * may be a true input: with ratio 0 that is still the identity; otherwise it is random
 * (lower_dropout_training). The mask is bool from opset 10 (bytes of 1), of X's type before
 * (1.0 by the fill kernel). */
static o2p_status lower_dropout(const cg_layer *l, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x, *y, *mask = NULL, *training = NULL, *ratio = NULL;
    int64_t n;
    O2P_TRY(need_input(l, 0, &x, &n));
    O2P_TRY(need_type(l, x, T_FLOATS));
    if (a->opset >= 12 && host_in(a, 2)) {
        O2P_TRY(need_scalar(l, 2, O2P_DTYPE_BOOL, &training));
        if (host_in(a, 1)) {
            const host_tensor *r = host_in(a, 1);
            if (!is_float_type(r->dtype))
                return host_unsupported_dtype(a, r->dtype);
            O2P_TRY(need_scalar(l, 1, r->dtype, &ratio));
        }
    }
    O2P_TRY(need_output(l, 0, x->dtype, x->rank, x->dims, &y, NULL));
    if (host_out(a, 1)) {
        o2p_dtype mt = a->opset >= 10 ? O2P_DTYPE_BOOL : x->dtype;
        O2P_TRY(need_output(l, 1, mt, x->rank, x->dims, &mask, NULL));
    }
    if (n == 0)
        return O2P_OK;
    if (training && dropout_random(l))
        return lower_dropout_training(l, x, mask, training, ratio, n, e);
    cg_emit_copy(e, l->output_tensors[0], 0, l->input_tensors[0], 0, tensor_bytes(x));
    if (mask && mask->dtype == O2P_DTYPE_BOOL) {
        cg_emit_memset(e, l->output_tensors[1], 0, (uint64_t)n, 1);
    } else if (mask) {
        o2p_ew_cast_params p;
        memset(&p, 0, sizeof p);
        p.n = n;
        p.value = 1.0;
        p.from = p.to = (int32_t)mask->dtype;
        cg_launch *k = launch_1d(e, "o2p_elementwise_fill", (uint64_t)n, &p, sizeof p);
        cg_launch_ptr(e, k, offsetof(o2p_ew_cast_params, y_ptr), l->output_tensors[1], 0);
    }
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- reductions */

static o2p_status need_numeric_input(const cg_layer *l, const host_tensor **x, int64_t *n)
{
    O2P_TRY(need_input(l, 0, x, n));
    return need_type(l, *x, T_NUM);
}

/* The reduced axes: from the axes attribute, or from opset 18 (ReduceSum: 13) from the
 * optional second input, which must be a constant here. *count 0: none were given. */
static o2p_status read_axes(const cg_layer *l, int op, int64_t *axes, int *count, int *noop)
{
    const host_kernel_args *a = &l->args;
    int from_input = a->opset >= 18 || (op == O2P_EW_R_SUM && a->opset >= 13);
    *count = 0;
    *noop = 0;
    if (from_input) {
        const host_tensor *t = host_in(a, 1);
        *noop = host_attr_int(a, "noop_with_empty_axes", 0) != 0;
        if (!t)
            return O2P_OK;
        int ok;
        int64_t n = host_numel(t, &ok);
        if (!ok || t->rank > 1 || (t->dtype != O2P_DTYPE_INT64 && t->dtype != O2P_DTYPE_INT32))
            return host_error(a, "axes must be a 1-D int64 tensor");
        if (n > HOST_MAX_RANK)
            return host_error(a, "%lld axes given, more than any tensor has", (long long)n);
        if (n == 0)
            return O2P_OK;
        O2P_TRY(need_constant(l, t, 1, "axes"));
        *count = host_read_ints(t, axes, HOST_MAX_RANK);
        if (*count < 0)
            return host_error(a, "axes cannot be read");
        return O2P_OK;
    }
    const host_attr *at = host_attr_find(a, "axes");
    if (!at)
        return O2P_OK;
    if (at->type != O2P_ATTR_INTS || at->count < 0 || (at->count > 0 && !at->ints))
        return host_error(a, "the axes attribute must be a list of ints");
    if (at->count > HOST_MAX_RANK)
        return host_error(a, "%d axes given, more than any tensor has", at->count);
    memcpy(axes, at->ints, (size_t)at->count * sizeof *axes);
    *count = at->count;
    return O2P_OK;
}

/* The smallest and largest values of an integer type, as 64-bit patterns. */
static void int_limits(o2p_dtype t, uint64_t *lo, uint64_t *hi)
{
    int bits = (int)o2p_dtype_size(t) * 8;
    if (type_in(t, T_UINTS)) {
        *lo = 0;
        *hi = bits >= 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    } else {
        *hi = bits >= 64 ? (uint64_t)INT64_MAX : ((uint64_t)1 << (bits - 1)) - 1;
        *lo = (uint64_t)(-(int64_t)*hi - 1);
    }
}

/* Splits x's dims (size-1 dims dropped, adjacent dims both kept or both reduced merged) into
 * the kept and the reduced shapes, each with x's row-major strides. */
static void reduce_shapes(const host_tensor *x, const int *reduced, o2p_cu_shape *kept,
                          o2p_cu_shape *red)
{
    int64_t strides[HOST_MAX_RANK], s = 1;
    int last = -1; /* the kind of the previous dim kept in a shape: 0 kept, 1 reduced */
    memset(kept, 0, sizeof *kept);
    memset(red, 0, sizeof *red);
    for (int d = x->rank - 1; d >= 0; d--) {
        strides[d] = s;
        s *= x->dims[d];
    }
    for (int d = 0; d < x->rank; d++) {
        if (x->dims[d] == 1)
            continue;
        o2p_cu_shape *t = reduced[d] ? red : kept;
        if (last == reduced[d] && t->rank > 0) {
            /* merge into the previous dim of the same kind: contiguous in a packed tensor */
            t->dims[t->rank - 1] *= x->dims[d];
            t->strides[t->rank - 1] = strides[d];
        } else {
            t->dims[t->rank] = x->dims[d];
            t->strides[t->rank] = strides[d];
            t->rank++;
        }
        last = reduced[d];
    }
}

static o2p_status lower_reduce(const cg_layer *l, const ew_spec *s, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x, *y;
    int64_t xn, yn, axes[HOST_MAX_RANK];
    int naxes, noop, reduced[HOST_MAX_RANK] = {0};
    int op = s->code;
    O2P_TRY(need_numeric_input(l, &x, &xn));
    O2P_TRY(read_axes(l, op, axes, &naxes, &noop));
    for (int k = 0; k < naxes; k++) {
        int d;
        if (!host_norm_axis(axes[k], x->rank, &d))
            return host_error(a, "axis %lld is out of range for rank %d", (long long)axes[k],
                              x->rank);
        if (x->rank == 0)
            continue;
        if (reduced[d])
            return host_error(a, "axis %lld is given twice", (long long)axes[k]);
        reduced[d] = 1;
    }
    if (naxes == 0 && noop) {
        O2P_TRY(need_output(l, 0, x->dtype, x->rank, x->dims, &y, &yn));
        if (xn)
            cg_emit_copy(e, l->output_tensors[0], 0, l->input_tensors[0], 0, tensor_bytes(x));
        return cg_emit_status(e);
    }
    if (naxes == 0)
        for (int d = 0; d < x->rank; d++)
            reduced[d] = 1;
    int keepdims = host_attr_int(a, "keepdims", 1) != 0, yrank = 0;
    int64_t ydims[HOST_MAX_RANK], count = 1;
    for (int d = 0; d < x->rank; d++) {
        if (reduced[d])
            count *= x->dims[d];
        if (!reduced[d] || keepdims)
            ydims[yrank++] = reduced[d] ? 1 : x->dims[d];
    }
    O2P_TRY(need_output(l, 0, x->dtype, yrank, ydims, &y, &yn));
    if (yn == 0)
        return O2P_OK;

    o2p_ew_reduce_params p;
    memset(&p, 0, sizeof p);
    p.out_count = yn;
    p.red_count = count;
    p.op = op;
    p.dtype = (int32_t)x->dtype;
    p.uns = type_in(x->dtype, T_UINTS);
    p.use_double = is_float_type(x->dtype) || op == O2P_EW_R_L2 || op == O2P_EW_R_LOG_SUM ||
                   op == O2P_EW_R_LOG_SUM_EXP;
    p.init = op == O2P_EW_R_PROD                                ? 1.0
             : op == O2P_EW_R_MAX || op == O2P_EW_R_LOG_SUM_EXP ? -INFINITY
             : op == O2P_EW_R_MIN                               ? INFINITY
                                                                : 0.0;
    uint64_t lo, hi;
    int_limits(x->dtype, &lo, &hi);
    p.iinit = op == O2P_EW_R_PROD  ? 1
              : op == O2P_EW_R_MAX ? (int64_t)lo
              : op == O2P_EW_R_MIN ? (int64_t)hi
                                   : 0;
    reduce_shapes(x, reduced, &p.kept, &p.red);
    /* a warp per output element once there is enough to share; one thread otherwise */
    int warp = count >= 32;
    uint64_t threads = (uint64_t)yn * (warp ? 32u : 1u);
    cg_launch *k = launch_1d(e, warp ? "o2p_elementwise_reduce_warp" : "o2p_elementwise_reduce",
                             threads, &p, sizeof p);
    cg_launch_ptr(e, k, offsetof(o2p_ew_reduce_params, x_ptr), l->input_tensors[0], 0);
    cg_launch_ptr(e, k, offsetof(o2p_ew_reduce_params, y_ptr), l->output_tensors[0], 0);
    return cg_emit_status(e);
}

static o2p_status lower_arg(const cg_layer *l, const ew_spec *s, cg_emit *e)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *x, *y;
    int64_t xn, yn;
    int axis;
    O2P_TRY(need_numeric_input(l, &x, &xn));
    int64_t ax = host_attr_int(a, "axis", 0);
    int keepdims = host_attr_int(a, "keepdims", 1) != 0;
    int last = host_attr_int(a, "select_last_index", 0) != 0;
    if (!host_norm_axis(ax, x->rank, &axis))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)ax, x->rank);
    int64_t ydims[HOST_MAX_RANK], outer = 1, inner = 1, k = 1;
    int yrank = 0;
    for (int d = 0; d < x->rank; d++) {
        if (d < axis)
            outer *= x->dims[d];
        else if (d > axis)
            inner *= x->dims[d];
        else
            k = x->dims[d];
        if (d != axis || keepdims)
            ydims[yrank++] = d == axis ? 1 : x->dims[d];
    }
    O2P_TRY(need_output(l, 0, O2P_DTYPE_INT64, yrank, ydims, &y, &yn));
    if (yn == 0)
        return O2P_OK;
    if (k == 0)
        return host_error(a, "the reduced axis is empty");
    o2p_ew_arg_params p;
    memset(&p, 0, sizeof p);
    p.outer = outer;
    p.k = k;
    p.inner = inner;
    p.dtype = (int32_t)x->dtype;
    p.is_max = s->code;
    p.last = last;
    cg_launch *kl = launch_1d(e, "o2p_elementwise_arg", (uint64_t)yn, &p, sizeof p);
    cg_launch_ptr(e, kl, offsetof(o2p_ew_arg_params, x_ptr), l->input_tensors[0], 0);
    cg_launch_ptr(e, kl, offsetof(o2p_ew_arg_params, y_ptr), l->output_tensors[0], 0);
    return cg_emit_status(e);
}

/* ---------------------------------------------------------------- the family's entry points */

static int ew_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                         const char **why)
{
    (void)o;
    const ew_spec *s = spec_find(l->args.op_type);
    if (!s) {
        if (why)
            *why = "not an op of the elementwise family";
        return 0;
    }
    const host_tensor *x = host_in(&l->args, 0);
    /* Clip before opset 11 and Pow's exponent aside, input 0 decides what the kernels take;
     * lower() checks the rest as the host kernel does */
    uint32_t types = s->types;
    if (s->kind == K_CLIP && l->args.opset < 11)
        types = T_FLOATS;
    if (s->kind == K_WHERE)
        x = host_in(&l->args, 1), types = T_ANY;
    if (x && !type_in(x->dtype, types)) {
        if (why)
            *why = "the input's element type is not one the kernel (and the host kernel) takes";
        return 0;
    }
    if (cap < 1)
        return 0;
    uint64_t bytes = 0, elems = 0;
    for (int i = 0; i < l->args.num_inputs; i++)
        if (host_in(&l->args, i))
            bytes += tensor_bytes(host_in(&l->args, i));
    for (int i = 0; i < l->args.num_outputs; i++) {
        const host_tensor *t = host_out(&l->args, i);
        if (t) {
            int ok;
            int64_t n = host_numel(t, &ok);
            bytes += tensor_bytes(t);
            elems += ok ? (uint64_t)n : 0;
        }
    }
    /* transcendental unary ops cost some tens of flops per element */
    uint64_t flops_per = s->kind == K_UNARY && s->code >= O2P_EW_U_SQRT ? 20 : 1;
    if (s->kind == K_REDUCE || s->kind == K_ARG) {
        const host_tensor *in = host_in(&l->args, 0);
        int ok;
        elems = in ? (uint64_t)host_numel(in, &ok) : elems;
    }
    /* a training-mode Dropout runs the training family's kernel */
    const char *tactic = s->kind == K_DROPOUT && dropout_random(l) ? "cuda.training.dropout"
                                                                  : s->tactic;
    out[0] = cg_simple_tactic(tactic, 0, elementwise_cost(bytes, elems * flops_per));
    return 1;
}

static o2p_status ew_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    (void)t;
    (void)o;
    const ew_spec *s = spec_find(l->args.op_type);
    if (!s)
        return o2p_fail(O2P_ERR_INTERNAL, "layer '%s': op %s is not in the elementwise family",
                        l->args.layer_name ? l->args.layer_name : "",
                        l->args.op_type ? l->args.op_type : "?");
    if (!l->input_tensors || !l->output_tensors)
        return o2p_fail(O2P_ERR_INTERNAL, "layer '%s' (%s): no tensor indices",
                        l->args.layer_name ? l->args.layer_name : "", s->op_type);
    switch (s->kind) {
    case K_UNARY: return lower_unary(l, s, e);
    case K_CLIP: return lower_clip(l, e);
    case K_BINARY: return lower_binary(l, s->code, s->types, e);
    case K_MOD: return lower_mod(l, e);
    case K_BITSHIFT: return lower_bitshift(l, e);
    case K_PRELU: return lower_prelu(l, e);
    case K_VARIADIC: return lower_variadic(l, s, e);
    case K_WHERE: return lower_where(l, e);
    case K_CAST: return lower_cast(l, s, e);
    case K_IDENTITY: return lower_identity(l, e);
    case K_DROPOUT: return lower_dropout(l, e);
    case K_REDUCE: return lower_reduce(l, s, e);
    case K_ARG: return lower_arg(l, s, e);
    }
    return o2p_fail(O2P_ERR_INTERNAL, "layer '%s' (%s): no lowering",
                    l->args.layer_name ? l->args.layer_name : "", s->op_type);
}

#define EW_OP(NAME, KIND, CODE, TYPES, TACTIC) {NAME, ew_candidates, ew_lower},
const cg_op cg_elementwise_ops[] = {EW_OPS(EW_OP)};
const int cg_elementwise_op_count = (int)(sizeof cg_elementwise_ops / sizeof cg_elementwise_ops[0]);
