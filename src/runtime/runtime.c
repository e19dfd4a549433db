/* runtime.c: the full runtime: the plan container, the compatibility checks of DESIGN.md §5,
 * then the lean runtime; the public o2p_runtime / o2p_engine / o2p_context API over it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "o2p/plugin.h"
#include "plan/engine_format.h"
#ifndef O2P_DISPATCH
#include "ir/ir.h"
#endif

uint64_t rt_available_memory(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return (uint64_t)kb * 1024u;
}

static void report(rt_report_fn fn, void *user, const char *check, int ok, const char *fmt, ...)
    O2P_PRINTF(5, 6);

static void report(rt_report_fn fn, void *user, const char *check, int ok, const char *fmt, ...)
{
    if (!fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn(user, check, ok, msg);
}

static void version_text(plan_version v, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u.%u", v.major, v.minor, v.patch, v.build);
}

#ifdef O2P_DISPATCH
#define HAVE_BUILTIN 0
#else
#define HAVE_BUILTIN 1
#endif

o2p_status rt_check_plan(const o2p_runtime *rt, const void *plan, size_t size, const char *name,
                         plan_view *view, rt_route *route, rt_report_fn fn, void *user)
{
    const char *what = name ? name : "plan";
    o2p_status st = plan_read(plan, size, what, view);
    if (st != O2P_OK) {
        report(fn, user, "container", 0, "%s", o2p_last_error());
        return st;
    }
    report(fn, user, "container", 1, "format version %u, %u section%s, every checksum right",
           view->container_version, view->section_count, view->section_count == 1 ? "" : "s");

    const plan_header *h = &view->header;
    plan_version me = plan_this_version();
    char pv[64], mv[64];
    version_text(h->producer, pv, sizeof pv);
    version_text(me, mv, sizeof mv);
    int vc = (h->flags & PLAN_FLAG_VERSION_COMPATIBLE) != 0;
    int cmp = plan_version_cmp(h->producer, me);
    if (!vc) {
        if (cmp > 0) {
            report(fn, user, "version", 0, "standard plan built by %s, newer than this runtime "
                   "(%s)", pv, mv);
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "%s: the plan was built by onnx2plan %s, newer than this runtime "
                            "(%s); a standard plan runs only on the version that built it: run "
                            "it with onnx2plan %s, or rebuild it with this one",
                            what, pv, mv, pv);
        }
        if (cmp != 0) {
            report(fn, user, "version", 0, "standard plan built by %s, this runtime is %s", pv,
                   mv);
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "%s: the plan was built by onnx2plan %s and this runtime is %s; a "
                            "standard plan runs only on the version that built it: rebuild it "
                            "with onnx2plan %s, or build it with --version-compatible "
                            "(O2P_FLAG_VERSION_COMPATIBLE) so that newer runtimes run it",
                            what, pv, mv, mv);
        }
        if (!HAVE_BUILTIN) {
            report(fn, user, "version", 0, "standard plan; this runtime runs version-compatible "
                   "plans only");
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "%s: a standard plan; the dispatch runtime (libo2p_dispatch) runs "
                            "version-compatible plans only: use libo2p, or build the plan with "
                            "--version-compatible",
                            what);
        }
        report(fn, user, "version", 1, "built by %s, the same as this runtime", pv);
        *route = RT_ROUTE_BUILTIN;
    } else {
        /* A version-compatible plan runs on a runtime of its major that is not older, or of
         * the next major (TensorRT 8 plans on TensorRT 9). */
        int same_major = h->producer.major == me.major;
        int next_major = (unsigned)h->producer.major + 1 == me.major;
        if (cmp > 0) {
            report(fn, user, "version", 0, "built by %s, newer than this runtime (%s)", pv, mv);
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "%s: the plan was built by onnx2plan %s, newer than this runtime "
                            "(%s); run it with onnx2plan %s or newer",
                            what, pv, mv, pv);
        }
        if (!same_major && !next_major) {
            report(fn, user, "version", 0, "built by %s: major %u, this runtime's major is %u",
                   pv, h->producer.major, me.major);
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "%s: the version-compatible plan was built by onnx2plan %s (major "
                            "%u); this runtime is %s (major %u), and such plans run on their own "
                            "major and the next one only: rebuild it",
                            what, pv, h->producer.major, mv, me.major);
        }
        report(fn, user, "version", 1, "version-compatible plan from %s, runs on %s", pv, mv);
        if (rt && rt->shim) {
            if (plan_version_cmp(rt->shim->version, h->producer) != 0) {
                char lv[64];
                version_text(rt->shim->version, lv, sizeof lv);
                report(fn, user, "lean runtime", 0, "%s, the plan needs %s", rt->shim->origin,
                       pv);
                return o2p_fail(O2P_ERR_UNSUPPORTED,
                                "%s: the plan needs the lean runtime of onnx2plan %s and the one "
                                "given (%s) is %s",
                                what, pv, rt->shim->origin, lv);
            }
            report(fn, user, "lean runtime", 1, "%s", rt->shim->origin);
            *route = RT_ROUTE_SHIM;
        } else if (cmp == 0 && HAVE_BUILTIN) {
            report(fn, user, "lean runtime", 1, "built-in %s (the plan's own version)", mv);
            *route = RT_ROUTE_BUILTIN;
        } else if (h->flags & PLAN_FLAG_LEAN_RUNTIME_EXCLUDED) {
            report(fn, user, "lean runtime", 0, "built without one (--exclude-lean-runtime)");
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "%s: the plan was built with --exclude-lean-runtime: give it the lean "
                            "runtime of onnx2plan %s (libo2p_lean.so) with "
                            "o2p_runtime_load_runtime (CLI --load-runtime LIB)",
                            what, pv);
        } else if (!rt || !rt->host_code_allowed) {
            report(fn, user, "host code", 0, "the plan carries its lean runtime (host code), "
                   "which is not allowed");
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "%s: the version-compatible plan from onnx2plan %s runs through the "
                            "lean runtime it carries, which is host code: allow it with "
                            "o2p_runtime_set_engine_host_code_allowed(runtime, 1) (CLI "
                            "--allow-host-code) if you trust the plan",
                            what, pv);
        } else {
            report(fn, user, "lean runtime", 1, "embedded %s, host code allowed", pv);
            *route = RT_ROUTE_EMBEDDED;
        }
    }

    int cuda = h->target == PLAN_TARGET_CUDA;
