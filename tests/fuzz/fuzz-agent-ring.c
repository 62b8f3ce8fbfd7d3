/*
 * libFuzzer target for the guest agent's side of the wire session
 * (guest-agent/host.c and the handlers it dispatches to): a guest must
 * survive a buggy or hostile host. The host writes the agent's event ring
 * (well-formed events with any values, framed garbage, or raw bytes over
 * the header and data, the head and status words included) and its keymap
 * area, and rings the doorbell, loses the connection or fails a submit.
 *
 * The agent is the real one (agent_server_init(): headless wlroots,
 * pixman) with a stand-in transport: resources are zeroed pages between
 * guard pages (any access past them faults), batches are checked and dropped, the
 * doorbell is this file's to ring. A guest client in the same process
 * (libwayland client on a socketpair) owns a toplevel, a popup and a
 * subsurface with wl_shm buffers, so that events name real surfaces.
 * Everything runs in this thread; the agent and its client live as long
 * as the process, the host session is new for every input.
 *
 * Input: a script of operations (integers little-endian):
 *   0x00-0x3f  EVENT     one event written as the host writes it: type
 *                        (op % number of event types below), u8 which
 *                        surface or buffer (the k-th live one), then its
 *                        fields
 *   0x40-0x4f  RECORD    u16 length, bytes: a framed record of any content
 *   0x50-0x57  SCRIBBLE  u16 offset, u16 length, bytes written raw into the
 *                        ring (header and data)
 *   0x58-0x5f  KEYMAP    u32 offset, u16 length, bytes into the keymap area
 *   0x60-0x6f  DOORBELL  the armed WAIT completes (or a spurious one)
 *   0x70-0x77  LOST      the device goes away; the agent reconnects
 *   0x78-0x7f  FAIL      the agent's next submit fails
 *   0x80-0xff  CLIENT    the guest client: op & 3: commit surface u8 k with
 *                        a frame callback; popup on/off (u16 width, u16
 *                        height); subsurface on/off (i16 x, i16 y); title
 *                        (u8 length, bytes)
 *
 * Checked besides the sanitizers (a violation traps): every batch the
 * agent submits is a valid request batch (it decodes without error) whose
 * BUFFER_CREATEs lie inside resources the agent holds; the agent destroys
 * only resources it created; a session that goes on after a doorbell has
 * a sound ring (a corrupt ring or a status word ends it); and a lost
 * session leaves no resource behind.
 *
 * Built with clang -fsanitize=fuzzer by run-fuzz.sh, and with the project
 * compiler together with fuzz-main.c to replay the committed corpus.
 * FUZZ_AGENT_LOG=1 shows the agent's log.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wayland-client.h>
#include <wayland-server-core.h>
#include <wlr/backend.h>
#include <xkbcommon/xkbcommon.h>

#include "agent.h"
#include "fuzz-target.h"
#include "log.h"
#include "tessera-wire.h"
#include "transport-private.h"
#include "wlr-log.h"
#include "xdg-shell-client-protocol.h"

#define MAX_RESOURCES 64
#define PAGE 4096
#define BUF_SIZE 32 /* the client's buffers: 32x32 XRGB */

/* ---- the stand-in transport ---- */

static struct {
	struct {
		uint32_t id;
		uint8_t *data;
		uint64_t size;
	} res[MAX_RESOURCES];
	size_t nres;
	uint32_t next_id;
	bool armed; /* a WAIT is out */
	bool fail_next; /* the next submit fails */
	size_t submits;
} dev;

static int fake_connect(struct agent_transport *t) {
	return 0;
}

/* Resource memory: zeroed pages between two inaccessible guard pages, so
 * that any access past either end faults (sizes are whole pages). */
