/*
 * Window sharing: the frames of one VM window (W of VM A) copied into
 * buffers another VM (B) supplies, started only by the user
 * (`tesseractl share`). B's daemon binds tessera_vmd_share_v1
 * (protocol/tessera-vmd-share-v1.xml), hears of the share (offer), hands
 * over buffers of B's guest memory (add_buffer: guest-memory wl_buffers,
 * made writable here), and is told which one holds a new frame (filled).
 *
 * The one host copy: at each commit of W, its damage (accumulated per
 * buffer of B since that buffer was last filled) is copied from A's buffer
 * into one free buffer of B, synchronously in the commit handler, so A's
 * buffer cannot be released to A before the copy is done. Without a free
 * buffer of B the frame is skipped for B; A never waits for B.
 *
 * A share ends by `tesseractl share stop`, when W is unmapped or
 * destroyed (closed, A stopped or its daemon restarted), or when B's
 * binding goes (B stopped or its daemon restarted). While it lasts,
 * decoration.c draws "shared → [B]" in W's title bar
 * (tessera_share_mark()). A new title of W goes to B as a new offer of
 * the same size (its output's description).
 */
#include <assert.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pixman.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "config.h"
#include "client-buffer.h"
#include "decoration.h"
#include "guest-memory.h"
#include "log.h"
#include "pixman-format.h"
#include "server.h"
#include "share.h"
#include "tessera-vmd-share-v1-protocol.h"
#include "view.h"
#include "vm.h"

struct share_binding {
	struct wl_list link; /* tessera_shares.bindings */
	struct tessera_shares *shares;
	struct wl_resource *resource;
	struct tessera_vm *vm;
};

struct share_buffer {
	struct wl_list link; /* tessera_share.buffers */
	struct tessera_share *share;
	uint32_t cookie;
	struct wl_resource *resource; /* the daemon's wl_buffer */
	struct wlr_buffer *wlr_buffer; /* locked while held */
	bool free; /* in tessera's hands and not filled since */
	pixman_region32_t damage; /* what changed since it was last filled */
	struct wl_listener resource_destroy;
};

struct tessera_share {
	struct wl_list link; /* tessera_shares.shares */
	struct tessera_shares *shares;
	uint32_t id;
	struct tessera_view *view;
	struct tessera_vm *from;
	struct share_binding *to;
	char *to_name;
	int width, height; /* W's buffer size as last offered */
	bool need_frame; /* no frame filled since the last offer */
	struct wl_list buffers; /* share_buffer.link */
	uint64_t frames, frames_skipped, bytes_copied;
	struct wl_listener view_unmap;
	struct wl_listener view_destroy;
	struct wl_listener surface_commit;
	struct wl_listener set_title;
};

struct tessera_shares {
	struct tessera_server *server;
	struct tessera_vm *pick_into; /* armed by the key: the VM the click shares into */
	uint32_t pick_button; /* the click the pick took, until its release (0: none) */
	struct wl_global *global;
	struct wl_list bindings; /* share_binding.link */
	struct wl_list shares; /* tessera_share.link */
	uint32_t next_id;
};

static struct tessera_shares *shares_of(struct tessera_server *server) {
	return server->shares;
}

/* ---- buffers ---- */

static void buffer_destroy(struct share_buffer *buffer) {
	wl_list_remove(&buffer->link);
	wl_list_remove(&buffer->resource_destroy.link);
	pixman_region32_fini(&buffer->damage);
	wlr_buffer_unlock(buffer->wlr_buffer);
	free(buffer);
}

static void buffer_handle_resource_destroy(struct wl_listener *listener, void *data) {
	struct share_buffer *buffer = wl_container_of(listener, buffer, resource_destroy);
	buffer_destroy(buffer);
}

static struct share_buffer *buffer_find(struct tessera_share *share,
		struct wl_resource *resource) {
	struct share_buffer *buffer;
	wl_list_for_each(buffer, &share->buffers, link) {
		if (buffer->resource == resource) {
			return buffer;
		}
	}
	return NULL;
}

/* ---- shares ---- */

