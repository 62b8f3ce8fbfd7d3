/*
 * tessera_guest_memory_v1: wl_buffers whose pixels live in guest RAM.
 *
 * A VM daemon registers the guest's RAM as regions (memfd + guest-physical
 * base), then describes each buffer as a list of guest-physical extents. We
 * reserve one address range per buffer (mmap PROT_NONE), map every run of
 * adjacent extents over it with MAP_FIXED | MAP_SHARED, read-only, and hand
 * wlroots a wlr_buffer whose data pointer is that range.
 *
 * Zero copy, as checked in the wlroots 0.15.1 sources (Debian's
 * wlroots_0.15.1 source package):
 *
 * - wl_surface.attach calls wlr_buffer_from_resource() (types/wlr_surface.c),
 *   which, for a wl_buffer that is neither wl_shm, linux-dmabuf nor wl_drm,
 *   asks the interfaces registered with wlr_buffer_register_resource_interface
 *   (types/wlr_buffer.c) and locks the wlr_buffer ours returns.
 * - On commit, surface_apply_damage() first tries
 *   wlr_client_buffer_apply_damage() on the previous wlr_client_buffer. That
 *   only works when the previous buffer came from wl_shm AND the texture has
 *   write_pixels; the pixman texture has no write_pixels, so it always fails
 *   under pixman (it may call our begin_data_ptr_access to compare formats,
 *   which copies nothing). Then wlr_client_buffer_create() calls
 *   wlr_texture_from_buffer() -> pixman_texture_from_buffer()
 *   (render/pixman/renderer.c): begin_data_ptr_access(READ), then
 *   pixman_image_create_bits_no_clear() over OUR pointer (pixman wraps the
 *   memory, it does not copy it), and the texture keeps a lock on our
 *   wlr_buffer (texture->buffer = wlr_buffer_lock(buffer)). No pixel copy.
 * - Every repaint, pixman_render_subtexture_with_matrix() calls
 *   begin_data_ptr_access(READ) on texture->buffer again (re-creating the
 *   image if the pointer changed) and composites straight from our mapping.
 *   So pixels the guest writes into the same pages show up on the next
 *   repaint after damage is committed, with or without a new attach.
 *   wlr_scene 0.15 renders a surface with wlr_surface_get_texture(), i.e.
 *   that texture.
 * - Release: our wlr_buffer is locked by the pending/current surface state
 *   while committing and by the pixman texture of the surface's
 *   wlr_client_buffer afterwards. When the next commit replaces the client
 *   buffer (or the surface goes away), the old client buffer is unlocked and
 *   destroyed, its texture unlocks us, n_locks reaches 0 and wlroots emits
 *   wlr_buffer.events.release: that is when we send wl_buffer.release.
 *   Re-attaching the same wl_buffer never drops n_locks to 0 in between, so
 *   no release is sent for it (as with wl_shm). On direct scan-out (not
 *   possible with our buffers: they have no dmabuf) the output would hold
 *   the client buffer until the next page flip.
 * - With a GPU renderer (GLES2), gles2_texture_from_buffer() uploads the
 *   data-pointer buffer with glTexImage2D on every commit: that copy happens
 *   inside wlroots, not here; the global still works but is not zero copy.
 *   We log which case applies when the global is created.
 *
 * Lifetimes: a region keeps its fd open while its object lives. A buffer's
 * mapping holds its own reference to the memfd (the kernel keeps the file
 * alive for every mapping), so destroying a region while buffers still map
 * it is fine: those buffers keep showing (and following) the guest's pages;
 * only new buffers can no longer use the region. A buffer is unmapped when
 * its wl_buffer is gone AND wlroots has released it. Everything a client
 * owns goes with its connection. Per-client state (budgets, regions, VM
 * name for the log) is reference-counted by the client and by every object,
 * so whichever goes last frees it.
 *
 * SIGBUS: region fds must be memfds sealed with F_SEAL_SHRINK and at least
 * offset + size long, so no page of a mapping can ever lie beyond the end
 * of its file.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <drm_fourcc.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wayland-server-protocol.h>
#include <wlr/render/pixman.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_buffer.h>

#include "config.h"
#include "guest-memory.h"
#include "client-buffer.h"
#include "log.h"
#include "server.h"
#include "tessera-guest-memory-v1-protocol.h"
#include "vm.h"

#define GMEM_VERSION 1
#define GMEM_EXTENT_SIZE 16 /* u64 gpa + u64 length */

struct tessera_guest_memory {
	struct tessera_server *server;
	struct wl_global *global;
	struct wl_listener display_destroy;
	uint64_t page_size;
	int refs; /* the display + one per gmem_client */
	struct tessera_guest_memory_stats stats;
};

