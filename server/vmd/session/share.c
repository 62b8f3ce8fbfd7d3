/*
 * Window sharing, the receiving VM's side (PROTOCOL.md §17): tessera
 * offers a share of another VM's window (tessera_vmd_share_v1.offer); the
 * contexts that enabled the feature SHARE hear of it (SHARE_OFFER); the
 * guest hands buffers over (SHARE_BUFFER), which go to tessera as their
 * tessera_guest_memory_v1 wl_buffers (add_buffer, the only kind tessera
 * writes into); tessera copies a frame into one (filled) and the guest
 * learns which (SHARE_FRAME). Every value from the guest is checked here;
 * tessera checks again what it is handed.
 */
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "import.h"
#include "log.h"
#include "share.h"
#include "tessera-vmd-share-v1-client-protocol.h"

struct share_offer {
	struct wl_list link; /* vmd_shares.offers */
	uint32_t id;
	int32_t width, height;
	char *description;
};

/* A guest buffer handed to tessera (once: it keeps it until the share ends
 * or the buffer goes; held tells whether it is in tessera's hands now). */
struct share_slot {
	struct wl_list link; /* vmd_shares.slots */
	uint32_t share;
	uint32_t cookie;
	struct vmd_buffer *buffer;
	bool held;
};

static struct share_offer *offer_find(struct vmd_shares *shares, uint32_t id) {
	struct share_offer *offer;
	wl_list_for_each(offer, &shares->offers, link) {
		if (offer->id == id) {
			return offer;
		}
	}
	return NULL;
}

static bool ctx_takes_shares(struct vmd_ctx *ctx) {
	return ctx->state == VMD_CTX_RUNNING && !ctx->fatal &&
		(ctx->features & TESSERA_WIRE_FEATURE_SHARE);
}

static void emit_offer(struct vmd_ctx *ctx, const struct share_offer *offer) {
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_SHARE_OFFER,
		.share_offer = {
			.share = offer->id,
			.width = (uint32_t)offer->width,
			.height = (uint32_t)offer->height,
		},
	};
	/* cleaned by tessera already; cut to the wire's limit */
	size_t len = strlen(offer->description);
	if (len > TESSERA_WIRE_MAX_TITLE_LENGTH) {
		len = TESSERA_WIRE_MAX_TITLE_LENGTH;
		while (len > 0 && ((unsigned char)offer->description[len] & 0xc0) == 0x80) {
			len--; /* not in the middle of a character */
		}
	}
	memcpy(event.share_offer.description, offer->description, len);
	event.share_offer.description[len] = '\0';
	event.share_offer.length = (uint32_t)len;
	vmd_ctx_emit(ctx, &event);
}

static void slot_destroy(struct share_slot *slot) {
	wl_list_remove(&slot->link);
	free(slot);
}

/* ---- from tessera ---- */

static void handle_offer(void *data, struct tessera_vmd_share_v1 *proxy, uint32_t id,
		int32_t width, int32_t height, const char *description) {
	struct vmd_shares *shares = data;
	struct vmd_session *session = shares->session;
	if (id == 0 || width < 1 || height < 1 || width > TESSERA_WIRE_MAX_DIMENSION ||
			height > TESSERA_WIRE_MAX_DIMENSION) {
		tessera_log(TESSERA_ERROR, "cannot take share %u: size %dx%d out of range", id,
			width, height);
		return;
	}
	struct share_offer *offer = offer_find(shares, id);
	if (offer == NULL) {
		if ((size_t)wl_list_length(&shares->offers) >= VMD_SHARE_MAX_SHARES) {
			tessera_log(TESSERA_ERROR, "cannot take share %u: %d shares offered already",
				id, VMD_SHARE_MAX_SHARES);
			return;
		}
		offer = calloc(1, sizeof(*offer));
		if (offer == NULL) {
			return;
		}
		offer->id = id;
		wl_list_insert(shares->offers.prev, &offer->link);
	}
	char *copy = strdup(description);
	if (copy == NULL) {
		return;
	}
	free(offer->description);
	offer->description = copy;
	offer->width = width;
	offer->height = height;
	tessera_log(TESSERA_INFO, "share %u offered: %dx%d", id, width, height);
	if (session == NULL) {
		return; /* the next session's contexts hear of it at their greeting */
	}
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		if (ctx_takes_shares(ctx)) {
			emit_offer(ctx, offer);
		}
	}
}

