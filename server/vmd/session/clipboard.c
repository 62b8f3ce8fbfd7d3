/*
 * The user's clipboard transfers of one VM (PROTOCOL.md §16, protocol/
 * tessera-vmd-clipboard-v1.xml): tessera asks for the guest's selection
 * (copy) or hands bytes to offer it (paste), each through a pipe; this
 * part turns them into CLIPBOARD_REQUEST / CLIPBOARD_PASTE events of the
 * context that announced the CLIPBOARD feature and its CLIPBOARD_DATA /
 * CLIPBOARD_FAIL requests back into pipe bytes.
 *
 * Nothing here blocks: the pipes are non-blocking sources of the event
 * loop, a paste goes into the ring only as far as the ring has room (the
 * rest after the guest's next batch), everything is cut at the VM's
 * clipboard-max, and a transfer without progress for
 * VMD_CLIPBOARD_TIMEOUT_MS ends with TIMEOUT on both sides.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "log.h"
#include "tessera-vmd-clipboard-v1-client-protocol.h"

#define VMD_CLIPBOARD_TIMEOUT_MS 10000

enum transfer_kind { COPY, PASTE };

struct vmd_clipboard;

struct transfer {
	enum transfer_kind kind;
	struct vmd_clipboard *clipboard;
	bool active;
	uint32_t host_id; /* tessera's id */
	uint32_t wire_id; /* CLIPBOARD_REQUEST / CLIPBOARD_PASTE .transfer */
	struct vmd_ctx *ctx;
	uint32_t types; /* copy: the mask asked for */
	uint32_t type; /* the data's type, 0 while unknown */
	uint32_t limit; /* bytes at most */
	int fd;
	struct wl_event_source *fd_source;
	uint8_t *buf;
	size_t len, cap;
	size_t done; /* copy: of buf, written into the pipe; paste: sent to the guest */
	uint64_t received; /* copy: bytes from the guest */
	bool complete; /* copy: LAST received; paste: the pipe's end read */
	struct wl_event_source *timer;
};

struct vmd_clipboard {
	struct vmd_session *session;
	struct transfer copy, paste;
	uint32_t next_wire_id;
	struct tessera_wire_msg event; /* a paste chunk (big: not on the stack) */
};

static struct tessera_vmd_clipboard_v1 *proxy(struct vmd_clipboard *clipboard) {
	struct vmd_wayland *wayland = clipboard->session->wayland;
	return wayland->broken ? NULL : wayland->clipboard;
}

static void transfer_reset(struct transfer *t) {
	if (t->fd_source != NULL) {
		wl_event_source_remove(t->fd_source);
	}
	if (t->timer != NULL) {
		wl_event_source_remove(t->timer);
	}
	if (t->fd >= 0) {
		close(t->fd);
	}
	free(t->buf);
	enum transfer_kind kind = t->kind;
	struct vmd_clipboard *clipboard = t->clipboard;
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->clipboard = clipboard;
	t->fd = -1;
}

static void send_failed(struct vmd_clipboard *clipboard, enum transfer_kind kind,
		uint32_t id, uint32_t reason, const char *message) {
	struct tessera_vmd_clipboard_v1 *p = proxy(clipboard);
	if (p == NULL) {
		return;
	}
	if (kind == COPY) {
		tessera_vmd_clipboard_v1_copy_failed(p, id, reason, message);
	} else {
		tessera_vmd_clipboard_v1_paste_failed(p, id, reason, message);
	}
}

/* Ends a transfer that failed: tessera hears why, the guest (when it
 * takes part) gets CLIPBOARD_CANCEL. */
static void transfer_fail(struct transfer *t, uint32_t reason, bool tell_guest,
		const char *message) {
	if (!t->active) {
		return;
	}
	if (tell_guest && t->ctx != NULL && reason >= 1 &&
			reason <= TESSERA_WIRE_CLIPBOARD_REASON_MAX) {
		struct tessera_wire_msg event = {
			.type = TESSERA_WIRE_CLIPBOARD_CANCEL,
			.clipboard_end = { .transfer = t->wire_id, .reason = reason },
		};
		vmd_ctx_emit(t->ctx, &event);
	}
	uint32_t id = t->host_id;
	enum transfer_kind kind = t->kind;
	transfer_reset(t);
	send_failed(t->clipboard, kind, id, reason, message);
}

static int handle_timeout(void *data) {
	struct transfer *t = data;
	vmd_session_log(t->clipboard->session, TESSERA_ERROR, "clipboard %s: no progress "
		"for %d s: given up", t->kind == COPY ? "copy" : "paste",
		VMD_CLIPBOARD_TIMEOUT_MS / 1000);
	transfer_fail(t, TESSERA_WIRE_CLIPBOARD_TIMEOUT, true, "no progress: timed out");
	return 0;
}

