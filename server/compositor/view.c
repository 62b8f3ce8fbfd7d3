#include <stdlib.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "decoration.h"
#include "foreign-toplevel.h"
#include "log.h"
#include "placement.h"
#include "seat.h"
#include "server.h"
#include "view.h"
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

struct tessera_view *tessera_view_find(struct tessera_server *server, uint64_t id) {
	struct tessera_view *view;
	wl_list_for_each(view, &server->views, link) {
		if (view->id == id) {
			return view;
		}
	}
	return NULL;
}

void tessera_view_close(struct tessera_view *view) {
	wlr_xdg_toplevel_send_close(view->xdg_surface);
}

/* ---- focus and stacking ---- */

struct tessera_view *tessera_view_parent(struct tessera_view *view) {
	struct wlr_xdg_toplevel *toplevel = view->xdg_surface->toplevel;
	if (toplevel == NULL || toplevel->parent == NULL) {
		return NULL;
	}
	struct tessera_view *parent = toplevel->parent->data;
	return parent != NULL && parent->mapped ? parent : NULL;
}

/* Deep enough for dialogs of dialogs; stops a host client's parent cycle. */
#define MAX_TRANSIENT_DEPTH 8

/*
 * Raises the view, then its transient windows (dialogs) above it, each
 * with its own: a dialog never hides behind the window it belongs to.
 */
static void view_raise(struct tessera_view *view, int depth) {
	wlr_scene_node_raise_to_top(view->tree);
	wl_list_remove(&view->link);
	wl_list_insert(&view->server->views, &view->link);
	if (depth >= MAX_TRANSIENT_DEPTH) {
		return;
	}
	/* collected first: raising them reorders the list */
	size_t n = 0;
	struct tessera_view *other;
	wl_list_for_each(other, &view->server->views, link) {
		n += other != view && tessera_view_parent(other) == view;
	}
	if (n == 0) {
		return;
	}
	struct tessera_view **children = calloc(n, sizeof(*children));
	if (children == NULL) {
		return;
	}
	size_t count = 0;
	/* bottom first, so that they keep their order among themselves */
	wl_list_for_each_reverse(other, &view->server->views, link) {
		if (other != view && tessera_view_parent(other) == view && count < n) {
			children[count++] = other;
		}
	}
	for (size_t i = 0; i < count; i++) {
		view_raise(children[i], depth + 1);
	}
	free(children);
}

static void view_set_activated(struct tessera_view *view, bool activated) {
	wlr_xdg_toplevel_set_activated(view->xdg_surface, activated);
	tessera_foreign_toplevel_set_activated(view->foreign, activated);
}

void tessera_view_focus(struct tessera_view *view) {
	struct tessera_seat *seat = view->server->seat;
	struct wlr_surface *prev = seat->wlr_seat->keyboard_state.focused_surface;
	view_raise(view, 0);
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

/*
 * A new VM window may take the focus only from nobody or from its own VM:
 * a VM cannot pull keystrokes away from a window the user is typing into.
 * Otherwise it goes right below the focused window.
 */
static void focus_new_view(struct tessera_view *view) {
	struct tessera_view *focused = view->server->seat->focused_view;
	if (view->vm == NULL || focused == NULL || focused->vm == view->vm) {
		tessera_view_focus(view);
		return;
	}
	wl_list_remove(&view->link);
	wl_list_insert(&focused->link, &view->link);
	wlr_scene_node_place_below(view->tree, focused->tree);
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

/* ---- lifecycle ---- */

void tessera_view_map(struct tessera_view *view) {
	view->mapped = true;
	wl_list_insert(&view->server->views, &view->link);
	view->foreign = tessera_foreign_toplevel_create(view);
	wlr_scene_node_set_enabled(view->tree, true);
	tessera_place_new_view(view);
	tessera_view_update_title(view);
	focus_new_view(view);
	tessera_log(TESSERA_INFO, "%s window mapped", tessera_view_owner_name(view));
	tessera_vm_views_changed(view->vm);
}

void tessera_view_unmap(struct tessera_view *view) {
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
	tessera_vm_views_changed(view->vm);
}

struct tessera_view *tessera_view_create(struct tessera_server *server,
		struct wlr_xdg_surface *xdg_surface) {
	struct tessera_view *view = calloc(1, sizeof(*view));
	if (view == NULL) {
		return NULL;
	}
	view->server = server;
	view->id = ++server->next_view_id;
	view->xdg_surface = xdg_surface;
	view->vm = tessera_vm_from_client(server,
		wl_resource_get_client(xdg_surface->resource));
	wl_list_init(&view->link);

	struct wlr_scene_tree *tree = wlr_scene_tree_create(&server->scene->node);
	if (tree == NULL) {
		free(view);
		return NULL;
	}
	view->tree = &tree->node;
	view->tree->data = view;
	view->content = wlr_scene_xdg_surface_create(view->tree, xdg_surface);
	if (view->content == NULL) {
		wlr_scene_node_destroy(view->tree);
		free(view);
		return NULL;
	}
	xdg_surface->data = view;
	wlr_scene_node_set_enabled(view->tree, false);

	/* VM windows are framed and labelled from the start, whatever the
	 * client asks for. */
	if (view->vm != NULL) {
		tessera_view_set_decorated(view, true);
		tessera_log(TESSERA_INFO, "vm '%s': new toplevel", view->vm->config->name);
	}
	return view;
}

void tessera_view_destroy(struct tessera_view *view) {
	if (view == NULL) {
		return;
	}
	if (view->mapped) {
		tessera_view_unmap(view);
	}
	tessera_seat_view_gone(view->server->seat, view);
	tessera_view_finish_decoration(view);
	wl_list_remove(&view->link);
	wlr_scene_node_destroy(view->tree);
	free(view);
}
