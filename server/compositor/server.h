#ifndef TESSERA_SERVER_H
#define TESSERA_SERVER_H

#include <stdint.h>
#include <wayland-server-core.h>

#include "config.h"

/*
 * The compositor as a whole: the wlroots objects every module works with,
 * the window lists and the VMs. Each concern has its own module and
 * header: view.h (windows), xdg-shell.h, decoration.h (frames, titles,
 * xdg-decoration), placement.h, foreign-toplevel.h, seat.h (input),
 * output.h, vm.h, ipc.h (the control socket).
 */
struct tessera_server {
	struct wl_display *wl_display;
	struct wl_event_loop *event_loop;
	struct wlr_backend *backend;
	struct wlr_renderer *renderer;
	struct wlr_allocator *allocator;
	struct wlr_scene *scene;
	struct wlr_output_layout *output_layout;
	struct wl_list outputs; /* tessera_output.link */
	int output_scale; /* of every new output (tessera --scale) */
	struct wl_listener new_output;

	struct wlr_xdg_shell *xdg_shell;
	struct wl_listener new_xdg_surface;
	struct wl_list views; /* tessera_view.link, mapped views front to back */
	uint64_t next_view_id; /* the id of the last view created */
	int cascade; /* placement.c: where a window goes when no spot is free */

	struct wlr_xdg_decoration_manager_v1 *decoration_manager;
	struct wl_listener new_decoration;
	struct wlr_foreign_toplevel_manager_v1 *foreign_toplevel_manager;

	struct tessera_seat *seat;

	/* vm.c */
	struct tessera_config config;
	struct wl_list vms; /* tessera_vm.link */
	char *vmd_path; /* default daemon program */
	struct wl_event_source *sigchld_source;

	struct tessera_ipc *ipc; /* ipc.c: tesseractl's socket; NULL without */
	struct tessera_shares *shares; /* share.c: window sharing */
	struct tessera_clipboard *clipboard; /* clipboard.c; NULL if it failed */
};

/* 0xRRGGBB to the float RGBA that scene rects take. */
static inline void tessera_rgb_to_float(uint32_t rgb, float out[static 4]) {
	out[0] = ((rgb >> 16) & 0xff) / 255.0f;
	out[1] = ((rgb >> 8) & 0xff) / 255.0f;
	out[2] = (rgb & 0xff) / 255.0f;
	out[3] = 1.0f;
}

#endif
