/* plugin_util.h: helpers shared by the bundled plugins (libo2p_plugins.so): error messages,
 * field look-up, a small little-endian byte format for serialized fields, element loads and
 * stores for float16 / float32 / float64. Built against the public headers only; everything
 * here is static, nothing is exported. */
#ifndef O2P_PLUGINS_UTIL_H
#define O2P_PLUGINS_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "o2p/plugin.h"

#define O2PP_HIDDEN __attribute__((visibility("hidden")))

/* ---------------------------------------------------------------- errors */

__attribute__((format(printf, 3, 4))) static inline o2p_status
o2pp_fail(o2p_plugin_error *err, o2p_status status, const char *fmt, ...)
{
    if (err && err->message && err->size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, err->size, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* ---------------------------------------------------------------- fields */

static inline const char *o2pp_attr_kind(o2p_attr_type t)
{
    switch (t) {
    case O2P_ATTR_FLOAT: return "float";
    case O2P_ATTR_INT: return "int";
    case O2P_ATTR_STRING: return "string";
    case O2P_ATTR_FLOATS: return "floats";
    case O2P_ATTR_INTS: return "ints";
    default: return "other";
    }
}

/* Checks that every field is one of `known` (with the kind in `kinds`) and appears once. */
static inline o2p_status o2pp_check_fields(const char *op, const o2p_plugin_field *fields,
                                           int num_fields, const char *const *known,
                                           const o2p_attr_type *kinds, int num_known,
                                           o2p_plugin_error *err)
{
    if (num_fields < 0 || (num_fields > 0 && !fields))
        return o2pp_fail(err, O2P_ERR_INVALID_ARGUMENT, "%s: invalid field list", op);
    for (int i = 0; i < num_fields; i++) {
        const char *name = fields[i].name;
        if (!name)
            return o2pp_fail(err, O2P_ERR_INVALID_ARGUMENT, "%s: field %d has no name", op, i);
        int k = 0;
        while (k < num_known && strcmp(known[k], name) != 0)
            k++;
        if (k == num_known)
            return o2pp_fail(err, O2P_ERR_UNSUPPORTED, "%s: unknown attribute '%s'", op, name);
        if (fields[i].type != kinds[k])
            return o2pp_fail(err, O2P_ERR_PARSE, "%s: attribute '%s' must be a %s, not a %s", op,
                             name, o2pp_attr_kind(kinds[k]), o2pp_attr_kind(fields[i].type));
        if (kinds[k] == O2P_ATTR_STRING && !fields[i].s)
            return o2pp_fail(err, O2P_ERR_PARSE, "%s: attribute '%s' has no string", op, name);
        for (int j = 0; j < i; j++)
            if (fields[j].name && strcmp(fields[j].name, name) == 0)
                return o2pp_fail(err, O2P_ERR_PARSE, "%s: attribute '%s' given twice", op, name);
    }
    return O2P_OK;
}

static inline const o2p_plugin_field *o2pp_find_field(const o2p_plugin_field *fields,
                                                      int num_fields, const char *name)
{
    if (!fields)
        return NULL;
    for (int i = 0; i < num_fields; i++)
        if (fields[i].name && strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

/* ---------------------------------------------------------------- byte format
 *
 * Serialized fields: a 4-byte tag naming the plugin, a u32 format version, then the plugin's
 * values, all little-endian. A reader checks the tag, the version and the exact size. */

typedef struct o2pp_writer {
    uint8_t *buf;
    size_t capacity, len;
} o2pp_writer;

static inline void o2pp_put_bytes(o2pp_writer *w, const void *p, size_t n)
{
    if (w->buf && w->len + n <= w->capacity)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
}
static inline void o2pp_put_u32(o2pp_writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    o2pp_put_bytes(w, b, 4);
}
static inline void o2pp_put_u64(o2pp_writer *w, uint64_t v)
{
    o2pp_put_u32(w, (uint32_t)v);
    o2pp_put_u32(w, (uint32_t)(v >> 32));
}
static inline void o2pp_put_f32(o2pp_writer *w, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    o2pp_put_u32(w, v);
}
/* What serialize returns: the bytes needed; the buffer was written only if they fit. */
static inline size_t o2pp_writer_done(const o2pp_writer *w) { return w->len; }

typedef struct o2pp_reader {
    const uint8_t *p;
    size_t size, pos;
    int bad;
} o2pp_reader;

static inline uint32_t o2pp_get_u32(o2pp_reader *r)
{
    if (r->bad || r->size - r->pos < 4) {
        r->bad = 1;
        return 0;
    }
    const uint8_t *b = r->p + r->pos;
    r->pos += 4;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint64_t o2pp_get_u64(o2pp_reader *r)
{
    uint64_t lo = o2pp_get_u32(r);
    uint64_t hi = o2pp_get_u32(r);
    return lo | hi << 32;
}
static inline float o2pp_get_f32(o2pp_reader *r)
{
    uint32_t v = o2pp_get_u32(r);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

/* Opens serialized bytes: checks the tag and the version. */
static inline o2p_status o2pp_reader_open(o2pp_reader *r, const char *op, const void *bytes,
                                          size_t size, const char tag[4], uint32_t version,
                                          o2p_plugin_error *err)
{
    r->p = bytes;
    r->size = size;
    r->pos = 0;
    r->bad = 0;
    if (!bytes || size < 8)
        return o2pp_fail(err, O2P_ERR_PARSE, "%s: serialized fields too short (%zu bytes)", op,
                         size);
    if (memcmp(bytes, tag, 4) != 0)
        return o2pp_fail(err, O2P_ERR_PARSE, "%s: serialized fields are not %s fields", op, op);
    r->pos = 4;
    uint32_t v = o2pp_get_u32(r);
    if (v != version)
        return o2pp_fail(err, O2P_ERR_UNSUPPORTED,
                         "%s: serialized fields have format version %u, this plugin reads %u", op,
                         v, version);
    return O2P_OK;
}

static inline o2p_status o2pp_reader_close(const o2pp_reader *r, const char *op,
                                           o2p_plugin_error *err)
{
    if (r->bad)
        return o2pp_fail(err, O2P_ERR_PARSE, "%s: serialized fields truncated (%zu bytes)", op,
                         r->size);
    if (r->pos != r->size)
        return o2pp_fail(err, O2P_ERR_PARSE,
                         "%s: serialized fields have %zu trailing bytes", op, r->size - r->pos);
    return O2P_OK;
}

/* ---------------------------------------------------------------- elements */

static inline int o2pp_is_float_type(o2p_dtype t)
{
    return t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_FLOAT16 || t == O2P_DTYPE_DOUBLE;
}

static inline const char *o2pp_dtype_name(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT: return "float32";
    case O2P_DTYPE_FLOAT16: return "float16";
    case O2P_DTYPE_DOUBLE: return "float64";
    case O2P_DTYPE_INT64: return "int64";
    case O2P_DTYPE_INT32: return "int32";
    case O2P_DTYPE_UNDEFINED: return "undefined";
    default: return "another type";
    }
}

static inline float o2pp_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
    if (exp == 0) {
        float f = ldexpf((float)man, -24);
        return sign ? -f : f;
    }
    if (exp == 31)
        bits = sign | 0x7f800000u | (man << 13);
    else
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t o2pp_float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t a = x & 0x7fffffffu;
    if (a >= 0x7f800000u) /* inf, nan */
        return (uint16_t)(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u));
    if (a >= 0x477ff000u) /* rounds to >= 65520: inf */
        return (uint16_t)(sign | 0x7c00u);
    if (a < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
        float v;
        memcpy(&v, &a, 4);
        return (uint16_t)(sign | (uint16_t)lrintf(v * 16777216.0f));
    }
    uint32_t r = a + 0xc8000fffu + ((a >> 13) & 1u); /* rebias the exponent, round to even */
    return (uint16_t)(sign | (r >> 13));
}

static inline double o2pp_load(const void *data, o2p_dtype t, size_t i)
{
    switch (t) {
    case O2P_DTYPE_FLOAT: return ((const float *)data)[i];
    case O2P_DTYPE_DOUBLE: return ((const double *)data)[i];
    case O2P_DTYPE_FLOAT16: return o2pp_half_to_float(((const uint16_t *)data)[i]);
    default: return 0.0;
    }
}

static inline void o2pp_store(void *data, o2p_dtype t, size_t i, double v)
{
    switch (t) {
    case O2P_DTYPE_FLOAT: ((float *)data)[i] = (float)v; break;
    case O2P_DTYPE_DOUBLE: ((double *)data)[i] = v; break;
    case O2P_DTYPE_FLOAT16: ((uint16_t *)data)[i] = o2pp_float_to_half((float)v); break;
    default: break;
    }
}

/* Element count of a run-time tensor with checks: rank in range, dims >= 0, no overflow.
 * Returns 0 and sets *count on success. */
static inline int o2pp_count(const o2p_plugin_tensor *t, size_t *count)
{
    if (t->rank < 0 || t->rank > O2P_MAX_RANK)
        return -1;
    size_t n = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0)
            return -1;
        uint64_t d = (uint64_t)t->dims[i];
        if (d != 0 && n > (SIZE_MAX / 16) / d)
            return -1;
        n *= (size_t)d;
    }
    *count = n;
    return 0;
}

/* Formats a desc's shape ("2x?x5", "rank?") for messages. */
static inline const char *o2pp_shape_str(const int64_t *dims, int rank, char *buf, size_t size)
{
    if (rank < 0 || rank > O2P_MAX_RANK) {
        snprintf(buf, size, "rank?");
        return buf;
    }
    size_t len = 0;
    buf[0] = '\0';
    if (rank == 0)
        snprintf(buf, size, "scalar");
    for (int i = 0; i < rank && len < size; i++) {
        int n = dims[i] < 0 ? snprintf(buf + len, size - len, "%s?", i ? "x" : "")
                            : snprintf(buf + len, size - len, "%s%lld", i ? "x" : "",
                                       (long long)dims[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return buf;
}

/* Merges two dims of the same axis (-1 unknown). Returns -2 on a contradiction. */
static inline int64_t o2pp_merge_dim(int64_t a, int64_t b)
{
    if (a < 0)
        return b < 0 ? -1 : b;
    if (b < 0 || a == b)
        return a;
    return -2;
}

#endif
