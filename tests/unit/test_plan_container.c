/* test_plan_container.c: the plan container (docs/plan-format.md): CRC32C, writer and reader
 * round trips, determinism, and a reader that refuses every truncation, every single-byte
 * change and every hand-made malformation with a message that names what is wrong. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "plan/plan.h"
#include "testutil.h"

/* The layout as docs/plan-format.md documents it (kept apart from container.c on purpose:
 * these tests check the document too). */
enum {
    H_CONTAINER_VERSION = 12,
    H_HEADER_SIZE = 16,
    H_BYTE_ORDER = 20,
    H_PRODUCER = 24,
    H_FILE_SIZE = 32,
    H_FLAGS = 40,
    H_HW_COMPAT = 44,
    H_TARGET = 48,
    H_CC_COUNT = 52,
    H_CC = 56,
    H_DEVICE = 88,
    H_DEVICE_MEMORY = 120,
    H_TACTICS = 128,
    H_SECTION_COUNT = 132,
    H_TABLE_OFFSET = 136,
    H_TABLE_CRC = 144,
    H_CRC = 252,
    HEADER = 256,
    ENTRY = 40,
    E_TYPE = 0,
    E_FLAGS = 4,
    E_OFFSET = 8,
    E_SIZE = 16,
    E_ALIGNMENT = 24,
    E_CRC = 28,
    E_RESERVED = 32
};

/* ---------------------------------------------------------------- helpers */

static void set32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void set64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint8_t *entry(uint8_t *plan, int i)
{
    return plan + get64(plan + H_TABLE_OFFSET) + (size_t)i * ENTRY;
}

/* Recompute the table and header checksums after a hand edit, so that the edit itself is
 * what the reader sees (not a checksum mismatch). */
static void reseal(uint8_t *plan, size_t size)
{
    uint64_t count = get32(plan + H_SECTION_COUNT), off = get64(plan + H_TABLE_OFFSET);
    if (count <= PLAN_MAX_SECTIONS && off <= size && count * ENTRY <= size - off)
        set32(plan + H_TABLE_CRC, o2p_crc32c(0, plan + off, (size_t)count * ENTRY));
    set32(plan + H_CRC, o2p_crc32c(0, plan, H_CRC));
}

static void fill_random(uint8_t *p, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(tu_rand(state) >> 24);
}

/* A cuda, version-compatible, hardware-compatible header with every field set. */
static void full_header(plan_header *h)
{
    plan_header_init(h);
    h->producer = (plan_version){1, 0, 0, 1};
    h->flags = PLAN_FLAG_VERSION_COMPATIBLE | PLAN_FLAG_LEAN_RUNTIME_EMBEDDED |
               PLAN_FLAG_HAS_PLUGINS | PLAN_FLAG_HOST_CODE;
    h->hw_compat = PLAN_HW_COMPAT_AMPERE_PLUS;
    h->target = PLAN_TARGET_CUDA;
    h->compute_cap_count = 3;
    h->compute_caps[0] = 80;
    h->compute_caps[1] = 90;
    h->compute_caps[2] = 120;
    h->device = (plan_device_props){5120, 52428800, 49152, 233472, 512, 132, 0};
    h->device_memory_size = 0x123456789ull;
    h->tactic_sources = PLAN_TACTIC_BUILTIN | PLAN_TACTIC_CUBLASLT;
}

/* Section payloads: deterministic bytes. */
typedef struct payloads {
    uint8_t engine[1000], lean[3000], plugin1[17], plugin2[5], future[33], meta[64];
} payloads;

static void make_payloads(payloads *p)
{
    uint64_t st = 0x1234567;
    fill_random(p->engine, sizeof p->engine, &st);
    fill_random(p->lean, sizeof p->lean, &st);
    fill_random(p->plugin1, sizeof p->plugin1, &st);
    fill_random(p->plugin2, sizeof p->plugin2, &st);
    fill_random(p->future, sizeof p->future, &st);
    fill_random(p->meta, sizeof p->meta, &st);
}

/* Six sections of different types, alignments and sizes (one of a type this reader does not
 * know, skippable). */
static uint32_t full_sections(const payloads *p, plan_section_desc *s)
{
    s[0] = (plan_section_desc){PLAN_SECTION_ENGINE, PLAN_SECTION_REQUIRED, 256, p->engine,
                               sizeof p->engine};
    s[1] = (plan_section_desc){PLAN_SECTION_LEAN_RUNTIME, PLAN_SECTION_REQUIRED, 4096, p->lean,
                               sizeof p->lean};
    s[2] = (plan_section_desc){PLAN_SECTION_PLUGIN_LIBRARY, 0, 64, p->plugin1, sizeof p->plugin1};
    s[3] = (plan_section_desc){PLAN_SECTION_PLUGIN_LIBRARY, 0, 1, p->plugin2, sizeof p->plugin2};
    s[4] = (plan_section_desc){100, 0, 16, p->future, sizeof p->future};
    s[5] = (plan_section_desc){PLAN_SECTION_METADATA, 0, 0, p->meta, sizeof p->meta};
    return 6;
}

static uint8_t *write_plan(const plan_header *h, const plan_section_desc *s, uint32_t n,
                           size_t *size)
{
    uint8_t *out = NULL;
    TU_ASSERT_STATUS(plan_write_alloc(h, s, n, &out, size), O2P_OK);
    ck_assert_ptr_nonnull(out);
    return out;
}

/* A small standard plan: header, three sections (ENGINE, METADATA, a skippable unknown type);
 * about 600 bytes, for the exhaustive tests. */
static const uint8_t small_engine[40] = "engine bytes: kernels and weights ......";
static const uint8_t small_meta[9] = "metadata";
static const uint8_t small_future[3] = {1, 2, 3};

static uint8_t *small_plan(size_t *size)
{
    plan_header h;
    plan_header_init(&h); /* producer: this build, so that nothing here looks newer */
    h.target = PLAN_TARGET_CUDA;
    h.compute_cap_count = 1;
    h.compute_caps[0] = 86;
    h.device = (plan_device_props){384, 6291456, 49152, 102400, 512, 82, 0};
    h.device_memory_size = 4096;
    h.tactic_sources = PLAN_TACTIC_BUILTIN;
    plan_section_desc s[3] = {
        {PLAN_SECTION_ENGINE, PLAN_SECTION_REQUIRED, 256, small_engine, sizeof small_engine},
        {PLAN_SECTION_METADATA, 0, 8, small_meta, sizeof small_meta},
        {77, 0, 4, small_future, sizeof small_future},
    };
    return write_plan(&h, s, 3, size);
}

