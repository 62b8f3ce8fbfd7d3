/*
 * Compositor -> guest: pointer and keyboard focus on the VM's surfaces and
 * the input events, into the ring of the context owning the focused
 * surface. See input.h.
 */
#include <string.h>

#include "context.h"
#include "surface.h"

static int32_t clamp_fixed(wl_fixed_t v) {
	if (v > TESSERA_WIRE_MAX_FIXED_COORD) {
		return TESSERA_WIRE_MAX_FIXED_COORD;
	}
	if (v < -TESSERA_WIRE_MAX_FIXED_COORD) {
		return -TESSERA_WIRE_MAX_FIXED_COORD;
	}
	return v;
}

/* A host surface coordinate as the guest's: moved by the crop of the
 * surface to its window geometry (xdg-surface.c). */
static int32_t guest_fixed(wl_fixed_t v, int32_t crop) {
	int64_t moved = (int64_t)v + (int64_t)crop * 256; /* 24.8 fixed point */
	if (moved > TESSERA_WIRE_MAX_FIXED_COORD) {
		return TESSERA_WIRE_MAX_FIXED_COORD;
	}
	if (moved < -TESSERA_WIRE_MAX_FIXED_COORD) {
		return -TESSERA_WIRE_MAX_FIXED_COORD;
	}
	return (int32_t)moved;
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
	struct vmd_surface *focus = session->input.pointer_focus;
	if (focus == NULL || focus->ctx != ctx) {
		return false;
	}
	*serial = session->input.pointer_serial;
	return true;
}

bool vmd_ctx_has_keyboard_focus(struct vmd_ctx *ctx) {
	struct vmd_session *session = ctx->session;
	return session->input.keyboard_focus != NULL &&
		session->input.keyboard_focus->ctx == ctx;
}

static void emit_pointer_enter(struct vmd_surface *surface, uint32_t serial) {
	struct vmd_session *session = surface->ctx->session;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_POINTER_ENTER,
		.pointer_enter = {
			.surface = surface->id,
			.serial = serial,
			.x = guest_fixed(session->input.pointer_x, surface->crop.x),
			.y = guest_fixed(session->input.pointer_y, surface->crop.y),
		},
	};
	vmd_ctx_emit(surface->ctx, &event);
}

static void emit_keyboard_enter(struct vmd_surface *surface, uint32_t serial) {
	struct vmd_session *session = surface->ctx->session;
	vmd_ctx_write_keymap(surface->ctx);
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_KEYBOARD_ENTER,
		.keyboard_enter = {
			.surface = surface->id,
			.serial = serial,
			.key_count = (uint32_t)session->input.n_pressed,
		},
	};
	memcpy(event.keyboard_enter.keys, session->input.pressed,
		session->input.n_pressed * sizeof(uint32_t));
	vmd_ctx_emit(surface->ctx, &event);
}

static void emit_modifiers(struct vmd_ctx *ctx, uint32_t serial) {
	struct vmd_session *session = ctx->session;
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_KEYBOARD_MODIFIERS,
		.keyboard_modifiers = {
			.serial = serial,
			.depressed = session->input.mods[0],
			.latched = session->input.mods[1],
			.locked = session->input.mods[2],
			.group = session->input.mods[3],
		},
	};
	vmd_ctx_emit(ctx, &event);
}

void vmd_ctx_resend_focus(struct vmd_ctx *ctx) {
	struct vmd_session *session = ctx->session;
	struct vmd_surface *pointer = session->input.pointer_focus;
	if (pointer != NULL && pointer->ctx == ctx) {
		struct tessera_wire_msg leave = {
			.type = TESSERA_WIRE_POINTER_LEAVE,
			.pointer_leave = { .surface = pointer->id,
				.serial = session->input.pointer_serial },
		};
		vmd_ctx_emit(ctx, &leave);
		emit_pointer_enter(pointer, session->input.pointer_serial);
		struct tessera_wire_msg frame = { .type = TESSERA_WIRE_POINTER_FRAME };
		vmd_ctx_emit(ctx, &frame);
	}
	struct vmd_surface *keyboard = session->input.keyboard_focus;
	if (keyboard != NULL && keyboard->ctx == ctx) {
		struct tessera_wire_msg leave = {
			.type = TESSERA_WIRE_KEYBOARD_LEAVE,
			.keyboard_leave = { .surface = keyboard->id,
				.serial = session->input.keyboard_serial },
		};
		vmd_ctx_emit(ctx, &leave);
		emit_keyboard_enter(keyboard, session->input.keyboard_serial);
		emit_modifiers(ctx, session->input.keyboard_serial);
	}
}

static void input_pointer_enter(void *data, struct wl_surface *wl_surface,
		uint32_t serial, wl_fixed_t x, wl_fixed_t y) {
	struct vmd_session *session = data;
	struct vmd_surface *surface = session_surface(session, wl_surface);
	session->input.pointer_focus = surface;
	session->input.pointer_serial = serial;
	session->input.pointer_x = x;
	session->input.pointer_y = y;
	if (surface != NULL) {
		emit_pointer_enter(surface, serial);
	}
}

