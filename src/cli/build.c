/* build.c: `onnx2plan MODEL.onnx [-o PLAN]` (also `onnx2plan build ...`): parse, build,
 * serialize. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static const char *const build_usage =
    "usage: onnx2plan MODEL.onnx [options]\n"
    "       onnx2plan build MODEL.onnx [options]\n"
    "\n"
    "Builds a plan from an ONNX model: shape inference, constant folding, removal of no-op\n"
    "and dead layers, one tactic per layer, memory planning, serialization.\n"
    "\n"
    "options:\n"
    "  -o, --output PLAN          where to write the plan (default: the model's path with\n"
    "                             .plan instead of .onnx)\n"
    "  --target cuda|host         what the plan runs on (default cuda: NVIDIA GPUs from\n"
    "                             sm_80; host: the reference kernels in C, any machine)\n"
    "  --arch sm_XY[,sm_XY...]    cuda: the GPUs to build for, e.g. sm_80,sm_90; none need\n"
    "                             be present (default: the GPU present)\n"
    "  --hw-compat LEVEL          cuda: none (default), ampere+ (one plan for every GPU\n"
    "                             from sm_80; no --arch; builtin kernels only) or same-cc\n"
    "                             (any GPU of the one --arch given)\n"
    "  --tactic-sources SPEC      cuda: add or remove kernel sources, e.g. -cublas,+cudnn\n"
    "                             (builtin, cublas, cublaslt, cudnn; default builtin)\n"
    "  --fp16, --bf16             cuda: float layers may compute in fp16 / bf16\n"
    "  --no-tf32                  cuda: float layers never use tf32 tensor cores\n"
    "  --workspace SIZE           largest scratch memory a layer may use, e.g. 64M (K, M, G\n"
    "                             suffixes; default no limit)\n"
    "  --kernel-cache DIR         cuda: where compiled kernels are kept between builds\n"
    "                             (default $XDG_CACHE_HOME/onnx2plan/kernels; '' for none)\n"
    "  --shapes NAME:DxD,...      fix dynamic input dims (plans have static shapes)\n"
    "  --plugins LIB              register a plugin library (repeatable)\n"
    "  --plugin-instancenorm      import InstanceNormalization as the plugin layer\n"
    "  --version-compatible       the plan carries its lean runtime (libo2p_lean.so) and\n"
    "                             runs on later runtimes of its major and the next one\n"
    "  --serialize-plugins LIB,.. carry these plugin libraries in the plan (host code at\n"
    "                             load); a version-compatible plan carries the libraries its\n"
    "                             plugin layers come from by default\n"
    "  --ignore-parsed-plugin-libs  a version-compatible plan does not carry the libraries\n"
    "                             its plugin layers came from (found with --plugins at load)\n"
    "  --exclude-lean-runtime     with --version-compatible: leave the lean runtime out;\n"
    "                             the runtime is then given with --load-runtime\n"
    "  -v, --verbose              print each layer's tactic candidates and the choice\n"
    "  -h, --help                 print this help and exit\n";

static void log_to_stderr(void *user, o2p_severity severity, const char *msg)
{
    (void)user;
    if (severity == O2P_SEVERITY_ERROR)
        return; /* errors are printed once, by the command */
    fprintf(stderr, "onnx2plan: %s%s\n", severity == O2P_SEVERITY_WARNING ? "warning: " : "",
            msg);
}

/* Writes bytes to path through a temporary file renamed into place, so a failed write never
 * leaves a truncated plan behind. */
static int write_file_atomic(const char *path, const void *data, size_t size)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return -1;
    snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f != NULL;
    if (f) {
        ok = fwrite(data, 1, size, f) == size;
        if (fclose(f) != 0)
            ok = 0;
    }
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    int saved = errno;
    if (!ok)
        remove(tmp);
    free(tmp);
    errno = saved;
    return ok ? 0 : -1;
}

