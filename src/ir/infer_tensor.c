/* infer_tensor.c: shape inference of the operators that move, select and make tensors:
 * Shape, Reshape and friends, Concat/Split/Slice/Gather/Scatter, Expand/Tile/Pad, Resize,
 * TopK/ArgMax/reductions, and generators (ConstantOfShape, Range, Random*). The ones that
 * exporters use for shape arithmetic also compute known values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/infer_ops.h"

static int is_op(const ir_infer_ctx *ctx, const char *name)
{
    return strcmp(ctx->layer->op_type, name) == 0;
}

static int values_dtype(o2p_dtype t)
{
    return ir_dtype_is_int(t) || t == O2P_DTYPE_BOOL;
}

/* Output 0 gets the input's values in the same row-major order (Reshape, Flatten,
 * Squeeze, Unsqueeze), when the output shape is static with as many elements. */
static o2p_status pass_values(ir_infer_ctx *ctx, int in, const ir_shape *out)
{
    ir_values v;
    if (!inf_values(ctx, in, &v))
        return O2P_OK;
    return inf_out_values(ctx, 0, out, &v);
}


/* Reads axes given as an attribute (attr_name, when ctx->opset < input_from) or as input
 * `input`. *state: 1 known (axes, *n), 0 absent, -1 present but unknown (then *n is their
 * count when known, else -1). */
static o2p_status read_axes(ir_infer_ctx *ctx, const char *attr_name, int input, int64_t input_from,
                            int64_t *axes, int *n, int *state)
{
    if (ctx->opset < input_from) {
        int cnt;
        O2P_TRY(inf_attr_ints(ctx, attr_name, axes, IR_MAX_RANK, &cnt));
        *state = cnt >= 0 ? 1 : 0;
        *n = cnt < 0 ? 0 : cnt;
        return O2P_OK;
    }
    if (!inf_has(ctx, input)) {
        *state = 0;
        *n = 0;
        return O2P_OK;
    }
    O2P_TRY(inf_need_list(ctx, input, attr_name));
    int64_t len = inf_len1d(ctx, input);
    if (len > IR_MAX_RANK)
        return ir_infer_error(ctx, "input '%s' lists %lld axes; at most %d are allowed",
                              inf_name(ctx, input), (long long)len, IR_MAX_RANK);
    if (inf_ints(ctx, input, axes, IR_MAX_RANK, n)) {
        *state = 1;
        return O2P_OK;
    }
    *state = -1;
    *n = (int)len;
    return O2P_OK;
}

