/*
 * Xwayland in the guest: wlroots' wlr_xwayland runs Xwayland rootless as a
 * client of the agent and is its X11 window manager. X11 windows map onto
 * the host roles xdg windows use (surface.c):
 *
 *   - a managed window becomes a toplevel: title from _NET_WM_NAME or
 *     WM_NAME, app_id from the class of WM_CLASS, parent from
 *     WM_TRANSIENT_FOR, size limits from WM_NORMAL_HINTS; the host's
 *     configure sets its size and activation (the X input focus);
 *   - an override-redirect window (menu, tooltip) becomes a popup of the
 *     X11 window it belongs to (its transient-for, else the window under
 *     the pointer, else the one with the keyboard), placed at its X
 *     position relative to that window; with no such window it is shown
 *     as a toplevel of its own.
 *
 * X11 positions are kept as the clients ask: only the differences between
 * them matter (a menu relative to its window), the host decides where
 * windows go. Clients set their cursor through Xwayland's wl_pointer like
 * any client; the root window gets the default cursor of the theme. The
 * selection is shared with the Wayland clipboard of the guest seat.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wlr/util/log.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xcursor_manager.h>
#include <wlr/xwayland.h>

#include "agent.h"
#include "clock.h"
#include "log.h"

/* WM_NORMAL_HINTS flags (ICCCM 4.1.2.3) */
#define ICCCM_SIZE_HINT_P_MIN_SIZE (1u << 4)
#define ICCCM_SIZE_HINT_P_MAX_SIZE (1u << 5)

/* Pointer events held while X has not restacked the window they go to */
#define HELD_EVENTS_MAX 64
#define RESTACK_WAIT_MS 100

/* xdg_positioner anchor and gravity */
#define POSITIONER_ANCHOR_TOP_LEFT 5
#define POSITIONER_GRAVITY_BOTTOM_RIGHT 8

struct agent_xwayland {
	struct agent_server *server;
	struct wlr_xwayland *wlr;
	struct wlr_xcursor_manager *cursors;
	struct wl_listener ready;
	struct wl_listener new_surface;
	uint32_t next_reposition_token;

	/* X stacking for the pointer (see agent_xwayland_hold_pointer) */
	xcb_window_t raised; /* put on top last; 0 when unknown */
	xcb_window_t waiting; /* its ConfigureNotify is awaited */
	struct wl_event_source *wait_timer;
	struct tessera_wire_msg *held[HELD_EVENTS_MAX];
	size_t held_count;
};

/* wlroots' X event hook has no user data: there is one Xwayland. */
static struct agent_xwayland *the_xwayland;

/* One X11 window (wlr_xwayland_surface.data). */
struct agent_xsurface {
	struct agent_xwayland *xwayland;
	struct wlr_xwayland_surface *x;
	struct agent_surface *as; /* while it has a role */
	int16_t placed_x, placed_y; /* popup offset sent to the host */
	struct wl_listener destroy;
	struct wl_listener map;
	struct wl_listener unmap;
	struct wl_listener request_configure;
	struct wl_listener request_move;
	struct wl_listener request_resize;
	struct wl_listener set_title;
	struct wl_listener set_class;
	struct wl_listener set_parent;
	struct wl_listener set_geometry;
};

static void raise_window(struct agent_xwayland *xw, struct wlr_xwayland_surface *x);

static struct agent_xsurface *xsurface_of(const struct agent_surface *as) {
	return as->xsurface != NULL ? as->xsurface->data : NULL;
}

/* The window's agent_surface when it is shown on the host. */
static struct agent_surface *shown(struct wlr_xwayland_surface *x) {
	struct agent_xsurface *xs = x != NULL ? x->data : NULL;
	if (xs == NULL || xs->as == NULL || xs->as->id == 0 || !xs->as->role_sent) {
		return NULL;
	}
	return xs->as;
}

