/* fake_log.h: the fake libraries' call log: every call of interest appended as a line to
 * the file $FAKE_CUDA_LOG (shared with fake_cuda.c), for the tests to read back. */
#ifndef O2P_FAKE_LOG_H
#define O2P_FAKE_LOG_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void fake_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fake_log(const char *fmt, ...)
{
    const char *path = getenv("FAKE_CUDA_LOG");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

#define EXPORT __attribute__((visibility("default")))

#endif
