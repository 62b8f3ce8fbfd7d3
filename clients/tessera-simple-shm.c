/*
 * tessera-simple-shm: a weston-style wl_shm + xdg-shell client, installed
 * for users to check a session, and the tests' reference client.
 *
 * Draws a solid colour (optionally animated by frame callbacks) and, with
 * --log, appends one line per interesting event to a file, flushed at once,
 * so that tests can follow what the compositor sent. See usage() for the
 * options and the README-style comment at log_event() for the line formats.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>
#include <xkbcommon/xkbcommon.h>
#include "color.h"
#include "log.h"
#include "tessera-client.h"
#include "xdg-decoration-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#define SHM_BUFFER_COUNT 3
#define MAX_SURFACE_SIZE 16384
#define MAX_BIND_NAMES 64
#define MAX_KEYMAP_SIZE (16 * 1024 * 1024)

struct shm_buffer {
	struct simple_shm *client;
	struct tessera_client_shm_buffer shm;
	bool busy;
};

struct global_entry {
	char *interface;
	uint32_t version;
	struct wl_list link;
};

struct simple_shm {
	/* options */
	uint32_t color; /* 0xRRGGBB */
	int32_t init_width, init_height;
	const char *title, *app_id;
	bool animate;
	unsigned long frames_limit; /* 0: unlimited */
	int decoration_mode; /* 0: don't ask, else ZXDG_TOPLEVEL_DECORATION_V1_MODE_* */
	const char *bind_names[MAX_BIND_NAMES];
	size_t bind_count;
	FILE *log;

	struct wl_display *display;
	struct tessera_client_registry registry;
	struct tessera_client_global wanted[5]; /* what registry binds */
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_seat *seat;
	struct zxdg_decoration_manager_v1 *decoration_manager;
	struct wl_list globals; /* global_entry.link: every global announced */

	struct tessera_client_window window;
	struct zxdg_toplevel_decoration_v1 *decoration;
	struct wl_callback *frame_callback;
	struct wl_callback *mapped_callback;

	struct wl_pointer *pointer;
	struct wl_keyboard *keyboard;
	struct xkb_context *xkb_context;
	struct xkb_keymap *keymap;
	struct xkb_state *xkb_state;

	struct shm_buffer buffers[SHM_BUFFER_COUNT];
	int32_t width, height;
	bool needs_redraw;
	bool mapped;
	unsigned long frames_drawn;
	unsigned long frames_done;

	bool running;
	int exit_code;
};

static void usage(FILE *out, const char *argv0) {
	fprintf(out,
		"usage: %s [options]\n"
		"  --color RRGGBB              fill colour (default 3366cc)\n"
		"  --size WxH                  window size (default 256x256)\n"
		"  --title STR                 xdg_toplevel title\n"
		"  --app-id STR                xdg_toplevel app id\n"
		"  --animate                   redraw on every frame callback\n"
		"  --frames N                  exit after N frame callbacks (implies --animate)\n"
		"  --decoration server|client  ask for this decoration mode\n"
		"  --bind IFACE                log whether IFACE is advertised (repeatable)\n"
		"  --log FILE                  append one line per event to FILE\n"
		"  --help                      show this help\n",
		argv0);
}

/*
 * Log line formats (tests parse them):
 *   pid <pid> | global <interface> <version> | bind <iface> ok|absent |
 *   configure <w> <h> | decoration server|client | mapped |
 *   keymap <name of its first layout> |
 *   keyboard enter | keyboard leave | key <code> pressed|released <keysym> |
 *   modifiers <depressed> <latched> <locked> <group> |
 *   pointer enter <x> <y> | pointer leave | pointer motion <x> <y> |
 *   pointer button <code> pressed|released | frame <n> | close
 */
