/*
 * tessera's global clipboard (clipboard.h): one item moved only on the
 * user's word between it and a VM (through the VM's daemon:
 * protocol/tessera-vmd-clipboard-v1.xml, a pipe per transfer) or the
 * host's own selection (wlr_seat).
 *
 * A VM's daemon is as untrusted as its guest: what it copies is read from
 * the pipe without blocking, cut at the VM's clipboard-max, given up after
 * CLIPBOARD_TIMEOUT_MS without progress, and validated before it becomes
 * the clipboard: text and URI lists must be UTF-8 without NUL, a PNG must
 * decode with libpng and is encoded again from its pixels, so that nothing
 * but the image (no extra chunks, no trailing bytes) passes on; that runs
 * in a confined child (png-clean.c), whose answer is read like a VM's.
 *
 * The notice of each move is a label tessera draws at the top of the
 * first output, above every window (README: why a VM cannot imitate it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <xkbcommon/xkbcommon.h>

#include "clipboard.h"
#include "config.h"
#include "label.h"
#include "log.h"
#include "png-clean.h"
#include "seat.h"
#include "server.h"
#include "tessera-vmd-clipboard-v1-protocol.h"
#include "tessera-wire.h"
#include "view.h"
#include "vm-settings.h"
#include "vm.h"

#define CLIPBOARD_TIMEOUT_MS 15000
#define CLIPBOARD_HOST_MAX (UINT32_C(16) << 20)
#define NOTICE_MS 4000
#define NOTICE_WIDTH 420
#define NOTICE_HEIGHT 26
#define NOTICE_TOP 6
/* The notice's colours: black on gold, nothing like a window's frame. */
#define NOTICE_BACKGROUND 0xffd700
#define NOTICE_FOREGROUND 0x000000

static const char *const type_names[] = {
	[TESSERA_WIRE_CLIPBOARD_TEXT] = "text",
	[TESSERA_WIRE_CLIPBOARD_PNG] = "image/png",
	[TESSERA_WIRE_CLIPBOARD_URI_LIST] = "uri-list",
};
static const char *const type_mimes[] = {
	[TESSERA_WIRE_CLIPBOARD_TEXT] = "text/plain;charset=utf-8",
	[TESSERA_WIRE_CLIPBOARD_PNG] = "image/png",
	[TESSERA_WIRE_CLIPBOARD_URI_LIST] = "text/uri-list",
};

/* A VM daemon's tessera_vmd_clipboard_v1. */
struct vm_binding {
	struct wl_list link; /* tessera_clipboard.bindings */
	struct wl_resource *resource;
	struct tessera_vm *vm;
};

struct transfer {
	struct wl_list link; /* tessera_clipboard.transfers */
	struct tessera_clipboard *clipboard;
	bool copy; /* else paste */
	struct tessera_vm *vm; /* NULL: the host */
	struct vm_binding *binding; /* NULL: the host */
	uint32_t id;
	int fd;
	struct wl_event_source *source, *timer;
	uint8_t *buf; /* copy: what was read; paste: what goes */
	size_t len, cap, limit, done;
	bool eof; /* copy: the pipe ended */
	bool done_received; /* copy: copy_done came */
	pid_t png_pid; /* copy of a PNG: its decoder (png-clean.h) while it runs */
	uint32_t type;
	tessera_clipboard_done_fn done_fn;
	void *done_data;
};

/* The global clipboard's bytes, shared with the host selection that
 * offers them. */
struct clip_data {
	int refs;
	uint32_t type;
	size_t len;
	char origin[TESSERA_VM_NAME_MAX + 1];
	uint8_t bytes[];
};

struct host_source {
	struct wlr_data_source base;
	struct clip_data *data;
	struct tessera_clipboard *clipboard;
};

struct tessera_clipboard {
	struct tessera_server *server;
	struct wl_global *global;
	struct wl_list bindings; /* vm_binding.link */
	struct wl_list transfers; /* transfer.link */
	uint32_t next_id;
	struct clip_data *data; /* NULL: empty */
	uint32_t swallowed_keycode; /* its release goes to nobody; 0: none */
	struct wlr_scene_tree *notice_tree; /* above every window */
	struct tessera_label *notice;
	struct wl_event_source *notice_timer;
};

static void data_unref(struct clip_data *data) {
	if (data != NULL && --data->refs == 0) {
		free(data);
	}
}

