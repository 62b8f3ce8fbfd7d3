/*
 * guest-client: a test client for tessera-agent (loopback and real guest).
 *
 * A 160x100 toplevel showing --color, for --frames frames (each waits for
 * the previous frame callback). Buffers, chosen by --buffers:
 *   churn   a new wl_shm buffer every frame, destroyed right after the
 *           commit (while the compositor still uses it): the agent keeps
 *           its copy, releases nothing early and leaks nothing (default);
 *   dumb    two zwp_linux_dmabuf_v1 buffers made from virtio-gpu dumb
 *           buffers of the DRM card node, exported with PRIME: the agent
 *           forwards them with zero copies (a guest only);
 *   render  the same with 3D resources of the render node (virtgpu
 *           RESOURCE_CREATE, a 2D texture in BGRX) (a guest only);
 *   memfd   two linux-dmabuf buffers whose fds are sealed memfds: a
 *           "foreign" dmabuf that the agent copies.
 * Double-buffered modes reuse a buffer only after wl_buffer.release.
 *
 * --subsurface X,Y,W,H,RRGGBB adds a solid desynchronized subsurface at
 * (X, Y) (up to 4). --popup X,Y,W,H,RRGGBB opens a solid W x H xdg_popup
 * anchored at the point (X, Y) of the window, gravity bottom-right, once
 * mapped. --cursor RRGGBB sets a solid 16x16 cursor surface (hotspot 8,8)
 * on pointer enter. --size WxH changes the window size, --min-size WxH
 * sets xdg_toplevel's minimum size; configures are printed as "configure W
 * H", followed by "states NAME..." (maximized fullscreen resizing
 * activated tiled, or "none"). --geometry X,Y,W,H sets the window
 * geometry (xdg_surface) from the start. --shadow N,RRGGBB draws the window
 * as a client-side decorated one does: a buffer N pixels larger on every
 * side, that border in the shadow colour, and the window geometry
 * (N, N, W, H) around the --color content (wl_shm, churn only).
 * --empty-commit commits once
 * without a buffer after acking the second configure (through the agent:
 * the first that comes from the host), before the first frame, as foot
 * does. --damage X,Y,W,H (up to 8) damages only
 * those rectangles in every frame but the first (which damages all).
 * Pointer events are
 * printed as "pointer enter X Y", "pointer motion X Y" (surface
 * coordinates), "pointer button CODE STATE", "pointer axis
 * AXIS VALUE DISCRETE", "pointer leave".
 *
 * --trigger FILE --request REQ...: once the frames are done, waits until
 * FILE exists (relative to the working directory), then sends each REQ in
 * order: maximize, unmaximize, fullscreen, unfullscreen, minimize, move,
 * resize (xdg_toplevel requests; move and resize with the serial of the
 * last configure), geometry=X,Y,W,H (xdg_surface.set_window_geometry);
 * then commits one more frame and prints "requested" once it is done.
 *
 * Prints "mapped", "popup configure X Y W H", "popup mapped", "release
 * N" lines and "done N" at the end, then stays until terminated.
 */
#define _GNU_SOURCE
#include <drm_fourcc.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>
#include <virtgpu_drm.h>
#include <xf86drm.h>

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "tessera-client.h"
#include "xdg-shell-client-protocol.h"

#define WIDTH 160
#define HEIGHT 100
#define MAX_SIZE 4096
#define MAX_SUBSURFACES 4
#define MAX_DAMAGE 8
#define MAX_REQUESTS 16

enum mode { MODE_CHURN, MODE_DUMB, MODE_RENDER, MODE_MEMFD };

struct box {
	int x, y, w, h;
	uint32_t color;
};

struct buffer {
	struct wl_buffer *wl_buffer;
	uint32_t *pixels;
	size_t size;
	bool busy;
	int index;
};

