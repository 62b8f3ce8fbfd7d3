/*
 * tessera-simple-dmabuf: a weston-style linux-dmabuf client. Its buffers
 * are allocated with Mesa's GBM on a DRM render node (--device, default
 * the first /dev/dri/renderD*), filled through gbm_bo_map() and handed to
 * the compositor through zwp_linux_dmabuf_v1, so that nothing is copied on
 * the way: in a guest, on the virtio-gpu node, tessera-agent forwards them
 * as virtio-gpu resources.
 *
 * Draws a solid colour with a small square moving across its middle, one
 * frame per frame callback; prints "done N" after --frames N and, at exit,
 * the frames per second it reached.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <drm_fourcc.h>
#include <gbm.h>
#include <wayland-client.h>
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "log.h"
#include "tessera-client.h"
#include "xdg-shell-client-protocol.h"

#define BUFFER_COUNT 3
#define MAX_SURFACE_SIZE 4096
#define EXIT_NO_DEVICE 3

struct dmabuf_buffer {
	struct simple_dmabuf *client;
	struct gbm_bo *bo;
	struct wl_buffer *wl_buffer;
	bool busy;
};

struct simple_dmabuf {
	/* options */
	struct tessera_client_simple_options opts;
	const char *device_path; /* NULL: the first render node */

	int drm_fd;
	struct gbm_device *gbm;
	uint32_t format; /* DRM_FORMAT_XRGB8888 or ARGB8888, what the compositor takes */
	bool format_supported[2]; /* XRGB8888, ARGB8888 advertised */

	struct wl_display *display;
	struct tessera_client_registry registry;
	struct tessera_client_global wanted[3];
	struct wl_compositor *compositor;
	struct xdg_wm_base *wm_base;
	struct zwp_linux_dmabuf_v1 *dmabuf;
	struct tessera_client_window window;
	struct wl_callback *frame_callback;

	struct dmabuf_buffer buffers[BUFFER_COUNT];
	uint32_t frames; /* frame callbacks received */
	bool redraw_on_release; /* a frame is due but no buffer is free */
	struct timespec start;
	bool running;
	int exit_code;
};

static void usage(FILE *out, const char *argv0) {
	fprintf(out,
		"usage: %s [options]\n"
		"  --device PATH   DRM render node (default: the first /dev/dri/renderD*)\n"
		"  --color RRGGBB  fill colour (default 2a9d8f)\n"
		"  --size WxH      buffer size (default 256x256)\n"
		"  --frames N      exit after N frames (default: run until closed)\n"
		"  --title STR     xdg_toplevel title\n"
		"  --help          show this help\n",
		argv0);
}

static double seconds_since(const struct timespec *start) {
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* The device: --device, or the first render node in name order. */
static int open_device(struct simple_dmabuf *client) {
	const char *path = client->device_path;
	glob_t found = {0};
	if (path == NULL) {
		if (glob("/dev/dri/renderD*", 0, NULL, &found) != 0 || found.gl_pathc == 0) {
			globfree(&found);
			tessera_log(TESSERA_ERROR, "cannot find a DRM render node: no /dev/dri/renderD* "
				"(a GPU driver is needed; --device names another node)");
			return -1;
		}
		path = found.gl_pathv[0];
	}
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot open DRM device '%s'", path);
	} else {
		tessera_log(TESSERA_INFO, "using DRM device %s", path);
	}
	globfree(&found);
	return fd;
}

static void draw(struct simple_dmabuf *client, struct dmabuf_buffer *buffer) {
	uint32_t stride = 0;
	void *map_data = NULL;
	uint8_t *pixels = gbm_bo_map(buffer->bo, 0, 0, (uint32_t)client->opts.width,
		(uint32_t)client->opts.height, GBM_BO_TRANSFER_WRITE, &stride, &map_data);
	if (pixels == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot map a GBM buffer for writing");
		client->running = false;
		client->exit_code = 1;
		return;
	}
	/* a square of an eighth of the height, moving across the middle band
	 * without touching the edges: the colour alone fills the border rows */
	int32_t side = client->opts.height / 8 > 0 ? client->opts.height / 8 : 1;
	int32_t travel = client->opts.width - 2 * side > 1 ? client->opts.width - 2 * side : 1;
	int32_t sx = side + (int32_t)((client->frames * 4u) % (uint32_t)travel);
	int32_t sy = (client->opts.height - side) / 2;
	uint32_t background = 0xff000000u | client->opts.color;
	uint32_t square = 0xff000000u | (~client->opts.color & 0xffffffu);
	for (int32_t y = 0; y < client->opts.height; y++) {
		uint32_t *row = (uint32_t *)(void *)(pixels + (size_t)y * stride);
		bool band = y >= sy && y < sy + side;
		for (int32_t x = 0; x < client->opts.width; x++) {
			row[x] = band && x >= sx && x < sx + side && sx + side < client->opts.width ?
				square : background;
		}
	}
	gbm_bo_unmap(buffer->bo, map_data);
}

