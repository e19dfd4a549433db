/* infer_nn.c: shape inference of the neural-network operators: convolutions and pooling,
 * normalizations, Gemm/MatMul and their quantized forms, softmax, recurrent layers, ROI and
 * detection ops, losses. */
#include <math.h>
#include <string.h>

#include "ir/infer_ops.h"

static int is_op(const ir_infer_ctx *ctx, const char *name)
{
    return strcmp(ctx->layer->op_type, name) == 0;
}

/* ---------------------------------------------------------------- convolution geometry */

typedef enum auto_pad { PAD_NOTSET, PAD_SAME_UPPER, PAD_SAME_LOWER, PAD_VALID } auto_pad;

typedef struct window {
    int n; /* spatial rank */
    int kernel_known;
    int64_t kernel[IR_MAX_RANK];
    int64_t strides[IR_MAX_RANK];
    int64_t dilations[IR_MAX_RANK];
    int64_t pads[2 * IR_MAX_RANK];
    auto_pad pad;
    int ceil_mode;
    int empty_ok; /* a window larger than the padded input gives size 0 (pooling) */
} window;

static o2p_status read_list(ir_infer_ctx *ctx, const char *name, int want, int64_t dflt,
                            int64_t min, int64_t *out)
{
    int n;
    O2P_TRY(inf_attr_ints(ctx, name, out, 2 * IR_MAX_RANK, &n));
    if (n < 0) {
        for (int i = 0; i < want; i++)
            out[i] = dflt;
        return O2P_OK;
    }
    if (n != want)
        return ir_infer_error(ctx, "attribute '%s' has %d values; it needs %d", name, n, want);
    for (int i = 0; i < n; i++)
        if (out[i] < min || out[i] > ((int64_t)1 << 40))
            return ir_infer_error(ctx,
                                  "attribute '%s' has %lld at index %d; it must be %lld or "
                                  "more",
                                  name, (long long)out[i], i, (long long)min);
    return O2P_OK;
}

/* Reads kernel_shape (or takes it from the weights' dims 2..), strides, dilations, pads,
 * auto_pad and ceil_mode for n spatial axes. */
static o2p_status read_window(ir_infer_ctx *ctx, int n, const ir_shape *w, window *win)
{
    memset(win, 0, sizeof *win);
    win->n = n;
    int cnt;
    O2P_TRY(inf_attr_ints(ctx, "kernel_shape", win->kernel, IR_MAX_RANK, &cnt));
    if (cnt >= 0) {
        if (cnt != n)
            return ir_infer_error(ctx,
                                  "attribute 'kernel_shape' has %d values for %d spatial "
                                  "axes",
                                  cnt, n);
        for (int i = 0; i < n; i++)
            if (win->kernel[i] < 1)
                return ir_infer_error(ctx, "kernel_shape has %lld on spatial axis %d",
                                      (long long)win->kernel[i], i);
        win->kernel_known = 1;
        /* the weights must agree */
        for (int i = 0; w && w->rank == n + 2 && i < n; i++)
            if (w->dims[i + 2].value >= 0 && w->dims[i + 2].value != win->kernel[i])
                return ir_infer_error(ctx,
                                      "kernel_shape says %lld on spatial axis %d but the "
                                      "weights '%s' have %lld",
                                      (long long)win->kernel[i], i, inf_name(ctx, 1),
                                      (long long)w->dims[i + 2].value);
    } else if (w && w->rank == n + 2) {
        win->kernel_known = 1;
        for (int i = 0; i < n; i++) {
            win->kernel[i] = w->dims[i + 2].value;
            if (win->kernel[i] < 0)
                win->kernel_known = 0;
            else if (win->kernel[i] == 0)
                return ir_infer_error(ctx, "weights '%s' have a 0 kernel size on spatial axis %d",
                                      inf_name(ctx, 1), i);
        }
    }
    O2P_TRY(read_list(ctx, "strides", n, 1, 1, win->strides));
    O2P_TRY(read_list(ctx, "dilations", n, 1, 1, win->dilations));
    O2P_TRY(read_list(ctx, "pads", 2 * n, 0, 0, win->pads));
    const char *ap = ir_attr_string(ctx->layer, "auto_pad", "NOTSET");
    if (strcmp(ap, "NOTSET") == 0 || *ap == '\0')
        win->pad = PAD_NOTSET;
    else if (strcmp(ap, "SAME_UPPER") == 0)
        win->pad = PAD_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0)
        win->pad = PAD_SAME_LOWER;
    else if (strcmp(ap, "VALID") == 0)
        win->pad = PAD_VALID;
    else
        return ir_infer_error(ctx,
                              "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, "
                              "VALID",
                              ap);
    win->ceil_mode = ir_attr_int(ctx->layer, "ceil_mode", 0) != 0;
    return O2P_OK;
}

/* Output size of one spatial axis of a convolution or pooling window. */
static o2p_status window_out(ir_infer_ctx *ctx, const window *win, int i, ir_dim in, ir_dim *out)
{
    *out = IR_DIM_UNKNOWN;
    if (in.value < 0)
        return O2P_OK;
    int64_t d = in.value, s = win->strides[i];
    if (win->pad == PAD_SAME_UPPER || win->pad == PAD_SAME_LOWER) {
        *out = inf_dim(d / s + (d % s != 0));
        return O2P_OK;
    }
    if (!win->kernel_known)
        return O2P_OK;
    int64_t eff = (win->kernel[i] - 1) * win->dilations[i] + 1; /* both < 2^40 */
    int64_t total = d;
    if (win->pad == PAD_NOTSET)
        total += win->pads[i] + win->pads[i + win->n];
    int64_t num = total - eff;
    if (num < 0 && win->empty_ok && num / s + 1 >= 0) {
        /* pooling, a window larger than the padded input: onnxruntime and the ONNX shape
         * inference divide truncating toward zero (1 output while the overhang is less than
         * a stride, else 0); a convolution refuses it */
        *out = inf_dim(num / s + 1);
        return O2P_OK;
    }
    if (num < 0)
        return ir_infer_error(ctx,
                              "spatial axis %d: the window (kernel %lld, dilation %lld) "
                              "is larger than the padded input (%lld)",
                              i, (long long)win->kernel[i], (long long)win->dilations[i],
                              (long long)total);
    int64_t o = num / s + 1;
    if (win->ceil_mode && num % s != 0) {
        o++;
        /* the last window must start inside the input or its left padding */
        int64_t left = win->pad == PAD_NOTSET ? win->pads[i] : 0;
        if ((o - 1) * s >= d + left)
            o--;
    }
    *out = inf_dim(o);
    return O2P_OK;
}

static o2p_status check_group(ir_infer_ctx *ctx, int64_t *group)
{
    *group = ir_attr_int(ctx->layer, "group", 1);
    if (*group < 1)
        return ir_infer_error(ctx, "group %lld must be 1 or more", (long long)*group);
    return O2P_OK;
}