static uint8_t *guarded_alloc(uint64_t size) {
	CHECK(size % PAGE == 0);
	uint8_t *p = mmap(NULL, size + 2 * PAGE, PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK(mprotect(p + PAGE, size, PROT_READ | PROT_WRITE) == 0);
	return p + PAGE;
}

static void guarded_free(uint8_t *data, uint64_t size) {
	CHECK(munmap(data - PAGE, size + 2 * PAGE) == 0);
}

static void fake_disconnect(struct agent_transport *t) {
	/* every resource becomes invalid: the core forgets them */
	for (size_t i = 0; i < dev.nres; i++) {
		guarded_free(dev.res[i].data, dev.res[i].size);
	}
	dev.nres = 0;
	dev.armed = false;
}

static int fake_resource_create(struct agent_transport *t, uint64_t size,
		struct agent_resource *res) {
	if (dev.nres == MAX_RESOURCES) {
		return agent_transport_fail(t, "out of resources");
	}
	uint8_t *data = guarded_alloc(size);
	dev.res[dev.nres].id = ++dev.next_id;
	dev.res[dev.nres].data = data;
	dev.res[dev.nres].size = size;
	dev.nres++;
	*res = (struct agent_resource){ .id = dev.next_id, .size = size, .data = data };
	return 0;
}

static int fake_resource_import(struct agent_transport *t, int dmabuf_fd,
		struct agent_resource *res) {
	return agent_transport_fail(t, "no imports here");
}

static size_t find_resource(uint32_t id) {
	for (size_t i = 0; i < dev.nres; i++) {
		if (dev.res[i].id == id) {
			return i;
		}
	}
	return SIZE_MAX;
}

static void fake_resource_destroy(struct agent_transport *t,
		struct agent_resource *res) {
	size_t i = find_resource(res->id);
	CHECK(i != SIZE_MAX); /* only what it created, once */
	CHECK(res->data == dev.res[i].data && res->size == dev.res[i].size);
	guarded_free(dev.res[i].data, dev.res[i].size);
	dev.res[i] = dev.res[--dev.nres];
}

/* The agent never sends the host an invalid batch. */
static void check_batch(const void *batch, size_t len) {
	struct tessera_wire_reader reader;
	struct tessera_wire_msg msg;
	tessera_wire_reader_init(&reader, batch, len, TESSERA_WIRE_REQUESTS);
	while (tessera_wire_reader_next(&reader, &msg)) {
		if (msg.type == TESSERA_WIRE_BUFFER_CREATE) {
			const struct tessera_wire_buffer_create *b = &msg.buffer_create;
			size_t i = find_resource(b->resource);
			CHECK(i != SIZE_MAX);
			struct tessera_wire_error err;
			CHECK(tessera_wire_check_buffer(b, dev.res[i].size, &err) ==
				TESSERA_WIRE_ERROR_NONE);
		}
	}
	CHECK(reader.error.code == TESSERA_WIRE_ERROR_NONE);
}

static int fake_submit(struct agent_transport *t, const void *batch, size_t len,
		bool wait) {
	check_batch(batch, len);
	dev.submits++;
	if (dev.fail_next) {
		dev.fail_next = false;
		return agent_transport_fail(t, "submit failed (the fuzzer said so)");
	}
	if (wait) {
		dev.armed = true;
	}
	return 0;
}

static const struct agent_transport_impl fake_impl = {
	.name = "fuzz",
	.connect = fake_connect,
	.disconnect = fake_disconnect,
	.resource_create = fake_resource_create,
	.resource_import = fake_resource_import,
	.resource_destroy = fake_resource_destroy,
	.submit = fake_submit,
};

/* ---- the guest client ---- */

struct popup {
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_popup *popup;
};

static struct {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_subcompositor *subcompositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_buffer *buffer;
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	struct popup popup; /* surface NULL: none */
	struct wl_surface *sub_surface; /* NULL: none */
	struct wl_subsurface *subsurface;
} guest;

static void wm_base_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial) {
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
	.ping = wm_base_ping,
};

/* a configured surface shows the buffer */
static void xdg_surface_configure(void *data, struct xdg_surface *xdg_surface,
		uint32_t serial) {
	struct wl_surface *surface = data;
	xdg_surface_ack_configure(xdg_surface, serial);
	wl_surface_attach(surface, guest.buffer, 0, 0);
	wl_surface_damage_buffer(surface, 0, 0, BUF_SIZE, BUF_SIZE);
	wl_surface_commit(surface);
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = xdg_surface_configure,
};

static void toplevel_configure(void *data, struct xdg_toplevel *toplevel,
		int32_t width, int32_t height, struct wl_array *states) {
}

static void toplevel_close(void *data, struct xdg_toplevel *toplevel) {
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_configure,
	.close = toplevel_close,
};

static void popup_configure(void *data, struct xdg_popup *popup, int32_t x,
		int32_t y, int32_t width, int32_t height) {
}

