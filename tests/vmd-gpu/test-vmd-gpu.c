/*
 * Device-level tests of tessera-vmd's virtio-gpu device, run against a
 * tessera-vmd (started by tessera, see test_vmd_gpu.py) through the
 * virtio-gpu frontend (common/frontend/virtio-gpu-frontend.h): the same chains the
 * Linux driver puts on the rings.
 *
 *   test-vmd-gpu SOCKET CASE [ARGS]
 *
 * Cases: basic [EDID_FILE], fences, wait, malformed, limits, console,
 * abandon. `console` prints "READY <phase> <expected colours...>" lines
 * and waits for a line on stdin before going on, so that the driving
 * script can take screenshots; `abandon` sets up state (resources,
 * backing, scanout, a held WAIT) and exits without cleaning up, as a
 * crashing VMM would.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tessera-test.h"
#include "tessera-wire.h"
#include "test-guest.h"
#include "vhost-user-frontend.h"
#include "virtio-gpu-frontend.h"

#define BIT(n) (UINT64_C(1) << (n))
#define PIPE_BUFFER 0
#define PIPE_TEXTURE_2D 2
#define VIRGL_FORMAT_R8_UNORM 64
#define HDR sizeof(struct virtio_gpu_ctrl_hdr)

static struct tessera_virtio_gpu_frontend *gpu;
static const char *socket_path;

static struct tessera_virtio_gpu_frontend *connect_gpu(void) {
	char err[256];
	struct tessera_virtio_gpu_frontend_options opts = { .ram_size = 64 << 20 };
	struct tessera_virtio_gpu_frontend *g =
		tessera_virtio_gpu_frontend_connect(socket_path, &opts, err, sizeof(err));
	REQUIRE_MSG(g != NULL, "connect %s: %s", socket_path, err);
	return g;
}

static const char *err(void) {
	return tessera_virtio_gpu_frontend_error(gpu);
}

/* A raw control command: its response type (0 if none came). */
static uint32_t raw(const void *cmd, size_t len, const void *data,
		size_t data_len, size_t resp_size, struct virtio_gpu_ctrl_hdr *resp) {
	uint8_t buf[2048] = { 0 };
	uint32_t used = 0;
	REQUIRE_MSG(resp_size <= sizeof(buf), "resp size");
	REQUIRE_MSG(tessera_virtio_gpu_frontend_raw(gpu, 0, cmd, len, data, data_len,
		buf, resp_size, &used) == 0, "raw command: %s", err());
	struct virtio_gpu_ctrl_hdr hdr = { 0 };
	if (used >= HDR) {
		memcpy(&hdr, buf, HDR);
	}
	if (resp != NULL) {
		*resp = hdr;
	}
	return used >= HDR ? hdr.type : 0;
}

static uint32_t alive_check(void) {
	struct virtio_gpu_resp_display_info info;
	int r = tessera_virtio_gpu_frontend_get_display_info(gpu, &info);
	CHECK_MSG(r == 0, "the device stopped answering: %s", err());
	return r == 0 ? info.pmodes[0].r.width : 0;
}

/* ---- basic: features, config, display info, EDID ---- */