struct client {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct wl_subcompositor *subcompositor;
	struct xdg_wm_base *wm_base;
	struct zwp_linux_dmabuf_v1 *dmabuf;
	struct wl_seat *seat;
	struct wl_pointer *pointer;
	struct wl_surface *cursor_surface;
	uint32_t cursor_color;
	bool cursor;
	int width, height;
	struct tessera_client_window window;
	int frames, done;
	uint32_t color;
	bool waiting;
	enum mode mode;
	int drm_fd;
	struct buffer buffers[2];
	int releases;
	/* popup */
	struct wl_surface *popup_surface;
	struct xdg_surface *popup_xdg;
	bool popup_configured;
	int popup_w, popup_h;
	uint32_t popup_color;
	/* partial damage of the frames after the first */
	struct box damage[MAX_DAMAGE];
	int n_damage;
	int configures; /* received */
	/* --shadow: border width around the window geometry, its colour */
	int shadow;
	uint32_t shadow_color;
};

static void die(const char *what) {
	fprintf(stderr, "guest-client: %s\n", what);
	exit(1);
}

static void window_configure(void *data, int32_t w, int32_t h) {
	struct client *c = data;
	c->configures++;
	static const char *const names[] = {
		[XDG_TOPLEVEL_STATE_MAXIMIZED] = "maximized",
		[XDG_TOPLEVEL_STATE_FULLSCREEN] = "fullscreen",
		[XDG_TOPLEVEL_STATE_RESIZING] = "resizing",
		[XDG_TOPLEVEL_STATE_ACTIVATED] = "activated",
		[XDG_TOPLEVEL_STATE_TILED_LEFT] = "tiled",
		[XDG_TOPLEVEL_STATE_TILED_RIGHT] = "tiled",
		[XDG_TOPLEVEL_STATE_TILED_TOP] = "tiled",
		[XDG_TOPLEVEL_STATE_TILED_BOTTOM] = "tiled",
	};
	printf("configure %d %d\nstates", w, h);
	uint32_t states = c->window.pending_states;
	for (uint32_t i = 0; i < 32; i++) {
		if (states & (UINT32_C(1) << i)) {
			printf(" %s", i < sizeof(names) / sizeof(names[0]) && names[i] != NULL ?
				names[i] : "other");
		}
	}
	printf("%s\n", states == 0 ? " none" : "");
	fflush(stdout);
}

static const struct tessera_client_window_impl window_impl = {
	.configure = window_configure,
};

static void frame_done(void *data, struct wl_callback *callback, uint32_t time) {
	struct client *c = data;
	wl_callback_destroy(callback);
	c->waiting = false;
	if (c->done == 1) {
		printf("mapped\n");
		fflush(stdout);
	}
}

static const struct wl_callback_listener frame_listener = { .done = frame_done };

static void buffer_release(void *data, struct wl_buffer *wl_buffer) {
	struct buffer *b = data;
	b->busy = false;
	printf("release %d\n", b->index);
	fflush(stdout);
}

static const struct wl_buffer_listener buffer_listener = { .release = buffer_release };

static void fill(uint32_t *pixels, size_t count, uint32_t color) {
	for (size_t i = 0; i < count; i++) {
		pixels[i] = 0xff000000u | color;
	}
}

static struct wl_buffer *shm_buffer(struct client *c, int width, int height,
		uint32_t color) {
	struct tessera_client_shm_buffer shm;
	if (!tessera_client_shm_buffer_init(&shm, c->shm, "guest-client", width, height)) {
		die("memfd failed");
	}
	fill(shm.data, (size_t)width * height, color);
	struct wl_buffer *buffer = shm.wl_buffer;
	shm.wl_buffer = NULL; /* the caller's: only unmap */
	tessera_client_shm_buffer_finish(&shm);
	return buffer;
}

/* --shadow: the window's content inside a border of shadow colour. */
static struct wl_buffer *shadow_buffer(struct client *c, uint32_t color) {
	int s = c->shadow, width = c->width + 2 * s, height = c->height + 2 * s;
	struct tessera_client_shm_buffer shm;
	if (!tessera_client_shm_buffer_init(&shm, c->shm, "guest-client", width, height)) {
		die("memfd failed");
	}
	uint32_t *pixels = shm.data;
	fill(pixels, (size_t)width * height, c->shadow_color);
	for (int y = s; y < s + c->height; y++) {
		fill(pixels + (size_t)y * width + s, (size_t)c->width, color);
	}
	struct wl_buffer *buffer = shm.wl_buffer;
	shm.wl_buffer = NULL; /* the caller's: only unmap */
	tessera_client_shm_buffer_finish(&shm);
	return buffer;
}