static void popup_destroy(void) {
	if (guest.popup.surface == NULL) {
		return;
	}
	xdg_popup_destroy(guest.popup.popup);
	xdg_surface_destroy(guest.popup.xdg_surface);
	wl_surface_destroy(guest.popup.surface);
	guest.popup = (struct popup){ 0 };
}

static void popup_done(void *data, struct xdg_popup *popup) {
	popup_destroy();
}

static const struct xdg_popup_listener popup_listener = {
	.configure = popup_configure,
	.popup_done = popup_done,
};

static void registry_global(void *data, struct wl_registry *registry,
		uint32_t name, const char *interface, uint32_t version) {
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		guest.compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_subcompositor_interface.name) == 0) {
		guest.subcompositor = wl_registry_bind(registry, name,
			&wl_subcompositor_interface, 1);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		guest.shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		guest.wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 2);
		xdg_wm_base_add_listener(guest.wm_base, &wm_base_listener, NULL);
	}
}

static void registry_global_remove(void *data, struct wl_registry *registry,
		uint32_t name) {
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_global_remove,
};

static void frame_done(void *data, struct wl_callback *callback, uint32_t time) {
	wl_callback_destroy(callback);
}

static const struct wl_callback_listener frame_listener = {
	.done = frame_done,
};

/* ---- the agent ---- */

static struct agent_server server;
static struct tessera_wire_ring_writer writer; /* the host's side of the ring */
static bool writer_ok;

/* Lets the agent and its client run until all is handled. */
static void pump(void) {
	for (int round = 0; round < 4; round++) {
		FUZZ_DISPATCH(server.loop, 0);
		wl_display_flush_clients(server.display);
		CHECK(wl_display_flush(guest.display) >= 0 || errno == EAGAIN);
		if (wl_display_prepare_read(guest.display) == 0) {
			struct pollfd p = { .fd = wl_display_get_fd(guest.display),
				.events = POLLIN };
			if (poll(&p, 1, 0) > 0) {
				CHECK(wl_display_read_events(guest.display) == 0);
			} else {
				wl_display_cancel_read(guest.display);
			}
		}
		CHECK(wl_display_dispatch_pending(guest.display) >= 0);
	}
}

/* The harness decides when the agent reconnects (now), not a timer: the
 * run must not depend on how long it takes. */
static void cancel_reconnect_timer(void) {
	if (server.host.reconnect_timer != NULL) {
		wl_event_source_timer_update(server.host.reconnect_timer, 0);
	}
}

/* The agent connects now (the host side of a new session). */
static void connect_host(void) {
	struct agent_host *host = &server.host;
	dev.fail_next = false;
	if (!host->connected) {
		agent_host_start(host);
	}
	cancel_reconnect_timer();
	CHECK(host->connected && dev.armed);
	struct tessera_wire_error err;
	writer_ok = tessera_wire_ring_writer_init(&writer, host->ring_res.data,
		TESSERA_WIRE_RING_HEADER_SIZE + AGENT_RING_DATA_SIZE, &err) ==
		TESSERA_WIRE_ERROR_NONE;
	CHECK(writer_ok);
	/* what the host says first */
	struct tessera_wire_msg reply = { .type = TESSERA_WIRE_HELLO_REPLY,
		.hello_reply = { .version = TESSERA_WIRE_VERSION } };
	CHECK(tessera_wire_ring_write(&writer, &reply) == TESSERA_WIRE_RING_OK);
	pump();
}

static void doorbell(void) {
	struct agent_host *host = &server.host;
	dev.armed = false;
	agent_transport_doorbell(host->transport);
	pump();
	if (host->connected) {
		/* a broken ring or a status word would have ended the session */
		CHECK(agent_transport_connected(host->transport));
		CHECK(host->ring.error.code == TESSERA_WIRE_ERROR_NONE);
		CHECK(tessera_wire_ring_reader_status(&host->ring) == 0);
	}
}

/* ---- events ---- */

/* The host id of the k-th live agent surface (or an unused one). */
static uint32_t surface_id(uint8_t k) {
	size_t n = 0;
	struct agent_surface *as;
	wl_list_for_each(as, &server.surfaces, link) {
		n += as->id != 0;
	}
	if (n == 0 || k == 0xff) {
		return k;
	}
	k %= n;
	wl_list_for_each(as, &server.surfaces, link) {
		if (as->id != 0 && k-- == 0) {
			return as->id;
		}
	}
	return 0;
}

