/*
 * Guest surfaces and their roles, mirrored on the host.
 *
 * Every wl_surface gets an agent_surface. It is created on the host
 * (SURFACE_CREATE + role message) once it has a role the host knows:
 * xdg toplevel, xdg popup, subsurface, or cursor. Its state is kept here so
 * that a new session can re-create it (host.c calls session_lost and
 * session_start).
 *
 * Configure handshake: wlroots sends the guest client its own configures
 * (the first one is automatic); the host's CONFIGURE / POPUP_CONFIGURE are
 * applied to the guest as new configures, and a guest ack of such a
 * configure is forwarded as an ACK_CONFIGURE of the host serial. A buffer
 * commit before the host's first configure was acked is held until it
 * arrives (the host rejects buffers before an ack).
 *
 * Frame callbacks are moved out of wlroots at every commit into a batch
 * tagged with the commit serial and completed when the host's FRAME_DONE
 * for that serial (or a later one) arrives. Presentation feedback is taken
 * at flush time (wlroots moves it to the surface's current state after our
 * commit listener ran) and answered from the host's PRESENTED.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-server-protocol.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/edges.h>

#include "agent.h"
#include "log.h"

static void forward_commit(struct agent_surface *as);
static void subsurface_attach(struct agent_surface *child, struct wlr_subsurface *sub);

static bool serial_after(uint32_t a, uint32_t b) {
	return (int32_t)(a - b) > 0;
}

struct agent_surface *agent_surface_from_wlr(struct wlr_surface *surface) {
	return surface != NULL ? surface->data : NULL;
}

struct agent_surface *agent_surface_by_id(struct agent_server *server, uint32_t id) {
	if (id == 0) {
		return NULL;
	}
	struct agent_surface *as;
	wl_list_for_each(as, &server->surfaces, link) {
		if (as->id == id) {
			return as;
		}
	}
	return NULL;
}

static int32_t clamp_i32(int64_t v, int64_t lo, int64_t hi) {
	return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

static void send_string(struct agent_surface *as, uint16_t type, const char *text) {
	if (text == NULL || as->id == 0 || !as->role_sent) {
		return;
	}
	size_t max = type == TESSERA_WIRE_SET_TITLE ? TESSERA_WIRE_MAX_TITLE_LENGTH :
		TESSERA_WIRE_MAX_APP_ID_LENGTH;
	struct tessera_wire_msg msg = { .type = type };
	msg.string.surface = as->id;
	msg.string.length = (uint32_t)tessera_wire_sanitize_string(msg.string.text, max, text);
	agent_host_send(&as->server->host, &msg);
}

static void send_parent(struct agent_surface *as) {
	if (as->role != AGENT_ROLE_TOPLEVEL || !as->role_sent) {
		return;
	}
	struct wlr_xdg_surface *parent = as->xdg->toplevel->parent;
	struct agent_surface *pas = parent != NULL ? agent_surface_from_wlr(parent->surface) : NULL;
	if (pas != NULL && !agent_surface_ensure_host(pas)) {
		pas = NULL;
	}
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_TOPLEVEL_SET_PARENT,
		.set_parent = { .surface = as->id,
			.parent = pas != NULL && pas->role == AGENT_ROLE_TOPLEVEL ? pas->id : 0 },
	};
	agent_host_send(&as->server->host, &msg);
}

static void send_decoration(struct agent_surface *as) {
	if (as->role != AGENT_ROLE_TOPLEVEL || !as->role_sent || as->decoration_requested == 0) {
		return;
	}
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_TOPLEVEL_SET_DECORATION,
		.decoration = { .surface = as->id, .mode = as->decoration_requested },
	};
	agent_host_send(&as->server->host, &msg);
}

static bool send_role(struct agent_surface *as) {
	struct agent_host *host = &as->server->host;
	struct tessera_wire_msg msg = {0};
	switch (as->role) {
	case AGENT_ROLE_NONE:
	case AGENT_ROLE_CURSOR: /* the role comes with SET_CURSOR */
		return true;
	case AGENT_ROLE_TOPLEVEL:
		msg.type = TESSERA_WIRE_TOPLEVEL_CREATE;
		msg.toplevel_create.surface = as->id;
		if (!agent_host_send(host, &msg)) {
			return false;
		}
		as->role_sent = true;
		send_string(as, TESSERA_WIRE_SET_TITLE, as->xdg->toplevel->title);
		send_string(as, TESSERA_WIRE_SET_APP_ID, as->xdg->toplevel->app_id);
		if (as->xdg->toplevel->parent != NULL) {
			send_parent(as);
		}
		send_decoration(as);
		return true;
	case AGENT_ROLE_POPUP: {
		struct wlr_xdg_popup *popup = as->xdg->popup;
		struct agent_surface *parent = agent_surface_from_wlr(popup->parent);
		if (parent == NULL || (parent->role != AGENT_ROLE_TOPLEVEL &&
				parent->role != AGENT_ROLE_POPUP) || !agent_surface_ensure_host(parent)) {
			tessera_log(TESSERA_INFO, "popup without an xdg parent: not forwarded");
			return false;
		}
		const struct wlr_xdg_positioner *p = &popup->positioner;
		const int32_t c = TESSERA_WIRE_MAX_COORD, d = TESSERA_WIRE_MAX_DIMENSION;
		msg.type = TESSERA_WIRE_POPUP_CREATE;
		msg.popup_create.surface = as->id;
		msg.popup_create.parent = parent->id;
		msg.popup_create.positioner = (struct tessera_wire_positioner){
			.width = clamp_i32(p->size.width, 1, d),
			.height = clamp_i32(p->size.height, 1, d),
			.anchor_x = clamp_i32(p->anchor_rect.x, -c, c),
			.anchor_y = clamp_i32(p->anchor_rect.y, -c, c),
			.anchor_width = clamp_i32(p->anchor_rect.width, 0, d),
			.anchor_height = clamp_i32(p->anchor_rect.height, 0, d),
			.anchor = (uint32_t)p->anchor <= 8 ? (uint32_t)p->anchor : 0,
			.gravity = (uint32_t)p->gravity <= 8 ? (uint32_t)p->gravity : 0,
			.constraint_adjustment = (uint32_t)p->constraint_adjustment & 0x3f,
			.offset_x = clamp_i32(p->offset.x, -c, c),
			.offset_y = clamp_i32(p->offset.y, -c, c),
		};
		if (!agent_host_send(host, &msg)) {
			return false;
		}
		as->role_sent = true;
		return true;
	}
	case AGENT_ROLE_SUBSURFACE: {
		struct agent_surface *parent = agent_surface_from_wlr(as->subsurface->parent);
		if (parent == NULL || parent->role == AGENT_ROLE_NONE ||
				!agent_surface_ensure_host(parent)) {
			return false;
		}
		msg.type = TESSERA_WIRE_SUBSURFACE_CREATE;
		msg.subsurface_create.surface = as->id;
		msg.subsurface_create.parent = parent->id;
		if (!agent_host_send(host, &msg)) {
			return false;
		}
		/* wlroots applies synchronized state itself: the host sees
		 * every commit when it takes effect */
		struct tessera_wire_msg sync = {
			.type = TESSERA_WIRE_SUBSURFACE_SET_SYNC,
			.subsurface_sync = { .surface = as->id, .sync = 0 },
		};
		agent_host_send(host, &sync);
		as->role_sent = true;
		as->sub_sent = false;
		return true;
	}
	}
	return false;
}

