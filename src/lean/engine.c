/* engine.c: the lean runtime's engine: reads an ENGINE section (plan/engine_format.h,
 * version 6), checks every rule of the format before anything can run, and answers the
 * queries about I/O tensors, tensors and layers. Nothing in the section is trusted: a cursor
 * bounds every read, and every count is checked against the bytes left (and its limit)
 * before anything is allocated for it, so memory stays proportional to the section. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lean/lean.h"
#include "lean/lean_abi.h"
#include "plan/engine_format.h"

#define HEADER_BYTES 48u
/* The fewest bytes each kind of record takes, to check counts against the bytes left. */
#define MIN_TENSOR_BYTES 44u /* name length, dtype, rank, dd_mask, shape_tensor, io, storage,
                                offset, nbytes */
#define MIN_LAYER_BYTES 52u /* 4 string lengths, opset, 2 counts, smem, arch, attr count, plugin,
                               launch count */
#define MIN_LAUNCH_BYTES 48u /* kind, 2 string lengths, grid, block, smem, param size, patches */
#define MIN_PATCH_BYTES 16u
#define MIN_IMAGE_BYTES 20u /* family length, kind, arch, arch_specific, size */
#define MIN_ATTR_BYTES 12u   /* name length, type, the smallest value */

typedef struct parser {
    const uint8_t *bytes;
    size_t pos;
    size_t end; /* where the tables must end: the whole section, then weights_offset */
    const char *what;
    char where[400]; /* the record being read, for messages */
    lean_engine *e;
    lean_range *scratch; /* per-layer overlap check */
    size_t scratch_cap;
} parser;

/* ---------------------------------------------------------------- messages */

