/*
 * What every fuzz target (fuzz-*.c) shares: the libFuzzer entry point,
 * also called by fuzz-main.c when the seeds are replayed without
 * libFuzzer, and CHECK(), which crashes on a broken invariant so that the
 * fuzzer records the input (unlike tests/lib's CHECK, which counts and
 * goes on).
 */
#ifndef TESSERA_TESTS_FUZZ_FUZZ_TARGET_H
#define TESSERA_TESTS_FUZZ_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
