/*
 * flood-guest SOCKET BATCH_BYTES: a hostile VM for the fairness test and
 * benchmark. It plays VMM, guest driver and agent on a real tessera-vmd's
 * vhost-user socket (common/frontend, tests/lib/test-guest.h), maps one
 * window the ordinary way, then, on command, floods the device:
 *
 *   - its window's context sends batches of exactly BATCH_BYTES (the VM's
 *     max-batch-size) filled with SET_TITLE (a new 1 KiB title every time)
 *     and COMMIT (the other buffer, full damage, a frame callback), every
 *     fourth one with commits only, several of them queued at once, as
 *     fast as the device completes them; it never reads its event ring and
 *     never waits for a frame;
 *   - every 200 ms it goes for the VM's limits: virtio-gpu resources
 *     until the device refuses them (and one more each time after that),
 *     every other time a SUBMIT_3D larger than the batch limit, and a
 *     throw-away wire session that creates surfaces, or buffers, until
 *     the host ends it with ERROR LIMIT.
 *
 * Lines on stdout, commands on stdin:
 *   READY mapped COLOR        the window is shown
 *   flood SECONDS [KINDS]     floods that long (KINDS: what of it, e.g.
 *                             "titles,limits"; by default
 *                             "titles,commits,limits"), then prints
 *   DONE key=value ...        what it sent and the errors it got:
 *                             batches, commits, titles, bytes,
 *                             resources (created), refused (virtio-gpu
 *                             error responses: resources, oversized
 *                             batches), sessions (throw-away sessions),
 *                             limit_errors (ERROR LIMIT events in their
 *                             rings), limit_ended (sessions the host
 *                             ended with status LIMIT), other_ended
 *                             (with another status), seconds
 *   check                     reads the window's ring at last, commits
 *                             one frame and waits for its FRAME_DONE:
 *                             READY alive ERRORS (ERROR events found)
 *   quit (or end of input)    clean shutdown: READY done
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "tessera-test.h"
#include "tessera-wire.h"
#include "test-guest.h"
#include "virtio-gpu-frontend.h"

#define CTX 1
#define RING_RESOURCE 100
#define LIMITS_RING_RESOURCE 101
#define RING_SIZE (64 + 65536)
#define LIMITS_RING_SIZE (64 + 16384)
#define WINDOW_SURFACE 1
#define FIRST_JUNK_RESOURCE 1000
#define FIRST_LIMITS_CTX 10
#define WIDTH 640
#define HEIGHT 480
#define COLOR 0x7a1fa2
/* SUBMIT_3Ds queued at once (each batch takes BATCH/4096 + 2 descriptors) */
#define IN_FLIGHT 4
#define QUEUE_SIZE 1024
/* time between two rounds against the limits */
#define LIMITS_EVERY_MS 200
/* a device that completes nothing for this long has failed */
#define STALL_MS 10000

static struct tessera_virtio_gpu_frontend *gpu;
static struct test_guest guest;
static size_t batch_bytes;
static uint8_t *batch;
static uint32_t configure_serial, frame_done_serial;
static uint64_t error_events;
static uint8_t *limits_ring;

static struct {
	uint64_t batches, commits, titles, bytes, resources, refused;
	uint64_t sessions, limit_errors, limit_ended, other_ended;
} stats;

static const char *err(void) {
	return tessera_virtio_gpu_frontend_error(gpu);
}

static void handle_event(const struct tessera_wire_msg *ev) {
	switch (ev->type) {
	case TESSERA_WIRE_CONFIGURE:
		if (ev->configure.surface == WINDOW_SURFACE) {
			configure_serial = ev->configure.serial;
		}
		break;
	case TESSERA_WIRE_FRAME_DONE:
		if (ev->frame_done.surface == WINDOW_SURFACE) {
			frame_done_serial = ev->frame_done.serial;
		}
		break;
	case TESSERA_WIRE_ERROR:
		error_events++;
		break;
	default:
		break;
	}
}

