#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wlr/backend.h>
#include <wlr/backend/headless.h>
#include <wlr/render/allocator.h>
#include <wlr/render/pixman.h>
#include <wlr/render/drm_format_set.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_data_control_v1.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_export_dmabuf_v1.h>
#include <wlr/types/wlr_foreign_toplevel_management_v1.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_primary_selection_v1.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_screencopy_v1.h>
#include <wlr/types/wlr_viewporter.h>
#include <wlr/types/wlr_xdg_output_v1.h>

#include "config.h"
#include "qemu.h"
#include "decoration.h"
#include "guest-memory.h"
#include "ipc.h"
#include "linux-dmabuf.h"
#include "output.h"
#include "seat.h"
#include "server.h"
#include "share.h"
#include "vm.h"
#include "clipboard.h"
#include "wlr-log.h"
#include "xdg-shell.h"

#define MAX_COMMANDS 16
#define MAX_OUTPUTS 8 /* --outputs */
#define MAX_REFRESH_HZ 1000 /* the headless backend's timer counts in ms */
#define REFRESH_DEFAULT -1

enum backend_choice { BACKEND_AUTO, BACKEND_HEADLESS, BACKEND_WAYLAND, BACKEND_DRM };

struct options {
	enum backend_choice backend;
	int width, height;
	/* --outputs: a list of sizes, or only a count (sizes 0: --size) */
	struct tessera_output_mode outputs[MAX_OUTPUTS];
	int output_count;
	bool outputs_given;
	int scale; /* --scale: of every output */
	int32_t refresh_mhz; /* REFRESH_DEFAULT, 0 (unpaced) or mHz */
	const char *socket;
	const char *config;
	const char *commands[MAX_COMMANDS];
	int command_count;
	enum tessera_log_importance verbosity;
};

static const char usage[] =
	"Usage: tessera [options]\n"
	"\n"
	"A Wayland compositor that shows windows of virtual machines, each\n"
	"labelled by the compositor with its VM's name and colour.\n"
	"\n"
	"  -b, --backend NAME  auto (default), headless, wayland (nested) or drm\n"
	"  -S, --size WxH      size of the headless output (default 1280x800)\n"
	"  -O, --outputs LIST  headless outputs side by side, left to right: a\n"
	"                      count 1..8 (each of --size) or sizes WxH[:SCALE]\n"
	"                      separated by commas (default 1)\n"
	"      --scale N       scale of every output, 1..4 (default 1)\n"
	"  -r, --refresh HZ    refresh rate of the headless outputs, 1..1000\n"
	"                      (default 60); 0: unpaced, a frame as soon as\n"
	"                      something changed and the last one is done\n"
	"      --socket NAME   listening socket name in XDG_RUNTIME_DIR\n"
	"                      (default: the first free wayland-N)\n"
	"  -c, --config FILE   configuration file (default:\n"
	"                      $XDG_CONFIG_HOME/tessera/tessera.ini if it exists)\n"
	"  -s, --startup CMD   run CMD (with /bin/sh) once the compositor is up;\n"
	"                      may be given several times\n"
	"  -v, --verbose       debug log output\n"
	"  -q, --quiet         log errors only\n"
	"  -h, --help          this text\n"
	"  -V, --version       version\n"
	"\n"
	"The socket name is printed on stdout as WAYLAND_DISPLAY=NAME.\n"
	"Alt+drag moves a window (right button: resizes), Alt+Tab cycles focus,\n"
	"Ctrl+Alt+BackSpace quits.\n";

