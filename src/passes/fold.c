/* fold.c: constant folding: layers whose inputs are all constants are evaluated with the
 * host reference kernels and become constants (weights made by ConstantOfShape, Shape
 * arithmetic, and whole graphs when every input is known). */
#include <stdlib.h>
#include <string.h>

#include "host/host_kernels.h"
#include "passes/passes.h"

static void to_host(const ir_tensor *t, host_tensor *h, void *data)
{
    memset(h, 0, sizeof *h);
    h->dtype = t->dtype;
    h->rank = t->shape.rank;
    /* a data-dependent dim at its bound: the kernel reports the actual one */
    for (int i = 0; i < t->shape.rank; i++)
        h->dims[i] = t->shape.dims[i].value >= 0 || t->shape.dims[i].bound <= 0
                         ? t->shape.dims[i].value
                         : t->shape.dims[i].bound;
    h->data = data;
}

/* t's shape with data-dependent dims at their bounds (unknown dims without one stay). */
static ir_shape alloc_shape(const ir_tensor *t)
{
    ir_shape s = t->shape;
    for (int i = 0; i < s.rank; i++)
        if (s.dims[i].value < 0 && s.dims[i].bound > 0)
            s.dims[i].value = s.dims[i].bound;
    return s;
}

/* Whether every present input is a constant with data and every present output has a
 * known type and a static shape of at most max bytes; *out_bytes gets each output's size. */
static int foldable(const ir_layer *l, size_t max, size_t *out_bytes)
{
    if (!l->op || l->plugin || !host_kernel_lookup(l->domain, l->op_type))
        return 0;
    /* Random ops without a seed give other values on every run: folding would freeze them.
     * Dropout is random when it has a training_mode input. */
    static const char *const random_ops[] = {"RandomUniform", "RandomNormal",
                                             "RandomUniformLike", "RandomNormalLike",
                                             "Bernoulli", "Multinomial"};
    int random = strcmp(l->op_type, "Dropout") == 0 && l->num_inputs > 2 && l->inputs[2];
    for (size_t r = 0; r < sizeof random_ops / sizeof random_ops[0]; r++)
        random |= strcmp(l->op_type, random_ops[r]) == 0;
    if (random) {
        int seeded = 0;
        for (int a = 0; a < l->num_attrs; a++)
            seeded |= strcmp(l->attrs[a].name, "seed") == 0;
        if (!seeded)
            return 0;
    }
    for (int a = 0; a < l->num_attrs; a++)
        if (l->attrs[a].type == O2P_ATTR_GRAPH || l->attrs[a].type == O2P_ATTR_GRAPHS)
            return 0;
    for (int i = 0; i < l->num_inputs; i++)
        if (l->inputs[i] && !ir_tensor_is_const(l->inputs[i]) &&
            !(l->inputs[i]->kind == IR_TENSOR_CONSTANT && l->inputs[i]->nbytes == 0))
            return 0;
    int any_output = 0;
    for (int i = 0; i < l->num_outputs; i++) {
        const ir_tensor *t = l->outputs[i];
        out_bytes[i] = 0;
        if (!t)
            continue;
        any_output = 1;
        int ok;
        ir_shape shape = alloc_shape(t);
        int64_t n = ir_shape_numel(&shape, &ok);
        size_t es = ir_dtype_size(t->dtype);
        if (!ok || !es || !o2p_mul_size((size_t)n, es, &out_bytes[i]) || out_bytes[i] > max)
            return 0;
    }
    return any_output;
}

