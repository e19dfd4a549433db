/* test_host_kernels.c: the host reference kernels against the ONNX backend test data. Each
 * case whose ops all have a host kernel is parsed, its inputs become constants, shapes are
 * inferred, and constant folding evaluates the whole graph through the kernels; every output
 * must then be a constant equal to the expected one (floats: |a-b| <= 1e-5 + 1e-3*|b|, NaN
 * where NaN; other types exact). O2P_KERNEL_TEST_FILTER=substr runs the cases whose folder
 * name contains substr; O2P_KERNEL_TEST_VERBOSE=1 prints every case. Cases known not to pass
 * are listed with their reason in tests/host_kernels_exclusions.txt. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_kernels.h"
#include "ir/ir.h"
#include "onnx/onnx.h"
#include "passes/passes.h"
#include "testutil.h"

#define MAX_CASES 4096

typedef struct op_tally {
    char op[64];
    int pass, fail;
} op_tally;

typedef struct run_stats {
    int pass, fail, excluded, no_kernel, not_importable;
    op_tally ops[256];
    int num_ops;
    char missing[4096]; /* ops without a host kernel, space separated */
} run_stats;

static op_tally *tally(run_stats *rs, const char *op)
{
    for (int i = 0; i < rs->num_ops; i++)
        if (strcmp(rs->ops[i].op, op) == 0)
            return &rs->ops[i];
    if (rs->num_ops == 256)
        return NULL;
    op_tally *t = &rs->ops[rs->num_ops++];
    memset(t, 0, sizeof *t);
    snprintf(t->op, sizeof t->op, "%s", op);
    return t;
}

static void note_missing(run_stats *rs, const char *op)
{
    char key[80];
    snprintf(key, sizeof key, " %s ", op);
    char padded[4100];
    snprintf(padded, sizeof padded, " %s", rs->missing);
    if (strstr(padded, key))
        return;
    size_t n = strlen(rs->missing);
    if (n + strlen(op) + 2 < sizeof rs->missing)
        snprintf(rs->missing + n, sizeof rs->missing - n, "%s ", op);
}

/* Exclusions: "suite/case  reason" lines. */
static char *exclusions;

