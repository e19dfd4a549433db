/* loader.c: loading a lean runtime library (DESIGN.md §6): from a plan's bytes through a
 * sealed in-memory file or a private temporary file, or from a path given by the caller.
 * What is loaded is host code: the callers gate it (o2p_runtime_set_engine_host_code_allowed). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/runtime.h"

static o2p_status write_all(int fd, const void *bytes, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, (const char *)bytes + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return O2P_ERR_IO;
        done += (size_t)n;
    }
    return O2P_OK;
}

/* CRC32C of what the file holds now: the bytes dlopen will map. */
static int file_crc(int fd, size_t size, uint32_t *crc)
{
    unsigned char buf[65536];
    uint32_t c = 0;
    size_t done = 0;
    while (done < size) {
        size_t want = size - done < sizeof buf ? size - done : sizeof buf;
        ssize_t n = pread(fd, buf, want, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        c = o2p_crc32c(c, buf, (size_t)n);
        done += (size_t)n;
    }
    *crc = c;
    return 1;
}

/* Looks up the entry and checks the table. */
static o2p_status open_library(void *handle, const char *what, rt_lean_lib **out)
{
    o2p_lean_entry_fn entry = (o2p_lean_entry_fn)dlsym(handle, O2P_LEAN_ENTRY_SYMBOL);
    if (!entry) {
        dlclose(handle);
        return o2p_fail(O2P_ERR_PARSE, "%s: not a lean runtime library (no %s)", what,
                        O2P_LEAN_ENTRY_SYMBOL);
    }
    const o2p_lean_api *api = entry(O2P_LEAN_ABI_VERSION);
    /* The table only grows: a lean runtime of this ABI has at least the first version's
     * fields (up to context_execute); newer fields are used only where `size` covers them. */
    if (!api || api->size < offsetof(o2p_lean_api, engine_create_ex)) {
        dlclose(handle);
        return o2p_fail(O2P_ERR_UNSUPPORTED,
                        "%s: the lean runtime does not serve lean ABI version %u (onnx2plan %s)",
                        what, O2P_LEAN_ABI_VERSION, o2p_version());
    }
    rt_lean_lib *lib = calloc(1, sizeof *lib);
    if (!lib) {
        dlclose(handle);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    }
    lib->handle = handle;
    lib->api = api;
    lib->version.major = (uint16_t)api->version_major;
    lib->version.minor = (uint16_t)api->version_minor;
    lib->version.patch = (uint16_t)api->version_patch;
    lib->version.build = (uint16_t)api->version_build;
    lib->refs = 1;
    lib->fd = -1;
    *out = lib;
    return O2P_OK;
}

/* The memfd stays open while the library is loaded: dlopen knows objects by name, and a
 * closed descriptor's number (so its /proc/self/fd/N name) comes back for the next file. */
static o2p_status load_memfd(const void *bytes, size_t size, uint32_t crc, const char *what,
                             void **handle, int *out_fd)
{
    int fd = memfd_create("o2p-lean-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return o2p_fail(O2P_ERR_IO, "%s: no in-memory file (memfd_create: %s)", what,
                        strerror(errno));
    uint32_t got = 0;
    o2p_status st = O2P_OK;
    if (write_all(fd, bytes, size) != O2P_OK ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
        st = o2p_fail(O2P_ERR_IO, "%s: writing and sealing the in-memory file failed: %s", what,
                      strerror(errno));
    else if (!file_crc(fd, size, &got) || got != crc)
        st = o2p_fail(O2P_ERR_PARSE, "%s: the lean runtime's bytes do not match the plan's "
                      "checksum once written; not loaded", what);
    if (st == O2P_OK) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!*handle)
            st = o2p_fail(O2P_ERR_IO, "%s: loading a library from an in-memory file "
                          "failed: %s", what, dlerror());
    }
    if (st == O2P_OK)
        *out_fd = fd;
    else
        close(fd);
    return st;
}

