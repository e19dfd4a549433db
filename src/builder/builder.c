/* builder.c: the build pipeline (DESIGN.md §1): infer shapes, check the network can be
 * built, fold constants, remove no-op and dead layers, pick a tactic per layer, then lay
 * out tensors: engine inputs and outputs bound by the caller, constants in the weights blob,
 * activations in one arena shared by liveness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/builder.h"
#include "builder/control.h"
#include "passes/passes.h"

#define ARENA_ALIGN 64u
#define WEIGHTS_ALIGN 256u
/* Constant folding makes at most this many bytes per tensor (weights made by
 * ConstantOfShape/Expand can be large; the plan has to hold them anyway). */
#define FOLD_MAX_TENSOR_BYTES ((size_t)1 << 31)

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* A data-dependent dim: unknown until the layer runs, with the upper bound its op's
 * inference gave (NonZero's count, at most the input's element count). */
static int dd_dim(const ir_dim *d)
{
    return d->value < 0 && d->bound > 0;
}

/* The axes whose dims depend on the data (a bit per axis) when every other dim is known, so
 * the tensor can be allocated at its bound; 0 when the shape is static or not bounded. */
static uint32_t dd_mask_of(const ir_shape *s)
{
    if (s->rank < 0 || s->rank > IR_MAX_RANK)
        return 0;
    uint32_t m = 0;
    for (int i = 0; i < s->rank; i++) {
        if (s->dims[i].value >= 0)
            continue;
        if (!dd_dim(&s->dims[i]))
            return 0;
        m |= 1u << i;
    }
    return m;
}

/* Dim i as allocated: its value, or its bound when data-dependent. */
static int64_t alloc_dim(const ir_dim *d)
{
    return d->value >= 0 ? d->value : d->bound;
}

/* A layer of g, or of a body nested in g, that reads t (or a body that returns it): the
 * first one found, or NULL. */
static const ir_layer *reader_of(const ir_graph *g, const ir_tensor *t)
{
    for (int i = 0; i < g->layers.count; i++) {
        const ir_layer *l = g->layers.items[i];
        for (int k = 0; k < l->num_inputs; k++)
            if (l->inputs[k] == t)
                return l;
        for (int a = 0; a < l->num_attrs; a++) {
            const ir_attr *at = &l->attrs[a];
            int n = at->type == O2P_ATTR_GRAPH ? 1 : at->type == O2P_ATTR_GRAPHS ? at->count : 0;
            for (int b = 0; b < n && at->graphs; b++) {
                const ir_graph *body = at->graphs[b];
                if (!body)
                    continue;
                for (int o = 0; o < body->outputs.count; o++)
                    if (body->outputs.items[o] == t)
                        return l;
                if (reader_of(body, t))
                    return l; /* the control layer reads it for its body */
            }
        }
    }
    return NULL;
}

/* A layer output whose shape depends on the data (NonZero's count) can be built when each
 * such dim has a bound and no layer reads the tensor: the plan allocates it at its bound and
 * the kernel reports the actual dims after the run (docs/data-dependent-shapes.md). A layer
 * reading it would need its shape before the run. */
static o2p_status check_data_dependent(const ir_graph *g, const ir_layer *l, const ir_tensor *t)
{
    const ir_layer *r = reader_of(g, t);
    if (!r)
        return O2P_OK;
    char s[256];
    ir_shape_format(&t->shape, s, sizeof s);
    return o2p_fail(O2P_ERR_UNSUPPORTED,
                    "layer '%s' (%s): output '%s' has a data-dependent shape (%s) and layer '%s' "
                    "(%s) reads it; data-dependent shapes can only be engine outputs in this "
                    "version: make '%s' a graph output and run the layers after it separately "
                    "(split the model there), or give the model a static shape at that point",
                    l->name, l->op_type, t->name, s, r->name, r->op_type, t->name);
}

/* Every layer has an importer (or is a plugin layer), and every tensor a layer touches has a
 * known type and a static shape, or a bounded data-dependent one that no layer reads: dynamic
 * shapes need fixing before a build (profiles come later). */
