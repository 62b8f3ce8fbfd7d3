/*
 * The wlroots objects of the guest compositor: headless backend (outputs
 * mirror the host's), pixman renderer only for wl_shm and texture
 * bookkeeping (nothing is ever rendered), our own zwp_linux_dmabuf_v1
 * (common/wlr/linux-dmabuf.c: wlroots 0.15 has none without a GPU
 * renderer), xdg-shell, seat, presentation-time, viewporter, xdg-output,
 * xdg-decoration (forwarded to the host) and a data device manager for
 * copy and paste inside the VM. Made and torn down here for main.c and
 * for the agent's fuzz target (tests/fuzz/fuzz-agent-ring.c).
 */
#define _GNU_SOURCE
#include <drm_fourcc.h>
#include <wayland-server-core.h>
#include <wlr/backend.h>
#include <wlr/backend/headless.h>
#include <wlr/render/pixman.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_data_control_v1.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_viewporter.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_output_v1.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "agent.h"
#include "client-buffer.h"
#include "guest-globals.h"
#include "linux-dmabuf.h"
#include "log.h"
#include "tessera-wire.h"
#include "wl-drm.h"

static void handle_new_surface(struct wl_listener *listener, void *data) {
	struct agent_server *server = wl_container_of(listener, server, new_surface);
	agent_surface_create(server, data);
}

static void handle_new_xdg_surface(struct wl_listener *listener, void *data) {
	struct agent_server *server = wl_container_of(listener, server, new_xdg_surface);
	agent_surface_handle_new_xdg(server, data);
}

static void handle_new_decoration(struct wl_listener *listener, void *data) {
	struct agent_server *server = wl_container_of(listener, server, new_decoration);
	agent_surface_handle_new_decoration(server, data);
}

/* Guest applications see exactly the guest rows of protocol/guest-globals.h,
 * whatever wlroots creates along the way. */
static bool global_filter(const struct wl_client *client,
		const struct wl_global *global, void *data) {
	const char *name = wl_global_get_interface(global)->name;
	return tessera_guest_global_is(name, TESSERA_GLOBAL_GUEST) ||
		tessera_guest_global_is(name, TESSERA_GLOBAL_GUEST_GPU);
}

/*
 * wl_shm with the formats the pixman renderer reads that the wire protocol
 * also carries (tessera_wire_format_bpp()): a guest buffer in any other
 * format (10-bit ones, RGB565, ...) could never reach the host, and a
 * client that chose one would wait forever for its window. What
 * wlr_renderer_init_wl_display() does besides (wl_drm and linux-dmabuf for
 * a renderer with dmabuf formats) does not apply to pixman; the agent's
 * linux-dmabuf is its own.
 */
static bool init_shm(struct agent_server *server) {
	if (wl_display_init_shm(server->display) != 0) {
		return false; /* with ARGB8888 and XRGB8888 */
	}
	size_t n = 0;
	const uint32_t *formats =
		wlr_renderer_get_shm_texture_formats(server->renderer, &n);
	for (size_t i = 0; i < n; i++) {
		if (formats[i] == DRM_FORMAT_ARGB8888 || formats[i] == DRM_FORMAT_XRGB8888 ||
				tessera_wire_format_bpp(formats[i]) == 0) {
			continue;
		}
		if (wl_display_add_shm_format(server->display, formats[i]) == NULL) {
			return false;
		}
	}
	return true;
}

bool agent_server_init(struct agent_server *server) {
	wl_list_init(&server->surfaces);
	wl_list_init(&server->shares);
	wl_list_init(&server->outputs);
	wl_list_init(&server->direct_buffers);
	server->display = wl_display_create();
	if (server->display == NULL) {
		return false;
	}
	wl_display_set_global_filter(server->display, global_filter, NULL);
	server->loop = wl_display_get_event_loop(server->display);
	server->backend = wlr_headless_backend_create(server->display);
	server->renderer = wlr_pixman_renderer_create();
	if (server->backend == NULL || server->renderer == NULL || !init_shm(server)) {
		tessera_log(TESSERA_ERROR, "cannot create the headless backend and pixman renderer");
		return false;
	}
	tessera_client_buffer_register();
	struct tessera_linux_dmabuf *dmabuf = tessera_linux_dmabuf_create(server->display);
	if (dmabuf == NULL || !agent_wl_drm_create(server->display, dmabuf)) {
		return false;
	}
	server->compositor = wlr_compositor_create(server->display, server->renderer);
	if (server->compositor == NULL) {
		return false;
	}
	server->new_surface.notify = handle_new_surface;
	wl_signal_add(&server->compositor->events.new_surface, &server->new_surface);
	server->layout = wlr_output_layout_create();
	server->xdg_shell = wlr_xdg_shell_create(server->display);
	server->presentation = wlr_presentation_create(server->display, server->backend);
	if (server->layout == NULL || server->xdg_shell == NULL ||
			server->presentation == NULL ||
			wlr_data_device_manager_create(server->display) == NULL ||
			wlr_data_control_manager_v1_create(server->display) == NULL ||
			wlr_viewporter_create(server->display) == NULL ||
			wlr_xdg_output_manager_v1_create(server->display, server->layout) == NULL ||
			!agent_screencopy_init(server)) {
		return false;
	}
	server->new_xdg_surface.notify = handle_new_xdg_surface;
	wl_signal_add(&server->xdg_shell->events.new_surface, &server->new_xdg_surface);
	struct wlr_xdg_decoration_manager_v1 *decorations =
		wlr_xdg_decoration_manager_v1_create(server->display);
	if (decorations == NULL) {
		return false;
	}
	server->new_decoration.notify = handle_new_decoration;
	wl_signal_add(&decorations->events.new_toplevel_decoration, &server->new_decoration);
	return agent_seat_init(server) && agent_clipboard_init(server);
}

void agent_server_finish(struct agent_server *server) {
	agent_xwayland_finish(server);
	if (server->display != NULL) {
		wl_display_destroy_clients(server->display);
	}
	agent_buffers_finish(server);
	agent_shares_finish(server);
	agent_host_finish(&server->host);
	agent_clipboard_finish(server);
	agent_seat_finish(server);
	agent_outputs_finish(server);
	if (server->display != NULL) {
		wl_display_destroy(server->display);
	}
	if (server->layout != NULL) {
		wlr_output_layout_destroy(server->layout);
	}
}