static int views_equal(const plan_view *a, const plan_view *b)
{
    if (memcmp(&a->header.producer, &b->header.producer, sizeof a->header.producer) ||
        a->header.flags != b->header.flags || a->header.hw_compat != b->header.hw_compat ||
        a->header.target != b->header.target ||
        a->header.compute_cap_count != b->header.compute_cap_count ||
        memcmp(a->header.compute_caps, b->header.compute_caps, sizeof a->header.compute_caps) ||
        memcmp(&a->header.device, &b->header.device, sizeof a->header.device) ||
        a->header.device_memory_size != b->header.device_memory_size ||
        a->header.tactic_sources != b->header.tactic_sources ||
        a->section_count != b->section_count || a->file_size != b->file_size)
        return 0;
    for (uint32_t i = 0; i < a->section_count; i++) {
        const plan_section *x = &a->sections[i], *y = &b->sections[i];
        if (x->type != y->type || x->flags != y->flags || x->offset != y->offset ||
            x->size != y->size || x->alignment != y->alignment ||
            memcmp(x->data, y->data, (size_t)x->size))
            return 0;
    }
    return 1;
}

/* plan_read on a copy of bytes at a deliberately odd address. */
static o2p_status read_copy(const uint8_t *bytes, size_t size, plan_view *v, uint8_t **keep)
{
    uint8_t *buf = malloc(size + 3);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf + 3, bytes, size);
    o2p_status st = plan_read(buf + 3, size, "odd.plan", v);
    *keep = buf;
    return st;
}

/* Expects plan_read to refuse with status and a message naming test.plan and each needle
 * (line: the caller's, for the failure report). PLAN_TEST_VERBOSE=1 prints every message. */
static void expect_refused(int line, const uint8_t *plan, size_t size, o2p_status status,
                           const char *const *needles)
{
    plan_view v;
    o2p_clear_error();
    o2p_status st = plan_read(plan, size, "test.plan", &v);
    const char *msg = o2p_last_error();
    if (getenv("PLAN_TEST_VERBOSE"))
        printf("line %d: %s: %s\n", line, o2p_status_name(st), msg);
    ck_assert_msg(st == status, "line %d: %s, expected %s; message: %s", line, o2p_status_name(st),
                  o2p_status_name(status), msg);
    ck_assert_msg(tu_contains(msg, "test.plan: "),
                  "line %d: the message does not name the plan: %s", line, msg);
    for (; needles && *needles; needles++)
        ck_assert_msg(tu_contains(msg, *needles), "line %d: the message does not mention '%s': %s",
                      line, *needles, msg);
    ck_assert_uint_eq(v.section_count, 0); /* the view is cleared on failure */
}
#define REFUSED(plan, size, status, ...)                              \
    do {                                                              \
        const char *needles_[] = {__VA_ARGS__, NULL};                 \
        expect_refused(__LINE__, (plan), (size), (status), needles_); \
    } while (0)

/* ---------------------------------------------------------------- CRC32C */

START_TEST(crc32c_known_answers)
{
    static const struct {
        const char *name;
        uint8_t fill; /* 0: zeros, 1: 0xFF, 2: ascending, 3: descending */
        uint32_t want;
    } rfc3720[] = {
        {"32 zero bytes", 0, 0x8A9136AA},
        {"32 bytes 0xFF", 1, 0x62A8AB43},
        {"32 bytes ascending", 2, 0x46DD794E},
        {"32 bytes descending", 3, 0x113FDB5C},
    };
    const char *digits = "123456789";
    ck_assert_uint_eq(o2p_crc32c(0, digits, 9), 0xE3069283u);
    ck_assert_uint_eq(o2p_crc32c_portable(0, digits, 9), 0xE3069283u);
    ck_assert_uint_eq(o2p_crc32c(0, NULL, 0), 0);
    /* Incremental: any split gives the same result. */
    for (size_t k = 0; k <= 9; k++)
        ck_assert_uint_eq(o2p_crc32c(o2p_crc32c(0, digits, k), digits + k, 9 - k), 0xE3069283u);
    for (size_t t = 0; t < sizeof rfc3720 / sizeof rfc3720[0]; t++) {
        uint8_t b[32];
        for (int i = 0; i < 32; i++)
            b[i] = rfc3720[t].fill == 0   ? 0
                   : rfc3720[t].fill == 1 ? 0xFF
                   : rfc3720[t].fill == 2 ? (uint8_t)i
                                          : (uint8_t)(31 - i);
        ck_assert_msg(o2p_crc32c(0, b, 32) == rfc3720[t].want, "%s: 0x%08x, want 0x%08x",
                      rfc3720[t].name, o2p_crc32c(0, b, 32), rfc3720[t].want);
        ck_assert_uint_eq(o2p_crc32c_portable(0, b, 32), rfc3720[t].want);
        uint32_t hw = 0;
        if (o2p_crc32c_hardware(&hw, b, 32))
            ck_assert_uint_eq(hw, rfc3720[t].want);
    }
}
END_TEST

START_TEST(crc32c_fast_equals_portable)
{
    enum { MAX = 1 << 16 };
    uint8_t *buf = malloc(MAX + 16);
    ck_assert_ptr_nonnull(buf);
    uint64_t st = 42;
    fill_random(buf, MAX + 16, &st);
    uint32_t probe = 0;
    int have_hw = o2p_crc32c_hardware(&probe, buf, 1);
    printf("crc32c: hardware path %s\n", have_hw ? "available (SSE4.2)" : "not available");
    for (int iter = 0; iter < 3000; iter++) {
        size_t off = tu_rand(&st) % 16;
        size_t len = iter < 300 ? (size_t)iter : tu_rand(&st) % (iter % 10 == 0 ? MAX : 1024);
        uint32_t seed = iter % 3 ? (uint32_t)tu_rand(&st) : 0;
        uint32_t want = o2p_crc32c_portable(seed, buf + off, len);
        ck_assert_uint_eq(o2p_crc32c(seed, buf + off, len), want);
        uint32_t hw = seed;
        if (have_hw) {
            ck_assert(o2p_crc32c_hardware(&hw, buf + off, len));
            ck_assert_msg(hw == want, "len %zu off %zu: hardware 0x%08x, portable 0x%08x", len, off,
                          hw, want);
        }
        size_t cut = len ? tu_rand(&st) % len : 0;
        ck_assert_uint_eq(o2p_crc32c(o2p_crc32c(seed, buf + off, cut), buf + off + cut, len - cut),
                          want);
        ck_assert_uint_eq(o2p_crc32c_portable(o2p_crc32c_portable(seed, buf + off, cut),
                                              buf + off + cut, len - cut),
                          want);
    }
    free(buf);
}
END_TEST

/* ---------------------------------------------------------------- writer and reader */