/* Normalizes a list of axes for `rank`, rejecting out-of-range and repeated ones. */
static o2p_status norm_axes(ir_infer_ctx *ctx, const int64_t *axes, int n, int rank,
                            const char *what, int *out)
{
    for (int i = 0; i < n; i++) {
        O2P_TRY(inf_axis(ctx, axes[i], rank, what, &out[i]));
        for (int j = 0; j < i; j++)
            if (out[j] == out[i])
                return ir_infer_error(ctx, "axis %d appears twice in the axes of input '%s'",
                                      out[i], what);
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- constants and shapes */

static o2p_status const_values_out(ir_infer_ctx *ctx, const ir_tensor *t)
{
    if (!values_dtype(t->dtype))
        return O2P_OK;
    int64_t n = ir_tensor_numel_const(t);
    if (n < 0 || n > IR_MAX_VALUES || inf_small_numel(&t->shape) != n)
        return O2P_OK;
    ir_values v;
    memset(&v, 0, sizeof v);
    v.count = (int)n;
    for (int64_t k = 0; k < n; k++)
        v.e[k].known = ir_const_get_i64(t, k, &v.e[k].value);
    return inf_out_values(ctx, 0, &t->shape, &v);
}

o2p_status inf_constant(ir_infer_ctx *ctx)
{
    const ir_layer *l = ctx->layer;
    const ir_attr *a;
    ir_shape s;
    if ((a = ir_attr_find(l, "value")) && a->type == O2P_ATTR_TENSOR && a->tensors &&
        a->tensors[0]) {
        const ir_tensor *t = a->tensors[0];
        O2P_TRY(inf_out(ctx, 0, t->dtype, &t->shape));
        return const_values_out(ctx, t);
    }
    ir_values v;
    memset(&v, 0, sizeof v);
    if ((a = ir_attr_find(l, "value_float")) && a->type == O2P_ATTR_FLOAT) {
        inf_shape_rank(&s, 0);
        return inf_out(ctx, 0, O2P_DTYPE_FLOAT, &s);
    }
    if ((a = ir_attr_find(l, "value_floats")) && a->type == O2P_ATTR_FLOATS) {
        inf_shape_rank(&s, 1);
        s.dims[0] = inf_dim(a->count);
        return inf_out(ctx, 0, O2P_DTYPE_FLOAT, &s);
    }
    if ((a = ir_attr_find(l, "value_int")) && a->type == O2P_ATTR_INT) {
        inf_shape_rank(&s, 0);
        O2P_TRY(inf_out(ctx, 0, O2P_DTYPE_INT64, &s));
        v.count = 1;
        v.e[0].known = 1;
        v.e[0].value = a->i;
        return ir_set_output_values(ctx, 0, &v);
    }
    if ((a = ir_attr_find(l, "value_ints")) && a->type == O2P_ATTR_INTS) {
        inf_shape_rank(&s, 1);
        s.dims[0] = inf_dim(a->count);
        O2P_TRY(inf_out(ctx, 0, O2P_DTYPE_INT64, &s));
        if (a->count > IR_MAX_VALUES)
            return O2P_OK;
        v.count = a->count;
        for (int k = 0; k < a->count; k++) {
            v.e[k].known = 1;
            v.e[k].value = a->ints[k];
        }
        return ir_set_output_values(ctx, 0, &v);
    }
    if ((a = ir_attr_find(l, "value_string")) && a->type == O2P_ATTR_STRING) {
        inf_shape_rank(&s, 0);
        return inf_out(ctx, 0, O2P_DTYPE_STRING, &s);
    }
    if ((a = ir_attr_find(l, "value_strings")) && a->type == O2P_ATTR_STRINGS) {
        inf_shape_rank(&s, 1);
        s.dims[0] = inf_dim(a->count);
        return inf_out(ctx, 0, O2P_DTYPE_STRING, &s);
    }
    if (ir_attr_find(l, "sparse_value"))
        return inf_out_unknown(ctx, 0, O2P_DTYPE_UNDEFINED);
    return ir_infer_error(ctx, "Constant needs one of the attributes value, value_float, "
                               "value_floats, value_int, value_ints, value_string, value_strings");
}

o2p_status inf_shape_op(ir_infer_ctx *ctx)
{
    ir_shape x, s;
    inf_shape(ctx, 0, &x);
    inf_shape_rank(&s, 1);
    if (x.rank < 0)
        return inf_out(ctx, 0, O2P_DTYPE_INT64, &s);
    int64_t r = x.rank, start = 0, end = r;
    if (ctx->opset >= 15) {
        start = ir_attr_int(ctx->layer, "start", 0);
        end = ir_attr_int(ctx->layer, "end", r);
        if (start < 0)
            start += r;
        if (end < 0)
            end += r;
        start = start < 0 ? 0 : start > r ? r : start;
        end = end < 0 ? 0 : end > r ? r : end;
    }
    int n = end > start ? (int)(end - start) : 0;
    s.dims[0] = inf_dim(n);
    O2P_TRY(inf_out(ctx, 0, O2P_DTYPE_INT64, &s));
    ir_values v;
    memset(&v, 0, sizeof v);
    v.count = n;
    for (int k = 0; k < n; k++)
        v.e[k] = inf_value_from_dim(x.dims[start + k]);
    return ir_set_output_values(ctx, 0, &v);
}

o2p_status inf_size(ir_infer_ctx *ctx)
{
    ir_shape x, s;
    inf_shape(ctx, 0, &x);
    inf_shape_rank(&s, 0);
    O2P_TRY(inf_out(ctx, 0, O2P_DTYPE_INT64, &s));
    if (x.rank < 0)
        return O2P_OK;
    ir_dim n;
    O2P_TRY(inf_dims_product(ctx, x.dims, x.rank, &n));
    ir_values v;
    memset(&v, 0, sizeof v);
    v.count = 1;
    v.e[0] = inf_value_from_dim(n);
    return ir_set_output_values(ctx, 0, &v);
}

/* Shape from a 1-D int "shape" input (ConstantOfShape, Expand, sizes): known entries become
 * dims, symbols stay symbols; negative entries are an error unless allow_neg. Rank unknown
 * when even the entry count is not known. */
static o2p_status shape_from_input(ir_infer_ctx *ctx, int i, int allow_neg, ir_shape *out)
{
    int r = inf_rank(ctx, i);
    if (r > 1)
        return ir_infer_error(ctx, "input '%s' is a shape: it must be 1-D, not rank %d",
                              inf_name(ctx, i), r);
    ir_values v;
    if (inf_values(ctx, i, &v)) {
        if (v.count > IR_MAX_RANK)
            return ir_infer_error(ctx, "input '%s' gives a shape of rank %d; the limit is %d",
                                  inf_name(ctx, i), v.count, IR_MAX_RANK);
        inf_shape_rank(out, v.count);
        for (int k = 0; k < v.count; k++) {
            if (v.e[k].known && v.e[k].value < 0 && !allow_neg)
                return ir_infer_error(ctx,
                                      "input '%s' gives dimension %lld on axis %d; "
                                      "dimensions must not be negative",
                                      inf_name(ctx, i), (long long)v.e[k].value, k);
            out->dims[k] = inf_dim_from_value(&v.e[k]);
        }
        return O2P_OK;
    }
    int64_t len = inf_len1d(ctx, i);
    if (len > IR_MAX_RANK)
        return ir_infer_error(ctx, "input '%s' gives a shape of rank %lld; the limit is %d",
                              inf_name(ctx, i), (long long)len, IR_MAX_RANK);
    if (len < 0 || r == 0)
        ir_shape_unknown(out);
    else
        inf_shape_rank(out, (int)len);
    return O2P_OK;
}

o2p_status inf_constant_of_shape(ir_infer_ctx *ctx)
{
    o2p_dtype t = O2P_DTYPE_FLOAT;
    int64_t fill = 0;
    int fill_known = 1;
    const ir_attr *a = ir_attr_find(ctx->layer, "value");
    if (a && a->type == O2P_ATTR_TENSOR && a->tensors && a->tensors[0]) {
        const ir_tensor *vt = a->tensors[0];
        if (ir_tensor_numel_const(vt) != 1)
            return ir_infer_error(ctx, "attribute 'value' must hold exactly one element");
        t = vt->dtype;
        fill_known = ir_const_get_i64(vt, 0, &fill);
    }
    ir_shape s;
    O2P_TRY(shape_from_input(ctx, 0, 0, &s));
    O2P_TRY(inf_out(ctx, 0, t, &s));
    int n = inf_small_numel(&s);
    if (!values_dtype(t) || !fill_known || n < 0)
        return O2P_OK;
    ir_values v;
    memset(&v, 0, sizeof v);
    v.count = n;
    for (int k = 0; k < n; k++) {
        v.e[k].known = 1;
        v.e[k].value = fill;
    }
    return inf_out_values(ctx, 0, &s, &v);
}

o2p_status inf_range(ir_infer_ctx *ctx)
{
    for (int i = 0; i < 3; i++) {
        int r = inf_rank(ctx, i);
        if (r > 1 || (r == 1 && inf_len1d(ctx, i) != 1 && inf_len1d(ctx, i) >= 0))
            return ir_infer_error(ctx, "input '%s' must be a scalar", inf_name(ctx, i));
        if (i)
            O2P_TRY(inf_same_dtype(ctx, 0, i));
    }
    o2p_dtype t = inf_dtype(ctx, 0);
    ir_shape s;
    inf_shape_rank(&s, 1);
    if (ir_dtype_is_int(t)) {
        ir_values vs, vl, vd;
        if (inf_values(ctx, 0, &vs) && inf_values(ctx, 1, &vl) && inf_values(ctx, 2, &vd) &&
            vs.count == 1 && vl.count == 1 && vd.count == 1) {
            ir_value_entry st = vs.e[0], li = vl.e[0], de = vd.e[0];
            if (de.known && de.value == 0)
                return ir_infer_error(ctx, "delta '%s' is 0", inf_name(ctx, 2));
            if (st.known && li.known && de.known) {
                /* count = max(ceil((limit - start) / delta), 0); the distance and the step
                 * as unsigned magnitudes, which cannot overflow */
                int64_t n = 0;
                int up = de.value > 0;
                if (up ? li.value > st.value : li.value < st.value) {
                    uint64_t dist = up ? (uint64_t)li.value - (uint64_t)st.value
                                       : (uint64_t)st.value - (uint64_t)li.value;
                    uint64_t step = up ? (uint64_t)de.value : (uint64_t)0 - (uint64_t)de.value;
                    uint64_t q = dist / step + (dist % step != 0);
                    n = q > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)q;
                }
                s.dims[0] = inf_dim(n);
                O2P_TRY(inf_out(ctx, 0, t, &s));
                if (n > IR_MAX_VALUES)
                    return O2P_OK;
                ir_values v;
                memset(&v, 0, sizeof v);
                v.count = (int)n;
                for (int64_t k = 0; k < n; k++) {
                    /* start + k*delta lies between start and limit, but k*delta alone
                     * may not fit in int64: add as unsigned (two's complement) */
                    v.e[k].known = 1;
                    v.e[k].value = (int64_t)((uint64_t)st.value + (uint64_t)k * (uint64_t)de.value);
                }
                return ir_set_output_values(ctx, 0, &v);
            }
            /* Range(0, N, 1) has N elements */
            if (st.known && st.value == 0 && de.known && de.value == 1 && !li.known && li.sym)
                s.dims[0] = inf_dim_from_value(&li);
        }
        return inf_out(ctx, 0, t, &s);
    }
    double st, li, de;
    if (inf_num_scalar(ctx, 0, &st) && inf_num_scalar(ctx, 1, &li) && inf_num_scalar(ctx, 2, &de)) {
        if (de == 0)
            return ir_infer_error(ctx, "delta '%s' is 0", inf_name(ctx, 2));
        double n = ceil((li - st) / de);
        if (!(n <= 9.0e18))
            return ir_infer_error(ctx, "Range would have more than 2^63 elements");
        s.dims[0] = inf_dim(n > 0 ? (int64_t)n : 0);
    }
    return inf_out(ctx, 0, t, &s);
}

/* ---------------------------------------------------------------- Reshape and friends */

/* The value of Reshape's -1 from what the input and output dims have in common: known
 * factors divide, equal symbols cancel. */
static o2p_status reshape_infer_minus1(ir_infer_ctx *ctx, const ir_shape *x, const ir_shape *o,
                                       int skip, ir_dim *out)
{
    const char *sin[IR_MAX_RANK], *sout[IR_MAX_RANK];
    int nin = 0, nout = 0, unk_in = 0, unk_out = 0;
    int64_t pin = 1, pout = 1;
    *out = IR_DIM_UNKNOWN;
    for (int i = 0; i < x->rank; i++) {
        const ir_dim *d = &x->dims[i];
        if (d->value == 0) {
            pin = 0;
        } else if (d->value > 0) {
            if (pin && !o2p_mul_i64(pin, d->value, &pin))
                return ir_infer_error(ctx, "the element count of input '%s' overflows 64 bits",
                                      inf_name(ctx, 0));
        } else if (d->sym) {
            sin[nin++] = d->sym;
        } else {
            unk_in++;
        }
    }
    for (int i = 0; i < o->rank; i++) {
        if (i == skip)
            continue;
        const ir_dim *d = &o->dims[i];
        if (d->value == 0) {
            pout = 0;
        } else if (d->value > 0) {
            if (pout && !o2p_mul_i64(pout, d->value, &pout))
                return ir_infer_error(ctx, "the element count of the new shape overflows 64 "
                                           "bits");
        } else if (d->sym) {
            sout[nout++] = d->sym;
        } else {
            unk_out++;
        }
    }
    if (pin == 0) {
        /* zero elements: -1 is 0 when the other output dims are known and not 0 */
        if (pout != 0 && nout == 0 && unk_out == 0)
            *out = inf_dim(0);
        return O2P_OK;
    }
    for (int j = 0; j < nout; j++) {
        int found = -1;
        for (int i = 0; i < nin && found < 0; i++)
            if (sin[i] && strcmp(sin[i], sout[j]) == 0)
                found = i;
        if (found < 0)
            return O2P_OK; /* a symbol of the output the input does not have */
        sin[found] = NULL;
    }
    int left = 0;
    const char *left_sym = NULL;
    for (int i = 0; i < nin; i++)
        if (sin[i]) {
            left++;
            left_sym = sin[i];
        }
    if (unk_in || unk_out)
        return O2P_OK;
    if (pout == 0)
        return ir_infer_error(ctx,
                              "cannot reshape input '%s' with a non-zero element count "
                              "into a shape with a 0 dimension",
                              inf_name(ctx, 0));
    if (left == 0) {
        if (pin % pout != 0)
            return ir_infer_error(ctx,
                                  "cannot reshape input '%s' (%lld elements) into a shape "
                                  "whose known dims multiply to %lld",
                                  inf_name(ctx, 0), (long long)pin, (long long)pout);
        *out = inf_dim(pin / pout);
    } else if (left == 1 && pin == pout) {
        out->value = -1;
        out->sym = left_sym;
    }
    return O2P_OK;
}

o2p_status inf_reshape(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    ir_values sv;
    memset(&sv, 0, sizeof sv);
    int allowzero = ctx->opset >= 14 ? (int)ir_attr_int(ctx->layer, "allowzero", 0) : 0;
    if (ctx->opset < 5) {
        int n;
        int64_t dims[IR_MAX_RANK];
        O2P_TRY(inf_attr_ints(ctx, "shape", dims, IR_MAX_RANK, &n));
        if (n < 0)
            return ir_infer_error(ctx, "attribute 'shape' is required before opset 5");
        sv.count = n;
        for (int k = 0; k < n; k++) {
            sv.e[k].known = 1;
            sv.e[k].value = dims[k];
        }
    } else {
        if (!inf_has(ctx, 1))
            return ir_infer_error(ctx, "Reshape needs a 'shape' input from opset 5");
        int r = inf_rank(ctx, 1);
        if (r >= 0 && r != 1)
            return ir_infer_error(ctx, "shape input '%s' must be 1-D, not rank %d",
                                  inf_name(ctx, 1), r);
        if (!inf_values(ctx, 1, &sv)) {
            int64_t len = inf_len1d(ctx, 1);
            if (len > IR_MAX_RANK)
                return ir_infer_error(ctx,
                                      "shape input '%s' has %lld entries; the rank limit "
                                      "is %d",
                                      inf_name(ctx, 1), (long long)len, IR_MAX_RANK);
            if (len < 0)
                ir_shape_unknown(&o);
            else
                inf_shape_rank(&o, (int)len);
            return inf_out(ctx, 0, t, &o);
        }
        if (sv.count > IR_MAX_RANK)
            return ir_infer_error(ctx, "shape input '%s' has %d entries; the rank limit is %d",
                                  inf_name(ctx, 1), sv.count, IR_MAX_RANK);
    }
    inf_shape_rank(&o, sv.count);
    int minus1 = -1, has_zero = 0;
    for (int k = 0; k < sv.count; k++) {
        const ir_value_entry *e = &sv.e[k];
        if (!e->known) {
            o.dims[k] = inf_dim_from_value(e);
            continue;
        }
        if (e->value == -1) {
            if (minus1 >= 0)
                return ir_infer_error(ctx,
                                      "the new shape has -1 at both axes %d and %d; only "
                                      "one dimension can be inferred",
                                      minus1, k);
            minus1 = k;
        } else if (e->value == 0 && !allowzero) {
            if (x.rank >= 0 && k >= x.rank)
                return ir_infer_error(ctx,
                                      "the new shape has 0 (copy) at axis %d but input "
                                      "'%s' has rank %d",
                                      k, inf_name(ctx, 0), x.rank);
            if (x.rank >= 0)
                o.dims[k] = x.dims[k];
        } else if (e->value < 0) {
            return ir_infer_error(ctx,
                                  "the new shape has %lld at axis %d; dimensions must be "
                                  ">= 0, or -1 (inferred), or 0 (copied)",
                                  (long long)e->value, k);
        } else {
            if (e->value == 0)
                has_zero = 1;
            o.dims[k] = inf_dim(e->value);
        }
    }
    if (allowzero && has_zero && minus1 >= 0)
        return ir_infer_error(ctx, "with allowzero=1 the new shape cannot have both 0 and -1");
    if (minus1 >= 0 && x.rank >= 0)
        O2P_TRY(reshape_infer_minus1(ctx, &x, &o, minus1, &o.dims[minus1]));
    int ok_x, ok_o;
    int64_t nx = ir_shape_numel(&x, &ok_x), no = ir_shape_numel(&o, &ok_o);
    if (ok_x && ok_o && nx != no) {
        char a[256], b[256];
        ir_shape_format(&x, a, sizeof a);
        ir_shape_format(&o, b, sizeof b);
        return ir_infer_error(ctx,
                              "cannot reshape input '%s' of shape %s (%lld elements) into "
                              "%s (%lld elements)",
                              inf_name(ctx, 0), a, (long long)nx, b, (long long)no);
    }
    O2P_TRY(inf_out(ctx, 0, t, &o));
    return pass_values(ctx, 0, &o);
}

o2p_status inf_flatten(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    int64_t axis = ir_attr_int(ctx->layer, "axis", 1);
    inf_shape_rank(&o, 2);
    if (x.rank < 0) {
        if (axis == 0)
            o.dims[0] = inf_dim(1);
        return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
    }
    int64_t lo = ctx->opset >= 11 ? -(int64_t)x.rank : 0;
    if (axis < lo || axis > x.rank)
        return ir_infer_error(ctx,
                              "axis %lld is out of range for rank %d input '%s' (%lld to "
                              "%d)",
                              (long long)axis, x.rank, inf_name(ctx, 0), (long long)lo, x.rank);
    if (axis < 0)
        axis += x.rank;
    O2P_TRY(inf_dims_product(ctx, x.dims, (int)axis, &o.dims[0]));
    O2P_TRY(inf_dims_product(ctx, x.dims + axis, x.rank - (int)axis, &o.dims[1]));
    O2P_TRY(inf_out(ctx, 0, inf_dtype(ctx, 0), &o));
    return pass_values(ctx, 0, &o);
}

o2p_status inf_transpose(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    int64_t perm[IR_MAX_RANK];
    int n;
    O2P_TRY(inf_attr_ints(ctx, "perm", perm, IR_MAX_RANK, &n));
    if (x.rank < 0) {
        if (n >= 0)
            inf_shape_rank(&o, n);
        else
            ir_shape_unknown(&o);
        return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
    }
    if (n < 0) {
        n = x.rank;
        for (int i = 0; i < n; i++)
            perm[i] = n - 1 - i;
    }
    if (n != x.rank)
        return ir_infer_error(ctx, "attribute 'perm' has %d entries but input '%s' has rank %d", n,
                              inf_name(ctx, 0), x.rank);
    int seen[IR_MAX_RANK] = {0};
    inf_shape_rank(&o, n);
    for (int i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n)
            return ir_infer_error(ctx,
                                  "attribute 'perm' has %lld, out of range for rank %d "
                                  "input '%s'",
                                  (long long)perm[i], n, inf_name(ctx, 0));
        if (seen[perm[i]]++)
            return ir_infer_error(ctx, "attribute 'perm' repeats axis %lld", (long long)perm[i]);
        o.dims[i] = x.dims[perm[i]];
    }
    O2P_TRY(inf_out(ctx, 0, inf_dtype(ctx, 0), &o));
    /* values: output coordinate c[i] is input coordinate perm[i] */
    ir_values xv, ov;
    ir_shape xs;
    int cnt = inf_small_numel(&o);
    if (cnt < 0 || !inf_values_static(ctx, 0, &xv, &xs) || xv.count != cnt)
        return O2P_OK;
    memset(&ov, 0, sizeof ov);
    ov.count = cnt;
    for (int k = 0; k < cnt; k++) {
        int c[IR_MAX_RANK], ci[IR_MAX_RANK];
        inf_coords(&o, k, c);
        for (int i = 0; i < n; i++)
            ci[perm[i]] = c[i];
        int src = inf_flat_index(&xs, ci);
        if (src < 0)
            return O2P_OK;
        ov.e[k] = xv.e[src];
    }
    return inf_out_values(ctx, 0, &o, &ov);
}

