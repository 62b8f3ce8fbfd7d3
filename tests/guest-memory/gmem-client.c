/*
 * gmem-client: a stand-in VM daemon that exercises tessera_guest_memory_v1.
 *
 * tessera starts it (through gmem-vmd.sh) like tessera-vmd, with a tagged
 * WAYLAND_SOCKET. It plays the guest: a sealed memfd is the guest's RAM,
 * registered as two regions at different guest-physical bases; window
 * buffers are lists of scattered guest pages. It writes a known pattern into
 * those pages through its own mapping of the memfd (its own implementation
 * of the extent -> gpa -> file offset translation) and shows the buffer in
 * an xdg toplevel. The test checks the screenshot against the pattern.
 *
 * --scenario picks what to do (see scenarios[] below): "show" and "crash"
 * go through steps, each started by the test creating the file
 * CONTROL.RUN.STEP; the "bad_*" scenarios send one invalid request each and
 * log the protocol error they get. Every log line starts with the run
 * number (the wrapper counts restarts):
 *
 *   N connected | N global tessera_guest_memory_v1 ok|absent |
 *   N mapped | N rewritten | N damaged | N swapped | N regions-dropped |
 *   N torn-down | N exiting | N release <buffer 1|2> |
 *   N protocol-error <interface> <code> | N wayland-log <libwayland message> |
 *   N no-error | N failed <why>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <wayland-client.h>
#include "log.h"
#include "tessera-client.h"
#include "tessera-guest-memory-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#define PAGE 4096u
#define FORMAT_XRGB8888 0x34325258u /* DRM fourcc 'XR24' */

/* The guest: one memfd of RAM_PAGES pages, two regions. */
#define RAM_PAGES 128u
#define REGION_PAGES 64u
#define REGION_A_GPA UINT64_C(0x100000000) /* fd pages 0..63 */
#define REGION_B_GPA UINT64_C(0x200000)    /* fd pages 64..127 */

/* The window buffer (the test knows these and the pattern, not the pages). */
#define BUF_WIDTH 128
#define BUF_HEIGHT 96
#define BUF_STRIDE 576 /* 64 bytes of padding per row */
#define BUF_OFFSET 5120u /* one page and two rows into the first extent */
#define BUF_BYTES (BUF_OFFSET + BUF_STRIDE * BUF_HEIGHT) /* 60416: 14.75 pages */
#define BUF_EXTENTS ((BUF_BYTES + PAGE - 1) / PAGE)
#define CELL_W 32
#define CELL_H 8
#define GARBAGE 0xffff0000u /* everything else in guest RAM */

/*
 * Buffer page i -> guest page, scattered over both regions out of order.
 * Runs that the compositor can merge: 1-2 and 5-6-7 (12 mappings in all).
 */
static const struct { char region; unsigned page; } page_table[BUF_EXTENTS] = {
	{ 'B', 10 }, { 'A', 3 }, { 'A', 4 }, { 'B', 40 }, { 'A', 60 },
	{ 'B', 2 }, { 'B', 3 }, { 'B', 4 }, { 'A', 0 }, { 'B', 63 },
	{ 'A', 20 }, { 'A', 19 }, { 'B', 11 }, { 'A', 33 }, { 'B', 50 },
};
/* Buffer 2 uses page (p + 32) % 64 of the same region: disjoint pages. */

struct extent {
	uint64_t gpa, length;
};

struct gbuf {
	struct gm_client *client;
	int index; /* 1 or 2 */
	struct wl_buffer *wl_buffer;
	struct extent extents[BUF_EXTENTS];
};

struct gm_client {
	const char *name, *scenario, *control;
	int run;
	FILE *log;

	struct wl_display *display;
	struct tessera_client_registry registry;
	struct tessera_client_global wanted[3];
	struct wl_compositor *compositor;
	struct xdg_wm_base *wm_base;
	struct tessera_guest_memory_v1 *gmem;

	int ram_fd;
	uint8_t *ram;
	size_t ram_size;
	struct tessera_guest_region_v1 *regions[2];
	struct gbuf bufs[2];

	struct tessera_client_window window;

	/* objects of the bad scenarios, destroyed at exit */
	struct wl_proxy *extra[40];
	size_t extra_count;

	int signal_fd;
	bool terminated;
};

static struct gm_client *log_client; /* for the libwayland log handler */

