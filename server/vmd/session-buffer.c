/*
 * Guest buffers (PROTOCOL.md §6.3, §10) on the compositor:
 *
 *   0. udmabuf + linux-dmabuf (zero copy, session-udmabuf.c) when
 *      /dev/udmabuf exists and the compositor offers the format;
 *   1. tessera_guest_memory_v1 (zero copy): the guest RAM regions of the
 *      memory table are handed over once per table generation, then each
 *      buffer is a list of guest-physical extents the compositor maps;
 *   2. wl_shm (a compositor without it, or disabled): a mirror per buffer,
 *      into which only the damaged rectangles are copied (plus what other
 *      commits on the same surface damaged since the mirror was last
 *      brought up to date);
 *   3. neither possible: BUFFER_FAILED, commits show nothing.
 *
 * Each path that fails for a buffer falls back to the next one.
 *
 * Also here: access to guest memory through a resource's extents (scatter
 * read/write, contiguous mapping of an area such as the event ring).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "session-private.h"
#include "tessera-guest-memory-v1-client-protocol.h"

static uint64_t page_size(void) {
	static uint64_t size;
	if (size == 0) {
		long v = sysconf(_SC_PAGESIZE);
		size = v > 0 ? (uint64_t)v : 4096;
	}
	return size;
}

/* --- guest memory access through a resource --- */

bool vmd_resource_write(const struct vmd_resource *res, uint64_t offset,
		const void *src, size_t len) {
	uint64_t end;
	if (__builtin_add_overflow(offset, len, &end) || end > res->size) {
		return false;
	}
	struct tessera_memory_iter iter;
	tessera_memory_iter_init(&iter, res->mappings, res->n_extents);
	tessera_memory_iter_seek(&iter, offset, len);
	const uint8_t *from = src;
	struct tessera_memory_piece piece;
	while (tessera_memory_iter_next(&iter, &piece)) {
		memcpy(piece.host, from, piece.len);
		from += piece.len;
	}
	return tessera_memory_iter_done(&iter);
}

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

/* --- contiguous mapping of an area --- */

void vmd_area_unmap(struct vmd_area_map *map) {
	if (map->base != NULL) {
		munmap(map->base, map->size);
	}
	*map = (struct vmd_area_map){0};
}

bool vmd_area_map(const struct vmd_resource *res, uint64_t offset, uint64_t size,
		struct vmd_area_map *map, const char **why) {
	*map = (struct vmd_area_map){0};
	uint64_t end;
	if (size == 0 || __builtin_add_overflow(offset, size, &end) || end > res->size) {
		*why = "outside the resource";
		return false;
	}
	const uint64_t page = page_size();
	/* the area's runs of guest memory files: every boundary between two
	 * must fall on a page boundary, in the area and in the files, for
	 * one contiguous mapping */
	struct tessera_memory_iter iter;
	tessera_memory_iter_init(&iter, res->mappings, res->n_extents);
	tessera_memory_iter_seek(&iter, offset, size);
	struct tessera_memory_piece run;
	uint64_t lead = 0, pos = 0;
	bool first = true, aligned = true;
	while (tessera_memory_iter_next_run(&iter, &run)) {
		if (first) {
			lead = run.fd_offset % page;
			pos = lead;
		} else if (pos % page != 0 || run.fd_offset % page != 0) {
			aligned = false;
		}
		pos += run.len;
		first = false;
	}
	if (!tessera_memory_iter_done(&iter)) {
		*why = "outside the resource";
		return false;
	}
	if (!aligned) {
		*why = "its pages are not page-aligned in guest memory";
		return false;
	}
	size_t total = (size_t)((lead + size + page - 1) / page * page);
	uint8_t *base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		*why = "out of address space";
		return false;
	}
	tessera_memory_iter_seek(&iter, offset, size);
	pos = 0;
	first = true;
	while (tessera_memory_iter_next_run(&iter, &run)) {
		uint64_t file_off = run.fd_offset - (first ? lead : 0);
		uint64_t len = run.len + (first ? lead : 0);
		uint64_t map_len = (len + page - 1) / page * page;
		if (pos + map_len > total) {
			map_len = total - pos;
		}
		void *p = mmap(base + pos, map_len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_FIXED, run.fd, (off_t)file_off);
		if (p == MAP_FAILED) {
			munmap(base, total);
			*why = "mmap of guest memory failed";
			return false;
		}
		pos += len;
		first = false;
	}
	map->base = base;
	map->size = total;
	map->ptr = base + lead;
	return true;
}

