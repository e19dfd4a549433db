/* tensor_axis.c: host kernels that work along one axis: TopK and CumSum. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/tensor_internal.h"

static int64_t prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* ---------------------------------------------------------------- TopK */

typedef struct topk_item {
    uint64_t key; /* ascending key order is the output order */
    int64_t index;
} topk_item;

static int topk_cmp(const void *pa, const void *pb)
{
    const topk_item *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index; /* ties: lower index first */
}

/* An unsigned key that orders element i of t as its value orders: floats with -0 == +0 and
 * NaN above +inf (numpy's order), signed integers offset by 2^63. */
static uint64_t order_key(const host_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case O2P_DTYPE_FLOAT: case O2P_DTYPE_DOUBLE: case O2P_DTYPE_FLOAT16:
    case O2P_DTYPE_BFLOAT16: {
        double d = host_get_f64(t, i);
        uint64_t bits;
        if (isnan(d))
            return UINT64_MAX;
        if (d == 0)
            d = 0; /* -0 */
        memcpy(&bits, &d, sizeof bits);
        return bits >> 63 ? ~bits : bits | ((uint64_t)1 << 63);
    }
    case O2P_DTYPE_UINT64: case O2P_DTYPE_UINT32: case O2P_DTYPE_UINT16:
    case O2P_DTYPE_UINT8:
        return (uint64_t)host_get_i64(t, i);
    default:
        return (uint64_t)host_get_i64(t, i) ^ ((uint64_t)1 << 63);
    }
}

static int topk_supports(o2p_dtype t)
{
    switch (t) {
    case O2P_DTYPE_FLOAT: case O2P_DTYPE_DOUBLE: case O2P_DTYPE_FLOAT16:
    case O2P_DTYPE_BFLOAT16:
    case O2P_DTYPE_INT8: case O2P_DTYPE_INT16: case O2P_DTYPE_INT32: case O2P_DTYPE_INT64:
    case O2P_DTYPE_UINT8: case O2P_DTYPE_UINT16: case O2P_DTYPE_UINT32: case O2P_DTYPE_UINT64:
        return 1;
    default:
        return 0;
    }
}

o2p_status host_tn_topk(const host_kernel_args *a)
{
    const host_tensor *x = host_in(a, 0);
    host_tensor *values = NULL, *indices = NULL;
    int64_t n, k, dims[HOST_MAX_RANK];
    size_t es;
    int ax;
    O2P_TRY(host_tn_check(a, x, "input 0 (X)", &n));
    O2P_TRY(host_tn_esize(a, x->dtype, &es));
    if (!topk_supports(x->dtype))
        return host_unsupported_dtype(a, x->dtype);
    if (a->opset >= 10) {
        O2P_TRY(host_tn_read_scalar_int(a, host_in(a, 1), "input 1 (K)", &k));
    } else {
        const host_attr *at = host_attr_find(a, "k");
        if (!at || at->type != O2P_ATTR_INT)
            return host_error(a, "attribute 'k' is missing");
        k = at->i;
    }
    int64_t axis = host_attr_int(a, "axis", -1);
    if (x->rank == 0 || !host_norm_axis(axis, x->rank, &ax))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    int64_t d = x->dims[ax];
    if (k < 0 || k > d)
        return host_error(a, "K = %lld is out of range for axis %d of size %lld", (long long)k,
                          ax, (long long)d);
    int largest = a->opset < 11 || host_attr_int(a, "largest", 1) != 0;
    /* sorted = 0 leaves the order to the implementation: this one always sorts */
    memcpy(dims, x->dims, sizeof dims);
    dims[ax] = k;
    if (host_out(a, 0))
        O2P_TRY(host_tn_check_out(a, 0, x->dtype, x->rank, dims, &values));
    if (host_out(a, 1))
        O2P_TRY(host_tn_check_out(a, 1, O2P_DTYPE_INT64, x->rank, dims, &indices));
    if (k == 0 || n == 0)
        return O2P_OK;
    topk_item *items = malloc((size_t)d * sizeof *items);
    if (!items)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory in TopK");
    int64_t outer = prod(x->dims, 0, ax), inner = prod(x->dims, ax + 1, x->rank);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            for (int64_t j = 0; j < d; j++) {
                uint64_t key = order_key(x, (o * d + j) * inner + i);
                items[j].key = largest ? ~key : key;
                items[j].index = j;
            }
            qsort(items, (size_t)d, sizeof *items, topk_cmp);
            for (int64_t j = 0; j < k; j++) {
                int64_t to = (o * k + j) * inner + i, from = (o * d + items[j].index) * inner + i;
                if (values)
                    memcpy((unsigned char *)values->data + (size_t)to * es,
                           (const unsigned char *)x->data + (size_t)from * es, es);
                if (indices)
                    host_set_i64(indices, to, items[j].index);
            }
        }
    }
    free(items);
    return O2P_OK;
}

