/*
 * virtio-gpu frontend (guest driver side), see virtio-gpu-frontend.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "vhost-user-frontend.h"
#include "virtio-gpu-frontend.h"

/* The structs of linux/virtio_gpu.h are little-endian (__le32); they are
 * filled in host order, so this file assumes a little-endian host. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	"virtio-gpu-frontend assumes a little-endian host");

#define DEFAULT_RAM_SIZE (UINT64_C(64) << 20)
#define DEFAULT_TIMEOUT_MS 5000
#define PAGE 4096u
/* readable buffers of one chain: the command and up to this many data
 * pieces (a 256 KiB payload in pages is 64) */
#define MAX_DATA_PIECES 128
#define RESP_MAX (1024 + 64)

struct command {
	struct command *next; /* gpu->async list */
	uint32_t queue;
	uint64_t mem_gpa; /* command + response */
	uint64_t data_gpa[MAX_DATA_PIECES];
	size_t ndata;
	uint8_t *resp_host;
	uint32_t resp_size;
	uint64_t fence_id; /* 0: not fenced */
	bool async;
	bool done;
	uint32_t used_len;
	uint8_t resp[RESP_MAX];
};

struct tessera_virtio_gpu_frontend {
	struct tessera_vhost_user_frontend *fe;
	int timeout_ms;
	char error[256];
	uint32_t last_response;
	uint64_t next_fence;
	uint64_t last_fence;
	struct command *async; /* asynchronous submissions not consumed */
	bool broken;
};

static int fail(struct tessera_virtio_gpu_frontend *gpu, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct tessera_virtio_gpu_frontend *gpu, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(gpu->error, sizeof(gpu->error), fmt, ap);
	va_end(ap);
	return -1;
}

static int fail_fe(struct tessera_virtio_gpu_frontend *gpu, const char *what) {
	return fail(gpu, "%s: %s", what,
		tessera_vhost_user_frontend_error(gpu->fe));
}

static const char *response_name(uint32_t type) {
	switch (type) {
	case VIRTIO_GPU_RESP_OK_NODATA: return "OK_NODATA";
	case VIRTIO_GPU_RESP_OK_DISPLAY_INFO: return "OK_DISPLAY_INFO";
	case VIRTIO_GPU_RESP_OK_CAPSET_INFO: return "OK_CAPSET_INFO";
	case VIRTIO_GPU_RESP_OK_CAPSET: return "OK_CAPSET";
	case VIRTIO_GPU_RESP_OK_EDID: return "OK_EDID";
	case VIRTIO_GPU_RESP_ERR_UNSPEC: return "ERR_UNSPEC";
	case VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY: return "ERR_OUT_OF_MEMORY";
	case VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID: return "ERR_INVALID_SCANOUT_ID";
	case VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID: return "ERR_INVALID_RESOURCE_ID";
	case VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID: return "ERR_INVALID_CONTEXT_ID";
	case VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER: return "ERR_INVALID_PARAMETER";
	default: return "unknown response";
	}
}

/* ---- setup ---- */

static struct tessera_virtio_gpu_frontend *finish_connect(
		struct tessera_vhost_user_frontend *fe,
		const struct tessera_virtio_gpu_frontend_options *opts,
		char *err, size_t err_size) {
	struct tessera_virtio_gpu_frontend *gpu = calloc(1, sizeof(*gpu));
	if (gpu == NULL) {
		snprintf(err, err_size, "out of memory");
		tessera_vhost_user_frontend_destroy(fe);
		return NULL;
	}
	gpu->fe = fe;
	gpu->timeout_ms = opts != NULL && opts->timeout_ms > 0 ?
		opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	gpu->next_fence = 1;
	return gpu;
}

static void vhost_options(const struct tessera_virtio_gpu_frontend_options *opts,
		struct tessera_vhost_user_frontend_options *vo) {
	memset(vo, 0, sizeof(*vo));
	vo->ram_size = DEFAULT_RAM_SIZE;
	vo->num_queues = 2;
	vo->device_features = (UINT64_C(1) << VIRTIO_GPU_F_VIRGL) |
		(UINT64_C(1) << VIRTIO_GPU_F_EDID);
	if (opts == NULL) {
		return;
	}
	if (opts->ram_size != 0) {
		vo->ram_size = opts->ram_size;
	}
	vo->split_regions = opts->split_regions;
	vo->unsealed_ram = opts->unsealed_ram;
	vo->queue_size = opts->queue_size;
	vo->timeout_ms = opts->timeout_ms;
	if (opts->device_features != 0) {
		vo->device_features = opts->device_features;
	}
}