#ifndef O2P_DISPATCH
    cuda_device_info dev;
    if (cuda && cuda_device_query(0, &dev) != O2P_OK) {
        char why[700];
        snprintf(why, sizeof why, "%s", o2p_last_error());
        report(fn, user, "target", 0, "a cuda plan, and no usable NVIDIA GPU here: %s", why);
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "%s: the plan is for the cuda target and this machine has no usable "
                        "NVIDIA GPU or driver (%s); `onnx2plan check %s` shows what the plan "
                        "needs; to run here, build the model with --target host",
                        what, why, what);
    }
    if (cuda)
        report(fn, user, "target", 1, "cuda: device %d, %s (sm_%d), driver %d.%d", dev.ordinal,
               dev.name, dev.compute_cap, dev.driver_version / 1000,
               dev.driver_version % 1000 / 10);
#else
    /* The dispatch runtime has no CUDA driver loader or device checks (libo2p has). */
    if (cuda) {
        report(fn, user, "target", 0, "a cuda plan; the dispatch runtime runs host plans only");
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "%s: a cuda plan; the dispatch runtime (libo2p_dispatch) does not check "
                        "plans against a GPU: use libo2p",
                        what);
    }
#endif
    if (!cuda && h->target != PLAN_TARGET_HOST) {
        report(fn, user, "target", 0, "target %u, unknown to this runtime", (unsigned)h->target);
        return o2p_fail(O2P_ERR_UNSUPPORTED, "%s: target %u is unknown to this runtime (%s)",
                        what, (unsigned)h->target, mv);
    }
    if (!cuda)
        report(fn, user, "target", 1, "host: the reference kernels run on any machine");

    if (plan_find_section(view, PLAN_SECTION_PLUGIN_LIBRARY, 0) >= 0) {
        if (!HAVE_BUILTIN) {
            report(fn, user, "plugins", 0, "the plan carries plugin libraries");
            return o2p_fail(O2P_ERR_UNSUPPORTED, "%s: the plan carries plugin libraries, which "
                            "the dispatch runtime does not load; use libo2p", what);
        }
        if (!rt || !rt->host_code_allowed) {
            report(fn, user, "plugins", 0, "the plan carries plugin libraries (host code), "
                   "which is not allowed");
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "%s: the plan carries plugin libraries, which are host code: allow "
                            "them with o2p_runtime_set_engine_host_code_allowed(runtime, 1) (CLI "
                            "--allow-host-code) if you trust the plan",
                            what);
        }
        report(fn, user, "plugins", 1, "carries plugin libraries, host code allowed");
    }

    if (plan_find_section(view, PLAN_SECTION_ENGINE, 0) < 0) {
        report(fn, user, "engine", 0, "no ENGINE section");
        return o2p_fail(O2P_ERR_PARSE, "%s: the plan has no ENGINE section; rebuild it", what);
    }

