/*
 * Minimal test harness shared by the wire codec tests: CHECK macros that
 * count and report failures without stopping, and little-endian helpers
 * written independently of the codec (to build expected bytes from the
 * layouts in PROTOCOL.md).
 */
#ifndef TESSERA_WIRE_TEST_H
#define TESSERA_WIRE_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tessera-wire.h"

static int test_failures;
static int test_checks;

static inline bool test_check(bool ok, const char *file, int line, const char *what) {
	test_checks++;
	if (!ok) {
		test_failures++;
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	}
	return ok;
}

#define CHECK(cond) test_check((cond), __FILE__, __LINE__, #cond)

static inline bool test_check_eq(uint64_t a, uint64_t b, const char *file, int line,
		const char *what) {
	bool ok = test_check(a == b, file, line, what);
	if (!ok) {
		fprintf(stderr, "  got %" PRIu64 " (0x%" PRIx64 "), expected %" PRIu64
			" (0x%" PRIx64 ")\n", a, a, b, b);
	}
	return ok;
}

static inline bool test_check_str(const char *a, const char *b, const char *file,
		int line, const char *what) {
	bool ok = test_check(a != NULL && b != NULL && strcmp(a, b) == 0, file, line, what);
	if (!ok) {
		fprintf(stderr, "  got \"%s\", expected \"%s\"\n", a ? a : "(null)",
			b ? b : "(null)");
	}
	return ok;
}

/* Both are expressions returning whether the check passed. */
#define CHECK_EQ(a, b) \
	test_check_eq((uint64_t)(a), (uint64_t)(b), __FILE__, __LINE__, #a " == " #b)
#define CHECK_STR(a, b) test_check_str((a), (b), __FILE__, __LINE__, #a " == " #b)

static inline int test_finish(const char *name) {
	printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
	return test_failures == 0 ? 0 : 1;
}

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
