/* test_plugin_library.c: libo2p_plugins.so on its own, through the plugin ABI (plugin.h): it
 * exports exactly its entry, serves only its ABI major, lists InstanceNormalization and
 * RoiAlign, matches the ONNX node tests of both on the host, and refuses hostile serialized
 * fields, shapes and batch indices cleanly. Also builds the out-of-tree example in
 * examples/plugin/ with `cc` against the public headers only and runs it. */
#include <dlfcn.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "o2p/plugin.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

/* The folder of the build (where onnx2plan and the libraries live). */
static char *build_dir(void)
{
    char *cli = strdup(O2P_CLI_PATH);
    char *dir = strdup(dirname(cli));
    free(cli);
    return dir;
}

static char *plugins_lib_path(void)
{
    char *dir = build_dir();
    char *path = tu_printf("%s/libo2p_plugins.so", dir);
    free(dir);
    return path;
}

static char *command_output(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0)
        len += n;
    buf[len] = '\0';
    pclose(p);
    return buf;
}

typedef struct loaded {
    void *handle;
    const o2p_plugin_library *lib;
    o2p_plugin_library_fn entry;
} loaded;

static loaded load_library(const char *path)
{
    loaded l = {0};
    l.handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(l.handle != NULL, "dlopen %s: %s", path, dlerror());
    void *sym = dlsym(l.handle, O2P_PLUGIN_ENTRY_SYMBOL);
    ck_assert_msg(sym != NULL, "%s has no %s", path, O2P_PLUGIN_ENTRY_SYMBOL);
    memcpy(&l.entry, &sym, sizeof sym);
    l.lib = l.entry(O2P_PLUGIN_ABI_MAJOR);
    ck_assert_msg(l.lib != NULL, "the entry returned NULL for the host's ABI major");
    ck_assert_uint_ge(l.lib->size, sizeof(o2p_plugin_library));
    ck_assert_uint_eq(l.lib->abi_major, O2P_PLUGIN_ABI_MAJOR);
    ck_assert_uint_eq(l.lib->abi_minor, O2P_PLUGIN_ABI_MINOR);
    return l;
}

static loaded load_bundled(void)
{
    char *path = plugins_lib_path();
    loaded l = load_library(path);
    free(path);
    return l;
}

static const o2p_plugin_creator *find_creator(const loaded *l, const char *name)
{
    for (int i = 0; i < l->lib->num_creators; i++)
        if (strcmp(l->lib->creators[i]->name, name) == 0)
            return l->lib->creators[i];
    ck_abort_msg("the library has no creator %s", name);
    return NULL;
}

/* A host tensor with malloc'ed data. */
typedef struct htensor {
    o2p_plugin_tensor t;
    size_t count;
} htensor;

static htensor ht_new(o2p_dtype dtype, int rank, const int64_t *dims)
{
    htensor h;
    memset(&h, 0, sizeof h);
    h.t.dtype = dtype;
    h.t.rank = rank;
    h.count = 1;
    for (int i = 0; i < rank; i++) {
        h.t.dims[i] = dims[i];
        h.count *= (size_t)dims[i];
    }
    size_t esz = dtype == O2P_DTYPE_DOUBLE || dtype == O2P_DTYPE_INT64 ? 8
                 : dtype == O2P_DTYPE_FLOAT16                          ? 2
                                                                       : 4;
    h.t.data = calloc(h.count ? h.count : 1, esz);
    ck_assert_ptr_nonnull(h.t.data);
    return h;
}

static void ht_free(htensor *h)
{
    free(h->t.data);
    h->t.data = NULL;
}

static o2p_plugin_tensor_desc desc_of(const o2p_plugin_tensor *t)
{
    o2p_plugin_tensor_desc d;
    memset(&d, 0, sizeof d);
    d.dtype = t->dtype;
    d.rank = t->rank;
    for (int i = 0; i < t->rank; i++)
        d.dims[i] = t->dims[i];
    return d;
}

/* Reads a TensorProto file (float32, float64 or int64). */
static htensor load_pb(const char *path)
{
    size_t size;
    char *bytes = tu_read_file(path, &size);
    ck_assert_msg(bytes != NULL, "cannot read %s", path);
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, (const uint8_t *)bytes);
    ck_assert_msg(tp != NULL, "cannot unpack %s", path);
    ck_assert_int_le(tp->n_dims, O2P_MAX_RANK);
    htensor h = ht_new((o2p_dtype)tp->data_type, (int)tp->n_dims, tp->dims);
    size_t esz = tp->data_type == O2P_DTYPE_FLOAT ? 4 : 8;
    ck_assert_msg(tp->data_type == O2P_DTYPE_FLOAT || tp->data_type == O2P_DTYPE_DOUBLE ||
                      tp->data_type == O2P_DTYPE_INT64,
                  "%s: unexpected data type %d", path, tp->data_type);
    if (tp->has_raw_data) {
        ck_assert_uint_eq(tp->raw_data.len, h.count * esz);
        memcpy(h.t.data, tp->raw_data.data, h.count * esz);
    } else if (tp->data_type == O2P_DTYPE_FLOAT) {
        ck_assert_uint_eq(tp->n_float_data, h.count);
        memcpy(h.t.data, tp->float_data, h.count * 4);
    } else if (tp->data_type == O2P_DTYPE_DOUBLE) {
        ck_assert_uint_eq(tp->n_double_data, h.count);
        memcpy(h.t.data, tp->double_data, h.count * 8);
    } else {
        ck_assert_uint_eq(tp->n_int64_data, h.count);
        memcpy(h.t.data, tp->int64_data, h.count * 8);
    }
    onnx__tensor_proto__free_unpacked(tp, NULL);
    free(bytes);
    return h;
}

static double ht_get(const htensor *h, size_t i)
{
    switch (h->t.dtype) {
    case O2P_DTYPE_FLOAT: return ((const float *)h->t.data)[i];
    case O2P_DTYPE_DOUBLE: return ((const double *)h->t.data)[i];
    case O2P_DTYPE_INT64: return (double)((const int64_t *)h->t.data)[i];
    default: ck_abort_msg("unexpected dtype"); return 0;
    }
}

/* |a - b| <= atol + rtol |b| */
static void assert_close(const htensor *got, const htensor *want, const char *what, double atol,
                         double rtol)
{
    ck_assert_int_eq(got->t.rank, want->t.rank);
    for (int i = 0; i < want->t.rank; i++)
        ck_assert_int_eq(got->t.dims[i], want->t.dims[i]);
    for (size_t i = 0; i < want->count; i++) {
        double a = ht_get(got, i), b = ht_get(want, i);
        ck_assert_msg(fabs(a - b) <= atol + rtol * fabs(b),
                      "%s: element %zu is %.9g, expected %.9g", what, i, a, b);
    }
}

/* The node's attributes as plugin fields (strings copied NUL-terminated into `strings`). */
typedef struct node_fields {
    o2p_plugin_field f[16];
    char *strings[16];
    int n;
} node_fields;

