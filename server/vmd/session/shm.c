/*
 * Buffers copied through wl_shm (a compositor without the zero-copy ways,
 * or with them disabled): a mirror per buffer, into which only the damaged
 * rectangles are copied (plus what other commits on the same surface
 * damaged since the mirror was last brought up to date). See import.h.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "context.h"
#include "import.h"
#include "surface.h"

/* Reads [offset, offset + len) of a resource's backing with iter, which
 * goes on from where it was for the rows of a rectangle. */
static bool resource_read(struct tessera_memory_iter *iter, uint64_t offset,
		uint8_t *dst, uint64_t len) {
	if (!tessera_memory_iter_seek(iter, offset, len)) {
		return false;
	}
	struct tessera_memory_piece piece;
	while (tessera_memory_iter_next(iter, &piece)) {
		memcpy(dst, piece.host, piece.len);
		dst += piece.len;
	}
	return tessera_memory_iter_done(iter);
}

static uint32_t shm_format(uint32_t fourcc) {
	switch (fourcc) {
	case TESSERA_WIRE_FORMAT_ARGB8888:
		return WL_SHM_FORMAT_ARGB8888;
	case TESSERA_WIRE_FORMAT_XRGB8888:
		return WL_SHM_FORMAT_XRGB8888;
	default:
		return fourcc; /* wl_shm uses the DRM fourcc for the others */
	}
}

bool vmd_shm_import(struct vmd_buffer *buffer) {
	struct vmd_session *session = buffer->ctx->session;
	struct vmd_wayland *wayland = session->wayland;
	uint32_t format = shm_format(buffer->format);
	if (wayland->shm == NULL || !vmd_wayland_has_shm_format(wayland, format) ||
			buffer->bytes > INT32_MAX) {
		return false;
	}
	size_t size = (size_t)buffer->bytes;
	int fd = memfd_create("tessera-vmd-buffer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		return false;
	}
	if (ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		return false;
	}
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	void *data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (data == MAP_FAILED) {
		close(fd);
		return false;
	}
	struct wl_shm_pool *pool = wl_shm_create_pool(wayland->shm, fd, (int32_t)size);
	buffer->wl_buffer = wl_shm_pool_create_buffer(pool, 0, (int32_t)buffer->width,
		(int32_t)buffer->height, (int32_t)buffer->stride, format);
	wl_shm_pool_destroy(pool);
	close(fd);
	vmd_buffer_listen(buffer);
	buffer->kind = VMD_BUFFER_SHM;
	buffer->shm_data = data;
	buffer->shm_size = size;
	pixman_region32_union_rect(&buffer->stale, &buffer->stale, 0, 0,
		buffer->width, buffer->height);
	return true;
}

void vmd_shm_finish(struct vmd_buffer *buffer) {
	if (buffer->shm_data != NULL) {
		munmap(buffer->shm_data, buffer->shm_size);
		buffer->shm_data = NULL;
	}
}

void vmd_shm_forget_mirror(struct vmd_surface *surface, struct vmd_buffer *buffer) {
	for (size_t i = 0; i < VMD_MAX_SURFACE_MIRRORS; i++) {
		if (surface->mirrors[i] == buffer) {
			surface->mirrors[i] = NULL;
		}
	}
}

void vmd_surface_mirrors_stale(struct vmd_surface *surface) {
	for (size_t i = 0; i < VMD_MAX_SURFACE_MIRRORS; i++) {
		struct vmd_buffer *mirror = surface->mirrors[i];
		if (mirror != NULL) {
			pixman_region32_union_rect(&mirror->stale, &mirror->stale,
				0, 0, mirror->width, mirror->height);
		}
	}
}

/* Makes buffer one of the surface's mirrors; a mirror pushed out will get
 * no more damage from this surface, so all of it becomes stale. */
