/* cuda_exec.c: the lean runtime's cuda executor: at engine create, the best kernel image per
 * family loaded on device 0, every launch's function looked up and the weights uploaded once;
 * per context one device allocation (arena, then workspace) and the launches' parameter
 * bytes with those addresses patched in (plus, when the plan's tactics call cuBLAS, cuBLASLt
 * or cuDNN, the libraries' handles: cuda_libs.c); enqueue fills in the I/O addresses and launches
 * everything on the caller's stream without waiting (DESIGN.md §5, §7, §9). Plugin layers run
 * their creator's enqueue_cuda on the stream, or, for a plugin with host code only, its
 * enqueue_host on host copies of the tensors (the one place enqueue waits for the stream). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lean/cuda_driver.h"
#include "lean/cuda_libs.h"
#include "lean/lean.h"
#include "plan/engine_format.h"

#define DEVICE_ORDINAL 0
#define DEFAULT_SMEM_LIMIT (48u * 1024u) /* what a kernel gets without opting in */

/* A device address a context fills in per enqueue: an I/O tensor's, at `at` in the buffer. */
typedef struct io_patch {
    size_t at;
    int io;
    uint64_t byte_offset;
} io_patch;

typedef struct smem_opt {
    CUfunction fn;
    uint32_t smem;
} smem_opt;

struct lean_cuda_engine {
    const cuda_driver *d;
    cuda_device_info dev;
    CUmodule *modules;    /* per image: the loaded ones, NULL for the others */
    int *family_image;    /* per image: the image loaded for its family, -1 none */
    CUfunction *fns;      /* per launch (KERNEL ones) */
    CUdeviceptr weights;  /* 0 when the blob is empty */
    io_patch *io_patches; /* every I/O tensor address of every launch */
    int num_io_patches;
    /* the libraries the launches call (engine.libraries), NULL for the others */
    const cuda_cublas *cublas;
    const cuda_cublaslt *cublaslt;
    const cuda_cudnn *cudnn;
};

struct lean_cuda_context {
    const lean_engine *e;
    CUdeviceptr mem; /* arena, then the workspace at a 256-byte boundary; 0 when empty */
    uint64_t size;
    uint8_t *params; /* every launch's parameter bytes (lean_launch.buf_offset) */
    cuda_libs_context *libs; /* handles and descriptors when the engine calls libraries */
    void *const *bound; /* the I/O addresses of the enqueue in progress (control.c reads them) */
    /* plugin layers: their tensors as the plugin ABI sees them (rebuilt per layer), and the
     * host staging memory of those without enqueue_cuda (inputs, outputs, then workspace,
     * each at a STAGE_ALIGN boundary; NULL when no layer needs it) */
    o2p_plugin_tensor *plugin_in, *plugin_out;
    uint8_t *stage;
    size_t stage_size;
    /* data-dependent engine outputs: O2P_MAX_RANK dims per I/O tensor, page-locked so that
     * the copies from the shape tensors stay asynchronous; NULL when the engine has none */
    int64_t *dims;
};

/* Staged tensors start at this alignment (what a host kernel may assume of its data). */
#define STAGE_ALIGN 64u

/* ---------------------------------------------------------------- image choice */

/* Whether image im (of the family) runs on a device of compute capability cc, and how well:
 * 0 no; higher is better. */
static int image_rank(const lean_image *im, int cc)
{
    int arch = (int)im->arch;
    if (im->arch_specific) /* sm_XYa / compute_XYa: that exact arch only */
        return arch == cc ? (im->kind == ENGINE_IMAGE_SASS ? 4000 : 1000) : 0;
    if (im->kind == ENGINE_IMAGE_SASS) {
        if (arch == cc)
            return 3000;
        if (arch / 10 == cc / 10 && arch < cc)
            return 2000 + arch; /* same major, the highest minor below */
        return 0;
    }
    return arch <= cc ? 1000 + arch : 0; /* PTX, JIT-compiled by the driver: the newest */
}

int lean_pick_image(const lean_image *images, int num_images, const char *family, int cc)
{
    int best = -1, best_rank = 0;
    for (int i = 0; i < num_images; i++) {
        if (strcmp(images[i].family, family) != 0)
            continue;
        int r = image_rank(&images[i], cc);
        if (r > best_rank)
            best = i, best_rank = r;
    }
    return best;
}

/* ---------------------------------------------------------------- messages */

static const char *image_name(const lean_image *im, char *buf, size_t size)
{
    snprintf(buf, size, "%s_%u%s %s", im->kind == ENGINE_IMAGE_PTX ? "compute" : "sm", im->arch,
             im->arch_specific ? "a" : "", im->kind == ENGINE_IMAGE_PTX ? "PTX" : "SASS");
    return buf;
}

/* "sm_80 SASS, sm_90 SASS, compute_80 PTX": the images of a family. */
static void family_images(const lean_engine *e, const char *family, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < e->num_images && len + 40 < size; i++) {
        char n[40];
        if (strcmp(e->images[i].family, family) == 0)
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
                                    image_name(&e->images[i], n, sizeof n));
    }
}

