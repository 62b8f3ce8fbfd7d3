#ifndef TESSERA_VMD_WAYLAND_H
#define TESSERA_VMD_WAYLAND_H

/*
 * tessera-vmd's connection to the compositor: WAYLAND_SOCKET (tagged, when
 * started by tessera) or WAYLAND_DISPLAY (standalone), the globals it
 * binds, and the integration of the display fd into vmd's wl_event_loop.
 */

#include <stdbool.h>
#include <stdint.h>
#include <wayland-client.h>

struct wl_event_loop;
struct wl_event_source;

struct vmd_wayland_output {
	struct wl_list link; /* vmd_wayland.outputs */
	struct wl_output *wl_output;
	uint32_t global_name;
	int32_t width, height, refresh_mhz, scale;
};

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
	/* tessera_guest_memory_v1, only on a tagged VM connection */
	struct tessera_guest_memory_v1 *guest_memory;
	struct wl_list outputs; /* vmd_wayland_output.link */

	/* Called when the connection to the compositor fails; vmd exits. */
	void (*lost)(void *data);
	void *lost_data;
};

/* Connects (wl_display_connect(NULL)), binds globals, roundtrips, and
 * adds the display fd to loop. NULL with a log line on failure. */
struct vmd_wayland *vmd_wayland_create(struct wl_event_loop *loop);
void vmd_wayland_destroy(struct vmd_wayland *wayland);
/* Flushes pending requests; call before blocking in the loop. */
void vmd_wayland_flush(struct vmd_wayland *wayland);

#endif
