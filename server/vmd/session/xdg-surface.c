/*
 * The xdg_surface of toplevels and popups (PROTOCOL.md §6.4, §6.5): the
 * configure sequence (CONFIGURE / POPUP_CONFIGURE, ACK_CONFIGURE) and the
 * window geometry.
 */
#include <string.h>

#include "context.h"
#include "role.h"
#include "xdg-decoration-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

static bool require_xdg(struct vmd_ctx *ctx, struct vmd_surface *surface,
		const char *field) {
	if (surface->role != VMD_ROLE_TOPLEVEL && surface->role != VMD_ROLE_POPUP) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ROLE, surface->id, field,
			"surface %u is a %s, not a toplevel or popup", surface->id,
			vmd_role_name(surface->role));
		return false;
	}
	return true;
}

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

void vmd_xdg_surface_create(struct vmd_surface *surface) {
	struct vmd_wayland *wayland = surface->ctx->session->wayland;
	surface->xdg_surface = xdg_wm_base_get_xdg_surface(wayland->wm_base,
		surface->wl_surface);
	xdg_surface_add_listener(surface->xdg_surface, &xdg_surface_listener, surface);
}

void vmd_xdg_objects_destroy(struct vmd_surface *surface) {
	if (surface->xdg_popup != NULL) {
		xdg_popup_destroy(surface->xdg_popup);
		surface->xdg_popup = NULL;
	}
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

static bool ack_configure(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_surface_serial *ack = &msg->surface_serial;
	struct vmd_surface *surface = vmd_surface_get(ctx, ack->surface,
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

static bool set_window_geometry(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_window_geometry *geometry = &msg->window_geometry;
	struct vmd_surface *surface = vmd_surface_get(ctx, geometry->surface,
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

const struct vmd_surface_request vmd_xdg_surface_requests[] = {
	{ TESSERA_WIRE_ACK_CONFIGURE, ack_configure },
	{ TESSERA_WIRE_SET_WINDOW_GEOMETRY, set_window_geometry },
	{ 0, NULL },
};
