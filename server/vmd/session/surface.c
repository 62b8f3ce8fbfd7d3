/*
 * Guest surfaces (PROTOCOL.md §6.2) as wl_surfaces: creation, the tree of
 * subsurfaces and popups, regions, COMMIT, destruction, and the dispatch
 * of every request about surfaces and roles to the files handling them
 * (role.h).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "context.h"
#include "frame.h"
#include "role.h"
#include "viewporter-client-protocol.h"

/* Identifies vmd's session surfaces among all wl_surface proxies. */
static const char *const surface_tag = "tessera-vmd-session-surface";

struct vmd_surface *vmd_surface_from_wl_surface(struct wl_surface *wl_surface) {
	if (wl_surface == NULL ||
			wl_proxy_get_tag((struct wl_proxy *)wl_surface) != &surface_tag) {
		return NULL;
	}
	return wl_surface_get_user_data(wl_surface);
}

const char *vmd_role_name(enum vmd_role role) {
	switch (role) {
	case VMD_ROLE_NONE:
		return "no role";
	case VMD_ROLE_TOPLEVEL:
		return "toplevel";
	case VMD_ROLE_POPUP:
		return "popup";
	case VMD_ROLE_SUBSURFACE:
		return "subsurface";
	case VMD_ROLE_CURSOR:
		return "cursor";
	}
	return "?";
}

struct vmd_surface *vmd_surface_get(struct vmd_ctx *ctx, uint32_t id,
		const char *field) {
	struct vmd_surface *surface = vmd_id_map_get(&ctx->surfaces, id);
	if (surface == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_NO_OBJECT, id, field,
			"no surface %u", id);
	}
	return surface;
}

bool vmd_surface_require_role(struct vmd_ctx *ctx, struct vmd_surface *surface,
		enum vmd_role role, const char *field) {
	if (surface->role != role) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ROLE, surface->id, field,
			"surface %u is a %s, not a %s", surface->id,
			vmd_role_name(surface->role), vmd_role_name(role));
		return false;
	}
	return true;
}

/* A surface that committed a buffer cannot get an xdg role (xdg-shell's
 * unconfigured_buffer). */
bool vmd_surface_require_no_role(struct vmd_ctx *ctx, struct vmd_surface *surface,
		const char *field, bool xdg) {
	if (surface->role != VMD_ROLE_NONE) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ROLE, surface->id, field,
			"surface %u already is a %s", surface->id, vmd_role_name(surface->role));
		return false;
	}
	if (xdg && surface->has_buffer) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_STATE, surface->id, field,
			"surface %u has a buffer; unmap it first", surface->id);
		return false;
	}
	return true;
}

void vmd_surface_emit(struct vmd_surface *surface, uint16_t type) {
	struct tessera_wire_msg event = { .type = type };
	event.surface.surface = surface->id; /* CLOSE, POPUP_DONE share the layout */
	vmd_ctx_emit(surface->ctx, &event);
}

/* --- wl_surface --- */

/* SURFACE_ENTER or SURFACE_LEAVE for an output the guest knows. */
static void emit_surface_output(struct vmd_surface *surface,
		struct wl_output *wl_output, uint16_t type) {
	struct vmd_wayland_output *output = vmd_wayland_output_from_wl_output(
		surface->ctx->session->wayland, wl_output);
	if (output == NULL) {
		return;
	}
	struct tessera_wire_msg event = {
		.type = type,
		.surface_output = { .surface = surface->id, .output = output->id },
	};
	vmd_ctx_emit(surface->ctx, &event);
}

static void surface_handle_enter(void *data, struct wl_surface *wl_surface,
		struct wl_output *wl_output) {
	emit_surface_output(data, wl_output, TESSERA_WIRE_SURFACE_ENTER);
}

static void surface_handle_leave(void *data, struct wl_surface *wl_surface,
		struct wl_output *wl_output) {
	emit_surface_output(data, wl_output, TESSERA_WIRE_SURFACE_LEAVE);
}

static const struct wl_surface_listener surface_listener = {
	.enter = surface_handle_enter,
	.leave = surface_handle_leave,
};

