/* lower_gemm.c: lowerings of the gemm kernel family (kernels/cuda/gemm.cu): Gemm, MatMul,
 * Conv and ConvTranspose. Each layer becomes one launch over o2p_gemm_params
 * (kernels/cuda/gemm_params.h); the checks and the geometry follow the host kernels
 * (kernels/host/nn_gemm.c, nn_conv.c, nn.c) so that both targets accept the same layers and
 * compute the same values. Tactics: a SIMT GEMM (the exact path), mma.sync tensor-core GEMMs
 * (tf32 / f16 / bf16, as the precision flags allow), a direct Conv, a direct ConvTranspose
 * and an integer GEMM. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/elementwise_params.h"
#include "cuda/gemm_params.h"

_Static_assert(sizeof(o2p_gemm_params) == 1504, "o2p_gemm_params differs from gemm.cu's");

#define FAMILY "gemm"

/* Rates of the cost model (per second on an sm_80 GPU). */
#define RATE_SIMT 1.5e13
#define RATE_TF32 6e13
#define RATE_HALF 1.2e14
#define RATE_DIRECT 3e12 /* one thread per output, no reuse through shared memory */
#define RATE_INT 2e12    /* one thread per output, dtype switch per load */
#define RATE_BYTES 1.5e12

/* Tactic ids (cg_tactic.id). */
enum {
    T_SIMT,
    T_MMA_TF32,
    T_MMA_F16,
    T_MMA_BF16,
    T_INT,
    T_CONV_DIRECT,
    T_CONVT_DIRECT,
    /* library calls: + T_LIB_TF32 for the tf32 variant, + T_LIB_NOWS for cuDNN without
     * workspace */
    T_CUBLAS = 16,
    T_CUBLASLT = 32,
    T_CUDNN = 48
};
#define T_LIB_TF32 1
#define T_LIB_NOWS 2
/* The libraries are faster than the builtin kernels at the same precision: their cost is
 * the builtin estimate times these. */
#define LIB_COST_CUBLAS 0.8
#define LIB_COST_CUBLASLT 0.75
#define LIB_COST_CUDNN 0.7
#define LIB_COST_CUDNN_NOWS 0.85
#define CUBLASLT_WORKSPACE (32ull << 20)
#define CUDNN_WORKSPACE (32ull << 20)

/* What a layer is, as the kernels see it. */
enum { JOB_GEMM, JOB_CONV, JOB_CONVT };

/* Float storage types, the index of the kernel name tables. */
enum { S_F32, S_F16, S_BF16, S_F64, S_NONE };

static int storage_of(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT: return S_F32;
    case O2P_DTYPE_FLOAT16: return S_F16;
    case O2P_DTYPE_BFLOAT16: return S_BF16;
    case O2P_DTYPE_DOUBLE: return S_F64;
    default: return S_NONE;
    }
}

static int is_gemm_int(o2p_dtype t)
{
    return t == O2P_DTYPE_INT32 || t == O2P_DTYPE_INT64 || t == O2P_DTYPE_UINT32 ||
           t == O2P_DTYPE_UINT64;
}

static const char *const fn_simt[4] = {"o2p_gemm_simt_f32", "o2p_gemm_simt_f16",
                                       "o2p_gemm_simt_bf16", "o2p_gemm_simt_f64"};
static const char *const fn_conv_simt[4] = {"o2p_gemm_conv_simt_f32", "o2p_gemm_conv_simt_f16",
                                            "o2p_gemm_conv_simt_bf16", "o2p_gemm_conv_simt_f64"};
static const char *const fn_conv_direct[4] = {
    "o2p_gemm_conv_direct_f32", "o2p_gemm_conv_direct_f16", "o2p_gemm_conv_direct_bf16",
    "o2p_gemm_conv_direct_f64"};
static const char *const fn_convt[4] = {"o2p_gemm_convt_f32", "o2p_gemm_convt_f16",
                                        "o2p_gemm_convt_bf16", "o2p_gemm_convt_f64"};
/* [tactic - T_MMA_TF32][storage]: NULL where no kernel exists */
static const char *const fn_mma[3][4] = {
    {"o2p_gemm_mma_tf32_f32", NULL, NULL, NULL},
    {"o2p_gemm_mma_f16_f32", "o2p_gemm_mma_f16_f16", NULL, NULL},
    {"o2p_gemm_mma_bf16_f32", NULL, "o2p_gemm_mma_bf16_bf16", NULL}};
static const char *const fn_conv_mma[3][4] = {
    {"o2p_gemm_conv_mma_tf32_f32", NULL, NULL, NULL},
    {"o2p_gemm_conv_mma_f16_f32", "o2p_gemm_conv_mma_f16_f16", NULL, NULL},
    {"o2p_gemm_conv_mma_bf16_f32", NULL, "o2p_gemm_conv_mma_bf16_bf16", NULL}};

/* A layer prepared for launching: the params (addresses not yet patched), which inputs the
 * address fields point to, and the sizes the cost model uses. */
typedef struct gemm_job {
    o2p_gemm_params p;
    int kind;
    o2p_dtype dtype;
    int a_input, b_input, c_input; /* input index per address field; c_input -1: none */
    int64_t y_elems;
    double flops, bytes;
} gemm_job;

/* ---------------------------------------------------------------- argument checks */

static const char *dims_str(int rank, const int64_t *dims, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

static const char *shape_str(const host_tensor *t, char *buf, size_t size)
{
    return dims_str(t->rank, t->dims, buf, size);
}

static int64_t numel(const host_tensor *t)
{
    int ok;
    int64_t n = host_numel(t, &ok);
    return ok ? n : 0;
}

/* Input i (what names it): present unless optional, a sane header, an engine tensor. With
 * empty_is_omitted an input without elements counts as omitted (as host_nn_input_opt). */
static o2p_status get_input(const cg_layer *l, int i, const char *what, int optional,
                            int empty_is_omitted, const host_tensor **t)
{
    const host_kernel_args *a = &l->args;
    *t = host_in(a, i);
    if (!*t)
        return optional ? O2P_OK : host_error(a, "input %d (%s) is missing", i, what);
    int ok;
    int64_t n = host_numel(*t, &ok);
    if ((*t)->rank < 0 || (*t)->rank > HOST_MAX_RANK || !ok || n > INT64_MAX / 16) {
        char s[256];
        return host_error(
            a, "input %d (%s) has invalid dims %s", i, what,
            (*t)->rank < 0 || (*t)->rank > HOST_MAX_RANK ? "[?]" : shape_str(*t, s, sizeof s));
    }
    if (empty_is_omitted && n == 0) {
        *t = NULL;
        return O2P_OK;
    }
    if (!l->input_tensors || l->input_tensors[i] < 0)
        return o2p_fail(O2P_ERR_INTERNAL, "layer '%s' (%s): input %d (%s) has no engine tensor",
                        a->layer_name ? a->layer_name : "", a->op_type ? a->op_type : "", i, what);
    return O2P_OK;
}

/* Output 0: present, an engine tensor, with exactly this dtype and shape. */
static o2p_status check_output(const cg_layer *l, o2p_dtype dtype, int rank, const int64_t *dims)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *y = host_out(a, 0);
    if (!y)
        return host_error(a, "output 0 is missing");
    if (!l->output_tensors || l->output_tensors[0] < 0)
        return o2p_fail(O2P_ERR_INTERNAL, "layer '%s' (%s): output 0 has no engine tensor",
                        a->layer_name ? a->layer_name : "", a->op_type ? a->op_type : "");
    if (y->dtype != dtype)
        return host_error(a, "output 0 is %s, expected %s", o2p_dtype_name(y->dtype),
                          o2p_dtype_name(dtype));
    if (!host_same_shape(y, rank, dims)) {
        char s1[256], s2[256];
        return host_error(a, "output 0 has shape %s, expected %s",
                          y->rank < 0 || y->rank > HOST_MAX_RANK ? "[?]"
                                                                 : shape_str(y, s1, sizeof s1),
                          dims_str(rank, dims, s2, sizeof s2));
    }
    return O2P_OK;
}

