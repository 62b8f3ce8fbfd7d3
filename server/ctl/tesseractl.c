/*
 * tesseractl: lists and steers the VMs and windows of a running tessera
 * through its control socket (ctl-protocol.h; tessera's end is
 * server/compositor/ipc.c). One command per run; a table for people or
 * tessera's JSON reply for scripts (--json). Exit status: 0 done,
 * 1 tessera refused or failed the command, 2 usage, 3 tessera not reached
 * or its reply unreadable (tesseractl(1)).
 */
#define _GNU_SOURCE /* MSG_NOSIGNAL */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl-protocol.h"

#define EXIT_TESSERA 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3
/* A reply may take a VM's stop time (5 s, then SIGKILL) and a start. */
#define REPLY_TIMEOUT_MS 30000

static const char usage[] =
	"Usage: tesseractl [options] COMMAND\n"
	"\n"
	"Lists and steers the VMs, windows, outputs and clipboard of a running tessera.\n"
	"\n"
	"  -s, --socket PATH  tessera's control socket (default: $TESSERA_SOCKET,\n"
	"                     else tessera-$WAYLAND_DISPLAY.sock in $XDG_RUNTIME_DIR)\n"
	"  -j, --json         print tessera's reply as one line of JSON\n"
	"  -h, --help         this text\n"
	"  -V, --version      version\n"
	"\n"
	"Commands:\n"
	"  vm list            the VMs: state, daemon pid, windows\n"
	"  vm start NAME      start a stopped VM\n"
	"  vm stop NAME       stop a VM (its windows go) and keep it stopped\n"
	"  vm restart NAME    stop a VM and start it again\n"
	"  window list        the windows: id, VM, geometry, focus, app id, title\n"
	"  window focus ID    raise the window and give it the keyboard\n"
	"  window close ID    ask the window's client to close it\n"
	"  output list        the outputs: name, size, scale, position\n"
	"  output add WxH[:SCALE]  add a headless output right of the others\n"
	"  output remove NAME remove a headless output\n"
	"  share ID --to NAME share window ID (a VM's) into VM NAME\n"
	"  share list         the shares: id, window, from, to, frames, bytes copied\n"
	"  share stop SHARE   end a share\n"
	"  clipboard show     what tessera's clipboard holds: type, size, origin\n"
	"  clipboard clear    empty tessera's clipboard\n"
	"  clipboard copy --from NAME  copy the VM's selection into the clipboard\n"
	"  clipboard paste --to NAME   offer the clipboard to the VM as its selection\n"
	"\n"
	"Exit status: 0 done, 1 tessera refused or failed the command,\n"
	"2 usage, 3 tessera not reached or its reply unreadable.\n";

/* ARG_WINDOW_VM: share ID --to NAME; ARG_SHARE: a share id */
enum arg { ARG_NONE, ARG_VM, ARG_WINDOW, ARG_OUTPUT, ARG_WINDOW_VM, ARG_SHARE };

static const struct command {
	const char *object, *verb;
	enum arg arg;
	const char *flag; /* the argument comes after it */
} commands[] = {
	{ "vm", "list", ARG_NONE },
	{ "vm", "start", ARG_VM },
	{ "vm", "stop", ARG_VM },
	{ "vm", "restart", ARG_VM },
	{ "window", "list", ARG_NONE },
	{ "window", "focus", ARG_WINDOW },
	{ "window", "close", ARG_WINDOW },
	{ "output", "list", ARG_NONE },
	{ "output", "add", ARG_OUTPUT },
	{ "output", "remove", ARG_OUTPUT },
	{ "share", "list", ARG_NONE },
	{ "share", "stop", ARG_SHARE },
	{ "share", "start", ARG_WINDOW_VM }, /* typed as: share ID --to NAME */
	{ "clipboard", "show", ARG_NONE },
	{ "clipboard", "clear", ARG_NONE },
	{ "clipboard", "copy", ARG_VM, "--from" },
	{ "clipboard", "paste", ARG_VM, "--to" },
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
	fputs("tesseractl: ", stderr);
	va_list args;
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputs("\n(tesseractl --help lists the commands)\n", stderr);
	return EXIT_USAGE;
}

