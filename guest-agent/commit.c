/*
 * What one commit of a guest surface sends the host, and what comes back
 * for it.
 *
 * At each wl_surface commit (agent_commit_begin, then agent_commit_forward
 * once the surface has a role) the surface's state goes out in wire order:
 * the xdg state (window geometry, size limits, popup grab), input and
 * opaque regions, subsurface positions and stacking, then one COMMIT
 * naming the wire buffer that shows the client's buffer (buffer.c) with
 * its damage. An xdg buffer commit before the host's first configure was
 * acked is held (surface.c sends it again from the host's CONFIGURE).
 *
 * Frame callbacks are moved out of wlroots at every commit into a batch
 * tagged with the commit serial and completed when the host's FRAME_DONE
 * for that serial (or a later one) arrives. Presentation feedback is taken
 * at flush time (wlroots moves it to the surface's current state after our
 * commit listener ran) and answered from the host's PRESENTED.
 */
#include <stdlib.h>
#include <string.h>
#include <wayland-server-protocol.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "agent.h"

/* ---- regions and pre-commit state ---- */

static void send_region(struct agent_surface *as, uint16_t type,
		const pixman_region32_t *region) {
	struct tessera_wire_msg *msg = calloc(1, sizeof(*msg));
	if (msg == NULL) {
		return;
	}
	msg->type = type;
	msg->region.surface = as->id;
	const pixman_box32_t *ext = pixman_region32_extents((pixman_region32_t *)region);
	const int64_t c = TESSERA_WIRE_MAX_COORD;
	if (ext->x1 <= -c || ext->y1 <= -c || ext->x2 >= c || ext->y2 >= c) {
		msg->region.flags = TESSERA_WIRE_REGION_INFINITE;
	} else {
		int n = 0;
		const pixman_box32_t *boxes = pixman_region32_rectangles(
			(pixman_region32_t *)region, &n);
		const pixman_box32_t *src = boxes;
		if (n > TESSERA_WIRE_MAX_REGION_RECTS) {
			n = 1;
			src = ext;
		}
		uint32_t count = 0;
		for (int i = 0; i < n; i++) {
			if (src[i].x2 <= src[i].x1 || src[i].y2 <= src[i].y1) {
				continue;
			}
			msg->region.rects[count++] = (struct tessera_wire_rect){
				src[i].x1, src[i].y1, src[i].x2 - src[i].x1, src[i].y2 - src[i].y1 };
		}
		msg->region.rect_count = count;
	}
	agent_host_send(&as->server->host, msg);
	free(msg);
}

/* The toplevel's size limits, clamped to the wire's (0 = none). */
static void toplevel_size_limits(const struct agent_surface *as,
		int32_t *min_w, int32_t *min_h, int32_t *max_w, int32_t *max_h) {
	if (as->xsurface != NULL) {
		agent_xwayland_size_limits(as, min_w, min_h, max_w, max_h);
	} else {
		const struct wlr_xdg_toplevel_state *st = &as->xdg->toplevel->current;
		const int64_t d = TESSERA_WIRE_MAX_DIMENSION;
		*min_w = agent_clamp_i32(st->min_width, 0, d);
		*min_h = agent_clamp_i32(st->min_height, 0, d);
		*max_w = agent_clamp_i32(st->max_width, 0, d);
		*max_h = agent_clamp_i32(st->max_height, 0, d);
	}
	if (*max_w != 0 && *max_w < *min_w) {
		*max_w = *min_w;
	}
	if (*max_h != 0 && *max_h < *min_h) {
		*max_h = *min_h;
	}
}

