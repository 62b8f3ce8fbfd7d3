#include "tessera-client.h"

static void wm_base_handle_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial) {
	xdg_wm_base_pong(wm_base, serial);
}

const struct xdg_wm_base_listener tessera_client_wm_base_listener = {
	.ping = wm_base_handle_ping,
};

static void xdg_surface_handle_configure(void *data, struct xdg_surface *xdg_surface,
		uint32_t serial) {
	struct tessera_client_window *window = data;
	xdg_surface_ack_configure(xdg_surface, serial);
	window->configured = true;
	if (window->impl != NULL && window->impl->configure != NULL) {
		window->impl->configure(window->data, window->pending_width,
			window->pending_height);
	}
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = xdg_surface_handle_configure,
};

static void xdg_toplevel_handle_configure(void *data, struct xdg_toplevel *toplevel,
		int32_t width, int32_t height, struct wl_array *states) {
	struct tessera_client_window *window = data;
	window->pending_width = width;
	window->pending_height = height;
	window->pending_states = 0;
	const uint32_t *state;
	wl_array_for_each(state, states) {
		if (*state < 32) {
			window->pending_states |= UINT32_C(1) << *state;
		}
	}
}

static void xdg_toplevel_handle_close(void *data, struct xdg_toplevel *toplevel) {
	struct tessera_client_window *window = data;
	if (window->impl != NULL && window->impl->close != NULL) {
		window->impl->close(window->data);
	}
}

static void xdg_toplevel_handle_configure_bounds(void *data, struct xdg_toplevel *toplevel,
		int32_t width, int32_t height) {
	/* unused */
}

static void xdg_toplevel_handle_wm_capabilities(void *data, struct xdg_toplevel *toplevel,
		struct wl_array *capabilities) {
	/* unused */
}

static const struct xdg_toplevel_listener xdg_toplevel_listener = {
	.configure = xdg_toplevel_handle_configure,
	.close = xdg_toplevel_handle_close,
	.configure_bounds = xdg_toplevel_handle_configure_bounds,
	.wm_capabilities = xdg_toplevel_handle_wm_capabilities,
};

void tessera_client_window_init(struct tessera_client_window *window,
		struct wl_compositor *compositor, struct xdg_wm_base *wm_base,
		const char *title, const struct tessera_client_window_impl *impl, void *data) {
	*window = (struct tessera_client_window){ .impl = impl, .data = data };
	window->surface = wl_compositor_create_surface(compositor);
	window->xdg_surface = xdg_wm_base_get_xdg_surface(wm_base, window->surface);
	xdg_surface_add_listener(window->xdg_surface, &xdg_surface_listener, window);
	window->xdg_toplevel = xdg_surface_get_toplevel(window->xdg_surface);
	xdg_toplevel_add_listener(window->xdg_toplevel, &xdg_toplevel_listener, window);
	if (title != NULL) {
		xdg_toplevel_set_title(window->xdg_toplevel, title);
	}
}

void tessera_client_window_finish(struct tessera_client_window *window) {
	if (window->xdg_toplevel != NULL) {
		xdg_toplevel_destroy(window->xdg_toplevel);
		window->xdg_toplevel = NULL;
	}
	if (window->xdg_surface != NULL) {
		xdg_surface_destroy(window->xdg_surface);
		window->xdg_surface = NULL;
	}
	if (window->surface != NULL) {
		wl_surface_destroy(window->surface);
		window->surface = NULL;
	}
}