/* Conv-like ops: X is input xi, W input wi; output channels from W dim 0. */
static o2p_status conv_core(ir_infer_ctx *ctx, int xi, int wi, int bi, o2p_dtype out_t)
{
    ir_shape x, w, o;
    inf_shape(ctx, xi, &x);
    inf_shape(ctx, wi, &w);
    if (x.rank >= 0 && x.rank < 3)
        return ir_infer_error(ctx,
                              "input '%s' has rank %d; a convolution needs N x C x spatial "
                              "(rank 3 or more)",
                              inf_name(ctx, xi), x.rank);
    if (w.rank >= 0 && w.rank < 3)
        return ir_infer_error(ctx, "weights '%s' have rank %d; they need rank 3 or more",
                              inf_name(ctx, wi), w.rank);
    if (x.rank >= 0 && w.rank >= 0 && x.rank != w.rank)
        return ir_infer_error(ctx, "input '%s' has rank %d but weights '%s' have rank %d",
                              inf_name(ctx, xi), x.rank, inf_name(ctx, wi), w.rank);
    int r = x.rank >= 0 ? x.rank : w.rank;
    if (r < 0)
        return inf_out_unknown(ctx, 0, out_t);
    int n = r - 2;
    int64_t group;
    O2P_TRY(check_group(ctx, &group));
    window win;
    O2P_TRY(read_window(ctx, n, w.rank >= 0 ? &w : NULL, &win));
    if (x.rank >= 0 && w.rank >= 0 && x.dims[1].value >= 0 && w.dims[1].value >= 0 &&
        x.dims[1].value != w.dims[1].value * group)
        return ir_infer_error(ctx,
                              "input '%s' has %lld channels but weights '%s' expect %lld "
                              "(%lld per group x %lld groups)",
                              inf_name(ctx, xi), (long long)x.dims[1].value, inf_name(ctx, wi),
                              (long long)(w.dims[1].value * group), (long long)w.dims[1].value,
                              (long long)group);
    if (w.rank >= 0 && w.dims[0].value >= 0 && w.dims[0].value % group != 0)
        return ir_infer_error(ctx,
                              "weights '%s' have %lld output channels, not a multiple of "
                              "group %lld",
                              inf_name(ctx, wi), (long long)w.dims[0].value, (long long)group);
    if (bi >= 0 && inf_has(ctx, bi)) {
        ir_shape b;
        inf_shape(ctx, bi, &b);
        if (b.rank >= 0 && b.rank != 1)
            return ir_infer_error(ctx, "bias '%s' must be 1-D, not rank %d", inf_name(ctx, bi),
                                  b.rank);
        if (b.rank == 1 && w.rank >= 0 && b.dims[0].value >= 0 && w.dims[0].value >= 0 &&
            b.dims[0].value != w.dims[0].value)
            return ir_infer_error(ctx, "bias '%s' has %lld entries for %lld output channels",
                                  inf_name(ctx, bi), (long long)b.dims[0].value,
                                  (long long)w.dims[0].value);
    }
    inf_shape_rank(&o, r);
    if (x.rank >= 0)
        o.dims[0] = x.dims[0];
    if (w.rank >= 0)
        o.dims[1] = w.dims[0];
    for (int i = 0; i < n; i++)
        O2P_TRY(
            window_out(ctx, &win, i, x.rank >= 0 ? x.dims[i + 2] : IR_DIM_UNKNOWN, &o.dims[i + 2]));
    return inf_out(ctx, 0, out_t, &o);
}

o2p_status inf_conv(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_same_dtype(ctx, 0, 1));
    return conv_core(ctx, 0, 1, 2, inf_dtype(ctx, 0));
}

o2p_status inf_conv_integer(ir_infer_ctx *ctx)
{
    return conv_core(ctx, 0, 1, -1, O2P_DTYPE_INT32);
}

o2p_status inf_qlinear_conv(ir_infer_ctx *ctx)
{
    o2p_dtype t = inf_dtype(ctx, 7);
    if (t == O2P_DTYPE_UNDEFINED)
        t = inf_dtype(ctx, 0);
    return conv_core(ctx, 0, 3, 8, t);
}

