/* test_real_models.c: models exported by PyTorch (tests/models/real, made light) load with no
 * op left without an importer, infer the output shape onnxruntime gave once the input shape
 * is fixed, and keep their symbolic dims when it is not (tests/models/real/expected.txt). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define REAL_DIR O2P_SOURCE_DIR "/tests/models/real/"

static void parse_dims(const char *s, int *rank, int64_t *dims)
{
    *rank = 0;
    while (*s && *rank < O2P_MAX_RANK) {
        char *end;
        dims[(*rank)++] = strtoll(s, &end, 10);
        ck_assert_msg(end != s && (*end == 'x' || !*end), "bad shape in expected.txt: %s", s);
        s = *end ? end + 1 : end;
    }
}

/* Parses and infers a model, fixing one input's shape when input_spec is not NULL; returns
 * the formatted shape of output 0 in buf. */
static void infer_output(const char *model, const char *input_spec, char *buf, size_t size)
{
    char *path = tu_printf("%s%s", REAL_DIR, model);
    o2p_network *net = NULL;
    o2p_parser *parser = NULL;
    o2p_status st = tu_parse_file(path, &net, &parser);
    ck_assert_msg(st == O2P_OK, "%s: %s", path, o2p_last_error());
    ck_assert_msg(o2p_parser_num_unsupported(parser) == 0, "%s: %d ops without an importer",
                  model, o2p_parser_num_unsupported(parser));
    if (input_spec) {
        char *name = strdup(input_spec);
        char *colon = strrchr(name, ':');
        ck_assert_ptr_nonnull(colon);
        *colon = '\0';
        int64_t dims[O2P_MAX_RANK];
        int rank;
        parse_dims(colon + 1, &rank, dims);
        o2p_tensor *in = o2p_graph_find_tensor(o2p_network_get_graph(net), name);
        ck_assert_msg(in != NULL, "%s: no input '%s'", model, name);
        ck_assert_msg(o2p_tensor_set_shape(in, rank, dims) == O2P_OK, "%s", o2p_last_error());
        free(name);
    }
    st = o2p_network_infer_shapes(net);
    ck_assert_msg(st == O2P_OK, "%s: %s", model, o2p_last_error());
    o2p_tensor_format_shape(o2p_graph_get_output(o2p_network_get_graph(net), 0), buf, size);
    tu_parsed_free(net, parser);
    free(path);
}

START_TEST(test_real_models_match_onnxruntime)
{
    FILE *f = fopen(REAL_DIR "expected.txt", "r");
    ck_assert_msg(f != NULL, "cannot open %sexpected.txt", REAL_DIR);
    char line[1024];
    int models = 0;
    while (fgets(line, sizeof line, f)) {
        char model[256], spec[256], want_static[256], want_symbolic[256];
        if (line[0] == '#' ||
            sscanf(line, "%255s %255s %255s %255s", model, spec, want_static, want_symbolic) != 4)
            continue;
        char got[512];
        infer_output(model, spec, got, sizeof got);
        ck_assert_msg(strcmp(got, want_static) == 0, "%s with %s: inferred %s, onnxruntime %s",
                      model, spec, got, want_static);
        infer_output(model, NULL, got, sizeof got);
        ck_assert_msg(strcmp(got, want_symbolic) == 0, "%s: inferred %s, expected %s", model,
                      got, want_symbolic);
        printf("test_real_models: %-26s %-12s symbolic %s\n", model, want_static, got);
        models++;
    }
    fclose(f);
    ck_assert_int_ge(models, 16);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("real_models");
    TCase *tc = tcase_create("real_models");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_real_models_match_onnxruntime);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
