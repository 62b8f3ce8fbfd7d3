/*
 * Host outputs (OUTPUT / OUTPUT_REMOVE) as headless wlr_outputs with a
 * wl_output global each, so that guest clients see the host's size, scale,
 * refresh rate and transform. The agent never renders into them.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <wlr/backend/headless.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_surface.h>

#include "agent.h"
#include "log.h"

struct agent_output *agent_output_by_id(struct agent_server *server, uint32_t id) {
	struct agent_output *out;
	wl_list_for_each(out, &server->outputs, link) {
		if (out->host_id == id) {
			return out;
		}
	}
	return NULL;
}

void agent_output_handle(struct agent_server *server, const struct tessera_wire_output *ev) {
	struct agent_output *out = agent_output_by_id(server, ev->output);
	bool created = false;
	if (out == NULL) {
		if (wl_list_length(&server->outputs) >= AGENT_MAX_OUTPUTS) {
			tessera_log(TESSERA_ERROR, "host output %" PRIu32 ": more than %d outputs, ignored",
				ev->output, AGENT_MAX_OUTPUTS);
			return;
		}
		out = calloc(1, sizeof(*out));
		if (out == NULL) {
			return;
		}
		out->output = wlr_headless_add_output(server->backend, ev->width, ev->height);
		if (out->output == NULL) {
			tessera_log(TESSERA_ERROR, "cannot create an output for host output %" PRIu32,
				ev->output);
			free(out);
			return;
		}
		out->host_id = ev->output;
		wl_list_insert(server->outputs.prev, &out->link);
		char desc[64];
		snprintf(desc, sizeof(desc), "tessera host output %" PRIu32, ev->output);
		wlr_output_set_description(out->output, desc);
		wlr_output_create_global(out->output);
		created = true;
	}
	struct wlr_output *o = out->output;
	o->phys_width = ev->physical_width_mm;
	o->phys_height = ev->physical_height_mm;
	wlr_output_enable(o, true);
	wlr_output_set_custom_mode(o, ev->width, ev->height, (int32_t)ev->refresh_mhz);
	wlr_output_set_scale(o, (float)ev->scale);
	wlr_output_set_transform(o, (enum wl_output_transform)ev->transform);
	if (!wlr_output_commit(o)) {
		tessera_log(TESSERA_ERROR, "cannot apply host output %" PRIu32 " (%" PRIi32 "x%" PRIi32 ")",
			ev->output, ev->width, ev->height);
	}
	wlr_output_layout_add(server->layout, o, ev->x, ev->y);
	tessera_log(TESSERA_INFO, "%s host output %" PRIu32 ": %" PRIi32 "x%" PRIi32 " at %" PRIi32
		",%" PRIi32 " scale %" PRIi32 " refresh %" PRIu32 " mHz", created ? "new" : "changed",
		ev->output, ev->width, ev->height, ev->x, ev->y, ev->scale, ev->refresh_mhz);
}

void agent_output_remove(struct agent_server *server, uint32_t id) {
	struct agent_output *out = agent_output_by_id(server, id);
	if (out == NULL) {
		return;
	}
	/* the windows on it are told (wlroots only forgets it) */
	struct agent_surface *as;
	wl_list_for_each(as, &server->surfaces, link) {
		if (as->surface != NULL) {
			wlr_surface_send_leave(as->surface, out->output);
		}
	}
	wl_list_remove(&out->link);
	wlr_output_layout_remove(server->layout, out->output);
	wlr_output_destroy(out->output);
	free(out);
}

void agent_outputs_finish(struct agent_server *server) {
	struct agent_output *out, *tmp;
	wl_list_for_each_safe(out, tmp, &server->outputs, link) {
		wl_list_remove(&out->link);
		free(out); /* the backend destroys the outputs */
	}
}