static void log_event(struct simple_shm *client, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_event(struct simple_shm *client, const char *fmt, ...) {
	if (client->log == NULL) {
		return;
	}
	va_list args;
	va_start(args, fmt);
	vfprintf(client->log, fmt, args);
	va_end(args);
	fputc('\n', client->log);
	fflush(client->log);
}

/* Surface coordinates: integers print without a fraction, e.g. "12" or "12.5". */
static void format_fixed(char *buf, size_t size, wl_fixed_t value) {
	int32_t raw = value;
	const char *sign = "";
	int64_t magnitude = raw;
	if (magnitude < 0) {
		sign = "-";
		magnitude = -magnitude;
	}
	int64_t whole = magnitude / 256;
	int64_t frac = magnitude % 256;
	if (frac == 0) {
		snprintf(buf, size, "%s%" PRId64, sign, whole);
		return;
	}
	/* frac / 256 is exact in 8 decimal digits */
	char digits[16];
	snprintf(digits, sizeof(digits), "%08" PRId64, frac * 390625);
	size_t len = strlen(digits);
	while (len > 0 && digits[len - 1] == '0') {
		digits[--len] = '\0';
	}
	snprintf(buf, size, "%s%" PRId64 ".%s", sign, whole, digits);
}

static void shm_buffer_finish(struct shm_buffer *buffer) {
	tessera_client_shm_buffer_finish(&buffer->shm);
	buffer->busy = false;
}

static void draw(struct simple_shm *client);

static void buffer_handle_release(void *data, struct wl_buffer *wl_buffer) {
	struct shm_buffer *buffer = data;
	buffer->busy = false;
	struct simple_shm *client = buffer->client;
	if (client->needs_redraw) {
		draw(client);
	}
}

static const struct wl_buffer_listener buffer_listener = {
	.release = buffer_handle_release,
};

static bool shm_buffer_init(struct simple_shm *client, struct shm_buffer *buffer,
		int32_t width, int32_t height) {
	if (!tessera_client_shm_buffer_init(&buffer->shm, client->shm, "tessera-simple-shm",
			width, height)) {
		return false;
	}
	wl_buffer_add_listener(buffer->shm.wl_buffer, &buffer_listener, buffer);
	buffer->client = client;
	buffer->busy = false;
	return true;
}

/* A released buffer of the current size, (re)allocated if needed; NULL if all are busy. */
static struct shm_buffer *get_free_buffer(struct simple_shm *client) {
	struct shm_buffer *candidate = NULL;
	for (size_t i = 0; i < SHM_BUFFER_COUNT; i++) {
		struct shm_buffer *buffer = &client->buffers[i];
		if (buffer->busy) {
			continue;
		}
		if (buffer->shm.wl_buffer != NULL && buffer->shm.width == client->width &&
				buffer->shm.height == client->height) {
			return buffer;
		}
		if (candidate == NULL) {
			candidate = buffer;
		}
	}
	if (candidate == NULL) {
		return NULL;
	}
	shm_buffer_finish(candidate);
	if (!shm_buffer_init(client, candidate, client->width, client->height)) {
		client->running = false;
		client->exit_code = 1;
		return NULL;
	}
	return candidate;
}

static uint32_t frame_color(struct simple_shm *client) {
	if (!client->animate) {
		return client->color;
	}
	/* A small triangle wave on every channel, away from saturation. */
	unsigned long phase = client->frames_drawn % 64;
	int offset = phase < 32 ? (int)phase : (int)(64 - phase);
	uint32_t out = 0;
	for (int shift = 16; shift >= 0; shift -= 8) {
		int channel = (client->color >> shift) & 0xff;
		channel = channel >= 0x80 ? channel - offset : channel + offset;
		out |= (uint32_t)channel << shift;
	}
	return out;
}

static void frame_handle_done(void *data, struct wl_callback *callback, uint32_t time);

static const struct wl_callback_listener frame_listener = {
	.done = frame_handle_done,
};

static void mapped_handle_done(void *data, struct wl_callback *callback, uint32_t serial) {
	struct simple_shm *client = data;
	wl_callback_destroy(callback);
	client->mapped_callback = NULL;
	log_event(client, "mapped");
}

static const struct wl_callback_listener mapped_listener = {
	.done = mapped_handle_done,
};

static void draw(struct simple_shm *client) {
	if (!client->window.configured) {
		return;
	}
	struct shm_buffer *buffer = get_free_buffer(client);
	if (buffer == NULL) {
		/* drawn on the next wl_buffer.release */
		client->needs_redraw = true;
		return;
	}
	client->needs_redraw = false;

	uint32_t pixel = 0xff000000u | frame_color(client);
	uint32_t *pixels = buffer->shm.data;
	size_t count = (size_t)buffer->shm.width * (size_t)buffer->shm.height;
	for (size_t i = 0; i < count; i++) {
		pixels[i] = pixel;
	}

	struct wl_surface *surface = client->window.surface;
	wl_surface_attach(surface, buffer->shm.wl_buffer, 0, 0);
	wl_surface_damage_buffer(surface, 0, 0, buffer->shm.width, buffer->shm.height);
	if (client->animate && client->frame_callback == NULL) {
		client->frame_callback = wl_surface_frame(surface);
		wl_callback_add_listener(client->frame_callback, &frame_listener, client);
	}
	wl_surface_commit(surface);
	buffer->busy = true;
	client->frames_drawn++;

	if (!client->mapped) {
		client->mapped = true;
		/* "mapped" once the compositor has processed the first buffer */
		client->mapped_callback = wl_display_sync(client->display);
		wl_callback_add_listener(client->mapped_callback, &mapped_listener, client);
	}
}

static void frame_handle_done(void *data, struct wl_callback *callback, uint32_t time) {
	struct simple_shm *client = data;
	wl_callback_destroy(callback);
	client->frame_callback = NULL;
	client->frames_done++;
	log_event(client, "frame %lu", client->frames_done);
	if (client->frames_limit != 0 && client->frames_done >= client->frames_limit) {
		client->running = false;
		return;
	}
	draw(client);
}

static void window_handle_configure(void *data, int32_t pending_width,
		int32_t pending_height) {
	struct simple_shm *client = data;
	log_event(client, "configure %" PRId32 " %" PRId32, pending_width, pending_height);
	int32_t width = pending_width > 0 ? pending_width : client->init_width;
	int32_t height = pending_height > 0 ? pending_height : client->init_height;
	if (width > MAX_SURFACE_SIZE || height > MAX_SURFACE_SIZE) {
		tessera_log(TESSERA_ERROR, "configure size %" PRId32 "x%" PRId32 " too large, keeping %"
			PRId32 "x%" PRId32, width, height, client->init_width, client->init_height);
		width = client->init_width;
		height = client->init_height;
	}
	client->width = width;
	client->height = height;
	draw(client);
}

static void window_handle_close(void *data) {
	struct simple_shm *client = data;
	log_event(client, "close");
	client->running = false;
}

static const struct tessera_client_window_impl window_impl = {
	.configure = window_handle_configure,
	.close = window_handle_close,
};

static void decoration_handle_configure(void *data,
		struct zxdg_toplevel_decoration_v1 *decoration, uint32_t mode) {
	struct simple_shm *client = data;
	const char *name = mode == ZXDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE ?
		"server" : "client";
	log_event(client, "decoration %s", name);
}

static const struct zxdg_toplevel_decoration_v1_listener decoration_listener = {
	.configure = decoration_handle_configure,
};

/* Pointer */

static void pointer_handle_enter(void *data, struct wl_pointer *pointer, uint32_t serial,
		struct wl_surface *surface, wl_fixed_t sx, wl_fixed_t sy) {
	struct simple_shm *client = data;
	char x[32], y[32];
	format_fixed(x, sizeof(x), sx);
	format_fixed(y, sizeof(y), sy);
	log_event(client, "pointer enter %s %s", x, y);
}

static void pointer_handle_leave(void *data, struct wl_pointer *pointer, uint32_t serial,
		struct wl_surface *surface) {
	struct simple_shm *client = data;
	log_event(client, "pointer leave");
}

static void pointer_handle_motion(void *data, struct wl_pointer *pointer, uint32_t time,
		wl_fixed_t sx, wl_fixed_t sy) {
	struct simple_shm *client = data;
	char x[32], y[32];
	format_fixed(x, sizeof(x), sx);
	format_fixed(y, sizeof(y), sy);
	log_event(client, "pointer motion %s %s", x, y);
}

static void pointer_handle_button(void *data, struct wl_pointer *pointer, uint32_t serial,
		uint32_t time, uint32_t button, uint32_t state) {
	struct simple_shm *client = data;
	log_event(client, "pointer button %" PRIu32 " %s", button,
		state == WL_POINTER_BUTTON_STATE_PRESSED ? "pressed" : "released");
}

static void pointer_handle_axis(void *data, struct wl_pointer *pointer, uint32_t time,
		uint32_t axis, wl_fixed_t value) {
	/* unused */
}

static void pointer_handle_frame(void *data, struct wl_pointer *pointer) {
	/* unused */
}

static void pointer_handle_axis_source(void *data, struct wl_pointer *pointer,
		uint32_t source) {
	/* unused */
}

static void pointer_handle_axis_stop(void *data, struct wl_pointer *pointer, uint32_t time,
		uint32_t axis) {
	/* unused */
}

static void pointer_handle_axis_discrete(void *data, struct wl_pointer *pointer,
		uint32_t axis, int32_t discrete) {
	/* unused */
}

static void pointer_handle_axis_value120(void *data, struct wl_pointer *pointer,
		uint32_t axis, int32_t value120) {
	/* unused */
}

static const struct wl_pointer_listener pointer_listener = {
	.enter = pointer_handle_enter,
	.leave = pointer_handle_leave,
	.motion = pointer_handle_motion,
	.button = pointer_handle_button,
	.axis = pointer_handle_axis,
	.frame = pointer_handle_frame,
	.axis_source = pointer_handle_axis_source,
	.axis_stop = pointer_handle_axis_stop,
	.axis_discrete = pointer_handle_axis_discrete,
	.axis_value120 = pointer_handle_axis_value120,
};

/* Keyboard */

static void keyboard_handle_keymap(void *data, struct wl_keyboard *keyboard,
		uint32_t format, int32_t fd, uint32_t size) {
	struct simple_shm *client = data;
	if (format != WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1) {
		tessera_log(TESSERA_ERROR, "unsupported keymap format %" PRIu32, format);
		close(fd);
		return;
	}
	if (size == 0 || size > MAX_KEYMAP_SIZE) {
		tessera_log(TESSERA_ERROR, "keymap size %" PRIu32 " out of range", size);
		close(fd);
		return;
	}
	char *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		tessera_log_errno(TESSERA_ERROR, "cannot map the keymap");
		return;
	}
	struct xkb_keymap *keymap = xkb_keymap_new_from_buffer(client->xkb_context, map,
		strnlen(map, size), XKB_KEYMAP_FORMAT_TEXT_V1, XKB_KEYMAP_COMPILE_NO_FLAGS);
	munmap(map, size);
	if (keymap == NULL) {
		tessera_log(TESSERA_ERROR, "cannot compile the compositor's keymap");
		return;
	}
	struct xkb_state *state = xkb_state_new(keymap);
	if (state == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create an xkb state");
		xkb_keymap_unref(keymap);
		return;
	}
	xkb_state_unref(client->xkb_state);
	xkb_keymap_unref(client->keymap);
	client->keymap = keymap;
	client->xkb_state = state;
	const char *layout = xkb_keymap_layout_get_name(keymap, 0);
	log_event(client, "keymap %s", layout != NULL ? layout : "(unnamed)");
}

