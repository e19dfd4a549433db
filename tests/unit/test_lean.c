/* test_lean.c: the lean runtime's engine and execution context (src/lean/) on ENGINE
 * sections written by a small test-only encoder of engine_format.h: the queries, execution
 * with test kernels and (once they exist) the host kernels, every rule of the format refused
 * with a message naming the section and the record, and hostile sections: every truncation,
 * single-byte changes everywhere, huge counts, dims and sizes. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../testutil.h"
#include "host/host_kernels.h"
#include "lean/lean.h"
#include "plan/engine_format.h"

#if defined(__SANITIZE_ADDRESS__)
/* A hostile arena size must give O2P_ERR_OUT_OF_MEMORY, as it does without ASan. */
__attribute__((visibility("default"))) const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif

#define WHAT "test.plan"

/* ---------------------------------------------------------------- the test encoder */

/* What a byte of an encoded section is, to judge what a changed byte may change. */
enum {
    K_OTHER = 0,
    K_NAME,        /* a tensor, layer or attribute name, a tactic string */
    K_OP_TYPE,     /* a layer's op type */
    K_LAYER_INDEX, /* a layer's input or output tensor index */
    K_ATTR_VALUE,  /* an attribute's value */
    K_OPSET,       /* a layer's opset */
    K_WOFFSET,     /* a WEIGHTS tensor's offset (another valid offset gives other data) */
    K_WEIGHTS      /* the weights blob */
};

typedef struct enc {
    uint8_t *d;
    uint8_t *kind;
    size_t len, cap;
} enc;

static void put(enc *b, const void *p, size_t n, int kind)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->d = realloc(b->d, cap);
        b->kind = realloc(b->kind, cap);
        ck_assert(b->d && b->kind);
        b->cap = cap;
    }
    if (n)
        memcpy(b->d + b->len, p, n);
    memset(b->kind + b->len, kind, n);
    b->len += n;
}

static void put_le(enc *b, uint64_t v, int n, int kind)
{
    uint8_t t[8];
    for (int i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    put(b, t, (size_t)n, kind);
}

static void put_u32(enc *b, uint32_t v, int kind)
{
    put_le(b, v, 4, kind);
}

static void put_u64(enc *b, uint64_t v, int kind)
{
    put_le(b, v, 8, kind);
}

static void put_f32(enc *b, float f, int kind)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(b, u, kind);
}

static void put_str(enc *b, const char *s, int kind)
{
    put_u32(b, (uint32_t)strlen(s), K_OTHER);
    put(b, s, strlen(s), kind);
}

