/*
 * tessera-test-pointer ACTION...
 *
 * Injects pointer input through zwlr_virtual_pointer_manager_v1, for tests.
 * Actions, executed in order, each pointer action followed by a frame:
 *   move X Y          absolute motion to (X, Y) in pixels of the first
 *                     wl_output (its current mode is the motion extent)
 *   click BTN         press and release
 *   press BTN         press
 *   release BTN       release
 *   scroll STEPS      vertical wheel scroll by STEPS notches (1..100 down;
 *                     a leading '-' scrolls up), 15 units and 120 (value120
 *                     via axis_discrete 1) per notch
 *   sleep MS          wait for the compositor to process everything sent so
 *                     far, then sleep MS milliseconds
 * BTN is left, right, middle or a decimal Linux button code (272 = BTN_LEFT).
 * Exit: 0 done, 1 connection/protocol failure, 2 bad usage, 3 the
 * compositor does not offer a needed global.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wayland-client.h>
#include "clock.h"
#include "log.h"
#include "tessera-client.h"
#include "wlr-virtual-pointer-unstable-v1-client-protocol.h"

#define MAX_COORDINATE 1000000
#define MAX_SLEEP_MS 600000

enum action_type {
	ACTION_MOVE,
	ACTION_CLICK,
	ACTION_PRESS,
	ACTION_RELEASE,
	ACTION_SLEEP,
	ACTION_SCROLL,
};

struct action {
	enum action_type type;
	uint32_t a, b; /* move: x, y; buttons: code; sleep: ms; scroll: notches, up */
};

struct test_pointer {
	struct wl_display *display;
	struct tessera_client_registry registry;
	struct tessera_client_global wanted[2];
	struct zwlr_virtual_pointer_manager_v1 *manager;
	struct wl_output *output;
	struct zwlr_virtual_pointer_v1 *pointer;
	int32_t mode_width, mode_height;
};

static void usage(void) {
	fprintf(stderr,
		"usage: tessera-test-pointer ACTION...\n"
		"  move X Y | click BTN | press BTN | release BTN | scroll [-]STEPS | sleep MS\n"
		"  BTN: left, right, middle or a Linux button code\n");
}

static bool parse_button(const char *str, uint32_t *out) {
	if (str == NULL) {
		return false;
	}
	if (strcmp(str, "left") == 0) {
		*out = BTN_LEFT;
	} else if (strcmp(str, "right") == 0) {
		*out = BTN_RIGHT;
	} else if (strcmp(str, "middle") == 0) {
		*out = BTN_MIDDLE;
	} else {
		return tessera_client_parse_uint(str, KEY_MAX, out);
	}
	return true;
}

/* Returns the number of actions, or -1 on a usage error. */
static int parse_actions(int argc, char *argv[], struct action *actions) {
	int count = 0;
	for (int i = 1; i < argc;) {
		const char *name = argv[i++];
		const char *arg1 = i < argc ? argv[i] : NULL;
		const char *arg2 = i + 1 < argc ? argv[i + 1] : NULL;
		struct action *action = &actions[count];
		if (strcmp(name, "move") == 0) {
			action->type = ACTION_MOVE;
			if (!tessera_client_parse_uint(arg1, MAX_COORDINATE, &action->a) ||
					!tessera_client_parse_uint(arg2, MAX_COORDINATE, &action->b)) {
				tessera_log(TESSERA_ERROR, "move: expected X Y (pixels, >= 0)");
				return -1;
			}
			i += 2;
		} else if (strcmp(name, "click") == 0 || strcmp(name, "press") == 0 ||
				strcmp(name, "release") == 0) {
			action->type = name[0] == 'c' ? ACTION_CLICK :
				name[0] == 'p' ? ACTION_PRESS : ACTION_RELEASE;
			if (!parse_button(arg1, &action->a)) {
				tessera_log(TESSERA_ERROR, "%s: expected left, right, middle or a button code, "
					"got '%s'", name, arg1 != NULL ? arg1 : "");
				return -1;
			}
			i += 1;
		} else if (strcmp(name, "scroll") == 0) {
			action->type = ACTION_SCROLL;
			action->b = arg1 != NULL && arg1[0] == '-';
			if (!tessera_client_parse_uint(arg1 != NULL ? arg1 + action->b : NULL, 100,
					&action->a) || action->a == 0) {
				tessera_log(TESSERA_ERROR, "scroll: expected 1..100 notches, '-' for up");
				return -1;
			}
			i += 1;
		} else if (strcmp(name, "sleep") == 0) {
			action->type = ACTION_SLEEP;
			if (!tessera_client_parse_uint(arg1, MAX_SLEEP_MS, &action->a)) {
				tessera_log(TESSERA_ERROR, "sleep: expected milliseconds 0..%d", MAX_SLEEP_MS);
				return -1;
			}
			i += 1;
		} else {
			tessera_log(TESSERA_ERROR, "unknown action '%s'", name);
			return -1;
		}
		count++;
	}
	return count;
}

