/* lower_util.c: the checks and messages lowerings share (codegen.h): a layer's errors worded
 * as the host kernels word theirs, and the tensor-header check every family makes before it
 * computes launch sizes. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "codegen/codegen.h"
#include "cuda/o2p_params.h"
#include "host/nn_internal.h"

const char *cg_layer_name(const cg_layer *l)
{
    return l->args.layer_name ? l->args.layer_name : "";
}

o2p_status cg_layer_error(const cg_layer *l, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return o2p_fail(O2P_ERR_SHAPE, "layer '%s' (%s): %s", cg_layer_name(l), l->args.op_type,
                    msg);
}

o2p_status cg_unsupported_dtype(const cg_layer *l, o2p_dtype t)
{
    return o2p_fail(O2P_ERR_UNSUPPORTED,
                    "layer '%s' (%s): element type %s is not supported by the CUDA kernel; "
                    "build it for the host target",
                    cg_layer_name(l), l->args.op_type, o2p_dtype_name(t));
}

o2p_status cg_not_constant(const cg_layer *l, const char *what)
{
    return o2p_fail(O2P_ERR_UNSUPPORTED,
                    "layer '%s' (%s): the CUDA kernel needs %s as a constant (an initializer) "
                    "at build time",
                    cg_layer_name(l), l->args.op_type, what);
}

o2p_status cg_check_tensor(const cg_layer *l, const host_tensor *t, const char *kind, int i,
                           const char *what)
{
    int ok;
    if (t->rank < 0 || t->rank > O2P_CU_MAX_RANK)
        return cg_layer_error(l, "%s %d (%s) has rank %d, outside [0, %d]", kind, i, what,
                              t->rank, O2P_CU_MAX_RANK);
    int64_t n = host_numel(t, &ok), nonzero = 1;
    for (int d = 0; ok && d < t->rank; d++)
        if (t->dims[d] > 0 &&
            (__builtin_mul_overflow(nonzero, t->dims[d], &nonzero) || nonzero > INT64_MAX / 16))
            ok = 0;
    if (!ok || n > INT64_MAX / 16) {
        char s[256];
        return cg_layer_error(l, "%s %d (%s) has invalid dims %s", kind, i, what,
                              host_nn_shape_str(t, s, sizeof s));
    }
    return O2P_OK;
}