bool agent_surface_ensure_host(struct agent_surface *as) {
	struct agent_host *host = &as->server->host;
	if (!agent_host_ready(host)) {
		return false;
	}
	if (as->id == 0) {
		struct tessera_wire_msg msg = { .type = TESSERA_WIRE_SURFACE_CREATE };
		msg.surface.surface = agent_host_new_surface_id(host);
		if (!agent_host_send(host, &msg)) {
			return false;
		}
		as->id = msg.surface.surface;
		as->role_sent = false;
	}
	if (!as->role_sent && as->role != AGENT_ROLE_NONE && as->role != AGENT_ROLE_CURSOR) {
		return send_role(as);
	}
	return true;
}

/* Forgets the host side of the surface (its role ended, or it is gone). */
static void surface_drop_host(struct agent_surface *as) {
	if (as->id != 0) {
		struct tessera_wire_msg msg = { .type = TESSERA_WIRE_SURFACE_DESTROY };
		msg.surface.surface = as->id;
		agent_host_send(&as->server->host, &msg);
	}
	as->id = 0;
	as->role_sent = false;
	as->host_acked = false;
	as->host_configure_pending = false;
	as->commit_held = false;
	as->mapped_on_host = false;
	as->sub_sent = false;
	as->grab_sent = false;
	as->order_sent = 0;
	as->geometry_sent = (struct wlr_box){0};
	as->min_w = as->min_h = as->max_w = as->max_h = -1;
}

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

