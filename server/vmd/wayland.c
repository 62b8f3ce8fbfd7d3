/*
 * tessera-vmd's Wayland client side: connection, globals, outputs, seat.
 * See wayland.h.
 */
#include <inttypes.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>
#include <wayland-server-core.h>

#include "clock.h"
#include "guest-globals.h"
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "log.h"
#include "presentation-time-client-protocol.h"
#include "tessera-guest-memory-v1-client-protocol.h"
#include "tessera-vmd-share-v1-client-protocol.h"
#include "tessera-vmd-v1-client-protocol.h"
#include "tessera-vmd-clipboard-v1-client-protocol.h"
#include "viewporter-client-protocol.h"
#include "wayland.h"
#include "xdg-decoration-unstable-v1-client-protocol.h"
#include "xdg-output-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

/* Highest versions vmd implements. */
#define COMPOSITOR_VERSION 4
#define SUBCOMPOSITOR_VERSION 1
#define SHM_VERSION 1
#define WM_BASE_VERSION 3
#define SEAT_VERSION 8
#define OUTPUT_VERSION 2
#define DECORATION_VERSION 1
#define PRESENTATION_VERSION 1
#define VIEWPORTER_VERSION 1
#define GUEST_MEMORY_VERSION 1
#define XDG_OUTPUT_MANAGER_VERSION 2

#define MAX_COORD (1 << 20)
/* How long vmd waits for the compositor to read its connection before it
 * gives the connection up. */
#define WRITE_TIMEOUT_MS 10000

static uint32_t min_u32(uint32_t a, uint32_t b) {
	return a < b ? a : b;
}

static void wayland_fail(struct vmd_wayland *wayland, const char *what) {
	if (wayland->broken) {
		return;
	}
	wayland->broken = true;
	int err = wl_display_get_error(wayland->display);
	if (err == EPROTO) {
		const struct wl_interface *interface = NULL;
		uint32_t id = 0;
		uint32_t code = wl_display_get_protocol_error(wayland->display,
			&interface, &id);
		tessera_log(TESSERA_ERROR, "Wayland: protocol error %u on %s@%u (%s)",
			code, interface != NULL ? interface->name : "?", id, what);
	} else {
		tessera_log(TESSERA_ERROR, "Wayland: connection to the compositor lost (%s: %s)",
			what, strerror(err != 0 ? err : errno));
	}
	if (wayland->source != NULL) {
		wl_event_source_remove(wayland->source);
		wayland->source = NULL;
	}
	if (wayland->lost != NULL) {
		wayland->lost(wayland->lost_data);
	}
}

/* --- outputs --- */

static int32_t clamp_i32(int32_t v, int32_t lo, int32_t hi) {
	return v < lo ? lo : v > hi ? hi : v;
}

static void output_handle_geometry(void *data, struct wl_output *wl_output,
		int32_t x, int32_t y, int32_t physical_width, int32_t physical_height,
		int32_t subpixel, const char *make, const char *model, int32_t transform) {
	struct vmd_wayland_output *output = data;
	if (output->xdg_output == NULL) {
		/* wlroots sends 0,0 here: xdg-output has the position */
		output->x = clamp_i32(x, -MAX_COORD, MAX_COORD);
		output->y = clamp_i32(y, -MAX_COORD, MAX_COORD);
	}
	output->physical_width_mm = clamp_i32(physical_width, 0, MAX_COORD);
	output->physical_height_mm = clamp_i32(physical_height, 0, MAX_COORD);
	output->transform = clamp_i32(transform, 0, 7);
}

static void output_handle_mode(void *data, struct wl_output *wl_output,
		uint32_t flags, int32_t width, int32_t height, int32_t refresh) {
	struct vmd_wayland_output *output = data;
	if (!(flags & WL_OUTPUT_MODE_CURRENT)) {
		return;
	}
	output->width = clamp_i32(width, 1, 16384);
	output->height = clamp_i32(height, 1, 16384);
	output->refresh_mhz = clamp_i32(refresh, 0, 1000000);
}

static void output_handle_done(void *data, struct wl_output *wl_output) {
	struct vmd_wayland_output *output = data;
	output->done = true;
	wl_signal_emit(&output->wayland->events.output, output);
}

static void output_handle_scale(void *data, struct wl_output *wl_output,
		int32_t factor) {
	struct vmd_wayland_output *output = data;
	output->scale = clamp_i32(factor, 1, 8);
}

static const struct wl_output_listener output_listener = {
	.geometry = output_handle_geometry,
	.mode = output_handle_mode,
	.done = output_handle_done,
	.scale = output_handle_scale,
};

/* xdg_output: where the output is in the compositor's layout. */
static void xdg_output_handle_logical_position(void *data, struct zxdg_output_v1 *xdg_output,
		int32_t x, int32_t y) {
	struct vmd_wayland_output *output = data;
	output->x = clamp_i32(x, -MAX_COORD, MAX_COORD);
	output->y = clamp_i32(y, -MAX_COORD, MAX_COORD);
}