static bool surface_create(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	struct vmd_session *session = ctx->session;
	uint32_t id = msg->surface.surface;
	if (id <= ctx->last_surface_id) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_ID_REUSE, id, "SURFACE_CREATE.surface",
			"id %u not above the last surface id %u", id, ctx->last_surface_id);
		return false;
	}
	if (session->n_surfaces >= session->limits.max_surfaces) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_LIMIT, id, "SURFACE_CREATE",
			"the VM's limit of %llu surfaces (max_surfaces) is reached",
			(unsigned long long)session->limits.max_surfaces);
		return false;
	}
	struct vmd_surface *surface = calloc(1, sizeof(*surface));
	if (surface == NULL || !vmd_id_map_add(&ctx->surfaces, id, surface)) {
		free(surface);
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_HOST, id, "SURFACE_CREATE",
			"out of memory");
		return false;
	}
	surface->ctx = ctx;
	surface->id = id;
	surface->scale = 1;
	wl_list_init(&surface->children);
	wl_list_init(&surface->child_link);
	wl_list_init(&surface->feedbacks);
	wl_list_init(&surface->deferred);
	surface->wl_surface = wl_compositor_create_surface(session->wayland->compositor);
	wl_proxy_set_tag((struct wl_proxy *)surface->wl_surface, &surface_tag);
	wl_surface_add_listener(surface->wl_surface, &surface_listener, surface);
	wl_list_insert(ctx->surface_list.prev, &surface->link);
	ctx->last_surface_id = id;
	session->n_surfaces++;
	return true;
}

/* --- tree --- */

/* Height of the tree below surface (0 for a leaf), bounded by the depth
 * limit since every edge was checked on creation. */
static uint32_t tree_height(const struct vmd_surface *surface) {
	uint32_t height = 0;
	const struct vmd_surface *child;
	wl_list_for_each(child, &surface->children, child_link) {
		uint32_t h = tree_height(child) + 1;
		if (h > height) {
			height = h;
		}
	}
	return height;
}

static void tree_set_depth(struct vmd_surface *surface, uint32_t depth) {
	surface->depth = depth;
	struct vmd_surface *child;
	wl_list_for_each(child, &surface->children, child_link) {
		tree_set_depth(child, depth + 1);
	}
}

/* Checks that surface may become a child of parent: no cycle, depth limit. */
bool vmd_surface_tree_check(struct vmd_ctx *ctx, struct vmd_surface *surface,
		struct vmd_surface *parent, const char *field) {
	for (struct vmd_surface *p = parent; p != NULL; p = p->parent) {
		if (p == surface) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, surface->id, field,
				"surface %u would become its own ancestor", surface->id);
			return false;
		}
	}
	if (parent->depth + 1 + tree_height(surface) > TESSERA_WIRE_MAX_TREE_DEPTH) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_LIMIT, surface->id, field,
			"tree deeper than %d", TESSERA_WIRE_MAX_TREE_DEPTH);
		return false;
	}
	return true;
}

void vmd_surface_tree_link(struct vmd_surface *surface, struct vmd_surface *parent) {
	surface->parent = parent;
	wl_list_remove(&surface->child_link);
	wl_list_insert(parent->children.prev, &surface->child_link);
	tree_set_depth(surface, parent->depth + 1);
}

static void tree_unlink(struct vmd_surface *surface) {
	surface->parent = NULL;
	wl_list_remove(&surface->child_link);
	wl_list_init(&surface->child_link);
}

/* --- regions --- */

void vmd_surface_send_region(struct vmd_surface *surface, bool input) {
	const struct vmd_region *rg = input ? surface->input_region : surface->opaque_region;
	if (rg == NULL) {
		return;
	}
	struct wl_compositor *compositor = surface->ctx->session->wayland->compositor;
	struct wl_region *region = NULL;
	if (rg->infinite) {
		if (!input) {
			region = wl_compositor_create_region(compositor);
			wl_region_add(region, 0, 0, INT32_MAX, INT32_MAX);
		}
	} else {
		/* in the host surface's coordinates: moved by the crop */
		region = wl_compositor_create_region(compositor);
		for (uint32_t i = 0; i < rg->count; i++) {
			const struct tessera_wire_rect *r = &rg->rects[i];
			wl_region_add(region, r->x - surface->crop.x, r->y - surface->crop.y,
				r->width, r->height);
		}
	}
	if (input) {
		wl_surface_set_input_region(surface->wl_surface, region);
	} else {
		wl_surface_set_opaque_region(surface->wl_surface, region);
	}
	if (region != NULL) {
		wl_region_destroy(region);
	}
}

