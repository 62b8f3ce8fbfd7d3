/*
 * vhost-user loopback transport: the agent plays VMM and guest driver
 * against a tessera-vmd socket on the host (common/frontend/virtio-gpu-frontend.h),
 * so that the same vmd code path sees the same bytes on its rings as with
 * QEMU and the Linux driver. For development, tests and benchmarks.
 *
 * Guest RAM is a sealed memfd owned by the frontend (TESSERA_AGENT_RAM_MB,
 * default 512 MiB, allocated lazily by the kernel). Resources are
 * PIPE_BUFFER 3D resources with backing in page-sized pieces, like the
 * shmem pages of the Linux driver. The WAIT doorbell is an asynchronous
 * fenced SUBMIT_3D; its completion arrives on the control queue's call
 * eventfd. Completions can also be reaped inside synchronous commands, so
 * the doorbell is checked after each of them and delivered from an idle
 * source (never from inside the caller's request).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "transport-private.h"
#include "vhost-user-frontend.h"
#include "virtio-gpu-frontend.h"

#define CTX_ID 1
#define PIPE_BUFFER 0
#define VIRGL_FORMAT_R8_UNORM 64
#define DEFAULT_RAM_MB 512
#define MIN_RAM_MB 64
#define MAX_RAM_MB 16384

struct vhost_user_backend {
	struct tessera_virtio_gpu_frontend *gpu;
	struct wl_event_source *call_source;
	struct wl_event_source *socket_source;
	struct wl_event_source *doorbell_idle;
	uint64_t wait_fence;
	bool armed;
	uint32_t next_resource;
};

static struct vhost_user_backend *backend(struct agent_transport *t) {
	return t->backend;
}

static void handle_doorbell_idle(void *data) {
	struct agent_transport *t = data;
	backend(t)->doorbell_idle = NULL;
	agent_transport_doorbell(t);
}

/* Schedules the doorbell if the armed WAIT completed (reaped here or
 * inside a synchronous command). */
static void check_doorbell(struct agent_transport *t) {
	struct vhost_user_backend *b = backend(t);
	if (!b->armed || b->gpu == NULL) {
		return;
	}
	uint32_t resp = 0;
	int status = tessera_virtio_gpu_frontend_fence_status(b->gpu, b->wait_fence, &resp);
	if (status == 0 && !tessera_virtio_gpu_frontend_fence_signaled(b->gpu, b->wait_fence)) {
		return;
	}
	b->armed = false;
	if (b->doorbell_idle == NULL) {
		b->doorbell_idle = wl_event_loop_add_idle(t->loop, handle_doorbell_idle, t);
	}
}

static int handle_call(int fd, uint32_t mask, void *data) {
	struct agent_transport *t = data;
	struct vhost_user_backend *b = backend(t);
	uint64_t count;
	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN) {
		agent_transport_lost(t, "the call eventfd failed");
		return 0;
	}
	if (tessera_virtio_gpu_frontend_poll(b->gpu, 0) < 0) {
		char why[256];
		snprintf(why, sizeof(why), "device: %s", tessera_virtio_gpu_frontend_error(b->gpu));
		agent_transport_lost(t, why);
		return 0;
	}
	check_doorbell(t);
	return 0;
}

static int handle_socket(int fd, uint32_t mask, void *data) {
	struct agent_transport *t = data;
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		agent_transport_lost(t, "tessera-vmd closed the vhost-user connection");
	}
	return 0;
}

static int vu_connect(struct agent_transport *t) {
	struct vhost_user_backend *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		return agent_transport_fail(t, "out of memory");
	}
	uint64_t ram_mb = DEFAULT_RAM_MB;
	const char *env = getenv("TESSERA_AGENT_RAM_MB");
	if (env != NULL && env[0] != '\0') {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(env, &end, 10);
		if (errno != 0 || *end != '\0' || v < MIN_RAM_MB || v > MAX_RAM_MB) {
			free(b);
			return agent_transport_fail(t, "TESSERA_AGENT_RAM_MB='%s': not a "
				"number of MiB in %d..%d", env, MIN_RAM_MB, MAX_RAM_MB);
		}
		ram_mb = v;
	}
	struct tessera_virtio_gpu_frontend_options opts = { .ram_size = ram_mb << 20 };
	char err[256] = "";
	b->gpu = tessera_virtio_gpu_frontend_connect(t->device, &opts, err, sizeof(err));
	if (b->gpu == NULL) {
		free(b);
		return agent_transport_fail(t, "%s", err);
	}
	if (tessera_virtio_gpu_frontend_ctx_create(b->gpu, CTX_ID, "tessera-agent") != 0) {
		agent_transport_fail(t, "CTX_CREATE: %s",
			tessera_virtio_gpu_frontend_error(b->gpu));
		tessera_virtio_gpu_frontend_destroy(b->gpu);
		free(b);
		return -1;
	}
	struct tessera_vhost_user_frontend *fe = tessera_virtio_gpu_frontend_vhost(b->gpu);
	b->call_source = wl_event_loop_add_fd(t->loop,
		tessera_virtio_gpu_frontend_call_fd(b->gpu), WL_EVENT_READABLE, handle_call, t);
	b->socket_source = wl_event_loop_add_fd(t->loop,
		tessera_vhost_user_frontend_socket_fd(fe), 0, handle_socket, t);
	if (b->call_source == NULL || b->socket_source == NULL) {
		if (b->call_source != NULL) {
			wl_event_source_remove(b->call_source);
		}
		tessera_virtio_gpu_frontend_destroy(b->gpu);
		free(b);
		return agent_transport_fail(t, "cannot watch the device's fds");
	}
	t->backend = b;
	return 0;
}

