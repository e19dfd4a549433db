/* tensor_layout.c: host kernels that move whole blocks of a tensor: Transpose, Concat, Split,
 * Slice, Expand, Tile, Pad, Trilu. All are type-agnostic: they move bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/tensor_internal.h"

static o2p_status data_input(const host_kernel_args *a, const host_tensor **x, int64_t *n,
                             size_t *es)
{
    *x = host_in(a, 0);
    O2P_TRY(host_tn_check(a, *x, "input 0 (data)", n));
    return host_tn_esize(a, (*x)->dtype, es);
}

static int64_t prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* ---------------------------------------------------------------- Transpose */

o2p_status host_tn_transpose(const host_kernel_args *a)
{
    const host_tensor *x;
    host_tensor *y;
    int64_t n, perm[HOST_MAX_RANK], dims[HOST_MAX_RANK], in_strides[HOST_MAX_RANK],
        strides[HOST_MAX_RANK];
    size_t es;
    int seen[HOST_MAX_RANK] = {0}, c;
    O2P_TRY(data_input(a, &x, &n, &es));
    const int64_t *p = host_attr_ints(a, "perm", &c);
    if (p) {
        if (c != x->rank)
            return host_error(a, "attribute 'perm' has %d entries for rank %d", c, x->rank);
        for (int i = 0; i < c; i++)
            perm[i] = p[i];
    } else {
        for (int i = 0; i < x->rank; i++)
            perm[i] = x->rank - 1 - i;
    }
    for (int i = 0; i < x->rank; i++) {
        if (perm[i] < 0 || perm[i] >= x->rank || seen[perm[i]])
            return host_error(a, "attribute 'perm' is not a permutation of 0..%d", x->rank - 1);
        seen[perm[i]] = 1;
    }
    host_tn_strides(x->rank, x->dims, in_strides);
    for (int i = 0; i < x->rank; i++) {
        dims[i] = x->dims[perm[i]];
        strides[i] = in_strides[perm[i]];
    }
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, x->rank, dims, &y));
    if (n > 0)
        host_tn_copy_strided(y->data, x->data, es, x->rank, dims, strides);
    return O2P_OK;
}

/* ---------------------------------------------------------------- Concat, Split */

o2p_status host_tn_concat(const host_kernel_args *a)
{
    const host_tensor *x0 = host_in(a, 0);
    host_tensor *y;
    int64_t n, dims[HOST_MAX_RANK];
    size_t es;
    int ax;
    if (a->num_inputs < 1)
        return host_error(a, "Concat needs at least one input");
    O2P_TRY(host_tn_check(a, x0, "input 0", &n));
    O2P_TRY(host_tn_esize(a, x0->dtype, &es));
    const host_attr *at = host_attr_find(a, "axis");
    if (!at || at->type != O2P_ATTR_INT)
        return host_error(a, "attribute 'axis' is missing");
    if (x0->rank == 0 || !host_norm_axis(at->i, x0->rank, &ax))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)at->i,
                          x0->rank);
    memcpy(dims, x0->dims, sizeof dims);
    dims[ax] = 0;
    for (int k = 0; k < a->num_inputs; k++) {
        const host_tensor *x = host_in(a, k);
        char what[32];
        snprintf(what, sizeof what, "input %d", k);
        O2P_TRY(host_tn_check(a, x, what, &n));
        if (x->dtype != x0->dtype)
            return host_error(a, "input %d is %s, input 0 %s", k, o2p_dtype_name(x->dtype),
                              o2p_dtype_name(x0->dtype));
        if (x->rank != x0->rank)
            return host_error(a, "input %d has rank %d, input 0 rank %d", k, x->rank,
                              x0->rank);
        for (int i = 0; i < x->rank; i++)
            if (i != ax && x->dims[i] != x0->dims[i])
                return host_error(a, "input %d has size %lld on axis %d where input 0 has %lld",
                                  k, (long long)x->dims[i], i, (long long)x0->dims[i]);
        if (__builtin_add_overflow(dims[ax], x->dims[ax], &dims[ax]))
            return host_error(a, "the output has more than 2^63 elements on axis %d", ax);
    }
    O2P_TRY(host_tn_check_out(a, 0, x0->dtype, x0->rank, dims, &y));
    int64_t outer = prod(dims, 0, ax), inner = prod(dims, ax + 1, x0->rank);
    unsigned char *dst = y->data;
    if (host_numel(y, &(int){0}) == 0)
        return O2P_OK;
    for (int64_t o = 0; o < outer; o++) {
        for (int k = 0; k < a->num_inputs; k++) {
            const host_tensor *x = host_in(a, k);
            size_t block = (size_t)(x->dims[ax] * inner) * es;
            if (block == 0)
                continue;
            memcpy(dst, (const unsigned char *)x->data + (size_t)o * block, block);
            dst += block;
        }
    }
    return O2P_OK;
}