static void output_handle_geometry(void *data, struct wl_output *output, int32_t x,
		int32_t y, int32_t physical_width, int32_t physical_height, int32_t subpixel,
		const char *make, const char *model, int32_t transform) {
	/* unused */
}

static void output_handle_mode(void *data, struct wl_output *output, uint32_t flags,
		int32_t width, int32_t height, int32_t refresh) {
	struct test_pointer *state = data;
	if (flags & WL_OUTPUT_MODE_CURRENT) {
		state->mode_width = width;
		state->mode_height = height;
	}
}

static void output_handle_done(void *data, struct wl_output *output) {
	/* unused */
}

static void output_handle_scale(void *data, struct wl_output *output, int32_t factor) {
	/* unused */
}

static void output_handle_name(void *data, struct wl_output *output, const char *name) {
	/* unused */
}

static void output_handle_description(void *data, struct wl_output *output,
		const char *description) {
	/* unused */
}

static const struct wl_output_listener output_listener = {
	.geometry = output_handle_geometry,
	.mode = output_handle_mode,
	.done = output_handle_done,
	.scale = output_handle_scale,
	.name = output_handle_name,
	.description = output_handle_description,
};

static void registry_init(struct test_pointer *state) {
	const struct tessera_client_global wanted[] = {
		{ &zwlr_virtual_pointer_manager_v1_interface, 1, 2, (void **)&state->manager },
		{ &wl_output_interface, 1, 2, (void **)&state->output, &output_listener, state },
	};
	_Static_assert(sizeof(wanted) == sizeof(state->wanted), "wanted[] size");
	memcpy(state->wanted, wanted, sizeof(wanted));
	tessera_client_registry_init(&state->registry, state->display, state->wanted,
		sizeof(state->wanted) / sizeof(state->wanted[0]));
}

static void test_pointer_finish(struct test_pointer *state) {
	if (state->pointer != NULL) {
		zwlr_virtual_pointer_v1_destroy(state->pointer);
	}
	if (state->manager != NULL) {
		zwlr_virtual_pointer_manager_v1_destroy(state->manager);
	}
	if (state->output != NULL) {
		if (wl_output_get_version(state->output) >= WL_OUTPUT_RELEASE_SINCE_VERSION) {
			wl_output_release(state->output);
		} else {
			wl_output_destroy(state->output);
		}
	}
	tessera_client_registry_finish(&state->registry);
	if (state->display != NULL) {
		wl_display_roundtrip(state->display);
		wl_display_disconnect(state->display);
	}
}

static void sleep_ms(uint32_t ms) {
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
		/* continue with the remaining time */
	}
}

static void send_button(struct test_pointer *state, uint32_t button, bool pressed) {
	uint32_t now = (uint32_t)tessera_clock_now_ms();
	zwlr_virtual_pointer_v1_button(state->pointer, now, button,
		pressed ? WL_POINTER_BUTTON_STATE_PRESSED : WL_POINTER_BUTTON_STATE_RELEASED);
	zwlr_virtual_pointer_v1_frame(state->pointer);
}