static const uint16_t event_types[] = {
	TESSERA_WIRE_HELLO_REPLY, TESSERA_WIRE_ERROR, TESSERA_WIRE_KEYMAP,
	TESSERA_WIRE_OUTPUT, TESSERA_WIRE_OUTPUT_REMOVE, TESSERA_WIRE_SURFACE_ENTER,
	TESSERA_WIRE_SURFACE_LEAVE, TESSERA_WIRE_FRAME_DONE, TESSERA_WIRE_PRESENTED,
	TESSERA_WIRE_BUFFER_RELEASE, TESSERA_WIRE_CONFIGURE, TESSERA_WIRE_CLOSE,
	TESSERA_WIRE_POPUP_CONFIGURE, TESSERA_WIRE_POPUP_REPOSITIONED,
	TESSERA_WIRE_POPUP_DONE, TESSERA_WIRE_POINTER_ENTER, TESSERA_WIRE_POINTER_LEAVE,
	TESSERA_WIRE_POINTER_MOTION, TESSERA_WIRE_POINTER_BUTTON,
	TESSERA_WIRE_POINTER_AXIS, TESSERA_WIRE_POINTER_FRAME,
	TESSERA_WIRE_KEYBOARD_ENTER, TESSERA_WIRE_KEYBOARD_LEAVE,
	TESSERA_WIRE_KEYBOARD_KEY, TESSERA_WIRE_KEYBOARD_MODIFIERS,
	TESSERA_WIRE_KEYBOARD_REPEAT_INFO,
};
#define N_EVENT_TYPES (sizeof(event_types) / sizeof(event_types[0]))

static int32_t get_i32(struct fuzz_input *in) {
	return (int32_t)fuzz_get32(in);
}

/* Fills the event's fields from the input (surface fields name live
 * surfaces); the host's encoder rejects what is out of range. */
