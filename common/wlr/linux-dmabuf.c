/*
 * zwp_linux_dmabuf_v1 as a CPU import, for the pixman renderer (see
 * linux-dmabuf.h). Same technique as guest-memory.c: our own wl_buffer
 * implementation, registered with wlr_buffer_register_resource_interface,
 * whose wlr_buffer hands the renderer a data pointer into a read-only
 * MAP_SHARED mapping of the dmabuf. wlroots' pixman renderer wraps that
 * pointer in a pixman image (no upload copy) and reads it again on every
 * repaint. Every begin_data_ptr_access is bracketed with DMA_BUF_IOCTL_SYNC
 * (START|READ ... END|READ) so that the exporter can keep caches coherent.
 *
 * Lifetimes: a buffer owns its fd and mapping until its wl_buffer is
 * destroyed AND wlroots released its last lock (wlr_buffer_drop). Per-client
 * counters (budgets) are reference-counted by the connection and every
 * object; the global's counters by the display and every client.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <drm_fourcc.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/dma-buf.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wayland-server-protocol.h>
#include <wlr/types/wlr_buffer.h>

#include "linux-dmabuf-unstable-v1-protocol.h"
#include "linux-dmabuf.h"
#include "client-buffer.h"
#include "log.h"

#define DMABUF_VERSION 3

#ifndef DMA_BUF_MAGIC
#define DMA_BUF_MAGIC 0x444d4142
#endif

struct tessera_linux_dmabuf {
	struct wl_global *global;
	struct wl_listener display_destroy;
	uint64_t page_size;
	int refs; /* the display + one per dmabuf_client */
	struct tessera_linux_dmabuf_stats stats;
};

struct dmabuf_client {
	struct tessera_linux_dmabuf *ld;
	struct wl_listener client_destroy;
	int refs; /* the connection + one per object */
	size_t params;
	size_t buffers;
	uint64_t bytes_mapped;
	pid_t pid;
};

struct dmabuf_params {
	struct wl_resource *resource;
	struct dmabuf_client *owner;
	bool used;
	bool has_plane;
	int fd;
	uint32_t offset, stride;
	uint64_t modifier;
};

struct dmabuf_buffer {
	struct tessera_client_buffer client; /* first: wlr_buffer + wl_buffer */
	struct dmabuf_client *owner;
	int fd;
	bool sync; /* a real dmabuf: DMA_BUF_IOCTL_SYNC around reads */
	uint8_t *map;
	size_t map_len;
	uint32_t format, offset, stride;
	uint64_t accesses;
};

static const struct zwp_linux_dmabuf_v1_interface manager_impl;
static const struct zwp_linux_buffer_params_v1_interface params_impl;
static const struct wlr_buffer_impl buffer_impl;

static const uint32_t supported_formats[] = {
	DRM_FORMAT_ARGB8888,
	DRM_FORMAT_XRGB8888,
};

static void ld_unref(struct tessera_linux_dmabuf *ld) {
	assert(ld->refs > 0);
	if (--ld->refs == 0) {
		free(ld);
	}
}

static void log_stats(struct tessera_linux_dmabuf *ld, const char *why) {
	const struct tessera_linux_dmabuf_stats *s = &ld->stats;
	tessera_log(TESSERA_DEBUG, "linux-dmabuf (%s): %zu live buffers, %" PRIu64 " bytes mapped, %"
		PRIu64 " buffers created, %" PRIu64 " imports failed, %" PRIu64 " bytes copied",
		why, s->live_buffers, s->bytes_mapped, s->buffers_created, s->imports_failed,
		s->bytes_copied);
}

static void client_unref(struct dmabuf_client *dc) {
	assert(dc->refs > 0);
	if (--dc->refs > 0) {
		return;
	}
	assert(dc->params == 0 && dc->buffers == 0 && dc->bytes_mapped == 0);
	struct tessera_linux_dmabuf *ld = dc->ld;
	free(dc);
	ld_unref(ld);
}

static void client_handle_destroy(struct wl_listener *listener, void *data) {
	struct dmabuf_client *dc = wl_container_of(listener, dc, client_destroy);
	wl_list_remove(&dc->client_destroy.link);
	client_unref(dc);
}

