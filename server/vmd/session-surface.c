/*
 * Guest surfaces and their roles (PROTOCOL.md §6.2, §6.4–§6.7) as Wayland
 * objects: wl_surface, xdg_surface + xdg_toplevel (+ server-side
 * decoration) or xdg_popup, wl_subsurface, the cursor.
 *
 * Everything the guest asks is checked here first so that vmd never sends
 * the compositor a request that is a protocol error: such an error would
 * end vmd's connection and with it every window of the VM.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "presentation-time-client-protocol.h"
#include "session-private.h"
#include "xdg-decoration-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

/* Identifies vmd's session surfaces among all wl_surface proxies. */
static const char *const surface_tag = "tessera-vmd-session-surface";

struct vmd_surface *vmd_surface_from_wl_surface(struct wl_surface *wl_surface) {
	if (wl_surface == NULL ||
			wl_proxy_get_tag((struct wl_proxy *)wl_surface) != &surface_tag) {
		return NULL;
	}
	return wl_surface_get_user_data(wl_surface);
}

static uint32_t now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static const char *role_name(enum vmd_role role) {
	switch (role) {
	case VMD_ROLE_NONE:
		return "no role";
	case VMD_ROLE_TOPLEVEL:
		return "toplevel";
	case VMD_ROLE_POPUP:
		return "popup";
	case VMD_ROLE_SUBSURFACE:
		return "subsurface";
	case VMD_ROLE_CURSOR:
		return "cursor";
	}
	return "?";
}

static struct vmd_surface *get_surface(struct vmd_ctx *ctx, uint32_t id,
		const char *field) {
	struct vmd_surface *surface = vmd_id_map_get(&ctx->surfaces, id);
	if (surface == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_NO_OBJECT, id, field,
			"no surface %u", id);
	}
	return surface;
}

static bool require_role(struct vmd_ctx *ctx, struct vmd_surface *surface,
		enum vmd_role role, const char *field) {
	if (surface->role != role) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ROLE, surface->id, field,
			"surface %u is a %s, not a %s", surface->id,
			role_name(surface->role), role_name(role));
		return false;
	}
	return true;
}

static bool require_xdg(struct vmd_ctx *ctx, struct vmd_surface *surface,
		const char *field) {
	if (surface->role != VMD_ROLE_TOPLEVEL && surface->role != VMD_ROLE_POPUP) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ROLE, surface->id, field,
			"surface %u is a %s, not a toplevel or popup", surface->id,
			role_name(surface->role));
		return false;
	}
	return true;
}

static void emit_surface_event(struct vmd_surface *surface, uint16_t type) {
	struct tessera_wire_msg event = { .type = type };
	event.surface.surface = surface->id; /* CLOSE, POPUP_DONE share the layout */
	vmd_ctx_emit(surface->ctx, &event);
}

/* --- wl_surface --- */

/* SURFACE_ENTER or SURFACE_LEAVE for an output the guest knows. */
static void emit_surface_output(struct vmd_surface *surface,
		struct wl_output *wl_output, uint16_t type) {
	struct vmd_wayland_output *output = vmd_wayland_output_from_wl_output(
		surface->ctx->session->wayland, wl_output);
	if (output == NULL) {
		return;
	}
	struct tessera_wire_msg event = {
		.type = type,
		.surface_output = { .surface = surface->id, .output = output->id },
	};
	vmd_ctx_emit(surface->ctx, &event);
}

static void surface_handle_enter(void *data, struct wl_surface *wl_surface,
		struct wl_output *wl_output) {
	emit_surface_output(data, wl_output, TESSERA_WIRE_SURFACE_ENTER);
}

static void surface_handle_leave(void *data, struct wl_surface *wl_surface,
		struct wl_output *wl_output) {
	emit_surface_output(data, wl_output, TESSERA_WIRE_SURFACE_LEAVE);
}

static const struct wl_surface_listener surface_listener = {
	.enter = surface_handle_enter,
	.leave = surface_handle_leave,
};

static bool surface_create(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	struct vmd_session *session = ctx->session;
	uint32_t id = msg->surface.surface;
	if (id <= ctx->last_surface_id) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ID_REUSE, id, "SURFACE_CREATE.surface",
			"id %u not above the last surface id %u", id, ctx->last_surface_id);
		return false;
	}
	if (session->n_surfaces >= session->limits.max_surfaces) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_LIMIT, id, "SURFACE_CREATE",
			"the VM's limit of %llu surfaces (max_surfaces) is reached",
			(unsigned long long)session->limits.max_surfaces);
		return false;
	}
	struct vmd_surface *surface = calloc(1, sizeof(*surface));
	if (surface == NULL || !vmd_id_map_add(&ctx->surfaces, id, surface)) {
		free(surface);
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_HOST, id, "SURFACE_CREATE",
			"out of memory");
		return false;
	}
	surface->ctx = ctx;
	surface->id = id;
	surface->scale = 1;
	wl_list_init(&surface->children);
	wl_list_init(&surface->child_link);
	wl_list_init(&surface->feedbacks);
	surface->wl_surface = wl_compositor_create_surface(session->wayland->compositor);
	wl_proxy_set_tag((struct wl_proxy *)surface->wl_surface, &surface_tag);
	wl_surface_add_listener(surface->wl_surface, &surface_listener, surface);
	wl_list_insert(ctx->surface_list.prev, &surface->link);
	ctx->last_surface_id = id;
	session->n_surfaces++;
	return true;
}