static void redraw(struct simple_dmabuf *client);

static void buffer_handle_release(void *data, struct wl_buffer *wl_buffer) {
	(void)wl_buffer;
	struct dmabuf_buffer *buffer = data;
	buffer->busy = false;
	struct simple_dmabuf *client = buffer->client;
	if (client->redraw_on_release) {
		client->redraw_on_release = false;
		redraw(client);
	}
}

static const struct wl_buffer_listener buffer_listener = {
	.release = buffer_handle_release,
};

static void params_handle_created(void *data, struct zwp_linux_buffer_params_v1 *params,
		struct wl_buffer *wl_buffer) {
	(void)params;
	struct dmabuf_buffer *buffer = data;
	buffer->wl_buffer = wl_buffer;
	wl_buffer_add_listener(wl_buffer, &buffer_listener, buffer);
}

static void params_handle_failed(void *data, struct zwp_linux_buffer_params_v1 *params) {
	(void)params;
	struct dmabuf_buffer *buffer = data;
	tessera_log(TESSERA_ERROR, "cannot create a wl_buffer from a GBM dmabuf: "
		"the compositor refused it");
	buffer->client->running = false;
}

static const struct zwp_linux_buffer_params_v1_listener params_listener = {
	.created = params_handle_created,
	.failed = params_handle_failed,
};

/* Allocates the buffer object and asks the compositor for its wl_buffer
 * (created or failed arrives with the next roundtrip). */
static bool buffer_init(struct simple_dmabuf *client, struct dmabuf_buffer *buffer) {
	buffer->client = client;
	/* linear: the CPU draws into it and any importer reads it */
	buffer->bo = gbm_bo_create(client->gbm, (uint32_t)client->opts.width,
		(uint32_t)client->opts.height, client->format,
		GBM_BO_USE_LINEAR | GBM_BO_USE_RENDERING);
	if (buffer->bo == NULL) {
		/* some drivers take no usage flags for a linear buffer */
		buffer->bo = gbm_bo_create(client->gbm, (uint32_t)client->opts.width,
			(uint32_t)client->opts.height, client->format, GBM_BO_USE_LINEAR);
	}
	if (buffer->bo == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot allocate a %" PRId32 "x%" PRId32
			" GBM buffer on %s", client->opts.width, client->opts.height,
			gbm_device_get_backend_name(client->gbm));
		return false;
	}
	int planes = gbm_bo_get_plane_count(buffer->bo);
	if (planes != 1) {
		tessera_log(TESSERA_ERROR, "cannot use a GBM buffer of %d planes (expected 1)", planes);
		return false;
	}
	int fd = gbm_bo_get_fd(buffer->bo);
	if (fd < 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot export a GBM buffer as a dmabuf");
		return false;
	}
	/* drivers without modifiers (kms_swrast's dumb buffers) answer
	 * "invalid": the buffer was asked for linear, so it is */
	uint64_t modifier = gbm_bo_get_modifier(buffer->bo);
	if (modifier == DRM_FORMAT_MOD_INVALID) {
		modifier = DRM_FORMAT_MOD_LINEAR;
	}
	struct zwp_linux_buffer_params_v1 *params =
		zwp_linux_dmabuf_v1_create_params(client->dmabuf);
	zwp_linux_buffer_params_v1_add_listener(params, &params_listener, buffer);
	zwp_linux_buffer_params_v1_add(params, fd, 0, gbm_bo_get_offset(buffer->bo, 0),
		gbm_bo_get_stride(buffer->bo), (uint32_t)(modifier >> 32),
		(uint32_t)(modifier & 0xffffffffu));
	zwp_linux_buffer_params_v1_create(params, client->opts.width, client->opts.height,
		client->format, 0);
	close(fd);
	if (!tessera_client_roundtrip(client->display)) {
		zwp_linux_buffer_params_v1_destroy(params);
		return false;
	}
	zwp_linux_buffer_params_v1_destroy(params);
	return buffer->wl_buffer != NULL;
}

