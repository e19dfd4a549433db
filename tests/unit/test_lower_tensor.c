/* test_lower_tensor.c: the CUDA lowerings of the tensor family (src/codegen/lower_tensor.c)
 * without a GPU: hand-made layers go through candidates() and lower(), and the launches are
 * checked: device copies where bytes move unchanged, kernel names, grids that cover the
 * elements, the device addresses patched in (offsets and tensors), the parameter fields;
 * and the refusals (bad shapes and indices as the host kernels refuse them, inputs that
 * must be constants, element types without a kernel). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/tensor_params.h"
#include "lower_testutil.h"

#define N(...) ((int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
#define OUT_BASE 10 /* the engine tensor index of output i is OUT_BASE + i (lt_layer's) */

/* ---------------------------------------------------------------- a layer by hand */

/* A fixture on the heap, its layer named 'L' (the messages must name it). */
static lt_layer *fx_new(const char *op, int64_t opset)
{
    lt_layer *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    lt_init(f, op, opset);
    f->l.args.layer_name = "L";
    return f;
}

static void fx_free(lt_layer *f)
{
    lt_free(f);
    free(f);
}

/* candidates() offers one builtin tactic of this family; then lower(). */
static o2p_status fx_lower(lt_layer *f)
{
    cg_tactic t;
    o2p_status st = lt_lower_tactic(f, &t);
    ck_assert(strncmp(t.kernel, "cuda.tensor.", 12) == 0);
    ck_assert_str_eq(t.source, "builtin");
    return st;
}

static void expect_fail(lt_layer *f, o2p_status want, const char *msg_part)
{
    o2p_status s = fx_lower(f);
    ck_assert_int_eq(s, want);
    ck_assert_msg(tu_contains(o2p_last_error(), msg_part), "message: %s", o2p_last_error());
    ck_assert_msg(tu_contains(o2p_last_error(), "'L'"), "message: %s", o2p_last_error());
}

/* Launch k is a kernel of this family named fn whose grid covers n threads, with params of
 * `size` bytes copied into *p. */
static const cg_launch *kernel(lt_layer *f, int k, const char *fn, uint64_t n, void *p, size_t size)
{
    const cg_launch *l = lt_launch(f, k);
    lt_assert_kernel(l, "tensor", fn, (uint32_t)size);
    ck_assert_uint_eq(l->grid[1] * l->grid[2] * l->block[1] * l->block[2], 1);
    ck_assert_uint_ge((uint64_t)l->grid[0] * l->block[0], n < 0x7fffffffull * 256 ? n : 1);
    memcpy(p, l->params, size);
    return l;
}

/* Launch k is a device copy of bytes from src+so to dst+do. */
static void copy_launch(lt_layer *f, int k, int dst, uint64_t dst_off, int src, uint64_t src_off,
                        uint64_t bytes)
{
    const cg_launch *l = lt_launch(f, k);
    cg_copy_params c;
    ck_assert_int_eq(l->kind, CG_LAUNCH_COPY);
    memcpy(&c, l->params, sizeof c);
    ck_assert_uint_eq(c.bytes, bytes);
    lt_assert_patch(l, offsetof(cg_copy_params, dst_ptr), dst, dst_off);
    lt_assert_patch(l, offsetof(cg_copy_params, src_ptr), src, src_off);
}

static void shape_is(const o2p_cu_shape *s, int rank, const int64_t *dims, const int64_t *st)
{
    ck_assert_int_eq(s->rank, rank);
    for (int i = 0; i < rank; i++) {
        ck_assert_int_eq(s->dims[i], dims[i]);
        ck_assert_int_eq(s->strides[i], st[i]);
    }
}

/* ---------------------------------------------------------------- tests */

static const char *const all_ops[] = {
    "Compress", "Concat", "ConstantOfShape", "CumSum", "Expand", "EyeLike", "Flatten",
    "Gather", "GatherElements", "GatherND", "NonZero", "OneHot", "Pad", "Range", "Reshape",
    "ReverseSequence", "Scatter", "ScatterElements", "ScatterND", "Shape", "Size", "Slice",
    "Split", "Squeeze", "Tile", "TopK", "Transpose", "Trilu", "Unsqueeze"};

START_TEST(test_table)
{
    int n = (int)(sizeof all_ops / sizeof all_ops[0]);
    for (int i = 0; i < n; i++) {
        const cg_op *op = cg_op_find(all_ops[i]);
        ck_assert_msg(op != NULL, "%s has no CUDA lowering", all_ops[i]);
        ck_assert_str_eq(op->op_type, all_ops[i]);
        ck_assert_ptr_nonnull(op->candidates);
        ck_assert_ptr_nonnull(op->lower);
    }
    ck_assert_int_eq(cg_tensor_op_count, n);
    ck_assert_int_ge(cg_op_count(), n);
    /* the param structs have no hidden padding: addresses first, 8-byte aligned */
    ck_assert_uint_eq(sizeof(o2p_tn_copy_params), 552);
    ck_assert_uint_eq(offsetof(o2p_tn_copy_params, src), 24);
    ck_assert_uint_eq(offsetof(o2p_tn_pad_params, out_dims), 32);
    ck_assert_uint_eq(offsetof(o2p_tn_elements_params, ind), 80);
    ck_assert_uint_eq(offsetof(o2p_tn_nd_params, dims), 72);
    ck_assert_uint_eq(sizeof(o2p_tn_elements_params), 368);
    ck_assert_uint_eq(sizeof(o2p_tn_nd_params), 352);
}
END_TEST

