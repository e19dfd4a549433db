/* test_testdata.c: shape and type inference on every model of the ONNX conformance test data
 * (node, pytorch-converted, pytorch-operator, simple): each model must parse and infer, or
 * be reported by the parser as using operators without an importer; every graph output
 * whose shape inference fully knows must have the dims and element type of the expected
 * output in test_data_set_0.
 *
 * Every model is tried twice: as it is, and with its small inputs (rank 0 or 1, at most 64
 * elements: shapes, axes, starts, scales, K, trip counts...) turned into initializers that
 * hold the test's input values. Many node tests feed such parameters as graph inputs, which
 * leaves the output shape unknowable; the second pass makes them constants so that the
 * value-dependent inference (Reshape, Slice, Resize, TopK, Range...) is checked too. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

static const char *const suites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};
#define NUM_SUITES (sizeof suites / sizeof suites[0])
/* Share of outputs whose shape must be fully inferred in pass 1, in percent. */
#define PASS1_PERCENT 90

typedef struct suite_stats {
    int models;           /* model folders */
    int loaded;           /* parsed and inferred */
    int with_unsupported; /* parsed, with nodes that have no importer */
    int outputs;          /* tensor graph outputs with an expected output file */
    int compared;         /* ... whose inferred shape is fully known */
    int matched;
    int unknown;
    int not_tensor; /* sequence / optional outputs: not compared */
} suite_stats;

/* A growing text buffer for the lists printed at the end. */
typedef struct text {
    char *s;
    size_t len, cap;
    int count;
} text;

static void text_add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(text *t, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    if (t->len + n + 2 > t->cap) {
        t->cap = (t->len + n + 2) * 2;
        t->s = realloc(t->s, t->cap);
        ck_assert_ptr_nonnull(t->s);
    }
    memcpy(t->s + t->len, line, n);
    t->len += n;
    t->s[t->len++] = '\n';
    t->s[t->len] = '\0';
    t->count++;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the sub-folders of dir (malloc'ed array of malloc'ed strings). */
static char **list_dirs(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    int n = 0, cap = 0;
    *count = 0;
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *path = tu_printf("%s/%s", dir, e->d_name);
        struct stat st;
        int is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        free(path);
        if (!is_dir)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            names = realloc(names, (size_t)cap * sizeof *names);
            ck_assert_ptr_nonnull(names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, name_cmp);
    *count = n;
    return names;
}

static void *slurp(const char *path, size_t *size)
{
    return tu_read_file(path, size);
}

/* The model's graph outputs: whether each is a tensor (sequences and optionals are not
 * compared). Returns the count, -1 if the model cannot be read. */
static int output_kinds(const char *model_path, int *is_tensor, int cap)
{
    size_t size;
    void *bytes = slurp(model_path, &size);
    if (!bytes)
        return -1;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, bytes);
    free(bytes);
    if (!mp || !mp->graph) {
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        return -1;
    }
    int n = (int)mp->graph->n_output;
    for (int i = 0; i < n && i < cap; i++) {
        const Onnx__TypeProto *t = mp->graph->output[i]->type;
        is_tensor[i] = t && t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    return n;
}

/* The model with its small inputs (rank <= 1, at most 64 elements, not strings) made into
 * initializers holding the test's input values; NULL when it has no such input. The inputs
 * stay listed as graph inputs, as IR < 4 models list their initializers. */
static uint8_t *const_variant(const char *model_path, const char *case_dir, size_t *out_size)
{
    size_t size;
    void *bytes = slurp(model_path, &size);
    if (!bytes)
        return NULL;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, bytes);
    free(bytes);
    if (!mp || !mp->graph) {
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        return NULL;
    }
    Onnx__GraphProto *g = mp->graph;
    int added = 0;
    for (int k = 0;; k++) {
        char *path = tu_printf("%s/test_data_set_0/input_%d.pb", case_dir, k);
        void *tb = slurp(path, &size);
        free(path);
        if (!tb)
            break;
        Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, tb);
        free(tb);
        if (!tp)
            continue;
        /* the graph input it feeds: by name, else the k-th one that is not an initializer */
        const char *name = NULL;
        if (tp->name && *tp->name) {
            name = tp->name;
        } else {
            int seen = 0;
            for (size_t i = 0; i < g->n_input && !name; i++) {
                int is_init = 0;
                for (size_t j = 0; j < g->n_initializer && !is_init; j++)
                    is_init = strcmp(g->initializer[j]->name, g->input[i]->name) == 0;
                if (!is_init && seen++ == k)
                    name = g->input[i]->name;
            }
        }
        int64_t numel = 1;
        for (size_t d = 0; d < tp->n_dims && d < 2; d++)
            numel = tp->dims[d] >= 0 && tp->dims[d] <= 64 ? numel * tp->dims[d] : 65;
        int small = name && tp->n_dims <= 1 && numel <= 64 &&
                    tp->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__STRING &&
                    tp->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED;
        for (size_t j = 0; small && j < g->n_initializer; j++)
            small = strcmp(g->initializer[j]->name, name) != 0;
        if (!small) {
            onnx__tensor_proto__free_unpacked(tp, NULL);
            continue;
        }
        if (tp->name != name) {
            free(tp->name);
            tp->name = strdup(name);
        }
        Onnx__TensorProto **inits = realloc(g->initializer, (g->n_initializer + 1) * sizeof *inits);
        ck_assert_ptr_nonnull(inits);
        g->initializer = inits;
        g->initializer[g->n_initializer++] = tp;
        added++;
    }
    uint8_t *out = NULL;
    if (added) {
        *out_size = onnx__model_proto__get_packed_size(mp);
        out = malloc(*out_size ? *out_size : 1);
        ck_assert_ptr_nonnull(out);
        onnx__model_proto__pack(mp, out);
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    return out;
}

