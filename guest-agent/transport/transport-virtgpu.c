/*
 * virtgpu transport: a real guest. DRM virtgpu ioctls (libdrm's
 * virtgpu_drm.h; Debian 12's 32-byte drm_virtgpu_execbuffer without
 * ring_idx is all this needs) on the render node of the virtio_gpu driver:
 *
 * - opening the node is a new virtio-gpu context on the host (the kernel
 *   creates it at the first 3D ioctl), i.e. a new session;
 * - resources: RESOURCE_CREATE (PIPE_BUFFER, R8, width = size: the kernel
 *   gives it shmem pages and sends RESOURCE_CREATE_3D + ATTACH_BACKING),
 *   MAP + mmap of the node to write into the guest pages the host reads;
 * - batches: EXECBUFFER (SUBMIT_3D); the WAIT batch with FENCE_FD_OUT, its
 *   sync_file in the event loop is the doorbell;
 * - client dmabufs from this device: PRIME import + RESOURCE_INFO give the
 *   host resource id (zero copy).
 *
 * Mappings are tracked so that a lost session (the node closed) leaves
 * none behind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <virtgpu_drm.h>
#include <wayland-server-core.h>
#include <xf86drm.h>

#include "transport-private.h"

#define PIPE_BUFFER 0
#define VIRGL_FORMAT_R8_UNORM 64
#define RENDER_NODE_FIRST 128
#define RENDER_NODE_COUNT 64

struct mapping {
	struct wl_list link;
	void *data;
	size_t size;
};

struct virtgpu_backend {
	int fd;
	int fence_fd; /* sync_file of the armed WAIT, -1 if none */
	struct wl_event_source *fence_source;
	struct wl_list mappings; /* mapping.link */
};

static struct virtgpu_backend *backend(struct agent_transport *t) {
	return t->backend;
}

static bool is_virtio_gpu(int fd) {
	drmVersionPtr version = drmGetVersion(fd);
	bool ok = version != NULL && version->name != NULL &&
		strcmp(version->name, "virtio_gpu") == 0;
	drmFreeVersion(version);
	return ok;
}

static int open_node(struct agent_transport *t) {
	if (t->device != NULL) {
		int fd = open(t->device, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			return agent_transport_fail(t, "cannot open %s: %s", t->device,
				strerror(errno));
		}
		if (!is_virtio_gpu(fd)) {
			close(fd);
			return agent_transport_fail(t, "%s is not a virtio_gpu device",
				t->device);
		}
		return fd;
	}
	for (int i = RENDER_NODE_FIRST; i < RENDER_NODE_FIRST + RENDER_NODE_COUNT; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/dev/dri/renderD%d", i);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			continue;
		}
		if (is_virtio_gpu(fd)) {
			snprintf(t->description, sizeof(t->description), "virtgpu %s", path);
			return fd;
		}
		close(fd);
	}
	return agent_transport_fail(t, "no render node of the virtio_gpu driver in "
		"/dev/dri (is this a VM with a virtio-gpu device, and may this user open it?)");
}

static void disarm(struct virtgpu_backend *b) {
	if (b->fence_source != NULL) {
		wl_event_source_remove(b->fence_source);
		b->fence_source = NULL;
	}
	if (b->fence_fd >= 0) {
		close(b->fence_fd);
		b->fence_fd = -1;
	}
}

static int handle_fence(int fd, uint32_t mask, void *data) {
	struct agent_transport *t = data;
	disarm(backend(t));
	agent_transport_doorbell(t);
	return 0;
}

static int vg_connect(struct agent_transport *t) {
	struct virtgpu_backend *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		return agent_transport_fail(t, "out of memory");
	}
	b->fence_fd = -1;
	wl_list_init(&b->mappings);
	b->fd = open_node(t);
	if (b->fd < 0) {
		free(b);
		return -1;
	}
	struct drm_virtgpu_getparam param = { .param = VIRTGPU_PARAM_3D_FEATURES };
	uint64_t has_3d = 0;
	param.value = (uint64_t)(uintptr_t)&has_3d;
	if (drmIoctl(b->fd, DRM_IOCTL_VIRTGPU_GETPARAM, &param) != 0 || has_3d == 0) {
		close(b->fd);
		free(b);
		return agent_transport_fail(t, "the virtio-gpu device offers no 3D "
			"(VIRGL) feature: it is not a tessera-vmd device");
	}
	t->backend = b;
	return 0;
}

static void vg_disconnect(struct agent_transport *t) {
	struct virtgpu_backend *b = backend(t);
	if (b == NULL) {
		return;
	}
	disarm(b);
	struct mapping *m, *tmp;
	wl_list_for_each_safe(m, tmp, &b->mappings, link) {
		munmap(m->data, m->size);
		wl_list_remove(&m->link);
		free(m);
	}
	close(b->fd); /* the context, its resources and GEM handles go */
	free(b);
	t->backend = NULL;
}

