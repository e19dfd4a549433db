/* test_lower_gemm.c: the gemm family's lowerings (src/codegen/lower_gemm.c) without a GPU:
 * candidates per dtype and precision flag, the launches (kernel names, grids covering the
 * output, patched addresses), refusals with a message, and the params' meaning: a C
 * evaluation of the index conventions of kernels/cuda/gemm.cu (gemm_params.h) over the
 * lowered params must give the host kernel's results on random data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/gemm_params.h"
#include "lower_testutil.h"

/* ---------------------------------------------------------------- a layer by hand */

/* A layer of op at opset 17 named layer0: inputs 0..num_inputs-1 (shapes set by lt_in) and
 * one output, tensor 7. */
static void fake_init(lt_layer *f, const char *op, int num_inputs)
{
    lt_init(f, op, 17);
    f->l.args.layer_name = "layer0";
    f->out_base = 7;
    for (int i = 0; i < num_inputs; i++)
        lt_in(f, i, O2P_DTYPE_UNDEFINED, 0, NULL);
    lt_out(f, 0, O2P_DTYPE_UNDEFINED, 0, NULL);
}

static const cg_options opts_default = {80, 80, 1, 0, 0, O2P_TACTIC_SOURCE_BUILTIN};
static const cg_options opts_all = {80, 90, 1, 1, 1, O2P_TACTIC_SOURCE_BUILTIN};

static int find_tactic(const cg_tactic *t, int n, const char *kernel)
{
    for (int i = 0; i < n; i++)
        if (strcmp(t[i].kernel, kernel) == 0)
            return i;
    return -1;
}

