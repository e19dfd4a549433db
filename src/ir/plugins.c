/* plugins.c: the plugin registry (libraries loaded with dlopen, their creators) and plugin
 * layers in the IR: the layer kind whose shape inference asks the plugin. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "o2p/plugin.h"

typedef struct registry_entry {
    const o2p_plugin_creator *creator;
    const char *library; /* path, owned by the registry */
} registry_entry;

struct o2p_plugin_registry {
    registry_entry *entries;
    int count, cap;
    void **handles;
    char **paths;
    int num_libs;
};

o2p_status o2p_plugin_registry_create(o2p_plugin_registry **out)
{
    if (!out)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_plugin_registry_create: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? O2P_OK : o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
}

void o2p_plugin_registry_destroy(o2p_plugin_registry *r)
{
    if (!r || r == o2p_default_plugin_registry())
        return;
    for (int i = 0; i < r->num_libs; i++) {
        dlclose(r->handles[i]);
        free(r->paths[i]);
    }
    free(r->handles);
    free(r->paths);
    free(r->entries);
    free(r);
}

static const char *S(const char *s)
{
    return s ? s : "";
}

o2p_status o2p_plugin_registry_load_library(o2p_plugin_registry *r, const char *path)
{
    if (!r || !path)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "o2p_plugin_registry_load_library: bad argument");
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return o2p_fail(O2P_ERR_IO, "cannot load the plugin library %s: %s", path, dlerror());
    return ir_plugin_registry_add_handle(r, h, path);
}

o2p_status ir_plugin_registry_add_handle(o2p_plugin_registry *r, void *h, const char *path)
{
    o2p_plugin_library_fn entry = (o2p_plugin_library_fn)dlsym(h, O2P_PLUGIN_ENTRY_SYMBOL);
    if (!entry) {
        dlclose(h);
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "%s is not an onnx2plan plugin library: it does not export %s", path,
                        O2P_PLUGIN_ENTRY_SYMBOL);
    }
    const o2p_plugin_library *lib = entry(O2P_PLUGIN_ABI_MAJOR);
    if (!lib || lib->size < offsetof(o2p_plugin_library, creators) + sizeof lib->creators ||
        lib->abi_major != O2P_PLUGIN_ABI_MAJOR) {
        unsigned major = lib ? lib->abi_major : 0;
        dlclose(h);
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "the plugin library %s is built for plugin ABI %u; onnx2plan %s speaks "
                        "plugin ABI %u: rebuild the library against this version's plugin.h",
                        path, major, o2p_version(), O2P_PLUGIN_ABI_MAJOR);
    }
    if (lib->num_creators < 0 || (lib->num_creators && !lib->creators)) {
        dlclose(h);
        return o2p_fail(O2P_ERR_PARSE, "the plugin library %s lists its creators wrongly", path);
    }
    char *copy = strdup(path);
    void **handles = realloc(r->handles, (size_t)(r->num_libs + 1) * sizeof *handles);
    if (handles)
        r->handles = handles;
    char **paths = realloc(r->paths, (size_t)(r->num_libs + 1) * sizeof *paths);
    if (paths)
        r->paths = paths;
    if (!copy || !handles || !paths) {
        free(copy);
        dlclose(h);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    }
    for (int i = 0; i < lib->num_creators; i++) {
        const o2p_plugin_creator *c = lib->creators[i];
        if (!c || c->size < offsetof(o2p_plugin_creator, enqueue_cuda) || !c->name ||
            !c->infer_outputs || !c->serialize || !c->enqueue_host) {
            free(copy);
            dlclose(h);
            return o2p_fail(O2P_ERR_PARSE, "the plugin library %s: creator %d is incomplete", path,
                            i);
        }
        for (int k = 0; k < r->count; k++) {
            const o2p_plugin_creator *o = r->entries[k].creator;
            if (strcmp(o->name, c->name) == 0 && strcmp(S(o->version), S(c->version)) == 0 &&
                strcmp(S(o->plugin_namespace), S(c->plugin_namespace)) == 0 &&
                strcmp(S(o->onnx_domain), S(c->onnx_domain)) == 0) {
                free(copy);
                dlclose(h);
                return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                                "the plugin library %s: plugin %s version %s is already registered "
                                "from %s", path, c->name, S(c->version), r->entries[k].library);
            }
        }
    }
    int need = r->count + lib->num_creators;
    if (need > r->cap) {
        registry_entry *e = realloc(r->entries, (size_t)need * sizeof *e);
        if (!e) {
            free(copy);
            dlclose(h);
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
        }
        r->entries = e;
        r->cap = need;
    }
    for (int i = 0; i < lib->num_creators; i++) {
        r->entries[r->count].creator = lib->creators[i];
        r->entries[r->count].library = copy;
        r->count++;
    }
    r->handles[r->num_libs] = h;
    r->paths[r->num_libs] = copy;
    r->num_libs++;
    return O2P_OK;
}