static void log_line(struct gm_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_line(struct gm_client *c, const char *fmt, ...) {
	if (c->log == NULL) {
		return;
	}
	fprintf(c->log, "%d ", c->run);
	va_list args;
	va_start(args, fmt);
	vfprintf(c->log, fmt, args);
	va_end(args);
	fputc('\n', c->log);
	fflush(c->log);
}

/* libwayland prints protocol errors with their message through this. */
static void wayland_log_handler(const char *fmt, va_list args) {
	char message[1024];
	vsnprintf(message, sizeof(message), fmt, args);
	size_t len = strlen(message);
	while (len > 0 && message[len - 1] == '\n') {
		message[--len] = '\0';
	}
	if (log_client != NULL) {
		log_line(log_client, "wayland-log %s", message);
	}
	tessera_log(TESSERA_ERROR, "libwayland: %s", message);
}

/* Logs why the connection failed; returns 1 (the exit status). */
static int connection_failed(struct gm_client *c) {
	int err = wl_display_get_error(c->display);
	if (err == EPROTO) {
		const struct wl_interface *interface = NULL;
		uint32_t id;
		uint32_t code = wl_display_get_protocol_error(c->display, &interface, &id);
		log_line(c, "protocol-error %s %" PRIu32,
			interface != NULL ? interface->name : "?", code);
	} else {
		log_line(c, "connection-error %s", strerror(err != 0 ? err : errno));
	}
	return 1;
}

static bool roundtrip(struct gm_client *c) {
	return wl_display_roundtrip(c->display) >= 0;
}

/* Remembers a proxy of a bad scenario, to destroy it at exit. */
static void keep(struct gm_client *c, void *proxy) {
	if (proxy == NULL) {
		return;
	}
	if (c->extra_count == sizeof(c->extra) / sizeof(c->extra[0])) {
		wl_proxy_destroy(proxy);
		return;
	}
	c->extra[c->extra_count++] = proxy;
}

/* Guest RAM */

static bool ram_create(struct gm_client *c, size_t size, bool allow_sealing,
		unsigned int seals) {
	c->ram_fd = memfd_create("tessera-gmem-guest-ram",
		MFD_CLOEXEC | (allow_sealing ? MFD_ALLOW_SEALING : 0));
	if (c->ram_fd < 0) {
		log_line(c, "failed memfd_create: %s", strerror(errno));
		return false;
	}
	if (ftruncate(c->ram_fd, (off_t)size) != 0) {
		log_line(c, "failed ftruncate: %s", strerror(errno));
		return false;
	}
	if (seals != 0 && fcntl(c->ram_fd, F_ADD_SEALS, seals) != 0) {
		log_line(c, "failed F_ADD_SEALS: %s", strerror(errno));
		return false;
	}
	c->ram_size = size;
	return true;
}

static bool ram_map(struct gm_client *c) {
	c->ram = mmap(NULL, c->ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->ram_fd, 0);
	if (c->ram == MAP_FAILED) {
		c->ram = NULL;
		log_line(c, "failed mmap: %s", strerror(errno));
		return false;
	}
	uint32_t *words = (uint32_t *)c->ram;
	for (size_t i = 0; i < c->ram_size / 4; i++) {
		words[i] = GARBAGE;
	}
	return true;
}

static struct tessera_guest_region_v1 *region_add(struct gm_client *c, int fd,
		uint64_t base, uint64_t size, uint64_t offset) {
	return tessera_guest_memory_v1_create_region(c->gmem, fd,
		(uint32_t)(base >> 32), (uint32_t)base, (uint32_t)(size >> 32), (uint32_t)size,
		(uint32_t)(offset >> 32), (uint32_t)offset);
}

static void regions_add_standard(struct gm_client *c) {
	c->regions[0] = region_add(c, c->ram_fd, REGION_A_GPA,
		(uint64_t)REGION_PAGES * PAGE, 0);
	c->regions[1] = region_add(c, c->ram_fd, REGION_B_GPA,
		(uint64_t)REGION_PAGES * PAGE, (uint64_t)REGION_PAGES * PAGE);
}

/* The client's own gpa -> memfd offset translation (the two regions). */
static bool gpa_to_file_offset(uint64_t gpa, uint64_t *offset) {
	uint64_t size = (uint64_t)REGION_PAGES * PAGE;
	if (gpa >= REGION_A_GPA && gpa - REGION_A_GPA < size) {
		*offset = gpa - REGION_A_GPA;
		return true;
	}
	if (gpa >= REGION_B_GPA && gpa - REGION_B_GPA < size) {
		*offset = size + (gpa - REGION_B_GPA);
		return true;
	}
	return false;
}

/* The pattern: one colour per 32x8 cell and phase (the test computes the same). */
static uint32_t pattern_pixel(int x, int y, int phase) {
	uint32_t cx = (uint32_t)(x / CELL_W), cy = (uint32_t)(y / CELL_H);
	uint32_t r = 40 + 50 * cx;
	uint32_t g = 20 + 19 * cy;
	uint32_t b = 0x30 * (uint32_t)(phase + 1);
	return 0xff000000u | r << 16 | g << 8 | b;
}

static void gbuf_init_extents(struct gbuf *buf, int index) {
	buf->index = index;
	for (unsigned i = 0; i < BUF_EXTENTS; i++) {
		unsigned page = page_table[i].page;
		if (index == 2) {
			page = (page + 32) % REGION_PAGES;
		}
		uint64_t base = page_table[i].region == 'A' ? REGION_A_GPA : REGION_B_GPA;
		buf->extents[i].gpa = base + (uint64_t)page * PAGE;
		buf->extents[i].length = PAGE;
	}
	/* The last extent ends where the pixels end: not a whole page. */
	buf->extents[BUF_EXTENTS - 1].length = BUF_BYTES - (BUF_EXTENTS - 1) * PAGE;
}

/* Writes the pattern through the extents into guest RAM. */
static bool gbuf_write_pattern(struct gm_client *c, struct gbuf *buf, int phase) {
	for (int y = 0; y < BUF_HEIGHT; y++) {
		for (int x = 0; x < BUF_WIDTH; x++) {
			uint64_t pos = BUF_OFFSET + (uint64_t)y * BUF_STRIDE + (uint64_t)x * 4;
			size_t i = 0;
			while (i < BUF_EXTENTS && pos >= buf->extents[i].length) {
				pos -= buf->extents[i].length;
				i++;
			}
			uint64_t offset;
			if (i == BUF_EXTENTS ||
					!gpa_to_file_offset(buf->extents[i].gpa + pos, &offset) ||
					offset + 4 > c->ram_size) {
				log_line(c, "failed pattern address of pixel %d,%d", x, y);
				return false;
			}
			uint32_t pixel = pattern_pixel(x, y, phase);
			memcpy(c->ram + offset, &pixel, sizeof(pixel));
		}
	}
	return true;
}

static void buffer_handle_release(void *data, struct wl_buffer *wl_buffer) {
	struct gbuf *buf = data;
	log_line(buf->client, "release %d", buf->index);
}

static const struct wl_buffer_listener buffer_listener = {
	.release = buffer_handle_release,
};

/*
 * Sends extents in messages of at most 200 (a Wayland message is at most
 * 4 KiB). Long lists pause for a roundtrip every 16 messages so that the
 * socket never fills up; false when the connection failed meanwhile.
 */
static bool params_add(struct gm_client *c, struct tessera_guest_buffer_params_v1 *params,
		const struct extent *extents, size_t count) {
	unsigned messages = 0;
	while (count > 0) {
		if (++messages % 16 == 0 && !roundtrip(c)) {
			return false;
		}
		size_t n = count < 200 ? count : 200;
		struct wl_array array;
		wl_array_init(&array);
		void *data = wl_array_add(&array, n * sizeof(*extents));
		if (data != NULL) {
			memcpy(data, extents, n * sizeof(*extents));
			tessera_guest_buffer_params_v1_add_extents(params, &array);
		}
		wl_array_release(&array);
		extents += n;
		count -= n;
	}
	return true;
}

/*
 * A wl_buffer from these extents. With expect_error, the params object is
 * kept alive (until exit) so that the error it gets names its interface:
 * libwayland-client cannot tell the interface of a destroyed object.
 */
static struct wl_buffer *buffer_create(struct gm_client *c, const struct extent *extents,
		size_t count, int32_t width, int32_t height, int32_t stride, uint32_t format,
		uint32_t offset, bool expect_error) {
	struct tessera_guest_buffer_params_v1 *params =
		tessera_guest_memory_v1_create_params(c->gmem);
	struct wl_buffer *buffer = NULL;
	if (params_add(c, params, extents, count)) {
		buffer = tessera_guest_buffer_params_v1_create(params,
			width, height, stride, format, offset);
	}
	if (expect_error) {
		keep(c, params);
	} else {
		tessera_guest_buffer_params_v1_destroy(params);
	}
	return buffer;
}

static bool gbuf_create(struct gm_client *c, struct gbuf *buf, int index, int phase) {
	buf->client = c;
	gbuf_init_extents(buf, index);
	if (!gbuf_write_pattern(c, buf, phase)) {
		return false;
	}
	buf->wl_buffer = buffer_create(c, buf->extents, BUF_EXTENTS, BUF_WIDTH, BUF_HEIGHT,
		BUF_STRIDE, FORMAT_XRGB8888, BUF_OFFSET, false);
	if (buf->wl_buffer == NULL) {
		return false;
	}
	wl_buffer_add_listener(buf->wl_buffer, &buffer_listener, buf);
	return true;
}

/* Window */

static bool window_create(struct gm_client *c) {
	if (c->compositor == NULL || c->wm_base == NULL) {
		log_line(c, "failed no wl_compositor or xdg_wm_base");
		return false;
	}
	/* the buffer size is fixed, and the test ends us: no configure or
	 * close handler */
	tessera_client_window_init(&c->window, c->compositor, c->wm_base, "guest memory",
		NULL, NULL);
	wl_surface_commit(c->window.surface);
	while (!c->window.configured) {
		if (wl_display_dispatch(c->display) < 0) {
			return false;
		}
	}
	return true;
}

static bool show(struct gm_client *c, struct gbuf *buf, bool attach) {
	if (attach) {
		wl_surface_attach(c->window.surface, buf->wl_buffer, 0, 0);
	}
	wl_surface_damage_buffer(c->window.surface, 0, 0, BUF_WIDTH, BUF_HEIGHT);
	wl_surface_commit(c->window.surface);
	return roundtrip(c);
}

/* Event loop while waiting for the test */

/* Dispatches events for up to timeout_ms; false on error or SIGTERM. */
static bool pump(struct gm_client *c, int timeout_ms) {
	while (wl_display_prepare_read(c->display) != 0) {
		if (wl_display_dispatch_pending(c->display) < 0) {
			return false;
		}
	}
	if (wl_display_flush(c->display) < 0 && errno != EAGAIN) {
		wl_display_cancel_read(c->display);
		return false;
	}
	struct pollfd fds[2] = {
		{ .fd = wl_display_get_fd(c->display), .events = POLLIN },
		{ .fd = c->signal_fd, .events = POLLIN },
	};
	if (poll(fds, 2, timeout_ms) < 0) {
		wl_display_cancel_read(c->display);
		return errno == EINTR;
	}
	if (fds[1].revents & POLLIN) {
		wl_display_cancel_read(c->display);
		c->terminated = true;
		return false;
	}
	if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
		if (wl_display_read_events(c->display) < 0) {
			return false;
		}
	} else {
		wl_display_cancel_read(c->display);
	}
	return wl_display_dispatch_pending(c->display) >= 0;
}

