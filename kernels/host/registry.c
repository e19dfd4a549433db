/* registry.c: the one table of host kernels, joined from the family tables, each family
 * holding the ops of one domain. */
#include <string.h>

#include "host/host_kernels.h"

typedef struct family {
    const host_kernel_entry *entries;
    const int *count;
    const char *domain; /* canonical (host_kernel_domain) */
} family;

static const family families[] = {
    {host_elementwise_kernels, &host_elementwise_kernel_count, ""},
    {host_extra_kernels, &host_extra_kernel_count, ""},
    {host_nn_kernels, &host_nn_kernel_count, ""},
    {host_signal_kernels, &host_signal_kernel_count, ""},
    {host_rnn_kernels, &host_rnn_kernel_count, ""},
    {host_select_kernels, &host_select_kernel_count, ""},
    {host_tensor_kernels, &host_tensor_kernel_count, ""},
    {host_text_kernels, &host_text_kernel_count, ""},
    {host_training_kernels, &host_training_kernel_count, HOST_DOMAIN_TRAINING},
};

#define NUM_FAMILIES ((int)(sizeof families / sizeof families[0]))

const char *host_kernel_domain(const char *domain)
{
    if (!domain || !*domain || strcmp(domain, "ai.onnx") == 0)
        return "";
    if (strcmp(domain, HOST_DOMAIN_TRAINING) == 0)
        return HOST_DOMAIN_TRAINING;
    return NULL;
}

/* The entry of op_type in the families of `domain` (canonical), or of every family (NULL). */
static const host_kernel_entry *find(const char *domain, const char *op_type)
{
    if (!op_type)
        return NULL;
    for (int f = 0; f < NUM_FAMILIES; f++) {
        if (domain && strcmp(families[f].domain, domain) != 0)
            continue;
        for (int i = 0; i < *families[f].count; i++)
            if (strcmp(families[f].entries[i].op_type, op_type) == 0)
                return &families[f].entries[i];
    }
    return NULL;
}

host_kernel_fn host_kernel_find(const char *op_type)
{
    const host_kernel_entry *e = find(NULL, op_type);
    return e ? e->run : NULL;
}

const host_kernel_entry *host_kernel_lookup(const char *domain, const char *op_type)
{
    const char *d = host_kernel_domain(domain);
    return d ? find(d, op_type) : NULL;
}

int host_kernel_count(void)
{
    int n = 0;
    for (int f = 0; f < NUM_FAMILIES; f++)
        n += *families[f].count;
    return n;
}

const host_kernel_entry *host_kernel_at(int index)
{
    for (int f = 0; f < NUM_FAMILIES && index >= 0; f++) {
        if (index < *families[f].count)
            return &families[f].entries[index];
        index -= *families[f].count;
    }
    return NULL;
}
