/*
 * tessera-agent: a wlroots compositor inside the guest that forwards every
 * client surface tree to the host (tessera-vmd) over the wire protocol
 * (protocol/PROTOCOL.md) and turns the host's events back into Wayland
 * events for the right guest client. It renders nothing.
 *
 * Modules:
 *   main.c     command line, the -s command
 *   server.c   the wlroots objects
 *   host.c     the session with the host: connect/reconnect, batches,
 *              the event ring, the WAIT doorbell, event dispatch
 *   surface.c  guest surfaces and their roles (xdg toplevel/popup,
 *              subsurface, cursor), the configure handshake, sessions
 *   commit.c   what one commit sends the host (state, regions,
 *              subsurface stacking, COMMIT with buffer and damage); its
 *              frame callbacks and presentation feedback
 *   buffer.c   what a commit shows on the host: zero-copy virtio-gpu
 *              dmabufs, or a per-surface pool of agent resources that shm
 *              and foreign dmabufs are copied into (damage only)
 *   seat.c     host keyboard/pointer events into the guest seat, cursor,
 *              selection within the VM
 *   clipboard.c the user's clipboard transfers with the host (the
 *              CLIPBOARD feature): the selection read and set
 *   output.c   host outputs as headless wlr_outputs
 *   xwayland.c Xwayland (wlr_xwayland): X11 windows as toplevels,
 *              override-redirect windows as popups of their parent
 */
#ifndef TESSERA_AGENT_H
#define TESSERA_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <pixman.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/util/box.h>

#include "log.h"
#include "tessera-wire.h"
#include "transport.h"

struct wlr_surface;
struct wlr_xdg_surface;
struct wlr_subsurface;
struct wlr_output;
struct wlr_presentation_feedback;
struct wlr_xdg_toplevel_decoration_v1;
struct wlr_xwayland_surface;
struct agent_xwayland;
struct agent_clipboard;

/* Agent-side limits (the host enforces its own). */
#define AGENT_MAX_SURFACES 1000 /* below TESSERA_WIRE_MAX_SURFACES */
#define AGENT_POOL_SIZE 4 /* copy buffers per surface */
#define AGENT_RING_DATA_SIZE (64 * 1024)
#define AGENT_KEYMAP_AREA_SIZE (1024 * 1024)
#define AGENT_SERIAL_MAP 16 /* guest configure serial -> host serial */
#define AGENT_RECONNECT_MS 500
#define AGENT_MAX_OUTPUTS 16
#define AGENT_MAX_SHARES 16 /* windows of other VMs shared into this one */
#define AGENT_SHARE_BUFFERS 3 /* buffers per share the host copies into */

enum agent_role {
	AGENT_ROLE_NONE,
	AGENT_ROLE_TOPLEVEL,
	AGENT_ROLE_POPUP,
	AGENT_ROLE_SUBSURFACE,
	AGENT_ROLE_CURSOR,
};

/* A buffer as the host knows it (BUFFER_CREATE): either a pool buffer the
 * agent copies into, or a client dmabuf forwarded as is. */
struct agent_wire_buffer {
	uint32_t id; /* host buffer id, 0 when not created in this session */
	struct agent_resource res;
	uint32_t format, width, height, stride;
	bool busy; /* committed; waiting for BUFFER_RELEASE */
	bool flattened; /* the copy has the viewport applied ... */
	int32_t flattened_scale; /* ... at this buffer scale */
	/* the forwarded client buffer this is (locked until its release) */
	struct wlr_buffer *locked;
};

struct agent_pool_buffer {
	struct agent_wire_buffer wire;
	pixman_region32_t stale; /* what differs from the surface's content */
	uint64_t last_used;
};

/* A client dmabuf from the virtio-gpu device, forwarded with zero copies:
 * attached to the client's wlr_buffer as an addon. */
struct agent_direct_buffer {
	struct agent_wire_buffer wire;
	struct wlr_buffer *source;
	struct wl_listener source_destroy;
	struct agent_server *server;
	struct wl_list link; /* agent_server.direct_buffers */
};

