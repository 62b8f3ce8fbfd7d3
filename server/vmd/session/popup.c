/*
 * Popups (PROTOCOL.md §6.5): xdg_popup with its positioner, grabs,
 * repositioning, and dismissal (POPUP_DONE).
 */
#include "context.h"
#include "role.h"
#include "xdg-shell-client-protocol.h"

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
	vmd_popup_dismiss(surface);
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
void vmd_popup_dismiss(struct vmd_surface *surface) {
	if (surface->dismissed) {
		return;
	}
	struct vmd_surface *child;
	wl_list_for_each(child, &surface->children, child_link) {
		if (child->role == VMD_ROLE_POPUP) {
			vmd_popup_dismiss(child);
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
	vmd_surface_emit(surface, TESSERA_WIRE_POPUP_DONE);
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
	struct vmd_surface *surface = vmd_surface_get(ctx, pc->surface, "POPUP_CREATE.surface");
	if (surface == NULL ||
			!vmd_surface_require_no_role(ctx, surface, "POPUP_CREATE", true)) {
		return false;
	}
	struct vmd_surface *parent = vmd_surface_get(ctx, pc->parent, "POPUP_CREATE.parent");
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
	if (!vmd_surface_tree_check(ctx, surface, parent, "POPUP_CREATE.parent")) {
		return false;
	}
	surface->role = VMD_ROLE_POPUP;
	vmd_surface_tree_link(surface, parent);
	if (parent->xdg_surface == NULL) {
		/* the parent popup was dismissed: so is this one */
		surface->dismissed = true;
		vmd_surface_emit(surface, TESSERA_WIRE_POPUP_DONE);
		return true;
	}
	struct xdg_positioner *positioner = positioner_create(ctx, &pc->positioner);
	vmd_xdg_surface_create(surface);
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
	struct vmd_surface *surface = vmd_surface_get(ctx, grab->surface, "POPUP_GRAB.surface");
	if (surface == NULL || !vmd_surface_require_role(ctx, surface, VMD_ROLE_POPUP,
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
	struct vmd_surface *surface = vmd_surface_get(ctx, rp->surface,
		"POPUP_REPOSITION.surface");
	if (surface == NULL || !vmd_surface_require_role(ctx, surface, VMD_ROLE_POPUP,
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

const struct vmd_surface_request vmd_popup_requests[] = {
	{ TESSERA_WIRE_POPUP_CREATE, popup_create },
	{ TESSERA_WIRE_POPUP_GRAB, popup_grab },
	{ TESSERA_WIRE_POPUP_REPOSITION, popup_reposition },
	{ 0, NULL },
};