static void fill_event(struct tessera_wire_msg *m, struct fuzz_input *in) {
	uint8_t k = fuzz_get8(in);
	uint32_t surface = surface_id(k);
	struct agent_host *host = &server.host;
	switch (m->type) {
	case TESSERA_WIRE_HELLO_REPLY:
		m->hello_reply.version = fuzz_get8(in);
		m->hello_reply.features = fuzz_get8(in) == 0 ? 0 : fuzz_get64(in);
		break;
	case TESSERA_WIRE_ERROR: {
		static const uint32_t codes[] = { TESSERA_WIRE_ERROR_STATE,
			TESSERA_WIRE_ERROR_RING, TESSERA_WIRE_ERROR_OVERFLOW,
			TESSERA_WIRE_ERROR_BUFFER_FAILED, TESSERA_WIRE_ERROR_VALUE };
		m->error.code = codes[k % 5];
		m->error.request_type = fuzz_get16(in);
		m->error.object = fuzz_get32(in);
		m->error.count = fuzz_get8(in);
		m->error.message_length = fuzz_get8(in) % 64;
		for (uint32_t i = 0; i < m->error.message_length; i++) {
			m->error.message[i] = (char)(' ' + fuzz_get8(in) % 95);
		}
		break;
	}
	case TESSERA_WIRE_KEYMAP:
		m->keymap.resource = (k & 1) ? fuzz_get32(in) : host->keymap_res.id;
		m->keymap.size = fuzz_get32(in);
		m->keymap.format = TESSERA_WIRE_KEYMAP_FORMAT_XKB_V1;
		break;
	case TESSERA_WIRE_OUTPUT:
		m->output = (struct tessera_wire_output){
			.output = k % 20, .x = (int16_t)fuzz_get16(in),
			.y = (int16_t)fuzz_get16(in), .width = fuzz_get16(in),
			.height = fuzz_get16(in), .refresh_mhz = fuzz_get32(in),
			.scale = fuzz_get8(in), .transform = fuzz_get8(in),
			.physical_width_mm = fuzz_get16(in), .physical_height_mm = fuzz_get16(in),
		};
		break;
	case TESSERA_WIRE_OUTPUT_REMOVE:
		m->output_remove.output = k % 20;
		break;
	case TESSERA_WIRE_SURFACE_ENTER:
	case TESSERA_WIRE_SURFACE_LEAVE:
		m->surface_output.surface = surface;
		m->surface_output.output = fuzz_get8(in) % 20;
		break;
	case TESSERA_WIRE_FRAME_DONE:
		m->frame_done = (struct tessera_wire_frame_done){ .surface = surface,
			.serial = fuzz_get32(in), .time = fuzz_get32(in) };
		break;
	case TESSERA_WIRE_PRESENTED:
		m->presented = (struct tessera_wire_presented){ .surface = surface,
			.serial = fuzz_get32(in), .tv_sec = fuzz_get32(in),
			.tv_nsec = fuzz_get32(in) % 1000000000, .refresh_ns = fuzz_get32(in),
			.seq = fuzz_get32(in), .flags = fuzz_get16(in), .output = fuzz_get8(in) };
		break;
	case TESSERA_WIRE_BUFFER_RELEASE:
		m->buffer_release.buffer = host->next_buffer_id - k % 8;
		m->buffer_release.release_point = fuzz_get32(in);
		break;
	case TESSERA_WIRE_CONFIGURE:
		m->configure = (struct tessera_wire_configure){ .surface = surface,
			.serial = fuzz_get32(in), .width = (int16_t)fuzz_get16(in),
			.height = (int16_t)fuzz_get16(in), .bounds_width = fuzz_get16(in),
			.bounds_height = fuzz_get16(in), .states = fuzz_get16(in),
			.decoration = fuzz_get8(in) % 3 };
		break;
	case TESSERA_WIRE_CLOSE:
		m->close.surface = surface;
		break;
	case TESSERA_WIRE_POPUP_CONFIGURE:
		m->popup_configure = (struct tessera_wire_popup_configure){
			.surface = surface, .serial = fuzz_get32(in),
			.x = (int16_t)fuzz_get16(in), .y = (int16_t)fuzz_get16(in),
			.width = (int16_t)fuzz_get16(in), .height = (int16_t)fuzz_get16(in) };
		break;
	case TESSERA_WIRE_POPUP_REPOSITIONED:
		m->popup_repositioned.surface = surface;
		m->popup_repositioned.token = fuzz_get32(in);
		break;
	case TESSERA_WIRE_POPUP_DONE:
		m->popup_done.surface = surface;
		break;
	case TESSERA_WIRE_POINTER_ENTER:
		m->pointer_enter = (struct tessera_wire_pointer_enter){ .surface = surface,
			.serial = fuzz_get32(in), .x = get_i32(in), .y = get_i32(in) };
		break;
	case TESSERA_WIRE_POINTER_LEAVE:
	case TESSERA_WIRE_KEYBOARD_LEAVE:
		m->pointer_leave.surface = surface;
		m->pointer_leave.serial = fuzz_get32(in);
		break;
	case TESSERA_WIRE_POINTER_MOTION:
		m->pointer_motion = (struct tessera_wire_pointer_motion){
			.time = fuzz_get32(in), .x = get_i32(in), .y = get_i32(in) };
		break;
	case TESSERA_WIRE_POINTER_BUTTON:
	case TESSERA_WIRE_KEYBOARD_KEY:
		m->button = (struct tessera_wire_button){ .serial = fuzz_get32(in),
			.time = fuzz_get32(in), .code = fuzz_get16(in), .state = k & 1 };
		break;
	case TESSERA_WIRE_POINTER_AXIS:
		m->pointer_axis = (struct tessera_wire_pointer_axis){
			.time = fuzz_get32(in), .axis = k & 1, .value = get_i32(in),
			.value120 = get_i32(in), .source = (k >> 1) & 3, .flags = (k >> 3) & 7 };
		break;
	case TESSERA_WIRE_KEYBOARD_ENTER:
		m->keyboard_enter.surface = surface;
		m->keyboard_enter.serial = fuzz_get32(in);
		m->keyboard_enter.key_count = fuzz_get8(in) % (TESSERA_WIRE_MAX_KEYS + 1);
		for (uint32_t i = 0; i < m->keyboard_enter.key_count; i++) {
			m->keyboard_enter.keys[i] = fuzz_get8(in);
		}
		break;
	case TESSERA_WIRE_KEYBOARD_MODIFIERS:
		m->keyboard_modifiers = (struct tessera_wire_keyboard_modifiers){
			.serial = fuzz_get32(in), .depressed = fuzz_get32(in),
			.latched = fuzz_get32(in), .locked = fuzz_get32(in),
			.group = fuzz_get8(in) };
		break;
	case TESSERA_WIRE_KEYBOARD_REPEAT_INFO:
		m->repeat_info.rate = (int16_t)fuzz_get16(in);
		m->repeat_info.delay = (int16_t)fuzz_get16(in);
		break;
	default: /* POINTER_FRAME: no body */
		break;
	}
}