/* A DRM node of the virtio_gpu driver: the card node (dumb buffers live
 * there) or the render node. */
static int open_virtio_gpu(bool render) {
	for (int i = 0; i < 16; i++) {
		char path[64];
		snprintf(path, sizeof(path), render ? "/dev/dri/renderD%d" : "/dev/dri/card%d",
			render ? 128 + i : i);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			continue;
		}
		drmVersionPtr v = drmGetVersion(fd);
		bool ok = v != NULL && strcmp(v->name, "virtio_gpu") == 0;
		drmFreeVersion(v);
		if (ok) {
			return fd;
		}
		close(fd);
	}
	return -1;
}

static void dmabuf_buffer(struct client *c, struct buffer *b, int index) {
	int fd = -1;
	uint32_t stride = (uint32_t)c->width * 4;
	size_t size = (size_t)stride * (size_t)c->height;
	if (c->mode == MODE_DUMB) {
		struct drm_mode_create_dumb create = {
			.width = (uint32_t)c->width, .height = (uint32_t)c->height, .bpp = 32,
		};
		if (drmIoctl(c->drm_fd, DRM_IOCTL_MODE_CREATE_DUMB, &create) != 0) {
			die("DRM_IOCTL_MODE_CREATE_DUMB failed");
		}
		struct drm_mode_map_dumb map = { .handle = create.handle };
		if (drmIoctl(c->drm_fd, DRM_IOCTL_MODE_MAP_DUMB, &map) != 0) {
			die("DRM_IOCTL_MODE_MAP_DUMB failed");
		}
		stride = create.pitch;
		size = create.size;
		b->pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, c->drm_fd,
			(off_t)map.offset);
		if (drmPrimeHandleToFD(c->drm_fd, create.handle, DRM_CLOEXEC | DRM_RDWR, &fd) != 0) {
			die("PRIME export of the dumb buffer failed");
		}
	} else if (c->mode == MODE_RENDER) {
		/* gallium's PIPE_TEXTURE_2D, B8G8R8X8 (= XRGB8888 in memory) */
		struct drm_virtgpu_resource_create create = {
			.target = 2, .format = 2, .bind = (1u << 1) | (1u << 3),
			.width = (uint32_t)c->width, .height = (uint32_t)c->height,
			.depth = 1, .array_size = 1, .size = (uint32_t)size, .stride = stride,
		};
		if (drmIoctl(c->drm_fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &create) != 0) {
			die("DRM_IOCTL_VIRTGPU_RESOURCE_CREATE failed");
		}
		struct drm_virtgpu_map map = { .handle = create.bo_handle };
		if (drmIoctl(c->drm_fd, DRM_IOCTL_VIRTGPU_MAP, &map) != 0) {
			die("DRM_IOCTL_VIRTGPU_MAP failed");
		}
		b->pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, c->drm_fd,
			(off_t)map.offset);
		if (drmPrimeHandleToFD(c->drm_fd, create.bo_handle, DRM_CLOEXEC | DRM_RDWR,
				&fd) != 0) {
			die("PRIME export of the 3D resource failed");
		}
	} else {
		fd = memfd_create("guest-client-dmabuf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0 || ftruncate(fd, (off_t)size) != 0 ||
				fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) {
			die("sealed memfd failed");
		}
		b->pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	}
	if (b->pixels == MAP_FAILED) {
		die("mapping the buffer failed");
	}
	b->size = size;
	b->index = index;
	struct zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(c->dmabuf);
	zwp_linux_buffer_params_v1_add(params, fd, 0, 0, stride,
		(uint32_t)(DRM_FORMAT_MOD_LINEAR >> 32), (uint32_t)DRM_FORMAT_MOD_LINEAR);
	b->wl_buffer = zwp_linux_buffer_params_v1_create_immed(params, c->width, c->height,
		DRM_FORMAT_XRGB8888, 0);
	zwp_linux_buffer_params_v1_destroy(params);
	close(fd);
	wl_buffer_add_listener(b->wl_buffer, &buffer_listener, b);
}

