/*
 * The control socket: tesseractl's requests (list, start, stop and restart
 * VMs; list, focus and close windows; outputs; the clipboard) answered
 * from the event loop. The
 * protocol is in server/ctl/ctl-protocol.h and tesseractl(1).
 *
 * Every connection is untrusted input, even of the right user: a request
 * line is at most TESSERA_CTL_MAX_REQUEST bytes and parsed with a depth
 * limit, every member is checked, and a bad request gets an error reply
 * (a line too long also ends the connection, whose framing is lost). The
 * sockets are non-blocking and a connection has one request in hand at a
 * time: while its reply is not written or waits for a VM, nothing more is
 * read from it. There are at most IPC_MAX_CLIENTS connections, and one
 * that is idle for IPC_IDLE_TIMEOUT_MS is closed.
 */
#define _GNU_SOURCE /* accept4, struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wlr/backend/headless.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "clipboard.h"
#include "config.h"
#include "ctl-protocol.h"
#include "decoration.h"
#include "ipc.h"
#include "log.h"
#include "output.h"
#include "seat.h"
#include "server.h"
#include "share.h"
#include "view.h"
#include "vm.h"

#define IPC_MAX_CLIENTS 16
#define IPC_IDLE_TIMEOUT_MS 10000
#define IPC_BACKLOG 16

struct tessera_ipc {
	struct tessera_server *server;
	int fd;
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	struct wl_event_source *source;
	struct wl_list clients; /* ipc_client.link */
	int client_count;
};

/* What a request waits for before its reply. */
enum ipc_wait {
	IPC_WAIT_NONE,
	IPC_WAIT_STOPPED, /* vm stop: the VM is stopped */
	IPC_WAIT_RESTARTED, /* vm restart: the old daemon has exited */
	IPC_WAIT_CLIPBOARD, /* clipboard copy / paste: the transfer ended */
};

struct ipc_client {
	struct wl_list link; /* tessera_ipc.clients */
	struct tessera_ipc *ipc;
	int fd;
	pid_t pid;
	struct wl_event_source *source;
	struct wl_event_source *idle_timer;
	char in[TESSERA_CTL_MAX_REQUEST];
	size_t in_len;
	char *out; /* the reply being written */
	size_t out_len, out_done;
	bool eof; /* the client shut its side: answer what is in, then close */
	bool closing; /* close once the reply is written */

	enum ipc_wait wait;
	struct tessera_vm *wait_vm;
	struct wl_listener vm_state;
	/* The reply the wait ended with, queued from an idle callback:
	 * not inside the VM's signal, whose other listeners the next
	 * request could otherwise disturb. */
	struct json_object *waited_reply;
	struct wl_event_source *resume;
	bool clipboard_in_call; /* a transfer's end arrives inside its start */
};

static void client_destroy(struct ipc_client *client) {
	if (client == NULL) {
		return;
	}
	if (client->wait != IPC_WAIT_NONE) {
		wl_list_remove(&client->vm_state.link);
	}
	if (client->ipc->server->clipboard != NULL) {
		tessera_clipboard_forget(client->ipc->server->clipboard, client);
	}
	if (client->resume != NULL) {
		wl_event_source_remove(client->resume);
	}
	json_object_put(client->waited_reply);
	wl_event_source_remove(client->source);
	wl_event_source_remove(client->idle_timer);
	close(client->fd);
	free(client->out);
	wl_list_remove(&client->link);
	client->ipc->client_count--;
	free(client);
}

/* ---- replies ---- */

static struct json_object *reply_new(bool ok) {
	struct json_object *reply = json_object_new_object();
	if (reply != NULL) {
		json_object_object_add(reply, "version", json_object_new_int(TESSERA_CTL_VERSION));
		json_object_object_add(reply, "ok", json_object_new_boolean(ok));
	}
	return reply;
}

/* An error reply; code is one of the codes of tesseractl(1). */
static struct json_object *reply_error(const char *code, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));

static struct json_object *reply_error(const char *code, const char *fmt, ...) {
	char message[512];
	va_list args;
	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	struct json_object *reply = reply_new(false);
	if (reply != NULL) {
		json_object_object_add(reply, "code", json_object_new_string(code));
		json_object_object_add(reply, "error", json_object_new_string(message));
	}
	return reply;
}

static void client_update_mask(struct ipc_client *client) {
	uint32_t mask = 0;
	if (client->out != NULL) {
		mask = WL_EVENT_WRITABLE;
	} else if (client->wait == IPC_WAIT_NONE && !client->closing && !client->eof) {
		mask = WL_EVENT_READABLE;
	}
	wl_event_source_fd_update(client->source, mask);
}