/* s for a message: at most 60 bytes, anything unprintable as '?'. */
static const char *shown(const char *s, char *buf, size_t size)
{
    size_t n = 0, limit = size - 4;
    for (; s[n] && n < limit && n < 60; n++)
        buf[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
    if (s[n]) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static void where_set(parser *ps, const char *fmt, ...) O2P_PRINTF(2, 3);
static void where_set(parser *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->where, sizeof ps->where, fmt, ap);
    va_end(ap);
}

static void where_layer(parser *ps, int index, const lean_layer *l)
{
    char n[64], op[64];
    if (!l->op_type)
        where_set(ps, "layer %d '%s'", index, shown(l->name, n, sizeof n));
    else
        where_set(ps, "layer %d '%s' (%s)", index, shown(l->name, n, sizeof n),
                  shown(l->op_type, op, sizeof op));
}

static o2p_status fail(parser *ps, o2p_status status, const char *fmt, ...) O2P_PRINTF(3, 4);
static o2p_status fail(parser *ps, o2p_status status, const char *fmt, ...)
{
    char reason[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return o2p_fail(status, "%s: ENGINE section, %s: %s", ps->what, ps->where, reason);
}

static o2p_status out_of_memory(parser *ps)
{
    return fail(ps, O2P_ERR_OUT_OF_MEMORY, "out of memory reading the section");
}

/* ---------------------------------------------------------------- the cursor */

static o2p_status need(parser *ps, size_t n, const char *field)
{
    if (n > ps->end - ps->pos)
        return fail(ps, O2P_ERR_PARSE,
                    "truncated: %s needs %zu bytes at offset %zu, but the tables end at %zu", field,
                    n, ps->pos, ps->end);
    return O2P_OK;
}

static uint64_t take_le(parser *ps, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)ps->bytes[ps->pos + (size_t)i] << (8 * i);
    ps->pos += (size_t)n;
    return v;
}

static o2p_status rd_u32(parser *ps, const char *field, uint32_t *v)
{
    O2P_TRY(need(ps, 4, field));
    *v = (uint32_t)take_le(ps, 4);
    return O2P_OK;
}

static o2p_status rd_u64(parser *ps, const char *field, uint64_t *v)
{
    O2P_TRY(need(ps, 8, field));
    *v = take_le(ps, 8);
    return O2P_OK;
}

static o2p_status rd_i32(parser *ps, const char *field, int32_t *v)
{
    uint32_t u;
    O2P_TRY(rd_u32(ps, field, &u));
    memcpy(v, &u, sizeof *v);
    return O2P_OK;
}

static o2p_status rd_i64(parser *ps, const char *field, int64_t *v)
{
    uint64_t u;
    O2P_TRY(rd_u64(ps, field, &u));
    memcpy(v, &u, sizeof *v);
    return O2P_OK;
}

static o2p_status rd_f32(parser *ps, const char *field, float *v)
{
    uint32_t u;
    O2P_TRY(rd_u32(ps, field, &u));
    memcpy(v, &u, sizeof *v);
    return O2P_OK;
}

/* A str: u32 length, bytes, no NUL inside; kept as a NUL-terminated copy. */
static o2p_status rd_str(parser *ps, const char *field, const char **out)
{
    uint32_t len;
    O2P_TRY(rd_u32(ps, field, &len));
    if (len > ps->end - ps->pos)
        return fail(ps, O2P_ERR_PARSE,
                    "truncated: %s is %u bytes long at offset %zu, but the tables end at %zu",
                    field, len, ps->pos, ps->end);
    if (len > ENGINE_MAX_STRING)
        return fail(ps, O2P_ERR_LIMIT, "%s is %u bytes long, over the limit of %u", field, len,
                    ENGINE_MAX_STRING);
    const char *s = (const char *)ps->bytes + ps->pos;
    if (memchr(s, '\0', len))
        return fail(ps, O2P_ERR_PARSE, "%s holds a NUL byte", field);
    char *copy = o2p_arena_strndup(&ps->e->mem, s, len);
    if (!copy)
        return out_of_memory(ps);
    ps->pos += len;
    *out = copy;
    return O2P_OK;
}

/* A u32 count of records of at least min_bytes each, at most max. */
static o2p_status rd_count(parser *ps, const char *field, uint32_t min_bytes, uint32_t max,
                           int *out)
{
    uint32_t n;
    O2P_TRY(rd_u32(ps, field, &n));
    size_t left = ps->end - ps->pos;
    if (n > left / min_bytes)
        return fail(ps, O2P_ERR_PARSE,
                    "%s is %u, but the %zu bytes left in the tables hold at most %zu (each takes "
                    "at least %u bytes)",
                    field, n, left, left / min_bytes, min_bytes);
    if (n > max)
        return fail(ps, O2P_ERR_LIMIT, "%s is %u, over the limit of %u", field, n, max);
    *out = (int)n;
    return O2P_OK;
}

/* ---------------------------------------------------------------- element types */

size_t lean_dtype_size(o2p_dtype dtype)
{
    switch (dtype) {
    case O2P_DTYPE_UINT8:
    case O2P_DTYPE_INT8:
    case O2P_DTYPE_BOOL: return 1;
    case O2P_DTYPE_UINT16:
    case O2P_DTYPE_INT16:
    case O2P_DTYPE_FLOAT16:
    case O2P_DTYPE_BFLOAT16: return 2;
    case O2P_DTYPE_FLOAT:
    case O2P_DTYPE_INT32:
    case O2P_DTYPE_UINT32: return 4;
    case O2P_DTYPE_INT64:
    case O2P_DTYPE_UINT64:
    case O2P_DTYPE_DOUBLE:
    case O2P_DTYPE_COMPLEX64: return 8;
    case O2P_DTYPE_COMPLEX128: return 16;
    default: return 0;
    }
}

size_t lean_dtype_align(o2p_dtype dtype)
{
    size_t size = lean_dtype_size(dtype);
    return size > 8 ? 8 : size;
}

/* ---------------------------------------------------------------- overlap of byte ranges */

static int range_cmp(const void *pa, const void *pb)
{
    const lean_range *a = pa, *b = pb;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

int lean_find_overlap(lean_range *ranges, int n, int *a, int *b)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (ranges[i].end > ranges[i].start)
            ranges[m++] = ranges[i];
    if (m > 1) /* qsort of none: ranges may be NULL, which qsort may not get */
        qsort(ranges, (size_t)m, sizeof *ranges, range_cmp);
    /* Sorted by start, a range overlaps an earlier one exactly when the furthest end seen
     * so far lies past its start; keep that end over all ranges and over writable ones. */
    uint64_t end_any = 0, end_writable = 0;
    int id_any = -1, id_writable = -1;
    for (int i = 0; i < m; i++) {
        const lean_range *r = &ranges[i];
        if (r->writable && id_any >= 0 && end_any > r->start) {
            *a = id_any, *b = r->id;
            return 1;
        }
        if (!r->writable && id_writable >= 0 && end_writable > r->start) {
            *a = id_writable, *b = r->id;
            return 1;
        }
        if (id_any < 0 || r->end > end_any)
            end_any = r->end, id_any = r->id;
        if (r->writable && (id_writable < 0 || r->end > end_writable))
            end_writable = r->end, id_writable = r->id;
    }
    return 0;
}

/* ---------------------------------------------------------------- tensors */

static o2p_status read_tensor(parser *ps, int index, lean_tensor *t)
{
    const lean_engine *e = ps->e;
    char n[64];
    where_set(ps, "tensor %d", index);
    O2P_TRY(rd_str(ps, "the tensor name", &t->name));
    where_set(ps, "tensor %d '%s'", index, shown(t->name, n, sizeof n));

    uint32_t dtype, rank;
    O2P_TRY(rd_u32(ps, "dtype", &dtype));
    size_t esize = lean_dtype_size((o2p_dtype)dtype);
    if (!esize)
        return fail(ps, O2P_ERR_PARSE,
                    "dtype %u is not an element type with a size (an o2p_dtype other than "
                    "UNDEFINED and STRING)",
                    dtype);
    O2P_TRY(rd_u32(ps, "rank", &rank));
    if (rank > O2P_MAX_RANK)
        return fail(ps, O2P_ERR_PARSE, "rank %u is over the highest rank, %d", rank, O2P_MAX_RANK);
    uint64_t numel = 1;
    int overflow = 0, empty = 0;
    for (uint32_t i = 0; i < rank; i++) {
        int64_t d;
        O2P_TRY(rd_i64(ps, "a dim", &d));
        if (d < 0)
            return fail(ps, O2P_ERR_PARSE,
                        "dim %u is %lld; dims are >= 0 (a data-dependent one holds its bound)",
                        i, (long long)d);
        t->view.dims[i] = d;
        empty |= d == 0;
        overflow |= __builtin_mul_overflow(numel, (uint64_t)d, &numel);
    }
    t->view.dtype = (o2p_dtype)dtype;
    t->view.rank = (int)rank;
    if (empty)
        numel = 0, overflow = 0;

    int32_t shape_tensor;
    O2P_TRY(rd_u32(ps, "dd_mask", &t->dd_mask));
    O2P_TRY(rd_i32(ps, "shape_tensor", &shape_tensor));
    t->shape_tensor = shape_tensor;
    t->shape_of = -1;
    uint32_t io, storage;
    O2P_TRY(rd_u32(ps, "io", &io));
    O2P_TRY(rd_u32(ps, "storage", &storage));
    O2P_TRY(rd_u64(ps, "offset", &t->offset));
    O2P_TRY(rd_u64(ps, "nbytes", &t->nbytes));
    t->io = io;
    t->storage = storage;

    uint64_t want = 0;
    if (overflow || __builtin_mul_overflow(numel, (uint64_t)esize, &want) ||
        want > (uint64_t)INT64_MAX)
        return fail(ps, O2P_ERR_PARSE, "its dims and %zu-byte elements make over 2^63-1 bytes",
                    esize);
    if (t->nbytes != want)
        return fail(ps, O2P_ERR_PARSE,
                    "nbytes is %llu, but its dims and %zu-byte elements make %llu",
                    (unsigned long long)t->nbytes, esize, (unsigned long long)want);
    if (io & ~(ENGINE_IO_INPUT | ENGINE_IO_OUTPUT))
        return fail(ps, O2P_ERR_PARSE,
                    "io is %u; only bit 0 (engine input) and bit 1 (engine output) exist", io);
    if (io == (ENGINE_IO_INPUT | ENGINE_IO_OUTPUT))
        return fail(ps, O2P_ERR_PARSE,
                    "it is both an engine input and an engine output; an ENGINE keeps them "
                    "apart (the builder copies one into the other)");

    switch (storage) {
    case ENGINE_STORAGE_ARENA:
        if (io)
            return fail(ps, O2P_ERR_PARSE,
                        "an engine %s lives in memory the caller binds (storage IO), not in "
                        "the arena",
                        io == ENGINE_IO_INPUT ? "input" : "output");
        if (t->offset % lean_dtype_align((o2p_dtype)dtype))
            return fail(ps, O2P_ERR_PARSE,
                        "arena offset %llu is not a multiple of its element alignment, %zu",
                        (unsigned long long)t->offset, lean_dtype_align((o2p_dtype)dtype));
        if (t->offset > e->arena_size || t->nbytes > e->arena_size - t->offset)
            return fail(ps, O2P_ERR_PARSE,
                        "its %llu bytes at arena offset %llu lie outside the arena of %llu bytes",
                        (unsigned long long)t->nbytes, (unsigned long long)t->offset,
                        (unsigned long long)e->arena_size);
        break;
    case ENGINE_STORAGE_WEIGHTS:
        if (io & ENGINE_IO_INPUT)
            return fail(ps, O2P_ERR_PARSE,
                        "an engine input lives in memory the caller binds (storage IO), not in "
                        "the weights");
        if (t->offset % ENGINE_WEIGHTS_ALIGN)
            return fail(ps, O2P_ERR_PARSE, "weights offset %llu is not a multiple of %u",
                        (unsigned long long)t->offset, ENGINE_WEIGHTS_ALIGN);
        if (t->offset > e->weights_size || t->nbytes > e->weights_size - t->offset)
            return fail(ps, O2P_ERR_PARSE,
                        "its %llu bytes at weights offset %llu lie outside the weights blob of "
                        "%llu bytes",
                        (unsigned long long)t->nbytes, (unsigned long long)t->offset,
                        (unsigned long long)e->weights_size);
        break;
    case ENGINE_STORAGE_IO:
        if (!io)
            return fail(ps, O2P_ERR_PARSE,
                        "storage IO, but neither the engine input nor the output io bit is set");
        if (t->offset)
            return fail(ps, O2P_ERR_PARSE, "offset is %llu; it is 0 for storage IO",
                        (unsigned long long)t->offset);
        break;
    default:
        return fail(ps, O2P_ERR_PARSE, "storage %u is unknown (0 ARENA, 1 WEIGHTS, 2 IO)", storage);
    }
    if (rank < 32 && t->dd_mask >> rank)
        return fail(ps, O2P_ERR_PARSE,
                    "dd_mask is 0x%x; it marks only axes below the rank, %u", t->dd_mask, rank);
    if (!t->dd_mask && shape_tensor != -1)
        return fail(ps, O2P_ERR_PARSE,
                    "shape_tensor is %d for a static shape (dd_mask 0); it is -1", (int)shape_tensor);
    if (t->dd_mask && (storage == ENGINE_STORAGE_WEIGHTS || (io & ENGINE_IO_INPUT)))
        return fail(ps, O2P_ERR_PARSE,
                    "it has data-dependent dims (dd_mask 0x%x) but is %s; such a tensor is "
                    "written by a layer (an engine output or an arena tensor)",
                    t->dd_mask, storage == ENGINE_STORAGE_WEIGHTS ? "weights" : "an engine input");
    if (t->dd_mask && e->target == ENGINE_TARGET_HOST && shape_tensor != -1)
        return fail(ps, O2P_ERR_PARSE,
                    "shape_tensor is %d on the host target, where the kernel reports the dims "
                    "(-1)",
                    (int)shape_tensor);
    if (t->dd_mask && e->target == ENGINE_TARGET_CUDA &&
        (shape_tensor < 0 || shape_tensor >= e->num_tensors || shape_tensor == index))
        return fail(ps, O2P_ERR_PARSE,
                    "shape_tensor is %d; a data-dependent tensor of the cuda target names another "
                    "tensor of the table of %d for its dims",
                    (int)shape_tensor, e->num_tensors);
    t->writer = -1;
    t->io_index = -1;
    return O2P_OK;
}

/* Version 6: each data-dependent tensor's shape tensor (cuda) is an int64 [rank] arena
 * tensor of its own, not data-dependent and no engine I/O. */
static o2p_status check_shape_tensors(parser *ps)
{
    lean_engine *e = ps->e;
    char n[64], n2[64];
    for (int i = 0; i < e->num_tensors; i++) {
        lean_tensor *t = &e->tensors[i];
        if (!t->dd_mask || t->shape_tensor < 0)
            continue;
        lean_tensor *st = &e->tensors[t->shape_tensor];
        where_set(ps, "tensor %d '%s'", i, shown(t->name, n, sizeof n));
        if (st->view.dtype != O2P_DTYPE_INT64 || st->view.rank != 1 ||
            st->view.dims[0] != t->view.rank || st->storage != ENGINE_STORAGE_ARENA || st->io ||
            st->dd_mask)
            return fail(ps, O2P_ERR_PARSE,
                        "its shape tensor %d '%s' is not an int64 [%d] arena tensor with a static "
                        "shape and no io bit",
                        t->shape_tensor, shown(st->name, n2, sizeof n2), t->view.rank);
        if (st->shape_of >= 0)
            return fail(ps, O2P_ERR_PARSE,
                        "its shape tensor %d '%s' holds the dims of tensor %d already; each "
                        "data-dependent tensor has its own",
                        t->shape_tensor, shown(st->name, n2, sizeof n2), st->shape_of);
        st->shape_of = i;
    }
    return O2P_OK;
}

/* After the layers: every data-dependent tensor is written by a native layer (whose kernel
 * reports the dims) and is no body's output (a body's outputs have static shapes). */
static o2p_status check_data_dependent(parser *ps)
{
    lean_engine *e = ps->e;
    char n[64];
    for (int i = 0; i < e->num_tensors; i++) {
        const lean_tensor *t = &e->tensors[i];
        if (!t->dd_mask)
            continue;
        where_set(ps, "tensor %d '%s'", i, shown(t->name, n, sizeof n));
        if (t->writer < 0)
            return fail(ps, O2P_ERR_PARSE,
                        "it has data-dependent dims and no layer writes it");
        const lean_layer *w = &e->layers[t->writer];
        if (w->is_plugin || w->num_bodies)
            return fail(ps, O2P_ERR_PARSE,
                        "it has data-dependent dims and layer %d, a %s layer, writes it; only "
                        "a native op's kernel reports dims",
                        t->writer, w->is_plugin ? "plugin" : "control-flow");
    }
    for (int li = 0; li < e->num_layers; li++) {
        const lean_layer *l = &e->layers[li];
        for (int b = 0; b < l->num_bodies; b++)
            for (int k = 0; k < l->bodies[b].num_outputs; k++) {
                int32_t ti = l->bodies[b].outputs[k];
                if (ti >= 0 && ti < e->num_tensors && e->tensors[ti].dd_mask) {
                    where_layer(ps, li, l);
                    return fail(ps, O2P_ERR_PARSE,
                                "body %d returns tensor %d '%s', which has data-dependent dims; "
                                "a body's outputs have static shapes",
                                b, (int)ti, shown(e->tensors[ti].name, n, sizeof n));
                }
            }
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- layers */

static o2p_status read_index_list(parser *ps, const char *what, int *count, const int32_t **out)
{
    char field[64];
    snprintf(field, sizeof field, "the number of %s", what);
    O2P_TRY(rd_count(ps, field, 4, ENGINE_MAX_LIST, count));
    int32_t *list = o2p_arena_array(&ps->e->mem, (size_t)*count, sizeof *list);
    if (!list)
        return out_of_memory(ps);
    for (int i = 0; i < *count; i++) {
        O2P_TRY(rd_i32(ps, what, &list[i]));
        if (list[i] < -1 || list[i] >= ps->e->num_tensors)
            return fail(ps, O2P_ERR_PARSE,
                        "%.*s %d is tensor index %d, outside the table of %d tensors (-1: "
                        "omitted)",
                        (int)strlen(what) - 1, what, i, (int)list[i], ps->e->num_tensors);
    }
    *out = list;
    return O2P_OK;
}

static o2p_status read_attr(parser *ps, int layer, const lean_layer *l, int index, host_attr *a)
{
    lean_engine *e = ps->e;
    char n[64], op[64], an[64];
    const char *ln = shown(l->name, n, sizeof n), *lop = shown(l->op_type, op, sizeof op);
    where_set(ps, "layer %d '%s' (%s), attribute %d", layer, ln, lop, index);
    O2P_TRY(rd_str(ps, "the attribute name", &a->name));
    where_set(ps, "layer %d '%s' (%s), attribute %d '%s'", layer, ln, lop, index,
              shown(a->name, an, sizeof an));
    uint32_t type;
    O2P_TRY(rd_u32(ps, "the attribute type", &type));
    a->type = (o2p_attr_type)type;
    switch (type) {
    case O2P_ATTR_INT: return rd_i64(ps, "the INT value", &a->i);
    case O2P_ATTR_FLOAT: return rd_f32(ps, "the FLOAT value", &a->f);
    case O2P_ATTR_STRING: return rd_str(ps, "the STRING value", &a->s);
    case O2P_ATTR_INTS: {
        O2P_TRY(rd_count(ps, "the number of INTS", 8, ENGINE_MAX_LIST, &a->count));
        int64_t *v = o2p_arena_array(&e->mem, (size_t)a->count, sizeof *v);
        if (!v)
            return out_of_memory(ps);
        for (int i = 0; i < a->count; i++)
            O2P_TRY(rd_i64(ps, "an INTS value", &v[i]));
        a->ints = v;
        return O2P_OK;
    }
    case O2P_ATTR_FLOATS: {
        O2P_TRY(rd_count(ps, "the number of FLOATS", 4, ENGINE_MAX_LIST, &a->count));
        float *v = o2p_arena_array(&e->mem, (size_t)a->count, sizeof *v);
        if (!v)
            return out_of_memory(ps);
        for (int i = 0; i < a->count; i++)
            O2P_TRY(rd_f32(ps, "a FLOATS value", &v[i]));
        a->floats = v;
        return O2P_OK;
    }
    case O2P_ATTR_STRINGS: {
        O2P_TRY(rd_count(ps, "the number of STRINGS", 4, ENGINE_MAX_LIST, &a->count));
        const char **v = o2p_arena_array(&e->mem, (size_t)a->count, sizeof *v);
        if (!v)
            return out_of_memory(ps);
        for (int i = 0; i < a->count; i++)
            O2P_TRY(rd_str(ps, "a STRINGS value", &v[i]));
        a->strings = v;
        return O2P_OK;
    }
    case O2P_ATTR_TENSOR: {
        int32_t t;
        O2P_TRY(rd_i32(ps, "the TENSOR index", &t));
        if (t < 0 || t >= e->num_tensors)
            return fail(ps, O2P_ERR_PARSE, "TENSOR index %d is outside the table of %d tensors",
                        (int)t, e->num_tensors);
        if (e->tensors[t].storage != ENGINE_STORAGE_WEIGHTS)
            return fail(ps, O2P_ERR_PARSE,
                        "TENSOR index %d is tensor '%s', which is not a WEIGHTS tensor", (int)t,
                        shown(e->tensors[t].name, an, sizeof an));
        a->tensor = &e->tensors[t].view;
        return O2P_OK;
    }
    default:
        return fail(ps, O2P_ERR_PARSE,
                    "attribute type %u is not one an ENGINE holds (FLOAT 1, INT 2, STRING 3, "
                    "TENSOR 4, FLOATS 6, INTS 7, STRINGS 8)",
                    type);
    }
}

static int attr_name_cmp(const void *pa, const void *pb)
{
    const host_attr *const *a = pa, *const *b = pb;
    return strcmp((*a)->name, (*b)->name);
}

static o2p_status check_unique_attrs(parser *ps, const lean_layer *l)
{
    if (l->num_attrs < 2)
        return O2P_OK;
    const host_attr **sorted = malloc((size_t)l->num_attrs * sizeof *sorted);
    if (!sorted)
        return out_of_memory(ps);
    for (int i = 0; i < l->num_attrs; i++)
        sorted[i] = &l->attrs[i];
    qsort(sorted, (size_t)l->num_attrs, sizeof *sorted, attr_name_cmp);
    const char *dup = NULL;
    for (int i = 1; i < l->num_attrs && !dup; i++)
        if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
            dup = sorted[i]->name;
    free(sorted);
    if (dup) {
        char n[64];
        return fail(ps, O2P_ERR_PARSE, "attribute '%s' appears twice", shown(dup, n, sizeof n));
    }
    return O2P_OK;
}

/* The overlap check's ranges of a layer: its inputs, its outputs, then its outputs' shape
 * tensors (-1 where there is none). */
static int32_t range_tensor(const lean_engine *e, const lean_layer *l, int k)
{
    if (k < l->num_inputs)
        return l->inputs[k];
    k -= l->num_inputs;
    if (k < l->num_outputs)
        return l->outputs[k];
    int32_t o = l->outputs[k - l->num_outputs];
    return o >= 0 && e->tensors[o].dd_mask ? e->tensors[o].shape_tensor : -1;
}

static const char *range_role(const lean_layer *l, int k)
{
    return k < l->num_inputs                    ? "input"
           : k < l->num_inputs + l->num_outputs ? "output"
                                                : "shape tensor of output";
}

static int range_index(const lean_layer *l, int k)
{
    return k < l->num_inputs                    ? k
           : k < l->num_inputs + l->num_outputs ? k - l->num_inputs
                                                : k - l->num_inputs - l->num_outputs;
}

/* What a layer reads exists before it runs; what it writes is written once, never weights
 * or an engine input; and its arena outputs overlap neither each other nor its inputs
 * (kernels assume inputs and outputs never alias). */
static o2p_status check_dataflow(parser *ps, int index, const lean_layer *l)
{
    lean_engine *e = ps->e;
    char n[64];
    for (int i = 0; i < l->num_inputs; i++) {
        if (l->inputs[i] < 0)
            continue;
        const lean_tensor *t = &e->tensors[l->inputs[i]];
        if (t->dd_mask)
            return fail(ps, O2P_ERR_PARSE,
                        "input %d reads tensor %d '%s', which has data-dependent dims; such a "
                        "tensor is read by no layer (its shape is known after the run only)",
                        i, (int)l->inputs[i], shown(t->name, n, sizeof n));
        if (t->shape_of >= 0)
            return fail(ps, O2P_ERR_PARSE,
                        "input %d reads tensor %d '%s', the shape tensor of tensor %d, which "
                        "only the runtime reads",
                        i, (int)l->inputs[i], shown(t->name, n, sizeof n), t->shape_of);
        if (t->storage == ENGINE_STORAGE_WEIGHTS || (t->io & ENGINE_IO_INPUT) || t->writer >= 0)
            continue;
        return fail(ps, O2P_ERR_PARSE,
                    "input %d reads tensor %d '%s', which is no engine input, no weights and "
                    "not written by an earlier layer",
                    i, (int)l->inputs[i], shown(t->name, n, sizeof n));
    }
    for (int i = 0; i < l->num_outputs; i++) {
        if (l->outputs[i] < 0)
            continue;
        lean_tensor *t = &e->tensors[l->outputs[i]];
        const char *tn = shown(t->name, n, sizeof n);
        if (t->storage == ENGINE_STORAGE_WEIGHTS)
            return fail(ps, O2P_ERR_PARSE,
                        "output %d writes tensor %d '%s', which is weights (constant, shared by "
                        "every context)",
                        i, (int)l->outputs[i], tn);
        if (t->io & ENGINE_IO_INPUT)
            return fail(ps, O2P_ERR_PARSE, "output %d writes tensor %d '%s', an engine input", i,
                        (int)l->outputs[i], tn);
        if (t->shape_of >= 0)
            return fail(ps, O2P_ERR_PARSE,
                        "output %d writes tensor %d '%s', the shape tensor of tensor %d (its "
                        "writer's launches write it, as no layer's output)",
                        i, (int)l->outputs[i], tn, t->shape_of);
        if (t->writer >= 0)
            return fail(ps, O2P_ERR_PARSE,
                        "output %d writes tensor %d '%s', which layer %d writes already; a "
                        "tensor is written once",
                        i, (int)l->outputs[i], tn, t->writer);
        t->writer = index;
    }

    /* the outputs' shape tensors (cuda) are written with them: after the outputs */
    size_t total = (size_t)l->num_inputs + 2 * (size_t)l->num_outputs;
    if (total > ps->scratch_cap) {
        lean_range *r = realloc(ps->scratch, total * sizeof *r);
        if (!r)
            return out_of_memory(ps);
        ps->scratch = r;
        ps->scratch_cap = total;
    }
    int m = 0;
    for (int k = 0; k < (int)total; k++) {
        int32_t ti = range_tensor(e, l, k);
        if (ti < 0 || e->tensors[ti].storage != ENGINE_STORAGE_ARENA)
            continue;
        const lean_tensor *t = &e->tensors[ti];
        ps->scratch[m++] = (lean_range){t->offset, t->offset + t->nbytes, k >= l->num_inputs, k};
    }
    int a, b;
    if (lean_find_overlap(ps->scratch, m, &a, &b)) {
        char n2[64];
        const lean_tensor *ta = &e->tensors[range_tensor(e, l, a)];
        const lean_tensor *tb = &e->tensors[range_tensor(e, l, b)];
        return fail(ps, O2P_ERR_PARSE,
                    "its %s %d '%s' (arena [%llu, %llu)) overlaps its %s %d '%s' (arena [%llu, "
                    "%llu)); a layer's outputs alias none of its inputs and outputs",
                    range_role(l, a), range_index(l, a), shown(ta->name, n, sizeof n),
                    (unsigned long long)ta->offset, (unsigned long long)(ta->offset + ta->nbytes),
                    range_role(l, b), range_index(l, b), shown(tb->name, n2, sizeof n2),
                    (unsigned long long)tb->offset, (unsigned long long)(tb->offset + tb->nbytes));
    }
    return O2P_OK;
}

/* The plugin record after the attributes: 0 for a native layer, or 1 and the creator's
 * name, version, namespace, serialized fields and workspace. */
static o2p_status read_plugin(parser *ps, lean_layer *l)
{
    lean_engine *e = ps->e;
    uint32_t plugin, n;
    O2P_TRY(rd_u32(ps, "the plugin flag", &plugin));
    if (plugin == 0)
        return O2P_OK;
    if (plugin != 1)
        return fail(ps, O2P_ERR_PARSE, "the plugin flag is %u; it is 0 (native) or 1 (plugin)",
                    plugin);
    l->is_plugin = 1;
    O2P_TRY(rd_str(ps, "the plugin name", &l->plugin_name));
    if (!l->plugin_name[0])
        return fail(ps, O2P_ERR_PARSE, "a plugin layer needs a plugin name");
    O2P_TRY(rd_str(ps, "the plugin version", &l->plugin_version));
    O2P_TRY(rd_str(ps, "the plugin namespace", &l->plugin_namespace));
    O2P_TRY(rd_str(ps, "the plugin library", &l->plugin_library));
    O2P_TRY(rd_u32(ps, "the size of the plugin data", &n));
    if (n > ps->end - ps->pos)
        return fail(ps, O2P_ERR_PARSE,
                    "truncated: the plugin data is %u bytes long at offset %zu, but the tables "
                    "end at %zu",
                    n, ps->pos, ps->end);
    if (n > ENGINE_MAX_PLUGIN_DATA)
        return fail(ps, O2P_ERR_LIMIT, "the plugin data is %u bytes long, over the limit of %u",
                    n, ENGINE_MAX_PLUGIN_DATA);
    void *data = o2p_arena_alloc(&e->mem, n ? n : 1, 16);
    if (!data)
        return out_of_memory(ps);
    if (n)
        memcpy(data, ps->bytes + ps->pos, n);
    ps->pos += n;
    l->plugin_data = data;
    l->plugin_size = n;
    O2P_TRY(rd_u64(ps, "the plugin workspace", &l->workspace));
    if (l->workspace > ENGINE_MAX_PLUGIN_WORKSPACE)
        return fail(ps, O2P_ERR_LIMIT, "the plugin workspace is %llu bytes, over the limit of %llu",
                    (unsigned long long)l->workspace,
                    (unsigned long long)ENGINE_MAX_PLUGIN_WORKSPACE);
    /* On the cuda target a plugin's workspace is a part of the context's device workspace
     * (enqueue_cuda gets it there), which the builder sizes to hold it. */
    if (e->target == ENGINE_TARGET_CUDA && l->workspace > e->workspace_size)
        return fail(ps, O2P_ERR_PARSE,
                    "the plugin workspace is %llu bytes, more than the engine's workspace_size "
                    "of %llu, which holds it on the cuda target",
                    (unsigned long long)l->workspace, (unsigned long long)e->workspace_size);
    if (l->workspace > e->max_workspace)
        e->max_workspace = l->workspace;
    return O2P_OK;
}

/* ---------------------------------------------------------------- launches (cuda) */

static uint64_t param_u64(const lean_launch *k, uint32_t at)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)k->params[at + (uint32_t)i] << (8 * i);
    return v;
}

/* Whether tensor t is one of the layer's inputs, outputs (outputs_only: outputs only) or
 * TENSOR attribute tensors: the only tensors its launches may address. */
static int layer_uses(const lean_engine *e, const lean_layer *l, int32_t t, int outputs_only)
{
    for (int i = 0; i < l->num_outputs; i++)
        if (l->outputs[i] == t)
            return 1;
    /* an output's shape tensor: its kernel writes the actual dims there */
    int32_t of = e->tensors[t].shape_of;
    for (int i = 0; of >= 0 && i < l->num_outputs; i++)
        if (l->outputs[i] == of)
            return 1;
    if (outputs_only)
        return 0;
    for (int i = 0; i < l->num_inputs; i++)
        if (l->inputs[i] == t)
            return 1;
    for (int i = 0; i < l->num_attrs; i++)
        if (l->attrs[i].type == O2P_ATTR_TENSOR && l->attrs[i].tensor == &e->tensors[t].view)
            return 1;
    return 0;
}

/* Bytes addressable at a patch's target: the tensor's, or the workspace's. */
static uint64_t patch_extent(const lean_engine *e, const lean_patch *p)
{
    return p->tensor == ENGINE_PATCH_WORKSPACE ? e->workspace_size : e->tensors[p->tensor].nbytes;
}

static const char *patch_target(const lean_engine *e, const lean_patch *p, char *buf, size_t size)
{
    char n[64];
    if (p->tensor == ENGINE_PATCH_WORKSPACE)
        snprintf(buf, size, "the workspace (%llu bytes)", (unsigned long long)e->workspace_size);
    else
        snprintf(buf, size, "tensor %d '%s' (%llu bytes)", (int)p->tensor,
                 shown(e->tensors[p->tensor].name, n, sizeof n),
                 (unsigned long long)e->tensors[p->tensor].nbytes);
    return buf;
}

static o2p_status read_patches(parser *ps, const lean_layer *l, lean_launch *k)
{
    lean_engine *e = ps->e;
    O2P_TRY(rd_count(ps, "the number of device addresses", MIN_PATCH_BYTES, ENGINE_MAX_PATCHES,
                     &k->num_patches));
    lean_patch *patches = o2p_arena_array(&e->mem, (size_t)k->num_patches, sizeof *patches);
    if (!patches)
        return out_of_memory(ps);
    k->patches = patches;
    char tn[160];
    for (int i = 0; i < k->num_patches; i++) {
        lean_patch *p = &patches[i];
        O2P_TRY(rd_u32(ps, "param_offset", &p->param_offset));
        O2P_TRY(rd_i32(ps, "the patch's tensor", &p->tensor));
        O2P_TRY(rd_u64(ps, "the patch's byte_offset", &p->byte_offset));
        if (p->param_offset % 8 || p->param_offset > k->param_size ||
            k->param_size - p->param_offset < 8)
            return fail(ps, O2P_ERR_PARSE,
                        "device address %d is at parameter offset %u; addresses are 8 bytes at "
                        "a multiple of 8 inside the %u parameter bytes",
                        i, p->param_offset, k->param_size);
        for (int j = 0; j < i; j++)
            if (patches[j].param_offset == p->param_offset)
                return fail(ps, O2P_ERR_PARSE,
                            "device addresses %d and %d are both at parameter offset %u", j, i,
                            p->param_offset);
        if (p->tensor != ENGINE_PATCH_WORKSPACE &&
            (p->tensor < 0 || p->tensor >= e->num_tensors))
            return fail(ps, O2P_ERR_PARSE,
                        "device address %d points at tensor %d, outside the table of %d tensors "
                        "(-2: the workspace)",
                        i, (int)p->tensor, e->num_tensors);
        if (p->tensor != ENGINE_PATCH_WORKSPACE && !layer_uses(e, l, p->tensor, 0))
            return fail(ps, O2P_ERR_PARSE,
                        "device address %d points at %s, which is none of the layer's inputs, "
                        "outputs and TENSOR attributes",
                        i, patch_target(e, p, tn, sizeof tn));
        if (p->byte_offset > patch_extent(e, p))
            return fail(ps, O2P_ERR_PARSE,
                        "device address %d is byte %llu of %s, past its end", i,
                        (unsigned long long)p->byte_offset, patch_target(e, p, tn, sizeof tn));
    }
    return O2P_OK;
}

static const lean_patch *patch_at(const lean_launch *k, uint32_t param_offset)
{
    for (int i = 0; i < k->num_patches; i++)
        if (k->patches[i].param_offset == param_offset)
            return &k->patches[i];
    return NULL;
}

/* bytes at a patch's address lie inside its tensor (or the workspace). */
static o2p_status check_range(parser *ps, const lean_patch *p, uint64_t bytes, const char *role)
{
    char tn[160];
    uint64_t extent = patch_extent(ps->e, p);
    if (bytes > extent - p->byte_offset)
        return fail(ps, O2P_ERR_PARSE,
                    "its %s range, %llu bytes at byte %llu of %s, lies outside it", role,
                    (unsigned long long)bytes, (unsigned long long)p->byte_offset,
                    patch_target(ps->e, p, tn, sizeof tn));
    return O2P_OK;
}

/* COPY and MEMSET: the fixed parameter records of engine_format.h, inside their tensors,
 * writing one of the layer's outputs or the workspace. */
static o2p_status check_copy_memset(parser *ps, const lean_layer *l, const lean_launch *k)
{
    const lean_engine *e = ps->e;
    int copy = k->kind == ENGINE_LAUNCH_COPY;
    const char *kind = copy ? "a COPY" : "a MEMSET";
    if (k->family[0] || k->function[0])
        return fail(ps, O2P_ERR_PARSE, "%s names a family or function; only KERNEL does", kind);
    for (int i = 0; i < 3; i++)
        if (k->grid[i] != 1 || k->block[i] != 1)
            return fail(ps, O2P_ERR_PARSE, "%s has a grid or block other than 1", kind);
    if (k->smem)
        return fail(ps, O2P_ERR_PARSE, "%s has %u bytes of shared memory; it has none", kind,
                    k->smem);
    if (k->param_size != 24)
        return fail(ps, O2P_ERR_PARSE, "%s has %u parameter bytes; it has 24", kind,
                    k->param_size);
    const lean_patch *dst = patch_at(k, 0), *src = copy ? patch_at(k, 8) : NULL;
    if (k->num_patches != (copy ? 2 : 1) || !dst || (copy && !src))
        return fail(ps, O2P_ERR_PARSE,
                    "%s has device addresses at other places than %s", kind,
                    copy ? "0 (dst) and 8 (src)" : "0 (dst)");
    uint64_t bytes = param_u64(k, copy ? 16 : 8);
    if (!copy && param_u64(k, 16) > 255)
        return fail(ps, O2P_ERR_PARSE, "a MEMSET's value is %llu; it is a byte (0..255)",
                    (unsigned long long)param_u64(k, 16));
    if (param_u64(k, 0) || (copy && param_u64(k, 8)))
        return fail(ps, O2P_ERR_PARSE, "%s has non-zero bytes where its addresses go", kind);
    O2P_TRY(check_range(ps, dst, bytes, "destination"));
    if (copy)
        O2P_TRY(check_range(ps, src, bytes, "source"));
    if (dst->tensor != ENGINE_PATCH_WORKSPACE) {
        const lean_tensor *t = &e->tensors[dst->tensor];
        char n[64];
        if (t->storage == ENGINE_STORAGE_WEIGHTS || (t->io & ENGINE_IO_INPUT) ||
            !layer_uses(e, l, dst->tensor, 1))
            return fail(ps, O2P_ERR_PARSE,
                        "%s writes tensor %d '%s', which is not one of the layer's outputs "
                        "(never weights or an engine input)",
                        kind, (int)dst->tensor, shown(t->name, n, sizeof n));
    }
    return O2P_OK;
}

/* ---- library calls (version 4): the records of codegen.h, read field by field */

static uint32_t param_u32(const lean_launch *k, uint32_t at)
{
    return (uint32_t)k->params[at] | (uint32_t)k->params[at + 1] << 8 |
           (uint32_t)k->params[at + 2] << 16 | (uint32_t)k->params[at + 3] << 24;
}

static int32_t param_i32(const lean_launch *k, uint32_t at)
{
    return (int32_t)param_u32(k, at);
}

static const char *library_kind_name(uint32_t kind)
{
    return kind == ENGINE_LAUNCH_CUBLAS_GEMM       ? "a CUBLAS_GEMM"
           : kind == ENGINE_LAUNCH_CUBLASLT_MATMUL ? "a CUBLASLT_MATMUL"
                                                   : "a CUDNN_CONV";
}

/* Bytes a column-major rows x cols matrix with leading dimension ld spans, batch times at
 * stride elements: ((cols-1) ld + rows + (batch-1) stride) * esize; 0 on overflow. */
static uint64_t matrix_span(int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride,
                            uint64_t esize)
{
    uint64_t a, b, total;
    if (__builtin_mul_overflow((uint64_t)(cols - 1), (uint64_t)ld, &a) ||
        __builtin_add_overflow(a, (uint64_t)rows, &a) ||
        __builtin_mul_overflow((uint64_t)(batch - 1), (uint64_t)stride, &b) ||
        __builtin_add_overflow(a, b, &total) || __builtin_mul_overflow(total, esize, &total))
        return 0;
    return total;
}

/* The written operand: one of the layer's outputs (never weights or an engine input), or
 * the workspace. */
static o2p_status check_written(parser *ps, const lean_layer *l, const lean_patch *dst,
                                const char *kind)
{
    const lean_engine *e = ps->e;
    if (dst->tensor == ENGINE_PATCH_WORKSPACE)
        return O2P_OK;
    const lean_tensor *t = &e->tensors[dst->tensor];
    char n[64];
    if (t->storage == ENGINE_STORAGE_WEIGHTS || (t->io & ENGINE_IO_INPUT) ||
        !layer_uses(e, l, dst->tensor, 1))
        return fail(ps, O2P_ERR_PARSE,
                    "%s writes tensor %d '%s', which is not one of the layer's outputs (never "
                    "weights or an engine input)",
                    kind, (int)dst->tensor, shown(t->name, n, sizeof n));
    return O2P_OK;
}

/* The patches of a library call: exactly at the address fields `at` (the last one, the
 * workspace, only when it has bytes, and then pointing at the workspace), with zeros where
 * the addresses go; the operands' tensors of the record's dtype. */
static o2p_status library_patches(parser *ps, const lean_launch *k, const char *kind,
                                  const uint32_t at[4], const char *const names[4],
                                  uint64_t ws_bytes, uint32_t dtype, const lean_patch *out[4])
{
    const lean_engine *e = ps->e;
    int want = ws_bytes ? 4 : 3;
    for (int i = 0; i < 4; i++) {
        out[i] = i < want ? patch_at(k, at[i]) : NULL;
        if (param_u64(k, at[i]))
            return fail(ps, O2P_ERR_PARSE, "%s has non-zero bytes where its %s address goes", kind,
                        names[i]);
    }
    if (k->num_patches != want || !out[0] || !out[1] || !out[2] || (ws_bytes && !out[3]))
        return fail(ps, O2P_ERR_PARSE,
                    "%s has device addresses at other places than %u (%s), %u (%s), %u (%s)%s",
                    kind, at[0], names[0], at[1], names[1], at[2], names[2],
                    ws_bytes ? " and the workspace's" : "");
    if (ws_bytes && out[3]->tensor != ENGINE_PATCH_WORKSPACE)
        return fail(ps, O2P_ERR_PARSE,
                    "%s's workspace address points at tensor %d, not the "
                    "workspace",
                    kind, (int)out[3]->tensor);
    for (int i = 0; i < 3; i++) {
        if (out[i]->tensor == ENGINE_PATCH_WORKSPACE)
            continue;
        const lean_tensor *t = &e->tensors[out[i]->tensor];
        char n[64];
        if ((uint32_t)t->view.dtype != dtype)
            return fail(ps, O2P_ERR_PARSE, "%s computes in %s, and its %s is tensor %d '%s' of %s",
                        kind, o2p_dtype_name((o2p_dtype)dtype), names[i], (int)out[i]->tensor,
                        shown(t->name, n, sizeof n), o2p_dtype_name(t->view.dtype));
    }
    return O2P_OK;
}

static o2p_status check_library_common(parser *ps, const lean_launch *k, const char *kind)
{
    if (k->family[0] || k->function[0])
        return fail(ps, O2P_ERR_PARSE, "%s names a family or function; only KERNEL does", kind);
    for (int i = 0; i < 3; i++)
        if (k->grid[i] != 1 || k->block[i] != 1)
            return fail(ps, O2P_ERR_PARSE, "%s has a grid or block other than 1", kind);
    if (k->smem)
        return fail(ps, O2P_ERR_PARSE, "%s has %u bytes of shared memory; it has none", kind,
                    k->smem);
    if (k->param_size != ENGINE_LIBRARY_PARAM_BYTES)
        return fail(ps, O2P_ERR_PARSE, "%s has %u parameter bytes; it has %u", kind, k->param_size,
                    ENGINE_LIBRARY_PARAM_BYTES);
    if (k->kind != ENGINE_LAUNCH_CUDNN_CONV && param_u32(k, ENGINE_BG_RESERVED))
        return fail(ps, O2P_ERR_PARSE, "%s's reserved field is not 0", kind);
    return O2P_OK;
}

/* CUBLAS_GEMM and CUBLASLT_MATMUL: a cg_blas_gemm_params whose operands, as cuBLAS reads and
 * writes them, lie inside their tensors. */
static o2p_status check_blas(parser *ps, const lean_layer *l, const lean_launch *k)
{
    const char *kind = library_kind_name(k->kind);
    O2P_TRY(check_library_common(ps, k, kind));
    int64_t m = param_i32(k, ENGINE_BG_M), n = param_i32(k, ENGINE_BG_N),
            kk = param_i32(k, ENGINE_BG_K);
    int64_t lda = param_i32(k, ENGINE_BG_LDA), ldb = param_i32(k, ENGINE_BG_LDB),
            ldc = param_i32(k, ENGINE_BG_LDC);
    int64_t batch = param_i32(k, ENGINE_BG_BATCH);
    int64_t sa = (int64_t)param_u64(k, ENGINE_BG_STRIDE_A),
            sb = (int64_t)param_u64(k, ENGINE_BG_STRIDE_B),
            sc = (int64_t)param_u64(k, ENGINE_BG_STRIDE_C);
    uint32_t ta = param_u32(k, ENGINE_BG_TRANS_A), tb = param_u32(k, ENGINE_BG_TRANS_B);
    uint32_t dtype = param_u32(k, ENGINE_BG_DTYPE), compute = param_u32(k, ENGINE_BG_COMPUTE);
    uint64_t ws_bytes = param_u64(k, ENGINE_BG_WS_BYTES);
    if (m < 1 || n < 1 || kk < 1 || batch < 1)
        return fail(ps, O2P_ERR_PARSE,
                    "%s of m %lld, n %lld, k %lld, batch %lld: each is at "
                    "least 1",
                    kind, (long long)m, (long long)n, (long long)kk, (long long)batch);
    if (ta > 1 || tb > 1)
        return fail(ps, O2P_ERR_PARSE, "%s has transposes %u and %u; each is 0 or 1", kind, ta, tb);
    if (dtype != O2P_DTYPE_FLOAT && dtype != O2P_DTYPE_FLOAT16 && dtype != O2P_DTYPE_BFLOAT16)
        return fail(ps, O2P_ERR_PARSE, "%s has dtype %u; it takes float, float16 or bfloat16", kind,
                    dtype);
    if (compute > ENGINE_BLAS_COMPUTE_TF32 ||
        (compute == ENGINE_BLAS_COMPUTE_TF32 && dtype != O2P_DTYPE_FLOAT))
        return fail(ps, O2P_ERR_PARSE, "%s has compute type %u (0: fp32, 1: tf32 for float)", kind,
                    compute);
    if (k->kind == ENGINE_LAUNCH_CUBLAS_GEMM && ws_bytes)
        return fail(ps, O2P_ERR_PARSE, "a CUBLAS_GEMM has %llu workspace bytes; it has none",
                    (unsigned long long)ws_bytes);
    /* stored shapes (column-major): A is m x k, or k x m transposed; B k x n, or n x k */
    int64_t ar = ta ? kk : m, ac = ta ? m : kk, br = tb ? n : kk, bc = tb ? kk : n;
    if (lda < ar || ldb < br || ldc < m)
        return fail(ps, O2P_ERR_PARSE,
                    "%s has leading dimensions %lld, %lld, %lld, below the "
                    "rows %lld, %lld, %lld of A, B and C",
                    kind, (long long)lda, (long long)ldb, (long long)ldc, (long long)ar,
                    (long long)br, (long long)m);
    if (sa < 0 || sb < 0 || sc < 0)
        return fail(ps, O2P_ERR_PARSE, "%s has a negative batch stride", kind);
    uint64_t esize = lean_dtype_size((o2p_dtype)dtype);
    uint64_t c_one = matrix_span(m, n, ldc, 1, 0, 1);
    if (batch > 1 && (uint64_t)sc < c_one)
        return fail(ps, O2P_ERR_PARSE,
                    "%s writes %lld matrices of C %lld elements apart, and "
                    "each spans %llu: they overlap",
                    kind, (long long)batch, (long long)sc, (unsigned long long)c_one);
    static const uint32_t at[4] = {ENGINE_BG_A, ENGINE_BG_B, ENGINE_BG_C, ENGINE_BG_WS};
    static const char *const names[4] = {"A", "B", "C", "workspace"};
    const lean_patch *p[4];
    O2P_TRY(library_patches(ps, k, kind, at, names, ws_bytes, dtype, p));
    uint64_t span[3] = {matrix_span(ar, ac, lda, batch, sa, esize),
                        matrix_span(br, bc, ldb, batch, sb, esize),
                        matrix_span(m, n, ldc, batch, sc, esize)};
    for (int i = 0; i < 3; i++) {
        if (!span[i])
            return fail(ps, O2P_ERR_PARSE, "the bytes %s's %s spans overflow", kind, names[i]);
        O2P_TRY(check_range(ps, p[i], span[i], names[i]));
    }
    if (ws_bytes)
        O2P_TRY(check_range(ps, p[3], ws_bytes, "workspace"));
    return check_written(ps, l, p[2], kind);
}

static o2p_status check_conv(parser *ps, const lean_layer *l, const lean_launch *k)
{
    const char *kind = library_kind_name(k->kind);
    O2P_TRY(check_library_common(ps, k, kind));
    static const char *const dim_names[] = {"n", "c", "h", "w", "k", "r", "s", "p", "q"};
    int64_t d[9];
    for (int i = 0; i < 9; i++) {
        d[i] = param_i32(k, ENGINE_DC_N + 4u * (uint32_t)i);
        if (d[i] < 1)
            return fail(ps, O2P_ERR_PARSE, "%s has %s = %lld; it is at least 1", kind, dim_names[i],
                        (long long)d[i]);
    }
    int64_t n = d[0], c = d[1], h = d[2], w = d[3], kk = d[4], r = d[5], s = d[6], p = d[7],
            q = d[8];
    int64_t pad_h = param_i32(k, ENGINE_DC_PAD_H), pad_w = param_i32(k, ENGINE_DC_PAD_W);
    int64_t sh = param_i32(k, ENGINE_DC_STRIDE_H), sw = param_i32(k, ENGINE_DC_STRIDE_W);
    int64_t dh = param_i32(k, ENGINE_DC_DIL_H), dw = param_i32(k, ENGINE_DC_DIL_W);
    int64_t groups = param_i32(k, ENGINE_DC_GROUPS);
    uint32_t dtype = param_u32(k, ENGINE_DC_DTYPE);
    uint64_t ws_bytes = param_u64(k, ENGINE_DC_WS_BYTES);
    if (pad_h < 0 || pad_w < 0 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || groups < 1 ||
        c % groups || kk % groups)
        return fail(ps, O2P_ERR_PARSE,
                    "%s has pads %lld,%lld, strides %lld,%lld, dilations "
                    "%lld,%lld and %lld groups of %lld in and %lld out channels: pads are >= 0, "
                    "the others >= 1, and the groups divide the channels",
                    kind, (long long)pad_h, (long long)pad_w, (long long)sh, (long long)sw,
                    (long long)dh, (long long)dw, (long long)groups, (long long)c, (long long)kk);
    if (dtype != O2P_DTYPE_FLOAT && dtype != O2P_DTYPE_FLOAT16)
        return fail(ps, O2P_ERR_PARSE, "%s has dtype %u; it takes float or float16", kind, dtype);
    uint32_t compute = param_u32(k, ENGINE_DC_COMPUTE);
    if (compute > ENGINE_BLAS_COMPUTE_TF32 ||
        (compute == ENGINE_BLAS_COMPUTE_TF32 && dtype != O2P_DTYPE_FLOAT))
        return fail(ps, O2P_ERR_PARSE, "%s has compute type %u (0: fp32, 1: tf32 for float)", kind,
                    compute);
    /* the output dims cuDNN computes (all in 32 bits: the fields are) */
    int64_t ph = (h + 2 * pad_h - dh * (r - 1) - 1), pw = (w + 2 * pad_w - dw * (s - 1) - 1);
    if (ph < 0 || pw < 0 || ph / sh + 1 != p || pw / sw + 1 != q)
        return fail(ps, O2P_ERR_PARSE,
                    "%s's output is %lldx%lld; an input of %lldx%lld with "
                    "this window gives %lldx%lld",
                    kind, (long long)p, (long long)q, (long long)h, (long long)w,
                    ph < 0 ? 0LL : (long long)(ph / sh + 1),
                    pw < 0 ? 0LL : (long long)(pw / sw + 1));
    uint64_t esize = lean_dtype_size((o2p_dtype)dtype), bytes[3];
    const uint64_t dims[3][4] = {{(uint64_t)n, (uint64_t)c, (uint64_t)h, (uint64_t)w},
                                 {(uint64_t)kk, (uint64_t)(c / groups), (uint64_t)r, (uint64_t)s},
                                 {(uint64_t)n, (uint64_t)kk, (uint64_t)p, (uint64_t)q}};
    static const uint32_t at[4] = {ENGINE_DC_X, ENGINE_DC_W, ENGINE_DC_Y, ENGINE_DC_WS};
    static const char *const names[4] = {"x", "w", "y", "workspace"};
    for (int i = 0; i < 3; i++) {
        uint64_t b = esize;
        for (int j = 0; j < 4; j++)
            if (__builtin_mul_overflow(b, dims[i][j], &b))
                return fail(ps, O2P_ERR_PARSE, "the bytes %s's %s spans overflow", kind, names[i]);
        bytes[i] = b;
    }
    /* cuDNN's descriptors take the packed strides as ints */
    if ((uint64_t)c * (uint64_t)h * (uint64_t)w > INT32_MAX ||
        (uint64_t)kk * (uint64_t)p * (uint64_t)q > INT32_MAX)
        return fail(ps, O2P_ERR_PARSE, "%s has an image of over 2^31-1 elements", kind);
    const lean_patch *pt[4];
    O2P_TRY(library_patches(ps, k, kind, at, names, ws_bytes, dtype, pt));
    for (int i = 0; i < 3; i++)
        O2P_TRY(check_range(ps, pt[i], bytes[i], names[i]));
    if (ws_bytes)
        O2P_TRY(check_range(ps, pt[3], ws_bytes, "workspace"));
    return check_written(ps, l, pt[2], kind);
}

static o2p_status check_kernel(parser *ps, const lean_launch *k)
{
    if (!k->family[0] || !k->function[0])
        return fail(ps, O2P_ERR_PARSE, "a KERNEL launch needs a family and a function name");
    static const uint32_t grid_max[3] = {0x7fffffffu, 65535u, 65535u};
    static const uint32_t block_max[3] = {1024u, 1024u, 64u};
    uint64_t threads = 1;
    for (int i = 0; i < 3; i++) {
        if (k->grid[i] < 1 || k->grid[i] > grid_max[i] || k->block[i] < 1 ||
            k->block[i] > block_max[i])
            return fail(ps, O2P_ERR_PARSE,
                        "grid %ux%ux%u, block %ux%ux%u: each is at least 1 and at most "
                        "2147483647x65535x65535 and 1024x1024x64",
                        k->grid[0], k->grid[1], k->grid[2], k->block[0], k->block[1],
                        k->block[2]);
        threads *= k->block[i];
    }
    if (threads > 1024)
        return fail(ps, O2P_ERR_PARSE, "block %ux%ux%u has %llu threads, over 1024", k->block[0],
                    k->block[1], k->block[2], (unsigned long long)threads);
    return O2P_OK;
}

static o2p_status read_launch(parser *ps, int layer, const lean_layer *l, int index,
                              lean_launch *k)
{
    lean_engine *e = ps->e;
    char n[64], op[64];
    where_set(ps, "layer %d '%s' (%s), launch %d", layer, shown(l->name, n, sizeof n),
              shown(l->op_type, op, sizeof op), index);
    O2P_TRY(rd_u32(ps, "the launch kind", &k->kind));
    if (k->kind > ENGINE_LAUNCH_LAST)
        return fail(ps, O2P_ERR_PARSE,
                    "launch kind %u is unknown (0 KERNEL, 1 COPY, 2 MEMSET, 3 CUBLAS_GEMM, "
                    "4 CUBLASLT_MATMUL, 5 CUDNN_CONV)",
                    k->kind);
    O2P_TRY(rd_str(ps, "the kernel family", &k->family));
    O2P_TRY(rd_str(ps, "the kernel function", &k->function));
    if (k->kind == ENGINE_LAUNCH_KERNEL) {
        char fam[64], fn[64];
        where_set(ps, "layer %d '%s' (%s), launch %d (%s.%s)", layer, shown(l->name, n, sizeof n),
                  shown(l->op_type, op, sizeof op), index, shown(k->family, fam, sizeof fam),
                  shown(k->function, fn, sizeof fn));
    }
    for (int i = 0; i < 3; i++)
        O2P_TRY(rd_u32(ps, "the grid", &k->grid[i]));
    for (int i = 0; i < 3; i++)
        O2P_TRY(rd_u32(ps, "the block", &k->block[i]));
    O2P_TRY(rd_u32(ps, "smem", &k->smem));
    O2P_TRY(rd_u32(ps, "param_size", &k->param_size));
    if (k->param_size > ps->end - ps->pos)
        return fail(ps, O2P_ERR_PARSE,
                    "truncated: the parameters are %u bytes long at offset %zu, but the tables "
                    "end at %zu",
                    k->param_size, ps->pos, ps->end);
    if (k->param_size > ENGINE_MAX_PARAM_BYTES)
        return fail(ps, O2P_ERR_LIMIT, "the parameters are %u bytes long, over the limit of %u",
                    k->param_size, ENGINE_MAX_PARAM_BYTES);
    uint8_t *params = o2p_arena_alloc(&e->mem, k->param_size ? k->param_size : 1, 16);
    if (!params)
        return out_of_memory(ps);
    if (k->param_size)
        memcpy(params, ps->bytes + ps->pos, k->param_size);
    ps->pos += k->param_size;
    k->params = params;
    O2P_TRY(read_patches(ps, l, k));
    switch (k->kind) {
    case ENGINE_LAUNCH_KERNEL: O2P_TRY(check_kernel(ps, k)); break;
    case ENGINE_LAUNCH_COPY:
    case ENGINE_LAUNCH_MEMSET: O2P_TRY(check_copy_memset(ps, l, k)); break;
    case ENGINE_LAUNCH_CUDNN_CONV:
        O2P_TRY(check_conv(ps, l, k));
        e->libraries |= LEAN_LIB_CUDNN;
        break;
    default:
        O2P_TRY(check_blas(ps, l, k));
        e->libraries |= k->kind == ENGINE_LAUNCH_CUBLAS_GEMM ? LEAN_LIB_CUBLAS : LEAN_LIB_CUBLASLT;
        break;
    }
    if (e->num_launches == INT32_MAX)
        return fail(ps, O2P_ERR_LIMIT, "over 2^31-1 launches in all");
    k->index = e->num_launches++;
    k->buf_offset = e->param_bytes;
    e->param_bytes += ((size_t)k->param_size + 15) & ~(size_t)15;
    return O2P_OK;
}

static o2p_status read_launches(parser *ps, int index, lean_layer *l)
{
    lean_engine *e = ps->e;
    where_layer(ps, index, l);
    O2P_TRY(rd_count(ps, "the number of launches", MIN_LAUNCH_BYTES, ENGINE_MAX_LAUNCHES,
                     &l->num_launches));
    if (e->target == ENGINE_TARGET_HOST && l->num_launches)
        return fail(ps, O2P_ERR_PARSE,
                    "%d launches on the host target, where layers run by their op (0 launches)",
                    l->num_launches);
    if (l->num_launches && l->is_plugin)
        return fail(ps, O2P_ERR_PARSE, "a plugin layer with launches; its plugin runs it");
    l->launches = o2p_arena_array(&e->mem, (size_t)l->num_launches, sizeof *l->launches);
    if (!l->launches)
        return out_of_memory(ps);
    for (int k = 0; k < l->num_launches; k++)
        O2P_TRY(read_launch(ps, index, l, k, &l->launches[k]));
    return O2P_OK;
}

/* A control-flow layer's bodies (version 5): where their layers lie in the table and
 * their inputs, which the layer fills (it counts as their writer) before each run of a
 * body. The rest of the rules are checked once every layer is read (lean_control_check). */
static o2p_status read_bodies(parser *ps, int index, lean_layer *l)
{
    lean_engine *e = ps->e;
    if (!lean_control_op(l->op_type))
        return O2P_OK;
    where_layer(ps, index, l);
    O2P_TRY(rd_count(ps, "the number of bodies", 12, ENGINE_MAX_BODIES, &l->num_bodies));
    int want = strcmp(l->op_type, "If") == 0 ? 2 : 1;
    if (l->num_bodies != want)
        return fail(ps, O2P_ERR_PARSE, "%d bodies; the op has %d", l->num_bodies, want);
    lean_body *bodies = o2p_arena_array(&e->mem, (size_t)l->num_bodies, sizeof *bodies);
    if (!bodies)
        return out_of_memory(ps);
    int next = index + 1;
    for (int b = 0; b < l->num_bodies; b++) {
        lean_body *body = &bodies[b];
        uint32_t n;
        O2P_TRY(rd_u32(ps, "the number of body layers", &n));
        if (n > (uint32_t)(e->num_layers - next))
            return fail(ps, O2P_ERR_PARSE,
                        "body %d has %u layers, but the table has %d layers after layer %d", b,
                        n, e->num_layers - next, next - 1);
        body->first_layer = next;
        body->num_layers = (int)n;
        next += (int)n;
        O2P_TRY(read_index_list(ps, "body inputs", &body->num_inputs, &body->inputs));
        O2P_TRY(read_index_list(ps, "body outputs", &body->num_outputs, &body->outputs));
        if (body->num_inputs > (int)ENGINE_MAX_BODY_IO ||
            body->num_outputs > (int)ENGINE_MAX_BODY_IO)
            return fail(ps, O2P_ERR_LIMIT, "body %d has %d inputs and %d outputs, over %u", b,
                        body->num_inputs, body->num_outputs, ENGINE_MAX_BODY_IO);
        for (int i = 0; i < body->num_inputs; i++) {
            char n2[64];
            if (body->inputs[i] < 0)
                return fail(ps, O2P_ERR_PARSE, "body %d input %d is omitted", b, i);
            lean_tensor *t = &e->tensors[body->inputs[i]];
            if (t->storage != ENGINE_STORAGE_ARENA || t->io || t->writer >= 0)
                return fail(ps, O2P_ERR_PARSE,
                            "body %d input %d is tensor %d '%s', which is not an arena tensor "
                            "that no layer writes",
                            b, i, (int)body->inputs[i], shown(t->name, n2, sizeof n2));
            t->writer = index;
        }
        for (int i = 0; i < body->num_outputs; i++)
            if (body->outputs[i] < 0)
                return fail(ps, O2P_ERR_PARSE, "body %d output %d is omitted", b, i);
    }
    l->bodies = bodies;
    l->body_layers = next - index - 1;
    return O2P_OK;
}

static o2p_status read_layer(parser *ps, int index, lean_layer *l)
{
    lean_engine *e = ps->e;
    where_set(ps, "layer %d", index);
    O2P_TRY(rd_str(ps, "the layer name", &l->name));
    where_layer(ps, index, l);
    const char *op_type;
    O2P_TRY(rd_str(ps, "the op type", &op_type));
    l->op_type = op_type;
    where_layer(ps, index, l);
    O2P_TRY(rd_i64(ps, "the opset", &l->opset));
    if (l->opset < 1)
        return fail(ps, O2P_ERR_PARSE, "opset %lld; default-domain opsets start at 1",
                    (long long)l->opset);
    O2P_TRY(read_index_list(ps, "inputs", &l->num_inputs, &l->inputs));
    O2P_TRY(read_index_list(ps, "outputs", &l->num_outputs, &l->outputs));
    O2P_TRY(rd_str(ps, "the tactic source", &l->tactic_source));
    O2P_TRY(rd_str(ps, "the tactic kernel", &l->tactic_kernel));
    O2P_TRY(rd_u32(ps, "smem_bytes", &l->smem_bytes));
    O2P_TRY(rd_u32(ps, "arch_specific", &l->arch_specific));
    if (l->arch_specific > 1)
        return fail(ps, O2P_ERR_PARSE, "arch_specific is %u; it is 0 or 1", l->arch_specific);
    if (e->target == ENGINE_TARGET_HOST && (l->smem_bytes || l->arch_specific))
        return fail(ps, O2P_ERR_PARSE,
                    "smem_bytes %u and arch_specific %u on the host target, where both are 0",
                    l->smem_bytes, l->arch_specific);
    O2P_TRY(
        rd_count(ps, "the number of attributes", MIN_ATTR_BYTES, ENGINE_MAX_ATTRS, &l->num_attrs));
    host_attr *attrs = o2p_arena_array(&e->mem, (size_t)l->num_attrs, sizeof *attrs);
    if (!attrs)
        return out_of_memory(ps);
    l->attrs = attrs;
    for (int a = 0; a < l->num_attrs; a++)
        O2P_TRY(read_attr(ps, index, l, a, &attrs[a]));
    where_layer(ps, index, l);
    O2P_TRY(check_unique_attrs(ps, l));
    O2P_TRY(read_plugin(ps, l));
    O2P_TRY(read_launches(ps, index, l));
    O2P_TRY(read_bodies(ps, index, l));
    where_layer(ps, index, l);
    return check_dataflow(ps, index, l);
}

/* ---------------------------------------------------------------- engine inputs and outputs */

/* The engine input (or output) list; each entry's io_index becomes base + its position. */
static o2p_status read_io_list(parser *ps, uint32_t want_bit, int base, int *count, int **out)
{
    lean_engine *e = ps->e;
    const char *kind = want_bit == ENGINE_IO_INPUT ? "input" : "output";
    char n[64];
    where_set(ps, "the engine %s list", kind);
    O2P_TRY(rd_count(ps, "its length", 4, ENGINE_MAX_TENSORS, count));
    int *list = o2p_arena_array(&e->mem, (size_t)*count, sizeof *list);
    if (!list)
        return out_of_memory(ps);
    for (int i = 0; i < *count; i++) {
        int32_t v;
        where_set(ps, "engine %s %d", kind, i);
        O2P_TRY(rd_i32(ps, "the tensor index", &v));
        if (v < 0 || v >= e->num_tensors)
            return fail(ps, O2P_ERR_PARSE, "tensor index %d is outside the table of %d tensors",
                        (int)v, e->num_tensors);
        lean_tensor *t = &e->tensors[v];
        const char *tn = shown(t->name, n, sizeof n);
        if (!(t->io & want_bit))
            return fail(ps, O2P_ERR_PARSE,
                        "it is tensor %d '%s', which does not have the engine %s io bit", (int)v,
                        tn, kind);
        if (want_bit == ENGINE_IO_INPUT && t->storage != ENGINE_STORAGE_IO)
            return fail(ps, O2P_ERR_PARSE, "it is tensor %d '%s', which is not storage IO", (int)v,
                        tn);
        if (t->io_index >= 0)
            return fail(ps, O2P_ERR_PARSE, "tensor %d '%s' is listed twice", (int)v, tn);
        t->io_index = base + i;
        list[i] = v;
    }
    *out = list;
    return O2P_OK;
}

static o2p_status read_io(parser *ps)
{
    lean_engine *e = ps->e;
    int *inputs, *outputs;
    char n[64];
    O2P_TRY(read_io_list(ps, ENGINE_IO_INPUT, 0, &e->num_inputs, &inputs));
    O2P_TRY(read_io_list(ps, ENGINE_IO_OUTPUT, e->num_inputs, &e->num_outputs, &outputs));
    int num_io = e->num_inputs + e->num_outputs;
    e->io = o2p_arena_array(&e->mem, (size_t)num_io, sizeof *e->io);
    if (!e->io)
        return out_of_memory(ps);
    for (int i = 0; i < num_io; i++)
        e->io[i] = i < e->num_inputs ? inputs[i] : outputs[i - e->num_inputs];
    for (int i = 0; i < e->num_tensors; i++) {
        const lean_tensor *t = &e->tensors[i];
        const char *kind = t->io == ENGINE_IO_INPUT ? "input" : "output";
        where_set(ps, "tensor %d '%s'", i, shown(t->name, n, sizeof n));
        if (t->io && t->io_index < 0)
            return fail(ps, O2P_ERR_PARSE,
                        "it has the engine %s io bit but is not in the engine %s list", kind, kind);
        if (t->io == ENGINE_IO_OUTPUT && t->storage == ENGINE_STORAGE_IO && t->writer < 0)
            return fail(ps, O2P_ERR_PARSE, "it is an engine output that no layer writes");
        if (!t->io)
            continue;
        if (!t->name[0])
            return fail(ps, O2P_ERR_PARSE, "an engine %s needs a name", kind);
        if (o2p_strmap_get(&e->io_names, t->name))
            return fail(ps, O2P_ERR_PARSE,
                        "another engine input or output has the same name; I/O names are "
                        "unique");
        if (o2p_strmap_put(&e->io_names, t->name, (void *)(intptr_t)(t->io_index + 1)) != O2P_OK)
            return out_of_memory(ps);
    }
    return O2P_OK;
}

/* ---------------------------------------------------------------- kernel images (cuda) */

static o2p_status read_image(parser *ps, int index, lean_image *im)
{
    lean_engine *e = ps->e;
    char fam[64];
    where_set(ps, "kernel image %d", index);
    O2P_TRY(rd_str(ps, "the family", &im->family));
    if (!im->family[0])
        return fail(ps, O2P_ERR_PARSE, "an image needs a family name");
    where_set(ps, "kernel image %d (family '%s')", index, shown(im->family, fam, sizeof fam));
    O2P_TRY(rd_u32(ps, "the image kind", &im->kind));
    if (im->kind > ENGINE_IMAGE_PTX)
        return fail(ps, O2P_ERR_PARSE, "image kind %u is unknown (0 SASS, 1 PTX)", im->kind);
    O2P_TRY(rd_u32(ps, "the arch", &im->arch));
    if (im->arch < 10 || im->arch > 999)
        return fail(ps, O2P_ERR_PARSE, "arch %u is no compute capability (major*10+minor)",
                    im->arch);
    O2P_TRY(rd_u32(ps, "arch_specific", &im->arch_specific));
    if (im->arch_specific > 1)
        return fail(ps, O2P_ERR_PARSE, "arch_specific is %u; it is 0 or 1", im->arch_specific);
    where_set(ps, "kernel image %d (family '%s', %s_%u%s)", index,
              shown(im->family, fam, sizeof fam), im->kind == ENGINE_IMAGE_PTX ? "compute" : "sm",
              im->arch, im->arch_specific ? "a" : "");
    uint32_t size;
    O2P_TRY(rd_u32(ps, "the image size", &size));
    if (size > ps->end - ps->pos)
        return fail(ps, O2P_ERR_PARSE,
                    "truncated: the image is %u bytes long at offset %zu, but the tables end at "
                    "%zu",
                    size, ps->pos, ps->end);
    if (size > ENGINE_MAX_IMAGE)
        return fail(ps, O2P_ERR_LIMIT, "the image is %u bytes long, over the limit of %u", size,
                    ENGINE_MAX_IMAGE);
    if (!size)
        return fail(ps, O2P_ERR_PARSE, "the image is empty");
    im->bytes = ps->bytes + ps->pos;
    im->size = size;
    if (im->kind == ENGINE_IMAGE_PTX && memchr(im->bytes, '\0', size))
        return fail(ps, O2P_ERR_PARSE, "the PTX text holds a NUL byte");
    ps->pos += size;
    for (int j = 0; j < index; j++) {
        const lean_image *o = &e->images[j];
        if (o->kind == im->kind && o->arch == im->arch && o->arch_specific == im->arch_specific &&
            strcmp(o->family, im->family) == 0)
            return fail(ps, O2P_ERR_PARSE, "image %d is the same family, kind and arch", j);
    }
    return O2P_OK;
}

/* The images, then: every KERNEL launch's family has one. */
static o2p_status read_images(parser *ps)
{
    lean_engine *e = ps->e;
    o2p_strmap families = {0};
    where_set(ps, "the kernel images");
    int num_images;
    O2P_TRY(rd_count(ps, "the number of images", MIN_IMAGE_BYTES, ENGINE_MAX_IMAGES,
                     &num_images));
    if (e->target == ENGINE_TARGET_HOST && num_images)
        return fail(ps, O2P_ERR_PARSE, "%d kernel images on the host target, which has none",
                    num_images);
    e->images = o2p_arena_array(&e->mem, (size_t)num_images, sizeof *e->images);
    if (!e->images)
        return out_of_memory(ps);
    e->num_images = num_images; /* only now: create clears the images' bytes on failure */
    o2p_status st = O2P_OK;
    for (int i = 0; i < e->num_images && st == O2P_OK; i++) {
        st = read_image(ps, i, &e->images[i]);
        if (st == O2P_OK && !o2p_strmap_get(&families, e->images[i].family) &&
            o2p_strmap_put(&families, e->images[i].family, &e->images[i]) != O2P_OK)
            st = out_of_memory(ps);
    }
    for (int li = 0; li < e->num_layers && st == O2P_OK; li++) {
        const lean_layer *l = &e->layers[li];
        for (int k = 0; k < l->num_launches && st == O2P_OK; k++) {
            const lean_launch *lk = &l->launches[k];
            if (lk->kind != ENGINE_LAUNCH_KERNEL || o2p_strmap_get(&families, lk->family))
                continue;
            char n[64], op[64], fam[64], fn[64];
            where_set(ps, "layer %d '%s' (%s), launch %d (%s.%s)", li, shown(l->name, n, sizeof n),
                      shown(l->op_type, op, sizeof op), k, shown(lk->family, fam, sizeof fam),
                      shown(lk->function, fn, sizeof fn));
            st = fail(ps, O2P_ERR_PARSE, "the plan carries no kernel image of family '%s'", fam);
        }
    }
    o2p_strmap_free(&families);
    return st;
}

/* ---------------------------------------------------------------- the section */

static o2p_status read_header(parser *ps, size_t size)
{
    lean_engine *e = ps->e;
    uint32_t magic, version, flags;
    uint64_t weights_offset;
    where_set(ps, "header");
    O2P_TRY(rd_u32(ps, "magic", &magic));
    if (magic != ENGINE_MAGIC)
        return fail(ps, O2P_ERR_PARSE,
                    "magic is 0x%08x, not 0x%08x (\"O2PE\"): this is not an ENGINE section", magic,
                    ENGINE_MAGIC);
    O2P_TRY(rd_u32(ps, "version", &version));
    if (version > ENGINE_FORMAT_VERSION)
        return fail(ps, O2P_ERR_UNSUPPORTED,
                    "ENGINE format version %u is newer than version %u, the one this lean "
                    "runtime reads; the plan must run with the lean runtime that made it "
                    "(build it --version-compatible to embed that runtime, or rebuild it with "
                    "this onnx2plan)",
                    version, ENGINE_FORMAT_VERSION);
    if (version == 0)
        return fail(ps, O2P_ERR_PARSE,
                    "ENGINE format version 0 does not exist (this lean runtime reads version %u)",
                    ENGINE_FORMAT_VERSION);
    if (version != ENGINE_FORMAT_VERSION)
        return fail(ps, O2P_ERR_UNSUPPORTED,
                    "ENGINE format version %u is older than version %u, the one this lean "
                    "runtime reads; the plan must run with the lean runtime that made it "
                    "(embedded in a --version-compatible plan), or be rebuilt with this "
                    "onnx2plan",
                    version, ENGINE_FORMAT_VERSION);
    O2P_TRY(rd_u32(ps, "target", &e->target));
    if (e->target != ENGINE_TARGET_HOST && e->target != ENGINE_TARGET_CUDA)
        return fail(ps, O2P_ERR_UNSUPPORTED,
                    "target %u is unknown to this lean runtime (ENGINE format version %u knows "
                    "host 0 and cuda 1); the plan must run with the lean runtime that made it",
                    e->target, ENGINE_FORMAT_VERSION);
    O2P_TRY(rd_u32(ps, "flags", &flags));
    if (flags)
        return fail(ps, O2P_ERR_PARSE, "flags is 0x%x; it is reserved and must be 0", flags);
    O2P_TRY(rd_u64(ps, "arena_size", &e->arena_size));
    O2P_TRY(rd_u64(ps, "weights_offset", &weights_offset));
    O2P_TRY(rd_u64(ps, "weights_size", &e->weights_size));
    O2P_TRY(rd_u64(ps, "workspace_size", &e->workspace_size));
    if (e->target == ENGINE_TARGET_HOST && e->workspace_size)
        return fail(ps, O2P_ERR_PARSE,
                    "workspace_size is %llu on the host target, where it is 0",
                    (unsigned long long)e->workspace_size);
    if (e->workspace_size > ENGINE_MAX_WORKSPACE)
        return fail(ps, O2P_ERR_LIMIT, "workspace_size %llu is over the limit of %llu",
                    (unsigned long long)e->workspace_size,
                    (unsigned long long)ENGINE_MAX_WORKSPACE);
    if (e->arena_size > (uint64_t)INT64_MAX)
        return fail(ps, O2P_ERR_PARSE, "arena_size %llu is over 2^63-1",
                    (unsigned long long)e->arena_size);
    if (weights_offset % ENGINE_WEIGHTS_ALIGN)
        return fail(ps, O2P_ERR_PARSE, "weights_offset %llu is not a multiple of %u",
                    (unsigned long long)weights_offset, ENGINE_WEIGHTS_ALIGN);
    if (weights_offset < HEADER_BYTES || weights_offset > size ||
        e->weights_size != size - weights_offset)
        return fail(ps, O2P_ERR_PARSE,
                    "the weights (%llu bytes at offset %llu) do not end the %zu-byte section "
                    "exactly, after the tables",
                    (unsigned long long)e->weights_size, (unsigned long long)weights_offset, size);
    ps->end = (size_t)weights_offset;
    return O2P_OK;
}

typedef struct lookups {
    lean_kernel_lookup kernel;
    lean_plugin_lookup plugin;
    void *user;
    uint32_t flags;
} lookups;

static o2p_status read_section(parser *ps, size_t size, const lookups *lk)
{
    lean_engine *e = ps->e;
    O2P_TRY(read_header(ps, size));

    where_set(ps, "tensor table");
    O2P_TRY(rd_count(ps, "the number of tensors", MIN_TENSOR_BYTES, ENGINE_MAX_TENSORS,
                     &e->num_tensors));
    e->tensors = o2p_arena_array(&e->mem, (size_t)e->num_tensors, sizeof *e->tensors);
    if (!e->tensors)
        return out_of_memory(ps);
    for (int i = 0; i < e->num_tensors; i++)
        O2P_TRY(read_tensor(ps, i, &e->tensors[i]));
    O2P_TRY(check_shape_tensors(ps));

    where_set(ps, "layer table");
    O2P_TRY(
        rd_count(ps, "the number of layers", MIN_LAYER_BYTES, ENGINE_MAX_LAYERS, &e->num_layers));
    e->layers = o2p_arena_array(&e->mem, (size_t)e->num_layers, sizeof *e->layers);
    if (!e->layers)
        return out_of_memory(ps);
    for (int i = 0; i < e->num_layers; i++) {
        lean_layer *l = &e->layers[i];
        O2P_TRY(read_layer(ps, i, l));
        if (l->num_inputs > e->max_layer_inputs)
            e->max_layer_inputs = l->num_inputs;
        if (l->num_outputs > e->max_layer_outputs)
            e->max_layer_outputs = l->num_outputs;
    }

    O2P_TRY(read_io(ps));
    O2P_TRY(read_images(ps));
    O2P_TRY(lean_control_check(e));
    O2P_TRY(check_data_dependent(ps));

    where_set(ps, "padding before the weights");
    for (size_t p = ps->pos; p < ps->end; p++)
        if (ps->bytes[p])
            return fail(ps, O2P_ERR_PARSE,
                        "byte %zu is 0x%02x; the bytes from the end of the tables (%zu) to "
                        "weights_offset (%zu) are zero",
                        p, ps->bytes[p], ps->pos, ps->end);

    int tables_only = (lk->flags & LEAN_CREATE_TABLES_ONLY) != 0;
    int cuda = e->target == ENGINE_TARGET_CUDA;
    if (!cuda || tables_only) {
        /* The weights, copied so the caller may free the section; aligned for direct use.
         * (A cuda engine uploads them from the section instead and keeps no host copy.) */
        where_set(ps, "weights");
        size_t alloc = ((size_t)e->weights_size + ENGINE_WEIGHTS_ALIGN - 1) &
                       ~(size_t)(ENGINE_WEIGHTS_ALIGN - 1);
        if (alloc == 0)
            alloc = ENGINE_WEIGHTS_ALIGN;
        e->weights = aligned_alloc(ENGINE_WEIGHTS_ALIGN, alloc);
        if (!e->weights)
            return fail(ps, O2P_ERR_OUT_OF_MEMORY, "out of memory for %llu bytes of weights",
                        (unsigned long long)e->weights_size);
        memcpy(e->weights, ps->bytes + ps->end, (size_t)e->weights_size);
        memset(e->weights + e->weights_size, 0, alloc - (size_t)e->weights_size);
        for (int i = 0; i < e->num_tensors; i++)
            if (e->tensors[i].storage == ENGINE_STORAGE_WEIGHTS)
                e->tensors[i].view.data = e->weights + e->tensors[i].offset;
    }
    if (tables_only)
        return O2P_OK;

    /* Last, so that everything above can be checked without any kernel or device. */
    for (int i = 0; i < e->num_layers; i++) {
        lean_layer *l = &e->layers[i];
        if (l->is_plugin) {
            l->plugin = lk->plugin ? lk->plugin(lk->user, l->plugin_name, l->plugin_version,
                                                l->plugin_namespace)
                                   : NULL;
            char pn[64], pv[64], pns[64], plib[64];
            where_layer(ps, i, l);
            if (!l->plugin)
                return fail(ps, O2P_ERR_UNSUPPORTED,
                            "the plugin %s version '%s' (namespace '%s', built from the library "
                            "%s) is not registered: register a plugin library that provides it "
                            "(--plugins LIB, or o2p_plugin_registry_load_library on the default "
                            "registry)",
                            shown(l->plugin_name, pn, sizeof pn),
                            shown(l->plugin_version, pv, sizeof pv),
                            shown(l->plugin_namespace, pns, sizeof pns),
                            shown(l->plugin_library, plib, sizeof plib));
            int has_host = l->plugin->size >= offsetof(o2p_plugin_creator, enqueue_cuda) &&
                           l->plugin->enqueue_host;
            /* A cuda engine runs enqueue_cuda, or else enqueue_host on host copies. */
            if (!has_host && !(cuda && lean_plugin_enqueue_cuda(l->plugin)))
                return fail(ps, O2P_ERR_UNSUPPORTED,
                            cuda ? "the plugin %s version '%s' has neither CUDA code "
                                   "(enqueue_cuda) nor host code (enqueue_host)"
                                 : "the plugin %s version '%s' has no host code (enqueue_host)",
                            shown(l->plugin_name, pn, sizeof pn),
                            shown(l->plugin_version, pv, sizeof pv));
            continue;
        }
        if (cuda)
            continue; /* native layers run by their launches: no host kernel is looked up */
        if (l->num_bodies)
            continue; /* control flow: control.c runs it */
        l->run = lk->kernel(l->op_type);
        if (!l->run) {
            char op[64];
            where_layer(ps, i, l);
            return fail(ps, O2P_ERR_UNSUPPORTED,
                        "this lean runtime has no host kernel for op '%s', so it cannot run "
                        "this plan (build the plan with an onnx2plan whose host target "
                        "supports '%s')",
                        shown(l->op_type, op, sizeof op), op);
        }
    }
    if (cuda) {
        char prefix[600];
        snprintf(prefix, sizeof prefix, "%s: ENGINE section, ", ps->what);
        return lean_cuda_engine_load(e, ps->bytes + ps->end, prefix);
    }
    return O2P_OK;
}

lean_plugin_cuda_fn lean_plugin_enqueue_cuda(const o2p_plugin_creator *c)
{
    /* A creator built before the field existed is shorter: read only what it has. */
    if (!c || c->size < offsetof(o2p_plugin_creator, enqueue_cuda) + sizeof c->enqueue_cuda)
        return NULL;
    return c->enqueue_cuda;
}

o2p_status lean_engine_create_flags(const void *section, size_t size, const char *what,
                                    lean_kernel_lookup lookup, lean_plugin_lookup plugin_lookup,
                                    void *user, uint32_t flags, lean_engine **out)
{
    if (!out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "lean_engine_create: out is NULL");
    *out = NULL;
    if (!what)
        what = "ENGINE";
    if (!section && size)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "%s: the ENGINE section is NULL", what);
    if (flags & ~LEAN_CREATE_TABLES_ONLY)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "%s: unknown engine create flags 0x%x", what,
                        flags);
    lean_engine *e = calloc(1, sizeof *e);
    if (!e)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%s: out of memory for the engine", what);
    o2p_arena_init(&e->mem);
    e->flags = flags;
    e->what = o2p_arena_strdup(&e->mem, what);
    if (!e->what) {
        free(e);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%s: out of memory for the engine", what);
    }
    parser ps = {.bytes = section, .end = size, .what = e->what, .e = e};
    lookups lk = {lookup ? lookup : host_kernel_find, plugin_lookup, user, flags};
    o2p_status st = read_section(&ps, size, &lk);
    free(ps.scratch);
    /* the image bytes lie in the caller's section, which may go away now */
    for (int i = 0; i < e->num_images; i++)
        e->images[i].bytes = NULL;
    if (st != O2P_OK) {
        lean_engine_destroy(e);
        return st;
    }
    *out = e;
    return O2P_OK;
}

