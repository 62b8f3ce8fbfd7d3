/*
 * Writes the seed corpus of the wire fuzz target (fuzz-wire.c) into the
 * directory given as argument. The committed seeds in corpus/wire were made
 * with it:
 *
 *	ninja -C build tests/fuzz/gen-wire-seeds
 *	rm -rf tests/fuzz/corpus/wire && mkdir tests/fuzz/corpus/wire
 *	build/tests/fuzz/gen-wire-seeds tests/fuzz/corpus/wire
 *
 * Each seed is a mode byte (see fuzz-wire.c) followed by its input: every
 * request and event sample alone, realistic batches, a few invalid ones,
 * ring images (one wrapped), ring writer scripts and strings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera-wire.h"
#include "wire-samples.h"

static const char *dir;
static int written;

static void put_le(uint8_t *p, size_t width, uint64_t v) {
	for (size_t i = 0; i < width; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static void save(const char *name, uint8_t mode, const void *data, size_t len) {
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fputc(mode, f) == EOF || fwrite(data, 1, len, f) != len ||
			fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	written++;
}

static uint8_t batch[64 * 1024];
static size_t batch_len;

static void add(uint16_t type) {
	struct tessera_wire_msg m;
	static struct wire_bytes e;
	if (!wire_sample(type, &m, &e) || batch_len + e.len > sizeof(batch)) {
		fprintf(stderr, "no sample for 0x%04x\n", type);
		exit(1);
	}
	memcpy(batch + batch_len, e.bytes, e.len);
	batch_len += e.len;
}

static void add_pad(size_t size) {
	memset(batch + batch_len, 0, size);
	put_le(batch + batch_len + 4, 4, size);
	batch_len += size;
}

static void lowercase_name(char *out, size_t size, const char *prefix, uint16_t type) {
	snprintf(out, size, "%s-%s", prefix, tessera_wire_type_name(type));
	for (char *c = out; *c; c++) {
		if (*c >= 'A' && *c <= 'Z') {
			*c = (char)(*c - 'A' + 'a');
		} else if (*c == '_') {
			*c = '-';
		}
	}
}

static void batches(void) {
	char name[128];
	for (size_t i = 0; i < wire_request_type_count; i++) {
		batch_len = 0;
		add(wire_request_types[i]);
		lowercase_name(name, sizeof(name), "req", wire_request_types[i]);
		save(name, 0, batch, batch_len);
	}
	for (size_t i = 0; i < wire_event_type_count; i++) {
		batch_len = 0;
		add(wire_event_types[i]);
		lowercase_name(name, sizeof(name), "evt", wire_event_types[i]);
		save(name, 1, batch, batch_len);
	}

	static const uint16_t session[] = {
		TESSERA_WIRE_HELLO, TESSERA_WIRE_EVENT_RING, TESSERA_WIRE_SET_KEYMAP_AREA,
		TESSERA_WIRE_SURFACE_CREATE, TESSERA_WIRE_TOPLEVEL_CREATE, TESSERA_WIRE_SET_TITLE,
		TESSERA_WIRE_SET_APP_ID, TESSERA_WIRE_SET_WINDOW_GEOMETRY,
		TESSERA_WIRE_TOPLEVEL_SET_SIZE_LIMITS, TESSERA_WIRE_BUFFER_CREATE,
		TESSERA_WIRE_COMMIT, TESSERA_WIRE_SET_INPUT_REGION, TESSERA_WIRE_WAIT,
	};
	batch_len = 0;
	for (size_t i = 0; i < sizeof(session) / sizeof(session[0]); i++) {
		add(session[i]);
	}
	save("req-batch-session", 0, batch, batch_len);

	batch_len = 0;
	for (size_t i = 0; i < wire_request_type_count; i++) {
		if (wire_request_types[i] != TESSERA_WIRE_WAIT) {
			add(wire_request_types[i]);
		}
	}
	add(TESSERA_WIRE_WAIT);
	save("req-batch-all", 0, batch, batch_len);

	batch_len = 0;
	add(TESSERA_WIRE_SURFACE_CREATE);
	add_pad(8);
	add(TESSERA_WIRE_POPUP_CREATE);
	add_pad(40);
	add(TESSERA_WIRE_SUBSURFACE_PLACE);
	save("req-batch-pad", 0, batch, batch_len);

	batch_len = 0;
	for (size_t i = 0; i < wire_event_type_count; i++) {
		add(wire_event_types[i]);
	}
	save("evt-batch-all", 1, batch, batch_len);

	/* invalid ones, so the fuzzer starts next to the error paths */
	batch_len = 0;
	add(TESSERA_WIRE_BUFFER_CREATE);
	put_le(batch + 28, 4, 4);
	save("req-bad-stride", 0, batch, batch_len);
	batch_len = 0;
	add(TESSERA_WIRE_SET_TITLE);
	batch[20] = 0xc0;
	save("req-bad-title-utf8", 0, batch, batch_len);
	batch_len = 0;
	add(TESSERA_WIRE_COMMIT);
	save("req-truncated-commit", 0, batch, batch_len - 8);
	batch_len = 0;
	add(TESSERA_WIRE_WAIT);
	add(TESSERA_WIRE_SURFACE_CREATE);
	save("req-wait-not-last", 0, batch, batch_len);
	batch_len = 0;
	add(TESSERA_WIRE_KEYBOARD_ENTER);
	put_le(batch + 16, 4, 65);
	save("evt-bad-key-count", 1, batch, batch_len);
}

