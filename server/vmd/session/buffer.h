/*
 * Guest buffers (buffer.c, PROTOCOL.md §6.3, §10): BUFFER_CREATE and
 * BUFFER_DESTROY, the wl_buffer a commit attaches, releases. How a buffer
 * reaches the compositor (udmabuf, tessera_guest_memory_v1, wl_shm copy)
 * is in import.h.
 */
#ifndef TESSERA_VMD_SESSION_BUFFER_H
#define TESSERA_VMD_SESSION_BUFFER_H

#include <pixman.h>
#include <stdbool.h>
#include <stdint.h>
#include <wayland-client.h>

#include "memory-table.h"
#include "tessera-wire.h"

/* Guest memory regions created on the compositor (its own limit is 16). */
#define VMD_MAX_GMEM_REGIONS TESSERA_MEMORY_TABLE_MAX_REGIONS

struct vmd_ctx;
struct vmd_session;
struct vmd_surface;

enum vmd_buffer_kind {
	VMD_BUFFER_GMEM, /* tessera_guest_memory_v1: no copy */
	VMD_BUFFER_SHM, /* wl_shm mirror: damage copied */
	VMD_BUFFER_FAILED, /* could not import: commits show nothing */
	VMD_BUFFER_UDMABUF, /* udmabuf + linux-dmabuf: no copy */
	VMD_BUFFER_HOST_DMABUF, /* host-rendered image exported: no copy */
};

struct vmd_buffer {
	struct wl_list link; /* vmd_ctx.buffer_list */
	struct vmd_ctx *ctx;
	uint32_t id;
	uint32_t resource;
	uint32_t format, width, height, stride;
	uint64_t offset;
	uint64_t bytes; /* stride * height, counted in the VM's budget */
	enum vmd_buffer_kind kind;
	struct wl_buffer *wl_buffer;
	bool busy; /* committed, not released yet (§10) */
	bool resource_gone; /* the guest dropped the resource: no more reads */

	/* udmabuf: memory table generation it was made from */
	uint64_t udmabuf_generation;
	uint64_t udmabuf_bytes;

	/* tessera_guest_memory_v1 */
	uint64_t gmem_generation;
	uint64_t gmem_bytes, gmem_mappings;

	/* wl_shm mirror */
	int shm_fd;
	uint8_t *shm_data;
	size_t shm_size;
	/* parts of the mirror that may differ from the guest's pixels */
	pixman_region32_t stale;
};

/* Per VM: tessera_guest_memory_v1 state for the current memory table
 * (gmem.c). */
struct vmd_gmem {
	bool created; /* regions exist for generation */
	uint64_t generation;
	struct tessera_guest_region_v1 *regions[VMD_MAX_GMEM_REGIONS];
	bool usable[VMD_MAX_GMEM_REGIONS];
	uint32_t buffers;
	uint64_t bytes, mappings;
};

/* Per VM: udmabuf + linux-dmabuf (udmabuf.c). */
struct vmd_udmabuf {
	bool logged; /* the first use was logged */
	uint32_t buffers; /* live */
	uint64_t bytes;
	uint64_t created, failed; /* counters */
};

/* BUFFER_CREATE; false after an error (a buffer no path can import is
 * created, failed: BUFFER_FAILED). */
bool vmd_buffer_create(struct vmd_ctx *ctx, const struct tessera_wire_buffer_create *bc);
void vmd_buffer_destroy(struct vmd_buffer *buffer);
/* The buffer shows a host-rendered image (its resource's host_storage),
 * read back into a wl_shm mirror at each commit or exported. */
bool vmd_buffer_host_rendered(const struct vmd_buffer *buffer);
/* Prepares buffer for being attached to surface by a commit: recreates a
 * stale import, copies damage into a wl_shm mirror. Returns the wl_buffer
 * to attach (NULL: show nothing). */
struct wl_buffer *vmd_buffer_prepare_commit(struct vmd_buffer *buffer,
	struct vmd_surface *surface, const struct tessera_wire_commit *commit);
/* The buffer is now shown by a commit: busy until released. */
void vmd_buffer_mark_busy(struct vmd_buffer *buffer);
/* Writes BUFFER_RELEASE for a busy buffer. */
void vmd_buffer_release(struct vmd_buffer *buffer);
/* The surface shows no buffer now: its mirrors' contents no longer match
 * what is shown, the next damage is relative to nothing. */
void vmd_surface_mirrors_stale(struct vmd_surface *surface);
/* The memory table changed or the session ends: the regions handed to
 * the compositor go. */
void vmd_session_gmem_reset(struct vmd_session *session);

#endif
