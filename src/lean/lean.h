/* lean.h: the lean runtime: an engine read from an ENGINE section (src/plan/engine_format.h,
 * version 6) and execution contexts that run it: host engines with the host reference
 * kernels, cuda engines through the CUDA driver API (cuda_exec.c; DESIGN.md §1, §2, §6, §9).
 *
 * Engine: lean_engine_create parses and validates the whole section before anything can run
 * and keeps NUL-terminated copies of every string: the caller may free the section as soon as
 * create returns. Host engines (and tables-only ones) copy the weights blob into their own
 * allocation aligned to 256 bytes; cuda engines upload it to the device once and keep no host
 * copy (their WEIGHTS tensors' and TENSOR attributes' views have data NULL). A cuda engine
 * loads, at create, the best kernel image per family for device 0 and looks up every
 * launch's function, so that a plan that cannot run on this GPU is refused then, never at the
 * first launch. An engine is immutable after create. Besides every rule engine_format.h
 * lists, create holds a section to what running it safely needs:
 * - ARENA offsets are multiples of the element size (up to 8), as kernels load whole
 *   elements; a layer's ARENA outputs overlap none of its inputs or other outputs (the
 *   kernels assume no aliasing; ranges of different layers may overlap: memory reuse);
 * - io is 0, 1 or 2 (never both input and output); ARENA tensors have no io bit; WEIGHTS
 *   tensors may be outputs, never inputs; IO tensors have an io bit and offset 0; every
 *   tensor with an io bit is in the matching list, once; I/O names are non-empty and unique;
 * - a layer writes no WEIGHTS tensor and no engine input; every IO output is written by a
 *   layer; attribute names are unique per layer; opset >= 1; arch_specific is 0 or 1 and, on
 *   the host target, smem_bytes and arch_specific are 0;
 * - launches (cuda): a patch addresses one of its layer's inputs, outputs or TENSOR attribute
 *   tensors, or the workspace; no two patches of a launch share a param_offset; an image is
 *   listed once per (family, kind, arch, arch_specific); a library call (cuBLAS, cuBLASLt,
 *   cuDNN) reads and writes only inside its patched tensors, as computed from its record;
 *   the libraries the launches call are opened at create (cuda_libs.h), and one that cannot
 *   be loaded refuses the engine naming it (tables-only engines open none);
 * - plugin layers (cuda): no launches, and a workspace within workspace_size (a plugin's
 *   workspace is a part of the context's device workspace);
 * - the op's kernel (host), the plugins' creators, then the device and images (cuda) are
 *   looked up last, so that every other rule is checked (and testable) without kernels or a
 *   GPU.
 *
 * Threads: one engine, many contexts. Contexts share their engine read-only and never write
 * to it, so any number of contexts of one engine may execute at the same time on different
 * threads; one context is used by one thread at a time (it holds the activation arena and
 * the tensor bindings). Destroy every context before its engine. Every entry point that
 * touches the device makes device 0's primary context current on the calling thread.
 *
 * Errors: every fallible call returns an o2p_status and leaves a message in o2p_last_error()
 * that names the section (`what`, e.g. the plan path), the record at fault and the reason.
 * Getters take an index and return NULL / -1 / 0 when it is out of range. */
#ifndef O2P_LEAN_H
#define O2P_LEAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "host/host_kernels.h"
#include "o2p/plugin.h"

typedef struct lean_engine lean_engine;
typedef struct lean_context lean_context;

/* ---------------------------------------------------------------- engine */

/* Finds the kernel for an op of the default domain, or NULL (host_kernel_find is the one the
 * runtime uses; tests and a later plugin host pass their own). */
typedef host_kernel_fn (*lean_kernel_lookup)(const char *op_type);

/* Reads an ENGINE section of `size` bytes. `what` names it in messages (NULL: "ENGINE").
 * Refusals: O2P_ERR_PARSE for a malformed section; O2P_ERR_LIMIT for a count or string
 * over an ENGINE_MAX_* limit; O2P_ERR_UNSUPPORTED for another format version, an unknown
 * target, a host layer whose op has no kernel in this lean runtime, a plugin layer whose
 * creator is not found or has no code this target runs (host: enqueue_host; cuda:
 * enqueue_cuda or enqueue_host), and (cuda) no driver or GPU, no kernel image this GPU can
 * load, or a library the launches call (libcublas.so.13, libcublasLt.so.13, libcudnn.so.9)
 * that cannot be loaded;
 * O2P_ERR_OUT_OF_MEMORY (host memory, or device memory for the weights). On failure *out is
 * NULL. */