static void draw_frame(struct client *c) {
	/* the last frame has the requested colour, the others a darker one */
	uint32_t color = c->done + 1 >= c->frames ? c->color : (c->color >> 1) & 0x7f7f7f;
	struct wl_buffer *wl_buffer;
	if (c->mode == MODE_CHURN && c->shadow > 0) {
		wl_buffer = shadow_buffer(c, color);
	} else if (c->mode == MODE_CHURN) {
		wl_buffer = shm_buffer(c, c->width, c->height, color);
	} else {
		struct buffer *b = &c->buffers[c->done % 2];
		while (b->busy && wl_display_dispatch(c->display) != -1) {
		}
		/* a dumb buffer's pitch may exceed width * 4: fill every row */
		fill(b->pixels, b->size / 4, color);
		b->busy = true;
		wl_buffer = b->wl_buffer;
	}
	wl_surface_attach(c->window.surface, wl_buffer, 0, 0);
	if (c->done == 0 || c->n_damage == 0) {
		wl_surface_damage(c->window.surface, 0, 0, c->width + 2 * c->shadow,
			c->height + 2 * c->shadow);
	}
	for (int i = 0; c->done > 0 && i < c->n_damage; i++) {
		wl_surface_damage(c->window.surface, c->damage[i].x, c->damage[i].y,
			c->damage[i].w, c->damage[i].h);
	}
	struct wl_callback *cb = wl_surface_frame(c->window.surface);
	wl_callback_add_listener(cb, &frame_listener, c);
	wl_surface_commit(c->window.surface);
	if (c->mode == MODE_CHURN) {
		wl_buffer_destroy(wl_buffer); /* while the compositor uses it */
	}
	c->waiting = true;
	c->done++;
}

static void print_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void print_line(const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	putchar('\n');
	fflush(stdout);
}

static void pointer_enter(void *data, struct wl_pointer *pointer, uint32_t serial,
		struct wl_surface *surface, wl_fixed_t x, wl_fixed_t y) {
	struct client *c = data;
	print_line("pointer enter %d %d", wl_fixed_to_int(x), wl_fixed_to_int(y));
	if (c->cursor) {
		wl_pointer_set_cursor(pointer, serial, c->cursor_surface, 8, 8);
	}
}

static void pointer_leave(void *data, struct wl_pointer *pointer, uint32_t serial,
		struct wl_surface *surface) {
	print_line("pointer leave");
}

static void pointer_motion(void *data, struct wl_pointer *pointer, uint32_t time,
		wl_fixed_t x, wl_fixed_t y) {
	print_line("pointer motion %d %d", wl_fixed_to_int(x), wl_fixed_to_int(y));
}

static void pointer_button(void *data, struct wl_pointer *pointer, uint32_t serial,
		uint32_t time, uint32_t button, uint32_t state) {
	print_line("pointer button %u %s", button, state ? "pressed" : "released");
}

static void pointer_axis(void *data, struct wl_pointer *pointer, uint32_t time,
		uint32_t axis, wl_fixed_t value) {
	print_line("pointer axis %u %d", axis, wl_fixed_to_int(value));
}

static void pointer_frame(void *data, struct wl_pointer *pointer) {
}

static void pointer_axis_source(void *data, struct wl_pointer *pointer, uint32_t source) {
}

static void pointer_axis_stop(void *data, struct wl_pointer *pointer, uint32_t time,
		uint32_t axis) {
}

static void pointer_axis_discrete(void *data, struct wl_pointer *pointer, uint32_t axis,
		int32_t discrete) {
	print_line("pointer discrete %u %d", axis, discrete);
}

static const struct wl_pointer_listener pointer_listener = {
	.enter = pointer_enter,
	.leave = pointer_leave,
	.motion = pointer_motion,
	.button = pointer_button,
	.axis = pointer_axis,
	.frame = pointer_frame,
	.axis_source = pointer_axis_source,
	.axis_stop = pointer_axis_stop,
	.axis_discrete = pointer_axis_discrete,
};