o2p_status inf_squeeze(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    int64_t axes[IR_MAX_RANK];
    int n, state;
    O2P_TRY(read_axes(ctx, "axes", 1, 13, axes, &n, &state));
    if (x.rank < 0) {
        ir_shape_unknown(&o);
        return inf_out(ctx, 0, t, &o);
    }
    int drop[IR_MAX_RANK] = {0};
    if (state == -1) {
        /* axes not known: only the rank is, when their count is */
        if (n >= 0 && n <= x.rank)
            inf_shape_rank(&o, x.rank - n);
        else
            ir_shape_unknown(&o);
        return inf_out(ctx, 0, t, &o);
    }
    if (state == 1 && n > 0) {
        int norm[IR_MAX_RANK];
        O2P_TRY(norm_axes(ctx, axes, n, x.rank, inf_name(ctx, 0), norm));
        for (int i = 0; i < n; i++) {
            if (x.dims[norm[i]].value >= 0 && x.dims[norm[i]].value != 1)
                return ir_infer_error(ctx,
                                      "cannot squeeze axis %d of input '%s': its size is "
                                      "%lld, not 1",
                                      norm[i], inf_name(ctx, 0), (long long)x.dims[norm[i]].value);
            drop[norm[i]] = 1;
        }
    } else {
        /* no axes: every dim of size 1 goes; an unknown dim might be 1 */
        for (int i = 0; i < x.rank; i++) {
            if (x.dims[i].value < 0) {
                ir_shape_unknown(&o);
                return inf_out(ctx, 0, t, &o);
            }
            drop[i] = x.dims[i].value == 1;
        }
    }
    o.rank = 0;
    for (int i = 0; i < x.rank; i++)
        if (!drop[i])
            o.dims[o.rank++] = x.dims[i];
    O2P_TRY(inf_out(ctx, 0, t, &o));
    return pass_values(ctx, 0, &o);
}

o2p_status inf_unsqueeze(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    int64_t axes[IR_MAX_RANK];
    int n, state;
    O2P_TRY(read_axes(ctx, "axes", 1, 13, axes, &n, &state));
    if (state == 0)
        return ir_infer_error(ctx, "Unsqueeze needs axes (%s)",
                              ctx->opset < 13 ? "the 'axes' attribute" : "input 1");
    if (x.rank < 0 || state == -1) {
        if (x.rank >= 0 && n >= 0 && x.rank + n <= IR_MAX_RANK)
            inf_shape_rank(&o, x.rank + n);
        else
            ir_shape_unknown(&o);
        return inf_out(ctx, 0, t, &o);
    }
    int r = x.rank + n;
    if (r > IR_MAX_RANK)
        return ir_infer_error(ctx, "the output would have rank %d; the limit is %d", r,
                              IR_MAX_RANK);
    int norm[IR_MAX_RANK], ins[IR_MAX_RANK] = {0};
    for (int i = 0; i < n; i++) {
        int64_t a = axes[i];
        if (a < -(int64_t)r || a >= r)
            return ir_infer_error(ctx,
                                  "axis %lld is out of range for the rank %d output of "
                                  "unsqueezing input '%s'",
                                  (long long)a, r, inf_name(ctx, 0));
        norm[i] = (int)(a < 0 ? a + r : a);
        if (ins[norm[i]]++)
            return ir_infer_error(ctx, "axis %d appears twice in the axes", norm[i]);
    }
    inf_shape_rank(&o, r);
    for (int i = 0, j = 0; i < r; i++)
        o.dims[i] = ins[i] ? inf_dim(1) : x.dims[j++];
    O2P_TRY(inf_out(ctx, 0, t, &o));
    return pass_values(ctx, 0, &o);
}

/* ---------------------------------------------------------------- Concat, Split, Slice */

o2p_status inf_concat(ir_infer_ctx *ctx)
{
    int n = ctx->layer->num_inputs;
    const ir_attr *a = ir_attr_find(ctx->layer, "axis");
    if (ctx->opset >= 4 && (!a || a->type != O2P_ATTR_INT))
        return ir_infer_error(ctx, "attribute 'axis' is required");
    int64_t axis = a && a->type == O2P_ATTR_INT ? a->i : 1;
    int rank = -1, first = -1;
    o2p_dtype t = O2P_DTYPE_UNDEFINED;
    for (int i = 0; i < n; i++) {
        if (!inf_has(ctx, i))
            return ir_infer_error(ctx, "input %d is missing", i);
        if (first < 0)
            first = i;
        else
            O2P_TRY(inf_same_dtype(ctx, first, i));
        if (t == O2P_DTYPE_UNDEFINED)
            t = inf_dtype(ctx, i);
        int r = inf_rank(ctx, i);
        if (r >= 0 && rank >= 0 && r != rank)
            return ir_infer_error(ctx,
                                  "input '%s' has rank %d but input '%s' has rank %d; "
                                  "concatenated inputs need the same rank",
                                  inf_name(ctx, i), r, inf_name(ctx, first), rank);
        if (r >= 0)
            rank = r;
    }
    ir_shape o;
    if (rank < 0) {
        ir_shape_unknown(&o);
        return inf_out(ctx, 0, t, &o);
    }
    int ax;
    O2P_TRY(inf_axis(ctx, axis, rank, inf_name(ctx, 0), &ax));
    inf_shape_rank(&o, rank);
    ir_dim sum = inf_dim(0);
    int sum_ok = 1;
    for (int i = 0; i < n; i++) {
        ir_shape s;
        inf_shape(ctx, i, &s);
        if (s.rank < 0) {
            sum_ok = 0;
            continue;
        }
        for (int d = 0; d < rank; d++) {
            if (d == ax)
                continue;
            ir_dim *od = &o.dims[d];
            const ir_dim *sd = &s.dims[d];
            if (od->value >= 0 && sd->value >= 0 && od->value != sd->value)
                return ir_infer_error(ctx,
                                      "input '%s' has size %lld on axis %d but another "
                                      "input has %lld; only axis %d may differ",
                                      inf_name(ctx, i), (long long)sd->value, d,
                                      (long long)od->value, ax);
            if (od->value < 0 && (sd->value >= 0 || (!od->sym && sd->sym)))
                *od = *sd;
        }
        if (sum_ok)
            O2P_TRY(inf_dim_add(ctx, sum, s.dims[ax], &sum));
    }
    o.dims[ax] = sum_ok ? sum : IR_DIM_UNKNOWN;
    O2P_TRY(inf_out(ctx, 0, t, &o));
    /* values: for each index of the axes before `ax`, the inputs' blocks one after the
     * other; an input without values (but with a static shape) gives unknown entries */
    int cnt = inf_small_numel(&o);
    if (!values_dtype(t) || cnt < 0)
        return O2P_OK;
    int outer = 1;
    for (int d = 0; d < ax; d++)
        outer *= (int)o.dims[d].value; /* a factor of cnt, so at most IR_MAX_VALUES */
    /* every input's entries one after the other in `all`, input i from start[i] */
    ir_values v, all;
    int start[IR_MAX_VALUES + 1], block[IR_MAX_VALUES];
    int any = 0, m = 0;
    memset(&all, 0, sizeof all);
    for (int i = 0; i < n; i++) {
        ir_values vi;
        ir_shape si;
        if (inf_values_static(ctx, i, &vi, &si)) {
            any = 1;
        } else {
            inf_shape(ctx, i, &si);
            memset(&vi, 0, sizeof vi);
            vi.count = inf_small_numel(&si);
            if (vi.count < 0)
                return O2P_OK;
        }
        if (vi.count == 0)
            continue;
        if (m >= IR_MAX_VALUES || all.count + vi.count > cnt || outer == 0 || vi.count % outer != 0)
            return O2P_OK;
        start[m] = all.count;
        block[m] = vi.count / outer;
        memcpy(&all.e[all.count], vi.e, (size_t)vi.count * sizeof vi.e[0]);
        all.count += vi.count;
        m++;
    }
    if (!any || all.count != cnt)
        return O2P_OK;
    memset(&v, 0, sizeof v);
    for (int b = 0; b < outer; b++)
        for (int i = 0; i < m; i++) {
            memcpy(&v.e[v.count], &all.e[start[i] + b * block[i]],
                   (size_t)block[i] * sizeof v.e[0]);
            v.count += block[i];
        }
    return inf_out_values(ctx, 0, &o, &v);
}

o2p_status inf_split(ir_infer_ctx *ctx)
{
    ir_shape x;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    int nout = ctx->layer->num_outputs;
    int64_t axis = ir_attr_int(ctx->layer, "axis", 0);
    /* the sizes: attribute before opset 13 (opset 1 also took an input), input after */
    int64_t split[IR_MAX_VALUES];
    int ns = -1, split_unknown = 0;
    if (ctx->opset >= 13 || (ctx->opset < 2 && inf_has(ctx, 1))) {
        if (inf_has(ctx, 1)) {
            O2P_TRY(inf_need_list(ctx, 1, "split"));
            int64_t len = inf_len1d(ctx, 1);
            if (!inf_ints(ctx, 1, split, IR_MAX_VALUES, &ns)) {
                split_unknown = 1;
                ns = (int)len;
            }
        }
    } else {
        const ir_attr *a = ir_attr_find(ctx->layer, "split");
        if (a && a->type == O2P_ATTR_INTS) {
            if (a->count > IR_MAX_VALUES && a->count != nout)
                return ir_infer_error(ctx, "attribute 'split' has %d entries for %d outputs",
                                      a->count, nout);
            if (a->count > IR_MAX_VALUES)
                return ir_infer_error(ctx, "Split into more than %d parts is not supported",
                                      IR_MAX_VALUES);
            ns = a->count;
            memcpy(split, a->ints, (size_t)ns * sizeof split[0]);
        }
    }
    if (ns >= 0 && ns != nout)
        return ir_infer_error(ctx, "the split sizes have %d entries but the node has %d outputs",
                              ns, nout);
    if (x.rank < 0) {
        for (int i = 0; i < nout; i++)
            O2P_TRY(inf_out_unknown(ctx, i, t));
        return O2P_OK;
    }
    int ax;
    O2P_TRY(inf_axis(ctx, axis, x.rank, inf_name(ctx, 0), &ax));
    ir_dim d = x.dims[ax];
    if (ns >= 0 && !split_unknown) {
        int64_t sum = 0;
        for (int i = 0; i < ns; i++) {
            if (split[i] < 0)
                return ir_infer_error(ctx, "split size %lld (output %d) is negative",
                                      (long long)split[i], i);
            if (__builtin_add_overflow(sum, split[i], &sum))
                return ir_infer_error(ctx, "the split sizes overflow 64 bits");
        }
        if (d.value >= 0 && sum != d.value)
            return ir_infer_error(ctx,
                                  "the split sizes add up to %lld but axis %d of input '%s' "
                                  "has size %lld",
                                  (long long)sum, ax, inf_name(ctx, 0), (long long)d.value);
    }
    int64_t num_outputs = ir_attr_int(ctx->layer, "num_outputs", 0);
    if (ctx->opset >= 18 && ns < 0 && num_outputs <= 0)
        return ir_infer_error(ctx, "from opset 18 Split needs the 'split' input or the "
                                   "'num_outputs' attribute");
    if (num_outputs > 0 && ns < 0 && num_outputs != nout)
        return ir_infer_error(ctx, "num_outputs is %lld but the node has %d outputs",
                              (long long)num_outputs, nout);
    if (num_outputs > 0 && ns < 0 && d.value > 0) {
        int64_t chunk = d.value / nout + (d.value % nout != 0);
        if (chunk * (nout - 1) > d.value)
            return ir_infer_error(ctx,
                                  "axis %d of input '%s' (size %lld) cannot be split into %d "
                                  "chunks of %lld with only the last one smaller (or empty)",
                                  ax, inf_name(ctx, 0), (long long)d.value, nout, (long long)chunk);
    }
    for (int i = 0; i < nout; i++) {
        ir_shape o = x;
        if (ns >= 0)
            o.dims[ax] = split_unknown ? IR_DIM_UNKNOWN : inf_dim(split[i]);
        else if (d.value < 0)
            o.dims[ax] = IR_DIM_UNKNOWN;
        else if (num_outputs > 0) {
            /* opset 18: ceil-sized chunks, the last one smaller */
            int64_t chunk = d.value / nout + (d.value % nout != 0);
            int64_t rest = d.value - chunk * i;
            o.dims[ax] = inf_dim(rest < 0 ? 0 : rest < chunk ? rest : chunk);
        } else {
            if (nout == 0 || d.value % nout != 0)
                return ir_infer_error(ctx,
                                      "axis %d of input '%s' has size %lld, which does not "
                                      "split evenly into %d outputs",
                                      ax, inf_name(ctx, 0), (long long)d.value, nout);
            o.dims[ax] = inf_dim(d.value / nout);
        }
        O2P_TRY(inf_out(ctx, i, t, &o));
    }
    return O2P_OK;
}

