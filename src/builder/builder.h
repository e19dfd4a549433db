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
    /* cuda target: the compute capabilities to build for (major*10+minor, ascending) and
     * the hardware-compatibility level (an o2p_hardware_compatibility) */
    int num_archs;
    int archs[BUILD_MAX_ARCHS];
    int hw_compat;
    int allow_tf32, allow_fp16, allow_bf16; /* precision flags */
    const char *kernel_cache; /* NULL: the default cache; "": none (cg_compile_options) */
} build_options;

/* Picks the tactic for a layer among the candidates of the tactic table that pass the
 * filters; fails with a message listing every candidate and why it was excluded. */
o2p_status build_select_tactic(const ir_layer *l, const build_options *opt, build_tactic *out);

/* ---- the engine description */

enum { BUILD_STORAGE_ARENA = 0, BUILD_STORAGE_WEIGHTS = 1, BUILD_STORAGE_IO = 2 };

typedef struct build_tensor {
    ir_tensor *t;
    const char *name; /* t's name, or a made-up one for a nameless attribute tensor */
    uint32_t io;      /* 1 input, 2 output */
    uint32_t storage; /* BUILD_STORAGE_* */
    uint64_t offset;  /* arena or weights offset */
    uint64_t nbytes;
} build_tensor;

typedef struct build_layer {
    ir_layer *layer;
    build_tactic tactic;
    int *inputs;  /* tensor indices, -1 for omitted */
    int *outputs; /* tensor indices, -1 for omitted */
    /* cuda target: what runs the layer (the lowering's cg_emit launches; owned by the
     * engine) */
    int num_launches;
    cg_launch *launches;
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
