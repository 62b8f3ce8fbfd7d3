/*
 * The guest agent's end of a wire session (protocol/PROTOCOL.md), for the
 * test programs that play VMM, guest driver and agent on tessera-vmd's
 * vhost-user socket through common/frontend (tessera_test_guest_dep).
 * Every failure is a REQUIRE: the program exits 1 saying what failed.
 *
 *   resources  a PIPE_BUFFER for rings and areas, a B8G8R8X8 2D resource
 *              for pixels, both backed by guest memory and attached
 *   session    the context and its event ring, read by guest->reader
 *   batches    begin, add messages, submit (no fence)
 *   pump       the agent's loop: one fenced WAIT outstanding; once it
 *              completes, every event in the ring goes to a handler
 */
#ifndef TESSERA_TESTS_LIB_TEST_GUEST_H
#define TESSERA_TESTS_LIB_TEST_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "tessera-wire.h"
#include "virtio-gpu-frontend.h"

struct test_guest {
	struct tessera_virtio_gpu_frontend *gpu;
	uint32_t ctx;
	struct tessera_wire_ring_reader reader;
	struct tessera_wire_writer writer;
	uint8_t batch[TESSERA_WIRE_MAX_BATCH_SIZE];
	uint64_t wait_fence;
	bool wait_outstanding;
};

/* A PIPE_BUFFER resource (R8, width size) with guest backing, attached
 * to ctx: its memory. */
void *test_guest_buffer_resource(struct tessera_virtio_gpu_frontend *gpu,
	uint32_t ctx, uint32_t id, uint32_t size);
/* A B8G8R8X8 2D resource of width x height with guest backing, attached
 * to ctx: its pixels (stride width * 4). */
uint32_t *test_guest_pixel_resource(struct tessera_virtio_gpu_frontend *gpu,
	uint32_t ctx, uint32_t id, uint32_t width, uint32_t height);

/* Creates the context (ctx_name: what the agent calls itself) and the
 * event ring in resource ring_resource of ring_size bytes, formatted and
 * read by guest->reader. The guest still has to send HELLO and
 * EVENT_RING. guest should be static: it holds a whole batch. */
void test_guest_init(struct test_guest *guest, struct tessera_virtio_gpu_frontend *gpu,
	uint32_t ctx, const char *ctx_name, uint32_t ring_resource, uint32_t ring_size);

void test_guest_batch_begin(struct test_guest *guest);
void test_guest_batch_add(struct test_guest *guest, const struct tessera_wire_msg *msg);
void test_guest_batch_submit(struct test_guest *guest);

/*
 * Keeps one fenced WAIT outstanding and polls the device for up to
 * timeout_ms; when the WAIT has completed (answered OK_NODATA), passes
 * every event of the ring to handle and checks the ring (no read error,
 * status 0: the session goes on).
 */
void test_guest_pump(struct test_guest *guest, int timeout_ms,
	void (*handle)(const struct tessera_wire_msg *ev));

#endif
