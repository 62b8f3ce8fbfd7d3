/*
 * GPU acceleration for the guest's Mesa: virglrenderer inside tessera-vmd.
 *
 * virglrenderer runs the guest's Gallium command streams (SUBMIT_3D of a
 * virgl context) with the host's OpenGL: EGL on the GBM device of a DRM
 * render node (render-node = PATH, else the first render node present),
 * else EGL surfaceless (Mesa's llvmpipe). It is one state per process: one
 * struct vmd_virgl per daemon.
 *
 * Fences: vmd_virgl_fence() queues a fence behind everything submitted so
 * far and returns its sequence number; retired() is called from the event
 * loop (never inside a vmd_virgl call) with the highest sequence number
 * done, in order. Nothing here waits for the GPU.
 *
 * Everything passed in comes from the guest; virglrenderer checks command
 * streams, transfer boxes and resource parameters itself and answers
 * errors, which are returned as virtio-gpu response codes.
 */
#ifndef TESSERA_VMD_VIRGL_H
#define TESSERA_VMD_VIRGL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_gpu.h>

#include "resource.h"

struct wl_event_loop;
struct vmd_virgl;

/* The values of the gpu setting (vm-settings.h). */
enum vmd_gpu_mode {
	VMD_GPU_AUTO = 0, /* virgl when virglrenderer initialises */
	VMD_GPU_VIRGL = 1, /* virgl, or the daemon does not start */
	VMD_GPU_OFF = 2, /* no capsets: only the wire protocol context */
};

/* Capsets offered: VIRGL and VIRGL2. */
#define VMD_VIRGL_NUM_CAPSETS 2

struct vmd_virgl_options {
	/* DRM render node for EGL on GBM; NULL or "": the first one present,
	 * else EGL surfaceless */
	const char *render_node;
	void (*retired)(void *data, uint32_t seq);
	void *data;
};

/* NULL (and a log line saying why) if virglrenderer does not initialise. */
struct vmd_virgl *vmd_virgl_create(struct wl_event_loop *loop,
	const struct vmd_virgl_options *options);
void vmd_virgl_destroy(struct vmd_virgl *virgl);

/* EGL on a render node's GBM device (not surfaceless). */
bool vmd_virgl_render_node(const struct vmd_virgl *virgl);

/* "EGL on GBM (/dev/dri/renderD128), <renderer>" or "EGL surfaceless, ..." */
const char *vmd_virgl_describe(const struct vmd_virgl *virgl);

/* Capset index (0 .. VMD_VIRGL_NUM_CAPSETS - 1): id, version, size. */
void vmd_virgl_capset_info(struct vmd_virgl *virgl, uint32_t index,
	uint32_t *id, uint32_t *max_version, uint32_t *max_size);
/* Fills size bytes of capset id; false if id/version is not offered or
 * size is not the capset's size. */
bool vmd_virgl_capset(struct vmd_virgl *virgl, uint32_t id, uint32_t version,
	void *buf, uint32_t size);

/* Each returns VIRTIO_GPU_RESP_OK_NODATA or an error response type (and
 * logs why). */
uint32_t vmd_virgl_ctx_create(struct vmd_virgl *virgl, uint32_t ctx_id,
	const char *name);
void vmd_virgl_ctx_destroy(struct vmd_virgl *virgl, uint32_t ctx_id);
void vmd_virgl_ctx_attach(struct vmd_virgl *virgl, uint32_t ctx_id,
	uint32_t resource_id);
void vmd_virgl_ctx_detach(struct vmd_virgl *virgl, uint32_t ctx_id,
	uint32_t resource_id);
uint32_t vmd_virgl_submit(struct vmd_virgl *virgl, uint32_t ctx_id,
	void *buf, uint32_t size);

/* virglrenderer storage for a checked RESOURCE_CREATE_3D (res already in
 * the table); res->virgl is set on success. */
uint32_t vmd_virgl_resource_create(struct vmd_virgl *virgl,
	struct vmd_gpu_resource *res);
/* The resource's backing (host mappings) handed to virglrenderer again,
 * after ATTACH_BACKING or a remap; none: detached. */
uint32_t vmd_virgl_resource_backing(struct vmd_virgl *virgl,
	struct vmd_gpu_resource *res);
void vmd_virgl_resource_unref(struct vmd_virgl *virgl,
	struct vmd_gpu_resource *res);
uint32_t vmd_virgl_transfer(struct vmd_virgl *virgl,
	struct vmd_gpu_resource *res, const struct virtio_gpu_transfer_host_3d *cmd,
	bool to_host);

/* Reads the w x h rectangle at x, y of res's image (level 0) into dst, laid
 * out with stride from pixel (0, 0): what a wire buffer of the resource
 * shows. false if res has no 32-bit virgl image or the rectangle is not
 * inside it and dst. */
bool vmd_virgl_read(struct vmd_virgl *virgl, const struct vmd_gpu_resource *res,
	uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t stride,
	void *dst, size_t dst_size);

/* A virgl resource's image as one dmabuf plane (linear). */
struct vmd_virgl_dmabuf {
	int fd;
	uint32_t fourcc; /* DRM_FORMAT_ARGB8888 or XRGB8888 */
	uint32_t stride, offset;
};

/* Exports res's image (level 0, 32-bit 2D) as a dmabuf from the render
 * node's EGL (EGL_MESA_image_dma_buf_export), without a copy: true with
 * out->fd open (the caller closes it). false (nothing open; logged at
 * debug level) without a render node (surfaceless), or if the image is
 * not one linear plane of 4-byte pixels: then it is read back. */
bool vmd_virgl_export(struct vmd_virgl *virgl, const struct vmd_gpu_resource *res,
	struct vmd_virgl_dmabuf *out);

/* Queues a fence behind the work submitted so far: its sequence number
 * (retired() reports it), or 0 on failure (nothing to wait for). */
uint32_t vmd_virgl_fence(struct vmd_virgl *virgl);

#endif