/* The shown X11 window behind a seat focus, if it is one. */
static struct agent_surface *shown_focus(struct wlr_surface *surface) {
	if (surface == NULL || !wlr_surface_is_xwayland_surface(surface)) {
		return NULL;
	}
	return shown(wlr_xwayland_surface_from_wlr_surface(surface));
}

struct agent_surface *agent_xwayland_parent(struct agent_surface *as) {
	struct wlr_xwayland_surface *x = as->xsurface;
	for (struct wlr_xwayland_surface *p = x->parent; p != NULL && p != x; p = p->parent) {
		struct agent_surface *pas = shown(p);
		if (pas != NULL && pas->role == AGENT_ROLE_TOPLEVEL) {
			return pas;
		}
	}
	return NULL;
}

/* The window an override-redirect window belongs to. */
static struct agent_surface *popup_parent(struct agent_surface *as) {
	struct wlr_xwayland_surface *x = as->xsurface;
	for (struct wlr_xwayland_surface *p = x->parent; p != NULL && p != x; p = p->parent) {
		struct agent_surface *pas = shown(p);
		if (pas != NULL) {
			return pas;
		}
	}
	struct wlr_seat *seat = as->server->seat;
	struct agent_surface *pas = shown_focus(seat->pointer_state.focused_surface);
	if (pas == NULL || pas == as) {
		pas = shown_focus(seat->keyboard_state.focused_surface);
	}
	return pas != as ? pas : NULL;
}

static void popup_positioner(struct agent_surface *as, const struct agent_surface *parent,
		struct tessera_wire_positioner *p) {
	struct wlr_xwayland_surface *x = as->xsurface;
	const int32_t c = TESSERA_WIRE_MAX_COORD, d = TESSERA_WIRE_MAX_DIMENSION;
	/* the popup's corner at the offset from the parent's: anchored at
	 * the parent's top-left pixel, growing right and down, never moved
	 * by the host (no constraint adjustment) */
	*p = (struct tessera_wire_positioner){
		.width = agent_clamp_i32(x->width, 1, d),
		.height = agent_clamp_i32(x->height, 1, d),
		.anchor_width = 1,
		.anchor_height = 1,
		.anchor = POSITIONER_ANCHOR_TOP_LEFT,
		.gravity = POSITIONER_GRAVITY_BOTTOM_RIGHT,
		.offset_x = agent_clamp_i32((int32_t)x->x - parent->xsurface->x, -c, c),
		.offset_y = agent_clamp_i32((int32_t)x->y - parent->xsurface->y, -c, c),
	};
	struct agent_xsurface *xs = xsurface_of(as);
	xs->placed_x = (int16_t)(x->x - parent->xsurface->x);
	xs->placed_y = (int16_t)(x->y - parent->xsurface->y);
}

bool agent_xwayland_popup_place(struct agent_surface *as, struct agent_surface **parent,
		struct tessera_wire_positioner *positioner) {
	struct agent_surface *pas = popup_parent(as);
	if (pas == NULL || !agent_surface_ensure_host(pas)) {
		tessera_log(TESSERA_DEBUG, "X11 window 0x%x: override-redirect without a shown "
			"window it belongs to: not forwarded", (unsigned)as->xsurface->window_id);
		return false;
	}
	popup_positioner(as, pas, positioner);
	*parent = pas;
	return true;
}

void agent_xwayland_configure(struct agent_surface *as, const struct tessera_wire_configure *ev) {
	struct wlr_xwayland_surface *x = as->xsurface;
	if (ev->width > 0 && ev->height > 0 && (ev->width != x->width || ev->height != x->height)) {
		wlr_xwayland_surface_configure(x, x->x, x->y,
			(uint16_t)agent_clamp_i32(ev->width, 1, UINT16_MAX),
			(uint16_t)agent_clamp_i32(ev->height, 1, UINT16_MAX));
	}
	bool activated = ev->states & TESSERA_WIRE_CONFIGURE_ACTIVATED;
	wlr_xwayland_surface_activate(x, activated);
	if (activated) {
		raise_window(as->server->xwayland, x);
	}
	wlr_xwayland_surface_set_maximized(x, ev->states & TESSERA_WIRE_CONFIGURE_MAXIMIZED);
	wlr_xwayland_surface_set_fullscreen(x, ev->states & TESSERA_WIRE_CONFIGURE_FULLSCREEN);
}

