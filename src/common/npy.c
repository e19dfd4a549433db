/* npy.c: numpy .npy and .npz (uncompressed zip) reading and writing. The readers treat the
 * bytes as hostile: every length, count, offset and header field is checked before use. */
#include "common/npy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- errors */

/* Fails with "<what>: <message>". */
static o2p_status npy_fail(o2p_status status, const char *what, const char *fmt, ...)
    O2P_PRINTF(3, 4);
static o2p_status npy_fail(o2p_status status, const char *what, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return o2p_fail(status, "%s: %s", what, msg);
}

/* A printable copy of n bytes for a message: control bytes become '?', long text is cut. */
static void npy_printable(char *dst, size_t cap, const void *src, size_t n)
{
    const unsigned char *s = src;
    size_t limit = cap - 1, k = 0;
    int cut = 0;
    if (n > limit) {
        n = limit > 3 ? limit - 3 : 0;
        cut = 1;
    }
    for (; k < n; k++)
        dst[k] = (s[k] < 0x20 || s[k] == 0x7f) ? '?' : (char)s[k];
    if (cut)
        for (int i = 0; i < 3 && k < limit; i++)
            dst[k++] = '.';
    dst[k] = '\0';
}

/* "(2, 3)", "(3,)", "()" */
static void npy_format_shape(char *buf, size_t cap, int rank, const int64_t *dims)
{
    size_t n = (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < rank && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (n < cap)
        snprintf(buf + n, cap - n, "%s)", rank == 1 ? "," : "");
}

/* ---------------------------------------------------------------- dtypes */

typedef struct npy_type {
    o2p_dtype dtype;
    char kind; /* numpy's kind letter */
    unsigned char size;
    const char *descr; /* what numpy writes for it */
} npy_type;

static const npy_type npy_types[] = {
    {O2P_DTYPE_FLOAT16, 'f', 2, "<f2"}, {O2P_DTYPE_FLOAT, 'f', 4, "<f4"},
    {O2P_DTYPE_DOUBLE, 'f', 8, "<f8"},  {O2P_DTYPE_INT8, 'i', 1, "|i1"},
    {O2P_DTYPE_INT16, 'i', 2, "<i2"},   {O2P_DTYPE_INT32, 'i', 4, "<i4"},
    {O2P_DTYPE_INT64, 'i', 8, "<i8"},   {O2P_DTYPE_UINT8, 'u', 1, "|u1"},
    {O2P_DTYPE_UINT16, 'u', 2, "<u2"},  {O2P_DTYPE_UINT32, 'u', 4, "<u4"},
    {O2P_DTYPE_UINT64, 'u', 8, "<u8"},  {O2P_DTYPE_BOOL, 'b', 1, "|b1"},
};
#define NPY_NUM_TYPES (sizeof npy_types / sizeof npy_types[0])
#define NPY_SUPPORTED_LIST \
    "<f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8 |b1 (and '>' big-endian forms)"

static const npy_type *npy_type_of(o2p_dtype dtype)
{
    for (size_t i = 0; i < NPY_NUM_TYPES; i++)
        if (npy_types[i].dtype == dtype)
            return &npy_types[i];
    return NULL;
}

const char *npy_descr(o2p_dtype dtype)
{
    const npy_type *t = npy_type_of(dtype);
    return t ? t->descr : NULL;
}

size_t npy_dtype_size(o2p_dtype dtype)
{
    const npy_type *t = npy_type_of(dtype);
    return t ? t->size : 0;
}

/* Element count and byte size of a shape, or 0 when they do not fit: count in size_t and
 * int64, the product of the non-zero dims too (numpy refuses such shapes even with a zero
 * dim, and later stages multiply dims). */
static int npy_shape_size(int rank, const int64_t *dims, size_t itemsize, size_t *count,
                          size_t *nbytes)
{
    int64_t nonzero = 1;
    int zero = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return 0;
        if (dims[i] == 0)
            zero = 1;
        else if (!o2p_mul_i64(nonzero, dims[i], &nonzero))
            return 0;
    }
    int64_t bytes;
    if (!o2p_mul_i64(nonzero, (int64_t)itemsize, &bytes) || (uint64_t)bytes > SIZE_MAX)
        return 0;
    *count = zero ? 0 : (size_t)nonzero;
    *nbytes = zero ? 0 : (size_t)bytes;
    return 1;
}

o2p_status npy_array_init(npy_array *a, o2p_dtype dtype, int rank, const int64_t *dims,
                          const void *data)
{
    if (!a)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_array_init: no array");
    memset(a, 0, sizeof *a);
    const npy_type *t = npy_type_of(dtype);
    if (!t)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_array_init: numpy has no dtype for %d%s",
                        (int)dtype,
                        dtype == O2P_DTYPE_BFLOAT16 ? " (bfloat16: convert it to float32)" : "");
    if (rank < 0 || rank > O2P_MAX_RANK || (rank > 0 && !dims))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_array_init: rank %d is not 0..%d", rank,
                        O2P_MAX_RANK);
    size_t count, nbytes;
    if (!npy_shape_size(rank, dims, t->size, &count, &nbytes))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "npy_array_init: a dimension is negative or the size overflows");
    if (nbytes && !data)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_array_init: no data for %zu bytes", nbytes);
    a->dtype = dtype;
    a->rank = rank;
    for (int i = 0; i < rank; i++)
        a->dims[i] = dims[i];
    a->count = count;
    a->nbytes = nbytes;
    a->data = (void *)data;
    return O2P_OK;
}