static bool wait_step(struct gm_client *c, const char *step) {
	char path[4096];
	snprintf(path, sizeof(path), "%s.%d.%s", c->control, c->run, step);
	while (access(path, F_OK) != 0) {
		if (!pump(c, 20)) {
			return false;
		}
	}
	return true;
}

/* Scenarios. Each returns the exit status. */

static int scenario_idle(struct gm_client *c) {
	while (pump(c, -1)) {
	}
	return c->terminated ? 0 : connection_failed(c);
}

#define STEP(name) do { \
	if (!wait_step(c, name)) { \
		return c->terminated ? 0 : connection_failed(c); \
	} \
} while (0)

#define CHECK(cond) do { \
	if (!(cond)) { \
		return connection_failed(c); \
	} \
} while (0)

/*
 * show: the whole life of a window (steps start, rewrite, damage, swap,
 * drop-regions, teardown, exit). crash: start, swap, exit, and at exit the
 * process vanishes with its regions, buffers and window still alive.
 */
static int scenario_show(struct gm_client *c, bool crash) {
	STEP("start");
	if (!ram_create(c, (size_t)RAM_PAGES * PAGE, true, F_SEAL_SHRINK | F_SEAL_GROW) ||
			!ram_map(c)) {
		return 1;
	}
	regions_add_standard(c);
	if (!gbuf_create(c, &c->bufs[0], 1, 0)) {
		return 1;
	}
	CHECK(roundtrip(c));
	CHECK(window_create(c));
	CHECK(show(c, &c->bufs[0], true));
	log_line(c, "mapped");

	if (!crash) {
		/* Same wl_buffer: new pixels in guest RAM, attach again, damage. */
		STEP("rewrite");
		if (!gbuf_write_pattern(c, &c->bufs[0], 1)) {
			return 1;
		}
		CHECK(show(c, &c->bufs[0], true));
		log_line(c, "rewritten");

		/* Same wl_buffer, not even attached again: damage only. */
		STEP("damage");
		if (!gbuf_write_pattern(c, &c->bufs[0], 2)) {
			return 1;
		}
		CHECK(show(c, &c->bufs[0], false));
		log_line(c, "damaged");
	}

	/* A second buffer: the first one must be released. */
	STEP("swap");
	if (!gbuf_create(c, &c->bufs[1], 2, 3)) {
		return 1;
	}
	CHECK(show(c, &c->bufs[1], true));
	log_line(c, "swapped");

	if (!crash) {
		/* Regions go while buffers still map them: those stay readable. */
		STEP("drop-regions");
		for (int i = 0; i < 2; i++) {
			tessera_guest_region_v1_destroy(c->regions[i]);
			c->regions[i] = NULL;
		}
		if (!gbuf_write_pattern(c, &c->bufs[1], 4)) {
			return 1;
		}
		CHECK(show(c, &c->bufs[1], false));
		log_line(c, "regions-dropped");

		/* Buffer 2 is destroyed while it is still on screen. */
		STEP("teardown");
		for (int i = 0; i < 2; i++) {
			wl_buffer_destroy(c->bufs[i].wl_buffer);
			c->bufs[i].wl_buffer = NULL;
		}
		tessera_client_window_finish(&c->window);
		tessera_guest_memory_v1_destroy(c->gmem);
		c->gmem = NULL;
		CHECK(roundtrip(c));
		log_line(c, "torn-down");
	}

	STEP("exit");
	log_line(c, "exiting");
	if (crash) {
		/* Vanish with everything still alive: the compositor cleans up. */
		wl_display_flush(c->display);
		fclose(c->log);
		_exit(0);
	}
	return 0;
}