void tessera_clipboard_format_size(size_t size, char *out, size_t out_size) {
	if (size < 1024) {
		snprintf(out, out_size, "%zu B", size);
	} else if (size < 1024 * 1024) {
		snprintf(out, out_size, "%.1f KiB", size / 1024.0);
	} else {
		snprintf(out, out_size, "%.1f MiB", size / (1024.0 * 1024.0));
	}
}

/* --- the notice --- */

static int handle_notice_timer(void *data) {
	struct tessera_clipboard *clipboard = data;
	tessera_label_set(clipboard->notice, "", NOTICE_BACKGROUND, NOTICE_FOREGROUND,
		NOTICE_WIDTH, NOTICE_HEIGHT);
	tessera_label_set_position(clipboard->notice, -100000, -100000);
	return 0;
}

static void notice(struct tessera_clipboard *clipboard, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void notice(struct tessera_clipboard *clipboard, const char *fmt, ...) {
	char text[256];
	va_list args;
	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	tessera_log(TESSERA_INFO, "clipboard notice: %s", text);
	if (clipboard->notice == NULL) {
		return;
	}
	struct wlr_box box = { 0 };
	struct wlr_box *layout = wlr_output_layout_get_box(clipboard->server->output_layout,
		NULL);
	if (layout != NULL) {
		box = *layout;
	}
	int x = box.x + (box.width > NOTICE_WIDTH ? (box.width - NOTICE_WIDTH) / 2 : 0);
	tessera_label_set(clipboard->notice, text, NOTICE_BACKGROUND, NOTICE_FOREGROUND,
		NOTICE_WIDTH, NOTICE_HEIGHT);
	tessera_label_set_position(clipboard->notice, x, box.y + NOTICE_TOP);
	if (clipboard->notice_timer != NULL) {
		wl_event_source_timer_update(clipboard->notice_timer, NOTICE_MS);
	}
}

/* The notice's tree sits on the scene root; windows mapped later go above
 * it unless it is raised each time it shows. */
static void notice_raise(struct tessera_clipboard *clipboard) {
	if (clipboard->notice_tree != NULL) {
		wlr_scene_node_raise_to_top(&clipboard->notice_tree->node);
	}
}

static const char *name_of(struct tessera_vm *vm) {
	return vm != NULL ? vm->config->name : "host";
}

/* --- policy --- */

static void vm_settings(struct tessera_vm *vm, struct tessera_vm_settings *settings) {
	tessera_vm_settings_default(settings);
	const enum tessera_vm_setting_id ids[] = {
		TESSERA_VM_SETTING_clipboard, TESSERA_VM_SETTING_clipboard_max,
	};
	for (size_t i = 0; i < 2; i++) {
		const char *value = vm->config->settings[ids[i]];
		char why[128];
		if (value[0] != '\0') {
			/* checked when the config was loaded */
			tessera_vm_setting_parse(tessera_vm_setting_get(ids[i]), value, settings,
				why, sizeof(why));
		}
	}
}

static bool policy_allows(struct tessera_vm *vm, bool copy, uint32_t *max) {
	*max = CLIPBOARD_HOST_MAX;
	if (vm == NULL) {
		return true;
	}
	struct tessera_vm_settings settings;
	vm_settings(vm, &settings);
	*max = (uint32_t)settings.clipboard_max;
	switch (settings.clipboard) {
	case TESSERA_VM_CLIPBOARD_COPY_PASTE:
		return true;
	case TESSERA_VM_CLIPBOARD_COPY:
		return copy;
	case TESSERA_VM_CLIPBOARD_PASTE:
		return !copy;
	default:
		return false;
	}
}

/* --- validation --- */

static bool text_valid(const uint8_t *bytes, size_t len, const char **why) {
	if (memchr(bytes, '\0', len) != NULL) {
		*why = "text with a NUL byte";
		return false;
	}
	/* line breaks and tabs are text; other controls the wire string rules
	 * forbid are checked line by line */
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t') {
			if (!tessera_wire_string_valid((const char *)bytes + start, i - start)) {
				*why = "not valid UTF-8 text";
				return false;
			}
			start = i + 1;
		}
	}
	return true;
}

/* --- the global clipboard --- */

static void clipboard_set(struct tessera_clipboard *clipboard, uint32_t type,
		const uint8_t *bytes, size_t len, struct tessera_vm *from) {
	struct clip_data *data = malloc(sizeof(*data) + len);
	if (data == NULL) {
		return;
	}
	data->refs = 1;
	data->type = type;
	data->len = len;
	snprintf(data->origin, sizeof(data->origin), "%s", name_of(from));
	memcpy(data->bytes, bytes, len);
	data_unref(clipboard->data);
	clipboard->data = data;
}

