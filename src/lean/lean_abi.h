/* lean_abi.h: how a runtime talks to a lean runtime library (libo2p_lean.so) it loaded, for
 * example the one embedded in a version-compatible plan (DESIGN.md §6). The library exports
 * exactly one symbol, O2P_LEAN_ENTRY_SYMBOL; called with the caller's ABI version, it returns
 * a size-prefixed table of functions. Within a major version the table only grows: fields
 * are appended, never moved or removed, and a caller uses a field only when `size` covers
 * it. Handles are opaque to the caller. */
#ifndef O2P_LEAN_ABI_H
#define O2P_LEAN_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "o2p/o2p.h"

struct o2p_plugin_creator;

#define O2P_LEAN_ABI_VERSION 1u
#define O2P_LEAN_ENTRY_SYMBOL "o2p_lean_entry"

typedef struct o2p_lean_api {
    uint32_t size;        /* bytes of this table as the library fills it */
    uint32_t abi_version; /* O2P_LEAN_ABI_VERSION of the library */
    /* the onnx2plan version the library was built as */
    uint32_t version_major, version_minor, version_patch, version_build;
    /* the library's own thread-local last error (it has its own copy of the error state) */
    const char *(*last_error)(void);
    o2p_status (*engine_create)(const void *engine_section, size_t size, const char *what,
                                void **engine);
    void (*engine_destroy)(void *engine);
    uint64_t (*engine_arena_size)(const void *engine);
    int (*engine_num_io)(const void *engine);
    const char *(*engine_io_name)(const void *engine, int io);
    int (*engine_io_is_input)(const void *engine, int io);
    o2p_dtype (*engine_io_dtype)(const void *engine, int io);
    int (*engine_io_rank)(const void *engine, int io);
    int64_t (*engine_io_dim)(const void *engine, int io, int axis);
    o2p_status (*context_create)(const void *engine, void **context);
    void (*context_destroy)(void *context);
    o2p_status (*context_set_tensor_address)(void *context, const char *name, void *address);
    o2p_status (*context_execute)(void *context);
    /* Appended (ENGINE format 2): engine_create whose plugin layers find their creators
     * through plugin_lookup(user, name, version, namespace) (NULL when not registered: the
     * create fails naming the plugin). Use only when `size` covers it. */
    o2p_status (*engine_create_ex)(const void *engine_section, size_t size, const char *what,
                                   const struct o2p_plugin_creator *(*plugin_lookup)(
                                       void *user, const char *name, const char *version,
                                       const char *plugin_namespace),
                                   void *user, void **engine);
    /* Appended (ENGINE format 3, the cuda target). Use only when `size` covers them. */
    /* engine_create_ex with flags: LEAN_CREATE_TABLES_ONLY reads and checks every table but
     * loads nothing onto a device and looks up no kernel (inspect and check on a machine
     * without a GPU). */
    o2p_status (*engine_create_flags)(const void *engine_section, size_t size, const char *what,
                                      const struct o2p_plugin_creator *(*plugin_lookup)(
                                          void *user, const char *name, const char *version,
                                          const char *plugin_namespace),
                                      void *user, uint32_t flags, void **engine);
    uint32_t (*engine_target)(const void *engine); /* ENGINE_TARGET_HOST / _CUDA */
    /* Bytes of device memory a context allocates: arena plus workspace. */
    uint64_t (*engine_context_memory)(const void *engine);
    /* Kernel images (cuda): count, and image i's family, kind (0 SASS, 1 PTX), arch and
     * size; 0 / O2P_ERR_INVALID_ARGUMENT when out of range. */
    int (*engine_num_images)(const void *engine);
    o2p_status (*engine_image)(const void *engine, int index, const char **family,
                               uint32_t *kind, uint32_t *arch, uint64_t *size);
    /* Runs the engine: host engines run to completion (stream must be NULL); cuda engines
     * are enqueued on the stream (a CUstream; NULL: the legacy default stream) with device
     * addresses bound by context_set_tensor_address, and return without waiting. */
    o2p_status (*context_enqueue)(void *context, void *stream);
    /* Appended (ENGINE format 6, data-dependent shapes). Use only when `size` covers them;
     * a lean runtime without them has static shapes only (engine_io_dim is the allocation
     * dim, and an output's shape is its engine shape). */
    /* engine_io_dim returns -1 for a data-dependent dim; this one its bound (the dim the
     * tensor is allocated at), and engine_io_dim's value for the others. */
    int64_t (*engine_io_max_dim)(const void *engine, int io, int axis);
    /* An I/O tensor's shape after the last run (lean_context_get_tensor_shape): dims has room
     * for its rank; cuda: valid once the stream of the enqueue is synchronized. */
    o2p_status (*context_get_tensor_shape)(void *context, const char *name, int *rank,
                                           int64_t *dims);
} o2p_lean_api;

/* engine_create_flags flags */
#define LEAN_CREATE_TABLES_ONLY 1u

/* Whether a table of `size` bytes has the field f. */
#define O2P_LEAN_API_HAS(api, f) \
    ((api)->size >= offsetof(o2p_lean_api, f) + sizeof(((o2p_lean_api *)0)->f))

/* The entry: NULL when the caller's ABI major (caller_abi_version) is one this library does
 * not serve. */
typedef const o2p_lean_api *(*o2p_lean_entry_fn)(uint32_t caller_abi_version);

/* The same table over the lean runtime linked into this library (src/lean/lean_entry.c). */
const o2p_lean_api *lean_builtin_api(void);

#endif
