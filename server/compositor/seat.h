#ifndef TESSERA_SEAT_H
#define TESSERA_SEAT_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>

struct tessera_server;
struct tessera_view;
struct tessera_vm_keyboard;

enum tessera_cursor_mode {
	TESSERA_CURSOR_PASSTHROUGH,
	TESSERA_CURSOR_MOVE,
	TESSERA_CURSOR_RESIZE,
};

/*
 * The one seat: keyboards, the pointer and its cursor, compositor key
 * bindings, interactive move and resize, selections. Keyboard input goes
 * to the focused view only, and so does pointer input: a window that is
 * not focused (a VM's in particular) hears nothing until the user clicks
 * it. A VM with a keyboard layout of its own (keyboard-layout etc.) gets
 * that keymap while its window has the focus; other windows get the
 * keymap of the keyboard typing.
 */
struct tessera_seat {
	struct tessera_server *server;
	/* A global of the display: it goes with the display. */
	struct wlr_seat *wlr_seat;
	struct wlr_cursor *cursor;
	struct wlr_xcursor_manager *xcursor_manager;
	struct wl_list keyboards; /* tessera_keyboard.link */
	/* Virtual keyboards' wlr_keyboards waiting to be freed (seat.c). */
	struct wl_list orphans; /* tessera_keyboard.link */
	/* the keyboards of VMs with a keymap of their own (seat.c) */
	struct wl_list vm_keyboards; /* tessera_vm_keyboard.link */
	/* the input keyboard that typed last (or came last): host windows
	 * get its keymap */
	struct wlr_input_device *host_keyboard;
	struct tessera_view *focused_view;
	/* the focused view's VM keyboard; NULL: the host keyboard's keymap */
	struct tessera_vm_keyboard *focused_vm_keyboard;

	enum tessera_cursor_mode cursor_mode;
	struct {
		struct tessera_view *view;
		double x, y; /* cursor position relative to the grabbed edge or corner */
		struct wlr_box box; /* layout box of the view's geometry at the start */
		uint32_t edges; /* enum wlr_edges of a resize */
	} grab;

	struct wl_listener new_input;
	struct wl_listener new_virtual_keyboard;
	struct wl_listener new_virtual_pointer;
	struct wl_listener cursor_motion;
	struct wl_listener cursor_motion_absolute;
	struct wl_listener cursor_button;
	struct wl_listener cursor_axis;
	struct wl_listener cursor_frame;
	struct wl_listener request_set_cursor;
	struct wl_listener request_set_selection;
	struct wl_listener request_set_primary_selection;
};

/* The seat with its cursor on the server's output layout; NULL on failure. */
struct tessera_seat *tessera_seat_create(struct tessera_server *server);
void tessera_seat_destroy(struct tessera_seat *seat);

/*
 * Keyboard input goes to the view (NULL: to nobody). The pointer focus is
 * dropped; it comes back when the pointer moves over the focused view.
 */
void tessera_seat_set_focus(struct tessera_seat *seat, struct tessera_view *view);
/* A move or resize of the view that follows the pointer until the button is released. */
void tessera_seat_begin_interactive(struct tessera_seat *seat, struct tessera_view *view,
	enum tessera_cursor_mode mode, uint32_t edges);
/* Called when a view goes away, to drop a grab on it. */
void tessera_seat_view_gone(struct tessera_seat *seat, struct tessera_view *view);

#endif