static void case_basic(const char *edid_path) {
	uint64_t features = tessera_virtio_gpu_frontend_features(gpu);
	CHECK_MSG(features & BIT(VIRTIO_GPU_F_VIRGL), "features 0x%" PRIx64, features);
	CHECK_MSG(features & BIT(VIRTIO_GPU_F_EDID), "features 0x%" PRIx64, features);
	CHECK_MSG(!(features & BIT(VIRTIO_GPU_F_RESOURCE_BLOB)), "blob offered");
	CHECK_MSG(!(features & BIT(VIRTIO_GPU_F_CONTEXT_INIT)), "context init offered");

	struct virtio_gpu_config config;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_get_config(gpu, &config) == 0, "%s", err());
	CHECK_MSG(config.num_scanouts == 1, "num_scanouts %u", config.num_scanouts);
	CHECK_MSG(config.events_read == 0, "events_read %u", config.events_read);
	/* QEMU writes the whole structure to clear events */
	struct virtio_gpu_config clear = { .events_clear = VIRTIO_GPU_EVENT_DISPLAY };
	CHECK_MSG(tessera_vhost_user_frontend_set_config(
		tessera_virtio_gpu_frontend_vhost(gpu), 0, &clear, sizeof(clear)) == 0,
		"SET_CONFIG refused");

	struct virtio_gpu_resp_display_info info;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_get_display_info(gpu, &info) == 0,
		"%s", err());
	uint32_t w = info.pmodes[0].r.width, h = info.pmodes[0].r.height;
	CHECK_MSG(info.pmodes[0].enabled == 1, "scanout 0 disabled");
	CHECK_MSG(w >= 320 && h >= 200 && w <= 4096 && h <= 4096, "mode %ux%u", w, h);
	for (int i = 1; i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
		CHECK_MSG(!info.pmodes[i].enabled, "scanout %d enabled", i);
	}
	printf("display %ux%u\n", w, h);

	uint8_t edid[1024];
	uint32_t size = 0;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_get_edid(gpu, 0, edid, &size) == 0,
		"%s", err());
	CHECK_MSG(size == 128, "EDID of %u bytes", size);
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	CHECK_MSG(memcmp(edid, header, 8) == 0, "EDID header");
	uint8_t sum = 0;
	for (int i = 0; i < 128; i++) {
		sum += edid[i];
	}
	CHECK_MSG(sum == 0, "EDID checksum: bytes add up to 0x%02x", sum);
	CHECK_MSG(edid[18] == 1 && edid[19] == 4, "EDID version %u.%u", edid[18], edid[19]);
	/* the preferred (first) detailed timing is the mode */
	const uint8_t *d = &edid[54];
	uint32_t pclk = (uint32_t)d[0] | (uint32_t)d[1] << 8;
	uint32_t hact = d[2] | (uint32_t)(d[4] >> 4) << 8;
	uint32_t vact = d[5] | (uint32_t)(d[7] >> 4) << 8;
	CHECK_MSG(pclk != 0, "first descriptor is not a detailed timing");
	CHECK_MSG(hact == w && vact == h, "EDID timing %ux%u, mode %ux%u", hact, vact,
		w, h);
	printf("edid checksum ok, preferred %ux%u, pixel clock %u.%02u MHz\n",
		hact, vact, pclk / 100, pclk % 100);
	if (edid_path != NULL) {
		FILE *f = fopen(edid_path, "wb");
		REQUIRE_MSG(f != NULL && fwrite(edid, 1, size, f) == size &&
			fclose(f) == 0, "writing %s", edid_path);
	}

	/* the capsets: VIRGL and VIRGL2 with virglrenderer (gpu = auto or
	 * virgl), none with gpu = off; one past the last is an error, not a
	 * made-up capset */
	struct virtio_gpu_resp_capset_info ci;
	printf("capsets %u\n", config.num_capsets);
	for (uint32_t i = 0; i < config.num_capsets; i++) {
		REQUIRE_MSG(tessera_virtio_gpu_frontend_get_capset_info(gpu, i, &ci) == 0,
			"GET_CAPSET_INFO %u: %s", i, err());
		CHECK_MSG(ci.capset_id == i + 1 && ci.capset_max_version >= 1 &&
			ci.capset_max_size >= 64 && ci.capset_max_size <= 8192,
			"capset %u: id %u version %u size %u", i, ci.capset_id,
			ci.capset_max_version, ci.capset_max_size);
		printf("capset %u: id %u version %u size %u\n", i, ci.capset_id,
			ci.capset_max_version, ci.capset_max_size);
	}
	CHECK_MSG(config.num_capsets == 0 || config.num_capsets == 2,
		"num_capsets %u", config.num_capsets);
	CHECK_MSG(tessera_virtio_gpu_frontend_get_capset_info(gpu, config.num_capsets,
		&ci) != 0, "GET_CAPSET_INFO answered OK");
	CHECK_MSG(tessera_virtio_gpu_frontend_last_response(gpu) ==
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "GET_CAPSET_INFO: 0x%x",
		tessera_virtio_gpu_frontend_last_response(gpu));
	/* EDID of a scanout that does not exist */
	CHECK_MSG(tessera_virtio_gpu_frontend_get_edid(gpu, 3, edid, &size) != 0,
		"GET_EDID of scanout 3 answered OK");
	CHECK_MSG(tessera_virtio_gpu_frontend_last_response(gpu) ==
		VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "GET_EDID scanout 3: 0x%x",
		tessera_virtio_gpu_frontend_last_response(gpu));
}

/* ---- fences ---- */

static void check_echo(const char *what, const struct virtio_gpu_ctrl_hdr *cmd,
		const struct virtio_gpu_ctrl_hdr *resp) {
	CHECK_MSG(resp->flags & VIRTIO_GPU_FLAG_FENCE, "%s: no fence flag in the "
		"response", what);
	CHECK_MSG(resp->fence_id == cmd->fence_id, "%s: fence %" PRIu64 " answered "
		"as %" PRIu64, what, (uint64_t)cmd->fence_id, (uint64_t)resp->fence_id);
	CHECK_MSG(resp->ctx_id == cmd->ctx_id, "%s: ctx %u answered as %u", what,
		cmd->ctx_id, resp->ctx_id);
}

