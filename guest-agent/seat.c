/*
 * The guest seat: keyboard and pointer events from the host's event ring
 * become wl_seat events for the guest client that owns the surface the
 * host named (the host sends input only for the surface the user focused).
 * The keyboard is a headless input device whose keymap is the host's
 * (KEYMAP); the pointer has no device, the seat is driven directly.
 * Cursor surfaces go to the host with SET_CURSOR; the clipboard stays
 * inside the VM (wl_data_device_manager between guest clients only).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <wlr/backend/headless.h>
#include <wlr/interfaces/wlr_keyboard.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_seat.h>
#include <xkbcommon/xkbcommon.h>

#include "agent.h"
#include "log.h"

#define SERIAL_MAP 16

/* guest input serial -> host input serial, for move/resize requests */
static struct {
	uint32_t guest, host;
} serial_map[SERIAL_MAP];
static unsigned serial_map_next;

static void remember_serial(uint32_t guest, uint32_t host_serial) {
	serial_map[serial_map_next].guest = guest;
	serial_map[serial_map_next].host = host_serial;
	serial_map_next = (serial_map_next + 1) % SERIAL_MAP;
}

uint32_t agent_seat_host_serial(struct agent_server *server, uint32_t guest_serial) {
	for (size_t i = 0; i < SERIAL_MAP; i++) {
		if (serial_map[i].guest == guest_serial && serial_map[i].host != 0) {
			return serial_map[i].host;
		}
	}
	return server->host.last_input_serial;
}

static struct wlr_keyboard *keyboard(struct agent_server *server) {
	return server->keyboard->keyboard;
}

void agent_seat_keymap(struct agent_server *server, const char *text, size_t len) {
	struct xkb_keymap *keymap = xkb_keymap_new_from_buffer(server->xkb, text, len,
		XKB_KEYMAP_FORMAT_TEXT_V1, XKB_KEYMAP_COMPILE_NO_FLAGS);
	if (keymap == NULL) {
		tessera_log(TESSERA_ERROR, "the host's keymap (%zu bytes) does not compile", len);
		return;
	}
	wlr_keyboard_set_keymap(keyboard(server), keymap);
	xkb_keymap_unref(keymap);
	server->keymap_serial++;
	tessera_log(TESSERA_DEBUG, "keymap from the host: %zu bytes", len);
}

void agent_seat_handle_event(struct agent_server *server, const struct tessera_wire_msg *msg) {
	struct wlr_seat *seat = server->seat;
	struct agent_host *host = &server->host;
	if (msg->type >= TESSERA_WIRE_POINTER_ENTER && msg->type <= TESSERA_WIRE_POINTER_FRAME &&
			agent_xwayland_hold_pointer(server, msg)) {
		return;
	}
	switch (msg->type) {
	case TESSERA_WIRE_POINTER_ENTER: {
		const struct tessera_wire_pointer_enter *ev = &msg->pointer_enter;
		struct agent_surface *as = agent_surface_by_id(server, ev->surface);
		host->pointer_enter_serial = ev->serial;
		if (as != NULL) {
			wlr_seat_pointer_notify_enter(seat, as->surface, ev->x / 256.0, ev->y / 256.0);
		} else {
			wlr_seat_pointer_notify_clear_focus(seat);
		}
		break;
	}
	case TESSERA_WIRE_POINTER_LEAVE:
		wlr_seat_pointer_notify_clear_focus(seat);
		break;
	case TESSERA_WIRE_POINTER_MOTION:
		wlr_seat_pointer_notify_motion(seat, msg->pointer_motion.time,
			msg->pointer_motion.x / 256.0, msg->pointer_motion.y / 256.0);
		break;
	case TESSERA_WIRE_POINTER_BUTTON: {
		const struct tessera_wire_button *ev = &msg->button;
		uint32_t guest = wlr_seat_pointer_notify_button(seat, ev->time, ev->code,
			ev->state ? WLR_BUTTON_PRESSED : WLR_BUTTON_RELEASED);
		host->last_input_serial = ev->serial;
		remember_serial(guest, ev->serial);
		break;
	}
	case TESSERA_WIRE_POINTER_AXIS: {
		const struct tessera_wire_pointer_axis *ev = &msg->pointer_axis;
		double value = (ev->flags & TESSERA_WIRE_AXIS_STOP) ? 0.0 : ev->value / 256.0;
		int32_t discrete = (ev->flags & TESSERA_WIRE_AXIS_VALUE120) ? ev->value120 / 120 : 0;
		enum wlr_axis_source source = (ev->flags & TESSERA_WIRE_AXIS_SOURCE) ?
			(enum wlr_axis_source)ev->source : WLR_AXIS_SOURCE_WHEEL;
		wlr_seat_pointer_notify_axis(seat, ev->time,
			ev->axis == 0 ? WLR_AXIS_ORIENTATION_VERTICAL : WLR_AXIS_ORIENTATION_HORIZONTAL,
			value, discrete, source);
		break;
	}
	case TESSERA_WIRE_POINTER_FRAME:
		wlr_seat_pointer_notify_frame(seat);
		break;
	case TESSERA_WIRE_KEYBOARD_ENTER: {
		const struct tessera_wire_keyboard_enter *ev = &msg->keyboard_enter;
		struct agent_surface *as = agent_surface_by_id(server, ev->surface);
		if (as == NULL) {
			wlr_seat_keyboard_notify_clear_focus(seat);
			break;
		}
		uint32_t keys[TESSERA_WIRE_MAX_KEYS];
		size_t n = ev->key_count <= TESSERA_WIRE_MAX_KEYS ? ev->key_count : 0;
		for (size_t i = 0; i < n; i++) {
			keys[i] = ev->keys[i];
		}
		wlr_seat_keyboard_notify_enter(seat, as->surface, keys, n,
			&keyboard(server)->modifiers);
		break;
	}
	case TESSERA_WIRE_KEYBOARD_LEAVE:
		wlr_seat_keyboard_notify_clear_focus(seat);
		break;
	case TESSERA_WIRE_KEYBOARD_KEY: {
		const struct tessera_wire_button *ev = &msg->key;
		host->last_input_serial = ev->serial;
		wlr_seat_keyboard_notify_key(seat, ev->time, ev->code,
			ev->state ? WL_KEYBOARD_KEY_STATE_PRESSED : WL_KEYBOARD_KEY_STATE_RELEASED);
		break;
	}
	case TESSERA_WIRE_KEYBOARD_MODIFIERS: {
		const struct tessera_wire_keyboard_modifiers *ev = &msg->keyboard_modifiers;
		struct wlr_keyboard *kb = keyboard(server);
		wlr_keyboard_notify_modifiers(kb, ev->depressed, ev->latched, ev->locked, ev->group);
		wlr_seat_keyboard_notify_modifiers(seat, &kb->modifiers);
		break;
	}
	case TESSERA_WIRE_KEYBOARD_REPEAT_INFO:
		wlr_keyboard_set_repeat_info(keyboard(server), msg->repeat_info.rate,
			msg->repeat_info.delay);
		break;
	default:
		tessera_log(TESSERA_DEBUG, "ignoring host event %s",
			tessera_wire_type_name(msg->type) ? tessera_wire_type_name(msg->type) : "?");
		break;
	}
}