/* Writes what the socket takes. False if the client is gone (destroyed). */
static bool client_flush(struct ipc_client *client) {
	while (client->out != NULL) {
		ssize_t n = send(client->fd, client->out + client->out_done,
			client->out_len - client->out_done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		}
		if (n <= 0) {
			tessera_log(TESSERA_DEBUG, "ctl: client (pid %d) gone while answering it",
				(int)client->pid);
			client_destroy(client);
			return false;
		}
		client->out_done += (size_t)n;
		if (client->out_done == client->out_len) {
			free(client->out);
			client->out = NULL;
			wl_event_source_timer_update(client->idle_timer, IPC_IDLE_TIMEOUT_MS);
		}
	}
	if (client->out == NULL && client->closing) {
		client_destroy(client);
		return false;
	}
	client_update_mask(client);
	return true;
}

/* Queues the reply (and frees it); one too long becomes an error. */
static void client_queue_reply(struct ipc_client *client, struct json_object *reply) {
	const char *text = reply != NULL ? json_object_to_json_string_ext(reply,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	size_t len = text != NULL ? strlen(text) : 0;
	char *line = NULL;
	if (text != NULL && len + 1 <= TESSERA_CTL_MAX_REPLY) {
		line = malloc(len + 1);
		if (line != NULL) {
			memcpy(line, text, len);
		}
	} else if (text != NULL) {
		static const char too_long[] = "{\"version\":1,\"ok\":false,\"code\":\"failed\","
			"\"error\":\"the reply would exceed the protocol's limit\"}";
		len = strlen(too_long);
		line = malloc(len + 1);
		if (line != NULL) {
			memcpy(line, too_long, len);
		}
	}
	json_object_put(reply);
	if (line == NULL) {
		tessera_log(TESSERA_ERROR, "ctl: cannot answer client (pid %d): out of memory",
			(int)client->pid);
		client->closing = true;
		return;
	}
	line[len] = '\n';
	client->out = line;
	client->out_len = len + 1;
	client->out_done = 0;
}

/* ---- what requests return ---- */

static void add_string(struct json_object *obj, const char *key, const char *value) {
	json_object_object_add(obj, key, value != NULL ? json_object_new_string(value) : NULL);
}

/* A member that is null while the number is unknown or does not apply. */
static void add_optional_int(struct json_object *obj, const char *key, bool known,
		int64_t value) {
	json_object_object_add(obj, key, known ? json_object_new_int64(value) : NULL);
}

static int vm_window_count(struct tessera_vm *vm) {
	int count = 0;
	struct tessera_view *view;
	wl_list_for_each(view, &vm->server->views, link) {
		count += view->vm == vm;
	}
	return count;
}

/*
 * One VM as `vm list` shows it. qemu_pid is null unless tessera runs the
 * VM's QEMU (vm.c); frames and bytes_copied are the running daemon's
 * (tessera_vmd_v1), null until it reported.
 */
static struct json_object *vm_json(struct tessera_vm *vm) {
	struct json_object *obj = json_object_new_object();
	if (obj == NULL) {
		return NULL;
	}
	char color[8];
	snprintf(color, sizeof(color), "#%06x", vm->config->color & 0xffffff);
	add_string(obj, "name", vm->config->name);
	add_string(obj, "state", tessera_vm_state_name(tessera_vm_get_state(vm)));
	add_optional_int(obj, "daemon_pid", vm->pid > 0, vm->pid);
	add_optional_int(obj, "qemu_pid", vm->qemu_pid > 0, vm->qemu_pid);
	json_object_object_add(obj, "windows", json_object_new_int(vm_window_count(vm)));
	add_optional_int(obj, "frames", vm->counters.known,
		(int64_t)vm->counters.frames);
	add_optional_int(obj, "bytes_copied", vm->counters.known,
		(int64_t)vm->counters.bytes_copied);
	json_object_object_add(obj, "starts", json_object_new_int64(vm->starts));
	add_string(obj, "color", color);
	return obj;
}

static struct json_object *view_json(struct tessera_view *view) {
	struct json_object *obj = json_object_new_object();
	if (obj == NULL) {
		return NULL;
	}
	struct wlr_xdg_toplevel *toplevel = view->xdg_surface->toplevel;
	char *title = tessera_title_clean(toplevel->title);
	char *app_id = tessera_title_clean(toplevel->app_id);
	struct wlr_box box;
	tessera_view_get_geometry(view, &box);
	json_object_object_add(obj, "id", json_object_new_int64((int64_t)view->id));
	add_string(obj, "vm", view->vm != NULL ? view->vm->config->name : NULL);
	add_string(obj, "title", title != NULL ? title : "");
	add_string(obj, "app_id", app_id != NULL ? app_id : "");
	json_object_object_add(obj, "x", json_object_new_int(view->x));
	json_object_object_add(obj, "y", json_object_new_int(view->y));
	json_object_object_add(obj, "width", json_object_new_int(box.width));
	json_object_object_add(obj, "height", json_object_new_int(box.height));
	json_object_object_add(obj, "focused",
		json_object_new_boolean(view->server->seat->focused_view == view));
	free(title);
	free(app_id);
	return obj;
}

/* ---- commands ---- */

/* What a request names, checked before its command runs. */
struct ipc_request {
	struct ipc_client *client;
	struct tessera_vm *vm; /* commands with a "vm" member */
	struct tessera_view *view; /* commands with an "id" member */
	const char *output; /* commands with an "output" member */
	uint32_t share; /* commands with a "share" member */
};

/* ARG_WINDOW_VM: "id" and "vm" */
enum ipc_arg { ARG_NONE, ARG_VM, ARG_WINDOW, ARG_OUTPUT, ARG_WINDOW_VM, ARG_SHARE };

/* A reply, or NULL when the command answers later (client->wait). */
typedef struct json_object *(*ipc_handler)(struct ipc_request *request);

static struct json_object *reply_with_vm(struct tessera_vm *vm, bool changed) {
	struct json_object *reply = reply_new(true);
	if (reply != NULL) {
		json_object_object_add(reply, "changed", json_object_new_boolean(changed));
		json_object_object_add(reply, "vm", vm_json(vm));
	}
	return reply;
}

static struct json_object *cmd_vm_list(struct ipc_request *request) {
	struct json_object *reply = reply_new(true);
	struct json_object *vms = json_object_new_array();
	struct tessera_vm *vm;
	wl_list_for_each(vm, &request->client->ipc->server->vms, link) {
		json_object_array_add(vms, vm_json(vm));
	}
	json_object_object_add(reply, "vms", vms);
	return reply;
}

static void client_wait(struct ipc_client *client, struct tessera_vm *vm,
		enum ipc_wait wait);

static struct json_object *reply_start_failed(struct tessera_vm *vm) {
	return reply_error("failed", "cannot start the daemon of vm '%s' (tessera's "
		"log says why); tessera retries after a back-off", vm->config->name);
}

static struct json_object *cmd_vm_start(struct ipc_request *request) {
	struct tessera_vm *vm = request->vm;
	if (vm->pid > 0 && tessera_vm_get_state(vm) != TESSERA_VM_RUNNING) {
		return reply_error("busy", "vm '%s' is %s; try again when it has stopped",
			vm->config->name, tessera_vm_state_name(tessera_vm_get_state(vm)));
	}
	if (vm->pid > 0) {
		return reply_with_vm(vm, false);
	}
	if (!tessera_vm_start(vm)) {
		return reply_start_failed(vm);
	}
	return reply_with_vm(vm, true);
}

static struct json_object *cmd_vm_stop(struct ipc_request *request) {
	struct tessera_vm *vm = request->vm;
	if (tessera_vm_get_state(vm) == TESSERA_VM_STOPPED) {
		return reply_with_vm(vm, false);
	}
	tessera_vm_stop(vm);
	if (tessera_vm_get_state(vm) == TESSERA_VM_STOPPED) {
		return reply_with_vm(vm, true);
	}
	client_wait(request->client, vm, IPC_WAIT_STOPPED);
	return NULL;
}

static struct json_object *cmd_vm_restart(struct ipc_request *request) {
	struct tessera_vm *vm = request->vm;
	if (vm->pid == 0) {
		if (!tessera_vm_start(vm)) {
			return reply_start_failed(vm);
		}
		return reply_with_vm(vm, true);
	}
	tessera_vm_restart(vm);
	client_wait(request->client, vm, IPC_WAIT_RESTARTED);
	return NULL;
}

static struct json_object *cmd_window_list(struct ipc_request *request) {
	struct json_object *reply = reply_new(true);
	struct json_object *windows = json_object_new_array();
	struct tessera_view *view;
	wl_list_for_each(view, &request->client->ipc->server->views, link) {
		json_object_array_add(windows, view_json(view));
	}
	json_object_object_add(reply, "windows", windows);
	return reply;
}

static struct json_object *reply_with_window(struct tessera_view *view) {
	struct json_object *reply = reply_new(true);
	if (reply != NULL) {
		json_object_object_add(reply, "window", view_json(view));
	}
	return reply;
}

static struct json_object *cmd_window_focus(struct ipc_request *request) {
	tessera_view_focus(request->view);
	return reply_with_window(request->view);
}

static struct json_object *cmd_window_close(struct ipc_request *request) {
	tessera_view_close(request->view);
	return reply_with_window(request->view);
}

static struct json_object *output_json(struct tessera_server *server,
		struct wlr_output *wlr_output) {
	struct json_object *obj = json_object_new_object();
	if (obj == NULL) {
		return NULL;
	}
	struct wlr_box *box = wlr_output_layout_get_box(server->output_layout, wlr_output);
	add_string(obj, "name", wlr_output->name);
	json_object_object_add(obj, "x", json_object_new_int(box != NULL ? box->x : 0));
	json_object_object_add(obj, "y", json_object_new_int(box != NULL ? box->y : 0));
	json_object_object_add(obj, "width", json_object_new_int(wlr_output->width));
	json_object_object_add(obj, "height", json_object_new_int(wlr_output->height));
	json_object_object_add(obj, "scale", json_object_new_double(wlr_output->scale));
	return obj;
}

static struct json_object *cmd_output_list(struct ipc_request *request) {
	struct tessera_server *server = request->client->ipc->server;
	struct json_object *reply = reply_new(true);
	struct json_object *outputs = json_object_new_array();
	struct tessera_output *output;
	wl_list_for_each_reverse(output, &server->outputs, link) {
		json_object_array_add(outputs, output_json(server, output->wlr_output));
	}
	json_object_object_add(reply, "outputs", outputs);
	return reply;
}

static struct json_object *reply_with_output(struct tessera_server *server,
		struct wlr_output *wlr_output) {
	struct json_object *reply = reply_new(true);
	if (reply != NULL) {
		json_object_object_add(reply, "output", output_json(server, wlr_output));
	}
	return reply;
}

static struct json_object *cmd_output_add(struct ipc_request *request) {
	struct tessera_server *server = request->client->ipc->server;
	struct tessera_output_mode mode;
	if (!tessera_output_parse_mode(request->output, &mode)) {
		return reply_error("bad-request", "\"output\" is WxH or WxH:SCALE (each side "
			"1..%d, scale 1..%d), not '%.64s'", TESSERA_OUTPUT_MAX_SIZE,
			TESSERA_OUTPUT_MAX_SCALE, request->output);
	}
	struct wlr_output *wlr_output = tessera_output_add_headless(server, &mode);
	if (wlr_output == NULL || tessera_output_find(server, wlr_output->name) == NULL) {
		return reply_error("failed", "cannot add an output (only the headless backend "
			"can; tessera's log says why)");
	}
	return reply_with_output(server, wlr_output);
}

static struct json_object *cmd_output_remove(struct ipc_request *request) {
	struct tessera_server *server = request->client->ipc->server;
	struct tessera_output *output = tessera_output_find(server, request->output);
	if (output == NULL) {
		return reply_error("no-such-output", "no output named '%.64s'", request->output);
	}
	if (!wlr_output_is_headless(output->wlr_output)) {
		return reply_error("failed", "output '%.64s' is not a headless output: only those "
			"can be removed", request->output);
	}
	struct json_object *reply = reply_with_output(server, output->wlr_output);
	tessera_log(TESSERA_INFO, "output %s: removed", output->wlr_output->name);
	wlr_output_destroy(output->wlr_output);
	return reply;
}

static struct json_object *cmd_share_start(struct ipc_request *request) {
	struct tessera_server *server = request->client->ipc->server;
	const char *code, *why;
	uint32_t id = tessera_share_start(server, request->view, request->vm, &code, &why);
	if (id == 0) {
		return reply_error(code, "cannot share window %" PRIu64 " into vm '%s': %s",
			request->view->id, request->vm->config->name, why);
	}
	struct json_object *reply = reply_new(true);
	json_object_object_add(reply, "share", tessera_share_json(server, id));
	return reply;
}

static struct json_object *cmd_share_stop(struct ipc_request *request) {
	struct tessera_server *server = request->client->ipc->server;
	struct json_object *share = tessera_share_json(server, request->share);
	if (share == NULL) {
		return reply_error("no-such-share", "no share with id %" PRIu32, request->share);
	}
	tessera_share_stop(server, request->share);
	struct json_object *reply = reply_new(true);
	json_object_object_add(reply, "share", share);
	return reply;
}

static struct json_object *cmd_share_list(struct ipc_request *request) {
	struct json_object *reply = reply_new(true);
	json_object_object_add(reply, "shares",
		tessera_shares_json(request->client->ipc->server));
	return reply;
}

static struct json_object *clipboard_reply(struct tessera_server *server) {
	struct json_object *reply = reply_new(true);
	const char *type, *mime, *origin;
	size_t size;
	if (server->clipboard != NULL &&
			tessera_clipboard_describe(server->clipboard, &type, &mime, &size, &origin)) {
		struct json_object *obj = json_object_new_object();
		add_string(obj, "type", type);
		add_string(obj, "mime", mime);
		json_object_object_add(obj, "size", json_object_new_int64((int64_t)size));
		add_string(obj, "from", origin);
		json_object_object_add(reply, "clipboard", obj);
	} else {
		json_object_object_add(reply, "clipboard", NULL);
	}
	return reply;
}

static struct json_object *cmd_clipboard_show(struct ipc_request *request) {
	return clipboard_reply(request->client->ipc->server);
}

static struct json_object *cmd_clipboard_clear(struct ipc_request *request) {
	struct tessera_server *server = request->client->ipc->server;
	if (server->clipboard != NULL) {
		tessera_clipboard_clear(server->clipboard);
	}
	return clipboard_reply(server);
}

static void client_resume(void *data);

static void clipboard_done(void *data, bool ok, const char *message) {
	struct ipc_client *client = data;
	client->waited_reply = ok ? clipboard_reply(client->ipc->server) :
		reply_error("failed", "%s", message);
	if (client->clipboard_in_call) {
		return; /* the command returns it */
	}
	client->resume = wl_event_loop_add_idle(client->ipc->server->event_loop,
		client_resume, client);
	if (client->resume == NULL) {
		client_destroy(client);
	}
}

static struct json_object *clipboard_transfer(struct ipc_request *request, bool copy) {
	struct ipc_client *client = request->client;
	struct tessera_server *server = client->ipc->server;
	if (server->clipboard == NULL) {
		return reply_error("failed", "tessera has no clipboard (its log says why)");
	}
	client->wait = IPC_WAIT_CLIPBOARD;
	wl_list_init(&client->vm_state.link);
	client->clipboard_in_call = true;
	if (copy) {
		tessera_clipboard_copy(server->clipboard, request->vm, clipboard_done, client);
	} else {
		tessera_clipboard_paste(server->clipboard, request->vm, clipboard_done, client);
	}
	client->clipboard_in_call = false;
	if (client->waited_reply != NULL) {
		struct json_object *reply = client->waited_reply;
		client->waited_reply = NULL;
		client->wait = IPC_WAIT_NONE;
		return reply;
	}
	/* the transfer times out on its own: no idle timeout meanwhile */
	wl_event_source_timer_update(client->idle_timer, 0);
	return NULL;
}

static struct json_object *cmd_clipboard_copy(struct ipc_request *request) {
	return clipboard_transfer(request, true);
}

static struct json_object *cmd_clipboard_paste(struct ipc_request *request) {
	return clipboard_transfer(request, false);
}

static const struct ipc_command {
	const char *name;
	enum ipc_arg arg;
	ipc_handler handle;
} ipc_commands[] = {
	{ "vm list", ARG_NONE, cmd_vm_list },
	{ "vm start", ARG_VM, cmd_vm_start },
	{ "vm stop", ARG_VM, cmd_vm_stop },
	{ "vm restart", ARG_VM, cmd_vm_restart },
	{ "window list", ARG_NONE, cmd_window_list },
	{ "window focus", ARG_WINDOW, cmd_window_focus },
	{ "window close", ARG_WINDOW, cmd_window_close },
	{ "output list", ARG_NONE, cmd_output_list },
	{ "output add", ARG_OUTPUT, cmd_output_add },
	{ "output remove", ARG_OUTPUT, cmd_output_remove },
	{ "share start", ARG_WINDOW_VM, cmd_share_start },
	{ "share stop", ARG_SHARE, cmd_share_stop },
	{ "share list", ARG_NONE, cmd_share_list },
	{ "clipboard show", ARG_NONE, cmd_clipboard_show },
	{ "clipboard clear", ARG_NONE, cmd_clipboard_clear },
	{ "clipboard copy", ARG_VM, cmd_clipboard_copy },
	{ "clipboard paste", ARG_VM, cmd_clipboard_paste },
};

/* ---- waiting for a VM ---- */

static void client_process(struct ipc_client *client);

static void client_resume(void *data) {
	struct ipc_client *client = data;
	client->resume = NULL; /* an idle source removes itself */
	client->wait = IPC_WAIT_NONE;
	client->wait_vm = NULL;
	client_queue_reply(client, client->waited_reply);
	client->waited_reply = NULL;
	if (client_flush(client)) {
		client_process(client);
	}
}

static void client_handle_vm_state(struct wl_listener *listener, void *data) {
	struct ipc_client *client = wl_container_of(listener, client, vm_state);
	struct tessera_vm *vm = client->wait_vm;
	enum tessera_vm_state state = tessera_vm_get_state(vm);
	struct json_object *reply;
	if (client->wait == IPC_WAIT_STOPPED) {
		if (state != TESSERA_VM_STOPPED) {
			if (state == TESSERA_VM_STOPPING) {
				return;
			}
			/* started again by another request meanwhile */
			reply = reply_error("failed", "vm '%s' was started again before it stopped",
				vm->config->name);
		} else {
			reply = reply_with_vm(vm, true);
		}
	} else {
		if (state == TESSERA_VM_STOPPING) {
			return;
		}
		reply = state == TESSERA_VM_RUNNING ? reply_with_vm(vm, true) :
			reply_error("failed", "vm '%s' stopped but its daemon did not start again "
				"(tessera's log says why); state: %s", vm->config->name,
				tessera_vm_state_name(state));
	}
	wl_list_remove(&client->vm_state.link);
	wl_list_init(&client->vm_state.link);
	client->waited_reply = reply;
	client->resume = wl_event_loop_add_idle(client->ipc->server->event_loop,
		client_resume, client);
	if (client->resume == NULL) {
		client_destroy(client); /* wait != NONE: its link is an empty list */
	}
}

static void client_wait(struct ipc_client *client, struct tessera_vm *vm,
		enum ipc_wait wait) {
	client->wait = wait;
	client->wait_vm = vm;
	client->vm_state.notify = client_handle_vm_state;
	wl_signal_add(&vm->events.state, &client->vm_state);
	/* The VM answers within VM_STOP_TIMEOUT_MS (then SIGKILL): no idle
	 * timeout meanwhile. */
	wl_event_source_timer_update(client->idle_timer, 0);
}

/* ---- requests ---- */

/* The request's members checked against what the command takes. */
static struct json_object *check_request(struct ipc_client *client,
		struct json_object *request, const struct ipc_command **command_out,
		struct ipc_request *out) {
	if (!json_object_is_type(request, json_type_object)) {
		return reply_error("bad-request", "a request is a JSON object");
	}
	struct json_object *version, *command;
	if (!json_object_object_get_ex(request, "version", &version) ||
			!json_object_is_type(version, json_type_int)) {
		return reply_error("bad-request", "the request has no integer \"version\"");
	}
	if (json_object_get_int64(version) != TESSERA_CTL_VERSION) {
		return reply_error("unsupported-version", "protocol version %lld is not "
			"supported: this tessera speaks version %d",
			(long long)json_object_get_int64(version), TESSERA_CTL_VERSION);
	}
	if (!json_object_object_get_ex(request, "command", &command) ||
			!json_object_is_type(command, json_type_string)) {
		return reply_error("bad-request", "the request has no string \"command\"");
	}
	const char *name = json_object_get_string(command);
	const struct ipc_command *found = NULL;
	for (size_t i = 0; i < sizeof(ipc_commands) / sizeof(ipc_commands[0]); i++) {
		if (strcmp(ipc_commands[i].name, name) == 0) {
			found = &ipc_commands[i];
		}
	}
	if (found == NULL) {
		return reply_error("unknown-command", "unknown command '%.64s'", name);
	}
	const char *arg_key = found->arg == ARG_VM ? "vm" : found->arg == ARG_WINDOW ? "id" :
		found->arg == ARG_OUTPUT ? "output" : found->arg == ARG_WINDOW_VM ? "id" :
		found->arg == ARG_SHARE ? "share" : NULL;
	const char *arg_key2 = found->arg == ARG_WINDOW_VM ? "vm" : NULL;
	json_object_object_foreach(request, key, value) {
		(void)value;
		if (strcmp(key, "version") != 0 && strcmp(key, "command") != 0 &&
				(arg_key == NULL || strcmp(key, arg_key) != 0) &&
				(arg_key2 == NULL || strcmp(key, arg_key2) != 0)) {
			return reply_error("bad-request", "'%s' takes no member '%.64s'",
				found->name, key);
		}
	}
	struct json_object *arg = NULL;
	if (arg_key != NULL && !json_object_object_get_ex(request, arg_key, &arg)) {
		return reply_error("bad-request", "'%s' needs the member \"%s\"", found->name,
			arg_key);
	}
	struct json_object *arg2 = NULL;
	if (arg_key2 != NULL && !json_object_object_get_ex(request, arg_key2, &arg2)) {
		return reply_error("bad-request", "'%s' needs the member \"%s\"", found->name,
			arg_key2);
	}
	struct tessera_server *server = client->ipc->server;
	if (found->arg == ARG_WINDOW_VM) {
		/* the window as for ARG_WINDOW below, the VM here */
		if (!json_object_is_type(arg2, json_type_string)) {
			return reply_error("bad-request", "\"vm\" is a VM's name (a string)");
		}
		out->vm = tessera_vm_find(server, json_object_get_string(arg2));
		if (out->vm == NULL) {
			return reply_error("no-such-vm", "no VM named '%.64s'",
				json_object_get_string(arg2));
		}
	}
	if (found->arg == ARG_SHARE) {
		if (!json_object_is_type(arg, json_type_int) || json_object_get_int64(arg) < 1 ||
				json_object_get_int64(arg) > UINT32_MAX) {
			return reply_error("bad-request", "\"share\" is a share id (an integer "
				"from 1)");
		}
		out->share = (uint32_t)json_object_get_int64(arg);
	} else if (found->arg == ARG_VM) {
		if (!json_object_is_type(arg, json_type_string)) {
			return reply_error("bad-request", "\"vm\" is a VM's name (a string)");
		}
		out->vm = tessera_vm_find(server, json_object_get_string(arg));
		if (out->vm == NULL) {
			return reply_error("no-such-vm", "no VM named '%.64s'",
				json_object_get_string(arg));
		}
	} else if (found->arg == ARG_WINDOW || found->arg == ARG_WINDOW_VM) {
		if (!json_object_is_type(arg, json_type_int) || json_object_get_int64(arg) < 1) {
			return reply_error("bad-request", "\"id\" is a window id (an integer from 1)");
		}
		int64_t id = json_object_get_int64(arg);
		out->view = tessera_view_find(server, (uint64_t)id);
		if (out->view == NULL) {
			return reply_error("no-such-window", "no window with id %lld",
				(long long)id);
		}
	} else if (found->arg == ARG_OUTPUT) {
		if (!json_object_is_type(arg, json_type_string)) {
			return reply_error("bad-request", "\"output\" is a string");
		}
		out->output = json_object_get_string(arg);
	}
	*command_out = found;
	return NULL;
}

/* One request line (without '\n'): its reply, or NULL if it comes later. */
static struct json_object *client_handle_line(struct ipc_client *client,
		const char *line, size_t len) {
	if (memchr(line, '\0', len) != NULL) {
		return reply_error("bad-request", "the request holds a NUL byte");
	}
	struct json_tokener *tokener = json_tokener_new_ex(TESSERA_CTL_MAX_DEPTH);
	if (tokener == NULL) {
		return reply_error("failed", "out of memory");
	}
	json_tokener_set_flags(tokener, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *request = json_tokener_parse_ex(tokener, line, (int)len);
	enum json_tokener_error error = json_tokener_get_error(tokener);
	size_t end = json_tokener_get_parse_end(tokener);
	json_tokener_free(tokener);
	while (end < len && (line[end] == ' ' || line[end] == '\t' || line[end] == '\r')) {
		end++;
	}
	if (request == NULL || error != json_tokener_success || end != len) {
		json_object_put(request);
		tessera_log(TESSERA_DEBUG, "ctl: client (pid %d) sent a request that is not "
			"JSON", (int)client->pid);
		return reply_error("bad-request", "the request is not one JSON object on one "
			"line: %s", request == NULL || error != json_tokener_success ?
			json_tokener_error_desc(error) : "data after the object");
	}
	const struct ipc_command *command = NULL;
	struct ipc_request checked = { .client = client };
	struct json_object *reply = check_request(client, request, &command, &checked);
	if (reply == NULL) {
		tessera_log(TESSERA_INFO, "ctl: client (pid %d): %s%s%s", (int)client->pid,
			command->name, checked.vm != NULL ? " " : "",
			checked.vm != NULL ? checked.vm->config->name : "");
		reply = command->handle(&checked);
	} else {
		tessera_log(TESSERA_DEBUG, "ctl: client (pid %d): refused request: %s",
			(int)client->pid, json_object_get_string(
				json_object_object_get(reply, "error")));
	}
	json_object_put(request);
	return reply;
}

/* Answers the complete request lines that are in, one at a time. */
static void client_process(struct ipc_client *client) {
	while (client->out == NULL && client->wait == IPC_WAIT_NONE && !client->closing) {
		char *newline = memchr(client->in, '\n', client->in_len);
		if (newline == NULL) {
			if (client->in_len == sizeof(client->in)) {
				tessera_log(TESSERA_INFO, "ctl: client (pid %d) sent a request longer "
					"than %d bytes: closing the connection", (int)client->pid,
					TESSERA_CTL_MAX_REQUEST);
				client_queue_reply(client, reply_error("too-long", "a request is at "
					"most %d bytes long", TESSERA_CTL_MAX_REQUEST));
				client->closing = true;
			} else if (client->eof) {
				client->closing = true;
			}
			break;
		}
		size_t len = (size_t)(newline - client->in);
		struct json_object *reply = client_handle_line(client, client->in, len);
		client->in_len -= len + 1;
		memmove(client->in, newline + 1, client->in_len);
		if (reply != NULL) {
			client_queue_reply(client, reply);
		}
		if (!client_flush(client)) {
			return;
		}
	}
	client_flush(client);
}

static int client_handle_event(int fd, uint32_t mask, void *data) {
	struct ipc_client *client = data;
	if (mask & WL_EVENT_WRITABLE) {
		if (client_flush(client)) {
			client_process(client);
		}
		return 0;
	}
	if (mask & WL_EVENT_READABLE) {
		ssize_t n = recv(fd, client->in + client->in_len,
			sizeof(client->in) - client->in_len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			return 0;
		}
		if (n < 0) {
			client_destroy(client);
			return 0;
		}
		if (n == 0) {
			client->eof = true;
		}
		client->in_len += (size_t)n;
		client_process(client);
		return 0;
	}
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		client_destroy(client);
	}
	return 0;
}

static int client_handle_idle(void *data) {
	struct ipc_client *client = data;
	tessera_log(TESSERA_DEBUG, "ctl: client (pid %d) idle for %d ms: closing",
		(int)client->pid, IPC_IDLE_TIMEOUT_MS);
	client_destroy(client);
	return 0;
}

/* ---- the listening socket ---- */

/* Refuses a connection with a one-line reason (best effort: the socket
 * is new and empty, so the line fits). */
static void refuse(int fd, const char *code, const char *message) {
	struct json_object *reply = reply_error(code, "%s", message);
	if (reply != NULL) {
		const char *text = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
		char line[640];
		int n = snprintf(line, sizeof(line), "%s\n", text);
		if (n > 0 && (size_t)n < sizeof(line)) {
			ssize_t ignored = send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)ignored;
		}
		json_object_put(reply);
	}
	close(fd);
}