struct agent_frame_batch {
	struct wl_list link; /* agent_surface.frames */
	uint32_t serial;
	struct wl_list callbacks; /* wl_resource links */
};

struct agent_feedback {
	struct wl_list link; /* agent_surface.feedbacks */
	uint32_t serial;
	struct wlr_presentation_feedback *feedback;
};

struct agent_surface {
	struct agent_server *server;
	struct wlr_surface *surface;
	struct wl_list link; /* agent_server.surfaces */
	uint32_t id; /* host surface id in this session, 0 if not created */
	enum agent_role role;
	bool role_sent; /* role message sent in this session */
	struct wlr_xdg_surface *xdg;
	/* an X11 window (xwayland.c): TOPLEVEL, or POPUP when override-redirect */
	struct wlr_xwayland_surface *xsurface;
	struct wlr_subsurface *subsurface;

	struct wl_listener commit;
	struct wl_listener destroy;
	struct wl_listener new_subsurface;
	struct wl_listener xdg_destroy;
	struct wl_listener ack_configure;
	struct wl_listener set_title;
	struct wl_listener set_app_id;
	struct wl_listener set_parent;
	struct wl_listener request_move;
	struct wl_listener request_resize;
	struct wl_listener request_maximize;
	struct wl_listener request_fullscreen;
	struct wl_listener request_minimize;
	struct wl_listener subsurface_destroy;
	struct wl_listener decoration_destroy;
	struct wl_listener decoration_request_mode;

	struct wlr_xdg_toplevel_decoration_v1 *decoration;
	uint32_t decoration_requested; /* wire mode, 0 if none */

	/* configure handshake (toplevels and popups) */
	bool host_configure_pending; /* received, not acked yet */
	uint32_t host_configure_serial;
	bool host_acked; /* a configure was acked in this session */
	uint32_t host_acked_serial; /* the latest host serial acked */
	struct {
		uint32_t guest, host;
	} serial_map[AGENT_SERIAL_MAP];
	unsigned serial_map_next;

	/* what was sent in this session (to send changes only) */
	struct wlr_box geometry_sent;
	int32_t min_w, min_h, max_w, max_h;
	int32_t sub_x, sub_y;
	bool sub_sent;
	bool grab_sent; /* POPUP_GRAB */
	uint64_t order_sent; /* hash of the subsurface stacking sent */
	bool mapped_on_host; /* a buffer commit was sent */
	bool commit_held; /* a buffer commit waits for the first configure */

	/* buffers */
	struct agent_pool_buffer pool[AGENT_POOL_SIZE];
	struct agent_wire_buffer *shown; /* on the host now */
	struct wlr_buffer *current; /* the client's buffer now (not locked) */
	uint32_t commit_serial;

	struct wl_list frames; /* agent_frame_batch */
	struct wl_list feedbacks; /* agent_feedback */
	bool sample_pending; /* presentation feedback to take at flush */
};

struct agent_output {
	struct wl_list link; /* agent_server.outputs */
	uint32_t host_id;
	struct wlr_output *output;
	struct wire_output_state {
		int32_t width, height, scale;
		uint32_t refresh_mhz, transform;
	} state;
};

struct agent_host {
	struct agent_server *server;
	struct agent_transport *transport;
	bool connected; /* transport up and HELLO sent */
	bool running; /* HELLO_REPLY seen */
	uint64_t features; /* HELLO_REPLY.features */
	struct agent_resource ring_res, keymap_res;
	struct tessera_wire_ring_reader ring;
	uint8_t *batch;
	struct tessera_wire_writer writer;
	struct wl_event_source *flush_idle;
	struct wl_event_source *reconnect_timer;
	uint64_t last_release_point;
	uint32_t next_surface_id, next_buffer_id;
	uint32_t pointer_enter_serial; /* host serial of the latest enter */
	uint32_t last_input_serial; /* host serial of the latest button/key */
	uint32_t sessions; /* how many times connected */
	bool logged_waiting;
};

struct agent_stats {
	uint64_t commits, bytes_copied, direct_commits, releases;
	uint64_t frames_done, presented;
};

