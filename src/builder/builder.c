/* builder.c: the build pipeline (DESIGN.md §1): infer shapes, check the network can be
 * built, fold constants, remove no-op and dead layers, pick a tactic per layer, then lay
 * out tensors: engine inputs and outputs bound by the caller, constants in the weights blob,
 * activations in one arena shared by liveness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/builder.h"
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

/* Every layer has an importer (or is a plugin layer), and every tensor a layer touches has a known type and a
 * static shape: dynamic shapes need fixing before a build (profiles come later). */
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
    if (e->num_tensors == *cap) {
        int ncap = *cap ? *cap * 2 : 64;
        build_tensor *n = realloc(e->tensors, (size_t)ncap * sizeof *n);
        if (!n)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine tensors)");
        e->tensors = n;
        *cap = ncap;
    }
    build_tensor *bt = &e->tensors[e->num_tensors];
    memset(bt, 0, sizeof *bt);
    bt->t = t;
    bt->name = t->name;
    if (!t->name || !*t->name) {
        bt->name = o2p_arena_printf(&e->arena, "constant_%d", e->num_tensors);
        if (!bt->name)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory (engine tensors)");
    }
    int ok;
    int64_t n = ir_shape_numel(&t->shape, &ok);
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
        for (int k = 0; k < bl->layer->num_outputs; k++) {
            int ti = bl->outputs[k];
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

o2p_status build_engine_create(ir_network *net, const build_options *opt, build_engine *e)
{
    memset(e, 0, sizeof *e);
    o2p_arena_init(&e->arena);
    e->target = opt->target;
    e->opset = ir_network_opset(net, "");
    ir_graph *g = net->main;

    O2P_TRY(ir_infer_network(net));
    O2P_TRY(check_buildable(g));
    pass_fold_stats fs;
    O2P_TRY(pass_fold_constants(net, FOLD_MAX_TENSOR_BYTES, &fs));
    int bn = 0, noops = 0, dead = 0;
    O2P_TRY(pass_fold_batchnorm(net, &bn));
    O2P_TRY(pass_remove_noops(net, &noops));
    O2P_TRY(pass_remove_dead(net, &dead));
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
        st = build_select_tactic(l, opt, &bl->tactic);
        if (st != O2P_OK)
            break;
        bl->inputs = o2p_arena_array(&e->arena, (size_t)l->num_inputs, sizeof(int));
        bl->outputs = o2p_arena_array(&e->arena, (size_t)l->num_outputs, sizeof(int));
        if (!bl->inputs || !bl->outputs) {
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
        for (int a = 0; a < l->num_attrs && st == O2P_OK; a++)
            if (l->attrs[a].type == O2P_ATTR_TENSOR && l->attrs[a].tensors &&
                l->attrs[a].tensors[0]) {
                int unused;
                st = add_tensor(e, &ix, l->attrs[a].tensors[0], &cap, &unused);
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
out:
    o2p_strmap_free(&ix.map);
    if (st != O2P_OK)
        build_engine_free(e);
    return st;
}

void build_engine_free(build_engine *e)
{
    free(e->tensors);
    e->tensors = NULL;
    o2p_arena_free(&e->arena);
}
