/* roi_align.c: the RoiAlign plugin (ONNX opsets 10 and 16, default domain).
 * Inputs: X [N, C, H, W], rois [num_rois, 4] (x1, y1, x2, y2), batch_indices [num_rois]
 * int64. Attributes: mode ("avg" | "max", default "avg"), output_height (1), output_width (1),
 * sampling_ratio (0: adaptive), spatial_scale (1.0), coordinate_transformation_mode
 * ("half_pixel" | "output_half_pixel"). Output [num_rois, C, output_height, output_width].
 *
 * The computation follows onnxruntime's CPU kernel (and the ONNX reference, which copies it):
 * bilinear samples on a roi_bin_grid per output bin; "avg" averages them, "max" takes the
 * maximum of the weighted corner values of each sample (w1*v1, ..., w4*v4), as onnxruntime
 * does. The plugin cannot see the model's opset: an absent coordinate_transformation_mode is
 * "half_pixel", the opset-16 default (an opset-10 model means "output_half_pixel"; the
 * importer should pass that explicitly for opset < 16).
 *
 * Limits (run time, the ROIs are data): the adaptive sampling grid is at most
 * RA_MAX_GRID samples per axis and RA_MAX_GRID_AREA per bin; beyond that the run is refused
 * (O2P_ERR_LIMIT) rather than spinning for hours. */
#include <stdlib.h>

#include "plugin_util.h"

#define OP "RoiAlign"
#define RA_MAX_GRID 65536
#define RA_MAX_GRID_AREA (1 << 24)
#define RA_MAX_OUTPUT_DIM (1 << 24)

static const char RA_TAG[4] = {'o', '2', 'R', 'A'};
enum { RA_FORMAT = 1 };

static const char *const ra_field_names[] = {
    "mode", "output_height", "output_width", "sampling_ratio", "spatial_scale",
    "coordinate_transformation_mode"};
static const o2p_attr_type ra_field_kinds[] = {O2P_ATTR_STRING, O2P_ATTR_INT, O2P_ATTR_INT,
                                               O2P_ATTR_INT,    O2P_ATTR_FLOAT, O2P_ATTR_STRING};
enum { RA_NUM_FIELDS = 6 };

typedef struct ra_params {
    uint32_t max_mode;   /* 0 avg, 1 max */
    uint32_t half_pixel; /* 1 half_pixel, 0 output_half_pixel */
    int64_t output_height, output_width, sampling_ratio;
    float spatial_scale;
} ra_params;

static o2p_status ra_check_params(const ra_params *p, const char *what, o2p_plugin_error *err)
{
    if (p->output_height < 1 || p->output_height > RA_MAX_OUTPUT_DIM || p->output_width < 1 ||
        p->output_width > RA_MAX_OUTPUT_DIM)
        return o2pp_fail(err, O2P_ERR_PARSE,
                         OP ": %soutput_height and output_width must be in [1, %d], got %lld and %lld",
                         what, RA_MAX_OUTPUT_DIM, (long long)p->output_height,
                         (long long)p->output_width);
    if (p->sampling_ratio < 0 || p->sampling_ratio > RA_MAX_GRID)
        return o2pp_fail(err, O2P_ERR_PARSE, OP ": %ssampling_ratio must be in [0, %d], got %lld",
                         what, RA_MAX_GRID, (long long)p->sampling_ratio);
    if (p->sampling_ratio * p->sampling_ratio > RA_MAX_GRID_AREA)
        return o2pp_fail(err, O2P_ERR_LIMIT,
                         OP ": %ssampling_ratio %lld gives more than %d samples per bin", what,
                         (long long)p->sampling_ratio, RA_MAX_GRID_AREA);
    if (!isfinite(p->spatial_scale))
        return o2pp_fail(err, O2P_ERR_PARSE, OP ": %sspatial_scale must be finite", what);
    if (p->max_mode > 1 || p->half_pixel > 1)
        return o2pp_fail(err, O2P_ERR_PARSE, OP ": %sinvalid mode flags", what);
    return O2P_OK;
}