static void patch_u32(uint8_t *d, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        d[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void patch_u64(uint8_t *d, size_t at, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        d[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

typedef struct spec_tensor {
    const char *name;
    uint32_t dtype, rank;
    int64_t dims[20];
    uint32_t io, storage;
    uint64_t offset, nbytes;
    uint32_t dd_mask;     /* format 6: data-dependent dims */
    int32_t shape_tensor; /* format 6: -1 (add_tensor's) or a tensor index */
} spec_tensor;

typedef struct spec_attr {
    const char *name;
    uint32_t type;
    int64_t i;
    float f;
    const char *s;
    int count;
    const int64_t *ints;
    const float *floats;
    const char *const *strings;
    int32_t tensor;
} spec_attr;

typedef struct spec_layer {
    const char *name, *op;
    int64_t opset;
    int nin, nout, nattr;
    int32_t in[8], out[8];
    const char *src, *kernel;
    uint32_t smem, arch, num_launches;
    spec_attr attrs[8];
} spec_layer;

typedef struct spec {
    uint32_t magic, version, target, flags;
    uint64_t arena_size;
    int nt, nl, nin, nout;
    spec_tensor t[16];
    spec_layer l[8];
    int32_t in[8], out[8];
    uint8_t weights[1024];
    size_t weights_size;
    size_t pad_extra; /* zero bytes added between the tables and the weights */
    uint64_t workspace_size;
    uint32_t num_images;
} spec;

/* Where some fields landed, for tests that patch them. */
typedef struct spec_pos {
    size_t weights_offset, num_tensors, num_layers, tensor[16], layer[8], layer_num_attrs[8],
        padding;
} spec_pos;

static int add_tensor(spec *s, const char *name, uint32_t dtype, uint32_t rank, const int64_t *dims,
                      uint32_t io, uint32_t storage, uint64_t offset)
{
    spec_tensor *t = &s->t[s->nt];
    memset(t, 0, sizeof *t);
    t->name = name;
    t->dtype = dtype;
    t->rank = rank;
    uint64_t n = 1;
    for (uint32_t i = 0; i < rank; i++)
        t->dims[i] = dims[i], n *= (uint64_t)dims[i];
    t->io = io;
    t->storage = storage;
    t->offset = offset;
    t->nbytes = n * lean_dtype_size((o2p_dtype)dtype);
    t->shape_tensor = -1;
    return s->nt++;
}

static spec_layer *add_layer(spec *s, const char *name, const char *op, int nin, const int32_t *in,
                             int nout, const int32_t *out)
{
    spec_layer *l = &s->l[s->nl++];
    memset(l, 0, sizeof *l);
    l->name = name;
    l->op = op;
    l->opset = 17;
    l->nin = nin;
    l->nout = nout;
    memcpy(l->in, in, (size_t)nin * sizeof *in);
    memcpy(l->out, out, (size_t)nout * sizeof *out);
    l->src = "builtin";
    l->kernel = "host.test";
    return l;
}

static void put_attr(enc *b, const spec_attr *a)
{
    put_str(b, a->name, K_NAME);
    put_u32(b, a->type, K_OTHER);
    switch (a->type) {
    case O2P_ATTR_INT: put_u64(b, (uint64_t)a->i, K_ATTR_VALUE); break;
    case O2P_ATTR_FLOAT: put_f32(b, a->f, K_ATTR_VALUE); break;
    case O2P_ATTR_STRING: put_str(b, a->s, K_ATTR_VALUE); break;
    case O2P_ATTR_INTS:
        put_u32(b, (uint32_t)a->count, K_OTHER);
        for (int i = 0; i < a->count; i++)
            put_u64(b, (uint64_t)a->ints[i], K_ATTR_VALUE);
        break;
    case O2P_ATTR_FLOATS:
        put_u32(b, (uint32_t)a->count, K_OTHER);
        for (int i = 0; i < a->count; i++)
            put_f32(b, a->floats[i], K_ATTR_VALUE);
        break;
    case O2P_ATTR_STRINGS:
        put_u32(b, (uint32_t)a->count, K_OTHER);
        for (int i = 0; i < a->count; i++)
            put_str(b, a->strings[i], K_ATTR_VALUE);
        break;
    case O2P_ATTR_TENSOR: put_u32(b, (uint32_t)a->tensor, K_OTHER); break;
    default: put_u64(b, (uint64_t)a->i, K_OTHER); break; /* an invalid type, some bytes */
    }
}

/* Encodes the spec; *kinds (when not NULL) gets what each byte is; *pos where fields are. */
static uint8_t *encode(const spec *s, size_t *size, uint8_t **kinds, spec_pos *pos)
{
    enc b = {0};
    spec_pos p;
    memset(&p, 0, sizeof p);
    put_u32(&b, s->magic, K_OTHER);
    put_u32(&b, s->version, K_OTHER);
    put_u32(&b, s->target, K_OTHER);
    put_u32(&b, s->flags, K_OTHER);
    put_u64(&b, s->arena_size, K_OTHER);
    p.weights_offset = b.len;
    put_u64(&b, 0, K_OTHER);
    put_u64(&b, s->weights_size, K_OTHER);
    put_u64(&b, s->workspace_size, K_OTHER);
    p.num_tensors = b.len;
    put_u32(&b, (uint32_t)s->nt, K_OTHER);
    for (int i = 0; i < s->nt; i++) {
        const spec_tensor *t = &s->t[i];
        p.tensor[i] = b.len;
        put_str(&b, t->name, K_NAME);
        put_u32(&b, t->dtype, K_OTHER);
        put_u32(&b, t->rank, K_OTHER);
        for (uint32_t d = 0; d < t->rank; d++)
            put_u64(&b, (uint64_t)t->dims[d], K_OTHER);
        put_u32(&b, t->dd_mask, K_OTHER);
        put_u32(&b, (uint32_t)t->shape_tensor, K_OTHER);
        put_u32(&b, t->io, K_OTHER);
        put_u32(&b, t->storage, K_OTHER);
        put_u64(&b, t->offset, t->storage == ENGINE_STORAGE_WEIGHTS ? K_WOFFSET : K_OTHER);
        put_u64(&b, t->nbytes, K_OTHER);
    }
    p.num_layers = b.len;
    put_u32(&b, (uint32_t)s->nl, K_OTHER);
    for (int i = 0; i < s->nl; i++) {
        const spec_layer *l = &s->l[i];
        p.layer[i] = b.len;
        put_str(&b, l->name, K_NAME);
        put_str(&b, l->op, K_OP_TYPE);
        put_u64(&b, (uint64_t)l->opset, K_OPSET);
        put_u32(&b, (uint32_t)l->nin, K_OTHER);
        for (int k = 0; k < l->nin; k++)
            put_u32(&b, (uint32_t)l->in[k], K_LAYER_INDEX);
        put_u32(&b, (uint32_t)l->nout, K_OTHER);
        for (int k = 0; k < l->nout; k++)
            put_u32(&b, (uint32_t)l->out[k], K_LAYER_INDEX);
        put_str(&b, l->src, K_NAME);
        put_str(&b, l->kernel, K_NAME);
        put_u32(&b, l->smem, K_OTHER);
        put_u32(&b, l->arch, K_OTHER);
        p.layer_num_attrs[i] = b.len;
        put_u32(&b, (uint32_t)l->nattr, K_OTHER);
        for (int a = 0; a < l->nattr; a++)
            put_attr(&b, &l->attrs[a]);
        put_u32(&b, 0, K_OTHER); /* a native layer (the plugin record, format 2) */
        put_u32(&b, l->num_launches, K_OTHER); /* format 3: none on the host target */
    }
    put_u32(&b, (uint32_t)s->nin, K_OTHER);
    for (int i = 0; i < s->nin; i++)
        put_u32(&b, (uint32_t)s->in[i], K_OTHER);
    put_u32(&b, (uint32_t)s->nout, K_OTHER);
    for (int i = 0; i < s->nout; i++)
        put_u32(&b, (uint32_t)s->out[i], K_OTHER);
    put_u32(&b, s->num_images, K_OTHER); /* format 3: none on the host target */
    p.padding = b.len;
    size_t woff = (b.len + s->pad_extra + ENGINE_WEIGHTS_ALIGN - 1) & ~(size_t)255;
    static const uint8_t zeros[256];
    while (b.len < woff) {
        size_t n = woff - b.len < sizeof zeros ? woff - b.len : sizeof zeros;
        put(&b, zeros, n, K_OTHER);
    }
    put(&b, s->weights, s->weights_size, K_WEIGHTS);
    patch_u64(b.d, p.weights_offset, woff);
    *size = b.len;
    if (kinds)
        *kinds = b.kind;
    else
        free(b.kind);
    if (pos)
        *pos = p;
    return b.d;
}

/* ---------------------------------------------------------------- the engines the tests use */

static const float W_DATA[6] = {1, -2, 3, -4, 5, -6};
static const float C_DATA[3] = {7, 8, 9};
static const float X_DATA[6] = {0.5f, 0.5f, -5, 5, -5, 10};
static const float Y_WANT[6] = {1.5f, 0, 0, 1, 0, 4};

enum { T_X, T_W, T_S, T_Y, T_C };
static const int64_t D23[2] = {2, 3}, D3[1] = {3};
static const int64_t ATTR_INTS[3] = {1, -2, 3};
static const float ATTR_FLOATS[2] = {0.5f, -1.25f};
static const char *const ATTR_STRINGS[2] = {"alpha", ""};

static void spec_header(spec *s)
{
    memset(s, 0, sizeof *s);
    s->magic = ENGINE_MAGIC;
    s->version = ENGINE_FORMAT_VERSION;
    s->target = ENGINE_TARGET_HOST;
    s->arena_size = 64;
}

/* x float [2,3] (input) + w (weights) -> "add" -> s (arena) -> "relu" -> y (output); and c
 * float [3], an output the builder folded into the weights. With attrs, "relu" carries one
 * attribute of every kind the format allows. */
static void spec_add_relu(spec *s, int attrs)
{
    spec_header(s);
    add_tensor(s, "x", O2P_DTYPE_FLOAT, 2, D23, ENGINE_IO_INPUT, ENGINE_STORAGE_IO, 0);
    add_tensor(s, "w", O2P_DTYPE_FLOAT, 2, D23, 0, ENGINE_STORAGE_WEIGHTS, 0);
    add_tensor(s, "s", O2P_DTYPE_FLOAT, 2, D23, 0, ENGINE_STORAGE_ARENA, 0);
    add_tensor(s, "y", O2P_DTYPE_FLOAT, 2, D23, ENGINE_IO_OUTPUT, ENGINE_STORAGE_IO, 0);
    add_tensor(s, "c", O2P_DTYPE_FLOAT, 1, D3, ENGINE_IO_OUTPUT, ENGINE_STORAGE_WEIGHTS, 256);
    add_layer(s, "add", "Add", 2, (int32_t[]){T_X, T_W}, 1, (int32_t[]){T_S});
    spec_layer *l = add_layer(s, "relu", "Relu", 1, (int32_t[]){T_S}, 1, (int32_t[]){T_Y});
    if (attrs) {
        l->nattr = 7;
        l->attrs[0] = (spec_attr){.name = "i", .type = O2P_ATTR_INT, .i = -7};
        l->attrs[1] = (spec_attr){.name = "f", .type = O2P_ATTR_FLOAT, .f = 2.5f};
        l->attrs[2] = (spec_attr){.name = "s", .type = O2P_ATTR_STRING, .s = "NOTSET"};
        l->attrs[3] =
            (spec_attr){.name = "is", .type = O2P_ATTR_INTS, .count = 3, .ints = ATTR_INTS};
        l->attrs[4] =
            (spec_attr){.name = "fs", .type = O2P_ATTR_FLOATS, .count = 2, .floats = ATTR_FLOATS};
        l->attrs[5] = (spec_attr){
            .name = "ss", .type = O2P_ATTR_STRINGS, .count = 2, .strings = ATTR_STRINGS};
        l->attrs[6] = (spec_attr){.name = "t", .type = O2P_ATTR_TENSOR, .tensor = T_W};
    }
    s->nin = 1;
    s->in[0] = T_X;
    s->nout = 2;
    s->out[0] = T_Y;
    s->out[1] = T_C;
    memcpy(s->weights, W_DATA, sizeof W_DATA);
    memcpy(s->weights + 256, C_DATA, sizeof C_DATA);
    s->weights_size = 256 + sizeof C_DATA;
}

/* ---------------------------------------------------------------- test kernels */

static int64_t numel_of(const host_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

/* Same float32 shape and data present: what the test kernels need before touching memory. */
static int same_float(const host_tensor *a, const host_tensor *b)
{
    return a && b && a->dtype == O2P_DTYPE_FLOAT && b->dtype == O2P_DTYPE_FLOAT &&
           a->rank == b->rank && !memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank) &&
           a->data && b->data;
}

static o2p_status test_add(const host_kernel_args *a)
{
    if (a->num_inputs != 2 || a->num_outputs != 1 || !same_float(a->inputs[0], a->inputs[1]) ||
        !same_float(a->inputs[0], a->outputs[0]))
        return host_error(a, "test Add wants two float inputs and an output of one shape");
    const float *x = a->inputs[0]->data, *y = a->inputs[1]->data;
    float *z = a->outputs[0]->data;
    for (int64_t i = 0; i < numel_of(a->inputs[0]); i++)
        z[i] = x[i] + y[i];
    return O2P_OK;
}

static o2p_status test_unary(const host_kernel_args *a, int relu)
{
    if (a->num_inputs != 1 || a->num_outputs != 1 || !same_float(a->inputs[0], a->outputs[0]))
        return host_error(a, "test kernel wants one float input and an output of its shape");
    const float *x = a->inputs[0]->data;
    float *y = a->outputs[0]->data;
    for (int64_t i = 0; i < numel_of(a->inputs[0]); i++)
        y[i] = relu && !(x[i] > 0) ? 0 : x[i];
    return O2P_OK;
}

static o2p_status test_relu(const host_kernel_args *a)
{
    return test_unary(a, 1);
}

static o2p_status test_identity(const host_kernel_args *a)
{
    if (a->num_inputs == 1 && a->num_outputs == 1 && a->inputs[0] && a->outputs[0] &&
        a->inputs[0]->dtype == O2P_DTYPE_UINT8 && a->outputs[0]->dtype == O2P_DTYPE_UINT8 &&
        numel_of(a->inputs[0]) == numel_of(a->outputs[0])) {
        memcpy(a->outputs[0]->data, a->inputs[0]->data, (size_t)numel_of(a->inputs[0]));
        return O2P_OK;
    }
    return test_unary(a, 0);
}

static o2p_status test_fail(const host_kernel_args *a)
{
    return host_error(a, "the test kernel refuses on purpose");
}

static o2p_status test_silent_fail(const host_kernel_args *a)
{
    return O2P_ERR_INTERNAL;
}

/* Opt(a, omitted, b) -> out = a + b: checks that an omitted input arrives as NULL. */
static o2p_status test_opt(const host_kernel_args *a)
{
    if (a->num_inputs != 3 || a->inputs[1] != NULL || a->num_outputs != 2 || a->outputs[1])
        return host_error(a, "test Opt wants (a, omitted, b) -> (out, omitted)");
    host_kernel_args b = *a;
    const host_tensor *in[2] = {a->inputs[0], a->inputs[2]};
    b.num_inputs = 2;
    b.inputs = in;
    b.num_outputs = 1;
    return test_add(&b);
}

static host_kernel_fn test_lookup(const char *op)
{
    if (!strcmp(op, "Add"))
        return test_add;
    if (!strcmp(op, "Relu"))
        return test_relu;
    if (!strcmp(op, "Identity"))
        return test_identity;
    if (!strcmp(op, "Fail"))
        return test_fail;
    if (!strcmp(op, "SilentFail"))
        return test_silent_fail;
    if (!strcmp(op, "Opt"))
        return test_opt;
    return NULL;
}

/* ---------------------------------------------------------------- helpers */

static o2p_status create_spec(const spec *s, lean_kernel_lookup lookup, lean_engine **e)
{
    size_t size;
    uint8_t *bytes = encode(s, &size, NULL, NULL);
    o2p_status st = lean_engine_create_with_kernels(bytes, size, WHAT, lookup, e);
    free(bytes);
    return st;
}

/* The spec must be refused with `status`, by a message naming the section and `needle`. */
static void refused(const spec *s, o2p_status status, const char *needle)
{
    lean_engine *e = (lean_engine *)1;
    TU_ASSERT_STATUS(create_spec(s, test_lookup, &e), status);
    ck_assert_ptr_null(e);
    TU_ASSERT_ERROR_HAS(WHAT ": ENGINE section, ");
    TU_ASSERT_ERROR_HAS(needle);
}

static void refused_bytes(const uint8_t *bytes, size_t size, o2p_status status, const char *needle)
{
    lean_engine *e = (lean_engine *)1;
    TU_ASSERT_STATUS(lean_engine_create_with_kernels(bytes, size, WHAT, test_lookup, &e), status);
    ck_assert_ptr_null(e);
    TU_ASSERT_ERROR_HAS(WHAT ": ENGINE section, ");
    TU_ASSERT_ERROR_HAS(needle);
}

/* Runs add_relu's engine on X_DATA: y and c into the caller's arrays. */
static o2p_status run_add_relu(const lean_engine *e, float *y, float *c)
{
    lean_context *ctx;
    O2P_TRY(lean_context_create(e, &ctx));
    o2p_status st = lean_context_set_tensor_address(ctx, "x", (void *)X_DATA);
    if (st == O2P_OK)
        st = lean_context_set_tensor_address(ctx, "y", y);
    if (st == O2P_OK)
        st = lean_context_set_tensor_address(ctx, "c", c);
    if (st == O2P_OK)
        st = lean_context_execute(ctx);
    lean_context_destroy(ctx);
    return st;
}

static void assert_floats(const float *got, const float *want, int n)
{
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-6f, "element %d is %g, expected %g", i,
                      (double)got[i], (double)want[i]);
}

static int have_kernels(const char *ops)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ops);
    for (char *op = strtok(buf, ","); op; op = strtok(NULL, ","))
        if (!host_kernel_find(op)) {
            printf("test_lean: skipped: no host kernel for %s yet\n", op);
            return 0;
        }
    return 1;
}

/* ---------------------------------------------------------------- valid engines */

START_TEST(test_queries_and_execution)
{
    spec s;
    spec_add_relu(&s, 1);
    size_t size;
    uint8_t *bytes = encode(&s, &size, NULL, NULL);
    lean_engine *e;
    TU_ASSERT_STATUS(lean_engine_create_with_kernels(bytes, size, WHAT, test_lookup, &e), O2P_OK);
    memset(bytes, 0xA5, size); /* the engine keeps nothing of the section */
    free(bytes);

    ck_assert_uint_eq(lean_engine_target(e), ENGINE_TARGET_HOST);
    ck_assert_uint_eq(lean_engine_arena_size(e), 64);
    ck_assert_int_eq(lean_engine_num_io(e), 3);
    ck_assert_int_eq(lean_engine_num_inputs(e), 1);
    ck_assert_int_eq(lean_engine_num_outputs(e), 2);
    ck_assert_str_eq(lean_engine_io_name(e, 0), "x");
    ck_assert_str_eq(lean_engine_io_name(e, 1), "y");
    ck_assert_str_eq(lean_engine_io_name(e, 2), "c");
    ck_assert_ptr_null(lean_engine_io_name(e, 3));
    ck_assert_ptr_null(lean_engine_io_name(e, -1));
    ck_assert_int_eq(lean_engine_io_mode(e, 0), LEAN_IO_INPUT);
    ck_assert_int_eq(lean_engine_io_mode(e, 1), LEAN_IO_OUTPUT);
    ck_assert_int_eq(lean_engine_io_mode(e, 2), LEAN_IO_OUTPUT);
    ck_assert_int_eq(lean_engine_io_mode(e, 3), LEAN_IO_NONE);
    ck_assert_int_eq(lean_engine_find_io(e, "x"), 0);
    ck_assert_int_eq(lean_engine_find_io(e, "c"), 2);
    ck_assert_int_eq(lean_engine_find_io(e, "s"), -1);
    ck_assert_int_eq(lean_engine_find_io(e, "nope"), -1);
    ck_assert_int_eq(lean_engine_io_dtype(e, 1), O2P_DTYPE_FLOAT);
    ck_assert_int_eq(lean_engine_io_rank(e, 1), 2);
    ck_assert_int_eq(lean_engine_io_dim(e, 1, 0), 2);
    ck_assert_int_eq(lean_engine_io_dim(e, 1, 1), 3);
    ck_assert_int_eq(lean_engine_io_dim(e, 1, 2), -1);
    ck_assert_uint_eq(lean_engine_io_nbytes(e, 0), 24);
    ck_assert_uint_eq(lean_engine_io_nbytes(e, 2), 12);
    ck_assert_int_eq(lean_engine_io_tensor(e, 2), T_C);

    ck_assert_int_eq(lean_engine_num_tensors(e), 5);
    ck_assert_str_eq(lean_engine_tensor_name(e, T_S), "s");
    ck_assert_int_eq(lean_engine_tensor_storage(e, T_S), ENGINE_STORAGE_ARENA);
    ck_assert_int_eq(lean_engine_tensor_storage(e, T_C), ENGINE_STORAGE_WEIGHTS);
    ck_assert_uint_eq(lean_engine_tensor_offset(e, T_C), 256);
    ck_assert_int_eq(lean_engine_tensor_storage(e, 5), -1);

    ck_assert_int_eq(lean_engine_num_layers(e), 2);
    ck_assert_str_eq(lean_engine_layer_name(e, 0), "add");
    ck_assert_str_eq(lean_engine_layer_op_type(e, 1), "Relu");
    ck_assert_int_eq(lean_engine_layer_opset(e, 1), 17);
    ck_assert_str_eq(lean_engine_layer_tactic_source(e, 1), "builtin");
    ck_assert_str_eq(lean_engine_layer_tactic_kernel(e, 1), "host.test");
    ck_assert_int_eq(lean_engine_layer_num_inputs(e, 0), 2);
    ck_assert_int_eq(lean_engine_layer_input(e, 0, 1), T_W);
    ck_assert_int_eq(lean_engine_layer_output(e, 1, 0), T_Y);
    ck_assert_int_eq(lean_engine_layer_output(e, 1, 1), -1);
    ck_assert_ptr_null(lean_engine_layer_name(e, 2));

    /* Attributes as the kernels see them. */
    ck_assert_int_eq(lean_engine_layer_num_attrs(e, 1), 7);
    const host_attr *a = lean_engine_layer_attr(e, 1, 0);
    ck_assert_str_eq(a->name, "i");
    ck_assert_int_eq(a->type, O2P_ATTR_INT);
    ck_assert_int_eq(a->i, -7);
    a = lean_engine_layer_attr(e, 1, 1);
    ck_assert(a->type == O2P_ATTR_FLOAT && a->f == 2.5f);
    a = lean_engine_layer_attr(e, 1, 2);
    ck_assert_str_eq(a->s, "NOTSET");
    a = lean_engine_layer_attr(e, 1, 3);
    ck_assert(a->type == O2P_ATTR_INTS && a->count == 3 && a->ints[1] == -2);
    a = lean_engine_layer_attr(e, 1, 4);
    ck_assert(a->type == O2P_ATTR_FLOATS && a->count == 2 && a->floats[1] == -1.25f);
    a = lean_engine_layer_attr(e, 1, 5);
    ck_assert(a->type == O2P_ATTR_STRINGS && a->count == 2);
    ck_assert_str_eq(a->strings[0], "alpha");
    ck_assert_str_eq(a->strings[1], "");
    a = lean_engine_layer_attr(e, 1, 6);
    ck_assert(a->type == O2P_ATTR_TENSOR && a->tensor);
    ck_assert_int_eq(a->tensor->rank, 2);
    ck_assert_int_eq((uintptr_t)a->tensor->data % 256, 0); /* the weights are 256-aligned */
    assert_floats(a->tensor->data, W_DATA, 6);
    ck_assert_ptr_null(lean_engine_layer_attr(e, 1, 7));

    float y[6], c[3];
    memset(y, 0xff, sizeof y);
    TU_ASSERT_STATUS(run_add_relu(e, y, c), O2P_OK);
    assert_floats(y, Y_WANT, 6);
    assert_floats(c, C_DATA, 3);
    /* Again, with the same context: nothing carries over but the bindings. */
    lean_context *ctx;
    TU_ASSERT_STATUS(lean_context_create(e, &ctx), O2P_OK);
    ck_assert_ptr_eq(lean_context_engine(ctx), e);
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "x", (void *)X_DATA), O2P_OK);
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "y", y), O2P_OK);
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "c", c), O2P_OK);
    ck_assert_ptr_eq(lean_context_get_tensor_address(ctx, "y"), y);
    ck_assert_ptr_null(lean_context_get_tensor_address(ctx, "s"));
    for (int i = 0; i < 3; i++) {
        memset(y, 0, sizeof y);
        TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_OK);
        assert_floats(y, Y_WANT, 6);
    }
    lean_context_destroy(ctx);
    lean_engine_destroy(e);
}
END_TEST