struct tessera_virtio_gpu_frontend *tessera_virtio_gpu_frontend_connect(
		const char *path, const struct tessera_virtio_gpu_frontend_options *opts,
		char *err, size_t err_size) {
	struct tessera_vhost_user_frontend_options vo;
	vhost_options(opts, &vo);
	struct tessera_vhost_user_frontend *fe =
		tessera_vhost_user_frontend_connect(path, &vo, err, err_size);
	if (fe == NULL) {
		return NULL;
	}
	return finish_connect(fe, opts, err, err_size);
}

struct tessera_virtio_gpu_frontend *tessera_virtio_gpu_frontend_connect_fd(
		int fd, const struct tessera_virtio_gpu_frontend_options *opts,
		char *err, size_t err_size) {
	struct tessera_vhost_user_frontend_options vo;
	vhost_options(opts, &vo);
	struct tessera_vhost_user_frontend *fe =
		tessera_vhost_user_frontend_connect_fd(fd, &vo, err, err_size);
	if (fe == NULL) {
		return NULL;
	}
	return finish_connect(fe, opts, err, err_size);
}

void tessera_virtio_gpu_frontend_destroy(struct tessera_virtio_gpu_frontend *gpu) {
	if (gpu == NULL) {
		return;
	}
	/* guest RAM goes away with the vhost-user frontend; commands still
	 * in flight are simply forgotten */
	while (gpu->async != NULL) {
		struct command *c = gpu->async;
		gpu->async = c->next;
		free(c);
	}
	tessera_vhost_user_frontend_destroy(gpu->fe);
	free(gpu);
}

const char *tessera_virtio_gpu_frontend_error(
		const struct tessera_virtio_gpu_frontend *gpu) {
	return gpu->error;
}

uint32_t tessera_virtio_gpu_frontend_last_response(
		const struct tessera_virtio_gpu_frontend *gpu) {
	return gpu->last_response;
}

struct tessera_vhost_user_frontend *tessera_virtio_gpu_frontend_vhost(
		struct tessera_virtio_gpu_frontend *gpu) {
	return gpu->fe;
}

uint64_t tessera_virtio_gpu_frontend_features(
		const struct tessera_virtio_gpu_frontend *gpu) {
	return tessera_vhost_user_frontend_features(gpu->fe);
}

int tessera_virtio_gpu_frontend_get_config(struct tessera_virtio_gpu_frontend *gpu,
		struct virtio_gpu_config *config) {
	if (tessera_vhost_user_frontend_get_config(gpu->fe, 0, config,
			sizeof(*config)) != 0) {
		return fail_fe(gpu, "GET_CONFIG");
	}
	return 0;
}

int tessera_virtio_gpu_frontend_alloc(struct tessera_virtio_gpu_frontend *gpu,
		uint64_t size, uint64_t *gpa, void **host) {
	if (tessera_vhost_user_frontend_alloc(gpu->fe, size, PAGE, gpa, host) != 0) {
		return fail_fe(gpu, "allocating guest RAM");
	}
	return 0;
}

void tessera_virtio_gpu_frontend_free(struct tessera_virtio_gpu_frontend *gpu,
		uint64_t gpa) {
	tessera_vhost_user_frontend_free(gpu->fe, gpa);
}

/* ---- command transport ---- */

static void command_free_memory(struct tessera_virtio_gpu_frontend *gpu,
		struct command *c) {
	if (c->resp_host != NULL || c->mem_gpa != 0) {
		tessera_vhost_user_frontend_free(gpu->fe, c->mem_gpa);
		c->mem_gpa = 0;
		c->resp_host = NULL;
	}
	for (size_t i = 0; i < c->ndata; i++) {
		tessera_vhost_user_frontend_free(gpu->fe, c->data_gpa[i]);
	}
	c->ndata = 0;
}

