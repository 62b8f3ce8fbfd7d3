/*
 * Host -> guest: the event ring (PROTOCOL.md §8), its bounded backlog of
 * state events, the WAIT doorbell (§9), and the events that come from the
 * compositor without a surface of their own: input, outputs, keymaps.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "session-private.h"

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
	ctx->backlog_len--;
	free(entry);
}

void vmd_ctx_free_backlog(struct vmd_ctx *ctx) {
	struct vmd_backlog_entry *entry, *tmp;
	wl_list_for_each_safe(entry, tmp, &ctx->backlog, link) {
		backlog_remove(ctx, entry);
	}
}

void vmd_ctx_purge_backlog(struct vmd_ctx *ctx, bool surface, uint32_t id) {
	if (ctx->backlog_len == 0) {
		return;
	}
	struct vmd_backlog_entry *entry, *tmp;
	wl_list_for_each_safe(entry, tmp, &ctx->backlog, link) {
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
		wl_list_for_each_safe(old, tmp, &ctx->backlog_index[bucket], bucket_link) {
			if (old->key_class == cls && old->key_a == a && old->key_b == b) {
				backlog_remove(ctx, old);
			}
		}
	}
	if (ctx->backlog_len >= backlog_cap(ctx->session) &&
			cls != TESSERA_WIRE_ERROR) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_LIMIT, 0, "ring",
			"the guest does not read its events (backlog of %zu events)",
			ctx->backlog_len);
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
	wl_list_insert(ctx->backlog.prev, &entry->link);
	wl_list_insert(&ctx->backlog_index[bucket], &entry->bucket_link);
	ctx->backlog_len++;
}

/* --- ring mapping --- */

void vmd_ctx_unmap_ring(struct vmd_ctx *ctx) {
	vmd_area_unmap(&ctx->ring_map);
}

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
	if (!vmd_area_map(res, area->offset, area->size, &ctx->ring_map, &why)) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_RING, area->resource,
			"EVENT_RING", "cannot map the ring area: %s", why);
		return false;
	}
	if (tessera_wire_ring_writer_init(&ctx->ring, ctx->ring_map.ptr, area->size,
			&err) != TESSERA_WIRE_ERROR_NONE) {
		vmd_area_unmap(&ctx->ring_map);
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_RING, area->resource, err.field,
			"%s", err.reason);
		return false;
	}
	ctx->ring_resource = area->resource;
	ctx->ring_offset = area->offset;
	ctx->ring_size = area->size;
	ctx->ring_generation = memory_generation(session);
	return true;
}

/* After a memory table change: map the ring's pages again (the guest may
 * now live in another file). If the resource is gone the old mapping stays. */
static void ctx_remap_ring(struct vmd_ctx *ctx) {
	struct vmd_session *session = ctx->session;
	uint64_t generation = memory_generation(session);
	if (generation == ctx->ring_generation) {
		return;
	}
	ctx->ring_generation = generation;
	const struct vmd_resource *res = vmd_session_get_resource(session,
		ctx->ring_resource);
	if (res == NULL || tessera_wire_check_range(ctx->ring_offset, ctx->ring_size,
			res->size, NULL) != TESSERA_WIRE_ERROR_NONE) {
		return;
	}
	struct vmd_area_map map;
	const char *why = NULL;
	if (!vmd_area_map(res, ctx->ring_offset, ctx->ring_size, &map, &why)) {
		vmd_session_log(session, TESSERA_ERROR, "context %u: cannot remap the "
			"event ring after a memory change (%s): keeping the old pages",
			ctx->ctx_id, why);
		return;
	}
	vmd_area_unmap(&ctx->ring_map);
	ctx->ring_map = map;
	ctx->ring.mem = map.ptr;
}

/* --- writing --- */

static void ctx_resend_focus(struct vmd_ctx *ctx);

static void ring_broken(struct vmd_ctx *ctx) {
	if (ctx->ring_broken) {
		return;
	}
	ctx->ring_broken = true;
	/* the status word is still ours to write (§8.5) */
	tessera_wire_ring_writer_set_status(&ctx->ring, TESSERA_WIRE_ERROR_RING);
	vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_RING, 0, "ring.tail",
		"the guest corrupted the ring's tail index");
}

