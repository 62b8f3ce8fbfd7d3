/*
 * A guest clipboard source that never ends, for tests/agent/test_clipboard.py:
 * it takes the selection of the agent's seat through wlr-data-control
 * (no window, no focus needed) offering MIME (default
 * text/plain;charset=utf-8) and answers every read with an endless stream
 * of bytes, or with nothing at all (--stall: the pipe stays open, silent).
 * Prints "offered" once the selection is set and "cut after N bytes" when
 * the reader closes its end.
 *
 * With --reader it is the other side instead: a reader that asks for every
 * new selection offering MIME and never reads it (prints "asked").
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wayland-client.h>

#include "wlr-data-control-unstable-v1-client-protocol.h"

static struct wl_seat *seat;
static struct zwlr_data_control_manager_v1 *manager;
static bool stall, reader;
static int stalled_fd = -1;
static const char *reader_mime;

static void registry_global(void *data, struct wl_registry *registry, uint32_t name,
		const char *interface, uint32_t version) {
	(void)data;
	(void)version;
	if (strcmp(interface, wl_seat_interface.name) == 0 && seat == NULL) {
		seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
	} else if (strcmp(interface, zwlr_data_control_manager_v1_interface.name) == 0) {
		manager = wl_registry_bind(registry, name,
			&zwlr_data_control_manager_v1_interface, 1);
	}
}

static void registry_global_remove(void *data, struct wl_registry *registry,
		uint32_t name) {
	(void)data;
	(void)registry;
	(void)name;
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_global_remove,
};

static void source_send(void *data, struct zwlr_data_control_source_v1 *source,
		const char *mime, int32_t fd) {
	(void)data;
	(void)source;
	(void)mime;
	if (stall) {
		if (stalled_fd >= 0) {
			close(stalled_fd);
		}
		stalled_fd = fd; /* never written, never closed until the next */
		printf("stalling\n");
		fflush(stdout);
		return;
	}
	static char block[65536];
	memset(block, 'a', sizeof(block));
	unsigned long long total = 0;
	for (;;) {
		ssize_t n = write(fd, block, sizeof(block));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		total += (unsigned long long)n;
	}
	close(fd);
	printf("cut after %llu bytes\n", total);
	fflush(stdout);
}

static void source_cancelled(void *data, struct zwlr_data_control_source_v1 *source) {
	(void)data;
	zwlr_data_control_source_v1_destroy(source);
	printf("cancelled\n");
	fflush(stdout);
}

static const struct zwlr_data_control_source_v1_listener source_listener = {
	.send = source_send,
	.cancelled = source_cancelled,
};

/* --reader: ask for each selection, never read. */
static void offer_offer(void *data, struct zwlr_data_control_offer_v1 *offer,
		const char *mime) {
	(void)data;
	(void)offer;
	(void)mime;
}

static const struct zwlr_data_control_offer_v1_listener offer_listener = {
	.offer = offer_offer,
};

static void device_data_offer(void *data, struct zwlr_data_control_device_v1 *device,
		struct zwlr_data_control_offer_v1 *offer) {
	(void)data;
	(void)device;
	zwlr_data_control_offer_v1_add_listener(offer, &offer_listener, NULL);
}

static void device_selection(void *data, struct zwlr_data_control_device_v1 *device,
		struct zwlr_data_control_offer_v1 *offer) {
	(void)data;
	(void)device;
	int fds[2];
	if (offer == NULL || pipe(fds) != 0) {
		return;
	}
	zwlr_data_control_offer_v1_receive(offer, reader_mime, fds[1]);
	close(fds[1]);
	/* fds[0] stays open and unread */
	printf("asked\n");
	fflush(stdout);
}

static void device_finished(void *data, struct zwlr_data_control_device_v1 *device) {
	(void)data;
	(void)device;
}

static void device_primary_selection(void *data,
		struct zwlr_data_control_device_v1 *device,
		struct zwlr_data_control_offer_v1 *offer) {
	(void)data;
	(void)device;
	(void)offer;
}

static const struct zwlr_data_control_device_v1_listener device_listener = {
	.data_offer = device_data_offer,
	.selection = device_selection,
	.finished = device_finished,
	.primary_selection = device_primary_selection,
};

int main(int argc, char *argv[]) {
	const char *mime = "text/plain;charset=utf-8";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--stall") == 0) {
			stall = true;
		} else if (strcmp(argv[i], "--reader") == 0) {
			reader = true;
		} else {
			mime = argv[i];
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct wl_display *display = wl_display_connect(NULL);
	if (display == NULL) {
		fprintf(stderr, "clip-flood: cannot connect to the Wayland display\n");
		return 1;
	}
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	wl_display_roundtrip(display);
	if (seat == NULL || manager == NULL) {
		fprintf(stderr, "clip-flood: no wl_seat or zwlr_data_control_manager_v1\n");
		return 1;
	}
	struct zwlr_data_control_device_v1 *device =
		zwlr_data_control_manager_v1_get_data_device(manager, seat);
	if (reader) {
		reader_mime = mime;
		zwlr_data_control_device_v1_add_listener(device, &device_listener, NULL);
		while (wl_display_dispatch(display) != -1) {
		}
		return 0;
	}
	struct zwlr_data_control_source_v1 *source =
		zwlr_data_control_manager_v1_create_data_source(manager);
	zwlr_data_control_source_v1_add_listener(source, &source_listener, NULL);
	zwlr_data_control_source_v1_offer(source, mime);
	zwlr_data_control_device_v1_set_selection(device, source);
	wl_display_roundtrip(display);
	printf("offered\n");
	fflush(stdout);
	while (wl_display_dispatch(display) != -1) {
	}
	return 0;
}
