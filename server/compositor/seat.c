/*
 * The seat: keyboards (with each VM's own keymap), the pointer, focus,
 * key bindings, interactive move and resize (Alt + drag, or a drag of the
 * window's frame), selections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/input-event-codes.h>
#include <wlr/backend.h>
#include <wlr/interfaces/wlr_input_device.h>
#include <wlr/interfaces/wlr_keyboard.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_pointer.h>
#include <wlr/types/wlr_primary_selection.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_virtual_keyboard_v1.h>
#include <wlr/types/wlr_virtual_pointer_v1.h>
#include <wlr/types/wlr_xcursor_manager.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <xkbcommon/xkbcommon.h>

#include "config.h"
#include "keymap.h"
#include "log.h"
#include "seat.h"
#include "clipboard.h"
#include "server.h"
#include "share.h"
#include "view.h"
#include "vm.h"

struct tessera_keyboard {
	struct wl_list link; /* tessera_seat.keyboards or .orphans */
	struct tessera_seat *seat;
	struct wlr_input_device *device;
	bool is_virtual;
	struct wl_listener modifiers;
	struct wl_listener key;
	struct wl_listener destroy;
	/* wlroots 0.15 never frees a virtual keyboard's wlr_keyboard (its
	 * keyboard_impl.destroy is empty): once the device is gone, tessera
	 * frees it from an idle callback, when wlroots is done with it. */
	struct wlr_keyboard *orphan;
	struct wl_event_source *free_orphan;
};

/*
 * A VM's keymap (keyboard-layout etc. in its config): a keyboard of its
 * own, not a device of the backend. It follows every key of every keyboard,
 * so that its state (keys held, modifiers and locks, computed with its
 * keymap) is always that of the real keys; while a window of its VM has the
 * focus it is the seat's keyboard, so that wlroots sends its keymap to
 * clients (vmd forwards it to the guest) and its modifiers with the keys.
 */
struct tessera_vm_keyboard {
	struct wl_list link; /* tessera_seat.vm_keyboards */
	const struct tessera_vm_config *config;
	struct wlr_input_device device;
	struct wlr_keyboard keyboard;
};

/* ---- VM keymaps ---- */

static void vm_keyboard_impl_destroy(struct wlr_keyboard *keyboard) {
	/* freed with its device (vm_device_impl_destroy) */
}

static const struct wlr_keyboard_impl vm_keyboard_impl = {
	.destroy = vm_keyboard_impl_destroy,
};

static void vm_device_impl_destroy(struct wlr_input_device *device) {
	struct tessera_vm_keyboard *vm_keyboard =
		wl_container_of(device, vm_keyboard, device);
	free(vm_keyboard);
}

static const struct wlr_input_device_impl vm_device_impl = {
	.destroy = vm_device_impl_destroy,
};

static void vm_keyboard_destroy(struct tessera_vm_keyboard *vm_keyboard) {
	wl_list_remove(&vm_keyboard->link);
	/* ends with vm_device_impl_destroy */
	wlr_input_device_destroy(&vm_keyboard->device);
}

/* Adds the keyboard of a VM that has a keymap of its own. */
static bool seat_add_vm_keyboard(struct tessera_seat *seat,
		const struct tessera_vm_config *config) {
	char err[320];
	struct xkb_keymap *keymap = tessera_keymap_compile(&config->keyboard, err,
		sizeof(err));
	if (keymap == NULL) {
		tessera_log(TESSERA_ERROR, "vm '%s': cannot compile its keymap: %s",
			config->name, err);
		return false;
	}
	struct tessera_vm_keyboard *vm_keyboard = calloc(1, sizeof(*vm_keyboard));
	if (vm_keyboard == NULL) {
		xkb_keymap_unref(keymap);
		return false;
	}
	vm_keyboard->config = config;
	char name[64];
	snprintf(name, sizeof(name), "keymap of vm %s", config->name);
	wlr_input_device_init(&vm_keyboard->device, WLR_INPUT_DEVICE_KEYBOARD,
		&vm_device_impl, name, 0, 0);
	vm_keyboard->device.keyboard = &vm_keyboard->keyboard;
	wlr_keyboard_init(&vm_keyboard->keyboard, &vm_keyboard_impl);
	wl_list_insert(&seat->vm_keyboards, &vm_keyboard->link);
	bool ok = wlr_keyboard_set_keymap(&vm_keyboard->keyboard, keymap);
	xkb_keymap_unref(keymap);
	if (!ok) {
		tessera_log(TESSERA_ERROR, "vm '%s': cannot set its keymap", config->name);
		vm_keyboard_destroy(vm_keyboard);
		return false;
	}
	wlr_keyboard_set_repeat_info(&vm_keyboard->keyboard, 25, 600);
	tessera_log(TESSERA_INFO, "vm '%s': keymap %s", config->name,
		xkb_keymap_layout_get_name(vm_keyboard->keyboard.keymap, 0));
	return true;
}