/* Text from tessera made safe for a terminal: control bytes become '?'. */
static void print_safe(FILE *out, const char *text) {
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
	}
}

/* ---- the connection ---- */

static bool socket_path(const char *option, char *out, size_t size) {
	const char *env = getenv(TESSERA_CTL_SOCKET_ENV);
	const char *path = option != NULL ? option : env != NULL && env[0] != '\0' ? env : NULL;
	if (path != NULL) {
		if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path) ||
				strlen(path) >= size) {
			fprintf(stderr, "tesseractl: socket path too long: %s\n", path);
			return false;
		}
		memcpy(out, path, strlen(path) + 1);
		return true;
	}
	const char *runtime_dir = getenv("XDG_RUNTIME_DIR");
	const char *display = getenv("WAYLAND_DISPLAY");
	if (runtime_dir == NULL || display == NULL ||
			!tessera_ctl_socket_path(out, size, runtime_dir, display)) {
		fprintf(stderr, "tesseractl: cannot tell where tessera's control socket is: "
			"set %s or XDG_RUNTIME_DIR and WAYLAND_DISPLAY (a socket name), or use "
			"--socket PATH\n", TESSERA_CTL_SOCKET_ENV);
		return false;
	}
	return true;
}

static int connect_to(const char *path) {
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "tesseractl: cannot create a socket: %s\n", strerror(errno));
		return -1;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int err = errno;
		fprintf(stderr, "tesseractl: cannot reach tessera at %s: %s%s\n", path,
			strerror(err), err == ENOENT || err == ECONNREFUSED ?
			" (is tessera running? its socket is in $" TESSERA_CTL_SOCKET_ENV ")" : "");
		close(fd);
		return -1;
	}
	return fd;
}

static int64_t now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Sends the request and reads the reply line. The request may fail to go
 * out when tessera refused the connection at once: its reason may still
 * be there to read. NULL (the reason printed) if no reply came.
 */
