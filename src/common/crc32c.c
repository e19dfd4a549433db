/* crc32c.c: CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the plan
 * container: slice-by-8 tables on every CPU, the SSE4.2 crc32 instruction where there is one. */
#include <pthread.h>
#include <string.h>

#include "common/common.h"

#define CRC32C_POLY 0x82F63B78u

/* table[k][b]: the CRC of byte b followed by k zero bytes (slice-by-8). */
static uint32_t crc_table[8][256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int i = 0; i < 8; i++)
            c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1u)));
        crc_table[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; b++)
        for (int k = 1; k < 8; k++)
            crc_table[k][b] = (crc_table[k - 1][b] >> 8) ^ crc_table[0][crc_table[k - 1][b] & 0xFF];
}

/* Little-endian 64-bit load from any address. */
static inline uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

uint32_t o2p_crc32c_portable(uint32_t crc, const void *data, size_t size)
{
    const unsigned char *p = data;
    pthread_once(&crc_table_once, crc_table_init);
    crc = ~crc;
    while (size && ((uintptr_t)p & 7)) {
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xFF];
        size--;
    }
    while (size >= 8) {
        uint64_t w = load_le64(p) ^ crc;
        crc = crc_table[7][w & 0xFF] ^ crc_table[6][(w >> 8) & 0xFF] ^
              crc_table[5][(w >> 16) & 0xFF] ^ crc_table[4][(w >> 24) & 0xFF] ^
              crc_table[3][(w >> 32) & 0xFF] ^ crc_table[2][(w >> 40) & 0xFF] ^
              crc_table[1][(w >> 48) & 0xFF] ^ crc_table[0][w >> 56];
        p += 8;
        size -= 8;
    }
    while (size--)
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define O2P_CRC32C_X86 1

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *data,
                                                               size_t size)
{
    const unsigned char *p = data;
    uint64_t c = ~crc;
    while (size && ((uintptr_t)p & 7)) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        size--;
    }
    /* Four words per round: the loop overhead hides behind the instruction's latency. */
    while (size >= 32) {
        uint64_t w0, w1, w2, w3;
        memcpy(&w0, p, 8);
        memcpy(&w1, p + 8, 8);
        memcpy(&w2, p + 16, 8);
        memcpy(&w3, p + 24, 8);
        c = __builtin_ia32_crc32di(c, w0);
        c = __builtin_ia32_crc32di(c, w1);
        c = __builtin_ia32_crc32di(c, w2);
        c = __builtin_ia32_crc32di(c, w3);
        p += 32;
        size -= 32;
    }
    while (size >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        size -= 8;
    }
    while (size--)
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return ~(uint32_t)c;
}

static int have_sse42(void)
{
    return __builtin_cpu_supports("sse4.2");
}
#endif

int o2p_crc32c_hardware(uint32_t *crc, const void *data, size_t size)
{
#ifdef O2P_CRC32C_X86
    if (have_sse42()) {
        *crc = crc32c_sse42(*crc, data, size);
        return 1;
    }
#endif
    (void)crc;
    (void)data;
    (void)size;
    return 0;
}

uint32_t o2p_crc32c(uint32_t crc, const void *data, size_t size)
{
#ifdef O2P_CRC32C_X86
    if (have_sse42())
        return crc32c_sse42(crc, data, size);
#endif
    return o2p_crc32c_portable(crc, data, size);
}
