#include <assert.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "decoration.h"
#include "foreign-toplevel.h"
#include "log.h"
#include "placement.h"
#include "seat.h"
#include "server.h"
#include "vm.h"

const char *tessera_view_owner_name(struct tessera_view *view) {
	return view->vm != NULL ? view->vm->config->name : "host";
}

void tessera_view_get_geometry(struct tessera_view *view, struct wlr_box *box) {
	wlr_xdg_surface_get_geometry(view->xdg_surface, box);
}

void tessera_view_move(struct tessera_view *view, int x, int y) {
	view->x = x;
	view->y = y;
	tessera_view_update_frame(view);
}

static void view_set_activated(struct tessera_view *view, bool activated) {
	wlr_xdg_toplevel_set_activated(view->xdg_surface, activated);
	tessera_foreign_toplevel_set_activated(view->foreign, activated);
}

void tessera_view_focus(struct tessera_view *view) {
	struct tessera_server *server = view->server;
	struct tessera_seat *seat = server->seat;
	struct wlr_surface *prev = seat->wlr_seat->keyboard_state.focused_surface;

	wlr_scene_node_raise_to_top(view->tree);
	wl_list_remove(&view->link);
	wl_list_insert(&server->views, &view->link);

	if (seat->focused_view == view && prev == view->xdg_surface->surface) {
		return;
	}
	struct tessera_view *old = seat->focused_view;
	if (old != NULL && old != view) {
		view_set_activated(old, false);
	}
	view_set_activated(view, true);
	tessera_seat_set_focus(seat, view);
	tessera_log(TESSERA_DEBUG, "focus: %s window '%s'", tessera_view_owner_name(view),
		view->xdg_surface->toplevel->title ? view->xdg_surface->toplevel->title : "");
}

static void focus_next_view(struct tessera_server *server) {
	struct tessera_view *view;
	wl_list_for_each(view, &server->views, link) {
		if (view->mapped) {
			tessera_view_focus(view);
			return;
		}
	}
	tessera_seat_set_focus(server->seat, NULL);
}

struct tessera_view *tessera_view_at(struct tessera_server *server,
		double lx, double ly, struct wlr_surface **surface, double *sx, double *sy) {
	*surface = NULL;
	struct wlr_scene_node *node =
		wlr_scene_node_at(&server->scene->node, lx, ly, sx, sy);
	if (node == NULL) {
		return NULL;
	}
	if (node->type == WLR_SCENE_NODE_SURFACE) {
		*surface = wlr_scene_surface_from_node(node)->surface;
	}
	while (node != NULL && node->data == NULL) {
		node = node->parent;
	}
	return node != NULL ? node->data : NULL;
}

static void view_handle_map(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, map);
	struct tessera_server *server = view->server;
	view->mapped = true;
	wl_list_insert(&server->views, &view->link);

	view->foreign = tessera_foreign_toplevel_create(view);
	wlr_scene_node_set_enabled(view->tree, true);
	tessera_place_new_view(view);
	tessera_view_update_title(view);

	/*
	 * A new VM window may take the focus only from nobody or from its own
	 * VM: a VM cannot pull keystrokes away from a window the user is
	 * typing into.
	 */
	struct tessera_view *focused = server->seat->focused_view;
	if (view->vm == NULL || focused == NULL || focused->vm == view->vm) {
		tessera_view_focus(view);
	} else {
		wl_list_remove(&view->link);
		wl_list_insert(&focused->link, &view->link);
		wlr_scene_node_place_below(view->tree, focused->tree);
	}
	tessera_log(TESSERA_INFO, "%s window mapped", tessera_view_owner_name(view));
}

static void view_handle_unmap(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, unmap);
	struct tessera_server *server = view->server;
	view->mapped = false;
	wlr_scene_node_set_enabled(view->tree, false);
	wl_list_remove(&view->link);
	wl_list_init(&view->link);
	tessera_foreign_toplevel_destroy(view->foreign);
	view->foreign = NULL;
	tessera_seat_view_gone(server->seat, view);
	if (server->seat->focused_view == view) {
		server->seat->focused_view = NULL;
		focus_next_view(server);
	}
}

static void view_handle_commit(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, commit);
	tessera_view_update_frame(view);
}

static void view_handle_destroy(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, destroy);
	if (view->mapped) {
		view_handle_unmap(&view->unmap, NULL);
	}
	tessera_seat_view_gone(view->server->seat, view);
	wl_list_remove(&view->map.link);
	wl_list_remove(&view->unmap.link);
	wl_list_remove(&view->destroy.link);
	wl_list_remove(&view->commit.link);
	wl_list_remove(&view->request_move.link);
	wl_list_remove(&view->request_resize.link);
	wl_list_remove(&view->request_maximize.link);
	wl_list_remove(&view->request_fullscreen.link);
	wl_list_remove(&view->set_title.link);
	wl_list_remove(&view->set_app_id.link);
	wl_list_remove(&view->link);
	if (view->title_idle != NULL) {
		wl_event_source_remove(view->title_idle);
	}
	tessera_view_finish_decoration(view);
	wlr_scene_node_destroy(view->tree);
	free(view);
}

static bool view_may_start_interactive(struct tessera_view *view) {
	/* Only the focused window, only while a button is held. */
	struct tessera_seat *seat = view->server->seat;
	return seat->focused_view == view && seat->wlr_seat->pointer_state.button_count > 0;
}

