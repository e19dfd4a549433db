/* testutil.c: helpers shared by the unit tests. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

char *tu_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char *path = malloc(strlen(base) + 32);
    if (!path)
        return NULL;
    sprintf(path, "%s/o2p-test-XXXXXX", base);
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *path)
{
    if (path)
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int tu_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = size ? fwrite(data, 1, size, f) : 0;
    int rc = fclose(f);
    return n == size && rc == 0 ? 0 : -1;
}

char *tu_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (cap - len - 1 == 0) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    if (size)
        *size = buf ? len : 0;
    return buf;
}

int tu_run_cli(const char *args, char **out, char **err)
{
    char *dir = tu_tempdir();
    if (!dir)
        return -1;
    size_t n = strlen(args) + strlen(dir) * 2 + strlen(O2P_CLI_PATH) + 64;
    char *cmd = malloc(n);
    snprintf(cmd, n, "'%s' %s >'%s/out' 2>'%s/err'", O2P_CLI_PATH, args, dir, dir);
    int st = system(cmd);
    free(cmd);
    int rc;
    if (st == -1)
        rc = -1;
    else if (WIFEXITED(st))
        rc = WEXITSTATUS(st);
    else
        rc = 128 + WTERMSIG(st);
    char path[4096];
    if (out) {
        snprintf(path, sizeof path, "%s/out", dir);
        *out = tu_read_file(path, NULL);
    }
    if (err) {
        snprintf(path, sizeof path, "%s/err", dir);
        *err = tu_read_file(path, NULL);
    }
    tu_rmtree(dir);
    free(dir);
    return rc;
}

int tu_run_with_timeout(int (*fn)(void *), void *arg, double seconds)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -2;
    if (pid == 0)
        _exit(fn(arg) & 0xff);
    int status = 0;
    for (double waited = 0; waited < seconds; waited += 0.02) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(20 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

void tu_assert_shape(const o2p_tensor *t, const char *want)
{
    char got[512];
    ck_assert_ptr_nonnull(t);
    if (o2p_tensor_get_rank(t) < 0)
        snprintf(got, sizeof got, "rank?");
    else
        o2p_tensor_format_shape(t, got, sizeof got);
    ck_assert_msg(strcmp(got, want) == 0, "tensor '%s': shape %s, expected %s",
                  o2p_tensor_get_name(t), got, want);
}

int tu_run_suite(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

const char *tu_kernel_cache(void)
{
    return O2P_TEST_KERNEL_CACHE;
}

int tu_have_testdata(void)
{
    struct stat st;
    return stat(O2P_TESTDATA_DIR "/node", &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---------------------------------------------------------------- strings */

char *tu_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0 || !s)
        ck_abort_msg("tu_printf: out of memory");
    return s;
}

int tu_contains(const char *s, const char *needle)
{
    return s && needle && strstr(s, needle) != NULL;
}

int tu_icontains(const char *s, const char *needle)
{
    return s && needle && strcasestr(s, needle) != NULL;
}

int tu_contains_number(const char *s, long long n)
{
    if (!s)
        return 0;
    char num[32];
    snprintf(num, sizeof num, "%lld", n);
    size_t len = strlen(num);
    for (const char *p = strstr(s, num); p; p = strstr(p + 1, num)) {
        int digit_before = p > s && isdigit((unsigned char)p[-1]);
        /* "-5" should not match 5, and "5" should not match the 5 in "1.5" */
        int sign_before = p > s && n >= 0 && (p[-1] == '-' || p[-1] == '.');
        int digit_after =
            isdigit((unsigned char)p[len]) || (p[len] == '.' && isdigit((unsigned char)p[len + 1]));
        if (!digit_before && !sign_before && !digit_after)
            return 1;
    }
    return 0;
}

/* A strict RFC 8259 recogniser. */
typedef struct json_in {
    const char *p;
    int depth;
} json_in;

static void json_ws(json_in *in)
{
    while (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r')
        in->p++;
}

static int json_value(json_in *in);

static int json_string(json_in *in)
{
    if (*in->p != '"')
        return 0;
    in->p++;
    for (;;) {
        unsigned char c = (unsigned char)*in->p;
        if (c == '"') {
            in->p++;
            return 1;
        }
        if (c < 0x20)
            return 0; /* includes the terminating NUL */
        if (c == '\\') {
            in->p++;
            char e = *in->p;
            if (e == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)in->p[i]))
                        return 0;
                in->p += 5;
                continue;
            }
            if (!e || !strchr("\"\\/bfnrt", e))
                return 0;
        }
        in->p++;
    }
}

static int json_number(json_in *in)
{
    const char *p = in->p;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (isdigit((unsigned char)*p))
            p++;
    else
        return 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    in->p = p;
    return 1;
}