/* The bad inputs: each must end in the protocol error the test expects. */

static int expect_error(struct gm_client *c) {
	if (roundtrip(c)) {
		log_line(c, "no-error");
		return 3;
	}
	return connection_failed(c);
}

static bool standard_ram(struct gm_client *c) {
	return ram_create(c, (size_t)RAM_PAGES * PAGE, true, F_SEAL_SHRINK);
}

static int bad_unsealed(struct gm_client *c) {
	if (!ram_create(c, (size_t)RAM_PAGES * PAGE, true, 0)) {
		return 1;
	}
	regions_add_standard(c);
	return expect_error(c);
}

static int bad_not_memfd(struct gm_client *c) {
	int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)RAM_PAGES * PAGE) != 0) {
		log_line(c, "failed O_TMPFILE: %s", strerror(errno));
		return 1;
	}
	keep(c, region_add(c, fd, REGION_A_GPA, (uint64_t)REGION_PAGES * PAGE, 0));
	close(fd);
	return expect_error(c);
}

static int bad_write_only(struct gm_client *c) {
	if (!ram_create(c, (size_t)RAM_PAGES * PAGE, true, F_SEAL_SHRINK)) {
		return 1;
	}
	/* the same sealed memfd, reopened write-only */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", c->ram_fd);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		log_line(c, "failed reopening the memfd: %s", strerror(errno));
		return 1;
	}
	keep(c, region_add(c, fd, REGION_A_GPA, (uint64_t)REGION_PAGES * PAGE, 0));
	close(fd);
	return expect_error(c);
}