static void fields_from_node(const Onnx__NodeProto *node, node_fields *nf)
{
    memset(nf, 0, sizeof *nf);
    ck_assert_int_le(node->n_attribute, 16);
    for (size_t i = 0; i < node->n_attribute; i++) {
        const Onnx__AttributeProto *a = node->attribute[i];
        o2p_plugin_field *f = &nf->f[nf->n];
        f->name = a->name;
        f->type = (o2p_attr_type)a->type;
        switch (a->type) {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: f->f = a->f; break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: f->i = a->i; break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
            nf->strings[nf->n] = strndup((const char *)a->s.data, a->s.len);
            f->s = nf->strings[nf->n];
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
            f->count = (int)a->n_ints;
            f->ints = a->ints;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
            f->count = (int)a->n_floats;
            f->floats = a->floats;
            break;
        default: ck_abort_msg("attribute %s of an unexpected type", a->name);
        }
        nf->n++;
    }
}

static void fields_free(node_fields *nf)
{
    for (int i = 0; i < 16; i++)
        free(nf->strings[i]);
}

/* Serializes through the creator: the size query, a too-small buffer, then the bytes. */
static uint8_t *serialize_fields(const o2p_plugin_creator *c, const o2p_plugin_field *fields,
                                 int n, size_t *size)
{
    size_t need = c->serialize(fields, n, NULL, 0);
    ck_assert_msg(need > 0, "%s: serialize returned 0", c->name);
    uint8_t small[4] = {0xAA, 0xAA, 0xAA, 0xAA};
    ck_assert_uint_eq(c->serialize(fields, n, small, need - 1 < 4 ? need - 1 : 4), need);
    uint8_t *buf = malloc(need + 1);
    buf[need] = 0x5C;
    ck_assert_uint_eq(c->serialize(fields, n, buf, need), need);
    ck_assert_uint_eq(buf[need], 0x5C);
    *size = need;
    return buf;
}

/* ---------------------------------------------------------------- the library */

START_TEST(test_exports_only_the_entry)
{
    char *path = plugins_lib_path();
    char *cmd = tu_printf("nm -D --defined-only '%s' | awk '{print $3}'", path);
    char *syms = command_output(cmd);
    ck_assert_msg(strcmp(syms, O2P_PLUGIN_ENTRY_SYMBOL "\n") == 0,
                  "libo2p_plugins.so must export only %s, it exports:\n%s",
                  O2P_PLUGIN_ENTRY_SYMBOL, syms);
    free(syms);
    free(cmd);
    cmd = tu_printf("readelf -dW '%s' | grep NEEDED", path);
    char *needed = command_output(cmd);
    for (char *line = strtok(needed, "\n"); line; line = strtok(NULL, "\n")) {
        int ok = strstr(line, "[libc.so") || strstr(line, "[libm.so") ||
                 strstr(line, "[libasan.so") || strstr(line, "[libubsan.so") ||
                 strstr(line, "[libgcc_s.so") || strstr(line, "[ld-linux");
        ck_assert_msg(ok, "libo2p_plugins.so needs more than libc/libm: %s", line);
    }
    free(needed);
    free(cmd);
    free(path);
}
END_TEST

START_TEST(test_entry_and_creators)
{
    loaded l = load_bundled();
    ck_assert_ptr_null(l.entry(O2P_PLUGIN_ABI_MAJOR + 1));
    ck_assert_ptr_null(l.entry(0));
    ck_assert_ptr_null(l.entry(UINT32_MAX));
    ck_assert_ptr_eq(l.entry(O2P_PLUGIN_ABI_MAJOR), l.lib);
    ck_assert_str_eq(l.lib->name, "o2p_plugins");
    ck_assert_int_eq(l.lib->num_creators, 2);
    static const char *const names[2] = {"InstanceNormalization", "RoiAlign"};
    static const int nfields[2] = {1, 6};
    for (int i = 0; i < 2; i++) {
        const o2p_plugin_creator *c = find_creator(&l, names[i]);
        ck_assert_uint_ge(c->size, sizeof(o2p_plugin_creator));
        ck_assert_str_eq(c->version, "1");
        ck_assert_str_eq(c->plugin_namespace, "");
        ck_assert_str_eq(c->onnx_domain, "");
        ck_assert_int_eq(c->num_fields, nfields[i]);
        for (int k = 0; k < c->num_fields; k++)
            ck_assert_ptr_nonnull(c->field_names[k]);
        ck_assert_int_eq(c->min_inputs, 3);
        ck_assert_int_eq(c->max_inputs, 3);
        ck_assert_ptr_nonnull(c->infer_outputs);
        ck_assert_ptr_nonnull(c->supports);
        ck_assert_ptr_nonnull(c->workspace_size);
        ck_assert_ptr_nonnull(c->serialize);
        ck_assert_ptr_nonnull(c->enqueue_host);
        ck_assert_ptr_null(c->enqueue_cuda);
    }
    const o2p_plugin_creator *in = find_creator(&l, "InstanceNormalization");
    const o2p_plugin_creator *ra = find_creator(&l, "RoiAlign");
    o2p_dtype f3[3] = {O2P_DTYPE_FLOAT, O2P_DTYPE_FLOAT, O2P_DTYPE_FLOAT};
    o2p_dtype h3[3] = {O2P_DTYPE_FLOAT16, O2P_DTYPE_FLOAT16, O2P_DTYPE_FLOAT16};
    o2p_dtype i3[3] = {O2P_DTYPE_INT32, O2P_DTYPE_INT32, O2P_DTYPE_INT32};
    o2p_dtype ra_in[3] = {O2P_DTYPE_FLOAT, O2P_DTYPE_FLOAT, O2P_DTYPE_INT64};
    o2p_dtype ra_bad[3] = {O2P_DTYPE_FLOAT, O2P_DTYPE_FLOAT, O2P_DTYPE_INT32};
    o2p_dtype fo = O2P_DTYPE_FLOAT, ho = O2P_DTYPE_FLOAT16, io = O2P_DTYPE_INT32;
    ck_assert(in->supports(f3, 3, &fo, 1));
    ck_assert(in->supports(h3, 3, &ho, 1));
    ck_assert(!in->supports(i3, 3, &io, 1));
    ck_assert(!in->supports(f3, 2, &fo, 1));
    ck_assert(ra->supports(ra_in, 3, &fo, 1));
    ck_assert(!ra->supports(ra_bad, 3, &fo, 1));
    ck_assert(!ra->supports(f3, 3, &fo, 1));
    dlclose(l.handle);
}
END_TEST

/* ---------------------------------------------------------------- ONNX node tests */

/* The RoiAlign node tests' expected outputs are written with 4 decimals (up to 5e-5 off):
 * their atol is 1e-4 (the ONNX backend runner uses rtol 1e-3). */
