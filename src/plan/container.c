/* container.c: the plan container (docs/plan-format.md): the writer, and the reader that
 * checks every byte of a plan before any section is used. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

/* Fuzzing builds (tests/fuzz, FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) compare no checksums,
 * so that mutated plans reach the code behind them; production builds never define it. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CHECKSUM_MISMATCH(stored, computed) ((void)(stored), (void)(computed), 0)
#else
#define CHECKSUM_MISMATCH(stored, computed) ((stored) != (computed))
#endif

/* ---------------------------------------------------------------- layout
 *
 * Offsets in the header and in a section-table entry. Bytes 0..39 and the header's last four
 * bytes (its CRC32C) keep their meaning in every container version, so that any reader can
 * check the header and name the producer of a plan it cannot read. */
static const uint8_t plan_magic[12] = "\x89O2PLAN\r\n\x1a\n"; /* and a NUL */
#define BYTE_ORDER_MARK 0x01020304u

enum {
    H_MAGIC = 0,
    H_CONTAINER_VERSION = 12,
    H_HEADER_SIZE = 16,
    H_BYTE_ORDER = 20,
    H_PRODUCER = 24, /* major, minor, patch, build: u16 each */
    H_FILE_SIZE = 32,
    H_FROZEN_END = 40, /* end of the part every version shares */
    H_FLAGS = 40,
    H_HW_COMPAT = 44,
    H_TARGET = 48,
    H_CC_COUNT = 52,
    H_CC = 56,     /* u16 x 16 */
    H_DEVICE = 88, /* u32 x 8: bus width, L2, smem/block, smem/SM, texture alignment, SMs,
                    * integrated, reserved */
    H_DEVICE_RESERVED = 116,
    H_DEVICE_MEMORY = 120,
    H_TACTICS = 128,
    H_SECTION_COUNT = 132,
    H_TABLE_OFFSET = 136,
    H_TABLE_CRC = 144,
    H_RESERVED = 148, /* up to the CRC: zero */
    H_CRC = PLAN_HEADER_SIZE - 4,
    /* The smallest and largest header any version may have (checked before the version). */
    H_MIN_SIZE = H_FROZEN_END + 8,
    H_MAX_SIZE = 65536
};

enum {
    E_TYPE = 0,
    E_FLAGS = 4,
    E_OFFSET = 8,
    E_SIZE = 16,
    E_ALIGNMENT = 24,
    E_CRC = 28,
    E_RESERVED = 32 /* u64: zero */
};

#define DEFAULT_ALIGNMENT 64u

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static int is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* ---------------------------------------------------------------- versions and names */

plan_version plan_this_version(void)
{
    plan_version v = {O2P_VERSION_MAJOR, O2P_VERSION_MINOR, O2P_VERSION_PATCH, O2P_VERSION_BUILD};
    return v;
}

void plan_header_init(plan_header *header)
{
    memset(header, 0, sizeof *header);
    header->producer = plan_this_version();
}