void vmd_ctx_flush_backlog(struct vmd_ctx *ctx) {
	if (ctx->state != VMD_CTX_RUNNING || ctx->ring_broken) {
		return;
	}
	ctx_remap_ring(ctx);
	bool wrote = false;
	while (!wl_list_empty(&ctx->backlog)) {
		enum tessera_wire_ring_result result =
			tessera_wire_ring_writer_flush(&ctx->ring);
		if (result == TESSERA_WIRE_RING_OK) {
			struct vmd_backlog_entry *entry =
				wl_container_of(ctx->backlog.next, entry, link);
			result = tessera_wire_ring_write_raw(&ctx->ring, entry->record,
				entry->len);
			if (result == TESSERA_WIRE_RING_OK) {
				backlog_remove(ctx, entry);
				ctx->session->stats.events_written++;
				wrote = true;
				continue;
			}
		}
		if (result == TESSERA_WIRE_RING_BROKEN) {
			ring_broken(ctx);
			return;
		}
		break;
	}
	if (wl_list_empty(&ctx->backlog) && ctx->ring.dropped > 0) {
		/* the OVERFLOW notice on its own */
		enum tessera_wire_ring_result result =
			tessera_wire_ring_writer_flush(&ctx->ring);
		if (result == TESSERA_WIRE_RING_OK) {
			wrote = true;
		} else if (result == TESSERA_WIRE_RING_BROKEN) {
			ring_broken(ctx);
			return;
		}
	}
	if (wrote) {
		vmd_session_schedule_doorbell(ctx->session);
	}
	if (wl_list_empty(&ctx->backlog) && ctx->ring.dropped == 0 &&
			ctx->input_dropped) {
		ctx_resend_focus(ctx);
	}
}

