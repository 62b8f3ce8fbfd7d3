#ifndef TESSERA_CLIENT_BUFFER_H
#define TESSERA_CLIENT_BUFFER_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_buffer.h>

/*
 * A wl_buffer the compositor implements itself around a wlr_buffer (guest
 * memory, CPU-imported dmabufs): wl_buffer.release when wlroots releases
 * the wlr_buffer, the wlr_buffer dropped when the client destroys the
 * wl_buffer, and a resource interface so that wl_surface.attach finds it.
 * Embed it first in the buffer struct; impl->destroy calls finish.
 */
struct tessera_client_buffer {
	struct wlr_buffer base;
	struct wl_resource *resource; /* NULL once the client destroyed it */
	struct wl_listener release;
};

/* Registers the resource interface with wlroots; once per process. */
void tessera_client_buffer_register(void);
void tessera_client_buffer_init(struct tessera_client_buffer *buffer,
	const struct wlr_buffer_impl *impl, int width, int height);
/*
 * Creates the client's wl_buffer with the given id. On failure posts
 * no_memory to the client and returns false: the caller drops the buffer.
 */
bool tessera_client_buffer_add_resource(struct tessera_client_buffer *buffer,
	struct wl_client *client, uint32_t id);
/* The buffer behind a wl_buffer of ours, or NULL for any other wl_buffer. */
struct tessera_client_buffer *tessera_client_buffer_from_resource(struct wl_resource *resource);
/* From the wlr_buffer's destroy. */
void tessera_client_buffer_finish(struct tessera_client_buffer *buffer);

#endif