/* What one client (one Wayland connection) has. */
struct gmem_client {
	struct tessera_guest_memory *gm;
	struct wl_client *client; /* NULL once the connection is gone */
	struct wl_listener client_destroy;
	char name[TESSERA_VM_NAME_MAX + 32]; /* for the log: "vm 'NAME'" */
	int refs; /* the connection + one per object */
	struct wl_list regions; /* gmem_region.link */
	size_t region_count;
	size_t params_count;
	size_t live_buffers;
	uint64_t bytes_mapped;
	uint64_t mappings;
	uint64_t max_mappings; /* this client's share, see client_max_mappings */
};

struct gmem_region {
	struct wl_resource *resource;
	struct gmem_client *owner;
	struct wl_list link;
	int fd;
	uint64_t base, size, offset;
};

struct gmem_extent {
	uint64_t gpa, length;
};

struct gmem_params {
	struct wl_resource *resource;
	struct gmem_client *owner;
	struct gmem_extent *extents;
	size_t count, capacity;
	uint64_t total; /* sum of the lengths */
	bool used;
};

struct gmem_buffer {
	struct tessera_client_buffer client; /* first: wlr_buffer + wl_buffer */
	struct gmem_client *owner;
	uint8_t *map;
	size_t map_len;
	size_t mappings;
	uint32_t format;
	size_t stride, offset;
	uint64_t accesses; /* data pointer requests from the renderer */
};

static const struct tessera_guest_memory_v1_interface manager_impl;
static const struct tessera_guest_region_v1_interface region_impl;
static const struct tessera_guest_buffer_params_v1_interface params_impl;
static const struct wlr_buffer_impl buffer_impl;

static void gm_unref(struct tessera_guest_memory *gm) {
	assert(gm->refs > 0);
	if (--gm->refs > 0) {
		return;
	}
	free(gm);
}

static void log_stats(struct tessera_guest_memory *gm, const char *why) {
	const struct tessera_guest_memory_stats *s = &gm->stats;
	tessera_log(TESSERA_DEBUG, "guest memory (%s): %zu live buffers, %zu regions, %" PRIu64
		" bytes mapped in %" PRIu64 " mappings, %" PRIu64 " bytes copied, %" PRIu64
		" buffers created", why, s->live_buffers, s->live_regions, s->bytes_mapped,
		s->mappings, s->bytes_copied, s->buffers_created);
}

/* Per-client state */

static void gmem_client_unref(struct gmem_client *gc) {
	assert(gc->refs > 0);
	if (--gc->refs > 0) {
		return;
	}
	assert(wl_list_empty(&gc->regions));
	assert(gc->live_buffers == 0 && gc->bytes_mapped == 0 && gc->mappings == 0);
	struct tessera_guest_memory *gm = gc->gm;
	free(gc);
	gm_unref(gm);
}

static void gmem_client_handle_destroy(struct wl_listener *listener, void *data) {
	struct gmem_client *gc = wl_container_of(listener, gc, client_destroy);
	wl_list_remove(&gc->client_destroy.link);
	wl_list_init(&gc->client_destroy.link);
	gc->client = NULL;
	gmem_client_unref(gc);
}

/*
 * A client's share of the mappings: the process-wide limit split between
 * the configured VMs (at most the per-client limit), so that the shares
 * add up to no more than the whole and one VM cannot exhaust another's.
 */
static uint64_t client_max_mappings(const struct tessera_guest_memory *gm) {
	size_t vms = gm->server->config.vm_count;
	uint64_t share = TESSERA_GMEM_MAX_MAPPINGS / (vms > 0 ? vms : 1);
	return share < TESSERA_GMEM_MAX_CLIENT_MAPPINGS ? share : TESSERA_GMEM_MAX_CLIENT_MAPPINGS;
}

static struct gmem_client *gmem_client_get(struct tessera_guest_memory *gm,
		struct wl_client *client) {
	struct wl_listener *listener =
		wl_client_get_destroy_listener(client, gmem_client_handle_destroy);
	if (listener != NULL) {
		struct gmem_client *gc = wl_container_of(listener, gc, client_destroy);
		return gc;
	}
	struct gmem_client *gc = calloc(1, sizeof(*gc));
	if (gc == NULL) {
		return NULL;
	}
	gc->gm = gm;
	gm->refs++;
	gc->client = client;
	gc->max_mappings = client_max_mappings(gm);
	gc->refs = 1;
	wl_list_init(&gc->regions);
	struct tessera_vm *vm = tessera_vm_from_client(gm->server, client);
	if (vm != NULL) {
		snprintf(gc->name, sizeof(gc->name), "vm '%s'", vm->config->name);
	} else {
		pid_t pid = 0;
		wl_client_get_credentials(client, &pid, NULL, NULL);
		snprintf(gc->name, sizeof(gc->name), "host client pid %d", (int)pid);
	}
	gc->client_destroy.notify = gmem_client_handle_destroy;
	wl_client_add_destroy_listener(client, &gc->client_destroy);
	return gc;
}