void tessera_clipboard_clear(struct tessera_clipboard *clipboard) {
	data_unref(clipboard->data);
	clipboard->data = NULL;
}

bool tessera_clipboard_describe(struct tessera_clipboard *clipboard, const char **type,
		const char **mime, size_t *size, const char **origin) {
	if (clipboard->data == NULL) {
		return false;
	}
	*type = type_names[clipboard->data->type];
	*mime = type_mimes[clipboard->data->type];
	*size = clipboard->data->len;
	*origin = clipboard->data->origin;
	return true;
}

/* --- transfers --- */

static void transfer_destroy(struct transfer *t) {
	wl_list_remove(&t->link);
	if (t->source != NULL) {
		wl_event_source_remove(t->source);
	}
	if (t->timer != NULL) {
		wl_event_source_remove(t->timer);
	}
	if (t->fd >= 0) {
		close(t->fd);
	}
	if (t->png_pid > 0) {
		kill(t->png_pid, SIGKILL); /* SIGCHLD's handler reaps it */
	}
	free(t->buf);
	free(t);
}

static void transfer_end(struct transfer *t, bool ok, const char *message) {
	if (!ok) {
		tessera_log(TESSERA_INFO, "clipboard: %s %s VM %s failed: %s",
			t->copy ? "copy from" : "paste to", t->vm != NULL ? "" : "the",
			name_of(t->vm), message);
		notice(t->clipboard, t->copy ? "[%s] → clipboard: refused, %s" :
			"clipboard → [%s]: refused, %s", name_of(t->vm), message);
		notice_raise(t->clipboard);
	}
	if (t->done_fn != NULL) {
		t->done_fn(t->done_data, ok, message);
	}
	transfer_destroy(t);
}

static int handle_timeout(void *data) {
	struct transfer *t = data;
	transfer_end(t, false, "no progress: timed out");
	return 0;
}

static struct transfer *transfer_create(struct tessera_clipboard *clipboard, bool copy,
		struct tessera_vm *vm, tessera_clipboard_done_fn done, void *data) {
	struct transfer *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	t->clipboard = clipboard;
	t->copy = copy;
	t->vm = vm;
	t->fd = -1;
	t->id = ++clipboard->next_id;
	t->done_fn = done;
	t->done_data = data;
	wl_list_insert(&clipboard->transfers, &t->link);
	t->timer = wl_event_loop_add_timer(clipboard->server->event_loop, handle_timeout, t);
	if (t->timer != NULL) {
		wl_event_source_timer_update(t->timer, CLIPBOARD_TIMEOUT_MS);
	}
	return t;
}

static int handle_copy_readable(int fd, uint32_t mask, void *data);

/* A PNG goes through its decoder: the decoder's answer comes through the
 * same reading as the VM's bytes, and copy_finish() runs again. */
static bool png_start(struct transfer *t) {
	int fd;
	pid_t pid = tessera_png_clean_start(t->buf, t->len, &fd);
	if (pid < 0) {
		return false;
	}
	t->png_pid = pid;
	t->fd = fd;
	t->len = 0;
	t->eof = false;
	t->limit = TESSERA_WIRE_MAX_CLIPBOARD_SIZE;
	t->source = wl_event_loop_add_fd(t->clipboard->server->event_loop, fd,
		WL_EVENT_READABLE, handle_copy_readable, t);
	wl_event_source_timer_update(t->timer, CLIPBOARD_TIMEOUT_MS);
	return t->source != NULL;
}

static void copy_finish(struct transfer *t) {
	struct tessera_clipboard *clipboard = t->clipboard;
	const char *why = NULL;
	const uint8_t *bytes = t->buf;
	size_t len = t->len;
	bool ok;
	if (t->type == TESSERA_WIRE_CLIPBOARD_PNG && t->png_pid == 0) {
		if (!png_start(t)) {
			transfer_end(t, false, "cannot start the PNG decoder");
		}
		return;
	}
	if (t->type == TESSERA_WIRE_CLIPBOARD_PNG) {
		t->png_pid = -1; /* it ended: its pid is not ours to signal */
		ok = tessera_png_clean_result(t->buf, t->len, &bytes, &len, &why);
	} else {
		ok = text_valid(t->buf, t->len, &why);
	}
	if (!ok) {
		transfer_end(t, false, why);
		return;
	}
	clipboard_set(clipboard, t->type, bytes, len, t->vm);
	char size[32];
	tessera_clipboard_format_size(clipboard->data->len, size, sizeof(size));
	notice(clipboard, "[%s] → clipboard: %s %s", name_of(t->vm), size,
		type_names[t->type]);
	notice_raise(clipboard);
	transfer_end(t, true, "copied");
}