static void surface_add_mirror(struct vmd_surface *surface, struct vmd_buffer *buffer) {
	for (size_t i = 0; i < VMD_MAX_SURFACE_MIRRORS; i++) {
		if (surface->mirrors[i] == buffer) {
			return;
		}
	}
	struct vmd_buffer *evicted = surface->mirrors[VMD_MAX_SURFACE_MIRRORS - 1];
	if (evicted != NULL) {
		pixman_region32_union_rect(&evicted->stale, &evicted->stale, 0, 0,
			evicted->width, evicted->height);
	}
	memmove(&surface->mirrors[1], &surface->mirrors[0],
		(VMD_MAX_SURFACE_MIRRORS - 1) * sizeof(surface->mirrors[0]));
	surface->mirrors[0] = buffer;
}

void vmd_shm_update(struct vmd_buffer *buffer, struct vmd_surface *surface,
		const struct tessera_wire_commit *commit) {
	struct vmd_session *session = buffer->ctx->session;
	pixman_region32_t damage;
	pixman_region32_init(&damage);
	if (commit->flags & TESSERA_WIRE_COMMIT_DAMAGE_ALL) {
		pixman_region32_union_rect(&damage, &damage, 0, 0,
			buffer->width, buffer->height);
	} else {
		for (uint32_t i = 0; i < commit->damage_count; i++) {
			const struct tessera_wire_rect *r = &commit->damage[i];
			pixman_region32_union_rect(&damage, &damage, r->x, r->y,
				(unsigned)r->width, (unsigned)r->height);
		}
		pixman_region32_intersect_rect(&damage, &damage, 0, 0,
			buffer->width, buffer->height);
	}
	/* what this commit changes on screen is stale in the other mirrors */
	for (size_t i = 0; i < VMD_MAX_SURFACE_MIRRORS; i++) {
		struct vmd_buffer *mirror = surface->mirrors[i];
		if (mirror != NULL && mirror != buffer) {
			pixman_region32_union(&mirror->stale, &mirror->stale, &damage);
			pixman_region32_intersect_rect(&mirror->stale, &mirror->stale, 0, 0,
				mirror->width, mirror->height);
		}
	}
	surface_add_mirror(surface, buffer);

	pixman_region32_union(&damage, &damage, &buffer->stale);
	const struct vmd_resource *res = vmd_buffer_backing(buffer);
	if (res == NULL) {
		/* nothing to read from: the mirror keeps its last pixels */
		pixman_region32_fini(&damage);
		return;
	}
	struct tessera_memory_iter iter;
	tessera_memory_iter_init(&iter, res->mappings, res->n_extents);
	int n_rects;
	const pixman_box32_t *rects = pixman_region32_rectangles(&damage, &n_rects);
	uint64_t copied = 0;
	for (int i = 0; i < n_rects; i++) {
		const pixman_box32_t *box = &rects[i];
		if (res->host_storage) {
			/* from the host's image straight into the shm buffer */
			uint32_t w = (uint32_t)(box->x2 - box->x1), h = (uint32_t)(box->y2 - box->y1);
			if (buffer->offset == 0 && session->device->read_back != NULL &&
					session->device->read_back(session->device_data, res,
						(uint32_t)box->x1, (uint32_t)box->y1, w, h,
						buffer->stride, buffer->shm_data,
						(size_t)buffer->stride * buffer->height)) {
				copied += (uint64_t)w * h * 4;
			}
			continue;
		}
		uint64_t x = (uint64_t)box->x1 * 4, w = (uint64_t)(box->x2 - box->x1) * 4;
		for (int32_t y = box->y1; y < box->y2; y++) {
			uint64_t row = (uint64_t)y * buffer->stride + x;
			if (!resource_read(&iter, buffer->offset + row,
					buffer->shm_data + row, w)) {
				break;
			}
			copied += w;
		}
	}
	session->stats.bytes_copied += copied;
	pixman_region32_clear(&buffer->stale);
	pixman_region32_fini(&damage);
}