void npy_array_free(npy_array *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ---------------------------------------------------------------- CRC-32 (zip) */

static const uint32_t npy_crc_table[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu, 0xe963a535u,
    0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u, 0x09b64c2bu, 0x7eb17cbdu,
    0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u, 0xf3b97148u, 0x84be41deu, 0x1adad47du,
    0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u, 0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu,
    0x14015c4fu, 0x63066cd9u, 0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u,
    0xa2677172u, 0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
    0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u, 0x26d930acu,
    0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u, 0xcfba9599u, 0xb8bda50fu,
    0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u, 0x2f6f7c87u, 0x58684c11u, 0xc1611dabu,
    0xb6662d3du, 0x76dc4190u, 0x01db7106u, 0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu,
    0x9fbfe4a5u, 0xe8b8d433u, 0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu,
    0x086d3d2du, 0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
    0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u, 0x8bbeb8eau,
    0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u, 0x4db26158u, 0x3ab551ceu,
    0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u, 0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au,
    0x346ed9fcu, 0xad678846u, 0xda60b8d0u, 0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u,
    0x5005713cu, 0x270241aau, 0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u,
    0xce61e49fu, 0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au, 0xead54739u,
    0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u, 0x0d6d6a3eu, 0x7a6a5aa8u,
    0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u, 0xf00f9344u, 0x8708a3d2u, 0x1e01f268u,
    0x6906c2feu, 0xf762575du, 0x806567cbu, 0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u,
    0x10da7a5au, 0x67dd4accu, 0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u,
    0xa1d1937eu, 0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
    0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u, 0x316e8eefu,
    0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u, 0xcc0c7795u, 0xbb0b4703u,
    0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u, 0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u,
    0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du, 0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au,
    0x9c0906a9u, 0xeb0e363fu, 0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu,
    0x0cb61b38u, 0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
    0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u, 0x88085ae6u,
    0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u, 0x616bffd3u, 0x166ccf45u,
    0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u, 0xa7672661u, 0xd06016f7u, 0x4969474du,
    0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu, 0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u,
    0x47b2cf7fu, 0x30b5ffe9u, 0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u,
    0xcdd70693u, 0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t npy_crc32_ieee(uint32_t crc, const void *data, size_t size)
{
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < size; i++)
        crc = npy_crc_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* ---------------------------------------------------------------- little-endian fields */

static uint16_t npy_rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t npy_rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t npy_rd64(const unsigned char *p)
{
    return (uint64_t)npy_rd32(p) | (uint64_t)npy_rd32(p + 4) << 32;
}
static void npy_wr16(unsigned char *p, uint64_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void npy_wr32(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void npy_wr64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* ---------------------------------------------------------------- .npy header dict
 *
 * The header is the repr of a Python dict, e.g.
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * parsed as the subset of Python literal syntax numpy writes: quoted keys and strings
 * without escapes, True/False, a tuple of non-negative decimal ints (a 1-tuple needs its
 * comma), optional trailing commas, whitespace between tokens. */

typedef struct npy_header_parser {
    const unsigned char *p, *end;
    const char *what;
    int allow_long_suffix; /* Python 2 wrote 3L in format 1.0/2.0 files */
} npy_header_parser;

typedef struct npy_header {
    o2p_dtype dtype;
    size_t itemsize;
    int big_endian;
    int fortran_order;
    int rank;
    int64_t dims[O2P_MAX_RANK];
} npy_header;

static int hp_peek(const npy_header_parser *h)
{
    return h->p < h->end ? *h->p : -1;
}

static void hp_skip_space(npy_header_parser *h)
{
    while (h->p < h->end &&
           (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r' || *h->p == '\f'))
        h->p++;
}

/* What stands at the cursor, for messages: "'x'", "byte 0x07", "the end of the header". */
static const char *hp_here(const npy_header_parser *h, char *buf, size_t cap)
{
    int c = hp_peek(h);
    if (c < 0)
        snprintf(buf, cap, "the end of the header");
    else if (c >= 0x20 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "byte 0x%02x", c);
    return buf;
}

static o2p_status hp_expected(const npy_header_parser *h, const char *expected)
{
    char here[32];
    return npy_fail(O2P_ERR_PARSE, h->what, "malformed header: expected %s, found %s", expected,
                    hp_here(h, here, sizeof here));
}

static o2p_status hp_string(npy_header_parser *h, const unsigned char **s, size_t *n)
{
    int q = hp_peek(h);
    if (q != '\'' && q != '"')
        return hp_expected(h, "a quoted string");
    const unsigned char *start = ++h->p;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || *h->p < 0x20)
            return npy_fail(O2P_ERR_PARSE, h->what,
                            "malformed header: escapes and control characters in strings are "
                            "not supported");
        h->p++;
    }
    if (h->p >= h->end)
        return npy_fail(O2P_ERR_PARSE, h->what, "malformed header: unterminated string");
    *s = start;
    *n = (size_t)(h->p - start);
    h->p++;
    return O2P_OK;
}

static int hp_is_ident_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

static o2p_status hp_bool(npy_header_parser *h, int *value)
{
    const unsigned char *start = h->p;
    while (h->p < h->end && hp_is_ident_char(*h->p))
        h->p++;
    size_t n = (size_t)(h->p - start);
    if (n == 4 && memcmp(start, "True", 4) == 0)
        *value = 1;
    else if (n == 5 && memcmp(start, "False", 5) == 0)
        *value = 0;
    else {
        h->p = start;
        return hp_expected(h, "True or False for 'fortran_order'");
    }
    return O2P_OK;
}

static o2p_status hp_dim(npy_header_parser *h, int64_t *dim)
{
    int c = hp_peek(h);
    if (c == '-')
        return npy_fail(O2P_ERR_PARSE, h->what,
                        "malformed header: a negative dimension in 'shape'");
    if (c < '0' || c > '9')
        return hp_expected(h, "a dimension (a decimal integer) in 'shape'");
    if (c == '0' && h->p + 1 < h->end && h->p[1] >= '0' && h->p[1] <= '9')
        return npy_fail(O2P_ERR_PARSE, h->what,
                        "malformed header: a dimension with a leading zero in 'shape'");
    int64_t v = 0;
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
        if (!o2p_mul_i64(v, 10, &v) || __builtin_add_overflow(v, (int64_t)(*h->p - '0'), &v))
            return npy_fail(O2P_ERR_LIMIT, h->what, "a dimension in 'shape' is larger than 2^63-1");
        h->p++;
    }
    if (h->allow_long_suffix && (hp_peek(h) == 'L' || hp_peek(h) == 'l'))
        h->p++;
    if (h->p < h->end && hp_is_ident_char(*h->p))
        return npy_fail(O2P_ERR_PARSE, h->what,
                        "malformed header: a dimension in 'shape' is not a plain integer");
    *dim = v;
    return O2P_OK;
}

static o2p_status hp_shape(npy_header_parser *h, npy_header *out)
{
    if (hp_peek(h) == '[')
        return npy_fail(O2P_ERR_PARSE, h->what,
                        "malformed header: 'shape' is a list; numpy writes a tuple");
    if (hp_peek(h) != '(')
        return hp_expected(h, "a tuple for 'shape'");
    h->p++;
    hp_skip_space(h);
    int rank = 0, comma = 0;
    while (hp_peek(h) != ')') {
        if (rank == O2P_MAX_RANK)
            return npy_fail(O2P_ERR_LIMIT, h->what,
                            "the array has more than %d dimensions (onnx2plan's limit)",
                            O2P_MAX_RANK);
        O2P_TRY(hp_dim(h, &out->dims[rank]));
        rank++;
        hp_skip_space(h);
        comma = hp_peek(h) == ',';
        if (comma) {
            h->p++;
            hp_skip_space(h);
        } else if (hp_peek(h) != ')') {
            return hp_expected(h, "',' or ')' in 'shape'");
        }
    }
    if (rank == 1 && !comma)
        return npy_fail(O2P_ERR_PARSE, h->what,
                        "malformed header: 'shape' (%lld) is not a tuple (a 1-tuple is (%lld,))",
                        (long long)out->dims[0], (long long)out->dims[0]);
    h->p++;
    out->rank = rank;
    return O2P_OK;
}

/* Maps a descr string to a dtype; O2P_ERR_UNSUPPORTED for the numpy types onnx2plan lacks. */
static o2p_status npy_parse_descr(const unsigned char *s, size_t n, const char *what,
                                  npy_header *out)
{
    char shown[48];
    npy_printable(shown, sizeof shown, s, n);
    char order = n > 0 ? (char)s[0] : 0;
    char kind = n > 1 ? (char)s[1] : 0;
    if (order != '<' && order != '>' && order != '|' && order != '=')
        kind = order; /* no byte-order character: 'f4', 'O', ... */
    switch (kind) {
    case 'O':
        return npy_fail(O2P_ERR_UNSUPPORTED, what,
                        "dtype '%s': object arrays (pickled Python objects) are not supported",
                        shown);
    case 'U':
        return npy_fail(O2P_ERR_UNSUPPORTED, what,
                        "dtype '%s': unicode string arrays are not supported", shown);
    case 'S':
    case 'a':
        return npy_fail(O2P_ERR_UNSUPPORTED, what,
                        "dtype '%s': byte string arrays are not supported", shown);
    case 'c':
        return npy_fail(O2P_ERR_UNSUPPORTED, what, "dtype '%s': complex arrays are not supported",
                        shown);
    case 'M':
    case 'm':
        return npy_fail(O2P_ERR_UNSUPPORTED, what,
                        "dtype '%s': datetime and timedelta arrays are not supported", shown);
    case 'V':
        return npy_fail(O2P_ERR_UNSUPPORTED, what,
                        "dtype '%s': void (raw record) arrays are not supported", shown);
    }
    if (order == '=')
        return npy_fail(O2P_ERR_UNSUPPORTED, what,
                        "dtype '%s': native byte order '=' does not say the file's byte order; "
                        "numpy writes '<' or '>'",
                        shown);
    if (order == '<' || order == '>' || order == '|') {
        for (size_t i = 0; i < NPY_NUM_TYPES; i++) {
            const npy_type *t = &npy_types[i];
            if (n != 3 || kind != t->kind || s[2] != (unsigned char)('0' + t->size))
                continue;
            if (t->size > 1 && order == '|')
                break; /* no byte order for a multi-byte type */
            out->dtype = t->dtype;
            out->itemsize = t->size;
            out->big_endian = order == '>' && t->size > 1;
            return O2P_OK;
        }
    }
    return npy_fail(O2P_ERR_UNSUPPORTED, what,
                    "dtype '%s' is not supported (onnx2plan reads " NPY_SUPPORTED_LIST ")", shown);
}

static o2p_status npy_parse_header(const unsigned char *text, size_t n, const char *what,
                                   int allow_long_suffix, npy_header *out)
{
    npy_header_parser h = {text, text + n, what, allow_long_suffix};
    int have_descr = 0, have_order = 0, have_shape = 0;
    hp_skip_space(&h);
    if (hp_peek(&h) != '{')
        return hp_expected(&h, "'{' (the header is a Python dict)");
    h.p++;
    hp_skip_space(&h);
    while (hp_peek(&h) != '}') {
        const unsigned char *key;
        size_t key_len;
        O2P_TRY(hp_string(&h, &key, &key_len));
        hp_skip_space(&h);
        if (hp_peek(&h) != ':')
            return hp_expected(&h, "':' after a key");
        h.p++;
        hp_skip_space(&h);
        int *seen;
        if (key_len == 5 && memcmp(key, "descr", 5) == 0) {
            seen = &have_descr;
            if (hp_peek(&h) == '[')
                return npy_fail(O2P_ERR_UNSUPPORTED, what,
                                "structured arrays (a list 'descr') are not supported");
            const unsigned char *descr;
            size_t descr_len;
            if (*seen)
                return npy_fail(O2P_ERR_PARSE, what, "malformed header: 'descr' appears twice");
            O2P_TRY(hp_string(&h, &descr, &descr_len));
            O2P_TRY(npy_parse_descr(descr, descr_len, what, out));
        } else if (key_len == 13 && memcmp(key, "fortran_order", 13) == 0) {
            seen = &have_order;
            if (*seen)
                return npy_fail(O2P_ERR_PARSE, what,
                                "malformed header: 'fortran_order' appears twice");
            O2P_TRY(hp_bool(&h, &out->fortran_order));
        } else if (key_len == 5 && memcmp(key, "shape", 5) == 0) {
            seen = &have_shape;
            if (*seen)
                return npy_fail(O2P_ERR_PARSE, what, "malformed header: 'shape' appears twice");
            O2P_TRY(hp_shape(&h, out));
        } else {
            char shown[48];
            npy_printable(shown, sizeof shown, key, key_len);
            return npy_fail(O2P_ERR_PARSE, what,
                            "malformed header: unknown key '%s' (expected 'descr', "
                            "'fortran_order' and 'shape')",
                            shown);
        }
        *seen = 1;
        hp_skip_space(&h);
        if (hp_peek(&h) == ',') {
            h.p++;
            hp_skip_space(&h);
        } else if (hp_peek(&h) != '}') {
            return hp_expected(&h, "',' or '}' after a value");
        }
    }
    h.p++;
    hp_skip_space(&h);
    if (h.p != h.end)
        return hp_expected(&h, "only spaces after the header dict");
    if (!have_descr || !have_order || !have_shape)
        return npy_fail(O2P_ERR_PARSE, what, "malformed header: the key '%s' is missing",
                        !have_descr   ? "descr"
                        : !have_order ? "fortran_order"
                                      : "shape");
    return O2P_OK;
}

/* ---------------------------------------------------------------- .npy reading */

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* Reorders a Fortran-order (column-major) array into C order. */
static void npy_fortran_to_c(const unsigned char *src, unsigned char *dst, const npy_header *hd,
                             size_t count)
{
    size_t isz = hd->itemsize, stride[O2P_MAX_RANK], index[O2P_MAX_RANK] = {0};
    int rank = hd->rank;
    stride[0] = 1;
    for (int k = 1; k < rank; k++)
        stride[k] = stride[k - 1] * (size_t)hd->dims[k - 1];
    size_t from = 0; /* the element's index in the Fortran-order source */
    for (size_t n = 0; n < count; n++) {
        memcpy(dst + n * isz, src + from * isz, isz);
        for (int k = rank - 1; k >= 0; k--) {
            from += stride[k];
            if (++index[k] < (size_t)hd->dims[k])
                break;
            from -= stride[k] * (size_t)hd->dims[k];
            index[k] = 0;
        }
    }
}

o2p_status npy_read_npy_buffer(const void *data, size_t size, const char *what, npy_array *out)
{
    if (!out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_read_npy_buffer: no output");
    memset(out, 0, sizeof *out);
    if (!what)
        what = "npy buffer";
    if (!data && size)
        return npy_fail(O2P_ERR_INVALID_ARGUMENT, what, "no data");
    const unsigned char *b = data;
    if (size < sizeof npy_magic || memcmp(b, npy_magic, sizeof npy_magic) != 0) {
        if (size >= 4 && memcmp(b, "PK", 2) == 0 && b[2] < 8 && b[3] < 8)
            return npy_fail(O2P_ERR_PARSE, what, "this is a zip archive (.npz?), not an .npy file");
        return npy_fail(O2P_ERR_PARSE, what,
                        "not an .npy file (%zu bytes that do not begin with \\x93NUMPY)", size);
    }
    if (size < 8)
        return npy_fail(O2P_ERR_PARSE, what, "truncated .npy: %zu bytes, no format version", size);
    unsigned major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return npy_fail(O2P_ERR_UNSUPPORTED, what,
                        ".npy format version %u.%u is not supported (1.0, 2.0 and 3.0 are)", major,
                        minor);
    size_t prefix = major == 1 ? 10 : 12;
    if (size < prefix)
        return npy_fail(O2P_ERR_PARSE, what, "truncated .npy: %zu bytes, no header length", size);
    size_t header_len = major == 1 ? npy_rd16(b + 8) : npy_rd32(b + 8);
    if (header_len > NPY_MAX_HEADER_BYTES)
        return npy_fail(O2P_ERR_LIMIT, what, "the header is %zu bytes, more than the limit of %zu",
                        header_len, NPY_MAX_HEADER_BYTES);
    if (header_len > size - prefix)
        return npy_fail(O2P_ERR_PARSE, what,
                        "truncated .npy: the header is %zu bytes but only %zu follow", header_len,
                        size - prefix);

    npy_header hd;
    memset(&hd, 0, sizeof hd);
    O2P_TRY(npy_parse_header(b + prefix, header_len, what, major <= 2, &hd));

    char shape[O2P_MAX_RANK * 22 + 8];
    npy_format_shape(shape, sizeof shape, hd.rank, hd.dims);
    size_t count, nbytes;
    if (!npy_shape_size(hd.rank, hd.dims, hd.itemsize, &count, &nbytes))
        return npy_fail(O2P_ERR_LIMIT, what, "shape %s is too large", shape);
    size_t have = size - prefix - header_len;
    if (have != nbytes)
        return npy_fail(O2P_ERR_PARSE, what,
                        "the data is %zu bytes, but shape %s of %s needs %zu (%s)", have, shape,
                        npy_descr(hd.dtype), nbytes,
                        have < nbytes ? "truncated" : "extra bytes at the end");

    unsigned char *copy = malloc(nbytes ? nbytes : 1);
    if (!copy)
        return npy_fail(O2P_ERR_OUT_OF_MEMORY, what, "out of memory for %zu bytes of data", nbytes);
    memcpy(copy, b + prefix + header_len, nbytes);
    if (hd.big_endian) {
        for (size_t i = 0; i < count; i++) {
            unsigned char *e = copy + i * hd.itemsize;
            for (size_t lo = 0, hi = hd.itemsize - 1; lo < hi; lo++, hi--) {
                unsigned char t = e[lo];
                e[lo] = e[hi];
                e[hi] = t;
            }
        }
    }
    if (hd.dtype == O2P_DTYPE_BOOL)
        for (size_t i = 0; i < nbytes; i++)
            copy[i] = copy[i] != 0;
    if (hd.fortran_order && hd.rank > 1 && count > 1) {
        unsigned char *c_order = malloc(nbytes);
        if (!c_order) {
            free(copy);
            return npy_fail(O2P_ERR_OUT_OF_MEMORY, what, "out of memory for %zu bytes of data",
                            nbytes);
        }
        npy_fortran_to_c(copy, c_order, &hd, count);
        free(copy);
        copy = c_order;
    }
    out->dtype = hd.dtype;
    out->rank = hd.rank;
    memcpy(out->dims, hd.dims, sizeof hd.dims);
    out->count = count;
    out->nbytes = nbytes;
    out->data = copy;
    return O2P_OK;
}

o2p_status npy_read_npy_file(const char *path, npy_array *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_read_npy_file: no path or output");
    void *bytes;
    size_t size;
    O2P_TRY(o2p_read_file(path, NPY_MAX_FILE_BYTES, &bytes, &size));
    o2p_status st = npy_read_npy_buffer(bytes, size, path, out);
    free(bytes);
    return st;
}

/* ---------------------------------------------------------------- output: memory or file */

typedef struct npy_sink {
    FILE *file; /* NULL: memory */
    const char *what;
    unsigned char *buf;
    size_t len, cap;
    uint64_t pos; /* bytes written so far */
} npy_sink;

static o2p_status sink_write(npy_sink *s, const void *p, size_t n)
{
    if (n == 0)
        return O2P_OK;
    if (s->file) {
        if (fwrite(p, 1, n, s->file) != n)
            return npy_fail(O2P_ERR_IO, s->what, "cannot write: %s", strerror(errno));
    } else {
        size_t need;
        if (!o2p_add_size(s->len, n, &need))
            return npy_fail(O2P_ERR_OUT_OF_MEMORY, s->what, "output too large");
        if (need > s->cap) {
            size_t cap = s->cap ? s->cap : 4096;
            while (cap < need)
                if (!o2p_mul_size(cap, 2, &cap)) {
                    cap = need;
                    break;
                }
            unsigned char *grown = realloc(s->buf, cap);
            if (!grown)
                return npy_fail(O2P_ERR_OUT_OF_MEMORY, s->what, "out of memory for %zu bytes", cap);
            s->buf = grown;
            s->cap = cap;
        }
        memcpy(s->buf + s->len, p, n);
        s->len = need;
    }
    s->pos += n;
    return O2P_OK;
}

static o2p_status sink_open_file(npy_sink *s, const char *path)
{
    memset(s, 0, sizeof *s);
    s->what = path;
    s->file = fopen(path, "wb");
    if (!s->file)
        return npy_fail(O2P_ERR_IO, path, "cannot create: %s", strerror(errno));
    return O2P_OK;
}

/* Closes the file; on failure (status, or a failing close) removes it if it is a regular
 * file, so no half-written archive is left behind. */
static o2p_status sink_close_file(npy_sink *s, o2p_status status)
{
    struct stat st;
    int regular = fstat(fileno(s->file), &st) == 0 && S_ISREG(st.st_mode);
    if (fclose(s->file) != 0 && status == O2P_OK)
        status = npy_fail(O2P_ERR_IO, s->what, "cannot write: %s", strerror(errno));
    s->file = NULL;
    if (status != O2P_OK && regular)
        unlink(s->what);
    return status;
}

/* The array's data, bools written as 0/1. */
static o2p_status sink_data(npy_sink *s, const npy_array *a)
{
    if (a->dtype != O2P_DTYPE_BOOL)
        return sink_write(s, a->data, a->nbytes);
    const unsigned char *p = a->data;
    unsigned char chunk[4096];
    for (size_t done = 0; done < a->nbytes;) {
        size_t n = a->nbytes - done < sizeof chunk ? a->nbytes - done : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = p[done + i] != 0;
        O2P_TRY(sink_write(s, chunk, n));
        done += n;
    }
    return O2P_OK;
}

/* The CRC-32 of what sink_data writes. */
static uint32_t npy_data_crc(uint32_t crc, const npy_array *a)
{
    if (a->dtype != O2P_DTYPE_BOOL)
        return npy_crc32_ieee(crc, a->data, a->nbytes);
    const unsigned char *p = a->data;
    unsigned char chunk[4096];
    for (size_t done = 0; done < a->nbytes;) {
        size_t n = a->nbytes - done < sizeof chunk ? a->nbytes - done : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = p[done + i] != 0;
        crc = npy_crc32_ieee(crc, chunk, n);
        done += n;
    }
    return crc;
}

/* ---------------------------------------------------------------- .npy writing */

/* Longest header: the dict with 16 dims of 19 digits, growth spaces and padding. */
#define NPY_HEADER_CAP 1024

static o2p_status npy_check_array(const npy_array *a, const char *what)
{
    if (!a)
        return npy_fail(O2P_ERR_INVALID_ARGUMENT, what, "no array");
    const npy_type *t = npy_type_of(a->dtype);
    if (!t)
        return npy_fail(O2P_ERR_UNSUPPORTED, what, "numpy has no dtype for %s%s",
                        a->dtype == O2P_DTYPE_BFLOAT16     ? "bfloat16"
                        : a->dtype == O2P_DTYPE_STRING     ? "strings"
                        : a->dtype == O2P_DTYPE_COMPLEX64  ? "complex64"
                        : a->dtype == O2P_DTYPE_COMPLEX128 ? "complex128"
                                                           : "this element type",
                        a->dtype == O2P_DTYPE_BFLOAT16 ? " (convert it to float32)" : "");
    size_t count, nbytes;
    if (a->rank < 0 || a->rank > O2P_MAX_RANK ||
        !npy_shape_size(a->rank, a->dims, t->size, &count, &nbytes))
        return npy_fail(O2P_ERR_INVALID_ARGUMENT, what,
                        "bad shape (rank %d, a negative dimension or a size overflow)", a->rank);
    if (count != a->count || nbytes != a->nbytes)
        return npy_fail(O2P_ERR_INVALID_ARGUMENT, what,
                        "count %zu and nbytes %zu do not match the shape (%zu, %zu); use "
                        "npy_array_init",
                        a->count, a->nbytes, count, nbytes);
    if (nbytes && !a->data)
        return npy_fail(O2P_ERR_INVALID_ARGUMENT, what, "no data for %zu bytes", nbytes);
    return O2P_OK;
}

/* The .npy header (magic to '\n') exactly as numpy 1.x/2.x np.save writes it for a C-order
 * array; returns its length. buf holds NPY_HEADER_CAP bytes. */
static size_t npy_build_header(const npy_array *a, unsigned char *buf)
{
    char dict[NPY_HEADER_CAP];
    char shape[O2P_MAX_RANK * 22 + 8];
    npy_format_shape(shape, sizeof shape, a->rank, a->dims);
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     npy_descr(a->dtype), shape);
    if (a->rank > 0) {
        /* numpy leaves room to grow the first axis in place: 21 digits in all. */
        int digits = snprintf(NULL, 0, "%lld", (long long)a->dims[0]);
        for (int i = digits; i < 21; i++)
            dict[n++] = ' ';
    }
    size_t hlen = (size_t)n + 1; /* with the final '\n' */
    size_t pad = 64 - (10 + hlen) % 64;
    memcpy(buf, npy_magic, 6);
    buf[6] = 1;
    buf[7] = 0;
    npy_wr16(buf + 8, hlen + pad);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', pad);
    buf[10 + n + pad] = '\n';
    return 10 + hlen + pad;
}

static o2p_status npy_write_npy_sink(npy_sink *s, const npy_array *a)
{
    unsigned char header[NPY_HEADER_CAP];
    size_t header_len = npy_build_header(a, header);
    O2P_TRY(sink_write(s, header, header_len));
    return sink_data(s, a);
}

o2p_status npy_write_npy_buffer(const npy_array *a, void **out, size_t *size)
{
    if (!out || !size)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_write_npy_buffer: no output");
    *out = NULL;
    *size = 0;
    O2P_TRY(npy_check_array(a, "npy buffer"));
    npy_sink s = {.what = "npy buffer"};
    o2p_status st = npy_write_npy_sink(&s, a);
    if (st != O2P_OK) {
        free(s.buf);
        return st;
    }
    *out = s.buf;
    *size = s.len;
    return O2P_OK;
}

o2p_status npy_write_npy_file(const char *path, const npy_array *a)
{
    if (!path)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_write_npy_file: no path");
    O2P_TRY(npy_check_array(a, path));
    npy_sink s;
    O2P_TRY(sink_open_file(&s, path));
    return sink_close_file(&s, npy_write_npy_sink(&s, a));
}

/* ---------------------------------------------------------------- .npz (zip) layout */

enum {
    ZIP_LOCAL_SIG = 0x04034b50,
    ZIP_CENTRAL_SIG = 0x02014b50,
    ZIP_END_SIG = 0x06054b50,
    ZIP64_END_SIG = 0x06064b50,
    ZIP64_LOCATOR_SIG = 0x07064b50,
    ZIP_LOCAL_SIZE = 30,
    ZIP_CENTRAL_SIZE = 46,
    ZIP_END_SIZE = 22,
    ZIP64_END_SIZE = 56,
    ZIP64_LOCATOR_SIZE = 20,
    ZIP_FLAG_ENCRYPTED = 1 << 0,
    ZIP_FLAG_STRONG_ENCRYPTION = 1 << 6,
    ZIP_FLAG_UTF8 = 1 << 11,
    ZIP_METHOD_STORED = 0,
    ZIP_METHOD_DEFLATED = 8,
    ZIP_EXTRA_ZIP64 = 0x0001,
    ZIP_DOS_DATE = (0 << 9) | (1 << 5) | 1, /* 1980-01-01, the earliest DOS date */
    ZIP_DOS_TIME = 0,
};
#define ZIP_MAX32 0xffffffffu
#define ZIP_MAX16 0xffffu

/* ---------------------------------------------------------------- .npz reading */

typedef struct npz_entry {
    const unsigned char *name; /* in the central directory, name_len bytes, ends in ".npy" */
    size_t name_len;
    uint64_t local_offset;
    uint64_t data_offset;
    uint64_t size;
    uint32_t crc;
} npz_entry;

/* "<what>: member '<name>'" for messages. */
static void npz_member_what(char *buf, size_t cap, const char *what, const unsigned char *name,
                            size_t name_len)
{
    char shown[256];
    npy_printable(shown, sizeof shown, name, name_len);
    snprintf(buf, cap, "%s: member '%s'", what, shown);
}

/* Finds the end-of-central-directory record (and the zip64 one when present) and checks
 * that the central directory lies just before it. */
static o2p_status npz_find_directory(const unsigned char *b, size_t size, const char *what,
                                     uint64_t *cd_offset, uint64_t *cd_size, uint64_t *entries)
{
    if (size < ZIP_END_SIZE)
        return npy_fail(O2P_ERR_PARSE, what, "not a zip archive (.npz): only %zu bytes", size);
    /* The record is the last 22 bytes plus a comment of up to 65535 bytes. */
    size_t lowest = size - ZIP_END_SIZE > ZIP_MAX16 ? size - ZIP_END_SIZE - ZIP_MAX16 : 0;
    size_t end = size - ZIP_END_SIZE;
    for (;; end--) {
        if (npy_rd32(b + end) == ZIP_END_SIG && end + ZIP_END_SIZE + npy_rd16(b + end + 20) == size)
            break;
        if (end == lowest)
            return npy_fail(O2P_ERR_PARSE, what,
                            "not a zip archive (.npz): no end-of-central-directory record");
    }
    const unsigned char *e = b + end;
    uint64_t disk = npy_rd16(e + 4), cd_disk = npy_rd16(e + 6);
    uint64_t on_disk = npy_rd16(e + 8), total = npy_rd16(e + 10);
    uint64_t cd_len = npy_rd32(e + 12), cd_off = npy_rd32(e + 16);
    uint64_t cd_end = end; /* where the central directory must end */

    if (end >= ZIP64_LOCATOR_SIZE && npy_rd32(b + end - ZIP64_LOCATOR_SIZE) == ZIP64_LOCATOR_SIG) {
        size_t loc = end - ZIP64_LOCATOR_SIZE;
        uint64_t z_off = npy_rd64(b + loc + 8);
        if (npy_rd32(b + loc + 4) != 0 || npy_rd32(b + loc + 16) != 1)
            return npy_fail(O2P_ERR_UNSUPPORTED, what,
                            "multi-disk (split) zip archives are not supported");
        if (loc < ZIP64_END_SIZE || z_off > loc - ZIP64_END_SIZE)
            return npy_fail(O2P_ERR_PARSE, what,
                            "the zip64 end record offset %llu lies outside the archive",
                            (unsigned long long)z_off);
        const unsigned char *z = b + z_off;
        uint64_t rec_size = npy_rd64(z + 4);
        if (npy_rd32(z) != ZIP64_END_SIG || rec_size < ZIP64_END_SIZE - 12 ||
            rec_size != loc - z_off - 12)
            return npy_fail(O2P_ERR_PARSE, what, "malformed zip64 end-of-central-directory record");
        uint64_t z_disk = npy_rd32(z + 16), z_cd_disk = npy_rd32(z + 20);
        uint64_t z_on_disk = npy_rd64(z + 24), z_total = npy_rd64(z + 32);
        uint64_t z_cd_len = npy_rd64(z + 40), z_cd_off = npy_rd64(z + 48);
        /* The 32-bit fields either say "see zip64" (all ones) or agree with it. */
        if ((disk != ZIP_MAX16 && disk != z_disk) ||
            (cd_disk != ZIP_MAX16 && cd_disk != z_cd_disk) ||
            (on_disk != ZIP_MAX16 && on_disk != z_on_disk) ||
            (total != ZIP_MAX16 && total != z_total) ||
            (cd_len != ZIP_MAX32 && cd_len != z_cd_len) ||
            (cd_off != ZIP_MAX32 && cd_off != z_cd_off))
            return npy_fail(O2P_ERR_PARSE, what,
                            "the zip and zip64 end-of-central-directory records disagree");
        disk = z_disk;
        cd_disk = z_cd_disk;
        on_disk = z_on_disk;
        total = z_total;
        cd_len = z_cd_len;
        cd_off = z_cd_off;
        cd_end = z_off;
    }
    if (disk != 0 || cd_disk != 0 || on_disk != total)
        return npy_fail(O2P_ERR_UNSUPPORTED, what,
                        "multi-disk (split) zip archives are not supported");
    if (total > NPY_MAX_NPZ_MEMBERS)
        return npy_fail(O2P_ERR_LIMIT, what, "%llu members, more than the limit of %d",
                        (unsigned long long)total, NPY_MAX_NPZ_MEMBERS);
    if (cd_off > cd_end || cd_len != cd_end - cd_off)
        return npy_fail(O2P_ERR_PARSE, what,
                        "the central directory (offset %llu, %llu bytes) does not end where the "
                        "end record begins (offset %llu)",
                        (unsigned long long)cd_off, (unsigned long long)cd_len,
                        (unsigned long long)cd_end);
    if (total * ZIP_CENTRAL_SIZE > cd_len)
        return npy_fail(O2P_ERR_PARSE, what,
                        "%llu members do not fit in a central directory of %llu bytes",
                        (unsigned long long)total, (unsigned long long)cd_len);
    *cd_offset = cd_off;
    *cd_size = cd_len;
    *entries = total;
    return O2P_OK;
}

/* Reads the zip64 extended-information extra field of a central entry: 64-bit values for
 * the fields set to all ones, in the order uncompressed size, compressed size, offset. */
static o2p_status npz_zip64_extra(const unsigned char *x, size_t len, const char *what,
                                  uint64_t *usize, uint64_t *csize, uint64_t *offset,
                                  uint64_t *disk)
{
    int seen = 0;
    while (len >= 4) {
        unsigned id = npy_rd16(x), n = npy_rd16(x + 2);
        if (n > len - 4)
            return npy_fail(O2P_ERR_PARSE, what, "an extra field runs past its entry");
        if (id == ZIP_EXTRA_ZIP64) {
            if (seen++)
                return npy_fail(O2P_ERR_PARSE, what, "two zip64 extra fields");
            const unsigned char *f = x + 4;
            size_t left = n;
            uint64_t *fields[3] = {usize, csize, offset};
            for (int i = 0; i < 3; i++) {
                if (*fields[i] != ZIP_MAX32)
                    continue;
                if (left < 8)
                    return npy_fail(O2P_ERR_PARSE, what, "the zip64 extra field is too short");
                *fields[i] = npy_rd64(f);
                f += 8;
                left -= 8;
            }
            if (*disk == ZIP_MAX16) {
                if (left < 4)
                    return npy_fail(O2P_ERR_PARSE, what, "the zip64 extra field is too short");
                *disk = npy_rd32(f);
            }
        }
        x += 4 + n;
        len -= 4 + n;
    }
    return O2P_OK;
}

/* Checks one central directory entry at *pos and its local header; advances *pos. */
static o2p_status npz_read_entry(const unsigned char *b, uint64_t cd_offset, uint64_t cd_end,
                                 uint64_t *pos, size_t index, const char *what, npz_entry *out)
{
    char mwhat[512];
    uint64_t p = *pos;
    if (cd_end - p < ZIP_CENTRAL_SIZE || npy_rd32(b + p) != ZIP_CENTRAL_SIG)
        return npy_fail(O2P_ERR_PARSE, what, "central directory entry %zu is malformed", index);
    const unsigned char *c = b + p;
    unsigned flags = npy_rd16(c + 8), method = npy_rd16(c + 10);
    uint32_t crc = npy_rd32(c + 16);
    uint64_t csize = npy_rd32(c + 20), usize = npy_rd32(c + 24);
    size_t name_len = npy_rd16(c + 28), extra_len = npy_rd16(c + 30),
           comment_len = npy_rd16(c + 32);
    uint64_t disk = npy_rd16(c + 34), offset = npy_rd32(c + 42);
    if (cd_end - p - ZIP_CENTRAL_SIZE < (uint64_t)name_len + extra_len + comment_len)
        return npy_fail(O2P_ERR_PARSE, what, "central directory entry %zu runs past the directory",
                        index);
    const unsigned char *name = c + ZIP_CENTRAL_SIZE;
    npz_member_what(mwhat, sizeof mwhat, what, name, name_len);
    O2P_TRY(npz_zip64_extra(name + name_len, extra_len, mwhat, &usize, &csize, &offset, &disk));
    *pos = p + ZIP_CENTRAL_SIZE + name_len + extra_len + comment_len;

    if (disk != 0)
        return npy_fail(O2P_ERR_UNSUPPORTED, mwhat,
                        "multi-disk (split) zip archives are not supported");
    if (flags & (ZIP_FLAG_ENCRYPTED | ZIP_FLAG_STRONG_ENCRYPTION))
        return npy_fail(O2P_ERR_UNSUPPORTED, mwhat, "encrypted members are not supported");
    if (method == ZIP_METHOD_DEFLATED)
        return npy_fail(O2P_ERR_UNSUPPORTED, mwhat,
                        "compressed (deflate, as np.savez_compressed writes) members are not "
                        "supported; save the arrays with np.savez (uncompressed)");
    if (method != ZIP_METHOD_STORED)
        return npy_fail(O2P_ERR_UNSUPPORTED, mwhat,
                        "compression method %u is not supported; save the arrays with np.savez "
                        "(uncompressed)",
                        method);
    if (csize != usize)
        return npy_fail(O2P_ERR_PARSE, mwhat,
                        "a stored member with different sizes (%llu stored, %llu uncompressed)",
                        (unsigned long long)csize, (unsigned long long)usize);
    if (name_len < 5 || memcmp(name + name_len - 4, ".npy", 4) != 0)
        return npy_fail(O2P_ERR_UNSUPPORTED, mwhat,
                        "not an .npy member (np.savez writes NAME.npy members)");
    if (memchr(name, 0, name_len))
        return npy_fail(O2P_ERR_PARSE, mwhat, "a NUL byte in the member name");

    /* The local header, its name and the data must lie before the central directory. */
    if (offset > cd_offset || cd_offset - offset < ZIP_LOCAL_SIZE)
        return npy_fail(O2P_ERR_PARSE, mwhat,
                        "the local header offset %llu lies outside the archive's data",
                        (unsigned long long)offset);
    const unsigned char *l = b + offset;
    if (npy_rd32(l) != ZIP_LOCAL_SIG)
        return npy_fail(O2P_ERR_PARSE, mwhat, "no local header at offset %llu",
                        (unsigned long long)offset);
    size_t local_name_len = npy_rd16(l + 26), local_extra_len = npy_rd16(l + 28);
    uint64_t data = offset + ZIP_LOCAL_SIZE + local_name_len + local_extra_len;
    if (data > cd_offset || csize > cd_offset - data)
        return npy_fail(O2P_ERR_PARSE, mwhat,
                        "the member's data (%llu bytes at offset %llu) runs into the central "
                        "directory",
                        (unsigned long long)csize, (unsigned long long)data);
    if (local_name_len != name_len || memcmp(l + ZIP_LOCAL_SIZE, name, name_len) != 0)
        return npy_fail(O2P_ERR_PARSE, mwhat,
                        "the local header's name differs from the central directory's");
    if (npy_rd16(l + 8) != method)
        return npy_fail(O2P_ERR_PARSE, mwhat,
                        "the local header's method differs from the central directory's");
    if (csize > SIZE_MAX)
        return npy_fail(O2P_ERR_LIMIT, mwhat, "too large for this machine");
    out->name = name;
    out->name_len = name_len;
    out->local_offset = offset;
    out->data_offset = data;
    out->size = csize;
    out->crc = crc;
    return O2P_OK;
}

static int npz_entry_by_offset(const void *a, const void *b)
{
    const npz_entry *x = *(const npz_entry *const *)a, *y = *(const npz_entry *const *)b;
    return x->local_offset < y->local_offset ? -1 : x->local_offset > y->local_offset;
}

/* Members must not share bytes (no overlapping "zip bomb" tricks). */
static o2p_status npz_check_overlap(npz_entry *entries, size_t count, const char *what)
{
    if (count < 2)
        return O2P_OK;
    npz_entry **sorted = malloc(count * sizeof *sorted);
    if (!sorted)
        return npy_fail(O2P_ERR_OUT_OF_MEMORY, what, "out of memory");
    for (size_t i = 0; i < count; i++)
        sorted[i] = &entries[i];
    qsort(sorted, count, sizeof *sorted, npz_entry_by_offset);
    o2p_status st = O2P_OK;
    for (size_t i = 1; i < count && st == O2P_OK; i++) {
        const npz_entry *prev = sorted[i - 1], *cur = sorted[i];
        if (cur->local_offset < prev->data_offset + prev->size) {
            char mwhat[512];
            npz_member_what(mwhat, sizeof mwhat, what, cur->name, cur->name_len);
            st = npy_fail(O2P_ERR_PARSE, mwhat, "overlaps the member before it in the archive");
        }
    }
    free(sorted);
    return st;
}

o2p_status npy_read_npz_buffer(const void *data, size_t size, const char *what, npy_npz *out)
{
    if (!out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_read_npz_buffer: no output");
    memset(out, 0, sizeof *out);
    if (!what)
        what = "npz buffer";
    if (!data && size)
        return npy_fail(O2P_ERR_INVALID_ARGUMENT, what, "no data");
    const unsigned char *b = data;
    if (size >= sizeof npy_magic && memcmp(b, npy_magic, sizeof npy_magic) == 0)
        return npy_fail(O2P_ERR_PARSE, what, "this is an .npy file, not an .npz archive");

    uint64_t cd_offset = 0, cd_size = 0, count = 0;
    O2P_TRY(npz_find_directory(b, size, what, &cd_offset, &cd_size, &count));
    if (count == 0)
        return O2P_OK;
    npz_entry *entries = calloc((size_t)count, sizeof *entries);
    out->names = calloc((size_t)count, sizeof *out->names);
    out->arrays = calloc((size_t)count, sizeof *out->arrays);
    o2p_strmap seen = {0};
    o2p_status st = O2P_OK;
    if (!entries || !out->names || !out->arrays)
        st = npy_fail(O2P_ERR_OUT_OF_MEMORY, what, "out of memory for %llu members",
                      (unsigned long long)count);

    /* The directory first, so a broken archive is refused before any data is copied. */
    uint64_t pos = cd_offset, cd_end = cd_offset + cd_size;
    for (size_t i = 0; i < count && st == O2P_OK; i++)
        st = npz_read_entry(b, cd_offset, cd_end, &pos, i, what, &entries[i]);
    if (st == O2P_OK && pos != cd_end)
        st = npy_fail(O2P_ERR_PARSE, what,
                      "%llu stray bytes after the %llu entries of the central directory",
                      (unsigned long long)(cd_end - pos), (unsigned long long)count);
    if (st == O2P_OK)
        st = npz_check_overlap(entries, (size_t)count, what);
    for (size_t i = 0; i < count && st == O2P_OK; i++) {
        size_t n = entries[i].name_len - 4;
        char *name = malloc(n + 1);
        if (!name) {
            st = npy_fail(O2P_ERR_OUT_OF_MEMORY, what, "out of memory");
            break;
        }
        memcpy(name, entries[i].name, n);
        name[n] = '\0';
        out->names[i] = name;
        out->count = i + 1; /* what npy_npz_free must free */
        if (o2p_strmap_get(&seen, name)) {
            char mwhat[512];
            npz_member_what(mwhat, sizeof mwhat, what, entries[i].name, entries[i].name_len);
            st = npy_fail(O2P_ERR_PARSE, mwhat, "appears twice in the archive");
            break;
        }
        st = o2p_strmap_put(&seen, name, name);
    }
    for (size_t i = 0; i < count && st == O2P_OK; i++) {
        const npz_entry *e = &entries[i];
        char mwhat[512];
        npz_member_what(mwhat, sizeof mwhat, what, e->name, e->name_len);
        const unsigned char *bytes = b + e->data_offset;
        uint32_t crc = npy_crc32_ieee(0, bytes, (size_t)e->size);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
        /* Fuzzing builds (tests/fuzz) reach what lies behind the checksum; never in production. */
        crc = e->crc;
#endif
        if (crc != e->crc) {
            st = npy_fail(O2P_ERR_PARSE, mwhat,
                          "CRC-32 mismatch (stored 0x%08x, computed 0x%08x): the archive is "
                          "corrupt",
                          e->crc, crc);
            break;
        }
        st = npy_read_npy_buffer(bytes, (size_t)e->size, mwhat, &out->arrays[i]);
    }
    o2p_strmap_free(&seen);
    free(entries);
    if (st != O2P_OK)
        npy_npz_free(out);
    return st;
}

o2p_status npy_read_npz_file(const char *path, npy_npz *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_read_npz_file: no path or output");
    void *bytes;
    size_t size;
    O2P_TRY(o2p_read_file(path, NPY_MAX_FILE_BYTES, &bytes, &size));
    o2p_status st = npy_read_npz_buffer(bytes, size, path, out);
    free(bytes);
    return st;
}

const npy_array *npy_npz_find(const npy_npz *npz, const char *name)
{
    if (!npz || !name)
        return NULL;
    for (size_t i = 0; i < npz->count; i++)
        if (npz->names[i] && strcmp(npz->names[i], name) == 0)
            return &npz->arrays[i];
    return NULL;
}

void npy_npz_free(npy_npz *npz)
{
    if (!npz)
        return;
    for (size_t i = 0; i < npz->count; i++) {
        free((void *)npz->names[i]);
        npy_array_free(&npz->arrays[i]);
    }
    free(npz->names);
    free(npz->arrays);
    memset(npz, 0, sizeof *npz);
}

/* ---------------------------------------------------------------- .npz writing */

static int npy_valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

typedef struct npz_written {
    uint64_t offset;
    uint64_t size;
    uint32_t crc;
} npz_written;

static o2p_status npz_check_inputs(const char *const *names, const npy_array *arrays, size_t count,
                                   const char *what)
{
    if (count && (!names || !arrays))
        return npy_fail(O2P_ERR_INVALID_ARGUMENT, what, "no names or arrays");
    if (count > NPY_MAX_NPZ_MEMBERS)
        return npy_fail(O2P_ERR_LIMIT, what, "%zu arrays, more than the limit of %d", count,
                        NPY_MAX_NPZ_MEMBERS);
    o2p_strmap seen = {0};
    o2p_status st = O2P_OK;
    for (size_t i = 0; i < count && st == O2P_OK; i++) {
        const char *name = names[i];
        size_t n = name ? strlen(name) : 0;
        char mwhat[512];
        npz_member_what(mwhat, sizeof mwhat, what, (const unsigned char *)(name ? name : ""), n);
        if (n == 0)
            st = npy_fail(O2P_ERR_INVALID_ARGUMENT, what, "array %zu has no name", i);
        else if (n > ZIP_MAX16 - 4)
            st = npy_fail(O2P_ERR_INVALID_ARGUMENT, mwhat, "the name is longer than %u bytes",
                          ZIP_MAX16 - 4);
        else if (!npy_valid_utf8((const unsigned char *)name, n))
            st = npy_fail(O2P_ERR_INVALID_ARGUMENT, mwhat, "the name is not valid UTF-8");
        else if (o2p_strmap_get(&seen, name))
            st = npy_fail(O2P_ERR_INVALID_ARGUMENT, mwhat, "two arrays have this name");
        else if ((st = o2p_strmap_put(&seen, name, (void *)name)) == O2P_OK)
            st = npy_check_array(&arrays[i], mwhat);
    }
    o2p_strmap_free(&seen);
    return st;
}

static int npz_name_is_ascii(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p >= 0x80)
            return 0;
    return 1;
}

static o2p_status npz_write_member(npy_sink *s, const char *name, const npy_array *a, int force64,
                                   npz_written *w)
{
    unsigned char header[NPY_HEADER_CAP];
    size_t header_len = npy_build_header(a, header);
    size_t name_len = strlen(name);
    uint64_t size = (uint64_t)header_len + a->nbytes;
    int zip64 = force64 || size >= ZIP_MAX32;
    w->offset = s->pos;
    w->size = size;
    w->crc = npy_data_crc(npy_crc32_ieee(0, header, header_len), a);

    unsigned char local[ZIP_LOCAL_SIZE + 20];
    npy_wr32(local, ZIP_LOCAL_SIG);
    npy_wr16(local + 4, zip64 ? 45 : 20);
    npy_wr16(local + 6, npz_name_is_ascii(name) ? 0 : ZIP_FLAG_UTF8);
    npy_wr16(local + 8, ZIP_METHOD_STORED);
    npy_wr16(local + 10, ZIP_DOS_TIME);
    npy_wr16(local + 12, ZIP_DOS_DATE);
    npy_wr32(local + 14, w->crc);
    npy_wr32(local + 18, zip64 ? ZIP_MAX32 : size);
    npy_wr32(local + 22, zip64 ? ZIP_MAX32 : size);
    npy_wr16(local + 26, name_len + 4);
    npy_wr16(local + 28, zip64 ? 20 : 0);
    O2P_TRY(sink_write(s, local, ZIP_LOCAL_SIZE));
    O2P_TRY(sink_write(s, name, name_len));
    O2P_TRY(sink_write(s, ".npy", 4));
    if (zip64) {
        unsigned char *x = local + ZIP_LOCAL_SIZE;
        npy_wr16(x, ZIP_EXTRA_ZIP64);
        npy_wr16(x + 2, 16);
        npy_wr64(x + 4, size);
        npy_wr64(x + 12, size);
        O2P_TRY(sink_write(s, x, 20));
    }
    O2P_TRY(sink_write(s, header, header_len));
    return sink_data(s, a);
}

static o2p_status npz_write_central(npy_sink *s, const char *name, const npz_written *w,
                                    int force64)
{
    int size64 = force64 || w->size >= ZIP_MAX32;
    int offset64 = force64 || w->offset >= ZIP_MAX32;
    size_t name_len = strlen(name);
    unsigned char c[ZIP_CENTRAL_SIZE], x[28];
    size_t x_len = 0;
    if (size64 || offset64) {
        x_len = 4;
        if (size64) {
            npy_wr64(x + x_len, w->size);
            npy_wr64(x + x_len + 8, w->size);
            x_len += 16;
        }
        if (offset64) {
            npy_wr64(x + x_len, w->offset);
            x_len += 8;
        }
        npy_wr16(x, ZIP_EXTRA_ZIP64);
        npy_wr16(x + 2, x_len - 4);
    }
    npy_wr32(c, ZIP_CENTRAL_SIG);
    npy_wr16(c + 4, (3 << 8) | (x_len ? 45 : 20)); /* made by: Unix, zip spec 2.0 / 4.5 */
    npy_wr16(c + 6, x_len ? 45 : 20);
    npy_wr16(c + 8, npz_name_is_ascii(name) ? 0 : ZIP_FLAG_UTF8);
    npy_wr16(c + 10, ZIP_METHOD_STORED);
    npy_wr16(c + 12, ZIP_DOS_TIME);
    npy_wr16(c + 14, ZIP_DOS_DATE);
    npy_wr32(c + 16, w->crc);
    npy_wr32(c + 20, size64 ? ZIP_MAX32 : w->size);
    npy_wr32(c + 24, size64 ? ZIP_MAX32 : w->size);
    npy_wr16(c + 28, name_len + 4);
    npy_wr16(c + 30, x_len);
    npy_wr16(c + 32, 0);                       /* comment */
    npy_wr16(c + 34, 0);                       /* disk */
    npy_wr16(c + 36, 0);                       /* internal attributes */
    npy_wr32(c + 38, (uint64_t)0100644 << 16); /* a regular file, rw-r--r-- */
    npy_wr32(c + 42, offset64 ? ZIP_MAX32 : w->offset);
    O2P_TRY(sink_write(s, c, sizeof c));
    O2P_TRY(sink_write(s, name, name_len));
    O2P_TRY(sink_write(s, ".npy", 4));
    return sink_write(s, x, x_len);
}

static o2p_status npz_write_end(npy_sink *s, size_t count, uint64_t cd_offset, int force64)
{
    uint64_t cd_size = s->pos - cd_offset;
    int zip64 = force64 || count >= ZIP_MAX16 || cd_size >= ZIP_MAX32 || cd_offset >= ZIP_MAX32;
    if (zip64) {
        uint64_t z_off = s->pos;
        unsigned char z[ZIP64_END_SIZE + ZIP64_LOCATOR_SIZE];
        npy_wr32(z, ZIP64_END_SIG);
        npy_wr64(z + 4, ZIP64_END_SIZE - 12);
        npy_wr16(z + 12, (3 << 8) | 45);
        npy_wr16(z + 14, 45);
        npy_wr32(z + 16, 0);
        npy_wr32(z + 20, 0);
        npy_wr64(z + 24, count);
        npy_wr64(z + 32, count);
        npy_wr64(z + 40, cd_size);
        npy_wr64(z + 48, cd_offset);
        unsigned char *loc = z + ZIP64_END_SIZE;
        npy_wr32(loc, ZIP64_LOCATOR_SIG);
        npy_wr32(loc + 4, 0);
        npy_wr64(loc + 8, z_off);
        npy_wr32(loc + 16, 1);
        O2P_TRY(sink_write(s, z, sizeof z));
    }
    unsigned char e[ZIP_END_SIZE];
    uint64_t n16 = zip64 && (force64 || count >= ZIP_MAX16) ? ZIP_MAX16 : count;
    npy_wr32(e, ZIP_END_SIG);
    npy_wr16(e + 4, 0);
    npy_wr16(e + 6, 0);
    npy_wr16(e + 8, n16);
    npy_wr16(e + 10, n16);
    npy_wr32(e + 12, force64 || cd_size >= ZIP_MAX32 ? ZIP_MAX32 : cd_size);
    npy_wr32(e + 16, force64 || cd_offset >= ZIP_MAX32 ? ZIP_MAX32 : cd_offset);
    npy_wr16(e + 20, 0);
    return sink_write(s, e, sizeof e);
}

static o2p_status npz_write_sink(npy_sink *s, const char *const *names, const npy_array *arrays,
                                 size_t count, int force64)
{
    npz_written *w = calloc(count ? count : 1, sizeof *w);
    if (!w)
        return npy_fail(O2P_ERR_OUT_OF_MEMORY, s->what, "out of memory");
    o2p_status st = O2P_OK;
    for (size_t i = 0; i < count && st == O2P_OK; i++)
        st = npz_write_member(s, names[i], &arrays[i], force64, &w[i]);
    uint64_t cd_offset = s->pos;
    for (size_t i = 0; i < count && st == O2P_OK; i++)
        st = npz_write_central(s, names[i], &w[i], force64);
    if (st == O2P_OK)
        st = npz_write_end(s, count, cd_offset, force64);
    free(w);
    return st;
}

o2p_status npy_write_npz_buffer(const char *const *names, const npy_array *arrays, size_t count,
                                unsigned flags, void **out, size_t *size)
{
    if (!out || !size)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_write_npz_buffer: no output");
    *out = NULL;
    *size = 0;
    O2P_TRY(npz_check_inputs(names, arrays, count, "npz buffer"));
    npy_sink s = {.what = "npz buffer"};
    o2p_status st = npz_write_sink(&s, names, arrays, count, (flags & NPY_NPZ_FORCE_ZIP64) != 0);
    if (st != O2P_OK) {
        free(s.buf);
        return st;
    }
    *out = s.buf;
    *size = s.len;
    return O2P_OK;
}

o2p_status npy_write_npz_file(const char *path, const char *const *names, const npy_array *arrays,
                              size_t count, unsigned flags)
{
    if (!path)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "npy_write_npz_file: no path");
    O2P_TRY(npz_check_inputs(names, arrays, count, path));
    npy_sink s;
    O2P_TRY(sink_open_file(&s, path));
    return sink_close_file(
        &s, npz_write_sink(&s, names, arrays, count, (flags & NPY_NPZ_FORCE_ZIP64) != 0));
}