void agent_commit_send_xdg_state(struct agent_surface *as) {
	struct agent_host *host = &as->server->host;
	/* an X11 window's geometry is its whole surface: nothing to send */
	struct wlr_box geo = as->xdg != NULL ? as->xdg->current.geometry : (struct wlr_box){0};
	if (geo.width > 0 && geo.height > 0 && memcmp(&geo, &as->geometry_sent, sizeof(geo)) != 0) {
		const int32_t c = TESSERA_WIRE_MAX_COORD, d = TESSERA_WIRE_MAX_DIMENSION;
		struct tessera_wire_msg msg = {
			.type = TESSERA_WIRE_SET_WINDOW_GEOMETRY,
			.window_geometry = { .surface = as->id,
				.x = agent_clamp_i32(geo.x, -c, c), .y = agent_clamp_i32(geo.y, -c, c),
				.width = agent_clamp_i32(geo.width, 1, d), .height = agent_clamp_i32(geo.height, 1, d) },
		};
		if (agent_host_send(host, &msg)) {
			as->geometry_sent = geo;
		}
	}
	if (as->role != AGENT_ROLE_TOPLEVEL) {
		return;
	}
	int32_t min_w, min_h, max_w, max_h;
	toplevel_size_limits(as, &min_w, &min_h, &max_w, &max_h);
	if (min_w != as->min_w || min_h != as->min_h || max_w != as->max_w || max_h != as->max_h) {
		struct tessera_wire_msg msg = {
			.type = TESSERA_WIRE_TOPLEVEL_SET_SIZE_LIMITS,
			.size_limits = { .surface = as->id, .min_width = min_w, .min_height = min_h,
				.max_width = max_w, .max_height = max_h },
		};
		if (agent_host_send(host, &msg)) {
			as->min_w = min_w;
			as->min_h = min_h;
			as->max_w = max_w;
			as->max_h = max_h;
		}
	}
}

static void send_place(struct agent_surface *as, struct agent_surface *child,
		uint32_t sibling, bool above) {
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_SUBSURFACE_PLACE,
		.subsurface_place = { .surface = child->id, .sibling = sibling, .above = above },
	};
	agent_host_send(&as->server->host, &msg);
}

/* Subsurface stacking (bottom to top in both wlroots lists), sent again
 * whenever it changed: each child above the previous one, the lower ones
 * below the next. */
static void send_child_order(struct agent_surface *as) {
	uint64_t hash = 1469598103934665603ull;
	struct wlr_subsurface *sub;
	struct wl_list *below = &as->surface->current.subsurfaces_below;
	struct wl_list *above = &as->surface->current.subsurfaces_above;
	wl_list_for_each(sub, below, current.link) {
		hash = (hash ^ (uintptr_t)sub) * 1099511628211ull;
	}
	hash = (hash ^ 0xff) * 1099511628211ull;
	wl_list_for_each(sub, above, current.link) {
		hash = (hash ^ (uintptr_t)sub) * 1099511628211ull;
	}
	if (hash == as->order_sent) {
		return;
	}
	as->order_sent = hash;
	uint32_t prev = as->id;
	wl_list_for_each(sub, above, current.link) {
		struct agent_surface *child = agent_surface_from_wlr(sub->surface);
		if (child != NULL && child->id != 0 && child->role_sent) {
			send_place(as, child, prev, true);
			prev = child->id;
		}
	}
	uint32_t next = as->id;
	wl_list_for_each_reverse(sub, below, current.link) {
		struct agent_surface *child = agent_surface_from_wlr(sub->surface);
		if (child != NULL && child->id != 0 && child->role_sent) {
			send_place(as, child, next, false);
			next = child->id;
		}
	}
}

static void send_child_positions(struct agent_surface *as) {
	struct wlr_subsurface *sub;
	struct wl_list *lists[] = {
		&as->surface->current.subsurfaces_below,
		&as->surface->current.subsurfaces_above,
	};
	for (size_t i = 0; i < 2; i++) {
		wl_list_for_each(sub, lists[i], current.link) {
			struct agent_surface *child = agent_surface_from_wlr(sub->surface);
			if (child == NULL || child->role != AGENT_ROLE_SUBSURFACE ||
					!agent_surface_ensure_host(child)) {
				continue;
			}
			if (child->sub_sent && child->sub_x == sub->current.x &&
					child->sub_y == sub->current.y) {
				continue;
			}
			const int32_t c = TESSERA_WIRE_MAX_COORD;
			struct tessera_wire_msg msg = {
				.type = TESSERA_WIRE_SUBSURFACE_SET_POSITION,
				.subsurface_position = { .surface = child->id,
					.x = agent_clamp_i32(sub->current.x, -c, c),
					.y = agent_clamp_i32(sub->current.y, -c, c) },
			};
			if (agent_host_send(&as->server->host, &msg)) {
				child->sub_x = sub->current.x;
				child->sub_y = sub->current.y;
				child->sub_sent = true;
			}
		}
	}
}

