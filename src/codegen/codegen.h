/* codegen.h: the CUDA code generator (DESIGN.md §8, §9). Two jobs:
 * - lowering: per layer, the candidate CUDA tactics and, for the chosen one, the launches
 *   that run it (kernel launches with their parameter bytes, device copies, memsets);
 * - compiling: the kernel families the launches use, compiled from kernels/cuda/ (embedded
 *   in libo2p as text) by NVRTC (libnvrtc.so.13, opened at run time) per target
 *   architecture, through a content-addressed kernel cache.
 *
 * Kernels are generic over shapes (shapes travel in the parameter struct), so one compiled
 * family serves every model: the cache makes the second build of anything near instant.
 * The lean runtime knows no op: it loads the images, patches device addresses into the
 * parameter bytes and launches (engine_format.h, ENGINE version 4).
 *
 * Families: a family is one kernels/cuda/<family>.cu (plus its <family>_params.h), compiled
 * as one module per architecture. Each family's lowering lives in src/codegen/lower_<family>.c
 * and exports a table of cg_op (joined in src/codegen/lower.c, as kernels/host/registry.c
 * joins the host kernels). */
#ifndef O2P_CODEGEN_H
#define O2P_CODEGEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "host/host_kernels.h"

#define CG_MAX_PARAM_BYTES 4096u
#define CG_MAX_PATCHES 32
/* The tensor index of a patch that points into the layer's workspace (scratch memory the
 * context keeps after the arena; the lowering asks for it with cg_emit_workspace). */
#define CG_TENSOR_WORKSPACE (-2)
/* A constant of the layer's own that its lowering builds (a lookup table from attributes):
 * cg_emit_constant returns CG_TENSOR_CONSTANT(k) to patch with; the builder makes it a
 * weights tensor of the plan, read by the layer as a TENSOR attribute. */
#define CG_TENSOR_CONSTANT_BASE (-16)
#define CG_TENSOR_CONSTANT(k) (CG_TENSOR_CONSTANT_BASE - (k))
#define CG_MAX_LAYER_CONSTANTS 8

/* ---------------------------------------------------------------- launches */

typedef enum cg_launch_kind {
    CG_LAUNCH_KERNEL = 0, /* cuLaunchKernel(family module's `function`, grid, block, smem,
                             the parameter bytes) */
    CG_LAUNCH_COPY = 1,   /* cuMemcpyDtoDAsync; params = cg_copy_params */
    CG_LAUNCH_MEMSET = 2, /* cuMemsetD8Async;   params = cg_memset_params */
    /* Library calls (tactic sources other than builtin; DESIGN.md §2, §5): the runtime opens
     * the library when the engine has such launches and refuses the plan naming it when it
     * cannot. family and function are "", grid and block 1, smem 0. */
    CG_LAUNCH_CUBLAS_GEMM = 3,     /* cublasGemmStridedBatchedEx; params = cg_blas_gemm_params */
    CG_LAUNCH_CUBLASLT_MATMUL = 4, /* cublasLtMatmul; params = cg_blas_gemm_params */
    CG_LAUNCH_CUDNN_CONV = 5       /* cudnnConvolutionForward; params = cg_dnn_conv_params */
} cg_launch_kind;

typedef struct cg_copy_params {
    uint64_t dst_ptr;
    uint64_t src_ptr;
    uint64_t bytes;
} cg_copy_params;

typedef struct cg_memset_params {
    uint64_t dst_ptr;
    uint64_t bytes;
    uint64_t value; /* the byte value, 0..255 */
} cg_memset_params;

/* Compute types of the library calls (cg_blas_gemm_params.compute). */
#define CG_BLAS_COMPUTE_32F 0      /* float accumulation, exact fp32 products */
#define CG_BLAS_COMPUTE_32F_TF32 1 /* float accumulation, tf32 tensor cores (allow_tf32 only) */