static int json_container(json_in *in, char open, char close)
{
    if (++in->depth > 512)
        return 0;
    in->p++; /* open */
    json_ws(in);
    if (*in->p == close) {
        in->p++;
        in->depth--;
        return 1;
    }
    for (;;) {
        json_ws(in);
        if (open == '{') {
            if (!json_string(in))
                return 0;
            json_ws(in);
            if (*in->p != ':')
                return 0;
            in->p++;
        }
        if (!json_value(in))
            return 0;
        json_ws(in);
        if (*in->p == ',') {
            in->p++;
            continue;
        }
        if (*in->p == close) {
            in->p++;
            in->depth--;
            return 1;
        }
        return 0;
    }
}

static int json_value(json_in *in)
{
    json_ws(in);
    switch (*in->p) {
    case '{': return json_container(in, '{', '}');
    case '[': return json_container(in, '[', ']');
    case '"': return json_string(in);
    case 't':
        if (strncmp(in->p, "true", 4) == 0) {
            in->p += 4;
            return 1;
        }
        return 0;
    case 'f':
        if (strncmp(in->p, "false", 5) == 0) {
            in->p += 5;
            return 1;
        }
        return 0;
    case 'n':
        if (strncmp(in->p, "null", 4) == 0) {
            in->p += 4;
            return 1;
        }
        return 0;
    default: return json_number(in);
    }
}

int tu_json_valid(const char *text)
{
    if (!text)
        return 0;
    json_in in = {text, 0};
    if (!json_value(&in))
        return 0;
    json_ws(&in);
    return *in.p == '\0';
}

/* ---------------------------------------------------------------- parsing */

o2p_status tu_parse_bytes(const void *bytes, size_t size, const char *base_dir, const char *name,
                          o2p_network **net, o2p_parser **parser)
{
    o2p_network *n = NULL;
    o2p_parser *p = NULL;
    *net = NULL;
    if (parser)
        *parser = NULL;
    o2p_status s = o2p_network_create(&n);
    if (s != O2P_OK)
        return s;
    s = o2p_parser_create(n, &p);
    if (s != O2P_OK) {
        o2p_network_destroy(n);
        return s;
    }
    s = o2p_parser_parse_bytes(p, bytes, size, base_dir, name);
    if (s != O2P_OK || !parser) {
        o2p_parser_destroy(p);
        p = NULL;
    }
    if (s != O2P_OK) {
        o2p_network_destroy(n);
        return s;
    }
    *net = n;
    if (parser)
        *parser = p;
    return s;
}

o2p_status tu_parse_file(const char *path, o2p_network **net, o2p_parser **parser)
{
    o2p_network *n = NULL;
    o2p_parser *p = NULL;
    *net = NULL;
    if (parser)
        *parser = NULL;
    o2p_status s = o2p_network_create(&n);
    if (s != O2P_OK)
        return s;
    s = o2p_parser_create(n, &p);
    if (s != O2P_OK) {
        o2p_network_destroy(n);
        return s;
    }
    s = o2p_parser_parse_file(p, path);
    if (s != O2P_OK || !parser) {
        o2p_parser_destroy(p);
        p = NULL;
    }
    if (s != O2P_OK) {
        o2p_network_destroy(n);
        return s;
    }
    *net = n;
    if (parser)
        *parser = p;
    return s;
}

static void quiet_logger(void *user, o2p_severity severity, const char *message)
{
    (void)user;
    (void)severity;
    (void)message;
}

void tu_quiet_log(void)
{
    o2p_set_logger(quiet_logger, NULL, O2P_SEVERITY_WARNING);
}

void tu_parsed_free(o2p_network *net, o2p_parser *parser)
{
    if (parser)
        o2p_parser_destroy(parser);
    if (net)
        o2p_network_destroy(net);
}

/* ---------------------------------------------------------------- model building */

typedef struct tu_block {
    struct tu_block *next;
    max_align_t align[];
} tu_block;

struct tu_model {
    tu_block *blocks;
    Onnx__ModelProto *model;
};

void *tu_alloc(tu_model *m, size_t size)
{
    tu_block *b = calloc(1, sizeof *b + (size ? size : 1));
    if (!b)
        ck_abort_msg("tu_alloc: out of memory (%zu bytes)", size);
    b->next = m->blocks;
    m->blocks = b;
    return b->align;
}

char *tu_strdup(tu_model *m, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *d = tu_alloc(m, n + 1);
    memcpy(d, s, n + 1);
    return d;
}

static void *tu_memdup(tu_model *m, const void *p, size_t n)
{
    void *d = tu_alloc(m, n);
    if (n)
        memcpy(d, p, n);
    return d;
}

/* Appends item to a repeated pointer field (arrays are reallocated in the arena). */
#define TU_PUSH(m, arr, count, item)                                        \
    do {                                                                    \
        void *tu_push_new_ = tu_alloc((m), sizeof(*(arr)) * ((count) + 1)); \
        if ((count))                                                        \
            memcpy(tu_push_new_, (arr), sizeof(*(arr)) * (count));          \
        (arr) = tu_push_new_;                                               \
        (arr)[(count)++] = (item);                                          \
    } while (0)

