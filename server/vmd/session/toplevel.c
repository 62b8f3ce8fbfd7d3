/*
 * Toplevels (PROTOCOL.md §6.4): xdg_toplevel with a server-side
 * decoration, its state (title, app id, parent, size limits) and requests.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "context.h"
#include "role.h"
#include "xdg-decoration-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

static void toplevel_handle_configure(void *data, struct xdg_toplevel *toplevel,
		int32_t width, int32_t height, struct wl_array *states) {
	struct vmd_surface *surface = data;
	surface->pending_width = width;
	surface->pending_height = height;
	surface->pending_states = 0;
	uint32_t *state;
	wl_array_for_each(state, states) {
		/* xdg_toplevel.state 1..9 -> wire bits 0..8 */
		if (*state >= 1 && *state <= 9) {
			surface->pending_states |= 1u << (*state - 1);
		}
	}
}

static void toplevel_handle_close(void *data, struct xdg_toplevel *toplevel) {
	struct vmd_surface *surface = data;
	vmd_surface_emit(surface, TESSERA_WIRE_CLOSE);
}

static void toplevel_handle_configure_bounds(void *data,
		struct xdg_toplevel *toplevel, int32_t width, int32_t height) {
}

static void toplevel_handle_wm_capabilities(void *data,
		struct xdg_toplevel *toplevel, struct wl_array *capabilities) {
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_handle_configure,
	.close = toplevel_handle_close,
	.configure_bounds = toplevel_handle_configure_bounds,
	.wm_capabilities = toplevel_handle_wm_capabilities,
};

static void decoration_handle_configure(void *data,
		struct zxdg_toplevel_decoration_v1 *decoration, uint32_t mode) {
	struct vmd_surface *surface = data;
	surface->decoration_mode =
		mode == ZXDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE ?
		TESSERA_WIRE_DECORATION_SERVER_SIDE : TESSERA_WIRE_DECORATION_CLIENT_SIDE;
}

static const struct zxdg_toplevel_decoration_v1_listener decoration_listener = {
	.configure = decoration_handle_configure,
};

