/*
 * Writes the seed corpus of the vmd-gpu fuzz target (fuzz-vmd-gpu.c) into
 * the directory given as argument. The committed seeds in corpus/vmd-gpu
 * were made with it:
 *
 *	ninja -C build tests/fuzz/gen-vmd-gpu-seeds
 *	rm -rf tests/fuzz/corpus/vmd-gpu && mkdir tests/fuzz/corpus/vmd-gpu
 *	build/tests/fuzz/gen-vmd-gpu-seeds tests/fuzz/corpus/vmd-gpu
 *
 * What a guest does: the framebuffer console (display info, EDID, a 2D
 * resource with backing, scanout, transfers, flushes, the cursor), and an
 * agent's wire session (context, ring and keymap resources, HELLO,
 * EVENT_RING, windows with buffers, popups, subsurfaces, cursors, input
 * and configures from the compositor, fenced WAITs), on both devices
 * (byte 0); then broken variants: bad sizes, entries, rectangles,
 * contexts, rings, a guest scribbling on its ring and formatting it again.
 */
#include <linux/virtio_gpu.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gen-seeds.h"

#include "fuzz-compositor.h"
#include "tessera-wire.h"

/* must match fuzz-vmd-gpu.c */
#define OP_CURSOR 0x60
#define OP_POKE 0x70
#define OP_EVENT 0x80
#define OP_MEMORY 0xa0
#define OP_KICK 0xa8
#define OP_WAIT 0xb0
#define OP_RECONNECT 0xb8
#define OP_SUBMIT 0xc0
#define OP_ATTACH 0xc1
#define OP_CREATE_2D 0xc2
#define OP_CREATE_3D 0xc3
#define OP_CTX_CREATE 0xc4
#define OP_RING 0xc5
#define OP_READ 0xc6
#define F_FENCE 1
#define F_HOLD 4
#define F_RESP_SHORT (1 << 3) /* a 24-byte response buffer */
#define F_RESP_TINY (2 << 3) /* 8 bytes */
#define F_RESP_NONE (3 << 3) /* no response buffer */
#define F_SPLIT 0x20
#define BACKING_AREA 0x23000u
#define PAGE 4096u
/* control_types[] indices */
enum { C_DISPLAY_INFO, C_CREATE_2D, C_UNREF, C_SET_SCANOUT, C_FLUSH,
	C_TRANSFER_2D, C_ATTACH, C_DETACH, C_CAPSET_INFO, C_CAPSET, C_EDID,
	C_ASSIGN_UUID, C_CREATE_BLOB, C_CTX_CREATE, C_CTX_DESTROY, C_CTX_ATTACH,
	C_CTX_DETACH, C_CREATE_3D, C_TRANSFER_TO_3D, C_TRANSFER_FROM_3D, C_SUBMIT,
	C_CURSOR_ON_CONTROL, C_UNKNOWN };
/* op_create_2d's formats: 0 B8G8R8X8 ... 5 R8 */
#define FMT_XRGB 0

/* the session's resources: ring + keymap area in one buffer resource */
#define RING_RES 20
#define RING_SIZE (TESSERA_WIRE_RING_HEADER_SIZE + TESSERA_WIRE_RING_MIN_DATA_SIZE)
#define KEYMAP_OFFSET 16448u /* after the ring, 64-aligned */
#define KEYMAP_SIZE 8192u
#define RING_RES_PAGES 7
#define RING_PAGE 0 /* first backing page (index into the backing area) */
#define PIXEL_RES 21
#define PIXEL_PAGE 8
#define CTX 1

static void start(uint8_t device) {
	seed_start();
	put8(device);
}

/* A control command: its bytes after the header. */
static void control(uint8_t type, uint8_t flags, const void *body, size_t n) {
	put8(type);
	put8(flags);
	put16((uint16_t)n);
	put_bytes(body, n);
}

