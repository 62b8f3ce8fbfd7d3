/*
 * What a commit shows on the host.
 *
 * Zero copy: a client dmabuf exported by the virtio-gpu device itself (a
 * dumb buffer from the card node or a 3D resource from the render node)
 * is the host resource already; the transport finds its resource id (PRIME
 * import + RESOURCE_INFO) and the buffer is described once with
 * BUFFER_CREATE and forwarded as is.
 *
 * Copy: wl_shm buffers and foreign dmabufs are copied, damaged rectangles
 * only, into a small pool of agent-owned resources per surface (one guest
 * side copy, as sommelier does). A pool buffer is reused only after the
 * host released it; each remembers which area is stale (damage of commits
 * that went into other pool buffers), so a reused buffer gets exactly
 * what changed since it was last written. Viewports are applied in the
 * copy (pixman scaling), so the host sees a plain buffer.
 *
 * Releases: a forwarded client buffer stays locked (not released) until
 * the host's BUFFER_RELEASE of it arrives. A copied one is the client's
 * again once copied, as with any compositor that copies wl_shm (wlroots
 * keeps the current one until the next commit): holding it until the
 * host released the pool copy would leave a client that renders ahead
 * (Mesa's software EGL with swap interval 0) without a free buffer, which
 * Mesa 22 does not survive.
 */
#define _GNU_SOURCE
#include <drm_fourcc.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_surface.h>

#include "agent.h"
#include "linux-dmabuf.h"
#include "log.h"
#include "pixman-format.h"

static bool wire_format(uint32_t fmt) {
	return tessera_wire_format_bpp(fmt) != 0;
}

static void wire_unlock(struct agent_wire_buffer *wire) {
	if (wire->locked != NULL) {
		struct wlr_buffer *b = wire->locked;
		wire->locked = NULL;
		wlr_buffer_unlock(b); /* may send wl_buffer.release */
	}
}

static bool wire_create(struct agent_server *server, struct agent_wire_buffer *wire) {
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_BUFFER_CREATE,
		.buffer_create = {
			.buffer = agent_host_new_buffer_id(&server->host),
			.resource = wire->res.id,
			.format = wire->format,
			.width = wire->width,
			.height = wire->height,
			.stride = wire->stride,
			.offset = 0,
		},
	};
	if (!agent_host_send(&server->host, &msg)) {
		return false;
	}
	wire->id = msg.buffer_create.buffer;
	return true;
}

/* Queues BUFFER_DESTROY; the caller flushes before unref'ing resources. */
static void wire_destroy(struct agent_server *server, struct agent_wire_buffer *wire) {
	if (wire->id != 0 && agent_host_ready(&server->host)) {
		struct tessera_wire_msg msg = {
			.type = TESSERA_WIRE_BUFFER_DESTROY,
			.buffer_destroy = { .buffer = wire->id },
		};
		agent_host_send(&server->host, &msg);
	}
	wire->id = 0;
	wire->busy = false;
	wire_unlock(wire);
}

/* ---- zero copy ---- */

static void direct_destroy(struct agent_direct_buffer *direct) {
	struct agent_server *server = direct->server;
	/* first: unlocking the source below may destroy it */
	wl_list_remove(&direct->source_destroy.link);
	wl_list_remove(&direct->link);
	wire_destroy(server, &direct->wire);
	agent_host_flush(&server->host);
	agent_transport_resource_destroy(server->host.transport, &direct->wire.res);
	free(direct);
}

static void handle_source_destroy(struct wl_listener *listener, void *data) {
	struct agent_direct_buffer *direct = wl_container_of(listener, direct, source_destroy);
	direct_destroy(direct);
}

static struct agent_direct_buffer *direct_find(struct agent_server *server,
		struct wlr_buffer *source) {
	struct agent_direct_buffer *direct;
	wl_list_for_each(direct, &server->direct_buffers, link) {
		if (direct->source == source) {
			return direct;
		}
	}
	return NULL;
}

