/* api.c: the public builder and builder-config API over build_engine_create and the plan
 * writers. */
#include <stdlib.h>
#include <string.h>

#include "builder/builder.h"
#include "plan/engine_writer.h"
#include "plan/plan.h"

struct o2p_builder {
    int unused;
};

typedef struct profile_entry {
    char *input;
    int rank;
    int64_t dims[O2P_MAX_RANK];
} profile_entry;

struct o2p_builder_config {
    profile_entry *profiles;
    int num_profiles;
    unsigned flags;
    o2p_hardware_compatibility hw;
    uint32_t tactic_sources;
    o2p_target target;
    uint64_t workspace_limit;
    int verbose;
};

o2p_status o2p_builder_create(o2p_builder **out)
{
    if (!out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_builder_create: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? O2P_OK : o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating a builder");
}

void o2p_builder_destroy(o2p_builder *builder)
{
    free(builder);
}

o2p_status o2p_builder_config_create(o2p_builder_config **out)
{
    if (!out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_builder_config_create: out is NULL");
    o2p_builder_config *c = calloc(1, sizeof *c);
    if (!c)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating a builder config");
    c->flags = 1u << O2P_FLAG_TF32;
    c->hw = O2P_HW_COMPAT_NONE;
    c->tactic_sources = O2P_TACTIC_SOURCE_BUILTIN;
    c->target = O2P_TARGET_HOST;
    *out = c;
    return O2P_OK;
}

void o2p_builder_config_destroy(o2p_builder_config *config)
{
    if (!config)
        return;
    for (int i = 0; i < config->num_profiles; i++)
        free(config->profiles[i].input);
    free(config->profiles);
    free(config);
}

o2p_status o2p_builder_config_add_optimization_profile(o2p_builder_config *c, const char *input,
                                                       int rank, const int64_t *min,
                                                       const int64_t *opt, const int64_t *max)
{
    if (!c || !input || rank < 0 || rank > O2P_MAX_RANK || (rank && (!min || !opt || !max)))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "optimization profile: bad input name, rank "
                        "or shapes");
    for (int i = 0; i < rank; i++) {
        if (min[i] < 0 || opt[i] < min[i] || max[i] < opt[i])
            return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                            "optimization profile for '%s': axis %d needs 0 <= min <= opt <= max, "
                            "got %lld, %lld, %lld", input, i, (long long)min[i],
                            (long long)opt[i], (long long)max[i]);
        if (min[i] != max[i])
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "optimization profile for '%s': axis %d ranges from %lld to %lld; "
                            "plans of onnx2plan %s have static shapes (give min = opt = max)",
                            input, i, (long long)min[i], (long long)max[i], o2p_version());
    }
    profile_entry *n = realloc(c->profiles, (size_t)(c->num_profiles + 1) * sizeof *n);
    if (!n)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    c->profiles = n;
    profile_entry *p = &c->profiles[c->num_profiles];
    memset(p, 0, sizeof *p);
    if (!(p->input = strdup(input)))
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    p->rank = rank;
    if (rank)
        memcpy(p->dims, opt, (size_t)rank * sizeof(int64_t));
    c->num_profiles++;
    return O2P_OK;
}

o2p_status o2p_builder_config_set_plugins_to_serialize(o2p_builder_config *c,
                                                       const char *const *paths, int count)
{
    if (!c || count < 0 || (count && !paths))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_builder_config_set_plugins_to_serialize: "
                        "bad argument");
    if (count)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "plugin libraries (--serialize-plugins) are not "
                        "supported yet in onnx2plan %s", o2p_version());
    return O2P_OK;
}

o2p_status o2p_builder_config_set_flag(o2p_builder_config *c, o2p_builder_flag flag, int on)
{
    if (!c || (unsigned)flag > O2P_FLAG_STRICT_TYPES)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_builder_config_set_flag: bad config or "
                        "flag %d", (int)flag);
    static const char *const later[] = {
        [O2P_FLAG_VERSION_COMPATIBLE] = "version-compatible plans (--version-compatible)",
        [O2P_FLAG_EXCLUDE_LEAN_RUNTIME] = "excluding the lean runtime (--exclude-lean-runtime)",
        [O2P_FLAG_FP16] = "fp16 precision (--fp16)",
        [O2P_FLAG_BF16] = "bf16 precision (--bf16)",
        [O2P_FLAG_STRICT_TYPES] = "strict types",
    };
    /* TF32 only changes GPU math: it is a no-op request on the host target, so both
     * settings are accepted and recorded. */
    if (on && flag != O2P_FLAG_TF32)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "%s: not supported yet in onnx2plan %s",
                        later[flag], o2p_version());
    if (on)
        c->flags |= 1u << flag;
    else
        c->flags &= ~(1u << flag);
    return O2P_OK;
}

