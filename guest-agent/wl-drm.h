/*
 * wl_drm (protocol/wayland-drm.xml) in the agent, for the guest's Mesa: a
 * GL client with virgl (the device offers the capsets VIRGL and VIRGL2)
 * needs it to find the render node, and hands over its buffers with
 * create_prime_buffer (virgl's buffers have no modifier, which linux-dmabuf
 * would need). The buffers are linux-dmabuf's (common/wlr/linux-dmabuf.h),
 * forwarded as every client dmabuf of the device is. Only created when the
 * guest has a render node.
 */
#ifndef TESSERA_AGENT_WL_DRM_H
#define TESSERA_AGENT_WL_DRM_H

#include <stdbool.h>

struct wl_display;
struct tessera_linux_dmabuf;

/* false: out of memory; no render node is no error (no global). */
bool agent_wl_drm_create(struct wl_display *display, struct tessera_linux_dmabuf *dmabuf);

#endif
