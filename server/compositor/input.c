#include <stdlib.h>
#include <linux/input-event-codes.h>
#include <wlr/backend.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_pointer.h>
#include <wlr/types/wlr_primary_selection.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_virtual_keyboard_v1.h>
#include <wlr/types/wlr_virtual_pointer_v1.h>
#include <wlr/types/wlr_xcursor_manager.h>
#include <xkbcommon/xkbcommon.h>

#include "log.h"
#include "server.h"
#include "vm.h"

struct tessera_keyboard {
	struct wl_list link;
	struct tessera_server *server;
	struct wlr_input_device *device;
	struct wl_listener modifiers;
	struct wl_listener key;
	struct wl_listener destroy;
};

static void keyboard_handle_modifiers(struct wl_listener *listener, void *data) {
	struct tessera_keyboard *keyboard = wl_container_of(listener, keyboard, modifiers);
	if (keyboard->device->keyboard->keymap == NULL) {
		return;
	}
	wlr_seat_set_keyboard(keyboard->server->seat, keyboard->device);
	wlr_seat_keyboard_notify_modifiers(keyboard->server->seat,
		&keyboard->device->keyboard->modifiers);
}

static void cycle_focus(struct tessera_server *server) {
	if (wl_list_length(&server->views) < 2) {
		return;
	}
	/* The last (bottom-most) window comes to the front. */
	struct tessera_view *last = wl_container_of(server->views.prev, last, link);
	tessera_view_focus(last);
}

/* Compositor key bindings, with Alt held. Returns true if handled. */
static bool handle_keybinding(struct tessera_server *server, xkb_keysym_t sym,
		uint32_t modifiers) {
	if ((modifiers & WLR_MODIFIER_CTRL) && sym == XKB_KEY_BackSpace) {
		tessera_log(TESSERA_INFO, "Ctrl+Alt+BackSpace: exiting");
		wl_display_terminate(server->wl_display);
		return true;
	}
	if (sym == XKB_KEY_Tab) {
		cycle_focus(server);
		return true;
	}
	return false;
}

static void keyboard_handle_key(struct wl_listener *listener, void *data) {
	struct tessera_keyboard *keyboard = wl_container_of(listener, keyboard, key);
	struct tessera_server *server = keyboard->server;
	struct wlr_event_keyboard_key *event = data;
	struct wlr_seat *seat = server->seat;
	if (keyboard->device->keyboard->keymap == NULL) {
		return;
	}

	uint32_t keycode = event->keycode + 8;
	const xkb_keysym_t *syms;
	int nsyms = xkb_state_key_get_syms(keyboard->device->keyboard->xkb_state,
		keycode, &syms);
	bool handled = false;
	uint32_t modifiers = wlr_keyboard_get_modifiers(keyboard->device->keyboard);
	if ((modifiers & WLR_MODIFIER_ALT) && event->state == WL_KEYBOARD_KEY_STATE_PRESSED) {
		for (int i = 0; i < nsyms; i++) {
			handled = handle_keybinding(server, syms[i], modifiers) || handled;
		}
	}
	if (!handled) {
		/* Keys go to the seat's focused surface only, which is the
		 * focused window (tessera_view_focus). */
		wlr_seat_set_keyboard(seat, keyboard->device);
		wlr_seat_keyboard_notify_key(seat, event->time_msec, event->keycode,
			event->state);
	}
}

static void keyboard_handle_destroy(struct wl_listener *listener, void *data) {
	struct tessera_keyboard *keyboard = wl_container_of(listener, keyboard, destroy);
	wl_list_remove(&keyboard->modifiers.link);
	wl_list_remove(&keyboard->key.link);
	wl_list_remove(&keyboard->destroy.link);
	wl_list_remove(&keyboard->link);
	free(keyboard);
}

