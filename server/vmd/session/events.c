/*
 * Host -> guest: the event ring (PROTOCOL.md §8), its bounded backlog of
 * state events, the WAIT doorbell (§9), and the events that come from the
 * compositor without a surface or input focus of their own: greeting,
 * outputs, keymaps. See events.h.
 */
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "log.h"

/* An event that did not fit in the ring and must not be lost (§8.6). */
struct vmd_backlog_entry {
	struct wl_list link; /* vmd_event_ring.backlog, in ring order */
	struct wl_list bucket_link; /* vmd_event_ring.backlog_index[] */
	uint32_t key_class, key_a, key_b;
	size_t len;
	uint8_t record[]; /* encoded event */
};

/* --- classification and coalescing keys (§8.6) --- */

static bool is_input_event(uint16_t type) {
	return (type >= TESSERA_WIRE_POINTER_ENTER && type <= TESSERA_WIRE_POINTER_FRAME) ||
		(type >= TESSERA_WIRE_KEYBOARD_ENTER && type <= TESSERA_WIRE_KEYBOARD_MODIFIERS);
}

/* State events are never lost; stream events may be dropped. */
static bool is_state_event(const struct tessera_wire_msg *event) {
	switch (event->type) {
	case TESSERA_WIRE_PRESENTED:
		return false;
	case TESSERA_WIRE_ERROR:
		return event->error.code != TESSERA_WIRE_ERROR_OVERFLOW;
	default:
		return !is_input_event(event->type);
	}
}

/* Events with the same key replace each other in the backlog. */
static void event_key(const struct tessera_wire_msg *event, uint32_t *cls,
		uint32_t *a, uint32_t *b) {
	*cls = event->type;
	*a = 0;
	*b = 0;
	switch (event->type) {
	case TESSERA_WIRE_ERROR:
		*a = event->error.code;
		*b = event->error.object;
		break;
	case TESSERA_WIRE_OUTPUT:
		*a = event->output.output;
		break;
	case TESSERA_WIRE_OUTPUT_REMOVE:
		*cls = TESSERA_WIRE_OUTPUT;
		*a = event->output_remove.output;
		break;
	case TESSERA_WIRE_SURFACE_ENTER:
	case TESSERA_WIRE_SURFACE_LEAVE:
		*cls = TESSERA_WIRE_SURFACE_ENTER;
		*a = event->surface_output.surface;
		*b = event->surface_output.output;
		break;
	case TESSERA_WIRE_FRAME_DONE:
		*a = event->frame_done.surface;
		break;
	case TESSERA_WIRE_BUFFER_RELEASE:
		*a = event->buffer_release.buffer;
		break;
	case TESSERA_WIRE_CONFIGURE:
		*a = event->configure.surface;
		break;
	case TESSERA_WIRE_CLOSE:
		*a = event->close.surface;
		break;
	case TESSERA_WIRE_POPUP_CONFIGURE:
		*a = event->popup_configure.surface;
		break;
	case TESSERA_WIRE_POPUP_REPOSITIONED:
		*a = event->popup_repositioned.surface;
		break;
	case TESSERA_WIRE_POPUP_DONE:
		*a = event->popup_done.surface;
		break;
	default:
		break;
	}
}

static bool key_names_surface(uint32_t cls) {
	switch (cls) {
	case TESSERA_WIRE_SURFACE_ENTER:
	case TESSERA_WIRE_FRAME_DONE:
	case TESSERA_WIRE_CONFIGURE:
	case TESSERA_WIRE_CLOSE:
	case TESSERA_WIRE_POPUP_CONFIGURE:
	case TESSERA_WIRE_POPUP_REPOSITIONED:
	case TESSERA_WIRE_POPUP_DONE:
		return true;
	default:
		return false;
	}
}

static size_t key_bucket(uint32_t cls, uint32_t a, uint32_t b) {
	uint32_t h = cls * 0x9e3779b1u ^ a * 0x85ebca6bu ^ b * 0xc2b2ae35u;
	return (h ^ (h >> 16)) % VMD_BACKLOG_BUCKETS;
}

