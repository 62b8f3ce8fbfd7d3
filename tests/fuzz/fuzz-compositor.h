/*
 * A stand-in compositor for the fuzz targets that run tessera-vmd's
 * Wayland side (fuzz-vmd-gpu.c): a libwayland server in the same process
 * that offers the globals vmd binds (protocol/guest-globals.h's VM rows:
 * wl_compositor, wl_subcompositor, wl_shm, xdg_wm_base, wl_seat with
 * pointer and keyboard, wl_output, xdg-decoration, presentation-time,
 * viewporter and, if asked, tessera_guest_memory_v1), accepts every
 * request (new objects are created, fds closed, "destroy"/"release"
 * requests destroy), and sends the events a fuzz input asks for:
 * configures, frame callbacks, presentation feedback, buffer releases,
 * pointer and keyboard input, keymaps, output changes, pings.
 *
 * libwayland checks every request against the protocol (object types,
 * new ids, argument counts): a request it refuses breaks the client's
 * connection, which the fuzz target treats as a bug of vmd.
 */
#ifndef TESSERA_TESTS_FUZZ_FUZZ_COMPOSITOR_H
#define TESSERA_TESTS_FUZZ_FUZZ_COMPOSITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <wayland-server-core.h>

#include "fuzz-target.h"

struct fuzz_compositor;

struct fuzz_compositor *fuzz_compositor_create(void);
void fuzz_compositor_destroy(struct fuzz_compositor *comp);

/*
 * A new client connection; returns the client's end of the socket (for
 * WAYLAND_SOCKET). with_guest_memory: whether this client sees
 * tessera_guest_memory_v1 (tessera offers it to tagged VM connections).
 */
int fuzz_compositor_connect(struct fuzz_compositor *comp, bool with_guest_memory,
	struct wl_client **client);
/* Serves clients from a thread of its own, for clients that block in
 * wl_display_roundtrip() while connecting; stop before dispatching again
 * from the calling thread. */
void fuzz_compositor_start_thread(struct fuzz_compositor *comp);
void fuzz_compositor_stop_thread(struct fuzz_compositor *comp);
/* Handles what the clients sent so far and flushes the events. */
void fuzz_compositor_dispatch(struct fuzz_compositor *comp);

/* The objects a client has now. */
size_t fuzz_compositor_objects(struct fuzz_compositor *comp,
	struct wl_client *client);
/*
 * The events fuzz_compositor_event() sends. Its input: u8 event, u8 k
 * (which object: the k-th of its kind, modulo their number; some events
 * use its bits), then per event (integers little-endian):
 *   CONFIGURE         u16 serial, u16 width, u16 height, u8 count, count
 *                     x u8 state: xdg_toplevel + xdg_surface.configure
 *   POPUP_CONFIGURE   u16 serial, i16 x, i16 y, u16 width, u16 height
 *   SURFACE_ENTER/LEAVE  u8 output
 *   POINTER_ENTER, KEYBOARD_ENTER  i16 x, i16 y, u8 count, count x u8 key
 *   POINTER_MOTION    i16 x, i16 y
 *   POINTER_BUTTON    k: button 0x110 + (k & 7), pressed if k & 0x80
 *   POINTER_AXIS      i16 value; k: bit 0 axis, 1 source, 2 stop,
 *                     3 value120, 4-5 the source
 *   KEY               u8 key; pressed if k & 1
 *   MODIFIERS         u8 depressed, u8 latched, u8 locked; group k & 3
 *   KEYMAP            (k * 32) % 4096 bytes of text (a NUL is added)
 *   REPEAT_INFO       i16 delay; rate (int8_t)k
 *   OUTPUT_MODE       u16 width, u16 height, u16 refresh / 16; scale k % 4
 * The others take nothing more: FRAME_DONE (every pending callback),
 * PRESENTED (every pending feedback, flags k & 15), CLOSE, POPUP_DONE,
 * RELEASE (a wl_buffer), POINTER_LEAVE, KEYBOARD_LEAVE, OUTPUT_ADD,
 * OUTPUT_REMOVE (a wl_output global), PING.
 */
enum fuzz_compositor_event {
	FUZZ_EV_FRAME_DONE,
	FUZZ_EV_PRESENTED,
	FUZZ_EV_CONFIGURE,
	FUZZ_EV_POPUP_CONFIGURE,
	FUZZ_EV_CLOSE,
	FUZZ_EV_POPUP_DONE,
	FUZZ_EV_RELEASE,
	FUZZ_EV_SURFACE_ENTER,
	FUZZ_EV_SURFACE_LEAVE,
	FUZZ_EV_POINTER_ENTER,
	FUZZ_EV_POINTER_LEAVE,
	FUZZ_EV_POINTER_MOTION,
	FUZZ_EV_POINTER_BUTTON,
	FUZZ_EV_POINTER_AXIS,
	FUZZ_EV_KEYBOARD_ENTER,
	FUZZ_EV_KEYBOARD_LEAVE,
	FUZZ_EV_KEY,
	FUZZ_EV_MODIFIERS,
	FUZZ_EV_KEYMAP,
	FUZZ_EV_REPEAT_INFO,
	FUZZ_EV_OUTPUT_MODE,
	FUZZ_EV_OUTPUT_ADD,
	FUZZ_EV_OUTPUT_REMOVE,
	FUZZ_EV_PING,
	FUZZ_EV_COUNT,
};

/* Sends the client one event (or a group of them, e.g. a configure
 * sequence), chosen and filled in from the input as described above. */
void fuzz_compositor_event(struct fuzz_compositor *comp,
	struct wl_client *client, struct fuzz_input *in);

#endif