static void share_send_offer(struct tessera_share *share) {
	const char *title = share->view->xdg_surface->toplevel->title;
	char *clean = tessera_title_clean(title);
	char description[1100];
	snprintf(description, sizeof(description), "[%s] %s", share->from->config->name,
		clean != NULL ? clean : "");
	free(clean);
	tessera_vmd_share_v1_send_offer(share->to->resource, share->id, share->width,
		share->height, description);
}

static void share_update_mark(struct tessera_view *view) {
	tessera_view_update_title(view);
}

static void share_destroy(struct tessera_share *share, const char *why, bool view_alive) {
	tessera_log(TESSERA_INFO, "share %" PRIu32 ": ended (%s): %" PRIu64 " frames, %"
		PRIu64 " skipped, %" PRIu64 " bytes copied", share->id, why, share->frames,
		share->frames_skipped, share->bytes_copied);
	struct share_buffer *buffer, *tmp;
	wl_list_for_each_safe(buffer, tmp, &share->buffers, link) {
		buffer_destroy(buffer);
	}
	if (share->to != NULL) {
		tessera_vmd_share_v1_send_end(share->to->resource, share->id);
	}
	wl_list_remove(&share->link);
	wl_list_remove(&share->view_unmap.link);
	wl_list_remove(&share->view_destroy.link);
	wl_list_remove(&share->surface_commit.link);
	wl_list_remove(&share->set_title.link);
	struct tessera_view *view = share->view;
	free(share->to_name);
	free(share);
	if (view_alive) {
		share_update_mark(view);
	}
}

static void share_handle_view_unmap(struct wl_listener *listener, void *data) {
	struct tessera_share *share = wl_container_of(listener, share, view_unmap);
	share_destroy(share, "window unmapped", true);
}

static void share_handle_set_title(struct wl_listener *listener, void *data) {
	struct tessera_share *share = wl_container_of(listener, share, set_title);
	share_send_offer(share); /* the same size: B's output gets the new description */
}

static void share_handle_view_destroy(struct wl_listener *listener, void *data) {
	struct tessera_share *share = wl_container_of(listener, share, view_destroy);
	/* the view may be gone already: its listener came first */
	share_destroy(share, "window closed", false);
}

/* Copies the rectangles of region from src into dst; returns the bytes written. */
static uint64_t copy_region(pixman_image_t *src, pixman_image_t *dst,
		const pixman_region32_t *region) {
	int n = 0;
	const pixman_box32_t *rects = pixman_region32_rectangles(
		(pixman_region32_t *)region, &n);
	uint64_t bytes = 0;
	for (int i = 0; i < n; i++) {
		int w = rects[i].x2 - rects[i].x1, h = rects[i].y2 - rects[i].y1;
		pixman_image_composite32(PIXMAN_OP_SRC, src, NULL, dst, rects[i].x1,
			rects[i].y1, 0, 0, rects[i].x1, rects[i].y1, w, h);
		bytes += (uint64_t)w * (uint64_t)h * 4;
	}
	return bytes;
}

/* Fills buffer from src; false if it cannot be written (then it is dropped). */
static bool share_fill(struct tessera_share *share, struct share_buffer *buffer,
		pixman_image_t *src) {
	void *data;
	uint32_t format;
	size_t stride;
	if (!wlr_buffer_begin_data_ptr_access(buffer->wlr_buffer,
			WLR_BUFFER_DATA_PTR_ACCESS_WRITE, &data, &format, &stride)) {
		return false;
	}
	pixman_format_code_t pf = tessera_pixman_format_from_drm(format);
	pixman_image_t *dst = pf == 0 ? NULL : pixman_image_create_bits_no_clear(pf,
		buffer->wlr_buffer->width, buffer->wlr_buffer->height, data, (int)stride);
	bool ok = dst != NULL;
	if (ok) {
		pixman_region32_intersect_rect(&buffer->damage, &buffer->damage, 0, 0,
			(unsigned)share->width, (unsigned)share->height);
		share->bytes_copied += copy_region(src, dst, &buffer->damage);
		pixman_image_unref(dst);
	}
	wlr_buffer_end_data_ptr_access(buffer->wlr_buffer);
	return ok;
}