START_TEST(round_trip_every_field)
{
    payloads p;
    make_payloads(&p);
    plan_header h;
    full_header(&h);
    plan_section_desc s[8];
    uint32_t n = full_sections(&p, s);
    size_t size;
    uint8_t *plan = write_plan(&h, s, n, &size);

    plan_view v;
    uint8_t *keep;
    TU_ASSERT_STATUS(read_copy(plan, size, &v, &keep), O2P_OK);
    ck_assert_uint_eq(v.container_version, PLAN_CONTAINER_VERSION);
    ck_assert_uint_eq(v.header_size, PLAN_HEADER_SIZE);
    ck_assert_uint_eq(v.file_size, size);
    ck_assert_uint_eq(v.section_table_offset, PLAN_HEADER_SIZE);
    ck_assert_mem_eq(&v.header.producer, &h.producer, sizeof h.producer);
    ck_assert_uint_eq(v.header.flags, h.flags);
    ck_assert_int_eq(v.header.hw_compat, h.hw_compat);
    ck_assert_int_eq(v.header.target, h.target);
    ck_assert_uint_eq(v.header.compute_cap_count, 3);
    ck_assert_mem_eq(v.header.compute_caps, h.compute_caps, sizeof h.compute_caps);
    ck_assert_mem_eq(&v.header.device, &h.device, sizeof h.device);
    ck_assert_uint_eq(v.header.device_memory_size, h.device_memory_size);
    ck_assert_uint_eq(v.header.tactic_sources, h.tactic_sources);
    ck_assert_uint_eq(v.section_count, n);
    uint64_t prev_end = PLAN_HEADER_SIZE + n * PLAN_SECTION_ENTRY_SIZE;
    for (uint32_t i = 0; i < n; i++) {
        const plan_section *x = &v.sections[i];
        uint32_t align = s[i].alignment ? s[i].alignment : 64;
        ck_assert_uint_eq(x->type, s[i].type);
        ck_assert_uint_eq(x->flags, s[i].flags);
        ck_assert_uint_eq(x->size, s[i].size);
        ck_assert_uint_eq(x->alignment, align);
        ck_assert_uint_eq(x->offset % align, 0);
        /* Each section sits at the first offset after the previous one that honours it. */
        ck_assert_uint_eq(x->offset, (prev_end + align - 1) / align * align);
        prev_end = x->offset + x->size;
        ck_assert_ptr_eq(x->data, keep + 3 + x->offset);
        ck_assert_mem_eq(x->data, s[i].data, s[i].size);
        ck_assert_uint_eq(x->crc32c, o2p_crc32c(0, s[i].data, s[i].size));
    }
    ck_assert_uint_eq(prev_end, size);
    ck_assert_int_eq(plan_find_section(&v, PLAN_SECTION_ENGINE, 0), 0);
    ck_assert_int_eq(plan_find_section(&v, PLAN_SECTION_PLUGIN_LIBRARY, 0), 2);
    ck_assert_int_eq(plan_find_section(&v, PLAN_SECTION_PLUGIN_LIBRARY, 3), 3);
    ck_assert_int_eq(plan_find_section(&v, PLAN_SECTION_PLUGIN_LIBRARY, 4), -1);
    ck_assert_int_eq(plan_find_section(&v, 100, 0), 4);

    /* The same bytes at every alignment of the buffer read the same. */
    for (int shift = 0; shift < 8; shift++) {
        uint8_t *b = malloc(size + 8);
        memcpy(b + shift, plan, size);
        plan_view w;
        TU_ASSERT_STATUS(plan_read(b + shift, size, NULL, &w), O2P_OK);
        ck_assert(views_equal(&v, &w));
        free(b);
    }
    free(keep);
    free(plan);
}
END_TEST

START_TEST(round_trip_host_and_standard)
{
    plan_header h;
    plan_header_init(&h);
    ck_assert_int_eq(plan_version_cmp(h.producer, plan_this_version()), 0);
    h.target = PLAN_TARGET_HOST;
    h.tactic_sources = PLAN_TACTIC_BUILTIN;
    uint8_t engine[300];
    memset(engine, 7, sizeof engine);
    plan_section_desc s = {PLAN_SECTION_ENGINE, PLAN_SECTION_REQUIRED, 0, engine, sizeof engine};
    size_t size;
    uint8_t *plan = write_plan(&h, &s, 1, &size);
    plan_view v;
    TU_ASSERT_STATUS(plan_read(plan, size, "host.plan", &v), O2P_OK);
    ck_assert_int_eq(v.header.target, PLAN_TARGET_HOST);
    ck_assert_uint_eq(v.sections[0].alignment, 256); /* the ENGINE default */
    ck_assert_uint_eq(v.sections[0].offset, 512);
    ck_assert_uint_eq(size, 512 + sizeof engine);
    free(plan);
}
END_TEST

typedef struct chunks {
    uint8_t *data;
    size_t used, cap;
    size_t calls;
    size_t fail_after; /* fail once this many bytes went through (0: never) */
} chunks;

static o2p_status chunk_sink(void *user, const void *data, size_t size)
{
    chunks *c = user;
    if (c->fail_after && c->used + size > c->fail_after)
        return o2p_fail(O2P_ERR_IO, "disk full");
    ck_assert_uint_le(c->used + size, c->cap);
    memcpy(c->data + c->used, data, size);
    c->used += size;
    c->calls++;
    return O2P_OK;
}

START_TEST(deterministic_output)
{
    payloads p1, p2;
    make_payloads(&p1);
    make_payloads(&p2);
    plan_header h1, h2;
    /* Different garbage under the structs: the writer must not let any of it through. */
    memset(&h1, 0xA5, sizeof h1);
    memset(&h2, 0x5A, sizeof h2);
    full_header(&h1);
    full_header(&h2);
    plan_section_desc s1[8], s2[8];
    uint32_t n = full_sections(&p1, s1);
    full_sections(&p2, s2);
    size_t z1, z2;
    uint8_t *a = write_plan(&h1, s1, n, &z1);
    uint8_t *b = write_plan(&h2, s2, n, &z2);
    ck_assert_uint_eq(z1, z2);
    ck_assert_mem_eq(a, b, z1);

    /* The streaming writer gives the same bytes, and its sink's failure stops it. */
    chunks c = {calloc(1, z1), 0, z1, 0, 0};
    TU_ASSERT_STATUS(plan_write(&h1, s1, n, chunk_sink, &c), O2P_OK);
    ck_assert_uint_eq(c.used, z1);
    ck_assert_mem_eq(c.data, a, z1);
    chunks f = {calloc(1, z1), 0, z1, 0, 1000};
    TU_ASSERT_STATUS(plan_write(&h1, s1, n, chunk_sink, &f), O2P_ERR_IO);
    TU_ASSERT_ERROR_HAS("disk full");

    /* Compute capabilities in any order give the same plan (the writer sorts them). */
    h2.compute_caps[0] = 120;
    h2.compute_caps[2] = 80;
    uint8_t *d = write_plan(&h2, s2, n, &z2);
    ck_assert_mem_eq(a, d, z1);

    free(c.data);
    free(f.data);
    free(a);
    free(b);
    free(d);
}
END_TEST