static void run_node_test(const char *test, const char *op, double atol, double rtol)
{
    if (!tu_have_testdata()) {
        printf("test_plugin_library: SKIPPED %s: no ONNX test data in %s\n", test,
               O2P_TESTDATA_DIR);
        return;
    }
    char *dir = tu_printf("%s/node/%s", O2P_TESTDATA_DIR, test);
    struct stat st;
    if (stat(dir, &st) != 0) {
        printf("test_plugin_library: SKIPPED %s: %s is missing\n", test, dir);
        free(dir);
        return;
    }
    loaded l = load_bundled();
    const o2p_plugin_creator *c = find_creator(&l, op);

    char *model_path = tu_printf("%s/model.onnx", dir);
    size_t msize;
    char *mbytes = tu_read_file(model_path, &msize);
    ck_assert_msg(mbytes != NULL, "cannot read %s", model_path);
    Onnx__ModelProto *model = onnx__model_proto__unpack(NULL, msize, (const uint8_t *)mbytes);
    ck_assert_ptr_nonnull(model);
    ck_assert_ptr_nonnull(model->graph);
    ck_assert_uint_eq(model->graph->n_node, 1);
    const Onnx__NodeProto *node = model->graph->node[0];
    ck_assert_str_eq(node->op_type, op);
    ck_assert_uint_eq(node->n_input, 3);
    node_fields nf;
    fields_from_node(node, &nf);

    htensor in[3], want;
    o2p_plugin_tensor_desc in_desc[3], out_desc;
    for (int i = 0; i < 3; i++) {
        char *p = tu_printf("%s/test_data_set_0/input_%d.pb", dir, i);
        in[i] = load_pb(p);
        in_desc[i] = desc_of(&in[i].t);
        free(p);
    }
    char *p = tu_printf("%s/test_data_set_0/output_0.pb", dir);
    want = load_pb(p);
    free(p);

    char msg[256] = "";
    o2p_plugin_error err = {msg, sizeof msg};
    memset(&out_desc, 0x7f, sizeof out_desc);
    ck_assert_msg(c->infer_outputs(in_desc, 3, nf.f, nf.n, &out_desc, 1, &err) == O2P_OK,
                  "%s: infer_outputs: %s", test, msg);
    ck_assert_int_eq(out_desc.dtype, want.t.dtype);
    ck_assert_int_eq(out_desc.rank, want.t.rank);
    for (int i = 0; i < want.t.rank; i++)
        ck_assert_int_eq(out_desc.dims[i], want.t.dims[i]);
    o2p_dtype in_types[3] = {in[0].t.dtype, in[1].t.dtype, in[2].t.dtype};
    ck_assert(c->supports(in_types, 3, &out_desc.dtype, 1));
    ck_assert_uint_eq(c->workspace_size(in_desc, 3, nf.f, nf.n), 0);

    /* the same with unknown dims: they propagate as -1 */
    o2p_plugin_tensor_desc sym[3];
    memcpy(sym, in_desc, sizeof sym);
    sym[0].dims[0] = -1;
    sym[0].dims[sym[0].rank - 1] = -1;
    sym[1].dims[0] = -1;
    sym[2].dims[0] = -1;
    o2p_plugin_tensor_desc sym_out;
    ck_assert_msg(c->infer_outputs(sym, 3, nf.f, nf.n, &sym_out, 1, &err) == O2P_OK,
                  "%s: infer_outputs with unknown dims: %s", test, msg);
    ck_assert_int_eq(sym_out.rank, want.t.rank);
    ck_assert_int_eq(sym_out.dims[0], -1);
    ck_assert_int_eq(sym_out.dims[1], want.t.dims[1]); /* C is still known from X */
    /* unknown ranks */
    sym[0].rank = sym[1].rank = sym[2].rank = O2P_RANK_UNKNOWN;
    ck_assert_msg(c->infer_outputs(sym, 3, nf.f, nf.n, &sym_out, 1, &err) == O2P_OK,
                  "%s: infer_outputs with unknown ranks: %s", test, msg);

    size_t ssize;
    uint8_t *ser = serialize_fields(c, nf.f, nf.n, &ssize);
    htensor got = ht_new(out_desc.dtype, out_desc.rank, out_desc.dims);
    o2p_plugin_tensor ins[3] = {in[0].t, in[1].t, in[2].t};
    ck_assert_msg(c->enqueue_host(ser, ssize, ins, 3, &got.t, 1, NULL, &err) == O2P_OK,
                  "%s: enqueue_host: %s", test, msg);
    assert_close(&got, &want, test, atol, rtol);

    free(ser);
    ht_free(&got);
    ht_free(&want);
    for (int i = 0; i < 3; i++)
        ht_free(&in[i]);
    fields_free(&nf);
    onnx__model_proto__free_unpacked(model, NULL);
    free(mbytes);
    free(model_path);
    free(dir);
    dlclose(l.handle);
}

START_TEST(test_node_instancenorm_epsilon)
{
    run_node_test("test_instancenorm_epsilon", "InstanceNormalization", 1e-5, 1e-4);
}
END_TEST

START_TEST(test_node_instancenorm_example)
{
    run_node_test("test_instancenorm_example", "InstanceNormalization", 1e-5, 1e-4);
}
END_TEST

START_TEST(test_node_roialign_aligned_false)
{
    run_node_test("test_roialign_aligned_false", "RoiAlign", 1e-4, 1e-4);
}
END_TEST

START_TEST(test_node_roialign_aligned_true)
{
    run_node_test("test_roialign_aligned_true", "RoiAlign", 1e-4, 1e-4);
}
END_TEST

/* ---------------------------------------------------------------- more numerics */

