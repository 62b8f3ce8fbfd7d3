#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdio.h>
#include <wlr/backend.h>
#include <wlr/backend/headless.h>
#include <wlr/backend/wayland.h>
#include <wlr/interfaces/wlr_output.h>
#include <wlr/render/allocator.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>

#include "log.h"
#include "output.h"
#include "placement.h"
#include "render.h"
#include "server.h"

/*
 * Unpaced: the frame just drawn is done. The headless backend would hold
 * the next frame until its timer; it is due now instead. With nothing new
 * to draw, nothing is committed and the output waits for damage, which
 * schedules a frame at once (wlr_output_schedule_frame()).
 */
static void output_handle_unpaced_idle(void *data) {
	struct tessera_output *output = data;
	output->unpaced_idle = NULL;
	wlr_output_send_frame(output->wlr_output);
}

static void output_handle_frame(struct wl_listener *listener, void *data) {
	struct tessera_output *output = wl_container_of(listener, output, frame);
	struct wlr_scene_output *scene_output =
		wlr_scene_get_scene_output(output->server->scene, output->wlr_output);
	if (scene_output == NULL) {
		return;
	}
	uint32_t seq = output->wlr_output->commit_seq;
	bool committed = tessera_render_scene_output(scene_output) &&
		output->wlr_output->commit_seq != seq;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (committed && wlr_output_is_headless(output->wlr_output)) {
		/* wlroots 0.15's headless backend never reports a frame as
		 * presented, so presentation feedback (wp_presentation, and a
		 * VM's PRESENTED) would never complete: a headless frame is
		 * shown once its commit succeeded. */
		int refresh = output->wlr_output->refresh;
		struct wlr_output_event_present present = {
			.output = output->wlr_output,
			.commit_seq = output->wlr_output->commit_seq,
			.presented = true,
			.when = &now,
			.refresh = refresh > 0 ? (int)(1000000000000LL / refresh) : 0,
		};
		wlr_output_send_present(output->wlr_output, &present);
	}
	wlr_scene_output_send_frame_done(scene_output, &now);
	if (committed && output->unpaced && output->unpaced_idle == NULL) {
		output->unpaced_idle = wl_event_loop_add_idle(output->server->event_loop,
			output_handle_unpaced_idle, output);
	}
}

static void output_handle_destroy(struct wl_listener *listener, void *data) {
	struct tessera_output *output = wl_container_of(listener, output, destroy);
	if (output->unpaced_idle != NULL) {
		wl_event_source_remove(output->unpaced_idle);
	}
	wl_list_remove(&output->frame.link);
	wl_list_remove(&output->destroy.link);
	wl_list_remove(&output->link);
	/* out of the layout now (the layout's own listener may come later),
	 * so that its windows find a place on the remaining outputs */
	struct tessera_server *server = output->server;
	wlr_output_layout_remove(server->output_layout, output->wlr_output);
	free(output);
	tessera_place_lost_views(server);
}

static void log_output(struct wlr_output *wlr_output, struct wlr_output_layout *layout) {
	struct wlr_box *box = wlr_output_layout_get_box(layout, wlr_output);
	tessera_log(TESSERA_INFO, "output %s: %dx%d scale %g at %d,%d", wlr_output->name,
		wlr_output->width, wlr_output->height, (double)wlr_output->scale,
		box != NULL ? box->x : 0, box != NULL ? box->y : 0);
}

void tessera_output_handle_new(struct wl_listener *listener, void *data) {
	struct tessera_server *server = wl_container_of(listener, server, new_output);
	struct wlr_output *wlr_output = data;

	if (!wlr_output_init_render(wlr_output, server->allocator, server->renderer)) {
		tessera_log(TESSERA_ERROR, "cannot render to output %s", wlr_output->name);
		return;
	}
	if (!wl_list_empty(&wlr_output->modes)) {
		struct wlr_output_mode *mode = wlr_output_preferred_mode(wlr_output);
		wlr_output_set_mode(wlr_output, mode);
	}
	if (server->output_scale > 1) {
		wlr_output_set_scale(wlr_output, (float)server->output_scale);
	}
	wlr_output_enable(wlr_output, true);
	if (!wlr_output_commit(wlr_output)) {
		tessera_log(TESSERA_ERROR, "cannot enable output %s", wlr_output->name);
		return;
	}

	struct tessera_output *output = calloc(1, sizeof(*output));
	if (output == NULL) {
		return;
	}
	output->server = server;
	output->wlr_output = wlr_output;
	output->frame.notify = output_handle_frame;
	wl_signal_add(&wlr_output->events.frame, &output->frame);
	output->destroy.notify = output_handle_destroy;
	wl_signal_add(&wlr_output->events.destroy, &output->destroy);
	wl_list_insert(&server->outputs, &output->link);

	if (wlr_output_is_wl(wlr_output)) {
		/* Nested: name our window in the parent compositor. */
		char title[64];
		snprintf(title, sizeof(title), "tessera - %s", wlr_output->name);
		wlr_wl_output_set_title(wlr_output, title);
	}
	/* left to right, in the order the outputs came */
	wlr_output_layout_add_auto(server->output_layout, wlr_output);
	log_output(wlr_output, server->output_layout);
}