/* The xdg objects of a toplevel, with a server-side decoration. */
static void toplevel_objects_create(struct vmd_surface *surface) {
	struct vmd_wayland *wayland = surface->ctx->session->wayland;
	vmd_xdg_surface_create(surface);
	surface->xdg_toplevel = xdg_surface_get_toplevel(surface->xdg_surface);
	xdg_toplevel_add_listener(surface->xdg_toplevel, &toplevel_listener, surface);
	if (wayland->decoration_manager != NULL) {
		/* always server side: the host draws the trusted frame */
		surface->decoration = zxdg_decoration_manager_v1_get_toplevel_decoration(
			wayland->decoration_manager, surface->xdg_toplevel);
		zxdg_toplevel_decoration_v1_add_listener(surface->decoration,
			&decoration_listener, surface);
		zxdg_toplevel_decoration_v1_set_mode(surface->decoration,
			ZXDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
	}
}

static bool toplevel_create(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	struct vmd_surface *surface = vmd_surface_get(ctx, msg->toplevel_create.surface,
		"TOPLEVEL_CREATE.surface");
	if (surface == NULL ||
			!vmd_surface_require_no_role(ctx, surface, "TOPLEVEL_CREATE", true)) {
		return false;
	}
	surface->role = VMD_ROLE_TOPLEVEL;
	toplevel_objects_create(surface);
	return true;
}

/*
 * A mapped toplevel committed no buffer: an unmap. wlroots 0.15 then
 * forgets the configure sequence for good (unmap_xdg_surface clears
 * `configured`, and no new configure is scheduled since the toplevel was
 * "added" already) as well as title, app id and parent. As xdg-shell
 * describes it, the toplevel starts over: new xdg objects on the same
 * wl_surface, the state the guest set, and an initial commit, so that the
 * guest gets a new CONFIGURE to acknowledge before its next buffer.
 */
void vmd_toplevel_remap(struct vmd_surface *surface) {
	struct vmd_surface *child;
	wl_list_for_each(child, &surface->children, child_link) {
		if (child->role == VMD_ROLE_POPUP) {
			vmd_popup_dismiss(child);
		}
	}
	vmd_xdg_objects_destroy(surface);
	/* acks of the old configures may still be on their way: ignored */
	memcpy(surface->stale_configures, surface->configures,
		surface->n_configures * sizeof(uint32_t));
	surface->n_stale_configures = surface->n_configures;
	surface->n_configures = 0;
	surface->acked = false;
	toplevel_objects_create(surface);
	struct xdg_toplevel *toplevel = surface->xdg_toplevel;
	if (surface->title != NULL) {
		xdg_toplevel_set_title(toplevel, surface->title);
	}
	if (surface->app_id != NULL) {
		xdg_toplevel_set_app_id(toplevel, surface->app_id);
	}
	if (surface->toplevel_parent != NULL &&
			surface->toplevel_parent->xdg_toplevel != NULL) {
		xdg_toplevel_set_parent(toplevel, surface->toplevel_parent->xdg_toplevel);
	}
	xdg_toplevel_set_min_size(toplevel, surface->min_width, surface->min_height);
	xdg_toplevel_set_max_size(toplevel, surface->max_width, surface->max_height);
	wl_surface_commit(surface->wl_surface);
}

static struct vmd_surface *get_toplevel(struct vmd_ctx *ctx, uint32_t id,
		const char *field) {
	struct vmd_surface *surface = vmd_surface_get(ctx, id, field);
	if (surface == NULL ||
			!vmd_surface_require_role(ctx, surface, VMD_ROLE_TOPLEVEL, field)) {
		return NULL;
	}
	return surface;
}

static bool toplevel_set_parent(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_set_parent *sp = &msg->set_parent;
	struct vmd_surface *surface = get_toplevel(ctx, sp->surface,
		"TOPLEVEL_SET_PARENT.surface");
	if (surface == NULL) {
		return false;
	}
	struct vmd_surface *parent = NULL;
	if (sp->parent != 0) {
		parent = vmd_surface_get(ctx, sp->parent, "TOPLEVEL_SET_PARENT.parent");
		if (parent == NULL) {
			return false;
		}
		if (parent->role != VMD_ROLE_TOPLEVEL) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, sp->parent,
				"TOPLEVEL_SET_PARENT.parent", "surface %u is not a toplevel",
				sp->parent);
			return false;
		}
		size_t steps = 0;
		for (struct vmd_surface *p = parent; p != NULL; p = p->toplevel_parent) {
			if (p == surface || ++steps > TESSERA_WIRE_MAX_SURFACES) {
				vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, sp->parent,
					"TOPLEVEL_SET_PARENT.parent",
					"toplevel %u would become its own ancestor", sp->surface);
				return false;
			}
		}
	}
	surface->toplevel_parent = parent;
	xdg_toplevel_set_parent(surface->xdg_toplevel,
		parent != NULL ? parent->xdg_toplevel : NULL);
	return true;
}

static bool toplevel_request(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_toplevel_request *req = &msg->toplevel_request;
	struct vmd_surface *surface = get_toplevel(ctx, req->surface,
		"TOPLEVEL_REQUEST.surface");
	if (surface == NULL) {
		return false;
	}
	struct xdg_toplevel *toplevel = surface->xdg_toplevel;
	switch (req->action) {
	case TESSERA_WIRE_TOPLEVEL_SET_MAXIMIZED:
		xdg_toplevel_set_maximized(toplevel);
		break;
	case TESSERA_WIRE_TOPLEVEL_UNSET_MAXIMIZED:
		xdg_toplevel_unset_maximized(toplevel);
		break;
	case TESSERA_WIRE_TOPLEVEL_SET_FULLSCREEN:;
		struct vmd_wayland_output *output = req->output != 0 ?
			vmd_wayland_output_from_id(ctx->session->wayland, req->output) : NULL;
		xdg_toplevel_set_fullscreen(toplevel,
			output != NULL ? output->wl_output : NULL);
		break;
	case TESSERA_WIRE_TOPLEVEL_UNSET_FULLSCREEN:
		xdg_toplevel_unset_fullscreen(toplevel);
		break;
	case TESSERA_WIRE_TOPLEVEL_SET_MINIMIZED:
		xdg_toplevel_set_minimized(toplevel);
		break;
	}
	return true;
}