static o2p_status check_buildable(const ir_graph *g)
{
    for (int i = 0; i < g->layers.count; i++) {
        const ir_layer *l = g->layers.items[i];
        if (!l->op)
            return o2p_fail(O2P_ERR_UNSUPPORTED, "layer '%s' (%s%s%s) cannot be built: %s",
                            l->name, l->domain, *l->domain ? "." : "", l->op_type,
                            o2p_layer_get_unsupported_reason(l));
    }
    for (int i = 0; i < g->inputs.count; i++) {
        const ir_tensor *t = g->inputs.items[i];
        if (!ir_shape_is_static(&t->shape)) {
            char s[256];
            ir_shape_format(&t->shape, s, sizeof s);
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "input '%s' has the dynamic shape %s; fix it for the build (CLI: "
                            "--shapes %s:DxDx...; API: o2p_tensor_set_shape)",
                            t->name, s, t->name);
        }
    }
    for (int i = 0; i < g->layers.count; i++) {
        const ir_layer *l = g->layers.items[i];
        for (int k = 0; k < l->num_outputs; k++) {
            const ir_tensor *t = l->outputs[k];
            if (!t)
                continue;
            if (t->dtype != O2P_DTYPE_UNDEFINED && ir_dtype_size(t->dtype) &&
                !l->plugin && dd_mask_of(&t->shape)) {
                O2P_TRY(check_data_dependent(g, l, t));
                continue;
            }
            if (t->dtype == O2P_DTYPE_UNDEFINED || !ir_dtype_size(t->dtype) ||
                !ir_shape_is_static(&t->shape)) {
                char s[256];
                ir_shape_format(&t->shape, s, sizeof s);
                return o2p_fail(O2P_ERR_UNSUPPORTED,
                                "layer '%s' (%s): output '%s' has type %s and shape %s; a "
                                "build needs known types and static shapes (its size depends "
                                "on data, or an input dim is still dynamic)",
                                l->name, l->op_type, t->name, o2p_dtype_name(t->dtype), s);
            }
        }
    }
    return O2P_OK;
}

typedef struct tensor_index {
    o2p_strmap map; /* the tensor's address, as text -> index + 1 */
} tensor_index;

/* A zeroed slot at the end of e->tensors (grown as needed; *cap its capacity). */
static o2p_status new_tensor(build_engine *e, int *cap, build_tensor **out)
{
    if (e->num_tensors == *cap) {
        int ncap = *cap ? *cap * 2 : 64;
        build_tensor *n = realloc(e->tensors, (size_t)ncap * sizeof *n);
        if (!n)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine tensors)");
        e->tensors = n;
        *cap = ncap;
    }
    *out = &e->tensors[e->num_tensors];
    memset(*out, 0, sizeof **out);
    return O2P_OK;
}

static o2p_status add_tensor(build_engine *e, tensor_index *ix, ir_tensor *t, int *cap, int *out)
{
    char key[32];
    snprintf(key, sizeof key, "%p", (void *)t);
    intptr_t known = (intptr_t)o2p_strmap_get(&ix->map, key);
    if (known) {
        *out = (int)known - 1;
        return O2P_OK;
    }
    char *stored_key = o2p_arena_strdup(&e->arena, key);
    if (!stored_key)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine tensors)");
    build_tensor *bt;
    O2P_TRY(new_tensor(e, cap, &bt));
    bt->t = t;
    bt->name = t->name;
    if (!t->name || !*t->name) {
        bt->name = o2p_arena_printf(&e->arena, "constant_%d", e->num_tensors);
        if (!bt->name)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine tensors)");
    }
    /* data-dependent dims at their bound (check_buildable let only bounded ones through) */
    bt->dd_mask = dd_mask_of(&t->shape);
    bt->shape_tensor = -1;
    ir_shape alloc = t->shape;
    for (int d = 0; d < alloc.rank && d < IR_MAX_RANK; d++)
        alloc.dims[d].value = alloc_dim(&t->shape.dims[d]);
    int ok;
    int64_t n = ir_shape_numel(&alloc, &ok);
    bt->nbytes = ok ? (uint64_t)n * ir_dtype_size(t->dtype) : 0;
    if (t->kind == IR_TENSOR_CONSTANT)
        bt->storage = BUILD_STORAGE_WEIGHTS;
    else if (t->kind == IR_TENSOR_INPUT)
        bt->storage = BUILD_STORAGE_IO;
    else
        bt->storage = BUILD_STORAGE_ARENA;
    O2P_TRY(o2p_strmap_put(&ix->map, stored_key, (void *)(intptr_t)(e->num_tensors + 1)));
    *out = e->num_tensors++;
    return O2P_OK;
}