void agent_seat_session_lost(struct agent_server *server) {
	wlr_seat_pointer_notify_clear_focus(server->seat);
	wlr_seat_keyboard_notify_clear_focus(server->seat);
	server->host.pointer_enter_serial = 0;
}

static void handle_request_set_cursor(struct wl_listener *listener, void *data) {
	struct agent_server *server = wl_container_of(listener, server, request_set_cursor);
	struct wlr_seat_pointer_request_set_cursor_event *ev = data;
	if (ev->seat_client != server->seat->pointer_state.focused_client) {
		return;
	}
	struct agent_surface *as = agent_surface_from_wlr(ev->surface);
	if (ev->surface != NULL && as == NULL) {
		return;
	}
	agent_surface_set_cursor(server, as, ev->hotspot_x, ev->hotspot_y);
}

static void handle_request_set_selection(struct wl_listener *listener, void *data) {
	struct agent_server *server = wl_container_of(listener, server, request_set_selection);
	struct wlr_seat_request_set_selection_event *ev = data;
	wlr_seat_set_selection(server->seat, ev->source, ev->serial);
}

bool agent_seat_init(struct agent_server *server) {
	server->seat = wlr_seat_create(server->display, "seat0");
	server->xkb = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	if (server->seat == NULL || server->xkb == NULL) {
		return false;
	}
	server->keyboard = wlr_headless_add_input_device(server->backend,
		WLR_INPUT_DEVICE_KEYBOARD);
	if (server->keyboard == NULL) {
		return false;
	}
	/* until the host's keymap arrives (it does with the first focus) */
	struct xkb_keymap *keymap = xkb_keymap_new_from_names(server->xkb, NULL,
		XKB_KEYMAP_COMPILE_NO_FLAGS);
	if (keymap != NULL) {
		wlr_keyboard_set_keymap(keyboard(server), keymap);
		xkb_keymap_unref(keymap);
	}
	wlr_seat_set_keyboard(server->seat, server->keyboard);
	wlr_seat_set_capabilities(server->seat,
		WL_SEAT_CAPABILITY_KEYBOARD | WL_SEAT_CAPABILITY_POINTER);
	server->request_set_cursor.notify = handle_request_set_cursor;
	wl_signal_add(&server->seat->events.request_set_cursor, &server->request_set_cursor);
	server->request_set_selection.notify = handle_request_set_selection;
	wl_signal_add(&server->seat->events.request_set_selection,
		&server->request_set_selection);
	return true;
}

void agent_seat_finish(struct agent_server *server) {
	if (server->seat != NULL) {
		wl_list_remove(&server->request_set_cursor.link);
		wl_list_remove(&server->request_set_selection.link);
	}
	xkb_context_unref(server->xkb);
	server->xkb = NULL;
}