/* The client's dmabuf as a host buffer, or NULL (copy it instead). */
static struct agent_wire_buffer *direct_get(struct agent_surface *as,
		struct wlr_buffer *source) {
	struct agent_server *server = as->server;
	struct tessera_linux_dmabuf_buffer_info info;
	if (!tessera_linux_dmabuf_buffer_get(source, &info) || !info.is_dmabuf ||
			!wire_format(info.format) || info.offset != 0) {
		return NULL;
	}
	struct agent_direct_buffer *direct = direct_find(server, source);
	if (direct == NULL) {
		direct = calloc(1, sizeof(*direct));
		if (direct == NULL) {
			return NULL;
		}
		direct->server = server;
		direct->source = source;
		direct->source_destroy.notify = handle_source_destroy;
		wl_signal_add(&source->events.destroy, &direct->source_destroy);
		wl_list_insert(&server->direct_buffers, &direct->link);
		direct->wire.format = info.format;
		direct->wire.width = (uint32_t)info.width;
		direct->wire.height = (uint32_t)info.height;
		direct->wire.stride = info.stride;
		if (agent_transport_resource_import(server->host.transport, info.fd,
				&direct->wire.res) != 0) {
			tessera_log(TESSERA_DEBUG, "dmabuf %dx%d is not from the virtio-gpu device (%s): "
				"copying it", info.width, info.height,
				agent_transport_error(server->host.transport));
			direct->wire.res.id = 0;
		} else {
			uint64_t need = (uint64_t)info.stride * (uint64_t)info.height;
			if (need > direct->wire.res.size) {
				tessera_log(TESSERA_ERROR, "dmabuf %dx%d stride %" PRIu32 " needs %" PRIu64
					" bytes, its resource has %" PRIu64 ": copying it", info.width,
					info.height, info.stride, need, direct->wire.res.size);
				agent_transport_resource_destroy(server->host.transport,
					&direct->wire.res);
				direct->wire.res.id = 0;
			} else {
				tessera_log(TESSERA_DEBUG, "dmabuf %dx%d is virtio-gpu resource %" PRIu32
					": zero copy", info.width, info.height, direct->wire.res.id);
			}
		}
	}
	if (direct->wire.res.id == 0) {
		return NULL; /* not importable: copied */
	}
	if (direct->wire.id == 0 && !wire_create(server, &direct->wire)) {
		return NULL;
	}
	server->stats.direct_commits++;
	return &direct->wire;
}

/* ---- copies ---- */

static struct agent_pool_buffer *pool_pick(struct agent_surface *as, uint32_t width,
		uint32_t height, uint32_t format) {
	struct agent_server *server = as->server;
	struct agent_pool_buffer *best = NULL, *spare = NULL;
	for (size_t i = 0; i < AGENT_POOL_SIZE; i++) {
		struct agent_pool_buffer *p = &as->pool[i];
		if (p->wire.busy) {
			continue;
		}
		if (p->wire.res.id != 0 && p->wire.id != 0 && p->wire.width == width &&
				p->wire.height == height && p->wire.format == format) {
			if (best == NULL || p->last_used < best->last_used) {
				best = p;
			}
		} else if (spare == NULL || spare->wire.res.id != 0) {
			spare = p; /* prefer an empty slot over reallocating */
		}
	}
	if (best != NULL) {
		return best;
	}
	if (spare == NULL) {
		return NULL;
	}
	/* (re)allocate the spare slot */
	struct agent_wire_buffer *wire = &spare->wire;
	if (wire->res.id != 0) {
		wire_destroy(server, wire);
		agent_host_flush(&server->host);
		agent_transport_resource_destroy(server->host.transport, &wire->res);
	}
	uint32_t stride = width * 4;
	uint64_t size = (uint64_t)stride * height;
	if (size > AGENT_TRANSPORT_MAX_RESOURCE_SIZE) {
		tessera_log(TESSERA_ERROR, "a %" PRIu32 "x%" PRIu32 " copy is too large", width, height);
		return NULL;
	}
	if (agent_transport_resource_create(server->host.transport, size,
			&wire->res) != 0) {
		tessera_log(TESSERA_ERROR, "cannot create a %" PRIu32 "x%" PRIu32 " buffer resource: %s",
			width, height, agent_transport_error(server->host.transport));
		memset(&wire->res, 0, sizeof(wire->res));
		return NULL;
	}
	wire->format = format;
	wire->width = width;
	wire->height = height;
	wire->stride = stride;
	if (!wire_create(server, wire)) {
		agent_transport_resource_destroy(server->host.transport, &wire->res);
		return NULL;
	}
	pixman_region32_fini(&spare->stale);
	pixman_region32_init_rect(&spare->stale, 0, 0, width, height);
	return spare;
}