int plan_version_cmp(plan_version a, plan_version b)
{
    uint16_t x[4] = {a.major, a.minor, a.patch, a.build};
    uint16_t y[4] = {b.major, b.minor, b.patch, b.build};
    for (int i = 0; i < 4; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

const char *plan_section_type_name(uint32_t type)
{
    switch (type) {
    case PLAN_SECTION_ENGINE: return "ENGINE";
    case PLAN_SECTION_LEAN_RUNTIME: return "LEAN_RUNTIME";
    case PLAN_SECTION_PLUGIN_LIBRARY: return "PLUGIN_LIBRARY";
    case PLAN_SECTION_METADATA: return "METADATA";
    }
    return NULL;
}

const char *plan_hw_compat_name(uint32_t level)
{
    switch (level) {
    case PLAN_HW_COMPAT_NONE: return "none";
    case PLAN_HW_COMPAT_AMPERE_PLUS: return "ampere+";
    case PLAN_HW_COMPAT_SAME_CC: return "same-cc";
    }
    return NULL;
}

const char *plan_target_name(uint32_t target)
{
    switch (target) {
    case PLAN_TARGET_HOST: return "host";
    case PLAN_TARGET_CUDA: return "cuda";
    }
    return NULL;
}

const char *plan_flag_name(uint32_t flag)
{
    switch (flag) {
    case PLAN_FLAG_VERSION_COMPATIBLE: return "version-compatible";
    case PLAN_FLAG_LEAN_RUNTIME_EMBEDDED: return "lean-runtime-embedded";
    case PLAN_FLAG_LEAN_RUNTIME_EXCLUDED: return "lean-runtime-excluded";
    case PLAN_FLAG_HAS_PLUGINS: return "has-plugins";
    case PLAN_FLAG_HOST_CODE: return "host-code";
    }
    return NULL;
}

const char *plan_tactic_source_name(uint32_t source)
{
    switch (source) {
    case PLAN_TACTIC_BUILTIN: return "builtin";
    case PLAN_TACTIC_CUBLAS: return "cublas";
    case PLAN_TACTIC_CUBLASLT: return "cublaslt";
    case PLAN_TACTIC_CUDNN: return "cudnn";
    }
    return NULL;
}

/* "ENGINE" or "type 77" (for messages). */
static const char *type_label(uint32_t type, char buf[24])
{
    const char *name = plan_section_type_name(type);
    if (name)
        return name;
    snprintf(buf, 24, "type %u", type);
    return buf;
}

/* ---------------------------------------------------------------- rules shared by both sides
 *
 * The writer and the reader apply the same rules to the header fields and to the section
 * list, so the writer cannot produce a plan the reader refuses. Each returns 0 when the rule
 * holds, or 1 with the reason in why; *unknown is set when the reason is a value this version
 * does not know (a newer producer may have written it). */

static int fail_why(char *why, size_t n, const char *fmt, ...) O2P_PRINTF(3, 4);
static int fail_why(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return 1;
}

static int header_problem(const plan_header *h, char *why, size_t n, int *unknown)
{
    *unknown = 1;
    if (h->flags & ~PLAN_FLAGS_KNOWN)
        return fail_why(why, n, "flags 0x%x hold bits this version does not know (0x%x)", h->flags,
                        h->flags & ~PLAN_FLAGS_KNOWN);
    if ((uint32_t)h->hw_compat >= PLAN_HW_COMPAT_COUNT)
        return fail_why(why, n, "hardware-compatibility level %u is not one this version knows",
                        (uint32_t)h->hw_compat);
    if ((uint32_t)h->target >= PLAN_TARGET_COUNT)
        return fail_why(why, n, "target %u is not one this version knows", (uint32_t)h->target);
    if (h->tactic_sources & ~PLAN_TACTICS_KNOWN)
        return fail_why(why, n, "tactic sources 0x%x hold bits this version does not know (0x%x)",
                        h->tactic_sources, h->tactic_sources & ~PLAN_TACTICS_KNOWN);
    *unknown = 0;
    int vc = !!(h->flags & PLAN_FLAG_VERSION_COMPATIBLE);
    int embedded = !!(h->flags & PLAN_FLAG_LEAN_RUNTIME_EMBEDDED);
    int excluded = !!(h->flags & PLAN_FLAG_LEAN_RUNTIME_EXCLUDED);
    if (vc && embedded + excluded != 1)
        return fail_why(why, n,
                        "flags: a version-compatible plan has exactly one of "
                        "lean-runtime-embedded and lean-runtime-excluded (flags 0x%x)",
                        h->flags);
    if (!vc && (embedded || excluded))
        return fail_why(why, n,
                        "flags: lean-runtime-embedded and lean-runtime-excluded need "
                        "version-compatible (flags 0x%x)",
                        h->flags);
    if (h->compute_cap_count > PLAN_MAX_COMPUTE_CAPS)
        return fail_why(why, n, "compute capability count %u is above the limit of %d",
                        h->compute_cap_count, PLAN_MAX_COMPUTE_CAPS);
    if (h->target == PLAN_TARGET_HOST) {
        static const plan_device_props zero_props;
        if (h->compute_cap_count)
            return fail_why(why, n, "the host target lists %u compute capabilities (it has none)",
                            h->compute_cap_count);
        if (h->hw_compat != PLAN_HW_COMPAT_NONE)
            return fail_why(why, n,
                            "the host target has hardware-compatibility level %s (only none)",
                            plan_hw_compat_name(h->hw_compat));
        if (memcmp(&h->device, &zero_props, sizeof zero_props) != 0)
            return fail_why(why, n, "the host target has device properties (they must be zero)");
    } else if (h->compute_cap_count == 0) {
        return fail_why(why, n, "the cuda target lists no compute capability");
    }
    for (uint32_t i = 0; i < h->compute_cap_count; i++) {
        uint16_t cc = h->compute_caps[i];
        if (cc < 10 || cc > 999)
            return fail_why(
                why, n, "compute capability %u (entry %u) is not major*10+minor in 10..999", cc, i);
        if (i > 0 && cc <= h->compute_caps[i - 1])
            return fail_why(why, n,
                            "compute capabilities are not in ascending order without repeats "
                            "(entry %u: %u after %u)",
                            i, cc, h->compute_caps[i - 1]);
    }
    for (uint32_t i = h->compute_cap_count; i < PLAN_MAX_COMPUTE_CAPS; i++)
        if (h->compute_caps[i])
            return fail_why(why, n, "unused compute capability entry %u is %u, not zero", i,
                            h->compute_caps[i]);
    if (h->device.integrated > 1)
        return fail_why(why, n, "device property integrated is %u (0 or 1)", h->device.integrated);
    return 0;
}

/* Rules of one section entry (index i). */
static int section_problem(uint32_t i, uint32_t type, uint32_t flags, uint64_t alignment, char *why,
                           size_t n, int *unknown)
{
    char tb[24];
    const char *tl = type_label(type, tb);
    *unknown = 0;
    if (type == 0)
        return fail_why(why, n, "section %u has type 0, which is never valid", i);
    *unknown = 1;
    if (flags & ~PLAN_SECTION_FLAGS_KNOWN)
        return fail_why(why, n, "section %u (%s): flags 0x%x hold bits this version does not know",
                        i, tl, flags);
    if (type > PLAN_SECTION_TYPE_MAX && (flags & PLAN_SECTION_REQUIRED))
        return fail_why(why, n,
                        "section %u (%s) is marked required but this version does not know its "
                        "type",
                        i, tl);
    *unknown = 0;
    if (!is_pow2(alignment) || alignment > PLAN_MAX_ALIGNMENT)
        return fail_why(why, n,
                        "section %u (%s): alignment %llu is not a power of two from 1 to %u", i, tl,
                        (unsigned long long)alignment, PLAN_MAX_ALIGNMENT);
    if (type == PLAN_SECTION_ENGINE && alignment < PLAN_ENGINE_MIN_ALIGNMENT)
        return fail_why(why, n, "section %u (%s): alignment %llu is below the %u bytes it needs", i,
                        tl, (unsigned long long)alignment, PLAN_ENGINE_MIN_ALIGNMENT);
    return 0;
}

/* Rules between the header flags and the list of section types. */
static int consistency_problem(const plan_header *h, const uint32_t *types, uint32_t count,
                               char *why, size_t n)
{
    static const uint32_t unique[] = {PLAN_SECTION_ENGINE, PLAN_SECTION_LEAN_RUNTIME,
                                      PLAN_SECTION_METADATA};
    for (size_t u = 0; u < sizeof unique / sizeof unique[0]; u++) {
        int first = -1;
        for (uint32_t i = 0; i < count; i++) {
            if (types[i] != unique[u])
                continue;
            if (first >= 0)
                return fail_why(why, n,
                                "section %u (%s) repeats section %d: at most one is allowed", i,
                                plan_section_type_name(unique[u]), first);
            first = (int)i;
        }
    }
    int lean = -1, plugin = -1;
    for (uint32_t i = 0; i < count; i++) {
        if (types[i] == PLAN_SECTION_LEAN_RUNTIME && lean < 0)
            lean = (int)i;
        if (types[i] == PLAN_SECTION_PLUGIN_LIBRARY && plugin < 0)
            plugin = (int)i;
    }
    int embedded = !!(h->flags & PLAN_FLAG_LEAN_RUNTIME_EMBEDDED);
    int host_code = !!(h->flags & PLAN_FLAG_HOST_CODE);
    if (embedded && lean < 0)
        return fail_why(why, n, "flags say lean-runtime-embedded but no section is LEAN_RUNTIME");
    if (!embedded && lean >= 0)
        return fail_why(why, n,
                        "section %d (LEAN_RUNTIME) is present but flags lack "
                        "lean-runtime-embedded",
                        lean);
    if (plugin >= 0 && !(h->flags & PLAN_FLAG_HAS_PLUGINS))
        return fail_why(why, n, "section %d (PLUGIN_LIBRARY) is present but flags lack has-plugins",
                        plugin);
    if (host_code && lean < 0 && plugin < 0)
        return fail_why(why, n,
                        "flags say host-code but no section is LEAN_RUNTIME or PLUGIN_LIBRARY");
    if (!host_code && (lean >= 0 || plugin >= 0))
        return fail_why(why, n, "section %d (%s) is host code but flags lack host-code",
                        lean >= 0 ? lean : plugin, lean >= 0 ? "LEAN_RUNTIME" : "PLUGIN_LIBRARY");
    return 0;
}

/* ---------------------------------------------------------------- writer */

static uint32_t section_alignment(const plan_section_desc *s)
{
    if (s->alignment)
        return s->alignment;
    return s->type == PLAN_SECTION_ENGINE ? PLAN_ENGINE_MIN_ALIGNMENT : DEFAULT_ALIGNMENT;
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

static o2p_status write_zeros(plan_sink_fn sink, void *user, uint64_t n)
{
    static const uint8_t zeros[4096];
    while (n) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        O2P_TRY(sink(user, zeros, k));
        n -= k;
    }
    return O2P_OK;
}

/* Checks the inputs and lays the plan out: offsets of every section, the file size, the
 * header with sorted compute capabilities. */
static o2p_status plan_layout(const plan_header *header, const plan_section_desc *sections,
                              uint32_t count, plan_header *sorted, uint64_t *offsets,
                              uint64_t *file_size)
{
    char why[256];
    int unknown;
    if (!header || (count && !sections))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "plan_write: no header or no sections");
    if (count > PLAN_MAX_SECTIONS)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "plan_write: %u sections, more than a plan may hold (%d)", count,
                        PLAN_MAX_SECTIONS);
    *sorted = *header;
    if (sorted->compute_cap_count <= PLAN_MAX_COMPUTE_CAPS)
        qsort(sorted->compute_caps, sorted->compute_cap_count, sizeof(uint16_t), cmp_u16);
    if (header_problem(sorted, why, sizeof why, &unknown))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "plan_write: header: %s", why);
    uint32_t types[PLAN_MAX_SECTIONS];
    uint64_t pos = PLAN_HEADER_SIZE + (uint64_t)count * PLAN_SECTION_ENTRY_SIZE;
    for (uint32_t i = 0; i < count; i++) {
        const plan_section_desc *s = &sections[i];
        uint32_t align = section_alignment(s);
        if (section_problem(i, s->type, s->flags, align, why, sizeof why, &unknown))
            return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "plan_write: %s", why);
        if (!s->data && s->size) {
            char tb[24];
            return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "plan_write: section %u (%s) has no data", i,
                            type_label(s->type, tb));
        }
        types[i] = s->type;
        if (__builtin_add_overflow(pos, (uint64_t)align - 1, &pos))
            return o2p_fail(O2P_ERR_LIMIT, "plan_write: the plan would exceed the address space");
        pos &= ~(uint64_t)(align - 1);
        offsets[i] = pos;
        if (__builtin_add_overflow(pos, (uint64_t)s->size, &pos) || pos != (uint64_t)(size_t)pos)
            return o2p_fail(O2P_ERR_LIMIT, "plan_write: the plan would exceed the address space");
    }
    if (consistency_problem(sorted, types, count, why, sizeof why))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "plan_write: %s", why);
    *file_size = pos;
    return O2P_OK;
}