#define WAIT_UNTIL(cond, what) do { \
	for (int i_ = 0; !(cond); i_++) { \
		REQUIRE_MSG(i_ < 400, "timed out waiting for %s", what); \
		test_guest_pump(&guest, 50, handle_event); \
	} \
} while (0)

static void add(const struct tessera_wire_msg *msg) {
	test_guest_batch_add(&guest, msg);
}

static void commit(uint32_t buffer, uint32_t serial) {
	test_guest_batch_begin(&guest);
	struct tessera_wire_msg m = { .type = TESSERA_WIRE_COMMIT,
		.commit = { .surface = WINDOW_SURFACE, .buffer = buffer, .serial = serial,
			.scale = 1, .flags = TESSERA_WIRE_COMMIT_FRAME |
				TESSERA_WIRE_COMMIT_DAMAGE_ALL } };
	add(&m);
	test_guest_batch_submit(&guest);
}

/* A window showing buffer 1, mapped the xdg-shell way. */
static void map_window(void) {
	for (uint32_t id = 1; id <= 2; id++) {
		uint32_t *px = test_guest_pixel_resource(gpu, CTX, id, WIDTH, HEIGHT);
		for (size_t i = 0; i < (size_t)WIDTH * HEIGHT; i++) {
			px[i] = 0xff000000u | COLOR;
		}
	}
	static struct tessera_wire_msg m;
	test_guest_batch_begin(&guest);
	m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_HELLO,
		.hello = { .max_version = 1, .min_version = 1 } };
	add(&m);
	m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_EVENT_RING,
		.area = { .resource = RING_RESOURCE, .size = RING_SIZE } };
	add(&m);
	for (uint32_t id = 1; id <= 2; id++) {
		m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_BUFFER_CREATE,
			.buffer_create = { .buffer = id, .resource = id,
				.format = TESSERA_WIRE_FORMAT_XRGB8888, .width = WIDTH,
				.height = HEIGHT, .stride = WIDTH * 4 } };
		add(&m);
	}
	m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_SURFACE_CREATE,
		.surface = { WINDOW_SURFACE } };
	add(&m);
	m.type = TESSERA_WIRE_TOPLEVEL_CREATE;
	add(&m);
	m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_SET_TITLE };
	m.string.surface = WINDOW_SURFACE;
	m.string.length = (uint32_t)tessera_wire_sanitize_string(m.string.text,
		TESSERA_WIRE_MAX_TITLE_LENGTH, "flood");
	add(&m);
	m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_COMMIT,
		.commit = { .surface = WINDOW_SURFACE, .scale = 1 } };
	add(&m);
	test_guest_batch_submit(&guest);
	WAIT_UNTIL(configure_serial != 0, "the first CONFIGURE");
	test_guest_batch_begin(&guest);
	m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_ACK_CONFIGURE,
		.surface_serial = { WINDOW_SURFACE, configure_serial } };
	add(&m);
	test_guest_batch_submit(&guest);
	commit(1, 1);
	WAIT_UNTIL(frame_done_serial == 1, "the first FRAME_DONE");
}

/* ---- the flood ---- */

static uint32_t flood_serial = 1;
static uint64_t title_count;
/* what the flood does (all of it unless the command names some) */
static bool flood_titles, flood_commits, flood_limits;

/* One batch of exactly batch_bytes: titles and full-damage commits
 * alternating, PADs for the rest; every fourth batch (or each, without
 * titles) only commits, thousands of them, whose requests alone are more
 * than the compositor socket holds. */