static void add_keyboard(struct tessera_server *server,
		struct wlr_input_device *device, bool set_keymap) {
	struct tessera_keyboard *keyboard = calloc(1, sizeof(*keyboard));
	if (keyboard == NULL) {
		return;
	}
	keyboard->server = server;
	keyboard->device = device;

	if (set_keymap) {
		/* Layout from XKB_DEFAULT_{RULES,MODEL,LAYOUT,VARIANT,OPTIONS}. */
		struct xkb_context *context = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
		struct xkb_keymap *keymap = context == NULL ? NULL :
			xkb_keymap_new_from_names(context, NULL, XKB_KEYMAP_COMPILE_NO_FLAGS);
		if (keymap == NULL) {
			tessera_log(TESSERA_ERROR, "cannot compile the keymap (check XKB_DEFAULT_*)");
		} else {
			wlr_keyboard_set_keymap(device->keyboard, keymap);
		}
		xkb_keymap_unref(keymap);
		xkb_context_unref(context);
		wlr_keyboard_set_repeat_info(device->keyboard, 25, 600);
	}

	keyboard->modifiers.notify = keyboard_handle_modifiers;
	wl_signal_add(&device->keyboard->events.modifiers, &keyboard->modifiers);
	keyboard->key.notify = keyboard_handle_key;
	wl_signal_add(&device->keyboard->events.key, &keyboard->key);
	keyboard->destroy.notify = keyboard_handle_destroy;
	wl_signal_add(&device->events.destroy, &keyboard->destroy);

	/* A virtual keyboard has no keymap until its client sends one; it
	 * becomes the seat's keyboard with its first key or modifier event. */
	if (device->keyboard->keymap != NULL) {
		wlr_seat_set_keyboard(server->seat, device);
	}
	wl_list_insert(&server->keyboards, &keyboard->link);
}

static void handle_new_input(struct wl_listener *listener, void *data) {
	struct tessera_server *server = wl_container_of(listener, server, new_input);
	struct wlr_input_device *device = data;
	switch (device->type) {
	case WLR_INPUT_DEVICE_KEYBOARD:
		add_keyboard(server, device, true);
		break;
	case WLR_INPUT_DEVICE_POINTER:
		wlr_cursor_attach_input_device(server->cursor, device);
		break;
	default:
		break;
	}
	tessera_log(TESSERA_DEBUG, "new input device '%s'", device->name);
}

static void handle_new_virtual_keyboard(struct wl_listener *listener, void *data) {
	struct tessera_server *server =
		wl_container_of(listener, server, new_virtual_keyboard);
	struct wlr_virtual_keyboard_v1 *keyboard = data;
	/* The client brings its own keymap. */
	add_keyboard(server, &keyboard->input_device, false);
	tessera_log(TESSERA_INFO, "virtual keyboard added");
}

static void handle_new_virtual_pointer(struct wl_listener *listener, void *data) {
	struct tessera_server *server =
		wl_container_of(listener, server, new_virtual_pointer);
	struct wlr_virtual_pointer_v1_new_pointer_event *event = data;
	struct wlr_input_device *device = &event->new_pointer->input_device;
	wlr_cursor_attach_input_device(server->cursor, device);
	if (event->suggested_output != NULL) {
		wlr_cursor_map_input_to_output(server->cursor, device,
			event->suggested_output);
	}
	tessera_log(TESSERA_INFO, "virtual pointer added");
}

/*
 * Pointer input goes only to surfaces of the focused window: a window
 * that is not focused (a VM in particular) sees no motion, no buttons and
 * no axis events until the user clicks it.
 */
static void pointer_update_focus(struct tessera_server *server, uint32_t time) {
	struct wlr_seat *seat = server->seat;
	double sx, sy;
	struct wlr_surface *surface = NULL;
	struct tessera_view *view = tessera_view_at(server,
		server->cursor->x, server->cursor->y, &surface, &sx, &sy);
	if (view == NULL || surface == NULL || view != server->focused_view) {
		if (view == NULL || surface == NULL) {
			wlr_xcursor_manager_set_cursor_image(server->cursor_mgr,
				"left_ptr", server->cursor);
		}
		wlr_seat_pointer_clear_focus(seat);
		return;
	}
	wlr_seat_pointer_notify_enter(seat, surface, sx, sy);
	wlr_seat_pointer_notify_motion(seat, time, sx, sy);
}

static void process_move(struct tessera_server *server) {
	struct tessera_view *view = server->grabbed_view;
	tessera_view_move(view, server->cursor->x - server->grab_x,
		server->cursor->y - server->grab_y);
}