static void xdg_output_handle_logical_size(void *data, struct zxdg_output_v1 *xdg_output,
		int32_t width, int32_t height) {
	struct vmd_wayland_output *output = data;
	output->logical_width = clamp_i32(width, 1, 16384);
	output->logical_height = clamp_i32(height, 1, 16384);
}

/* A change of the layout alone (another output came or went) ends here. */
static void xdg_output_handle_done(void *data, struct zxdg_output_v1 *xdg_output) {
	struct vmd_wayland_output *output = data;
	if (output->done) {
		wl_signal_emit(&output->wayland->events.output, output);
	}
}

static void xdg_output_handle_name(void *data, struct zxdg_output_v1 *xdg_output,
		const char *name) {
}

static void xdg_output_handle_description(void *data, struct zxdg_output_v1 *xdg_output,
		const char *description) {
}

static const struct zxdg_output_v1_listener xdg_output_listener = {
	.logical_position = xdg_output_handle_logical_position,
	.logical_size = xdg_output_handle_logical_size,
	.done = xdg_output_handle_done,
	.name = xdg_output_handle_name,
	.description = xdg_output_handle_description,
};

static void output_get_xdg_output(struct vmd_wayland_output *output) {
	struct vmd_wayland *wayland = output->wayland;
	if (wayland->xdg_output_manager == NULL || output->xdg_output != NULL) {
		return;
	}
	output->xdg_output = zxdg_output_manager_v1_get_xdg_output(
		wayland->xdg_output_manager, output->wl_output);
	zxdg_output_v1_add_listener(output->xdg_output, &xdg_output_listener, output);
}

static void output_add(struct vmd_wayland *wayland, uint32_t name,
		uint32_t version) {
	struct vmd_wayland_output *output = calloc(1, sizeof(*output));
	if (output == NULL) {
		tessera_log(TESSERA_ERROR, "Wayland: out of memory for an output");
		return;
	}
	output->wayland = wayland;
	output->global_name = name;
	output->id = ++wayland->next_output_id;
	output->scale = 1;
	output->width = output->height = 1;
	output->wl_output = wl_registry_bind(wayland->registry, name,
		&wl_output_interface, min_u32(version, OUTPUT_VERSION));
	wl_output_add_listener(output->wl_output, &output_listener, output);
	wl_list_insert(wayland->outputs.prev, &output->link);
	output_get_xdg_output(output);
}

static void output_destroy(struct vmd_wayland_output *output) {
	if (output->done) {
		wl_signal_emit(&output->wayland->events.output_remove, output);
	}
	wl_list_remove(&output->link);
	if (output->xdg_output != NULL) {
		zxdg_output_v1_destroy(output->xdg_output);
	}
	if (wl_output_get_version(output->wl_output) >= WL_OUTPUT_RELEASE_SINCE_VERSION) {
		wl_output_release(output->wl_output);
	} else {
		wl_output_destroy(output->wl_output);
	}
	free(output);
}

struct vmd_wayland_output *vmd_wayland_output_from_id(
		struct vmd_wayland *wayland, uint32_t id) {
	struct vmd_wayland_output *output;
	wl_list_for_each(output, &wayland->outputs, link) {
		if (output->id == id) {
			return output;
		}
	}
	return NULL;
}

struct vmd_wayland_output *vmd_wayland_output_from_wl_output(
		struct vmd_wayland *wayland, struct wl_output *wl_output) {
	struct vmd_wayland_output *output;
	wl_list_for_each(output, &wayland->outputs, link) {
		if (output->wl_output == wl_output) {
			return output;
		}
	}
	return NULL;
}

/* --- pointer --- */

#define INPUT_CALL(wayland, fn, ...) \
	do { \
		if ((wayland)->input != NULL && (wayland)->input->fn != NULL) { \
			(wayland)->input->fn((wayland)->input_data, __VA_ARGS__); \
		} \
	} while (0)

static void pointer_handle_enter(void *data, struct wl_pointer *pointer,
		uint32_t serial, struct wl_surface *surface, wl_fixed_t x, wl_fixed_t y) {
	struct vmd_wayland *wayland = data;
	INPUT_CALL(wayland, pointer_enter, surface, serial, x, y);
}

static void pointer_handle_leave(void *data, struct wl_pointer *pointer,
		uint32_t serial, struct wl_surface *surface) {
	struct vmd_wayland *wayland = data;
	INPUT_CALL(wayland, pointer_leave, surface, serial);
}

static void pointer_handle_motion(void *data, struct wl_pointer *pointer,
		uint32_t time, wl_fixed_t x, wl_fixed_t y) {
	struct vmd_wayland *wayland = data;
	INPUT_CALL(wayland, pointer_motion, time, x, y);
}

static void pointer_handle_button(void *data, struct wl_pointer *pointer,
		uint32_t serial, uint32_t time, uint32_t button, uint32_t state) {
	struct vmd_wayland *wayland = data;
	INPUT_CALL(wayland, pointer_button, serial, time, button, state);
}