o2p_status lean_engine_create_ex(const void *section, size_t size, const char *what,
                                 lean_kernel_lookup lookup, lean_plugin_lookup plugin_lookup,
                                 void *user, lean_engine **out)
{
    return lean_engine_create_flags(section, size, what, lookup, plugin_lookup, user, 0, out);
}

o2p_status lean_engine_create_with_kernels(const void *section, size_t size, const char *what,
                                           lean_kernel_lookup lookup, lean_engine **out)
{
    return lean_engine_create_ex(section, size, what, lookup, NULL, NULL, out);
}

o2p_status lean_engine_create(const void *section, size_t size, const char *what, lean_engine **out)
{
    return lean_engine_create_ex(section, size, what, host_kernel_find, NULL, NULL, out);
}

void lean_engine_destroy(lean_engine *engine)
{
    if (!engine)
        return;
    lean_cuda_engine_unload(engine);
    free(engine->weights);
    o2p_strmap_free(&engine->io_names);
    o2p_arena_free(&engine->mem);
    free(engine);
}

/* ---------------------------------------------------------------- queries */

uint64_t lean_engine_arena_size(const lean_engine *e)
{
    return e ? e->arena_size : 0;
}

uint32_t lean_engine_target(const lean_engine *e)
{
    return e ? e->target : 0;
}