static void progress(struct transfer *t) {
	if (t->timer != NULL) {
		wl_event_source_timer_update(t->timer, VMD_CLIPBOARD_TIMEOUT_MS);
	}
}

/* The context that takes clipboard transfers: the newest running one that
 * announced the feature. */
static struct vmd_ctx *clipboard_ctx(struct vmd_session *session) {
	struct vmd_ctx *ctx, *found = NULL;
	wl_list_for_each(ctx, &session->contexts, link) {
		if (ctx->state == VMD_CTX_RUNNING && !ctx->fatal &&
				(ctx->features & TESSERA_WIRE_FEATURE_CLIPBOARD)) {
			found = ctx;
		}
	}
	return found;
}

static bool transfer_start(struct vmd_clipboard *clipboard, struct transfer *t,
		uint32_t id, int fd, uint32_t limit, bool allowed) {
	struct vmd_session *session = clipboard->session;
	uint32_t reason = 0;
	const char *message = NULL;
	struct vmd_ctx *ctx = NULL;
	if (!allowed) {
		reason = TESSERA_VMD_CLIPBOARD_V1_REASON_POLICY;
		message = "the VM's clipboard setting forbids it";
	} else if (t->active) {
		reason = TESSERA_VMD_CLIPBOARD_V1_REASON_BUSY;
		message = "another transfer is under way";
	} else if ((ctx = clipboard_ctx(session)) == NULL) {
		reason = TESSERA_VMD_CLIPBOARD_V1_REASON_NO_AGENT;
		message = "no guest session with the clipboard feature";
	} else if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		reason = TESSERA_VMD_CLIPBOARD_V1_REASON_SOURCE;
		message = "cannot make the pipe non-blocking";
	}
	if (reason != 0) {
		vmd_session_log(session, TESSERA_INFO, "clipboard %s %u refused: %s",
			t->kind == COPY ? "copy" : "paste", id, message);
		close(fd);
		send_failed(clipboard, t->kind, id, reason, message);
		return false;
	}
	t->active = true;
	t->ctx = ctx;
	t->host_id = id;
	t->wire_id = ++clipboard->next_wire_id;
	t->fd = fd;
	t->limit = limit;
	t->timer = wl_event_loop_add_timer(session->wayland->loop, handle_timeout, t);
	progress(t);
	return true;
}

/* Room for n more bytes in t's buffer, which never exceeds t's limit. */
static bool reserve(struct transfer *t, size_t n) {
	if (t->len + n <= t->cap) {
		return true;
	}
	size_t cap = t->cap < 65536 ? 65536 : t->cap;
	while (cap < t->len + n) {
		cap *= 2;
	}
	if (cap > (size_t)t->limit + TESSERA_WIRE_MAX_CLIPBOARD_CHUNK) {
		cap = (size_t)t->limit + TESSERA_WIRE_MAX_CLIPBOARD_CHUNK;
	}
	uint8_t *buf = realloc(t->buf, cap);
	if (buf == NULL) {
		return false;
	}
	t->buf = buf;
	t->cap = cap;
	return true;
}

/* --- copy: guest -> pipe --- */

static void copy_write(struct transfer *t);

static int handle_copy_writable(int fd, uint32_t mask, void *data) {
	(void)fd;
	struct transfer *t = data;
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		vmd_session_log(t->clipboard->session, TESSERA_INFO,
			"clipboard copy: tessera closed the pipe");
		transfer_fail(t, TESSERA_WIRE_CLIPBOARD_CANCELLED, true, "the pipe was closed");
		return 0;
	}
	copy_write(t);
	return 0;
}

/* Writes what the pipe takes; finishes the transfer when all is out. */
static void copy_write(struct transfer *t) {
	while (t->done < t->len) {
		ssize_t n = write(t->fd, t->buf + t->done, t->len - t->done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			if (t->fd_source == NULL) {
				t->fd_source = wl_event_loop_add_fd(
					t->clipboard->session->wayland->loop, t->fd,
					WL_EVENT_WRITABLE, handle_copy_writable, t);
			}
			return;
		}
		if (n <= 0) {
			transfer_fail(t, TESSERA_WIRE_CLIPBOARD_CANCELLED, true,
				"cannot write into the pipe");
			return;
		}
		t->done += (size_t)n;
		progress(t);
	}
	/* everything so far is out: the buffer starts again */
	t->len = t->done = 0;
	if (t->fd_source != NULL) {
		wl_event_source_remove(t->fd_source);
		t->fd_source = NULL;
	}
	if (t->complete) {
		struct vmd_clipboard *clipboard = t->clipboard;
		uint32_t id = t->host_id, type = t->type;
		uint64_t received = t->received;
		transfer_reset(t); /* closes the pipe before copy_done */
		vmd_session_log(clipboard->session, TESSERA_INFO,
			"clipboard copy %u: %llu bytes of type %u from the guest", id,
			(unsigned long long)received, type);
		struct tessera_vmd_clipboard_v1 *p = proxy(clipboard);
		if (p != NULL) {
			tessera_vmd_clipboard_v1_copy_done(p, id, type);
		}
	}
}