static struct json_object *transact(int fd, const char *request) {
	size_t len = strlen(request);
	for (size_t done = 0; done < len;) {
		ssize_t n = send(fd, request + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		done += (size_t)n;
	}
	size_t cap = 4096, have = 0;
	char *buf = malloc(cap);
	int64_t deadline = now_ms() + REPLY_TIMEOUT_MS;
	while (buf != NULL && memchr(buf, '\n', have) == NULL) {
		if (have == cap) {
			if (cap >= TESSERA_CTL_MAX_REPLY) {
				fprintf(stderr, "tesseractl: tessera's reply is longer than %d bytes\n",
					TESSERA_CTL_MAX_REPLY);
				free(buf);
				return NULL;
			}
			cap *= 2;
			char *bigger = realloc(buf, cap);
			if (bigger == NULL) {
				break;
			}
			buf = bigger;
		}
		int64_t left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ready = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (ready < 0 && errno == EINTR) {
			continue;
		}
		if (ready == 0) {
			fprintf(stderr, "tesseractl: no reply from tessera within %d s\n",
				REPLY_TIMEOUT_MS / 1000);
			free(buf);
			return NULL;
		}
		ssize_t n = ready < 0 ? -1 : recv(fd, buf + have, cap - have, 0);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			fprintf(stderr, "tesseractl: tessera closed the connection without a "
				"reply%s%s\n", n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			free(buf);
			return NULL;
		}
		have += (size_t)n;
	}
	if (buf == NULL) {
		fprintf(stderr, "tesseractl: out of memory\n");
		return NULL;
	}
	size_t line_len = (size_t)((char *)memchr(buf, '\n', have) - buf);
	struct json_tokener *tokener = json_tokener_new();
	struct json_object *reply = tokener != NULL ?
		json_tokener_parse_ex(tokener, buf, (int)line_len) : NULL;
	bool complete = tokener != NULL &&
		json_tokener_get_error(tokener) == json_tokener_success &&
		json_tokener_get_parse_end(tokener) == line_len;
	json_tokener_free(tokener);
	free(buf);
	struct json_object *ok;
	if (!complete || !json_object_is_type(reply, json_type_object) ||
			!json_object_object_get_ex(reply, "ok", &ok) ||
			!json_object_is_type(ok, json_type_boolean)) {
		fprintf(stderr, "tesseractl: tessera's reply is not what the protocol says\n");
		json_object_put(reply);
		return NULL;
	}
	return reply;
}

/* ---- output for people ---- */

static const char *get_string(struct json_object *obj, const char *key) {
	struct json_object *value;
	if (json_object_object_get_ex(obj, key, &value) &&
			json_object_is_type(value, json_type_string)) {
		return json_object_get_string(value);
	}
	return NULL;
}

/* A number as text, "-" when null or absent. */
static const char *get_number(struct json_object *obj, const char *key, char *buf,
		size_t size) {
	struct json_object *value;
	if (!json_object_object_get_ex(obj, key, &value) ||
			!json_object_is_type(value, json_type_int)) {
		return "-";
	}
	snprintf(buf, size, "%" PRId64, json_object_get_int64(value));
	return buf;
}

#define TABLE_MAX_COLUMNS 9 /* share list */

/* Rows of cells, columns padded to their widest cell, the last unpadded. */
struct table {
	size_t columns;
	size_t widths[TABLE_MAX_COLUMNS];
	struct json_object *cells; /* array of arrays of strings */
};

static void table_add(struct table *table, const char *const *cells) {
	struct json_object *row = json_object_new_array();
	for (size_t i = 0; i < table->columns; i++) {
		const char *cell = cells[i] != NULL ? cells[i] : "";
		if (strlen(cell) > table->widths[i]) {
			table->widths[i] = strlen(cell);
		}
		json_object_array_add(row, json_object_new_string(cell));
	}
	json_object_array_add(table->cells, row);
}

static void table_print(struct table *table) {
	for (size_t r = 0; r < json_object_array_length(table->cells); r++) {
		struct json_object *row = json_object_array_get_idx(table->cells, r);
		for (size_t i = 0; i < table->columns; i++) {
			const char *cell = json_object_get_string(json_object_array_get_idx(row, i));
			print_safe(stdout, cell);
			if (i + 1 < table->columns) {
				printf("%*s", (int)(table->widths[i] - strlen(cell) + 2), "");
			}
		}
		putchar('\n');
	}
	json_object_put(table->cells);
}

static struct json_object *get_array(struct json_object *reply, const char *key) {
	struct json_object *array;
	if (json_object_object_get_ex(reply, key, &array) &&
			json_object_is_type(array, json_type_array)) {
		return array;
	}
	return NULL;
}

static void print_vm_list(struct json_object *reply) {
	static const char *const header[] = { "NAME", "STATE", "DAEMON-PID", "QEMU-PID",
		"WINDOWS", "FRAMES", "BYTES-COPIED" };
	struct table table = { .columns = 7, .cells = json_object_new_array() };
	table_add(&table, header);
	struct json_object *vms = get_array(reply, "vms");
	for (size_t i = 0; vms != NULL && i < json_object_array_length(vms); i++) {
		struct json_object *vm = json_object_array_get_idx(vms, i);
		char pid[24], qemu[24], windows[24], frames[24], bytes[24];
		const char *row[] = {
			get_string(vm, "name"), get_string(vm, "state"),
			get_number(vm, "daemon_pid", pid, sizeof(pid)),
			get_number(vm, "qemu_pid", qemu, sizeof(qemu)),
			get_number(vm, "windows", windows, sizeof(windows)),
			get_number(vm, "frames", frames, sizeof(frames)),
			get_number(vm, "bytes_copied", bytes, sizeof(bytes)),
		};
		table_add(&table, row);
	}
	table_print(&table);
}

static void print_window_list(struct json_object *reply) {
	static const char *const header[] = { "ID", "VM", "FOCUSED", "GEOMETRY", "APP-ID",
		"TITLE" };
	struct table table = { .columns = 6, .cells = json_object_new_array() };
	table_add(&table, header);
	struct json_object *windows = get_array(reply, "windows");
	for (size_t i = 0; windows != NULL && i < json_object_array_length(windows); i++) {
		struct json_object *window = json_object_array_get_idx(windows, i);
		char id[24], w[24], h[24], x[24], y[24], geometry[100];
		snprintf(geometry, sizeof(geometry), "%sx%s+%s+%s",
			get_number(window, "width", w, sizeof(w)),
			get_number(window, "height", h, sizeof(h)),
			get_number(window, "x", x, sizeof(x)),
			get_number(window, "y", y, sizeof(y)));
		struct json_object *focused = json_object_object_get(window, "focused");
		const char *vm = get_string(window, "vm");
		const char *row[] = {
			get_number(window, "id", id, sizeof(id)),
			vm != NULL ? vm : "(host)",
			json_object_get_boolean(focused) ? "yes" : "no",
			geometry, get_string(window, "app_id"), get_string(window, "title"),
		};
		table_add(&table, row);
	}
	table_print(&table);
}

static void print_vm_change(struct json_object *reply) {
	struct json_object *vm = json_object_object_get(reply, "vm");
	struct json_object *changed = json_object_object_get(reply, "changed");
	const char *name = get_string(vm, "name");
	const char *state = get_string(vm, "state");
	char buf[24];
	const char *pid = get_number(vm, "daemon_pid", buf, sizeof(buf));
	printf("vm '");
	print_safe(stdout, name != NULL ? name : "?");
	printf("'%s", json_object_get_boolean(changed) ? ": " : " is already ");
	print_safe(stdout, state != NULL ? state : "?");
	if (strcmp(pid, "-") != 0) {
		printf(" (daemon pid %s)", pid);
	}
	putchar('\n');
}

/* "NAME WxH scale S at X,Y" */
static void print_output(struct json_object *output) {
	char w[24], h[24], x[24], y[24];
	struct json_object *scale = json_object_object_get(output, "scale");
	const char *name = get_string(output, "name");
	print_safe(stdout, name != NULL ? name : "?");
	printf(" %sx%s scale %g at %s,%s", get_number(output, "width", w, sizeof(w)),
		get_number(output, "height", h, sizeof(h)),
		json_object_is_type(scale, json_type_double) ||
		json_object_is_type(scale, json_type_int) ? json_object_get_double(scale) : 0.0,
		get_number(output, "x", x, sizeof(x)), get_number(output, "y", y, sizeof(y)));
}

static void print_output_reply(const struct command *command, struct json_object *reply) {
	if (command->arg == ARG_NONE) {
		struct json_object *outputs = get_array(reply, "outputs");
		for (size_t i = 0; outputs != NULL && i < json_object_array_length(outputs); i++) {
			print_output(json_object_array_get_idx(outputs, i));
			putchar('\n');
		}
		return;
	}
	printf("output ");
	print_output(json_object_object_get(reply, "output"));
	printf(strcmp(command->verb, "add") == 0 ? ": added\n" : ": removed\n");
}

static void print_share_reply(const struct command *command, struct json_object *reply) {
	static const char *const header[] = { "SHARE", "WINDOW", "FROM", "TO", "SIZE",
		"BUFFERS", "FRAMES", "SKIPPED", "BYTES-COPIED" };
	_Static_assert(sizeof(header) / sizeof(header[0]) <= TABLE_MAX_COLUMNS, "columns");
	struct table table = { .columns = sizeof(header) / sizeof(header[0]),
		.cells = json_object_new_array() };
	table_add(&table, header);
	struct json_object *shares = get_array(reply, "shares");
	struct json_object *one = json_object_object_get(reply, "share");
	size_t n = shares != NULL ? json_object_array_length(shares) : one != NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = shares != NULL ? json_object_array_get_idx(shares, i) : one;
		char id[24], window[24], w[24], h[24], size[60], buffers[24], frames[24],
			skipped[24], bytes[24];
		snprintf(size, sizeof(size), "%sx%s", get_number(s, "width", w, sizeof(w)),
			get_number(s, "height", h, sizeof(h)));
		const char *row[] = {
			get_number(s, "id", id, sizeof(id)),
			get_number(s, "window", window, sizeof(window)),
			get_string(s, "from"), get_string(s, "to"), size,
			get_number(s, "buffers", buffers, sizeof(buffers)),
			get_number(s, "frames", frames, sizeof(frames)),
			get_number(s, "frames_skipped", skipped, sizeof(skipped)),
			get_number(s, "bytes_copied", bytes, sizeof(bytes)),
		};
		table_add(&table, row);
	}
	if (command->arg == ARG_SHARE) {
		printf("share %s stopped\n", get_number(one, "id", (char[24]){0}, 24));
		json_object_put(table.cells);
		return;
	}
	table_print(&table);
}