static void send_xdg_state(struct agent_surface *as) {
	struct agent_host *host = &as->server->host;
	struct wlr_xdg_surface *xdg = as->xdg;
	struct wlr_box geo = xdg->current.geometry;
	if (geo.width > 0 && geo.height > 0 && memcmp(&geo, &as->geometry_sent, sizeof(geo)) != 0) {
		const int32_t c = TESSERA_WIRE_MAX_COORD, d = TESSERA_WIRE_MAX_DIMENSION;
		struct tessera_wire_msg msg = {
			.type = TESSERA_WIRE_SET_WINDOW_GEOMETRY,
			.window_geometry = { .surface = as->id,
				.x = clamp_i32(geo.x, -c, c), .y = clamp_i32(geo.y, -c, c),
				.width = clamp_i32(geo.width, 1, d), .height = clamp_i32(geo.height, 1, d) },
		};
		if (agent_host_send(host, &msg)) {
			as->geometry_sent = geo;
		}
	}
	if (as->role != AGENT_ROLE_TOPLEVEL) {
		return;
	}
	const struct wlr_xdg_toplevel_state *st = &xdg->toplevel->current;
	const int64_t d = TESSERA_WIRE_MAX_DIMENSION;
	int32_t min_w = clamp_i32(st->min_width, 0, d), min_h = clamp_i32(st->min_height, 0, d);
	int32_t max_w = clamp_i32(st->max_width, 0, d), max_h = clamp_i32(st->max_height, 0, d);
	if (max_w != 0 && max_w < min_w) {
		max_w = min_w;
	}
	if (max_h != 0 && max_h < min_h) {
		max_h = min_h;
	}
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
					.x = clamp_i32(sub->current.x, -c, c),
					.y = clamp_i32(sub->current.y, -c, c) },
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

static bool is_xdg(const struct agent_surface *as) {
	return as->role == AGENT_ROLE_TOPLEVEL || as->role == AGENT_ROLE_POPUP;
}

static void send_ack(struct agent_surface *as, uint32_t host_serial) {
	if (as->host_acked && !serial_after(host_serial, as->host_acked_serial)) {
		return; /* acked already (acking a serial acks the older ones) */
	}
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_ACK_CONFIGURE,
		.surface_serial = { .surface = as->id, .serial = host_serial },
	};
	if (agent_host_send(&as->server->host, &msg)) {
		as->host_acked = true;
		as->host_acked_serial = host_serial;
		if (as->host_configure_pending && host_serial == as->host_configure_serial) {
			as->host_configure_pending = false;
		}
	}
}

