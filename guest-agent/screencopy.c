/*
 * wlr-screencopy (version 3), served by the agent itself: how guest
 * clients capture a share's output (share.c). wlroots 0.15's own
 * implementation (wlr_screencopy_manager_v1_create) announces a
 * linux_dmabuf format only for outputs whose buffers are dmabufs, which
 * these pixman outputs never are; xdg-desktop-portal-wlr 0.7.0 (Debian 12)
 * requires one whatever version it bound (its check reads its own D-Bus
 * ScreenCast version, 4, not screencopy's) and fails "unable to receive a
 * valid format from wlr_screencopy". Here every frame announces wl_shm
 * XRGB8888, the buffer it is copied into, and a linux_dmabuf format only
 * to satisfy that check: XBGR8888, which the agent's linux-dmabuf does not
 * import, so that clients find no modifier for it and take wl_shm (xdpw
 * 0.7.0 with a modifier and no GBM device, the case in most guests,
 * crashes). A copy into anything but a wl_shm buffer fails.
 *
 * A SHARE output gives its latest frame (region-clipped); every other
 * output (the mirrors of host outputs) captures black, as before.
 * copy_with_damage waits for the share's next frame when nothing changed
 * since that manager's last copy of it.
 */
#include <assert.h>
#include <drm_fourcc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wayland-server-core.h>
#include <wayland-server-protocol.h>
#include <wlr/types/wlr_output.h>
#include <wlr/util/box.h>

#include "agent.h"
#include "log.h"
#include "wlr-screencopy-unstable-v1-protocol.h"

#define SCREENCOPY_VERSION 3

struct screencopy_seen {
	uint32_t share; /* 0: unused */
	uint64_t seq;
};

struct screencopy_manager {
	struct wl_resource *resource;
	struct agent_server *server;
	struct wl_list link; /* agent_server.screencopy_managers */
	struct wl_list frames; /* screencopy_frame.link */
	struct screencopy_seen seen[AGENT_MAX_SHARES];
	size_t seen_next;
};

struct screencopy_frame {
	struct wl_resource *resource;
	struct screencopy_manager *manager; /* NULL once the manager is gone */
	struct wl_list link; /* screencopy_manager.frames */
	struct agent_server *server;
	uint32_t share; /* 0: not a share output, black */
	struct wlr_box box; /* in the output's buffer */
	uint32_t stride;
	bool used, failed, with_damage, waiting;
	struct wl_resource *buffer;
	struct wl_listener buffer_destroy;
};

static const struct zwlr_screencopy_frame_v1_interface frame_impl;

static struct screencopy_frame *frame_from_resource(struct wl_resource *resource) {
	assert(wl_resource_instance_of(resource, &zwlr_screencopy_frame_v1_interface,
		&frame_impl));
	return wl_resource_get_user_data(resource);
}

static void frame_forget_buffer(struct screencopy_frame *frame) {
	if (frame->buffer != NULL) {
		wl_list_remove(&frame->buffer_destroy.link);
		frame->buffer = NULL;
	}
}

/* The frame's resource stays (inert) until the client destroys it. */
static void frame_finish(struct screencopy_frame *frame) {
	frame_forget_buffer(frame);
	frame->waiting = false;
	wl_list_remove(&frame->link);
	wl_list_init(&frame->link);
}

static void frame_fail(struct screencopy_frame *frame) {
	frame->failed = true;
	zwlr_screencopy_frame_v1_send_failed(frame->resource);
	frame_finish(frame);
}

static struct screencopy_seen *seen_of(struct screencopy_manager *manager, uint32_t share) {
	for (size_t i = 0; i < AGENT_MAX_SHARES; i++) {
		if (manager->seen[i].share == share) {
			return &manager->seen[i];
		}
	}
	struct screencopy_seen *seen = &manager->seen[manager->seen_next];
	manager->seen_next = (manager->seen_next + 1) % AGENT_MAX_SHARES;
	*seen = (struct screencopy_seen){ .share = share, .seq = UINT64_MAX };
	return seen;
}

