/*
 * The virtio-gpu device of tessera-vmd, see gpu.h.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-server-core.h>

#include "clock.h"
#include "console.h"
#include "cpu-share.h"
#include "edid.h"
#include "gpu.h"
#include "log.h"
#include "resource.h"
#include "session.h"
#include "vhost-user.h"
#include "virgl.h"
#include "wayland.h"

#define BIT(n) (UINT64_C(1) << (n))
#define CONTROL_QUEUE 0
#define CURSOR_QUEUE 1
#define HDR_SIZE sizeof(struct virtio_gpu_ctrl_hdr)
/* a control command's "response type" when it is held: no response now */
#define RESP_HELD 0
/* writable segments remembered for a held response (each ≥ 1 byte) */
#define HELD_MAX_SEGMENTS HDR_SIZE
/* largest capset answered (virglrenderer's VIRGL2 has about 1 KiB) */
#define VMD_GPU_MAX_CAPSET_SIZE 8192

/* A fenced response not given yet: a SUBMIT_3D held until the doorbell
 * (waiting), a command behind a virglrenderer fence (seq), or one that
 * must not overtake an earlier virgl fence. Where its response goes, as
 * guest addresses (host pointers die with a memory table change). */
struct held {
	struct wl_list link; /* vmd_gpu.held */
	uint16_t head;
	bool waiting; /* a WAIT: until the doorbell */
	uint32_t seq; /* virgl fence not retired yet, or 0 */
	struct virtio_gpu_ctrl_hdr resp;
	uint32_t nseg;
	struct {
		uint64_t gpa;
		uint32_t len;
	} seg[HELD_MAX_SEGMENTS];
};

/* What a context carries (PROTOCOL.md section 1.1): decided by its first
 * SUBMIT_3D when virgl is on, else the wire protocol. */
enum context_kind {
	CONTEXT_UNDECIDED,
	CONTEXT_WIRE,
	CONTEXT_VIRGL,
};

struct context {
	uint32_t id;
	enum context_kind kind;
	bool has_virgl; /* virglrenderer has a context of this id */
	char name[65];
	/* resources attached while the kind is undecided: they are rendered
	 * by the host if it turns out virgl */
	uint32_t *attached;
	uint32_t nattached, attached_cap;
};

struct vmd_gpu {
	struct wl_event_loop *loop;
	struct vmd_wayland *wayland;
	char *vm_name;
	struct tessera_vm_settings settings; /* limits, display size */

	struct tessera_vhost_user_backend *backend;
	struct wl_listener connect;
	struct wl_listener disconnect;

	struct virtio_gpu_config config;
	struct vmd_resource_table resources;
	struct context *contexts;
	uint32_t ncontexts;
	struct vmd_virgl *virgl; /* NULL: gpu = off, or it did not initialise */
	uint32_t virgl_retired; /* the last virgl fence done */
	uint64_t virgl_bytes; /* counted against max-buffer-bytes */
	struct vmd_console *console;
	struct vmd_session *session;
	struct vmd_session_device session_device;
	struct wl_list held; /* struct held.link, oldest first */
	bool resetting;

	struct {
		uint32_t resource_id, x, y, hot_x, hot_y;
	} cursor;

	/* queues left with work after a full batch, continued by a timer
	 * (after the other event sources had their turn), or left while the
	 * compositor connection was congested, continued when it has room */
	bool more[2];
	struct wl_event_source *resume;
	struct wl_listener writable;
	struct vmd_cpu_share cpu_share;
	/* max-commit-rate: a token bucket of commits, refilled with time */
	double commit_tokens;
	int64_t commit_refill_ms;
	uint64_t commits_seen;

	struct tessera_virtqueue_element *elem;
	uint8_t *payload; /* SUBMIT_3D copy, settings.max_batch_size */
	union {
		struct virtio_gpu_ctrl_hdr hdr;
		struct virtio_gpu_resp_display_info display_info;
		struct virtio_gpu_resp_edid edid;
		struct virtio_gpu_resp_capset_info capset_info;
		uint8_t capset[HDR_SIZE + VMD_GPU_MAX_CAPSET_SIZE];
	} resp;

	struct vmd_gpu_stats stats;
	struct vmd_session_stats ended_sessions;
};

static const char *command_name(uint32_t type) {
	switch (type) {
	case VIRTIO_GPU_CMD_GET_DISPLAY_INFO: return "GET_DISPLAY_INFO";
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: return "RESOURCE_CREATE_2D";
	case VIRTIO_GPU_CMD_RESOURCE_UNREF: return "RESOURCE_UNREF";
	case VIRTIO_GPU_CMD_SET_SCANOUT: return "SET_SCANOUT";
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH: return "RESOURCE_FLUSH";
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: return "TRANSFER_TO_HOST_2D";
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: return "RESOURCE_ATTACH_BACKING";
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING: return "RESOURCE_DETACH_BACKING";
	case VIRTIO_GPU_CMD_GET_CAPSET_INFO: return "GET_CAPSET_INFO";
	case VIRTIO_GPU_CMD_GET_CAPSET: return "GET_CAPSET";
	case VIRTIO_GPU_CMD_GET_EDID: return "GET_EDID";
	case VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID: return "RESOURCE_ASSIGN_UUID";
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB: return "RESOURCE_CREATE_BLOB";
	case VIRTIO_GPU_CMD_SET_SCANOUT_BLOB: return "SET_SCANOUT_BLOB";
	case VIRTIO_GPU_CMD_CTX_CREATE: return "CTX_CREATE";
	case VIRTIO_GPU_CMD_CTX_DESTROY: return "CTX_DESTROY";
	case VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE: return "CTX_ATTACH_RESOURCE";
	case VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE: return "CTX_DETACH_RESOURCE";
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_3D: return "RESOURCE_CREATE_3D";
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D: return "TRANSFER_TO_HOST_3D";
	case VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D: return "TRANSFER_FROM_HOST_3D";
	case VIRTIO_GPU_CMD_SUBMIT_3D: return "SUBMIT_3D";
	case VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB: return "RESOURCE_MAP_BLOB";
	case VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB: return "RESOURCE_UNMAP_BLOB";
	case VIRTIO_GPU_CMD_UPDATE_CURSOR: return "UPDATE_CURSOR";
	case VIRTIO_GPU_CMD_MOVE_CURSOR: return "MOVE_CURSOR";
	default: return "unknown command";
	}
}

/* ---- display ---- */

void vmd_gpu_display_size(const struct vmd_gpu *gpu, uint32_t *width,
		uint32_t *height) {
	uint32_t w = gpu->settings.display_size_width;
	uint32_t h = gpu->settings.display_size_height;
	if (w == 0 || h == 0) {
		w = VMD_GPU_DEFAULT_DISPLAY_WIDTH;
		h = VMD_GPU_DEFAULT_DISPLAY_HEIGHT;
		struct vmd_wayland_output *out;
		wl_list_for_each(out, &gpu->wayland->outputs, link) {
			if (out->width <= 0 || out->height <= 0) {
				continue;
			}
			/* the output's logical size less room for the
			 * host's frame and a margin around the window */
			int32_t scale = out->scale > 0 ? out->scale : 1;
			int32_t ow = out->width / scale - 64, oh = out->height / scale - 64;
			if (ow >= 320 && oh >= 200) {
				w = (uint32_t)ow & ~7u;
				h = (uint32_t)oh;
			}
			break;
		}
	}
	*width = w > VMD_GPU_MAX_DISPLAY_SIZE ? VMD_GPU_MAX_DISPLAY_SIZE : w;
	*height = h > VMD_GPU_MAX_DISPLAY_SIZE ? VMD_GPU_MAX_DISPLAY_SIZE : h;
}

/* ---- responses ---- */

static void push(struct vmd_gpu *gpu, uint32_t queue, uint16_t head,
		uint32_t len) {
	struct tessera_virtqueue *vq =
		tessera_vhost_user_backend_queue(gpu->backend, queue);
	if (vq != NULL) {
		tessera_virtqueue_push(vq, head, len);
	}
}

