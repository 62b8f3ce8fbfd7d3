/*
 * Every message of the wire protocol, checked against the byte layouts of
 * protocol/PROTOCOL.md: for each type a message struct and the expected
 * bytes are built side by side (the bytes with independent little-endian
 * helpers, from the spec's offset tables); the encoder must produce exactly
 * those bytes and the decoder must give the struct back. Then the framing
 * rejections that apply to every type (truncation, size, alignment, flags,
 * direction) and a canonical-encoding property: any single-byte change to a
 * valid message either fails to decode or decodes to a message that
 * re-encodes to the changed bytes (so every reserved byte and padding byte
 * is checked).
 */
#include <stdlib.h>

#include "wire-samples.h"
#include "wire-test.h"

static enum tessera_wire_direction dir_of(uint16_t type) {
	return type & 0x8000 ? TESSERA_WIRE_EVENTS : TESSERA_WIRE_REQUESTS;
}

/* Encoding gives the spec's bytes; decoding gives the struct back. */
static void test_layout(uint16_t type) {
	struct tessera_wire_msg m, decoded;
	static struct wire_bytes e;
	const char *name = tessera_wire_type_name(type);
	if (!CHECK(wire_sample(type, &m, &e)) || !CHECK(name != NULL)) {
		return;
	}

	uint8_t buf[TESSERA_WIRE_MAX_MESSAGE_SIZE + 16];
	struct tessera_wire_writer w;
	tessera_wire_writer_init(&w, buf, sizeof(buf));
	struct tessera_wire_error err = {0};
	enum tessera_wire_error_code code = tessera_wire_encode(&w, &m, &err);
	if (!CHECK_EQ(code, TESSERA_WIRE_ERROR_NONE)) {
		fprintf(stderr, "  %s: encode failed: %s: %s\n", name, err.field, err.reason);
		return;
	}
	CHECK_EQ(w.len, e.len);
	CHECK_EQ(tessera_wire_encoded_size(&m), e.len);
	if (!CHECK(w.len == e.len && memcmp(buf, e.bytes, e.len) == 0)) {
		fprintf(stderr, "  %s: encoding differs from PROTOCOL.md\n", name);
		hexdump("encoded", buf, w.len);
		hexdump("expected", e.bytes, e.len);
	}

	memset(&decoded, 0, sizeof(decoded));
	code = tessera_wire_decode(e.bytes, e.len, dir_of(type), &decoded, &err);
	if (!CHECK_EQ(code, TESSERA_WIRE_ERROR_NONE)) {
		fprintf(stderr, "  %s: decode failed: %s: %s\n", name, err.field, err.reason);
		return;
	}
	CHECK_EQ(decoded.type, type);
	CHECK_EQ(decoded.size, e.len);
	if (!CHECK(memcmp(&decoded, &m, sizeof(m)) == 0)) {
		fprintf(stderr, "  %s: decoded struct differs\n", name);
	}

	/* Trailing bytes after the message are not part of it. */
	memset(e.bytes + e.len, 0xee, 16);
	code = tessera_wire_decode(e.bytes, e.len + 16, dir_of(type), &decoded, &err);
	CHECK_EQ(code, TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(decoded.size, e.len);
}

static void expect_error(const uint8_t *bytes, size_t len, enum tessera_wire_direction dir,
		enum tessera_wire_error_code want, const char *label) {
	struct tessera_wire_msg m;
	struct tessera_wire_error err = {0};
	enum tessera_wire_error_code code = tessera_wire_decode(bytes, len, dir, &m, &err);
	if (!CHECK_EQ(code, want)) {
		fprintf(stderr, "  case: %s (got %s: %s: %s)\n", label,
			tessera_wire_error_code_name(code), err.field ? err.field : "-",
			err.reason ? err.reason : "-");
		return;
	}
	CHECK_EQ(err.code, want);
	CHECK(err.field != NULL && err.reason != NULL);
}

/* Framing rejections, for every type. */
static void test_framing(uint16_t type) {
	struct tessera_wire_msg m;
	static struct wire_bytes e;
	if (!CHECK(wire_sample(type, &m, &e))) {
		return;
	}
	enum tessera_wire_direction dir = dir_of(type);
	enum tessera_wire_direction other = dir == TESSERA_WIRE_REQUESTS ?
		TESSERA_WIRE_EVENTS : TESSERA_WIRE_REQUESTS;
	uint8_t buf[TESSERA_WIRE_MAX_MESSAGE_SIZE + 64];
	char label[128];
	const char *name = tessera_wire_type_name(type);

	/* short buffer: every length below the message size */
	for (size_t len = 0; len < e.len; len++) {
		snprintf(label, sizeof(label), "%s truncated to %zu bytes", name, len);
		expect_error(e.bytes, len, dir, TESSERA_WIRE_ERROR_TRUNCATED, label);
	}

	/* size field beyond the buffer (buffer is exact) */
	memcpy(buf, e.bytes, e.len);
	le_put(buf + 4, 4, e.len + 8);
	snprintf(label, sizeof(label), "%s size beyond the buffer", name);
	expect_error(buf, e.len, dir, TESSERA_WIRE_ERROR_TRUNCATED, label);

	/* size 8 larger than the layout, zero bytes appended */
	memset(buf + e.len, 0, 8);
	snprintf(label, sizeof(label), "%s size + 8", name);
	expect_error(buf, e.len + 8, dir, TESSERA_WIRE_ERROR_SIZE, label);

	/* size 8 smaller than the layout */
	le_put(buf + 4, 4, e.len - 8);
	snprintf(label, sizeof(label), "%s size - 8", name);
	if (e.len == 8) {
		expect_error(buf, e.len, dir, TESSERA_WIRE_ERROR_SIZE, label); /* size 0 */
	} else if (type == TESSERA_WIRE_SET_TITLE || type == TESSERA_WIRE_SET_APP_ID ||
			type == TESSERA_WIRE_ERROR || type == TESSERA_WIRE_COMMIT ||
			type == TESSERA_WIRE_SET_INPUT_REGION ||
			type == TESSERA_WIRE_KEYBOARD_ENTER || type == TESSERA_WIRE_SHARE_OFFER ||
			type == TESSERA_WIRE_CLIPBOARD_DATA ||
			type == TESSERA_WIRE_CLIPBOARD_PASTE) {
		/* variable part shorter than its count says */
		expect_error(buf, e.len, dir, TESSERA_WIRE_ERROR_SIZE, label);
	} else {
		expect_error(buf, e.len, dir, TESSERA_WIRE_ERROR_SHORT, label);
	}

	/* misaligned sizes */
	for (uint32_t delta = 1; delta < 8; delta++) {
		memcpy(buf, e.bytes, e.len);
		memset(buf + e.len, 0, 8);
		le_put(buf + 4, 4, e.len + delta);
		snprintf(label, sizeof(label), "%s size + %u", name, delta);
		expect_error(buf, e.len + 8, dir, TESSERA_WIRE_ERROR_ALIGNMENT, label);
	}

	/* sizes below the header and above the maximum */
	for (uint32_t bad = 0; bad < 8; bad++) {
		memcpy(buf, e.bytes, e.len);
		le_put(buf + 4, 4, bad);
		snprintf(label, sizeof(label), "%s size %u", name, bad);
		expect_error(buf, e.len, dir, TESSERA_WIRE_ERROR_SIZE, label);
	}
	static const uint32_t huge[] = {
		TESSERA_WIRE_MAX_MESSAGE_SIZE + 8, 0x7ffffff8, 0xfffffff8, 0xffffffff,
	};
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		memcpy(buf, e.bytes, e.len);
		le_put(buf + 4, 4, huge[i]);
		snprintf(label, sizeof(label), "%s size 0x%x", name, huge[i]);
		expect_error(buf, e.len, dir, TESSERA_WIRE_ERROR_SIZE, label);
	}

	/* header flags */
	for (int bit = 0; bit < 16; bit++) {
		memcpy(buf, e.bytes, e.len);
		le_put(buf + 2, 2, 1u << bit);
		snprintf(label, sizeof(label), "%s flags bit %d", name, bit);
		expect_error(buf, e.len, dir, TESSERA_WIRE_ERROR_FLAGS, label);
	}

	/* wrong direction */
	snprintf(label, sizeof(label), "%s in the wrong direction", name);
	expect_error(e.bytes, e.len, other, TESSERA_WIRE_ERROR_UNKNOWN_TYPE, label);
}

