/* plan.c: the subcommands that read plans: `onnx2plan check PLAN` (every compatibility check
 * against this machine, nothing executed) and `onnx2plan inspect PLAN` (header, sections,
 * layers with their tactics and shapes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ir/ir.h"
#include "lean/lean.h"
#include "lean/lean_abi.h"
#include "plan/engine_format.h"
#include "runtime/runtime.h"

static const char *const check_usage =
    "usage: onnx2plan check PLAN\n"
    "\n"
    "Runs every compatibility check of the plan against this machine (container and\n"
    "checksums, version, lean runtime, target; for cuda plans the GPU's compute capability,\n"
    "its properties against the build GPU's, free device memory and the tactic-source\n"
    "libraries; the engine's tables) and prints each and the verdict, without executing\n"
    "anything. Exit 0 when the plan would load, 1 when not. A cuda plan checked on a machine\n"
    "without a usable GPU prints what it needs.\n"
    "With --allow-host-code the lean runtime a version-compatible plan carries is loaded to\n"
    "read the engine's tables (loading it is host code; nothing of the model runs).\n"
    "\n"
    "options:\n" CLI_RUNTIME_OPTIONS_HELP;

#define MAX_PLAN_BYTES ((size_t)1 << 40)

static void print_check(void *user, const char *check, int ok, const char *detail)
{
    (void)user;
    printf("  %-6s %-18s %s\n", ok == RT_CHECK_WARNING ? "[warn]" : ok ? "[ok]" : "[FAIL]",
           check, detail);
}

/* Plugin layers of a plan read here find their creators in the default registry. */
static const o2p_plugin_creator *registry_lookup(void *user, const char *name,
                                                 const char *version, const char *ns)
{
    (void)user;
    return ir_plugin_find_creator(o2p_default_plugin_registry(), name, version, ns);
}

/* The ENGINE section's tables, read by this build's lean runtime (for a plan of this
 * version). A cuda engine is read with LEAN_CREATE_TABLES_ONLY: every table checked, nothing
 * loaded onto a GPU, so that inspect and check work on a machine without one. */
static o2p_status read_tables(const plan_view *view, const char *path, lean_engine **out)
{
    *out = NULL;
    int es = plan_find_section(view, PLAN_SECTION_ENGINE, 0);
    if (es < 0)
        return o2p_fail(O2P_ERR_PARSE, "%s: the plan has no ENGINE section; rebuild it", path);
    const plan_section *s = &view->sections[es];
    const o2p_lean_api *api = lean_builtin_api();
    if (view->header.target == PLAN_TARGET_CUDA && O2P_LEAN_API_HAS(api, engine_create_flags)) {
        void *handle = NULL;
        O2P_TRY(api->engine_create_flags(s->data, (size_t)s->size, path, registry_lookup, NULL,
                                         LEAN_CREATE_TABLES_ONLY, &handle));
        *out = handle; /* the built-in table's engines are lean_engine */
        return O2P_OK;
    }
    return lean_engine_create_ex(s->data, (size_t)s->size, path, NULL, registry_lookup, NULL,
                                 out);
}

/* Kernel image i of a cuda engine; 0 when the lean runtime has no images (host). */
static int num_images(const lean_engine *e)
{
    const o2p_lean_api *api = lean_builtin_api();
    return e && O2P_LEAN_API_HAS(api, engine_num_images) ? api->engine_num_images(e) : 0;
}

static int image_at(const lean_engine *e, int i, const char **family, uint32_t *kind,
                    uint32_t *arch, uint64_t *size)
{
    const o2p_lean_api *api = lean_builtin_api();
    return api->engine_image(e, i, family, kind, arch, size) == O2P_OK;
}

/* "sm_90" for SASS, "compute_80" for PTX */
static const char *image_arch(uint32_t kind, uint32_t arch, char *buf, size_t size)
{
    snprintf(buf, size, "%s_%u", kind == ENGINE_IMAGE_PTX ? "compute" : "sm", arch);
    return buf;
}

/* What a cuda plan needs of a machine: printed by check when it cannot load here (on a
 * machine without a GPU, the only way to see whether a GPU elsewhere would run it). */