static void handle_end(void *data, struct tessera_vmd_share_v1 *proxy, uint32_t id) {
	struct vmd_shares *shares = data;
	struct vmd_session *session = shares->session;
	struct share_offer *offer = offer_find(shares, id);
	if (offer == NULL) {
		return;
	}
	struct share_slot *slot, *tmp;
	wl_list_for_each_safe(slot, tmp, &shares->slots, link) {
		if (slot->share == id) {
			slot_destroy(slot);
		}
	}
	struct vmd_ctx *ctx;
	if (session != NULL) {
		wl_list_for_each(ctx, &session->contexts, link) {
			if (ctx_takes_shares(ctx)) {
				vmd_ctx_emit(ctx, &(struct tessera_wire_msg){
					.type = TESSERA_WIRE_SHARE_END,
					.share_end = { .share = id },
				});
			}
		}
	}
	tessera_log(TESSERA_INFO, "share %u ended", id);
	wl_list_remove(&offer->link);
	free(offer->description);
	free(offer);
}

static struct share_slot *slot_by_cookie(struct vmd_shares *shares, uint32_t share,
		uint32_t cookie) {
	struct share_slot *slot;
	wl_list_for_each(slot, &shares->slots, link) {
		if (slot->share == share && slot->cookie == cookie) {
			return slot;
		}
	}
	return NULL;
}

static int32_t clamp_dim(int32_t v) {
	return v < 0 ? 0 : v > TESSERA_WIRE_MAX_DIMENSION ? TESSERA_WIRE_MAX_DIMENSION : v;
}

static void handle_filled(void *data, struct tessera_vmd_share_v1 *proxy, uint32_t share,
		uint32_t cookie, int32_t x, int32_t y, int32_t width, int32_t height) {
	struct vmd_shares *shares = data;
	struct vmd_session *session = shares->session;
	if (session == NULL) {
		return;
	}
	struct share_slot *slot = slot_by_cookie(shares, share, cookie);
	if (slot == NULL || !slot->held) {
		return;
	}
	slot->held = false;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_SHARE_FRAME,
		.share_frame = {
			.share = share,
			.buffer = slot->buffer->id,
			.x = clamp_dim(x),
			.y = clamp_dim(y),
		},
	};
	event.share_frame.width = clamp_dim(width);
	event.share_frame.height = clamp_dim(height);
	if (event.share_frame.x + event.share_frame.width > TESSERA_WIRE_MAX_DIMENSION ||
			event.share_frame.y + event.share_frame.height > TESSERA_WIRE_MAX_DIMENSION) {
		event.share_frame.x = event.share_frame.y = 0;
	}
	/* tessera's copy into this VM's memory, counted as this VM's copies */
	session->stats.bytes_copied += (uint64_t)event.share_frame.width *
		(uint64_t)event.share_frame.height * 4;
	vmd_ctx_emit(slot->buffer->ctx, &event);
}

static void handle_failed(void *data, struct tessera_vmd_share_v1 *proxy, uint32_t share,
		uint32_t cookie, const char *reason) {
	struct vmd_shares *shares = data;
	struct vmd_session *session = shares->session;
	if (session == NULL) {
		return;
	}
	struct share_slot *slot = slot_by_cookie(shares, share, cookie);
	if (slot == NULL) {
		return;
	}
	vmd_ctx_error(slot->buffer->ctx, TESSERA_WIRE_ERROR_BUFFER_FAILED, slot->buffer->id,
		"SHARE_BUFFER.buffer", "tessera cannot fill buffer %u: %.128s",
		slot->buffer->id, reason);
	slot_destroy(slot);
}

static const struct tessera_vmd_share_v1_listener share_listener = {
	.offer = handle_offer,
	.end = handle_end,
	.filled = handle_filled,
	.failed = handle_failed,
};

/* ---- the session ---- */

void vmd_session_share_init(struct vmd_session *session) {
	struct vmd_wayland *wayland = session->wayland;
	if (wayland->shares == NULL) {
		wayland->shares = calloc(1, sizeof(*wayland->shares));
		if (wayland->shares == NULL) {
			return; /* no sharing: the feature is not enabled */
		}
		wl_list_init(&wayland->shares->offers);
		wl_list_init(&wayland->shares->slots);
		if (wayland->share != NULL) {
			tessera_vmd_share_v1_add_listener(wayland->share, &share_listener,
				wayland->shares);
			wayland->shares->listening = true;
		}
	}
	wayland->shares->session = session;
}

void vmd_session_share_finish(struct vmd_session *session) {
	struct vmd_shares *shares = session->wayland->shares;
	if (shares == NULL || shares->session != session) {
		return;
	}
	/* the session's buffers went with its contexts, and their slots */
	struct share_slot *slot, *tmp;
	wl_list_for_each_safe(slot, tmp, &shares->slots, link) {
		slot_destroy(slot);
	}
	shares->session = NULL;
}

void vmd_shares_destroy(struct vmd_shares *shares) {
	if (shares == NULL) {
		return;
	}
	struct share_slot *slot, *tmp;
	wl_list_for_each_safe(slot, tmp, &shares->slots, link) {
		slot_destroy(slot);
	}
	struct share_offer *offer, *otmp;
	wl_list_for_each_safe(offer, otmp, &shares->offers, link) {
		wl_list_remove(&offer->link);
		free(offer->description);
		free(offer);
	}
	free(shares);
}

