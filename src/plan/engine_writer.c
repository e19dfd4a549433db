/* engine_writer.c: the ENGINE section writer (layout and rules: engine_format.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/engine_format.h"
#include "plan/engine_writer.h"
#include "o2p/plugin.h"

_Static_assert(CG_LAUNCH_CUBLAS_GEMM == ENGINE_LAUNCH_CUBLAS_GEMM &&
                   CG_LAUNCH_CUBLASLT_MATMUL == ENGINE_LAUNCH_CUBLASLT_MATMUL &&
                   CG_LAUNCH_CUDNN_CONV == ENGINE_LAUNCH_CUDNN_CONV,
               "codegen's launch kinds are the ENGINE format's");
_Static_assert(CG_BLAS_COMPUTE_32F == ENGINE_BLAS_COMPUTE_32F &&
                   CG_BLAS_COMPUTE_32F_TF32 == ENGINE_BLAS_COMPUTE_TF32,
               "codegen's compute types are the ENGINE format's");

typedef struct wbuf {
    uint8_t *data;
    size_t len, cap;
    int failed;
} wbuf;

static void put(wbuf *b, const void *p, size_t n)
{
    if (b->failed)
        return;
    if (n > SIZE_MAX - b->len) {
        b->failed = 1;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = 1;
                return;
            }
            cap *= 2;
        }
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u32(wbuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void put_u64(wbuf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f32(wbuf *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(b, u);
}

static void put_str(wbuf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u32(b, (uint32_t)n);
    put(b, s, n);
}

static void put_zeros(wbuf *b, size_t n)
{
    static const uint8_t zeros[256];
    while (n && !b->failed) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        put(b, zeros, k);
        n -= k;
    }
}

static int tensor_index_of(const build_engine *e, const ir_tensor *t)
{
    for (int i = 0; i < e->num_tensors; i++)
        if (e->tensors[i].t == t)
            return i;
    return -1;
}

static o2p_status put_attr(wbuf *b, const build_engine *e, const ir_layer *l, const ir_attr *a)
{
    switch (a->type) {
    case O2P_ATTR_INT: case O2P_ATTR_FLOAT: case O2P_ATTR_STRING: case O2P_ATTR_INTS:
    case O2P_ATTR_FLOATS: case O2P_ATTR_STRINGS: case O2P_ATTR_TENSOR:
        break;
    default:
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): attribute '%s' of kind %d cannot go into a plan",
                        l->name, l->op_type, a->name, (int)a->type);
    }
    put_str(b, a->name);
    put_u32(b, (uint32_t)a->type);
    switch (a->type) {
    case O2P_ATTR_INT: put_u64(b, (uint64_t)a->i); break;
    case O2P_ATTR_FLOAT: put_f32(b, a->f); break;
    case O2P_ATTR_STRING: put_str(b, a->s); break;
    case O2P_ATTR_INTS:
        put_u32(b, (uint32_t)a->count);
        for (int k = 0; k < a->count; k++)
            put_u64(b, (uint64_t)a->ints[k]);
        break;
    case O2P_ATTR_FLOATS:
        put_u32(b, (uint32_t)a->count);
        for (int k = 0; k < a->count; k++)
            put_f32(b, a->floats[k]);
        break;
    case O2P_ATTR_STRINGS:
        put_u32(b, (uint32_t)a->count);
        for (int k = 0; k < a->count; k++)
            put_str(b, a->strings[k]);
        break;
    case O2P_ATTR_TENSOR: {
        int ti = a->tensors ? tensor_index_of(e, a->tensors[0]) : -1;
        if (ti < 0)
            return o2p_fail(O2P_ERR_INTERNAL, "layer '%s': attribute tensor '%s' has no slot",
                            l->name, a->name);
        put_u32(b, (uint32_t)ti);
        break;
    }
    default:
        break;
    }
    return O2P_OK;
}

/* The plugin record: u32 0 for a native layer; 1, the creator's name, version, namespace, its
 * serialized fields and the workspace for a plugin layer. */
