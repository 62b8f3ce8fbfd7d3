/*
 * tessera-test-toplevels
 *
 * Lists the compositor's toplevels through zwlr_foreign_toplevel_manager_v1:
 * one line "<title>\t<app_id>" per toplevel, in the order the compositor
 * announced them (tabs and line breaks inside a title or app id are printed
 * as spaces; a missing one as an empty string). Exit: 0 done, 1
 * connection/protocol failure, 2 bad usage, 3 the compositor does not offer
 * the global.
 *
 * tessera-test-toplevels --close TITLE
 *   asks the compositor to close every toplevel with exactly that title,
 *   as a taskbar would; exit 4 when none has it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-client.h>
#include "log.h"
#include "tessera-client.h"
#include "wlr-foreign-toplevel-management-unstable-v1-client-protocol.h"

#define MAX_ROUNDTRIPS 100
#define MAX_STRING_LENGTH 4096

struct test_toplevels;

struct toplevel {
	struct test_toplevels *state;
	struct zwlr_foreign_toplevel_handle_v1 *handle;
	char *title, *app_id;
	bool done, closed;
	struct wl_list link;
};

struct test_toplevels {
	struct wl_display *display;
	struct tessera_client_registry registry;
	struct tessera_client_global wanted[1];
	struct zwlr_foreign_toplevel_manager_v1 *manager;
	struct wl_list toplevels; /* toplevel.link, in announcement order */
	bool finished;
	bool out_of_memory;
};

static void replace_string(struct toplevel *toplevel, char **dst, const char *src) {
	char *copy = strndup(src, MAX_STRING_LENGTH);
	if (copy == NULL) {
		toplevel->state->out_of_memory = true;
		return;
	}
	free(*dst);
	*dst = copy;
}

static void handle_title(void *data, struct zwlr_foreign_toplevel_handle_v1 *handle,
		const char *title) {
	struct toplevel *toplevel = data;
	replace_string(toplevel, &toplevel->title, title);
}

static void handle_app_id(void *data, struct zwlr_foreign_toplevel_handle_v1 *handle,
		const char *app_id) {
	struct toplevel *toplevel = data;
	replace_string(toplevel, &toplevel->app_id, app_id);
}

static void handle_output_enter(void *data, struct zwlr_foreign_toplevel_handle_v1 *handle,
		struct wl_output *output) {
	/* unused */
}

static void handle_output_leave(void *data, struct zwlr_foreign_toplevel_handle_v1 *handle,
		struct wl_output *output) {
	/* unused */
}

static void handle_state(void *data, struct zwlr_foreign_toplevel_handle_v1 *handle,
		struct wl_array *states) {
	/* unused */
}

static void handle_done(void *data, struct zwlr_foreign_toplevel_handle_v1 *handle) {
	struct toplevel *toplevel = data;
	toplevel->done = true;
}

static void handle_closed(void *data, struct zwlr_foreign_toplevel_handle_v1 *handle) {
	struct toplevel *toplevel = data;
	toplevel->closed = true;
}

static void handle_parent(void *data, struct zwlr_foreign_toplevel_handle_v1 *handle,
		struct zwlr_foreign_toplevel_handle_v1 *parent) {
	/* unused */
}

static const struct zwlr_foreign_toplevel_handle_v1_listener handle_listener = {
	.title = handle_title,
	.app_id = handle_app_id,
	.output_enter = handle_output_enter,
	.output_leave = handle_output_leave,
	.state = handle_state,
	.done = handle_done,
	.closed = handle_closed,
	.parent = handle_parent,
};

static void manager_handle_toplevel(void *data,
		struct zwlr_foreign_toplevel_manager_v1 *manager,
		struct zwlr_foreign_toplevel_handle_v1 *handle) {
	struct test_toplevels *state = data;
	struct toplevel *toplevel = calloc(1, sizeof(*toplevel));
	if (toplevel == NULL) {
		state->out_of_memory = true;
		zwlr_foreign_toplevel_handle_v1_destroy(handle);
		return;
	}
	toplevel->state = state;
	toplevel->handle = handle;
	wl_list_insert(state->toplevels.prev, &toplevel->link);
	zwlr_foreign_toplevel_handle_v1_add_listener(handle, &handle_listener, toplevel);
}

static void manager_handle_finished(void *data,
		struct zwlr_foreign_toplevel_manager_v1 *manager) {
	struct test_toplevels *state = data;
	state->finished = true;
}

