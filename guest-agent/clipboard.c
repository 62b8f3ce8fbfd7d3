/*
 * The guest half of the user's clipboard (PROTOCOL.md §16): on the host's
 * CLIPBOARD_REQUEST the agent reads the seat's selection — a Wayland
 * client's, or an X11 client's through wlroots' Xwayland window manager,
 * which bridges the X11 CLIPBOARD selection to the seat — and sends it as
 * CLIPBOARD_DATA chunks; CLIPBOARD_PASTE chunks become a selection the
 * agent itself owns and serves to every client (X11 ones through the
 * window manager again).
 *
 * Nothing blocks: the pipes are non-blocking sources of the event loop,
 * a read takes at most one batch's worth before returning to the loop, a
 * source that stalls for AGENT_CLIPBOARD_TIMEOUT_MS or offers more than
 * the host's limit is cut off with CLIPBOARD_FAIL, and a client that does
 * not read a paste is given up on after the same time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_seat.h>

#include "agent.h"
#include "log.h"

#define AGENT_CLIPBOARD_TIMEOUT_MS 5000 /* below vmd's 10 s: the guest gives up first */
/* Chunks read per wake-up: one batch. */
#define AGENT_CLIPBOARD_READS (TESSERA_WIRE_MAX_BATCH_SIZE / TESSERA_WIRE_MAX_CLIPBOARD_CHUNK)

/* The MIME types of each wire type, the preferred one first. */
static const char *const text_types[] = {
	"text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "TEXT", "STRING", NULL,
};
static const char *const png_types[] = { "image/png", NULL };
static const char *const uri_types[] = { "text/uri-list", NULL };

static const char *const *mime_types_of(uint32_t type) {
	switch (type) {
	case TESSERA_WIRE_CLIPBOARD_TEXT: return text_types;
	case TESSERA_WIRE_CLIPBOARD_PNG: return png_types;
	case TESSERA_WIRE_CLIPBOARD_URI_LIST: return uri_types;
	default: return NULL;
	}
}

/* Bytes shared by a pasted selection and the writes to its readers. */
struct paste_data {
	int refs;
	size_t len;
	uint8_t bytes[];
};

static void paste_data_unref(struct paste_data *data) {
	if (data != NULL && --data->refs == 0) {
		free(data);
	}
}

/* One reader of a pasted selection. */
struct paste_write {
	struct wl_list link; /* agent_clipboard.writes */
	struct paste_data *data;
	size_t done;
	int fd;
	struct wl_event_source *source, *timer;
};

struct paste_source {
	struct wlr_data_source base;
	struct agent_clipboard *clipboard;
	struct paste_data *data;
};

struct agent_clipboard {
	struct agent_server *server;
	/* the copy under way */
	uint32_t copy_transfer; /* 0: none */
	uint32_t copy_type;
	uint32_t copy_limit;
	uint64_t copy_sent;
	int copy_fd;
	struct wl_event_source *copy_source, *copy_timer;
	uint8_t chunk[TESSERA_WIRE_MAX_CLIPBOARD_CHUNK];
	struct tessera_wire_msg msg; /* big: not on the stack */
	/* the paste being received */
	uint32_t paste_transfer;
	uint32_t paste_type;
	uint8_t *paste_buf;
	size_t paste_len, paste_cap;
	struct wl_list writes; /* paste_write.link */
};

/* --- copy: the guest's selection -> CLIPBOARD_DATA --- */

static void copy_end(struct agent_clipboard *cb) {
	if (cb->copy_source != NULL) {
		wl_event_source_remove(cb->copy_source);
		cb->copy_source = NULL;
	}
	if (cb->copy_timer != NULL) {
		wl_event_source_remove(cb->copy_timer);
		cb->copy_timer = NULL;
	}
	if (cb->copy_fd >= 0) {
		close(cb->copy_fd);
		cb->copy_fd = -1;
	}
	cb->copy_transfer = 0;
}

static void copy_fail(struct agent_clipboard *cb, uint32_t transfer, uint32_t reason) {
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_CLIPBOARD_FAIL,
		.clipboard_end = { .transfer = transfer, .reason = reason },
	};
	agent_host_send(&cb->server->host, &msg);
	if (transfer == cb->copy_transfer) {
		copy_end(cb);
	}
}