static void format_dims(const int64_t *dims, int rank, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    if (rank == 0) {
        snprintf(buf, size, "scalar");
        return;
    }
    for (int i = 0; i < rank && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? "x" : "", (long long)dims[i]);
}

/* Compares graph output i of the network with the expected tensor of the test case. */
static void compare_output(const char *suite, const char *model, const char *case_dir,
                           const o2p_tensor *t, int i, suite_stats *st, text *mismatches,
                           text *unknowns)
{
    char *path = tu_printf("%s/test_data_set_0/output_%d.pb", case_dir, i);
    size_t size;
    void *bytes = slurp(path, &size);
    free(path);
    if (!bytes)
        return; /* no expected data for this output */
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, bytes);
    free(bytes);
    if (!tp)
        return;
    st->outputs++;
    char got[512];
    o2p_tensor_format_shape(t, got, sizeof got);
    int rank = o2p_tensor_get_rank(t);
    int known = rank >= 0;
    for (int d = 0; known && d < rank; d++)
        known = o2p_tensor_get_dim(t, d) >= 0;
    if (!known) {
        st->unknown++;
        text_add(unknowns, "  %s/%s output %d '%s': %s", suite, model, i, o2p_tensor_get_name(t),
                 got);
        onnx__tensor_proto__free_unpacked(tp, NULL);
        return;
    }
    st->compared++;
    char want[512];
    format_dims(tp->dims, (int)tp->n_dims, want, sizeof want);
    int ok = (size_t)rank == tp->n_dims;
    for (int d = 0; ok && d < rank; d++)
        ok = o2p_tensor_get_dim(t, d) == tp->dims[d];
    o2p_dtype dt = o2p_tensor_get_dtype(t);
    int dtype_ok = dt == O2P_DTYPE_UNDEFINED || (int)dt == tp->data_type;
    /* A quirk of the test data: numpy has no bfloat16, so the Cast/CastLike-to-BFLOAT16
     * tests store their expected outputs as uint16 (the same bits). */
    if (dt == O2P_DTYPE_BFLOAT16 && tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT16)
        dtype_ok = 1;
    if (ok && dtype_ok)
        st->matched++;
    else
        text_add(mismatches, "  %s/%s output %d '%s': inferred %s %s, expected %s %s", suite, model,
                 i, o2p_tensor_get_name(t), o2p_dtype_name(dt), got,
                 o2p_dtype_name((o2p_dtype)tp->data_type), want);
    onnx__tensor_proto__free_unpacked(tp, NULL);
}

typedef struct pass_result {
    suite_stats stats[NUM_SUITES];
    suite_stats total;
    text failures, unsupported, mismatches, unknowns;
} pass_result;