#ifndef O2P_DISPATCH
    if (cuda)
        return rt_check_device(h, &dev, what, NULL, fn, user, NULL);
#endif

    if (h->tactic_sources & ~(uint32_t)PLAN_TACTIC_BUILTIN) {
        report(fn, user, "tactic sources", 0, "the plan needs libraries this runtime lacks");
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "%s: the plan uses tactic sources (cublas/cublaslt/cudnn) that a host "
                        "runtime cannot load; rebuild with --target host",
                        what);
    }
    report(fn, user, "tactic sources", 1, "builtin kernels only");

    uint64_t avail = rt_available_memory();
    if (avail && h->device_memory_size > avail) {
        report(fn, user, "memory", 0, "needs %llu bytes, %llu available",
               (unsigned long long)h->device_memory_size, (unsigned long long)avail);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY,
                        "%s: the engine needs %llu bytes of memory for activations per context "
                        "and this machine has %llu available; free memory or use a machine "
                        "with more",
                        what, (unsigned long long)h->device_memory_size,
                        (unsigned long long)avail);
    }
    report(fn, user, "memory", 1, "needs %llu bytes per context, %llu available",
           (unsigned long long)h->device_memory_size, (unsigned long long)avail);
    return O2P_OK;
}

struct o2p_engine {
    o2p_plugin_registry *plugins; /* the plan's embedded plugin libraries, or NULL */
    int plugin_fds[PLAN_MAX_SECTIONS]; /* their in-memory files, closed after the registry */
    int num_plugin_fds;
    const o2p_lean_api *api; /* the lean runtime that runs it */
    rt_lean_lib *lib;        /* the loaded library behind api, or NULL for the built-in one */
    void *handle;            /* the engine inside that lean runtime */
    plan_target target;      /* the plan's (the lean runtime's engine agrees) */
    char lean_runtime[600];
};

struct o2p_context {
    o2p_engine *engine;
    void *handle;
};

/* Copies the lean runtime's own last error into ours (a loaded library has its own). */
static o2p_status lean_status(const o2p_engine *e, o2p_status st)
{
    if (st != O2P_OK && e->lib)
        o2p_fail(st, "%s", e->api->last_error());
    return st;
}

o2p_status o2p_runtime_create(o2p_runtime **out)
{
    if (!out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_runtime_create: out is NULL");
    o2p_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating a runtime");
    rt->tempfile_flags = O2P_TEMPFILE_ALLOW_IN_MEMORY_FILES | O2P_TEMPFILE_ALLOW_TEMPORARY_FILES;
    *out = rt;
    return O2P_OK;
}

void o2p_runtime_destroy(o2p_runtime *runtime)
{
    if (!runtime)
        return;
    rt_lean_lib_release(runtime->shim);
    free(runtime->tempdir);
    free(runtime);
}

o2p_status o2p_runtime_set_engine_host_code_allowed(o2p_runtime *runtime, int allowed)
{
    if (!runtime)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "runtime is NULL");
    runtime->host_code_allowed = allowed != 0;
    return O2P_OK;
}