typedef struct thread_job {
    const lean_engine *engine;
    int seed;
    int ok;
} thread_job;

static void *thread_run(void *p)
{
    thread_job *job = p;
    lean_context *ctx;
    if (lean_context_create(job->engine, &ctx) != O2P_OK)
        return NULL;
    float x[6], y[6], c[3];
    lean_context_set_tensor_address(ctx, "x", x);
    lean_context_set_tensor_address(ctx, "y", y);
    lean_context_set_tensor_address(ctx, "c", c);
    job->ok = 1;
    for (int round = 0; round < 2000 && job->ok; round++) {
        for (int i = 0; i < 6; i++)
            x[i] = (float)((job->seed * 7 + round + i * 3) % 11) - 5.0f;
        if (lean_context_execute(ctx) != O2P_OK)
            job->ok = 0;
        for (int i = 0; i < 6; i++) {
            float want = x[i] + W_DATA[i];
            if (y[i] != (want > 0 ? want : 0))
                job->ok = 0;
        }
    }
    lean_context_destroy(ctx);
    return NULL;
}

/* One engine, a context per thread, all running at once; with the test kernels and then,
 * once they exist, the host kernels. */
static void run_on_threads(lean_kernel_lookup lookup)
{
    spec s;
    spec_add_relu(&s, 0);
    lean_engine *e;
    TU_ASSERT_STATUS(create_spec(&s, lookup, &e), O2P_OK);
    enum { N = 4 };
    pthread_t th[N];
    thread_job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (thread_job){e, i, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_run, &jobs[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(jobs[i].ok, "context %d gave wrong results", i);
    }
    lean_engine_destroy(e);
}

START_TEST(test_contexts_on_threads)
{
    run_on_threads(test_lookup);
    if (have_kernels("Add,Relu"))
        run_on_threads(NULL);
}
END_TEST

/* Memory reused by liveness: s and v share arena bytes, s being dead when v is written. */
START_TEST(test_arena_reuse_and_omitted_io)
{
    spec s;
    spec_add_relu(&s, 0);
    int u = add_tensor(&s, "u", O2P_DTYPE_FLOAT, 2, D23, 0, ENGINE_STORAGE_ARENA, 32);
    int v = add_tensor(&s, "v", O2P_DTYPE_FLOAT, 2, D23, 0, ENGINE_STORAGE_ARENA, 8);
    s.nl = 0;
    add_layer(&s, "add", "Add", 2, (int32_t[]){T_X, T_W}, 1, (int32_t[]){T_S});
    add_layer(&s, "r1", "Relu", 1, (int32_t[]){T_S}, 1, (int32_t[]){u});
    add_layer(&s, "id", "Identity", 1, (int32_t[]){u}, 1, (int32_t[]){v});
    add_layer(&s, "opt", "Opt", 3, (int32_t[]){v, -1, T_X}, 2, (int32_t[]){T_Y, -1});
    s.arena_size = 56;
    lean_engine *e;
    TU_ASSERT_STATUS(create_spec(&s, test_lookup, &e), O2P_OK);
    float y[6], c[3], want[6];
    TU_ASSERT_STATUS(run_add_relu(e, y, c), O2P_OK);
    for (int i = 0; i < 6; i++)
        want[i] = Y_WANT[i] + X_DATA[i];
    assert_floats(y, want, 6);
    lean_engine_destroy(e);

    /* The arena ends exactly where the last range does; one byte less is refused. */
    s.arena_size = 55;
    refused(&s, O2P_ERR_PARSE, "outside the arena of 55 bytes");
}
END_TEST

START_TEST(test_empty_and_folded_engines)
{
    /* No layers: every output folded to a constant. */
    spec s;
    spec_header(&s);
    s.arena_size = 0;
    int c =
        add_tensor(&s, "c", O2P_DTYPE_FLOAT, 1, D3, ENGINE_IO_OUTPUT, ENGINE_STORAGE_WEIGHTS, 0);
    const int64_t d0[1] = {0};
    int z = add_tensor(&s, "z", O2P_DTYPE_FLOAT, 1, d0, ENGINE_IO_INPUT, ENGINE_STORAGE_IO, 0);
    s.nin = 1;
    s.in[0] = z;
    s.nout = 1;
    s.out[0] = c;
    memcpy(s.weights, C_DATA, sizeof C_DATA);
    s.weights_size = sizeof C_DATA;
    lean_engine *e;
    TU_ASSERT_STATUS(create_spec(&s, test_lookup, &e), O2P_OK);
    ck_assert_uint_eq(lean_engine_io_nbytes(e, 0), 0);
    lean_context *ctx;
    TU_ASSERT_STATUS(lean_context_create(e, &ctx), O2P_OK);
    float out[3] = {0};
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "c", out), O2P_OK);
    /* z has no bytes: it needs no memory. */
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_OK);
    assert_floats(out, C_DATA, 3);
    lean_context_destroy(ctx);
    lean_engine_destroy(e);

    /* Nothing at all: a header, empty tables, no weights. */
    spec_header(&s);
    s.arena_size = 0;
    TU_ASSERT_STATUS(create_spec(&s, test_lookup, &e), O2P_OK);
    ck_assert_int_eq(lean_engine_num_io(e), 0);
    TU_ASSERT_STATUS(lean_context_create(e, &ctx), O2P_OK);
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_OK);
    lean_context_destroy(ctx);
    lean_engine_destroy(e);
}
END_TEST

