/* inspect.c: `onnx2plan inspect MODEL.onnx`: what the parser read and the shapes
 * inference gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *const inspect_usage =
    "usage: onnx2plan inspect MODEL.onnx|PLAN [options]\n"
    "\n"
    "Parses an ONNX model, infers the shapes of every tensor and prints a summary: producer,\n"
    "IR version, opsets, inputs and outputs with types and shapes, layers per op type, ops\n"
    "without an importer (with node names) and weight bytes.\n"
    "\n"
    "options:\n"
    "  --layers                   also list every layer with its inferred shapes\n"
    "  --json                     print the same information as JSON\n"
    "  --shapes NAME:DxD,...      fix the dynamic dims of inputs, e.g. input:1x3x224x224\n"
    "                             (a NAME containing ':' is split at the last ':')\n"
    "  --plugins LIB              register a plugin library (repeatable)\n"
    "  --plugin-instancenorm      import InstanceNormalization as the plugin layer instead\n"
    "                             of the native layer\n"
    "  -h, --help                 print this help and exit\n";

/* Shape as a JSON array: numbers for known dims, strings for symbolic ones, null for
 * unknown; null for an unknown rank. */
static void json_shape(FILE *f, const o2p_tensor *t)
{
    int rank = o2p_tensor_get_rank(t);
    if (rank < 0) {
        fputs("null", f);
        return;
    }
    fputc('[', f);
    for (int i = 0; i < rank; i++) {
        int64_t d = o2p_tensor_get_dim(t, i);
        const char *sym = o2p_tensor_get_dim_name(t, i);
        if (i)
            fputs(", ", f);
        if (d >= 0)
            fprintf(f, "%lld", (long long)d);
        else if (sym)
            cli_json_string(f, sym);
        else
            fputs("null", f);
    }
    fputc(']', f);
}

static const char *op_display(const o2p_layer *l, char *buf, size_t size)
{
    const char *dom = o2p_layer_get_domain(l);
    snprintf(buf, size, "%s%s%s", dom, *dom ? "." : "", o2p_layer_get_op_type(l));
    return buf;
}

/* ---------------------------------------------------------------- statistics */

typedef struct op_count {
    char op[256];
    int count;
    int supported;
} op_count;

typedef struct stats {
    op_count *ops;
    int num_ops;
    int cap_ops;
    int layers;
    int subgraphs;
    int constants;
    size_t weight_bytes;
} stats;

static void count_graph(stats *s, const o2p_graph *g)
{
    for (int i = 0; i < o2p_graph_num_constants(g); i++) {
        size_t n = 0;
        o2p_tensor_get_data(o2p_graph_get_constant(g, i), &n);
        s->constants++;
        s->weight_bytes += n;
    }
    for (int i = 0; i < o2p_graph_num_layers(g); i++) {
        const o2p_layer *l = o2p_graph_get_layer(g, i);
        char name[256];
        op_display(l, name, sizeof name);
        s->layers++;
        int k;
        for (k = 0; k < s->num_ops; k++)
            if (strcmp(s->ops[k].op, name) == 0)
                break;
        if (k == s->num_ops) {
            if (s->num_ops == s->cap_ops) {
                int cap = s->cap_ops ? s->cap_ops * 2 : 32;
                op_count *n = realloc(s->ops, (size_t)cap * sizeof *n);
                if (!n)
                    continue;
                s->ops = n;
                s->cap_ops = cap;
            }
            memset(&s->ops[k], 0, sizeof s->ops[k]);
            snprintf(s->ops[k].op, sizeof s->ops[k].op, "%s", name);
            s->ops[k].supported = o2p_layer_is_supported(l);
            s->num_ops++;
        }
        s->ops[k].count++;
        for (int a = 0; a < o2p_layer_num_attrs(l); a++)
            for (int e = 0; e < o2p_layer_attr_count(l, a); e++) {
                const o2p_graph *sub = o2p_layer_attr_graph(l, a, e);
                if (sub) {
                    s->subgraphs++;
                    count_graph(s, sub);
                }
            }
    }
}