static void handle_copy(void *data, uint32_t id, uint32_t types, uint32_t max_size,
		int fd) {
	struct vmd_clipboard *clipboard = data;
	struct vmd_session *session = clipboard->session;
	uint64_t policy = session->limits.clipboard;
	uint32_t limit = max_size;
	if (limit == 0 || limit > session->limits.clipboard_max) {
		limit = (uint32_t)session->limits.clipboard_max;
	}
	types &= TESSERA_WIRE_CLIPBOARD_TYPES_ALL;
	if (types == 0) {
		types = TESSERA_WIRE_CLIPBOARD_TYPES_ALL;
	}
	struct transfer *t = &clipboard->copy;
	if (!transfer_start(clipboard, t, id, fd, limit,
			policy == TESSERA_VM_CLIPBOARD_COPY_PASTE ||
			policy == TESSERA_VM_CLIPBOARD_COPY)) {
		return;
	}
	t->types = types;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_CLIPBOARD_REQUEST,
		.clipboard_request = { .transfer = t->wire_id, .types = types, .limit = limit },
	};
	vmd_session_log(session, TESSERA_DEBUG, "clipboard copy %u: asking context %u "
		"(transfer %u, at most %u bytes)", id, t->ctx->ctx_id, t->wire_id, limit);
	vmd_ctx_emit(t->ctx, &event);
}

/* Whether a request names the current transfer; false after an error. */
static bool names_transfer(struct vmd_clipboard *clipboard, struct vmd_ctx *ctx,
		uint32_t transfer, const char *field, bool *current) {
	struct transfer *t = &clipboard->copy;
	*current = t->active && t->ctx == ctx && transfer == t->wire_id;
	if (!*current && (transfer > clipboard->next_wire_id ||
			(clipboard->paste.active && transfer == clipboard->paste.wire_id))) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_STATE, transfer, field,
			"transfer %u is no copy the host asked for", transfer);
		return false;
	}
	return true; /* when not current: the rest of a transfer that ended */
}

static bool handle_data(struct vmd_clipboard *clipboard, struct vmd_ctx *ctx,
		const struct tessera_wire_clipboard_chunk *chunk) {
	struct transfer *t = &clipboard->copy;
	bool current;
	if (!names_transfer(clipboard, ctx, chunk->transfer, "CLIPBOARD_DATA.transfer",
			&current)) {
		return false;
	}
	if (!current) {
		return true;
	}
	if (!(t->types & (1u << chunk->type)) || (t->type != 0 && t->type != chunk->type)) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VALUE, chunk->transfer,
			"CLIPBOARD_DATA.type", "type %u was not asked for, or changed",
			chunk->type);
		transfer_fail(t, TESSERA_WIRE_CLIPBOARD_CANCELLED, false,
			"the guest sent a type that was not asked for");
		return false;
	}
	t->type = chunk->type;
	if (t->received + chunk->length > t->limit) {
		vmd_session_log(clipboard->session, TESSERA_ERROR, "clipboard copy from VM "
			"%s cut off at its clipboard-max of %u bytes",
			clipboard->session->vm_name, t->limit);
		transfer_fail(t, TESSERA_WIRE_CLIPBOARD_TOO_LARGE, true,
			"more than the VM's clipboard-max");
		return true;
	}
	if (!reserve(t, chunk->length)) {
		transfer_fail(t, TESSERA_WIRE_CLIPBOARD_CANCELLED, true, "out of memory");
		return true;
	}
	memcpy(t->buf + t->len, chunk->data, chunk->length);
	t->len += chunk->length;
	t->received += chunk->length;
	t->complete = (chunk->flags & TESSERA_WIRE_CLIPBOARD_LAST) != 0;
	progress(t);
	if (t->fd_source == NULL) {
		copy_write(t);
	}
	return true;
}