static void buffer_finish(struct dmabuf_buffer *buffer) {
	if (buffer->wl_buffer != NULL) {
		wl_buffer_destroy(buffer->wl_buffer);
	}
	if (buffer->bo != NULL) {
		gbm_bo_destroy(buffer->bo);
	}
	*buffer = (struct dmabuf_buffer){0};
}

static void frame_handle_done(void *data, struct wl_callback *callback, uint32_t time) {
	(void)time;
	struct simple_dmabuf *client = data;
	wl_callback_destroy(callback);
	client->frame_callback = NULL;
	client->frames++;
	if (client->opts.frames != 0 && client->frames >= client->opts.frames) {
		printf("done %" PRIu32 "\n", client->frames);
		fflush(stdout);
		client->running = false;
		return;
	}
	redraw(client);
}

static const struct wl_callback_listener frame_listener = {
	.done = frame_handle_done,
};

static void redraw(struct simple_dmabuf *client) {
	struct dmabuf_buffer *buffer = NULL;
	for (size_t i = 0; i < BUFFER_COUNT; i++) {
		if (!client->buffers[i].busy) {
			buffer = &client->buffers[i];
			break;
		}
	}
	if (buffer == NULL) {
		/* every buffer is still the compositor's: draw on the next release */
		client->redraw_on_release = true;
		return;
	}
	draw(client, buffer);
	if (!client->running) {
		return;
	}
	struct wl_surface *surface = client->window.surface;
	wl_surface_attach(surface, buffer->wl_buffer, 0, 0);
	wl_surface_damage_buffer(surface, 0, 0, client->opts.width, client->opts.height);
	client->frame_callback = wl_surface_frame(surface);
	wl_callback_add_listener(client->frame_callback, &frame_listener, client);
	wl_surface_commit(surface);
	buffer->busy = true;
}

static void window_configure(void *data, int32_t width, int32_t height) {
	(void)width;
	(void)height;
	/* the buffers keep their size: the compositor gets what it would get
	 * from any fixed-size client */
	struct simple_dmabuf *client = data;
	if (client->frame_callback == NULL && client->frames == 0) {
		clock_gettime(CLOCK_MONOTONIC, &client->start);
		redraw(client);
	}
}

static void window_close(void *data) {
	struct simple_dmabuf *client = data;
	client->running = false;
}

static const struct tessera_client_window_impl window_impl = {
	.configure = window_configure,
	.close = window_close,
};

static void dmabuf_handle_format(void *data, struct zwp_linux_dmabuf_v1 *dmabuf,
		uint32_t format) {
	(void)dmabuf;
	struct simple_dmabuf *client = data;
	if (format == DRM_FORMAT_XRGB8888) {
		client->format_supported[0] = true;
	} else if (format == DRM_FORMAT_ARGB8888) {
		client->format_supported[1] = true;
	}
}

static void dmabuf_handle_modifier(void *data, struct zwp_linux_dmabuf_v1 *dmabuf,
		uint32_t format, uint32_t modifier_hi, uint32_t modifier_lo) {
	(void)modifier_hi;
	(void)modifier_lo;
	dmabuf_handle_format(data, dmabuf, format);
}

static const struct zwp_linux_dmabuf_v1_listener dmabuf_listener = {
	.format = dmabuf_handle_format,
	.modifier = dmabuf_handle_modifier,
};

static int handle_option(void *data, int opt, const char *arg) {
	struct simple_dmabuf *client = data;
	(void)opt; /* --device, the only one */
	client->device_path = arg;
	return 0;
}

