/* emit.c: the list of launches a lowering appends to (codegen.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"

void cg_emit_init(cg_emit *e)
{
    memset(e, 0, sizeof *e);
}

void cg_emit_free(cg_emit *e)
{
    free(e->launches);
    for (int k = 0; k < e->num_constants; k++)
        free(e->constants[k].bytes);
    memset(e, 0, sizeof *e);
}

int cg_emit_constant(cg_emit *e, const void *bytes, uint64_t size)
{
    if (e->status != O2P_OK)
        return -1;
    if (e->num_constants == CG_MAX_LAYER_CONSTANTS || !size || !bytes || size > SIZE_MAX) {
        e->status = o2p_fail(O2P_ERR_INTERNAL, "a layer constant of %llu bytes (%d already; "
                             "at most %d)", (unsigned long long)size, e->num_constants,
                             CG_MAX_LAYER_CONSTANTS);
        return -1;
    }
    void *copy = malloc((size_t)size);
    if (!copy) {
        e->status = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (a layer constant of %llu "
                             "bytes)", (unsigned long long)size);
        return -1;
    }
    memcpy(copy, bytes, (size_t)size);
    e->constants[e->num_constants].bytes = copy;
    e->constants[e->num_constants].size = size;
    return CG_TENSOR_CONSTANT(e->num_constants++);
}

o2p_status cg_emit_status(const cg_emit *e)
{
    return e->status;
}

static cg_launch *append(cg_emit *e)
{
    if (e->status != O2P_OK)
        return NULL;
    if (e->count == e->cap) {
        int cap = e->cap ? e->cap * 2 : 4;
        cg_launch *grown = realloc(e->launches, (size_t)cap * sizeof *grown);
        if (!grown) {
            e->status = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (kernel launches)");
            return NULL;
        }
        e->launches = grown;
        e->cap = cap;
    }
    cg_launch *l = &e->launches[e->count++];
    memset(l, 0, sizeof *l);
    l->family = "";
    l->function = "";
    for (int i = 0; i < 3; i++)
        l->grid[i] = l->block[i] = 1;
    return l;
}

cg_launch *cg_emit_kernel(cg_emit *e, const char *family, const char *function,
                          const uint32_t grid[3], const uint32_t block[3], uint32_t smem,
                          const void *params, uint32_t param_size)
{
    if (e->status != O2P_OK)
        return NULL;
    if (param_size > CG_MAX_PARAM_BYTES || (param_size && !params) || !family || !function) {
        e->status = o2p_fail(O2P_ERR_INTERNAL, "kernel %s: %u parameter bytes (at most %u)",
                             function ? function : "?", param_size, CG_MAX_PARAM_BYTES);
        return NULL;
    }
    uint64_t threads = 1;
    for (int i = 0; i < 3; i++) {
        if (!grid[i] || !block[i]) {
            e->status = o2p_fail(O2P_ERR_INTERNAL, "kernel %s: an empty grid or block",
                                 function);
            return NULL;
        }
        threads *= block[i];
    }
    if (threads > 1024) {
        e->status = o2p_fail(O2P_ERR_INTERNAL, "kernel %s: %llu threads per block (at most "
                             "1024)", function, (unsigned long long)threads);
        return NULL;
    }
    cg_launch *l = append(e);
    if (!l)
        return NULL;
    l->kind = CG_LAUNCH_KERNEL;
    l->family = family;
    l->function = function;
    memcpy(l->grid, grid, sizeof l->grid);
    memcpy(l->block, block, sizeof l->block);
    l->smem = smem;
    l->param_size = param_size;
    if (param_size)
        memcpy(l->params, params, param_size);
    return l;
}

void cg_launch_ptr(cg_emit *e, cg_launch *l, uint32_t param_offset, int tensor,
                   uint64_t byte_offset)
{
    if (e->status != O2P_OK || !l)
        return;
    if (l->num_patches >= CG_MAX_PATCHES || param_offset % 8 || param_offset + 8 > l->param_size) {
        e->status = o2p_fail(O2P_ERR_INTERNAL, "kernel %s: a device address at parameter "
                             "offset %u (size %u, %d addresses)",
                             l->function, param_offset, l->param_size, l->num_patches);
        return;
    }
    int constant = tensor <= CG_TENSOR_CONSTANT(0) &&
                   tensor > CG_TENSOR_CONSTANT(e->num_constants);
    if (tensor < 0 && tensor != CG_TENSOR_WORKSPACE && !constant) {
        e->status = o2p_fail(O2P_ERR_INTERNAL, "kernel %s: an address of tensor %d",
                             l->function, tensor);
        return;
    }
    cg_patch *p = &l->patches[l->num_patches++];
    p->param_offset = param_offset;
    p->tensor = tensor;
    p->byte_offset = byte_offset;
}

void cg_emit_copy(cg_emit *e, int dst_tensor, uint64_t dst_offset, int src_tensor,
                  uint64_t src_offset, uint64_t bytes)
{
    cg_launch *l = append(e);
    if (!l)
        return;
    l->kind = CG_LAUNCH_COPY;
    cg_copy_params p = {0, 0, bytes};
    l->param_size = sizeof p;
    memcpy(l->params, &p, sizeof p);
    cg_launch_ptr(e, l, 0, dst_tensor, dst_offset);
    cg_launch_ptr(e, l, 8, src_tensor, src_offset);
}

void cg_emit_memset(cg_emit *e, int dst_tensor, uint64_t dst_offset, uint64_t bytes,
                    uint8_t value)
{
    cg_launch *l = append(e);
    if (!l)
        return;
    l->kind = CG_LAUNCH_MEMSET;
    cg_memset_params p = {0, bytes, value};
    l->param_size = sizeof p;
    memcpy(l->params, &p, sizeof p);
    cg_launch_ptr(e, l, 0, dst_tensor, dst_offset);
}

_Static_assert(sizeof(cg_blas_gemm_params) == 120, "cg_blas_gemm_params: no padding");
_Static_assert(sizeof(cg_dnn_conv_params) == 120, "cg_dnn_conv_params: no padding");
/* the lean reader reads the records at these offsets (src/lean/engine.c, BG_* and DC_*) */
_Static_assert(offsetof(cg_blas_gemm_params, stride_a) == 40 &&
                   offsetof(cg_blas_gemm_params, m) == 64 &&
                   offsetof(cg_blas_gemm_params, batch) == 88 &&
                   offsetof(cg_blas_gemm_params, compute) == 104 &&
                   offsetof(cg_blas_gemm_params, reserved) == 116,
               "cg_blas_gemm_params: the offsets engine.c reads");
