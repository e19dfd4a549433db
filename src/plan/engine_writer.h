/* engine_writer.h: serializes the builder's engine description into an ENGINE section
 * (layout: engine_format.h). */
#ifndef O2P_ENGINE_WRITER_H
#define O2P_ENGINE_WRITER_H

#include "builder/builder.h"

/* The ENGINE section's bytes (*out malloc'ed, *size its length). Deterministic: the same
 * engine gives the same bytes. */
o2p_status plan_write_engine(const build_engine *engine, uint8_t **out, size_t *size);

#endif