static void backlog_remove(struct vmd_ctx *ctx, struct vmd_backlog_entry *entry) {
	wl_list_remove(&entry->link);
	wl_list_remove(&entry->bucket_link);
	ctx->ring.backlog_len--;
	free(entry);
}

void vmd_ctx_purge_backlog(struct vmd_ctx *ctx, bool surface, uint32_t id) {
	if (ctx->ring.backlog_len == 0) {
		return;
	}
	struct vmd_backlog_entry *entry, *tmp;
	wl_list_for_each_safe(entry, tmp, &ctx->ring.backlog, link) {
		bool match;
		if (surface) {
			match = key_names_surface(entry->key_class) && entry->key_a == id;
		} else {
			match = (entry->key_class == TESSERA_WIRE_BUFFER_RELEASE &&
					entry->key_a == id) ||
				(entry->key_class == TESSERA_WIRE_ERROR &&
					entry->key_a == TESSERA_WIRE_ERROR_BUFFER_FAILED &&
					entry->key_b == id);
		}
		if (match) {
			backlog_remove(ctx, entry);
		}
	}
}

static size_t backlog_cap(const struct vmd_session *session) {
	/* per surface: configure, popup events, frame, close, enter/leave per
	 * output; per buffer: release, failure; a few session-wide ones */
	return (size_t)session->limits.max_surfaces * 8 +
		(size_t)session->limits.max_buffers * 2 + 256;
}

static void backlog_add(struct vmd_ctx *ctx, const struct tessera_wire_msg *event) {
	uint8_t buf[TESSERA_WIRE_MAX_MESSAGE_SIZE];
	struct tessera_wire_writer writer;
	tessera_wire_writer_init(&writer, buf, sizeof(buf));
	if (tessera_wire_encode(&writer, event, NULL) != TESSERA_WIRE_ERROR_NONE) {
		vmd_session_log(ctx->session, TESSERA_ERROR, "bug: invalid %s event dropped",
			tessera_wire_type_name(event->type));
		return;
	}
	uint32_t cls, a, b;
	event_key(event, &cls, &a, &b);
	size_t bucket = key_bucket(cls, a, b);
	struct vmd_backlog_entry *old, *tmp;
	bool coalesce = !(cls == TESSERA_WIRE_ERROR &&
		tessera_wire_error_is_fatal(a));
	if (coalesce) {
		wl_list_for_each_safe(old, tmp, &ctx->ring.backlog_index[bucket], bucket_link) {
			if (old->key_class == cls && old->key_a == a && old->key_b == b) {
				backlog_remove(ctx, old);
			}
		}
	}
	if (ctx->ring.backlog_len >= backlog_cap(ctx->session) &&
			cls != TESSERA_WIRE_ERROR) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_LIMIT, 0, "ring",
			"the guest does not read its events (backlog of %zu events)",
			ctx->ring.backlog_len);
		return;
	}
	struct vmd_backlog_entry *entry = malloc(sizeof(*entry) + writer.len);
	if (entry == NULL) {
		return;
	}
	entry->key_class = cls;
	entry->key_a = a;
	entry->key_b = b;
	entry->len = writer.len;
	memcpy(entry->record, buf, writer.len);
	wl_list_insert(ctx->ring.backlog.prev, &entry->link);
	wl_list_insert(&ctx->ring.backlog_index[bucket], &entry->bucket_link);
	ctx->ring.backlog_len++;
}

/* --- a context's events --- */

void vmd_ctx_events_init(struct vmd_ctx *ctx) {
	wl_list_init(&ctx->ring.backlog);
	for (size_t i = 0; i < VMD_BACKLOG_BUCKETS; i++) {
		wl_list_init(&ctx->ring.backlog_index[i]);
	}
}

void vmd_ctx_events_finish(struct vmd_ctx *ctx) {
	struct vmd_backlog_entry *entry, *tmp;
	wl_list_for_each_safe(entry, tmp, &ctx->ring.backlog, link) {
		backlog_remove(ctx, entry);
	}
	vmd_area_unmap(&ctx->ring.map);
}

bool vmd_ctx_ring_ready(struct vmd_ctx *ctx) {
	return ctx->ring.writer.broken || tessera_wire_ring_writer_unread(&ctx->ring.writer);
}