static void seat_capabilities(void *data, struct wl_seat *seat, uint32_t caps) {
	struct client *c = data;
	if ((caps & WL_SEAT_CAPABILITY_POINTER) && c->pointer == NULL) {
		c->pointer = wl_seat_get_pointer(seat);
		wl_pointer_add_listener(c->pointer, &pointer_listener, c);
	}
}

static void seat_name(void *data, struct wl_seat *seat, const char *name) {
}

static const struct wl_seat_listener seat_listener = {
	.capabilities = seat_capabilities,
	.name = seat_name,
};

static void popup_configure(void *data, struct xdg_popup *popup, int32_t x, int32_t y,
		int32_t width, int32_t height) {
	printf("popup configure %d %d %d %d\n", x, y, width, height);
	fflush(stdout);
}

static void popup_done(void *data, struct xdg_popup *popup) {
	printf("popup done\n");
	fflush(stdout);
}

static const struct xdg_popup_listener popup_listener = {
	.configure = popup_configure,
	.popup_done = popup_done,
};

static void popup_xdg_configure(void *data, struct xdg_surface *xdg_surface,
		uint32_t serial) {
	struct client *c = data;
	xdg_surface_ack_configure(xdg_surface, serial);
	if (!c->popup_configured) {
		c->popup_configured = true;
		struct wl_buffer *buffer = shm_buffer(c, c->popup_w, c->popup_h, c->popup_color);
		wl_surface_attach(c->popup_surface, buffer, 0, 0);
		wl_surface_damage(c->popup_surface, 0, 0, c->popup_w, c->popup_h);
		wl_surface_commit(c->popup_surface);
		wl_buffer_destroy(buffer);
		printf("popup mapped\n");
		fflush(stdout);
	}
}

static const struct xdg_surface_listener popup_xdg_listener = {
	.configure = popup_xdg_configure,
};

static void open_popup(struct client *c, int x, int y) {
	struct xdg_positioner *positioner = xdg_wm_base_create_positioner(c->wm_base);
	xdg_positioner_set_size(positioner, c->popup_w, c->popup_h);
	xdg_positioner_set_anchor_rect(positioner, x, y, 1, 1);
	xdg_positioner_set_anchor(positioner, XDG_POSITIONER_ANCHOR_TOP_LEFT);
	xdg_positioner_set_gravity(positioner, XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT);
	c->popup_surface = wl_compositor_create_surface(c->compositor);
	c->popup_xdg = xdg_wm_base_get_xdg_surface(c->wm_base, c->popup_surface);
	xdg_surface_add_listener(c->popup_xdg, &popup_xdg_listener, c);
	struct xdg_popup *popup = xdg_surface_get_popup(c->popup_xdg, c->window.xdg_surface,
		positioner);
	xdg_popup_add_listener(popup, &popup_listener, c);
	xdg_positioner_destroy(positioner);
	wl_surface_commit(c->popup_surface);
}

/* Sends one --request; false if it is not one. */
static bool send_request(struct client *c, const char *req) {
	struct xdg_toplevel *toplevel = c->window.xdg_toplevel;
	int x, y, w, h;
	if (strcmp(req, "maximize") == 0) {
		xdg_toplevel_set_maximized(toplevel);
	} else if (strcmp(req, "unmaximize") == 0) {
		xdg_toplevel_unset_maximized(toplevel);
	} else if (strcmp(req, "fullscreen") == 0) {
		xdg_toplevel_set_fullscreen(toplevel, NULL);
	} else if (strcmp(req, "unfullscreen") == 0) {
		xdg_toplevel_unset_fullscreen(toplevel);
	} else if (strcmp(req, "minimize") == 0) {
		xdg_toplevel_set_minimized(toplevel);
	} else if (strcmp(req, "move") == 0 && c->seat != NULL) {
		xdg_toplevel_move(toplevel, c->seat, 1);
	} else if (strcmp(req, "resize") == 0 && c->seat != NULL) {
		xdg_toplevel_resize(toplevel, c->seat, 1, XDG_TOPLEVEL_RESIZE_EDGE_BOTTOM_RIGHT);
	} else if (sscanf(req, "geometry=%d,%d,%d,%d", &x, &y, &w, &h) == 4 && w > 0 &&
			h > 0) {
		xdg_surface_set_window_geometry(c->window.xdg_surface, x, y, w, h);
	} else {
		return false;
	}
	return true;
}