#define BODY(cmd) ((const uint8_t *)&(cmd) + sizeof(struct virtio_gpu_ctrl_hdr)), \
	(sizeof(cmd) - sizeof(struct virtio_gpu_ctrl_hdr))

static void create_2d(uint8_t id, uint16_t w, uint16_t h) {
	put8(OP_CREATE_2D);
	put8(F_FENCE);
	put8(id);
	put8(FMT_XRGB);
	put16(w);
	put16(h);
}

static void create_buffer(uint8_t id, uint32_t size) {
	put8(OP_CREATE_3D);
	put8(0);
	put8(id);
	put32(size);
}

/* pages contiguous pages of the backing area from page first */
static void attach_flags(uint8_t id, uint16_t first, uint8_t pages, uint8_t flags) {
	put8(OP_ATTACH);
	put8(flags);
	put8(id);
	put8(1);
	put16(first);
	put8(pages);
}

static void attach(uint8_t id, uint16_t first, uint8_t pages) {
	attach_flags(id, first, pages, 0);
}

static void attach_scattered(uint8_t id, uint16_t first, uint8_t pages) {
	put8(OP_ATTACH);
	put8(F_SPLIT);
	put8(id);
	put8(pages);
	for (uint8_t i = 0; i < pages; i++) {
		put16((uint16_t)(first + (i ^ 1)));
		put8(1);
	}
}

static void resource_cmd(uint8_t type, uint32_t id) {
	struct virtio_gpu_resource_unref cmd = { .resource_id = id };
	control(type, 0, BODY(cmd));
}

static void rect_cmd(uint8_t type, uint32_t id, uint32_t w, uint32_t h) {
	if (type == C_SET_SCANOUT) {
		struct virtio_gpu_set_scanout cmd = {
			.r = { .width = w, .height = h }, .scanout_id = 0, .resource_id = id,
		};
		control(type, F_FENCE, BODY(cmd));
	} else if (type == C_FLUSH) {
		struct virtio_gpu_resource_flush cmd = {
			.r = { .width = w, .height = h }, .resource_id = id,
		};
		control(type, 0, BODY(cmd));
	} else {
		struct virtio_gpu_transfer_to_host_2d cmd = {
			.r = { .width = w, .height = h }, .offset = 0, .resource_id = id,
		};
		control(type, F_FENCE, BODY(cmd));
	}
}

static void poke(uint32_t gpa, const void *p, uint16_t n) {
	put8(OP_POKE);
	put32(gpa);
	put16(n);
	put_bytes(p, n);
}

static void event(uint8_t ev, uint8_t k) {
	put8(OP_EVENT);
	put8(ev);
	put8(k);
}

/* ---- wire batches ---- */

static uint8_t batch[16384];
static struct tessera_wire_writer writer;

static void batch_begin(void) {
	tessera_wire_writer_init(&writer, batch, sizeof(batch));
}

static void batch_add(const struct tessera_wire_msg *msg) {
	struct tessera_wire_error err;
	if (tessera_wire_encode(&writer, msg, &err) != TESSERA_WIRE_ERROR_NONE) {
		fprintf(stderr, "cannot encode %s: %s: %s\n",
			tessera_wire_type_name(msg->type), err.field, err.reason);
		exit(1);
	}
}

static void batch_submit(uint8_t flags) {
	put8(OP_SUBMIT);
	put8(flags);
	put8(CTX);
	put16((uint16_t)writer.len);
	put_bytes(batch, writer.len);
}

/* ends the batch with WAIT and submits it fenced (with more flags) */
static void batch_wait_flags(uint8_t flags) {
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_WAIT });
	batch_submit(F_FENCE | flags);
}

static void batch_wait(void) {
	batch_wait_flags(0);
}

/* HELLO.features of the next sessions. */
static uint64_t hello_features;

/* The context, its ring (formatted by the guest unless told) and keymap
 * area. */
/* HELLO.features of the next sessions (window sharing: SHARE) */
static uint64_t hello_features;