_Static_assert(offsetof(cg_dnn_conv_params, n) == 40 && offsetof(cg_dnn_conv_params, q) == 72 &&
                   offsetof(cg_dnn_conv_params, groups) == 100 &&
                   offsetof(cg_dnn_conv_params, compute) == 116,
               "cg_dnn_conv_params: the offsets engine.c reads");

cg_launch *cg_emit_library(cg_emit *e, cg_launch_kind kind, const void *params, uint32_t param_size)
{
    if (e->status != O2P_OK)
        return NULL;
    uint32_t want = kind == CG_LAUNCH_CUDNN_CONV ? (uint32_t)sizeof(cg_dnn_conv_params)
                                                 : (uint32_t)sizeof(cg_blas_gemm_params);
    if ((kind != CG_LAUNCH_CUBLAS_GEMM && kind != CG_LAUNCH_CUBLASLT_MATMUL &&
         kind != CG_LAUNCH_CUDNN_CONV) ||
        !params || param_size != want) {
        e->status = o2p_fail(O2P_ERR_INTERNAL, "library call of kind %d with %u parameter bytes",
                             (int)kind, param_size);
        return NULL;
    }
    cg_launch *l = append(e);
    if (!l)
        return NULL;
    l->kind = kind;
    l->param_size = param_size;
    memcpy(l->params, params, param_size);
    return l;
}

uint64_t cg_emit_workspace(cg_emit *e, uint64_t bytes)
{
    uint64_t at = (e->workspace + 255u) & ~(uint64_t)255u;
    e->workspace = at + bytes;
    return at;
}

void cg_grid_1d(uint64_t n, uint32_t block, uint32_t grid[3], uint32_t blk[3])
{
    uint64_t blocks = (n + block - 1) / block;
    if (blocks == 0)
        blocks = 1;
    if (blocks > 0x7fffffffu)
        blocks = 0x7fffffffu;
    grid[0] = (uint32_t)blocks;
    grid[1] = grid[2] = 1;
    blk[0] = block;
    blk[1] = blk[2] = 1;
}

cg_tactic cg_simple_tactic(const char *kernel, uint32_t smem_bytes, double cost)
{
    cg_tactic t;
    memset(&t, 0, sizeof t);
    t.kernel = kernel;
    t.source = "builtin";
    t.min_cc = 80;
    t.smem_bytes = smem_bytes;
    t.precision = CG_PREC_NATIVE;
    t.cost = cost;
    return t;
}