static bool set_region(struct vmd_ctx *ctx, const struct tessera_wire_region *rg,
		bool input) {
	const char *field = input ? "SET_INPUT_REGION.surface" : "SET_OPAQUE_REGION.surface";
	struct vmd_surface *surface = vmd_surface_get(ctx, rg->surface, field);
	if (surface == NULL) {
		return false;
	}
	bool infinite = (rg->flags & TESSERA_WIRE_REGION_INFINITE) != 0;
	uint32_t count = infinite ? 0 : rg->rect_count; /* ≤ MAX_REGION_RECTS (codec) */
	struct vmd_region *copy = malloc(sizeof(*copy) + count * sizeof(copy->rects[0]));
	if (copy == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_HOST, rg->surface, field, "out of memory");
		return false;
	}
	copy->infinite = infinite;
	copy->count = count;
	memcpy(copy->rects, rg->rects, count * sizeof(copy->rects[0]));
	struct vmd_region **slot = input ? &surface->input_region : &surface->opaque_region;
	free(*slot);
	*slot = copy;
	vmd_surface_send_region(surface, input);
	return true;
}

static bool set_input_region(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	return set_region(ctx, &msg->region, true);
}

static bool set_opaque_region(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	return set_region(ctx, &msg->region, false);
}

/* --- commit --- */

/* A commit that cannot be shown (a dismissed popup): its buffer is released
 * and its frame and presentation requests completed at once. */
static void commit_not_shown(struct vmd_surface *surface, struct vmd_buffer *buffer,
		const struct tessera_wire_commit *commit) {
	if (buffer != NULL && !buffer->busy) {
		vmd_buffer_mark_busy(buffer);
		vmd_buffer_release(buffer);
	}
	vmd_frame_complete_now(surface, commit);
}

/* The surface and buffer (NULL: none) of a COMMIT, checked: false after
 * an error. */
static bool commit_check(struct vmd_ctx *ctx, const struct tessera_wire_commit *commit,
		struct vmd_surface **surface_out, struct vmd_buffer **buffer_out) {
	struct vmd_surface *surface = vmd_surface_get(ctx, commit->surface, "COMMIT.surface");
	if (surface == NULL) {
		return false;
	}
	struct vmd_buffer *buffer = NULL;
	if (commit->buffer != 0) {
		buffer = vmd_id_map_get(&ctx->buffers, commit->buffer);
		if (buffer == NULL) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_NO_OBJECT, commit->buffer,
				"COMMIT.buffer", "no buffer %u", commit->buffer);
			return false;
		}
	}
	bool xdg = surface->role == VMD_ROLE_TOPLEVEL || surface->role == VMD_ROLE_POPUP;
	if (xdg && buffer != NULL && !surface->dismissed) {
		if (!surface->initial_commit || !surface->acked) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_STATE, surface->id,
				"COMMIT.buffer", "a buffer before the first configure was "
				"acknowledged");
			return false;
		}
		if (buffer->width % (uint32_t)commit->scale != 0 ||
				buffer->height % (uint32_t)commit->scale != 0) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, surface->id,
				"COMMIT.scale", "buffer %ux%u is not a multiple of scale %d",
				buffer->width, buffer->height, commit->scale);
			return false;
		}
	}
	*surface_out = surface;
	*buffer_out = buffer;
	return true;
}

