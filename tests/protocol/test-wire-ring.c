/*
 * The event ring (PROTOCOL.md §8): format and attach checks, writing and
 * reading, wrap with PAD records, 32-bit index wrap-around, full ring,
 * overflow reporting, the WAIT "unread" test, the status word, and a guest
 * that scribbles on the ring: the writer must detect a bad tail, stop for
 * good, and never write outside the area; the reader must reject a bad
 * head or record.
 */
#include <stdlib.h>

#include "wire-samples.h"
#include "wire-test.h"

#define DATA_SIZE 16384u
#define AREA_SIZE (TESSERA_WIRE_RING_HEADER_SIZE + DATA_SIZE)
#define CANARY 256

/* The ring area with canaries on both sides. */
static _Alignas(64) uint8_t memory[CANARY + AREA_SIZE + CANARY];
static uint8_t *const area = memory + CANARY;

static void set_canaries(void) {
	memset(memory, 0xc5, CANARY);
	memset(area + AREA_SIZE, 0xc5, CANARY);
}

static bool canaries_intact(void) {
	for (size_t i = 0; i < CANARY; i++) {
		if (memory[i] != 0xc5 || area[AREA_SIZE + i] != 0xc5) {
			return false;
		}
	}
	return true;
}

static uint32_t header(size_t off) {
	return (uint32_t)le_get(area + off, 4);
}

static void set_header(size_t off, uint32_t v) {
	le_put(area + off, 4, v);
}

