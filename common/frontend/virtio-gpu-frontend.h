/*
 * virtio-gpu frontend: the guest driver side of a virtio-gpu device reached
 * over vhost-user, for tests, benchmarks and the agent's loopback
 * transport. Built on the vhost-user frontend (common/frontend/vhost-user-frontend.h),
 * which plays the VMM and owns guest RAM.
 *
 * Commands are laid out as the Linux virtio-gpu driver lays them out
 * (drivers/gpu/drm/virtio, include/uapi/linux/virtio_gpu.h): one chain per
 * command with the command struct as the first readable buffer, optional
 * data (ATTACH_BACKING's virtio_gpu_mem_entry array, SUBMIT_3D's payload, in
 * page-sized pieces when it is larger than a page, like a vmalloc'ed
 * buffer) as further readable buffers, and the response as the one writable
 * buffer. Fenced commands carry VIRTIO_GPU_FLAG_FENCE and a fence id from
 * one increasing counter (one timeline, as the driver without
 * CONTEXT_INIT). Cursor commands go to queue 1 without a response buffer.
 *
 * Synchronous calls return once their own command completed; completions
 * of other commands (e.g. a held SUBMIT_3D) are recorded meanwhile.
 *
 * Pure C, no logging: failures return -1 (NULL) and
 * tessera_virtio_gpu_frontend_error() says why. A command the device
 * answered with an error response (VIRTIO_GPU_RESP_ERR_*) is a failure too;
 * tessera_virtio_gpu_frontend_last_response() gives the response type.
 */
#ifndef TESSERA_COMMON_VIRTIO_GPU_FRONTEND_H
#define TESSERA_COMMON_VIRTIO_GPU_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_gpu.h>

#include "memory-table.h"

struct tessera_vhost_user_frontend;
struct tessera_virtio_gpu_frontend;

#define TESSERA_VIRTIO_GPU_FRONTEND_CONTROL_QUEUE 0
#define TESSERA_VIRTIO_GPU_FRONTEND_CURSOR_QUEUE 1

struct tessera_virtio_gpu_frontend_options {
	uint64_t ram_size; /* guest RAM bytes; default 64 MiB */
	bool split_regions; /* RAM as two regions (below/above 4 GiB) */
	/* RAM in a memfd without seals, as a VMM that does not seal its
	 * memory backend (tests of the device's refusal) */
	bool unsealed_ram;
	uint32_t queue_size; /* default 256 */
	int timeout_ms; /* per synchronous command; default 5000 */
	/* device feature bits to accept if offered; 0: VIRGL | EDID */
	uint64_t device_features;
};

struct tessera_virtio_gpu_frontend *tessera_virtio_gpu_frontend_connect(
	const char *path, const struct tessera_virtio_gpu_frontend_options *opts,
	char *err, size_t err_size);
/* Same over an already connected socket (ownership taken). */
struct tessera_virtio_gpu_frontend *tessera_virtio_gpu_frontend_connect_fd(
	int fd, const struct tessera_virtio_gpu_frontend_options *opts,
	char *err, size_t err_size);
/* Disconnects and frees guest RAM. */
void tessera_virtio_gpu_frontend_destroy(struct tessera_virtio_gpu_frontend *gpu);

const char *tessera_virtio_gpu_frontend_error(
	const struct tessera_virtio_gpu_frontend *gpu);
/* Response type (VIRTIO_GPU_RESP_*) of the last synchronous command, 0 if
 * it got none. */
uint32_t tessera_virtio_gpu_frontend_last_response(
	const struct tessera_virtio_gpu_frontend *gpu);
/* The underlying vhost-user frontend (guest RAM, raw queue access). */
struct tessera_vhost_user_frontend *tessera_virtio_gpu_frontend_vhost(
	struct tessera_virtio_gpu_frontend *gpu);
/* Negotiated feature bits. */
uint64_t tessera_virtio_gpu_frontend_features(
	const struct tessera_virtio_gpu_frontend *gpu);
int tessera_virtio_gpu_frontend_get_config(struct tessera_virtio_gpu_frontend *gpu,
	struct virtio_gpu_config *config);

/* ---- guest RAM ---- */

/* A buffer of guest RAM (page aligned) and its host address. */
int tessera_virtio_gpu_frontend_alloc(struct tessera_virtio_gpu_frontend *gpu,
	uint64_t size, uint64_t *gpa, void **host);
void tessera_virtio_gpu_frontend_free(struct tessera_virtio_gpu_frontend *gpu,
	uint64_t gpa);

/* ---- control queue commands (synchronous) ---- */

/* Fills info (host byte order, pmodes of every scanout). */
int tessera_virtio_gpu_frontend_get_display_info(
	struct tessera_virtio_gpu_frontend *gpu,
	struct virtio_gpu_resp_display_info *info);
/* Copies the scanout's EDID into edid (up to 1024 bytes), *size its length. */
int tessera_virtio_gpu_frontend_get_edid(struct tessera_virtio_gpu_frontend *gpu,
	uint32_t scanout, uint8_t edid[1024], uint32_t *size);
int tessera_virtio_gpu_frontend_get_capset_info(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t index,
	struct virtio_gpu_resp_capset_info *info);

int tessera_virtio_gpu_frontend_ctx_create(struct tessera_virtio_gpu_frontend *gpu,
	uint32_t ctx_id, const char *debug_name);
int tessera_virtio_gpu_frontend_ctx_destroy(struct tessera_virtio_gpu_frontend *gpu,
	uint32_t ctx_id);
int tessera_virtio_gpu_frontend_ctx_attach_resource(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t ctx_id,
	uint32_t resource_id);