START_TEST(zero_length_and_empty)
{
    /* An empty section list: a valid container (the runtime, not the container, wants an
     * ENGINE section). */
    plan_header h;
    plan_header_init(&h);
    h.target = PLAN_TARGET_HOST;
    size_t size;
    uint8_t *plan = write_plan(&h, NULL, 0, &size);
    ck_assert_uint_eq(size, PLAN_HEADER_SIZE);
    plan_view v;
    TU_ASSERT_STATUS(plan_read(plan, size, "empty.plan", &v), O2P_OK);
    ck_assert_uint_eq(v.section_count, 0);
    ck_assert_int_eq(plan_find_section(&v, PLAN_SECTION_ENGINE, 0), -1);
    free(plan);

    /* Zero-length sections, of a known and an unknown type, between and after others. */
    uint8_t engine[10] = "0123456789";
    plan_section_desc s[4] = {
        {PLAN_SECTION_METADATA, 0, 8, NULL, 0},
        {PLAN_SECTION_ENGINE, PLAN_SECTION_REQUIRED, 256, engine, sizeof engine},
        {9, 0, 4096, NULL, 0},
        {PLAN_SECTION_PLUGIN_LIBRARY, 0, 1, engine, 0},
    };
    h.flags = PLAN_FLAG_HAS_PLUGINS | PLAN_FLAG_HOST_CODE;
    plan = write_plan(&h, s, 4, &size);
    TU_ASSERT_STATUS(plan_read(plan, size, "zero.plan", &v), O2P_OK);
    ck_assert_uint_eq(v.section_count, 4);
    ck_assert_uint_eq(v.sections[0].size, 0);
    ck_assert_uint_eq(v.sections[0].crc32c, 0);
    ck_assert_uint_eq(v.sections[2].offset % 4096, 0);
    ck_assert_uint_eq(v.sections[2].offset, size); /* at the end of the file */
    ck_assert_mem_eq(v.sections[1].data, engine, sizeof engine);

    /* An empty section may sit anywhere aligned, even inside another one: it holds no bytes. */
    set64(entry(plan, 0) + E_OFFSET, v.sections[1].offset + 8);
    reseal(plan, size);
    TU_ASSERT_STATUS(plan_read(plan, size, "zero.plan", &v), O2P_OK);
    /* But never inside the header, nor past the end. */
    set64(entry(plan, 0) + E_OFFSET, 248);
    reseal(plan, size);
    REFUSED(plan, size, O2P_ERR_PARSE, "section 0 (METADATA)", "inside the header");
    set64(entry(plan, 0) + E_OFFSET, (size + 8) / 8 * 8);
    reseal(plan, size);
    REFUSED(plan, size, O2P_ERR_PARSE, "section 0 (METADATA)", "past the end");
    free(plan);
}
END_TEST

/* A version-1 plan assembled by hand from docs/plan-format.md's tables must equal the
 * writer's output, and its checksum is frozen: if this test fails, the container format
 * changed, and that needs a new container version (docs/plan-format.md, "Versioning"). */
#define GOLDEN_V1_CRC32C 0x8CC6C9CAu
START_TEST(golden_version_1_layout)
{
    static const uint8_t engine[16] = "golden engine v1";
    static const uint8_t meta[6] = "golden";
    enum { SIZE = 534 };
    uint8_t want[SIZE];
    memset(want, 0, sizeof want);
    memcpy(want, "\x89O2PLAN\r\n\x1a\n", 12);
    set32(want + H_CONTAINER_VERSION, 1);
    set32(want + H_HEADER_SIZE, 256);
    set32(want + H_BYTE_ORDER, 0x01020304);
    set32(want + H_PRODUCER, 1);            /* major 1, minor 0 */
    set32(want + H_PRODUCER + 4, 1u << 16); /* patch 0, build 1 */
    set64(want + H_FILE_SIZE, SIZE);
    set64(want + H_DEVICE_MEMORY, 4096);
    set32(want + H_TACTICS, 1);
    set32(want + H_SECTION_COUNT, 2);
    set64(want + H_TABLE_OFFSET, 256);
    uint8_t *e = want + 256;
    set32(e + E_TYPE, 1);
    set32(e + E_FLAGS, 1);
    set64(e + E_OFFSET, 512);
    set64(e + E_SIZE, 16);
    set32(e + E_ALIGNMENT, 256);
    set32(e + E_CRC, o2p_crc32c(0, engine, 16));
    e += ENTRY;
    set32(e + E_TYPE, 4);
    set64(e + E_OFFSET, 528);
    set64(e + E_SIZE, 6);
    set32(e + E_ALIGNMENT, 8);
    set32(e + E_CRC, o2p_crc32c(0, meta, 6));
    memcpy(want + 512, engine, 16);
    memcpy(want + 528, meta, 6);
    reseal(want, SIZE);

    plan_header h;
    plan_header_init(&h);
    h.producer = (plan_version){1, 0, 0, 1};
    h.device_memory_size = 4096;
    h.tactic_sources = PLAN_TACTIC_BUILTIN;
    plan_section_desc s[2] = {{PLAN_SECTION_ENGINE, PLAN_SECTION_REQUIRED, 0, engine, 16},
                              {PLAN_SECTION_METADATA, 0, 8, meta, 6}};
    size_t size;
    uint8_t *plan = write_plan(&h, s, 2, &size);
    ck_assert_uint_eq(size, SIZE);
    for (size_t i = 0; i < SIZE; i++)
        ck_assert_msg(plan[i] == want[i], "byte %zu: written 0x%02x, documented 0x%02x", i, plan[i],
                      want[i]);
    ck_assert_msg(o2p_crc32c(0, want, SIZE) == GOLDEN_V1_CRC32C,
                  "the version-1 sample plan's CRC32C is 0x%08x, frozen as 0x%08x",
                  o2p_crc32c(0, want, SIZE), GOLDEN_V1_CRC32C);
    plan_view v;
    TU_ASSERT_STATUS(plan_read(want, SIZE, "golden.plan", &v), O2P_OK);
    free(plan);
}
END_TEST

/* ---------------------------------------------------------------- every damage is refused */

START_TEST(every_truncation_refused)
{
    size_t size;
    uint8_t *plan = small_plan(&size);
    plan_view v;
    TU_ASSERT_STATUS(plan_read(plan, size, "small.plan", &v), O2P_OK);
    for (size_t len = 0; len < size; len++) {
        /* A fresh copy of exactly len bytes, so ASan sees any read past the end. */
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, plan, len);
        o2p_clear_error();
        o2p_status st = plan_read(len ? cut : NULL, len, "small.plan", &v);
        ck_assert_msg(st == O2P_ERR_PARSE, "length %zu: %s", len, o2p_status_name(st));
        ck_assert_msg(tu_contains(o2p_last_error(), "small.plan: "), "length %zu: %s", len,
                      o2p_last_error());
        if (len >= 12)
            ck_assert_msg(tu_contains(o2p_last_error(), "truncated"), "length %zu: %s", len,
                          o2p_last_error());
        free(cut);
    }
    /* And one byte too many. */
    uint8_t *longer = calloc(1, size + 1);
    memcpy(longer, plan, size);
    REFUSED(longer, size + 1, O2P_ERR_PARSE, "1 unexpected trailing byte");
    free(longer);
    free(plan);
}
END_TEST