static struct vmd_wayland_axis *frame_axis(struct vmd_wayland *wayland,
		uint32_t axis) {
	return axis < 2 ? &wayland->frame_axis[axis] : NULL;
}

static void pointer_handle_axis(void *data, struct wl_pointer *pointer,
		uint32_t time, uint32_t axis, wl_fixed_t value) {
	struct vmd_wayland *wayland = data;
	struct vmd_wayland_axis *a = frame_axis(wayland, axis);
	if (a == NULL) {
		return;
	}
	a->time = time;
	a->axis = axis;
	a->value = value;
	a->stop = false;
	INPUT_CALL(wayland, pointer_axis, a);
	/* source and discrete steps belong to this axis event only */
	a->has_value120 = false;
}

static void pointer_handle_frame(void *data, struct wl_pointer *pointer) {
	struct vmd_wayland *wayland = data;
	for (size_t i = 0; i < 2; i++) {
		wayland->frame_axis[i] = (struct vmd_wayland_axis){ .axis = i };
	}
	if (wayland->input != NULL && wayland->input->pointer_frame != NULL) {
		wayland->input->pointer_frame(wayland->input_data);
	}
}

static void pointer_handle_axis_source(void *data, struct wl_pointer *pointer,
		uint32_t source) {
	struct vmd_wayland *wayland = data;
	for (size_t i = 0; i < 2; i++) {
		wayland->frame_axis[i].has_source = true;
		wayland->frame_axis[i].source = source;
	}
}

static void pointer_handle_axis_stop(void *data, struct wl_pointer *pointer,
		uint32_t time, uint32_t axis) {
	struct vmd_wayland *wayland = data;
	struct vmd_wayland_axis *a = frame_axis(wayland, axis);
	if (a == NULL) {
		return;
	}
	struct vmd_wayland_axis stop = *a;
	stop.time = time;
	stop.axis = axis;
	stop.value = 0;
	stop.stop = true;
	stop.has_value120 = false;
	INPUT_CALL(wayland, pointer_axis, &stop);
}

static void pointer_handle_axis_discrete(void *data, struct wl_pointer *pointer,
		uint32_t axis, int32_t discrete) {
	struct vmd_wayland *wayland = data;
	struct vmd_wayland_axis *a = frame_axis(wayland, axis);
	if (a == NULL) {
		return;
	}
	int64_t v = (int64_t)discrete * 120;
	a->has_value120 = true;
	a->value120 = (int32_t)(v < -MAX_COORD ? -MAX_COORD : v > MAX_COORD ? MAX_COORD : v);
}

static void pointer_handle_axis_value120(void *data, struct wl_pointer *pointer,
		uint32_t axis, int32_t value120) {
	struct vmd_wayland *wayland = data;
	struct vmd_wayland_axis *a = frame_axis(wayland, axis);
	if (a == NULL) {
		return;
	}
	a->has_value120 = true;
	a->value120 = clamp_i32(value120, -MAX_COORD, MAX_COORD);
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

/* --- keyboard --- */

static void keyboard_handle_keymap(void *data, struct wl_keyboard *keyboard,
		uint32_t format, int32_t fd, uint32_t size) {
	struct vmd_wayland *wayland = data;
	if (format != WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1 || size == 0 ||
			size > VMD_WAYLAND_MAX_KEYMAP_SIZE) {
		tessera_log(TESSERA_ERROR, "Wayland: ignoring keymap (format %u, %u bytes)",
			format, size);
		close(fd);
		return;
	}
	void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		tessera_log_errno(TESSERA_ERROR, "Wayland: cannot map the keymap");
		return;
	}
	/* The text ends at its first NUL (the size includes it). */
	size_t len = strnlen(map, size);
	char *text = malloc(len + 1);
	if (text == NULL) {
		munmap(map, size);
		return;
	}
	memcpy(text, map, len);
	text[len] = '\0';
	munmap(map, size);
	free(wayland->keymap);
	wayland->keymap = text;
	wayland->keymap_size = (uint32_t)len + 1;
	wayland->keymap_serial++;
	if (wayland->input != NULL && wayland->input->keymap != NULL) {
		wayland->input->keymap(wayland->input_data);
	}
}

static void keyboard_handle_enter(void *data, struct wl_keyboard *keyboard,
		uint32_t serial, struct wl_surface *surface, struct wl_array *keys) {
	struct vmd_wayland *wayland = data;
	INPUT_CALL(wayland, keyboard_enter, surface, serial,
		keys->data, keys->size / sizeof(uint32_t));
}

static void keyboard_handle_leave(void *data, struct wl_keyboard *keyboard,
		uint32_t serial, struct wl_surface *surface) {
	struct vmd_wayland *wayland = data;
	INPUT_CALL(wayland, keyboard_leave, surface, serial);
}