struct agent_server {
	struct wl_display *display;
	struct wl_event_loop *loop;
	struct wlr_backend *backend;
	struct wlr_renderer *renderer;
	struct wlr_compositor *compositor;
	struct wlr_xdg_shell *xdg_shell;
	struct wlr_seat *seat;
	struct wlr_presentation *presentation;
	struct wlr_output_layout *layout;
	struct wlr_input_device *keyboard;
	struct xkb_context *xkb;
	uint32_t keymap_serial; /* changes when a new keymap was loaded */

	struct wl_listener new_surface;
	struct wl_listener new_xdg_surface;
	struct wl_listener new_decoration;
	struct wl_listener request_set_cursor;
	struct wl_listener request_set_selection;
	struct wl_listener request_set_primary_selection;

	struct wl_list surfaces; /* agent_surface.link */
	size_t surface_count;
	struct wl_list outputs; /* agent_output.link */
	struct wl_list direct_buffers; /* agent_direct_buffer.link */
	struct agent_surface *cursor; /* surface the client gave as cursor */
	int32_t cursor_hotspot_x, cursor_hotspot_y;
	uint64_t tick; /* for pool LRU */

	struct agent_xwayland *xwayland; /* NULL when off */
	struct wl_list shares; /* share.c: agent_share.link */
	struct wlr_allocator *allocator; /* share.c: for share outputs, made at the first */
	uint64_t share_seq; /* share.c: the latest share frame's number */
	struct wl_list screencopy_managers; /* screencopy.c */
	struct agent_clipboard *clipboard; /* clipboard.c */

	struct agent_host host;
	struct agent_stats stats;
};

enum agent_xwayland_mode {
	AGENT_XWAYLAND_OFF,
	AGENT_XWAYLAND_LAZY, /* started at the first X11 client */
	AGENT_XWAYLAND_ON,
};