START_TEST(every_byte_change_refused)
{
    size_t size;
    uint8_t *plan = small_plan(&size);
    plan_view good;
    TU_ASSERT_STATUS(plan_read(plan, size, "small.plan", &good), O2P_OK);
    uint8_t *copy = malloc(size);
    static const uint8_t masks[] = {0x01, 0x80, 0xFF};
    int accepted = 0;
    for (size_t off = 0; off < size; off++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, plan, size);
            copy[off] ^= masks[m];
            plan_view v;
            o2p_clear_error();
            o2p_status st = plan_read(copy, size, "small.plan", &v);
            if (st == O2P_OK) {
                /* Only a byte no check covers could pass, and it must not change anything. */
                ck_assert_msg(views_equal(&good, &v), "offset %zu ^ 0x%02x changed the plan", off,
                              masks[m]);
                accepted++;
                continue;
            }
            ck_assert_msg(st == O2P_ERR_PARSE, "offset %zu ^ 0x%02x: %s: %s", off, masks[m],
                          o2p_status_name(st), o2p_last_error());
            ck_assert_msg(tu_contains(o2p_last_error(), "small.plan: "), "offset %zu: %s", off,
                          o2p_last_error());
        }
    }
    /* The design leaves no byte unchecked. */
    ck_assert_int_eq(accepted, 0);
    free(copy);
    free(plan);
}
END_TEST

/* Random damage to the header and table, resealed so that the structural rules (not the
 * checksums) must catch it: never a crash, and whatever is accepted keeps every promise. */
START_TEST(random_resealed_damage)
{
    payloads p;
    make_payloads(&p);
    plan_header h;
    full_header(&h);
    plan_section_desc s[8];
    uint32_t n = full_sections(&p, s);
    size_t size;
    uint8_t *plan = write_plan(&h, s, n, &size);
    uint8_t *b = malloc(size);
    uint64_t st = 7;
    int accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(b, plan, size);
        int edits = 1 + (int)(tu_rand(&st) % 4);
        for (int e = 0; e < edits; e++) {
            /* Mostly the header and table; a value that is small, huge, or random. */
            size_t off = 12 + tu_rand(&st) % (HEADER + n * ENTRY - 12 - 4);
            uint64_t r = tu_rand(&st);
            uint64_t v = r % 3 == 0 ? r % 300 : r % 3 == 1 ? UINT64_MAX - r % 300 : tu_rand(&st);
            size_t width = (size_t)1 << (tu_rand(&st) % 4);
            for (size_t k = 0; k < width && off + k < HEADER + n * ENTRY; k++)
                b[off + k] = (uint8_t)(v >> (8 * k));
        }
        if (tu_rand(&st) % 8) /* mostly resealed; sometimes not */
            reseal(b, size);
        plan_view v;
        o2p_clear_error();
        o2p_status rc = plan_read(b, size, "fuzz.plan", &v);
        if (rc != O2P_OK) {
            ck_assert_msg(rc == O2P_ERR_PARSE || rc == O2P_ERR_UNSUPPORTED, "iteration %d: %s",
                          iter, o2p_status_name(rc));
            ck_assert_msg(tu_contains(o2p_last_error(), "fuzz.plan: "), "iteration %d: %s", iter,
                          o2p_last_error());
            continue;
        }
        accepted++;
        ck_assert_uint_le(v.section_count, PLAN_MAX_SECTIONS);
        for (uint32_t i = 0; i < v.section_count; i++) {
            const plan_section *x = &v.sections[i];
            ck_assert_uint_ge(x->offset, HEADER);
            ck_assert_uint_le(x->offset + x->size, size);
            ck_assert_uint_eq(x->offset % x->alignment, 0);
            ck_assert_uint_eq(o2p_crc32c(0, x->data, (size_t)x->size), x->crc32c);
            for (uint32_t j = 0; j < i; j++) {
                const plan_section *y = &v.sections[j];
                ck_assert(!x->size || !y->size || x->offset + x->size <= y->offset ||
                          y->offset + y->size <= x->offset);
            }
        }
    }
    printf("random_resealed_damage: %d of 20000 damaged plans still valid\n", accepted);
    free(b);
    free(plan);
}
END_TEST

/* ---------------------------------------------------------------- hand-made malformations */

START_TEST(signature_damage)
{
    size_t size;
    uint8_t *plan = small_plan(&size);
    uint8_t *b = malloc(size + 8);

    REFUSED(plan, 0, O2P_ERR_PARSE, "empty");
    const char text[] = "ir_version: 8 graph { }";
    REFUSED((const uint8_t *)text, sizeof text, O2P_ERR_PARSE, "not an onnx2plan plan");

    /* CRLF -> LF: drop the '\r' at byte 7. */
    memcpy(b, plan, 7);
    memcpy(b + 7, plan + 8, size - 8);
    REFUSED(b, size - 1, O2P_ERR_PARSE, "converted as text");
    /* LF -> CRLF on the last '\n'. */
    memcpy(b, plan, 10);
    b[10] = '\r';
    memcpy(b + 11, plan + 10, size - 10);
    REFUSED(b, size + 1, O2P_ERR_PARSE, "converted as text");
    /* A 7-bit transfer. */
    memcpy(b, plan, size);
    b[0] &= 0x7F;
    REFUSED(b, size, O2P_ERR_PARSE, "7-bit");
    /* A big-endian struct dump would show the byte-order check reversed. */
    memcpy(b, plan, size);
    b[H_BYTE_ORDER] = 1, b[H_BYTE_ORDER + 1] = 2, b[H_BYTE_ORDER + 2] = 3, b[H_BYTE_ORDER + 3] = 4;
    REFUSED(b, size, O2P_ERR_PARSE, "byte-order", "big-endian");
    free(b);
    free(plan);
}
END_TEST