static void keyboard_handle_key(void *data, struct wl_keyboard *keyboard,
		uint32_t serial, uint32_t time, uint32_t key, uint32_t state) {
	struct vmd_wayland *wayland = data;
	INPUT_CALL(wayland, keyboard_key, serial, time, key, state);
}

static void keyboard_handle_modifiers(void *data, struct wl_keyboard *keyboard,
		uint32_t serial, uint32_t depressed, uint32_t latched, uint32_t locked,
		uint32_t group) {
	struct vmd_wayland *wayland = data;
	INPUT_CALL(wayland, keyboard_modifiers, serial, depressed, latched,
		locked, group);
}

static void keyboard_handle_repeat_info(void *data, struct wl_keyboard *keyboard,
		int32_t rate, int32_t delay) {
	struct vmd_wayland *wayland = data;
	wayland->repeat_rate = clamp_i32(rate, 0, 1000);
	wayland->repeat_delay = clamp_i32(delay, 0, 10000);
	if (wayland->input != NULL && wayland->input->repeat_info != NULL) {
		wayland->input->repeat_info(wayland->input_data);
	}
}

static const struct wl_keyboard_listener keyboard_listener = {
	.keymap = keyboard_handle_keymap,
	.enter = keyboard_handle_enter,
	.leave = keyboard_handle_leave,
	.key = keyboard_handle_key,
	.modifiers = keyboard_handle_modifiers,
	.repeat_info = keyboard_handle_repeat_info,
};

/* --- seat --- */

static void release_pointer(struct vmd_wayland *wayland) {
	if (wayland->pointer == NULL) {
		return;
	}
	if (wl_pointer_get_version(wayland->pointer) >= WL_POINTER_RELEASE_SINCE_VERSION) {
		wl_pointer_release(wayland->pointer);
	} else {
		wl_pointer_destroy(wayland->pointer);
	}
	wayland->pointer = NULL;
}

static void release_keyboard(struct vmd_wayland *wayland) {
	if (wayland->keyboard == NULL) {
		return;
	}
	if (wl_keyboard_get_version(wayland->keyboard) >= WL_KEYBOARD_RELEASE_SINCE_VERSION) {
		wl_keyboard_release(wayland->keyboard);
	} else {
		wl_keyboard_destroy(wayland->keyboard);
	}
	wayland->keyboard = NULL;
}

static void seat_handle_capabilities(void *data, struct wl_seat *seat,
		uint32_t caps) {
	struct vmd_wayland *wayland = data;
	if ((caps & WL_SEAT_CAPABILITY_POINTER) && wayland->pointer == NULL) {
		wayland->pointer = wl_seat_get_pointer(seat);
		wl_pointer_add_listener(wayland->pointer, &pointer_listener, wayland);
	} else if (!(caps & WL_SEAT_CAPABILITY_POINTER) && wayland->pointer != NULL) {
		release_pointer(wayland);
	}
	if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && wayland->keyboard == NULL) {
		wayland->keyboard = wl_seat_get_keyboard(seat);
		wl_keyboard_add_listener(wayland->keyboard, &keyboard_listener, wayland);
	} else if (!(caps & WL_SEAT_CAPABILITY_KEYBOARD) && wayland->keyboard != NULL) {
		release_keyboard(wayland);
	}
}

static void seat_handle_name(void *data, struct wl_seat *seat, const char *name) {
}

static const struct wl_seat_listener seat_listener = {
	.capabilities = seat_handle_capabilities,
	.name = seat_handle_name,
};

/* --- other globals --- */

static void wm_base_handle_ping(void *data, struct xdg_wm_base *wm_base,
		uint32_t serial) {
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
	.ping = wm_base_handle_ping,
};

static void shm_handle_format(void *data, struct wl_shm *shm, uint32_t format) {
	struct vmd_wayland *wayland = data;
	if (vmd_wayland_has_shm_format(wayland, format) ||
			wayland->n_shm_formats >= VMD_WAYLAND_MAX_SHM_FORMATS) {
		return;
	}
	wayland->shm_formats[wayland->n_shm_formats++] = format;
}

static const struct wl_shm_listener shm_listener = {
	.format = shm_handle_format,
};

bool vmd_wayland_has_shm_format(const struct vmd_wayland *wayland,
		uint32_t format) {
	for (size_t i = 0; i < wayland->n_shm_formats; i++) {
		if (wayland->shm_formats[i] == format) {
			return true;
		}
	}
	return false;
}

static void guest_memory_handle_budget(void *data,
		struct tessera_guest_memory_v1 *guest_memory, uint32_t max_buffers,
		uint32_t max_mappings, uint32_t max_bytes_hi, uint32_t max_bytes_lo) {
	struct vmd_wayland *wayland = data;
	wayland->guest_memory_budget.max_buffers = max_buffers;
	wayland->guest_memory_budget.max_mappings = max_mappings;
	wayland->guest_memory_budget.max_bytes =
		(uint64_t)max_bytes_hi << 32 | max_bytes_lo;
	tessera_log(TESSERA_DEBUG, "Wayland: guest memory budget: %u buffers, %u mappings, "
		"%" PRIu64 " bytes", max_buffers, max_mappings,
		wayland->guest_memory_budget.max_bytes);
}

