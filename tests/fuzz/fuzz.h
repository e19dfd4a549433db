/* fuzz.h: what every fuzz target of tests/fuzz defines. Each target is built twice: with
 * libFuzzer (clang -fsanitize=fuzzer, O2P_FUZZ=ON) to search, and with replay.c's main() (gcc,
 * ASan + UBSan) to run its committed corpus and every input that ever failed, in scripts/test. */
#ifndef O2P_FUZZ_H
#define O2P_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A logger that drops everything (hostile inputs make many warnings). */
void fuzz_quiet(void);

#endif