uint64_t lean_engine_workspace_size(const lean_engine *e)
{
    return e ? e->workspace_size : 0;
}

uint64_t lean_engine_context_memory(const lean_engine *e)
{
    if (!e)
        return 0;
    if (e->target != ENGINE_TARGET_CUDA)
        return e->arena_size;
    /* both are under 2^63 and 2^40 (the reader's limits): no overflow */
    return ((e->arena_size + 255u) & ~(uint64_t)255u) + e->workspace_size;
}

int lean_engine_num_images(const lean_engine *e)
{
    return e ? e->num_images : 0;
}

o2p_status lean_engine_image(const lean_engine *e, int index, const char **family,
                             uint32_t *kind, uint32_t *arch, uint32_t *arch_specific,
                             uint64_t *size)
{
    if (!e || index < 0 || index >= e->num_images)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "lean_engine_image: no image %d (%d in all)",
                        index, e ? e->num_images : 0);
    const lean_image *im = &e->images[index];
    if (family)
        *family = im->family;
    if (kind)
        *kind = im->kind;
    if (arch)
        *arch = im->arch;
    if (arch_specific)
        *arch_specific = im->arch_specific;
    if (size)
        *size = im->size;
    return O2P_OK;
}

int lean_engine_loaded_image(const lean_engine *e, const char *family)
{
    return e && family ? lean_cuda_engine_loaded_image(e, family) : -1;
}