/* ---------------------------------------------------------------- CumSum */

o2p_status host_tn_cumsum(const host_kernel_args *a)
{
    const host_tensor *x = host_in(a, 0);
    host_tensor *y;
    int64_t n, axis;
    int ax;
    O2P_TRY(host_tn_check(a, x, "input 0 (x)", &n));
    O2P_TRY(host_tn_read_scalar_int(a, host_in(a, 1), "input 1 (axis)", &axis));
    o2p_dtype t = x->dtype;
    int is_float = t == O2P_DTYPE_FLOAT || t == O2P_DTYPE_DOUBLE || t == O2P_DTYPE_FLOAT16 ||
                   t == O2P_DTYPE_BFLOAT16;
    int is_int = t == O2P_DTYPE_INT8 || t == O2P_DTYPE_INT16 || t == O2P_DTYPE_INT32 ||
                 t == O2P_DTYPE_INT64 || t == O2P_DTYPE_UINT8 || t == O2P_DTYPE_UINT16 ||
                 t == O2P_DTYPE_UINT32 || t == O2P_DTYPE_UINT64;
    if (!is_float && !is_int)
        return host_unsupported_dtype(a, t);
    if (x->rank == 0 || !host_norm_axis(axis, x->rank, &ax))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    int exclusive = host_attr_int(a, "exclusive", 0) != 0;
    int reverse = host_attr_int(a, "reverse", 0) != 0;
    O2P_TRY(host_tn_check_out(a, 0, t, x->rank, x->dims, &y));
    int64_t outer = prod(x->dims, 0, ax), d = x->dims[ax], inner = prod(x->dims, ax + 1, x->rank);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            /* float32 sums in float32 and double in double, as the spec's type does; the
             * 16-bit floats in float; integers wrap as two's complement */
            float accf = 0;
            double accd = 0;
            uint64_t acci = 0;
            for (int64_t s = 0; s < d; s++) {
                int64_t j = reverse ? d - 1 - s : s, at = (o * d + j) * inner + i;
                if (exclusive) {
                    if (t == O2P_DTYPE_DOUBLE)
                        host_set_f64(y, at, accd);
                    else if (is_float)
                        host_set_f64(y, at, accf);
                    else
                        host_set_i64(y, at, (int64_t)acci);
                }
                if (t == O2P_DTYPE_DOUBLE)
                    accd += host_get_f64(x, at);
                else if (is_float)
                    accf += (float)host_get_f64(x, at);
                else
                    acci += (uint64_t)host_get_i64(x, at);
                if (!exclusive) {
                    if (t == O2P_DTYPE_DOUBLE)
                        host_set_f64(y, at, accd);
                    else if (is_float)
                        host_set_f64(y, at, accf);
                    else
                        host_set_i64(y, at, (int64_t)acci);
                }
            }
        }
    }
    return O2P_OK;
}