static void keyboard_handle_enter(void *data, struct wl_keyboard *keyboard, uint32_t serial,
		struct wl_surface *surface, struct wl_array *keys) {
	struct simple_shm *client = data;
	log_event(client, "keyboard enter");
}

static void keyboard_handle_leave(void *data, struct wl_keyboard *keyboard, uint32_t serial,
		struct wl_surface *surface) {
	struct simple_shm *client = data;
	log_event(client, "keyboard leave");
}

static void keyboard_handle_key(void *data, struct wl_keyboard *keyboard, uint32_t serial,
		uint32_t time, uint32_t key, uint32_t state) {
	struct simple_shm *client = data;
	char name[64] = "NoSymbol";
	if (client->xkb_state != NULL) {
		xkb_keysym_t sym = xkb_state_key_get_one_sym(client->xkb_state, key + 8);
		if (xkb_keysym_get_name(sym, name, sizeof(name)) < 0) {
			snprintf(name, sizeof(name), "NoSymbol");
		}
	}
	log_event(client, "key %" PRIu32 " %s %s", key,
		state == WL_KEYBOARD_KEY_STATE_PRESSED ? "pressed" : "released", name);
}

static void keyboard_handle_modifiers(void *data, struct wl_keyboard *keyboard,
		uint32_t serial, uint32_t depressed, uint32_t latched, uint32_t locked,
		uint32_t group) {
	struct simple_shm *client = data;
	if (client->xkb_state != NULL) {
		xkb_state_update_mask(client->xkb_state, depressed, latched, locked, 0, 0, group);
	}
	log_event(client, "modifiers %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32,
		depressed, latched, locked, group);
}

