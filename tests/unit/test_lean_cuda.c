/* test_lean_cuda.c: ENGINE format 6 (its launch and image rules, data-dependent shapes) and the lean runtime's cuda executor without a GPU. A
 * hand-made cuda build_engine goes through the plan writer (plan_write_engine) and the lean
 * reader: the tables round-trip, every launch and image rule is refused with its message,
 * the image choice picks exact SASS / same-major SASS / PTX / nothing, and enqueue through a
 * fake libcuda.so.1 (tests/fakecuda, which logs every launch) patches the right device
 * addresses into each launch's parameter bytes. Check runs each test in its own process
 * (CK_FORK), and the driver is opened once per process: each test sets the fake device's
 * environment before its first engine. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../testutil.h"
#include "builder/builder.h"
#include "lean/lean.h"
#include "lean/lean_abi.h"
#include "plan/engine_format.h"
#include "plan/engine_writer.h"

#define WHAT "cuda.plan"

/* ---------------------------------------------------------------- the engine */

/* x float[2,4] (input) + w (weights) -> "add" -> s (arena) -> "relu" -> y (output);
 * "fill" writes z float[8] (output): a memset of its first half, a copy of w's first 16
 * bytes into its second; c float[4], an output folded into the weights. */
enum { T_X, T_W, T_S, T_Y, T_C, T_Z, NT };
static const float W_DATA[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const float C_DATA[4] = {-1, -2, -3, -4};

typedef struct fixture {
    ir_tensor t[NT];
    ir_layer l[3];
    ir_tensor *lin[3][2], *lout[3][1];
    build_tensor bt[NT];
    build_layer bl[3];
    int bin[3][2], bout[3][1];
    cg_launch launches[4];
    build_image images[8];
    char image_text[8][128];
    int inputs[1], outputs[3];
    uint8_t weights[512];
    build_engine e;
} fixture;

static fixture fx;

static void tensor(int i, const char *name, int64_t d0, int64_t d1, uint32_t io, uint32_t storage,
                   uint64_t offset)
{
    ir_tensor *t = &fx.t[i];
    t->name = name;
    t->dtype = O2P_DTYPE_FLOAT;
    t->shape.rank = d1 ? 2 : 1;
    t->shape.dims[0].value = d0;
    t->shape.dims[1].value = d1;
    build_tensor *b = &fx.bt[i];
    b->t = t;
    b->name = name;
    b->io = io;
    b->storage = storage;
    b->offset = offset;
    b->nbytes = (uint64_t)(d0 * (d1 ? d1 : 1)) * 4;
    if (storage == BUILD_STORAGE_WEIGHTS)
        t->data = fx.weights + offset;
}

static void layer(int i, const char *name, const char *op, int nin, int in0, int in1, int out)
{
    ir_layer *l = &fx.l[i];
    l->name = name;
    l->op_type = op;
    l->domain = "";
    l->num_inputs = nin;
    l->inputs = fx.lin[i];
    l->num_outputs = 1;
    l->outputs = fx.lout[i];
    fx.lin[i][0] = &fx.t[in0];
    fx.lin[i][1] = nin > 1 ? &fx.t[in1] : NULL;
    fx.lout[i][0] = &fx.t[out];
    build_layer *b = &fx.bl[i];
    b->layer = l;
    b->tactic = (build_tactic){.source = "builtin", .family = "cuda", .kernel = op,
                               .target = BUILD_TARGET_CUDA};
    b->inputs = fx.bin[i];
    b->outputs = fx.bout[i];
    fx.bin[i][0] = in0;
    fx.bin[i][1] = in1;
    fx.bout[i][0] = out;
}

static cg_launch *kernel(const char *family, const char *fn, uint32_t block, uint32_t smem,
                         uint32_t param_size, int k)
{
    cg_launch *c = &fx.launches[k];
    memset(c, 0, sizeof *c);
    c->kind = CG_LAUNCH_KERNEL;
    c->family = family;
    c->function = fn;
    c->grid[0] = 2, c->grid[1] = c->grid[2] = 1;
    c->block[0] = block, c->block[1] = c->block[2] = 1;
    c->smem = smem;
    c->param_size = param_size;
    return c;
}

static void patch(cg_launch *c, uint32_t at, int tensor, uint64_t off)
{
    c->patches[c->num_patches++] = (cg_patch){at, tensor, off};
}

static void image(int i, const char *family, cg_image_kind kind, int arch, int specific,
                  const char *text)
{
    snprintf(fx.image_text[i], sizeof fx.image_text[i], "%s", text);
    fx.images[i] = (build_image){family, kind, arch, specific, fx.image_text[i],
                                 strlen(fx.image_text[i])};
}

#define ADD_IMAGE_TEXT(arch) "FAKE " arch "\no2p_add_f32\n"
#define RELU_IMAGE_TEXT(arch) "FAKE " arch "\no2p_relu_big\n"

static void fixture_init(void)
{
    memset(&fx, 0, sizeof fx);
    memcpy(fx.weights, W_DATA, sizeof W_DATA);
    memcpy(fx.weights + 256, C_DATA, sizeof C_DATA);
    tensor(T_X, "x", 2, 4, 1, BUILD_STORAGE_IO, 0);
    tensor(T_W, "w", 2, 4, 0, BUILD_STORAGE_WEIGHTS, 0);
    tensor(T_S, "s", 2, 4, 0, BUILD_STORAGE_ARENA, 64);
    tensor(T_Y, "y", 2, 4, 2, BUILD_STORAGE_IO, 0);
    tensor(T_C, "c", 4, 0, 2, BUILD_STORAGE_WEIGHTS, 256);
    tensor(T_Z, "z", 8, 0, 2, BUILD_STORAGE_IO, 0);
    layer(0, "add", "Add", 2, T_X, T_W, T_S);
    layer(1, "relu", "Relu", 1, T_S, -1, T_Y);
    layer(2, "fill", "Identity", 1, T_W, -1, T_Z);

    /* add: x, w + 4, s, workspace + 256, then n = 8 and a marker */
    cg_launch *a = kernel("elementwise", "o2p_add_f32", 64, 0, 48, 0);
    uint64_t n = 8, marker = 0x1122334455667788ull;
    memcpy(a->params + 32, &n, 8);
    memcpy(a->params + 40, &marker, 8);
    patch(a, 0, T_X, 0);
    patch(a, 8, T_W, 4);
    patch(a, 16, T_S, 0);
    patch(a, 24, CG_TENSOR_WORKSPACE, 256);
    fx.bl[0].num_launches = 1;
    fx.bl[0].launches = &fx.launches[0];
    /* relu: s + 8, y; 64 KiB of dynamic shared memory (over the 48 KiB default) */
    cg_launch *r = kernel("nn", "o2p_relu_big", 128, 64 * 1024, 16, 1);
    patch(r, 0, T_S, 8);
    patch(r, 8, T_Y, 0);
    fx.bl[1].num_launches = 1;
    fx.bl[1].launches = &fx.launches[1];
    /* fill: memset z[0, 16) to 0x7f, copy w[0, 16) to z[16, 32) */
    cg_launch *m = &fx.launches[2];
    memset(m, 0, sizeof *m);
    m->kind = CG_LAUNCH_MEMSET;
    m->family = m->function = "";
    for (int i = 0; i < 3; i++)
        m->grid[i] = m->block[i] = 1;
    cg_memset_params mp = {0, 16, 0x7f};
    m->param_size = sizeof mp;
    memcpy(m->params, &mp, sizeof mp);
    patch(m, 0, T_Z, 0);
    cg_launch *cp = &fx.launches[3];
    *cp = *m;
    cp->kind = CG_LAUNCH_COPY;
    cp->num_patches = 0;
    cg_copy_params cpp = {0, 0, 16};
    memcpy(cp->params, &cpp, sizeof cpp);
    patch(cp, 0, T_Z, 16);
    patch(cp, 8, T_W, 0);
    fx.bl[2].num_launches = 2;
    fx.bl[2].launches = &fx.launches[2];

    image(0, "elementwise", CG_IMAGE_SASS, 80, 0, ADD_IMAGE_TEXT("sm_80"));
    image(1, "elementwise", CG_IMAGE_SASS, 90, 0, ADD_IMAGE_TEXT("sm_90"));
    image(2, "elementwise", CG_IMAGE_PTX, 80, 0, ADD_IMAGE_TEXT("compute_80"));
    image(3, "nn", CG_IMAGE_SASS, 80, 0, RELU_IMAGE_TEXT("sm_80"));
    image(4, "nn", CG_IMAGE_SASS, 90, 0, RELU_IMAGE_TEXT("sm_90"));
    image(5, "nn", CG_IMAGE_PTX, 80, 0, RELU_IMAGE_TEXT("compute_80"));

    build_engine *e = &fx.e;
    e->target = BUILD_TARGET_CUDA;
    e->num_tensors = NT;
    e->tensors = fx.bt;
    e->num_layers = 3;
    e->layers = fx.bl;
    e->num_inputs = 1;
    e->inputs = fx.inputs;
    fx.inputs[0] = T_X;
    e->num_outputs = 3;
    e->outputs = fx.outputs;
    fx.outputs[0] = T_Y, fx.outputs[1] = T_C, fx.outputs[2] = T_Z;
    e->arena_size = 100; /* the workspace starts at 256 */
    e->weights_size = 256 + sizeof C_DATA;
    e->workspace_size = 512;
    e->num_images = 6;
    e->images = fx.images;
    e->opset = 17;
}

static uint8_t *write_engine(size_t *size)
{
    uint8_t *bytes = NULL;
    ck_assert_msg(plan_write_engine(&fx.e, &bytes, size) == O2P_OK, "%s", o2p_last_error());
    return bytes;
}

static o2p_status create(uint32_t flags, lean_engine **e)
{
    size_t size;
    uint8_t *bytes = write_engine(&size);
    o2p_clear_error();
    o2p_status st = lean_engine_create_flags(bytes, size, WHAT, NULL, NULL, NULL, flags, e);
    free(bytes); /* the engine keeps nothing of the section */
    return st;
}

/* The fixture, changed by the caller, is refused with status and a message holding needle. */
static void refused(o2p_status status, const char *needle)
{
    lean_engine *e = (lean_engine *)1;
    o2p_status st = create(LEAN_CREATE_TABLES_ONLY, &e);
    ck_assert_msg(st == status, "'%s': expected %s, got %s: %s", needle,
                  o2p_status_name(status), o2p_status_name(st), o2p_last_error());
    ck_assert_ptr_null(e);
    ck_assert_msg(tu_contains(o2p_last_error(), needle), "'%s' not in: %s", needle,
                  o2p_last_error());
    ck_assert_msg(tu_contains(o2p_last_error(), WHAT ": ENGINE section, "), "%s",
                  o2p_last_error());
}

static void fake_device(int cc, const char *log)
{
    char v[16];
    snprintf(v, sizeof v, "%d", cc);
    setenv("O2P_CUDA_DRIVER_LIBRARY", O2P_FAKE_CUDA_PATH, 1);
    setenv("FAKE_CUDA_CC", v, 1);
    setenv("FAKE_CUDA_NAME", "Fake H100", 1);
    if (log) {
        unlink(log);
        setenv("FAKE_CUDA_LOG", log, 1);
    }
}

static char *read_log(const char *path)
{
    void *data = NULL;
    size_t size = 0;
    if (o2p_read_file(path, 1 << 24, &data, &size) != O2P_OK)
        return calloc(1, 1);
    char *s = realloc(data, size + 1);
    s[size] = '\0';
    return s;
}

/* ---------------------------------------------------------------- image choice */

START_TEST(test_pick_image)
{
    lean_image im[] = {
        {"a", ENGINE_IMAGE_SASS, 80, 0, 1, NULL}, {"a", ENGINE_IMAGE_SASS, 86, 0, 1, NULL},
        {"a", ENGINE_IMAGE_SASS, 90, 0, 1, NULL}, {"a", ENGINE_IMAGE_SASS, 90, 1, 1, NULL},
        {"a", ENGINE_IMAGE_PTX, 80, 0, 1, NULL},  {"a", ENGINE_IMAGE_PTX, 90, 0, 1, NULL},
        {"b", ENGINE_IMAGE_SASS, 80, 0, 1, NULL}, {"b", ENGINE_IMAGE_SASS, 100, 1, 1, NULL},
    };
    int n = (int)(sizeof im / sizeof im[0]);
    ck_assert_int_eq(lean_pick_image(im, n, "a", 80), 0);  /* exact */
    ck_assert_int_eq(lean_pick_image(im, n, "a", 86), 1);  /* exact */
    ck_assert_int_eq(lean_pick_image(im, n, "a", 89), 1);  /* same major, highest minor below */
    ck_assert_int_eq(lean_pick_image(im, n, "a", 87), 1);
    ck_assert_int_eq(lean_pick_image(im, n, "a", 90), 3);  /* sm_90a first on exactly sm_90 */
    ck_assert_int_eq(lean_pick_image(im, n, "a", 100), 5); /* PTX, the highest not above */
    ck_assert_int_eq(lean_pick_image(im, n, "a", 120), 5);
    ck_assert_int_eq(lean_pick_image(im, n, "a", 75), -1); /* nothing that old */
    ck_assert_int_eq(lean_pick_image(im, n, "b", 86), 6);
    ck_assert_int_eq(lean_pick_image(im, n, "b", 90), -1); /* sm_80 SASS: not on another major */
    ck_assert_int_eq(lean_pick_image(im, n, "b", 100), 7); /* sm_100a: exactly there */
    ck_assert_int_eq(lean_pick_image(im, n, "b", 103), -1);
    ck_assert_int_eq(lean_pick_image(im, n, "c", 90), -1); /* no such family */
    ck_assert_int_eq(lean_pick_image(im, 0, "a", 90), -1);
}
END_TEST

/* ---------------------------------------------------------------- the tables */

START_TEST(test_tables_round_trip)
{
    setenv("O2P_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1); /* never needed */
    fixture_init();
    lean_engine *e = NULL;
    ck_assert_msg(create(LEAN_CREATE_TABLES_ONLY, &e) == O2P_OK, "%s", o2p_last_error());
    ck_assert_uint_eq(lean_engine_target(e), ENGINE_TARGET_CUDA);
    ck_assert_uint_eq(lean_engine_workspace_size(e), 512);
    ck_assert_uint_eq(lean_engine_context_memory(e), 256 + 512);
    ck_assert_int_eq(lean_engine_num_images(e), 6);
    const char *family;
    uint32_t kind, arch, specific;
    uint64_t size;
    TU_ASSERT_STATUS(lean_engine_image(e, 2, &family, &kind, &arch, &specific, &size), O2P_OK);
    ck_assert_str_eq(family, "elementwise");
    ck_assert_uint_eq(kind, ENGINE_IMAGE_PTX);
    ck_assert_uint_eq(arch, 80);
    ck_assert_uint_eq(specific, 0);
    ck_assert_uint_eq(size, strlen(ADD_IMAGE_TEXT("compute_80")));
    TU_ASSERT_STATUS(lean_engine_image(e, 6, &family, NULL, NULL, NULL, NULL),
                     O2P_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(lean_engine_loaded_image(e, "elementwise"), -1); /* nothing loaded */
    ck_assert_int_eq(lean_engine_layer_num_launches(e, 2), 2);
    const lean_launch *a = lean_engine_layer_launch(e, 0, 0);
    ck_assert_str_eq(a->function, "o2p_add_f32");
    ck_assert_uint_eq(a->grid[0], 2);
    ck_assert_uint_eq(a->block[0], 64);
    ck_assert_uint_eq(a->param_size, 48);
    ck_assert_int_eq(a->num_patches, 4);
    ck_assert_int_eq(a->patches[3].tensor, ENGINE_PATCH_WORKSPACE);
    ck_assert_uint_eq(a->patches[3].byte_offset, 256);
    ck_assert_uint_eq(lean_engine_layer_launch(e, 1, 0)->smem, 64 * 1024);
    ck_assert_uint_eq(lean_engine_layer_launch(e, 2, 1)->kind, ENGINE_LAUNCH_COPY);
    ck_assert_ptr_null(lean_engine_layer_launch(e, 2, 2));
    /* tables only: no context */
    lean_context *ctx = (lean_context *)1;
    TU_ASSERT_STATUS(lean_context_create(e, &ctx), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("tables-only");
    lean_engine_destroy(e);

    /* the writer is deterministic, and a host engine carries none of it */
    size_t s1, s2;
    uint8_t *b1 = write_engine(&s1), *b2 = write_engine(&s2);
    ck_assert(s1 == s2 && memcmp(b1, b2, s1) == 0);
    free(b1);
    free(b2);
    fx.e.target = BUILD_TARGET_HOST;
    ck_assert_msg(create(LEAN_CREATE_TABLES_ONLY, &e) == O2P_OK, "%s", o2p_last_error());
    ck_assert_uint_eq(lean_engine_workspace_size(e), 0);
    ck_assert_int_eq(lean_engine_num_images(e), 0);
    ck_assert_int_eq(lean_engine_layer_num_launches(e, 0), 0);
    lean_engine_destroy(e);
}
END_TEST

START_TEST(test_launch_refusals)
{
    setenv("O2P_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1);
    fixture_init();
    fx.launches[0].patches[1].param_offset = 4;
    refused(O2P_ERR_PARSE, "layer 0 'add' (Add), launch 0 (elementwise.o2p_add_f32): device "
                           "address 1 is at parameter offset 4");
    fixture_init();
    fx.launches[0].patches[1].param_offset = 48;
    refused(O2P_ERR_PARSE, "inside the 48 parameter bytes");
    fixture_init();
    fx.launches[0].patches[1].param_offset = 0;
    refused(O2P_ERR_PARSE, "device addresses 0 and 1 are both at parameter offset 0");
    fixture_init();
    fx.launches[0].patches[1].tensor = 99;
    refused(O2P_ERR_PARSE, "points at tensor 99, outside the table of 6 tensors");
    fixture_init();
    fx.launches[0].patches[1].tensor = -1;
    refused(O2P_ERR_PARSE, "points at tensor -1");
    fixture_init();
    fx.launches[0].patches[1].tensor = T_Z;
    refused(O2P_ERR_PARSE, "tensor 5 'z' (32 bytes), which is none of the layer's inputs");
    fixture_init();
    fx.launches[0].patches[1].byte_offset = 33;
    refused(O2P_ERR_PARSE, "is byte 33 of tensor 1 'w' (32 bytes), past its end");
    fixture_init();
    fx.launches[0].patches[3].byte_offset = 513;
    refused(O2P_ERR_PARSE, "byte 513 of the workspace (512 bytes)");
    fixture_init();
    fx.launches[0].block[1] = 32;
    refused(O2P_ERR_PARSE, "block 64x32x1 has 2048 threads, over 1024");
    fixture_init();
    fx.launches[0].grid[2] = 0;
    refused(O2P_ERR_PARSE, "each is at least 1");
    fixture_init();
    fx.launches[0].function = "";
    refused(O2P_ERR_PARSE, "a KERNEL launch needs a family and a function name");
    fixture_init();
    fx.launches[0].family = "nosuch";
    refused(O2P_ERR_PARSE, "launch 0 (nosuch.o2p_add_f32): the plan carries no kernel image of "
                           "family 'nosuch'");
    fixture_init();
    fx.launches[0].kind = 6;
    refused(O2P_ERR_PARSE, "launch kind 6 is unknown");
    fixture_init();
    fx.launches[0].kind = 3; /* a library call (version 4) has no family or function */
    refused(O2P_ERR_PARSE, "a CUBLAS_GEMM names a family or function; only KERNEL does");

    /* COPY and MEMSET records */
    fixture_init();
    fx.launches[3].param_size = 16;
    refused(O2P_ERR_PARSE, "layer 2 'fill' (Identity), launch 1: a COPY has 16 parameter bytes");
    fixture_init();
    fx.launches[3].patches[1].param_offset = 16;
    refused(O2P_ERR_PARSE, "a COPY has device addresses at other places than 0 (dst) and 8");
    fixture_init();
    fx.launches[3].params[16] = 17; /* 17 bytes from z + 16 */
    refused(O2P_ERR_PARSE, "its destination range, 17 bytes at byte 16 of tensor 5 'z'");
    fixture_init();
    fx.launches[3].patches[1].byte_offset = 20; /* 16 bytes from w + 20 */
    refused(O2P_ERR_PARSE, "its source range, 16 bytes at byte 20 of tensor 1 'w'");
    fixture_init();
    fx.launches[3].patches[0].tensor = T_W;
    refused(O2P_ERR_PARSE, "a COPY writes tensor 1 'w', which is not one of the layer's outputs");
    fixture_init();
    fx.launches[3].block[0] = 2;
    refused(O2P_ERR_PARSE, "a COPY has a grid or block other than 1");
    fixture_init();
    fx.launches[3].params[0] = 1;
    refused(O2P_ERR_PARSE, "non-zero bytes where its addresses go");
    fixture_init();
    fx.launches[2].params[16] = 0, fx.launches[2].params[17] = 1; /* value 256 */
    refused(O2P_ERR_PARSE, "a MEMSET's value is 256");
    fixture_init();
    fx.launches[2].function = "f";
    refused(O2P_ERR_PARSE, "a MEMSET names a family or function");
    fixture_init();
    fx.launches[2].smem = 4;
    refused(O2P_ERR_PARSE, "a MEMSET has 4 bytes of shared memory");
}
END_TEST

START_TEST(test_image_refusals)
{
    setenv("O2P_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1);
    fixture_init();
    fx.images[4].family = "elementwise";
    fx.images[4].bytes = fx.image_text[1];
    refused(O2P_ERR_PARSE, "kernel image 4 (family 'elementwise', sm_90): image 1 is the same");
    fixture_init();
    fx.images[2].kind = 2;
    refused(O2P_ERR_PARSE, "image kind 2 is unknown");
    fixture_init();
    fx.image_text[2][3] = '\0';
    fx.images[2].size = 10;
    refused(O2P_ERR_PARSE, "compute_80): the PTX text holds a NUL byte");
    fixture_init();
    fx.images[2].arch = 5;
    refused(O2P_ERR_PARSE, "arch 5 is no compute capability");
    fixture_init();
    fx.images[2].arch_specific = 2;
    refused(O2P_ERR_PARSE, "arch_specific is 2");
    fixture_init();
    fx.images[2].size = 0;
    refused(O2P_ERR_PARSE, "the image is empty");
    fixture_init();
    fx.images[2].family = "";
    refused(O2P_ERR_PARSE, "kernel image 2: an image needs a family name");
    fixture_init();
    fx.e.workspace_size = ENGINE_MAX_WORKSPACE + 1;
    refused(O2P_ERR_LIMIT, "workspace_size 1099511627777 is over the limit");
}
END_TEST

/* The limits of a launch record, by changing the written bytes: a big image after the
 * launches leaves room for what a count promises. */
START_TEST(test_launch_limits)
{
    setenv("O2P_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1);
    fixture_init();
    static char big[16384];
    memset(big, 'x', sizeof big - 1);
    memcpy(big, "FAKE compute_80\n", 16);
    fx.images[6] = (build_image){"pad", CG_IMAGE_PTX, 80, 0, big, sizeof big - 1};
    fx.e.num_images = 7;
    size_t size;
    uint8_t *b = write_engine(&size);
    static const uint8_t marker[8] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
    uint8_t *m = memmem(b, size, marker, sizeof marker);
    ck_assert_ptr_nonnull(m);
    uint8_t *param_size = m - 40 - 4, *num_patches = m + 8;
    ck_assert_uint_eq(param_size[0], 48);
    ck_assert_uint_eq(num_patches[0], 4);
    lean_engine *e = NULL;
    param_size[0] = 0x88, param_size[1] = 0x13; /* 5000 */
    TU_ASSERT_STATUS(lean_engine_create_flags(b, size, WHAT, NULL, NULL, NULL,
                                              LEAN_CREATE_TABLES_ONLY, &e),
                     O2P_ERR_LIMIT);
    TU_ASSERT_ERROR_HAS("the parameters are 5000 bytes long, over the limit of 4096");
    param_size[0] = 48, param_size[1] = 0;
    num_patches[0] = 33;
    TU_ASSERT_STATUS(lean_engine_create_flags(b, size, WHAT, NULL, NULL, NULL,
                                              LEAN_CREATE_TABLES_ONLY, &e),
                     O2P_ERR_LIMIT);
    TU_ASSERT_ERROR_HAS("the number of device addresses is 33, over the limit of 32");
    num_patches[0] = 4;
    /* the launch count, 4 bytes before the launch's kind */
    uint8_t *num_launches = m - 40 - 4 - 4 - 24 - (4 + 11) - (4 + 11) - 4 - 4;
    ck_assert_uint_eq(num_launches[0], 1);
    num_launches[0] = 0x01, num_launches[1] = 0x10; /* 4097 */
    TU_ASSERT_STATUS(lean_engine_create_flags(b, size, WHAT, NULL, NULL, NULL,
                                              LEAN_CREATE_TABLES_ONLY, &e),
                     O2P_ERR_PARSE); /* 4097 * 48 bytes are more than the tables hold */
    TU_ASSERT_ERROR_HAS("the number of launches is 4097");
    free(b);
}
END_TEST

/* ---------------------------------------------------------------- the driver and device */

START_TEST(test_missing_driver)
{
    setenv("O2P_CUDA_DRIVER_LIBRARY", "/nonexistent/libcuda.so.1", 1);
    fixture_init();
    lean_engine *e = (lean_engine *)1;
    TU_ASSERT_STATUS(create(0, &e), O2P_ERR_UNSUPPORTED);
    ck_assert_ptr_null(e);
    TU_ASSERT_ERROR_HAS(WHAT ": ENGINE section, device: cannot load the CUDA driver "
                        "(/nonexistent/libcuda.so.1");
    TU_ASSERT_ERROR_HAS("--target host");
}
END_TEST

START_TEST(test_no_gpu)
{
    fake_device(90, NULL);
    setenv("FAKE_CUDA_INIT_FAIL", "1", 1);
    fixture_init();
    lean_engine *e = NULL;
    TU_ASSERT_STATUS(create(0, &e), O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("found no usable GPU");
}
END_TEST

/* Creates the fixture's engine on a fake device of compute capability cc; returns the image
 * loaded for "elementwise" (-1 with the status in *st when refused). */
static int loaded_on(int cc, o2p_status *st)
{
    fake_device(cc, NULL);
    lean_engine *e = NULL;
    *st = create(0, &e);
    if (*st != O2P_OK)
        return -1;
    int image = lean_engine_loaded_image(e, "elementwise");
    ck_assert_int_eq(lean_engine_loaded_image(e, "nn"), image + 3);
    lean_engine_destroy(e);
    return image;
}

START_TEST(test_image_choice_exact)
{
    fixture_init();
    o2p_status st;
    ck_assert_int_eq(loaded_on(90, &st), 1);
}
END_TEST

START_TEST(test_image_choice_same_major)
{
    fixture_init();
    o2p_status st;
    ck_assert_int_eq(loaded_on(86, &st), 0);
}
END_TEST

START_TEST(test_image_choice_ptx)
{
    fixture_init();
    o2p_status st;
    ck_assert_msg(loaded_on(120, &st) == 2, "%s", o2p_last_error());
}
END_TEST

START_TEST(test_image_choice_none)
{
    fixture_init();
    o2p_status st;
    ck_assert_int_eq(loaded_on(75, &st), -1);
    ck_assert_int_eq(st, O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("device 0 (Fake H100, compute capability 7.5)");
    TU_ASSERT_ERROR_HAS("sm_80 SASS, sm_90 SASS, compute_80 PTX");
    TU_ASSERT_ERROR_HAS("--arch sm_75 or --hw-compat ampere+");
}
END_TEST

/* An image the driver refuses (a cubin for another GPU under the wrong label): refused at
 * create with the compatibility message, never at the first launch. */
START_TEST(test_image_no_binary_for_gpu)
{
    fixture_init();
    image(1, "elementwise", CG_IMAGE_SASS, 90, 0, ADD_IMAGE_TEXT("sm_80"));
    o2p_status st;
    ck_assert_int_eq(loaded_on(90, &st), -1);
    ck_assert_int_eq(st, O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("cannot load the sm_90 SASS image of kernel family 'elementwise' on "
                        "device 0 (Fake H100, compute capability 9.0)");
    TU_ASSERT_ERROR_HAS("no kernel image is available");
    TU_ASSERT_ERROR_HAS("--arch sm_90");
}
END_TEST

START_TEST(test_missing_function)
{
    fixture_init();
    image(4, "nn", CG_IMAGE_SASS, 90, 0, "FAKE sm_90\no2p_other\n");
    o2p_status st;
    ck_assert_int_eq(loaded_on(90, &st), -1);
    ck_assert_int_eq(st, O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("layer 1 'relu' (Relu), launch 0: the sm_90 SASS image of kernel family "
                        "'nn' has no function 'o2p_relu_big'");
}
END_TEST

START_TEST(test_device_limits)
{
    fixture_init();
    setenv("FAKE_CUDA_SMEM_OPTIN", "49152", 1);
    o2p_status st;
    ck_assert_int_eq(loaded_on(90, &st), -1);
    ck_assert_int_eq(st, O2P_ERR_UNSUPPORTED);
    TU_ASSERT_ERROR_HAS("layer 1 'relu' (Relu), launch 0 (nn.o2p_relu_big): the kernel needs "
                        "65536 bytes of shared memory per block");
    setenv("FAKE_CUDA_SMEM_OPTIN", "232448", 1);
    setenv("FAKE_CUDA_FREE", "100", 1);
    ck_assert_int_eq(loaded_on(90, &st), -1);
    ck_assert_int_eq(st, O2P_ERR_OUT_OF_MEMORY);
    TU_ASSERT_ERROR_HAS("the plan's weights need 272 bytes of device memory");
}
END_TEST

/* ---------------------------------------------------------------- enqueue */

/* The parameter bytes of the n-th logged launch of function fn, decoded. */
static int launch_params(const char *log, const char *fn, int nth, uint8_t *out, size_t cap,
                         char *stream, size_t stream_size)
{
    char key[160];
    snprintf(key, sizeof key, "launch %s ", fn);
    const char *p = log;
    for (int i = 0; p && i <= nth; i++) {
        p = strstr(p, key);
        if (p && i < nth)
            p++;
    }
    if (!p)
        return -1;
    const char *sp = strstr(p, " stream ");
    if (sp && stream)
        sscanf(sp + 8, "%63s", stream), (void)stream_size;
    const char *h = strstr(p, " params ") + 8;
    size_t n = 0;
    while (n < cap && h[2 * n] && h[2 * n] != '\n') {
        unsigned v;
        sscanf(h + 2 * n, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return (int)n;
}

static uint64_t u64_at(const uint8_t *b)
{
    uint64_t v;
    memcpy(&v, b, 8);
    return v;
}

static int count_lines(const char *log, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *p = log; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        n += strncmp(p, prefix, len) == 0;
    return n;
}

START_TEST(test_enqueue_patches_addresses)
{
    char logpath[] = "/tmp/test_lean_cuda_XXXXXX";
    int fd = mkstemp(logpath);
    ck_assert_int_ge(fd, 0);
    close(fd);
    fake_device(90, logpath);
    fixture_init();
    lean_engine *e = NULL;
    ck_assert_msg(create(0, &e) == O2P_OK, "%s", o2p_last_error());
    lean_context *ctx = NULL;
    ck_assert_msg(lean_context_create(e, &ctx) == O2P_OK, "%s", o2p_last_error());
    uint64_t arena = lean_context_device_memory(ctx);
    ck_assert_uint_ne(arena, 0);
    ck_assert_uint_eq(arena % 256, 0);

    char *log = read_log(logpath);
    unsigned long long weights = 0, mem = 0;
    size_t wsize = 0, msize = 0;
    const char *a1 = strstr(log, "alloc ");
    ck_assert_ptr_nonnull(a1);
    ck_assert_int_eq(sscanf(a1, "alloc %llx %zu", &weights, &wsize), 2);
    const char *a2 = strstr(a1 + 1, "alloc ");
    ck_assert_ptr_nonnull(a2);
    ck_assert_int_eq(sscanf(a2, "alloc %llx %zu", &mem, &msize), 2);
    ck_assert_uint_eq(wsize, 272);   /* the weights, uploaded once */
    ck_assert_uint_eq(msize, 256 + 512); /* arena rounded to 256, then the workspace */
    ck_assert_uint_eq(mem, arena);
    ck_assert(tu_contains(log, "setattr o2p_relu_big 65536"));
    ck_assert_int_eq(count_lines(log, "launch "), 0);
    free(log);

    float x[8], y[8], c[4], z[8];
    memset(z, 0, sizeof z);
    ck_assert_int_eq(lean_context_set_tensor_address(ctx, "x", x), O2P_OK);
    ck_assert_int_eq(lean_context_set_tensor_address(ctx, "y", y), O2P_OK);
    ck_assert_int_eq(lean_context_set_tensor_address(ctx, "c", c), O2P_OK);
    TU_ASSERT_STATUS(lean_context_enqueue(ctx, (void *)0x1234), O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_ERROR_HAS("'z' has no memory bound");
    ck_assert_int_eq(lean_context_set_tensor_address(ctx, "z", z), O2P_OK);
    ck_assert_msg(lean_context_enqueue(ctx, (void *)0x1234) == O2P_OK, "%s", o2p_last_error());

    log = read_log(logpath);
    uint8_t p[64];
    char stream[64] = "";
    ck_assert_int_eq(launch_params(log, "o2p_add_f32", 0, p, sizeof p, stream, sizeof stream), 48);
    ck_assert_str_eq(stream, "0x1234");
    ck_assert_uint_eq(u64_at(p), (uint64_t)(uintptr_t)x);
    ck_assert_uint_eq(u64_at(p + 8), weights + 4);
    ck_assert_uint_eq(u64_at(p + 16), arena + 64);
    ck_assert_uint_eq(u64_at(p + 24), arena + 256 + 256);
    ck_assert_uint_eq(u64_at(p + 32), 8);
    ck_assert_uint_eq(u64_at(p + 40), 0x1122334455667788ull);
    ck_assert(tu_contains(log, "launch o2p_add_f32 grid 2 1 1 block 64 1 1 smem 0 "));
    ck_assert_int_eq(launch_params(log, "o2p_relu_big", 0, p, sizeof p, NULL, 0), 16);
    ck_assert_uint_eq(u64_at(p), arena + 64 + 8);
    ck_assert_uint_eq(u64_at(p + 8), (uint64_t)(uintptr_t)y);
    ck_assert(tu_contains(log, "smem 65536 "));
    /* memset and copy ran (the fake runs them at once), then the folded output */
    char line[160];
    snprintf(line, sizeof line, "memset 0x%llx 127 16 stream 0x1234",
             (unsigned long long)(uintptr_t)z);
    ck_assert_msg(tu_contains(log, line), "no '%s' in:\n%s", line, log);
    const uint8_t *zb = (const uint8_t *)z;
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(zb[i], 0x7f);
    ck_assert(memcmp(z + 4, W_DATA, 16) == 0);
    ck_assert(memcmp(c, C_DATA, sizeof c) == 0);
    ck_assert_int_eq(count_lines(log, "sync"), 0); /* asynchronous: nothing waited */
    free(log);

    /* new bindings: only they change */
    float x2[8];
    ck_assert_int_eq(lean_context_set_tensor_address(ctx, "x", x2), O2P_OK);
    ck_assert_int_eq(lean_context_execute(ctx), O2P_OK); /* enqueue on NULL, then wait */
    log = read_log(logpath);
    ck_assert_int_eq(launch_params(log, "o2p_add_f32", 1, p, sizeof p, stream, sizeof stream), 48);
    ck_assert_uint_eq(u64_at(p), (uint64_t)(uintptr_t)x2);
    ck_assert_uint_eq(u64_at(p + 8), weights + 4);
    ck_assert_str_eq(stream, "(nil)");
    ck_assert_int_eq(count_lines(log, "sync"), 1);
    free(log);

    lean_context_destroy(ctx);
    lean_engine_destroy(e);
    log = read_log(logpath);
    ck_assert_int_eq(count_lines(log, "free "), 2);
    ck_assert_int_eq(count_lines(log, "unload"), 2);
    free(log);
    unlink(logpath);
}
END_TEST

/* The ABI table carries the format-3 fields. */
START_TEST(test_abi_table)
{
    fake_device(90, NULL);
    fixture_init();
    const o2p_lean_api *api = lean_builtin_api();
    ck_assert_uint_eq(api->size, sizeof(o2p_lean_api));
    ck_assert(O2P_LEAN_API_HAS(api, context_enqueue));
    size_t size;
    uint8_t *b = write_engine(&size);
    void *e = NULL, *ctx = NULL;
    ck_assert_msg(api->engine_create_flags(b, size, WHAT, NULL, NULL, 0, &e) == O2P_OK, "%s",
                  api->last_error());
    free(b);
    ck_assert_uint_eq(api->engine_target(e), ENGINE_TARGET_CUDA);
    ck_assert_uint_eq(api->engine_context_memory(e), 768);
    ck_assert_int_eq(api->engine_num_images(e), 6);
    const char *family;
    uint32_t kind, arch;
    uint64_t isize;
    ck_assert_int_eq(api->engine_image(e, 4, &family, &kind, &arch, &isize), O2P_OK);
    ck_assert_str_eq(family, "nn");
    ck_assert_uint_eq(arch, 90);
    ck_assert_int_eq(api->context_create(e, &ctx), O2P_OK);
    float x[8], y[8], c[4], z[8];
    api->context_set_tensor_address(ctx, "x", x);
    api->context_set_tensor_address(ctx, "y", y);
    api->context_set_tensor_address(ctx, "c", c);
    api->context_set_tensor_address(ctx, "z", z);
    ck_assert_int_eq(api->context_enqueue(ctx, NULL), O2P_OK);
    ck_assert(memcmp(c, C_DATA, sizeof c) == 0);
    api->context_destroy(ctx);
    api->engine_destroy(e);
}
END_TEST

/* ---------------------------------------------------------------- data-dependent shapes
 *
 * x float [4] (input) and d int64 [2] (weights: the dims the "kernel" reports) -> "nz"
 * (NonZero) -> y int64 [2, <=4] (output, data-dependent dim 1) with its shape tensor ys
 * (int64 [2], arena): the layer's one launch, a COPY of d into ys, stands in for the kernel
 * that writes the actual dims. */
enum { D_X, D_D, D_Y, D_YS, D_Z, DN };

typedef struct dd_fixture {
    ir_tensor t[DN];
    ir_layer l[2];
    ir_tensor *lin[2][2], *lout[2][1];
    build_tensor bt[DN];
    build_layer bl[2];
    int bin[2][2], bout[2][1];
    cg_launch launch;
    int inputs[1], outputs[2];
    int64_t weights[32];
    build_engine e;
} dd_fixture;

static dd_fixture dd;

static void dd_tensor(int i, const char *name, o2p_dtype dtype, int rank, int64_t d0, int64_t d1,
                      uint32_t io, uint32_t storage, uint64_t offset)
{
    ir_tensor *t = &dd.t[i];
    t->name = name;
    t->dtype = dtype;
    t->shape.rank = rank;
    t->shape.dims[0].value = d0;
    t->shape.dims[1].value = d1;
    build_tensor *b = &dd.bt[i];
    b->t = t;
    b->name = name;
    b->io = io;
    b->storage = storage;
    b->offset = offset;
    b->nbytes = (uint64_t)(d0 * (rank > 1 ? d1 : 1)) * o2p_dtype_size(dtype);
    b->shape_tensor = -1;
    if (storage == BUILD_STORAGE_WEIGHTS)
        t->data = (uint8_t *)dd.weights + offset;
}

static void dd_layer(int i, const char *name, const char *op, int nin, int in0, int in1, int out)
{
    ir_layer *l = &dd.l[i];
    l->name = name;
    l->op_type = op;
    l->domain = "";
    l->num_inputs = nin;
    l->inputs = dd.lin[i];
    l->num_outputs = 1;
    l->outputs = dd.lout[i];
    dd.lin[i][0] = &dd.t[in0];
    dd.lin[i][1] = nin > 1 ? &dd.t[in1] : NULL;
    dd.lout[i][0] = &dd.t[out];
    build_layer *b = &dd.bl[i];
    b->layer = l;
    b->tactic = (build_tactic){.source = "builtin", .family = "cuda", .kernel = op,
                               .target = BUILD_TARGET_CUDA};
    b->inputs = dd.bin[i];
    b->outputs = dd.bout[i];
    dd.bin[i][0] = in0;
    dd.bin[i][1] = in1;
    dd.bout[i][0] = out;
}

static void dd_init(int64_t rows, int64_t count)
{
    memset(&dd, 0, sizeof dd);
    dd.weights[0] = rows;
    dd.weights[1] = count;
    dd_tensor(D_X, "x", O2P_DTYPE_FLOAT, 1, 4, 0, 1, BUILD_STORAGE_IO, 0);
    dd_tensor(D_D, "d", O2P_DTYPE_INT64, 1, 2, 0, 0, BUILD_STORAGE_WEIGHTS, 0);
    dd_tensor(D_Y, "y", O2P_DTYPE_INT64, 2, 2, 4, 2, BUILD_STORAGE_IO, 0);
    dd.t[D_Y].shape.dims[1] = (ir_dim){-1, NULL, 4}; /* data-dependent, at most 4 */
    dd.bt[D_Y].dd_mask = 2;
    dd.bt[D_Y].shape_tensor = D_YS;
    dd_tensor(D_YS, "y:shape", O2P_DTYPE_INT64, 1, 2, 0, 0, BUILD_STORAGE_ARENA, 0);
    dd_tensor(D_Z, "z", O2P_DTYPE_INT64, 2, 2, 4, 0, BUILD_STORAGE_ARENA, 64);
    dd_layer(0, "nz", "NonZero", 2, D_X, D_D, D_Y);
    cg_launch *cp = &dd.launch;
    cp->kind = CG_LAUNCH_COPY;
    cp->family = cp->function = "";
    for (int i = 0; i < 3; i++)
        cp->grid[i] = cp->block[i] = 1;
    cg_copy_params cpp = {0, 0, 16};
    cp->param_size = sizeof cpp;
    memcpy(cp->params, &cpp, sizeof cpp);
    cp->patches[cp->num_patches++] = (cg_patch){0, D_YS, 0};
    cp->patches[cp->num_patches++] = (cg_patch){8, D_D, 0};
    dd.bl[0].num_launches = 1;
    dd.bl[0].launches = &dd.launch;
    build_engine *e = &dd.e;
    e->target = BUILD_TARGET_CUDA;
    e->num_tensors = D_Z; /* z only in the tests that add a reader of y */
    e->tensors = dd.bt;
    e->num_layers = 1;
    e->layers = dd.bl;
    e->num_inputs = 1;
    e->inputs = dd.inputs;
    dd.inputs[0] = D_X;
    e->num_outputs = 1;
    e->outputs = dd.outputs;
    dd.outputs[0] = D_Y;
    e->arena_size = 128;
    e->weights_size = 16;
    e->opset = 17;
}

static o2p_status dd_create(uint32_t flags, lean_engine **out)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    ck_assert_msg(plan_write_engine(&dd.e, &bytes, &size) == O2P_OK, "%s", o2p_last_error());
    o2p_clear_error();
    o2p_status st = lean_engine_create_flags(bytes, size, WHAT, NULL, NULL, NULL, flags, out);
    free(bytes);
    return st;
}

static void dd_refused(const char *needle)
{
    lean_engine *e = (lean_engine *)1;
    o2p_status st = dd_create(LEAN_CREATE_TABLES_ONLY, &e);
    ck_assert_msg(st == O2P_ERR_PARSE, "'%s': got %s: %s", needle, o2p_status_name(st),
                  o2p_last_error());
    ck_assert_ptr_null(e);
    ck_assert_msg(tu_contains(o2p_last_error(), needle), "'%s' not in: %s", needle,
                  o2p_last_error());
}

/* The format-6 fields round-trip: the data-dependent dim, its bound and its shape tensor. */
START_TEST(test_dd_round_trip)
{
    dd_init(2, 3);
    lean_engine *e = NULL;
    ck_assert_msg(dd_create(LEAN_CREATE_TABLES_ONLY, &e) == O2P_OK, "%s", o2p_last_error());
    ck_assert_uint_eq(lean_engine_tensor_dd_mask(e, D_Y), 2);
    ck_assert_int_eq(lean_engine_tensor_shape_tensor(e, D_Y), D_YS);
    ck_assert_uint_eq(lean_engine_tensor_dd_mask(e, D_YS), 0);
    ck_assert_int_eq(lean_engine_tensor_shape_tensor(e, D_YS), -1);
    ck_assert_int_eq(lean_engine_tensor_dim(e, D_Y, 1), 4); /* the bound */
    ck_assert_int_eq(lean_engine_io_dim(e, 1, 0), 2);
    ck_assert_int_eq(lean_engine_io_dim(e, 1, 1), -1);
    ck_assert_int_eq(lean_engine_io_max_dim(e, 1, 1), 4);
    ck_assert_int_eq(lean_engine_io_max_dim(e, 1, 0), 2);
    ck_assert_uint_eq(lean_engine_io_nbytes(e, 1), 64); /* allocated at the bound */
    lean_engine_destroy(e);
}
END_TEST

/* Malformed data-dependent tensors are refused before anything runs. */
START_TEST(test_dd_refusals)
{
    dd_init(2, 3);
    dd.bt[D_Y].shape_tensor = -1;
    dd_refused("names another tensor of the table");
    dd_init(2, 3);
    dd.bt[D_Y].shape_tensor = D_Y;
    dd_refused("names another tensor of the table");
    dd_init(2, 3);
    dd.bt[D_Y].dd_mask = 4; /* axis 2 of a rank-2 tensor */
    dd_refused("marks only axes below the rank");
    dd_init(2, 3);
    dd.t[D_YS].dtype = O2P_DTYPE_INT32;
    dd.bt[D_YS].nbytes = 8;
    dd_refused("is not an int64 [2] arena tensor");
    dd_init(2, 3);
    dd.t[D_YS].shape.dims[0].value = 3;
    dd.bt[D_YS].nbytes = 24;
    dd_refused("is not an int64 [2] arena tensor");
    dd_init(2, 3);
    dd.bt[D_X].dd_mask = 1; /* an engine input */
    dd.bt[D_X].shape_tensor = D_YS;
    dd_refused("but is an engine input");
    /* a layer reads the data-dependent tensor */
    dd_init(2, 3);
    dd.e.num_tensors = DN;
    dd_layer(1, "after", "Identity", 1, D_Y, -1, D_Z);
    dd.e.num_layers = 2;
    dd_refused("which has data-dependent dims");
    /* the shape tensor as a layer's output */
    dd_init(2, 3);
    dd.e.num_tensors = DN;
    dd_layer(1, "after", "Identity", 1, D_X, -1, D_YS);
    dd.e.num_layers = 2;
    dd_refused("the shape tensor of tensor 2");
    /* a launch of another layer writes the shape tensor */
    dd_init(2, 3);
    dd.e.num_tensors = DN;
    dd_layer(1, "after", "Identity", 2, D_X, D_D, D_Z);
    dd.bl[1].num_launches = 1;
    dd.bl[1].launches = &dd.launch;
    dd.e.num_layers = 2;
    dd_refused("none of the layer's inputs, outputs and TENSOR attributes");
    /* the shape tensor overlaps the layer's arena output */
    dd_init(2, 3);
    dd.e.num_tensors = DN;
    dd.t[D_Y].shape.dims[1] = (ir_dim){4, NULL, 0};
    dd.bt[D_Y].io = 0;
    dd.bt[D_Y].dd_mask = 0;
    dd.bt[D_Y].storage = BUILD_STORAGE_ARENA;
    dd.bt[D_Y].offset = 0;
    dd.e.num_outputs = 0;
    dd.bt[D_Z].dd_mask = 2;
    dd.bt[D_Z].shape_tensor = D_YS;
    dd.t[D_Z].shape.dims[1] = (ir_dim){-1, NULL, 4};
    dd.bt[D_Z].offset = 0; /* the ARENA data-dependent tensor over its shape tensor */
    dd.bout[0][0] = D_Z;
    dd.lout[0][0] = &dd.t[D_Z];
    dd_refused("its shape tensor of output 0 'y:shape'");
}
END_TEST

/* Through the fake driver: the shape tensor is copied to the host after the layer, and the
 * context reports the dims; dims over the bound are refused. */
START_TEST(test_dd_shape_copied_back)
{
    char logpath[] = "/tmp/test_lean_cuda_XXXXXX";
    int fd = mkstemp(logpath);
    ck_assert_int_ge(fd, 0);
    close(fd);
    fake_device(90, logpath);
    dd_init(2, 3);
    lean_engine *e = NULL;
    ck_assert_msg(dd_create(0, &e) == O2P_OK, "%s", o2p_last_error());
    lean_context *ctx = NULL;
    ck_assert_msg(lean_context_create(e, &ctx) == O2P_OK, "%s", o2p_last_error());
    char *log = read_log(logpath);
    ck_assert_msg(tu_contains(log, "allochost "), "%s", log); /* page-locked dims */
    free(log);
    int rank = 0;
    int64_t dims[O2P_MAX_RANK];
    ck_assert_int_eq(lean_context_get_tensor_shape(ctx, "y", &rank, dims), O2P_OK);
    ck_assert_int_eq(rank, 2);
    ck_assert_int_eq(dims[0], 2);
    ck_assert_int_eq(dims[1], -1); /* no run yet */
    float x[4] = {0};
    int64_t y[8];
    ck_assert_int_eq(lean_context_set_tensor_address(ctx, "x", x), O2P_OK);
    ck_assert_int_eq(lean_context_set_tensor_address(ctx, "y", y), O2P_OK);
    ck_assert_msg(lean_context_execute(ctx) == O2P_OK, "%s", o2p_last_error());
    ck_assert_int_eq(lean_context_get_tensor_shape(ctx, "y", &rank, dims), O2P_OK);
    ck_assert_int_eq(rank, 2);
    ck_assert_int_eq(dims[0], 2);
    ck_assert_int_eq(dims[1], 3);
    ck_assert_int_eq(lean_context_get_tensor_shape(ctx, "x", &rank, dims), O2P_OK);
    ck_assert_int_eq(rank, 1);
    ck_assert_int_eq(dims[0], 4);
    TU_ASSERT_STATUS(lean_context_get_tensor_shape(ctx, "nope", &rank, dims),
                     O2P_ERR_INVALID_ARGUMENT);
    TU_ASSERT_STATUS(lean_context_get_tensor_shape(ctx, "y:shape", &rank, dims),
                     O2P_ERR_INVALID_ARGUMENT);
    /* the ABI table carries the entries */
    const o2p_lean_api *api = lean_builtin_api();
    ck_assert(O2P_LEAN_API_HAS(api, context_get_tensor_shape));
    ck_assert_int_eq(api->engine_io_max_dim(e, 1, 1), 4);
    ck_assert_int_eq(api->engine_io_dim(e, 1, 1), -1);
    ck_assert_int_eq(api->context_get_tensor_shape(ctx, "y", &rank, dims), O2P_OK);
    ck_assert_int_eq(dims[1], 3);
    lean_context_destroy(ctx);
    lean_engine_destroy(e);
    log = read_log(logpath);
    ck_assert(tu_contains(log, "freehost"));
    free(log);

    /* a "kernel" that reports 5 of at most 4, or another rank: refused when read */
    int64_t bad[2][2] = {{2, 5}, {3, 3}};
    for (int k = 0; k < 2; k++) {
        dd_init(bad[k][0], bad[k][1]);
        ck_assert_msg(dd_create(0, &e) == O2P_OK, "%s", o2p_last_error());
        ck_assert_int_eq(lean_context_create(e, &ctx), O2P_OK);
        ck_assert_int_eq(lean_context_set_tensor_address(ctx, "x", x), O2P_OK);
        ck_assert_int_eq(lean_context_set_tensor_address(ctx, "y", y), O2P_OK);
        ck_assert_int_eq(lean_context_execute(ctx), O2P_OK);
        TU_ASSERT_STATUS(lean_context_get_tensor_shape(ctx, "y", &rank, dims), O2P_ERR_INTERNAL);
        TU_ASSERT_ERROR_HAS("does not fit its shape 2x<=4");
        lean_context_destroy(ctx);
        lean_engine_destroy(e);
    }
    unlink(logpath);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lean_cuda");
    TCase *tc = tcase_create("lean_cuda");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_pick_image);
    tcase_add_test(tc, test_tables_round_trip);
    tcase_add_test(tc, test_launch_refusals);
    tcase_add_test(tc, test_image_refusals);
    tcase_add_test(tc, test_launch_limits);
    tcase_add_test(tc, test_missing_driver);
    tcase_add_test(tc, test_no_gpu);
    tcase_add_test(tc, test_image_choice_exact);
    tcase_add_test(tc, test_image_choice_same_major);
    tcase_add_test(tc, test_image_choice_ptx);
    tcase_add_test(tc, test_image_choice_none);
    tcase_add_test(tc, test_image_no_binary_for_gpu);
    tcase_add_test(tc, test_missing_function);
    tcase_add_test(tc, test_device_limits);
    tcase_add_test(tc, test_enqueue_patches_addresses);
    tcase_add_test(tc, test_abi_table);
    tcase_add_test(tc, test_dd_round_trip);
    tcase_add_test(tc, test_dd_refusals);
    tcase_add_test(tc, test_dd_shape_copied_back);
    suite_add_tcase(s, tc);
    /* each test opens the driver in its own process (see the top) */
    setenv("CK_FORK", "yes", 1);
    return tu_run_suite(s);
}