static o2p_status ra_params_from_fields(const o2p_plugin_field *fields, int num_fields,
                                        ra_params *p, o2p_plugin_error *err)
{
    o2p_status st = o2pp_check_fields(OP, fields, num_fields, ra_field_names, ra_field_kinds,
                                      RA_NUM_FIELDS, err);
    if (st != O2P_OK)
        return st;
    p->max_mode = 0;
    p->half_pixel = 1;
    p->output_height = p->output_width = 1;
    p->sampling_ratio = 0;
    p->spatial_scale = 1.0f;
    const o2p_plugin_field *f;
    if ((f = o2pp_find_field(fields, num_fields, "mode"))) {
        if (strcmp(f->s, "avg") == 0)
            p->max_mode = 0;
        else if (strcmp(f->s, "max") == 0)
            p->max_mode = 1;
        else
            return o2pp_fail(err, O2P_ERR_UNSUPPORTED,
                             OP ": mode must be \"avg\" or \"max\", got \"%.64s\"", f->s);
    }
    if ((f = o2pp_find_field(fields, num_fields, "coordinate_transformation_mode"))) {
        if (strcmp(f->s, "half_pixel") == 0)
            p->half_pixel = 1;
        else if (strcmp(f->s, "output_half_pixel") == 0)
            p->half_pixel = 0;
        else
            return o2pp_fail(err, O2P_ERR_UNSUPPORTED,
                             OP ": coordinate_transformation_mode must be \"half_pixel\" or "
                                "\"output_half_pixel\", got \"%.64s\"",
                             f->s);
    }
    if ((f = o2pp_find_field(fields, num_fields, "output_height")))
        p->output_height = f->i;
    if ((f = o2pp_find_field(fields, num_fields, "output_width")))
        p->output_width = f->i;
    if ((f = o2pp_find_field(fields, num_fields, "sampling_ratio")))
        p->sampling_ratio = f->i;
    if ((f = o2pp_find_field(fields, num_fields, "spatial_scale")))
        p->spatial_scale = f->f;
    return ra_check_params(p, "", err);
}

static o2p_status ra_infer(const o2p_plugin_tensor_desc *inputs, int num_inputs,
                           const o2p_plugin_field *fields, int num_fields,
                           o2p_plugin_tensor_desc *outputs, int num_outputs, o2p_plugin_error *err)
{
    ra_params p;
    o2p_status st = ra_params_from_fields(fields, num_fields, &p, err);
    if (st != O2P_OK)
        return st;
    if (num_inputs != 3 || !inputs)
        return o2pp_fail(err, O2P_ERR_SHAPE,
                         OP ": takes 3 inputs (X, rois, batch_indices), got %d", num_inputs);
    if (num_outputs != 1 || !outputs)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": has 1 output, the node declares %d",
                         num_outputs);
    const o2p_plugin_tensor_desc *x = &inputs[0], *rois = &inputs[1], *bi = &inputs[2];
    static const char *const names[3] = {"X", "rois", "batch_indices"};
    static const int ranks[3] = {4, 2, 1};
    for (int i = 0; i < 3; i++) {
        int r = inputs[i].rank;
        if (r != O2P_RANK_UNKNOWN && r != ranks[i])
            return o2pp_fail(err, O2P_ERR_SHAPE, OP ": %s must have rank %d, got rank %d",
                             names[i], ranks[i], r);
    }
    if (x->dtype != O2P_DTYPE_UNDEFINED && !o2pp_is_float_type(x->dtype))
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": X must be float16, float32 or float64, not %s",
                         o2pp_dtype_name(x->dtype));
    if (rois->dtype != O2P_DTYPE_UNDEFINED && x->dtype != O2P_DTYPE_UNDEFINED &&
        rois->dtype != x->dtype)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": rois is %s but X is %s",
                         o2pp_dtype_name(rois->dtype), o2pp_dtype_name(x->dtype));
    if (rois->dtype != O2P_DTYPE_UNDEFINED && !o2pp_is_float_type(rois->dtype))
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": rois must be a float type, not %s",
                         o2pp_dtype_name(rois->dtype));
    if (bi->dtype != O2P_DTYPE_UNDEFINED && bi->dtype != O2P_DTYPE_INT64)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": batch_indices must be int64, not %s",
                         o2pp_dtype_name(bi->dtype));
    if (rois->rank == 2 && rois->dims[1] >= 0 && rois->dims[1] != 4)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": rois must be [num_rois, 4], got [%lld, %lld]",
                         (long long)rois->dims[0], (long long)rois->dims[1]);
    int64_t n = -1;
    if (rois->rank == 2)
        n = rois->dims[0] < 0 ? -1 : rois->dims[0];
    if (bi->rank == 1) {
        int64_t m = o2pp_merge_dim(n, bi->dims[0]);
        if (m == -2)
            return o2pp_fail(err, O2P_ERR_SHAPE,
                             OP ": rois has %lld rows but batch_indices has %lld elements",
                             (long long)n, (long long)bi->dims[0]);
        n = m;
    }
    o2p_plugin_tensor_desc *y = &outputs[0];
    memset(y, 0, sizeof *y);
    y->dtype = x->dtype != O2P_DTYPE_UNDEFINED ? x->dtype : rois->dtype;
    y->rank = 4;
    y->dims[0] = n;
    y->dims[1] = (x->rank == 4 && x->dims[1] >= 0) ? x->dims[1] : -1;
    y->dims[2] = p.output_height;
    y->dims[3] = p.output_width;
    return O2P_OK;
}