static size_t build_flood_batch(void) {
	static struct tessera_wire_msg title, commit_msg, pad;
	static uint64_t built;
	bool titles = flood_titles && (!flood_commits || ++built % 4 != 0);
	struct tessera_wire_writer w;
	tessera_wire_writer_init(&w, batch, batch_bytes);
	for (bool is_title = titles;; is_title = titles &&
			(!is_title || !flood_commits)) {
		struct tessera_wire_msg *m;
		if (is_title) {
			title = (struct tessera_wire_msg){ .type = TESSERA_WIRE_SET_TITLE };
			title.string.surface = WINDOW_SURFACE;
			int n = snprintf(title.string.text, sizeof(title.string.text),
				"flood %" PRIu64 " ", ++title_count);
			memset(title.string.text + n, 'a' + (int)(title_count % 26),
				TESSERA_WIRE_MAX_TITLE_LENGTH - (size_t)n);
			title.string.text[TESSERA_WIRE_MAX_TITLE_LENGTH] = '\0';
			title.string.length = TESSERA_WIRE_MAX_TITLE_LENGTH;
			m = &title;
		} else {
			flood_serial++;
			commit_msg = (struct tessera_wire_msg){ .type = TESSERA_WIRE_COMMIT,
				.commit = { .surface = WINDOW_SURFACE,
					.buffer = 1 + flood_serial % 2, .serial = flood_serial,
					.scale = 1, .flags = TESSERA_WIRE_COMMIT_FRAME |
						TESSERA_WIRE_COMMIT_DAMAGE_ALL } };
			m = &commit_msg;
		}
		if (w.len + tessera_wire_encoded_size(m) > batch_bytes) {
			break;
		}
		REQUIRE_MSG(tessera_wire_encode(&w, m, NULL) == TESSERA_WIRE_ERROR_NONE,
			"encode %s", tessera_wire_type_name(m->type));
		if (is_title) {
			stats.titles++;
		} else {
			stats.commits++;
		}
	}
	pad = (struct tessera_wire_msg){ .type = TESSERA_WIRE_PAD };
	while (w.len + 8 <= batch_bytes) {
		REQUIRE_MSG(tessera_wire_encode(&w, &pad, NULL) == TESSERA_WIRE_ERROR_NONE,
			"encode PAD");
	}
	return w.len;
}

static uint32_t next_junk = FIRST_JUNK_RESOURCE;
static uint32_t next_limits_ctx = FIRST_LIMITS_CTX;
static uint64_t limits_round;

/* Resources until the device refuses one. */
static void exhaust_resources(void) {
	for (;;) {
		uint32_t id = next_junk;
		if (tessera_virtio_gpu_frontend_resource_create_2d(gpu, id,
				VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64) != 0) {
			uint32_t resp = tessera_virtio_gpu_frontend_last_response(gpu);
			REQUIRE_MSG(resp >= VIRTIO_GPU_RESP_ERR_UNSPEC, "RESOURCE_CREATE_2D: %s",
				err());
			stats.refused++;
			return;
		}
		next_junk++;
		stats.resources++;
	}
}

/* A SUBMIT_3D one page over the batch limit: the device refuses it. */
static void oversized_batch(void) {
	size_t len = batch_bytes + 4096;
	uint8_t *big = calloc(1, len);
	REQUIRE_MSG(big != NULL, "oom");
	int r = tessera_virtio_gpu_frontend_submit_3d(gpu, CTX, big, len, false, NULL);
	free(big);
	uint32_t resp = tessera_virtio_gpu_frontend_last_response(gpu);
	REQUIRE_MSG(r != 0 && resp >= VIRTIO_GPU_RESP_ERR_UNSPEC,
		"an oversized SUBMIT_3D was accepted (response 0x%x)", resp);
	stats.refused++;
}

/* A throw-away wire session that creates surfaces (or buffers) until the
 * host ends it; its ring says why. */
