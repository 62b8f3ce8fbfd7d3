/*
 * tessera-test-keyboard [--layout NAME] ACTION...
 *
 * Types through a zwp_virtual_keyboard_v1, for tests, like a real keyboard
 * would: Linux key codes with a keymap compiled from RMLVO names (rules
 * evdev, model pc105, layout NAME, default us; the XKB_DEFAULT_* variables
 * are ignored). Actions, in order:
 *   key CODE    press and release the key of that Linux input event code
 *               (21 = KEY_Y)
 *   sleep MS    wait for the compositor to process everything sent so far,
 *               then sleep MS milliseconds
 * Exit: 0 done, 1 connection/protocol failure, 2 bad usage, 3 the
 * compositor does not offer a needed global.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>
#include <xkbcommon/xkbcommon.h>

#include "clock.h"
#include "log.h"
#include "tessera-client.h"
#include "virtual-keyboard-unstable-v1-client-protocol.h"

#define MAX_SLEEP_MS 600000

struct test_keyboard {
	struct wl_display *display;
	struct tessera_client_registry registry;
	struct tessera_client_global wanted[2];
	struct zwp_virtual_keyboard_manager_v1 *manager;
	struct wl_seat *seat;
	struct zwp_virtual_keyboard_v1 *keyboard;
};

static void usage(void) {
	fprintf(stderr, "usage: tessera-test-keyboard [--layout NAME] ACTION...\n"
		"  key CODE | sleep MS\n");
}

static void sleep_ms(uint32_t ms) {
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
		/* the remaining time */
	}
}

/* Checks the actions before anything is sent; false on a usage error. */
static bool check_actions(int argc, char *argv[], int first) {
	for (int i = first; i < argc; i += 2) {
		uint32_t value;
		bool is_key = strcmp(argv[i], "key") == 0;
		if (!is_key && strcmp(argv[i], "sleep") != 0) {
			tessera_log(TESSERA_ERROR, "unknown action '%s'", argv[i]);
			return false;
		}
		if (i + 1 >= argc || !tessera_client_parse_uint(argv[i + 1],
				is_key ? KEY_MAX : MAX_SLEEP_MS, &value)) {
			tessera_log(TESSERA_ERROR, "%s: expected %s", argv[i],
				is_key ? "a Linux key code" : "milliseconds");
			return false;
		}
	}
	return true;
}

/* Sends the keymap of layout as the keyboard's. */
static bool send_keymap(struct test_keyboard *state, const char *layout) {
	struct xkb_context *context = xkb_context_new(XKB_CONTEXT_NO_ENVIRONMENT_NAMES);
	const struct xkb_rule_names names = {
		.rules = "evdev", .model = "pc105", .layout = layout,
	};
	struct xkb_keymap *keymap = context == NULL ? NULL :
		xkb_keymap_new_from_names(context, &names, XKB_KEYMAP_COMPILE_NO_FLAGS);
	char *text = keymap == NULL ? NULL :
		xkb_keymap_get_as_string(keymap, XKB_KEYMAP_FORMAT_TEXT_V1);
	xkb_keymap_unref(keymap);
	xkb_context_unref(context);
	if (text == NULL) {
		tessera_log(TESSERA_ERROR, "cannot compile the keymap of layout '%s'", layout);
		return false;
	}
	size_t size = strlen(text) + 1;
	int fd = memfd_create("tessera-test-keymap", MFD_CLOEXEC);
	bool ok = fd >= 0 && write(fd, text, size) == (ssize_t)size;
	free(text);
	if (!ok) {
		tessera_log_errno(TESSERA_ERROR, "cannot write the keymap");
		if (fd >= 0) {
			close(fd);
		}
		return false;
	}
	zwp_virtual_keyboard_v1_keymap(state->keyboard, WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1,
		fd, (uint32_t)size);
	close(fd);
	return true;
}

static void send_key(struct test_keyboard *state, uint32_t code, bool pressed) {
	zwp_virtual_keyboard_v1_key(state->keyboard, (uint32_t)tessera_clock_now_ms(), code,
		pressed ? WL_KEYBOARD_KEY_STATE_PRESSED : WL_KEYBOARD_KEY_STATE_RELEASED);
}

static int run_actions(struct test_keyboard *state, int argc, char *argv[], int first) {
	for (int i = first; i < argc; i += 2) {
		uint32_t value;
		bool is_key = strcmp(argv[i], "key") == 0;
		tessera_client_parse_uint(argv[i + 1], is_key ? KEY_MAX : MAX_SLEEP_MS, &value);
		if (is_key) {
			send_key(state, value, true);
			send_key(state, value, false);
		} else {
			if (!tessera_client_roundtrip(state->display)) {
				return 1;
			}
			sleep_ms(value);
		}
		if (wl_display_flush(state->display) < 0 && errno != EAGAIN) {
			tessera_log_errno(TESSERA_ERROR, "lost the connection to the compositor");
			return 1;
		}
	}
	return tessera_client_roundtrip(state->display) ? 0 : 1;
}

static void test_keyboard_finish(struct test_keyboard *state) {
	if (state->keyboard != NULL) {
		zwp_virtual_keyboard_v1_destroy(state->keyboard);
	}
	if (state->manager != NULL) {
		wl_proxy_destroy((struct wl_proxy *)state->manager);
	}
	if (state->seat != NULL) {
		if (wl_seat_get_version(state->seat) >= WL_SEAT_RELEASE_SINCE_VERSION) {
			wl_seat_release(state->seat);
		} else {
			wl_seat_destroy(state->seat);
		}
	}
	tessera_client_registry_finish(&state->registry);
	if (state->display != NULL) {
		wl_display_roundtrip(state->display);
		wl_display_disconnect(state->display);
	}
}

int main(int argc, char *argv[]) {
	tessera_log_init(TESSERA_ERROR, NULL);
	int first = 1;
	const char *layout = "us";
	if (argc >= 3 && strcmp(argv[1], "--layout") == 0) {
		layout = argv[2];
		first = 3;
	}
	if (argc <= first || strcmp(argv[first], "--help") == 0 ||
			!check_actions(argc, argv, first)) {
		usage();
		return argc > first && strcmp(argv[first], "--help") == 0 ? 0 : 2;
	}

	struct test_keyboard state = { 0 };
	int ret = 1;
	state.display = wl_display_connect(NULL);
	if (state.display == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot connect to the Wayland compositor");
		goto out;
	}
	const struct tessera_client_global wanted[] = {
		{ &zwp_virtual_keyboard_manager_v1_interface, 1, 1, (void **)&state.manager },
		{ &wl_seat_interface, 1, 5, (void **)&state.seat },
	};
	memcpy(state.wanted, wanted, sizeof(wanted));
	tessera_client_registry_init(&state.registry, state.display, state.wanted,
		sizeof(state.wanted) / sizeof(state.wanted[0]));
	if (!tessera_client_roundtrip(state.display)) {
		goto out;
	}
	if (state.manager == NULL || state.seat == NULL) {
		tessera_log(TESSERA_ERROR, "%s not offered", state.manager == NULL ?
			"zwp_virtual_keyboard_manager_v1" : "wl_seat");
		ret = 3;
		goto out;
	}
	state.keyboard = zwp_virtual_keyboard_manager_v1_create_virtual_keyboard(
		state.manager, state.seat);
	if (!send_keymap(&state, layout)) {
		goto out;
	}
	ret = run_actions(&state, argc, argv, first);

out:
	test_keyboard_finish(&state);
	return ret;
}
