/*
 * The xdg_surface of toplevels and popups (PROTOCOL.md §6.4, §6.5): the
 * configure sequence (CONFIGURE / POPUP_CONFIGURE, ACK_CONFIGURE) and the
 * window geometry.
 *
 * The host surface of a toplevel or popup is cropped to its window
 * geometry: what a client-side decorated guest window draws around it
 * (shadows, resize margins) is cut off by a wp_viewport source rectangle,
 * so tessera's frame, which goes around everything a VM window shows,
 * touches the window. The host's window geometry, the positions of the
 * surface's subsurfaces and the pointer coordinates on it are moved by
 * the crop's origin so that the guest sees its own coordinates.
 */
#include <string.h>

#include "context.h"
#include "role.h"
#include "viewporter-client-protocol.h"
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
	surface->host_geometry_sent = false;
}

/* --- the crop to the window geometry --- */

static bool rect_equal(const struct tessera_wire_rect *a, const struct tessera_wire_rect *b) {
	return a->x == b->x && a->y == b->y && a->width == b->width && a->height == b->height;
}

/* The part of the surface (width x height) inside the geometry; the whole
 * surface when there is no geometry or it misses the surface. */
static struct tessera_wire_rect crop_rect(const struct vmd_surface *surface) {
	struct tessera_wire_rect whole = { 0, 0, surface->width, surface->height };
	if (!surface->has_geometry || surface->width <= 0 || surface->height <= 0) {
		return whole;
	}
	const struct tessera_wire_rect *g = &surface->geometry;
	/* 64 bits: the wire bounds coordinates and dimensions, not sums */
	int64_t x1 = g->x > 0 ? g->x : 0, y1 = g->y > 0 ? g->y : 0;
	int64_t x2 = (int64_t)g->x + g->width, y2 = (int64_t)g->y + g->height;
	if (x2 > surface->width) {
		x2 = surface->width;
	}
	if (y2 > surface->height) {
		y2 = surface->height;
	}
	if (x2 <= x1 || y2 <= y1) {
		return whole;
	}
	return (struct tessera_wire_rect){ (int32_t)x1, (int32_t)y1,
		(int32_t)(x2 - x1), (int32_t)(y2 - y1) };
}

void vmd_subsurface_send_position(struct vmd_surface *surface) {
	int32_t x = surface->subsurface_x, y = surface->subsurface_y;
	if (surface->parent != NULL) {
		x -= surface->parent->crop.x;
		y -= surface->parent->crop.y;
	}
	wl_subsurface_set_position(surface->wl_subsurface, x, y);
}

/* Sets or unsets the viewport for the crop; false (nothing cropped) when
 * the compositor has no viewporter. */
static bool apply_viewport(struct vmd_surface *surface, const struct tessera_wire_rect *crop,
		bool cropped) {
	struct wp_viewporter *viewporter = surface->ctx->session->wayland->viewporter;
	if (viewporter == NULL) {
		return false;
	}
	if (surface->viewport == NULL) {
		if (!cropped) {
			return true;
		}
		surface->viewport = wp_viewporter_get_viewport(viewporter, surface->wl_surface);
	}
	if (cropped) {
		wp_viewport_set_source(surface->viewport, wl_fixed_from_int(crop->x),
			wl_fixed_from_int(crop->y), wl_fixed_from_int(crop->width),
			wl_fixed_from_int(crop->height));
		wp_viewport_set_destination(surface->viewport, crop->width, crop->height);
	} else {
		wp_viewport_set_source(surface->viewport, wl_fixed_from_int(-1),
			wl_fixed_from_int(-1), wl_fixed_from_int(-1), wl_fixed_from_int(-1));
		wp_viewport_set_destination(surface->viewport, -1, -1);
	}
	return true;
}

void vmd_xdg_surface_commit(struct vmd_surface *surface) {
	if (surface->has_geometry_pending) {
		surface->geometry = surface->geometry_pending;
		surface->has_geometry = true;
		surface->has_geometry_pending = false;
	}
	struct tessera_wire_rect crop = crop_rect(surface);
	bool cropped = crop.x != 0 || crop.y != 0 || crop.width != surface->width ||
		crop.height != surface->height;
	if (cropped != surface->cropped || !rect_equal(&crop, &surface->crop)) {
		if (!apply_viewport(surface, &crop, cropped)) {
			crop = (struct tessera_wire_rect){ 0, 0, surface->width, surface->height };
			cropped = false;
		}
		bool moved = crop.x != surface->crop.x || crop.y != surface->crop.y;
		surface->crop = crop;
		surface->cropped = cropped;
		if (moved) {
			struct vmd_surface *child;
			wl_list_for_each(child, &surface->children, child_link) {
				if (child->role == VMD_ROLE_SUBSURFACE) {
					vmd_subsurface_send_position(child);
				}
			}
			vmd_surface_send_region(surface, true);
			vmd_surface_send_region(surface, false);
		}
	}
	if (surface->has_geometry && surface->xdg_surface != NULL) {
		struct tessera_wire_rect host = surface->geometry;
		host.x -= crop.x;
		host.y -= crop.y;
		if (!surface->host_geometry_sent || !rect_equal(&host, &surface->host_geometry)) {
			xdg_surface_set_window_geometry(surface->xdg_surface, host.x, host.y,
				host.width, host.height);
			surface->host_geometry = host;
			surface->host_geometry_sent = true;
		}
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
	/* sent to the host at the commit, moved by the crop */
	surface->geometry_pending = (struct tessera_wire_rect){ geometry->x, geometry->y,
		geometry->width, geometry->height };
	surface->has_geometry_pending = true;
	return true;
}

const struct vmd_surface_request vmd_xdg_surface_requests[] = {
	{ TESSERA_WIRE_ACK_CONFIGURE, ack_configure },
	{ TESSERA_WIRE_SET_WINDOW_GEOMETRY, set_window_geometry },
	{ 0, NULL },
};
