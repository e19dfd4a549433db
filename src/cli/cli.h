/* cli.h: shared pieces of the onnx2plan command-line tool (src/cli). Exit codes: 0 success,
 * 1 a failure explained on stderr, 2 a usage error. */
#ifndef O2P_CLI_H
#define O2P_CLI_H

#include <stdio.h>

#include "o2p/o2p.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Prints "onnx2plan: <fmt with arg>" and a pointer to `onnx2plan [cmd] --help`; returns
 * EXIT_USAGE. */
int cli_usage_error(const char *fmt, const char *arg, const char *cmd);
/* Prints o2p_last_error() as an error; returns EXIT_FAIL. */
int cli_fail(void);

/* One NAME:DxDxD item of --shapes. */
typedef struct shape_spec {
    char *name;
    int rank;
    int64_t dims[O2P_MAX_RANK];
} shape_spec;

/* Parses "NAME:DxDxD[,NAME:DxD...]" (a name may contain ':' but not ','; split at the last
 * ':'). Returns 0 on a malformed value. Free with cli_free_shapes. */
int cli_parse_shapes(const char *arg, shape_spec **out, int *count);
void cli_free_shapes(shape_spec *specs, int count);
/* Fixes the shapes of the named graph inputs; prints the error and returns EXIT_FAIL when a
 * name is not an input or a shape does not fit, EXIT_OK otherwise. */
int cli_apply_shapes(o2p_network *net, const char *model, const shape_spec *specs, int count);

void cli_json_string(FILE *f, const char *s);

/* Whether the file starts like a plan (the container's magic). */
int cli_is_plan_file(const char *path);
/* `onnx2plan inspect PLAN`. */
int cli_inspect_plan(const char *path, int json, int layers);

/* Subcommands. */
int cmd_inspect(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
