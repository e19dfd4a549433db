/* engine_format.h: the ENGINE section's bytes, version 6. The format is private to the lean
 * runtime that wrote it (DESIGN.md §4): the plan writer (src/plan/engine_writer.c) produces
 * it from the builder's engine description, the lean runtime (src/lean/) reads it, and a
 * newer onnx2plan reads an older plan's ENGINE only through that plan's own lean runtime.
 * Any change to the layout bumps ENGINE_FORMAT_VERSION.
 *
 * All integers little-endian, fixed width, written and read byte by byte. `str` is a u32
 * byte length followed by that many bytes (no terminator; a NUL byte inside is invalid).
 * Offsets are relative to the start of the ENGINE section.
 *
 *   u32  magic            ENGINE_MAGIC ("O2PE")
 *   u32  version          ENGINE_FORMAT_VERSION
 *   u32  target           ENGINE_TARGET_HOST (0) or ENGINE_TARGET_CUDA (1)
 *   u32  flags            0 (reserved, must be zero)
 *   u64  arena_size       bytes of the activation arena a context allocates
 *   u64  weights_offset   start of the weights blob; a multiple of ENGINE_WEIGHTS_ALIGN
 *   u64  weights_size     bytes of the weights blob, which ends the section exactly
 *   u64  workspace_size   (version 3) bytes of scratch a context keeps after its arena for
 *                         the layers' launches and plugin layers' enqueue_cuda (cuda; 0 on
 *                         the host target); a cuda plugin layer's workspace fits in it
 *   u32  num_tensors, then per tensor:
 *        str  name
 *        u32  dtype          an o2p_dtype with a non-zero element size
 *        u32  rank           <= O2P_MAX_RANK
 *        i64  dims[rank]     each >= 0; a data-dependent dim holds its bound
 *        u32  dd_mask        (version 6) bit d set: dim d is data-dependent (its actual value,
 *                            <= the bound in dims[d], is known only after the writing layer
 *                            runs); bits at or above rank are 0. Such a tensor is written by a
 *                            native layer, read by no layer, never WEIGHTS nor an engine input:
 *                            an engine output (storage IO) or an ARENA tensor nobody reads.
 *                            Its bytes are allocated at the bound and written packed,
 *                            row-major, for the actual dims.
 *        i32  shape_tensor   (version 6) -1 when dd_mask is 0 and on the host target (the host
 *                            kernel reports the dims); cuda with dd_mask set: the index of
 *                            another tensor, INT64, rank 1, dims [rank], storage ARENA, no io
 *                            bit, no dd_mask, the shape tensor of this one tensor only, which
 *                            no layer lists as input or output: the writing layer's launches
 *                            store the actual dims there (their patches may address it, as
 *                            one of the layer's outputs, and it overlaps none of the layer's
 *                            arena inputs and outputs); the runtime copies it to the host
 *                            after that layer (docs/data-dependent-shapes.md)
 *        u32  io             bit 0: engine input, bit 1: engine output
 *        u32  storage        ENGINE_STORAGE_ARENA / _WEIGHTS / _IO
 *        u64  offset         in the arena (ARENA) or the weights blob (WEIGHTS); 0 for IO
 *        u64  nbytes         = product(dims) * element size, exactly
 *   u32  num_layers, then per layer, in execution order:
 *        str  name
 *        str  op_type        an ONNX op type with a kernel (unique across the domains that
 *                             have kernels: the default and ai.onnx.preview.training)
 *        i64  opset          the default-domain opset the layer follows (for every layer)
 *        u32  num_inputs,  i32 tensor index per input  (-1: omitted optional input)
 *        u32  num_outputs, i32 tensor index per output (-1: omitted optional output)
 *        str  tactic_source  e.g. "builtin"
 *        str  tactic_kernel  e.g. "host.Conv"
 *        u32  smem_bytes     shared memory per block the kernel uses (0 on host)
 *        u32  arch_specific  1 when the kernel uses arch-specific instructions
 *        u32  num_attrs, then per attribute:
 *             str  name
 *             u32  type        an o2p_attr_type: INT FLOAT STRING INTS FLOATS STRINGS TENSOR
 *             INT: i64 | FLOAT: f32 (IEEE bits) | STRING: str
 *             INTS: u32 n, i64[n] | FLOATS: u32 n, f32[n] | STRINGS: u32 n, str[n]
 *             TENSOR: i32 index of a WEIGHTS tensor in the tensor table
 *        u32  plugin       0: a native layer (its op's kernel runs it), 1: a plugin layer,
 *                          then (plugin layers only; version 2):
 *             str  plugin_name       the creator's name (include/o2p/plugin.h)
 *             str  plugin_version    the creator's version ("" allowed)
 *             str  plugin_namespace  the creator's namespace ("" allowed)
 *             str  plugin_library    file name of the library it came from (messages only)
 *             u32  n, then n bytes   what the creator's serialize() wrote (<=
 ENGINE_MAX_PLUGIN_DATA)
 *             u64  workspace         bytes of scratch enqueue_host gets (<=
 ENGINE_MAX_PLUGIN_WORKSPACE)
 *        A plugin layer's tactic is {"plugin", "plugin.<name>"}; its creator is found at load
 *        by (name, version, namespace) through the loader's plugin lookup (a registry).
 *        u32  num_launches  (version 3) 0 on the host target; on the cuda target what runs
 *                           the layer, in order (src/codegen/codegen.h, cg_launch):
 *             u32  kind         0 KERNEL, 1 COPY, 2 MEMSET; (version 4) library calls:
                               3 CUBLAS_GEMM, 4 CUBLASLT_MATMUL, 5 CUDNN_CONV
 *             str  family       KERNEL: the kernel family (an image's family); "" otherwise
 *             str  function     KERNEL: the kernel's name in that family; "" otherwise
 *             u32  grid[3], block[3]   KERNEL: each >= 1 (block product <= 1024); 1 otherwise
 *             u32  smem         KERNEL: dynamic shared memory bytes; 0 otherwise
 *             u32  param_size, then param_size bytes (<= ENGINE_MAX_PARAM_BYTES): the kernel's
 *                  parameter buffer; COPY: u64 dst, u64 src, u64 bytes; MEMSET: u64 dst,
 *                  u64 bytes, u64 value (<= 255)
 *             u32  num_patches (<= ENGINE_MAX_PATCHES), then per patch:
 *                  u32 param_offset   8-byte aligned, param_offset + 8 <= param_size
 *                  i32 tensor         a tensor index, or -2: the workspace
 *                  u64 byte_offset    <= that tensor's nbytes (the workspace's size)
 *                  the runtime writes the device address of tensor + byte_offset there.
 *                  COPY has patches at 0 (dst) and 8 (src), MEMSET at 0 (dst); their byte
 *                  ranges must lie inside the tensors; dst never an engine input or WEIGHTS.
             Library calls (version 4; codegen.h has the records and their meaning): family
             and function "", grid and block 1, smem 0; params a cg_blas_gemm_params (120
             bytes: u64 a, b, c, workspace, workspace_bytes; i64 stride_a, stride_b, stride_c;
             i32 m, n, k, lda, ldb, ldc, batch; u32 trans_a, trans_b, dtype, compute; f32
             alpha, beta; u32 0) for CUBLAS_GEMM and CUBLASLT_MATMUL, a cg_dnn_conv_params
             (120 bytes: u64 x, w, y, workspace, workspace_bytes; i32 n, c, h, w, k, r, s, p,
             q, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w, groups; u32 dtype; f32 alpha,
             beta; u32 compute) for CUDNN_CONV; compute 0 fp32, 1 tf32 (float only). Patches exactly
 at the address fields (workspace only when workspace_bytes > 0, then a workspace patch); every size
 >= 1 and the ints fit the library's (32-bit) arguments; dtype float, float16 or bfloat16 (cudnn:
 float or float16) and the dtype of every tensor patched; the byte range each operand spans,
 computed from the dims, leading dimensions, strides and batch (overflow-checked), lies inside its
 patched tensor and the workspace range inside the workspace; the written operand (c, y) is one of
 the layer's outputs or the workspace. The plan header's tactic_sources lists the libraries; a
 runtime that cannot load one refuses the engine at create naming it.
 *        Control-flow layers (version 5; op_type If, Loop or Scan, and only those) carry
 *        their bodies after the launches (docs/control-flow.md):
 *        u32  num_bodies     If: 2 (then_branch, else_branch); Loop and Scan: 1 (body)
 *             per body:
 *             u32  num_layers   the body's layers are the next num_layers layers of the
 *                               table (body 0's right after the control layer, body 1's
 *                               after them), nested bodies' layers included; the main
 *                               sequence skips them: only their control layer runs them
 *             u32  num_inputs,  i32 tensor index per body input: ARENA tensors with no io
 *                               bit, written by no layer (the control layer fills them
 *                               before each run of the body: a slice, a loop-carried value,
 *                               the iteration number or the condition)
 *             u32  num_outputs, i32 tensor index per body output: any tensor readable when
 *                               the body ends (weights, an engine input, a body input, or
 *                               written by a layer before the body's end)
 *        A body reads outer-scope tensors by their index in this one table: the builder
 *        lists every tensor a body reads from outside it among its control layer's inputs
 *        too (after the op's own inputs), so liveness keeps them alive. GRAPH attributes
 *        are not written: num_attrs counts the others.
 *   u32  num_inputs,  i32 tensor index per engine input  (storage IO, io bit 0)
 *   u32  num_outputs, i32 tensor index per engine output (io bit 1; storage IO, or WEIGHTS
 *                     for an output the builder folded to a constant)
 *   u32  num_images   (version 3) 0 on the host target; on the cuda target the compiled
 *                     kernel families, per image:
 *        str  family
 *        u32  kind         0 SASS (a cubin), 1 PTX (NUL-free text)
 *        u32  arch         major*10+minor: sm_<arch> for SASS, compute_<arch> for PTX
 *        u32  arch_specific 1: an sm_<arch>a image (wgmma, TMA), runs on exactly that arch
 *        u32  size, then size bytes (<= ENGINE_MAX_IMAGE)
 *        The runtime loads, per family, the best image for the device: SASS of its exact
 *        compute capability, else SASS of its major and the highest minor not above its own,
 *        else the PTX of the highest arch not above it; no image usable: the plan is refused
 *        at deserialization naming the device's compute capability and the plan's.
 *   zero bytes up to weights_offset, then the weights blob (each tensor's bytes at its
 *   offset, every offset a multiple of ENGINE_WEIGHTS_ALIGN).
 *
 * Rules a reader enforces before running anything: every count fits in the bytes left;
 * every index is in range; every tensor read by a layer is an engine input, a WEIGHTS
 * tensor, or written by an earlier layer; every ARENA/WEIGHTS range lies inside the arena /
 * blob (overflow-checked); every native layer's op has a kernel in this lean runtime and
 * every plugin layer's creator is found (otherwise an error naming the op or the plugin and
 * the layer); nothing left over between the tables and
 * weights_offset but zeros. */