/* --outputs: a count, or up to MAX_OUTPUTS items WxH[:SCALE] with commas. */
static bool parse_outputs(const char *arg, struct options *opts) {
	char *end;
	errno = 0;
	long count = strtol(arg, &end, 10);
	if (errno == 0 && end != arg && *end == '\0') {
		if (count < 1 || count > MAX_OUTPUTS) {
			return false;
		}
		opts->output_count = (int)count;
		memset(opts->outputs, 0, sizeof(opts->outputs));
		return true;
	}
	int n = 0;
	const char *item = arg;
	for (;;) {
		size_t len = strcspn(item, ",");
		char buf[64];
		if (n == MAX_OUTPUTS || len == 0 || len >= sizeof(buf)) {
			return false;
		}
		memcpy(buf, item, len);
		buf[len] = '\0';
		struct tessera_output_mode mode;
		if (!tessera_output_parse_mode(buf, &mode)) {
			return false;
		}
		opts->outputs[n++] = mode;
		if (item[len] == '\0') {
			break;
		}
		item += len + 1;
	}
	opts->output_count = n;
	return true;
}

/* "0" or a rate 1..MAX_REFRESH_HZ, up to three decimals, into mHz. */
static bool parse_refresh(const char *arg, int32_t *mhz) {
	char *end;
	errno = 0;
	double hz = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] < '0' || arg[0] > '9') {
		return false;
	}
	if (hz != 0 && !(hz >= 1 && hz <= MAX_REFRESH_HZ)) {
		return false;
	}
	*mhz = (int32_t)(hz * 1000 + 0.5);
	return true;
}

static bool valid_socket_name(const char *name) {
	size_t len = strlen(name);
	if (len == 0 || len > 64 || strchr(name, '/') != NULL || name[0] == '.') {
		return false;
	}
	return true;
}

static bool parse_backend(const char *arg, enum backend_choice *backend) {
	static const char *const names[] = {
		[BACKEND_AUTO] = "auto",
		[BACKEND_HEADLESS] = "headless",
		[BACKEND_WAYLAND] = "wayland",
		[BACKEND_DRM] = "drm",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(arg, names[i]) == 0) {
			*backend = (enum backend_choice)i;
			return true;
		}
	}
	return false;
}

/* One option from getopt; returns -1 to go on, otherwise the exit status. */
static int apply_option(int c, const char *arg, struct options *opts) {
	switch (c) {
	case 'b':
		if (!parse_backend(arg, &opts->backend)) {
			fprintf(stderr, "tessera: unknown backend '%s' "
				"(expected auto, headless, wayland or drm)\n", arg);
			return 2;
		}
		return -1;
	case 'S':
		if (!tessera_output_parse_size(arg, &opts->width, &opts->height)) {
			fprintf(stderr, "tessera: invalid size '%s' (expected WxH, "
				"each 1..%d)\n", arg, TESSERA_OUTPUT_MAX_SIZE);
			return 2;
		}
		return -1;
	case 'O':
		opts->outputs_given = true;
		if (!parse_outputs(arg, opts)) {
			fprintf(stderr, "tessera: invalid outputs '%s' (expected a count 1..%d, "
				"or up to %d sizes WxH[:SCALE] separated by commas, each side "
				"1..%d, scale 1..%d)\n", arg, MAX_OUTPUTS, MAX_OUTPUTS,
				TESSERA_OUTPUT_MAX_SIZE, TESSERA_OUTPUT_MAX_SCALE);
			return 2;
		}
		return -1;
	case 'C':
		if (!tessera_output_parse_scale(arg, &opts->scale)) {
			fprintf(stderr, "tessera: invalid scale '%s' (expected 1..%d)\n", arg,
				TESSERA_OUTPUT_MAX_SCALE);
			return 2;
		}
		return -1;
	case 'r':
		if (!parse_refresh(arg, &opts->refresh_mhz)) {
			fprintf(stderr, "tessera: invalid refresh rate '%s' (expected 0 for "
				"unpaced, or 1..%d Hz)\n", arg, MAX_REFRESH_HZ);
			return 2;
		}
		return -1;
	case 'L':
		if (!valid_socket_name(arg)) {
			fprintf(stderr, "tessera: invalid socket name '%s' "
				"(1-64 characters, no '/', not starting with '.')\n", arg);
			return 2;
		}
		opts->socket = arg;
		return -1;
	case 'c':
		opts->config = arg;
		return -1;
	case 's':
		if (opts->command_count == MAX_COMMANDS) {
			fprintf(stderr, "tessera: at most %d -s commands\n", MAX_COMMANDS);
			return 2;
		}
		opts->commands[opts->command_count++] = arg;
		return -1;
	case 'v':
		opts->verbosity = TESSERA_DEBUG;
		return -1;
	case 'q':
		opts->verbosity = TESSERA_ERROR;
		return -1;
	case 'h':
		fputs(usage, stdout);
		return 0;
	case 'V':
		printf("tessera %s\n", TESSERA_VERSION);
		return 0;
	default:
		fputs(usage, stderr);
		return 2;
	}
}