static void print_clipboard(struct json_object *reply) {
	struct json_object *clipboard = json_object_object_get(reply, "clipboard");
	if (clipboard == NULL) {
		printf("clipboard: empty\n");
		return;
	}
	char size[24];
	const char *mime = get_string(clipboard, "mime");
	const char *from = get_string(clipboard, "from");
	printf("clipboard: ");
	print_safe(stdout, mime != NULL ? mime : "?");
	printf(", %s bytes, from ", get_number(clipboard, "size", size, sizeof(size)));
	print_safe(stdout, from != NULL ? from : "?");
	putchar('\n');
}

static void print_reply(const struct command *command, struct json_object *reply) {
	if (strcmp(command->object, "share") == 0) {
		print_share_reply(command, reply);
	} else if (strcmp(command->object, "clipboard") == 0) {
		print_clipboard(reply);
	} else if (strcmp(command->object, "output") == 0) {
		print_output_reply(command, reply);
	} else if (command->arg == ARG_NONE) {
		if (strcmp(command->object, "vm") == 0) {
			print_vm_list(reply);
		} else {
			print_window_list(reply);
		}
	} else if (command->arg == ARG_VM) {
		print_vm_change(reply);
	} else {
		char buf[24];
		const char *id = get_number(json_object_object_get(reply, "window"), "id",
			buf, sizeof(buf));
		printf(strcmp(command->verb, "focus") == 0 ? "window %s focused\n" :
			"window %s asked to close\n", id);
	}
}

