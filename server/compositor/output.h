#ifndef TESSERA_OUTPUT_H
#define TESSERA_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>

struct tessera_server;
struct wlr_output;

/* An enabled output, drawn from the scene on every frame. */
struct tessera_output {
	struct wl_list link; /* tessera_server.outputs */
	struct tessera_server *server;
	struct wlr_output *wlr_output;
	struct wl_listener frame;
	struct wl_listener destroy;
	/* headless, unpaced: the next frame is due as soon as one was drawn */
	bool unpaced;
	struct wl_event_source *unpaced_idle;
};

/* The backend's new_output: enables the output and adds it to the layout. */
void tessera_output_handle_new(struct wl_listener *listener, void *data);

/*
 * Paces a headless output (tessera --refresh), once it is enabled:
 * refresh_mhz > 0 is its refresh rate in mHz; 0 makes it unpaced: it
 * draws as soon as something changed and the last frame is done, and
 * frame callbacks and presentation feedback follow at once. false
 * (logged) if the output is not one of the server's headless outputs or
 * the mode cannot be set.
 */
bool tessera_output_pace_headless(struct tessera_server *server,
	struct wlr_output *wlr_output, int32_t refresh_mhz);

#endif
