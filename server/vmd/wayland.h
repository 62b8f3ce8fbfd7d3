#ifndef TESSERA_VMD_WAYLAND_H
#define TESSERA_VMD_WAYLAND_H

/*
 * tessera-vmd's connection to the compositor: WAYLAND_SOCKET (tagged, when
 * started by tessera) or WAYLAND_DISPLAY (standalone), the globals it
 * binds, and the integration of the display fd into vmd's wl_event_loop.
 *
 * Event loop integration: the display fd is a source of the loop; events
 * are read and dispatched when it is readable. Requests are buffered by
 * libwayland: call vmd_wayland_flush() before every blocking
 * wl_event_loop_dispatch() (if the socket is full, the rest is sent when it
 * becomes writable). A broken connection (hang-up, protocol error, failed
 * read or write) calls lost() once; nothing is dispatched afterwards.
 *
 * Back-pressure: a guest can ask for requests faster than the compositor
 * reads them, and libwayland (1.21) ends the connection when a request
 * finds its buffer and the socket full; the compositor, for its part,
 * drops a client that leaves its events unread until its side is full.
 * So between two guest commands vmd_wayland_has_room() dispatches what
 * arrived and says whether the next may be taken (if not, the guest's
 * queue waits for events.writable), and before each request-making step of
 * a command vmd_wayland_wait_writable() blocks until there is room,
 * reading (not dispatching) events meanwhile. Both consider the socket
 * full while more than a quarter of its send buffer is unread, which
 * leaves room for any one wire message's requests.
 *
 * The seat is handled here: pointer and keyboard events are forwarded to
 * one input handler (the session, vmd_wayland_set_input_handler), the
 * keymap and repeat info are kept. Outputs are tracked with their current
 * mode and announced through events.output / events.output_remove.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wayland-client.h>
#include <wayland-server-core.h>

struct wl_event_loop;
struct wl_event_source;

struct vmd_wayland;
struct vmd_shares;

struct vmd_wayland_output {
	struct wl_list link; /* vmd_wayland.outputs */
	struct wl_output *wl_output;
	uint32_t global_name;
	int32_t width, height, refresh_mhz, scale;

	struct vmd_wayland *wayland;
	/* vmd's own id for this output (wire OUTPUT.output), never reused */
	uint32_t id;
	/* layout position (xdg_output's logical position; wl_output.geometry
	 * without xdg-output), transform, size in mm */
	int32_t x, y;
	/* size in the layout (xdg_output's logical size), 0 while unknown */
	int32_t logical_width, logical_height;
	struct zxdg_output_v1 *xdg_output; /* NULL without xdg-output */
	int32_t transform;
	int32_t physical_width_mm, physical_height_mm;
	/* true once the first wl_output.done arrived: the state is complete */
	bool done;
};

/* One wl_pointer.axis with what its frame said about it. */
struct vmd_wayland_axis {
	uint32_t time;
	uint32_t axis; /* WL_POINTER_AXIS_* */
	wl_fixed_t value;
	bool stop; /* wl_pointer.axis_stop (value is 0) */
	bool has_source;
	uint32_t source; /* WL_POINTER_AXIS_SOURCE_* */
	bool has_value120;
	int32_t value120; /* axis_value120, or axis_discrete * 120 */
};

/*
 * Receives the seat's input. Surfaces are the wl_surface proxies the
 * compositor named (NULL if the client already destroyed the surface);
 * they can belong to anyone on this connection: check before use.
 * Every callback is optional.
 */
struct vmd_wayland_input_handler {
	void (*pointer_enter)(void *data, struct wl_surface *surface,
		uint32_t serial, wl_fixed_t x, wl_fixed_t y);
	void (*pointer_leave)(void *data, struct wl_surface *surface,
		uint32_t serial);
	void (*pointer_motion)(void *data, uint32_t time, wl_fixed_t x,
		wl_fixed_t y);
	void (*pointer_button)(void *data, uint32_t serial, uint32_t time,
		uint32_t button, uint32_t state);
	void (*pointer_axis)(void *data, const struct vmd_wayland_axis *axis);
	void (*pointer_frame)(void *data);
	/* vmd_wayland.keymap changed */
	void (*keymap)(void *data);
	void (*keyboard_enter)(void *data, struct wl_surface *surface,
		uint32_t serial, const uint32_t *keys, size_t n_keys);
	void (*keyboard_leave)(void *data, struct wl_surface *surface,
		uint32_t serial);
	void (*keyboard_key)(void *data, uint32_t serial, uint32_t time,
		uint32_t key, uint32_t state);
	void (*keyboard_modifiers)(void *data, uint32_t serial,
		uint32_t depressed, uint32_t latched, uint32_t locked,
		uint32_t group);
	/* vmd_wayland.repeat_rate / repeat_delay changed */
	void (*repeat_info)(void *data);
};

/*
 * Receives the compositor's clipboard transfers (tessera_vmd_clipboard_v1):
 * the handler owns fd. Without a handler, vmd answers no_agent.
 */
struct vmd_wayland_clipboard_handler {
	void (*copy)(void *data, uint32_t id, uint32_t types, uint32_t max_size, int fd);
	void (*paste)(void *data, uint32_t id, uint32_t type, uint32_t size, int fd);
};

/* Largest keymap kept (the wire protocol's MAX_KEYMAP_SIZE). */
#define VMD_WAYLAND_MAX_KEYMAP_SIZE (1 << 20)
#define VMD_WAYLAND_MAX_SHM_FORMATS 64