/* Records one completion. */
static void complete(struct tessera_virtio_gpu_frontend *gpu, struct command *c,
		uint32_t len) {
	c->done = true;
	c->used_len = len;
	size_t n = c->resp_size < sizeof(c->resp) ? c->resp_size : sizeof(c->resp);
	if (n > 0 && c->resp_host != NULL) {
		memcpy(c->resp, c->resp_host, n);
	}
	if (len >= sizeof(struct virtio_gpu_ctrl_hdr) &&
			c->resp_size >= sizeof(struct virtio_gpu_ctrl_hdr)) {
		struct virtio_gpu_ctrl_hdr hdr;
		memcpy(&hdr, c->resp, sizeof(hdr));
		if ((hdr.flags & VIRTIO_GPU_FLAG_FENCE) &&
				hdr.fence_id > gpu->last_fence) {
			gpu->last_fence = hdr.fence_id;
		}
	}
	command_free_memory(gpu, c);
}

static int reap_all(struct tessera_virtio_gpu_frontend *gpu) {
	int count = 0;
	for (uint32_t q = 0; q < 2; q++) {
		for (;;) {
			uint32_t len;
			void *data;
			int r = tessera_vhost_user_frontend_reap(gpu->fe, q, &len, &data);
			if (r < 0) {
				gpu->broken = true;
				return fail_fe(gpu, "reaping");
			}
			if (r == 0) {
				break;
			}
			struct command *c = data;
			/* synchronous commands are freed by their waiter,
			 * asynchronous ones by fence_status() */
			complete(gpu, c, len);
			count++;
		}
	}
	return count;
}

/* Builds and submits one chain. Returns the command (owned by the caller
 * until completion) or NULL. */
static struct command *submit(struct tessera_virtio_gpu_frontend *gpu,
		uint32_t queue, const void *cmd, size_t cmd_len, const void *data,
		size_t data_len, size_t resp_size, bool async) {
	if (gpu->broken) {
		fail(gpu, "the device returned a bad used element earlier");
		return NULL;
	}
	if (cmd_len == 0 || resp_size > RESP_MAX ||
			(data_len + PAGE - 1) / PAGE > MAX_DATA_PIECES) {
		fail(gpu, "invalid command layout (%zu command, %zu data, %zu "
			"response bytes)", cmd_len, data_len, resp_size);
		return NULL;
	}
	struct command *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		fail(gpu, "out of memory");
		return NULL;
	}
	c->queue = queue;
	c->async = async;
	c->resp_size = (uint32_t)resp_size;

	struct tessera_virtqueue_buffer bufs[MAX_DATA_PIECES + 2];
	size_t nbufs = 0;
	/* command and response in one allocation, the response on its own
	 * cache line as the driver's separate kmalloc buffers would be */
	uint64_t resp_off = (cmd_len + 63) & ~(uint64_t)63;
	uint64_t gpa;
	void *host;
	if (tessera_vhost_user_frontend_alloc(gpu->fe, resp_off +
			(resp_size > 0 ? resp_size : 1), 64, &gpa, &host) != 0) {
		fail_fe(gpu, "allocating a command");
		free(c);
		return NULL;
	}
	c->mem_gpa = gpa;
	memcpy(host, cmd, cmd_len);
	c->resp_host = (uint8_t *)host + resp_off;
	memset(c->resp_host, 0, resp_size);
	bufs[nbufs++] = (struct tessera_virtqueue_buffer){ gpa, (uint32_t)cmd_len };

	/* data: contiguous up to a page, else page by page (vmalloc) */
	size_t off = 0;
	while (off < data_len) {
		size_t piece = data_len <= PAGE ? data_len :
			(data_len - off < PAGE ? data_len - off : PAGE);
		uint64_t dgpa;
		void *dhost;
		if (tessera_vhost_user_frontend_alloc(gpu->fe, piece, 64, &dgpa,
				&dhost) != 0) {
			fail_fe(gpu, "allocating command data");
			command_free_memory(gpu, c);
			free(c);
			return NULL;
		}
		c->data_gpa[c->ndata++] = dgpa;
		memcpy(dhost, (const uint8_t *)data + off, piece);
		bufs[nbufs++] = (struct tessera_virtqueue_buffer){ dgpa,
			(uint32_t)piece };
		off += piece;
	}
	size_t in_num = 0;
	if (resp_size > 0) {
		bufs[nbufs++] = (struct tessera_virtqueue_buffer){ gpa + resp_off,
			(uint32_t)resp_size };
		in_num = 1;
	}
	if (tessera_vhost_user_frontend_submit(gpu->fe, queue, bufs,
			nbufs - in_num, in_num, c) < 0 ||
			tessera_vhost_user_frontend_kick(gpu->fe, queue, false) != 0) {
		fail_fe(gpu, "submitting");
		command_free_memory(gpu, c);
		free(c);
		return NULL;
	}
	return c;
}