/* Arena offsets by liveness: a tensor lives from the layer that writes it to the last layer
 * that reads it; tensors whose lifetimes do not overlap may share bytes. Layers in order;
 * each new tensor goes at the lowest offset (0 or the end of a live block) where it
 * overlaps no block still alive. */
static uint64_t block_size(const build_tensor *bt)
{
    return align_up(bt->nbytes ? bt->nbytes : 1, ARENA_ALIGN);
}

static o2p_status plan_memory(build_engine *e)
{
    int n = e->num_tensors;
    int *first = malloc((size_t)n * sizeof *first);
    int *last = malloc((size_t)n * sizeof *last);
    int *live = malloc((size_t)n * sizeof *live);
    if (!first || !last || !live) {
        free(first);
        free(last);
        free(live);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (memory planning)");
    }
    for (int i = 0; i < n; i++)
        first[i] = last[i] = -1;
    for (int li = 0; li < e->num_layers; li++) {
        const build_layer *bl = &e->layers[li];
        for (int k = 0; k < bl->layer->num_outputs; k++)
            if (bl->outputs[k] >= 0 && first[bl->outputs[k]] < 0)
                first[bl->outputs[k]] = last[bl->outputs[k]] = li;
        /* a shape tensor is written with its output and copied to the host right after its
         * layer (lean cuda executor): it lives for that layer only */
        for (int k = 0; bl->output_shape_tensors && k < bl->layer->num_outputs; k++)
            if (bl->output_shape_tensors[k] >= 0)
                first[bl->output_shape_tensors[k]] = last[bl->output_shape_tensors[k]] = li;
        for (int k = 0; k < bl->layer->num_inputs; k++)
            if (bl->inputs[k] >= 0)
                last[bl->inputs[k]] = li;
    }
    int nlive = 0;
    uint64_t arena = 0;
    for (int li = 0; li < e->num_layers; li++) {
        /* blocks whose last reader ran before this layer are free again */
        int k2 = 0;
        for (int k = 0; k < nlive; k++)
            if (last[live[k]] >= li)
                live[k2++] = live[k];
        nlive = k2;
        const build_layer *bl = &e->layers[li];
        int nout = bl->layer->num_outputs;
        for (int k = 0; k < nout * (bl->output_shape_tensors ? 2 : 1); k++) {
            int ti = k < nout ? bl->outputs[k] : bl->output_shape_tensors[k - nout];
            if (ti < 0 || e->tensors[ti].storage != BUILD_STORAGE_ARENA || first[ti] != li)
                continue;
            uint64_t size = block_size(&e->tensors[ti]);
            uint64_t best = UINT64_MAX;
            for (int c = -1; c < nlive; c++) {
                uint64_t off = c < 0 ? 0
                                     : e->tensors[live[c]].offset +
                                           block_size(&e->tensors[live[c]]);
                if (off >= best)
                    continue;
                int clash = 0;
                for (int o = 0; o < nlive && !clash; o++) {
                    uint64_t os = e->tensors[live[o]].offset;
                    uint64_t oe = os + block_size(&e->tensors[live[o]]);
                    clash = off < oe && os < off + size;
                }
                if (!clash)
                    best = off;
            }
            e->tensors[ti].offset = best;
            if (best + size > arena)
                arena = best + size;
            live[nlive++] = ti;
        }
    }
    free(first);
    free(last);
    free(live);
    e->arena_size = arena;
    return O2P_OK;
}

/* ---------------------------------------------------------------- cuda target */

static void host_view(const build_tensor *bt, host_tensor *h)
{
    memset(h, 0, sizeof *h);
    h->dtype = bt->t->dtype;
    h->rank = bt->t->shape.rank;
    for (int i = 0; i < bt->t->shape.rank && i < HOST_MAX_RANK; i++)
        h->dims[i] = alloc_dim(&bt->t->shape.dims[i]); /* data-dependent: the bound */
    /* the lowering may read constants (a Reshape's shape, a Pad's pads), nothing else */
    h->data = bt->storage == BUILD_STORAGE_WEIGHTS ? (void *)bt->t->data : NULL;
}

/* Chooses the layer's tactic and lowers it into its launches. */
/* The constants a lowering made (cg_emit_constant) become weights tensors of the engine,
 * laid out after the others, and the patches that name them point at those. */