/* The client's state, created on first use; NULL if out of memory. */
static struct dmabuf_client *client_get(struct tessera_linux_dmabuf *ld,
		struct wl_client *client) {
	struct wl_listener *l = wl_client_get_destroy_listener(client, client_handle_destroy);
	if (l != NULL) {
		struct dmabuf_client *dc = wl_container_of(l, dc, client_destroy);
		return dc;
	}
	struct dmabuf_client *dc = calloc(1, sizeof(*dc));
	if (dc == NULL) {
		return NULL;
	}
	dc->ld = ld;
	dc->refs = 1;
	ld->refs++;
	wl_client_get_credentials(client, &dc->pid, NULL, NULL);
	dc->client_destroy.notify = client_handle_destroy;
	wl_client_add_destroy_listener(client, &dc->client_destroy);
	return dc;
}

/* Buffers */

static struct dmabuf_buffer *buffer_from_wlr(struct wlr_buffer *wlr_buffer) {
	assert(wlr_buffer->impl == &buffer_impl);
	struct dmabuf_buffer *buffer = wl_container_of(wlr_buffer, buffer, client.base);
	return buffer;
}

static void buffer_destroy(struct wlr_buffer *wlr_buffer) {
	struct dmabuf_buffer *buffer = buffer_from_wlr(wlr_buffer);
	struct dmabuf_client *dc = buffer->owner;
	struct tessera_linux_dmabuf *ld = dc->ld;
	tessera_client_buffer_finish(&buffer->client);
	if (munmap(buffer->map, buffer->map_len) != 0) {
		tessera_log_errno(TESSERA_ERROR, "linux-dmabuf: cannot unmap");
	}
	close(buffer->fd);
	dc->buffers--;
	dc->bytes_mapped -= buffer->map_len;
	ld->stats.live_buffers--;
	ld->stats.bytes_mapped -= buffer->map_len;
	tessera_log(TESSERA_DEBUG, "linux-dmabuf: buffer %dx%d unmapped (%zu bytes, read in "
		"place %" PRIu64 " times)", buffer->client.base.width, buffer->client.base.height,
		buffer->map_len, buffer->accesses);
	free(buffer);
	log_stats(ld, "buffer destroyed");
	client_unref(dc);
}

static void buffer_sync(struct dmabuf_buffer *buffer, uint64_t flags) {
	if (!buffer->sync) {
		return;
	}
	struct dma_buf_sync sync = { .flags = flags };
	while (ioctl(buffer->fd, DMA_BUF_IOCTL_SYNC, &sync) != 0) {
		if (errno != EINTR && errno != EAGAIN) {
			tessera_log_errno(TESSERA_ERROR, "linux-dmabuf: cannot sync (DMA_BUF_IOCTL_SYNC)");
			return;
		}
	}
}

static bool buffer_begin_data_ptr_access(struct wlr_buffer *wlr_buffer, uint32_t flags,
		void **data, uint32_t *format, size_t *stride) {
	struct dmabuf_buffer *buffer = buffer_from_wlr(wlr_buffer);
	if (flags & WLR_BUFFER_DATA_PTR_ACCESS_WRITE) {
		return false; /* the mapping is read-only */
	}
	buffer_sync(buffer, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	buffer->accesses++;
	*data = buffer->map + buffer->offset;
	*format = buffer->format;
	*stride = buffer->stride;
	return true;
}

static void buffer_end_data_ptr_access(struct wlr_buffer *wlr_buffer) {
	buffer_sync(buffer_from_wlr(wlr_buffer), DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
}

static const struct wlr_buffer_impl buffer_impl = {
	.destroy = buffer_destroy,
	.begin_data_ptr_access = buffer_begin_data_ptr_access,
	.end_data_ptr_access = buffer_end_data_ptr_access,
};


/* Params */

static struct dmabuf_params *params_from_resource(struct wl_resource *resource) {
	assert(wl_resource_instance_of(resource, &zwp_linux_buffer_params_v1_interface,
		&params_impl));
	return wl_resource_get_user_data(resource);
}

static void params_handle_destroy(struct wl_client *client, struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static void params_handle_add(struct wl_client *client, struct wl_resource *resource,
		int32_t fd, uint32_t plane_idx, uint32_t offset, uint32_t stride,
		uint32_t modifier_hi, uint32_t modifier_lo) {
	struct dmabuf_params *params = params_from_resource(resource);
	if (params->used) {
		close(fd);
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
			"params was already used to create a wl_buffer");
		return;
	}
	if (plane_idx >= 4) {
		close(fd);
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_IDX,
			"plane index %u is out of bounds", plane_idx);
		return;
	}
	if (plane_idx > 0) {
		close(fd);
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_IDX,
			"plane index %u: only single-plane formats (ARGB8888, XRGB8888) are "
			"supported", plane_idx);
		return;
	}
	if (params->has_plane) {
		close(fd);
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_SET,
			"plane %u was already set", plane_idx);
		return;
	}
	params->has_plane = true;
	params->fd = fd;
	params->offset = offset;
	params->stride = stride;
	params->modifier = ((uint64_t)modifier_hi << 32) | modifier_lo;
}

