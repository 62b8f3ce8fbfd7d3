/*
 * vmd-session-e2e SOCKET CASE: plays VMM and guest (driver + agent) against
 * a real tessera-vmd through common/frontend/virtio-gpu-frontend, the same chains
 * and wire batches a guest's kernel and tessera-agent produce.
 *
 * Cases (driven by test_e2e.py; "READY <phase> ..." on stdout, then a line
 * on stdin before going on):
 *   window   a toplevel with pixels (READY mapped COLOR), a second buffer
 *            that releases the first (READY released P1 P2), a 1920x1080
 *            window committed FRAMES times with full damage, each frame
 *            waited for (READY fullhd-start, READY fullhd-done FRAMES),
 *            then a clean shutdown.
 *   unsealed the window case with guest RAM in a memfd without seals, as
 *            a VMM whose memory backend does not seal it.
 *   abandon  a mapped window, then a commit of a new buffer and a held
 *            WAIT (mid-frame, READY abandon), then exit without any
 *            cleanup, as a VMM that dies.
 *   overflow a toplevel (READY mapped COLOR), then OVERFLOW_COMMITS commits
 *            asking for presentation feedback and a frame callback while
 *            the guest does not read its ring (READY flooded N); then it
 *            reads again until every commit's PRESENTED is either in the
 *            ring or counted by an ERROR OVERFLOW, and the FRAME_DONE of
 *            the last commit has come (READY drained PRESENTED DROPPED
 *            NOTICES); then a WAIT on the empty ring must stay held until
 *            a new frame's FRAME_DONE completes it (READY held), and a
 *            clean shutdown (READY done).
 *   input LOG  a 200x120 toplevel (READY input COLOR), then the agent's
 *            loop: keeps a fenced WAIT armed and appends every event read
 *            from the ring to LOG as one line ("KEYBOARD_KEY key=30
 *            state=1 serial=..."), checks each KEYMAP in the keymap area
 *            (logged with text=ok|bad and a hash of the text) and arms the
 *            area again, sets a cursor surface at every POINTER_ENTER
 *            ("cursor serial=N"), and logs "fail ..." for input without
 *            the matching focus. Commands on stdin:
 *              sync   commits a frame and waits for its FRAME_DONE, then
 *                     logs "sync N": every event the host sent vmd before
 *                     is in the log by then
 *              quit   (or end of input) clean shutdown, READY done
 */
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tessera-test.h"
#include "tessera-wire.h"
#include "test-guest.h"
#include "virtio-gpu-frontend.h"

#define CTX 1
#define RING_RESOURCE 100
#define KEYMAP_RESOURCE 101
#define RING_SIZE (64 + 65536)
#define KEYMAP_SIZE (256 * 1024)
#define FULLHD_FRAMES 30
#define MAX_SURFACES 8
#define INPUT_SURFACE 1
#define CURSOR_SURFACE 2
#define OVERFLOW_COMMITS 3000
#define OVERFLOW_FIRST_SERIAL 100

static struct tessera_virtio_gpu_frontend *gpu;
static struct test_guest guest;
static const uint8_t *keymap_area;

/* the input case's event log and agent state */
static FILE *event_log;
static uint32_t keyboard_focus, pointer_focus;
static bool keymap_armed;
static bool rearm_keymap;
static uint32_t cursor_serial; /* of a POINTER_ENTER to answer, 0: none */
static uint32_t acked_serial; /* of the input surface's last CONFIGURE acked */

/* what the events said */
static uint32_t configure_serial[MAX_SURFACES];
static uint32_t frame_done_serial[MAX_SURFACES];
static uint32_t released[64];
static uint64_t release_point[64];
static size_t n_released;
static uint64_t last_point;
static uint64_t n_presented, n_dropped, n_overflow_notices;

static const char *err(void) {
	return tessera_virtio_gpu_frontend_error(gpu);
}

static void go(void) {
	fflush(stdout);
	char line[64];
	if (fgets(line, sizeof(line), stdin) == NULL) {
		exit(0);
	}
}

/* ---- wire ---- */