/* Formats the message once, logs it with the client's name, posts it. */
static void post_error(struct wl_resource *resource, struct gmem_client *gc,
		uint32_t code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void post_error(struct wl_resource *resource, struct gmem_client *gc,
		uint32_t code, const char *fmt, ...) {
	char message[512];
	va_list args;
	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	tessera_log(TESSERA_ERROR, "guest memory: %s: protocol error %" PRIu32 " on %s: %s",
		gc->name, code, wl_resource_get_class(resource), message);
	wl_resource_post_error(resource, code, "%s", message);
}

static uint64_t join64(uint32_t hi, uint32_t lo) {
	return (uint64_t)hi << 32 | lo;
}

/* Regions */

static struct gmem_region *region_from_resource(struct wl_resource *resource) {
	assert(wl_resource_instance_of(resource, &tessera_guest_region_v1_interface,
		&region_impl));
	return wl_resource_get_user_data(resource);
}

static void region_handle_destroy(struct wl_client *client, struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static const struct tessera_guest_region_v1_interface region_impl = {
	.destroy = region_handle_destroy,
};

static void region_resource_destroy(struct wl_resource *resource) {
	struct gmem_region *region = region_from_resource(resource);
	struct gmem_client *gc = region->owner;
	struct tessera_guest_memory *gm = gc->gm;
	wl_list_remove(&region->link);
	close(region->fd);
	gc->region_count--;
	gm->stats.live_regions--;
	tessera_log(TESSERA_DEBUG, "guest memory: %s: region gpa 0x%" PRIx64 "+0x%" PRIx64
		" removed", gc->name, region->base, region->size);
	free(region);
	log_stats(gm, "region removed");
	gmem_client_unref(gc);
}

/* Checks the fd of a new region; on failure writes why into err. */
static bool region_fd_ok(int fd, uint64_t offset, uint64_t size, char *err, size_t err_size) {
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0) {
		snprintf(err, err_size, "region fd is not a memfd (F_GET_SEALS failed: %s); "
			"a memfd sealed with F_SEAL_SHRINK is required", strerror(errno));
		return false;
	}
	if (!(seals & F_SEAL_SHRINK)) {
		snprintf(err, err_size, "region fd lacks F_SEAL_SHRINK (seals 0x%x): "
			"the guest could shrink it under the compositor's mappings", seals);
		return false;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, err_size, "fstat of the region fd failed: %s", strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0) {
		snprintf(err, err_size, "region fd is not a regular memfd");
		return false;
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || (flags & O_ACCMODE) == O_WRONLY) {
		snprintf(err, err_size, "region fd is not open for reading");
		return false;
	}
	/* hugetlbfs files map only in whole huge pages, not per 4 KiB extent */
	struct statfs fs;
	if (fstatfs(fd, &fs) == 0 && fs.f_type == HUGETLBFS_MAGIC) {
		snprintf(err, err_size, "region fd is a hugetlbfs memfd: not supported, "
			"extents are mapped page by page");
		return false;
	}
	if ((uint64_t)st.st_size < offset + size) { /* offset + size checked before */
		snprintf(err, err_size, "region fd is %jd bytes, smaller than offset 0x%" PRIx64
			" + size 0x%" PRIx64, (intmax_t)st.st_size, offset, size);
		return false;
	}
	return true;
}

static void manager_handle_create_region(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, int32_t fd,
		uint32_t base_hi, uint32_t base_lo, uint32_t size_hi, uint32_t size_lo,
		uint32_t offset_hi, uint32_t offset_lo) {
	struct gmem_client *gc = wl_resource_get_user_data(resource);
	struct tessera_guest_memory *gm = gc->gm;
	uint64_t base = join64(base_hi, base_lo);
	uint64_t size = join64(size_hi, size_lo);
	uint64_t offset = join64(offset_hi, offset_lo);
	uint64_t page = gm->page_size;

	if (gc->region_count >= TESSERA_GMEM_MAX_REGIONS) {
		post_error(resource, gc, TESSERA_GUEST_MEMORY_V1_ERROR_TOO_MANY_REGIONS,
			"too many regions: at most %d per client", TESSERA_GMEM_MAX_REGIONS);
		goto error_fd;
	}
	if (base % page != 0 || size % page != 0 || offset % page != 0) {
		post_error(resource, gc, TESSERA_GUEST_MEMORY_V1_ERROR_BAD_REGION,
			"region base 0x%" PRIx64 ", size 0x%" PRIx64 " and offset 0x%" PRIx64
			" must be multiples of the page size 0x%" PRIx64, base, size, offset, page);
		goto error_fd;
	}
	if (size == 0 || size > TESSERA_GMEM_MAX_REGION_SIZE) {
		post_error(resource, gc, TESSERA_GUEST_MEMORY_V1_ERROR_BAD_REGION,
			"region size 0x%" PRIx64 " out of range (one page to 0x%" PRIx64 ")",
			size, TESSERA_GMEM_MAX_REGION_SIZE);
		goto error_fd;
	}
	uint64_t end;
	if (__builtin_add_overflow(base, size - 1, &end)) {
		post_error(resource, gc, TESSERA_GUEST_MEMORY_V1_ERROR_BAD_REGION,
			"region base 0x%" PRIx64 " + size 0x%" PRIx64 " overflows 64 bits", base, size);
		goto error_fd;
	}
	uint64_t file_end;
	if (__builtin_add_overflow(offset, size, &file_end) || file_end > INT64_MAX) {
		post_error(resource, gc, TESSERA_GUEST_MEMORY_V1_ERROR_BAD_REGION,
			"region offset 0x%" PRIx64 " + size 0x%" PRIx64 " exceeds the largest "
			"file offset", offset, size);
		goto error_fd;
	}
	char err[256];
	if (!region_fd_ok(fd, offset, size, err, sizeof(err))) {
		post_error(resource, gc, TESSERA_GUEST_MEMORY_V1_ERROR_BAD_FD, "%s", err);
		goto error_fd;
	}
	struct gmem_region *other;
	wl_list_for_each(other, &gc->regions, link) {
		/* inclusive ends: end = base + size - 1 cannot overflow */
		if (base <= other->base + other->size - 1 && other->base <= end) {
			post_error(resource, gc, TESSERA_GUEST_MEMORY_V1_ERROR_REGION_OVERLAP,
				"region gpa 0x%" PRIx64 "+0x%" PRIx64 " overlaps region gpa 0x%"
				PRIx64 "+0x%" PRIx64, base, size, other->base, other->size);
			goto error_fd;
		}
	}

	struct gmem_region *region = calloc(1, sizeof(*region));
	if (region == NULL) {
		wl_client_post_no_memory(client);
		goto error_fd;
	}
	region->resource = wl_resource_create(client, &tessera_guest_region_v1_interface,
		wl_resource_get_version(resource), id);
	if (region->resource == NULL) {
		free(region);
		wl_client_post_no_memory(client);
		goto error_fd;
	}
	region->owner = gc;
	region->fd = fd;
	region->base = base;
	region->size = size;
	region->offset = offset;
	gc->refs++;
	wl_resource_set_implementation(region->resource, &region_impl, region,
		region_resource_destroy);
	wl_list_insert(gc->regions.prev, &region->link);
	gc->region_count++;
	gm->stats.live_regions++;
	tessera_log(TESSERA_DEBUG, "guest memory: %s: region gpa 0x%" PRIx64 "+0x%" PRIx64
		" at fd offset 0x%" PRIx64 " added", gc->name, base, size, offset);
	log_stats(gm, "region added");
	return;

error_fd:
	close(fd);
}

/* Buffers */

static struct gmem_buffer *buffer_from_wlr(struct wlr_buffer *wlr_buffer) {
	assert(wlr_buffer->impl == &buffer_impl);
	struct gmem_buffer *buffer = wl_container_of(wlr_buffer, buffer, client.base);
	return buffer;
}

static void buffer_destroy(struct wlr_buffer *wlr_buffer) {
	struct gmem_buffer *buffer = buffer_from_wlr(wlr_buffer);
	struct gmem_client *gc = buffer->owner;
	struct tessera_guest_memory *gm = gc->gm;
	tessera_client_buffer_finish(&buffer->client);
	if (munmap(buffer->map, buffer->map_len) != 0) {
		tessera_log_errno(TESSERA_ERROR, "guest memory: %s: cannot unmap", gc->name);
	}
	gc->live_buffers--;
	gc->bytes_mapped -= buffer->map_len;
	gc->mappings -= buffer->mappings;
	gm->stats.live_buffers--;
	gm->stats.bytes_mapped -= buffer->map_len;
	gm->stats.mappings -= buffer->mappings;
	tessera_log(TESSERA_DEBUG, "guest memory: %s: buffer %dx%d unmapped (%zu bytes, read "
		"in place %" PRIu64 " times)", gc->name, buffer->client.base.width,
		buffer->client.base.height, buffer->map_len, buffer->accesses);
	free(buffer);
	log_stats(gm, "buffer destroyed");
	gmem_client_unref(gc);
}

static bool buffer_begin_data_ptr_access(struct wlr_buffer *wlr_buffer, uint32_t flags,
		void **data, uint32_t *format, size_t *stride) {
	struct gmem_buffer *buffer = buffer_from_wlr(wlr_buffer);
	if (flags & WLR_BUFFER_DATA_PTR_ACCESS_WRITE) {
		return false; /* the mapping is read-only */
	}
	buffer->accesses++;
	*data = buffer->map + buffer->offset;
	*format = buffer->format;
	*stride = buffer->stride;
	return true;
}

static void buffer_end_data_ptr_access(struct wlr_buffer *wlr_buffer) {
	/* nothing to do: the mapping stays until the buffer is destroyed */
}

static const struct wlr_buffer_impl buffer_impl = {
	.destroy = buffer_destroy,
	.begin_data_ptr_access = buffer_begin_data_ptr_access,
	.end_data_ptr_access = buffer_end_data_ptr_access,
};


/* Params */

static struct gmem_params *params_from_resource(struct wl_resource *resource) {
	assert(wl_resource_instance_of(resource, &tessera_guest_buffer_params_v1_interface,
		&params_impl));
	return wl_resource_get_user_data(resource);
}

static void params_handle_destroy(struct wl_client *client, struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static void params_resource_destroy(struct wl_resource *resource) {
	struct gmem_params *params = params_from_resource(resource);
	struct gmem_client *gc = params->owner;
	gc->params_count--;
	free(params->extents);
	free(params);
	gmem_client_unref(gc);
}

static void params_handle_add_extents(struct wl_client *client,
		struct wl_resource *resource, struct wl_array *array) {
	struct gmem_params *params = params_from_resource(resource);
	struct gmem_client *gc = params->owner;
	uint64_t page = gc->gm->page_size;

	if (params->used) {
		post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
			"add_extents after create");
		return;
	}
	if (array->size % GMEM_EXTENT_SIZE != 0) {
		post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_BAD_EXTENT,
			"extent array of %zu bytes is not a whole number of 16-byte extents",
			array->size);
		return;
	}
	size_t n = array->size / GMEM_EXTENT_SIZE;
	if (n > TESSERA_GMEM_MAX_EXTENTS - params->count) {
		post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_TOO_MANY_EXTENTS,
			"too many extents: %zu + %zu, at most %d per buffer",
			params->count, n, TESSERA_GMEM_MAX_EXTENTS);
		return;
	}
	if (params->count + n > params->capacity) {
		size_t capacity = params->capacity > 0 ? params->capacity : 64;
		while (capacity < params->count + n) {
			capacity *= 2;
		}
		if (capacity > TESSERA_GMEM_MAX_EXTENTS) {
			capacity = TESSERA_GMEM_MAX_EXTENTS;
		}
		struct gmem_extent *extents = realloc(params->extents,
			capacity * sizeof(*extents));
		if (extents == NULL) {
			wl_client_post_no_memory(client);
			return;
		}
		params->extents = extents;
		params->capacity = capacity;
	}

	const unsigned char *p = array->data;
	for (size_t i = 0; i < n; i++, p += GMEM_EXTENT_SIZE) {
		struct gmem_extent e;
		/* memcpy: the array is only 4-byte aligned in the message */
		memcpy(&e.gpa, p, sizeof(e.gpa));
		memcpy(&e.length, p + sizeof(e.gpa), sizeof(e.length));
		size_t index = params->count;
		uint64_t last;
		if (e.length == 0) {
			post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_BAD_EXTENT,
				"extent %zu (gpa 0x%" PRIx64 ") has length 0", index, e.gpa);
			return;
		}
		if (__builtin_add_overflow(e.gpa, e.length - 1, &last)) {
			post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_BAD_EXTENT,
				"extent %zu: gpa 0x%" PRIx64 " + length 0x%" PRIx64
				" overflows 64 bits", index, e.gpa, e.length);
			return;
		}
		if (e.gpa % page != 0) {
			post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_MISALIGNED_EXTENT,
				"extent %zu: gpa 0x%" PRIx64 " is not a multiple of the page "
				"size 0x%" PRIx64, index, e.gpa, page);
			return;
		}
		/* The previous extent is no longer the last one. */
		if (index > 0 && params->extents[index - 1].length % page != 0) {
			post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_MISALIGNED_EXTENT,
				"extent %zu: length 0x%" PRIx64 " is not a multiple of the page "
				"size 0x%" PRIx64 " and it is not the last extent", index - 1,
				params->extents[index - 1].length, page);
			return;
		}
		if (e.length > TESSERA_GMEM_MAX_BUFFER_BYTES - params->total) {
			post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_TOO_LARGE,
				"extent %zu (length 0x%" PRIx64 ") takes the buffer over 0x%" PRIx64
				" bytes", index, e.length, TESSERA_GMEM_MAX_BUFFER_BYTES);
			return;
		}
		params->total += e.length;
		params->extents[params->count++] = e;
	}
}