static void setup(struct tessera_wire_ring_writer *w, struct tessera_wire_ring_reader *r) {
	set_canaries();
	CHECK(tessera_wire_ring_format(area, AREA_SIZE));
	struct tessera_wire_error err = {0};
	CHECK_EQ(tessera_wire_ring_writer_init(w, area, AREA_SIZE, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK(tessera_wire_ring_reader_init(r, area, AREA_SIZE));
}

static struct tessera_wire_msg motion(uint32_t time) {
	struct tessera_wire_msg m;
	memset(&m, 0, sizeof(m));
	m.type = TESSERA_WIRE_POINTER_MOTION; /* 24 bytes */
	m.pointer_motion.time = time;
	m.pointer_motion.x = (int32_t)time % 1000;
	return m;
}

static struct tessera_wire_msg release(uint32_t buffer, uint64_t point) {
	struct tessera_wire_msg m;
	memset(&m, 0, sizeof(m));
	m.type = TESSERA_WIRE_BUFFER_RELEASE;
	m.buffer_release.buffer = buffer;
	m.buffer_release.release_point = point;
	return m;
}

static void test_sizes(void) {
	CHECK(tessera_wire_ring_size_valid(64 + 16384));
	CHECK(tessera_wire_ring_size_valid(64 + 65536));
	CHECK(tessera_wire_ring_size_valid(64 + 1048576));
	CHECK(!tessera_wire_ring_size_valid(64 + 8192));
	CHECK(!tessera_wire_ring_size_valid(64 + 2097152));
	CHECK(!tessera_wire_ring_size_valid(64 + 16384 + 8));
	CHECK(!tessera_wire_ring_size_valid(65536));
	CHECK(!tessera_wire_ring_size_valid(0));
	CHECK(!tessera_wire_ring_size_valid(UINT64_MAX));
	CHECK(!tessera_wire_ring_size_valid(64 + (1ull << 32)));

	CHECK(!tessera_wire_ring_format(area, AREA_SIZE - 8));
	CHECK(!tessera_wire_ring_format(area + 4, AREA_SIZE)); /* misaligned */
	CHECK(!tessera_wire_ring_format(NULL, AREA_SIZE));
	struct tessera_wire_ring_reader r;
	CHECK(!tessera_wire_ring_reader_init(&r, area, AREA_SIZE + 8));
	CHECK(!tessera_wire_ring_reader_init(&r, area + 4, AREA_SIZE));
}

static void test_format_and_attach(void) {
	set_canaries();
	memset(area, 0x5a, AREA_SIZE);
	CHECK(tessera_wire_ring_format(area, AREA_SIZE));
	CHECK(canaries_intact());
	CHECK_EQ(header(0), TESSERA_WIRE_RING_MAGIC);
	CHECK(memcmp(area, "TSRG", 4) == 0);
	CHECK_EQ(header(4), 1);
	CHECK_EQ(header(8), 0);
	CHECK_EQ(header(12), 0);
	CHECK_EQ(header(16), DATA_SIZE);
	CHECK_EQ(header(20), 0);
	for (size_t i = 24; i < AREA_SIZE; i++) {
		if (area[i] != 0) {
			CHECK(area[i] == 0);
			break;
		}
	}

	struct tessera_wire_ring_writer w;
	struct tessera_wire_error err = {0};
	static const struct {
		size_t off;
		uint32_t value;
		const char *field;
	} bad[] = {
		{0, 0x47525355, "ring.magic"},
		{4, 2, "ring.version"},
		{16, DATA_SIZE * 2, "ring.data_size"},
		{8, 8, "ring.head"},
		{12, 8, "ring.head"},
		{20, 1, "ring.head"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(tessera_wire_ring_format(area, AREA_SIZE));
		set_header(bad[i].off, bad[i].value);
		memset(&err, 0, sizeof(err));
		CHECK_EQ(tessera_wire_ring_writer_init(&w, area, AREA_SIZE, &err),
			TESSERA_WIRE_ERROR_RING);
		CHECK_STR(err.field, bad[i].field);
	}
	CHECK(tessera_wire_ring_format(area, AREA_SIZE));
	CHECK_EQ(tessera_wire_ring_writer_init(&w, area, AREA_SIZE + 8, &err),
		TESSERA_WIRE_ERROR_RING);
	CHECK_EQ(tessera_wire_ring_writer_init(&w, area, AREA_SIZE, &err),
		TESSERA_WIRE_ERROR_NONE);
	CHECK(canaries_intact());
}

static void test_basic(void) {
	struct tessera_wire_ring_writer w;
	struct tessera_wire_ring_reader r;
	setup(&w, &r);
	struct tessera_wire_msg m;

	CHECK(!tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_NONE);
	CHECK(!tessera_wire_ring_writer_unread(&w));
	CHECK_EQ(tessera_wire_ring_writer_free(&w), DATA_SIZE);
	CHECK_EQ(tessera_wire_ring_reader_available(&r), 0);

	/* one of every event type */
	size_t total = 0;
	for (size_t i = 0; i < wire_event_type_count; i++) {
		struct tessera_wire_msg ev;
		static struct wire_bytes e;
		wire_sample(wire_event_types[i], &ev, &e);
		CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
		CHECK(memcmp(area + 64 + total, e.bytes, e.len) == 0);
		total += e.len;
	}
	CHECK_EQ(header(8), total);
	CHECK_EQ(w.head, total);
	CHECK(tessera_wire_ring_writer_unread(&w));
	CHECK_EQ(tessera_wire_ring_writer_free(&w), DATA_SIZE - total);
	CHECK_EQ(tessera_wire_ring_reader_available(&r), total);

	for (size_t i = 0; i < wire_event_type_count; i++) {
		struct tessera_wire_msg ev;
		static struct wire_bytes e;
		wire_sample(wire_event_types[i], &ev, &e);
		memset(&m, 0, sizeof(m));
		if (!CHECK(tessera_wire_ring_reader_next(&r, &m))) {
			fprintf(stderr, "  %s: %s\n", r.error.field, r.error.reason);
			return;
		}
		CHECK(memcmp(&m, &ev, sizeof(m)) == 0);
	}
	CHECK(!tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(header(12), total); /* tail published */
	CHECK(!tessera_wire_ring_writer_unread(&w));
	CHECK_EQ(tessera_wire_ring_writer_free(&w), DATA_SIZE);

	/* events only: requests, PAD and invalid events are refused */
	struct tessera_wire_msg req;
	static struct wire_bytes e;
	wire_sample(TESSERA_WIRE_COMMIT, &req, &e);
	CHECK_EQ(tessera_wire_ring_write(&w, &req), TESSERA_WIRE_RING_INVALID);
	memset(&req, 0, sizeof(req));
	req.type = TESSERA_WIRE_PAD;
	CHECK_EQ(tessera_wire_ring_write(&w, &req), TESSERA_WIRE_RING_INVALID);
	req = release(0, 1);
	CHECK_EQ(tessera_wire_ring_write(&w, &req), TESSERA_WIRE_RING_INVALID);
	req.type = 0x9999;
	CHECK_EQ(tessera_wire_ring_write(&w, &req), TESSERA_WIRE_RING_INVALID);
	CHECK_EQ(header(8), total);

	/* raw records: framing checked */
	uint8_t rec[16] = {0};
	le_put(rec, 2, TESSERA_WIRE_CLOSE);
	le_put(rec + 4, 4, 16);
	le_put(rec + 8, 4, 5);
	CHECK_EQ(tessera_wire_ring_write_raw(&w, rec, 16), TESSERA_WIRE_RING_OK);
	CHECK_EQ(tessera_wire_ring_write_raw(&w, rec, 8), TESSERA_WIRE_RING_INVALID);
	CHECK_EQ(tessera_wire_ring_write_raw(&w, rec, 12), TESSERA_WIRE_RING_INVALID);
	CHECK_EQ(tessera_wire_ring_write_raw(&w, rec, 4), TESSERA_WIRE_RING_INVALID);
	CHECK_EQ(tessera_wire_ring_write_raw(&w, rec, TESSERA_WIRE_MAX_MESSAGE_SIZE + 8),
		TESSERA_WIRE_RING_INVALID);
	CHECK(tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(m.type, TESSERA_WIRE_CLOSE);
	CHECK_EQ(m.close.surface, 5);
	CHECK(canaries_intact());
}

/* Records never straddle the end: a PAD fills it and the record goes to 0. */
static void test_wrap(void) {
	struct tessera_wire_ring_writer w;
	struct tessera_wire_ring_reader r;
	setup(&w, &r);
	struct tessera_wire_msg m;

	/* 682 motions of 24 bytes = 16368 bytes: 16 left before the end */
	for (uint32_t i = 0; i < 682; i++) {
		struct tessera_wire_msg ev = motion(i);
		CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
		CHECK(tessera_wire_ring_reader_next(&r, &m));
		CHECK_EQ(m.pointer_motion.time, i);
	}
	CHECK_EQ(w.head, 16368);
	struct tessera_wire_msg ev = motion(1000);
	CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
	/* PAD of 16 bytes at 16368, record at 0 */
	CHECK_EQ(le_get(area + 64 + 16368, 2), TESSERA_WIRE_PAD);
	CHECK_EQ(le_get(area + 64 + 16368 + 2, 2), 0);
	CHECK_EQ(le_get(area + 64 + 16368 + 4, 4), 16);
	CHECK_EQ(le_get(area + 64, 2), TESSERA_WIRE_POINTER_MOTION);
	CHECK_EQ(w.head, 16384 + 24);
	CHECK_EQ(header(8), 16384 + 24);
	CHECK(tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(m.type, TESSERA_WIRE_POINTER_MOTION);
	CHECK_EQ(m.pointer_motion.time, 1000);
	CHECK_EQ(r.tail, 16384 + 24);
	CHECK(!tessera_wire_ring_reader_next(&r, &m));

	/* A record that exactly fills the end needs no PAD. */
	setup(&w, &r);
	for (uint32_t i = 0; i < 1024; i++) { /* 1024 * 16 = 16384 */
		struct tessera_wire_msg close;
		memset(&close, 0, sizeof(close));
		close.type = TESSERA_WIRE_CLOSE;
		close.close.surface = i + 1;
		CHECK_EQ(tessera_wire_ring_write(&w, &close), TESSERA_WIRE_RING_OK);
	}
	CHECK_EQ(w.head, 16384);
	CHECK_EQ(tessera_wire_ring_writer_free(&w), 0);
	for (uint32_t i = 0; i < 1024; i++) {
		CHECK(tessera_wire_ring_reader_next(&r, &m));
		CHECK_EQ(m.close.surface, i + 1);
	}
	CHECK(!tessera_wire_ring_reader_next(&r, &m));

	/* long run with mixed sizes: many wraps, contents in order */
	setup(&w, &r);
	uint32_t written = 0, read = 0;
	uint32_t seed = 7;
	for (int step = 0; step < 200000; step++) {
		seed = seed * 1103515245 + 12345;
		if ((seed >> 16) % 3 != 0) {
			struct tessera_wire_msg e2;
			if ((seed >> 20) % 2) {
				e2 = motion(written);
			} else {
				e2 = release(written + 1, written + 1);
			}
			enum tessera_wire_ring_result res = tessera_wire_ring_write(&w, &e2);
			if (res == TESSERA_WIRE_RING_OK) {
				written++;
			} else {
				CHECK_EQ(res, TESSERA_WIRE_RING_FULL);
			}
		} else {
			while (tessera_wire_ring_reader_next(&r, &m)) {
				uint32_t id = m.type == TESSERA_WIRE_POINTER_MOTION ?
					m.pointer_motion.time : m.buffer_release.buffer - 1;
				if (!CHECK_EQ(id, read)) {
					return;
				}
				read++;
			}
			CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_NONE);
		}
	}
	CHECK(w.head > 16 * DATA_SIZE);
	CHECK(canaries_intact());
}

/* The free-running counters wrap at 2^32. */
static void test_index_wrap(void) {
	struct tessera_wire_ring_writer w;
	struct tessera_wire_ring_reader r;
	setup(&w, &r);
	struct tessera_wire_msg m;
	const uint32_t start = 0u - 1000u; /* 1000 bytes before 2^32; 1000 % 8 == 0 */
	w.head = start;
	r.tail = start;
	set_header(8, start);
	set_header(12, start);
	for (uint32_t i = 0; i < 2000; i++) {
		struct tessera_wire_msg ev = motion(i);
		CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
		if (i % 3 == 2) {
			while (tessera_wire_ring_reader_next(&r, &m)) {
			}
			CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_NONE);
		}
	}
	while (tessera_wire_ring_reader_next(&r, &m)) {
	}
	CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_NONE);
	CHECK(w.head < start); /* wrapped */
	CHECK_EQ(r.tail, w.head);
	CHECK(!tessera_wire_ring_writer_unread(&w));
	CHECK_EQ(m.pointer_motion.time, 1999);

	/* full across the wrap */
	uint32_t n = 0;
	for (;;) {
		struct tessera_wire_msg ev = motion(n);
		enum tessera_wire_ring_result res = tessera_wire_ring_write(&w, &ev);
		if (res != TESSERA_WIRE_RING_OK) {
			CHECK_EQ(res, TESSERA_WIRE_RING_FULL);
			break;
		}
		n++;
	}
	CHECK(w.head - r.tail <= DATA_SIZE);
	CHECK(tessera_wire_ring_writer_free(&w) < 24 + 24);
	CHECK(canaries_intact());
}

static void test_full_and_overflow(void) {
	struct tessera_wire_ring_writer w;
	struct tessera_wire_ring_reader r;
	setup(&w, &r);
	struct tessera_wire_msg m;

	uint32_t n = 0;
	enum tessera_wire_ring_result res;
	for (;;) {
		struct tessera_wire_msg ev = motion(n);
		res = tessera_wire_ring_write(&w, &ev);
		if (res != TESSERA_WIRE_RING_OK) {
			break;
		}
		n++;
	}
	CHECK_EQ(res, TESSERA_WIRE_RING_FULL);
	CHECK_EQ(n, DATA_SIZE / 24); /* 682 */
	CHECK_EQ(tessera_wire_ring_writer_free(&w), DATA_SIZE - 682 * 24);
	uint32_t head_before = header(8);

	/* The host drops three events; nothing is written while full. */
	tessera_wire_ring_writer_drop(&w, 3);
	struct tessera_wire_msg ev = release(1, 1);
	CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_FULL);
	CHECK_EQ(tessera_wire_ring_writer_flush(&w), TESSERA_WIRE_RING_FULL);
	CHECK_EQ(header(8), head_before);
	CHECK_EQ(w.dropped, 3);

	/* The guest reads one record: 40 bytes free, but the notice needs a
	 * PAD to the end first (16 + 40). */
	CHECK(tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_FULL);
	CHECK_EQ(w.dropped, 3);
	CHECK_EQ(header(8), head_before);
	/* One more: 64 free, the notice fits (56) but not the release after
	 * it; the notice is written and FULL returned for the release. */
	CHECK(tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_FULL);
	CHECK_EQ(w.dropped, 0);
	CHECK_EQ(header(8), DATA_SIZE + 40);
	/* Drain: the motions, then the notice with the count. */
	for (uint32_t i = 2; i < n; i++) {
		CHECK(tessera_wire_ring_reader_next(&r, &m));
		CHECK_EQ(m.pointer_motion.time, i);
	}
	CHECK(tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(m.type, TESSERA_WIRE_ERROR);
	CHECK_EQ(m.error.code, TESSERA_WIRE_ERROR_OVERFLOW);
	CHECK_EQ(m.error.count, 3);
	CHECK(!tessera_wire_ring_reader_next(&r, &m));
	/* Now the release fits and is not preceded by another notice. */
	CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
	CHECK(tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(m.type, TESSERA_WIRE_BUFFER_RELEASE);
	CHECK(!tessera_wire_ring_reader_next(&r, &m));

	/* notice and event in one call when both fit */
	tessera_wire_ring_writer_drop(&w, 2);
	tessera_wire_ring_writer_drop(&w, 5);
	CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
	CHECK(tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(m.type, TESSERA_WIRE_ERROR);
	CHECK_EQ(m.error.count, 7);
	CHECK(tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(m.type, TESSERA_WIRE_BUFFER_RELEASE);

	/* flush alone */
	CHECK_EQ(tessera_wire_ring_writer_flush(&w), TESSERA_WIRE_RING_OK); /* nothing */
	CHECK(!tessera_wire_ring_reader_next(&r, &m));
	tessera_wire_ring_writer_drop(&w, UINT64_MAX);
	tessera_wire_ring_writer_drop(&w, 10); /* saturates */
	CHECK_EQ(tessera_wire_ring_writer_flush(&w), TESSERA_WIRE_RING_OK);
	CHECK(tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(m.error.count, UINT64_MAX);
	CHECK(canaries_intact());
}

static void test_status(void) {
	struct tessera_wire_ring_writer w;
	struct tessera_wire_ring_reader r;
	setup(&w, &r);
	CHECK_EQ(tessera_wire_ring_reader_status(&r), 0);
	tessera_wire_ring_writer_set_status(&w, TESSERA_WIRE_ERROR_STRIDE);
	CHECK_EQ(tessera_wire_ring_reader_status(&r), TESSERA_WIRE_ERROR_STRIDE);
	CHECK_EQ(header(20), TESSERA_WIRE_ERROR_STRIDE);
}

/* A malicious guest moves the tail: the writer trusts only what it can
 * check, breaks for good on nonsense, and never writes outside the area. */
static void test_bad_tail(void) {
	struct tessera_wire_ring_writer w;
	struct tessera_wire_ring_reader r;
	struct tessera_wire_msg ev = motion(1);
	static const struct {
		uint32_t tail_delta; /* tail = head - delta */
		bool broken;
	} cases[] = {
		{0, false},
		{240, false},
		{DATA_SIZE - 8, false}, /* behind what was written, but within D */
		{DATA_SIZE, false},
		{DATA_SIZE + 8, true}, /* more than D unread */
		{0u - 8u, true}, /* tail ahead of head */
		{0u - DATA_SIZE, true},
		{0x80000000u, true},
		{4, true}, /* misaligned */
		{241, true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup(&w, &r);
		for (uint32_t k = 0; k < 10; k++) {
			CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
		}
		uint32_t head = header(8);
		set_header(12, head - cases[i].tail_delta);
		enum tessera_wire_ring_result res = tessera_wire_ring_write(&w, &ev);
		if (cases[i].broken) {
			if (!CHECK_EQ(res, TESSERA_WIRE_RING_BROKEN)) {
				fprintf(stderr, "  tail case %zu\n", i);
			}
			CHECK(w.broken);
			CHECK_EQ(header(8), head); /* nothing written */
			/* broken for good, even with a sane tail again */
			set_header(12, head);
			CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_BROKEN);
			CHECK_EQ(tessera_wire_ring_writer_flush(&w), TESSERA_WIRE_RING_BROKEN);
			CHECK_EQ(tessera_wire_ring_writer_free(&w), 0);
			CHECK(tessera_wire_ring_writer_unread(&w)); /* wake the guest */
			tessera_wire_ring_writer_set_status(&w, TESSERA_WIRE_ERROR_RING);
			CHECK_EQ(header(20), TESSERA_WIRE_ERROR_RING);
		} else {
			/* a tail moved back only shrinks the free space */
			uint32_t free_bytes = DATA_SIZE - cases[i].tail_delta;
			if (free_bytes >= 24) {
				CHECK_EQ(res, TESSERA_WIRE_RING_OK);
			} else {
				CHECK_EQ(res, TESSERA_WIRE_RING_FULL);
			}
			CHECK(!w.broken);
		}
		CHECK(canaries_intact());
	}

	/* The writer ignores a scribbled head and header: it keeps its own. */
	setup(&w, &r);
	CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
	set_header(8, 0xdeadbee8);
	set_header(16, 8);
	set_header(0, 0);
	CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
	CHECK_EQ(header(8), 48);
	CHECK(le_get(area + 64 + 24, 2) == TESSERA_WIRE_POINTER_MOTION);

	/* Randomised scribbling: tail and data garbage, never out of bounds. */
	setup(&w, &r);
	uint32_t seed = 99;
	size_t broken = 0;
	for (int step = 0; step < 100000; step++) {
		seed = seed * 1664525 + 1013904223;
		uint32_t action = seed >> 28;
		if (action < 2) {
			/* scribble a tail: often plausible, sometimes not */
			seed = seed * 1664525 + 1013904223;
			uint32_t tail = action == 0 ? w.head - ((seed >> 8) % (DATA_SIZE + 64)) :
				seed;
			set_header(12, tail);
		} else if (action < 4) {
			seed = seed * 1664525 + 1013904223;
			area[64 + (seed >> 8) % DATA_SIZE] = (uint8_t)seed;
		} else if (action < 5) {
			set_header(12, w.head); /* guest caught up */
		} else {
			struct tessera_wire_msg e2 = (action & 1) ? motion(step) :
				release((uint32_t)step + 1, (uint64_t)step + 1);
			enum tessera_wire_ring_result res = tessera_wire_ring_write(&w, &e2);
			CHECK(res == TESSERA_WIRE_RING_OK || res == TESSERA_WIRE_RING_FULL ||
				res == TESSERA_WIRE_RING_BROKEN);
			if (res == TESSERA_WIRE_RING_BROKEN) {
				broken++;
				/* start over */
				setup(&w, &r);
			}
		}
		if (!canaries_intact()) {
			CHECK(canaries_intact());
			break;
		}
	}
	CHECK(broken > 0);
}

/* The reader checks the head and every record. */
static void test_bad_head(void) {
	struct tessera_wire_ring_writer w;
	struct tessera_wire_ring_reader r;
	struct tessera_wire_msg m;
	struct tessera_wire_msg ev = motion(1);

	static const struct {
		uint32_t head;
		bool error;
	} heads[] = {
		{24, false},
		{DATA_SIZE, true}, /* plausible index, but zeroed data after the record */
		{DATA_SIZE + 8, true},
		{0u - 8u, true},
		{12, true},
	};
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		setup(&w, &r);
		CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
		set_header(8, heads[i].head);
		bool got = tessera_wire_ring_reader_next(&r, &m);
		if (heads[i].error) {
			/* with head = D the index is plausible but the zeroed data
			 * after the record is a size-0 header */
			if (got) {
				got = tessera_wire_ring_reader_next(&r, &m);
			}
			CHECK(!got);
			if (!CHECK(r.error.code != TESSERA_WIRE_ERROR_NONE)) {
				fprintf(stderr, "  head case %zu\n", i);
			}
			/* sticky */
			set_header(8, 24);
			CHECK(!tessera_wire_ring_reader_next(&r, &m));
			CHECK_EQ(tessera_wire_ring_reader_available(&r), 0);
		} else {
			CHECK(got);
		}
	}

	/* corrupt records */
	static const struct {
		size_t off;
		uint8_t width;
		uint64_t value;
		enum tessera_wire_error_code code;
	} recs[] = {
		{4, 4, 0, TESSERA_WIRE_ERROR_SIZE},
		{4, 4, 32, TESSERA_WIRE_ERROR_TRUNCATED}, /* beyond head */
		{4, 4, 20, TESSERA_WIRE_ERROR_ALIGNMENT},
		{0, 2, 0x0001, TESSERA_WIRE_ERROR_UNKNOWN_TYPE}, /* a request */
		{2, 2, 1, TESSERA_WIRE_ERROR_FLAGS},
		{12, 4, 1, TESSERA_WIRE_ERROR_RESERVED},
		{0, 2, 0, TESSERA_WIRE_ERROR_RING}, /* PAD, size set to 32 below */
	};
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		setup(&w, &r);
		CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
		le_put(area + 64 + recs[i].off, recs[i].width, recs[i].value);
		if (recs[i].code == TESSERA_WIRE_ERROR_RING) {
			/* a PAD longer than the unread bytes */
			le_put(area + 64 + 4, 4, 32);
		}
		CHECK(!tessera_wire_ring_reader_next(&r, &m));
		if (!CHECK_EQ(r.error.code, recs[i].code)) {
			fprintf(stderr, "  record case %zu: %s: %s\n", i, r.error.field,
				r.error.reason);
		}
		CHECK_EQ(r.tail, 0); /* not consumed */
	}

	/* a PAD is skipped, one that runs past the end of the data is not */
	setup(&w, &r);
	CHECK_EQ(tessera_wire_ring_write(&w, &ev), TESSERA_WIRE_RING_OK);
	le_put(area + 64, 2, TESSERA_WIRE_PAD); /* the motion becomes a PAD */
	CHECK(!tessera_wire_ring_reader_next(&r, &m));
	CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(r.tail, 24);
	CHECK_EQ(header(12), 24);
}

int main(void) {
	test_sizes();
	test_format_and_attach();
	test_basic();
	test_wrap();
	test_index_wrap();
	test_full_and_overflow();
	test_status();
	test_bad_tail();
	test_bad_head();
	return test_finish("wire-ring");
}