static void copy_check_complete(struct transfer *t) {
	if (t->eof && (t->done_received || t->binding == NULL)) {
		copy_finish(t);
	}
}

static int handle_copy_readable(int fd, uint32_t mask, void *data) {
	struct transfer *t = data;
	/* (also the PNG decoder's answer: png_start) */
	(void)mask;
	for (int i = 0; i < 64; i++) {
		if (t->len + 65536 > t->cap) {
			size_t cap = t->cap == 0 ? 65536 * 2 : t->cap * 2;
			if (cap > t->limit + 65536) {
				cap = t->limit + 65536;
			}
			uint8_t *buf = realloc(t->buf, cap);
			if (buf == NULL) {
				transfer_end(t, false, "out of memory");
				return 0;
			}
			t->buf = buf;
			t->cap = cap;
		}
		ssize_t n = read(fd, t->buf + t->len, t->cap - t->len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			return 0;
		}
		if (n < 0) {
			transfer_end(t, false, "cannot read the pipe");
			return 0;
		}
		if (n == 0) {
			wl_event_source_remove(t->source);
			t->source = NULL;
			close(t->fd);
			t->fd = -1;
			t->eof = true;
			copy_check_complete(t);
			return 0;
		}
		t->len += (size_t)n;
		wl_event_source_timer_update(t->timer, CLIPBOARD_TIMEOUT_MS);
		if (t->len > t->limit) {
			char why[96];
			snprintf(why, sizeof(why), "more than the clipboard-max of %zu bytes",
				t->limit);
			transfer_end(t, false, why);
			return 0;
		}
	}
	return 0;
}

static struct vm_binding *binding_of(struct tessera_clipboard *clipboard,
		struct tessera_vm *vm) {
	struct vm_binding *binding;
	wl_list_for_each(binding, &clipboard->bindings, link) {
		if (binding->vm == vm) {
			return binding;
		}
	}
	return NULL;
}

static struct transfer *find_transfer(struct tessera_clipboard *clipboard,
		struct vm_binding *binding, uint32_t id, bool copy) {
	struct transfer *t;
	wl_list_for_each(t, &clipboard->transfers, link) {
		if (t->binding == binding && t->id == id && t->copy == copy) {
			return t;
		}
	}
	return NULL;
}

/* The best MIME type of a host selection. */
static const char *host_pick(struct wlr_data_source *source, uint32_t *type) {
	static const struct {
		const char *mime;
		uint32_t type;
	} prefs[] = {
		{ "image/png", TESSERA_WIRE_CLIPBOARD_PNG },
		{ "text/uri-list", TESSERA_WIRE_CLIPBOARD_URI_LIST },
		{ "text/plain;charset=utf-8", TESSERA_WIRE_CLIPBOARD_TEXT },
		{ "UTF8_STRING", TESSERA_WIRE_CLIPBOARD_TEXT },
		{ "text/plain", TESSERA_WIRE_CLIPBOARD_TEXT },
	};
	for (size_t i = 0; i < sizeof(prefs) / sizeof(prefs[0]); i++) {
		char **offered;
		wl_array_for_each(offered, &source->mime_types) {
			if (strcmp(*offered, prefs[i].mime) == 0) {
				*type = prefs[i].type;
				return *offered;
			}
		}
	}
	return NULL;
}

static bool refuse(tessera_clipboard_done_fn done, void *data, struct tessera_clipboard
		*clipboard, struct tessera_vm *vm, bool copy, const char *why) {
	tessera_log(TESSERA_INFO, "clipboard: %s VM %s refused: %s",
		copy ? "copy from" : "paste to", name_of(vm), why);
	notice(clipboard, copy ? "[%s] → clipboard: refused, %s" :
		"clipboard → [%s]: refused, %s", name_of(vm), why);
	notice_raise(clipboard);
	if (done != NULL) {
		done(data, false, why);
	}
	return false;
}

