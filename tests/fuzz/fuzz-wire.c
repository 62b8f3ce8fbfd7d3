/*
 * libFuzzer target for the wire codec (protocol/wire). The first input
 * byte selects what the rest is fed to:
 *
 *   0  a request batch (what tessera-vmd decodes from a guest)
 *   1  an event batch (what the agent decodes from the ring)
 *   2  a ring image read by the guest's ring reader (head from the input)
 *   3  a script of host writes interleaved with a malicious guest that
 *      scribbles the tail and the ring contents
 *   4  a string for the sanitizer and the validator
 *
 * Besides the sanitizers, it traps when an invariant breaks: every decoded
 * message re-encodes to exactly its input bytes (canonical encoding, so no
 * byte is ignored by the validation), the reader never goes past the end,
 * the ring writer never lets more than the data size be outstanding, and
 * sanitized strings are valid.
 *
 * Built with clang -fsanitize=fuzzer by run-fuzz.sh, and with the project
 * compiler together with fuzz-main.c to replay the committed corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-target.h"
#include "tessera-wire.h"

static uint32_t get32(const uint8_t *p) {
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

/* Re-encodes msg and compares with the bytes it was decoded from. */
static void check_canonical(const struct tessera_wire_msg *msg, const uint8_t *bytes) {
	static uint8_t out[TESSERA_WIRE_MAX_MESSAGE_SIZE];
	struct tessera_wire_writer w;
	tessera_wire_writer_init(&w, out, sizeof(out));
	CHECK(tessera_wire_encoded_size(msg) == msg->size);
	CHECK(tessera_wire_encode(&w, msg, NULL) == TESSERA_WIRE_ERROR_NONE);
	CHECK(w.len == msg->size);
	CHECK(memcmp(out, bytes, w.len) == 0);
}

static void check_message(const struct tessera_wire_msg *msg, const uint8_t *bytes) {
	CHECK(msg->size >= TESSERA_WIRE_HEADER_SIZE && msg->size % 8 == 0 &&
		msg->size <= TESSERA_WIRE_MAX_MESSAGE_SIZE);
	CHECK(tessera_wire_type_name(msg->type) != NULL);
	check_canonical(msg, bytes);

	if (msg->type == TESSERA_WIRE_BUFFER_CREATE) {
		const struct tessera_wire_buffer_create *b = &msg->buffer_create;
		uint64_t need = (uint64_t)b->stride * b->height; /* < 2^33 */
		struct tessera_wire_error err;
		enum tessera_wire_error_code code =
			tessera_wire_check_buffer(b, UINT64_MAX, &err);
		CHECK(code == TESSERA_WIRE_ERROR_NONE || code == TESSERA_WIRE_ERROR_RANGE);
		if (b->offset <= UINT64_MAX - need) {
			CHECK(tessera_wire_check_buffer(b, b->offset + need, &err) ==
				TESSERA_WIRE_ERROR_NONE);
			if (b->offset + need > 0) {
				CHECK(tessera_wire_check_buffer(b, b->offset + need - 1, &err) ==
					TESSERA_WIRE_ERROR_RANGE);
			}
		} else {
			CHECK(code == TESSERA_WIRE_ERROR_RANGE);
		}
	}
	if (msg->type == TESSERA_WIRE_EVENT_RING || msg->type == TESSERA_WIRE_SET_KEYMAP_AREA) {
		struct tessera_wire_error err;
		enum tessera_wire_error_code code = tessera_wire_check_range(msg->area.offset,
			msg->area.size, UINT64_MAX, &err);
		CHECK(code == (msg->area.offset > UINT64_MAX - msg->area.size ?
			TESSERA_WIRE_ERROR_RANGE : TESSERA_WIRE_ERROR_NONE));
	}
	if (msg->type == TESSERA_WIRE_SET_TITLE || msg->type == TESSERA_WIRE_SET_APP_ID) {
		CHECK(strlen(msg->string.text) == msg->string.length);
		CHECK(tessera_wire_string_valid(msg->string.text, msg->string.length));
	}
}