/* Lowers f with the candidate named kernel; returns the one launch's params. */
static o2p_gemm_params lower_one(lt_layer *f, const cg_options *o, const char *kernel, cg_emit *e)
{
    const cg_op *op = cg_op_find(f->l.args.op_type);
    ck_assert_ptr_nonnull(op);
    cg_tactic t[8];
    const char *why = NULL;
    int n = op->candidates(&f->l, o, t, 8, &why);
    ck_assert_msg(n > 0, "%s: no candidates (%s)", f->l.args.op_type, why ? why : "");
    int k = find_tactic(t, n, kernel);
    ck_assert_msg(k >= 0, "%s: no tactic %s", f->l.args.op_type, kernel);
    cg_emit_init(e);
    o2p_status st = op->lower(&f->l, &t[k], o, e);
    ck_assert_msg(st == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(e->count, 1);
    const cg_launch *l = &e->launches[0];
    ck_assert_int_eq(l->kind, CG_LAUNCH_KERNEL);
    ck_assert_str_eq(l->family, "gemm");
    ck_assert_uint_eq(l->param_size, sizeof(o2p_gemm_params));
    o2p_gemm_params p;
    memcpy(&p, l->params, sizeof p);
    return p;
}

/* Whether the address at param offset is tensor's own (no byte offset). */
static int has_patch(const cg_launch *l, size_t offset, int tensor)
{
    const cg_patch *p = lt_find_patch(l, offset);
    return p && p->tensor == tensor && p->byte_offset == 0;
}

/* ---------------------------------------------------------------- the kernels' arithmetic */

static void batch_offsets(const o2p_gemm_params *p, int64_t z, int64_t *ao, int64_t *bo,
                          int64_t *co)
{
    *ao = *bo = *co = 0;
    for (int d = p->nb - 1; d >= 0; d--) {
        int64_t r = z % p->bdims[d];
        *ao += r * p->a_bstr[d];
        *bo += r * p->b_bstr[d];
        *co += r * p->c_bstr[d];
        z /= p->bdims[d];
    }
}

static double load_b(const o2p_gemm_params *p, int conv, const float *b, int64_t bo, int64_t k,
                     int64_t j)
{
    if (!conv)
        return b[bo + k * p->b_rs + j * p->b_cs];
    int64_t c = k / p->kprod, kr = k % p->kprod, pos = j, off = 0, mul = 1;
    for (int d = p->nsp - 1; d >= 0; d--) {
        int64_t t =
            (pos % p->out[d]) * p->stride[d] + (kr % p->kernel[d]) * p->dilation[d] - p->pad[d];
        if (t < 0 || t >= p->in[d])
            return 0.0;
        off += t * mul;
        mul *= p->in[d];
        kr /= p->kernel[d];
        pos /= p->out[d];
    }
    return b[bo + c * p->in_size + off];
}

/* What simt_gemm / mma_gemm compute (in double). */
static void emulate_gemm(const o2p_gemm_params *p, int conv, const float *a, const float *b,
                         const float *c, float *y)
{
    for (int64_t z = 0; z < p->batch; z++) {
        int64_t ao, bo, co;
        batch_offsets(p, z, &ao, &bo, &co);
        for (int64_t i = 0; i < p->M; i++)
            for (int64_t j = 0; j < p->N; j++) {
                double s = 0;
                for (int64_t k = 0; k < p->K; k++)
                    s += a[ao + i * p->a_rs + k * p->a_cs] * load_b(p, conv, b, bo, k, j);
                double v = p->alpha == 0.0 ? 0.0 : p->alpha * s;
                if (p->has_c)
                    v += p->beta * c[co + i * p->c_rs + j * p->c_cs];
                y[(z * p->M + i) * p->N + j] = (float)v;
            }
    }
}

/* What conv_transpose_direct computes. */
static void emulate_convt(const o2p_gemm_params *p, const float *w, const float *x,
                          const float *bias, float *y)
{
    int64_t cg = p->c_in / p->group, mg = p->c_out / p->group;
    for (int64_t idx = 0; idx < p->n_img * p->c_out * p->out_size; idx++) {
        int64_t pos = idx % p->out_size, m = (idx / p->out_size) % p->c_out;
        int64_t n = idx / (p->out_size * p->c_out), g = m / mg, ml = m - g * mg, od[16];
        for (int d = p->nsp - 1; d >= 0; d--) {
            od[d] = pos % p->out[d];
            pos /= p->out[d];
        }
        double s = 0;
        for (int64_t c = 0; c < cg; c++) {
            int64_t cgl = g * cg + c;
            for (int64_t kr = 0; kr < p->kprod; kr++) {
                int64_t rest = kr, off = 0, mul = 1;
                int inside = 1;
                for (int d = p->nsp - 1; d >= 0 && inside; d--) {
                    int64_t kd = rest % p->kernel[d];
                    rest /= p->kernel[d];
                    int64_t num = od[d] + p->pad[d] - kd * p->dilation[d];
                    int64_t i = num >= 0 ? num / p->stride[d] : -1;
                    inside = num >= 0 && i * p->stride[d] == num && i < p->in[d];
                    off += i * mul;
                    mul *= p->in[d];
                }
                if (inside)
                    s += x[(n * p->c_in + cgl) * p->in_size + off] *
                         w[(cgl * mg + ml) * p->kprod + kr];
            }
        }
        if (p->has_c)
            s += bias[m];
        y[idx] = (float)s;
    }
}

static float *random_data(host_tensor *t, unsigned *seed)
{
    int ok;
    int64_t n = host_numel(t, &ok);
    float *d = malloc((size_t)(n ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        d[i] = (float)((*seed >> 8) % 2001) / 1000.0f - 1.0f;
    }
    t->data = d;
    return d;
}

/* Runs the host kernel on random data, lowers with `kernel`, evaluates the params as the
 * CUDA kernel would, and compares. */
static void check_against_host(lt_layer *f, const char *kernel, unsigned seed)
{
    float *data[3] = {NULL, NULL, NULL};
    for (int i = 0; i < f->l.args.num_inputs; i++)
        if (f->ins[i])
            data[i] = random_data(&f->in[i], &seed);
    int ok;
    int64_t ny = host_numel(&f->out[0], &ok);
    float *want = calloc((size_t)(ny ? ny : 1), sizeof(float));
    float *got = calloc((size_t)(ny ? ny : 1), sizeof(float));
    f->out[0].data = want;
    host_kernel_fn run = host_kernel_find(f->l.args.op_type);
    ck_assert_ptr_nonnull(run);
    ck_assert_msg(run(&f->l.args) == O2P_OK, "host: %s", o2p_last_error());
    cg_emit e;
    o2p_gemm_params p = lower_one(f, &opts_default, kernel, &e);
    const cg_launch *l = &e.launches[0];
    /* which input each address field points to */
    const float *by_field[3] = {NULL, NULL, NULL};
    size_t offs[3] = {offsetof(o2p_gemm_params, a_ptr), offsetof(o2p_gemm_params, b_ptr),
                      offsetof(o2p_gemm_params, c_ptr)};
    for (int fld = 0; fld < 3; fld++)
        for (int i = 0; i < 3; i++)
            if (f->it[i] >= 0 && has_patch(l, offs[fld], f->it[i]))
                by_field[fld] = data[i];
    ck_assert(has_patch(l, offsetof(o2p_gemm_params, y_ptr), 7));
    ck_assert_int_eq(p.has_c, by_field[2] != NULL);
    if (strcmp(f->l.args.op_type, "ConvTranspose") == 0)
        emulate_convt(&p, by_field[0], by_field[1], by_field[2], got);
    else
        emulate_gemm(&p, strcmp(f->l.args.op_type, "Conv") == 0, by_field[0], by_field[1],
                     by_field[2], got);
    for (int64_t i = 0; i < ny; i++)
        ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-4f * (1.0f + fabsf(want[i])),
                      "%s %s: y[%lld] = %g, host %g", f->l.args.op_type, kernel, (long long)i,
                      got[i], want[i]);
    cg_emit_free(&e);
    for (int i = 0; i < 3; i++)
        free(data[i]);
    free(want);
    free(got);
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_table)
{
    const char *ops[] = {"Gemm", "MatMul", "Conv", "ConvTranspose"};
    for (int i = 0; i < 4; i++) {
        const cg_op *op = cg_op_find(ops[i]);
        ck_assert_ptr_nonnull(op);
        ck_assert_str_eq(op->op_type, ops[i]);
        ck_assert_ptr_nonnull(op->candidates);
        ck_assert_ptr_nonnull(op->lower);
    }
    ck_assert_int_eq(cg_gemm_op_count, 4);
}
END_TEST

static void gemm_layer(lt_layer *f, o2p_dtype dt, int64_t M, int64_t N, int64_t K, int with_c)
{
    fake_init(f, "Gemm", with_c ? 3 : 2);
    lt_in(f, 0, dt, 2, (int64_t[]){M, K});
    lt_in(f, 1, dt, 2, (int64_t[]){K, N});
    if (with_c)
        lt_in(f, 2, dt, 1, (int64_t[]){N});
    lt_out(f, 0, dt, 2, (int64_t[]){M, N});
}

START_TEST(test_gemm_candidates)
{
    lt_layer f;
    cg_tactic t[8];
    const char *why = NULL;
    const cg_op *op = cg_op_find("Gemm");
    /* float: simt always; tensor cores as the precision flags allow, each with its
     * precision, and cheaper than simt so the selector prefers them */
    gemm_layer(&f, O2P_DTYPE_FLOAT, 256, 256, 256, 1);
    cg_options none = opts_default;
    none.allow_tf32 = 0;
    int n = op->candidates(&f.l, &none, t, 8, &why);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(t[0].kernel, "cuda.gemm.simt_f32");
    ck_assert_int_eq(t[0].precision, CG_PREC_NATIVE);
    ck_assert_uint_eq(t[0].smem_bytes, 8192);
    n = op->candidates(&f.l, &opts_all, t, 8, &why);
    ck_assert_int_eq(n, 4);
    int s = find_tactic(t, n, "cuda.gemm.simt_f32"), tf = find_tactic(t, n, "cuda.gemm.mma_tf32");
    int h = find_tactic(t, n, "cuda.gemm.mma_f16"), b = find_tactic(t, n, "cuda.gemm.mma_bf16");
    ck_assert(s >= 0 && tf >= 0 && h >= 0 && b >= 0);
    ck_assert_int_eq(t[tf].precision, CG_PREC_TF32);
    ck_assert_int_eq(t[h].precision, CG_PREC_FP16);
    ck_assert_int_eq(t[b].precision, CG_PREC_BF16);
    ck_assert_int_eq(t[tf].min_cc, 80);
    ck_assert_uint_eq(t[tf].smem_bytes, 2 * 64 * 36 * 4);
    ck_assert_uint_eq(t[h].smem_bytes, 2 * 64 * 40 * 2);
    ck_assert(t[tf].smem_bytes <= 48 * 1024 && t[h].smem_bytes <= 48 * 1024);
    ck_assert(t[tf].cost < t[s].cost && t[h].cost < t[tf].cost && t[s].cost > 0);
    /* the cost model: 2*M*N*K / 1.5e13 + bytes / 1.5e12 */
    double bytes = 4.0 * (256 * 256 * 3 + 256);
    ck_assert_double_eq_tol(t[s].cost, 2.0 * 256 * 256 * 256 / 1.5e13 + bytes / 1.5e12, 1e-12);
    /* cap is honoured */
    ck_assert_int_eq(op->candidates(&f.l, &opts_all, t, 2, &why), 2);
    /* float16 tensors: their own tensor-core type is native precision, without flags */
    gemm_layer(&f, O2P_DTYPE_FLOAT16, 64, 64, 64, 0);
    n = op->candidates(&f.l, &none, t, 8, &why);
    ck_assert_int_eq(n, 2);
    h = find_tactic(t, n, "cuda.gemm.mma_f16");
    ck_assert(h >= 0);
    ck_assert_int_eq(t[h].precision, CG_PREC_NATIVE);
    ck_assert_int_lt(find_tactic(t, n, "cuda.gemm.mma_bf16"), 0);
    gemm_layer(&f, O2P_DTYPE_BFLOAT16, 64, 64, 64, 0);
    n = op->candidates(&f.l, &none, t, 8, &why);
    b = find_tactic(t, n, "cuda.gemm.mma_bf16");
    ck_assert(b >= 0);
    ck_assert_int_eq(t[b].precision, CG_PREC_NATIVE);
    /* double: the fp64 simt only */
    gemm_layer(&f, O2P_DTYPE_DOUBLE, 64, 64, 64, 0);
    n = op->candidates(&f.l, &opts_all, t, 8, &why);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(t[0].kernel, "cuda.gemm.simt_f64");
    ck_assert_uint_eq(t[0].smem_bytes, 16384);
    /* integers: the generic kernel */
    gemm_layer(&f, O2P_DTYPE_INT64, 8, 8, 8, 1);
    n = op->candidates(&f.l, &opts_all, t, 8, &why);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(t[0].kernel, "cuda.gemm.int_generic");
    /* a type the host kernel refuses */
    gemm_layer(&f, O2P_DTYPE_INT8, 8, 8, 8, 0);
    why = NULL;
    ck_assert_int_eq(op->candidates(&f.l, &opts_all, t, 8, &why), 0);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "float"));
}
END_TEST