o2p_status o2p_runtime_set_tempfile_control_flags(o2p_runtime *runtime, uint32_t flags)
{
    if (!runtime || (flags & ~3u))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "tempfile control flags 0x%x: unknown bits",
                        (unsigned)flags);
    runtime->tempfile_flags = flags;
    return O2P_OK;
}

o2p_status o2p_runtime_set_temporary_directory(o2p_runtime *runtime, const char *path)
{
    if (!runtime)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "runtime is NULL");
    char *copy = NULL;
    if (path && !(copy = strdup(path)))
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    free(runtime->tempdir);
    runtime->tempdir = copy;
    return O2P_OK;
}

o2p_status o2p_runtime_load_runtime(o2p_runtime *runtime, const char *path, o2p_runtime **shim)
{
    if (!runtime || !path || !shim)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_runtime_load_runtime: bad argument");
    *shim = NULL;
    rt_lean_lib *lib;
    O2P_TRY(rt_lean_load_path(path, &lib));
    o2p_status st = o2p_runtime_create(shim);
    if (st != O2P_OK) {
        rt_lean_lib_release(lib);
        return st;
    }
    (*shim)->host_code_allowed = runtime->host_code_allowed;
    (*shim)->tempfile_flags = runtime->tempfile_flags;
    if (runtime->tempdir && !((*shim)->tempdir = strdup(runtime->tempdir))) {
        rt_lean_lib_release(lib);
        o2p_runtime_destroy(*shim);
        *shim = NULL;
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    }
    (*shim)->shim = lib;
    return O2P_OK;
}

o2p_status o2p_runtime_check(o2p_runtime *runtime, const void *plan, size_t size,
                             const char *name)
{
    if (!runtime || (!plan && size))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_runtime_check: bad argument");
    plan_view *view = malloc(sizeof *view);
    if (!view)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    rt_route route;
    o2p_status st = rt_check_plan(runtime, plan, size, name, view, &route, NULL, NULL);
    free(view);
    return st;
}

/* How a plan's plugin layers find their creators: the default registry (the bundled plugin
 * library and every one registered with --plugins / o2p_plugin_registry_load_library). The
 * dispatch runtime has no registry. A lean runtime older than engine_create_ex refuses plans
 * with plugin layers itself (their ENGINE format is newer than its). */
static const o2p_plugin_creator *rt_plugin_lookup(void *user, const char *name,
                                                  const char *version,
                                                  const char *plugin_namespace)
{
#ifdef O2P_DISPATCH
    (void)user, (void)name, (void)version, (void)plugin_namespace;
    return NULL;
#else
    /* the plugin libraries the plan carries first, then the default registry */
    const o2p_plugin_registry *embedded = user;
    const o2p_plugin_creator *c =
        embedded ? ir_plugin_find_creator(embedded, name, version, plugin_namespace) : NULL;
    return c ? c : ir_plugin_find_creator(o2p_default_plugin_registry(), name, version,
                                          plugin_namespace);
#endif
}

/* The plan's PLUGIN_LIBRARY sections (host code: rt_check_plan has checked the gate), loaded
 * like the lean runtime and registered in a registry of the engine's own. */
static o2p_status load_plugin_sections(o2p_runtime *runtime, const plan_view *view,
                                       const char *name, o2p_engine *e)
{
    if (plan_find_section(view, PLAN_SECTION_PLUGIN_LIBRARY, 0) < 0)
        return O2P_OK;
#ifdef O2P_DISPATCH
    (void)runtime, (void)e;
    return o2p_fail(O2P_ERR_UNSUPPORTED, "%s: the plan carries plugin libraries, which the "
                    "dispatch runtime does not load; use libo2p", name);
#else
    O2P_TRY(o2p_plugin_registry_create(&e->plugins));
    for (int i = plan_find_section(view, PLAN_SECTION_PLUGIN_LIBRARY, 0); i >= 0;
         i = plan_find_section(view, PLAN_SECTION_PLUGIN_LIBRARY, i + 1)) {
        const plan_section *s = &view->sections[i];
        void *handle = NULL;
        const char *how = NULL;
        int fd = -1;
        O2P_TRY(rt_load_bytes(runtime, s->data, (size_t)s->size, s->crc32c, name, &handle, &how,
                              &fd));
        if (fd >= 0)
            e->plugin_fds[e->num_plugin_fds++] = fd;
        char origin[256];
        snprintf(origin, sizeof origin, "%s: plugin library of section %d (%s)", name, i, how);
        O2P_TRY(ir_plugin_registry_add_handle(e->plugins, handle, origin));
    }
    return O2P_OK;
#endif
}

