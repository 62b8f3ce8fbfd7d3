/*
 * The event ring (PROTOCOL.md §8): the host writes event records, the guest
 * reads them. Both work on a plain memory area shared between the two.
 *
 * The guest can write any byte of the area at any time, so the writer
 * keeps its own head and data size, reads the tail exactly once per call
 * and checks it before computing anything from it. The reader keeps its own
 * tail and checks the head and every record before using them.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tessera-wire.h"
#include "wire-private.h"

/* Header words are little-endian and accessed atomically (§8.4). */
static inline uint32_t le32_to_cpu(uint32_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

static inline uint32_t *header_word(uint8_t *mem, size_t off) {
	/* mem is 8-byte aligned (checked at init), off a multiple of 4 */
	return (uint32_t *)(void *)(mem + off);
}

static inline uint32_t load_acquire(uint8_t *mem, size_t off) {
	return le32_to_cpu(__atomic_load_n(header_word(mem, off), __ATOMIC_ACQUIRE));
}

static inline void store_release(uint8_t *mem, size_t off, uint32_t v) {
	__atomic_store_n(header_word(mem, off), le32_to_cpu(v), __ATOMIC_RELEASE);
}

static inline uint8_t *ring_data(uint8_t *mem) {
	return mem + TESSERA_WIRE_RING_HEADER_SIZE;
}

bool tessera_wire_ring_size_valid(uint64_t size) {
	if (size < TESSERA_WIRE_RING_HEADER_SIZE + (uint64_t)TESSERA_WIRE_RING_MIN_DATA_SIZE ||
			size > TESSERA_WIRE_RING_HEADER_SIZE + (uint64_t)TESSERA_WIRE_RING_MAX_DATA_SIZE) {
		return false;
	}
	uint64_t data = size - TESSERA_WIRE_RING_HEADER_SIZE;
	return (data & (data - 1)) == 0;
}

static bool area_valid(const void *mem, size_t size) {
	return mem != NULL && (uintptr_t)mem % 8 == 0 && tessera_wire_ring_size_valid(size);
}

bool tessera_wire_ring_format(void *mem, size_t size) {
	if (!area_valid(mem, size)) {
		return false;
	}
	uint8_t *p = mem;
	memset(p, 0, size);
	wire_put32(p + TESSERA_WIRE_RING_OFF_MAGIC, TESSERA_WIRE_RING_MAGIC);
	wire_put32(p + TESSERA_WIRE_RING_OFF_VERSION, TESSERA_WIRE_RING_VERSION);
	wire_put32(p + TESSERA_WIRE_RING_OFF_DATA_SIZE,
		(uint32_t)(size - TESSERA_WIRE_RING_HEADER_SIZE));
	/* Make the formatted header visible before the EVENT_RING submit. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return true;
}

/* --- guest: reader --- */

bool tessera_wire_ring_reader_init(struct tessera_wire_ring_reader *reader,
		void *mem, size_t size) {
	if (!area_valid(mem, size)) {
		return false;
	}
	*reader = (struct tessera_wire_ring_reader){
		.mem = mem,
		.data_size = (uint32_t)(size - TESSERA_WIRE_RING_HEADER_SIZE),
		.tail = 0,
	};
	return true;
}

static bool reader_fail(struct tessera_wire_ring_reader *reader,
		enum tessera_wire_error_code code, const char *field, const char *reason) {
	wire_fail(&reader->error, code, 0, field, reason);
	reader->error.offset = reader->tail & (reader->data_size - 1);
	return false;
}

/* Unread bytes; false with an error if the head is corrupt. */
static bool reader_used(struct tessera_wire_ring_reader *reader, uint32_t *used) {
	uint32_t head = load_acquire(reader->mem, TESSERA_WIRE_RING_OFF_HEAD);
	uint32_t n = head - reader->tail;
	if (head % TESSERA_WIRE_ALIGNMENT != 0 || n > reader->data_size) {
		return reader_fail(reader, TESSERA_WIRE_ERROR_RING, "ring.head",
			"outside the unread part of the ring");
	}
	*used = n;
	return true;
}

bool tessera_wire_ring_reader_next(struct tessera_wire_ring_reader *reader,
		struct tessera_wire_msg *msg) {
	if (reader->error.code != TESSERA_WIRE_ERROR_NONE) {
		return false;
	}
	uint32_t used;
	if (!reader_used(reader, &used)) {
		return false;
	}
	const uint8_t *data = ring_data(reader->mem);
	while (used > 0) {
		uint32_t pos = reader->tail & (reader->data_size - 1);
		uint32_t to_end = reader->data_size - pos;
		uint32_t avail = used < to_end ? used : to_end;
		if (avail < TESSERA_WIRE_HEADER_SIZE) {
			/* both indices are multiples of 8, so this cannot happen
			 * with a well-formed head */
			return reader_fail(reader, TESSERA_WIRE_ERROR_RING, "ring.head",
				"less than a record header");
		}
		const uint8_t *rec = data + pos;
		if (wire_get16(rec) == TESSERA_WIRE_PAD) {
			/* a PAD in the ring may be longer than MAX_MESSAGE_SIZE */
			uint32_t size = wire_get32(rec + 4);
			if (wire_get16(rec + 2) != 0 || size < TESSERA_WIRE_HEADER_SIZE ||
					size % TESSERA_WIRE_ALIGNMENT != 0 || size > avail) {
				return reader_fail(reader, TESSERA_WIRE_ERROR_RING, "ring.pad",
					"malformed PAD record");
			}
			reader->tail += size;
			used -= size;
			store_release(reader->mem, TESSERA_WIRE_RING_OFF_TAIL, reader->tail);
			continue;
		}
		enum tessera_wire_error_code code = tessera_wire_decode(rec, avail,
			TESSERA_WIRE_EVENTS, msg, &reader->error);
		if (code != TESSERA_WIRE_ERROR_NONE) {
			reader->error.offset = pos;
			return false;
		}
		reader->tail += msg->size;
		store_release(reader->mem, TESSERA_WIRE_RING_OFF_TAIL, reader->tail);
		return true;
	}
	return false;
}

uint32_t tessera_wire_ring_reader_available(struct tessera_wire_ring_reader *reader) {
	uint32_t used;
	if (reader->error.code != TESSERA_WIRE_ERROR_NONE || !reader_used(reader, &used)) {
		return 0;
	}
	return used;
}

uint32_t tessera_wire_ring_reader_status(struct tessera_wire_ring_reader *reader) {
	return load_acquire(reader->mem, TESSERA_WIRE_RING_OFF_STATUS);
}

/* --- host: writer --- */

enum tessera_wire_error_code tessera_wire_ring_writer_init(
		struct tessera_wire_ring_writer *writer, void *mem, size_t size,
		struct tessera_wire_error *err) {
	if (!area_valid(mem, size)) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RING, TESSERA_WIRE_EVENT_RING,
			"EVENT_RING.size", "invalid ring area");
	}
	uint8_t *p = mem;
	uint32_t data_size = (uint32_t)(size - TESSERA_WIRE_RING_HEADER_SIZE);
	/* One read of each word; these only catch agent bugs (§8.1). */
	if (load_acquire(p, TESSERA_WIRE_RING_OFF_MAGIC) != TESSERA_WIRE_RING_MAGIC) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RING, TESSERA_WIRE_EVENT_RING,
			"ring.magic", "wrong magic");
	}
	if (load_acquire(p, TESSERA_WIRE_RING_OFF_VERSION) != TESSERA_WIRE_RING_VERSION) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RING, TESSERA_WIRE_EVENT_RING,
			"ring.version", "unsupported ring version");
	}
	if (load_acquire(p, TESSERA_WIRE_RING_OFF_DATA_SIZE) != data_size) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RING, TESSERA_WIRE_EVENT_RING,
			"ring.data_size", "does not match EVENT_RING.size - 64");
	}
	if (load_acquire(p, TESSERA_WIRE_RING_OFF_HEAD) != 0 ||
			load_acquire(p, TESSERA_WIRE_RING_OFF_TAIL) != 0 ||
			load_acquire(p, TESSERA_WIRE_RING_OFF_STATUS) != 0) {
		return wire_fail(err, TESSERA_WIRE_ERROR_RING, TESSERA_WIRE_EVENT_RING,
			"ring.head", "head, tail and status must start at 0");
	}
	*writer = (struct tessera_wire_ring_writer){
		.mem = p,
		.data_size = data_size,
		.head = 0,
	};
	return TESSERA_WIRE_ERROR_NONE;
}