int o2p_plugin_registry_num_creators(const o2p_plugin_registry *r)
{
    return r ? r->count : 0;
}

#define ENTRY(r, i) ((r) && (i) >= 0 && (i) < (r)->count ? &(r)->entries[i] : NULL)

const char *o2p_plugin_registry_creator_name(const o2p_plugin_registry *r, int i)
{
    const registry_entry *e = ENTRY(r, i);
    return e ? e->creator->name : NULL;
}
const char *o2p_plugin_registry_creator_version(const o2p_plugin_registry *r, int i)
{
    const registry_entry *e = ENTRY(r, i);
    return e ? S(e->creator->version) : NULL;
}
const char *o2p_plugin_registry_creator_namespace(const o2p_plugin_registry *r, int i)
{
    const registry_entry *e = ENTRY(r, i);
    return e ? S(e->creator->plugin_namespace) : NULL;
}
const char *o2p_plugin_registry_creator_domain(const o2p_plugin_registry *r, int i)
{
    const registry_entry *e = ENTRY(r, i);
    return e ? S(e->creator->onnx_domain) : NULL;
}
const char *o2p_plugin_registry_creator_library(const o2p_plugin_registry *r, int i)
{
    const registry_entry *e = ENTRY(r, i);
    return e ? e->library : NULL;
}

/* The creator for ONNX nodes of (domain, op_type), the last registered winning (a library
 * loaded later overrides the bundled one), or NULL. */
