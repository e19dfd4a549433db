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

/* Candidates for a layer: the host kernel of its op (when there is one), or a plugin layer's
 * plugin for either target. Written into out (at most cap); returns the count. */
static int candidates(const ir_layer *l, build_target target, build_tactic *out, int cap)
{
    int n = 0;
    if (l->plugin && cap > 0) {
        /* A plugin layer: its creator, found again by name at load, runs it on either target
         * (on cuda: its enqueue_cuda, or its enqueue_host on host copies of the tensors). */
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
                          .target = target, .workspace = workspace};
        out[n++] = t;
        return n;
    }
    const host_kernel_entry *e = host_kernel_lookup(l->domain, l->op_type);
    if (e && n < cap) {
        build_tactic t = {.source = "builtin", .family = "host", .kernel = e->op_type,
                          .target = BUILD_TARGET_HOST};
        out[n++] = t;
    }
    return n;
}

uint32_t build_tactic_source_bit(const char *source)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } sources[] = {{"builtin", O2P_TACTIC_SOURCE_BUILTIN},
                   {"cublas", O2P_TACTIC_SOURCE_CUBLAS},
                   {"cublaslt", O2P_TACTIC_SOURCE_CUBLASLT},
                   {"cudnn", O2P_TACTIC_SOURCE_CUDNN}};
    for (size_t i = 0; source && i < sizeof sources / sizeof sources[0]; i++)
        if (strcmp(source, sources[i].name) == 0)
            return sources[i].bit;
    return 0;
}

/* Why a candidate cannot be used, or NULL. */
static const char *excluded(const build_tactic *t, const build_options *opt)
{
    if (t->target != opt->target)
        return t->target == BUILD_TARGET_HOST ? "runs on the host target only"
                                              : "runs on the cuda target only";
    /* Plugin tactics are not one of the tactic sources: a plugin layer has only its plugin. */
    if (strcmp(t->source, "plugin") != 0 &&
        !(build_tactic_source_bit(t->source) & opt->tactic_sources))
        return "its tactic source is disabled";
    if (opt->workspace_limit && t->workspace > opt->workspace_limit)
        return "needs more workspace than the limit";
    return NULL;
}