static int bad_fd_too_small(struct gm_client *c) {
	if (!ram_create(c, (size_t)REGION_PAGES * PAGE, true, F_SEAL_SHRINK)) {
		return 1;
	}
	/* region B lies beyond the end of the 64-page file */
	regions_add_standard(c);
	return expect_error(c);
}

static int bad_region_misaligned(struct gm_client *c) {
	if (!standard_ram(c)) {
		return 1;
	}
	keep(c, region_add(c, c->ram_fd, REGION_A_GPA + 512, PAGE, 0));
	return expect_error(c);
}

static int bad_region_overflow(struct gm_client *c) {
	if (!standard_ram(c)) {
		return 1;
	}
	keep(c, region_add(c, c->ram_fd, UINT64_C(0xfffffffffffff000), 2 * PAGE, 0));
	return expect_error(c);
}

static int bad_overlap(struct gm_client *c) {
	if (!standard_ram(c)) {
		return 1;
	}
	keep(c, region_add(c, c->ram_fd, REGION_A_GPA, 16 * PAGE, 0));
	keep(c, region_add(c, c->ram_fd, REGION_A_GPA + 15 * PAGE, 16 * PAGE, 16 * PAGE));
	return expect_error(c);
}

static int bad_too_many_regions(struct gm_client *c) {
	if (!standard_ram(c)) {
		return 1;
	}
	for (unsigned i = 0; i < 17; i++) {
		keep(c, region_add(c, c->ram_fd, REGION_A_GPA + (uint64_t)i * 2 * PAGE, PAGE,
			(uint64_t)i * PAGE));
	}
	return expect_error(c);
}

