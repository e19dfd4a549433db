/* file.c: reading whole files with clear errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"

o2p_status o2p_read_file(const char *path, size_t max_size, void **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    /* O_NONBLOCK: opening a FIFO without a writer must not hang; it is refused below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return o2p_fail(O2P_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return o2p_fail(O2P_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return o2p_fail(O2P_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_size) {
        close(fd);
        return o2p_fail(O2P_ERR_LIMIT, "%s: file is %lld bytes, more than the limit of %zu",
                        path, (long long)st.st_size, max_size);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return o2p_fail(O2P_ERR_OUT_OF_MEMORY, "%s: out of memory reading %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            free(buf);
            close(fd);
            return o2p_fail(O2P_ERR_IO, "%s: read failed after %zu of %zu bytes%s%s", path, got,
                            n, e ? ": " : " (file shrank)", e ? strerror(e) : "");
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *size = n;
    return O2P_OK;
}
