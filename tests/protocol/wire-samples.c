/*
 * Sample messages shared by the wire tests and the fuzz seed generator:
 * for every type a valid message struct with distinctive values and its
 * bytes as PROTOCOL.md lays them out, built with little-endian helpers that
 * do not use the codec.
 */
#include <string.h>

#include "wire-samples.h"

static void le_put(uint8_t *p, size_t width, uint64_t v) {
	for (size_t i = 0; i < width; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

const uint16_t wire_request_types[] = {
	TESSERA_WIRE_HELLO, TESSERA_WIRE_EVENT_RING, TESSERA_WIRE_SET_KEYMAP_AREA,
	TESSERA_WIRE_WAIT, TESSERA_WIRE_SURFACE_CREATE, TESSERA_WIRE_SURFACE_DESTROY,
	TESSERA_WIRE_COMMIT, TESSERA_WIRE_SET_INPUT_REGION, TESSERA_WIRE_SET_OPAQUE_REGION,
	TESSERA_WIRE_BUFFER_CREATE, TESSERA_WIRE_BUFFER_DESTROY, TESSERA_WIRE_TOPLEVEL_CREATE,
	TESSERA_WIRE_SET_TITLE, TESSERA_WIRE_SET_APP_ID, TESSERA_WIRE_TOPLEVEL_SET_PARENT,
	TESSERA_WIRE_TOPLEVEL_SET_SIZE_LIMITS, TESSERA_WIRE_TOPLEVEL_REQUEST,
	TESSERA_WIRE_TOPLEVEL_MOVE, TESSERA_WIRE_TOPLEVEL_RESIZE,
	TESSERA_WIRE_TOPLEVEL_SHOW_WINDOW_MENU, TESSERA_WIRE_TOPLEVEL_SET_DECORATION,
	TESSERA_WIRE_ACK_CONFIGURE, TESSERA_WIRE_SET_WINDOW_GEOMETRY, TESSERA_WIRE_POPUP_CREATE,
	TESSERA_WIRE_POPUP_GRAB, TESSERA_WIRE_POPUP_REPOSITION, TESSERA_WIRE_SUBSURFACE_CREATE,
	TESSERA_WIRE_SUBSURFACE_SET_POSITION, TESSERA_WIRE_SUBSURFACE_PLACE,
	TESSERA_WIRE_SUBSURFACE_SET_SYNC, TESSERA_WIRE_SET_CURSOR,
	TESSERA_WIRE_CLIPBOARD_DATA, TESSERA_WIRE_CLIPBOARD_FAIL, TESSERA_WIRE_SHARE_BUFFER,
};

const uint16_t wire_event_types[] = {
	TESSERA_WIRE_HELLO_REPLY, TESSERA_WIRE_ERROR, TESSERA_WIRE_KEYMAP, TESSERA_WIRE_OUTPUT,
	TESSERA_WIRE_OUTPUT_REMOVE, TESSERA_WIRE_SURFACE_ENTER, TESSERA_WIRE_SURFACE_LEAVE,
	TESSERA_WIRE_FRAME_DONE, TESSERA_WIRE_PRESENTED, TESSERA_WIRE_BUFFER_RELEASE,
	TESSERA_WIRE_CONFIGURE, TESSERA_WIRE_CLOSE, TESSERA_WIRE_POPUP_CONFIGURE,
	TESSERA_WIRE_POPUP_REPOSITIONED, TESSERA_WIRE_POPUP_DONE, TESSERA_WIRE_POINTER_ENTER,
	TESSERA_WIRE_POINTER_LEAVE, TESSERA_WIRE_POINTER_MOTION, TESSERA_WIRE_POINTER_BUTTON,
	TESSERA_WIRE_POINTER_AXIS, TESSERA_WIRE_POINTER_FRAME, TESSERA_WIRE_KEYBOARD_ENTER,
	TESSERA_WIRE_KEYBOARD_LEAVE, TESSERA_WIRE_KEYBOARD_KEY, TESSERA_WIRE_KEYBOARD_MODIFIERS,
	TESSERA_WIRE_KEYBOARD_REPEAT_INFO, TESSERA_WIRE_CLIPBOARD_REQUEST,
	TESSERA_WIRE_CLIPBOARD_PASTE, TESSERA_WIRE_CLIPBOARD_CANCEL, TESSERA_WIRE_SHARE_OFFER,
	TESSERA_WIRE_SHARE_END, TESSERA_WIRE_SHARE_FRAME,
};

const size_t wire_request_type_count = sizeof(wire_request_types) / sizeof(wire_request_types[0]);
const size_t wire_event_type_count = sizeof(wire_event_types) / sizeof(wire_event_types[0]);

static void start(struct wire_bytes *e, uint16_t type, size_t size) {
	memset(e->bytes, 0, sizeof(e->bytes));
	le_put(e->bytes, 2, type);
	le_put(e->bytes + 4, 4, size);
	e->len = size;
}

#define P16(off, v) le_put(e->bytes + (off), 2, (uint64_t)(v))
#define P32(off, v) le_put(e->bytes + (off), 4, (uint64_t)(uint32_t)(v))
#define P64(off, v) le_put(e->bytes + (off), 8, (uint64_t)(v))

static void positioner(struct tessera_wire_positioner *p, struct wire_bytes *e) {
	p->width = 200;
	p->height = 300;
	p->anchor_x = -10;
	p->anchor_y = 20;
	p->anchor_width = 30;
	p->anchor_height = 0;
	p->anchor = 8;
	p->gravity = 5;
	p->constraint_adjustment = 0x3f;
	p->offset_x = -3;
	p->offset_y = 4;
	p->flags = TESSERA_WIRE_POSITIONER_REACTIVE | TESSERA_WIRE_POSITIONER_PARENT_SIZE |
		TESSERA_WIRE_POSITIONER_PARENT_CONFIGURE;
	p->parent_width = 640;
	p->parent_height = 480;
	p->parent_configure = 77;
	P32(16, 200); P32(20, 300); P32(24, -10); P32(28, 20); P32(32, 30); P32(36, 0);
	P32(40, 8); P32(44, 5); P32(48, 0x3f); P32(52, -3); P32(56, 4); P32(60, 7);
	P32(64, 640); P32(68, 480); P32(72, 77); P32(76, 0);
}

/*
 * A valid message of `type` with distinctive field values, and its bytes
 * per PROTOCOL.md. Returns false for an unknown type.
 */
bool wire_sample(uint16_t type, struct tessera_wire_msg *m, struct wire_bytes *e) {
	memset(m, 0, sizeof(*m));
	m->type = type;
	switch (type) {
	case TESSERA_WIRE_HELLO:
		m->hello.max_version = 3;
		m->hello.min_version = 1;
		m->hello.features = 0x8000000000000001ull;
		start(e, type, 24); P32(8, 3); P32(12, 1); P64(16, 0x8000000000000001ull);
		break;
	case TESSERA_WIRE_EVENT_RING:
		m->area.resource = 42;
		m->area.size = 64 + 65536;
		m->area.offset = 4096;
		start(e, type, 24); P32(8, 42); P32(12, 64 + 65536); P64(16, 4096);
		break;
	case TESSERA_WIRE_SET_KEYMAP_AREA:
		m->area.resource = 43;
		m->area.size = 100000;
		m->area.offset = 0x100000001ull;
		start(e, type, 24); P32(8, 43); P32(12, 100000); P64(16, 0x100000001ull);
		break;
	case TESSERA_WIRE_WAIT:
	case TESSERA_WIRE_POINTER_FRAME:
		start(e, type, 8);
		break;
	case TESSERA_WIRE_SURFACE_CREATE:
	case TESSERA_WIRE_SURFACE_DESTROY:
		m->surface.surface = 0xfffffffe;
		start(e, type, 16); P32(8, 0xfffffffe);
		break;
	case TESSERA_WIRE_TOPLEVEL_CREATE:
		m->toplevel_create.surface = 5;
		start(e, type, 16); P32(8, 5);
		break;
	case TESSERA_WIRE_COMMIT:
		m->commit.surface = 1;
		m->commit.buffer = 2;
		m->commit.serial = 0xdeadbeef;
		m->commit.flags = TESSERA_WIRE_COMMIT_FRAME | TESSERA_WIRE_COMMIT_PRESENTATION;
		m->commit.dx = -5;
		m->commit.dy = 6;
		m->commit.scale = 2;
		m->commit.transform = 7;
		m->commit.damage_count = 2;
		m->commit.damage[0] = (struct tessera_wire_rect){0, 0, 16384, 1};
		m->commit.damage[1] = (struct tessera_wire_rect){10, 20, 30, 40};
		start(e, type, 48 + 32);
		P32(8, 1); P32(12, 2); P32(16, 0xdeadbeef); P32(20, 3); P32(24, -5); P32(28, 6);
		P32(32, 2); P32(36, 7); P32(40, 2);
		P32(48, 0); P32(52, 0); P32(56, 16384); P32(60, 1);
		P32(64, 10); P32(68, 20); P32(72, 30); P32(76, 40);
		break;
	case TESSERA_WIRE_SET_INPUT_REGION:
		m->region.surface = 3;
		m->region.rect_count = 1;
		m->region.rects[0] = (struct tessera_wire_rect){-1048576, 1048576, 1, 1048576};
		start(e, type, 24 + 16);
		P32(8, 3); P32(16, 1); P32(24, -1048576); P32(28, 1048576); P32(32, 1);
		P32(36, 1048576);
		break;
	case TESSERA_WIRE_SET_OPAQUE_REGION:
		m->region.surface = 4;
		m->region.flags = TESSERA_WIRE_REGION_INFINITE;
		start(e, type, 24); P32(8, 4); P32(12, 1);
		break;
	case TESSERA_WIRE_BUFFER_CREATE:
		m->buffer_create.buffer = 9;
		m->buffer_create.resource = 10;
		m->buffer_create.format = TESSERA_WIRE_FORMAT_ARGB8888;
		m->buffer_create.width = 640;
		m->buffer_create.height = 480;
		m->buffer_create.stride = 2560;
		m->buffer_create.offset = 0x200000000ull;
		start(e, type, 40);
		P32(8, 9); P32(12, 10); P32(16, 0x34325241); P32(20, 640); P32(24, 480);
		P32(28, 2560); P64(32, 0x200000000ull);
		break;
	case TESSERA_WIRE_BUFFER_DESTROY:
		m->buffer_destroy.buffer = 9;
		start(e, type, 16); P32(8, 9);
		break;
	case TESSERA_WIRE_SET_TITLE: {
		const char *title = "Fen\xc3\xaatre \xe2\x80\x94\xf0\x9f\x98\x80"; /* 16 bytes */
		m->string.surface = 5;
		m->string.length = (uint32_t)strlen(title);
		memcpy(m->string.text, title, strlen(title) + 1);
		start(e, type, 32);
		P32(8, 5); P32(12, strlen(title));
		memcpy(e->bytes + 16, title, strlen(title));
		break;
	}
	case TESSERA_WIRE_SET_APP_ID:
		m->string.surface = 5;
		m->string.length = 7;
		memcpy(m->string.text, "org.foo", 8);
		start(e, type, 24);
		P32(8, 5); P32(12, 7);
		memcpy(e->bytes + 16, "org.foo", 7);
		break;
	case TESSERA_WIRE_TOPLEVEL_SET_PARENT:
		m->set_parent.surface = 5;
		m->set_parent.parent = 6;
		start(e, type, 16); P32(8, 5); P32(12, 6);
		break;
	case TESSERA_WIRE_TOPLEVEL_SET_SIZE_LIMITS:
		m->size_limits.surface = 5;
		m->size_limits.min_width = 100;
		m->size_limits.min_height = 50;
		m->size_limits.max_width = 0;
		m->size_limits.max_height = 16384;
		start(e, type, 32); P32(8, 5); P32(12, 100); P32(16, 50); P32(20, 0); P32(24, 16384);
		break;
	case TESSERA_WIRE_TOPLEVEL_REQUEST:
		m->toplevel_request.surface = 5;
		m->toplevel_request.action = TESSERA_WIRE_TOPLEVEL_SET_FULLSCREEN;
		m->toplevel_request.output = 2;
		start(e, type, 24); P32(8, 5); P32(12, 3); P32(16, 2);
		break;
	case TESSERA_WIRE_TOPLEVEL_MOVE:
	case TESSERA_WIRE_ACK_CONFIGURE:
	case TESSERA_WIRE_POPUP_GRAB:
		m->surface_serial.surface = 5;
		m->surface_serial.serial = 0xffffffff;
		start(e, type, 16); P32(8, 5); P32(12, 0xffffffff);
		break;
	case TESSERA_WIRE_TOPLEVEL_RESIZE:
		m->resize.surface = 5;
		m->resize.serial = 11;
		m->resize.edges = 10;
		start(e, type, 24); P32(8, 5); P32(12, 11); P32(16, 10);
		break;
	case TESSERA_WIRE_TOPLEVEL_SHOW_WINDOW_MENU:
		m->window_menu.surface = 5;
		m->window_menu.serial = 12;
		m->window_menu.x = -7;
		m->window_menu.y = 8;
		start(e, type, 24); P32(8, 5); P32(12, 12); P32(16, -7); P32(20, 8);
		break;
	case TESSERA_WIRE_TOPLEVEL_SET_DECORATION:
		m->decoration.surface = 5;
		m->decoration.mode = TESSERA_WIRE_DECORATION_SERVER_SIDE;
		start(e, type, 16); P32(8, 5); P32(12, 2);
		break;
	case TESSERA_WIRE_SET_WINDOW_GEOMETRY:
		m->window_geometry.surface = 5;
		m->window_geometry.x = -24;
		m->window_geometry.y = 16;
		m->window_geometry.width = 800;
		m->window_geometry.height = 600;
		start(e, type, 32); P32(8, 5); P32(16, -24); P32(20, 16); P32(24, 800);
		P32(28, 600);
		break;
	case TESSERA_WIRE_POPUP_CREATE:
		m->popup_create.surface = 20;
		m->popup_create.parent = 5;
		start(e, type, 80); P32(8, 20); P32(12, 5);
		positioner(&m->popup_create.positioner, e);
		break;
	case TESSERA_WIRE_POPUP_REPOSITION:
		m->popup_reposition.surface = 20;
		m->popup_reposition.token = 0;
		start(e, type, 80); P32(8, 20); P32(12, 0);
		positioner(&m->popup_reposition.positioner, e);
		break;
	case TESSERA_WIRE_SUBSURFACE_CREATE:
		m->subsurface_create.surface = 30;
		m->subsurface_create.parent = 5;
		start(e, type, 16); P32(8, 30); P32(12, 5);
		break;
	case TESSERA_WIRE_SUBSURFACE_SET_POSITION:
		m->subsurface_position.surface = 30;
		m->subsurface_position.x = -1048576;
		m->subsurface_position.y = 1048576;
		start(e, type, 24); P32(8, 30); P32(16, -1048576); P32(20, 1048576);
		break;
	case TESSERA_WIRE_SUBSURFACE_PLACE:
		m->subsurface_place.surface = 30;
		m->subsurface_place.sibling = 5;
		m->subsurface_place.above = 1;
		start(e, type, 24); P32(8, 30); P32(12, 5); P32(16, 1);
		break;
	case TESSERA_WIRE_SUBSURFACE_SET_SYNC:
		m->subsurface_sync.surface = 30;
		m->subsurface_sync.sync = 1;
		start(e, type, 16); P32(8, 30); P32(12, 1);
		break;
	case TESSERA_WIRE_SET_CURSOR:
		m->set_cursor.surface = 0;
		m->set_cursor.serial = 99;
		m->set_cursor.hotspot_x = 3;
		m->set_cursor.hotspot_y = -4;
		start(e, type, 24); P32(12, 99); P32(16, 3); P32(20, -4);
		break;

	case TESSERA_WIRE_HELLO_REPLY:
		m->hello_reply.version = 1;
		m->hello_reply.features = 0;
		start(e, type, 24); P32(8, 1);
		break;
	case TESSERA_WIRE_ERROR:
		m->error.code = TESSERA_WIRE_ERROR_STRIDE;
		m->error.request_type = TESSERA_WIRE_BUFFER_CREATE;
		m->error.object = 9;
		m->error.offset = 128;
		m->error.count = 0;
		m->error.message_length = 9;
		memcpy(m->error.message, "bad strid", 10);
		start(e, type, 56);
		P32(8, 13); P16(12, 0x18); P32(16, 9); P32(20, 128); P64(24, 0); P32(32, 9);
		memcpy(e->bytes + 40, "bad strid", 9);
		break;
	case TESSERA_WIRE_KEYMAP:
		m->keymap.resource = 44;
		m->keymap.size = 65536;
		m->keymap.format = TESSERA_WIRE_KEYMAP_FORMAT_XKB_V1;
		start(e, type, 24); P32(8, 44); P32(12, 65536); P32(16, 1);
		break;
	case TESSERA_WIRE_OUTPUT:
		m->output.output = 1;
		m->output.x = -1920;
		m->output.y = 0;
		m->output.width = 1920;
		m->output.height = 1080;
		m->output.refresh_mhz = 60000;
		m->output.scale = 2;
		m->output.transform = 1;
		m->output.physical_width_mm = 520;
		m->output.physical_height_mm = 290;
		start(e, type, 48);
		P32(8, 1); P32(12, -1920); P32(16, 0); P32(20, 1920); P32(24, 1080); P32(28, 60000);
		P32(32, 2); P32(36, 1); P32(40, 520); P32(44, 290);
		break;
	case TESSERA_WIRE_OUTPUT_REMOVE:
		m->output_remove.output = 1;
		start(e, type, 16); P32(8, 1);
		break;
	case TESSERA_WIRE_SURFACE_ENTER:
	case TESSERA_WIRE_SURFACE_LEAVE:
		m->surface_output.surface = 5;
		m->surface_output.output = 1;
		start(e, type, 16); P32(8, 5); P32(12, 1);
		break;
	case TESSERA_WIRE_FRAME_DONE:
		m->frame_done.surface = 5;
		m->frame_done.serial = 0xdeadbeef;
		m->frame_done.time = 123456;
		start(e, type, 24); P32(8, 5); P32(12, 0xdeadbeef); P32(16, 123456);
		break;
	case TESSERA_WIRE_PRESENTED:
		m->presented.surface = 5;
		m->presented.serial = 0xdeadbeef;
		m->presented.tv_sec = 0x123456789ull;
		m->presented.tv_nsec = 999999999;
		m->presented.refresh_ns = 16666666;
		m->presented.seq = 0xabcdef0123ull;
		m->presented.flags = 0xf;
		m->presented.output = 1;
		start(e, type, 48);
		P32(8, 5); P32(12, 0xdeadbeef); P64(16, 0x123456789ull); P32(24, 999999999);
		P32(28, 16666666); P64(32, 0xabcdef0123ull); P32(40, 0xf); P32(44, 1);
		break;
	case TESSERA_WIRE_BUFFER_RELEASE:
		m->buffer_release.buffer = 9;
		m->buffer_release.release_point = 0x100000000ull;
		start(e, type, 24); P32(8, 9); P64(16, 0x100000000ull);
		break;
	case TESSERA_WIRE_CONFIGURE:
		m->configure.surface = 5;
		m->configure.serial = 17;
		m->configure.width = 0;
		m->configure.height = 600;
		m->configure.bounds_width = 1920;
		m->configure.bounds_height = 1050;
		m->configure.states = 0x1ff;
		m->configure.decoration = TESSERA_WIRE_DECORATION_CLIENT_SIDE;
		start(e, type, 40);
		P32(8, 5); P32(12, 17); P32(16, 0); P32(20, 600); P32(24, 1920); P32(28, 1050);
		P32(32, 0x1ff); P32(36, 1);
		break;
	case TESSERA_WIRE_CLOSE:
		m->close.surface = 5;
		start(e, type, 16); P32(8, 5);
		break;
	case TESSERA_WIRE_POPUP_DONE:
		m->popup_done.surface = 20;
		start(e, type, 16); P32(8, 20);
		break;
	case TESSERA_WIRE_POPUP_CONFIGURE:
		m->popup_configure.surface = 20;
		m->popup_configure.serial = 18;
		m->popup_configure.x = -50;
		m->popup_configure.y = 60;
		m->popup_configure.width = 200;
		m->popup_configure.height = 300;
		start(e, type, 32);
		P32(8, 20); P32(12, 18); P32(16, -50); P32(20, 60); P32(24, 200); P32(28, 300);
		break;
	case TESSERA_WIRE_POPUP_REPOSITIONED:
		m->popup_repositioned.surface = 20;
		m->popup_repositioned.token = 4;
		start(e, type, 16); P32(8, 20); P32(12, 4);
		break;
	case TESSERA_WIRE_POINTER_ENTER:
		m->pointer_enter.surface = 5;
		m->pointer_enter.serial = 19;
		m->pointer_enter.x = -256;
		m->pointer_enter.y = 12800 + 128;
		start(e, type, 24); P32(8, 5); P32(12, 19); P32(16, -256); P32(20, 12928);
		break;
	case TESSERA_WIRE_POINTER_LEAVE:
		m->pointer_leave.surface = 5;
		m->pointer_leave.serial = 20;
		start(e, type, 16); P32(8, 5); P32(12, 20);
		break;
	case TESSERA_WIRE_POINTER_MOTION:
		m->pointer_motion.time = 1000;
		m->pointer_motion.x = 268435456; /* MAX_COORD * 256 */
		m->pointer_motion.y = -268435456;
		start(e, type, 24); P32(8, 1000); P32(16, 268435456); P32(20, -268435456);
		break;
	case TESSERA_WIRE_POINTER_BUTTON:
		m->button.serial = 21;
		m->button.time = 1001;
		m->button.code = 0x110; /* BTN_LEFT */
		m->button.state = 1;
		start(e, type, 24); P32(8, 21); P32(12, 1001); P32(16, 0x110); P32(20, 1);
		break;
	case TESSERA_WIRE_POINTER_AXIS:
		m->pointer_axis.time = 1002;
		m->pointer_axis.axis = 1;
		m->pointer_axis.value = -2560;
		m->pointer_axis.value120 = -120;
		m->pointer_axis.source = 3;
		m->pointer_axis.flags = 7;
		start(e, type, 32);
		P32(8, 1002); P32(12, 1); P32(16, -2560); P32(20, -120); P32(24, 3); P32(28, 7);
		break;
	case TESSERA_WIRE_KEYBOARD_ENTER:
		m->keyboard_enter.surface = 5;
		m->keyboard_enter.serial = 22;
		m->keyboard_enter.key_count = 3;
		m->keyboard_enter.keys[0] = 30;
		m->keyboard_enter.keys[1] = 0x2ff;
		m->keyboard_enter.keys[2] = 0;
		start(e, type, 40);
		P32(8, 5); P32(12, 22); P32(16, 3); P32(24, 30); P32(28, 0x2ff); P32(32, 0);
		break;
	case TESSERA_WIRE_KEYBOARD_LEAVE:
		m->keyboard_leave.surface = 5;
		m->keyboard_leave.serial = 23;
		start(e, type, 16); P32(8, 5); P32(12, 23);
		break;
	case TESSERA_WIRE_KEYBOARD_KEY:
		m->key.serial = 24;
		m->key.time = 1003;
		m->key.code = 30;
		m->key.state = 0;
		start(e, type, 24); P32(8, 24); P32(12, 1003); P32(16, 30); P32(20, 0);
		break;
	case TESSERA_WIRE_KEYBOARD_MODIFIERS:
		m->keyboard_modifiers.serial = 25;
		m->keyboard_modifiers.depressed = 1;
		m->keyboard_modifiers.latched = 2;
		m->keyboard_modifiers.locked = 0x80000000;
		m->keyboard_modifiers.group = 3;
		start(e, type, 32);
		P32(8, 25); P32(12, 1); P32(16, 2); P32(20, 0x80000000); P32(24, 3);
		break;
	case TESSERA_WIRE_KEYBOARD_REPEAT_INFO:
		m->repeat_info.rate = 25;
		m->repeat_info.delay = 600;
		start(e, type, 16); P32(8, 25); P32(12, 600);
		break;
	case TESSERA_WIRE_SHARE_BUFFER:
		m->share_buffer.share = 3;
		m->share_buffer.buffer = 12;
		start(e, type, 16); P32(8, 3); P32(12, 12);
		break;
	case TESSERA_WIRE_SHARE_OFFER: {
		const char *d = "[work] Call room"; /* 16 bytes */
		m->share_offer.share = 3;
		m->share_offer.width = 320;
		m->share_offer.height = 200;
		m->share_offer.length = (uint32_t)strlen(d);
		memcpy(m->share_offer.description, d, strlen(d) + 1);
		start(e, type, 40);
		P32(8, 3); P32(12, 320); P32(16, 200); P32(20, strlen(d));
		memcpy(e->bytes + 24, d, strlen(d));
		break;
	}
	case TESSERA_WIRE_SHARE_END:
		m->share_end.share = 3;
		start(e, type, 16); P32(8, 3);
		break;
	case TESSERA_WIRE_SHARE_FRAME:
		m->share_frame.share = 3;
		m->share_frame.buffer = 12;
		m->share_frame.x = 10;
		m->share_frame.y = 20;
		m->share_frame.width = 30;
		m->share_frame.height = 40;
		start(e, type, 32);
		P32(8, 3); P32(12, 12); P32(16, 10); P32(20, 20); P32(24, 30); P32(28, 40);
		break;
	case TESSERA_WIRE_CLIPBOARD_DATA:
	case TESSERA_WIRE_CLIPBOARD_PASTE: {
		/* bytes that are no string: a NUL, 0xff, a control character */
		static const uint8_t data[11] = { 'h', 'i', 0, 0xff, 0x01, 'P', 'N', 'G', 0x89, 0, 7 };
		m->clipboard_chunk.transfer = 9;
		m->clipboard_chunk.type = TESSERA_WIRE_CLIPBOARD_PNG;
		m->clipboard_chunk.flags = TESSERA_WIRE_CLIPBOARD_LAST;
		m->clipboard_chunk.length = sizeof(data);
		memcpy(m->clipboard_chunk.data, data, sizeof(data));
		start(e, type, 40);
		P32(8, 9); P32(12, 2); P32(16, 1); P32(20, sizeof(data));
		memcpy(e->bytes + 24, data, sizeof(data));
		break;
	}
	case TESSERA_WIRE_CLIPBOARD_FAIL:
	case TESSERA_WIRE_CLIPBOARD_CANCEL:
		m->clipboard_end.transfer = 9;
		m->clipboard_end.reason = TESSERA_WIRE_CLIPBOARD_TOO_LARGE;
		start(e, type, 16); P32(8, 9); P32(12, 3);
		break;
	case TESSERA_WIRE_CLIPBOARD_REQUEST:
		m->clipboard_request.transfer = 9;
		m->clipboard_request.types = 0xe;
		m->clipboard_request.limit = 16 * 1024 * 1024;
		start(e, type, 24); P32(8, 9); P32(12, 0xe); P32(16, 16 * 1024 * 1024);
		break;
	default:
		return false;
	}
	m->size = (uint32_t)e->len;
	return true;
}