/* The device in messages: "device 0 (NVIDIA H100, compute capability 9.0)". */
static const char *device_text(const cuda_device_info *dev, char *buf, size_t size)
{
    snprintf(buf, size, "device %d (%.100s, compute capability %d.%d)", dev->ordinal, dev->name,
             dev->compute_cap / 10, dev->compute_cap % 10);
    return buf;
}

static o2p_status driver_status(CUresult r)
{
    return r == CUDA_ERROR_OUT_OF_MEMORY ? O2P_ERR_OUT_OF_MEMORY : O2P_ERR_INTERNAL;
}

/* Re-raises the current error (from cuda_driver.c) with the engine's prefix. */
static o2p_status refail(o2p_status st, const char *prefix)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", o2p_last_error());
    return o2p_fail(st, "%sdevice: %s", prefix, msg);
}

/* ---------------------------------------------------------------- the engine */

static o2p_status load_images(lean_engine *e, struct lean_cuda_engine *c, const char *prefix)
{
    const cuda_driver *d = c->d;
    char dev[200], list[600], name[40], rt[200];
    device_text(&c->dev, dev, sizeof dev);
    for (int i = 0; i < e->num_images; i++) {
        const lean_image *im = &e->images[i];
        int first = 1;
        for (int j = 0; j < i && first; j++)
            first = strcmp(e->images[j].family, im->family) != 0;
        if (!first) {
            for (int j = 0; j < i; j++)
                if (strcmp(e->images[j].family, im->family) == 0) {
                    c->family_image[i] = c->family_image[j];
                    break;
                }
            continue;
        }
        int pick = lean_pick_image(e->images, e->num_images, im->family, c->dev.compute_cap);
        family_images(e, im->family, list, sizeof list);
        if (pick < 0)
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "%skernel images: the plan cannot run on %s: its kernel family '%.60s' "
                            "comes as %s only, and none of them runs on compute capability "
                            "%d.%d; rebuild the plan with --arch sm_%d or --hw-compat ampere+",
                            prefix, dev, im->family, list, c->dev.compute_cap / 10,
                            c->dev.compute_cap % 10, c->dev.compute_cap);
        const lean_image *p = &e->images[pick];
        /* A private NUL-terminated copy: PTX is text the driver reads up to its NUL, and a
         * cubin is read best from aligned memory. */
        char *copy = aligned_alloc(16, ((size_t)p->size + 16) & ~(size_t)15);
        if (!copy)
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%skernel images: out of memory for the %s "
                            "image of family '%.60s'", prefix, image_name(p, name, sizeof name),
                            p->family);
        memcpy(copy, p->bytes, (size_t)p->size);
        copy[p->size] = '\0';
        CUresult r = d->cuModuleLoadData(&c->modules[pick], copy);
        free(copy);
        if (r != CUDA_SUCCESS) {
            c->modules[pick] = NULL;
            return o2p_fail(O2P_ERR_UNSUPPORTED,
                            "%skernel images: the CUDA driver cannot load the %s image of kernel "
                            "family '%.60s' on %s: %s; the plan carries %s for it: rebuild the "
                            "plan with --arch sm_%d or --hw-compat ampere+",
                            prefix, image_name(p, name, sizeof name), p->family, dev,
                            cuda_result_text(d, r, rt, sizeof rt), list, c->dev.compute_cap);
        }
        c->family_image[i] = pick;
    }
    return O2P_OK;
}

static o2p_status load_functions(lean_engine *e, struct lean_cuda_engine *c, const char *prefix)
{
    const cuda_driver *d = c->d;
    char dev[200], rt[200], name[40];
    device_text(&c->dev, dev, sizeof dev);
    smem_opt *opts = NULL;
    int num_opts = 0, cap_opts = 0;
    o2p_status st = O2P_OK;
    for (int li = 0; li < e->num_layers && st == O2P_OK; li++) {
        const lean_layer *l = &e->layers[li];
        for (int k = 0; k < l->num_launches && st == O2P_OK; k++) {
            const lean_launch *lk = &l->launches[k];
            if (lk->kind != ENGINE_LAUNCH_KERNEL)
                continue;
            int image = -1;
            for (int i = 0; i < e->num_images && image < 0; i++)
                if (strcmp(e->images[i].family, lk->family) == 0)
                    image = c->family_image[i];
            /* the reader made sure every family has an image, load_images that one is loaded */
            CUfunction fn = NULL;
            CUresult r = d->cuModuleGetFunction(&fn, c->modules[image], lk->function);
            if (r != CUDA_SUCCESS) {
                st = o2p_fail(O2P_ERR_UNSUPPORTED,
                              "%slayer %d '%.100s' (%.60s), launch %d: the %s image of kernel "
                              "family '%.60s' has no function '%.100s' (%s); the plan is "
                              "inconsistent: rebuild it",
                              prefix, li, l->name, l->op_type, k,
                              image_name(&e->images[image], name, sizeof name), lk->family,
                              lk->function, cuda_result_text(d, r, rt, sizeof rt));
                break;
            }
            c->fns[lk->index] = fn;
            if (lk->smem <= DEFAULT_SMEM_LIMIT)
                continue;
            if (lk->smem > c->dev.shared_mem_per_block_optin) {
                st = o2p_fail(O2P_ERR_UNSUPPORTED,
                              "%slayer %d '%.100s' (%.60s), launch %d (%.60s.%.100s): the kernel "
                              "needs %u bytes of shared memory per block, and %s allows %u; "
                              "rebuild the plan for this GPU (--arch sm_%d)",
                              prefix, li, l->name, l->op_type, k, lk->family, lk->function,
                              lk->smem, dev, c->dev.shared_mem_per_block_optin,
                              c->dev.compute_cap);
                break;
            }
            /* The attribute is the function's: set it to the most any launch of it needs. */
            int o = 0;
            while (o < num_opts && opts[o].fn != fn)
                o++;
            if (o < num_opts && opts[o].smem >= lk->smem)
                continue;
            if (o == num_opts) {
                if (num_opts == cap_opts) {
                    int cap = cap_opts ? cap_opts * 2 : 8;
                    smem_opt *grown = realloc(opts, (size_t)cap * sizeof *grown);
                    if (!grown) {
                        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%sout of memory", prefix);
                        break;
                    }
                    opts = grown;
                    cap_opts = cap;
                }
                opts[num_opts++] = (smem_opt){fn, 0};
            }
            r = d->cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                      (int)lk->smem);
            if (r != CUDA_SUCCESS) {
                st = o2p_fail(O2P_ERR_UNSUPPORTED,
                              "%slayer %d '%.100s' (%.60s), launch %d (%.60s.%.100s): cannot "
                              "allow it %u bytes of shared memory on %s: %s",
                              prefix, li, l->name, l->op_type, k, lk->family, lk->function,
                              lk->smem, dev, cuda_result_text(d, r, rt, sizeof rt));
                break;
            }
            opts[o].smem = lk->smem;
        }
    }
    free(opts);
    return st;
}

