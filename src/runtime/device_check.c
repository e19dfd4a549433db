/* device_check.c: the compatibility checks of DESIGN.md §5 that compare a cuda plan's header
 * with a GPU (compute capability, device properties, device memory, tactic-source libraries).
 * A pure function over records, so that every rule is unit-tested without a GPU; the caller
 * queries the device (cuda_device_query) and reports each check like rt_check_plan. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/runtime.h"

int rt_library_present(const char *soname)
{
    /* RTLD_LAZY: only whether the library and its dependencies are there; nothing of it runs
     * but its initialisers, as when the lean runtime opens it to run the plan. */
    void *h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
    if (!h)
        return 0;
    dlclose(h);
    return 1;
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

/* The first failure's status and message: every check runs and reports, and the verdict is
 * the first error (later o2p_fail calls would overwrite the thread's last error). */
typedef struct verdict {
    o2p_status status;
    char message[1024];
} verdict;

static void fail(verdict *v, o2p_status st, const char *fmt, ...) O2P_PRINTF(3, 4);
static void fail(verdict *v, o2p_status st, const char *fmt, ...)
{
    if (v->status != O2P_OK)
        return;
    v->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof v->message, fmt, ap);
    va_end(ap);
}

/* "sm_80, sm_90" */
static void caps_text(const plan_header *h, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < h->compute_cap_count && i < PLAN_MAX_COMPUTE_CAPS && len < size; i++)
        len +=
            (size_t)snprintf(buf + len, size - len, "%ssm_%u", i ? ", " : "", h->compute_caps[i]);
    if (!h->compute_cap_count)
        snprintf(buf, size, "no compute capability");
}

static void check_compute_cap(const plan_header *h, const cuda_device_info *dev, const char *what,
                              rt_report_fn fn, void *user, verdict *v)
{
    char caps[160];
    caps_text(h, caps, sizeof caps);
    int cc = dev->compute_cap;
    if (h->hw_compat == PLAN_HW_COMPAT_AMPERE_PLUS) {
        /* The plan's images cover sm_80 up (SASS per major, compute_80 PTX for the rest); the
         * lean runtime picks the image at load. */
        if (cc >= 80) {
            report(fn, user, "compute capability", 1,
                   "device %d %s is sm_%d; the ampere+ plan runs "
                   "on sm_80 and newer",
                   dev->ordinal, dev->name, cc);
            return;
        }
        report(fn, user, "compute capability", 0,
               "device %d %s is sm_%d, older than the sm_80 an "
               "ampere+ plan needs",
               dev->ordinal, dev->name, cc);
        fail(v, O2P_ERR_UNSUPPORTED,
             "%s: the plan was built with --hw-compat ampere+ (GPUs of compute capability sm_80 "
             "and up) and this GPU (device %d, %s) is sm_%d: rebuild it for this GPU with "
             "--arch sm_%d, or with --target host",
             what, dev->ordinal, dev->name, cc, cc);
        return;
    }
    /* none and same-cc: the device's compute capability must be one the plan was built for
     * (a cubin of another minor or major does not load: DESIGN.md §7). */
    for (uint32_t i = 0; i < h->compute_cap_count && i < PLAN_MAX_COMPUTE_CAPS; i++)
        if (h->compute_caps[i] == cc) {
            report(fn, user, "compute capability", 1, "device %d %s is sm_%d; the plan is for %s%s",
                   dev->ordinal, dev->name, cc, caps,
                   h->hw_compat == PLAN_HW_COMPAT_SAME_CC ? " (same-cc)" : "");
            return;
        }
    report(fn, user, "compute capability", 0, "device %d %s is sm_%d; the plan is for %s%s only",
           dev->ordinal, dev->name, cc, caps,
           h->hw_compat == PLAN_HW_COMPAT_SAME_CC ? " (same-cc)" : "");
    fail(v, O2P_ERR_UNSUPPORTED,
         "%s: the plan was built for compute capability %s%s and this GPU (device %d, %s) is "
         "sm_%d: rebuild it for this GPU with --arch sm_%d, or with --hw-compat ampere+ for "
         "every GPU from sm_80 up",
         what, caps,
         h->hw_compat == PLAN_HW_COMPAT_SAME_CC ? " (--hw-compat same-cc: GPUs of that compute "
                                                  "capability)"
                                                : "",
         dev->ordinal, dev->name, cc, cc);
}