static int ra_supports(const o2p_dtype *inputs, int num_inputs, const o2p_dtype *outputs,
                       int num_outputs)
{
    if (num_inputs != 3 || num_outputs != 1 || !inputs || !outputs)
        return 0;
    o2p_dtype t = inputs[0];
    return o2pp_is_float_type(t) && inputs[1] == t && inputs[2] == O2P_DTYPE_INT64 &&
           outputs[0] == t;
}

static uint64_t ra_workspace(const o2p_plugin_tensor_desc *inputs, int num_inputs,
                             const o2p_plugin_field *fields, int num_fields)
{
    return 0;
}

/* Format 1: "o2RA", u32 1, u32 max_mode, u32 half_pixel, i64 output_height, i64 output_width,
 * i64 sampling_ratio, f32 spatial_scale (44 bytes). Returns 0 for invalid fields. */
static size_t ra_serialize(const o2p_plugin_field *fields, int num_fields, void *buf,
                           size_t capacity)
{
    ra_params p;
    if (ra_params_from_fields(fields, num_fields, &p, NULL) != O2P_OK)
        return 0;
    o2pp_writer w = {buf, buf ? capacity : 0, 0};
    o2pp_put_bytes(&w, RA_TAG, 4);
    o2pp_put_u32(&w, RA_FORMAT);
    o2pp_put_u32(&w, p.max_mode);
    o2pp_put_u32(&w, p.half_pixel);
    o2pp_put_u64(&w, (uint64_t)p.output_height);
    o2pp_put_u64(&w, (uint64_t)p.output_width);
    o2pp_put_u64(&w, (uint64_t)p.sampling_ratio);
    o2pp_put_f32(&w, p.spatial_scale);
    return o2pp_writer_done(&w);
}

static o2p_status ra_deserialize(const void *bytes, size_t size, ra_params *p,
                                 o2p_plugin_error *err)
{
    o2pp_reader r;
    o2p_status st = o2pp_reader_open(&r, OP, bytes, size, RA_TAG, RA_FORMAT, err);
    if (st != O2P_OK)
        return st;
    p->max_mode = o2pp_get_u32(&r);
    p->half_pixel = o2pp_get_u32(&r);
    p->output_height = (int64_t)o2pp_get_u64(&r);
    p->output_width = (int64_t)o2pp_get_u64(&r);
    p->sampling_ratio = (int64_t)o2pp_get_u64(&r);
    p->spatial_scale = o2pp_get_f32(&r);
    if ((st = o2pp_reader_close(&r, OP, err)) != O2P_OK)
        return st;
    return ra_check_params(p, "serialized ", err);
}

/* One bilinear sample: up to 4 positions and weights (all 0 outside the map). */
typedef struct ra_sample {
    size_t pos[4];
    double w[4];
} ra_sample;

static void ra_sample_at(double y, double x, int64_t height, int64_t width, ra_sample *s)
{
    /* !(a && b) also catches NaN coordinates */
    if (!(y >= -1.0 && y <= (double)height && x >= -1.0 && x <= (double)width)) {
        memset(s, 0, sizeof *s);
        return;
    }
    if (y <= 0)
        y = 0;
    if (x <= 0)
        x = 0;
    int64_t y_low = (int64_t)y, x_low = (int64_t)x, y_high, x_high;
    if (y_low >= height - 1) {
        y_high = y_low = height - 1;
        y = (double)y_low;
    } else {
        y_high = y_low + 1;
    }
    if (x_low >= width - 1) {
        x_high = x_low = width - 1;
        x = (double)x_low;
    } else {
        x_high = x_low + 1;
    }
    double ly = y - (double)y_low, lx = x - (double)x_low, hy = 1.0 - ly, hx = 1.0 - lx;
    s->w[0] = hy * hx;
    s->w[1] = hy * lx;
    s->w[2] = ly * hx;
    s->w[3] = ly * lx;
    s->pos[0] = (size_t)(y_low * width + x_low);
    s->pos[1] = (size_t)(y_low * width + x_high);
    s->pos[2] = (size_t)(y_high * width + x_low);
    s->pos[3] = (size_t)(y_high * width + x_high);
}

