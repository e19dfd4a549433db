/* runtime.h: the full runtime's checks (DESIGN.md §5), shared by o2p_runtime_* and
 * `onnx2plan check`, which prints each one. */
#ifndef O2P_RUNTIME_H
#define O2P_RUNTIME_H

#include "plan/plan.h"

/* Called once per check with its name, whether it passed, and a line that explains it. */
typedef void (*rt_report_fn)(void *user, const char *check, int ok, const char *detail);

/* Reads the container and runs every check that applies to this machine. Stops at the first
 * failure (its message is the error); *view is filled when the container is readable. */
o2p_status rt_check_plan(const void *plan, size_t size, const char *name, plan_view *view,
                         rt_report_fn report, void *user);

/* Memory this machine can give (bytes), from /proc/meminfo's MemAvailable; 0 if unknown. */
uint64_t rt_available_memory(void);

#endif