/* Standard regions, then a buffer from these extents and parameters. */
static int bad_buffer(struct gm_client *c, const struct extent *extents, size_t count,
		int32_t width, int32_t height, int32_t stride, uint32_t format, uint32_t offset) {
	if (!standard_ram(c)) {
		return 1;
	}
	regions_add_standard(c);
	keep(c, buffer_create(c, extents, count, width, height, stride, format, offset, true));
	return expect_error(c);
}

static const struct extent two_pages[] = {
	{ REGION_A_GPA, PAGE }, { REGION_B_GPA, PAGE },
};

static int bad_outside(struct gm_client *c) {
	const struct extent extents[] = {
		{ REGION_A_GPA, PAGE }, { UINT64_C(0x40000000), PAGE },
	};
	return bad_buffer(c, extents, 2, 16, 16, 64, FORMAT_XRGB8888, 0);
}

static int bad_straddle(struct gm_client *c) {
	/* starts in the last page of region A and runs one page past it */
	const struct extent extents[] = {
		{ REGION_A_GPA + (REGION_PAGES - 1) * PAGE, 2 * PAGE },
	};
	return bad_buffer(c, extents, 1, 16, 16, 64, FORMAT_XRGB8888, 0);
}

static int bad_misaligned(struct gm_client *c) {
	const struct extent extents[] = { { REGION_A_GPA + 256, PAGE } };
	return bad_buffer(c, extents, 1, 16, 16, 64, FORMAT_XRGB8888, 0);
}

static int bad_misaligned_length(struct gm_client *c) {
	const struct extent extents[] = {
		{ REGION_A_GPA, 1024 }, { REGION_A_GPA + PAGE, PAGE },
	};
	return bad_buffer(c, extents, 2, 16, 16, 64, FORMAT_XRGB8888, 0);
}

static int bad_stride(struct gm_client *c) {
	return bad_buffer(c, two_pages, 2, 16, 16, 60, FORMAT_XRGB8888, 0);
}

static int bad_extent_overflow(struct gm_client *c) {
	const struct extent extents[] = {
		{ UINT64_C(0xfffffffffffff000), 2 * PAGE },
	};
	return bad_buffer(c, extents, 1, 16, 16, 64, FORMAT_XRGB8888, 0);
}

static int bad_size_overflow(struct gm_client *c) {
	/* 32-bit math would wrap: 0xfffffffc + 32768 * 8192 */
	return bad_buffer(c, two_pages, 2, 8192, 8192, 32768, FORMAT_XRGB8888, 0xfffffffcu);
}

static int bad_too_small(struct gm_client *c) {
	/* two pages hold 32 rows of 256 bytes, not 33 */
	return bad_buffer(c, two_pages, 2, 64, 33, 256, FORMAT_XRGB8888, 0);
}

static int bad_format(struct gm_client *c) {
	/* 1 is WL_SHM_FORMAT_XRGB8888, not a DRM fourcc */
	return bad_buffer(c, two_pages, 2, 16, 16, 64, 1, 0);
}

static int bad_size(struct gm_client *c) {
	return bad_buffer(c, two_pages, 2, 0, 16, 64, FORMAT_XRGB8888, 0);
}

static int bad_offset(struct gm_client *c) {
	return bad_buffer(c, two_pages, 2, 16, 16, 64, FORMAT_XRGB8888, 2);
}

