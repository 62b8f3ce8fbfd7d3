/*
 * vhost-user backend: the device side of a vhost-user connection.
 *
 * No C library for vhost-user is packaged in Debian, so this is tessera's
 * own small implementation, written from the public specification (QEMU
 * docs/interop/vhost-user.rst) on top of common/virtio/memory-table
 * and common/virtio/virtqueue (split rings). It implements what a VMM sends to a
 * vhost-user-gpu backend; the virtio device itself (virtio-gpu) plugs in
 * through struct tessera_vhost_user_device_impl.
 *
 * The backend listens on a UNIX socket (or adopts an already connected
 * one, the `--fd` convention) and serves ONE frontend at a time. It is
 * driven by a wl_event_loop: the socket, the listening socket and every
 * queue's kick eventfd are fd sources of that loop, so a Wayland client can
 * add its wl_display fd to the same loop and run everything in one thread.
 *
 * Everything the frontend sends is untrusted: sizes, fd counts, queue
 * indices, addresses. A malformed message drops the connection (the guest's
 * state is freed and the next connection accepted); the process never
 * crashes on one.
 *
 * Protocol features offered: REPLY_ACK and CONFIG. Virtio transport
 * features offered: VERSION_1, INDIRECT_DESC, EVENT_IDX (plus vhost-user's
 * PROTOCOL_FEATURES bit); the device adds its own bits.
 */
#ifndef TESSERA_VMD_VHOST_USER_H
#define TESSERA_VMD_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>

#include "memory-table.h"
#include "virtqueue.h"

#define TESSERA_VHOST_USER_MAX_QUEUES 8

struct tessera_vhost_user_backend;

/*
 * The virtio device behind the backend. data is passed back to every
 * callback. Callbacks run from the event loop; they may call the backend's
 * queue functions, and tessera_vhost_user_backend_disconnect().
 */
struct tessera_vhost_user_device_impl {
	/* number of virtqueues (virtio-gpu: 2, control and cursor) */
	uint32_t num_queues;
	/* size of the device configuration space in bytes (≤ 256;
	 * virtio-gpu: sizeof(struct virtio_gpu_config)) */
	uint32_t config_size;

	/* device feature bits (e.g. VIRTIO_GPU_F_VIRGL); bits reserved for
	 * the transport (24..49) are ignored, the backend adds its own */
	uint64_t (*get_features)(void *data);
	/* the frontend acknowledged these features (device + transport bits);
	 * optional */
	void (*set_features)(void *data, uint64_t features);
	/* read [offset, offset + size) of the configuration space, already
	 * checked to lie within config_size; return 0 or -1 */
	int (*get_config)(void *data, uint32_t offset, void *buf, uint32_t size);
	/* a write to the configuration space (virtio-gpu: events_clear);
	 * flags: TESSERA_VHOST_USER_CONFIG_FRONTEND/MIGRATION; optional,
	 * writes are refused without it */
	int (*set_config)(void *data, uint32_t offset, const void *buf,
		uint32_t size, uint32_t flags);
	/* the driver made buffers available on queue `index` (its kick
	 * eventfd fired, or the queue was just started/enabled): pop chains
	 * from vq, push used elements, then
	 * tessera_vhost_user_backend_queue_notify() */
	void (*queue_kick)(void *data, uint32_t index,
		struct tessera_virtqueue *vq);
	/* queue `index` stops (GET_VRING_BASE, reset, disconnect): elements
	 * popped from it and not pushed yet are forgotten; optional */
	void (*queue_stop)(void *data, uint32_t index);
	/* the memory table was replaced: host pointers and fds obtained from
	 * the old one (element iovecs, mapped extents) are invalid; optional */
	void (*memory_changed)(void *data);
	/* the frontend disconnected (or reset the device): forget everything
	 * about this guest; queues are already stopped */
	void (*reset)(void *data);
};

struct tessera_vhost_user_backend {
	struct {
		struct wl_signal connect; /* a frontend connected */
		struct wl_signal disconnect; /* it went away; state is freed */
		struct wl_signal destroy;
	} events;
	/* private state follows in the implementation */
};

struct tessera_vhost_user_backend *tessera_vhost_user_backend_create(
	struct wl_event_loop *loop,
	const struct tessera_vhost_user_device_impl *impl, void *data);
void tessera_vhost_user_backend_destroy(
	struct tessera_vhost_user_backend *backend);

/* Creates the socket at path (a stale socket there is removed; any other
 * file is not) and accepts frontends on it, one at a time. The socket file
 * is removed on destroy. */
int tessera_vhost_user_backend_listen(struct tessera_vhost_user_backend *backend,
	const char *path);
/* Serves an already connected socket (takes ownership). If a connection is
 * active, fails. When it closes, nothing new is accepted on it. */
int tessera_vhost_user_backend_adopt(struct tessera_vhost_user_backend *backend,
	int fd);
/* Drops the current connection (as if the frontend had gone). */
void tessera_vhost_user_backend_disconnect(
	struct tessera_vhost_user_backend *backend);

bool tessera_vhost_user_backend_connected(
	const struct tessera_vhost_user_backend *backend);
/* Negotiated virtio feature bits (0 before SET_FEATURES). */
uint64_t tessera_vhost_user_backend_features(
	const struct tessera_vhost_user_backend *backend);
/* The guest's memory table (empty before SET_MEM_TABLE). */
struct tessera_memory_table *tessera_vhost_user_backend_memory(
	struct tessera_vhost_user_backend *backend);
/* The device-side virtqueue of queue `index`, or NULL if the queue is not
 * started (no rings yet, stopped, or broken beyond use). */
struct tessera_virtqueue *tessera_vhost_user_backend_queue(
	struct tessera_vhost_user_backend *backend, uint32_t index);
/* Signals the queue's call eventfd if the driver wants an interrupt for
 * the used elements pushed since the last one. */
void tessera_vhost_user_backend_queue_notify(
	struct tessera_vhost_user_backend *backend, uint32_t index);
/* Pushes one used element and notifies: for completing a held element. */
int tessera_vhost_user_backend_queue_complete(
	struct tessera_vhost_user_backend *backend, uint32_t index,
	uint16_t head, uint32_t len);
/* The socket received with GPU_SET_SOCKET (vhost-user-gpu's display
 * channel to QEMU), or -1. Kept open, unused: closing it would show QEMU an
 * end-of-file it does not handle. Owned by the backend. */
int tessera_vhost_user_backend_gpu_socket(
	const struct tessera_vhost_user_backend *backend);

#endif