/* Waits until c completed; frees c on timeout only when it can no longer
 * be completed (never: it stays owned by the queue), so a timed-out
 * command is leaked into the async list to be reaped later. */
static int wait_command(struct tessera_virtio_gpu_frontend *gpu,
		struct command *c) {
	int64_t deadline = tessera_clock_now_ms() + gpu->timeout_ms;
	for (;;) {
		if (reap_all(gpu) < 0) {
			return -1;
		}
		if (c->done) {
			return 0;
		}
		int64_t left = deadline - tessera_clock_now_ms();
		if (left <= 0) {
			/* keep it for a late completion */
			c->async = true;
			c->fence_id = 0;
			c->next = gpu->async;
			gpu->async = c;
			return fail(gpu, "no completion within %d ms", gpu->timeout_ms);
		}
		int r = tessera_vhost_user_frontend_wait_call(gpu->fe, c->queue,
			(int)left);
		if (r < 0) {
			return fail_fe(gpu, "waiting for the device");
		}
	}
}

/* Sends a command synchronously and checks its response: expect is the
 * wanted response type; the response is copied into resp (resp_size). */
static int command(struct tessera_virtio_gpu_frontend *gpu, const char *name,
		void *cmd, size_t cmd_len, const void *data, size_t data_len,
		void *resp, size_t resp_size, uint32_t expect, bool fence) {
	struct virtio_gpu_ctrl_hdr *hdr = cmd;
	uint64_t fence_id = 0;
	if (fence) {
		fence_id = gpu->next_fence++;
		hdr->flags |= VIRTIO_GPU_FLAG_FENCE;
		hdr->fence_id = fence_id;
	}
	gpu->last_response = 0;
	struct command *c = submit(gpu, TESSERA_VIRTIO_GPU_FRONTEND_CONTROL_QUEUE,
		cmd, cmd_len, data, data_len, resp_size, false);
	if (c == NULL) {
		return -1;
	}
	c->fence_id = fence_id;
	if (wait_command(gpu, c) != 0) {
		return -1;
	}
	int ret = 0;
	struct virtio_gpu_ctrl_hdr rhdr;
	if (c->used_len < sizeof(rhdr)) {
		ret = fail(gpu, "%s: response of %u bytes", name, c->used_len);
		goto out;
	}
	memcpy(&rhdr, c->resp, sizeof(rhdr));
	gpu->last_response = rhdr.type;
	if (rhdr.type != expect) {
		ret = fail(gpu, "%s: device answered %s (0x%x)", name,
			response_name(rhdr.type), rhdr.type);
		goto out;
	}
	if (fence && (!(rhdr.flags & VIRTIO_GPU_FLAG_FENCE) ||
			rhdr.fence_id != fence_id || rhdr.ctx_id != hdr->ctx_id)) {
		ret = fail(gpu, "%s: fence %llu ctx %u not echoed (flags 0x%x "
			"fence %llu ctx %u)", name, (unsigned long long)fence_id,
			hdr->ctx_id, rhdr.flags, (unsigned long long)rhdr.fence_id,
			rhdr.ctx_id);
		goto out;
	}
	if (resp != NULL) {
		if (c->used_len < resp_size) {
			ret = fail(gpu, "%s: response of %u bytes, expected %zu", name,
				c->used_len, resp_size);
			goto out;
		}
		memcpy(resp, c->resp, resp_size);
	}
out:
	free(c);
	return ret;
}

static int simple(struct tessera_virtio_gpu_frontend *gpu, const char *name,
		void *cmd, size_t cmd_len, bool fence) {
	return command(gpu, name, cmd, cmd_len, NULL, 0, NULL,
		sizeof(struct virtio_gpu_ctrl_hdr), VIRTIO_GPU_RESP_OK_NODATA, fence);
}