static void case_fences(void) {
	/* the helpers check the echo of fenced commands themselves */
	REQUIRE_MSG(tessera_virtio_gpu_frontend_ctx_create(gpu, 7, "fences") == 0,
		"%s", err());
	struct tessera_virtio_gpu_resource_3d p = {
		.target = PIPE_TEXTURE_2D, .format = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
		.width = 64, .height = 64, .depth = 1, .array_size = 1,
	};
	CHECK_MSG(tessera_virtio_gpu_frontend_resource_create_3d(gpu, 10, &p) == 0,
		"fenced RESOURCE_CREATE_3D: %s", err());
	uint64_t gpa;
	void *host;
	CHECK_MSG(tessera_virtio_gpu_frontend_create_backing(gpu, 10, 64 * 64 * 4,
		true, &gpa, &host) == 0, "%s", err());
	CHECK_MSG(tessera_virtio_gpu_frontend_ctx_attach_resource(gpu, 7, 10) == 0,
		"%s", err());
	struct virtio_gpu_box box = { 0, 0, 0, 64, 64, 1 };
	CHECK_MSG(tessera_virtio_gpu_frontend_transfer_3d(gpu, true, 7, 10, &box, 0, 0,
		256, 0) == 0, "fenced TRANSFER_TO_HOST_3D: %s", err());
	CHECK_MSG(tessera_virtio_gpu_frontend_transfer_3d(gpu, false, 7, 10, &box, 0, 0,
		256, 0) == 0, "fenced TRANSFER_FROM_HOST_3D: %s", err());
	CHECK_MSG(tessera_virtio_gpu_frontend_resource_flush(gpu, 10, 0, 0, 64, 64,
		true) == 0, "fenced RESOURCE_FLUSH: %s", err());

	/* error responses echo the fence too (the guest's fence must signal) */
	struct virtio_gpu_resource_unref unref = {
		.hdr = { .type = VIRTIO_GPU_CMD_RESOURCE_UNREF,
			.flags = VIRTIO_GPU_FLAG_FENCE, .fence_id = 1000, .ctx_id = 7 },
		.resource_id = 4242,
	};
	struct virtio_gpu_ctrl_hdr resp;
	CHECK_MSG(raw(&unref, sizeof(unref), NULL, 0, HDR, &resp) ==
		VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "unref of unknown: 0x%x",
		resp.type);
	check_echo("failing RESOURCE_UNREF", &unref.hdr, &resp);
	struct virtio_gpu_ctrl_hdr unknown = {
		.type = 0x0777, .flags = VIRTIO_GPU_FLAG_FENCE, .fence_id = 1001,
		.ctx_id = 3,
	};
	CHECK_MSG(raw(&unknown, sizeof(unknown), NULL, 0, HDR, &resp) ==
		VIRTIO_GPU_RESP_ERR_UNSPEC, "unknown command: 0x%x", resp.type);
	check_echo("unknown command", &unknown, &resp);
	/* SUBMIT_3D from an unknown context: error, fence echoed */
	struct virtio_gpu_cmd_submit submit = {
		.hdr = { .type = VIRTIO_GPU_CMD_SUBMIT_3D,
			.flags = VIRTIO_GPU_FLAG_FENCE, .fence_id = 1002, .ctx_id = 99 },
		.size = 8,
	};
	uint8_t pad[8] = { 0, 0, 0, 0, 8, 0, 0, 0 }; /* a PAD message */
	CHECK_MSG(raw(&submit, sizeof(submit), pad, sizeof(pad), HDR, &resp) ==
		VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "submit ctx 99: 0x%x",
		resp.type);
	check_echo("SUBMIT_3D of an unknown context", &submit.hdr, &resp);
	/* a fenced SUBMIT_3D that the session answers (any answer) */
	submit.hdr.ctx_id = 7;
	submit.hdr.fence_id = 1003;
	uint32_t type = raw(&submit, sizeof(submit), pad, sizeof(pad), HDR, &resp);
	CHECK_MSG(type == VIRTIO_GPU_RESP_OK_NODATA ||
		type == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "submit: 0x%x", type);
	check_echo("SUBMIT_3D", &submit.hdr, &resp);
	printf("fences echoed (last fence %" PRIu64 ")\n",
		tessera_virtio_gpu_frontend_last_fence(gpu));
}

/* ---- wait: the held SUBMIT_3D doorbell ---- */

#define RING_DATA (64 * 1024)
#define RING_SIZE (TESSERA_WIRE_RING_HEADER_SIZE + RING_DATA)
#define RING_RESOURCE 50

struct ring {
	void *mem;
	struct tessera_wire_ring_reader reader;
};

static size_t batch(uint8_t *buf, size_t cap, const struct tessera_wire_msg *msgs,
		size_t n) {
	struct tessera_wire_writer w;
	tessera_wire_writer_init(&w, buf, cap);
	for (size_t i = 0; i < n; i++) {
		struct tessera_wire_error e;
		REQUIRE_MSG(tessera_wire_encode(&w, &msgs[i], &e) ==
			TESSERA_WIRE_ERROR_NONE, "encoding message %zu", i);
	}
	return w.len;
}

static uint32_t drain(struct ring *ring, uint16_t *types, size_t max) {
	struct tessera_wire_msg msg;
	uint32_t n = 0;
	while (tessera_wire_ring_reader_next(&ring->reader, &msg)) {
		if (n < max) {
			types[n] = msg.type;
		}
		n++;
	}
	CHECK_MSG(ring->reader.error.code == TESSERA_WIRE_ERROR_NONE, "ring error %d",
		ring->reader.error.code);
	return n;
}