/* Length of a slice of a dim of size d (known), ONNX clamping rules. */
static int64_t slice_len(int64_t d, int64_t s, int64_t e, int64_t step)
{
    if (s < 0)
        s += d;
    if (e < 0)
        e += d;
    if (step > 0) {
        s = s < 0 ? 0 : s > d ? d : s;
        e = e < 0 ? 0 : e > d ? d : e;
        if (e <= s)
            return 0;
        return (e - s) / step + ((e - s) % step != 0);
    }
    if (d == 0)
        return 0;
    s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
    e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
    if (s <= e)
        return 0;
    int64_t ns = step == INT64_MIN ? INT64_MAX : -step;
    return (s - e) / ns + ((s - e) % ns != 0);
}

static int64_t slice_first(int64_t d, int64_t s, int64_t step)
{
    if (s < 0)
        s += d;
    if (step > 0)
        return s < 0 ? 0 : s > d ? d : s;
    return s < 0 ? 0 : s > d - 1 ? d - 1 : s;
}

/* Slice parameters as values: attributes before opset 10, inputs after. */
static o2p_status slice_param(ir_infer_ctx *ctx, const char *attr, int input, ir_values *v,
                              int *present)
{
    memset(v, 0, sizeof *v);
    if (ctx->opset < 10) {
        const ir_attr *a = ir_attr_find(ctx->layer, attr);
        *present = a != NULL;
        if (!a)
            return O2P_OK;
        if (a->type != O2P_ATTR_INTS)
            return ir_infer_error(ctx, "attribute '%s' must be a list of ints", attr);
        if (a->count > IR_MAX_RANK)
            return ir_infer_error(ctx, "attribute '%s' has %d entries; at most %d are allowed",
                                  attr, a->count, IR_MAX_RANK);
        v->count = a->count;
        for (int k = 0; k < a->count; k++) {
            v->e[k].known = 1;
            v->e[k].value = a->ints[k];
        }
        return O2P_OK;
    }
    *present = inf_has(ctx, input);
    if (!*present)
        return O2P_OK;
    int r = inf_rank(ctx, input);
    if (r >= 0 && r != 1)
        return ir_infer_error(ctx, "input '%s' (%s) must be 1-D, not rank %d", inf_name(ctx, input),
                              attr, r);
    int64_t len = inf_len1d(ctx, input);
    if (len > IR_MAX_RANK)
        return ir_infer_error(ctx, "input '%s' (%s) has %lld entries; at most %d are allowed",
                              inf_name(ctx, input), attr, (long long)len, IR_MAX_RANK);
    if (!inf_values(ctx, input, v)) {
        v->count = len < 0 ? -1 : (int)len; /* entries unknown */
        for (int k = 0; k < v->count; k++)
            v->e[k].known = 0;
    }
    return O2P_OK;
}

o2p_status inf_slice(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    ir_values vs, ve, va, vst;
    int ps, pe, pa, pst;
    O2P_TRY(slice_param(ctx, "starts", 1, &vs, &ps));
    O2P_TRY(slice_param(ctx, "ends", 2, &ve, &pe));
    O2P_TRY(slice_param(ctx, "axes", 3, &va, &pa));
    if (ctx->opset >= 10) {
        O2P_TRY(slice_param(ctx, "steps", 4, &vst, &pst));
    } else {
        pst = 0;
        memset(&vst, 0, sizeof vst);
    }
    if (!ps || !pe)
        return ir_infer_error(ctx, "Slice needs starts and ends");
    if (x.rank < 0)
        return inf_out(ctx, 0, t, &x);
    int n = vs.count >= 0 ? vs.count : ve.count;
    if (vs.count >= 0 && ve.count >= 0 && vs.count != ve.count)
        return ir_infer_error(ctx, "starts has %d entries but ends has %d", vs.count, ve.count);
    if (pa && va.count >= 0 && n >= 0 && va.count != n)
        return ir_infer_error(ctx, "axes has %d entries but starts has %d", va.count, n);
    if (pst && vst.count >= 0 && n >= 0 && vst.count != n)
        return ir_infer_error(ctx, "steps has %d entries but starts has %d", vst.count, n);
    if (n < 0 && pa)
        n = va.count;
    if (n > x.rank)
        return ir_infer_error(ctx, "%d axes are sliced but input '%s' has rank %d", n,
                              inf_name(ctx, 0), x.rank);
    o = x;
    int axis_of[IR_MAX_RANK];
    int axes_known = 1;
    for (int k = 0; n >= 0 && k < n; k++) {
        if (!pa) {
            axis_of[k] = k;
            continue;
        }
        if (!va.e[k].known) {
            axes_known = 0;
            continue;
        }
        O2P_TRY(inf_axis(ctx, va.e[k].value, x.rank, inf_name(ctx, 0), &axis_of[k]));
        for (int j = 0; j < k; j++)
            if (va.e[j].known && axis_of[j] == axis_of[k])
                return ir_infer_error(ctx, "axis %d is sliced twice", axis_of[k]);
    }
    if (n < 0 || !axes_known) {
        /* which axes change is not known */
        inf_shape_rank(&o, x.rank);
        return inf_out(ctx, 0, t, &o);
    }
    /* for the values: where each axis starts and how it steps (untouched axes: 0, 1) */
    int64_t first[IR_MAX_RANK], stride[IR_MAX_RANK];
    for (int i = 0; i < x.rank; i++) {
        first[i] = 0;
        stride[i] = 1;
    }
    int values_ok = 1;
    for (int k = 0; k < n; k++) {
        int ax = axis_of[k];
        int64_t step = 1;
        if (pst) {
            if (!vst.e[k].known) {
                o.dims[ax] = IR_DIM_UNKNOWN;
                values_ok = 0;
                continue;
            }
            step = vst.e[k].value;
        }
        if (step == 0)
            return ir_infer_error(ctx, "step of axis %d is 0", ax);
        if (!vs.e[k].known || !ve.e[k].known) {
            o.dims[ax] = IR_DIM_UNKNOWN;
            values_ok = 0;
            continue;
        }
        int64_t s = vs.e[k].value, e = ve.e[k].value;
        ir_dim d = x.dims[ax];
        if (d.value >= 0) {
            o.dims[ax] = inf_dim(slice_len(d.value, s, e, step));
            first[ax] = slice_first(d.value, s, step);
            stride[ax] = step;
        } else {
            /* x[0:big] keeps an unknown dim as it is */
            if (!(s == 0 && step == 1 && e >= INT32_MAX))
                o.dims[ax] = IR_DIM_UNKNOWN;
            values_ok = 0;
        }
    }
    O2P_TRY(inf_out(ctx, 0, t, &o));
    /* values: output coordinate c reads input coordinate first + c*step on each axis */
    ir_values xv, ov;
    ir_shape xs;
    int cnt = inf_small_numel(&o);
    if (!values_ok || cnt < 0 || !inf_values_static(ctx, 0, &xv, &xs) || xs.rank != x.rank)
        return O2P_OK;
    memset(&ov, 0, sizeof ov);
    ov.count = cnt;
    for (int k = 0; k < cnt; k++) {
        int c[IR_MAX_RANK], ci[IR_MAX_RANK];
        inf_coords(&o, k, c);
        for (int i = 0; i < x.rank; i++) {
            /* c < IR_MAX_VALUES and |step| <= the dim when c > 0: no overflow, but the
             * index is checked against the input anyway */
            int64_t at;
            if (__builtin_mul_overflow((int64_t)c[i], stride[i], &at) ||
                __builtin_add_overflow(at, first[i], &at) || at < 0 || at >= IR_MAX_VALUES)
                return O2P_OK;
            ci[i] = (int)at;
        }
        int src = inf_flat_index(&xs, ci);
        if (src < 0)
            return O2P_OK;
        ov.e[k] = xv.e[src];
    }
    return inf_out_values(ctx, 0, &o, &ov);
}

/* ---------------------------------------------------------------- Gather, Scatter */

o2p_status inf_gather(ir_infer_ctx *ctx)
{
    ir_shape x, idx, o;
    inf_shape(ctx, 0, &x);
    inf_shape(ctx, 1, &idx);
    o2p_dtype t = inf_dtype(ctx, 0), it = inf_dtype(ctx, 1);
    if (it != O2P_DTYPE_UNDEFINED && it != O2P_DTYPE_INT32 && it != O2P_DTYPE_INT64)
        return ir_infer_error(ctx, "indices '%s' are %s; they must be int32 or int64",
                              inf_name(ctx, 1), o2p_dtype_name(it));
    int64_t axis = ir_attr_int(ctx->layer, "axis", 0);
    if (x.rank == 0)
        return ir_infer_error(ctx, "input '%s' is a scalar; Gather needs rank 1 or more",
                              inf_name(ctx, 0));
    if (x.rank < 0 || idx.rank < 0) {
        ir_shape_unknown(&o);
        return inf_out(ctx, 0, t, &o);
    }
    int ax;
    O2P_TRY(inf_axis(ctx, axis, x.rank, inf_name(ctx, 0), &ax));
    int r = x.rank - 1 + idx.rank;
    if (r > IR_MAX_RANK)
        return ir_infer_error(ctx, "the output would have rank %d; the limit is %d", r,
                              IR_MAX_RANK);
    inf_shape_rank(&o, r);
    int k = 0;
    for (int i = 0; i < ax; i++)
        o.dims[k++] = x.dims[i];
    for (int i = 0; i < idx.rank; i++)
        o.dims[k++] = idx.dims[i];
    for (int i = ax + 1; i < x.rank; i++)
        o.dims[k++] = x.dims[i];
    /* known indices must be in range */
    ir_values iv, xv, ov;
    int have_iv = inf_values(ctx, 1, &iv);
    int64_t d = x.dims[ax].value;
    for (int i = 0; have_iv && d >= 0 && i < iv.count; i++)
        if (iv.e[i].known && (iv.e[i].value < -d || iv.e[i].value >= d))
            return ir_infer_error(ctx,
                                  "index %lld is out of range for axis %d of input '%s' "
                                  "(size %lld)",
                                  (long long)iv.e[i].value, ax, inf_name(ctx, 0), (long long)d);
    O2P_TRY(inf_out(ctx, 0, t, &o));
    /* values: output coordinates (before ax, indices, after ax) read the input at (before
     * ax, the index, after ax); an unknown index gives unknown entries */
    ir_shape xs, is;
    int cnt = inf_small_numel(&o);
    if (!have_iv || cnt < 0 || !inf_values_static(ctx, 1, &iv, &is) || is.rank != idx.rank ||
        !inf_values_static(ctx, 0, &xv, &xs) || xs.rank != x.rank)
        return O2P_OK;
    memset(&ov, 0, sizeof ov);
    ov.count = cnt;
    int64_t dax = xs.dims[ax].value;
    for (int k = 0; k < cnt; k++) {
        int c[IR_MAX_RANK], ci[IR_MAX_RANK], cx[IR_MAX_RANK];
        inf_coords(&o, k, c);
        for (int i = 0; i < is.rank; i++)
            ci[i] = c[ax + i];
        int at = inf_flat_index(&is, ci);
        if (at < 0)
            return O2P_OK;
        const ir_value_entry *ie = &iv.e[at];
        if (!ie->known || ie->value < -dax || ie->value >= dax)
            continue;
        for (int i = 0; i < ax; i++)
            cx[i] = c[i];
        cx[ax] = (int)(ie->value < 0 ? ie->value + dax : ie->value);
        for (int i = ax + 1; i < xs.rank; i++)
            cx[i] = c[i - 1 + is.rank];
        int src = inf_flat_index(&xs, cx);
        if (src < 0)
            return O2P_OK;
        ov.e[k] = xv.e[src];
    }
    return inf_out_values(ctx, 0, &o, &ov);
}