/* One GEMM (or a strided batch of them) exactly as cuBLAS takes it: COLUMN-major operands.
 * A row-major Y[M,N] = A[M,K] B[K,N] is the column-major Y^T = B^T A^T: m = N, n = M, the
 * operands swapped (the lowering does this; the runtime passes the fields through).
 *   C[i] = alpha * op(A[i]) op(B[i]) + beta * C[i],  i < batch,
 * op(A[i]) is m x k (A stored k x m when trans_a), op(B[i]) k x n, C[i] m x n with leading
 * dimension ldc; X[i] starts stride_x elements after X[i-1] (0: the same matrix). Types are
 * o2p_dtype values (float, float16, bfloat16; a, b and c the same); alpha and beta are floats
 * (the scale type is float for every type). cublasLt uses workspace_bytes at workspace_ptr
 * (0 bytes: none); cuBLAS ignores both. Device addresses (a_ptr, b_ptr, c_ptr,
 * workspace_ptr) are patches. The reader computes the bytes each operand spans from these
 * fields and refuses the launch when they leave the patched tensor. */
typedef struct cg_blas_gemm_params {
    uint64_t a_ptr;
    uint64_t b_ptr;
    uint64_t c_ptr;
    uint64_t workspace_ptr;
    uint64_t workspace_bytes;
    int64_t stride_a;
    int64_t stride_b;
    int64_t stride_c;
    int32_t m, n, k;
    int32_t lda, ldb, ldc;
    int32_t batch;
    uint32_t trans_a; /* 0: N, 1: T */
    uint32_t trans_b;
    uint32_t dtype;   /* o2p_dtype of A, B and C */
    uint32_t compute; /* CG_BLAS_COMPUTE_* */
    float alpha;
    float beta;
    uint32_t reserved; /* 0 */
} cg_blas_gemm_params;

/* A 2-D forward convolution as cuDNN takes it (cross-correlation, NCHW, fully packed):
 * y[n,k,p,q] = alpha * sum x[n, c, p*stride_h - pad_h + r*dil_h, ...] w[k, c, r, s] + beta * y,
 * x: n x c x h x w, w: k x (c/groups) x r x s, y: n x k x p x q (p, q from the geometry:
 * (h + 2 pad_h - dil_h (r-1) - 1) / stride_h + 1). Symmetric padding only (cuDNN's). The
 * algorithm is picked at context create among those needing at most workspace_bytes at
 * workspace_ptr. A bias is a separate elementwise launch. Device addresses: x_ptr, w_ptr,
 * y_ptr, workspace_ptr (patches). */
typedef struct cg_dnn_conv_params {
    uint64_t x_ptr;
    uint64_t w_ptr;
    uint64_t y_ptr;
    uint64_t workspace_ptr;
    uint64_t workspace_bytes;
    int32_t n, c, h, w;
    int32_t k, r, s;
    int32_t p, q;
    int32_t pad_h, pad_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t groups;
    uint32_t dtype; /* o2p_dtype of x, w and y: float or float16 */
    float alpha;
    float beta;
    uint32_t compute; /* CG_BLAS_COMPUTE_*: TF32 lets cuDNN use tf32 tensor cores (float) */
} cg_dnn_conv_params;

/* A device address the runtime writes into the parameter bytes at param_offset (8 bytes):
 * the address of `tensor` (an index in the engine's tensor table, or CG_TENSOR_WORKSPACE)
 * plus byte_offset. */
typedef struct cg_patch {
    uint32_t param_offset;
    int32_t tensor;
    uint64_t byte_offset;
} cg_patch;

typedef struct cg_launch {
    cg_launch_kind kind;
    const char *family;   /* KERNEL: the family ("elementwise"); "" otherwise */
    const char *function; /* KERNEL: the extern "C" kernel name; "" otherwise */
    uint32_t grid[3];
    uint32_t block[3];
    uint32_t smem; /* dynamic shared memory bytes */
    uint32_t param_size;
    unsigned char params[CG_MAX_PARAM_BYTES];
    int num_patches;
    cg_patch patches[CG_MAX_PATCHES];
} cg_launch;

/* Where a lowering appends its launches. Errors stick: after the first failure every call
 * is a no-op and cg_emit_status returns it. */
typedef struct cg_constant {
    void *bytes; /* malloc'ed copy */
    uint64_t size;
} cg_constant;