static o2p_status deserialize(o2p_runtime *runtime, const void *plan, size_t size,
                              const char *name, o2p_engine **out)
{
    if (!runtime || !out || (!plan && size))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_runtime_deserialize: bad argument");
    *out = NULL;
    plan_view *view = malloc(sizeof *view);
    o2p_engine *e = calloc(1, sizeof *e);
    if (!view || !e) {
        free(view);
        free(e);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    }
    rt_route route = RT_ROUTE_BUILTIN;
    o2p_status st = rt_check_plan(runtime, plan, size, name, view, &route, NULL, NULL);
    if (st == O2P_OK) {
        char pv[64];
        version_text(view->header.producer, pv, sizeof pv);
        switch (route) {
        case RT_ROUTE_BUILTIN:
#ifdef O2P_DISPATCH
            st = o2p_fail(O2P_ERR_INTERNAL, "plan: no built-in lean runtime in the dispatch "
                          "runtime");
#else
            e->api = lean_builtin_api();
            snprintf(e->lean_runtime, sizeof e->lean_runtime, "built-in %s", pv);
#endif
            break;
        case RT_ROUTE_SHIM:
            e->lib = runtime->shim;
            rt_lean_lib_retain(e->lib);
            break;
        case RT_ROUTE_EMBEDDED: {
            const plan_section *ls =
                &view->sections[plan_find_section(view, PLAN_SECTION_LEAN_RUNTIME, 0)];
            st = rt_lean_load_bytes(runtime, ls->data, (size_t)ls->size, ls->crc32c, name,
                                    &e->lib);
            if (st == O2P_OK && plan_version_cmp(e->lib->version, view->header.producer) != 0)
                st = o2p_fail(O2P_ERR_PARSE, "%s: its embedded lean runtime says it is %u.%u.%u.%u "
                              "but the plan was built by %s; the plan is damaged: rebuild it",
                              name, e->lib->version.major, e->lib->version.minor,
                              e->lib->version.patch, e->lib->version.build, pv);
            break;
        }
        }
        if (st == O2P_OK && e->lib) {
            e->api = e->lib->api;
            snprintf(e->lean_runtime, sizeof e->lean_runtime, "%s", e->lib->origin);
        }
        if (st == O2P_OK)
            st = load_plugin_sections(runtime, view, name, e);
        if (st == O2P_OK) {
            const plan_section *es =
                &view->sections[plan_find_section(view, PLAN_SECTION_ENGINE, 0)];
            e->target = view->header.target;
            if (O2P_LEAN_API_HAS(e->api, engine_create_flags))
                st = lean_status(e, e->api->engine_create_flags(es->data, (size_t)es->size,
                                                                name, rt_plugin_lookup,
                                                                e->plugins, 0, &e->handle));
            else if (O2P_LEAN_API_HAS(e->api, engine_create_ex))
                st = lean_status(e, e->api->engine_create_ex(es->data, (size_t)es->size, name,
                                                             rt_plugin_lookup, e->plugins,
                                                             &e->handle));
            else
                st = lean_status(e, e->api->engine_create(es->data, (size_t)es->size, name,
                                                          &e->handle));
            /* A lean runtime that reads the section as another target than the header says
             * would run it wrongly (a lean runtime without engine_target reads host only). */
            uint32_t engine_target = ENGINE_TARGET_HOST;
            if (st == O2P_OK && O2P_LEAN_API_HAS(e->api, engine_target))
                engine_target = e->api->engine_target(e->handle);
            if (st == O2P_OK &&
                engine_target != (e->target == PLAN_TARGET_CUDA ? ENGINE_TARGET_CUDA
                                                                : ENGINE_TARGET_HOST))
                st = o2p_fail(O2P_ERR_PARSE, "%s: the header says the plan is for the %s target "
                              "and its ENGINE section is for target %u: the plan is damaged; "
                              "rebuild it", name, plan_target_name(e->target),
                              (unsigned)engine_target);
            /* The memory check ran on the header's figure: the engine may not need more than
             * that (a forged header would otherwise pass the check and the context would then
             * ask for any amount). */
            if (st == O2P_OK) {
                uint64_t need = o2p_engine_device_memory_size(e);
                if (need > view->header.device_memory_size)
                    st = o2p_fail(O2P_ERR_PARSE,
                                  "%s: the header says the engine needs %llu bytes of memory per "
                                  "context and its ENGINE section asks for %llu: the plan is "
                                  "damaged or forged; rebuild it",
                                  name, (unsigned long long)view->header.device_memory_size,
                                  (unsigned long long)need);
            }
        }
    }
    free(view);
    if (st != O2P_OK) {
        o2p_engine_destroy(e); /* what was loaded so far: libraries, in-memory files */
        return st;
    }
    *out = e;
    return O2P_OK;
}