/* The commit's damage, in buffer coordinates where the compositor can. */
static void commit_damage(struct wl_surface *wl_surface, const struct vmd_buffer *buffer,
		const struct tessera_wire_commit *commit) {
	if (wl_surface_get_version(wl_surface) < WL_SURFACE_DAMAGE_BUFFER_SINCE_VERSION) {
		wl_surface_damage(wl_surface, 0, 0, INT32_MAX, INT32_MAX);
	} else if (commit->flags & TESSERA_WIRE_COMMIT_DAMAGE_ALL) {
		wl_surface_damage_buffer(wl_surface, 0, 0, (int32_t)buffer->width,
			(int32_t)buffer->height);
	} else {
		for (uint32_t i = 0; i < commit->damage_count; i++) {
			const struct tessera_wire_rect *r = &commit->damage[i];
			/* clipped to the buffer (the codec bounds them) */
			int64_t x2 = (int64_t)r->x + r->width;
			int64_t y2 = (int64_t)r->y + r->height;
			if (x2 > buffer->width) {
				x2 = buffer->width;
			}
			if (y2 > buffer->height) {
				y2 = buffer->height;
			}
			if (x2 > r->x && y2 > r->y) {
				wl_surface_damage_buffer(wl_surface, r->x, r->y,
					(int32_t)(x2 - r->x), (int32_t)(y2 - r->y));
			}
		}
	}
}

/* Scale, transform, frame callback and presentation feedback. */
static void commit_state(struct vmd_surface *surface,
		const struct tessera_wire_commit *commit) {
	struct wl_surface *wl_surface = surface->wl_surface;
	if (wl_surface_get_version(wl_surface) >= WL_SURFACE_SET_BUFFER_SCALE_SINCE_VERSION) {
		wl_surface_set_buffer_scale(wl_surface, commit->scale);
	}
	if (wl_surface_get_version(wl_surface) >= WL_SURFACE_SET_BUFFER_TRANSFORM_SINCE_VERSION) {
		wl_surface_set_buffer_transform(wl_surface, (int32_t)commit->transform);
	}
	if (commit->flags & TESSERA_WIRE_COMMIT_FRAME) {
		vmd_frame_request(surface, commit->serial);
	}
	if (commit->flags & TESSERA_WIRE_COMMIT_PRESENTATION) {
		vmd_frame_request_feedback(surface, commit->serial);
	}
}

/* The surface size the attached buffer (NULL: none) gives. */
static void commit_size(struct vmd_surface *surface, const struct vmd_buffer *buffer,
		const struct tessera_wire_commit *commit) {
	if (buffer == NULL) {
		surface->width = surface->height = 0;
		return;
	}
	/* scale ≥ 1 (codec); odd transforms turn the buffer by 90 degrees */
	int32_t w = (int32_t)buffer->width / commit->scale;
	int32_t h = (int32_t)buffer->height / commit->scale;
	bool turned = (commit->transform & 1) != 0;
	surface->width = turned ? h : w;
	surface->height = turned ? w : h;
}

/* After the commit went to the compositor: what the surface shows now. An
 * xdg surface that attached nothing after a buffer was unmapped. */
static void commit_done(struct vmd_surface *surface, struct vmd_buffer *buffer,
		struct wl_buffer *wl_buffer, bool attached,
		const struct tessera_wire_commit *commit) {
	bool xdg = surface->role == VMD_ROLE_TOPLEVEL || surface->role == VMD_ROLE_POPUP;
	bool unmapped = xdg && attached && buffer == NULL && surface->has_buffer;
	if (xdg) {
		surface->initial_commit = true;
	}
	surface->scale = commit->scale;
	if (attached) {
		surface->has_buffer = wl_buffer != NULL;
	}
	if (unmapped && surface->role == VMD_ROLE_TOPLEVEL) {
		vmd_toplevel_remap(surface);
	} else if (unmapped) {
		/* an unmapped popup cannot come back: it is dismissed */
		vmd_popup_dismiss(surface);
	}
	if (buffer != NULL) {
		bool was_busy = buffer->busy;
		vmd_buffer_mark_busy(buffer);
		if (wl_buffer == NULL && !was_busy) {
			/* not importable: not shown, released at once */
			vmd_buffer_release(buffer);
		}
	}
}

/* Sends a checked commit to the compositor. buffer: NULL for a commit
 * without one, or whose buffer was destroyed while it waited (gone). */
