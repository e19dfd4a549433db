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

/* Options of the commands that load plans (run, check). */
typedef struct runtime_opts {
    int allow_host_code;
    const char *load_runtime;      /* --load-runtime LIB */
    const char *tempdir;           /* --tempdir DIR */
    const char *tempfile_controls; /* --tempfile-controls in_memory:allow|deny,temporary:... */
    int verbose;
} runtime_opts;

#define CLI_RUNTIME_OPTIONS_HELP                                                               \
    "  --plugins LIB              register a plugin library (repeatable); plugin layers\n"      \
    "                             find their creators there or in the bundled one\n"           \
    "  --allow-host-code          let a version-compatible plan run the lean runtime it\n"      \
    "                             carries (host code: only for plans you trust)\n"              \
    "  --load-runtime LIB         run through this lean runtime library (libo2p_lean.so of\n"   \
    "                             the plan's version; for --exclude-lean-runtime plans)\n"      \
    "  --tempdir DIR              where a temporary file for the lean runtime may go\n"         \
    "  --tempfile-controls SPEC   in_memory:allow|deny,temporary:allow|deny (default both\n"   \
    "                             allowed)\n"                                                    \
    "  -v, --verbose              say which lean runtime runs the plan\n"

/* Consumes argv[*i] (and its value) when it is one of the options above: returns 1; 2 after
 * printing a usage error (exit with EXIT_USAGE); 3 after printing a failure, e.g. a plugin
 * library that does not load (exit with EXIT_FAIL); 0 when it is not one of them. */
int cli_runtime_option(int argc, char **argv, int *i, runtime_opts *o, const char *cmd);
/* A runtime with the options applied: *base is the runtime, *rt the one to use (a shim when
 * --load-runtime is given; the same as *base otherwise). Prints the error and returns
 * EXIT_FAIL on failure. */
int cli_make_runtime(const runtime_opts *o, o2p_runtime **base, o2p_runtime **rt);
void cli_destroy_runtime(o2p_runtime *base, o2p_runtime *rt);

/* Whether the file starts like a plan (the container's magic). */
int cli_is_plan_file(const char *path);
/* `onnx2plan inspect PLAN`. */
int cli_inspect_plan(const char *path, int json, int layers);

/* Registers plugin libraries (--plugins) in the default registry; prints the error. */
int cli_register_plugins(const char *const *libs, int count);

/* Subcommands. */
int cmd_plugins(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
