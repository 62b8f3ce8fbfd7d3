/*
 * The VM console window, see console.h.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <pixman.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include "console.h"
#include "log.h"
#include "resource.h"
#include "wayland.h"
#include "xdg-decoration-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#define MAX_BUFFERS 3

struct console_buffer {
	struct vmd_console *console;
	struct wl_buffer *wl_buffer;
	uint8_t *data;
	size_t size;
	bool busy; /* attached, not released by the compositor yet */
	pixman_region32_t stale; /* areas older than the guest's content */
};

struct vmd_console {
	struct vmd_wayland *wayland;
	char *vm_name;

	const struct vmd_gpu_resource *res;
	uint32_t x, y, width, height; /* scanout rectangle in the resource */

	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	struct zxdg_toplevel_decoration_v1 *decoration;
	bool configured;
	bool closed; /* by the user: stays closed until the next scanout */
	struct wl_callback *frame;

	pixman_region32_t damage; /* to commit, buffer coordinates */
	struct console_buffer buffers[MAX_BUFFERS];
	size_t nbuffers;
	uint8_t *row; /* conversion scratch, one row */
	bool warned;

	uint64_t frames;
	uint64_t bytes_copied;
	uint64_t last_frame_bytes;
};

static void console_update(struct vmd_console *console);

/* ---- buffers ---- */

static void buffer_handle_release(void *data, struct wl_buffer *wl_buffer) {
	struct console_buffer *buffer = data;
	buffer->busy = false;
	console_update(buffer->console);
}

static const struct wl_buffer_listener buffer_listener = {
	.release = buffer_handle_release,
};

static void buffer_finish(struct console_buffer *buffer) {
	if (buffer->wl_buffer != NULL) {
		wl_buffer_destroy(buffer->wl_buffer);
	}
	if (buffer->data != NULL) {
		munmap(buffer->data, buffer->size);
	}
	pixman_region32_fini(&buffer->stale);
	memset(buffer, 0, sizeof(*buffer));
}

static void destroy_buffers(struct vmd_console *console) {
	for (size_t i = 0; i < console->nbuffers; i++) {
		buffer_finish(&console->buffers[i]);
	}
	console->nbuffers = 0;
	free(console->row);
	console->row = NULL;
}

static struct console_buffer *create_buffer(struct vmd_console *console) {
	if (console->nbuffers >= MAX_BUFFERS || console->wayland->shm == NULL) {
		return NULL;
	}
	uint32_t stride = console->width * 4;
	size_t size = (size_t)stride * console->height;
	int fd = memfd_create("tessera-vmd-console", MFD_CLOEXEC);
	if (fd < 0) {
		tessera_log_errno(TESSERA_ERROR, "console: memfd_create");
		return NULL;
	}
	if (ftruncate(fd, (off_t)size) != 0) {
		tessera_log_errno(TESSERA_ERROR, "console: ftruncate %zu", size);
		close(fd);
		return NULL;
	}
	void *data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (data == MAP_FAILED) {
		tessera_log_errno(TESSERA_ERROR, "console: mmap %zu", size);
		close(fd);
		return NULL;
	}
	struct wl_shm_pool *pool = wl_shm_create_pool(console->wayland->shm, fd,
		(int32_t)size);
	struct wl_buffer *wl_buffer = wl_shm_pool_create_buffer(pool, 0,
		(int32_t)console->width, (int32_t)console->height, (int32_t)stride,
		WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);

	struct console_buffer *buffer = &console->buffers[console->nbuffers++];
	buffer->console = console;
	buffer->wl_buffer = wl_buffer;
	buffer->data = data;
	buffer->size = size;
	buffer->busy = false;
	pixman_region32_init_rect(&buffer->stale, 0, 0, console->width,
		console->height);
	wl_buffer_add_listener(wl_buffer, &buffer_listener, buffer);
	return buffer;
}