o2p_status inf_conv_transpose(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_same_dtype(ctx, 0, 1));
    ir_shape x, w, o;
    inf_shape(ctx, 0, &x);
    inf_shape(ctx, 1, &w);
    o2p_dtype t = inf_dtype(ctx, 0);
    if (x.rank >= 0 && x.rank < 3)
        return ir_infer_error(ctx, "input '%s' has rank %d; ConvTranspose needs rank 3 or more",
                              inf_name(ctx, 0), x.rank);
    if (x.rank >= 0 && w.rank >= 0 && x.rank != w.rank)
        return ir_infer_error(ctx, "input '%s' has rank %d but weights '%s' have rank %d",
                              inf_name(ctx, 0), x.rank, inf_name(ctx, 1), w.rank);
    int r = x.rank >= 0 ? x.rank : w.rank;
    if (r < 0)
        return inf_out_unknown(ctx, 0, t);
    int n = r - 2;
    int64_t group;
    O2P_TRY(check_group(ctx, &group));
    window win;
    O2P_TRY(read_window(ctx, n, w.rank >= 0 ? &w : NULL, &win));
    if (x.rank >= 0 && w.rank >= 0 && x.dims[1].value >= 0 && w.dims[0].value >= 0 &&
        x.dims[1].value != w.dims[0].value)
        return ir_infer_error(ctx, "input '%s' has %lld channels but weights '%s' have %lld",
                              inf_name(ctx, 0), (long long)x.dims[1].value, inf_name(ctx, 1),
                              (long long)w.dims[0].value);
    int64_t opad[IR_MAX_RANK], oshape[IR_MAX_RANK + 2];
    O2P_TRY(read_list(ctx, "output_padding", n, 0, 0, opad));
    int nos;
    O2P_TRY(inf_attr_ints(ctx, "output_shape", oshape, IR_MAX_RANK + 2, &nos));
    if (nos >= 0 && nos != n && nos != n + 2)
        return ir_infer_error(ctx, "attribute 'output_shape' has %d values for %d spatial axes",
                              nos, n);
    inf_shape_rank(&o, r);
    if (x.rank >= 0)
        o.dims[0] = x.dims[0];
    if (w.rank >= 0)
        O2P_TRY(inf_dim_mul(ctx, w.dims[1], inf_dim(group), &o.dims[1]));
    for (int i = 0; i < n; i++) {
        if (nos >= 0) {
            int64_t v = oshape[nos == n ? i : i + 2];
            if (v < 1)
                return ir_infer_error(ctx, "output_shape has %lld on spatial axis %d", (long long)v,
                                      i);
            /* what the kernel covers, plus less than one stride of implicit output
             * padding (the largest output onnxruntime accepts): more would need negative
             * padding */
            ir_dim din = x.rank >= 0 ? x.dims[i + 2] : IR_DIM_UNKNOWN;
            if (din.value >= 1 && win.kernel_known) {
                int64_t eff = (win.kernel[i] - 1) * win.dilations[i] + 1, natural;
                if (o2p_mul_i64(win.strides[i], din.value - 1, &natural) &&
                    !__builtin_add_overflow(natural, eff + win.strides[i] - 1, &natural) &&
                    v > natural)
                    return ir_infer_error(ctx,
                                          "output_shape asks for %lld on spatial axis %d; the "
                                          "input, strides and kernel give at most %lld",
                                          (long long)v, i, (long long)natural);
            }
            o.dims[i + 2] = inf_dim(v);
            continue;
        }
        ir_dim d = x.rank >= 0 ? x.dims[i + 2] : IR_DIM_UNKNOWN;
        if (d.value < 0)
            continue;
        int64_t s = win.strides[i], v;
        if (win.pad == PAD_SAME_UPPER || win.pad == PAD_SAME_LOWER) {
            /* input x stride, padding the full output; when that would need negative
             * padding (a kernel smaller than the stride) the padding is 0 and the output is
             * what the kernel covers, as onnxruntime and the ONNX shape inference do */
            if (!o2p_mul_i64(d.value, s, &v))
                return ir_infer_error(ctx, "spatial axis %d overflows", i);
            if (win.kernel_known && d.value > 0) {
                int64_t eff = (win.kernel[i] - 1) * win.dilations[i] + 1, natural;
                if (o2p_mul_i64(s, d.value - 1, &natural) &&
                    !__builtin_add_overflow(natural, opad[i] + eff, &natural) && natural < v)
                    v = natural;
            }
        } else {
            if (!win.kernel_known)
                continue;
            int64_t eff = (win.kernel[i] - 1) * win.dilations[i] + 1;
            int64_t pads = win.pad == PAD_VALID ? 0 : win.pads[i] + win.pads[i + n];
            if (!o2p_mul_i64(s, d.value - 1 < 0 ? 0 : d.value - 1, &v) ||
                __builtin_add_overflow(v, opad[i] + eff, &v))
                return ir_infer_error(ctx, "spatial axis %d overflows", i);
            if (d.value == 0)
                v = opad[i] + eff - s; /* s*(d-1) with d = 0 */
            v -= pads;
        }
        if (v < 1)
            return ir_infer_error(ctx, "spatial axis %d of the output would be %lld", i,
                                  (long long)v);
        o.dims[i + 2] = inf_dim(v);
    }
    return inf_out(ctx, 0, t, &o);
}

/* ---------------------------------------------------------------- pooling */

o2p_status inf_pool(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    if (!ir_attr_find(ctx->layer, "kernel_shape"))
        return ir_infer_error(ctx, "attribute 'kernel_shape' is required");
    if (x.rank >= 0 && x.rank < 3)
        return ir_infer_error(ctx,
                              "input '%s' has rank %d; pooling needs N x C x spatial (rank "
                              "3 or more)",
                              inf_name(ctx, 0), x.rank);
    int n = x.rank >= 0 ? x.rank - 2 : -1;
    if (n < 0) {
        int cnt;
        ir_attr_ints(ctx->layer, "kernel_shape", &cnt);
        n = cnt;
        if (n < 1 || n > IR_MAX_RANK - 2) {
            O2P_TRY(inf_out_unknown(ctx, 0, t));
            return inf_out_unknown(ctx, 1, O2P_DTYPE_INT64);
        }
    }
    window win;
    O2P_TRY(read_window(ctx, n, NULL, &win));
    win.empty_ok = 1;
    if (is_op(ctx, "LpPool") && ir_attr_find(ctx->layer, "p") &&
        ir_attr_int(ctx->layer, "p", 2) < 1 && ir_attr_float(ctx->layer, "p", 2.0f) < 1.0f)
        return ir_infer_error(ctx, "p must be 1 or more");
    inf_shape_rank(&o, n + 2);
    if (x.rank >= 0) {
        o.dims[0] = x.dims[0];
        o.dims[1] = x.dims[1];
    }
    for (int i = 0; i < n; i++)
        O2P_TRY(
            window_out(ctx, &win, i, x.rank >= 0 ? x.dims[i + 2] : IR_DIM_UNKNOWN, &o.dims[i + 2]));
    O2P_TRY(inf_out(ctx, 0, t, &o));
    return inf_out(ctx, 1, O2P_DTYPE_INT64, &o); /* MaxPool's Indices */
}

o2p_status inf_global_pool(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    if (x.rank >= 0 && x.rank < 2)
        return ir_infer_error(ctx,
                              "input '%s' has rank %d; it needs N x C x ... (rank 2 or "
                              "more)",
                              inf_name(ctx, 0), x.rank);
    o = x;
    for (int i = 2; i < x.rank; i++)
        o.dims[i] = inf_dim(1);
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
}

/* ---------------------------------------------------------------- normalizations */

/* Input i must be 1-D of size C (X's dim 1) when known. */
static o2p_status check_channels(ir_infer_ctx *ctx, int i, const ir_shape *x)
{
    if (!inf_has(ctx, i))
        return O2P_OK;
    ir_shape s;
    inf_shape(ctx, i, &s);
    if (s.rank != 1)
        return O2P_OK; /* older opsets allow other shapes (BatchNormalization spatial=0) */
    if (x->rank >= 2 && x->dims[1].value >= 0 && s.dims[0].value >= 0 &&
        s.dims[0].value != x->dims[1].value)
        return ir_infer_error(ctx,
                              "input '%s' has %lld entries but input '%s' has %lld "
                              "channels",
                              inf_name(ctx, i), (long long)s.dims[0].value, inf_name(ctx, 0),
                              (long long)x->dims[1].value);
    return O2P_OK;
}

o2p_status inf_batchnorm(ir_infer_ctx *ctx)
{
    ir_shape x;
    inf_shape(ctx, 0, &x);
    for (int i = 1; i < 5; i++)
        O2P_TRY(check_channels(ctx, i, &x));
    O2P_TRY(inf_out(ctx, 0, inf_dtype(ctx, 0), &x));
    int nout = ctx->layer->num_outputs;
    if (ctx->opset >= 14 && nout > 3)
        return ir_infer_error(ctx, "BatchNormalization has at most 3 outputs from opset 14");
    /* running/saved statistics: the shape of the mean input ([C]) */
    ir_shape m;
    inf_shape(ctx, 3, &m);
    if (m.rank < 0 && x.rank >= 2) {
        inf_shape_rank(&m, 1);
        m.dims[0] = x.dims[1];
    }
    for (int i = 1; i < nout; i++) {
        o2p_dtype t = inf_dtype(ctx, i <= 2 ? 3 : 0);
        if (t == O2P_DTYPE_UNDEFINED)
            t = inf_dtype(ctx, 0);
        O2P_TRY(inf_out(ctx, i, t, &m));
    }
    return O2P_OK;
}