o2p_status host_tn_split(const host_kernel_args *a)
{
    const host_tensor *x;
    int64_t n;
    size_t es;
    int ax, nout = a->num_outputs;
    O2P_TRY(data_input(a, &x, &n, &es));
    if (nout < 1)
        return host_error(a, "Split needs at least one output");
    int64_t axis = host_attr_int(a, "axis", 0);
    if (x->rank == 0 || !host_norm_axis(axis, x->rank, &ax))
        return host_error(a, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    int64_t dim = x->dims[ax];
    int64_t *sizes = calloc((size_t)nout, sizeof *sizes);
    if (!sizes)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory in Split");
    o2p_status st = O2P_OK;
    const host_tensor *sp = a->opset >= 13 ? host_in(a, 1) : NULL;
    int c = 0;
    const int64_t *attr = a->opset < 13 ? host_attr_ints(a, "split", &c) : NULL;
    int64_t num_outputs = a->opset >= 18 ? host_attr_int(a, "num_outputs", 0) : 0;
    if (sp) {
        int64_t m;
        st = host_tn_check(a, sp, "input 1 (split)", &m);
        if (st == O2P_OK && (!host_tn_is_index_type(sp->dtype) || sp->rank > 1 || m != nout))
            st = host_error(a, "input 1 (split) must be a 1-D int64 tensor of %d entries", nout);
        for (int i = 0; st == O2P_OK && i < nout; i++)
            sizes[i] = host_get_i64(sp, i);
    } else if (attr) {
        if (c != nout)
            st = host_error(a, "attribute 'split' has %d entries for %d outputs", c, nout);
        for (int i = 0; st == O2P_OK && i < nout; i++)
            sizes[i] = attr[i];
    } else if (num_outputs > 0) {
        if (num_outputs != nout)
            st = host_error(a, "num_outputs is %lld but the node has %d outputs",
                            (long long)num_outputs, nout);
        /* chunks of ceil(dim / n), only the last one smaller (or empty) */
        int64_t chunk = dim / nout + (dim % nout != 0);
        if (st == O2P_OK && chunk * (nout - 1) > dim)
            st = host_error(a, "axis %d (size %lld) cannot be split into %d chunks of %lld "
                               "with only the last one smaller", ax, (long long)dim, nout,
                            (long long)chunk);
        for (int i = 0; st == O2P_OK && i < nout; i++)
            sizes[i] = i < nout - 1 ? chunk : dim - chunk * (nout - 1);
    } else {
        if (dim % nout != 0)
            st = host_error(a, "axis %d (size %lld) does not split into %d equal parts", ax,
                            (long long)dim, nout);
        for (int i = 0; st == O2P_OK && i < nout; i++)
            sizes[i] = dim / nout;
    }
    int64_t sum = 0;
    for (int i = 0; st == O2P_OK && i < nout; i++) {
        if (sizes[i] < 0)
            st = host_error(a, "split size %lld (output %d) is negative", (long long)sizes[i], i);
        else if (__builtin_add_overflow(sum, sizes[i], &sum))
            st = host_error(a, "the split sizes overflow");
    }
    if (st == O2P_OK && sum != dim)
        st = host_error(a, "the split sizes add up to %lld but axis %d has size %lld",
                        (long long)sum, ax, (long long)dim);
    /* check every output before writing any */
    for (int i = 0; st == O2P_OK && i < nout; i++) {
        int64_t dims[HOST_MAX_RANK];
        host_tensor *y;
        if (!host_out(a, i))
            continue; /* not wanted */
        memcpy(dims, x->dims, sizeof dims);
        dims[ax] = sizes[i];
        st = host_tn_check_out(a, i, x->dtype, x->rank, dims, &y);
    }
    if (st == O2P_OK && n > 0) {
        int64_t outer = prod(x->dims, 0, ax), inner = prod(x->dims, ax + 1, x->rank), off = 0;
        const unsigned char *src = x->data;
        for (int i = 0; i < nout; i++) {
            host_tensor *y = host_out(a, i);
            size_t block = (size_t)(sizes[i] * inner) * es;
            if (y && block > 0)
                for (int64_t o = 0; o < outer; o++)
                    memcpy((unsigned char *)y->data + (size_t)o * block,
                           src + ((size_t)(o * dim + off) * (size_t)inner) * es, block);
            off += sizes[i];
        }
    }
    free(sizes);
    return st;
}

/* ---------------------------------------------------------------- Slice */

/* Slice's starts, ends, axes and steps: attributes before opset 10, inputs from it. */
static o2p_status slice_params(const host_kernel_args *a, int64_t *starts, int64_t *ends,
                               int64_t *axes, int64_t *steps, int *count)
{
    int ns, ne, na = -1, nst = -1;
    if (a->opset < 10) {
        const int64_t *s = host_attr_ints(a, "starts", &ns), *e = host_attr_ints(a, "ends", &ne);
        const int64_t *ax = host_attr_ints(a, "axes", &na);
        if (!s || !e)
            return host_error(a, "attributes 'starts' and 'ends' are required");
        if (ns > HOST_MAX_RANK || ne > HOST_MAX_RANK || na > HOST_MAX_RANK)
            return host_error(a, "more than %d axes are sliced", HOST_MAX_RANK);
        memcpy(starts, s, (size_t)ns * sizeof *s);
        memcpy(ends, e, (size_t)ne * sizeof *e);
        if (ax)
            memcpy(axes, ax, (size_t)na * sizeof *ax);
        else
            na = -1;
    } else {
        O2P_TRY(host_tn_read_ints(a, host_in(a, 1), "input 1 (starts)", starts, HOST_MAX_RANK,
                                  &ns));
        O2P_TRY(host_tn_read_ints(a, host_in(a, 2), "input 2 (ends)", ends, HOST_MAX_RANK, &ne));
        if (host_in(a, 3))
            O2P_TRY(host_tn_read_ints(a, host_in(a, 3), "input 3 (axes)", axes, HOST_MAX_RANK,
                                      &na));
        if (host_in(a, 4))
            O2P_TRY(host_tn_read_ints(a, host_in(a, 4), "input 4 (steps)", steps, HOST_MAX_RANK,
                                      &nst));
    }
    if (ne != ns || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return host_error(a, "starts, ends, axes and steps have different lengths");
    if (na < 0)
        for (int i = 0; i < ns; i++)
            axes[i] = i;
    if (nst < 0)
        for (int i = 0; i < ns; i++)
            steps[i] = 1;
    *count = ns;
    return O2P_OK;
}

o2p_status host_tn_slice(const host_kernel_args *a)
{
    const host_tensor *x;
    host_tensor *y;
    int64_t n, starts[HOST_MAX_RANK], ends[HOST_MAX_RANK], axes[HOST_MAX_RANK],
        steps[HOST_MAX_RANK];
    int64_t first[HOST_MAX_RANK], step_of[HOST_MAX_RANK], dims[HOST_MAX_RANK],
        strides[HOST_MAX_RANK], in_strides[HOST_MAX_RANK];
    size_t es;
    int c = 0, seen[HOST_MAX_RANK] = {0};
    O2P_TRY(data_input(a, &x, &n, &es));
    O2P_TRY(slice_params(a, starts, ends, axes, steps, &c));
    for (int i = 0; i < x->rank; i++) {
        first[i] = 0;
        step_of[i] = 1;
        dims[i] = x->dims[i];
    }
    for (int k = 0; k < c; k++) {
        int ax;
        if (x->rank == 0 || !host_norm_axis(axes[k], x->rank, &ax))
            return host_error(a, "axis %lld is out of range for rank %d", (long long)axes[k],
                              x->rank);
        if (seen[ax])
            return host_error(a, "axis %d is sliced twice", ax);
        seen[ax] = 1;
        int64_t d = x->dims[ax], s = starts[k], e = ends[k], st = steps[k], len;
        if (st == 0)
            return host_error(a, "step of axis %d is 0", ax);
        s = s < 0 ? (s < -d ? -d : s) + d : s; /* clamp before adding: no overflow */
        e = e < 0 ? (e < -d ? -d - 1 : e) + d : e;
        if (st > 0) {
            s = s > d ? d : s;
            e = e < 0 ? 0 : e > d ? d : e;
            len = e > s ? (e - s - 1) / st + 1 : 0;
        } else {
            s = s > d - 1 ? d - 1 : s;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            /* (s - e - 1) / -st + 1, with -st that may not fit */
            len = s > e ? (st == INT64_MIN ? 1 : (s - e - 1) / -st + 1) : 0;
        }
        first[ax] = s;
        step_of[ax] = st;
        dims[ax] = len;
    }
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, x->rank, dims, &y));
    int ok;
    if (host_numel(y, &ok) == 0)
        return O2P_OK;
    /* every first index is within its axis once the output is not empty */
    host_tn_strides(x->rank, x->dims, in_strides);
    int64_t base = 0;
    for (int i = 0; i < x->rank; i++) {
        base += first[i] * in_strides[i];
        strides[i] = dims[i] > 1 ? step_of[i] * in_strides[i] : 0;
    }
    host_tn_copy_strided(y->data, (const unsigned char *)x->data + (size_t)base * es, es,
                         x->rank, dims, strides);
    return O2P_OK;
}