/* Samples per axis for a bin: sampling_ratio, or ceil(roi extent / bins) when adaptive. */
static o2p_status ra_grid(int64_t sampling_ratio, double extent, int64_t bins, int64_t *grid,
                          o2p_plugin_error *err, int64_t roi)
{
    if (sampling_ratio > 0) {
        *grid = sampling_ratio;
        return O2P_OK;
    }
    double g = ceil(extent / (double)bins);
    if (!(g <= (double)RA_MAX_GRID)) /* also NaN */
        return o2pp_fail(err, O2P_ERR_LIMIT,
                         OP ": roi %lld needs an adaptive sampling grid of more than %d samples "
                            "per axis (a huge or non-finite ROI)",
                         (long long)roi, RA_MAX_GRID);
    *grid = g > 0 ? (int64_t)g : 0; /* <= 0: no samples, the bin is 0 */
    return O2P_OK;
}

static o2p_status ra_enqueue_host(const void *serialized, size_t serialized_size,
                                  const o2p_plugin_tensor *inputs, int num_inputs,
                                  o2p_plugin_tensor *outputs, int num_outputs, void *workspace,
                                  o2p_plugin_error *err)
{
    ra_params p;
    o2p_status st = ra_deserialize(serialized, serialized_size, &p, err);
    if (st != O2P_OK)
        return st;
    if (num_inputs != 3 || num_outputs != 1 || !inputs || !outputs)
        return o2pp_fail(err, O2P_ERR_INVALID_ARGUMENT,
                         OP ": runs with 3 inputs and 1 output, got %d and %d", num_inputs,
                         num_outputs);
    const o2p_plugin_tensor *x = &inputs[0], *rois = &inputs[1], *bi = &inputs[2];
    o2p_plugin_tensor *y = &outputs[0];
    o2p_dtype t = x->dtype;
    if (!o2pp_is_float_type(t))
        return o2pp_fail(err, O2P_ERR_UNSUPPORTED, OP ": cannot run on %s", o2pp_dtype_name(t));
    if (rois->dtype != t || y->dtype != t)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": X, rois and the output must share a type");
    if (bi->dtype != O2P_DTYPE_INT64)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": batch_indices must be int64");
    size_t nx, nr, nb, ny;
    if (o2pp_count(x, &nx) || o2pp_count(rois, &nr) || o2pp_count(bi, &nb) || o2pp_count(y, &ny))
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": a tensor has an invalid shape");
    char sx[96], sr[96], sb[96];
    if (x->rank != 4 || rois->rank != 2 || bi->rank != 1 || rois->dims[1] != 4 ||
        bi->dims[0] != rois->dims[0])
        return o2pp_fail(err, O2P_ERR_SHAPE,
                         OP ": needs X [N,C,H,W], rois [R,4], batch_indices [R]; got %s, %s, %s",
                         o2pp_shape_str(x->dims, x->rank, sx, sizeof sx),
                         o2pp_shape_str(rois->dims, rois->rank, sr, sizeof sr),
                         o2pp_shape_str(bi->dims, bi->rank, sb, sizeof sb));
    int64_t num_rois = rois->dims[0], batch = x->dims[0], channels = x->dims[1];
    int64_t height = x->dims[2], width = x->dims[3];
    int64_t oh = p.output_height, ow = p.output_width;
    if (y->rank != 4 || y->dims[0] != num_rois || y->dims[1] != channels || y->dims[2] != oh ||
        y->dims[3] != ow)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": the output must be [%lld, %lld, %lld, %lld], got %s",
                         (long long)num_rois, (long long)channels, (long long)oh, (long long)ow,
                         o2pp_shape_str(y->dims, y->rank, sx, sizeof sx));
    if ((nx && !x->data) || (nr && !rois->data) || (nb && !bi->data) || (ny && !y->data))
        return o2pp_fail(err, O2P_ERR_INVALID_ARGUMENT, OP ": missing tensor data");
    const int64_t *batch_indices = bi->data;
    for (int64_t n = 0; n < num_rois; n++)
        if (batch_indices[n] < 0 || batch_indices[n] >= batch)
            return o2pp_fail(err, O2P_ERR_INVALID_ARGUMENT,
                             OP ": batch_indices[%lld] = %lld is out of range for a batch of %lld",
                             (long long)n, (long long)batch_indices[n], (long long)batch);
    if (ny == 0)
        return O2P_OK;
    /* num_rois, channels > 0 here; an empty map (H or W 0) cannot be sampled */
    if (height == 0 || width == 0)
        return o2pp_fail(err, O2P_ERR_SHAPE, OP ": X has an empty feature map (%lldx%lld)",
                         (long long)height, (long long)width);

    /* Check every ROI's grid first so that a refused run writes nothing. */
    const double offset = p.half_pixel ? 0.5 : 0.0, scale = (double)p.spatial_scale;
    for (int pass = 0; pass < 2; pass++) {
        for (int64_t n = 0; n < num_rois; n++) {
            double r[4];
            for (int k = 0; k < 4; k++)
                r[k] = o2pp_load(rois->data, t, (size_t)n * 4 + (size_t)k) * scale - offset;
            double start_w = r[0], start_h = r[1];
            double roi_w = r[2] - r[0], roi_h = r[3] - r[1];
            if (!p.half_pixel) { /* malformed ROIs become 1x1 */
                roi_w = fmax(roi_w, 1.0);
                roi_h = fmax(roi_h, 1.0);
            }
            double bin_h = roi_h / (double)oh, bin_w = roi_w / (double)ow;
            int64_t gh = 0, gw = 0;
            if ((st = ra_grid(p.sampling_ratio, roi_h, oh, &gh, err, n)) != O2P_OK ||
                (st = ra_grid(p.sampling_ratio, roi_w, ow, &gw, err, n)) != O2P_OK)
                return st;
            if (gh * gw > RA_MAX_GRID_AREA)
                return o2pp_fail(err, O2P_ERR_LIMIT,
                                 OP ": roi %lld needs %lld samples per bin (limit %d)",
                                 (long long)n, (long long)(gh * gw), RA_MAX_GRID_AREA);
            if (pass == 0)
                continue;
            double count = (double)(gh * gw > 1 ? gh * gw : 1);
            size_t plane = (size_t)height * (size_t)width;
            for (int64_t c = 0; c < channels; c++) {
                size_t in_base = ((size_t)batch_indices[n] * (size_t)channels + (size_t)c) * plane;
                size_t out_base = ((size_t)n * (size_t)channels + (size_t)c) * (size_t)(oh * ow);
                for (int64_t ph = 0; ph < oh; ph++) {
                    for (int64_t pw = 0; pw < ow; pw++) {
                        double acc = 0.0;
                        int have = 0;
                        for (int64_t iy = 0; iy < gh; iy++) {
                            double yy = start_h + (double)ph * bin_h +
                                        ((double)iy + 0.5) * bin_h / (double)gh;
                            for (int64_t ix = 0; ix < gw; ix++) {
                                double xx = start_w + (double)pw * bin_w +
                                            ((double)ix + 0.5) * bin_w / (double)gw;
                                ra_sample s;
                                ra_sample_at(yy, xx, height, width, &s);
                                double v[4];
                                for (int k = 0; k < 4; k++)
                                    v[k] = s.w[k] * o2pp_load(x->data, t, in_base + s.pos[k]);
                                if (!p.max_mode) {
                                    acc += v[0] + v[1] + v[2] + v[3];
                                } else {
                                    double m = fmax(fmax(v[0], v[1]), fmax(v[2], v[3]));
                                    acc = have ? fmax(acc, m) : m;
                                    have = 1;
                                }
                            }
                        }
                        if (!p.max_mode)
                            acc /= count;
                        o2pp_store(y->data, t, out_base + (size_t)(ph * ow + pw), acc);
                    }
                }
            }
        }
    }
    return O2P_OK;
}

O2PP_HIDDEN const o2p_plugin_creator o2pp_roi_align_creator = {
    .size = sizeof(o2p_plugin_creator),
    .name = "RoiAlign",
    .version = "1",
    .plugin_namespace = "",
    .onnx_domain = "",
    .num_fields = RA_NUM_FIELDS,
    .field_names = ra_field_names,
    .min_inputs = 3,
    .max_inputs = 3,
    .infer_outputs = ra_infer,
    .supports = ra_supports,
    .workspace_size = ra_workspace,
    .serialize = ra_serialize,
    .enqueue_host = ra_enqueue_host,
    .enqueue_cuda = NULL,
};