static void keyboard_handle_repeat_info(void *data, struct wl_keyboard *keyboard,
		int32_t rate, int32_t delay) {
	/* unused */
}

static const struct wl_keyboard_listener keyboard_listener = {
	.keymap = keyboard_handle_keymap,
	.enter = keyboard_handle_enter,
	.leave = keyboard_handle_leave,
	.key = keyboard_handle_key,
	.modifiers = keyboard_handle_modifiers,
	.repeat_info = keyboard_handle_repeat_info,
};

static void release_pointer(struct simple_shm *client) {
	if (client->pointer == NULL) {
		return;
	}
	if (wl_pointer_get_version(client->pointer) >= WL_POINTER_RELEASE_SINCE_VERSION) {
		wl_pointer_release(client->pointer);
	} else {
		wl_pointer_destroy(client->pointer);
	}
	client->pointer = NULL;
}

static void release_keyboard(struct simple_shm *client) {
	if (client->keyboard == NULL) {
		return;
	}
	if (wl_keyboard_get_version(client->keyboard) >= WL_KEYBOARD_RELEASE_SINCE_VERSION) {
		wl_keyboard_release(client->keyboard);
	} else {
		wl_keyboard_destroy(client->keyboard);
	}
	client->keyboard = NULL;
}

static void seat_handle_capabilities(void *data, struct wl_seat *seat, uint32_t caps) {
	struct simple_shm *client = data;
	if ((caps & WL_SEAT_CAPABILITY_POINTER) && client->pointer == NULL) {
		client->pointer = wl_seat_get_pointer(seat);
		wl_pointer_add_listener(client->pointer, &pointer_listener, client);
	} else if (!(caps & WL_SEAT_CAPABILITY_POINTER)) {
		release_pointer(client);
	}
	if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && client->keyboard == NULL) {
		client->keyboard = wl_seat_get_keyboard(seat);
		wl_keyboard_add_listener(client->keyboard, &keyboard_listener, client);
	} else if (!(caps & WL_SEAT_CAPABILITY_KEYBOARD)) {
		release_keyboard(client);
	}
}

