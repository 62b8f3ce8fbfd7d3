#include <glib.h>
#include <stdlib.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "clock.h"
#include "decoration.h"
#include "foreign-toplevel.h"
#include "seat.h"
#include "server.h"
#include "view.h"
#include "xdg-shell.h"

/* A popup of any window; VM popups carry a thin frame in the VM colour. */
struct tessera_popup {
	struct wlr_xdg_surface *xdg_surface;
	struct tessera_view *view;
	struct wlr_scene_node *tree;
	struct tessera_frame frame;
	struct wl_listener commit;
	struct wl_listener destroy;
	struct wl_listener new_popup;
};

/* ---- popups ---- */

/* Keeps the popup on the output. */
static void popup_unconstrain(struct tessera_popup *popup) {
	struct tessera_view *view = popup->view;
	struct wlr_box *out = wlr_output_layout_get_box(view->server->output_layout, NULL);
	if (out == NULL || out->width <= 0) {
		return;
	}
	/* The output area in the coordinates of the toplevel's geometry. */
	struct wlr_box box = {
		.x = out->x - view->x,
		.y = out->y - view->y,
		.width = out->width,
		.height = out->height,
	};
	wlr_xdg_popup_unconstrain_from_box(popup->xdg_surface->popup, &box);
}

static void popup_handle_commit(struct wl_listener *listener, void *data) {
	struct tessera_popup *popup = wl_container_of(listener, popup, commit);
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(popup->xdg_surface, &geo);
	tessera_popup_frame_update(&popup->frame, &geo);
}

static void popup_handle_destroy(struct wl_listener *listener, void *data) {
	struct tessera_popup *popup = wl_container_of(listener, popup, destroy);
	wl_list_remove(&popup->commit.link);
	wl_list_remove(&popup->destroy.link);
	wl_list_remove(&popup->new_popup.link);
	free(popup);
}

static void popup_create(struct tessera_view *view, struct wlr_scene_node *parent_node,
	struct wlr_xdg_popup *xdg_popup);

static void popup_handle_new_popup(struct wl_listener *listener, void *data) {
	struct tessera_popup *popup = wl_container_of(listener, popup, new_popup);
	popup_create(popup->view, popup->tree, data);
}

/* A popup of the view, nested in the scene under its parent (the view or a popup). */
static void popup_create(struct tessera_view *view, struct wlr_scene_node *parent_node,
		struct wlr_xdg_popup *xdg_popup) {
	struct tessera_popup *popup = calloc(1, sizeof(*popup));
	if (popup == NULL) {
		return;
	}
	popup->view = view;
	popup->xdg_surface = xdg_popup->base;
	popup->tree = wlr_scene_xdg_surface_create(parent_node, xdg_popup->base);
	if (popup->tree == NULL) {
		free(popup);
		return;
	}
	tessera_popup_frame_init(&popup->frame, popup->tree, view);
	popup->commit.notify = popup_handle_commit;
	wl_signal_add(&xdg_popup->base->surface->events.commit, &popup->commit);
	popup->destroy.notify = popup_handle_destroy;
	wl_signal_add(&xdg_popup->base->events.destroy, &popup->destroy);
	popup->new_popup.notify = popup_handle_new_popup;
	wl_signal_add(&xdg_popup->base->events.new_popup, &popup->new_popup);
	popup_unconstrain(popup);
}

/* ---- toplevel requests ---- */

static bool view_may_start_interactive(struct tessera_view *view) {
	/* Only the focused window, only while a button is held. */
	struct tessera_seat *seat = view->server->seat;
	return seat->focused_view == view && seat->wlr_seat->pointer_state.button_count > 0;
}

static void handle_request_move(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, request_move);
	if (view_may_start_interactive(view)) {
		tessera_seat_begin_interactive(view->server->seat, view,
			TESSERA_CURSOR_MOVE, 0);
	}
}

static void handle_request_resize(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, request_resize);
	struct wlr_xdg_toplevel_resize_event *event = data;
	if (view_may_start_interactive(view)) {
		tessera_seat_begin_interactive(view->server->seat, view,
			TESSERA_CURSOR_RESIZE, event->edges);
	}
}

/*
 * Maximize and fullscreen are not offered (a fullscreen VM window would
 * hide the trusted labels); xdg-shell still wants a configure.
 */
static void handle_request_maximize(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, request_maximize);
	wlr_xdg_surface_schedule_configure(view->xdg_surface);
}

static void handle_request_fullscreen(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, request_fullscreen);
	wlr_xdg_surface_schedule_configure(view->xdg_surface);
}

/* A view's label is laid out and drawn again at most this often: a
 * client that sets its title in a loop costs one pango layout per
 * interval, not one per request (every other client waits behind them). */
#define TITLE_INTERVAL_MS 100

static int handle_title_timer(void *data) {
	struct tessera_view *view = data;
	view->title_pending = false;
	view->title_shown_ms = tessera_clock_now_ms();
	tessera_view_update_title(view);
	return 0;
}

