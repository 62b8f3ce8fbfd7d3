/*
 * Where a new window goes: the free spot nearest the top left of the
 * first output (left to right) that has one, else a cascade; a transient
 * window (a dialog) centred over its parent.
 *
 * A spot is free when the window's frame (its outer box) stays clear of
 * every other mapped window's by PLACEMENT_GAP pixels, lies within the
 * output, and PLACEMENT_MARGIN pixels from its top and left edges. If any
 * free spot exists, one has its left side at the margin or PLACEMENT_GAP
 * right of another window, and its top side at the margin or PLACEMENT_GAP
 * below another window (push a free window up and left until it touches
 * something: it stays free). So the candidates are those, and the one
 * found is the highest, then leftmost: a complete search, in
 * O(windows^3) per output. A free spot lies on one output: with several,
 * the layout's bounding box has parts that no output shows, and a window
 * across two outputs of different scales is sharp on neither.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/util/box.h>

#include "decoration.h"
#include "log.h"
#include "output.h"
#include "placement.h"
#include "server.h"
#include "view.h"

#define PLACEMENT_MARGIN 16 /* from the output's top and left edges */
#define PLACEMENT_GAP 8 /* between windows */
#define CASCADE_STEP 48
#define CASCADE_STEPS 8

/* The output area new windows go to (1280x800 while there is no output). */
static struct wlr_box placement_area(struct tessera_server *server) {
	struct wlr_box *out = wlr_output_layout_get_box(server->output_layout, NULL);
	struct wlr_box area = { 0, 0, 1280, 800 };
	if (out != NULL && out->width > 0) {
		area = *out;
	}
	return area;
}

static bool boxes_overlap(const struct wlr_box *a, const struct wlr_box *b) {
	return a->x < b->x + b->width && b->x < a->x + a->width &&
		a->y < b->y + b->height && b->y < a->y + a->height;
}

/* The outer boxes of the other mapped windows; their count in *count. */
static struct wlr_box *other_boxes(struct tessera_view *view, size_t *count) {
	size_t n = 0;
	struct tessera_view *other;
	wl_list_for_each(other, &view->server->views, link) {
		n += other != view && other->mapped;
	}
	*count = 0;
	struct wlr_box *boxes = calloc(n > 0 ? n : 1, sizeof(*boxes));
	if (boxes == NULL) {
		return NULL;
	}
	wl_list_for_each(other, &view->server->views, link) {
		if (other != view && other->mapped && *count < n) {
			boxes[(*count)++] = tessera_view_outer_box(other);
		}
	}
	return boxes;
}

/* The window's frame at (x, y) is within the area and clear of the others. */
static bool spot_is_free(const struct wlr_box *area, const struct wlr_box *boxes,
		size_t count, int x, int y, int width, int height) {
	if (x < area->x + PLACEMENT_MARGIN || y < area->y + PLACEMENT_MARGIN ||
			x + width > area->x + area->width ||
			y + height > area->y + area->height) {
		return false;
	}
	const struct wlr_box spot = {
		x - PLACEMENT_GAP, y - PLACEMENT_GAP,
		width + 2 * PLACEMENT_GAP, height + 2 * PLACEMENT_GAP,
	};
	for (size_t i = 0; i < count; i++) {
		if (boxes_overlap(&spot, &boxes[i])) {
			return false;
		}
	}
	return true;
}

/*
 * The top left corner of the highest, then leftmost free spot of a
 * width x height frame; false if there is none.
 */
static bool find_free_spot(const struct wlr_box *area, const struct wlr_box *boxes,
		size_t count, int width, int height, int *spot_x, int *spot_y) {
	bool found = false;
	/* candidate i: the margin (i == count) or below / right of boxes[i] */
	for (size_t i = 0; i <= count; i++) {
		int y = i == count ? area->y + PLACEMENT_MARGIN :
			boxes[i].y + boxes[i].height + PLACEMENT_GAP;
		if (found && y > *spot_y) {
			continue;
		}
		for (size_t j = 0; j <= count; j++) {
			int x = j == count ? area->x + PLACEMENT_MARGIN :
				boxes[j].x + boxes[j].width + PLACEMENT_GAP;
			if (found && (y == *spot_y && x >= *spot_x)) {
				continue;
			}
			if (spot_is_free(area, boxes, count, x, y, width, height)) {
				*spot_x = x;
				*spot_y = y;
				found = true;
			}
		}
	}
	return found;
}

/* Another window's frame has its top left corner there. */
static bool corner_taken(const struct wlr_box *boxes, size_t count, int x, int y) {
	for (size_t i = 0; i < count; i++) {
		if (boxes[i].x == x && boxes[i].y == y) {
			return true;
		}
	}
	return false;
}

/*
 * No free spot: the next step of a diagonal cascade from the top left,
 * skipping corners other windows have (so that every title bar shows),
 * kept within the area where the window fits.
 */