static o2p_status upload_weights(lean_engine *e, struct lean_cuda_engine *c,
                                 const uint8_t *weights, const char *prefix)
{
    const cuda_driver *d = c->d;
    char dev[200], rt[200];
    device_text(&c->dev, dev, sizeof dev);
    if (!e->weights_size)
        return O2P_OK;
    size_t free_bytes = 0, total_bytes = 0;
    CUresult r = d->cuMemGetInfo(&free_bytes, &total_bytes);
    if (r != CUDA_SUCCESS)
        return o2p_fail(O2P_ERR_UNSUPPORTED, "%sweights: cannot query the free memory of %s: %s",
                        prefix, dev, cuda_result_text(d, r, rt, sizeof rt));
    if (e->weights_size > free_bytes)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY,
                        "%sweights: the plan's weights need %llu bytes of device memory, and %s "
                        "has %llu free (of %llu); free device memory or use a GPU with more",
                        prefix, (unsigned long long)e->weights_size, dev,
                        (unsigned long long)free_bytes, (unsigned long long)total_bytes);
    if ((r = d->cuMemAlloc(&c->weights, (size_t)e->weights_size)) != CUDA_SUCCESS) {
        c->weights = 0;
        return o2p_fail(driver_status(r), "%sweights: cannot allocate %llu bytes on %s: %s",
                        prefix, (unsigned long long)e->weights_size, dev,
                        cuda_result_text(d, r, rt, sizeof rt));
    }
    if ((r = d->cuMemcpyHtoD(c->weights, weights, (size_t)e->weights_size)) != CUDA_SUCCESS)
        return o2p_fail(driver_status(r), "%sweights: cannot copy %llu bytes to %s: %s", prefix,
                        (unsigned long long)e->weights_size, dev,
                        cuda_result_text(d, r, rt, sizeof rt));
    return O2P_OK;
}

/* The I/O tensor addresses of every launch, which each enqueue fills in. */
static o2p_status list_io_patches(lean_engine *e, struct lean_cuda_engine *c, const char *prefix)
{
    int n = 0;
    for (int li = 0; li < e->num_layers; li++)
        for (int k = 0; k < e->layers[li].num_launches; k++) {
            const lean_launch *lk = &e->layers[li].launches[k];
            for (int p = 0; p < lk->num_patches; p++)
                n += lk->patches[p].tensor >= 0 &&
                     e->tensors[lk->patches[p].tensor].storage == ENGINE_STORAGE_IO;
        }
    c->io_patches = calloc((size_t)n + 1, sizeof *c->io_patches);
    if (!c->io_patches)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%sout of memory", prefix);
    for (int li = 0; li < e->num_layers; li++)
        for (int k = 0; k < e->layers[li].num_launches; k++) {
            const lean_launch *lk = &e->layers[li].launches[k];
            for (int p = 0; p < lk->num_patches; p++) {
                const lean_patch *pt = &lk->patches[p];
                if (pt->tensor < 0 || e->tensors[pt->tensor].storage != ENGINE_STORAGE_IO)
                    continue;
                c->io_patches[c->num_io_patches++] = (io_patch){
                    lk->buf_offset + pt->param_offset, e->tensors[pt->tensor].io_index,
                    pt->byte_offset};
            }
        }
    return O2P_OK;
}