int lean_engine_num_io(const lean_engine *e)
{
    return e ? e->num_inputs + e->num_outputs : 0;
}

int lean_engine_num_inputs(const lean_engine *e)
{
    return e ? e->num_inputs : 0;
}

int lean_engine_num_outputs(const lean_engine *e)
{
    return e ? e->num_outputs : 0;
}

int lean_engine_find_io(const lean_engine *e, const char *name)
{
    if (!e || !name)
        return -1;
    void *v = o2p_strmap_get(&e->io_names, name);
    return v ? (int)(intptr_t)v - 1 : -1;
}

static const lean_tensor *io_tensor(const lean_engine *e, int io)
{
    if (!e || io < 0 || io >= e->num_inputs + e->num_outputs)
        return NULL;
    return &e->tensors[e->io[io]];
}

static const lean_tensor *tensor_at(const lean_engine *e, int index)
{
    if (!e || index < 0 || index >= e->num_tensors)
        return NULL;
    return &e->tensors[index];
}

static int64_t tensor_dim(const lean_tensor *t, int axis)
{
    return t && axis >= 0 && axis < t->view.rank ? t->view.dims[axis] : -1;
}

const char *lean_engine_io_name(const lean_engine *e, int io)
{
    const lean_tensor *t = io_tensor(e, io);
    return t ? t->name : NULL;
}