o2p_status inf_gather_elements(ir_infer_ctx *ctx)
{
    int rx = inf_rank(ctx, 0), ri = inf_rank(ctx, 1);
    if (rx >= 0 && ri >= 0 && rx != ri)
        return ir_infer_error(ctx,
                              "indices '%s' have rank %d but data '%s' has rank %d; they "
                              "must be equal",
                              inf_name(ctx, 1), ri, inf_name(ctx, 0), rx);
    if (rx == 0)
        return ir_infer_error(ctx, "data '%s' must have rank 1 or more", inf_name(ctx, 0));
    int r = rx >= 0 ? rx : ri, ax;
    if (r >= 0)
        O2P_TRY(inf_axis(ctx, ir_attr_int(ctx->layer, "axis", 0), r, inf_name(ctx, 0), &ax));
    ir_shape o;
    inf_shape(ctx, 1, &o);
    if (o.rank < 0 && rx >= 0)
        inf_shape_rank(&o, rx);
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
}

o2p_status inf_gather_nd(ir_infer_ctx *ctx)
{
    ir_shape x, idx, o;
    inf_shape(ctx, 0, &x);
    inf_shape(ctx, 1, &idx);
    o2p_dtype t = inf_dtype(ctx, 0);
    int64_t b = ir_attr_int(ctx->layer, "batch_dims", 0);
    if (x.rank == 0 || idx.rank == 0)
        return ir_infer_error(ctx, "GatherND needs data and indices of rank 1 or more");
    if (b < 0 || (x.rank >= 0 && b >= x.rank) || (idx.rank >= 0 && b >= idx.rank))
        return ir_infer_error(ctx,
                              "batch_dims %lld must be less than the ranks of data (%d) "
                              "and indices (%d)",
                              (long long)b, x.rank, idx.rank);
    if (x.rank < 0 || idx.rank < 0 || idx.dims[idx.rank - 1].value < 0) {
        ir_shape_unknown(&o);
        return inf_out(ctx, 0, t, &o);
    }
    int64_t last = idx.dims[idx.rank - 1].value;
    if (last < 1 || last > x.rank - b)
        return ir_infer_error(ctx,
                              "the last dim of indices '%s' is %lld; it must be 1 to %lld "
                              "(the rank of data less batch_dims)",
                              inf_name(ctx, 1), (long long)last, (long long)(x.rank - b));
    for (int i = 0; i < b; i++)
        if (x.dims[i].value >= 0 && idx.dims[i].value >= 0 && x.dims[i].value != idx.dims[i].value)
            return ir_infer_error(ctx, "batch dim %d differs: %lld in data, %lld in indices", i,
                                  (long long)x.dims[i].value, (long long)idx.dims[i].value);
    int r = idx.rank - 1 + x.rank - (int)b - (int)last;
    if (r > IR_MAX_RANK)
        return ir_infer_error(ctx, "the output would have rank %d; the limit is %d", r,
                              IR_MAX_RANK);
    inf_shape_rank(&o, r);
    int k = 0;
    for (int i = 0; i < idx.rank - 1; i++)
        o.dims[k++] = idx.dims[i];
    for (int i = (int)(b + last); i < x.rank; i++)
        o.dims[k++] = x.dims[i];
    return inf_out(ctx, 0, t, &o);
}

/* Scatter, ScatterElements, ScatterND: the data's shape. */
o2p_status inf_scatter(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_same_dtype(ctx, 0, 2));
    int rx = inf_rank(ctx, 0), ri = inf_rank(ctx, 1), ru = inf_rank(ctx, 2);
    if (is_op(ctx, "ScatterND")) {
        ir_shape idx;
        inf_shape(ctx, 1, &idx);
        if (ri == 0 || rx == 0)
            return ir_infer_error(ctx, "ScatterND needs data and indices of rank 1 or more");
        if (rx >= 0 && ri >= 0 && idx.dims[ri - 1].value >= 0) {
            int64_t k = idx.dims[ri - 1].value;
            if (k < 1 || k > rx)
                return ir_infer_error(ctx,
                                      "the last dim of indices '%s' is %lld; it must be "
                                      "1 to %d",
                                      inf_name(ctx, 1), (long long)k, rx);
            if (ru >= 0 && ru != ri - 1 + rx - k)
                return ir_infer_error(ctx, "updates '%s' have rank %d; they must have rank %lld",
                                      inf_name(ctx, 2), ru, (long long)(ri - 1 + rx - k));
        }
    } else {
        if (rx >= 0 && ri >= 0 && rx != ri)
            return ir_infer_error(ctx, "indices '%s' have rank %d but data '%s' has rank %d",
                                  inf_name(ctx, 1), ri, inf_name(ctx, 0), rx);
        if (ri >= 0 && ru >= 0 && ri != ru)
            return ir_infer_error(ctx, "updates '%s' have rank %d but indices '%s' have rank %d",
                                  inf_name(ctx, 2), ru, inf_name(ctx, 1), ri);
        if (rx > 0) {
            int ax;
            O2P_TRY(inf_axis(ctx, ir_attr_int(ctx->layer, "axis", 0), rx, inf_name(ctx, 0), &ax));
        }
    }
    ir_shape s;
    inf_shape(ctx, 0, &s);
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &s);
}

/* ---------------------------------------------------------------- Expand, Tile, Pad */

o2p_status inf_expand(ir_infer_ctx *ctx)
{
    ir_shape x, s, o;
    inf_shape(ctx, 0, &x);
    O2P_TRY(shape_from_input(ctx, 1, 0, &s));
    O2P_TRY(ir_broadcast(ctx, &x, &s, &o));
    if (o.rank < 0 && s.rank >= 0 && x.rank < 0)
        ir_shape_unknown(&o);
    O2P_TRY(inf_out(ctx, 0, inf_dtype(ctx, 0), &o));
    /* values: the input broadcast to the output */
    ir_values xv, ov;
    ir_shape xs;
    int cnt = inf_small_numel(&o);
    if (cnt < 0 || !inf_values_static(ctx, 0, &xv, &xs))
        return O2P_OK;
    memset(&ov, 0, sizeof ov);
    ov.count = cnt;
    for (int k = 0; k < cnt; k++) {
        int src = inf_broadcast_index(&xs, &o, k);
        if (src < 0)
            return O2P_OK;
        ov.e[k] = xv.e[src];
    }
    return inf_out_values(ctx, 0, &o, &ov);
}

o2p_status inf_tile(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    if (x.rank < 0)
        return inf_out(ctx, 0, t, &x);
    o = x;
    if (ctx->opset < 6) {
        /* Tile(input, tiles, axis): one axis repeated `tiles` times */
        int64_t tiles, axis;
        int ax;
        if (!inf_int_scalar(ctx, 1, &tiles) || !inf_int_scalar(ctx, 2, &axis)) {
            inf_shape_rank(&o, x.rank);
            return inf_out(ctx, 0, t, &o);
        }
        O2P_TRY(inf_axis(ctx, axis, x.rank, inf_name(ctx, 0), &ax));
        if (tiles < 0)
            return ir_infer_error(ctx, "tiles is %lld; it must not be negative", (long long)tiles);
        O2P_TRY(inf_dim_mul(ctx, x.dims[ax], inf_dim(tiles), &o.dims[ax]));
        return inf_out(ctx, 0, t, &o);
    }
    int64_t len = inf_len1d(ctx, 1);
    if (inf_rank(ctx, 1) > 1 || (len >= 0 && len != x.rank))
        return ir_infer_error(ctx,
                              "repeats '%s' must be 1-D with one entry per axis of input "
                              "'%s' (%d)",
                              inf_name(ctx, 1), inf_name(ctx, 0), x.rank);
    ir_values rv;
    if (!inf_values(ctx, 1, &rv) || rv.count != x.rank) {
        for (int i = 0; i < x.rank; i++)
            if (x.dims[i].value != 0)
                o.dims[i] = IR_DIM_UNKNOWN;
        return inf_out(ctx, 0, t, &o);
    }
    for (int i = 0; i < x.rank; i++) {
        if (!rv.e[i].known) {
            o.dims[i] = x.dims[i].value == 0 ? inf_dim(0) : IR_DIM_UNKNOWN;
            continue;
        }
        if (rv.e[i].value < 0)
            return ir_infer_error(ctx,
                                  "repeats has %lld for axis %d; repeats must not be "
                                  "negative",
                                  (long long)rv.e[i].value, i);
        O2P_TRY(inf_dim_mul(ctx, x.dims[i], inf_dim(rv.e[i].value), &o.dims[i]));
    }
    O2P_TRY(inf_out(ctx, 0, t, &o));
    /* values: output coordinate c reads input coordinate c mod the input's dim */
    ir_values xv, ov;
    ir_shape xs;
    int cnt = inf_small_numel(&o);
    if (cnt < 0 || !inf_values_static(ctx, 0, &xv, &xs) || xs.rank != o.rank)
        return O2P_OK;
    memset(&ov, 0, sizeof ov);
    ov.count = cnt;
    for (int k = 0; k < cnt; k++) {
        int c[IR_MAX_RANK];
        inf_coords(&o, k, c);
        for (int i = 0; i < xs.rank; i++) {
            if (xs.dims[i].value <= 0)
                return O2P_OK;
            c[i] = (int)(c[i] % xs.dims[i].value);
        }
        int src = inf_flat_index(&xs, c);
        if (src < 0)
            return O2P_OK;
        ov.e[k] = xv.e[src];
    }
    return inf_out_values(ctx, 0, &o, &ov);
}

o2p_status inf_pad(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    const char *mode = ir_attr_string(ctx->layer, "mode", "constant");
    if (strcmp(mode, "constant") != 0 && strcmp(mode, "reflect") != 0 &&
        strcmp(mode, "edge") != 0 && strcmp(mode, "wrap") != 0)
        return ir_infer_error(ctx, "mode '%s' is not one of constant, reflect, edge, wrap", mode);
    if (ctx->opset >= 11 && inf_has(ctx, 2)) {
        O2P_TRY(inf_same_dtype(ctx, 0, 2));
        int r = inf_rank(ctx, 2);
        if (r > 1 || (r == 1 && inf_len1d(ctx, 2) > 1))
            return ir_infer_error(ctx, "constant_value '%s' must be a scalar", inf_name(ctx, 2));
    }
    if (x.rank < 0)
        return inf_out(ctx, 0, t, &x);
    /* which axes are padded (opset 18 axes input), all by default */
    int axes[IR_MAX_RANK], na = x.rank;
    for (int i = 0; i < x.rank; i++)
        axes[i] = i;
    if (ctx->opset >= 18 && inf_has(ctx, 3)) {
        int64_t a[IR_MAX_RANK];
        O2P_TRY(inf_need_list(ctx, 3, "axes"));
        if (!inf_ints(ctx, 3, a, IR_MAX_RANK, &na)) {
            inf_shape_rank(&o, x.rank);
            return inf_out(ctx, 0, t, &o);
        }
        O2P_TRY(norm_axes(ctx, a, na, x.rank, inf_name(ctx, 0), axes));
    }
    int64_t pads[2 * IR_MAX_RANK];
    int np = -1;
    if (ctx->opset < 11) {
        O2P_TRY(
            inf_attr_ints(ctx, ctx->opset < 2 ? "paddings" : "pads", pads, 2 * IR_MAX_RANK, &np));
        if (np < 0)
            return ir_infer_error(ctx, "attribute '%s' is required",
                                  ctx->opset < 2 ? "paddings" : "pads");
    } else {
        if (!inf_has(ctx, 1))
            return ir_infer_error(ctx, "Pad needs the 'pads' input from opset 11");
        O2P_TRY(inf_need_list(ctx, 1, "pads"));
        int64_t len = inf_len1d(ctx, 1);
        if (len >= 0 && len != 2 * na)
            return ir_infer_error(ctx,
                                  "pads '%s' has %lld entries; it needs %d (a begin and an "
                                  "end for each padded axis)",
                                  inf_name(ctx, 1), (long long)len, 2 * na);
        if (!inf_ints(ctx, 1, pads, 2 * IR_MAX_RANK, &np)) {
            o = x;
            for (int i = 0; i < na; i++)
                o.dims[axes[i]] = IR_DIM_UNKNOWN;
            return inf_out(ctx, 0, t, &o);
        }
    }
    if (np != 2 * na)
        return ir_infer_error(ctx,
                              "pads has %d entries; it needs %d (a begin and an end for "
                              "each padded axis)",
                              np, 2 * na);
    o = x;
    for (int i = 0; i < na; i++) {
        int ax = axes[i];
        int64_t pb = pads[i], pe = pads[i + na], extra;
        if (__builtin_add_overflow(pb, pe, &extra))
            return ir_infer_error(ctx, "pads of axis %d overflow", ax);
        ir_dim d = x.dims[ax];
        if (d.value < 0) {
            if (extra != 0)
                o.dims[ax] = IR_DIM_UNKNOWN;
            continue;
        }
        int64_t r;
        if (__builtin_add_overflow(d.value, extra, &r))
            return ir_infer_error(ctx, "pads of axis %d overflow", ax);
        if (r < 0)
            return ir_infer_error(ctx, "pads %lld and %lld make axis %d of size %lld negative",
                                  (long long)pb, (long long)pe, ax, (long long)d.value);
        o.dims[ax] = inf_dim(r);
    }
    return inf_out(ctx, 0, t, &o);
}