bool tessera_output_set_scale(struct tessera_server *server, struct wlr_output *wlr_output,
		int scale) {
	wlr_output_set_scale(wlr_output, (float)scale);
	if (!wlr_output_commit(wlr_output)) {
		tessera_log(TESSERA_ERROR, "cannot set the scale of output %s to %d",
			wlr_output->name, scale);
		return false;
	}
	log_output(wlr_output, server->output_layout);
	return true;
}

bool tessera_output_pace_headless(struct tessera_server *server,
		struct wlr_output *wlr_output, int32_t refresh_mhz) {
	struct tessera_output *output, *found = NULL;
	wl_list_for_each(output, &server->outputs, link) {
		if (output->wlr_output == wlr_output) {
			found = output;
		}
	}
	if (found == NULL || !wlr_output_is_headless(wlr_output)) {
		tessera_log(TESSERA_ERROR, "cannot pace output %s: not an enabled headless output",
			wlr_output->name);
		return false;
	}
	/* Unpaced, the backend's timer only keeps the output alive (1 Hz):
	 * the frames come from output_handle_unpaced_idle(). */
	wlr_output_set_custom_mode(wlr_output, wlr_output->width, wlr_output->height,
		refresh_mhz > 0 ? refresh_mhz : 1000);
	if (!wlr_output_commit(wlr_output)) {
		tessera_log(TESSERA_ERROR, "cannot set the refresh rate of output %s",
			wlr_output->name);
		return false;
	}
	found->unpaced = refresh_mhz == 0;
	if (found->unpaced) {
		/* what clients see: refresh 0, i.e. not paced (wl_output,
		 * presentation feedback) */
		wlr_output_update_custom_mode(wlr_output, wlr_output->width, wlr_output->height, 0);
	}
	if (found->unpaced) {
		tessera_log(TESSERA_INFO, "output %s: unpaced", wlr_output->name);
	} else {
		tessera_log(TESSERA_INFO, "output %s: refresh %d.%03d Hz", wlr_output->name,
			refresh_mhz / 1000, refresh_mhz % 1000);
	}
	return true;
}

bool tessera_output_parse_size(const char *arg, int *width, int *height) {
	char *end;
	errno = 0;
	long w = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != 'x') {
		return false;
	}
	const char *h_str = end + 1;
	long h = strtol(h_str, &end, 10);
	if (errno != 0 || end == h_str || *end != '\0') {
		return false;
	}
	if (w < 1 || h < 1 || w > TESSERA_OUTPUT_MAX_SIZE || h > TESSERA_OUTPUT_MAX_SIZE) {
		return false;
	}
	*width = (int)w;
	*height = (int)h;
	return true;
}

bool tessera_output_parse_scale(const char *arg, int *scale) {
	char *end;
	errno = 0;
	long value = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] < '0' || arg[0] > '9' ||
			value < 1 || value > TESSERA_OUTPUT_MAX_SCALE) {
		return false;
	}
	*scale = (int)value;
	return true;
}

bool tessera_output_parse_mode(const char *arg, struct tessera_output_mode *mode) {
	char buf[64];
	size_t len = strlen(arg);
	if (len == 0 || len >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, arg, len + 1);
	mode->scale = 0;
	char *colon = strchr(buf, ':');
	if (colon != NULL) {
		*colon = '\0';
		if (!tessera_output_parse_scale(colon + 1, &mode->scale)) {
			return false;
		}
	}
	return tessera_output_parse_size(buf, &mode->width, &mode->height);
}

struct wlr_output *tessera_output_add_headless(struct tessera_server *server,
		const struct tessera_output_mode *mode) {
	if (!wlr_backend_is_headless(server->backend)) {
		tessera_log(TESSERA_ERROR, "cannot add an output: only the headless backend "
			"makes outputs on demand");
		return NULL;
	}
	/* announced at once (the backend runs): tessera_output_handle_new() */
	struct wlr_output *wlr_output = wlr_headless_add_output(server->backend,
		(unsigned int)mode->width, (unsigned int)mode->height);
	if (wlr_output == NULL) {
		tessera_log(TESSERA_ERROR, "cannot add a %dx%d headless output", mode->width,
			mode->height);
		return NULL;
	}
	if (mode->scale != 0 && mode->scale != server->output_scale &&
			!tessera_output_set_scale(server, wlr_output, mode->scale)) {
		wlr_output_destroy(wlr_output);
		return NULL;
	}
	return wlr_output;
}

struct tessera_output *tessera_output_find(struct tessera_server *server, const char *name) {
	struct tessera_output *output;
	wl_list_for_each(output, &server->outputs, link) {
		if (strcmp(output->wlr_output->name, name) == 0) {
			return output;
		}
	}
	return NULL;
}