static int ipc_handle_connection(int fd, uint32_t mask, void *data) {
	struct tessera_ipc *ipc = data;
	int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			tessera_log_errno(TESSERA_ERROR, "ctl: cannot accept a connection");
		}
		return 0;
	}
	struct ucred cred;
	socklen_t cred_len = sizeof(cred);
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) != 0 ||
			cred_len != sizeof(cred)) {
		tessera_log_errno(TESSERA_ERROR, "ctl: cannot read a client's credentials");
		close(conn);
		return 0;
	}
	uid_t uid = geteuid();
	if (cred.uid != uid) {
		tessera_log(TESSERA_INFO, "ctl: refused a connection of uid %u (pid %d): "
			"only uid %u may control this tessera", (unsigned)cred.uid, (int)cred.pid,
			(unsigned)uid);
		char message[160];
		snprintf(message, sizeof(message), "permission denied: tessera runs as uid %u "
			"and serves no other user (you are uid %u)", (unsigned)uid,
			(unsigned)cred.uid);
		refuse(conn, "permission-denied", message);
		return 0;
	}
	if (ipc->client_count >= IPC_MAX_CLIENTS) {
		tessera_log(TESSERA_INFO, "ctl: refused a connection of pid %d: %d are open "
			"already", (int)cred.pid, IPC_MAX_CLIENTS);
		refuse(conn, "busy", "too many connections to tessera's control socket");
		return 0;
	}
	struct ipc_client *client = calloc(1, sizeof(*client));
	if (client == NULL) {
		close(conn);
		return 0;
	}
	client->ipc = ipc;
	client->fd = conn;
	client->pid = cred.pid;
	client->source = wl_event_loop_add_fd(ipc->server->event_loop, conn,
		WL_EVENT_READABLE, client_handle_event, client);
	client->idle_timer = wl_event_loop_add_timer(ipc->server->event_loop,
		client_handle_idle, client);
	if (client->source == NULL || client->idle_timer == NULL) {
		tessera_log(TESSERA_ERROR, "ctl: cannot watch a connection");
		if (client->source != NULL) {
			wl_event_source_remove(client->source);
		}
		if (client->idle_timer != NULL) {
			wl_event_source_remove(client->idle_timer);
		}
		close(conn);
		free(client);
		return 0;
	}
	wl_list_insert(&ipc->clients, &client->link);
	ipc->client_count++;
	wl_event_source_timer_update(client->idle_timer, IPC_IDLE_TIMEOUT_MS);
	tessera_log(TESSERA_DEBUG, "ctl: connection of pid %d", (int)cred.pid);
	return 0;
}