static int run_actions(struct test_pointer *state, const struct action *actions,
		int count) {
	for (int i = 0; i < count; i++) {
		const struct action *action = &actions[i];
		if (action->type == ACTION_MOVE && (action->a >= (uint32_t)state->mode_width ||
				action->b >= (uint32_t)state->mode_height)) {
			tessera_log(TESSERA_ERROR, "move %u %u: outside the output (%dx%d)",
				action->a, action->b, state->mode_width, state->mode_height);
			return 2;
		}
	}

	for (int i = 0; i < count; i++) {
		const struct action *action = &actions[i];
		switch (action->type) {
		case ACTION_MOVE:
			zwlr_virtual_pointer_v1_motion_absolute(state->pointer,
				(uint32_t)tessera_clock_now_ms(), action->a, action->b,
				(uint32_t)state->mode_width, (uint32_t)state->mode_height);
			zwlr_virtual_pointer_v1_frame(state->pointer);
			break;
		case ACTION_CLICK:
			send_button(state, action->a, true);
			send_button(state, action->a, false);
			break;
		case ACTION_PRESS:
			send_button(state, action->a, true);
			break;
		case ACTION_RELEASE:
			send_button(state, action->a, false);
			break;
		case ACTION_SCROLL: {
			int32_t notches = action->b ? -(int32_t)action->a : (int32_t)action->a;
			zwlr_virtual_pointer_v1_axis_source(state->pointer,
				WL_POINTER_AXIS_SOURCE_WHEEL);
			zwlr_virtual_pointer_v1_axis_discrete(state->pointer,
				(uint32_t)tessera_clock_now_ms(), WL_POINTER_AXIS_VERTICAL_SCROLL,
				wl_fixed_from_int(15 * notches), notches);
			zwlr_virtual_pointer_v1_frame(state->pointer);
			break;
		}
		case ACTION_SLEEP:
			if (!tessera_client_roundtrip(state->display)) {
				return 1;
			}
			sleep_ms(action->a);
			break;
		}
		if (wl_display_flush(state->display) < 0 && errno != EAGAIN) {
			tessera_log_errno(TESSERA_ERROR, "lost the connection to the compositor");
			return 1;
		}
	}
	return tessera_client_roundtrip(state->display) ? 0 : 1;
}

int main(int argc, char *argv[]) {
	tessera_log_init(TESSERA_ERROR, NULL);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage();
		return argc < 2 ? 2 : 0;
	}
	/* every action takes at least one word */
	struct action *actions = calloc((size_t)argc, sizeof(*actions));
	if (actions == NULL) {
		tessera_log(TESSERA_ERROR, "out of memory");
		return 1;
	}
	int count = parse_actions(argc, argv, actions);
	if (count < 0) {
		usage();
		free(actions);
		return 2;
	}

	struct test_pointer state = {0};
	int ret = 1;
	state.display = wl_display_connect(NULL);
	if (state.display == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot connect to the Wayland compositor");
		goto out;
	}
	registry_init(&state);
	if (!tessera_client_roundtrip(state.display)) {
		goto out;
	}
	if (state.manager == NULL) {
		tessera_log(TESSERA_ERROR, "zwlr_virtual_pointer_manager_v1 not offered");
		ret = 3;
		goto out;
	}
	if (state.output == NULL) {
		tessera_log(TESSERA_ERROR, "wl_output not offered");
		ret = 3;
		goto out;
	}
	if (!tessera_client_roundtrip(state.display)) {
		goto out;
	}
	if (state.mode_width <= 0 || state.mode_height <= 0) {
		tessera_log(TESSERA_ERROR, "the first wl_output has no current mode");
		goto out;
	}

	if (zwlr_virtual_pointer_manager_v1_get_version(state.manager) >=
			ZWLR_VIRTUAL_POINTER_MANAGER_V1_CREATE_VIRTUAL_POINTER_WITH_OUTPUT_SINCE_VERSION) {
		state.pointer = zwlr_virtual_pointer_manager_v1_create_virtual_pointer_with_output(
			state.manager, NULL, state.output);
	} else {
		state.pointer = zwlr_virtual_pointer_manager_v1_create_virtual_pointer(
			state.manager, NULL);
	}
	ret = run_actions(&state, actions, count);

out:
	test_pointer_finish(&state);
	free(actions);
	return ret;
}