/*
 * X11 windows overlap in X (their X positions are not the host's), and X
 * sends pointer events to the topmost window under the pointer. So the
 * window the host sends pointer events to goes on top in X first, and
 * those events are held until X has done it (its ConfigureNotify reaches
 * the window manager), or Xwayland could take a click that focuses a
 * window (the host sends focus, enter and button together) for the window
 * above it in X.
 */
static void release_held(struct agent_xwayland *xw) {
	xw->waiting = 0;
	wl_event_source_timer_update(xw->wait_timer, 0);
	size_t count = xw->held_count;
	xw->held_count = 0;
	for (size_t i = 0; i < count; i++) {
		agent_seat_handle_event(xw->server, xw->held[i]);
		free(xw->held[i]);
		xw->held[i] = NULL;
	}
}

static int handle_wait_timeout(void *data) {
	struct agent_xwayland *xw = data;
	tessera_log(TESSERA_DEBUG, "X11 window 0x%x not restacked within %d ms",
		(unsigned)xw->waiting, RESTACK_WAIT_MS);
	release_held(xw);
	return 0;
}

static int handle_x_event(struct wlr_xwm *xwm, xcb_generic_event_t *event) {
	struct agent_xwayland *xw = the_xwayland;
	if (xw != NULL && xw->waiting != 0 &&
			(event->response_type & 0x7f) == XCB_CONFIGURE_NOTIFY &&
			((xcb_configure_notify_event_t *)event)->window == xw->waiting) {
		release_held(xw);
	}
	return 0; /* wlroots handles it as usual */
}

static void raise_window(struct agent_xwayland *xw, struct wlr_xwayland_surface *x) {
	if (x->window_id == xw->raised) {
		return;
	}
	wlr_xwayland_surface_restack(x, NULL, XCB_STACK_MODE_ABOVE);
	xw->raised = x->window_id;
	xw->waiting = x->window_id;
	wl_event_source_timer_update(xw->wait_timer, RESTACK_WAIT_MS);
}

bool agent_xwayland_hold_pointer(struct agent_server *server,
		const struct tessera_wire_msg *msg) {
	struct agent_xwayland *xw = server->xwayland;
	if (xw == NULL) {
		return false;
	}
	if (msg->type == TESSERA_WIRE_POINTER_ENTER && xw->waiting == 0) {
		struct agent_surface *as = agent_surface_by_id(server, msg->pointer_enter.surface);
		if (as != NULL && as->xsurface != NULL) {
			raise_window(xw, as->xsurface);
		}
	}
	if (xw->waiting == 0) {
		return false;
	}
	if (xw->held_count == HELD_EVENTS_MAX) {
		release_held(xw); /* then this one as usual */
		return false;
	}
	struct tessera_wire_msg *copy = malloc(sizeof(*copy));
	if (copy == NULL) {
		release_held(xw);
		return false;
	}
	*copy = *msg;
	xw->held[xw->held_count++] = copy;
	return true;
}

void agent_xwayland_close(struct agent_surface *as) {
	wlr_xwayland_surface_close(as->xsurface);
}

void agent_xwayland_size_limits(const struct agent_surface *as,
		int32_t *min_w, int32_t *min_h, int32_t *max_w, int32_t *max_h) {
	const struct wlr_xwayland_surface_size_hints *h = as->xsurface->size_hints;
	const int64_t d = TESSERA_WIRE_MAX_DIMENSION;
	*min_w = *min_h = *max_w = *max_h = 0;
	if (h == NULL) {
		return;
	}
	if (h->flags & ICCCM_SIZE_HINT_P_MIN_SIZE) {
		*min_w = agent_clamp_i32(h->min_width, 0, d);
		*min_h = agent_clamp_i32(h->min_height, 0, d);
	}
	if (h->flags & ICCCM_SIZE_HINT_P_MAX_SIZE) {
		*max_w = agent_clamp_i32(h->max_width, 0, d);
		*max_h = agent_clamp_i32(h->max_height, 0, d);
	}
}