/* Every type value: known ones decode in their direction only. */
static void test_unknown_types(void) {
	uint8_t buf[16] = {0};
	size_t known = 0;
	for (uint32_t type = 0; type <= 0xffff; type++) {
		le_put(buf, 2, type);
		le_put(buf + 4, 4, 16);
		enum tessera_wire_direction dir;
		bool is_known = tessera_wire_type_direction((uint16_t)type, &dir);
		for (int d = 0; d < 2; d++) {
			struct tessera_wire_msg m;
			struct tessera_wire_error err = {0};
			enum tessera_wire_error_code code = tessera_wire_decode(buf, sizeof(buf),
				(enum tessera_wire_direction)d, &m, &err);
			if (type == TESSERA_WIRE_PAD) {
				CHECK_EQ(code, TESSERA_WIRE_ERROR_NONE);
			} else if (!is_known || (int)dir != d) {
				if (!CHECK_EQ(code, TESSERA_WIRE_ERROR_UNKNOWN_TYPE)) {
					fprintf(stderr, "  type 0x%04x direction %d\n", type, d);
				}
				CHECK_STR(err.field, "header.type");
			}
		}
		if (is_known) {
			known++;
			CHECK(tessera_wire_type_name((uint16_t)type) != NULL);
			CHECK_EQ(dir, dir_of((uint16_t)type));
		} else if (type != 0) {
			CHECK(tessera_wire_type_name((uint16_t)type) == NULL);
		}
	}
	CHECK_EQ(known, wire_request_type_count + wire_event_type_count);
	CHECK_STR(tessera_wire_type_name(TESSERA_WIRE_PAD), "PAD");
	CHECK_STR(tessera_wire_type_name(TESSERA_WIRE_BUFFER_CREATE), "BUFFER_CREATE");
	CHECK_STR(tessera_wire_type_name(TESSERA_WIRE_KEYBOARD_REPEAT_INFO), "KEYBOARD_REPEAT_INFO");
}

