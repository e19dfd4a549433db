/* plan.h: the plan container (DESIGN.md §4; byte layout and rules in docs/plan-format.md):
 * a writer that gives byte-identical plans for identical inputs, a reader that checks every
 * byte before a section is used, and names and text for `onnx2plan inspect`. */
#ifndef O2P_PLAN_H
#define O2P_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* The container format this code writes and the only one it reads. */
#define PLAN_CONTAINER_VERSION 1
/* Bytes of the version-1 header and of one section-table entry. */
#define PLAN_HEADER_SIZE 256
#define PLAN_SECTION_ENTRY_SIZE 40
/* At most this many sections, compute capabilities per plan. */
#define PLAN_MAX_SECTIONS 64
#define PLAN_MAX_COMPUTE_CAPS 16
/* Section alignment: a power of two from 1 to PLAN_MAX_ALIGNMENT; ENGINE sections at least
 * PLAN_ENGINE_MIN_ALIGNMENT so that weights aligned inside them can be uploaded directly. */
#define PLAN_MAX_ALIGNMENT (1u << 21)
#define PLAN_ENGINE_MIN_ALIGNMENT 256u

/* Header flags (plan_header.flags). Rules between them and the sections: docs/plan-format.md. */
enum {
    PLAN_FLAG_VERSION_COMPATIBLE = 1u << 0,    /* runs on later runtimes through its lean runtime */
    PLAN_FLAG_LEAN_RUNTIME_EMBEDDED = 1u << 1, /* a LEAN_RUNTIME section carries it */
    PLAN_FLAG_LEAN_RUNTIME_EXCLUDED = 1u << 2, /* left out: o2p_runtime_load_runtime gives it */
    PLAN_FLAG_HAS_PLUGINS = 1u << 3,           /* the engine has plugin layers */
    PLAN_FLAG_HOST_CODE = 1u << 4,             /* it carries host code (lean runtime, plugins) */
    PLAN_FLAGS_KNOWN = 0x1Fu
};

typedef enum plan_hw_compat {
    PLAN_HW_COMPAT_NONE = 0,        /* the build target's compute capabilities only */
    PLAN_HW_COMPAT_AMPERE_PLUS = 1, /* every GPU from sm_80 up */
    PLAN_HW_COMPAT_SAME_CC = 2      /* any GPU of the target's compute capability */
} plan_hw_compat;
#define PLAN_HW_COMPAT_COUNT 3

typedef enum plan_target {
    PLAN_TARGET_HOST = 0, /* reference kernels in C; no compute capabilities, device zeros */
    PLAN_TARGET_CUDA = 1
} plan_target;
#define PLAN_TARGET_COUNT 2

/* Tactic sources the engine needs (plan_header.tactic_sources, a bit mask). */
enum {
    PLAN_TACTIC_BUILTIN = 1u << 0,
    PLAN_TACTIC_CUBLAS = 1u << 1,
    PLAN_TACTIC_CUBLASLT = 1u << 2,
    PLAN_TACTIC_CUDNN = 1u << 3,
    PLAN_TACTICS_KNOWN = 0xFu
};

/* Section types. 0 is never valid; other values are unknown to this reader and skipped,
 * unless the section is marked PLAN_SECTION_REQUIRED (then the plan is refused). */
enum {
    PLAN_SECTION_ENGINE = 1,         /* private to the lean runtime that wrote it; at most one */
    PLAN_SECTION_LEAN_RUNTIME = 2,   /* libo2p_lean.so of the producer; at most one */
    PLAN_SECTION_PLUGIN_LIBRARY = 3, /* a plugin shared library; any number */
    PLAN_SECTION_METADATA = 4,       /* free-form build information; at most one */
    PLAN_SECTION_TYPE_MAX = 4        /* the highest type this reader knows */
};
/* Section flags. */
enum {
    PLAN_SECTION_REQUIRED = 1u << 0, /* a reader that does not know the type must refuse */
    PLAN_SECTION_FLAGS_KNOWN = 0x1u
};

typedef struct plan_version {
    uint16_t major, minor, patch, build;
} plan_version;

/* The build device's properties (all zero for the host target). */
typedef struct plan_device_props {
    uint32_t memory_bus_width;              /* bits */
    uint32_t l2_cache_size;                 /* bytes */
    uint32_t shared_mem_per_block;          /* bytes */
    uint32_t shared_mem_per_multiprocessor; /* bytes */
    uint32_t texture_alignment;             /* bytes */
    uint32_t multiprocessor_count;
    uint32_t integrated; /* 1: integrated GPU, 0: discrete */
} plan_device_props;

/* What the header says about the engine. */
typedef struct plan_header {
    plan_version producer; /* the onnx2plan that built the plan */
    uint32_t flags;        /* PLAN_FLAG_* */
    plan_hw_compat hw_compat;
    plan_target target;
    uint32_t compute_cap_count; /* 0 for host, 1..PLAN_MAX_COMPUTE_CAPS for cuda */
    /* major * 10 + minor (80, 86, 90, 120), ascending; unused entries 0. The writer sorts. */
    uint16_t compute_caps[PLAN_MAX_COMPUTE_CAPS];
    plan_device_props device;
    uint64_t device_memory_size; /* bytes of device memory the engine needs */
    uint32_t tactic_sources;     /* PLAN_TACTIC_* */
} plan_header;