static void vu_disconnect(struct agent_transport *t) {
	struct vhost_user_backend *b = backend(t);
	if (b == NULL) {
		return;
	}
	if (b->doorbell_idle != NULL) {
		wl_event_source_remove(b->doorbell_idle);
	}
	wl_event_source_remove(b->call_source);
	wl_event_source_remove(b->socket_source);
	tessera_virtio_gpu_frontend_destroy(b->gpu); /* frees guest RAM */
	free(b);
	t->backend = NULL;
}

static int gpu_fail(struct agent_transport *t, const char *what) {
	return agent_transport_fail(t, "%s: %s", what,
		tessera_virtio_gpu_frontend_error(backend(t)->gpu));
}

static int vu_resource_create(struct agent_transport *t, uint64_t size,
		struct agent_resource *res) {
	struct vhost_user_backend *b = backend(t);
	uint32_t id = ++b->next_resource;
	struct tessera_virtio_gpu_resource_3d params = {
		.target = PIPE_BUFFER,
		.format = VIRGL_FORMAT_R8_UNORM,
		.width = (uint32_t)size,
		.height = 1,
		.depth = 1,
		.array_size = 1,
	};
	if (tessera_virtio_gpu_frontend_resource_create_3d(b->gpu, id, &params) != 0) {
		check_doorbell(t);
		return gpu_fail(t, "RESOURCE_CREATE_3D");
	}
	uint64_t gpa = 0;
	void *host = NULL;
	if (tessera_virtio_gpu_frontend_create_backing(b->gpu, id, size, true, &gpa,
			&host) != 0) {
		agent_transport_fail(t, "ATTACH_BACKING of %llu bytes: %s",
			(unsigned long long)size, tessera_virtio_gpu_frontend_error(b->gpu));
		tessera_virtio_gpu_frontend_resource_unref(b->gpu, id);
		check_doorbell(t);
		return -1;
	}
	memset(host, 0, size);
	*res = (struct agent_resource){
		.id = id,
		.size = size,
		.data = host,
		/* the guest page frame of the backing, to free it */
		.handle = (uint32_t)(gpa >> 12),
	};
	check_doorbell(t);
	return 0;
}

static int vu_resource_import(struct agent_transport *t, int dmabuf_fd,
		struct agent_resource *res) {
	return agent_transport_fail(t, "the vhost-user loopback has no virtio-gpu "
		"device to import dmabufs into");
}

static void vu_resource_destroy(struct agent_transport *t,
		struct agent_resource *res) {
	struct vhost_user_backend *b = backend(t);
	tessera_virtio_gpu_frontend_detach_backing(b->gpu, res->id);
	tessera_virtio_gpu_frontend_resource_unref(b->gpu, res->id);
	tessera_virtio_gpu_frontend_free(b->gpu, (uint64_t)res->handle << 12);
	check_doorbell(t);
}

static int vu_submit(struct agent_transport *t, const void *batch, size_t len,
		bool wait) {
	struct vhost_user_backend *b = backend(t);
	int ret;
	if (wait) {
		ret = tessera_virtio_gpu_frontend_submit_3d_async(b->gpu, CTX_ID, batch, len,
			&b->wait_fence);
		b->armed = ret == 0;
	} else {
		ret = tessera_virtio_gpu_frontend_submit_3d(b->gpu, CTX_ID, batch, len, false,
			NULL);
	}
	if (ret != 0) {
		gpu_fail(t, "SUBMIT_3D");
	}
	check_doorbell(t);
	return ret;
}

const struct agent_transport_impl agent_transport_vhost_user = {
	.name = "vhost-user",
	.connect = vu_connect,
	.disconnect = vu_disconnect,
	.resource_create = vu_resource_create,
	.resource_import = vu_resource_import,
	.resource_destroy = vu_resource_destroy,
	.submit = vu_submit,
};
