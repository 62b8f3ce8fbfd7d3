/*
 * Window sharing, the guest's side (PROTOCOL.md §17): a window of another
 * VM that the host's user shared into this one becomes a capture source
 * for guest applications and nothing else does. Each share (SHARE_OFFER)
 * is a headless output of its own, "SHARE-<id>", described "[A] title",
 * that shows only the shared window's frames; guest clients capture it
 * with wlr-screencopy, which the agent serves itself at version 2
 * (screencopy.c: grim, xdg-desktop-portal-wlr). The agent supplies the host
 * with AGENT_SHARE_BUFFERS buffers of its own memory (BUFFER_CREATE +
 * SHARE_BUFFER); the host copies each frame into a free one and says so
 * (SHARE_FRAME); the agent takes the pixels into the output's content and
 * hands the buffer back at once; screencopy.c copies captures from the
 * share's copy of its latest frame (pixels). The output is rendered
 * (pixman) only when content came.
 */
#include <drm_fourcc.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/backend/headless.h>
#include <wlr/render/allocator.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/render/wlr_texture.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_layout.h>

#include "agent.h"
#include "log.h"

struct agent_share_buffer {
	uint32_t id; /* wire buffer id, 0 if none */
	struct agent_resource res;
	uint32_t stride;
	bool with_host; /* handed over with SHARE_BUFFER, not filled yet */
};

struct agent_share {
	struct wl_list link; /* agent_server.shares */
	struct agent_server *server;
	uint32_t id;
	int32_t width, height;
	struct wlr_output *output;
	struct wlr_texture *content; /* the latest frame, NULL before the first */
	uint8_t *pixels; /* the same for screencopy.c, NULL before the first */
	uint64_t seq; /* of the latest frame: unique in the agent */
	struct agent_share_buffer buffers[AGENT_SHARE_BUFFERS];
	uint64_t frames; /* SHARE_FRAMEs taken */
	uint64_t rendered; /* output frames committed */
	struct wl_listener frame;
	struct wl_listener output_destroy;
};

static struct agent_share *share_find(struct agent_server *server, uint32_t id) {
	struct agent_share *share;
	wl_list_for_each(share, &server->shares, link) {
		if (share->id == id) {
			return share;
		}
	}
	return NULL;
}

static void buffers_free(struct agent_share *share, bool tell_host) {
	for (size_t i = 0; i < AGENT_SHARE_BUFFERS; i++) {
		struct agent_share_buffer *b = &share->buffers[i];
		if (b->id != 0 && tell_host) {
			agent_host_send(&share->server->host, &(struct tessera_wire_msg){
				.type = TESSERA_WIRE_BUFFER_DESTROY,
				.buffer_destroy = { .buffer = b->id },
			});
		}
		b->id = 0;
		b->with_host = false;
	}
	if (tell_host) {
		agent_host_flush(&share->server->host);
	}
	for (size_t i = 0; i < AGENT_SHARE_BUFFERS; i++) {
		if (tell_host) {
			agent_transport_resource_destroy(share->server->host.transport,
				&share->buffers[i].res);
		} else {
			memset(&share->buffers[i].res, 0, sizeof(share->buffers[i].res));
		}
	}
}

static void hand_over(struct agent_share *share, struct agent_share_buffer *b) {
	b->with_host = agent_host_send(&share->server->host, &(struct tessera_wire_msg){
		.type = TESSERA_WIRE_SHARE_BUFFER,
		.share_buffer = { .share = share->id, .buffer = b->id },
	});
}

/* Buffers of the share's size in memory the host can map, handed over. */
static void buffers_create(struct agent_share *share) {
	struct agent_host *host = &share->server->host;
	uint32_t stride = (uint32_t)share->width * 4;
	uint64_t size = (uint64_t)stride * (uint64_t)share->height;
	for (size_t i = 0; i < AGENT_SHARE_BUFFERS; i++) {
		struct agent_share_buffer *b = &share->buffers[i];
		if (agent_transport_resource_create(host->transport, size, &b->res) != 0) {
			tessera_log(TESSERA_ERROR, "share %" PRIu32 ": cannot create a buffer of %"
				PRIu64 " bytes: %s", share->id, size,
				agent_transport_error(host->transport));
			return;
		}
		b->id = agent_host_new_buffer_id(host);
		b->stride = stride;
		agent_host_send(host, &(struct tessera_wire_msg){
			.type = TESSERA_WIRE_BUFFER_CREATE,
			.buffer_create = {
				.buffer = b->id, .resource = b->res.id,
				.format = TESSERA_WIRE_FORMAT_XRGB8888,
				.width = (uint32_t)share->width, .height = (uint32_t)share->height,
				.stride = stride, .offset = 0,
			},
		});
		hand_over(share, b);
	}
}