/* The free buffer that missed the least, or a new one. */
static struct console_buffer *get_buffer(struct vmd_console *console) {
	struct console_buffer *best = NULL;
	uint64_t best_area = UINT64_MAX;
	for (size_t i = 0; i < console->nbuffers; i++) {
		struct console_buffer *b = &console->buffers[i];
		if (b->busy) {
			continue;
		}
		uint64_t area = 0;
		int n;
		const pixman_box32_t *boxes = pixman_region32_rectangles(&b->stale, &n);
		for (int j = 0; j < n; j++) {
			area += (uint64_t)(boxes[j].x2 - boxes[j].x1) *
				(uint64_t)(boxes[j].y2 - boxes[j].y1);
		}
		if (area < best_area) {
			best = b;
			best_area = area;
		}
	}
	return best != NULL ? best : create_buffer(console);
}

/* ---- pixels ---- */

/* Converts one row of a 32-bit VIRTIO_GPU_FORMAT_* into XRGB8888 (bytes
 * B, G, R, X in memory). */
static void convert_row(uint32_t format, const uint8_t *src, uint8_t *dst,
		uint32_t pixels) {
	int r, g, b; /* byte positions of the channels in the source */
	switch (format) {
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
		r = 1, g = 2, b = 3;
		break;
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		r = 0, g = 1, b = 2;
		break;
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
		r = 3, g = 2, b = 1;
		break;
	default: /* B8G8R8A8 / B8G8R8X8 */
		r = 2, g = 1, b = 0;
		break;
	}
	for (uint32_t i = 0; i < pixels; i++) {
		dst[4 * i + 0] = src[4 * i + b];
		dst[4 * i + 1] = src[4 * i + g];
		dst[4 * i + 2] = src[4 * i + r];
		dst[4 * i + 3] = 0xff;
	}
}

static bool direct_format(uint32_t format) {
	return format == VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM ||
		format == VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
}

/* Copies the region (buffer coordinates) from the guest backing. */
static uint64_t copy_region(struct vmd_console *console,
		struct console_buffer *buffer, pixman_region32_t *region) {
	const struct vmd_gpu_resource *res = console->res;
	if (res == NULL || res->base.n_extents == 0) {
		return 0; /* no backing: the window keeps what it showed */
	}
	uint32_t format = res->base.format;
	bool direct = direct_format(format);
	if (!direct && console->row == NULL) {
		console->row = malloc((size_t)console->width * 4);
		if (console->row == NULL) {
			return 0;
		}
	}
	uint64_t res_stride = (uint64_t)res->base.width * 4;
	uint32_t stride = console->width * 4;
	uint64_t copied = 0;
	int n;
	const pixman_box32_t *boxes = pixman_region32_rectangles(region, &n);
	for (int i = 0; i < n; i++) {
		const pixman_box32_t *box = &boxes[i];
		uint32_t w = (uint32_t)(box->x2 - box->x1);
		for (int32_t y = box->y1; y < box->y2; y++) {
			uint64_t src = (uint64_t)(console->y + (uint32_t)y) * res_stride +
				(uint64_t)(console->x + (uint32_t)box->x1) * 4;
			uint8_t *dst = buffer->data + (size_t)y * stride +
				(size_t)box->x1 * 4;
			if (direct) {
				if (!vmd_resource_read(res, src, dst, (size_t)w * 4)) {
					goto short_backing;
				}
			} else {
				if (!vmd_resource_read(res, src, console->row, (size_t)w * 4)) {
					goto short_backing;
				}
				convert_row(format, console->row, dst, w);
			}
			copied += (uint64_t)w * 4;
		}
	}
	return copied;

short_backing:
	/* attach_backing checked the size; only a resource whose backing
	 * changed meanwhile gets here */
	if (!console->warned) {
		console->warned = true;
		tessera_log(TESSERA_ERROR, "console: resource %u's backing is too short for "
			"the scanout", res->base.id);
	}
	return copied;
}

/* ---- the window ---- */

static void frame_handle_done(void *data, struct wl_callback *callback,
		uint32_t time) {
	struct vmd_console *console = data;
	wl_callback_destroy(callback);
	console->frame = NULL;
	console_update(console);
}

static const struct wl_callback_listener frame_listener = {
	.done = frame_handle_done,
};