struct tessera_ipc *tessera_ipc_create(struct tessera_server *server, const char *display) {
	const char *runtime_dir = getenv("XDG_RUNTIME_DIR");
	struct tessera_ipc *ipc = calloc(1, sizeof(*ipc));
	if (ipc == NULL) {
		return NULL;
	}
	ipc->server = server;
	ipc->fd = -1;
	wl_list_init(&ipc->clients);
	if (runtime_dir == NULL || !tessera_ctl_socket_path(ipc->path, sizeof(ipc->path),
			runtime_dir, display)) {
		tessera_log(TESSERA_ERROR, "cannot create the control socket: its path in "
			"XDG_RUNTIME_DIR is too long for a UNIX socket");
		free(ipc);
		return NULL;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	memcpy(addr.sun_path, ipc->path, strlen(ipc->path) + 1);
	ipc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ipc->fd < 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot create the control socket");
		free(ipc);
		return NULL;
	}
	/* The name follows from our Wayland socket, whose lock we hold: a
	 * socket file there is a leftover of a tessera that crashed. */
	struct stat st;
	if (lstat(ipc->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		unlink(ipc->path);
	}
	if (bind(ipc->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
			chmod(ipc->path, 0600) != 0 || listen(ipc->fd, IPC_BACKLOG) != 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot create the control socket %s", ipc->path);
		close(ipc->fd);
		free(ipc);
		return NULL;
	}
	ipc->source = wl_event_loop_add_fd(server->event_loop, ipc->fd, WL_EVENT_READABLE,
		ipc_handle_connection, ipc);
	if (ipc->source == NULL) {
		tessera_log(TESSERA_ERROR, "cannot watch the control socket");
		unlink(ipc->path);
		close(ipc->fd);
		free(ipc);
		return NULL;
	}
	setenv(TESSERA_CTL_SOCKET_ENV, ipc->path, 1);
	tessera_log(TESSERA_INFO, "control socket: %s", ipc->path);
	return ipc;
}

void tessera_ipc_destroy(struct tessera_ipc *ipc) {
	if (ipc == NULL) {
		return;
	}
	struct ipc_client *client, *tmp;
	wl_list_for_each_safe(client, tmp, &ipc->clients, link) {
		client_destroy(client);
	}
	wl_event_source_remove(ipc->source);
	close(ipc->fd);
	unlink(ipc->path);
	free(ipc);
}