START_TEST(header_fields_refused)
{
    size_t size;
    uint8_t *plan = small_plan(&size);
    uint8_t *b = malloc(size);
#define FRESH() memcpy(b, plan, size)

    FRESH();
    b[100] ^= 1; /* no reseal */
    REFUSED(b, size, O2P_ERR_PARSE, "header checksum mismatch", "copy it again or rebuild it");

    /* Container versions. A newer one is unsupported and names both versions and the
     * producer; 0 is malformed. */
    FRESH();
    set32(b + H_CONTAINER_VERSION, 2);
    set32(b + H_PRODUCER, 8 | 9u << 16);
    set32(b + H_PRODUCER + 4, 7 | 6u << 16);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_UNSUPPORTED, "container format version 2", "reads (1)",
            "newer onnx2plan 8.9.7.6", O2P_VERSION_STRING);
    FRESH();
    set32(b + H_CONTAINER_VERSION, 0);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "container format version 0");

    /* Header sizes: out of range before the version is known, then exact for version 1. */
    FRESH();
    set32(b + H_HEADER_SIZE, 260);
    REFUSED(b, size, O2P_ERR_PARSE, "header size 260");
    FRESH();
    set32(b + H_HEADER_SIZE, 0xFFFFFFF8u);
    REFUSED(b, size, O2P_ERR_PARSE, "header size 4294967288");
    FRESH();
    set32(b + H_HEADER_SIZE, 128);
    set32(b + 124, o2p_crc32c(0, b, 124));
    REFUSED(b, size, O2P_ERR_PARSE, "header size 128", "version 1 has a 256-byte header");

    /* File size field vs the bytes given. */
    FRESH();
    set64(b + H_FILE_SIZE, size + 1);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "truncated");
    FRESH();
    set64(b + H_FILE_SIZE, UINT64_MAX);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "truncated");

    /* Reserved bytes, enum ranges, flags. */
    FRESH();
    b[200] = 1;
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "reserved byte 200", "rebuild it");
    FRESH();
    b[118] = 1; /* the device block's reserved word */
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "reserved byte 118");
    FRESH();
    set32(b + H_HW_COMPAT, 3);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "hardware-compatibility level 3");
    FRESH();
    set32(b + H_TARGET, 2);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "target 2");
    FRESH();
    set32(b + H_FLAGS, 1u << 5);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "flags 0x20");
    FRESH();
    set32(b + H_TACTICS, 0x11);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "tactic sources 0x11");
    /* The same from a newer producer: unsupported, naming both versions. */
    FRESH();
    set32(b + H_TACTICS, 0x11);
    set32(b + H_PRODUCER, 99);
    set32(b + H_PRODUCER + 4, 1u << 16);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_UNSUPPORTED, "tactic sources 0x11", "onnx2plan 99.0.0.1, newer",
            O2P_VERSION_STRING);

    /* Compute capabilities. */
    FRESH();
    set32(b + H_CC_COUNT, 17);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "compute capability count 17");
    FRESH();
    set32(b + H_CC_COUNT, 0);
    b[H_CC] = b[H_CC + 1] = 0;
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "cuda target lists no compute capability");
    FRESH();
    set32(b + H_CC_COUNT, 2);
    b[H_CC + 2] = 80; /* 86 then 80 */
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "ascending", "entry 1: 80 after 86");
    FRESH();
    b[H_CC + 4] = 90; /* past the count */
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "unused compute capability entry 2");
    FRESH();
    b[H_CC] = 5;
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "compute capability 5 (entry 0)");
    FRESH();
    set32(b + H_TARGET, PLAN_TARGET_HOST);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "host target lists 1 compute");
    FRESH();
    set32(b + H_DEVICE + 24, 2);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "integrated is 2");

    /* Flags against the sections. */
    FRESH();
    set32(b + H_FLAGS, PLAN_FLAG_HOST_CODE);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "host-code but no section");
    FRESH();
    set32(b + H_FLAGS, PLAN_FLAG_VERSION_COMPATIBLE);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "exactly one of lean-runtime-embedded");
    FRESH();
    set32(b + H_FLAGS, PLAN_FLAG_VERSION_COMPATIBLE | PLAN_FLAG_LEAN_RUNTIME_EMBEDDED);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "lean-runtime-embedded but no section is LEAN_RUNTIME");
    FRESH();
    set32(b + H_FLAGS, PLAN_FLAG_LEAN_RUNTIME_EXCLUDED);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "need version-compatible");
    /* A LEAN_RUNTIME section in a plan whose flags do not say so. */
    FRESH();
    set32(entry(b, 1) + E_TYPE, PLAN_SECTION_LEAN_RUNTIME);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 1 (LEAN_RUNTIME) is present but flags lack");
#undef FRESH
    free(b);
    free(plan);
}
END_TEST

START_TEST(section_table_refused)
{
    size_t size;
    uint8_t *plan = small_plan(&size);
    uint8_t *b = malloc(size);
    plan_view v;
    TU_ASSERT_STATUS(plan_read(plan, size, "small.plan", &v), O2P_OK);
    const uint64_t engine_off = v.sections[0].offset, meta_off = v.sections[1].offset;
#define FRESH() memcpy(b, plan, size)

    /* Table checksum. */
    FRESH();
    entry(b, 2)[E_CRC] ^= 1;
    set32(b + H_CRC, o2p_crc32c(0, b, H_CRC)); /* header intact, table not */
    REFUSED(b, size, O2P_ERR_PARSE, "section table checksum mismatch");

    /* Huge counts and table offsets. */
    FRESH();
    set32(b + H_SECTION_COUNT, 0xFFFFFFFFu);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section count 4294967295", "limit of 64");
    FRESH();
    set32(b + H_SECTION_COUNT, 65);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section count 65");
    FRESH();
    set32(b + H_SECTION_COUNT, 64); /* within the limit, but the table would run past the end */
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section table", "64 entries");
    FRESH();
    set64(b + H_TABLE_OFFSET, UINT64_MAX - 7);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section table (offset 18446744073709551608");
    FRESH();
    set64(b + H_TABLE_OFFSET, 8); /* inside the header */
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section table (offset 8");

    /* Section entries: type 0, reserved, flags, unknown required types. */
    FRESH();
    set32(entry(b, 1) + E_TYPE, 0);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 1 has type 0");
    FRESH();
    entry(b, 1)[E_RESERVED + 5] = 1;
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 1 (METADATA): reserved field");
    FRESH();
    set32(entry(b, 0) + E_FLAGS, 2);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 0 (ENGINE): flags 0x2");
    FRESH();
    set32(entry(b, 2) + E_FLAGS, PLAN_SECTION_REQUIRED);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 2 (type 77) is marked required");
    FRESH();
    set32(entry(b, 2) + E_FLAGS, PLAN_SECTION_REQUIRED);
    set32(b + H_PRODUCER, 98);
    set32(b + H_PRODUCER + 4, 1u << 16);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_UNSUPPORTED, "section 2 (type 77) is marked required",
            "onnx2plan 98.0.0.1, newer than this one");

    /* Alignments. */
    FRESH();
    set32(entry(b, 0) + E_ALIGNMENT, 384);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 0 (ENGINE): alignment 384 is not a power of two");
    FRESH();
    set32(entry(b, 1) + E_ALIGNMENT, 0);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 1 (METADATA): alignment 0");
    FRESH();
    set32(entry(b, 1) + E_ALIGNMENT, 1u << 22);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 1 (METADATA): alignment 4194304");
    FRESH();
    set32(entry(b, 0) + E_ALIGNMENT, 128);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 0 (ENGINE): alignment 128 is below the 256");
    FRESH();
    set64(entry(b, 0) + E_OFFSET, engine_off + 8);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 0 (ENGINE): offset",
            "not a multiple of its alignment 256");

    /* Offsets and sizes past the end, with and without wrap-around. */
    FRESH();
    set64(entry(b, 0) + E_OFFSET, UINT64_MAX - 255);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 0 (ENGINE)", "runs past the end");
    FRESH();
    set64(entry(b, 0) + E_SIZE, UINT64_MAX);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 0 (ENGINE)", "size 18446744073709551615",
            "runs past the end");
    FRESH();
    set64(entry(b, 1) + E_SIZE, UINT64_MAX - meta_off + 1); /* offset + size wraps to 0 */
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 1 (METADATA)", "runs past the end");
    FRESH();
    set64(entry(b, 1) + E_SIZE, size - meta_off + 1);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 1 (METADATA)", "runs past the end");

    /* Overlaps: with each other, with the header, with the table. */
    FRESH();
    set64(entry(b, 1) + E_OFFSET, engine_off + 16);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 1 (METADATA)", "overlaps section 0 (ENGINE)");
    FRESH();
    set64(entry(b, 2) + E_OFFSET, meta_off + 4);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 2 (type 77)", "overlaps section 1 (METADATA)");
    FRESH();
    set64(entry(b, 1) + E_OFFSET, engine_off); /* both start at the same byte */
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "overlaps", "section 0 (ENGINE)", "section 1 (METADATA)");
    FRESH();
    set64(entry(b, 0) + E_OFFSET, 0);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 0 (ENGINE)", "inside the header");
    FRESH();
    set64(entry(b, 0) + E_OFFSET, 256); /* where the table is */
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 0 (ENGINE)", "overlaps the section table");

    /* Padding must be zero. */
    FRESH();
    b[engine_off - 1] = 0x42;
    REFUSED(b, size, O2P_ERR_PARSE, "padding byte at offset",
            "between the section table and section 0 (ENGINE)");

    /* Section checksums. */
    FRESH();
    b[meta_off + 2] ^= 0x10;
    REFUSED(b, size, O2P_ERR_PARSE, "section 1 (METADATA): checksum mismatch");

    /* Every entry pointing far past the end. */
    FRESH();
    for (int i = 0; i < 3; i++)
        set64(entry(b, i) + E_OFFSET, (uint64_t)1 << 62);
    reseal(b, size);
    REFUSED(b, size, O2P_ERR_PARSE, "section 0 (ENGINE)", "runs past the end");