/* Writes the response (type already set) and completes the element. */
static void respond(struct vmd_gpu *gpu, const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *cmd, size_t len) {
	struct virtio_gpu_ctrl_hdr *resp = &gpu->resp.hdr;
	resp->flags = 0;
	resp->fence_id = 0;
	resp->ctx_id = 0;
	resp->ring_idx = 0;
	memset(resp->padding, 0, sizeof(resp->padding));
	if (cmd != NULL && (cmd->flags & VIRTIO_GPU_FLAG_FENCE)) {
		resp->flags = VIRTIO_GPU_FLAG_FENCE;
		resp->fence_id = cmd->fence_id;
		resp->ctx_id = cmd->ctx_id;
		if (cmd->flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) {
			resp->flags |= VIRTIO_GPU_FLAG_INFO_RING_IDX;
			resp->ring_idx = cmd->ring_idx;
		}
	}
	if (resp->type >= VIRTIO_GPU_RESP_ERR_UNSPEC) {
		gpu->stats.errors++;
	}
	if (elem->in_len < len) {
		tessera_log(TESSERA_ERROR, "%s: response buffer of %llu bytes, %zu needed",
			cmd != NULL ? command_name(cmd->type) : "command",
			(unsigned long long)elem->in_len, len);
		if (len > HDR_SIZE && elem->in_len >= HDR_SIZE) {
			resp->type = VIRTIO_GPU_RESP_ERR_UNSPEC;
			gpu->stats.errors++;
			len = HDR_SIZE;
		}
	}
	size_t written = tessera_virtqueue_element_write(elem, 0, resp, len);
	push(gpu, CONTROL_QUEUE, elem->head, (uint32_t)written);
}

static void respond_type(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *cmd, uint32_t type) {
	memset(&gpu->resp.hdr, 0, HDR_SIZE);
	gpu->resp.hdr.type = type;
	respond(gpu, elem, cmd, HDR_SIZE);
}

/* Reads the fixed part of a command: false (and logs) if it is short. */
static bool read_command(const struct tessera_virtqueue_element *elem,
		void *cmd, size_t size) {
	if (elem->out_len < size ||
			tessera_virtqueue_element_read(elem, 0, cmd, size) != size) {
		const struct virtio_gpu_ctrl_hdr *hdr = cmd;
		tessera_log(TESSERA_ERROR, "%s: %llu bytes, %zu expected",
			command_name(hdr->type), (unsigned long long)elem->out_len, size);
		return false;
	}
	return true;
}

/* ---- held SUBMIT_3D ---- */

static bool host_to_gpa(const struct tessera_memory_table *mem, const void *p,
		uint64_t len, uint64_t *gpa) {
	const uint8_t *host = p;
	for (size_t i = 0; i < mem->nregions; i++) {
		const struct tessera_memory_region *r = &mem->regions[i];
		if (host >= r->host && (uint64_t)(host - r->host) < r->size &&
				len <= r->size - (uint64_t)(host - r->host)) {
			*gpa = r->gpa + (uint64_t)(host - r->host);
			return true;
		}
	}
	return false;
}

/* Holds the response of elem (type, echoing cmd's fence): a WAIT until the
 * doorbell, or until virgl fence seq retired (0: none). */
static void hold(struct vmd_gpu *gpu, const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *cmd, uint32_t type, bool waiting,
		uint32_t seq) {
	struct held *h = calloc(1, sizeof(*h));
	struct tessera_memory_table *mem =
		tessera_vhost_user_backend_memory(gpu->backend);
	if (h == NULL) {
		tessera_log(TESSERA_ERROR, "%s: out of memory holding fence %llu; "
			"completing it", command_name(cmd->type),
			(unsigned long long)cmd->fence_id);
		respond_type(gpu, elem, cmd, type);
		return;
	}
	h->head = elem->head;
	h->waiting = waiting;
	h->seq = seq;
	h->resp.type = type;
	h->resp.flags = VIRTIO_GPU_FLAG_FENCE;
	h->resp.fence_id = cmd->fence_id;
	h->resp.ctx_id = cmd->ctx_id;
	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC) {
		gpu->stats.errors++;
	}
	/* the response's place, as guest addresses */
	uint64_t need = HDR_SIZE;
	for (uint32_t i = elem->out_num; i < elem->out_num + elem->in_num &&
			need > 0 && h->nseg < HELD_MAX_SEGMENTS; i++) {
		uint64_t len = elem->iov[i].iov_len < need ? elem->iov[i].iov_len : need;
		uint64_t gpa;
		if (!host_to_gpa(mem, elem->iov[i].iov_base, len, &gpa)) {
			break;
		}
		h->seg[h->nseg].gpa = gpa;
		h->seg[h->nseg].len = (uint32_t)len;
		h->nseg++;
		need -= len;
	}
	wl_list_insert(gpu->held.prev, &h->link);
	gpu->stats.held_now++;
	if (waiting) {
		gpu->stats.held++;
		tessera_log(TESSERA_DEBUG, "SUBMIT_3D: holding fence %llu (ctx %u)",
			(unsigned long long)cmd->fence_id, cmd->ctx_id);
	}
}

static void held_free(struct vmd_gpu *gpu, struct held *h) {
	wl_list_remove(&h->link);
	gpu->stats.held_now--;
	free(h);
}

static void held_complete(struct vmd_gpu *gpu, struct held *h) {
	struct tessera_memory_table *mem =
		tessera_vhost_user_backend_memory(gpu->backend);
	const uint8_t *src = (const uint8_t *)&h->resp;
	uint32_t written = 0;
	for (uint32_t i = 0; i < h->nseg; i++) {
		void *dst = tessera_memory_table_translate(mem, h->seg[i].gpa,
			h->seg[i].len);
		if (dst == NULL) {
			break;
		}
		memcpy(dst, src + written, h->seg[i].len);
		written += h->seg[i].len;
	}
	tessera_log(TESSERA_DEBUG, "completing fence %llu",
		(unsigned long long)h->resp.fence_id);
	if (tessera_vhost_user_backend_queue_complete(gpu->backend, CONTROL_QUEUE,
			h->head, written) != 0) {
		tessera_log(TESSERA_ERROR, "cannot complete held fence %llu: the queue "
			"stopped", (unsigned long long)h->resp.fence_id);
	}
	held_free(gpu, h);
}

/*
 * Completes what may be completed, in order of arrival, except that
 * nothing overtakes a virgl fence that has not retired: the guest takes a
 * completed fence id as "every fence up to it is done" (one timeline), so
 * a later fence must not signal unfinished rendering. A WAIT still held
 * blocks nothing (its early signal is the harmless spurious wake-up of
 * PROTOCOL.md section 9).
 */
static void flush_held(struct vmd_gpu *gpu) {
	bool virgl_pending = false;
	struct held *h, *tmp;
	wl_list_for_each_safe(h, tmp, &gpu->held, link) {
		if (gpu->resetting) {
			return;
		}
		if (h->seq != 0 && (int32_t)(gpu->virgl_retired - h->seq) >= 0) {
			h->seq = 0;
		}
		if (h->seq != 0) {
			virgl_pending = true;
		} else if (!h->waiting && !virgl_pending) {
			held_complete(gpu, h);
		}
	}
}

static bool virgl_fence_pending(const struct vmd_gpu *gpu) {
	const struct held *h;
	wl_list_for_each(h, &gpu->held, link) {
		if (h->seq != 0) {
			return true;
		}
	}
	return false;
}

/* The doorbell, or a new WAIT: every held WAIT may complete. */
static void complete_held(struct vmd_gpu *gpu) {
	struct held *h;
	wl_list_for_each(h, &gpu->held, link) {
		h->waiting = false;
	}
	flush_held(gpu);
}

static void forget_held(struct vmd_gpu *gpu) {
	while (!wl_list_empty(&gpu->held)) {
		struct held *h = wl_container_of(gpu->held.next, h, link);
		held_free(gpu, h);
	}
}

static void virgl_retired(void *data, uint32_t seq) {
	struct vmd_gpu *gpu = data;
	gpu->virgl_retired = seq;
	flush_held(gpu);
	/* commits of virgl-rendered buffers waiting for it (session_fence) */
	vmd_session_fence_retired(gpu->session, seq);
}

/* ---- session ---- */

static const struct vmd_resource *session_get_resource(void *data, uint32_t id) {
	struct vmd_gpu *gpu = data;
	struct vmd_gpu_resource *res = vmd_resource_find(&gpu->resources, id);
	return res != NULL && res->base.n_extents > 0 ? &res->base : NULL;
}

