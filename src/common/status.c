/* status.c: o2p_status names, the thread-local last error, and the logger. */
#include <stdio.h>
#include <string.h>

#include "common/common.h"

#define O2P_ERROR_MAX 2048

static _Thread_local char last_error[O2P_ERROR_MAX];

static o2p_log_fn log_fn;
static void *log_user;
static o2p_severity log_max = O2P_SEVERITY_WARNING;

const char *o2p_status_name(o2p_status status)
{
    switch (status) {
    case O2P_OK: return "O2P_OK";
    case O2P_ERR_INVALID_ARGUMENT: return "O2P_ERR_INVALID_ARGUMENT";
    case O2P_ERR_IO: return "O2P_ERR_IO";
    case O2P_ERR_PARSE: return "O2P_ERR_PARSE";
    case O2P_ERR_UNSUPPORTED: return "O2P_ERR_UNSUPPORTED";
    case O2P_ERR_OUT_OF_MEMORY: return "O2P_ERR_OUT_OF_MEMORY";
    case O2P_ERR_LIMIT: return "O2P_ERR_LIMIT";
    case O2P_ERR_SHAPE: return "O2P_ERR_SHAPE";
    case O2P_ERR_SECURITY: return "O2P_ERR_SECURITY";
    case O2P_ERR_INTERNAL: return "O2P_ERR_INTERNAL";
    }
    return "O2P_ERR_UNKNOWN";
}

const char *o2p_last_error(void)
{
    return last_error;
}

void o2p_clear_error(void)
{
    last_error[0] = '\0';
}

void o2p_set_logger(o2p_log_fn fn, void *user, o2p_severity max_severity)
{
    log_fn = fn;
    log_user = user;
    log_max = fn ? max_severity : O2P_SEVERITY_WARNING;
}

static void deliver(o2p_severity severity, const char *msg)
{
    if (severity > log_max)
        return;
    if (log_fn) {
        log_fn(log_user, severity, msg);
        return;
    }
    /* The default logger stays quiet about errors: they are returned to the caller, who
     * decides whether to print them (the CLI does). */
    if (severity == O2P_SEVERITY_WARNING)
        fprintf(stderr, "onnx2plan: warning: %s\n", msg);
}

o2p_status o2p_vfail(o2p_status status, const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    deliver(O2P_SEVERITY_ERROR, last_error);
    return status;
}

o2p_status o2p_fail(o2p_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    o2p_vfail(status, fmt, ap);
    va_end(ap);
    return status;
}

void o2p_error_prefix(const char *fmt, ...)
{
    char prefix[512];
    char old[O2P_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    snprintf(last_error, sizeof last_error, "%s: %s", prefix, old);
}

void o2p_log(o2p_severity severity, const char *fmt, ...)
{
    char msg[O2P_ERROR_MAX];
    va_list ap;
    if (severity > log_max)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    deliver(severity, msg);
}

const char *o2p_version(void)
{
    return O2P_VERSION_STRING;
}

long o2p_version_number(void)
{
    return O2P_VERSION_NUMBER;
}