static void op_event(struct fuzz_input *in, uint8_t op) {
	struct tessera_wire_msg m = { .type = event_types[op % N_EVENT_TYPES] };
	fill_event(&m, in);
	if (server.host.connected && writer_ok) {
		tessera_wire_ring_write(&writer, &m); /* full or invalid: not written */
	}
}

static void op_record(struct fuzz_input *in) {
	size_t len;
	const uint8_t *p = fuzz_get_bytes(in, fuzz_get16(in), &len);
	if (server.host.connected && writer_ok) {
		tessera_wire_ring_write_raw(&writer, p, len);
	}
}

static void op_scribble(struct fuzz_input *in) {
	uint32_t size = TESSERA_WIRE_RING_HEADER_SIZE + AGENT_RING_DATA_SIZE;
	uint32_t offset = fuzz_get16(in) % size;
	size_t len;
	const uint8_t *p = fuzz_get_bytes(in, fuzz_get16(in), &len);
	if (!server.host.connected) {
		return;
	}
	if (len > size - offset) {
		len = size - offset;
	}
	memcpy((uint8_t *)server.host.ring_res.data + offset, p, len);
}

static void op_keymap(struct fuzz_input *in) {
	uint32_t offset = fuzz_get32(in) % AGENT_KEYMAP_AREA_SIZE;
	size_t len;
	const uint8_t *p = fuzz_get_bytes(in, fuzz_get16(in), &len);
	if (!server.host.connected) {
		return;
	}
	if (len > AGENT_KEYMAP_AREA_SIZE - offset) {
		len = AGENT_KEYMAP_AREA_SIZE - offset;
	}
	memcpy((uint8_t *)server.host.keymap_res.data + offset, p, len);
}

static void op_lost(void) {
	struct agent_host *host = &server.host;
	agent_transport_lost(host->transport, "the fuzzer unplugged it");
	CHECK(!host->connected && dev.nres == 0);
	connect_host();
}

/* ---- the client's operations ---- */

static void popup_create(int32_t width, int32_t height) {
	struct xdg_positioner *positioner = xdg_wm_base_create_positioner(guest.wm_base);
	xdg_positioner_set_size(positioner, width, height);
	xdg_positioner_set_anchor_rect(positioner, 0, 0, 4, 4);
	guest.popup.surface = wl_compositor_create_surface(guest.compositor);
	guest.popup.xdg_surface = xdg_wm_base_get_xdg_surface(guest.wm_base,
		guest.popup.surface);
	xdg_surface_add_listener(guest.popup.xdg_surface, &xdg_surface_listener,
		guest.popup.surface);
	guest.popup.popup = xdg_surface_get_popup(guest.popup.xdg_surface,
		guest.xdg_surface, positioner);
	xdg_popup_add_listener(guest.popup.popup, &popup_listener, NULL);
	xdg_positioner_destroy(positioner);
	wl_surface_commit(guest.popup.surface);
}

static void op_client(struct fuzz_input *in, uint8_t op) {
	switch (op & 3) {
	case 0: {
		uint8_t k = fuzz_get8(in) % 3;
		struct wl_surface *s = k == 1 ? guest.popup.surface :
			k == 2 ? guest.sub_surface : guest.surface;
		if (s != NULL) {
			wl_callback_add_listener(wl_surface_frame(s), &frame_listener, NULL);
			wl_surface_attach(s, guest.buffer, 0, 0);
			wl_surface_damage_buffer(s, k, k, BUF_SIZE / 2, BUF_SIZE / 2);
			wl_surface_commit(s);
		}
		break;
	}
	case 1: {
		int32_t width = fuzz_get16(in) % 4096 + 1, height = fuzz_get16(in) % 4096 + 1;
		if (guest.popup.surface != NULL) {
			popup_destroy();
		} else {
			popup_create(width, height);
		}
		break;
	}
	case 2: {
		int32_t x = (int16_t)fuzz_get16(in), y = (int16_t)fuzz_get16(in);
		if (guest.sub_surface != NULL) {
			wl_subsurface_destroy(guest.subsurface);
			wl_surface_destroy(guest.sub_surface);
			guest.sub_surface = NULL;
		} else {
			guest.sub_surface = wl_compositor_create_surface(guest.compositor);
			guest.subsurface = wl_subcompositor_get_subsurface(guest.subcompositor,
				guest.sub_surface, guest.surface);
			wl_subsurface_set_position(guest.subsurface, x, y);
			wl_surface_attach(guest.sub_surface, guest.buffer, 0, 0);
			wl_surface_commit(guest.sub_surface);
			wl_surface_commit(guest.surface);
		}
		break;
	}
	case 3: {
		char title[256];
		size_t n = fuzz_get8(in);
		for (size_t i = 0; i < n; i++) {
			title[i] = (char)(fuzz_get8(in) | 1); /* no NUL */
		}
		title[n] = '\0';
		xdg_toplevel_set_title(guest.toplevel, title);
		wl_surface_commit(guest.surface);
		break;
	}
	}
	pump();
}