START_TEST(test_gemm_launch)
{
    lt_layer f;
    cg_emit e;
    /* transposes, alpha/beta, C broadcast along rows ([N]) */
    fake_init(&f, "Gemm", 3);
    lt_in(&f, 0, O2P_DTYPE_FLOAT, 2, (int64_t[]){70, 100}); /* A^T: K x M */
    lt_in(&f, 1, O2P_DTYPE_FLOAT, 2, (int64_t[]){130, 70}); /* B^T: N x K */
    lt_in(&f, 2, O2P_DTYPE_FLOAT, 2, (int64_t[]){1, 130});
    lt_out(&f, 0, O2P_DTYPE_FLOAT, 2, (int64_t[]){100, 130});
    lt_attr_int(&f, "transA", 1);
    lt_attr_int(&f, "transB", 1);
    lt_attr_float(&f, "alpha", 0.5f);
    lt_attr_float(&f, "beta", 2.0f);
    o2p_gemm_params p = lower_one(&f, &opts_default, "cuda.gemm.mma_tf32", &e);
    const cg_launch *l = &e.launches[0];
    ck_assert_str_eq(l->function, "o2p_gemm_mma_tf32_f32");
    ck_assert_uint_eq(l->block[0] * l->block[1] * l->block[2], 128);
    ck_assert_uint_eq(l->grid[0], 3); /* ceil(130 / 64) */
    ck_assert_uint_eq(l->grid[1], 2); /* ceil(100 / 64) */
    ck_assert_uint_eq(l->grid[2], 1);
    ck_assert_int_eq(p.M, 100);
    ck_assert_int_eq(p.N, 130);
    ck_assert_int_eq(p.K, 70);
    ck_assert_int_eq(p.a_rs, 1);
    ck_assert_int_eq(p.a_cs, 100);
    ck_assert_int_eq(p.b_rs, 1);
    ck_assert_int_eq(p.b_cs, 70);
    ck_assert_int_eq(p.c_rs, 0);
    ck_assert_int_eq(p.c_cs, 1);
    ck_assert_double_eq(p.alpha, 0.5);
    ck_assert_double_eq(p.beta, 2.0);
    ck_assert_int_eq(p.has_c, 1);
    ck_assert_int_eq(l->num_patches, 4);
    ck_assert(has_patch(l, offsetof(o2p_gemm_params, a_ptr), 0));
    ck_assert(has_patch(l, offsetof(o2p_gemm_params, b_ptr), 1));
    ck_assert(has_patch(l, offsetof(o2p_gemm_params, c_ptr), 2));
    ck_assert(has_patch(l, offsetof(o2p_gemm_params, y_ptr), 7));
    cg_emit_free(&e);
    /* beta 0: C is not read (no address) */
    f.attrs[3].f = 0.0f;
    p = lower_one(&f, &opts_default, "cuda.gemm.simt_f32", &e);
    ck_assert_str_eq(e.launches[0].function, "o2p_gemm_simt_f32");
    ck_assert_uint_eq(e.launches[0].block[0] * e.launches[0].block[1], 256);
    ck_assert_int_eq(p.has_c, 0);
    ck_assert_int_eq(e.launches[0].num_patches, 3);
    cg_emit_free(&e);
    /* integer Gemm with a fractional alpha: the double epilogue */
    fake_init(&f, "Gemm", 2);
    lt_in(&f, 0, O2P_DTYPE_INT32, 2, (int64_t[]){5, 3});
    lt_in(&f, 1, O2P_DTYPE_INT32, 2, (int64_t[]){3, 4});
    lt_out(&f, 0, O2P_DTYPE_INT32, 2, (int64_t[]){5, 4});
    lt_attr_float(&f, "alpha", 1.5f);
    p = lower_one(&f, &opts_default, "cuda.gemm.int_generic", &e);
    ck_assert_str_eq(e.launches[0].function, "o2p_gemm_int");
    ck_assert_int_eq(p.int_exact, 0);
    ck_assert_int_eq(p.dtype, O2P_CU_INT32);
    ck_assert_uint_ge((uint64_t)e.launches[0].grid[0] * e.launches[0].block[0], 20);
    cg_emit_free(&e);
    f.attrs[0].f = 3.0f;
    p = lower_one(&f, &opts_default, "cuda.gemm.int_generic", &e);
    ck_assert_int_eq(p.int_exact, 1);
    ck_assert_int_eq(p.alpha_i, 3);
    cg_emit_free(&e);
    /* float16 storage: the f16 kernels of half tensors */
    gemm_layer(&f, O2P_DTYPE_FLOAT16, 10, 20, 30, 0);
    lower_one(&f, &opts_default, "cuda.gemm.mma_f16", &e);
    ck_assert_str_eq(e.launches[0].function, "o2p_gemm_mma_f16_f16");
    cg_emit_free(&e);
    gemm_layer(&f, O2P_DTYPE_FLOAT, 10, 20, 30, 0);
    lower_one(&f, &opts_all, "cuda.gemm.mma_bf16", &e);
    ck_assert_str_eq(e.launches[0].function, "o2p_gemm_mma_bf16_f32");
    cg_emit_free(&e);
    /* an empty output: nothing to launch */
    gemm_layer(&f, O2P_DTYPE_FLOAT, 0, 20, 30, 0);
    const cg_op *op = cg_op_find("Gemm");
    cg_tactic t[8];
    const char *why;
    ck_assert_int_ge(op->candidates(&f.l, &opts_default, t, 8, &why), 1);
    cg_emit_init(&e);
    ck_assert_int_eq(op->lower(&f.l, &t[0], &opts_default, &e), O2P_OK);
    ck_assert_int_eq(e.count, 0);
    cg_emit_free(&e);
}
END_TEST