static void seat_handle_name(void *data, struct wl_seat *seat, const char *name) {
	/* unused */
}

static const struct wl_seat_listener seat_listener = {
	.capabilities = seat_handle_capabilities,
	.name = seat_handle_name,
};

/* Registry */

/* Every global is logged and remembered, for --bind. */
static void registry_announce(void *data, const char *interface, uint32_t version) {
	struct simple_shm *client = data;
	log_event(client, "global %s %" PRIu32, interface, version);

	struct global_entry *entry = calloc(1, sizeof(*entry));
	if (entry != NULL) {
		entry->interface = strdup(interface);
		entry->version = version;
	}
	if (entry == NULL || entry->interface == NULL) {
		tessera_log(TESSERA_ERROR, "out of memory");
		free(entry);
		client->running = false;
		client->exit_code = 1;
		return;
	}
	wl_list_insert(client->globals.prev, &entry->link);
}

static void registry_init(struct simple_shm *client) {
	const struct tessera_client_global wanted[] = {
		{ &wl_compositor_interface, 4, 4, (void **)&client->compositor },
		{ &wl_shm_interface, 1, 1, (void **)&client->shm },
		{ &xdg_wm_base_interface, 1, 4, (void **)&client->wm_base,
			&tessera_client_wm_base_listener, client },
		{ &wl_seat_interface, 1, 5, (void **)&client->seat, &seat_listener, client,
			.optional = true },
		{ &zxdg_decoration_manager_v1_interface, 1, 1,
			(void **)&client->decoration_manager, .optional = true },
	};
	_Static_assert(sizeof(wanted) == sizeof(client->wanted), "wanted[] size");
	memcpy(client->wanted, wanted, sizeof(wanted));
	client->registry.announce = registry_announce;
	client->registry.announce_data = client;
	tessera_client_registry_init(&client->registry, client->display, client->wanted,
		sizeof(client->wanted) / sizeof(client->wanted[0]));
}