tu_model *tu_model_new(int64_t opset)
{
    tu_model *m = calloc(1, sizeof *m);
    if (!m)
        ck_abort_msg("tu_model_new: out of memory");
    m->model = tu_alloc(m, sizeof *m->model);
    onnx__model_proto__init(m->model);
    m->model->has_ir_version = 1;
    m->model->ir_version = 8;
    m->model->producer_name = tu_strdup(m, "o2p-tests");
    m->model->producer_version = tu_strdup(m, "1.0");
    if (opset > 0)
        tu_add_opset(m, "", opset);
    m->model->graph = tu_graph_new(m, "main");
    return m;
}

void tu_model_free(tu_model *m)
{
    if (!m)
        return;
    for (tu_block *b = m->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(m);
}

Onnx__ModelProto *tu_model_proto(tu_model *m)
{
    return m->model;
}
Onnx__GraphProto *tu_main_graph(tu_model *m)
{
    return m->model->graph;
}

void tu_add_opset(tu_model *m, const char *domain, int64_t version)
{
    Onnx__OperatorSetIdProto *o = tu_alloc(m, sizeof *o);
    onnx__operator_set_id_proto__init(o);
    o->domain = tu_strdup(m, domain);
    o->has_version = 1;
    o->version = version;
    TU_PUSH(m, m->model->opset_import, m->model->n_opset_import, o);
}

void tu_add_metadata(tu_model *m, const char *key, const char *value)
{
    Onnx__StringStringEntryProto *e = tu_alloc(m, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = tu_strdup(m, key);
    e->value = tu_strdup(m, value);
    TU_PUSH(m, m->model->metadata_props, m->model->n_metadata_props, e);
}

Onnx__GraphProto *tu_graph_new(tu_model *m, const char *name)
{
    Onnx__GraphProto *g = tu_alloc(m, sizeof *g);
    onnx__graph_proto__init(g);
    g->name = tu_strdup(m, name);
    return g;
}

Onnx__TypeProto *tu_tensor_type(tu_model *m, int elem_type, int rank, const int64_t *dims,
                                const char *const *params)
{
    Onnx__TypeProto *tp = tu_alloc(m, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = tu_alloc(m, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = elem_type;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    if (rank >= 0) {
        Onnx__TensorShapeProto *sh = tu_alloc(m, sizeof *sh);
        onnx__tensor_shape_proto__init(sh);
        for (int i = 0; i < rank; i++) {
            Onnx__TensorShapeProto__Dimension *d = tu_alloc(m, sizeof *d);
            onnx__tensor_shape_proto__dimension__init(d);
            if (dims[i] >= 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            } else if (params && params[i]) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = tu_strdup(m, params[i]);
            }
            TU_PUSH(m, sh->dim, sh->n_dim, d);
        }
        tt->shape = sh;
    }
    return tp;
}

Onnx__ValueInfoProto *tu_value_info(tu_model *m, const char *name, int elem_type, int rank,
                                    const int64_t *dims, const char *const *params)
{
    Onnx__ValueInfoProto *vi = tu_alloc(m, sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = tu_strdup(m, name);
    vi->type = tu_tensor_type(m, elem_type, rank, dims, params);
    return vi;
}

Onnx__ValueInfoProto *tu_add_input(tu_model *m, Onnx__GraphProto *g, const char *name,
                                   int elem_type, int rank, const int64_t *dims,
                                   const char *const *params)
{
    Onnx__ValueInfoProto *vi = tu_value_info(m, name, elem_type, rank, dims, params);
    TU_PUSH(m, g->input, g->n_input, vi);
    return vi;
}

Onnx__ValueInfoProto *tu_add_output(tu_model *m, Onnx__GraphProto *g, const char *name,
                                    int elem_type, int rank, const int64_t *dims,
                                    const char *const *params)
{
    Onnx__ValueInfoProto *vi = tu_value_info(m, name, elem_type, rank, dims, params);
    TU_PUSH(m, g->output, g->n_output, vi);
    return vi;
}

Onnx__ValueInfoProto *tu_add_value_info(tu_model *m, Onnx__GraphProto *g, const char *name,
                                        int elem_type, int rank, const int64_t *dims,
                                        const char *const *params)
{
    Onnx__ValueInfoProto *vi = tu_value_info(m, name, elem_type, rank, dims, params);
    TU_PUSH(m, g->value_info, g->n_value_info, vi);
    return vi;
}

Onnx__TensorProto *tu_tensor_new(tu_model *m, const char *name, int dtype, int rank,
                                 const int64_t *dims)
{
    Onnx__TensorProto *t = tu_alloc(m, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = tu_strdup(m, name);
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = rank > 0 ? (size_t)rank : 0;
    t->dims = t->n_dims ? tu_memdup(m, dims, sizeof(int64_t) * t->n_dims) : NULL;
    return t;
}

void tu_tensor_set_raw(tu_model *m, Onnx__TensorProto *t, const void *data, size_t size)
{
    t->has_raw_data = 1;
    t->raw_data.len = size;
    t->raw_data.data = tu_memdup(m, data, size);
}

void tu_tensor_set_floats(tu_model *m, Onnx__TensorProto *t, const float *v, size_t n)
{
    t->n_float_data = n;
    t->float_data = tu_memdup(m, v, n * sizeof *v);
}

void tu_tensor_set_int32s(tu_model *m, Onnx__TensorProto *t, const int32_t *v, size_t n)
{
    t->n_int32_data = n;
    t->int32_data = tu_memdup(m, v, n * sizeof *v);
}

void tu_tensor_set_int64s(tu_model *m, Onnx__TensorProto *t, const int64_t *v, size_t n)
{
    t->n_int64_data = n;
    t->int64_data = tu_memdup(m, v, n * sizeof *v);
}

void tu_tensor_set_doubles(tu_model *m, Onnx__TensorProto *t, const double *v, size_t n)
{
    t->n_double_data = n;
    t->double_data = tu_memdup(m, v, n * sizeof *v);
}

void tu_tensor_set_uint64s(tu_model *m, Onnx__TensorProto *t, const uint64_t *v, size_t n)
{
    t->n_uint64_data = n;
    t->uint64_data = tu_memdup(m, v, n * sizeof *v);
}

void tu_tensor_set_strings(tu_model *m, Onnx__TensorProto *t, const char *const *v, size_t n)
{
    t->n_string_data = n;
    t->string_data = tu_alloc(m, n * sizeof *t->string_data);
    for (size_t i = 0; i < n; i++) {
        t->string_data[i].len = strlen(v[i]);
        t->string_data[i].data = (uint8_t *)tu_strdup(m, v[i]);
    }
}

void tu_tensor_add_external_entry(tu_model *m, Onnx__TensorProto *t, const char *key,
                                  const char *value)
{
    Onnx__StringStringEntryProto *e = tu_alloc(m, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = tu_strdup(m, key);
    e->value = tu_strdup(m, value);
    TU_PUSH(m, t->external_data, t->n_external_data, e);
}

void tu_tensor_set_external(tu_model *m, Onnx__TensorProto *t, const char *location,
                            const char *offset, const char *length)
{
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (location)
        tu_tensor_add_external_entry(m, t, "location", location);
    if (offset)
        tu_tensor_add_external_entry(m, t, "offset", offset);
    if (length)
        tu_tensor_add_external_entry(m, t, "length", length);
}

void tu_add_initializer(tu_model *m, Onnx__GraphProto *g, Onnx__TensorProto *t)
{
    TU_PUSH(m, g->initializer, g->n_initializer, t);
}

Onnx__TensorProto *tu_add_initializer_raw(tu_model *m, Onnx__GraphProto *g, const char *name,
                                          int dtype, int rank, const int64_t *dims,
                                          const void *data, size_t size)
{
    Onnx__TensorProto *t = tu_tensor_new(m, name, dtype, rank, dims);
    tu_tensor_set_raw(m, t, data, size);
    tu_add_initializer(m, g, t);
    return t;
}

/* Splits "a,b,,c" into model-owned strings. */
static char **split_names(tu_model *m, const char *list, size_t *count)
{
    *count = 0;
    if (!list || !*list)
        return NULL;
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    char **names = tu_alloc(m, n * sizeof *names);
    const char *start = list;
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(start, ",");
        names[i] = tu_alloc(m, len + 1);
        memcpy(names[i], start, len);
        start += len + (start[len] == ',');
    }
    *count = n;
    return names;
}

Onnx__NodeProto *tu_add_node(tu_model *m, Onnx__GraphProto *g, const char *op_type,
                             const char *name, const char *inputs, const char *outputs)
{
    Onnx__NodeProto *n = tu_alloc(m, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = tu_strdup(m, op_type);
    n->name = tu_strdup(m, name);
    n->input = split_names(m, inputs, &n->n_input);
    n->output = split_names(m, outputs, &n->n_output);
    TU_PUSH(m, g->node, g->n_node, n);
    return n;
}

void tu_node_set_domain(tu_model *m, Onnx__NodeProto *n, const char *domain)
{
    n->domain = tu_strdup(m, domain);
}

Onnx__AttributeProto *tu_attr_new(tu_model *m, Onnx__NodeProto *n, const char *name, int type)
{
    Onnx__AttributeProto *a = tu_alloc(m, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = tu_strdup(m, name);
    a->has_type = 1;
    a->type = (Onnx__AttributeProto__AttributeType)type;
    TU_PUSH(m, n->attribute, n->n_attribute, a);
    return a;
}

void tu_attr_int(tu_model *m, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = tu_attr_new(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void tu_attr_float(tu_model *m, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = tu_attr_new(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void tu_attr_string(tu_model *m, Onnx__NodeProto *n, const char *name, const char *v)
{
    Onnx__AttributeProto *a =
        tu_attr_new(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(v);
    a->s.data = (uint8_t *)tu_strdup(m, v);
}

void tu_attr_ints(tu_model *m, Onnx__NodeProto *n, const char *name, const int64_t *v, size_t count)
{
    Onnx__AttributeProto *a = tu_attr_new(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = count;
    a->ints = tu_memdup(m, v, count * sizeof *v);
}

void tu_attr_floats(tu_model *m, Onnx__NodeProto *n, const char *name, const float *v, size_t count)
{
    Onnx__AttributeProto *a =
        tu_attr_new(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = count;
    a->floats = tu_memdup(m, v, count * sizeof *v);
}

void tu_attr_strings(tu_model *m, Onnx__NodeProto *n, const char *name, const char *const *v,
                     size_t count)
{
    Onnx__AttributeProto *a =
        tu_attr_new(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    a->n_strings = count;
    a->strings = tu_alloc(m, count * sizeof *a->strings);
    for (size_t i = 0; i < count; i++) {
        a->strings[i].len = strlen(v[i]);
        a->strings[i].data = (uint8_t *)tu_strdup(m, v[i]);
    }
}

void tu_attr_tensor(tu_model *m, Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t)
{
    Onnx__AttributeProto *a =
        tu_attr_new(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = t;
}

void tu_attr_tensors(tu_model *m, Onnx__NodeProto *n, const char *name, Onnx__TensorProto *const *t,
                     size_t count)
{
    Onnx__AttributeProto *a =
        tu_attr_new(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS);
    a->n_tensors = count;
    a->tensors = tu_memdup(m, t, count * sizeof *t);
}

void tu_attr_graph(tu_model *m, Onnx__NodeProto *n, const char *name, Onnx__GraphProto *g)
{
    Onnx__AttributeProto *a = tu_attr_new(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    a->g = g;
}

void tu_attr_graphs(tu_model *m, Onnx__NodeProto *n, const char *name, Onnx__GraphProto *const *g,
                    size_t count)
{
    Onnx__AttributeProto *a =
        tu_attr_new(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS);
    a->n_graphs = count;
    a->graphs = tu_memdup(m, g, count * sizeof *g);
}

uint8_t *tu_model_pack(tu_model *m, size_t *size)
{
    size_t n = onnx__model_proto__get_packed_size(m->model);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        ck_abort_msg("tu_model_pack: out of memory");
    size_t got = onnx__model_proto__pack(m->model, buf);
    ck_assert_uint_eq(got, n);
    *size = n;
    return buf;
}

int tu_model_write(tu_model *m, const char *path)
{
    size_t n;
    uint8_t *buf = tu_model_pack(m, &n);
    int rc = tu_write_file(path, buf, n);
    free(buf);
    return rc;
}

o2p_status tu_parse_model(tu_model *m, o2p_network **net, o2p_parser **parser)
{
    size_t n;
    uint8_t *buf = tu_model_pack(m, &n);
    o2p_status s = tu_parse_bytes(buf, n, NULL, "test.onnx", net, parser);
    free(buf);
    return s;
}

/* ---------------------------------------------------------------- raw wire format */

void tu_buf_free(tu_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void tu_buf_raw(tu_buf *b, const void *data, size_t size)
{
    if (b->len + size > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + size)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            ck_abort_msg("tu_buf: out of memory");
        b->data = d;
        b->cap = cap;
    }
    if (size)
        memcpy(b->data + b->len, data, size);
    b->len += size;
}

size_t tu_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

void tu_buf_varint(tu_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    tu_buf_raw(b, tmp, put_varint(tmp, v));
}

void tu_buf_tag(tu_buf *b, uint32_t field, int wire_type)
{
    tu_buf_varint(b, ((uint64_t)field << 3) | (uint64_t)wire_type);
}

void tu_wire_uint(tu_buf *b, uint32_t field, uint64_t v)
{
    tu_buf_tag(b, field, TU_WIRE_VARINT);
    tu_buf_varint(b, v);
}

void tu_wire_bytes(tu_buf *b, uint32_t field, const void *data, size_t size)
{
    tu_buf_tag(b, field, TU_WIRE_LEN);
    tu_buf_varint(b, size);
    tu_buf_raw(b, data, size);
}

void tu_wire_string(tu_buf *b, uint32_t field, const char *s)
{
    tu_wire_bytes(b, field, s, strlen(s));
}

void tu_wire_message(tu_buf *b, uint32_t field, const tu_buf *sub)
{
    tu_wire_bytes(b, field, sub->data, sub->len);
}

uint8_t *tu_wire_nest(const tu_wire_layer *layers, size_t count, const uint8_t *inner,
                      size_t inner_len, size_t *out_len)
{
    size_t *sizes = malloc((count + 1) * sizeof *sizes);
    if (!sizes)
        ck_abort_msg("tu_wire_nest: out of memory");
    sizes[count] = inner_len;
    for (size_t i = count; i-- > 0;) {
        const tu_wire_layer *l = &layers[i];
        sizes[i] = l->prefix_len + tu_varint_size((uint64_t)l->child_field << 3) +
                   tu_varint_size(sizes[i + 1]) + sizes[i + 1] + l->suffix_len;
    }
    size_t total = sizes[0];
    uint8_t *out = malloc(total ? total : 1);
    if (!out)
        ck_abort_msg("tu_wire_nest: out of memory (%zu bytes)", total);
    size_t pos = 0;
    for (size_t i = 0; i < count; i++) {
        const tu_wire_layer *l = &layers[i];
        if (l->prefix_len)
            memcpy(out + pos, l->prefix, l->prefix_len);
        pos += l->prefix_len;
        pos += put_varint(out + pos, ((uint64_t)l->child_field << 3) | TU_WIRE_LEN);
        pos += put_varint(out + pos, sizes[i + 1]);
    }
    if (inner_len)
        memcpy(out + pos, inner, inner_len);
    pos += inner_len;
    for (size_t i = count; i-- > 0;) {
        if (layers[i].suffix_len)
            memcpy(out + pos, layers[i].suffix, layers[i].suffix_len);
        pos += layers[i].suffix_len;
    }
    ck_assert_uint_eq(pos, total);
    free(sizes);
    *out_len = total;
    return out;
}

static int read_varint(const uint8_t *p, size_t size, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= size)
            return -1;
        uint8_t c = p[(*pos)++];
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

int tu_wire_move_field_last(uint8_t *bytes, size_t size, uint32_t field)
{
    uint8_t *front = malloc(size ? size : 1), *back = malloc(size ? size : 1);
    size_t nfront = 0, nback = 0, pos = 0;
    int rc = 0;
    while (pos < size) {
        size_t start = pos;
        uint64_t tag, v;
        if (read_varint(bytes, size, &pos, &tag) != 0) {
            rc = -1;
            break;
        }
        switch (tag & 7) {
        case TU_WIRE_VARINT: rc = read_varint(bytes, size, &pos, &v); break;
        case TU_WIRE_I64: rc = size - pos >= 8 ? (pos += 8, 0) : -1; break;
        case TU_WIRE_I32: rc = size - pos >= 4 ? (pos += 4, 0) : -1; break;
        case TU_WIRE_LEN:
            rc = read_varint(bytes, size, &pos, &v);
            if (rc == 0 && v > size - pos)
                rc = -1;
            if (rc == 0)
                pos += (size_t)v;
            break;
        default: rc = -1;
        }
        if (rc != 0)
            break;
        if ((tag >> 3) == field) {
            memcpy(back + nback, bytes + start, pos - start);
            nback += pos - start;
        } else {
            memcpy(front + nfront, bytes + start, pos - start);
            nfront += pos - start;
        }
    }
    if (rc == 0) {
        memcpy(bytes, front, nfront);
        memcpy(bytes + nfront, back, nback);
    }
    free(front);
    free(back);
    return rc;
}

/* Field numbers of onnx.proto used by the hand-written models below. */
enum {
    F_MODEL_IR_VERSION = 1,
    F_MODEL_PRODUCER = 2,
    F_MODEL_GRAPH = 7,
    F_MODEL_OPSET = 8,
    F_OPSET_DOMAIN = 1,
    F_OPSET_VERSION = 2,
    F_GRAPH_NODE = 1,
    F_GRAPH_NAME = 2,
    F_GRAPH_INPUT = 11,
    F_GRAPH_OUTPUT = 12,
    F_NODE_INPUT = 1,
    F_NODE_OUTPUT = 2,
    F_NODE_NAME = 3,
    F_NODE_OP = 4,
    F_NODE_ATTR = 5,
    F_ATTR_NAME = 1,
    F_ATTR_G = 6,
    F_ATTR_TYPE = 20,
    F_VI_NAME = 1,
    F_VI_TYPE = 2,
    F_TYPE_TENSOR = 1,
    F_TYPE_SEQUENCE = 4,
    F_SEQ_ELEM = 1,
    F_TT_ELEM = 1,
    F_TT_SHAPE = 2,
    F_SHAPE_DIM = 1,
    F_DIM_VALUE = 1
};

static void model_header(tu_buf *b)
{
    tu_wire_uint(b, F_MODEL_IR_VERSION, 8);
    tu_wire_string(b, F_MODEL_PRODUCER, "o2p-tests");
    tu_buf op = {0};
    tu_wire_string(&op, F_OPSET_DOMAIN, "");
    tu_wire_uint(&op, F_OPSET_VERSION, 13);
    tu_wire_message(b, F_MODEL_OPSET, &op);
    tu_buf_free(&op);
}

/* ValueInfo `name`: tensor of elem_type with the given dims (rank 0: a scalar). */
static void wire_value_info(tu_buf *b, uint32_t field, const char *name, int elem_type, int rank,
                            const int64_t *dims)
{
    tu_buf shape = {0}, tt = {0}, tp = {0}, vi = {0};
    for (int i = 0; i < rank; i++) {
        tu_buf d = {0};
        tu_wire_uint(&d, F_DIM_VALUE, (uint64_t)dims[i]);
        tu_wire_message(&shape, F_SHAPE_DIM, &d);
        tu_buf_free(&d);
    }
    tu_wire_uint(&tt, F_TT_ELEM, (uint64_t)elem_type);
    tu_wire_message(&tt, F_TT_SHAPE, &shape);
    tu_wire_message(&tp, F_TYPE_TENSOR, &tt);
    tu_wire_string(&vi, F_VI_NAME, name);
    tu_wire_message(&vi, F_VI_TYPE, &tp);
    tu_wire_message(b, field, &vi);
    tu_buf_free(&shape);
    tu_buf_free(&tt);
    tu_buf_free(&tp);
    tu_buf_free(&vi);
}

/* NodeProto fields (no attributes). */
static void wire_node_head(tu_buf *b, const char *op, const char *name, const char *input,
                           const char *output)
{
    tu_wire_string(b, F_NODE_INPUT, input);
    tu_wire_string(b, F_NODE_OUTPUT, output);
    tu_wire_string(b, F_NODE_NAME, name);
    tu_wire_string(b, F_NODE_OP, op);
}

uint8_t *tu_nested_if_model(int depth, size_t *size)
{
    static const int64_t two[1] = {2};
    if (depth < 0)
        depth = 0;
    size_t nlayers = 1 + 3 * (size_t)depth;
    tu_wire_layer *layers = calloc(nlayers, sizeof *layers);
    tu_buf *prefixes = calloc(nlayers, sizeof *prefixes);
    if (!layers || !prefixes)
        ck_abort_msg("tu_nested_if_model: out of memory");
    char name[64], out[64];

    model_header(&prefixes[0]);
    layers[0].child_field = F_MODEL_GRAPH;
    for (int k = 0; k < depth; k++) {
        tu_buf *gp = &prefixes[1 + 3 * k], *np = &prefixes[2 + 3 * k], *ap = &prefixes[3 + 3 * k];
        /* graph k: name, (inputs), output y_k, then the If node */
        snprintf(name, sizeof name, k ? "g_%d" : "main", k);
        tu_wire_string(gp, F_GRAPH_NAME, name);
        if (k == 0) {
            wire_value_info(gp, F_GRAPH_INPUT, "cond", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, 0,
                            NULL);
            wire_value_info(gp, F_GRAPH_INPUT, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, two);
        }
        snprintf(out, sizeof out, "y_%d", k);
        wire_value_info(gp, F_GRAPH_OUTPUT, out, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, two);
        layers[1 + 3 * k].child_field = F_GRAPH_NODE;
        /* If node k: head, else_branch (complete), then then_branch */
        snprintf(name, sizeof name, "if_%d", k);
        wire_node_head(np, "If", name, "cond", out);
        {
            tu_buf eg = {0}, en = {0}, ea = {0};
            char ename[64], eout[64];
            snprintf(ename, sizeof ename, "e_%d", k + 1);
            snprintf(eout, sizeof eout, "ye_%d", k + 1);
            tu_wire_string(&eg, F_GRAPH_NAME, ename);
            wire_value_info(&eg, F_GRAPH_OUTPUT, eout, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1,
                            two);
            snprintf(ename, sizeof ename, "eid_%d", k + 1);
            wire_node_head(&en, "Identity", ename, "x", eout);
            tu_wire_message(&eg, F_GRAPH_NODE, &en);
            tu_wire_string(&ea, F_ATTR_NAME, "else_branch");
            tu_wire_uint(&ea, F_ATTR_TYPE, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
            tu_wire_message(&ea, F_ATTR_G, &eg);
            tu_wire_message(np, F_NODE_ATTR, &ea);
            tu_buf_free(&eg);
            tu_buf_free(&en);
            tu_buf_free(&ea);
        }
        layers[2 + 3 * k].child_field = F_NODE_ATTR;
        tu_wire_string(ap, F_ATTR_NAME, "then_branch");
        tu_wire_uint(ap, F_ATTR_TYPE, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
        layers[3 + 3 * k].child_field = F_ATTR_G;
    }
    for (size_t i = 0; i < nlayers; i++) {
        layers[i].prefix = prefixes[i].data;
        layers[i].prefix_len = prefixes[i].len;
    }
    /* innermost graph: Identity(x) -> y_depth */
    tu_buf inner = {0}, node = {0};
    snprintf(name, sizeof name, depth ? "g_%d" : "main", depth);
    tu_wire_string(&inner, F_GRAPH_NAME, name);
    if (depth == 0) {
        wire_value_info(&inner, F_GRAPH_INPUT, "cond", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, 0,
                        NULL);
        wire_value_info(&inner, F_GRAPH_INPUT, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, two);
    }
    snprintf(out, sizeof out, "y_%d", depth);
    wire_value_info(&inner, F_GRAPH_OUTPUT, out, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, two);
    snprintf(name, sizeof name, "id_%d", depth);
    wire_node_head(&node, "Identity", name, "x", out);
    tu_wire_message(&inner, F_GRAPH_NODE, &node);

    uint8_t *bytes = tu_wire_nest(layers, nlayers, inner.data, inner.len, size);
    tu_buf_free(&inner);
    tu_buf_free(&node);
    for (size_t i = 0; i < nlayers; i++)
        tu_buf_free(&prefixes[i]);
    free(prefixes);
    free(layers);
    return bytes;
}

uint8_t *tu_deep_graph_model(size_t depth, size_t *size)
{
    static uint8_t node_prefix[16], attr_prefix[16];
    tu_buf head = {0}, np = {0}, ap = {0};
    model_header(&head);
    tu_wire_string(&np, F_NODE_OP, "If");
    tu_wire_string(&ap, F_ATTR_NAME, "then_branch");
    tu_wire_uint(&ap, F_ATTR_TYPE, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    ck_assert(np.len <= sizeof node_prefix && ap.len <= sizeof attr_prefix);
    memcpy(node_prefix, np.data, np.len);
    memcpy(attr_prefix, ap.data, ap.len);

    size_t nlayers = 1 + 3 * depth;
    tu_wire_layer *layers = calloc(nlayers, sizeof *layers);
    if (!layers)
        ck_abort_msg("tu_deep_graph_model: out of memory");
    layers[0] = (tu_wire_layer){head.data, head.len, F_MODEL_GRAPH, NULL, 0};
    for (size_t k = 0; k < depth; k++) {
        layers[1 + 3 * k] = (tu_wire_layer){NULL, 0, F_GRAPH_NODE, NULL, 0};
        layers[2 + 3 * k] = (tu_wire_layer){node_prefix, np.len, F_NODE_ATTR, NULL, 0};
        layers[3 + 3 * k] = (tu_wire_layer){attr_prefix, ap.len, F_ATTR_G, NULL, 0};
    }
    uint8_t *bytes = tu_wire_nest(layers, nlayers, NULL, 0, size);
    free(layers);
    tu_buf_free(&head);
    tu_buf_free(&np);
    tu_buf_free(&ap);
    return bytes;
}

uint8_t *tu_deep_type_model(size_t depth, size_t *size)
{
    tu_buf head = {0}, gp = {0}, vp = {0}, inner = {0}, tt = {0};
    model_header(&head);
    tu_wire_string(&gp, F_GRAPH_NAME, "main");
    tu_wire_string(&vp, F_VI_NAME, "x");
    tu_wire_uint(&tt, F_TT_ELEM, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    tu_wire_message(&inner, F_TYPE_TENSOR, &tt);

    size_t nlayers = 3 + 2 * depth;
    tu_wire_layer *layers = calloc(nlayers, sizeof *layers);
    if (!layers)
        ck_abort_msg("tu_deep_type_model: out of memory");
    layers[0] = (tu_wire_layer){head.data, head.len, F_MODEL_GRAPH, NULL, 0};
    layers[1] = (tu_wire_layer){gp.data, gp.len, F_GRAPH_INPUT, NULL, 0};
    layers[2] = (tu_wire_layer){vp.data, vp.len, F_VI_TYPE, NULL, 0};
    for (size_t k = 0; k < depth; k++) {
        layers[3 + 2 * k] = (tu_wire_layer){NULL, 0, F_TYPE_SEQUENCE, NULL, 0};
        layers[4 + 2 * k] = (tu_wire_layer){NULL, 0, F_SEQ_ELEM, NULL, 0};
    }
    uint8_t *bytes = tu_wire_nest(layers, nlayers, inner.data, inner.len, size);
    free(layers);
    tu_buf_free(&head);
    tu_buf_free(&gp);
    tu_buf_free(&vp);
    tu_buf_free(&inner);
    tu_buf_free(&tt);
    return bytes;
}

/* ---------------------------------------------------------------- random */

uint64_t tu_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}