int tessera_virtio_gpu_frontend_ctx_detach_resource(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t ctx_id,
	uint32_t resource_id);

int tessera_virtio_gpu_frontend_resource_create_2d(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
	uint32_t format, uint32_t width, uint32_t height);

/* RESOURCE_CREATE_3D parameters (host byte order). */
struct tessera_virtio_gpu_resource_3d {
	uint32_t target, format, bind;
	uint32_t width, height, depth, array_size, last_level, nr_samples;
	uint32_t flags;
};
int tessera_virtio_gpu_frontend_resource_create_3d(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
	const struct tessera_virtio_gpu_resource_3d *params);
int tessera_virtio_gpu_frontend_resource_unref(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id);
/* ATTACH_BACKING with these guest-physical extents. */
int tessera_virtio_gpu_frontend_attach_backing(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
	const struct tessera_guest_extent *extents, size_t n);
/* Allocates size bytes of guest RAM and attaches them as backing, in
 * page-sized entries when pages is set (like scattered shmem pages; the
 * driver merges contiguous pages otherwise). *host: the backing. */
int tessera_virtio_gpu_frontend_create_backing(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
	uint64_t size, bool pages, uint64_t *gpa, void **host);
int tessera_virtio_gpu_frontend_detach_backing(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id);

int tessera_virtio_gpu_frontend_set_scanout(struct tessera_virtio_gpu_frontend *gpu,
	uint32_t scanout, uint32_t resource_id, uint32_t x, uint32_t y,
	uint32_t width, uint32_t height);
int tessera_virtio_gpu_frontend_transfer_to_host_2d(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
	uint32_t x, uint32_t y, uint32_t width, uint32_t height, uint64_t offset);
/* With fence: fenced as the driver fences dumb-buffer flushes. */
int tessera_virtio_gpu_frontend_resource_flush(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
	uint32_t x, uint32_t y, uint32_t width, uint32_t height, bool fence);
/* TRANSFER_TO_HOST_3D (to_host) or TRANSFER_FROM_HOST_3D, fenced. */
int tessera_virtio_gpu_frontend_transfer_3d(struct tessera_virtio_gpu_frontend *gpu,
	bool to_host, uint32_t ctx_id, uint32_t resource_id,
	const struct virtio_gpu_box *box, uint64_t offset, uint32_t level,
	uint32_t stride, uint32_t layer_stride);

/* SUBMIT_3D of payload from context ctx_id. With fence it is fenced and
 * waits for its completion (up to the timeout); *fence_id (may be NULL)
 * receives the fence id used. */
int tessera_virtio_gpu_frontend_submit_3d(struct tessera_virtio_gpu_frontend *gpu,
	uint32_t ctx_id, const void *payload, size_t len, bool fence,
	uint64_t *fence_id);

/* ---- asynchronous fenced SUBMIT_3D ---- */

/* Submits a fenced SUBMIT_3D and returns at once; *fence_id its fence. */
int tessera_virtio_gpu_frontend_submit_3d_async(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t ctx_id,
	const void *payload, size_t len, uint64_t *fence_id);
/* Reaps completed commands, waiting up to timeout_ms (0: do not wait) for
 * at least one: number reaped, 0 if none, -1 on error. */
int tessera_virtio_gpu_frontend_poll(struct tessera_virtio_gpu_frontend *gpu,
	int timeout_ms);
/* Status of an asynchronous submission: 1 completed (*resp_type, may be
 * NULL, receives its response; the record is consumed), 0 still pending,
 * -1 unknown fence id. */
int tessera_virtio_gpu_frontend_fence_status(
	struct tessera_virtio_gpu_frontend *gpu, uint64_t fence_id,
	uint32_t *resp_type);
/* The guest kernel's view of the single fence timeline: true once any
 * response carrying a fence id >= fence_id arrived. */
bool tessera_virtio_gpu_frontend_fence_signaled(
	const struct tessera_virtio_gpu_frontend *gpu, uint64_t fence_id);
/* Highest fence id seen in a response (0: none). */
uint64_t tessera_virtio_gpu_frontend_last_fence(
	const struct tessera_virtio_gpu_frontend *gpu);
/* The control queue's call eventfd, to wait for completions in a loop. */
int tessera_virtio_gpu_frontend_call_fd(
	const struct tessera_virtio_gpu_frontend *gpu);

/* ---- cursor queue ---- */

int tessera_virtio_gpu_frontend_update_cursor(
	struct tessera_virtio_gpu_frontend *gpu, uint32_t scanout,
	uint32_t resource_id, uint32_t x, uint32_t y, uint32_t hot_x,
	uint32_t hot_y);
int tessera_virtio_gpu_frontend_move_cursor(struct tessera_virtio_gpu_frontend *gpu,
	uint32_t scanout, uint32_t x, uint32_t y);

/* ---- raw access, for tests of malformed commands ---- */

/* Sends cmd (cmd_len bytes, any content, may be shorter than a header)
 * followed by data (data_len bytes, may be 0) on queue `queue` with a
 * writable response buffer of resp_size bytes (0: none), waits for the
 * completion, copies the response into resp and sets *used_len to the
 * length the device reported. Returns 0, or -1 on a transport failure or
 * timeout (a device error response is not a failure here). */
int tessera_virtio_gpu_frontend_raw(struct tessera_virtio_gpu_frontend *gpu,
	uint32_t queue, const void *cmd, size_t cmd_len, const void *data,
	size_t data_len, void *resp, size_t resp_size, uint32_t *used_len);

#endif