static const struct tessera_guest_memory_v1_listener guest_memory_listener = {
	.budget = guest_memory_handle_budget,
};

static void linux_dmabuf_handle_format(void *data,
		struct zwp_linux_dmabuf_v1 *linux_dmabuf, uint32_t format) {
	/* version 3+: the modifier events say which are linear */
}

static void linux_dmabuf_handle_modifier(void *data,
		struct zwp_linux_dmabuf_v1 *linux_dmabuf, uint32_t format,
		uint32_t modifier_hi, uint32_t modifier_lo) {
	struct vmd_wayland *wayland = data;
	if (modifier_hi != 0 || modifier_lo != 0 || /* DRM_FORMAT_MOD_LINEAR */
			vmd_wayland_has_dmabuf_format(wayland, format) ||
			wayland->n_dmabuf_linear_formats >= VMD_WAYLAND_MAX_SHM_FORMATS) {
		return;
	}
	wayland->dmabuf_linear_formats[wayland->n_dmabuf_linear_formats++] = format;
}

static const struct zwp_linux_dmabuf_v1_listener linux_dmabuf_listener = {
	.format = linux_dmabuf_handle_format,
	.modifier = linux_dmabuf_handle_modifier,
};

bool vmd_wayland_has_dmabuf_format(const struct vmd_wayland *wayland,
		uint32_t format) {
	for (size_t i = 0; i < wayland->n_dmabuf_linear_formats; i++) {
		if (wayland->dmabuf_linear_formats[i] == format) {
			return true;
		}
	}
	return false;
}

/* tessera_vmd_clipboard_v1: to the session's handler, or refused. */
static void clipboard_handle_copy(void *data,
		struct tessera_vmd_clipboard_v1 *clipboard, uint32_t id, uint32_t types,
		uint32_t max_size, int32_t fd) {
	struct vmd_wayland *wayland = data;
	if (wayland->clipboard_handler == NULL) {
		close(fd);
		tessera_vmd_clipboard_v1_copy_failed(clipboard, id,
			TESSERA_VMD_CLIPBOARD_V1_REASON_NO_AGENT, "no guest session");
		return;
	}
	wayland->clipboard_handler->copy(wayland->clipboard_data, id, types, max_size, fd);
}

static void clipboard_handle_paste(void *data,
		struct tessera_vmd_clipboard_v1 *clipboard, uint32_t id, uint32_t type,
		uint32_t size, int32_t fd) {
	struct vmd_wayland *wayland = data;
	if (wayland->clipboard_handler == NULL) {
		close(fd);
		tessera_vmd_clipboard_v1_paste_failed(clipboard, id,
			TESSERA_VMD_CLIPBOARD_V1_REASON_NO_AGENT, "no guest session");
		return;
	}
	wayland->clipboard_handler->paste(wayland->clipboard_data, id, type, size, fd);
}

static const struct tessera_vmd_clipboard_v1_listener clipboard_listener = {
	.copy = clipboard_handle_copy,
	.paste = clipboard_handle_paste,
};

void vmd_wayland_set_clipboard_handler(struct vmd_wayland *wayland,
		const struct vmd_wayland_clipboard_handler *handler, void *data) {
	wayland->clipboard_handler = handler;
	wayland->clipboard_data = data;
}