uint64_t vmd_share_features(struct vmd_session *session, uint64_t offered) {
	struct vmd_shares *shares = session->wayland->shares;
	return shares != NULL && shares->listening ? offered & TESSERA_WIRE_FEATURE_SHARE : 0;
}

void vmd_ctx_share_greet(struct vmd_ctx *ctx) {
	if (!ctx_takes_shares(ctx)) {
		return;
	}
	struct share_offer *offer;
	wl_list_for_each(offer, &ctx->session->wayland->shares->offers, link) {
		emit_offer(ctx, offer);
	}
}

/* Makes a zero-copy import of the buffer a tessera_guest_memory_v1 one:
 * the kind tessera can write into. */
static bool ensure_gmem(struct vmd_buffer *buffer) {
	if (buffer->kind == VMD_BUFFER_GMEM) {
		return true;
	}
	const struct vmd_resource *res = vmd_buffer_backing(buffer);
	if (buffer->kind != VMD_BUFFER_UDMABUF || res == NULL || res->host_storage) {
		return false;
	}
	struct wl_buffer *old = buffer->wl_buffer;
	buffer->wl_buffer = NULL;
	if (!vmd_gmem_import(buffer, res)) {
		buffer->wl_buffer = old; /* still a udmabuf */
		return false;
	}
	wl_buffer_destroy(old);
	vmd_udmabuf_release_budget(buffer);
	return true;
}

bool vmd_ctx_share_buffer(struct vmd_ctx *ctx, const struct tessera_wire_share_buffer *req) {
	struct vmd_session *session = ctx->session;
	if (!(ctx->features & TESSERA_WIRE_FEATURE_SHARE)) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_UNKNOWN_TYPE, 0, "type",
			"SHARE_BUFFER without the feature SHARE");
		return false;
	}
	struct vmd_shares *shares = session->wayland->shares; /* the feature needs it */
	struct share_offer *offer = offer_find(shares, req->share);
	struct vmd_buffer *buffer = vmd_id_map_get(&ctx->buffers, req->buffer);
	if (buffer == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_NO_OBJECT, req->buffer,
			"SHARE_BUFFER.buffer", "no buffer %u", req->buffer);
		return false;
	}
	if (offer == NULL) {
		return true; /* ended while the request was on its way */
	}
	if (buffer->format != TESSERA_WIRE_FORMAT_XRGB8888 &&
			buffer->format != TESSERA_WIRE_FORMAT_ARGB8888) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, req->buffer, "SHARE_BUFFER.buffer",
			"buffer %u is not XRGB8888 or ARGB8888", req->buffer);
		return false;
	}
	if (buffer->width != (uint32_t)offer->width ||
			buffer->height != (uint32_t)offer->height) {
		return true; /* of a size the share had before its latest offer */
	}
	if (buffer->busy) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_STATE, req->buffer, "SHARE_BUFFER.buffer",
			"buffer %u is busy as a commit's buffer", req->buffer);
		return false;
	}
	size_t count = 0;
	struct share_slot *slot, *found = NULL;
	wl_list_for_each(slot, &shares->slots, link) {
		if (slot->buffer == buffer && slot->share == req->share) {
			found = slot;
		}
		count += slot->share == req->share && slot->buffer->ctx == ctx;
	}
	if (found != NULL && found->held) {
		return true; /* in tessera's hands already */
	}
	if (found == NULL && count >= VMD_SHARE_MAX_BUFFERS) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_LIMIT, req->buffer, "SHARE_BUFFER",
			"%d buffers of share %u are handed over already", VMD_SHARE_MAX_BUFFERS,
			req->share);
		return false;
	}
	if (!ensure_gmem(buffer) || buffer->wl_buffer == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_BUFFER_FAILED, req->buffer,
			"SHARE_BUFFER.buffer", "buffer %u cannot be handed to the compositor "
			"(it is not in guest memory it can map)", req->buffer);
		return true;
	}
	if (found == NULL) {
		found = calloc(1, sizeof(*found));
		if (found == NULL) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_HOST, req->buffer, "SHARE_BUFFER",
				"out of memory");
			return false;
		}
		found->share = req->share;
		found->cookie = ++shares->next_cookie;
		found->buffer = buffer;
		wl_list_insert(shares->slots.prev, &found->link);
	}
	found->held = true;
	tessera_vmd_share_v1_add_buffer(session->wayland->share, req->share, found->cookie,
		buffer->wl_buffer);
	return true;
}

void vmd_share_buffer_gone(struct vmd_buffer *buffer) {
	struct vmd_shares *shares = buffer->ctx->session->wayland->shares;
	if (shares == NULL) {
		return;
	}
	struct share_slot *slot, *tmp;
	wl_list_for_each_safe(slot, tmp, &shares->slots, link) {
		if (slot->buffer == buffer) {
			slot_destroy(slot);
		}
	}
}