static void print_requirements(const plan_view *view, const char *path)
{
    const plan_header *h = &view->header;
    char caps[160] = "";
    size_t len = 0;
    for (uint32_t i = 0; i < h->compute_cap_count && i < PLAN_MAX_COMPUTE_CAPS; i++)
        len += (size_t)snprintf(caps + len, len < sizeof caps ? sizeof caps - len : 0, "%ssm_%u",
                                i ? ", " : "", h->compute_caps[i]);
    printf("requirements of the plan:\n");
    if (h->hw_compat == PLAN_HW_COMPAT_AMPERE_PLUS)
        printf("  %-22s any GPU from sm_80 up (--hw-compat ampere+; built for %s)\n", "GPU",
               caps);
    else if (h->hw_compat == PLAN_HW_COMPAT_SAME_CC)
        printf("  %-22s %s exactly (--hw-compat same-cc)\n", "GPU", caps);
    else
        printf("  %-22s %s exactly\n", "GPU", caps);
    printf("  %-22s %llu bytes\n", "device memory", (unsigned long long)h->device_memory_size);
    printf("  %-22s builtin", "tactic sources");
    if (h->tactic_sources & PLAN_TACTIC_CUBLAS)
        printf(", cublas (%s)", RT_LIB_CUBLAS);
    if (h->tactic_sources & PLAN_TACTIC_CUBLASLT)
        printf(", cublaslt (%s)", RT_LIB_CUBLASLT);
    if (h->tactic_sources & PLAN_TACTIC_CUDNN)
        printf(", cudnn (%s)", RT_LIB_CUDNN);
    printf("\n");
    const plan_device_props *d = &h->device;
    static const plan_device_props none;
    if (memcmp(d, &none, sizeof none) == 0)
        printf("  %-22s none recorded (built offline): no property warnings\n", "build GPU");
    else
        printf("  %-22s %u SMs, %s, memory bus %u bits, L2 %u bytes, shared memory %u bytes "
               "per block and %u per SM, texture alignment %u bytes\n",
               "build GPU", d->multiprocessor_count, d->integrated ? "integrated" : "discrete",
               d->memory_bus_width, d->l2_cache_size, d->shared_mem_per_block,
               d->shared_mem_per_multiprocessor, d->texture_alignment);
    if (plan_version_cmp(h->producer, plan_this_version()) != 0) {
        printf("  %-22s not read: the ENGINE section belongs to onnx2plan %u.%u.%u.%u\n",
               "kernel images", h->producer.major, h->producer.minor, h->producer.patch,
               h->producer.build);
        return;
    }
    lean_engine *e = NULL;
    if (read_tables(view, path, &e) != O2P_OK) {
        printf("  %-22s cannot be read: %s\n", "engine tables", o2p_last_error());
        return;
    }
    printf("  %-22s", "kernel images");
    uint64_t total = 0;
    int n = num_images(e);
    char seen[PLAN_MAX_COMPUTE_CAPS * 2][24];
    int nseen = 0;
    for (int i = 0; i < n; i++) {
        const char *family;
        uint32_t kind, arch;
        uint64_t size;
        char name[24];
        if (!image_at(e, i, &family, &kind, &arch, &size))
            continue;
        total += size;
        image_arch(kind, arch, name, sizeof name);
        int k = 0;
        while (k < nseen && strcmp(seen[k], name) != 0)
            k++;
        if (k == nseen && nseen < (int)(sizeof seen / sizeof seen[0])) {
            memcpy(seen[nseen++], name, sizeof name);
            printf("%s%s", k ? ", " : " ", name);
        }
    }
    printf("%s(%d image%s, %llu bytes)\n", n ? " " : " none ", n, n == 1 ? "" : "s",
           (unsigned long long)total);
    printf("  %-22s %d layers, every table entry valid (read without a GPU)\n", "engine tables",
           lean_engine_num_layers(e));
    lean_engine_destroy(e);
}

int cmd_check(int argc, char **argv)
{
    const char *path = NULL;
    runtime_opts ro = {0};
    for (int i = 0; i < argc; i++) {
        int used = cli_runtime_option(argc, argv, &i, &ro, "check");
        if (used >= 2)
            return used == 2 ? EXIT_USAGE : EXIT_FAIL;
        if (used)
            continue;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(check_usage, stdout);
            return EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("unknown option '%s'", argv[i], "check");
        } else if (path) {
            return cli_usage_error("more than one plan given ('%s')", argv[i], "check");
        }
        path = argv[i];
    }
    if (!path)
        return cli_usage_error("%scheck needs a plan file", "", "check");
    void *bytes;
    size_t size;
    o2p_runtime *base = NULL, *rt = NULL;
    int rc = cli_make_runtime(&ro, &base, &rt);
    if (rc != EXIT_OK)
        return rc;
    if (o2p_read_file(path, MAX_PLAN_BYTES, &bytes, &size) != O2P_OK) {
        cli_destroy_runtime(base, rt);
        return cli_fail();
    }
    plan_view *view = malloc(sizeof *view);
    if (!view) {
        free(bytes);
        cli_destroy_runtime(base, rt);
        return cli_fail();
    }
    printf("plan: %s (%zu bytes)\n", path, size);
    rt_route route;
    o2p_status st = rt_check_plan(rt, bytes, size, path, view, &route, print_check, NULL);
    if (st == O2P_OK) {
        /* The engine's tables, read by the lean runtime that would run the plan. */
        o2p_engine *engine = NULL;
        st = o2p_runtime_deserialize_file(rt, path, &engine);
        if (st == O2P_OK) {
            char detail[700];
            snprintf(detail, sizeof detail, "%d inputs and outputs, every table entry valid "
                     "(read by the %s lean runtime)", o2p_engine_num_io_tensors(engine),
                     o2p_engine_lean_runtime(engine));
            print_check(NULL, "engine", 1, detail);
        } else {
            print_check(NULL, "engine", 0, o2p_last_error());
        }
        o2p_engine_destroy(engine);
    }
    if (st != O2P_OK) {
        /* the error first: print_requirements may read the tables, which sets errors */
        char *why = strdup(o2p_last_error());
        if (view->header.target == PLAN_TARGET_CUDA && view->container_version)
            print_requirements(view, path);
        printf("verdict: NOT loadable here\n");
        fprintf(stderr, "onnx2plan: error: %s\n", why ? why : o2p_last_error());
        free(why);
    }
    free(view);
    free(bytes);
    cli_destroy_runtime(base, rt);
    if (st != O2P_OK)
        return EXIT_FAIL;
    printf("verdict: loadable here\n");
    return EXIT_OK;
}