#ifndef O2P_ENGINE_FORMAT_H
#define O2P_ENGINE_FORMAT_H

#define ENGINE_MAGIC 0x4550324Fu /* "O2PE" read as a little-endian u32 */
/* O2P_ENGINE_FORMAT_BUMP (a CMake option, 0 normally) lets the compatibility tests build a
 * runtime whose ENGINE format differs from this one's. */
#ifndef O2P_ENGINE_FORMAT_BUMP
#define O2P_ENGINE_FORMAT_BUMP 0
#endif
/* 1: the first; 2: the plugin record after a layer's attributes; 3: workspace_size, launches
 * per layer and kernel images (the cuda target); 4: library-call launches (cuBLAS, cuBLASLt,
 * cuDNN); 5: the bodies of If, Loop and Scan layers; 6: data-dependent dims (dd_mask and
 * shape_tensor per tensor). */
#define ENGINE_FORMAT_VERSION (6u + (unsigned)(O2P_ENGINE_FORMAT_BUMP))
#define ENGINE_WEIGHTS_ALIGN 256u

#define ENGINE_TARGET_HOST 0u
#define ENGINE_TARGET_CUDA 1u

#define ENGINE_IO_INPUT 1u
#define ENGINE_IO_OUTPUT 2u

#define ENGINE_STORAGE_ARENA 0u   /* activation: at `offset` in the context's arena */
#define ENGINE_STORAGE_WEIGHTS 1u /* constant: at `offset` in the weights blob */
#define ENGINE_STORAGE_IO 2u      /* engine input or output: memory the caller binds */