/* Any one-byte change either is rejected or yields a message whose
 * encoding is exactly the changed bytes: no byte is silently ignored. */
static void test_canonical(uint16_t type) {
	struct tessera_wire_msg m;
	static struct wire_bytes e;
	if (!CHECK(wire_sample(type, &m, &e))) {
		return;
	}
	static const uint8_t values[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xc0, 0xfe, 0xff};
	uint8_t buf[TESSERA_WIRE_MAX_MESSAGE_SIZE];
	uint8_t out[TESSERA_WIRE_MAX_MESSAGE_SIZE];
	size_t accepted = 0, rejected = 0;
	for (size_t pos = 0; pos < e.len; pos++) {
		for (size_t v = 0; v < sizeof(values); v++) {
			memcpy(buf, e.bytes, e.len);
			if (buf[pos] == values[v]) {
				continue;
			}
			buf[pos] = values[v];
			struct tessera_wire_msg d;
			struct tessera_wire_error err = {0};
			if (tessera_wire_decode(buf, e.len, dir_of(type), &d, &err) !=
					TESSERA_WIRE_ERROR_NONE) {
				rejected++;
				CHECK(err.field != NULL && err.reason != NULL);
				continue;
			}
			accepted++;
			if (d.type == TESSERA_WIRE_PAD) {
				/* type byte turned into PAD: its body is ignored by design */
				CHECK_EQ(d.size, e.len);
				continue;
			}
			struct tessera_wire_writer w;
			tessera_wire_writer_init(&w, out, sizeof(out));
			enum tessera_wire_error_code code = tessera_wire_encode(&w, &d, &err);
			if (!CHECK_EQ(code, TESSERA_WIRE_ERROR_NONE) ||
					!CHECK(w.len == d.size && memcmp(out, buf, w.len) == 0)) {
				fprintf(stderr, "  %s: byte %zu = 0x%02x accepted but not canonical\n",
					tessera_wire_type_name(type), pos, values[v]);
			}
		}
	}
	CHECK(rejected > 0);
	(void)accepted;
}