/* ---- commits ---- */

/* The xdg side of a commit: a buffer needs an acked host configure (held
 * until the host's CONFIGURE otherwise), then the window geometry, size
 * limits and popup grab. Returns false when the commit is held. */
static bool commit_xdg(struct agent_surface *as) {
	if (as->surface->buffer != NULL && !as->host_acked) {
		if (!as->host_configure_pending) {
			as->commit_held = true; /* until the host's CONFIGURE */
			return false;
		}
		agent_surface_send_ack(as, as->host_configure_serial);
	}
	agent_commit_send_xdg_state(as);
	if (as->role == AGENT_ROLE_POPUP && as->xdg != NULL && !as->grab_sent &&
			as->xdg->popup->seat != NULL) {
		/* xdg_popup.grab (wlroots 0.15 has no event for it: the
		 * popup's seat is set): the host dismisses the popup when
		 * the user clicks elsewhere */
		struct tessera_wire_msg grab = {
			.type = TESSERA_WIRE_POPUP_GRAB,
			.surface_serial = { .surface = as->id,
				.serial = as->server->host.last_input_serial },
		};
		as->grab_sent = agent_host_send(&as->server->host, &grab);
	}
	return true;
}

/* What comes before the COMMIT itself: the regions it changed and where
 * its subsurfaces are. */
static void commit_send_pending(struct agent_surface *as) {
	struct wlr_surface *s = as->surface;
	if (s->current.committed & WLR_SURFACE_STATE_INPUT_REGION) {
		send_region(as, TESSERA_WIRE_SET_INPUT_REGION, &s->current.input);
	}
	if (s->current.committed & WLR_SURFACE_STATE_OPAQUE_REGION) {
		send_region(as, TESSERA_WIRE_SET_OPAQUE_REGION, &s->current.opaque);
	}
	send_child_positions(as);
	send_child_order(as);
}

/* The COMMIT's fields that do not depend on the buffer, clamped to what
 * the wire allows. */
static void commit_fill(struct agent_surface *as, struct tessera_wire_commit *c) {
	const struct wlr_surface_state *cur = &as->surface->current;
	c->surface = as->id;
	c->serial = as->commit_serial;
	c->flags = TESSERA_WIRE_COMMIT_PRESENTATION;
	if (!wl_list_empty(&as->frames)) {
		c->flags |= TESSERA_WIRE_COMMIT_FRAME;
	}
	const int32_t cmax = TESSERA_WIRE_MAX_COORD;
	c->dx = agent_clamp_i32(cur->dx, -cmax, cmax);
	c->dy = agent_clamp_i32(cur->dy, -cmax, cmax);
	c->scale = agent_clamp_i32(cur->scale, 1, TESSERA_WIRE_MAX_SCALE);
	c->transform = (uint32_t)cur->transform <= 7 ? (uint32_t)cur->transform : 0;
}

/* The buffer damage as COMMIT rectangles clipped to wire, or DAMAGE_ALL
 * (full damage, a flattened copy, too many rectangles). */