static struct tessera_vm_keyboard *vm_keyboard_of(struct tessera_seat *seat,
		const struct tessera_view *view) {
	if (view == NULL || view->vm == NULL) {
		return NULL;
	}
	struct tessera_vm_keyboard *vm_keyboard;
	wl_list_for_each(vm_keyboard, &seat->vm_keyboards, link) {
		if (vm_keyboard->config == view->vm->config) {
			return vm_keyboard;
		}
	}
	return NULL;
}

/* Every VM keyboard takes the key (its state follows the real keys). */
static void vm_keyboards_follow_key(struct tessera_seat *seat,
		const struct wlr_event_keyboard_key *event) {
	struct wlr_event_keyboard_key own = *event;
	own.update_state = true; /* with its own keymap, whatever the source's */
	struct tessera_vm_keyboard *vm_keyboard;
	wl_list_for_each(vm_keyboard, &seat->vm_keyboards, link) {
		wlr_keyboard_notify_key(&vm_keyboard->keyboard, &own);
	}
}

/*
 * A virtual keyboard sets its modifiers itself, with masks of its own
 * keymap: the VM keyboards take its real modifiers (Shift, Lock, Control,
 * Mod1-5), which every xkb keymap numbers alike. A real keyboard's
 * modifiers come from its keys, which the VM keyboards followed already.
 */
static void vm_keyboards_follow_modifiers(struct tessera_seat *seat,
		const struct wlr_keyboard_modifiers *mods) {
	const xkb_mod_mask_t real = 0xff;
	struct tessera_vm_keyboard *vm_keyboard;
	wl_list_for_each(vm_keyboard, &seat->vm_keyboards, link) {
		wlr_keyboard_notify_modifiers(&vm_keyboard->keyboard, mods->depressed & real,
			mods->latched & real, mods->locked & real, 0);
	}
}

/* ---- keyboards ---- */

/* The keyboard whose keymap the focused window gets: its VM's, or source's. */
static struct wlr_input_device *focus_keyboard(struct tessera_seat *seat,
		struct wlr_input_device *source) {
	return seat->focused_vm_keyboard != NULL ?
		&seat->focused_vm_keyboard->device : source;
}

static void keyboard_handle_modifiers(struct wl_listener *listener, void *data) {
	struct tessera_keyboard *keyboard = wl_container_of(listener, keyboard, modifiers);
	struct tessera_seat *seat = keyboard->seat;
	if (keyboard->device->keyboard->keymap == NULL) {
		return;
	}
	if (keyboard->is_virtual) {
		vm_keyboards_follow_modifiers(seat, &keyboard->device->keyboard->modifiers);
	}
	seat->host_keyboard = keyboard->device;
	struct wlr_input_device *target = focus_keyboard(seat, keyboard->device);
	wlr_seat_set_keyboard(seat->wlr_seat, target);
	wlr_seat_keyboard_notify_modifiers(seat->wlr_seat, &target->keyboard->modifiers);
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
	if ((modifiers & WLR_MODIFIER_SHIFT) && (sym == XKB_KEY_S || sym == XKB_KEY_s)) {
		tessera_share_arm(server, server->seat->focused_view); /* share.c */
		return true;
	}
	return false;
}