int cli_is_plan_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    unsigned char head[8] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == sizeof head && memcmp(head, "\x89O2PLAN", 7) == 0;
}

static void shape_text(const lean_engine *e, int t, char *buf, size_t size)
{
    int rank = lean_engine_tensor_rank(e, t);
    size_t len = 0;
    buf[0] = '\0';
    if (rank == 0)
        snprintf(buf, size, "scalar");
    /* a data-dependent dim as ?<=bound: known after a run, at most the bound */
    for (int d = 0; d < rank && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s%lld", d ? "x" : "",
                                (lean_engine_tensor_dd_mask(e, t) >> d & 1u) ? "?<=" : "",
                                (long long)lean_engine_tensor_dim(e, t, d));
}

static void json_layers(const lean_engine *e)
{
    printf("[");
    for (int l = 0; l < lean_engine_num_layers(e); l++) {
        printf("%s\n  {\"name\": ", l ? "," : "");
        cli_json_string(stdout, lean_engine_layer_name(e, l));
        printf(", \"op\": ");
        cli_json_string(stdout, lean_engine_layer_op_type(e, l));
        printf(", \"tactic\": {\"source\": ");
        cli_json_string(stdout, lean_engine_layer_tactic_source(e, l));
        printf(", \"kernel\": ");
        cli_json_string(stdout, lean_engine_layer_tactic_kernel(e, l));
        printf(", \"smem_bytes\": %u, \"arch_specific\": %s}, \"outputs\": [",
               lean_engine_layer_smem_bytes(e, l),
               lean_engine_layer_arch_specific(e, l) ? "true" : "false");
        for (int k = 0, first = 1; k < lean_engine_layer_num_outputs(e, l); k++) {
            int t = lean_engine_layer_output(e, l, k);
            if (t < 0)
                continue;
            printf("%s{\"name\": ", first ? "" : ", ");
            first = 0;
            cli_json_string(stdout, lean_engine_tensor_name(e, t));
            printf(", \"dtype\": \"%s\", \"shape\": [", o2p_dtype_name(lean_engine_tensor_dtype(e, t)));
            /* a data-dependent dim as the string "?<=bound" */
            for (int d = 0; d < lean_engine_tensor_rank(e, t); d++)
                printf((lean_engine_tensor_dd_mask(e, t) >> d & 1u) ? "%s\"?<=%lld\""
                                                                     : "%s%lld",
                       d ? ", " : "", (long long)lean_engine_tensor_dim(e, t, d));
            printf("]}");
        }
        printf("]}");
    }
    printf("]");
}

static void json_images(const lean_engine *e)
{
    printf("[");
    for (int i = 0, first = 1; i < num_images(e); i++) {
        const char *family;
        uint32_t kind, arch;
        uint64_t size;
        char name[24];
        if (!image_at(e, i, &family, &kind, &arch, &size))
            continue;
        printf("%s\n  {\"family\": ", first ? "" : ",");
        first = 0;
        cli_json_string(stdout, family);
        printf(", \"kind\": \"%s\", \"arch\": \"%s\", \"bytes\": %llu}",
               kind == ENGINE_IMAGE_PTX ? "ptx" : "sass", image_arch(kind, arch, name, sizeof name),
               (unsigned long long)size);
    }
    printf("]");
}