/* Zeroes *header and sets the producer to this build's version (O2P_VERSION_*). */
void plan_header_init(plan_header *header);
/* This build's version. */
plan_version plan_this_version(void);
/* <0, 0, >0 as a is older than, equal to, newer than b. */
int plan_version_cmp(plan_version a, plan_version b);

/* ---------------------------------------------------------------- writer */

/* One section to write. alignment 0 picks the default: PLAN_ENGINE_MIN_ALIGNMENT for ENGINE,
 * 64 for the others. data may be NULL only when size is 0. */
typedef struct plan_section_desc {
    uint32_t type;      /* PLAN_SECTION_* or a newer type (nonzero) */
    uint32_t flags;     /* PLAN_SECTION_REQUIRED or 0 */
    uint32_t alignment; /* 0 or a power of two <= PLAN_MAX_ALIGNMENT */
    const void *data;
    size_t size;
} plan_section_desc;

/* Receives the plan's bytes in order; a status other than O2P_OK stops the writer. */
typedef o2p_status (*plan_sink_fn)(void *user, const void *data, size_t size);

/* Writes header, section table and sections (in the order given, each at the first offset
 * after the previous one that honours its alignment, zero padding between) to sink.
 * Refuses (O2P_ERR_INVALID_ARGUMENT) anything plan_read would refuse: unknown flags or enum
 * values, flags that disagree with the sections, bad alignments, more than PLAN_MAX_SECTIONS. */
o2p_status plan_write(const plan_header *header, const plan_section_desc *sections, uint32_t count,
                      plan_sink_fn sink, void *user);
/* plan_write into one malloc'ed buffer (*out, free() it; *size its length). */
o2p_status plan_write_alloc(const plan_header *header, const plan_section_desc *sections,
                            uint32_t count, uint8_t **out, size_t *size);

/* ---------------------------------------------------------------- reader */

typedef struct plan_section {
    uint32_t type;  /* PLAN_SECTION_* or an unknown type (never REQUIRED) that users skip */
    uint32_t flags; /* PLAN_SECTION_* flags */
    uint64_t offset;
    uint64_t size;
    uint32_t alignment;
    uint32_t crc32c;
    /* Into the caller's buffer, offset bytes past its start (for an empty section: not to be
     * read). In memory it is aligned to `alignment` only if the buffer is: read or map plans
     * into buffers aligned to 256 bytes or more (a page) when the ENGINE's alignment matters. */
    const uint8_t *data;
} plan_section;

/* A checked plan: header fields and sections pointing into the caller's buffer (no copies,
 * no allocation; valid while that buffer is). */
typedef struct plan_view {
    uint32_t container_version;
    uint32_t header_size;
    uint64_t file_size;
    uint32_t header_crc32c;
    uint64_t section_table_offset;
    uint32_t section_table_crc32c;
    plan_header header;
    uint32_t section_count;
    plan_section sections[PLAN_MAX_SECTIONS];
} plan_view;

/* Checks every rule of docs/plan-format.md, every checksum included, then fills *view. data
 * may have any alignment. name (a file path, or NULL for "plan") starts every message.
 * O2P_ERR_PARSE: malformed or damaged (the message names the field, or the section by index
 * and type, and the reason). O2P_ERR_UNSUPPORTED: a newer container version, a required
 * section type this reader does not know, or values it does not know in a plan from a newer
 * onnx2plan (the message names both versions). On failure *view is zeroed. */
o2p_status plan_read(const void *data, size_t size, const char *name, plan_view *view);

/* Index of the first section of the given type at or after index start; -1 if none. */
int plan_find_section(const plan_view *view, uint32_t type, int start);

/* ---------------------------------------------------------------- names and inspect */

/* "ENGINE", "LEAN_RUNTIME", "PLUGIN_LIBRARY", "METADATA"; NULL for unknown types. */
const char *plan_section_type_name(uint32_t type);
/* "none", "ampere+", "same-cc"; NULL for unknown values. */
const char *plan_hw_compat_name(uint32_t level);
/* "host", "cuda"; NULL for unknown values. */
const char *plan_target_name(uint32_t target);
/* Name of one flag bit: "version-compatible", "lean-runtime-embedded",
 * "lean-runtime-excluded", "has-plugins", "host-code"; NULL for others. */
const char *plan_flag_name(uint32_t flag);
/* Name of one tactic-source bit: "builtin", "cublas", "cublaslt", "cudnn"; NULL for others. */
const char *plan_tactic_source_name(uint32_t source);

typedef enum plan_format_style {
    PLAN_FORMAT_TEXT, /* aligned lines for people */
    PLAN_FORMAT_JSON  /* one JSON object (layout in docs/plan-format.md) */
} plan_format_style;

/* Describes a checked plan, snprintf-like: writes at most size bytes (NUL-terminated when
 * size > 0) and returns the length the whole text needs, without the NUL. */
size_t plan_format(const plan_view *view, plan_format_style style, char *buf, size_t size);

#endif
