/*
 * A linux-dmabuf test client for tessera's CPU import (common/wlr/linux-dmabuf.c).
 *
 *   dmabuf-client show     a 128x96 window from a sealed memfd through
 *                          params.create (created event); prints "shown";
 *                          then reads commands from stdin: "rewrite" (new
 *                          pixels in the same memory, damage only, no attach:
 *                          prints "rewritten"), "immed" (a second buffer
 *                          through create_immed, attached: "immed-shown"),
 *                          "quit".
 *   dmabuf-client formats  prints "format FOURCC MODIFIER" per event
 *   dmabuf-client CASE     one bad request; prints "error IFACE CODE" for a
 *                          protocol error, "failed" for a failed event,
 *                          "created" if it unexpectedly works.
 *
 * Pattern: cells of 32x8, colour (40 + 50 cx, 20 + 19 cy, 0x30 (phase+1)).
 */
#define _GNU_SOURCE
#include <drm_fourcc.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "tessera-client.h"
#include "xdg-shell-client-protocol.h"

#define WIDTH 128
#define HEIGHT 96
#define STRIDE (WIDTH * 4 + 64)
#define OFFSET 256
#define SIZE (OFFSET + STRIDE * HEIGHT)

static struct wl_compositor *compositor;
static struct xdg_wm_base *wm_base;
static struct zwp_linux_dmabuf_v1 *dmabuf;
static bool print_formats;
static int created_state; /* 0 waiting, 1 created, -1 failed */
static struct wl_buffer *created_buffer;

static void dmabuf_format(void *data, struct zwp_linux_dmabuf_v1 *d, uint32_t format) {
	if (print_formats) {
		printf("format-only %08x\n", format);
	}
}

static void dmabuf_modifier(void *data, struct zwp_linux_dmabuf_v1 *d, uint32_t format,
		uint32_t hi, uint32_t lo) {
	if (print_formats) {
		printf("format %08x %016llx\n", format,
			(unsigned long long)(((uint64_t)hi << 32) | lo));
	}
}

static const struct zwp_linux_dmabuf_v1_listener dmabuf_listener = {
	.format = dmabuf_format,
	.modifier = dmabuf_modifier,
};

static void params_created(void *data, struct zwp_linux_buffer_params_v1 *p,
		struct wl_buffer *buffer) {
	created_state = 1;
	created_buffer = buffer;
}

static void params_failed(void *data, struct zwp_linux_buffer_params_v1 *p) {
	created_state = -1;
}

static const struct zwp_linux_buffer_params_v1_listener params_listener = {
	.created = params_created,
	.failed = params_failed,
};

static int make_memfd(size_t size, bool seal) {
	int fd = memfd_create("tessera-dmabuf-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		perror("memfd");
		exit(1);
	}
	if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
		perror("F_ADD_SEALS");
		exit(1);
	}
	return fd;
}

static void draw(uint8_t *mem, int phase) {
	for (int y = 0; y < HEIGHT; y++) {
		uint32_t *row = (uint32_t *)(mem + OFFSET + y * STRIDE);
		for (int x = 0; x < WIDTH; x++) {
			uint32_t r = 40 + 50 * (x / 32), g = 20 + 19 * (y / 8),
				b = 0x30 * (uint32_t)(phase + 1);
			row[x] = 0xff000000u | r << 16 | g << 8 | b;
		}
	}
}

static void roundtrip(struct wl_display *display) {
	if (wl_display_roundtrip(display) < 0) {
		const struct wl_interface *iface = NULL;
		uint32_t id;
		int code = wl_display_get_protocol_error(display, &iface, &id);
		if (iface != NULL) {
			printf("error %s %d\n", iface->name, code);
		} else {
			printf("disconnected\n");
		}
		fflush(stdout);
		exit(0);
	}
}

static struct zwp_linux_buffer_params_v1 *params_with(int fd, uint32_t plane,
		uint32_t offset, uint32_t stride, uint64_t modifier) {
	struct zwp_linux_buffer_params_v1 *p = zwp_linux_dmabuf_v1_create_params(dmabuf);
	zwp_linux_buffer_params_v1_add_listener(p, &params_listener, NULL);
	zwp_linux_buffer_params_v1_add(p, fd, plane, offset, stride,
		(uint32_t)(modifier >> 32), (uint32_t)modifier);
	return p;
}