static struct agent_wire_buffer *copy_into_pool(struct agent_surface *as,
		struct wlr_buffer *source, const pixman_region32_t *damage, bool *full) {
	struct agent_server *server = as->server;
	struct wlr_surface *s = as->surface;
	void *data = NULL;
	uint32_t fmt = 0;
	size_t stride = 0;
	if (!wlr_buffer_begin_data_ptr_access(source, WLR_BUFFER_DATA_PTR_ACCESS_READ,
			&data, &fmt, &stride)) {
		tessera_log(TESSERA_ERROR, "cannot read a %dx%d client buffer", source->width,
			source->height);
		return NULL;
	}
	struct agent_wire_buffer *result = NULL;
	pixman_format_code_t src_pf = tessera_pixman_format_from_drm(fmt);
	if (src_pf == 0 || stride > INT32_MAX) {
		tessera_log(TESSERA_ERROR, "client buffer format 0x%08" PRIx32 " cannot be forwarded", fmt);
		goto out;
	}
	bool viewport = s->current.viewport.has_src || s->current.viewport.has_dst;
	uint32_t width = (uint32_t)source->width, height = (uint32_t)source->height;
	/* a viewport is applied at the surface's buffer scale, at least at
	 * the highest scale of the outputs: a client that shows a 2x buffer
	 * through a viewport stays sharp on a scale-2 output */
	int32_t scale = agent_clamp_i32(s->current.scale, 1, TESSERA_WIRE_MAX_SCALE);
	struct agent_output *out;
	wl_list_for_each(out, &server->outputs, link) {
		int32_t out_scale = agent_clamp_i32((int64_t)out->output->scale, 1,
			TESSERA_WIRE_MAX_SCALE);
		scale = out_scale > scale ? out_scale : scale;
	}
	if (viewport) {
		uint64_t w = s->current.width > 0 ? (uint64_t)s->current.width * (uint64_t)scale : 0;
		uint64_t h = s->current.height > 0 ? (uint64_t)s->current.height * (uint64_t)scale : 0;
		width = w <= TESSERA_WIRE_MAX_DIMENSION ? (uint32_t)w : 0;
		height = h <= TESSERA_WIRE_MAX_DIMENSION ? (uint32_t)h : 0;
	}
	if (width == 0 || height == 0 || width > TESSERA_WIRE_MAX_DIMENSION ||
			height > TESSERA_WIRE_MAX_DIMENSION) {
		goto out;
	}
	uint32_t dst_fmt = wire_format(fmt) ? fmt :
		(PIXMAN_FORMAT_A(src_pf) > 0 ? DRM_FORMAT_ARGB8888 : DRM_FORMAT_XRGB8888);

	/* everything damaged since each pool buffer was last written */
	for (size_t i = 0; i < AGENT_POOL_SIZE; i++) {
		pixman_region32_union(&as->pool[i].stale, &as->pool[i].stale,
			(pixman_region32_t *)damage);
	}
	struct agent_pool_buffer *p = pool_pick(as, width, height, dst_fmt);
	if (p == NULL) {
		goto out;
	}
	pixman_image_t *src = pixman_image_create_bits_no_clear(src_pf, source->width,
		source->height, data, (int)stride);
	pixman_image_t *dst = pixman_image_create_bits_no_clear(
		tessera_pixman_format_from_drm(dst_fmt), (int)width, (int)height, p->wire.res.data,
		(int)p->wire.stride);
	if (src == NULL || dst == NULL) {
		if (src != NULL) {
			pixman_image_unref(src);
		}
		if (dst != NULL) {
			pixman_image_unref(dst);
		}
		goto out;
	}
	uint64_t copied = 0;
	if (viewport) {
		struct wlr_fbox box;
		wlr_surface_get_buffer_source_box(s, &box);
		pixman_transform_t t;
		pixman_transform_init_identity(&t);
		pixman_transform_translate(&t, NULL, pixman_double_to_fixed(box.x),
			pixman_double_to_fixed(box.y));
		pixman_transform_scale(&t, NULL, pixman_double_to_fixed(box.width / width),
			pixman_double_to_fixed(box.height / height));
		pixman_image_set_transform(src, &t);
		pixman_image_set_filter(src, PIXMAN_FILTER_BILINEAR, NULL, 0);
		pixman_image_composite32(PIXMAN_OP_SRC, src, NULL, dst, 0, 0, 0, 0, 0, 0,
			(int)width, (int)height);
		copied = (uint64_t)width * height * 4;
		*full = true;
		p->wire.flattened = true;
		p->wire.flattened_scale = scale;
	} else {
		pixman_region32_intersect_rect(&p->stale, &p->stale, 0, 0, width, height);
		int n = 0;
		const pixman_box32_t *boxes = pixman_region32_rectangles(&p->stale, &n);
		for (int i = 0; i < n; i++) {
			int w = boxes[i].x2 - boxes[i].x1, h = boxes[i].y2 - boxes[i].y1;
			pixman_image_composite32(PIXMAN_OP_SRC, src, NULL, dst, boxes[i].x1,
				boxes[i].y1, 0, 0, boxes[i].x1, boxes[i].y1, w, h);
			copied += (uint64_t)w * (uint64_t)h * 4;
		}
		p->wire.flattened = false;
	}
	pixman_region32_clear(&p->stale);
	pixman_image_unref(src);
	pixman_image_unref(dst);
	server->stats.bytes_copied += copied;
	p->last_used = ++server->tick;
	result = &p->wire;
out:
	wlr_buffer_end_data_ptr_access(source);
	return result;
}

