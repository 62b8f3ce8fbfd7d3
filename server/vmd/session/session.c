/*
 * The wire protocol session of tessera-vmd (session.h, PROTOCOL.md):
 * contexts, batch decoding and dispatch, errors, teardown, counters.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "log.h"
#include "surface.h"

/* Contexts with a live wire session at the same time. */
#define VMD_MAX_CONTEXTS 8
/* Error log lines per VM before they are only counted. */
#define VMD_MAX_ERROR_LOGS 64

/* --- logging and errors --- */

void vmd_session_log(struct vmd_session *session, int importance,
		const char *fmt, ...) {
	char text[512];
	va_list args;
	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	tessera_log(importance, "vm '%s': %s", session->vm_name, text);
}

static bool error_log_allowed(struct vmd_session *session) {
	session->errors_logged++;
	if (session->errors_logged == VMD_MAX_ERROR_LOGS + 1) {
		vmd_session_log(session, TESSERA_ERROR,
			"more than %d guest errors: further ones are only counted",
			VMD_MAX_ERROR_LOGS);
	}
	return session->errors_logged <= VMD_MAX_ERROR_LOGS;
}

void vmd_ctx_error(struct vmd_ctx *ctx, uint32_t code, uint32_t object,
		const char *field, const char *fmt, ...) {
	struct vmd_session *session = ctx->session;
	bool fatal = tessera_wire_error_is_fatal(code);
	if (fatal && ctx->fatal) {
		return; /* the first fatal error is the one reported */
	}
	char reason[256];
	va_list args;
	va_start(args, fmt);
	vsnprintf(reason, sizeof(reason), fmt, args);
	va_end(args);
	char raw[TESSERA_WIRE_MAX_ERROR_MESSAGE_LENGTH * 2];
	snprintf(raw, sizeof(raw), "%s: %s", field, reason);

	session->stats.errors++;
	if (error_log_allowed(session)) {
		const char *type = tessera_wire_type_name(ctx->msg_type);
		vmd_session_log(session, fatal ? TESSERA_ERROR : TESSERA_INFO,
			"context %u: %s %s (%s at batch offset %zu, object %u)%s",
			ctx->ctx_id, tessera_wire_error_code_name(code), raw,
			type != NULL ? type : "no request", ctx->msg_offset, object,
			fatal ? ": session ended" : "");
	}

	struct tessera_wire_msg *event = calloc(1, sizeof(*event));
	if (event != NULL) {
		event->type = TESSERA_WIRE_ERROR;
		event->error.code = code;
		event->error.request_type = ctx->msg_type;
		event->error.object = object;
		event->error.offset = ctx->msg_offset > UINT32_MAX ?
			UINT32_MAX : (uint32_t)ctx->msg_offset;
		event->error.message_length = (uint32_t)tessera_wire_sanitize_string(
			event->error.message, TESSERA_WIRE_MAX_ERROR_MESSAGE_LENGTH, raw);
		vmd_ctx_emit(ctx, event);
		free(event);
	}
	if (fatal) {
		ctx->fatal = true;
		vmd_ctx_ring_fail(ctx, code);
		vmd_session_schedule_doorbell(session);
	}
}

const struct vmd_resource *vmd_session_get_resource(struct vmd_session *session,
		uint32_t id) {
	if (id == 0 || session->device->get_resource == NULL) {
		return NULL;
	}
	return session->device->get_resource(session->device_data, id);
}

struct tessera_memory_table *vmd_session_memory(struct vmd_session *session) {
	if (session->device->memory == NULL) {
		return NULL;
	}
	return session->device->memory(session->device_data);
}

/* --- contexts --- */

static struct vmd_ctx *find_ctx(struct vmd_session *session, uint32_t ctx_id) {
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		if (ctx->ctx_id == ctx_id) {
			return ctx;
		}
	}
	return NULL;
}

static bool is_dead(struct vmd_session *session, uint32_t ctx_id) {
	for (size_t i = 0; i < session->n_dead; i++) {
		if (session->dead[i] == ctx_id) {
			return true;
		}
	}
	return false;
}

static void add_dead(struct vmd_session *session, uint32_t ctx_id) {
	if (is_dead(session, ctx_id)) {
		return;
	}
	if (session->n_dead < VMD_MAX_DEAD_CONTEXTS) {
		session->dead[session->n_dead++] = ctx_id;
	} else {
		session->dead[session->next_dead] = ctx_id;
		session->next_dead = (session->next_dead + 1) % VMD_MAX_DEAD_CONTEXTS;
	}
}