o2p_status o2p_runtime_deserialize(o2p_runtime *runtime, const void *plan, size_t size,
                                   o2p_engine **out)
{
    return deserialize(runtime, plan, size, "plan", out);
}

o2p_status o2p_runtime_deserialize_file(o2p_runtime *runtime, const char *path, o2p_engine **out)
{
    if (!runtime || !path || !out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_runtime_deserialize_file: bad argument");
    void *bytes;
    size_t size;
    O2P_TRY(o2p_read_file(path, (size_t)1 << 40, &bytes, &size));
    o2p_status st = deserialize(runtime, bytes, size, path, out);
    free(bytes);
    return st;
}

void o2p_engine_destroy(o2p_engine *engine)
{
    if (!engine)
        return;
    if (engine->handle)
        engine->api->engine_destroy(engine->handle);
#ifndef O2P_DISPATCH
    o2p_plugin_registry_destroy(engine->plugins);
#endif
    for (int i = 0; i < engine->num_plugin_fds; i++)
        close(engine->plugin_fds[i]);
    rt_lean_lib_release(engine->lib);
    free(engine);
}

const char *o2p_engine_lean_runtime(const o2p_engine *e)
{
    return e ? e->lean_runtime : NULL;
}

int o2p_engine_num_io_tensors(const o2p_engine *e)
{
    return e ? e->api->engine_num_io(e->handle) : 0;
}
const char *o2p_engine_io_name(const o2p_engine *e, int i)
{
    return e ? e->api->engine_io_name(e->handle, i) : NULL;
}
int o2p_engine_io_is_input(const o2p_engine *e, int i)
{
    return e && e->api->engine_io_is_input(e->handle, i);
}
o2p_dtype o2p_engine_io_dtype(const o2p_engine *e, int i)
{
    return e ? e->api->engine_io_dtype(e->handle, i) : O2P_DTYPE_UNDEFINED;
}
int o2p_engine_io_rank(const o2p_engine *e, int i)
{
    return e ? e->api->engine_io_rank(e->handle, i) : -1;
}
int64_t o2p_engine_io_dim(const o2p_engine *e, int i, int axis)
{
    return e ? e->api->engine_io_dim(e->handle, i, axis) : -1;
}
int64_t o2p_engine_io_max_dim(const o2p_engine *e, int i, int axis)
{
    if (!e)
        return -1;
    /* a lean runtime older than data-dependent shapes has static dims only */
    if (O2P_LEAN_API_HAS(e->api, engine_io_max_dim))
        return e->api->engine_io_max_dim(e->handle, i, axis);
    return e->api->engine_io_dim(e->handle, i, axis);
}
int o2p_engine_find_io(const o2p_engine *e, const char *name)
{
    if (!e || !name)
        return -1;
    for (int i = 0; i < o2p_engine_num_io_tensors(e); i++)
        if (strcmp(o2p_engine_io_name(e, i), name) == 0)
            return i;
    return -1;
}
uint64_t o2p_engine_device_memory_size(const o2p_engine *e)
{
    if (!e)
        return 0;
    /* cuda contexts keep a workspace after the arena */
    if (e->target == PLAN_TARGET_CUDA && O2P_LEAN_API_HAS(e->api, engine_context_memory))
        return e->api->engine_context_memory(e->handle);
    return e->api->engine_arena_size(e->handle);
}
o2p_target o2p_engine_target(const o2p_engine *e)
{
    return e && e->target == PLAN_TARGET_CUDA ? O2P_TARGET_CUDA : O2P_TARGET_HOST;
}

o2p_status o2p_engine_create_context(o2p_engine *engine, o2p_context **out)
{
    if (!engine || !out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_engine_create_context: bad argument");
    o2p_context *c = calloc(1, sizeof *c);
    if (!c)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating a context");
    c->engine = engine;
    o2p_status st = lean_status(engine, engine->api->context_create(engine->handle, &c->handle));
    if (st != O2P_OK) {
        free(c);
        return st;
    }
    *out = c;
    return O2P_OK;
}

void o2p_context_destroy(o2p_context *context)
{
    if (!context)
        return;
    context->engine->api->context_destroy(context->handle);
    free(context);
}

o2p_status o2p_context_set_input_shape(o2p_context *context, const char *name, int rank,
                                       const int64_t *dims)
{
    if (!context || !name || (rank > 0 && !dims))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_context_set_input_shape: bad argument");
    const o2p_engine *e = context->engine;
    int io = o2p_engine_find_io(e, name);
    if (io < 0 || !o2p_engine_io_is_input(e, io))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "'%s' is not an input of the engine", name);
    int same = o2p_engine_io_rank(e, io) == rank;
    for (int i = 0; same && i < rank; i++)
        same = o2p_engine_io_dim(e, io, i) == dims[i];
    if (!same)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "input '%s': this plan was built for one static shape; build it again "
                        "with --shapes %s:... for another",
                        name, name);
    return O2P_OK;
}

