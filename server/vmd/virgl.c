/*
 * virglrenderer inside tessera-vmd, see virgl.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <drm_fourcc.h>
#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <virgl/virglrenderer.h>
#include <wayland-server-core.h>

#include "log.h"
#include "virgl.h"

/* Largest stride of an exported image taken (as the compositor's
 * linux-dmabuf limits, common/wlr/linux-dmabuf.h). */
#define EXPORT_MAX_STRIDE 32768
/* virglrenderer's PIPE_TEXTURE_2D and PIPE_TEXTURE_RECT */
#define TARGET_TEXTURE_2D 2
#define TARGET_TEXTURE_RECT 4

/* While fences are outstanding, virglrenderer is asked this often
 * whether they are done (it never waits). */
#define POLL_INTERVAL_MS 1

struct vmd_virgl {
	struct vmd_virgl_options options;
	struct wl_event_source *poll_timer;
	int drm_fd; /* render node for GBM, or -1; virglrenderer owns it */
	uint32_t next_seq; /* the last fence queued */
	uint32_t retired_seq; /* the last fence virglrenderer reported */
	uint32_t reported_seq; /* the last one passed to retired() */
	char description[192];
};

/* virglrenderer keeps one state per process */
static struct vmd_virgl *instance;

static void handle_write_fence(void *cookie, uint32_t fence) {
	struct vmd_virgl *virgl = cookie;
	/* in order: a later one covers the earlier ones */
	if ((int32_t)(fence - virgl->retired_seq) > 0) {
		virgl->retired_seq = fence;
	}
}

static int handle_get_drm_fd(void *cookie) {
	struct vmd_virgl *virgl = cookie;
	return virgl->drm_fd;
}

static struct virgl_renderer_callbacks callbacks = {
	.version = 2,
	.write_fence = handle_write_fence,
	.get_drm_fd = handle_get_drm_fd,
};

static void log_virgl(const char *fmt, va_list va) {
	char line[256];
	vsnprintf(line, sizeof(line), fmt, va);
	size_t n = strlen(line);
	while (n > 0 && line[n - 1] == '\n') {
		line[--n] = '\0';
	}
	/* virglrenderer reports what the guest's streams do wrong here; the
	 * command's error response says it too */
	tessera_log(TESSERA_DEBUG, "virglrenderer: %s", line);
}

/* virglrenderer's struct virgl_box is not public; it is six uint32_t x, y,
 * z, w, h, d, as virtio's box (QEMU passes that too). */
_Static_assert(sizeof(struct virtio_gpu_box) == 6 * sizeof(uint32_t),
	"virtio_gpu_box is x, y, z, w, h, d");
static struct virgl_box *as_virgl_box(struct virtio_gpu_box *box) {
	return (struct virgl_box *)box;
}

static bool fences_pending(const struct vmd_virgl *virgl) {
	return virgl->reported_seq != virgl->next_seq;
}

static int handle_poll(void *data) {
	struct vmd_virgl *virgl = data;
	virgl_renderer_poll();
	if (virgl->retired_seq != virgl->reported_seq) {
		virgl->reported_seq = virgl->retired_seq;
		virgl->options.retired(virgl->options.data, virgl->reported_seq);
	}
	if (fences_pending(virgl)) {
		wl_event_source_timer_update(virgl->poll_timer, POLL_INTERVAL_MS);
	}
	return 0;
}

/* The render node to use: the one given, else the first /dev/dri/renderD*;
 * its fd, or -1 (surfaceless). */
static int open_render_node(const char *given, char *path, size_t size) {
	if (given != NULL && given[0] != '\0') {
		snprintf(path, size, "%s", given);
	} else {
		DIR *dir = opendir("/dev/dri");
		if (dir == NULL) {
			return -1;
		}
		path[0] = '\0';
		struct dirent *e;
		while ((e = readdir(dir)) != NULL) {
			if (strncmp(e->d_name, "renderD", 7) == 0 &&
					strlen(e->d_name) < 16 &&
					(path[0] == '\0' || strcmp(e->d_name, path + 9) < 0)) {
				snprintf(path, size, "/dev/dri/%.16s", e->d_name);
			}
		}
		closedir(dir);
		if (path[0] == '\0') {
			return -1;
		}
	}
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		tessera_log_errno(TESSERA_ERROR, "virgl: cannot open the render node %s", path);
	}
	return fd;
}