void vmd_ctx_emit(struct vmd_ctx *ctx, const struct tessera_wire_msg *event) {
	struct vmd_session *session = ctx->session;
	if (ctx->state != VMD_CTX_RUNNING || ctx->fatal || ctx->ring_broken ||
			session->destroying) {
		return;
	}
	if (!wl_list_empty(&ctx->backlog) || ctx->ring.dropped > 0) {
		vmd_ctx_flush_backlog(ctx);
		if (ctx->ring_broken || ctx->fatal) {
			return;
		}
	} else {
		ctx_remap_ring(ctx);
	}
	if (wl_list_empty(&ctx->backlog)) {
		uint64_t dropped = ctx->ring.dropped;
		enum tessera_wire_ring_result result =
			tessera_wire_ring_write(&ctx->ring, event);
		if (dropped > 0 && ctx->ring.dropped == 0) {
			session->stats.events_written++; /* the OVERFLOW notice */
		}
		switch (result) {
		case TESSERA_WIRE_RING_OK:
			session->stats.events_written++;
			vmd_session_schedule_doorbell(session);
			return;
		case TESSERA_WIRE_RING_BROKEN:
			ring_broken(ctx);
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
		tessera_wire_ring_writer_drop(&ctx->ring, 1);
		session->stats.events_dropped++;
		if (is_input_event(event->type)) {
			ctx->input_dropped = true;
		}
	}
	/* wake the guest: reading frees space */
	vmd_session_schedule_doorbell(session);
}

/* --- doorbell --- */

static void handle_idle(void *data) {
	struct vmd_session *session = data;
	session->idle = NULL;
	vmd_session_reap(session);
	bool ring = false;
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		if (ctx->wait_pending && (ctx->ring.broken ||
				tessera_wire_ring_writer_unread(&ctx->ring))) {
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

static void emit_output(struct vmd_ctx *ctx, const struct vmd_wayland_output *output) {
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_OUTPUT,
		.output = {
			.output = output->id,
			.x = output->x,
			.y = output->y,
			.width = output->width,
			.height = output->height,
			.refresh_mhz = (uint32_t)output->refresh_mhz,
			.scale = output->scale,
			.transform = (uint32_t)output->transform,
			.physical_width_mm = output->physical_width_mm,
			.physical_height_mm = output->physical_height_mm,
		},
	};
	vmd_ctx_emit(ctx, &event);
}

static void emit_repeat_info(struct vmd_ctx *ctx) {
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
			.features = 0,
		},
	};
	vmd_ctx_emit(ctx, &event);
	if (ctx->version == 0) {
		vmd_ctx_error(ctx, TESSERA_WIRE_ERROR_VERSION, 0, "HELLO",
			"this host implements version %d only", TESSERA_WIRE_VERSION);
		return;
	}
	emit_repeat_info(ctx);
	struct vmd_wayland_output *output;
	wl_list_for_each(output, &ctx->session->wayland->outputs, link) {
		if (output->done) {
			emit_output(ctx, output);
		}
	}
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
static void ctx_write_keymap(struct vmd_ctx *ctx) {
	struct vmd_session *session = ctx->session;
	struct vmd_wayland *wayland = session->wayland;
	if (session->keyboard_focus == NULL || session->keyboard_focus->ctx != ctx) {
		return;
	}
	if (!ctx->keymap_armed || wayland->keymap == NULL ||
			ctx->keymap_sent_serial == wayland->keymap_serial ||
			ctx->state != VMD_CTX_RUNNING || ctx->fatal) {
		return;
	}
	if (wayland->keymap_size > ctx->keymap_area_size) {
		vmd_session_log(session, TESSERA_INFO, "context %u: keymap of %u bytes "
			"does not fit the guest's %u-byte area: not sent", ctx->ctx_id,
			wayland->keymap_size, ctx->keymap_area_size);
		ctx->keymap_armed = false;
		return;
	}
	const struct vmd_resource *res = vmd_session_get_resource(session,
		ctx->keymap_resource);
	if (res == NULL || tessera_wire_check_range(ctx->keymap_offset,
			wayland->keymap_size, res->size, NULL) != TESSERA_WIRE_ERROR_NONE ||
			!vmd_resource_write(res, ctx->keymap_offset, wayland->keymap,
				wayland->keymap_size)) {
		ctx->keymap_armed = false;
		return;
	}
	ctx->keymap_armed = false;
	ctx->keymap_sent_serial = wayland->keymap_serial;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_KEYMAP,
		.keymap = {
			.resource = ctx->keymap_resource,
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
	ctx->keymap_armed = true;
	ctx->keymap_resource = area->resource;
	ctx->keymap_offset = area->offset;
	ctx->keymap_area_size = area->size;
	ctx_write_keymap(ctx);
}

/* --- input --- */

static int32_t clamp_fixed(wl_fixed_t v) {
	if (v > TESSERA_WIRE_MAX_FIXED_COORD) {
		return TESSERA_WIRE_MAX_FIXED_COORD;
	}
	if (v < -TESSERA_WIRE_MAX_FIXED_COORD) {
		return -TESSERA_WIRE_MAX_FIXED_COORD;
	}
	return v;
}

static struct vmd_surface *session_surface(struct vmd_session *session,
		struct wl_surface *wl_surface) {
	struct vmd_surface *surface = vmd_surface_from_wl_surface(wl_surface);
	if (surface == NULL || surface->ctx->session != session ||
			surface->ctx->fatal) {
		return NULL;
	}
	return surface;
}

bool vmd_ctx_pointer_serial(struct vmd_ctx *ctx, uint32_t *serial) {
	struct vmd_session *session = ctx->session;
	if (session->pointer_focus == NULL || session->pointer_focus->ctx != ctx) {
		return false;
	}
	*serial = session->pointer_serial;
	return true;
}

static void emit_pointer_enter(struct vmd_surface *surface, uint32_t serial) {
	struct vmd_session *session = surface->ctx->session;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_POINTER_ENTER,
		.pointer_enter = {
			.surface = surface->id,
			.serial = serial,
			.x = clamp_fixed(session->pointer_x),
			.y = clamp_fixed(session->pointer_y),
		},
	};
	vmd_ctx_emit(surface->ctx, &event);
}

static void emit_keyboard_enter(struct vmd_surface *surface, uint32_t serial) {
	struct vmd_session *session = surface->ctx->session;
	ctx_write_keymap(surface->ctx);
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_KEYBOARD_ENTER,
		.keyboard_enter = {
			.surface = surface->id,
			.serial = serial,
			.key_count = (uint32_t)session->n_pressed,
		},
	};
	memcpy(event.keyboard_enter.keys, session->pressed,
		session->n_pressed * sizeof(uint32_t));
	vmd_ctx_emit(surface->ctx, &event);
}

static void emit_modifiers(struct vmd_ctx *ctx, uint32_t serial) {
	struct vmd_session *session = ctx->session;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_KEYBOARD_MODIFIERS,
		.keyboard_modifiers = {
			.serial = serial,
			.depressed = session->mods[0],
			.latched = session->mods[1],
			.locked = session->mods[2],
			.group = session->mods[3],
		},
	};
	vmd_ctx_emit(ctx, &event);
}

/* After input was dropped: leave and enter again with the current state,
 * so that no button or key stays stuck in the guest (§8.6). */
