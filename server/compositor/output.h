#ifndef TESSERA_OUTPUT_H
#define TESSERA_OUTPUT_H

#include <wayland-server-core.h>

struct tessera_server;

/* An enabled output, drawn from the scene on every frame. */
struct tessera_output {
	struct wl_list link; /* tessera_server.outputs */
	struct tessera_server *server;
	struct wlr_output *wlr_output;
	struct wl_listener frame;
	struct wl_listener destroy;
};

/* The backend's new_output: enables the output and adds it to the layout. */
void tessera_output_handle_new(struct wl_listener *listener, void *data);

#endif
