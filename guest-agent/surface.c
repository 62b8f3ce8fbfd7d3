/*
 * Guest surfaces and their roles, mirrored on the host.
 *
 * Every wl_surface gets an agent_surface. It is created on the host
 * (SURFACE_CREATE + role message) once it has a role the host knows:
 * xdg toplevel, xdg popup, subsurface, or cursor; X11 windows take the
 * toplevel and popup roles too (xwayland.c). Its state is kept here so
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
 * What each commit sends, and its frame callbacks and presentation
 * feedback, are in commit.c.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-server-protocol.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/edges.h>
#include <wlr/xwayland.h>

#include "agent.h"
#include "log.h"

static void subsurface_attach(struct agent_surface *child, struct wlr_subsurface *sub);

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

void agent_surface_send_string(struct agent_surface *as, uint16_t type, const char *text) {
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

void agent_surface_send_parent(struct agent_surface *as) {
	if (as->role != AGENT_ROLE_TOPLEVEL || !as->role_sent) {
		return;
	}
	struct agent_surface *pas;
	if (as->xsurface != NULL) {
		pas = agent_xwayland_parent(as);
	} else {
		struct wlr_xdg_surface *parent = as->xdg->toplevel->parent;
		pas = parent != NULL ? agent_surface_from_wlr(parent->surface) : NULL;
	}
	if (pas == as) {
		pas = NULL;
	}
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
		if (as->xsurface != NULL) {
			/* X11: _NET_WM_NAME or WM_NAME, the class of WM_CLASS */
			agent_surface_send_string(as, TESSERA_WIRE_SET_TITLE, as->xsurface->title);
			agent_surface_send_string(as, TESSERA_WIRE_SET_APP_ID, as->xsurface->class);
			if (agent_xwayland_parent(as) != NULL) {
				agent_surface_send_parent(as);
			}
			return true;
		}
		agent_surface_send_string(as, TESSERA_WIRE_SET_TITLE, as->xdg->toplevel->title);
		agent_surface_send_string(as, TESSERA_WIRE_SET_APP_ID, as->xdg->toplevel->app_id);
		if (as->xdg->toplevel->parent != NULL) {
			agent_surface_send_parent(as);
		}
		send_decoration(as);
		return true;
	case AGENT_ROLE_POPUP: {
		if (as->xsurface != NULL) {
			struct agent_surface *parent = NULL;
			msg.type = TESSERA_WIRE_POPUP_CREATE;
			msg.popup_create.surface = as->id;
			if (!agent_xwayland_popup_place(as, &parent,
					&msg.popup_create.positioner)) {
				return false;
			}
			msg.popup_create.parent = parent->id;
			if (!agent_host_send(host, &msg)) {
				return false;
			}
			as->role_sent = true;
			return true;
		}
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
			.width = agent_clamp_i32(p->size.width, 1, d),
			.height = agent_clamp_i32(p->size.height, 1, d),
			.anchor_x = agent_clamp_i32(p->anchor_rect.x, -c, c),
			.anchor_y = agent_clamp_i32(p->anchor_rect.y, -c, c),
			.anchor_width = agent_clamp_i32(p->anchor_rect.width, 0, d),
			.anchor_height = agent_clamp_i32(p->anchor_rect.height, 0, d),
			.anchor = (uint32_t)p->anchor <= 8 ? (uint32_t)p->anchor : 0,
			.gravity = (uint32_t)p->gravity <= 8 ? (uint32_t)p->gravity : 0,
			.constraint_adjustment = (uint32_t)p->constraint_adjustment & 0x3f,
			.offset_x = agent_clamp_i32(p->offset.x, -c, c),
			.offset_y = agent_clamp_i32(p->offset.y, -c, c),
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

/* ---- outputs ---- */

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
		agent_commit_forward(as);
	}
}