/* InstanceNormalization in float16 and float64 against a double reference. */
START_TEST(test_instancenorm_types)
{
    loaded l = load_bundled();
    const o2p_plugin_creator *c = find_creator(&l, "InstanceNormalization");
    size_t ssize;
    uint8_t *ser = serialize_fields(c, NULL, 0, &ssize); /* epsilon 1e-5 */
    int64_t xd[4] = {2, 3, 4, 5}, cd[1] = {3};
    char msg[256] = "";
    o2p_plugin_error err = {msg, sizeof msg};
    o2p_dtype types[2] = {O2P_DTYPE_DOUBLE, O2P_DTYPE_FLOAT16};
    for (int ti = 0; ti < 2; ti++) {
        o2p_dtype t = types[ti];
        htensor x = ht_new(t, 4, xd), s = ht_new(t, 1, cd), b = ht_new(t, 1, cd),
                y = ht_new(t, 4, xd);
        double ref_x[120];
        for (int i = 0; i < 120; i++) {
            ref_x[i] = sin(i * 0.37) * 3.0 + (i % 7);
            if (t == O2P_DTYPE_DOUBLE) {
                ((double *)x.t.data)[i] = ref_x[i];
            } else {
                /* exact in float16: multiples of 1/64 below 16 */
                ref_x[i] = round(ref_x[i] * 64.0) / 64.0;
                float f = (float)ref_x[i];
                uint32_t bits;
                memcpy(&bits, &f, 4);
                uint32_t e = (bits >> 23) & 0xff, m = bits & 0x7fffff;
                uint16_t h = (uint16_t)((bits >> 16) & 0x8000);
                if (f != 0.0f)
                    h |= (uint16_t)(((e - 112) << 10) | (m >> 13)); /* normal range, exact */
                ((uint16_t *)x.t.data)[i] = h;
            }
        }
        double sc[3] = {1.0, -0.5, 2.0}, bi[3] = {0.0, 0.25, -1.0};
        for (int k = 0; k < 3; k++) {
            if (t == O2P_DTYPE_DOUBLE) {
                ((double *)s.t.data)[k] = sc[k];
                ((double *)b.t.data)[k] = bi[k];
            }
        }
        if (t == O2P_DTYPE_FLOAT16) { /* 1, -0.5, 2 and 0, 0.25, -1 in float16 */
            uint16_t hs[3] = {0x3c00, 0xb800, 0x4000}, hb[3] = {0x0000, 0x3400, 0xbc00};
            memcpy(s.t.data, hs, sizeof hs);
            memcpy(b.t.data, hb, sizeof hb);
        }
        o2p_plugin_tensor ins[3] = {x.t, s.t, b.t};
        ck_assert_msg(c->enqueue_host(ser, ssize, ins, 3, &y.t, 1, NULL, &err) == O2P_OK, "%s",
                      msg);
        for (int pl = 0; pl < 6; pl++) {
            double mean = 0, var = 0;
            for (int i = 0; i < 20; i++)
                mean += ref_x[pl * 20 + i];
            mean /= 20;
            for (int i = 0; i < 20; i++)
                var += (ref_x[pl * 20 + i] - mean) * (ref_x[pl * 20 + i] - mean);
            var /= 20;
            for (int i = 0; i < 20; i++) {
                double want = (ref_x[pl * 20 + i] - mean) / sqrt(var + 1e-5) * sc[pl % 3] +
                              bi[pl % 3];
                double got;
                if (t == O2P_DTYPE_DOUBLE) {
                    got = ((double *)y.t.data)[pl * 20 + i];
                    ck_assert_msg(fabs(got - want) < 1e-12, "float64: %g vs %g", got, want);
                } else {
                    uint16_t h = ((uint16_t *)y.t.data)[pl * 20 + i];
                    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
                    got = (e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25)) * ((h & 0x8000) ? -1 : 1);
                    ck_assert_msg(fabs(got - want) <= 2e-3 * fmax(1.0, fabs(want)),
                                  "float16: %g vs %g", got, want);
                }
            }
        }
        ht_free(&x);
        ht_free(&s);
        ht_free(&b);
        ht_free(&y);
    }
    free(ser);
    dlclose(l.handle);
}
END_TEST

/* RoiAlign: max mode, adaptive sampling, spatial_scale, and default attributes, against a
 * straightforward re-implementation of onnxruntime's kernel here. */
static double ref_roi_align(const float *x, int64_t h, int64_t w, const float *roi, int max_mode,
                            int half_pixel, int64_t oh, int64_t ow, int64_t sr, float scale,
                            int64_t ph, int64_t pw)
{
    double off = half_pixel ? 0.5 : 0.0;
    double sw = roi[0] * scale - off, sh = roi[1] * scale - off;
    double rw = roi[2] * scale - off - sw, rh = roi[3] * scale - off - sh;
    if (!half_pixel) {
        rw = fmax(rw, 1.0);
        rh = fmax(rh, 1.0);
    }
    double bh = rh / oh, bw = rw / ow;
    int64_t gh = sr > 0 ? sr : (int64_t)ceil(rh / oh), gw = sr > 0 ? sr : (int64_t)ceil(rw / ow);
    double acc = 0;
    int have = 0;
    for (int64_t iy = 0; iy < gh; iy++)
        for (int64_t ix = 0; ix < gw; ix++) {
            double y = sh + ph * bh + (iy + 0.5) * bh / gh, xx = sw + pw * bw + (ix + 0.5) * bw / gw;
            double v[4] = {0, 0, 0, 0};
            if (!(y < -1.0 || y > h || xx < -1.0 || xx > w)) {
                y = y < 0 ? 0 : y;
                xx = xx < 0 ? 0 : xx;
                int64_t yl = (int64_t)y, xl = (int64_t)xx, yh, xh;
                if (yl >= h - 1) {
                    yh = yl = h - 1;
                    y = (double)yl;
                } else
                    yh = yl + 1;
                if (xl >= w - 1) {
                    xh = xl = w - 1;
                    xx = (double)xl;
                } else
                    xh = xl + 1;
                double ly = y - yl, lx = xx - xl;
                v[0] = (1 - ly) * (1 - lx) * x[yl * w + xl];
                v[1] = (1 - ly) * lx * x[yl * w + xh];
                v[2] = ly * (1 - lx) * x[yh * w + xl];
                v[3] = ly * lx * x[yh * w + xh];
            }
            if (max_mode) {
                double m = fmax(fmax(v[0], v[1]), fmax(v[2], v[3]));
                acc = have ? fmax(acc, m) : m;
                have = 1;
            } else {
                acc += v[0] + v[1] + v[2] + v[3];
            }
        }
    if (!max_mode)
        acc /= (gh * gw > 0 ? gh * gw : 1);
    return acc;
}