static uint64_t round_up(uint64_t value, uint64_t page) {
	/* value <= TESSERA_GMEM_MAX_BUFFER_BYTES here: cannot overflow */
	return (value + page - 1) / page * page;
}

static const char *format_name(uint32_t format) {
	switch (format) {
	case DRM_FORMAT_ARGB8888:
		return "ARGB8888";
	case DRM_FORMAT_XRGB8888:
		return "XRGB8888";
	case DRM_FORMAT_ABGR8888:
		return "ABGR8888";
	case DRM_FORMAT_XBGR8888:
		return "XBGR8888";
	default:
		return NULL;
	}
}

/* One mmap: a run of extents that are adjacent in one region. */
struct gmem_run {
	const struct gmem_region *region;
	uint64_t gpa, length; /* length rounded up to whole pages */
};

/* Checks the buffer layout against the extents; posts the error if bad. */
static bool params_check_layout(struct gmem_params *params, int32_t width,
		int32_t height, int32_t stride, uint32_t format, uint32_t offset) {
	struct wl_resource *resource = params->resource;
	struct gmem_client *gc = params->owner;
	if (format_name(format) == NULL) {
		post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_BAD_FORMAT,
			"format 0x%08" PRIx32 " is not supported (DRM fourcc ARGB8888, XRGB8888, "
			"ABGR8888 or XBGR8888; wl_shm codes are not accepted)", format);
		return false;
	}
	if (width < 1 || width > TESSERA_GMEM_MAX_DIMENSION ||
			height < 1 || height > TESSERA_GMEM_MAX_DIMENSION) {
		post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_BAD_SIZE,
			"width %" PRId32 " and height %" PRId32 " must each be 1..%d", width,
			height, TESSERA_GMEM_MAX_DIMENSION);
		return false;
	}
	/* width * 4 <= 32768: no overflow */
	if (stride < width * 4 || stride % 4 != 0 || stride > TESSERA_GMEM_MAX_STRIDE) {
		post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_BAD_STRIDE,
			"stride %" PRId32 " invalid for width %" PRId32 " (at least width * 4 = %"
			PRId32 ", a multiple of 4, at most %d)", stride, width, width * 4,
			TESSERA_GMEM_MAX_STRIDE);
		return false;
	}
	if (offset % 4 != 0) {
		post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_BAD_OFFSET,
			"offset %" PRIu32 " is not a multiple of 4", offset);
		return false;
	}
	uint64_t pixels, needed;
	if (__builtin_mul_overflow((uint64_t)stride, (uint64_t)height, &pixels) ||
			__builtin_add_overflow(pixels, (uint64_t)offset, &needed) ||
			needed > params->total) {
		post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_BUFFER_TOO_SMALL,
			"%zu extents hold 0x%" PRIx64 " bytes, fewer than offset %" PRIu32
			" + stride %" PRId32 " * height %" PRId32, params->count, params->total,
			offset, stride, height);
		return false;
	}
	return true;
}