static void share_render(struct agent_share *share) {
	struct wlr_output *output = share->output;
	struct wlr_renderer *renderer = share->server->renderer;
	if (!wlr_output_attach_render(output, NULL)) {
		tessera_log(TESSERA_ERROR, "share %" PRIu32 ": cannot render the output", share->id);
		return;
	}
	wlr_renderer_begin(renderer, output->width, output->height);
	if (share->content != NULL) {
		wlr_render_texture(renderer, share->content, output->transform_matrix, 0, 0, 1.0f);
	} else {
		wlr_renderer_clear(renderer, (float[4]){ 0, 0, 0, 1 });
	}
	wlr_renderer_end(renderer);
	if (wlr_output_commit(output)) {
		share->rendered++;
	}
}

static void share_handle_frame(struct wl_listener *listener, void *data) {
	struct agent_share *share = wl_container_of(listener, share, frame);
	share_render(share);
}

static void share_destroy(struct agent_share *share, bool tell_host) {
	tessera_log(TESSERA_INFO, "share %" PRIu32 ": output %s removed (%" PRIu64 " frames "
		"received, %" PRIu64 " rendered)", share->id,
		share->output != NULL ? share->output->name : "-", share->frames, share->rendered);
	buffers_free(share, tell_host);
	if (share->content != NULL) {
		wlr_texture_destroy(share->content);
	}
	free(share->pixels);
	if (share->output != NULL) {
		wl_list_remove(&share->frame.link);
		wl_list_remove(&share->output_destroy.link);
		wlr_output_layout_remove(share->server->layout, share->output);
		wlr_output_destroy(share->output);
	}
	struct agent_server *server = share->server;
	uint32_t id = share->id;
	wl_list_remove(&share->link);
	free(share);
	agent_screencopy_share_changed(server, id); /* waiting captures fail */
}

static void share_handle_output_destroy(struct wl_listener *listener, void *data) {
	struct agent_share *share = wl_container_of(listener, share, output_destroy);
	wl_list_remove(&share->frame.link);
	wl_list_remove(&share->output_destroy.link);
	share->output = NULL;
	share_destroy(share, true);
}

static bool ensure_allocator(struct agent_server *server) {
	if (server->allocator == NULL) {
		server->allocator = wlr_allocator_autocreate(server->backend, server->renderer);
	}
	return server->allocator != NULL;
}

static bool share_make_output(struct agent_share *share, const char *description) {
	struct agent_server *server = share->server;
	if (!ensure_allocator(server)) {
		tessera_log(TESSERA_ERROR, "share %" PRIu32 ": cannot create an allocator",
			share->id);
		return false;
	}
	struct wlr_output *output = wlr_headless_add_output(server->backend,
		(unsigned)share->width, (unsigned)share->height);
	if (output == NULL) {
		return false;
	}
	share->output = output;
	char name[32];
	snprintf(name, sizeof(name), "SHARE-%" PRIu32, share->id);
	wlr_output_set_name(output, name);
	wlr_output_set_description(output, description);
	wlr_output_init_render(output, server->allocator, server->renderer);
	share->frame.notify = share_handle_frame;
	wl_signal_add(&output->events.frame, &share->frame);
	share->output_destroy.notify = share_handle_output_destroy;
	wl_signal_add(&output->events.destroy, &share->output_destroy);
	wlr_output_enable(output, true);
	if (!wlr_output_commit(output)) {
		tessera_log(TESSERA_ERROR, "share %" PRIu32 ": cannot enable its output", share->id);
	}
	wlr_output_create_global(output);
	/* right of everything in the layout: a capture of the whole layout
	 * (grim without -o) shows it beside the host outputs (black) */
	struct wlr_box *extents = wlr_output_layout_get_box(server->layout, NULL);
	int x = extents != NULL && extents->width > 0 ? extents->x + extents->width : 0;
	wlr_output_layout_add(server->layout, output, x, 0);
	wlr_output_schedule_frame(output);
	return true;
}