static void commit_apply(struct vmd_surface *surface, struct vmd_buffer *buffer,
		bool gone, const struct tessera_wire_commit *commit) {
	bool xdg = surface->role == VMD_ROLE_TOPLEVEL || surface->role == VMD_ROLE_POPUP;
	/* a commit that waited: what the surface became meanwhile (unmapped,
	 * dismissed) may no longer take its buffer */
	if (surface->dismissed || (xdg && buffer != NULL &&
			(!surface->initial_commit || !surface->acked))) {
		commit_not_shown(surface, buffer, commit);
		return;
	}
	struct wl_buffer *wl_buffer = NULL;
	if (buffer != NULL) {
		wl_buffer = vmd_buffer_prepare_commit(buffer, surface, commit);
	} else {
		vmd_surface_mirrors_stale(surface);
	}
	/* a buffer that could not be imported (or is gone) is not attached:
	 * the surface keeps what it showed (attaching nothing would unmap it) */
	bool attach = !gone && (buffer == NULL || wl_buffer != NULL);
	if (attach) {
		wl_surface_attach(surface->wl_surface, wl_buffer, commit->dx, commit->dy);
	}
	if (wl_buffer != NULL) {
		commit_damage(surface->wl_surface, buffer, commit);
	}
	commit_state(surface, commit);
	if (attach) {
		commit_size(surface, wl_buffer != NULL ? buffer : NULL, commit);
	}
	if (xdg) {
		vmd_xdg_surface_commit(surface);
	}
	wl_surface_commit(surface->wl_surface);
	commit_done(surface, buffer, wl_buffer, attach, commit);
}

/* A COMMIT waiting for the host's rendering (or behind one that does). */
struct vmd_deferred_commit {
	struct wl_list link; /* vmd_surface.deferred */
	uint32_t seq; /* the device's fence, 0: none */
	struct tessera_wire_commit commit;
};

static void deferred_apply(struct vmd_surface *surface, struct vmd_deferred_commit *d) {
	wl_list_remove(&d->link);
	surface->n_deferred--;
	/* buffer ids are never reused: a destroyed one is not found */
	struct vmd_buffer *buffer = d->commit.buffer != 0 ?
		vmd_id_map_get(&surface->ctx->buffers, d->commit.buffer) : NULL;
	commit_apply(surface, buffer, d->commit.buffer != 0 && buffer == NULL, &d->commit);
	free(d);
}

/* Applies the oldest deferred commits: those whose fences retired, or
 * (all) every one. */
static void deferred_apply_oldest(struct vmd_surface *surface, bool all) {
	uint32_t retired = surface->ctx->session->fence_retired;
	while (!wl_list_empty(&surface->deferred)) {
		struct vmd_deferred_commit *d =
			wl_container_of(surface->deferred.next, d, link);
		if (!all && d->seq != 0 && (int32_t)(retired - d->seq) < 0) {
			return;
		}
		deferred_apply(surface, d);
	}
}

void vmd_surface_apply_deferred(struct vmd_surface *surface) {
	deferred_apply_oldest(surface, false);
}

static void deferred_finish(struct vmd_surface *surface) {
	struct vmd_deferred_commit *d, *tmp;
	wl_list_for_each_safe(d, tmp, &surface->deferred, link) {
		wl_list_remove(&d->link);
		free(d);
	}
	surface->n_deferred = 0;
}

/* The fence a commit of buffer waits for before it is read back or shown:
 * a host-rendered image; 0: none. */
static uint32_t commit_fence(struct vmd_surface *surface, struct vmd_buffer *buffer) {
	struct vmd_session *session = surface->ctx->session;
	if (buffer == NULL || session->device->fence == NULL ||
			!vmd_buffer_host_rendered(buffer)) {
		return 0;
	}
	return session->device->fence(session->device_data);
}

/* Queues a commit behind its fence (seq) and the surface's earlier ones;
 * false if it must be applied now (nothing to wait for). */
