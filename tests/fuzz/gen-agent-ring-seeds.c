/*
 * Writes the seed corpus of the agent ring fuzz target
 * (fuzz-agent-ring.c) into the directory given as argument. The committed
 * seeds in corpus/agent-ring were made with it:
 *
 *	ninja -C build tests/fuzz/gen-agent-ring-seeds
 *	rm -rf tests/fuzz/corpus/agent-ring && mkdir tests/fuzz/corpus/agent-ring
 *	build/tests/fuzz/gen-agent-ring-seeds tests/fuzz/corpus/agent-ring
 *
 * A host that behaves (configures, frames, presentation, releases,
 * outputs, input, a keymap, popups and subsurfaces on the guest's side),
 * then one that does not: wrong HELLO_REPLY, fatal errors, bad keymaps,
 * framed garbage, a corrupt head, a status word, lost sessions, failing
 * submits.
 */
#include <stdint.h>
#include <string.h>

#include "gen-seeds.h"
#include "tessera-wire.h"

/* must match fuzz-agent-ring.c */
#define OP_RECORD 0x40
#define OP_SCRIBBLE 0x50
#define OP_KEYMAP 0x58
#define OP_DOORBELL 0x60
#define OP_LOST 0x70
#define OP_FAIL 0x78
#define OP_CLIENT 0x80
/* event_types[] indices */
enum { E_HELLO_REPLY, E_ERROR, E_KEYMAP, E_OUTPUT, E_OUTPUT_REMOVE,
	E_SURFACE_ENTER, E_SURFACE_LEAVE, E_FRAME_DONE, E_PRESENTED,
	E_BUFFER_RELEASE, E_CONFIGURE, E_CLOSE, E_POPUP_CONFIGURE,
	E_POPUP_REPOSITIONED, E_POPUP_DONE, E_POINTER_ENTER, E_POINTER_LEAVE,
	E_POINTER_MOTION, E_POINTER_BUTTON, E_POINTER_AXIS, E_POINTER_FRAME,
	E_KEYBOARD_ENTER, E_KEYBOARD_LEAVE, E_KEYBOARD_KEY, E_KEYBOARD_MODIFIERS,
	E_REPEAT_INFO };
enum { C_COMMIT, C_POPUP, C_SUBSURFACE, C_TITLE };

static void event(uint8_t type, uint8_t k) {
	put8(type);
	put8(k);
}

static void configure(uint8_t k, uint32_t serial, uint16_t w, uint16_t h) {
	event(E_CONFIGURE, k);
	put32(serial);
	put16(w);
	put16(h);
	put16(0);
	put16(0);
	put16(1 << 3); /* activated */
	put8(2); /* server-side decorations */
}

static void output(uint8_t id, uint16_t w, uint16_t h, uint8_t scale) {
	event(E_OUTPUT, id);
	put16(0);
	put16(0);
	put16(w);
	put16(h);
	put32(60000);
	put8(scale);
	put8(0);
	put16(300);
	put16(200);
}

static void client(uint8_t what) {
	put8((uint8_t)(OP_CLIENT | what));
}

/* the toplevel configured and shown, a frame done and presented */
static void window(void) {
	output(1, 1920, 1080, 1);
	configure(0, 5, 640, 480);
	put8(OP_DOORBELL);
	client(C_COMMIT);
	put8(0);
	event(E_SURFACE_ENTER, 0);
	put8(1);
	event(E_FRAME_DONE, 0);
	put32(1);
	put32(1000);
	event(E_PRESENTED, 0);
	put32(1);
	put32(10);
	put32(500);
	put32(16666666);
	put32(7);
	put16(1);
	put8(1);
	event(E_BUFFER_RELEASE, 0);
	put32(1);
	put8(OP_DOORBELL);
}

static void input(void) {
	event(E_POINTER_ENTER, 0);
	put32(11);
	put32(10 * 256);
	put32(12 * 256);
	event(E_POINTER_MOTION, 0);
	put32(2000);
	put32(11 * 256);
	put32(13 * 256);
	event(E_POINTER_BUTTON, 1);
	put32(12);
	put32(2001);
	put16(0x110);
	event(E_POINTER_AXIS, 0x0e);
	put32(2002);
	put32(256);
	put32(120);
	event(E_POINTER_FRAME, 0);
	event(E_KEYBOARD_ENTER, 0);
	put32(13);
	put8(2);
	put8(30);
	put8(31);
	event(E_KEYBOARD_KEY, 1);
	put32(14);
	put32(2003);
	put16(30);
	event(E_KEYBOARD_MODIFIERS, 0);
	put32(15);
	put32(1);
	put32(0);
	put32(0);
	put8(0);
	event(E_REPEAT_INFO, 0);
	put16(25);
	put16(600);
	put8(OP_DOORBELL);
	event(E_KEYBOARD_LEAVE, 0);
	put32(16);
	event(E_POINTER_LEAVE, 0);
	put32(17);
	put8(OP_DOORBELL);
}

static const char keymap_text[] =
	"xkb_keymap {\n"
	"xkb_keycodes \"fuzz\" { minimum = 8; maximum = 255; <ESC> = 9; <AE01> = 10; };\n"
	"xkb_types \"fuzz\" { type \"ONE_LEVEL\" { modifiers = none; level_name[Level1] = \"Any\"; }; };\n"
	"xkb_compat \"fuzz\" { };\n"
	"xkb_symbols \"fuzz\" { key <ESC> { [ Escape ] }; key <AE01> { [ 1 ] }; };\n"
	"};\n";

/* the host writes a keymap into the area and says so */
static void keymap(uint32_t size, const char *text, size_t len) {
	put8(OP_KEYMAP);
	put32(0);
	put16((uint16_t)len);
	put_bytes(text, len);
	event(E_KEYMAP, 0);
	put32(size);
	put8(OP_DOORBELL);
}