static bool copy_send(struct agent_clipboard *cb, const uint8_t *data, size_t len,
		bool last) {
	struct tessera_wire_msg *msg = &cb->msg;
	msg->type = TESSERA_WIRE_CLIPBOARD_DATA;
	msg->clipboard_chunk.transfer = cb->copy_transfer;
	msg->clipboard_chunk.type = cb->copy_type;
	msg->clipboard_chunk.flags = last ? TESSERA_WIRE_CLIPBOARD_LAST : 0;
	msg->clipboard_chunk.length = (uint32_t)len;
	if (len > 0) {
		memcpy(msg->clipboard_chunk.data, data, len);
	}
	return agent_host_send(&cb->server->host, msg);
}

static int handle_copy_timeout(void *data) {
	struct agent_clipboard *cb = data;
	tessera_log(TESSERA_INFO, "clipboard: the selection's source sent nothing for "
		"%d s: given up", AGENT_CLIPBOARD_TIMEOUT_MS / 1000);
	copy_fail(cb, cb->copy_transfer, TESSERA_WIRE_CLIPBOARD_TIMEOUT);
	return 0;
}

static int handle_copy_readable(int fd, uint32_t mask, void *data) {
	(void)mask;
	struct agent_clipboard *cb = data;
	for (int i = 0; i < AGENT_CLIPBOARD_READS; i++) {
		ssize_t n = read(fd, cb->chunk, sizeof(cb->chunk));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			break;
		}
		if (n < 0) {
			copy_fail(cb, cb->copy_transfer, TESSERA_WIRE_CLIPBOARD_SOURCE);
			return 0;
		}
		if (n == 0) {
			tessera_log(TESSERA_INFO, "clipboard: sent the selection to the "
				"host (%" PRIu64 " bytes)", cb->copy_sent);
			copy_send(cb, NULL, 0, true);
			copy_end(cb);
			return 0;
		}
		if (cb->copy_sent + (uint64_t)n > cb->copy_limit) {
			tessera_log(TESSERA_INFO, "clipboard: the selection is larger than "
				"the host's limit of %" PRIu32 " bytes: cut off", cb->copy_limit);
			copy_fail(cb, cb->copy_transfer, TESSERA_WIRE_CLIPBOARD_TOO_LARGE);
			return 0;
		}
		cb->copy_sent += (uint64_t)n;
		if (!copy_send(cb, cb->chunk, (size_t)n, false)) {
			copy_end(cb); /* no session: the host forgot the transfer */
			return 0;
		}
	}
	wl_event_source_timer_update(cb->copy_timer, AGENT_CLIPBOARD_TIMEOUT_MS);
	return 0;
}

/* The best MIME type of the selection among those the host asked for. */
static const char *pick_mime(struct wlr_data_source *source, uint32_t types,
		uint32_t *type) {
	static const uint32_t order[] = {
		TESSERA_WIRE_CLIPBOARD_PNG, TESSERA_WIRE_CLIPBOARD_URI_LIST,
		TESSERA_WIRE_CLIPBOARD_TEXT,
	};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(types & (1u << order[i]))) {
			continue;
		}
		for (const char *const *want = mime_types_of(order[i]); *want != NULL; want++) {
			char **offered;
			wl_array_for_each(offered, &source->mime_types) {
				if (strcmp(*offered, *want) == 0) {
					*type = order[i];
					return *offered;
				}
			}
		}
	}
	return NULL;
}

static void handle_request(struct agent_clipboard *cb,
		const struct tessera_wire_clipboard_request *req) {
	copy_end(cb); /* a newer request replaces one under way */
	struct wlr_data_source *source = cb->server->seat->selection_source;
	if (source == NULL) {
		tessera_log(TESSERA_INFO, "clipboard: the host asked for the selection; "
			"there is none");
		copy_fail(cb, req->transfer, TESSERA_WIRE_CLIPBOARD_EMPTY);
		return;
	}
	uint32_t type = 0;
	const char *mime = pick_mime(source, req->types, &type);
	if (mime == NULL) {
		tessera_log(TESSERA_INFO, "clipboard: the selection has no type the host "
			"takes");
		copy_fail(cb, req->transfer, TESSERA_WIRE_CLIPBOARD_NO_TYPE);
		return;
	}
	int fds[2];
	/* only our end is non-blocking: the client writes as it likes */
	if (pipe2(fds, O_CLOEXEC) != 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot make a pipe for the selection");
		copy_fail(cb, req->transfer, TESSERA_WIRE_CLIPBOARD_SOURCE);
		return;
	}
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot make a pipe for the selection");
		close(fds[0]);
		close(fds[1]);
		copy_fail(cb, req->transfer, TESSERA_WIRE_CLIPBOARD_SOURCE);
		return;
	}
	cb->copy_transfer = req->transfer;
	cb->copy_type = type;
	cb->copy_limit = req->limit;
	cb->copy_sent = 0;
	cb->copy_fd = fds[0];
	cb->copy_source = wl_event_loop_add_fd(cb->server->loop, fds[0],
		WL_EVENT_READABLE, handle_copy_readable, cb);
	cb->copy_timer = wl_event_loop_add_timer(cb->server->loop, handle_copy_timeout, cb);
	if (cb->copy_source == NULL || cb->copy_timer == NULL) {
		close(fds[1]);
		copy_fail(cb, req->transfer, TESSERA_WIRE_CLIPBOARD_SOURCE);
		return;
	}
	wl_event_source_timer_update(cb->copy_timer, AGENT_CLIPBOARD_TIMEOUT_MS);
	tessera_log(TESSERA_INFO, "clipboard: the host asked for the selection: "
		"reading it as %s", mime);
	wlr_data_source_send(source, mime, fds[1]); /* takes fds[1] */
}