void vmd_ctx_ring_fail(struct vmd_ctx *ctx, uint32_t code) {
	if (ctx->state == VMD_CTX_RUNNING && !ctx->ring.corrupted) {
		tessera_wire_ring_writer_set_status(&ctx->ring.writer, code);
	}
}

/* --- ring mapping --- */

static uint64_t memory_generation(struct vmd_session *session) {
	struct tessera_memory_table *mem = vmd_session_memory(session);
	return mem != NULL ? mem->generation : 0;
}

bool vmd_ctx_register_ring(struct vmd_ctx *ctx, const struct tessera_wire_area *area) {
	struct vmd_session *session = ctx->session;
	const struct vmd_resource *res = vmd_session_get_resource(session, area->resource);
	if (res == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_RESOURCE, area->resource,
			"EVENT_RING.resource", "resource %u does not exist or has no backing",
			area->resource);
		return false;
	}
	struct tessera_wire_error err = {0};
	if (tessera_wire_check_range(area->offset, area->size, res->size, &err) !=
			TESSERA_WIRE_ERROR_NONE) {
		vmd_ctx_error(ctx, err.code, area->resource, "EVENT_RING.offset",
			"area beyond the resource's %llu bytes",
			(unsigned long long)res->size);
		return false;
	}
	const char *why = NULL;
	if (!vmd_area_map(res, area->offset, area->size, &ctx->ring.map, &why)) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_RING, area->resource,
			"EVENT_RING", "cannot map the ring area: %s", why);
		return false;
	}
	if (tessera_wire_ring_writer_init(&ctx->ring.writer, ctx->ring.map.ptr, area->size,
			&err) != TESSERA_WIRE_ERROR_NONE) {
		vmd_area_unmap(&ctx->ring.map);
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_RING, area->resource, err.field,
			"%s", err.reason);
		return false;
	}
	ctx->ring.resource = area->resource;
	ctx->ring.offset = area->offset;
	ctx->ring.size = area->size;
	ctx->ring.generation = memory_generation(session);
	return true;
}

/* After a memory table change: map the ring's pages again (the guest may
 * now live in another file). If the resource is gone the old mapping stays. */
static void ctx_remap_ring(struct vmd_ctx *ctx) {
	struct vmd_session *session = ctx->session;
	uint64_t generation = memory_generation(session);
	if (generation == ctx->ring.generation) {
		return;
	}
	ctx->ring.generation = generation;
	const struct vmd_resource *res = vmd_session_get_resource(session,
		ctx->ring.resource);
	if (res == NULL || tessera_wire_check_range(ctx->ring.offset, ctx->ring.size,
			res->size, NULL) != TESSERA_WIRE_ERROR_NONE) {
		return;
	}
	struct vmd_area_map map;
	const char *why = NULL;
	if (!vmd_area_map(res, ctx->ring.offset, ctx->ring.size, &map, &why)) {
		vmd_session_log(session, TESSERA_ERROR, "context %u: cannot remap the "
			"event ring after a memory change (%s): keeping the old pages",
			ctx->ctx_id, why);
		return;
	}
	vmd_area_unmap(&ctx->ring.map);
	ctx->ring.map = map;
	ctx->ring.writer.mem = map.ptr;
}

/* --- writing --- */

static void ring_corrupted(struct vmd_ctx *ctx) {
	if (ctx->ring.corrupted) {
		return;
	}
	ctx->ring.corrupted = true;
	/* the status word is still ours to write (§8.5) */
	tessera_wire_ring_writer_set_status(&ctx->ring.writer, TESSERA_WIRE_ERROR_RING);
	vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_RING, 0, "ring.tail",
		"the guest corrupted the ring's tail index");
}