static int run_case(struct wl_display *display, const char *name) {
	int fd = make_memfd(SIZE, true);
	struct zwp_linux_buffer_params_v1 *p = NULL;
	uint32_t format = DRM_FORMAT_XRGB8888;
	int32_t w = WIDTH, h = HEIGHT;
	bool immed = false;
	uint32_t flags = 0;
	if (strcmp(name, "plane-idx") == 0) {
		p = params_with(fd, 1, 0, STRIDE, DRM_FORMAT_MOD_LINEAR);
	} else if (strcmp(name, "plane-idx-4") == 0) {
		p = params_with(fd, 4, 0, STRIDE, DRM_FORMAT_MOD_LINEAR);
	} else if (strcmp(name, "plane-set") == 0) {
		p = params_with(fd, 0, 0, STRIDE, DRM_FORMAT_MOD_LINEAR);
		zwp_linux_buffer_params_v1_add(p, fd, 0, 0, STRIDE, 0, 0);
	} else if (strcmp(name, "incomplete") == 0) {
		p = zwp_linux_dmabuf_v1_create_params(dmabuf);
		zwp_linux_buffer_params_v1_add_listener(p, &params_listener, NULL);
	} else if (strcmp(name, "bad-format") == 0) {
		p = params_with(fd, 0, 0, STRIDE, DRM_FORMAT_MOD_LINEAR);
		format = DRM_FORMAT_RGB565;
	} else if (strcmp(name, "bad-modifier") == 0) {
		p = params_with(fd, 0, 0, STRIDE, I915_FORMAT_MOD_X_TILED);
	} else if (strcmp(name, "bad-dimensions") == 0) {
		p = params_with(fd, 0, 0, STRIDE, DRM_FORMAT_MOD_LINEAR);
		w = 0;
	} else if (strcmp(name, "huge-dimensions") == 0) {
		p = params_with(fd, 0, 0, STRIDE, DRM_FORMAT_MOD_LINEAR);
		h = 100000;
	} else if (strcmp(name, "out-of-bounds") == 0) {
		p = params_with(fd, 0, OFFSET + STRIDE, STRIDE, DRM_FORMAT_MOD_LINEAR);
	} else if (strcmp(name, "offset-overflow") == 0) {
		p = params_with(fd, 0, 0xfffffff0u, STRIDE, DRM_FORMAT_MOD_LINEAR);
	} else if (strcmp(name, "short-stride") == 0) {
		p = params_with(fd, 0, 0, WIDTH * 4 - 4, DRM_FORMAT_MOD_LINEAR);
	} else if (strcmp(name, "already-used") == 0) {
		p = params_with(fd, 0, 0, STRIDE, DRM_FORMAT_MOD_LINEAR);
		zwp_linux_buffer_params_v1_create(p, w, h, format, 0);
		roundtrip(display);
	} else if (strcmp(name, "unsealed-immed") == 0) {
		close(fd);
		fd = make_memfd(SIZE, false);
		p = params_with(fd, 0, 0, STRIDE, DRM_FORMAT_MOD_LINEAR);
		immed = true;
	} else if (strcmp(name, "unsealed") == 0) {
		close(fd);
		fd = make_memfd(SIZE, false);
		p = params_with(fd, 0, 0, STRIDE, DRM_FORMAT_MOD_LINEAR);
	} else if (strcmp(name, "pipe") == 0) {
		int pfd[2];
		if (pipe(pfd) != 0) {
			return 1;
		}
		p = params_with(pfd[0], 0, 0, STRIDE, DRM_FORMAT_MOD_LINEAR);
		close(pfd[0]);
		close(pfd[1]);
	} else if (strcmp(name, "flags") == 0) {
		p = params_with(fd, 0, 0, STRIDE, DRM_FORMAT_MOD_LINEAR);
		flags = ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_Y_INVERT;
	} else {
		fprintf(stderr, "unknown case %s\n", name);
		return 2;
	}
	close(fd);
	if (immed) {
		zwp_linux_buffer_params_v1_create_immed(p, w, h, format, flags);
	} else {
		zwp_linux_buffer_params_v1_create(p, w, h, format, flags);
	}
	roundtrip(display);
	roundtrip(display);
	printf("%s\n", created_state == 1 ? "created" : created_state < 0 ? "failed" :
		immed ? "created" : "no-answer");
	return 0;
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: dmabuf-client show|formats|CASE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct wl_display *display = wl_display_connect(NULL);
	if (display == NULL) {
		fprintf(stderr, "cannot connect\n");
		return 1;
	}
	print_formats = strcmp(argv[1], "formats") == 0;
	const struct tessera_client_global wanted[] = {
		{ &wl_compositor_interface, 4, 4, (void **)&compositor },
		{ &xdg_wm_base_interface, 1, 1, (void **)&wm_base,
			&tessera_client_wm_base_listener, NULL },
		{ &zwp_linux_dmabuf_v1_interface, 3, 3, (void **)&dmabuf, &dmabuf_listener, NULL },
	};
	struct tessera_client_registry registry = {0};
	tessera_client_registry_init(&registry, display, wanted,
		sizeof(wanted) / sizeof(wanted[0]));
	roundtrip(display);
	if (dmabuf == NULL || compositor == NULL || wm_base == NULL) {
		printf("no zwp_linux_dmabuf_v1 v3\n");
		return 1;
	}
	roundtrip(display);
	if (print_formats) {
		printf("done\n");
		return 0;
	}
	if (strcmp(argv[1], "show") != 0) {
		return run_case(display, argv[1]);
	}

	int fd = make_memfd(SIZE, true);
	uint8_t *mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	draw(mem, 0);
	struct zwp_linux_buffer_params_v1 *p = params_with(fd, 0, OFFSET, STRIDE,
		DRM_FORMAT_MOD_LINEAR);
	zwp_linux_buffer_params_v1_create(p, WIDTH, HEIGHT, DRM_FORMAT_XRGB8888, 0);
	while (created_state == 0) {
		roundtrip(display);
	}
	if (created_state < 0) {
		printf("failed\n");
		return 1;
	}
	zwp_linux_buffer_params_v1_destroy(p);

	struct tessera_client_window window;
	tessera_client_window_init(&window, compositor, wm_base, "dmabuf", NULL, NULL);
	struct wl_surface *surface = window.surface;
	wl_surface_commit(surface);
	while (!window.configured) {
		roundtrip(display);
	}
	wl_surface_attach(surface, created_buffer, 0, 0);
	wl_surface_damage_buffer(surface, 0, 0, WIDTH, HEIGHT);
	wl_surface_commit(surface);
	roundtrip(display);
	printf("shown\n");

	struct wl_buffer *second = NULL;
	char line[64];
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (strncmp(line, "rewrite", 7) == 0) {
			draw(mem, 1);
			wl_surface_damage_buffer(surface, 0, 0, WIDTH, HEIGHT);
			wl_surface_commit(surface);
			roundtrip(display);
			printf("rewritten\n");
		} else if (strncmp(line, "immed", 5) == 0) {
			int fd2 = make_memfd(SIZE, true);
			uint8_t *mem2 = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
			if (mem2 == MAP_FAILED) {
				return 1;
			}
			draw(mem2, 2);
			munmap(mem2, SIZE);
			struct zwp_linux_buffer_params_v1 *p2 = params_with(fd2, 0, OFFSET,
				STRIDE, DRM_FORMAT_MOD_LINEAR);
			close(fd2);
			second = zwp_linux_buffer_params_v1_create_immed(p2, WIDTH, HEIGHT,
				DRM_FORMAT_ARGB8888, 0);
			zwp_linux_buffer_params_v1_destroy(p2);
			wl_surface_attach(surface, second, 0, 0);
			wl_surface_damage_buffer(surface, 0, 0, WIDTH, HEIGHT);
			wl_surface_commit(surface);
			roundtrip(display);
			printf("immed-shown\n");
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		}
	}
	/* explicit teardown: everything destroyed, the compositor must free
	 * its mappings and fds */
	if (second != NULL) {
		wl_buffer_destroy(second);
	}
	wl_buffer_destroy(created_buffer);
	tessera_client_window_finish(&window);
	roundtrip(display);
	printf("torn-down\n");
	munmap(mem, SIZE);
	close(fd);
	tessera_client_disconnect(display, &registry);
	return 0;
}