/* Copies W's current buffer into a free buffer of B: damage is what the
 * frame changed (buffers of B add it to what they miss). */
static void share_copy_frame(struct tessera_share *share, const pixman_region32_t *damage) {
	struct wlr_surface *surface = share->view->xdg_surface->surface;
	if (surface->buffer == NULL || surface->buffer->source == NULL) {
		return;
	}
	struct wlr_buffer *source = surface->buffer->source;
	if (source->width != share->width || source->height != share->height) {
		/* new size: buffers of the old one go back empty */
		share->width = source->width;
		share->height = source->height;
		struct share_buffer *buffer, *tmp;
		wl_list_for_each_safe(buffer, tmp, &share->buffers, link) {
			if (buffer->free) {
				tessera_vmd_share_v1_send_filled(share->to->resource, share->id,
					buffer->cookie, 0, 0, 0, 0);
			}
			buffer_destroy(buffer);
		}
		share->need_frame = true;
		share_send_offer(share);
	}
	/* the frame's damage goes to every buffer of B not yet filled with it */
	struct share_buffer *buffer, *target = NULL;
	wl_list_for_each(buffer, &share->buffers, link) {
		pixman_region32_union(&buffer->damage, &buffer->damage, damage);
		if (buffer->free && target == NULL) {
			target = buffer;
		}
	}
	if (target == NULL) {
		share->frames_skipped++;
		return;
	}
	void *pixels;
	uint32_t format;
	size_t stride;
	if (!wlr_buffer_begin_data_ptr_access(source, WLR_BUFFER_DATA_PTR_ACCESS_READ,
			&pixels, &format, &stride)) {
		share->frames_skipped++;
		return;
	}
	pixman_format_code_t pf = tessera_pixman_format_from_drm(format);
	pixman_image_t *src = pf == 0 ? NULL : pixman_image_create_bits_no_clear(pf,
		source->width, source->height, pixels, (int)stride);
	bool filled = src != NULL && share_fill(share, target, src);
	if (src != NULL) {
		pixman_image_unref(src);
	}
	wlr_buffer_end_data_ptr_access(source);
	if (!filled) {
		share->frames_skipped++;
		return;
	}
	if (!pixman_region32_not_empty(&target->damage)) {
		return; /* nothing new for it: it stays free (an empty box means "not used again") */
	}
	pixman_box32_t *box = pixman_region32_extents(&target->damage);
	tessera_vmd_share_v1_send_filled(share->to->resource, share->id, target->cookie,
		box->x1, box->y1, box->x2 - box->x1, box->y2 - box->y1);
	pixman_region32_clear(&target->damage);
	target->free = false;
	share->frames++;
	share->need_frame = false;
}

static void share_handle_commit(struct wl_listener *listener, void *data) {
	struct tessera_share *share = wl_container_of(listener, share, surface_commit);
	share_copy_frame(share, &share->view->xdg_surface->surface->buffer_damage);
}

static struct share_binding *binding_of_vm(struct tessera_shares *shares,
		struct tessera_vm *vm) {
	struct share_binding *binding;
	wl_list_for_each(binding, &shares->bindings, link) {
		if (binding->vm == vm && vm->client != NULL &&
				wl_resource_get_client(binding->resource) == vm->client) {
			return binding;
		}
	}
	return NULL;
}

static struct tessera_share *share_find(struct tessera_shares *shares, uint32_t id) {
	struct tessera_share *share;
	wl_list_for_each(share, &shares->shares, link) {
		if (share->id == id) {
			return share;
		}
	}
	return NULL;
}

