/* cache.c: the content-addressed kernel cache (a folder of compiled images named by the
 * SHA-256 of everything that went into them) and the SHA-256 it is keyed by. Entries are
 * written under a temporary name and renamed, and checked on every read, so concurrent builds
 * share a folder safely and a damaged entry is rebuilt rather than trusted. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen/codegen.h"

/* ---------------------------------------------------------------- SHA-256 */

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t state[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha256_k[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

void cg_sha256_init(cg_sha256 *h)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(h->state, iv, sizeof iv);
    h->bytes = 0;
}

void cg_sha256_update(cg_sha256 *h, const void *data, size_t size)
{
    const unsigned char *p = data;
    size_t used = (size_t)(h->bytes % 64);
    h->bytes += size;
    if (used) {
        size_t take = 64 - used < size ? 64 - used : size;
        memcpy(h->block + used, p, take);
        p += take;
        size -= take;
        if (used + take < 64)
            return;
        sha256_block(h->state, h->block);
    }
    for (; size >= 64; p += 64, size -= 64)
        sha256_block(h->state, p);
    memcpy(h->block, p, size);
}

void cg_sha256_final(cg_sha256 *h, unsigned char digest[32])
{
    uint64_t bits = h->bytes * 8;
    size_t used = (size_t)(h->bytes % 64);
    h->block[used++] = 0x80;
    if (used > 56) {
        memset(h->block + used, 0, 64 - used);
        sha256_block(h->state, h->block);
        used = 0;
    }
    memset(h->block + used, 0, 56 - used);
    for (int i = 0; i < 8; i++)
        h->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_block(h->state, h->block);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (unsigned char)(h->state[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(h->state[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(h->state[i] >> 8);
        digest[4 * i + 3] = (unsigned char)h->state[i];
    }
}

/* ---------------------------------------------------------------- the folder */

/* Entry layout, little-endian: a 64-byte header, then the image.
 *   0  "O2PKCACH"      8  u32 format (1)     12 u32 header bytes (64)
 *   16 key (32 bytes)  48 u64 image bytes    56 u32 CRC32C of the image
 *   60 u32 CRC32C of bytes 0..59 */
#define ENTRY_MAGIC "O2PKCACH"
#define ENTRY_FORMAT 1u
#define ENTRY_HEADER 64u
/* Far above any kernel image; a larger size field is damage, not a module. */
#define ENTRY_MAX_IMAGE ((uint64_t)1 << 30)

static int warned_unwritable;

/* One warning per process: a build compiles a few dozen images, and one line says it all. */
static void warn_once(const char *what, const char *dir, int err)
{
    if (__atomic_exchange_n(&warned_unwritable, 1, __ATOMIC_RELAXED))
        return;
    if (dir)
        o2p_log(O2P_SEVERITY_WARNING,
                "the kernel cache folder %s cannot be %s (%s): kernels are compiled again at "
                "every build; pass a writable folder (--kernel-cache DIR)",
                dir, what, strerror(err));
    else
        o2p_log(O2P_SEVERITY_WARNING,
                "the kernel cache is off: %s; pass a cache folder (--kernel-cache DIR) to make "
                "rebuilds fast",
                what);
}

char *cg_cache_dir(const cg_compile_options *opt)
{
    if (opt && opt->cache_dir)
        return opt->cache_dir[0] ? strdup(opt->cache_dir) : NULL;
    char *dir = NULL;
    /* The XDG spec says a relative $XDG_CACHE_HOME is invalid and must be ignored. */
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/') {
        if (asprintf(&dir, "%s/onnx2plan/kernels", xdg) < 0)
            dir = NULL;
    } else if (home && home[0]) {
        if (asprintf(&dir, "%s/.cache/onnx2plan/kernels", home) < 0)
            dir = NULL;
    } else {
        warn_once("neither $XDG_CACHE_HOME nor $HOME is set", NULL, 0);
    }
    return dir;
}

/* mkdir -p with mode 0700 for every folder it creates (kernels are private to the user). */
static int make_dirs(const char *dir)
{
    char *path = strdup(dir);
    if (!path)
        return -1;
    int rc = 0;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            rc = -1;
            break;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    if (rc == 0) {
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            rc = -1;
        }
    }
    free(path);
    return rc;
}

static char *entry_path(const char *dir, const char *label, const unsigned char key[32])
{
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    char *path = NULL;
    if (asprintf(&path, "%s/%s-%s", dir, label, hex) < 0)
        return NULL;
    return path;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int read_all(int fd, void *buf, size_t size)
{
    unsigned char *p = buf;
    while (size) {
        ssize_t n = read(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static int write_all(int fd, const void *buf, size_t size)
{
    const unsigned char *p = buf;
    while (size) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

/* The reason the entry cannot be used, or NULL when *image / *size hold it. */
static const char *read_entry(int fd, const unsigned char key[32], void **image, size_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return "not a regular file";
    unsigned char h[ENTRY_HEADER];
    if ((uint64_t)st.st_size < ENTRY_HEADER || read_all(fd, h, sizeof h) != 0)
        return "shorter than its header";
    if (memcmp(h, ENTRY_MAGIC, 8) != 0)
        return "bad magic";
    if (get_u32(h + 60) != o2p_crc32c(0, h, 60))
        return "header checksum mismatch";
    if (get_u32(h + 8) != ENTRY_FORMAT || get_u32(h + 12) != ENTRY_HEADER)
        return "unknown entry format";
    if (memcmp(h + 16, key, 32) != 0)
        return "key mismatch";
    uint64_t bytes = get_u64(h + 48);
    if (bytes == 0 || bytes > ENTRY_MAX_IMAGE || (uint64_t)st.st_size != ENTRY_HEADER + bytes)
        return "size mismatch";
    void *data = malloc((size_t)bytes);
    if (!data)
        return "out of memory";
    if (read_all(fd, data, (size_t)bytes) != 0) {
        free(data);
        return "short read";
    }
    if (o2p_crc32c(0, data, (size_t)bytes) != get_u32(h + 56)) {
        free(data);
        return "image checksum mismatch";
    }
    *image = data;
    *size = (size_t)bytes;
    return NULL;
}

int cg_cache_load(const char *dir, const char *label, const unsigned char key[32], void **image,
                  size_t *size)
{
    char *path = entry_path(dir, label, key);
    if (!path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        free(path);
        return 0; /* a miss (or an unreadable folder, which the store will report) */
    }
    const char *why = read_entry(fd, key, image, size);
    close(fd);
    if (why)
        o2p_log(O2P_SEVERITY_WARNING, "kernel cache entry %s is damaged (%s): ignored, rebuilt",
                path, why);
    free(path);
    return why == NULL;
}

void cg_cache_store(const char *dir, const char *label, const unsigned char key[32],
                    const void *image, size_t size)
{
    if (make_dirs(dir) != 0) {
        warn_once("created", dir, errno);
        return;
    }
    char *path = entry_path(dir, label, key);
    char *tmp = NULL;
    if (!path || asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
        free(path);
        return;
    }
    unsigned char h[ENTRY_HEADER] = {0};
    memcpy(h, ENTRY_MAGIC, 8);
    put_u32(h + 8, ENTRY_FORMAT);
    put_u32(h + 12, ENTRY_HEADER);
    memcpy(h + 16, key, 32);
    put_u64(h + 48, (uint64_t)size);
    put_u32(h + 56, o2p_crc32c(0, image, size));
    put_u32(h + 60, o2p_crc32c(0, h, 60));

    /* mkostemp makes the file 0600 with a name no other writer holds. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    int ok = fd >= 0;
    int err = ok ? 0 : errno;
    if (ok) {
        ok = write_all(fd, h, sizeof h) == 0 && write_all(fd, image, size) == 0;
        if (!ok)
            err = errno;
        if (close(fd) != 0 && ok) {
            ok = 0;
            err = errno;
        }
        /* rename replaces an older (or damaged) entry atomically; a concurrent writer of the
         * same key wrote the same bytes, so whichever rename lands last is as good. */
        if (ok && rename(tmp, path) != 0) {
            ok = 0;
            err = errno;
        }
        if (!ok)
            unlink(tmp);
    }
    if (!ok)
        warn_once("written", dir, err ? err : EIO);
    free(tmp);
    free(path);
}