START_TEST(test_reshape_family_copies)
{
    lt_layer *f = fx_new("Reshape", 14);
    lt_use_in(f, lt_view(f, F32, 3, D(2, 3, 4), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(2), D(4, -1)));
    lt_use_out(f, lt_view(f, F32, 2, D(4, 6), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    ck_assert_int_eq(f->e.count, 1);
    copy_launch(f, 0, OUT_BASE, 0, 0, 0, 24 * 4);
    fx_free(f);

    /* a shape of the wrong element count is refused as the host kernel refuses it */
    f = fx_new("Reshape", 14);
    lt_use_in(f, lt_view(f, F32, 3, D(2, 3, 4), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(2), D(5, -1)));
    lt_use_out(f, lt_view(f, F32, 2, D(4, 6), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "cannot infer the -1");
    fx_free(f);

    /* a shape computed at run time: the inferred output shape must hold the elements */
    f = fx_new("Reshape", 14);
    lt_use_in(f, lt_view(f, F16, 3, D(2, 3, 4), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(2), NULL));
    lt_use_out(f, lt_view(f, F16, 2, D(2, 11), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "elements");
    fx_free(f);

    /* Squeeze and Unsqueeze (attribute form) copy; an axis of size 3 is refused */
    f = fx_new("Unsqueeze", 11);
    lt_use_in(f, lt_view(f, BOOL, 1, D(3), NULL));
    lt_attr_ints(f, "axes", D(0, -1), 2);
    lt_use_out(f, lt_view(f, BOOL, 3, D(1, 3, 1), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    copy_launch(f, 0, OUT_BASE, 0, 0, 0, 3);
    fx_free(f);
    f = fx_new("Squeeze", 13);
    lt_use_in(f, lt_view(f, F32, 3, D(1, 3, 1), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(1), D(1)));
    lt_use_out(f, lt_view(f, F32, 2, D(1, 1), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "not 1");
    fx_free(f);

    /* Flatten of a 16-byte type is still a copy (no kernel looks at the words) */
    f = fx_new("Flatten", 13);
    lt_use_in(f, lt_view(f, O2P_DTYPE_COMPLEX128, 3, D(2, 3, 4), NULL));
    lt_use_out(f, lt_view(f, O2P_DTYPE_COMPLEX128, 2, D(2, 12), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    copy_launch(f, 0, OUT_BASE, 0, 0, 0, 24 * 16);
    fx_free(f);
}
END_TEST

START_TEST(test_generators)
{
    o2p_tn_fill_params fp;
    lt_layer *f = fx_new("Shape", 15);
    lt_use_in(f, lt_view(f, F32, 4, D(2, 3, 4, 5), NULL));
    lt_attr_int(f, "start", 1);
    lt_attr_int(f, "end", -1);
    lt_use_out(f, lt_view(f, I64, 1, D(2), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    ck_assert_int_eq(f->e.count, 1);
    const cg_launch *l = kernel(f, 0, "o2p_tensor_fill", 2, &fp, sizeof fp);
    ck_assert_int_eq(fp.n, 2);
    ck_assert_int_eq(fp.count, 2);
    ck_assert_int_eq(fp.esize, 8);
    ck_assert_uint_eq(fp.values[0], 3);
    ck_assert_uint_eq(fp.values[1], 4);
    lt_assert_patch(l, offsetof(o2p_tn_fill_params, y_ptr), OUT_BASE, 0);
    fx_free(f);

    /* ConstantOfShape: zeros by memset; 1.5f by the fill kernel with its bits */
    f = fx_new("ConstantOfShape", 9);
    lt_use_in(f, lt_view(f, I64, 1, D(2), D(2, 3)));
    lt_use_out(f, lt_view(f, F32, 2, D(2, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    ck_assert_int_eq(f->e.launches[0].kind, CG_LAUNCH_MEMSET);
    fx_free(f);
    static const float one_and_half = 1.5f;
    f = fx_new("ConstantOfShape", 9);
    lt_use_in(f, lt_view(f, I64, 1, D(2), D(2, 3)));
    host_tensor *v = lt_view(f, F32, 1, D(1), &one_and_half);
    host_attr *a = &f->attrs[f->l.args.num_attrs++];
    a->name = "value";
    a->type = O2P_ATTR_TENSOR;
    a->tensor = v;
    lt_use_out(f, lt_view(f, F32, 2, D(2, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 0, "o2p_tensor_fill", 6, &fp, sizeof fp);
    ck_assert_uint_eq(fp.values[0], 0x3fc00000u);
    ck_assert_int_eq(fp.esize, 4);
    fx_free(f);

    /* float Range: one thread adds as the host kernel does */
    static const float st = 1, li = 4, de = 0.5f;
    o2p_tn_range_params rp;
    f = fx_new("Range", 11);
    lt_use_in(f, lt_view(f, F32, 0, NULL, &st));
    lt_use_in(f, lt_view(f, F32, 0, NULL, &li));
    lt_use_in(f, lt_view(f, F32, 0, NULL, &de));
    lt_use_out(f, lt_view(f, F32, 1, D(6), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    l = kernel(f, 0, "o2p_tensor_range", 1, &rp, sizeof rp);
    ck_assert_uint_eq(l->grid[0] * l->block[0], 1);
    ck_assert_int_eq(rp.n, 6);
    ck_assert_int_eq(rp.dtype, O2P_CU_FLOAT);
    ck_assert_int_eq(rp.known, 1); /* constants travel in the params */
    ck_assert_uint_eq(rp.start_bits, 0x3f800000u);
    ck_assert_uint_eq(rp.delta_bits, 0x3f000000u);
    ck_assert_int_eq(l->num_patches, 1);
    lt_assert_patch(l, offsetof(o2p_tn_range_params, y_ptr), OUT_BASE, 0);
    fx_free(f);
    /* start and delta at run time: read from the device, the count from the output */
    o2p_tn_range_params ip;
    f = fx_new("Range", 11);
    lt_use_in(f, lt_view(f, I32, 0, NULL, NULL));
    lt_use_in(f, lt_view(f, I32, 0, NULL, NULL));
    lt_use_in(f, lt_view(f, I32, 0, NULL, NULL));
    lt_use_out(f, lt_view(f, I32, 1, D(1000), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    l = kernel(f, 0, "o2p_tensor_range", 1000, &ip, sizeof ip);
    ck_assert_int_eq(ip.known, 0);
    ck_assert_int_eq(ip.n, 1000);
    lt_assert_patch(l, offsetof(o2p_tn_range_params, start_ptr), 0, 0);
    lt_assert_patch(l, offsetof(o2p_tn_range_params, delta_ptr), 2, 0);
    lt_assert_patch(l, offsetof(o2p_tn_range_params, y_ptr), OUT_BASE, 0);
    fx_free(f);
    /* a count that disagrees with the output is refused */
    f = fx_new("Range", 11);
    lt_use_in(f, lt_view(f, F32, 0, NULL, &st));
    lt_use_in(f, lt_view(f, F32, 0, NULL, &li));
    lt_use_in(f, lt_view(f, F32, 0, NULL, &de));
    lt_use_out(f, lt_view(f, F32, 1, D(5), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "output 0 has shape");
    fx_free(f);

    o2p_tn_eye_params ep;
    f = fx_new("EyeLike", 9);
    lt_use_in(f, lt_view(f, F32, 2, D(4, 3), NULL));
    lt_attr_int(f, "k", -2);
    lt_attr_int(f, "dtype", I32);
    lt_use_out(f, lt_view(f, I32, 2, D(4, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 0, "o2p_tensor_eye_like", 12, &ep, sizeof ep);
    ck_assert_int_eq(ep.k, -2);
    ck_assert_int_eq(ep.cols, 3);
    ck_assert_int_eq(ep.dtype, O2P_CU_INT32);
    fx_free(f);
}
END_TEST

START_TEST(test_transpose_slice_expand)
{
    o2p_tn_copy_params cp;
    lt_layer *f = fx_new("Transpose", 13);
    lt_use_in(f, lt_view(f, F32, 3, D(2, 3, 4), NULL));
    lt_use_out(f, lt_view(f, F32, 3, D(4, 3, 2), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    ck_assert_int_eq(f->e.count, 1);
    const cg_launch *l = kernel(f, 0, "o2p_tensor_copy_4", 24, &cp, sizeof cp);
    ck_assert_int_eq(cp.n, 24);
    shape_is(&cp.src, 3, D(4, 3, 2), D(1, 4, 12));
    shape_is(&cp.dst, 3, D(4, 3, 2), D(6, 2, 1));
    lt_assert_patch(l, offsetof(o2p_tn_copy_params, x_ptr), 0, 0);
    lt_assert_patch(l, offsetof(o2p_tn_copy_params, y_ptr), OUT_BASE, 0);
    fx_free(f);

    /* a permutation that keeps the order of the dims > 1 is a plain copy */
    f = fx_new("Transpose", 13);
    lt_use_in(f, lt_view(f, I64, 3, D(2, 1, 4), NULL));
    lt_attr_ints(f, "perm", D(1, 0, 2), 3);
    lt_use_out(f, lt_view(f, I64, 3, D(1, 2, 4), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    copy_launch(f, 0, OUT_BASE, 0, 0, 0, 64);
    fx_free(f);

    /* an empty tensor: nothing to launch */
    f = fx_new("Transpose", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(0, 3), NULL));
    lt_use_out(f, lt_view(f, F32, 2, D(3, 0), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    ck_assert_int_eq(f->e.count, 0);
    fx_free(f);

    /* Slice with a negative step: the source starts at the first element read */
    f = fx_new("Slice", 13);
    lt_use_in(f, lt_view(f, F16, 2, D(5, 6), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(2), D(1, -1)));
    lt_use_in(f, lt_view(f, I64, 1, D(2), D(4, -7)));
    lt_use_in(f, lt_view(f, I64, 1, D(2), D(0, 1)));
    lt_use_in(f, lt_view(f, I64, 1, D(2), D(2, -2)));
    lt_use_out(f, lt_view(f, F16, 2, D(2, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    l = kernel(f, 0, "o2p_tensor_copy_2", 6, &cp, sizeof cp);
    shape_is(&cp.src, 2, D(2, 3), D(12, -2));
    lt_assert_patch(l, offsetof(o2p_tn_copy_params, x_ptr), 0, (1 * 6 + 5) * 2);
    fx_free(f);

    /* run-time starts cannot be lowered: no candidate, and lower() says why */
    f = fx_new("Slice", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(5, 6), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(1), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(1), D(3)));
    lt_use_out(f, lt_view(f, F32, 2, D(1, 6), NULL));
    lt_assert_no_candidate(f, "run time");
    {
        const cg_op *op = cg_op_find("Slice");
        cg_tactic t = cg_simple_tactic("cuda.tensor.copy_strided", 0, 1);
        cg_options o = {.min_cc = 80, .max_cc = 80};
        ck_assert_int_eq(op->lower(&f->l, &t, &o, &f->e), O2P_ERR_UNSUPPORTED);
        ck_assert(tu_contains(o2p_last_error(), "input 1 (starts)"));
    }
    fx_free(f);

    /* Expand broadcasts with stride 0 */
    f = fx_new("Expand", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 1), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(3), D(2, 1, 4)));
    lt_use_out(f, lt_view(f, F32, 3, D(2, 3, 4), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 0, "o2p_tensor_copy_4", 24, &cp, sizeof cp);
    shape_is(&cp.src, 3, D(2, 3, 4), D(0, 1, 0));
    fx_free(f);
    f = fx_new("Expand", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 2), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(2), D(3, 4)));
    lt_use_out(f, lt_view(f, F32, 2, D(3, 4), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "does not broadcast");
    fx_free(f);
}
END_TEST

START_TEST(test_concat_split_compress)
{
    o2p_tn_copy_params cp;
    /* along the last axis: a strided copy per input at its column offset */
    lt_layer *f = fx_new("Concat", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(2, 3), NULL));
    lt_use_in(f, lt_view(f, F32, 2, D(2, 0), NULL));
    lt_use_in(f, lt_view(f, F32, 2, D(2, 2), NULL));
    lt_attr_int(f, "axis", -1);
    lt_use_out(f, lt_view(f, F32, 2, D(2, 5), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    ck_assert_int_eq(f->e.count, 2); /* the empty input moves nothing */
    const cg_launch *l = kernel(f, 0, "o2p_tensor_copy_4", 6, &cp, sizeof cp);
    shape_is(&cp.dst, 2, D(2, 3), D(5, 1));
    lt_assert_patch(l, offsetof(o2p_tn_copy_params, y_ptr), OUT_BASE, 0);
    lt_assert_patch(l, offsetof(o2p_tn_copy_params, x_ptr), 0, 0);
    l = kernel(f, 1, "o2p_tensor_copy_4", 4, &cp, sizeof cp);
    lt_assert_patch(l, offsetof(o2p_tn_copy_params, y_ptr), OUT_BASE, 3 * 4);
    lt_assert_patch(l, offsetof(o2p_tn_copy_params, x_ptr), 2, 0);
    fx_free(f);

    /* along the first axis: device copies one after the other */
    f = fx_new("Concat", 13);
    lt_use_in(f, lt_view(f, I32, 2, D(2, 3), NULL));
    lt_use_in(f, lt_view(f, I32, 2, D(1, 3), NULL));
    lt_attr_int(f, "axis", 0);
    lt_use_out(f, lt_view(f, I32, 2, D(3, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    copy_launch(f, 0, OUT_BASE, 0, 0, 0, 24);
    copy_launch(f, 1, OUT_BASE, 24, 1, 0, 12);
    fx_free(f);
    f = fx_new("Concat", 13);
    lt_use_in(f, lt_view(f, I32, 2, D(2, 3), NULL));
    lt_use_in(f, lt_view(f, I32, 2, D(1, 4), NULL));
    lt_attr_int(f, "axis", 0);
    lt_use_out(f, lt_view(f, I32, 2, D(3, 3), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "input 1 has size 4 on axis 1");
    fx_free(f);

    /* Split with an omitted output: only the wanted ones are written */
    f = fx_new("Split", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(6, 2), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(3), D(1, 2, 3)));
    lt_use_out(f, lt_view(f, F32, 2, D(1, 2), NULL));
    lt_use_out(f, NULL);
    lt_use_out(f, lt_view(f, F32, 2, D(3, 2), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    ck_assert_int_eq(f->e.count, 2);
    copy_launch(f, 0, OUT_BASE, 0, 0, 0, 8);
    copy_launch(f, 1, OUT_BASE + 2, 0, 0, 3 * 2 * 4, 24);
    fx_free(f);

    /* Compress along axis 1 with runs {0} and {2,3}: one strided copy per run */
    static const unsigned char cond[4] = {1, 0, 1, 1};
    f = fx_new("Compress", 11);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 5), NULL));
    lt_use_in(f, lt_view(f, BOOL, 1, D(4), cond));
    lt_attr_int(f, "axis", 1);
    lt_use_out(f, lt_view(f, F32, 2, D(3, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    ck_assert_int_eq(f->e.count, 2);
    l = kernel(f, 1, "o2p_tensor_copy_4", 6, &cp, sizeof cp);
    shape_is(&cp.src, 2, D(3, 2), D(5, 1));
    shape_is(&cp.dst, 2, D(3, 2), D(3, 1));
    lt_assert_patch(l, offsetof(o2p_tn_copy_params, x_ptr), 0, 2 * 4);
    lt_assert_patch(l, offsetof(o2p_tn_copy_params, y_ptr), OUT_BASE, 1 * 4);
    fx_free(f);
    /* a run-time condition gives no output shape at build */
    f = fx_new("Compress", 11);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 5), NULL));
    lt_use_in(f, lt_view(f, BOOL, 1, D(4), NULL));
    lt_attr_int(f, "axis", 1);
    lt_use_out(f, lt_view(f, F32, 2, D(3, 3), NULL));
    lt_assert_no_candidate(f, "condition");
    fx_free(f);
}
END_TEST

START_TEST(test_pad_tile_trilu)
{
    o2p_tn_pad_params pp;
    static const float nine_and_half = 9.5f;
    lt_layer *f = fx_new("Pad", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 4), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(4), D(1, 2, 0, 1)));
    lt_use_in(f, lt_view(f, F32, 0, NULL, &nine_and_half));
    lt_use_out(f, lt_view(f, F32, 2, D(4, 7), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    const cg_launch *l = kernel(f, 0, "o2p_tensor_pad_4", 28, &pp, sizeof pp);
    ck_assert_int_eq(pp.mode, O2P_TN_PAD_CONSTANT);
    ck_assert_uint_eq(pp.value, 0x41180000u);
    ck_assert_int_eq(pp.rank, 2);
    ck_assert_int_eq(pp.begin[0], 1);
    ck_assert_int_eq(pp.begin[1], 2);
    ck_assert_int_eq(pp.in_dims[1], 4);
    ck_assert_int_eq(pp.in_strides[0], 4);
    ck_assert_int_eq(pp.out_dims[1], 7);
    lt_assert_patch(l, offsetof(o2p_tn_pad_params, x_ptr), 0, 0);
    lt_assert_patch(l, offsetof(o2p_tn_pad_params, y_ptr), OUT_BASE, 0);
    fx_free(f);

    f = fx_new("Pad", 19);
    lt_use_in(f, lt_view(f, I64, 2, D(3, 4), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(4), D(5, 7, 4, 9)));
    lt_attr_str(f, "mode", "wrap");
    lt_use_out(f, lt_view(f, I64, 2, D(12, 20), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 0, "o2p_tensor_pad_8", 240, &pp, sizeof pp);
    ck_assert_int_eq(pp.mode, O2P_TN_PAD_WRAP);
    fx_free(f);

    f = fx_new("Pad", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(0, 3), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(4), D(1, 0, 1, 0)));
    lt_attr_str(f, "mode", "edge");
    lt_use_out(f, lt_view(f, F32, 2, D(2, 3), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "nothing to pad it with");
    fx_free(f);

    f = fx_new("Pad", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 4), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(4), NULL));
    lt_use_out(f, lt_view(f, F32, 2, D(4, 7), NULL));
    lt_assert_no_candidate(f, "run time");
    fx_free(f);

    /* Tile is wrap padding from 0 */
    f = fx_new("Tile", 13);
    lt_use_in(f, lt_view(f, F16, 2, D(2, 3), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(2), D(2, 3)));
    lt_use_out(f, lt_view(f, F16, 2, D(4, 9), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 0, "o2p_tensor_pad_2", 36, &pp, sizeof pp);
    ck_assert_int_eq(pp.mode, O2P_TN_PAD_WRAP);
    ck_assert_int_eq(pp.begin[0], 0);
    ck_assert_int_eq(pp.out_dims[1], 9);
    ck_assert_int_eq(pp.in_dims[1], 3);
    fx_free(f);

    o2p_tn_trilu_params tp;
    static const int64_t big_k = -100;
    f = fx_new("Trilu", 14);
    lt_use_in(f, lt_view(f, I32, 3, D(2, 4, 3), NULL));
    lt_use_in(f, lt_view(f, I64, 0, NULL, &big_k));
    lt_attr_int(f, "upper", 0);
    lt_use_out(f, lt_view(f, I32, 3, D(2, 4, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 0, "o2p_tensor_trilu", 24, &tp, sizeof tp);
    ck_assert_int_eq(tp.k, -4); /* clamped to -rows */
    ck_assert_int_eq(tp.rows, 4);
    ck_assert_int_eq(tp.cols, 3);
    ck_assert_int_eq(tp.upper, 0);
    ck_assert_int_eq(tp.esize, 4);
    fx_free(f);
    /* k computed at run time: read (and clamped) by the kernel */
    f = fx_new("Trilu", 14);
    lt_use_in(f, lt_view(f, F16, 2, D(4, 3), NULL));
    lt_use_in(f, lt_view(f, I64, 0, NULL, NULL));
    lt_use_out(f, lt_view(f, F16, 2, D(4, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    l = kernel(f, 0, "o2p_tensor_trilu", 12, &tp, sizeof tp);
    lt_assert_patch(l, offsetof(o2p_tn_trilu_params, k_ptr), 1, 0);
    ck_assert_int_eq(tp.k_i64, 1);
    ck_assert_int_eq(tp.upper, 1);
    fx_free(f);
}
END_TEST

START_TEST(test_gather_family)
{
    o2p_tn_gather_params gp;
    lt_layer *f = fx_new("Gather", 13);
    lt_use_in(f, lt_view(f, F16, 3, D(5, 4, 3), NULL));
    lt_use_in(f, lt_view(f, I32, 1, D(3), NULL));
    lt_attr_int(f, "axis", 1);
    lt_use_out(f, lt_view(f, F16, 3, D(5, 3, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    const cg_launch *l = kernel(f, 0, "o2p_tensor_gather_2", 45, &gp, sizeof gp);
    ck_assert_int_eq(gp.n, 45);
    ck_assert_int_eq(gp.d, 4);
    ck_assert_int_eq(gp.inner, 3);
    ck_assert_int_eq(gp.ni, 3);
    ck_assert_int_eq(gp.ind_i64, 0);
    lt_assert_patch(l, offsetof(o2p_tn_gather_params, x_ptr), 0, 0);
    lt_assert_patch(l, offsetof(o2p_tn_gather_params, ind_ptr), 1, 0);
    lt_assert_patch(l, offsetof(o2p_tn_gather_params, y_ptr), OUT_BASE, 0);
    fx_free(f);

    /* constant indices are checked at build as the host kernel checks them */
    f = fx_new("Gather", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(5, 4), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(2), D(-5, 5)));
    lt_use_out(f, lt_view(f, F32, 2, D(2, 4), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "index 5 is out of range");
    fx_free(f);

    o2p_tn_elements_params ep;
    f = fx_new("GatherElements", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 4), NULL));
    lt_use_in(f, lt_view(f, I64, 2, D(3, 2), NULL));
    lt_attr_int(f, "axis", 1);
    lt_use_out(f, lt_view(f, F32, 2, D(3, 2), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 0, "o2p_tensor_gather_elements", 6, &ep, sizeof ep);
    ck_assert_int_eq(ep.d, 4);
    ck_assert_int_eq(ep.axis_stride, 1);
    shape_is(&ep.ind, 2, D(3, 2), D(4, 0));
    ck_assert_int_eq(ep.esize, 4);
    fx_free(f);

    o2p_tn_nd_params np;
    f = fx_new("GatherND", 13);
    lt_use_in(f, lt_view(f, I64, 3, D(2, 3, 4), NULL));
    lt_use_in(f, lt_view(f, I64, 3, D(2, 1, 1), NULL));
    lt_attr_int(f, "batch_dims", 1);
    lt_use_out(f, lt_view(f, I64, 3, D(2, 1, 4), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 0, "o2p_tensor_gather_nd", 8, &np, sizeof np);
    ck_assert_int_eq(np.m, 1);
    ck_assert_int_eq(np.dims[0], 3);
    ck_assert_int_eq(np.strides[0], 4);
    ck_assert_int_eq(np.slice, 4);
    ck_assert_int_eq(np.tuples, 1);
    ck_assert_int_eq(np.batch_stride, 12);
    fx_free(f);

    o2p_tn_one_hot_params op;
    static const int64_t depth = 4;
    f = fx_new("OneHot", 11);
    lt_use_in(f, lt_view(f, I64, 2, D(2, 3), NULL));
    lt_use_in(f, lt_view(f, I64, 0, NULL, &depth));
    lt_use_in(f, lt_view(f, F32, 1, D(2), NULL));
    lt_attr_int(f, "axis", 1);
    lt_use_out(f, lt_view(f, F32, 3, D(2, 4, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    l = kernel(f, 0, "o2p_tensor_one_hot", 24, &op, sizeof op);
    ck_assert_int_eq(op.depth, 4);
    ck_assert_int_eq(op.inner, 3);
    ck_assert_int_eq(op.negative, 1);
    ck_assert_int_eq(op.values_known, 0);
    lt_assert_patch(l, offsetof(o2p_tn_one_hot_params, val_ptr), 2, 0);
    fx_free(f);
    static const float off_on[2] = {0.5f, 3.0f};
    f = fx_new("OneHot", 9);
    lt_use_in(f, lt_view(f, F32, 1, D(3), NULL));
    lt_use_in(f, lt_view(f, I64, 0, NULL, &depth));
    lt_use_in(f, lt_view(f, F32, 1, D(2), off_on));
    lt_use_out(f, lt_view(f, F32, 2, D(3, 4), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    l = kernel(f, 0, "o2p_tensor_one_hot", 12, &op, sizeof op);
    ck_assert_int_eq(op.values_known, 1);
    ck_assert_uint_eq(op.off_bits, 0x3f000000u);
    ck_assert_uint_eq(op.on_bits, 0x40400000u);
    ck_assert_int_eq(op.negative, 0);
    ck_assert_int_eq(l->num_patches, 2);
    fx_free(f);
}
END_TEST

START_TEST(test_scatter_family)
{
    o2p_tn_elements_params ep;
    lt_layer *f = fx_new("ScatterElements", 18);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 4), NULL));
    lt_use_in(f, lt_view(f, I64, 2, D(2, 3), NULL));
    lt_use_in(f, lt_view(f, F32, 2, D(2, 3), NULL));
    lt_attr_str(f, "reduction", "add");
    lt_use_out(f, lt_view(f, F32, 2, D(3, 4), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    ck_assert_int_eq(f->e.count, 2);
    copy_launch(f, 0, OUT_BASE, 0, 0, 0, 48); /* the data first */
    const cg_launch *l = kernel(f, 1, "o2p_tensor_scatter_elements", 3, &ep, sizeof ep);
    ck_assert_int_eq(ep.lines, 3); /* a line per column: its updates in order */
    ck_assert_int_eq(ep.per_update, 0);
    ck_assert_int_eq(ep.ind_axis_dim, 2);
    ck_assert_int_eq(ep.ind_inner, 3);
    ck_assert_int_eq(ep.reduction, O2P_TN_RED_ADD);
    ck_assert_int_eq(ep.dtype, O2P_CU_FLOAT);
    lt_assert_patch(l, offsetof(o2p_tn_elements_params, ind_ptr), 1, 0);
    lt_assert_patch(l, offsetof(o2p_tn_elements_params, upd_ptr), 2, 0);
    lt_assert_patch(l, offsetof(o2p_tn_elements_params, y_ptr), OUT_BASE, 0);
    fx_free(f);

    /* Scatter (opset 9) has no reduction; a bad one on ScatterElements is refused */
    f = fx_new("ScatterElements", 18);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 4), NULL));
    lt_use_in(f, lt_view(f, I64, 2, D(2, 3), NULL));
    lt_use_in(f, lt_view(f, F32, 2, D(2, 3), NULL));
    lt_attr_str(f, "reduction", "avg");
    lt_use_out(f, lt_view(f, F32, 2, D(3, 4), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "reduction 'avg'");
    fx_free(f);

    o2p_tn_nd_params np;
    f = fx_new("ScatterND", 16);
    lt_use_in(f, lt_view(f, F32, 2, D(4, 3), NULL));
    lt_use_in(f, lt_view(f, I64, 2, D(3, 2), D(1, 1, 1, 1, 0, 2)));
    lt_use_in(f, lt_view(f, F32, 1, D(3), NULL));
    lt_attr_str(f, "reduction", "mul");
    lt_use_out(f, lt_view(f, F32, 2, D(4, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    copy_launch(f, 0, OUT_BASE, 0, 0, 0, 48);
    kernel(f, 1, "o2p_tensor_scatter_nd", 1, &np, sizeof np);
    ck_assert_int_eq(np.per_update, 0); /* tuple (1, 1) twice */
    ck_assert_int_eq(np.n, 1); /* one slice position applies the 3 tuples in order */
    ck_assert_int_eq(np.tuples, 3);
    ck_assert_int_eq(np.m, 2);
    ck_assert_int_eq(np.reduction, O2P_TN_RED_MUL);
    fx_free(f);

    f = fx_new("ScatterND", 16);
    lt_use_in(f, lt_view(f, F32, 2, D(4, 3), NULL));
    lt_use_in(f, lt_view(f, I64, 2, D(2, 1), NULL));
    lt_use_in(f, lt_view(f, F32, 2, D(2, 3), NULL));
    lt_use_out(f, lt_view(f, F32, 2, D(4, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 1, "o2p_tensor_scatter_nd", 6, &np, sizeof np);
    ck_assert_int_eq(np.n, 6); /* no reduction: every update element at once */
    ck_assert_int_eq(np.per_update, 1);
    ck_assert_int_eq(np.slice, 3);
    fx_free(f);

    /* distinct constant tuples with a reduction: every update element at once too */
    f = fx_new("ScatterND", 16);
    lt_use_in(f, lt_view(f, F32, 2, D(4, 3), NULL));
    lt_use_in(f, lt_view(f, I64, 2, D(3, 1), D(3, 0, -3)));
    lt_use_in(f, lt_view(f, F32, 2, D(3, 3), NULL));
    lt_attr_str(f, "reduction", "add");
    lt_use_out(f, lt_view(f, F32, 2, D(4, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 1, "o2p_tensor_scatter_nd", 9, &np, sizeof np);
    ck_assert_int_eq(np.per_update, 1);
    ck_assert_int_eq(np.n, 9);
    fx_free(f);
    /* -3 and 1 are the same row: applied in order */
    f = fx_new("ScatterND", 16);
    lt_use_in(f, lt_view(f, F32, 2, D(4, 3), NULL));
    lt_use_in(f, lt_view(f, I64, 2, D(3, 1), D(1, 0, -3)));
    lt_use_in(f, lt_view(f, F32, 2, D(3, 3), NULL));
    lt_attr_str(f, "reduction", "add");
    lt_use_out(f, lt_view(f, F32, 2, D(4, 3), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 1, "o2p_tensor_scatter_nd", 3, &np, sizeof np);
    ck_assert_int_eq(np.per_update, 0);
    ck_assert_int_eq(np.n, 3);
    fx_free(f);

    f = fx_new("ScatterND", 16);
    lt_use_in(f, lt_view(f, F32, 2, D(4, 3), NULL));
    lt_use_in(f, lt_view(f, I64, 2, D(2, 1), D(1, 4)));
    lt_use_in(f, lt_view(f, F32, 2, D(2, 3), NULL));
    lt_use_out(f, lt_view(f, F32, 2, D(4, 3), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "index 4 is out of range");
    fx_free(f);
}
END_TEST

START_TEST(test_topk_cumsum_reverse)
{
    o2p_tn_topk_params tp;
    lt_layer *f = fx_new("TopK", 11);
    lt_use_in(f, lt_view(f, F32, 3, D(3, 5, 2), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(1), D(2)));
    lt_attr_int(f, "axis", 1);
    lt_attr_int(f, "largest", 0);
    lt_use_out(f, NULL);
    lt_use_out(f, lt_view(f, I64, 3, D(3, 2, 2), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    const cg_launch *l = kernel(f, 0, "o2p_tensor_topk", 6, &tp, sizeof tp);
    ck_assert_uint_eq(l->grid[0], 6); /* a block per row */
    ck_assert_uint_eq(l->block[0], 256);
    ck_assert_int_eq(tp.rows, 6);
    ck_assert_int_eq(tp.d, 5);
    ck_assert_int_eq(tp.k, 2);
    ck_assert_int_eq(tp.inner, 2);
    ck_assert_int_eq(tp.largest, 0);
    ck_assert_int_eq(tp.has_values, 0);
    ck_assert_int_eq(tp.has_indices, 1);
    ck_assert_int_eq(l->num_patches, 2); /* no address for the omitted values */
    lt_assert_patch(l, offsetof(o2p_tn_topk_params, indices_ptr), OUT_BASE + 1, 0);
    fx_free(f);

    f = fx_new("TopK", 11);
    lt_use_in(f, lt_view(f, F32, 2, D(4, 7), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(1), D(8)));
    lt_use_out(f, lt_view(f, F32, 2, D(4, 8), NULL));
    lt_use_out(f, lt_view(f, I64, 2, D(4, 8), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "K = 8 is out of range");
    fx_free(f);

    f = fx_new("TopK", 11);
    lt_use_in(f, lt_view(f, BOOL, 2, D(4, 7), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(1), D(2)));
    lt_use_out(f, lt_view(f, BOOL, 2, D(4, 2), NULL));
    lt_use_out(f, lt_view(f, I64, 2, D(4, 2), NULL));
    lt_assert_no_candidate(f, "not a number");
    {
        const cg_op *op = cg_op_find("TopK");
        cg_tactic t = cg_simple_tactic("cuda.tensor.topk", 0, 1);
        cg_options o = {.min_cc = 80, .max_cc = 80};
        ck_assert_int_eq(op->lower(&f->l, &t, &o, &f->e), O2P_ERR_UNSUPPORTED);
        ck_assert(tu_contains(o2p_last_error(), "bool"));
    }
    fx_free(f);

    o2p_tn_cumsum_params cp;
    static const int64_t axis = -2;
    f = fx_new("CumSum", 14);
    lt_use_in(f, lt_view(f, I64, 3, D(3, 4, 2), NULL));
    lt_use_in(f, lt_view(f, I64, 0, NULL, &axis));
    lt_attr_int(f, "exclusive", 1);
    lt_attr_int(f, "reverse", 1);
    lt_use_out(f, lt_view(f, I64, 3, D(3, 4, 2), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    l = kernel(f, 0, "o2p_tensor_cumsum", 6, &cp, sizeof cp);
    ck_assert_int_eq(l->num_patches, 2); /* the axis is known: no address for it */
    ck_assert_int_eq(cp.axis_ptr, 0);
    ck_assert_int_eq(cp.lines, 6);
    ck_assert_int_eq(cp.d, 4);
    ck_assert_int_eq(cp.inner, 2);
    ck_assert_int_eq(cp.exclusive, 1);
    ck_assert_int_eq(cp.reverse, 1);
    ck_assert_int_eq(cp.dtype, O2P_CU_INT64);
    fx_free(f);
    /* an axis computed at run time: the kernel reads it and finds its lines */
    f = fx_new("CumSum", 14);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 4), NULL));
    lt_use_in(f, lt_view(f, I32, 0, NULL, NULL));
    lt_use_out(f, lt_view(f, F32, 2, D(3, 4), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    l = kernel(f, 0, "o2p_tensor_cumsum", 12, &cp, sizeof cp);
    lt_assert_patch(l, offsetof(o2p_tn_cumsum_params, axis_ptr), 1, 0);
    ck_assert_int_eq(cp.axis_i64, 0);
    ck_assert_int_eq(cp.rank, 2);
    ck_assert_int_eq(cp.dims[1], 4);
    ck_assert_int_eq(cp.n, 12);
    fx_free(f);
    f = fx_new("CumSum", 14);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 4), NULL));
    lt_use_in(f, lt_view(f, F32, 0, NULL, NULL));
    lt_use_out(f, lt_view(f, F32, 2, D(3, 4), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "must be int64");
    fx_free(f);

    o2p_tn_reverse_sequence_params rp;
    static const int64_t lens_bad[3] = {4, 1, 5};
    f = fx_new("ReverseSequence", 10);
    lt_use_in(f, lt_view(f, F32, 3, D(4, 3, 2), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(3), NULL));
    lt_use_out(f, lt_view(f, F32, 3, D(4, 3, 2), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    kernel(f, 0, "o2p_tensor_reverse_sequence", 24, &rp, sizeof rp);
    ck_assert_int_eq(rp.batch, 3);
    ck_assert_int_eq(rp.seq, 4);
    ck_assert_int_eq(rp.block, 2);
    ck_assert_int_eq(rp.time_axis, 0);
    ck_assert_int_eq(rp.lens_i64, 1);
    fx_free(f);
    f = fx_new("ReverseSequence", 10);
    lt_use_in(f, lt_view(f, F32, 3, D(4, 3, 2), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(3), lens_bad));
    lt_use_out(f, lt_view(f, F32, 3, D(4, 3, 2), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "sequence length 5");
    fx_free(f);
}
END_TEST

START_TEST(test_element_types)
{
    /* a 16-byte element has no kernel that moves it in one word */
    lt_layer *f = fx_new("Transpose", 13);
    lt_use_in(f, lt_view(f, O2P_DTYPE_COMPLEX128, 2, D(2, 3), NULL));
    lt_use_out(f, lt_view(f, O2P_DTYPE_COMPLEX128, 2, D(3, 2), NULL));
    lt_assert_no_candidate(f, "1, 2, 4 or 8 bytes");
    {
        const cg_op *op = cg_op_find("Transpose");
        cg_tactic t = cg_simple_tactic("cuda.tensor.copy_strided", 0, 1);
        cg_options o = {.min_cc = 80, .max_cc = 80};
        ck_assert_int_eq(op->lower(&f->l, &t, &o, &f->e), O2P_ERR_UNSUPPORTED);
    }
    fx_free(f);
    f = fx_new("Gather", 13);
    lt_use_in(f, lt_view(f, O2P_DTYPE_STRING, 1, D(3), NULL));
    lt_use_in(f, lt_view(f, I64, 1, D(1), NULL));
    lt_use_out(f, lt_view(f, O2P_DTYPE_STRING, 1, D(1), NULL));
    lt_assert_no_candidate(f, "bytes");
    fx_free(f);
    /* every width has its copy kernel */
    static const o2p_dtype types[4] = {O2P_DTYPE_UINT8, F16, F32, O2P_DTYPE_DOUBLE};
    static const char *const fns[4] = {"o2p_tensor_copy_1", "o2p_tensor_copy_2",
                                       "o2p_tensor_copy_4", "o2p_tensor_copy_8"};
    for (int i = 0; i < 4; i++) {
        o2p_tn_copy_params cp;
        f = fx_new("Transpose", 13);
        lt_use_in(f, lt_view(f, types[i], 2, D(3, 7), NULL));
        lt_use_out(f, lt_view(f, types[i], 2, D(7, 3), NULL));
        ck_assert_int_eq(fx_lower(f), O2P_OK);
        kernel(f, 0, fns[i], 21, &cp, sizeof cp);
        fx_free(f);
    }
    /* an output of the wrong type is refused with the host kernel's words */
    f = fx_new("Transpose", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(3, 7), NULL));
    lt_use_out(f, lt_view(f, F16, 2, D(7, 3), NULL));
    expect_fail(f, O2P_ERR_SHAPE, "output 0 has element type float16");
    fx_free(f);
}
END_TEST

/* NonZero: a data-dependent output. One block counts, scans and writes; the output's shape
 * tensor (cg_layer.output_shape_tensors) gets the actual dims. */
START_TEST(test_nonzero)
{
    int shapes[1] = {20};
    lt_layer *f = fx_new("NonZero", 13);
    lt_use_in(f, lt_view(f, F16, 3, D(2, 3, 5), NULL));
    lt_use_out(f, lt_view(f, I64, 2, D(3, 30), NULL)); /* at its bound: 30 non-zeros at most */
    f->l.output_shape_tensors = shapes;
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    ck_assert_int_eq(f->e.count, 1);
    o2p_tn_nonzero_params p;
    const cg_launch *l = kernel(f, 0, "o2p_tensor_nonzero", 1, &p, sizeof p);
    ck_assert_uint_eq(l->grid[0], 1); /* one block: the scan is block-wide */
    ck_assert_uint_eq(l->block[0], O2P_TN_NONZERO_THREADS);
    ck_assert_int_eq(l->num_patches, 3);
    lt_assert_patch(l, offsetof(o2p_tn_nonzero_params, x_ptr), 0, 0);
    lt_assert_patch(l, offsetof(o2p_tn_nonzero_params, y_ptr), OUT_BASE, 0);
    lt_assert_patch(l, offsetof(o2p_tn_nonzero_params, shape_ptr), 20, 0);
    ck_assert_int_eq(p.n, 30);
    ck_assert_int_eq(p.cap, 30);
    ck_assert_int_eq(p.rank, 3);
    ck_assert_int_eq(p.dtype, O2P_DTYPE_FLOAT16);
    ck_assert_int_eq(p.dims[0], 2);
    ck_assert_int_eq(p.dims[1], 3);
    ck_assert_int_eq(p.dims[2], 5);
    ck_assert_uint_eq(sizeof p, 176);
    fx_free(f);
    /* without a shape tensor the count has nowhere to go */
    f = fx_new("NonZero", 13);
    lt_use_in(f, lt_view(f, F32, 1, D(4), NULL));
    lt_use_out(f, lt_view(f, I64, 2, D(1, 4), NULL));
    expect_fail(f, O2P_ERR_UNSUPPORTED, "no shape tensor");
    fx_free(f);
    /* an empty input: [rank, 0], static, nothing to launch */
    f = fx_new("NonZero", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(0, 4), NULL));
    lt_use_out(f, lt_view(f, I64, 2, D(2, 0), NULL));
    ck_assert_int_eq(fx_lower(f), O2P_OK);
    ck_assert_int_eq(f->e.count, 0);
    fx_free(f);
    /* the host kernel's checks: the output's type and first dim */
    f = fx_new("NonZero", 13);
    lt_use_in(f, lt_view(f, F32, 2, D(2, 2), NULL));
    lt_use_out(f, lt_view(f, I32, 2, D(2, 4), NULL));
    f->l.output_shape_tensors = shapes;
    expect_fail(f, O2P_ERR_SHAPE, "output 0 must be int64 [2, N]");
    fx_free(f);
    f = fx_new("NonZero", 13);
    lt_use_in(f, lt_view(f, O2P_DTYPE_STRING, 1, D(2), NULL));
    lt_use_out(f, lt_view(f, I64, 2, D(1, 2), NULL));
    f->l.output_shape_tensors = shapes;
    expect_fail(f, O2P_ERR_UNSUPPORTED, "element type string");
    fx_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lower_tensor");
    TCase *tc = tcase_create("lowering");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_reshape_family_copies);
    tcase_add_test(tc, test_generators);
    tcase_add_test(tc, test_transpose_slice_expand);
    tcase_add_test(tc, test_concat_split_compress);
    tcase_add_test(tc, test_pad_tile_trilu);
    tcase_add_test(tc, test_gather_family);
    tcase_add_test(tc, test_scatter_family);
    tcase_add_test(tc, test_topk_cumsum_reverse);
    tcase_add_test(tc, test_element_types);
    tcase_add_test(tc, test_nonzero);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
