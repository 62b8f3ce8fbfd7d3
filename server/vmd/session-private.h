/*
 * Internals of the wire protocol session (session*.c), see session.h.
 *
 * struct vmd_session is one per VM (one per device connection). Inside it,
 * every virtio-gpu context that sent HELLO is a struct vmd_ctx: a wire
 * protocol session of PROTOCOL.md with its own ring, objects and state.
 * Objects map onto Wayland objects on vmd's single compositor connection.
 *
 * Files:
 *   session.c          contexts, batches, dispatch, errors, stats
 *   session-events.c   event ring: writing, backlog, doorbell, input,
 *                      outputs and keymaps
 *   session-surface.c  surfaces and their roles (xdg, subsurface, cursor)
 *   session-buffer.c   buffers: tessera_guest_memory_v1, wl_shm copies,
 *                      releases; guest memory access helpers
 *   session-udmabuf.c  buffers as udmabufs over the guest RAM memfds,
 *                      through linux-dmabuf (preferred when possible)
 */
#ifndef TESSERA_VMD_SESSION_PRIVATE_H
#define TESSERA_VMD_SESSION_PRIVATE_H

#include <pixman.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wayland-client.h>

#include "memory-table.h"
#include "session.h"
#include "tessera-wire.h"
#include "wayland.h"

/* Contexts with a live wire session at the same time. */
#define VMD_MAX_CONTEXTS 8
/* Dead contexts remembered (their submissions keep failing). */
#define VMD_MAX_DEAD_CONTEXTS 256
/* Configure serials a surface remembers until acked. */
#define VMD_MAX_CONFIGURES 16
/* Outstanding presentation feedbacks per surface. */
#define VMD_MAX_FEEDBACKS 32
/* Buffers whose mirrors a surface tracks for damage (wl_shm path). */
#define VMD_MAX_SURFACE_MIRRORS 8
/* Guest memory regions created on the compositor (its own limit is 16). */
#define VMD_MAX_GMEM_REGIONS TESSERA_MEMORY_TABLE_MAX_REGIONS
/* Our share of the compositor's per-client tessera_guest_memory_v1
 * budgets (1024 buffers, 4 GiB, 16384 mappings, 256 MiB and 8192x8192
 * per buffer, stride 32768): exceeding them is a protocol error that would
 * end the connection, so stay well below. Buffers destroyed while the
 * compositor still shows them count until it releases them, which we cannot
 * see: hence the margin. These apply until the compositor announces its
 * budget (tessera_guest_memory_v1.budget); then three quarters of it. */
#define VMD_GMEM_MAX_BUFFERS 768
#define VMD_GMEM_MAX_BYTES (UINT64_C(3) << 30)
#define VMD_GMEM_MAX_MAPPINGS 12288
#define VMD_GMEM_MAX_BUFFER_BYTES (UINT64_C(256) << 20)
#define VMD_GMEM_MAX_DIMENSION 8192
#define VMD_GMEM_MAX_STRIDE 32768
/* Extents per add_extents request (a Wayland message is at most 4 KiB). */
#define VMD_GMEM_EXTENTS_PER_REQUEST 200
/* Error log lines per VM before they are only counted. */
#define VMD_MAX_ERROR_LOGS 64
/* Buckets of the event backlog's coalescing index. */
#define VMD_BACKLOG_BUCKETS 256

struct vmd_ctx;
struct vmd_surface;
struct vmd_buffer;

/* Sorted id -> object map (ids of new objects always grow). */
struct vmd_id_map {
	uint32_t *ids;
	void **objs;
	size_t n, cap;
};

void *vmd_id_map_get(const struct vmd_id_map *map, uint32_t id);
bool vmd_id_map_add(struct vmd_id_map *map, uint32_t id, void *obj);
void vmd_id_map_remove(struct vmd_id_map *map, uint32_t id);
void vmd_id_map_finish(struct vmd_id_map *map);

/* A guest memory area mapped contiguously into vmd (the event ring). */
struct vmd_area_map {
	void *base; /* mmap()ed range, NULL if none */
	size_t size;
	uint8_t *ptr; /* first byte of the area */
};

/* An event that did not fit in the ring and must not be lost (§8.6). */
struct vmd_backlog_entry {
	struct wl_list link; /* vmd_ctx.backlog, in ring order */
	struct wl_list bucket_link; /* vmd_ctx.backlog_index[] */
	uint32_t key_class, key_a, key_b;
	size_t len;
	uint8_t record[]; /* encoded event */
};

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

	/* event ring */
	uint32_t ring_resource;
	uint64_t ring_offset;
	uint32_t ring_size;
	uint64_t ring_generation; /* memory generation of ring_map */
	struct vmd_area_map ring_map;
	struct tessera_wire_ring_writer ring;
	bool ring_broken;
	struct wl_list backlog; /* vmd_backlog_entry.link */
	size_t backlog_len;
	struct wl_list backlog_index[VMD_BACKLOG_BUCKETS];
	bool input_dropped; /* resend focus once the ring drains */
	bool wait_pending; /* the device holds a WAIT of this context */
	bool fatal; /* a fatal error happened: tear down after the batch */

	/* keymap area */
	bool keymap_armed;
	uint32_t keymap_resource;
	uint32_t keymap_area_size;
	uint64_t keymap_offset;
	uint64_t keymap_sent_serial; /* vmd_wayland.keymap_serial written */

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