/* --- tree --- */

/* Height of the tree below surface (0 for a leaf), bounded by the depth
 * limit since every edge was checked on creation. */
static uint32_t tree_height(const struct vmd_surface *surface) {
	uint32_t height = 0;
	const struct vmd_surface *child;
	wl_list_for_each(child, &surface->children, child_link) {
		uint32_t h = tree_height(child) + 1;
		if (h > height) {
			height = h;
		}
	}
	return height;
}

static void tree_set_depth(struct vmd_surface *surface, uint32_t depth) {
	surface->depth = depth;
	struct vmd_surface *child;
	wl_list_for_each(child, &surface->children, child_link) {
		tree_set_depth(child, depth + 1);
	}
}

/* Checks that surface may become a child of parent: no cycle, depth limit. */
static bool tree_check(struct vmd_ctx *ctx, struct vmd_surface *surface,
		struct vmd_surface *parent, const char *field) {
	for (struct vmd_surface *p = parent; p != NULL; p = p->parent) {
		if (p == surface) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, surface->id, field,
				"surface %u would become its own ancestor", surface->id);
			return false;
		}
	}
	if (parent->depth + 1 + tree_height(surface) > TESSERA_WIRE_MAX_TREE_DEPTH) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_LIMIT, surface->id, field,
			"tree deeper than %d", TESSERA_WIRE_MAX_TREE_DEPTH);
		return false;
	}
	return true;
}

static void tree_link(struct vmd_surface *surface, struct vmd_surface *parent) {
	surface->parent = parent;
	wl_list_remove(&surface->child_link);
	wl_list_insert(parent->children.prev, &surface->child_link);
	tree_set_depth(surface, parent->depth + 1);
}

static void tree_unlink(struct vmd_surface *surface) {
	surface->parent = NULL;
	wl_list_remove(&surface->child_link);
	wl_list_init(&surface->child_link);
}

/* --- xdg_surface --- */

static void configure_remember(struct vmd_surface *surface, uint32_t serial) {
	if (surface->n_configures == VMD_MAX_CONFIGURES) {
		memmove(&surface->configures[0], &surface->configures[1],
			(VMD_MAX_CONFIGURES - 1) * sizeof(uint32_t));
		surface->n_configures--;
	}
	surface->configures[surface->n_configures++] = serial;
}

static int32_t clamp_dim(int32_t v, int32_t lo) {
	if (v < lo) {
		return lo;
	}
	return v > TESSERA_WIRE_MAX_DIMENSION ? TESSERA_WIRE_MAX_DIMENSION : v;
}

static int32_t clamp_coord(int32_t v) {
	if (v < -TESSERA_WIRE_MAX_COORD) {
		return -TESSERA_WIRE_MAX_COORD;
	}
	return v > TESSERA_WIRE_MAX_COORD ? TESSERA_WIRE_MAX_COORD : v;
}

static void xdg_surface_handle_configure(void *data,
		struct xdg_surface *xdg_surface, uint32_t serial) {
	struct vmd_surface *surface = data;
	configure_remember(surface, serial);
	struct tessera_wire_msg event;
	memset(&event, 0, sizeof(event));
	if (surface->role == VMD_ROLE_TOPLEVEL) {
		event.type = TESSERA_WIRE_CONFIGURE;
		event.configure = (struct tessera_wire_configure){
			.surface = surface->id,
			.serial = serial,
			.width = clamp_dim(surface->pending_width, 0),
			.height = clamp_dim(surface->pending_height, 0),
			.states = surface->pending_states,
			.decoration = surface->decoration_mode,
		};
	} else {
		event.type = TESSERA_WIRE_POPUP_CONFIGURE;
		event.popup_configure = (struct tessera_wire_popup_configure){
			.surface = surface->id,
			.serial = serial,
			.x = clamp_coord(surface->popup_x),
			.y = clamp_coord(surface->popup_y),
			.width = clamp_dim(surface->popup_width, 1),
			.height = clamp_dim(surface->popup_height, 1),
		};
	}
	vmd_ctx_emit(surface->ctx, &event);
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = xdg_surface_handle_configure,
};

/* --- toplevel --- */

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
	emit_surface_event(surface, TESSERA_WIRE_CLOSE);
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

/* A surface that committed a buffer cannot get an xdg role (xdg-shell's
 * unconfigured_buffer). */
static bool require_no_role(struct vmd_ctx *ctx, struct vmd_surface *surface,
		const char *field, bool xdg) {
	if (surface->role != VMD_ROLE_NONE) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ROLE, surface->id, field,
			"surface %u already is a %s", surface->id, role_name(surface->role));
		return false;
	}
	if (xdg && surface->has_buffer) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_STATE, surface->id, field,
			"surface %u has a buffer; unmap it first", surface->id);
		return false;
	}
	return true;
}