o2p_status plan_write(const plan_header *header, const plan_section_desc *sections, uint32_t count,
                      plan_sink_fn sink, void *user)
{
    plan_header h;
    uint64_t offsets[PLAN_MAX_SECTIONS];
    uint64_t file_size;
    if (!sink)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "plan_write: no sink");
    O2P_TRY(plan_layout(header, sections, count, &h, offsets, &file_size));

    uint8_t table[PLAN_MAX_SECTIONS * PLAN_SECTION_ENTRY_SIZE];
    size_t table_size = (size_t)count * PLAN_SECTION_ENTRY_SIZE;
    memset(table, 0, sizeof table);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = table + (size_t)i * PLAN_SECTION_ENTRY_SIZE;
        put_u32(e + E_TYPE, sections[i].type);
        put_u32(e + E_FLAGS, sections[i].flags);
        put_u64(e + E_OFFSET, offsets[i]);
        put_u64(e + E_SIZE, sections[i].size);
        put_u32(e + E_ALIGNMENT, section_alignment(&sections[i]));
        put_u32(e + E_CRC, o2p_crc32c(0, sections[i].data, sections[i].size));
        put_u64(e + E_RESERVED, 0);
    }

    uint8_t hd[PLAN_HEADER_SIZE];
    memset(hd, 0, sizeof hd);
    memcpy(hd + H_MAGIC, plan_magic, sizeof plan_magic);
    put_u32(hd + H_CONTAINER_VERSION, PLAN_CONTAINER_VERSION);
    put_u32(hd + H_HEADER_SIZE, PLAN_HEADER_SIZE);
    put_u32(hd + H_BYTE_ORDER, BYTE_ORDER_MARK);
    put_u16(hd + H_PRODUCER, h.producer.major);
    put_u16(hd + H_PRODUCER + 2, h.producer.minor);
    put_u16(hd + H_PRODUCER + 4, h.producer.patch);
    put_u16(hd + H_PRODUCER + 6, h.producer.build);
    put_u64(hd + H_FILE_SIZE, file_size);
    put_u32(hd + H_FLAGS, h.flags);
    put_u32(hd + H_HW_COMPAT, (uint32_t)h.hw_compat);
    put_u32(hd + H_TARGET, (uint32_t)h.target);
    put_u32(hd + H_CC_COUNT, h.compute_cap_count);
    for (int i = 0; i < PLAN_MAX_COMPUTE_CAPS; i++)
        put_u16(hd + H_CC + 2 * i, h.compute_caps[i]);
    const uint32_t dev[7] = {h.device.memory_bus_width,
                             h.device.l2_cache_size,
                             h.device.shared_mem_per_block,
                             h.device.shared_mem_per_multiprocessor,
                             h.device.texture_alignment,
                             h.device.multiprocessor_count,
                             h.device.integrated};
    for (int i = 0; i < 7; i++)
        put_u32(hd + H_DEVICE + 4 * i, dev[i]);
    put_u64(hd + H_DEVICE_MEMORY, h.device_memory_size);
    put_u32(hd + H_TACTICS, h.tactic_sources);
    put_u32(hd + H_SECTION_COUNT, count);
    put_u64(hd + H_TABLE_OFFSET, PLAN_HEADER_SIZE);
    put_u32(hd + H_TABLE_CRC, o2p_crc32c(0, table, table_size));
    put_u32(hd + H_CRC, o2p_crc32c(0, hd, H_CRC));

    O2P_TRY(sink(user, hd, sizeof hd));
    if (table_size)
        O2P_TRY(sink(user, table, table_size));
    uint64_t pos = PLAN_HEADER_SIZE + table_size;
    for (uint32_t i = 0; i < count; i++) {
        O2P_TRY(write_zeros(sink, user, offsets[i] - pos));
        if (sections[i].size)
            O2P_TRY(sink(user, sections[i].data, sections[i].size));
        pos = offsets[i] + sections[i].size;
    }
    return O2P_OK;
}