static void registry_handle_global(void *data, struct wl_registry *registry,
		uint32_t name, const char *interface, uint32_t version) {
	struct vmd_wayland *wayland = data;
	if (!tessera_guest_global_is(interface, TESSERA_GLOBAL_VM)) {
		return; /* not for VMs (protocol/guest-globals.h) */
	}
	if (strcmp(interface, wl_compositor_interface.name) == 0 &&
			wayland->compositor == NULL) {
		wayland->compositor = wl_registry_bind(registry, name,
			&wl_compositor_interface, min_u32(version, COMPOSITOR_VERSION));
	} else if (strcmp(interface, wl_subcompositor_interface.name) == 0 &&
			wayland->subcompositor == NULL) {
		wayland->subcompositor = wl_registry_bind(registry, name,
			&wl_subcompositor_interface, min_u32(version, SUBCOMPOSITOR_VERSION));
	} else if (strcmp(interface, wl_shm_interface.name) == 0 &&
			wayland->shm == NULL) {
		wayland->shm = wl_registry_bind(registry, name,
			&wl_shm_interface, min_u32(version, SHM_VERSION));
		wl_shm_add_listener(wayland->shm, &shm_listener, wayland);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0 &&
			wayland->wm_base == NULL) {
		wayland->wm_base = wl_registry_bind(registry, name,
			&xdg_wm_base_interface, min_u32(version, WM_BASE_VERSION));
		xdg_wm_base_add_listener(wayland->wm_base, &wm_base_listener, wayland);
	} else if (strcmp(interface, wl_seat_interface.name) == 0 &&
			wayland->seat == NULL) {
		wayland->seat = wl_registry_bind(registry, name,
			&wl_seat_interface, min_u32(version, SEAT_VERSION));
		wl_seat_add_listener(wayland->seat, &seat_listener, wayland);
	} else if (strcmp(interface, zxdg_decoration_manager_v1_interface.name) == 0 &&
			wayland->decoration_manager == NULL) {
		wayland->decoration_manager = wl_registry_bind(registry, name,
			&zxdg_decoration_manager_v1_interface,
			min_u32(version, DECORATION_VERSION));
	} else if (strcmp(interface, wp_presentation_interface.name) == 0 &&
			wayland->presentation == NULL) {
		wayland->presentation = wl_registry_bind(registry, name,
			&wp_presentation_interface, min_u32(version, PRESENTATION_VERSION));
	} else if (strcmp(interface, wp_viewporter_interface.name) == 0 &&
			wayland->viewporter == NULL) {
		wayland->viewporter = wl_registry_bind(registry, name,
			&wp_viewporter_interface, min_u32(version, VIEWPORTER_VERSION));
	} else if (strcmp(interface, tessera_guest_memory_v1_interface.name) == 0 &&
			wayland->guest_memory == NULL) {
		wayland->guest_memory = wl_registry_bind(registry, name,
			&tessera_guest_memory_v1_interface,
			min_u32(version, GUEST_MEMORY_VERSION));
		tessera_guest_memory_v1_add_listener(wayland->guest_memory,
			&guest_memory_listener, wayland);
	} else if (strcmp(interface, tessera_vmd_v1_interface.name) == 0 &&
			wayland->vmd_report == NULL) {
		wayland->vmd_report = wl_registry_bind(registry, name,
			&tessera_vmd_v1_interface, 1);
	} else if (strcmp(interface, tessera_vmd_share_v1_interface.name) == 0 &&
			wayland->share == NULL) {
		wayland->share = wl_registry_bind(registry, name,
			&tessera_vmd_share_v1_interface, 1);
	} else if (strcmp(interface, tessera_vmd_clipboard_v1_interface.name) == 0 &&
			wayland->clipboard == NULL) {
		wayland->clipboard = wl_registry_bind(registry, name,
			&tessera_vmd_clipboard_v1_interface, 1);
		tessera_vmd_clipboard_v1_add_listener(wayland->clipboard,
			&clipboard_listener, wayland);
	} else if (strcmp(interface, zwp_linux_dmabuf_v1_interface.name) == 0 &&
			version >= 3 && wayland->linux_dmabuf == NULL) {
		wayland->linux_dmabuf = wl_registry_bind(registry, name,
			&zwp_linux_dmabuf_v1_interface, 3);
		zwp_linux_dmabuf_v1_add_listener(wayland->linux_dmabuf,
			&linux_dmabuf_listener, wayland);
	} else if (strcmp(interface, zxdg_output_manager_v1_interface.name) == 0 &&
			wayland->xdg_output_manager == NULL) {
		wayland->xdg_output_manager = wl_registry_bind(registry, name,
			&zxdg_output_manager_v1_interface,
			min_u32(version, XDG_OUTPUT_MANAGER_VERSION));
		struct vmd_wayland_output *output;
		wl_list_for_each(output, &wayland->outputs, link) {
			output_get_xdg_output(output);
		}
	} else if (strcmp(interface, wl_output_interface.name) == 0) {
		output_add(wayland, name, version);
	}
}

static void registry_handle_global_remove(void *data,
		struct wl_registry *registry, uint32_t name) {
	struct vmd_wayland *wayland = data;
	struct vmd_wayland_output *output, *tmp;
	wl_list_for_each_safe(output, tmp, &wayland->outputs, link) {
		if (output->global_name == name) {
			output_destroy(output);
			return;
		}
	}
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_handle_global,
	.global_remove = registry_handle_global_remove,
};

/* --- event loop integration --- */

static void wayland_update_mask(struct vmd_wayland *wayland, bool writable) {
	if (wayland->source != NULL) {
		wl_event_source_fd_update(wayland->source,
			WL_EVENT_READABLE | (writable ? WL_EVENT_WRITABLE : 0));
	}
}

void vmd_wayland_flush(struct vmd_wayland *wayland) {
	if (wayland == NULL || wayland->broken) {
		return;
	}
	if (wl_display_dispatch_pending(wayland->display) < 0) {
		wayland_fail(wayland, "dispatch");
		return;
	}
	if (wl_display_flush(wayland->display) < 0) {
		if (errno == EAGAIN) {
			/* the socket is full: send the rest when writable */
			wayland_update_mask(wayland, true);
			return;
		}
		wayland_fail(wayland, "flush");
	}
}

