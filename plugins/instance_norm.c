/* instance_norm.c: the InstanceNormalization plugin (ONNX opset 6+, default domain).
 * Inputs: input [N, C, D1, ...], scale [C], B [C]; attribute epsilon (default 1e-5).
 * y = scale[c] * (x - mean) / sqrt(var + epsilon) + B[c], with the mean and the (biased)
 * variance over the spatial dims of each (n, c), computed in double.
 * float16, float32 and float64. */
#include <stdlib.h>

#include "plugin_util.h"

#define OP "InstanceNormalization"

static const char IN_TAG[4] = {'o', '2', 'I', 'N'};
enum { IN_FORMAT = 1 };

static const char *const in_field_names[] = {"epsilon"};
static const o2p_attr_type in_field_kinds[] = {O2P_ATTR_FLOAT};

typedef struct in_params {
    float epsilon;
} in_params;

static o2p_status in_params_from_fields(const o2p_plugin_field *fields, int num_fields,
                                        in_params *p, o2p_plugin_error *err)
{
    o2p_status st = o2pp_check_fields(OP, fields, num_fields, in_field_names, in_field_kinds, 1,
                                      err);
    if (st != O2P_OK)
        return st;
    p->epsilon = 1e-5f;
    const o2p_plugin_field *f = o2pp_find_field(fields, num_fields, "epsilon");
    if (f)
        p->epsilon = f->f;
    if (!isfinite(p->epsilon) || p->epsilon < 0.0f)
        return o2pp_fail(err, O2P_ERR_PARSE, OP ": epsilon must be finite and >= 0, got %g",
                         (double)p->epsilon);
    return O2P_OK;
}

static o2p_status in_infer(const o2p_plugin_tensor_desc *inputs, int num_inputs,
                           const o2p_plugin_field *fields, int num_fields,
                           o2p_plugin_tensor_desc *outputs, int num_outputs, o2p_plugin_error *err)
{
    in_params p;
    o2p_status st = in_params_from_fields(fields, num_fields, &p, err);
    if (st != O2P_OK)
        return st;
    if (num_inputs != 3 || !inputs)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": takes 3 inputs (input, scale, B), got %d",
                         num_inputs);
    if (num_outputs != 1 || !outputs)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": has 1 output, the node declares %d",
                         num_outputs);
    const o2p_plugin_tensor_desc *x = &inputs[0];
    static const char *const names[3] = {"input", "scale", "B"};
    o2p_dtype t = O2P_DTYPE_UNDEFINED;
    for (int i = 0; i < 3; i++) {
        o2p_dtype ti = inputs[i].dtype;
        if (ti == O2P_DTYPE_UNDEFINED)
            continue;
        if (!o2pp_is_float_type(ti))
            return o2pp_fail(err, O2P_ERR_SHAPE,
                             OP ": %s must be float16, float32 or float64, not %s", names[i],
                             o2pp_dtype_name(ti));
        if (t != O2P_DTYPE_UNDEFINED && ti != t)
            return o2pp_fail(err, O2P_ERR_SHAPE, OP ": %s is %s but input is %s", names[i],
                             o2pp_dtype_name(ti), o2pp_dtype_name(t));
        t = ti;
    }
    for (int i = 0; i < 3; i++)
        if (inputs[i].rank != O2P_RANK_UNKNOWN && (inputs[i].rank < 0 || inputs[i].rank > O2P_MAX_RANK))
            return o2pp_fail(err, O2P_ERR_SHAPE, OP ": %s has an invalid rank %d", names[i],
                             inputs[i].rank);
    if (x->rank != O2P_RANK_UNKNOWN && x->rank < 3)
        return o2pp_fail(err, O2P_ERR_SHAPE,
                         OP ": input must have rank >= 3 (N, C, spatial dims...), got rank %d",
                         x->rank);
    int64_t c = x->rank >= 3 ? x->dims[1] : -1;
    if (c < 0)
        c = -1;
    for (int i = 1; i < 3; i++) {
        if (inputs[i].rank == O2P_RANK_UNKNOWN)
            continue;
        if (inputs[i].rank != 1)
            return o2pp_fail(err, O2P_ERR_SHAPE, OP ": %s must have rank 1 ([C]), got rank %d",
                             names[i], inputs[i].rank);
        int64_t m = o2pp_merge_dim(c, inputs[i].dims[0]);
        if (m == -2)
            return o2pp_fail(err, O2P_ERR_SHAPE,
                             OP ": %s has %lld elements but input has %lld channels", names[i],
                             (long long)inputs[i].dims[0], (long long)c);
        c = m;
    }
    o2p_plugin_tensor_desc *y = &outputs[0];
    memset(y, 0, sizeof *y);
    y->dtype = t;
    y->rank = x->rank;
    if (x->rank >= 0) {
        for (int i = 0; i < x->rank; i++)
            y->dims[i] = x->dims[i] < 0 ? -1 : x->dims[i];
        y->dims[1] = c;
    }
    return O2P_OK;
}

static int in_supports(const o2p_dtype *inputs, int num_inputs, const o2p_dtype *outputs,
                       int num_outputs)
{
    if (num_inputs != 3 || num_outputs != 1 || !inputs || !outputs)
        return 0;
    o2p_dtype t = inputs[0];
    return o2pp_is_float_type(t) && inputs[1] == t && inputs[2] == t && outputs[0] == t;
}

