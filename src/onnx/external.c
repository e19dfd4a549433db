/* external.c: reading tensors stored outside the model file (data_location = EXTERNAL).
 * External data paths come from the model, so they are hostile input: this is the one
 * function that opens them, and it refuses every way out of the model's folder. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx/onnx.h"
#include "onnx.pb-c.h"

/* Parses a decimal without sign, spaces or overflow. */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}

/* Refuses absolute locations and any `..` component (also in the middle: a/../x). */
static int location_is_safe(const char *loc)
{
    if (loc[0] == '/')
        return 0;
    const char *p = loc;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return 0;
        if (!slash)
            break;
        p = slash + 1;
    }
    return 1;
}

o2p_status onnx_read_external(const char *base_dir, const Onnx__TensorProto *tp,
                              const char *tensor_name, size_t nbytes, ir_network *net,
                              void **out)
{
    void *dst = NULL;
    *out = NULL;
    const char *location = NULL;
    const char *offset_s = NULL, *length_s = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        if (!e->key)
            continue;
        if (strcmp(e->key, "location") == 0)
            location = e->value;
        else if (strcmp(e->key, "offset") == 0)
            offset_s = e->value;
        else if (strcmp(e->key, "length") == 0)
            length_s = e->value;
    }
    if (!location || !*location)
        return o2p_fail(O2P_ERR_PARSE,
                        "tensor '%s': external data without a 'location' entry", tensor_name);
    if (strlen(location) > ONNX_MAX_EXTERNAL_PATH)
        return o2p_fail(O2P_ERR_LIMIT, "tensor '%s': external data location is too long",
                        tensor_name);
    if (!base_dir)
        return o2p_fail(O2P_ERR_PARSE,
                        "tensor '%s': its data is in external file '%s', but the model was "
                        "given as bytes without a base directory; use o2p_parser_parse_file or "
                        "pass base_dir",
                        tensor_name, location);
    if (!location_is_safe(location))
        return o2p_fail(O2P_ERR_SECURITY,
                        "tensor '%s': external data location '%s' is refused: it must be a "
                        "relative path inside the model's folder, without '..'",
                        tensor_name, location);
    uint64_t offset = 0, length = nbytes;
    if (offset_s && !parse_u64(offset_s, &offset))
        return o2p_fail(O2P_ERR_PARSE,
                        "tensor '%s': external data offset '%s' is not a non-negative integer",
                        tensor_name, offset_s);
    if (length_s && !parse_u64(length_s, &length))
        return o2p_fail(O2P_ERR_PARSE,
                        "tensor '%s': external data length '%s' is not a non-negative integer",
                        tensor_name, length_s);
    if (length != nbytes)
        return o2p_fail(O2P_ERR_PARSE,
                        "tensor '%s': external data length is %llu bytes but its type and "
                        "shape need %zu",
                        tensor_name, (unsigned long long)length, nbytes);

    o2p_status st = O2P_OK;
    char *path = NULL, *real_base = NULL, *real_path = NULL;
    int fd = -1;
    size_t plen = strlen(base_dir) + strlen(location) + 2;
    path = malloc(plen);
    if (!path)
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "out of memory");
    snprintf(path, plen, "%s/%s", base_dir, location);

    struct stat lst, st_path, st_fd;
    if (lstat(path, &lst) != 0) {
        st = o2p_fail(O2P_ERR_IO, "tensor '%s': external data file '%s' cannot be opened: %s",
                      tensor_name, path, strerror(errno));
        goto out;
    }
    if (S_ISLNK(lst.st_mode)) {
        st = o2p_fail(O2P_ERR_SECURITY,
                      "tensor '%s': external data file '%s' is a symbolic link; refused (copy "
                      "the data into the model's folder)",
                      tensor_name, location);
        goto out;
    }
    real_base = realpath(base_dir, NULL);
    real_path = realpath(path, NULL);
    if (!real_base || !real_path) {
        st = o2p_fail(O2P_ERR_IO, "tensor '%s': cannot resolve external data path '%s': %s",
                      tensor_name, path, strerror(errno));
        goto out;
    }
    size_t bl = strlen(real_base);
    int inside = strncmp(real_path, real_base, bl) == 0 &&
                 (real_path[bl] == '/' || (bl == 1 && real_base[0] == '/'));
    if (!inside) {
        st = o2p_fail(O2P_ERR_SECURITY,
                      "tensor '%s': external data location '%s' resolves to '%s', outside the "
                      "model's folder '%s' (through a symbolic link); refused",
                      tensor_name, location, real_path, real_base);
        goto out;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        st = o2p_fail(errno == ELOOP ? O2P_ERR_SECURITY : O2P_ERR_IO,
                      "tensor '%s': external data file '%s' cannot be opened: %s", tensor_name,
                      path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st_fd) != 0 || stat(real_path, &st_path) != 0) {
        st = o2p_fail(O2P_ERR_IO, "tensor '%s': cannot stat external data file '%s': %s",
                      tensor_name, path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st_fd.st_mode)) {
        st = o2p_fail(O2P_ERR_SECURITY,
                      "tensor '%s': external data '%s' is not a regular file; refused",
                      tensor_name, location);
        goto out;
    }
    /* The file opened must be the one checked above (no swap in between). */
    if (st_fd.st_dev != st_path.st_dev || st_fd.st_ino != st_path.st_ino) {
        st = o2p_fail(O2P_ERR_SECURITY,
                      "tensor '%s': external data file '%s' changed while it was opened; "
                      "refused",
                      tensor_name, location);
        goto out;
    }
    if (st_fd.st_nlink != 1) {
        st = o2p_fail(O2P_ERR_SECURITY,
                      "tensor '%s': external data file '%s' has %lu hard links; refused (a "
                      "hard link can expose a file from outside the model's folder: copy it "
                      "instead)",
                      tensor_name, location, (unsigned long)st_fd.st_nlink);
        goto out;
    }
    uint64_t file_size = (uint64_t)st_fd.st_size;
    if (offset > file_size || length > file_size - offset) {
        st = o2p_fail(O2P_ERR_PARSE,
                      "tensor '%s': external data range [%llu, %llu + %llu) is outside file "
                      "'%s' of %llu bytes",
                      tensor_name, (unsigned long long)offset, (unsigned long long)offset,
                      (unsigned long long)length, location, (unsigned long long)file_size);
        goto out;
    }
    dst = ir_network_alloc_data(net, nbytes);
    if (!dst) {
        st = o2p_fail(O2P_ERR_OUT_OF_MEMORY, "tensor '%s': out of memory for %zu bytes",
                      tensor_name, nbytes);
        goto out;
    }
    size_t got = 0;
    while (got < nbytes) {
        ssize_t r = pread(fd, (char *)dst + got, nbytes - got, (off_t)(offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            st = o2p_fail(O2P_ERR_IO, "tensor '%s': reading external data file '%s' failed%s%s",
                          tensor_name, location, r < 0 ? ": " : " (file shrank)",
                          r < 0 ? strerror(errno) : "");
            goto out;
        }
        got += (size_t)r;
    }
    *out = dst;
out:
    if (fd >= 0)
        close(fd);
    free(path);
    free(real_base);
    free(real_path);
    return st;
}
