/*
 * Subsurfaces (PROTOCOL.md §6.6): wl_subsurface, its position, stacking
 * and sync mode.
 */
#include "context.h"
#include "role.h"

static bool subsurface_create(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_subsurface_create *sc = &msg->subsurface_create;
	struct vmd_wayland *wayland = ctx->session->wayland;
	struct vmd_surface *surface = vmd_surface_get(ctx, sc->surface,
		"SUBSURFACE_CREATE.surface");
	if (surface == NULL ||
			!vmd_surface_require_no_role(ctx, surface, "SUBSURFACE_CREATE", false)) {
		return false;
	}
	struct vmd_surface *parent = vmd_surface_get(ctx, sc->parent,
		"SUBSURFACE_CREATE.parent");
	if (parent == NULL) {
		return false;
	}
	if (parent == surface) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, sc->parent,
			"SUBSURFACE_CREATE.parent", "a surface cannot be its own parent");
		return false;
	}
	if (!vmd_surface_tree_check(ctx, surface, parent, "SUBSURFACE_CREATE.parent")) {
		return false;
	}
	if (wayland->subcompositor == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_HOST, sc->surface, "SUBSURFACE_CREATE",
			"the compositor has no wl_subcompositor");
		return false;
	}
	surface->role = VMD_ROLE_SUBSURFACE;
	vmd_surface_tree_link(surface, parent);
	surface->wl_subsurface = wl_subcompositor_get_subsurface(wayland->subcompositor,
		surface->wl_surface, parent->wl_surface);
	surface->subsurface_x = surface->subsurface_y = 0;
	if (parent->crop.x != 0 || parent->crop.y != 0) {
		vmd_subsurface_send_position(surface); /* (0, 0) of a cropped parent */
	}
	return true;
}

static struct vmd_surface *get_subsurface(struct vmd_ctx *ctx, uint32_t id,
		const char *field) {
	struct vmd_surface *surface = vmd_surface_get(ctx, id, field);
	if (surface == NULL ||
			!vmd_surface_require_role(ctx, surface, VMD_ROLE_SUBSURFACE, field)) {
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
	struct vmd_surface *sibling = vmd_surface_get(ctx, sp->sibling,
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

static bool subsurface_set_position(struct vmd_ctx *ctx,
		const struct tessera_wire_msg *msg) {
	const struct tessera_wire_subsurface_position *position = &msg->subsurface_position;
	struct vmd_surface *surface = get_subsurface(ctx, position->surface,
		"SUBSURFACE_SET_POSITION.surface");
	if (surface == NULL) {
		return false;
	}
	surface->subsurface_x = position->x;
	surface->subsurface_y = position->y;
	vmd_subsurface_send_position(surface);
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

const struct vmd_surface_request vmd_subsurface_requests[] = {
	{ TESSERA_WIRE_SUBSURFACE_CREATE, subsurface_create },
	{ TESSERA_WIRE_SUBSURFACE_SET_POSITION, subsurface_set_position },
	{ TESSERA_WIRE_SUBSURFACE_PLACE, subsurface_place },
	{ TESSERA_WIRE_SUBSURFACE_SET_SYNC, subsurface_set_sync },
	{ 0, NULL },
};