/* Sends the surface's current state as one COMMIT. */
static void forward_commit(struct agent_surface *as) {
	struct wlr_surface *s = as->surface;
	struct agent_host *host = &as->server->host;
	if (!agent_surface_ensure_host(as)) {
		return;
	}
	bool has_buffer = s->buffer != NULL;
	if (is_xdg(as)) {
		if (has_buffer && !as->host_acked) {
			if (!as->host_configure_pending) {
				as->commit_held = true; /* until the host's CONFIGURE */
				return;
			}
			send_ack(as, as->host_configure_serial);
		}
		send_xdg_state(as);
		if (as->role == AGENT_ROLE_POPUP && !as->grab_sent &&
				as->xdg->popup->seat != NULL) {
			/* xdg_popup.grab (wlroots 0.15 has no event for it: the
			 * popup's seat is set): the host dismisses the popup when
			 * the user clicks elsewhere */
			struct tessera_wire_msg grab = {
				.type = TESSERA_WIRE_POPUP_GRAB,
				.surface_serial = { .surface = as->id,
					.serial = as->server->host.last_input_serial },
			};
			as->grab_sent = agent_host_send(host, &grab);
		}
	}
	as->commit_held = false;
	if (s->current.committed & WLR_SURFACE_STATE_INPUT_REGION) {
		send_region(as, TESSERA_WIRE_SET_INPUT_REGION, &s->current.input);
	}
	if (s->current.committed & WLR_SURFACE_STATE_OPAQUE_REGION) {
		send_region(as, TESSERA_WIRE_SET_OPAQUE_REGION, &s->current.opaque);
	}
	send_child_positions(as);
	send_child_order(as);

	struct tessera_wire_msg *msg = calloc(1, sizeof(*msg));
	if (msg == NULL) {
		return;
	}
	msg->type = TESSERA_WIRE_COMMIT;
	struct tessera_wire_commit *c = &msg->commit;
	c->surface = as->id;
	c->serial = as->commit_serial;
	c->flags = TESSERA_WIRE_COMMIT_PRESENTATION;
	if (!wl_list_empty(&as->frames)) {
		c->flags |= TESSERA_WIRE_COMMIT_FRAME;
	}
	const int32_t cmax = TESSERA_WIRE_MAX_COORD;
	c->dx = clamp_i32(s->current.dx, -cmax, cmax);
	c->dy = clamp_i32(s->current.dy, -cmax, cmax);
	c->scale = clamp_i32(s->current.scale, 1, TESSERA_WIRE_MAX_SCALE);
	c->transform = (uint32_t)s->current.transform <= 7 ? (uint32_t)s->current.transform : 0;

	struct agent_wire_buffer *wire = NULL;
	struct wlr_buffer *source = NULL;
	if (has_buffer) {
		source = s->buffer->source;
		bool full = !as->mapped_on_host;
		bool changed = (s->current.committed & WLR_SURFACE_STATE_BUFFER) ||
			as->shown == NULL || !as->mapped_on_host;
		if (changed && source != NULL) {
			wire = agent_buffer_prepare(as, source, &s->buffer_damage, &full);
		} else {
			wire = as->shown;
		}
		if (wire == NULL) {
			/* nothing new could be shown (allocation failed or the
			 * buffer is gone): keep the frame, complete the callbacks */
			wire = as->shown;
		}
		if (wire == NULL) {
			free(msg);
			return;
		}
		if (wire != as->shown || changed) {
			int n = 0;
			const pixman_box32_t *boxes = pixman_region32_rectangles(
				&s->buffer_damage, &n);
			if (full || wire->flattened || n > TESSERA_WIRE_MAX_DAMAGE_RECTS) {
				c->flags |= TESSERA_WIRE_COMMIT_DAMAGE_ALL;
			} else {
				for (int i = 0; i < n; i++) {
					int32_t x = clamp_i32(boxes[i].x1, 0, wire->width);
					int32_t y = clamp_i32(boxes[i].y1, 0, wire->height);
					int32_t x2 = clamp_i32(boxes[i].x2, 0, wire->width);
					int32_t y2 = clamp_i32(boxes[i].y2, 0, wire->height);
					if (x2 > x && y2 > y) {
						c->damage[c->damage_count++] =
							(struct tessera_wire_rect){ x, y, x2 - x, y2 - y };
					}
				}
			}
		}
		if (wire->flattened) {
			/* scale, transform and viewport are applied in the copy */
			c->scale = 1;
			c->transform = 0;
		}
		c->buffer = wire->id;
	}
	if (agent_host_send(host, msg)) {
		host->server->stats.commits++;
		if (wire != NULL) {
			agent_buffer_mark_busy(as, wire, source);
			as->mapped_on_host = true;
		} else {
			/* Unmapped: mapped again later, after a new CONFIGURE. A
			 * commit without a buffer before the first map (a client
			 * acking its first configure) unmaps nothing: the host
			 * sends no new CONFIGURE, and the ack stands. */
			if (is_xdg(as) && as->mapped_on_host) {
				as->host_acked = false;
			}
			as->mapped_on_host = false;
		}
	}
	free(msg);
}

