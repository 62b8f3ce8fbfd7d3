#ifndef TESSERA_DECORATION_H
#define TESSERA_DECORATION_H

#include <stdbool.h>
#include <wlr/util/box.h>

struct tessera_server;
struct tessera_view;
struct tessera_xdg_decoration;
struct wlr_scene_node;
struct wlr_scene_rect;

/*
 * The server-side frame: a border in the VM's colour around everything a
 * VM window draws, and a title bar with the "[NAME] title" label that the
 * compositor renders itself. A VM window always has it, whatever the
 * client negotiates over xdg-decoration; a host window has it when it
 * asks for server-side decorations (in a neutral grey).
 */

/* Decoration geometry of a labelled (server-side decorated) window. */
#define TESSERA_BORDER_WIDTH 4
#define TESSERA_TITLE_HEIGHT 22
/* Longest client title shown (bytes, before the [NAME] prefix). */
#define TESSERA_TITLE_MAX 256
/* Popups of VM windows get a frame this wide. */
#define TESSERA_POPUP_BORDER_WIDTH 2

/* Four rects around a box: the frame of a window or a popup. */
struct tessera_frame {
	struct wlr_scene_rect *rects[4]; /* top, bottom, left, right; NULL if none */
};

/* Creates the rects below the parent's other children; on failure, none. */
bool tessera_frame_init(struct tessera_frame *frame, struct wlr_scene_node *parent,
	const float color[static 4]);
void tessera_frame_finish(struct tessera_frame *frame);
/*
 * Lays the frame around a width x height box: 'border' wide at the sides
 * and bottom, 'top' high above, with the frame's top left corner at
 * (x, y) of the parent. Does nothing for a frame without rects.
 */
void tessera_frame_update(struct tessera_frame *frame, int x, int y,
	int width, int height, int border, int top);

/* A popup of a VM window gets a thin frame in the VM colour, a host window's none. */
void tessera_popup_frame_init(struct tessera_frame *frame, struct wlr_scene_node *popup_tree,
	struct tessera_view *view);
/* Around the popup's geometry after a commit. */
void tessera_popup_frame_update(struct tessera_frame *frame, const struct wlr_box *geometry);

/* Frames a view or takes its frame away; a VM window stays framed. */
void tessera_view_set_decorated(struct tessera_view *view, bool decorated);
/*
 * Lays out frame and content at the view's position after a commit, a
 * move or a decoration change: the frame goes around everything the
 * client draws (subsurfaces included), so no pixel escapes it.
 */
void tessera_view_update_frame(struct tessera_view *view);
/*
 * A client's string as tessera shows it (titles; the control socket shows
 * app ids so too): valid UTF-8, no control or bidi characters, at most
 * TESSERA_TITLE_MAX bytes. NULL reads as "". Free with free(); NULL only
 * when out of memory.
 */
char *tessera_title_clean(const char *raw);
/* Renders the cleaned title into the label and hands it to foreign toplevels. */
void tessera_view_update_title(struct tessera_view *view);
/* The layout box the view covers, frame included. */
struct wlr_box tessera_view_outer_box(struct tessera_view *view);
/* Drops the label and the xdg-decoration of a view going away. */
void tessera_view_finish_decoration(struct tessera_view *view);

/* The xdg-decoration manager: server side for VM windows, as asked for host windows. */
bool tessera_xdg_decoration_init(struct tessera_server *server);
void tessera_xdg_decoration_finish(struct tessera_server *server);

#endif