/* size within [min, max]; 0 means no limit */
static int clamp_to_limits(int size, int min, int max) {
	if (max > 0 && size > max) {
		size = max;
	}
	if (min > 0 && size < min) {
		size = min;
	}
	return size;
}

static void process_resize(struct tessera_server *server) {
	struct tessera_view *view = server->grabbed_view;
	double border_x = server->cursor->x - server->grab_x;
	double border_y = server->cursor->y - server->grab_y;
	int new_left = server->grab_geobox.x;
	int new_right = server->grab_geobox.x + server->grab_geobox.width;
	int new_top = server->grab_geobox.y;
	int new_bottom = server->grab_geobox.y + server->grab_geobox.height;

	if (server->resize_edges & WLR_EDGE_TOP) {
		new_top = border_y;
		if (new_top >= new_bottom) {
			new_top = new_bottom - 1;
		}
	} else if (server->resize_edges & WLR_EDGE_BOTTOM) {
		new_bottom = border_y;
		if (new_bottom <= new_top) {
			new_bottom = new_top + 1;
		}
	}
	if (server->resize_edges & WLR_EDGE_LEFT) {
		new_left = border_x;
		if (new_left >= new_right) {
			new_left = new_right - 1;
		}
	} else if (server->resize_edges & WLR_EDGE_RIGHT) {
		new_right = border_x;
		if (new_right <= new_left) {
			new_right = new_left + 1;
		}
	}
	/* the client's (or, for a VM, its guest's) size limits */
	const struct wlr_xdg_toplevel_state *limits = &view->xdg_surface->toplevel->current;
	int width = new_right - new_left, height = new_bottom - new_top;
	int clamped_w = clamp_to_limits(width, (int)limits->min_width, (int)limits->max_width);
	int clamped_h = clamp_to_limits(height, (int)limits->min_height,
		(int)limits->max_height);
	if (server->resize_edges & WLR_EDGE_LEFT) {
		new_left = new_right - clamped_w;
	}
	if (server->resize_edges & WLR_EDGE_TOP) {
		new_top = new_bottom - clamped_h;
	}
	tessera_view_move(view, new_left, new_top);
	wlr_xdg_toplevel_set_size(view->xdg_surface, clamped_w, clamped_h);
}

static void process_cursor_motion(struct tessera_server *server, uint32_t time) {
	switch (server->cursor_mode) {
	case TESSERA_CURSOR_MOVE:
		process_move(server);
		return;
	case TESSERA_CURSOR_RESIZE:
		process_resize(server);
		return;
	case TESSERA_CURSOR_PASSTHROUGH:
		pointer_update_focus(server, time);
		return;
	}
}

static void handle_cursor_motion(struct wl_listener *listener, void *data) {
	struct tessera_server *server = wl_container_of(listener, server, cursor_motion);
	struct wlr_event_pointer_motion *event = data;
	wlr_cursor_move(server->cursor, event->device, event->delta_x, event->delta_y);
	process_cursor_motion(server, event->time_msec);
}

static void handle_cursor_motion_absolute(struct wl_listener *listener, void *data) {
	struct tessera_server *server =
		wl_container_of(listener, server, cursor_motion_absolute);
	struct wlr_event_pointer_motion_absolute *event = data;
	wlr_cursor_warp_absolute(server->cursor, event->device, event->x, event->y);
	process_cursor_motion(server, event->time_msec);
}

void tessera_input_begin_interactive(struct tessera_view *view,
		enum tessera_cursor_mode mode, uint32_t edges) {
	struct tessera_server *server = view->server;
	server->grabbed_view = view;
	server->cursor_mode = mode;
	if (mode == TESSERA_CURSOR_MOVE) {
		server->grab_x = server->cursor->x - view->x;
		server->grab_y = server->cursor->y - view->y;
	} else {
		struct wlr_box geo;
		tessera_view_get_geometry(view, &geo);
		double border_x = view->x + ((edges & WLR_EDGE_RIGHT) ? geo.width : 0);
		double border_y = view->y + ((edges & WLR_EDGE_BOTTOM) ? geo.height : 0);
		server->grab_x = server->cursor->x - border_x;
		server->grab_y = server->cursor->y - border_y;
		server->grab_geobox = (struct wlr_box){
			.x = view->x, .y = view->y,
			.width = geo.width, .height = geo.height,
		};
		server->resize_edges = edges;
	}
	wlr_seat_pointer_clear_focus(server->seat);
}