/* ---------------------------------------------------------------- Resize, Upsample */

/* floor(d * scale) for each axis; scale 1 keeps a symbolic dim. */
static o2p_status apply_scales(ir_infer_ctx *ctx, const ir_shape *x, const double *scales,
                               const int *axes, int n, ir_shape *o)
{
    for (int i = 0; i < n; i++) {
        int ax = axes[i];
        double sc = scales[i];
        if (!(sc > 0) || !isfinite(sc))
            return ir_infer_error(ctx, "scale %g for axis %d must be positive", sc, ax);
        ir_dim d = x->dims[ax];
        if (d.value < 0) {
            o->dims[ax] = sc == 1.0 ? d : IR_DIM_UNKNOWN;
            continue;
        }
        double v = floor((double)d.value * sc);
        if (!(v < 9.0e18))
            return ir_infer_error(ctx, "scale %g makes axis %d too large", sc, ax);
        o->dims[ax] = inf_dim((int64_t)v);
    }
    return O2P_OK;
}

o2p_status inf_resize(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    int si = ctx->opset >= 11 ? 2 : 1, zi = ctx->opset >= 11 ? 3 : -1;
    const char *mode = ir_attr_string(ctx->layer, "mode", "nearest");
    if (strcmp(mode, "nearest") != 0 && strcmp(mode, "linear") != 0 && strcmp(mode, "cubic") != 0 &&
        strcmp(mode, "bilinear") != 0 && strcmp(mode, "trilinear") != 0)
        return ir_infer_error(ctx, "mode '%s' is not one of nearest, linear, cubic", mode);
    if (x.rank < 0)
        return inf_out(ctx, 0, t, &x);
    int axes[IR_MAX_RANK], na = x.rank;
    for (int i = 0; i < x.rank; i++)
        axes[i] = i;
    if (ctx->opset >= 18) {
        int64_t a[IR_MAX_RANK];
        int n;
        O2P_TRY(inf_attr_ints(ctx, "axes", a, IR_MAX_RANK, &n));
        if (n >= 0) {
            O2P_TRY(norm_axes(ctx, a, n, x.rank, inf_name(ctx, 0), axes));
            na = n;
        }
    }
    o = x;
    if (zi >= 0 && inf_has(ctx, zi))
        O2P_TRY(inf_need_list(ctx, zi, "sizes"));
    if (inf_has(ctx, si))
        O2P_TRY(inf_need_list(ctx, si, "scales"));
    int64_t zlen = zi >= 0 && inf_has(ctx, zi) ? inf_len1d(ctx, zi) : 0;
    int64_t slen = inf_has(ctx, si) ? inf_len1d(ctx, si) : 0;
    /* sizes count when they are not empty; with a length not known, when scales are empty */
    if (zlen > 0 || (zlen < 0 && slen <= 0)) {
        if (zlen > 0 && zlen != na)
            return ir_infer_error(ctx, "sizes '%s' has %lld entries; it needs %d",
                                  inf_name(ctx, zi), (long long)zlen, na);
        if (slen > 0)
            return ir_infer_error(ctx, "only one of scales and sizes may be given");
        ir_values v;
        if (!inf_values(ctx, zi, &v) || v.count != na) {
            for (int i = 0; i < na; i++)
                o.dims[axes[i]] = IR_DIM_UNKNOWN;
            return inf_out(ctx, 0, t, &o);
        }
        const char *policy = ir_attr_string(ctx->layer, "keep_aspect_ratio_policy", "stretch");
        if (ctx->opset >= 18 && strcmp(policy, "stretch") != 0) {
            /* one scale for every axis: the smallest (not_larger) or largest (not_smaller) */
            int larger = strcmp(policy, "not_smaller") == 0;
            if (!larger && strcmp(policy, "not_larger") != 0)
                return ir_infer_error(ctx,
                                      "keep_aspect_ratio_policy '%s' is not one of "
                                      "stretch, not_larger, not_smaller",
                                      policy);
            double sc = larger ? 0 : INFINITY;
            for (int i = 0; i < na; i++) {
                if (!v.e[i].known || x.dims[axes[i]].value <= 0) {
                    for (int j = 0; j < na; j++)
                        o.dims[axes[j]] = IR_DIM_UNKNOWN;
                    return inf_out(ctx, 0, t, &o);
                }
                double r = (double)v.e[i].value / (double)x.dims[axes[i]].value;
                sc = larger ? (r > sc ? r : sc) : (r < sc ? r : sc);
            }
            for (int i = 0; i < na; i++)
                o.dims[axes[i]] = inf_dim((int64_t)floor((double)x.dims[axes[i]].value * sc + 0.5));
            return inf_out(ctx, 0, t, &o);
        }
        for (int i = 0; i < na; i++) {
            if (v.e[i].known && v.e[i].value < 0)
                return ir_infer_error(ctx, "sizes has %lld for axis %d", (long long)v.e[i].value,
                                      axes[i]);
            o.dims[axes[i]] = inf_dim_from_value(&v.e[i]);
        }
        return inf_out(ctx, 0, t, &o);
    }
    if (!inf_has(ctx, si) || slen == 0) {
        if (ctx->opset >= 11 && (!inf_has(ctx, si) || slen == 0) && zi >= 0 &&
            (!inf_has(ctx, zi) || zlen == 0))
            return ir_infer_error(ctx, "Resize needs scales or sizes");
        if (ctx->opset < 11)
            return ir_infer_error(ctx, "Resize needs scales");
        for (int i = 0; i < na; i++)
            o.dims[axes[i]] = IR_DIM_UNKNOWN;
        return inf_out(ctx, 0, t, &o);
    }
    if (slen > 0 && slen != na)
        return ir_infer_error(ctx, "scales '%s' has %lld entries; it needs %d", inf_name(ctx, si),
                              (long long)slen, na);
    double sc[IR_MAX_RANK];
    int n;
    if (!inf_floats(ctx, si, sc, IR_MAX_RANK, &n) || n != na) {
        for (int i = 0; i < na; i++)
            o.dims[axes[i]] = IR_DIM_UNKNOWN;
        return inf_out(ctx, 0, t, &o);
    }
    O2P_TRY(apply_scales(ctx, &x, sc, axes, na, &o));
    return inf_out(ctx, 0, t, &o);
}

o2p_status inf_upsample(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    if (x.rank < 0)
        return inf_out(ctx, 0, t, &x);
    int axes[IR_MAX_RANK];
    for (int i = 0; i < x.rank; i++)
        axes[i] = i;
    double sc[IR_MAX_RANK];
    int n = -1;
    o = x;
    if (ctx->opset < 7) {
        /* opset 1: NCHW with height_scale and width_scale */
        if (x.rank != 4)
            return ir_infer_error(ctx, "input '%s' must be 4-D (NCHW)", inf_name(ctx, 0));
        sc[0] = sc[1] = 1;
        sc[2] = ir_attr_float(ctx->layer, "height_scale", 1);
        sc[3] = ir_attr_float(ctx->layer, "width_scale", 1);
        n = 4;
    } else if (ctx->opset < 9) {
        int cnt;
        const float *f = ir_attr_floats(ctx->layer, "scales", &cnt);
        if (!f)
            return ir_infer_error(ctx, "attribute 'scales' is required");
        if (cnt != x.rank)
            return ir_infer_error(ctx,
                                  "attribute 'scales' has %d entries; input '%s' has rank "
                                  "%d",
                                  cnt, inf_name(ctx, 0), x.rank);
        for (int i = 0; i < cnt; i++)
            sc[i] = f[i];
        n = cnt;
    } else {
        int64_t len = inf_len1d(ctx, 1);
        if (len >= 0 && len != x.rank)
            return ir_infer_error(ctx, "scales '%s' has %lld entries; input '%s' has rank %d",
                                  inf_name(ctx, 1), (long long)len, inf_name(ctx, 0), x.rank);
        if (!inf_floats(ctx, 1, sc, IR_MAX_RANK, &n) || n != x.rank) {
            inf_shape_rank(&o, x.rank);
            return inf_out(ctx, 0, t, &o);
        }
    }
    O2P_TRY(apply_scales(ctx, &x, sc, axes, n, &o));
    return inf_out(ctx, 0, t, &o);
}

/* ---------------------------------------------------------------- DepthToSpace, SpaceToDepth */

static o2p_status blocks(ir_infer_ctx *ctx, int64_t *b)
{
    const ir_attr *a = ir_attr_find(ctx->layer, "blocksize");
    if (!a || a->type != O2P_ATTR_INT)
        return ir_infer_error(ctx, "attribute 'blocksize' is required");
    if (a->i < 1 || a->i > (1 << 20))
        return ir_infer_error(ctx, "blocksize %lld must be 1 or more", (long long)a->i);
    *b = a->i;
    return O2P_OK;
}

o2p_status inf_depth_to_space(ir_infer_ctx *ctx)
{
    int64_t b;
    O2P_TRY(blocks(ctx, &b));
    O2P_TRY(inf_need_rank(ctx, 0, 4));
    const char *mode = ir_attr_string(ctx->layer, "mode", "DCR");
    if (strcmp(mode, "DCR") != 0 && strcmp(mode, "CRD") != 0)
        return ir_infer_error(ctx, "mode '%s' is not DCR or CRD", mode);
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    inf_shape_rank(&o, 4);
    if (x.rank == 4) {
        o.dims[0] = x.dims[0];
        if (x.dims[1].value >= 0) {
            if (x.dims[1].value % (b * b) != 0)
                return ir_infer_error(ctx,
                                      "channels (%lld) of input '%s' are not a multiple of "
                                      "blocksize^2 (%lld)",
                                      (long long)x.dims[1].value, inf_name(ctx, 0),
                                      (long long)(b * b));
            o.dims[1] = inf_dim(x.dims[1].value / (b * b));
        }
        O2P_TRY(inf_dim_mul(ctx, x.dims[2], inf_dim(b), &o.dims[2]));
        O2P_TRY(inf_dim_mul(ctx, x.dims[3], inf_dim(b), &o.dims[3]));
    }
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
}

o2p_status inf_space_to_depth(ir_infer_ctx *ctx)
{
    int64_t b;
    O2P_TRY(blocks(ctx, &b));
    O2P_TRY(inf_need_rank(ctx, 0, 4));
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    inf_shape_rank(&o, 4);
    if (x.rank == 4) {
        o.dims[0] = x.dims[0];
        O2P_TRY(inf_dim_mul(ctx, x.dims[1], inf_dim(b * b), &o.dims[1]));
        for (int i = 2; i < 4; i++) {
            if (x.dims[i].value < 0)
                continue;
            if (x.dims[i].value % b != 0)
                return ir_infer_error(ctx,
                                      "axis %d of input '%s' (%lld) is not a multiple of "
                                      "blocksize %lld",
                                      i, inf_name(ctx, 0), (long long)x.dims[i].value,
                                      (long long)b);
            o.dims[i] = inf_dim(x.dims[i].value / b);
        }
    }
    return inf_out(ctx, 0, inf_dtype(ctx, 0), &o);
}

/* ---------------------------------------------------------------- TopK, ArgMax, reductions */