typedef struct cg_emit {
    cg_launch *launches; /* malloc'ed */
    int count;
    int cap;
    uint64_t workspace; /* bytes of workspace the layer needs */
    cg_constant constants[CG_MAX_LAYER_CONSTANTS];
    int num_constants;
    o2p_status status;
} cg_emit;

void cg_emit_init(cg_emit *e);
void cg_emit_free(cg_emit *e);
o2p_status cg_emit_status(const cg_emit *e);

/* Appends a kernel launch with a copy of params (param_size <= CG_MAX_PARAM_BYTES); returns
 * it (to add patches) or NULL on failure. grid/block entries of 0 are refused. */
cg_launch *cg_emit_kernel(cg_emit *e, const char *family, const char *function,
                          const uint32_t grid[3], const uint32_t block[3], uint32_t smem,
                          const void *params, uint32_t param_size);
/* Marks the 8 bytes at param_offset of launch l as the device address of tensor + offset. */
void cg_launch_ptr(cg_emit *e, cg_launch *l, uint32_t param_offset, int tensor,
                   uint64_t byte_offset);
/* Appends a device-to-device copy / a byte memset. */
void cg_emit_copy(cg_emit *e, int dst_tensor, uint64_t dst_offset, int src_tensor,
                  uint64_t src_offset, uint64_t bytes);
void cg_emit_memset(cg_emit *e, int dst_tensor, uint64_t dst_offset, uint64_t bytes,
                    uint8_t value);
/* Appends a library call (CG_LAUNCH_CUBLAS_GEMM, _CUBLASLT_MATMUL, _CUDNN_CONV) with a copy of
 * its params (cg_blas_gemm_params or cg_dnn_conv_params); returns it (to add patches with
 * cg_launch_ptr) or NULL on failure. */
cg_launch *cg_emit_library(cg_emit *e, cg_launch_kind kind, const void *params,
                           uint32_t param_size);
/* Adds a constant of the layer's own (a copy of size bytes, 1 or more) and returns the tensor
 * to patch its address with (CG_TENSOR_CONSTANT(k)), or -1 on failure (the error sticks). */
int cg_emit_constant(cg_emit *e, const void *bytes, uint64_t size);
/* Reserves bytes of the layer's workspace (256-byte aligned); returns their offset in it. */
uint64_t cg_emit_workspace(cg_emit *e, uint64_t bytes);

/* A 1-D launch shape for n threads of `block` threads each (grid capped at 2^31-1 blocks;
 * kernels loop with a grid stride). */
void cg_grid_1d(uint64_t n, uint32_t block, uint32_t grid[3], uint32_t blk[3]);

/* ---------------------------------------------------------------- lowering */

/* Precision a tactic computes in (what builder flags allow it). */
typedef enum cg_precision {
    CG_PREC_NATIVE = 0, /* the tensors' own types (float in fp32 FMA) */
    CG_PREC_TF32 = 1,   /* float tensors, tf32 tensor cores (O2P_FLAG_TF32, on by default) */
    CG_PREC_FP16 = 2,   /* float tensors computed in fp16 (O2P_FLAG_FP16) */
    CG_PREC_BF16 = 3    /* float tensors computed in bf16 (O2P_FLAG_BF16) */
} cg_precision;

/* What the build allows, as the lowering sees it. */
typedef struct cg_options {
    int min_cc;     /* the lowest compute capability among the targets (major*10+minor) */
    int max_cc;     /* the highest */
    int allow_tf32; /* O2P_FLAG_TF32 */
    int allow_fp16; /* O2P_FLAG_FP16 */
    int allow_bf16; /* O2P_FLAG_BF16 */
    uint32_t tactic_sources; /* O2P_TACTIC_SOURCE_* mask the build allows */
} cg_options;

/* A layer to lower: its op with tensors as the host kernels see them (args.inputs[i] has
 * dtype, rank and dims; data is set for constant (WEIGHTS) inputs only, which the lowering
 * may read, e.g. Reshape's shape or Pad's pads; NULL otherwise), plus each tensor's index
 * in the engine's tensor table (-1 for omitted optional ones). TENSOR attributes' tensors
 * have data and their index in attr_tensors (-1 for other attributes). */
