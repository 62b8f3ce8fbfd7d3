#ifndef TESSERA_PNG_CLEAN_H
#define TESSERA_PNG_CLEAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A PNG decoded and encoded again from its pixels, in a confined child
 * process (png-clean.c). Start it on the bytes; read *fd (non-blocking)
 * to its end; then the result. The caller kills the child (its pid) if it
 * takes too long; SIGCHLD's handler reaps it. -1 on failure (logged).
 */
pid_t tessera_png_clean_start(const uint8_t *bytes, size_t len, int *fd);
/* The child's whole output: true with the new PNG inside it, else why. */
bool tessera_png_clean_result(const uint8_t *out, size_t out_len, const uint8_t **png,
	size_t *png_len, const char **why);

#endif