static void logf_(const char *fmt, ...) {
	if (event_log == NULL) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vfprintf(event_log, fmt, ap);
	va_end(ap);
	fputc('\n', event_log);
	fflush(event_log);
}

/* FNV-1a, to tell keymaps apart in the log */
static uint32_t text_hash(const uint8_t *p, size_t n) {
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ p[i]) * 16777619u;
	}
	return h;
}

/* The agent copies the keymap out of the area (here: checks it) and arms
 * the area again. */
static void handle_keymap(const struct tessera_wire_keymap *k) {
	bool ok = k->resource == KEYMAP_RESOURCE && k->size >= 1 &&
		k->size <= KEYMAP_SIZE && k->format == TESSERA_WIRE_KEYMAP_FORMAT_XKB_V1 &&
		keymap_area[k->size - 1] == '\0' &&
		strlen((const char *)keymap_area) == k->size - 1 &&
		strncmp((const char *)keymap_area, "xkb_keymap", 10) == 0;
	if (!keymap_armed) {
		logf_("fail KEYMAP while the keymap area was not armed");
	}
	logf_("KEYMAP resource=%u size=%u format=%u text=%s hash=%08" PRIx32,
		k->resource, k->size, k->format, ok ? "ok" : "bad",
		ok ? text_hash(keymap_area, k->size) : 0);
	keymap_armed = false;
	rearm_keymap = true;
}

/* Logs the input events of the ring and checks that they come only with
 * the matching focus. */
static void log_input(const struct tessera_wire_msg *ev) {
	switch (ev->type) {
	case TESSERA_WIRE_KEYMAP:
		handle_keymap(&ev->keymap);
		break;
	case TESSERA_WIRE_KEYBOARD_ENTER:
		logf_("KEYBOARD_ENTER surface=%u serial=%u keys=%u",
			ev->keyboard_enter.surface, ev->keyboard_enter.serial,
			ev->keyboard_enter.key_count);
		if (keyboard_focus != 0 || ev->keyboard_enter.surface != INPUT_SURFACE) {
			logf_("fail KEYBOARD_ENTER surface=%u with the focus on %u",
				ev->keyboard_enter.surface, keyboard_focus);
		}
		keyboard_focus = ev->keyboard_enter.surface;
		break;
	case TESSERA_WIRE_KEYBOARD_LEAVE:
		logf_("KEYBOARD_LEAVE surface=%u serial=%u", ev->keyboard_leave.surface,
			ev->keyboard_leave.serial);
		if (ev->keyboard_leave.surface != keyboard_focus) {
			logf_("fail KEYBOARD_LEAVE surface=%u with the focus on %u",
				ev->keyboard_leave.surface, keyboard_focus);
		}
		keyboard_focus = 0;
		break;
	case TESSERA_WIRE_KEYBOARD_KEY:
		logf_("KEYBOARD_KEY key=%u state=%u serial=%u", ev->key.code,
			ev->key.state, ev->key.serial);
		if (keyboard_focus == 0) {
			logf_("fail KEYBOARD_KEY without the keyboard focus");
		}
		break;
	case TESSERA_WIRE_KEYBOARD_MODIFIERS:
		logf_("KEYBOARD_MODIFIERS depressed=0x%x latched=0x%x locked=0x%x group=%u",
			ev->keyboard_modifiers.depressed, ev->keyboard_modifiers.latched,
			ev->keyboard_modifiers.locked, ev->keyboard_modifiers.group);
		break;
	case TESSERA_WIRE_KEYBOARD_REPEAT_INFO:
		logf_("KEYBOARD_REPEAT_INFO rate=%d delay=%d", ev->repeat_info.rate,
			ev->repeat_info.delay);
		break;
	case TESSERA_WIRE_POINTER_ENTER:
		logf_("POINTER_ENTER surface=%u serial=%u x=%d y=%d",
			ev->pointer_enter.surface, ev->pointer_enter.serial,
			ev->pointer_enter.x / 256, ev->pointer_enter.y / 256);
		if (pointer_focus != 0 || ev->pointer_enter.surface != INPUT_SURFACE) {
			logf_("fail POINTER_ENTER surface=%u with the pointer on %u",
				ev->pointer_enter.surface, pointer_focus);
		}
		pointer_focus = ev->pointer_enter.surface;
		cursor_serial = ev->pointer_enter.serial;
		break;
	case TESSERA_WIRE_POINTER_LEAVE:
		logf_("POINTER_LEAVE surface=%u serial=%u", ev->pointer_leave.surface,
			ev->pointer_leave.serial);
		if (ev->pointer_leave.surface != pointer_focus) {
			logf_("fail POINTER_LEAVE surface=%u with the pointer on %u",
				ev->pointer_leave.surface, pointer_focus);
		}
		pointer_focus = 0;
		break;
	case TESSERA_WIRE_POINTER_MOTION:
		logf_("POINTER_MOTION x=%d y=%d", ev->pointer_motion.x / 256,
			ev->pointer_motion.y / 256);
		if (pointer_focus == 0) {
			logf_("fail POINTER_MOTION without the pointer focus");
		}
		break;
	case TESSERA_WIRE_POINTER_BUTTON:
		logf_("POINTER_BUTTON button=%u state=%u serial=%u", ev->button.code,
			ev->button.state, ev->button.serial);
		if (pointer_focus == 0) {
			logf_("fail POINTER_BUTTON without the pointer focus");
		}
		break;
	case TESSERA_WIRE_POINTER_AXIS:
		logf_("POINTER_AXIS axis=%u", ev->pointer_axis.axis);
		if (pointer_focus == 0) {
			logf_("fail POINTER_AXIS without the pointer focus");
		}
		break;
	case TESSERA_WIRE_POINTER_FRAME:
		logf_("POINTER_FRAME");
		break;
	case TESSERA_WIRE_CONFIGURE:
		logf_("CONFIGURE surface=%u serial=%u states=0x%x", ev->configure.surface,
			ev->configure.serial, ev->configure.states);
		break;
	case TESSERA_WIRE_SURFACE_ENTER:
	case TESSERA_WIRE_SURFACE_LEAVE:
		logf_("%s surface=%u output=%u", tessera_wire_type_name(ev->type),
			ev->surface_output.surface, ev->surface_output.output);
		break;
	case TESSERA_WIRE_ERROR:
		logf_("ERROR code=%s object=%u count=%" PRIu64 " message=%s",
			tessera_wire_error_code_name(ev->error.code), ev->error.object,
			ev->error.count, ev->error.message);
		break;
	default: {
		const char *name = tessera_wire_type_name(ev->type);
		logf_("%s", name != NULL ? name : "?");
		break;
	}
	}
}