static o2p_status want_dtype(const cg_layer *l, const host_tensor *t, const char *what,
                             o2p_dtype dtype)
{
    if (t->dtype != dtype)
        return host_error(&l->args, "%s is %s, expected %s", what, o2p_dtype_name(t->dtype),
                          o2p_dtype_name(dtype));
    return O2P_OK;
}

static int64_t prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* ---------------------------------------------------------------- Gemm and MatMul */

static int gemm_dtype_ok(o2p_dtype t)
{
    return storage_of(t) != S_NONE || is_gemm_int(t);
}

static void job_init(gemm_job *j, int kind, o2p_dtype dtype)
{
    memset(j, 0, sizeof *j);
    j->kind = kind;
    j->dtype = dtype;
    j->p.dtype = (o2p_i32)dtype;
    j->p.alpha = 1.0;
    j->p.beta = 0.0;
    j->p.alpha_i = 1;
    j->p.int_exact = 1;
    j->p.batch = 1;
    j->a_input = 0;
    j->b_input = 1;
    j->c_input = -1;
}

static void job_costs(gemm_job *j, const host_tensor *A, const host_tensor *B, const host_tensor *C)
{
    double esize = (double)o2p_dtype_size(j->dtype);
    if (j->kind == JOB_CONVT)
        j->flops = 2.0 * (double)j->y_elems * (double)(j->p.c_in / j->p.group) * (double)j->p.kprod;
    else
        j->flops = 2.0 * (double)j->p.batch * (double)j->p.M * (double)j->p.N * (double)j->p.K;
    j->bytes = esize * ((double)numel(A) + (double)numel(B) + (C ? (double)numel(C) : 0.0) +
                        (double)j->y_elems);
}

static o2p_status prepare_gemm(const cg_layer *l, gemm_job *j)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *A, *B, *C;
    O2P_TRY(get_input(l, 0, "A", 0, 0, &A));
    O2P_TRY(get_input(l, 1, "B", 0, 0, &B));
    O2P_TRY(get_input(l, 2, "C", 1, 0, &C));
    char s1[256], s2[256];
    if (A->rank != 2)
        return host_error(a, "A must have rank 2, not %s", shape_str(A, s1, sizeof s1));
    if (B->rank != 2)
        return host_error(a, "B must have rank 2, not %s", shape_str(B, s1, sizeof s1));
    if (!gemm_dtype_ok(A->dtype))
        return host_unsupported_dtype(a, A->dtype);
    O2P_TRY(want_dtype(l, B, "B", A->dtype));
    if (C)
        O2P_TRY(want_dtype(l, C, "C", A->dtype));
    int trans_a = host_attr_int(a, "transA", 0) != 0, trans_b = host_attr_int(a, "transB", 0) != 0;
    float alpha = host_attr_float(a, "alpha", 1.0f), beta = host_attr_float(a, "beta", 1.0f);
    int64_t M = trans_a ? A->dims[1] : A->dims[0], K = trans_a ? A->dims[0] : A->dims[1];
    int64_t Kb = trans_b ? B->dims[1] : B->dims[0], N = trans_b ? B->dims[0] : B->dims[1];
    if (K != Kb)
        return host_error(a, "A %s%s and B %s%s do not multiply", shape_str(A, s1, sizeof s1),
                          trans_a ? " (transposed)" : "", shape_str(B, s2, sizeof s2),
                          trans_b ? " (transposed)" : "");
    int64_t c_rs = 0, c_cs = 0;
    if (C) {
        if (C->rank > 2)
            return host_error(a, "C must have rank <= 2, not %d", C->rank);
        int64_t cm = C->rank == 2 ? C->dims[0] : 1;
        int64_t cn = C->rank >= 1 ? C->dims[C->rank - 1] : 1;
        if ((cm != 1 && cm != M) || (cn != 1 && cn != N))
            return host_error(a, "C %s does not broadcast to [%lld,%lld]",
                              shape_str(C, s1, sizeof s1), (long long)M, (long long)N);
        c_rs = cm == 1 ? 0 : cn;
        c_cs = cn == 1 ? 0 : 1;
    }
    int64_t ydims[2] = {M, N};
    O2P_TRY(check_output(l, A->dtype, 2, ydims));
    job_init(j, JOB_GEMM, A->dtype);
    o2p_gemm_params *p = &j->p;
    p->M = M;
    p->N = N;
    p->K = K;
    p->a_rs = trans_a ? 1 : K;
    p->a_cs = trans_a ? M : 1;
    p->b_rs = trans_b ? 1 : N;
    p->b_cs = trans_b ? K : 1;
    p->alpha = alpha;
    p->beta = beta;
    /* the integer epilogue wraps when alpha and beta are exact integers (as the host) */
    double da = alpha, db = beta;
    p->int_exact = da == floor(da) && db == floor(db) && fabs(da) < 9e15 && fabs(db) < 9e15;
    p->alpha_i = p->int_exact ? (o2p_i64)da : 0;
    p->beta_i = p->int_exact ? (o2p_i64)db : 0;
    if (C && beta != 0.0f) { /* the host reads C only then */
        p->has_c = 1;
        p->c_rs = c_rs;
        p->c_cs = c_cs;
        j->c_input = 2;
    }
    j->y_elems = M * N;
    job_costs(j, A, B, p->has_c ? C : NULL);
    return O2P_OK;
}