bool tessera_clipboard_copy(struct tessera_clipboard *clipboard, struct tessera_vm *vm,
		tessera_clipboard_done_fn done, void *data) {
	uint32_t max;
	if (!policy_allows(vm, true, &max)) {
		return refuse(done, data, clipboard, vm, true,
			"the VM's clipboard setting forbids copies");
	}
	struct vm_binding *binding = NULL;
	struct wlr_data_source *host = NULL;
	uint32_t host_type = 0;
	const char *host_mime = NULL;
	if (vm != NULL) {
		binding = binding_of(clipboard, vm);
		if (binding == NULL) {
			return refuse(done, data, clipboard, vm, true, "the VM is not running");
		}
	} else {
		host = clipboard->server->seat->wlr_seat->selection_source;
		if (host == NULL) {
			return refuse(done, data, clipboard, vm, true, "no selection");
		}
		host_mime = host_pick(host, &host_type);
		if (host_mime == NULL) {
			return refuse(done, data, clipboard, vm, true,
				"no text, PNG or URI list in the selection");
		}
	}
	int fds[2];
	/* only our end is non-blocking: a host client writes as it likes */
	if (pipe2(fds, O_CLOEXEC) != 0) {
		fds[0] = fds[1] = -1;
	}
	if (fds[0] < 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
		if (fds[0] >= 0) {
			close(fds[0]);
			close(fds[1]);
		}
		return refuse(done, data, clipboard, vm, true, "cannot make a pipe");
	}
	struct transfer *t = transfer_create(clipboard, true, vm, done, data);
	if (t == NULL) {
		close(fds[0]);
		close(fds[1]);
		return refuse(done, data, clipboard, vm, true, "out of memory");
	}
	t->binding = binding;
	t->limit = max;
	t->fd = fds[0];
	t->type = host_type;
	t->source = wl_event_loop_add_fd(clipboard->server->event_loop, fds[0],
		WL_EVENT_READABLE, handle_copy_readable, t);
	tessera_log(TESSERA_INFO, "clipboard: copy %u from VM %s (at most %u bytes)", t->id,
		name_of(vm), max);
	if (binding != NULL) {
		tessera_vmd_clipboard_v1_send_copy(binding->resource, t->id,
			TESSERA_WIRE_CLIPBOARD_TYPES_ALL, max, fds[1]);
		close(fds[1]);
	} else {
		wlr_data_source_send(host, host_mime, fds[1]); /* takes fds[1] */
	}
	return true;
}

/* --- paste --- */

static int handle_paste_writable(int fd, uint32_t mask, void *data) {
	struct transfer *t = data;
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		transfer_end(t, false, "the VM's daemon closed the pipe");
		return 0;
	}
	while (t->done < t->len) {
		ssize_t n = write(fd, t->buf + t->done, t->len - t->done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			wl_event_source_timer_update(t->timer, CLIPBOARD_TIMEOUT_MS);
			return 0;
		}
		if (n <= 0) {
			transfer_end(t, false, "cannot write into the pipe");
			return 0;
		}
		t->done += (size_t)n;
	}
	if (t->binding == NULL) {
		transfer_destroy(t); /* a host client's read: nothing to report */
		return 0;
	}
	/* all written: the daemon reports paste_done */
	wl_event_source_remove(t->source);
	t->source = NULL;
	close(t->fd);
	t->fd = -1;
	return 0;
}

static void paste_done(struct transfer *t) {
	struct tessera_clipboard *clipboard = t->clipboard;
	char size[32];
	tessera_clipboard_format_size(t->len, size, sizeof(size));
	notice(clipboard, "clipboard → [%s]: %s %s", name_of(t->vm), size,
		type_names[t->type]);
	notice_raise(clipboard);
	if (!clipboard->server->config.clipboard_keep) {
		tessera_clipboard_clear(clipboard);
	}
	transfer_end(t, true, "pasted");
}

static void host_source_send(struct wlr_data_source *base, const char *mime, int32_t fd) {
	struct host_source *source = wl_container_of(base, source, base);
	(void)mime;
	/* a host client reads what it asked for: blocking writes would let it
	 * stall tessera, so the bytes go from the event loop */
	struct transfer *t = transfer_create(source->clipboard, false, NULL, NULL, NULL);
	if (t == NULL || (t->buf = malloc(source->data->len + 1)) == NULL ||
			fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		if (t != NULL) {
			transfer_destroy(t);
		}
		close(fd);
		return;
	}
	memcpy(t->buf, source->data->bytes, source->data->len);
	t->len = source->data->len;
	t->type = source->data->type;
	t->fd = fd;
	t->id = 0; /* not the user's paste: no notice when written */
	t->source = wl_event_loop_add_fd(source->clipboard->server->event_loop, fd,
		WL_EVENT_WRITABLE, handle_paste_writable, t);
}

static void host_source_destroy(struct wlr_data_source *base) {
	struct host_source *source = wl_container_of(base, source, base);
	data_unref(source->data);
	free(source);
}

static const struct wlr_data_source_impl host_source_impl = {
	.send = host_source_send,
	.destroy = host_source_destroy,
};

