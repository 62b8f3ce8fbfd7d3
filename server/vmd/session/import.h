/*
 * Inside the buffers part: the ways a buffer reaches the compositor,
 * tried in this order by buffer.c (each that fails for a buffer falls back
 * to the next one):
 *
 *   -. a host-rendered image (virgl) exported by the device as a dmabuf,
 *      through linux-dmabuf (zero copy, udmabuf.c), else wl_shm with the
 *      image read back at each commit;
 *   0. udmabuf + linux-dmabuf (zero copy, udmabuf.c) when /dev/udmabuf
 *      exists and the compositor offers the format;
 *   1. tessera_guest_memory_v1 (zero copy, gmem.c): the guest RAM regions
 *      of the memory table are handed over once per table generation,
 *      then each buffer is a list of guest-physical extents the compositor
 *      maps;
 *   2. wl_shm (shm.c; a compositor without the above, or disabled): a
 *      mirror per buffer, into which only the damaged rectangles are
 *      copied (plus what other commits on the same surface damaged since
 *      the mirror was last brought up to date);
 *   3. none possible: BUFFER_FAILED, commits show nothing.
 */
#ifndef TESSERA_VMD_SESSION_IMPORT_H
#define TESSERA_VMD_SESSION_IMPORT_H

#include <stdbool.h>

#include "buffer.h"
#include "session.h"

/* --- buffer.c --- */

/* Sets the wl_buffer listener (releases). */
void vmd_buffer_listen(struct vmd_buffer *buffer);
/* The buffer's resource if the guest still has it and the buffer still
 * fits in it, else NULL: nothing to read or import from. */
const struct vmd_resource *vmd_buffer_backing(const struct vmd_buffer *buffer);

/* --- udmabuf.c --- */

/* Makes buffer a udmabuf over the guest RAM memfds and a linux-dmabuf
 * wl_buffer (create_immed); false (nothing changed) if that is not
 * possible: no /dev/udmabuf, no linux-dmabuf with the format, extents not
 * page-aligned, limits, or the kernel refused. */
bool vmd_udmabuf_import(struct vmd_buffer *buffer, const struct vmd_resource *res);
/* The buffer's wl_buffer is gone: its budget is free again. */
void vmd_udmabuf_release_budget(struct vmd_buffer *buffer);

/* A linux-dmabuf wl_buffer of a host-rendered image the device exports
 * (session.h, export_dmabuf): zero copy; false (nothing changed) if the
 * device or the compositor cannot. In udmabuf.c (the same linux-dmabuf
 * checks). */
bool vmd_host_dmabuf_import(struct vmd_buffer *buffer, const struct vmd_resource *res);

/* --- gmem.c --- */

/* A tessera_guest_memory_v1 wl_buffer over the buffer's guest pages;
 * false (nothing changed) if not possible. */
bool vmd_gmem_import(struct vmd_buffer *buffer, const struct vmd_resource *res);
void vmd_gmem_release_budget(struct vmd_buffer *buffer);

/* --- shm.c --- */

/* A wl_shm mirror of the buffer; false if the compositor cannot take it. */
bool vmd_shm_import(struct vmd_buffer *buffer);
/* Copies what the commit damaged (and what is stale) into the mirror. */
void vmd_shm_update(struct vmd_buffer *buffer, struct vmd_surface *surface,
	const struct tessera_wire_commit *commit);
void vmd_shm_finish(struct vmd_buffer *buffer);
/* The surface forgets a buffer as a mirror (the buffer goes). */
void vmd_shm_forget_mirror(struct vmd_surface *surface, struct vmd_buffer *buffer);

#endif
