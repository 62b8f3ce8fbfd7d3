/*
 * wl_drm for the guest's Mesa, see wl-drm.h.
 */
#include <drm_fourcc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "linux-dmabuf.h"
#include "log.h"
#include "wayland-drm-protocol.h"
#include "wl-drm.h"

#define WL_DRM_VERSION 2

struct wl_drm_state {
	struct tessera_linux_dmabuf *dmabuf;
	char device[32];
};

static void handle_authenticate(struct wl_client *client, struct wl_resource *resource,
		uint32_t id) {
	/* a render node needs no DRM authentication */
	wl_drm_send_authenticated(resource);
}

/* create_buffer and create_planar_buffer take GEM names, which a render
 * node does not have */
static void refuse_gem_name(struct wl_resource *resource) {
	wl_resource_post_error(resource, WL_DRM_ERROR_INVALID_NAME,
		"GEM names are not supported: use create_prime_buffer");
}

static void handle_create_buffer(struct wl_client *client, struct wl_resource *resource,
		uint32_t id, uint32_t name, int32_t width, int32_t height, uint32_t stride,
		uint32_t format) {
	refuse_gem_name(resource);
}

static void handle_create_planar_buffer(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, uint32_t name, int32_t width,
		int32_t height, uint32_t format, int32_t offset0, int32_t stride0,
		int32_t offset1, int32_t stride1, int32_t offset2, int32_t stride2) {
	refuse_gem_name(resource);
}

static void handle_create_prime_buffer(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, int32_t fd, int32_t width,
		int32_t height, uint32_t format, int32_t offset0, int32_t stride0,
		int32_t offset1, int32_t stride1, int32_t offset2, int32_t stride2) {
	struct wl_drm_state *state = wl_resource_get_user_data(resource);
	if (offset0 < 0 || stride0 <= 0 || offset1 != 0 || stride1 != 0 ||
			offset2 != 0 || stride2 != 0) {
		close(fd);
		wl_resource_post_error(resource, WL_DRM_ERROR_INVALID_FORMAT,
			"one plane with offset >= 0 and stride > 0 only (offset %d, stride %d)",
			offset0, stride0);
		return;
	}
	/* wl_drm's ARGB8888 and XRGB8888 are the DRM fourccs */
	tessera_linux_dmabuf_create_prime(state->dmabuf, resource, id, fd, width, height,
		format, (uint32_t)offset0, (uint32_t)stride0);
}

static const struct wl_drm_interface drm_impl = {
	.authenticate = handle_authenticate,
	.create_buffer = handle_create_buffer,
	.create_planar_buffer = handle_create_planar_buffer,
	.create_prime_buffer = handle_create_prime_buffer,
};

static void bind_drm(struct wl_client *client, void *data, uint32_t version, uint32_t id) {
	struct wl_drm_state *state = data;
	struct wl_resource *resource = wl_resource_create(client, &wl_drm_interface,
		(int)version, id);
	if (resource == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &drm_impl, state, NULL);
	wl_drm_send_device(resource, state->device);
	wl_drm_send_format(resource, DRM_FORMAT_ARGB8888);
	wl_drm_send_format(resource, DRM_FORMAT_XRGB8888);
	if (version >= 2) {
		wl_drm_send_capabilities(resource, WL_DRM_CAPABILITY_PRIME);
	}
}

static void handle_display_destroy(struct wl_listener *listener, void *data) {
	wl_list_remove(&listener->link);
	free(listener);
}

bool agent_wl_drm_create(struct wl_display *display, struct tessera_linux_dmabuf *dmabuf) {
	char device[32] = "";
	for (int minor = 128; minor < 192; minor++) {
		char path[32];
		snprintf(path, sizeof(path), "/dev/dri/renderD%d", minor);
		if (access(path, F_OK) == 0) {
			snprintf(device, sizeof(device), "%s", path);
			break;
		}
	}
	if (device[0] == '\0') {
		return true;
	}
	/* lives as long as the display: the global's data */
	struct {
		struct wl_listener destroy;
		struct wl_drm_state state;
	} *owner = calloc(1, sizeof(*owner));
	if (owner == NULL) {
		return false;
	}
	owner->state.dmabuf = dmabuf;
	snprintf(owner->state.device, sizeof(owner->state.device), "%s", device);
	if (wl_global_create(display, &wl_drm_interface, WL_DRM_VERSION, &owner->state,
			bind_drm) == NULL) {
		free(owner);
		return false;
	}
	owner->destroy.notify = handle_display_destroy;
	wl_display_add_destroy_listener(display, &owner->destroy);
	tessera_log(TESSERA_INFO, "wl_drm: %s for GL clients (PRIME buffers)", device);
	return true;
}