static o2p_status prepare_matmul(const cg_layer *l, gemm_job *j)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *A, *B;
    O2P_TRY(get_input(l, 0, "A", 0, 0, &A));
    O2P_TRY(get_input(l, 1, "B", 0, 0, &B));
    if (!gemm_dtype_ok(A->dtype))
        return host_unsupported_dtype(a, A->dtype);
    O2P_TRY(want_dtype(l, B, "B", A->dtype));
    if (A->rank < 1 || B->rank < 1)
        return host_error(a, "inputs must have rank >= 1, not %d and %d", A->rank, B->rank);
    /* 1-D operands are promoted ([K] -> [1,K] for A, [K,1] for B); the added axis is dropped */
    int64_t M = A->rank >= 2 ? A->dims[A->rank - 2] : 1, K = A->dims[A->rank - 1];
    int64_t Kb = B->rank >= 2 ? B->dims[B->rank - 2] : B->dims[0];
    int64_t N = B->rank >= 2 ? B->dims[B->rank - 1] : 1;
    char s1[256], s2[256];
    if (K != Kb)
        return host_error(a, "A %s and B %s do not multiply (inner dims %lld and %lld)",
                          shape_str(A, s1, sizeof s1), shape_str(B, s2, sizeof s2), (long long)K,
                          (long long)Kb);
    int ab = A->rank > 2 ? A->rank - 2 : 0, bb = B->rank > 2 ? B->rank - 2 : 0;
    int nb = ab > bb ? ab : bb;
    job_init(j, JOB_GEMM, A->dtype);
    o2p_gemm_params *p = &j->p;
    /* batch dims broadcast right-aligned; strides in elements (0 where broadcast) */
    int64_t as = 1, bs = 1, a_mat = M * K, b_mat = K * N;
    for (int i = nb - 1; i >= 0; i--) {
        int ia = i - (nb - ab), ib = i - (nb - bb);
        int64_t da = ia >= 0 ? A->dims[ia] : 1, dbv = ib >= 0 ? B->dims[ib] : 1;
        if (da != dbv && da != 1 && dbv != 1)
            return host_error(a, "batch dims of A %s and B %s do not broadcast",
                              shape_str(A, s1, sizeof s1), shape_str(B, s2, sizeof s2));
        p->bdims[i] = da == 1 ? dbv : da;
        p->a_bstr[i] = da == 1 ? 0 : as * a_mat;
        p->b_bstr[i] = dbv == 1 ? 0 : bs * b_mat;
        as *= da;
        bs *= dbv;
    }
    int64_t ydims[HOST_MAX_RANK + 2];
    int yr = 0;
    for (int i = 0; i < nb; i++)
        ydims[yr++] = p->bdims[i];
    if (A->rank >= 2)
        ydims[yr++] = M;
    if (B->rank >= 2)
        ydims[yr++] = N;
    if (yr > HOST_MAX_RANK)
        return host_error(a, "result rank %d exceeds %d", yr, HOST_MAX_RANK);
    O2P_TRY(check_output(l, A->dtype, yr, ydims));
    p->nb = nb;
    p->batch = prod(p->bdims, 0, nb);
    p->M = M;
    p->N = N;
    p->K = K;
    p->a_rs = K;
    p->a_cs = 1;
    p->b_rs = B->rank >= 2 ? N : 1;
    p->b_cs = 1;
    j->y_elems = p->batch * M * N;
    job_costs(j, A, B, NULL);
    return O2P_OK;
}

/* ---------------------------------------------------------------- Conv and ConvTranspose */

/* The window geometry (host_nn_window / conv_transpose_geometry in the host kernels). */
typedef struct conv_window {
    int nsp;
    int64_t in[HOST_MAX_RANK], out[HOST_MAX_RANK], kernel[HOST_MAX_RANK];
    int64_t stride[HOST_MAX_RANK], dilation[HOST_MAX_RANK], pad_begin[HOST_MAX_RANK];
} conv_window;

static o2p_status spatial_ints(const host_kernel_args *a, const char *name, int nsp, int64_t dflt,
                               int64_t min, int64_t *out)
{
    int count = 0;
    const int64_t *v = host_attr_ints(a, name, &count);
    if (!v) {
        for (int i = 0; i < nsp; i++)
            out[i] = dflt;
        return O2P_OK;
    }
    if (count != nsp)
        return host_error(a, "attribute %s has %d values, expected %d (one per spatial axis)", name,
                          count, nsp);
    for (int i = 0; i < nsp; i++) {
        if (v[i] < min)
            return host_error(a, "attribute %s[%d] is %lld, must be >= %lld", name, i,
                              (long long)v[i], (long long)min);
        out[i] = v[i];
    }
    return O2P_OK;
}

/* Parses auto_pad: 0 NOTSET, 1 SAME_UPPER, 2 SAME_LOWER, 3 VALID. */
static o2p_status auto_pad_mode(const host_kernel_args *a, int *mode)
{
    const char *s = host_attr_string(a, "auto_pad", "NOTSET");
    if (strcmp(s, "NOTSET") == 0 || !*s)
        *mode = 0;
    else if (strcmp(s, "SAME_UPPER") == 0)
        *mode = 1;
    else if (strcmp(s, "SAME_LOWER") == 0)
        *mode = 2;
    else if (strcmp(s, "VALID") == 0)
        *mode = 3;
    else
        return host_error(a, "auto_pad '%s' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID", s);
    return O2P_OK;
}

/* Conv's output dims and leading pads (host_nn_window with dilations, no ceil_mode). */
static o2p_status conv_geometry(const host_kernel_args *a, const host_tensor *X,
                                const host_tensor *W, conv_window *w)
{
    memset(w, 0, sizeof *w);
    int nsp = w->nsp = X->rank - 2;
    for (int i = 0; i < nsp; i++) {
        w->in[i] = X->dims[i + 2];
        w->kernel[i] = W->dims[i + 2];
        if (w->kernel[i] < 1)
            return host_error(a, "kernel dim %d is %lld, must be >= 1", i, (long long)w->kernel[i]);
    }
    O2P_TRY(spatial_ints(a, "strides", nsp, 1, 1, w->stride));
    O2P_TRY(spatial_ints(a, "dilations", nsp, 1, 1, w->dilation));
    int mode, count = 0;
    O2P_TRY(auto_pad_mode(a, &mode));
    const int64_t *pads = host_attr_ints(a, "pads", &count);
    if (mode == 0 && pads) {
        if (count != 2 * nsp)
            return host_error(a, "attribute pads has %d values, expected %d", count, 2 * nsp);
        for (int i = 0; i < 2 * nsp; i++)
            if (pads[i] < 0)
                return host_error(a, "pads[%d] is %lld, must be >= 0", i, (long long)pads[i]);
    }
    for (int i = 0; i < nsp; i++) {
        int64_t in = w->in[i], s = w->stride[i], effk;
        if (__builtin_mul_overflow(w->kernel[i] - 1, w->dilation[i], &effk) ||
            __builtin_add_overflow(effk, 1, &effk))
            return host_error(a, "kernel extent overflows on spatial axis %d", i);
        if (mode == 1 || mode == 2) {
            int64_t out = in / s + (in % s != 0), total = 0;
            if (out > 0) {
                if (__builtin_mul_overflow(out - 1, s, &total) ||
                    __builtin_add_overflow(total, effk - in, &total))
                    return host_error(a, "padding overflows on spatial axis %d", i);
                if (total < 0)
                    total = 0;
            }
            w->pad_begin[i] = mode == 1 ? total / 2 : total - total / 2;
            w->out[i] = out;
            continue;
        }
        int64_t pb = mode == 0 && pads ? pads[i] : 0, pe = mode == 0 && pads ? pads[i + nsp] : 0;
        int64_t padded;
        if (__builtin_add_overflow(in, pb, &padded) || __builtin_add_overflow(padded, pe, &padded))
            return host_error(a, "padded size overflows on spatial axis %d", i);
        if (padded < effk)
            return host_error(a,
                              "kernel extent %lld exceeds the padded input size %lld on spatial "
                              "axis %d",
                              (long long)effk, (long long)padded, i);
        w->pad_begin[i] = pb;
        w->out[i] = (padded - effk) / s + 1;
    }
    return O2P_OK;
}