static void remove_dead(struct vmd_session *session, uint32_t ctx_id) {
	for (size_t i = 0; i < session->n_dead; i++) {
		if (session->dead[i] == ctx_id) {
			session->dead[i] = session->dead[--session->n_dead];
			session->next_dead = 0;
			return;
		}
	}
}

/* A context that failed before it had a ring: nothing can be written. */
static enum vmd_submit_result fail_early(struct vmd_session *session,
		uint32_t ctx_id, const struct tessera_wire_error *err,
		uint32_t code, const char *field, const char *reason) {
	session->stats.errors++;
	if (error_log_allowed(session)) {
		vmd_session_log(session, TESSERA_ERROR,
			"context %u: %s %s: %s (before the event ring exists; "
			"the submission is refused)", ctx_id,
			tessera_wire_error_code_name(err != NULL ? err->code : code),
			err != NULL ? err->field : field,
			err != NULL ? err->reason : reason);
	}
	add_dead(session, ctx_id);
	return VMD_SUBMIT_ERROR;
}

static void ctx_destroy(struct vmd_ctx *ctx) {
	struct vmd_session *session = ctx->session;
	bool wake = ctx->wait_pending;
	/* no events while tearing down */
	ctx->fatal = true;
	vmd_clipboard_ctx_gone(session->clipboard, ctx);
	struct vmd_surface *surface, *stmp;
	wl_list_for_each_safe(surface, stmp, &ctx->surface_list, link) {
		vmd_surface_destroy(surface);
	}
	struct vmd_buffer *buffer, *btmp;
	wl_list_for_each_safe(buffer, btmp, &ctx->buffer_list, link) {
		vmd_buffer_destroy(buffer);
	}
	vmd_ctx_events_finish(ctx);
	vmd_id_map_finish(&ctx->surfaces);
	vmd_id_map_finish(&ctx->buffers);
	wl_list_remove(&ctx->link);
	session->n_contexts--;
	free(ctx);
	if (wake && !session->destroying && session->device->doorbell != NULL) {
		/* the held WAIT completes now */
		struct vmd_ctx *other;
		wl_list_for_each(other, &session->contexts, link) {
			other->wait_pending = false;
		}
		session->device->doorbell(session->device_data);
	}
}

/* Ends a context after a fatal error: it stays dead. */
static void ctx_kill(struct vmd_ctx *ctx) {
	struct vmd_session *session = ctx->session;
	add_dead(session, ctx->ctx_id);
	vmd_session_log(session, TESSERA_DEBUG, "context %u: session torn down",
		ctx->ctx_id);
	ctx_destroy(ctx);
}

void vmd_session_reap(struct vmd_session *session) {
	struct vmd_ctx *ctx, *tmp;
	wl_list_for_each_safe(ctx, tmp, &session->contexts, link) {
		if (ctx->fatal) {
			ctx_kill(ctx);
		}
	}
}

static struct vmd_ctx *ctx_create(struct vmd_session *session, uint32_t ctx_id,
		const struct tessera_wire_hello *hello) {
	struct vmd_ctx *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return NULL;
	}
	ctx->session = session;
	ctx->ctx_id = ctx_id;
	ctx->state = VMD_CTX_GREETED;
	ctx->version = hello->min_version <= TESSERA_WIRE_VERSION &&
		hello->max_version >= TESSERA_WIRE_VERSION ? TESSERA_WIRE_VERSION : 0;
	ctx->features = (hello->features & TESSERA_WIRE_FEATURE_CLIPBOARD) |
		vmd_share_features(session, hello->features);
	vmd_ctx_events_init(ctx);
	wl_list_init(&ctx->surface_list);
	wl_list_init(&ctx->buffer_list);
	wl_list_insert(session->contexts.prev, &ctx->link);
	session->n_contexts++;
	vmd_session_log(session, TESSERA_INFO, "context %u: HELLO (versions %u..%u)%s",
		ctx_id, hello->min_version, hello->max_version,
		ctx->version == 0 ? ": no common version" : "");
	return ctx;
}

/* --- message dispatch --- */