/* ---------------------------------------------------------------- Expand, Tile */

o2p_status host_tn_expand(const host_kernel_args *a)
{
    const host_tensor *x;
    host_tensor *y;
    int64_t n, shape[HOST_MAX_RANK], dims[HOST_MAX_RANK], in_strides[HOST_MAX_RANK],
        strides[HOST_MAX_RANK];
    size_t es;
    int c;
    O2P_TRY(data_input(a, &x, &n, &es));
    O2P_TRY(host_tn_read_ints(a, host_in(a, 1), "input 1 (shape)", shape, HOST_MAX_RANK, &c));
    int r = c > x->rank ? c : x->rank;
    host_tn_strides(x->rank, x->dims, in_strides);
    for (int i = 0; i < r; i++) {
        int j = i - (r - x->rank), k = i - (r - c);
        int64_t xd = j >= 0 ? x->dims[j] : 1, sd = k >= 0 ? shape[k] : 1;
        if (sd < 0)
            return host_error(a, "shape entry %d is %lld", k, (long long)sd);
        if (xd != sd && xd != 1 && sd != 1)
            return host_error(a, "input dim %lld (axis %d) does not broadcast to %lld",
                              (long long)xd, j, (long long)sd);
        dims[i] = xd == 1 ? sd : xd;
        strides[i] = j >= 0 && xd == dims[i] ? in_strides[j] : 0;
    }
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, r, dims, &y));
    int ok;
    if (host_numel(y, &ok) > 0)
        host_tn_copy_strided(y->data, x->data, es, r, dims, strides);
    return O2P_OK;
}

