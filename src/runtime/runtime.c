/* runtime.c: the full runtime: the plan container, the compatibility checks of DESIGN.md §5,
 * then the lean runtime; the public o2p_runtime / o2p_engine / o2p_context API over it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lean/lean.h"
#include "runtime/runtime.h"

struct o2p_runtime {
    int unused;
};

struct o2p_engine {
    lean_engine *lean;
};

struct o2p_context {
    lean_context *lean;
};

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

o2p_status rt_check_plan(const void *plan, size_t size, const char *name, plan_view *view,
                         rt_report_fn fn, void *user)
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
    snprintf(pv, sizeof pv, "%u.%u.%u.%u", h->producer.major, h->producer.minor,
             h->producer.patch, h->producer.build);
    snprintf(mv, sizeof mv, "%u.%u.%u.%u", me.major, me.minor, me.patch, me.build);
    if (h->flags & PLAN_FLAG_VERSION_COMPATIBLE) {
        report(fn, user, "version", 0, "version-compatible plan from %s", pv);
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "%s: a version-compatible plan (built by onnx2plan %s); running those "
                        "through their own lean runtime is not supported yet by this runtime "
                        "(%s)",
                        what, pv, mv);
    }
    if (plan_version_cmp(h->producer, me) != 0) {
        report(fn, user, "version", 0, "built by %s, this runtime is %s", pv, mv);
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "%s: the plan was built by onnx2plan %s and this runtime is %s; a "
                        "standard plan runs only on the version that built it: rebuild it with "
                        "onnx2plan %s (or build it with --version-compatible)",
                        what, pv, mv, mv);
    }
    report(fn, user, "version", 1, "built by %s, the same as this runtime", pv);

    if (h->target != PLAN_TARGET_HOST) {
        report(fn, user, "target", 0, "a %s plan", plan_target_name(h->target));
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "%s: a %s plan; this runtime runs host plans only (the cuda runtime "
                        "comes later): rebuild with --target host",
                        what, plan_target_name(h->target));
    }
    report(fn, user, "target", 1, "host: the reference kernels run on any machine");

    if (h->tactic_sources & ~(uint32_t)PLAN_TACTIC_BUILTIN) {
        report(fn, user, "tactic sources", 0, "the plan needs libraries this runtime lacks");
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "%s: the plan uses tactic sources (cublas/cublaslt/cudnn) that a host "
                        "runtime cannot load; rebuild with --target host",
                        what);
    }
    report(fn, user, "tactic sources", 1, "builtin kernels only");

    if (plan_find_section(view, PLAN_SECTION_ENGINE, 0) < 0) {
        report(fn, user, "engine", 0, "no ENGINE section");
        return o2p_fail(O2P_ERR_PARSE, "%s: the plan has no ENGINE section; rebuild it", what);
    }

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

o2p_status o2p_runtime_create(o2p_runtime **out)
{
    if (!out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_runtime_create: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? O2P_OK : o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating a runtime");
}

void o2p_runtime_destroy(o2p_runtime *runtime)
{
    free(runtime);
}

o2p_status o2p_runtime_check(o2p_runtime *runtime, const void *plan, size_t size,
                             const char *name)
{
    if (!runtime || (!plan && size))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_runtime_check: bad argument");
    plan_view *view = malloc(sizeof *view);
    if (!view)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    o2p_status st = rt_check_plan(plan, size, name, view, NULL, NULL);
    free(view);
    return st;
}

o2p_status o2p_runtime_deserialize(o2p_runtime *runtime, const void *plan, size_t size,
                                   o2p_engine **out)
{
    if (!runtime || !out || (!plan && size))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_runtime_deserialize: bad argument");
    *out = NULL;
    plan_view *view = malloc(sizeof *view);
    if (!view)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    o2p_status st = rt_check_plan(plan, size, "plan", view, NULL, NULL);
    if (st == O2P_OK) {
        const plan_section *s = &view->sections[plan_find_section(view, PLAN_SECTION_ENGINE, 0)];
        o2p_engine *e = calloc(1, sizeof *e);
        if (!e)
            st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        else if ((st = lean_engine_create(s->data, (size_t)s->size, "plan", &e->lean)) !=
                 O2P_OK)
            free(e);
        else
            *out = e;
    }
    free(view);
    return st;
}

void o2p_engine_destroy(o2p_engine *engine)
{
    if (!engine)
        return;
    lean_engine_destroy(engine->lean);
    free(engine);
}

int o2p_engine_num_io_tensors(const o2p_engine *e) { return e ? lean_engine_num_io(e->lean) : 0; }
const char *o2p_engine_io_name(const o2p_engine *e, int i)
{
    return e ? lean_engine_io_name(e->lean, i) : NULL;
}
int o2p_engine_io_is_input(const o2p_engine *e, int i)
{
    return e && lean_engine_io_mode(e->lean, i) == LEAN_IO_INPUT;
}
o2p_dtype o2p_engine_io_dtype(const o2p_engine *e, int i)
{
    return e ? lean_engine_io_dtype(e->lean, i) : O2P_DTYPE_UNDEFINED;
}
int o2p_engine_io_rank(const o2p_engine *e, int i) { return e ? lean_engine_io_rank(e->lean, i) : -1; }
int64_t o2p_engine_io_dim(const o2p_engine *e, int i, int axis)
{
    return e ? lean_engine_io_dim(e->lean, i, axis) : -1;
}
int o2p_engine_find_io(const o2p_engine *e, const char *name)
{
    return e && name ? lean_engine_find_io(e->lean, name) : -1;
}
uint64_t o2p_engine_device_memory_size(const o2p_engine *e)
{
    return e ? lean_engine_arena_size(e->lean) : 0;
}

o2p_status o2p_engine_create_context(o2p_engine *engine, o2p_context **out)
{
    if (!engine || !out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_engine_create_context: bad argument");
    o2p_context *c = calloc(1, sizeof *c);
    if (!c)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory creating a context");
    o2p_status st = lean_context_create(engine->lean, &c->lean);
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
    lean_context_destroy(context->lean);
    free(context);
}

o2p_status o2p_context_set_input_shape(o2p_context *context, const char *name, int rank,
                                       const int64_t *dims)
{
    if (!context || !name || (rank > 0 && !dims))
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_context_set_input_shape: bad argument");
    const lean_engine *e = lean_context_engine(context->lean);
    int io = lean_engine_find_io(e, name);
    if (io < 0 || lean_engine_io_mode(e, io) != LEAN_IO_INPUT)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "'%s' is not an input of the engine", name);
    int same = lean_engine_io_rank(e, io) == rank;
    for (int i = 0; same && i < rank; i++)
        same = lean_engine_io_dim(e, io, i) == dims[i];
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
    return lean_context_set_tensor_address(context->lean, name, address);
}

o2p_status o2p_context_enqueue(o2p_context *context, void *stream)
{
    if (!context)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_context_enqueue: context is NULL");
    if (stream)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "host plans run on the calling thread: pass a NULL stream");
    return lean_context_execute(context->lean);
}