static bool global_advertised(struct simple_shm *client, const char *interface) {
	struct global_entry *entry;
	wl_list_for_each(entry, &client->globals, link) {
		if (strcmp(entry->interface, interface) == 0) {
			return true;
		}
	}
	return false;
}

/* Option parsing */

static bool parse_count(const char *str, unsigned long *out) {
	if (*str < '0' || *str > '9') {
		return false;
	}
	char *end;
	errno = 0;
	unsigned long value = strtoul(str, &end, 10);
	if (errno != 0 || *end != '\0' || value == 0) {
		return false;
	}
	*out = value;
	return true;
}

/* Returns -1 to exit with 0 (help), 0 on success, 2 on bad usage. */
static int parse_options(struct simple_shm *client, int argc, char *argv[]) {
	enum {
		OPT_COLOR = 256, OPT_SIZE, OPT_TITLE, OPT_APP_ID, OPT_ANIMATE, OPT_FRAMES,
		OPT_DECORATION, OPT_BIND, OPT_LOG, OPT_HELP,
	};
	static const struct option long_options[] = {
		{"color", required_argument, NULL, OPT_COLOR},
		{"size", required_argument, NULL, OPT_SIZE},
		{"title", required_argument, NULL, OPT_TITLE},
		{"app-id", required_argument, NULL, OPT_APP_ID},
		{"animate", no_argument, NULL, OPT_ANIMATE},
		{"frames", required_argument, NULL, OPT_FRAMES},
		{"decoration", required_argument, NULL, OPT_DECORATION},
		{"bind", required_argument, NULL, OPT_BIND},
		{"log", required_argument, NULL, OPT_LOG},
		{"help", no_argument, NULL, OPT_HELP},
		{0},
	};
	const char *log_path = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (opt) {
		case OPT_COLOR:
			if (!tessera_color_parse(optarg, &client->color)) {
				tessera_log(TESSERA_ERROR, "invalid --color '%s' (expected RRGGBB)", optarg);
				return 2;
			}
			break;
		case OPT_SIZE:
			if (!tessera_client_parse_size(optarg, MAX_SURFACE_SIZE, &client->init_width,
					&client->init_height)) {
				tessera_log(TESSERA_ERROR, "invalid --size '%s' (expected WxH, 1..%d)",
					optarg, MAX_SURFACE_SIZE);
				return 2;
			}
			break;
		case OPT_TITLE:
			client->title = optarg;
			break;
		case OPT_APP_ID:
			client->app_id = optarg;
			break;
		case OPT_ANIMATE:
			client->animate = true;
			break;
		case OPT_FRAMES:
			if (!parse_count(optarg, &client->frames_limit)) {
				tessera_log(TESSERA_ERROR, "invalid --frames '%s' (expected N > 0)", optarg);
				return 2;
			}
			client->animate = true;
			break;
		case OPT_DECORATION:
			if (strcmp(optarg, "server") == 0) {
				client->decoration_mode = ZXDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE;
			} else if (strcmp(optarg, "client") == 0) {
				client->decoration_mode = ZXDG_TOPLEVEL_DECORATION_V1_MODE_CLIENT_SIDE;
			} else {
				tessera_log(TESSERA_ERROR, "invalid --decoration '%s' (expected server or client)",
					optarg);
				return 2;
			}
			break;
		case OPT_BIND:
			if (client->bind_count >= MAX_BIND_NAMES) {
				tessera_log(TESSERA_ERROR, "too many --bind options (at most %d)", MAX_BIND_NAMES);
				return 2;
			}
			client->bind_names[client->bind_count++] = optarg;
			break;
		case OPT_LOG:
			log_path = optarg;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout, argv[0]);
			return -1;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		tessera_log(TESSERA_ERROR, "unexpected argument '%s'", argv[optind]);
		usage(stderr, argv[0]);
		return 2;
	}
	if (log_path != NULL) {
		client->log = fopen(log_path, "ae");
		if (client->log == NULL) {
			tessera_log_errno(TESSERA_ERROR, "cannot open log file '%s'", log_path);
			return 2;
		}
	}
	return 0;
}