static void exhaust_session(bool surfaces) {
	uint32_t ctx = next_limits_ctx++;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_ctx_create(gpu, ctx, "flood-limits") == 0,
		"%s", err());
	REQUIRE_MSG(tessera_virtio_gpu_frontend_ctx_attach_resource(gpu, ctx,
		LIMITS_RING_RESOURCE) == 0, "%s", err());
	REQUIRE_MSG(tessera_wire_ring_format(limits_ring, LIMITS_RING_SIZE),
		"ring format");
	struct tessera_wire_ring_reader reader;
	REQUIRE_MSG(tessera_wire_ring_reader_init(&reader, limits_ring, LIMITS_RING_SIZE),
		"ring reader");
	stats.sessions++;

	static struct tessera_wire_msg m;
	struct tessera_wire_writer w;
	tessera_wire_writer_init(&w, batch, batch_bytes);
	m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_HELLO,
		.hello = { .max_version = 1, .min_version = 1 } };
	REQUIRE_MSG(tessera_wire_encode(&w, &m, NULL) == 0, "HELLO");
	m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_EVENT_RING,
		.area = { .resource = LIMITS_RING_RESOURCE, .size = LIMITS_RING_SIZE } };
	REQUIRE_MSG(tessera_wire_encode(&w, &m, NULL) == 0, "EVENT_RING");
	for (uint32_t id = 1;; id++) {
		if (surfaces) {
			m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_SURFACE_CREATE,
				.surface = { id } };
		} else {
			m = (struct tessera_wire_msg){ .type = TESSERA_WIRE_BUFFER_CREATE,
				.buffer_create = { .buffer = id, .resource = 1,
					.format = TESSERA_WIRE_FORMAT_XRGB8888, .width = WIDTH,
					.height = HEIGHT, .stride = WIDTH * 4 } };
		}
		if (tessera_wire_encode(&w, &m, NULL) != TESSERA_WIRE_ERROR_NONE) {
			break; /* the batch is full */
		}
	}
	/* the host ends the session inside this batch (refusing it) */
	tessera_virtio_gpu_frontend_submit_3d(gpu, ctx, batch, w.len, false, NULL);
	static struct tessera_wire_msg ev;
	while (tessera_wire_ring_reader_next(&reader, &ev)) {
		if (ev.type == TESSERA_WIRE_ERROR && ev.error.code == TESSERA_WIRE_ERROR_LIMIT) {
			stats.limit_errors++;
		}
	}
	uint32_t status = tessera_wire_ring_reader_status(&reader);
	if (status == TESSERA_WIRE_ERROR_LIMIT) {
		stats.limit_ended++;
	} else if (status != 0) {
		stats.other_ended++;
	}
	REQUIRE_MSG(tessera_virtio_gpu_frontend_ctx_destroy(gpu, ctx) == 0, "%s", err());
}

static void limits(void) {
	limits_round++;
	exhaust_resources();
	if (limits_round % 2 == 0) {
		oversized_batch();
	}
	exhaust_session(limits_round % 2 == 1);
}

static void flood(double seconds) {
	memset(&stats, 0, sizeof(stats));
	uint64_t fences[IN_FLIGHT];
	size_t n_in_flight = 0;
	int64_t start = tessera_clock_now_ms();
	int64_t end = start + (int64_t)(seconds * 1000);
	int64_t next_limits = start, progress = start;
	for (;;) {
		/* reap what completed, keep IN_FLIGHT batches queued */
		for (size_t i = 0; i < n_in_flight;) {
			uint32_t resp = 0;
			int st = tessera_virtio_gpu_frontend_fence_status(gpu, fences[i], &resp);
			REQUIRE_MSG(st >= 0, "fence status: %s", err());
			if (st == 0) {
				i++;
				continue;
			}
			REQUIRE_MSG(resp == VIRTIO_GPU_RESP_OK_NODATA,
				"the window's flood batch was refused (0x%x)", resp);
			fences[i] = fences[--n_in_flight];
			progress = tessera_clock_now_ms();
		}
		int64_t now = tessera_clock_now_ms();
		REQUIRE_MSG(n_in_flight == 0 || now - progress < STALL_MS,
			"the device completed nothing for %d s", STALL_MS / 1000);
		bool limits_due = flood_limits && now >= next_limits;
		if (n_in_flight == IN_FLIGHT || ((now >= end || limits_due) && n_in_flight > 0)) {
			REQUIRE_MSG(tessera_virtio_gpu_frontend_poll(gpu, 100) >= 0, "poll: %s",
				err());
			continue;
		}
		if (now >= end) {
			break;
		}
		if (limits_due) {
			/* with the queue empty: its commands are synchronous */
			limits();
			next_limits = tessera_clock_now_ms() + LIMITS_EVERY_MS;
			progress = tessera_clock_now_ms();
			continue;
		}
		size_t len = build_flood_batch();
		REQUIRE_MSG(tessera_virtio_gpu_frontend_submit_3d_async(gpu, CTX, batch, len,
			&fences[n_in_flight]) == 0, "SUBMIT_3D: %s", err());
		n_in_flight++;
		stats.batches++;
		stats.bytes += len;
	}
	printf("DONE batches=%" PRIu64 " commits=%" PRIu64 " titles=%" PRIu64
		" bytes=%" PRIu64 " resources=%" PRIu64 " refused=%" PRIu64
		" sessions=%" PRIu64 " limit_errors=%" PRIu64 " limit_ended=%" PRIu64
		" other_ended=%" PRIu64 " seconds=%.3f\n", stats.batches, stats.commits,
		stats.titles, stats.bytes, stats.resources, stats.refused, stats.sessions,
		stats.limit_errors, stats.limit_ended,
		stats.other_ended, (double)(tessera_clock_now_ms() - start) / 1000.0);
}

