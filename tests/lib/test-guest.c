#include <inttypes.h>
#include <stdlib.h>

#include "tessera-test.h"
#include "test-guest.h"

#define PIPE_BUFFER 0
#define VIRGL_FORMAT_R8_UNORM 64

void *test_guest_buffer_resource(struct tessera_virtio_gpu_frontend *gpu,
		uint32_t ctx, uint32_t id, uint32_t size) {
	struct tessera_virtio_gpu_resource_3d p = {
		.target = PIPE_BUFFER, .format = VIRGL_FORMAT_R8_UNORM,
		.width = size, .height = 1, .depth = 1, .array_size = 1,
	};
	REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_create_3d(gpu, id, &p) == 0,
		"%s", tessera_virtio_gpu_frontend_error(gpu));
	uint64_t gpa;
	void *host;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_create_backing(gpu, id, size, true, &gpa,
		&host) == 0, "%s", tessera_virtio_gpu_frontend_error(gpu));
	REQUIRE_MSG(tessera_virtio_gpu_frontend_ctx_attach_resource(gpu, ctx, id) == 0,
		"%s", tessera_virtio_gpu_frontend_error(gpu));
	return host;
}

uint32_t *test_guest_pixel_resource(struct tessera_virtio_gpu_frontend *gpu,
		uint32_t ctx, uint32_t id, uint32_t width, uint32_t height) {
	REQUIRE_MSG(tessera_virtio_gpu_frontend_resource_create_2d(gpu, id,
		VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, width, height) == 0, "%s",
		tessera_virtio_gpu_frontend_error(gpu));
	uint64_t gpa;
	void *host;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_create_backing(gpu, id,
		(uint64_t)width * height * 4, true, &gpa, &host) == 0, "%s",
		tessera_virtio_gpu_frontend_error(gpu));
	REQUIRE_MSG(tessera_virtio_gpu_frontend_ctx_attach_resource(gpu, ctx, id) == 0,
		"%s", tessera_virtio_gpu_frontend_error(gpu));
	return host;
}

void test_guest_init(struct test_guest *guest, struct tessera_virtio_gpu_frontend *gpu,
		uint32_t ctx, const char *ctx_name, uint32_t ring_resource, uint32_t ring_size) {
	guest->gpu = gpu;
	guest->ctx = ctx;
	guest->wait_outstanding = false;
	REQUIRE_MSG(tessera_virtio_gpu_frontend_ctx_create(gpu, ctx, ctx_name) == 0,
		"%s", tessera_virtio_gpu_frontend_error(gpu));
	void *ring = test_guest_buffer_resource(gpu, ctx, ring_resource, ring_size);
	REQUIRE_MSG(tessera_wire_ring_format(ring, ring_size), "ring format");
	REQUIRE_MSG(tessera_wire_ring_reader_init(&guest->reader, ring, ring_size),
		"ring reader");
}

void test_guest_batch_begin(struct test_guest *guest) {
	tessera_wire_writer_init(&guest->writer, guest->batch, sizeof(guest->batch));
}

void test_guest_batch_add(struct test_guest *guest, const struct tessera_wire_msg *msg) {
	struct tessera_wire_error e = {0};
	REQUIRE_MSG(tessera_wire_encode(&guest->writer, msg, &e) == TESSERA_WIRE_ERROR_NONE,
		"encode %s: %s: %s", tessera_wire_type_name(msg->type), e.field, e.reason);
}

void test_guest_batch_submit(struct test_guest *guest) {
	REQUIRE_MSG(tessera_virtio_gpu_frontend_submit_3d(guest->gpu, guest->ctx,
		guest->batch, guest->writer.len, false, NULL) == 0,
		"SUBMIT_3D: %s (response 0x%x)", tessera_virtio_gpu_frontend_error(guest->gpu),
		tessera_virtio_gpu_frontend_last_response(guest->gpu));
}

void test_guest_pump(struct test_guest *guest, int timeout_ms,
		void (*handle)(const struct tessera_wire_msg *ev)) {
	struct tessera_virtio_gpu_frontend *gpu = guest->gpu;
	if (!guest->wait_outstanding) {
		/* in a buffer of its own: a batch may be under way */
		uint8_t buf[16];
		struct tessera_wire_writer w;
		tessera_wire_writer_init(&w, buf, sizeof(buf));
		struct tessera_wire_msg wait = { .type = TESSERA_WIRE_WAIT };
		REQUIRE_MSG(tessera_wire_encode(&w, &wait, NULL) == TESSERA_WIRE_ERROR_NONE,
			"WAIT");
		REQUIRE_MSG(tessera_virtio_gpu_frontend_submit_3d_async(gpu, guest->ctx, buf,
			w.len, &guest->wait_fence) == 0, "WAIT: %s",
			tessera_virtio_gpu_frontend_error(gpu));
		guest->wait_outstanding = true;
	}
	REQUIRE_MSG(tessera_virtio_gpu_frontend_poll(gpu, timeout_ms) >= 0, "poll: %s",
		tessera_virtio_gpu_frontend_error(gpu));
	uint32_t resp = 0;
	int st = tessera_virtio_gpu_frontend_fence_status(gpu, guest->wait_fence, &resp);
	REQUIRE_MSG(st >= 0, "fence status: %s", tessera_virtio_gpu_frontend_error(gpu));
	if (st == 0) {
		return;
	}
	guest->wait_outstanding = false;
	REQUIRE_MSG(resp == VIRTIO_GPU_RESP_OK_NODATA, "WAIT answered 0x%x", resp);
	struct tessera_wire_msg *ev = calloc(1, sizeof(*ev));
	REQUIRE_MSG(ev != NULL, "oom");
	while (tessera_wire_ring_reader_next(&guest->reader, ev)) {
		handle(ev);
	}
	free(ev);
	REQUIRE_MSG(guest->reader.error.code == TESSERA_WIRE_ERROR_NONE, "ring: %s: %s",
		guest->reader.error.field, guest->reader.error.reason);
	uint32_t status = tessera_wire_ring_reader_status(&guest->reader);
	REQUIRE_MSG(status == 0, "session ended: %s", tessera_wire_error_code_name(status));
}