static o2p_status fold_layer(ir_network *net, ir_layer *l, const size_t *out_bytes,
                             pass_fold_stats *stats)
{
    o2p_status st = O2P_OK;
    int nin = l->num_inputs, nout = l->num_outputs, nattr = l->num_attrs;
    host_tensor *in = calloc((size_t)nin + 1, sizeof *in);
    host_tensor *out = calloc((size_t)nout + 1, sizeof *out);
    const host_tensor **inp = calloc((size_t)nin + 1, sizeof *inp);
    host_tensor **outp = calloc((size_t)nout + 1, sizeof *outp);
    host_attr *attrs = calloc((size_t)nattr + 1, sizeof *attrs);
    host_tensor *attr_tensors = calloc((size_t)nattr + 1, sizeof *attr_tensors);
    void **out_data = calloc((size_t)nout + 1, sizeof *out_data);
    if (!in || !out || !inp || !outp || !attrs || !attr_tensors || !out_data) {
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory folding layer '%s'", l->name);
        goto done;
    }
    for (int i = 0; i < nin; i++) {
        if (!l->inputs[i])
            continue;
        to_host(l->inputs[i], &in[i], (void *)l->inputs[i]->data);
        inp[i] = &in[i];
    }
    for (int i = 0; i < nout; i++) {
        if (!l->outputs[i])
            continue;
        out_data[i] = ir_network_alloc_data(net, out_bytes[i]);
        if (!out_data[i]) {
            st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory folding layer '%s' (%zu bytes)",
                          l->name, out_bytes[i]);
            goto done;
        }
        to_host(l->outputs[i], &out[i], out_data[i]);
        outp[i] = &out[i];
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
        if (ia->type == O2P_ATTR_TENSOR && ia->tensors && ia->tensors[0]) {
            to_host(ia->tensors[0], &attr_tensors[a], (void *)ia->tensors[0]->data);
            ha->tensor = &attr_tensors[a];
        }
    }
    host_kernel_args args = {l->op_type, l->name, ir_network_opset(net, ""), nin, inp, nout,
                             outp, nattr, attrs};
    st = host_kernel_lookup(l->domain, l->op_type)->run(&args);
    if (st == O2P_ERR_UNSUPPORTED) {
        /* Not foldable here (an element type the kernel lacks): the layer stays. */
        stats->layers_skipped_unsupported++;
        o2p_clear_error();
        st = O2P_OK;
        goto done;
    }
    if (st != O2P_OK)
        goto done;
    for (int i = 0; i < nout && st == O2P_OK; i++) {
        ir_tensor *t = l->outputs[i];
        if (!t)
            continue;
        ir_shape shape = t->shape;
        size_t bytes = out_bytes[i];
        if (!ir_shape_is_static(&shape)) {
            /* data-dependent dims (NonZero of a constant): the kernel gave the actual ones,
             * each within its bound; the constant is that shape, packed at the start */
            ir_shape bound = alloc_shape(t);
            int ok = out[i].rank == shape.rank;
            for (int d = 0; ok && d < shape.rank; d++) {
                ok = out[i].dims[d] >= 0 && out[i].dims[d] <= bound.dims[d].value;
                shape.dims[d] = (ir_dim){out[i].dims[d], NULL, 0};
            }
            int64_t n = ok ? ir_shape_numel(&shape, &ok) : 0;
            if (!ok) {
                st = o2p_fail(O2P_ERR_INTERNAL,
                              "layer '%s' (%s): the host kernel reported output dims outside "
                              "their bounds while folding",
                              l->name, l->op_type);
                break;
            }
            bytes = (size_t)n * ir_dtype_size(t->dtype);
        }
        st = ir_tensor_make_constant(t, t->dtype, &shape, out_data[i], bytes);
        stats->bytes_created += bytes;
    }
    if (st == O2P_OK) {
        ir_graph_remove_layer(l->graph, l);
        stats->layers_folded++;
    }
done:
    free(in);
    free(out);
    free(inp);
    free(outp);
    free(attrs);
    free(attr_tensors);
    free(out_data);
    return st;
}

/* One sweep over the layers in order; *folded counts what it folded. */
static o2p_status fold_sweep(ir_network *net, size_t max_tensor_bytes, pass_fold_stats *stats,
                             int *folded)
{
    ir_graph *g = net->main;
    int before_total = stats->layers_folded;
    /* Layers are in topological order, so the outputs folded here are constants by the time
     * their consumers are looked at. Removing a layer shifts the ones after it down. */
    for (int i = 0; i < g->layers.count;) {
        ir_layer *l = g->layers.items[i];
        size_t *out_bytes = calloc((size_t)l->num_outputs + 1, sizeof *out_bytes);
        if (!out_bytes)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory folding constants");
        int before = g->layers.count;
        o2p_status st = O2P_OK;
        if (foldable(l, max_tensor_bytes, out_bytes))
            st = fold_layer(net, l, out_bytes, stats);
        free(out_bytes);
        O2P_TRY(st);
        if (g->layers.count == before)
            i++;
    }
    *folded = stats->layers_folded - before_total;
    return O2P_OK;
}

o2p_status pass_fold_constants(ir_network *net, size_t max_tensor_bytes, pass_fold_stats *stats)
{
    pass_fold_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    /* Folding can make shapes known that inference could not know before (Range over
     * computed floats, for one), so infer again and fold again until nothing changes. */
    for (;;) {
        int folded = 0;
        O2P_TRY(fold_sweep(net, max_tensor_bytes, stats, &folded));
        if (folded == 0)
            return O2P_OK;
        int unknown = 0;
        ir_graph *g = net->main;
        for (int i = 0; i < g->layers.count && !unknown; i++) {
            const ir_layer *l = g->layers.items[i];
            for (int k = 0; k < l->num_outputs; k++)
                if (l->outputs[k] && !ir_shape_is_static(&l->outputs[k]->shape))
                    unknown = 1;
        }
        if (!unknown)
            return O2P_OK;
        O2P_TRY(ir_infer_network(net));
    }
}