void vmd_ctx_flush_backlog(struct vmd_ctx *ctx) {
	if (ctx->state != VMD_CTX_RUNNING || ctx->ring.corrupted) {
		return;
	}
	ctx_remap_ring(ctx);
	bool wrote = false;
	while (!wl_list_empty(&ctx->ring.backlog)) {
		enum tessera_wire_ring_result result =
			tessera_wire_ring_writer_flush(&ctx->ring.writer);
		if (result == TESSERA_WIRE_RING_OK) {
			struct vmd_backlog_entry *entry =
				wl_container_of(ctx->ring.backlog.next, entry, link);
			result = tessera_wire_ring_write_raw(&ctx->ring.writer, entry->record,
				entry->len);
			if (result == TESSERA_WIRE_RING_OK) {
				backlog_remove(ctx, entry);
				ctx->session->stats.events_written++;
				wrote = true;
				continue;
			}
		}
		if (result == TESSERA_WIRE_RING_BROKEN) {
			ring_corrupted(ctx);
			return;
		}
		break;
	}
	if (wl_list_empty(&ctx->ring.backlog) && ctx->ring.writer.dropped > 0) {
		/* the OVERFLOW notice on its own */
		enum tessera_wire_ring_result result =
			tessera_wire_ring_writer_flush(&ctx->ring.writer);
		if (result == TESSERA_WIRE_RING_OK) {
			wrote = true;
		} else if (result == TESSERA_WIRE_RING_BROKEN) {
			ring_corrupted(ctx);
			return;
		}
	}
	if (wrote) {
		vmd_session_schedule_doorbell(ctx->session);
	}
	if (wl_list_empty(&ctx->ring.backlog) && ctx->ring.writer.dropped == 0 &&
			ctx->ring.input_dropped) {
		ctx->ring.input_dropped = false;
		vmd_ctx_resend_focus(ctx);
	}
}

void vmd_ctx_emit(struct vmd_ctx *ctx, const struct tessera_wire_msg *event) {
	struct vmd_session *session = ctx->session;
	if (ctx->state != VMD_CTX_RUNNING || ctx->fatal || ctx->ring.corrupted ||
			session->destroying) {
		return;
	}
	if (!wl_list_empty(&ctx->ring.backlog) || ctx->ring.writer.dropped > 0) {
		vmd_ctx_flush_backlog(ctx);
		if (ctx->ring.corrupted || ctx->fatal) {
			return;
		}
	} else {
		ctx_remap_ring(ctx);
	}
	if (wl_list_empty(&ctx->ring.backlog)) {
		uint64_t dropped = ctx->ring.writer.dropped;
		enum tessera_wire_ring_result result =
			tessera_wire_ring_write(&ctx->ring.writer, event);
		if (dropped > 0 && ctx->ring.writer.dropped == 0) {
			session->stats.events_written++; /* the OVERFLOW notice */
		}
		switch (result) {
		case TESSERA_WIRE_RING_OK:
			session->stats.events_written++;
			vmd_session_schedule_doorbell(session);
			return;
		case TESSERA_WIRE_RING_BROKEN:
			ring_corrupted(ctx);
			return;
		case TESSERA_WIRE_RING_INVALID:
			vmd_session_log(session, TESSERA_ERROR,
				"bug: invalid %s event not written",
				tessera_wire_type_name(event->type));
			return;
		case TESSERA_WIRE_RING_FULL:
			break;
		}
	}
	if (is_state_event(event)) {
		backlog_add(ctx, event);
	} else {
		tessera_wire_ring_writer_drop(&ctx->ring.writer, 1);
		session->stats.events_dropped++;
		if (is_input_event(event->type)) {
			ctx->ring.input_dropped = true;
		}
	}
	/* wake the guest: reading frees space */
	vmd_session_schedule_doorbell(session);
}

bool vmd_ctx_emit_if_room(struct vmd_ctx *ctx, const struct tessera_wire_msg *event,
		uint32_t reserve) {
	struct vmd_session *session = ctx->session;
	if (ctx->state != VMD_CTX_RUNNING || ctx->fatal || ctx->ring.corrupted ||
			session->destroying || !wl_list_empty(&ctx->ring.backlog) ||
			ctx->ring.writer.dropped > 0) {
		return false;
	}
	ctx_remap_ring(ctx);
	uint64_t need = 2 * (uint64_t)tessera_wire_encoded_size(event) + reserve;
	if (tessera_wire_ring_writer_free(&ctx->ring.writer) < need) {
		return false;
	}
	switch (tessera_wire_ring_write(&ctx->ring.writer, event)) {
	case TESSERA_WIRE_RING_OK:
		session->stats.events_written++;
		vmd_session_schedule_doorbell(session);
		return true;
	case TESSERA_WIRE_RING_BROKEN:
		ring_corrupted(ctx);
		return false;
	default:
		return false;
	}
}