static bool format_supported(uint32_t format) {
	for (size_t i = 0; i < sizeof(supported_formats) / sizeof(supported_formats[0]); i++) {
		if (supported_formats[i] == format) {
			return true;
		}
	}
	return false;
}

/* The plane and its format; posts the protocol error of the first violation. */
static bool params_check_plane(struct dmabuf_params *params, uint32_t format) {
	struct wl_resource *resource = params->resource;
	if (params->used) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
			"params was already used to create a wl_buffer");
		return false;
	}
	params->used = true;
	if (!params->has_plane) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE,
			"plane 0 was not added");
		return false;
	}
	if (!format_supported(format)) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT,
			"format 0x%08" PRIx32 " is not supported (ARGB8888 and XRGB8888 only)", format);
		return false;
	}
	if (params->modifier != DRM_FORMAT_MOD_LINEAR) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT,
			"modifier 0x%016" PRIx64 " is not supported (LINEAR only)", params->modifier);
		return false;
	}
	return true;
}

/* Size, stride and offset; posts the protocol error of the first violation. */
static bool params_check_layout(struct dmabuf_params *params,
		int32_t width, int32_t height) {
	struct wl_resource *resource = params->resource;
	if (width <= 0 || height <= 0 || width > TESSERA_DMABUF_MAX_DIMENSION ||
			height > TESSERA_DMABUF_MAX_DIMENSION) {
		wl_resource_post_error(resource,
			ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_DIMENSIONS,
			"size %" PRIi32 "x%" PRIi32 " is not within 1..%d", width, height,
			TESSERA_DMABUF_MAX_DIMENSION);
		return false;
	}
	uint64_t min_stride = (uint64_t)width * 4;
	if (params->stride < min_stride || params->stride % 4 != 0 ||
			params->stride > TESSERA_DMABUF_MAX_STRIDE) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
			"stride %" PRIu32 " is not a multiple of 4 in %" PRIu64 "..%d for width %"
			PRIi32, params->stride, min_stride, TESSERA_DMABUF_MAX_STRIDE, width);
		return false;
	}
	if (params->offset % 4 != 0) {
		wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
			"offset %" PRIu32 " is not a multiple of 4", params->offset);
		return false;
	}
	return true;
}

/*
 * The bytes of the fd the buffer reads (*end) must exist. An fd without
 * a size is a failure (*posted false, *why says why); one too small is a
 * protocol error (posted).
 */
static bool params_check_fd_size(struct dmabuf_params *params, int32_t width,
		int32_t height, uint64_t *end, bool *posted, const char **why) {
	/* the last row needs only width * 4 bytes */
	*end = (uint64_t)params->offset +
		(uint64_t)params->stride * (uint64_t)(height - 1) + (uint64_t)width * 4;
	off_t size = lseek(params->fd, 0, SEEK_END);
	if (size < 0) {
		*posted = false;
		*why = "the fd has no size (lseek failed)";
		return false;
	}
	if (*end > (uint64_t)size) {
		wl_resource_post_error(params->resource,
			ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
			"offset %" PRIu32 " + stride %" PRIu32 " x height %" PRIi32 " needs %" PRIu64
			" bytes, the fd has %jd", params->offset, params->stride, height, *end,
			(intmax_t)size);
		return false;
	}
	return true;
}

/*
 * Which kind of fd: a dmabuf (*sync: reads are bracketed with
 * DMA_BUF_IOCTL_SYNC), or a memfd sealed against shrinking.
 */