#undef FRESH
    free(b);
    free(plan);
}
END_TEST

/* A plan with its section table moved after the sections (allowed: the table's place is a
 * header field), and a hand-built plan reordered: sections need not be in offset order. */
START_TEST(table_elsewhere_and_any_order)
{
    size_t size;
    uint8_t *plan = small_plan(&size);
    plan_view v;
    TU_ASSERT_STATUS(plan_read(plan, size, NULL, &v), O2P_OK);
    size_t tsize = 3 * ENTRY;
    size_t nsize = (size + 7) / 8 * 8 + tsize;
    uint8_t *b = calloc(1, nsize);
    memcpy(b, plan, size);
    memcpy(b + nsize - tsize, plan + HEADER, tsize);
    memset(b + HEADER, 0, tsize);
    set64(b + H_TABLE_OFFSET, nsize - tsize);
    set64(b + H_FILE_SIZE, nsize);
    reseal(b, nsize);
    plan_view w;
    TU_ASSERT_STATUS(plan_read(b, nsize, NULL, &w), O2P_OK);
    ck_assert_uint_eq(w.section_table_offset, nsize - tsize);
    ck_assert_mem_eq(w.sections[0].data, small_engine, sizeof small_engine);

    /* Swap entries 0 and 2 in the table. */
    uint8_t tmp[ENTRY];
    memcpy(tmp, entry(b, 0), ENTRY);
    memcpy(entry(b, 0), entry(b, 2), ENTRY);
    memcpy(entry(b, 2), tmp, ENTRY);
    reseal(b, nsize);
    TU_ASSERT_STATUS(plan_read(b, nsize, NULL, &w), O2P_OK);
    ck_assert_uint_eq(w.sections[2].type, PLAN_SECTION_ENGINE);
    ck_assert_uint_eq(w.sections[0].type, 77);
    free(b);
    free(plan);
}
END_TEST

START_TEST(writer_refuses_what_reader_would)
{
    payloads p;
    make_payloads(&p);
    plan_header h;
    plan_section_desc s[PLAN_MAX_SECTIONS + 1];
    uint32_t n;
    uint8_t *out = (uint8_t *)"sentinel";
    size_t size = 99;
#define WRITE_FAILS(needle)                                                                  \
    do {                                                                                     \
        TU_ASSERT_STATUS(plan_write_alloc(&h, s, n, &out, &size), O2P_ERR_INVALID_ARGUMENT); \
        TU_ASSERT_ERROR_HAS(needle);                                                         \
        ck_assert_ptr_null(out);                                                             \
        ck_assert_uint_eq(size, 0);                                                          \
    } while (0)
#define RESET() (full_header(&h), n = full_sections(&p, s))

    RESET();
    s[0].alignment = 128;
    WRITE_FAILS("section 0 (ENGINE): alignment 128 is below the 256");
    RESET();
    s[2].alignment = 48;
    WRITE_FAILS("section 2 (PLUGIN_LIBRARY): alignment 48");
    RESET();
    s[4].flags = PLAN_SECTION_REQUIRED;
    WRITE_FAILS("section 4 (type 100) is marked required");
    RESET();
    s[3].type = 0;
    WRITE_FAILS("section 3 has type 0");
    RESET();
    s[2].data = NULL;
    WRITE_FAILS("section 2 (PLUGIN_LIBRARY) has no data");
    RESET();
    s[5].type = PLAN_SECTION_ENGINE;
    s[5].alignment = 256;
    WRITE_FAILS("section 5 (ENGINE) repeats section 0");
    RESET();
    h.flags &= ~PLAN_FLAG_HOST_CODE;
    WRITE_FAILS("host code but flags lack host-code");
    RESET();
    h.flags &= ~PLAN_FLAG_HAS_PLUGINS;
    WRITE_FAILS("PLUGIN_LIBRARY) is present but flags lack has-plugins");
    RESET();
    h.hw_compat = (plan_hw_compat)7;
    WRITE_FAILS("hardware-compatibility level 7");
    RESET();
    h.compute_caps[1] = 80;
    WRITE_FAILS("ascending order without repeats");
    RESET();
    h.target = PLAN_TARGET_HOST;
    WRITE_FAILS("host target lists 3 compute capabilities");
    RESET();
    h.compute_cap_count = 0;
    memset(h.compute_caps, 0, sizeof h.compute_caps);
    h.target = PLAN_TARGET_HOST;
    h.hw_compat = PLAN_HW_COMPAT_NONE;
    WRITE_FAILS("host target has device properties");
    RESET();
    n = PLAN_MAX_SECTIONS + 1;
    for (uint32_t i = 6; i < n; i++)
        s[i] = (plan_section_desc){PLAN_SECTION_PLUGIN_LIBRARY, 0, 1, p.plugin2, 1};
    WRITE_FAILS("65 sections");
    /* 64 is fine. */
    n = PLAN_MAX_SECTIONS;
    TU_ASSERT_STATUS(plan_write_alloc(&h, s, n, &out, &size), O2P_OK);
    plan_view v;
    TU_ASSERT_STATUS(plan_read(out, size, NULL, &v), O2P_OK);
    ck_assert_uint_eq(v.section_count, 64);
    free(out);
#undef WRITE_FAILS
#undef RESET
}
END_TEST