static int cmp_ops(const void *a, const void *b)
{
    const op_count *x = a, *y = b;
    if (x->count != y->count)
        return y->count - x->count;
    return strcmp(x->op, y->op);
}

/* ---------------------------------------------------------------- text output */

static void print_tensor_line(const o2p_tensor *t, const char *indent)
{
    char shape[512];
    o2p_tensor_format_shape(t, shape, sizeof shape);
    printf("%s%-24s %-9s %s\n", indent, o2p_tensor_get_name(t),
           o2p_dtype_name(o2p_tensor_get_dtype(t)), shape);
}

static void print_layers_text(const o2p_graph *g, int depth)
{
    char indent[80];
    int n = depth * 4 + 2;
    if (n > (int)sizeof indent - 1)
        n = (int)sizeof indent - 1;
    memset(indent, ' ', (size_t)n);
    indent[n] = '\0';
    for (int i = 0; i < o2p_graph_num_layers(g); i++) {
        const o2p_layer *l = o2p_graph_get_layer(g, i);
        char op[256];
        const char *plib = o2p_layer_get_plugin_library(l);
        printf("%s#%d %s [%s]%s%s%s\n", indent, i, o2p_layer_get_name(l),
               op_display(l, op, sizeof op), o2p_layer_is_supported(l) ? "" : " (no importer)",
               plib ? " plugin from " : "", plib ? plib : "");
        for (int k = 0; k < o2p_layer_num_inputs(l); k++) {
            const o2p_tensor *t = o2p_layer_get_input(l, k);
            char shape[512];
            if (!t)
                continue;
            o2p_tensor_format_shape(t, shape, sizeof shape);
            printf("%s    in  %s: %s %s%s\n", indent, o2p_tensor_get_name(t),
                   o2p_dtype_name(o2p_tensor_get_dtype(t)), shape,
                   o2p_tensor_is_constant(t) ? " (constant)" : "");
        }
        for (int k = 0; k < o2p_layer_num_outputs(l); k++) {
            const o2p_tensor *t = o2p_layer_get_output(l, k);
            char shape[512];
            if (!t)
                continue;
            o2p_tensor_format_shape(t, shape, sizeof shape);
            printf("%s    out %s: %s %s\n", indent, o2p_tensor_get_name(t),
                   o2p_dtype_name(o2p_tensor_get_dtype(t)), shape);
        }
        for (int a = 0; a < o2p_layer_num_attrs(l); a++)
            for (int e = 0; e < o2p_layer_attr_count(l, a); e++) {
                const o2p_graph *sub = o2p_layer_attr_graph(l, a, e);
                if (!sub)
                    continue;
                printf("%s    subgraph %s '%s':\n", indent, o2p_layer_attr_name(l, a),
                       o2p_graph_get_name(sub));
                print_layers_text(sub, depth + 1);
            }
    }
}

static void print_unsupported_text(const o2p_parser *parser)
{
    int n = o2p_parser_num_unsupported(parser);
    if (n == 0) {
        printf("ops without an importer: none\n");
        return;
    }
    printf("ops without an importer: %d node%s\n", n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        const o2p_layer *l = o2p_parser_get_unsupported(parser, i);
        char op[256];
        op_display(l, op, sizeof op);
        const char *why = o2p_layer_get_unsupported_reason(l);
        printf("  %-24s %s", op, o2p_layer_get_name(l));
        if (why && strcmp(why, "no importer for this op") != 0)
            printf(" (%s)", why);
        printf("\n");
    }
}