void agent_surface_handle_configure(struct agent_server *server,
		const struct tessera_wire_configure *ev) {
	struct agent_surface *as = agent_surface_by_id(server, ev->surface);
	if (as == NULL || as->role != AGENT_ROLE_TOPLEVEL) {
		return;
	}
	if (as->xsurface != NULL) {
		/* X11 has no configure handshake: applied and acked at once */
		agent_xwayland_configure(as, ev);
		host_configured(as, 0, ev->serial);
		agent_surface_send_ack(as, ev->serial);
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
	if (as->xsurface != NULL) {
		/* the X client placed it already */
		host_configured(as, 0, ev->serial);
		agent_surface_send_ack(as, ev->serial);
		return;
	}
	as->xdg->popup->geometry = (struct wlr_box){ ev->x, ev->y, ev->width, ev->height };
	uint32_t guest = wlr_xdg_surface_schedule_configure(as->xdg);
	host_configured(as, guest, ev->serial);
}

void agent_surface_handle_close(struct agent_server *server, uint32_t id) {
	struct agent_surface *as = agent_surface_by_id(server, id);
	if (as != NULL && as->role == AGENT_ROLE_TOPLEVEL) {
		if (as->xsurface != NULL) {
			agent_xwayland_close(as);
		} else {
			wlr_xdg_toplevel_send_close(as->xdg);
		}
	}
}

void agent_surface_handle_popup_done(struct agent_server *server, uint32_t id) {
	struct agent_surface *as = agent_surface_by_id(server, id);
	/* an X11 menu is its client's to close */
	if (as != NULL && as->role == AGENT_ROLE_POPUP && as->xdg != NULL) {
		wlr_xdg_popup_destroy(as->xdg);
	}
}

void agent_surface_send_ack(struct agent_surface *as, uint32_t host_serial) {
	if (as->host_acked && !agent_serial_after(host_serial, as->host_acked_serial)) {
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

static void handle_ack_configure(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, ack_configure);
	struct wlr_xdg_surface_configure *configure = data;
	for (size_t i = 0; i < AGENT_SERIAL_MAP; i++) {
		if (as->serial_map[i].guest == configure->serial && as->serial_map[i].host != 0) {
			uint32_t host_serial = as->serial_map[i].host;
			as->serial_map[i].host = 0;
			if (as->id != 0 && as->role_sent) {
				agent_surface_send_ack(as, host_serial);
			}
			return;
		}
	}
}

/* ---- xdg requests ---- */

static void handle_set_title(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, set_title);
	agent_surface_send_string(as, TESSERA_WIRE_SET_TITLE, as->xdg->toplevel->title);
}

static void handle_set_app_id(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, set_app_id);
	agent_surface_send_string(as, TESSERA_WIRE_SET_APP_ID, as->xdg->toplevel->app_id);
}

static void handle_set_parent(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, set_parent);
	agent_surface_send_parent(as);
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

/* The client committed: a new commit serial with its frame callbacks
 * (commit.c), the role if it has just got one, then the commit goes to the
 * host. */
static void handle_commit(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, commit);
	struct wlr_surface *s = as->surface;
	agent_commit_begin(as);
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
	agent_commit_forward(as);
}

static void role_listeners_remove(struct agent_surface *as) {
	if (as->xsurface != NULL) {
		agent_xwayland_detach(as);
		as->xsurface = NULL;
	}
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

void agent_surface_end_role(struct agent_surface *as) {
	role_ended(as);
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
		agent_commit_forward(child);
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
			agent_commit_forward(as);
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
			.hotspot_x = agent_clamp_i32(hotspot_x, -c, c),
			.hotspot_y = agent_clamp_i32(hotspot_y, -c, c) },
	};
	agent_host_send(&server->host, &msg);
}

static void handle_destroy(struct wl_listener *listener, void *data) {
	struct agent_surface *as = wl_container_of(listener, as, destroy);
	struct agent_server *server = as->server;
	role_ended(as);
	decoration_detach(as);
	agent_buffer_surface_finish(as);
	agent_commit_surface_finish(as);
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

void agent_surface_start_window(struct agent_surface *as) {
	if (!agent_surface_ensure_host(as)) {
		return;
	}
	/* initial commit without a buffer: the host configures, then the
	 * held buffer follows (host_configured) */
	bool held = as->surface->buffer != NULL;
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_COMMIT,
		.commit = { .surface = as->id, .serial = as->commit_serial, .scale = 1 },
	};
	agent_host_send(&as->server->host, &msg);
	agent_commit_send_xdg_state(as);
	as->commit_held = held;
}

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
		as->commit_held = agent_surface_is_xdg(as) && as->surface->buffer != NULL;
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
		if (agent_surface_is_xdg(as)) {
			agent_surface_start_window(as);
		} else if (as->surface->buffer != NULL) {
			agent_commit_forward(as);
		}
	}
	if (server->cursor != NULL) {
		agent_surface_set_cursor(server, server->cursor, server->cursor_hotspot_x,
			server->cursor_hotspot_y);
	}
}
