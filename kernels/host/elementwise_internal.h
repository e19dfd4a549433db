/* elementwise_internal.h: the reductions (elementwise_reduce.c) that the elementwise
 * family's table (elementwise.c) lists. Internal to the family. */
#ifndef O2P_ELEMENTWISE_INTERNAL_H
#define O2P_ELEMENTWISE_INTERNAL_H

#include "host/host_kernels.h"

o2p_status host_reduce_mean(const host_kernel_args *a);
o2p_status host_reduce_sum(const host_kernel_args *a);
o2p_status host_reduce_max(const host_kernel_args *a);
o2p_status host_reduce_min(const host_kernel_args *a);
o2p_status host_reduce_prod(const host_kernel_args *a);
o2p_status host_reduce_l1(const host_kernel_args *a);
o2p_status host_reduce_l2(const host_kernel_args *a);
o2p_status host_reduce_sum_square(const host_kernel_args *a);
o2p_status host_reduce_log_sum(const host_kernel_args *a);
o2p_status host_reduce_log_sum_exp(const host_kernel_args *a);
o2p_status host_argmax(const host_kernel_args *a);
o2p_status host_argmin(const host_kernel_args *a);

#endif