static void handle_commit(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, commit);
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
	if (as->role == AGENT_ROLE_NONE && wlr_surface_is_subsurface(s)) {
		struct wlr_subsurface *sub = wlr_subsurface_from_wlr_surface(s);
		if (sub != NULL) {
			subsurface_attach(as, sub);
		}
	}
	if (as->role == AGENT_ROLE_NONE && wlr_surface_is_xdg_surface(s)) {
		/* the xdg role, if new_surface came before the role existed */
		struct wlr_xdg_surface *xdg = wlr_xdg_surface_from_wlr_surface(s);
		if (xdg != NULL && xdg->role != WLR_XDG_SURFACE_ROLE_NONE) {
			agent_surface_handle_new_xdg(as->server, xdg);
		}
	}
	if (as->role == AGENT_ROLE_NONE) {
		return;
	}
	forward_commit(as);
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
		if (serial_after(batch->serial, ev->serial)) {
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
		if (serial_after(f->serial, ev->serial)) {
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

void agent_surface_handle_output(struct agent_server *server,
		const struct tessera_wire_surface_output *ev, bool enter) {
	struct agent_surface *as = agent_surface_by_id(server, ev->surface);
	struct agent_output *out = agent_output_by_id(server, ev->output);
	if (as == NULL || out == NULL) {
		return;
	}
	if (enter) {
		wlr_surface_send_enter(as->surface, out->output);
	} else {
		wlr_surface_send_leave(as->surface, out->output);
	}
}

/* ---- configure, close ---- */

static void map_serial(struct agent_surface *as, uint32_t guest, uint32_t host_serial) {
	as->serial_map[as->serial_map_next].guest = guest;
	as->serial_map[as->serial_map_next].host = host_serial;
	as->serial_map_next = (as->serial_map_next + 1) % AGENT_SERIAL_MAP;
}

static void host_configured(struct agent_surface *as, uint32_t guest_serial,
		uint32_t host_serial) {
	map_serial(as, guest_serial, host_serial);
	as->host_configure_pending = true;
	as->host_configure_serial = host_serial;
	if (as->commit_held) {
		/* the client committed a buffer before the host's configure:
		 * show it now under this configure */
		forward_commit(as);
	}
}

void agent_surface_handle_configure(struct agent_server *server,
		const struct tessera_wire_configure *ev) {
	struct agent_surface *as = agent_surface_by_id(server, ev->surface);
	if (as == NULL || as->role != AGENT_ROLE_TOPLEVEL) {
		return;
	}
	struct wlr_xdg_surface *xdg = as->xdg;
	uint32_t st = ev->states;
	wlr_xdg_toplevel_set_size(xdg, (uint32_t)ev->width, (uint32_t)ev->height);
	wlr_xdg_toplevel_set_activated(xdg, st & TESSERA_WIRE_CONFIGURE_ACTIVATED);
	wlr_xdg_toplevel_set_maximized(xdg, st & TESSERA_WIRE_CONFIGURE_MAXIMIZED);
	wlr_xdg_toplevel_set_fullscreen(xdg, st & TESSERA_WIRE_CONFIGURE_FULLSCREEN);
	wlr_xdg_toplevel_set_resizing(xdg, st & TESSERA_WIRE_CONFIGURE_RESIZING);
	uint32_t edges = 0;
	if (st & TESSERA_WIRE_CONFIGURE_TILED_LEFT) {
		edges |= WLR_EDGE_LEFT;
	}
	if (st & TESSERA_WIRE_CONFIGURE_TILED_RIGHT) {
		edges |= WLR_EDGE_RIGHT;
	}
	if (st & TESSERA_WIRE_CONFIGURE_TILED_TOP) {
		edges |= WLR_EDGE_TOP;
	}
	if (st & TESSERA_WIRE_CONFIGURE_TILED_BOTTOM) {
		edges |= WLR_EDGE_BOTTOM;
	}
	if (as->decoration != NULL && ev->decoration != 0) {
		wlr_xdg_toplevel_decoration_v1_set_mode(as->decoration,
			ev->decoration == TESSERA_WIRE_DECORATION_SERVER_SIDE ?
			WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE :
			WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_CLIENT_SIDE);
	}
	uint32_t guest = wlr_xdg_toplevel_set_tiled(xdg, edges);
	host_configured(as, guest, ev->serial);
}

void agent_surface_handle_popup_configure(struct agent_server *server,
		const struct tessera_wire_popup_configure *ev) {
	struct agent_surface *as = agent_surface_by_id(server, ev->surface);
	if (as == NULL || as->role != AGENT_ROLE_POPUP) {
		return;
	}
	as->xdg->popup->geometry = (struct wlr_box){ ev->x, ev->y, ev->width, ev->height };
	uint32_t guest = wlr_xdg_surface_schedule_configure(as->xdg);
	host_configured(as, guest, ev->serial);
}

void agent_surface_handle_close(struct agent_server *server, uint32_t id) {
	struct agent_surface *as = agent_surface_by_id(server, id);
	if (as != NULL && as->role == AGENT_ROLE_TOPLEVEL) {
		wlr_xdg_toplevel_send_close(as->xdg);
	}
}

void agent_surface_handle_popup_done(struct agent_server *server, uint32_t id) {
	struct agent_surface *as = agent_surface_by_id(server, id);
	if (as != NULL && as->role == AGENT_ROLE_POPUP) {
		wlr_xdg_popup_destroy(as->xdg);
	}
}

static void handle_ack_configure(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, ack_configure);
	struct wlr_xdg_surface_configure *configure = data;
	for (size_t i = 0; i < AGENT_SERIAL_MAP; i++) {
		if (as->serial_map[i].guest == configure->serial && as->serial_map[i].host != 0) {
			uint32_t host_serial = as->serial_map[i].host;
			as->serial_map[i].host = 0;
			if (as->id != 0 && as->role_sent) {
				send_ack(as, host_serial);
			}
			return;
		}
	}
}

/* ---- xdg requests ---- */

static void handle_set_title(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, set_title);
	send_string(as, TESSERA_WIRE_SET_TITLE, as->xdg->toplevel->title);
}

