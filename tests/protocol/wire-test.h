/*
 * Shared by the wire codec tests: the checks of tests/lib (CHECK, CHECK_EQ,
 * CHECK_STR, test_finish) and little-endian helpers written independently
 * of the codec (to build expected bytes from the layouts in PROTOCOL.md).
 */
#ifndef TESSERA_WIRE_TEST_H
#define TESSERA_WIRE_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tessera-test.h"
#include "tessera-wire.h"

static inline void le_put(uint8_t *p, size_t width, uint64_t v) {
	for (size_t i = 0; i < width; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static inline uint64_t le_get(const uint8_t *p, size_t width) {
	uint64_t v = 0;
	for (size_t i = 0; i < width; i++) {
		v |= (uint64_t)p[i] << (8 * i);
	}
	return v;
}

static inline void hexdump(const char *label, const uint8_t *p, size_t len) {
	fprintf(stderr, "  %s (%zu bytes):", label, len);
	for (size_t i = 0; i < len; i++) {
		fprintf(stderr, "%s%02x", i % 16 == 0 ? "\n    " : " ", p[i]);
	}
	fprintf(stderr, "\n");
}

#endif