static const char *excluded_reason(const char *suite, const char *name)
{
    static char reason[512];
    if (!exclusions)
        return NULL;
    char key[512];
    snprintf(key, sizeof key, "%s/%s", suite, name);
    size_t kl = strlen(key);
    for (const char *line = exclusions; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (line[0] != '#' && len > kl && strncmp(line, key, kl) == 0 &&
            (line[kl] == ' ' || line[kl] == '\t')) {
            const char *r = line + kl;
            while (*r == ' ' || *r == '\t')
                r++;
            snprintf(reason, sizeof reason, "%.*s", (int)(len - (size_t)(r - line)), r);
            return reason;
        }
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

static int close_enough(double a, double b)
{
    if (isnan(b))
        return isnan(a);
    if (isinf(b))
        return a == b;
    return fabs(a - b) <= 1e-5 + 1e-3 * fabs(b);
}

/* Compares a folded output with the expected tensor; fills why on mismatch. */
static int same_tensor(const ir_tensor *got, const ir_tensor *want, char *why, size_t size)
{
    char gs[256], ws[256];
    ir_shape_format(&got->shape, gs, sizeof gs);
    ir_shape_format(&want->shape, ws, sizeof ws);
    if (got->dtype != want->dtype) {
        snprintf(why, size, "output '%s' is %s, expected %s", got->name,
                 o2p_dtype_name(got->dtype), o2p_dtype_name(want->dtype));
        return 0;
    }
    if (strcmp(gs, ws) != 0) {
        snprintf(why, size, "output '%s' has shape %s, expected %s", got->name, gs, ws);
        return 0;
    }
    host_tensor hg, hw;
    memset(&hg, 0, sizeof hg);
    memset(&hw, 0, sizeof hw);
    hg.dtype = got->dtype;
    hw.dtype = want->dtype;
    hg.data = (void *)got->data;
    hw.data = (void *)want->data;
    int64_t n = ir_tensor_numel_const(want);
    int is_float = ir_dtype_is_float(want->dtype) || want->dtype == O2P_DTYPE_COMPLEX64 ||
                   want->dtype == O2P_DTYPE_COMPLEX128;
    if (want->dtype == O2P_DTYPE_COMPLEX64 || want->dtype == O2P_DTYPE_COMPLEX128) {
        snprintf(why, size, "complex outputs are not compared");
        return 0;
    }
    for (int64_t i = 0; i < n; i++) {
        if (is_float) {
            double a = host_get_f64(&hg, i), b = host_get_f64(&hw, i);
            if (!close_enough(a, b)) {
                snprintf(why, size, "output '%s' element %lld is %.9g, expected %.9g", got->name,
                         (long long)i, a, b);
                return 0;
            }
        } else {
            int64_t a = host_get_i64(&hg, i), b = host_get_i64(&hw, i);
            if (a != b) {
                snprintf(why, size, "output '%s' element %lld is %lld, expected %lld", got->name,
                         (long long)i, (long long)a, (long long)b);
                return 0;
            }
        }
    }
    return 1;
}

/* Loads a TensorProto file into a fresh constant of scratch network net. */
static o2p_status load_pb(ir_network *net, const char *path, ir_tensor **out)
{
    size_t size = 0;
    char *bytes = tu_read_file(path, &size);
    if (!bytes)
        return o2p_fail(O2P_ERR_IO, "%s: cannot read", path);
    static int counter;
    char name[64];
    snprintf(name, sizeof name, "pb_%d", counter++);
    o2p_status st = ir_tensor_new(net->main, name, IR_TENSOR_INPUT, out);
    if (st == O2P_OK)
        st = onnx_load_tensor_proto(net, *out, bytes, size, path);
    free(bytes);
    return st;
}

typedef enum { CASE_PASS, CASE_FAIL, CASE_NO_KERNEL, CASE_NOT_IMPORTABLE } case_result;

static case_result run_case(const char *dir, char *why, size_t size, char *ops, size_t ops_size,
                            run_stats *rs)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    ir_network *scratch = NULL;
    case_result res = CASE_FAIL;
    ops[0] = '\0';
    if (tu_parse_file(path, &net, &parser) != O2P_OK) {
        snprintf(why, size, "parse: %s", o2p_last_error());
        return CASE_NOT_IMPORTABLE;
    }
    if (o2p_parser_num_unsupported(parser) > 0) {
        snprintf(why, size, "op without an importer");
        res = CASE_NOT_IMPORTABLE;
        goto out;
    }
    ir_graph *g = net->main;
    for (int i = 0; i < g->layers.count; i++) {
        const ir_layer *l = g->layers.items[i];
        size_t n = strlen(ops);
        if (!strstr(ops, l->op_type) && n + strlen(l->op_type) + 2 < ops_size)
            snprintf(ops + n, ops_size - n, "%s%s", n ? "," : "", l->op_type);
        if (!host_kernel_lookup(l->domain, l->op_type)) {
            note_missing(rs, l->op_type);
            snprintf(why, size, "no host kernel for %s", l->op_type);
            res = CASE_NO_KERNEL;
            goto out;
        }
    }
    for (int i = 0; i < g->inputs.count; i++)
        if (((ir_tensor *)g->inputs.items[i])->dtype == O2P_DTYPE_UNDEFINED ||
            o2p_tensor_get_value_kind(g->inputs.items[i]) != O2P_VALUE_TENSOR) {
            snprintf(why, size, "input '%s' is not a tensor (a sequence or an optional)",
                     ((ir_tensor *)g->inputs.items[i])->name);
            res = CASE_NOT_IMPORTABLE;
            goto out;
        }
    /* Inputs become constants from test_data_set_0/input_<i>.pb, in graph input order. */
    int nin = g->inputs.count;
    ir_tensor **inputs = calloc((size_t)nin + 1, sizeof *inputs);
    for (int i = 0; i < nin; i++)
        inputs[i] = g->inputs.items[i];
    for (int i = 0; i < nin; i++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, i);
        size_t sz = 0;
        char *bytes = tu_read_file(path, &sz);
        if (!bytes) {
            snprintf(why, size, "cannot read %s", path);
            free(inputs);
            goto out;
        }
        o2p_dtype declared = inputs[i]->dtype;
        o2p_status st = onnx_load_tensor_proto(net, inputs[i], bytes, sz, path);
        free(bytes);
        /* Test-data quirk (onnx 1.12): bfloat16 values are stored as uint16 bit patterns. */
        if (st == O2P_OK && declared == O2P_DTYPE_BFLOAT16 && inputs[i]->dtype == O2P_DTYPE_UINT16)
            inputs[i]->dtype = O2P_DTYPE_BFLOAT16;
        if (st != O2P_OK) {
            snprintf(why, size, "input %d: %s", i, o2p_last_error());
            free(inputs);
            goto out;
        }
    }
    free(inputs);
    if (o2p_network_infer_shapes(net) != O2P_OK) {
        snprintf(why, size, "shape inference: %s", o2p_last_error());
        goto out;
    }
    pass_fold_stats fs;
    if (pass_fold_constants(net, (size_t)1 << 32, &fs) != O2P_OK) {
        snprintf(why, size, "%s", o2p_last_error());
        goto out;
    }
    if (g->layers.count > 0) {
        const ir_layer *l = g->layers.items[0];
        snprintf(why, size, "layer '%s' (%s) was not folded (%s)", l->name, l->op_type,
                 fs.layers_skipped_unsupported ? "its kernel refused the element type"
                                               : "unknown output shape or type");
        goto out;
    }
    scratch = ir_network_new();
    for (int k = 0; k < g->outputs.count; k++) {
        ir_tensor *got = g->outputs.items[k], *want;
        snprintf(path, sizeof path, "%s/test_data_set_0/output_%d.pb", dir, k);
        if (load_pb(scratch, path, &want) != O2P_OK) {
            snprintf(why, size, "expected output %d: %s", k, o2p_last_error());
            goto out;
        }
        if (got->dtype == O2P_DTYPE_BFLOAT16 && want->dtype == O2P_DTYPE_UINT16)
            want->dtype = O2P_DTYPE_BFLOAT16; /* the same quirk in expected outputs */
        if (!ir_tensor_is_const(got) && !(got->kind == IR_TENSOR_CONSTANT)) {
            snprintf(why, size, "output '%s' is not a constant after folding", got->name);
            goto out;
        }
        if (!same_tensor(got, want, why, size))
            goto out;
    }
    res = CASE_PASS;
out:
    ir_network_free(scratch);
    tu_parsed_free(net, parser);
    return res;
}