o2p_status lean_engine_create(const void *section, size_t size, const char *what,
                              lean_engine **out);
/* The same with the kernels found through `lookup` (host_kernel_find when NULL). */
o2p_status lean_engine_create_with_kernels(const void *section, size_t size, const char *what,
                                           lean_kernel_lookup lookup, lean_engine **out);
/* Finds the creator of a plan's plugin layer by (name, version, namespace) (version and
 * namespace may be ""), or NULL: a registry the loader was given. */
typedef const o2p_plugin_creator *(*lean_plugin_lookup)(void *user, const char *name,
                                                        const char *version,
                                                        const char *plugin_namespace);
/* The same with plugin layers' creators found through plugin_lookup(user, ...) (NULL: no
 * plugins, so a plan with plugin layers is refused naming the plugin). A creator found must
 * stay loaded as long as the engine. */
o2p_status lean_engine_create_ex(const void *section, size_t size, const char *what,
                                 lean_kernel_lookup kernel_lookup,
                                 lean_plugin_lookup plugin_lookup, void *user,
                                 lean_engine **out);
/* The same with flags: LEAN_CREATE_TABLES_ONLY (lean_abi.h) reads and checks every table
 * but loads nothing onto a device and looks up no kernel or plugin (inspect and check on a
 * machine without a GPU); such an engine answers every query but makes no context. */
o2p_status lean_engine_create_flags(const void *section, size_t size, const char *what,
                                    lean_kernel_lookup kernel_lookup,
                                    lean_plugin_lookup plugin_lookup, void *user, uint32_t flags,
                                    lean_engine **out);
void lean_engine_destroy(lean_engine *engine);

/* Bytes of the activation arena each context allocates ("device memory size"). */
uint64_t lean_engine_arena_size(const lean_engine *engine);
/* ENGINE_TARGET_HOST or ENGINE_TARGET_CUDA. */
uint32_t lean_engine_target(const lean_engine *engine);
/* Bytes of scratch each context keeps after its arena for the launches (cuda; 0 on host). */
uint64_t lean_engine_workspace_size(const lean_engine *engine);
/* Bytes of device memory a context allocates (cuda): the arena rounded up to 256, plus the
 * workspace; on the host target the arena size. */
uint64_t lean_engine_context_memory(const lean_engine *engine);
/* Kernel images (cuda): their count, and image i's family, kind (ENGINE_IMAGE_SASS / _PTX),
 * arch (major*10+minor), arch_specific and size (O2P_ERR_INVALID_ARGUMENT when out of range;
 * any out pointer may be NULL). The image bytes are not kept after create. */
int lean_engine_num_images(const lean_engine *engine);
o2p_status lean_engine_image(const lean_engine *engine, int index, const char **family,
                             uint32_t *kind, uint32_t *arch, uint32_t *arch_specific,
                             uint64_t *size);
/* The index of the image loaded for a family on this device (cuda engines not created
 * tables-only), or -1. */
int lean_engine_loaded_image(const lean_engine *engine, const char *family);

/* ---- I/O tensors: the engine inputs in their order, then the engine outputs in theirs. */
typedef enum lean_io_mode { LEAN_IO_NONE = 0, LEAN_IO_INPUT = 1, LEAN_IO_OUTPUT = 2 } lean_io_mode;

int lean_engine_num_io(const lean_engine *engine);
int lean_engine_num_inputs(const lean_engine *engine);
int lean_engine_num_outputs(const lean_engine *engine);
/* Index of the I/O tensor called name, or -1 (I/O names are unique in an engine). */
int lean_engine_find_io(const lean_engine *engine, const char *name);
const char *lean_engine_io_name(const lean_engine *engine, int io);
lean_io_mode lean_engine_io_mode(const lean_engine *engine, int io);
o2p_dtype lean_engine_io_dtype(const lean_engine *engine, int io);
int lean_engine_io_rank(const lean_engine *engine, int io);
/* The dim, or -1 for a data-dependent one (an output whose dim is known only after a run:
 * lean_context_get_tensor_shape), or -1 out of range. */