uint32_t tessera_share_start(struct tessera_server *server, struct tessera_view *view,
		struct tessera_vm *to, const char **code, const char **why) {
	struct tessera_shares *shares = shares_of(server);
	*code = "bad-request";
	if (shares == NULL) {
		*code = "failed";
		*why = "window sharing is not set up";
		return 0;
	}
	if (view->vm == NULL) {
		*why = "only a VM's window can be shared";
		return 0;
	}
	if (view->vm == to) {
		*why = "the window is that VM's own";
		return 0;
	}
	struct tessera_share *share;
	size_t count = 0;
	wl_list_for_each(share, &shares->shares, link) {
		if (share->view == view && share->to->vm == to) {
			*why = "the window is already shared into that VM";
			return 0;
		}
		count++;
	}
	if (count >= TESSERA_SHARE_MAX_SHARES) {
		*code = "failed";
		*why = "too many shares (16)";
		return 0;
	}
	struct share_binding *binding = binding_of_vm(shares, to);
	if (binding == NULL) {
		*code = "failed";
		*why = "that VM's daemon is not running or takes no shares";
		return 0;
	}
	struct wlr_surface *surface = view->xdg_surface->surface;
	if (surface->buffer == NULL || surface->buffer->source == NULL) {
		*code = "failed";
		*why = "the window shows no buffer";
		return 0;
	}
	share = calloc(1, sizeof(*share));
	if (share == NULL || (share->to_name = strdup(to->config->name)) == NULL) {
		free(share);
		*code = "failed";
		*why = "out of memory";
		return 0;
	}
	share->shares = shares;
	do {
		share->id = ++shares->next_id;
	} while (share->id == 0 || share_find(shares, share->id) != NULL);
	share->view = view;
	share->from = view->vm;
	share->to = binding;
	share->width = surface->buffer->source->width;
	share->height = surface->buffer->source->height;
	share->need_frame = true;
	wl_list_init(&share->buffers);
	share->view_unmap.notify = share_handle_view_unmap;
	wl_signal_add(&view->xdg_surface->events.unmap, &share->view_unmap);
	share->view_destroy.notify = share_handle_view_destroy;
	wl_signal_add(&view->xdg_surface->events.destroy, &share->view_destroy);
	share->surface_commit.notify = share_handle_commit;
	wl_signal_add(&surface->events.commit, &share->surface_commit);
	share->set_title.notify = share_handle_set_title;
	wl_signal_add(&view->xdg_surface->toplevel->events.set_title, &share->set_title);
	wl_list_insert(shares->shares.prev, &share->link);
	share_send_offer(share);
	tessera_log(TESSERA_INFO, "share %" PRIu32 ": window %" PRIu64 " of vm '%s' shared "
		"into vm '%s' (%dx%d)", share->id, view->id, share->from->config->name,
		share->to_name, share->width, share->height);
	share_update_mark(view);
	return share->id;
}

bool tessera_share_stop(struct tessera_server *server, uint32_t id) {
	struct tessera_shares *shares = shares_of(server);
	struct tessera_share *share = shares != NULL ? share_find(shares, id) : NULL;
	if (share == NULL) {
		return false;
	}
	share_destroy(share, "stopped by the user", true);
	return true;
}

static struct json_object *share_to_json(struct tessera_share *share) {
	struct json_object *obj = json_object_new_object();
	if (obj == NULL) {
		return NULL;
	}
	size_t held = 0, free_buffers = 0;
	struct share_buffer *buffer;
	wl_list_for_each(buffer, &share->buffers, link) {
		held++;
		free_buffers += buffer->free;
	}
	json_object_object_add(obj, "id", json_object_new_int64(share->id));
	json_object_object_add(obj, "window", json_object_new_int64((int64_t)share->view->id));
	json_object_object_add(obj, "from", json_object_new_string(share->from->config->name));
	json_object_object_add(obj, "to", json_object_new_string(share->to_name));
	json_object_object_add(obj, "width", json_object_new_int(share->width));
	json_object_object_add(obj, "height", json_object_new_int(share->height));
	json_object_object_add(obj, "buffers", json_object_new_int64((int64_t)held));
	json_object_object_add(obj, "buffers_free", json_object_new_int64((int64_t)free_buffers));
	json_object_object_add(obj, "frames", json_object_new_int64((int64_t)share->frames));
	json_object_object_add(obj, "frames_skipped",
		json_object_new_int64((int64_t)share->frames_skipped));
	json_object_object_add(obj, "bytes_copied",
		json_object_new_int64((int64_t)share->bytes_copied));
	return obj;
}