enum vmd_role {
	VMD_ROLE_NONE,
	VMD_ROLE_TOPLEVEL,
	VMD_ROLE_POPUP,
	VMD_ROLE_SUBSURFACE,
	VMD_ROLE_CURSOR,
};

struct vmd_feedback {
	struct wl_list link; /* vmd_surface.feedbacks */
	struct vmd_surface *surface;
	struct wp_presentation_feedback *feedback;
	uint32_t serial;
	uint32_t output;
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
	int32_t min_width, min_height, max_width, max_height;
	/* serials of configures from before the last unmap */
	uint32_t stale_configures[VMD_MAX_CONFIGURES];
	size_t n_stale_configures;

	/* tree: subsurface and popup parent */
	struct vmd_surface *parent;
	struct wl_list children; /* vmd_surface.child_link */
	struct wl_list child_link;
	uint32_t depth; /* 0 for a root */

	/* subsurface */
	struct wl_subsurface *wl_subsurface;

	/* frames */
	struct wl_callback *frame_callback;
	uint32_t frame_serial; /* latest commit serial with FRAME */
	struct wl_list feedbacks; /* vmd_feedback.link */
	size_t n_feedbacks;

	/* the buffer of the last commit (NULL: none) */
	struct vmd_buffer *buffer;
	/* the compositor holds a buffer for this surface (xdg roles cannot
	 * be given then) */
	bool has_buffer;
	int32_t scale;
	/* wl_shm path: buffers recently shown here, for damage tracking */
	struct vmd_buffer *mirrors[VMD_MAX_SURFACE_MIRRORS];
};

enum vmd_buffer_kind {
	VMD_BUFFER_GMEM, /* tessera_guest_memory_v1: no copy */
	VMD_BUFFER_SHM, /* wl_shm mirror: damage copied */
	VMD_BUFFER_FAILED, /* could not import: commits show nothing */
	VMD_BUFFER_UDMABUF, /* udmabuf + linux-dmabuf: no copy */
};

struct vmd_buffer {
	struct wl_list link; /* vmd_ctx.buffer_list */
	struct vmd_ctx *ctx;
	uint32_t id;
	uint32_t resource;
	uint32_t format, width, height, stride;
	uint64_t offset;
	uint64_t bytes; /* stride * height, counted in the VM's budget */
	enum vmd_buffer_kind kind;
	struct wl_buffer *wl_buffer;
	bool busy; /* committed, not released yet (§10) */
	bool resource_gone; /* the guest dropped the resource: no more reads */

	/* udmabuf: memory table generation it was made from */
	uint64_t udmabuf_generation;
	uint64_t udmabuf_bytes;

	/* tessera_guest_memory_v1 */
	uint64_t gmem_generation;
	uint64_t gmem_bytes, gmem_mappings;

	/* wl_shm mirror */
	int shm_fd;
	uint8_t *shm_data;
	size_t shm_size;
	/* parts of the mirror that may differ from the guest's pixels */
	pixman_region32_t stale;
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
	struct vmd_session_stats stats;
	uint64_t errors_logged;

	/* tessera_guest_memory_v1 state for the current memory table */
	struct {
		bool created; /* regions exist for generation */
		uint64_t generation;
		struct tessera_guest_region_v1 *regions[VMD_MAX_GMEM_REGIONS];
		bool usable[VMD_MAX_GMEM_REGIONS];
		uint32_t buffers;
		uint64_t bytes, mappings;
	} gmem;

	/* udmabuf + linux-dmabuf (session-udmabuf.c) */
	struct {
		bool logged; /* the first use was logged */
		uint32_t buffers; /* live */
		uint64_t bytes;
		uint64_t created, failed; /* counters */
	} udmabuf;

	/* input */
	struct vmd_surface *pointer_focus;
	struct vmd_surface *keyboard_focus;
	uint32_t pointer_serial; /* of the last enter */
	wl_fixed_t pointer_x, pointer_y;
	uint32_t keyboard_serial;
	uint32_t pressed[TESSERA_WIRE_MAX_KEYS];
	size_t n_pressed;
	uint32_t mods[4]; /* depressed, latched, locked, group */

	struct wl_listener output;
	struct wl_listener output_remove;
	struct wl_event_source *idle;
	bool destroying;
	/* a title being cleaned (SET_TITLE / SET_APP_ID) */
	char title[TESSERA_WIRE_MAX_TITLE_LENGTH + 1];
	/* the message being decoded (big: not on the stack) */
	struct tessera_wire_msg msg;
};

/* --- session.c --- */

/* A protocol error of ctx: logs, writes ERROR; fatal codes (< 0x100) mark
 * the context for teardown. object: the id the error is about. */