static void print_text(const char *path, const o2p_network *net, const o2p_parser *parser,
                       const stats *s, int layers)
{
    const o2p_graph *g = o2p_network_get_graph((o2p_network *)net);
    const char *prod = o2p_network_get_info(net, O2P_INFO_PRODUCER_NAME);
    const char *pver = o2p_network_get_info(net, O2P_INFO_PRODUCER_VERSION);
    printf("model:      %s\n", path);
    printf("producer:   %s%s%s\n", *prod ? prod : "(unknown)", *pver ? " " : "", pver);
    printf("IR version: %lld\n", (long long)o2p_network_ir_version(net));
    printf("opsets:    ");
    for (int i = 0; i < o2p_network_num_opsets(net); i++) {
        const char *d = o2p_network_opset_domain(net, i);
        printf("%s %s %lld", i ? "," : "", *d ? d : "ai.onnx",
               (long long)o2p_network_opset_version(net, i));
    }
    printf("\n");
    const char *gname = o2p_network_get_info(net, O2P_INFO_GRAPH_NAME);
    if (*gname)
        printf("graph:      %s\n", gname);
    for (int i = 0; i < o2p_network_num_metadata(net); i++)
        printf("metadata:   %s = %s\n", o2p_network_metadata_key(net, i),
               o2p_network_metadata_value(net, i));
    printf("inputs:     %d\n", o2p_graph_num_inputs(g));
    for (int i = 0; i < o2p_graph_num_inputs(g); i++)
        print_tensor_line(o2p_graph_get_input(g, i), "  ");
    printf("outputs:    %d\n", o2p_graph_num_outputs(g));
    for (int i = 0; i < o2p_graph_num_outputs(g); i++)
        print_tensor_line(o2p_graph_get_output(g, i), "  ");
    printf("layers:     %d", s->layers);
    if (s->subgraphs)
        printf(" (%d in the main graph, the rest in %d subgraph%s)", o2p_graph_num_layers(g),
               s->subgraphs, s->subgraphs == 1 ? "" : "s");
    printf("\n");
    for (int i = 0; i < s->num_ops; i++)
        printf("  %-24s %d%s\n", s->ops[i].op, s->ops[i].count,
               s->ops[i].supported ? "" : "  (no importer)");
    print_unsupported_text(parser);
    printf("weights:    %zu bytes in %d constant%s\n", s->weight_bytes, s->constants,
           s->constants == 1 ? "" : "s");
    if (layers) {
        printf("\nlayers with inferred shapes:\n");
        print_layers_text(g, 0);
    }
}

/* ---------------------------------------------------------------- JSON output */

static void json_tensor(FILE *f, const o2p_tensor *t)
{
    fputs("{\"name\": ", f);
    cli_json_string(f, o2p_tensor_get_name(t));
    fputs(", \"dtype\": ", f);
    cli_json_string(f, o2p_dtype_name(o2p_tensor_get_dtype(t)));
    fputs(", \"shape\": ", f);
    json_shape(f, t);
    if (o2p_tensor_is_constant(t))
        fputs(", \"constant\": true", f);
    fputc('}', f);
}

/* A layer's inputs or outputs as a JSON array (null for an omitted optional one). */
static void json_tensor_list(FILE *f, const o2p_layer *l, int n,
                             o2p_tensor *(*get)(const o2p_layer *, int))
{
    fputc('[', f);
    for (int k = 0; k < n; k++) {
        const o2p_tensor *t = get(l, k);
        fputs(k ? ", " : "", f);
        if (t)
            json_tensor(f, t);
        else
            fputs("null", f);
    }
    fputc(']', f);
}