int64_t lean_engine_io_dim(const lean_engine *engine, int io, int axis);
/* The dim the tensor is allocated at: its bound when data-dependent, else io_dim. */
int64_t lean_engine_io_max_dim(const lean_engine *engine, int io, int axis);
/* Bytes the caller binds for this tensor (max dims product times the element size). */
uint64_t lean_engine_io_nbytes(const lean_engine *engine, int io);
/* The I/O tensor's index in the tensor table. */
int lean_engine_io_tensor(const lean_engine *engine, int io);

/* ---- every tensor of the table (what layers read and write). */
int lean_engine_num_tensors(const lean_engine *engine);
const char *lean_engine_tensor_name(const lean_engine *engine, int tensor);
o2p_dtype lean_engine_tensor_dtype(const lean_engine *engine, int tensor);
int lean_engine_tensor_rank(const lean_engine *engine, int tensor);
int64_t lean_engine_tensor_dim(const lean_engine *engine, int tensor, int axis); /* bound if
                                                                                   data-dependent */
/* Data-dependent dims (ENGINE format 6): a bit per such axis, 0 for a static shape; the
 * tensor the cuda kernel writes its actual dims into, or -1 (static, or the host target). */
uint32_t lean_engine_tensor_dd_mask(const lean_engine *engine, int tensor);
int lean_engine_tensor_shape_tensor(const lean_engine *engine, int tensor);
uint64_t lean_engine_tensor_nbytes(const lean_engine *engine, int tensor);
/* ENGINE_STORAGE_ARENA / _WEIGHTS / _IO, or -1; and the offset in the arena or blob. */
int lean_engine_tensor_storage(const lean_engine *engine, int tensor);
uint64_t lean_engine_tensor_offset(const lean_engine *engine, int tensor);

/* ---- layers, in execution order (for `onnx2plan inspect PLAN --layers`). */
int lean_engine_num_layers(const lean_engine *engine);
const char *lean_engine_layer_name(const lean_engine *engine, int layer);
const char *lean_engine_layer_op_type(const lean_engine *engine, int layer);
int64_t lean_engine_layer_opset(const lean_engine *engine, int layer);
const char *lean_engine_layer_tactic_source(const lean_engine *engine, int layer);
const char *lean_engine_layer_tactic_kernel(const lean_engine *engine, int layer);
uint32_t lean_engine_layer_smem_bytes(const lean_engine *engine, int layer);
int lean_engine_layer_arch_specific(const lean_engine *engine, int layer);
/* Inputs and outputs as tensor indices (-1: an omitted optional one, or out of range). */
int lean_engine_layer_num_inputs(const lean_engine *engine, int layer);
int lean_engine_layer_input(const lean_engine *engine, int layer, int index);
int lean_engine_layer_num_outputs(const lean_engine *engine, int layer);
int lean_engine_layer_output(const lean_engine *engine, int layer, int index);
int lean_engine_layer_num_attrs(const lean_engine *engine, int layer);
/* Attribute `index` of the layer as the kernels see it (NULL when out of range). */
const host_attr *lean_engine_layer_attr(const lean_engine *engine, int layer, int index);
/* A plugin layer's creator name, version and namespace (NULL for a native layer). */
const char *lean_engine_layer_plugin(const lean_engine *engine, int layer);
const char *lean_engine_layer_plugin_version(const lean_engine *engine, int layer);
const char *lean_engine_layer_plugin_namespace(const lean_engine *engine, int layer);
/* A layer's launches (cuda), for inspect: count, and launch i (NULL when out of range). */
typedef struct lean_launch lean_launch;
int lean_engine_layer_num_launches(const lean_engine *engine, int layer);
const lean_launch *lean_engine_layer_launch(const lean_engine *engine, int layer, int index);

/* ---------------------------------------------------------------- execution context */

/* A context with its own activation arena and no tensor bound: host engines get
 * lean_engine_arena_size bytes, 64-byte aligned, zeroed; cuda engines one device allocation
 * of lean_engine_context_memory bytes (the arena, then the workspace at a 256-byte boundary),
 * every launch's parameter bytes with the arena, weights and workspace addresses already
 * patched in and, when a plugin layer has no enqueue_cuda, host staging memory for the
 * largest such layer's inputs, outputs and workspace. O2P_ERR_OUT_OF_MEMORY when the memory
 * cannot be had (for the device: checked against its free memory first);
 * O2P_ERR_INVALID_ARGUMENT for a tables-only engine. */
