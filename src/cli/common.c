/* common.c: what the onnx2plan subcommands share: exit codes and errors, --shapes, JSON
 * strings, loading a model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_usage_error(const char *fmt, const char *arg, const char *cmd)
{
    fprintf(stderr, "onnx2plan: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nRun 'onnx2plan%s%s --help' for usage.\n", cmd ? " " : "", cmd ? cmd : "");
    return EXIT_USAGE;
}

int cli_fail(void)
{
    fprintf(stderr, "onnx2plan: error: %s\n", o2p_last_error());
    return EXIT_FAIL;
}

/* ---------------------------------------------------------------- --shapes */

/* Parses "NAME:DxDxD[,NAME:DxD...]"; a name may contain ':' (split at the last one) but
 * not ','. A scalar is "NAME:" with nothing after the colon. */
int cli_parse_shapes(const char *arg, shape_spec **out, int *count)
{
    *out = NULL;
    *count = 0;
    char *copy = strdup(arg);
    if (!copy)
        return 0;
    int cap = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(item, ':');
        if (!colon || colon == item)
            goto bad;
        *colon = '\0';
        shape_spec s = {0};
        s.name = strdup(item);
        if (!s.name)
            goto bad;
        const char *p = colon + 1;
        while (*p) {
            if (s.rank == O2P_MAX_RANK || *p < '0' || *p > '9') {
                free(s.name);
                goto bad;
            }
            char *end;
            long long v = strtoll(p, &end, 10);
            if (v < 0 || (*end && *end != 'x')) {
                free(s.name);
                goto bad;
            }
            s.dims[s.rank++] = v;
            p = *end ? end + 1 : end;
            if (*end == 'x' && !*p) {
                free(s.name);
                goto bad;
            }
        }
        if (*count == cap) {
            cap = cap ? cap * 2 : 4;
            shape_spec *n = realloc(*out, (size_t)cap * sizeof *n);
            if (!n) {
                free(s.name);
                goto bad;
            }
            *out = n;
        }
        (*out)[(*count)++] = s;
    }
    free(copy);
    return *count > 0;
bad:
    free(copy);
    for (int i = 0; i < *count; i++)
        free((*out)[i].name);
    free(*out);
    *out = NULL;
    *count = 0;
    return 0;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}


void cli_free_shapes(shape_spec *specs, int count)
{
    for (int i = 0; i < count; i++)
        free(specs[i].name);
    free(specs);
}

int cli_apply_shapes(o2p_network *net, const char *model, const shape_spec *specs, int count)
{
    o2p_graph *g = o2p_network_get_graph(net);
    for (int i = 0; i < count; i++) {
        o2p_tensor *t = NULL;
        for (int k = 0; k < o2p_graph_num_inputs(g); k++)
            if (strcmp(o2p_tensor_get_name(o2p_graph_get_input(g, k)), specs[i].name) == 0)
                t = o2p_graph_get_input(g, k);
        if (!t) {
            fprintf(stderr, "onnx2plan: error: --shapes names '%s', which is not an input of "
                    "%s; the inputs are:", specs[i].name, model);
            for (int k = 0; k < o2p_graph_num_inputs(g); k++)
                fprintf(stderr, "%s '%s'", k ? "," : "",
                        o2p_tensor_get_name(o2p_graph_get_input(g, k)));
            fprintf(stderr, "\n");
            return EXIT_FAIL;
        }
        if (o2p_tensor_set_shape(t, specs[i].rank, specs[i].dims) != O2P_OK)
            return cli_fail();
    }
    return EXIT_OK;
}

int cli_runtime_option(int argc, char **argv, int *i, runtime_opts *o, const char *cmd)
{
    const char *a = argv[*i];
    if (strcmp(a, "--allow-host-code") == 0) {
        o->allow_host_code = 1;
        return 1;
    }
    if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
        o->verbose = 1;
        return 1;
    }
    if (strcmp(a, "--plugins") == 0) {
        /* plugin layers find their creators in the default registry */
        if (*i + 1 >= argc) {
            cli_usage_error("%s needs a library path", a, cmd);
            return 2;
        }
        ++*i;
        return cli_register_plugins((const char *const *)&argv[*i], 1) == EXIT_OK ? 1 : 3;
    }
    const char **slot = strcmp(a, "--load-runtime") == 0        ? &o->load_runtime
                        : strcmp(a, "--tempdir") == 0           ? &o->tempdir
                        : strcmp(a, "--tempfile-controls") == 0 ? &o->tempfile_controls
                                                                : NULL;
    if (!slot)
        return 0;
    if (*i + 1 >= argc) {
        cli_usage_error("%s needs a value", a, cmd);
        return 2;
    }
    *slot = argv[++*i];
    return 1;
}

/* "in_memory:allow,temporary:deny" into flags; 0 on a malformed value. */
static int parse_tempfile_controls(const char *spec, uint32_t *flags)
{
    uint32_t f = O2P_TEMPFILE_ALLOW_IN_MEMORY_FILES | O2P_TEMPFILE_ALLOW_TEMPORARY_FILES;
    char *copy = strdup(spec), *save = NULL;
    int ok = copy != NULL;
    for (char *item = ok ? strtok_r(copy, ",", &save) : NULL; item && ok;
         item = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(item, ':');
        if (!colon) {
            ok = 0;
            break;
        }
        *colon = '\0';
        uint32_t bit = strcmp(item, "in_memory") == 0   ? O2P_TEMPFILE_ALLOW_IN_MEMORY_FILES
                       : strcmp(item, "temporary") == 0 ? O2P_TEMPFILE_ALLOW_TEMPORARY_FILES
                                                        : 0;
        if (!bit)
            ok = 0;
        else if (strcmp(colon + 1, "allow") == 0)
            f |= bit;
        else if (strcmp(colon + 1, "deny") == 0)
            f &= ~bit;
        else
            ok = 0;
    }
    free(copy);
    *flags = f;
    return ok;
}

int cli_make_runtime(const runtime_opts *o, o2p_runtime **base, o2p_runtime **rt)
{
    *base = *rt = NULL;
    uint32_t flags = 0;
    if (o->tempfile_controls && !parse_tempfile_controls(o->tempfile_controls, &flags)) {
        fprintf(stderr, "onnx2plan: error: --tempfile-controls '%s': expected "
                "in_memory:allow|deny,temporary:allow|deny\n", o->tempfile_controls);
        return EXIT_USAGE;
    }
    if (o2p_runtime_create(base) != O2P_OK ||
        o2p_runtime_set_engine_host_code_allowed(*base, o->allow_host_code) != O2P_OK ||
        (o->tempfile_controls && o2p_runtime_set_tempfile_control_flags(*base, flags) != O2P_OK) ||
        (o->tempdir && o2p_runtime_set_temporary_directory(*base, o->tempdir) != O2P_OK)) {
        o2p_runtime_destroy(*base);
        *base = NULL;
        return cli_fail();
    }
    *rt = *base;
    if (o->load_runtime) {
        if (o2p_runtime_load_runtime(*base, o->load_runtime, rt) != O2P_OK) {
            o2p_runtime_destroy(*base);
            *base = *rt = NULL;
            return cli_fail();
        }
    }
    return EXIT_OK;
}

void cli_destroy_runtime(o2p_runtime *base, o2p_runtime *rt)
{
    if (rt && rt != base)
        o2p_runtime_destroy(rt);
    o2p_runtime_destroy(base);
}
