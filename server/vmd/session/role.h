/*
 * Inside the surfaces part: what surface.c shares with the role files
 * (xdg-surface.c, toplevel.c, popup.c, subsurface.c, cursor.c) and they
 * with each other. Not for the rest of the session (see surface.h).
 *
 * Everything the guest asks is checked first so that vmd never sends the
 * compositor a request that is a protocol error: such an error would end
 * vmd's connection and with it every window of the VM.
 */
#ifndef TESSERA_VMD_SESSION_ROLE_H
#define TESSERA_VMD_SESSION_ROLE_H

#include <stdbool.h>
#include <stdint.h>

#include "surface.h"
#include "tessera-wire.h"

struct vmd_ctx;

/* A request and its handler (false after an error). Each file has a table
 * of the requests it handles, ending with a NULL handler. */
struct vmd_surface_request {
	uint16_t type;
	bool (*handle)(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg);
};

extern const struct vmd_surface_request vmd_xdg_surface_requests[];
extern const struct vmd_surface_request vmd_toplevel_requests[];
extern const struct vmd_surface_request vmd_popup_requests[];
extern const struct vmd_surface_request vmd_subsurface_requests[];
extern const struct vmd_surface_request vmd_cursor_requests[];

/* --- surface.c --- */

const char *vmd_role_name(enum vmd_role role);
/* The surface of id, or NULL after a NO_OBJECT error naming field. */
struct vmd_surface *vmd_surface_get(struct vmd_ctx *ctx, uint32_t id, const char *field);
/* false after a ROLE error unless the surface has this role. */
bool vmd_surface_require_role(struct vmd_ctx *ctx, struct vmd_surface *surface,
	enum vmd_role role, const char *field);
/* false after an error unless the surface may get a role (xdg: an xdg
 * role, which a surface that committed a buffer cannot get). */
bool vmd_surface_require_no_role(struct vmd_ctx *ctx, struct vmd_surface *surface,
	const char *field, bool xdg);
/* An event naming just the surface (CLOSE, POPUP_DONE). */
void vmd_surface_emit(struct vmd_surface *surface, uint16_t type);
/* Whether surface may become a child of parent (no cycle, depth limit);
 * false after an error. */
bool vmd_surface_tree_check(struct vmd_ctx *ctx, struct vmd_surface *surface,
	struct vmd_surface *parent, const char *field);
void vmd_surface_tree_link(struct vmd_surface *surface, struct vmd_surface *parent);
/* Sends the input or opaque region the guest set, moved by the crop
 * (pending until the next commit); nothing if it set none. */
void vmd_surface_send_region(struct vmd_surface *surface, bool input);

/* --- xdg-surface.c --- */

/* The surface's xdg_surface, whose configures go to the guest. */
void vmd_xdg_surface_create(struct vmd_surface *surface);
/* Destroys the surface's xdg objects (popup, decoration, toplevel,
 * xdg_surface) that exist. */
void vmd_xdg_objects_destroy(struct vmd_surface *surface);
/*
 * Before the host commit of a toplevel or popup (surface->width, height
 * already those of what it shows): applies the pending window geometry
 * and crops the host surface to it (see xdg-surface.c).
 */
void vmd_xdg_surface_commit(struct vmd_surface *surface);
/* Sends a subsurface's position, moved by its parent's crop. */
void vmd_subsurface_send_position(struct vmd_surface *surface);

/* --- toplevel.c, popup.c --- */

/* A mapped toplevel committed no buffer: it starts over. */
void vmd_toplevel_remap(struct vmd_surface *surface);
/* Destroys the popup's xdg objects (child popups first) and tells the
 * guest (POPUP_DONE). */
void vmd_popup_dismiss(struct vmd_surface *surface);

#endif
