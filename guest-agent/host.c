/*
 * The session with the host (PROTOCOL.md §4, §8, §9): connect and
 * reconnect, batches of requests, the event ring and the WAIT doorbell.
 *
 * Requests are queued into one batch and submitted at the end of the
 * dispatch (an idle source), so that a client's commit and everything it
 * implies travel in one SUBMIT_3D. One fenced WAIT is kept armed; when it
 * completes, the ring is drained, the events are dispatched and a new WAIT
 * goes out with whatever was queued meanwhile.
 *
 * When the host goes away (transport lost, a fatal ERROR, a broken ring)
 * every host-side object is forgotten (client buffers are released, frame
 * callbacks keep waiting) and the agent reconnects on a timer; at the new
 * session every surface is re-created with its role, state and buffer.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"

static void host_session_lost(struct agent_host *host, const char *why);

bool agent_host_ready(const struct agent_host *host) {
	return host->connected;
}

uint32_t agent_host_new_surface_id(struct agent_host *host) {
	return ++host->next_surface_id;
}

uint32_t agent_host_new_buffer_id(struct agent_host *host) {
	return ++host->next_buffer_id;
}

static bool host_submit(struct agent_host *host, bool wait) {
	if (!host->connected) {
		return false;
	}
	if (wait) {
		struct tessera_wire_msg msg = { .type = TESSERA_WIRE_WAIT };
		if (tessera_wire_encode(&host->writer, &msg, NULL) != TESSERA_WIRE_ERROR_NONE) {
			/* full: send what is there first */
			if (agent_transport_submit(host->transport, host->writer.data,
					host->writer.len, false) != 0) {
				host_session_lost(host, agent_transport_error(host->transport));
				return false;
			}
			tessera_wire_writer_init(&host->writer, host->batch,
				TESSERA_WIRE_MAX_BATCH_SIZE);
			tessera_wire_encode(&host->writer, &msg, NULL);
		}
	} else if (host->writer.len == 0) {
		return true;
	}
	int ret = agent_transport_submit(host->transport, host->writer.data,
		host->writer.len, wait);
	tessera_wire_writer_init(&host->writer, host->batch, TESSERA_WIRE_MAX_BATCH_SIZE);
	if (ret != 0) {
		host_session_lost(host, agent_transport_error(host->transport));
		return false;
	}
	return true;
}

void agent_host_flush(struct agent_host *host) {
	host_submit(host, false);
}

static void handle_flush_idle(void *data) {
	struct agent_host *host = data;
	host->flush_idle = NULL;
	agent_surfaces_sample(host->server);
	host_submit(host, false);
}

bool agent_host_send(struct agent_host *host, const struct tessera_wire_msg *msg) {
	if (!host->connected) {
		return false;
	}
	struct tessera_wire_error err = {0};
	enum tessera_wire_error_code code = tessera_wire_encode(&host->writer, msg, &err);
	if (code == TESSERA_WIRE_ERROR_NO_SPACE) {
		if (!host_submit(host, false)) {
			return false;
		}
		code = tessera_wire_encode(&host->writer, msg, &err);
	}
	if (code != TESSERA_WIRE_ERROR_NONE) {
		/* the agent built an invalid message: a bug, not the client's */
		tessera_log(TESSERA_ERROR, "cannot encode %s: %s: %s",
			tessera_wire_type_name(msg->type), err.field ? err.field : "?",
			err.reason ? err.reason : tessera_wire_error_code_name(code));
		return false;
	}
	if (host->flush_idle == NULL) {
		host->flush_idle = wl_event_loop_add_idle(host->server->loop,
			handle_flush_idle, host);
	}
	return true;
}

/* ---- events ---- */

static void handle_keymap(struct agent_host *host, const struct tessera_wire_keymap *ev) {
	struct agent_resource *res = &host->keymap_res;
	if (ev->resource != res->id || ev->size > AGENT_KEYMAP_AREA_SIZE ||
			ev->size > res->size || ev->size == 0) {
		tessera_log(TESSERA_ERROR, "host KEYMAP: resource %" PRIu32 " size %" PRIu32
			" does not match the keymap area", ev->resource, ev->size);
		return;
	}
	const char *text = res->data;
	if (text[ev->size - 1] != '\0') {
		tessera_log(TESSERA_ERROR, "host KEYMAP: the keymap is not NUL-terminated");
	} else {
		char *copy = malloc(ev->size);
		if (copy != NULL) {
			memcpy(copy, text, ev->size);
			agent_seat_keymap(host->server, copy, ev->size - 1);
			free(copy);
		}
	}
	struct tessera_wire_msg msg = {
		.type = TESSERA_WIRE_SET_KEYMAP_AREA,
		.area = { .resource = res->id, .size = AGENT_KEYMAP_AREA_SIZE, .offset = 0 },
	};
	agent_host_send(host, &msg);
}