o2p_status inf_instancenorm(ir_infer_ctx *ctx)
{
    ir_shape x;
    inf_shape(ctx, 0, &x);
    if (x.rank >= 0 && x.rank < 2)
        return ir_infer_error(ctx, "input '%s' has rank %d; it needs N x C x ...", inf_name(ctx, 0),
                              x.rank);
    O2P_TRY(check_channels(ctx, 1, &x));
    O2P_TRY(check_channels(ctx, 2, &x));
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &x);
}

o2p_status inf_layernorm(ir_infer_ctx *ctx)
{
    ir_shape x, st;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    O2P_TRY(inf_out(ctx, 0, t, &x));
    int64_t stash = ir_attr_int(ctx->layer, "stash_type", 1);
    if (stash <= 0 || stash > O2P_DTYPE_BFLOAT16)
        return ir_infer_error(ctx, "stash_type %lld is not an element type", (long long)stash);
    if (x.rank < 0) {
        O2P_TRY(inf_out_unknown(ctx, 1, (o2p_dtype)stash));
        return inf_out_unknown(ctx, 2, (o2p_dtype)stash);
    }
    int ax;
    O2P_TRY(inf_axis(ctx, ir_attr_int(ctx->layer, "axis", -1), x.rank, inf_name(ctx, 0), &ax));
    st = x;
    for (int i = ax; i < x.rank; i++)
        st.dims[i] = inf_dim(1);
    O2P_TRY(inf_out(ctx, 1, (o2p_dtype)stash, &st));
    return inf_out(ctx, 2, (o2p_dtype)stash, &st);
}

o2p_status inf_groupnorm(ir_infer_ctx *ctx)
{
    ir_shape x;
    inf_shape(ctx, 0, &x);
    const ir_attr *g = ir_attr_find(ctx->layer, "num_groups");
    if (!g || g->type != O2P_ATTR_INT || g->i < 1)
        return ir_infer_error(ctx, "attribute 'num_groups' is required and must be 1 or more");
    if (x.rank >= 0 && x.rank < 2)
        return ir_infer_error(ctx, "input '%s' has rank %d; it needs N x C x ...", inf_name(ctx, 0),
                              x.rank);
    if (x.rank >= 2 && x.dims[1].value >= 0 && x.dims[1].value % g->i != 0)
        return ir_infer_error(ctx, "%lld channels do not divide into %lld groups",
                              (long long)x.dims[1].value, (long long)g->i);
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &x);
}

/* LpNormalization, MeanVarianceNormalization, LRN: the input's shape. */
o2p_status inf_norm_same(ir_infer_ctx *ctx)
{
    ir_shape x;
    inf_shape(ctx, 0, &x);
    if (is_op(ctx, "LpNormalization")) {
        int64_t p = ir_attr_int(ctx->layer, "p", 2);
        if (p != 1 && p != 2)
            return ir_infer_error(ctx, "p is %lld; it must be 1 or 2", (long long)p);
        if (x.rank >= 0) {
            int ax;
            O2P_TRY(
                inf_axis(ctx, ir_attr_int(ctx->layer, "axis", -1), x.rank, inf_name(ctx, 0), &ax));
        }
    } else if (is_op(ctx, "LRN")) {
        const ir_attr *s = ir_attr_find(ctx->layer, "size");
        if (!s || s->type != O2P_ATTR_INT || s->i < 1)
            return ir_infer_error(ctx, "attribute 'size' is required and must be 1 or more");
    } else if (x.rank >= 0) {
        int64_t axes[IR_MAX_RANK];
        int n;
        O2P_TRY(inf_attr_ints(ctx, "axes", axes, IR_MAX_RANK, &n));
        for (int i = 0; i < n; i++) {
            int ax;
            O2P_TRY(inf_axis(ctx, axes[i], x.rank, inf_name(ctx, 0), &ax));
        }
    }
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &x);
}

o2p_status inf_dropout(ir_infer_ctx *ctx)
{
    ir_shape x;
    inf_shape(ctx, 0, &x);
    if (ctx->opset >= 12) {
        int r = inf_rank(ctx, 1);
        if (r > 0)
            return ir_infer_error(ctx, "ratio '%s' must be a scalar", inf_name(ctx, 1));
        r = inf_rank(ctx, 2);
        if (r > 0)
            return ir_infer_error(ctx, "training_mode '%s' must be a scalar", inf_name(ctx, 2));
    }
    O2P_TRY(inf_out(ctx, 0, inf_dtype(ctx, 0), &x));
    return inf_out(ctx, 1, ctx->opset >= 10 ? O2P_DTYPE_BOOL : inf_dtype(ctx, 0), &x);
}

/* ---------------------------------------------------------------- Gemm, MatMul */

o2p_status inf_gemm(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_same_dtype(ctx, 0, 1));
    ir_shape a, b, o;
    inf_shape(ctx, 0, &a);
    inf_shape(ctx, 1, &b);
    o2p_dtype t = inf_dtype(ctx, 0);
    O2P_TRY(inf_need_rank(ctx, 0, 2));
    O2P_TRY(inf_need_rank(ctx, 1, 2));
    int ta = ir_attr_int(ctx->layer, "transA", 0) != 0;
    int tb = ir_attr_int(ctx->layer, "transB", 0) != 0;
    inf_shape_rank(&o, 2);
    ir_dim ka = IR_DIM_UNKNOWN, kb = IR_DIM_UNKNOWN;
    if (a.rank == 2) {
        o.dims[0] = a.dims[ta ? 1 : 0];
        ka = a.dims[ta ? 0 : 1];
    }
    if (b.rank == 2) {
        o.dims[1] = b.dims[tb ? 0 : 1];
        kb = b.dims[tb ? 1 : 0];
    }
    if (ka.value >= 0 && kb.value >= 0 && ka.value != kb.value)
        return ir_infer_error(ctx,
                              "inner dimensions differ: A '%s' has K = %lld, B '%s' has K = "
                              "%lld",
                              inf_name(ctx, 0), (long long)ka.value, inf_name(ctx, 1),
                              (long long)kb.value);
    if (inf_has(ctx, 2)) {
        O2P_TRY(inf_same_dtype(ctx, 0, 2));
        ir_shape c, r;
        inf_shape(ctx, 2, &c);
        if (c.rank > 2)
            return ir_infer_error(ctx, "C '%s' has rank %d; it must broadcast to M x N",
                                  inf_name(ctx, 2), c.rank);
        if (ctx->opset >= 7 || ir_attr_int(ctx->layer, "broadcast", 0)) {
            O2P_TRY(ir_broadcast(ctx, &o, &c, &r));
            for (int i = 0; r.rank == 2 && i < 2; i++)
                if (o.dims[i].value >= 0 && r.dims[i].value >= 0 &&
                    o.dims[i].value != r.dims[i].value)
                    return ir_infer_error(ctx, "C '%s' does not broadcast to the output",
                                          inf_name(ctx, 2));
            /* C may tell an unknown M or N only when it is not 1 there */
            for (int i = 0; r.rank == 2 && i < 2; i++)
                if (o.dims[i].value < 0 && r.dims[i].value > 1)
                    o.dims[i] = r.dims[i];
        } else if (c.rank == 2) {
            O2P_TRY(inf_merge_shapes(ctx, &o, &c, "the output", inf_name(ctx, 2)));
        }
    }
    return inf_out(ctx, 0, t, &o);
}

