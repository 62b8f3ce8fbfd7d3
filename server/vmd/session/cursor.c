/*
 * The cursor (PROTOCOL.md §6.7): a surface shown as the pointer's image
 * while the pointer is on one of the context's surfaces.
 */
#include "context.h"
#include "role.h"

static bool set_cursor(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_set_cursor *sc = &msg->set_cursor;
	struct vmd_wayland *wayland = ctx->session->wayland;
	struct vmd_surface *surface = NULL;
	if (sc->surface != 0) {
		surface = vmd_surface_get(ctx, sc->surface, "SET_CURSOR.surface");
		if (surface == NULL) {
			return false;
		}
		if (surface->role != VMD_ROLE_NONE && surface->role != VMD_ROLE_CURSOR) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ROLE, sc->surface,
				"SET_CURSOR.surface", "surface %u is a %s", sc->surface,
				vmd_role_name(surface->role));
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

const struct vmd_surface_request vmd_cursor_requests[] = {
	{ TESSERA_WIRE_SET_CURSOR, set_cursor },
	{ 0, NULL },
};
