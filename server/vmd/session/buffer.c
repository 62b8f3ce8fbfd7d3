/*
 * Guest buffers (PROTOCOL.md §6.3, §10) on the compositor: creation with
 * the VM's limits, the choice of the way to the compositor (import.h),
 * what a commit attaches, releases, destruction. See buffer.h.
 */
#include <stdlib.h>

#include "context.h"
#include "import.h"
#include "surface.h"

/* --- release --- */

void vmd_buffer_mark_busy(struct vmd_buffer *buffer) {
	buffer->busy = true;
}

void vmd_buffer_release(struct vmd_buffer *buffer) {
	if (!buffer->busy) {
		return;
	}
	buffer->busy = false;
	struct vmd_session *session = buffer->ctx->session;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_BUFFER_RELEASE,
		.buffer_release = {
			.buffer = buffer->id,
			.release_point = ++session->release_point,
		},
	};
	session->stats.releases++;
	vmd_ctx_emit(buffer->ctx, &event);
}

static void buffer_handle_release(void *data, struct wl_buffer *wl_buffer) {
	struct vmd_buffer *buffer = data;
	vmd_buffer_release(buffer);
}

static const struct wl_buffer_listener buffer_listener = {
	.release = buffer_handle_release,
};

void vmd_buffer_listen(struct vmd_buffer *buffer) {
	wl_buffer_add_listener(buffer->wl_buffer, &buffer_listener, buffer);
}

/* --- import --- */

const struct vmd_resource *vmd_buffer_backing(const struct vmd_buffer *buffer) {
	if (buffer->resource_gone) {
		return NULL;
	}
	const struct vmd_resource *res = vmd_session_get_resource(buffer->ctx->session,
		buffer->resource);
	struct tessera_wire_buffer_create bc = {
		.buffer = buffer->id, .resource = buffer->resource,
		.format = buffer->format, .width = buffer->width, .height = buffer->height,
		.stride = buffer->stride, .offset = buffer->offset,
	};
	if (res == NULL || tessera_wire_check_buffer(&bc, res->size, NULL) !=
			TESSERA_WIRE_ERROR_NONE) {
		return NULL;
	}
	return res;
}

bool vmd_buffer_host_rendered(const struct vmd_buffer *buffer) {
	const struct vmd_resource *res = vmd_buffer_backing(buffer);
	return (buffer->kind == VMD_BUFFER_SHM || buffer->kind == VMD_BUFFER_HOST_DMABUF) &&
		res != NULL && res->host_storage;
}

static void import(struct vmd_buffer *buffer, const struct vmd_resource *res) {
	struct vmd_session *session = buffer->ctx->session;
	/* host-rendered pixels: exported, else read back at each commit */
	bool guest_pixels = res != NULL && !res->host_storage;
	if (res != NULL && res->host_storage && vmd_host_dmabuf_import(buffer, res)) {
		session->stats.buffers_host_dmabuf++;
		return;
	}
	if (guest_pixels && vmd_udmabuf_import(buffer, res)) {
		return;
	}
	if (guest_pixels && vmd_gmem_import(buffer, res)) {
		session->stats.buffers_guest_memory++;
		return;
	}
	if (vmd_shm_import(buffer)) {
		session->stats.buffers_shm++;
		return;
	}
	buffer->kind = VMD_BUFFER_FAILED;
	session->stats.buffers_failed++;
	vmd_ctx_error(buffer->ctx, TESSERA_WIRE_ERROR_BUFFER_FAILED, buffer->id,
		"BUFFER_CREATE", "the compositor cannot show a %ux%u buffer of format "
		"0x%08x", buffer->width, buffer->height, buffer->format);
}