static void handle_release(struct agent_host *host,
		const struct tessera_wire_buffer_release *ev) {
	if (ev->release_point <= host->last_release_point) {
		tessera_log(TESSERA_ERROR, "host BUFFER_RELEASE of buffer %" PRIu32 ": release point %"
			PRIu64 " does not increase (last %" PRIu64 ")", ev->buffer,
			ev->release_point, host->last_release_point);
	}
	host->last_release_point = ev->release_point;
	host->server->stats.releases++;
	agent_buffer_handle_release(host->server, ev->buffer);
}

/* Returns false if the session ended. */
static bool dispatch_event(struct agent_host *host, const struct tessera_wire_msg *msg) {
	struct agent_server *server = host->server;
	switch (msg->type) {
	case TESSERA_WIRE_HELLO_REPLY:
		if (msg->hello_reply.version != TESSERA_WIRE_VERSION ||
				(msg->hello_reply.features & ~(TESSERA_WIRE_FEATURE_CLIPBOARD |
					TESSERA_WIRE_FEATURE_SHARE)) != 0) {
			tessera_log(TESSERA_ERROR, "host replied version %" PRIu32 " features 0x%" PRIx64
				": not what this agent offered (version 1, CLIPBOARD and SHARE)",
				msg->hello_reply.version, msg->hello_reply.features);
			host_session_lost(host, "unusable HELLO_REPLY");
			return false;
		}
		host->running = true;
		host->features = msg->hello_reply.features;
		tessera_log(TESSERA_INFO, "host session %" PRIu32 " running (protocol version %" PRIu32 ")",
			host->sessions, msg->hello_reply.version);
		return true;
	case TESSERA_WIRE_ERROR: {
		const struct tessera_wire_error_event *e = &msg->error;
		bool fatal = tessera_wire_error_is_fatal(e->code);
		tessera_log(fatal ? TESSERA_ERROR : TESSERA_INFO, "host %s %s (%" PRIu32 ") on %s object %"
			PRIu32 ": %s", fatal ? "fatal error" : "notice",
			tessera_wire_error_code_name(e->code) ? tessera_wire_error_code_name(e->code) : "?",
			e->code, e->request_type ? (tessera_wire_type_name(e->request_type) ?
			tessera_wire_type_name(e->request_type) : "?") : "-", e->object, e->message);
		if (fatal) {
			host_session_lost(host, "fatal error from the host");
			return false;
		}
		return true;
	}
	case TESSERA_WIRE_KEYMAP:
		handle_keymap(host, &msg->keymap);
		return true;
	case TESSERA_WIRE_OUTPUT:
		agent_output_handle(server, &msg->output);
		return true;
	case TESSERA_WIRE_OUTPUT_REMOVE:
		agent_output_remove(server, msg->output_remove.output);
		return true;
	case TESSERA_WIRE_SURFACE_ENTER:
	case TESSERA_WIRE_SURFACE_LEAVE:
		agent_surface_handle_output(server, &msg->surface_output,
			msg->type == TESSERA_WIRE_SURFACE_ENTER);
		return true;
	case TESSERA_WIRE_FRAME_DONE:
		agent_surface_handle_frame_done(server, &msg->frame_done);
		return true;
	case TESSERA_WIRE_PRESENTED:
		agent_surface_handle_presented(server, &msg->presented);
		return true;
	case TESSERA_WIRE_BUFFER_RELEASE:
		handle_release(host, &msg->buffer_release);
		return true;
	case TESSERA_WIRE_CONFIGURE:
		agent_surface_handle_configure(server, &msg->configure);
		return true;
	case TESSERA_WIRE_CLOSE:
		agent_surface_handle_close(server, msg->close.surface);
		return true;
	case TESSERA_WIRE_POPUP_CONFIGURE:
		agent_surface_handle_popup_configure(server, &msg->popup_configure);
		return true;
	case TESSERA_WIRE_POPUP_REPOSITIONED:
		return true; /* the agent never repositions (xdg_wm_base v2) */
	case TESSERA_WIRE_POPUP_DONE:
		agent_surface_handle_popup_done(server, msg->popup_done.surface);
		return true;
	case TESSERA_WIRE_SHARE_OFFER:
		agent_share_handle_offer(server, &msg->share_offer);
		return true;
	case TESSERA_WIRE_SHARE_END:
		agent_share_handle_end(server, msg->share_end.share);
		return true;
	case TESSERA_WIRE_SHARE_FRAME:
		agent_share_handle_frame(server, &msg->share_frame);
		return true;
	case TESSERA_WIRE_CLIPBOARD_REQUEST:
	case TESSERA_WIRE_CLIPBOARD_PASTE:
	case TESSERA_WIRE_CLIPBOARD_CANCEL:
		agent_clipboard_handle_event(server, msg);
		return true;
	default:
		agent_seat_handle_event(server, msg);
		return true;
	}
}

