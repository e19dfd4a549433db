/* lower_testutil.h: the fixture the CUDA lowering tests (tests/unit/test_lower_*.c) share: a
 * cg_layer built by hand over host_tensor views, lowered through its op's candidates() and
 * lower() into a cg_emit without a GPU, and checks of the launches it emits (kernel, grid,
 * device-address patches, refusals). */
#ifndef O2P_LOWER_TESTUTIL_H
#define O2P_LOWER_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "codegen/codegen.h"
#include "testutil.h"

/* Element types and dims as the tests write them: lt_in(&t, 0, F32, 2, D(2, 3)). */
#define F32 O2P_DTYPE_FLOAT
#define F16 O2P_DTYPE_FLOAT16
#define F64 O2P_DTYPE_DOUBLE
#define I64 O2P_DTYPE_INT64
#define I32 O2P_DTYPE_INT32
#define I8 O2P_DTYPE_INT8
#define U8 O2P_DTYPE_UINT8
#define BOOL O2P_DTYPE_BOOL
#define STR O2P_DTYPE_STRING
#define D(...) ((const int64_t[]){__VA_ARGS__})
/* A launch's parameter bytes as the params struct T. */
#define PARAMS(T, k) ((const T *)(const void *)(k)->params)

#define LT_MAX_INPUTS 12
#define LT_MAX_OUTPUTS 8
#define LT_MAX_ATTRS 16
#define LT_MAX_VIEWS 16
#define LT_MAX_TACTICS 8
#define LT_CONST_BYTES 64 /* room for one constant input's values */
#define LT_SHAPE_TENSOR_BASE 20 /* a dynamic output i's shape tensor is 20 + i */

/* A layer under construction and what its lowering emits. Input i is engine tensor i, output
 * i tensor out_base + i (10 unless a test sets it), omitted ones -1. */
typedef struct lt_layer {
    host_tensor in[LT_MAX_INPUTS], out[LT_MAX_OUTPUTS];
    const host_tensor *ins[LT_MAX_INPUTS];
    host_tensor *outs[LT_MAX_OUTPUTS];
    int it[LT_MAX_INPUTS], ot[LT_MAX_OUTPUTS], st[LT_MAX_OUTPUTS];
    int out_base;
    host_attr attrs[LT_MAX_ATTRS];
    host_tensor views[LT_MAX_VIEWS]; /* lt_view's tensors */
    int num_views;
    int64_t data[LT_MAX_INPUTS][LT_CONST_BYTES / 8]; /* constant inputs' values */
    const char *domain; /* NULL: the op is found by type alone (cg_op_find) */
    cg_layer l;
    cg_emit e;
} lt_layer;

/* The options every test lowers with: sm_80 to sm_90, TF32 allowed, every tactic source. */
extern const cg_options lt_options;

/* A layer of op (layer name "n0") with no inputs, outputs or attributes yet. */
void lt_init(lt_layer *t, const char *op, int64_t opset);
/* Frees what the lowering emitted (t can be lt_init'ed again). */
void lt_free(lt_layer *t);

/* Input i as (dt, rank, dims) without data (an activation); dims may be NULL at rank 0. */
host_tensor *lt_in(lt_layer *t, int i, o2p_dtype dt, int rank, const int64_t *dims);
/* The next input; an omitted one (a NULL entry, tensor -1) when dt is UNDEFINED. */
host_tensor *lt_add_in(lt_layer *t, o2p_dtype dt, int rank, const int64_t *dims);
/* Input i as a constant: its values (the element count times dt's size) copied into t. */
host_tensor *lt_const_in(lt_layer *t, int i, o2p_dtype dt, int rank, const int64_t *dims,
                         const void *values);
/* Output i as (dt, rank, dims), tensor out_base + i. */
host_tensor *lt_out(lt_layer *t, int i, o2p_dtype dt, int rank, const int64_t *dims);
/* Output i with a data-dependent shape: also shape tensor LT_SHAPE_TENSOR_BASE + i. */
host_tensor *lt_dynamic_out(lt_layer *t, int i, o2p_dtype dt, int rank, const int64_t *dims);
/* The next output; an omitted one (a NULL entry, tensor -1) when dt is UNDEFINED. */
host_tensor *lt_add_out(lt_layer *t, o2p_dtype dt, int rank, const int64_t *dims);

/* A free-standing tensor view kept in t (data only for constants), for lt_use_in/lt_use_out. */
host_tensor *lt_view(lt_layer *t, o2p_dtype dt, int rank, const int64_t *dims, const void *data);
/* The next input is view x (NULL: omitted, tensor -1). */
void lt_use_in(lt_layer *t, const host_tensor *x);
/* The next output is view x (NULL: omitted, tensor -1). */
void lt_use_out(lt_layer *t, host_tensor *x);

/* A new attribute of the given name and type, its values zero. */
host_attr *lt_attr(lt_layer *t, const char *name, o2p_attr_type type);
void lt_attr_int(lt_layer *t, const char *name, int64_t v);
void lt_attr_float(lt_layer *t, const char *name, float v);
void lt_attr_str(lt_layer *t, const char *name, const char *v);
/* The list attributes point at v (not copied): it must outlive the lowering. */
void lt_attr_ints(lt_layer *t, const char *name, const int64_t *v, int n);
void lt_attr_floats(lt_layer *t, const char *name, const float *v, int n);
void lt_attr_strs(lt_layer *t, const char *name, const char *const *v, int n);

/* The op's lowering (in t->domain when set); fails the test when there is none. */
const cg_op *lt_op(const lt_layer *t);
/* candidates() with lt_options: how many it offers, *why its reason when none; tac (NULL:
 * not wanted) gets them, with room for LT_MAX_TACTICS. */
int lt_candidates(lt_layer *t, cg_tactic *tac, const char **why);
/* candidates() must offer exactly one, of positive cost; *chosen (NULL: not wanted) gets it;
 * then lower() with it into t->e: lower's status. */
o2p_status lt_lower_tactic(lt_layer *t, cg_tactic *chosen);
/* lt_lower_tactic without the tactic. */
o2p_status lt_lower(lt_layer *t);
/* candidates() offers nothing, with a reason that contains why_part. */
void lt_assert_no_candidate(lt_layer *t, const char *why_part);

/* Launch i of what the lowering emitted (fails when there are fewer). */
const cg_launch *lt_launch(const lt_layer *t, int i);
/* Launch k is the kernel fn of family with param_size bytes of params. */
void lt_assert_kernel(const cg_launch *k, const char *family, const char *fn,
                      uint32_t param_size);
/* Launch k's one-thread-per-element grid covers n (or is at the grid limit), in warps. */
void lt_assert_covers(const cg_launch *k, uint64_t n);
/* lt_assert_kernel and lt_assert_covers. */
void lt_assert_kernel_for(const cg_launch *k, const char *family, const char *fn,
                          uint32_t param_size, uint64_t n);

/* The patch at param offset off, NULL when there is none. */
const cg_patch *lt_find_patch(const cg_launch *k, size_t off);
/* Whether an address is patched at param offset off. */
int lt_has_patch(const cg_launch *k, size_t off);
/* The tensor patched at param offset off, *byte_offset (NULL: not wanted) its byte offset;
 * fails the test when there is no patch there. */
int lt_patch_tensor(const cg_launch *k, size_t off, uint64_t *byte_offset);
/* The patch at param offset off is tensor + byte_offset. */
void lt_assert_patch(const cg_launch *k, size_t off, int tensor, uint64_t byte_offset);

/* st is want and the last error message contains needle. */
void lt_assert_refused(o2p_status st, o2p_status want, const char *needle);

#endif
