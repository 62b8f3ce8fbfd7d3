/*
 * Frame callbacks and presentation feedback of a surface's commits
 * (frame.c): FRAME_DONE and PRESENTED events.
 */
#ifndef TESSERA_VMD_SESSION_FRAME_H
#define TESSERA_VMD_SESSION_FRAME_H

#include <stdint.h>

#include "tessera-wire.h"

struct vmd_surface;

/* COMMIT with FRAME: FRAME_DONE for serial when the compositor asks for
 * the next frame. */
void vmd_frame_request(struct vmd_surface *surface, uint32_t serial);
/* COMMIT with PRESENTATION: PRESENTED for serial when the compositor
 * presents or discards the commit (discarded at once past the limit). */
void vmd_frame_request_feedback(struct vmd_surface *surface, uint32_t serial);
/* A commit that is not shown: its FRAME_DONE and PRESENTED (discarded)
 * at once. */
void vmd_frame_complete_now(struct vmd_surface *surface,
	const struct tessera_wire_commit *commit);
/* The surface goes: its frame callback and feedbacks are dropped. */
void vmd_frame_finish(struct vmd_surface *surface);

#endif
