#ifndef TESSERA_LINUX_DMABUF_H
#define TESSERA_LINUX_DMABUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * zwp_linux_dmabuf_v1 (version 3) for renderers that import no dmabufs
 * (wlroots 0.15's pixman renderer): a CPU import. Each buffer's fd is
 * mapped read-only and the renderer reads the mapping in place (no copy),
 * with DMA_BUF_IOCTL_SYNC around every read. Only created when the renderer
 * offers no dmabuf texture formats; with a GPU renderer wlroots' own
 * linux-dmabuf is used.
 *
 * Accepted: single-plane ARGB8888 / XRGB8888 with DRM_FORMAT_MOD_LINEAR.
 * Accepted fds: real dmabufs (dmabuf filesystem), and memfds sealed with
 * F_SEAL_SHRINK (so that no mapped page can vanish: no SIGBUS), which
 * carry no DMA_BUF_IOCTL_SYNC (ENOTTY, tolerated for them only). Anything
 * else fails the import.
 */

#define TESSERA_DMABUF_MAX_DIMENSION 8192
#define TESSERA_DMABUF_MAX_STRIDE 32768
#define TESSERA_DMABUF_MAX_BUFFER_BYTES (UINT64_C(256) << 20) /* mapped per buffer */
#define TESSERA_DMABUF_MAX_CLIENT_BUFFERS 1024 /* live buffers per client */
#define TESSERA_DMABUF_MAX_CLIENT_BYTES (UINT64_C(4) << 30) /* mapped per client */
#define TESSERA_DMABUF_MAX_PARAMS 64 /* live params objects per client */

struct wl_display;
struct wl_resource;
struct wlr_buffer;
struct tessera_linux_dmabuf;

struct tessera_linux_dmabuf_stats {
	size_t live_buffers;
	uint64_t bytes_mapped;
	uint64_t buffers_created;
	uint64_t imports_failed;
	uint64_t bytes_copied; /* always 0: nothing is copied */
};

/* Creates the global; torn down with the server's wl_display. */
struct tessera_linux_dmabuf *tessera_linux_dmabuf_create(struct wl_display *display);
void tessera_linux_dmabuf_get_stats(const struct tessera_linux_dmabuf *dmabuf,
	struct tessera_linux_dmabuf_stats *stats);

/*
 * A buffer of one LINEAR plane (fd, taken: closed on failure), checked and
 * imported as a zwp_linux_buffer_params_v1 create would, as the wl_buffer
 * id of resource's client: for wl_drm's create_prime_buffer (the agent's
 * guest-agent/wl-drm.c). A violation is posted as an error of resource.
 */
bool tessera_linux_dmabuf_create_prime(struct tessera_linux_dmabuf *dmabuf,
	struct wl_resource *resource, uint32_t id, int fd, int32_t width,
	int32_t height, uint32_t format, uint32_t offset, uint32_t stride);

/* What a buffer of this implementation is made of (the agent forwards
 * dmabufs of its virtio-gpu device by their fd). */
struct tessera_linux_dmabuf_buffer_info {
	int fd; /* owned by the buffer */
	bool is_dmabuf; /* a real dmabuf (else a sealed memfd) */
	uint32_t format; /* DRM fourcc */
	int width, height;
	uint32_t offset, stride;
	uint64_t size; /* bytes mapped, from offset 0 of the fd */
};
/* false if wlr_buffer is not one of ours (or NULL). */
bool tessera_linux_dmabuf_buffer_get(struct wlr_buffer *wlr_buffer,
	struct tessera_linux_dmabuf_buffer_info *info);

#endif