static bool handle_event_ring(struct vmd_ctx *ctx, const struct tessera_wire_area *area) {
	if (!vmd_ctx_register_ring(ctx, area)) {
		return false;
	}
	ctx->state = VMD_CTX_RUNNING;
	vmd_ctx_send_greeting(ctx);
	return !ctx->fatal;
}

static bool handle_buffer_destroy(struct vmd_ctx *ctx, uint32_t id) {
	struct vmd_buffer *buffer = vmd_id_map_get(&ctx->buffers, id);
	if (buffer == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_NO_OBJECT, id,
			"BUFFER_DESTROY.buffer", "no buffer %u", id);
		return false;
	}
	vmd_buffer_destroy(buffer);
	return true;
}

static bool ctx_handle(struct vmd_ctx *ctx, const struct tessera_wire_msg *msg,
		bool *wait) {
	if (ctx->state == VMD_CTX_GREETED) {
		if (msg->type != TESSERA_WIRE_EVENT_RING) {
			vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_STATE, 0, "session",
				"%s before EVENT_RING", tessera_wire_type_name(msg->type));
			return false;
		}
		return handle_event_ring(ctx, &msg->area);
	}
	switch (msg->type) {
	case TESSERA_WIRE_HELLO:
	case TESSERA_WIRE_EVENT_RING:
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_STATE, 0, "session",
			"%s in a running session", tessera_wire_type_name(msg->type));
		return false;
	case TESSERA_WIRE_SET_KEYMAP_AREA:
		vmd_ctx_set_keymap_area(ctx, &msg->area);
		return !ctx->fatal;
	case TESSERA_WIRE_WAIT:
		*wait = true;
		return true;
	case TESSERA_WIRE_BUFFER_CREATE:
		return vmd_buffer_create(ctx, &msg->buffer_create);
	case TESSERA_WIRE_BUFFER_DESTROY:
		return handle_buffer_destroy(ctx, msg->buffer_destroy.buffer);
	case TESSERA_WIRE_SHARE_BUFFER:
		return vmd_ctx_share_buffer(ctx, &msg->share_buffer);
	case TESSERA_WIRE_CLIPBOARD_DATA:
	case TESSERA_WIRE_CLIPBOARD_FAIL:
		return vmd_clipboard_handle(ctx, msg);
	default:
		return vmd_surface_handle(ctx, msg);
	}
}

static enum vmd_submit_result finish_wait(struct vmd_ctx *ctx) {
	struct vmd_session *session = ctx->session;
	vmd_ctx_flush_backlog(ctx);
	if (vmd_ctx_ring_ready(ctx)) {
		return VMD_SUBMIT_DONE;
	}
	if (ctx->wait_pending && session->device->doorbell != NULL) {
		/* at most one WAIT per session: the new one replaces it */
		struct vmd_ctx *other;
		wl_list_for_each(other, &session->contexts, link) {
			other->wait_pending = false;
		}
		session->device->doorbell(session->device_data);
	}
	ctx->wait_pending = true;
	return VMD_SUBMIT_WAIT;
}