/* ConvTranspose's output dims and leading pads (conv_transpose_geometry in nn_conv.c). */
static o2p_status conv_transpose_geometry(const host_kernel_args *a, const host_tensor *X,
                                          const host_tensor *W, conv_window *w)
{
    int nsp = X->rank - 2;
    memset(w, 0, sizeof *w);
    w->nsp = nsp;
    int64_t opad[HOST_MAX_RANK];
    for (int i = 0; i < nsp; i++) {
        w->in[i] = X->dims[i + 2];
        w->kernel[i] = W->dims[i + 2];
        if (w->kernel[i] < 1)
            return host_error(a, "kernel dim %d is %lld, must be >= 1", i, (long long)w->kernel[i]);
    }
    O2P_TRY(spatial_ints(a, "strides", nsp, 1, 1, w->stride));
    O2P_TRY(spatial_ints(a, "dilations", nsp, 1, 1, w->dilation));
    O2P_TRY(spatial_ints(a, "output_padding", nsp, 0, 0, opad));
    int mode;
    O2P_TRY(auto_pad_mode(a, &mode));
    int same_upper = mode == 1, same_lower = mode == 2, valid = mode == 3;
    int count = 0, pcount = 0;
    const int64_t *oshape = host_attr_ints(a, "output_shape", &count);
    const int64_t *pads = host_attr_ints(a, "pads", &pcount);
    if (oshape && count != nsp && count != nsp + 2)
        return host_error(a, "output_shape has %d values, expected %d", count, nsp);
    if (!oshape && !same_upper && !same_lower && !valid && pads) {
        if (pcount != 2 * nsp)
            return host_error(a, "attribute pads has %d values, expected %d", pcount, 2 * nsp);
        for (int i = 0; i < 2 * nsp; i++)
            if (pads[i] < 0)
                return host_error(a, "pads[%d] is %lld, must be >= 0", i, (long long)pads[i]);
    }
    for (int i = 0; i < nsp; i++) {
        int64_t effk, full, target;
        if (__builtin_mul_overflow(w->kernel[i] - 1, w->dilation[i], &effk) ||
            __builtin_mul_overflow(w->stride[i], w->in[i] - 1, &full) ||
            __builtin_add_overflow(full, opad[i], &full) ||
            __builtin_add_overflow(full, effk, &full) || __builtin_add_overflow(full, 1, &full) ||
            __builtin_mul_overflow(w->stride[i], w->in[i], &target))
            return host_error(a, "the output size overflows on spatial axis %d", i);
        if (oshape || same_upper || same_lower) {
            int64_t out = oshape ? oshape[count - nsp + i] : target, total;
            if (out < 0)
                return host_error(a, "output_shape[%d] = %lld is invalid", i, (long long)out);
            if (__builtin_sub_overflow(full, out, &total))
                return host_error(a, "output_shape[%d] = %lld is invalid", i, (long long)out);
            if (total < 0) { /* pads nothing, as the host kernel (and onnxruntime) */
                total = 0;
                if (!oshape)
                    out = full;
            }
            int64_t half = total / 2;
            w->pad_begin[i] = same_upper ? half : total - half;
            w->out[i] = out;
        } else {
            int64_t pb = pads && !valid ? pads[i] : 0, pe = pads && !valid ? pads[i + nsp] : 0;
            if (pb > full || pe > full - pb)
                return host_error(a,
                                  "pads %lld + %lld exceed the output size %lld on spatial "
                                  "axis %d",
                                  (long long)pb, (long long)pe, (long long)full, i);
            w->pad_begin[i] = pb;
            w->out[i] = full - pb - pe;
        }
    }
    return O2P_OK;
}

/* X, W and B's common checks (conv_inputs in nn_conv.c). */
static o2p_status conv_inputs(const cg_layer *l, const host_tensor **X, const host_tensor **W,
                              const host_tensor **B, int64_t *group)
{
    const host_kernel_args *a = &l->args;
    O2P_TRY(get_input(l, 0, "X", 0, 0, X));
    O2P_TRY(get_input(l, 1, "W", 0, 0, W));
    O2P_TRY(get_input(l, 2, "B", 1, 1, B));
    if (storage_of((*X)->dtype) == S_NONE)
        return host_unsupported_dtype(a, (*X)->dtype);
    O2P_TRY(want_dtype(l, *W, "W", (*X)->dtype));
    if (*B)
        O2P_TRY(want_dtype(l, *B, "B", (*X)->dtype));
    if ((*X)->rank < 3)
        return host_error(a, "X must have rank >= 3 (N, C and spatial axes), not %d", (*X)->rank);
    if ((*W)->rank != (*X)->rank) {
        char s1[256], s2[256];
        return host_error(a, "W %s must have the rank of X %s", shape_str(*W, s1, sizeof s1),
                          shape_str(*X, s2, sizeof s2));
    }
    int nsp = (*X)->rank - 2, count = 0;
    const int64_t *ks = host_attr_ints(a, "kernel_shape", &count);
    if (ks) {
        if (count != nsp)
            return host_error(a, "kernel_shape has %d values, expected %d", count, nsp);
        for (int i = 0; i < nsp; i++)
            if (ks[i] != (*W)->dims[i + 2])
                return host_error(a, "kernel_shape[%d] = %lld disagrees with W's dim %lld", i,
                                  (long long)ks[i], (long long)(*W)->dims[i + 2]);
    }
    *group = host_attr_int(a, "group", 1);
    if (*group < 1)
        return host_error(a, "group is %lld, must be >= 1", (long long)*group);
    return O2P_OK;
}

