#ifndef TESSERA_VMD_SESSION_H
#define TESSERA_VMD_SESSION_H

/*
 * The tessera wire protocol side of tessera-vmd (protocol/PROTOCOL.md):
 * one session per connected guest. It decodes the batches a guest submits
 * with SUBMIT_3D, turns them into Wayland objects on vmd's connection to
 * the compositor (surfaces, toplevels, popups, subsurfaces, cursors,
 * buffers), and writes configure/input/frame/presentation/release events
 * into the guest's event ring.
 *
 * The virtio-gpu device (gpu.c) owns resources and fences; the session
 * sees resources only through struct vmd_session_device.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memory-table.h"
#include "vm-settings.h"

struct vmd_wayland;
struct vmd_session;

/* A guest resource with its backing attached, as the device knows it. */
struct vmd_resource {
	uint32_t id;
	/* RESOURCE_CREATE_2D/3D parameters (format: VIRTIO_GPU_FORMAT_*) */
	uint32_t format, width, height;
	/* Backing (ATTACH_BACKING), validated against the memory table:
	 * n_extents guest-physical extents, each with its host mapping. */
	const struct tessera_guest_extent *extents;
	const struct tessera_memory_mapping *mappings;
	size_t n_extents;
	uint64_t size; /* sum of the extent lengths */
	/* its pixels are rendered on the host (virglrenderer, virgl.h): the
	 * guest pages are not the image; it is read with read_back() */
	bool host_storage;
};

/* What the session needs from the device. */
struct vmd_session_device {
	/* The resource with this id if it exists and has backing, else
	 * NULL. The pointer is valid until control returns to the device. */
	const struct vmd_resource *(*get_resource)(void *data, uint32_t id);
	/* The guest memory table (regions, fds) of the current connection. */
	struct tessera_memory_table *(*memory)(void *data);
	/* Events were written into the ring: complete the held WAIT
	 * fence(s), so that the guest wakes up and reads them (the
	 * doorbell, PROTOCOL.md §9). */
	void (*doorbell)(void *data);
	/* Reads the w x h rectangle at x, y of a host_storage resource into
	 * dst, laid out with stride from dst[0] = pixel (0, 0); false if it
	 * cannot (nothing written). NULL: no host storage. */
	bool (*read_back)(void *data, const struct vmd_resource *res, uint32_t x,
		uint32_t y, uint32_t w, uint32_t h, uint32_t stride, void *dst,
		size_t dst_size);
	/* Queues a fence behind the host rendering submitted so far: its
	 * sequence number, which the device passes to
	 * vmd_session_fence_retired() once that rendering is done (later,
	 * never from inside this call), or 0: read back now. A COMMIT of a
	 * host_storage buffer waits for its fence (NULL: never waits). */
	uint32_t (*fence)(void *data);
	/* Exports a host_storage resource's image as one linear dmabuf plane
	 * (zero copy): true with *fd open (the session closes it), *stride
	 * and *offset; false: its buffers are read back. NULL: never. */
	bool (*export_dmabuf)(void *data, const struct vmd_resource *res, int *fd,
		uint32_t *stride, uint32_t *offset);
};


enum vmd_submit_result {
	VMD_SUBMIT_DONE, /* complete the command now */
	VMD_SUBMIT_WAIT, /* the batch ended with WAIT and nothing is in the
	                  * ring yet: hold the fenced command until doorbell */
	VMD_SUBMIT_ERROR, /* the batch was rejected (or the context is dead):
	                   * answer VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, and
	                   * complete the command (and its fence) now */
};

struct vmd_session *vmd_session_create(struct vmd_wayland *wayland,
	const char *vm_name, const struct tessera_vm_settings *limits,
	const struct vmd_session_device *device, void *device_data);
/* Destroys every Wayland object of the guest (its windows disappear). */
void vmd_session_destroy(struct vmd_session *session);

/*
 * One SUBMIT_3D payload from context ctx_id. payload must be private
 * memory (copied out of the guest's descriptors by the device), at most
 * limits.max_batch_size bytes. The session may call device->doorbell from
 * inside this call (a new WAIT completes the held one first, §9).
 */
enum vmd_submit_result vmd_session_submit(struct vmd_session *session,
	uint32_t ctx_id, const void *payload, size_t len);
/* The guest destroyed context ctx_id (CTX_DESTROY): its wire session ends
 * and its windows disappear. Unknown ids are ignored. */
void vmd_session_ctx_destroy(struct vmd_session *session, uint32_t ctx_id);
/* The guest unref'd or detached the backing of a resource. */
void vmd_session_resource_gone(struct vmd_session *session, uint32_t id);
/* The device's fences up to seq (in order, see vmd_session_device.fence)
 * are done: the commits that waited for them are read back and go to the
 * compositor. */
void vmd_session_fence_retired(struct vmd_session *session, uint32_t seq);
/* The memory table changed: host pointers from before are invalid. Call
 * after the device re-resolved its resources against the new table. */
void vmd_session_memory_changed(struct vmd_session *session);

/* Opens /dev/udmabuf now rather than at the first guest buffer (before
 * the daemon confines itself, sandbox.h): its fd, or -1 if there is none
 * (buffers then take the other paths). */
int vmd_session_open_udmabuf(void);

/* Counters, printed on SIGUSR1 and at exit. */
struct vmd_session_stats {
	uint64_t frames; /* commits with a buffer */
	uint64_t bytes_copied; /* by the wl_shm fallback, and tessera's copies of shared
	                        * windows into this VM (damage boxes) */
	uint64_t releases;
	uint64_t events_dropped; /* ring overflow */
	/* added by the session implementation */
	uint64_t events_written; /* records written into event rings */
	uint64_t errors; /* ERRORs reported to guests (fatal and notices) */
	uint64_t commits; /* COMMITs handled, with or without a buffer */
	uint64_t commits_deferred; /* waited for the host's rendering (fence) */
	uint64_t buffers_guest_memory; /* imported zero-copy (created) */
	uint64_t buffers_udmabuf; /* made udmabufs, zero-copy (created) */
	uint64_t buffers_shm; /* imported as wl_shm copies (created) */
	uint64_t buffers_host_dmabuf; /* host-rendered, exported (created) */
	uint64_t buffers_failed; /* BUFFER_FAILED */
};
void vmd_session_get_stats(const struct vmd_session *session,
	struct vmd_session_stats *stats);
/* Logs the counters in one line (SIGUSR1, exit). */
void vmd_session_log_stats(const struct vmd_session *session);

#endif