/*
 * Finds the region of every extent and merges adjacent extents of a region
 * into runs, then checks the budgets. Returns the runs (free them) or NULL
 * after posting an error.
 */
static struct gmem_run *params_plan_runs(struct gmem_params *params,
		size_t *run_count, uint64_t *map_len) {
	struct wl_resource *resource = params->resource;
	struct gmem_client *gc = params->owner;
	struct tessera_guest_memory *gm = gc->gm;
	struct gmem_run *runs = calloc(params->count, sizeof(*runs));
	if (runs == NULL) {
		wl_resource_post_no_memory(resource);
		return NULL;
	}
	size_t count = 0;
	uint64_t total = 0;
	for (size_t i = 0; i < params->count; i++) {
		const struct gmem_extent *e = &params->extents[i];
		const struct gmem_region *found = NULL, *region;
		wl_list_for_each(region, &gc->regions, link) {
			/* size >= one page; e->length >= 1; no overflow */
			if (e->gpa >= region->base &&
					e->gpa - region->base <= region->size - 1 &&
					e->length <= region->size - (e->gpa - region->base)) {
				found = region;
				break;
			}
		}
		if (found == NULL) {
			free(runs);
			post_error(resource, gc,
				TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_EXTENT_OUTSIDE_REGIONS,
				"extent %zu (gpa 0x%" PRIx64 ", length 0x%" PRIx64 ") does not lie "
				"inside one region of this client", i, e->gpa, e->length);
			return NULL;
		}
		/* Only the last extent can be rounded up; its page is in the
		 * region because regions are page-aligned. */
		uint64_t length = round_up(e->length, gm->page_size);
		struct gmem_run *prev = count > 0 ? &runs[count - 1] : NULL;
		if (prev != NULL && prev->region == found && e->gpa - prev->gpa == prev->length) {
			prev->length += length;
		} else {
			runs[count++] = (struct gmem_run){
				.region = found, .gpa = e->gpa, .length = length,
			};
		}
		total += length;
	}

	if (gc->live_buffers >= TESSERA_GMEM_MAX_BUFFERS ||
			total > TESSERA_GMEM_MAX_CLIENT_BYTES - gc->bytes_mapped ||
			count > gc->max_mappings - gc->mappings ||
			count > TESSERA_GMEM_MAX_MAPPINGS - gm->stats.mappings) {
		free(runs);
		post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_TOO_LARGE,
			"budget exceeded by a buffer of %" PRIu64 " bytes in %zu mappings: client "
			"has %zu of %d buffers, %" PRIu64 " of %" PRIu64 " bytes, %" PRIu64
			" of %" PRIu64 " mappings; all clients %" PRIu64 " of %d mappings",
			total, count, gc->live_buffers, TESSERA_GMEM_MAX_BUFFERS,
			gc->bytes_mapped, TESSERA_GMEM_MAX_CLIENT_BYTES, gc->mappings,
			gc->max_mappings, gm->stats.mappings,
			TESSERA_GMEM_MAX_MAPPINGS);
		return NULL;
	}
	*run_count = count;
	*map_len = total;
	return runs;
}