o2p_status inf_topk(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    int64_t k = -1;
    int k_known;
    if (ctx->opset < 10) {
        const ir_attr *a = ir_attr_find(ctx->layer, "k");
        if (!a || a->type != O2P_ATTR_INT)
            return ir_infer_error(ctx, "attribute 'k' is required before opset 10");
        k = a->i;
        k_known = 1;
        if (k < 1)
            return ir_infer_error(ctx, "attribute 'k' is %lld; it must be 1 or more", (long long)k);
    } else {
        if (!inf_has(ctx, 1))
            return ir_infer_error(ctx, "TopK needs the input K from opset 10");
        int64_t len = inf_len1d(ctx, 1);
        if (inf_rank(ctx, 1) > 1 || (len >= 0 && len != 1))
            return ir_infer_error(ctx, "K '%s' must hold one value", inf_name(ctx, 1));
        k_known = inf_int_scalar(ctx, 1, &k);
    }
    if (k_known && k < 0)
        return ir_infer_error(ctx, "K is %lld; it must not be negative", (long long)k);
    if (x.rank < 0) {
        O2P_TRY(inf_out(ctx, 0, t, &x));
        return inf_out(ctx, 1, O2P_DTYPE_INT64, &x);
    }
    int ax;
    O2P_TRY(inf_axis(ctx, ir_attr_int(ctx->layer, "axis", -1), x.rank, inf_name(ctx, 0), &ax));
    o = x;
    if (k_known && x.dims[ax].value >= 0 && k > x.dims[ax].value)
        return ir_infer_error(ctx, "K (%lld) is larger than axis %d of input '%s' (%lld)",
                              (long long)k, ax, inf_name(ctx, 0), (long long)x.dims[ax].value);
    o.dims[ax] = k_known ? inf_dim(k) : IR_DIM_UNKNOWN;
    O2P_TRY(inf_out(ctx, 0, t, &o));
    return inf_out(ctx, 1, O2P_DTYPE_INT64, &o);
}

o2p_status inf_argminmax(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    int keep = ir_attr_int(ctx->layer, "keepdims", 1) != 0;
    if (x.rank < 0)
        return inf_out(ctx, 0, O2P_DTYPE_INT64, &x);
    int ax;
    O2P_TRY(inf_axis(ctx, ir_attr_int(ctx->layer, "axis", 0), x.rank, inf_name(ctx, 0), &ax));
    o = x;
    if (keep) {
        o.dims[ax] = inf_dim(1);
    } else {
        for (int i = ax; i + 1 < x.rank; i++)
            o.dims[i] = x.dims[i + 1];
        o.rank--;
    }
    return inf_out(ctx, 0, O2P_DTYPE_INT64, &o);
}

o2p_status inf_reduce(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    int keep = ir_attr_int(ctx->layer, "keepdims", 1) != 0;
    int64_t input_from = is_op(ctx, "ReduceSum") ? 13 : 18;
    int noop =
        ctx->opset >= input_from ? ir_attr_int(ctx->layer, "noop_with_empty_axes", 0) != 0 : 0;
    int64_t axes[IR_MAX_RANK];
    int n, state;
    O2P_TRY(read_axes(ctx, "axes", 1, input_from, axes, &n, &state));
    if (state == 1 && n == 0)
        state = 0; /* an empty list means "no axes given" */
    if (state == 0 && noop)
        return inf_out_like(ctx, 0, 0);
    if (x.rank < 0)
        return inf_out(ctx, 0, t, &x);
    int red[IR_MAX_RANK] = {0};
    if (state == -1) {
        if (keep)
            inf_shape_rank(&o, x.rank);
        else if (n >= 0 && n <= x.rank)
            inf_shape_rank(&o, x.rank - n);
        else
            ir_shape_unknown(&o);
        return inf_out(ctx, 0, t, &o);
    }
    if (state == 1) {
        int norm[IR_MAX_RANK];
        O2P_TRY(norm_axes(ctx, axes, n, x.rank, inf_name(ctx, 0), norm));
        for (int i = 0; i < n; i++)
            red[norm[i]] = 1;
    } else {
        for (int i = 0; i < x.rank; i++)
            red[i] = 1;
    }
    o.rank = 0;
    for (int i = 0; i < x.rank; i++) {
        if (!red[i])
            o.dims[o.rank++] = x.dims[i];
        else if (keep)
            o.dims[o.rank++] = inf_dim(1);
    }
    O2P_TRY(inf_out(ctx, 0, t, &o));
    /* values of ReduceSum/Prod/Max/Min of a small int tensor (numel computations) */
    int sum = is_op(ctx, "ReduceSum"), prod = is_op(ctx, "ReduceProd");
    int mx = is_op(ctx, "ReduceMax"), mn = is_op(ctx, "ReduceMin");
    ir_values xv, ov;
    ir_shape xs;
    int cnt = inf_small_numel(&o);
    if (!(sum || prod || mx || mn) || !ir_dtype_is_int(t) || cnt <= 0 ||
        !inf_values_static(ctx, 0, &xv, &xs) || xs.rank != x.rank || xv.count == 0)
        return O2P_OK;
    int seen[IR_MAX_VALUES] = {0};
    memset(&ov, 0, sizeof ov);
    ov.count = cnt;
    for (int k = 0; k < xv.count; k++) {
        int c[IR_MAX_RANK], co[IR_MAX_RANK], r = 0;
        inf_coords(&xs, k, c);
        for (int i = 0; i < xs.rank; i++) {
            if (!red[i])
                co[r++] = c[i];
            else if (keep)
                co[r++] = 0;
        }
        int at = inf_flat_index(&o, co);
        if (at < 0)
            return O2P_OK;
        if (!seen[at]++) {
            ov.e[at] = xv.e[k];
            continue;
        }
        ir_value_entry *acc = &ov.e[at];
        const ir_value_entry *e = &xv.e[k];
        ir_value_entry res = {0, 0, NULL};
        if (acc->known && e->known) {
            int64_t a = acc->value, b = e->value, v;
            res.known = 1;
            if (sum)
                res.known = !__builtin_add_overflow(a, b, &v);
            else if (prod)
                res.known = !__builtin_mul_overflow(a, b, &v);
            else
                v = mx ? (a > b ? a : b) : (a < b ? a : b);
            res.value = res.known ? v : 0;
        } else if (prod && ((acc->known && acc->value == 1) || (e->known && e->value == 1))) {
            res = acc->known ? *e : *acc; /* x * 1 */
        } else if (prod && ((acc->known && acc->value == 0) || (e->known && e->value == 0))) {
            res.known = 1; /* x * 0 */
        } else if (sum && ((acc->known && acc->value == 0) || (e->known && e->value == 0))) {
            res = acc->known ? *e : *acc; /* x + 0 */
        }
        *acc = res;
    }
    return inf_out_values(ctx, 0, &o, &ov);
}

o2p_status inf_cumsum(ir_infer_ctx *ctx)
{
    int r = inf_rank(ctx, 1);
    if (r > 1 || (r == 1 && inf_len1d(ctx, 1) > 1))
        return ir_infer_error(ctx, "axis '%s' must be a scalar", inf_name(ctx, 1));
    int64_t axis;
    int rx = inf_rank(ctx, 0), ax;
    if (rx >= 0 && inf_int_scalar(ctx, 1, &axis))
        O2P_TRY(inf_axis(ctx, axis, rx, inf_name(ctx, 0), &ax));
    return inf_unary(ctx);
}

o2p_status inf_nonzero(ir_infer_ctx *ctx)
{
    ir_shape o;
    inf_shape_rank(&o, 2);
    int r = inf_rank(ctx, 0);
    if (r >= 0)
        o.dims[0] = inf_dim(r);
    /* The count of non-zeros is data-dependent: at most the input's element count, which
     * the plan allocates (an empty input has none, statically). */
    ir_shape x;
    inf_shape(ctx, 0, &x);
    int ok = 0;
    int64_t n = ir_shape_numel(&x, &ok);
    if (ok && n == 0)
        o.dims[1] = inf_dim(0);
    else if (ok)
        o.dims[1].bound = n;
    return inf_out(ctx, 0, O2P_DTYPE_INT64, &o);
}

o2p_status inf_onehot(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    int64_t vlen = inf_len1d(ctx, 2);
    if (inf_rank(ctx, 2) > 1 || (vlen >= 0 && vlen != 2))
        return ir_infer_error(ctx, "values '%s' must be 1-D with 2 entries (off, on)",
                              inf_name(ctx, 2));
    int64_t dlen = inf_len1d(ctx, 1);
    if (inf_rank(ctx, 1) > 1 || (dlen >= 0 && dlen != 1))
        return ir_infer_error(ctx, "depth '%s' must hold one value", inf_name(ctx, 1));
    o2p_dtype t = inf_dtype(ctx, 2);
    if (x.rank == 0)
        return ir_infer_error(ctx, "indices '%s' must have rank 1 or more", inf_name(ctx, 0));
    if (x.rank < 0)
        return inf_out(ctx, 0, t, &x);
    int r = x.rank + 1;
    if (r > IR_MAX_RANK)
        return ir_infer_error(ctx, "the output would have rank %d; the limit is %d", r,
                              IR_MAX_RANK);
    int ax;
    O2P_TRY(inf_axis(ctx, ir_attr_int(ctx->layer, "axis", -1), r, inf_name(ctx, 0), &ax));
    ir_dim depth = IR_DIM_UNKNOWN;
    double dv;
    if (inf_num_scalar(ctx, 1, &dv)) {
        if (!(dv >= 1) || !(dv < 9.0e18))
            return ir_infer_error(ctx, "depth is %g; it must be 1 or more", dv);
        depth = inf_dim((int64_t)dv);
    }
    inf_shape_rank(&o, r);
    for (int i = 0, j = 0; i < r; i++)
        o.dims[i] = i == ax ? depth : x.dims[j++];
    return inf_out(ctx, 0, t, &o);
}

o2p_status inf_trilu(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_need_min_rank(ctx, 0, 2));
    int r = inf_rank(ctx, 1);
    if (r > 1 || (r == 1 && inf_len1d(ctx, 1) > 1))
        return ir_infer_error(ctx, "k '%s' must be a scalar", inf_name(ctx, 1));
    return inf_unary(ctx);
}

/* Number of true entries among the first `limit` of a constant condition, or -1. */
static int64_t count_true(const ir_tensor *c, int64_t limit)
{
    int64_t n = ir_tensor_numel_const(c);
    if (n < 0)
        return -1;
    if (n > limit)
        n = limit;
    int64_t cnt = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t v;
        if (!ir_const_get_i64(c, i, &v))
            return -1;
        cnt += v != 0;
    }
    return cnt;
}

o2p_status inf_compress(ir_infer_ctx *ctx)
{
    ir_shape x, o;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    O2P_TRY(inf_need_rank(ctx, 1, 1));
    const ir_tensor *c = ir_input(ctx, 1);
    const ir_attr *a = ir_attr_find(ctx->layer, "axis");
    int64_t clen = inf_len1d(ctx, 1);
    if (!a) {
        inf_shape_rank(&o, 1);
        int ok;
        int64_t n = ir_shape_numel(&x, &ok);
        if (ok && ir_tensor_is_const(c)) {
            if (clen > n)
                return ir_infer_error(ctx,
                                      "condition has %lld entries; input '%s' has only "
                                      "%lld elements",
                                      (long long)clen, inf_name(ctx, 0), (long long)n);
            o.dims[0] = inf_dim(count_true(c, n));
        }
        return inf_out(ctx, 0, t, &o);
    }
    if (x.rank < 0)
        return inf_out(ctx, 0, t, &x);
    int ax;
    O2P_TRY(inf_axis(ctx, a->i, x.rank, inf_name(ctx, 0), &ax));
    o = x;
    o.dims[ax] = IR_DIM_UNKNOWN;
    if (x.dims[ax].value >= 0 && clen > x.dims[ax].value)
        return ir_infer_error(ctx,
                              "condition has %lld entries; axis %d of input '%s' has only "
                              "%lld",
                              (long long)clen, ax, inf_name(ctx, 0), (long long)x.dims[ax].value);
    if (ir_tensor_is_const(c) && (x.dims[ax].value >= 0 || clen >= 0))
        o.dims[ax] = inf_dim(count_true(c, x.dims[ax].value >= 0 ? x.dims[ax].value : clen));
    return inf_out(ctx, 0, t, &o);
}

o2p_status inf_unique(ir_infer_ctx *ctx)
{
    ir_shape x, o, list;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    const ir_attr *a = ir_attr_find(ctx->layer, "axis");
    ir_shape inverse;
    inf_shape_rank(&inverse, 1);
    int ax = -1; /* Y's axis the unique count is; -1: Y's rank is not known */
    if (a && a->type == O2P_ATTR_INT) {
        if (x.rank < 0) {
            ir_shape_unknown(&o);
        } else {
            O2P_TRY(inf_axis(ctx, a->i, x.rank, inf_name(ctx, 0), &ax));
            o = x;
            inverse.dims[0] = x.dims[ax];
        }
    } else {
        inf_shape_rank(&o, 1);
        ax = 0;
        if (x.rank >= 0)
            O2P_TRY(inf_dims_product(ctx, x.dims, x.rank, &inverse.dims[0]));
    }
    /* The unique count is data-dependent, at most the slice count n (inverse's length):
     * n <= 1 slices are their own uniques. */
    ir_dim n = inverse.dims[0], k = IR_DIM_UNKNOWN;
    if (n.value == 0 || n.value == 1)
        k = inf_dim(n.value);
    else if (n.value > 1)
        k.bound = n.value;
    if (ax >= 0)
        o.dims[ax] = k;
    inf_shape_rank(&list, 1);
    list.dims[0] = k;
    O2P_TRY(inf_out(ctx, 0, t, &o));
    O2P_TRY(inf_out(ctx, 1, O2P_DTYPE_INT64, &list));
    O2P_TRY(inf_out(ctx, 2, O2P_DTYPE_INT64, &inverse));
    return inf_out(ctx, 3, O2P_DTYPE_INT64, &list);
}

