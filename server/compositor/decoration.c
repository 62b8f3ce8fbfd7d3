#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "decoration.h"
#include "foreign-toplevel.h"
#include "label.h"
#include "share.h"
#include "log.h"
#include "server.h"
#include "view.h"
#include "vm.h"

enum frame_side { FRAME_TOP, FRAME_BOTTOM, FRAME_LEFT, FRAME_RIGHT };

/* Frame colour of host windows that asked for server-side decorations. */
#define HOST_FRAME_COLOR 0x3c3c3c

/* ---- frames ---- */

bool tessera_frame_init(struct tessera_frame *frame, struct wlr_scene_node *parent,
		const float color[static 4]) {
	for (int i = 0; i < 4; i++) {
		frame->rects[i] = wlr_scene_rect_create(parent, 1, 1, color);
		if (frame->rects[i] == NULL) {
			tessera_frame_finish(frame);
			return false;
		}
		wlr_scene_node_lower_to_bottom(&frame->rects[i]->node);
	}
	return true;
}

void tessera_frame_finish(struct tessera_frame *frame) {
	for (int i = 0; i < 4; i++) {
		if (frame->rects[i] != NULL) {
			wlr_scene_node_destroy(&frame->rects[i]->node);
			frame->rects[i] = NULL;
		}
	}
}

static void frame_set_rect(struct tessera_frame *frame, enum frame_side side,
		int x, int y, int width, int height) {
	wlr_scene_rect_set_size(frame->rects[side], width, height);
	wlr_scene_node_set_position(&frame->rects[side]->node, x, y);
}

void tessera_frame_update(struct tessera_frame *frame, int x, int y,
		int width, int height, int border, int top) {
	if (frame->rects[FRAME_TOP] == NULL) {
		return;
	}
	frame_set_rect(frame, FRAME_TOP, x, y, width + 2 * border, top);
	frame_set_rect(frame, FRAME_BOTTOM, x, y + top + height, width + 2 * border, border);
	frame_set_rect(frame, FRAME_LEFT, x, y + top, border, height);
	frame_set_rect(frame, FRAME_RIGHT, x + border + width, y + top, border, height);
}

void tessera_popup_frame_init(struct tessera_frame *frame, struct wlr_scene_node *popup_tree,
		struct tessera_view *view) {
	if (view->vm != NULL) {
		tessera_frame_init(frame, popup_tree, view->vm->color);
	}
}

void tessera_popup_frame_update(struct tessera_frame *frame, const struct wlr_box *geometry) {
	tessera_frame_update(frame, -TESSERA_POPUP_BORDER_WIDTH, -TESSERA_POPUP_BORDER_WIDTH,
		geometry->width, geometry->height,
		TESSERA_POPUP_BORDER_WIDTH, TESSERA_POPUP_BORDER_WIDTH);
}

/* ---- titles ---- */

/* Black or white, whichever reads better on the given background. */
static uint32_t contrast_color(uint32_t rgb) {
	uint32_t r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
	return (r * 299 + g * 587 + b * 114) / 1000 >= 140 ? 0x000000 : 0xffffff;
}

static uint32_t view_frame_rgb(struct tessera_view *view) {
	return view->vm != NULL ? view->vm->config->color : HOST_FRAME_COLOR;
}

/*
 * Bidi_Control characters (embeddings, overrides, isolates and the
 * LRM/RLM/ALM marks): in a title drawn right after the trusted "[NAME]"
 * label they could reorder the text so that it runs into the label.
 */
static bool is_bidi_control(gunichar c) {
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
		c == 0x200e || c == 0x200f || c == 0x061c;
}

/*
 * The client's title made valid UTF-8 (each invalid byte becomes U+FFFD),
 * control characters and line or paragraph separators made spaces, bidi
 * controls made U+FFFD, and cut to at most TESSERA_TITLE_MAX bytes without
 * splitting a character.
 */