void agent_share_handle_offer(struct agent_server *server,
		const struct tessera_wire_share_offer *ev) {
	struct agent_share *share = share_find(server, ev->share);
	if (share != NULL) {
		if (share->width == (int32_t)ev->width && share->height == (int32_t)ev->height) {
			wlr_output_set_description(share->output, ev->description);
			return;
		}
		/* a new size: a new output and new buffers */
		share_destroy(share, true);
		share = NULL;
	}
	if (wl_list_length(&server->shares) >= AGENT_MAX_SHARES) {
		tessera_log(TESSERA_ERROR, "share %" PRIu32 ": more than %d shares, ignored",
			ev->share, AGENT_MAX_SHARES);
		return;
	}
	share = calloc(1, sizeof(*share));
	if (share == NULL) {
		return;
	}
	share->server = server;
	share->id = ev->share;
	share->width = (int32_t)ev->width;
	share->height = (int32_t)ev->height;
	wl_list_insert(server->shares.prev, &share->link);
	if (!share_make_output(share, ev->description)) {
		tessera_log(TESSERA_ERROR, "share %" PRIu32 ": cannot create its output", ev->share);
		share_destroy(share, true);
		return;
	}
	buffers_create(share);
	tessera_log(TESSERA_INFO, "share %" PRIu32 ": output %s %" PRIi32 "x%" PRIi32 " for %s",
		share->id, share->output->name, share->width, share->height, ev->description);
}

void agent_share_handle_end(struct agent_server *server, uint32_t id) {
	struct agent_share *share = share_find(server, id);
	if (share != NULL) {
		share_destroy(share, true);
	}
}

void agent_share_handle_frame(struct agent_server *server,
		const struct tessera_wire_share_frame *ev) {
	struct agent_share *share = share_find(server, ev->share);
	if (share == NULL) {
		return;
	}
	struct agent_share_buffer *b = NULL;
	for (size_t i = 0; i < AGENT_SHARE_BUFFERS; i++) {
		if (share->buffers[i].id == ev->buffer && share->buffers[i].with_host) {
			b = &share->buffers[i];
		}
	}
	if (b == NULL) {
		tessera_log(TESSERA_ERROR, "host SHARE_FRAME: share %" PRIu32 " buffer %" PRIu32
			" is not with the host", ev->share, ev->buffer);
		return;
	}
	b->with_host = false;
	if (ev->width == 0 || ev->height == 0) {
		return; /* given back for good: the share's size changed (an offer follows) */
	}
	{
		/* the whole frame: each buffer misses what the others received */
		struct wlr_texture *texture = wlr_texture_from_pixels(server->renderer,
			DRM_FORMAT_XRGB8888, b->stride, (uint32_t)share->width,
			(uint32_t)share->height, b->res.data);
		size_t size = (size_t)b->stride * (size_t)share->height;
		if (share->pixels == NULL) {
			share->pixels = malloc(size);
		}
		if (texture != NULL && share->pixels != NULL) {
			if (share->content != NULL) {
				wlr_texture_destroy(share->content);
			}
			share->content = texture;
			memcpy(share->pixels, b->res.data, size);
			share->seq = ++server->share_seq;
			share->frames++;
			wlr_output_schedule_frame(share->output);
			agent_screencopy_share_changed(server, share->id);
		} else if (texture != NULL) {
			wlr_texture_destroy(texture);
		}
	}
	hand_over(share, b); /* the pixels are the output's now */
}

uint32_t agent_share_of_output(struct agent_server *server, struct wlr_output *output) {
	struct agent_share *share;
	wl_list_for_each(share, &server->shares, link) {
		if (share->output == output) {
			return share->id;
		}
	}
	return 0;
}

bool agent_share_current_frame(struct agent_server *server, uint32_t id,
		struct agent_share_frame *frame) {
	struct agent_share *share = share_find(server, id);
	if (share == NULL) {
		return false;
	}
	*frame = (struct agent_share_frame){
		.pixels = share->pixels, .stride = (uint32_t)share->width * 4,
		.width = share->width, .height = share->height, .seq = share->seq,
	};
	return true;
}

void agent_shares_session_lost(struct agent_server *server) {
	struct agent_share *share, *tmp;
	wl_list_for_each_safe(share, tmp, &server->shares, link) {
		share_destroy(share, false);
	}
}

void agent_shares_finish(struct agent_server *server) {
	agent_shares_session_lost(server);
	if (server->allocator != NULL) {
		wlr_allocator_destroy(server->allocator);
		server->allocator = NULL;
	}
}