static bool handle_fail(struct vmd_clipboard *clipboard, struct vmd_ctx *ctx,
		const struct tessera_wire_clipboard_end *end) {
	bool current;
	if (!names_transfer(clipboard, ctx, end->transfer, "CLIPBOARD_FAIL.transfer",
			&current)) {
		return false;
	}
	if (current) {
		static const char *const reasons[] = {
			[TESSERA_WIRE_CLIPBOARD_EMPTY] = "the guest has no selection",
			[TESSERA_WIRE_CLIPBOARD_NO_TYPE] = "the guest's selection has no "
				"text, PNG or URI list",
			[TESSERA_WIRE_CLIPBOARD_TOO_LARGE] = "the guest's selection is "
				"larger than the VM's clipboard-max",
			[TESSERA_WIRE_CLIPBOARD_SOURCE] = "the guest's source failed",
			[TESSERA_WIRE_CLIPBOARD_TIMEOUT] = "the guest's source timed out",
			[TESSERA_WIRE_CLIPBOARD_CANCELLED] = "the guest cancelled",
		};
		vmd_session_log(clipboard->session, TESSERA_INFO, "clipboard copy %u: %s",
			clipboard->copy.host_id, reasons[end->reason]);
		transfer_fail(&clipboard->copy, end->reason, false, reasons[end->reason]);
	}
	return true;
}

bool vmd_clipboard_handle(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg) {
	struct vmd_clipboard *clipboard = ctx->session->clipboard;
	if (clipboard == NULL || !(ctx->features & TESSERA_WIRE_FEATURE_CLIPBOARD)) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_UNKNOWN_TYPE, 0, "session",
			"%s without the CLIPBOARD feature", tessera_wire_type_name(msg->type));
		return false;
	}
	if (msg->type == TESSERA_WIRE_CLIPBOARD_DATA) {
		return handle_data(clipboard, ctx, &msg->clipboard_chunk);
	}
	return handle_fail(clipboard, ctx, &msg->clipboard_end);
}

/* --- paste: pipe -> guest --- */

static int handle_paste_readable(int fd, uint32_t mask, void *data) {
	struct transfer *t = data;
	(void)mask;
	for (int i = 0; i < 64; i++) {
		if (!reserve(t, TESSERA_WIRE_MAX_CLIPBOARD_CHUNK)) {
			transfer_fail(t, TESSERA_WIRE_CLIPBOARD_CANCELLED, false, "out of memory");
			return 0;
		}
		ssize_t n = read(fd, t->buf + t->len, TESSERA_WIRE_MAX_CLIPBOARD_CHUNK);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			return 0;
		}
		if (n < 0) {
			transfer_fail(t, TESSERA_WIRE_CLIPBOARD_CANCELLED, false,
				"cannot read the pipe");
			return 0;
		}
		if (n == 0) {
			wl_event_source_remove(t->fd_source);
			t->fd_source = NULL;
			close(t->fd);
			t->fd = -1;
			if (t->len != t->limit) {
				transfer_fail(t, TESSERA_WIRE_CLIPBOARD_CANCELLED, false,
					"the pipe ended before the size announced");
				return 0;
			}
			t->complete = true;
			vmd_clipboard_pump(t->clipboard);
			return 0;
		}
		t->len += (size_t)n;
		progress(t);
		if (t->len > t->limit) {
			transfer_fail(t, TESSERA_WIRE_CLIPBOARD_TOO_LARGE, false,
				"more bytes than announced");
			return 0;
		}
	}
	return 0;
}

static void handle_paste(void *data, uint32_t id, uint32_t type, uint32_t size, int fd) {
	struct vmd_clipboard *clipboard = data;
	struct vmd_session *session = clipboard->session;
	struct transfer *t = &clipboard->paste;
	uint64_t policy = session->limits.clipboard;
	if (type < 1 || type > TESSERA_WIRE_CLIPBOARD_TYPE_MAX) {
		close(fd);
		send_failed(clipboard, PASTE, id, TESSERA_VMD_CLIPBOARD_V1_REASON_NO_TYPE,
			"unknown type");
		return;
	}
	if (size > session->limits.clipboard_max) {
		vmd_session_log(session, TESSERA_INFO, "clipboard paste %u refused: %u bytes, "
			"over the VM's clipboard-max of %llu", id, size,
			(unsigned long long)session->limits.clipboard_max);
		close(fd);
		send_failed(clipboard, PASTE, id, TESSERA_VMD_CLIPBOARD_V1_REASON_TOO_LARGE,
			"over the VM's clipboard-max");
		return;
	}
	if (!transfer_start(clipboard, t, id, fd, size,
			policy == TESSERA_VM_CLIPBOARD_COPY_PASTE ||
			policy == TESSERA_VM_CLIPBOARD_PASTE)) {
		return;
	}
	t->type = type;
	t->fd_source = wl_event_loop_add_fd(session->wayland->loop, fd, WL_EVENT_READABLE,
		handle_paste_readable, t);
	if (t->fd_source == NULL) {
		transfer_fail(t, TESSERA_WIRE_CLIPBOARD_CANCELLED, false,
			"cannot watch the pipe");
	}
}