/* Parses, infers and compares one model; bytes NULL: parse the file. */
static void run_model(const char *suite, size_t s, const char *model, const char *case_dir,
                      const char *model_path, const uint8_t *bytes, size_t size, pass_result *r)
{
    suite_stats *st = &r->stats[s];
    st->models++;
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    ck_assert_int_eq(o2p_network_create(&net), O2P_OK);
    ck_assert_int_eq(o2p_parser_create(net, &parser), O2P_OK);
    ck_assert_int_eq(o2p_parser_set_flag(parser, O2P_PARSER_FLAG_NATIVE_INSTANCENORM, 1), O2P_OK);
    o2p_status rc = bytes ? o2p_parser_parse_bytes(parser, bytes, size, case_dir, model_path)
                          : o2p_parser_parse_file(parser, model_path);
    if (rc != O2P_OK) {
        text_add(&r->failures, "  %s/%s: parse: %s: %s", suite, model, o2p_status_name(rc),
                 o2p_last_error());
        goto out;
    }
    int nu = o2p_parser_num_unsupported(parser);
    if (nu > 0) {
        char ops[1024] = "";
        size_t len = 0;
        for (int k = 0; k < nu && len < sizeof ops - 64; k++) {
            const o2p_layer *l = o2p_parser_get_unsupported(parser, k);
            const char *dom = o2p_layer_get_domain(l);
            char one[256];
            snprintf(one, sizeof one, "%s%s%s", dom && *dom ? dom : "", dom && *dom ? "." : "",
                     o2p_layer_get_op_type(l));
            if (tu_contains(ops, one))
                continue;
            len += (size_t)snprintf(ops + len, sizeof ops - len, "%s%s", len ? " " : "", one);
        }
        st->with_unsupported++;
        text_add(&r->unsupported, "  %s/%s: %s", suite, model, ops);
    }
    rc = o2p_network_infer_shapes(net);
    if (rc != O2P_OK) {
        text_add(&r->failures, "  %s/%s: infer: %s: %s", suite, model, o2p_status_name(rc),
                 o2p_last_error());
        goto out;
    }
    st->loaded++;
    int is_tensor[256];
    int nk = output_kinds(model_path, is_tensor, 256);
    o2p_graph *g = o2p_network_get_graph(net);
    int no = o2p_graph_num_outputs(g);
    ck_assert_msg(nk == no, "%s/%s: the network has %d outputs, the model %d", suite, model, no,
                  nk);
    for (int i = 0; i < no && i < 256; i++) {
        if (!is_tensor[i]) {
            st->not_tensor++;
            continue;
        }
        compare_output(suite, model, case_dir, o2p_graph_get_output(g, i), i, st, &r->mismatches,
                       &r->unknowns);
    }
out:
    tu_parsed_free(net, parser);
}

/* Pass 0: the models as they are; pass 1: small inputs made constants (models without any
 * are counted as in pass 0). */
static void run_pass(int pass, pass_result *r)
{
    memset(r, 0, sizeof *r);
    for (size_t s = 0; s < NUM_SUITES; s++) {
        char *suite_dir = tu_printf("%s/%s", O2P_TESTDATA_DIR, suites[s]);
        int n;
        char **models = list_dirs(suite_dir, &n);
        for (int m = 0; m < n; m++) {
            char *case_dir = tu_printf("%s/%s", suite_dir, models[m]);
            char *model_path = tu_printf("%s/model.onnx", case_dir);
            struct stat sb;
            if (stat(model_path, &sb) == 0) {
                size_t size = 0;
                uint8_t *bytes = pass ? const_variant(model_path, case_dir, &size) : NULL;
                run_model(suites[s], s, models[m], case_dir, model_path, bytes, size, r);
                free(bytes);
            }
            free(case_dir);
            free(model_path);
        }
        for (int m = 0; m < n; m++)
            free(models[m]);
        free(models);
        free(suite_dir);
    }
    suite_stats *t = &r->total;
    for (size_t s = 0; s < NUM_SUITES; s++) {
        const suite_stats *st = &r->stats[s];
        t->models += st->models;
        t->loaded += st->loaded;
        t->with_unsupported += st->with_unsupported;
        t->outputs += st->outputs;
        t->compared += st->compared;
        t->matched += st->matched;
        t->unknown += st->unknown;
        t->not_tensor += st->not_tensor;
    }
}