/* Encoder: bounded output, nothing appended on failure. */
static void test_encoder_bounds(void) {
	struct tessera_wire_msg m;
	static struct wire_bytes e;
	wire_sample(TESSERA_WIRE_COMMIT, &m, &e);
	uint8_t buf[256];
	memset(buf, 0xaa, sizeof(buf));
	struct tessera_wire_writer w;

	/* exactly enough room */
	tessera_wire_writer_init(&w, buf, e.len);
	CHECK_EQ(tessera_wire_encode(&w, &m, NULL), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(w.len, e.len);

	/* one byte short */
	memset(buf, 0xaa, sizeof(buf));
	tessera_wire_writer_init(&w, buf, e.len - 1);
	struct tessera_wire_error err = {0};
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_NO_SPACE);
	CHECK_EQ(err.code, TESSERA_WIRE_ERROR_NO_SPACE);
	CHECK_EQ(w.len, 0);
	CHECK_EQ(buf[0], 0xaa); /* untouched */

	/* appending until full: every message complete, then NO_SPACE */
	tessera_wire_writer_init(&w, buf, sizeof(buf));
	size_t n = 0;
	while (tessera_wire_encode(&w, &m, NULL) == TESSERA_WIRE_ERROR_NONE) {
		n++;
	}
	CHECK_EQ(n, sizeof(buf) / e.len);
	CHECK_EQ(w.len, n * e.len);

	/* invalid message: rejected, nothing appended */
	tessera_wire_writer_init(&w, buf, sizeof(buf));
	m.commit.scale = 0;
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_VALUE);
	CHECK_STR(err.field, "COMMIT.scale");
	CHECK_EQ(w.len, 0);

	/* counts beyond the struct arrays never read past them */
	static uint8_t big[2 * TESSERA_WIRE_MAX_MESSAGE_SIZE];
	tessera_wire_writer_init(&w, big, sizeof(big));
	wire_sample(TESSERA_WIRE_COMMIT, &m, &e);
	m.commit.damage_count = TESSERA_WIRE_MAX_DAMAGE_RECTS + 1;
	CHECK_EQ(tessera_wire_encoded_size(&m), 0);
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_COUNT);
	m.commit.damage_count = 0xffffffff;
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_COUNT);
	wire_sample(TESSERA_WIRE_SET_APP_ID, &m, &e);
	m.string.length = TESSERA_WIRE_MAX_APP_ID_LENGTH + 1;
	memset(m.string.text, 'a', m.string.length);
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_COUNT);
	CHECK_STR(err.field, "SET_APP_ID.length");
	m.string.length = TESSERA_WIRE_MAX_TITLE_LENGTH + 1;
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_COUNT);
	wire_sample(TESSERA_WIRE_KEYBOARD_ENTER, &m, &e);
	m.keyboard_enter.key_count = 1000;
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_COUNT);
	CHECK_EQ(w.len, 0);

	/* unknown type */
	memset(&m, 0, sizeof(m));
	m.type = 0x7777;
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_UNKNOWN_TYPE);
	CHECK_EQ(tessera_wire_encoded_size(&m), 0);

	/* PAD encodes as 8 bytes */
	tessera_wire_writer_init(&w, buf, sizeof(buf));
	m.type = TESSERA_WIRE_PAD;
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(w.len, 8);
	CHECK_EQ(le_get(buf, 2), 0);
	CHECK_EQ(le_get(buf + 4, 4), 8);
}