static void fuzz_batch(const uint8_t *data, size_t size, enum tessera_wire_direction dir) {
	struct tessera_wire_reader reader;
	static struct tessera_wire_msg msg;
	tessera_wire_reader_init(&reader, data, size, dir);
	size_t last = 0;
	while (tessera_wire_reader_next(&reader, &msg)) {
		CHECK(reader.offset <= size && reader.offset > last);
		CHECK(reader.offset >= msg.size);
		enum tessera_wire_direction d;
		CHECK(tessera_wire_type_direction(msg.type, &d) && d == dir);
		check_message(&msg, data + reader.offset - msg.size);
		last = reader.offset;
	}
	if (reader.error.code != TESSERA_WIRE_ERROR_NONE) {
		CHECK(reader.error.field != NULL && reader.error.reason != NULL);
		CHECK(reader.error.offset < size);
		CHECK(tessera_wire_error_is_fatal(reader.error.code));
	} else {
		CHECK(reader.offset == size);
	}
}

#define RING_DATA 16384u
#define RING_AREA (TESSERA_WIRE_RING_HEADER_SIZE + RING_DATA)

/* The guest's reader over a ring the input filled (a hostile host). */
static void fuzz_ring_reader(const uint8_t *data, size_t size) {
	uint8_t *area = aligned_alloc(64, RING_AREA);
	CHECK(area != NULL);
	CHECK(tessera_wire_ring_format(area, RING_AREA));
	uint32_t head = size >= 4 ? get32(data) : 0;
	if (size >= 4) {
		data += 4;
		size -= 4;
	}
	size_t n = size < RING_DATA ? size : RING_DATA;
	memcpy(area + TESSERA_WIRE_RING_HEADER_SIZE, data, n);
	memcpy(area + TESSERA_WIRE_RING_OFF_HEAD, &head, 4); /* little-endian host */

	struct tessera_wire_ring_reader reader;
	CHECK(tessera_wire_ring_reader_init(&reader, area, RING_AREA));
	static struct tessera_wire_msg msg;
	uint32_t prev = reader.tail;
	while (tessera_wire_ring_reader_next(&reader, &msg)) {
		enum tessera_wire_direction d;
		CHECK(tessera_wire_type_direction(msg.type, &d) && d == TESSERA_WIRE_EVENTS);
		/* progress, never beyond the head it was given */
		uint32_t consumed = reader.tail - prev;
		CHECK(consumed >= msg.size && consumed <= head - prev);
		CHECK(head - prev <= RING_DATA);
		prev = reader.tail;
	}
	if (reader.error.code == TESSERA_WIRE_ERROR_NONE) {
		CHECK(reader.tail == head); /* read everything */
	}
	free(area);
}