/* ---- control commands ---- */

int tessera_virtio_gpu_frontend_get_display_info(
		struct tessera_virtio_gpu_frontend *gpu,
		struct virtio_gpu_resp_display_info *info) {
	struct virtio_gpu_ctrl_hdr cmd = { .type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO };
	return command(gpu, "GET_DISPLAY_INFO", &cmd, sizeof(cmd), NULL, 0, info,
		sizeof(*info), VIRTIO_GPU_RESP_OK_DISPLAY_INFO, false);
}

int tessera_virtio_gpu_frontend_get_edid(struct tessera_virtio_gpu_frontend *gpu,
		uint32_t scanout, uint8_t edid[1024], uint32_t *size) {
	struct virtio_gpu_cmd_get_edid cmd = {
		.hdr.type = VIRTIO_GPU_CMD_GET_EDID,
		.scanout = scanout,
	};
	struct virtio_gpu_resp_edid resp;
	if (command(gpu, "GET_EDID", &cmd, sizeof(cmd), NULL, 0, &resp,
			sizeof(resp), VIRTIO_GPU_RESP_OK_EDID, false) != 0) {
		return -1;
	}
	if (resp.size > sizeof(resp.edid)) {
		return fail(gpu, "GET_EDID: size %u", resp.size);
	}
	memcpy(edid, resp.edid, sizeof(resp.edid));
	*size = resp.size;
	return 0;
}

int tessera_virtio_gpu_frontend_get_capset_info(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t index,
		struct virtio_gpu_resp_capset_info *info) {
	struct virtio_gpu_get_capset_info cmd = {
		.hdr.type = VIRTIO_GPU_CMD_GET_CAPSET_INFO,
		.capset_index = index,
	};
	return command(gpu, "GET_CAPSET_INFO", &cmd, sizeof(cmd), NULL, 0, info,
		sizeof(*info), VIRTIO_GPU_RESP_OK_CAPSET_INFO, false);
}

int tessera_virtio_gpu_frontend_ctx_create(struct tessera_virtio_gpu_frontend *gpu,
		uint32_t ctx_id, const char *debug_name) {
	struct virtio_gpu_ctx_create cmd = {
		.hdr.type = VIRTIO_GPU_CMD_CTX_CREATE,
		.hdr.ctx_id = ctx_id,
	};
	if (debug_name != NULL) {
		size_t n = strlen(debug_name);
		if (n > sizeof(cmd.debug_name)) {
			n = sizeof(cmd.debug_name);
		}
		memcpy(cmd.debug_name, debug_name, n);
		cmd.nlen = (uint32_t)n;
	}
	return simple(gpu, "CTX_CREATE", &cmd, sizeof(cmd), false);
}

int tessera_virtio_gpu_frontend_ctx_destroy(struct tessera_virtio_gpu_frontend *gpu,
		uint32_t ctx_id) {
	struct virtio_gpu_ctx_destroy cmd = {
		.hdr.type = VIRTIO_GPU_CMD_CTX_DESTROY,
		.hdr.ctx_id = ctx_id,
	};
	return simple(gpu, "CTX_DESTROY", &cmd, sizeof(cmd), false);
}

static int ctx_resource(struct tessera_virtio_gpu_frontend *gpu, uint32_t type,
		const char *name, uint32_t ctx_id, uint32_t resource_id) {
	struct virtio_gpu_ctx_resource cmd = {
		.hdr.type = type,
		.hdr.ctx_id = ctx_id,
		.resource_id = resource_id,
	};
	return simple(gpu, name, &cmd, sizeof(cmd), false);
}

int tessera_virtio_gpu_frontend_ctx_attach_resource(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t ctx_id,
		uint32_t resource_id) {
	return ctx_resource(gpu, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
		"CTX_ATTACH_RESOURCE", ctx_id, resource_id);
}

int tessera_virtio_gpu_frontend_ctx_detach_resource(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t ctx_id,
		uint32_t resource_id) {
	return ctx_resource(gpu, VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE,
		"CTX_DETACH_RESOURCE", ctx_id, resource_id);
}