static o2p_status put_plugin(wbuf *b, const build_layer *bl)
{
    const ir_layer *l = bl->layer;
    const o2p_plugin_creator *c = l->plugin;
    if (!c) {
        put_u32(b, 0);
        return O2P_OK;
    }
    o2p_plugin_field *fields = calloc((size_t)l->num_attrs + 1, sizeof *fields);
    if (!fields)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory writing the ENGINE section");
    int nf = ir_plugin_fields(l, fields);
    size_t need = c->serialize(fields, nf, NULL, 0);
    void *blob = NULL;
    o2p_status st = O2P_OK;
    if (need > ENGINE_MAX_PLUGIN_DATA)
        st = o2p_fail(O2P_ERR_LIMIT,
                      "layer '%s' (%s): the plugin %s serializes its fields into %zu bytes, over "
                      "the limit of %u",
                      l->name, l->op_type, c->name, need, ENGINE_MAX_PLUGIN_DATA);
    else if (!(blob = malloc(need ? need : 1)))
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory writing the ENGINE section");
    else if (need && c->serialize(fields, nf, blob, need) != need)
        st = o2p_fail(O2P_ERR_INTERNAL,
                      "layer '%s' (%s): the plugin %s from %s serialized a size other than the "
                      "one it asked for",
                      l->name, l->op_type, c->name, l->plugin_library ? l->plugin_library : "?");
    if (st == O2P_OK) {
        put_u32(b, 1);
        put_str(b, c->name);
        put_str(b, c->version);
        put_str(b, c->plugin_namespace);
        /* the file name of the library it came from, for messages at load */
        const char *lib = l->plugin_library ? l->plugin_library : "";
        const char *slash = strrchr(lib, '/');
        put_str(b, slash ? slash + 1 : lib);
        put_u32(b, (uint32_t)need);
        put(b, blob, need);
        put_u64(b, bl->tactic.workspace);
    }
    free(blob);
    free(fields);
    return st;
}

/* A layer's launches (cuda target): kind, family, function, grid, block, smem, the parameter
 * bytes and the device addresses the runtime patches into them. */
static o2p_status put_launches(wbuf *b, const build_layer *bl)
{
    const ir_layer *l = bl->layer;
    if (bl->num_launches < 0 || (uint32_t)bl->num_launches > ENGINE_MAX_LAUNCHES)
        return o2p_fail(O2P_ERR_LIMIT, "layer '%s' (%s): %d kernel launches, over the limit of %u",
                        l->name, l->op_type, bl->num_launches, ENGINE_MAX_LAUNCHES);
    put_u32(b, (uint32_t)bl->num_launches);
    for (int k = 0; k < bl->num_launches; k++) {
        const cg_launch *c = &bl->launches[k];
        if (c->param_size > ENGINE_MAX_PARAM_BYTES || c->num_patches < 0 ||
            (uint32_t)c->num_patches > ENGINE_MAX_PATCHES)
            return o2p_fail(O2P_ERR_INTERNAL,
                            "layer '%s' (%s): launch %d has %u parameter bytes and %d device "
                            "addresses (at most %u and %u)",
                            l->name, l->op_type, k, c->param_size, c->num_patches,
                            ENGINE_MAX_PARAM_BYTES, ENGINE_MAX_PATCHES);
        put_u32(b, (uint32_t)c->kind);
        put_str(b, c->family); /* "" for COPY and MEMSET (cg_emit's) */
        put_str(b, c->function);
        for (int i = 0; i < 3; i++)
            put_u32(b, c->grid[i]);
        for (int i = 0; i < 3; i++)
            put_u32(b, c->block[i]);
        put_u32(b, c->smem);
        put_u32(b, c->param_size);
        put(b, c->params, c->param_size);
        put_u32(b, (uint32_t)c->num_patches);
        for (int p = 0; p < c->num_patches; p++) {
            put_u32(b, c->patches[p].param_offset);
            put_u32(b, (uint32_t)c->patches[p].tensor);
            put_u64(b, c->patches[p].byte_offset);
        }
    }
    return O2P_OK;
}

static int is_graph_attr(const ir_attr *a)
{
    return a->type == O2P_ATTR_GRAPH || a->type == O2P_ATTR_GRAPHS;
}

/* A control-flow layer's bodies (version 5): per body its layer count (the layers follow in
 * the table) and its input and output tensors. Other layers write nothing. */