static void print_row(const char *name, const suite_stats *st)
{
    printf("test_testdata: %-18s %6d %6d %6d %7d %8d %7d %7d %6d\n", name, st->models, st->loaded,
           st->with_unsupported, st->outputs, st->compared, st->matched, st->unknown,
           st->not_tensor);
}

static void report_pass(int pass, const pass_result *r, int verbose)
{
    printf("test_testdata: pass %d: %s\n", pass,
           pass ? "small inputs made constants" : "models as they are");
    printf("test_testdata: %-18s %6s %6s %6s %7s %8s %7s %7s %6s\n", "suite", "models", "loaded",
           "unsup", "outputs", "compared", "matched", "unknown", "nontns");
    printf("test_testdata: (unsup: models with nodes that have no importer; unknown: outputs "
           "whose shape is not fully inferred; nontns: sequence or optional outputs)\n");
    for (size_t s = 0; s < NUM_SUITES; s++)
        print_row(suites[s], &r->stats[s]);
    print_row("total", &r->total);
    if (pass == 0 && r->unsupported.count)
        printf("test_testdata: %d models use operators without an importer:\n%s",
               r->unsupported.count, r->unsupported.s);
    if (verbose && r->unknowns.count)
        printf("test_testdata: %d outputs with shapes not fully known:\n%s", r->unknowns.count,
               r->unknowns.s);
    if (r->failures.count)
        printf("test_testdata: %d models failed:\n%s", r->failures.count, r->failures.s);
    if (r->mismatches.count)
        printf("test_testdata: %d outputs differ from the expected ones:\n%s", r->mismatches.count,
               r->mismatches.s);
    fflush(stdout);
}

static void free_pass(pass_result *r)
{
    free(r->failures.s);
    free(r->unsupported.s);
    free(r->mismatches.s);
    free(r->unknowns.s);
}

START_TEST(test_testdata_shapes)
{
    if (!tu_have_testdata()) {
        printf("test_testdata: skipped: the ONNX test data is not installed at %s (Debian "
               "package libonnx-testdata)\n",
               O2P_TESTDATA_DIR);
        return;
    }
    const char *verbose = getenv("O2P_TESTDATA_VERBOSE");
    static pass_result res[2];
    for (int pass = 0; pass < 2; pass++) {
        run_pass(pass, &res[pass]);
        report_pass(pass, &res[pass], verbose && *verbose);
    }
    for (int pass = 0; pass < 2; pass++) {
        const pass_result *r = &res[pass];
        ck_assert_msg(r->total.models >= 1000, "only %d models found under %s", r->total.models,
                      O2P_TESTDATA_DIR);
        ck_assert_msg(r->failures.count == 0,
                      "pass %d: %d models failed to parse or infer "
                      "(listed above); the first: %s",
                      pass, r->failures.count, r->failures.s ? r->failures.s : "");
        ck_assert_msg(r->mismatches.count == 0,
                      "pass %d: %d outputs differ from the expected "
                      "ones (listed above); the first: %s",
                      pass, r->mismatches.count, r->mismatches.s ? r->mismatches.s : "");
    }
    /* Inference must know most outputs. As they are, node tests feed many shape parameters
     * as graph inputs (unknowable: about 17% of the outputs); with those made constants only
     * data-dependent shapes (NonZero, Unique, NonMaxSuppression...), loop outputs and ops
     * without an importer stay unknown. */
    const suite_stats *node0 = &res[0].stats[0], *node1 = &res[1].stats[0];
    ck_assert_msg(node0->compared * 100 >= node0->outputs * 80,
                  "pass 0: only %d of %d node-test outputs have a fully inferred shape (80%% "
                  "wanted)",
                  node0->compared, node0->outputs);
    ck_assert_msg(node1->compared * 100 >= node1->outputs * PASS1_PERCENT,
                  "pass 1: only %d of %d node-test outputs have a fully inferred shape (%d%% "
                  "wanted)",
                  node1->compared, node1->outputs, PASS1_PERCENT);
    ck_assert_msg(res[1].total.compared * 100 >= res[1].total.outputs * PASS1_PERCENT,
                  "pass 1: only %d of %d outputs have a fully inferred shape (%d%% wanted)",
                  res[1].total.compared, res[1].total.outputs, PASS1_PERCENT);
    free_pass(&res[0]);
    free_pass(&res[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("testdata");
    TCase *tc = tcase_create("shapes");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_testdata_shapes);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