int tessera_virtio_gpu_frontend_resource_create_2d(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
		uint32_t format, uint32_t width, uint32_t height) {
	struct virtio_gpu_resource_create_2d cmd = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
		.resource_id = resource_id,
		.format = format,
		.width = width,
		.height = height,
	};
	return simple(gpu, "RESOURCE_CREATE_2D", &cmd, sizeof(cmd), false);
}

int tessera_virtio_gpu_frontend_resource_create_3d(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
		const struct tessera_virtio_gpu_resource_3d *p) {
	/* the driver fences RESOURCE_CREATE_3D (virtio_gpu_object_create) */
	struct virtio_gpu_resource_create_3d cmd = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
		.resource_id = resource_id,
		.target = p->target,
		.format = p->format,
		.bind = p->bind,
		.width = p->width,
		.height = p->height,
		.depth = p->depth,
		.array_size = p->array_size,
		.last_level = p->last_level,
		.nr_samples = p->nr_samples,
		.flags = p->flags,
	};
	return simple(gpu, "RESOURCE_CREATE_3D", &cmd, sizeof(cmd), true);
}

int tessera_virtio_gpu_frontend_resource_unref(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id) {
	struct virtio_gpu_resource_unref cmd = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_UNREF,
		.resource_id = resource_id,
	};
	return simple(gpu, "RESOURCE_UNREF", &cmd, sizeof(cmd), false);
}

int tessera_virtio_gpu_frontend_attach_backing(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
		const struct tessera_guest_extent *extents, size_t n) {
	if (n == 0 || n > MAX_DATA_PIECES * (PAGE / sizeof(struct virtio_gpu_mem_entry))) {
		return fail(gpu, "ATTACH_BACKING: %zu entries", n);
	}
	struct virtio_gpu_mem_entry *ents = calloc(n, sizeof(*ents));
	if (ents == NULL) {
		return fail(gpu, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (extents[i].len > UINT32_MAX) {
			free(ents);
			return fail(gpu, "ATTACH_BACKING: entry %zu too long", i);
		}
		ents[i].addr = extents[i].gpa;
		ents[i].length = (uint32_t)extents[i].len;
	}
	struct virtio_gpu_resource_attach_backing cmd = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
		.resource_id = resource_id,
		.nr_entries = (uint32_t)n,
	};
	int ret = command(gpu, "RESOURCE_ATTACH_BACKING", &cmd, sizeof(cmd), ents,
		n * sizeof(*ents), NULL, sizeof(struct virtio_gpu_ctrl_hdr),
		VIRTIO_GPU_RESP_OK_NODATA, false);
	free(ents);
	return ret;
}

