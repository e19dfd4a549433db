/* o2p_plugins.c: the entry of libo2p_plugins.so, the bundled plugin library (DESIGN.md §10),
 * registered by default like TensorRT's standard plugins: InstanceNormalization and RoiAlign.
 * The library exports exactly one symbol, the entry O2P_PLUGIN_ENTRY_SYMBOL
 * (o2p_get_plugin_library); everything else is hidden. */
#include "plugin_util.h"

extern const o2p_plugin_creator o2pp_instance_norm_creator O2PP_HIDDEN;
extern const o2p_plugin_creator o2pp_roi_align_creator O2PP_HIDDEN;

static const o2p_plugin_creator *const creators[] = {
    &o2pp_instance_norm_creator,
    &o2pp_roi_align_creator,
};

static const o2p_plugin_library library = {
    .size = sizeof(o2p_plugin_library),
    .abi_major = O2P_PLUGIN_ABI_MAJOR,
    .abi_minor = O2P_PLUGIN_ABI_MINOR,
    .name = "o2p_plugins",
    .num_creators = (int)(sizeof creators / sizeof creators[0]),
    .creators = creators,
};

__attribute__((visibility("default"))) const o2p_plugin_library *
o2p_get_plugin_library(uint32_t host_abi_major);

const o2p_plugin_library *o2p_get_plugin_library(uint32_t host_abi_major)
{
    return host_abi_major == O2P_PLUGIN_ABI_MAJOR ? &library : NULL;
}
