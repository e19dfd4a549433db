/* scale_plugin.c: a minimal out-of-tree onnx2plan plugin library (DESIGN.md §10).
 *
 * It implements one operator, Scale in the ONNX domain "com.example": y = x * alpha, with a
 * float attribute alpha (default 1.0), on float32 tensors of any shape. It builds against the
 * public headers alone (o2p/plugin.h, o2p/o2p.h and the build's o2p/o2p_version.h) and links
 * nothing of onnx2plan: see README.md and Makefile.
 *
 * Load it with `onnx2plan --plugins ./libscale_plugin.so ...` or
 * o2p_plugin_registry_load_library(). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "o2p/plugin.h"

/* Everything but the entry is static: a plugin library should export only the entry. */

static o2p_status fail(o2p_plugin_error *err, o2p_status status, const char *message)
{
    if (err && err->message && err->size > 0)
        snprintf(err->message, err->size, "Scale: %s", message);
    return status;
}

/* Reads alpha from the fields (the ONNX node's attributes). */
static o2p_status get_alpha(const o2p_plugin_field *fields, int num_fields, float *alpha,
                            o2p_plugin_error *err)
{
    int i;
    *alpha = 1.0f;
    for (i = 0; i < num_fields; i++) {
        if (!fields[i].name)
            return fail(err, O2P_ERR_INVALID_ARGUMENT, "a field has no name");
        if (strcmp(fields[i].name, "alpha") != 0)
            return fail(err, O2P_ERR_UNSUPPORTED, "unknown attribute (Scale takes alpha)");
        if (fields[i].type != O2P_ATTR_FLOAT)
            return fail(err, O2P_ERR_PARSE, "alpha must be a float");
        *alpha = fields[i].f;
    }
    if (!isfinite(*alpha))
        return fail(err, O2P_ERR_PARSE, "alpha must be finite");
    return O2P_OK;
}

static o2p_status scale_infer(const o2p_plugin_tensor_desc *inputs, int num_inputs,
                              const o2p_plugin_field *fields, int num_fields,
                              o2p_plugin_tensor_desc *outputs, int num_outputs,
                              o2p_plugin_error *err)
{
    float alpha;
    o2p_status st = get_alpha(fields, num_fields, &alpha, err);
    if (st != O2P_OK)
        return st;
    if (num_inputs != 1 || num_outputs != 1)
        return fail(err, O2P_ERR_SHAPE, "takes one input and has one output");
    if (inputs[0].dtype != O2P_DTYPE_FLOAT && inputs[0].dtype != O2P_DTYPE_UNDEFINED)
        return fail(err, O2P_ERR_SHAPE, "x must be float32");
    outputs[0] = inputs[0]; /* same type and shape, unknown dims stay unknown */
    outputs[0].dtype = O2P_DTYPE_FLOAT;
    return O2P_OK;
}

static int scale_supports(const o2p_dtype *inputs, int num_inputs, const o2p_dtype *outputs,
                          int num_outputs)
{
    return num_inputs == 1 && num_outputs == 1 && inputs[0] == O2P_DTYPE_FLOAT &&
           outputs[0] == O2P_DTYPE_FLOAT;
}

static uint64_t scale_workspace(const o2p_plugin_tensor_desc *inputs, int num_inputs,
                                const o2p_plugin_field *fields, int num_fields)
{
    (void)inputs, (void)num_inputs, (void)fields, (void)num_fields;
    return 0;
}

/* Serialized fields: "SCL1" then alpha as a little-endian IEEE float32 (8 bytes). */
static size_t scale_serialize(const o2p_plugin_field *fields, int num_fields, void *buf,
                              size_t capacity)
{
    float alpha;
    uint32_t bits;
    unsigned char *p = buf;
    if (get_alpha(fields, num_fields, &alpha, NULL) != O2P_OK)
        return 0;
    if (buf && capacity >= 8) {
        memcpy(&bits, &alpha, 4);
        memcpy(p, "SCL1", 4);
        p[4] = (unsigned char)bits;
        p[5] = (unsigned char)(bits >> 8);
        p[6] = (unsigned char)(bits >> 16);
        p[7] = (unsigned char)(bits >> 24);
    }
    return 8;
}

static o2p_status scale_enqueue_host(const void *serialized, size_t serialized_size,
                                     const o2p_plugin_tensor *inputs, int num_inputs,
                                     o2p_plugin_tensor *outputs, int num_outputs,
                                     void *workspace, o2p_plugin_error *err)
{
    const unsigned char *p = serialized;
    uint32_t bits;
    float alpha;
    size_t n = 1, i;
    int d;
    (void)workspace;
    /* the bytes come from a plan: check everything */
    if (!p || serialized_size != 8 || memcmp(p, "SCL1", 4) != 0)
        return fail(err, O2P_ERR_PARSE, "invalid serialized fields");
    bits = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
    memcpy(&alpha, &bits, 4);
    if (!isfinite(alpha))
        return fail(err, O2P_ERR_PARSE, "invalid serialized alpha");
    if (num_inputs != 1 || num_outputs != 1 || inputs[0].dtype != O2P_DTYPE_FLOAT ||
        outputs[0].dtype != O2P_DTYPE_FLOAT || inputs[0].rank != outputs[0].rank ||
        inputs[0].rank < 0 || inputs[0].rank > O2P_MAX_RANK)
        return fail(err, O2P_ERR_SHAPE, "needs one float32 input and output of the same shape");
    for (d = 0; d < inputs[0].rank; d++) {
        if (inputs[0].dims[d] < 0 || inputs[0].dims[d] != outputs[0].dims[d])
            return fail(err, O2P_ERR_SHAPE, "the output's shape differs from the input's");
        n *= (size_t)inputs[0].dims[d];
    }
    if (n && (!inputs[0].data || !outputs[0].data))
        return fail(err, O2P_ERR_INVALID_ARGUMENT, "missing tensor data");
    for (i = 0; i < n; i++)
        ((float *)outputs[0].data)[i] = ((const float *)inputs[0].data)[i] * alpha;
    return O2P_OK;
}

static const char *const scale_fields[] = {"alpha"};

static const o2p_plugin_creator scale_creator = {
    sizeof(o2p_plugin_creator),
    "Scale",       /* name: the ONNX op type */
    "1",           /* version */
    "",            /* plugin_namespace */
    "com.example", /* onnx_domain */
    1,
    scale_fields,
    1,
    1,
    scale_infer,
    scale_supports,
    scale_workspace,
    scale_serialize,
    scale_enqueue_host,
    NULL, /* enqueue_cuda: no CUDA code */
};

static const o2p_plugin_creator *const creators[] = {&scale_creator};

static const o2p_plugin_library library = {
    sizeof(o2p_plugin_library), O2P_PLUGIN_ABI_MAJOR, O2P_PLUGIN_ABI_MINOR, "example_scale",
    1, creators};

/* The entry, O2P_PLUGIN_ENTRY_SYMBOL: the one exported symbol. */
__attribute__((visibility("default"))) const o2p_plugin_library *
o2p_get_plugin_library(uint32_t host_abi_major);

const o2p_plugin_library *o2p_get_plugin_library(uint32_t host_abi_major)
{
    /* serve only the ABI major this library was built for */
    return host_abi_major == O2P_PLUGIN_ABI_MAJOR ? &library : NULL;
}