/* ---------------------------------------------------------------- with the host kernels */

START_TEST(test_host_kernels_add_relu)
{
    if (!have_kernels("Add,Relu"))
        return;
    spec s;
    spec_add_relu(&s, 0);
    size_t size;
    uint8_t *bytes = encode(&s, &size, NULL, NULL);
    lean_engine *e;
    TU_ASSERT_STATUS(lean_engine_create(bytes, size, WHAT, &e), O2P_OK);
    free(bytes);
    float y[6], c[3];
    TU_ASSERT_STATUS(run_add_relu(e, y, c), O2P_OK);
    assert_floats(y, Y_WANT, 6);
    assert_floats(c, C_DATA, 3);
    lean_engine_destroy(e);

    /* Broadcasting through the real Add: x [2,3] + b [3]. */
    spec_add_relu(&s, 0);
    s.l[0].in[1] = T_C;
    float want[6];
    for (int i = 0; i < 6; i++)
        want[i] = fmaxf(X_DATA[i] + C_DATA[i % 3], 0);
    TU_ASSERT_STATUS(create_spec(&s, NULL, &e), O2P_OK);
    TU_ASSERT_STATUS(run_add_relu(e, y, c), O2P_OK);
    assert_floats(y, want, 6);
    lean_engine_destroy(e);

    /* A shape the kernel refuses: the failure names the layer. */
    spec_add_relu(&s, 0);
    s.t[T_S].dims[1] = 2;
    s.t[T_S].nbytes = 16;
    s.t[T_Y].dims[1] = 2;
    s.t[T_Y].nbytes = 16;
    TU_ASSERT_STATUS(create_spec(&s, NULL, &e), O2P_OK);
    ck_assert_int_ne(run_add_relu(e, y, c), O2P_OK);
    TU_ASSERT_ERROR_HAS(WHAT ": layer 0 'add' (Add)");
    lean_engine_destroy(e);
}
END_TEST

START_TEST(test_host_kernels_conv)
{
    if (!have_kernels("Conv,Identity"))
        return;
    /* x [1,1,3,3] * W [1,1,2,2] + B [1], strides 1, no padding -> [1,1,2,2]; then Identity. */
    spec s;
    spec_header(&s);
    const int64_t dx[4] = {1, 1, 3, 3}, dw[4] = {1, 1, 2, 2}, db[1] = {1}, dy[4] = {1, 1, 2, 2};
    int x = add_tensor(&s, "x", O2P_DTYPE_FLOAT, 4, dx, ENGINE_IO_INPUT, ENGINE_STORAGE_IO, 0);
    int w = add_tensor(&s, "W", O2P_DTYPE_FLOAT, 4, dw, 0, ENGINE_STORAGE_WEIGHTS, 0);
    int b = add_tensor(&s, "B", O2P_DTYPE_FLOAT, 1, db, 0, ENGINE_STORAGE_WEIGHTS, 256);
    int t = add_tensor(&s, "t", O2P_DTYPE_FLOAT, 4, dy, 0, ENGINE_STORAGE_ARENA, 0);
    int y = add_tensor(&s, "y", O2P_DTYPE_FLOAT, 4, dy, ENGINE_IO_OUTPUT, ENGINE_STORAGE_IO, 0);
    spec_layer *l = add_layer(&s, "conv", "Conv", 3, (int32_t[]){x, w, b}, 1, (int32_t[]){t});
    static const int64_t ks[2] = {2, 2}, st[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    l->nattr = 3;
    l->attrs[0] =
        (spec_attr){.name = "kernel_shape", .type = O2P_ATTR_INTS, .count = 2, .ints = ks};
    l->attrs[1] = (spec_attr){.name = "strides", .type = O2P_ATTR_INTS, .count = 2, .ints = st};
    l->attrs[2] = (spec_attr){.name = "pads", .type = O2P_ATTR_INTS, .count = 4, .ints = pads};
    add_layer(&s, "copy", "Identity", 1, (int32_t[]){t}, 1, (int32_t[]){y});
    s.nin = 1, s.in[0] = x, s.nout = 1, s.out[0] = y;
    const float wv[4] = {1, 2, 3, 4}, bv[1] = {0.5f};
    memcpy(s.weights, wv, sizeof wv);
    memcpy(s.weights + 256, bv, sizeof bv);
    s.weights_size = 260;
    lean_engine *e;
    TU_ASSERT_STATUS(create_spec(&s, NULL, &e), O2P_OK);
    const float xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float out[4], want[4];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            want[i * 2 + j] = 0.5f + xv[i * 3 + j] * 1 + xv[i * 3 + j + 1] * 2 +
                              xv[(i + 1) * 3 + j] * 3 + xv[(i + 1) * 3 + j + 1] * 4;
    lean_context *ctx;
    TU_ASSERT_STATUS(lean_context_create(e, &ctx), O2P_OK);
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "x", (void *)xv), O2P_OK);
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "y", out), O2P_OK);
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_OK);
    assert_floats(out, want, 4);
    lean_context_destroy(ctx);
    lean_engine_destroy(e);
}
END_TEST