/* --- paste: CLIPBOARD_PASTE -> a selection the agent owns --- */

static void write_end(struct paste_write *w) {
	wl_list_remove(&w->link);
	if (w->source != NULL) {
		wl_event_source_remove(w->source);
	}
	if (w->timer != NULL) {
		wl_event_source_remove(w->timer);
	}
	close(w->fd);
	paste_data_unref(w->data);
	free(w);
}

static int handle_write_timeout(void *data) {
	struct paste_write *w = data;
	tessera_log(TESSERA_INFO, "clipboard: a client stopped reading the pasted "
		"selection: given up");
	write_end(w);
	return 0;
}

static int handle_writable(int fd, uint32_t mask, void *data) {
	struct paste_write *w = data;
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		write_end(w);
		return 0;
	}
	while (w->done < w->data->len) {
		ssize_t n = write(fd, w->data->bytes + w->done, w->data->len - w->done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			wl_event_source_timer_update(w->timer, AGENT_CLIPBOARD_TIMEOUT_MS);
			return 0;
		}
		if (n <= 0) {
			break;
		}
		w->done += (size_t)n;
	}
	write_end(w);
	return 0;
}

static void source_send(struct wlr_data_source *base, const char *mime_type, int32_t fd) {
	struct paste_source *source = wl_container_of(base, source, base);
	(void)mime_type;
	struct paste_write *w = calloc(1, sizeof(*w));
	if (w == NULL || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		free(w);
		close(fd);
		return;
	}
	w->fd = fd;
	w->data = source->data;
	w->data->refs++;
	wl_list_insert(&source->clipboard->writes, &w->link);
	w->source = wl_event_loop_add_fd(source->clipboard->server->loop, fd,
		WL_EVENT_WRITABLE, handle_writable, w);
	w->timer = wl_event_loop_add_timer(source->clipboard->server->loop,
		handle_write_timeout, w);
	if (w->source == NULL || w->timer == NULL) {
		write_end(w);
		return;
	}
	wl_event_source_timer_update(w->timer, AGENT_CLIPBOARD_TIMEOUT_MS);
}

static void source_destroy(struct wlr_data_source *base) {
	struct paste_source *source = wl_container_of(base, source, base);
	paste_data_unref(source->data);
	free(source);
}

static const struct wlr_data_source_impl paste_source_impl = {
	.send = source_send,
	.destroy = source_destroy,
};

static void paste_reset(struct agent_clipboard *cb) {
	free(cb->paste_buf);
	cb->paste_buf = NULL;
	cb->paste_len = cb->paste_cap = 0;
	cb->paste_transfer = 0;
}

static void paste_offer(struct agent_clipboard *cb) {
	struct paste_source *source = calloc(1, sizeof(*source));
	struct paste_data *data = malloc(sizeof(*data) + cb->paste_len);
	if (source == NULL || data == NULL) {
		free(source);
		free(data);
		tessera_log(TESSERA_ERROR, "cannot offer the pasted selection: out of memory");
		return;
	}
	data->refs = 1;
	data->len = cb->paste_len;
	if (cb->paste_len > 0) {
		memcpy(data->bytes, cb->paste_buf, cb->paste_len);
	}
	wlr_data_source_init(&source->base, &paste_source_impl);
	source->clipboard = cb;
	source->data = data;
	for (const char *const *mime = mime_types_of(cb->paste_type); *mime != NULL; mime++) {
		char **slot = wl_array_add(&source->base.mime_types, sizeof(*slot));
		if (slot == NULL || (*slot = strdup(*mime)) == NULL) {
			if (slot != NULL) {
				source->base.mime_types.size -= sizeof(*slot);
			}
			break;
		}
	}
	tessera_log(TESSERA_INFO, "clipboard: the host pasted %zu bytes of %s: now the "
		"selection", cb->paste_len, mime_types_of(cb->paste_type)[0]);
	wlr_seat_set_selection(cb->server->seat, &source->base,
		wl_display_next_serial(cb->server->display));
}