static bool paste_host(struct tessera_clipboard *clipboard,
		tessera_clipboard_done_fn done, void *data) {
	struct host_source *source = calloc(1, sizeof(*source));
	if (source == NULL) {
		return refuse(done, data, clipboard, NULL, false, "out of memory");
	}
	wlr_data_source_init(&source->base, &host_source_impl);
	source->clipboard = clipboard;
	source->data = clipboard->data;
	source->data->refs++;
	static const char *const text[] = {
		"text/plain;charset=utf-8", "text/plain", "UTF8_STRING", "TEXT", "STRING", NULL,
	};
	static const char *const png[] = { "image/png", NULL };
	static const char *const uri[] = { "text/uri-list", NULL };
	const char *const *mimes = source->data->type == TESSERA_WIRE_CLIPBOARD_PNG ? png :
		source->data->type == TESSERA_WIRE_CLIPBOARD_URI_LIST ? uri : text;
	for (; *mimes != NULL; mimes++) {
		char **slot = wl_array_add(&source->base.mime_types, sizeof(*slot));
		if (slot != NULL) {
			*slot = strdup(*mimes);
			if (*slot == NULL) {
				source->base.mime_types.size -= sizeof(*slot);
			}
		}
	}
	char size[32];
	tessera_clipboard_format_size(source->data->len, size, sizeof(size));
	uint32_t type = source->data->type;
	wlr_seat_set_selection(clipboard->server->seat->wlr_seat, &source->base,
		wl_display_next_serial(clipboard->server->wl_display));
	notice(clipboard, "clipboard → [host]: %s %s", size, type_names[type]);
	notice_raise(clipboard);
	if (!clipboard->server->config.clipboard_keep) {
		tessera_clipboard_clear(clipboard);
	}
	if (done != NULL) {
		done(data, true, "pasted");
	}
	return true;
}

bool tessera_clipboard_paste(struct tessera_clipboard *clipboard, struct tessera_vm *vm,
		tessera_clipboard_done_fn done, void *data) {
	uint32_t max;
	if (!policy_allows(vm, false, &max)) {
		return refuse(done, data, clipboard, vm, false,
			"the VM's clipboard setting forbids pastes");
	}
	if (clipboard->data == NULL) {
		return refuse(done, data, clipboard, vm, false, "the clipboard is empty");
	}
	if (clipboard->data->len > max) {
		return refuse(done, data, clipboard, vm, false,
			"larger than the VM's clipboard-max");
	}
	if (vm == NULL) {
		return paste_host(clipboard, done, data);
	}
	struct vm_binding *binding = binding_of(clipboard, vm);
	if (binding == NULL) {
		return refuse(done, data, clipboard, vm, false, "the VM is not running");
	}
	int fds[2];
	struct transfer *t = NULL;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		fds[0] = fds[1] = -1;
	}
	if (fds[0] < 0 || fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0) {
		if (fds[0] >= 0) {
			close(fds[0]);
			close(fds[1]);
		}
		return refuse(done, data, clipboard, vm, false, "cannot make a pipe");
	}
	t = transfer_create(clipboard, false, vm, done, data);
	if (t == NULL || (t->buf = malloc(clipboard->data->len + 1)) == NULL) {
		if (t != NULL) {
			t->done_fn = NULL;
			transfer_destroy(t);
		}
		close(fds[0]);
		close(fds[1]);
		return refuse(done, data, clipboard, vm, false, "out of memory");
	}
	t->binding = binding;
	memcpy(t->buf, clipboard->data->bytes, clipboard->data->len);
	t->len = clipboard->data->len;
	t->type = clipboard->data->type;
	t->fd = fds[1];
	t->source = wl_event_loop_add_fd(clipboard->server->event_loop, fds[1],
		WL_EVENT_WRITABLE, handle_paste_writable, t);
	tessera_log(TESSERA_INFO, "clipboard: paste %u to VM %s (%zu bytes)", t->id,
		name_of(vm), t->len);
	tessera_vmd_clipboard_v1_send_paste(binding->resource, t->id, t->type,
		(uint32_t)t->len, fds[0]);
	close(fds[0]);
	return true;
}

void tessera_clipboard_forget(struct tessera_clipboard *clipboard, void *data) {
	struct transfer *t;
	wl_list_for_each(t, &clipboard->transfers, link) {
		if (t->done_data == data) {
			t->done_fn = NULL;
			t->done_data = NULL;
		}
	}
}

/* --- keys --- */