/* ---------------------------------------------------------------- names and inspect */

START_TEST(names_and_format)
{
    ck_assert_str_eq(plan_section_type_name(PLAN_SECTION_ENGINE), "ENGINE");
    ck_assert_str_eq(plan_section_type_name(PLAN_SECTION_LEAN_RUNTIME), "LEAN_RUNTIME");
    ck_assert_str_eq(plan_section_type_name(PLAN_SECTION_PLUGIN_LIBRARY), "PLUGIN_LIBRARY");
    ck_assert_str_eq(plan_section_type_name(PLAN_SECTION_METADATA), "METADATA");
    ck_assert_ptr_null(plan_section_type_name(0));
    ck_assert_ptr_null(plan_section_type_name(77));
    ck_assert_str_eq(plan_hw_compat_name(PLAN_HW_COMPAT_NONE), "none");
    ck_assert_str_eq(plan_hw_compat_name(PLAN_HW_COMPAT_AMPERE_PLUS), "ampere+");
    ck_assert_str_eq(plan_hw_compat_name(PLAN_HW_COMPAT_SAME_CC), "same-cc");
    ck_assert_ptr_null(plan_hw_compat_name(3));
    ck_assert_str_eq(plan_target_name(PLAN_TARGET_HOST), "host");
    ck_assert_str_eq(plan_target_name(PLAN_TARGET_CUDA), "cuda");
    ck_assert_ptr_null(plan_target_name(2));
    ck_assert_str_eq(plan_flag_name(PLAN_FLAG_VERSION_COMPATIBLE), "version-compatible");
    ck_assert_str_eq(plan_flag_name(PLAN_FLAG_HOST_CODE), "host-code");
    ck_assert_ptr_null(plan_flag_name(1u << 5));
    ck_assert_str_eq(plan_tactic_source_name(PLAN_TACTIC_CUDNN), "cudnn");
    ck_assert_ptr_null(plan_tactic_source_name(3));

    payloads p;
    make_payloads(&p);
    plan_header h;
    full_header(&h);
    plan_section_desc s[8];
    uint32_t n = full_sections(&p, s);
    size_t size;
    uint8_t *plan = write_plan(&h, s, n, &size);
    plan_view v;
    TU_ASSERT_STATUS(plan_read(plan, size, NULL, &v), O2P_OK);

    size_t need = plan_format(&v, PLAN_FORMAT_TEXT, NULL, 0);
    char *text = malloc(need + 1);
    ck_assert_uint_eq(plan_format(&v, PLAN_FORMAT_TEXT, text, need + 1), need);
    ck_assert_uint_eq(strlen(text), need);
    static const char *const in_text[] = {
        "onnx2plan 1.0.0.1",
        "version-compatible, lean-runtime-embedded, has-plugins, host-code",
        "cuda sm_80, sm_90, sm_120",
        "ampere+",
        "132 SMs",
        "builtin, cublaslt",
        "4886718345 bytes",
        "ENGINE",
        "LEAN_RUNTIME",
        "PLUGIN_LIBRARY",
        "type 100 (skipped)",
        "METADATA",
        "required"};
    for (size_t i = 0; i < sizeof in_text / sizeof in_text[0]; i++)
        ck_assert_msg(tu_contains(text, in_text[i]), "no '%s' in:\n%s", in_text[i], text);
    /* Cut short: NUL-terminated, same length reported. */
    char small[20];
    ck_assert_uint_eq(plan_format(&v, PLAN_FORMAT_TEXT, small, sizeof small), need);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert(strncmp(small, text, sizeof small - 1) == 0);

    need = plan_format(&v, PLAN_FORMAT_JSON, NULL, 0);
    char *json = malloc(need + 1);
    plan_format(&v, PLAN_FORMAT_JSON, json, need + 1);
    ck_assert_msg(tu_json_valid(json), "not JSON: %s", json);
    static const char *const in_json[] = {"\"producer_version\":\"1.0.0.1\"",
                                          "\"hardware_compatibility\":\"ampere+\"",
                                          "\"target\":\"cuda\"",
                                          "\"compute_capabilities\":[80,90,120]",
                                          "\"tactic_sources\":[\"builtin\",\"cublaslt\"]",
                                          "\"type\":\"ENGINE\"",
                                          "\"type\":null,\"type_id\":100",
                                          "\"integrated\":false"};
    for (size_t i = 0; i < sizeof in_json / sizeof in_json[0]; i++)
        ck_assert_msg(tu_contains(json, in_json[i]), "no '%s' in:\n%s", in_json[i], json);

    /* An empty host plan formats too. */
    plan_header_init(&h);
    uint8_t *empty = write_plan(&h, NULL, 0, &size);
    TU_ASSERT_STATUS(plan_read(empty, size, NULL, &v), O2P_OK);
    char buf[4096];
    plan_format(&v, PLAN_FORMAT_JSON, buf, sizeof buf);
    ck_assert_msg(tu_json_valid(buf), "not JSON: %s", buf);
    ck_assert(tu_contains(buf, "\"sections\":[]"));
    plan_format(&v, PLAN_FORMAT_TEXT, buf, sizeof buf);
    ck_assert(tu_contains(buf, "flags              none"));
    ck_assert(tu_contains(buf, "target             host"));
    free(empty);
    free(text);
    free(json);
    free(plan);
}
END_TEST

static Suite *plan_container_suite(void)
{
    Suite *s = suite_create("plan_container");
    TCase *tc = tcase_create("container");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, crc32c_known_answers);
    tcase_add_test(tc, crc32c_fast_equals_portable);
    tcase_add_test(tc, round_trip_every_field);
    tcase_add_test(tc, round_trip_host_and_standard);
    tcase_add_test(tc, deterministic_output);
    tcase_add_test(tc, zero_length_and_empty);
    tcase_add_test(tc, golden_version_1_layout);
    tcase_add_test(tc, every_truncation_refused);
    tcase_add_test(tc, every_byte_change_refused);
    tcase_add_test(tc, random_resealed_damage);
    tcase_add_test(tc, signature_damage);
    tcase_add_test(tc, header_fields_refused);
    tcase_add_test(tc, section_table_refused);
    tcase_add_test(tc, table_elsewhere_and_any_order);
    tcase_add_test(tc, writer_refuses_what_reader_would);
    tcase_add_test(tc, names_and_format);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tu_quiet_log();
    return tu_run_suite(plan_container_suite());
}