static bool fd_check_kind(int fd, bool *sync, const char **why) {
	struct statfs sfs;
	if (fstatfs(fd, &sfs) != 0) {
		*why = "fstatfs on the fd failed";
		return false;
	}
	if (sfs.f_type == DMA_BUF_MAGIC) {
		*sync = true;
		return true;
	}
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
		*why = "the fd is neither a dmabuf nor a memfd sealed with F_SEAL_SHRINK";
		return false;
	}
	*sync = false; /* a memfd: no DMA_BUF_IOCTL_SYNC (ENOTTY) */
	return true;
}

/* The per-buffer limit and the client's budget allow mapping map_len bytes. */
static bool client_check_budget(struct dmabuf_client *dc, uint64_t map_len,
		const char **why) {
	if (map_len > TESSERA_DMABUF_MAX_BUFFER_BYTES) {
		*why = "the buffer is larger than 256 MiB";
		return false;
	}
	if (dc->buffers >= TESSERA_DMABUF_MAX_CLIENT_BUFFERS ||
			dc->bytes_mapped + map_len > TESSERA_DMABUF_MAX_CLIENT_BYTES) {
		*why = "the client's budget of buffers is exhausted";
		return false;
	}
	return true;
}

/* Maps the checked plane read-only; the buffer takes the params' fd. */
static struct dmabuf_buffer *buffer_create(struct dmabuf_params *params,
		int32_t width, int32_t height, uint32_t format, bool sync, uint64_t map_len,
		const char **why) {
	struct dmabuf_client *dc = params->owner;
	struct tessera_linux_dmabuf *ld = dc->ld;
	void *map = mmap(NULL, (size_t)map_len, PROT_READ, MAP_SHARED, params->fd, 0);
	if (map == MAP_FAILED) {
		*why = "mmap of the fd failed";
		return NULL;
	}
	struct dmabuf_buffer *buffer = calloc(1, sizeof(*buffer));
	if (buffer == NULL) {
		munmap(map, (size_t)map_len);
		*why = "out of memory";
		return NULL;
	}
	tessera_client_buffer_init(&buffer->client, &buffer_impl, width, height);
	buffer->owner = dc;
	dc->refs++;
	buffer->fd = params->fd;
	params->fd = -1;
	params->has_plane = false;
	buffer->sync = sync;
	buffer->map = map;
	buffer->map_len = (size_t)map_len;
	buffer->format = format;
	buffer->offset = params->offset;
	buffer->stride = params->stride;
	dc->buffers++;
	dc->bytes_mapped += map_len;
	ld->stats.live_buffers++;
	ld->stats.bytes_mapped += map_len;
	ld->stats.buffers_created++;
	tessera_log(TESSERA_DEBUG, "linux-dmabuf: buffer %" PRIi32 "x%" PRIi32 " format 0x%08" PRIx32
		" from a %s, %" PRIu64 " bytes mapped, no copy", width, height, format,
		sync ? "dmabuf" : "sealed memfd", map_len);
	log_stats(ld, "buffer created");
	return buffer;
}

/*
 * Checks the parameters; a violation of the protocol is posted as its
 * error (returns false, *posted true). An fd we cannot import is a failure
 * (returns false, *posted false, *why says why).
 */
static struct dmabuf_buffer *params_import(struct dmabuf_params *params,
		int32_t width, int32_t height, uint32_t format, uint32_t flags,
		bool *posted, const char **why) {
	*posted = true;
	*why = NULL;
	uint64_t end;
	if (!params_check_plane(params, format) ||
			!params_check_layout(params, width, height) ||
			!params_check_fd_size(params, width, height, &end, posted, why)) {
		return NULL;
	}
	*posted = false;
	if (flags != 0) {
		*why = "flags (y_invert, interlaced, bottom_first) are not supported";
		return NULL;
	}
	bool sync;
	if (!fd_check_kind(params->fd, &sync, why)) {
		return NULL;
	}
	const uint64_t page = params->owner->ld->page_size;
	uint64_t map_len = (end + page - 1) / page * page;
	if (!client_check_budget(params->owner, map_len, why)) {
		return NULL;
	}
	return buffer_create(params, width, height, format, sync, map_len, why);
}