struct json_object *tessera_shares_json(struct tessera_server *server) {
	struct json_object *array = json_object_new_array();
	struct tessera_shares *shares = shares_of(server);
	if (array == NULL || shares == NULL) {
		return array;
	}
	struct tessera_share *share;
	wl_list_for_each(share, &shares->shares, link) {
		json_object_array_add(array, share_to_json(share));
	}
	return array;
}

struct json_object *tessera_share_json(struct tessera_server *server, uint32_t id) {
	struct tessera_shares *shares = shares_of(server);
	struct tessera_share *share = shares != NULL ? share_find(shares, id) : NULL;
	return share != NULL ? share_to_json(share) : NULL;
}

void tessera_share_arm(struct tessera_server *server, struct tessera_view *focused) {
	struct tessera_shares *shares = shares_of(server);
	if (shares == NULL || focused == NULL || focused->vm == NULL) {
		tessera_log(TESSERA_INFO, "share: focus a window of the VM to share into first");
		return;
	}
	shares->pick_into = focused->vm;
	tessera_log(TESSERA_INFO, "share: click the window to share into vm '%s' (Escape "
		"cancels)", focused->vm->config->name);
}

void tessera_share_cancel(struct tessera_server *server) {
	struct tessera_shares *shares = shares_of(server);
	if (shares != NULL && shares->pick_into != NULL) {
		shares->pick_into = NULL;
		tessera_log(TESSERA_INFO, "share: pick cancelled");
	}
}

bool tessera_share_pick(struct tessera_server *server, struct tessera_view *view,
		uint32_t button) {
	struct tessera_shares *shares = shares_of(server);
	if (shares == NULL || shares->pick_into == NULL) {
		return false;
	}
	struct tessera_vm *into = shares->pick_into;
	shares->pick_into = NULL;
	shares->pick_button = button;
	const char *code, *why = "not a window";
	if (view == NULL || tessera_share_start(server, view, into, &code, &why) == 0) {
		tessera_log(TESSERA_INFO, "share: nothing shared into vm '%s': %s",
			into->config->name, why);
	}
	return true;
}

bool tessera_share_take_release(struct tessera_server *server, uint32_t button) {
	struct tessera_shares *shares = shares_of(server);
	if (shares == NULL || shares->pick_button == 0 || shares->pick_button != button) {
		return false;
	}
	shares->pick_button = 0;
	return true;
}

const char *tessera_share_mark(struct tessera_view *view) {
	struct tessera_shares *shares = view->server->shares;
	if (shares == NULL) {
		return NULL;
	}
	struct tessera_share *share;
	wl_list_for_each(share, &shares->shares, link) {
		if (share->view == view) {
			return share->to_name;
		}
	}
	return NULL;
}

/* ---- the global ---- */