struct vmd_virgl *vmd_virgl_create(struct wl_event_loop *loop,
		const struct vmd_virgl_options *options) {
	if (instance != NULL) {
		tessera_log(TESSERA_ERROR, "virgl: cannot initialise virglrenderer twice "
			"in one process");
		return NULL;
	}
	struct vmd_virgl *virgl = calloc(1, sizeof(*virgl));
	if (virgl == NULL) {
		tessera_log(TESSERA_ERROR, "virgl: cannot initialise: out of memory");
		return NULL;
	}
	virgl->options = *options;
	char node[64];
	bool given = options->render_node != NULL && options->render_node[0] != '\0';
	virgl->drm_fd = open_render_node(options->render_node, node, sizeof(node));
	if (given && virgl->drm_fd < 0) {
		free(virgl);
		return NULL;
	}
	virgl->poll_timer = wl_event_loop_add_timer(loop, handle_poll, virgl);
	if (virgl->poll_timer == NULL) {
		tessera_log(TESSERA_ERROR, "virgl: cannot initialise: no timer");
		if (virgl->drm_fd >= 0) {
			close(virgl->drm_fd);
		}
		free(virgl);
		return NULL;
	}
	/* Mesa inside the confined daemon (sandbox.c): no shader cache
	 * files, and llvmpipe rasterises in the daemon's own thread (no
	 * threads started later, and the daemon's CPU share is the VM's) */
	setenv("MESA_SHADER_CACHE_DISABLE", "true", 1);
	setenv("MESA_GLSL_CACHE_DISABLE", "true", 1);
	setenv("LP_NUM_THREADS", "0", 0);
	virgl_set_debug_callback(log_virgl);
	int flags = VIRGL_RENDERER_USE_EGL;
	if (virgl->drm_fd < 0) {
		flags |= VIRGL_RENDERER_USE_SURFACELESS;
	}
	int ret = virgl_renderer_init(virgl, flags, &callbacks);
	if (ret != 0) {
		/* virglrenderer closed the fd on failure */
		tessera_log(TESSERA_INFO, "virgl: cannot initialise virglrenderer with EGL "
			"%s%s%s (error %d)", virgl->drm_fd >= 0 ? "on the GBM device of " :
			"surfaceless", virgl->drm_fd >= 0 ? node : "", "", ret);
		wl_event_source_remove(virgl->poll_timer);
		free(virgl);
		return NULL;
	}
	instance = virgl;
	/* virglrenderer left its own GL context current */
	const char *renderer = (const char *)glGetString(GL_RENDERER);
	const char *version = (const char *)glGetString(GL_VERSION);
	snprintf(virgl->description, sizeof(virgl->description), "EGL %s%s, %s, %s",
		virgl->drm_fd >= 0 ? "on the GBM device of " : "surfaceless",
		virgl->drm_fd >= 0 ? node : "", renderer != NULL ? renderer : "?",
		version != NULL ? version : "?");
	return virgl;
}

void vmd_virgl_destroy(struct vmd_virgl *virgl) {
	if (virgl == NULL) {
		return;
	}
	virgl_renderer_cleanup(virgl);
	wl_event_source_remove(virgl->poll_timer);
	instance = NULL;
	free(virgl);
}

bool vmd_virgl_render_node(const struct vmd_virgl *virgl) {
	return virgl->drm_fd >= 0;
}

const char *vmd_virgl_describe(const struct vmd_virgl *virgl) {
	return virgl->description;
}

static const uint32_t capset_ids[VMD_VIRGL_NUM_CAPSETS] = {
	VIRTIO_GPU_CAPSET_VIRGL, VIRTIO_GPU_CAPSET_VIRGL2,
};