/* Reads the tail once and returns the free bytes; false if it is corrupt
 * (the writer is then broken for good). */
static bool writer_free(struct tessera_wire_ring_writer *writer, uint32_t *free_bytes,
		uint32_t *tail_out) {
	if (writer->broken) {
		return false;
	}
	uint32_t tail = load_acquire(writer->mem, TESSERA_WIRE_RING_OFF_TAIL);
	uint32_t used = writer->head - tail;
	if (tail % TESSERA_WIRE_ALIGNMENT != 0 || used > writer->data_size) {
		writer->broken = true;
		return false;
	}
	*free_bytes = writer->data_size - used;
	if (tail_out != NULL) {
		*tail_out = tail;
	}
	return true;
}

enum tessera_wire_ring_result tessera_wire_ring_write_raw(
		struct tessera_wire_ring_writer *writer, const void *record, size_t len) {
	const uint8_t *rec = record;
	if (len < TESSERA_WIRE_HEADER_SIZE || len > TESSERA_WIRE_MAX_MESSAGE_SIZE ||
			len % TESSERA_WIRE_ALIGNMENT != 0 || wire_get32(rec + 4) != len) {
		return TESSERA_WIRE_RING_INVALID;
	}
	uint32_t free_bytes;
	if (!writer_free(writer, &free_bytes, NULL)) {
		return TESSERA_WIRE_RING_BROKEN;
	}
	uint32_t pos = writer->head & (writer->data_size - 1);
	uint32_t to_end = writer->data_size - pos;
	uint32_t n = (uint32_t)len;
	uint64_t need = n <= to_end ? n : (uint64_t)to_end + n;
	if (need > free_bytes) {
		return TESSERA_WIRE_RING_FULL;
	}
	uint8_t *data = ring_data(writer->mem);
	if (n > to_end) {
		/* records never straddle the end: pad to it and wrap */
		wire_put16(data + pos, TESSERA_WIRE_PAD);
		wire_put16(data + pos + 2, 0);
		wire_put32(data + pos + 4, to_end);
		pos = 0;
	}
	memcpy(data + pos, rec, n);
	writer->head += (uint32_t)need;
	store_release(writer->mem, TESSERA_WIRE_RING_OFF_HEAD, writer->head);
	return TESSERA_WIRE_RING_OK;
}