o2p_status lean_cuda_engine_load(lean_engine *e, const uint8_t *weights, const char *prefix)
{
    struct lean_cuda_engine *c = calloc(1, sizeof *c);
    if (!c)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%sout of memory", prefix);
    e->cuda = c; /* from here on lean_cuda_engine_unload releases whatever was made */
    c->modules = calloc((size_t)e->num_images + 1, sizeof *c->modules);
    c->family_image = calloc((size_t)e->num_images + 1, sizeof *c->family_image);
    c->fns = calloc((size_t)e->num_launches + 1, sizeof *c->fns);
    if (!c->modules || !c->family_image || !c->fns)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%sout of memory", prefix);
    for (int i = 0; i < e->num_images; i++)
        c->family_image[i] = -1;
    if (!(c->d = cuda_driver_get(NULL)))
        return refail(O2P_ERR_UNSUPPORTED, prefix);
    if (cuda_device_query(DEVICE_ORDINAL, &c->dev) != O2P_OK) /* makes its context current */
        return refail(O2P_ERR_UNSUPPORTED, prefix);
    /* A library the plan's tactics need and this machine lacks refuses the plan here, by
     * name, before anything is loaded. */
    if (e->libraries)
        O2P_TRY(cuda_libs_open(e->libraries, prefix, &c->cublas, &c->cublaslt, &c->cudnn));
    O2P_TRY(load_images(e, c, prefix));
    O2P_TRY(load_functions(e, c, prefix));
    O2P_TRY(upload_weights(e, c, weights, prefix));
    return list_io_patches(e, c, prefix);
}

void lean_cuda_engine_unload(lean_engine *e)
{
    struct lean_cuda_engine *c = e->cuda;
    if (!c)
        return;
    CUcontext ctx;
    if (c->d && cuda_use_device(DEVICE_ORDINAL, &ctx) == O2P_OK) {
        for (int i = 0; i < e->num_images; i++)
            if (c->modules && c->modules[i])
                c->d->cuModuleUnload(c->modules[i]);
        if (c->weights)
            c->d->cuMemFree(c->weights);
    }
    free(c->modules);
    free(c->family_image);
    free(c->fns);
    free(c->io_patches);
    free(c);
    e->cuda = NULL;
}

int lean_cuda_engine_loaded_image(const lean_engine *e, const char *family)
{
    const struct lean_cuda_engine *c = e->cuda;
    if (!c)
        return -1;
    for (int i = 0; i < e->num_images; i++)
        if (strcmp(e->images[i].family, family) == 0)
            return c->family_image[i];
    return -1;
}

/* ---------------------------------------------------------------- contexts */

static void put_u64(uint8_t *at, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        at[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *at)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)at[i] << (8 * i);
    return v;
}

static uint64_t workspace_offset(const lean_engine *e)
{
    return (e->arena_size + 255u) & ~(uint64_t)255u;
}

void lean_cuda_context_destroy(lean_cuda_context *c)
{
    if (!c)
        return;
    const struct lean_cuda_engine *ce = c->e->cuda;
    CUcontext ctx;
    if ((c->mem || c->libs || c->dims) && cuda_use_device(DEVICE_ORDINAL, &ctx) == O2P_OK) {
        cuda_libs_context_destroy(c->libs);
        if (c->mem)
            ce->d->cuMemFree(c->mem);
        if (c->dims)
            ce->d->cuMemFreeHost(c->dims);
    }
    free(c->params);
    free(c->plugin_in);
    free(c->plugin_out);
    free(c->stage);
    free(c);
}

static uint64_t stage_bytes(uint64_t n)
{
    return n > UINT64_MAX - STAGE_ALIGN ? UINT64_MAX
                                        : (n + STAGE_ALIGN - 1) & ~(uint64_t)(STAGE_ALIGN - 1);
}

/* Host staging bytes a plugin layer without enqueue_cuda needs (0 for the others), or
 * UINT64_MAX on overflow. */
static uint64_t layer_stage_size(const lean_engine *e, const lean_layer *l)
{
    if (!l->is_plugin || lean_plugin_enqueue_cuda(l->plugin))
        return 0;
    uint64_t total = stage_bytes(l->workspace);
    for (int side = 0; side < 2; side++) {
        int n = side ? l->num_outputs : l->num_inputs;
        const int32_t *ix = side ? l->outputs : l->inputs;
        for (int i = 0; i < n; i++) {
            uint64_t b = ix[i] < 0 ? 0 : stage_bytes(e->tensors[ix[i]].nbytes);
            if (b > UINT64_MAX - total)
                return UINT64_MAX;
            total += b;
        }
    }
    return total;
}

