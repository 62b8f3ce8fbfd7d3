/*
 * Helpers shared by the codec's source files. Not installed, not for users.
 */
#ifndef TESSERA_WIRE_PRIVATE_H
#define TESSERA_WIRE_PRIVATE_H

#include <stdint.h>

#include "tessera-wire.h"

/* Explicit little-endian loads and stores, byte by byte: no alignment or
 * host byte order assumptions. */
static inline uint16_t wire_get16(const uint8_t *p) {
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t wire_get32(const uint8_t *p) {
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		(uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t wire_get64(const uint8_t *p) {
	return (uint64_t)wire_get32(p) | (uint64_t)wire_get32(p + 4) << 32;
}

static inline void wire_put16(uint8_t *p, uint16_t v) {
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void wire_put32(uint8_t *p, uint32_t v) {
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void wire_put64(uint8_t *p, uint64_t v) {
	wire_put32(p, (uint32_t)v);
	wire_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t wire_align8(uint64_t v) {
	return (v + 7) & ~(uint64_t)7;
}

/* Fills err (if not NULL) and returns code. */
static inline enum tessera_wire_error_code wire_fail(struct tessera_wire_error *err,
		enum tessera_wire_error_code code, uint16_t type, const char *field,
		const char *reason) {
	if (err != NULL) {
		err->code = code;
		err->field = field;
		err->reason = reason;
		err->type = type;
		err->offset = 0;
	}
	return code;
}

#endif