enum tessera_wire_ring_result tessera_wire_ring_writer_flush(
		struct tessera_wire_ring_writer *writer) {
	if (writer->broken) {
		return TESSERA_WIRE_RING_BROKEN;
	}
	if (writer->dropped == 0) {
		return TESSERA_WIRE_RING_OK;
	}
	uint8_t buf[64];
	struct tessera_wire_writer out;
	tessera_wire_writer_init(&out, buf, sizeof(buf));
	struct tessera_wire_msg notice = {
		.type = TESSERA_WIRE_ERROR,
		.error = {
			.code = TESSERA_WIRE_ERROR_OVERFLOW,
			.count = writer->dropped,
		},
	};
	if (tessera_wire_encode(&out, &notice, NULL) != TESSERA_WIRE_ERROR_NONE) {
		return TESSERA_WIRE_RING_INVALID; /* cannot happen */
	}
	enum tessera_wire_ring_result result =
		tessera_wire_ring_write_raw(writer, buf, out.len);
	if (result == TESSERA_WIRE_RING_OK) {
		writer->dropped = 0;
	}
	return result;
}

enum tessera_wire_ring_result tessera_wire_ring_write(
		struct tessera_wire_ring_writer *writer, const struct tessera_wire_msg *event) {
	uint8_t buf[TESSERA_WIRE_MAX_MESSAGE_SIZE];
	struct tessera_wire_writer out;
	tessera_wire_writer_init(&out, buf, sizeof(buf));
	enum tessera_wire_direction dir;
	if (event->type == TESSERA_WIRE_PAD ||
			!tessera_wire_type_direction(event->type, &dir) ||
			dir != TESSERA_WIRE_EVENTS ||
			tessera_wire_encode(&out, event, NULL) != TESSERA_WIRE_ERROR_NONE) {
		return TESSERA_WIRE_RING_INVALID;
	}
	enum tessera_wire_ring_result result = tessera_wire_ring_writer_flush(writer);
	if (result != TESSERA_WIRE_RING_OK) {
		return result;
	}
	return tessera_wire_ring_write_raw(writer, buf, out.len);
}

void tessera_wire_ring_writer_drop(struct tessera_wire_ring_writer *writer,
		uint64_t n) {
	if (__builtin_add_overflow(writer->dropped, n, &writer->dropped)) {
		writer->dropped = UINT64_MAX;
	}
}

uint32_t tessera_wire_ring_writer_free(struct tessera_wire_ring_writer *writer) {
	uint32_t free_bytes;
	if (!writer_free(writer, &free_bytes, NULL)) {
		return 0;
	}
	return free_bytes;
}

bool tessera_wire_ring_writer_unread(struct tessera_wire_ring_writer *writer) {
	uint32_t free_bytes, tail;
	if (!writer_free(writer, &free_bytes, &tail)) {
		return true; /* broken: wake the guest so it sees the status */
	}
	return tail != writer->head;
}

void tessera_wire_ring_writer_set_status(struct tessera_wire_ring_writer *writer,
		uint32_t status) {
	store_release(writer->mem, TESSERA_WIRE_RING_OFF_STATUS, status);
}