#define RING_DATA 16384u
#define RING_AREA (TESSERA_WIRE_RING_HEADER_SIZE + RING_DATA)

static void rings(void) {
	static _Alignas(64) uint8_t area[RING_AREA];
	static uint8_t image[4 + RING_DATA];
	struct tessera_wire_ring_writer w;
	struct tessera_wire_ring_reader r;
	struct tessera_wire_msg m;

	/* a few events, no wrap: head + the used bytes only */
	tessera_wire_ring_format(area, RING_AREA);
	tessera_wire_ring_writer_init(&w, area, RING_AREA, NULL);
	for (size_t i = 0; i < wire_event_type_count; i++) {
		static struct wire_bytes e;
		wire_sample(wire_event_types[i], &m, &e);
		tessera_wire_ring_write(&w, &m);
	}
	put_le(image, 4, w.head);
	memcpy(image + 4, area + TESSERA_WIRE_RING_HEADER_SIZE, w.head);
	save("ring-events", 2, image, 4 + w.head);

	/* wrapped: a PAD at the end, records at the start */
	tessera_wire_ring_format(area, RING_AREA);
	tessera_wire_ring_writer_init(&w, area, RING_AREA, NULL);
	tessera_wire_ring_reader_init(&r, area, RING_AREA);
	for (uint32_t i = 0; i < 700; i++) {
		memset(&m, 0, sizeof(m));
		m.type = TESSERA_WIRE_POINTER_MOTION;
		m.pointer_motion.time = i;
		tessera_wire_ring_write(&w, &m);
		if (i < 690) {
			while (tessera_wire_ring_reader_next(&r, &m)) {
			}
		}
	}
	/* The fuzz reader starts at tail 0: present the whole data area as
	 * unread (head = data size). It holds the records written after the
	 * wrap, older records behind them and the PAD at the end. */
	put_le(image, 4, RING_DATA);
	memcpy(image + 4, area + TESSERA_WIRE_RING_HEADER_SIZE, RING_DATA);
	save("ring-wrapped-full", 2, image, 4 + RING_DATA);

	/* writer scripts: fill, read, scribble tails, overflow */
	uint8_t script[512];
	size_t n = 0;
	for (int i = 0; i < 40; i++) {
		script[n++] = 1; /* write a release */
	}
	script[n++] = 4; /* read */
	script[n++] = 2; /* tail := */
	put_le(script + n, 4, 0xfffffff8);
	n += 4;
	script[n++] = 1;
	save("ringw-bad-tail", 3, script, n);

	n = 0;
	script[n++] = 0; /* write an event from the input */
	{
		static struct wire_bytes e;
		wire_sample(TESSERA_WIRE_CONFIGURE, &m, &e);
		memcpy(script + n, e.bytes, e.len);
		n += e.len;
		script[n++] = 0;
		wire_sample(TESSERA_WIRE_KEYBOARD_ENTER, &m, &e);
		memcpy(script + n, e.bytes, e.len);
		n += e.len;
	}
	script[n++] = 3; /* scribble data */
	script[n++] = 0;
	script[n++] = 70;
	script[n++] = 0xff;
	script[n++] = 4;
	script[n++] = 5;
	save("ringw-events", 3, script, n);

	n = 0;
	for (int i = 0; i < 250; i++) {
		script[n++] = 1;
	}
	script[n++] = 5;
	script[n++] = 4;
	script[n++] = 1;
	save("ringw-overflow", 3, script, n);
}

static void strings(void) {
	static const char *texts[] = {
		"\x20Hello, world",
		"\xc8title with \xc3\xa9 and \xf0\x9f\x98\x80 and \xe2\x80\xae bidi",
		"\x10" "bad \xff\xfe bytes \xc0\x80 overlong \xed\xa0\x80 surrogate\ttab",
		"\x03" "ab\xe2\x82\xac",
	};
	char name[64];
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		snprintf(name, sizeof(name), "string-%zu", i);
		save(name, 4, texts[i], strlen(texts[i]));
	}
}

int main(int argc, char *argv[]) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	batches();
	rings();
	strings();
	printf("wrote %d seeds to %s\n", written, dir);
	return 0;
}
