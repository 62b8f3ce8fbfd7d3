#ifndef TESSERA_SERVER_H
#define TESSERA_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "config.h"
#include "decoration.h"

/* 0xRRGGBB to the float RGBA that scene rects take. */
static inline void tessera_rgb_to_float(uint32_t rgb, float out[static 4]) {
	out[0] = ((rgb >> 16) & 0xff) / 255.0f;
	out[1] = ((rgb >> 8) & 0xff) / 255.0f;
	out[2] = (rgb & 0xff) / 255.0f;
	out[3] = 1.0f;
}

struct tessera_foreign_toplevel;
struct tessera_seat;
struct tessera_vm;
struct tessera_label;

struct tessera_server {
	struct wl_display *wl_display;
	struct wl_event_loop *event_loop;
	struct wlr_backend *backend;
	struct wlr_renderer *renderer;
	struct wlr_allocator *allocator;
	struct wlr_scene *scene;
	struct wlr_output_layout *output_layout;
	struct wl_list outputs; /* tessera_output.link */
	struct wl_listener new_output;

	struct wlr_xdg_shell *xdg_shell;
	struct wl_listener new_xdg_surface;
	struct wl_list views; /* tessera_view.link, front to back */

	struct wlr_xdg_decoration_manager_v1 *decoration_manager;
	struct wl_listener new_decoration;
	struct wlr_foreign_toplevel_manager_v1 *foreign_toplevel_manager;

	struct tessera_seat *seat; /* seat.c */

	/* vm.c */
	struct tessera_config config;
	struct wl_list vms; /* tessera_vm.link */
	char *vmd_path; /* default daemon program */
	struct wl_event_source *sigchld_source;

	int cascade; /* placement counter for new windows */
};

struct tessera_view {
	struct wl_list link;
	struct tessera_server *server;
	struct wlr_xdg_surface *xdg_surface;
	struct tessera_vm *vm; /* NULL for host clients */
	struct wlr_scene_node *tree;         /* whole window: frame + content */
	struct wlr_scene_node *content;      /* wlr_scene_xdg_surface node */
	struct tessera_foreign_toplevel *foreign; /* while mapped, if it could be made */

	/* Server-side frame (decoration.c): VM windows always, host windows
	 * on request. */
	bool decorated;
	struct tessera_frame frame;
	struct tessera_label *label;
	struct wlr_box frame_box; /* what the frame surrounds, relative to the geometry origin */
	struct tessera_xdg_decoration *xdg_decoration; /* the client's, if it made one */
	/* A title change is rendered once the client's requests of this
	 * dispatch are handled: a client sending many set_title requests at
	 * once gets one label rendering, not one each. */
	struct wl_event_source *title_idle;
	int x, y; /* layout position of the tree */
	bool mapped;

	struct wl_listener map;
	struct wl_listener unmap;
	struct wl_listener destroy;
	struct wl_listener commit;
	struct wl_listener request_move;
	struct wl_listener request_resize;
	struct wl_listener request_maximize;
	struct wl_listener request_fullscreen;
	struct wl_listener set_title;
	struct wl_listener set_app_id;
	struct wl_listener new_popup;
};

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

/* view.c */
void tessera_view_handle_new_xdg_surface(struct wl_listener *listener, void *data);
void tessera_view_focus(struct tessera_view *view);
struct tessera_view *tessera_view_at(struct tessera_server *server,
	double lx, double ly, struct wlr_surface **surface, double *sx, double *sy);
/* Surface-local box of the window content (xdg geometry). */
void tessera_view_get_geometry(struct tessera_view *view, struct wlr_box *box);
void tessera_view_move(struct tessera_view *view, int x, int y);
const char *tessera_view_owner_name(struct tessera_view *view);

#endif
