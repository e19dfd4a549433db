/* fuzz_common.c: helpers shared by the fuzz targets. */
#include "fuzz.h"
#include "o2p/o2p.h"

static void quiet(void *user, o2p_severity s, const char *m)
{
    (void)user;
    (void)s;
    (void)m;
}

void fuzz_quiet(void)
{
    o2p_set_logger(quiet, NULL, O2P_SEVERITY_ERROR);
}