static void commit_damage(struct tessera_wire_commit *c, const struct agent_wire_buffer *wire,
		const pixman_region32_t *damage, bool full) {
	int n = 0;
	const pixman_box32_t *boxes = pixman_region32_rectangles(
		(pixman_region32_t *)damage, &n);
	if (full || wire->flattened || n > TESSERA_WIRE_MAX_DAMAGE_RECTS) {
		c->flags |= TESSERA_WIRE_COMMIT_DAMAGE_ALL;
		return;
	}
	for (int i = 0; i < n; i++) {
		int32_t x = agent_clamp_i32(boxes[i].x1, 0, wire->width);
		int32_t y = agent_clamp_i32(boxes[i].y1, 0, wire->height);
		int32_t x2 = agent_clamp_i32(boxes[i].x2, 0, wire->width);
		int32_t y2 = agent_clamp_i32(boxes[i].y2, 0, wire->height);
		if (x2 > x && y2 > y) {
			c->damage[c->damage_count++] =
				(struct tessera_wire_rect){ x, y, x2 - x, y2 - y };
		}
	}
}

/* The wire buffer the COMMIT names for the surface's buffer: the client's
 * new buffer put on the host, else what the host shows already. *source is
 * the client buffer it shows. Returns NULL when there is nothing to show. */
static struct agent_wire_buffer *commit_buffer(struct agent_surface *as,
		struct tessera_wire_commit *c, struct wlr_buffer **source) {
	struct wlr_surface *s = as->surface;
	*source = s->buffer->source;
	bool full = !as->mapped_on_host;
	bool changed = (s->current.committed & WLR_SURFACE_STATE_BUFFER) ||
		as->shown == NULL || !as->mapped_on_host;
	struct agent_wire_buffer *wire;
	if (changed && *source != NULL) {
		wire = agent_buffer_prepare(as, *source, &s->buffer_damage, &full);
	} else {
		wire = as->shown;
	}
	if (wire == NULL) {
		/* nothing new could be shown (allocation failed or the
		 * buffer is gone): keep the frame, complete the callbacks */
		wire = as->shown;
	}
	if (wire == NULL) {
		return NULL;
	}
	if (wire != as->shown || changed) {
		commit_damage(c, wire, &s->buffer_damage, full);
	}
	if (wire->flattened) {
		/* the viewport is applied in the copy, at the buffer scale */
		c->scale = wire->flattened_scale;
		c->transform = 0;
	}
	c->buffer = wire->id;
	return wire;
}

/* After the host took the COMMIT: what the surface shows there now. */
static void commit_sent(struct agent_surface *as, struct agent_wire_buffer *wire,
		struct wlr_buffer *source) {
	as->server->stats.commits++;
	if (wire != NULL) {
		agent_buffer_mark_busy(as, wire, source);
		as->mapped_on_host = true;
	} else {
		/* Unmapped: mapped again later, after a new CONFIGURE. A
		 * commit without a buffer before the first map (a client
		 * acking its first configure) unmaps nothing: the host
		 * sends no new CONFIGURE, and the ack stands. */
		if (agent_surface_is_xdg(as) && as->mapped_on_host) {
			as->host_acked = false;
		}
		as->mapped_on_host = false;
	}
}

void agent_commit_forward(struct agent_surface *as) {
	if (!agent_surface_ensure_host(as)) {
		return;
	}
	if (agent_surface_is_xdg(as) && !commit_xdg(as)) {
		return;
	}
	as->commit_held = false;
	commit_send_pending(as);

	struct tessera_wire_msg *msg = calloc(1, sizeof(*msg));
	if (msg == NULL) {
		return;
	}
	msg->type = TESSERA_WIRE_COMMIT;
	commit_fill(as, &msg->commit);
	struct agent_wire_buffer *wire = NULL;
	struct wlr_buffer *source = NULL;
	if (as->surface->buffer != NULL) {
		wire = commit_buffer(as, &msg->commit, &source);
		if (wire == NULL) {
			free(msg);
			return;
		}
	}
	if (agent_host_send(&as->server->host, msg)) {
		commit_sent(as, wire, source);
	}
	free(msg);
}