/* Largest messages fit MAX_MESSAGE_SIZE. */
static void test_maximal(void) {
	uint8_t buf[TESSERA_WIRE_MAX_MESSAGE_SIZE];
	struct tessera_wire_writer w;
	struct tessera_wire_error err = {0};
	static struct tessera_wire_msg m, d;

	memset(&m, 0, sizeof(m));
	m.type = TESSERA_WIRE_SET_INPUT_REGION;
	m.region.surface = 1;
	m.region.rect_count = TESSERA_WIRE_MAX_REGION_RECTS;
	for (int i = 0; i < TESSERA_WIRE_MAX_REGION_RECTS; i++) {
		m.region.rects[i] = (struct tessera_wire_rect){i, -i, i + 1, 1};
	}
	tessera_wire_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(w.len, 24 + 16 * TESSERA_WIRE_MAX_REGION_RECTS);
	CHECK_EQ(tessera_wire_decode(buf, w.len, TESSERA_WIRE_REQUESTS, &d, &err),
		TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(d.region.rect_count, TESSERA_WIRE_MAX_REGION_RECTS);
	CHECK_EQ(d.region.rects[255].x, 255);
	CHECK_EQ(d.region.rects[255].y, -255);

	memset(&m, 0, sizeof(m));
	m.type = TESSERA_WIRE_SET_TITLE;
	m.string.surface = 1;
	m.string.length = TESSERA_WIRE_MAX_TITLE_LENGTH;
	for (int i = 0; i < TESSERA_WIRE_MAX_TITLE_LENGTH; i += 2) {
		memcpy(m.string.text + i, "\xc3\xa9", 2); /* é */
	}
	tessera_wire_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(w.len, 16 + TESSERA_WIRE_MAX_TITLE_LENGTH);
	CHECK_EQ(tessera_wire_decode(buf, w.len, TESSERA_WIRE_REQUESTS, &d, &err),
		TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(d.string.length, TESSERA_WIRE_MAX_TITLE_LENGTH);
	CHECK_EQ(strlen(d.string.text), TESSERA_WIRE_MAX_TITLE_LENGTH);

	memset(&m, 0, sizeof(m));
	m.type = TESSERA_WIRE_COMMIT;
	m.commit.surface = 1;
	m.commit.scale = 1;
	m.commit.damage_count = TESSERA_WIRE_MAX_DAMAGE_RECTS;
	for (int i = 0; i < TESSERA_WIRE_MAX_DAMAGE_RECTS; i++) {
		m.commit.damage[i] = (struct tessera_wire_rect){16384 - 1, 16384 - 1 - i, 1, 1};
	}
	tessera_wire_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(w.len, 48 + 16 * TESSERA_WIRE_MAX_DAMAGE_RECTS);

	memset(&m, 0, sizeof(m));
	m.type = TESSERA_WIRE_KEYBOARD_ENTER;
	m.keyboard_enter.surface = 1;
	m.keyboard_enter.key_count = TESSERA_WIRE_MAX_KEYS;
	for (int i = 0; i < TESSERA_WIRE_MAX_KEYS; i++) {
		m.keyboard_enter.keys[i] = (uint32_t)i;
	}
	tessera_wire_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(w.len, 24 + 4 * TESSERA_WIRE_MAX_KEYS);

	memset(&m, 0, sizeof(m));
	m.type = TESSERA_WIRE_ERROR;
	m.error.code = TESSERA_WIRE_ERROR_OVERFLOW;
	m.error.count = UINT64_MAX;
	m.error.message_length = TESSERA_WIRE_MAX_ERROR_MESSAGE_LENGTH;
	memset(m.error.message, 'x', TESSERA_WIRE_MAX_ERROR_MESSAGE_LENGTH);
	tessera_wire_writer_init(&w, buf, sizeof(buf));
	CHECK_EQ(tessera_wire_encode(&w, &m, &err), TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(w.len, 40 + TESSERA_WIRE_MAX_ERROR_MESSAGE_LENGTH);
	CHECK_EQ(tessera_wire_decode(buf, w.len, TESSERA_WIRE_EVENTS, &d, &err),
		TESSERA_WIRE_ERROR_NONE);
	CHECK_EQ(d.error.count, UINT64_MAX);
}

static void test_names(void) {
	CHECK_STR(tessera_wire_error_code_name(TESSERA_WIRE_ERROR_STRIDE), "STRIDE");
	CHECK_STR(tessera_wire_error_code_name(TESSERA_WIRE_ERROR_OVERFLOW), "OVERFLOW");
	CHECK_STR(tessera_wire_error_code_name(12345), "UNKNOWN");
	CHECK(tessera_wire_error_is_fatal(TESSERA_WIRE_ERROR_TRUNCATED));
	CHECK(tessera_wire_error_is_fatal(TESSERA_WIRE_ERROR_RING));
	CHECK(!tessera_wire_error_is_fatal(TESSERA_WIRE_ERROR_NONE));
	CHECK(!tessera_wire_error_is_fatal(TESSERA_WIRE_ERROR_OVERFLOW));
	CHECK(!tessera_wire_error_is_fatal(TESSERA_WIRE_ERROR_BUFFER_FAILED));
	for (uint32_t code = 1; code < 0x300; code++) {
		const char *name = tessera_wire_error_code_name(code);
		CHECK(name != NULL);
	}
}

int main(void) {
	for (size_t i = 0; i < wire_request_type_count; i++) {
		test_layout(wire_request_types[i]);
		test_framing(wire_request_types[i]);
		test_canonical(wire_request_types[i]);
	}
	for (size_t i = 0; i < wire_event_type_count; i++) {
		test_layout(wire_event_types[i]);
		test_framing(wire_event_types[i]);
		test_canonical(wire_event_types[i]);
	}
	test_unknown_types();
	test_encoder_bounds();
	test_maximal();
	test_names();
	return test_finish("wire-messages");
}