o2p_status lean_context_create(const lean_engine *engine, lean_context **out);
void lean_context_destroy(lean_context *ctx);
const lean_engine *lean_context_engine(const lean_context *ctx);

/* Binds the memory of an engine input (read only, never written) or output (written by
 * execute): lean_engine_io_nbytes bytes, aligned at least to the element type's size (up to
 * 8); a device address (CUdeviceptr) for cuda engines, host memory for host engines. NULL
 * unbinds. An unknown name or a tensor that is not an engine input or output is
 * O2P_ERR_INVALID_ARGUMENT naming it. */
o2p_status lean_context_set_tensor_address(lean_context *ctx, const char *name, void *ptr);
/* The address bound to an I/O tensor, or NULL. */
void *lean_context_get_tensor_address(const lean_context *ctx, const char *name);
/* The shape of an I/O tensor (dims: room for its rank, at most O2P_MAX_RANK): static dims
 * as the engine has them; a data-dependent dim of an output as the last run left it (host:
 * when execute returns; cuda: the device-to-host copy enqueued right after the layer that
 * writes it, so valid once the stream of that enqueue is synchronized), -1 before any run.
 * Dims a run reports over their bound (a faulty kernel) are O2P_ERR_INTERNAL naming the
 * tensor. Unknown names are O2P_ERR_INVALID_ARGUMENT. */
o2p_status lean_context_get_tensor_shape(const lean_context *ctx, const char *name, int *rank,
                                         int64_t *dims);

/* Runs every layer in order with its host kernel, then copies outputs the builder folded to
 * constants into their bound memory. Every I/O tensor with bytes must be bound, and no
 * output's memory may overlap another bound tensor's (O2P_ERR_INVALID_ARGUMENT naming
 * them). A kernel failure is returned with its status and the layer named. */
o2p_status lean_context_execute(lean_context *ctx);

/* Runs the engine on a stream. Host engines: stream must be NULL, and this is execute. Cuda
 * engines: every launch (kernels, device copies, memsets, then the outputs folded to
 * constants copied from the weights) is enqueued on the stream (a CUstream; NULL: the
 * legacy default stream) with the bound device addresses, without waiting for any of it;
 * the bindings may change as soon as it returns. A driver error is returned naming the layer
 * and the launch. (lean_context_execute on a cuda engine enqueues on the default stream and
 * waits for it.) Plugin layers: one with enqueue_cuda gets device addresses, its workspace in
 * the context's device workspace and the stream; one without runs its enqueue_host on host
 * copies (the context's staging memory): the stream is synchronized, the inputs copied to
 * the host, enqueue_host run, the outputs copied back and the stream synchronized again, so
 * such a plan's enqueue waits for the work before each host-only plugin layer. */
o2p_status lean_context_enqueue(lean_context *ctx, void *stream);
/* The device address of the context's arena (cuda; its workspace follows at
 * lean_engine_context_memory - workspace), or 0. */
uint64_t lean_context_device_memory(const lean_context *ctx);

/* ---------------------------------------------------------------- private to src/lean
 * The engine's tables, shared by engine.c (which fills them) and context.c (which runs
 * them). Nothing outside src/lean uses these. */

typedef struct lean_tensor {
    const char *name;
    host_tensor view; /* dtype, rank, dims; data: the weights for WEIGHTS, else NULL */
    uint32_t io;      /* ENGINE_IO_INPUT / ENGINE_IO_OUTPUT / 0 */
    uint32_t storage; /* ENGINE_STORAGE_* */
    uint64_t offset;
    uint64_t nbytes;
    int writer;   /* the layer that writes it, or -1 */
    int io_index; /* its index among the engine I/O tensors, or -1 */
    /* data-dependent dims (version 6): bit d set when dim d is (view.dims[d] is its bound);
     * shape_tensor: cuda, the tensor its writer's launches store the actual dims in, or -1;
     * shape_of: for such a shape tensor, the tensor whose dims it holds, else -1 */
    uint32_t dd_mask;
    int shape_tensor;
    int shape_of;
} lean_tensor;

/* A device address written into a launch's parameter bytes (engine_format.h). */
typedef struct lean_patch {
    uint32_t param_offset;
    int32_t tensor; /* a tensor index, or ENGINE_PATCH_WORKSPACE */
    uint64_t byte_offset;
} lean_patch;