/* The fields both convolutions share; a_ptr = W (input 1), b_ptr = X (input 0). */
static void conv_fill(gemm_job *j, const conv_window *w, int64_t N, int64_t C, int64_t M,
                      int64_t group, const host_tensor *B)
{
    o2p_gemm_params *p = &j->p;
    p->nsp = w->nsp;
    for (int d = 0; d < w->nsp; d++) {
        p->in[d] = w->in[d];
        p->out[d] = w->out[d];
        p->kernel[d] = w->kernel[d];
        p->stride[d] = w->stride[d];
        p->dilation[d] = w->dilation[d];
        p->pad[d] = w->pad_begin[d];
    }
    p->n_img = N;
    p->c_in = C;
    p->c_out = M;
    p->group = group;
    p->in_size = prod(w->in, 0, w->nsp);
    p->out_size = prod(w->out, 0, w->nsp);
    p->kprod = prod(w->kernel, 0, w->nsp);
    j->a_input = 1;
    j->b_input = 0;
    if (B) {
        p->has_c = 1;
        p->beta = 1.0;
        j->c_input = 2;
    }
    j->y_elems = N * M * p->out_size;
}

static o2p_status prepare_conv(const cg_layer *l, gemm_job *j)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *X, *W, *B;
    int64_t group;
    O2P_TRY(conv_inputs(l, &X, &W, &B, &group));
    int64_t N = X->dims[0], C = X->dims[1], M = W->dims[0];
    if (C % group != 0 || W->dims[1] != C / group)
        return host_error(a,
                          "X has %lld channels; W's dim 1 (%lld) times group (%lld) must "
                          "equal it",
                          (long long)C, (long long)W->dims[1], (long long)group);
    if (M % group != 0)
        return host_error(a, "W's %lld output channels are not divisible by group %lld",
                          (long long)M, (long long)group);
    if (B && (B->rank != 1 || B->dims[0] != M))
        return host_error(a, "B must have shape [%lld]", (long long)M);
    conv_window w;
    O2P_TRY(conv_geometry(a, X, W, &w));
    int64_t ydims[HOST_MAX_RANK] = {N, M};
    memcpy(ydims + 2, w.out, (size_t)w.nsp * sizeof(int64_t));
    O2P_TRY(check_output(l, X->dtype, X->rank, ydims));
    job_init(j, JOB_CONV, X->dtype);
    conv_fill(j, &w, N, C, M, group, B);
    /* the implicit GEMM: one per (image, group), z = n * group + g */
    o2p_gemm_params *p = &j->p;
    int64_t cg = C / group, mg = M / group;
    p->M = mg;
    p->N = p->out_size;
    p->K = cg * p->kprod;
    p->a_rs = p->K;
    p->a_cs = 1;
    p->nb = 2;
    p->bdims[0] = N;
    p->bdims[1] = group;
    p->a_bstr[0] = 0;
    p->a_bstr[1] = mg * p->K;
    p->b_bstr[0] = C * p->in_size;
    p->b_bstr[1] = cg * p->in_size;
    p->c_bstr[0] = 0;
    p->c_bstr[1] = mg;
    p->c_rs = 1; /* the bias is per output channel: per row of the GEMM */
    p->c_cs = 0;
    p->batch = N * group;
    job_costs(j, X, W, B);
    return O2P_OK;
}

static o2p_status prepare_conv_transpose(const cg_layer *l, gemm_job *j)
{
    const host_kernel_args *a = &l->args;
    const host_tensor *X, *W, *B;
    int64_t group;
    O2P_TRY(conv_inputs(l, &X, &W, &B, &group));
    int64_t N = X->dims[0], C = X->dims[1], M;
    if (W->dims[0] != C || C % group != 0)
        return host_error(a,
                          "W's dim 0 (%lld) must equal X's %lld channels, divisible by "
                          "group %lld",
                          (long long)W->dims[0], (long long)C, (long long)group);
    if (__builtin_mul_overflow(W->dims[1], group, &M))
        return host_error(a, "output channel count overflows");
    if (B && (B->rank != 1 || B->dims[0] != M))
        return host_error(a, "B must have shape [%lld]", (long long)M);
    conv_window w;
    O2P_TRY(conv_transpose_geometry(a, X, W, &w));
    int64_t ydims[HOST_MAX_RANK] = {N, M};
    memcpy(ydims + 2, w.out, (size_t)w.nsp * sizeof(int64_t));
    O2P_TRY(check_output(l, X->dtype, X->rank, ydims));
    job_init(j, JOB_CONVT, X->dtype);
    conv_fill(j, &w, N, C, M, group, B);
    job_costs(j, X, W, B);
    return O2P_OK;
}

/* ---------------------------------------------------------------- tactics */

static o2p_status prepare(const cg_layer *l, gemm_job *j)
{
    const char *op = l->args.op_type ? l->args.op_type : "";
    if (strcmp(op, "Gemm") == 0)
        return prepare_gemm(l, j);
    if (strcmp(op, "MatMul") == 0)
        return prepare_matmul(l, j);
    if (strcmp(op, "Conv") == 0)
        return prepare_conv(l, j);
    if (strcmp(op, "ConvTranspose") == 0)
        return prepare_conv_transpose(l, j);
    return o2p_fail(O2P_ERR_INTERNAL, "layer '%s': op %s is not in the gemm family",
                    l->args.layer_name ? l->args.layer_name : "", op);
}

static double cost(const gemm_job *j, double rate)
{
    return j->flops / rate + j->bytes / RATE_BYTES;
}

static cg_tactic tactic(const char *kernel, int id, uint32_t smem, cg_precision prec, double c)
{
    cg_tactic t = cg_simple_tactic(kernel, smem, c);
    t.id = id;
    t.precision = prec;
    return t;
}

/* The candidates of a prepared job (at most 5). */
static int job_candidates(const gemm_job *j, const cg_options *o, cg_tactic *out)
{
    int n = 0, s = storage_of(j->dtype), conv = j->kind == JOB_CONV;
    if (j->kind == JOB_CONVT) {
        out[n++] = tactic("cuda.gemm.convt_direct", T_CONVT_DIRECT, 0, CG_PREC_NATIVE,
                          cost(j, RATE_DIRECT));
        return n;
    }
    if (s == S_NONE) { /* integer Gemm / MatMul */
        out[n++] = tactic("cuda.gemm.int_generic", T_INT, 0, CG_PREC_NATIVE, cost(j, RATE_INT));
        return n;
    }
    if (s == S_F64) {
        out[n++] = tactic(conv ? "cuda.gemm.conv_simt_f64" : "cuda.gemm.simt_f64", T_SIMT,
                          O2P_GEMM_SIMT_SMEM_F64, CG_PREC_NATIVE, cost(j, RATE_SIMT));
    } else {
        out[n++] = tactic(conv ? "cuda.gemm.conv_simt_f32" : "cuda.gemm.simt_f32", T_SIMT,
                          O2P_GEMM_SIMT_SMEM_F32, CG_PREC_NATIVE, cost(j, RATE_SIMT));
        /* float16 / bfloat16 tensors on their own tensor-core type: products of halves are
         * exact in the fp32 accumulator, as the host's float32 staging */
        if (s == S_F32 && o->allow_tf32)
            out[n++] = tactic(conv ? "cuda.gemm.conv_mma_tf32" : "cuda.gemm.mma_tf32", T_MMA_TF32,
                              O2P_GEMM_MMA_SMEM_TF32, CG_PREC_TF32, cost(j, RATE_TF32));
        if (s == S_F16 || (s == S_F32 && o->allow_fp16))
            out[n++] = tactic(conv ? "cuda.gemm.conv_mma_f16" : "cuda.gemm.mma_f16", T_MMA_F16,
                              O2P_GEMM_MMA_SMEM_16, s == S_F16 ? CG_PREC_NATIVE : CG_PREC_FP16,
                              cost(j, RATE_HALF));
        if (s == S_BF16 || (s == S_F32 && o->allow_bf16))
            out[n++] = tactic(conv ? "cuda.gemm.conv_mma_bf16" : "cuda.gemm.mma_bf16", T_MMA_BF16,
                              O2P_GEMM_MMA_SMEM_16, s == S_BF16 ? CG_PREC_NATIVE : CG_PREC_BF16,
                              cost(j, RATE_HALF));
    }
    if (conv)
        out[n++] =
            tactic("cuda.gemm.conv_direct", T_CONV_DIRECT, 0, CG_PREC_NATIVE, cost(j, RATE_DIRECT));
    return n;
}