static int bad_too_many_extents(struct gm_client *c) {
	size_t count = 65537;
	struct extent *extents = calloc(count, sizeof(*extents));
	if (extents == NULL) {
		return 1;
	}
	for (size_t i = 0; i < count; i++) {
		extents[i] = (struct extent){ REGION_A_GPA + (i % REGION_PAGES) * PAGE, PAGE };
	}
	int ret = bad_buffer(c, extents, count, 16, 16, 64, FORMAT_XRGB8888, 0);
	free(extents);
	return ret;
}

static int bad_too_many_mappings(struct gm_client *c) {
	/* 16385 extents that cannot merge: over the 16384 mappings per client */
	size_t count = 16385;
	struct extent *extents = calloc(count, sizeof(*extents));
	if (extents == NULL) {
		return 1;
	}
	for (size_t i = 0; i < count; i++) {
		extents[i] = (struct extent){ REGION_A_GPA + (i % 2) * 2 * PAGE, PAGE };
	}
	int ret = bad_buffer(c, extents, count, 16, 16, 64, FORMAT_XRGB8888, 0);
	free(extents);
	return ret;
}

static int bad_too_large(struct gm_client *c) {
	/* a sparse 1 GiB memfd: one 512 MiB extent is over the 256 MiB limit */
	if (!ram_create(c, (size_t)1 << 30, true, F_SEAL_SHRINK)) {
		return 1;
	}
	keep(c, region_add(c, c->ram_fd, REGION_A_GPA, (uint64_t)1 << 30, 0));
	const struct extent extents[] = { { REGION_A_GPA, (uint64_t)512 << 20 } };
	keep(c, buffer_create(c, extents, 1, 16, 16, 64, FORMAT_XRGB8888, 0, true));
	return expect_error(c);
}

static int bad_used_twice(struct gm_client *c) {
	if (!standard_ram(c)) {
		return 1;
	}
	regions_add_standard(c);
	struct tessera_guest_buffer_params_v1 *params =
		tessera_guest_memory_v1_create_params(c->gmem);
	keep(c, params);
	params_add(c, params, two_pages, 2);
	keep(c, tessera_guest_buffer_params_v1_create(params, 16, 16, 64, FORMAT_XRGB8888, 0));
	keep(c, tessera_guest_buffer_params_v1_create(params, 16, 16, 64, FORMAT_XRGB8888, 0));
	return expect_error(c);
}

static int bad_no_extents(struct gm_client *c) {
	return bad_buffer(c, NULL, 0, 16, 16, 64, FORMAT_XRGB8888, 0);
}

static int bad_too_many_params(struct gm_client *c) {
	for (int i = 0; i < 17; i++) {
		keep(c, tessera_guest_memory_v1_create_params(c->gmem));
	}
	return expect_error(c);
}

static int scenario_show_only(struct gm_client *c) {
	return scenario_show(c, false);
}

static int scenario_crash(struct gm_client *c) {
	return scenario_show(c, true);
}

static const struct {
	const char *name;
	int (*run)(struct gm_client *c);
} scenarios[] = {
	{ "idle", scenario_idle },
	{ "show", scenario_show_only },
	{ "crash", scenario_crash },
	{ "bad_unsealed", bad_unsealed },
	{ "bad_not_memfd", bad_not_memfd },
	{ "bad_fd_too_small", bad_fd_too_small },
	{ "bad_write_only", bad_write_only },
	{ "bad_region_misaligned", bad_region_misaligned },
	{ "bad_region_overflow", bad_region_overflow },
	{ "bad_overlap", bad_overlap },
	{ "bad_too_many_regions", bad_too_many_regions },
	{ "bad_outside", bad_outside },
	{ "bad_straddle", bad_straddle },
	{ "bad_misaligned", bad_misaligned },
	{ "bad_misaligned_length", bad_misaligned_length },
	{ "bad_stride", bad_stride },
	{ "bad_extent_overflow", bad_extent_overflow },
	{ "bad_size_overflow", bad_size_overflow },
	{ "bad_too_small", bad_too_small },
	{ "bad_format", bad_format },
	{ "bad_size", bad_size },
	{ "bad_offset", bad_offset },
	{ "bad_too_many_extents", bad_too_many_extents },
	{ "bad_too_large", bad_too_large },
	{ "bad_too_many_mappings", bad_too_many_mappings },
	{ "bad_used_twice", bad_used_twice },
	{ "bad_no_extents", bad_no_extents },
	{ "bad_too_many_params", bad_too_many_params },
};

/* Setup */