/* Limits a reader enforces (documented in docs/limits.md once plans exist). */
#define ENGINE_MAX_TENSORS (1u << 24)
#define ENGINE_MAX_LAYERS (1u << 24)
#define ENGINE_MAX_ATTRS 4096u
#define ENGINE_MAX_LIST (1u << 24)
#define ENGINE_MAX_STRING (1u << 20)
#define ENGINE_MAX_PLUGIN_DATA (16u << 20)
#define ENGINE_MAX_PLUGIN_WORKSPACE ((uint64_t)1 << 40)
#define ENGINE_MAX_LAUNCHES 4096u        /* per layer */
#define ENGINE_MAX_PARAM_BYTES 4096u     /* = CG_MAX_PARAM_BYTES */
#define ENGINE_MAX_PATCHES 32u           /* = CG_MAX_PATCHES */
#define ENGINE_MAX_IMAGES 1024u
#define ENGINE_MAX_IMAGE (256u << 20)
#define ENGINE_MAX_WORKSPACE ((uint64_t)1 << 40)
#define ENGINE_MAX_BODIES 2u     /* per control-flow layer (If's two branches) */
#define ENGINE_MAX_BODY_IO 4096u /* inputs or outputs of one body */

#define ENGINE_LAUNCH_KERNEL 0u
#define ENGINE_LAUNCH_COPY 1u
#define ENGINE_LAUNCH_MEMSET 2u
#define ENGINE_LAUNCH_CUBLAS_GEMM 3u
#define ENGINE_LAUNCH_CUBLASLT_MATMUL 4u
#define ENGINE_LAUNCH_CUDNN_CONV 5u
#define ENGINE_LAUNCH_LAST 5u
#define ENGINE_LIBRARY_PARAM_BYTES 120u /* cg_blas_gemm_params, cg_dnn_conv_params */
#define ENGINE_BLAS_COMPUTE_32F 0u      /* = CG_BLAS_COMPUTE_32F */
#define ENGINE_BLAS_COMPUTE_TF32 1u     /* = CG_BLAS_COMPUTE_32F_TF32 */
/* Byte offsets of the library records' fields (codegen.h's cg_blas_gemm_params and
 * cg_dnn_conv_params; emit.c checks them). */