START_TEST(test_gemm_refusals)
{
    lt_layer f;
    cg_emit e;
    const cg_op *op = cg_op_find("Gemm");
    cg_tactic t = cg_simple_tactic("cuda.gemm.simt_f32", 8192, 1.0);
    /* inner dims disagree */
    gemm_layer(&f, O2P_DTYPE_FLOAT, 4, 5, 6, 0);
    f.in[1].dims[0] = 7;
    cg_emit_init(&e);
    ck_assert_int_eq(op->lower(&f.l, &t, &opts_default, &e), O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "do not multiply"));
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "layer0"));
    /* C that does not broadcast */
    gemm_layer(&f, O2P_DTYPE_FLOAT, 4, 5, 6, 1);
    f.in[2].dims[0] = 3;
    ck_assert_int_eq(op->lower(&f.l, &t, &opts_default, &e), O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "broadcast"));
    /* a wrong output shape */
    gemm_layer(&f, O2P_DTYPE_FLOAT, 4, 5, 6, 0);
    f.out[0].dims[1] = 6;
    ck_assert_int_eq(op->lower(&f.l, &t, &opts_default, &e), O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "output 0"));
    /* mixed dtypes, unsupported dtypes */
    gemm_layer(&f, O2P_DTYPE_FLOAT, 4, 5, 6, 0);
    f.in[1].dtype = O2P_DTYPE_DOUBLE;
    ck_assert_int_eq(op->lower(&f.l, &t, &opts_default, &e), O2P_ERR_SHAPE);
    gemm_layer(&f, O2P_DTYPE_UINT8, 4, 5, 6, 0);
    ck_assert_int_eq(op->lower(&f.l, &t, &opts_default, &e), O2P_ERR_UNSUPPORTED);
    /* a tactic of another dtype */
    gemm_layer(&f, O2P_DTYPE_DOUBLE, 4, 5, 6, 0);
    cg_tactic tf = cg_simple_tactic("cuda.gemm.mma_tf32", 0, 1.0);
    tf.id = 1;
    ck_assert_int_eq(op->lower(&f.l, &tf, &opts_default, &e), O2P_ERR_INTERNAL);
    ck_assert_int_eq(e.count, 0);
    cg_emit_free(&e);
    /* MatMul: batch dims that do not broadcast */
    fake_init(&f, "MatMul", 2);
    lt_in(&f, 0, O2P_DTYPE_FLOAT, 3, (int64_t[]){2, 4, 5});
    lt_in(&f, 1, O2P_DTYPE_FLOAT, 3, (int64_t[]){3, 5, 6});
    lt_out(&f, 0, O2P_DTYPE_FLOAT, 3, (int64_t[]){3, 4, 6});
    cg_emit_init(&e);
    ck_assert_int_eq(cg_op_find("MatMul")->lower(&f.l, &t, &opts_default, &e), O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "do not broadcast"));
    cg_emit_free(&e);
}
END_TEST