static void handle_set_app_id(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, set_app_id);
	send_string(as, TESSERA_WIRE_SET_APP_ID, as->xdg->toplevel->app_id);
}

static void handle_set_parent(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, set_parent);
	send_parent(as);
}

static void send_request(struct agent_surface *as, uint32_t action) {
	if (as->id == 0 || !as->role_sent) {
		return;
	}
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_TOPLEVEL_REQUEST,
		.toplevel_request = { .surface = as->id, .action = action },
	};
	agent_host_send(&as->server->host, &msg);
}

static void handle_request_maximize(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, request_maximize);
	send_request(as, as->xdg->toplevel->requested.maximized ?
		TESSERA_WIRE_TOPLEVEL_SET_MAXIMIZED : TESSERA_WIRE_TOPLEVEL_UNSET_MAXIMIZED);
}

static void handle_request_fullscreen(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, request_fullscreen);
	send_request(as, as->xdg->toplevel->requested.fullscreen ?
		TESSERA_WIRE_TOPLEVEL_SET_FULLSCREEN : TESSERA_WIRE_TOPLEVEL_UNSET_FULLSCREEN);
}

static void handle_request_minimize(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, request_minimize);
	send_request(as, TESSERA_WIRE_TOPLEVEL_SET_MINIMIZED);
}

static void handle_request_move(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, request_move);
	struct wlr_xdg_toplevel_move_event *ev = data;
	if (as->id == 0 || !as->role_sent) {
		return;
	}
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_TOPLEVEL_MOVE,
		.surface_serial = { .surface = as->id,
			.serial = agent_seat_host_serial(as->server, ev->serial) },
	};
	agent_host_send(&as->server->host, &msg);
}

static void handle_request_resize(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, request_resize);
	struct wlr_xdg_toplevel_resize_event *ev = data;
	if (as->id == 0 || !as->role_sent) {
		return;
	}
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_TOPLEVEL_RESIZE,
		.resize = { .surface = as->id,
			.serial = agent_seat_host_serial(as->server, ev->serial),
			.edges = ev->edges },
	};
	agent_host_send(&as->server->host, &msg);
}

/* ---- lifetimes ---- */

static void role_listeners_remove(struct agent_surface *as) {
	if (as->xdg != NULL) {
		wl_list_remove(&as->xdg_destroy.link);
		wl_list_remove(&as->ack_configure.link);
		if (as->role == AGENT_ROLE_TOPLEVEL) {
			wl_list_remove(&as->set_title.link);
			wl_list_remove(&as->set_app_id.link);
			wl_list_remove(&as->set_parent.link);
			wl_list_remove(&as->request_move.link);
			wl_list_remove(&as->request_resize.link);
			wl_list_remove(&as->request_maximize.link);
			wl_list_remove(&as->request_fullscreen.link);
			wl_list_remove(&as->request_minimize.link);
		}
		as->xdg = NULL;
	}
	if (as->subsurface != NULL) {
		wl_list_remove(&as->subsurface_destroy.link);
		as->subsurface = NULL;
	}
}

static void role_ended(struct agent_surface *as) {
	role_listeners_remove(as);
	surface_drop_host(as);
	as->role = AGENT_ROLE_NONE;
	if (as->server->cursor == as) {
		as->server->cursor = NULL;
	}
}

static void handle_xdg_destroy(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, xdg_destroy);
	role_ended(as);
}

static void handle_subsurface_destroy(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, subsurface_destroy);
	role_ended(as);
}

static void subsurface_attach(struct agent_surface *child, struct wlr_subsurface *sub) {
	if (child->role != AGENT_ROLE_NONE) {
		return;
	}
	child->role = AGENT_ROLE_SUBSURFACE;
	child->subsurface = sub;
	child->subsurface_destroy.notify = handle_subsurface_destroy;
	wl_signal_add(&sub->events.destroy, &child->subsurface_destroy);
}

/* wlroots 0.15 announces a subsurface at its parent's next commit, when
 * the child may have committed a buffer already: show it now. */
static void handle_new_subsurface(struct wl_listener *listener, void *data) {
	struct wlr_subsurface *sub = data;
	struct agent_surface *child = agent_surface_from_wlr(sub->surface);
	if (child == NULL) {
		return;
	}
	subsurface_attach(child, sub);
	if (child->role == AGENT_ROLE_SUBSURFACE && agent_surface_ensure_host(child) &&
			child->surface->buffer != NULL && !child->mapped_on_host) {
		forward_commit(child);
	}
}