static int handle_display_fd(int fd, uint32_t mask, void *data) {
	struct vmd_wayland *wayland = data;
	if (mask & WL_EVENT_READABLE) {
		while (wl_display_prepare_read(wayland->display) != 0) {
			if (wl_display_dispatch_pending(wayland->display) < 0) {
				wayland_fail(wayland, "dispatch");
				return 0;
			}
		}
		if (wl_display_read_events(wayland->display) < 0) {
			wayland_fail(wayland, "read");
			return 0;
		}
		if (wl_display_dispatch_pending(wayland->display) < 0) {
			wayland_fail(wayland, "dispatch");
			return 0;
		}
	}
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		wayland_fail(wayland, "hang-up");
		return 0;
	}
	if (mask & WL_EVENT_WRITABLE) {
		if (wl_display_flush(wayland->display) < 0) {
			if (errno != EAGAIN) {
				wayland_fail(wayland, "flush");
			}
			return 0;
		}
		wayland_update_mask(wayland, false);
		wl_signal_emit(&wayland->events.writable, wayland);
		if (wayland->broken) {
			return 0;
		}
	}
	vmd_wayland_flush(wayland);
	return 0;
}

/* The display fd's poll() events, without waiting longer than timeout_ms;
 * 0 if the connection broke. POLLOUT means that the socket has room: for a
 * UNIX stream socket, at most a quarter of its send buffer is unread by
 * the compositor. */
static short poll_display(struct vmd_wayland *wayland, int timeout_ms) {
	struct pollfd pfd = {
		.fd = wl_display_get_fd(wayland->display),
		.events = POLLIN | POLLOUT,
	};
	int n = poll(&pfd, 1, timeout_ms);
	if (n < 0) {
		if (errno != EINTR) {
			wayland_fail(wayland, "poll");
		}
		return 0;
	}
	if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
		wayland_fail(wayland, "hang-up");
		return 0;
	}
	return pfd.revents;
}

bool vmd_wayland_has_room(struct vmd_wayland *wayland) {
	if (wayland == NULL || wayland->broken || wayland->source == NULL) {
		return true;
	}
	short revents = poll_display(wayland, 0);
	if (revents & POLLIN) {
		handle_display_fd(-1, WL_EVENT_READABLE, wayland);
	}
	if (wayland->broken || (revents & POLLOUT)) {
		return true;
	}
	/* events.writable fires once the compositor has read enough */
	wayland_update_mask(wayland, true);
	return false;
}

bool vmd_wayland_wait_writable(struct vmd_wayland *wayland) {
	if (wayland == NULL || wayland->broken) {
		return false;
	}
	int64_t deadline = tessera_clock_now_ms() + WRITE_TIMEOUT_MS;
	int timeout_ms = 0;
	for (;;) {
		short revents = poll_display(wayland, timeout_ms);
		if (wayland->broken) {
			return false;
		}
		/* Whatever arrived goes into the queues, dispatched once the
		 * command is done: a long batch must not leave the
		 * compositor's side of the socket full either. */
		if ((revents & POLLIN) && (wl_display_prepare_read_queue(wayland->display,
				wayland->read_queue) != 0 ||
				wl_display_read_events(wayland->display) < 0)) {
			wayland_fail(wayland, "read");
			return false;
		}
		if (revents & POLLOUT) {
			return true;
		}
		int64_t left = deadline - tessera_clock_now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			wayland_fail(wayland, "the compositor reads nothing");
			return false;
		}
		timeout_ms = (int)left;
	}
}

struct vmd_wayland *vmd_wayland_create(struct wl_event_loop *loop) {
	struct vmd_wayland *wayland = calloc(1, sizeof(*wayland));
	if (wayland == NULL) {
		tessera_log(TESSERA_ERROR, "Wayland: out of memory");
		return NULL;
	}
	wl_list_init(&wayland->outputs);
	wl_signal_init(&wayland->events.output);
	wl_signal_init(&wayland->events.output_remove);
	wl_signal_init(&wayland->events.writable);
	wayland->loop = loop;
	wayland->repeat_rate = 25;
	wayland->repeat_delay = 600;
	for (size_t i = 0; i < 2; i++) {
		wayland->frame_axis[i].axis = i;
	}