/* ---------------------------------------------------------------- refusals */

START_TEST(test_op_without_kernel)
{
    spec s;
    spec_add_relu(&s, 0);
    s.l[1].op = "NoSuchOp";
    refused(&s, O2P_ERR_UNSUPPORTED, "layer 1 'relu' (NoSuchOp)");
    TU_ASSERT_ERROR_HAS("no host kernel for op 'NoSuchOp'");
    TU_ASSERT_ERROR_HAS("cannot run");
    /* The same through host_kernel_find, the runtime's own table. */
    size_t size;
    uint8_t *bytes = encode(&s, &size, NULL, NULL);
    lean_engine *e;
    TU_ASSERT_STATUS(lean_engine_create(bytes, size, WHAT, &e), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("NoSuchOp");
    free(bytes);
    s.l[1].op = "";
    refused(&s, O2P_ERR_UNSUPPORTED, "no host kernel for op ''");
}
END_TEST

START_TEST(test_header_refusals)
{
    spec s;
    spec_add_relu(&s, 0);
    s.version = ENGINE_FORMAT_VERSION + 1;
    char newer[128];
    snprintf(newer, sizeof newer, "ENGINE format version %u is newer than version %u",
             ENGINE_FORMAT_VERSION + 1, ENGINE_FORMAT_VERSION);
    refused(&s, O2P_ERR_UNSUPPORTED, newer);
    TU_ASSERT_ERROR_HAS("must run with the lean runtime that made it");
    s.version = 0;
    refused(&s, O2P_ERR_PARSE, "version 0");
    s.version = 2;
    refused(&s, O2P_ERR_UNSUPPORTED, "ENGINE format version 2 is older than version");
    TU_ASSERT_ERROR_HAS("lean runtime that made it");
    /* a cuda engine's tables are fine; main() points the driver at nothing */
    spec_add_relu(&s, 0);
    s.target = ENGINE_TARGET_CUDA;
    refused(&s, O2P_ERR_UNSUPPORTED, "cannot load the CUDA driver");
    TU_ASSERT_ERROR_HAS(WHAT ": ENGINE section, device: ");
    /* the format-3 fields are empty on the host target */
    spec_add_relu(&s, 0);
    s.workspace_size = 256;
    refused(&s, O2P_ERR_PARSE, "workspace_size is 256 on the host target");
    spec_add_relu(&s, 0);
    s.num_images = 1;
    s.pad_extra = 64; /* bytes for the record the count promises */
    refused(&s, O2P_ERR_PARSE, "1 kernel images on the host target");
    spec_add_relu(&s, 0);
    s.l[0].num_launches = 1;
    refused(&s, O2P_ERR_PARSE, "layer 0 'add' (Add): 1 launches on the host target");
    s.target = 7;
    refused(&s, O2P_ERR_UNSUPPORTED, "target 7 is unknown");
    TU_ASSERT_ERROR_HAS("lean runtime that made it");
    spec_add_relu(&s, 0);
    s.magic = 0x12345678;
    refused(&s, O2P_ERR_PARSE, "not an ENGINE section");
    spec_add_relu(&s, 0);
    s.flags = 4;
    refused(&s, O2P_ERR_PARSE, "reserved");
    spec_add_relu(&s, 0);
    s.arena_size = UINT64_MAX;
    refused(&s, O2P_ERR_PARSE, "arena_size");

    /* weights_offset and weights_size. */
    spec_add_relu(&s, 0);
    size_t size;
    spec_pos pos;
    uint8_t *b = encode(&s, &size, NULL, &pos);
    patch_u64(b, pos.weights_offset, 257);
    refused_bytes(b, size, O2P_ERR_PARSE, "weights_offset 257 is not a multiple of 256");
    patch_u64(b, pos.weights_offset, 0);
    refused_bytes(b, size, O2P_ERR_PARSE, "do not end the");
    patch_u64(b, pos.weights_offset, size - 268 + 256);
    refused_bytes(b, size, O2P_ERR_PARSE, "do not end the");
    patch_u64(b, pos.weights_offset, size - 268);
    patch_u64(b, pos.weights_offset + 8, 267);
    refused_bytes(b, size, O2P_ERR_PARSE, "do not end the");
    patch_u64(b, pos.weights_offset + 8, UINT64_MAX);
    refused_bytes(b, size, O2P_ERR_PARSE, "do not end the");
    free(b);

    lean_engine *e = (lean_engine *)1;
    TU_ASSERT_STATUS(lean_engine_create_with_kernels(NULL, 0, NULL, test_lookup, &e),
                     O2P_ERR_PARSE);
    ck_assert_ptr_null(e);
    TU_ASSERT_ERROR_HAS("ENGINE: ENGINE section, header: truncated");
    TU_ASSERT_FAILS(lean_engine_create(NULL, 10, WHAT, &e));
}
END_TEST

START_TEST(test_tensor_refusals)
{
    spec s;
    spec_add_relu(&s, 0);
    s.t[T_S].dtype = O2P_DTYPE_STRING;
    refused(&s, O2P_ERR_PARSE, "tensor 2 's': dtype 8 is not an element type");
    s.t[T_S].dtype = 0;
    refused(&s, O2P_ERR_PARSE, "dtype 0");
    s.t[T_S].dtype = 17;
    refused(&s, O2P_ERR_PARSE, "dtype 17");

    spec_add_relu(&s, 0);
    s.t[T_S].rank = 17;
    refused(&s, O2P_ERR_PARSE, "rank 17 is over the highest rank, 16");
    spec_add_relu(&s, 0);
    s.t[T_S].dims[1] = -3;
    refused(&s, O2P_ERR_PARSE, "dim 1 is -3");
    spec_add_relu(&s, 0);
    s.t[T_S].nbytes = 25;
    refused(&s, O2P_ERR_PARSE, "nbytes is 25, but its dims and 4-byte elements make 24");
    /* Dims whose product, or its bytes, overflow. */
    spec_add_relu(&s, 0);
    s.t[T_S].dims[0] = INT64_C(1) << 62;
    s.t[T_S].dims[1] = 8;
    refused(&s, O2P_ERR_PARSE, "over 2^63-1 bytes");
    s.t[T_S].dims[1] = 1;
    refused(&s, O2P_ERR_PARSE, "over 2^63-1 bytes");
    s.t[T_S].dims[0] = INT64_MAX;
    s.t[T_S].dims[1] = INT64_MAX;
    refused(&s, O2P_ERR_PARSE, "over 2^63-1 bytes");
    /* ... but a zero dim makes any product zero. */
    s.t[T_S].dims[1] = 0;
    s.t[T_S].nbytes = 0;
    lean_engine *e;
    TU_ASSERT_STATUS(create_spec(&s, test_lookup, &e), O2P_OK);
    ck_assert_uint_eq(lean_engine_tensor_nbytes(e, T_S), 0);
    ck_assert_int_eq(lean_engine_tensor_dim(e, T_S, 0), INT64_MAX);
    lean_engine_destroy(e);

    spec_add_relu(&s, 0);
    s.t[T_X].io = 3;
    refused(&s, O2P_ERR_PARSE, "both an engine input and an engine output");
    s.t[T_X].io = 4;
    refused(&s, O2P_ERR_PARSE, "io is 4");
    spec_add_relu(&s, 0);
    s.t[T_S].io = ENGINE_IO_OUTPUT;
    refused(&s, O2P_ERR_PARSE, "not in the arena");
    spec_add_relu(&s, 0);
    s.t[T_W].io = ENGINE_IO_INPUT;
    refused(&s, O2P_ERR_PARSE, "not in the weights");
    spec_add_relu(&s, 0);
    s.t[T_X].io = 0;
    refused(&s, O2P_ERR_PARSE, "neither the engine input nor the output io bit");
    spec_add_relu(&s, 0);
    s.t[T_X].offset = 8;
    refused(&s, O2P_ERR_PARSE, "offset is 8; it is 0 for storage IO");
    spec_add_relu(&s, 0);
    s.t[T_S].storage = 3;
    refused(&s, O2P_ERR_PARSE, "storage 3 is unknown");

    /* Ranges: inside the arena / blob, overflow-checked, aligned. */
    spec_add_relu(&s, 0);
    s.t[T_S].offset = 44;
    refused(&s, O2P_ERR_PARSE,
            "tensor 2 's': its 24 bytes at arena offset 44 lie outside the arena of 64");
    s.t[T_S].offset = UINT64_MAX - 7;
    refused(&s, O2P_ERR_PARSE, "outside the arena");
    s.t[T_S].offset = 2;
    refused(&s, O2P_ERR_PARSE, "arena offset 2 is not a multiple of its element alignment, 4");
    spec_add_relu(&s, 0);
    s.t[T_C].offset = 512;
    refused(&s, O2P_ERR_PARSE, "outside the weights blob of 268 bytes");
    s.t[T_C].offset = UINT64_MAX - 255;
    refused(&s, O2P_ERR_PARSE, "outside the weights blob");
    s.t[T_C].offset = 128;
    refused(&s, O2P_ERR_PARSE, "weights offset 128 is not a multiple of 256");

    /* Names show in messages cut short and with unprintable bytes replaced. */
    spec_add_relu(&s, 0);
    s.t[T_S].name = "has\001ctl";
    s.t[T_S].offset = 44;
    refused(&s, O2P_ERR_PARSE, "tensor 2 'has?ctl': its 24 bytes");
    char longname[200];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    s.t[T_S].name = longname;
    refused(&s, O2P_ERR_PARSE, "nnnnnnnnnn...': its 24 bytes");
}
END_TEST

START_TEST(test_layer_refusals)
{
    spec s;
    spec_add_relu(&s, 0);
    /* Reading a tensor that only a later layer writes. */
    spec_layer t = s.l[0];
    s.l[0] = s.l[1];
    s.l[1] = t;
    refused(&s, O2P_ERR_PARSE,
            "layer 0 'relu' (Relu): input 0 reads tensor 2 's', which is no engine input, no "
            "weights and not written by an earlier layer");
    /* Reading its own output. */
    spec_add_relu(&s, 0);
    s.l[1].in[0] = T_Y;
    refused(&s, O2P_ERR_PARSE, "input 0 reads tensor 3 'y'");
    /* Written twice; writing weights; writing an engine input. */
    spec_add_relu(&s, 0);
    s.l[1].out[0] = T_S;
    refused(&s, O2P_ERR_PARSE, "output 0 writes tensor 2 's', which layer 0 writes already");
    spec_add_relu(&s, 0);
    s.l[1].nout = 2;
    s.l[1].out[1] = T_Y;
    refused(&s, O2P_ERR_PARSE, "output 1 writes tensor 3 'y', which layer 1 writes already");
    spec_add_relu(&s, 0);
    s.l[1].out[0] = T_W;
    refused(&s, O2P_ERR_PARSE, "output 0 writes tensor 1 'w', which is weights");
    spec_add_relu(&s, 0);
    s.l[1].out[0] = T_X;
    refused(&s, O2P_ERR_PARSE, "output 0 writes tensor 0 'x', an engine input");
    /* Indices. */
    spec_add_relu(&s, 0);
    s.l[0].in[1] = 5;
    refused(&s, O2P_ERR_PARSE,
            "layer 0 'add' (Add): input 1 is tensor index 5, outside the table of 5");
    s.l[0].in[1] = -2;
    refused(&s, O2P_ERR_PARSE, "input 1 is tensor index -2");
    spec_add_relu(&s, 0);
    s.l[1].out[0] = INT32_MAX;
    refused(&s, O2P_ERR_PARSE, "output 0 is tensor index 2147483647");
    /* An engine output that no layer writes. */
    spec_add_relu(&s, 0);
    s.l[1].out[0] = -1;
    refused(&s, O2P_ERR_PARSE, "tensor 3 'y': it is an engine output that no layer writes");
    /* In the arena, a layer's outputs alias none of its inputs or outputs. */
    spec_add_relu(&s, 0);
    int u = add_tensor(&s, "u", O2P_DTYPE_FLOAT, 2, D23, 0, ENGINE_STORAGE_ARENA, 20);
    s.l[1].out[0] = u;
    s.l[1].nout = 1;
    add_layer(&s, "r2", "Relu", 1, (int32_t[]){u}, 1, (int32_t[]){T_Y});
    refused(&s, O2P_ERR_PARSE,
            "layer 1 'relu' (Relu): its input 0 's' (arena [0, 24)) overlaps its output 0 'u' "
            "(arena [20, 44))");
    s.t[u].offset = 24; /* touching is fine */
    lean_engine *e;
    TU_ASSERT_STATUS(create_spec(&s, test_lookup, &e), O2P_OK);
    lean_engine_destroy(e);
    /* Two outputs of one layer overlapping. */
    spec_add_relu(&s, 0);
    u = add_tensor(&s, "u", O2P_DTYPE_FLOAT, 2, D23, 0, ENGINE_STORAGE_ARENA, 16);
    s.l[0].nout = 2;
    s.l[0].out[1] = u;
    refused(&s, O2P_ERR_PARSE, "its output 0 's' (arena [0, 24)) overlaps its output 1 'u'");
    /* Reading one tensor twice is fine (Add(s, s)). */
    spec_add_relu(&s, 0);
    s.l[0].in[1] = T_X;
    TU_ASSERT_STATUS(create_spec(&s, test_lookup, &e), O2P_OK);
    lean_engine_destroy(e);

    spec_add_relu(&s, 0);
    s.l[0].opset = 0;
    refused(&s, O2P_ERR_PARSE, "opset 0");
    spec_add_relu(&s, 0);
    s.l[0].arch = 2;
    refused(&s, O2P_ERR_PARSE, "arch_specific is 2");
    s.l[0].arch = 1;
    refused(&s, O2P_ERR_PARSE, "on the host target");
    spec_add_relu(&s, 0);
    s.l[0].smem = 1024;
    refused(&s, O2P_ERR_PARSE, "smem_bytes 1024");
}
END_TEST

START_TEST(test_attribute_refusals)
{
    spec s;
    spec_add_relu(&s, 1);
    s.l[1].attrs[2].type = O2P_ATTR_GRAPH;
    refused(&s, O2P_ERR_PARSE,
            "layer 1 'relu' (Relu), attribute 2 's': attribute type 5 is not one an ENGINE holds");
    s.l[1].attrs[2].type = 99;
    refused(&s, O2P_ERR_PARSE, "attribute type 99");
    s.l[1].attrs[2].type = O2P_ATTR_UNDEFINED;
    refused(&s, O2P_ERR_PARSE, "attribute type 0");
    spec_add_relu(&s, 1);
    s.l[1].attrs[6].tensor = T_S;
    refused(&s, O2P_ERR_PARSE, "TENSOR index 2 is tensor 's', which is not a WEIGHTS tensor");
    s.l[1].attrs[6].tensor = 5;
    refused(&s, O2P_ERR_PARSE, "TENSOR index 5 is outside");
    s.l[1].attrs[6].tensor = -1;
    refused(&s, O2P_ERR_PARSE, "TENSOR index -1 is outside");
    spec_add_relu(&s, 1);
    s.l[1].attrs[5].name = "i";
    refused(&s, O2P_ERR_PARSE, "attribute 'i' appears twice");
    size_t size;
    uint8_t *b, *p;
    spec_add_relu(&s, 1);
    s.l[1].attrs[2].s = "aXb";
    b = encode(&s, &size, NULL, NULL);
    p = memmem(b, size, "aXb", 3);
    ck_assert_ptr_nonnull(p);
    p[1] = 0;
    refused_bytes(b, size, O2P_ERR_PARSE, "the STRING value holds a NUL byte");
    free(b);
}
END_TEST

START_TEST(test_io_list_refusals)
{
    spec s;
    spec_add_relu(&s, 0);
    s.nin = 0;
    refused(&s, O2P_ERR_PARSE,
            "tensor 0 'x': it has the engine input io bit but is not in the engine input list");
    spec_add_relu(&s, 0);
    s.nin = 2;
    s.in[1] = T_X;
    refused(&s, O2P_ERR_PARSE, "engine input 1: tensor 0 'x' is listed twice");
    spec_add_relu(&s, 0);
    s.in[0] = T_W;
    refused(&s, O2P_ERR_PARSE,
            "engine input 0: it is tensor 1 'w', which does not have the engine input io bit");
    spec_add_relu(&s, 0);
    s.out[1] = T_X;
    refused(&s, O2P_ERR_PARSE, "engine output 1: it is tensor 0 'x'");
    spec_add_relu(&s, 0);
    s.out[1] = 9;
    refused(&s, O2P_ERR_PARSE, "engine output 1: tensor index 9 is outside");
    spec_add_relu(&s, 0);
    s.nout = 1;
    refused(&s, O2P_ERR_PARSE,
            "tensor 4 'c': it has the engine output io bit but is not in the engine output list");
    spec_add_relu(&s, 0);
    s.t[T_C].name = "y";
    refused(&s, O2P_ERR_PARSE, "another engine input or output has the same name");
    spec_add_relu(&s, 0);
    s.t[T_X].name = "";
    refused(&s, O2P_ERR_PARSE, "an engine input needs a name");
    /* An internal tensor may share a name with an I/O tensor; find_io finds the I/O one. */
    spec_add_relu(&s, 0);
    s.t[T_S].name = "x";
    lean_engine *e;
    TU_ASSERT_STATUS(create_spec(&s, test_lookup, &e), O2P_OK);
    ck_assert_int_eq(lean_engine_find_io(e, "x"), 0);
    lean_engine_destroy(e);
}
END_TEST

START_TEST(test_padding_and_trailing_bytes)
{
    spec s;
    spec_add_relu(&s, 0);
    s.pad_extra = 16;
    size_t size;
    spec_pos pos;
    uint8_t *b = encode(&s, &size, NULL, &pos);
    /* Every byte of the padding must be zero. */
    size_t woff = size - s.weights_size;
    ck_assert(woff > pos.padding);
    for (size_t i = pos.padding; i < woff; i++) {
        b[i] = 0x20;
        refused_bytes(b, size, O2P_ERR_PARSE, "padding before the weights");
        b[i] = 0;
    }
    /* One byte more after the weights. */
    uint8_t *longer = malloc(size + 1);
    memcpy(longer, b, size);
    longer[size] = 0;
    refused_bytes(longer, size + 1, O2P_ERR_PARSE, "do not end the");
    free(longer);
    free(b);
}
END_TEST

START_TEST(test_every_truncation_refused)
{
    spec s;
    spec_add_relu(&s, 1);
    size_t size;
    uint8_t *b = encode(&s, &size, NULL, NULL);
    for (size_t n = 0; n < size; n++) {
        /* A copy of exactly n bytes, so that ASan sees any read past it. */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, b, n);
        lean_engine *e = (lean_engine *)1;
        o2p_status st = lean_engine_create_with_kernels(cut, n, WHAT, test_lookup, &e);
        ck_assert_msg(st == O2P_ERR_PARSE, "a section cut to %zu of %zu bytes gave %s: %s", n, size,
                      o2p_status_name(st), o2p_last_error());
        ck_assert_ptr_null(e);
        TU_ASSERT_ERROR_HAS(WHAT ": ENGINE section, ");
        free(cut);
    }
    free(b);
}
END_TEST

