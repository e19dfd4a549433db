/* lower_training.c: lowerings of the training kernel family (kernels/cuda/training.cu) for
 * the ops of ai.onnx.preview.training: the optimizers Adagrad, Adam and Momentum, one launch
 * per optimized tensor. lower() checks the layer as the host kernel (kernels/host/training.c)
 * does; R and T are read on the device, so they need not be constants. The family's other
 * kernels (BatchNormalization's batch statistics, training-mode Dropout) are launched by
 * lower_nn.c and lower_elementwise.c. */
#include <stdio.h>
#include <string.h>

#include "codegen/codegen.h"
#include "cuda/training_params.h"

_Static_assert(sizeof(o2p_training_optimizer_params) == 144,
               "o2p_training_optimizer_params layout");
_Static_assert(sizeof(o2p_training_bn_stats_params) == 96, "o2p_training_bn_stats_params layout");
_Static_assert(sizeof(o2p_training_dropout_params) == 80, "o2p_training_dropout_params layout");

#define TRAINING_BLOCK 256u

/* The optimizer of op_type (O2P_TRAINING_*), -1 for another op. */
static int optimizer_kind(const char *op_type)
{
    if (!op_type)
        return -1;
    if (strcmp(op_type, "Adagrad") == 0)
        return O2P_TRAINING_ADAGRAD;
    if (strcmp(op_type, "Adam") == 0)
        return O2P_TRAINING_ADAM;
    if (strcmp(op_type, "Momentum") == 0)
        return O2P_TRAINING_MOMENTUM;
    return -1;
}

/* Tensors per optimized tensor: X, G and the states. */
static int group_count(int kind)
{
    return kind == O2P_TRAINING_ADAM ? 4 : 3;
}

static int is_float_or_double(o2p_dtype t)
{
    return t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_DOUBLE;
}

/* A FLOAT attribute: required (Momentum's) or the default. */
static o2p_status attr_float(const cg_layer *l, const char *name, int required, double dflt,
                             double *out)
{
    const host_attr *at = host_attr_find(&l->args, name);
    if (!at) {
        if (required)
            return cg_layer_error(l, "the attribute '%s' is required", name);
        *out = dflt;
        return O2P_OK;
    }
    if (at->type != O2P_ATTR_FLOAT)
        return cg_layer_error(l, "the attribute '%s' must be a float", name);
    *out = at->f;
    return O2P_OK;
}

/* The attributes into p (kind set), as the host kernel reads them. */
static o2p_status read_attrs(const cg_layer *l, o2p_training_optimizer_params *p)
{
    int momentum = p->kind == O2P_TRAINING_MOMENTUM;
    O2P_TRY(attr_float(l, "norm_coefficient", momentum, 0.0, &p->norm));
    if (p->kind == O2P_TRAINING_ADAGRAD) {
        O2P_TRY(attr_float(l, "decay_factor", 0, 0.0, &p->decay));
        O2P_TRY(attr_float(l, "epsilon", 0, 1e-6f, &p->epsilon));
    } else if (p->kind == O2P_TRAINING_ADAM) {
        O2P_TRY(attr_float(l, "alpha", 0, 0.9f, &p->alpha));
        O2P_TRY(attr_float(l, "beta", 0, 0.999f, &p->beta));
        O2P_TRY(attr_float(l, "epsilon", 0, 1e-6f, &p->epsilon));
        O2P_TRY(attr_float(l, "norm_coefficient_post", 0, 0.0, &p->post));
    } else {
        O2P_TRY(attr_float(l, "alpha", 1, 0.0, &p->alpha));
        O2P_TRY(attr_float(l, "beta", 1, 0.0, &p->beta));
        const host_attr *m = host_attr_find(&l->args, "mode");
        if (!m || m->type != O2P_ATTR_STRING || !m->s)
            return cg_layer_error(l, "the attribute 'mode' (\"standard\" or \"nesterov\") is "
                                     "required");
        if (strcmp(m->s, "nesterov") == 0)
            p->nesterov = 1;
        else if (strcmp(m->s, "standard") != 0)
            return cg_layer_error(l, "mode '%s' is neither \"standard\" nor \"nesterov\"", m->s);
    }
    return O2P_OK;
}

/* Input i, read on the device: present with a tensor index, a kernel-indexable header. */
static o2p_status need_input(const cg_layer *l, int i, const char *what, const host_tensor **t)
{
    *t = host_in(&l->args, i);
    if (!*t || !l->input_tensors || l->input_tensors[i] < 0)
        return cg_layer_error(l, "input %d (%s) is missing", i, what);
    return cg_check_tensor(l, *t, "input", i, what);
}

/* R (float or double) or T (int64), one element. */
static o2p_status need_scalar(const cg_layer *l, int i, const char *what, int is_t,
                              const host_tensor **t)
{
    O2P_TRY(need_input(l, i, what, t));
    if (is_t ? (*t)->dtype != O2P_DTYPE_INT64 : !is_float_or_double((*t)->dtype))
        return cg_unsupported_dtype(l, (*t)->dtype);
    int ok;
    if (host_numel(*t, &ok) != 1 || (*t)->rank > 1)
        return cg_layer_error(l, "input %d (%s) must be a scalar", i, what);
    return O2P_OK;
}