static void console_update(struct vmd_console *console) {
	if (console->toplevel == NULL || !console->configured ||
			console->frame != NULL || console->res == NULL ||
			!pixman_region32_not_empty(&console->damage)) {
		return;
	}
	struct console_buffer *buffer = get_buffer(console);
	if (buffer == NULL) {
		return; /* all busy: again on a release */
	}
	uint64_t copied = copy_region(console, buffer, &buffer->stale);
	pixman_region32_clear(&buffer->stale);

	wl_surface_attach(console->surface, buffer->wl_buffer, 0, 0);
	int n;
	const pixman_box32_t *boxes = pixman_region32_rectangles(&console->damage, &n);
	for (int i = 0; i < n; i++) {
		wl_surface_damage_buffer(console->surface, boxes[i].x1, boxes[i].y1,
			boxes[i].x2 - boxes[i].x1, boxes[i].y2 - boxes[i].y1);
	}
	pixman_region32_clear(&console->damage);
	console->frame = wl_surface_frame(console->surface);
	wl_callback_add_listener(console->frame, &frame_listener, console);
	wl_surface_commit(console->surface);
	buffer->busy = true;

	console->frames++;
	console->bytes_copied += copied;
	console->last_frame_bytes = copied;
	tessera_log(TESSERA_DEBUG, "console: frame %llu, %llu bytes copied",
		(unsigned long long)console->frames, (unsigned long long)copied);
}

static void xdg_surface_handle_configure(void *data,
		struct xdg_surface *xdg_surface, uint32_t serial) {
	struct vmd_console *console = data;
	xdg_surface_ack_configure(xdg_surface, serial);
	if (!console->configured) {
		console->configured = true;
		/* the first buffer shows everything */
		pixman_region32_union_rect(&console->damage, &console->damage, 0, 0,
			console->width, console->height);
	}
	console_update(console);
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = xdg_surface_handle_configure,
};

static void destroy_window(struct vmd_console *console);

static void toplevel_handle_configure(void *data,
		struct xdg_toplevel *toplevel, int32_t width, int32_t height,
		struct wl_array *states) {
	/* the console has the guest's mode size; a suggested size is
	 * ignored (a future version could report it as a display change) */
}

static void toplevel_handle_close(void *data, struct xdg_toplevel *toplevel) {
	struct vmd_console *console = data;
	tessera_log(TESSERA_INFO, "console: closed by the user; it comes back when the "
		"guest sets up its scanout again");
	destroy_window(console);
	console->closed = true;
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_handle_configure,
	.close = toplevel_handle_close,
};

static void destroy_window(struct vmd_console *console) {
	if (console->frame != NULL) {
		wl_callback_destroy(console->frame);
		console->frame = NULL;
	}
	if (console->decoration != NULL) {
		zxdg_toplevel_decoration_v1_destroy(console->decoration);
		console->decoration = NULL;
	}
	if (console->toplevel != NULL) {
		xdg_toplevel_destroy(console->toplevel);
		console->toplevel = NULL;
	}
	if (console->xdg_surface != NULL) {
		xdg_surface_destroy(console->xdg_surface);
		console->xdg_surface = NULL;
	}
	if (console->surface != NULL) {
		wl_surface_destroy(console->surface);
		console->surface = NULL;
	}
	destroy_buffers(console);
	console->configured = false;
	pixman_region32_clear(&console->damage);
}