/* Setup, event loop, teardown */

static bool create_window(struct simple_shm *client) {
	tessera_client_window_init(&client->window, client->compositor, client->wm_base,
		client->title, &window_impl, client);
	xdg_toplevel_set_app_id(client->window.xdg_toplevel, client->app_id);
	if (client->decoration_mode != 0 && client->decoration_manager != NULL) {
		client->decoration = zxdg_decoration_manager_v1_get_toplevel_decoration(
			client->decoration_manager, client->window.xdg_toplevel);
		zxdg_toplevel_decoration_v1_add_listener(client->decoration,
			&decoration_listener, client);
		zxdg_toplevel_decoration_v1_set_mode(client->decoration,
			(uint32_t)client->decoration_mode);
	}
	wl_surface_commit(client->window.surface);
	return true;
}

static void simple_shm_finish(struct simple_shm *client) {
	for (size_t i = 0; i < SHM_BUFFER_COUNT; i++) {
		shm_buffer_finish(&client->buffers[i]);
	}
	if (client->frame_callback != NULL) {
		wl_callback_destroy(client->frame_callback);
	}
	if (client->mapped_callback != NULL) {
		wl_callback_destroy(client->mapped_callback);
	}
	if (client->decoration != NULL) {
		zxdg_toplevel_decoration_v1_destroy(client->decoration);
	}
	tessera_client_window_finish(&client->window);
	release_pointer(client);
	release_keyboard(client);
	xkb_state_unref(client->xkb_state);
	xkb_keymap_unref(client->keymap);
	xkb_context_unref(client->xkb_context);
	if (client->seat != NULL &&
			wl_seat_get_version(client->seat) >= WL_SEAT_RELEASE_SINCE_VERSION) {
		wl_seat_release(client->seat);
		client->seat = NULL;
	}
	tessera_client_disconnect(client->display, &client->registry);
	struct global_entry *entry, *tmp;
	wl_list_for_each_safe(entry, tmp, &client->globals, link) {
		wl_list_remove(&entry->link);
		free(entry->interface);
		free(entry);
	}
	if (client->log != NULL) {
		fclose(client->log);
	}
}

int main(int argc, char *argv[]) {
	tessera_log_init(TESSERA_ERROR, NULL);

	struct simple_shm client = {
		.color = 0x3366cc,
		.init_width = 256,
		.init_height = 256,
		.title = "tessera-simple-shm",
		.app_id = "tessera-simple-shm",
		.running = true,
	};
	wl_list_init(&client.globals);

	int ret = parse_options(&client, argc, argv);
	if (ret != 0) {
		simple_shm_finish(&client);
		return ret < 0 ? 0 : ret;
	}
	log_event(&client, "pid %ld", (long)getpid());

	int signal_fd = tessera_client_signalfd((const int[]){ SIGTERM, SIGINT }, 2);
	if (signal_fd < 0) {
		simple_shm_finish(&client);
		return 1;
	}

	ret = 1;
	client.xkb_context = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	if (client.xkb_context == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create an xkb context");
		goto out;
	}
	client.display = wl_display_connect(NULL);
	if (client.display == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot connect to the Wayland compositor");
		goto out;
	}
	registry_init(&client);
	if (wl_display_roundtrip(client.display) < 0) {
		tessera_log(TESSERA_ERROR, "cannot get the registry (roundtrip)");
		goto out;
	}
	if (!client.running) {
		goto out;
	}
	for (size_t i = 0; i < client.bind_count; i++) {
		const char *name = client.bind_names[i];
		log_event(&client, "bind %s %s", name,
			global_advertised(&client, name) ? "ok" : "absent");
	}
	if (!tessera_client_registry_check(&client.registry)) {
		goto out;
	}

	create_window(&client);
	const struct tessera_client_fd fds[] = {
		{ .fd = signal_fd, .handle = tessera_client_handle_stop_signal, .data = &signal_fd },
	};
	ret = tessera_client_run(client.display, fds, 1, &client.running) ?
		client.exit_code : 1;

out:
	close(signal_fd);
	simple_shm_finish(&client);
	return ret;
}