START_TEST(test_roialign_modes)
{
    loaded l = load_bundled();
    const o2p_plugin_creator *c = find_creator(&l, "RoiAlign");
    int64_t xd[4] = {2, 2, 6, 7}, rd[2] = {3, 4}, bd[1] = {3};
    htensor x = ht_new(O2P_DTYPE_FLOAT, 4, xd), rois = ht_new(O2P_DTYPE_FLOAT, 2, rd),
            bi = ht_new(O2P_DTYPE_INT64, 1, bd);
    for (size_t i = 0; i < x.count; i++)
        ((float *)x.t.data)[i] = (float)(cos(i * 0.7) * 5.0 + 1.0);
    float r[12] = {0.5f, 1.0f, 5.5f, 4.0f, -2.0f, -1.0f, 3.0f, 9.0f, 2.0f, 2.0f, 2.2f, 2.1f};
    memcpy(rois.t.data, r, sizeof r);
    int64_t b[3] = {1, 0, 1};
    memcpy(bi.t.data, b, sizeof b);
    char msg[256] = "";
    o2p_plugin_error err = {msg, sizeof msg};
    struct {
        const char *mode, *ctm;
        int64_t oh, ow, sr;
        float scale;
    } cases[] = {
        {"max", "half_pixel", 3, 2, 2, 1.0f},
        {"max", "output_half_pixel", 2, 3, 0, 0.5f},
        {"avg", "half_pixel", 4, 4, 0, 1.0f},
        {"avg", NULL, 1, 1, 0, 1.0f}, /* defaults: avg, 1x1, adaptive, 1.0, half_pixel */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        o2p_plugin_field f[6];
        int n = 0;
        memset(f, 0, sizeof f);
        if (cases[k].ctm) {
            f[n++] = (o2p_plugin_field){.name = "mode", .type = O2P_ATTR_STRING, .s = cases[k].mode};
            f[n++] = (o2p_plugin_field){.name = "coordinate_transformation_mode",
                                        .type = O2P_ATTR_STRING, .s = cases[k].ctm};
            f[n++] = (o2p_plugin_field){.name = "output_height", .type = O2P_ATTR_INT, .i = cases[k].oh};
            f[n++] = (o2p_plugin_field){.name = "output_width", .type = O2P_ATTR_INT, .i = cases[k].ow};
            f[n++] = (o2p_plugin_field){.name = "sampling_ratio", .type = O2P_ATTR_INT, .i = cases[k].sr};
            f[n++] = (o2p_plugin_field){.name = "spatial_scale", .type = O2P_ATTR_FLOAT, .f = cases[k].scale};
        }
        o2p_plugin_tensor_desc in_desc[3] = {desc_of(&x.t), desc_of(&rois.t), desc_of(&bi.t)}, od;
        ck_assert_msg(c->infer_outputs(in_desc, 3, f, n, &od, 1, &err) == O2P_OK, "%s", msg);
        ck_assert_int_eq(od.rank, 4);
        ck_assert_int_eq(od.dims[0], 3);
        ck_assert_int_eq(od.dims[1], 2);
        ck_assert_int_eq(od.dims[2], cases[k].oh);
        ck_assert_int_eq(od.dims[3], cases[k].ow);
        size_t ssize;
        uint8_t *ser = serialize_fields(c, f, n, &ssize);
        htensor y = ht_new(O2P_DTYPE_FLOAT, 4, od.dims);
        o2p_plugin_tensor ins[3] = {x.t, rois.t, bi.t};
        ck_assert_msg(c->enqueue_host(ser, ssize, ins, 3, &y.t, 1, NULL, &err) == O2P_OK, "%s",
                      msg);
        int max_mode = strcmp(cases[k].mode, "max") == 0;
        int half = !cases[k].ctm || strcmp(cases[k].ctm, "half_pixel") == 0;
        for (int64_t ri = 0; ri < 3; ri++)
            for (int64_t ch = 0; ch < 2; ch++)
                for (int64_t ph = 0; ph < cases[k].oh; ph++)
                    for (int64_t pw = 0; pw < cases[k].ow; pw++) {
                        const float *plane = (const float *)x.t.data + (b[ri] * 2 + ch) * 42;
                        double want = ref_roi_align(plane, 6, 7, r + ri * 4, max_mode, half,
                                                    cases[k].oh, cases[k].ow, cases[k].sr,
                                                    cases[k].scale, ph, pw);
                        double got = ((float *)y.t.data)[((ri * 2 + ch) * cases[k].oh + ph) *
                                                             cases[k].ow + pw];
                        ck_assert_msg(fabs(got - want) <= 1e-5 + 1e-4 * fabs(want),
                                      "case %zu roi %lld c %lld (%lld,%lld): %g vs %g", k,
                                      (long long)ri, (long long)ch, (long long)ph, (long long)pw,
                                      got, want);
                    }
        ht_free(&y);
        free(ser);
    }
    ht_free(&x);
    ht_free(&rois);
    ht_free(&bi);
    dlclose(l.handle);
}
END_TEST

/* ---------------------------------------------------------------- hostile input */

/* Every prefix, every single-byte corruption of the tag/version, trailing bytes and garbage:
 * clean errors, never a crash (the sanitizer build watches). */
static void hostile_bytes(const o2p_plugin_creator *c, const uint8_t *good, size_t size,
                          const o2p_plugin_tensor *ins, o2p_plugin_tensor *out)
{
    char msg[256];
    o2p_plugin_error err = {msg, sizeof msg};
    for (size_t len = 0; len < size; len++) {
        uint8_t *b = malloc(len ? len : 1);
        memcpy(b, good, len);
        msg[0] = '\0';
        o2p_status st = c->enqueue_host(b, len, ins, 3, out, 1, NULL, &err);
        ck_assert_msg(st != O2P_OK, "%s: %zu of %zu bytes accepted", c->name, len, size);
        ck_assert_msg(msg[0] != '\0', "%s: truncated bytes refused without a message", c->name);
        free(b);
    }
    ck_assert_int_ne(c->enqueue_host(NULL, size, ins, 3, out, 1, NULL, &err), O2P_OK);
    uint8_t *b = malloc(size + 8);
    memcpy(b, good, size);
    memset(b + size, 0, 8);
    ck_assert_int_ne(c->enqueue_host(b, size + 1, ins, 3, out, 1, NULL, &err), O2P_OK);
    ck_assert(tu_contains(msg, "trailing"));
    for (size_t i = 0; i < 8; i++) { /* tag and version */
        memcpy(b, good, size);
        b[i] ^= 0x40;
        msg[0] = '\0';
        ck_assert_int_ne(c->enqueue_host(b, size, ins, 3, out, 1, NULL, &err), O2P_OK);
        ck_assert(msg[0] != '\0');
    }
    uint64_t seed = 0x1234567;
    for (int it = 0; it < 2000; it++) { /* random bytes after a valid header */
        memcpy(b, good, 8);
        for (size_t i = 8; i < size; i++)
            b[i] = (uint8_t)tu_rand(&seed);
        msg[0] = '\0';
        o2p_status st = c->enqueue_host(b, size, ins, 3, out, 1, NULL, &err);
        ck_assert_msg(st == O2P_OK || msg[0] != '\0', "%s: refused garbage without a message",
                      c->name);
    }
    free(b);
}