/* --- release --- */

void vmd_buffer_mark_busy(struct vmd_buffer *buffer) {
	buffer->busy = true;
}

void vmd_buffer_release(struct vmd_buffer *buffer) {
	if (!buffer->busy) {
		return;
	}
	buffer->busy = false;
	struct vmd_session *session = buffer->ctx->session;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_BUFFER_RELEASE,
		.buffer_release = {
			.buffer = buffer->id,
			.release_point = ++session->release_point,
		},
	};
	session->stats.releases++;
	vmd_ctx_emit(buffer->ctx, &event);
}

static void buffer_handle_release(void *data, struct wl_buffer *wl_buffer) {
	struct vmd_buffer *buffer = data;
	vmd_buffer_release(buffer);
}

static const struct wl_buffer_listener buffer_listener = {
	.release = buffer_handle_release,
};

void vmd_buffer_listen(struct vmd_buffer *buffer) {
	wl_buffer_add_listener(buffer->wl_buffer, &buffer_listener, buffer);
}

/* --- tessera_guest_memory_v1 --- */

void vmd_session_gmem_reset(struct vmd_session *session) {
	for (size_t i = 0; i < VMD_MAX_GMEM_REGIONS; i++) {
		if (session->gmem.regions[i] != NULL) {
			tessera_guest_region_v1_destroy(session->gmem.regions[i]);
			session->gmem.regions[i] = NULL;
		}
		session->gmem.usable[i] = false;
	}
	session->gmem.created = false;
}

/* Hands the compositor the regions of the current memory table, once per
 * generation. Regions it would refuse (not sealed against shrinking,
 * misaligned) are skipped: buffers in them are copied instead. */
static bool gmem_ensure_regions(struct vmd_session *session) {
	struct vmd_wayland *wayland = session->wayland;
	struct tessera_memory_table *mem = vmd_session_memory(session);
	if (wayland->guest_memory == NULL || mem == NULL) {
		return false;
	}
	if (session->gmem.created && session->gmem.generation == mem->generation) {
		return true;
	}
	vmd_session_gmem_reset(session);
	const uint64_t page = page_size();
	size_t usable = 0;
	for (size_t i = 0; i < mem->nregions && i < VMD_MAX_GMEM_REGIONS; i++) {
		const struct tessera_memory_region *r = &mem->regions[i];
		uint64_t end;
		if (r->seals < 0 || !(r->seals & F_SEAL_SHRINK)) {
			vmd_session_log(session, TESSERA_INFO, "guest memory region %zu is not "
				"a memfd sealed against shrinking: its buffers are copied", i);
			continue;
		}
		if (r->gpa % page != 0 || r->size % page != 0 || r->mmap_offset % page != 0 ||
				r->size == 0 || r->size > TESSERA_MEMORY_TABLE_MAX_REGION_SIZE ||
				__builtin_add_overflow(r->gpa, r->size, &end) ||
				r->mmap_offset + r->size > (UINT64_C(1) << 63) - 1) {
			vmd_session_log(session, TESSERA_INFO, "guest memory region %zu is not "
				"page-aligned: its buffers are copied", i);
			continue;
		}
		session->gmem.regions[i] = tessera_guest_memory_v1_create_region(
			wayland->guest_memory, r->fd,
			(uint32_t)(r->gpa >> 32), (uint32_t)r->gpa,
			(uint32_t)(r->size >> 32), (uint32_t)r->size,
			(uint32_t)(r->mmap_offset >> 32), (uint32_t)r->mmap_offset);
		session->gmem.usable[i] = true;
		usable++;
	}
	session->gmem.created = true;
	session->gmem.generation = mem->generation;
	vmd_session_log(session, TESSERA_DEBUG, "guest memory: %zu of %zu regions handed "
		"to the compositor (generation %llu)", usable, mem->nregions,
		(unsigned long long)mem->generation);
	return true;
}

struct gmem_extent {
	uint64_t gpa, len;
	uint32_t region;
};

/* The extents of the buffer's bytes in guest-physical space, page-aligned
 * as tessera_guest_memory_v1 wants them; false if they cannot be. */