/* "sm_80,sm_90" into caps (ascending order and duplicates are the library's business);
 * returns the count, or -1 for a malformed list. */
static int parse_archs(const char *arg, int *caps, int cap)
{
    int n = 0;
    const char *p = arg;
    while (*p) {
        if (strncmp(p, "sm_", 3) != 0 || n == cap)
            return -1;
        p += 3;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v <= 0 || v > 1000 || (*end && *end != ','))
            return -1;
        caps[n++] = (int)v;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            return -1; /* a trailing comma */
    }
    return n;
}

/* "-cublas,+cudnn" applied to *mask (TensorRT's --tacticSources syntax); 0 when malformed. */
static int parse_tactic_sources(const char *arg, uint32_t *mask)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } names[] = {{"builtin", O2P_TACTIC_SOURCE_BUILTIN}, {"cublas", O2P_TACTIC_SOURCE_CUBLAS},
                 {"cublaslt", O2P_TACTIC_SOURCE_CUBLASLT},
                 {"cublas_lt", O2P_TACTIC_SOURCE_CUBLASLT}, {"cudnn", O2P_TACTIC_SOURCE_CUDNN}};
    const char *p = arg;
    if (!*p)
        return 0;
    while (*p) {
        char sign = *p++;
        if (sign != '+' && sign != '-')
            return 0;
        size_t len = strcspn(p, ",");
        uint32_t bit = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == len && strncasecmp(p, names[i].name, len) == 0)
                bit = names[i].bit;
        if (!bit)
            return 0;
        *mask = sign == '+' ? (*mask | bit) : (*mask & ~bit);
        p += len;
        if (*p == ',' && !*++p)
            return 0;
    }
    return 1;
}

