/* arena.c: bump allocation for build-time data, freed in one go; small containers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define ARENA_CHUNK 65536

struct o2p_arena_chunk {
    o2p_arena_chunk *next;
    size_t size;
    _Alignas(64) unsigned char data[];
};

void o2p_arena_init(o2p_arena *arena)
{
    memset(arena, 0, sizeof *arena);
}

void o2p_arena_free(o2p_arena *arena)
{
    o2p_arena_chunk *c = arena->chunks;
    while (c) {
        o2p_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    memset(arena, 0, sizeof *arena);
}

void *o2p_arena_alloc(o2p_arena *arena, size_t size, size_t align)
{
    if (align < 16)
        align = 16;
    if (align > 64 || (align & (align - 1)))
        return NULL;
    o2p_arena_chunk *head = arena->chunks;
    if (head) {
        size_t off = (arena->used_in_head + align - 1) & ~(align - 1);
        if (off <= head->size && size <= head->size - off) {
            arena->used_in_head = off + size;
            memset(head->data + off, 0, size);
            return head->data + off;
        }
    }
    /* A big request gets its own chunk, placed behind the head so the head keeps filling. */
    size_t chunk_size = size > ARENA_CHUNK / 4 ? size : ARENA_CHUNK;
    size_t total;
    if (!o2p_add_size(sizeof(o2p_arena_chunk), chunk_size, &total))
        return NULL;
    o2p_arena_chunk *c = calloc(1, total);
    if (!c)
        return NULL;
    c->size = chunk_size;
    arena->total += chunk_size;
    if (chunk_size != ARENA_CHUNK && head) {
        c->next = head->next;
        head->next = c;
    } else {
        c->next = head;
        arena->chunks = c;
        arena->used_in_head = size;
    }
    return c->data;
}

void *o2p_arena_array(o2p_arena *arena, size_t n, size_t size)
{
    size_t total;
    if (!o2p_mul_size(n, size, &total))
        return NULL;
    return o2p_arena_alloc(arena, total ? total : 1, 16);
}

char *o2p_arena_strndup(o2p_arena *arena, const char *s, size_t n)
{
    char *p = o2p_arena_alloc(arena, n + 1, 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *o2p_arena_strdup(o2p_arena *arena, const char *s)
{
    return o2p_arena_strndup(arena, s ? s : "", s ? strlen(s) : 0);
}

char *o2p_arena_printf(o2p_arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = o2p_arena_alloc(arena, (size_t)n + 1, 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

o2p_status o2p_ptrvec_push(o2p_ptrvec *v, void *item)
{
    if (v->count == v->capacity) {
        int cap = v->capacity ? v->capacity * 2 : 8;
        if (cap <= v->capacity)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (vector of %d items)", v->count);
        void **items = realloc(v->items, (size_t)cap * sizeof *items);
        if (!items)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (vector of %d items)", v->count);
        v->items = items;
        v->capacity = cap;
    }
    v->items[v->count++] = item;
    return O2P_OK;
}

void o2p_ptrvec_free(o2p_ptrvec *v)
{
    free(v->items);
    memset(v, 0, sizeof *v);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ull;
    }
    return h;
}

void *o2p_strmap_get(const o2p_strmap *m, const char *key)
{
    if (!m->capacity)
        return NULL;
    size_t mask = m->capacity - 1;
    for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
        if (!m->keys[i])
            return NULL;
        if (strcmp(m->keys[i], key) == 0)
            return m->values[i];
    }
}

static int strmap_insert(const char **keys, void **values, size_t cap, const char *key, void *value)
{
    size_t mask = cap - 1;
    for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
        if (!keys[i]) {
            keys[i] = key;
            values[i] = value;
            return 1;
        }
        if (strcmp(keys[i], key) == 0) {
            values[i] = value;
            return 0;
        }
    }
}

o2p_status o2p_strmap_put(o2p_strmap *m, const char *key, void *value)
{
    if ((m->count + 1) * 2 > m->capacity) {
        size_t cap = m->capacity ? m->capacity * 2 : 16;
        const char **keys = calloc(cap, sizeof *keys);
        void **values = calloc(cap, sizeof *values);
        if (!keys || !values) {
            free(keys);
            free(values);
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (name table)");
        }
        for (size_t i = 0; i < m->capacity; i++)
            if (m->keys[i])
                strmap_insert(keys, values, cap, m->keys[i], m->values[i]);
        free(m->keys);
        free(m->values);
        m->keys = keys;
        m->values = values;
        m->capacity = cap;
    }
    m->count += (size_t)strmap_insert(m->keys, m->values, m->capacity, key, value);
    return O2P_OK;
}

void o2p_strmap_free(o2p_strmap *m)
{
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}