struct vmd_wayland {
	struct wl_display *display;
	struct wl_registry *registry;
	struct wl_event_source *source;

	struct wl_compositor *compositor;
	struct wl_subcompositor *subcompositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_seat *seat;
	struct zxdg_decoration_manager_v1 *decoration_manager;
	struct wp_presentation *presentation;
	struct wp_viewporter *viewporter;
	struct zxdg_output_manager_v1 *xdg_output_manager;
	/* tessera_guest_memory_v1, only on a tagged VM connection */
	struct tessera_guest_memory_v1 *guest_memory;
	/* Its budget event: what vmd may have mapped at once (0 = unknown). */
	struct {
		uint32_t max_buffers, max_mappings;
		uint64_t max_bytes;
	} guest_memory_budget;
	/* tessera_vmd_v1, only on a tagged VM connection (report.c) */
	struct tessera_vmd_v1 *vmd_report;
	/* tessera_vmd_share_v1, only on a tagged VM connection (session/share.c) */
	struct tessera_vmd_share_v1 *share;
	struct vmd_shares *shares; /* its state, made by the first session */
	/* tessera_vmd_clipboard_v1, only on a tagged VM connection */
	struct tessera_vmd_clipboard_v1 *clipboard;
	const struct vmd_wayland_clipboard_handler *clipboard_handler;
	void *clipboard_data;
	/* zwp_linux_dmabuf_v1 (version 3+), used with udmabufs */
	struct zwp_linux_dmabuf_v1 *linux_dmabuf;
	/* formats it announced with DRM_FORMAT_MOD_LINEAR */
	uint32_t dmabuf_linear_formats[VMD_WAYLAND_MAX_SHM_FORMATS];
	size_t n_dmabuf_linear_formats;
	struct wl_list outputs; /* vmd_wayland_output.link */

	/* Called when the connection to the compositor fails; vmd exits. */
	void (*lost)(void *data);
	void *lost_data;

	struct wl_event_loop *loop;
	bool broken; /* the connection failed (lost() was called) */
	/* never holds events: reading while a command is half done */
	struct wl_event_queue *read_queue;

	/* wl_shm formats the compositor announced */
	uint32_t shm_formats[VMD_WAYLAND_MAX_SHM_FORMATS];
	size_t n_shm_formats;

	/* the seat */
	struct wl_pointer *pointer;
	struct wl_keyboard *keyboard;
	/* the current XKB v1 keymap, NUL-terminated (size includes the NUL),
	 * NULL until the compositor sent one; keymap_serial counts changes */
	char *keymap;
	uint32_t keymap_size;
	uint64_t keymap_serial;
	int32_t repeat_rate, repeat_delay;

	const struct vmd_wayland_input_handler *input;
	void *input_data;

	/* next vmd_wayland_output.id */
	uint32_t next_output_id;
	/* axis state of the current pointer frame */
	struct vmd_wayland_axis frame_axis[2];

	struct {
		/* a vmd_wayland_output got its (first or updated) complete
		 * state: data is the output */
		struct wl_signal output;
		/* an output is going away: data is the output */
		struct wl_signal output_remove;
		/* the connection was congested and has room again */
		struct wl_signal writable;
	} events;
};

/* Connects (wl_display_connect(NULL)), binds globals, roundtrips, and
 * adds the display fd to loop. NULL with a log line on failure. */
struct vmd_wayland *vmd_wayland_create(struct wl_event_loop *loop);
void vmd_wayland_destroy(struct vmd_wayland *wayland);
/* session/share.c: the shares state on the connection; accepts NULL. */
void vmd_shares_destroy(struct vmd_shares *shares);
/* Flushes pending requests; call before blocking in the loop. */
void vmd_wayland_flush(struct vmd_wayland *wayland);
/* Between two guest commands: dispatches the events that arrived; false
 * if the compositor is behind (events.writable follows), true otherwise,
 * also without an event loop or with a broken connection. */
bool vmd_wayland_has_room(struct vmd_wayland *wayland);
/* Waits until the socket has room, up to 10 s (then the connection is
 * given up); reads events meanwhile but does not dispatch them. false if
 * the connection is broken. */
bool vmd_wayland_wait_writable(struct vmd_wayland *wayland);

/* Sets the receiver of seat input (NULL to stop). */
void vmd_wayland_set_input_handler(struct vmd_wayland *wayland,
	const struct vmd_wayland_input_handler *handler, void *data);
/* Sets the receiver of clipboard transfers (NULL to stop). */
void vmd_wayland_set_clipboard_handler(struct vmd_wayland *wayland,
	const struct vmd_wayland_clipboard_handler *handler, void *data);
/* Stops using tessera_guest_memory_v1 (buffers then go through wl_shm
 * with copies): for tests and the --no-guest-memory option. Call before
 * any buffer is created. */
void vmd_wayland_disable_guest_memory(struct vmd_wayland *wayland);
/* true if the compositor announced this wl_shm format. */
bool vmd_wayland_has_shm_format(const struct vmd_wayland *wayland,
	uint32_t format);
/* true if linux-dmabuf announced this DRM format with the LINEAR modifier. */
bool vmd_wayland_has_dmabuf_format(const struct vmd_wayland *wayland,
	uint32_t format);
/* The output with this vmd id, or NULL. */
struct vmd_wayland_output *vmd_wayland_output_from_id(
	struct vmd_wayland *wayland, uint32_t id);
/* The output of a wl_output proxy bound here, or NULL. */
struct vmd_wayland_output *vmd_wayland_output_from_wl_output(
	struct vmd_wayland *wayland, struct wl_output *wl_output);

#endif