static bool commit_defer(struct vmd_surface *surface, uint32_t seq,
		const struct tessera_wire_commit *commit) {
	if (seq == 0 && wl_list_empty(&surface->deferred)) {
		return false;
	}
	struct vmd_deferred_commit *d = NULL;
	if (surface->n_deferred >= VMD_MAX_DEFERRED_COMMITS) {
		/* bounded: the oldest is read back now (its readback waits
		 * for the rendering, as without fences) */
		d = wl_container_of(surface->deferred.next, d, link);
		deferred_apply(surface, d);
	}
	d = malloc(sizeof(*d));
	if (d == NULL) {
		/* all of them in order, now */
		deferred_apply_oldest(surface, true);
		return false;
	}
	d->seq = seq;
	d->commit = *commit;
	wl_list_insert(surface->deferred.prev, &d->link);
	surface->n_deferred++;
	surface->ctx->session->stats.commits_deferred++;
	return true;
}

static bool surface_commit(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	const struct tessera_wire_commit *commit = &msg->commit;
	struct vmd_surface *surface;
	struct vmd_buffer *buffer;
	if (!commit_check(ctx, commit, &surface, &buffer)) {
		return false;
	}
	ctx->session->stats.commits++;
	if (buffer != NULL) {
		ctx->session->stats.frames++;
	}
	if (commit_defer(surface, commit_fence(surface, buffer), commit)) {
		return true;
	}
	commit_apply(surface, buffer, false, commit);
	return true;
}

/* --- destruction --- */

void vmd_surface_destroy(struct vmd_surface *surface) {
	struct vmd_ctx *ctx = surface->ctx;
	struct vmd_session *session = ctx->session;

	/* children: popups are dismissed, subsurfaces unmapped */
	struct vmd_surface *child, *tmp;
	wl_list_for_each_safe(child, tmp, &surface->children, child_link) {
		if (child->role == VMD_ROLE_POPUP) {
			vmd_popup_dismiss(child);
		}
		tree_unlink(child);
	}
	struct vmd_surface *other;
	wl_list_for_each(other, &ctx->surface_list, link) {
		if (other->toplevel_parent == surface) {
			other->toplevel_parent = NULL;
		}
	}
	if (surface->parent != NULL) {
		tree_unlink(surface);
	}

	vmd_xdg_objects_destroy(surface);
	if (surface->wl_subsurface != NULL) {
		wl_subsurface_destroy(surface->wl_subsurface);
	}
	if (surface->viewport != NULL) {
		wp_viewport_destroy(surface->viewport);
	}
	deferred_finish(surface);
	vmd_frame_finish(surface);
	vmd_input_surface_gone(session, surface);
	vmd_ctx_purge_backlog(ctx, true, surface->id);
	wl_surface_destroy(surface->wl_surface);

	vmd_id_map_remove(&ctx->surfaces, surface->id);
	wl_list_remove(&surface->link);
	session->n_surfaces--;
	free(surface->title);
	free(surface->app_id);
	free(surface->input_region);
	free(surface->opaque_region);
	free(surface);
}

static bool surface_destroy(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	struct vmd_surface *surface = vmd_surface_get(ctx, msg->surface.surface,
		"SURFACE_DESTROY.surface");
	if (surface == NULL) {
		return false;
	}
	vmd_surface_destroy(surface);
	return true;
}

static const struct vmd_surface_request surface_requests[] = {
	{ TESSERA_WIRE_SURFACE_CREATE, surface_create },
	{ TESSERA_WIRE_SURFACE_DESTROY, surface_destroy },
	{ TESSERA_WIRE_COMMIT, surface_commit },
	{ TESSERA_WIRE_SET_INPUT_REGION, set_input_region },
	{ TESSERA_WIRE_SET_OPAQUE_REGION, set_opaque_region },
	{ 0, NULL },
};

static const struct vmd_surface_request *const request_tables[] = {
	surface_requests,
	vmd_toplevel_requests,
	vmd_xdg_surface_requests,
	vmd_popup_requests,
	vmd_subsurface_requests,
	vmd_cursor_requests,
};

bool vmd_surface_handle(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	for (size_t i = 0; i < sizeof(request_tables) / sizeof(request_tables[0]); i++) {
		for (const struct vmd_surface_request *r = request_tables[i];
				r->handle != NULL; r++) {
			if (r->type == msg->type) {
				return r->handle(ctx, msg);
			}
		}
	}
	vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_UNKNOWN_TYPE, 0, "type",
		"request 0x%04x is not handled", msg->type);
	return false;
}