START_TEST(test_huge_counts_and_sizes)
{
    spec s;
    spec_add_relu(&s, 1);
    size_t size;
    spec_pos pos;
    uint8_t *b = encode(&s, &size, NULL, &pos);
    uint8_t *orig = malloc(size);
    memcpy(orig, b, size);
    static const uint32_t counts[] = {0xFFFFFFFFu, 0x80000000u, 0x01000001u, 1000};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        patch_u32(b, pos.num_tensors, counts[i]);
        refused_bytes(b, size, O2P_ERR_PARSE, "the number of tensors is");
        TU_ASSERT_ERROR_HAS("bytes left in the tables hold at most");
        memcpy(b, orig, size);
        patch_u32(b, pos.num_layers, counts[i]);
        refused_bytes(b, size, O2P_ERR_PARSE, "the number of layers is");
        memcpy(b, orig, size);
        patch_u32(b, pos.layer_num_attrs[1], counts[i]);
        refused_bytes(b, size, O2P_ERR_PARSE, "the number of attributes is");
        memcpy(b, orig, size);
        /* The name length of tensor 0. */
        patch_u32(b, pos.tensor[0], counts[i]);
        refused_bytes(b, size, O2P_ERR_PARSE, "truncated: the tensor name is");
        memcpy(b, orig, size);
    }
    free(b);
    free(orig);

    /* Over the limits with the bytes there: O2P_ERR_LIMIT. */
    spec_add_relu(&s, 1);
    s.pad_extra = (ENGINE_MAX_ATTRS + 1) * 12;
    b = encode(&s, &size, NULL, &pos);
    patch_u32(b, pos.layer_num_attrs[1], ENGINE_MAX_ATTRS + 1);
    refused_bytes(b, size, O2P_ERR_LIMIT,
                  "the number of attributes is 4097, over the limit of 4096");
    free(b);
    spec_add_relu(&s, 1);
    s.pad_extra = ENGINE_MAX_STRING + 1;
    b = encode(&s, &size, NULL, &pos);
    patch_u32(b, pos.tensor[0], ENGINE_MAX_STRING + 1);
    refused_bytes(b, size, O2P_ERR_LIMIT, "the tensor name is 1048577 bytes long, over the limit");
    free(b);

    /* A huge input, a huge output and a huge arena are valid: nothing is allocated for them
     * until a context (arena) or the caller (I/O memory) needs it. */
    spec_header(&s);
    const int64_t huge[2] = {INT64_C(1) << 30, INT64_C(1) << 30};
    int x = add_tensor(&s, "x", O2P_DTYPE_UINT8, 2, huge, ENGINE_IO_INPUT, ENGINE_STORAGE_IO, 0);
    int t = add_tensor(&s, "t", O2P_DTYPE_UINT8, 2, huge, 0, ENGINE_STORAGE_ARENA, 0);
    int y = add_tensor(&s, "y", O2P_DTYPE_UINT8, 2, huge, ENGINE_IO_OUTPUT, ENGINE_STORAGE_IO, 0);
    add_layer(&s, "a", "Identity", 1, (int32_t[]){x}, 1, (int32_t[]){t});
    add_layer(&s, "b", "Identity", 1, (int32_t[]){t}, 1, (int32_t[]){y});
    s.nin = 1, s.in[0] = x, s.nout = 1, s.out[0] = y;
    s.arena_size = UINT64_C(1) << 62;
    lean_engine *e;
    TU_ASSERT_STATUS(create_spec(&s, test_lookup, &e), O2P_OK);
    ck_assert_uint_eq(lean_engine_io_nbytes(e, 0), UINT64_C(1) << 60);
    ck_assert_uint_eq(lean_engine_arena_size(e), UINT64_C(1) << 62);
    lean_context *ctx = (lean_context *)1;
    TU_ASSERT_STATUS(lean_context_create(e, &ctx), O2P_ERR_OUT_OF_MEMORY);
    ck_assert_ptr_null(ctx);
    TU_ASSERT_ERROR_HAS("arena of 4611686018427387904 bytes");
    lean_engine_destroy(e);
    /* The same with a small arena: the context is made; execute wants x bound. */
    s.t[t].dims[0] = 1;
    s.t[t].dims[1] = 1 << 20;
    s.t[t].nbytes = 1 << 20;
    s.arena_size = 1 << 20;
    s.l[0].out[0] = y; /* Identity x -> y, then y -> t */
    s.l[1].in[0] = y;
    s.l[1].out[0] = t;
    TU_ASSERT_STATUS(create_spec(&s, test_lookup, &e), O2P_OK);
    TU_ASSERT_STATUS(lean_context_create(e, &ctx), O2P_OK);
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("engine input 'x' has no memory bound");
    lean_context_destroy(ctx);
    lean_engine_destroy(e);
}
END_TEST

