/*
 * Frame callbacks and presentation feedback (PROTOCOL.md §7.3): the
 * FRAME_DONE and PRESENTED events of a surface's commits. See frame.h.
 */
#include <stdlib.h>

#include "clock.h"
#include "context.h"
#include "frame.h"
#include "presentation-time-client-protocol.h"
#include "surface.h"

/* Outstanding presentation feedbacks per surface. */
#define VMD_MAX_FEEDBACKS 32

struct vmd_feedback {
	struct wl_list link; /* vmd_surface.feedbacks */
	struct vmd_surface *surface;
	struct wp_presentation_feedback *feedback;
	uint32_t serial;
	uint32_t output;
};

static void frame_handle_done(void *data, struct wl_callback *callback,
		uint32_t time) {
	struct vmd_surface *surface = data;
	wl_callback_destroy(callback);
	surface->frame_callback = NULL;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_FRAME_DONE,
		.frame_done = { .surface = surface->id, .serial = surface->frame_serial,
			.time = time },
	};
	vmd_ctx_emit(surface->ctx, &event);
}

static const struct wl_callback_listener frame_listener = {
	.done = frame_handle_done,
};

static void emit_frame_done_now(struct vmd_surface *surface, uint32_t serial) {
	uint32_t now = (uint32_t)tessera_clock_now_ms(); /* wraps, as wl_callback times do */
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_FRAME_DONE,
		.frame_done = { .surface = surface->id, .serial = serial, .time = now },
	};
	vmd_ctx_emit(surface->ctx, &event);
}

static void emit_discarded(struct vmd_surface *surface, uint32_t serial) {
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_PRESENTED,
		.presented = { .surface = surface->id, .serial = serial,
			.flags = TESSERA_WIRE_PRESENTED_DISCARDED },
	};
	vmd_ctx_emit(surface->ctx, &event);
}

static void feedback_destroy(struct vmd_feedback *feedback) {
	wl_list_remove(&feedback->link);
	feedback->surface->n_feedbacks--;
	wp_presentation_feedback_destroy(feedback->feedback);
	free(feedback);
}

static void feedback_handle_sync_output(void *data,
		struct wp_presentation_feedback *wp_feedback, struct wl_output *wl_output) {
	struct vmd_feedback *feedback = data;
	struct vmd_wayland_output *output = vmd_wayland_output_from_wl_output(
		feedback->surface->ctx->session->wayland, wl_output);
	feedback->output = output != NULL ? output->id : 0;
}

static void feedback_handle_presented(void *data,
		struct wp_presentation_feedback *wp_feedback, uint32_t tv_sec_hi,
		uint32_t tv_sec_lo, uint32_t tv_nsec, uint32_t refresh, uint32_t seq_hi,
		uint32_t seq_lo, uint32_t flags) {
	struct vmd_feedback *feedback = data;
	struct vmd_surface *surface = feedback->surface;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_PRESENTED,
		.presented = {
			.surface = surface->id,
			.serial = feedback->serial,
			.tv_sec = (uint64_t)tv_sec_hi << 32 | tv_sec_lo,
			.tv_nsec = tv_nsec < 1000000000u ? tv_nsec : 999999999u,
			.refresh_ns = refresh,
			.seq = (uint64_t)seq_hi << 32 | seq_lo,
			.flags = flags & TESSERA_WIRE_PRESENTED_KIND_MASK,
			.output = feedback->output,
		},
	};
	feedback_destroy(feedback);
	vmd_ctx_emit(surface->ctx, &event);
}

static void feedback_handle_discarded(void *data,
		struct wp_presentation_feedback *wp_feedback) {
	struct vmd_feedback *feedback = data;
	struct vmd_surface *surface = feedback->surface;
	uint32_t serial = feedback->serial;
	feedback_destroy(feedback);
	emit_discarded(surface, serial);
}

static const struct wp_presentation_feedback_listener feedback_listener = {
	.sync_output = feedback_handle_sync_output,
	.presented = feedback_handle_presented,
	.discarded = feedback_handle_discarded,
};

void vmd_frame_request(struct vmd_surface *surface, uint32_t serial) {
	surface->frame_serial = serial;
	if (surface->frame_callback == NULL) {
		surface->frame_callback = wl_surface_frame(surface->wl_surface);
		wl_callback_add_listener(surface->frame_callback, &frame_listener, surface);
	}
}

void vmd_frame_request_feedback(struct vmd_surface *surface, uint32_t serial) {
	struct vmd_wayland *wayland = surface->ctx->session->wayland;
	struct vmd_feedback *feedback = NULL;
	if (wayland->presentation != NULL && surface->n_feedbacks < VMD_MAX_FEEDBACKS) {
		feedback = calloc(1, sizeof(*feedback));
	}
	if (feedback == NULL) {
		emit_discarded(surface, serial);
		return;
	}
	feedback->surface = surface;
	feedback->serial = serial;
	feedback->feedback = wp_presentation_feedback(wayland->presentation,
		surface->wl_surface);
	wp_presentation_feedback_add_listener(feedback->feedback, &feedback_listener,
		feedback);
	wl_list_insert(surface->feedbacks.prev, &feedback->link);
	surface->n_feedbacks++;
}

void vmd_frame_complete_now(struct vmd_surface *surface,
		const struct tessera_wire_commit *commit) {
	if (commit->flags & TESSERA_WIRE_COMMIT_FRAME) {
		emit_frame_done_now(surface, commit->serial);
	}
	if (commit->flags & TESSERA_WIRE_COMMIT_PRESENTATION) {
		emit_discarded(surface, commit->serial);
	}
}

void vmd_frame_finish(struct vmd_surface *surface) {
	if (surface->frame_callback != NULL) {
		wl_callback_destroy(surface->frame_callback);
		surface->frame_callback = NULL;
	}
	struct vmd_feedback *feedback, *tmp;
	wl_list_for_each_safe(feedback, tmp, &surface->feedbacks, link) {
		feedback_destroy(feedback);
	}
}