static void popup_and_subsurface(void) {
	client(C_POPUP);
	put16(64);
	put16(32);
	client(C_SUBSURFACE);
	put16(5);
	put16((uint16_t)-3);
	put8(OP_DOORBELL);
	event(E_POPUP_CONFIGURE, 1);
	put32(6);
	put16(4);
	put16(4);
	put16(64);
	put16(32);
	event(E_POPUP_REPOSITIONED, 1);
	put32(1);
	put8(OP_DOORBELL);
	client(C_COMMIT);
	put8(1);
	client(C_COMMIT);
	put8(2);
	event(E_POPUP_DONE, 1);
	put8(OP_DOORBELL);
	client(C_TITLE);
	put8(5);
	put_bytes("hello", 5);
	event(E_CLOSE, 0);
	put8(OP_DOORBELL);
}

static void valid_seeds(void) {
	seed_start();
	window();
	seed_save("window");

	seed_start();
	window();
	input();
	seed_save("input");

	seed_start();
	window();
	keymap(sizeof(keymap_text), keymap_text, sizeof(keymap_text));
	seed_save("keymap");

	seed_start();
	window();
	popup_and_subsurface();
	seed_save("popup-subsurface");

	seed_start();
	output(1, 1920, 1080, 1);
	output(2, 1280, 720, 2);
	output(1, 3840, 2160, 3);
	event(E_OUTPUT_REMOVE, 2);
	event(E_OUTPUT_REMOVE, 9);
	put8(OP_DOORBELL);
	seed_save("outputs");

	/* the session goes and comes back with everything re-created */
	seed_start();
	window();
	put8(OP_LOST);
	window();
	put8(OP_FAIL);
	client(C_COMMIT);
	put8(0);
	window();
	seed_save("lost-and-back");
}

static void error_seeds(void) {
	seed_start();
	event(E_HELLO_REPLY, 0);
	put8(2); /* version 2 */
	put8(0);
	put8(OP_DOORBELL);
	seed_save("bad-hello-reply");

	seed_start();
	window();
	event(E_ERROR, 4); /* a notice */
	put16(TESSERA_WIRE_COMMIT);
	put32(1);
	put8(1);
	put8(5);
	put_bytes("abcde", 5);
	event(E_ERROR, 0); /* fatal */
	put16(TESSERA_WIRE_SURFACE_CREATE);
	put32(1);
	put8(0);
	put8(3);
	put_bytes("bad", 3);
	put8(OP_DOORBELL);
	seed_save("bad-fatal-error");

	seed_start();
	keymap(16, "not a keymap", 12); /* no NUL at size - 1 */
	keymap(12, "not a keymap", 12);
	keymap(0, "", 0);
	event(E_KEYMAP, 1); /* another resource */
	put32(1234);
	put32(16);
	put8(OP_DOORBELL);
	keymap((1 << 20) + 1, "", 0);
	keymap(1 << 20, "", 0); /* the whole area, NUL at its end */
	seed_save("bad-keymap");

	/* framed records of garbage and of events with wrong sizes */
	seed_start();
	put8(OP_RECORD);
	put16(16);
	put16(TESSERA_WIRE_CONFIGURE);
	put16(0);
	put32(16);
	put32(1);
	put32(0);
	put8(OP_RECORD);
	put16(8);
	put16(0x7777);
	put16(0);
	put32(8);
	put8(OP_DOORBELL);
	seed_save("bad-records");

	static const struct {
		const char *name;
		uint16_t offset;
		uint32_t value;
	} scribbles[] = {
		{ "bad-head", TESSERA_WIRE_RING_OFF_HEAD, 0x10001 },
		{ "bad-head-unaligned", TESSERA_WIRE_RING_OFF_HEAD, 3 },
		{ "bad-status", TESSERA_WIRE_RING_OFF_STATUS, TESSERA_WIRE_ERROR_HOST },
		{ "bad-magic", TESSERA_WIRE_RING_OFF_MAGIC, 0 },
		{ "bad-data-size", TESSERA_WIRE_RING_OFF_DATA_SIZE, 12 },
	};
	for (size_t i = 0; i < sizeof(scribbles) / sizeof(scribbles[0]); i++) {
		seed_start();
		window();
		put8(OP_SCRIBBLE);
		put16(scribbles[i].offset);
		put16(4);
		put32(scribbles[i].value);
		put8(OP_DOORBELL);
		seed_save(scribbles[i].name);
	}

	/* a record that runs past the head */
	seed_start();
	put8(OP_SCRIBBLE);
	put16(TESSERA_WIRE_RING_HEADER_SIZE + 8);
	put16(8);
	put16(TESSERA_WIRE_FRAME_DONE);
	put16(0);
	put32(4096);
	put8(OP_SCRIBBLE);
	put16(TESSERA_WIRE_RING_OFF_HEAD);
	put16(4);
	put32(24);
	put8(OP_DOORBELL);
	seed_save("bad-record-past-head");

	/* events for surfaces and buffers that do not exist */
	seed_start();
	configure(0xff, 1, 10, 10);
	event(E_FRAME_DONE, 0xff);
	put32(1);
	put32(1);
	event(E_BUFFER_RELEASE, 7);
	put32(0);
	event(E_POINTER_ENTER, 0xff);
	put32(1);
	put32(0);
	put32(0);
	event(E_KEYBOARD_ENTER, 0xff);
	put32(1);
	put8(0);
	put8(OP_DOORBELL);
	seed_save("bad-unknown-objects");
}

static void write_seeds(void) {
	valid_seeds();
	error_seeds();
}

int main(int argc, char *argv[]) {
	return seed_main(argc, argv, write_seeds);
}