o2p_status build_select_tactic(const ir_layer *l, const build_options *opt, build_tactic *out)
{
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
    int n = candidates(l, opt->target, cand, 8);
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

/* ---------------------------------------------------------------- cuda target */

/* Shared memory per block that every GPU from sm_80 up gives a kernel that opts in (the
 * smallest of them, sm_86/sm_89/sm_120: 99 KiB). */
#define AMPERE_PLUS_MAX_SMEM (99u * 1024u)

static const char *precision_name(cg_precision p)
{
    switch (p) {
    case CG_PREC_NATIVE: return "native";
    case CG_PREC_TF32: return "tf32";
    case CG_PREC_FP16: return "fp16";
    case CG_PREC_BF16: return "bf16";
    }
    return "?";
}

static const char *hw_name(int hw)
{
    return hw == O2P_HW_COMPAT_AMPERE_PLUS ? "ampere+"
           : hw == O2P_HW_COMPAT_SAME_COMPUTE_CAPABILITY ? "same-cc"
                                                         : "none";
}

uint32_t build_effective_tactic_sources(const build_options *opt)
{
    /* DESIGN.md §5, §7: a plan for more than the build's exact GPU cannot count on the
     * libraries' kernels for it, so only the builtin kernels remain. */
    if (opt->hw_compat != O2P_HW_COMPAT_NONE)
        return opt->tactic_sources & O2P_TACTIC_SOURCE_BUILTIN;
    return opt->tactic_sources;
}

void build_cg_options(const build_options *opt, cg_options *o)
{
    memset(o, 0, sizeof *o);
    o->min_cc = opt->num_archs ? opt->archs[0] : 0;
    o->max_cc = opt->num_archs ? opt->archs[opt->num_archs - 1] : 0;
    o->allow_tf32 = opt->allow_tf32;
    o->allow_fp16 = opt->allow_fp16;
    o->allow_bf16 = opt->allow_bf16;
    o->tactic_sources = build_effective_tactic_sources(opt);
}

const char *build_cuda_excluded(const cg_tactic *t, const build_options *opt, o2p_dtype native,
                                char *buf, size_t size)
{
    int lowest = opt->num_archs ? opt->archs[0] : 0;
    if (t->min_cc > lowest) {
        snprintf(buf, size, "needs sm_%d or later, and the lowest target is sm_%d", t->min_cc,
                 lowest);
        return buf;
    }
    if (t->arch_specific) {
        if (opt->hw_compat == O2P_HW_COMPAT_AMPERE_PLUS) {
            snprintf(buf, size, "uses arch-specific instructions (sm_%da), which the ampere+ "
                     "hardware-compatibility level excludes", t->min_cc);
            return buf;
        }
        /* An sm_XYa image runs on exactly sm_XY. */
        if (opt->num_archs != 1 || opt->archs[0] != t->min_cc) {
            snprintf(buf, size, "uses arch-specific instructions (sm_%da), which run on "
                     "sm_%d only, and the plan targets %d architecture%s from sm_%d",
                     t->min_cc, t->min_cc, opt->num_archs, opt->num_archs == 1 ? "" : "s",
                     lowest);
            return buf;
        }
    }
    if (opt->hw_compat == O2P_HW_COMPAT_AMPERE_PLUS && t->smem_bytes > AMPERE_PLUS_MAX_SMEM) {
        snprintf(buf, size, "uses %u bytes of shared memory per block, more than the %u "
                 "(99 KiB) every GPU of the ampere+ hardware-compatibility level has",
                 t->smem_bytes, AMPERE_PLUS_MAX_SMEM);
        return buf;
    }
    uint32_t bit = build_tactic_source_bit(t->source);
    if (bit != O2P_TACTIC_SOURCE_BUILTIN && opt->hw_compat != O2P_HW_COMPAT_NONE) {
        snprintf(buf, size, "the %s tactic source is disabled under the %s "
                 "hardware-compatibility level", t->source, hw_name(opt->hw_compat));
        return buf;
    }
    if (!(bit & opt->tactic_sources)) {
        snprintf(buf, size, "the %s tactic source is disabled (--tactic-sources +%s enables "
                 "it)", t->source ? t->source : "?", t->source ? t->source : "?");
        return buf;
    }
    switch (t->precision) {
    case CG_PREC_NATIVE:
        break;
    case CG_PREC_TF32:
        if (!opt->allow_tf32) {
            snprintf(buf, size, "computes in tf32, which --no-tf32 (O2P_FLAG_TF32 off) "
                     "forbids");
            return buf;
        }
        break;
    case CG_PREC_FP16:
        if (!opt->allow_fp16 && native != O2P_DTYPE_FLOAT16) {
            snprintf(buf, size, "computes in fp16, which needs --fp16 (O2P_FLAG_FP16) for "
                     "%s tensors", o2p_dtype_name(native));
            return buf;
        }
        break;
    case CG_PREC_BF16:
        if (!opt->allow_bf16 && native != O2P_DTYPE_BFLOAT16) {
            snprintf(buf, size, "computes in bf16, which needs --bf16 (O2P_FLAG_BF16) for "
                     "%s tensors", o2p_dtype_name(native));
            return buf;
        }
        break;
    default:
        snprintf(buf, size, "declares an unknown precision %d", (int)t->precision);
        return buf;
    }
    if (opt->workspace_limit && t->workspace > opt->workspace_limit) {
        snprintf(buf, size, "needs %llu bytes of workspace, more than the limit of %llu "
                 "(--workspace)", (unsigned long long)t->workspace,
                 (unsigned long long)opt->workspace_limit);
        return buf;
    }
    return NULL;
}

int build_cuda_choose(const cg_tactic *cands, int n, const build_options *opt, o2p_dtype native)
{
    int chosen = -1;
    char buf[256];
    for (int i = 0; i < n; i++) {
        if (build_cuda_excluded(&cands[i], opt, native, buf, sizeof buf))
            continue;
        /* the lowest estimated time; the first of equals, so the table's order breaks ties */
        if (chosen < 0 || cands[i].cost < cands[chosen].cost)
            chosen = i;
    }
    return chosen;
}

o2p_dtype build_layer_native_dtype(const cg_layer *l)
{
    /* The floating type of the layer's tensors: float16 (or bfloat16) when every floating
     * tensor it touches has that type, so that its fp16 (bf16) kernels compute natively. */
    o2p_dtype found = O2P_DTYPE_UNDEFINED;
    int mixed = 0;
    for (int side = 0; side < 2; side++) {
        int n = side ? l->args.num_outputs : l->args.num_inputs;
        for (int i = 0; i < n; i++) {
            const host_tensor *t = side ? l->args.outputs[i] : l->args.inputs[i];
            if (!t)
                continue;
            if (t->dtype != O2P_DTYPE_FLOAT && t->dtype != O2P_DTYPE_FLOAT16 &&
                t->dtype != O2P_DTYPE_BFLOAT16 && t->dtype != O2P_DTYPE_DOUBLE)
                continue;
            if (found == O2P_DTYPE_UNDEFINED)
                found = t->dtype;
            else if (found != t->dtype)
                mixed = 1;
        }
    }
    return mixed ? O2P_DTYPE_FLOAT : found;
}

static void describe(const cg_tactic *t, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s (sm_%d+%s, %u B shared memory, %llu B workspace, %s, cost %.3g s)",
             t->source ? t->source : "?", t->kernel ? t->kernel : "?", t->min_cc,
             t->arch_specific ? ", arch-specific" : "", t->smem_bytes,
             (unsigned long long)t->workspace, precision_name(t->precision), t->cost);
}

