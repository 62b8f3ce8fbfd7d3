/*
 * What tessera's Wayland clients share: tessera-simple-shm and
 * tessera-frame-probe here and the test clients and tools under tests/
 * (static library tessera-client, dependency tessera_client).
 *
 *   registry   binds the globals a program wants, from a table
 *   roundtrip  wl_display_roundtrip() that logs a lost connection
 *   shm buffer an XRGB8888 wl_shm buffer in a memfd of its own
 *   window     a wl_surface with its xdg_surface and xdg_toplevel; acks
 *              configures; tessera_client_wm_base_listener answers pings
 *   loop       the event loop: display events, signals (a signalfd) and
 *              the program's own descriptors
 *   parsing    bounded decimal numbers and WxH sizes of command lines
 *              (colours: tessera_color_parse(), common/color.h); the
 *              options the simple clients share (simple-options.c)
 *
 * Failures are logged with tessera_log() (common/log.h).
 */
#ifndef TESSERA_CLIENTS_COMMON_TESSERA_CLIENT_H
#define TESSERA_CLIENTS_COMMON_TESSERA_CLIENT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

/*
 * One global a program wants. The first global of that interface with at
 * least min_version is bound at its version, at most max_version; the
 * proxy goes to *proxy (the program's pointer, which must be NULL until
 * then: pass (void **)&state->compositor) and, when listener is not NULL,
 * gets that listener with data at once, before any of its events.
 * tessera_client_registry_check() asks for it unless it is optional.
 */
struct tessera_client_global {
	const struct wl_interface *interface;
	uint32_t min_version, max_version;
	void **proxy;
	const void *listener;
	void *data;
	bool optional;
};

/*
 * The registry of a connection and the table it binds from (which must
 * live as long as the registry). announce, when set (before the first
 * roundtrip), sees every global first, with announce_data.
 */
struct tessera_client_registry {
	struct wl_registry *wl_registry;
	const struct tessera_client_global *globals;
	size_t global_count;
	void (*announce)(void *data, const char *interface, uint32_t version);
	void *announce_data;
};

/* Gets the registry; the globals are bound as they are announced, i.e.
 * in the program's next roundtrip. Leaves announce as it is. */
void tessera_client_registry_init(struct tessera_client_registry *registry,
	struct wl_display *display, const struct tessera_client_global *globals,
	size_t global_count);
/* Destroys the wl_registry (not the bound proxies); accepts a registry
 * that was never initialised (zeroed). */
void tessera_client_registry_finish(struct tessera_client_registry *registry);
/* After the roundtrip that binds: true if every global that is not
 * optional was bound, else false, with "the compositor lacks a required
 * global: ..." (each missing one and its minimum version) logged. */
bool tessera_client_registry_check(const struct tessera_client_registry *registry);
/* Ends a client's connection: destroys the proxies the registry bound
 * (still set; client side only: the compositor drops them with the
 * connection) and the registry, flushes and disconnects. Accepts a NULL
 * display and a registry that was never initialised (zeroed). */
void tessera_client_disconnect(struct wl_display *display,
	struct tessera_client_registry *registry);

/* wl_display_roundtrip(); false, with "lost the connection to the
 * compositor: <why>" logged, when the connection failed. */
bool tessera_client_roundtrip(struct wl_display *display);

/* An XRGB8888 buffer of width x height, stride width * 4, in a memfd
 * called name, mapped read-write at data (size bytes). */
struct tessera_client_shm_buffer {
	struct wl_buffer *wl_buffer;
	void *data;
	size_t size;
	int32_t width, height;
};

/* false (logged) if it cannot be made; the buffer is then left empty. */
bool tessera_client_shm_buffer_init(struct tessera_client_shm_buffer *buffer,
	struct wl_shm *shm, const char *name, int32_t width, int32_t height);
/* Destroys the wl_buffer (if not NULL) and unmaps the memory; the buffer
 * is empty afterwards. Accepts an empty buffer. */
void tessera_client_shm_buffer_finish(struct tessera_client_shm_buffer *buffer);