START_TEST(test_hostile_serialized_fields)
{
    loaded l = load_bundled();
    char msg[256];
    o2p_plugin_error err = {msg, sizeof msg};
    {
        const o2p_plugin_creator *c = find_creator(&l, "InstanceNormalization");
        int64_t xd[3] = {1, 2, 3}, cd[1] = {2};
        htensor x = ht_new(O2P_DTYPE_FLOAT, 3, xd), s = ht_new(O2P_DTYPE_FLOAT, 1, cd),
                b = ht_new(O2P_DTYPE_FLOAT, 1, cd), y = ht_new(O2P_DTYPE_FLOAT, 3, xd);
        o2p_plugin_tensor ins[3] = {x.t, s.t, b.t};
        size_t size;
        uint8_t *good = serialize_fields(c, NULL, 0, &size);
        ck_assert_int_eq(c->enqueue_host(good, size, ins, 3, &y.t, 1, NULL, &err), O2P_OK);
        hostile_bytes(c, good, size, ins, &y.t);
        /* a NaN epsilon */
        uint8_t bad[12];
        memcpy(bad, good, 12);
        bad[8] = bad[9] = 0xff;
        bad[10] = 0xc0;
        bad[11] = 0x7f;
        ck_assert_int_eq(c->enqueue_host(bad, 12, ins, 3, &y.t, 1, NULL, &err), O2P_ERR_PARSE);
        ck_assert(tu_contains(msg, "epsilon"));
        /* the other plugin's bytes */
        const o2p_plugin_creator *ra = find_creator(&l, "RoiAlign");
        size_t rsize;
        uint8_t *rbytes = serialize_fields(ra, NULL, 0, &rsize);
        ck_assert_int_eq(c->enqueue_host(rbytes, rsize, ins, 3, &y.t, 1, NULL, &err),
                         O2P_ERR_PARSE);
        free(rbytes);
        free(good);
        ht_free(&x);
        ht_free(&s);
        ht_free(&b);
        ht_free(&y);
    }
    {
        const o2p_plugin_creator *c = find_creator(&l, "RoiAlign");
        int64_t xd[4] = {1, 1, 4, 4}, rd[2] = {1, 4}, bd[1] = {1}, yd[4] = {1, 1, 1, 1};
        htensor x = ht_new(O2P_DTYPE_FLOAT, 4, xd), r = ht_new(O2P_DTYPE_FLOAT, 2, rd),
                bi = ht_new(O2P_DTYPE_INT64, 1, bd), y = ht_new(O2P_DTYPE_FLOAT, 4, yd);
        o2p_plugin_tensor ins[3] = {x.t, r.t, bi.t};
        size_t size;
        uint8_t *good = serialize_fields(c, NULL, 0, &size);
        ck_assert_int_eq(c->enqueue_host(good, size, ins, 3, &y.t, 1, NULL, &err), O2P_OK);
        hostile_bytes(c, good, size, ins, &y.t);
        /* output_height 0, a huge one, a bad mode flag: refused */
        uint8_t *b = malloc(size);
        size_t offs[3] = {16, 16, 8};
        uint8_t vals[3] = {0, 0xff, 7};
        for (int k = 0; k < 3; k++) {
            memcpy(b, good, size);
            if (k == 0)
                memset(b + offs[k], 0, 8);
            else if (k == 1)
                memset(b + offs[k], vals[k], 8);
            else
                b[offs[k]] = vals[k];
            msg[0] = '\0';
            ck_assert_int_ne(c->enqueue_host(b, size, ins, 3, &y.t, 1, NULL, &err), O2P_OK);
            ck_assert(msg[0] != '\0');
        }
        free(b);
        free(good);
        ht_free(&x);
        ht_free(&r);
        ht_free(&bi);
        ht_free(&y);
    }
    dlclose(l.handle);
}
END_TEST

START_TEST(test_hostile_fields_and_shapes)
{
    loaded l = load_bundled();
    char msg[256];
    o2p_plugin_error err = {msg, sizeof msg};
    const o2p_plugin_creator *in = find_creator(&l, "InstanceNormalization");
    const o2p_plugin_creator *ra = find_creator(&l, "RoiAlign");
    o2p_plugin_tensor_desc d[3], o;
    memset(d, 0, sizeof d);
    /* InstanceNormalization: rank 2 input, scale of the wrong length, mixed types */
    d[0] = (o2p_plugin_tensor_desc){O2P_DTYPE_FLOAT, 2, {1, 3}};
    d[1] = (o2p_plugin_tensor_desc){O2P_DTYPE_FLOAT, 1, {3}};
    d[2] = (o2p_plugin_tensor_desc){O2P_DTYPE_FLOAT, 1, {3}};
    ck_assert_int_eq(in->infer_outputs(d, 3, NULL, 0, &o, 1, &err), O2P_ERR_SHAPE);
    ck_assert(tu_contains(msg, "rank"));
    d[0] = (o2p_plugin_tensor_desc){O2P_DTYPE_FLOAT, 4, {1, 3, 2, 2}};
    d[1].dims[0] = 4;
    ck_assert_int_eq(in->infer_outputs(d, 3, NULL, 0, &o, 1, &err), O2P_ERR_SHAPE);
    ck_assert(tu_contains(msg, "scale"));
    d[1].dims[0] = 3;
    d[2].dtype = O2P_DTYPE_DOUBLE;
    ck_assert_int_eq(in->infer_outputs(d, 3, NULL, 0, &o, 1, &err), O2P_ERR_SHAPE);
    d[2].dtype = O2P_DTYPE_FLOAT;
    ck_assert_int_eq(in->infer_outputs(d, 2, NULL, 0, &o, 1, &err), O2P_ERR_SHAPE);
    ck_assert_int_eq(in->infer_outputs(d, 3, NULL, 0, &o, 2, &err), O2P_ERR_SHAPE);
    /* C learnt from scale when X's is unknown */
    d[0].dims[1] = -1;
    ck_assert_int_eq(in->infer_outputs(d, 3, NULL, 0, &o, 1, &err), O2P_OK);
    ck_assert_int_eq(o.dims[1], 3);
    o2p_plugin_field f_bad_type = {.name = "epsilon", .type = O2P_ATTR_INT, .i = 1};
    ck_assert_int_eq(in->infer_outputs(d, 3, &f_bad_type, 1, &o, 1, &err), O2P_ERR_PARSE);
    ck_assert(tu_contains(msg, "epsilon"));
    ck_assert_uint_eq(in->serialize(&f_bad_type, 1, NULL, 0), 0);
    o2p_plugin_field f_unknown = {.name = "momentum", .type = O2P_ATTR_FLOAT, .f = 1};
    ck_assert_int_ne(in->infer_outputs(d, 3, &f_unknown, 1, &o, 1, &err), O2P_OK);
    ck_assert(tu_contains(msg, "momentum"));

    /* RoiAlign: ranks, rois columns, batch_indices type, mismatched counts, bad attributes */
    d[0] = (o2p_plugin_tensor_desc){O2P_DTYPE_FLOAT, 3, {1, 3, 8}};
    d[1] = (o2p_plugin_tensor_desc){O2P_DTYPE_FLOAT, 2, {5, 4}};
    d[2] = (o2p_plugin_tensor_desc){O2P_DTYPE_INT64, 1, {5}};
    ck_assert_int_eq(ra->infer_outputs(d, 3, NULL, 0, &o, 1, &err), O2P_ERR_SHAPE);
    ck_assert(tu_contains(msg, "X"));
    d[0] = (o2p_plugin_tensor_desc){O2P_DTYPE_FLOAT, 4, {1, 3, 8, 8}};
    ck_assert_int_eq(ra->infer_outputs(d, 3, NULL, 0, &o, 1, &err), O2P_OK);
    ck_assert_int_eq(o.dims[0], 5);
    ck_assert_int_eq(o.dims[1], 3);
    ck_assert_int_eq(o.dims[2], 1);
    d[1].dims[1] = 5;
    ck_assert_int_eq(ra->infer_outputs(d, 3, NULL, 0, &o, 1, &err), O2P_ERR_SHAPE);
    d[1].dims[1] = 4;
    d[2].dims[0] = 6;
    ck_assert_int_eq(ra->infer_outputs(d, 3, NULL, 0, &o, 1, &err), O2P_ERR_SHAPE);
    d[2].dims[0] = -1; /* num_rois from rois */
    ck_assert_int_eq(ra->infer_outputs(d, 3, NULL, 0, &o, 1, &err), O2P_OK);
    ck_assert_int_eq(o.dims[0], 5);
    d[2].dims[0] = 5;
    d[2].dtype = O2P_DTYPE_INT32;
    ck_assert_int_eq(ra->infer_outputs(d, 3, NULL, 0, &o, 1, &err), O2P_ERR_SHAPE);
    d[2].dtype = O2P_DTYPE_INT64;
    o2p_plugin_field bad[] = {
        {.name = "mode", .type = O2P_ATTR_STRING, .s = "median"},
        {.name = "coordinate_transformation_mode", .type = O2P_ATTR_STRING, .s = "asymmetric"},
        {.name = "output_height", .type = O2P_ATTR_INT, .i = 0},
        {.name = "output_width", .type = O2P_ATTR_INT, .i = -3},
        {.name = "sampling_ratio", .type = O2P_ATTR_INT, .i = -1},
        {.name = "spatial_scale", .type = O2P_ATTR_FLOAT, .f = INFINITY},
        {.name = "mode", .type = O2P_ATTR_STRING, .s = NULL},
        {.name = "output_width", .type = O2P_ATTR_FLOAT, .f = 2},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        msg[0] = '\0';
        ck_assert_msg(ra->infer_outputs(d, 3, &bad[k], 1, &o, 1, &err) != O2P_OK,
                      "field %zu accepted", k);
        ck_assert_msg(tu_contains(msg, bad[k].name), "message without the field: %s", msg);
        ck_assert_uint_eq(ra->serialize(&bad[k], 1, NULL, 0), 0);
    }
    o2p_plugin_field twice[2] = {{.name = "output_height", .type = O2P_ATTR_INT, .i = 2},
                                 {.name = "output_height", .type = O2P_ATTR_INT, .i = 3}};
    ck_assert_int_ne(ra->infer_outputs(d, 3, twice, 2, &o, 1, &err), O2P_OK);
    dlclose(l.handle);
}
END_TEST