void agent_xwayland_detach(struct agent_surface *as) {
	struct agent_xsurface *xs = xsurface_of(as);
	if (xs != NULL && xs->as == as) {
		xs->as = NULL;
	}
}

/* ---- X11 window events ---- */

static void handle_map(struct wl_listener *listener, void *data) {
	struct agent_xsurface *xs = wl_container_of(listener, xs, map);
	struct wlr_xwayland_surface *x = xs->x;
	struct agent_surface *as = agent_surface_from_wlr(x->surface);
	if (as == NULL || as->role != AGENT_ROLE_NONE || xs->as != NULL) {
		tessera_log(TESSERA_DEBUG, "X11 window 0x%x: its surface has a role: not shown",
			(unsigned)x->window_id);
		return;
	}
	as->xsurface = x;
	xs->as = as;
	xs->xwayland->raised = 0; /* X put the new window on top */
	as->role = AGENT_ROLE_TOPLEVEL;
	if (x->override_redirect && popup_parent(as) != NULL) {
		as->role = AGENT_ROLE_POPUP;
	}
	tessera_log(TESSERA_DEBUG, "X11 window 0x%x mapped as a %s at %d,%d %ux%u",
		(unsigned)x->window_id, as->role == AGENT_ROLE_POPUP ? "popup" : "toplevel",
		x->x, x->y, x->width, x->height);
	agent_surface_start_window(as);
}

static void handle_unmap(struct wl_listener *listener, void *data) {
	struct agent_xsurface *xs = wl_container_of(listener, xs, unmap);
	if (xs->as != NULL) {
		agent_surface_end_role(xs->as);
	}
}

static void handle_request_configure(struct wl_listener *listener, void *data) {
	struct agent_xsurface *xs = wl_container_of(listener, xs, request_configure);
	struct wlr_xwayland_surface_configure_event *ev = data;
	/* the host decides where windows are and may resize them; what the
	 * client asks for it gets until then */
	wlr_xwayland_surface_configure(xs->x, ev->x, ev->y,
		ev->width > 0 ? ev->width : 1, ev->height > 0 ? ev->height : 1);
}

static void send_surface_serial(struct agent_surface *as, uint16_t type) {
	struct tessera_wire_msg msg = {
		.type = type,
		.surface_serial = { .surface = as->id, .serial = as->server->host.last_input_serial },
	};
	agent_host_send(&as->server->host, &msg);
}

static struct agent_surface *shown_toplevel(struct agent_xsurface *xs) {
	struct agent_surface *as = shown(xs->x);
	return as != NULL && as->role == AGENT_ROLE_TOPLEVEL ? as : NULL;
}

/* _NET_WM_MOVERESIZE: the host moves or resizes the window */
static void handle_request_move(struct wl_listener *listener, void *data) {
	struct agent_xsurface *xs = wl_container_of(listener, xs, request_move);
	struct agent_surface *as = shown_toplevel(xs);
	if (as != NULL) {
		send_surface_serial(as, TESSERA_WIRE_TOPLEVEL_MOVE);
	}
}

static void handle_request_resize(struct wl_listener *listener, void *data) {
	struct agent_xsurface *xs = wl_container_of(listener, xs, request_resize);
	struct wlr_xwayland_resize_event *ev = data;
	struct agent_surface *as = shown_toplevel(xs);
	if (as == NULL) {
		return;
	}
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_TOPLEVEL_RESIZE,
		.resize = { .surface = as->id, .serial = as->server->host.last_input_serial,
			.edges = ev->edges & 0xf },
	};
	agent_host_send(&as->server->host, &msg);
}