/* Returns -1 to go on, otherwise the exit status. */
static int parse_options(int argc, char *argv[], struct options *opts) {
	static const struct option long_options[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 'S' },
		{ "outputs", required_argument, NULL, 'O' },
		{ "scale", required_argument, NULL, 'C' },
		{ "refresh", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 'L' },
		{ "config", required_argument, NULL, 'c' },
		{ "startup", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	*opts = (struct options){
		.backend = BACKEND_AUTO,
		.width = 1280,
		.height = 800,
		.output_count = 1,
		.scale = 1,
		.refresh_mhz = REFRESH_DEFAULT,
		.verbosity = TESSERA_INFO,
	};
	int c;
	while ((c = getopt_long(argc, argv, "b:S:O:r:c:s:vqhV", long_options, NULL)) != -1) {
		int status = apply_option(c, optarg, opts);
		if (status >= 0) {
			return status;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tessera: unexpected argument '%s'\n", argv[optind]);
		fputs(usage, stderr);
		return 2;
	}
	for (int i = 0; i < opts->output_count; i++) {
		struct tessera_output_mode *spec = &opts->outputs[i];
		if (spec->width == 0) { /* --outputs N, or none: --size */
			spec->width = opts->width;
			spec->height = opts->height;
		}
		if (spec->scale == 0) {
			spec->scale = opts->scale;
		}
	}
	return -1;
}

static int handle_terminate_signal(int signal_number, void *data) {
	struct wl_display *display = data;
	tessera_log(TESSERA_INFO, "signal %d: exiting", signal_number);
	wl_display_terminate(display);
	return 0;
}

/* The default config file, when the user has one. */
static char *default_config_path(void) {
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char path[4096];
	if (xdg != NULL && xdg[0] == '/') {
		snprintf(path, sizeof(path), "%s/tessera/tessera.ini", xdg);
	} else if (home != NULL && home[0] == '/') {
		snprintf(path, sizeof(path), "%s/.config/tessera/tessera.ini", home);
	} else {
		return NULL;
	}
	return access(path, F_OK) == 0 ? strdup(path) : NULL;
}

static bool check_runtime_dir(void) {
	const char *dir = getenv("XDG_RUNTIME_DIR");
	if (dir == NULL || dir[0] == '\0') {
		tessera_log(TESSERA_ERROR, "XDG_RUNTIME_DIR is not set: it names the directory "
			"for the Wayland socket (e.g. export XDG_RUNTIME_DIR=/run/user/$(id -u))");
		return false;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		tessera_log(TESSERA_ERROR, "XDG_RUNTIME_DIR '%s' is not a directory", dir);
		return false;
	}
	return true;
}

static struct wlr_backend *create_backend(struct tessera_server *server,
		const struct options *opts, bool *headless) {
	struct wl_display *display = server->wl_display;
	*headless = false;
	switch (opts->backend) {
	case BACKEND_HEADLESS:
		break;
	case BACKEND_WAYLAND:
		setenv("WLR_BACKENDS", "wayland", 1);
		return wlr_backend_autocreate(display);
	case BACKEND_DRM:
		setenv("WLR_BACKENDS", "drm,libinput", 1);
		return wlr_backend_autocreate(display);
	case BACKEND_AUTO:;
		const char *wl = getenv("WAYLAND_DISPLAY");
		const char *x11 = getenv("DISPLAY");
		const char *forced = getenv("WLR_BACKENDS");
		bool have_display = (wl != NULL && wl[0] != '\0') ||
			(x11 != NULL && x11[0] != '\0');
		if (have_display || (forced != NULL && forced[0] != '\0') ||
				access("/dev/dri", F_OK) == 0) {
			struct wlr_backend *backend = wlr_backend_autocreate(display);
			if (backend != NULL || have_display || forced != NULL) {
				return backend;
			}
		}
		tessera_log(TESSERA_INFO, "No display and no seat with a GPU: falling back to "
			"the headless backend with the pixman renderer");
		break;
	}
	*headless = true;
	return wlr_headless_backend_create(display);
}

/* The backend and what draws: the renderer and the allocator. */
static bool server_init_backend(struct tessera_server *server, const struct options *opts,
		bool *headless) {
	server->backend = create_backend(server, opts, headless);
	if (server->backend == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create the backend");
		return false;
	}

	const char *renderer_env = getenv("WLR_RENDERER");
	if (*headless && (renderer_env == NULL || renderer_env[0] == '\0')) {
		server->renderer = wlr_pixman_renderer_create();
	} else {
		server->renderer = wlr_renderer_autocreate(server->backend);
	}
	if (server->renderer == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create the renderer");
		return false;
	}
	tessera_log(TESSERA_INFO, "backend: %s, renderer: %s", *headless ? "headless" : "autocreated",
		wlr_renderer_is_pixman(server->renderer) ? "pixman" : "GPU");
	/* wl_shm, and linux-dmabuf when the renderer can import dmabufs. */
	wlr_renderer_init_wl_display(server->renderer, server->wl_display);

	server->allocator = wlr_allocator_autocreate(server->backend, server->renderer);
	if (server->allocator == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create the allocator");
		return false;
	}
	return true;
}

/* The protocols of surfaces, buffers, selections and screen capture. */
static bool server_init_globals(struct tessera_server *server) {
	/* wl_compositor and wl_subcompositor */
	if (wlr_compositor_create(server->wl_display, server->renderer) == NULL) {
		return false;
	}
	wlr_data_device_manager_create(server->wl_display);
	wlr_primary_selection_v1_device_manager_create(server->wl_display);
	wlr_data_control_manager_v1_create(server->wl_display);
	wlr_export_dmabuf_manager_v1_create(server->wl_display);
	wlr_screencopy_manager_v1_create(server->wl_display);
	wlr_viewporter_create(server->wl_display);
	/* VM-only (vm.c's global filter); torn down with the display. */
	if (tessera_guest_memory_create(server) == NULL || !tessera_shares_init(server)) {
		return false;
	}
	/* linux-dmabuf as a CPU import when the renderer imports no dmabufs
	 * (pixman); otherwise wlr_renderer_init_wl_display made wlroots' own. */
	const struct wlr_drm_format_set *dmabuf_formats =
		wlr_renderer_get_dmabuf_texture_formats(server->renderer);
	if ((dmabuf_formats == NULL || dmabuf_formats->len == 0) &&
			tessera_linux_dmabuf_create(server->wl_display) == NULL) {
		return false;
	}
	return true;
}

/* The output layout and the scene shown on it, with presentation time. */
static bool server_init_outputs(struct tessera_server *server) {
	server->output_layout = wlr_output_layout_create();
	wlr_xdg_output_manager_v1_create(server->wl_display, server->output_layout);
	server->new_output.notify = tessera_output_handle_new;
	wl_signal_add(&server->backend->events.new_output, &server->new_output);

	server->scene = wlr_scene_create();
	if (server->scene == NULL ||
			!wlr_scene_attach_output_layout(server->scene, server->output_layout)) {
		return false;
	}
	struct wlr_presentation *presentation =
		wlr_presentation_create(server->wl_display, server->backend);
	if (presentation != NULL) {
		wlr_scene_set_presentation(server->scene, presentation);
	}
	return true;
}

/* The window protocols: xdg-shell, xdg-decoration, foreign toplevels. */
static bool server_init_shells(struct tessera_server *server) {
	if (!tessera_xdg_shell_init(server) || !tessera_xdg_decoration_init(server)) {
		return false;
	}
	server->foreign_toplevel_manager =
		wlr_foreign_toplevel_manager_v1_create(server->wl_display);
	return server->foreign_toplevel_manager != NULL;
}

/* *headless_out: whether the backend is the headless one. */
static bool server_init(struct tessera_server *server, const struct options *opts,
		bool *headless_out) {
	server->wl_display = wl_display_create();
	if (server->wl_display == NULL) {
		return false;
	}
	server->event_loop = wl_display_get_event_loop(server->wl_display);
	wl_list_init(&server->outputs);
	wl_list_init(&server->views);
	wl_list_init(&server->vms);

	bool headless;
	if (!server_init_backend(server, opts, &headless) ||
			!server_init_globals(server) ||
			!server_init_outputs(server) ||
			!server_init_shells(server)) {
		return false;
	}
	server->seat = tessera_seat_create(server);
	if (server->seat == NULL) {
		tessera_log(TESSERA_ERROR, "cannot set up input");
		return false;
	}
	server->output_scale = opts->scale;
	*headless_out = headless;
	if (headless) {
		/* A keyboard, so that the seat has a keymap to send. */
		wlr_headless_add_input_device(server->backend, WLR_INPUT_DEVICE_KEYBOARD);
	}
	return true;
}

static void server_finish(struct tessera_server *server) {
	if (server->wl_display == NULL) {
		tessera_config_finish(&server->config);
		return;
	}
	/* The daemons end while their connections still stand (a lost
	 * connection is an error for them), then the clients go: VM windows
	 * refer to their VM until they are gone. */
	tessera_ipc_destroy(server->ipc);
	server->ipc = NULL;
	tessera_shares_finish(server);
	tessera_vms_stop(server);
	wl_display_destroy_clients(server->wl_display);
	tessera_vms_finish(server);
	tessera_clipboard_destroy(server->clipboard);
	server->clipboard = NULL;
	tessera_seat_destroy(server->seat);
	tessera_xdg_shell_finish(server);
	tessera_xdg_decoration_finish(server);
	if (server->backend != NULL) {
		wl_list_remove(&server->new_output.link);
		wlr_backend_destroy(server->backend);
	}
	wlr_allocator_destroy(server->allocator);
	wlr_renderer_destroy(server->renderer);
	/* The layout first: in wlroots 0.15 the scene's layout attachment
	 * does not notice the scene going away. */
	wlr_output_layout_destroy(server->output_layout);
	if (server->scene != NULL) {
		wlr_scene_node_destroy(&server->scene->node);
	}
	wl_display_destroy(server->wl_display);
	tessera_config_finish(&server->config);
}

/* The given config file, else the user's default one if there is one. */
static bool load_config(struct tessera_config *config, const char *path_option) {
	char *config_path = path_option != NULL ? strdup(path_option) : default_config_path();
	if (config_path == NULL) {
		return true;
	}
	char err[512];
	bool ok = tessera_config_load(config, config_path, err, sizeof(err));
	if (ok) {
		tessera_log(TESSERA_INFO, "config %s: %zu VM(s)", config_path, config->vm_count);
	} else {
		tessera_log(TESSERA_ERROR, "%s", err);
	}
	free(config_path);
	return ok;
}

/*
 * The headless outputs (--outputs, --size, --scale, --refresh), once the
 * backend runs: each is announced as it is added, so the layout places
 * them left to right in this order.
 */
static bool add_headless_outputs(struct tessera_server *server, const struct options *opts,
		bool headless) {
	if (!headless && opts->outputs_given) {
		tessera_log(TESSERA_ERROR, "cannot create the outputs: --outputs applies to "
			"the headless backend only");
		return false;
	}
	if (!headless && opts->refresh_mhz != REFRESH_DEFAULT) {
		tessera_log(TESSERA_ERROR, "cannot pace the output: --refresh applies to "
			"the headless backend only");
		return false;
	}
	for (int i = 0; headless && i < opts->output_count; i++) {
		struct wlr_output *output = tessera_output_add_headless(server, &opts->outputs[i]);
		if (output == NULL) {
			return false;
		}
		if (opts->refresh_mhz != REFRESH_DEFAULT &&
				!tessera_output_pace_headless(server, output, opts->refresh_mhz)) {
			return false;
		}
	}
	return true;
}

/* The listening socket: the given name, or the first free wayland-N. */
static const char *add_socket(struct wl_display *display, const char *socket) {
	if (socket != NULL) {
		if (wl_display_add_socket(display, socket) != 0) {
			tessera_log(TESSERA_ERROR, "cannot listen on socket '%s' in XDG_RUNTIME_DIR "
				"(in use, or the directory is not writable)", socket);
			return NULL;
		}
		return socket;
	}
	socket = wl_display_add_socket_auto(display);
	if (socket == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create a Wayland socket in XDG_RUNTIME_DIR");
	}
	return socket;
}

int main(int argc, char *argv[]) {
	struct options opts;
	int status = parse_options(argc, argv, &opts);
	if (status >= 0) {
		return status;
	}
	tessera_wlr_log_init(opts.verbosity, "tessera");

	if (!check_runtime_dir()) {
		return 1;
	}

	struct tessera_server server = { 0 };
	if (!load_config(&server.config, opts.config)) {
		tessera_config_finish(&server.config);
		return 1;
	}
	char qemu_err[1024];
	if (!tessera_qemu_check_config(&server.config, qemu_err, sizeof(qemu_err))) {
		tessera_log(TESSERA_ERROR, "%s", qemu_err);
		tessera_config_finish(&server.config);
		return 1;
	}

	status = 1;
	bool headless;
	if (!server_init(&server, &opts, &headless)) {
		goto out;
	}
	const char *socket = add_socket(server.wl_display, opts.socket);
	if (socket == NULL) {
		goto out;
	}

	if (!wlr_backend_start(server.backend)) {
		tessera_log(TESSERA_ERROR, "cannot start the backend");
		goto out;
	}
	if (!add_headless_outputs(&server, &opts, headless)) {
		goto out;
	}
	setenv("WAYLAND_DISPLAY", socket, 1);
	/* Without it tessera runs on, out of tesseractl's reach (logged). */
	server.ipc = tessera_ipc_create(&server, socket);
	printf("WAYLAND_DISPLAY=%s\n", socket);
	fflush(stdout);
	tessera_log(TESSERA_INFO, "Running on WAYLAND_DISPLAY=%s", socket);

	struct wl_event_source *sigint = wl_event_loop_add_signal(server.event_loop,
		SIGINT, handle_terminate_signal, server.wl_display);
	struct wl_event_source *sigterm = wl_event_loop_add_signal(server.event_loop,
		SIGTERM, handle_terminate_signal, server.wl_display);
	/* A client that vanishes must not take the compositor with it. */
	signal(SIGPIPE, SIG_IGN);

	/* before the daemons start: they bind it at once */
	server.clipboard = tessera_clipboard_create(&server);
	if (!tessera_vms_init(&server)) {
		tessera_log(TESSERA_ERROR, "cannot set up the VMs");
		goto out_signals;
	}
	for (int i = 0; i < opts.command_count; i++) {
		tessera_spawn_command(&server, opts.commands[i]);
	}

	wl_display_run(server.wl_display);
	status = 0;

out_signals:
	wl_event_source_remove(sigint);
	wl_event_source_remove(sigterm);
out:
	server_finish(&server);
	return status;
}