/* ---------------------------------------------------------------- context misuse */

START_TEST(test_context_refusals)
{
    spec s;
    spec_add_relu(&s, 0);
    int f = add_tensor(&s, "f", O2P_DTYPE_FLOAT, 2, D23, 0, ENGINE_STORAGE_ARENA, 32);
    add_layer(&s, "boom", "Fail", 1, (int32_t[]){T_Y}, 1, (int32_t[]){f});
    lean_engine *e;
    TU_ASSERT_STATUS(create_spec(&s, test_lookup, &e), O2P_OK);
    lean_context *ctx;
    TU_ASSERT_STATUS(lean_context_create(e, &ctx), O2P_OK);
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "nope", NULL), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS(WHAT ": set_tensor_address: the engine has no tensor called 'nope'");
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "s", NULL), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("tensor 's' is not an engine input or output");
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, NULL, NULL), O2P_ERR_INVALID_ARGUMENT);
    float buf[16] = {0};
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "y", (char *)buf + 2),
                     O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("not aligned");

    /* Unbound. */
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS(WHAT ": engine input 'x' has no memory bound; bind its 24 bytes");
    float y[6], c[3], x[6];
    memcpy(x, X_DATA, sizeof x);
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "x", x), O2P_OK);
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "y", y), O2P_OK);
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("engine output 'c' has no memory bound");
    /* Overlapping memory: an output over an input, or over another output. */
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "c", x + 4), O2P_OK);
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS(
        "the memory bound to engine input 'x' overlaps the memory bound to engine output 'c'");
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "c", y + 5), O2P_OK);
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("overlaps");
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "c", c), O2P_OK);
    /* Unbinding. */
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "x", NULL), O2P_OK);
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_STATUS(lean_context_set_tensor_address(ctx, "x", x), O2P_OK);

    /* A kernel failure names the layer; the layers before it ran. */
    TU_ASSERT_STATUS(lean_context_execute(ctx), O2P_ERR_SHAPE);
    TU_ASSERT_ERROR_HAS(WHAT ": layer 2 'boom' (Fail): ");
    TU_ASSERT_ERROR_HAS("the test kernel refuses on purpose");
    assert_floats(y, Y_WANT, 6);
    lean_context_destroy(ctx);
    lean_engine_destroy(e);

    /* A kernel that fails without a message still gets one. */
    spec_add_relu(&s, 0);
    s.l[1].op = "SilentFail";
    TU_ASSERT_STATUS(create_spec(&s, test_lookup, &e), O2P_OK);
    TU_ASSERT_STATUS(run_add_relu(e, y, c), O2P_ERR_INTERNAL);
    TU_ASSERT_ERROR_HAS(WHAT
                        ": layer 1 'relu' (SilentFail): the kernel failed with O2P_ERR_INTERNAL");
    lean_engine_destroy(e);

    TU_ASSERT_FAILS(lean_context_create(NULL, &ctx));
    TU_ASSERT_FAILS(lean_context_execute(NULL));
    lean_context_destroy(NULL);
    lean_engine_destroy(NULL);
    ck_assert_int_eq(lean_engine_num_io(NULL), 0);
    ck_assert_int_eq(lean_engine_find_io(NULL, "x"), -1);
}
END_TEST