struct lean_launch {
    uint32_t kind; /* ENGINE_LAUNCH_* */
    const char *family;
    const char *function;
    uint32_t grid[3], block[3];
    uint32_t smem;
    uint32_t param_size;
    const uint8_t *params;
    int num_patches;
    const lean_patch *patches;
    int index;         /* among all launches of the engine, in execution order */
    size_t buf_offset; /* of its parameter bytes in a context's buffer (16-byte aligned) */
};

/* A kernel image's record; bytes points into the section during create only. */
typedef struct lean_image {
    const char *family;
    uint32_t kind; /* ENGINE_IMAGE_* */
    uint32_t arch;
    uint32_t arch_specific;
    uint64_t size;
    const uint8_t *bytes;
} lean_image;

/* A control-flow layer's body (engine_format.h, version 5; control.c runs it). */
typedef struct lean_body {
    int first_layer, num_layers; /* its layers: [first_layer, first_layer + num_layers) */
    int num_inputs, num_outputs;
    const int32_t *inputs, *outputs; /* tensor indices */
} lean_body;

typedef struct lean_layer {
    const char *name;
    const char *op_type;
    const char *tactic_source;
    const char *tactic_kernel;
    int64_t opset;
    uint32_t smem_bytes;
    uint32_t arch_specific;
    int num_inputs;
    int num_outputs;
    int num_attrs;
    const int32_t *inputs;  /* tensor indices, -1 for omitted */
    const int32_t *outputs; /* tensor indices, -1 for omitted */
    const host_attr *attrs; /* TENSOR attributes point at their tensor's view */
    host_kernel_fn run;     /* native layers */
    /* plugin layers (is_plugin 1): the creator found at create, its serialized fields and
     * the workspace enqueue_host gets */
    int is_plugin;
    const char *plugin_name;
    const char *plugin_version;
    const char *plugin_namespace;
    const char *plugin_library; /* file name of the library the builder took it from */
    const void *plugin_data;
    size_t plugin_size;
    uint64_t workspace;
    const o2p_plugin_creator *plugin;
    int num_launches; /* cuda */
    lean_launch *launches;
    /* If, Loop, Scan: their bodies, whose layers (body_layers of them) follow this one and
     * are run by it only */
    int num_bodies;
    const lean_body *bodies;
    int body_layers;
} lean_layer;

struct lean_engine {
    o2p_arena mem; /* tables and strings */
    const char *what;
    uint32_t target;
    uint64_t arena_size;
    uint64_t weights_size;
    unsigned char *weights; /* the blob, copied, 256-byte aligned (never NULL) */
    int num_tensors;
    int num_layers;
    int num_inputs;
    int num_outputs;
    lean_tensor *tensors;
    lean_layer *layers;
    int *io;             /* tensor indices: the inputs, then the outputs */
    o2p_strmap io_names; /* I/O name -> (void *)(intptr_t)(io index + 1) */
    int max_layer_inputs;
    int max_layer_outputs;
    uint64_t max_workspace; /* the largest plugin layer workspace (each context has one) */
    uint32_t flags;         /* lean_engine_create_flags' */
    uint64_t workspace_size; /* cuda: the launches' scratch after the arena */
    int num_launches;        /* cuda: over all layers */
    size_t param_bytes;      /* cuda: a context's parameter buffer */
    int num_images;
    lean_image *images;
    uint32_t libraries;            /* cuda: LEAN_LIB_* bits of the libraries the launches call */
    struct lean_cuda_engine *cuda; /* cuda engines not created tables-only: the device side */
};

/* A creator's enqueue_cuda, or NULL when it has none (or was built before the field). */
typedef o2p_status (*lean_plugin_cuda_fn)(const void *serialized, size_t serialized_size,
                                          const o2p_plugin_tensor *inputs, int num_inputs,
                                          o2p_plugin_tensor *outputs, int num_outputs,
                                          void *workspace, void *stream, o2p_plugin_error *err);
lean_plugin_cuda_fn lean_plugin_enqueue_cuda(const o2p_plugin_creator *creator);
/* The error of a plugin layer's enqueue (host or cuda) that returned st with message msg
 * (may be ""): st (O2P_ERR_INTERNAL when not a known status), the message naming the layer
 * and the plugin. */
o2p_status lean_plugin_failed(const lean_engine *engine, int layer, o2p_status st,
                              const char *msg);