static GString *clean_title(const char *raw) {
	size_t raw_len = strnlen(raw, TESSERA_TITLE_MAX * 4);
	gchar *valid = g_utf8_make_valid(raw, raw_len);
	GString *clean = g_string_new(NULL);
	for (const gchar *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029) {
			c = ' ';
		} else if (is_bidi_control(c)) {
			c = 0xfffd;
		}
		if (clean->len + g_unichar_to_utf8(c, NULL) > TESSERA_TITLE_MAX) {
			break;
		}
		g_string_append_unichar(clean, c);
	}
	g_free(valid);
	return clean;
}

char *tessera_title_clean(const char *raw) {
	GString *clean = clean_title(raw != NULL ? raw : "");
	char *result = strdup(clean->str);
	g_string_free(clean, TRUE);
	return result;
}

/*
 * The title as the compositor shows it: the client's title cleaned, and
 * for VM windows prefixed with "[NAME] ". A client cannot influence the
 * prefix.
 */
static char *view_display_title(struct tessera_view *view) {
	const char *raw = view->xdg_surface->toplevel->title;
	GString *clean = clean_title(raw != NULL ? raw : "");
	char *title;
	const char *shared_to = tessera_share_mark(view);
	if (view->vm != NULL && shared_to != NULL) {
		/* right after the trusted prefix, where no title can push it out */
		title = g_strdup_printf("[%s] (shared \xe2\x86\x92 [%s]) %s", view->vm->config->name,
			shared_to, clean->str);
	} else if (view->vm != NULL) {
		title = g_strdup_printf("[%s] %s", view->vm->config->name, clean->str);
	} else {
		title = g_strdup(clean->str);
	}
	g_string_free(clean, TRUE);
	char *result = strdup(title);
	g_free(title);
	return result;
}