/* Answers xdg_wm_base.ping: add it to the bound xdg_wm_base. */
extern const struct xdg_wm_base_listener tessera_client_wm_base_listener;

struct tessera_client_window_impl {
	/* After each xdg_surface.configure, acked already: width and height
	 * are those of the xdg_toplevel.configure that came before it (0:
	 * the client chooses). */
	void (*configure)(void *data, int32_t width, int32_t height);
	/* xdg_toplevel.close */
	void (*close)(void *data);
};

struct tessera_client_window {
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *xdg_toplevel;
	bool configured; /* a configure was acked */
	int32_t pending_width, pending_height; /* of the last toplevel configure */
	uint32_t pending_states; /* its states: bit 1 << XDG_TOPLEVEL_STATE_* */
	const struct tessera_client_window_impl *impl; /* NULL: nothing to call */
	void *data;
};

/*
 * Creates the surface and its toplevel (title set when not NULL), without
 * committing: the program sets what else it wants (app id, minimum size,
 * decoration), commits the surface, then waits for window->configured.
 */
void tessera_client_window_init(struct tessera_client_window *window,
	struct wl_compositor *compositor, struct xdg_wm_base *wm_base,
	const char *title, const struct tessera_client_window_impl *impl, void *data);
/* Destroys the toplevel, the xdg_surface and the surface, those that
 * exist, and sets them to NULL. */
void tessera_client_window_finish(struct tessera_client_window *window);

/*
 * The signals are blocked and delivered to the returned signalfd instead
 * (close-on-exec, non-blocking); -1 (logged) on failure.
 */
int tessera_client_signalfd(const int *signals, size_t count);
/* The number of the next pending signal of the signalfd, 0 if none. */
int tessera_client_read_signal(int signal_fd);
/* A tessera_client_fd handler for a signalfd of SIGINT and SIGTERM (data:
 * a pointer to its fd): reads the signal and ends the loop, after which
 * the program exits with 0. */
bool tessera_client_handle_stop_signal(void *data);

/* A descriptor the loop watches besides the display: handle(data) runs
 * when it is readable and returns false to end the loop. */
struct tessera_client_fd {
	int fd;
	bool (*handle)(void *data);
	void *data;
};

/*
 * Dispatches the display's events and flushes its requests (waiting for
 * the socket when it is full) until *running is false or a handler of fds
 * (at most 8) returns false: true then. false (logged: the protocol error,
 * or why the connection was lost) when the connection failed.
 */
bool tessera_client_run(struct wl_display *display, const struct tessera_client_fd *fds,
	size_t count, const bool *running);

/* A decimal number 0..max, digits only (false for NULL or ""). */
bool tessera_client_parse_uint(const char *str, uint32_t max, uint32_t *out);
/* "WxH", each a decimal number 1..max (false for NULL). */
bool tessera_client_parse_size(const char *str, uint32_t max, int32_t *width,
	int32_t *height);

/*
 * The options tessera-simple-dmabuf and tessera-simple-egl share: --color
 * RRGGBB, --size WxH (1..max_size), --frames N (1..100000000), --title STR,
 * --help (and -h). Set the defaults, max_size and usage (which prints the
 * program's help) before parsing.
 */
struct tessera_client_simple_options {
	uint32_t color; /* 0xRRGGBB */
	int32_t width, height;
	uint32_t max_size;
	uint32_t frames; /* 0: unlimited */
	const char *title;
	void (*usage)(FILE *out, const char *argv0);
};

/* The program's own options: their val must be below 0x1000; handle()
 * takes one (with its argument or NULL) and returns 0, or 2 when it is
 * bad (logged). */
struct tessera_client_extra_options {
	const struct option *options;
	size_t count; /* at most 11 */
	int (*handle)(void *data, int opt, const char *arg);
	void *data;
};

/*
 * getopt_long() over argv: -1 after --help (usage printed on stdout: exit
 * 0), 0 when all is well, 2 for a bad command line (logged, or usage on
 * stderr). extra may be NULL.
 */
int tessera_client_parse_simple_options(struct tessera_client_simple_options *opts,
	int argc, char *argv[], const struct tessera_client_extra_options *extra);

#endif