static void ctx_resend_focus(struct vmd_ctx *ctx) {
	struct vmd_session *session = ctx->session;
	ctx->input_dropped = false;
	struct vmd_surface *pointer = session->pointer_focus;
	if (pointer != NULL && pointer->ctx == ctx) {
		struct tessera_wire_msg leave = {
			.type = TESSERA_WIRE_POINTER_LEAVE,
			.pointer_leave = { .surface = pointer->id,
				.serial = session->pointer_serial },
		};
		vmd_ctx_emit(ctx, &leave);
		emit_pointer_enter(pointer, session->pointer_serial);
		struct tessera_wire_msg frame = { .type = TESSERA_WIRE_POINTER_FRAME };
		vmd_ctx_emit(ctx, &frame);
	}
	struct vmd_surface *keyboard = session->keyboard_focus;
	if (keyboard != NULL && keyboard->ctx == ctx) {
		struct tessera_wire_msg leave = {
			.type = TESSERA_WIRE_KEYBOARD_LEAVE,
			.keyboard_leave = { .surface = keyboard->id,
				.serial = session->keyboard_serial },
		};
		vmd_ctx_emit(ctx, &leave);
		emit_keyboard_enter(keyboard, session->keyboard_serial);
		emit_modifiers(ctx, session->keyboard_serial);
	}
}

static void input_pointer_enter(void *data, struct wl_surface *wl_surface,
		uint32_t serial, wl_fixed_t x, wl_fixed_t y) {
	struct vmd_session *session = data;
	struct vmd_surface *surface = session_surface(session, wl_surface);
	session->pointer_focus = surface;
	session->pointer_serial = serial;
	session->pointer_x = x;
	session->pointer_y = y;
	if (surface != NULL) {
		emit_pointer_enter(surface, serial);
	}
}

static void input_pointer_leave(void *data, struct wl_surface *wl_surface,
		uint32_t serial) {
	struct vmd_session *session = data;
	struct vmd_surface *surface = session->pointer_focus;
	session->pointer_focus = NULL;
	if (surface == NULL) {
		return;
	}
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_POINTER_LEAVE,
		.pointer_leave = { .surface = surface->id, .serial = serial },
	};
	vmd_ctx_emit(surface->ctx, &event);
}

static void input_pointer_motion(void *data, uint32_t time, wl_fixed_t x,
		wl_fixed_t y) {
	struct vmd_session *session = data;
	session->pointer_x = x;
	session->pointer_y = y;
	if (session->pointer_focus == NULL) {
		return;
	}
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_POINTER_MOTION,
		.pointer_motion = { .time = time, .x = clamp_fixed(x), .y = clamp_fixed(y) },
	};
	vmd_ctx_emit(session->pointer_focus->ctx, &event);
}

static void input_pointer_button(void *data, uint32_t serial, uint32_t time,
		uint32_t button, uint32_t state) {
	struct vmd_session *session = data;
	if (session->pointer_focus == NULL || button > TESSERA_WIRE_MAX_KEY ||
			state > 1) {
		return;
	}
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_POINTER_BUTTON,
		.button = { .serial = serial, .time = time, .code = button, .state = state },
	};
	vmd_ctx_emit(session->pointer_focus->ctx, &event);
}

static void input_pointer_axis(void *data, const struct vmd_wayland_axis *axis) {
	struct vmd_session *session = data;
	if (session->pointer_focus == NULL || axis->axis > 1) {
		return;
	}
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_POINTER_AXIS,
		.pointer_axis = {
			.time = axis->time,
			.axis = axis->axis,
			.value = clamp_fixed(axis->value),
		},
	};
	if (axis->stop) {
		event.pointer_axis.flags |= TESSERA_WIRE_AXIS_STOP;
	}
	if (axis->has_source && axis->source <= 3) {
		event.pointer_axis.flags |= TESSERA_WIRE_AXIS_SOURCE;
		event.pointer_axis.source = axis->source;
	}
	if (axis->has_value120) {
		event.pointer_axis.flags |= TESSERA_WIRE_AXIS_VALUE120;
		event.pointer_axis.value120 = axis->value120;
	}
	vmd_ctx_emit(session->pointer_focus->ctx, &event);
}

static void input_pointer_frame(void *data) {
	struct vmd_session *session = data;
	if (session->pointer_focus == NULL) {
		return;
	}
	struct tessera_wire_msg event = { .type = TESSERA_WIRE_POINTER_FRAME };
	vmd_ctx_emit(session->pointer_focus->ctx, &event);
}

static void input_keymap(void *data) {
	struct vmd_session *session = data;
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		ctx_write_keymap(ctx);
	}
}