/* ---- main ---- */

static const struct command *find_command(int argc, char *argv[], int *status) {
	if (argc == 0) {
		*status = usage_error("no command given");
		return NULL;
	}
	bool known = strcmp(argv[0], "vm") == 0 || strcmp(argv[0], "window") == 0 ||
		strcmp(argv[0], "output") == 0 || strcmp(argv[0], "share") == 0 ||
		strcmp(argv[0], "clipboard") == 0;
	if (!known) {
		*status = usage_error("unknown command '%s' (expected vm, window, output, "
			"share or clipboard)", argv[0]);
		return NULL;
	}
	if (strcmp(argv[0], "share") == 0 && argc >= 2 && argv[1][0] >= '0' &&
			argv[1][0] <= '9') {
		/* share ID --to NAME */
		if (argc != 4 || strcmp(argv[2], "--to") != 0) {
			*status = usage_error("%s", "share a window as: share ID --to NAME");
			return NULL;
		}
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (commands[i].arg == ARG_WINDOW_VM) {
				return &commands[i];
			}
		}
	}
	if (argc == 1) {
		*status = usage_error("incomplete command '%s' (list, or what to do with "
			"which one)", argv[0]);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].object, argv[0]) != 0 ||
				strcmp(commands[i].verb, argv[1]) != 0) {
			continue;
		}
		int want = commands[i].arg == ARG_NONE ? 2 : commands[i].flag != NULL ? 4 : 3;
		if (commands[i].flag != NULL && argc >= 3 &&
				strcmp(argv[2], commands[i].flag) != 0) {
			*status = usage_error("'%s' takes %s NAME", argv[1], commands[i].flag);
			return NULL;
		}
		if (argc < want) {
			*status = usage_error("'%s' needs an argument", argv[1]);
			return NULL;
		}
		if (commands[i].arg == ARG_WINDOW_VM) {
			break; /* only as share ID --to NAME */
		}
		if (argc > want) {
			*status = usage_error("unexpected argument '%s'", argv[want]);
			return NULL;
		}
		return &commands[i];
	}
	*status = usage_error("unknown command '%s %s'", argv[0], argv[1]);
	return NULL;
}