static void handle_event(const struct tessera_wire_msg *ev) {
	if (event_log != NULL) {
		log_input(ev);
	}
	switch (ev->type) {
	case TESSERA_WIRE_CONFIGURE:
		if (ev->configure.surface < MAX_SURFACES) {
			configure_serial[ev->configure.surface] = ev->configure.serial;
		}
		break;
	case TESSERA_WIRE_FRAME_DONE:
		if (ev->frame_done.surface < MAX_SURFACES) {
			frame_done_serial[ev->frame_done.surface] = ev->frame_done.serial;
		}
		break;
	case TESSERA_WIRE_BUFFER_RELEASE:
		REQUIRE_MSG(ev->buffer_release.release_point > last_point,
			"release point %" PRIu64 " after %" PRIu64,
			ev->buffer_release.release_point, last_point);
		last_point = ev->buffer_release.release_point;
		if (n_released < 64) {
			released[n_released] = ev->buffer_release.buffer;
			release_point[n_released++] = ev->buffer_release.release_point;
		}
		break;
	case TESSERA_WIRE_ERROR:
		REQUIRE_MSG(ev->error.code >= TESSERA_WIRE_ERROR_FIRST_NOTICE,
			"ERROR %s: %s", tessera_wire_error_code_name(ev->error.code),
			ev->error.message);
		if (ev->error.code == TESSERA_WIRE_ERROR_OVERFLOW) {
			n_dropped += ev->error.count;
			n_overflow_notices++;
		}
		break;
	case TESSERA_WIRE_PRESENTED:
		n_presented++;
		break;
	default:
		break;
	}
}

