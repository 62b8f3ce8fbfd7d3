#include <stdbool.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/util/box.h>

#include "decoration.h"
#include "log.h"
#include "placement.h"
#include "server.h"
#include "view.h"

#define PLACEMENT_MARGIN 16 /* free space around a new window */
#define PLACEMENT_GRID 16 /* step of the scan for a free spot */
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

/* No other mapped view covers any of the box. */
static bool spot_is_free(struct tessera_view *view, const struct wlr_box *spot) {
	struct tessera_view *other;
	wl_list_for_each(other, &view->server->views, link) {
		if (other == view || !other->mapped) {
			continue;
		}
		struct wlr_box box = tessera_view_outer_box(other);
		if (boxes_overlap(spot, &box)) {
			return false;
		}
	}
	return true;
}

/*
 * The top left corner of the first free spot of a size x size window
 * within the area, scanning a grid row by row; false if there is none.
 */
static bool find_free_spot(struct tessera_view *view, const struct wlr_box *area,
		const struct wlr_box *size, int *spot_x, int *spot_y) {
	const int margin = PLACEMENT_MARGIN;
	for (int y = area->y + margin; y + size->height <= area->y + area->height;
			y += PLACEMENT_GRID) {
		for (int x = area->x + margin; x + size->width <= area->x + area->width;
				x += PLACEMENT_GRID) {
			struct wlr_box candidate = {
				x - margin / 2, y - margin / 2,
				size->width + margin, size->height + margin,
			};
			if (spot_is_free(view, &candidate)) {
				*spot_x = x;
				*spot_y = y;
				return true;
			}
		}
	}
	return false;
}

void tessera_place_new_view(struct tessera_view *view) {
	struct tessera_server *server = view->server;
	struct wlr_box area = placement_area(server);
	tessera_view_move(view, 0, 0);
	struct wlr_box size = tessera_view_outer_box(view);
	int off_x = -size.x, off_y = -size.y; /* from frame corner to view->x/y */
	int x, y;
	if (find_free_spot(view, &area, &size, &x, &y)) {
		tessera_log(TESSERA_DEBUG, "placing %s window at %d,%d (%dx%d)",
			tessera_view_owner_name(view), x, y, size.width, size.height);
		tessera_view_move(view, x + off_x, y + off_y);
		return;
	}
	int step = server->cascade++ % CASCADE_STEPS;
	tessera_view_move(view, area.x + PLACEMENT_MARGIN + step * CASCADE_STEP + off_x,
		area.y + PLACEMENT_MARGIN + step * CASCADE_STEP + off_y);
}
