/* main.c: the onnx2plan command-line tool: dispatch to the subcommands. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const char *const main_usage =
    "usage: onnx2plan <command> [options]\n"
    "\n"
    "onnx2plan compiles ONNX models ahead of time into plans for NVIDIA GPUs.\n"
    "\n"
    "commands:\n"
    "  MODEL.onnx [-o PLAN]  build a plan (same as 'build MODEL.onnx')\n"
    "  inspect MODEL.onnx    summarize a model: inputs, outputs, layers, inferred shapes\n"
    "  inspect PLAN          header, sections, layers with their tactics, memory\n"
    "  run PLAN              run a plan: outputs and latency\n"
    "  check PLAN            can this machine load the plan? every check, nothing run\n"
    "  plugins MODEL.onnx    the plugin libraries the model needs\n"
    "\n"
    "options:\n"
    "  --version             print the version and exit\n"
    "  -h, --help            print this help and exit\n"
    "\n"
    "Run 'onnx2plan <command> --help' for the options of a command.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        printf("onnx2plan %s\n", o2p_version());
        return EXIT_OK;
    }
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "inspect") == 0)
        return cmd_inspect(argc - 2, argv + 2);
    if (strcmp(cmd, "build") == 0)
        return cmd_build(argc - 2, argv + 2);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 2, argv + 2);
    if (strcmp(cmd, "plugins") == 0)
        return cmd_plugins(argc - 2, argv + 2);
    /* `onnx2plan MODEL.onnx ...` builds, as in the README's first line; a bare word that is
     * neither a command nor a file is a mistyped command. */
    if (cmd[0] != '-' && (strchr(cmd, '.') || strchr(cmd, '/') || access(cmd, F_OK) == 0))
        return cmd_build(argc - 1, argv + 1);
    return cli_usage_error("unknown command '%s'", cmd, NULL);
}
