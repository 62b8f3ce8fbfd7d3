/*
 * vhost-user frontend: the VMM side of a vhost-user connection, for tests,
 * benchmarks and the guest agent's loopback transport (the agent plays VMM
 * and guest driver against a tessera-vmd socket on the host: same backend
 * code path, same bytes on the rings as with QEMU).
 *
 * No C library for vhost-user is packaged in Debian; this is tessera's own,
 * written from the public specification (QEMU docs/interop/vhost-user.rst).
 *
 * The frontend owns "guest RAM": a sealed memfd (F_SEAL_SHRINK|F_SEAL_GROW,
 * or none with unsealed_ram), described to the backend as one region at
 * guest address 0, or as two
 * (split_regions: [0, ram/2) at file offset 0 and [4 GiB, 4 GiB + ram/2) at
 * file offset ram/2, like a PC's RAM below and above 4 GiB). A small
 * allocator hands out guest-physical buffers inside it. The handshake is the
 * one QEMU performs; with REPLY_ACK negotiated every request is acknowledged
 * before the call returns, so the frontend is fully synchronous.
 *
 * Pure C, no logging: failures return -1 (or NULL) and
 * tessera_vhost_user_frontend_error() tells why.
 */
#ifndef TESSERA_COMMON_VHOST_USER_FRONTEND_H
#define TESSERA_COMMON_VHOST_USER_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtqueue-driver.h"

#define TESSERA_VHOST_USER_FRONTEND_MAX_QUEUES 8
#define TESSERA_VHOST_USER_FRONTEND_HIGH_GPA (UINT64_C(1) << 32)

struct tessera_vhost_user_frontend;

struct tessera_vhost_user_frontend_options {
	uint64_t ram_size; /* bytes, multiple of 2 pages; default 16 MiB */
	bool split_regions; /* describe RAM as two regions */
	/* RAM without the seals (tests: a VMM whose memory backend does not
	 * seal; the backend must not trust such memory's size) */
	bool unsealed_ram;
	uint32_t num_queues; /* default 1, at most 8 */
	uint32_t queue_size; /* power of two; default 256 */
	/* device-specific feature bits to accept when the backend offers
	 * them (VERSION_1, EVENT_IDX, INDIRECT_DESC are handled below) */
	uint64_t device_features;
	bool no_event_idx; /* do not negotiate VIRTIO_RING_F_EVENT_IDX */
	bool no_indirect; /* do not negotiate VIRTIO_RING_F_INDIRECT_DESC */
	int timeout_ms; /* for each reply; default 5000 */
};

/* Connects to the backend socket at path and performs the handshake. On
 * failure returns NULL with a message in err. */
struct tessera_vhost_user_frontend *tessera_vhost_user_frontend_connect(
	const char *path, const struct tessera_vhost_user_frontend_options *opts,
	char *err, size_t err_size);
/* Same over an already connected socket (ownership taken). */
struct tessera_vhost_user_frontend *tessera_vhost_user_frontend_connect_fd(
	int fd, const struct tessera_vhost_user_frontend_options *opts,
	char *err, size_t err_size);
/* Closes the connection and frees guest RAM. */
void tessera_vhost_user_frontend_destroy(struct tessera_vhost_user_frontend *fe);

const char *tessera_vhost_user_frontend_error(
	const struct tessera_vhost_user_frontend *fe);
/* Negotiated virtio features / vhost-user protocol features. */
uint64_t tessera_vhost_user_frontend_features(
	const struct tessera_vhost_user_frontend *fe);
uint64_t tessera_vhost_user_frontend_protocol_features(
	const struct tessera_vhost_user_frontend *fe);

/* Guest RAM allocator: a buffer of size bytes aligned to align (power of
 * two, default 64 if 0), never crossing a region. Returns -1 when full. */
int tessera_vhost_user_frontend_alloc(struct tessera_vhost_user_frontend *fe,
	uint64_t size, uint64_t align, uint64_t *gpa, void **host);
void tessera_vhost_user_frontend_free(struct tessera_vhost_user_frontend *fe,
	uint64_t gpa);
/* Host address of [gpa, gpa + len) in guest RAM, or NULL. */
void *tessera_vhost_user_frontend_host(struct tessera_vhost_user_frontend *fe,
	uint64_t gpa, uint64_t len);

/* Driver side of queue `queue`: adds a chain of out_num readable then
 * in_num writable buffers (guest addresses). Returns the head or -1. */
int tessera_vhost_user_frontend_submit(struct tessera_vhost_user_frontend *fe,
	uint32_t queue, const struct tessera_virtqueue_buffer *bufs,
	size_t out_num, size_t in_num, void *data);
/* Signals the kick eventfd if the device wants it (EVENT_IDX) or force. */
int tessera_vhost_user_frontend_kick(struct tessera_vhost_user_frontend *fe,
	uint32_t queue, bool force);
/* Waits up to timeout_ms for the queue's call eventfd: 1 signalled (the
 * counter is consumed), 0 timeout, -1 error (also when the backend closed
 * the socket meanwhile). */
int tessera_vhost_user_frontend_wait_call(struct tessera_vhost_user_frontend *fe,
	uint32_t queue, int timeout_ms);
/* Reaps one used element: 1, 0 (none), -1 (bad id/length from the device). */
int tessera_vhost_user_frontend_reap(struct tessera_vhost_user_frontend *fe,
	uint32_t queue, uint32_t *len, void **data);
/* The queue's call eventfd, to poll it from an event loop (owned by fe). */
int tessera_vhost_user_frontend_call_fd(
	const struct tessera_vhost_user_frontend *fe, uint32_t queue);
struct tessera_virtqueue_driver *tessera_vhost_user_frontend_driver(
	struct tessera_vhost_user_frontend *fe, uint32_t queue);

/* The vhost-user socket, to notice a backend that went away (POLLHUP)
 * from an event loop (owned by fe). */
int tessera_vhost_user_frontend_socket_fd(
	const struct tessera_vhost_user_frontend *fe);

/* Gives queue `queue` a new call eventfd (SET_VRING_CALL), closing the old
 * one, as VMMs do when interrupts are masked/unmasked. */
int tessera_vhost_user_frontend_replace_call(
	struct tessera_vhost_user_frontend *fe, uint32_t queue);
/* GET_VRING_BASE: stops the queue in the backend; *base = next avail index
 * it would have processed. */
int tessera_vhost_user_frontend_stop_queue(struct tessera_vhost_user_frontend *fe,
	uint32_t queue, uint16_t *base);
/* GET_CONFIG / SET_CONFIG on the device configuration space. */
int tessera_vhost_user_frontend_get_config(struct tessera_vhost_user_frontend *fe,
	uint32_t offset, void *buf, uint32_t size);
int tessera_vhost_user_frontend_set_config(struct tessera_vhost_user_frontend *fe,
	uint32_t offset, const void *buf, uint32_t size);

/* Raw access for protocol tests: sends one message (fds are not closed);
 * reads one reply of at most size payload bytes (returns its size). */
int tessera_vhost_user_frontend_send(struct tessera_vhost_user_frontend *fe,
	uint32_t request, uint32_t flags, const void *payload, uint32_t size,
	const int *fds, size_t nfds);
int tessera_vhost_user_frontend_receive(struct tessera_vhost_user_frontend *fe,
	uint32_t request, void *payload, uint32_t size);

#endif