/* Sends what the ring takes of a paste read whole. */
void vmd_clipboard_pump(struct vmd_clipboard *clipboard) {
	if (clipboard == NULL) {
		return;
	}
	struct transfer *t = &clipboard->paste;
	if (!t->active || !t->complete) {
		return;
	}
	/* a quarter of the ring stays free for the other events */
	uint32_t reserve_bytes = t->ctx->ring.writer.data_size / 4;
	uint32_t chunk = t->ctx->ring.writer.data_size / 4;
	if (chunk > TESSERA_WIRE_MAX_CLIPBOARD_CHUNK) {
		chunk = TESSERA_WIRE_MAX_CLIPBOARD_CHUNK;
	}
	struct tessera_wire_msg *event = &clipboard->event;
	do {
		size_t n = t->len - t->done < chunk ? t->len - t->done : chunk;
		bool last = t->done + n == t->len;
		event->type = TESSERA_WIRE_CLIPBOARD_PASTE;
		event->clipboard_chunk.transfer = t->wire_id;
		event->clipboard_chunk.type = t->type;
		event->clipboard_chunk.flags = last ? TESSERA_WIRE_CLIPBOARD_LAST : 0;
		event->clipboard_chunk.length = (uint32_t)n;
		memcpy(event->clipboard_chunk.data, t->buf + t->done, n);
		if (!vmd_ctx_emit_if_room(t->ctx, event, reserve_bytes)) {
			return; /* more after the guest's next batch */
		}
		t->done += n;
		progress(t);
		if (last) {
			uint32_t id = t->host_id;
			vmd_session_log(clipboard->session, TESSERA_INFO,
				"clipboard paste %u: %zu bytes of type %u to the guest", id,
				t->len, t->type);
			transfer_reset(t);
			struct tessera_vmd_clipboard_v1 *p = proxy(clipboard);
			if (p != NULL) {
				tessera_vmd_clipboard_v1_paste_done(p, id);
			}
			return;
		}
	} while (true);
}

void vmd_clipboard_ctx_gone(struct vmd_clipboard *clipboard, struct vmd_ctx *ctx) {
	if (clipboard == NULL) {
		return;
	}
	struct transfer *transfers[] = { &clipboard->copy, &clipboard->paste };
	for (size_t i = 0; i < 2; i++) {
		if (transfers[i]->active && transfers[i]->ctx == ctx) {
			transfers[i]->ctx = NULL;
			transfer_fail(transfers[i], TESSERA_VMD_CLIPBOARD_V1_REASON_NO_AGENT,
				false, "the guest session ended");
		}
	}
}

static const struct vmd_wayland_clipboard_handler clipboard_handler = {
	.copy = handle_copy,
	.paste = handle_paste,
};

struct vmd_clipboard *vmd_clipboard_create(struct vmd_session *session) {
	struct vmd_clipboard *clipboard = calloc(1, sizeof(*clipboard));
	if (clipboard == NULL) {
		return NULL;
	}
	clipboard->session = session;
	clipboard->copy.kind = COPY;
	clipboard->copy.clipboard = clipboard;
	clipboard->copy.fd = -1;
	clipboard->paste.kind = PASTE;
	clipboard->paste.clipboard = clipboard;
	clipboard->paste.fd = -1;
	if (session->wayland->loop != NULL) {
		vmd_wayland_set_clipboard_handler(session->wayland, &clipboard_handler,
			clipboard);
	}
	return clipboard;
}

void vmd_clipboard_destroy(struct vmd_clipboard *clipboard) {
	if (clipboard == NULL) {
		return;
	}
	if (clipboard->session->wayland->clipboard_data == clipboard) {
		vmd_wayland_set_clipboard_handler(clipboard->session->wayland, NULL, NULL);
	}
	transfer_fail(&clipboard->copy, TESSERA_VMD_CLIPBOARD_V1_REASON_NO_AGENT, false,
		"the guest's device went away");
	transfer_fail(&clipboard->paste, TESSERA_VMD_CLIPBOARD_V1_REASON_NO_AGENT, false,
		"the guest's device went away");
	free(clipboard);
}
