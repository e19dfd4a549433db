/* plugins.c: `onnx2plan plugins MODEL.onnx`: the plugin libraries the model needs (what a
 * version-compatible plan has to carry, TensorRT's getUsedVCPluginLibraries). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *const plugins_usage =
    "usage: onnx2plan plugins MODEL.onnx [options]\n"
    "\n"
    "Prints the plugin libraries the model's plugin layers come from, one path per line.\n"
    "Exit 0; exit 1 when some op has neither a native importer nor a plugin (named on\n"
    "stderr).\n"
    "\n"
    "options:\n"
    "  --plugins LIB              register a plugin library (repeatable; the bundled\n"
    "                             libo2p_plugins.so is registered by default)\n"
    "  --plugin-instancenorm      InstanceNormalization as the plugin layer (default native)\n"
    "  -h, --help                 print this help and exit\n";

int cli_register_plugins(const char *const *libs, int count)
{
    for (int i = 0; i < count; i++)
        if (o2p_plugin_registry_load_library(o2p_default_plugin_registry(), libs[i]) != O2P_OK)
            return cli_fail();
    return EXIT_OK;
}

int cmd_plugins(int argc, char **argv)
{
    const char *model = NULL;
    const char **libs = calloc((size_t)argc + 1, sizeof *libs);
    int nlibs = 0, plugin_in = 0;
    if (!libs)
        return cli_fail();
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(plugins_usage, stdout);
            free(libs);
            return EXIT_OK;
        } else if (strcmp(a, "--plugins") == 0) {
            if (i + 1 >= argc) {
                free(libs);
                return cli_usage_error("%s needs a library path", a, "plugins");
            }
            libs[nlibs++] = argv[++i];
        } else if (strcmp(a, "--plugin-instancenorm") == 0) {
            plugin_in = 1;
        } else if (a[0] == '-' && a[1]) {
            free(libs);
            return cli_usage_error("unknown option '%s'", a, "plugins");
        } else if (model) {
            free(libs);
            return cli_usage_error("more than one model given ('%s')", a, "plugins");
        } else {
            model = a;
        }
    }
    if (!model) {
        free(libs);
        return cli_usage_error("%splugins needs a model file", "", "plugins");
    }
    int rc = cli_register_plugins(libs, nlibs);
    free(libs);
    if (rc != EXIT_OK)
        return rc;
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    if (o2p_network_create(&net) != O2P_OK || o2p_parser_create(net, &parser) != O2P_OK ||
        o2p_parser_set_flag(parser, O2P_PARSER_FLAG_NATIVE_INSTANCENORM, !plugin_in) != O2P_OK ||
        o2p_parser_parse_file(parser, model) != O2P_OK) {
        rc = cli_fail();
        goto out;
    }
    for (int i = 0; i < o2p_parser_num_used_vc_plugin_libraries(parser); i++)
        printf("%s\n", o2p_parser_get_used_vc_plugin_library(parser, i));
    if (o2p_parser_num_unsupported(parser) > 0) {
        fprintf(stderr, "onnx2plan: error: %s: no importer and no plugin for:", model);
        for (int i = 0; i < o2p_parser_num_unsupported(parser); i++) {
            const o2p_layer *l = o2p_parser_get_unsupported(parser, i);
            const char *dom = o2p_layer_get_domain(l);
            fprintf(stderr, "%s %s%s%s (node '%s')", i ? "," : "", dom, *dom ? "." : "",
                    o2p_layer_get_op_type(l), o2p_layer_get_name(l));
        }
        fprintf(stderr, "\n");
        rc = EXIT_FAIL;
    }
out:
    o2p_parser_destroy(parser);
    o2p_network_destroy(net);
    return rc;
}