/* Copies the frame's region now; the buffer was checked at copy. */
static void frame_send(struct screencopy_frame *frame) {
	struct wl_shm_buffer *shm = wl_shm_buffer_get(frame->buffer);
	int32_t dst_stride = wl_shm_buffer_get_stride(shm);
	size_t row = (size_t)frame->box.width * 4;
	struct agent_share_frame src = {0};
	bool have = frame->share != 0 &&
		agent_share_current_frame(frame->server, frame->share, &src);
	if (frame->share != 0 && (!have || src.width < frame->box.x + frame->box.width ||
			src.height < frame->box.y + frame->box.height)) {
		frame_fail(frame); /* the share went or changed its size */
		return;
	}
	wl_shm_buffer_begin_access(shm);
	uint8_t *dst = wl_shm_buffer_get_data(shm);
	for (int32_t y = 0; y < frame->box.height; y++) {
		uint8_t *d = dst + (size_t)y * (size_t)dst_stride;
		if (have && src.pixels != NULL) {
			memcpy(d, src.pixels + (size_t)(frame->box.y + y) * src.stride +
				(size_t)frame->box.x * 4, row);
		} else {
			/* XRGB8888 black, in little-endian words */
			for (size_t x = 0; x < row; x += 4) {
				d[x] = d[x + 1] = d[x + 2] = 0;
				d[x + 3] = 0xff;
			}
		}
	}
	wl_shm_buffer_end_access(shm);
	if (frame->manager != NULL && frame->share != 0) {
		seen_of(frame->manager, frame->share)->seq = src.seq;
	}
	zwlr_screencopy_frame_v1_send_flags(frame->resource, 0);
	if (frame->with_damage) {
		zwlr_screencopy_frame_v1_send_damage(frame->resource, 0, 0,
			(uint32_t)frame->box.width, (uint32_t)frame->box.height);
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t sec = (uint64_t)now.tv_sec;
	zwlr_screencopy_frame_v1_send_ready(frame->resource, (uint32_t)(sec >> 32),
		(uint32_t)sec, (uint32_t)now.tv_nsec);
	frame_finish(frame);
}

static void frame_handle_buffer_destroy(struct wl_listener *listener, void *data) {
	struct screencopy_frame *frame = wl_container_of(listener, frame, buffer_destroy);
	wl_list_remove(&frame->buffer_destroy.link);
	frame->buffer = NULL;
	if (frame->waiting) {
		frame_fail(frame);
	}
}

static void frame_copy(struct wl_client *client, struct wl_resource *resource,
		struct wl_resource *buffer, bool with_damage) {
	struct screencopy_frame *frame = frame_from_resource(resource);
	if (frame->failed) {
		return; /* inert */
	}
	if (frame->used) {
		wl_resource_post_error(resource, ZWLR_SCREENCOPY_FRAME_V1_ERROR_ALREADY_USED,
			"frame already used");
		return;
	}
	frame->used = true;
	struct wl_shm_buffer *shm = wl_shm_buffer_get(buffer);
	if (shm == NULL || wl_shm_buffer_get_format(shm) != WL_SHM_FORMAT_XRGB8888 ||
			wl_shm_buffer_get_width(shm) != frame->box.width ||
			wl_shm_buffer_get_height(shm) != frame->box.height ||
			wl_shm_buffer_get_stride(shm) < (int32_t)frame->stride) {
		tessera_log(TESSERA_DEBUG, "screencopy: a client's buffer is not %dx%d "
			"XRGB8888 wl_shm with a stride of at least %u", frame->box.width,
			frame->box.height, frame->stride);
		frame_fail(frame);
		return;
	}
	frame->buffer = buffer;
	frame->buffer_destroy.notify = frame_handle_buffer_destroy;
	wl_resource_add_destroy_listener(buffer, &frame->buffer_destroy);
	frame->with_damage = with_damage;
	if (with_damage && frame->share != 0 && frame->manager != NULL) {
		struct agent_share_frame cur = {0};
		if (agent_share_current_frame(frame->server, frame->share, &cur) &&
				seen_of(frame->manager, frame->share)->seq == cur.seq) {
			frame->waiting = true; /* until the share's next frame */
			return;
		}
	}
	frame_send(frame);
}

static void frame_handle_copy(struct wl_client *client, struct wl_resource *resource,
		struct wl_resource *buffer) {
	frame_copy(client, resource, buffer, false);
}

static void frame_handle_copy_with_damage(struct wl_client *client,
		struct wl_resource *resource, struct wl_resource *buffer) {
	frame_copy(client, resource, buffer, true);
}

static void frame_handle_destroy(struct wl_client *client, struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static const struct zwlr_screencopy_frame_v1_interface frame_impl = {
	.copy = frame_handle_copy,
	.destroy = frame_handle_destroy,
	.copy_with_damage = frame_handle_copy_with_damage,
};

static void frame_handle_resource_destroy(struct wl_resource *resource) {
	struct screencopy_frame *frame = frame_from_resource(resource);
	frame_finish(frame);
	free(frame);
}

static void capture(struct wl_client *client, struct wl_resource *manager_resource,
		uint32_t id, struct wl_resource *output_resource, const struct wlr_box *region) {
	struct screencopy_manager *manager = wl_resource_get_user_data(manager_resource);
	struct agent_server *server = manager->server;
	uint32_t version = (uint32_t)wl_resource_get_version(manager_resource);
	struct wl_resource *resource = wl_resource_create(client,
		&zwlr_screencopy_frame_v1_interface, (int)version, id);
	if (resource == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	struct screencopy_frame *frame = calloc(1, sizeof(*frame));
	if (frame == NULL) {
		wl_resource_destroy(resource);
		wl_client_post_no_memory(client);
		return;
	}
	frame->resource = resource;
	frame->manager = manager;
	frame->server = server;
	wl_list_insert(&manager->frames, &frame->link);
	wl_resource_set_implementation(resource, &frame_impl, frame,
		frame_handle_resource_destroy);
	struct wlr_output *output = output_resource != NULL ?
		wlr_output_from_resource(output_resource) : NULL;
	if (output == NULL || !output->enabled || output->width <= 0 || output->height <= 0) {
		frame_fail(frame);
		return;
	}
	frame->share = agent_share_of_output(server, output);
	struct wlr_box whole = { .width = output->width, .height = output->height };
	frame->box = whole;
	if (region != NULL) {
		/* share and mirror outputs have scale 1 and no transform */
		if (!wlr_box_intersection(&frame->box, &whole, region)) {
			frame_fail(frame);
			return;
		}
	}
	frame->stride = (uint32_t)frame->box.width * 4;
	zwlr_screencopy_frame_v1_send_buffer(resource, WL_SHM_FORMAT_XRGB8888,
		(uint32_t)frame->box.width, (uint32_t)frame->box.height, frame->stride);
	if (version >= 3) {
		zwlr_screencopy_frame_v1_send_linux_dmabuf(resource, DRM_FORMAT_XBGR8888,
			(uint32_t)frame->box.width, (uint32_t)frame->box.height);
		zwlr_screencopy_frame_v1_send_buffer_done(resource);
	}
}

static void manager_handle_capture_output(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, int32_t overlay_cursor,
		struct wl_resource *output) {
	capture(client, resource, id, output, NULL);
}

static void manager_handle_capture_output_region(struct wl_client *client,
		struct wl_resource *resource, uint32_t id, int32_t overlay_cursor,
		struct wl_resource *output, int32_t x, int32_t y, int32_t width, int32_t height) {
	/* coordinates far beyond any output (no int overflow in the clipping) */
	const int32_t limit = 1 << 20;
	if (width <= 0 || height <= 0 || width > limit || height > limit ||
			x < -limit || x > limit || y < -limit || y > limit) {
		/* nothing to capture: an inert frame that fails */
		capture(client, resource, id, NULL, NULL);
		return;
	}
	capture(client, resource, id, output,
		&(struct wlr_box){ .x = x, .y = y, .width = width, .height = height });
}

static void manager_handle_destroy(struct wl_client *client, struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static const struct zwlr_screencopy_manager_v1_interface manager_impl = {
	.capture_output = manager_handle_capture_output,
	.capture_output_region = manager_handle_capture_output_region,
	.destroy = manager_handle_destroy,
};

static void manager_handle_resource_destroy(struct wl_resource *resource) {
	struct screencopy_manager *manager = wl_resource_get_user_data(resource);
	struct screencopy_frame *frame, *tmp;
	wl_list_for_each_safe(frame, tmp, &manager->frames, link) {
		frame->manager = NULL;
		if (frame->waiting) {
			frame_fail(frame);
		} else {
			wl_list_remove(&frame->link);
			wl_list_init(&frame->link);
		}
	}
	wl_list_remove(&manager->link);
	free(manager);
}

static void manager_bind(struct wl_client *client, void *data, uint32_t version,
		uint32_t id) {
	struct agent_server *server = data;
	struct screencopy_manager *manager = calloc(1, sizeof(*manager));
	struct wl_resource *resource = manager == NULL ? NULL : wl_resource_create(client,
		&zwlr_screencopy_manager_v1_interface, (int)version, id);
	if (resource == NULL) {
		free(manager);
		wl_client_post_no_memory(client);
		return;
	}
	manager->resource = resource;
	manager->server = server;
	wl_list_init(&manager->frames);
	wl_list_insert(&server->screencopy_managers, &manager->link);
	wl_resource_set_implementation(resource, &manager_impl, manager,
		manager_handle_resource_destroy);
}

bool agent_screencopy_init(struct agent_server *server) {
	wl_list_init(&server->screencopy_managers);
	return wl_global_create(server->display, &zwlr_screencopy_manager_v1_interface,
		SCREENCOPY_VERSION, server, manager_bind) != NULL;
}

void agent_screencopy_share_changed(struct agent_server *server, uint32_t share) {
	struct screencopy_manager *manager;
	wl_list_for_each(manager, &server->screencopy_managers, link) {
		struct screencopy_frame *frame, *tmp;
		wl_list_for_each_safe(frame, tmp, &manager->frames, link) {
			if (frame->waiting && frame->share == share) {
				frame_send(frame); /* or failed, if the share went */
			}
		}
	}
}