/* The agent's loop: keep one fenced WAIT outstanding, read the ring when
 * it completes. Returns after timeout_ms or once events were read. */
static void pump(int timeout_ms) {
	test_guest_pump(&guest, timeout_ms, handle_event);
}

#define WAIT_UNTIL(cond, what) do { \
	for (int i_ = 0; !(cond); i_++) { \
		REQUIRE_MSG(i_ < 400, "timed out waiting for %s", what); \
		pump(50); \
	} \
} while (0)

static bool was_released(uint32_t buffer, uint64_t *point) {
	for (size_t i = 0; i < n_released; i++) {
		if (released[i] == buffer) {
			*point = release_point[i];
			return true;
		}
	}
	return false;
}

/* ---- resources ---- */

static uint32_t *resource_pixels(uint32_t id, uint32_t w, uint32_t h, uint32_t color) {
	uint32_t *px = test_guest_pixel_resource(gpu, CTX, id, w, h);
	for (size_t i = 0; i < (size_t)w * h; i++) {
		px[i] = 0xff000000u | color;
	}
	return px;
}

static void start_session(void) {
	test_guest_init(&guest, gpu, CTX, "tessera-agent", RING_RESOURCE, RING_SIZE);
	keymap_area = test_guest_buffer_resource(gpu, CTX, KEYMAP_RESOURCE, KEYMAP_SIZE);
	test_guest_batch_begin(&guest);
	struct tessera_wire_msg m = { .type = TESSERA_WIRE_HELLO,
		.hello = { .max_version = 1, .min_version = 1 } };
	test_guest_batch_add(&guest, &m);
	m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_EVENT_RING,
		.area = { .resource = RING_RESOURCE, .size = RING_SIZE } };
	test_guest_batch_add(&guest, &m);
	m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_SET_KEYMAP_AREA,
		.area = { .resource = KEYMAP_RESOURCE, .size = KEYMAP_SIZE } };
	test_guest_batch_add(&guest, &m);
	test_guest_batch_submit(&guest);
	keymap_armed = true;
}

static void buffer_create(uint32_t buffer, uint32_t resource, uint32_t w, uint32_t h) {
	test_guest_batch_begin(&guest);
	struct tessera_wire_msg m = { .type = TESSERA_WIRE_BUFFER_CREATE,
		.buffer_create = { .buffer = buffer, .resource = resource,
			.format = TESSERA_WIRE_FORMAT_XRGB8888, .width = w, .height = h,
			.stride = w * 4 } };
	test_guest_batch_add(&guest, &m);
	test_guest_batch_submit(&guest);
}

static void commit(uint32_t surface, uint32_t buffer, uint32_t serial) {
	test_guest_batch_begin(&guest);
	struct tessera_wire_msg *m = calloc(1, sizeof(*m));
	REQUIRE_MSG(m != NULL, "oom");
	m->type = TESSERA_WIRE_COMMIT;
	m->commit = (struct tessera_wire_commit){ .surface = surface, .buffer = buffer,
		.serial = serial, .scale = 1,
		.flags = TESSERA_WIRE_COMMIT_FRAME | TESSERA_WIRE_COMMIT_DAMAGE_ALL };
	test_guest_batch_add(&guest, m);
	free(m);
	test_guest_batch_submit(&guest);
}