static void binding_handle_destroy(struct wl_client *client, struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static void binding_handle_add_buffer(struct wl_client *client,
		struct wl_resource *resource, uint32_t share_id, uint32_t cookie,
		struct wl_resource *buffer_resource) {
	struct share_binding *binding = wl_resource_get_user_data(resource);
	struct tessera_share *share = share_find(binding->shares, share_id);
	if (share == NULL || share->to != binding) {
		tessera_vmd_share_v1_send_failed(resource, share_id, cookie,
			"no such share for this VM");
		return;
	}
	struct share_buffer *buffer = buffer_find(share, buffer_resource);
	if (buffer != NULL) {
		buffer->free = true; /* handed back after a filled event */
		buffer->cookie = cookie;
		return;
	}
	if (wl_list_length(&share->buffers) >= TESSERA_SHARE_MAX_BUFFERS) {
		tessera_vmd_share_v1_send_failed(resource, share_id, cookie,
			"8 buffers of this share are held already");
		return;
	}
	const char *why = NULL;
	struct wlr_buffer *wlr_buffer = tessera_guest_memory_writable_buffer(buffer_resource,
		client, &why);
	if (wlr_buffer == NULL) {
		tessera_vmd_share_v1_send_failed(resource, share_id, cookie, why);
		return;
	}
	if (wlr_buffer->width != share->width || wlr_buffer->height != share->height) {
		wlr_buffer_unlock(wlr_buffer);
		tessera_vmd_share_v1_send_failed(resource, share_id, cookie,
			"not the share's size");
		return;
	}
	buffer = calloc(1, sizeof(*buffer));
	if (buffer == NULL) {
		wlr_buffer_unlock(wlr_buffer);
		tessera_vmd_share_v1_send_failed(resource, share_id, cookie, "out of memory");
		return;
	}
	buffer->share = share;
	buffer->cookie = cookie;
	buffer->resource = buffer_resource;
	buffer->wlr_buffer = wlr_buffer;
	buffer->free = true;
	pixman_region32_init_rect(&buffer->damage, 0, 0, (unsigned)share->width,
		(unsigned)share->height);
	buffer->resource_destroy.notify = buffer_handle_resource_destroy;
	wl_resource_add_destroy_listener(buffer_resource, &buffer->resource_destroy);
	wl_list_insert(share->buffers.prev, &buffer->link);
	if (share->need_frame) {
		/* what W shows now, without waiting for its next commit */
		pixman_region32_t none;
		pixman_region32_init(&none);
		share_copy_frame(share, &none);
		pixman_region32_fini(&none);
	}
}

static const struct tessera_vmd_share_v1_interface binding_impl = {
	.destroy = binding_handle_destroy,
	.add_buffer = binding_handle_add_buffer,
};

static void binding_resource_destroy(struct wl_resource *resource) {
	struct share_binding *binding = wl_resource_get_user_data(resource);
	struct tessera_share *share, *tmp;
	wl_list_for_each_safe(share, tmp, &binding->shares->shares, link) {
		if (share->to == binding) {
			share->to = NULL; /* no end event to a binding going away */
			share_destroy(share, "the receiving VM's daemon went away", true);
		}
	}
	wl_list_remove(&binding->link);
	free(binding);
}

static void shares_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id) {
	struct tessera_shares *shares = data;
	struct tessera_vm *vm = tessera_vm_from_binding_client(shares->server, client,
		&tessera_vmd_share_v1_interface);
	if (vm == NULL) {
		return;
	}
	struct share_binding *binding = calloc(1, sizeof(*binding));
	struct wl_resource *resource = binding == NULL ? NULL :
		wl_resource_create(client, &tessera_vmd_share_v1_interface, (int)version, id);
	if (resource == NULL) {
		free(binding);
		wl_client_post_no_memory(client);
		return;
	}
	binding->shares = shares;
	binding->resource = resource;
	binding->vm = vm;
	wl_list_insert(&shares->bindings, &binding->link);
	wl_resource_set_implementation(resource, &binding_impl, binding,
		binding_resource_destroy);
}

bool tessera_shares_init(struct tessera_server *server) {
	struct tessera_shares *shares = calloc(1, sizeof(*shares));
	if (shares == NULL) {
		return false;
	}
	shares->server = server;
	wl_list_init(&shares->bindings);
	wl_list_init(&shares->shares);
	shares->global = wl_global_create(server->wl_display, &tessera_vmd_share_v1_interface,
		1, shares, shares_bind);
	if (shares->global == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create the tessera_vmd_share_v1 global");
		free(shares);
		return false;
	}
	server->shares = shares;
	return true;
}

void tessera_shares_finish(struct tessera_server *server) {
	struct tessera_shares *shares = server->shares;
	if (shares == NULL) {
		return;
	}
	struct tessera_share *share, *tmp;
	wl_list_for_each_safe(share, tmp, &shares->shares, link) {
		share_destroy(share, "tessera ends", true);
	}
	struct share_binding *binding, *btmp;
	wl_list_for_each_safe(binding, btmp, &shares->bindings, link) {
		wl_resource_set_destructor(binding->resource, NULL);
		wl_list_remove(&binding->link);
		free(binding);
	}
	wl_global_destroy(shares->global);
	free(shares);
	server->shares = NULL;
}