static void end_interactive(struct tessera_server *server) {
	server->cursor_mode = TESSERA_CURSOR_PASSTHROUGH;
	server->grabbed_view = NULL;
}

void tessera_input_view_gone(struct tessera_server *server, struct tessera_view *view) {
	if (server->grabbed_view == view) {
		end_interactive(server);
	}
}

static bool alt_held(struct tessera_server *server) {
	struct wlr_keyboard *keyboard = wlr_seat_get_keyboard(server->seat);
	return keyboard != NULL &&
		(wlr_keyboard_get_modifiers(keyboard) & WLR_MODIFIER_ALT);
}

static void handle_cursor_button(struct wl_listener *listener, void *data) {
	struct tessera_server *server = wl_container_of(listener, server, cursor_button);
	struct wlr_event_pointer_button *event = data;

	if (event->state == WLR_BUTTON_RELEASED) {
		if (server->cursor_mode != TESSERA_CURSOR_PASSTHROUGH) {
			end_interactive(server);
			pointer_update_focus(server, event->time_msec);
			return;
		}
		wlr_seat_pointer_notify_button(server->seat, event->time_msec,
			event->button, event->state);
		return;
	}

	double sx, sy;
	struct wlr_surface *surface = NULL;
	struct tessera_view *view = tessera_view_at(server,
		server->cursor->x, server->cursor->y, &surface, &sx, &sy);
	if (view == NULL) {
		wlr_seat_pointer_notify_button(server->seat, event->time_msec,
			event->button, event->state);
		return;
	}
	/* Click to focus; the click itself then goes to the newly focused window. */
	tessera_view_focus(view);

	if (alt_held(server) && (event->button == BTN_LEFT || event->button == BTN_RIGHT)) {
		if (event->button == BTN_LEFT) {
			tessera_input_begin_interactive(view, TESSERA_CURSOR_MOVE, 0);
		} else {
			struct wlr_box geo;
			tessera_view_get_geometry(view, &geo);
			uint32_t edges = 0;
			edges |= server->cursor->x < view->x + geo.width / 2.0 ?
				WLR_EDGE_LEFT : WLR_EDGE_RIGHT;
			edges |= server->cursor->y < view->y + geo.height / 2.0 ?
				WLR_EDGE_TOP : WLR_EDGE_BOTTOM;
			tessera_input_begin_interactive(view, TESSERA_CURSOR_RESIZE, edges);
		}
		return;
	}
	pointer_update_focus(server, event->time_msec);
	wlr_seat_pointer_notify_button(server->seat, event->time_msec,
		event->button, event->state);
}

static void handle_cursor_axis(struct wl_listener *listener, void *data) {
	struct tessera_server *server = wl_container_of(listener, server, cursor_axis);
	struct wlr_event_pointer_axis *event = data;
	wlr_seat_pointer_notify_axis(server->seat, event->time_msec,
		event->orientation, event->delta, event->delta_discrete, event->source);
}

static void handle_cursor_frame(struct wl_listener *listener, void *data) {
	struct tessera_server *server = wl_container_of(listener, server, cursor_frame);
	wlr_seat_pointer_notify_frame(server->seat);
}

static void handle_request_cursor(struct wl_listener *listener, void *data) {
	struct tessera_server *server = wl_container_of(listener, server, request_cursor);
	struct wlr_seat_pointer_request_set_cursor_event *event = data;
	struct wlr_seat_client *focused = server->seat->pointer_state.focused_client;
	/* Only the client under the pointer (hence the focused one) may. */
	if (focused == event->seat_client) {
		wlr_cursor_set_surface(server->cursor, event->surface,
			event->hotspot_x, event->hotspot_y);
	}
}

static void handle_request_set_selection(struct wl_listener *listener, void *data) {
	struct tessera_server *server =
		wl_container_of(listener, server, request_set_selection);
	struct wlr_seat_request_set_selection_event *event = data;
	wlr_seat_set_selection(server->seat, event->source, event->serial);
}