void tessera_view_update_title(struct tessera_view *view) {
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

/* ---- window frames ---- */

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

/*
 * A client may move its window geometry's origin within its surfaces; for
 * a VM window that must not move the surfaces on screen (a VM cannot
 * choose its position), so its geometry's layout position follows.
 */
static void view_follow_geometry(struct tessera_view *view) {
	struct wlr_box geo;
	tessera_view_get_geometry(view, &geo);
	if (view->vm != NULL && view->mapped) {
		view->x += geo.x - view->geo_x;
		view->y += geo.y - view->geo_y;
	}
	view->geo_x = geo.x;
	view->geo_y = geo.y;
}

void tessera_view_update_frame(struct tessera_view *view) {
	view_follow_geometry(view);
	if (!view->decorated) {
		wlr_scene_node_set_position(view->content, 0, 0);
		wlr_scene_node_set_position(view->tree, view->x, view->y);
		return;
	}
	struct wlr_box old = view->frame_box;
	view->frame_box = view_content_extents(view);
	struct wlr_box *e = &view->frame_box;
	wlr_scene_node_set_position(view->content,
		TESSERA_BORDER_WIDTH - e->x, TESSERA_TITLE_HEIGHT - e->y);
	wlr_scene_node_set_position(view->tree,
		view->x - TESSERA_BORDER_WIDTH + e->x,
		view->y - TESSERA_TITLE_HEIGHT + e->y);
	tessera_frame_update(&view->frame, 0, 0, e->width, e->height,
		TESSERA_BORDER_WIDTH, TESSERA_TITLE_HEIGHT);
	if (old.width != e->width) {
		tessera_view_update_title(view);
	}
}

static void view_add_frame(struct tessera_view *view) {
	float color[4];
	tessera_rgb_to_float(view_frame_rgb(view), color);
	if (!tessera_frame_init(&view->frame, view->tree, color)) {
		tessera_log(TESSERA_ERROR, "cannot create a window frame");
	}
	view->label = tessera_label_create(view->tree);
	if (view->label != NULL) {
		tessera_label_set_position(view->label, 0, 0);
	}
	view->frame_box.width = -1; /* force a title render */
}

static void view_remove_frame(struct tessera_view *view) {
	tessera_frame_finish(&view->frame);
	tessera_label_destroy(view->label);
	view->label = NULL;
}

void tessera_view_set_decorated(struct tessera_view *view, bool decorated) {
	if (view->vm != NULL) {
		decorated = true; /* never negotiable for VM windows */
	}
	if (decorated == view->decorated && (!decorated || view->label != NULL)) {
		return;
	}
	view->decorated = decorated;
	if (decorated) {
		view_add_frame(view);
	} else {
		view_remove_frame(view);
	}
	tessera_view_update_frame(view);
	tessera_view_update_title(view);
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

/* ---- xdg-decoration ---- */

/* A client's xdg-decoration object of one of its toplevels. */
struct tessera_xdg_decoration {
	struct wlr_xdg_toplevel_decoration_v1 *wlr_decoration;
	struct tessera_view *view;
	struct wl_listener request_mode;
	struct wl_listener destroy;
};

static void xdg_decoration_destroy(struct tessera_xdg_decoration *deco) {
	if (deco == NULL) {
		return;
	}
	wl_list_remove(&deco->request_mode.link);
	wl_list_remove(&deco->destroy.link);
	deco->view->xdg_decoration = NULL;
	free(deco);
}

void tessera_view_finish_decoration(struct tessera_view *view) {
	xdg_decoration_destroy(view->xdg_decoration);
	tessera_label_destroy(view->label);
	view->label = NULL;
}

/* Server side for VM windows, whatever they ask; as asked for host windows. */
static void xdg_decoration_apply(struct tessera_xdg_decoration *deco) {
	struct tessera_view *view = deco->view;
	enum wlr_xdg_toplevel_decoration_v1_mode mode;
	if (view->vm != NULL) {
		mode = WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE;
	} else if (deco->wlr_decoration->requested_mode ==
			WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE) {
		mode = WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE;
	} else {
		mode = WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_CLIENT_SIDE;
	}
	wlr_xdg_toplevel_decoration_v1_set_mode(deco->wlr_decoration, mode);
	tessera_view_set_decorated(view, mode == WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
}

static void xdg_decoration_handle_request_mode(struct wl_listener *listener, void *data) {
	struct tessera_xdg_decoration *deco = wl_container_of(listener, deco, request_mode);
	xdg_decoration_apply(deco);
}

static void xdg_decoration_handle_destroy(struct wl_listener *listener, void *data) {
	struct tessera_xdg_decoration *deco = wl_container_of(listener, deco, destroy);
	struct tessera_view *view = deco->view;
	xdg_decoration_destroy(deco);
	if (view->vm == NULL) {
		tessera_view_set_decorated(view, false);
	}
}

static void handle_new_decoration(struct wl_listener *listener, void *data) {
	struct wlr_xdg_toplevel_decoration_v1 *wlr_decoration = data;
	struct tessera_view *view = wlr_decoration->surface->data;
	if (view == NULL || view->xdg_decoration != NULL) {
		return;
	}
	struct tessera_xdg_decoration *deco = calloc(1, sizeof(*deco));
	if (deco == NULL) {
		wl_resource_post_no_memory(wlr_decoration->resource);
		return;
	}
	deco->wlr_decoration = wlr_decoration;
	deco->view = view;
	view->xdg_decoration = deco;
	deco->request_mode.notify = xdg_decoration_handle_request_mode;
	wl_signal_add(&wlr_decoration->events.request_mode, &deco->request_mode);
	deco->destroy.notify = xdg_decoration_handle_destroy;
	wl_signal_add(&wlr_decoration->events.destroy, &deco->destroy);
	xdg_decoration_apply(deco);
}

bool tessera_xdg_decoration_init(struct tessera_server *server) {
	server->decoration_manager = wlr_xdg_decoration_manager_v1_create(server->wl_display);
	if (server->decoration_manager == NULL) {
		return false;
	}
	server->new_decoration.notify = handle_new_decoration;
	wl_signal_add(&server->decoration_manager->events.new_toplevel_decoration,
		&server->new_decoration);
	return true;
}

void tessera_xdg_decoration_finish(struct tessera_server *server) {
	if (server->decoration_manager != NULL) {
		wl_list_remove(&server->new_decoration.link);
	}
}