static bool gmem_extents(struct vmd_session *session, const struct vmd_buffer *buffer,
		const struct vmd_resource *res, struct gmem_extent **out, size_t *n_out,
		uint32_t *first_offset) {
	const uint64_t page = page_size();
	struct gmem_extent *ext = NULL;
	size_t n = 0, cap = 0;
	*first_offset = 0;
	/* a run of one region's file is a run of its guest-physical space */
	struct tessera_memory_iter iter;
	tessera_memory_iter_init(&iter, res->mappings, res->n_extents);
	bool ok = tessera_memory_iter_seek(&iter, buffer->offset, buffer->bytes);
	struct tessera_memory_piece run;
	while (ok && tessera_memory_iter_next_run(&iter, &run)) {
		uint64_t gpa, len = run.len;
		if (__builtin_add_overflow(res->extents[run.index].gpa, run.offset, &gpa) ||
				run.region >= VMD_MAX_GMEM_REGIONS ||
				!session->gmem.usable[run.region]) {
			ok = false;
			break;
		}
		if (n == 0) {
			uint64_t lead = gpa % page;
			if (lead % 4 != 0) {
				ok = false;
				break;
			}
			*first_offset = (uint32_t)lead;
			gpa -= lead;
			len += lead;
		} else if (ext[n - 1].len % page != 0 || gpa % page != 0) {
			ok = false;
			break;
		}
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			struct gmem_extent *p = realloc(ext, cap * sizeof(*p));
			if (p == NULL) {
				ok = false;
				break;
			}
			ext = p;
		}
		ext[n++] = (struct gmem_extent){ gpa, len, run.region };
	}
	if (!ok || !tessera_memory_iter_done(&iter) || n == 0 ||
			n > TESSERA_MEMORY_TABLE_MAX_EXTENTS) {
		free(ext);
		return false;
	}
	*out = ext;
	*n_out = n;
	return true;
}

static void gmem_release_budget(struct vmd_buffer *buffer) {
	struct vmd_session *session = buffer->ctx->session;
	if (buffer->gmem_mappings == 0) {
		return;
	}
	session->gmem.buffers--;
	session->gmem.bytes -= buffer->gmem_bytes;
	session->gmem.mappings -= buffer->gmem_mappings;
	buffer->gmem_bytes = 0;
	buffer->gmem_mappings = 0;
}

static bool gmem_import(struct vmd_buffer *buffer, const struct vmd_resource *res) {
	struct vmd_session *session = buffer->ctx->session;
	if (buffer->width > VMD_GMEM_MAX_DIMENSION || buffer->height > VMD_GMEM_MAX_DIMENSION ||
			buffer->stride > VMD_GMEM_MAX_STRIDE || !gmem_ensure_regions(session)) {
		return false;
	}
	struct gmem_extent *ext;
	size_t n;
	uint32_t offset;
	if (!gmem_extents(session, buffer, res, &ext, &n, &offset)) {
		return false;
	}
	const uint64_t page = page_size();
	uint64_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		bytes += (ext[i].len + page - 1) / page * page;
	}
	/* Keep to three quarters of what the compositor allows (its budget
	 * event): it frees destroyed buffers a little after we do. */
	const struct vmd_wayland *w = session->wayland;
	uint64_t max_buffers = VMD_GMEM_MAX_BUFFERS, max_mappings = VMD_GMEM_MAX_MAPPINGS,
		max_bytes = VMD_GMEM_MAX_BYTES;
	if (w->guest_memory_budget.max_buffers > 0) {
		max_buffers = w->guest_memory_budget.max_buffers / 4 * 3;
		max_mappings = w->guest_memory_budget.max_mappings / 4 * 3;
		max_bytes = w->guest_memory_budget.max_bytes / 4 * 3;
	}
	if (bytes > VMD_GMEM_MAX_BUFFER_BYTES ||
			session->gmem.buffers + 1 > max_buffers ||
			session->gmem.bytes + bytes > max_bytes ||
			session->gmem.mappings + n > max_mappings) {
		free(ext);
		return false;
	}
	struct tessera_guest_buffer_params_v1 *params =
		tessera_guest_memory_v1_create_params(session->wayland->guest_memory);
	for (size_t i = 0; i < n; i += VMD_GMEM_EXTENTS_PER_REQUEST) {
		size_t count = n - i < VMD_GMEM_EXTENTS_PER_REQUEST ?
			n - i : VMD_GMEM_EXTENTS_PER_REQUEST;
		uint64_t pairs[2 * VMD_GMEM_EXTENTS_PER_REQUEST];
		for (size_t j = 0; j < count; j++) {
			pairs[2 * j] = ext[i + j].gpa;
			pairs[2 * j + 1] = ext[i + j].len;
		}
		struct wl_array array = {
			.size = count * 2 * sizeof(uint64_t),
			.alloc = 0,
			.data = pairs,
		};
		tessera_guest_buffer_params_v1_add_extents(params, &array);
	}
	free(ext);
	buffer->wl_buffer = tessera_guest_buffer_params_v1_create(params,
		(int32_t)buffer->width, (int32_t)buffer->height, (int32_t)buffer->stride,
		buffer->format, offset + (uint32_t)0);
	tessera_guest_buffer_params_v1_destroy(params);
	wl_buffer_add_listener(buffer->wl_buffer, &buffer_listener, buffer);
	buffer->kind = VMD_BUFFER_GMEM;
	buffer->gmem_generation = session->gmem.generation;
	buffer->gmem_bytes = bytes;
	buffer->gmem_mappings = n;
	session->gmem.buffers++;
	session->gmem.bytes += bytes;
	session->gmem.mappings += n;
	return true;
}