static o2p_status add_layer_constants(build_engine *e, build_layer *bl, cg_emit *em, int *cap)
{
    for (int k = 0; k < em->num_constants; k++) {
        const cg_constant *c = &em->constants[k];
        ir_tensor *t = o2p_arena_alloc(&e->arena, sizeof *t, 16);
        void *data = o2p_arena_alloc(&e->arena, (size_t)c->size, 16);
        const char *name = o2p_arena_printf(&e->arena, "%s:constant%d", bl->layer->name, k);
        build_tensor *bt;
        if (!t || !data || !name)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (layer constants)");
        memcpy(data, c->bytes, (size_t)c->size);
        memset(t, 0, sizeof *t);
        t->name = name;
        t->dtype = O2P_DTYPE_UINT8;
        t->shape.rank = 1;
        t->shape.dims[0] = (ir_dim){(int64_t)c->size, NULL, 0};
        t->kind = IR_TENSOR_CONSTANT;
        t->graph = bl->layer->graph;
        t->data = data;
        t->nbytes = (size_t)c->size;
        O2P_TRY(new_tensor(e, cap, &bt));
        bt->t = t;
        bt->name = name;
        bt->storage = BUILD_STORAGE_WEIGHTS;
        bt->nbytes = c->size;
        bt->offset = e->weights_size;
        bt->shape_tensor = -1;
        e->weights_size = align_up(e->weights_size + c->size, WEIGHTS_ALIGN);
        bl->constants[k] = e->num_tensors++;
    }
    bl->num_constants = em->num_constants;
    for (int i = 0; i < em->count; i++)
        for (int p = 0; p < em->launches[i].num_patches; p++) {
            cg_patch *pt = &em->launches[i].patches[p];
            if (pt->tensor <= CG_TENSOR_CONSTANT(0))
                pt->tensor = bl->constants[CG_TENSOR_CONSTANT_BASE - pt->tensor];
        }
    return O2P_OK;
}

static o2p_status lower_layer(build_engine *e, build_layer *bl, const build_options *opt,
                              int *cap)
{
    const ir_layer *l = bl->layer;
    int nin = l->num_inputs, nout = l->num_outputs, nattr = l->num_attrs;
    host_tensor *views = calloc((size_t)(nin + nout + nattr) + 1, sizeof *views);
    const host_tensor **in = calloc((size_t)nin + 1, sizeof *in);
    host_tensor **out = calloc((size_t)nout + 1, sizeof *out);
    host_attr *attrs = calloc((size_t)nattr + 1, sizeof *attrs);
    o2p_status st = O2P_OK;
    cg_emit em;
    cg_emit_init(&em);
    if (!views || !in || !out || !attrs) {
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory lowering layer '%s'", l->name);
        goto done;
    }
    for (int i = 0; i < nin; i++)
        if (bl->inputs[i] >= 0) {
            host_view(&e->tensors[bl->inputs[i]], &views[i]);
            in[i] = &views[i];
        }
    for (int i = 0; i < nout; i++)
        if (bl->outputs[i] >= 0) {
            host_view(&e->tensors[bl->outputs[i]], &views[nin + i]);
            out[i] = &views[nin + i];
        }
    for (int a = 0; a < nattr; a++) {
        const ir_attr *ia = &l->attrs[a];
        host_attr *ha = &attrs[a];
        ha->name = ia->name;
        ha->type = ia->type;
        ha->i = ia->i;
        ha->f = ia->f;
        ha->s = ia->s;
        ha->count = ia->count;
        ha->ints = ia->ints;
        ha->floats = ia->floats;
        ha->strings = (const char *const *)ia->strings;
        if (bl->attr_tensors[a] >= 0) {
            host_view(&e->tensors[bl->attr_tensors[a]], &views[nin + nout + a]);
            ha->tensor = &views[nin + nout + a];
        }
    }
    cg_layer cl = {{l->op_type, l->name, e->opset, nin, in, nout, out, nattr, attrs},
                   bl->inputs, bl->outputs, bl->attr_tensors, bl->output_shape_tensors};
    st = build_select_cuda_tactic(l, &cl, opt, &bl->tactic);
    if (st != O2P_OK)
        goto done;
    /* candidates() may name its tactics in storage of its own: the engine keeps copies */
    bl->tactic.source = o2p_arena_strdup(&e->arena, bl->tactic.source);
    bl->tactic.kernel = o2p_arena_strdup(&e->arena, bl->tactic.kernel);
    if (!bl->tactic.source || !bl->tactic.kernel) {
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory lowering layer '%s'", l->name);
        goto done;
    }
    cg_options o;
    build_cg_options(opt, &o);
    const cg_op *op = cg_op_find(l->op_type);
    st = op->lower(&cl, &bl->tactic.cuda, &o, &em);
    if (st == O2P_OK)
        st = cg_emit_status(&em);
    if (st != O2P_OK) {
        /* lowerings name the layer; the launch list's own errors do not */
        if (!strstr(o2p_last_error(), l->name))
            o2p_error_prefix("layer '%s' (%s), tactic %s", l->name, l->op_type,
                             bl->tactic.cuda.kernel);
        goto done;
    }
    if (opt->workspace_limit && em.workspace > opt->workspace_limit) {
        st = o2p_fail(O2P_ERR_INTERNAL,
                      "layer '%s' (%s): tactic %s declared %llu bytes of workspace and its "
                      "launches use %llu, more than the limit of %llu",
                      l->name, l->op_type, bl->tactic.cuda.kernel,
                      (unsigned long long)bl->tactic.workspace,
                      (unsigned long long)em.workspace,
                      (unsigned long long)opt->workspace_limit);
        goto done;
    }
    for (int i = 0; i < em.count; i++) {
        cg_launch *ln = &em.launches[i];
        ln->family = o2p_arena_strdup(&e->arena, ln->family);
        ln->function = o2p_arena_strdup(&e->arena, ln->function);
        if (!ln->family || !ln->function) {
            st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory lowering layer '%s'", l->name);
            goto done;
        }
    }
    st = add_layer_constants(e, bl, &em, cap);
    if (st != O2P_OK)
        goto done;
    bl->workspace = em.workspace;
    if (em.workspace > e->workspace_size)
        e->workspace_size = em.workspace;
    bl->launches = em.launches;
    bl->num_launches = em.count;
    em.launches = NULL; /* the engine owns them now */
    em.count = 0;
done:
    cg_emit_free(&em);
    free(views);
    free(in);
    free(out);
    free(attrs);
    return st;
}