typedef struct tile_ctx {
    int rank;
    size_t esize;
    const int64_t *in_dims, *reps;
    size_t in_block[HOST_MAX_RANK + 1], out_block[HOST_MAX_RANK + 1]; /* bytes of dims[l:] */
} tile_ctx;

/* Writes the output block of dims level.. at dst from the input block at src: the input
 * block is laid out once (recursively), then repeated by memcpy. */
static void tile_level(const tile_ctx *t, int level, const unsigned char *src, unsigned char *dst)
{
    if (level == t->rank) {
        memcpy(dst, src, t->esize);
        return;
    }
    int64_t d = t->in_dims[level];
    if (level == t->rank - 1)
        memcpy(dst, src, (size_t)d * t->esize);
    else
        for (int64_t i = 0; i < d; i++)
            tile_level(t, level + 1, src + (size_t)i * t->in_block[level + 1],
                       dst + (size_t)i * t->out_block[level + 1]);
    size_t chunk = (size_t)d * t->out_block[level + 1];
    for (int64_t r = 1; r < t->reps[level]; r++)
        memcpy(dst + (size_t)r * chunk, dst, chunk);
}

o2p_status host_tn_tile(const host_kernel_args *a)
{
    const host_tensor *x;
    host_tensor *y;
    int64_t n, reps[HOST_MAX_RANK], dims[HOST_MAX_RANK];
    size_t es;
    int c;
    O2P_TRY(data_input(a, &x, &n, &es));
    O2P_TRY(host_tn_read_ints(a, host_in(a, 1), "input 1 (repeats)", reps, HOST_MAX_RANK, &c));
    if (c != x->rank)
        return host_error(a, "repeats has %d entries for rank %d", c, x->rank);
    for (int i = 0; i < c; i++) {
        if (reps[i] < 0)
            return host_error(a, "repeats entry %d is %lld", i, (long long)reps[i]);
        if (!o2p_mul_i64(x->dims[i], reps[i], &dims[i]))
            return host_error(a, "axis %d would have more than 2^63 elements", i);
    }
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, x->rank, dims, &y));
    int ok;
    if (host_numel(y, &ok) == 0)
        return O2P_OK;
    tile_ctx t = {.rank = x->rank, .esize = es, .in_dims = x->dims, .reps = reps};
    t.in_block[x->rank] = t.out_block[x->rank] = es;
    for (int i = x->rank - 1; i >= 0; i--) {
        t.in_block[i] = t.in_block[i + 1] * (size_t)x->dims[i];
        t.out_block[i] = t.out_block[i + 1] * (size_t)dims[i];
    }
    tile_level(&t, 0, x->data, y->data);
    return O2P_OK;
}