START_TEST(test_matmul_values)
{
    lt_layer f;
    /* batch broadcast: [2,1,5,7] x [3,7,6] -> [2,3,5,6] */
    fake_init(&f, "MatMul", 2);
    lt_in(&f, 0, O2P_DTYPE_FLOAT, 4, (int64_t[]){2, 1, 5, 7});
    lt_in(&f, 1, O2P_DTYPE_FLOAT, 3, (int64_t[]){3, 7, 6});
    lt_out(&f, 0, O2P_DTYPE_FLOAT, 4, (int64_t[]){2, 3, 5, 6});
    check_against_host(&f, "cuda.gemm.simt_f32", 1);
    cg_emit e;
    o2p_gemm_params p = lower_one(&f, &opts_default, "cuda.gemm.simt_f32", &e);
    ck_assert_int_eq(p.batch, 6);
    ck_assert_int_eq(p.nb, 2);
    ck_assert_int_eq(p.a_bstr[1], 0);
    ck_assert_int_eq(p.b_bstr[0], 0);
    ck_assert_uint_eq(e.launches[0].grid[2], 6);
    cg_emit_free(&e);
    /* 1-D operands */
    fake_init(&f, "MatMul", 2);
    lt_in(&f, 0, O2P_DTYPE_FLOAT, 1, (int64_t[]){9});
    lt_in(&f, 1, O2P_DTYPE_FLOAT, 3, (int64_t[]){4, 9, 3});
    lt_out(&f, 0, O2P_DTYPE_FLOAT, 2, (int64_t[]){4, 3});
    check_against_host(&f, "cuda.gemm.mma_tf32", 2);
    fake_init(&f, "MatMul", 2);
    lt_in(&f, 0, O2P_DTYPE_FLOAT, 3, (int64_t[]){2, 3, 9});
    lt_in(&f, 1, O2P_DTYPE_FLOAT, 1, (int64_t[]){9});
    lt_out(&f, 0, O2P_DTYPE_FLOAT, 2, (int64_t[]){2, 3});
    check_against_host(&f, "cuda.gemm.simt_f32", 3);
    fake_init(&f, "MatMul", 2);
    lt_in(&f, 0, O2P_DTYPE_FLOAT, 1, (int64_t[]){9});
    lt_in(&f, 1, O2P_DTYPE_FLOAT, 1, (int64_t[]){9});
    lt_out(&f, 0, O2P_DTYPE_FLOAT, 0, NULL);
    check_against_host(&f, "cuda.gemm.simt_f32", 4);
}
END_TEST