static void run_suite_dir(const char *suite, const char *filter, int verbose, run_stats *rs)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", O2P_TESTDATA_DIR, suite);
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] == '.' || (filter && !strstr(name, filter))) {
            free(names[i]);
            continue;
        }
        char casedir[4600], why[1024] = "", ops[512];
        snprintf(casedir, sizeof casedir, "%s/%s", dir, name);
        case_result r = run_case(casedir, why, sizeof why, ops, sizeof ops, rs);
        const char *excl = excluded_reason(suite, name);
        switch (r) {
        case CASE_PASS:
            rs->pass++;
            if (verbose)
                printf("PASS     %s/%s\n", suite, name);
            break;
        case CASE_FAIL:
            if (excl) {
                rs->excluded++;
                if (verbose)
                    printf("EXCLUDED %s/%s: %s (%s)\n", suite, name, excl, why);
            } else {
                rs->fail++;
                printf("FAIL     %s/%s [%s]: %s\n", suite, name, ops, why);
            }
            break;
        case CASE_NO_KERNEL:
            rs->no_kernel++;
            if (verbose)
                printf("SKIP     %s/%s: %s\n", suite, name, why);
            break;
        case CASE_NOT_IMPORTABLE:
            rs->not_importable++;
            if (verbose)
                printf("SKIP     %s/%s: %s\n", suite, name, why);
            break;
        }
        if (r == CASE_PASS || (r == CASE_FAIL && !excl)) {
            /* per-op tally over the ops of the case */
            char copy[512];
            snprintf(copy, sizeof copy, "%s", ops);
            char *save = NULL;
            for (char *op = strtok_r(copy, ",", &save); op; op = strtok_r(NULL, ",", &save)) {
                op_tally *t = tally(rs, op);
                if (t) {
                    if (r == CASE_PASS)
                        t->pass++;
                    else
                        t->fail++;
                }
            }
        }
        free(names[i]);
    }
    free(names);
}

START_TEST(test_host_kernels_against_onnx_test_data)
{
    if (!tu_have_testdata()) {
        printf("test_host_kernels: SKIPPED: ONNX test data not installed at %s\n",
               O2P_TESTDATA_DIR);
        return;
    }
    tu_quiet_log();
    setvbuf(stdout, NULL, _IOLBF, 0); /* Check runs the test in a child: keep every line */
    size_t exsize = 0;
    exclusions = tu_read_file(O2P_SOURCE_DIR "/tests/host_kernels_exclusions.txt", &exsize);
    const char *filter = getenv("O2P_KERNEL_TEST_FILTER");
    const char *v = getenv("O2P_KERNEL_TEST_VERBOSE");
    int verbose = v && *v && strcmp(v, "0") != 0;
    static run_stats rs;
    memset(&rs, 0, sizeof rs);
    const char *suites[] = {"node", "pytorch-operator", "pytorch-converted", "simple"};
    for (int s = 0; s < 4; s++)
        run_suite_dir(suites[s], filter && *filter ? filter : NULL, verbose, &rs);
    printf("test_host_kernels: per op (cases passed / failed, a case counts for every op in it):\n");
    for (int i = 0; i < rs.num_ops; i++)
        printf("  %-28s %4d %4d%s\n", rs.ops[i].op, rs.ops[i].pass, rs.ops[i].fail,
               rs.ops[i].fail ? "  <--" : "");
    printf("test_host_kernels: ops without a host kernel: %s\n",
           rs.missing[0] ? rs.missing : "none");
    printf("test_host_kernels: %d passed, %d failed, %d excluded (tests/host_kernels_exclusions.txt), "
           "%d skipped (no host kernel), %d skipped (not importable)\n",
           rs.pass, rs.fail, rs.excluded, rs.no_kernel, rs.not_importable);
    free(exclusions);
    ck_assert_msg(rs.fail == 0, "%d cases failed", rs.fail);
    if (!filter || !*filter)
        ck_assert_msg(rs.pass >= 1, "no case passed");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_kernels");
    TCase *tc = tcase_create("onnx_test_data");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_host_kernels_against_onnx_test_data);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