static void handle_paste(struct agent_clipboard *cb,
		const struct tessera_wire_clipboard_chunk *chunk) {
	if (chunk->transfer != cb->paste_transfer) {
		paste_reset(cb); /* a new paste: a partial older one is dropped */
		cb->paste_transfer = chunk->transfer;
		cb->paste_type = chunk->type;
	} else if (chunk->type != cb->paste_type) {
		tessera_log(TESSERA_ERROR, "clipboard: the host changed a paste's type: "
			"dropped");
		paste_reset(cb);
		return;
	}
	if (cb->paste_len + chunk->length > TESSERA_WIRE_MAX_CLIPBOARD_SIZE) {
		tessera_log(TESSERA_ERROR, "clipboard: the host's paste is larger than "
			"%u bytes: dropped", TESSERA_WIRE_MAX_CLIPBOARD_SIZE);
		paste_reset(cb);
		cb->paste_transfer = chunk->transfer; /* ignore its rest */
		return;
	}
	if (cb->paste_len + chunk->length > cb->paste_cap) {
		size_t cap = cb->paste_cap < 65536 ? 65536 : cb->paste_cap;
		while (cap < cb->paste_len + chunk->length) {
			cap *= 2;
		}
		uint8_t *buf = realloc(cb->paste_buf, cap);
		if (buf == NULL) {
			tessera_log(TESSERA_ERROR, "cannot receive the host's paste: out of memory");
			paste_reset(cb);
			return;
		}
		cb->paste_buf = buf;
		cb->paste_cap = cap;
	}
	memcpy(cb->paste_buf + cb->paste_len, chunk->data, chunk->length);
	cb->paste_len += chunk->length;
	if (chunk->flags & TESSERA_WIRE_CLIPBOARD_LAST) {
		paste_offer(cb);
		uint32_t transfer = cb->paste_transfer;
		paste_reset(cb);
		cb->paste_transfer = transfer;
	}
}

/* --- events, lifecycle --- */

void agent_clipboard_handle_event(struct agent_server *server,
		const struct tessera_wire_msg *msg) {
	struct agent_clipboard *cb = server->clipboard;
	if (cb == NULL) {
		return;
	}
	switch (msg->type) {
	case TESSERA_WIRE_CLIPBOARD_REQUEST:
		handle_request(cb, &msg->clipboard_request);
		break;
	case TESSERA_WIRE_CLIPBOARD_PASTE:
		handle_paste(cb, &msg->clipboard_chunk);
		break;
	case TESSERA_WIRE_CLIPBOARD_CANCEL:
		if (msg->clipboard_end.transfer == cb->copy_transfer) {
			tessera_log(TESSERA_INFO, "clipboard: the host cancelled the copy "
				"(reason %" PRIu32 ")", msg->clipboard_end.reason);
			copy_end(cb);
		}
		if (msg->clipboard_end.transfer == cb->paste_transfer) {
			paste_reset(cb);
		}
		break;
	default:
		break;
	}
}

void agent_clipboard_session_lost(struct agent_server *server) {
	struct agent_clipboard *cb = server->clipboard;
	if (cb != NULL) {
		copy_end(cb);
		paste_reset(cb);
	}
}

bool agent_clipboard_init(struct agent_server *server) {
	struct agent_clipboard *cb = calloc(1, sizeof(*cb));
	if (cb == NULL) {
		return false;
	}
	cb->server = server;
	cb->copy_fd = -1;
	wl_list_init(&cb->writes);
	server->clipboard = cb;
	return true;
}

void agent_clipboard_finish(struct agent_server *server) {
	struct agent_clipboard *cb = server->clipboard;
	if (cb == NULL) {
		return;
	}
	copy_end(cb);
	paste_reset(cb);
	struct paste_write *w, *tmp;
	wl_list_for_each_safe(w, tmp, &cb->writes, link) {
		write_end(w);
	}
	free(cb);
	server->clipboard = NULL;
}
