/*
 * Host -> guest (events.c): a context's event ring (PROTOCOL.md §8), its
 * bounded backlog of state events, the WAIT doorbell (§9), the greeting
 * and outputs, and the guest's keymap area.
 */
#ifndef TESSERA_VMD_SESSION_EVENTS_H
#define TESSERA_VMD_SESSION_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wayland-util.h>

#include "guest-access.h"
#include "tessera-wire.h"

/* Buckets of the event backlog's coalescing index. */
#define VMD_BACKLOG_BUCKETS 256

struct vmd_ctx;
struct vmd_session;

/* The event ring of a context (EVENT_RING) and the events waiting for
 * room in it. */
struct vmd_event_ring {
	uint32_t resource;
	uint64_t offset;
	uint32_t size;
	uint64_t generation; /* memory table generation of map */
	struct vmd_area_map map;
	struct tessera_wire_ring_writer writer;
	bool corrupted; /* the guest broke the tail index: nothing is written */
	struct wl_list backlog; /* vmd_backlog_entry.link, in ring order */
	size_t backlog_len;
	struct wl_list backlog_index[VMD_BACKLOG_BUCKETS];
	bool input_dropped; /* resend focus once the ring drains */
};

/* Where the keymap goes (SET_KEYMAP_AREA). */
struct vmd_keymap_area {
	bool armed;
	uint32_t resource;
	uint32_t size;
	uint64_t offset;
	uint64_t sent_serial; /* vmd_wayland.keymap_serial written */
};

void vmd_ctx_events_init(struct vmd_ctx *ctx);
/* Drops the backlog and the ring's mapping. */
void vmd_ctx_events_finish(struct vmd_ctx *ctx);

/* EVENT_RING: maps and checks the ring; false after an error. */
bool vmd_ctx_register_ring(struct vmd_ctx *ctx, const struct tessera_wire_area *area);
/* HELLO_REPLY, repeat info, outputs (and the VERSION error). */
void vmd_ctx_send_greeting(struct vmd_ctx *ctx);
/* Writes an event into ctx's ring (or its backlog, or drops it, §8.6). */
void vmd_ctx_emit(struct vmd_ctx *ctx, const struct tessera_wire_msg *event);
/* Writes an event only if the ring has room for it and reserve bytes
 * more, with no backlog: false (nothing written, nothing dropped)
 * otherwise. For streams the session paces itself (the clipboard). */
bool vmd_ctx_emit_if_room(struct vmd_ctx *ctx, const struct tessera_wire_msg *event,
	uint32_t reserve);
/* Writes backlog entries that fit now. */
void vmd_ctx_flush_backlog(struct vmd_ctx *ctx);
/* Forgets backlog entries naming this surface / buffer. */
void vmd_ctx_purge_backlog(struct vmd_ctx *ctx, bool surface, uint32_t id);
/* The guest has events to read, or its ring is broken: a WAIT must not
 * hold. */
bool vmd_ctx_ring_ready(struct vmd_ctx *ctx);
/* A fatal error: its code goes into the ring's status word (§8.5). */
void vmd_ctx_ring_fail(struct vmd_ctx *ctx, uint32_t code);
/* Ring the doorbell at the end of this loop iteration if needed. */
void vmd_session_schedule_doorbell(struct vmd_session *session);

/* SET_KEYMAP_AREA */
void vmd_ctx_set_keymap_area(struct vmd_ctx *ctx, const struct tessera_wire_area *area);
/* Writes the compositor's keymap into the area if ctx has the keyboard
 * focus and has not got this keymap yet. */
void vmd_ctx_write_keymap(struct vmd_ctx *ctx);
/* The guest dropped resource id: no keymap goes there any more. */
void vmd_ctx_keymap_resource_gone(struct vmd_ctx *ctx, uint32_t id);
void vmd_ctx_send_repeat_info(struct vmd_ctx *ctx);

/* Follows the compositor's outputs. */
void vmd_session_events_init(struct vmd_session *session);
void vmd_session_events_finish(struct vmd_session *session);

#endif