/* A toplevel showing buffer, mapped the xdg-shell way. */
static void window(uint32_t surface, uint32_t buffer, const char *title) {
	test_guest_batch_begin(&guest);
	struct tessera_wire_msg *m = calloc(1, sizeof(*m));
	REQUIRE_MSG(m != NULL, "oom");
	m->type = TESSERA_WIRE_SURFACE_CREATE;
	m->surface.surface = surface;
	test_guest_batch_add(&guest, m);
	m->type = TESSERA_WIRE_TOPLEVEL_CREATE;
	test_guest_batch_add(&guest, m);
	memset(m, 0, sizeof(*m));
	m->type = TESSERA_WIRE_SET_TITLE;
	m->string.surface = surface;
	m->string.length = (uint32_t)tessera_wire_sanitize_string(m->string.text,
		TESSERA_WIRE_MAX_TITLE_LENGTH, title);
	test_guest_batch_add(&guest, m);
	memset(m, 0, sizeof(*m));
	m->type = TESSERA_WIRE_COMMIT;
	m->commit = (struct tessera_wire_commit){ .surface = surface, .scale = 1 };
	test_guest_batch_add(&guest, m);
	test_guest_batch_submit(&guest);
	WAIT_UNTIL(configure_serial[surface] != 0, "the first CONFIGURE");
	test_guest_batch_begin(&guest);
	memset(m, 0, sizeof(*m));
	m->type = TESSERA_WIRE_ACK_CONFIGURE;
	m->surface_serial = (struct tessera_wire_surface_serial){ surface,
		configure_serial[surface] };
	test_guest_batch_add(&guest, m);
	free(m);
	test_guest_batch_submit(&guest);
	commit(surface, buffer, 1);
	WAIT_UNTIL(frame_done_serial[surface] == 1, "the first FRAME_DONE");
}

/* The agent exits: its context goes, the windows with it; then the VMM. */
static void end_session(const uint32_t *resources, size_t n) {
	REQUIRE_MSG(tessera_virtio_gpu_frontend_ctx_destroy(gpu, CTX) == 0, "%s", err());
	for (size_t i = 0; i < n; i++) {
		REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_unref(gpu, resources[i]) == 0,
			"%s", err());
	}
	tessera_virtio_gpu_frontend_destroy(gpu);
}

/* ---- cases ---- */

static void case_window(void) {
	start_session();
	resource_pixels(1, 200, 120, 0x33cc33);
	resource_pixels(2, 200, 120, 0x3355aa);
	buffer_create(1, 1, 200, 120);
	buffer_create(2, 2, 200, 120);
	window(1, 1, "e2e window");
	printf("READY mapped 33cc33\n");
	go();

	commit(1, 2, 2);
	uint64_t p1 = 0, p2 = 0;
	WAIT_UNTIL(was_released(1, &p1), "the release of buffer 1");
	commit(1, 1, 3);
	WAIT_UNTIL(was_released(2, &p2), "the release of buffer 2");
	REQUIRE_MSG(p2 > p1, "release points %" PRIu64 " then %" PRIu64, p1, p2);
	printf("READY released %" PRIu64 " %" PRIu64 "\n", p1, p2);
	go();

	resource_pixels(10, 1920, 1080, 0x204060);
	buffer_create(10, 10, 1920, 1080);
	window(2, 10, "e2e full hd");
	printf("READY fullhd-start\n");
	go();
	for (uint32_t serial = 2; serial < 2 + FULLHD_FRAMES; serial++) {
		commit(2, 10, serial);
		WAIT_UNTIL(frame_done_serial[2] == serial, "a FRAME_DONE");
	}
	printf("READY fullhd-done %d\n", FULLHD_FRAMES);
	go();

	uint32_t ids[] = { 1, 2, 10, RING_RESOURCE, KEYMAP_RESOURCE };
	end_session(ids, sizeof(ids) / sizeof(ids[0]));
	printf("READY done\n");
	fflush(stdout);
}

/* The requests the agent's event handling left to send. */
static void agent_requests(void) {
	bool ack = configure_serial[INPUT_SURFACE] != acked_serial;
	if (!rearm_keymap && cursor_serial == 0 && !ack) {
		return;
	}
	test_guest_batch_begin(&guest);
	struct tessera_wire_msg m;
	if (ack) {
		acked_serial = configure_serial[INPUT_SURFACE];
		m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_ACK_CONFIGURE,
			.surface_serial = { INPUT_SURFACE, acked_serial } };
		test_guest_batch_add(&guest, &m);
	}
	if (rearm_keymap) {
		m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_SET_KEYMAP_AREA,
			.area = { .resource = KEYMAP_RESOURCE, .size = KEYMAP_SIZE } };
		test_guest_batch_add(&guest, &m);
	}
	if (cursor_serial != 0) {
		m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_SET_CURSOR,
			.set_cursor = { CURSOR_SURFACE, cursor_serial, 2, 2 } };
		test_guest_batch_add(&guest, &m);
	}
	test_guest_batch_submit(&guest);
	if (rearm_keymap) {
		keymap_armed = true;
		rearm_keymap = false;
	}
	if (cursor_serial != 0) {
		logf_("cursor serial=%u", cursor_serial);
		cursor_serial = 0;
	}
}