static bool buffer_add_resource(struct dmabuf_buffer *buffer, struct wl_client *client,
		uint32_t version, uint32_t id) {
	if (!tessera_client_buffer_add_resource(&buffer->client, client, id)) {
		wlr_buffer_drop(&buffer->client.base);
		return false;
	}
	return true;
}

static void params_create_common(struct wl_resource *resource, uint32_t buffer_id,
		int32_t width, int32_t height, uint32_t format, uint32_t flags) {
	struct dmabuf_params *params = params_from_resource(resource);
	struct wl_client *client = wl_resource_get_client(resource);
	bool posted;
	const char *why;
	struct dmabuf_buffer *buffer = params_import(params, width, height, format, flags,
		&posted, &why);
	if (buffer == NULL) {
		if (posted) {
			return;
		}
		params->owner->ld->stats.imports_failed++;
		tessera_log(TESSERA_INFO, "linux-dmabuf: client pid %d: cannot import: %s",
			(int)params->owner->pid, why);
		if (buffer_id == 0) {
			zwp_linux_buffer_params_v1_send_failed(resource);
		} else {
			wl_resource_post_error(resource,
				ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
				"cannot import the buffer: %s", why);
		}
		return;
	}
	if (!buffer_add_resource(buffer, client, 1, buffer_id)) {
		return;
	}
	if (buffer_id == 0) {
		zwp_linux_buffer_params_v1_send_created(resource, buffer->client.resource);
	}
}

static void params_handle_create(struct wl_client *client, struct wl_resource *resource,
		int32_t width, int32_t height, uint32_t format, uint32_t flags) {
	params_create_common(resource, 0, width, height, format, flags);
}

static void params_handle_create_immed(struct wl_client *client,
		struct wl_resource *resource, uint32_t buffer_id, int32_t width, int32_t height,
		uint32_t format, uint32_t flags) {
	if (buffer_id == 0) {
		wl_resource_post_error(resource, WL_DISPLAY_ERROR_INVALID_OBJECT,
			"buffer id 0");
		return;
	}
	params_create_common(resource, buffer_id, width, height, format, flags);
}

bool tessera_linux_dmabuf_create_prime(struct tessera_linux_dmabuf *ld,
		struct wl_resource *resource, uint32_t id, int fd, int32_t width,
		int32_t height, uint32_t format, uint32_t offset, uint32_t stride) {
	struct wl_client *client = wl_resource_get_client(resource);
	struct dmabuf_client *dc = client_get(ld, client);
	if (dc == NULL) {
		close(fd);
		wl_client_post_no_memory(client);
		return false;
	}
	struct dmabuf_params params = {
		.resource = resource, .owner = dc, .has_plane = true, .fd = fd,
		.offset = offset, .stride = stride, .modifier = DRM_FORMAT_MOD_LINEAR,
	};
	dc->refs++;
	bool posted;
	const char *why;
	struct dmabuf_buffer *buffer = params_import(&params, width, height, format, 0,
		&posted, &why);
	if (params.has_plane) {
		close(params.fd);
	}
	if (buffer == NULL && !posted) {
		ld->stats.imports_failed++;
		tessera_log(TESSERA_INFO, "linux-dmabuf: client pid %d: cannot import a PRIME "
			"buffer: %s", (int)dc->pid, why);
		wl_resource_post_error(resource, 0, "cannot import the buffer: %s", why);
	}
	bool ok = buffer != NULL && buffer_add_resource(buffer, client, 1, id);
	client_unref(dc);
	return ok;
}

static const struct zwp_linux_buffer_params_v1_interface params_impl = {
	.destroy = params_handle_destroy,
	.add = params_handle_add,
	.create = params_handle_create,
	.create_immed = params_handle_create_immed,
};

static void params_resource_destroy(struct wl_resource *resource) {
	struct dmabuf_params *params = params_from_resource(resource);
	if (params->has_plane) {
		close(params->fd);
	}
	params->owner->params--;
	client_unref(params->owner);
	free(params);
}

/* Manager */