void agent_surface_handle_new_xdg(struct agent_server *server, struct wlr_xdg_surface *xdg) {
	struct agent_surface *as = agent_surface_from_wlr(xdg->surface);
	if (as == NULL || as->role != AGENT_ROLE_NONE) {
		return;
	}
	if (xdg->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
		as->role = AGENT_ROLE_TOPLEVEL;
	} else if (xdg->role == WLR_XDG_SURFACE_ROLE_POPUP) {
		as->role = AGENT_ROLE_POPUP;
	} else {
		return; /* no role yet: taken up at its first commit */
	}
	as->xdg = xdg;
	as->xdg_destroy.notify = handle_xdg_destroy;
	wl_signal_add(&xdg->events.destroy, &as->xdg_destroy);
	as->ack_configure.notify = handle_ack_configure;
	wl_signal_add(&xdg->events.ack_configure, &as->ack_configure);
	if (as->role == AGENT_ROLE_TOPLEVEL) {
		struct wlr_xdg_toplevel *t = xdg->toplevel;
		as->set_title.notify = handle_set_title;
		wl_signal_add(&t->events.set_title, &as->set_title);
		as->set_app_id.notify = handle_set_app_id;
		wl_signal_add(&t->events.set_app_id, &as->set_app_id);
		as->set_parent.notify = handle_set_parent;
		wl_signal_add(&t->events.set_parent, &as->set_parent);
		as->request_move.notify = handle_request_move;
		wl_signal_add(&t->events.request_move, &as->request_move);
		as->request_resize.notify = handle_request_resize;
		wl_signal_add(&t->events.request_resize, &as->request_resize);
		as->request_maximize.notify = handle_request_maximize;
		wl_signal_add(&t->events.request_maximize, &as->request_maximize);
		as->request_fullscreen.notify = handle_request_fullscreen;
		wl_signal_add(&t->events.request_fullscreen, &as->request_fullscreen);
		as->request_minimize.notify = handle_request_minimize;
		wl_signal_add(&t->events.request_minimize, &as->request_minimize);
	}
	agent_surface_ensure_host(as);
}

static void handle_decoration_request_mode(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, decoration_request_mode);
	enum wlr_xdg_toplevel_decoration_v1_mode mode = as->decoration->requested_mode;
	/* no preference: the host's trusted frame is there anyway, so ask
	 * for server side (the client then draws no second title bar) */
	as->decoration_requested = mode == WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_CLIENT_SIDE ?
		TESSERA_WIRE_DECORATION_CLIENT_SIDE : TESSERA_WIRE_DECORATION_SERVER_SIDE;
	send_decoration(as);
}

static void decoration_detach(struct agent_surface *as) {
	if (as->decoration != NULL) {
		wl_list_remove(&as->decoration_destroy.link);
		wl_list_remove(&as->decoration_request_mode.link);
		as->decoration = NULL;
	}
}

static void handle_decoration_destroy(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, decoration_destroy);
	decoration_detach(as);
}

void agent_surface_handle_new_decoration(struct agent_server *server,
		struct wlr_xdg_toplevel_decoration_v1 *decoration) {
	struct agent_surface *as = agent_surface_from_wlr(decoration->surface->surface);
	if (as == NULL || as->decoration != NULL) {
		return;
	}
	as->decoration = decoration;
	as->decoration_destroy.notify = handle_decoration_destroy;
	wl_signal_add(&decoration->events.destroy, &as->decoration_destroy);
	as->decoration_request_mode.notify = handle_decoration_request_mode;
	wl_signal_add(&decoration->events.request_mode, &as->decoration_request_mode);
	handle_decoration_request_mode(&as->decoration_request_mode, decoration);
}

void agent_surface_set_cursor(struct agent_server *server, struct agent_surface *as,
		int32_t hotspot_x, int32_t hotspot_y) {
	if (as != NULL && as->role != AGENT_ROLE_NONE && as->role != AGENT_ROLE_CURSOR) {
		return; /* wlroots already refused it; be safe */
	}
	server->cursor = as;
	server->cursor_hotspot_x = hotspot_x;
	server->cursor_hotspot_y = hotspot_y;
	if (as != NULL) {
		as->role = AGENT_ROLE_CURSOR;
		if (!agent_surface_ensure_host(as)) {
			return;
		}
		if (as->surface->buffer != NULL) {
			forward_commit(as);
		}
	}
	if (!agent_host_ready(&server->host)) {
		return;
	}
	const int32_t c = TESSERA_WIRE_MAX_COORD;
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_SET_CURSOR,
		.set_cursor = { .surface = as != NULL ? as->id : 0,
			.serial = server->host.pointer_enter_serial,
			.hotspot_x = clamp_i32(hotspot_x, -c, c),
			.hotspot_y = clamp_i32(hotspot_y, -c, c) },
	};
	agent_host_send(&server->host, &msg);
}

