/*
 * guest-client: a test client for the agent's loopback tests.
 *
 * It destroys every wl_buffer right after committing it (while the
 * compositor still uses it), for --frames frames: the agent must keep the
 * picture (its copy) until the next frame, release nothing early and leak
 * nothing. With --subsurface X,Y,W,H,RRGGBB it also shows a solid
 * subsurface at (X, Y) above its window (desynchronized, committed once).
 *
 * Usage: guest-client [--frames N] [--color RRGGBB] [--title T]
 *                     [--subsurface X,Y,W,H,RRGGBB]
 * Prints "mapped" after the first frame callback and "done N" at the end,
 * then stays until it is terminated.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

#define MAX_SUB 4096

#define WIDTH 160
#define HEIGHT 100

struct churn {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct wl_subcompositor *subcompositor;
	struct xdg_wm_base *wm_base;
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	bool configured;
	int frames, done;
	uint32_t color;
	bool waiting;
};

static void registry_global(void *data, struct wl_registry *registry, uint32_t name,
		const char *interface, uint32_t version) {
	struct churn *c = data;
	if (strcmp(interface, wl_compositor_interface.name) == 0) {
		c->compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		c->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, wl_subcompositor_interface.name) == 0) {
		c->subcompositor = wl_registry_bind(registry, name, &wl_subcompositor_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		c->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
	}
}

static void registry_global_remove(void *data, struct wl_registry *registry,
		uint32_t name) {
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_global_remove,
};

static void wm_base_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial) {
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = { .ping = wm_base_ping };

static void xdg_surface_configure(void *data, struct xdg_surface *xdg_surface,
		uint32_t serial) {
	struct churn *c = data;
	xdg_surface_ack_configure(xdg_surface, serial);
	c->configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = xdg_surface_configure,
};

static void toplevel_configure(void *data, struct xdg_toplevel *toplevel, int32_t w,
		int32_t h, struct wl_array *states) {
}

static void toplevel_close(void *data, struct xdg_toplevel *toplevel) {
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_configure,
	.close = toplevel_close,
};

static void draw_frame(struct churn *c);

static void frame_done(void *data, struct wl_callback *callback, uint32_t time) {
	struct churn *c = data;
	wl_callback_destroy(callback);
	c->waiting = false;
	if (c->done == 1) {
		printf("mapped\n");
		fflush(stdout);
	}
}

static const struct wl_callback_listener frame_listener = { .done = frame_done };

static struct wl_buffer *solid_buffer(struct churn *c, int width, int height,
		uint32_t color) {
	int stride = width * 4, size = stride * height;
	int fd = memfd_create("guest-client", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, size) != 0) {
		perror("memfd");
		exit(1);
	}
	uint32_t *pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (pixels == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (int i = 0; i < width * height; i++) {
		pixels[i] = 0xff000000u | color;
	}
	munmap(pixels, size);
	struct wl_shm_pool *pool = wl_shm_create_pool(c->shm, fd, size);
	struct wl_buffer *buffer = wl_shm_pool_create_buffer(pool, 0, width, height, stride,
		WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return buffer;
}

/* A fresh buffer every frame, destroyed right after the commit. */
static void draw_frame(struct churn *c) {
	/* the last frame has the requested colour, the others a darker one */
	uint32_t color = c->done + 1 == c->frames ? c->color : (c->color >> 1) & 0x7f7f7f;
	struct wl_buffer *buffer = solid_buffer(c, WIDTH, HEIGHT, color);
	wl_surface_attach(c->surface, buffer, 0, 0);
	wl_surface_damage(c->surface, 0, 0, WIDTH, HEIGHT);
	struct wl_callback *cb = wl_surface_frame(c->surface);
	wl_callback_add_listener(cb, &frame_listener, c);
	wl_surface_commit(c->surface);
	wl_buffer_destroy(buffer); /* while the compositor uses it */
	c->waiting = true;
	c->done++;
}