/* Waits for the trigger file, answering the compositor meanwhile. */
static void wait_for_file(struct client *c, const char *path) {
	while (access(path, F_OK) != 0) {
		if (wl_display_roundtrip(c->display) == -1) {
			die("lost the connection");
		}
		usleep(50 * 1000);
	}
}

static bool parse_box(const char *arg, int *x, int *y, int *w, int *h, uint32_t *color) {
	unsigned rgb;
	if (sscanf(arg, "%d,%d,%d,%d,%x", x, y, w, h, &rgb) != 5) {
		return false;
	}
	*color = rgb & 0xffffff;
	return *w >= 1 && *h >= 1 && *w <= MAX_SIZE && *h <= MAX_SIZE &&
		abs(*x) <= MAX_SIZE && abs(*y) <= MAX_SIZE;
}

/* What main() does besides drawing frames, from the command line. */
struct options {
	const char *title;
	struct box subs[MAX_SUBSURFACES];
	int n_subs, pop_x, pop_y, min_w, min_h;
	bool popup, empty_commit;
	const char *trigger, *geometry;
	const char *requests[MAX_REQUESTS];
	int n_requests;
};

/* Fills c's settings and o; exits 2 on a usage error. */
static void parse_options(int argc, char *argv[], struct client *c, struct options *o) {
	static const struct option opts[] = {
		{ "frames", required_argument, NULL, 'f' },
		{ "color", required_argument, NULL, 'c' },
		{ "title", required_argument, NULL, 't' },
		{ "buffers", required_argument, NULL, 'b' },
		{ "subsurface", required_argument, NULL, 's' },
		{ "popup", required_argument, NULL, 'p' },
		{ "cursor", required_argument, NULL, 'C' },
		{ "size", required_argument, NULL, 'S' },
		{ "min-size", required_argument, NULL, 'm' },
		{ "damage", required_argument, NULL, 'd' },
		{ "trigger", required_argument, NULL, 'T' },
		{ "geometry", required_argument, NULL, 'g' },
		{ "empty-commit", no_argument, NULL, 'e' },
		{ "shadow", required_argument, NULL, 'w' },
		{ "request", required_argument, NULL, 'r' },
		{ 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			c->frames = atoi(optarg);
			break;
		case 'c':
			c->color = (uint32_t)strtoul(optarg, NULL, 16) & 0xffffff;
			break;
		case 't':
			o->title = optarg;
			break;
		case 'b':
			if (strcmp(optarg, "churn") == 0) {
				c->mode = MODE_CHURN;
			} else if (strcmp(optarg, "dumb") == 0) {
				c->mode = MODE_DUMB;
			} else if (strcmp(optarg, "render") == 0) {
				c->mode = MODE_RENDER;
			} else if (strcmp(optarg, "memfd") == 0) {
				c->mode = MODE_MEMFD;
			} else {
				die("--buffers churn|dumb|render|memfd");
			}
			break;
		case 's': {
			struct box *b = &o->subs[o->n_subs];
			if (o->n_subs == MAX_SUBSURFACES ||
					!parse_box(optarg, &b->x, &b->y, &b->w, &b->h, &b->color)) {
				die("--subsurface X,Y,W,H,RRGGBB (at most 4)");
			}
			o->n_subs++;
			break;
		}
		case 'd': {
			struct box *d = &c->damage[c->n_damage];
			if (c->n_damage == MAX_DAMAGE || sscanf(optarg, "%d,%d,%d,%d", &d->x, &d->y,
					&d->w, &d->h) != 4 || d->w < 1 || d->h < 1 || d->x < 0 ||
					d->y < 0 || d->x > MAX_SIZE || d->y > MAX_SIZE ||
					d->w > MAX_SIZE || d->h > MAX_SIZE) {
				die("--damage X,Y,W,H (at most 8)");
			}
			c->n_damage++;
			break;
		}
		case 'T':
			o->trigger = optarg;
			break;
		case 'g':
			o->geometry = optarg;
			break;
		case 'e':
			o->empty_commit = true;
			break;
		case 'w': {
			unsigned rgb;
			if (sscanf(optarg, "%d,%x", &c->shadow, &rgb) != 2 || c->shadow < 1 ||
					c->shadow > 256) {
				die("--shadow N,RRGGBB, N 1..256");
			}
			c->shadow_color = rgb & 0xffffff;
			break;
		}
		case 'r':
			if (o->n_requests == MAX_REQUESTS) {
				die("too many --request");
			}
			o->requests[o->n_requests++] = optarg;
			break;
		case 'p':
			if (!parse_box(optarg, &o->pop_x, &o->pop_y, &c->popup_w, &c->popup_h,
					&c->popup_color)) {
				die("--popup X,Y,W,H,RRGGBB");
			}
			o->popup = true;
			break;
		case 'C':
			c->cursor = true;
			c->cursor_color = (uint32_t)strtoul(optarg, NULL, 16) & 0xffffff;
			break;
		case 'S':
			if (sscanf(optarg, "%dx%d", &c->width, &c->height) != 2 || c->width < 1 ||
					c->height < 1 || c->width > MAX_SIZE || c->height > MAX_SIZE) {
				die("--size WxH, 1..4096");
			}
			break;
		case 'm':
			if (sscanf(optarg, "%dx%d", &o->min_w, &o->min_h) != 2 || o->min_w < 1 ||
					o->min_h < 1 || o->min_w > MAX_SIZE || o->min_h > MAX_SIZE) {
				die("--min-size WxH, 1..4096");
			}
			break;
		default:
			fprintf(stderr, "usage: guest-client [--frames N] [--color RRGGBB] "
				"[--title T] [--buffers churn|dumb|render|memfd] "
				"[--subsurface X,Y,W,H,RRGGBB] [--popup X,Y,W,H,RRGGBB] "
				"[--cursor RRGGBB] [--size WxH] [--min-size WxH] [--damage X,Y,W,H] "
				"[--geometry X,Y,W,H] [--shadow N,RRGGBB] [--empty-commit] "
				"[--trigger FILE --request REQ...]\n");
			exit(2);
		}
	}
	if (c->frames < 1 || c->frames > 100000) {
		die("--frames out of range");
	}
	if (c->shadow > 0 && (c->mode != MODE_CHURN || o->geometry != NULL)) {
		die("--shadow goes with churn buffers and sets the geometry itself");
	}
}