static int device_recorded(const plan_device_props *d)
{
    static const plan_device_props zero;
    return memcmp(d, &zero, sizeof zero) != 0;
}

static void check_properties(const plan_header *h, const cuda_device_info *dev, const char *what,
                             rt_report_fn fn, void *user, int *warnings)
{
    if (h->hw_compat != PLAN_HW_COMPAT_NONE) {
        report(fn, user, "device props", 1,
               "not compared: a hardware-compatible plan "
               "(%s) runs on GPUs whose properties differ from the build GPU's",
               plan_hw_compat_name(h->hw_compat));
        return;
    }
    if (!device_recorded(&h->device)) {
        report(fn, user, "device props", 1,
               "not compared: the plan was built without a GPU "
               "(offline) and recorded none");
        return;
    }
    const plan_device_props *p = &h->device;
    struct {
        const char *check; /* the check line's name */
        const char *what;  /* in sentences */
        const char *unit;
        uint32_t plan, device;
    } props[] = {
        {"memory bus", "memory bus width", " bits", p->memory_bus_width, dev->memory_bus_width},
        {"L2 cache", "L2 cache size", " bytes", p->l2_cache_size, dev->l2_cache_size},
        {"smem/block", "shared memory per block", " bytes", p->shared_mem_per_block,
         dev->shared_mem_per_block},
        {"smem/SM", "shared memory per multiprocessor", " bytes", p->shared_mem_per_multiprocessor,
         dev->shared_mem_per_multiprocessor},
        {"texture align", "texture alignment", " bytes", p->texture_alignment,
         dev->texture_alignment},
        {"SM count", "multiprocessor count", "", p->multiprocessor_count,
         dev->multiprocessor_count},
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        if (props[i].plan == props[i].device) {
            report(fn, user, props[i].check, 1, "%u%s, as on the build GPU", props[i].device,
                   props[i].unit);
            continue;
        }
        (*warnings)++;
        report(fn, user, props[i].check, RT_CHECK_WARNING, "%u%s here, %u%s on the build GPU",
               props[i].device, props[i].unit, props[i].plan, props[i].unit);
        o2p_log(O2P_SEVERITY_WARNING,
                "%s: the %s of this GPU (device %d, %s) is %u%s and the build GPU's was %u%s: "
                "the plan runs, but its tactics were chosen for the other GPU; rebuild it on "
                "this one for the best speed",
                what, props[i].what, dev->ordinal, dev->name, props[i].device, props[i].unit,
                props[i].plan, props[i].unit);
    }
    const char *here = dev->integrated ? "integrated" : "discrete";
    const char *built = p->integrated ? "integrated" : "discrete";
    if ((p->integrated != 0) == (dev->integrated != 0)) {
        report(fn, user, "integrated", 1, "%s, as the build GPU", here);
        return;
    }
    (*warnings)++;
    report(fn, user, "integrated", RT_CHECK_WARNING, "a %s GPU here, the build GPU was %s", here,
           built);
    o2p_log(O2P_SEVERITY_WARNING,
            "%s: this GPU (device %d, %s) is %s and the build GPU was %s: the plan runs, but "
            "its tactics were chosen for the other kind; rebuild it on this one for the best "
            "speed",
            what, dev->ordinal, dev->name, here, built);
}