static o2p_status put_bodies(wbuf *b, const build_layer *bl)
{
    const ir_layer *l = bl->layer;
    if (*l->domain || (strcmp(l->op_type, "If") != 0 && strcmp(l->op_type, "Loop") != 0 &&
                       strcmp(l->op_type, "Scan") != 0))
        return O2P_OK;
    if (bl->num_bodies < 1 || (uint32_t)bl->num_bodies > ENGINE_MAX_BODIES)
        return o2p_fail(O2P_ERR_INTERNAL, "layer '%s' (%s): %d bodies in the engine description",
                        l->name, l->op_type, bl->num_bodies);
    put_u32(b, (uint32_t)bl->num_bodies);
    for (int k = 0; k < bl->num_bodies; k++) {
        const build_body *body = &bl->bodies[k];
        if ((uint32_t)body->num_inputs > ENGINE_MAX_BODY_IO ||
            (uint32_t)body->num_outputs > ENGINE_MAX_BODY_IO)
            return o2p_fail(O2P_ERR_LIMIT,
                            "layer '%s' (%s): a body with %d inputs and %d outputs, over the "
                            "limit of %u",
                            l->name, l->op_type, body->num_inputs, body->num_outputs,
                            ENGINE_MAX_BODY_IO);
        put_u32(b, (uint32_t)body->num_layers);
        put_u32(b, (uint32_t)body->num_inputs);
        for (int i = 0; i < body->num_inputs; i++)
            put_u32(b, (uint32_t)body->inputs[i]);
        put_u32(b, (uint32_t)body->num_outputs);
        for (int i = 0; i < body->num_outputs; i++)
            put_u32(b, (uint32_t)body->outputs[i]);
    }
    return O2P_OK;
}

/* The compiled kernel families (cuda target), in the engine's order. */
static o2p_status put_images(wbuf *b, const build_engine *e)
{
    if ((uint32_t)e->num_images > ENGINE_MAX_IMAGES)
        return o2p_fail(O2P_ERR_LIMIT, "%d kernel images, over the limit of %u", e->num_images,
                        ENGINE_MAX_IMAGES);
    put_u32(b, (uint32_t)e->num_images);
    for (int i = 0; i < e->num_images; i++) {
        const build_image *im = &e->images[i];
        if (im->size > ENGINE_MAX_IMAGE)
            return o2p_fail(O2P_ERR_LIMIT,
                            "the kernel image of family '%s' for arch %d is %zu bytes, over the "
                            "limit of %u",
                            im->family, im->arch, im->size, ENGINE_MAX_IMAGE);
        put_str(b, im->family);
        put_u32(b, (uint32_t)im->kind); /* CG_IMAGE_* are ENGINE_IMAGE_* */
        put_u32(b, (uint32_t)im->arch);
        put_u32(b, (uint32_t)im->arch_specific);
        put_u32(b, (uint32_t)im->size);
        put(b, im->bytes, im->size);
    }
    return O2P_OK;
}