/* The window's session survived: read the ring at last, then one frame. */
static void check_alive(void) {
	test_guest_pump(&guest, 100, handle_event);
	uint32_t serial = ++flood_serial;
	commit(1 + serial % 2, serial);
	WAIT_UNTIL(frame_done_serial == serial, "a FRAME_DONE after the flood");
	printf("READY alive %" PRIu64 "\n", error_events);
}

int main(int argc, char *argv[]) {
	if (argc != 3) {
		fprintf(stderr, "usage: flood-guest SOCKET BATCH_BYTES\n");
		return 2;
	}
	batch_bytes = strtoul(argv[2], NULL, 10);
	REQUIRE_MSG(batch_bytes >= 4096 && batch_bytes <= TESSERA_WIRE_MAX_BATCH_SIZE &&
		batch_bytes % 8 == 0, "bad BATCH_BYTES %s", argv[2]);
	batch = malloc(batch_bytes);
	REQUIRE_MSG(batch != NULL, "oom");
	char e[256];
	struct tessera_virtio_gpu_frontend_options opts = {
		.ram_size = UINT64_C(64) << 20,
		.queue_size = QUEUE_SIZE,
	};
	gpu = tessera_virtio_gpu_frontend_connect(argv[1], &opts, e, sizeof(e));
	REQUIRE_MSG(gpu != NULL, "connect %s: %s", argv[1], e);
	test_guest_init(&guest, gpu, CTX, "flood-guest", RING_RESOURCE, RING_SIZE);
	map_window();
	limits_ring = test_guest_buffer_resource(gpu, CTX, LIMITS_RING_RESOURCE,
		LIMITS_RING_SIZE);
	printf("READY mapped %06x\n", COLOR);
	fflush(stdout);

	char line[64];
	while (fgets(line, sizeof(line), stdin) != NULL) {
		double seconds;
		char kinds[32] = "titles,commits,limits";
		if (sscanf(line, "flood %lf %31s", &seconds, kinds) >= 1) {
			flood_titles = strstr(kinds, "titles") != NULL;
			flood_commits = strstr(kinds, "commits") != NULL;
			flood_limits = strstr(kinds, "limits") != NULL;
			REQUIRE_MSG(flood_titles || flood_commits, "a flood needs titles or "
				"commits: %s", kinds);
			flood(seconds);
		} else if (strcmp(line, "check\n") == 0) {
			check_alive();
		} else if (strcmp(line, "quit\n") == 0) {
			break;
		} else {
			fprintf(stderr, "flood-guest: unknown command %s", line);
			return 2;
		}
		fflush(stdout);
	}
	REQUIRE_MSG(tessera_virtio_gpu_frontend_ctx_destroy(gpu, CTX) == 0, "%s", err());
	tessera_virtio_gpu_frontend_destroy(gpu);
	free(batch);
	printf("READY done\n");
	fflush(stdout);
	return 0;
}