static void keyboard_handle_key(struct wl_listener *listener, void *data) {
	struct tessera_keyboard *keyboard = wl_container_of(listener, keyboard, key);
	struct wlr_event_keyboard_key *event = data;
	struct wlr_seat *wlr_seat = keyboard->seat->wlr_seat;
	if (keyboard->device->keyboard->keymap == NULL) {
		return;
	}

	uint32_t keycode = event->keycode + 8;
	const xkb_keysym_t *syms;
	int nsyms = xkb_state_key_get_syms(keyboard->device->keyboard->xkb_state,
		keycode, &syms);
	bool handled = false;
	struct tessera_seat *seat = keyboard->seat;
	struct tessera_vm_keyboard *vm_keyboard = seat->focused_vm_keyboard;
	struct wlr_keyboard_modifiers vm_modifiers = { 0 };
	if (vm_keyboard != NULL) {
		vm_modifiers = vm_keyboard->keyboard.modifiers;
	}
	vm_keyboards_follow_key(seat, event);
	uint32_t modifiers = wlr_keyboard_get_modifiers(keyboard->device->keyboard);
	if (event->state == WL_KEYBOARD_KEY_STATE_PRESSED && nsyms > 0 &&
			syms[0] == XKB_KEY_Escape) {
		tessera_share_cancel(keyboard->seat->server); /* the key goes on */
	}
	/* Ctrl+Shift+C / V: the clipboard's, never the window's */
	for (int i = 0; i < nsyms && seat->server->clipboard != NULL && !handled; i++) {
		handled = tessera_clipboard_handle_key(seat->server->clipboard, keycode,
			event->state == WL_KEYBOARD_KEY_STATE_PRESSED, syms[i], modifiers);
	}
	if (nsyms == 0 && seat->server->clipboard != NULL) {
		handled = tessera_clipboard_handle_key(seat->server->clipboard, keycode,
			event->state == WL_KEYBOARD_KEY_STATE_PRESSED, XKB_KEY_NoSymbol, modifiers);
	}
	if (!handled && (modifiers & WLR_MODIFIER_ALT) &&
			event->state == WL_KEYBOARD_KEY_STATE_PRESSED) {
		for (int i = 0; i < nsyms; i++) {
			handled = handle_keybinding(keyboard->seat->server, syms[i], modifiers) ||
				handled;
		}
	}
	if (!handled) {
		/* Keys go to the seat's focused surface only, which is the
		 * focused window (tessera_seat_set_focus), with its keymap. */
		seat->host_keyboard = keyboard->device;
		wlr_seat_set_keyboard(wlr_seat, focus_keyboard(seat, keyboard->device));
		wlr_seat_keyboard_notify_key(wlr_seat, event->time_msec, event->keycode,
			event->state);
		/* The source's modifiers event is yet to come; the VM
		 * keyboard's changed already. */
		if (vm_keyboard != NULL && memcmp(&vm_modifiers,
				&vm_keyboard->keyboard.modifiers, sizeof(vm_modifiers)) != 0) {
			wlr_seat_keyboard_notify_modifiers(wlr_seat,
				&vm_keyboard->keyboard.modifiers);
		}
	}
}

static void keyboard_unlink(struct tessera_keyboard *keyboard) {
	wl_list_remove(&keyboard->modifiers.link);
	wl_list_remove(&keyboard->key.link);
	wl_list_remove(&keyboard->destroy.link);
	wl_list_remove(&keyboard->link);
}

static void keyboard_destroy(struct tessera_keyboard *keyboard) {
	keyboard_unlink(keyboard);
	free(keyboard);
}

static void orphan_free(struct tessera_keyboard *keyboard) {
	free(keyboard->orphan);
	wl_list_remove(&keyboard->link);
	free(keyboard);
}

static void handle_free_orphan(void *data) {
	orphan_free(data); /* libwayland removes the idle source */
}

static void keyboard_handle_destroy(struct wl_listener *listener, void *data) {
	struct tessera_keyboard *keyboard = wl_container_of(listener, keyboard, destroy);
	struct tessera_seat *seat = keyboard->seat;
	if (seat->host_keyboard == keyboard->device) {
		/* host windows get the keymap of another keyboard, if any */
		seat->host_keyboard = NULL;
		struct tessera_keyboard *other;
		wl_list_for_each(other, &seat->keyboards, link) {
			if (other != keyboard && other->device->keyboard->keymap != NULL) {
				seat->host_keyboard = other->device;
				break;
			}
		}
	}
	if (!keyboard->is_virtual) {
		keyboard_destroy(keyboard);
		return;
	}
	/* wlr_input_device_destroy() is still using the wlr_keyboard: free
	 * it once the event loop is idle (or with the seat). */
	keyboard_unlink(keyboard);
	wl_list_insert(&keyboard->seat->orphans, &keyboard->link);
	keyboard->orphan = keyboard->device->keyboard;
	keyboard->device = NULL;
	keyboard->free_orphan = wl_event_loop_add_idle(
		wl_display_get_event_loop(keyboard->seat->server->wl_display),
		handle_free_orphan, keyboard);
}