o2p_status plan_write_engine(const build_engine *e, uint8_t **out, size_t *size)
{
    int cuda = e->target == BUILD_TARGET_CUDA;
    wbuf b = {0};
    o2p_status st = O2P_OK;
    *out = NULL;
    *size = 0;
    put_u32(&b, ENGINE_MAGIC);
    put_u32(&b, ENGINE_FORMAT_VERSION);
    put_u32(&b, cuda ? ENGINE_TARGET_CUDA : ENGINE_TARGET_HOST);
    put_u32(&b, 0);
    put_u64(&b, e->arena_size);
    size_t weights_offset_at = b.len;
    put_u64(&b, 0); /* weights_offset, patched below */
    put_u64(&b, e->weights_size);
    put_u64(&b, cuda ? e->workspace_size : 0);
    put_u32(&b, (uint32_t)e->num_tensors);
    for (int i = 0; i < e->num_tensors; i++) {
        const build_tensor *bt = &e->tensors[i];
        const ir_tensor *t = bt->t;
        put_str(&b, bt->name);
        put_u32(&b, (uint32_t)t->dtype);
        put_u32(&b, (uint32_t)t->shape.rank);
        /* a data-dependent dim is written as its bound (what the tensor is allocated at) */
        for (int d = 0; d < t->shape.rank; d++)
            put_u64(&b, (uint64_t)(t->shape.dims[d].value >= 0 ? t->shape.dims[d].value
                                                                : t->shape.dims[d].bound));
        put_u32(&b, bt->dd_mask); /* version 6 */
        put_u32(&b, (uint32_t)(bt->dd_mask ? bt->shape_tensor : -1));
        put_u32(&b, bt->io);
        put_u32(&b, bt->storage == BUILD_STORAGE_WEIGHTS ? ENGINE_STORAGE_WEIGHTS
                    : bt->storage == BUILD_STORAGE_IO    ? ENGINE_STORAGE_IO
                                                         : ENGINE_STORAGE_ARENA);
        put_u64(&b, bt->storage == BUILD_STORAGE_IO ? 0 : bt->offset);
        put_u64(&b, bt->nbytes);
    }
    put_u32(&b, (uint32_t)e->num_layers);
    for (int li = 0; li < e->num_layers && st == O2P_OK; li++) {
        const build_layer *bl = &e->layers[li];
        const ir_layer *l = bl->layer;
        put_str(&b, l->name);
        put_str(&b, l->op_type);
        put_u64(&b, (uint64_t)e->opset);
        put_u32(&b, (uint32_t)l->num_inputs);
        for (int k = 0; k < l->num_inputs; k++)
            put_u32(&b, (uint32_t)bl->inputs[k]);
        put_u32(&b, (uint32_t)l->num_outputs);
        for (int k = 0; k < l->num_outputs; k++)
            put_u32(&b, (uint32_t)bl->outputs[k]);
        char kernel[256];
        snprintf(kernel, sizeof kernel, "%s.%s", bl->tactic.family, bl->tactic.kernel);
        put_str(&b, bl->tactic.source);
        put_str(&b, kernel);
        put_u32(&b, bl->tactic.smem_bytes);
        put_u32(&b, (uint32_t)bl->tactic.arch_specific);
        /* GRAPH attributes (control-flow bodies) go into the bodies record instead */
        uint32_t nattrs = (uint32_t)bl->num_constants;
        for (int a = 0; a < l->num_attrs; a++)
            nattrs += !is_graph_attr(&l->attrs[a]);
        put_u32(&b, nattrs);
        for (int a = 0; a < l->num_attrs && st == O2P_OK; a++)
            if (!is_graph_attr(&l->attrs[a]))
                st = put_attr(&b, e, l, &l->attrs[a]);
        /* the lowering's own constants (cuda): TENSOR attributes, so the layer reads them */
        for (int k = 0; k < bl->num_constants; k++) {
            char name[32];
            snprintf(name, sizeof name, "o2p_constant_%d", k);
            put_str(&b, name);
            put_u32(&b, (uint32_t)O2P_ATTR_TENSOR);
            put_u32(&b, (uint32_t)bl->constants[k]);
        }
        if (st == O2P_OK)
            st = put_plugin(&b, bl);
        if (st == O2P_OK && cuda)
            st = put_launches(&b, bl);
        else
            put_u32(&b, 0); /* the host target runs layers by op, not by launches */
        if (st == O2P_OK)
            st = put_bodies(&b, bl);
    }
    put_u32(&b, (uint32_t)e->num_inputs);
    for (int i = 0; i < e->num_inputs; i++)
        put_u32(&b, (uint32_t)e->inputs[i]);
    put_u32(&b, (uint32_t)e->num_outputs);
    for (int i = 0; i < e->num_outputs; i++)
        put_u32(&b, (uint32_t)e->outputs[i]);
    if (st == O2P_OK && cuda)
        st = put_images(&b, e);
    else
        put_u32(&b, 0);
    size_t woff = (b.len + ENGINE_WEIGHTS_ALIGN - 1) & ~(size_t)(ENGINE_WEIGHTS_ALIGN - 1);
    put_zeros(&b, woff - b.len);
    for (int i = 0; i < e->num_tensors && !b.failed; i++) {
        const build_tensor *bt = &e->tensors[i];
        if (bt->storage != BUILD_STORAGE_WEIGHTS)
            continue;
        put_zeros(&b, woff + bt->offset - b.len);
        put(&b, bt->t->data, bt->nbytes);
    }
    put_zeros(&b, woff + e->weights_size - b.len);
    if (st == O2P_OK && b.failed)
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory writing the ENGINE section");
    if (st != O2P_OK) {
        free(b.data);
        return st;
    }
    for (int k = 0; k < 8; k++)
        b.data[weights_offset_at + k] = (uint8_t)((uint64_t)woff >> (8 * k));
    *out = b.data;
    *size = b.len;
    return O2P_OK;
}