/* ---------------------------------------------------------------- generators */

static o2p_status dtype_attr(ir_infer_ctx *ctx, const char *name, o2p_dtype dflt, o2p_dtype *out)
{
    const ir_attr *a = ir_attr_find(ctx->layer, name);
    if (!a) {
        *out = dflt;
        return O2P_OK;
    }
    if (a->type != O2P_ATTR_INT || a->i <= 0 || a->i > O2P_DTYPE_BFLOAT16)
        return ir_infer_error(ctx, "attribute '%s' (%lld) is not a known element type", name,
                              (long long)a->i);
    *out = (o2p_dtype)a->i;
    return O2P_OK;
}

o2p_status inf_eyelike(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_need_rank(ctx, 0, 2));
    o2p_dtype t;
    O2P_TRY(dtype_attr(ctx, "dtype", inf_dtype(ctx, 0), &t));
    ir_shape s;
    inf_shape(ctx, 0, &s);
    if (s.rank < 0)
        inf_shape_rank(&s, 2);
    return inf_out(ctx, 0, t, &s);
}

o2p_status inf_random(ir_infer_ctx *ctx)
{
    o2p_dtype t;
    O2P_TRY(dtype_attr(ctx, "dtype", O2P_DTYPE_FLOAT, &t));
    int64_t dims[IR_MAX_RANK];
    int n;
    O2P_TRY(inf_attr_ints(ctx, "shape", dims, IR_MAX_RANK, &n));
    if (n < 0)
        return ir_infer_error(ctx, "attribute 'shape' is required");
    ir_shape s;
    inf_shape_rank(&s, n);
    for (int i = 0; i < n; i++) {
        if (dims[i] < 0)
            return ir_infer_error(ctx, "attribute 'shape' has %lld on axis %d", (long long)dims[i],
                                  i);
        s.dims[i] = inf_dim(dims[i]);
    }
    return inf_out(ctx, 0, t, &s);
}

o2p_status inf_random_like(ir_infer_ctx *ctx)
{
    o2p_dtype t;
    O2P_TRY(dtype_attr(ctx, "dtype", inf_dtype(ctx, 0), &t));
    ir_shape s;
    inf_shape(ctx, 0, &s);
    return inf_out(ctx, 0, t, &s);
}

o2p_status inf_bernoulli(ir_infer_ctx *ctx)
{
    return inf_random_like(ctx);
}

o2p_status inf_multinomial(ir_infer_ctx *ctx)
{
    O2P_TRY(inf_need_rank(ctx, 0, 2));
    o2p_dtype t;
    O2P_TRY(dtype_attr(ctx, "dtype", O2P_DTYPE_INT32, &t));
    if (t != O2P_DTYPE_INT32 && t != O2P_DTYPE_INT64)
        return ir_infer_error(ctx, "attribute 'dtype' must be int32 or int64, not %s",
                              o2p_dtype_name(t));
    int64_t n = ir_attr_int(ctx->layer, "sample_size", 1);
    if (n < 1)
        return ir_infer_error(ctx, "sample_size %lld must be 1 or more", (long long)n);
    ir_shape x, s;
    inf_shape(ctx, 0, &x);
    inf_shape_rank(&s, 2);
    if (x.rank == 2)
        s.dims[0] = x.dims[0];
    s.dims[1] = inf_dim(n);
    return inf_out(ctx, 0, t, &s);
}

o2p_status inf_center_crop_pad(ir_infer_ctx *ctx)
{
    ir_shape x, o, sh;
    inf_shape(ctx, 0, &x);
    o2p_dtype t = inf_dtype(ctx, 0);
    if (x.rank < 0)
        return inf_out(ctx, 0, t, &x);
    int axes[IR_MAX_RANK], na = x.rank;
    for (int i = 0; i < x.rank; i++)
        axes[i] = i;
    int64_t a[IR_MAX_RANK];
    int n;
    O2P_TRY(inf_attr_ints(ctx, "axes", a, IR_MAX_RANK, &n));
    if (n >= 0) {
        O2P_TRY(norm_axes(ctx, a, n, x.rank, inf_name(ctx, 0), axes));
        na = n;
    }
    O2P_TRY(shape_from_input(ctx, 1, 0, &sh));
    if (sh.rank >= 0 && sh.rank != na)
        return ir_infer_error(ctx, "shape '%s' has %d entries; %d axes are cropped or padded",
                              inf_name(ctx, 1), sh.rank, na);
    o = x;
    for (int i = 0; i < na; i++)
        o.dims[axes[i]] = sh.rank >= 0 ? sh.dims[i] : IR_DIM_UNKNOWN;
    return inf_out(ctx, 0, t, &o);
}

o2p_status inf_reverse_sequence(ir_infer_ctx *ctx)
{
    int64_t b = ir_attr_int(ctx->layer, "batch_axis", 1),
            tm = ir_attr_int(ctx->layer, "time_axis", 0);
    if ((b != 0 && b != 1) || (tm != 0 && tm != 1) || b == tm)
        return ir_infer_error(ctx,
                              "batch_axis (%lld) and time_axis (%lld) must be 0 and 1 in "
                              "some order",
                              (long long)b, (long long)tm);
    O2P_TRY(inf_need_min_rank(ctx, 0, 2));
    O2P_TRY(inf_need_rank(ctx, 1, 1));
    return inf_unary(ctx);
}

/* ---------------------------------------------------------------- Einsum */

#define EINSUM_LABELS 52

static int label_index(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    return -1;
}

o2p_status inf_einsum(ir_infer_ctx *ctx)
{
    const char *eq = ir_attr_string(ctx->layer, "equation", NULL);
    if (!eq)
        return ir_infer_error(ctx, "attribute 'equation' is required");
    int nin = ctx->layer->num_inputs;
    o2p_dtype t = inf_dtype(ctx, 0);
    for (int i = 1; i < nin; i++)
        O2P_TRY(inf_same_dtype(ctx, 0, i));
    ir_dim label_dim[EINSUM_LABELS];
    int label_count[EINSUM_LABELS] = {0};
    for (int i = 0; i < EINSUM_LABELS; i++)
        label_dim[i] = IR_DIM_UNKNOWN;
    ir_shape ell; /* broadcast of every ellipsis */
    int ell_unknown = 0;
    inf_shape_rank(&ell, 0);
    const char *p = eq;
    int term = 0;
    for (;;) {
        /* one input term */
        char labels[IR_MAX_RANK + 1];
        int nl = 0, has_ell = 0, ell_pos = -1;
        while (*p == ' ')
            p++;
        while (*p && *p != ',' && *p != '-') {
            if (*p == ' ') {
                p++;
                continue;
            }
            if (*p == '.') {
                if (strncmp(p, "...", 3) != 0 || has_ell)
                    return ir_infer_error(ctx, "equation '%s': a term may have one '...' only", eq);
                has_ell = 1;
                ell_pos = nl;
                p += 3;
                continue;
            }
            if (label_index(*p) < 0)
                return ir_infer_error(ctx, "equation '%s': '%c' is not a letter", eq, *p);
            if (nl >= IR_MAX_RANK)
                return ir_infer_error(ctx, "equation '%s': term %d has more than %d labels", eq,
                                      term, IR_MAX_RANK);
            labels[nl++] = *p++;
        }
        if (term >= nin)
            return ir_infer_error(ctx, "equation '%s' has more terms than the %d inputs", eq, nin);
        ir_shape s;
        inf_shape(ctx, term, &s);
        if (s.rank >= 0) {
            if (has_ell ? s.rank < nl : s.rank != nl)
                return ir_infer_error(ctx,
                                      "equation '%s': term %d has %d labels%s but input "
                                      "'%s' has rank %d",
                                      eq, term, nl, has_ell ? " and '...'" : "",
                                      inf_name(ctx, term), s.rank);
            int ne = s.rank - nl;
            for (int k = 0; k < nl; k++) {
                int li = label_index(labels[k]);
                int dim_at = k < ell_pos || ell_pos < 0 ? k : k + ne;
                ir_dim d = s.dims[dim_at];
                ir_dim *cur = &label_dim[li];
                if (cur->value >= 0 && d.value >= 0 && cur->value != d.value && cur->value != 1 &&
                    d.value != 1)
                    return ir_infer_error(ctx,
                                          "equation '%s': label '%c' is %lld in one input "
                                          "and %lld in input '%s'",
                                          eq, labels[k], (long long)cur->value, (long long)d.value,
                                          inf_name(ctx, term));
                if (label_count[li] == 0 || cur->value == 1 || (cur->value < 0 && d.value >= 0))
                    *cur = d;
                else if (cur->value < 0 && d.value < 0 && !inf_dim_same(*cur, d))
                    *cur = IR_DIM_UNKNOWN;
            }
            if (has_ell) {
                ir_shape es, r;
                inf_shape_rank(&es, ne);
                for (int k = 0; k < ne; k++)
                    es.dims[k] = s.dims[ell_pos + k];
                O2P_TRY(ir_broadcast(ctx, &ell, &es, &r));
                ell = r;
            }
        } else if (has_ell) {
            ell_unknown = 1;
        }
        for (int k = 0; k < nl; k++)
            label_count[label_index(labels[k])]++;
        term++;
        if (*p == ',') {
            p++;
            continue;
        }
        break;
    }
    if (term != nin)
        return ir_infer_error(ctx, "equation '%s' has %d terms but the node has %d inputs", eq,
                              term, nin);
    ir_shape o;
    inf_shape_rank(&o, 0);
    if (*p == '-') {
        if (p[1] != '>')
            return ir_infer_error(ctx, "equation '%s': '-' must be followed by '>'", eq);
        p += 2;
        int seen[EINSUM_LABELS] = {0}, out_ell = 0;
        while (*p) {
            if (*p == ' ') {
                p++;
                continue;
            }
            if (*p == '.') {
                if (strncmp(p, "...", 3) != 0 || out_ell)
                    return ir_infer_error(ctx, "equation '%s': bad '...' in the output", eq);
                out_ell = 1;
                p += 3;
                if (ell_unknown) {
                    ir_shape_unknown(&o);
                    return inf_out(ctx, 0, t, &o);
                }
                if (o.rank + ell.rank > IR_MAX_RANK)
                    return ir_infer_error(ctx, "equation '%s': output rank over %d", eq,
                                          IR_MAX_RANK);
                for (int k = 0; k < ell.rank; k++)
                    o.dims[o.rank++] = ell.dims[k];
                continue;
            }
            int li = label_index(*p);
            if (li < 0)
                return ir_infer_error(ctx, "equation '%s': '%c' is not a letter", eq, *p);
            if (!label_count[li])
                return ir_infer_error(ctx, "equation '%s': output label '%c' is in no input", eq,
                                      *p);
            if (seen[li]++)
                return ir_infer_error(ctx, "equation '%s': output label '%c' repeats", eq, *p);
            if (o.rank >= IR_MAX_RANK)
                return ir_infer_error(ctx, "equation '%s': output rank over %d", eq, IR_MAX_RANK);
            o.dims[o.rank++] = label_dim[li];
            p++;
        }
    } else {
        /* implicit output: the ellipsis, then labels seen once, in alphabetical order */
        if (ell_unknown) {
            ir_shape_unknown(&o);
            return inf_out(ctx, 0, t, &o);
        }
        for (int k = 0; k < ell.rank; k++)
            o.dims[o.rank++] = ell.dims[k];
        for (int li = 0; li < EINSUM_LABELS; li++) {
            if (label_count[li] != 1)
                continue;
            if (o.rank >= IR_MAX_RANK)
                return ir_infer_error(ctx, "equation '%s': output rank over %d", eq, IR_MAX_RANK);
            o.dims[o.rank++] = label_dim[li];
        }
    }
    return inf_out(ctx, 0, t, &o);
}
