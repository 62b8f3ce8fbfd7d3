#include <stdbool.h>
#include <wayland-server-protocol.h>
#include <wlr/types/wlr_buffer.h>

#include "client-buffer.h"

static void handle_release(struct wl_listener *listener, void *data) {
	struct tessera_client_buffer *buffer = wl_container_of(listener, buffer, release);
	if (buffer->resource != NULL) {
		wl_buffer_send_release(buffer->resource);
	}
}

static void resource_handle_destroy(struct wl_client *client,
		struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static const struct wl_buffer_interface resource_impl = {
	.destroy = resource_handle_destroy,
};

static void resource_destroy(struct wl_resource *resource) {
	struct tessera_client_buffer *buffer = wl_resource_get_user_data(resource);
	buffer->resource = NULL;
	/* Freed now, or when wlroots releases its last lock. */
	wlr_buffer_drop(&buffer->base);
}

static bool resource_is_instance(struct wl_resource *resource) {
	return wl_resource_instance_of(resource, &wl_buffer_interface, &resource_impl);
}

static struct wlr_buffer *resource_to_wlr(struct wl_resource *resource) {
	struct tessera_client_buffer *buffer = wl_resource_get_user_data(resource);
	return &buffer->base;
}

static const struct wlr_buffer_resource_interface resource_interface = {
	.name = "tessera_client_buffer",
	.is_instance = resource_is_instance,
	.from_resource = resource_to_wlr,
};

struct tessera_client_buffer *tessera_client_buffer_from_resource(
		struct wl_resource *resource) {
	return resource_is_instance(resource) ? wl_resource_get_user_data(resource) : NULL;
}

void tessera_client_buffer_register(void) {
	static bool registered = false;
	if (!registered) {
		wlr_buffer_register_resource_interface(&resource_interface);
		registered = true;
	}
}

void tessera_client_buffer_init(struct tessera_client_buffer *buffer,
		const struct wlr_buffer_impl *impl, int width, int height) {
	wlr_buffer_init(&buffer->base, impl, width, height);
	buffer->resource = NULL;
	buffer->release.notify = handle_release;
	wl_signal_add(&buffer->base.events.release, &buffer->release);
}

bool tessera_client_buffer_add_resource(struct tessera_client_buffer *buffer,
		struct wl_client *client, uint32_t id) {
	buffer->resource = wl_resource_create(client, &wl_buffer_interface, 1, id);
	if (buffer->resource == NULL) {
		wl_client_post_no_memory(client);
		return false;
	}
	wl_resource_set_implementation(buffer->resource, &resource_impl, buffer,
		resource_destroy);
	return true;
}

void tessera_client_buffer_finish(struct tessera_client_buffer *buffer) {
	wl_list_remove(&buffer->release.link);
}