static void handle_set_title(struct wl_listener *listener, void *data) {
	struct agent_xsurface *xs = wl_container_of(listener, xs, set_title);
	struct agent_surface *as = shown_toplevel(xs);
	if (as != NULL) {
		agent_surface_send_string(as, TESSERA_WIRE_SET_TITLE, xs->x->title);
	}
}

static void handle_set_class(struct wl_listener *listener, void *data) {
	struct agent_xsurface *xs = wl_container_of(listener, xs, set_class);
	struct agent_surface *as = shown_toplevel(xs);
	if (as != NULL) {
		agent_surface_send_string(as, TESSERA_WIRE_SET_APP_ID, xs->x->class);
	}
}

static void handle_set_parent(struct wl_listener *listener, void *data) {
	struct agent_xsurface *xs = wl_container_of(listener, xs, set_parent);
	struct agent_surface *as = shown_toplevel(xs);
	if (as != NULL) {
		agent_surface_send_parent(as);
	}
}

/* An override-redirect window moved: the popup follows. */
static void handle_set_geometry(struct wl_listener *listener, void *data) {
	struct agent_xsurface *xs = wl_container_of(listener, xs, set_geometry);
	struct agent_surface *as = shown(xs->x);
	if (as == NULL || as->role != AGENT_ROLE_POPUP) {
		return;
	}
	struct agent_surface *parent = popup_parent(as);
	if (parent == NULL || ((int16_t)(xs->x->x - parent->xsurface->x) == xs->placed_x &&
			(int16_t)(xs->x->y - parent->xsurface->y) == xs->placed_y)) {
		return;
	}
	struct tessera_wire_msg *msg = calloc(1, sizeof(*msg));
	if (msg == NULL) {
		return;
	}
	msg->type = TESSERA_WIRE_POPUP_REPOSITION;
	msg->popup_reposition.surface = as->id;
	msg->popup_reposition.token = ++xs->xwayland->next_reposition_token;
	popup_positioner(as, parent, &msg->popup_reposition.positioner);
	agent_host_send(&as->server->host, msg);
	free(msg);
}

static void handle_destroy(struct wl_listener *listener, void *data) {
	struct agent_xsurface *xs = wl_container_of(listener, xs, destroy);
	if (xs->as != NULL) {
		agent_surface_end_role(xs->as);
	}
	struct wl_listener *listeners[] = {
		&xs->destroy, &xs->map, &xs->unmap, &xs->request_configure, &xs->request_move,
		&xs->request_resize, &xs->set_title, &xs->set_class, &xs->set_parent,
		&xs->set_geometry,
	};
	for (size_t i = 0; i < sizeof(listeners) / sizeof(listeners[0]); i++) {
		wl_list_remove(&listeners[i]->link);
	}
	xs->x->data = NULL;
	free(xs);
}

static void handle_new_surface(struct wl_listener *listener, void *data) {
	struct agent_xwayland *xw = wl_container_of(listener, xw, new_surface);
	struct wlr_xwayland_surface *x = data;
	struct agent_xsurface *xs = calloc(1, sizeof(*xs));
	if (xs == NULL) {
		tessera_log(TESSERA_ERROR, "cannot manage X11 window 0x%x: out of memory",
			(unsigned)x->window_id);
		return;
	}
	xs->xwayland = xw;
	xs->x = x;
	x->data = xs;
	struct {
		struct wl_listener *listener;
		struct wl_signal *signal;
		wl_notify_func_t notify;
	} hooks[] = {
		{ &xs->destroy, &x->events.destroy, handle_destroy },
		{ &xs->map, &x->events.map, handle_map },
		{ &xs->unmap, &x->events.unmap, handle_unmap },
		{ &xs->request_configure, &x->events.request_configure, handle_request_configure },
		{ &xs->request_move, &x->events.request_move, handle_request_move },
		{ &xs->request_resize, &x->events.request_resize, handle_request_resize },
		{ &xs->set_title, &x->events.set_title, handle_set_title },
		{ &xs->set_class, &x->events.set_class, handle_set_class },
		{ &xs->set_parent, &x->events.set_parent, handle_set_parent },
		{ &xs->set_geometry, &x->events.set_geometry, handle_set_geometry },
	};
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		hooks[i].listener->notify = hooks[i].notify;
		wl_signal_add(hooks[i].signal, hooks[i].listener);
	}
}