static void drain_ring(struct agent_host *host) {
	struct tessera_wire_msg msg;
	while (host->connected && tessera_wire_ring_reader_next(&host->ring, &msg)) {
		if (!dispatch_event(host, &msg)) {
			return;
		}
	}
	if (!host->connected) {
		return;
	}
	if (host->ring.error.code != TESSERA_WIRE_ERROR_NONE) {
		tessera_log(TESSERA_ERROR, "event ring corrupt: %s: %s",
			host->ring.error.field ? host->ring.error.field : "?",
			host->ring.error.reason ? host->ring.error.reason : "?");
		host_session_lost(host, "corrupt event ring");
		return;
	}
	uint32_t status = tessera_wire_ring_reader_status(&host->ring);
	if (status != 0) {
		tessera_log(TESSERA_ERROR, "the host ended the session: %s (%" PRIu32 ")",
			tessera_wire_error_code_name(status) ? tessera_wire_error_code_name(status) : "?",
			status);
		host_session_lost(host, "session ended by the host");
	}
}

static void handle_doorbell(void *data) {
	struct agent_host *host = data;
	if (!host->connected) {
		return;
	}
	drain_ring(host);
	if (!host->connected) {
		return;
	}
	agent_surfaces_sample(host->server);
	host_submit(host, true);
}

static void handle_lost(void *data) {
	struct agent_host *host = data;
	host_session_lost(host, agent_transport_error(host->transport));
}

/* ---- connection ---- */

static int handle_reconnect_timer(void *data);

static void schedule_reconnect(struct agent_host *host) {
	if (host->reconnect_timer == NULL) {
		host->reconnect_timer = wl_event_loop_add_timer(host->server->loop,
			handle_reconnect_timer, host);
	}
	if (host->reconnect_timer != NULL) {
		wl_event_source_timer_update(host->reconnect_timer, AGENT_RECONNECT_MS);
	}
}