lean_io_mode lean_engine_io_mode(const lean_engine *e, int io)
{
    const lean_tensor *t = io_tensor(e, io);
    return t ? (io < e->num_inputs ? LEAN_IO_INPUT : LEAN_IO_OUTPUT) : LEAN_IO_NONE;
}

o2p_dtype lean_engine_io_dtype(const lean_engine *e, int io)
{
    const lean_tensor *t = io_tensor(e, io);
    return t ? t->view.dtype : O2P_DTYPE_UNDEFINED;
}

int lean_engine_io_rank(const lean_engine *e, int io)
{
    const lean_tensor *t = io_tensor(e, io);
    return t ? t->view.rank : -1;
}

int64_t lean_engine_io_dim(const lean_engine *e, int io, int axis)
{
    const lean_tensor *t = io_tensor(e, io);
    if (t && axis >= 0 && axis < 32 && (t->dd_mask >> axis & 1u))
        return -1; /* data-dependent: known after a run (lean_context_get_tensor_shape) */
    return tensor_dim(t, axis);
}

int64_t lean_engine_io_max_dim(const lean_engine *e, int io, int axis)
{
    return tensor_dim(io_tensor(e, io), axis);
}

uint64_t lean_engine_io_nbytes(const lean_engine *e, int io)
{
    const lean_tensor *t = io_tensor(e, io);
    return t ? t->nbytes : 0;
}

