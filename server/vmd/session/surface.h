/*
 * Guest surfaces (surface.c) and their roles (role.h): what the rest of
 * the session uses of them.
 */
#ifndef TESSERA_VMD_SESSION_SURFACE_H
#define TESSERA_VMD_SESSION_SURFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wayland-client.h>

#include "tessera-wire.h"

/* Configure serials a surface remembers until acked. */
#define VMD_MAX_CONFIGURES 16
/* Buffers whose mirrors a surface tracks for damage (wl_shm path). */
#define VMD_MAX_SURFACE_MIRRORS 8
/* Commits of a surface waiting for the host's rendering (a fence, see
 * struct vmd_session_device.fence); one more applies the oldest now. */
#define VMD_MAX_DEFERRED_COMMITS 4

struct vmd_ctx;
struct vmd_buffer;

/* A region of a surface as the guest set it. */
struct vmd_region {
	bool infinite;
	uint32_t count;
	struct tessera_wire_rect rects[];
};

enum vmd_role {
	VMD_ROLE_NONE,
	VMD_ROLE_TOPLEVEL,
	VMD_ROLE_POPUP,
	VMD_ROLE_SUBSURFACE,
	VMD_ROLE_CURSOR,
};

struct vmd_surface {
	struct wl_list link; /* vmd_ctx.surface_list */
	struct vmd_ctx *ctx;
	uint32_t id;
	enum vmd_role role;
	struct wl_surface *wl_surface;

	/* toplevel and popup */
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *xdg_toplevel;
	struct zxdg_toplevel_decoration_v1 *decoration;
	struct xdg_popup *xdg_popup;
	bool initial_commit; /* the first (buffer-less) commit happened */
	bool acked; /* a configure was acknowledged */
	bool dismissed; /* popup: POPUP_DONE sent, xdg objects gone */
	bool grabbed;
	uint32_t configures[VMD_MAX_CONFIGURES]; /* unacked serials, oldest first */
	size_t n_configures;
	int32_t pending_width, pending_height;
	uint32_t pending_states;
	uint32_t decoration_mode;
	int32_t popup_x, popup_y, popup_width, popup_height;
	struct vmd_surface *toplevel_parent; /* TOPLEVEL_SET_PARENT */
	/* as last set, sent again after an unmap recreated the xdg objects */
	char *title, *app_id;
	/* the title waits for the session's title timer (toplevel.c) */
	bool title_pending;
	int64_t title_sent_ms;
	int32_t min_width, min_height, max_width, max_height;
	/* serials of configures from before the last unmap */
	uint32_t stale_configures[VMD_MAX_CONFIGURES];
	size_t n_stale_configures;
	/* The window geometry (xdg-surface.c): the guest's, pending until its
	 * commit, and the crop of the host surface to it. What the guest
	 * draws outside it (shadows) is cut off by a viewport, so the host
	 * surface is the geometry; its subsurfaces and the pointer are moved
	 * by the crop's origin. */
	struct tessera_wire_rect geometry_pending, geometry;
	bool has_geometry_pending, has_geometry;
	struct wp_viewport *viewport;
	struct tessera_wire_rect crop; /* host surface in guest surface coordinates */
	bool cropped;
	/* what the host xdg_surface last got (reset with the xdg objects) */
	struct tessera_wire_rect host_geometry;
	bool host_geometry_sent;
	int32_t width, height; /* surface size of the last buffer shown */
	/* the regions as the guest set them last (NULL: never), sent again
	 * moved when the crop moves */
	struct vmd_region *input_region, *opaque_region;

	/* tree: subsurface and popup parent */
	struct vmd_surface *parent;
	struct wl_list children; /* vmd_surface.child_link */
	struct wl_list child_link;
	uint32_t depth; /* 0 for a root */

	/* subsurface */
	struct wl_subsurface *wl_subsurface;
	int32_t subsurface_x, subsurface_y; /* as the guest placed it */

	/* frames (frame.c) */
	struct wl_callback *frame_callback;
	uint32_t frame_serial; /* latest commit serial with FRAME */
	struct wl_list feedbacks; /* vmd_feedback.link */
	size_t n_feedbacks;

	/* the compositor holds a buffer for this surface (xdg roles cannot
	 * be given then) */
	bool has_buffer;
	int32_t scale;
	/* wl_shm path: buffers recently shown here, for damage tracking */
	struct vmd_buffer *mirrors[VMD_MAX_SURFACE_MIRRORS];
	/* COMMITs not applied yet, oldest first: one of a host-rendered
	 * buffer waits for its fence, the ones behind it wait too (order) */
	struct wl_list deferred; /* vmd_deferred_commit.link */
	size_t n_deferred;
};

/* A request about surfaces and roles; false after an error. */
bool vmd_surface_handle(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg);
void vmd_surface_destroy(struct vmd_surface *surface);
/* Applies the deferred commits whose fences have retired (session's
 * fence_retired), in order. */
void vmd_surface_apply_deferred(struct vmd_surface *surface);
/* The session surface of a wl_surface of vmd's connection, or NULL. */
struct vmd_surface *vmd_surface_from_wl_surface(struct wl_surface *wl_surface);

#endif