/* The xdg objects of a toplevel, with a server-side decoration. */
static void toplevel_objects_create(struct vmd_surface *surface) {
	struct vmd_wayland *wayland = surface->ctx->session->wayland;
	surface->xdg_surface = xdg_wm_base_get_xdg_surface(wayland->wm_base,
		surface->wl_surface);
	xdg_surface_add_listener(surface->xdg_surface, &xdg_surface_listener, surface);
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

static void toplevel_objects_destroy(struct vmd_surface *surface) {
	if (surface->decoration != NULL) {
		zxdg_toplevel_decoration_v1_destroy(surface->decoration);
		surface->decoration = NULL;
	}
	if (surface->xdg_toplevel != NULL) {
		xdg_toplevel_destroy(surface->xdg_toplevel);
		surface->xdg_toplevel = NULL;
	}
	if (surface->xdg_surface != NULL) {
		xdg_surface_destroy(surface->xdg_surface);
		surface->xdg_surface = NULL;
	}
}

static bool toplevel_create(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	struct vmd_surface *surface = get_surface(ctx, msg->toplevel_create.surface,
		"TOPLEVEL_CREATE.surface");
	if (surface == NULL || !require_no_role(ctx, surface, "TOPLEVEL_CREATE", true)) {
		return false;
	}
	surface->role = VMD_ROLE_TOPLEVEL;
	toplevel_objects_create(surface);
	return true;
}

static void popup_dismiss(struct vmd_surface *surface);

/*
 * A mapped toplevel committed no buffer: an unmap. wlroots 0.15 then
 * forgets the configure sequence for good (unmap_xdg_surface clears
 * `configured`, and no new configure is scheduled since the toplevel was
 * "added" already) as well as title, app id and parent. As xdg-shell
 * describes it, the toplevel starts over: new xdg objects on the same
 * wl_surface, the state the guest set, and an initial commit, so that the
 * guest gets a new CONFIGURE to acknowledge before its next buffer.
 */
static void toplevel_remap(struct vmd_surface *surface) {
	struct vmd_surface *child;
	wl_list_for_each(child, &surface->children, child_link) {
		if (child->role == VMD_ROLE_POPUP) {
			popup_dismiss(child);
		}
	}
	toplevel_objects_destroy(surface);
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
	struct vmd_surface *surface = get_surface(ctx, id, field);
	if (surface == NULL || !require_role(ctx, surface, VMD_ROLE_TOPLEVEL, field)) {
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
		parent = get_surface(ctx, sp->parent, "TOPLEVEL_SET_PARENT.parent");
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

static bool ack_configure(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_surface_serial *ack = &msg->surface_serial;
	struct vmd_surface *surface = get_surface(ctx, ack->surface,
		"ACK_CONFIGURE.surface");
	if (surface == NULL || !require_xdg(ctx, surface, "ACK_CONFIGURE.surface")) {
		return false;
	}
	if (surface->dismissed) {
		return true; /* a popup already gone */
	}
	for (size_t i = 0; i < surface->n_configures; i++) {
		if (surface->configures[i] == ack->serial) {
			xdg_surface_ack_configure(surface->xdg_surface, ack->serial);
			/* acking a serial acks the older ones too */
			memmove(&surface->configures[0], &surface->configures[i + 1],
				(surface->n_configures - i - 1) * sizeof(uint32_t));
			surface->n_configures -= i + 1;
			surface->acked = true;
			return true;
		}
	}
	for (size_t i = 0; i < surface->n_stale_configures; i++) {
		if (surface->stale_configures[i] == ack->serial) {
			return true; /* of the xdg objects before an unmap */
		}
	}
	vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, ack->surface,
		"ACK_CONFIGURE.serial", "serial %u was not sent for surface %u",
		ack->serial, ack->surface);
	return false;
}

/* --- popups --- */

static void popup_handle_configure(void *data, struct xdg_popup *popup,
		int32_t x, int32_t y, int32_t width, int32_t height) {
	struct vmd_surface *surface = data;
	surface->popup_x = x;
	surface->popup_y = y;
	surface->popup_width = width;
	surface->popup_height = height;
}

static void popup_handle_done(void *data, struct xdg_popup *popup) {
	struct vmd_surface *surface = data;
	popup_dismiss(surface);
}

static void popup_handle_repositioned(void *data, struct xdg_popup *popup,
		uint32_t token) {
	struct vmd_surface *surface = data;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_POPUP_REPOSITIONED,
		.popup_repositioned = { .surface = surface->id, .token = token },
	};
	vmd_ctx_emit(surface->ctx, &event);
}

static const struct xdg_popup_listener popup_listener = {
	.configure = popup_handle_configure,
	.popup_done = popup_handle_done,
	.repositioned = popup_handle_repositioned,
};

/* Destroys the popup's xdg objects (child popups first: xdg-shell wants
 * the topmost popup destroyed first) and tells the guest. */
static void popup_dismiss(struct vmd_surface *surface) {
	if (surface->dismissed) {
		return;
	}
	struct vmd_surface *child;
	wl_list_for_each(child, &surface->children, child_link) {
		if (child->role == VMD_ROLE_POPUP) {
			popup_dismiss(child);
		}
	}
	surface->dismissed = true;
	if (surface->xdg_popup != NULL) {
		xdg_popup_destroy(surface->xdg_popup);
		surface->xdg_popup = NULL;
	}
	if (surface->xdg_surface != NULL) {
		xdg_surface_destroy(surface->xdg_surface);
		surface->xdg_surface = NULL;
	}
	surface->n_configures = 0;
	emit_surface_event(surface, TESSERA_WIRE_POPUP_DONE);
}

static struct xdg_positioner *positioner_create(struct vmd_ctx *ctx,
		const struct tessera_wire_positioner *p) {
	struct vmd_wayland *wayland = ctx->session->wayland;
	struct xdg_positioner *positioner = xdg_wm_base_create_positioner(wayland->wm_base);
	xdg_positioner_set_size(positioner, p->width, p->height);
	/* older xdg-shell versions refuse an empty anchor rectangle */
	xdg_positioner_set_anchor_rect(positioner, p->anchor_x, p->anchor_y,
		p->anchor_width > 0 ? p->anchor_width : 1,
		p->anchor_height > 0 ? p->anchor_height : 1);
	xdg_positioner_set_anchor(positioner, p->anchor);
	xdg_positioner_set_gravity(positioner, p->gravity);
	xdg_positioner_set_constraint_adjustment(positioner, p->constraint_adjustment);
	xdg_positioner_set_offset(positioner, p->offset_x, p->offset_y);
	if (xdg_positioner_get_version(positioner) >= XDG_POSITIONER_SET_REACTIVE_SINCE_VERSION) {
		if (p->flags & TESSERA_WIRE_POSITIONER_REACTIVE) {
			xdg_positioner_set_reactive(positioner);
		}
		if (p->flags & TESSERA_WIRE_POSITIONER_PARENT_SIZE) {
			xdg_positioner_set_parent_size(positioner, p->parent_width,
				p->parent_height);
		}
		if (p->flags & TESSERA_WIRE_POSITIONER_PARENT_CONFIGURE) {
			xdg_positioner_set_parent_configure(positioner, p->parent_configure);
		}
	}
	return positioner;
}

static bool popup_create(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_popup_create *pc = &msg->popup_create;
	struct vmd_wayland *wayland = ctx->session->wayland;
	struct vmd_surface *surface = get_surface(ctx, pc->surface, "POPUP_CREATE.surface");
	if (surface == NULL || !require_no_role(ctx, surface, "POPUP_CREATE", true)) {
		return false;
	}
	struct vmd_surface *parent = get_surface(ctx, pc->parent, "POPUP_CREATE.parent");
	if (parent == NULL) {
		return false;
	}
	if (parent == surface || (parent->role != VMD_ROLE_TOPLEVEL &&
			parent->role != VMD_ROLE_POPUP)) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, pc->parent,
			"POPUP_CREATE.parent", "surface %u is not another toplevel or popup",
			pc->parent);
		return false;
	}
	if (!tree_check(ctx, surface, parent, "POPUP_CREATE.parent")) {
		return false;
	}
	surface->role = VMD_ROLE_POPUP;
	tree_link(surface, parent);
	if (parent->xdg_surface == NULL) {
		/* the parent popup was dismissed: so is this one */
		surface->dismissed = true;
		emit_surface_event(surface, TESSERA_WIRE_POPUP_DONE);
		return true;
	}
	struct xdg_positioner *positioner = positioner_create(ctx, &pc->positioner);
	surface->xdg_surface = xdg_wm_base_get_xdg_surface(wayland->wm_base,
		surface->wl_surface);
	xdg_surface_add_listener(surface->xdg_surface, &xdg_surface_listener, surface);
	surface->xdg_popup = xdg_surface_get_popup(surface->xdg_surface,
		parent->xdg_surface, positioner);
	xdg_popup_add_listener(surface->xdg_popup, &popup_listener, surface);
	xdg_positioner_destroy(positioner);
	return true;
}