/* ---------------------------------------------------------------- library calls */

/* The batch strides of a MatMul operand as one stride per flattened batch index (what a
 * strided batched GEMM takes): bstr[i] = s * prod(bdims[i+1..]) wherever bdims[i] > 1. */
static int uniform_stride(const o2p_gemm_params *p, const o2p_i64 *bstr, int64_t *s)
{
    int64_t inner = 1;
    *s = 0;
    int set = 0;
    for (int i = p->nb - 1; i >= 0; i--) {
        if (p->bdims[i] > 1) {
            if (!set) {
                if (bstr[i] % inner)
                    return 0;
                *s = bstr[i] / inner;
                set = 1;
            } else if (bstr[i] != *s * inner) {
                return 0;
            }
        }
        inner *= p->bdims[i];
    }
    return 1;
}

static int fits_int(int64_t v)
{
    return v >= 1 && v <= INT32_MAX;
}

/* A Gemm / MatMul as one (batched) cuBLAS call on the column-major view Y^T = op(B)^T op(A)^T,
 * or 0 when it does not map onto one: strides that differ between batch dims, dims past
 * 32 bits, or a C scaled by a beta other than 1 (the bias is added after the call). */
static int blas_record(const cg_layer *l, const gemm_job *j, cg_blas_gemm_params *r)
{
    const o2p_gemm_params *p = &j->p;
    if (j->kind != JOB_GEMM || (j->dtype != O2P_DTYPE_FLOAT && j->dtype != O2P_DTYPE_FLOAT16 &&
                                j->dtype != O2P_DTYPE_BFLOAT16))
        return 0;
    if (!fits_int(p->M) || !fits_int(p->N) || !fits_int(p->K) || !fits_int(p->batch))
        return 0;
    if (p->has_c && p->beta != 1.0)
        return 0;
    int gemm = strcmp(l->args.op_type, "Gemm") == 0;
    int ta = gemm && host_attr_int(&l->args, "transA", 0) != 0;
    int tb = gemm && host_attr_int(&l->args, "transB", 0) != 0;
    int64_t sa = 0, sb = 0;
    if (!uniform_stride(p, p->a_bstr, &sa) || !uniform_stride(p, p->b_bstr, &sb))
        return 0;
    memset(r, 0, sizeof *r);
    r->m = (int32_t)p->N;
    r->n = (int32_t)p->M;
    r->k = (int32_t)p->K;
    r->trans_a = (uint32_t)tb; /* cuBLAS's A is our B */
    r->trans_b = (uint32_t)ta;
    r->lda = (int32_t)(tb ? p->K : p->N);
    r->ldb = (int32_t)(ta ? p->M : p->K);
    r->ldc = (int32_t)p->N;
    r->stride_a = sb;
    r->stride_b = sa;
    r->stride_c = p->M * p->N;
    r->batch = (int32_t)p->batch;
    r->dtype = (uint32_t)j->dtype;
    r->alpha = (float)p->alpha;
    r->beta = 0.0f;
    return 1;
}

/* A 2-D Conv as one cuDNN call, or 0: float / float16, dims in 32 bits, and padding cuDNN's
 * symmetric pads reproduce (the same output size with the leading pads at both ends visits
 * the same input positions, the padding being zeros either way). */
static int dnn_record(const cg_layer *l, const gemm_job *j, cg_dnn_conv_params *r)
{
    const o2p_gemm_params *p = &j->p;
    if (j->kind != JOB_CONV || p->nsp != 2 ||
        (j->dtype != O2P_DTYPE_FLOAT && j->dtype != O2P_DTYPE_FLOAT16))
        return 0;
    (void)l;
    int64_t c_img = p->c_in * p->in_size, y_img = p->c_out * p->out_size;
    if (!fits_int(p->n_img) || !fits_int(c_img) || !fits_int(y_img) || !fits_int(p->group))
        return 0;
    for (int d = 0; d < 2; d++) {
        int64_t effk = (p->kernel[d] - 1) * p->dilation[d] + 1;
        if (!fits_int(p->kernel[d]) || !fits_int(p->stride[d]) || !fits_int(p->dilation[d]) ||
            p->pad[d] > INT32_MAX / 4 || p->in[d] + 2 * p->pad[d] < effk ||
            (p->in[d] + 2 * p->pad[d] - effk) / p->stride[d] + 1 != p->out[d])
            return 0;
    }
    memset(r, 0, sizeof *r);
    r->n = (int32_t)p->n_img;
    r->c = (int32_t)p->c_in;
    r->h = (int32_t)p->in[0];
    r->w = (int32_t)p->in[1];
    r->k = (int32_t)p->c_out;
    r->r = (int32_t)p->kernel[0];
    r->s = (int32_t)p->kernel[1];
    r->p = (int32_t)p->out[0];
    r->q = (int32_t)p->out[1];
    r->pad_h = (int32_t)p->pad[0];
    r->pad_w = (int32_t)p->pad[1];
    r->stride_h = (int32_t)p->stride[0];
    r->stride_w = (int32_t)p->stride[1];
    r->dil_h = (int32_t)p->dilation[0];
    r->dil_w = (int32_t)p->dilation[1];
    r->groups = (int32_t)p->group;
    r->dtype = (uint32_t)j->dtype;
    r->alpha = 1.0f;
    r->beta = 0.0f;
    return 1;
}

static cg_tactic lib_tactic(const char *kernel, const char *source, int id, cg_precision prec,
                            uint64_t workspace, double c)
{
    cg_tactic t = tactic(kernel, id, 0, prec, c);
    t.source = source;
    t.workspace = workspace;
    return t;
}

/* The library candidates of a prepared job (at most 6), for the sources the build allows:
 * cheaper than the builtin kernels of the same precision; tf32 only when allowed. */
