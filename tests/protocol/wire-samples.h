/*
 * Sample messages: one valid message of every type with its expected bytes
 * (from the layouts in protocol/PROTOCOL.md, built without the codec).
 */
#ifndef TESSERA_WIRE_SAMPLES_H
#define TESSERA_WIRE_SAMPLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tessera-wire.h"

struct wire_bytes {
	uint8_t bytes[TESSERA_WIRE_MAX_MESSAGE_SIZE];
	size_t len;
};

extern const uint16_t wire_request_types[];
extern const size_t wire_request_type_count;
extern const uint16_t wire_event_types[];
extern const size_t wire_event_type_count;

/* Fills m and e for type; false for an unknown type. */
bool wire_sample(uint16_t type, struct tessera_wire_msg *m, struct wire_bytes *e);

#endif