static bool has_child_popups(struct vmd_surface *surface) {
	struct vmd_surface *child;
	wl_list_for_each(child, &surface->children, child_link) {
		if (child->role == VMD_ROLE_POPUP && !child->dismissed) {
			return true;
		}
	}
	return false;
}

static bool popup_grab(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_surface_serial *grab = &msg->surface_serial;
	struct vmd_surface *surface = get_surface(ctx, grab->surface, "POPUP_GRAB.surface");
	if (surface == NULL || !require_role(ctx, surface, VMD_ROLE_POPUP,
			"POPUP_GRAB.surface")) {
		return false;
	}
	if (surface->initial_commit || surface->grabbed || has_child_popups(surface)) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_STATE, grab->surface, "POPUP_GRAB",
			"only before the popup's first commit, once, on the topmost popup");
		return false;
	}
	surface->grabbed = true;
	struct vmd_wayland *wayland = ctx->session->wayland;
	if (!surface->dismissed && wayland->seat != NULL) {
		xdg_popup_grab(surface->xdg_popup, wayland->seat, grab->serial);
	}
	return true;
}

static bool popup_reposition(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_popup_reposition *rp = &msg->popup_reposition;
	struct vmd_surface *surface = get_surface(ctx, rp->surface,
		"POPUP_REPOSITION.surface");
	if (surface == NULL || !require_role(ctx, surface, VMD_ROLE_POPUP,
			"POPUP_REPOSITION.surface")) {
		return false;
	}
	if (surface->dismissed) {
		return true;
	}
	if (xdg_popup_get_version(surface->xdg_popup) >= XDG_POPUP_REPOSITION_SINCE_VERSION) {
		struct xdg_positioner *positioner = positioner_create(ctx, &rp->positioner);
		xdg_popup_reposition(surface->xdg_popup, positioner, rp->token);
		xdg_positioner_destroy(positioner);
	} else {
		/* xdg_wm_base < 3: the compositor cannot move a popup; the
		 * popup stays where it is */
		struct tessera_wire_msg event = {
			.type = TESSERA_WIRE_POPUP_REPOSITIONED,
			.popup_repositioned = { .surface = surface->id, .token = rp->token },
		};
		vmd_ctx_emit(ctx, &event);
	}
	return true;
}

