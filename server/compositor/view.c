#include <assert.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "foreign-toplevel.h"
#include "label.h"
#include "log.h"
#include "placement.h"
#include "seat.h"
#include "server.h"
#include "vm.h"

enum frame_side { FRAME_TOP, FRAME_BOTTOM, FRAME_LEFT, FRAME_RIGHT };

/* Frame colour of host windows that asked for server-side decorations. */
#define HOST_FRAME_COLOR 0x3c3c3c
/* Popups of VM windows get a frame this wide. */
#define POPUP_BORDER_WIDTH 2

/* Black or white, whichever reads better on the given background. */
static uint32_t contrast_color(uint32_t rgb) {
	uint32_t r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
	return (r * 299 + g * 587 + b * 114) / 1000 >= 140 ? 0x000000 : 0xffffff;
}

static uint32_t view_frame_rgb(struct tessera_view *view) {
	return view->vm != NULL ? view->vm->config->color : HOST_FRAME_COLOR;
}

const char *tessera_view_owner_name(struct tessera_view *view) {
	return view->vm != NULL ? view->vm->config->name : "host";
}

/*
 * The title as the compositor shows it: the client's title made valid
 * UTF-8, stripped of control characters, capped, and for VM windows
 * prefixed with "[NAME] ". A client cannot influence the prefix.
 */
static char *view_display_title(struct tessera_view *view) {
	const char *raw = view->xdg_surface->toplevel->title;
	if (raw == NULL) {
		raw = "";
	}
	size_t raw_len = strnlen(raw, TESSERA_TITLE_MAX * 4);
	gchar *valid = g_utf8_make_valid(raw, raw_len);
	GString *clean = g_string_new(NULL);
	for (const gchar *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_iscntrl(c)) {
			c = ' ';
		}
		if (clean->len + 6 > TESSERA_TITLE_MAX) {
			break;
		}
		g_string_append_unichar(clean, c);
	}
	g_free(valid);

	char *title;
	if (view->vm != NULL) {
		title = g_strdup_printf("[%s] %s", view->vm->config->name, clean->str);
	} else {
		title = g_strdup(clean->str);
	}
	g_string_free(clean, TRUE);
	char *result = strdup(title);
	g_free(title);
	return result;
}

void tessera_view_get_geometry(struct tessera_view *view, struct wlr_box *box) {
	wlr_xdg_surface_get_geometry(view->xdg_surface, box);
}

static void extend_box(struct wlr_box *box, int x, int y, int w, int h) {
	if (w <= 0 || h <= 0) {
		return;
	}
	int x2 = box->x + box->width, y2 = box->y + box->height;
	if (x < box->x) {
		box->x = x;
	}
	if (y < box->y) {
		box->y = y;
	}
	if (x + w > x2) {
		x2 = x + w;
	}
	if (y + h > y2) {
		y2 = y + h;
	}
	box->width = x2 - box->x;
	box->height = y2 - box->y;
}

struct extents_data {
	struct wlr_box box;
	int geo_x, geo_y;
};

static void add_surface_extents(struct wlr_surface *surface, int sx, int sy, void *data) {
	struct extents_data *ext = data;
	extend_box(&ext->box, sx - ext->geo_x, sy - ext->geo_y,
		surface->current.width, surface->current.height);
}

/*
 * Everything the client draws, relative to its window geometry origin:
 * the geometry itself plus every subsurface, wherever the client placed
 * it. The frame goes around all of it, so no pixel of a VM escapes its
 * border.
 */
static struct wlr_box view_content_extents(struct tessera_view *view) {
	struct wlr_box geo;
	tessera_view_get_geometry(view, &geo);
	struct extents_data ext = {
		.box = { 0, 0, geo.width, geo.height },
		.geo_x = geo.x,
		.geo_y = geo.y,
	};
	wlr_surface_for_each_surface(view->xdg_surface->surface,
		add_surface_extents, &ext);
	if (ext.box.width <= 0 || ext.box.height <= 0) {
		ext.box.width = ext.box.height = 1;
	}
	return ext.box;
}