static void view_handle_request_move(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, request_move);
	if (view_may_start_interactive(view)) {
		tessera_seat_begin_interactive(view->server->seat, view, TESSERA_CURSOR_MOVE, 0);
	}
}

static void view_handle_request_resize(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, request_resize);
	struct wlr_xdg_toplevel_resize_event *event = data;
	if (view_may_start_interactive(view)) {
		tessera_seat_begin_interactive(view->server->seat, view, TESSERA_CURSOR_RESIZE, event->edges);
	}
}

static void view_handle_request_state(struct wl_listener *listener, void *data) {
	/*
	 * Maximize and fullscreen are not offered (a fullscreen VM window
	 * would hide the trusted labels); xdg-shell still wants a configure.
	 */
	struct tessera_view *view = wl_container_of(listener, view, request_maximize);
	wlr_xdg_surface_schedule_configure(view->xdg_surface);
}

static void view_handle_request_fullscreen(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, request_fullscreen);
	wlr_xdg_surface_schedule_configure(view->xdg_surface);
}

static void view_title_idle(void *data) {
	struct tessera_view *view = data;
	view->title_idle = NULL;
	tessera_view_update_title(view);
}

static void view_handle_set_title(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, set_title);
	if (view->title_idle == NULL) {
		view->title_idle = wl_event_loop_add_idle(view->server->event_loop,
			view_title_idle, view);
	}
}

static void view_handle_set_app_id(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, set_app_id);
	const char *app_id = view->xdg_surface->toplevel->app_id;
	if (app_id != NULL && g_utf8_validate(app_id, -1, NULL)) {
		tessera_foreign_toplevel_set_app_id(view->foreign, app_id);
	}
}

/* ---- popups ---- */

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

static void handle_new_popup(struct tessera_view *view,
		struct wlr_scene_node *parent_node, struct wlr_xdg_popup *xdg_popup);

static void popup_handle_new_popup(struct wl_listener *listener, void *data) {
	struct tessera_popup *popup = wl_container_of(listener, popup, new_popup);
	handle_new_popup(popup->view, popup->tree, data);
}

static void handle_new_popup(struct tessera_view *view,
		struct wlr_scene_node *parent_node, struct wlr_xdg_popup *xdg_popup) {
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

static void view_handle_new_popup(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, new_popup);
	handle_new_popup(view, view->content, data);
}

/* ---- toplevels ---- */

void tessera_view_handle_new_xdg_surface(struct wl_listener *listener, void *data) {
	struct tessera_server *server = wl_container_of(listener, server, new_xdg_surface);
	struct wlr_xdg_surface *xdg_surface = data;
	if (xdg_surface->role != WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
		/* Popups are handled through their parent's new_popup. */
		return;
	}

	struct tessera_view *view = calloc(1, sizeof(*view));
	if (view == NULL) {
		wl_resource_post_no_memory(xdg_surface->resource);
		return;
	}
	view->server = server;
	view->xdg_surface = xdg_surface;
	view->vm = tessera_vm_from_client(server,
		wl_resource_get_client(xdg_surface->resource));
	wl_list_init(&view->link);

	struct wlr_scene_tree *tree = wlr_scene_tree_create(&server->scene->node);
	if (tree == NULL) {
		free(view);
		wl_resource_post_no_memory(xdg_surface->resource);
		return;
	}
	view->tree = &tree->node;
	view->tree->data = view;
	view->content = wlr_scene_xdg_surface_create(view->tree, xdg_surface);
	if (view->content == NULL) {
		wlr_scene_node_destroy(view->tree);
		free(view);
		wl_resource_post_no_memory(xdg_surface->resource);
		return;
	}
	xdg_surface->data = view;
	wlr_scene_node_set_enabled(view->tree, false);

	view->map.notify = view_handle_map;
	wl_signal_add(&xdg_surface->events.map, &view->map);
	view->unmap.notify = view_handle_unmap;
	wl_signal_add(&xdg_surface->events.unmap, &view->unmap);
	view->destroy.notify = view_handle_destroy;
	wl_signal_add(&xdg_surface->events.destroy, &view->destroy);
	view->commit.notify = view_handle_commit;
	wl_signal_add(&xdg_surface->surface->events.commit, &view->commit);
	view->new_popup.notify = view_handle_new_popup;
	wl_signal_add(&xdg_surface->events.new_popup, &view->new_popup);

	struct wlr_xdg_toplevel *toplevel = xdg_surface->toplevel;
	view->request_move.notify = view_handle_request_move;
	wl_signal_add(&toplevel->events.request_move, &view->request_move);
	view->request_resize.notify = view_handle_request_resize;
	wl_signal_add(&toplevel->events.request_resize, &view->request_resize);
	view->request_maximize.notify = view_handle_request_state;
	wl_signal_add(&toplevel->events.request_maximize, &view->request_maximize);
	view->request_fullscreen.notify = view_handle_request_fullscreen;
	wl_signal_add(&toplevel->events.request_fullscreen, &view->request_fullscreen);
	view->set_title.notify = view_handle_set_title;
	wl_signal_add(&toplevel->events.set_title, &view->set_title);
	view->set_app_id.notify = view_handle_set_app_id;
	wl_signal_add(&toplevel->events.set_app_id, &view->set_app_id);

	/* VM windows are framed and labelled from the start, whatever the
	 * client asks for. */
	if (view->vm != NULL) {
		tessera_view_set_decorated(view, true);
		tessera_log(TESSERA_INFO, "vm '%s': new toplevel", view->vm->config->name);
	}
}