/* Host writer against a guest that scribbles on the ring. */
static void fuzz_ring_writer(const uint8_t *data, size_t size) {
	uint8_t *area = aligned_alloc(64, RING_AREA); /* ASan catches any overrun */
	CHECK(area != NULL);
	CHECK(tessera_wire_ring_format(area, RING_AREA));
	struct tessera_wire_ring_writer writer;
	CHECK(tessera_wire_ring_writer_init(&writer, area, RING_AREA, NULL) ==
		TESSERA_WIRE_ERROR_NONE);
	struct tessera_wire_ring_reader reader;
	CHECK(tessera_wire_ring_reader_init(&reader, area, RING_AREA));
	static struct tessera_wire_msg msg;

	size_t i = 0;
	while (i < size) {
		uint8_t op = data[i++];
		switch (op % 6) {
		case 0: { /* the host writes the event encoded in the input */
			if (i >= size) {
				break;
			}
			size_t len = size - i;
			if (tessera_wire_decode(data + i, len, TESSERA_WIRE_EVENTS, &msg, NULL) ==
					TESSERA_WIRE_ERROR_NONE) {
				i += msg.size;
				enum tessera_wire_ring_result r = msg.type == TESSERA_WIRE_PAD ?
					TESSERA_WIRE_RING_OK : tessera_wire_ring_write(&writer, &msg);
				CHECK(r != TESSERA_WIRE_RING_INVALID);
			} else {
				i++;
			}
			break;
		}
		case 1: { /* a simple event, always valid */
			struct tessera_wire_msg ev = {
				.type = TESSERA_WIRE_BUFFER_RELEASE,
				.buffer_release = { .buffer = op + 1u, .release_point = i + 1 },
			};
			enum tessera_wire_ring_result r = tessera_wire_ring_write(&writer, &ev);
			CHECK(r == TESSERA_WIRE_RING_OK || r == TESSERA_WIRE_RING_FULL ||
				r == TESSERA_WIRE_RING_BROKEN);
			if (r == TESSERA_WIRE_RING_FULL) {
				tessera_wire_ring_writer_drop(&writer, 1);
			}
			break;
		}
		case 2: /* the guest scribbles the tail */
			if (i + 4 <= size) {
				memcpy(area + TESSERA_WIRE_RING_OFF_TAIL, data + i, 4);
				i += 4;
			}
			break;
		case 3: /* the guest scribbles the data or the header */
			if (i + 3 <= size) {
				size_t off = ((size_t)data[i] << 8 | data[i + 1]) % RING_AREA;
				if (off != TESSERA_WIRE_RING_OFF_TAIL) {
					area[off] = data[i + 2];
				}
				i += 3;
			}
			break;
		case 4: /* the guest reads (its reader may fail on scribbles) */
			while (tessera_wire_ring_reader_next(&reader, &msg)) {
			}
			if (reader.error.code != TESSERA_WIRE_ERROR_NONE) {
				/* a real agent would stop; start a fresh reader at
				 * the writer's head to keep going */
				CHECK(tessera_wire_ring_reader_init(&reader, area, RING_AREA));
				reader.tail = writer.head;
				uint32_t t = writer.head;
				memcpy(area + TESSERA_WIRE_RING_OFF_TAIL, &t, 4);
			}
			break;
		case 5:
			(void)tessera_wire_ring_writer_unread(&writer);
			(void)tessera_wire_ring_writer_flush(&writer);
			break;
		}
		if (!writer.broken) {
			uint32_t tail;
			memcpy(&tail, area + TESSERA_WIRE_RING_OFF_TAIL, 4);
			uint32_t free_bytes = tessera_wire_ring_writer_free(&writer);
			/* either the tail was accepted and bounds the free space,
			 * or the writer broke on it */
			CHECK(writer.broken || (free_bytes <= RING_DATA &&
				writer.head - tail == RING_DATA - free_bytes));
		} else {
			CHECK(tessera_wire_ring_writer_free(&writer) == 0);
			CHECK(tessera_wire_ring_writer_unread(&writer));
		}
	}
	free(area);
}

static void fuzz_string(const uint8_t *data, size_t size) {
	if (size == 0) {
		return;
	}
	size_t max = data[0] * 5u;
	char *in = malloc(size);
	char *out = malloc(max + 1);
	CHECK(in != NULL && out != NULL);
	memcpy(in, data + 1, size - 1);
	in[size - 1] = '\0';
	size_t n = tessera_wire_sanitize_string(out, max, in);
	CHECK(n <= max && strlen(out) == n);
	CHECK(tessera_wire_string_valid(out, n));
	/* a valid input comes out unchanged when it fits */
	size_t in_len = strlen(in);
	if (tessera_wire_string_valid(in, in_len) && in_len <= max) {
		CHECK(n == in_len && memcmp(in, out, n) == 0);
	}
	free(in);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (size < 1) {
		return 0;
	}
	uint8_t mode = data[0];
	data++;
	size--;
	switch (mode % 5) {
	case 0:
		fuzz_batch(data, size, TESSERA_WIRE_REQUESTS);
		break;
	case 1:
		fuzz_batch(data, size, TESSERA_WIRE_EVENTS);
		break;
	case 2:
		fuzz_ring_reader(data, size);
		break;
	case 3:
		fuzz_ring_writer(data, size);
		break;
	case 4:
		fuzz_string(data, size);
		break;
	}
	return 0;
}
