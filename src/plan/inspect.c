/* inspect.c: a checked plan's header and sections as text or JSON (`onnx2plan inspect`). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plan/plan.h"

/* snprintf into buf at len, counting what would have been written once buf is full. */
typedef struct out {
    char *buf;
    size_t size;
    size_t len;
} out;

static void put(out *o, const char *fmt, ...) O2P_PRINTF(2, 3);
static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = o->len < o->size ? o->buf + o->len : NULL;
    size_t room = o->len < o->size ? o->size - o->len : 0;
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

typedef const char *(*bit_name_fn)(uint32_t bit);

/* Names of the set bits of mask: "a, b" (text) or "\"a\",\"b\"" (json); unknown bits as hex. */
static void put_bits(out *o, uint32_t mask, bit_name_fn name, int json)
{
    int first = 1;
    for (int b = 0; b < 32; b++) {
        uint32_t bit = 1u << b;
        if (!(mask & bit))
            continue;
        const char *n = name(bit);
        if (json && n)
            put(o, "%s\"%s\"", first ? "" : ",", n);
        else if (json)
            put(o, "%s\"0x%x\"", first ? "" : ",", bit);
        else if (n)
            put(o, "%s%s", first ? "" : ", ", n);
        else
            put(o, "%s0x%x", first ? "" : ", ", bit);
        first = 0;
    }
    if (first && !json)
        put(o, "none");
}

static void format_text(out *o, const plan_view *v)
{
    const plan_header *h = &v->header;
    const char *hw = plan_hw_compat_name(h->hw_compat);
    const char *target = plan_target_name(h->target);
    put(o, "container          version %u, %llu bytes, header CRC32C 0x%08x\n",
        v->container_version, (unsigned long long)v->file_size, v->header_crc32c);
    put(o, "producer           onnx2plan %u.%u.%u.%u\n", h->producer.major, h->producer.minor,
        h->producer.patch, h->producer.build);
    put(o, "flags              ");
    put_bits(o, h->flags, plan_flag_name, 0);
    put(o, "\ntarget             %s", target ? target : "?");
    for (uint32_t i = 0; i < h->compute_cap_count && i < PLAN_MAX_COMPUTE_CAPS; i++)
        put(o, "%ssm_%u", i ? ", " : " ", h->compute_caps[i]);
    put(o, "\nhardware compat    %s\n", hw ? hw : "?");
    static const plan_device_props no_device;
    if (h->target == PLAN_TARGET_CUDA && memcmp(&h->device, &no_device, sizeof no_device) == 0) {
        put(o, "build device       none recorded (built offline for absent GPUs)\n");
    } else if (h->target == PLAN_TARGET_CUDA) {
        const plan_device_props *d = &h->device;
        put(o,
            "build device       %u SMs, %s, memory bus %u bits, L2 %u bytes, shared memory "
            "%u bytes per block and %u per SM, texture alignment %u bytes\n",
            d->multiprocessor_count, d->integrated ? "integrated" : "discrete", d->memory_bus_width,
            d->l2_cache_size, d->shared_mem_per_block, d->shared_mem_per_multiprocessor,
            d->texture_alignment);
    }
    put(o, "device memory      %llu bytes\n", (unsigned long long)h->device_memory_size);
    put(o, "tactic sources     ");
    put_bits(o, h->tactic_sources, plan_tactic_source_name, 0);
    put(o, "\nsections           %u (table at offset %llu, CRC32C 0x%08x)\n", v->section_count,
        (unsigned long long)v->section_table_offset, v->section_table_crc32c);
    if (v->section_count)
        put(o, "  %-3s %-16s %12s %12s %8s %-10s %s\n", "#", "type", "offset", "size", "align",
            "crc32c", "flags");
    for (uint32_t i = 0; i < v->section_count && i < PLAN_MAX_SECTIONS; i++) {
        const plan_section *s = &v->sections[i];
        const char *name = plan_section_type_name(s->type);
        char tb[32];
        if (!name)
            snprintf(tb, sizeof tb, "type %u (skipped)", s->type);
        put(o, "  %-3u %-16s %12llu %12llu %8u 0x%08x %s\n", i, name ? name : tb,
            (unsigned long long)s->offset, (unsigned long long)s->size, s->alignment, s->crc32c,
            (s->flags & PLAN_SECTION_REQUIRED) ? "required" : "-");
    }
}

static void format_json(out *o, const plan_view *v)
{
    const plan_header *h = &v->header;
    const char *hw = plan_hw_compat_name(h->hw_compat);
    const char *target = plan_target_name(h->target);
    const plan_device_props *d = &h->device;
    put(o, "{\"container_version\":%u,\"file_size\":%llu,\"header_crc32c\":\"0x%08x\",",
        v->container_version, (unsigned long long)v->file_size, v->header_crc32c);
    put(o, "\"producer_version\":\"%u.%u.%u.%u\",\"flags\":[", h->producer.major, h->producer.minor,
        h->producer.patch, h->producer.build);
    put_bits(o, h->flags, plan_flag_name, 1);
    put(o, "],\"target\":\"%s\",\"compute_capabilities\":[", target ? target : "?");
    for (uint32_t i = 0; i < h->compute_cap_count && i < PLAN_MAX_COMPUTE_CAPS; i++)
        put(o, "%s%u", i ? "," : "", h->compute_caps[i]);
    put(o, "],\"hardware_compatibility\":\"%s\",", hw ? hw : "?");
    put(o,
        "\"build_device\":{\"memory_bus_width\":%u,\"l2_cache_size\":%u,"
        "\"shared_mem_per_block\":%u,\"shared_mem_per_multiprocessor\":%u,"
        "\"texture_alignment\":%u,\"multiprocessor_count\":%u,\"integrated\":%s},",
        d->memory_bus_width, d->l2_cache_size, d->shared_mem_per_block,
        d->shared_mem_per_multiprocessor, d->texture_alignment, d->multiprocessor_count,
        d->integrated ? "true" : "false");
    put(o, "\"device_memory_size\":%llu,\"tactic_sources\":[",
        (unsigned long long)h->device_memory_size);
    put_bits(o, h->tactic_sources, plan_tactic_source_name, 1);
    put(o, "],\"section_table_offset\":%llu,\"section_table_crc32c\":\"0x%08x\",\"sections\":[",
        (unsigned long long)v->section_table_offset, v->section_table_crc32c);
    for (uint32_t i = 0; i < v->section_count && i < PLAN_MAX_SECTIONS; i++) {
        const plan_section *s = &v->sections[i];
        const char *name = plan_section_type_name(s->type);
        put(o, "%s{\"index\":%u,\"type\":", i ? "," : "", i);
        if (name)
            put(o, "\"%s\"", name);
        else
            put(o, "null");
        put(o,
            ",\"type_id\":%u,\"required\":%s,\"offset\":%llu,\"size\":%llu,\"alignment\":%u,"
            "\"crc32c\":\"0x%08x\"}",
            s->type, (s->flags & PLAN_SECTION_REQUIRED) ? "true" : "false",
            (unsigned long long)s->offset, (unsigned long long)s->size, s->alignment, s->crc32c);
    }
    put(o, "]}");
}

size_t plan_format(const plan_view *view, plan_format_style style, char *buf, size_t size)
{
    out o = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    if (style == PLAN_FORMAT_JSON)
        format_json(&o, view);
    else
        format_text(&o, view);
    return o.len;
}