/* --- subsurfaces --- */

static bool subsurface_create(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_subsurface_create *sc = &msg->subsurface_create;
	struct vmd_wayland *wayland = ctx->session->wayland;
	struct vmd_surface *surface = get_surface(ctx, sc->surface,
		"SUBSURFACE_CREATE.surface");
	if (surface == NULL || !require_no_role(ctx, surface, "SUBSURFACE_CREATE", false)) {
		return false;
	}
	struct vmd_surface *parent = get_surface(ctx, sc->parent, "SUBSURFACE_CREATE.parent");
	if (parent == NULL) {
		return false;
	}
	if (parent == surface) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, sc->parent,
			"SUBSURFACE_CREATE.parent", "a surface cannot be its own parent");
		return false;
	}
	if (!tree_check(ctx, surface, parent, "SUBSURFACE_CREATE.parent")) {
		return false;
	}
	if (wayland->subcompositor == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_HOST, sc->surface, "SUBSURFACE_CREATE",
			"the compositor has no wl_subcompositor");
		return false;
	}
	surface->role = VMD_ROLE_SUBSURFACE;
	tree_link(surface, parent);
	surface->wl_subsurface = wl_subcompositor_get_subsurface(wayland->subcompositor,
		surface->wl_surface, parent->wl_surface);
	return true;
}

static struct vmd_surface *get_subsurface(struct vmd_ctx *ctx, uint32_t id,
		const char *field) {
	struct vmd_surface *surface = get_surface(ctx, id, field);
	if (surface == NULL || !require_role(ctx, surface, VMD_ROLE_SUBSURFACE, field)) {
		return NULL;
	}
	return surface;
}

static bool subsurface_place(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_subsurface_place *sp = &msg->subsurface_place;
	struct vmd_surface *surface = get_subsurface(ctx, sp->surface,
		"SUBSURFACE_PLACE.surface");
	if (surface == NULL) {
		return false;
	}
	struct vmd_surface *sibling = get_surface(ctx, sp->sibling,
		"SUBSURFACE_PLACE.sibling");
	if (sibling == NULL) {
		return false;
	}
	bool ok = sibling != surface && surface->parent != NULL &&
		(sibling == surface->parent || (sibling->role == VMD_ROLE_SUBSURFACE &&
			sibling->parent == surface->parent));
	if (!ok) {
		if (surface->parent == NULL && sibling != surface) {
			return true; /* unmapped with its parent: nothing to order */
		}
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, sp->sibling,
			"SUBSURFACE_PLACE.sibling",
			"surface %u is neither the parent nor a sibling of %u",
			sp->sibling, sp->surface);
		return false;
	}
	if (sp->above) {
		wl_subsurface_place_above(surface->wl_subsurface, sibling->wl_surface);
	} else {
		wl_subsurface_place_below(surface->wl_subsurface, sibling->wl_surface);
	}
	return true;
}

/* --- cursor --- */

static bool set_cursor(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_set_cursor *sc = &msg->set_cursor;
	struct vmd_wayland *wayland = ctx->session->wayland;
	struct vmd_surface *surface = NULL;
	if (sc->surface != 0) {
		surface = get_surface(ctx, sc->surface, "SET_CURSOR.surface");
		if (surface == NULL) {
			return false;
		}
		if (surface->role != VMD_ROLE_NONE && surface->role != VMD_ROLE_CURSOR) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ROLE, sc->surface,
				"SET_CURSOR.surface", "surface %u is a %s", sc->surface,
				role_name(surface->role));
			return false;
		}
		surface->role = VMD_ROLE_CURSOR;
	}
	uint32_t serial;
	if (wayland->pointer == NULL || !vmd_ctx_pointer_serial(ctx, &serial) ||
			serial != sc->serial) {
		return true; /* not ours to set now: ignored (§6.7) */
	}
	wl_pointer_set_cursor(wayland->pointer, serial,
		surface != NULL ? surface->wl_surface : NULL,
		sc->hotspot_x, sc->hotspot_y);
	return true;
}