static uint64_t in_workspace(const o2p_plugin_tensor_desc *inputs, int num_inputs,
                             const o2p_plugin_field *fields, int num_fields)
{
    return 0;
}

/* Format 1: "o2IN", u32 1, f32 epsilon. Returns 0 for invalid fields. */
static size_t in_serialize(const o2p_plugin_field *fields, int num_fields, void *buf,
                           size_t capacity)
{
    in_params p;
    if (in_params_from_fields(fields, num_fields, &p, NULL) != O2P_OK)
        return 0;
    o2pp_writer w = {buf, buf ? capacity : 0, 0};
    o2pp_put_bytes(&w, IN_TAG, 4);
    o2pp_put_u32(&w, IN_FORMAT);
    o2pp_put_f32(&w, p.epsilon);
    return o2pp_writer_done(&w);
}

static o2p_status in_deserialize(const void *bytes, size_t size, in_params *p,
                                 o2p_plugin_error *err)
{
    o2pp_reader r;
    o2p_status st = o2pp_reader_open(&r, OP, bytes, size, IN_TAG, IN_FORMAT, err);
    if (st != O2P_OK)
        return st;
    p->epsilon = o2pp_get_f32(&r);
    if ((st = o2pp_reader_close(&r, OP, err)) != O2P_OK)
        return st;
    if (!isfinite(p->epsilon) || p->epsilon < 0.0f)
        return o2pp_fail(err, O2P_ERR_PARSE, OP ": serialized epsilon %g is invalid",
                         (double)p->epsilon);
    return O2P_OK;
}

static o2p_status in_enqueue_host(const void *serialized, size_t serialized_size,
                                  const o2p_plugin_tensor *inputs, int num_inputs,
                                  o2p_plugin_tensor *outputs, int num_outputs, void *workspace,
                                  o2p_plugin_error *err)
{
    in_params p;
    o2p_status st = in_deserialize(serialized, serialized_size, &p, err);
    if (st != O2P_OK)
        return st;
    if (num_inputs != 3 || num_outputs != 1 || !inputs || !outputs)
        return o2pp_fail(err, O2P_ERR_INVALID_ARGUMENT,
                         OP ": runs with 3 inputs and 1 output, got %d and %d", num_inputs,
                         num_outputs);
    const o2p_plugin_tensor *x = &inputs[0], *scale = &inputs[1], *bias = &inputs[2];
    o2p_plugin_tensor *y = &outputs[0];
    o2p_dtype t = x->dtype;
    if (!o2pp_is_float_type(t))
        return o2pp_fail(err, O2P_ERR_UNSUPPORTED, OP ": cannot run on %s", o2pp_dtype_name(t));
    if (scale->dtype != t || bias->dtype != t || y->dtype != t)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": input, scale, B and the output must share a type");
    size_t nx, ns, nb, ny;
    if (o2pp_count(x, &nx) || o2pp_count(scale, &ns) || o2pp_count(bias, &nb) ||
        o2pp_count(y, &ny))
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": a tensor has an invalid shape");
    if (x->rank < 3)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": input must have rank >= 3, got %d", x->rank);
    int64_t c = x->dims[1];
    if (scale->rank != 1 || scale->dims[0] != c || bias->rank != 1 || bias->dims[0] != c)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": scale and B must be [%lld]", (long long)c);
    if (y->rank != x->rank || memcmp(y->dims, x->dims, (size_t)x->rank * sizeof x->dims[0]) != 0)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": the output must have the input's shape");
    if ((nx && (!x->data || !y->data)) || (ns && (!scale->data || !bias->data)))
        return o2pp_fail(err, O2P_ERR_INVALID_ARGUMENT, OP ": missing tensor data");
    if (nx == 0)
        return O2P_OK;
    size_t planes = (size_t)x->dims[0] * (size_t)c;
    size_t spatial = nx / planes;
    for (size_t pl = 0; pl < planes; pl++) {
        size_t ch = pl % (size_t)c, base = pl * spatial;
        double sum = 0.0;
        for (size_t i = 0; i < spatial; i++)
            sum += o2pp_load(x->data, t, base + i);
        double mean = sum / (double)spatial, sq = 0.0;
        for (size_t i = 0; i < spatial; i++) {
            double d = o2pp_load(x->data, t, base + i) - mean;
            sq += d * d;
        }
        double var = sq / (double)spatial;
        double k = o2pp_load(scale->data, t, ch) / sqrt(var + (double)p.epsilon);
        double b = o2pp_load(bias->data, t, ch);
        for (size_t i = 0; i < spatial; i++)
            o2pp_store(y->data, t, base + i, (o2pp_load(x->data, t, base + i) - mean) * k + b);
    }
    return O2P_OK;
}

O2PP_HIDDEN const o2p_plugin_creator o2pp_instance_norm_creator = {
    .size = sizeof(o2p_plugin_creator),
    .name = "InstanceNormalization",
    .version = "1",
    .plugin_namespace = "",
    .onnx_domain = "",
    .num_fields = 1,
    .field_names = in_field_names,
    .min_inputs = 3,
    .max_inputs = 3,
    .infer_outputs = in_infer,
    .supports = in_supports,
    .workspace_size = in_workspace,
    .serialize = in_serialize,
    .enqueue_host = in_enqueue_host,
    .enqueue_cuda = NULL,
};