typedef struct cg_layer {
    host_kernel_args args;
    const int *input_tensors;
    const int *output_tensors;
    const int *attr_tensors;
    /* Per output: -1 when its shape is static; else the index of an int64 [rank] tensor the
     * builder allocates next to it, into which the kernel writes the output's actual dims
     * at run time (data-dependent shapes: the output itself is allocated at its bound and
     * written packed for the actual dims). NULL: every output is static. */
    const int *output_shape_tensors;
} cg_layer;

/* A candidate tactic, as the selector filters it (builder/tactics.c). */
typedef struct cg_tactic {
    const char *kernel;  /* what inspect shows, e.g. "cuda.gemm.mma_tf32_64x64" */
    const char *source;  /* "builtin", "cublas", "cublaslt", "cudnn" */
    int min_cc;          /* lowest compute capability it runs on (80 for mma.sync bf16) */
    int arch_specific;   /* 1: needs sm_XYa instructions (wgmma, TMA) */
    uint32_t smem_bytes; /* shared memory per block, static + dynamic */
    uint64_t workspace;  /* scratch bytes */
    cg_precision precision;
    double cost;         /* estimated seconds on the lowest target (the cost model) */
    int id;              /* private to the family's lower() */
} cg_tactic;

typedef struct cg_op {
    const char *op_type; /* of its family's domain (lower.c); unique across the domains */
    /* Writes up to cap candidates for this layer into out and returns their count (0: no
     * kernel handles these types/attributes; *why, when set, says what is missing). */
    int (*candidates)(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                      const char **why);
    /* Appends the launches that run the layer with tactic t. Checks what it relies on (dtypes,
     * ranks, attribute values) and fails with O2P_ERR_UNSUPPORTED / O2P_ERR_SHAPE naming the
     * layer, as a host kernel would. */
    o2p_status (*lower)(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                        cg_emit *e);
} cg_op;

/* The op's lowering, or NULL when no CUDA kernel handles it. cg_op_find takes the op type
 * alone (op types are unique across the domains with kernels, host_kernel_domain);
 * cg_op_lookup takes (domain, op type) and finds nothing for an op of another domain. */
const cg_op *cg_op_find(const char *op_type);
const cg_op *cg_op_lookup(const char *domain, const char *op_type);
int cg_op_count(void);
const cg_op *cg_op_at(int index);

/* Each family's lowering defines its table; lower.c joins them. A family that is not
 * written yet defines an empty table. */
extern const cg_op cg_elementwise_ops[];
extern const int cg_elementwise_op_count;
extern const cg_op cg_extra_ops[];
extern const int cg_extra_op_count;
extern const cg_op cg_gemm_ops[];
extern const int cg_gemm_op_count;
extern const cg_op cg_nn_ops[];
extern const int cg_nn_op_count;
extern const cg_op cg_signal_ops[];
extern const int cg_signal_op_count;
extern const cg_op cg_rnn_ops[];
extern const int cg_rnn_op_count;
extern const cg_op cg_select_ops[];
extern const int cg_select_op_count;
extern const cg_op cg_tensor_ops[];
extern const int cg_tensor_op_count;
extern const cg_op cg_text_ops[];
extern const int cg_text_op_count;
/* HOST_DOMAIN_TRAINING's ops (the optimizers). */
extern const cg_op cg_training_ops[];
extern const int cg_training_op_count;

/* Checks and messages the lowerings share (lower_util.c), worded as the host kernels'. */
const char *cg_layer_name(const cg_layer *l);
/* O2P_ERR_SHAPE "layer '<name>' (<op>): <message>", as host_error. */
o2p_status cg_layer_error(const cg_layer *l, const char *fmt, ...) O2P_PRINTF(2, 3);
/* O2P_ERR_UNSUPPORTED naming the element type and pointing to the host target. */
o2p_status cg_unsupported_dtype(const cg_layer *l, o2p_dtype t);
/* O2P_ERR_UNSUPPORTED: the kernel needs `what` as a constant at build time. */
o2p_status cg_not_constant(const cg_layer *l, const char *what);
/* A tensor header a kernel can index: rank <= O2P_CU_MAX_RANK, dims whose product (and that
 * of the non-zero ones) stays under 2^59; `kind` i (`what`) names it in the message. */