/* Clamps v into [lo, hi] (both within int32_t). */
static inline int32_t agent_clamp_i32(int64_t v, int64_t lo, int64_t hi) {
	return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

/* Whether serial a comes after b (wrapping). */
static inline bool agent_serial_after(uint32_t a, uint32_t b) {
	return (int32_t)(a - b) > 0;
}

static inline bool agent_surface_is_xdg(const struct agent_surface *surface) {
	return surface->role == AGENT_ROLE_TOPLEVEL || surface->role == AGENT_ROLE_POPUP;
}

/* server.c */
/* Makes the compositor (display, headless backend, renderer, globals,
 * seat); false on failure (finish what was made). */
bool agent_server_init(struct agent_server *server);
/* Disconnects the clients and frees everything, the host session too. */
void agent_server_finish(struct agent_server *server);

/* host.c */
bool agent_host_init(struct agent_host *host, struct agent_server *server,
	const char *transport_spec);
void agent_host_finish(struct agent_host *host);
/* Tries to connect now (and keeps retrying on a timer when it fails). */
void agent_host_start(struct agent_host *host);
/* Queues one request for the next batch (flushed at the end of the
 * dispatch). Returns false when there is no session (the message is
 * dropped: everything is re-sent at reconnect). */
bool agent_host_send(struct agent_host *host, const struct tessera_wire_msg *msg);
/* Submits the queued batch now (before unref'ing a resource). */
void agent_host_flush(struct agent_host *host);
bool agent_host_ready(const struct agent_host *host);
uint32_t agent_host_new_surface_id(struct agent_host *host);
uint32_t agent_host_new_buffer_id(struct agent_host *host);

/* surface.c */
void agent_surface_create(struct agent_server *server, struct wlr_surface *surface);
struct agent_surface *agent_surface_from_wlr(struct wlr_surface *surface);
struct agent_surface *agent_surface_by_id(struct agent_server *server, uint32_t id);
void agent_surface_handle_new_xdg(struct agent_server *server,
	struct wlr_xdg_surface *xdg);
/* Gives the surface a host id and role in this session if it has none. */
bool agent_surface_ensure_host(struct agent_surface *surface);
/* A window (xdg or X11) whose surface already has content gets its role
 * on the host: an initial commit without a buffer, the buffer held until
 * the host's first configure. */
void agent_surface_start_window(struct agent_surface *surface);
/* A toplevel's title or app_id (cleaned), its parent (toplevels). */
void agent_surface_send_string(struct agent_surface *surface, uint16_t type,
	const char *text);
void agent_surface_send_parent(struct agent_surface *surface);
/* The role ended (X11 window unmapped): the host surface goes. */
void agent_surface_end_role(struct agent_surface *surface);
/* Session lifecycle: forget everything host-side / re-create it all. */
void agent_surfaces_session_lost(struct agent_server *server);
void agent_surfaces_session_start(struct agent_server *server);
void agent_surface_handle_new_decoration(struct agent_server *server,
	struct wlr_xdg_toplevel_decoration_v1 *decoration);
void agent_surface_set_cursor(struct agent_server *server,
	struct agent_surface *surface, int32_t hotspot_x, int32_t hotspot_y);
/* Acks host_serial to the host (and the older ones with it) unless done. */
void agent_surface_send_ack(struct agent_surface *surface, uint32_t host_serial);
/* host events */
void agent_surface_handle_configure(struct agent_server *server,
	const struct tessera_wire_configure *ev);
void agent_surface_handle_popup_configure(struct agent_server *server,
	const struct tessera_wire_popup_configure *ev);
void agent_surface_handle_close(struct agent_server *server, uint32_t id);
void agent_surface_handle_popup_done(struct agent_server *server, uint32_t id);
void agent_surface_handle_output(struct agent_server *server,
	const struct tessera_wire_surface_output *ev, bool enter);

/* commit.c */
/* A wl_surface commit of the client: the next commit serial, the frame
 * callbacks it carries, presentation feedback to sample at flush. */
void agent_commit_begin(struct agent_surface *surface);
/* Sends the surface's current state as one COMMIT (or holds it, see
 * commit_held). */
void agent_commit_forward(struct agent_surface *surface);
/* The xdg window geometry and toplevel size limits, when they changed. */
void agent_commit_send_xdg_state(struct agent_surface *surface);
/* Called at flush: presentation feedback of this dispatch's commits. */
void agent_surfaces_sample(struct agent_server *server);
void agent_surface_handle_frame_done(struct agent_server *server,
	const struct tessera_wire_frame_done *ev);
void agent_surface_handle_presented(struct agent_server *server,
	const struct tessera_wire_presented *ev);
/* Frees the frame callbacks and feedback of a destroyed surface. */
void agent_commit_surface_finish(struct agent_surface *surface);

/* buffer.c */
/* Puts the client's current buffer on the host for this commit: returns
 * the wire buffer to name in COMMIT (NULL: keep what is shown; *ok false
 * on failure). damage is in buffer coordinates. */
struct agent_wire_buffer *agent_buffer_prepare(struct agent_surface *surface,
	struct wlr_buffer *source, const pixman_region32_t *damage,
	bool *full_damage);
/* The surface shows wire now; the previously shown one may be released. */
void agent_buffer_mark_busy(struct agent_surface *surface,
	struct agent_wire_buffer *wire, struct wlr_buffer *source);
void agent_buffer_handle_release(struct agent_server *server, uint32_t id);
/* Frees the pool of a destroyed surface. */
void agent_buffer_surface_finish(struct agent_surface *surface);
/* Session lost: every wire buffer becomes unknown to the host (and
 * released: client buffers are unlocked). */
void agent_buffers_session_lost(struct agent_server *server);
void agent_buffers_finish(struct agent_server *server);

/* seat.c */
bool agent_seat_init(struct agent_server *server);
void agent_seat_finish(struct agent_server *server);
void agent_seat_handle_event(struct agent_server *server,
	const struct tessera_wire_msg *msg);
void agent_seat_keymap(struct agent_server *server, const char *text, size_t len);
void agent_seat_session_lost(struct agent_server *server);
/* A guest serial of an input event -> the host serial it came from. */
uint32_t agent_seat_host_serial(struct agent_server *server, uint32_t guest_serial);

/* clipboard.c */
bool agent_clipboard_init(struct agent_server *server);
void agent_clipboard_finish(struct agent_server *server);
/* CLIPBOARD_REQUEST, CLIPBOARD_PASTE, CLIPBOARD_CANCEL */
void agent_clipboard_handle_event(struct agent_server *server,
	const struct tessera_wire_msg *msg);
/* The host session ended: transfers under way are dropped. */
void agent_clipboard_session_lost(struct agent_server *server);

/* xwayland.c */
/* wlroots' log into ours (after tessera_wlr_log_init), the X11 errors
 * that exiting clients provoke as debug lines. */
void agent_xwayland_log_init(enum tessera_log_importance verbosity);
/* Sets up Xwayland as mode asks: false only when it cannot (mode ON). With
 * LAZY and no Xwayland installed it logs that and leaves it off. */
bool agent_xwayland_init(struct agent_server *server, enum agent_xwayland_mode mode);
void agent_xwayland_finish(struct agent_server *server);
/* ":N", or NULL when Xwayland is off. */
const char *agent_xwayland_display_name(const struct agent_server *server);
/* The X11 window's parent toplevel (WM_TRANSIENT_FOR) on the host, if any. */
struct agent_surface *agent_xwayland_parent(struct agent_surface *surface);
/* Where an override-redirect window goes: its parent on the host and the
 * positioner that puts it at its X position relative to that parent.
 * False when it has no parent that is shown. */
bool agent_xwayland_popup_place(struct agent_surface *surface,
	struct agent_surface **parent, struct tessera_wire_positioner *positioner);
/* The host's CONFIGURE of an X11 toplevel: size and activation. */
void agent_xwayland_configure(struct agent_surface *surface,
	const struct tessera_wire_configure *ev);
void agent_xwayland_close(struct agent_surface *surface);
/* A host pointer event: true when it is held until X has put the X11
 * window the pointer enters on top (then seat.c gets it again). */
bool agent_xwayland_hold_pointer(struct agent_server *server,
	const struct tessera_wire_msg *msg);
/* WM_NORMAL_HINTS as the wire's limits (0 = none). */
void agent_xwayland_size_limits(const struct agent_surface *surface,
	int32_t *min_w, int32_t *min_h, int32_t *max_w, int32_t *max_h);
/* The agent_surface stops being that window's (its role ended). */
void agent_xwayland_detach(struct agent_surface *surface);

/* share.c */
void agent_share_handle_offer(struct agent_server *server,
	const struct tessera_wire_share_offer *ev);
void agent_share_handle_end(struct agent_server *server, uint32_t id);
void agent_share_handle_frame(struct agent_server *server,
	const struct tessera_wire_share_frame *ev);
/* A share's latest frame: XRGB8888 pixels (NULL before the first: black),
 * changed whenever seq did. */
struct agent_share_frame {
	const uint8_t *pixels;
	uint32_t stride;
	int32_t width, height;
	uint64_t seq;
};
/* The share shown on output, 0 if none. */
uint32_t agent_share_of_output(struct agent_server *server, struct wlr_output *output);
/* false if that share does not exist (any more). */
bool agent_share_current_frame(struct agent_server *server, uint32_t share,
	struct agent_share_frame *frame);
/* Session lost: the shares and their outputs go (the host ended them). */
void agent_shares_session_lost(struct agent_server *server);
void agent_shares_finish(struct agent_server *server);

/* screencopy.c: wlr-screencopy v2 (share outputs give their frames) */
bool agent_screencopy_init(struct agent_server *server);
/* The share got a new frame or went: captures waiting for it go on. */
void agent_screencopy_share_changed(struct agent_server *server, uint32_t share);

/* output.c */
void agent_output_handle(struct agent_server *server,
	const struct tessera_wire_output *ev);
void agent_output_remove(struct agent_server *server, uint32_t id);
struct agent_output *agent_output_by_id(struct agent_server *server, uint32_t id);
void agent_outputs_finish(struct agent_server *server);

#endif