static void session_start_ring(bool format, uint8_t ring_attach_flags) {
	put8(OP_CTX_CREATE);
	put8(F_FENCE);
	put8(CTX);
	create_buffer(RING_RES, RING_RES_PAGES * PAGE);
	attach_flags(RING_RES, RING_PAGE, RING_RES_PAGES, ring_attach_flags);
	if (format) {
		put8(OP_RING);
		put16(RING_PAGE);
		put8(0); /* 16 KiB of data */
	}
	batch_begin();
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_HELLO,
		.hello = { .max_version = TESSERA_WIRE_VERSION,
			.min_version = TESSERA_WIRE_VERSION, .features = hello_features } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_EVENT_RING,
		.area = { .resource = RING_RES, .size = RING_SIZE } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SET_KEYMAP_AREA,
		.area = { .resource = RING_RES, .size = KEYMAP_SIZE,
			.offset = KEYMAP_OFFSET } });
	batch_wait();
}

static void session_start(void) {
	session_start_ring(true, 0);
}

/* The guest reads every event: its tail catches up with the head. */
static void ring_read_all(void) {
	put8(OP_READ);
}

static struct tessera_wire_msg commit(uint32_t surface, uint32_t buffer) {
	struct tessera_wire_msg m = { .type = TESSERA_WIRE_COMMIT,
		.commit = { .surface = surface, .buffer = buffer, .scale = 1,
			.flags = TESSERA_WIRE_COMMIT_FRAME | TESSERA_WIRE_COMMIT_PRESENTATION |
				TESSERA_WIRE_COMMIT_DAMAGE_ALL } };
	return m;
}

static void configure(uint8_t k, uint16_t serial, uint16_t w, uint16_t h) {
	event(FUZZ_EV_CONFIGURE, k);
	put16(serial);
	put16(w);
	put16(h);
	put8(1);
	put8(4); /* activated */
}

/* A toplevel with a 32x32 buffer, configured, acked and shown. */
static void window(void) {
	create_2d(PIXEL_RES, 32, 32);
	attach_scattered(PIXEL_RES, PIXEL_PAGE, 1);
	batch_begin();
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SURFACE_CREATE,
		.surface = { .surface = 1 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_TOPLEVEL_CREATE,
		.toplevel_create = { .surface = 1 } });
	struct tessera_wire_msg title = { .type = TESSERA_WIRE_SET_TITLE,
		.string = { .surface = 1, .length = 5 } };
	memcpy(title.string.text, "fuzz\xc3\xa9", 6);
	title.string.length = 6;
	batch_add(&title);
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_TOPLEVEL_SET_DECORATION,
		.decoration = { .surface = 1, .mode = TESSERA_WIRE_DECORATION_SERVER_SIDE } });
	struct tessera_wire_msg c = commit(1, 0);
	c.commit.flags = 0;
	batch_add(&c);
	batch_wait();
	configure(0, 7, 640, 480);
	ring_read_all();
	batch_begin();
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_ACK_CONFIGURE,
		.surface_serial = { .surface = 1, .serial = 7 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_BUFFER_CREATE,
		.buffer_create = { .buffer = 1, .resource = PIXEL_RES,
			.format = TESSERA_WIRE_FORMAT_XRGB8888, .width = 32, .height = 32,
			.stride = 128 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SET_WINDOW_GEOMETRY,
		.window_geometry = { .surface = 1, .width = 32, .height = 32 } });
	struct tessera_wire_msg shown = commit(1, 1);
	batch_add(&shown);
	batch_wait();
	event(FUZZ_EV_FRAME_DONE, 0);
	event(FUZZ_EV_PRESENTED, 1);
	event(FUZZ_EV_RELEASE, 0);
	event(FUZZ_EV_SURFACE_ENTER, 0);
	put8(0);
}