struct agent_wire_buffer *agent_buffer_prepare(struct agent_surface *as,
		struct wlr_buffer *source, const pixman_region32_t *damage, bool *full) {
	struct wlr_surface *s = as->surface;
	if (!s->current.viewport.has_src && !s->current.viewport.has_dst) {
		struct agent_wire_buffer *wire = direct_get(as, source);
		if (wire != NULL) {
			return wire;
		}
	}
	return copy_into_pool(as, source, damage, full);
}

static bool is_pool_buffer(const struct agent_surface *as,
		const struct agent_wire_buffer *wire) {
	for (size_t i = 0; i < AGENT_POOL_SIZE; i++) {
		if (wire == &as->pool[i].wire) {
			return true;
		}
	}
	return false;
}

void agent_buffer_mark_busy(struct agent_surface *as, struct agent_wire_buffer *wire,
		struct wlr_buffer *source) {
	wire->busy = true;
	if (source != NULL && wire->locked != source && !is_pool_buffer(as, wire)) {
		wire_unlock(wire);
		wire->locked = wlr_buffer_lock(source);
	}
	as->shown = wire;
}

void agent_buffer_handle_release(struct agent_server *server, uint32_t id) {
	if (id == 0) {
		return;
	}
	struct agent_surface *as;
	wl_list_for_each(as, &server->surfaces, link) {
		for (size_t i = 0; i < AGENT_POOL_SIZE; i++) {
			struct agent_wire_buffer *wire = &as->pool[i].wire;
			if (wire->id == id) {
				wire->busy = false;
				wire_unlock(wire);
				return;
			}
		}
	}
	struct agent_direct_buffer *direct;
	wl_list_for_each(direct, &server->direct_buffers, link) {
		if (direct->wire.id == id) {
			direct->wire.busy = false;
			wire_unlock(&direct->wire);
			return;
		}
	}
	/* a buffer destroyed meanwhile: nothing to do */
}

void agent_buffer_surface_finish(struct agent_surface *as) {
	struct agent_server *server = as->server;
	bool any = false;
	for (size_t i = 0; i < AGENT_POOL_SIZE; i++) {
		struct agent_wire_buffer *wire = &as->pool[i].wire;
		any |= wire->id != 0;
		wire_destroy(server, wire);
	}
	if (any) {
		agent_host_flush(&server->host);
	}
	for (size_t i = 0; i < AGENT_POOL_SIZE; i++) {
		agent_transport_resource_destroy(server->host.transport,
			&as->pool[i].wire.res);
		pixman_region32_fini(&as->pool[i].stale);
	}
	as->shown = NULL;
}

void agent_buffers_session_lost(struct agent_server *server) {
	struct agent_surface *as;
	wl_list_for_each(as, &server->surfaces, link) {
		for (size_t i = 0; i < AGENT_POOL_SIZE; i++) {
			struct agent_pool_buffer *p = &as->pool[i];
			wire_unlock(&p->wire);
			memset(&p->wire, 0, sizeof(p->wire));
			pixman_region32_clear(&p->stale);
		}
		as->shown = NULL;
	}
	/* forget the records (the GEM handles died with the device file):
	 * the next commit imports again. Unlocking may destroy a source,
	 * so the listeners go first. */
	struct agent_direct_buffer *direct, *tmp;
	wl_list_for_each_safe(direct, tmp, &server->direct_buffers, link) {
		wl_list_remove(&direct->source_destroy.link);
		wl_list_remove(&direct->link);
		wire_unlock(&direct->wire);
		free(direct);
	}
}

void agent_buffers_finish(struct agent_server *server) {
	struct agent_direct_buffer *direct, *tmp;
	wl_list_for_each_safe(direct, tmp, &server->direct_buffers, link) {
		direct_destroy(direct);
	}
}