typedef struct buffer_sink {
    uint8_t *data;
    size_t size;
    size_t used;
} buffer_sink;

static o2p_status to_buffer(void *user, const void *data, size_t size)
{
    buffer_sink *b = user;
    if (size > b->size - b->used)
        return o2p_fail(O2P_ERR_INTERNAL, "plan_write: the plan outgrew its computed size");
    memcpy(b->data + b->used, data, size);
    b->used += size;
    return O2P_OK;
}

o2p_status plan_write_alloc(const plan_header *header, const plan_section_desc *sections,
                            uint32_t count, uint8_t **out, size_t *size)
{
    plan_header h;
    uint64_t offsets[PLAN_MAX_SECTIONS];
    uint64_t file_size;
    if (!out || !size)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "plan_write_alloc: no output");
    *out = NULL;
    *size = 0;
    O2P_TRY(plan_layout(header, sections, count, &h, offsets, &file_size));
    buffer_sink b = {malloc((size_t)file_size), (size_t)file_size, 0};
    if (!b.data)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "plan_write: cannot allocate %llu bytes",
                        (unsigned long long)file_size);
    o2p_status st = plan_write(header, sections, count, to_buffer, &b);
    if (st == O2P_OK && b.used != b.size)
        st = o2p_fail(O2P_ERR_INTERNAL, "plan_write: wrote %zu of %zu bytes", b.used, b.size);
    if (st != O2P_OK) {
        free(b.data);
        return st;
    }
    *out = b.data;
    *size = b.size;
    return O2P_OK;
}