/* Bytes per element of an o2p_dtype (0 for UNDEFINED, STRING and unknown values), and the
 * alignment its data needs (the size, at most 8). The IR's o2p_dtype_size is not used: the
 * lean runtime stands without the IR. */
size_t lean_dtype_size(o2p_dtype dtype);
size_t lean_dtype_align(o2p_dtype dtype);

/* A byte range [start, end) for the overlap checks; `writable` ranges may overlap nothing. */
typedef struct lean_range {
    uint64_t start;
    uint64_t end;
    int writable;
    int id;
} lean_range;

/* Sorts ranges (n >= 0) and finds a pair that overlaps where at least one is writable (empty
 * ranges never overlap): returns 1 and their ids in *a, *b, or 0 when there is none. */
int lean_find_overlap(lean_range *ranges, int n, int *a, int *b);

/* Libraries an engine's launches call (lean_engine.libraries; cuda_libs.h opens them). */
#define LEAN_LIB_CUBLAS 1u
#define LEAN_LIB_CUBLASLT 2u
#define LEAN_LIB_CUDNN 4u

/* ---- the cuda executor (cuda_exec.c) */

/* The image of `family` to load on a device of compute capability cc (major*10+minor): SASS
 * of exactly cc (an arch-specific sm_XYa one first), else SASS of the same major with the
 * highest minor not above cc's (arch-specific images run on their exact arch only), else the
 * PTX of the highest arch not above cc; -1 when none fits. */
int lean_pick_image(const lean_image *images, int num_images, const char *family, int cc);
/* Device 0: loads the images and functions and uploads the weights (`weights`: the blob in
 * the section). On failure everything it made is released; messages start with `prefix`. */
o2p_status lean_cuda_engine_load(lean_engine *engine, const uint8_t *weights,
                                 const char *prefix);
void lean_cuda_engine_unload(lean_engine *engine);
int lean_cuda_engine_loaded_image(const lean_engine *engine, const char *family);
/* A context's device side: the arena and workspace, and the prepared parameter bytes. */
typedef struct lean_cuda_context lean_cuda_context;
o2p_status lean_cuda_context_create(const lean_engine *engine, lean_cuda_context **out);
void lean_cuda_context_destroy(lean_cuda_context *c);
uint64_t lean_cuda_context_memory(const lean_cuda_context *c);
/* Enqueues every launch with the I/O tensors at bound[io] (device addresses), and after each
 * layer that writes a data-dependent engine output the copy of its shape tensor into the
 * context's host memory (lean_cuda_output_dims). */
o2p_status lean_cuda_enqueue(lean_cuda_context *c, void *const *bound, void *stream);
/* Where the shape of engine I/O tensor io is copied to (O2P_MAX_RANK int64 values; valid once
 * the stream is synchronized), or NULL when it has no data-dependent dims. */
const int64_t *lean_cuda_output_dims(const lean_cuda_context *c, int io);
/* Waits for the stream (execute on a cuda engine). */
o2p_status lean_cuda_sync(const lean_engine *engine, void *stream);

/* ---- control flow (control.c; docs/control-flow.md) */

/* Whether layers of op_type carry bodies (If, Loop, Scan). */
int lean_control_op(const char *op_type);
/* After every layer is read: the bodies nest inside the table, their outputs are readable
 * when they end, and the sizes the executor copies agree (O2P_ERR_PARSE naming the layer). */
o2p_status lean_control_check(const lean_engine *engine);
/* Runs control layer `layer` (host target), or enqueues it on the stream (cuda target; reads
 * of a condition or trip count wait for the stream). */
o2p_status lean_control_run_host(lean_context *ctx, int layer);
o2p_status lean_control_enqueue_cuda(lean_cuda_context *c, int layer, void *stream);
/* What the control executor uses of the two executors: layers [first, end) in order (a
 * control layer among them runs its bodies, whose layers are skipped), and a tensor's memory
 * (host pointer, or device address of the I/O tensors bound at the current enqueue). */
o2p_status lean_context_run_layers(lean_context *ctx, int first, int end);
void *lean_context_tensor_data(const lean_context *ctx, int tensor);
o2p_status lean_cuda_enqueue_layers(lean_cuda_context *c, void *stream, int first, int end);
uint64_t lean_cuda_tensor_address(const lean_cuda_context *c, int tensor);
const struct cuda_driver *lean_cuda_driver_of(const lean_engine *engine);
const lean_engine *lean_cuda_context_engine(const lean_cuda_context *c);

#endif