static o2p_status matmul_core(ir_infer_ctx *ctx, int ia, int ib, o2p_dtype t)
{
    ir_shape a, b, o;
    inf_shape(ctx, ia, &a);
    inf_shape(ctx, ib, &b);
    if (a.rank == 0 || b.rank == 0)
        return ir_infer_error(ctx, "MatMul inputs must have rank 1 or more ('%s' is a scalar)",
                              inf_name(ctx, a.rank == 0 ? ia : ib));
    if (a.rank < 0 || b.rank < 0)
        return inf_out_unknown(ctx, 0, t);
    /* 1-D operands are promoted: a to [1, K], b to [K, 1], and those dims dropped after */
    ir_shape pa = a, pb = b;
    if (a.rank == 1) {
        pa.rank = 2;
        pa.dims[0] = inf_dim(1);
        pa.dims[1] = a.dims[0];
    }
    if (b.rank == 1) {
        pb.rank = 2;
        pb.dims[0] = b.dims[0];
        pb.dims[1] = inf_dim(1);
    }
    ir_dim ka = pa.dims[pa.rank - 1], kb = pb.dims[pb.rank - 2];
    if (ka.value >= 0 && kb.value >= 0 && ka.value != kb.value)
        return ir_infer_error(ctx,
                              "inner dimensions differ: '%s' has %lld columns, '%s' has "
                              "%lld rows",
                              inf_name(ctx, ia), (long long)ka.value, inf_name(ctx, ib),
                              (long long)kb.value);
    ir_shape ba, bb, batch;
    inf_shape_rank(&ba, pa.rank - 2);
    inf_shape_rank(&bb, pb.rank - 2);
    memcpy(ba.dims, pa.dims, (size_t)ba.rank * sizeof ba.dims[0]);
    memcpy(bb.dims, pb.dims, (size_t)bb.rank * sizeof bb.dims[0]);
    O2P_TRY(ir_broadcast(ctx, &ba, &bb, &batch));
    o = batch;
    if (a.rank != 1)
        o.dims[o.rank++] = pa.dims[pa.rank - 2];
    if (b.rank != 1)
        o.dims[o.rank++] = pb.dims[pb.rank - 1];
    return inf_out(ctx, 0, t, &o);
}

o2p_status inf_matmul(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_same_dtype(ctx, 0, 1));
    return matmul_core(ctx, 0, 1, inf_dtype(ctx, 0));
}

o2p_status inf_matmul_integer(ir_infer_ctx *ctx)
{
    return matmul_core(ctx, 0, 1, O2P_DTYPE_INT32);
}

o2p_status inf_qlinear_matmul(ir_infer_ctx *ctx)
{
    o2p_dtype t = inf_dtype(ctx, 7);
    if (t == O2P_DTYPE_UNDEFINED)
        t = inf_dtype(ctx, 0);
    return matmul_core(ctx, 0, 3, t);
}

/* ---------------------------------------------------------------- quantization */

/* Scale (and zero point) are scalars, or 1-D along `axis` (opset 13). */
static o2p_status check_qparams(ir_infer_ctx *ctx, int si, int zi)
{
    ir_shape x, s;
    inf_shape(ctx, 0, &x);
    inf_shape(ctx, si, &s);
    if (s.rank > 1 && ctx->opset < 19)
        return ir_infer_error(ctx, "scale '%s' must be a scalar or 1-D, not rank %d",
                              inf_name(ctx, si), s.rank);
    if (s.rank == 1 && x.rank >= 0 && s.dims[0].value != 1) {
        int ax;
        if (x.rank == 0)
            return ir_infer_error(ctx, "a per-axis scale needs an input of rank 1 or more");
        O2P_TRY(inf_axis(ctx, ir_attr_int(ctx->layer, "axis", 1), x.rank, inf_name(ctx, 0), &ax));
        if (s.dims[0].value >= 0 && x.dims[ax].value >= 0 && s.dims[0].value != x.dims[ax].value)
            return ir_infer_error(ctx,
                                  "scale '%s' has %lld entries but axis %d of input '%s' "
                                  "has %lld",
                                  inf_name(ctx, si), (long long)s.dims[0].value, ax,
                                  inf_name(ctx, 0), (long long)x.dims[ax].value);
    }
    if (zi >= 0 && inf_has(ctx, zi)) {
        ir_shape z;
        inf_shape(ctx, zi, &z);
        if (z.rank >= 0 && s.rank >= 0 && z.rank != s.rank)
            return ir_infer_error(ctx, "zero point '%s' and scale '%s' have different ranks",
                                  inf_name(ctx, zi), inf_name(ctx, si));
    }
    return O2P_OK;
}

o2p_status inf_quantize(ir_infer_ctx *ctx)
{
    O2P_TRY(check_qparams(ctx, 1, 2));
    /* the zero point's type, uint8 without one */
    o2p_dtype t = inf_has(ctx, 2) ? inf_dtype(ctx, 2) : O2P_DTYPE_UINT8;
    ir_shape x;
    inf_shape(ctx, 0, &x);
    return inf_out(ctx, 0, t, &x);
}

o2p_status inf_dequantize(ir_infer_ctx *ctx)
{
    O2P_TRY(check_qparams(ctx, 1, 2));
    if (inf_has(ctx, 2))
        O2P_TRY(inf_same_dtype(ctx, 0, 2));
    o2p_dtype t = inf_dtype(ctx, 1);
    if (t == O2P_DTYPE_UNDEFINED)
        t = O2P_DTYPE_FLOAT;
    ir_shape x;
    inf_shape(ctx, 0, &x);
    return inf_out(ctx, 0, t, &x);
}

