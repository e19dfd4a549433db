/* simplify.c: removing layers that compute nothing (Identity, inference-time Dropout) and
 * layers no graph output depends on. */
#include <string.h>

#include "passes/passes.h"

/* Makes every reader of `from` in graph g, and in the graphs nested in it, read `to`. */
static void replace_uses(ir_graph *g, ir_tensor *from, ir_tensor *to)
{
    for (int i = 0; i < g->layers.count; i++) {
        ir_layer *l = g->layers.items[i];
        for (int k = 0; k < l->num_inputs; k++)
            if (l->inputs[k] == from)
                l->inputs[k] = to;
        for (int a = 0; a < l->num_attrs; a++)
            for (int k = 0; l->attrs[a].graphs && k < l->attrs[a].count; k++)
                replace_uses(l->attrs[a].graphs[k], from, to);
    }
    for (int i = 0; i < g->outputs.count; i++)
        if (g->outputs.items[i] == from)
            g->outputs.items[i] = to;
}

/* A removed layer's outputs no longer have a producer. */
static void forget_outputs(ir_layer *l)
{
    for (int k = 0; k < l->num_outputs; k++)
        if (l->outputs[k] && l->outputs[k]->producer == l)
            l->outputs[k]->producer = NULL;
}

static int is_used(const ir_graph *g, const ir_tensor *t)
{
    for (int i = 0; i < g->layers.count; i++) {
        const ir_layer *l = g->layers.items[i];
        for (int k = 0; k < l->num_inputs; k++)
            if (l->inputs[k] == t)
                return 1;
        for (int a = 0; a < l->num_attrs; a++)
            for (int k = 0; l->attrs[a].graphs && k < l->attrs[a].count; k++)
                if (is_used(l->attrs[a].graphs[k], t))
                    return 1;
    }
    for (int i = 0; i < g->outputs.count; i++)
        if (g->outputs.items[i] == t)
            return 1;
    return 0;
}

/* A Dropout in training mode (opset 12+: a training_mode input that is not a constant
 * false) drops values: not a no-op even when nothing reads its mask. */
static int training_dropout(const ir_layer *l)
{
    if (l->num_inputs < 3 || !l->inputs[2])
        return 0;
    int64_t v;
    const ir_tensor *t = l->inputs[2];
    return !(ir_tensor_is_const(t) && ir_tensor_numel_const(t) == 1 &&
             ir_const_get_i64(t, 0, &v) && v == 0);
}

o2p_status pass_remove_noops(ir_network *net, int *removed)
{
    ir_graph *g = net->main;
    int n = 0;
    for (int i = 0; i < g->layers.count;) {
        ir_layer *l = g->layers.items[i];
        int noop = 0;
        if (!*l->domain && l->num_inputs >= 1 && l->inputs[0] && l->num_outputs >= 1 &&
            l->outputs[0] && !l->outputs[0]->is_output) {
            if (strcmp(l->op_type, "Identity") == 0)
                noop = 1;
            else if (strcmp(l->op_type, "Dropout") == 0)
                noop = (l->num_outputs < 2 || !l->outputs[1] || !is_used(g, l->outputs[1])) &&
                       !training_dropout(l);
        }
        if (!noop) {
            i++;
            continue;
        }
        replace_uses(g, l->outputs[0], l->inputs[0]);
        forget_outputs(l);
        ir_graph_remove_layer(g, l);
        n++;
    }
    if (removed)
        *removed = n;
    return O2P_OK;
}

o2p_status pass_remove_dead(ir_network *net, int *removed)
{
    ir_graph *g = net->main;
    int n = 0;
    /* Walking backwards, a layer is dead when nothing reads any of its outputs; removing it
     * can make the layers before it dead, which the same walk then sees. */
    for (int i = g->layers.count - 1; i >= 0; i--) {
        ir_layer *l = g->layers.items[i];
        int live = 0;
        for (int k = 0; k < l->num_outputs && !live; k++)
            if (l->outputs[k] && (l->outputs[k]->is_output || is_used(g, l->outputs[k])))
                live = 1;
        if (!live) {
            forget_outputs(l);
            ir_graph_remove_layer(g, l);
            n++;
        }
    }
    if (removed)
        *removed = n;
    return O2P_OK;
}