/* The buffer's resource if the guest still has it and the buffer still
 * fits in it, else NULL: nothing to read or import from. */
static const struct vmd_resource *buffer_backing(const struct vmd_buffer *buffer) {
	if (buffer->resource_gone) {
		return NULL;
	}
	const struct vmd_resource *res = vmd_session_get_resource(buffer->ctx->session,
		buffer->resource);
	struct tessera_wire_buffer_create bc = {
		.buffer = buffer->id, .resource = buffer->resource,
		.format = buffer->format, .width = buffer->width, .height = buffer->height,
		.stride = buffer->stride, .offset = buffer->offset,
	};
	if (res == NULL || tessera_wire_check_buffer(&bc, res->size, NULL) !=
			TESSERA_WIRE_ERROR_NONE) {
		return NULL;
	}
	return res;
}

/* --- wl_shm mirrors --- */

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

static bool shm_import(struct vmd_buffer *buffer) {
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
	wl_buffer_add_listener(buffer->wl_buffer, &buffer_listener, buffer);
	buffer->kind = VMD_BUFFER_SHM;
	buffer->shm_data = data;
	buffer->shm_size = size;
	pixman_region32_union_rect(&buffer->stale, &buffer->stale, 0, 0,
		buffer->width, buffer->height);
	return true;
}

static void shm_finish(struct vmd_buffer *buffer) {
	if (buffer->shm_data != NULL) {
		munmap(buffer->shm_data, buffer->shm_size);
		buffer->shm_data = NULL;
	}
}

void vmd_surface_forget_mirror(struct vmd_surface *surface, struct vmd_buffer *buffer) {
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

static void shm_update(struct vmd_buffer *buffer, struct vmd_surface *surface,
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
	const struct vmd_resource *res = buffer_backing(buffer);
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

/* --- buffers --- */

static void import(struct vmd_buffer *buffer, const struct vmd_resource *res) {
	struct vmd_session *session = buffer->ctx->session;
	if (res != NULL && vmd_udmabuf_import(buffer, res)) {
		return;
	}
	if (res != NULL && gmem_import(buffer, res)) {
		session->stats.buffers_guest_memory++;
		return;
	}
	if (shm_import(buffer)) {
		session->stats.buffers_shm++;
		return;
	}
	buffer->kind = VMD_BUFFER_FAILED;
	session->stats.buffers_failed++;
	vmd_ctx_error(buffer->ctx, TESSERA_WIRE_ERROR_BUFFER_FAILED, buffer->id,
		"BUFFER_CREATE", "the compositor cannot show a %ux%u buffer of format "
		"0x%08x", buffer->width, buffer->height, buffer->format);
}

bool vmd_buffer_create(struct vmd_ctx *ctx, const struct tessera_wire_buffer_create *bc) {
	struct vmd_session *session = ctx->session;
	if (bc->buffer <= ctx->last_buffer_id) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ID_REUSE, bc->buffer,
			"BUFFER_CREATE.buffer", "id %u not above the last buffer id %u",
			bc->buffer, ctx->last_buffer_id);
		return false;
	}
	const struct vmd_resource *res = vmd_session_get_resource(session, bc->resource);
	if (res == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_RESOURCE, bc->buffer,
			"BUFFER_CREATE.resource", "resource %u does not exist or has no backing",
			bc->resource);
		return false;
	}
	struct tessera_wire_error err = {0};
	if (tessera_wire_check_buffer(bc, res->size, &err) != TESSERA_WIRE_ERROR_NONE) {
		vmd_ctx_error(ctx, err.code, bc->buffer, err.field, "%s (resource %u has "
			"%llu bytes)", err.reason, bc->resource, (unsigned long long)res->size);
		return false;
	}
	uint64_t bytes = (uint64_t)bc->stride * bc->height;
	if (session->n_buffers >= session->limits.max_buffers) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_LIMIT, bc->buffer, "BUFFER_CREATE",
			"the VM's limit of %llu buffers (max_buffers) is reached",
			(unsigned long long)session->limits.max_buffers);
		return false;
	}
	if (bytes > session->limits.max_buffer_bytes - session->buffer_bytes) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_LIMIT, bc->buffer, "BUFFER_CREATE",
			"the VM's limit of %llu bytes of buffers (max_buffer_bytes) would "
			"be exceeded", (unsigned long long)session->limits.max_buffer_bytes);
		return false;
	}
	struct vmd_buffer *buffer = calloc(1, sizeof(*buffer));
	if (buffer == NULL || !vmd_id_map_add(&ctx->buffers, bc->buffer, buffer)) {
		free(buffer);
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_HOST, bc->buffer, "BUFFER_CREATE",
			"out of memory");
		return false;
	}
	buffer->ctx = ctx;
	buffer->id = bc->buffer;
	buffer->resource = bc->resource;
	buffer->format = bc->format;
	buffer->width = bc->width;
	buffer->height = bc->height;
	buffer->stride = bc->stride;
	buffer->offset = bc->offset;
	buffer->bytes = bytes;
	buffer->shm_fd = -1;
	pixman_region32_init(&buffer->stale);
	wl_list_insert(ctx->buffer_list.prev, &buffer->link);
	ctx->last_buffer_id = bc->buffer;
	session->n_buffers++;
	session->buffer_bytes += bytes;
	import(buffer, res);
	return true;
}