int cli_inspect_plan(const char *path, int json, int layers)
{
    void *bytes;
    size_t size;
    if (o2p_read_file(path, MAX_PLAN_BYTES, &bytes, &size) != O2P_OK)
        return cli_fail();
    int rc = EXIT_OK;
    char *text = NULL;
    lean_engine *engine = NULL;
    plan_view *view = malloc(sizeof *view);
    if (!view || plan_read(bytes, size, path, view) != O2P_OK) {
        rc = cli_fail();
        goto out;
    }
    /* The tables of the ENGINE section, read by this build's lean runtime (a plan from
     * another version is described by its header and sections only). */
    int es = plan_find_section(view, PLAN_SECTION_ENGINE, 0);
    plan_version me = plan_this_version();
    int same_version = plan_version_cmp(view->header.producer, me) == 0;
    if (es >= 0 && same_version && read_tables(view, path, &engine) != O2P_OK) {
        rc = cli_fail();
        goto out;
    }
    plan_format_style style = json ? PLAN_FORMAT_JSON : PLAN_FORMAT_TEXT;
    size_t need = plan_format(view, style, NULL, 0);
    text = malloc(need + 1);
    if (!text) {
        rc = cli_fail();
        goto out;
    }
    plan_format(view, style, text, need + 1);
    if (json) {
        /* plan_format's object, with the keys only the engine knows added at its end */
        size_t n = strlen(text);
        while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
            n--;
        if (n && text[n - 1] == '}')
            n--;
        printf("%.*s,\n \"version_compatible\": %s,\n \"images\": ", (int)n, text,
               (view->header.flags & PLAN_FLAG_VERSION_COMPATIBLE) ? "true" : "false");
        /* null: not read (another version's ENGINE); [] for host plans */
        if (engine)
            json_images(engine);
        else
            printf("null");
        printf(",\n \"layers\": ");
        if (engine)
            json_layers(engine);
        else
            printf("null");
        printf("}\n");
        goto out;
    }
    fputs(text, stdout);
    if (!engine) {
        printf("layers: not shown: the ENGINE section belongs to onnx2plan %u.%u.%u.%u\n",
               view->header.producer.major, view->header.producer.minor,
               view->header.producer.patch, view->header.producer.build);
        goto out;
    }
    printf("engine: %d layers, %d tensors, %llu bytes of activations per context\n",
           lean_engine_num_layers(engine), lean_engine_num_tensors(engine),
           (unsigned long long)lean_engine_arena_size(engine));
    if (view->header.target == PLAN_TARGET_CUDA) {
        int n = num_images(engine);
        printf("kernel images: %d\n", n);
        for (int i = 0; i < n; i++) {
            const char *family;
            uint32_t kind, arch;
            uint64_t isize;
            char name[24];
            if (image_at(engine, i, &family, &kind, &arch, &isize))
                printf("  %-16s %-4s %-12s %llu bytes\n", family,
                       kind == ENGINE_IMAGE_PTX ? "PTX" : "SASS",
                       image_arch(kind, arch, name, sizeof name), (unsigned long long)isize);
        }
    }
    for (int i = 0; i < lean_engine_num_io(engine); i++) {
        char shape[256];
        int t = lean_engine_io_tensor(engine, i);
        shape_text(engine, t, shape, sizeof shape);
        printf("  %-6s %-24s %-8s %s\n",
               lean_engine_io_mode(engine, i) == LEAN_IO_INPUT ? "input" : "output",
               lean_engine_io_name(engine, i), o2p_dtype_name(lean_engine_io_dtype(engine, i)),
               shape);
    }
    if (layers) {
        printf("layers:\n");
        for (int l = 0; l < lean_engine_num_layers(engine); l++) {
            printf("  #%d %s [%s] tactic %s/%s", l, lean_engine_layer_name(engine, l),
                   lean_engine_layer_op_type(engine, l),
                   lean_engine_layer_tactic_source(engine, l),
                   lean_engine_layer_tactic_kernel(engine, l));
            if (lean_engine_layer_smem_bytes(engine, l))
                printf(", %u bytes of shared memory", lean_engine_layer_smem_bytes(engine, l));
            if (lean_engine_layer_arch_specific(engine, l))
                printf(", arch-specific");
            printf("\n");
            for (int k = 0; k < lean_engine_layer_num_outputs(engine, l); k++) {
                int t = lean_engine_layer_output(engine, l, k);
                if (t < 0)
                    continue;
                char shape[256];
                shape_text(engine, t, shape, sizeof shape);
                printf("      out %s: %s %s\n", lean_engine_tensor_name(engine, t),
                       o2p_dtype_name(lean_engine_tensor_dtype(engine, t)), shape);
            }
        }
    }
out:
    lean_engine_destroy(engine);
    free(text);
    free(view);
    free(bytes);
    return rc;
}