static bool host_connect(struct agent_host *host) {
	struct agent_transport *t = host->transport;
	if (agent_transport_connect(t) != 0) {
		if (!host->logged_waiting) {
			tessera_log(TESSERA_INFO, "waiting for the host (%s): %s",
				agent_transport_describe(t), agent_transport_error(t));
			host->logged_waiting = true;
		}
		return false;
	}
	host->logged_waiting = false;
	uint64_t ring_size = TESSERA_WIRE_RING_HEADER_SIZE + AGENT_RING_DATA_SIZE;
	if (agent_transport_resource_create(t, ring_size, &host->ring_res) != 0 ||
			agent_transport_resource_create(t, AGENT_KEYMAP_AREA_SIZE,
				&host->keymap_res) != 0) {
		tessera_log(TESSERA_ERROR, "cannot create the event ring and keymap resources: %s",
			agent_transport_error(t));
		agent_transport_disconnect(t);
		memset(&host->ring_res, 0, sizeof(host->ring_res));
		memset(&host->keymap_res, 0, sizeof(host->keymap_res));
		return false;
	}
	if (!tessera_wire_ring_format(host->ring_res.data, ring_size) ||
			!tessera_wire_ring_reader_init(&host->ring, host->ring_res.data, ring_size)) {
		tessera_log(TESSERA_ERROR, "cannot format the event ring");
		agent_transport_disconnect(t);
		return false;
	}
	host->sessions++;
	host->connected = true;
	host->running = false;
	host->last_release_point = 0;
	tessera_wire_writer_init(&host->writer, host->batch, TESSERA_WIRE_MAX_BATCH_SIZE);
	struct tessera_wire_msg hello = {
		.type = TESSERA_WIRE_HELLO,
		.hello = { .max_version = TESSERA_WIRE_VERSION, .min_version = TESSERA_WIRE_VERSION,
			.features = TESSERA_WIRE_FEATURE_CLIPBOARD | TESSERA_WIRE_FEATURE_SHARE },
	};
	struct tessera_wire_msg ring = {
		.type = TESSERA_WIRE_EVENT_RING,
		.area = { .resource = host->ring_res.id, .size = (uint32_t)ring_size },
	};
	struct tessera_wire_msg keymap = {
		.type = TESSERA_WIRE_SET_KEYMAP_AREA,
		.area = { .resource = host->keymap_res.id, .size = AGENT_KEYMAP_AREA_SIZE },
	};
	agent_host_send(host, &hello);
	agent_host_send(host, &ring);
	agent_host_send(host, &keymap);
	tessera_log(TESSERA_INFO, "connected to the host through %s (session %" PRIu32 ")",
		agent_transport_describe(t), host->sessions);
	agent_surfaces_session_start(host->server);
	return host_submit(host, true);
}

static int handle_reconnect_timer(void *data) {
	struct agent_host *host = data;
	if (!host->connected && !host_connect(host) && !host->connected) {
		schedule_reconnect(host);
	}
	return 0;
}

static void host_session_lost(struct agent_host *host, const char *why) {
	if (!host->connected) {
		return;
	}
	tessera_log(TESSERA_ERROR, "lost the host (%s): %s; reconnecting every %d ms",
		agent_transport_describe(host->transport), why ? why : "?",
		AGENT_RECONNECT_MS);
	host->connected = false;
	host->running = false;
	tessera_wire_writer_init(&host->writer, host->batch, TESSERA_WIRE_MAX_BATCH_SIZE);
	if (host->flush_idle != NULL) {
		wl_event_source_remove(host->flush_idle);
		host->flush_idle = NULL;
	}
	agent_transport_disconnect(host->transport);
	memset(&host->ring_res, 0, sizeof(host->ring_res));
	memset(&host->keymap_res, 0, sizeof(host->keymap_res));
	agent_seat_session_lost(host->server);
	agent_clipboard_session_lost(host->server);
	agent_buffers_session_lost(host->server);
	agent_surfaces_session_lost(host->server);
	agent_shares_session_lost(host->server);
	schedule_reconnect(host);
}

void agent_host_start(struct agent_host *host) {
	if (!host_connect(host) && !host->connected) {
		schedule_reconnect(host);
	}
}

bool agent_host_init(struct agent_host *host, struct agent_server *server,
		const char *transport_spec) {
	static const struct agent_transport_events events = {
		.doorbell = handle_doorbell,
		.lost = handle_lost,
	};
	*host = (struct agent_host){ .server = server };
	host->batch = malloc(TESSERA_WIRE_MAX_BATCH_SIZE);
	if (host->batch == NULL) {
		tessera_log(TESSERA_ERROR, "out of memory");
		return false;
	}
	tessera_wire_writer_init(&host->writer, host->batch, TESSERA_WIRE_MAX_BATCH_SIZE);
	char err[256] = "";
	host->transport = agent_transport_create(server->loop, transport_spec,
		&events, host, err, sizeof(err));
	if (host->transport == NULL) {
		tessera_log(TESSERA_ERROR, "--transport %s: %s", transport_spec, err);
		free(host->batch);
		host->batch = NULL;
		return false;
	}
	return true;
}

void agent_host_finish(struct agent_host *host) {
	if (host->flush_idle != NULL) {
		wl_event_source_remove(host->flush_idle);
		host->flush_idle = NULL;
	}
	if (host->reconnect_timer != NULL) {
		wl_event_source_remove(host->reconnect_timer);
		host->reconnect_timer = NULL;
	}
	host->connected = false;
	agent_transport_destroy(host->transport);
	host->transport = NULL;
	free(host->batch);
	host->batch = NULL;
}