/* --- doorbell --- */

static void handle_idle(void *data) {
	struct vmd_session *session = data;
	session->idle = NULL;
	vmd_session_reap(session);
	bool ring = false;
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		if (ctx->wait_pending && vmd_ctx_ring_ready(ctx)) {
			ring = true;
		}
	}
	if (ring && session->device->doorbell != NULL) {
		wl_list_for_each(ctx, &session->contexts, link) {
			ctx->wait_pending = false;
		}
		session->device->doorbell(session->device_data);
	}
}

void vmd_session_schedule_doorbell(struct vmd_session *session) {
	if (session->idle != NULL || session->destroying ||
			session->wayland->loop == NULL) {
		return;
	}
	session->idle = wl_event_loop_add_idle(session->wayland->loop,
		handle_idle, session);
}

/* --- greeting, outputs, keymap --- */

/*
 * An output as the guest sees it: the host's, or with the VM's scale
 * (setting scale) the same place and logical size in the layout, with a
 * mode of that size times the VM's scale, so that guest clients draw
 * buffers of that scale and windows keep their size on the host.
 */
static void emit_output(struct vmd_ctx *ctx, const struct vmd_wayland_output *output) {
	int32_t scale = output->scale, width = output->width, height = output->height;
	uint64_t vm_scale = ctx->session->limits.scale;
	if (vm_scale != 0 && vm_scale <= TESSERA_VM_MAX_SCALE &&
			(int32_t)vm_scale != scale) {
		/* sizes ≤ 16384, scales ≤ 8 (wayland.c): no overflow */
		/* the mode's size in layout units (xdg-output's is turned by
		 * an odd transform, the mode's is not) */
		int32_t logical_width = (width + scale - 1) / scale;
		int32_t logical_height = (height + scale - 1) / scale;
		if (output->logical_width > 0 && output->logical_height > 0) {
			bool turned = output->transform % 2 == 1;
			logical_width = turned ? output->logical_height : output->logical_width;
			logical_height = turned ? output->logical_width : output->logical_height;
		}
		scale = (int32_t)vm_scale;
		width = logical_width * scale;
		height = logical_height * scale;
		if (width > TESSERA_WIRE_MAX_DIMENSION || height > TESSERA_WIRE_MAX_DIMENSION) {
			width = output->width; /* cannot be shown so: as it is */
			height = output->height;
			scale = output->scale;
		}
	}
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_OUTPUT,
		.output = {
			.output = output->id,
			.x = output->x,
			.y = output->y,
			.width = width,
			.height = height,
			.refresh_mhz = (uint32_t)output->refresh_mhz,
			.scale = scale,
			.transform = (uint32_t)output->transform,
			.physical_width_mm = output->physical_width_mm,
			.physical_height_mm = output->physical_height_mm,
		},
	};
	vmd_ctx_emit(ctx, &event);
}

void vmd_ctx_send_repeat_info(struct vmd_ctx *ctx) {
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_KEYBOARD_REPEAT_INFO,
		.repeat_info = {
			.rate = ctx->session->wayland->repeat_rate,
			.delay = ctx->session->wayland->repeat_delay,
		},
	};
	vmd_ctx_emit(ctx, &event);
}

void vmd_ctx_send_greeting(struct vmd_ctx *ctx) {
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_HELLO_REPLY,
		.hello_reply = {
			.version = ctx->version != 0 ? ctx->version : TESSERA_WIRE_VERSION,
			.features = ctx->features,
		},
	};
	vmd_ctx_emit(ctx, &event);
	if (ctx->version == 0) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VERSION, 0, "HELLO",
			"this host implements version %d only", TESSERA_WIRE_VERSION);
		return;
	}
	vmd_ctx_send_repeat_info(ctx);
	struct vmd_wayland_output *output;
	wl_list_for_each(output, &ctx->session->wayland->outputs, link) {
		if (output->done) {
			emit_output(ctx, output);
		}
	}
	vmd_ctx_share_greet(ctx);
}

static void handle_output(struct wl_listener *listener, void *data) {
	struct vmd_session *session = wl_container_of(listener, session, output);
	struct vmd_wayland_output *output = data;
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		emit_output(ctx, output);
	}
}