static void check_memory(const plan_header *h, const cuda_device_info *dev, const char *what,
                         rt_report_fn fn, void *user, verdict *v)
{
    unsigned long long need = (unsigned long long)h->device_memory_size;
    unsigned long long have = (unsigned long long)dev->free_memory;
    if (need <= have) {
        report(fn, user, "device memory", 1, "needs %llu bytes, %llu free of %llu on device %d",
               need, have, (unsigned long long)dev->total_memory, dev->ordinal);
        return;
    }
    report(fn, user, "device memory", 0, "needs %llu bytes, only %llu free of %llu on device %d",
           need, have, (unsigned long long)dev->total_memory, dev->ordinal);
    fail(v, O2P_ERR_OUT_OF_MEMORY,
         "%s: the engine needs %llu bytes of device memory and this GPU (device %d, %s) has "
         "%llu bytes free (of %llu); free device memory (other processes: nvidia-smi) or use a "
         "GPU with more",
         what, need, dev->ordinal, dev->name, have, (unsigned long long)dev->total_memory);
}

static void check_tactic_sources(const plan_header *h, const char *what, rt_library_probe_fn probe,
                                 rt_report_fn fn, void *user, verdict *v)
{
    static const struct {
        uint32_t bit;
        const char *soname;
        const char *package;
    } libs[] = {
        {PLAN_TACTIC_CUBLAS, RT_LIB_CUBLAS, "cuBLAS 13"},
        {PLAN_TACTIC_CUBLASLT, RT_LIB_CUBLASLT, "cuBLASLt 13"},
        {PLAN_TACTIC_CUDNN, RT_LIB_CUDNN, "cuDNN 9"},
    };
    uint32_t external =
        h->tactic_sources & (PLAN_TACTIC_CUBLAS | PLAN_TACTIC_CUBLASLT | PLAN_TACTIC_CUDNN);
    if (!external) {
        report(fn, user, "tactic sources", 1, "builtin kernels only");
        return;
    }
    if (h->hw_compat != PLAN_HW_COMPAT_NONE) {
        /* The builder disables cuBLAS/cuDNN under a hardware-compatibility level: a plan that
         * says both was not made by it. */
        report(fn, user, "tactic sources", 0, "library tactic sources under --hw-compat %s",
               plan_hw_compat_name(h->hw_compat));
        fail(v, O2P_ERR_PARSE,
             "%s: the plan says it uses cuBLAS/cuDNN tactics under --hw-compat %s, where the "
             "builder disables them: the plan is damaged; rebuild it",
             what, plan_hw_compat_name(h->hw_compat));
        return;
    }
    char found[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        if (!(h->tactic_sources & libs[i].bit))
            continue;
        const char *name = plan_tactic_source_name(libs[i].bit);
        if (probe(libs[i].soname)) {
            len += (size_t)snprintf(found + len, len < sizeof found ? sizeof found - len : 0,
                                    "%s%s (%s)", len ? ", " : "", name, libs[i].soname);
            continue;
        }
        report(fn, user, "tactic sources", 0, "the plan uses %s and %s cannot be loaded", name,
               libs[i].soname);
        fail(v, O2P_ERR_UNSUPPORTED,
             "%s: the plan uses the %s tactic source and %s cannot be loaded here: install %s "
             "where the dynamic loader finds it (LD_LIBRARY_PATH), or rebuild the plan with "
             "--tactic-sources -%s",
             what, name, libs[i].soname, libs[i].package, name);
    }
    if (v->status == O2P_OK)
        report(fn, user, "tactic sources", 1, "builtin and %s: every library loads", found);
}

o2p_status rt_check_device(const plan_header *header, const cuda_device_info *device,
                           const char *what, rt_library_probe_fn probe, rt_report_fn fn, void *user,
                           int *warnings)
{
    int w = 0;
    if (warnings)
        *warnings = 0;
    if (!header || !device)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "rt_check_device: bad argument");
    if (!what)
        what = "plan";
    if (!probe)
        probe = rt_library_present;
    verdict v = {O2P_OK, ""};
    check_compute_cap(header, device, what, fn, user, &v);
    check_properties(header, device, what, fn, user, &w);
    check_memory(header, device, what, fn, user, &v);
    check_tactic_sources(header, what, probe, fn, user, &v);
    if (warnings)
        *warnings = w;
    if (v.status != O2P_OK)
        return o2p_fail(v.status, "%s", v.message);
    return O2P_OK;
}