static void input(void) {
	event(FUZZ_EV_POINTER_ENTER, 0);
	put16(10);
	put16(12);
	put8(0);
	event(FUZZ_EV_POINTER_MOTION, 0);
	put16(11);
	put16(13);
	event(FUZZ_EV_POINTER_BUTTON, 0x80);
	event(FUZZ_EV_POINTER_AXIS, 0x0a);
	put16(120);
	event(FUZZ_EV_KEYBOARD_ENTER, 0);
	put16(0);
	put16(0);
	put8(2);
	put8(30);
	put8(31);
	event(FUZZ_EV_KEY, 1);
	put8(30);
	event(FUZZ_EV_MODIFIERS, 0);
	put8(1);
	put8(0);
	put8(0);
	event(FUZZ_EV_KEYMAP, 4);
	/* 128 bytes: the text, then NULs */
	const char keymap[128] = "xkb_keymap { xkb_keycodes { include \"evdev\" }; "
		"xkb_types { }; xkb_compat { }; xkb_symbols { }; };";
	put_bytes(keymap, 128);
	event(FUZZ_EV_REPEAT_INFO, 30);
	put16(400);
	ring_read_all();
	batch_begin();
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SURFACE_CREATE,
		.surface = { .surface = 3 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SET_CURSOR,
		.set_cursor = { .surface = 3, .serial = 1, .hotspot_x = 2, .hotspot_y = 2 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_TOPLEVEL_MOVE,
		.surface_serial = { .surface = 1, .serial = 1 } });
	batch_wait();
	event(FUZZ_EV_KEYBOARD_LEAVE, 0);
	event(FUZZ_EV_POINTER_LEAVE, 0);
	event(FUZZ_EV_OUTPUT_MODE, 0);
	put16(1280);
	put16(720);
	put16(3750);
	event(FUZZ_EV_OUTPUT_ADD, 0);
	event(FUZZ_EV_OUTPUT_REMOVE, 1);
	event(FUZZ_EV_PING, 0);
}

static void popup_and_subsurface(void) {
	struct tessera_wire_positioner pos = {
		.width = 16, .height = 16, .anchor_width = 4, .anchor_height = 4,
		.anchor = 1, .gravity = 1,
	};
	batch_begin();
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SURFACE_CREATE,
		.surface = { .surface = 4 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_POPUP_CREATE,
		.popup_create = { .surface = 4, .parent = 1, .positioner = pos } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_POPUP_GRAB,
		.surface_serial = { .surface = 4, .serial = 1 } });
	struct tessera_wire_msg c = commit(4, 0);
	c.commit.flags = 0;
	batch_add(&c);
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SURFACE_CREATE,
		.surface = { .surface = 5 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SUBSURFACE_CREATE,
		.subsurface_create = { .surface = 5, .parent = 1 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SUBSURFACE_SET_POSITION,
		.subsurface_position = { .surface = 5, .x = 5, .y = -3 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SUBSURFACE_SET_SYNC,
		.subsurface_sync = { .surface = 5, .sync = 0 } });
	struct tessera_wire_msg sub = commit(5, 1);
	batch_add(&sub);
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SET_INPUT_REGION,
		.region = { .surface = 1, .rect_count = 1,
			.rects = { { .x = 0, .y = 0, .width = 10, .height = 10 } } } });
	batch_wait();
	event(FUZZ_EV_POPUP_CONFIGURE, 0);
	put16(9);
	put16(3);
	put16(4);
	put16(16);
	put16(16);
	ring_read_all();
	batch_begin();
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_ACK_CONFIGURE,
		.surface_serial = { .surface = 4, .serial = 9 } });
	struct tessera_wire_msg p = commit(4, 1);
	batch_add(&p);
	batch_wait();
	event(FUZZ_EV_POPUP_DONE, 0);
	event(FUZZ_EV_CLOSE, 0);
	batch_begin();
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SURFACE_DESTROY,
		.surface = { .surface = 5 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SURFACE_DESTROY,
		.surface = { .surface = 4 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_BUFFER_DESTROY,
		.buffer_destroy = { .buffer = 1 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SURFACE_DESTROY,
		.surface = { .surface = 1 } });
	batch_submit(0);
	resource_cmd(C_DETACH, PIXEL_RES);
	resource_cmd(C_UNREF, PIXEL_RES);
	put8(C_CTX_DESTROY);
	put8(F_FENCE | (CTX << 6));
	put16(0);
}