static void handle_destroy(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, destroy);
	struct agent_server *server = as->server;
	role_ended(as);
	decoration_detach(as);
	agent_buffer_surface_finish(as);
	struct agent_frame_batch *batch, *btmp;
	wl_list_for_each_safe(batch, btmp, &as->frames, link) {
		frame_batch_destroy(batch, false, 0);
	}
	struct agent_feedback *f, *ftmp;
	wl_list_for_each_safe(f, ftmp, &as->feedbacks, link) {
		feedback_destroy(f);
	}
	wl_list_remove(&as->commit.link);
	wl_list_remove(&as->destroy.link);
	wl_list_remove(&as->new_subsurface.link);
	wl_list_remove(&as->link);
	server->surface_count--;
	as->surface->data = NULL;
	free(as);
}

void agent_surface_create(struct agent_server *server, struct wlr_surface *surface) {
	if (server->surface_count >= AGENT_MAX_SURFACES) {
		tessera_log(TESSERA_ERROR, "more than %d surfaces: refusing a new one",
			AGENT_MAX_SURFACES);
		wl_resource_post_no_memory(surface->resource);
		return;
	}
	struct agent_surface *as = calloc(1, sizeof(*as));
	if (as == NULL) {
		wl_resource_post_no_memory(surface->resource);
		return;
	}
	as->server = server;
	as->surface = surface;
	as->min_w = as->min_h = as->max_w = as->max_h = -1;
	wl_list_init(&as->frames);
	wl_list_init(&as->feedbacks);
	for (size_t i = 0; i < AGENT_POOL_SIZE; i++) {
		pixman_region32_init(&as->pool[i].stale);
	}
	as->commit.notify = handle_commit;
	wl_signal_add(&surface->events.commit, &as->commit);
	as->destroy.notify = handle_destroy;
	wl_signal_add(&surface->events.destroy, &as->destroy);
	as->new_subsurface.notify = handle_new_subsurface;
	wl_signal_add(&surface->events.new_subsurface, &as->new_subsurface);
	surface->data = as;
	wl_list_insert(server->surfaces.prev, &as->link);
	server->surface_count++;
}

/* ---- sessions ---- */

void agent_surfaces_session_lost(struct agent_server *server) {
	struct agent_surface *as;
	wl_list_for_each(as, &server->surfaces, link) {
		as->id = 0;
		as->role_sent = false;
		as->host_acked = false;
		as->host_configure_pending = false;
		as->mapped_on_host = false;
		as->sub_sent = false;
		as->grab_sent = false;
		as->order_sent = 0;
		as->geometry_sent = (struct wlr_box){0};
		as->min_w = as->min_h = as->max_w = as->max_h = -1;
		as->shown = NULL;
		memset(as->serial_map, 0, sizeof(as->serial_map));
		/* a buffer shown now is shown again after the reconnection */
		as->commit_held = is_xdg(as) && as->surface->buffer != NULL;
	}
}

void agent_surfaces_session_start(struct agent_server *server) {
	struct agent_surface *as;
	wl_list_for_each(as, &server->surfaces, link) {
		if (as->role == AGENT_ROLE_NONE || as->role == AGENT_ROLE_CURSOR) {
			continue;
		}
		if (!agent_surface_ensure_host(as)) {
			continue;
		}
		if (is_xdg(as)) {
			/* initial commit without a buffer: the host configures,
			 * then the held buffer follows (host_configured) */
			bool held = as->surface->buffer != NULL;
			struct tessera_wire_msg msg = {
				.type = TESSERA_WIRE_COMMIT,
				.commit = { .surface = as->id, .serial = as->commit_serial, .scale = 1 },
			};
			agent_host_send(&server->host, &msg);
			send_xdg_state(as);
			as->commit_held = held;
		} else if (as->surface->buffer != NULL) {
			forward_commit(as);
		}
	}
	if (server->cursor != NULL) {
		agent_surface_set_cursor(server, server->cursor, server->cursor_hotspot_x,
			server->cursor_hotspot_y);
	}
}