o2p_status inf_dynamic_quantize(ir_infer_ctx *ctx)
{
    ir_shape x, scalar;
    inf_shape(ctx, 0, &x);
    inf_shape_rank(&scalar, 0);
    O2P_TRY(inf_out(ctx, 0, O2P_DTYPE_UINT8, &x));
    O2P_TRY(inf_out(ctx, 1, O2P_DTYPE_FLOAT, &scalar));
    return inf_out(ctx, 2, O2P_DTYPE_UINT8, &scalar);
}

/* ---------------------------------------------------------------- softmax */

/* Softmax, LogSoftmax, Hardmax: opsets before 13 flatten at `axis` (default 1), later ones
 * work along `axis` (default -1); the shape stays either way. */
o2p_status inf_softmax(ir_infer_ctx *ctx)
{
    ir_shape x;
    inf_shape(ctx, 0, &x);
    int64_t axis = ir_attr_int(ctx->layer, "axis", ctx->opset >= 13 ? -1 : 1);
    if (x.rank >= 0) {
        int ax;
        if (ctx->opset < 13 && axis == x.rank && x.rank > 0)
            axis = x.rank - 1; /* axis == rank flattens to [N, 1] in the old form */
        if (x.rank > 0 || axis != 0)
            O2P_TRY(inf_axis(ctx, axis, x.rank, inf_name(ctx, 0), &ax));
    }
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &x);
}

/* ---------------------------------------------------------------- recurrent layers */

o2p_status inf_rnn(ir_infer_ctx *ctx)
{
    int gates = is_op(ctx, "LSTM") ? 4 : is_op(ctx, "GRU") ? 3 : 1;
    ir_shape x, w, r;
    inf_shape(ctx, 0, &x);
    inf_shape(ctx, 1, &w);
    inf_shape(ctx, 2, &r);
    o2p_dtype t = inf_dtype(ctx, 0);
    O2P_TRY(inf_same_dtype(ctx, 0, 1));
    O2P_TRY(inf_same_dtype(ctx, 0, 2));
    O2P_TRY(inf_need_rank(ctx, 0, 3));
    O2P_TRY(inf_need_rank(ctx, 1, 3));
    O2P_TRY(inf_need_rank(ctx, 2, 3));
    const char *dir = ir_attr_string(ctx->layer, "direction", "forward");
    int64_t num_dir;
    if (strcmp(dir, "forward") == 0 || strcmp(dir, "reverse") == 0)
        num_dir = 1;
    else if (strcmp(dir, "bidirectional") == 0)
        num_dir = 2;
    else
        return ir_infer_error(ctx, "direction '%s' is not forward, reverse or bidirectional", dir);
    int64_t layout = ctx->opset >= 14 ? ir_attr_int(ctx->layer, "layout", 0) : 0;
    if (layout != 0 && layout != 1)
        return ir_infer_error(ctx, "layout %lld must be 0 or 1", (long long)layout);
    ir_dim hidden = IR_DIM_UNKNOWN;
    const ir_attr *hs = ir_attr_find(ctx->layer, "hidden_size");
    if (hs && hs->type == O2P_ATTR_INT) {
        if (hs->i < 1)
            return ir_infer_error(ctx, "hidden_size %lld must be 1 or more", (long long)hs->i);
        hidden = inf_dim(hs->i);
    } else if (r.rank == 3 && r.dims[2].value >= 0) {
        hidden = r.dims[2];
    } else if (w.rank == 3 && w.dims[1].value >= 0) {
        if (w.dims[1].value % gates != 0)
            return ir_infer_error(ctx, "weights '%s' have %lld rows, not a multiple of %d gates",
                                  inf_name(ctx, 1), (long long)w.dims[1].value, gates);
        hidden = inf_dim(w.dims[1].value / gates);
    }
    if (w.rank == 3 && w.dims[0].value >= 0 && w.dims[0].value != num_dir)
        return ir_infer_error(ctx,
                              "weights '%s' are for %lld directions; direction '%s' has "
                              "%lld",
                              inf_name(ctx, 1), (long long)w.dims[0].value, dir,
                              (long long)num_dir);
    if (w.rank == 3 && hidden.value >= 0 && w.dims[1].value >= 0 &&
        w.dims[1].value != gates * hidden.value)
        return ir_infer_error(ctx,
                              "weights '%s' have %lld rows; %d gates x hidden size %lld "
                              "need %lld",
                              inf_name(ctx, 1), (long long)w.dims[1].value, gates,
                              (long long)hidden.value, (long long)(gates * hidden.value));
    ir_dim seq = IR_DIM_UNKNOWN, batch = IR_DIM_UNKNOWN;
    if (x.rank == 3) {
        seq = x.dims[layout ? 1 : 0];
        batch = x.dims[layout ? 0 : 1];
    }
    ir_shape y, yh;
    inf_shape_rank(&y, 4);
    inf_shape_rank(&yh, 3);
    if (layout == 0) {
        y.dims[0] = seq;
        y.dims[1] = inf_dim(num_dir);
        y.dims[2] = batch;
        yh.dims[0] = inf_dim(num_dir);
        yh.dims[1] = batch;
    } else {
        y.dims[0] = batch;
        y.dims[1] = seq;
        y.dims[2] = inf_dim(num_dir);
        yh.dims[0] = batch;
        yh.dims[1] = inf_dim(num_dir);
    }
    y.dims[3] = hidden;
    yh.dims[2] = hidden;
    O2P_TRY(inf_out(ctx, 0, t, &y));
    O2P_TRY(inf_out(ctx, 1, t, &yh));
    return inf_out(ctx, 2, t, &yh);
}

/* ---------------------------------------------------------------- ROI, detection, sampling */

o2p_status inf_roi_align(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_need_rank(ctx, 0, 4));
    O2P_TRY(inf_need_rank(ctx, 1, 2));
    O2P_TRY(inf_need_rank(ctx, 2, 1));
    const char *mode = ir_attr_string(ctx->layer, "mode", "avg");
    if (strcmp(mode, "avg") != 0 && strcmp(mode, "max") != 0)
        return ir_infer_error(ctx, "mode '%s' is not avg or max", mode);
    int64_t oh = ir_attr_int(ctx->layer, "output_height", 1);
    int64_t ow = ir_attr_int(ctx->layer, "output_width", 1);
    if (oh < 1 || ow < 1)
        return ir_infer_error(ctx, "output_height and output_width must be 1 or more");
    ir_shape x, rois, bi, o;
    inf_shape(ctx, 0, &x);
    inf_shape(ctx, 1, &rois);
    inf_shape(ctx, 2, &bi);
    if (rois.rank == 2 && rois.dims[1].value >= 0 && rois.dims[1].value != 4)
        return ir_infer_error(ctx, "rois '%s' must be num_rois x 4", inf_name(ctx, 1));
    inf_shape_rank(&o, 4);
    if (rois.rank == 2)
        o.dims[0] = rois.dims[0];
    if (o.dims[0].value < 0 && bi.rank == 1)
        o.dims[0] = bi.dims[0];
    if (x.rank == 4)
        o.dims[1] = x.dims[1];
    o.dims[2] = inf_dim(oh);
    o.dims[3] = inf_dim(ow);
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
}