static void frame_rects_update(struct wlr_scene_rect *rects[4],
		int width, int height, int border, int top) {
	/* width x height is the framed content; frame origin is (0, 0). */
	wlr_scene_rect_set_size(rects[FRAME_TOP], width + 2 * border, top);
	wlr_scene_node_set_position(&rects[FRAME_TOP]->node, 0, 0);
	wlr_scene_rect_set_size(rects[FRAME_BOTTOM], width + 2 * border, border);
	wlr_scene_node_set_position(&rects[FRAME_BOTTOM]->node, 0, top + height);
	wlr_scene_rect_set_size(rects[FRAME_LEFT], border, height);
	wlr_scene_node_set_position(&rects[FRAME_LEFT]->node, 0, top);
	wlr_scene_rect_set_size(rects[FRAME_RIGHT], border, height);
	wlr_scene_node_set_position(&rects[FRAME_RIGHT]->node, border + width, top);
}

static bool frame_rects_create(struct wlr_scene_rect *rects[4],
		struct wlr_scene_node *parent, const float color[4]) {
	for (int i = 0; i < 4; i++) {
		rects[i] = wlr_scene_rect_create(parent, 1, 1, color);
		if (rects[i] == NULL) {
			return false;
		}
		wlr_scene_node_lower_to_bottom(&rects[i]->node);
	}
	return true;
}

static void frame_rects_destroy(struct wlr_scene_rect *rects[4]) {
	for (int i = 0; i < 4; i++) {
		if (rects[i] != NULL) {
			wlr_scene_node_destroy(&rects[i]->node);
			rects[i] = NULL;
		}
	}
}

static void view_update_title(struct tessera_view *view) {
	char *title = view_display_title(view);
	if (title == NULL) {
		return;
	}
	if (view->label != NULL) {
		uint32_t bg = view_frame_rgb(view);
		int width = view->frame_box.width + 2 * TESSERA_BORDER_WIDTH;
		tessera_label_set(view->label, title, bg, contrast_color(bg),
			width, TESSERA_TITLE_HEIGHT);
	}
	tessera_foreign_toplevel_set_title(view->foreign, title);
	free(title);
}

/* Lays out frame and content after a commit or a decoration change. */
static void view_update_layout(struct tessera_view *view) {
	struct wlr_box old = view->frame_box;
	if (view->decorated) {
		view->frame_box = view_content_extents(view);
		struct wlr_box *e = &view->frame_box;
		wlr_scene_node_set_position(view->content,
			TESSERA_BORDER_WIDTH - e->x, TESSERA_TITLE_HEIGHT - e->y);
		wlr_scene_node_set_position(view->tree,
			view->x - TESSERA_BORDER_WIDTH + e->x,
			view->y - TESSERA_TITLE_HEIGHT + e->y);
		frame_rects_update(view->frame_rects, e->width, e->height,
			TESSERA_BORDER_WIDTH, TESSERA_TITLE_HEIGHT);
		if (old.width != e->width) {
			view_update_title(view);
		}
	} else {
		wlr_scene_node_set_position(view->content, 0, 0);
		wlr_scene_node_set_position(view->tree, view->x, view->y);
	}
}

static void view_set_decorated(struct tessera_view *view, bool decorated) {
	if (view->vm != NULL) {
		decorated = true; /* never negotiable for VM windows */
	}
	if (decorated == view->decorated && (!decorated || view->label != NULL)) {
		return;
	}
	view->decorated = decorated;
	if (decorated) {
		float color[4];
		tessera_rgb_to_float(view_frame_rgb(view), color);
		if (!frame_rects_create(view->frame_rects, view->tree, color)) {
			tessera_log(TESSERA_ERROR, "cannot create a window frame");
		}
		view->label = tessera_label_create(view->tree);
		if (view->label != NULL) {
			tessera_label_set_position(view->label, 0, 0);
		}
		view->frame_box.width = -1; /* force a title render */
	} else {
		frame_rects_destroy(view->frame_rects);
		tessera_label_destroy(view->label);
		view->label = NULL;
	}
	view_update_layout(view);
	view_update_title(view);
}