	const char *socket = getenv("WAYLAND_SOCKET");
	wayland->display = wl_display_connect(NULL);
	if (wayland->display == NULL) {
		tessera_log_errno(TESSERA_ERROR, "Wayland: cannot connect to the compositor (%s)",
			socket != NULL ? "WAYLAND_SOCKET" : "WAYLAND_DISPLAY");
		free(wayland);
		return NULL;
	}
	wayland->read_queue = wl_display_create_queue(wayland->display);
	if (wayland->read_queue == NULL) {
		tessera_log(TESSERA_ERROR, "Wayland: out of memory");
		wl_display_disconnect(wayland->display);
		free(wayland);
		return NULL;
	}
	wayland->registry = wl_display_get_registry(wayland->display);
	wl_registry_add_listener(wayland->registry, &registry_listener, wayland);
	/* globals, then the events of the bound globals (seat
	 * capabilities, outputs, shm formats), then keymap and
	 * repeat info of the devices created in between */
	for (int i = 0; i < 3; i++) {
		if (wl_display_roundtrip(wayland->display) < 0) {
			tessera_log(TESSERA_ERROR, "Wayland: cannot complete the initial roundtrip");
			wayland->broken = true;
			vmd_wayland_destroy(wayland);
			return NULL;
		}
	}
	if (wayland->compositor == NULL || wayland->wm_base == NULL ||
			wayland->shm == NULL) {
		tessera_log(TESSERA_ERROR, "Wayland: the compositor lacks wl_compositor, "
			"xdg_wm_base or wl_shm");
		vmd_wayland_destroy(wayland);
		return NULL;
	}
	tessera_log(TESSERA_INFO, "Wayland: connected (%s); linux-dmabuf %s, guest memory %s, "
		"presentation %s, decorations %s, seat %s",
		socket != NULL ? "tagged WAYLAND_SOCKET" : "WAYLAND_DISPLAY",
		wayland->linux_dmabuf != NULL ? "yes" : "no",
		wayland->guest_memory != NULL ? "yes" : "no",
		wayland->presentation != NULL ? "yes" : "no",
		wayland->decoration_manager != NULL ? "yes" : "no",
		wayland->seat != NULL ? "yes" : "no");

	if (loop != NULL) {
		wayland->source = wl_event_loop_add_fd(loop,
			wl_display_get_fd(wayland->display), WL_EVENT_READABLE,
			handle_display_fd, wayland);
		if (wayland->source == NULL) {
			tessera_log(TESSERA_ERROR, "Wayland: cannot watch the display fd");
			vmd_wayland_destroy(wayland);
			return NULL;
		}
	}
	return wayland;
}

void vmd_wayland_set_input_handler(struct vmd_wayland *wayland,
		const struct vmd_wayland_input_handler *handler, void *data) {
	wayland->input = handler;
	wayland->input_data = data;
}

void vmd_wayland_disable_guest_memory(struct vmd_wayland *wayland) {
	if (wayland->guest_memory != NULL) {
		tessera_guest_memory_v1_destroy(wayland->guest_memory);
		wayland->guest_memory = NULL;
		tessera_log(TESSERA_INFO, "Wayland: tessera_guest_memory_v1 disabled, "
			"buffers are copied through wl_shm");
	}
}

void vmd_wayland_destroy(struct vmd_wayland *wayland) {
	if (wayland == NULL) {
		return;
	}
	if (wayland->source != NULL) {
		wl_event_source_remove(wayland->source);
	}
	struct vmd_wayland_output *output, *tmp;
	wl_list_for_each_safe(output, tmp, &wayland->outputs, link) {
		output_destroy(output);
	}
	release_pointer(wayland);
	release_keyboard(wayland);
	if (wayland->seat != NULL) {
		if (wl_seat_get_version(wayland->seat) >= WL_SEAT_RELEASE_SINCE_VERSION) {
			wl_seat_release(wayland->seat);
		} else {
			wl_seat_destroy(wayland->seat);
		}
	}
	if (wayland->guest_memory != NULL) {
		tessera_guest_memory_v1_destroy(wayland->guest_memory);
	}
	if (wayland->share != NULL) {
		tessera_vmd_share_v1_destroy(wayland->share);
	}
	vmd_shares_destroy(wayland->shares);
	if (wayland->vmd_report != NULL) {
		tessera_vmd_v1_destroy(wayland->vmd_report);
	}
	if (wayland->clipboard != NULL) {
		tessera_vmd_clipboard_v1_destroy(wayland->clipboard);
	}
	if (wayland->linux_dmabuf != NULL) {
		zwp_linux_dmabuf_v1_destroy(wayland->linux_dmabuf);
	}
	if (wayland->xdg_output_manager != NULL) {
		zxdg_output_manager_v1_destroy(wayland->xdg_output_manager);
	}
	if (wayland->viewporter != NULL) {
		wp_viewporter_destroy(wayland->viewporter);
	}
	if (wayland->presentation != NULL) {
		wp_presentation_destroy(wayland->presentation);
	}
	if (wayland->decoration_manager != NULL) {
		zxdg_decoration_manager_v1_destroy(wayland->decoration_manager);
	}
	if (wayland->wm_base != NULL) {
		xdg_wm_base_destroy(wayland->wm_base);
	}
	if (wayland->shm != NULL) {
		wl_shm_destroy(wayland->shm);
	}
	if (wayland->subcompositor != NULL) {
		wl_subcompositor_destroy(wayland->subcompositor);
	}
	if (wayland->compositor != NULL) {
		wl_compositor_destroy(wayland->compositor);
	}
	if (wayland->registry != NULL) {
		wl_registry_destroy(wayland->registry);
	}
	if (!wayland->broken) {
		wl_display_flush(wayland->display);
	}
	wl_event_queue_destroy(wayland->read_queue);
	wl_display_disconnect(wayland->display);
	free(wayland->keymap);
	free(wayland);
}