/*
 * Reserves map_len bytes of address space, then maps each run over it,
 * read-only and shared, back to back. Returns the range or NULL with the
 * reason in err.
 */
static uint8_t *map_runs(const struct gmem_run *runs, size_t run_count,
		uint64_t map_len, char *err, size_t err_size) {
	uint8_t *map = mmap(NULL, map_len, PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		snprintf(err, err_size, "cannot reserve %" PRIu64 " bytes of address "
			"space: %s", map_len, strerror(errno));
		return NULL;
	}
	uint64_t pos = 0;
	for (size_t i = 0; i < run_count; i++) {
		const struct gmem_run *run = &runs[i];
		/* offset + size <= INT64_MAX was checked for the region */
		off_t file_offset = (off_t)(run->region->offset + (run->gpa - run->region->base));
		void *at = mmap(map + pos, run->length, PROT_READ, MAP_SHARED | MAP_FIXED,
			run->region->fd, file_offset);
		if (at == MAP_FAILED) {
			snprintf(err, err_size, "mapping %" PRIu64 " bytes at gpa 0x%" PRIx64
				" failed: %s", run->length, run->gpa, strerror(errno));
			munmap(map, map_len);
			return NULL;
		}
		pos += run->length;
	}
	assert(pos == map_len);
	return map;
}

