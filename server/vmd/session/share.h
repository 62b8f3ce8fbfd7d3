/*
 * Window sharing, the receiving VM's side (share.c, PROTOCOL.md §17):
 * shares tessera offers this VM (tessera_vmd_share_v1) become SHARE_OFFER
 * and SHARE_END events for the contexts that enabled the feature SHARE;
 * the guest's SHARE_BUFFER hands a buffer to tessera, which fills it
 * (SHARE_FRAME).
 */
#ifndef TESSERA_VMD_SESSION_SHARE_H
#define TESSERA_VMD_SESSION_SHARE_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-util.h>

#include "tessera-wire.h"

struct vmd_buffer;
struct vmd_ctx;
struct vmd_session;

/* Shares offered to one VM at once (tessera's limit, all VMs, is 16). */
#define VMD_SHARE_MAX_SHARES 16
/* Buffers of one share in tessera's hands (tessera's limit too). */
#define VMD_SHARE_MAX_BUFFERS 8

/* On the connection to tessera (vmd_wayland.shares): it outlives the
 * sessions (a device reset makes a new one), and so do the shares offered. */
struct vmd_shares {
	struct vmd_session *session; /* the current one, NULL between two */
	struct wl_list offers; /* share_offer.link */
	struct wl_list slots; /* share_slot.link: buffers handed to tessera */
	uint32_t next_cookie;
	bool listening;
};

void vmd_session_share_init(struct vmd_session *session);
void vmd_session_share_finish(struct vmd_session *session);

/* The features this host enables for a HELLO that offered these. */
uint64_t vmd_share_features(struct vmd_session *session, uint64_t offered);
/* After the greeting: the shares offered so far. */
void vmd_ctx_share_greet(struct vmd_ctx *ctx);
/* SHARE_BUFFER; false after a fatal error. */
bool vmd_ctx_share_buffer(struct vmd_ctx *ctx, const struct tessera_wire_share_buffer *req);
/* The buffer goes: tessera's copy of its wl_buffer goes with it. */
void vmd_share_buffer_gone(struct vmd_buffer *buffer);

#endif