enum {
    ENGINE_BG_A = 0,
    ENGINE_BG_B = 8,
    ENGINE_BG_C = 16,
    ENGINE_BG_WS = 24,
    ENGINE_BG_WS_BYTES = 32,
    ENGINE_BG_STRIDE_A = 40,
    ENGINE_BG_STRIDE_B = 48,
    ENGINE_BG_STRIDE_C = 56,
    ENGINE_BG_M = 64,
    ENGINE_BG_N = 68,
    ENGINE_BG_K = 72,
    ENGINE_BG_LDA = 76,
    ENGINE_BG_LDB = 80,
    ENGINE_BG_LDC = 84,
    ENGINE_BG_BATCH = 88,
    ENGINE_BG_TRANS_A = 92,
    ENGINE_BG_TRANS_B = 96,
    ENGINE_BG_DTYPE = 100,
    ENGINE_BG_COMPUTE = 104,
    ENGINE_BG_ALPHA = 108,
    ENGINE_BG_BETA = 112,
    ENGINE_BG_RESERVED = 116
};
/* cg_dnn_conv_params offsets */
enum {
    ENGINE_DC_X = 0,
    ENGINE_DC_W = 8,
    ENGINE_DC_Y = 16,
    ENGINE_DC_WS = 24,
    ENGINE_DC_WS_BYTES = 32,
    ENGINE_DC_N = 40,
    ENGINE_DC_C = 44,
    ENGINE_DC_H = 48,
    ENGINE_DC_WD = 52,
    ENGINE_DC_K = 56,
    ENGINE_DC_R = 60,
    ENGINE_DC_S = 64,
    ENGINE_DC_P = 68,
    ENGINE_DC_Q = 72,
    ENGINE_DC_PAD_H = 76,
    ENGINE_DC_PAD_W = 80,
    ENGINE_DC_STRIDE_H = 84,
    ENGINE_DC_STRIDE_W = 88,
    ENGINE_DC_DIL_H = 92,
    ENGINE_DC_DIL_W = 96,
    ENGINE_DC_GROUPS = 100,
    ENGINE_DC_DTYPE = 104,
    ENGINE_DC_ALPHA = 108,
    ENGINE_DC_BETA = 112,
    ENGINE_DC_COMPUTE = 116
};
#define ENGINE_IMAGE_SASS 0u
#define ENGINE_IMAGE_PTX 1u
#define ENGINE_PATCH_WORKSPACE (-2)

#endif