void vmd_ctx_error(struct vmd_ctx *ctx, uint32_t code, uint32_t object,
	const char *field, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Logs a line prefixed with the VM name (and the context). */
void vmd_session_log(struct vmd_session *session, int importance,
	const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Tears down contexts that had a fatal error. */
void vmd_session_reap(struct vmd_session *session);
const struct vmd_resource *vmd_session_get_resource(struct vmd_session *session,
	uint32_t id);
struct tessera_memory_table *vmd_session_memory(struct vmd_session *session);

/* --- session-events.c --- */

/* Writes an event into ctx's ring (or its backlog, or drops it, §8.6). */
void vmd_ctx_emit(struct vmd_ctx *ctx, const struct tessera_wire_msg *event);
/* Writes backlog entries that fit now. */
void vmd_ctx_flush_backlog(struct vmd_ctx *ctx);
/* Forgets backlog entries naming this surface / buffer. */
void vmd_ctx_purge_backlog(struct vmd_ctx *ctx, bool surface, uint32_t id);
void vmd_ctx_free_backlog(struct vmd_ctx *ctx);
/* Ring the doorbell at the end of this loop iteration if needed. */
void vmd_session_schedule_doorbell(struct vmd_session *session);
/* EVENT_RING: maps and checks the ring; false after an error. */
bool vmd_ctx_register_ring(struct vmd_ctx *ctx, const struct tessera_wire_area *area);
void vmd_ctx_unmap_ring(struct vmd_ctx *ctx);
/* HELLO_REPLY, repeat info, outputs (and the VERSION error). */
void vmd_ctx_send_greeting(struct vmd_ctx *ctx);
/* SET_KEYMAP_AREA */
void vmd_ctx_set_keymap_area(struct vmd_ctx *ctx, const struct tessera_wire_area *area);
void vmd_session_events_init(struct vmd_session *session);
void vmd_session_events_finish(struct vmd_session *session);
/* A surface goes away: drop input focus on it. */
void vmd_session_surface_gone(struct vmd_session *session, struct vmd_surface *surface);
/* Serial of the last pointer enter on one of ctx's surfaces, or 0 with
 * *valid false if the pointer is elsewhere. */
bool vmd_ctx_pointer_serial(struct vmd_ctx *ctx, uint32_t *serial);

/* Area mapping of guest memory. */
bool vmd_area_map(const struct vmd_resource *res, uint64_t offset, uint64_t size,
	struct vmd_area_map *map, const char **why);
void vmd_area_unmap(struct vmd_area_map *map);

/* --- session-surface.c --- */

bool vmd_surface_handle(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg);
void vmd_surface_destroy(struct vmd_surface *surface);
struct vmd_surface *vmd_surface_from_wl_surface(struct wl_surface *wl_surface);
/* The surface's wl_buffer changed role-independent state. */

/* --- session-buffer.c --- */

bool vmd_buffer_create(struct vmd_ctx *ctx, const struct tessera_wire_buffer_create *bc);
void vmd_buffer_destroy(struct vmd_buffer *buffer);
/* Prepares buffer for being attached to surface by a commit: recreates a
 * stale import, copies damage into a wl_shm mirror. Returns the wl_buffer
 * to attach (NULL: show nothing). */
struct wl_buffer *vmd_buffer_prepare_commit(struct vmd_buffer *buffer,
	struct vmd_surface *surface, const struct tessera_wire_commit *commit);
/* The buffer is now shown by a commit: busy until released. */
void vmd_buffer_mark_busy(struct vmd_buffer *buffer);
/* Writes BUFFER_RELEASE for a busy buffer. */
void vmd_buffer_release(struct vmd_buffer *buffer);
/* The surface shows no buffer now: its mirrors' contents no longer match
 * what is shown, the next damage is relative to nothing. */
void vmd_surface_mirrors_stale(struct vmd_surface *surface);
/* The surface forgets a buffer as a mirror (surface or buffer gone). */
void vmd_surface_forget_mirror(struct vmd_surface *surface, struct vmd_buffer *buffer);
void vmd_session_gmem_reset(struct vmd_session *session);
/* --- session-udmabuf.c --- */

/* Makes buffer a udmabuf over the guest RAM memfds and a linux-dmabuf
 * wl_buffer (create_immed); false (nothing changed) if that is not
 * possible: no /dev/udmabuf, no linux-dmabuf with the format, extents not
 * page-aligned, limits, or the kernel refused. */
bool vmd_udmabuf_import(struct vmd_buffer *buffer, const struct vmd_resource *res);
/* The buffer's wl_buffer is gone: its budget is free again. */
void vmd_udmabuf_release_budget(struct vmd_buffer *buffer);
/* Sets the wl_buffer listener (session-buffer.c). */
void vmd_buffer_listen(struct vmd_buffer *buffer);

/* Writes len bytes at offset of a resource's backing (scatter). */
bool vmd_resource_write(const struct vmd_resource *res, uint64_t offset,
	const void *src, size_t len);

#endif