/* --- regions --- */

static bool set_region(struct vmd_ctx *ctx, const struct tessera_wire_region *rg,
		bool input) {
	struct vmd_surface *surface = get_surface(ctx, rg->surface,
		input ? "SET_INPUT_REGION.surface" : "SET_OPAQUE_REGION.surface");
	if (surface == NULL) {
		return false;
	}
	struct wl_compositor *compositor = ctx->session->wayland->compositor;
	struct wl_region *region = NULL;
	if (rg->flags & TESSERA_WIRE_REGION_INFINITE) {
		if (!input) {
			region = wl_compositor_create_region(compositor);
			wl_region_add(region, 0, 0, INT32_MAX, INT32_MAX);
		}
	} else {
		region = wl_compositor_create_region(compositor);
		for (uint32_t i = 0; i < rg->rect_count; i++) {
			const struct tessera_wire_rect *r = &rg->rects[i];
			wl_region_add(region, r->x, r->y, r->width, r->height);
		}
	}
	if (input) {
		wl_surface_set_input_region(surface->wl_surface, region);
	} else {
		wl_surface_set_opaque_region(surface->wl_surface, region);
	}
	if (region != NULL) {
		wl_region_destroy(region);
	}
	return true;
}

static bool set_input_region(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	return set_region(ctx, &msg->region, true);
}

static bool set_opaque_region(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	return set_region(ctx, &msg->region, false);
}

/* --- frames and presentation --- */

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
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_FRAME_DONE,
		.frame_done = { .surface = surface->id, .serial = serial, .time = now_ms() },
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

static void request_feedback(struct vmd_surface *surface, uint32_t serial) {
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

/* --- commit --- */

/* A commit that cannot be shown (a dismissed popup): its buffer is released
 * and its frame and presentation requests completed at once. */
static void commit_not_shown(struct vmd_surface *surface, struct vmd_buffer *buffer,
		const struct tessera_wire_commit *commit) {
	if (buffer != NULL && !buffer->busy) {
		vmd_buffer_mark_busy(buffer);
		vmd_buffer_release(buffer);
	}
	if (commit->flags & TESSERA_WIRE_COMMIT_FRAME) {
		emit_frame_done_now(surface, commit->serial);
	}
	if (commit->flags & TESSERA_WIRE_COMMIT_PRESENTATION) {
		emit_discarded(surface, commit->serial);
	}
}

/* The surface and buffer (NULL: none) of a COMMIT, checked: false after
 * an error. */
static bool commit_check(struct vmd_ctx *ctx, const struct tessera_wire_commit *commit,
		struct vmd_surface **surface_out, struct vmd_buffer **buffer_out) {
	struct vmd_surface *surface = get_surface(ctx, commit->surface, "COMMIT.surface");
	if (surface == NULL) {
		return false;
	}
	struct vmd_buffer *buffer = NULL;
	if (commit->buffer != 0) {
		buffer = vmd_id_map_get(&ctx->buffers, commit->buffer);
		if (buffer == NULL) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_NO_OBJECT, commit->buffer,
				"COMMIT.buffer", "no buffer %u", commit->buffer);
			return false;
		}
	}
	bool xdg = surface->role == VMD_ROLE_TOPLEVEL || surface->role == VMD_ROLE_POPUP;
	if (xdg && buffer != NULL && !surface->dismissed) {
		if (!surface->initial_commit || !surface->acked) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_STATE, surface->id,
				"COMMIT.buffer", "a buffer before the first configure was "
				"acknowledged");
			return false;
		}
		if (buffer->width % (uint32_t)commit->scale != 0 ||
				buffer->height % (uint32_t)commit->scale != 0) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, surface->id,
				"COMMIT.scale", "buffer %ux%u is not a multiple of scale %d",
				buffer->width, buffer->height, commit->scale);
			return false;
		}
	}
	*surface_out = surface;
	*buffer_out = buffer;
	return true;
}

/* The commit's damage, in buffer coordinates where the compositor can. */
static void commit_damage(struct wl_surface *wl_surface, const struct vmd_buffer *buffer,
		const struct tessera_wire_commit *commit) {
	if (wl_surface_get_version(wl_surface) < WL_SURFACE_DAMAGE_BUFFER_SINCE_VERSION) {
		wl_surface_damage(wl_surface, 0, 0, INT32_MAX, INT32_MAX);
	} else if (commit->flags & TESSERA_WIRE_COMMIT_DAMAGE_ALL) {
		wl_surface_damage_buffer(wl_surface, 0, 0, (int32_t)buffer->width,
			(int32_t)buffer->height);
	} else {
		for (uint32_t i = 0; i < commit->damage_count; i++) {
			const struct tessera_wire_rect *r = &commit->damage[i];
			/* clipped to the buffer (the codec bounds them) */
			int64_t x2 = (int64_t)r->x + r->width;
			int64_t y2 = (int64_t)r->y + r->height;
			if (x2 > buffer->width) {
				x2 = buffer->width;
			}
			if (y2 > buffer->height) {
				y2 = buffer->height;
			}
			if (x2 > r->x && y2 > r->y) {
				wl_surface_damage_buffer(wl_surface, r->x, r->y,
					(int32_t)(x2 - r->x), (int32_t)(y2 - r->y));
			}
		}
	}
}