static void handle_request_set_primary_selection(struct wl_listener *listener, void *data) {
	struct tessera_server *server =
		wl_container_of(listener, server, request_set_primary_selection);
	struct wlr_seat_request_set_primary_selection_event *event = data;
	wlr_seat_set_primary_selection(server->seat, event->source, event->serial);
}

bool tessera_input_init(struct tessera_server *server) {
	wl_list_init(&server->keyboards);
	server->cursor = wlr_cursor_create();
	if (server->cursor == NULL) {
		return false;
	}
	wlr_cursor_attach_output_layout(server->cursor, server->output_layout);
	server->cursor_mgr = wlr_xcursor_manager_create(NULL, 24);
	if (server->cursor_mgr == NULL) {
		return false;
	}
	wlr_xcursor_manager_load(server->cursor_mgr, 1);

	server->cursor_mode = TESSERA_CURSOR_PASSTHROUGH;
	server->cursor_motion.notify = handle_cursor_motion;
	wl_signal_add(&server->cursor->events.motion, &server->cursor_motion);
	server->cursor_motion_absolute.notify = handle_cursor_motion_absolute;
	wl_signal_add(&server->cursor->events.motion_absolute,
		&server->cursor_motion_absolute);
	server->cursor_button.notify = handle_cursor_button;
	wl_signal_add(&server->cursor->events.button, &server->cursor_button);
	server->cursor_axis.notify = handle_cursor_axis;
	wl_signal_add(&server->cursor->events.axis, &server->cursor_axis);
	server->cursor_frame.notify = handle_cursor_frame;
	wl_signal_add(&server->cursor->events.frame, &server->cursor_frame);

	server->new_input.notify = handle_new_input;
	wl_signal_add(&server->backend->events.new_input, &server->new_input);

	server->seat = wlr_seat_create(server->wl_display, "seat0");
	if (server->seat == NULL) {
		return false;
	}
	/* A pointer and a keyboard are always offered, also before a device
	 * shows up (headless, or a virtual device attached later). */
	wlr_seat_set_capabilities(server->seat,
		WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
	server->request_cursor.notify = handle_request_cursor;
	wl_signal_add(&server->seat->events.request_set_cursor, &server->request_cursor);
	server->request_set_selection.notify = handle_request_set_selection;
	wl_signal_add(&server->seat->events.request_set_selection,
		&server->request_set_selection);
	server->request_set_primary_selection.notify = handle_request_set_primary_selection;
	wl_signal_add(&server->seat->events.request_set_primary_selection,
		&server->request_set_primary_selection);

	struct wlr_virtual_keyboard_manager_v1 *vkbd =
		wlr_virtual_keyboard_manager_v1_create(server->wl_display);
	struct wlr_virtual_pointer_manager_v1 *vptr =
		wlr_virtual_pointer_manager_v1_create(server->wl_display);
	if (vkbd == NULL || vptr == NULL) {
		return false;
	}
	server->new_virtual_keyboard.notify = handle_new_virtual_keyboard;
	wl_signal_add(&vkbd->events.new_virtual_keyboard, &server->new_virtual_keyboard);
	server->new_virtual_pointer.notify = handle_new_virtual_pointer;
	wl_signal_add(&vptr->events.new_virtual_pointer, &server->new_virtual_pointer);
	return true;
}

void tessera_input_finish(struct tessera_server *server) {
	wl_list_remove(&server->cursor_motion.link);
	wl_list_remove(&server->cursor_motion_absolute.link);
	wl_list_remove(&server->cursor_button.link);
	wl_list_remove(&server->cursor_axis.link);
	wl_list_remove(&server->cursor_frame.link);
	wl_list_remove(&server->new_input.link);
	wl_list_remove(&server->request_cursor.link);
	wl_list_remove(&server->request_set_selection.link);
	wl_list_remove(&server->request_set_primary_selection.link);
	wl_list_remove(&server->new_virtual_keyboard.link);
	wl_list_remove(&server->new_virtual_pointer.link);
	wlr_xcursor_manager_destroy(server->cursor_mgr);
	wlr_cursor_destroy(server->cursor);
}