bool tessera_clipboard_handle_key(struct tessera_clipboard *clipboard, uint32_t keycode,
		bool pressed, uint32_t keysym, uint32_t modifiers) {
	if (!pressed) {
		if (keycode != 0 && keycode == clipboard->swallowed_keycode) {
			clipboard->swallowed_keycode = 0;
			return true;
		}
		return false;
	}
	uint32_t want = WLR_MODIFIER_CTRL | WLR_MODIFIER_SHIFT;
	if ((modifiers & (want | WLR_MODIFIER_ALT | WLR_MODIFIER_LOGO)) != want) {
		return false;
	}
	bool copy = keysym == XKB_KEY_C || keysym == XKB_KEY_c;
	bool paste = keysym == XKB_KEY_V || keysym == XKB_KEY_v;
	if (!copy && !paste) {
		return false;
	}
	clipboard->swallowed_keycode = keycode;
	struct tessera_view *view = clipboard->server->seat->focused_view;
	struct tessera_vm *vm = view != NULL ? view->vm : NULL;
	tessera_log(TESSERA_INFO, "clipboard: Ctrl+Shift+%c in a window of %s",
		copy ? 'C' : 'V', name_of(vm));
	if (copy) {
		tessera_clipboard_copy(clipboard, vm, NULL, NULL);
	} else {
		tessera_clipboard_paste(clipboard, vm, NULL, NULL);
	}
	return true;
}

/* --- tessera_vmd_clipboard_v1 --- */

static struct vm_binding *binding_from_resource(struct wl_resource *resource);

static void handle_destroy(struct wl_client *client, struct wl_resource *resource) {
	(void)client;
	wl_resource_destroy(resource);
}

static void handle_copy_done(struct wl_client *client, struct wl_resource *resource,
		uint32_t id, uint32_t type) {
	(void)client;
	struct vm_binding *binding = binding_from_resource(resource);
	struct tessera_clipboard *clipboard = wl_resource_get_user_data(resource);
	struct transfer *t = find_transfer(clipboard, binding, id, true);
	if (t == NULL) {
		return; /* ended already (timeout, cap) */
	}
	if (type < 1 || type > TESSERA_WIRE_CLIPBOARD_TYPE_MAX) {
		transfer_end(t, false, "the VM's daemon named an unknown type");
		return;
	}
	t->type = type;
	t->done_received = true;
	copy_check_complete(t);
}

static const char *reason_text(uint32_t reason, const char *message) {
	switch (reason) {
	case TESSERA_VMD_CLIPBOARD_V1_REASON_EMPTY: return "the VM has no selection";
	case TESSERA_VMD_CLIPBOARD_V1_REASON_NO_TYPE: return "no text, PNG or URI list";
	case TESSERA_VMD_CLIPBOARD_V1_REASON_TOO_LARGE: return "more than the VM's clipboard-max";
	case TESSERA_VMD_CLIPBOARD_V1_REASON_TIMEOUT: return "timed out";
	case TESSERA_VMD_CLIPBOARD_V1_REASON_NO_AGENT: return "no agent with the clipboard in the VM";
	case TESSERA_VMD_CLIPBOARD_V1_REASON_POLICY: return "the VM's clipboard setting forbids it";
	case TESSERA_VMD_CLIPBOARD_V1_REASON_BUSY: return "another transfer is under way";
	default: (void)message; return "the VM's side failed";
	}
}

static void handle_failed(struct wl_resource *resource, uint32_t id, bool copy,
		uint32_t reason, const char *message) {
	struct vm_binding *binding = binding_from_resource(resource);
	struct tessera_clipboard *clipboard = wl_resource_get_user_data(resource);
	struct transfer *t = find_transfer(clipboard, binding, id, copy);
	if (t != NULL) {
		transfer_end(t, false, reason_text(reason, message));
	}
}

static void handle_copy_failed(struct wl_client *client, struct wl_resource *resource,
		uint32_t id, uint32_t reason, const char *message) {
	(void)client;
	handle_failed(resource, id, true, reason, message);
}

static void handle_paste_done(struct wl_client *client, struct wl_resource *resource,
		uint32_t id) {
	(void)client;
	struct vm_binding *binding = binding_from_resource(resource);
	struct tessera_clipboard *clipboard = wl_resource_get_user_data(resource);
	struct transfer *t = find_transfer(clipboard, binding, id, false);
	if (t != NULL && t->done == t->len) {
		paste_done(t);
	} else if (t != NULL) {
		transfer_end(t, false, "the VM's daemon reported a paste it had not read");
	}
}