void agent_commit_begin(struct agent_surface *as) {
	struct wlr_surface *s = as->surface;
	as->commit_serial++;
	if (!wl_list_empty(&s->current.frame_callback_list)) {
		struct agent_frame_batch *batch = calloc(1, sizeof(*batch));
		if (batch != NULL) {
			batch->serial = as->commit_serial;
			wl_list_init(&batch->callbacks);
			wl_list_insert_list(&batch->callbacks, &s->current.frame_callback_list);
			wl_list_init(&s->current.frame_callback_list);
			wl_list_insert(as->frames.prev, &batch->link);
		}
	}
	as->sample_pending = true;
}

/* ---- frame callbacks and presentation ---- */

static void frame_batch_destroy(struct agent_frame_batch *batch, bool done, uint32_t time) {
	struct wl_resource *resource, *tmp;
	wl_resource_for_each_safe(resource, tmp, &batch->callbacks) {
		if (done) {
			wl_callback_send_done(resource, time);
		}
		wl_resource_destroy(resource); /* unlinks it */
	}
	wl_list_remove(&batch->link);
	free(batch);
}

void agent_surface_handle_frame_done(struct agent_server *server,
		const struct tessera_wire_frame_done *ev) {
	struct agent_surface *as = agent_surface_by_id(server, ev->surface);
	if (as == NULL) {
		return;
	}
	struct agent_frame_batch *batch, *tmp;
	wl_list_for_each_safe(batch, tmp, &as->frames, link) {
		if (agent_serial_after(batch->serial, ev->serial)) {
			break;
		}
		server->stats.frames_done++;
		frame_batch_destroy(batch, true, ev->time);
	}
}

void agent_surfaces_sample(struct agent_server *server) {
	struct agent_surface *as;
	wl_list_for_each(as, &server->surfaces, link) {
		if (!as->sample_pending) {
			continue;
		}
		as->sample_pending = false;
		struct wlr_presentation_feedback *fb =
			wlr_presentation_surface_sampled(server->presentation, as->surface);
		if (fb == NULL) {
			continue;
		}
		struct agent_feedback *f = calloc(1, sizeof(*f));
		if (f == NULL) {
			wlr_presentation_feedback_destroy(fb);
			continue;
		}
		f->serial = as->commit_serial;
		f->feedback = fb;
		wl_list_insert(as->feedbacks.prev, &f->link);
	}
}

static void feedback_destroy(struct agent_feedback *f) {
	wlr_presentation_feedback_destroy(f->feedback); /* discarded if unsent */
	wl_list_remove(&f->link);
	free(f);
}

void agent_surface_handle_presented(struct agent_server *server,
		const struct tessera_wire_presented *ev) {
	struct agent_surface *as = agent_surface_by_id(server, ev->surface);
	if (as == NULL) {
		return;
	}
	struct agent_feedback *f, *tmp;
	wl_list_for_each_safe(f, tmp, &as->feedbacks, link) {
		if (agent_serial_after(f->serial, ev->serial)) {
			break;
		}
		if (f->serial == ev->serial && !(ev->flags & TESSERA_WIRE_PRESENTED_DISCARDED)) {
			struct agent_output *out = agent_output_by_id(server, ev->output);
			struct wlr_presentation_event event = {
				.output = out != NULL ? out->output : NULL,
				.tv_sec = ev->tv_sec,
				.tv_nsec = ev->tv_nsec,
				.refresh = ev->refresh_ns,
				.seq = ev->seq,
				.flags = ev->flags & TESSERA_WIRE_PRESENTED_KIND_MASK,
			};
			wlr_presentation_feedback_send_presented(f->feedback, &event);
			server->stats.presented++;
		}
		feedback_destroy(f);
	}
}


void agent_commit_surface_finish(struct agent_surface *as) {
	struct agent_frame_batch *batch, *btmp;
	wl_list_for_each_safe(batch, btmp, &as->frames, link) {
		frame_batch_destroy(batch, false, 0);
	}
	struct agent_feedback *f, *ftmp;
	wl_list_for_each_safe(f, ftmp, &as->feedbacks, link) {
		feedback_destroy(f);
	}
}