bool vmd_buffer_create(struct vmd_ctx *ctx, const struct tessera_wire_buffer_create *bc) {
	struct vmd_session *session = ctx->session;
	if (bc->buffer <= ctx->last_buffer_id) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ID_REUSE, bc->buffer,
			"BUFFER_CREATE.buffer", "id %u not above the last buffer id %u",
			bc->buffer, ctx->last_buffer_id);
		return false;
	}
	const struct vmd_resource *res = vmd_session_get_resource(session, bc->resource);
	if (res == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_RESOURCE, bc->buffer,
			"BUFFER_CREATE.resource", "resource %u does not exist or has no backing",
			bc->resource);
		return false;
	}
	struct tessera_wire_error err = {0};
	if (tessera_wire_check_buffer(bc, res->size, &err) != TESSERA_WIRE_ERROR_NONE) {
		vmd_ctx_error(ctx, err.code, bc->buffer, err.field, "%s (resource %u has "
			"%llu bytes)", err.reason, bc->resource, (unsigned long long)res->size);
		return false;
	}
	uint64_t bytes = (uint64_t)bc->stride * bc->height;
	if (session->n_buffers >= session->limits.max_buffers) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_LIMIT, bc->buffer, "BUFFER_CREATE",
			"the VM's limit of %llu buffers (max_buffers) is reached",
			(unsigned long long)session->limits.max_buffers);
		return false;
	}
	if (bytes > session->limits.max_buffer_bytes - session->buffer_bytes) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_LIMIT, bc->buffer, "BUFFER_CREATE",
			"the VM's limit of %llu bytes of buffers (max_buffer_bytes) would "
			"be exceeded", (unsigned long long)session->limits.max_buffer_bytes);
		return false;
	}
	struct vmd_buffer *buffer = calloc(1, sizeof(*buffer));
	if (buffer == NULL || !vmd_id_map_add(&ctx->buffers, bc->buffer, buffer)) {
		free(buffer);
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_HOST, bc->buffer, "BUFFER_CREATE",
			"out of memory");
		return false;
	}
	buffer->ctx = ctx;
	buffer->id = bc->buffer;
	buffer->resource = bc->resource;
	buffer->format = bc->format;
	buffer->width = bc->width;
	buffer->height = bc->height;
	buffer->stride = bc->stride;
	buffer->offset = bc->offset;
	buffer->bytes = bytes;
	buffer->shm_fd = -1;
	pixman_region32_init(&buffer->stale);
	wl_list_insert(ctx->buffer_list.prev, &buffer->link);
	ctx->last_buffer_id = bc->buffer;
	session->n_buffers++;
	session->buffer_bytes += bytes;
	import(buffer, res);
	return true;
}

/* --- commit --- */

/* A zero-copy import pins the pages of the memory table it was made from
 * (generation): after a table change it is made again from the new one,
 * and a busy period continues with the new wl_buffer. */
static void reimport_if_stale(struct vmd_buffer *buffer, uint64_t generation,
		void (*release_budget)(struct vmd_buffer *buffer)) {
	struct tessera_memory_table *mem = vmd_session_memory(buffer->ctx->session);
	const struct vmd_resource *res = vmd_buffer_backing(buffer);
	if (mem == NULL || mem->generation == generation || res == NULL) {
		return;
	}
	wl_buffer_destroy(buffer->wl_buffer);
	buffer->wl_buffer = NULL;
	release_budget(buffer);
	import(buffer, res);
}

struct wl_buffer *vmd_buffer_prepare_commit(struct vmd_buffer *buffer,
		struct vmd_surface *surface, const struct tessera_wire_commit *commit) {
	struct vmd_session *session = buffer->ctx->session;
	if (buffer->kind == VMD_BUFFER_GMEM && (!session->gmem.created ||
			buffer->gmem_generation != session->gmem.generation)) {
		reimport_if_stale(buffer, buffer->gmem_generation, vmd_gmem_release_budget);
	}
	if (buffer->kind == VMD_BUFFER_UDMABUF) {
		reimport_if_stale(buffer, buffer->udmabuf_generation,
			vmd_udmabuf_release_budget);
	}
	switch (buffer->kind) {
	case VMD_BUFFER_UDMABUF:
	case VMD_BUFFER_GMEM:
	case VMD_BUFFER_HOST_DMABUF:
		return buffer->wl_buffer;
	case VMD_BUFFER_SHM:
		vmd_shm_update(buffer, surface, commit);
		return buffer->wl_buffer;
	case VMD_BUFFER_FAILED:
		break;
	}
	return NULL;
}

/* --- destruction --- */

void vmd_buffer_destroy(struct vmd_buffer *buffer) {
	struct vmd_ctx *ctx = buffer->ctx;
	struct vmd_session *session = ctx->session;
	vmd_share_buffer_gone(buffer);
	struct vmd_surface *surface;
	wl_list_for_each(surface, &ctx->surface_list, link) {
		vmd_shm_forget_mirror(surface, buffer);
	}
	vmd_ctx_purge_backlog(ctx, false, buffer->id);
	if (buffer->wl_buffer != NULL) {
		wl_buffer_destroy(buffer->wl_buffer);
	}
	vmd_gmem_release_budget(buffer);
	vmd_udmabuf_release_budget(buffer);
	vmd_shm_finish(buffer);
	pixman_region32_fini(&buffer->stale);
	vmd_id_map_remove(&ctx->buffers, buffer->id);
	wl_list_remove(&buffer->link);
	session->n_buffers--;
	session->buffer_bytes -= buffer->bytes;
	free(buffer);
}