void vmd_virgl_capset_info(struct vmd_virgl *virgl, uint32_t index,
		uint32_t *id, uint32_t *max_version, uint32_t *max_size) {
	*id = capset_ids[index];
	virgl_renderer_get_cap_set(*id, max_version, max_size);
}

bool vmd_virgl_capset(struct vmd_virgl *virgl, uint32_t id, uint32_t version,
		void *buf, uint32_t size) {
	uint32_t max_version = 0, max_size = 0;
	if (id != VIRTIO_GPU_CAPSET_VIRGL && id != VIRTIO_GPU_CAPSET_VIRGL2) {
		return false;
	}
	virgl_renderer_get_cap_set(id, &max_version, &max_size);
	if (max_size == 0 || version > max_version || size != max_size) {
		return false;
	}
	memset(buf, 0, size);
	virgl_renderer_fill_caps(id, version, buf);
	return true;
}

uint32_t vmd_virgl_ctx_create(struct vmd_virgl *virgl, uint32_t ctx_id,
		const char *name) {
	int ret = virgl_renderer_context_create(ctx_id, (uint32_t)strlen(name), name);
	if (ret != 0) {
		tessera_log(TESSERA_ERROR, "CTX_CREATE: context %u: virglrenderer refused "
			"it (error %d)", ctx_id, ret);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

void vmd_virgl_ctx_destroy(struct vmd_virgl *virgl, uint32_t ctx_id) {
	virgl_renderer_context_destroy(ctx_id);
}

void vmd_virgl_ctx_attach(struct vmd_virgl *virgl, uint32_t ctx_id,
		uint32_t resource_id) {
	virgl_renderer_ctx_attach_resource((int)ctx_id, (int)resource_id);
}

void vmd_virgl_ctx_detach(struct vmd_virgl *virgl, uint32_t ctx_id,
		uint32_t resource_id) {
	virgl_renderer_ctx_detach_resource((int)ctx_id, (int)resource_id);
}

uint32_t vmd_virgl_submit(struct vmd_virgl *virgl, uint32_t ctx_id, void *buf,
		uint32_t size) {
	if (size % 4 != 0) {
		tessera_log(TESSERA_ERROR, "SUBMIT_3D: virgl context %u: %u bytes, not whole "
			"32-bit words", ctx_id, size);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	int ret = virgl_renderer_submit_cmd(buf, (int)ctx_id, (int)(size / 4));
	if (ret != 0) {
		tessera_log(TESSERA_ERROR, "SUBMIT_3D: virgl context %u: command stream of "
			"%u bytes rejected (error %d)", ctx_id, size, ret);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t vmd_virgl_resource_create(struct vmd_virgl *virgl,
		struct vmd_gpu_resource *res) {
	struct virgl_renderer_resource_create_args args = {
		.handle = res->base.id,
		.target = res->target,
		.format = res->base.format,
		.bind = res->bind,
		.width = res->base.width,
		.height = res->base.height,
		.depth = res->depth,
		.array_size = res->array_size,
		.last_level = res->last_level,
		.nr_samples = res->nr_samples,
		.flags = res->flags,
	};
	int ret = virgl_renderer_resource_create(&args, NULL, 0);
	if (ret != 0) {
		tessera_log(TESSERA_ERROR, "RESOURCE_CREATE_3D: resource %u: virglrenderer "
			"refused it (error %d)", res->base.id, ret);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	res->virgl = true;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static void detach(struct vmd_gpu_resource *res) {
	struct iovec *iov = NULL;
	int n = 0;
	virgl_renderer_resource_detach_iov((int)res->base.id, &iov, &n);
	free(res->virgl_iov);
	res->virgl_iov = NULL;
}

uint32_t vmd_virgl_resource_backing(struct vmd_virgl *virgl,
		struct vmd_gpu_resource *res) {
	if (!res->virgl) {
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	detach(res);
	if (res->base.n_extents == 0) {
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	struct iovec *iov = calloc(res->base.n_extents, sizeof(*iov));
	if (iov == NULL) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: resource %u: out of "
			"memory", res->base.id);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	for (size_t i = 0; i < res->base.n_extents; i++) {
		iov[i].iov_base = res->base.mappings[i].host;
		iov[i].iov_len = res->base.mappings[i].len;
	}
	int ret = virgl_renderer_resource_attach_iov((int)res->base.id, iov,
		(int)res->base.n_extents);
	if (ret != 0) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: resource %u: "
			"virglrenderer refused the backing (error %d)", res->base.id, ret);
		free(iov);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	res->virgl_iov = iov;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

void vmd_virgl_resource_unref(struct vmd_virgl *virgl, struct vmd_gpu_resource *res) {
	if (!res->virgl) {
		return;
	}
	detach(res);
	virgl_renderer_resource_unref(res->base.id);
	res->virgl = false;
}

uint32_t vmd_virgl_transfer(struct vmd_virgl *virgl, struct vmd_gpu_resource *res,
		const struct virtio_gpu_transfer_host_3d *cmd, bool to_host) {
	const char *what = to_host ? "TRANSFER_TO_HOST_3D" : "TRANSFER_FROM_HOST_3D";
	if (res->virgl_iov == NULL) {
		tessera_log(TESSERA_ERROR, "%s: resource %u has no backing", what,
			res->base.id);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	struct virtio_gpu_box box = cmd->box;
	int ret = to_host ?
		virgl_renderer_transfer_write_iov(res->base.id, cmd->hdr.ctx_id,
			(int)cmd->level, cmd->stride, cmd->layer_stride, as_virgl_box(&box),
			cmd->offset, NULL, 0) :
		virgl_renderer_transfer_read_iov(res->base.id, cmd->hdr.ctx_id,
			cmd->level, cmd->stride, cmd->layer_stride, as_virgl_box(&box),
			cmd->offset, NULL, 0);
	if (ret != 0) {
		tessera_log(TESSERA_ERROR, "%s: resource %u: box %ux%ux%u+%u+%u+%u level %u "
			"offset %llu refused (error %d)", what, res->base.id, box.w, box.h,
			box.d, box.x, box.y, box.z, cmd->level,
			(unsigned long long)cmd->offset, ret);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t vmd_virgl_fence(struct vmd_virgl *virgl) {
	uint32_t seq = virgl->next_seq + 1;
	if (seq == 0) {
		seq = 1;
	}
	if (virgl_renderer_create_fence((int)seq, 0) != 0) {
		tessera_log(TESSERA_ERROR, "virgl: cannot create a fence");
		return 0;
	}
	virgl->next_seq = seq;
	wl_event_source_timer_update(virgl->poll_timer, POLL_INTERVAL_MS);
	return seq;
}

bool vmd_virgl_read(struct vmd_virgl *virgl, const struct vmd_gpu_resource *res,
		uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t stride,
		void *dst, size_t dst_size) {
	/* 32-bit 2D images only (what a wire buffer shows) */
	if (!res->virgl || res->bpp != 4 || w == 0 || h == 0 ||
			(uint64_t)x + w > res->base.width || (uint64_t)y + h > res->base.height ||
			(uint64_t)stride < (uint64_t)(x + w) * 4 ||
			(uint64_t)(y + h - 1) * stride + (uint64_t)(x + w) * 4 > dst_size) {
		return false;
	}
	struct virtio_gpu_box box = { .x = x, .y = y, .z = 0, .w = w, .h = h, .d = 1 };
	struct iovec iov = { .iov_base = dst, .iov_len = dst_size };
	int ret = virgl_renderer_transfer_read_iov(res->base.id, 0, 0, stride, 0, as_virgl_box(&box),
		(uint64_t)y * stride + (uint64_t)x * 4, &iov, 1);
	if (ret != 0) {
		tessera_log(TESSERA_DEBUG, "virgl: cannot read back %ux%u+%u+%u of "
			"resource %u (error %d)", w, h, x, y, res->base.id, ret);
		return false;
	}
	return true;
}

/* The texture's EGL image exported: one plane, linear, a 32-bit RGB
 * format; false (nothing open) otherwise. */
static bool export_texture(uint32_t tex_id, struct vmd_virgl_dmabuf *out,
		const char **why) {
	EGLDisplay dpy = eglGetCurrentDisplay();
	EGLContext ctx = eglGetCurrentContext();
	if (dpy == EGL_NO_DISPLAY || ctx == EGL_NO_CONTEXT ||
			!epoxy_has_egl_extension(dpy, "EGL_MESA_image_dma_buf_export") ||
			!epoxy_has_egl_extension(dpy, "EGL_KHR_gl_texture_2D_image")) {
		*why = "no EGL_MESA_image_dma_buf_export";
		return false;
	}
	EGLImageKHR image = eglCreateImageKHR(dpy, ctx, EGL_GL_TEXTURE_2D_KHR,
		(EGLClientBuffer)(uintptr_t)tex_id, NULL);
	if (image == EGL_NO_IMAGE_KHR) {
		*why = "no EGL image of its texture";
		return false;
	}
	int fourcc = 0, planes = 0;
	EGLuint64KHR modifier = DRM_FORMAT_MOD_INVALID;
	/* arrays of one: the export writes one entry per plane, and only a
	 * single plane gets that far */
	int fds[1] = { -1 };
	EGLint strides[1] = { 0 }, offsets[1] = { 0 };
	bool ok = false;
	if (!eglExportDMABUFImageQueryMESA(dpy, image, &fourcc, &planes, NULL) ||
			planes != 1) {
		*why = "not one plane";
	} else if (!eglExportDMABUFImageQueryMESA(dpy, image, &fourcc, &planes,
			&modifier) || modifier != DRM_FORMAT_MOD_LINEAR) {
		*why = "not linear";
	} else if (fourcc != DRM_FORMAT_ARGB8888 && fourcc != DRM_FORMAT_XRGB8888) {
		*why = "not a 32-bit (A|X)RGB format";
	} else if (!eglExportDMABUFImageMESA(dpy, image, fds, strides, offsets) ||
			fds[0] < 0) {
		*why = "the export failed";
	} else {
		ok = true;
	}
	eglDestroyImageKHR(dpy, image);
	if (!ok) {
		return false;
	}
	out->fd = fds[0];
	out->fourcc = (uint32_t)fourcc;
	out->stride = strides[0] > 0 ? (uint32_t)strides[0] : 0;
	out->offset = offsets[0] > 0 ? (uint32_t)offsets[0] : 0;
	return true;
}

bool vmd_virgl_export(struct vmd_virgl *virgl, const struct vmd_gpu_resource *res,
		struct vmd_virgl_dmabuf *out) {
	/* surfaceless (llvmpipe without a render node) has no dmabufs */
	if (virgl->drm_fd < 0 || !res->virgl || res->bpp != 4 ||
			res->base.width == 0 || res->base.height == 0 ||
			(res->target != TARGET_TEXTURE_2D && res->target != TARGET_TEXTURE_RECT) ||
			res->depth > 1 || res->array_size > 1) {
		return false;
	}
	struct virgl_renderer_resource_info info;
	const char *why = "no texture";
	if (virgl_renderer_resource_get_info((int)res->base.id, &info) == 0 &&
			info.tex_id != 0 && export_texture(info.tex_id, out, &why)) {
		/* the plane must hold the resource's image */
		uint64_t need = (uint64_t)out->stride * (res->base.height - 1) +
			(uint64_t)res->base.width * 4;
		off_t size = lseek(out->fd, 0, SEEK_END);
		if (out->stride >= (uint64_t)res->base.width * 4 &&
				out->stride <= EXPORT_MAX_STRIDE && out->stride % 4 == 0 &&
				(size < 0 || (uint64_t)out->offset + need <= (uint64_t)size)) {
			return true;
		}
		why = "its plane does not hold the image";
		close(out->fd);
	}
	tessera_log(TESSERA_DEBUG, "virgl: resource %u is read back, not exported: %s",
		res->base.id, why);
	out->fd = -1;
	return false;
}