o2p_status inf_max_roi_pool(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_need_rank(ctx, 0, 4));
    O2P_TRY(inf_need_rank(ctx, 1, 2));
    int64_t ps[2];
    int n;
    O2P_TRY(inf_attr_ints(ctx, "pooled_shape", ps, 2, &n));
    if (n != 2 || ps[0] < 1 || ps[1] < 1)
        return ir_infer_error(ctx, "attribute 'pooled_shape' is required: two sizes of 1 or "
                                   "more");
    ir_shape x, rois, o;
    inf_shape(ctx, 0, &x);
    inf_shape(ctx, 1, &rois);
    inf_shape_rank(&o, 4);
    if (rois.rank == 2)
        o.dims[0] = rois.dims[0];
    if (x.rank == 4)
        o.dims[1] = x.dims[1];
    o.dims[2] = inf_dim(ps[0]);
    o.dims[3] = inf_dim(ps[1]);
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
}

o2p_status inf_max_unpool(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    if (x.rank >= 0 && x.rank < 3)
        return ir_infer_error(ctx, "input '%s' has rank %d; MaxUnpool needs rank 3 or more",
                              inf_name(ctx, 0), x.rank);
    if (!ir_attr_find(ctx->layer, "kernel_shape"))
        return ir_infer_error(ctx, "attribute 'kernel_shape' is required");
    if (inf_has(ctx, 2)) {
        ir_values v;
        O2P_TRY(inf_need_list(ctx, 2, "output_shape"));
        int64_t len = inf_len1d(ctx, 2);
        if (x.rank >= 0 && len >= 0 && len != x.rank)
            return ir_infer_error(ctx, "output_shape '%s' has %lld entries for a rank %d input",
                                  inf_name(ctx, 2), (long long)len, x.rank);
        if (inf_values(ctx, 2, &v) && v.count <= IR_MAX_RANK) {
            inf_shape_rank(&o, v.count);
            for (int i = 0; i < v.count; i++)
                o.dims[i] = inf_dim_from_value(&v.e[i]);
        } else if (len >= 0 && len <= IR_MAX_RANK) {
            inf_shape_rank(&o, (int)len);
        } else {
            ir_shape_unknown(&o);
        }
        return inf_out(ctx, 0, t, &o);
    }
    if (x.rank < 0)
        return inf_out_unknown(ctx, 0, t);
    int n = x.rank - 2;
    window win;
    O2P_TRY(read_window(ctx, n, NULL, &win));
    o = x;
    for (int i = 0; i < n; i++) {
        ir_dim d = x.dims[i + 2];
        if (d.value < 0) {
            o.dims[i + 2] = IR_DIM_UNKNOWN;
            continue;
        }
        int64_t v;
        if (!o2p_mul_i64(d.value - 1 < 0 ? 0 : d.value - 1, win.strides[i], &v))
            return ir_infer_error(ctx, "spatial axis %d overflows", i);
        v += win.kernel[i] - win.pads[i] - win.pads[i + n];
        if (v < 1)
            return ir_infer_error(ctx, "spatial axis %d of the output would be %lld", i,
                                  (long long)v);
        o.dims[i + 2] = inf_dim(v);
    }
    return inf_out(ctx, 0, t, &o);
}

o2p_status inf_nms(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_need_rank(ctx, 0, 3));
    O2P_TRY(inf_need_rank(ctx, 1, 3));
    int64_t cpb = ir_attr_int(ctx->layer, "center_point_box", 0);
    if (cpb != 0 && cpb != 1)
        return ir_infer_error(ctx, "center_point_box %lld must be 0 or 1", (long long)cpb);
    ir_shape b, s;
    inf_shape(ctx, 0, &b);
    inf_shape(ctx, 1, &s);
    if (b.rank == 3 && b.dims[2].value >= 0 && b.dims[2].value != 4)
        return ir_infer_error(ctx, "boxes '%s' must be batch x boxes x 4", inf_name(ctx, 0));
    int64_t nb = b.rank == 3 ? b.dims[0].value : -1, n = b.rank == 3 ? b.dims[1].value : -1;
    int64_t nc = s.rank == 3 ? s.dims[1].value : -1;
    if (s.rank == 3 && ((nb >= 0 && s.dims[0].value >= 0 && s.dims[0].value != nb) ||
                        (n >= 0 && s.dims[2].value >= 0 && s.dims[2].value != n)))
        return ir_infer_error(ctx, "scores '%s' must be batch x classes x boxes of boxes '%s'",
                              inf_name(ctx, 1), inf_name(ctx, 0));
    /* The selected count is data-dependent: at most batches * classes * the per-class limit
     * (max_output_boxes_per_class when known, capped at the box count; omitted selects none). */
    int64_t per = -1, limit;
    if (!inf_has(ctx, 2))
        per = 0;
    else if (inf_int_scalar(ctx, 2, &limit))
        per = limit < 0 ? 0 : limit;
    if (n >= 0 && (per < 0 || per > n))
        per = n;
    ir_shape o;
    inf_shape_rank(&o, 2);
    o.dims[1] = inf_dim(3);
    int64_t bound;
    if (per == 0 || nb == 0 || nc == 0)
        o.dims[0] = inf_dim(0);
    else if (per > 0 && nb > 0 && nc > 0 && o2p_mul_i64(nb, nc, &bound) &&
             o2p_mul_i64(bound, per, &bound))
        o.dims[0].bound = bound;
    return inf_out(ctx, 0, O2P_DTYPE_INT64, &o);
}