static bool session_read_back(void *data, const struct vmd_resource *base,
		uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t stride, void *dst,
		size_t dst_size) {
	struct vmd_gpu *gpu = data;
	const struct vmd_gpu_resource *res = (const struct vmd_gpu_resource *)base;
	if (gpu->virgl == NULL || !vmd_virgl_read(gpu->virgl, res, x, y, w, h, stride,
			dst, dst_size)) {
		return false;
	}
	gpu->stats.virgl_read_bytes += (uint64_t)w * h * 4;
	return true;
}

/* A COMMIT of a virgl-rendered buffer is read back once the rendering
 * submitted before it is done: virgl_retired() hands it on. */
static uint32_t session_fence(void *data) {
	struct vmd_gpu *gpu = data;
	return gpu->virgl != NULL ? vmd_virgl_fence(gpu->virgl) : 0;
}

/* A virgl-rendered image handed over as a dmabuf (render node only). */
static bool session_export_dmabuf(void *data, const struct vmd_resource *base,
		int *fd, uint32_t *stride, uint32_t *offset) {
	struct vmd_gpu *gpu = data;
	const struct vmd_gpu_resource *res = (const struct vmd_gpu_resource *)base;
	struct vmd_virgl_dmabuf d;
	if (gpu->virgl == NULL || !vmd_virgl_export(gpu->virgl, res, &d)) {
		return false;
	}
	*fd = d.fd;
	*stride = d.stride;
	*offset = d.offset;
	gpu->stats.virgl_exports++;
	return true;
}

static struct tessera_memory_table *session_memory(void *data) {
	struct vmd_gpu *gpu = data;
	return tessera_vhost_user_backend_memory(gpu->backend);
}

static void session_doorbell(void *data) {
	complete_held(data);
}

static void add_session_stats(struct vmd_session_stats *sum,
		const struct vmd_session_stats *s) {
	sum->frames += s->frames;
	sum->bytes_copied += s->bytes_copied;
	sum->releases += s->releases;
	sum->events_dropped += s->events_dropped;
}

static struct vmd_session *get_session(struct vmd_gpu *gpu) {
	if (gpu->session == NULL) {
		gpu->session = vmd_session_create(gpu->wayland, gpu->vm_name,
			&gpu->settings, &gpu->session_device, gpu);
		if (gpu->session == NULL) {
			tessera_log(TESSERA_ERROR, "SUBMIT_3D: cannot create a session");
		}
	}
	return gpu->session;
}

static void destroy_session(struct vmd_gpu *gpu) {
	if (gpu->session == NULL) {
		return;
	}
	struct vmd_session_stats s;
	vmd_session_get_stats(gpu->session, &s);
	add_session_stats(&gpu->ended_sessions, &s);
	struct vmd_session *session = gpu->session;
	gpu->session = NULL;
	gpu->commits_seen = 0; /* the next session counts from 0 */
	vmd_session_destroy(session);
}

static void resource_gone(struct vmd_gpu *gpu, struct vmd_gpu_resource *res) {
	if (gpu->session != NULL) {
		vmd_session_resource_gone(gpu->session, res->base.id);
	}
}

/* ---- control commands ---- */

static void destroy_resource(struct vmd_gpu *gpu, struct vmd_gpu_resource *res) {
	if (res->virgl) {
		vmd_virgl_resource_unref(gpu->virgl, res);
		gpu->virgl_bytes -= res->virgl_bytes;
	}
	vmd_resource_destroy(&gpu->resources, res);
}

/* Hands every virgl resource's backing to virglrenderer again (after the
 * host mappings changed). */
static void virgl_rebind_all(struct vmd_gpu *gpu) {
	for (size_t b = 0; gpu->virgl != NULL && b < VMD_RESOURCE_BUCKETS; b++) {
		for (struct vmd_gpu_resource *res = gpu->resources.buckets[b];
				res != NULL; res = res->next) {
			if (res->virgl) {
				vmd_virgl_resource_backing(gpu->virgl, res);
			}
		}
	}
}

static void context_finish(struct context *ctx);

/* Before the table is freed: virglrenderer's contexts and resources go. */
static void virgl_forget_all(struct vmd_gpu *gpu) {
	for (uint32_t i = 0; i < gpu->ncontexts; i++) {
		if (gpu->contexts[i].has_virgl) {
			vmd_virgl_ctx_destroy(gpu->virgl, gpu->contexts[i].id);
			gpu->contexts[i].has_virgl = false;
		}
		context_finish(&gpu->contexts[i]);
	}
	for (size_t b = 0; gpu->virgl != NULL && b < VMD_RESOURCE_BUCKETS; b++) {
		for (struct vmd_gpu_resource *res = gpu->resources.buckets[b];
				res != NULL; res = res->next) {
			if (res->virgl) {
				vmd_virgl_resource_unref(gpu->virgl, res);
			}
		}
	}
	gpu->virgl_bytes = 0;
}

static struct context *find_context(struct vmd_gpu *gpu, uint32_t id) {
	for (uint32_t i = 0; i < gpu->ncontexts; i++) {
		if (gpu->contexts[i].id == id) {
			return &gpu->contexts[i];
		}
	}
	return NULL;
}

static struct vmd_gpu_resource *lookup(struct vmd_gpu *gpu, const char *what,
		uint32_t id) {
	struct vmd_gpu_resource *res = vmd_resource_find(&gpu->resources, id);
	if (res == NULL) {
		tessera_log(TESSERA_ERROR, "%s: no resource %u", what, id);
	}
	return res;
}

/* rect inside a width x height resource (64-bit sums: no wrap) */
static bool rect_inside(const struct virtio_gpu_rect *r, uint32_t width,
		uint32_t height) {
	return (uint64_t)r->x + r->width <= width &&
		(uint64_t)r->y + r->height <= height;
}

