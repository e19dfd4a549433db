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