int tessera_virtio_gpu_frontend_create_backing(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
		uint64_t size, bool pages, uint64_t *gpa, void **host) {
	if (size == 0) {
		return fail(gpu, "empty backing");
	}
	uint64_t alloc_size = (size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	if (tessera_virtio_gpu_frontend_alloc(gpu, alloc_size, gpa, host) != 0) {
		return -1;
	}
	size_t n = pages ? (size_t)(alloc_size / PAGE) : 1;
	struct tessera_guest_extent *ext = calloc(n, sizeof(*ext));
	if (ext == NULL) {
		tessera_virtio_gpu_frontend_free(gpu, *gpa);
		return fail(gpu, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		ext[i].gpa = *gpa + i * PAGE;
		ext[i].len = pages ? PAGE : alloc_size;
	}
	int ret = tessera_virtio_gpu_frontend_attach_backing(gpu, resource_id,
		ext, n);
	free(ext);
	if (ret != 0) {
		tessera_virtio_gpu_frontend_free(gpu, *gpa);
	}
	return ret;
}

int tessera_virtio_gpu_frontend_detach_backing(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id) {
	struct virtio_gpu_resource_detach_backing cmd = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
		.resource_id = resource_id,
	};
	return simple(gpu, "RESOURCE_DETACH_BACKING", &cmd, sizeof(cmd), false);
}

int tessera_virtio_gpu_frontend_set_scanout(struct tessera_virtio_gpu_frontend *gpu,
		uint32_t scanout, uint32_t resource_id, uint32_t x, uint32_t y,
		uint32_t width, uint32_t height) {
	struct virtio_gpu_set_scanout cmd = {
		.hdr.type = VIRTIO_GPU_CMD_SET_SCANOUT,
		.r = { x, y, width, height },
		.scanout_id = scanout,
		.resource_id = resource_id,
	};
	return simple(gpu, "SET_SCANOUT", &cmd, sizeof(cmd), false);
}

int tessera_virtio_gpu_frontend_transfer_to_host_2d(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
		uint32_t x, uint32_t y, uint32_t width, uint32_t height,
		uint64_t offset) {
	struct virtio_gpu_transfer_to_host_2d cmd = {
		.hdr.type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
		.r = { x, y, width, height },
		.offset = offset,
		.resource_id = resource_id,
	};
	return simple(gpu, "TRANSFER_TO_HOST_2D", &cmd, sizeof(cmd), false);
}

int tessera_virtio_gpu_frontend_resource_flush(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t resource_id,
		uint32_t x, uint32_t y, uint32_t width, uint32_t height, bool fence) {
	struct virtio_gpu_resource_flush cmd = {
		.hdr.type = VIRTIO_GPU_CMD_RESOURCE_FLUSH,
		.r = { x, y, width, height },
		.resource_id = resource_id,
	};
	return simple(gpu, "RESOURCE_FLUSH", &cmd, sizeof(cmd), fence);
}

int tessera_virtio_gpu_frontend_transfer_3d(struct tessera_virtio_gpu_frontend *gpu,
		bool to_host, uint32_t ctx_id, uint32_t resource_id,
		const struct virtio_gpu_box *box, uint64_t offset, uint32_t level,
		uint32_t stride, uint32_t layer_stride) {
	struct virtio_gpu_transfer_host_3d cmd = {
		.hdr.type = to_host ? VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D :
			VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
		.hdr.ctx_id = ctx_id,
		.box = *box,
		.offset = offset,
		.resource_id = resource_id,
		.level = level,
		.stride = stride,
		.layer_stride = layer_stride,
	};
	return simple(gpu, to_host ? "TRANSFER_TO_HOST_3D" : "TRANSFER_FROM_HOST_3D",
		&cmd, sizeof(cmd), true);
}

int tessera_virtio_gpu_frontend_submit_3d(struct tessera_virtio_gpu_frontend *gpu,
		uint32_t ctx_id, const void *payload, size_t len, bool fence,
		uint64_t *fence_id) {
	if (len > UINT32_MAX) {
		return fail(gpu, "SUBMIT_3D: payload too long");
	}
	struct virtio_gpu_cmd_submit cmd = {
		.hdr.type = VIRTIO_GPU_CMD_SUBMIT_3D,
		.hdr.ctx_id = ctx_id,
		.size = (uint32_t)len,
	};
	if (fence_id != NULL) {
		*fence_id = fence ? gpu->next_fence : 0;
	}
	return command(gpu, "SUBMIT_3D", &cmd, sizeof(cmd), payload, len, NULL,
		sizeof(struct virtio_gpu_ctrl_hdr), VIRTIO_GPU_RESP_OK_NODATA, fence);
}

/* ---- asynchronous submissions ---- */

int tessera_virtio_gpu_frontend_submit_3d_async(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t ctx_id,
		const void *payload, size_t len, uint64_t *fence_id) {
	if (len > UINT32_MAX) {
		return fail(gpu, "SUBMIT_3D: payload too long");
	}
	uint64_t id = gpu->next_fence++;
	struct virtio_gpu_cmd_submit cmd = {
		.hdr.type = VIRTIO_GPU_CMD_SUBMIT_3D,
		.hdr.flags = VIRTIO_GPU_FLAG_FENCE,
		.hdr.fence_id = id,
		.hdr.ctx_id = ctx_id,
		.size = (uint32_t)len,
	};
	struct command *c = submit(gpu, TESSERA_VIRTIO_GPU_FRONTEND_CONTROL_QUEUE,
		&cmd, sizeof(cmd), payload, len, sizeof(struct virtio_gpu_ctrl_hdr),
		true);
	if (c == NULL) {
		return -1;
	}
	c->fence_id = id;
	c->next = gpu->async;
	gpu->async = c;
	*fence_id = id;
	return 0;
}

int tessera_virtio_gpu_frontend_poll(struct tessera_virtio_gpu_frontend *gpu,
		int timeout_ms) {
	int n = reap_all(gpu);
	if (n != 0 || timeout_ms <= 0) {
		return n;
	}
	int r = tessera_vhost_user_frontend_wait_call(gpu->fe,
		TESSERA_VIRTIO_GPU_FRONTEND_CONTROL_QUEUE, timeout_ms);
	if (r < 0) {
		return fail_fe(gpu, "waiting for the device");
	}
	return reap_all(gpu);
}

int tessera_virtio_gpu_frontend_fence_status(
		struct tessera_virtio_gpu_frontend *gpu, uint64_t fence_id,
		uint32_t *resp_type) {
	for (struct command **link = &gpu->async; *link != NULL;
			link = &(*link)->next) {
		struct command *c = *link;
		if (c->fence_id != fence_id || fence_id == 0) {
			continue;
		}
		if (!c->done) {
			return 0;
		}
		if (resp_type != NULL) {
			struct virtio_gpu_ctrl_hdr hdr;
			memcpy(&hdr, c->resp, sizeof(hdr));
			*resp_type = c->used_len >= sizeof(hdr) ? hdr.type : 0;
		}
		*link = c->next;
		free(c);
		return 1;
	}
	return -1;
}

bool tessera_virtio_gpu_frontend_fence_signaled(
		const struct tessera_virtio_gpu_frontend *gpu, uint64_t fence_id) {
	return gpu->last_fence >= fence_id;
}

uint64_t tessera_virtio_gpu_frontend_last_fence(
		const struct tessera_virtio_gpu_frontend *gpu) {
	return gpu->last_fence;
}

int tessera_virtio_gpu_frontend_call_fd(
		const struct tessera_virtio_gpu_frontend *gpu) {
	return tessera_vhost_user_frontend_call_fd(gpu->fe,
		TESSERA_VIRTIO_GPU_FRONTEND_CONTROL_QUEUE);
}

/* ---- cursor ---- */

static int cursor_command(struct tessera_virtio_gpu_frontend *gpu,
		struct virtio_gpu_update_cursor *cmd) {
	struct command *c = submit(gpu, TESSERA_VIRTIO_GPU_FRONTEND_CURSOR_QUEUE,
		cmd, sizeof(*cmd), NULL, 0, 0, false);
	if (c == NULL) {
		return -1;
	}
	int ret = wait_command(gpu, c);
	if (ret == 0) {
		free(c);
	}
	return ret;
}

int tessera_virtio_gpu_frontend_update_cursor(
		struct tessera_virtio_gpu_frontend *gpu, uint32_t scanout,
		uint32_t resource_id, uint32_t x, uint32_t y, uint32_t hot_x,
		uint32_t hot_y) {
	struct virtio_gpu_update_cursor cmd = {
		.hdr.type = VIRTIO_GPU_CMD_UPDATE_CURSOR,
		.pos = { scanout, x, y, 0 },
		.resource_id = resource_id,
		.hot_x = hot_x,
		.hot_y = hot_y,
	};
	return cursor_command(gpu, &cmd);
}

int tessera_virtio_gpu_frontend_move_cursor(struct tessera_virtio_gpu_frontend *gpu,
		uint32_t scanout, uint32_t x, uint32_t y) {
	struct virtio_gpu_update_cursor cmd = {
		.hdr.type = VIRTIO_GPU_CMD_MOVE_CURSOR,
		.pos = { scanout, x, y, 0 },
	};
	return cursor_command(gpu, &cmd);
}

/* ---- raw ---- */

int tessera_virtio_gpu_frontend_raw(struct tessera_virtio_gpu_frontend *gpu,
		uint32_t queue, const void *cmd, size_t cmd_len, const void *data,
		size_t data_len, void *resp, size_t resp_size, uint32_t *used_len) {
	struct command *c = submit(gpu, queue, cmd, cmd_len, data, data_len,
		resp_size, false);
	if (c == NULL) {
		return -1;
	}
	if (wait_command(gpu, c) != 0) {
		return -1;
	}
	if (resp != NULL && resp_size > 0) {
		memcpy(resp, c->resp, resp_size);
	}
	if (used_len != NULL) {
		*used_len = c->used_len;
	}
	free(c);
	return 0;
}