enum vmd_submit_result vmd_session_submit(struct vmd_session *session,
		uint32_t ctx_id, const void *payload, size_t len) {
	if (session == NULL || session->destroying) {
		return VMD_SUBMIT_ERROR;
	}
	vmd_session_reap(session);
	if (is_dead(session, ctx_id)) {
		return VMD_SUBMIT_ERROR;
	}
	struct vmd_ctx *ctx = find_ctx(session, ctx_id);
	if (len > session->limits.max_batch_size) {
		if (ctx == NULL) {
			return fail_early(session, ctx_id, NULL, TESSERA_WIRE_ERROR_SIZE,
				"batch", "larger than the VM's batch limit");
		}
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_SIZE, 0, "batch",
			"%zu bytes, over the VM's limit of %llu bytes (max_batch_size)",
			len, (unsigned long long)session->limits.max_batch_size);
		ctx_kill(ctx);
		return VMD_SUBMIT_ERROR;
	}

	struct tessera_wire_reader reader;
	tessera_wire_reader_init(&reader, payload, len, TESSERA_WIRE_REQUESTS);
	struct tessera_wire_msg *msg = &session->msg;
	bool wait = false;
	bool ok = true;
	while (ok && tessera_wire_reader_next(&reader, msg)) {
		if (ctx == NULL) {
			if (msg->type != TESSERA_WIRE_HELLO) {
				return fail_early(session, ctx_id, NULL,
					TESSERA_WIRE_ERROR_STATE, "session",
					"the first message must be HELLO");
			}
			if (session->n_contexts >= VMD_MAX_CONTEXTS) {
				return fail_early(session, ctx_id, NULL,
					TESSERA_WIRE_ERROR_LIMIT, "HELLO",
					"too many sessions of this VM at once");
			}
			ctx = ctx_create(session, ctx_id, &msg->hello);
			if (ctx == NULL) {
				return fail_early(session, ctx_id, NULL,
					TESSERA_WIRE_ERROR_HOST, "HELLO", "out of memory");
			}
			continue;
		}
		ctx->msg_type = msg->type;
		ctx->msg_offset = reader.offset - msg->size;
		/* a batch can ask for more than the socket holds: room for
		 * this message's requests first (wayland.h, back-pressure) */
		vmd_wayland_wait_writable(session->wayland);
		ok = ctx_handle(ctx, msg, &wait);
	}
	if (reader.error.code != TESSERA_WIRE_ERROR_NONE) {
		if (ctx == NULL) {
			return fail_early(session, ctx_id, &reader.error, 0, NULL, NULL);
		}
		ctx->msg_type = reader.error.type;
		ctx->msg_offset = reader.error.offset;
		vmd_ctx_error(ctx, reader.error.code, 0, reader.error.field, "%s",
			reader.error.reason);
	}
	if (ctx == NULL) {
		return VMD_SUBMIT_DONE; /* empty batch of a new context */
	}
	ctx->msg_type = 0;
	ctx->msg_offset = 0;
	if (ctx->state == VMD_CTX_RUNNING && !ctx->fatal) {
		vmd_ctx_flush_backlog(ctx);
		/* the guest read its ring before this batch: room for more */
		vmd_clipboard_pump(session->clipboard);
	}
	if (ctx->fatal) {
		ctx_kill(ctx);
		return VMD_SUBMIT_ERROR;
	}
	if (wait) {
		if (ctx->state != VMD_CTX_RUNNING) {
			return VMD_SUBMIT_DONE;
		}
		return finish_wait(ctx);
	}
	return VMD_SUBMIT_DONE;
}

void vmd_session_ctx_destroy(struct vmd_session *session, uint32_t ctx_id) {
	if (session == NULL) {
		return;
	}
	remove_dead(session, ctx_id);
	struct vmd_ctx *ctx = find_ctx(session, ctx_id);
	if (ctx != NULL) {
		vmd_session_log(session, TESSERA_INFO, "context %u destroyed by the guest",
			ctx_id);
		ctx_destroy(ctx);
	}
}

void vmd_session_resource_gone(struct vmd_session *session, uint32_t id) {
	if (session == NULL) {
		return;
	}
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		struct vmd_buffer *buffer;
		wl_list_for_each(buffer, &ctx->buffer_list, link) {
			if (buffer->resource == id) {
				buffer->resource_gone = true;
			}
		}
		vmd_ctx_keymap_resource_gone(ctx, id);
		/* The ring keeps its own mapping of the pages (PROTOCOL.md
		 * §6.3: the guest only hurts itself). */
	}
}

void vmd_session_fence_retired(struct vmd_session *session, uint32_t seq) {
	if (session == NULL) {
		return;
	}
	session->fence_retired = seq;
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		struct vmd_surface *surface;
		wl_list_for_each(surface, &ctx->surface_list, link) {
			vmd_surface_apply_deferred(surface);
		}
	}
	vmd_wayland_flush(session->wayland);
}

void vmd_session_memory_changed(struct vmd_session *session) {
	if (session == NULL) {
		return;
	}
	/* Regions of the old table go; buffers are imported again at their
	 * next commit, rings remapped at their next write. */
	vmd_session_gmem_reset(session);
}

/* --- create / destroy --- */

