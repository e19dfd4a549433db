/* runtime.h: the full runtime's internals (DESIGN.md §5, §6): the checks shared by
 * o2p_runtime_* and `onnx2plan check`, and the loader of lean runtime libraries. */
#ifndef O2P_RUNTIME_H
#define O2P_RUNTIME_H

#include "lean/cuda_driver.h"
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

/* Called once per check with its name, whether it passed (1; 0 failed; RT_CHECK_WARNING
 * passed with a warning, e.g. a device property that differs from the build GPU's), and a
 * line that explains it. */
typedef void (*rt_report_fn)(void *user, const char *check, int ok, const char *detail);
#define RT_CHECK_WARNING 2

/* Reads the container and runs every check that applies to this runtime (its host-code,
 * shim settings) and machine. Stops at the first failure (its message is the error); *view
 * is filled when the container is readable, *route says how the plan would run. */
o2p_status rt_check_plan(const o2p_runtime *rt, const void *plan, size_t size, const char *name,
                         plan_view *view, rt_route *route, rt_report_fn report, void *user);

/* The libraries the cuBLAS, cuBLASLt and cuDNN tactic sources need at run time. */
#define RT_LIB_CUBLAS "libcublas.so.13"
#define RT_LIB_CUBLASLT "libcublasLt.so.13"
#define RT_LIB_CUDNN "libcudnn.so.9"

/* Whether a shared library loads (dlopen of soname, closed again): 1 or 0. */
typedef int (*rt_library_probe_fn)(const char *soname);
int rt_library_present(const char *soname);

/* The checks of DESIGN.md §5 between a cuda plan's header and a GPU, over records (no driver
 * call, so tests give synthetic ones): compute capability (hw level none and same-cc: the
 * device's must be one of the plan's; ampere+: sm_80 or newer), the device properties the
 * plan recorded (each difference a warning: o2p_log and a RT_CHECK_WARNING line; none under a
 * hardware-compatibility level or when the plan recorded no build GPU), free device memory
 * against device_memory_size, and the libraries of the plan's tactic sources (probe(soname);
 * NULL: rt_library_present). Every check runs and reports; the result is the first failure's
 * status with its message (naming `what`, the device and what to do), else O2P_OK.
 * *warnings (may be NULL) counts the warnings. */
o2p_status rt_check_device(const plan_header *header, const cuda_device_info *device,
                           const char *what, rt_library_probe_fn probe, rt_report_fn report,
                           void *user, int *warnings);

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
