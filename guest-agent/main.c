/*
 * tessera-agent: the command line, signals, the -s commands and the main
 * loop (see agent.h for the modules; server.c makes the compositor).
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

#include "agent.h"
#include "wlr-log.h"

#define MAX_COMMANDS 32 /* -s */

struct options {
	const char *transport;
	const char *socket;
	const char *commands[MAX_COMMANDS];
	size_t command_count;
	enum agent_xwayland_mode xwayland;
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
	"  --xwayland MODE    lazy  X11 applications can connect; Xwayland starts\n"
	"                           with the first one (default when installed)\n"
	"                     on    start Xwayland now (fail if it is missing)\n"
	"                     off   no X11\n"
	"  -s, --startup CMD  run CMD (with sh -c) once the sockets are up, with\n"
	"                     WAYLAND_DISPLAY and DISPLAY set; repeatable (at\n"
	"                     most 32), the commands run in order\n"
	"  -v, --verbose      debug logging\n"
	"  -q, --quiet        errors only\n"
	"  -h, --help         this text\n"
	"      --version      print the version\n"
	"\n"
	"The socket name is printed on stdout as WAYLAND_DISPLAY=NAME, then the\n"
	"X11 display as DISPLAY=:N when Xwayland is on. The agent\n"
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
		{ "xwayland", required_argument, NULL, 'X' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	*opts = (struct options){ .transport = "virtgpu", .xwayland = AGENT_XWAYLAND_LAZY,
		.verbosity = TESSERA_INFO };
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
			if (opts->command_count >= MAX_COMMANDS) {
				fprintf(stderr, "tessera-agent: more than %d -s commands\n",
					MAX_COMMANDS);
				return 2;
			}
			opts->commands[opts->command_count++] = optarg;
			break;
		case 'X':
			if (strcmp(optarg, "lazy") == 0) {
				opts->xwayland = AGENT_XWAYLAND_LAZY;
			} else if (strcmp(optarg, "on") == 0) {
				opts->xwayland = AGENT_XWAYLAND_ON;
			} else if (strcmp(optarg, "off") == 0) {
				opts->xwayland = AGENT_XWAYLAND_OFF;
			} else {
				fprintf(stderr, "tessera-agent: --xwayland '%s': lazy, on or off\n",
					optarg);
				return 2;
			}
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
	agent_xwayland_log_init(opts.verbosity);
	if (!check_runtime_dir()) {
		return 1;
	}
	static struct agent_server server;
	status = 1;
	if (!agent_server_init(&server)) {
		tessera_log(TESSERA_ERROR, "cannot set up the guest compositor");
		goto out;
	}
	if (!agent_host_init(&server.host, &server, opts.transport)) {
		goto out;
	}
	if (!agent_xwayland_init(&server, opts.xwayland)) {
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
	const char *x_display = agent_xwayland_display_name(&server);
	if (x_display != NULL) {
		setenv("DISPLAY", x_display, 1);
		printf("DISPLAY=%s\n", x_display);
	} else {
		unsetenv("DISPLAY"); /* not ours: the commands must not use it */
	}
	fflush(stdout);
	tessera_log(TESSERA_INFO, "guest applications connect to WAYLAND_DISPLAY=%s", socket);
	for (size_t i = 0; i < opts.command_count; i++) {
		spawn(opts.commands[i]);
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
	agent_server_finish(&server);
	return status;
}