/* Scale, transform, frame callback and presentation feedback. */
static void commit_state(struct vmd_surface *surface,
		const struct tessera_wire_commit *commit) {
	struct wl_surface *wl_surface = surface->wl_surface;
	if (wl_surface_get_version(wl_surface) >= WL_SURFACE_SET_BUFFER_SCALE_SINCE_VERSION) {
		wl_surface_set_buffer_scale(wl_surface, commit->scale);
	}
	if (wl_surface_get_version(wl_surface) >= WL_SURFACE_SET_BUFFER_TRANSFORM_SINCE_VERSION) {
		wl_surface_set_buffer_transform(wl_surface, (int32_t)commit->transform);
	}
	if (commit->flags & TESSERA_WIRE_COMMIT_FRAME) {
		surface->frame_serial = commit->serial;
		if (surface->frame_callback == NULL) {
			surface->frame_callback = wl_surface_frame(wl_surface);
			wl_callback_add_listener(surface->frame_callback, &frame_listener,
				surface);
		}
	}
	if (commit->flags & TESSERA_WIRE_COMMIT_PRESENTATION) {
		request_feedback(surface, commit->serial);
	}
}

/* After the commit went to the compositor: what the surface shows now. An
 * xdg surface that attached nothing after a buffer was unmapped. */
static void commit_done(struct vmd_surface *surface, struct vmd_buffer *buffer,
		struct wl_buffer *wl_buffer, bool attached,
		const struct tessera_wire_commit *commit) {
	bool xdg = surface->role == VMD_ROLE_TOPLEVEL || surface->role == VMD_ROLE_POPUP;
	bool unmapped = xdg && attached && buffer == NULL && surface->has_buffer;
	if (xdg) {
		surface->initial_commit = true;
	}
	surface->scale = commit->scale;
	if (attached) {
		surface->buffer = buffer;
		surface->has_buffer = wl_buffer != NULL;
	}
	if (unmapped && surface->role == VMD_ROLE_TOPLEVEL) {
		toplevel_remap(surface);
	} else if (unmapped) {
		/* an unmapped popup cannot come back: it is dismissed */
		popup_dismiss(surface);
	}
	if (buffer != NULL) {
		bool was_busy = buffer->busy;
		vmd_buffer_mark_busy(buffer);
		if (wl_buffer == NULL && !was_busy) {
			/* not importable: not shown, released at once */
			vmd_buffer_release(buffer);
		}
	}
}

static bool surface_commit(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_commit *commit = &msg->commit;
	struct vmd_surface *surface;
	struct vmd_buffer *buffer;
	if (!commit_check(ctx, commit, &surface, &buffer)) {
		return false;
	}
	if (buffer != NULL) {
		ctx->session->stats.frames++;
	}
	if (surface->dismissed) {
		commit_not_shown(surface, buffer, commit);
		return true;
	}

	struct wl_buffer *wl_buffer = NULL;
	if (buffer != NULL) {
		wl_buffer = vmd_buffer_prepare_commit(buffer, surface, commit);
	} else {
		vmd_surface_mirrors_stale(surface);
	}
	/* a buffer that could not be imported is not attached: the surface
	 * keeps what it showed (attaching nothing would unmap it) */
	bool attach = buffer == NULL || wl_buffer != NULL;
	if (attach) {
		wl_surface_attach(surface->wl_surface, wl_buffer, commit->dx, commit->dy);
	}
	if (wl_buffer != NULL) {
		commit_damage(surface->wl_surface, buffer, commit);
	}
	commit_state(surface, commit);
	wl_surface_commit(surface->wl_surface);
	commit_done(surface, buffer, wl_buffer, attach, commit);
	return true;
}

/* --- destruction --- */

void vmd_surface_destroy(struct vmd_surface *surface) {
	struct vmd_ctx *ctx = surface->ctx;
	struct vmd_session *session = ctx->session;

	/* children: popups are dismissed, subsurfaces unmapped */
	struct vmd_surface *child, *tmp;
	wl_list_for_each_safe(child, tmp, &surface->children, child_link) {
		if (child->role == VMD_ROLE_POPUP) {
			popup_dismiss(child);
		}
		tree_unlink(child);
	}
	struct vmd_surface *other;
	wl_list_for_each(other, &ctx->surface_list, link) {
		if (other->toplevel_parent == surface) {
			other->toplevel_parent = NULL;
		}
	}
	if (surface->parent != NULL) {
		tree_unlink(surface);
	}

	if (surface->xdg_popup != NULL) {
		xdg_popup_destroy(surface->xdg_popup);
		surface->xdg_popup = NULL;
	}
	toplevel_objects_destroy(surface);
	if (surface->wl_subsurface != NULL) {
		wl_subsurface_destroy(surface->wl_subsurface);
	}
	if (surface->frame_callback != NULL) {
		wl_callback_destroy(surface->frame_callback);
	}
	struct vmd_feedback *feedback, *ftmp;
	wl_list_for_each_safe(feedback, ftmp, &surface->feedbacks, link) {
		feedback_destroy(feedback);
	}
	for (size_t i = 0; i < VMD_MAX_SURFACE_MIRRORS; i++) {
		if (surface->mirrors[i] != NULL) {
			vmd_surface_forget_mirror(surface, surface->mirrors[i]);
		}
	}
	vmd_session_surface_gone(session, surface);
	vmd_ctx_purge_backlog(ctx, true, surface->id);
	wl_surface_destroy(surface->wl_surface);

	vmd_id_map_remove(&ctx->surfaces, surface->id);
	wl_list_remove(&surface->link);
	session->n_surfaces--;
	free(surface->title);
	free(surface->app_id);
	free(surface);
}

