/*
 * udmabuf-frontend SOCKET DIR: plays VMM, guest driver and agent against a
 * tessera-vmd (common/frontend/virtio-gpu-frontend; guest RAM is a memfd sealed
 * against shrinking, in two regions) and shows one 200x120 toplevel whose
 * pixels are bands: colour(x, y) below. Writes DIR/mapped once the first
 * frame is done, then keeps the agent loop running until DIR/done exists,
 * then shuts down cleanly and writes DIR/finished. For the udmabuf test
 * (tests/vm/test_udmabuf.py), which runs it inside a guest with
 * /dev/udmabuf.
 */
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
#define RING_SIZE (64 + 65536)
#define WIDTH 200
#define HEIGHT 120
#define SURFACE 1
#define BUFFER 1
#define RESOURCE 1

static struct tessera_virtio_gpu_frontend *gpu;
static struct test_guest guest;
static uint32_t configure_serial, frame_done_serial;

/* must match test_udmabuf.py */
static uint32_t colour(uint32_t x, uint32_t y) {
	return (x < WIDTH / 2 ? 0xc00000u : 0x300000u) | (20 + 40 * (y / 20)) << 8 | 0x60;
}

static void handle_event(const struct tessera_wire_msg *ev) {
	if (ev->type == TESSERA_WIRE_CONFIGURE && ev->configure.surface == SURFACE) {
		configure_serial = ev->configure.serial;
	} else if (ev->type == TESSERA_WIRE_FRAME_DONE && ev->frame_done.surface == SURFACE) {
		frame_done_serial = ev->frame_done.serial;
	} else if (ev->type == TESSERA_WIRE_ERROR) {
		REQUIRE_MSG(ev->error.code >= TESSERA_WIRE_ERROR_FIRST_NOTICE, "ERROR %s: %s",
			tessera_wire_error_code_name(ev->error.code), ev->error.message);
	}
}

static void pump(int timeout_ms) {
	test_guest_pump(&guest, timeout_ms, handle_event);
}

#define WAIT_UNTIL(cond, what) do { \
	for (int i_ = 0; !(cond); i_++) { \
		REQUIRE_MSG(i_ < 1200, "timed out waiting for %s", what); \
		pump(50); \
	} \
} while (0)

static void touch(const char *dir, const char *name) {
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	REQUIRE_MSG(f != NULL, "cannot write %s", path);
	fclose(f);
}

int main(int argc, char *argv[]) {
	if (argc != 3) {
		fprintf(stderr, "usage: udmabuf-frontend SOCKET DIR\n");
		return 2;
	}
	char e[256];
	struct tessera_virtio_gpu_frontend_options opts = {
		.ram_size = UINT64_C(64) << 20,
		.split_regions = true,
	};
	gpu = tessera_virtio_gpu_frontend_connect(argv[1], &opts, e, sizeof(e));
	REQUIRE_MSG(gpu != NULL, "connect %s: %s", argv[1], e);

	/* the session and its event ring */
	test_guest_init(&guest, gpu, CTX, "tessera-agent", RING_RESOURCE, RING_SIZE);

	/* the pixels */
	uint32_t *px = test_guest_pixel_resource(gpu, CTX, RESOURCE, WIDTH, HEIGHT);
	for (uint32_t y = 0; y < HEIGHT; y++) {
		for (uint32_t x = 0; x < WIDTH; x++) {
			px[y * WIDTH + x] = 0xff000000u | colour(x, y);
		}
	}

	struct tessera_wire_msg *m = calloc(1, sizeof(*m));
	REQUIRE_MSG(m != NULL, "oom");
	test_guest_batch_begin(&guest);
	*m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_HELLO,
		.hello = { .max_version = 1, .min_version = 1 } };
	test_guest_batch_add(&guest, m);
	*m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_EVENT_RING,
		.area = { .resource = RING_RESOURCE, .size = RING_SIZE } };
	test_guest_batch_add(&guest, m);
	*m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_BUFFER_CREATE,
		.buffer_create = { .buffer = BUFFER, .resource = RESOURCE,
			.format = TESSERA_WIRE_FORMAT_XRGB8888, .width = WIDTH,
			.height = HEIGHT, .stride = WIDTH * 4 } };
	test_guest_batch_add(&guest, m);
	memset(m, 0, sizeof(*m));
	m->type = TESSERA_WIRE_SURFACE_CREATE;
	m->surface.surface = SURFACE;
	test_guest_batch_add(&guest, m);
	m->type = TESSERA_WIRE_TOPLEVEL_CREATE;
	test_guest_batch_add(&guest, m);
	memset(m, 0, sizeof(*m));
	m->type = TESSERA_WIRE_COMMIT;
	m->commit = (struct tessera_wire_commit){ .surface = SURFACE, .scale = 1 };
	test_guest_batch_add(&guest, m);
	test_guest_batch_submit(&guest);
	WAIT_UNTIL(configure_serial != 0, "the first CONFIGURE");

	test_guest_batch_begin(&guest);
	memset(m, 0, sizeof(*m));
	m->type = TESSERA_WIRE_ACK_CONFIGURE;
	m->surface_serial = (struct tessera_wire_surface_serial){ SURFACE, configure_serial };
	test_guest_batch_add(&guest, m);
	memset(m, 0, sizeof(*m));
	m->type = TESSERA_WIRE_COMMIT;
	m->commit = (struct tessera_wire_commit){ .surface = SURFACE, .buffer = BUFFER,
		.serial = 1, .scale = 1,
		.flags = TESSERA_WIRE_COMMIT_FRAME | TESSERA_WIRE_COMMIT_DAMAGE_ALL };
	test_guest_batch_add(&guest, m);
	test_guest_batch_submit(&guest);
	free(m);
	WAIT_UNTIL(frame_done_serial == 1, "the first FRAME_DONE");
	touch(argv[2], "mapped");
	printf("udmabuf-frontend: mapped\n");
	fflush(stdout);

	char done[4096];
	snprintf(done, sizeof(done), "%s/done", argv[2]);
	for (int i = 0; access(done, F_OK) != 0; i++) {
		REQUIRE_MSG(i < 2400, "timed out waiting for %s", done);
		pump(50);
	}
	tessera_virtio_gpu_frontend_destroy(gpu);
	touch(argv[2], "finished");
	return 0;
}