static void handle_ready(struct wl_listener *listener, void *data) {
	struct agent_xwayland *xw = wl_container_of(listener, xw, ready);
	tessera_log(TESSERA_INFO, "Xwayland is running on DISPLAY=%s", xw->wlr->display_name);
}

/* The root window's cursor: the theme's default arrow. */
static void set_default_cursor(struct agent_xwayland *xw) {
	xw->cursors = wlr_xcursor_manager_create(NULL, 24);
	if (xw->cursors == NULL || !wlr_xcursor_manager_load(xw->cursors, 1)) {
		tessera_log(TESSERA_INFO, "no cursor theme: X11 windows without a cursor of "
			"their own show none");
		return;
	}
	struct wlr_xcursor *cursor = wlr_xcursor_manager_get_xcursor(xw->cursors, "left_ptr", 1);
	if (cursor != NULL && cursor->image_count > 0) {
		struct wlr_xcursor_image *image = cursor->images[0];
		wlr_xwayland_set_cursor(xw->wlr, image->buffer, image->width * 4, image->width,
			image->height, (int32_t)image->hotspot_x, (int32_t)image->hotspot_y);
	}
}

/* wlroots' log, as common/wlr/wlr-log.c forwards it, except that the X11
 * protocol errors a client provokes are not the agent's errors: BadWindow
 * (code 3) is the window manager racing a client that destroyed its
 * window, as every exiting client does. */
static void forward_wlr_log(enum wlr_log_importance importance, const char *fmt,
		va_list args) {
	if (importance != WLR_ERROR || strstr(fmt, "xcb error") == NULL) {
		tessera_log_vlog((enum tessera_log_importance)importance, fmt, args);
		return;
	}
	char line[256];
	vsnprintf(line, sizeof(line), fmt, args);
	bool bad_window = strstr(line, ", code 3,") != NULL;
	tessera_log(bad_window ? TESSERA_DEBUG : TESSERA_ERROR, "%s%s", line,
		bad_window ? " (BadWindow: a window its client destroyed)" : "");
}

void agent_xwayland_log_init(enum tessera_log_importance verbosity) {
	wlr_log_init((enum wlr_log_importance)verbosity, forward_wlr_log);
}

/* The binary wlroots runs (WLR_XWAYLAND overrides its built-in path). */
static const char *xwayland_binary(void) {
	const char *path = getenv("WLR_XWAYLAND");
	return path != NULL && path[0] != '\0' ? path : "/usr/bin/Xwayland";
}