static void params_handle_create(struct wl_client *client, struct wl_resource *resource,
		uint32_t buffer_id, int32_t width, int32_t height, int32_t stride,
		uint32_t format, uint32_t offset) {
	struct gmem_params *params = params_from_resource(resource);
	struct gmem_client *gc = params->owner;
	struct tessera_guest_memory *gm = gc->gm;

	if (params->used) {
		post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
			"create was already called on this params object");
		return;
	}
	params->used = true;
	if (!params_check_layout(params, width, height, stride, format, offset)) {
		return;
	}
	size_t run_count;
	uint64_t map_len;
	struct gmem_run *runs = params_plan_runs(params, &run_count, &map_len);
	if (runs == NULL) {
		return;
	}
	char err[256];
	uint8_t *map = map_runs(runs, run_count, map_len, err, sizeof(err));
	free(runs);
	if (map == NULL) {
		post_error(resource, gc, TESSERA_GUEST_BUFFER_PARAMS_V1_ERROR_MAP_FAILED,
			"%s", err);
		return;
	}

	struct gmem_buffer *buffer = calloc(1, sizeof(*buffer));
	if (buffer == NULL) {
		munmap(map, map_len);
		wl_client_post_no_memory(client);
		return;
	}
	tessera_client_buffer_init(&buffer->client, &buffer_impl, width, height);
	buffer->owner = gc;
	gc->refs++;
	buffer->map = map;
	buffer->map_len = map_len;
	buffer->mappings = run_count;
	buffer->format = format;
	buffer->stride = (size_t)stride;
	buffer->offset = offset;

	gc->live_buffers++;
	gc->bytes_mapped += map_len;
	gc->mappings += run_count;
	gm->stats.live_buffers++;
	gm->stats.bytes_mapped += map_len;
	gm->stats.mappings += run_count;
	gm->stats.buffers_created++;
	if (!tessera_client_buffer_add_resource(&buffer->client, client, buffer_id)) {
		/* buffer_destroy takes back what was counted above */
		wlr_buffer_drop(&buffer->client.base);
		return;
	}
	tessera_log(TESSERA_DEBUG, "guest memory: %s: buffer %" PRId32 "x%" PRId32 " %s stride %"
		PRId32 " offset %" PRIu32 ": %zu extents in %zu mappings, %" PRIu64
		" bytes mapped", gc->name, width, height, format_name(format), stride, offset,
		params->count, run_count, map_len);
	log_stats(gm, "buffer created");

	/* The extents are not needed any more. */
	free(params->extents);
	params->extents = NULL;
	params->count = params->capacity = 0;
}