static o2p_status load_tempfile(const char *dir, const void *bytes, size_t size, uint32_t crc,
                                const char *what, void **handle)
{
    char folder[4096], path[4200];
    if (snprintf(folder, sizeof folder, "%s/o2p-lean-XXXXXX", dir) >= (int)sizeof folder)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT, "%s: temporary directory path too long", what);
    if (!mkdtemp(folder)) /* mode 0700 */
        return o2p_fail(O2P_ERR_IO, "%s: cannot create a private folder in the temporary "
                        "directory %s: %s", what, dir, strerror(errno));
    snprintf(path, sizeof path, "%s/libo2p_lean.so", folder);
    o2p_status st = O2P_OK;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        st = o2p_fail(O2P_ERR_IO, "%s: cannot create %s: %s", what, path, strerror(errno));
    } else {
        uint32_t got = 0;
        if (write_all(fd, bytes, size) != O2P_OK || fsync(fd) != 0)
            st = o2p_fail(O2P_ERR_IO, "%s: writing %s failed: %s", what, path, strerror(errno));
        else if (!file_crc(fd, size, &got) || got != crc)
            st = o2p_fail(O2P_ERR_PARSE, "%s: the lean runtime's bytes do not match the plan's "
                          "checksum once written; not loaded", what);
        close(fd);
        if (st == O2P_OK) {
            *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (!*handle)
                st = o2p_fail(O2P_ERR_IO, "%s: loading the lean runtime from the temporary file "
                              "%s failed (a noexec file system?): %s", what, path, dlerror());
        }
        unlink(path);
    }
    rmdir(folder);
    return st;
}

o2p_status rt_load_bytes(const o2p_runtime *rt, const void *bytes, size_t size, uint32_t crc,
                         const char *what, void **out_handle, const char **out_how, int *out_fd)
{
    *out_fd = -1;
    int in_memory = (rt->tempfile_flags & O2P_TEMPFILE_ALLOW_IN_MEMORY_FILES) != 0;
    int temporary = (rt->tempfile_flags & O2P_TEMPFILE_ALLOW_TEMPORARY_FILES) != 0;
    if (!in_memory && !temporary)
        return o2p_fail(O2P_ERR_INVALID_ARGUMENT,
                        "%s: the plan's lean runtime cannot be loaded: both in-memory files and "
                        "temporary files are denied (o2p_runtime_set_tempfile_control_flags; CLI "
                        "--tempfile-controls in_memory:allow or temporary:allow)",
                        what);
    void *handle = NULL;
    const char *how = NULL;
    char first_error[1024] = "";
    if (in_memory) {
        if (load_memfd(bytes, size, crc, what, &handle, out_fd) == O2P_OK)
            how = "in-memory file";
        else
            snprintf(first_error, sizeof first_error, "%s", o2p_last_error());
    }
    if (!handle && temporary) {
        const char *dir = rt->tempdir;
        if (!dir || !*dir)
            dir = getenv("TMPDIR");
        if (!dir || !*dir)
            dir = "/tmp";
        if (load_tempfile(dir, bytes, size, crc, what, &handle) == O2P_OK)
            how = "temporary file";
        else if (first_error[0])
            o2p_error_prefix("%s; then", first_error);
    }
    if (!handle) {
        if (!temporary)
            return o2p_fail(O2P_ERR_IO, "%s; temporary files are denied "
                            "(--tempfile-controls temporary:allow would try one)", first_error);
        return O2P_ERR_IO;
    }
    *out_handle = handle;
    *out_how = how;
    return O2P_OK;
}

o2p_status rt_lean_load_bytes(const o2p_runtime *rt, const void *bytes, size_t size,
                              uint32_t crc, const char *what, rt_lean_lib **out)
{
    void *handle = NULL;
    const char *how = NULL;
    int fd = -1;
    O2P_TRY(rt_load_bytes(rt, bytes, size, crc, what, &handle, &how, &fd));
    o2p_status st = open_library(handle, what, out);
    if (st != O2P_OK) {
        if (fd >= 0)
            close(fd);
        return st;
    }
    (*out)->fd = fd;
    snprintf((*out)->origin, sizeof (*out)->origin, "embedded %u.%u.%u.%u (%s)",
             (*out)->version.major, (*out)->version.minor, (*out)->version.patch,
             (*out)->version.build, how);
    return O2P_OK;
}

o2p_status rt_lean_load_path(const char *path, rt_lean_lib **out)
{
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        return o2p_fail(O2P_ERR_IO, "cannot load the lean runtime %s: %s", path, dlerror());
    O2P_TRY(open_library(handle, path, out));
    snprintf((*out)->origin, sizeof (*out)->origin, "loaded %u.%u.%u.%u from %s",
             (*out)->version.major, (*out)->version.minor, (*out)->version.patch,
             (*out)->version.build, path);
    return O2P_OK;
}

/* Engines of one library may be destroyed on different threads. */
void rt_lean_lib_retain(rt_lean_lib *lib)
{
    if (lib)
        __atomic_add_fetch(&lib->refs, 1, __ATOMIC_RELAXED);
}

void rt_lean_lib_release(rt_lean_lib *lib)
{
    if (!lib || __atomic_sub_fetch(&lib->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    dlclose(lib->handle);
    if (lib->fd >= 0)
        close(lib->fd);
    free(lib);
}