static uint32_t cmd_get_display_info(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_resp_display_info *info = &gpu->resp.display_info;
	memset(info, 0, sizeof(*info));
	uint32_t w, h;
	vmd_gpu_display_size(gpu, &w, &h);
	info->pmodes[0].r.width = w;
	info->pmodes[0].r.height = h;
	info->pmodes[0].enabled = 1;
	*len = sizeof(*info);
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

static uint32_t cmd_get_edid(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_cmd_get_edid cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (cmd.scanout != 0) {
		tessera_log(TESSERA_ERROR, "GET_EDID: scanout %u (the device has 1)",
			cmd.scanout);
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	}
	struct virtio_gpu_resp_edid *resp = &gpu->resp.edid;
	memset(resp, 0, sizeof(*resp));
	uint32_t w, h;
	vmd_gpu_display_size(gpu, &w, &h);
	vmd_edid_make(resp->edid, w, h);
	resp->size = VMD_EDID_SIZE;
	*len = sizeof(*resp);
	return VIRTIO_GPU_RESP_OK_EDID;
}

static uint32_t cmd_resource_unref(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_resource_unref cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	struct vmd_gpu_resource *res = lookup(gpu, "RESOURCE_UNREF",
		cmd.resource_id);
	if (res == NULL) {
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (vmd_console_resource(gpu->console) == res) {
		vmd_console_set_scanout(gpu->console, NULL, 0, 0, 0, 0);
	}
	if (gpu->cursor.resource_id == res->base.id) {
		gpu->cursor.resource_id = 0;
	}
	resource_gone(gpu, res);
	destroy_resource(gpu, res);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_set_scanout(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_set_scanout cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (cmd.scanout_id != 0) {
		tessera_log(TESSERA_ERROR, "SET_SCANOUT: scanout %u (the device has 1)",
			cmd.scanout_id);
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	}
	if (cmd.resource_id == 0) {
		vmd_console_set_scanout(gpu->console, NULL, 0, 0, 0, 0);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	struct vmd_gpu_resource *res = lookup(gpu, "SET_SCANOUT", cmd.resource_id);
	if (res == NULL) {
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (res->bpp == 0) {
		tessera_log(TESSERA_ERROR, "SET_SCANOUT: resource %u (format %u) cannot be "
			"displayed", res->base.id, res->base.format);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	const struct virtio_gpu_rect *r = &cmd.r;
	if (r->width == 0 || r->height == 0 ||
			!rect_inside(r, res->base.width, res->base.height) ||
			r->width > VMD_CONSOLE_MAX_SIZE || r->height > VMD_CONSOLE_MAX_SIZE) {
		tessera_log(TESSERA_ERROR, "SET_SCANOUT: rectangle %ux%u+%u+%u of resource "
			"%u (%ux%u; at most %ux%u shown)", r->width, r->height, r->x,
			r->y, res->base.id, res->base.width, res->base.height,
			VMD_CONSOLE_MAX_SIZE, VMD_CONSOLE_MAX_SIZE);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	vmd_console_set_scanout(gpu->console, res, r->x, r->y, r->width,
		r->height);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_resource_flush(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_resource_flush cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	struct vmd_gpu_resource *res = lookup(gpu, "RESOURCE_FLUSH",
		cmd.resource_id);
	if (res == NULL) {
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (!rect_inside(&cmd.r, res->base.width, res->base.height)) {
		tessera_log(TESSERA_ERROR, "RESOURCE_FLUSH: rectangle %ux%u+%u+%u outside "
			"resource %u (%ux%u)", cmd.r.width, cmd.r.height, cmd.r.x,
			cmd.r.y, res->base.id, res->base.width, res->base.height);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	gpu->stats.flushes++;
	if (vmd_console_resource(gpu->console) == res) {
		vmd_console_flush(gpu->console, cmd.r.x, cmd.r.y, cmd.r.width,
			cmd.r.height);
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_transfer_to_host_2d(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_transfer_to_host_2d cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	struct vmd_gpu_resource *res = lookup(gpu, "TRANSFER_TO_HOST_2D",
		cmd.resource_id);
	if (res == NULL) {
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (res->base.n_extents == 0) {
		tessera_log(TESSERA_ERROR, "TRANSFER_TO_HOST_2D: resource %u has no backing",
			res->base.id);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	const struct virtio_gpu_rect *r = &cmd.r;
	if (res->bpp == 0 || !rect_inside(r, res->base.width, res->base.height)) {
		tessera_log(TESSERA_ERROR, "TRANSFER_TO_HOST_2D: rectangle %ux%u+%u+%u of "
			"resource %u (%ux%u, format %u)", r->width, r->height, r->x, r->y,
			res->base.id, res->base.width, res->base.height, res->base.format);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (r->width == 0 || r->height == 0) {
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	/* the rows the guest describes must lie in the backing (all terms
	 * < 2^48: no overflow) */
	uint64_t stride = (uint64_t)res->base.width * res->bpp;
	uint64_t end = (uint64_t)(r->height - 1) * stride +
		(uint64_t)r->width * res->bpp;
	if (cmd.offset > res->base.size || end > res->base.size - cmd.offset) {
		tessera_log(TESSERA_ERROR, "TRANSFER_TO_HOST_2D: offset %llu + %llu bytes "
			"beyond the %llu bytes of resource %u's backing",
			(unsigned long long)cmd.offset, (unsigned long long)end,
			(unsigned long long)res->base.size, res->base.id);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	/* the copy happens at RESOURCE_FLUSH, from the linear layout (the
	 * offset Linux sends is exactly y * stride + x * bpp) */
	if (cmd.offset != (uint64_t)r->y * stride + (uint64_t)r->x * res->bpp) {
		tessera_log(TESSERA_DEBUG, "TRANSFER_TO_HOST_2D: resource %u: offset %llu is "
			"not the rectangle's linear position", res->base.id,
			(unsigned long long)cmd.offset);
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_attach_backing(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_resource_attach_backing cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	struct vmd_gpu_resource *res = lookup(gpu, "RESOURCE_ATTACH_BACKING",
		cmd.resource_id);
	if (res == NULL) {
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (cmd.nr_entries == 0 || cmd.nr_entries > gpu->settings.max_backing_entries) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: resource %u: %u entries "
			"(1..%llu)", res->base.id, cmd.nr_entries,
			(unsigned long long)gpu->settings.max_backing_entries);
		return cmd.nr_entries == 0 ? VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER :
			VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	size_t bytes = (size_t)cmd.nr_entries * sizeof(struct virtio_gpu_mem_entry);
	if (elem->out_len - sizeof(cmd) < bytes) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: resource %u: %u entries "
			"announced, %llu bytes sent", res->base.id, cmd.nr_entries,
			(unsigned long long)(elem->out_len - sizeof(cmd)));
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	struct virtio_gpu_mem_entry *entries = malloc(bytes);
	if (entries == NULL) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: out of memory");
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	/* copied out of guest memory once; checked on the copy */
	tessera_virtqueue_element_read(elem, sizeof(cmd), entries, bytes);
	uint32_t ret = vmd_resource_attach_backing(&gpu->resources, &gpu->settings,
		tessera_vhost_user_backend_memory(gpu->backend), res, entries,
		cmd.nr_entries);
	free(entries);
	if (ret == VIRTIO_GPU_RESP_OK_NODATA && res->virgl) {
		ret = vmd_virgl_resource_backing(gpu->virgl, res);
	}
	if (ret == VIRTIO_GPU_RESP_OK_NODATA && vmd_console_resource(gpu->console) == res) {
		/* new pixels under the scanout */
		vmd_console_flush(gpu->console, 0, 0, res->base.width,
			res->base.height);
	}
	return ret;
}

static uint32_t cmd_detach_backing(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_resource_detach_backing cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	struct vmd_gpu_resource *res = lookup(gpu, "RESOURCE_DETACH_BACKING",
		cmd.resource_id);
	if (res == NULL) {
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (res->base.n_extents == 0) {
		tessera_log(TESSERA_ERROR, "RESOURCE_DETACH_BACKING: resource %u has no "
			"backing", res->base.id);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	resource_gone(gpu, res);
	vmd_resource_detach_backing(&gpu->resources, res);
	if (res->virgl) {
		/* no extents: virglrenderer lets go of the backing */
		vmd_virgl_resource_backing(gpu->virgl, res);
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_ctx_create(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_ctx_create cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	uint32_t id = cmd.hdr.ctx_id;
	if (id == 0 || find_context(gpu, id) != NULL) {
		tessera_log(TESSERA_ERROR, "CTX_CREATE: context id %u %s", id,
			id == 0 ? "is invalid" : "exists");
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	}
	if (cmd.nlen > sizeof(cmd.debug_name) || cmd.context_init != 0) {
		tessera_log(TESSERA_ERROR, "CTX_CREATE: context %u: name length %u, "
			"context_init 0x%x (CONTEXT_INIT is not offered)", id, cmd.nlen,
			cmd.context_init);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (gpu->ncontexts >= gpu->settings.max_contexts) {
		tessera_log(TESSERA_ERROR, "CTX_CREATE: context %u refused: limit of %llu "
			"contexts reached", id, (unsigned long long)gpu->settings.max_contexts);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	struct context *contexts = realloc(gpu->contexts,
		(gpu->ncontexts + 1) * sizeof(*contexts));
	if (contexts == NULL) {
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	gpu->contexts = contexts;
	struct context *ctx = &contexts[gpu->ncontexts++];
	ctx->id = id;
	/* a debug name for log lines: printable ASCII only */
	size_t n = 0;
	for (uint32_t i = 0; i < cmd.nlen; i++) {
		char c = cmd.debug_name[i];
		ctx->name[n++] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	ctx->name[n] = '\0';
	/* until its first SUBMIT_3D it may be either; virglrenderer gets
	 * it when it turns out virgl */
	ctx->kind = gpu->virgl != NULL ? CONTEXT_UNDECIDED : CONTEXT_WIRE;
	ctx->has_virgl = false;
	ctx->attached = NULL;
	ctx->nattached = ctx->attached_cap = 0;
	tessera_log(TESSERA_DEBUG, "CTX_CREATE: context %u (%s)", id, ctx->name);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_ctx_destroy(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct context *ctx = find_context(gpu, hdr->ctx_id);
	if (ctx == NULL) {
		tessera_log(TESSERA_ERROR, "CTX_DESTROY: no context %u", hdr->ctx_id);
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	}
	if (ctx->has_virgl) {
		vmd_virgl_ctx_destroy(gpu->virgl, ctx->id);
	}
	context_finish(ctx);
	*ctx = gpu->contexts[--gpu->ncontexts];
	if (gpu->session != NULL) {
		vmd_session_ctx_destroy(gpu->session, hdr->ctx_id);
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/*
 * Which image of a virgl resource a wire buffer shows: its guest pages
 * until a virgl context (one that submits virgl streams) has it attached
 * or the guest transferred to the host; from then on the host's
 * (host_storage: read back at each commit). A resource only ever mapped by
 * a process that never submits (CPU-drawn 3D resources) keeps its pages.
 */
static void render_on_host(struct vmd_gpu_resource *res) {
	res->base.host_storage = true;
}

static bool remember_attached(struct vmd_gpu *gpu, struct context *ctx,
		struct vmd_gpu_resource *res) {
	if (ctx->kind == CONTEXT_VIRGL) {
		render_on_host(res);
		return true;
	}
	if (ctx->kind != CONTEXT_UNDECIDED) {
		return true;
	}
	if (ctx->nattached == ctx->attached_cap) {
		uint32_t cap = ctx->attached_cap ? 2 * ctx->attached_cap : 16;
		uint32_t *a = realloc(ctx->attached, cap * sizeof(*a));
		if (a == NULL) {
			tessera_log(TESSERA_ERROR, "CTX_ATTACH_RESOURCE: context %u: out of "
				"memory", ctx->id);
			return false;
		}
		ctx->attached = a;
		ctx->attached_cap = cap;
	}
	ctx->attached[ctx->nattached++] = res->base.id;
	return true;
}

static void forget_attached(struct context *ctx, uint32_t id) {
	for (uint32_t i = 0; i < ctx->nattached; i++) {
		if (ctx->attached[i] == id) {
			ctx->attached[i] = ctx->attached[--ctx->nattached];
			return;
		}
	}
}

static void context_finish(struct context *ctx) {
	free(ctx->attached);
	ctx->attached = NULL;
	ctx->nattached = ctx->attached_cap = 0;
}

static uint32_t cmd_ctx_resource(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	const char *what = command_name(hdr->type);
	struct virtio_gpu_ctx_resource cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	struct context *ctx = find_context(gpu, cmd.hdr.ctx_id);
	if (ctx == NULL) {
		tessera_log(TESSERA_ERROR, "%s: no context %u", what, cmd.hdr.ctx_id);
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	}
	struct vmd_gpu_resource *res = lookup(gpu, what, cmd.resource_id);
	if (res == NULL) {
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	/* the wire protocol's contexts see every resource of the VM: nothing
	 * to record; virglrenderer's see what is attached (remembered while
	 * the kind is undecided) */
	if (!res->virgl || ctx->kind == CONTEXT_WIRE) {
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	if (hdr->type == VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE) {
		if (ctx->has_virgl) {
			vmd_virgl_ctx_detach(gpu->virgl, ctx->id, res->base.id);
		}
		forget_attached(ctx, res->base.id);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	if (ctx->has_virgl) {
		vmd_virgl_ctx_attach(gpu->virgl, ctx->id, res->base.id);
	}
	return remember_attached(gpu, ctx, res) ? VIRTIO_GPU_RESP_OK_NODATA :
		VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
}

static uint32_t cmd_transfer_3d(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	const char *what = command_name(hdr->type);
	struct virtio_gpu_transfer_host_3d cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	struct vmd_gpu_resource *res = lookup(gpu, what, cmd.resource_id);
	if (res == NULL) {
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (res->virgl) {
		if (hdr->type == VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D) {
			render_on_host(res);
		}
		/* in the context's virglrenderer context if it has one, else in
		 * virglrenderer's own */
		const struct context *ctx = find_context(gpu, cmd.hdr.ctx_id);
		if (ctx == NULL || !ctx->has_virgl) {
			cmd.hdr.ctx_id = 0;
		}
		return vmd_virgl_transfer(gpu->virgl, res, &cmd,
			hdr->type == VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D);
	}
	/* guest-backed resources: the host reads and writes the guest pages
	 * directly, there is no host copy to transfer from or to. The guest
	 * driver only waits for the (fenced) completion. */
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/*
 * A context's first non-empty SUBMIT_3D decides what it carries
 * (PROTOCOL.md section 1.1): a wire protocol batch starts with a message
 * header whose flags (bytes 2-3) are 0; a virgl command stream starts with
 * a command header whose length (the same bytes) is at least 1.
 */
static void decide_context(struct vmd_gpu *gpu, struct context *ctx,
		const uint8_t *payload, uint32_t size) {
	if (size < 4) {
		return;
	}
	if (payload[2] == 0 && payload[3] == 0) {
		ctx->kind = CONTEXT_WIRE;
		tessera_log(TESSERA_DEBUG, "context %u (%s): wire protocol", ctx->id,
			ctx->name);
	} else {
		/* virglrenderer's context, with what was attached so far (a
		 * context it refuses answers every submission with an error) */
		ctx->kind = CONTEXT_VIRGL;
		ctx->has_virgl = vmd_virgl_ctx_create(gpu->virgl, ctx->id, ctx->name) ==
			VIRTIO_GPU_RESP_OK_NODATA;
		tessera_log(TESSERA_INFO, "context %u (%s): virgl", ctx->id, ctx->name);
		for (uint32_t i = 0; i < ctx->nattached; i++) {
			struct vmd_gpu_resource *res = vmd_resource_find(&gpu->resources,
				ctx->attached[i]);
			if (res != NULL && res->virgl) {
				render_on_host(res);
				if (ctx->has_virgl) {
					vmd_virgl_ctx_attach(gpu->virgl, ctx->id, res->base.id);
				}
			}
		}
	}
	context_finish(ctx);
}

/* SUBMIT_3D: RESP_HELD when the element was held. */
static uint32_t cmd_submit_3d(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_cmd_submit cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	gpu->stats.submits++;
	struct context *ctx = find_context(gpu, cmd.hdr.ctx_id);
	if (ctx == NULL) {
		tessera_log(TESSERA_ERROR, "SUBMIT_3D: no context %u", cmd.hdr.ctx_id);
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	}
	uint64_t avail = elem->out_len - sizeof(cmd);
	if (cmd.size > avail || cmd.size > gpu->settings.max_batch_size) {
		tessera_log(TESSERA_ERROR, "SUBMIT_3D: context %u: payload of %u bytes (%llu "
			"sent, limit %llu)", cmd.hdr.ctx_id, cmd.size,
			(unsigned long long)avail,
			(unsigned long long)gpu->settings.max_batch_size);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	/* copied into private memory before anything looks at it */
	tessera_virtqueue_element_read(elem, sizeof(cmd), gpu->payload, cmd.size);
	if (ctx->kind == CONTEXT_UNDECIDED) {
		decide_context(gpu, ctx, gpu->payload, cmd.size);
	}
	if (ctx->kind == CONTEXT_UNDECIDED) {
		return VIRTIO_GPU_RESP_OK_NODATA; /* nothing in it */
	}
	if (ctx->kind == CONTEXT_VIRGL) {
		gpu->stats.virgl_submits++;
		if (!ctx->has_virgl) {
			tessera_log(TESSERA_ERROR, "SUBMIT_3D: virgl context %u: virglrenderer "
				"refused it", ctx->id);
			return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
		}
		return vmd_virgl_submit(gpu->virgl, ctx->id, gpu->payload, cmd.size);
	}
	struct vmd_session *session = get_session(gpu);
	if (session == NULL) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	enum vmd_submit_result result = vmd_session_submit(session,
		cmd.hdr.ctx_id, gpu->payload, cmd.size);
	switch (result) {
	case VMD_SUBMIT_DONE:
		return VIRTIO_GPU_RESP_OK_NODATA;
	case VMD_SUBMIT_WAIT:
		if (!(cmd.hdr.flags & VIRTIO_GPU_FLAG_FENCE)) {
			/* nothing would signal the guest: done */
			return VIRTIO_GPU_RESP_OK_NODATA;
		}
		/* one WAIT at a time: a new one completes the older ones */
		complete_held(gpu);
		hold(gpu, elem, &cmd.hdr, VIRTIO_GPU_RESP_OK_NODATA, true, 0);
		return RESP_HELD;
	default: /* VMD_SUBMIT_ERROR: the batch was rejected */
		break;
	}
	return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
}

static uint32_t cmd_resource_create_2d(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_resource_create_2d cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	return vmd_resource_create_2d(&gpu->resources, &gpu->settings, &cmd);
}

static uint32_t cmd_resource_create_3d(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_resource_create_3d cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	uint32_t ret = vmd_resource_create_3d(&gpu->resources, &gpu->settings, &cmd);
	/* bind 0 (the wire protocol's buffers and rings): guest memory only */
	if (ret != VIRTIO_GPU_RESP_OK_NODATA || gpu->virgl == NULL || cmd.bind == 0) {
		return ret;
	}
	struct vmd_gpu_resource *res = vmd_resource_find(&gpu->resources,
		cmd.resource_id);
	/* what the host may allocate for it: 4 bytes per texel at least, each
	 * sample, mipmaps (less than the level 0 again); checked below the
	 * resource size limit already, so no overflow */
	uint32_t bpp = vmd_format_bpp(cmd.format);
	uint64_t bytes = (uint64_t)cmd.width * cmd.height * cmd.depth *
		cmd.array_size * (bpp > 4 ? bpp : 4) * (cmd.nr_samples > 1 ? cmd.nr_samples : 1) *
		(cmd.last_level > 0 ? 2 : 1);
	if (bytes > gpu->settings.max_buffer_bytes - gpu->virgl_bytes) {
		tessera_log(TESSERA_ERROR, "RESOURCE_CREATE_3D: resource %u: %llu bytes of "
			"host storage would exceed the VM's limit of %llu (max-buffer-bytes)",
			cmd.resource_id, (unsigned long long)bytes,
			(unsigned long long)gpu->settings.max_buffer_bytes);
		vmd_resource_destroy(&gpu->resources, res);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	ret = vmd_virgl_resource_create(gpu->virgl, res);
	if (ret != VIRTIO_GPU_RESP_OK_NODATA) {
		vmd_resource_destroy(&gpu->resources, res);
		return ret;
	}
	res->virgl_bytes = bytes;
	gpu->virgl_bytes += bytes;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_get_capset_info(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_get_capset_info cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (gpu->virgl == NULL || cmd.capset_index >= VMD_VIRGL_NUM_CAPSETS) {
		tessera_log(TESSERA_ERROR, "GET_CAPSET_INFO: capset index %u (the device "
			"has %u)", cmd.capset_index, gpu->config.num_capsets);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	struct virtio_gpu_resp_capset_info *info = &gpu->resp.capset_info;
	memset(info, 0, sizeof(*info));
	vmd_virgl_capset_info(gpu->virgl, cmd.capset_index, &info->capset_id,
		&info->capset_max_version, &info->capset_max_size);
	if (info->capset_max_size > VMD_GPU_MAX_CAPSET_SIZE) {
		info->capset_max_size = 0; /* GET_CAPSET refuses it */
	}
	*len = sizeof(*info);
	return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

static uint32_t cmd_get_capset(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	struct virtio_gpu_get_capset cmd;
	if (!read_command(elem, &cmd, sizeof(cmd))) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	uint32_t id = 0, max_version = 0, size = 0;
	for (uint32_t i = 0; gpu->virgl != NULL && i < VMD_VIRGL_NUM_CAPSETS; i++) {
		vmd_virgl_capset_info(gpu->virgl, i, &id, &max_version, &size);
		if (id == cmd.capset_id) {
			break;
		}
		size = 0;
	}
	memset(gpu->resp.capset, 0, HDR_SIZE);
	if (size == 0 || size > VMD_GPU_MAX_CAPSET_SIZE ||
			!vmd_virgl_capset(gpu->virgl, cmd.capset_id, cmd.capset_version,
				gpu->resp.capset + HDR_SIZE, size)) {
		tessera_log(TESSERA_ERROR, "GET_CAPSET: capset %u version %u is not offered",
			cmd.capset_id, cmd.capset_version);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	*len = HDR_SIZE + size;
	return VIRTIO_GPU_RESP_OK_CAPSET;
}

/* The control queue's commands. A handler returns the response type
 * (RESP_HELD: no response now) and sets *len if the response is more than
 * a header (in gpu->resp). */
static const struct {
	uint32_t type;
	uint32_t (*handle)(struct vmd_gpu *gpu, const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len);
} control_commands[] = {
	{ VIRTIO_GPU_CMD_GET_DISPLAY_INFO, cmd_get_display_info },
	{ VIRTIO_GPU_CMD_GET_EDID, cmd_get_edid },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, cmd_resource_create_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, cmd_resource_create_3d },
	{ VIRTIO_GPU_CMD_RESOURCE_UNREF, cmd_resource_unref },
	{ VIRTIO_GPU_CMD_SET_SCANOUT, cmd_set_scanout },
	{ VIRTIO_GPU_CMD_RESOURCE_FLUSH, cmd_resource_flush },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, cmd_transfer_to_host_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, cmd_attach_backing },
	{ VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, cmd_detach_backing },
	{ VIRTIO_GPU_CMD_GET_CAPSET_INFO, cmd_get_capset_info },
	{ VIRTIO_GPU_CMD_GET_CAPSET, cmd_get_capset },
	{ VIRTIO_GPU_CMD_CTX_CREATE, cmd_ctx_create },
	{ VIRTIO_GPU_CMD_CTX_DESTROY, cmd_ctx_destroy },
	{ VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, cmd_ctx_resource },
	{ VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, cmd_ctx_resource },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, cmd_transfer_3d },
	{ VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, cmd_transfer_3d },
	{ VIRTIO_GPU_CMD_SUBMIT_3D, cmd_submit_3d },
};

static uint32_t run_control_command(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr, size_t *len) {
	size_t n = sizeof(control_commands) / sizeof(control_commands[0]);
	for (size_t i = 0; i < n; i++) {
		if (control_commands[i].type == hdr->type) {
			return control_commands[i].handle(gpu, elem, hdr, len);
		}
	}
	tessera_log(TESSERA_ERROR, "control queue: unsupported command 0x%x (%s)",
		hdr->type, command_name(hdr->type));
	return VIRTIO_GPU_RESP_ERR_UNSPEC;
}

/* Whether the resource named at offset of the command has virglrenderer
 * storage. */
static bool names_virgl_resource(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem, size_t offset) {
	uint32_t id;
	if (tessera_virtqueue_element_read(elem, offset, &id, sizeof(id)) != sizeof(id)) {
		return false;
	}
	const struct vmd_gpu_resource *res = vmd_resource_find(&gpu->resources, id);
	return res != NULL && res->virgl;
}

/* Commands whose completion means virglrenderer has done them. */
static bool needs_virgl_fence(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem,
		const struct virtio_gpu_ctrl_hdr *hdr) {
	switch (hdr->type) {
	case VIRTIO_GPU_CMD_SUBMIT_3D:;
		const struct context *ctx = find_context(gpu, hdr->ctx_id);
		return ctx != NULL && ctx->kind == CONTEXT_VIRGL;
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_3D:
		return names_virgl_resource(gpu, elem,
			offsetof(struct virtio_gpu_resource_create_3d, resource_id));
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
	case VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D:
		return names_virgl_resource(gpu, elem,
			offsetof(struct virtio_gpu_transfer_host_3d, resource_id));
	default:
		return false;
	}
}

static void process_control(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem) {
	struct virtio_gpu_ctrl_hdr hdr;
	gpu->stats.commands++;
	if (elem->out_len < sizeof(hdr) ||
			tessera_virtqueue_element_read(elem, 0, &hdr, sizeof(hdr)) !=
				sizeof(hdr)) {
		tessera_log(TESSERA_ERROR, "control queue: command of %llu bytes, shorter "
			"than its header", (unsigned long long)elem->out_len);
		respond_type(gpu, elem, NULL, VIRTIO_GPU_RESP_ERR_UNSPEC);
		return;
	}
	size_t len = HDR_SIZE;
	uint32_t type = run_control_command(gpu, elem, &hdr, &len);
	if (type == RESP_HELD) {
		return;
	}
	if (gpu->virgl != NULL && (hdr.flags & VIRTIO_GPU_FLAG_FENCE) &&
			len == HDR_SIZE) {
		/* done once virglrenderer has done it, and never before an
		 * earlier virgl fence */
		uint32_t seq = 0;
		if (needs_virgl_fence(gpu, elem, &hdr)) {
			seq = vmd_virgl_fence(gpu->virgl);
			gpu->stats.virgl_fences += seq != 0;
		}
		if (seq != 0 || virgl_fence_pending(gpu)) {
			hold(gpu, elem, &hdr, type, false, seq);
			return;
		}
	}
	if (len == HDR_SIZE) {
		memset(&gpu->resp.hdr, 0, HDR_SIZE);
	}
	gpu->resp.hdr.type = type;
	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC) {
		len = HDR_SIZE;
	}
	respond(gpu, elem, &hdr, len);
}

/* ---- cursor queue ---- */

static void process_cursor(struct vmd_gpu *gpu,
		const struct tessera_virtqueue_element *elem) {
	struct virtio_gpu_update_cursor cmd;
	gpu->stats.commands++;
	/* no response: the driver gives no writable buffer here */
	push(gpu, CURSOR_QUEUE, elem->head, 0);
	if (elem->out_len < sizeof(cmd) ||
			tessera_virtqueue_element_read(elem, 0, &cmd, sizeof(cmd)) !=
				sizeof(cmd)) {
		tessera_log(TESSERA_ERROR, "cursor queue: command of %llu bytes, %zu "
			"expected", (unsigned long long)elem->out_len, sizeof(cmd));
		gpu->stats.errors++;
		return;
	}
	if (cmd.hdr.type != VIRTIO_GPU_CMD_UPDATE_CURSOR &&
			cmd.hdr.type != VIRTIO_GPU_CMD_MOVE_CURSOR) {
		tessera_log(TESSERA_ERROR, "cursor queue: unsupported command 0x%x (%s)",
			cmd.hdr.type, command_name(cmd.hdr.type));
		gpu->stats.errors++;
		return;
	}
	if (cmd.pos.scanout_id != 0) {
		tessera_log(TESSERA_ERROR, "%s: scanout %u (the device has 1)",
			command_name(cmd.hdr.type), cmd.pos.scanout_id);
		gpu->stats.errors++;
		return;
	}
	if (cmd.hdr.type == VIRTIO_GPU_CMD_UPDATE_CURSOR) {
		if (cmd.resource_id != 0 &&
				lookup(gpu, "UPDATE_CURSOR", cmd.resource_id) == NULL) {
			gpu->stats.errors++;
			return;
		}
		gpu->cursor.resource_id = cmd.resource_id;
		gpu->cursor.hot_x = cmd.hot_x;
		gpu->cursor.hot_y = cmd.hot_y;
	}
	/* the console window shows the host's pointer; the guest's cursor
	 * position is recorded only */
	gpu->cursor.x = cmd.pos.x;
	gpu->cursor.y = cmd.pos.y;
}

/* ---- vhost-user device ---- */

static uint64_t device_get_features(void *data) {
	return BIT(VIRTIO_GPU_F_VIRGL) | BIT(VIRTIO_GPU_F_EDID);
}

static int device_get_config(void *data, uint32_t offset, void *buf,
		uint32_t size) {
	struct vmd_gpu *gpu = data;
	memcpy(buf, (const uint8_t *)&gpu->config + offset, size);
	return 0;
}

static int device_set_config(void *data, uint32_t offset, const void *buf,
		uint32_t size, uint32_t flags) {
	struct vmd_gpu *gpu = data;
	/* only events_clear is writable; QEMU writes the whole structure */
	const uint32_t field = offsetof(struct virtio_gpu_config, events_clear);
	if (offset <= field && offset + size >= field + 4) {
		uint32_t clear;
		memcpy(&clear, (const uint8_t *)buf + (field - offset), 4);
		gpu->config.events_read &= ~clear;
	}
	return 0;
}

static void process_queue(struct vmd_gpu *gpu, uint32_t index);

static int handle_resume(void *data) {
	struct vmd_gpu *gpu = data;
	for (uint32_t i = 0; i < 2; i++) {
		if (gpu->more[i]) {
			gpu->more[i] = false;
			process_queue(gpu, i);
		}
	}
	return 0;
}

/*
 * Every commit costs the compositor, which all VMs share, whatever the
 * guest gains by it (a display shows one frame per refresh): a guest may
 * make max-commit-rate commits per second, in bursts of up to a second's
 * worth. A batch may take more than is left; then the guest's queue waits
 * until the rate has paid for them.
 */
static bool commit_budget_allows(struct vmd_gpu *gpu, uint32_t index) {
	double rate = (double)gpu->settings.max_commit_rate;
	int64_t now = tessera_clock_now_ms();
	gpu->commit_tokens += rate * (double)(now - gpu->commit_refill_ms) / 1000.0;
	if (gpu->commit_tokens > rate) {
		gpu->commit_tokens = rate;
	}
	gpu->commit_refill_ms = now;
	if (gpu->commit_tokens >= 0) {
		return true;
	}
	gpu->more[index] = true;
	int64_t wait = (int64_t)(-gpu->commit_tokens * 1000.0 / rate) + 1;
	wl_event_source_timer_update(gpu->resume, (int)(wait < 1000 ? wait : 1000));
	return false;
}

/* After a chain: what its commits cost. */
static void commit_budget_charge(struct vmd_gpu *gpu) {
	if (gpu->session == NULL) {
		return;
	}
	struct vmd_session_stats s;
	vmd_session_get_stats(gpu->session, &s);
	if (s.commits > gpu->commits_seen) {
		gpu->commit_tokens -= (double)(s.commits - gpu->commits_seen);
	}
	gpu->commits_seen = s.commits;
}

static void handle_writable(struct wl_listener *listener, void *data) {
	struct vmd_gpu *gpu = wl_container_of(listener, gpu, writable);
	handle_resume(gpu);
}

/* Handles at most one queue's worth of chains, so that a guest that keeps
 * the queue full cannot starve the compositor connection; the rest is
 * done a millisecond later (no new kick may come for it). Between two
 * chains the compositor's events are dispatched, and a guest that asks
 * for more than the compositor reads waits: its chains stay in the queue
 * while the connection has no room or its commits are over the VM's rate.
 * A guest that keeps the daemon busy makes it yield the CPU
 * (cpu-share.h). */
static void process_queue(struct vmd_gpu *gpu, uint32_t index) {
	struct tessera_virtqueue *vq =
		tessera_vhost_user_backend_queue(gpu->backend, index);
	if (vq == NULL) {
		return;
	}
	for (uint32_t n = 0; n < vq->size; n++) {
		if (!vmd_wayland_has_room(gpu->wayland)) {
			tessera_vhost_user_backend_queue_notify(gpu->backend, index);
			gpu->more[index] = true;
			vmd_cpu_share_check(&gpu->cpu_share, true);
			return;
		}
		if (index == CONTROL_QUEUE && !commit_budget_allows(gpu, index)) {
			tessera_vhost_user_backend_queue_notify(gpu->backend, index);
			vmd_cpu_share_check(&gpu->cpu_share, true);
			return;
		}
		if (tessera_virtqueue_pop(vq, gpu->elem) <= 0) {
			tessera_vhost_user_backend_queue_notify(gpu->backend, index);
			vmd_cpu_share_check(&gpu->cpu_share, gpu->more[1 - index]);
			return;
		}
		if (index == CONTROL_QUEUE) {
			process_control(gpu, gpu->elem);
			commit_budget_charge(gpu);
		} else {
			process_cursor(gpu, gpu->elem);
		}
	}
	tessera_vhost_user_backend_queue_notify(gpu->backend, index);
	gpu->more[index] = true;
	wl_event_source_timer_update(gpu->resume, 1);
	vmd_cpu_share_check(&gpu->cpu_share, true);
}

static void device_queue_kick(void *data, uint32_t index,
		struct tessera_virtqueue *vq) {
	struct vmd_gpu *gpu = data;
	if (index == CONTROL_QUEUE || index == CURSOR_QUEUE) {
		gpu->more[index] = false;
		process_queue(gpu, index);
	}
}

static void device_queue_stop(void *data, uint32_t index) {
	struct vmd_gpu *gpu = data;
	if (index < 2) {
		gpu->more[index] = false;
	}
	if (index == CONTROL_QUEUE && !wl_list_empty(&gpu->held)) {
		tessera_log(TESSERA_INFO, "control queue stopped: %u held WAIT(s) forgotten",
			gpu->stats.held_now);
		forget_held(gpu);
	}
}

static void remap_gone(void *data, struct vmd_gpu_resource *res) {
	resource_gone(data, res);
}

static void device_memory_changed(void *data) {
	struct vmd_gpu *gpu = data;
	/* held responses are kept as guest addresses: nothing to do */
	vmd_resource_table_remap(&gpu->resources,
		tessera_vhost_user_backend_memory(gpu->backend), remap_gone, gpu);
	virgl_rebind_all(gpu);
	if (gpu->session != NULL) {
		vmd_session_memory_changed(gpu->session);
	}
}

static void device_reset(void *data) {
	struct vmd_gpu *gpu = data;
	gpu->resetting = true;
	gpu->more[CONTROL_QUEUE] = gpu->more[CURSOR_QUEUE] = false;
	forget_held(gpu);
	vmd_console_set_scanout(gpu->console, NULL, 0, 0, 0, 0);
	destroy_session(gpu);
	virgl_forget_all(gpu);
	vmd_resource_table_finish(&gpu->resources);
	free(gpu->contexts);
	gpu->contexts = NULL;
	gpu->ncontexts = 0;
	memset(&gpu->cursor, 0, sizeof(gpu->cursor));
	gpu->config.events_read = 0;
	gpu->resetting = false;
	tessera_log(TESSERA_INFO, "device reset: every resource, context and window of "
		"the guest is gone");
}

static const struct tessera_vhost_user_device_impl device_impl = {
	.num_queues = 2,
	.config_size = sizeof(struct virtio_gpu_config),
	.get_features = device_get_features,
	.get_config = device_get_config,
	.set_config = device_set_config,
	.queue_kick = device_queue_kick,
	.queue_stop = device_queue_stop,
	.memory_changed = device_memory_changed,
	.reset = device_reset,
};

static void handle_connect(struct wl_listener *listener, void *data) {
	struct vmd_gpu *gpu = wl_container_of(listener, gpu, connect);
	gpu->stats.connections++;
	tessera_log(TESSERA_INFO, "VMM connected (connection %llu)",
		(unsigned long long)gpu->stats.connections);
}

static void handle_disconnect(struct wl_listener *listener, void *data) {
	tessera_log(TESSERA_INFO, "VMM disconnected; waiting for the next connection");
}

/* ---- public ---- */

/* gpu = auto|virgl|off: false if virgl is required and does not start. */
static bool start_virgl(struct vmd_gpu *gpu) {
	if (gpu->settings.gpu == VMD_GPU_OFF) {
		tessera_log(TESSERA_INFO, "GPU acceleration: off (gpu = off): no capsets");
		return true;
	}
	gpu->virgl = vmd_virgl_create(gpu->loop, &(struct vmd_virgl_options){
		.render_node = gpu->settings.render_node,
		.retired = virgl_retired,
		.data = gpu,
	});
	if (gpu->virgl == NULL) {
		if (gpu->settings.gpu == VMD_GPU_VIRGL) {
			tessera_log(TESSERA_ERROR, "cannot start with gpu = virgl: "
				"virglrenderer did not initialise");
			return false;
		}
		tessera_log(TESSERA_INFO, "GPU acceleration: off (gpu = auto and "
			"virglrenderer did not initialise): no capsets");
		return true;
	}
	gpu->config.num_capsets = VMD_VIRGL_NUM_CAPSETS;
	tessera_log(TESSERA_INFO, "GPU acceleration: virgl (gpu = %s), %s",
		gpu->settings.gpu == VMD_GPU_VIRGL ? "virgl" : "auto",
		vmd_virgl_describe(gpu->virgl));
	return true;
}

struct vmd_gpu *vmd_gpu_create(struct wl_event_loop *loop,
		struct vmd_wayland *wayland, const struct vmd_gpu_options *options) {
	struct vmd_gpu *gpu = calloc(1, sizeof(*gpu));
	if (gpu == NULL) {
		return NULL;
	}
	gpu->loop = loop;
	gpu->wayland = wayland;
	gpu->settings = options->settings;
	gpu->vm_name = strdup(options->vm_name);
	gpu->elem = malloc(sizeof(*gpu->elem));
	gpu->payload = malloc(gpu->settings.max_batch_size > 0 ?
		gpu->settings.max_batch_size : 1);
	gpu->console = vmd_console_create(wayland, options->vm_name);
	gpu->resume = wl_event_loop_add_timer(loop, handle_resume, gpu);
	gpu->writable.notify = handle_writable;
	wl_signal_add(&wayland->events.writable, &gpu->writable);
	vmd_cpu_share_init(&gpu->cpu_share, loop);
	gpu->commit_tokens = (double)gpu->settings.max_commit_rate;
	gpu->commit_refill_ms = tessera_clock_now_ms();
	wl_list_init(&gpu->held);
	vmd_resource_table_init(&gpu->resources);
	gpu->config.num_scanouts = 1;
	gpu->config.num_capsets = 0;
	if (!start_virgl(gpu)) {
		vmd_gpu_destroy(gpu);
		return NULL;
	}
	gpu->session_device = (struct vmd_session_device){
		.get_resource = session_get_resource,
		.memory = session_memory,
		.doorbell = session_doorbell,
		.read_back = session_read_back,
		.fence = session_fence,
		.export_dmabuf = session_export_dmabuf,
	};
	if (gpu->vm_name == NULL || gpu->elem == NULL || gpu->payload == NULL ||
			gpu->console == NULL || gpu->resume == NULL) {
		tessera_log(TESSERA_ERROR, "out of memory");
		vmd_gpu_destroy(gpu);
		return NULL;
	}
	gpu->backend = tessera_vhost_user_backend_create(loop, &device_impl, gpu);
	if (gpu->backend == NULL) {
		vmd_gpu_destroy(gpu);
		return NULL;
	}
	gpu->connect.notify = handle_connect;
	wl_signal_add(&gpu->backend->events.connect, &gpu->connect);
	gpu->disconnect.notify = handle_disconnect;
	wl_signal_add(&gpu->backend->events.disconnect, &gpu->disconnect);
	return gpu;
}

void vmd_gpu_destroy(struct vmd_gpu *gpu) {
	if (gpu == NULL) {
		return;
	}
	if (gpu->backend != NULL) {
		/* disconnects: reset() frees the guest's state */
		wl_list_remove(&gpu->connect.link);
		wl_list_remove(&gpu->disconnect.link);
		tessera_vhost_user_backend_destroy(gpu->backend);
	}
	if (gpu->resume != NULL) {
		wl_event_source_remove(gpu->resume);
	}
	if (gpu->writable.notify != NULL) {
		wl_list_remove(&gpu->writable.link);
	}
	vmd_cpu_share_finish(&gpu->cpu_share);
	forget_held(gpu);
	destroy_session(gpu);
	virgl_forget_all(gpu);
	vmd_resource_table_finish(&gpu->resources);
	vmd_virgl_destroy(gpu->virgl);
	vmd_console_destroy(gpu->console);
	free(gpu->contexts);
	free(gpu->payload);
	free(gpu->elem);
	free(gpu->vm_name);
	free(gpu);
}

bool vmd_gpu_has_virgl(const struct vmd_gpu *gpu) {
	return gpu->virgl != NULL;
}

bool vmd_gpu_virgl_render_node(const struct vmd_gpu *gpu) {
	return gpu->virgl != NULL && vmd_virgl_render_node(gpu->virgl);
}

int vmd_gpu_listen(struct vmd_gpu *gpu, const char *path) {
	return tessera_vhost_user_backend_listen(gpu->backend, path);
}

void vmd_gpu_get_stats(const struct vmd_gpu *gpu, struct vmd_gpu_stats *stats) {
	*stats = gpu->stats;
	stats->resources = gpu->resources.count;
	stats->contexts = gpu->ncontexts;
	stats->backing_bytes = gpu->resources.backing_bytes;
	stats->backing_entries = gpu->resources.backing_entries;
	struct tessera_memory_table_stats mem;
	tessera_memory_table_get_stats(&mem);
	stats->mapped_bytes = mem.bytes;
	stats->mapped_regions = mem.regions;
	stats->virgl = gpu->virgl != NULL;
	stats->virgl_bytes = gpu->virgl_bytes;
	vmd_console_get_stats(gpu->console, &stats->console);
	stats->session = gpu->ended_sessions;
	if (gpu->session != NULL) {
		struct vmd_session_stats s;
		vmd_session_get_stats(gpu->session, &s);
		add_session_stats(&stats->session, &s);
	}
}
