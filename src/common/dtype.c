/* dtype.c: element type names and sizes (the lean runtime and kernels need them without
 * the IR). */
#include "common/common.h"

static const char *const dtype_names[] = {
    "undefined", "float32", "uint8",   "int8",    "uint16",    "int16",      "int32",
    "int64",     "string",  "bool",    "float16", "float64",   "uint32",     "uint64",
    "complex64", "complex128", "bfloat16"};

const char *o2p_dtype_name(o2p_dtype dtype)
{
    if ((unsigned)dtype < sizeof dtype_names / sizeof dtype_names[0])
        return dtype_names[dtype];
    return "undefined";
}

size_t o2p_dtype_size(o2p_dtype dtype)
{
    switch (dtype) {
    case O2P_DTYPE_FLOAT: case O2P_DTYPE_INT32: case O2P_DTYPE_UINT32: return 4;
    case O2P_DTYPE_UINT8: case O2P_DTYPE_INT8: case O2P_DTYPE_BOOL: return 1;
    case O2P_DTYPE_UINT16: case O2P_DTYPE_INT16: case O2P_DTYPE_FLOAT16:
    case O2P_DTYPE_BFLOAT16: return 2;
    case O2P_DTYPE_INT64: case O2P_DTYPE_DOUBLE: case O2P_DTYPE_UINT64:
    case O2P_DTYPE_COMPLEX64: return 8;
    case O2P_DTYPE_COMPLEX128: return 16;
    default: return 0;
    }
}