void tessera_view_move(struct tessera_view *view, int x, int y) {
	view->x = x;
	view->y = y;
	view_update_layout(view);
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

struct wlr_box tessera_view_outer_box(struct tessera_view *view) {
	struct wlr_box box;
	if (view->decorated) {
		box = view->frame_box;
		box.x += view->x - TESSERA_BORDER_WIDTH;
		box.y += view->y - TESSERA_TITLE_HEIGHT;
		box.width += 2 * TESSERA_BORDER_WIDTH;
		box.height += TESSERA_TITLE_HEIGHT + TESSERA_BORDER_WIDTH;
	} else {
		tessera_view_get_geometry(view, &box);
		box.x = view->x;
		box.y = view->y;
	}
	return box;
}

static void view_handle_map(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, map);
	struct tessera_server *server = view->server;
	view->mapped = true;
	wl_list_insert(&server->views, &view->link);

	view->foreign = tessera_foreign_toplevel_create(view);
	wlr_scene_node_set_enabled(view->tree, true);
	tessera_place_new_view(view);
	view_update_title(view);

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
	view_update_layout(view);
}

static void view_handle_destroy(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, destroy);
	if (view->mapped) {
		view_handle_unmap(&view->unmap, NULL);
	}
	tessera_seat_view_gone(view->server->seat, view);
	if (view->decoration != NULL) {
		wl_list_remove(&view->decoration_request_mode.link);
		wl_list_remove(&view->decoration_destroy.link);
		view->decoration->data = NULL;
	}
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
	tessera_label_destroy(view->label);
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
	view_update_title(view);
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
	if (popup->frame_rects[0] == NULL) {
		return;
	}
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(popup->xdg_surface, &geo);
	frame_rects_update(popup->frame_rects, geo.width, geo.height,
		POPUP_BORDER_WIDTH, POPUP_BORDER_WIDTH);
	for (int i = 0; i < 4; i++) {
		struct wlr_scene_node *node = &popup->frame_rects[i]->node;
		wlr_scene_node_set_position(node, node->state.x - POPUP_BORDER_WIDTH,
			node->state.y - POPUP_BORDER_WIDTH);
	}
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
	if (view->vm != NULL) {
		frame_rects_create(popup->frame_rects, popup->tree, view->vm->color);
	}
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
		view_set_decorated(view, true);
		tessera_log(TESSERA_INFO, "vm '%s': new toplevel", view->vm->config->name);
	}
}

/* ---- xdg-decoration ---- */

static void decoration_apply(struct tessera_view *view) {
	struct wlr_xdg_toplevel_decoration_v1 *deco = view->decoration;
	enum wlr_xdg_toplevel_decoration_v1_mode mode;
	if (view->vm != NULL) {
		mode = WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE;
	} else if (deco->requested_mode == WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE) {
		mode = WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE;
	} else {
		mode = WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_CLIENT_SIDE;
	}
	wlr_xdg_toplevel_decoration_v1_set_mode(deco, mode);
	view_set_decorated(view, mode == WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
}

static void decoration_handle_request_mode(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, decoration_request_mode);
	decoration_apply(view);
}

static void decoration_handle_destroy(struct wl_listener *listener, void *data) {
	struct tessera_view *view = wl_container_of(listener, view, decoration_destroy);
	wl_list_remove(&view->decoration_request_mode.link);
	wl_list_remove(&view->decoration_destroy.link);
	view->decoration = NULL;
	if (view->vm == NULL) {
		view_set_decorated(view, false);
	}
}

void tessera_view_handle_new_decoration(struct wl_listener *listener, void *data) {
	struct wlr_xdg_toplevel_decoration_v1 *deco = data;
	struct tessera_view *view = deco->surface->data;
	if (view == NULL || view->decoration != NULL) {
		return;
	}
	view->decoration = deco;
	view->decoration_request_mode.notify = decoration_handle_request_mode;
	wl_signal_add(&deco->events.request_mode, &view->decoration_request_mode);
	view->decoration_destroy.notify = decoration_handle_destroy;
	wl_signal_add(&deco->events.destroy, &view->decoration_destroy);
	decoration_apply(view);
}
