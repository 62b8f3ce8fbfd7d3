/*
 * Input (input.c): the compositor's pointer and keyboard focus on the
 * VM's surfaces, and the input events it sends, into the ring of the
 * context owning the focused surface.
 */
#ifndef TESSERA_VMD_SESSION_INPUT_H
#define TESSERA_VMD_SESSION_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wayland-util.h>

#include "tessera-wire.h"

struct vmd_ctx;
struct vmd_session;
struct vmd_surface;

/* The session's view of the seat. */
struct vmd_input {
	struct vmd_surface *pointer_focus;
	struct vmd_surface *keyboard_focus;
	uint32_t pointer_serial; /* of the last enter */
	wl_fixed_t pointer_x, pointer_y;
	uint32_t keyboard_serial;
	uint32_t pressed[TESSERA_WIRE_MAX_KEYS];
	size_t n_pressed;
	uint32_t mods[4]; /* depressed, latched, locked, group */
};

/* The session becomes the compositor connection's input handler. */
void vmd_session_input_init(struct vmd_session *session);
void vmd_session_input_finish(struct vmd_session *session);
/* A surface goes away: drop input focus on it. */
void vmd_input_surface_gone(struct vmd_session *session, struct vmd_surface *surface);
/* Serial of the last pointer enter on one of ctx's surfaces; false if the
 * pointer is elsewhere. */
bool vmd_ctx_pointer_serial(struct vmd_ctx *ctx, uint32_t *serial);
bool vmd_ctx_has_keyboard_focus(struct vmd_ctx *ctx);
/* After input events were dropped: leave and enter again with the current
 * state, so that no button or key stays stuck in the guest (§8.6). */
void vmd_ctx_resend_focus(struct vmd_ctx *ctx);

#endif