static void case_input(const char *log_path) {
	event_log = fopen(log_path, "w");
	REQUIRE_MSG(event_log != NULL, "cannot open %s", log_path);
	start_session();
	resource_pixels(1, 200, 120, 0x6633cc);
	resource_pixels(2, 16, 16, 0xff00ff);
	buffer_create(1, 1, 200, 120);
	buffer_create(2, 2, 16, 16);
	window(INPUT_SURFACE, 1, "e2e input");
	acked_serial = configure_serial[INPUT_SURFACE];
	/* the cursor: a surface with a buffer, given the role at each enter */
	test_guest_batch_begin(&guest);
	struct tessera_wire_msg m = { .type = TESSERA_WIRE_SURFACE_CREATE,
		.surface = { CURSOR_SURFACE } };
	test_guest_batch_add(&guest, &m);
	m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_COMMIT,
		.commit = { .surface = CURSOR_SURFACE, .buffer = 2, .scale = 1,
			.flags = TESSERA_WIRE_COMMIT_DAMAGE_ALL } };
	test_guest_batch_add(&guest, &m);
	test_guest_batch_submit(&guest);
	logf_("mapped");
	printf("READY input 6633cc\n");
	fflush(stdout);

	uint32_t serial = 1, syncs = 0;
	char line[64];
	for (;;) {
		pump(50);
		agent_requests();
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		int n = poll(&p, 1, 0);
		REQUIRE_MSG(n >= 0, "poll stdin");
		if (n == 0) {
			continue;
		}
		if (fgets(line, sizeof(line), stdin) == NULL ||
				strcmp(line, "quit\n") == 0) {
			break;
		}
		REQUIRE_MSG(strcmp(line, "sync\n") == 0, "unknown command %s", line);
		commit(INPUT_SURFACE, 1, ++serial);
		WAIT_UNTIL(frame_done_serial[INPUT_SURFACE] == serial, "a FRAME_DONE");
		agent_requests();
		logf_("sync %u", ++syncs);
	}

	uint32_t ids[] = { 1, 2, RING_RESOURCE, KEYMAP_RESOURCE };
	end_session(ids, sizeof(ids) / sizeof(ids[0]));
	fclose(event_log);
	event_log = NULL;
	printf("READY done\n");
	fflush(stdout);
}

/* Commits of buffer 1 to surface 1 with feedback and a frame callback, as
 * a client drawing as fast as it can; nothing is read meanwhile. */
static void flood(uint32_t n) {
	struct tessera_wire_msg *m = calloc(1, sizeof(*m));
	REQUIRE_MSG(m != NULL, "oom");
	for (uint32_t done = 0; done < n;) {
		test_guest_batch_begin(&guest);
		for (uint32_t i = 0; i < 500 && done < n; i++, done++) {
			memset(m, 0, sizeof(*m));
			m->type = TESSERA_WIRE_COMMIT;
			m->commit = (struct tessera_wire_commit){ .surface = 1, .buffer = 1,
				.serial = OVERFLOW_FIRST_SERIAL + done, .scale = 1,
				.flags = TESSERA_WIRE_COMMIT_PRESENTATION |
					TESSERA_WIRE_COMMIT_FRAME,
				.damage_count = 1, .damage = { { 0, 0, 1, 1 } } };
			test_guest_batch_add(&guest, m);
		}
		test_guest_batch_submit(&guest);
	}
	free(m);
}

