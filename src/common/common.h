/* common.h: what every stage uses: errors and logging, the arena, checked size arithmetic,
 * file reading, half/bfloat16 conversion. */
#ifndef O2P_COMMON_H
#define O2P_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "o2p/o2p.h"

#if defined(__GNUC__)
#define O2P_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define O2P_PRINTF(f, a)
#endif

/* ---- errors: record the message for o2p_last_error() and the logger, return the status. */
o2p_status o2p_fail(o2p_status status, const char *fmt, ...) O2P_PRINTF(2, 3);
o2p_status o2p_vfail(o2p_status status, const char *fmt, va_list ap);
/* Prefixes the current last error with "<prefix>: " (used when unwinding to add context). */
void o2p_error_prefix(const char *fmt, ...) O2P_PRINTF(1, 2);
void o2p_log(o2p_severity severity, const char *fmt, ...) O2P_PRINTF(2, 3);
void o2p_clear_error(void);

#define O2P_TRY(expr)                     \
    do {                                  \
        o2p_status o2p_try_s_ = (expr);   \
        if (o2p_try_s_ != O2P_OK)         \
            return o2p_try_s_;            \
    } while (0)

/* ---- checked arithmetic: return 0 on overflow. */
static inline int o2p_mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
static inline int o2p_add_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}
static inline int o2p_mul_i64(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* ---- arena: bump allocation freed all at once. Allocation failure returns NULL. */
typedef struct o2p_arena_chunk o2p_arena_chunk;
typedef struct o2p_arena {
    o2p_arena_chunk *chunks;
    size_t used_in_head;
    size_t total;
} o2p_arena;

void o2p_arena_init(o2p_arena *arena);
void o2p_arena_free(o2p_arena *arena);
/* Zeroed memory aligned to 16 bytes (or more when align > 16, a power of two). */
void *o2p_arena_alloc(o2p_arena *arena, size_t size, size_t align);
/* n elements of size each, with overflow check. */
void *o2p_arena_array(o2p_arena *arena, size_t n, size_t size);
char *o2p_arena_strdup(o2p_arena *arena, const char *s);
char *o2p_arena_strndup(o2p_arena *arena, const char *s, size_t n);
char *o2p_arena_printf(o2p_arena *arena, const char *fmt, ...) O2P_PRINTF(2, 3);

/* ---- growable pointer vector (malloc'ed). */
typedef struct o2p_ptrvec {
    void **items;
    int count;
    int capacity;
} o2p_ptrvec;
o2p_status o2p_ptrvec_push(o2p_ptrvec *v, void *item);
void o2p_ptrvec_free(o2p_ptrvec *v);

/* ---- string → pointer hash map (keys not copied: they must outlive the map). */
typedef struct o2p_strmap {
    const char **keys;
    void **values;
    size_t capacity; /* power of two or 0 */
    size_t count;
} o2p_strmap;
void *o2p_strmap_get(const o2p_strmap *m, const char *key);
o2p_status o2p_strmap_put(o2p_strmap *m, const char *key, void *value);
void o2p_strmap_free(o2p_strmap *m);

/* ---- files. Reads a whole regular file (refuses directories and files over max_size). */
o2p_status o2p_read_file(const char *path, size_t max_size, void **data, size_t *size);

/* ---- floating-point formats. */
float o2p_half_to_float(uint16_t h);
uint16_t o2p_float_to_half(float f);
float o2p_bf16_to_float(uint16_t b);
uint16_t o2p_float_to_bf16(float f);

/* ---- CRC32C (Castagnoli, reflected polynomial 0x82F63B78; crc32c.c). Incremental: start
 * with crc = 0 and pass each result back in; o2p_crc32c(o2p_crc32c(0, a, n), b, m) equals the
 * CRC of a followed by b. "123456789" gives 0xE3069283. */
uint32_t o2p_crc32c(uint32_t crc, const void *data, size_t size);
/* The table-driven code that every CPU runs (o2p_crc32c picks the fastest path at run time). */
uint32_t o2p_crc32c_portable(uint32_t crc, const void *data, size_t size);
/* The CPU's crc32 instruction (x86-64 SSE4.2) only: updates *crc and returns 1, or returns 0
 * and leaves *crc alone where the CPU has none (lets tests compare both paths). */
int o2p_crc32c_hardware(uint32_t *crc, const void *data, size_t size);

#endif