/* The --subsurface surfaces: solid, desynchronized, placed with the
 * parent's next commit. */
static void create_subsurfaces(struct client *c, const struct options *o) {
	for (int i = 0; i < o->n_subs; i++) {
		if (c->subcompositor == NULL) {
			die("no wl_subcompositor");
		}
		const struct box *b = &o->subs[i];
		struct wl_surface *child = wl_compositor_create_surface(c->compositor);
		struct wl_subsurface *sub = wl_subcompositor_get_subsurface(c->subcompositor,
			child, c->window.surface);
		wl_subsurface_set_position(sub, b->x, b->y);
		wl_subsurface_set_desync(sub);
		struct wl_buffer *buffer = shm_buffer(c, b->w, b->h, b->color);
		wl_surface_attach(child, buffer, 0, 0);
		wl_surface_damage(child, 0, 0, b->w, b->h);
		wl_surface_commit(child);
		wl_buffer_destroy(buffer);
	}
}

/* --trigger: once the file exists, the --request requests and a frame. */
static void send_requests(struct client *c, const struct options *o) {
	wait_for_file(c, o->trigger);
	for (int i = 0; i < o->n_requests; i++) {
		if (!send_request(c, o->requests[i])) {
			die("unknown --request (or no seat for move/resize)");
		}
	}
	draw_frame(c);
	while (c->waiting && wl_display_dispatch(c->display) != -1) {
	}
	if (c->waiting || wl_display_roundtrip(c->display) == -1) {
		die("lost the connection");
	}
	printf("requested\n");
	fflush(stdout);
}

