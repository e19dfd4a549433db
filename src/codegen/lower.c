/* lower.c: the one table of CUDA lowerings, joined from the families' tables (as
 * kernels/host/registry.c joins the host kernels). The tactic selector asks it which
 * candidates a layer has; nothing else needs to know which kernels exist. */
#include <string.h>

#include "codegen/codegen.h"

typedef struct family_table {
    const cg_op *ops;
    const int *count;
    const char *domain; /* of its ops, canonical (host_kernel_domain) */
} family_table;

static const family_table families[] = {
    {cg_elementwise_ops, &cg_elementwise_op_count, ""},
    {cg_extra_ops, &cg_extra_op_count, ""},
    {cg_gemm_ops, &cg_gemm_op_count, ""},
    {cg_nn_ops, &cg_nn_op_count, ""},
    {cg_signal_ops, &cg_signal_op_count, ""},
    {cg_rnn_ops, &cg_rnn_op_count, ""},
    {cg_select_ops, &cg_select_op_count, ""},
    {cg_tensor_ops, &cg_tensor_op_count, ""},
    {cg_text_ops, &cg_text_op_count, ""},
    {cg_training_ops, &cg_training_op_count, HOST_DOMAIN_TRAINING},
};
#define NUM_FAMILIES ((int)(sizeof families / sizeof families[0]))

int cg_op_count(void)
{
    int n = 0;
    for (int f = 0; f < NUM_FAMILIES; f++)
        n += *families[f].count;
    return n;
}

const cg_op *cg_op_at(int index)
{
    if (index < 0)
        return NULL;
    for (int f = 0; f < NUM_FAMILIES; f++) {
        if (index < *families[f].count)
            return &families[f].ops[index];
        index -= *families[f].count;
    }
    return NULL;
}

/* The lowering of op_type in the families of `domain` (canonical), or of every family (NULL). */
static const cg_op *find(const char *domain, const char *op_type)
{
    if (!op_type)
        return NULL;
    for (int f = 0; f < NUM_FAMILIES; f++) {
        if (domain && strcmp(families[f].domain, domain) != 0)
            continue;
        for (int i = 0; i < *families[f].count; i++)
            if (strcmp(families[f].ops[i].op_type, op_type) == 0)
                return &families[f].ops[i];
    }
    return NULL;
}

const cg_op *cg_op_find(const char *op_type)
{
    return find(NULL, op_type);
}

const cg_op *cg_op_lookup(const char *domain, const char *op_type)
{
    const char *d = host_kernel_domain(domain);
    return d ? find(d, op_type) : NULL;
}