o2p_status inf_grid_sample(ir_infer_ctx *ctx)
{
    ir_shape x, g, o;
    inf_shape(ctx, 0, &x);
    inf_shape(ctx, 1, &g);
    o2p_dtype t = inf_dtype(ctx, 0);
    const char *mode = ir_attr_string(ctx->layer, "mode", "bilinear");
    if (strcmp(mode, "bilinear") != 0 && strcmp(mode, "nearest") != 0 &&
        strcmp(mode, "bicubic") != 0 && strcmp(mode, "linear") != 0 && strcmp(mode, "cubic") != 0)
        return ir_infer_error(ctx, "mode '%s' is not bilinear, nearest or bicubic", mode);
    const char *pm = ir_attr_string(ctx->layer, "padding_mode", "zeros");
    if (strcmp(pm, "zeros") != 0 && strcmp(pm, "border") != 0 && strcmp(pm, "reflection") != 0)
        return ir_infer_error(ctx, "padding_mode '%s' is not zeros, border or reflection", pm);
    if (x.rank >= 0 && x.rank < 3)
        return ir_infer_error(ctx, "input '%s' has rank %d; GridSample needs N x C x spatial",
                              inf_name(ctx, 0), x.rank);
    if (g.rank >= 0 && g.rank < 3)
        return ir_infer_error(ctx, "grid '%s' has rank %d; GridSample needs N x spatial x %d",
                              inf_name(ctx, 1), g.rank, g.rank - 2);
    if (x.rank >= 0 && g.rank >= 0 && x.rank != g.rank)
        return ir_infer_error(ctx, "grid '%s' has rank %d; it must have the input's rank %d",
                              inf_name(ctx, 1), g.rank, x.rank);
    int r = x.rank >= 0 ? x.rank : g.rank;
    if (r < 0)
        return inf_out_unknown(ctx, 0, t);
    if (g.rank >= 0 && g.dims[r - 1].value >= 0 && g.dims[r - 1].value != r - 2)
        return ir_infer_error(ctx, "the last dim of grid '%s' is %lld; it must be %d",
                              inf_name(ctx, 1), (long long)g.dims[r - 1].value, r - 2);
    inf_shape_rank(&o, r);
    if (x.rank >= 0) {
        o.dims[0] = x.dims[0];
        o.dims[1] = x.dims[1];
    }
    if (g.rank >= 0) {
        if (o.dims[0].value < 0)
            o.dims[0] = g.dims[0];
        for (int i = 2; i < r; i++)
            o.dims[i] = g.dims[i - 1];
    }
    return inf_out(ctx, 0, t, &o);
}

o2p_status inf_col2im(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    O2P_TRY(inf_need_rank(ctx, 0, 3));
    int64_t img[IR_MAX_RANK], blk[IR_MAX_RANK];
    int ni = -1, nb = -1;
    O2P_TRY(inf_need_list(ctx, 1, "image_shape"));
    O2P_TRY(inf_need_list(ctx, 2, "block_shape"));
    int64_t li = inf_len1d(ctx, 1), lb = inf_len1d(ctx, 2);
    if (li > IR_MAX_RANK - 2 || lb > IR_MAX_RANK - 2)
        return ir_infer_error(ctx, "image_shape and block_shape may have at most %d entries",
                              IR_MAX_RANK - 2);
    if (li >= 0 && lb >= 0 && li != lb)
        return ir_infer_error(ctx, "image_shape has %lld entries but block_shape has %lld",
                              (long long)li, (long long)lb);
    int have_i = inf_ints(ctx, 1, img, IR_MAX_RANK, &ni);
    int have_b = inf_ints(ctx, 2, blk, IR_MAX_RANK, &nb);
    int n = have_i ? ni : have_b ? nb : (int)li;
    if (n < 0) {
        ir_shape_unknown(&o);
        return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
    }
    inf_shape_rank(&o, n + 2);
    if (x.rank == 3)
        o.dims[0] = x.dims[0];
    for (int i = 0; have_i && i < n; i++) {
        if (img[i] < 1)
            return ir_infer_error(ctx, "image_shape has %lld", (long long)img[i]);
        o.dims[i + 2] = inf_dim(img[i]);
    }
    if (have_b && x.rank == 3 && x.dims[1].value >= 0) {
        int64_t p = 1;
        for (int i = 0; i < nb; i++) {
            if (blk[i] < 1)
                return ir_infer_error(ctx, "block_shape has %lld", (long long)blk[i]);
            if (!o2p_mul_i64(p, blk[i], &p))
                return ir_infer_error(ctx, "block_shape overflows");
        }
        if (x.dims[1].value % p != 0)
            return ir_infer_error(ctx,
                                  "dim 1 of input '%s' (%lld) is not a multiple of the block "
                                  "size %lld",
                                  inf_name(ctx, 0), (long long)x.dims[1].value, (long long)p);
        o.dims[1] = inf_dim(x.dims[1].value / p);
    }
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
}

o2p_status inf_det(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    O2P_TRY(inf_need_min_rank(ctx, 0, 2));
    if (x.rank < 0)
        return inf_out(ctx, 0, inf_dtype(ctx, 0), &x);
    ir_dim a = x.dims[x.rank - 2], b = x.dims[x.rank - 1];
    if (a.value >= 0 && b.value >= 0 && a.value != b.value)
        return ir_infer_error(ctx, "input '%s' holds %lldx%lld matrices; Det needs square ones",
                              inf_name(ctx, 0), (long long)a.value, (long long)b.value);
    o = x;
    o.rank -= 2;
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
}

/* ---------------------------------------------------------------- losses */

static o2p_status loss_reduction(ir_infer_ctx *ctx, int *none)
{
    const char *r = ir_attr_string(ctx->layer, "reduction", "mean");
    if (strcmp(r, "none") != 0 && strcmp(r, "mean") != 0 && strcmp(r, "sum") != 0)
        return ir_infer_error(ctx, "reduction '%s' is not none, mean or sum", r);
    *none = strcmp(r, "none") == 0;
    return O2P_OK;
}

/* input [N, C, d1..dk], target [N, d1..dk]. */
static o2p_status loss_shapes(ir_infer_ctx *ctx, ir_shape *target)
{
    ir_shape x;
    inf_shape(ctx, 0, &x);
    inf_shape(ctx, 1, target);
    if (x.rank >= 0 && x.rank < 2)
        return ir_infer_error(ctx, "input '%s' has rank %d; it needs N x C x ...", inf_name(ctx, 0),
                              x.rank);
    if (x.rank >= 0 && target->rank >= 0 && target->rank != x.rank - 1)
        return ir_infer_error(ctx,
                              "target '%s' has rank %d; it needs rank %d (the input's "
                              "less the class axis)",
                              inf_name(ctx, 1), target->rank, x.rank - 1);
    if (target->rank < 0 && x.rank >= 2) {
        inf_shape_rank(target, x.rank - 1);
        target->dims[0] = x.dims[0];
        for (int i = 2; i < x.rank; i++)
            target->dims[i - 1] = x.dims[i];
    }
    return O2P_OK;
}

o2p_status inf_nll_loss(ir_infer_ctx *ctx)
{
    int none;
    ir_shape target, o;
    O2P_TRY(loss_reduction(ctx, &none));
    O2P_TRY(loss_shapes(ctx, &target));
    if (none)
        o = target;
    else
        inf_shape_rank(&o, 0);
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
}

o2p_status inf_sce_loss(ir_infer_ctx *ctx)
{
    int none;
    ir_shape target, o, x;
    O2P_TRY(loss_reduction(ctx, &none));
    O2P_TRY(loss_shapes(ctx, &target));
    if (none)
        o = target;
    else
        inf_shape_rank(&o, 0);
    O2P_TRY(inf_out(ctx, 0, inf_dtype(ctx, 0), &o));
    inf_shape(ctx, 0, &x);
    return inf_out(ctx, 1, inf_dtype(ctx, 0), &x);
}