/* The plugin tensor arrays, and the staging memory for the largest host-only plugin layer. */
static o2p_status plugin_buffers(lean_cuda_context *c)
{
    const lean_engine *e = c->e;
    uint64_t stage = 0;
    int plugins = 0, staged = 0;
    for (int li = 0; li < e->num_layers; li++) {
        const lean_layer *l = &e->layers[li];
        plugins |= l->is_plugin;
        staged |= l->is_plugin && !lean_plugin_enqueue_cuda(l->plugin);
        uint64_t n = layer_stage_size(e, l);
        if (n > stage)
            stage = n;
    }
    if (!plugins)
        return O2P_OK;
    /* tensors of no bytes get a valid address too, as on the host target */
    if (staged && stage < STAGE_ALIGN)
        stage = STAGE_ALIGN;
    c->plugin_in = calloc((size_t)e->max_layer_inputs + 1, sizeof *c->plugin_in);
    c->plugin_out = calloc((size_t)e->max_layer_outputs + 1, sizeof *c->plugin_out);
    if (!c->plugin_in || !c->plugin_out)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%s: out of memory for an execution context",
                        e->what);
    if (!stage)
        return O2P_OK;
    /* Plain host memory: the copies around a host-only plugin are synchronous anyway, so
     * page-locked memory would only speed them up. */
    if (stage > SIZE_MAX - STAGE_ALIGN || !(c->stage = aligned_alloc(STAGE_ALIGN, (size_t)stage)))
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY,
                        "%s: cannot allocate %llu bytes of host memory to stage the tensors of "
                        "the plugin layers that run on the host (plugins without enqueue_cuda)",
                        e->what, (unsigned long long)stage);
    c->stage_size = (size_t)stage;
    return O2P_OK;
}

/* The page-locked host memory the shape tensors of data-dependent engine outputs are copied
 * into, when the engine has such outputs. */
static o2p_status dims_buffer(lean_cuda_context *c)
{
    const lean_engine *e = c->e;
    int num_io = e->num_inputs + e->num_outputs, any = 0;
    for (int io = 0; io < num_io; io++)
        any |= e->tensors[e->io[io]].dd_mask != 0;
    if (!any)
        return O2P_OK;
    size_t bytes = (size_t)num_io * O2P_MAX_RANK * sizeof(int64_t);
    void *p = NULL;
    CUresult r = e->cuda->d->cuMemAllocHost(&p, bytes);
    if (r != CUDA_SUCCESS) {
        char rt[200];
        return o2p_fail(driver_status(r),
                        "%s: cannot allocate %zu bytes of page-locked host memory for the shapes "
                        "of the data-dependent outputs: %s",
                        e->what, bytes, cuda_result_text(e->cuda->d, r, rt, sizeof rt));
    }
    c->dims = p;
    memset(c->dims, 0, bytes);
    return O2P_OK;
}

o2p_status lean_cuda_context_create(const lean_engine *e, lean_cuda_context **out)
{
    *out = NULL;
    const struct lean_cuda_engine *ce = e->cuda;
    if (!ce)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "%s: the engine was created tables-only (for inspection): it loaded "
                        "nothing onto a device and makes no execution context",
                        e->what);
    const cuda_driver *d = ce->d;
    char dev[200], rt[200];
    device_text(&ce->dev, dev, sizeof dev);
    CUcontext ctx;
    O2P_TRY(cuda_use_device(DEVICE_ORDINAL, &ctx));
    lean_cuda_context *c = calloc(1, sizeof *c);
    if (!c)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%s: out of memory for an execution context",
                        e->what);
    c->e = e;
    uint64_t size = c->size = lean_engine_context_memory(e);
    c->params = aligned_alloc(16, e->param_bytes + 16);
    if (!c->params) {
        free(c);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%s: out of memory for an execution context",
                        e->what);
    }
    if (c->size) {
        size_t free_bytes = 0, total_bytes = 0;
        CUresult r = d->cuMemGetInfo(&free_bytes, &total_bytes);
        if (r == CUDA_SUCCESS && c->size > free_bytes) {
            lean_cuda_context_destroy(c);
            return o2p_fail(O2P_ERR_OUT_OF_MEMORY,
                            "%s: an execution context needs %llu bytes of device memory (arena "
                            "%llu, workspace %llu), and %s has %llu free",
                            e->what, (unsigned long long)size,
                            (unsigned long long)e->arena_size,
                            (unsigned long long)e->workspace_size, dev,
                            (unsigned long long)free_bytes);
        }
        if (r == CUDA_SUCCESS)
            r = d->cuMemAlloc(&c->mem, (size_t)c->size);
        if (r != CUDA_SUCCESS) {
            c->mem = 0;
            lean_cuda_context_destroy(c);
            return o2p_fail(driver_status(r),
                            "%s: cannot allocate the execution context's %llu bytes of device "
                            "memory on %s: %s",
                            e->what, (unsigned long long)size, dev,
                            cuda_result_text(d, r, rt, sizeof rt));
        }
    }
    /* Every address but the I/O tensors' is known now. */
    uint64_t workspace = c->mem + workspace_offset(e);
    for (int li = 0; li < e->num_layers; li++)
        for (int k = 0; k < e->layers[li].num_launches; k++) {
            const lean_launch *lk = &e->layers[li].launches[k];
            uint8_t *buf = c->params + lk->buf_offset;
            memcpy(buf, lk->params, lk->param_size);
            for (int p = 0; p < lk->num_patches; p++) {
                const lean_patch *pt = &lk->patches[p];
                uint64_t base;
                if (pt->tensor == ENGINE_PATCH_WORKSPACE)
                    base = workspace;
                else if (e->tensors[pt->tensor].storage == ENGINE_STORAGE_ARENA)
                    base = c->mem + e->tensors[pt->tensor].offset;
                else if (e->tensors[pt->tensor].storage == ENGINE_STORAGE_WEIGHTS)
                    base = ce->weights + e->tensors[pt->tensor].offset;
                else
                    continue; /* an I/O tensor: per enqueue */
                put_u64(buf + pt->param_offset, base + pt->byte_offset);
            }
        }
    if (e->libraries) {
        o2p_status st = cuda_libs_context_create(e, ce->cublas, ce->cublaslt, ce->cudnn, &c->libs);
        if (st != O2P_OK) {
            lean_cuda_context_destroy(c);
            return st;
        }
    }
    o2p_status st = plugin_buffers(c);
    if (st == O2P_OK)
        st = dims_buffer(c);
    if (st != O2P_OK) {
        lean_cuda_context_destroy(c);
        return st;
    }
    *out = c;
    return O2P_OK;
}