/* A zero-copy import pins the pages of the memory table it was made from
 * (generation): after a table change it is made again from the new one,
 * and a busy period continues with the new wl_buffer. */
static void reimport_if_stale(struct vmd_buffer *buffer, uint64_t generation,
		void (*release_budget)(struct vmd_buffer *buffer)) {
	struct tessera_memory_table *mem = vmd_session_memory(buffer->ctx->session);
	const struct vmd_resource *res = buffer_backing(buffer);
	if (mem == NULL || mem->generation == generation || res == NULL) {
		return;
	}
	wl_buffer_destroy(buffer->wl_buffer);
	buffer->wl_buffer = NULL;
	release_budget(buffer);
	import(buffer, res);
}

struct wl_buffer *vmd_buffer_prepare_commit(struct vmd_buffer *buffer,
		struct vmd_surface *surface, const struct tessera_wire_commit *commit) {
	struct vmd_session *session = buffer->ctx->session;
	if (buffer->kind == VMD_BUFFER_GMEM && (!session->gmem.created ||
			buffer->gmem_generation != session->gmem.generation)) {
		reimport_if_stale(buffer, buffer->gmem_generation, gmem_release_budget);
	}
	if (buffer->kind == VMD_BUFFER_UDMABUF) {
		reimport_if_stale(buffer, buffer->udmabuf_generation,
			vmd_udmabuf_release_budget);
	}
	switch (buffer->kind) {
	case VMD_BUFFER_UDMABUF:
	case VMD_BUFFER_GMEM:
		return buffer->wl_buffer;
	case VMD_BUFFER_SHM:
		shm_update(buffer, surface, commit);
		return buffer->wl_buffer;
	case VMD_BUFFER_FAILED:
		break;
	}
	return NULL;
}

void vmd_buffer_destroy(struct vmd_buffer *buffer) {
	struct vmd_ctx *ctx = buffer->ctx;
	struct vmd_session *session = ctx->session;
	struct vmd_surface *surface;
	wl_list_for_each(surface, &ctx->surface_list, link) {
		vmd_surface_forget_mirror(surface, buffer);
		if (surface->buffer == buffer) {
			surface->buffer = NULL;
		}
	}
	vmd_ctx_purge_backlog(ctx, false, buffer->id);
	if (buffer->wl_buffer != NULL) {
		wl_buffer_destroy(buffer->wl_buffer);
	}
	gmem_release_budget(buffer);
	vmd_udmabuf_release_budget(buffer);
	shm_finish(buffer);
	pixman_region32_fini(&buffer->stale);
	vmd_id_map_remove(&ctx->buffers, buffer->id);
	wl_list_remove(&buffer->link);
	session->n_buffers--;
	session->buffer_bytes -= buffer->bytes;
	free(buffer);
}
