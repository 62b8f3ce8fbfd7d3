/*
 * output-client: a guest client that reports the outputs it sees and
 * shows a 1-pixel checkerboard at a chosen density (tests/agent:
 * test_outputs.py, test_scale.py).
 *
 * Prints, one line each, flushed:
 *   "output ID X Y W H SCALE"  on every wl_output.done and xdg_output.done
 *                              (ID: the registry name; X Y: the xdg_output
 *                              logical position; W H: the current mode)
 *   "output-removed ID"        when the global goes
 *   "enter X Y" / "leave X Y"  wl_surface.enter/leave of the window, the
 *                              output named by its logical position
 *   "mapped"                   once the first buffer was presented
 *                              (frame callback)
 *
 * --size WxH        the window's size in surface coordinates (200x120)
 * --density D       buffer pixels per surface pixel, 1..4 (1): the buffer
 *                   is (W*D)x(H*D)
 * --buffer-scale S  wl_surface.set_buffer_scale (default: D; without
 *                   --viewport it must be D)
 * --viewport        a wp_viewport with the whole buffer as its source and
 *                   W x H as its destination
 * --colors A,B      the checkerboard's colours RRGGBB (ff0000,0000ff):
 *                   A where x + y is even, in buffer pixels
 * --no-window       only report the outputs
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-client.h>

#include "color.h"
#include "tessera-client.h"
#include "viewporter-client-protocol.h"
#include "xdg-output-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#define MAX_OUTPUTS 16

struct output {
	struct client *client;
	uint32_t name;
	struct wl_output *wl_output;
	struct zxdg_output_v1 *xdg_output;
	int32_t x, y, width, height, scale;
	bool used;
};

struct client {
	struct wl_display *display;
	struct wl_registry *registry;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wp_viewporter *viewporter;
	struct zxdg_output_manager_v1 *xdg_output_manager;
	struct output outputs[MAX_OUTPUTS];
	struct tessera_client_window window;
	struct tessera_client_shm_buffer buffer;
	bool mapped;
};

static void die(const char *message) {
	fprintf(stderr, "output-client: %s\n", message);
	exit(1);
}

static void say(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *format, ...) {
	va_list args;
	va_start(args, format);
	vprintf(format, args);
	va_end(args);
	fflush(stdout);
}

static void report(struct output *out) {
	say("output %u %d %d %d %d %d\n", out->name, out->x, out->y, out->width, out->height,
		out->scale);
}

static void output_geometry(void *data, struct wl_output *wl_output, int32_t x, int32_t y,
		int32_t pw, int32_t ph, int32_t subpixel, const char *make, const char *model,
		int32_t transform) {
}

static void output_mode(void *data, struct wl_output *wl_output, uint32_t flags,
		int32_t width, int32_t height, int32_t refresh) {
	struct output *out = data;
	if (flags & WL_OUTPUT_MODE_CURRENT) {
		out->width = width;
		out->height = height;
	}
}

static void output_done(void *data, struct wl_output *wl_output) {
	report(data);
}

static void output_scale(void *data, struct wl_output *wl_output, int32_t factor) {
	struct output *out = data;
	out->scale = factor;
}

static const struct wl_output_listener output_listener = {
	.geometry = output_geometry,
	.mode = output_mode,
	.done = output_done,
	.scale = output_scale,
};

static void xdg_output_position(void *data, struct zxdg_output_v1 *xdg_output,
		int32_t x, int32_t y) {
	struct output *out = data;
	out->x = x;
	out->y = y;
}

static void xdg_output_size(void *data, struct zxdg_output_v1 *xdg_output,
		int32_t width, int32_t height) {
}

static void xdg_output_done(void *data, struct zxdg_output_v1 *xdg_output) {
	report(data);
}

static void xdg_output_name(void *data, struct zxdg_output_v1 *xdg_output,
		const char *name) {
}

static const struct zxdg_output_v1_listener xdg_output_listener = {
	.logical_position = xdg_output_position,
	.logical_size = xdg_output_size,
	.done = xdg_output_done,
	.name = xdg_output_name,
	.description = xdg_output_name,
};

static void output_get_xdg(struct client *c, struct output *out) {
	if (c->xdg_output_manager != NULL && out->xdg_output == NULL) {
		out->xdg_output = zxdg_output_manager_v1_get_xdg_output(c->xdg_output_manager,
			out->wl_output);
		zxdg_output_v1_add_listener(out->xdg_output, &xdg_output_listener, out);
	}
}

static void registry_global(void *data, struct wl_registry *registry, uint32_t name,
		const char *interface, uint32_t version) {
	struct client *c = data;
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		c->compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		c->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		c->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
		xdg_wm_base_add_listener(c->wm_base, &tessera_client_wm_base_listener, c);
	} else if (strcmp(interface, wp_viewporter_interface.name) == 0) {
		c->viewporter = wl_registry_bind(registry, name, &wp_viewporter_interface, 1);
	} else if (strcmp(interface, zxdg_output_manager_v1_interface.name) == 0) {
		c->xdg_output_manager = wl_registry_bind(registry, name,
			&zxdg_output_manager_v1_interface, 2);
		for (int i = 0; i < MAX_OUTPUTS; i++) {
			if (c->outputs[i].used) {
				output_get_xdg(c, &c->outputs[i]);
			}
		}
	} else if (strcmp(interface, wl_output_interface.name) == 0 && version >= 2) {
		for (int i = 0; i < MAX_OUTPUTS; i++) {
			struct output *out = &c->outputs[i];
			if (!out->used) {
				*out = (struct output){ .client = c, .name = name, .scale = 1,
					.used = true };
				out->wl_output = wl_registry_bind(registry, name, &wl_output_interface, 2);
				wl_output_add_listener(out->wl_output, &output_listener, out);
				output_get_xdg(c, out);
				return;
			}
		}
		die("too many outputs");
	}
}

static void registry_global_remove(void *data, struct wl_registry *registry, uint32_t name) {
	struct client *c = data;
	for (int i = 0; i < MAX_OUTPUTS; i++) {
		struct output *out = &c->outputs[i];
		if (out->used && out->name == name) {
			say("output-removed %u\n", name);
			if (out->xdg_output != NULL) {
				zxdg_output_v1_destroy(out->xdg_output);
			}
			wl_output_destroy(out->wl_output);
			out->used = false;
		}
	}
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_global_remove,
};

static void surface_output(struct client *c, struct wl_output *wl_output, const char *what) {
	for (int i = 0; i < MAX_OUTPUTS; i++) {
		if (c->outputs[i].used && c->outputs[i].wl_output == wl_output) {
			say("%s %d %d\n", what, c->outputs[i].x, c->outputs[i].y);
		}
	}
}

static void surface_enter(void *data, struct wl_surface *surface, struct wl_output *output) {
	surface_output(data, output, "enter");
}

static void surface_leave(void *data, struct wl_surface *surface, struct wl_output *output) {
	surface_output(data, output, "leave");
}

static const struct wl_surface_listener surface_listener = {
	.enter = surface_enter,
	.leave = surface_leave,
};

static void frame_done(void *data, struct wl_callback *callback, uint32_t time) {
	struct client *c = data;
	wl_callback_destroy(callback);
	if (!c->mapped) {
		c->mapped = true;
		say("mapped\n");
	}
}

static const struct wl_callback_listener frame_listener = { .done = frame_done };

int main(int argc, char *argv[]) {
	int32_t width = 200, height = 120;
	uint32_t density = 1, buffer_scale = 0;
	uint32_t colors[2] = { 0xff0000, 0x0000ff };
	bool viewport = false, window = true;
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "density", required_argument, NULL, 'd' },
		{ "buffer-scale", required_argument, NULL, 'b' },
		{ "viewport", no_argument, NULL, 'v' },
		{ "colors", required_argument, NULL, 'c' },
		{ "no-window", no_argument, NULL, 'n' },
		{ 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char a[16], b[16];
		switch (opt) {
		case 's':
			if (!tessera_client_parse_size(optarg, 2048, &width, &height)) {
				die("--size WxH, 1..2048");
			}
			break;
		case 'd':
			if (!tessera_client_parse_uint(optarg, 4, &density) || density == 0) {
				die("--density 1..4");
			}
			break;
		case 'b':
			if (!tessera_client_parse_uint(optarg, 4, &buffer_scale) || buffer_scale == 0) {
				die("--buffer-scale 1..4");
			}
			break;
		case 'v':
			viewport = true;
			break;
		case 'c':
			if (sscanf(optarg, "%15[^,],%15s", a, b) != 2 ||
					!tessera_color_parse(a, &colors[0]) ||
					!tessera_color_parse(b, &colors[1])) {
				die("--colors RRGGBB,RRGGBB");
			}
			break;
		case 'n':
			window = false;
			break;
		default:
			die("usage: output-client [--size WxH] [--density D] [--buffer-scale S] "
				"[--viewport] [--colors A,B] [--no-window]");
		}
	}
	if (buffer_scale == 0) {
		buffer_scale = density;
	}
	if (!viewport && buffer_scale != density) {
		die("without --viewport the buffer scale is the density");
	}
	struct client c = {0};
	c.display = wl_display_connect(NULL);
	if (c.display == NULL) {
		die("cannot connect to the compositor");
	}
	c.registry = wl_display_get_registry(c.display);
	wl_registry_add_listener(c.registry, &registry_listener, &c);
	if (wl_display_roundtrip(c.display) == -1 || wl_display_roundtrip(c.display) == -1) {
		die("lost the connection");
	}
	if (window) {
		if (c.compositor == NULL || c.shm == NULL || c.wm_base == NULL ||
				(viewport && c.viewporter == NULL)) {
			die("missing globals");
		}
		tessera_client_window_init(&c.window, c.compositor, c.wm_base, "output-client",
			NULL, NULL);
		wl_surface_add_listener(c.window.surface, &surface_listener, &c);
		wl_surface_commit(c.window.surface);
		while (!c.window.configured && wl_display_dispatch(c.display) != -1) {
		}
		int32_t bw = width * (int32_t)density, bh = height * (int32_t)density;
		if (!tessera_client_shm_buffer_init(&c.buffer, c.shm, "output-client", bw, bh)) {
			die("cannot make the buffer");
		}
		uint32_t *pixels = c.buffer.data;
		for (int32_t y = 0; y < bh; y++) {
			for (int32_t x = 0; x < bw; x++) {
				pixels[y * bw + x] = colors[(x + y) % 2];
			}
		}
		if (viewport) {
			struct wp_viewport *vp = wp_viewporter_get_viewport(c.viewporter,
				c.window.surface);
			wp_viewport_set_source(vp, 0, 0, wl_fixed_from_int(bw / (int32_t)buffer_scale),
				wl_fixed_from_int(bh / (int32_t)buffer_scale));
			wp_viewport_set_destination(vp, width, height);
		}
		wl_surface_set_buffer_scale(c.window.surface, (int32_t)buffer_scale);
		wl_surface_attach(c.window.surface, c.buffer.wl_buffer, 0, 0);
		wl_surface_damage_buffer(c.window.surface, 0, 0, bw, bh);
		wl_callback_add_listener(wl_surface_frame(c.window.surface), &frame_listener, &c);
		wl_surface_commit(c.window.surface);
	}
	/* stay until told to go: the picture must stay on screen */
	while (wl_display_dispatch(c.display) != -1) {
	}
	return 0;
}
