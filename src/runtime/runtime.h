/* runtime.h: the full runtime's internals (DESIGN.md §5, §6): the checks shared by
 * o2p_runtime_* and `onnx2plan check`, and the loader of lean runtime libraries. */
#ifndef O2P_RUNTIME_H
#define O2P_RUNTIME_H

#include "lean/lean_abi.h"
#include "plan/plan.h"

/* A loaded libo2p_lean.so: its handle, table and version; shared by the engines it made. */
typedef struct rt_lean_lib {
    void *handle;
    const o2p_lean_api *api;
    plan_version version;
    char origin[512]; /* "embedded 1.0.0.1 (in-memory file)", "loaded 1.0.0.1 from PATH" */
    int refs;
    int fd; /* the in-memory file it was loaded from, kept open while loaded; -1 if none */
} rt_lean_lib;

struct o2p_runtime {
    int host_code_allowed;
    uint32_t tempfile_flags;
    char *tempdir;
    rt_lean_lib *shim; /* set on runtimes made by o2p_runtime_load_runtime */
};

/* How a plan that passed the checks will run. */
typedef enum rt_route {
    RT_ROUTE_BUILTIN,  /* this library's own lean runtime (same version) */
    RT_ROUTE_EMBEDDED, /* the plan's LEAN_RUNTIME section, loaded */
    RT_ROUTE_SHIM      /* the library given to o2p_runtime_load_runtime */
} rt_route;

/* Called once per check with its name, whether it passed, and a line that explains it. */
typedef void (*rt_report_fn)(void *user, const char *check, int ok, const char *detail);

/* Reads the container and runs every check that applies to this runtime (its host-code,
 * shim settings) and machine. Stops at the first failure (its message is the error); *view
 * is filled when the container is readable, *route says how the plan would run. */
o2p_status rt_check_plan(const o2p_runtime *rt, const void *plan, size_t size, const char *name,
                         plan_view *view, rt_route *route, rt_report_fn report, void *user);

/* Memory this machine can give (bytes), from /proc/meminfo's MemAvailable; 0 if unknown. */
uint64_t rt_available_memory(void);

/* Loads a lean runtime from bytes (a plan's LEAN_RUNTIME section, whose CRC32C is `crc`):
 * through a sealed memfd, else a private temporary file, as the runtime's tempfile flags
 * allow; the CRC32C of the bytes actually written is checked before dlopen. */
o2p_status rt_lean_load_bytes(const o2p_runtime *rt, const void *bytes, size_t size,
                              uint32_t crc, const char *what, rt_lean_lib **out);
/* Writes bytes (a section whose CRC32C is crc) to a sealed memfd or a private temporary file,
 * as the runtime's tempfile flags allow, checks the CRC of what was written and dlopens it;
 * *how says which ("in-memory file", "temporary file"). *fd is the memfd, which must stay
 * open until the library is dlclosed (then closed), or -1. */
o2p_status rt_load_bytes(const o2p_runtime *rt, const void *bytes, size_t size, uint32_t crc,
                         const char *what, void **handle, const char **how, int *fd);
/* Loads a lean runtime library from a path. */
o2p_status rt_lean_load_path(const char *path, rt_lean_lib **out);
void rt_lean_lib_retain(rt_lean_lib *lib);
void rt_lean_lib_release(rt_lean_lib *lib);

#endif