/*
 * The title is shown after the VM's trusted label: bidirectional embedding,
 * override and isolate controls (U+202A..U+202E, U+2066..U+2069) could make
 * it run into the label, so they become U+FFFD (same UTF-8 length). The
 * codec already checked the string (valid UTF-8, no C0/C1 controls).
 */
static void neutralize_bidi(char *dst, const char *src, size_t len) {
	memcpy(dst, src, len);
	dst[len] = '\0';
	for (size_t i = 0; i + 2 < len; i++) {
		unsigned char a = (unsigned char)dst[i], b = (unsigned char)dst[i + 1],
			c = (unsigned char)dst[i + 2];
		if (a == 0xe2 && ((b == 0x80 && c >= 0xaa && c <= 0xae) ||
				(b == 0x81 && c >= 0xa6 && c <= 0xa9))) {
			dst[i] = (char)0xef;
			dst[i + 1] = (char)0xbf;
			dst[i + 2] = (char)0xbd;
			i += 2;
		}
	}
}

/*
 * A window's title goes to the compositor at most this often (the newest
 * one; tessera draws the label no faster): a guest that sets titles in a
 * loop spends its own daemon's time, not the compositor's, which every
 * other VM shares.
 */
#define TITLE_INTERVAL_MS 100

static void send_title(struct vmd_surface *surface) {
	surface->title_pending = false;
	surface->title_sent_ms = tessera_clock_now_ms();
	if (surface->xdg_toplevel != NULL && surface->title != NULL) {
		xdg_toplevel_set_title(surface->xdg_toplevel, surface->title);
	}
}

static int handle_title_timer(void *data) {
	struct vmd_session *session = data;
	session->title_timer_armed = false;
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		struct vmd_surface *surface;
		wl_list_for_each(surface, &ctx->surface_list, link) {
			if (surface->title_pending) {
				send_title(surface);
			}
		}
	}
	return 0;
}

/* The title now, or from the session's timer if one was sent less than
 * TITLE_INTERVAL_MS ago. */
static void update_title(struct vmd_surface *surface) {
	struct vmd_session *session = surface->ctx->session;
	if (surface->title_pending) {
		return; /* the timer sends the newest */
	}
	int64_t wait = surface->title_sent_ms + TITLE_INTERVAL_MS - tessera_clock_now_ms();
	if (wait > 0 && session->title_timer == NULL && session->wayland->loop != NULL) {
		session->title_timer = wl_event_loop_add_timer(session->wayland->loop,
			handle_title_timer, session);
	}
	if (wait <= 0 || session->title_timer == NULL) {
		send_title(surface);
		return;
	}
	if (!session->title_timer_armed) {
		wl_event_source_timer_update(session->title_timer, (int)wait);
		session->title_timer_armed = true;
	}
	surface->title_pending = true;
}

/* SET_TITLE and SET_APP_ID: the text is kept (an unmap recreates the
 * toplevel) and set. */
static bool set_toplevel_string(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg,
		const char *field, bool title) {
	struct vmd_surface *surface = get_toplevel(ctx, msg->string.surface, field);
	if (surface == NULL) {
		return false;
	}
	char *text = ctx->session->toplevel_text;
	neutralize_bidi(text, msg->string.text, msg->string.length);
	char **keep = title ? &surface->title : &surface->app_id;
	free(*keep);
	*keep = strdup(text);
	if (title) {
		update_title(surface);
	} else {
		xdg_toplevel_set_app_id(surface->xdg_toplevel, text);
	}
	return true;
}

static bool set_title(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	return set_toplevel_string(ctx, msg, "SET_TITLE.surface", true);
}

static bool set_app_id(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	return set_toplevel_string(ctx, msg, "SET_APP_ID.surface", false);
}