/* Layout from XKB_DEFAULT_{RULES,MODEL,LAYOUT,VARIANT,OPTIONS}. */
static void keyboard_set_default_keymap(struct wlr_keyboard *keyboard) {
	struct xkb_context *context = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	struct xkb_keymap *keymap = context == NULL ? NULL :
		xkb_keymap_new_from_names(context, NULL, XKB_KEYMAP_COMPILE_NO_FLAGS);
	if (keymap == NULL) {
		tessera_log(TESSERA_ERROR, "cannot compile the keymap (check XKB_DEFAULT_*)");
	} else {
		wlr_keyboard_set_keymap(keyboard, keymap);
	}
	xkb_keymap_unref(keymap);
	xkb_context_unref(context);
	wlr_keyboard_set_repeat_info(keyboard, 25, 600);
}

static void seat_add_keyboard(struct tessera_seat *seat,
		struct wlr_input_device *device, bool is_virtual) {
	struct tessera_keyboard *keyboard = calloc(1, sizeof(*keyboard));
	if (keyboard == NULL) {
		return;
	}
	keyboard->seat = seat;
	keyboard->device = device;
	keyboard->is_virtual = is_virtual;
	if (!is_virtual) {
		keyboard_set_default_keymap(device->keyboard);
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
		seat->host_keyboard = device;
		wlr_seat_set_keyboard(seat->wlr_seat, focus_keyboard(seat, device));
	}
	wl_list_insert(&seat->keyboards, &keyboard->link);
}

/* ---- input devices ---- */

static void handle_new_input(struct wl_listener *listener, void *data) {
	struct tessera_seat *seat = wl_container_of(listener, seat, new_input);
	struct wlr_input_device *device = data;
	switch (device->type) {
	case WLR_INPUT_DEVICE_KEYBOARD:
		seat_add_keyboard(seat, device, false);
		break;
	case WLR_INPUT_DEVICE_POINTER:
		wlr_cursor_attach_input_device(seat->cursor, device);
		break;
	default:
		break;
	}
	tessera_log(TESSERA_DEBUG, "new input device '%s'", device->name);
}

static void handle_new_virtual_keyboard(struct wl_listener *listener, void *data) {
	struct tessera_seat *seat = wl_container_of(listener, seat, new_virtual_keyboard);
	struct wlr_virtual_keyboard_v1 *keyboard = data;
	/* The client brings its own keymap. */
	seat_add_keyboard(seat, &keyboard->input_device, true);
	tessera_log(TESSERA_INFO, "virtual keyboard added");
}

static void handle_new_virtual_pointer(struct wl_listener *listener, void *data) {
	struct tessera_seat *seat = wl_container_of(listener, seat, new_virtual_pointer);
	struct wlr_virtual_pointer_v1_new_pointer_event *event = data;
	struct wlr_input_device *device = &event->new_pointer->input_device;
	wlr_cursor_attach_input_device(seat->cursor, device);
	if (event->suggested_output != NULL) {
		wlr_cursor_map_input_to_output(seat->cursor, device, event->suggested_output);
	}
	tessera_log(TESSERA_INFO, "virtual pointer added");
}

/* ---- pointer ---- */

/*
 * Pointer input goes only to surfaces of the focused window: a window
 * that is not focused (a VM in particular) sees no motion, no buttons and
 * no axis events until the user clicks it.
 */
static void pointer_update_focus(struct tessera_seat *seat, uint32_t time) {
	double sx, sy;
	struct wlr_surface *surface = NULL;
	struct tessera_view *view = tessera_view_at(seat->server,
		seat->cursor->x, seat->cursor->y, &surface, &sx, &sy);
	if (view == NULL || surface == NULL || view != seat->focused_view) {
		if (view == NULL || surface == NULL) {
			wlr_xcursor_manager_set_cursor_image(seat->xcursor_manager,
				"left_ptr", seat->cursor);
		}
		wlr_seat_pointer_clear_focus(seat->wlr_seat);
		return;
	}
	wlr_seat_pointer_notify_enter(seat->wlr_seat, surface, sx, sy);
	wlr_seat_pointer_notify_motion(seat->wlr_seat, time, sx, sy);
}

