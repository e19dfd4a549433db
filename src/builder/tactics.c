/* tactics.c: the tactic table and the selector (DESIGN.md §8). The table is the one place
 * that knows which kernels exist: for the host target, one builtin tactic per op with a
 * host reference kernel. CUDA tactics join the table with the CUDA target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/builder.h"
#include "host/host_kernels.h"

#include "o2p/o2p.h"
#include "o2p/plugin.h"

/* Candidates for a layer: the host kernel of its op (when there is one). Written into out
 * (at most cap); returns the count. */
static int candidates(const ir_layer *l, build_tactic *out, int cap)
{
    int n = 0;
    if (l->plugin && cap > 0) {
        /* A plugin layer: its creator's enqueue_host, found again by name at load. */
        const o2p_plugin_creator *c = l->plugin;
        uint64_t workspace = 0;
        if (c->workspace_size) {
            o2p_plugin_tensor_desc *in = calloc((size_t)l->num_inputs + 1, sizeof *in);
            o2p_plugin_field *fields = calloc((size_t)l->num_attrs + 1, sizeof *fields);
            if (in && fields) {
                for (int i = 0; i < l->num_inputs; i++)
                    ir_plugin_desc(l->inputs[i], &in[i]);
                int nf = ir_plugin_fields(l, fields);
                workspace = c->workspace_size(in, l->num_inputs, fields, nf);
            }
            free(in);
            free(fields);
        }
        build_tactic t = {.source = "plugin", .family = "plugin", .kernel = c->name,
                          .target = BUILD_TARGET_HOST, .workspace = workspace};
        out[n++] = t;
        return n;
    }
    if (!*l->domain && host_kernel_find(l->op_type) && n < cap) {
        for (int i = 0; i < host_kernel_count(); i++) {
            const host_kernel_entry *e = host_kernel_at(i);
            if (e && e->op_type && strcmp(e->op_type, l->op_type) == 0) {
                build_tactic t = {.source = "builtin", .family = "host", .kernel = e->op_type,
                                  .target = BUILD_TARGET_HOST};
                out[n++] = t;
                break;
            }
        }
    }
    return n;
}

static uint32_t source_bit(const char *source)
{
    if (strcmp(source, "builtin") == 0)
        return O2P_TACTIC_SOURCE_BUILTIN;
    if (strcmp(source, "cublas") == 0)
        return O2P_TACTIC_SOURCE_CUBLAS;
    if (strcmp(source, "cublaslt") == 0)
        return O2P_TACTIC_SOURCE_CUBLASLT;
    if (strcmp(source, "cudnn") == 0)
        return O2P_TACTIC_SOURCE_CUDNN;
    return 0;
}

/* Why a candidate cannot be used, or NULL. */
static const char *excluded(const build_tactic *t, const build_options *opt)
{
    if (t->target != opt->target)
        return t->target == BUILD_TARGET_HOST ? "runs on the host target only"
                                              : "runs on the cuda target only";
    /* Plugin tactics are not one of the tactic sources: a plugin layer has only its plugin. */
    if (strcmp(t->source, "plugin") != 0 && !(source_bit(t->source) & opt->tactic_sources))
        return "its tactic source is disabled";
    if (opt->workspace_limit && t->workspace > opt->workspace_limit)
        return "needs more workspace than the limit";
    return NULL;
}

o2p_status build_select_tactic(const ir_layer *l, const build_options *opt, build_tactic *out)
{
    if (l->plugin && opt->target != BUILD_TARGET_HOST)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s) runs the plugin from %s; plugin layers build for the "
                        "host target only in onnx2plan %s",
                        l->name, l->op_type, l->plugin_library ? l->plugin_library : "?",
                        o2p_version());
    if (l->plugin && l->plugin->supports) {
        const o2p_plugin_creator *c = l->plugin;
        o2p_dtype in[64], outs[64];
        int nin = l->num_inputs < 64 ? l->num_inputs : 64;
        int nout = l->num_outputs < 64 ? l->num_outputs : 64;
        for (int i = 0; i < nin; i++)
            in[i] = l->inputs[i] ? l->inputs[i]->dtype : O2P_DTYPE_UNDEFINED;
        for (int i = 0; i < nout; i++)
            outs[i] = l->outputs[i] ? l->outputs[i]->dtype : O2P_DTYPE_UNDEFINED;
        if (!c->supports(in, nin, outs, nout))
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "layer '%s' (%s): the plugin %s version %s from %s does not run "
                            "with these element types (first input %s)",
                            l->name, l->op_type, c->name, c->version ? c->version : "",
                            l->plugin_library ? l->plugin_library : "?",
                            nin ? o2p_dtype_name(in[0]) : "none");
    }
    build_tactic cand[8];
    int n = candidates(l, cand, 8);
    int chosen = -1;
    char why[1024] = "";
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        const char *reason = excluded(&cand[i], opt);
        if (opt->verbose)
            o2p_log(O2P_SEVERITY_INFO, "layer '%s' (%s): candidate %s/%s.%s%s%s", l->name,
                    l->op_type, cand[i].source, cand[i].family, cand[i].kernel,
                    reason ? ": excluded, " : "", reason ? reason : "");
        if (reason) {
            int w = snprintf(why + len, sizeof why - len, "%s%s/%s.%s: %s", len ? "; " : "",
                             cand[i].source, cand[i].family, cand[i].kernel, reason);
            if (w > 0 && (size_t)w < sizeof why - len)
                len += (size_t)w;
            continue;
        }
        if (chosen < 0)
            chosen = i;
    }
    if (chosen < 0) {
        if (n == 0)
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "layer '%s' (%s%s%s): no kernel implements this op for the %s "
                            "target",
                            l->name, l->domain, *l->domain ? "." : "", l->op_type,
                            opt->target == BUILD_TARGET_HOST ? "host" : "cuda");
        return o2p_fail(O2P_ERR_UNSUPPORTED, "layer '%s' (%s): every tactic is excluded: %s",
                        l->name, l->op_type, why);
    }
    if (opt->verbose)
        o2p_log(O2P_SEVERITY_INFO, "layer '%s' (%s): chose %s/%s.%s", l->name, l->op_type,
                cand[chosen].source, cand[chosen].family, cand[chosen].kernel);
    *out = cand[chosen];
    return O2P_OK;
}
