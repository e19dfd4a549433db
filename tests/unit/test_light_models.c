/* test_light_models.c: the "light" real models that onnx's Python package carries (ResNet-50,
 * DenseNet-121, Inception, ShuffleNet, SqueezeNet, VGG-19, AlexNet, ZFNet-512 with their
 * weights made by ConstantOfShape) load with no op left without an importer, and the shape
 * inferred for their output equals the shape of the reference output stored beside them. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "testutil.h"

/* The folder in the project's venv (made by scripts/test), or NULL. */
static char *light_dir(void)
{
    glob_t g;
    char *dir = NULL;
    if (glob(O2P_SOURCE_DIR "/.venv/lib/python3*/site-packages/onnx/backend/test/data/light",
             GLOB_ONLYDIR, NULL, &g) == 0) {
        if (g.gl_pathc > 0)
            dir = strdup(g.gl_pathv[0]);
        globfree(&g);
    }
    return dir;
}

START_TEST(test_light_models_infer_reference_shapes)
{
    char *dir = light_dir();
    if (!dir) {
        printf("test_light_models: SKIPPED: onnx's light models not found under %s/.venv "
               "(scripts/test installs the onnx package there)\n", O2P_SOURCE_DIR);
        return;
    }
    char *pattern = tu_printf("%s/light_*.onnx", dir);
    glob_t g;
    ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
    int checked = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *model = g.gl_pathv[i];
        o2p_network *net = NULL;
        o2p_parser *parser = NULL;
        o2p_status st = tu_parse_file(model, &net, &parser);
        ck_assert_msg(st == O2P_OK, "%s: %s", model, o2p_last_error());
        ck_assert_msg(o2p_parser_num_unsupported(parser) == 0, "%s: %d ops without an importer",
                      model, o2p_parser_num_unsupported(parser));
        st = o2p_network_infer_shapes(net);
        ck_assert_msg(st == O2P_OK, "%s: %s", model, o2p_last_error());

        char *ref_path = tu_printf("%.*s_output_0.pb", (int)(strrchr(model, '.') - model), model);
        size_t size = 0;
        char *bytes = tu_read_file(ref_path, &size);
        ck_assert_msg(bytes != NULL, "cannot read %s", ref_path);
        Onnx__TensorProto *ref = onnx__tensor_proto__unpack(NULL, size, (const uint8_t *)bytes);
        ck_assert_msg(ref != NULL, "%s is not a TensorProto", ref_path);

        const o2p_tensor *out = o2p_graph_get_output(o2p_network_get_graph(net), 0);
        char shape[256];
        o2p_tensor_format_shape(out, shape, sizeof shape);
        ck_assert_msg(o2p_tensor_get_rank(out) == (int)ref->n_dims,
                      "%s: inferred %s, reference rank %zu", model, shape, ref->n_dims);
        for (size_t d = 0; d < ref->n_dims; d++)
            ck_assert_msg(o2p_tensor_get_dim(out, (int)d) == ref->dims[d],
                          "%s: inferred %s, reference dim %zu is %lld", model, shape, d,
                          (long long)ref->dims[d]);
        ck_assert_int_eq(o2p_tensor_get_dtype(out), ref->data_type);
        printf("test_light_models: %-28s %5d layers  output %s\n", strrchr(model, '/') + 1,
               o2p_graph_num_layers(o2p_network_get_graph(net)), shape);
        checked++;
        onnx__tensor_proto__free_unpacked(ref, NULL);
        free(bytes);
        free(ref_path);
        tu_parsed_free(net, parser);
    }
    globfree(&g);
    free(pattern);
    free(dir);
    ck_assert_msg(checked >= 8, "only %d light models found", checked);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("light_models");
    TCase *tc = tcase_create("light_models");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_light_models_infer_reference_shapes);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