static void process_move(struct tessera_seat *seat) {
	tessera_view_move(seat->grab.view, seat->cursor->x - seat->grab.x,
		seat->cursor->y - seat->grab.y);
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

static void process_resize(struct tessera_seat *seat) {
	struct tessera_view *view = seat->grab.view;
	uint32_t edges = seat->grab.edges;
	double border_x = seat->cursor->x - seat->grab.x;
	double border_y = seat->cursor->y - seat->grab.y;
	int new_left = seat->grab.box.x;
	int new_right = seat->grab.box.x + seat->grab.box.width;
	int new_top = seat->grab.box.y;
	int new_bottom = seat->grab.box.y + seat->grab.box.height;

	if (edges & WLR_EDGE_TOP) {
		new_top = border_y;
		if (new_top >= new_bottom) {
			new_top = new_bottom - 1;
		}
	} else if (edges & WLR_EDGE_BOTTOM) {
		new_bottom = border_y;
		if (new_bottom <= new_top) {
			new_bottom = new_top + 1;
		}
	}
	if (edges & WLR_EDGE_LEFT) {
		new_left = border_x;
		if (new_left >= new_right) {
			new_left = new_right - 1;
		}
	} else if (edges & WLR_EDGE_RIGHT) {
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
	if (edges & WLR_EDGE_LEFT) {
		new_left = new_right - clamped_w;
	}
	if (edges & WLR_EDGE_TOP) {
		new_top = new_bottom - clamped_h;
	}
	tessera_view_move(view, new_left, new_top);
	wlr_xdg_toplevel_set_size(view->xdg_surface, clamped_w, clamped_h);
}

static void process_cursor_motion(struct tessera_seat *seat, uint32_t time) {
	switch (seat->cursor_mode) {
	case TESSERA_CURSOR_MOVE:
		process_move(seat);
		return;
	case TESSERA_CURSOR_RESIZE:
		process_resize(seat);
		return;
	case TESSERA_CURSOR_PASSTHROUGH:
		pointer_update_focus(seat, time);
		return;
	}
}

static void handle_cursor_motion(struct wl_listener *listener, void *data) {
	struct tessera_seat *seat = wl_container_of(listener, seat, cursor_motion);
	struct wlr_event_pointer_motion *event = data;
	wlr_cursor_move(seat->cursor, event->device, event->delta_x, event->delta_y);
	process_cursor_motion(seat, event->time_msec);
}

static void handle_cursor_motion_absolute(struct wl_listener *listener, void *data) {
	struct tessera_seat *seat = wl_container_of(listener, seat, cursor_motion_absolute);
	struct wlr_event_pointer_motion_absolute *event = data;
	wlr_cursor_warp_absolute(seat->cursor, event->device, event->x, event->y);
	process_cursor_motion(seat, event->time_msec);
}

void tessera_seat_begin_interactive(struct tessera_seat *seat, struct tessera_view *view,
		enum tessera_cursor_mode mode, uint32_t edges) {
	seat->grab.view = view;
	seat->cursor_mode = mode;
	if (mode == TESSERA_CURSOR_MOVE) {
		seat->grab.x = seat->cursor->x - view->x;
		seat->grab.y = seat->cursor->y - view->y;
	} else {
		struct wlr_box geo;
		tessera_view_get_geometry(view, &geo);
		double border_x = view->x + ((edges & WLR_EDGE_RIGHT) ? geo.width : 0);
		double border_y = view->y + ((edges & WLR_EDGE_BOTTOM) ? geo.height : 0);
		seat->grab.x = seat->cursor->x - border_x;
		seat->grab.y = seat->cursor->y - border_y;
		seat->grab.box = (struct wlr_box){
			.x = view->x, .y = view->y,
			.width = geo.width, .height = geo.height,
		};
		seat->grab.edges = edges;
	}
	wlr_seat_pointer_clear_focus(seat->wlr_seat);
}

static void end_interactive(struct tessera_seat *seat) {
	seat->cursor_mode = TESSERA_CURSOR_PASSTHROUGH;
	seat->grab.view = NULL;
}

void tessera_seat_view_gone(struct tessera_seat *seat, struct tessera_view *view) {
	if (seat->grab.view == view) {
		end_interactive(seat);
	}
}

static bool alt_held(struct tessera_seat *seat) {
	struct wlr_keyboard *keyboard = wlr_seat_get_keyboard(seat->wlr_seat);
	return keyboard != NULL &&
		(wlr_keyboard_get_modifiers(keyboard) & WLR_MODIFIER_ALT);
}

/* Alt+left button moves the view, Alt+right button resizes it from the nearest corner. */
static bool begin_alt_drag(struct tessera_seat *seat, struct tessera_view *view,
		uint32_t button) {
	if (!alt_held(seat) || (button != BTN_LEFT && button != BTN_RIGHT)) {
		return false;
	}
	if (button == BTN_LEFT) {
		tessera_seat_begin_interactive(seat, view, TESSERA_CURSOR_MOVE, 0);
		return true;
	}
	struct wlr_box geo;
	tessera_view_get_geometry(view, &geo);
	uint32_t edges = 0;
	edges |= seat->cursor->x < view->x + geo.width / 2.0 ? WLR_EDGE_LEFT : WLR_EDGE_RIGHT;
	edges |= seat->cursor->y < view->y + geo.height / 2.0 ? WLR_EDGE_TOP : WLR_EDGE_BOTTOM;
	tessera_seat_begin_interactive(seat, view, TESSERA_CURSOR_RESIZE, edges);
	return true;
}

/*
 * A left button press on the window's own frame (not a popup's): on its
 * title bar it moves the window, on its border it resizes it from that
 * side or corner. For a client-side decorated VM window (GTK) the border
 * is the only edge there is: its shadow, where the client has its resize
 * handles, is cropped (docs/ARCHITECTURE.md).
 */
static bool begin_frame_drag(struct tessera_seat *seat, struct tessera_view *view,
		uint32_t button) {
	if (button != BTN_LEFT || !view->decorated) {
		return false;
	}
	double sx, sy;
	struct wlr_scene_node *node = wlr_scene_node_at(&seat->server->scene->node,
		seat->cursor->x, seat->cursor->y, &sx, &sy);
	/* the frame's rects and the title are the view tree's own leaves */
	if (node == NULL || node->parent != view->tree || node->type == WLR_SCENE_NODE_TREE) {
		return false;
	}
	const struct wlr_box *box = &view->frame_box;
	double x = seat->cursor->x - view->x, y = seat->cursor->y - view->y;
	uint32_t edges = 0;
	if (x < box->x) {
		edges |= WLR_EDGE_LEFT;
	} else if (x >= box->x + box->width) {
		edges |= WLR_EDGE_RIGHT;
	}
	if (y >= box->y + box->height) {
		edges |= WLR_EDGE_BOTTOM;
	} else if (y < box->y - TESSERA_TITLE_HEIGHT + TESSERA_BORDER_WIDTH) {
		edges |= WLR_EDGE_TOP;
	}
	tessera_seat_begin_interactive(seat, view,
		edges == 0 ? TESSERA_CURSOR_MOVE : TESSERA_CURSOR_RESIZE, edges);
	return true;
}

static void handle_button_release(struct tessera_seat *seat,
		struct wlr_event_pointer_button *event) {
	if (seat->cursor_mode != TESSERA_CURSOR_PASSTHROUGH) {
		end_interactive(seat);
		pointer_update_focus(seat, event->time_msec);
		return;
	}
	wlr_seat_pointer_notify_button(seat->wlr_seat, event->time_msec,
		event->button, event->state);
}

static void handle_cursor_button(struct wl_listener *listener, void *data) {
	struct tessera_seat *seat = wl_container_of(listener, seat, cursor_button);
	struct wlr_event_pointer_button *event = data;
	if (event->state == WLR_BUTTON_RELEASED) {
		if (!tessera_share_take_release(seat->server, event->button)) {
			handle_button_release(seat, event);
		}
		return;
	}

	double sx, sy;
	struct wlr_surface *surface = NULL;
	struct tessera_view *view = tessera_view_at(seat->server,
		seat->cursor->x, seat->cursor->y, &surface, &sx, &sy);
	if (tessera_share_pick(seat->server, view, event->button)) {
		return; /* the click that picks a window to share (share.c) */
	}
	if (view == NULL) {
		wlr_seat_pointer_notify_button(seat->wlr_seat, event->time_msec,
			event->button, event->state);
		return;
	}
	/* Click to focus; the click itself then goes to the newly focused window. */
	tessera_view_focus(view);
	if (begin_alt_drag(seat, view, event->button) ||
			(surface == NULL && begin_frame_drag(seat, view, event->button))) {
		return;
	}
	pointer_update_focus(seat, event->time_msec);
	wlr_seat_pointer_notify_button(seat->wlr_seat, event->time_msec,
		event->button, event->state);
}

static void handle_cursor_axis(struct wl_listener *listener, void *data) {
	struct tessera_seat *seat = wl_container_of(listener, seat, cursor_axis);
	struct wlr_event_pointer_axis *event = data;
	wlr_seat_pointer_notify_axis(seat->wlr_seat, event->time_msec,
		event->orientation, event->delta, event->delta_discrete, event->source);
}

static void handle_cursor_frame(struct wl_listener *listener, void *data) {
	struct tessera_seat *seat = wl_container_of(listener, seat, cursor_frame);
	wlr_seat_pointer_notify_frame(seat->wlr_seat);
}

static void handle_request_set_cursor(struct wl_listener *listener, void *data) {
	struct tessera_seat *seat = wl_container_of(listener, seat, request_set_cursor);
	struct wlr_seat_pointer_request_set_cursor_event *event = data;
	struct wlr_seat_client *focused = seat->wlr_seat->pointer_state.focused_client;
	/* Only the client under the pointer (hence the focused one) may. */
	if (focused == event->seat_client) {
		wlr_cursor_set_surface(seat->cursor, event->surface,
			event->hotspot_x, event->hotspot_y);
	}
}

/* ---- focus and selections ---- */

void tessera_seat_set_focus(struct tessera_seat *seat, struct tessera_view *view) {
	struct wlr_seat *wlr_seat = seat->wlr_seat;
	seat->focused_view = view;
	/* Keymaps change before the focus: the window entered has its own. */
	seat->focused_vm_keyboard = vm_keyboard_of(seat, view);
	wlr_seat_set_keyboard(wlr_seat, focus_keyboard(seat, seat->host_keyboard));
	if (view == NULL) {
		wlr_seat_keyboard_notify_clear_focus(wlr_seat);
		wlr_seat_pointer_clear_focus(wlr_seat);
		return;
	}
	/* Pointer focus follows the focused window only (pointer_update_focus). */
	wlr_seat_pointer_clear_focus(wlr_seat);
	struct wlr_surface *surface = view->xdg_surface->surface;
	struct wlr_keyboard *keyboard = wlr_seat_get_keyboard(wlr_seat);
	if (keyboard != NULL) {
		wlr_seat_keyboard_notify_enter(wlr_seat, surface, keyboard->keycodes,
			keyboard->num_keycodes, &keyboard->modifiers);
	} else {
		wlr_seat_keyboard_notify_enter(wlr_seat, surface, NULL, 0, NULL);
	}
}

static void handle_request_set_selection(struct wl_listener *listener, void *data) {
	struct tessera_seat *seat = wl_container_of(listener, seat, request_set_selection);
	struct wlr_seat_request_set_selection_event *event = data;
	wlr_seat_set_selection(seat->wlr_seat, event->source, event->serial);
}

static void handle_request_set_primary_selection(struct wl_listener *listener, void *data) {
	struct tessera_seat *seat =
		wl_container_of(listener, seat, request_set_primary_selection);
	struct wlr_seat_request_set_primary_selection_event *event = data;
	wlr_seat_set_primary_selection(seat->wlr_seat, event->source, event->serial);
}

/* ---- create and destroy ---- */

static void seat_add_listeners(struct tessera_seat *seat, struct wlr_backend *backend,
		struct wlr_virtual_keyboard_manager_v1 *virtual_keyboards,
		struct wlr_virtual_pointer_manager_v1 *virtual_pointers) {
	struct wlr_cursor *cursor = seat->cursor;
	seat->cursor_motion.notify = handle_cursor_motion;
	wl_signal_add(&cursor->events.motion, &seat->cursor_motion);
	seat->cursor_motion_absolute.notify = handle_cursor_motion_absolute;
	wl_signal_add(&cursor->events.motion_absolute, &seat->cursor_motion_absolute);
	seat->cursor_button.notify = handle_cursor_button;
	wl_signal_add(&cursor->events.button, &seat->cursor_button);
	seat->cursor_axis.notify = handle_cursor_axis;
	wl_signal_add(&cursor->events.axis, &seat->cursor_axis);
	seat->cursor_frame.notify = handle_cursor_frame;
	wl_signal_add(&cursor->events.frame, &seat->cursor_frame);

	seat->new_input.notify = handle_new_input;
	wl_signal_add(&backend->events.new_input, &seat->new_input);
	seat->new_virtual_keyboard.notify = handle_new_virtual_keyboard;
	wl_signal_add(&virtual_keyboards->events.new_virtual_keyboard,
		&seat->new_virtual_keyboard);
	seat->new_virtual_pointer.notify = handle_new_virtual_pointer;
	wl_signal_add(&virtual_pointers->events.new_virtual_pointer,
		&seat->new_virtual_pointer);

	struct wlr_seat *wlr_seat = seat->wlr_seat;
	seat->request_set_cursor.notify = handle_request_set_cursor;
	wl_signal_add(&wlr_seat->events.request_set_cursor, &seat->request_set_cursor);
	seat->request_set_selection.notify = handle_request_set_selection;
	wl_signal_add(&wlr_seat->events.request_set_selection, &seat->request_set_selection);
	seat->request_set_primary_selection.notify = handle_request_set_primary_selection;
	wl_signal_add(&wlr_seat->events.request_set_primary_selection,
		&seat->request_set_primary_selection);
}

struct tessera_seat *tessera_seat_create(struct tessera_server *server) {
	struct tessera_seat *seat = calloc(1, sizeof(*seat));
	if (seat == NULL) {
		return NULL;
	}
	seat->server = server;
	wl_list_init(&seat->keyboards);
	wl_list_init(&seat->orphans);
	wl_list_init(&seat->vm_keyboards);
	seat->cursor_mode = TESSERA_CURSOR_PASSTHROUGH;
	seat->cursor = wlr_cursor_create();
	seat->xcursor_manager = wlr_xcursor_manager_create(NULL, 24);
	if (seat->cursor == NULL || seat->xcursor_manager == NULL) {
		goto error;
	}
	wlr_cursor_attach_output_layout(seat->cursor, server->output_layout);
	wlr_xcursor_manager_load(seat->xcursor_manager, 1);

	/* The wl_seat and the virtual device managers are globals of the
	 * display and go with it. */
	seat->wlr_seat = wlr_seat_create(server->wl_display, "seat0");
	if (seat->wlr_seat == NULL) {
		goto error;
	}
	/* A pointer and a keyboard are always offered, also before a device
	 * shows up (headless, or a virtual device attached later). */
	wlr_seat_set_capabilities(seat->wlr_seat,
		WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
	struct wlr_virtual_keyboard_manager_v1 *virtual_keyboards =
		wlr_virtual_keyboard_manager_v1_create(server->wl_display);
	struct wlr_virtual_pointer_manager_v1 *virtual_pointers =
		wlr_virtual_pointer_manager_v1_create(server->wl_display);
	if (virtual_keyboards == NULL || virtual_pointers == NULL) {
		goto error;
	}
	seat_add_listeners(seat, server->backend, virtual_keyboards, virtual_pointers);
	for (size_t i = 0; i < server->config.vm_count; i++) {
		const struct tessera_vm_config *config = &server->config.vms[i];
		if (!tessera_keymap_names_empty(&config->keyboard) &&
				!seat_add_vm_keyboard(seat, config)) {
			tessera_seat_destroy(seat);
			return NULL;
		}
	}
	return seat;

error:
	if (seat->xcursor_manager != NULL) {
		wlr_xcursor_manager_destroy(seat->xcursor_manager);
	}
	if (seat->cursor != NULL) {
		wlr_cursor_destroy(seat->cursor);
	}
	free(seat);
	return NULL;
}

void tessera_seat_destroy(struct tessera_seat *seat) {
	if (seat == NULL) {
		return;
	}
	struct tessera_keyboard *keyboard, *tmp;
	wl_list_for_each_safe(keyboard, tmp, &seat->keyboards, link) {
		keyboard_destroy(keyboard);
	}
	seat->focused_vm_keyboard = NULL;
	struct tessera_vm_keyboard *vm_keyboard, *vm_tmp;
	wl_list_for_each_safe(vm_keyboard, vm_tmp, &seat->vm_keyboards, link) {
		vm_keyboard_destroy(vm_keyboard);
	}
	/* Virtual keyboards destroyed with their clients at shutdown, after
	 * the last dispatch. */
	wl_list_for_each_safe(keyboard, tmp, &seat->orphans, link) {
		if (keyboard->free_orphan != NULL) {
			wl_event_source_remove(keyboard->free_orphan);
		}
		orphan_free(keyboard);
	}
	wl_list_remove(&seat->cursor_motion.link);
	wl_list_remove(&seat->cursor_motion_absolute.link);
	wl_list_remove(&seat->cursor_button.link);
	wl_list_remove(&seat->cursor_axis.link);
	wl_list_remove(&seat->cursor_frame.link);
	wl_list_remove(&seat->new_input.link);
	wl_list_remove(&seat->new_virtual_keyboard.link);
	wl_list_remove(&seat->new_virtual_pointer.link);
	wl_list_remove(&seat->request_set_cursor.link);
	wl_list_remove(&seat->request_set_selection.link);
	wl_list_remove(&seat->request_set_primary_selection.link);
	wlr_xcursor_manager_destroy(seat->xcursor_manager);
	wlr_cursor_destroy(seat->cursor);
	free(seat);
}