static void pressed_set(struct vmd_session *session, uint32_t key, bool down) {
	for (size_t i = 0; i < session->n_pressed; i++) {
		if (session->pressed[i] == key) {
			if (!down) {
				session->pressed[i] = session->pressed[--session->n_pressed];
			}
			return;
		}
	}
	if (down && session->n_pressed < TESSERA_WIRE_MAX_KEYS) {
		session->pressed[session->n_pressed++] = key;
	}
}

static void input_keyboard_enter(void *data, struct wl_surface *wl_surface,
		uint32_t serial, const uint32_t *keys, size_t n_keys) {
	struct vmd_session *session = data;
	struct vmd_surface *surface = session_surface(session, wl_surface);
	session->keyboard_focus = surface;
	session->keyboard_serial = serial;
	session->n_pressed = 0;
	for (size_t i = 0; i < n_keys; i++) {
		if (keys[i] <= TESSERA_WIRE_MAX_KEY) {
			pressed_set(session, keys[i], true);
		}
	}
	if (surface != NULL) {
		emit_keyboard_enter(surface, serial);
	}
}

static void input_keyboard_leave(void *data, struct wl_surface *wl_surface,
		uint32_t serial) {
	struct vmd_session *session = data;
	struct vmd_surface *surface = session->keyboard_focus;
	session->keyboard_focus = NULL;
	session->n_pressed = 0;
	if (surface == NULL) {
		return;
	}
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_KEYBOARD_LEAVE,
		.keyboard_leave = { .surface = surface->id, .serial = serial },
	};
	vmd_ctx_emit(surface->ctx, &event);
}

static void input_keyboard_key(void *data, uint32_t serial, uint32_t time,
		uint32_t key, uint32_t state) {
	struct vmd_session *session = data;
	if (key > TESSERA_WIRE_MAX_KEY || state > 1) {
		return;
	}
	pressed_set(session, key, state == 1);
	session->keyboard_serial = serial;
	if (session->keyboard_focus == NULL) {
		return;
	}
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_KEYBOARD_KEY,
		.key = { .serial = serial, .time = time, .code = key, .state = state },
	};
	vmd_ctx_emit(session->keyboard_focus->ctx, &event);
}

static void input_keyboard_modifiers(void *data, uint32_t serial,
		uint32_t depressed, uint32_t latched, uint32_t locked, uint32_t group) {
	struct vmd_session *session = data;
	session->mods[0] = depressed;
	session->mods[1] = latched;
	session->mods[2] = locked;
	session->mods[3] = group;
	if (session->keyboard_focus != NULL) {
		emit_modifiers(session->keyboard_focus->ctx, serial);
	}
}

static void input_repeat_info(void *data) {
	struct vmd_session *session = data;
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		emit_repeat_info(ctx);
	}
}

static const struct vmd_wayland_input_handler input_handler = {
	.pointer_enter = input_pointer_enter,
	.pointer_leave = input_pointer_leave,
	.pointer_motion = input_pointer_motion,
	.pointer_button = input_pointer_button,
	.pointer_axis = input_pointer_axis,
	.pointer_frame = input_pointer_frame,
	.keymap = input_keymap,
	.keyboard_enter = input_keyboard_enter,
	.keyboard_leave = input_keyboard_leave,
	.keyboard_key = input_keyboard_key,
	.keyboard_modifiers = input_keyboard_modifiers,
	.repeat_info = input_repeat_info,
};

void vmd_session_surface_gone(struct vmd_session *session, struct vmd_surface *surface) {
	if (session->pointer_focus == surface) {
		session->pointer_focus = NULL;
	}
	if (session->keyboard_focus == surface) {
		session->keyboard_focus = NULL;
	}
}

void vmd_session_events_init(struct vmd_session *session) {
	session->output.notify = handle_output;
	wl_signal_add(&session->wayland->events.output, &session->output);
	session->output_remove.notify = handle_output_remove;
	wl_signal_add(&session->wayland->events.output_remove, &session->output_remove);
	vmd_wayland_set_input_handler(session->wayland, &input_handler, session);
}

void vmd_session_events_finish(struct vmd_session *session) {
	if (session->wayland->input_data == session) {
		vmd_wayland_set_input_handler(session->wayland, NULL, NULL);
	}
	wl_list_remove(&session->output.link);
	wl_list_remove(&session->output_remove.link);
	if (session->idle != NULL) {
		wl_event_source_remove(session->idle);
		session->idle = NULL;
	}
}