static int library_candidates(const cg_layer *l, const gemm_job *j, const cg_options *o,
                              cg_tactic *out)
{
    int n = 0, f32 = j->dtype == O2P_DTYPE_FLOAT;
    double base = cost(j, f32 ? RATE_SIMT : RATE_HALF), tf32 = cost(j, RATE_TF32);
    cg_blas_gemm_params br;
    cg_dnn_conv_params dr;
    if (blas_record(l, j, &br)) {
        if (o->tactic_sources & O2P_TACTIC_SOURCE_CUBLAS) {
            out[n++] = lib_tactic("cublas.gemm_ex", "cublas", T_CUBLAS, CG_PREC_NATIVE, 0,
                                  LIB_COST_CUBLAS * base);
            if (f32 && o->allow_tf32)
                out[n++] = lib_tactic("cublas.gemm_ex_tf32", "cublas", T_CUBLAS + T_LIB_TF32,
                                      CG_PREC_TF32, 0, LIB_COST_CUBLAS * tf32);
        }
        if (o->tactic_sources & O2P_TACTIC_SOURCE_CUBLASLT) {
            out[n++] = lib_tactic("cublaslt.matmul", "cublaslt", T_CUBLASLT, CG_PREC_NATIVE,
                                  CUBLASLT_WORKSPACE, LIB_COST_CUBLASLT * base);
            if (f32 && o->allow_tf32)
                out[n++] = lib_tactic("cublaslt.matmul_tf32", "cublaslt", T_CUBLASLT + T_LIB_TF32,
                                      CG_PREC_TF32, CUBLASLT_WORKSPACE, LIB_COST_CUBLASLT * tf32);
        }
    }
    if (dnn_record(l, j, &dr) && (o->tactic_sources & O2P_TACTIC_SOURCE_CUDNN)) {
        out[n++] = lib_tactic("cudnn.conv_fwd", "cudnn", T_CUDNN, CG_PREC_NATIVE, CUDNN_WORKSPACE,
                              LIB_COST_CUDNN * base);
        out[n++] = lib_tactic("cudnn.conv_fwd_nows", "cudnn", T_CUDNN + T_LIB_NOWS, CG_PREC_NATIVE,
                              0, LIB_COST_CUDNN_NOWS * base);
        if (f32 && o->allow_tf32) {
            out[n++] = lib_tactic("cudnn.conv_fwd_tf32", "cudnn", T_CUDNN + T_LIB_TF32,
                                  CG_PREC_TF32, CUDNN_WORKSPACE, LIB_COST_CUDNN * tf32);
            out[n++] =
                lib_tactic("cudnn.conv_fwd_tf32_nows", "cudnn", T_CUDNN + T_LIB_TF32 + T_LIB_NOWS,
                           CG_PREC_TF32, 0, LIB_COST_CUDNN_NOWS * tf32);
        }
    }
    return n;
}

/* y += bias broadcast into y's shape (bias_dims over y's rank), in place: the elementwise
 * family's binary add (each thread reads and writes its own element). */
static void emit_bias_add(cg_emit *e, const host_tensor *y, int y_tensor, const host_tensor *bias,
                          int bias_tensor, int per_channel)
{
    o2p_ew_binary_params p;
    memset(&p, 0, sizeof p);
    int ok;
    p.n = host_numel(y, &ok);
    p.op = O2P_EW_B_ADD;
    p.a_dtype = p.b_dtype = p.y_dtype = (int32_t)y->dtype;
    p.bits = (int32_t)o2p_dtype_size(y->dtype) * 8;
    p.a_mode = O2P_EW_INDEX_SAME;
    p.a.rank = p.b.rank = y->rank;
    int64_t contiguous = 1, bstr[HOST_MAX_RANK];
    if (!per_channel)
        host_broadcast_strides(bias, y->rank, y->dims, bstr);
    for (int d = y->rank - 1; d >= 0; d--) {
        p.a.dims[d] = p.b.dims[d] = y->dims[d];
        p.a.strides[d] = contiguous;
        /* a Conv bias [M] runs along axis 1 of [N, M, ...] */
        p.b.strides[d] = per_channel ? (d == 1 ? 1 : 0) : bstr[d];
        contiguous *= y->dims[d];
    }
    p.b_mode = O2P_EW_INDEX_SHAPE;
    const char *fn = y->dtype == O2P_DTYPE_FLOAT16    ? "o2p_elementwise_binary_f16"
                     : y->dtype == O2P_DTYPE_BFLOAT16 ? "o2p_elementwise_binary_bf16"
                                                      : "o2p_elementwise_binary_f32";
    uint32_t grid[3], block[3];
    cg_grid_1d((uint64_t)p.n, 256, grid, block);
    cg_launch *k = cg_emit_kernel(e, "elementwise", fn, grid, block, 0, &p, sizeof p);
    cg_launch_ptr(e, k, offsetof(o2p_ew_binary_params, a_ptr), y_tensor, 0);
    cg_launch_ptr(e, k, offsetof(o2p_ew_binary_params, b_ptr), bias_tensor, 0);
    cg_launch_ptr(e, k, offsetof(o2p_ew_binary_params, y_ptr), y_tensor, 0);
}

