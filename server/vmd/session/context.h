/*
 * The core of the wire protocol session (session.h), shared by all its
 * parts.
 *
 * struct vmd_session is one per VM (one per device connection). Inside it,
 * every virtio-gpu context that sent HELLO is a struct vmd_ctx: a wire
 * protocol session of PROTOCOL.md with its own ring, objects and state.
 * Objects map onto Wayland objects on vmd's single compositor connection.
 *
 * The parts, each with the header of what the others use of it:
 *
 *   session.c       contexts, batches and their dispatch, errors, counters
 *                   (this header)
 *   id-map.c        the contexts' id -> object maps (id-map.h)
 *   events.c        the event ring: writing, backlog, doorbell, greeting,
 *                   outputs, keymap area (events.h)
 *   input.c         input focus, pointer and keyboard events (input.h)
 *   surface.c       surfaces (surface.h) and, inside that part (role.h),
 *                   their roles: xdg-surface.c, toplevel.c, popup.c,
 *                   subsurface.c, cursor.c; frame.c: frame callbacks and
 *                   presentation feedback (frame.h)
 *   buffer.c        buffers (buffer.h) and, inside that part (import.h),
 *                   the ways they reach the compositor: udmabuf.c, gmem.c,
 *                   shm.c
 *   guest-access.c  guest memory through a resource (guest-access.h)
 */
#ifndef TESSERA_VMD_SESSION_CONTEXT_H
#define TESSERA_VMD_SESSION_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wayland-client.h>

#include "buffer.h"
#include "events.h"
#include "id-map.h"
#include "input.h"
#include "session.h"
#include "share.h"
#include "tessera-wire.h"
#include "wayland.h"

/* Dead contexts remembered (their submissions keep failing). */
#define VMD_MAX_DEAD_CONTEXTS 256

enum vmd_ctx_state {
	VMD_CTX_GREETED, /* HELLO received, no ring yet */
	VMD_CTX_RUNNING, /* ring registered */
};

struct vmd_ctx {
	struct wl_list link; /* vmd_session.contexts */
	struct vmd_session *session;
	uint32_t ctx_id;
	enum vmd_ctx_state state;
	uint32_t version; /* negotiated, 0 if none */
	uint64_t features; /* HELLO.features this host implements too (§4.3):
			    * enabled in HELLO_REPLY */
	bool wait_pending; /* the device holds a WAIT of this context */
	bool fatal; /* a fatal error happened: tear down after the batch */

	struct vmd_event_ring ring;
	struct vmd_keymap_area keymap;

	/* objects */
	struct vmd_id_map surfaces;
	struct vmd_id_map buffers;
	struct wl_list surface_list; /* vmd_surface.link, creation order */
	struct wl_list buffer_list; /* vmd_buffer.link */
	uint32_t last_surface_id, last_buffer_id;

	/* the message being processed (for errors) */
	uint16_t msg_type;
	size_t msg_offset;
};

struct vmd_session {
	struct vmd_wayland *wayland;
	char *vm_name;
	struct tessera_vm_settings limits; /* max-surfaces, -buffers, ... */
	const struct vmd_session_device *device;
	void *device_data;

	struct wl_list contexts; /* vmd_ctx.link */
	size_t n_contexts;
	uint32_t dead[VMD_MAX_DEAD_CONTEXTS];
	size_t n_dead, next_dead;

	/* per-VM totals, checked against limits */
	uint32_t n_surfaces, n_buffers;
	uint64_t buffer_bytes;
	uint64_t release_point; /* last one written */
	uint32_t fence_retired; /* the device's last fence done (surface.c) */
	struct vmd_session_stats stats;
	uint64_t errors_logged;

	struct vmd_gmem gmem;
	struct vmd_udmabuf udmabuf;
	struct vmd_input input;

	/* events.c */
	struct wl_listener output;
	struct wl_listener output_remove;
	struct wl_event_source *idle; /* the doorbell */

	/* clipboard.c: the user's transfers to and from this VM */
	struct vmd_clipboard *clipboard;

	/* toplevel.c: sends the titles that came too soon after the last */
	struct wl_event_source *title_timer;
	bool title_timer_armed;

	bool destroying;
	/* the text of a SET_TITLE or SET_APP_ID being cleaned (toplevel.c;
	 * big enough for either) */
	char toplevel_text[sizeof(((struct tessera_wire_string *)NULL)->text)];
	/* the message being decoded (big: not on the stack) */
	struct tessera_wire_msg msg;
};

/* clipboard.c: CLIPBOARD_DATA and CLIPBOARD_FAIL of a context, and the
 * pacing of pastes into its ring (after each batch). */
struct vmd_clipboard *vmd_clipboard_create(struct vmd_session *session);
void vmd_clipboard_destroy(struct vmd_clipboard *clipboard);
bool vmd_clipboard_handle(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg);
void vmd_clipboard_pump(struct vmd_clipboard *clipboard);
/* The context goes: its transfers fail. */
void vmd_clipboard_ctx_gone(struct vmd_clipboard *clipboard, struct vmd_ctx *ctx);

/* A protocol error of ctx: logs, writes ERROR; fatal codes (< 0x100) mark
 * the context for teardown. object: the id the error is about. */
void vmd_ctx_error(struct vmd_ctx *ctx, uint32_t code, uint32_t object,
	const char *field, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Logs a line prefixed with the VM name (and the context). */
void vmd_session_log(struct vmd_session *session, int importance,
	const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Tears down contexts that had a fatal error. */
void vmd_session_reap(struct vmd_session *session);
/* The device's resource of this id with its backing, or NULL. */
const struct vmd_resource *vmd_session_get_resource(struct vmd_session *session,
	uint32_t id);
/* The device's guest memory table, or NULL. */
struct tessera_memory_table *vmd_session_memory(struct vmd_session *session);

#endif