int main(int argc, char *argv[]) {
	struct churn c = { .frames = 60, .color = 0x33cc33 };
	const char *title = "guest-client";
	int sub_x = 0, sub_y = 0, sub_w = 0, sub_h = 0;
	unsigned sub_color = 0;
	static const struct option opts[] = {
		{ "frames", required_argument, NULL, 'f' },
		{ "color", required_argument, NULL, 'c' },
		{ "title", required_argument, NULL, 't' },
		{ "subsurface", required_argument, NULL, 's' },
		{ 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			c.frames = atoi(optarg);
			break;
		case 'c':
			c.color = (uint32_t)strtoul(optarg, NULL, 16) & 0xffffff;
			break;
		case 't':
			title = optarg;
			break;
		case 's':
			if (sscanf(optarg, "%d,%d,%d,%d,%x", &sub_x, &sub_y, &sub_w, &sub_h,
					&sub_color) != 5 || sub_w < 1 || sub_h < 1 || sub_w > MAX_SUB ||
					sub_h > MAX_SUB || abs(sub_x) > MAX_SUB || abs(sub_y) > MAX_SUB) {
				fprintf(stderr, "guest-client: --subsurface X,Y,W,H,RRGGBB\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: guest-client [--frames N] [--color RRGGBB] "
				"[--title T] [--subsurface X,Y,W,H,RRGGBB]\n");
			return 2;
		}
	}
	if (c.frames < 1 || c.frames > 100000) {
		fprintf(stderr, "guest-client: --frames out of range\n");
		return 2;
	}
	c.display = wl_display_connect(NULL);
	if (c.display == NULL) {
		fprintf(stderr, "guest-client: cannot connect\n");
		return 1;
	}
	struct wl_registry *registry = wl_display_get_registry(c.display);
	wl_registry_add_listener(registry, &registry_listener, &c);
	wl_display_roundtrip(c.display);
	if (c.compositor == NULL || c.shm == NULL || c.wm_base == NULL) {
		fprintf(stderr, "guest-client: missing globals\n");
		return 1;
	}
	xdg_wm_base_add_listener(c.wm_base, &wm_base_listener, &c);
	c.surface = wl_compositor_create_surface(c.compositor);
	c.xdg_surface = xdg_wm_base_get_xdg_surface(c.wm_base, c.surface);
	xdg_surface_add_listener(c.xdg_surface, &xdg_surface_listener, &c);
	c.toplevel = xdg_surface_get_toplevel(c.xdg_surface);
	xdg_toplevel_add_listener(c.toplevel, &toplevel_listener, &c);
	xdg_toplevel_set_title(c.toplevel, title);
	wl_surface_commit(c.surface);
	while (!c.configured && wl_display_dispatch(c.display) != -1) {
	}
	if (sub_w > 0) {
		if (c.subcompositor == NULL) {
			fprintf(stderr, "guest-client: no wl_subcompositor\n");
			return 1;
		}
		struct wl_surface *child = wl_compositor_create_surface(c.compositor);
		struct wl_subsurface *sub = wl_subcompositor_get_subsurface(c.subcompositor,
			child, c.surface);
		wl_subsurface_set_position(sub, sub_x, sub_y);
		wl_subsurface_set_desync(sub);
		struct wl_buffer *buffer = solid_buffer(&c, sub_w, sub_h, sub_color & 0xffffff);
		wl_surface_attach(child, buffer, 0, 0);
		wl_surface_damage(child, 0, 0, sub_w, sub_h);
		wl_surface_commit(child);
		/* position and stacking apply with the parent's commit (below) */
	}
	while (c.done < c.frames) {
		draw_frame(&c);
		while (c.waiting && wl_display_dispatch(c.display) != -1) {
		}
		if (c.waiting) {
			fprintf(stderr, "guest-client: lost the connection\n");
			return 1;
		}
	}
	printf("done %d\n", c.done);
	fflush(stdout);
	/* stay until told to go: the last picture must stay on screen */
	while (wl_display_dispatch(c.display) != -1) {
	}
	return 0;
}