/* ---------------------------------------------------------------- reader */

#define ADVICE_DAMAGED                                                                      \
    "the plan is damaged (truncated, corrupted, or copied in text mode): copy it again or " \
    "rebuild it"
#define ADVICE_MALFORMED \
    "the plan is malformed (onnx2plan does not write plans like this): rebuild it"

typedef struct reader {
    const uint8_t *p;
    size_t size;
    const char *name;
    plan_version producer; /* valid once the header checksum holds */
    int have_producer;
} reader;

static o2p_status reader_fail(const reader *r, o2p_status status, const char *fmt, ...)
    O2P_PRINTF(3, 4);
static o2p_status reader_fail(const reader *r, o2p_status status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return o2p_fail(status, "%s: %s", r->name, msg);
}

/* A value this reader does not know: a newer producer may have written it on purpose
 * (O2P_ERR_UNSUPPORTED, naming both versions); otherwise the plan is malformed. */
static o2p_status reader_unknown(const reader *r, const char *why)
{
    plan_version me = plan_this_version();
    if (r->have_producer && plan_version_cmp(r->producer, me) > 0)
        return reader_fail(r, O2P_ERR_UNSUPPORTED,
                           "%s: this plan was made by onnx2plan %u.%u.%u.%u, newer than this "
                           "one (%u.%u.%u.%u): load it with onnx2plan %u.%u.%u.%u or newer",
                           why, r->producer.major, r->producer.minor, r->producer.patch,
                           r->producer.build, me.major, me.minor, me.patch, me.build,
                           r->producer.major, r->producer.minor, r->producer.patch,
                           r->producer.build);
    return reader_fail(r, O2P_ERR_PARSE, "%s; %s", why, ADVICE_MALFORMED);
}

/* A region of the file that holds something: the header, the table, a nonempty section. */
typedef struct region {
    uint64_t offset, end;
    int section; /* -2 header, -1 table, >= 0 section index */
    uint32_t type;
} region;

static const char *region_label(const region *g, char buf[64])
{
    char tb[24];
    if (g->section == -2)
        return "the header";
    if (g->section == -1)
        return "the section table";
    snprintf(buf, 64, "section %d (%s)", g->section, type_label(g->type, tb));
    return buf;
}