static void gmem_handle_budget(void *data, struct tessera_guest_memory_v1 *gmem,
		uint32_t max_buffers, uint32_t max_mappings, uint32_t max_bytes_hi,
		uint32_t max_bytes_lo) {
	log_line(data, "budget %" PRIu32 " %" PRIu32 " %" PRIu64, max_buffers, max_mappings,
		(uint64_t)max_bytes_hi << 32 | max_bytes_lo);
}

static const struct tessera_guest_memory_v1_listener gmem_listener = {
	.budget = gmem_handle_budget,
};

static void registry_init(struct gm_client *c) {
	const struct tessera_client_global wanted[] = {
		{ &wl_compositor_interface, 4, 4, (void **)&c->compositor },
		{ &xdg_wm_base_interface, 1, 1, (void **)&c->wm_base,
			&tessera_client_wm_base_listener, c },
		{ &tessera_guest_memory_v1_interface, 1, 1, (void **)&c->gmem, &gmem_listener, c },
	};
	_Static_assert(sizeof(wanted) == sizeof(c->wanted), "wanted[] size");
	memcpy(c->wanted, wanted, sizeof(wanted));
	tessera_client_registry_init(&c->registry, c->display, c->wanted,
		sizeof(c->wanted) / sizeof(c->wanted[0]));
}

static void usage(FILE *out) {
	fprintf(out, "usage: gmem-client --scenario NAME [--run N] [--log FILE] "
		"[--control PREFIX]\n"
		"       (--vhost-user PATH --name NAME --color RRGGBB are accepted and "
		"ignored, as tessera passes them to a VM daemon)\n");
}

int main(int argc, char *argv[]) {
	tessera_log_init(TESSERA_ERROR, NULL);
	struct gm_client c = { .run = 1, .ram_fd = -1, .signal_fd = -1, .control = "" };
	const char *log_path = NULL;
	static const struct option options[] = {
		{ "vhost-user", required_argument, NULL, 'u' },
		{ "name", required_argument, NULL, 'n' },
		{ "color", required_argument, NULL, 'c' },
		{ "scenario", required_argument, NULL, 's' },
		{ "run", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "control", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'u':
		case 'c':
			break;
		case 'n':
			c.name = optarg;
			break;
		case 's':
			c.scenario = optarg;
			break;
		case 'r':
			c.run = atoi(optarg);
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'C':
			c.control = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (c.scenario == NULL || optind < argc) {
		usage(stderr);
		return 2;
	}
	int (*scenario)(struct gm_client *c) = NULL;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(scenarios[i].name, c.scenario) == 0) {
			scenario = scenarios[i].run;
		}
	}
	if (scenario == NULL) {
		tessera_log(TESSERA_ERROR, "unknown scenario '%s'", c.scenario);
		return 2;
	}
	if (log_path != NULL) {
		c.log = fopen(log_path, "ae");
		if (c.log == NULL) {
			tessera_log_errno(TESSERA_ERROR, "cannot open '%s'", log_path);
			return 2;
		}
	}
	log_client = &c;
	wl_log_set_handler_client(wayland_log_handler);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	c.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	int ret = 1;
	c.display = wl_display_connect(NULL);
	if (c.display == NULL) {
		log_line(&c, "failed wl_display_connect: %s", strerror(errno));
		goto out;
	}
	registry_init(&c);
	if (!roundtrip(&c)) {
		ret = connection_failed(&c);
		goto out;
	}
	log_line(&c, "global tessera_guest_memory_v1 %s", c.gmem != NULL ? "ok" : "absent");
	if (c.gmem == NULL) {
		goto out;
	}
	log_line(&c, "connected");
	ret = scenario(&c);

out:
	for (size_t i = 0; i < c.extra_count; i++) {
		wl_proxy_destroy(c.extra[i]);
	}
	for (int i = 0; i < 2; i++) {
		if (c.bufs[i].wl_buffer != NULL) {
			wl_buffer_destroy(c.bufs[i].wl_buffer);
		}
		if (c.regions[i] != NULL) {
			tessera_guest_region_v1_destroy(c.regions[i]);
		}
	}
	tessera_client_window_finish(&c.window);
	tessera_client_disconnect(c.display, &c.registry);
	if (c.ram != NULL) {
		munmap(c.ram, c.ram_size);
	}
	if (c.ram_fd >= 0) {
		close(c.ram_fd);
	}
	if (c.signal_fd >= 0) {
		close(c.signal_fd);
	}
	if (c.log != NULL) {
		fclose(c.log);
	}
	return ret;
}