/* "512", "64K", "256M", "2G" (powers of 1024) into *bytes; 0 when malformed. */
static int parse_size(const char *arg, uint64_t *bytes)
{
    char *end;
    if (!(*arg >= '0' && *arg <= '9'))
        return 0;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno)
        return 0;
    int shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: return 0;
    }
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return 0;
    *bytes = (uint64_t)v << shift;
    return 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cmd_build(int argc, char **argv)
{
    const char *model = NULL, *output = NULL, *shapes_arg = NULL, *target = "cuda";
    int plugin_in = 0, verbose = 0, vc = 0, exclude = 0, ignore_parsed = 0;
    const char *serialize_plugins = NULL, *arch_arg = NULL, *kernel_cache = NULL;
    int caps[16], ncaps = 0, fp16 = 0, bf16 = 0, tf32 = 1;
    o2p_hardware_compatibility hw = O2P_HW_COMPAT_NONE;
    uint32_t sources = O2P_TACTIC_SOURCE_BUILTIN;
    uint64_t workspace = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(build_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a file name", a, "build");
            output = argv[++i];
        } else if (strcmp(a, "--target") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs host or cuda", a, "build");
            target = argv[++i];
        } else if (strcmp(a, "--arch") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs sm_XY[,sm_XY...], e.g. --arch sm_80,sm_90", a,
                                       "build");
            arch_arg = argv[++i];
            ncaps = parse_archs(arch_arg, caps, 16);
            if (ncaps <= 0)
                return cli_usage_error("bad --arch value '%s': expected sm_XY[,sm_XY...] (at "
                                       "most 16), e.g. sm_80,sm_90", arch_arg, "build");
        } else if (strcmp(a, "--hw-compat") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs none, ampere+ or same-cc", a, "build");
            const char *v = argv[++i];
            if (strcmp(v, "none") == 0)
                hw = O2P_HW_COMPAT_NONE;
            else if (strcmp(v, "ampere+") == 0)
                hw = O2P_HW_COMPAT_AMPERE_PLUS;
            else if (strcmp(v, "same-cc") == 0)
                hw = O2P_HW_COMPAT_SAME_COMPUTE_CAPABILITY;
            else
                return cli_usage_error("--hw-compat '%s': expected none, ampere+ or same-cc", v,
                                       "build");
        } else if (strcmp(a, "--tactic-sources") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a value, e.g. -cublas,+cudnn", a, "build");
            if (!parse_tactic_sources(argv[++i], &sources))
                return cli_usage_error("bad --tactic-sources value '%s': expected +NAME or -NAME "
                                       "items separated by commas, NAME one of builtin, cublas, "
                                       "cublaslt, cudnn", argv[i], "build");
        } else if (strcmp(a, "--fp16") == 0) {
            fp16 = 1;
        } else if (strcmp(a, "--bf16") == 0) {
            bf16 = 1;
        } else if (strcmp(a, "--no-tf32") == 0) {
            tf32 = 0;
        } else if (strcmp(a, "--workspace") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a size, e.g. 256M", a, "build");
            if (!parse_size(argv[++i], &workspace))
                return cli_usage_error("bad --workspace value '%s': expected bytes with an "
                                       "optional K, M or G suffix, e.g. 256M", argv[i], "build");
        } else if (strcmp(a, "--kernel-cache") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a folder ('' for none)", a, "build");
            kernel_cache = argv[++i];
        } else if (strcmp(a, "--shapes") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a value, e.g. --shapes input:1x3x224x224", a,
                                       "build");
            shapes_arg = argv[++i];
        } else if (strcmp(a, "--plugins") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a library path", a, "build");
            int prc = cli_register_plugins((const char *const *)&argv[++i], 1);
            if (prc != EXIT_OK)
                return prc;
        } else if (strcmp(a, "--plugin-instancenorm") == 0) {
            plugin_in = 1;
        } else if (strcmp(a, "--serialize-plugins") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs LIB[,LIB...]", a, "build");
            serialize_plugins = argv[++i];
        } else if (strcmp(a, "--ignore-parsed-plugin-libs") == 0) {
            ignore_parsed = 1;
        } else if (strcmp(a, "--version-compatible") == 0) {
            vc = 1;
        } else if (strcmp(a, "--exclude-lean-runtime") == 0) {
            exclude = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = 1;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("unknown option '%s'", a, "build");
        } else if (model) {
            return cli_usage_error("more than one model given ('%s')", a, "build");
        } else {
            model = a;
        }
    }
    if (!model)
        return cli_usage_error("%sa model file is needed", "", "build");
    if (strcmp(target, "host") != 0 && strcmp(target, "cuda") != 0)
        return cli_usage_error("--target '%s': expected cuda or host", target, "build");
    int cuda = strcmp(target, "cuda") == 0;
    if (!cuda && arch_arg)
        return cli_usage_error("--arch %s is for --target cuda; a host plan runs anywhere",
                               arch_arg, "build");
    shape_spec *specs = NULL;
    int nspecs = 0;
    if (shapes_arg && !cli_parse_shapes(shapes_arg, &specs, &nspecs))
        return cli_usage_error("bad --shapes value '%s': expected NAME:DxDxD[,NAME:DxD...] with "
                               "non-negative dims", shapes_arg, "build");
    char *default_out = NULL;
    if (!output) {
        size_t n = strlen(model);
        default_out = malloc(n + 6);
        if (!default_out) {
            cli_free_shapes(specs, nspecs);
            return cli_fail();
        }
        memcpy(default_out, model, n + 1);
        if (n > 5 && strcmp(model + n - 5, ".onnx") == 0)
            default_out[n - 5] = '\0';
        strcat(default_out, ".plan");
        output = default_out;
    }
    o2p_set_logger(log_to_stderr, NULL, verbose ? O2P_SEVERITY_INFO : O2P_SEVERITY_WARNING);

    int rc = EXIT_OK;
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    o2p_builder *builder = NULL;
    o2p_builder_config *config = NULL;
    void *plan = NULL;
    size_t plan_size = 0;
    double t0 = now_seconds();
    if (o2p_network_create(&net) != O2P_OK || o2p_parser_create(net, &parser) != O2P_OK ||
        o2p_parser_set_flag(parser, O2P_PARSER_FLAG_NATIVE_INSTANCENORM, !plugin_in) != O2P_OK ||
        o2p_parser_parse_file(parser, model) != O2P_OK) {
        rc = cli_fail();
        goto out;
    }
    if ((rc = cli_apply_shapes(net, model, specs, nspecs)) != EXIT_OK)
        goto out;
    if (o2p_builder_create(&builder) != O2P_OK || o2p_builder_config_create(&config) != O2P_OK ||
        o2p_builder_config_set_target(config, cuda ? O2P_TARGET_CUDA : O2P_TARGET_HOST,
                                      ncaps ? caps : NULL, ncaps) != O2P_OK ||
        o2p_builder_config_set_hardware_compatibility_level(config, hw) != O2P_OK ||
        o2p_builder_config_set_tactic_sources(config, sources) != O2P_OK ||
        o2p_builder_config_set_flag(config, O2P_FLAG_FP16, fp16) != O2P_OK ||
        o2p_builder_config_set_flag(config, O2P_FLAG_BF16, bf16) != O2P_OK ||
        o2p_builder_config_set_flag(config, O2P_FLAG_TF32, tf32) != O2P_OK ||
        o2p_builder_config_set_workspace_limit(config, workspace) != O2P_OK ||
        o2p_builder_config_set_kernel_cache(config, kernel_cache) != O2P_OK ||
        o2p_builder_config_set_verbose(config, verbose) != O2P_OK ||
        o2p_builder_config_set_flag(config, O2P_FLAG_VERSION_COMPATIBLE, vc) != O2P_OK ||
        o2p_builder_config_set_flag(config, O2P_FLAG_EXCLUDE_LEAN_RUNTIME, exclude) != O2P_OK ||
        o2p_builder_config_set_ignore_parsed_plugin_libraries(config, ignore_parsed) != O2P_OK) {
        rc = cli_fail();
        goto out;
    }
    if (serialize_plugins) {
        char *copy = strdup(serialize_plugins);
        const char *paths[64];
        int n = 0;
        char *save = NULL;
        for (char *p = copy ? strtok_r(copy, ",", &save) : NULL; p && n < 64;
             p = strtok_r(NULL, ",", &save))
            paths[n++] = p;
        o2p_status pst = copy ? o2p_builder_config_set_plugins_to_serialize(config, paths, n)
                              : O2P_ERR_OUT_OF_MEMORY;
        free(copy);
        if (pst != O2P_OK) {
            rc = cli_fail();
            goto out;
        }
    }
    if (o2p_builder_build_serialized(builder, net, config, &plan, &plan_size) != O2P_OK) {
        fprintf(stderr, "onnx2plan: error: %s: the build failed: %s\n", model, o2p_last_error());
        rc = EXIT_FAIL;
        goto out;
    }
    if (write_file_atomic(output, plan, plan_size) != 0) {
        fprintf(stderr, "onnx2plan: error: cannot write the plan to %s: %s\n", output,
                strerror(errno));
        rc = EXIT_FAIL;
        goto out;
    }
    printf("built %s: %zu bytes, target %s%s%s%s, in %.2f s\n", output, plan_size, target,
           cuda ? " (" : "",
           cuda ? (hw == O2P_HW_COMPAT_AMPERE_PLUS ? "ampere+" : arch_arg ? arch_arg
                                                                          : "the GPU present")
                : "",
           cuda ? ")" : "", now_seconds() - t0);
out:
    o2p_set_logger(NULL, NULL, O2P_SEVERITY_WARNING);
    o2p_free(plan);
    o2p_builder_config_destroy(config);
    o2p_builder_destroy(builder);
    o2p_parser_destroy(parser);
    o2p_network_destroy(net);
    cli_free_shapes(specs, nspecs);
    free(default_out);
    return rc;
}