static o2p_status check_magic(const reader *r)
{
    size_t n = r->size < sizeof plan_magic ? r->size : sizeof plan_magic;
    if (r->size == 0)
        return reader_fail(r, O2P_ERR_PARSE, "is empty, not a plan");
    if (memcmp(r->p, plan_magic, n) == 0) {
        if (n < sizeof plan_magic)
            return reader_fail(r, O2P_ERR_PARSE,
                               "is %zu bytes, shorter than a plan header: truncated; %s", r->size,
                               ADVICE_DAMAGED);
        return O2P_OK;
    }
    /* The signature is built to show how it was damaged (as PNG's is). */
    if (r->size >= 7 && memcmp(r->p + 1, plan_magic + 1, 6) == 0) {
        if (r->p[0] == (plan_magic[0] & 0x7F))
            return reader_fail(r, O2P_ERR_PARSE,
                               "its signature lost its high bit: it went through a 7-bit text "
                               "transfer; copy it again in binary mode");
        return reader_fail(r, O2P_ERR_PARSE,
                           "its signature's line-ending bytes differ (\\r\\n, \\x1a or \\n "
                           "rewritten): it was probably converted as text; copy it again in "
                           "binary mode");
    }
    return reader_fail(r, O2P_ERR_PARSE,
                       "is not an onnx2plan plan (it does not start with the plan signature "
                       "\\x89O2PLAN\\r\\n\\x1a\\n)");
}

static o2p_status read_header(reader *r, plan_view *v)
{
    const uint8_t *p = r->p;
    O2P_TRY(check_magic(r));
    if (r->size < H_MIN_SIZE)
        return reader_fail(r, O2P_ERR_PARSE,
                           "is %zu bytes, shorter than a plan header: truncated; %s", r->size,
                           ADVICE_DAMAGED);
    uint32_t bom = get_u32(p + H_BYTE_ORDER);
    if (bom != BYTE_ORDER_MARK)
        return reader_fail(r, O2P_ERR_PARSE, "header byte-order check is 0x%08x, not 0x%08x%s; %s",
                           bom, BYTE_ORDER_MARK,
                           bom == __builtin_bswap32(BYTE_ORDER_MARK)
                               ? ": it was written in big-endian byte order by a foreign writer"
                               : "",
                           ADVICE_DAMAGED);
    uint32_t hs = get_u32(p + H_HEADER_SIZE);
    if (hs < H_MIN_SIZE || hs > H_MAX_SIZE || hs % 8)
        return reader_fail(r, O2P_ERR_PARSE,
                           "header size %u is not a multiple of 8 from %d to %d (this version "
                           "writes %d); %s",
                           hs, H_MIN_SIZE, H_MAX_SIZE, PLAN_HEADER_SIZE, ADVICE_DAMAGED);
    if (hs > r->size)
        return reader_fail(r, O2P_ERR_PARSE,
                           "is %zu bytes, shorter than its %u-byte header: truncated; %s", r->size,
                           hs, ADVICE_DAMAGED);
    uint32_t stored = get_u32(p + hs - 4);
    uint32_t computed = o2p_crc32c(0, p, hs - 4);
    if (CHECKSUM_MISMATCH(stored, computed))
        return reader_fail(r, O2P_ERR_PARSE,
                           "header checksum mismatch (CRC32C stored 0x%08x, computed 0x%08x); %s",
                           stored, computed, ADVICE_DAMAGED);
    r->producer.major = get_u16(p + H_PRODUCER);
    r->producer.minor = get_u16(p + H_PRODUCER + 2);
    r->producer.patch = get_u16(p + H_PRODUCER + 4);
    r->producer.build = get_u16(p + H_PRODUCER + 6);
    r->have_producer = 1;

    uint32_t cv = get_u32(p + H_CONTAINER_VERSION);
    if (cv == 0)
        return reader_fail(r, O2P_ERR_PARSE, "container format version 0 is not valid; %s",
                           ADVICE_MALFORMED);
    if (cv > PLAN_CONTAINER_VERSION) {
        plan_version me = plan_this_version();
        return reader_fail(r, O2P_ERR_UNSUPPORTED,
                           "container format version %u is newer than the version this "
                           "onnx2plan (%u.%u.%u.%u) reads (%d): this plan was made by a newer "
                           "onnx2plan %u.%u.%u.%u; load it with that version or newer",
                           cv, me.major, me.minor, me.patch, me.build, PLAN_CONTAINER_VERSION,
                           r->producer.major, r->producer.minor, r->producer.patch,
                           r->producer.build);
    }
    if (hs != PLAN_HEADER_SIZE)
        return reader_fail(r, O2P_ERR_PARSE,
                           "header size %u, but container format version %u has a %d-byte "
                           "header; %s",
                           hs, cv, PLAN_HEADER_SIZE, ADVICE_MALFORMED);
    uint64_t fs = get_u64(p + H_FILE_SIZE);
    if (fs > r->size)
        return reader_fail(r, O2P_ERR_PARSE, "is %zu bytes but its header says %llu: truncated; %s",
                           r->size, (unsigned long long)fs, ADVICE_DAMAGED);
    if (fs < r->size)
        return reader_fail(r, O2P_ERR_PARSE,
                           "is %zu bytes but its header says %llu: %llu unexpected trailing "
                           "byte(s); %s",
                           r->size, (unsigned long long)fs, (unsigned long long)(r->size - fs),
                           ADVICE_DAMAGED);
    v->container_version = cv;
    v->header_size = hs;
    v->file_size = fs;
    v->header_crc32c = stored;

    plan_header *h = &v->header;
    h->producer = r->producer;
    h->flags = get_u32(p + H_FLAGS);
    h->hw_compat = (plan_hw_compat)get_u32(p + H_HW_COMPAT);
    h->target = (plan_target)get_u32(p + H_TARGET);
    h->compute_cap_count = get_u32(p + H_CC_COUNT);
    for (int i = 0; i < PLAN_MAX_COMPUTE_CAPS; i++)
        h->compute_caps[i] = get_u16(p + H_CC + 2 * i);
    uint32_t *dev[7] = {&h->device.memory_bus_width,
                        &h->device.l2_cache_size,
                        &h->device.shared_mem_per_block,
                        &h->device.shared_mem_per_multiprocessor,
                        &h->device.texture_alignment,
                        &h->device.multiprocessor_count,
                        &h->device.integrated};
    for (int i = 0; i < 7; i++)
        *dev[i] = get_u32(p + H_DEVICE + 4 * i);
    h->device_memory_size = get_u64(p + H_DEVICE_MEMORY);
    h->tactic_sources = get_u32(p + H_TACTICS);
    v->section_count = get_u32(p + H_SECTION_COUNT);
    v->section_table_offset = get_u64(p + H_TABLE_OFFSET);
    v->section_table_crc32c = get_u32(p + H_TABLE_CRC);

    char why[256];
    static const int reserved[][2] = {{H_DEVICE_RESERVED, H_DEVICE_MEMORY}, {H_RESERVED, H_CRC}};
    for (int k = 0; k < 2; k++) {
        for (int off = reserved[k][0]; off < reserved[k][1]; off++) {
            if (p[off]) {
                snprintf(why, sizeof why, "header: reserved byte %d is 0x%02x, not zero", off,
                         p[off]);
                return reader_unknown(r, why);
            }
        }
    }
    int unknown;
    if (header_problem(h, why, sizeof why, &unknown)) {
        char msg[300];
        snprintf(msg, sizeof msg, "header: %s", why);
        return unknown ? reader_unknown(r, msg)
                       : reader_fail(r, O2P_ERR_PARSE, "%s; %s", msg, ADVICE_MALFORMED);
    }
    return O2P_OK;
}