const int64_t *lean_cuda_output_dims(const lean_cuda_context *c, int io)
{
    const lean_engine *e = c->e;
    if (!c->dims || io < 0 || io >= e->num_inputs + e->num_outputs ||
        !e->tensors[e->io[io]].dd_mask)
        return NULL;
    return c->dims + (size_t)io * O2P_MAX_RANK;
}

uint64_t lean_cuda_context_memory(const lean_cuda_context *c)
{
    return c ? c->mem : 0;
}

static o2p_status launch_failed(const lean_engine *e, int li, int k, const char *call, CUresult r)
{
    const lean_layer *l = &e->layers[li];
    const lean_launch *lk = &l->launches[k];
    char rt[200], what[300];
    if (lk->kind == ENGINE_LAUNCH_KERNEL)
        snprintf(what, sizeof what, "kernel %.60s.%.100s", lk->family, lk->function);
    else
        snprintf(what, sizeof what, "%s", lk->kind == ENGINE_LAUNCH_COPY ? "copy" : "memset");
    return o2p_fail(driver_status(r), "%s: layer %d '%.200s' (%.100s), launch %d (%s): %s: %s",
                    e->what, li, l->name, l->op_type, k, what, call,
                    cuda_result_text(e->cuda->d, r, rt, sizeof rt));
}

/* ---------------------------------------------------------------- plugin layers */

static CUdeviceptr device_address(const lean_cuda_context *c, void *const *bound, int32_t ti)
{
    const lean_tensor *t = &c->e->tensors[ti];
    switch (t->storage) {
    case ENGINE_STORAGE_ARENA: return c->mem + t->offset;
    case ENGINE_STORAGE_WEIGHTS: return c->e->cuda->weights + t->offset;
    default: return (CUdeviceptr)(uintptr_t)bound[t->io_index];
    }
}

/* Tensor ti's type and shape with data at `data` (an omitted one, ti < 0: UNDEFINED, rank 0,
 * no data). */
static void plugin_view(const lean_engine *e, int32_t ti, void *data, o2p_plugin_tensor *v)
{
    memset(v, 0, sizeof *v);
    if (ti < 0)
        return;
    const lean_tensor *t = &e->tensors[ti];
    v->dtype = t->view.dtype;
    v->rank = t->view.rank;
    for (int d = 0; d < t->view.rank; d++)
        v->dims[d] = t->view.dims[d];
    v->data = data;
}

static o2p_status staging_failed(const lean_engine *e, int li, const char *call, CUresult r)
{
    const lean_layer *l = &e->layers[li];
    char rt[200];
    return o2p_fail(driver_status(r),
                    "%s: layer %d '%.200s' (%.100s), the plugin %.100s run on the host (it has "
                    "no enqueue_cuda): %s: %s",
                    e->what, li, l->name, l->op_type, l->plugin_name, call,
                    cuda_result_text(e->cuda->d, r, rt, sizeof rt));
}

/* A plugin layer with enqueue_cuda: device addresses, its workspace at the start of the
 * context's device workspace, the caller's stream. */
static o2p_status run_plugin_cuda(lean_cuda_context *c, void *const *bound, int li,
                                  lean_plugin_cuda_fn fn, CUstream s)
{
    const lean_engine *e = c->e;
    const lean_layer *l = &e->layers[li];
    for (int i = 0; i < l->num_inputs; i++)
        plugin_view(e, l->inputs[i],
                    l->inputs[i] < 0 ? NULL
                                     : (void *)(uintptr_t)device_address(c, bound, l->inputs[i]),
                    &c->plugin_in[i]);
    for (int i = 0; i < l->num_outputs; i++)
        plugin_view(e, l->outputs[i],
                    l->outputs[i] < 0
                        ? NULL
                        : (void *)(uintptr_t)device_address(c, bound, l->outputs[i]),
                    &c->plugin_out[i]);
    void *workspace = l->workspace ? (void *)(uintptr_t)(c->mem + workspace_offset(e)) : NULL;
    char msg[512] = "";
    o2p_plugin_error err = {msg, sizeof msg};
    o2p_status st = fn(l->plugin_data, l->plugin_size, c->plugin_in, l->num_inputs,
                       c->plugin_out, l->num_outputs, workspace, (void *)s, &err);
    msg[sizeof msg - 1] = '\0';
    return st == O2P_OK ? O2P_OK : lean_plugin_failed(e, li, st, msg);
}