static void console(uint8_t device, const char *name) {
	start(device);
	control(C_DISPLAY_INFO, F_FENCE, NULL, 0);
	struct virtio_gpu_cmd_get_edid edid = { .scanout = 0 };
	control(C_EDID, 0, BODY(edid));
	create_2d(1, 64, 48);
	attach(1, 40, 3);
	rect_cmd(C_SET_SCANOUT, 1, 64, 48);
	rect_cmd(C_TRANSFER_2D, 1, 64, 48);
	rect_cmd(C_FLUSH, 1, 64, 48);
	event(FUZZ_EV_CONFIGURE, 0);
	put16(1);
	put16(0);
	put16(0);
	put8(0);
	event(FUZZ_EV_FRAME_DONE, 0);
	rect_cmd(C_TRANSFER_2D, 1, 16, 16);
	rect_cmd(C_FLUSH, 1, 16, 16);
	put8(OP_WAIT);
	event(FUZZ_EV_FRAME_DONE, 0);
	struct virtio_gpu_update_cursor cursor = { .resource_id = 1, .hot_x = 1,
		.pos = { .x = 5, .y = 6 } };
	put8(OP_CURSOR);
	put8(0);
	put_bytes(BODY(cursor));
	put8(OP_CURSOR | 1);
	put8(0);
	put_bytes(BODY(cursor));
	put8(OP_MEMORY | 1);
	rect_cmd(C_FLUSH, 1, 64, 48);
	put8(OP_MEMORY | 2);
	rect_cmd(C_FLUSH, 1, 64, 48);
	rect_cmd(C_SET_SCANOUT, 0, 0, 0);
	resource_cmd(C_DETACH, 1);
	resource_cmd(C_UNREF, 1);
	seed_save(name);
}

static void session(uint8_t device, const char *name) {
	start(device);
	control(C_DISPLAY_INFO, 0, NULL, 0);
	session_start();
	window();
	input();
	popup_and_subsurface();
	seed_save(name);
}

static void valid_seeds(void) {
	console(0, "console-a");
	console(1, "console-b");
	session(0, "session-a");
	session(1, "session-b");

	/* held WAITs: several queued, completed by events; then the VMM
	 * goes and comes back */
	start(0);
	session_start();
	window();
	for (int i = 0; i < 3; i++) {
		batch_begin();
		batch_wait_flags(F_HOLD);
	}
	put8(OP_KICK);
	event(FUZZ_EV_FRAME_DONE, 0);
	put8(OP_RECONNECT);
	session_start();
	seed_save("session-held-reconnect");

	/* the ring's ATTACH_BACKING without a response buffer: the guest
	 * does not learn that it worked, the session writes there anyway */
	start(0);
	session_start_ring(true, F_RESP_NONE);
	window();
	seed_save("session-attach-unanswered");

	/* window sharing (PROTOCOL.md §17): the feature offered, a buffer
	 * handed over for a share (none offered: a no-op; without the
	 * feature enabled: UNKNOWN_TYPE), then again and destroyed */
	hello_features = TESSERA_WIRE_FEATURE_SHARE;
	start(0);
	session_start();
	window();
	batch_begin();
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SHARE_BUFFER,
		.share_buffer = { .share = 1, .buffer = 1 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SHARE_BUFFER,
		.share_buffer = { .share = 1, .buffer = 1 } });
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_BUFFER_DESTROY,
		.buffer_destroy = { .buffer = 1 } });
	batch_wait();
	ring_read_all();
	seed_save("session-share");
	hello_features = 0;
}