static void case_overflow(void) {
	start_session();
	resource_pixels(1, 200, 120, 0x2288ee);
	buffer_create(1, 1, 200, 120);
	window(1, 1, "e2e overflow");
	printf("READY mapped 2288ee\n");
	go();

	uint64_t presented = n_presented;
	flood(OVERFLOW_COMMITS);
	printf("READY flooded %d\n", OVERFLOW_COMMITS);
	go();

	/* every commit's PRESENTED is read or counted as dropped; the state
	 * event (the latest FRAME_DONE) is never lost */
	const uint32_t last = OVERFLOW_FIRST_SERIAL + OVERFLOW_COMMITS - 1;
	WAIT_UNTIL(n_presented - presented + n_dropped >= OVERFLOW_COMMITS,
		"every commit's PRESENTED, read or counted in an OVERFLOW");
	WAIT_UNTIL(frame_done_serial[1] == last, "the FRAME_DONE of the last commit");
	REQUIRE_MSG(n_presented - presented + n_dropped == OVERFLOW_COMMITS,
		"%" PRIu64 " PRESENTED read + %" PRIu64 " dropped for %d commits",
		n_presented - presented, n_dropped, OVERFLOW_COMMITS);
	REQUIRE_MSG(n_dropped > 0 && n_overflow_notices > 0, "nothing was dropped: the "
		"ring never filled");
	printf("READY drained %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		n_presented - presented, n_dropped, n_overflow_notices);
	go();

	/* nothing left to read: the WAIT is held ... */
	pump(300);
	REQUIRE_MSG(guest.wait_outstanding, "a WAIT on the empty ring completed");
	pump(300);
	REQUIRE_MSG(guest.wait_outstanding, "a WAIT on the empty ring completed");
	/* ... until an event comes */
	test_guest_batch_begin(&guest);
	struct tessera_wire_msg m = { .type = TESSERA_WIRE_COMMIT,
		.commit = { .surface = 1, .buffer = 1, .serial = last + 1, .scale = 1,
			.flags = TESSERA_WIRE_COMMIT_FRAME | TESSERA_WIRE_COMMIT_DAMAGE_ALL } };
	test_guest_batch_add(&guest, &m);
	test_guest_batch_submit(&guest);
	WAIT_UNTIL(frame_done_serial[1] == last + 1, "the FRAME_DONE of a new frame");
	printf("READY held\n");
	go();

	uint32_t ids[] = { 1, RING_RESOURCE, KEYMAP_RESOURCE };
	end_session(ids, sizeof(ids) / sizeof(ids[0]));
	printf("READY done\n");
	fflush(stdout);
}

static void case_abandon(void) {
	start_session();
	resource_pixels(1, 200, 120, 0xcc9900);
	resource_pixels(2, 200, 120, 0x9900cc);
	buffer_create(1, 1, 200, 120);
	buffer_create(2, 2, 200, 120);
	window(1, 1, "e2e abandoned");
	/* mid-frame: a new buffer committed, its release pending, a WAIT
	 * held by vmd */
	commit(1, 2, 2);
	if (!guest.wait_outstanding) {
		pump(0);
	}
	printf("READY abandon cc9900\n");
	go();
	_exit(0); /* no cleanup, as a VMM that crashed */
}

int main(int argc, char *argv[]) {
	if (argc < 3 || (strcmp(argv[2], "input") == 0) != (argc == 4)) {
		fprintf(stderr, "usage: vmd-session-e2e SOCKET "
			"window|unsealed|abandon|overflow|input LOG\n");
		return 2;
	}
	char e[256];
	struct tessera_virtio_gpu_frontend_options opts = {
		.ram_size = UINT64_C(128) << 20,
		.split_regions = true,
		.unsealed_ram = strcmp(argv[2], "unsealed") == 0,
	};
	gpu = tessera_virtio_gpu_frontend_connect(argv[1], &opts, e, sizeof(e));
	REQUIRE_MSG(gpu != NULL, "connect %s: %s", argv[1], e);
	if (strcmp(argv[2], "window") == 0 || strcmp(argv[2], "unsealed") == 0) {
		case_window();
	} else if (strcmp(argv[2], "abandon") == 0) {
		case_abandon();
	} else if (strcmp(argv[2], "overflow") == 0) {
		case_overflow();
	} else if (strcmp(argv[2], "input") == 0) {
		case_input(argv[3]);
	} else {
		fprintf(stderr, "unknown case %s\n", argv[2]);
		return 2;
	}
	return 0;
}
