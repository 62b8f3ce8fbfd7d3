/*
 * The batch reader (PROTOCOL.md §2): iteration over a SUBMIT_3D payload,
 * PAD skipping, the WAIT-last rule, the batch size limit, and errors with
 * the byte offset of the offending message (sticky once reported).
 */
#include <stdlib.h>

#include "wire-samples.h"
#include "wire-test.h"

struct batch {
	uint8_t data[TESSERA_WIRE_MAX_BATCH_SIZE + 64];
	size_t len;
};

static void append_sample(struct batch *b, uint16_t type) {
	struct tessera_wire_msg m;
	static struct wire_bytes e;
	if (!CHECK(wire_sample(type, &m, &e))) {
		return;
	}
	memcpy(b->data + b->len, e.bytes, e.len);
	b->len += e.len;
}

static void append_pad(struct batch *b, size_t size, uint8_t fill) {
	memset(b->data + b->len, fill, size);
	le_put(b->data + b->len, 2, TESSERA_WIRE_PAD);
	le_put(b->data + b->len + 2, 2, 0);
	le_put(b->data + b->len + 4, 4, size);
	b->len += size;
}

static void test_empty(void) {
	struct tessera_wire_reader r;
	struct tessera_wire_msg m;
	tessera_wire_reader_init(&r, NULL, 0, TESSERA_WIRE_REQUESTS);
	CHECK(!tessera_wire_reader_next(&r, &m));
	CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_NONE);
}

static void test_sequence(void) {
	static struct batch b;
	b.len = 0;
	static const uint16_t types[] = {
		TESSERA_WIRE_HELLO, TESSERA_WIRE_EVENT_RING, TESSERA_WIRE_SURFACE_CREATE,
		TESSERA_WIRE_TOPLEVEL_CREATE, TESSERA_WIRE_SET_TITLE, TESSERA_WIRE_BUFFER_CREATE,
		TESSERA_WIRE_COMMIT, TESSERA_WIRE_WAIT,
	};
	size_t offsets[8];
	for (size_t i = 0; i < 8; i++) {
		if (i == 3) {
			append_pad(&b, 8, 0);
		}
		if (i == 5) {
			append_pad(&b, 64, 0xa5); /* garbage body, ignored */
		}
		offsets[i] = b.len;
		append_sample(&b, types[i]);
	}

	struct tessera_wire_reader r;
	struct tessera_wire_msg m;
	tessera_wire_reader_init(&r, b.data, b.len, TESSERA_WIRE_REQUESTS);
	for (size_t i = 0; i < 8; i++) {
		if (!CHECK(tessera_wire_reader_next(&r, &m))) {
			fprintf(stderr, "  message %zu: %s: %s\n", i, r.error.field, r.error.reason);
			return;
		}
		CHECK_EQ(m.type, types[i]);
		CHECK_EQ(r.offset, offsets[i] + m.size);
	}
	CHECK(!tessera_wire_reader_next(&r, &m));
	CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(r.offset, b.len);

	/* only PADs: nothing, no error */
	b.len = 0;
	append_pad(&b, 8, 0);
	append_pad(&b, TESSERA_WIRE_MAX_MESSAGE_SIZE, 0xff);
	tessera_wire_reader_init(&r, b.data, b.len, TESSERA_WIRE_EVENTS);
	CHECK(!tessera_wire_reader_next(&r, &m));
	CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_NONE);

	/* a PAD above the message limit is an error in a batch */
	b.len = 0;
	append_pad(&b, TESSERA_WIRE_MAX_MESSAGE_SIZE + 8, 0);
	tessera_wire_reader_init(&r, b.data, b.len, TESSERA_WIRE_REQUESTS);
	CHECK(!tessera_wire_reader_next(&r, &m));
	CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_SIZE);
}

/* The first error stops the batch; messages before it were returned. */
static void expect_batch_error(struct batch *b, size_t good, size_t bad_offset,
		enum tessera_wire_error_code code, const char *field, const char *label) {
	struct tessera_wire_reader r;
	struct tessera_wire_msg m;
	tessera_wire_reader_init(&r, b->data, b->len, TESSERA_WIRE_REQUESTS);
	size_t n = 0;
	while (tessera_wire_reader_next(&r, &m)) {
		n++;
	}
	bool ok = CHECK_EQ(n, good);
	ok = CHECK_EQ(r.error.code, code) && ok;
	ok = CHECK_EQ(r.error.offset, bad_offset) && ok;
	ok = CHECK_STR(r.error.field, field) && ok;
	if (!ok) {
		fprintf(stderr, "  case: %s (%s: %s)\n", label, r.error.field, r.error.reason);
	}
	/* sticky */
	CHECK(!tessera_wire_reader_next(&r, &m));
	CHECK_EQ(r.error.code, code);
	CHECK_EQ(r.error.offset, bad_offset);
}