/* A plugin layer without enqueue_cuda: its enqueue_host on host copies. The stream is waited
 * for (the layers before wrote the inputs), the inputs copied into the staging memory, the
 * plugin run, the outputs copied back on the stream and the stream waited for again, so that
 * the staging memory may be reused and the layers after read finished outputs. (A plain
 * cuMemcpyHtoD from pageable memory may return before its DMA ends and is not ordered with a
 * non-blocking stream: the copy back goes on the stream instead.) */
static o2p_status run_plugin_staged(lean_cuda_context *c, void *const *bound, int li, CUstream s)
{
    const lean_engine *e = c->e;
    const lean_layer *l = &e->layers[li];
    const cuda_driver *d = e->cuda->d;
    CUresult r = d->cuStreamSynchronize(s);
    if (r != CUDA_SUCCESS)
        return staging_failed(e, li, "cuStreamSynchronize before it", r);
    size_t off = 0;
    for (int i = 0; i < l->num_inputs; i++) {
        int32_t ti = l->inputs[i];
        plugin_view(e, ti, ti < 0 ? NULL : c->stage + off, &c->plugin_in[i]);
        if (ti < 0)
            continue;
        uint64_t n = e->tensors[ti].nbytes;
        if (n && (r = d->cuMemcpyDtoH(c->stage + off, device_address(c, bound, ti), (size_t)n)) !=
                     CUDA_SUCCESS)
            return staging_failed(e, li, "cuMemcpyDtoH of an input", r);
        off += (size_t)stage_bytes(n);
    }
    size_t out_at = off;
    for (int i = 0; i < l->num_outputs; i++) {
        int32_t ti = l->outputs[i];
        plugin_view(e, ti, ti < 0 ? NULL : c->stage + off, &c->plugin_out[i]);
        if (ti >= 0)
            off += (size_t)stage_bytes(e->tensors[ti].nbytes);
    }
    char msg[512] = "";
    o2p_plugin_error err = {msg, sizeof msg};
    o2p_status st = l->plugin->enqueue_host(l->plugin_data, l->plugin_size, c->plugin_in,
                                            l->num_inputs, c->plugin_out, l->num_outputs,
                                            l->workspace ? c->stage + off : NULL, &err);
    msg[sizeof msg - 1] = '\0';
    if (st != O2P_OK)
        return lean_plugin_failed(e, li, st, msg);
    off = out_at;
    for (int i = 0; i < l->num_outputs; i++) {
        int32_t ti = l->outputs[i];
        if (ti < 0)
            continue;
        uint64_t n = e->tensors[ti].nbytes;
        if (n && (r = d->cuMemcpyHtoDAsync(device_address(c, bound, ti), c->stage + off,
                                           (size_t)n, s)) != CUDA_SUCCESS)
            return staging_failed(e, li, "cuMemcpyHtoDAsync of an output", r);
        off += (size_t)stage_bytes(n);
    }
    if ((r = d->cuStreamSynchronize(s)) != CUDA_SUCCESS)
        return staging_failed(e, li, "cuStreamSynchronize after it", r);
    return O2P_OK;
}

static o2p_status run_plugin(lean_cuda_context *c, void *const *bound, int li, CUstream s)
{
    const lean_layer *l = &c->e->layers[li];
    lean_plugin_cuda_fn fn = lean_plugin_enqueue_cuda(l->plugin);
    return fn ? run_plugin_cuda(c, bound, li, fn, s) : run_plugin_staged(c, bound, li, s);
}

/* ---------------------------------------------------------------- enqueue */

static o2p_status enqueue_constant_outputs(lean_cuda_context *c, void *const *bound, CUstream s);

o2p_status lean_cuda_enqueue(lean_cuda_context *c, void *const *bound, void *stream)
{
    const lean_engine *e = c->e;
    const struct lean_cuda_engine *ce = e->cuda;
    CUstream s = (CUstream)stream;
    CUcontext ctx;
    O2P_TRY(cuda_use_device(DEVICE_ORDINAL, &ctx));
    for (int i = 0; i < ce->num_io_patches; i++) {
        const io_patch *p = &ce->io_patches[i];
        put_u64(c->params + p->at, (uint64_t)(uintptr_t)bound[p->io] + p->byte_offset);
    }
    c->bound = bound;
    O2P_TRY(lean_cuda_enqueue_layers(c, stream, 0, e->num_layers));
    return enqueue_constant_outputs(c, bound, s);
}

/* After layer li: the actual dims of its data-dependent engine outputs, from their shape
 * tensors into the context's host memory, on the stream. Right after the layer, so that the
 * arena bytes of a shape tensor may be reused by the layers after it. */
static o2p_status copy_output_dims(lean_cuda_context *c, int li, CUstream s)
{
    const lean_engine *e = c->e;
    const lean_layer *l = &e->layers[li];
    for (int k = 0; k < l->num_outputs; k++) {
        int32_t ti = l->outputs[k];
        if (ti < 0 || !e->tensors[ti].dd_mask || e->tensors[ti].io_index < 0 || !c->dims)
            continue;
        const lean_tensor *t = &e->tensors[ti];
        const lean_tensor *st = &e->tensors[t->shape_tensor];
        CUresult r = e->cuda->d->cuMemcpyDtoHAsync(c->dims + (size_t)t->io_index * O2P_MAX_RANK,
                                                   c->mem + st->offset, (size_t)st->nbytes, s);
        if (r != CUDA_SUCCESS) {
            char rt[200];
            return o2p_fail(driver_status(r),
                            "%s: layer %d '%.200s' (%.100s): copying the shape of output "
                            "'%.200s' to the host: cuMemcpyDtoHAsync: %s",
                            e->what, li, l->name, l->op_type, t->name,
                            cuda_result_text(e->cuda->d, r, rt, sizeof rt));
        }
    }
    return O2P_OK;
}