START_TEST(test_hostile_run_time_inputs)
{
    loaded l = load_bundled();
    char msg[256];
    o2p_plugin_error err = {msg, sizeof msg};
    const o2p_plugin_creator *ra = find_creator(&l, "RoiAlign");
    const o2p_plugin_creator *in = find_creator(&l, "InstanceNormalization");
    int64_t xd[4] = {2, 1, 4, 4}, rd[2] = {2, 4}, bd[1] = {2}, yd[4] = {2, 1, 1, 1};
    htensor x = ht_new(O2P_DTYPE_FLOAT, 4, xd), r = ht_new(O2P_DTYPE_FLOAT, 2, rd),
            bi = ht_new(O2P_DTYPE_INT64, 1, bd), y = ht_new(O2P_DTYPE_FLOAT, 4, yd);
    float rv[8] = {0, 0, 2, 2, 1, 1, 3, 3};
    memcpy(r.t.data, rv, sizeof rv);
    size_t size;
    uint8_t *ser = serialize_fields(ra, NULL, 0, &size);
    o2p_plugin_tensor ins[3] = {x.t, r.t, bi.t};
    int64_t *b = bi.t.data;
    ck_assert_int_eq(ra->enqueue_host(ser, size, ins, 3, &y.t, 1, NULL, &err), O2P_OK);
    /* batch indices out of range */
    int64_t bad_b[4] = {2, -1, INT64_MAX, INT64_MIN};
    for (int k = 0; k < 4; k++) {
        b[1] = bad_b[k];
        msg[0] = '\0';
        ck_assert_int_eq(ra->enqueue_host(ser, size, ins, 3, &y.t, 1, NULL, &err),
                         O2P_ERR_INVALID_ARGUMENT);
        ck_assert_msg(tu_contains(msg, "batch_indices"), "%s", msg);
    }
    b[1] = 1;
    /* non-finite and huge ROIs: adaptive sampling refuses a grid it cannot walk */
    float huge[3] = {NAN, INFINITY, 1e30f};
    for (int k = 0; k < 3; k++) {
        ((float *)r.t.data)[6] = huge[k];
        msg[0] = '\0';
        o2p_status st = ra->enqueue_host(ser, size, ins, 3, &y.t, 1, NULL, &err);
        ck_assert_msg(st == O2P_ERR_LIMIT, "roi x2 = %g: %s (%s)", (double)huge[k],
                      o2p_status_name(st), msg);
    }
    ((float *)r.t.data)[6] = 3;
    /* NaN ROIs with a fixed sampling ratio run (the samples fall outside: 0) */
    {
        o2p_plugin_field f = {.name = "sampling_ratio", .type = O2P_ATTR_INT, .i = 2};
        size_t s2;
        uint8_t *ser2 = serialize_fields(ra, &f, 1, &s2);
        ((float *)r.t.data)[4] = NAN;
        ck_assert_int_eq(ra->enqueue_host(ser2, s2, ins, 3, &y.t, 1, NULL, &err), O2P_OK);
        ((float *)r.t.data)[4] = 1;
        free(ser2);
    }
    /* wrong ranks / shapes / types at run time */
    o2p_plugin_tensor w[3];
    memcpy(w, ins, sizeof w);
    w[0].rank = 3;
    ck_assert_int_eq(ra->enqueue_host(ser, size, w, 3, &y.t, 1, NULL, &err), O2P_ERR_SHAPE);
    memcpy(w, ins, sizeof w);
    w[1].dims[1] = 2; /* rois [2,2] */
    ck_assert_int_eq(ra->enqueue_host(ser, size, w, 3, &y.t, 1, NULL, &err), O2P_ERR_SHAPE);
    memcpy(w, ins, sizeof w);
    w[2].dims[0] = 1;
    ck_assert_int_eq(ra->enqueue_host(ser, size, w, 3, &y.t, 1, NULL, &err), O2P_ERR_SHAPE);
    memcpy(w, ins, sizeof w);
    w[2].dtype = O2P_DTYPE_INT32;
    ck_assert_int_eq(ra->enqueue_host(ser, size, w, 3, &y.t, 1, NULL, &err), O2P_ERR_SHAPE);
    memcpy(w, ins, sizeof w);
    w[0].dims[0] = -5;
    ck_assert_int_eq(ra->enqueue_host(ser, size, w, 3, &y.t, 1, NULL, &err), O2P_ERR_SHAPE);
    memcpy(w, ins, sizeof w);
    w[0].rank = 99;
    ck_assert_int_eq(ra->enqueue_host(ser, size, w, 3, &y.t, 1, NULL, &err), O2P_ERR_SHAPE);
    memcpy(w, ins, sizeof w);
    w[0].data = NULL;
    ck_assert_int_eq(ra->enqueue_host(ser, size, w, 3, &y.t, 1, NULL, &err),
                     O2P_ERR_INVALID_ARGUMENT);
    o2p_plugin_tensor wy = y.t;
    wy.dims[2] = 2; /* output of the wrong shape */
    ck_assert_int_eq(ra->enqueue_host(ser, size, ins, 3, &wy, 1, NULL, &err), O2P_ERR_SHAPE);
    ck_assert_int_ne(ra->enqueue_host(ser, size, ins, 2, &y.t, 1, NULL, &err), O2P_OK);
    /* InstanceNormalization with mismatched scale and output */
    size_t isz;
    uint8_t *iser = serialize_fields(in, NULL, 0, &isz);
    int64_t cd[1] = {1}, c2[1] = {2};
    htensor s = ht_new(O2P_DTYPE_FLOAT, 1, cd), s2 = ht_new(O2P_DTYPE_FLOAT, 1, c2),
            iy = ht_new(O2P_DTYPE_FLOAT, 4, xd);
    o2p_plugin_tensor iins[3] = {x.t, s.t, s.t};
    ck_assert_int_eq(in->enqueue_host(iser, isz, iins, 3, &iy.t, 1, NULL, &err), O2P_OK);
    iins[1] = s2.t;
    ck_assert_int_eq(in->enqueue_host(iser, isz, iins, 3, &iy.t, 1, NULL, &err), O2P_ERR_SHAPE);
    iins[1] = s.t;
    ck_assert_int_eq(in->enqueue_host(iser, isz, iins, 3, &y.t, 1, NULL, &err), O2P_ERR_SHAPE);
    iins[0].rank = 2;
    ck_assert_int_eq(in->enqueue_host(iser, isz, iins, 3, &iy.t, 1, NULL, &err), O2P_ERR_SHAPE);
    /* a zero-sized err buffer is honoured */
    o2p_plugin_error none = {NULL, 0};
    ck_assert_int_eq(in->enqueue_host(iser, isz, iins, 3, &iy.t, 1, NULL, &none), O2P_ERR_SHAPE);
    free(iser);
    ht_free(&s);
    ht_free(&s2);
    ht_free(&iy);
    free(ser);
    ht_free(&x);
    ht_free(&r);
    ht_free(&bi);
    ht_free(&y);
    dlclose(l.handle);
}
END_TEST