/* ---------------------------------------------------------------- Pad */

typedef enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } pad_mode;

/* The input index that output index c (of an axis padded by `begin` before) reads, or -1
 * for the constant. dim > 0 unless the mode is constant. */
static int64_t pad_source(pad_mode mode, int64_t c, int64_t begin, int64_t dim)
{
    int64_t i = c - begin;
    if (i >= 0 && i < dim)
        return i;
    switch (mode) {
    case PAD_CONSTANT:
        return -1;
    case PAD_EDGE:
        return i < 0 ? 0 : dim - 1;
    case PAD_WRAP: {
        int64_t m = i % dim;
        return m < 0 ? m + dim : m;
    }
    case PAD_REFLECT: default: {
        /* numpy's reflect: period 2*(dim-1), without repeating the edge */
        if (dim == 1)
            return 0;
        int64_t period = 2 * (dim - 1), m = i % period;
        m = m < 0 ? m + period : m;
        return m < dim ? m : period - m;
    }
    }
}

static o2p_status pad_params(const host_kernel_args *a, int rank, int64_t *begin, int64_t *end,
                             unsigned char *value, size_t es, o2p_dtype t)
{
    int64_t pads[2 * HOST_MAX_RANK], axes[HOST_MAX_RANK];
    int np, na;
    for (int i = 0; i < rank; i++)
        begin[i] = end[i] = 0;
    memset(value, 0, 16);
    if (a->opset < 11) {
        const int64_t *p = host_attr_ints(a, "pads", &np);
        if (!p)
            return host_error(a, "attribute 'pads' is missing");
        if (np != 2 * rank)
            return host_error(a, "attribute 'pads' has %d entries for rank %d", np, rank);
        memcpy(pads, p, (size_t)np * sizeof *p);
        host_tensor v = {.dtype = t, .rank = 0, .data = value};
        host_set_f64(&v, 0, host_attr_float(a, "value", 0.0f));
        for (int i = 0; i < rank; i++)
            axes[i] = i;
        na = rank;
    } else {
        O2P_TRY(host_tn_read_ints(a, host_in(a, 1), "input 1 (pads)", pads, 2 * HOST_MAX_RANK,
                                  &np));
        const host_tensor *cv = host_in(a, 2);
        if (cv) {
            int64_t n;
            O2P_TRY(host_tn_check(a, cv, "input 2 (constant_value)", &n));
            if (cv->dtype != t || n != 1 || cv->rank > 1)
                return host_error(a, "input 2 (constant_value) must be one %s value",
                                  o2p_dtype_name(t));
            memcpy(value, cv->data, es);
        }
        if (host_in(a, 3) && a->opset >= 18) { /* no such input before: ignored */
            O2P_TRY(host_tn_read_ints(a, host_in(a, 3), "input 3 (axes)", axes, HOST_MAX_RANK,
                                      &na));
        } else {
            for (int i = 0; i < rank; i++)
                axes[i] = i;
            na = rank;
        }
        if (np != 2 * na)
            return host_error(a, "pads has %d entries for %d axes", np, na);
    }
    int seen[HOST_MAX_RANK] = {0};
    for (int k = 0; k < na; k++) {
        int ax;
        if (rank == 0 || !host_norm_axis(axes[k], rank, &ax))
            return host_error(a, "axis %lld is out of range for rank %d", (long long)axes[k],
                              rank);
        if (seen[ax])
            return host_error(a, "axis %d appears twice", ax);
        seen[ax] = 1;
        begin[ax] = pads[k];
        end[ax] = pads[na + k];
    }
    return O2P_OK;
}