/* ---- set-up ---- */

static void make_guest(void) {
	int pair[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
	CHECK(wl_client_create(server.display, pair[0]) != NULL);
	guest.display = wl_display_connect_to_fd(pair[1]);
	CHECK(guest.display != NULL);
	struct wl_registry *registry = wl_display_get_registry(guest.display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	pump();
	CHECK(guest.compositor != NULL && guest.subcompositor != NULL &&
		guest.shm != NULL && guest.wm_base != NULL);

	int fd = memfd_create("fuzz-guest-buffer", MFD_CLOEXEC);
	CHECK(fd >= 0 && ftruncate(fd, BUF_SIZE * BUF_SIZE * 4) == 0);
	struct wl_shm_pool *pool = wl_shm_create_pool(guest.shm, fd, BUF_SIZE * BUF_SIZE * 4);
	guest.buffer = wl_shm_pool_create_buffer(pool, 0, BUF_SIZE, BUF_SIZE, BUF_SIZE * 4,
		WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);

	guest.surface = wl_compositor_create_surface(guest.compositor);
	guest.xdg_surface = xdg_wm_base_get_xdg_surface(guest.wm_base, guest.surface);
	xdg_surface_add_listener(guest.xdg_surface, &xdg_surface_listener, guest.surface);
	guest.toplevel = xdg_surface_get_toplevel(guest.xdg_surface);
	xdg_toplevel_add_listener(guest.toplevel, &toplevel_listener, NULL);
	xdg_toplevel_set_title(guest.toplevel, "fuzz");
	wl_surface_commit(guest.surface);
	pump();
}

static void init(void) {
	const char *log = getenv("FUZZ_AGENT_LOG");
	tessera_wlr_log_init(log != NULL && log[0] == '1' ? TESSERA_DEBUG : TESSERA_SILENT,
		"fuzz-agent");
	CHECK(agent_server_init(&server));
	if (log == NULL || log[0] != '1') {
		/* the host's keymaps are garbage mostly: no line for each */
		xkb_context_set_log_level(server.xkb, XKB_LOG_LEVEL_CRITICAL);
	}
	CHECK(wlr_backend_start(server.backend));
	/* a transport whose implementation is this file's */
	CHECK(agent_host_init(&server.host, &server, "vhost-user:/nonexistent"));
	server.host.transport->impl = &fake_impl;
	make_guest();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (server.display == NULL) {
		init();
	}
	struct fuzz_input in = { .data = data, .size = size };
	connect_host();
	doorbell();

	while (in.pos < in.size) {
		uint8_t op = fuzz_get8(&in);
		if (op < 0x40) {
			op_event(&in, op);
		} else if (op < 0x50) {
			op_record(&in);
		} else if (op < 0x58) {
			op_scribble(&in);
		} else if (op < 0x60) {
			op_keymap(&in);
		} else if (op < 0x70) {
			doorbell();
		} else if (op < 0x78) {
			op_lost();
		} else if (op < 0x80) {
			dev.fail_next = true;
		} else {
			op_client(&in, op);
		}
		if (!server.host.connected) {
			connect_host();
			doorbell();
		}
	}
	doorbell();

	/* the next input starts from a new session without outputs */
	agent_transport_lost(server.host.transport, "end of input");
	CHECK(!server.host.connected && dev.nres == 0);
	cancel_reconnect_timer();
	while (!wl_list_empty(&server.outputs)) {
		struct agent_output *out = wl_container_of(server.outputs.next, out, link);
		agent_output_remove(&server, out->host_id);
	}
	pump();
	return 0;
}
