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

#define TESSERA_OUTPUT_MAX_SIZE 16384
#define TESSERA_OUTPUT_MAX_SCALE 4

/* A headless output's size and scale (tessera --outputs, tesseractl
 * output add). */
struct tessera_output_mode {
	int width, height, scale; /* scale 0: not given */
};

/* "WxH" (each 1..TESSERA_OUTPUT_MAX_SIZE); false if it is not one. */
bool tessera_output_parse_size(const char *arg, int *width, int *height);
/* A scale 1..TESSERA_OUTPUT_MAX_SCALE; false if it is not one. */
bool tessera_output_parse_scale(const char *arg, int *scale);
/* "WxH" or "WxH:SCALE"; false if it is neither. */
bool tessera_output_parse_mode(const char *arg, struct tessera_output_mode *mode);

/*
 * Adds a headless output of that mode (scale 0: tessera --scale's), placed
 * right of the others; NULL (logged) if the backend is not headless or
 * the output cannot be made.
 */
struct wlr_output *tessera_output_add_headless(struct tessera_server *server,
	const struct tessera_output_mode *mode);
/* The enabled output of that name, or NULL. */
struct tessera_output *tessera_output_find(struct tessera_server *server, const char *name);

/* Sets the scale of an enabled output (false, logged, if it cannot be set). */
bool tessera_output_set_scale(struct tessera_server *server, struct wlr_output *wlr_output,
	int scale);

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