static void cascade_spot(struct tessera_server *server, const struct wlr_box *area,
		const struct wlr_box *boxes, size_t count, int width, int height,
		int *spot_x, int *spot_y) {
	for (int tries = 0; tries < CASCADE_STEPS; tries++) {
		int step = server->cascade++ % CASCADE_STEPS;
		int x = area->x + PLACEMENT_MARGIN + step * CASCADE_STEP;
		int y = area->y + PLACEMENT_MARGIN + step * CASCADE_STEP;
		/* pulled back in when it would stick out (not past the margin) */
		if (x + width > area->x + area->width) {
			x = area->x + area->width - width;
		}
		if (y + height > area->y + area->height) {
			y = area->y + area->height - height;
		}
		if (x < area->x + PLACEMENT_MARGIN) {
			x = area->x + PLACEMENT_MARGIN;
		}
		if (y < area->y + PLACEMENT_MARGIN) {
			y = area->y + PLACEMENT_MARGIN;
		}
		*spot_x = x;
		*spot_y = y;
		if (!corner_taken(boxes, count, x, y)) {
			return;
		}
	}
}

/* Within [low, high - size], or low when it does not fit. */
static int clamp_into(int pos, int size, int low, int high) {
	if (pos + size > high) {
		pos = high - size;
	}
	return pos < low ? low : pos;
}

/*
 * A transient window (a dialog) goes over its parent, its frame centred
 * on the parent's, kept within the area with its title bar in view.
 */
static void place_over_parent(struct tessera_view *view, struct tessera_view *parent,
		const struct wlr_box *area, const struct wlr_box *size) {
	struct wlr_box over = tessera_view_outer_box(parent);
	int x = over.x + (over.width - size->width) / 2;
	int y = over.y + (over.height - size->height) / 2;
	x = clamp_into(x, size->width, area->x, area->x + area->width);
	y = clamp_into(y, size->height, area->y, area->y + area->height);
	tessera_log(TESSERA_DEBUG, "placing %s window at %d,%d (%dx%d), over its parent",
		tessera_view_owner_name(view), x, y, size->width, size->height);
	tessera_view_move(view, x - size->x, y - size->y);
}

void tessera_place_new_view(struct tessera_view *view) {
	struct tessera_server *server = view->server;
	struct wlr_box area = placement_area(server);
	tessera_view_move(view, 0, 0);
	struct wlr_box size = tessera_view_outer_box(view);
	struct tessera_view *parent = tessera_view_parent(view);
	if (parent != NULL) {
		place_over_parent(view, parent, &area, &size);
		return;
	}
	int off_x = -size.x, off_y = -size.y; /* from frame corner to view->x/y */
	size_t count;
	struct wlr_box *boxes = other_boxes(view, &count);
	int x = area.x + PLACEMENT_MARGIN, y = area.y + PLACEMENT_MARGIN;
	bool found = false;
	struct tessera_output *output;
	wl_list_for_each_reverse(output, &server->outputs, link) { /* oldest first */
		struct wlr_box *out = wlr_output_layout_get_box(server->output_layout,
			output->wlr_output);
		if (!found && boxes != NULL && out != NULL && out->width > 0 &&
				find_free_spot(out, boxes, count, size.width, size.height, &x, &y)) {
			found = true;
		}
	}
	if (wl_list_empty(&server->outputs) && boxes != NULL) {
		found = find_free_spot(&area, boxes, count, size.width, size.height, &x, &y);
	}
	if (found) {
		tessera_log(TESSERA_DEBUG, "placing %s window at %d,%d (%dx%d)",
			tessera_view_owner_name(view), x, y, size.width, size.height);
	} else if (boxes != NULL) {
		cascade_spot(server, &area, boxes, count, size.width, size.height, &x, &y);
		tessera_log(TESSERA_DEBUG, "no free spot for a %dx%d %s window: "
			"cascaded at %d,%d", size.width, size.height,
			tessera_view_owner_name(view), x, y);
	}
	free(boxes);
	tessera_view_move(view, x + off_x, y + off_y);
}

void tessera_place_lost_views(struct tessera_server *server) {
	if (wl_list_empty(&server->outputs)) {
		return; /* nowhere to go: placed when an output comes */
	}
	struct tessera_view *view;
	wl_list_for_each_reverse(view, &server->views, link) { /* parents first */
		if (!view->mapped) {
			continue;
		}
		struct wlr_box frame = tessera_view_outer_box(view);
		bool shown = false;
		struct tessera_output *output;
		wl_list_for_each(output, &server->outputs, link) {
			struct wlr_box *out = wlr_output_layout_get_box(server->output_layout,
				output->wlr_output);
			shown = shown || (out != NULL && boxes_overlap(&frame, out));
		}
		if (!shown) {
			tessera_log(TESSERA_INFO, "a %s window was on no output: placing it again",
				tessera_view_owner_name(view));
			tessera_place_new_view(view);
		}
	}
}