bool agent_xwayland_init(struct agent_server *server, enum agent_xwayland_mode mode) {
	if (mode == AGENT_XWAYLAND_OFF) {
		tessera_log(TESSERA_INFO, "Xwayland is off (--xwayland=off): X11 applications "
			"cannot run");
		return true;
	}
	const char *binary = xwayland_binary();
	if (access(binary, X_OK) != 0) {
		if (mode == AGENT_XWAYLAND_ON) {
			tessera_log_errno(TESSERA_ERROR, "cannot start Xwayland: %s", binary);
			return false;
		}
		tessera_log(TESSERA_INFO, "Xwayland is not installed (%s): X11 applications cannot "
			"run (install the package xwayland)", binary);
		return true;
	}
	/* Glamor never shows a window here: on virgl its pixmaps end up
	 * without GBM buffers (Xwayland logs "Error getting buffer" and
	 * attaches nothing), without virgl (gpu = off) it fails to start and
	 * falls back anyway. Without it X11 windows are shm buffers, which
	 * the agent forwards; GLX clients render with the guest's llvmpipe.
	 * Xwayland (and so the variable) inherits the agent's environment. */
	const char *glamor = getenv("TESSERA_AGENT_GLAMOR");
	if (glamor == NULL || strcmp(glamor, "1") != 0) {
		setenv("XWAYLAND_NO_GLAMOR", "1", 1);
		tessera_log(TESSERA_DEBUG, "Xwayland starts without glamor "
			"(TESSERA_AGENT_GLAMOR=1 keeps it)");
	}
	struct agent_xwayland *xw = calloc(1, sizeof(*xw));
	if (xw == NULL) {
		return false;
	}
	xw->server = server;
	xw->wait_timer = wl_event_loop_add_timer(server->loop, handle_wait_timeout, xw);
	if (xw->wait_timer == NULL) {
		free(xw);
		return false;
	}
	xw->wlr = wlr_xwayland_create(server->display, server->compositor,
		mode == AGENT_XWAYLAND_LAZY);
	if (xw->wlr == NULL) {
		tessera_log(TESSERA_ERROR, "cannot set up Xwayland: no free X11 display");
		wl_event_source_remove(xw->wait_timer);
		free(xw);
		return false;
	}
	server->xwayland = xw;
	the_xwayland = xw;
	xw->wlr->user_event_handler = handle_x_event;
	xw->ready.notify = handle_ready;
	wl_signal_add(&xw->wlr->events.ready, &xw->ready);
	xw->new_surface.notify = handle_new_surface;
	wl_signal_add(&xw->wlr->events.new_surface, &xw->new_surface);
	/* X11 selections follow the seat's (one clipboard inside the VM) */
	wlr_xwayland_set_seat(xw->wlr, server->seat);
	set_default_cursor(xw);
	tessera_log(TESSERA_INFO, "X11 applications connect to DISPLAY=%s (%s)",
		xw->wlr->display_name, mode == AGENT_XWAYLAND_LAZY ?
		"Xwayland starts with the first one" : "Xwayland is starting");
	return true;
}

const char *agent_xwayland_display_name(const struct agent_server *server) {
	return server->xwayland != NULL ? server->xwayland->wlr->display_name : NULL;
}

void agent_xwayland_finish(struct agent_server *server) {
	struct agent_xwayland *xw = server->xwayland;
	if (xw == NULL) {
		return;
	}
	wl_list_remove(&xw->ready.link);
	wl_list_remove(&xw->new_surface.link);
	/* wlroots 0.15 frees its X window manager (and its X connection) only
	 * when that connection hangs up, never in wlr_xwayland_destroy(): end
	 * Xwayland's Wayland connection first (Xwayland exits with it) and let
	 * the window manager see the hang-up while everything it refers to is
	 * alive, for at most 1 s. wlroots' own listener on that client would
	 * start Xwayland again (its 5 s guard reads a start time it has just
	 * zeroed), so it is taken off and the client forgotten first; the
	 * descriptors are closed by wlr_xwayland_destroy(). */
	struct wlr_xwayland_server *x_server = xw->wlr->server;
	if (xw->wlr->xwm != NULL && x_server != NULL && x_server->client != NULL) {
		struct wl_client *client = x_server->client;
		wl_list_remove(&x_server->client_destroy.link);
		wl_list_init(&x_server->client_destroy.link);
		x_server->client = NULL;
		wl_client_destroy(client);
		int64_t deadline = tessera_clock_now_ms() + 1000;
		while (xw->wlr->xwm != NULL && tessera_clock_now_ms() < deadline) {
			wl_event_loop_dispatch(server->loop, 50);
		}
	}
	wlr_xwayland_destroy(xw->wlr);
	wlr_xcursor_manager_destroy(xw->cursors);
	for (size_t i = 0; i < xw->held_count; i++) {
		free(xw->held[i]);
	}
	wl_event_source_remove(xw->wait_timer);
	free(xw);
	server->xwayland = NULL;
	the_xwayland = NULL;
}