static void handle_set_title(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, set_title);
	if (view->title_pending) {
		return;
	}
	if (view->title_timer == NULL) {
		view->title_timer = wl_event_loop_add_timer(view->server->event_loop,
			handle_title_timer, view);
		if (view->title_timer == NULL) {
			tessera_view_update_title(view);
			return;
		}
	}
	/* 1 ms at least (0 disarms): after the client's other requests */
	int64_t wait = view->title_shown_ms + TITLE_INTERVAL_MS - tessera_clock_now_ms();
	wl_event_source_timer_update(view->title_timer, wait > 1 ? (int)wait : 1);
	view->title_pending = true;
}

static void handle_set_app_id(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, set_app_id);
	const char *app_id = view->xdg_surface->toplevel->app_id;
	if (app_id != NULL && g_utf8_validate(app_id, -1, NULL)) {
		tessera_foreign_toplevel_set_app_id(view->foreign, app_id);
	}
}

/* ---- toplevels ---- */

static void handle_map(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, map);
	tessera_view_map(view);
}

static void handle_unmap(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, unmap);
	tessera_view_unmap(view);
}

static void handle_commit(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, commit);
	tessera_view_update_frame(view);
}

static void handle_new_popup(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, new_popup);
	popup_create(view, view->content, data);
}

static void handle_destroy(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, destroy);
	wl_list_remove(&view->map.link);
	wl_list_remove(&view->unmap.link);
	wl_list_remove(&view->destroy.link);
	wl_list_remove(&view->commit.link);
	wl_list_remove(&view->new_popup.link);
	wl_list_remove(&view->request_move.link);
	wl_list_remove(&view->request_resize.link);
	wl_list_remove(&view->request_maximize.link);
	wl_list_remove(&view->request_fullscreen.link);
	wl_list_remove(&view->set_title.link);
	wl_list_remove(&view->set_app_id.link);
	if (view->title_timer != NULL) {
		wl_event_source_remove(view->title_timer);
	}
	tessera_view_destroy(view);
}

static void toplevel_add_listeners(struct tessera_view *view) {
	struct wlr_xdg_surface *xdg_surface = view->xdg_surface;
	view->map.notify = handle_map;
	wl_signal_add(&xdg_surface->events.map, &view->map);
	view->unmap.notify = handle_unmap;
	wl_signal_add(&xdg_surface->events.unmap, &view->unmap);
	view->destroy.notify = handle_destroy;
	wl_signal_add(&xdg_surface->events.destroy, &view->destroy);
	view->commit.notify = handle_commit;
	wl_signal_add(&xdg_surface->surface->events.commit, &view->commit);
	view->new_popup.notify = handle_new_popup;
	wl_signal_add(&xdg_surface->events.new_popup, &view->new_popup);

	struct wlr_xdg_toplevel *toplevel = xdg_surface->toplevel;
	view->request_move.notify = handle_request_move;
	wl_signal_add(&toplevel->events.request_move, &view->request_move);
	view->request_resize.notify = handle_request_resize;
	wl_signal_add(&toplevel->events.request_resize, &view->request_resize);
	view->request_maximize.notify = handle_request_maximize;
	wl_signal_add(&toplevel->events.request_maximize, &view->request_maximize);
	view->request_fullscreen.notify = handle_request_fullscreen;
	wl_signal_add(&toplevel->events.request_fullscreen, &view->request_fullscreen);
	view->set_title.notify = handle_set_title;
	wl_signal_add(&toplevel->events.set_title, &view->set_title);
	view->set_app_id.notify = handle_set_app_id;
	wl_signal_add(&toplevel->events.set_app_id, &view->set_app_id);
}

static void handle_new_xdg_surface(struct wl_listener *listener, void *data) {
	struct tessera_server *server = wl_container_of(listener, server, new_xdg_surface);
	struct wlr_xdg_surface *xdg_surface = data;
	if (xdg_surface->role != WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
		/* Popups are handled through their parent's new_popup. */
		return;
	}
	struct tessera_view *view = tessera_view_create(server, xdg_surface);
	if (view == NULL) {
		wl_resource_post_no_memory(xdg_surface->resource);
		return;
	}
	toplevel_add_listeners(view);
}

bool tessera_xdg_shell_init(struct tessera_server *server) {
	server->xdg_shell = wlr_xdg_shell_create(server->wl_display);
	if (server->xdg_shell == NULL) {
		return false;
	}
	server->new_xdg_surface.notify = handle_new_xdg_surface;
	wl_signal_add(&server->xdg_shell->events.new_surface, &server->new_xdg_surface);
	return true;
}

void tessera_xdg_shell_finish(struct tessera_server *server) {
	if (server->xdg_shell != NULL) {
		wl_list_remove(&server->new_xdg_surface.link);
	}
}