static void handle_output_remove(struct wl_listener *listener, void *data) {
	struct vmd_session *session = wl_container_of(listener, session, output_remove);
	struct vmd_wayland_output *output = data;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_OUTPUT_REMOVE,
		.output_remove = { .output = output->id },
	};
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		vmd_ctx_emit(ctx, &event);
	}
}

/*
 * The keymap goes to a guest only while it has the keyboard focus (and
 * right before KEYBOARD_ENTER): the compositor sends every new keymap to
 * every client, and a virtual keyboard's keymap (wtype, a password
 * manager) lists exactly the characters being typed on the host.
 */
void vmd_ctx_write_keymap(struct vmd_ctx *ctx) {
	struct vmd_session *session = ctx->session;
	struct vmd_wayland *wayland = session->wayland;
	if (!vmd_ctx_has_keyboard_focus(ctx)) {
		return;
	}
	if (!ctx->keymap.armed || wayland->keymap == NULL ||
			ctx->keymap.sent_serial == wayland->keymap_serial ||
			ctx->state != VMD_CTX_RUNNING || ctx->fatal) {
		return;
	}
	if (wayland->keymap_size > ctx->keymap.size) {
		vmd_session_log(session, TESSERA_INFO, "context %u: keymap of %u bytes "
			"does not fit the guest's %u-byte area: not sent", ctx->ctx_id,
			wayland->keymap_size, ctx->keymap.size);
		ctx->keymap.armed = false;
		return;
	}
	const struct vmd_resource *res = vmd_session_get_resource(session,
		ctx->keymap.resource);
	if (res == NULL || tessera_wire_check_range(ctx->keymap.offset,
			wayland->keymap_size, res->size, NULL) != TESSERA_WIRE_ERROR_NONE ||
			!vmd_resource_write(res, ctx->keymap.offset, wayland->keymap,
				wayland->keymap_size)) {
		ctx->keymap.armed = false;
		return;
	}
	ctx->keymap.armed = false;
	ctx->keymap.sent_serial = wayland->keymap_serial;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_KEYMAP,
		.keymap = {
			.resource = ctx->keymap.resource,
			.size = wayland->keymap_size,
			.format = TESSERA_WIRE_KEYMAP_FORMAT_XKB_V1,
		},
	};
	vmd_ctx_emit(ctx, &event);
}

void vmd_ctx_set_keymap_area(struct vmd_ctx *ctx, const struct tessera_wire_area *area) {
	const struct vmd_resource *res = vmd_session_get_resource(ctx->session,
		area->resource);
	if (res == NULL) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_RESOURCE, area->resource,
			"SET_KEYMAP_AREA.resource",
			"resource %u does not exist or has no backing", area->resource);
		return;
	}
	struct tessera_wire_error err = {0};
	if (tessera_wire_check_range(area->offset, area->size, res->size, &err) !=
			TESSERA_WIRE_ERROR_NONE) {
		vmd_ctx_error(ctx, err.code, area->resource, "SET_KEYMAP_AREA.offset",
			"area beyond the resource's %llu bytes",
			(unsigned long long)res->size);
		return;
	}
	ctx->keymap.armed = true;
	ctx->keymap.resource = area->resource;
	ctx->keymap.offset = area->offset;
	ctx->keymap.size = area->size;
	vmd_ctx_write_keymap(ctx);
}

void vmd_ctx_keymap_resource_gone(struct vmd_ctx *ctx, uint32_t id) {
	if (ctx->keymap.armed && ctx->keymap.resource == id) {
		ctx->keymap.armed = false;
	}
}

void vmd_session_events_init(struct vmd_session *session) {
	session->output.notify = handle_output;
	wl_signal_add(&session->wayland->events.output, &session->output);
	session->output_remove.notify = handle_output_remove;
	wl_signal_add(&session->wayland->events.output_remove, &session->output_remove);
}

void vmd_session_events_finish(struct vmd_session *session) {
	wl_list_remove(&session->output.link);
	wl_list_remove(&session->output_remove.link);
	if (session->idle != NULL) {
		wl_event_source_remove(session->idle);
		session->idle = NULL;
	}
}