int main(int argc, char *argv[]) {
	struct client c = {
		.frames = 60, .color = 0x33cc33, .drm_fd = -1, .width = WIDTH, .height = HEIGHT,
	};
	struct options o = { .title = "guest-client" };
	parse_options(argc, argv, &c, &o);
	if ((c.mode == MODE_DUMB || c.mode == MODE_RENDER) &&
			(c.drm_fd = open_virtio_gpu(c.mode == MODE_RENDER)) < 0) {
		die("no DRM node of the virtio_gpu driver");
	}
	c.display = wl_display_connect(NULL);
	if (c.display == NULL) {
		die("cannot connect to the compositor");
	}
	const struct tessera_client_global wanted[] = {
		{ &wl_compositor_interface, 4, 4, (void **)&c.compositor },
		{ &wl_shm_interface, 1, 1, (void **)&c.shm },
		{ &wl_subcompositor_interface, 1, 1, (void **)&c.subcompositor },
		{ &xdg_wm_base_interface, 1, 1, (void **)&c.wm_base,
			&tessera_client_wm_base_listener, &c },
		{ &wl_seat_interface, 1, 5, (void **)&c.seat, &seat_listener, &c },
		{ &zwp_linux_dmabuf_v1_interface, 3, 3, (void **)&c.dmabuf },
	};
	struct tessera_client_registry registry = {0};
	tessera_client_registry_init(&registry, c.display, wanted,
		sizeof(wanted) / sizeof(wanted[0]));
	wl_display_roundtrip(c.display);
	if (c.compositor == NULL || c.shm == NULL || c.wm_base == NULL ||
			(c.mode != MODE_CHURN && c.dmabuf == NULL)) {
		die("missing globals");
	}
	if (c.cursor) {
		c.cursor_surface = wl_compositor_create_surface(c.compositor);
		struct wl_buffer *buffer = shm_buffer(&c, 16, 16, c.cursor_color);
		wl_surface_attach(c.cursor_surface, buffer, 0, 0);
		wl_surface_damage(c.cursor_surface, 0, 0, 16, 16);
		wl_surface_commit(c.cursor_surface);
		wl_buffer_destroy(buffer);
	}
	tessera_client_window_init(&c.window, c.compositor, c.wm_base, o.title, &window_impl, &c);
	if (o.min_w > 0) {
		xdg_toplevel_set_min_size(c.window.xdg_toplevel, o.min_w, o.min_h);
	}
	if (o.geometry != NULL) {
		char req[64];
		snprintf(req, sizeof(req), "geometry=%s", o.geometry);
		if (!send_request(&c, req)) {
			die("--geometry X,Y,W,H");
		}
	}
	if (c.shadow > 0) {
		xdg_surface_set_window_geometry(c.window.xdg_surface, c.shadow, c.shadow,
			c.width, c.height);
	}
	wl_surface_commit(c.window.surface);
	while (!c.window.configured && wl_display_dispatch(c.display) != -1) {
	}
	while (o.empty_commit && c.configures < 2 && wl_display_dispatch(c.display) != -1) {
	}
	if (o.empty_commit) {
		wl_surface_commit(c.window.surface);
		if (wl_display_roundtrip(c.display) == -1) {
			die("lost the connection");
		}
	}
	if (c.mode != MODE_CHURN) {
		dmabuf_buffer(&c, &c.buffers[0], 0);
		dmabuf_buffer(&c, &c.buffers[1], 1);
	}
	/* position and stacking apply with the parent's commit (below) */
	create_subsurfaces(&c, &o);
	while (c.done < c.frames) {
		draw_frame(&c);
		while (c.waiting && wl_display_dispatch(c.display) != -1) {
		}
		if (c.waiting) {
			die("lost the connection");
		}
		if (c.done == 1 && o.popup) {
			open_popup(&c, o.pop_x, o.pop_y);
		}
	}
	printf("done %d\n", c.done);
	fflush(stdout);
	if (o.trigger != NULL) {
		send_requests(&c, &o);
	}
	/* stay until told to go: the last picture must stay on screen */
	while (wl_display_dispatch(c.display) != -1) {
	}
	return 0;
}