o2p_status host_tn_pad(const host_kernel_args *a)
{
    const host_tensor *x;
    host_tensor *y;
    int64_t n, begin[HOST_MAX_RANK], end[HOST_MAX_RANK], dims[HOST_MAX_RANK];
    size_t es;
    unsigned char value[16];
    O2P_TRY(data_input(a, &x, &n, &es));
    if (es > sizeof value)
        return host_unsupported_dtype(a, x->dtype);
    const char *ms = host_attr_string(a, "mode", "constant");
    pad_mode mode;
    if (strcmp(ms, "constant") == 0)
        mode = PAD_CONSTANT;
    else if (strcmp(ms, "reflect") == 0)
        mode = PAD_REFLECT;
    else if (strcmp(ms, "edge") == 0)
        mode = PAD_EDGE;
    else if (strcmp(ms, "wrap") == 0)
        mode = PAD_WRAP;
    else
        return host_error(a, "mode '%s' is not constant, reflect, edge or wrap", ms);
    O2P_TRY(pad_params(a, x->rank, begin, end, value, es, x->dtype));
    int r = x->rank;
    for (int i = 0; i < r; i++) {
        int64_t d = x->dims[i];
        if (__builtin_add_overflow(d, begin[i], &dims[i]) ||
            __builtin_add_overflow(dims[i], end[i], &dims[i]) || dims[i] < 0)
            return host_error(a, "axis %d of size %lld padded by %lld and %lld has no valid "
                                 "size", i, (long long)d, (long long)begin[i],
                              (long long)end[i]);
        if (mode != PAD_CONSTANT && d == 0 && dims[i] > 0)
            return host_error(a, "axis %d is empty: nothing to pad it with in mode '%s'", i,
                              ms);
    }
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, r, dims, &y));
    int ok;
    if (host_numel(y, &ok) == 0)
        return O2P_OK;
    unsigned char *dst = y->data;
    const unsigned char *src = x->data;
    if (r == 0) {
        memcpy(dst, src, es);
        return O2P_OK;
    }
    int64_t in_strides[HOST_MAX_RANK], idx[HOST_MAX_RANK] = {0};
    host_tn_strides(r, x->dims, in_strides);
    int64_t w = dims[r - 1], d = x->dims[r - 1], b = begin[r - 1];
    /* the part of a row that reads input positions 0..d-1 in order: one memcpy */
    int64_t lo = b < 0 ? 0 : b > w ? w : b;
    int64_t hi = b + d < lo ? lo : b + d > w ? w : b + d;
    for (;;) {
        int64_t off = 0;
        int inside = 1;
        for (int k = 0; k < r - 1; k++) {
            int64_t s = pad_source(mode, idx[k], begin[k], x->dims[k]);
            if (s < 0) {
                inside = 0;
                break;
            }
            off += s * in_strides[k];
        }
        if (!inside) {
            host_tn_fill(dst, value, es, w);
        } else {
            const unsigned char *row = src + (size_t)off * es;
            for (int64_t c = 0; c < lo; c++) {
                int64_t s = pad_source(mode, c, b, d);
                memcpy(dst + (size_t)c * es, s < 0 ? value : row + (size_t)s * es, es);
            }
            if (hi > lo)
                memcpy(dst + (size_t)lo * es, row + (size_t)(lo - b) * es, (size_t)(hi - lo) * es);
            for (int64_t c = hi; c < w; c++) {
                int64_t s = pad_source(mode, c, b, d);
                memcpy(dst + (size_t)c * es, s < 0 ? value : row + (size_t)s * es, es);
            }
        }
        dst += (size_t)w * es;
        int k = r - 2;
        for (; k >= 0; k--) {
            if (++idx[k] < dims[k])
                break;
            idx[k] = 0;
        }
        if (k < 0)
            return O2P_OK;
    }
}