o2p_status lean_cuda_enqueue_layers(lean_cuda_context *c, void *stream, int first, int end)
{
    const lean_engine *e = c->e;
    const struct lean_cuda_engine *ce = e->cuda;
    const cuda_driver *d = ce->d;
    CUstream s = (CUstream)stream;
    for (int li = first; li < end; li++) {
        const lean_layer *l = &e->layers[li];
        if (l->num_bodies) { /* control flow runs its bodies, the layers after it */
            O2P_TRY(lean_control_enqueue_cuda(c, li, stream));
            li += l->body_layers;
            continue;
        }
        if (l->is_plugin) {
            O2P_TRY(run_plugin(c, c->bound, li, s));
            continue;
        }
        for (int k = 0; k < l->num_launches; k++) {
            const lean_launch *lk = &l->launches[k];
            uint8_t *buf = c->params + lk->buf_offset;
            CUresult r = CUDA_SUCCESS;
            const char *call = "";
            switch (lk->kind) {
            case ENGINE_LAUNCH_KERNEL: {
                size_t size = lk->param_size;
                void *extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, buf, CU_LAUNCH_PARAM_BUFFER_SIZE,
                                 &size, CU_LAUNCH_PARAM_END};
                call = "cuLaunchKernel";
                r = d->cuLaunchKernel(ce->fns[lk->index], lk->grid[0], lk->grid[1], lk->grid[2],
                                      lk->block[0], lk->block[1], lk->block[2], lk->smem, s, NULL,
                                      size ? extra : NULL);
                break;
            }
            case ENGINE_LAUNCH_COPY:
                call = "cuMemcpyDtoDAsync";
                if (get_u64(buf + 16))
                    r = d->cuMemcpyDtoDAsync(get_u64(buf), get_u64(buf + 8),
                                             (size_t)get_u64(buf + 16), s);
                break;
            case ENGINE_LAUNCH_CUBLAS_GEMM:
            case ENGINE_LAUNCH_CUBLASLT_MATMUL:
            case ENGINE_LAUNCH_CUDNN_CONV:
                O2P_TRY(cuda_libs_enqueue(c->libs, li, k, buf, s));
                break;
            default:
                call = "cuMemsetD8Async";
                if (get_u64(buf + 8))
                    r = d->cuMemsetD8Async(get_u64(buf), (unsigned char)get_u64(buf + 16),
                                           (size_t)get_u64(buf + 8), s);
                break;
            }
            if (r != CUDA_SUCCESS)
                return launch_failed(e, li, k, call, r);
        }
        O2P_TRY(copy_output_dims(c, li, s));
    }
    return O2P_OK;
}

/* Outputs the builder folded to constants: from the weights on the device. */
static o2p_status enqueue_constant_outputs(lean_cuda_context *c, void *const *bound, CUstream s)
{
    const lean_engine *e = c->e;
    const struct lean_cuda_engine *ce = e->cuda;
    const cuda_driver *d = ce->d;
    for (int io = e->num_inputs; io < e->num_inputs + e->num_outputs; io++) {
        const lean_tensor *t = &e->tensors[e->io[io]];
        if (t->storage != ENGINE_STORAGE_WEIGHTS || !t->nbytes)
            continue;
        CUresult r = d->cuMemcpyDtoDAsync((CUdeviceptr)(uintptr_t)bound[io],
                                          ce->weights + t->offset, (size_t)t->nbytes, s);
        if (r != CUDA_SUCCESS) {
            char rt[200];
            return o2p_fail(driver_status(r),
                            "%s: engine output '%.200s' (a constant): cuMemcpyDtoDAsync: %s",
                            e->what, t->name, cuda_result_text(d, r, rt, sizeof rt));
        }
    }
    return O2P_OK;
}

o2p_status lean_cuda_sync(const lean_engine *e, void *stream)
{
    const struct lean_cuda_engine *ce = e->cuda;
    CUcontext ctx;
    O2P_TRY(cuda_use_device(DEVICE_ORDINAL, &ctx));
    CUresult r = ce->d->cuStreamSynchronize((CUstream)stream);
    if (r != CUDA_SUCCESS) {
        char rt[200];
        return o2p_fail(driver_status(r), "%s: running the engine on the GPU failed: %s",
                        e->what, cuda_result_text(ce->d, r, rt, sizeof rt));
    }
    return O2P_OK;
}

uint64_t lean_cuda_tensor_address(const lean_cuda_context *c, int tensor)
{
    return device_address(c, c->bound, tensor); /* bound: set by the enqueue in progress */
}

const lean_engine *lean_cuda_context_engine(const lean_cuda_context *c)
{
    return c->e;
}

const struct cuda_driver *lean_cuda_driver_of(const lean_engine *e)
{
    return e->cuda ? e->cuda->d : NULL;
}