static const struct tessera_guest_buffer_params_v1_interface params_impl = {
	.destroy = params_handle_destroy,
	.add_extents = params_handle_add_extents,
	.create = params_handle_create,
};

/* The global */

static void manager_handle_destroy(struct wl_client *client, struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static void manager_handle_create_params(struct wl_client *client,
		struct wl_resource *resource, uint32_t id) {
	struct gmem_client *gc = wl_resource_get_user_data(resource);
	if (gc->params_count >= TESSERA_GMEM_MAX_PARAMS) {
		post_error(resource, gc, TESSERA_GUEST_MEMORY_V1_ERROR_TOO_MANY_PARAMS,
			"too many params objects: at most %d per client", TESSERA_GMEM_MAX_PARAMS);
		return;
	}
	struct gmem_params *params = calloc(1, sizeof(*params));
	if (params == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	params->resource = wl_resource_create(client,
		&tessera_guest_buffer_params_v1_interface, wl_resource_get_version(resource), id);
	if (params->resource == NULL) {
		free(params);
		wl_client_post_no_memory(client);
		return;
	}
	params->owner = gc;
	gc->refs++;
	gc->params_count++;
	wl_resource_set_implementation(params->resource, &params_impl, params,
		params_resource_destroy);
}

static const struct tessera_guest_memory_v1_interface manager_impl = {
	.destroy = manager_handle_destroy,
	.create_region = manager_handle_create_region,
	.create_params = manager_handle_create_params,
};

static void manager_resource_destroy(struct wl_resource *resource) {
	struct gmem_client *gc = wl_resource_get_user_data(resource);
	gmem_client_unref(gc);
}

static void manager_bind(struct wl_client *client, void *data, uint32_t version,
		uint32_t id) {
	struct tessera_guest_memory *gm = data;
	if (tessera_vm_from_binding_client(gm->server, client,
			&tessera_guest_memory_v1_interface) == NULL) {
		return;
	}
	struct gmem_client *gc = gmem_client_get(gm, client);
	if (gc == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	struct wl_resource *resource = wl_resource_create(client,
		&tessera_guest_memory_v1_interface, (int)version, id);
	if (resource == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	gc->refs++;
	wl_resource_set_implementation(resource, &manager_impl, gc, manager_resource_destroy);
	tessera_guest_memory_v1_send_budget(resource, TESSERA_GMEM_MAX_BUFFERS,
		(uint32_t)gc->max_mappings, (uint32_t)(TESSERA_GMEM_MAX_CLIENT_BYTES >> 32),
		(uint32_t)TESSERA_GMEM_MAX_CLIENT_BYTES);
	tessera_log(TESSERA_DEBUG, "guest memory: %s bound the global", gc->name);
}

static void handle_display_destroy(struct wl_listener *listener, void *data) {
	struct tessera_guest_memory *gm = wl_container_of(listener, gm, display_destroy);
	wl_list_remove(&gm->display_destroy.link);
	wl_global_destroy(gm->global);
	gm->global = NULL;
	log_stats(gm, "display destroyed");
	gm_unref(gm);
}

struct tessera_guest_memory *tessera_guest_memory_create(struct tessera_server *server) {
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0) {
		tessera_log_errno(TESSERA_ERROR, "guest memory: cannot get the page size");
		return NULL;
	}
	struct tessera_guest_memory *gm = calloc(1, sizeof(*gm));
	if (gm == NULL) {
		return NULL;
	}
	gm->server = server;
	gm->page_size = (uint64_t)page;
	gm->refs = 1;
	gm->global = wl_global_create(server->wl_display, &tessera_guest_memory_v1_interface,
		GMEM_VERSION, gm, manager_bind);
	if (gm->global == NULL) {
		free(gm);
		return NULL;
	}
	gm->display_destroy.notify = handle_display_destroy;
	wl_display_add_destroy_listener(server->wl_display, &gm->display_destroy);
	tessera_client_buffer_register();
	if (server->renderer != NULL && wlr_renderer_is_pixman(server->renderer)) {
		tessera_log(TESSERA_INFO, "guest memory: pixman renderer reads guest buffers in place "
			"(zero copy)");
	} else {
		tessera_log(TESSERA_INFO, "guest memory: GPU renderer: wlroots uploads guest buffers "
			"to textures on commit (one copy per commit, inside wlroots)");
	}
	return gm;
}

void tessera_guest_memory_get_stats(const struct tessera_guest_memory *gm,
		struct tessera_guest_memory_stats *stats) {
	*stats = gm->stats;
}