static void gem_close(int fd, uint32_t handle) {
	struct drm_gem_close close_args = { .handle = handle };
	drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &close_args);
}

static int vg_resource_create(struct agent_transport *t, uint64_t size,
		struct agent_resource *res) {
	struct virtgpu_backend *b = backend(t);
	struct drm_virtgpu_resource_create create = {
		.target = PIPE_BUFFER,
		.format = VIRGL_FORMAT_R8_UNORM,
		.width = (uint32_t)size,
		.height = 1,
		.depth = 1,
		.array_size = 1,
		.size = (uint32_t)size,
	};
	if (drmIoctl(b->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &create) != 0) {
		return agent_transport_fail(t, "RESOURCE_CREATE of %llu bytes: %s",
			(unsigned long long)size, strerror(errno));
	}
	struct drm_virtgpu_map map = { .handle = create.bo_handle };
	struct mapping *m = calloc(1, sizeof(*m));
	void *data = MAP_FAILED;
	if (m != NULL && drmIoctl(b->fd, DRM_IOCTL_VIRTGPU_MAP, &map) == 0) {
		data = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd,
			(off_t)map.offset);
	}
	if (data == MAP_FAILED) {
		agent_transport_fail(t, "mapping resource %u: %s", create.res_handle,
			strerror(errno));
		free(m);
		gem_close(b->fd, create.bo_handle);
		return -1;
	}
	memset(data, 0, (size_t)size);
	m->data = data;
	m->size = (size_t)size;
	wl_list_insert(&b->mappings, &m->link);
	*res = (struct agent_resource){
		.id = create.res_handle,
		.size = size,
		.data = data,
		.handle = create.bo_handle,
	};
	return 0;
}

static int vg_resource_import(struct agent_transport *t, int dmabuf_fd,
		struct agent_resource *res) {
	struct virtgpu_backend *b = backend(t);
	uint32_t handle = 0;
	if (drmPrimeFDToHandle(b->fd, dmabuf_fd, &handle) != 0) {
		return agent_transport_fail(t, "PRIME import: %s", strerror(errno));
	}
	struct drm_virtgpu_resource_info info = { .bo_handle = handle };
	if (drmIoctl(b->fd, DRM_IOCTL_VIRTGPU_RESOURCE_INFO, &info) != 0) {
		agent_transport_fail(t, "RESOURCE_INFO: %s", strerror(errno));
		gem_close(b->fd, handle);
		return -1;
	}
	if (info.res_handle == 0 || info.size == 0) {
		/* a foreign dmabuf the driver imported without a host resource */
		gem_close(b->fd, handle);
		return agent_transport_fail(t, "the dmabuf has no host resource");
	}
	*res = (struct agent_resource){
		.id = info.res_handle,
		.size = info.size,
		.handle = handle,
		.imported = true,
	};
	return 0;
}

static void vg_resource_destroy(struct agent_transport *t,
		struct agent_resource *res) {
	struct virtgpu_backend *b = backend(t);
	if (res->data != NULL) {
		struct mapping *m;
		wl_list_for_each(m, &b->mappings, link) {
			if (m->data == res->data) {
				munmap(m->data, m->size);
				wl_list_remove(&m->link);
				free(m);
				break;
			}
		}
	}
	if (res->handle != 0) {
		gem_close(b->fd, res->handle);
	}
}

static int vg_submit(struct agent_transport *t, const void *batch, size_t len,
		bool wait) {
	struct virtgpu_backend *b = backend(t);
	struct drm_virtgpu_execbuffer exec = {
		.flags = wait ? VIRTGPU_EXECBUF_FENCE_FD_OUT : 0,
		.size = (uint32_t)len,
		.command = (uint64_t)(uintptr_t)batch,
		.fence_fd = -1,
	};
	if (drmIoctl(b->fd, DRM_IOCTL_VIRTGPU_EXECBUFFER, &exec) != 0) {
		return agent_transport_fail(t, "EXECBUFFER of %zu bytes: %s", len,
			strerror(errno));
	}
	if (!wait) {
		return 0;
	}
	if (exec.fence_fd < 0) {
		return agent_transport_fail(t, "EXECBUFFER returned no fence");
	}
	disarm(b); /* a new WAIT replaces the armed one */
	b->fence_fd = exec.fence_fd;
	b->fence_source = wl_event_loop_add_fd(t->loop, b->fence_fd, WL_EVENT_READABLE,
		handle_fence, t);
	if (b->fence_source == NULL) {
		disarm(b);
		return agent_transport_fail(t, "cannot watch the fence");
	}
	return 0;
}

const struct agent_transport_impl agent_transport_virtgpu = {
	.name = "virtgpu",
	.connect = vg_connect,
	.disconnect = vg_disconnect,
	.resource_create = vg_resource_create,
	.resource_import = vg_resource_import,
	.resource_destroy = vg_resource_destroy,
	.submit = vg_submit,
};