int lean_engine_io_tensor(const lean_engine *e, int io)
{
    return io_tensor(e, io) ? e->io[io] : -1;
}

int lean_engine_num_tensors(const lean_engine *e)
{
    return e ? e->num_tensors : 0;
}

const char *lean_engine_tensor_name(const lean_engine *e, int tensor)
{
    const lean_tensor *t = tensor_at(e, tensor);
    return t ? t->name : NULL;
}

o2p_dtype lean_engine_tensor_dtype(const lean_engine *e, int tensor)
{
    const lean_tensor *t = tensor_at(e, tensor);
    return t ? t->view.dtype : O2P_DTYPE_UNDEFINED;
}

int lean_engine_tensor_rank(const lean_engine *e, int tensor)
{
    const lean_tensor *t = tensor_at(e, tensor);
    return t ? t->view.rank : -1;
}

int64_t lean_engine_tensor_dim(const lean_engine *e, int tensor, int axis)
{
    return tensor_dim(tensor_at(e, tensor), axis);
}

uint32_t lean_engine_tensor_dd_mask(const lean_engine *e, int tensor)
{
    const lean_tensor *t = tensor_at(e, tensor);
    return t ? t->dd_mask : 0;
}

int lean_engine_tensor_shape_tensor(const lean_engine *e, int tensor)
{
    const lean_tensor *t = tensor_at(e, tensor);
    return t && t->dd_mask ? t->shape_tensor : -1;
}