static void json_layers(FILE *f, const o2p_graph *g)
{
    fputc('[', f);
    for (int i = 0; i < o2p_graph_num_layers(g); i++) {
        const o2p_layer *l = o2p_graph_get_layer(g, i);
        fputs(i ? ",\n  {" : "\n  {", f);
        fputs("\"name\": ", f);
        cli_json_string(f, o2p_layer_get_name(l));
        fputs(", \"op_type\": ", f);
        cli_json_string(f, o2p_layer_get_op_type(l));
        fputs(", \"domain\": ", f);
        cli_json_string(f, o2p_layer_get_domain(l));
        fprintf(f, ", \"supported\": %s, ", o2p_layer_is_supported(l) ? "true" : "false");
        if (o2p_layer_get_plugin_library(l)) {
            fputs("\"plugin_library\": ", f);
            cli_json_string(f, o2p_layer_get_plugin_library(l));
            fputs(", ", f);
        }
        fputs("\"inputs\": ", f);
        json_tensor_list(f, l, o2p_layer_num_inputs(l), o2p_layer_get_input);
        fputs(", \"outputs\": ", f);
        json_tensor_list(f, l, o2p_layer_num_outputs(l), o2p_layer_get_output);
        int any = 0;
        for (int a = 0; a < o2p_layer_num_attrs(l); a++)
            for (int e = 0; e < o2p_layer_attr_count(l, a); e++) {
                const o2p_graph *sub = o2p_layer_attr_graph(l, a, e);
                if (!sub)
                    continue;
                fputs(any ? ", " : ", \"subgraphs\": [", f);
                any = 1;
                fputs("{\"attribute\": ", f);
                cli_json_string(f, o2p_layer_attr_name(l, a));
                fputs(", \"name\": ", f);
                cli_json_string(f, o2p_graph_get_name(sub));
                fputs(", \"layers\": ", f);
                json_layers(f, sub);
                fputc('}', f);
            }
        if (any)
            fputc(']', f);
        fputc('}', f);
    }
    fputs("]", f);
}

static void print_json(const char *path, const o2p_network *net, const o2p_parser *parser,
                       const stats *s, int layers)
{
    FILE *f = stdout;
    const o2p_graph *g = o2p_network_get_graph((o2p_network *)net);
    fputs("{\"model\": ", f);
    cli_json_string(f, path);
    fputs(",\n \"producer\": {\"name\": ", f);
    cli_json_string(f, o2p_network_get_info(net, O2P_INFO_PRODUCER_NAME));
    fputs(", \"version\": ", f);
    cli_json_string(f, o2p_network_get_info(net, O2P_INFO_PRODUCER_VERSION));
    fprintf(f, "},\n \"ir_version\": %lld,\n \"model_version\": %lld,\n \"graph\": ",
            (long long)o2p_network_ir_version(net), (long long)o2p_network_model_version(net));
    cli_json_string(f, o2p_network_get_info(net, O2P_INFO_GRAPH_NAME));
    fputs(",\n \"opsets\": [", f);
    for (int i = 0; i < o2p_network_num_opsets(net); i++) {
        const char *d = o2p_network_opset_domain(net, i);
        fputs(i ? ", {\"domain\": " : "{\"domain\": ", f);
        cli_json_string(f, *d ? d : "ai.onnx");
        fprintf(f, ", \"version\": %lld}", (long long)o2p_network_opset_version(net, i));
    }
    fputs("],\n \"metadata\": {", f);
    for (int i = 0; i < o2p_network_num_metadata(net); i++) {
        fputs(i ? ", " : "", f);
        cli_json_string(f, o2p_network_metadata_key(net, i));
        fputs(": ", f);
        cli_json_string(f, o2p_network_metadata_value(net, i));
    }
    fputs("},\n \"inputs\": [", f);
    for (int i = 0; i < o2p_graph_num_inputs(g); i++) {
        fputs(i ? ", " : "", f);
        json_tensor(f, o2p_graph_get_input(g, i));
    }
    fputs("],\n \"outputs\": [", f);
    for (int i = 0; i < o2p_graph_num_outputs(g); i++) {
        fputs(i ? ", " : "", f);
        json_tensor(f, o2p_graph_get_output(g, i));
    }
    fprintf(f, "],\n \"layer_count\": %d,\n \"subgraph_count\": %d,\n \"op_counts\": {",
            s->layers, s->subgraphs);
    for (int i = 0; i < s->num_ops; i++) {
        fputs(i ? ", " : "", f);
        cli_json_string(f, s->ops[i].op);
        fprintf(f, ": %d", s->ops[i].count);
    }
    fputs("},\n \"unsupported\": [", f);
    for (int i = 0; i < o2p_parser_num_unsupported(parser); i++) {
        const o2p_layer *l = o2p_parser_get_unsupported(parser, i);
        char op[256];
        fputs(i ? ", {\"node\": " : "{\"node\": ", f);
        cli_json_string(f, o2p_layer_get_name(l));
        fputs(", \"op_type\": ", f);
        cli_json_string(f, op_display(l, op, sizeof op));
        fputs(", \"reason\": ", f);
        cli_json_string(f, o2p_layer_get_unsupported_reason(l));
        fputc('}', f);
    }
    fprintf(f, "],\n \"weights\": {\"bytes\": %zu, \"constants\": %d}", s->weight_bytes,
            s->constants);
    if (layers) {
        fputs(",\n \"layers\": ", f);
        json_layers(f, g);
    }
    fputs("}\n", f);
}