static void manager_handle_destroy(struct wl_client *client, struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static void manager_handle_create_params(struct wl_client *client,
		struct wl_resource *resource, uint32_t id) {
	struct tessera_linux_dmabuf *ld = wl_resource_get_user_data(resource);
	struct dmabuf_client *dc = client_get(ld, client);
	struct dmabuf_params *params = dc == NULL ? NULL : calloc(1, sizeof(*params));
	if (params == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	if (dc->params >= TESSERA_DMABUF_MAX_PARAMS) {
		free(params);
		wl_resource_post_error(resource, WL_DISPLAY_ERROR_NO_MEMORY,
			"too many live zwp_linux_buffer_params_v1 objects (limit %d)",
			TESSERA_DMABUF_MAX_PARAMS);
		return;
	}
	params->resource = wl_resource_create(client, &zwp_linux_buffer_params_v1_interface,
		wl_resource_get_version(resource), id);
	if (params->resource == NULL) {
		free(params);
		wl_client_post_no_memory(client);
		return;
	}
	params->owner = dc;
	params->fd = -1;
	dc->refs++;
	dc->params++;
	wl_resource_set_implementation(params->resource, &params_impl, params,
		params_resource_destroy);
}

static const struct zwp_linux_dmabuf_v1_interface manager_impl = {
	.destroy = manager_handle_destroy,
	.create_params = manager_handle_create_params,
};

static void manager_bind(struct wl_client *client, void *data, uint32_t version,
		uint32_t id) {
	struct tessera_linux_dmabuf *ld = data;
	struct wl_resource *resource = wl_resource_create(client,
		&zwp_linux_dmabuf_v1_interface, (int)version, id);
	if (resource == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &manager_impl, ld, NULL);
	for (size_t i = 0; i < sizeof(supported_formats) / sizeof(supported_formats[0]); i++) {
		if (version >= ZWP_LINUX_DMABUF_V1_MODIFIER_SINCE_VERSION) {
			zwp_linux_dmabuf_v1_send_modifier(resource, supported_formats[i],
				(uint32_t)(DRM_FORMAT_MOD_LINEAR >> 32),
				(uint32_t)(DRM_FORMAT_MOD_LINEAR & 0xffffffff));
		} else {
			zwp_linux_dmabuf_v1_send_format(resource, supported_formats[i]);
		}
	}
}

static void handle_display_destroy(struct wl_listener *listener, void *data) {
	struct tessera_linux_dmabuf *ld = wl_container_of(listener, ld, display_destroy);
	wl_list_remove(&ld->display_destroy.link);
	wl_global_destroy(ld->global);
	ld->global = NULL;
	log_stats(ld, "display destroyed");
	ld_unref(ld);
}

struct tessera_linux_dmabuf *tessera_linux_dmabuf_create(struct wl_display *display) {
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0) {
		return NULL;
	}
	struct tessera_linux_dmabuf *ld = calloc(1, sizeof(*ld));
	if (ld == NULL) {
		return NULL;
	}
	ld->page_size = (uint64_t)page;
	ld->refs = 1;
	ld->global = wl_global_create(display, &zwp_linux_dmabuf_v1_interface,
		DMABUF_VERSION, ld, manager_bind);
	if (ld->global == NULL) {
		free(ld);
		return NULL;
	}
	ld->display_destroy.notify = handle_display_destroy;
	wl_display_add_destroy_listener(display, &ld->display_destroy);
	tessera_client_buffer_register();
	tessera_log(TESSERA_INFO, "linux-dmabuf: the renderer imports no dmabufs: CPU import "
		"(mapped, read in place, zero copy) of linear ARGB8888/XRGB8888");
	return ld;
}

void tessera_linux_dmabuf_get_stats(const struct tessera_linux_dmabuf *ld,
		struct tessera_linux_dmabuf_stats *stats) {
	*stats = ld->stats;
}

bool tessera_linux_dmabuf_buffer_get(struct wlr_buffer *wlr_buffer,
		struct tessera_linux_dmabuf_buffer_info *info) {
	if (wlr_buffer == NULL || wlr_buffer->impl != &buffer_impl) {
		return false;
	}
	struct dmabuf_buffer *buffer = buffer_from_wlr(wlr_buffer);
	*info = (struct tessera_linux_dmabuf_buffer_info){
		.fd = buffer->fd,
		.is_dmabuf = buffer->sync,
		.format = buffer->format,
		.width = wlr_buffer->width,
		.height = wlr_buffer->height,
		.offset = buffer->offset,
		.stride = buffer->stride,
		.size = buffer->map_len,
	};
	return true;
}