struct vmd_session *vmd_session_create(struct vmd_wayland *wayland,
		const char *vm_name, const struct tessera_vm_settings *limits,
		const struct vmd_session_device *device, void *device_data) {
	if (wayland == NULL || device == NULL) {
		return NULL;
	}
	struct vmd_session *session = calloc(1, sizeof(*session));
	if (session == NULL) {
		return NULL;
	}
	session->vm_name = strdup(vm_name != NULL ? vm_name : "?");
	if (session->vm_name == NULL) {
		free(session);
		return NULL;
	}
	tessera_vm_settings_default(&session->limits);
	if (limits != NULL) {
		session->limits = *limits;
		/* the protocol's hard limits stay the ceiling */
		if (session->limits.max_surfaces == 0 ||
				session->limits.max_surfaces > TESSERA_WIRE_MAX_SURFACES) {
			session->limits.max_surfaces = TESSERA_WIRE_MAX_SURFACES;
		}
		if (session->limits.max_buffers == 0 ||
				session->limits.max_buffers > TESSERA_WIRE_MAX_BUFFERS) {
			session->limits.max_buffers = TESSERA_WIRE_MAX_BUFFERS;
		}
		if (session->limits.max_batch_size == 0 ||
				session->limits.max_batch_size > TESSERA_WIRE_MAX_BATCH_SIZE) {
			session->limits.max_batch_size = TESSERA_WIRE_MAX_BATCH_SIZE;
		}
		if (session->limits.max_buffer_bytes == 0) {
			session->limits.max_buffer_bytes =
				tessera_vm_setting_get(TESSERA_VM_SETTING_max_buffer_bytes)->def;
		}
		if (session->limits.clipboard_max == 0 ||
				session->limits.clipboard_max > TESSERA_WIRE_MAX_CLIPBOARD_SIZE) {
			session->limits.clipboard_max =
				tessera_vm_setting_get(TESSERA_VM_SETTING_clipboard_max)->def;
		}
	}
	session->wayland = wayland;
	session->device = device;
	session->device_data = device_data;
	wl_list_init(&session->contexts);
	vmd_session_events_init(session);
	vmd_session_input_init(session);
	vmd_session_share_init(session);
	session->clipboard = vmd_clipboard_create(session);
	vmd_session_log(session, TESSERA_INFO, "session ready (limits: %llu surfaces, "
		"%llu buffers, %llu buffer bytes, %llu-byte batches; buffers %s)",
		(unsigned long long)session->limits.max_surfaces,
		(unsigned long long)session->limits.max_buffers,
		(unsigned long long)session->limits.max_buffer_bytes,
		(unsigned long long)session->limits.max_batch_size,
		wayland->linux_dmabuf != NULL ? "zero-copy as udmabufs where /dev/udmabuf "
			"allows, else through tessera_guest_memory_v1 or wl_shm" :
		wayland->guest_memory != NULL ? "zero-copy through tessera_guest_memory_v1" :
		"copied through wl_shm");
	return session;
}

void vmd_session_destroy(struct vmd_session *session) {
	if (session == NULL) {
		return;
	}
	session->destroying = true;
	struct vmd_ctx *ctx, *tmp;
	wl_list_for_each_safe(ctx, tmp, &session->contexts, link) {
		ctx_destroy(ctx);
	}
	vmd_session_share_finish(session);
	vmd_clipboard_destroy(session->clipboard);
	session->clipboard = NULL;
	vmd_session_gmem_reset(session);
	vmd_session_input_finish(session);
	vmd_session_events_finish(session);
	if (session->title_timer != NULL) {
		wl_event_source_remove(session->title_timer);
	}
	vmd_session_log_stats(session);
	free(session->vm_name);
	free(session);
}

void vmd_session_get_stats(const struct vmd_session *session,
		struct vmd_session_stats *stats) {
	*stats = session->stats;
	stats->buffers_udmabuf = session->udmabuf.created;
}

void vmd_session_log_stats(const struct vmd_session *session) {
	const struct vmd_session_stats *s = &session->stats;
	tessera_log(TESSERA_INFO, "vm '%s': frames %llu, bytes copied %llu, releases %llu, "
		"events written %llu, dropped %llu, errors %llu, buffers: %llu "
		"udmabuf, %llu guest memory, %llu wl_shm, %llu host dmabuf, %llu failed; "
		"%llu commits waited for host rendering",
		session->vm_name, (unsigned long long)s->frames,
		(unsigned long long)s->bytes_copied, (unsigned long long)s->releases,
		(unsigned long long)s->events_written,
		(unsigned long long)s->events_dropped, (unsigned long long)s->errors,
		(unsigned long long)session->udmabuf.created,
		(unsigned long long)s->buffers_guest_memory,
		(unsigned long long)s->buffers_shm,
		(unsigned long long)s->buffers_host_dmabuf,
		(unsigned long long)s->buffers_failed,
		(unsigned long long)s->commits_deferred);
}