static void error_seeds(void) {
	start(1);
	control(C_UNKNOWN, F_FENCE, NULL, 0);
	control(C_CAPSET_INFO, 0, NULL, 0);
	control(C_CAPSET, 0, NULL, 0);
	control(C_ASSIGN_UUID, 0, NULL, 0);
	control(C_CREATE_BLOB, 0, NULL, 0);
	control(C_CURSOR_ON_CONTROL, 0, NULL, 0);
	control(C_CREATE_2D, F_RESP_TINY, NULL, 0); /* short command */
	control(C_DISPLAY_INFO, F_RESP_SHORT, NULL, 0); /* short buffer */
	struct virtio_gpu_cmd_get_edid edid = { .scanout = 3 };
	control(C_EDID, 0, BODY(edid));
	seed_save("bad-commands");

	start(1);
	create_2d(1, 0, 10);
	create_2d(2, 16385, 10);
	create_2d(3, 64, 64);
	create_2d(3, 64, 64); /* exists */
	for (uint8_t i = 4; i < 14; i++) { /* over the limit of 8 */
		create_2d(i, 8, 8);
	}
	seed_save("bad-resources");

	start(1);
	create_2d(1, 64, 64);
	{
		/* no entries, too many, beyond memory, overflowing */
		struct { struct virtio_gpu_resource_attach_backing a;
			struct virtio_gpu_mem_entry e[2]; } cmd = {
			.a = { .resource_id = 1, .nr_entries = 2 },
			.e = { { .addr = UINT64_MAX - 10, .length = 4096 },
				{ .addr = 0x100000000, .length = 4096 } },
		};
		control(C_ATTACH, 0, BODY(cmd));
		cmd.a.nr_entries = 0;
		control(C_ATTACH, 0, BODY(cmd));
		cmd.a.nr_entries = 17;
		control(C_ATTACH, 0, BODY(cmd));
		cmd.a.nr_entries = 5; /* more than sent */
		control(C_ATTACH, 0, BODY(cmd));
	}
	attach(1, 0, 1); /* too small */
	attach(1, 0, 4);
	attach(1, 4, 4); /* has backing */
	{
		struct virtio_gpu_transfer_to_host_2d t = {
			.r = { .x = 60, .width = 8, .height = 1 }, .resource_id = 1,
		};
		control(C_TRANSFER_2D, 0, BODY(t));
		t.r.x = 0;
		t.offset = 4096 * 4;
		control(C_TRANSFER_2D, 0, BODY(t));
		struct virtio_gpu_set_scanout s = {
			.r = { .width = 65, .height = 1 }, .resource_id = 1,
		};
		control(C_SET_SCANOUT, 0, BODY(s));
		s.scanout_id = 1;
		control(C_SET_SCANOUT, 0, BODY(s));
		s.resource_id = 99;
		s.scanout_id = 0;
		control(C_SET_SCANOUT, 0, BODY(s));
	}
	put8(OP_MEMORY | 2); /* the backing leaves guest memory */
	rect_cmd(C_FLUSH, 1, 64, 64);
	resource_cmd(C_DETACH, 1);
	resource_cmd(C_DETACH, 1);
	resource_cmd(C_UNREF, 7);
	seed_save("bad-backing");

	start(1);
	put8(OP_CTX_CREATE);
	put8(0);
	put8(0); /* id 0 */
	for (int i = 1; i <= 3; i++) { /* limit 2 */
		put8(OP_CTX_CREATE);
		put8(0);
		put8((uint8_t)i);
	}
	put8(OP_CTX_CREATE);
	put8(0);
	put8(1); /* exists */
	{
		struct virtio_gpu_ctx_create c = { .nlen = 65 };
		put8(C_CTX_CREATE);
		put8(3 << 6);
		put16(sizeof(c) - sizeof(c.hdr));
		put_bytes((const uint8_t *)&c + sizeof(c.hdr), sizeof(c) - sizeof(c.hdr));
	}
	batch_begin();
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SURFACE_CREATE,
		.surface = { .surface = 1 } });
	put8(OP_SUBMIT);
	put8(F_FENCE);
	put8(9); /* no such context */
	put16((uint16_t)writer.len);
	put_bytes(batch, writer.len);
	batch_submit(F_FENCE); /* before HELLO */
	seed_save("bad-contexts");

	/* a ring that is not formatted, and one whose tail the guest breaks */
	start(0);
	session_start_ring(false, 0);
	seed_save("bad-ring-unformatted");

	start(0);
	session_start();
	window();
	uint32_t tail = 0xfffffff0;
	poke(BACKING_AREA + RING_PAGE * PAGE + TESSERA_WIRE_RING_OFF_TAIL, &tail, 4);
	input();
	seed_save("bad-ring-tail");

	/* the guest formats its ring again under the running session, whose
	 * device goes on writing from its own head (a second HELLO: the fatal
	 * ERROR lands after the events of the first), and reads it */
	start(0);
	session_start();
	session_start();
	ring_read_all();
	seed_save("bad-ring-reformatted");

	/* the guest rewrites its rings under the device: the avail index
	 * far ahead, a descriptor into the rings, the used ring */
	start(1);
	create_2d(1, 64, 64);
	attach(1, 0, 4);
	{
		uint16_t idx = 200;
		poke(0x0400 + 2, &idx, 2); /* control avail.idx */
		uint8_t desc[16] = { 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0x00, 0x02, 0, 0, 2, 0, 0, 0 };
		poke(0x0000, desc, sizeof(desc)); /* descriptor 0: writable, the used ring */
		uint8_t used[8] = { 9, 0, 0, 0, 1, 0, 0, 0 };
		poke(0x0a00 + 4, used, sizeof(used));
	}
	put8(OP_KICK);
	rect_cmd(C_FLUSH, 1, 64, 64);
	put8(OP_RECONNECT);
	create_2d(1, 64, 64);
	seed_save("bad-rings-scribbled");

	/* a batch over the device's limit (4096 on device b) */
	start(1);
	session_start();
	batch_begin();
	for (int i = 0; i < 300; i++) {
		batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_SURFACE_CREATE,
			.surface = { .surface = (uint32_t)i + 1 } });
	}
	batch_wait();
	seed_save("bad-batch-too-big");
}