#define MAX_CUDA_CANDIDATES 64

o2p_status build_select_cuda_tactic(const ir_layer *l, const cg_layer *cl,
                                    const build_options *opt, build_tactic *out)
{
    if (l->plugin)
        return build_select_tactic(l, opt, out); /* the plugin tactic, as on the host */
    const cg_op *op = cg_op_lookup(l->domain, l->op_type);
    if (!op)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s%s%s): no kernel implements this op for the cuda target "
                        "(build with --target host to run it on the reference kernels)",
                        l->name, l->domain, *l->domain ? "." : "", l->op_type);
    cg_options o;
    build_cg_options(opt, &o);
    cg_tactic cand[MAX_CUDA_CANDIDATES];
    const char *why = NULL;
    int n = op->candidates(cl, &o, cand, MAX_CUDA_CANDIDATES, &why);
    if (n <= 0)
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "layer '%s' (%s): no kernel implements this op for the cuda target "
                        "with these types and attributes%s%s (build with --target host to "
                        "run it on the reference kernels)",
                        l->name, l->op_type, why ? ": " : "", why ? why : "");
    if (n > MAX_CUDA_CANDIDATES)
        n = MAX_CUDA_CANDIDATES;
    o2p_dtype native = build_layer_native_dtype(cl);
    int chosen = build_cuda_choose(cand, n, opt, native);
    char all[2048] = "";
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        char reason[256], desc[512];
        const char *r = build_cuda_excluded(&cand[i], opt, native, reason, sizeof reason);
        describe(&cand[i], desc, sizeof desc);
        if (opt->verbose)
            o2p_log(O2P_SEVERITY_INFO, "layer '%s' (%s): candidate %s%s%s", l->name,
                    l->op_type, desc, r ? ": excluded, " : "", r ? r : "");
        if (r) {
            int w = snprintf(all + len, sizeof all - len, "%s%s/%s: %s", len ? "; " : "",
                             cand[i].source, cand[i].kernel, r);
            if (w > 0 && (size_t)w < sizeof all - len)
                len += (size_t)w;
        }
    }
    if (chosen < 0)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "layer '%s' (%s): every tactic is excluded: %s",
                        l->name, l->op_type, all);
    if (opt->verbose) {
        char desc[512];
        describe(&cand[chosen], desc, sizeof desc);
        o2p_log(O2P_SEVERITY_INFO, "layer '%s' (%s): chose %s", l->name, l->op_type, desc);
    }
    const cg_tactic *t = &cand[chosen];
    memset(out, 0, sizeof *out);
    out->source = t->source;
    out->family = "cuda";
    /* what the plan shows is "<family>.<kernel>": "cuda.gemm.mma_tf32_64x64" */
    out->kernel = strncmp(t->kernel, "cuda.", 5) == 0 ? t->kernel + 5 : t->kernel;
    out->target = BUILD_TARGET_CUDA;
    out->min_compute_cap = t->min_cc;
    out->arch_specific = t->arch_specific;
    out->smem_bytes = t->smem_bytes;
    out->workspace = t->workspace;
    out->cuda = *t;
    return O2P_OK;
}