/* Polls until the async fence completes or timeout_ms passes: 1 done. */
static int wait_fence(uint64_t fence, int timeout_ms, uint32_t *type) {
	for (int waited = 0; ; waited += 50) {
		int s = tessera_virtio_gpu_frontend_fence_status(gpu, fence, type);
		REQUIRE_MSG(s >= 0, "fence %" PRIu64 " unknown", fence);
		if (s == 1) {
			return 1;
		}
		if (waited >= timeout_ms) {
			return 0;
		}
		REQUIRE_MSG(tessera_virtio_gpu_frontend_poll(gpu, 50) >= 0, "%s", err());
	}
}

/* Starts a session: HELLO + EVENT_RING + WAIT. */
static void start_session(uint32_t ctx, struct ring *ring) {
	REQUIRE_MSG(tessera_virtio_gpu_frontend_ctx_create(gpu, ctx, "agent") == 0,
		"%s", err());
	ring->mem = test_guest_buffer_resource(gpu, ctx, RING_RESOURCE, RING_SIZE);
	REQUIRE_MSG(tessera_wire_ring_format(ring->mem, RING_SIZE), "ring format");
	REQUIRE_MSG(tessera_wire_ring_reader_init(&ring->reader, ring->mem, RING_SIZE),
		"ring reader");

	struct tessera_wire_msg msgs[3] = {
		{ .type = TESSERA_WIRE_HELLO,
			.hello = { .max_version = 1, .min_version = 1 } },
		{ .type = TESSERA_WIRE_EVENT_RING,
			.area = { .resource = RING_RESOURCE, .size = RING_SIZE } },
		{ .type = TESSERA_WIRE_WAIT },
	};
	uint8_t buf[256];
	size_t len = batch(buf, sizeof(buf), msgs, 3);
	uint64_t fence;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_submit_3d_async(gpu, ctx, buf, len,
		&fence) == 0, "%s", err());
	uint32_t type = 0;
	CHECK_MSG(wait_fence(fence, 5000, &type) == 1, "first WAIT not completed "
		"although HELLO_REPLY is in the ring");
	CHECK_MSG(type == VIRTIO_GPU_RESP_OK_NODATA, "HELLO batch answered 0x%x", type);
	uint16_t types[16];
	uint32_t n = drain(ring, types, 16);
	CHECK_MSG(n >= 1 && types[0] == TESSERA_WIRE_HELLO_REPLY, "%u events, first "
		"0x%x", n, n > 0 ? types[0] : 0);
}

static uint64_t submit_wait(uint32_t ctx) {
	struct tessera_wire_msg msg = { .type = TESSERA_WIRE_WAIT };
	uint8_t buf[16];
	size_t len = batch(buf, sizeof(buf), &msg, 1);
	uint64_t fence;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_submit_3d_async(gpu, ctx, buf, len,
		&fence) == 0, "%s", err());
	return fence;
}

static void case_wait(void) {
	const uint32_t ctx = 3;
	struct ring ring;
	start_session(ctx, &ring);

	/* an empty ring: the WAIT is held ... */
	uint64_t f1 = submit_wait(ctx);
	CHECK_MSG(wait_fence(f1, 300, NULL) == 0, "WAIT on an empty ring completed");
	/* ... and does not block other commands */
	CHECK_MSG(alive_check() != 0, "GET_DISPLAY_INFO behind a held WAIT");
	REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_create_2d(gpu, 60,
		VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16, 16) == 0, "%s", err());
	CHECK_MSG(tessera_virtio_gpu_frontend_resource_flush(gpu, 60, 0, 0, 16, 16,
		true) == 0, "fenced flush behind a held WAIT: %s", err());
	/* one timeline: the later fence signals the held one in the guest's
	 * eyes (spurious wake-up), but the WAIT itself is still held */
	CHECK_MSG(tessera_virtio_gpu_frontend_fence_signaled(gpu, f1),
		"timeline: later fence did not pass the held one");
	CHECK_MSG(tessera_virtio_gpu_frontend_fence_status(gpu, f1, NULL) == 0,
		"the held WAIT completed with an unrelated command");

	/* a new WAIT completes the older one first */
	uint64_t f2 = submit_wait(ctx);
	uint32_t type = 0;
	CHECK_MSG(wait_fence(f1, 5000, &type) == 1, "a new WAIT did not complete the "
		"held one");
	CHECK_MSG(type == VIRTIO_GPU_RESP_OK_NODATA, "held WAIT answered 0x%x", type);
	CHECK_MSG(wait_fence(f2, 300, NULL) == 0, "second WAIT on an empty ring "
		"completed");

	/* an event (a toplevel gets its configure) rings the doorbell */
	struct tessera_wire_msg msgs[3] = {
		{ .type = TESSERA_WIRE_SURFACE_CREATE, .surface = { .surface = 1 } },
		{ .type = TESSERA_WIRE_TOPLEVEL_CREATE,
			.toplevel_create = { .surface = 1 } },
		{ .type = TESSERA_WIRE_COMMIT, .commit = { .surface = 1, .scale = 1 } },
	};
	uint8_t buf[512];
	size_t len = batch(buf, sizeof(buf), msgs, 3);
	CHECK_MSG(tessera_virtio_gpu_frontend_submit_3d(gpu, ctx, buf, len, false,
		NULL) == 0, "toplevel batch: %s", err());
	CHECK_MSG(wait_fence(f2, 5000, &type) == 1, "the configure event did not "
		"complete the held WAIT");
	uint16_t types[16];
	uint32_t n = drain(&ring, types, 16);
	bool configure = false;
	for (uint32_t i = 0; i < n && i < 16; i++) {
		configure |= types[i] == TESSERA_WIRE_CONFIGURE;
	}
	CHECK_MSG(configure, "no CONFIGURE among %u events", n);
	printf("wait: held while the ring was empty, completed by a new WAIT and "
		"by an event\n");
}