static bool toplevel_set_size_limits(struct vmd_ctx *ctx,
		const struct tessera_wire_msg *msg) {
	const struct tessera_wire_size_limits *limits = &msg->size_limits;
	struct vmd_surface *surface = get_toplevel(ctx, limits->surface,
		"TOPLEVEL_SET_SIZE_LIMITS.surface");
	if (surface == NULL) {
		return false;
	}
	surface->min_width = limits->min_width;
	surface->min_height = limits->min_height;
	surface->max_width = limits->max_width;
	surface->max_height = limits->max_height;
	xdg_toplevel_set_min_size(surface->xdg_toplevel,
		surface->min_width, surface->min_height);
	xdg_toplevel_set_max_size(surface->xdg_toplevel,
		surface->max_width, surface->max_height);
	return true;
}

/* Interactive requests need a seat and, before the first configure, would
 * be a protocol error: dropped then. */
static bool toplevel_interactive(struct vmd_ctx *ctx, const struct vmd_surface *surface) {
	return ctx->session->wayland->seat != NULL && surface->acked;
}

static bool toplevel_move(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	struct vmd_surface *surface = get_toplevel(ctx, msg->surface_serial.surface,
		"TOPLEVEL_MOVE.surface");
	if (surface == NULL) {
		return false;
	}
	if (toplevel_interactive(ctx, surface)) {
		xdg_toplevel_move(surface->xdg_toplevel, ctx->session->wayland->seat,
			msg->surface_serial.serial);
	}
	return true;
}

static bool toplevel_resize(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	struct vmd_surface *surface = get_toplevel(ctx, msg->resize.surface,
		"TOPLEVEL_RESIZE.surface");
	if (surface == NULL) {
		return false;
	}
	if (toplevel_interactive(ctx, surface)) {
		xdg_toplevel_resize(surface->xdg_toplevel, ctx->session->wayland->seat,
			msg->resize.serial, msg->resize.edges);
	}
	return true;
}

static bool toplevel_show_window_menu(struct vmd_ctx *ctx,
		const struct tessera_wire_msg *msg) {
	const struct tessera_wire_window_menu *menu = &msg->window_menu;
	struct vmd_surface *surface = get_toplevel(ctx, menu->surface,
		"TOPLEVEL_SHOW_WINDOW_MENU.surface");
	if (surface == NULL) {
		return false;
	}
	if (toplevel_interactive(ctx, surface)) {
		xdg_toplevel_show_window_menu(surface->xdg_toplevel,
			ctx->session->wayland->seat, menu->serial, menu->x, menu->y);
	}
	return true;
}

static bool toplevel_set_decoration(struct vmd_ctx *ctx,
		const struct tessera_wire_msg *msg) {
	/* server side whatever the guest prefers; CONFIGURE tells */
	return get_toplevel(ctx, msg->decoration.surface,
		"TOPLEVEL_SET_DECORATION.surface") != NULL;
}

const struct vmd_surface_request vmd_toplevel_requests[] = {
	{ TESSERA_WIRE_TOPLEVEL_CREATE, toplevel_create },
	{ TESSERA_WIRE_SET_TITLE, set_title },
	{ TESSERA_WIRE_SET_APP_ID, set_app_id },
	{ TESSERA_WIRE_TOPLEVEL_SET_PARENT, toplevel_set_parent },
	{ TESSERA_WIRE_TOPLEVEL_SET_SIZE_LIMITS, toplevel_set_size_limits },
	{ TESSERA_WIRE_TOPLEVEL_REQUEST, toplevel_request },
	{ TESSERA_WIRE_TOPLEVEL_MOVE, toplevel_move },
	{ TESSERA_WIRE_TOPLEVEL_RESIZE, toplevel_resize },
	{ TESSERA_WIRE_TOPLEVEL_SHOW_WINDOW_MENU, toplevel_show_window_menu },
	{ TESSERA_WIRE_TOPLEVEL_SET_DECORATION, toplevel_set_decoration },
	{ 0, NULL },
};