static void input_pointer_leave(void *data, struct wl_surface *wl_surface,
		uint32_t serial) {
	struct vmd_session *session = data;
	struct vmd_surface *surface = session->input.pointer_focus;
	session->input.pointer_focus = NULL;
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
	session->input.pointer_x = x;
	session->input.pointer_y = y;
	struct vmd_surface *focus = session->input.pointer_focus;
	if (focus == NULL) {
		return;
	}
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_POINTER_MOTION,
		.pointer_motion = { .time = time, .x = guest_fixed(x, focus->crop.x),
			.y = guest_fixed(y, focus->crop.y) },
	};
	vmd_ctx_emit(focus->ctx, &event);
}

static void input_pointer_button(void *data, uint32_t serial, uint32_t time,
		uint32_t button, uint32_t state) {
	struct vmd_session *session = data;
	if (session->input.pointer_focus == NULL || button > TESSERA_WIRE_MAX_KEY ||
			state > 1) {
		return;
	}
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_POINTER_BUTTON,
		.button = { .serial = serial, .time = time, .code = button, .state = state },
	};
	vmd_ctx_emit(session->input.pointer_focus->ctx, &event);
}

static void input_pointer_axis(void *data, const struct vmd_wayland_axis *axis) {
	struct vmd_session *session = data;
	if (session->input.pointer_focus == NULL || axis->axis > 1) {
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
	vmd_ctx_emit(session->input.pointer_focus->ctx, &event);
}

static void input_pointer_frame(void *data) {
	struct vmd_session *session = data;
	if (session->input.pointer_focus == NULL) {
		return;
	}
	struct tessera_wire_msg event = { .type = TESSERA_WIRE_POINTER_FRAME };
	vmd_ctx_emit(session->input.pointer_focus->ctx, &event);
}

static void input_keymap(void *data) {
	struct vmd_session *session = data;
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		vmd_ctx_write_keymap(ctx);
	}
}

static void pressed_set(struct vmd_session *session, uint32_t key, bool down) {
	for (size_t i = 0; i < session->input.n_pressed; i++) {
		if (session->input.pressed[i] == key) {
			if (!down) {
				session->input.pressed[i] =
					session->input.pressed[--session->input.n_pressed];
			}
			return;
		}
	}
	if (down && session->input.n_pressed < TESSERA_WIRE_MAX_KEYS) {
		session->input.pressed[session->input.n_pressed++] = key;
	}
}

static void input_keyboard_enter(void *data, struct wl_surface *wl_surface,
		uint32_t serial, const uint32_t *keys, size_t n_keys) {
	struct vmd_session *session = data;
	struct vmd_surface *surface = session_surface(session, wl_surface);
	session->input.keyboard_focus = surface;
	session->input.keyboard_serial = serial;
	session->input.n_pressed = 0;
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
	struct vmd_surface *surface = session->input.keyboard_focus;
	session->input.keyboard_focus = NULL;
	session->input.n_pressed = 0;
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
	session->input.keyboard_serial = serial;
	if (session->input.keyboard_focus == NULL) {
		return;
	}
	struct tessera_wire_msg event = {
		.type = TESSERA_WIRE_KEYBOARD_KEY,
		.key = { .serial = serial, .time = time, .code = key, .state = state },
	};
	vmd_ctx_emit(session->input.keyboard_focus->ctx, &event);
}

static void input_keyboard_modifiers(void *data, uint32_t serial,
		uint32_t depressed, uint32_t latched, uint32_t locked, uint32_t group) {
	struct vmd_session *session = data;
	session->input.mods[0] = depressed;
	session->input.mods[1] = latched;
	session->input.mods[2] = locked;
	session->input.mods[3] = group;
	if (session->input.keyboard_focus != NULL) {
		emit_modifiers(session->input.keyboard_focus->ctx, serial);
	}
}

static void input_repeat_info(void *data) {
	struct vmd_session *session = data;
	struct vmd_ctx *ctx;
	wl_list_for_each(ctx, &session->contexts, link) {
		vmd_ctx_send_repeat_info(ctx);
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

void vmd_input_surface_gone(struct vmd_session *session, struct vmd_surface *surface) {
	if (session->input.pointer_focus == surface) {
		session->input.pointer_focus = NULL;
	}
	if (session->input.keyboard_focus == surface) {
		session->input.keyboard_focus = NULL;
	}
}

void vmd_session_input_init(struct vmd_session *session) {
	vmd_wayland_set_input_handler(session->wayland, &input_handler, session);
}

void vmd_session_input_finish(struct vmd_session *session) {
	if (session->wayland->input_data == session) {
		vmd_wayland_set_input_handler(session->wayland, NULL, NULL);
	}
}