/* ---------------------------------------------------------------- inspect */

int cmd_inspect(int argc, char **argv)
{
    const char *model = NULL, *shapes_arg = NULL;
    int layers = 0, json = 0, plugin_in = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(inspect_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--layers") == 0) {
            layers = 1;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--plugins") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a library path", a, "inspect");
            int prc = cli_register_plugins((const char *const *)&argv[++i], 1);
            if (prc != EXIT_OK)
                return prc;
        } else if (strcmp(a, "--plugin-instancenorm") == 0) {
            plugin_in = 1;
        } else if (strcmp(a, "--shapes") == 0 || strncmp(a, "--shapes=", 9) == 0) {
            if (a[8] == '=')
                shapes_arg = a + 9;
            else if (i + 1 < argc)
                shapes_arg = argv[++i];
            else
                return cli_usage_error("%s needs a value, e.g. --shapes input:1x3x224x224", a,
                                   "inspect");
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("unknown option '%s'", a, "inspect");
        } else if (model) {
            return cli_usage_error("more than one model given ('%s')", a, "inspect");
        } else {
            model = a;
        }
    }
    if (!model)
        return cli_usage_error("%sinspect needs a model file", "", "inspect");
    if (cli_is_plan_file(model)) {
        if (shapes_arg || plugin_in)
            return cli_usage_error("%s--shapes and --plugin-instancenorm apply to models, not "
                                   "plans", "", "inspect");
        return cli_inspect_plan(model, json, layers);
    }
    shape_spec *specs = NULL;
    int nspecs = 0;
    if (shapes_arg && !cli_parse_shapes(shapes_arg, &specs, &nspecs))
        return cli_usage_error("bad --shapes value '%s': expected NAME:DxDxD[,NAME:DxD...] with "
                           "non-negative dims", shapes_arg, "inspect");

    int rc = EXIT_OK;
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    stats s = {0};
    if (o2p_network_create(&net) != O2P_OK || o2p_parser_create(net, &parser) != O2P_OK ||
        o2p_parser_set_flag(parser, O2P_PARSER_FLAG_NATIVE_INSTANCENORM, !plugin_in) != O2P_OK ||
        o2p_parser_parse_file(parser, model) != O2P_OK) {
        rc = cli_fail();
        goto out;
    }
    if ((rc = cli_apply_shapes(net, model, specs, nspecs)) != EXIT_OK)
        goto out;
    if (o2p_network_infer_shapes(net) != O2P_OK) {
        fprintf(stderr, "onnx2plan: error: %s: shape inference failed: %s\n", model,
                o2p_last_error());
        rc = EXIT_FAIL;
        goto out;
    }
    count_graph(&s, o2p_network_get_graph(net));
    if (s.num_ops > 1)
        qsort(s.ops, (size_t)s.num_ops, sizeof *s.ops, cmp_ops);
    if (json)
        print_json(model, net, parser, &s, layers);
    else
        print_text(model, net, parser, &s, layers);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "onnx2plan: error: writing the output failed\n");
        rc = EXIT_FAIL;
    }
out:
    free(s.ops);
    cli_free_shapes(specs, nspecs);
    o2p_parser_destroy(parser);
    o2p_network_destroy(net);
    return rc;
}

