/* builder.h: the builder stage: from an inferred, optimized network to an engine
 * description (layers in execution order with their tactics, tensors with their storage),
 * which the plan writer serializes. */
#ifndef O2P_BUILDER_H
#define O2P_BUILDER_H

#include "codegen/codegen.h"
#include "ir/ir.h"

/* ---- tactics (DESIGN.md §8) */

typedef enum build_target { BUILD_TARGET_HOST = 0, BUILD_TARGET_CUDA = 1 } build_target;

/* A tactic: a kernel from a source, with what it requires. */
typedef struct build_tactic {
    const char *source;     /* "builtin", "cublas", ... */
    const char *family;     /* kernel family: "host" */
    const char *kernel;     /* the kernel within it, e.g. "Conv" (written as "host.Conv") */
    build_target target;    /* where it runs */
    int min_compute_cap;    /* 0 for host */
    int arch_specific;      /* uses sm_XYa-only instructions */
    uint32_t smem_bytes;    /* shared memory per block */
    uint64_t workspace;     /* scratch bytes */
    cg_tactic cuda;         /* cuda target: the codegen's tactic (what lower() gets) */
} build_tactic;

#define BUILD_MAX_ARCHS 16

typedef struct build_options {
    build_target target;
    uint32_t tactic_sources; /* O2P_TACTIC_SOURCE_* mask */
    uint64_t workspace_limit; /* 0: none */
    int verbose;
    /* cuda target: the compute capabilities to build for (major*10+minor, ascending; each
     * kernel family gets a SASS image per entry, plus compute_80 PTX under ampere+, where
     * the list is every major architecture NVRTC knows) and the hardware-compatibility level
     * (an o2p_hardware_compatibility) */
    int num_archs;
    int archs[BUILD_MAX_ARCHS];
    int hw_compat;
    int allow_tf32, allow_fp16, allow_bf16; /* precision flags */
    const char *kernel_cache; /* NULL: the default cache; "": none (cg_compile_options) */
} build_options;

/* Picks the tactic for a layer among the candidates of the tactic table that pass the
 * filters; fails with a message listing every candidate and why it was excluded. The host
 * target's tactics, and a plugin layer's plugin tactic on either target. */
o2p_status build_select_tactic(const ir_layer *l, const build_options *opt, build_tactic *out);

/* The cuda target: the candidates of the layer's op (cg_op_find(op)->candidates), filtered
 * by build_cuda_excluded, the lowest cost chosen; -v logs every candidate, why each excluded
 * one was excluded, and the choice. cl is the layer as the lowering sees it. */
o2p_status build_select_cuda_tactic(const ir_layer *l, const cg_layer *cl,
                                    const build_options *opt, build_tactic *out);
/* Why a cuda candidate cannot be used (written into buf, which is returned), or NULL. The
 * filters of DESIGN.md §8, in order: target architectures (min_cc above the lowest target;
 * an arch-specific kernel needs exactly its one architecture), the ampere+ level (no
 * arch-specific kernels, at most 99 KiB of shared memory per block), the tactic sources
 * (only builtin under a hardware-compatibility level), the precision flags (an fp16/bf16
 * kernel needs its flag unless `native`, the layer's floating type, is that type), the
 * workspace limit. */
const char *build_cuda_excluded(const cg_tactic *t, const build_options *opt, o2p_dtype native,
                                char *buf, size_t size);
/* The index of the candidate to use: the lowest cost among those not excluded, the first of
 * equals; -1 when every one is excluded. */
int build_cuda_choose(const cg_tactic *cands, int n, const build_options *opt, o2p_dtype native);
/* The floating type of a layer's tensors (FLOAT16 or BFLOAT16 when all its floating tensors
 * have that type; FLOAT when they are mixed; UNDEFINED when it has none). */