START_TEST(test_gemm_values)
{
    lt_layer f;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int crank = 0; crank < 3; crank++) {
                int64_t M = 13, N = 17, K = 11;
                fake_init(&f, "Gemm", 3);
                lt_in(&f, 0, O2P_DTYPE_FLOAT, 2, ta ? (int64_t[]){K, M} : (int64_t[]){M, K});
                lt_in(&f, 1, O2P_DTYPE_FLOAT, 2, tb ? (int64_t[]){N, K} : (int64_t[]){K, N});
                if (crank == 0)
                    lt_in(&f, 2, O2P_DTYPE_FLOAT, 0, NULL);
                else if (crank == 1)
                    lt_in(&f, 2, O2P_DTYPE_FLOAT, 2, (int64_t[]){M, 1});
                else
                    lt_in(&f, 2, O2P_DTYPE_FLOAT, 2, (int64_t[]){M, N});
                lt_out(&f, 0, O2P_DTYPE_FLOAT, 2, (int64_t[]){M, N});
                lt_attr_int(&f, "transA", ta);
                lt_attr_int(&f, "transB", tb);
                lt_attr_float(&f, "alpha", 0.75f);
                lt_attr_float(&f, "beta", -1.25f);
                check_against_host(&f, "cuda.gemm.simt_f32",
                                   10u + (unsigned)(ta * 6 + tb * 3 + crank));
            }
}
END_TEST