/* The clipboard's requests (PROTOCOL.md §16): answers to transfers the
 * host never asked for, with the feature and without it. */
static void clipboard_seeds(void) {
	static struct tessera_wire_msg data = { .type = TESSERA_WIRE_CLIPBOARD_DATA,
		.clipboard_chunk = { .transfer = 1, .type = TESSERA_WIRE_CLIPBOARD_TEXT,
			.flags = TESSERA_WIRE_CLIPBOARD_LAST, .length = 5,
			.data = "hello" } };
	hello_features = TESSERA_WIRE_FEATURE_CLIPBOARD;
	start(0);
	session_start();
	window();
	batch_begin();
	batch_add(&data);
	batch_add(&(struct tessera_wire_msg){ .type = TESSERA_WIRE_CLIPBOARD_FAIL,
		.clipboard_end = { .transfer = 1, .reason = TESSERA_WIRE_CLIPBOARD_EMPTY } });
	batch_wait();
	ring_read_all();
	seed_save("clipboard-unasked");

	hello_features = 0;
	start(0);
	session_start();
	batch_begin();
	batch_add(&data);
	batch_wait();
	seed_save("clipboard-without-feature");
}

static void write_seeds(void) {
	valid_seeds();
	error_seeds();
	clipboard_seeds();
}

int main(int argc, char *argv[]) {
	return seed_main(argc, argv, write_seeds);
}