o2p_status o2p_context_set_tensor_address(o2p_context *context, const char *name, void *address)
{
    if (!context || !name)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_context_set_tensor_address: bad argument");
    const o2p_engine *e = context->engine;
    return lean_status(e, e->api->context_set_tensor_address(context->handle, name, address));
}

o2p_status o2p_context_get_tensor_shape(const o2p_context *context, const char *name, int *rank,
                                        int64_t *dims)
{
    if (!context || !name || !rank || !dims)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_context_get_tensor_shape: bad argument");
    const o2p_engine *e = context->engine;
    if (O2P_LEAN_API_HAS(e->api, context_get_tensor_shape))
        return lean_status(e, e->api->context_get_tensor_shape(context->handle, name, rank, dims));
    /* an older lean runtime: static shapes only, the engine's */
    int io = o2p_engine_find_io(e, name);
    if (io < 0)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "the engine has no input or output '%s'", name);
    *rank = o2p_engine_io_rank(e, io);
    for (int d = 0; d < *rank; d++)
        dims[d] = o2p_engine_io_dim(e, io, d);
    return O2P_OK;
}

o2p_status o2p_context_enqueue(o2p_context *context, void *stream)
{
    if (!context)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_context_enqueue: context is NULL");
    const o2p_engine *e = context->engine;
    if (e->target == PLAN_TARGET_CUDA) {
        if (!O2P_LEAN_API_HAS(e->api, context_enqueue))
            return o2p_fail(O2P_ERR_UNSUPPORTED, "the lean runtime that runs this cuda plan (%s) "
                            "has no context_enqueue: it is older than the cuda target",
                            e->lean_runtime);
        return lean_status(e, e->api->context_enqueue(context->handle, stream));
    }
    if (stream)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "host plans run on the calling thread: pass a NULL stream");
    return lean_status(e, e->api->context_execute(context->handle));
}