static int optimizer_candidates(const cg_layer *l, const cg_options *o, cg_tactic *out, int cap,
                                const char **why)
{
    (void)o;
    int kind = optimizer_kind(l->args.op_type);
    if (kind < 0) {
        *why = "not an optimizer of the training family";
        return 0;
    }
    double bytes = 0.0, elems = 0.0;
    for (int i = 0; i < l->args.num_inputs; i++) {
        const host_tensor *t = host_in(&l->args, i);
        if (!t)
            continue;
        if (i >= 2 && !is_float_or_double(t->dtype)) {
            *why = "the optimizers take float and double tensors only";
            return 0;
        }
        int ok;
        int64_t n = host_numel(t, &ok);
        if (ok) {
            bytes += (double)n * (double)o2p_dtype_size(t->dtype);
            elems += i >= 2 ? (double)n : 0.0;
        }
    }
    if (cap < 1)
        return 0;
    /* each input element is read once and about as many written; some tens of flops each */
    out[0] = cg_simple_tactic("cuda.training.optimizer", 0,
                              3e-6 + 2.0 * bytes / 1.5e12 + 20.0 * elems / 1.5e13);
    return 1;
}

static o2p_status optimizer_lower(const cg_layer *l, const cg_tactic *t, const cg_options *o,
                                  cg_emit *e)
{
    (void)t;
    (void)o;
    const host_kernel_args *a = &l->args;
    int kind = optimizer_kind(a->op_type);
    if (kind < 0)
        return o2p_fail(O2P_ERR_INTERNAL, "layer '%s': op %s is not an optimizer", cg_layer_name(l),
                        a->op_type ? a->op_type : "?");
    int k = group_count(kind);
    if (a->num_inputs < 2 + k || (a->num_inputs - 2) % k != 0)
        return cg_layer_error(l, "%d inputs; it takes R, T and %d tensors per optimized tensor",
                              a->num_inputs, k);
    int n = (a->num_inputs - 2) / k;
    if (a->num_outputs < 1 || a->num_outputs > (k - 1) * n)
        return cg_layer_error(l, "%d outputs; %d optimized tensors give at most %d", a->num_outputs,
                              n, (k - 1) * n);
    const host_tensor *R, *T;
    O2P_TRY(need_scalar(l, 0, "R", 0, &R));
    O2P_TRY(need_scalar(l, 1, "T", 1, &T));
    o2p_training_optimizer_params base;
    memset(&base, 0, sizeof base);
    base.kind = kind;
    base.r_dtype = (int32_t)R->dtype;
    O2P_TRY(read_attrs(l, &base));
    for (int i = 0; i < n; i++) {
        const host_tensor *in[4] = {NULL, NULL, NULL, NULL};
        int out_index[3] = {-1, -1, -1};
        for (int g = 0; g < k; g++) {
            int j = 2 + g * n + i;
            O2P_TRY(need_input(l, j, g == 0 ? "X" : g == 1 ? "G" : "state", &in[g]));
            if (!is_float_or_double(in[g]->dtype))
                return cg_unsupported_dtype(l, in[g]->dtype);
            if (in[g]->dtype != in[0]->dtype || !host_same_shape(in[g], in[0]->rank, in[0]->dims))
                return cg_layer_error(l,
                                      "input %d must have the type and shape of input %d "
                                      "(the optimized tensor)",
                                      j, 2 + i);
        }
        for (int g = 0; g < k - 1; g++) {
            int j = g * n + i;
            const host_tensor *y = host_out(a, j);
            if (!y || !l->output_tensors || l->output_tensors[j] < 0)
                continue;
            O2P_TRY(cg_check_tensor(l, y, "output", j, "result"));
            if (y->dtype != in[0]->dtype || !host_same_shape(y, in[0]->rank, in[0]->dims))
                return cg_layer_error(l, "output %d must have the type and shape of input %d", j,
                                      2 + i);
            out_index[g] = l->output_tensors[j];
        }
        int ok;
        int64_t total = host_numel(in[0], &ok);
        if (total == 0 || (out_index[0] < 0 && out_index[1] < 0 && out_index[2] < 0))
            continue;
        o2p_training_optimizer_params p = base;
        p.total = total;
        p.x_dtype = (int32_t)in[0]->dtype;
        uint32_t grid[3], block[3];
        cg_grid_1d((uint64_t)total, TRAINING_BLOCK, grid, block);
        cg_launch *kl =
            cg_emit_kernel(e, "training", "o2p_training_optimizer", grid, block, 0, &p, sizeof p);
#define TPTR(field, tensor) \
    cg_launch_ptr(e, kl, (uint32_t)offsetof(o2p_training_optimizer_params, field), tensor, 0)
        TPTR(r_ptr, l->input_tensors[0]);
        TPTR(t_ptr, l->input_tensors[1]);
        TPTR(x_ptr, l->input_tensors[2 + i]);
        TPTR(g_ptr, l->input_tensors[2 + n + i]);
        TPTR(s1_ptr, l->input_tensors[2 + 2 * n + i]);
        if (k > 3)
            TPTR(s2_ptr, l->input_tensors[2 + 3 * n + i]);
        if (out_index[0] >= 0)
            TPTR(x_out_ptr, out_index[0]);
        if (out_index[1] >= 0)
            TPTR(s1_out_ptr, out_index[1]);
        if (out_index[2] >= 0)
            TPTR(s2_out_ptr, out_index[2]);
#undef TPTR
    }
    return cg_emit_status(e);
}

const cg_op cg_training_ops[] = {
    {"Adagrad", optimizer_candidates, optimizer_lower},
    {"Adam", optimizer_candidates, optimizer_lower},
    {"Momentum", optimizer_candidates, optimizer_lower},
};
const int cg_training_op_count = (int)(sizeof cg_training_ops / sizeof cg_training_ops[0]);