/* The request line for the command, or NULL (status set). */
static char *build_request(const struct command *command, const char *arg,
		const char *vm, int *status) {
	struct json_object *request = json_object_new_object();
	char name[32];
	snprintf(name, sizeof(name), "%s %s", command->object, command->verb);
	json_object_object_add(request, "version", json_object_new_int(TESSERA_CTL_VERSION));
	json_object_object_add(request, "command", json_object_new_string(name));
	if (command->arg == ARG_VM) {
		json_object_object_add(request, "vm", json_object_new_string(arg));
	} else if (command->arg == ARG_OUTPUT) {
		json_object_object_add(request, "output", json_object_new_string(arg));
	} else if (command->arg == ARG_WINDOW || command->arg == ARG_WINDOW_VM ||
			command->arg == ARG_SHARE) {
		bool is_share = command->arg == ARG_SHARE;
		char *end;
		errno = 0;
		unsigned long long id = strtoull(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0' || arg[0] < '0' || arg[0] > '9' ||
				id < 1 || id > (is_share ? UINT32_MAX : INT64_MAX)) {
			json_object_put(request);
			*status = usage_error("a %s id is a positive integer, not '%s'",
				is_share ? "share" : "window", arg);
			return NULL;
		}
		json_object_object_add(request, is_share ? "share" : "id",
			json_object_new_int64((int64_t)id));
		if (vm != NULL) {
			json_object_object_add(request, "vm", json_object_new_string(vm));
		}
	}
	const char *text = json_object_to_json_string_ext(request,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *line = NULL;
	if (strlen(text) + 1 > TESSERA_CTL_MAX_REQUEST) {
		*status = usage_error("%s", "argument too long");
	} else if (asprintf(&line, "%s\n", text) < 0) {
		line = NULL;
		*status = EXIT_UNREACHABLE;
	}
	json_object_put(request);
	return line;
}

int main(int argc, char *argv[]) {
	static const struct option long_options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *socket_option = NULL;
	bool json = false;
	int c;
	/* '+': options end at the command (a window id is never an option) */
	while ((c = getopt_long(argc, argv, "+s:jhV", long_options, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_option = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("tesseractl %s\n", TESSERA_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	int status = 0;
	const struct command *command = find_command(argc - optind, argv + optind, &status);
	if (command == NULL) {
		return status;
	}
	bool share = command->arg == ARG_WINDOW_VM; /* share ID --to NAME */
	char *request = build_request(command,
		argv[optind + (share ? 1 : command->flag != NULL ? 3 : 2)],
		share ? argv[optind + 3] : NULL, &status);
	if (request == NULL) {
		return status;
	}
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	int fd = socket_path(socket_option, path, sizeof(path)) ? connect_to(path) : -1;
	struct json_object *reply = fd >= 0 ? transact(fd, request) : NULL;
	free(request);
	if (fd >= 0) {
		close(fd);
	}
	if (reply == NULL) {
		return EXIT_UNREACHABLE;
	}
	bool ok = json_object_get_boolean(json_object_object_get(reply, "ok"));
	if (json) {
		puts(json_object_to_json_string_ext(reply,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (ok) {
		print_reply(command, reply);
	}
	if (!ok) {
		const char *error = get_string(reply, "error");
		fputs("tesseractl: ", stderr);
		print_safe(stderr, error != NULL ? error : "tessera refused the command");
		fputc('\n', stderr);
	}
	json_object_put(reply);
	return ok ? 0 : EXIT_TESSERA;
}