static void sort_regions(region *g, int n)
{
    for (int i = 1; i < n; i++) {
        region x = g[i];
        int j = i - 1;
        while (j >= 0 &&
               (g[j].offset > x.offset || (g[j].offset == x.offset && g[j].section > x.section))) {
            g[j + 1] = g[j];
            j--;
        }
        g[j + 1] = x;
    }
}

/* Every byte outside the header, the table and the sections must be zero. */
static o2p_status check_gap(const reader *r, uint64_t from, uint64_t to, const region *before,
                            const region *after)
{
    for (uint64_t i = from; i < to; i++) {
        if (r->p[i] == 0)
            continue;
        char b1[64], b2[64];
        return reader_fail(r, O2P_ERR_PARSE,
                           "padding byte at offset %llu (between %s and %s) is 0x%02x, not zero; "
                           "%s",
                           (unsigned long long)i, region_label(before, b1),
                           after ? region_label(after, b2) : "the end of the plan", r->p[i],
                           ADVICE_DAMAGED);
    }
    return O2P_OK;
}

static o2p_status read_sections(reader *r, plan_view *v)
{
    const uint8_t *p = r->p;
    uint64_t fs = v->file_size;
    uint32_t count = v->section_count;
    uint64_t toff = v->section_table_offset;
    if (count > PLAN_MAX_SECTIONS)
        return reader_fail(r, O2P_ERR_PARSE,
                           "header: section count %u is above the limit of %d; %s", count,
                           PLAN_MAX_SECTIONS, ADVICE_MALFORMED);
    uint64_t tsize = (uint64_t)count * PLAN_SECTION_ENTRY_SIZE;
    if (toff < v->header_size || toff % 8 || toff > fs || tsize > fs - toff)
        return reader_fail(r, O2P_ERR_PARSE,
                           "header: the section table (offset %llu, %u entries of %d bytes) does "
                           "not lie 8-byte aligned between the header and the end of the plan "
                           "(%llu bytes); %s",
                           (unsigned long long)toff, count, PLAN_SECTION_ENTRY_SIZE,
                           (unsigned long long)fs, ADVICE_MALFORMED);
    const uint8_t *table = p + toff;
    uint32_t tcrc = o2p_crc32c(0, table, (size_t)tsize);
    if (CHECKSUM_MISMATCH(v->section_table_crc32c, tcrc))
        return reader_fail(r, O2P_ERR_PARSE,
                           "section table checksum mismatch (CRC32C stored 0x%08x, computed "
                           "0x%08x); %s",
                           v->section_table_crc32c, tcrc, ADVICE_DAMAGED);

    region regions[PLAN_MAX_SECTIONS + 2];
    int nreg = 0;
    regions[nreg++] = (region){0, v->header_size, -2, 0};
    if (tsize)
        regions[nreg++] = (region){toff, toff + tsize, -1, 0};
    uint32_t types[PLAN_MAX_SECTIONS];
    char why[256];
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = table + (size_t)i * PLAN_SECTION_ENTRY_SIZE;
        plan_section *s = &v->sections[i];
        s->type = get_u32(e + E_TYPE);
        s->flags = get_u32(e + E_FLAGS);
        s->offset = get_u64(e + E_OFFSET);
        s->size = get_u64(e + E_SIZE);
        s->alignment = get_u32(e + E_ALIGNMENT);
        s->crc32c = get_u32(e + E_CRC);
        types[i] = s->type;
        char tb[24];
        const char *tl = type_label(s->type, tb);
        uint64_t reserved = get_u64(e + E_RESERVED);
        if (reserved) {
            snprintf(why, sizeof why, "section %u (%s): reserved field is 0x%llx, not zero", i, tl,
                     (unsigned long long)reserved);
            return reader_unknown(r, why);
        }
        int unknown;
        if (section_problem(i, s->type, s->flags, s->alignment, why, sizeof why, &unknown))
            return unknown ? reader_unknown(r, why)
                           : reader_fail(r, O2P_ERR_PARSE, "%s; %s", why, ADVICE_MALFORMED);
        if (s->offset % s->alignment)
            return reader_fail(r, O2P_ERR_PARSE,
                               "section %u (%s): offset %llu is not a multiple of its alignment "
                               "%u; %s",
                               i, tl, (unsigned long long)s->offset, s->alignment,
                               ADVICE_MALFORMED);
        if (s->offset > fs || s->size > fs - s->offset)
            return reader_fail(r, O2P_ERR_PARSE,
                               "section %u (%s): offset %llu + size %llu runs past the end of "
                               "the plan (%llu bytes); %s",
                               i, tl, (unsigned long long)s->offset, (unsigned long long)s->size,
                               (unsigned long long)fs, ADVICE_MALFORMED);
        if (s->offset < v->header_size)
            return reader_fail(r, O2P_ERR_PARSE,
                               "section %u (%s): offset %llu lies inside the header (%u bytes); "
                               "%s",
                               i, tl, (unsigned long long)s->offset, v->header_size,
                               ADVICE_MALFORMED);
        if (s->size)
            regions[nreg++] = (region){s->offset, s->offset + s->size, (int)i, s->type};
    }

    /* No overlaps, and zero bytes between the regions. */
    sort_regions(regions, nreg);
    for (int k = 1; k < nreg; k++) {
        const region *a = &regions[k - 1], *b = &regions[k];
        if (b->offset < a->end) {
            char b1[64], b2[64];
            return reader_fail(
                r, O2P_ERR_PARSE, "%s (bytes %llu..%llu) overlaps %s (bytes %llu..%llu); %s",
                region_label(b, b1), (unsigned long long)b->offset, (unsigned long long)b->end,
                region_label(a, b2), (unsigned long long)a->offset, (unsigned long long)a->end,
                ADVICE_MALFORMED);
        }
        O2P_TRY(check_gap(r, a->end, b->offset, a, b));
    }
    O2P_TRY(check_gap(r, regions[nreg - 1].end, fs, &regions[nreg - 1], NULL));

    if (consistency_problem(&v->header, types, count, why, sizeof why))
        return reader_fail(r, O2P_ERR_PARSE, "%s; %s", why, ADVICE_MALFORMED);

    /* Last, the expensive part: every section's checksum. */
    for (uint32_t i = 0; i < count; i++) {
        plan_section *s = &v->sections[i];
        uint32_t crc = o2p_crc32c(0, p + s->offset, (size_t)s->size);
        if (CHECKSUM_MISMATCH(s->crc32c, crc)) {
            char tb[24];
            return reader_fail(r, O2P_ERR_PARSE,
                               "section %u (%s): checksum mismatch (CRC32C stored 0x%08x, "
                               "computed 0x%08x over %llu bytes at offset %llu); %s",
                               i, type_label(s->type, tb), s->crc32c, crc,
                               (unsigned long long)s->size, (unsigned long long)s->offset,
                               ADVICE_DAMAGED);
        }
        s->data = p + s->offset;
    }
    return O2P_OK;
}

o2p_status plan_read(const void *data, size_t size, const char *name, plan_view *view)
{
    if (!view)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "plan_read: no view");
    memset(view, 0, sizeof *view);
    reader r = {data, size, name ? name : "plan", {0, 0, 0, 0}, 0};
    if (!data && size)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "%s: plan_read: no data", r.name);
    o2p_status st = read_header(&r, view);
    if (st == O2P_OK)
        st = read_sections(&r, view);
    if (st != O2P_OK)
        memset(view, 0, sizeof *view);
    return st;
}

int plan_find_section(const plan_view *view, uint32_t type, int start)
{
    if (start < 0)
        start = 0;
    for (uint32_t i = (uint32_t)start; i < view->section_count; i++)
        if (view->sections[i].type == type)
            return (int)i;
    return -1;
}
