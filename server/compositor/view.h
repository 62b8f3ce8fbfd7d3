#ifndef TESSERA_VIEW_H
#define TESSERA_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>

#include "decoration.h"

struct tessera_server;
struct tessera_vm;
struct wlr_surface;

/*
 * A toplevel window, of a host client or of a VM. xdg-shell.c turns the
 * client's requests into calls on it; view.c has its lifecycle, focus
 * and stacking; decoration.c its frame and title.
 */
struct tessera_view {
	struct wl_list link; /* tessera_server.views, while mapped */
	struct tessera_server *server;
	struct wlr_xdg_surface *xdg_surface;
	struct tessera_vm *vm; /* NULL for host clients */
	uint64_t id; /* tessera_view_find(); never reused while tessera runs */
	struct wlr_scene_node *tree;         /* whole window: frame + content */
	struct wlr_scene_node *content;      /* wlr_scene_xdg_surface node */
	int x, y; /* layout position of the window geometry's origin */
	int geo_x, geo_y; /* that origin in surface coordinates, last seen */
	bool mapped;

	/* Server-side frame (decoration.c): VM windows always, host windows
	 * on request. */
	bool decorated;
	struct tessera_frame frame;
	struct tessera_label *label;
	struct wlr_box frame_box; /* what the frame surrounds, relative to the geometry origin */
	struct tessera_xdg_decoration *xdg_decoration; /* the client's, if it made one */

	struct tessera_foreign_toplevel *foreign; /* while mapped, if it could be made */

	/* xdg-shell.c. A title change is rendered once the client's requests
	 * of this dispatch are handled, and at most every 100 ms: a client
	 * sending set_title requests in a loop gets one label rendering per
	 * interval, not one each. */
	struct wl_event_source *title_timer;
	bool title_pending; /* the timer is armed */
	int64_t title_shown_ms; /* when the timer last rendered the title */
	struct wl_listener map;
	struct wl_listener unmap;
	struct wl_listener destroy;
	struct wl_listener commit;
	struct wl_listener new_popup;
	struct wl_listener request_move;
	struct wl_listener request_resize;
	struct wl_listener request_maximize;
	struct wl_listener request_fullscreen;
	struct wl_listener set_title;
	struct wl_listener set_app_id;
};

/*
 * A view for a new toplevel, in the scene but hidden until mapped; VM
 * windows are framed and labelled from the start. NULL if out of memory.
 */
struct tessera_view *tessera_view_create(struct tessera_server *server,
	struct wlr_xdg_surface *xdg_surface);
void tessera_view_destroy(struct tessera_view *view);
/* Shows the view at a free spot; it takes the focus unless it is a VM's
 * window and another VM's or a host window has the focus. */
void tessera_view_map(struct tessera_view *view);
void tessera_view_unmap(struct tessera_view *view);

/* The mapped view with that id, or NULL. */
struct tessera_view *tessera_view_find(struct tessera_server *server, uint64_t id);
/* Asks the client to close the window (xdg_toplevel.close). */
void tessera_view_close(struct tessera_view *view);
/* Raises the view (its transient windows above it) and gives it the keyboard. */
void tessera_view_focus(struct tessera_view *view);
/* The view and surface at a layout position, with surface-local coordinates. */
struct tessera_view *tessera_view_at(struct tessera_server *server,
	double lx, double ly, struct wlr_surface **surface, double *sx, double *sy);
/* Surface-local box of the window content (xdg geometry). */
void tessera_view_get_geometry(struct tessera_view *view, struct wlr_box *box);
void tessera_view_move(struct tessera_view *view, int x, int y);
/* The mapped view this one is a transient window of (xdg_toplevel.set_parent:
 * a dialog's window), or NULL. */
struct tessera_view *tessera_view_parent(struct tessera_view *view);
/* The VM's name, or "host". */
const char *tessera_view_owner_name(struct tessera_view *view);

#endif