/* ---- malformed commands ---- */

static void expect(uint32_t got, uint32_t want, const char *what) {
	CHECK_MSG(got == want, "%s: response 0x%x, expected 0x%x", what, got, want);
}

static void case_malformed(void) {
	struct virtio_gpu_ctrl_hdr resp;
	/* unknown type */
	struct virtio_gpu_ctrl_hdr unknown = { .type = 0x9999 };
	expect(raw(&unknown, sizeof(unknown), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_UNSPEC, "unknown type");
	/* blob commands were not offered */
	struct virtio_gpu_resource_create_blob blob = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, .resource_id = 5,
	};
	expect(raw(&blob, sizeof(blob), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_UNSPEC, "RESOURCE_CREATE_BLOB");
	/* short header: 8 bytes of a header */
	uint32_t short_hdr[2] = { VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0 };
	expect(raw(short_hdr, sizeof(short_hdr), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_UNSPEC, "8-byte header");
	/* a command shorter than its structure */
	struct virtio_gpu_resource_create_2d c2d = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, .resource_id = 1,
		.format = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, .width = 8, .height = 8,
	};
	expect(raw(&c2d, sizeof(c2d) - 4, NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_UNSPEC, "short RESOURCE_CREATE_2D");
	/* a response buffer too small for the display info */
	expect(raw(&(struct virtio_gpu_ctrl_hdr){
			.type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO }, HDR, NULL, 0, HDR,
		NULL), VIRTIO_GPU_RESP_ERR_UNSPEC, "short display info buffer");
	/* no response buffer at all: completed, nothing written */
	uint32_t used = 99;
	CHECK_MSG(tessera_virtio_gpu_frontend_raw(gpu, 0, &unknown, sizeof(unknown),
		NULL, 0, NULL, 0, &used) == 0 && used == 0, "no response buffer: %u",
		used);

	/* resource id 0, duplicate ids, bad formats and sizes */
	c2d.resource_id = 0;
	expect(raw(&c2d, sizeof(c2d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "resource id 0");
	c2d.resource_id = 1;
	expect(raw(&c2d, sizeof(c2d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_OK_NODATA, "resource 1");
	expect(raw(&c2d, sizeof(c2d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "resource 1 again");
	c2d.resource_id = 2;
	c2d.format = 77;
	expect(raw(&c2d, sizeof(c2d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "format 77");
	c2d.format = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
	c2d.width = 0;
	expect(raw(&c2d, sizeof(c2d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "width 0");
	c2d.width = 20000;
	expect(raw(&c2d, sizeof(c2d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "width 20000");
	/* 16384 x 16384 x 4 = 1 GiB: beyond the resource size limit */
	c2d.width = 16384;
	c2d.height = 16384;
	expect(raw(&c2d, sizeof(c2d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "1 GiB resource");
	struct virtio_gpu_resource_create_3d c3d = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, .resource_id = 3,
		.target = 42, .format = 1, .width = 8, .height = 8, .depth = 1,
		.array_size = 1,
	};
	expect(raw(&c3d, sizeof(c3d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "3D target 42");
	c3d.target = PIPE_TEXTURE_2D;
	c3d.depth = 0;
	expect(raw(&c3d, sizeof(c3d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "3D depth 0");
	c3d.depth = 4096;
	c3d.width = c3d.height = 4096;
	expect(raw(&c3d, sizeof(c3d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "3D 4096^3");

	/* attach backing: unknown resource, out-of-RAM addresses, entries
	 * announced but not sent, too many entries, wrapping address */
	struct virtio_gpu_resource_attach_backing ab = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
		.resource_id = 77, .nr_entries = 1,
	};
	struct virtio_gpu_mem_entry ent = { .addr = 0x100000, .length = 4096 };
	expect(raw(&ab, sizeof(ab), &ent, sizeof(ent), HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "attach to unknown");
	ab.resource_id = 1; /* 8x8: 256 bytes needed */
	ent.addr = UINT64_C(1) << 40;
	expect(raw(&ab, sizeof(ab), &ent, sizeof(ent), HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "attach beyond RAM");
	ent.addr = UINT64_MAX - 100;
	expect(raw(&ab, sizeof(ab), &ent, sizeof(ent), HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "attach wrapping address");
	ent.addr = (64 << 20) - 2048; /* straddles the end of RAM */
	expect(raw(&ab, sizeof(ab), &ent, sizeof(ent), HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "attach across the end of RAM");
	ent.addr = 0x100000;
	ent.length = 0;
	expect(raw(&ab, sizeof(ab), &ent, sizeof(ent), HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "attach empty entry");
	ent.length = 16; /* less than the 256 bytes of the resource */
	expect(raw(&ab, sizeof(ab), &ent, sizeof(ent), HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "attach too small");
	ent.length = 4096;
	ab.nr_entries = 3;
	expect(raw(&ab, sizeof(ab), &ent, sizeof(ent), HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "3 entries announced, 1 sent");
	ab.nr_entries = 100000;
	expect(raw(&ab, sizeof(ab), &ent, sizeof(ent), HDR, NULL),
		VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "100000 entries");
	ab.nr_entries = 0;
	expect(raw(&ab, sizeof(ab), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "0 entries");
	ab.nr_entries = 1;
	expect(raw(&ab, sizeof(ab), &ent, sizeof(ent), HDR, NULL),
		VIRTIO_GPU_RESP_OK_NODATA, "valid attach");
	expect(raw(&ab, sizeof(ab), &ent, sizeof(ent), HDR, NULL),
		VIRTIO_GPU_RESP_ERR_UNSPEC, "second attach");

	/* 2D commands with bad rectangles and ids */
	struct virtio_gpu_set_scanout ss = {
		.hdr.type = VIRTIO_GPU_CMD_SET_SCANOUT, .r = { 0, 0, 8, 8 },
		.scanout_id = 1, .resource_id = 1,
	};
	expect(raw(&ss, sizeof(ss), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "scanout 1");
	ss.scanout_id = 0;
	ss.r.width = 9;
	expect(raw(&ss, sizeof(ss), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "scanout rect beyond");
	ss.r = (struct virtio_gpu_rect){ 0xfffffff0, 0, 0x20, 8 };
	expect(raw(&ss, sizeof(ss), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "scanout rect wrapping");
	ss.r = (struct virtio_gpu_rect){ 0, 0, 8, 8 };
	ss.resource_id = 55;
	expect(raw(&ss, sizeof(ss), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "scanout of unknown");
	struct virtio_gpu_resource_flush fl = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_FLUSH, .r = { 4, 4, 8, 8 },
		.resource_id = 1,
	};
	expect(raw(&fl, sizeof(fl), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "flush beyond");
	struct virtio_gpu_transfer_to_host_2d t2d = {
		.hdr.type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, .r = { 0, 0, 8, 8 },
		.offset = 4000, .resource_id = 1,
	};
	expect(raw(&t2d, sizeof(t2d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "transfer beyond backing");
	t2d.offset = UINT64_MAX - 10;
	expect(raw(&t2d, sizeof(t2d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "transfer offset wrapping");
	t2d.offset = 0;
	t2d.resource_id = 0;
	expect(raw(&t2d, sizeof(t2d), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "transfer resource 0");

	/* contexts */
	struct virtio_gpu_ctx_create cc = {
		.hdr = { .type = VIRTIO_GPU_CMD_CTX_CREATE, .ctx_id = 0 },
	};
	expect(raw(&cc, sizeof(cc), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "context 0");
	cc.hdr.ctx_id = 5;
	cc.nlen = 1000;
	expect(raw(&cc, sizeof(cc), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "context name of 1000 bytes");
	cc.nlen = 4;
	memcpy(cc.debug_name, "\x1b[2J", 4);
	expect(raw(&cc, sizeof(cc), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_OK_NODATA, "context 5");
	struct virtio_gpu_ctx_resource car = {
		.hdr = { .type = VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, .ctx_id = 6 },
		.resource_id = 1,
	};
	expect(raw(&car, sizeof(car), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "attach to context 6");
	struct virtio_gpu_ctx_destroy cd = {
		.hdr = { .type = VIRTIO_GPU_CMD_CTX_DESTROY, .ctx_id = 6 },
	};
	expect(raw(&cd, sizeof(cd), NULL, 0, HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "destroy context 6");

	/* SUBMIT_3D: payload size beyond what was sent, beyond the limit */
	struct virtio_gpu_cmd_submit sub = {
		.hdr = { .type = VIRTIO_GPU_CMD_SUBMIT_3D, .ctx_id = 5 },
		.size = 64,
	};
	uint8_t pad[8] = { 0, 0, 0, 0, 8, 0, 0, 0 };
	expect(raw(&sub, sizeof(sub), pad, sizeof(pad), HDR, NULL),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "submit size beyond payload");
	sub.size = 0xffffffff;
	expect(raw(&sub, sizeof(sub), pad, sizeof(pad), HDR, &resp),
		VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "submit size 4G");

	/* cursor queue: garbage, unknown resource, bad scanout: no response,
	 * no crash */
	uint8_t junk[5] = { 1, 2, 3, 4, 5 };
	CHECK_MSG(tessera_virtio_gpu_frontend_raw(gpu, 1, junk, sizeof(junk), NULL, 0,
		NULL, 0, &used) == 0, "cursor junk: %s", err());
	CHECK_MSG(tessera_virtio_gpu_frontend_update_cursor(gpu, 0, 999, 1, 1, 0, 0) == 0,
		"%s", err());
	CHECK_MSG(tessera_virtio_gpu_frontend_move_cursor(gpu, 7, 1, 1) == 0, "%s", err());
	CHECK_MSG(tessera_virtio_gpu_frontend_update_cursor(gpu, 0, 1, 1, 1, 0, 0) == 0,
		"%s", err());

	/* still serving */
	CHECK_MSG(alive_check() != 0, "after malformed commands");
	CHECK_MSG(tessera_virtio_gpu_frontend_resource_unref(gpu, 1) == 0, "%s", err());
	printf("malformed commands answered with errors, device still serving\n");
}

/* ---- limits: resource and context counts ---- */

static void case_limits(uint32_t max_resources, uint32_t max_contexts) {
	uint32_t i;
	for (i = 1; i <= max_resources; i++) {
		if (tessera_virtio_gpu_frontend_resource_create_2d(gpu, 1000 + i,
				VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4) != 0) {
			break;
		}
	}
	CHECK_MSG(i == max_resources + 1, "resource %u refused (%s)", i, err());
	CHECK_MSG(tessera_virtio_gpu_frontend_resource_create_2d(gpu, 999,
		VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4) != 0, "resource %u accepted",
		max_resources + 1);
	CHECK_MSG(tessera_virtio_gpu_frontend_last_response(gpu) ==
		VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "over the limit: 0x%x",
		tessera_virtio_gpu_frontend_last_response(gpu));
	/* freeing one makes room again */
	CHECK_MSG(tessera_virtio_gpu_frontend_resource_unref(gpu, 1001) == 0, "%s", err());
	CHECK_MSG(tessera_virtio_gpu_frontend_resource_create_2d(gpu, 999,
		VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4) == 0, "%s", err());

	for (i = 1; i <= max_contexts; i++) {
		if (tessera_virtio_gpu_frontend_ctx_create(gpu, i, "x") != 0) {
			break;
		}
	}
	CHECK_MSG(i == max_contexts + 1, "context %u refused (%s)", i, err());
	CHECK_MSG(tessera_virtio_gpu_frontend_ctx_create(gpu, 5000, "x") != 0,
		"context %u accepted", max_contexts + 1);
	CHECK_MSG(tessera_virtio_gpu_frontend_last_response(gpu) ==
		VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "over the context limit: 0x%x",
		tessera_virtio_gpu_frontend_last_response(gpu));
	CHECK_MSG(alive_check() != 0, "after the limits");
	printf("limits: %u resources, %u contexts\n", max_resources, max_contexts);
}

/* ---- console: 2D scanout path ---- */

static void fill(void *mem, uint32_t stride, uint32_t x, uint32_t y,
		uint32_t w, uint32_t h, const uint8_t px[4]) {
	for (uint32_t j = y; j < y + h; j++) {
		uint8_t *row = (uint8_t *)mem + (size_t)j * stride;
		for (uint32_t i = x; i < x + w; i++) {
			memcpy(row + 4 * i, px, 4);
		}
	}
}

static void wait_line(const char *ready) {
	printf("READY %s\n", ready);
	fflush(stdout);
	char line[64];
	REQUIRE_MSG(fgets(line, sizeof(line), stdin) != NULL, "no go-ahead on stdin");
}

static void case_console(void) {
	const uint32_t w = 320, h = 200, stride = w * 4;
	/* like the fbdev dumb buffer: 2D, B8G8R8X8, backing in pages */
	REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_create_2d(gpu, 1,
		VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, w, h) == 0, "%s", err());
	uint64_t gpa;
	void *fb;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_create_backing(gpu, 1, stride * h, true,
		&gpa, &fb) == 0, "%s", err());
	const uint8_t teal[4] = { 0x80, 0x80, 0x00, 0xff }; /* B, G, R, X: #008080 */
	fill(fb, stride, 0, 0, w, h, teal);
	REQUIRE_MSG(tessera_virtio_gpu_frontend_set_scanout(gpu, 0, 1, 0, 0, w, h) == 0,
		"%s", err());
	REQUIRE_MSG(tessera_virtio_gpu_frontend_transfer_to_host_2d(gpu, 1, 0, 0, w, h,
		0) == 0, "%s", err());
	REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_flush(gpu, 1, 0, 0, w, h,
		true) == 0, "%s", err());
	wait_line("1 008080 320x200");

	/* a damaged square only, as the driver sends it (offset of the
	 * rectangle in the linear buffer) */
	const uint8_t orange[4] = { 0x00, 0x80, 0xff, 0xff }; /* #ff8000 */
	fill(fb, stride, 100, 60, 40, 30, orange);
	/* pixels changed outside the transferred rectangle would show up
	 * only when flushed: the flush is what the window shows */
	REQUIRE_MSG(tessera_virtio_gpu_frontend_transfer_to_host_2d(gpu, 1, 100, 60, 40,
		30, 60 * stride + 100 * 4) == 0, "%s", err());
	REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_flush(gpu, 1, 100, 60, 40, 30,
		true) == 0, "%s", err());
	wait_line("2 ff8000 100,60,40x30");

	/* a small update once the buffers are in use: only damage is copied
	 * (the flushed rectangle, and what the reused buffer missed) */
	const uint8_t blue[4] = { 0xff, 0x00, 0x00, 0xff }; /* #0000ff */
	fill(fb, stride, 10, 10, 8, 8, blue);
	REQUIRE_MSG(tessera_virtio_gpu_frontend_transfer_to_host_2d(gpu, 1, 10, 10, 8,
		8, 10 * stride + 10 * 4) == 0, "%s", err());
	REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_flush(gpu, 1, 10, 10, 8, 8,
		true) == 0, "%s", err());
	wait_line("2b 0000ff 10,10,8x8");

	/* another format (bytes R, G, B, X) on a new resource of the same
	 * size: converted to the right colour */
	REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_create_2d(gpu, 2,
		VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, w, h) == 0, "%s", err());
	void *fb2;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_create_backing(gpu, 2, stride * h,
		false, &gpa, &fb2) == 0, "%s", err());
	const uint8_t purple[4] = { 0x70, 0x20, 0xa0, 0x00 }; /* R, G, B: #7020a0 */
	fill(fb2, stride, 0, 0, w, h, purple);
	REQUIRE_MSG(tessera_virtio_gpu_frontend_set_scanout(gpu, 0, 2, 0, 0, w, h) == 0,
		"%s", err());
	REQUIRE_MSG(tessera_virtio_gpu_frontend_transfer_to_host_2d(gpu, 2, 0, 0, w, h,
		0) == 0, "%s", err());
	REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_flush(gpu, 2, 0, 0, w, h,
		false) == 0, "%s", err());
	wait_line("3 7020a0 320x200");

	/* scanout disabled: the window goes */
	REQUIRE_MSG(tessera_virtio_gpu_frontend_set_scanout(gpu, 0, 0, 0, 0, 0, 0) == 0,
		"%s", err());
	wait_line("4 gone");
	CHECK_MSG(tessera_virtio_gpu_frontend_resource_unref(gpu, 1) == 0, "%s", err());
	CHECK_MSG(tessera_virtio_gpu_frontend_resource_unref(gpu, 2) == 0, "%s", err());
}

/* ---- abandon: state left behind by a VMM that goes away ---- */

static void case_abandon(void) {
	/* a scanout, many resources with backing, a session with a held WAIT */
	const uint32_t w = 200, h = 100;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_create_2d(gpu, 1,
		VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, w, h) == 0, "%s", err());
	uint64_t gpa;
	void *fb;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_create_backing(gpu, 1, w * h * 4, true,
		&gpa, &fb) == 0, "%s", err());
	const uint8_t grey[4] = { 0x60, 0x60, 0x60, 0xff };
	fill(fb, w * 4, 0, 0, w, h, grey);
	REQUIRE_MSG(tessera_virtio_gpu_frontend_set_scanout(gpu, 0, 1, 0, 0, w, h) == 0,
		"%s", err());
	REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_flush(gpu, 1, 0, 0, w, h,
		true) == 0, "%s", err());
	for (uint32_t i = 0; i < 64; i++) {
		REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_create_2d(gpu, 100 + i,
			VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64) == 0, "%s", err());
		REQUIRE_MSG(tessera_virtio_gpu_frontend_create_backing(gpu, 100 + i,
			64 * 64 * 4, true, &gpa, &fb) == 0, "%s", err());
	}
	struct ring ring;
	start_session(9, &ring);
	uint64_t fence = submit_wait(9);
	CHECK_MSG(wait_fence(fence, 200, NULL) == 0, "WAIT completed at once");
	wait_line("abandon");
	/* exit without any cleanup: the socket closes with the process */
	fflush(stdout);
	_exit(test_failures > 0 ? 1 : 0);
}

int main(int argc, char *argv[]) {
	if (argc < 3) {
		fprintf(stderr, "usage: %s SOCKET CASE [ARGS]\n", argv[0]);
		return 2;
	}
	socket_path = argv[1];
	const char *name = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	gpu = connect_gpu();
	if (strcmp(name, "basic") == 0) {
		case_basic(argc > 3 ? argv[3] : NULL);
	} else if (strcmp(name, "fences") == 0) {
		case_fences();
	} else if (strcmp(name, "wait") == 0) {
		case_wait();
	} else if (strcmp(name, "malformed") == 0) {
		case_malformed();
	} else if (strcmp(name, "limits") == 0) {
		case_limits(argc > 3 ? (uint32_t)atoi(argv[3]) : 4096,
			argc > 4 ? (uint32_t)atoi(argv[4]) : 64);
	} else if (strcmp(name, "console") == 0) {
		case_console();
	} else if (strcmp(name, "abandon") == 0) {
		case_abandon();
	} else {
		fprintf(stderr, "unknown case %s\n", name);
		return 2;
	}
	tessera_virtio_gpu_frontend_destroy(gpu);
	return test_finish(name);
}