static void test_errors(void) {
	static struct batch b;

	/* a bad message in the middle */
	b.len = 0;
	append_sample(&b, TESSERA_WIRE_SURFACE_CREATE);
	append_sample(&b, TESSERA_WIRE_COMMIT);
	size_t bad = b.len;
	append_sample(&b, TESSERA_WIRE_BUFFER_CREATE);
	le_put(b.data + bad + 28, 4, 4); /* stride < width * 4 */
	append_sample(&b, TESSERA_WIRE_SURFACE_DESTROY);
	expect_batch_error(&b, 2, bad, TESSERA_WIRE_ERROR_STRIDE, "BUFFER_CREATE.stride",
		"stride in the middle");

	/* trailing bytes shorter than a header */
	b.len = 0;
	append_sample(&b, TESSERA_WIRE_SURFACE_CREATE);
	memset(b.data + b.len, 0, 4);
	b.len += 4;
	expect_batch_error(&b, 1, 16, TESSERA_WIRE_ERROR_TRUNCATED, "header", "4 trailing bytes");

	/* last message's size beyond the end of the batch */
	b.len = 0;
	append_sample(&b, TESSERA_WIRE_SURFACE_CREATE);
	append_sample(&b, TESSERA_WIRE_COMMIT);
	b.len -= 8;
	expect_batch_error(&b, 1, 16, TESSERA_WIRE_ERROR_TRUNCATED, "header.size",
		"cut commit");

	/* misaligned size at the start */
	b.len = 0;
	append_sample(&b, TESSERA_WIRE_SURFACE_CREATE);
	le_put(b.data + 4, 4, 12);
	expect_batch_error(&b, 0, 0, TESSERA_WIRE_ERROR_ALIGNMENT, "header.size",
		"misaligned");

	/* an event in a request batch */
	b.len = 0;
	append_sample(&b, TESSERA_WIRE_WAIT);
	b.len = 0;
	append_sample(&b, TESSERA_WIRE_SURFACE_CREATE);
	append_sample(&b, TESSERA_WIRE_BUFFER_RELEASE);
	expect_batch_error(&b, 1, 16, TESSERA_WIRE_ERROR_UNKNOWN_TYPE, "header.type",
		"event among requests");

	/* WAIT must be last */
	b.len = 0;
	append_sample(&b, TESSERA_WIRE_SURFACE_CREATE);
	append_sample(&b, TESSERA_WIRE_WAIT);
	append_sample(&b, TESSERA_WIRE_SURFACE_DESTROY);
	expect_batch_error(&b, 1, 16, TESSERA_WIRE_ERROR_ORDER, "WAIT", "WAIT in the middle");
	b.len = 0;
	append_sample(&b, TESSERA_WIRE_WAIT);
	append_pad(&b, 8, 0);
	expect_batch_error(&b, 0, 0, TESSERA_WIRE_ERROR_ORDER, "WAIT", "WAIT before PAD");
	b.len = 0;
	append_sample(&b, TESSERA_WIRE_WAIT);
	append_sample(&b, TESSERA_WIRE_WAIT);
	expect_batch_error(&b, 0, 0, TESSERA_WIRE_ERROR_ORDER, "WAIT", "two WAITs");

	/* a message with size 0 cannot loop the reader */
	b.len = 0;
	memset(b.data, 0, 64);
	b.len = 64;
	le_put(b.data + 4, 4, 0);
	expect_batch_error(&b, 0, 0, TESSERA_WIRE_ERROR_SIZE, "header.size", "size 0");
}

static void test_batch_size(void) {
	static struct batch b;
	struct tessera_wire_reader r;
	struct tessera_wire_msg m;

	/* exactly the maximum: 16384 SURFACE_DESTROY messages */
	b.len = 0;
	while (b.len < TESSERA_WIRE_MAX_BATCH_SIZE) {
		append_sample(&b, TESSERA_WIRE_SURFACE_DESTROY);
	}
	CHECK_EQ(b.len, TESSERA_WIRE_MAX_BATCH_SIZE);
	tessera_wire_reader_init(&r, b.data, b.len, TESSERA_WIRE_REQUESTS);
	size_t n = 0;
	while (tessera_wire_reader_next(&r, &m)) {
		n++;
	}
	CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(n, TESSERA_WIRE_MAX_BATCH_SIZE / 16);

	/* 8 bytes more: rejected before any message */
	append_pad(&b, 8, 0);
	tessera_wire_reader_init(&r, b.data, b.len, TESSERA_WIRE_REQUESTS);
	CHECK(!tessera_wire_reader_next(&r, &m));
	CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_SIZE);
	CHECK_STR(r.error.field, "batch");
	CHECK_EQ(r.error.offset, 0);

	/* a size_t beyond anything */
	tessera_wire_reader_init(&r, b.data, SIZE_MAX, TESSERA_WIRE_REQUESTS);
	CHECK(!tessera_wire_reader_next(&r, &m));
	CHECK_EQ(r.error.code, TESSERA_WIRE_ERROR_SIZE);
}

/* Random garbage never crashes and either decodes or fails cleanly. */
static void test_garbage(void) {
	static struct batch b;
	uint32_t seed = 42;
	for (int round = 0; round < 3000; round++) {
		b.len = (size_t)(round % 512);
		for (size_t i = 0; i < b.len; i++) {
			seed = seed * 1664525 + 1013904223;
			b.data[i] = (uint8_t)(seed >> 24);
		}
		if (b.len >= 8 && round % 2 == 0) {
			/* plausible header: a known type and a fitting size */
			uint16_t type = wire_request_types[(seed >> 8) % wire_request_type_count];
			le_put(b.data, 2, type);
			le_put(b.data + 2, 2, 0);
			le_put(b.data + 4, 4, b.len & ~(size_t)7);
		}
		struct tessera_wire_reader r;
		struct tessera_wire_msg m;
		tessera_wire_reader_init(&r, b.data, b.len, round % 3 == 0 ?
			TESSERA_WIRE_EVENTS : TESSERA_WIRE_REQUESTS);
		size_t consumed = 0;
		while (tessera_wire_reader_next(&r, &m)) {
			CHECK(m.size >= 8 && m.size % 8 == 0);
			consumed += m.size;
		}
		CHECK(r.offset <= b.len);
		if (r.error.code != TESSERA_WIRE_ERROR_NONE) {
			CHECK(r.error.field != NULL && r.error.reason != NULL);
			CHECK(r.error.offset < b.len || b.len == 0);
		}
	}
}

int main(void) {
	test_empty();
	test_sequence();
	test_errors();
	test_batch_size();
	test_garbage();
	return test_finish("wire-batch");
}