o2p_dtype build_layer_native_dtype(const cg_layer *l);
/* O2P_TACTIC_SOURCE_* of a source name ("builtin", "cublas", ...), 0 for others. */
uint32_t build_tactic_source_bit(const char *source);
/* The sources a build may use: the mask, less cuBLAS(Lt)/cuDNN under a
 * hardware-compatibility level. */
uint32_t build_effective_tactic_sources(const build_options *opt);
/* What the lowering is told about the build (cg_options) from the build options. */
void build_cg_options(const build_options *opt, cg_options *o);

/* ---- the engine description */

enum { BUILD_STORAGE_ARENA = 0, BUILD_STORAGE_WEIGHTS = 1, BUILD_STORAGE_IO = 2 };

typedef struct build_tensor {
    ir_tensor *t;
    const char *name; /* t's name, or a made-up one for a nameless attribute tensor */
    uint32_t io;      /* 1 input, 2 output */
    uint32_t storage; /* BUILD_STORAGE_* */
    uint64_t offset;  /* arena or weights offset */
    uint64_t nbytes;  /* at the bound shape for data-dependent dims */
    /* Data-dependent shapes (engine outputs only): bit d set when dim d depends on the data
     * (t's dim d has value -1 and its bound; the tensor is allocated at the bound), 0 for a
     * static shape. shape_tensor: when dd_mask is set on the cuda target, the index of the
     * int64 [rank] tensor the writing kernel stores the actual dims in; -1 otherwise (the
     * writer only looks at it when dd_mask is set). */
    uint32_t dd_mask;
    int shape_tensor;
} build_tensor;

/* A control-flow layer's body (src/builder/control.c): its layers follow the control layer
 * in the engine's layer list (engine_format.h, version 5). */
typedef struct build_body {
    int num_layers; /* nested bodies' layers included */
    int num_inputs, num_outputs;
    int *inputs, *outputs; /* tensor indices */
} build_body;

typedef struct build_layer {
    ir_layer *layer;
    build_tactic tactic;
    int *inputs;  /* tensor indices, -1 for omitted */
    int *outputs; /* tensor indices, -1 for omitted */
    int *attr_tensors; /* per attribute: a TENSOR attribute's tensor index, -1 otherwise */
    /* cuda target: per output, its shape tensor (build_tensor.shape_tensor) or -1; NULL
     * when every output is static (what the lowering gets as cg_layer.output_shape_tensors) */
    int *output_shape_tensors;
    /* cuda target: what runs the layer (the lowering's cg_emit launches; owned by the
     * engine) */
    int num_launches;
    cg_launch *launches;
    uint64_t workspace; /* bytes of workspace its launches use */
    /* cuda target: the weights tensors of the constants its lowering made (cg_emit_constant),
     * which the plan lists as TENSOR attributes "o2p_constant_<k>" of the layer */
    int num_constants;
    int constants[CG_MAX_LAYER_CONSTANTS];
    int num_bodies; /* If, Loop, Scan: their bodies (build_control_expand), else 0 */
    build_body *bodies;
} build_layer;

/* A compiled kernel family for one architecture (cuda target). */
typedef struct build_image {
    const char *family;
    cg_image_kind kind;
    int arch;
    int arch_specific;
    void *bytes; /* malloc'ed, owned by the engine */
    size_t size;
} build_image;

typedef struct build_engine {
    build_target target;
    int num_tensors;
    build_tensor *tensors;
    int num_layers;
    build_layer *layers;
    int num_inputs, num_outputs;
    int *inputs, *outputs; /* tensor indices, in graph order */
    uint64_t arena_size;
    uint64_t weights_size;
    uint64_t workspace_size; /* cuda: the largest workspace a layer's launches use */
    int num_images;
    build_image *images;
    int64_t opset;
    o2p_arena arena; /* owns the arrays above */
} build_engine;

/* Runs the build pipeline on net (which it changes: folding, removals) and fills *engine. */
o2p_status build_engine_create(ir_network *net, const build_options *opt, build_engine *engine);
void build_engine_free(build_engine *engine);

#endif