static void simple_dmabuf_finish(struct simple_dmabuf *client) {
	for (size_t i = 0; i < BUFFER_COUNT; i++) {
		buffer_finish(&client->buffers[i]);
	}
	if (client->frame_callback != NULL) {
		wl_callback_destroy(client->frame_callback);
	}
	tessera_client_window_finish(&client->window);
	tessera_client_disconnect(client->display, &client->registry);
	if (client->gbm != NULL) {
		gbm_device_destroy(client->gbm);
	}
	if (client->drm_fd >= 0) {
		close(client->drm_fd);
	}
}

int main(int argc, char *argv[]) {
	tessera_log_init(TESSERA_ERROR, NULL);

	struct simple_dmabuf client = {
		.opts = {
			.color = 0x2a9d8f,
			.width = 256,
			.height = 256,
			.max_size = MAX_SURFACE_SIZE,
			.title = "tessera-simple-dmabuf",
			.usage = usage,
		},
		.drm_fd = -1,
		.running = true,
	};
	static const struct option device_option[] = {
		{"device", required_argument, NULL, 'd'},
	};
	const struct tessera_client_extra_options extra = {
		.options = device_option, .count = 1, .handle = handle_option, .data = &client,
	};
	int ret = tessera_client_parse_simple_options(&client.opts, argc, argv, &extra);
	if (ret != 0) {
		return ret < 0 ? 0 : ret;
	}

	/* the device first: without it there is nothing to show */
	client.drm_fd = open_device(&client);
	if (client.drm_fd < 0) {
		return EXIT_NO_DEVICE;
	}
	client.gbm = gbm_create_device(client.drm_fd);
	if (client.gbm == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot create a GBM device on the DRM node");
		simple_dmabuf_finish(&client);
		return EXIT_NO_DEVICE;
	}

	int signal_fd = tessera_client_signalfd((const int[]){ SIGTERM, SIGINT }, 2);
	if (signal_fd < 0) {
		simple_dmabuf_finish(&client);
		return 1;
	}
	ret = 1;
	client.display = wl_display_connect(NULL);
	if (client.display == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot connect to the Wayland compositor");
		goto out;
	}
	client.wanted[0] = (struct tessera_client_global){ &wl_compositor_interface, 4, 4,
		(void **)&client.compositor, NULL, NULL };
	client.wanted[1] = (struct tessera_client_global){ &xdg_wm_base_interface, 1, 1,
		(void **)&client.wm_base, &tessera_client_wm_base_listener, NULL };
	/* version 3: formats and modifiers as events, create with created/failed */
	client.wanted[2] = (struct tessera_client_global){ &zwp_linux_dmabuf_v1_interface, 3, 3,
		(void **)&client.dmabuf, &dmabuf_listener, &client };
	tessera_client_registry_init(&client.registry, client.display, client.wanted, 3);
	/* the globals, then the dmabuf formats */
	if (!tessera_client_roundtrip(client.display) ||
			!tessera_client_roundtrip(client.display)) {
		goto out;
	}
	if (!tessera_client_registry_check(&client.registry)) {
		goto out;
	}
	if (client.format_supported[0]) {
		client.format = DRM_FORMAT_XRGB8888;
	} else if (client.format_supported[1]) {
		client.format = DRM_FORMAT_ARGB8888;
	} else {
		tessera_log(TESSERA_ERROR, "cannot share buffers: the compositor takes neither "
			"XRGB8888 nor ARGB8888 dmabufs");
		goto out;
	}
	for (size_t i = 0; i < BUFFER_COUNT; i++) {
		if (!buffer_init(&client, &client.buffers[i])) {
			goto out;
		}
	}

	tessera_client_window_init(&client.window, client.compositor, client.wm_base,
		client.opts.title, &window_impl, &client);
	xdg_toplevel_set_app_id(client.window.xdg_toplevel, "tessera-simple-dmabuf");
	wl_surface_commit(client.window.surface);
	const struct tessera_client_fd fds[] = {
		{ .fd = signal_fd, .handle = tessera_client_handle_stop_signal, .data = &signal_fd },
	};
	ret = tessera_client_run(client.display, fds, 1, &client.running) ?
		client.exit_code : 1;
	if (client.frames > 0) {
		double seconds = seconds_since(&client.start);
		printf("%" PRIu32 " frames in %.2f s: %.1f frames/s\n", client.frames, seconds,
			seconds > 0 ? client.frames / seconds : 0.0);
	}

out:
	close(signal_fd);
	simple_dmabuf_finish(&client);
	return ret;
}
