/* lean_entry.c: the function table of lean_abi.h over this lean runtime. libo2p_lean.so
 * exports its entry (o2p_lean_entry, its only export); libo2p runs plans of its own version
 * through the same table (lean_builtin_api), without exporting the entry. */
#include "lean/lean.h"
#include "lean/lean_abi.h"

static o2p_status engine_create(const void *section, size_t size, const char *what,
                                void **engine)
{
    return lean_engine_create(section, size, what, (lean_engine **)engine);
}

static void engine_destroy(void *e) { lean_engine_destroy(e); }
static uint64_t engine_arena_size(const void *e) { return lean_engine_arena_size(e); }
static int engine_num_io(const void *e) { return lean_engine_num_io(e); }
static const char *engine_io_name(const void *e, int io) { return lean_engine_io_name(e, io); }
static int engine_io_is_input(const void *e, int io)
{
    return lean_engine_io_mode(e, io) == LEAN_IO_INPUT;
}
static o2p_dtype engine_io_dtype(const void *e, int io) { return lean_engine_io_dtype(e, io); }
static int engine_io_rank(const void *e, int io) { return lean_engine_io_rank(e, io); }
static int64_t engine_io_dim(const void *e, int io, int axis)
{
    return lean_engine_io_dim(e, io, axis);
}
static o2p_status context_create(const void *e, void **ctx)
{
    return lean_context_create(e, (lean_context **)ctx);
}
static void context_destroy(void *ctx) { lean_context_destroy(ctx); }
static o2p_status context_set_tensor_address(void *ctx, const char *name, void *address)
{
    return lean_context_set_tensor_address(ctx, name, address);
}
static o2p_status context_execute(void *ctx) { return lean_context_execute(ctx); }
static o2p_status engine_create_ex(const void *section, size_t size, const char *what,
                                   const o2p_plugin_creator *(*plugin_lookup)(
                                       void *user, const char *name, const char *version,
                                       const char *plugin_namespace),
                                   void *user, void **engine)
{
    return lean_engine_create_ex(section, size, what, host_kernel_find, plugin_lookup, user,
                                 (lean_engine **)engine);
}

static o2p_status engine_create_flags(const void *section, size_t size, const char *what,
                                      const o2p_plugin_creator *(*plugin_lookup)(
                                          void *user, const char *name, const char *version,
                                          const char *plugin_namespace),
                                      void *user, uint32_t flags, void **engine)
{
    return lean_engine_create_flags(section, size, what, host_kernel_find, plugin_lookup, user,
                                    flags, (lean_engine **)engine);
}
static uint32_t engine_target(const void *e) { return lean_engine_target(e); }
static uint64_t engine_context_memory(const void *e) { return lean_engine_context_memory(e); }
static int engine_num_images(const void *e) { return lean_engine_num_images(e); }
static o2p_status engine_image(const void *e, int index, const char **family, uint32_t *kind,
                               uint32_t *arch, uint64_t *size)
{
    return lean_engine_image(e, index, family, kind, arch, NULL, size);
}
static o2p_status context_enqueue(void *ctx, void *stream)
{
    return lean_context_enqueue(ctx, stream);
}

static int64_t engine_io_max_dim(const void *e, int io, int axis)
{
    return lean_engine_io_max_dim(e, io, axis);
}
static o2p_status context_get_tensor_shape(void *ctx, const char *name, int *rank, int64_t *dims)
{
    return lean_context_get_tensor_shape(ctx, name, rank, dims);
}

static const o2p_lean_api api = {
    sizeof(o2p_lean_api),
    O2P_LEAN_ABI_VERSION,
    O2P_VERSION_MAJOR,
    O2P_VERSION_MINOR,
    O2P_VERSION_PATCH,
    O2P_VERSION_BUILD,
    o2p_last_error,
    engine_create,
    engine_destroy,
    engine_arena_size,
    engine_num_io,
    engine_io_name,
    engine_io_is_input,
    engine_io_dtype,
    engine_io_rank,
    engine_io_dim,
    context_create,
    context_destroy,
    context_set_tensor_address,
    context_execute,
    engine_create_ex,
    engine_create_flags,
    engine_target,
    engine_context_memory,
    engine_num_images,
    engine_image,
    context_enqueue,
    engine_io_max_dim,
    context_get_tensor_shape,
};

const o2p_lean_api *lean_builtin_api(void)
{
    return &api;
}

#ifdef O2P_LEAN_LIBRARY
__attribute__((visibility("default"))) const o2p_lean_api *o2p_lean_entry(uint32_t caller_abi);

const o2p_lean_api *o2p_lean_entry(uint32_t caller_abi)
{
    return caller_abi == O2P_LEAN_ABI_VERSION ? &api : NULL;
}
#endif
