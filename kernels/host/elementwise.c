/* elementwise.c: host reference kernels of the elementwise family (being written). */
#include "host/host_kernels.h"

const host_kernel_entry host_elementwise_kernels[] = {{"", NULL}};
const int host_elementwise_kernel_count = 0;