/* --- dispatch --- */

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

/* SET_TITLE and SET_APP_ID: the text is kept (an unmap recreates the
 * toplevel) and set. */
static bool set_toplevel_string(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg,
		const char *field, bool title) {
	struct vmd_surface *surface = get_toplevel(ctx, msg->string.surface, field);
	if (surface == NULL) {
		return false;
	}
	neutralize_bidi(ctx->session->title, msg->string.text, msg->string.length);
	char **keep = title ? &surface->title : &surface->app_id;
	free(*keep);
	*keep = strdup(ctx->session->title);
	if (title) {
		xdg_toplevel_set_title(surface->xdg_toplevel, ctx->session->title);
	} else {
		xdg_toplevel_set_app_id(surface->xdg_toplevel, ctx->session->title);
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

static bool set_window_geometry(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_window_geometry *geometry = &msg->window_geometry;
	struct vmd_surface *surface = get_surface(ctx, geometry->surface,
		"SET_WINDOW_GEOMETRY.surface");
	if (surface == NULL || !require_xdg(ctx, surface, "SET_WINDOW_GEOMETRY.surface")) {
		return false;
	}
	if (surface->xdg_surface != NULL) {
		xdg_surface_set_window_geometry(surface->xdg_surface, geometry->x,
			geometry->y, geometry->width, geometry->height);
	}
	return true;
}

static bool subsurface_set_position(struct vmd_ctx *ctx,
		const struct tessera_wire_msg *msg) {
	const struct tessera_wire_subsurface_position *position = &msg->subsurface_position;
	struct vmd_surface *surface = get_subsurface(ctx, position->surface,
		"SUBSURFACE_SET_POSITION.surface");
	if (surface == NULL) {
		return false;
	}
	wl_subsurface_set_position(surface->wl_subsurface, position->x, position->y);
	return true;
}

static bool subsurface_set_sync(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	struct vmd_surface *surface = get_subsurface(ctx, msg->subsurface_sync.surface,
		"SUBSURFACE_SET_SYNC.surface");
	if (surface == NULL) {
		return false;
	}
	if (msg->subsurface_sync.sync) {
		wl_subsurface_set_sync(surface->wl_subsurface);
	} else {
		wl_subsurface_set_desync(surface->wl_subsurface);
	}
	return true;
}

static bool surface_destroy(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	struct vmd_surface *surface = get_surface(ctx, msg->surface.surface,
		"SURFACE_DESTROY.surface");
	if (surface == NULL) {
		return false;
	}
	vmd_surface_destroy(surface);
	return true;
}

/* The requests about surfaces and their roles, and their handlers. */
static const struct {
	uint16_t type;
	bool (*handle)(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg);
} requests[] = {
	{ TESSERA_WIRE_SURFACE_CREATE, surface_create },
	{ TESSERA_WIRE_SURFACE_DESTROY, surface_destroy },
	{ TESSERA_WIRE_COMMIT, surface_commit },
	{ TESSERA_WIRE_SET_INPUT_REGION, set_input_region },
	{ TESSERA_WIRE_SET_OPAQUE_REGION, set_opaque_region },
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
	{ TESSERA_WIRE_ACK_CONFIGURE, ack_configure },
	{ TESSERA_WIRE_SET_WINDOW_GEOMETRY, set_window_geometry },
	{ TESSERA_WIRE_POPUP_CREATE, popup_create },
	{ TESSERA_WIRE_POPUP_GRAB, popup_grab },
	{ TESSERA_WIRE_POPUP_REPOSITION, popup_reposition },
	{ TESSERA_WIRE_SUBSURFACE_CREATE, subsurface_create },
	{ TESSERA_WIRE_SUBSURFACE_SET_POSITION, subsurface_set_position },
	{ TESSERA_WIRE_SUBSURFACE_PLACE, subsurface_place },
	{ TESSERA_WIRE_SUBSURFACE_SET_SYNC, subsurface_set_sync },
	{ TESSERA_WIRE_SET_CURSOR, set_cursor },
};

bool vmd_surface_handle(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		if (requests[i].type == msg->type) {
			return requests[i].handle(ctx, msg);
		}
	}
	vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_UNKNOWN_TYPE, 0, "type",
		"request 0x%04x is not handled", msg->type);
	return false;
}