int o2p_builder_config_get_flag(const o2p_builder_config *c, o2p_builder_flag flag)
{
    return c && (unsigned)flag <= O2P_FLAG_STRICT_TYPES && ((c->flags >> flag) & 1u);
}

o2p_status o2p_builder_config_set_hardware_compatibility_level(o2p_builder_config *c,
                                                                o2p_hardware_compatibility level)
{
    if (!c || (unsigned)level > O2P_HW_COMPAT_SAME_COMPUTE_CAPABILITY)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "hardware compatibility level %d is not one "
                        "of none, ampere+, same-cc", (int)level);
    if (level != O2P_HW_COMPAT_NONE)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "hardware compatibility levels (--hw-compat) apply "
                        "to the cuda target, which is not supported yet in onnx2plan %s",
                        o2p_version());
    c->hw = level;
    return O2P_OK;
}

o2p_status o2p_builder_config_set_tactic_sources(o2p_builder_config *c, uint32_t sources)
{
    if (!c || (sources & ~0xFu))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "tactic sources 0x%x: unknown bits",
                        (unsigned)sources);
    if (sources & ~(uint32_t)O2P_TACTIC_SOURCE_BUILTIN)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "the cublas, cublaslt and cudnn tactic sources "
                        "come with the cuda target, which is not supported yet in onnx2plan %s",
                        o2p_version());
    c->tactic_sources = sources;
    return O2P_OK;
}

o2p_status o2p_builder_config_set_target(o2p_builder_config *c, o2p_target target,
                                         const int *compute_caps, int count)
{
    if (!c || (unsigned)target > O2P_TARGET_CUDA)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "target %d is not host or cuda", (int)target);
    if (target == O2P_TARGET_CUDA)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "the cuda target is not supported yet in onnx2plan "
                        "%s; build with --target host", o2p_version());
    if (count != 0 || compute_caps)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "the host target takes no compute capabilities");
    c->target = target;
    return O2P_OK;
}

o2p_status o2p_builder_config_set_workspace_limit(o2p_builder_config *c, uint64_t bytes)
{
    if (!c)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_builder_config_set_workspace_limit: "
                        "config is NULL");
    c->workspace_limit = bytes;
    return O2P_OK;
}

o2p_status o2p_builder_config_set_verbose(o2p_builder_config *c, int on)
{
    if (!c)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_builder_config_set_verbose: config is "
                        "NULL");
    c->verbose = on != 0;
    return O2P_OK;
}

o2p_status o2p_builder_build_serialized(o2p_builder *builder, o2p_network *network,
                                        const o2p_builder_config *config, void **plan,
                                        size_t *size)
{
    if (!builder || !network || !config || !plan || !size)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_builder_build_serialized: an argument "
                        "is NULL");
    *plan = NULL;
    *size = 0;
    /* Profiles fix their inputs' shapes (static in this version). */
    for (int i = 0; i < config->num_profiles; i++) {
        const profile_entry *p = &config->profiles[i];
        o2p_tensor *t = NULL;
        o2p_graph *g = o2p_network_get_graph(network);
        for (int k = 0; k < o2p_graph_num_inputs(g); k++)
            if (strcmp(o2p_tensor_get_name(o2p_graph_get_input(g, k)), p->input) == 0)
                t = o2p_graph_get_input(g, k);
        if (!t)
            return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                            "optimization profile names '%s', which is not a network input",
                            p->input);
        O2P_TRY(o2p_tensor_set_shape(t, p->rank, p->dims));
    }
    build_options opt = {BUILD_TARGET_HOST, config->tactic_sources, config->workspace_limit,
                         config->verbose};
    build_engine e;
    O2P_TRY(build_engine_create(network, &opt, &e));
    uint8_t *engine_bytes = NULL;
    size_t engine_size = 0;
    o2p_status st = plan_write_engine(&e, &engine_bytes, &engine_size);
    if (st == O2P_OK) {
        plan_header h;
        plan_header_init(&h);
        h.target = PLAN_TARGET_HOST;
        h.hw_compat = PLAN_HW_COMPAT_NONE;
        h.device_memory_size = e.arena_size;
        h.tactic_sources = PLAN_TACTIC_BUILTIN;
        plan_section_desc sec = {PLAN_SECTION_ENGINE, PLAN_SECTION_REQUIRED, 0, engine_bytes,
                                 engine_size};
        uint8_t *bytes = NULL;
        st = plan_write_alloc(&h, &sec, 1, &bytes, size);
        *plan = bytes;
    }
    free(engine_bytes);
    build_engine_free(&e);
    return st;
}

void o2p_free(void *ptr)
{
    free(ptr);
}