static const struct zwlr_foreign_toplevel_manager_v1_listener manager_listener = {
	.toplevel = manager_handle_toplevel,
	.finished = manager_handle_finished,
};

static void registry_init(struct test_toplevels *state) {
	state->wanted[0] = (struct tessera_client_global){
		&zwlr_foreign_toplevel_manager_v1_interface, 1, 3, (void **)&state->manager,
		&manager_listener, state,
	};
	tessera_client_registry_init(&state->registry, state->display, state->wanted, 1);
}

static bool roundtrip(struct test_toplevels *state) {
	if (!tessera_client_roundtrip(state->display)) {
		return false;
	}
	if (state->out_of_memory) {
		tessera_log(TESSERA_ERROR, "out of memory");
		return false;
	}
	return true;
}

static bool all_done(struct test_toplevels *state) {
	struct toplevel *toplevel;
	wl_list_for_each(toplevel, &state->toplevels, link) {
		if (!toplevel->done && !toplevel->closed) {
			return false;
		}
	}
	return true;
}

static void print_field(const char *str) {
	for (const char *c = str != NULL ? str : ""; *c != '\0'; c++) {
		putchar(*c == '\t' || *c == '\n' || *c == '\r' ? ' ' : *c);
	}
}

static void test_toplevels_finish(struct test_toplevels *state) {
	struct toplevel *toplevel, *tmp;
	wl_list_for_each_safe(toplevel, tmp, &state->toplevels, link) {
		zwlr_foreign_toplevel_handle_v1_destroy(toplevel->handle);
		wl_list_remove(&toplevel->link);
		free(toplevel->title);
		free(toplevel->app_id);
		free(toplevel);
	}
	if (state->manager != NULL) {
		zwlr_foreign_toplevel_manager_v1_destroy(state->manager);
	}
	tessera_client_registry_finish(&state->registry);
	if (state->display != NULL) {
		wl_display_disconnect(state->display);
	}
}

int main(int argc, char *argv[]) {
	tessera_log_init(TESSERA_ERROR, NULL);
	const char *close_title = NULL;
	if (argc == 3 && strcmp(argv[1], "--close") == 0) {
		close_title = argv[2];
	} else if (argc > 1) {
		fprintf(stderr, "usage: tessera-test-toplevels [--close TITLE]\n");
		return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? 0 : 2;
	}

	struct test_toplevels state = {0};
	wl_list_init(&state.toplevels);
	int ret = 1;
	state.display = wl_display_connect(NULL);
	if (state.display == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot connect to the Wayland compositor");
		goto out;
	}
	registry_init(&state);
	if (!roundtrip(&state)) {
		goto out;
	}
	if (state.manager == NULL) {
		tessera_log(TESSERA_ERROR, "zwlr_foreign_toplevel_manager_v1 not offered");
		ret = 3;
		goto out;
	}
	int roundtrips = 0;
	do {
		if (!roundtrip(&state)) {
			goto out;
		}
		if (++roundtrips > MAX_ROUNDTRIPS) {
			tessera_log(TESSERA_ERROR, "toplevel handles did not send done after %d roundtrips",
				MAX_ROUNDTRIPS);
			goto out;
		}
	} while (!all_done(&state));

	struct toplevel *toplevel;
	if (close_title != NULL) {
		int matched = 0;
		wl_list_for_each(toplevel, &state.toplevels, link) {
			if (toplevel->closed || toplevel->title == NULL ||
					strcmp(toplevel->title, close_title) != 0) {
				continue;
			}
			zwlr_foreign_toplevel_handle_v1_close(toplevel->handle);
			matched++;
		}
		if (!roundtrip(&state)) {
			goto out;
		}
		ret = matched > 0 ? 0 : 4;
		if (matched == 0) {
			tessera_log(TESSERA_ERROR, "no toplevel titled '%s'", close_title);
		}
		goto out;
	}
	wl_list_for_each(toplevel, &state.toplevels, link) {
		if (toplevel->closed) {
			continue;
		}
		print_field(toplevel->title);
		putchar('\t');
		print_field(toplevel->app_id);
		putchar('\n');
	}
	if (fflush(stdout) != 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot write the list");
		goto out;
	}

	/* stop, and collect any handle announced before "finished" */
	zwlr_foreign_toplevel_manager_v1_stop(state.manager);
	for (int i = 0; i < MAX_ROUNDTRIPS && !state.finished; i++) {
		if (!roundtrip(&state)) {
			goto out;
		}
	}
	ret = 0;

out:
	test_toplevels_finish(&state);
	return ret;
}