/* ---------------------------------------------------------------- single-byte changes */

typedef struct fuzz_stats {
    int tried, refused, same, differs, names_changed, run_failed;
} fuzz_stats;

/* Changes every byte of add_relu's section in several ways: each change is refused with a
 * message, or the engine runs; its outputs equal the original's unless the byte was one
 * that may change them (weights or a weights offset, a layer's tensor index, an op type or
 * opset, an attribute value). */
static void fuzz_bytes(lean_kernel_lookup lookup, int attrs, fuzz_stats *fs)
{
    spec s;
    spec_add_relu(&s, attrs);
    size_t size;
    uint8_t *kinds;
    uint8_t *orig = encode(&s, &size, &kinds, NULL);
    lean_engine *e0;
    TU_ASSERT_STATUS(lean_engine_create_with_kernels(orig, size, WHAT, lookup, &e0), O2P_OK);
    float y0[6], c0[3];
    TU_ASSERT_STATUS(run_add_relu(e0, y0, c0), O2P_OK);
    lean_engine_destroy(e0);

    static const int ops[][2] = {{0, 0x01}, {0, 0x02}, {0, 0x10}, {0, 0x80}, {0, 0xFF},
                                 {1, 0x00}, {1, 0xFF}, {1, 0x7F}, {2, 1},    {2, -1}};
    uint8_t *b = malloc(size);
    for (size_t i = 0; i < size; i++) {
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
            memcpy(b, orig, size);
            if (ops[k][0] == 0)
                b[i] ^= (uint8_t)ops[k][1];
            else if (ops[k][0] == 1)
                b[i] = (uint8_t)ops[k][1];
            else
                b[i] = (uint8_t)(b[i] + ops[k][1]);
            if (b[i] == orig[i])
                continue;
            fs->tried++;
            lean_engine *e = NULL;
            o2p_clear_error();
            o2p_status st = lean_engine_create_with_kernels(b, size, WHAT, lookup, &e);
            if (st != O2P_OK) {
                ck_assert_msg(st == O2P_ERR_PARSE || st == O2P_ERR_LIMIT ||
                                  st == O2P_ERR_UNSUPPORTED,
                              "byte %zu: %s", i, o2p_status_name(st));
                ck_assert_ptr_null(e);
                ck_assert_msg(tu_contains(o2p_last_error(), WHAT ": ENGINE section, "),
                              "byte %zu: %s", i, o2p_last_error());
                fs->refused++;
                continue;
            }
            ck_assert_ptr_nonnull(e);
            if (lean_engine_arena_size(e) > (1u << 20)) {
                fs->same++; /* not run: a bigger arena changes nothing but its size */
                lean_engine_destroy(e);
                continue;
            }
            float y[6] = {0}, c[3] = {0};
            st = run_add_relu(e, y, c);
            lean_engine_destroy(e);
            int kind = kinds[i];
            if (st != O2P_OK) {
                ck_assert_msg(o2p_last_error()[0], "byte %zu: execution failed with no message", i);
                if (tu_contains(o2p_last_error(), "set_tensor_address")) {
                    ck_assert_msg(kind == K_NAME, "byte %zu (kind %d): %s", i, kind,
                                  o2p_last_error());
                    fs->names_changed++;
                } else {
                    ck_assert_msg(kind == K_LAYER_INDEX || kind == K_OP_TYPE ||
                                      kind == K_ATTR_VALUE || kind == K_OPSET,
                                  "byte %zu (kind %d): the engine loaded but failed: %s", i, kind,
                                  o2p_last_error());
                    fs->run_failed++;
                }
                continue;
            }
            if (memcmp(y, y0, sizeof y) || memcmp(c, c0, sizeof c)) {
                ck_assert_msg(kind == K_WEIGHTS || kind == K_WOFFSET || kind == K_LAYER_INDEX ||
                                  kind == K_OP_TYPE || kind == K_ATTR_VALUE || kind == K_OPSET,
                              "byte %zu (kind %d, 0x%02x -> 0x%02x) changed the results", i, kind,
                              orig[i], b[i]);
                fs->differs++;
            } else {
                fs->same++;
            }
        }
    }
    free(b);
    free(orig);
    free(kinds);
}

START_TEST(test_single_byte_changes)
{
    fuzz_stats fs = {0};
    fuzz_bytes(test_lookup, 1, &fs);
    printf("test_lean: %d single-byte changes (test kernels): %d refused, %d same results, %d "
           "other results, %d renamed I/O, %d failed cleanly at run\n",
           fs.tried, fs.refused, fs.same, fs.differs, fs.names_changed, fs.run_failed);
    ck_assert_int_gt(fs.refused, fs.tried / 2);
    if (have_kernels("Add,Relu")) {
        memset(&fs, 0, sizeof fs);
        fuzz_bytes(NULL, 0, &fs);
        printf("test_lean: %d single-byte changes (host kernels): %d refused, %d same results, "
               "%d other results, %d renamed I/O, %d failed cleanly at run\n",
               fs.tried, fs.refused, fs.same, fs.differs, fs.names_changed, fs.run_failed);
    }
}
END_TEST

/* ---------------------------------------------------------------- overlap helper */

START_TEST(test_find_overlap)
{
    int a, b;
    lean_range r[4];
    r[0] = (lean_range){0, 10, 0, 0};
    r[1] = (lean_range){5, 15, 0, 1};
    ck_assert_int_eq(lean_find_overlap(r, 2, &a, &b), 0); /* readers may overlap */
    r[0] = (lean_range){0, 10, 0, 0};
    r[1] = (lean_range){5, 15, 1, 1};
    ck_assert_int_eq(lean_find_overlap(r, 2, &a, &b), 1);
    ck_assert(a == 0 && b == 1);
    r[0] = (lean_range){0, 100, 0, 0}; /* a long reader spanning a writer further on */
    r[1] = (lean_range){10, 20, 0, 1};
    r[2] = (lean_range){50, 60, 1, 2};
    ck_assert_int_eq(lean_find_overlap(r, 3, &a, &b), 1);
    ck_assert(a == 0 && b == 2);
    r[0] = (lean_range){0, 10, 1, 0};
    r[1] = (lean_range){10, 20, 1, 1};
    r[2] = (lean_range){5, 5, 1, 2}; /* empty */
    ck_assert_int_eq(lean_find_overlap(r, 3, &a, &b), 0);
    r[0] = (lean_range){0, 100, 1, 0}; /* a long writer, a reader after a gap of others */
    r[1] = (lean_range){200, 300, 0, 1};
    r[2] = (lean_range){90, 95, 0, 2};
    ck_assert_int_eq(lean_find_overlap(r, 3, &a, &b), 1);
    ck_assert(a == 0 && b == 2);
    ck_assert_int_eq(lean_find_overlap(r, 0, &a, &b), 0);
}
END_TEST

int main(void)
{
    /* Host engines never touch a GPU; a section changed into a cuda one is refused for want
     * of a driver, the same on every machine (test_lean_cuda runs cuda engines). */
    setenv("O2P_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1);
    Suite *s = suite_create("lean");
    TCase *tc = tcase_create("lean");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_queries_and_execution);
    tcase_add_test(tc, test_contexts_on_threads);
    tcase_add_test(tc, test_arena_reuse_and_omitted_io);
    tcase_add_test(tc, test_empty_and_folded_engines);
    tcase_add_test(tc, test_host_kernels_add_relu);
    tcase_add_test(tc, test_host_kernels_conv);
    tcase_add_test(tc, test_op_without_kernel);
    tcase_add_test(tc, test_header_refusals);
    tcase_add_test(tc, test_tensor_refusals);
    tcase_add_test(tc, test_layer_refusals);
    tcase_add_test(tc, test_attribute_refusals);
    tcase_add_test(tc, test_io_list_refusals);
    tcase_add_test(tc, test_padding_and_trailing_bytes);
    tcase_add_test(tc, test_every_truncation_refused);
    tcase_add_test(tc, test_huge_counts_and_sizes);
    tcase_add_test(tc, test_context_refusals);
    tcase_add_test(tc, test_single_byte_changes);
    tcase_add_test(tc, test_find_overlap);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