o2p_status cg_check_tensor(const cg_layer *l, const host_tensor *t, const char *kind, int i,
                           const char *what);

/* A one-candidate helper for ops with a single builtin kernel: {kernel, "builtin", 80, 0,
 * smem, 0, CG_PREC_NATIVE, cost}. */
cg_tactic cg_simple_tactic(const char *kernel, uint32_t smem_bytes, double cost);

/* ---------------------------------------------------------------- compiling */

/* The embedded kernel sources: a family's .cu text, or NULL when there is no such family;
 * every header of kernels/cuda/ (name, text) for NVRTC's include resolution. */
const char *cg_family_source(const char *family);
int cg_header_count(void);
const char *cg_header_name(int index);
const char *cg_header_text(int index);

typedef enum cg_image_kind { CG_IMAGE_SASS = 0, CG_IMAGE_PTX = 1 } cg_image_kind;

typedef struct cg_compile_options {
    const char *cache_dir; /* NULL: $XDG_CACHE_HOME/onnx2plan/kernels, else
                              $HOME/.cache/onnx2plan/kernels; "" disables the cache */
    int verbose;           /* log compiles and cache hits at O2P_SEVERITY_INFO */
} cg_compile_options;

/* Compiles a family for one architecture: SASS (a cubin for sm_<arch>, e.g. arch 90) or PTX
 * (for compute_<arch>). Looks in the cache first (key: a hash of the source, every header,
 * the NVRTC version, the architecture, the kind and the options); writes what it compiles
 * there under a temporary name and renames it, so concurrent builds are safe. *image is
 * malloc'ed. Fails with O2P_ERR_UNSUPPORTED when NVRTC cannot be loaded (the message names
 * libnvrtc.so.13 and says to install the CUDA toolkit or set LD_LIBRARY_PATH) and with the
 * NVRTC log when the compile fails. */
o2p_status cg_compile(const char *family, int arch, cg_image_kind kind,
                      const cg_compile_options *opt, void **image, size_t *size);
/* Whether NVRTC can be loaded; the architectures (major*10+minor) it compiles for into
 * archs (at most cap), count returned; -1 with an error when it cannot be loaded. */
int cg_nvrtc_archs(int *archs, int cap);
/* Compiles source text (called `name` in NVRTC's log, e.g. "broken.cu") with the embedded
 * headers as cg_compile does on a cache miss, without the cache: for sources that are not
 * families (tests, timing). Fails with O2P_ERR_INTERNAL and the NVRTC log when it does not
 * compile. A PTX image is NUL-terminated text and *size counts the NUL. */
o2p_status cg_compile_source(const char *name, const char *source, int arch, cg_image_kind kind,
                             void **image, size_t *size);
/* How many NVRTC compiles and kernel-cache hits cg_compile has had in this process. */
void cg_compile_stats(int *compiles, int *hits);

/* SHA-256 (FIPS 180-4), incremental: the kernel cache's key. */
typedef struct cg_sha256 {
    uint32_t state[8];
    uint64_t bytes;
    unsigned char block[64];
} cg_sha256;
void cg_sha256_init(cg_sha256 *h);
void cg_sha256_update(cg_sha256 *h, const void *data, size_t size);
void cg_sha256_final(cg_sha256 *h, unsigned char digest[32]);

/* The kernel cache folder for opt (malloc'ed), or NULL when the cache is disabled ("") or no
 * folder can be named (no $HOME; a warning). */
char *cg_cache_dir(const cg_compile_options *opt);
/* The cache entry of dir named label-<hex key>: 1 with *image (malloc'ed) and *size when it
 * is there and intact (magic, key, size and checksum agree); 0 otherwise. A damaged entry is
 * never used: it is reported as a warning and the caller's store replaces it. */
int cg_cache_load(const char *dir, const char *label, const unsigned char key[32], void **image,
                  size_t *size);
/* Writes the entry (creating dir with its parents, mode 0700) under a temporary name in dir
 * and renames it into place, so readers never see a partial entry and concurrent writers of
 * the same key both succeed. Failure is a warning (once per process): the build goes on. */
void cg_cache_store(const char *dir, const char *label, const unsigned char key[32],
                    const void *image, size_t size);

#endif