static o2p_status lower_cuda(build_engine *e, const build_options *opt, int *cap)
{
    for (int li = 0; li < e->num_layers; li++) {
        build_layer *bl = &e->layers[li];
        if (bl->layer->plugin) {
            /* A plugin layer keeps the plugin tactic chosen before memory planning and has
             * no launches: its creator runs it. Its workspace lies in the context's device
             * workspace (the lean runtime hands it to enqueue_cuda), so that grows to it. */
            bl->workspace = bl->tactic.workspace;
            if (bl->workspace > e->workspace_size)
                e->workspace_size = bl->workspace;
            continue;
        }
        if (bl->num_bodies)
            continue; /* control flow runs on the host (src/lean/control.c) */
        O2P_TRY(lower_layer(e, bl, opt, cap));
    }
    return O2P_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Compiles every kernel family the launches use, for each image the plan needs: SASS per
 * target architecture and, under ampere+, compute_80 PTX (DESIGN.md §7). Families in name
 * order, so that the same build gives the same plan. */
static o2p_status compile_images(build_engine *e, const build_options *opt)
{
    int total = 0;
    for (int li = 0; li < e->num_layers; li++)
        total += e->layers[li].num_launches;
    const char **families = calloc((size_t)total + 1, sizeof *families);
    if (!families)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (kernel families)");
    int nfam = 0;
    for (int li = 0; li < e->num_layers; li++)
        for (int k = 0; k < e->layers[li].num_launches; k++) {
            const cg_launch *ln = &e->layers[li].launches[k];
            if (ln->kind == CG_LAUNCH_KERNEL)
                families[nfam++] = ln->family;
        }
    qsort(families, (size_t)nfam, sizeof *families, cmp_str);
    int uniq = 0;
    for (int i = 0; i < nfam; i++)
        if (!uniq || strcmp(families[uniq - 1], families[i]) != 0)
            families[uniq++] = families[i];
    nfam = uniq;
    o2p_status st = O2P_OK;
    if (nfam == 0)
        goto done; /* nothing to compile: copies and memsets only, or no layers */
    int known[64];
    int nknown = cg_nvrtc_archs(known, 64);
    if (nknown < 0) {
        st = O2P_ERR_UNSUPPORTED;
        o2p_error_prefix("the cuda target compiles its kernels with NVRTC");
        goto done;
    }
    for (int a = 0; a < opt->num_archs; a++) {
        int ok = 0;
        for (int k = 0; k < nknown; k++)
            ok |= known[k] == opt->archs[a];
        if (!ok) {
            char list[256] = "";
            size_t len = 0;
            for (int k = 0; k < nknown && len < sizeof list; k++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%ssm_%d",
                                        k ? ", " : "", known[k]);
            st = o2p_fail(O2P_ERR_UNSUPPORTED,
                          "NVRTC cannot compile for sm_%d (it compiles for %s): build for "
                          "those (--arch), or use a newer CUDA toolkit",
                          opt->archs[a], list);
            goto done;
        }
    }
    int per_family = opt->num_archs + (opt->hw_compat == O2P_HW_COMPAT_AMPERE_PLUS);
    e->images = o2p_arena_array(&e->arena, (size_t)nfam * (size_t)per_family,
                                sizeof *e->images);
    if (!e->images) {
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (kernel images)");
        goto done;
    }
    cg_compile_options copt = {opt->kernel_cache, opt->verbose};
    for (int f = 0; f < nfam && st == O2P_OK; f++) {
        for (int k = 0; k < per_family && st == O2P_OK; k++) {
            build_image *img = &e->images[e->num_images];
            img->family = families[f];
            img->kind = k < opt->num_archs ? CG_IMAGE_SASS : CG_IMAGE_PTX;
            img->arch = k < opt->num_archs ? opt->archs[k] : 80;
            img->arch_specific = 0;
            st = cg_compile(img->family, img->arch, img->kind, &copt, &img->bytes, &img->size);
            if (st != O2P_OK) {
                o2p_error_prefix("kernel family '%s' for %s_%d", img->family,
                                 img->kind == CG_IMAGE_SASS ? "sm" : "compute", img->arch);
                break;
            }
            /* cg_compile's PTX counts its terminating NUL; a plan's PTX is NUL-free text (the
             * lean runtime terminates its own copy before cuModuleLoadData). */
            while (img->kind == CG_IMAGE_PTX && img->size &&
                   ((const char *)img->bytes)[img->size - 1] == '\0')
                img->size--;
            e->num_images++;
        }
    }
done:
    free(families);
    return st;
}

/* Folds constants again after a pass changed the network, adding to *fs. */
static o2p_status fold_again(ir_network *net, pass_fold_stats *fs)
{
    pass_fold_stats more;
    O2P_TRY(pass_fold_constants(net, FOLD_MAX_TENSOR_BYTES, &more));
    fs->layers_folded += more.layers_folded;
    fs->bytes_created += more.bytes_created;
    fs->layers_skipped_unsupported += more.layers_skipped_unsupported;
    return O2P_OK;
}

/* Cuda target: per data-dependent output, the int64 [rank] tensor its kernel writes the
 * actual dims into (cg_layer.output_shape_tensors), in the arena. */
static o2p_status add_shape_tensors(build_engine *e, int *cap)
{
    for (int li = 0; li < e->num_layers; li++) {
        build_layer *bl = &e->layers[li];
        int nout = bl->layer->num_outputs;
        for (int k = 0; k < nout; k++) {
            int ti = bl->outputs[k];
            if (ti < 0 || !e->tensors[ti].dd_mask)
                continue;
            if (!bl->output_shape_tensors) {
                bl->output_shape_tensors = o2p_arena_array(&e->arena, (size_t)nout, sizeof(int));
                if (!bl->output_shape_tensors)
                    return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (shape tensors)");
                for (int j = 0; j < nout; j++)
                    bl->output_shape_tensors[j] = -1;
            }
            ir_tensor *st = o2p_arena_alloc(&e->arena, sizeof *st, 16);
            const char *name = o2p_arena_printf(&e->arena, "%s:shape", e->tensors[ti].name);
            if (!st || !name)
                return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (shape tensors)");
            memset(st, 0, sizeof *st);
            st->name = name;
            st->dtype = O2P_DTYPE_INT64;
            st->shape.rank = 1;
            st->shape.dims[0] = (ir_dim){e->tensors[ti].t->shape.rank, NULL, 0};
            st->kind = IR_TENSOR_ACTIVATION;
            st->graph = e->tensors[ti].t->graph;
            build_tensor *bt;
            O2P_TRY(new_tensor(e, cap, &bt));
            bt->t = st;
            bt->name = name;
            bt->storage = BUILD_STORAGE_ARENA;
            bt->nbytes = (uint64_t)st->shape.dims[0].value * 8u;
            bt->shape_tensor = -1;
            e->tensors[ti].shape_tensor = e->num_tensors;
            bl->output_shape_tensors[k] = e->num_tensors++;
        }
    }
    return O2P_OK;
}

o2p_status build_engine_create(ir_network *net, const build_options *opt, build_engine *e)
{
    memset(e, 0, sizeof *e);
    o2p_arena_init(&e->arena);
    e->target = opt->target;
    e->opset = ir_network_opset(net, "");
    ir_graph *g = net->main;

    O2P_TRY(ir_infer_network(net));
    int gradients = 0;
    O2P_TRY(pass_expand_gradients(net, &gradients));
    pass_fold_stats fs;
    O2P_TRY(pass_fold_constants(net, FOLD_MAX_TENSOR_BYTES, &fs));
    /* Sequences and optionals become plain tensors, and control flow with constant
     * conditions and trip counts whose shapes vary between iterations is copied out, in
     * rounds until neither changes anything: a Loop that builds a sequence (its trip count
     * often a SequenceLength) is unrolled, its copies' sequence ops resolved, an If whose
     * condition that made a constant then inlined. The copies are inferred and folded again
     * (their iteration numbers are constants). The last run refuses what is left. */
    for (int round = 0; round < 16; round++) {
        int resolved = 0, unrolled = 0;
        O2P_TRY(pass_resolve_sequences(net, 0, &resolved));
        if (resolved)
            O2P_TRY(fold_again(net, &fs));
        O2P_TRY(pass_unroll_control(net, &unrolled));
        if (unrolled) {
            O2P_TRY(ir_infer_network(net));
            O2P_TRY(fold_again(net, &fs));
        }
        if (!resolved && !unrolled)
            break;
    }
    int resolved = 0;
    O2P_TRY(pass_resolve_sequences(net, 1, &resolved));
    if (resolved)
        O2P_TRY(fold_again(net, &fs));
    O2P_TRY(build_control_check_outputs(g));
    /* After folding: a shape computed from constants (Range over folded floats, a Loop's
     * trip count) is known only once the layers computing it are folded and inferred again. */
    O2P_TRY(check_buildable(g));
    int bn = 0, noops = 0, dead = 0;
    O2P_TRY(pass_fold_batchnorm(net, &bn));
    O2P_TRY(pass_remove_noops(net, &noops));
    O2P_TRY(pass_remove_dead(net, &dead));
    O2P_TRY(build_control_prepare(net));
    if (opt->verbose)
        o2p_log(O2P_SEVERITY_INFO,
                "passes: %d layers folded into constants (%zu bytes), %d BatchNormalization "
                "folded into Conv/Gemm, %d no-op and %d dead layers removed, %d left",
                fs.layers_folded, fs.bytes_created, bn, noops, dead, g->layers.count);

    for (int i = 0; i < g->outputs.count; i++) {
        const ir_tensor *t = g->outputs.items[i];
        for (int k = 0; k < i; k++)
            if (g->outputs.items[k] == t)
                return o2p_fail(O2P_ERR_UNSUPPORTED,
                                "tensor '%s' is listed twice among the graph outputs; an engine "
                                "output is bound once (list it once, or add an Identity)",
                                t->name);
        if (t->kind == IR_TENSOR_INPUT)
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "graph output '%s' is a graph input itself; an engine output must "
                            "be computed (add an Identity in the model)",
                            t->name);
    }

    tensor_index ix;
    memset(&ix, 0, sizeof ix);
    int cap = 0;
    o2p_status st = O2P_OK;
    e->num_layers = g->layers.count;
    e->layers = o2p_arena_array(&e->arena, (size_t)e->num_layers, sizeof *e->layers);
    e->inputs = o2p_arena_array(&e->arena, (size_t)g->inputs.count, sizeof(int));
    e->outputs = o2p_arena_array(&e->arena, (size_t)g->outputs.count, sizeof(int));
    if (!e->layers || !e->inputs || !e->outputs) {
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine)");
        goto out;
    }
    for (int i = 0; i < g->inputs.count && st == O2P_OK; i++) {
        st = add_tensor(e, &ix, g->inputs.items[i], &cap, &e->inputs[i]);
        if (st == O2P_OK)
            e->tensors[e->inputs[i]].io |= 1;
    }
    e->num_inputs = g->inputs.count;
    for (int li = 0; li < g->layers.count && st == O2P_OK; li++) {
        ir_layer *l = g->layers.items[li];
        build_layer *bl = &e->layers[li];
        bl->layer = l;
        /* cuda tactics are chosen once memory is planned (the lowering sees tensor
         * indices); a plugin layer's tactic (its plugin, on either target) here */
        if (build_control_is_control(l)) {
            build_control_tactic(l, opt, &bl->tactic);
        } else if (opt->target == BUILD_TARGET_HOST || l->plugin) {
            st = build_select_tactic(l, opt, &bl->tactic);
            if (st != O2P_OK)
                break;
        }
        bl->inputs = o2p_arena_array(&e->arena, (size_t)l->num_inputs, sizeof(int));
        bl->outputs = o2p_arena_array(&e->arena, (size_t)l->num_outputs, sizeof(int));
        bl->attr_tensors = o2p_arena_array(&e->arena, (size_t)l->num_attrs, sizeof(int));
        if (!bl->inputs || !bl->outputs || !bl->attr_tensors) {
            st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine)");
            break;
        }
        for (int k = 0; k < l->num_inputs && st == O2P_OK; k++) {
            bl->inputs[k] = -1;
            if (l->inputs[k])
                st = add_tensor(e, &ix, l->inputs[k], &cap, &bl->inputs[k]);
        }
        for (int k = 0; k < l->num_outputs && st == O2P_OK; k++) {
            bl->outputs[k] = -1;
            if (l->outputs[k])
                st = add_tensor(e, &ix, l->outputs[k], &cap, &bl->outputs[k]);
        }
        /* TENSOR attributes are constants the kernel reads: they go into the weights. */
        for (int a = 0; a < l->num_attrs && st == O2P_OK; a++) {
            bl->attr_tensors[a] = -1;
            if (l->attrs[a].type == O2P_ATTR_TENSOR && l->attrs[a].tensors &&
                l->attrs[a].tensors[0])
                st = add_tensor(e, &ix, l->attrs[a].tensors[0], &cap, &bl->attr_tensors[a]);
        }
    }
    for (int i = 0; i < g->outputs.count && st == O2P_OK; i++) {
        st = add_tensor(e, &ix, g->outputs.items[i], &cap, &e->outputs[i]);
        if (st == O2P_OK) {
            build_tensor *bt = &e->tensors[e->outputs[i]];
            bt->io |= 2;
            if (bt->storage == BUILD_STORAGE_ARENA)
                bt->storage = BUILD_STORAGE_IO;
        }
    }
    e->num_outputs = g->outputs.count;
    if (st == O2P_OK && opt->target == BUILD_TARGET_CUDA)
        st = add_shape_tensors(e, &cap);
    if (st != O2P_OK)
        goto out;
    /* Weights: every constant once, each at a 256-byte boundary for direct upload. */
    uint64_t w = 0;
    for (int i = 0; i < e->num_tensors; i++) {
        build_tensor *bt = &e->tensors[i];
        if (bt->storage != BUILD_STORAGE_WEIGHTS)
            continue;
        bt->offset = w;
        w = align_up(w + bt->nbytes, WEIGHTS_ALIGN);
    }
    e->weights_size = w;
    st = plan_memory(e);
    if (st == O2P_OK)
        st = build_control_expand(e, opt);
    if (st == O2P_OK && opt->target == BUILD_TARGET_CUDA)
        st = lower_cuda(e, opt, &cap);
    if (st == O2P_OK && opt->target == BUILD_TARGET_CUDA)
        st = compile_images(e, opt);
out:
    o2p_strmap_free(&ix.map);
    if (st != O2P_OK)
        build_engine_free(e);
    return st;
}

void build_engine_free(build_engine *e)
{
    for (int i = 0; e->layers && i < e->num_layers; i++) {
        free(e->layers[i].launches);
        e->layers[i].launches = NULL;
        e->layers[i].num_launches = 0;
    }
    for (int i = 0; e->images && i < e->num_images; i++)
        free(e->images[i].bytes);
    e->images = NULL;
    e->num_images = 0;
    free(e->tensors);
    e->tensors = NULL;
    o2p_arena_free(&e->arena);
}