const o2p_plugin_creator *ir_plugin_find(const o2p_plugin_registry *r, const char *domain,
                                         const char *op_type, const char **library)
{
    if (domain && strcmp(domain, "ai.onnx") == 0)
        domain = "";
    for (int i = r ? r->count - 1 : -1; i >= 0; i--) {
        const o2p_plugin_creator *c = r->entries[i].creator;
        if (strcmp(c->name, op_type) == 0 && strcmp(S(c->onnx_domain), S(domain)) == 0) {
            if (library)
                *library = r->entries[i].library;
            return c;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- the default registry */

static o2p_plugin_registry default_registry;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void load_default(void)
{
    const char *env = getenv("O2P_PLUGINS_LIBRARY");
    if (env && *env) {
        if (o2p_plugin_registry_load_library(&default_registry, env) != O2P_OK)
            o2p_log(O2P_SEVERITY_WARNING, "O2P_PLUGINS_LIBRARY: %s", o2p_last_error());
        return;
    }
    /* Next to the library (or program) this code is in. */
    Dl_info info;
    if (!dladdr((void *)&load_default, &info) || !info.dli_fname)
        return;
    char *copy = realpath(info.dli_fname, NULL);
    if (!copy)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/libo2p_plugins.so", dirname(copy));
    free(copy);
    FILE *f = fopen(path, "rb");
    if (!f)
        return; /* no bundled plugins installed: nodes without importers stay unsupported */
    fclose(f);
    if (o2p_plugin_registry_load_library(&default_registry, path) != O2P_OK)
        o2p_log(O2P_SEVERITY_WARNING, "the bundled plugin library: %s", o2p_last_error());
}

o2p_plugin_registry *o2p_default_plugin_registry(void)
{
    pthread_once(&default_once, load_default);
    return &default_registry;
}

/* ---------------------------------------------------------------- plugin layers */

void ir_plugin_desc(const ir_tensor *t, o2p_plugin_tensor_desc *desc)
{
    memset(desc, 0, sizeof *desc);
    desc->dtype = t ? t->dtype : O2P_DTYPE_UNDEFINED;
    desc->rank = t ? t->shape.rank : O2P_RANK_UNKNOWN;
    for (int d = 0; t && d < t->shape.rank && d < O2P_MAX_RANK; d++)
        desc->dims[d] = t->shape.dims[d].value;
}

int ir_plugin_fields(const ir_layer *l, o2p_plugin_field *fields)
{
    int nf = 0;
    for (int a = 0; a < l->num_attrs; a++) {
        const ir_attr *at = &l->attrs[a];
        if (at->type != O2P_ATTR_INT && at->type != O2P_ATTR_FLOAT &&
            at->type != O2P_ATTR_STRING && at->type != O2P_ATTR_INTS &&
            at->type != O2P_ATTR_FLOATS)
            continue;
        memset(&fields[nf], 0, sizeof fields[nf]);
        fields[nf].name = at->name;
        fields[nf].type = at->type;
        fields[nf].i = at->i;
        fields[nf].f = at->f;
        fields[nf].s = at->s;
        fields[nf].count = at->count;
        fields[nf].ints = at->ints;
        fields[nf].floats = at->floats;
        nf++;
    }
    return nf;
}

const o2p_plugin_creator *ir_plugin_find_creator(const o2p_plugin_registry *r, const char *name,
                                                 const char *version,
                                                 const char *plugin_namespace)
{
    for (int i = r ? r->count - 1 : -1; i >= 0; i--) {
        const o2p_plugin_creator *c = r->entries[i].creator;
        if (strcmp(c->name, S(name)) == 0 && strcmp(S(c->version), S(version)) == 0 &&
            strcmp(S(c->plugin_namespace), S(plugin_namespace)) == 0)
            return c;
    }
    return NULL;
}

static o2p_status infer_plugin(ir_infer_ctx *ctx)
{
    const ir_layer *l = ctx->layer;
    const o2p_plugin_creator *c = l->plugin;
    int nin = l->num_inputs, nout = l->num_outputs;
    if (nin < c->min_inputs || (c->max_inputs >= 0 && nin > c->max_inputs))
        return ir_infer_error(ctx, "has %d inputs; the plugin %s takes %d to %d", nin, c->name,
                              c->min_inputs, c->max_inputs);
    o2p_plugin_tensor_desc *in = calloc((size_t)nin + 1, sizeof *in);
    o2p_plugin_tensor_desc *out = calloc((size_t)nout + 1, sizeof *out);
    o2p_plugin_field *fields = calloc((size_t)l->num_attrs + 1, sizeof *fields);
    if (!in || !out || !fields) {
        free(in);
        free(out);
        free(fields);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    }
    for (int i = 0; i < nin; i++)
        ir_plugin_desc(l->inputs[i], &in[i]);
    int nf = ir_plugin_fields(l, fields);
    char msg[512] = "";
    o2p_plugin_error err = {msg, sizeof msg};
    for (int i = 0; i < nout; i++)
        out[i].rank = O2P_RANK_UNKNOWN;
    o2p_status st = c->infer_outputs(in, nin, fields, nf, out, nout, &err);
    msg[sizeof msg - 1] = '\0';
    if (st != O2P_OK)
        st = ir_infer_error(ctx, "the plugin %s (%s) refused: %s", c->name,
                            l->plugin_library ? l->plugin_library : "", msg[0] ? msg : "no reason given");
    for (int i = 0; i < nout && st == O2P_OK; i++) {
        ir_shape s;
        ir_shape_unknown(&s);
        if (out[i].rank >= 0 && out[i].rank <= IR_MAX_RANK) {
            s.rank = out[i].rank;
            for (int d = 0; d < s.rank; d++)
                s.dims[d] = out[i].dims[d] >= 0 ? (ir_dim){out[i].dims[d], NULL, 0} : IR_DIM_UNKNOWN;
        }
        st = ir_set_output(ctx, i, out[i].dtype, &s);
    }
    free(in);
    free(out);
    free(fields);
    return st;
}

static const ir_op plugin_op = {"", "<plugin>", 0, -1, 0, -1, infer_plugin};

const ir_op *ir_plugin_op(void)
{
    return &plugin_op;
}

const char *o2p_layer_get_plugin_library(const o2p_layer *layer)
{
    return layer && layer->plugin ? layer->plugin_library : NULL;
}