/* ---------------------------------------------------------------- the out-of-tree example */

static int have_program(const char *name)
{
    char *cmd = tu_printf("command -v %s >/dev/null 2>&1", name);
    int ok = system(cmd) == 0;
    free(cmd);
    return ok;
}

START_TEST(test_example_plugin_builds_and_runs)
{
    if (!have_program("cc")) {
        printf("test_plugin_library: SKIPPED the example plugin: no cc on PATH\n");
        return;
    }
    char *tmp = tu_tempdir();
    char *bdir = build_dir();
    char *lib = tu_printf("%s/libscale_plugin.so", tmp);
    /* the public headers only: the source include/ and the build's generated o2p_version.h;
     * strict C99, warnings are errors */
    char *cmd = tu_printf("cc -std=c99 -pedantic -Wall -Wextra -Werror -shared -fPIC "
                          "-fvisibility=hidden -I'%s/include' -I'%s/include' -o '%s' "
                          "'%s/examples/plugin/scale_plugin.c' -lm -Wl,--no-undefined 2>&1",
                          O2P_SOURCE_DIR, bdir, lib, O2P_SOURCE_DIR);
    char *out = command_output(cmd);
    struct stat st;
    ck_assert_msg(stat(lib, &st) == 0, "the example did not build:\n%s\n%s", cmd, out);
    free(out);
    free(cmd);
    cmd = tu_printf("nm -D --defined-only '%s' | awk '{print $3}'", lib);
    out = command_output(cmd);
    ck_assert_str_eq(out, O2P_PLUGIN_ENTRY_SYMBOL "\n");
    free(out);
    free(cmd);

    loaded l = load_library(lib);
    ck_assert_ptr_null(l.entry(O2P_PLUGIN_ABI_MAJOR + 1));
    ck_assert_int_eq(l.lib->num_creators, 1);
    const o2p_plugin_creator *c = find_creator(&l, "Scale");
    ck_assert_str_eq(c->onnx_domain, "com.example");
    ck_assert_str_eq(c->version, "1");
    char msg[256] = "";
    o2p_plugin_error err = {msg, sizeof msg};
    o2p_plugin_field alpha = {.name = "alpha", .type = O2P_ATTR_FLOAT, .f = 2.5f};
    o2p_plugin_tensor_desc d = {O2P_DTYPE_FLOAT, 2, {-1, 3}}, o;
    ck_assert_int_eq(c->infer_outputs(&d, 1, &alpha, 1, &o, 1, &err), O2P_OK);
    ck_assert_int_eq(o.rank, 2);
    ck_assert_int_eq(o.dims[0], -1);
    ck_assert_int_eq(o.dims[1], 3);
    size_t size;
    uint8_t *ser = serialize_fields(c, &alpha, 1, &size);
    float xv[6] = {1, -2, 3, 0.5f, 0, 4}, yv[6] = {0};
    o2p_plugin_tensor x = {O2P_DTYPE_FLOAT, 2, {2, 3}, xv}, y = {O2P_DTYPE_FLOAT, 2, {2, 3}, yv};
    ck_assert_msg(c->enqueue_host(ser, size, &x, 1, &y, 1, NULL, &err) == O2P_OK, "%s", msg);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(yv[i], xv[i] * 2.5f);
    ck_assert_int_ne(c->enqueue_host(ser, size - 1, &x, 1, &y, 1, NULL, &err), O2P_OK);
    free(ser);
    dlclose(l.handle);

    /* the example's Makefile builds the same thing */
    if (have_program("make")) {
        cmd = tu_printf("make -s -B -C '%s/examples/plugin' O2P_SOURCE='%s' O2P_BUILD='%s' "
                        "OUT='%s' 2>&1",
                        O2P_SOURCE_DIR, O2P_SOURCE_DIR, bdir, tmp);
        unlink(lib);
        out = command_output(cmd);
        ck_assert_msg(stat(lib, &st) == 0, "make did not build the example:\n%s\n%s", cmd, out);
        free(out);
        free(cmd);
    }
    free(lib);
    free(bdir);
    tu_rmtree(tmp);
    free(tmp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_library");
    TCase *tc = tcase_create("plugin_library");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_exports_only_the_entry);
    tcase_add_test(tc, test_entry_and_creators);
    tcase_add_test(tc, test_node_instancenorm_epsilon);
    tcase_add_test(tc, test_node_instancenorm_example);
    tcase_add_test(tc, test_node_roialign_aligned_false);
    tcase_add_test(tc, test_node_roialign_aligned_true);
    tcase_add_test(tc, test_instancenorm_types);
    tcase_add_test(tc, test_roialign_modes);
    tcase_add_test(tc, test_hostile_serialized_fields);
    tcase_add_test(tc, test_hostile_fields_and_shapes);
    tcase_add_test(tc, test_hostile_run_time_inputs);
    tcase_add_test(tc, test_example_plugin_builds_and_runs);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
