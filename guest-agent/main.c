/*
 * tessera-agent: command line and the wlroots objects of the guest
 * compositor (see agent.h for the modules).
 *
 * Headless backend (outputs mirror the host's), pixman renderer only for
 * wl_shm and texture bookkeeping (nothing is ever rendered), our own
 * zwp_linux_dmabuf_v1 (common/wlr/linux-dmabuf.c: wlroots 0.15 has none
 * without a GPU renderer), xdg-shell, seat, presentation-time, viewporter,
 * xdg-output, xdg-decoration (forwarded to the host) and a data device manager for copy and paste inside the VM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wlr/backend.h>
#include <wlr/backend/headless.h>
#include <wlr/render/pixman.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_viewporter.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_output_v1.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "agent.h"
#include "client-buffer.h"
#include "guest-globals.h"
#include "linux-dmabuf.h"
#include "wlr-log.h"

struct options {
	const char *transport;
	const char *socket;
	const char *command;
	enum tessera_log_importance verbosity;
};

static const char usage[] =
	"Usage: tessera-agent [options]\n"
	"\n"
	"The guest side of tessera: a Wayland compositor for the applications of\n"
	"this VM that shows their windows on the host desktop through tessera-vmd.\n"
	"\n"
	"  --transport SPEC   virtgpu          the virtio-gpu render node (default)\n"
	"                     virtgpu:DEVICE   that DRM device\n"
	"                     vhost-user:PATH  play VMM and driver against a\n"
	"                                      tessera-vmd socket (on the host, for\n"
	"                                      development, tests, benchmarks)\n"
	"  --socket NAME      Wayland socket name in $XDG_RUNTIME_DIR (default:\n"
	"                     the first free wayland-N)\n"
	"  -s, --startup CMD  run CMD (with sh -c) once the socket is up\n"
	"  -v, --verbose      debug logging\n"
	"  -q, --quiet        errors only\n"
	"  -h, --help         this text\n"
	"      --version      print the version\n"
	"\n"
	"The socket name is printed on stdout as WAYLAND_DISPLAY=NAME. The agent\n"
	"keeps running when the host goes away and reconnects when it returns.\n"
	"SIGUSR1 logs counters (commits, bytes copied, zero-copy commits).\n"
	"Exit status: 0 on SIGTERM/SIGINT, 1 when it cannot start, 2 for a bad\n"
	"command line.\n";

/* Returns -1 to go on, otherwise the exit status. */
static int parse_options(int argc, char *argv[], struct options *opts) {
	static const struct option long_options[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 'L' },
		{ "startup", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	*opts = (struct options){ .transport = "virtgpu", .verbosity = TESSERA_INFO };
	int c;
	while ((c = getopt_long(argc, argv, "s:vqh", long_options, NULL)) != -1) {
		switch (c) {
		case 't': {
			char err[256];
			if (!agent_transport_check_spec(optarg, err, sizeof(err))) {
				fprintf(stderr, "tessera-agent: --transport: %s\n", err);
				return 2;
			}
			opts->transport = optarg;
			break;
		}
		case 'L':
			if (optarg[0] == '\0' || strchr(optarg, '/') != NULL ||
					strlen(optarg) > 100) {
				fprintf(stderr, "tessera-agent: --socket '%s': a name in "
					"$XDG_RUNTIME_DIR, without '/', at most 100 bytes\n", optarg);
				return 2;
			}
			opts->socket = optarg;
			break;
		case 's':
			opts->command = optarg;
			break;
		case 'v':
			opts->verbosity = TESSERA_DEBUG;
			break;
		case 'q':
			opts->verbosity = TESSERA_ERROR;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("tessera-agent %s\n", TESSERA_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tessera-agent: unexpected argument '%s'\n", argv[optind]);
		fputs(usage, stderr);
		return 2;
	}
	return -1;
}

static void log_stats(const struct agent_server *server, const char *why) {
	const struct agent_stats *s = &server->stats;
	tessera_log(TESSERA_INFO, "counters (%s): commits %" PRIu64 ", bytes copied %" PRIu64
		", zero-copy commits %" PRIu64 ", releases %" PRIu64 ", frames done %" PRIu64
		", presented %" PRIu64 ", sessions %" PRIu32, why, s->commits, s->bytes_copied,
		s->direct_commits, s->releases, s->frames_done, s->presented,
		server->host.sessions);
}

static int handle_terminate_signal(int signal_number, void *data) {
	struct agent_server *server = data;
	tessera_log(TESSERA_INFO, "signal %d: exiting", signal_number);
	wl_display_terminate(server->display);
	return 0;
}

static int handle_usr1(int signal_number, void *data) {
	log_stats(data, "SIGUSR1");
	return 0;
}

static int handle_child(int signal_number, void *data) {
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		tessera_log(TESSERA_INFO, "startup command (pid %d) exited with status %d", (int)pid,
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	return 0;
}

static void handle_new_surface(struct wl_listener *listener, void *data) {
	struct agent_server *server = wl_container_of(listener, server, new_surface);
	agent_surface_create(server, data);
}

static void handle_new_xdg_surface(struct wl_listener *listener, void *data) {
	struct agent_server *server = wl_container_of(listener, server, new_xdg_surface);
	agent_surface_handle_new_xdg(server, data);
}

static void handle_new_decoration(struct wl_listener *listener, void *data) {
	struct agent_server *server = wl_container_of(listener, server, new_decoration);
	agent_surface_handle_new_decoration(server, data);
}

static bool check_runtime_dir(void) {
	const char *dir = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	if (dir == NULL || dir[0] == '\0' || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		tessera_log(TESSERA_ERROR, "XDG_RUNTIME_DIR is not set to a directory: it holds the "
			"Wayland socket (e.g. export XDG_RUNTIME_DIR=/run/user/$(id -u))");
		return false;
	}
	return true;
}

/* Guest applications see exactly the guest rows of protocol/guest-globals.h,
 * whatever wlroots creates along the way. */
static bool global_filter(const struct wl_client *client,
		const struct wl_global *global, void *data) {
	return tessera_guest_global_is(wl_global_get_interface(global)->name,
		TESSERA_GLOBAL_GUEST);
}

static bool server_init(struct agent_server *server) {
	wl_list_init(&server->surfaces);
	wl_list_init(&server->outputs);
	wl_list_init(&server->direct_buffers);
	server->display = wl_display_create();
	if (server->display == NULL) {
		return false;
	}
	wl_display_set_global_filter(server->display, global_filter, NULL);
	server->loop = wl_display_get_event_loop(server->display);
	server->backend = wlr_headless_backend_create(server->display);
	server->renderer = wlr_pixman_renderer_create();
	if (server->backend == NULL || server->renderer == NULL ||
			!wlr_renderer_init_wl_display(server->renderer, server->display)) {
		tessera_log(TESSERA_ERROR, "cannot create the headless backend and pixman renderer");
		return false;
	}
	tessera_client_buffer_register();
	if (tessera_linux_dmabuf_create(server->display) == NULL) {
		return false;
	}
	server->compositor = wlr_compositor_create(server->display, server->renderer);
	if (server->compositor == NULL) {
		return false;
	}
	server->new_surface.notify = handle_new_surface;
	wl_signal_add(&server->compositor->events.new_surface, &server->new_surface);
	server->layout = wlr_output_layout_create();
	server->xdg_shell = wlr_xdg_shell_create(server->display);
	server->presentation = wlr_presentation_create(server->display, server->backend);
	if (server->layout == NULL || server->xdg_shell == NULL ||
			server->presentation == NULL ||
			wlr_data_device_manager_create(server->display) == NULL ||
			wlr_viewporter_create(server->display) == NULL ||
			wlr_xdg_output_manager_v1_create(server->display, server->layout) == NULL) {
		return false;
	}
	server->new_xdg_surface.notify = handle_new_xdg_surface;
	wl_signal_add(&server->xdg_shell->events.new_surface, &server->new_xdg_surface);
	struct wlr_xdg_decoration_manager_v1 *decorations =
		wlr_xdg_decoration_manager_v1_create(server->display);
	if (decorations == NULL) {
		return false;
	}
	server->new_decoration.notify = handle_new_decoration;
	wl_signal_add(&decorations->events.new_toplevel_decoration, &server->new_decoration);
	return agent_seat_init(server);
}

static void spawn(const char *command) {
	pid_t pid = fork();
	if (pid < 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot fork");
		return;
	}
	if (pid == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigprocmask(SIG_SETMASK, &set, NULL);
		execl("/bin/sh", "/bin/sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	tessera_log(TESSERA_INFO, "started '%s' (pid %d)", command, (int)pid);
}

int main(int argc, char *argv[]) {
	struct options opts;
	int status = parse_options(argc, argv, &opts);
	if (status >= 0) {
		return status;
	}
	tessera_wlr_log_init(opts.verbosity, "tessera-agent");
	if (!check_runtime_dir()) {
		return 1;
	}
	static struct agent_server server;
	status = 1;
	if (!server_init(&server)) {
		tessera_log(TESSERA_ERROR, "cannot set up the guest compositor");
		goto out;
	}
	if (!agent_host_init(&server.host, &server, opts.transport)) {
		goto out;
	}
	const char *socket = opts.socket;
	if (socket != NULL) {
		if (wl_display_add_socket(server.display, socket) != 0) {
			tessera_log(TESSERA_ERROR, "cannot create the Wayland socket '%s' in $XDG_RUNTIME_DIR",
				socket);
			goto out;
		}
	} else if ((socket = wl_display_add_socket_auto(server.display)) == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create a Wayland socket in $XDG_RUNTIME_DIR");
		goto out;
	}
	if (!wlr_backend_start(server.backend)) {
		tessera_log(TESSERA_ERROR, "cannot start the headless backend");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	struct wl_event_source *signals[] = {
		wl_event_loop_add_signal(server.loop, SIGINT, handle_terminate_signal, &server),
		wl_event_loop_add_signal(server.loop, SIGTERM, handle_terminate_signal, &server),
		wl_event_loop_add_signal(server.loop, SIGUSR1, handle_usr1, &server),
		wl_event_loop_add_signal(server.loop, SIGCHLD, handle_child, &server),
	};
	agent_host_start(&server.host);

	setenv("WAYLAND_DISPLAY", socket, 1);
	printf("WAYLAND_DISPLAY=%s\n", socket);
	fflush(stdout);
	tessera_log(TESSERA_INFO, "guest applications connect to WAYLAND_DISPLAY=%s", socket);
	if (opts.command != NULL) {
		spawn(opts.command);
	}

	wl_display_run(server.display);
	status = 0;
	log_stats(&server, "exit");
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (signals[i] != NULL) {
			wl_event_source_remove(signals[i]);
		}
	}
out:
	if (server.display != NULL) {
		wl_display_destroy_clients(server.display);
	}
	agent_buffers_finish(&server);
	agent_host_finish(&server.host);
	agent_seat_finish(&server);
	agent_outputs_finish(&server);
	if (server.display != NULL) {
		wl_display_destroy(server.display);
	}
	if (server.layout != NULL) {
		wlr_output_layout_destroy(server.layout);
	}
	return status;
}