static void conv_layer(lt_layer *f, const char *op, int nsp, const int64_t *xd, const int64_t *wd,
                       int with_b, int64_t bias_len, const int64_t *yd)
{
    fake_init(f, op, with_b ? 3 : 2);
    lt_in(f, 0, O2P_DTYPE_FLOAT, nsp + 2, xd);
    lt_in(f, 1, O2P_DTYPE_FLOAT, nsp + 2, wd);
    if (with_b)
        lt_in(f, 2, O2P_DTYPE_FLOAT, 1, (int64_t[]){bias_len});
    lt_out(f, 0, O2P_DTYPE_FLOAT, nsp + 2, yd);
}

START_TEST(test_conv)
{
    lt_layer f;
    /* 2-D, groups 2, stride 2, dilation 2, asymmetric pads, bias */
    conv_layer(&f, "Conv", 2, (int64_t[]){2, 4, 9, 10}, (int64_t[]){6, 2, 3, 2}, 1, 6,
               (int64_t[]){2, 6, 3, 6});
    lt_attr_int(&f, "group", 2);
    lt_attr_ints(&f, "strides", (int64_t[]){2, 2}, 2);
    lt_attr_ints(&f, "dilations", (int64_t[]){2, 2}, 2);
    lt_attr_ints(&f, "pads", (int64_t[]){1, 2, 0, 1}, 4);
    check_against_host(&f, "cuda.gemm.conv_simt_f32", 21);
    check_against_host(&f, "cuda.gemm.conv_mma_tf32", 22);
    cg_emit e;
    o2p_gemm_params p = lower_one(&f, &opts_default, "cuda.gemm.conv_simt_f32", &e);
    const cg_launch *l = &e.launches[0];
    ck_assert_str_eq(l->function, "o2p_gemm_conv_simt_f32");
    ck_assert_int_eq(p.M, 3);
    ck_assert_int_eq(p.N, 18);
    ck_assert_int_eq(p.K, 2 * 6);
    ck_assert_int_eq(p.batch, 4);
    ck_assert_uint_eq(l->grid[2], 4);
    ck_assert_int_eq(p.pad[0], 1);
    ck_assert_int_eq(p.pad[1], 2);
    ck_assert(has_patch(l, offsetof(o2p_gemm_params, a_ptr), 1)); /* W is the GEMM's A */
    ck_assert(has_patch(l, offsetof(o2p_gemm_params, b_ptr), 0));
    ck_assert(has_patch(l, offsetof(o2p_gemm_params, c_ptr), 2));
    cg_emit_free(&e);
    p = lower_one(&f, &opts_default, "cuda.gemm.conv_direct", &e);
    ck_assert_str_eq(e.launches[0].function, "o2p_gemm_conv_direct_f32");
    ck_assert_uint_ge((uint64_t)e.launches[0].grid[0] * e.launches[0].block[0], 2 * 6 * 18);
    cg_emit_free(&e);
    /* 1-D SAME_LOWER, no bias; 3-D depthwise */
    conv_layer(&f, "Conv", 1, (int64_t[]){1, 3, 10}, (int64_t[]){5, 3, 4}, 0, 0,
               (int64_t[]){1, 5, 4});
    lt_attr_str(&f, "auto_pad", "SAME_LOWER");
    lt_attr_ints(&f, "strides", (int64_t[]){3}, 1);
    check_against_host(&f, "cuda.gemm.conv_simt_f32", 23);
    conv_layer(&f, "Conv", 3, (int64_t[]){1, 3, 4, 5, 6}, (int64_t[]){3, 1, 2, 3, 2}, 1, 3,
               (int64_t[]){1, 3, 3, 3, 5});
    lt_attr_int(&f, "group", 3);
    check_against_host(&f, "cuda.gemm.conv_simt_f32", 24);
    /* refusals: channels that do not match W, an output of the wrong shape */
    conv_layer(&f, "Conv", 2, (int64_t[]){1, 4, 5, 5}, (int64_t[]){2, 3, 3, 3}, 0, 0,
               (int64_t[]){1, 2, 3, 3});
    const cg_op *op = cg_op_find("Conv");
    cg_tactic t = cg_simple_tactic("cuda.gemm.conv_simt_f32", 8192, 1.0);
    cg_emit_init(&e);
    ck_assert_int_eq(op->lower(&f.l, &t, &opts_default, &e), O2P_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(o2p_last_error(), "channels"));
    conv_layer(&f, "Conv", 2, (int64_t[]){1, 3, 5, 5}, (int64_t[]){2, 3, 3, 3}, 0, 0,
               (int64_t[]){1, 2, 5, 5});
    ck_assert_int_eq(op->lower(&f.l, &t, &opts_default, &e), O2P_ERR_SHAPE);
    ck_assert_int_eq(e.count, 0);
    cg_emit_free(&e);
    /* integer Conv is refused with a reason */
    conv_layer(&f, "Conv", 2, (int64_t[]){1, 3, 5, 5}, (int64_t[]){2, 3, 3, 3}, 0, 0,
               (int64_t[]){1, 2, 3, 3});
    f.in[0].dtype = f.in[1].dtype = f.out[0].dtype = O2P_DTYPE_INT32;
    cg_tactic c[8];
    const char *why = NULL;
    ck_assert_int_eq(op->candidates(&f.l, &opts_all, c, 8, &why), 0);
    ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(test_conv_transpose)
{
    lt_layer f;
    /* 2-D, groups 2, strides, dilations, pads, output_padding, bias */
    conv_layer(&f, "ConvTranspose", 2, (int64_t[]){2, 4, 3, 4}, (int64_t[]){4, 3, 3, 2}, 1, 6,
               (int64_t[]){2, 6, 7, 12});
    lt_attr_int(&f, "group", 2);
    lt_attr_ints(&f, "strides", (int64_t[]){2, 3}, 2);
    lt_attr_ints(&f, "dilations", (int64_t[]){1, 2}, 2);
    lt_attr_ints(&f, "pads", (int64_t[]){1, 0, 0, 1}, 4);
    lt_attr_ints(&f, "output_padding", (int64_t[]){1, 1}, 2);
    /* H: 2*(3-1) + 1 + 2 + 1 - 1 - 0 = 7; W: 3*(4-1) + 1 + 2 + 1 - 0 - 1 = 12 */
    check_against_host(&f, "cuda.gemm.convt_direct", 31);
    cg_emit e;
    o2p_gemm_params p = lower_one(&f, &opts_all, "cuda.gemm.convt_direct", &e);
    ck_assert_str_eq(e.launches[0].function, "o2p_gemm_convt_f32");
    ck_assert_int_eq(p.c_in, 4);
    ck_assert_int_eq(p.c_out, 6);
    ck_assert_int_eq(p.out[0], 7);
    ck_assert_int_eq(p.out[1], 12);
    ck_assert(has_patch(&e.launches[0], offsetof(o2p_gemm_params, a_ptr), 1));
    ck_assert(has_patch(&e.launches[0], offsetof(o2p_gemm_params, b_ptr), 0));
    cg_emit_free(&e);
    /* output_shape larger than the full output (a zero tail plus bias), 1-D SAME_UPPER */
    conv_layer(&f, "ConvTranspose", 1, (int64_t[]){1, 2, 5}, (int64_t[]){2, 3, 3}, 1, 3,
               (int64_t[]){1, 3, 14});
    lt_attr_ints(&f, "strides", (int64_t[]){2}, 1);
    lt_attr_ints(&f, "output_shape", (int64_t[]){14}, 1);
    check_against_host(&f, "cuda.gemm.convt_direct", 32);
    conv_layer(&f, "ConvTranspose", 1, (int64_t[]){1, 2, 5}, (int64_t[]){2, 3, 4}, 0, 0,
               (int64_t[]){1, 3, 10});
    lt_attr_ints(&f, "strides", (int64_t[]){2}, 1);
    lt_attr_str(&f, "auto_pad", "SAME_UPPER");
    check_against_host(&f, "cuda.gemm.convt_direct", 33);
    /* one candidate; W's dim 0 must be X's channels */
    const cg_op *op = cg_op_find("ConvTranspose");
    cg_tactic t[8];
    const char *why;
    ck_assert_int_eq(op->candidates(&f.l, &opts_all, t, 8, &why), 1);
    f.in[1].dims[0] = 3;
    cg_emit_init(&e);
    ck_assert_int_eq(op->lower(&f.l, &t[0], &opts_all, &e), O2P_ERR_SHAPE);
    cg_emit_free(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lower_gemm");
    TCase *tc = tcase_create("gemm");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_gemm_candidates);
    tcase_add_test(tc, test_gemm_launch);
    tcase_add_test(tc, test_gemm_refusals);
    tcase_add_test(tc, test_gemm_values);
    tcase_add_test(tc, test_matmul_values);
    tcase_add_test(tc, test_conv);
    tcase_add_test(tc, test_conv_transpose);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