/* ---------------------------------------------------------------- Trilu */

o2p_status host_tn_trilu(const host_kernel_args *a)
{
    const host_tensor *x;
    host_tensor *y;
    int64_t n, k = 0;
    size_t es;
    O2P_TRY(data_input(a, &x, &n, &es));
    if (x->rank < 2)
        return host_error(a, "the input must have rank 2 or more, not %d", x->rank);
    if (host_in(a, 1))
        O2P_TRY(host_tn_read_scalar_int(a, host_in(a, 1), "input 1 (k)", &k));
    int upper = host_attr_int(a, "upper", 1) != 0;
    O2P_TRY(host_tn_check_out(a, 0, x->dtype, x->rank, x->dims, &y));
    if (n == 0)
        return O2P_OK;
    memcpy(y->data, x->data, (size_t)n * es);
    int64_t rows = x->dims[x->rank - 2], cols = x->dims[x->rank - 1];
    int64_t mats = n / (rows * cols);
    /* beyond these bounds k has the effect of the bound; keeps i + k from overflowing */
    k = k < -rows ? -rows : k > cols ? cols : k;
    unsigned char *p = y->data;
    for (int64_t m = 0; m < mats; m++) {
        for (int64_t i = 0; i < rows; i++, p += (size_t)cols * es) {
            /* upper keeps j >= i + k, lower keeps j <= i + k */
            int64_t from = upper ? 0 : i + k + 1, to = upper ? i + k : cols;
            from = from < 0 ? 0 : from > cols ? cols : from;
            to = to < 0 ? 0 : to > cols ? cols : to;
            if (to > from)
                memset(p + (size_t)from * es, 0, (size_t)(to - from) * es);
        }
    }
    return O2P_OK;
}