static void create_window(struct vmd_console *console) {
	struct vmd_wayland *wl = console->wayland;
	if (wl->compositor == NULL || wl->wm_base == NULL || wl->shm == NULL) {
		if (!console->warned) {
			console->warned = true;
			tessera_log(TESSERA_ERROR, "console: the compositor lacks wl_compositor, "
				"xdg_wm_base or wl_shm; no console window");
		}
		return;
	}
	console->surface = wl_compositor_create_surface(wl->compositor);
	console->xdg_surface = xdg_wm_base_get_xdg_surface(wl->wm_base,
		console->surface);
	xdg_surface_add_listener(console->xdg_surface, &xdg_surface_listener,
		console);
	console->toplevel = xdg_surface_get_toplevel(console->xdg_surface);
	xdg_toplevel_add_listener(console->toplevel, &toplevel_listener, console);
	xdg_toplevel_set_title(console->toplevel, "console");
	xdg_toplevel_set_app_id(console->toplevel, "tessera-vmd-console");
	/* fixed size: the guest's mode */
	xdg_toplevel_set_min_size(console->toplevel, (int32_t)console->width,
		(int32_t)console->height);
	xdg_toplevel_set_max_size(console->toplevel, (int32_t)console->width,
		(int32_t)console->height);
	if (wl->decoration_manager != NULL) {
		console->decoration = zxdg_decoration_manager_v1_get_toplevel_decoration(
			wl->decoration_manager, console->toplevel);
		zxdg_toplevel_decoration_v1_set_mode(console->decoration,
			ZXDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
	}
	wl_surface_commit(console->surface);
	tessera_log(TESSERA_INFO, "console: window %ux%u", console->width,
		console->height);
}

/* ---- public ---- */

struct vmd_console *vmd_console_create(struct vmd_wayland *wayland,
		const char *vm_name) {
	struct vmd_console *console = calloc(1, sizeof(*console));
	if (console == NULL) {
		return NULL;
	}
	console->wayland = wayland;
	console->vm_name = strdup(vm_name);
	if (console->vm_name == NULL) {
		free(console);
		return NULL;
	}
	pixman_region32_init(&console->damage);
	return console;
}

void vmd_console_destroy(struct vmd_console *console) {
	if (console == NULL) {
		return;
	}
	destroy_window(console);
	pixman_region32_fini(&console->damage);
	free(console->vm_name);
	free(console);
}

void vmd_console_set_scanout(struct vmd_console *console,
		const struct vmd_gpu_resource *res, uint32_t x, uint32_t y,
		uint32_t width, uint32_t height) {
	if (res == NULL) {
		if (console->res != NULL) {
			tessera_log(TESSERA_INFO, "console: scanout disabled");
		}
		console->res = NULL;
		console->closed = false;
		destroy_window(console);
		return;
	}
	bool same_size = console->toplevel != NULL && console->width == width &&
		console->height == height;
	bool changed = console->res != res || console->x != x ||
		console->y != y || !same_size;
	console->res = res;
	console->x = x;
	console->y = y;
	if (console->closed) {
		console->width = width;
		console->height = height;
		return;
	}
	if (!same_size) {
		/* a new size: a new window of that size (fixed-size toplevel) */
		destroy_window(console);
		console->width = width;
		console->height = height;
		create_window(console);
	} else if (changed) {
		for (size_t i = 0; i < console->nbuffers; i++) {
			pixman_region32_union_rect(&console->buffers[i].stale,
				&console->buffers[i].stale, 0, 0, width, height);
		}
		pixman_region32_union_rect(&console->damage, &console->damage, 0, 0,
			width, height);
		console_update(console);
	}
}

const struct vmd_gpu_resource *vmd_console_resource(
		const struct vmd_console *console) {
	return console->res;
}

void vmd_console_flush(struct vmd_console *console, uint32_t x, uint32_t y,
		uint32_t width, uint32_t height) {
	if (console->res == NULL || console->toplevel == NULL) {
		return;
	}
	/* the flushed rectangle in buffer coordinates, clipped to the
	 * scanout (all values ≤ 16384: no overflow in 64 bits) */
	int64_t x1 = (int64_t)x - console->x, y1 = (int64_t)y - console->y;
	int64_t x2 = x1 + width, y2 = y1 + height;
	if (x1 < 0) {
		x1 = 0;
	}
	if (y1 < 0) {
		y1 = 0;
	}
	if (x2 > console->width) {
		x2 = console->width;
	}
	if (y2 > console->height) {
		y2 = console->height;
	}
	if (x1 >= x2 || y1 >= y2) {
		return;
	}
	for (size_t i = 0; i < console->nbuffers; i++) {
		pixman_region32_union_rect(&console->buffers[i].stale,
			&console->buffers[i].stale, (int)x1, (int)y1,
			(unsigned)(x2 - x1), (unsigned)(y2 - y1));
	}
	pixman_region32_union_rect(&console->damage, &console->damage, (int)x1,
		(int)y1, (unsigned)(x2 - x1), (unsigned)(y2 - y1));
	console_update(console);
}

void vmd_console_get_stats(const struct vmd_console *console,
		struct vmd_console_stats *stats) {
	*stats = (struct vmd_console_stats){
		.frames = console->frames,
		.bytes_copied = console->bytes_copied,
		.last_frame_bytes = console->last_frame_bytes,
		.width = console->toplevel != NULL ? console->width : 0,
		.height = console->toplevel != NULL ? console->height : 0,
		.mapped = console->toplevel != NULL && console->frames > 0,
	};
}