uint64_t lean_engine_tensor_nbytes(const lean_engine *e, int tensor)
{
    const lean_tensor *t = tensor_at(e, tensor);
    return t ? t->nbytes : 0;
}

int lean_engine_tensor_storage(const lean_engine *e, int tensor)
{
    const lean_tensor *t = tensor_at(e, tensor);
    return t ? (int)t->storage : -1;
}

uint64_t lean_engine_tensor_offset(const lean_engine *e, int tensor)
{
    const lean_tensor *t = tensor_at(e, tensor);
    return t ? t->offset : 0;
}

static const lean_layer *layer_at(const lean_engine *e, int layer)
{
    if (!e || layer < 0 || layer >= e->num_layers)
        return NULL;
    return &e->layers[layer];
}

int lean_engine_num_layers(const lean_engine *e)
{
    return e ? e->num_layers : 0;
}

const char *lean_engine_layer_name(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l ? l->name : NULL;
}

const char *lean_engine_layer_op_type(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l ? l->op_type : NULL;
}

int64_t lean_engine_layer_opset(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l ? l->opset : 0;
}

const char *lean_engine_layer_tactic_source(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l ? l->tactic_source : NULL;
}

const char *lean_engine_layer_tactic_kernel(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l ? l->tactic_kernel : NULL;
}

uint32_t lean_engine_layer_smem_bytes(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l ? l->smem_bytes : 0;
}

int lean_engine_layer_arch_specific(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l ? (int)l->arch_specific : 0;
}

int lean_engine_layer_num_inputs(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l ? l->num_inputs : 0;
}

int lean_engine_layer_input(const lean_engine *e, int layer, int index)
{
    const lean_layer *l = layer_at(e, layer);
    return l && index >= 0 && index < l->num_inputs ? l->inputs[index] : -1;
}

int lean_engine_layer_num_outputs(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l ? l->num_outputs : 0;
}

int lean_engine_layer_output(const lean_engine *e, int layer, int index)
{
    const lean_layer *l = layer_at(e, layer);
    return l && index >= 0 && index < l->num_outputs ? l->outputs[index] : -1;
}

int lean_engine_layer_num_attrs(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l ? l->num_attrs : 0;
}

const host_attr *lean_engine_layer_attr(const lean_engine *e, int layer, int index)
{
    const lean_layer *l = layer_at(e, layer);
    return l && index >= 0 && index < l->num_attrs ? &l->attrs[index] : NULL;
}

const char *lean_engine_layer_plugin(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l && l->is_plugin ? l->plugin_name : NULL;
}

const char *lean_engine_layer_plugin_version(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l && l->is_plugin ? l->plugin_version : NULL;
}

const char *lean_engine_layer_plugin_namespace(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l && l->is_plugin ? l->plugin_namespace : NULL;
}

int lean_engine_layer_num_launches(const lean_engine *e, int layer)
{
    const lean_layer *l = layer_at(e, layer);
    return l ? l->num_launches : 0;
}

const lean_launch *lean_engine_layer_launch(const lean_engine *e, int layer, int index)
{
    const lean_layer *l = layer_at(e, layer);
    return l && index >= 0 && index < l->num_launches ? &l->launches[index] : NULL;
}