static void handle_paste_failed(struct wl_client *client, struct wl_resource *resource,
		uint32_t id, uint32_t reason, const char *message) {
	(void)client;
	handle_failed(resource, id, false, reason, message);
}

static const struct tessera_vmd_clipboard_v1_interface clipboard_impl = {
	.destroy = handle_destroy,
	.copy_done = handle_copy_done,
	.copy_failed = handle_copy_failed,
	.paste_done = handle_paste_done,
	.paste_failed = handle_paste_failed,
};

static struct vm_binding *binding_from_resource(struct wl_resource *resource) {
	struct tessera_clipboard *clipboard = wl_resource_get_user_data(resource);
	struct vm_binding *binding;
	wl_list_for_each(binding, &clipboard->bindings, link) {
		if (binding->resource == resource) {
			return binding;
		}
	}
	return NULL;
}

static void handle_resource_destroy(struct wl_resource *resource) {
	struct tessera_clipboard *clipboard = wl_resource_get_user_data(resource);
	struct vm_binding *binding = binding_from_resource(resource);
	if (binding == NULL) {
		return;
	}
	struct transfer *t, *tmp;
	wl_list_for_each_safe(t, tmp, &clipboard->transfers, link) {
		if (t->binding == binding) {
			transfer_end(t, false, "the VM's daemon went away");
		}
	}
	wl_list_remove(&binding->link);
	free(binding);
}

static void clipboard_bind(struct wl_client *client, void *data, uint32_t version,
		uint32_t id) {
	struct tessera_clipboard *clipboard = data;
	struct tessera_vm *vm = tessera_vm_from_binding_client(clipboard->server, client,
		&tessera_vmd_clipboard_v1_interface);
	if (vm == NULL) {
		return;
	}
	struct vm_binding *binding = calloc(1, sizeof(*binding));
	struct wl_resource *resource = wl_resource_create(client,
		&tessera_vmd_clipboard_v1_interface, (int)version, id);
	if (binding == NULL || resource == NULL) {
		free(binding);
		wl_client_post_no_memory(client);
		return;
	}
	/* one binding per VM: a newer one replaces it */
	struct vm_binding *old = binding_of(clipboard, vm);
	if (old != NULL) {
		old->vm = NULL;
	}
	binding->resource = resource;
	binding->vm = vm;
	wl_list_insert(&clipboard->bindings, &binding->link);
	wl_resource_set_implementation(resource, &clipboard_impl, clipboard,
		handle_resource_destroy);
}

/* --- create / destroy --- */

struct tessera_clipboard *tessera_clipboard_create(struct tessera_server *server) {
	struct tessera_clipboard *clipboard = calloc(1, sizeof(*clipboard));
	if (clipboard == NULL) {
		return NULL;
	}
	clipboard->server = server;
	wl_list_init(&clipboard->bindings);
	wl_list_init(&clipboard->transfers);
	clipboard->global = wl_global_create(server->wl_display,
		&tessera_vmd_clipboard_v1_interface, 1, clipboard, clipboard_bind);
	if (clipboard->global == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create the tessera_vmd_clipboard_v1 global");
		free(clipboard);
		return NULL;
	}
	clipboard->notice_tree = wlr_scene_tree_create(&server->scene->node);
	if (clipboard->notice_tree != NULL) {
		clipboard->notice = tessera_label_create(&clipboard->notice_tree->node);
	}
	clipboard->notice_timer = wl_event_loop_add_timer(server->event_loop,
		handle_notice_timer, clipboard);
	if (clipboard->notice != NULL) {
		tessera_label_set_position(clipboard->notice, -100000, -100000);
	}
	return clipboard;
}

void tessera_clipboard_destroy(struct tessera_clipboard *clipboard) {
	if (clipboard == NULL) {
		return;
	}
	struct transfer *t, *ttmp;
	wl_list_for_each_safe(t, ttmp, &clipboard->transfers, link) {
		t->done_fn = NULL;
		transfer_destroy(t);
	}
	struct vm_binding *binding, *btmp;
	wl_list_for_each_safe(binding, btmp, &clipboard->bindings, link) {
		wl_resource_set_destructor(binding->resource, NULL);
		wl_list_remove(&binding->link);
		free(binding);
	}
	wl_global_destroy(clipboard->global);
	if (clipboard->notice_timer != NULL) {
		wl_event_source_remove(clipboard->notice_timer);
	}
	tessera_label_destroy(clipboard->notice);
	if (clipboard->notice_tree != NULL) {
		wlr_scene_node_destroy(&clipboard->notice_tree->node);
	}
	data_unref(clipboard->data);
	free(clipboard);
}