static o2p_status library_lower(const cg_layer *l, const gemm_job *j, const cg_tactic *t,
                                cg_emit *e)
{
    int base = t->id & ~(T_LIB_TF32 | T_LIB_NOWS);
    uint32_t compute = (t->id & T_LIB_TF32) ? CG_BLAS_COMPUTE_32F_TF32 : CG_BLAS_COMPUTE_32F;
    const int *in = l->input_tensors;
    int y = l->output_tensors[0];
    if (base == T_CUBLAS || base == T_CUBLASLT) {
        cg_blas_gemm_params r;
        if (!blas_record(l, j, &r))
            return o2p_fail(O2P_ERR_INTERNAL, "layer '%s' (%s): tactic %s does not apply to it",
                            l->args.layer_name ? l->args.layer_name : "", l->args.op_type,
                            t->kernel ? t->kernel : "?");
        r.compute = compute;
        cg_launch_kind kind = CG_LAUNCH_CUBLAS_GEMM;
        uint64_t ws_at = 0;
        if (base == T_CUBLASLT) {
            kind = CG_LAUNCH_CUBLASLT_MATMUL;
            r.workspace_bytes = t->workspace;
            ws_at = cg_emit_workspace(e, t->workspace);
        }
        cg_launch *k = cg_emit_library(e, kind, &r, sizeof r);
        cg_launch_ptr(e, k, offsetof(cg_blas_gemm_params, a_ptr), in[j->b_input], 0);
        cg_launch_ptr(e, k, offsetof(cg_blas_gemm_params, b_ptr), in[j->a_input], 0);
        cg_launch_ptr(e, k, offsetof(cg_blas_gemm_params, c_ptr), y, 0);
        if (r.workspace_bytes)
            cg_launch_ptr(e, k, offsetof(cg_blas_gemm_params, workspace_ptr), CG_TENSOR_WORKSPACE,
                          ws_at);
        if (j->c_input >= 0)
            emit_bias_add(e, host_out(&l->args, 0), y, host_in(&l->args, j->c_input),
                          in[j->c_input], 0);
        return cg_emit_status(e);
    }
    cg_dnn_conv_params r;
    if (base != T_CUDNN || !dnn_record(l, j, &r))
        return o2p_fail(O2P_ERR_INTERNAL, "layer '%s' (%s): tactic %s does not apply to it",
                        l->args.layer_name ? l->args.layer_name : "", l->args.op_type,
                        t->kernel ? t->kernel : "?");
    r.compute = compute;
    uint64_t ws_at = 0;
    if (!(t->id & T_LIB_NOWS)) {
        r.workspace_bytes = t->workspace;
        ws_at = cg_emit_workspace(e, t->workspace);
    }
    cg_launch *k = cg_emit_library(e, CG_LAUNCH_CUDNN_CONV, &r, sizeof r);
    cg_launch_ptr(e, k, offsetof(cg_dnn_conv_params, x_ptr), in[0], 0);
    cg_launch_ptr(e, k, offsetof(cg_dnn_conv_params, w_ptr), in[1], 0);
    cg_launch_ptr(e, k, offsetof(cg_dnn_conv_params, y_ptr), y, 0);
    if (r.workspace_bytes)
        cg_launch_ptr(e, k, offsetof(cg_dnn_conv_params, workspace_ptr), CG_TENSOR_WORKSPACE,
                      ws_at);
    if (j->c_input >= 0)
        emit_bias_add(e, host_out(&l->args, 0), y, host_in(&l->args, j->c_input), in[j->c_input],
                      1);
    return cg_emit_status(e);
}

static int gemm_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                           const char **why)
{
    const host_tensor *x = host_in(&l->args, 0);
    const char *op = l->args.op_type ? l->args.op_type : "";
    int conv = strcmp(op, "Conv") == 0 || strcmp(op, "ConvTranspose") == 0;
    if (x && (conv ? storage_of(x->dtype) == S_NONE : !gemm_dtype_ok(x->dtype))) {
        if (why)
            *why = conv ? "the CUDA kernels take float, float16, bfloat16 or double"
                        : "the CUDA kernels take float, float16, bfloat16, double, int32, "
                          "int64, uint32 or uint64";
        return 0;
    }
    gemm_job j;
    if (prepare(l, &j) != O2P_OK) {
        if (why)
            *why = "the layer's shapes or attributes are invalid (the error says which)";
        return 0;
    }
    cg_tactic all[12];
    int n = job_candidates(&j, o, all);
    n += library_candidates(l, &j, o, all + n);
    if (n > cap)
        n = cap;
    memcpy(out, all, (size_t)n * sizeof *out);
    return n;
}

static uint32_t clamp_grid(int64_t n, uint32_t max)
{
    return n < 1 ? 1u : n > (int64_t)max ? max : (uint32_t)n;
}

static o2p_status gemm_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o, cg_emit *e)
{
    (void)o;
    gemm_job j;
    O2P_TRY(prepare(l, &j));
    if (j.y_elems == 0)
        return O2P_OK; /* nothing to compute */
    if (t->id >= T_CUBLAS)
        return library_lower(l, &j, t, e);
    int s = storage_of(j.dtype);
    const char *fn = NULL;
    uint32_t grid[3], block[3];
    switch (t->id) {
    case T_SIMT:
    case T_MMA_TF32:
    case T_MMA_F16:
    case T_MMA_BF16:
        if (j.kind == JOB_CONVT || s == S_NONE)
            break;
        if (t->id == T_SIMT)
            fn = j.kind == JOB_CONV ? fn_conv_simt[s] : fn_simt[s];
        else
            fn = j.kind == JOB_CONV ? fn_conv_mma[t->id - T_MMA_TF32][s]
                                    : fn_mma[t->id - T_MMA_TF32][s];
        /* x over N tiles, y over M tiles, z over the batch; the kernels loop past the limits */
        grid[0] = clamp_grid((j.p.N + O2P_GEMM_TILE_N - 1) / O2P_GEMM_TILE_N, 0x7fffffffu);
        grid[1] = clamp_grid((j.p.M + O2P_GEMM_TILE_M - 1) / O2P_GEMM_TILE_M, 65535u);
        grid[2] = clamp_grid(j.p.batch, 65535u);
        block[0] = t->id == T_SIMT ? 16 : O2P_GEMM_MMA_THREADS;
        block[1] = t->id == T_SIMT ? 16 : 1;
        block[2] = 1;
        break;
    case T_INT:
        if (j.kind != JOB_GEMM || s != S_NONE)
            break;
        fn = "o2p_gemm_int";
        cg_grid_1d((uint64_t)j.y_elems, O2P_GEMM_DIRECT_THREADS, grid, block);
        break;
    case T_CONV_DIRECT:
    case T_CONVT_DIRECT:
        if (j.kind != (t->id == T_CONV_DIRECT ? JOB_CONV : JOB_CONVT))
            break;
        fn = t->id == T_CONV_DIRECT ? fn_conv_direct[s] : fn_convt[s];
        cg_grid_1d((uint64_t)j.y_elems, O2P_GEMM_DIRECT_THREADS, grid, block);
        break;
    default: break;
    }
    if (!fn)
        return o2p_fail(O2P_ERR_INTERNAL, "layer '%s' (%s): tactic %s does not apply to %s",
                        l->args.layer_name ? l->args.layer_name : "", l->args.op_type,
                        t->kernel ? t->kernel : "?", o2p_dtype_name(j.dtype));
    cg_launch *launch = cg_emit_kernel(e, FAMILY, fn, grid, block, 0, &j.p, sizeof j.p);
    const int *in = l->input_tensors;
    cg_launch_ptr(e, launch, offsetof(o2p_gemm_params, a_ptr), in[j.a_input], 0);
    cg_launch_ptr(e, launch, offsetof(o2p_gemm_params, b_ptr), in[j.b_input], 0);
    if (j.c_input >= 0)
        cg_launch_ptr(e, launch, offsetof(o2p_gemm_params, c_ptr), in[j.c_input], 0);
    cg_launch_ptr(e, launch, offsetof(o2p_gemm_params, y_ptr), l->output_tensors[0], 0);
    return cg_emit_status(e);
}

const cg_op cg_gemm_ops[] = {
    {"Gemm", gemm_candidates, gemm_lower},
    {"MatMul", gemm_candidates, gemm_lower},
    {"Conv", gemm_candidates, gemm_lower},
    {"ConvTranspose", gemm_candidates, gemm_lower},
};
const int cg_gemm_op_count = (int)(sizeof cg_gemm_ops / sizeof cg_gemm_ops[0]);
