#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "ctl-protocol.h"
#include "guest-globals.h"
#include "log.h"
#include "qemu.h"
#include "server.h"
#include "tessera-vmd-v1-protocol.h"
#include "view.h"
#include "vm.h"

/* What vmd's console window (server/vmd/console.c) calls itself. */
#define VM_CONSOLE_APP_ID "tessera-vmd-console"

extern char **environ;

/* Restart back-off of a VM daemon that exited. */
#define VM_BACKOFF_MIN_MS 500
#define VM_BACKOFF_MAX_MS 30000
/* A daemon that ran this long is considered healthy: back-off resets. */
#define VM_HEALTHY_MS 10000
/* A daemon exiting with this status rejected its command line (a bad
 * setting in the config): restarting it would not help. */
#define VM_EXIT_USAGE 2
/* How long the daemons get to exit after SIGTERM, when tessera stops and
 * when a VM is stopped on request. */
#define VM_STOP_TIMEOUT_MS 5000
/* The fd number the tagged connection has in the daemon. */
#define VM_SOCKET_FD 3
/* How often tessera looks for the daemon's vhost-user socket before it
 * starts QEMU, and how long it waits for it. */
#define VM_LISTEN_POLL_MS 20
#define VM_LISTEN_TIMEOUT_MS 10000

struct tessera_vm *tessera_vm_from_client(struct tessera_server *server,
		const struct wl_client *client) {
	struct tessera_vm *vm;
	wl_list_for_each(vm, &server->vms, link) {
		if (vm->client != NULL && vm->client == client) {
			return vm;
		}
	}
	return NULL;
}

struct tessera_vm *tessera_vm_from_binding_client(struct tessera_server *server,
		struct wl_client *client, const struct wl_interface *interface) {
	struct tessera_vm *vm = tessera_vm_from_client(server, client);
	if (vm == NULL) {
		tessera_log(TESSERA_ERROR, "a host client bound the VM-only global %s",
			interface->name);
		wl_client_post_implementation_error(client,
			"%s is only for VM connections", interface->name);
	}
	return vm;
}

static bool global_filter(const struct wl_client *client,
		const struct wl_global *global, void *data) {
	struct tessera_server *server = data;
	const char *name = wl_global_get_interface(global)->name;
	if (tessera_vm_from_client(server, client) != NULL) {
		/* Anything not listed (screencopy, data control, virtual input,
		 * foreign toplevel management, the clipboard, ...) is hidden. */
		return tessera_guest_global_is(name, TESSERA_GLOBAL_VM);
	}
	return !tessera_guest_global_is(name, TESSERA_GLOBAL_VM_ONLY);
}

static int64_t ms_since(const struct timespec *then) {
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - then->tv_sec) * 1000 +
		(now.tv_nsec - then->tv_nsec) / 1000000;
}

/*
 * A copy of our environment without Wayland connection variables, plus
 * extra. For a VM's processes (its daemon, its QEMU), also without
 * WAYLAND_DISPLAY and the control socket (ipc.c): a VM has no business
 * steering tessera.
 */
static char **child_environment(const char *extra, bool vm) {
	size_t n = 0;
	while (environ[n] != NULL) {
		n++;
	}
	char **env = calloc(n + 2, sizeof(char *));
	if (env == NULL) {
		return NULL;
	}
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "WAYLAND_SOCKET=", 15) == 0 ||
				(vm && strncmp(environ[i], "WAYLAND_DISPLAY=", 16) == 0) ||
				(vm && strncmp(environ[i], TESSERA_CTL_SOCKET_ENV "=",
					strlen(TESSERA_CTL_SOCKET_ENV) + 1) == 0)) {
			continue;
		}
		env[j++] = environ[i];
	}
	if (extra != NULL) {
		env[j++] = (char *)extra;
	}
	env[j] = NULL;
	return env;
}

/* What a child's descriptors become (spawn()); fds < 0 are left alone. */
struct spawn_fds {
	bool null_stdin; /* fd 0 reads /dev/null */
	int output; /* fds 1 and 2 write here */
	int pass, pass_as; /* pass is dup2()ed to pass_as (without FD_CLOEXEC) */
};

#define SPAWN_FDS_NONE ((struct spawn_fds){ .output = -1, .pass = -1 })

/* In the child after fork(): tells the parent errno, ends. */
static _Noreturn void spawn_child_fail(int report_fd) {
	int err = errno;
	ssize_t n = write(report_fd, &err, sizeof(err));
	(void)n;
	_exit(127);
}

/*
 * fork and exec with a clean signal state (the compositor blocks SIGCHLD
 * and others for its event loop; children must not inherit that). A tied
 * child gets SIGTERM when tessera ends, however it ends (PR_SET_PDEATHSIG):
 * a VM's daemon and QEMU never outlive the compositor that showed them,
 * even when it crashed or was killed. 0 or the errno of what failed
 * (exec included: the child reports it through a close-on-exec pipe).
 */
static int spawn(pid_t *pid_out, const char *path, bool search,
		const struct spawn_fds *fds, bool tied, char *const argv[],
		char *const envp[]) {
	int report[2];
	if (pipe(report) != 0) {
		return errno;
	}
	if (fcntl(report[0], F_SETFD, FD_CLOEXEC) != 0 ||
			fcntl(report[1], F_SETFD, FD_CLOEXEC) != 0) {
		int err = errno;
		close(report[0]);
		close(report[1]);
		return err;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(report[0]);
		close(report[1]);
		return err;
	}
	if (pid == 0) {
		/* the child: async-signal-safe calls only, until exec */
		static const int sigs[] = {
			SIGCHLD, SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2,
		};
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
			signal(sigs[i], SIG_DFL);
		}
		sigset_t mask;
		sigemptyset(&mask);
		sigprocmask(SIG_SETMASK, &mask, NULL);
		if (tied) {
			if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
				spawn_child_fail(report[1]);
			}
			if (getppid() != parent) {
				_exit(127); /* tessera is already gone */
			}
		}
		if (fds->null_stdin) {
			int fd = open("/dev/null", O_RDONLY);
			if (fd < 0 || dup2(fd, 0) < 0) {
				spawn_child_fail(report[1]);
			}
			if (fd != 0) {
				close(fd);
			}
		}
		if (fds->output >= 0 && (dup2(fds->output, 1) < 0 ||
				dup2(fds->output, 2) < 0)) {
			spawn_child_fail(report[1]);
		}
		if (fds->pass >= 0 && dup2(fds->pass, fds->pass_as) < 0) {
			spawn_child_fail(report[1]);
		}
		environ = (char **)envp;
		if (search) {
			execvp(path, argv);
		} else {
			execv(path, argv);
		}
		spawn_child_fail(report[1]);
	}
	close(report[1]);
	int err = 0;
	ssize_t n;
	do {
		n = read(report[0], &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == (ssize_t)sizeof(err)) {
		waitpid(pid, NULL, 0); /* it exec'd nothing: reap it here */
		return err != 0 ? err : EIO;
	}
	*pid_out = pid;
	return 0;
}

static void vm_schedule_restart(struct tessera_vm *vm);

static void vm_handle_client_destroy(struct wl_listener *listener, void *data) {
	struct tessera_vm *vm = wl_container_of(listener, vm, client_destroy);
	wl_list_remove(&vm->client_destroy.link);
	wl_list_init(&vm->client_destroy.link);
	vm->client = NULL;
	tessera_log(TESSERA_INFO, "vm '%s': Wayland connection closed", vm->config->name);
	if (vm->pid > 0) {
		/* A daemon without its connection is of no use: end it, it
		 * is restarted when it has exited. */
		vm->stopping = true;
		kill(vm->pid, SIGTERM);
	}
}

static bool vm_start(struct tessera_vm *vm) {
	struct tessera_server *server = vm->server;
	const struct tessera_vm_config *cfg = vm->config;
	const char *program = cfg->vmd_path != NULL ? cfg->vmd_path : server->vmd_path;

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		tessera_log_errno(TESSERA_ERROR, "vm '%s': cannot create a socket pair", cfg->name);
		return false;
	}
	/* Keep the child's end away from VM_SOCKET_FD so that dup2 always
	 * creates a fresh descriptor without FD_CLOEXEC. */
	int child_fd = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
	close(sv[1]);
	if (child_fd < 0) {
		close(sv[0]);
		return false;
	}

	char color[8];
	snprintf(color, sizeof(color), "%06x", cfg->color & 0xffffff);
	char option_names[TESSERA_VM_SETTING_ID_COUNT][40];
	char *argv[8 + 2 * TESSERA_VM_SETTING_ID_COUNT] = {
		(char *)program,
		"--vhost-user", (char *)cfg->vhost_user_path,
		"--name", (char *)cfg->name,
		"--color", color,
	};
	size_t argc = 7;
	for (int i = 0; i < TESSERA_VM_SETTING_ID_COUNT; i++) {
		if (cfg->settings[i][0] != '\0') {
			snprintf(option_names[i], sizeof(option_names[i]), "--%s",
				tessera_vm_setting_get(i)->key);
			argv[argc++] = option_names[i];
			argv[argc++] = (char *)cfg->settings[i];
		}
	}
	argv[argc] = NULL;
	char socket_env[32];
	snprintf(socket_env, sizeof(socket_env), "WAYLAND_SOCKET=%d", VM_SOCKET_FD);
	char **envp = child_environment(socket_env, true);

	struct spawn_fds fds = SPAWN_FDS_NONE;
	fds.pass = child_fd;
	fds.pass_as = VM_SOCKET_FD;
	pid_t pid = 0;
	int ret = envp == NULL ? ENOMEM :
		spawn(&pid, program, strchr(program, '/') == NULL, &fds, true, argv, envp);
	free(envp);
	close(child_fd);
	if (ret != 0) {
		tessera_log(TESSERA_ERROR, "vm '%s': cannot start '%s': %s",
			cfg->name, program, strerror(ret));
		close(sv[0]);
		return false;
	}

	vm->client = wl_client_create(server->wl_display, sv[0]);
	if (vm->client == NULL) {
		tessera_log(TESSERA_ERROR, "vm '%s': cannot create the Wayland client", cfg->name);
		close(sv[0]);
		kill(pid, SIGTERM);
		vm->pid = pid;
		vm->stopping = true;
		return true; /* reaped and restarted through SIGCHLD */
	}
	vm->client_destroy.notify = vm_handle_client_destroy;
	wl_client_add_destroy_listener(vm->client, &vm->client_destroy);

	vm->pid = pid;
	vm->starts++;
	vm->counters.known = false; /* a new daemon counts from zero */
	clock_gettime(CLOCK_MONOTONIC, &vm->started);
	tessera_log(TESSERA_INFO, "vm '%s': started %s (pid %d, vhost-user socket %s)",
		cfg->name, program, (int)pid, cfg->vhost_user_path);
	if (tessera_vm_config_has_qemu(cfg)) {
		/* QEMU connects to the socket once, when it starts. */
		clock_gettime(CLOCK_MONOTONIC, &vm->listen_started);
		wl_event_source_timer_update(vm->listen_timer, VM_LISTEN_POLL_MS);
	}
	return true;
}

/* ---- the VMM ---- */

/* SIGTERM to the running daemon, SIGKILL after VM_STOP_TIMEOUT_MS. */
static void vm_stop_daemon(struct tessera_vm *vm) {
	if (vm->pid <= 0 || vm->kill_pending) {
		return;
	}
	vm->stopping = true;
	kill(vm->pid, SIGTERM);
	vm->kill_pending = true;
	wl_event_source_timer_update(vm->kill_timer, VM_STOP_TIMEOUT_MS);
}

static bool vm_start_qemu(struct tessera_vm *vm) {
	const struct tessera_vm_config *cfg = vm->config;
	if (!tessera_qemu_runtime_path(cfg->name, "-qmp.sock", vm->qmp_path,
			sizeof(vm->qmp_path))) {
		return false;
	}
	char **argv = tessera_qemu_argv(cfg, vm->qmp_path);
	int log_fd = tessera_qemu_open_log(cfg, vm->qemu_starts == 0, argv);
	char **envp = child_environment(NULL, true);
	int ret = ENOMEM;
	pid_t pid = 0;
	if (log_fd >= 0 && envp != NULL) {
		struct spawn_fds fds = SPAWN_FDS_NONE;
		fds.null_stdin = true;
		fds.output = log_fd;
		ret = spawn(&pid, argv[0], false, &fds, true, argv, envp);
	}
	free(envp);
	if (log_fd >= 0) {
		close(log_fd);
	}
	if (ret != 0) {
		tessera_log(TESSERA_ERROR, "vm '%s': cannot start QEMU '%s': %s",
			cfg->name, argv[0], strerror(ret));
		g_strfreev(argv);
		return false;
	}
	vm->qemu_pid = pid;
	vm->qemu_stopping = false;
	vm->qemu_starts++;
	tessera_log(TESSERA_INFO, "vm '%s': QEMU %s runs as pid %d (%s, %" PRIu64
		"M, %u CPU(s))", cfg->name, argv[0], (int)pid, cfg->qemu.kvm ? "KVM" : "TCG",
		cfg->qemu.memory >> 20, cfg->qemu.cpus);
	g_strfreev(argv);
	return true;
}

static int vm_handle_listen_timer(void *data) {
	struct tessera_vm *vm = data;
	if (vm->pid <= 0 || vm->stopping || vm->held || vm->qemu_pid > 0) {
		return 0;
	}
	if (tessera_qemu_socket_listening(vm->config->vhost_user_path)) {
		if (!vm_start_qemu(vm)) {
			/* retried with the daemon, after the back-off */
			vm_stop_daemon(vm);
		}
		wl_signal_emit(&vm->events.state, vm);
	} else if (ms_since(&vm->listen_started) >= VM_LISTEN_TIMEOUT_MS) {
		tessera_log(TESSERA_ERROR, "vm '%s': the daemon does not listen on %s "
			"after %d ms: cannot start QEMU; restarting the daemon",
			vm->config->name, vm->config->vhost_user_path, VM_LISTEN_TIMEOUT_MS);
		vm_stop_daemon(vm);
	} else {
		wl_event_source_timer_update(vm->listen_timer, VM_LISTEN_POLL_MS);
	}
	return 0;
}

static void vm_log_qemu_exit(const struct tessera_vm *vm, pid_t pid, int status,
		const char *when) {
	/* QEMU ends with status 0 when its guest powers off or on SIGTERM. */
	bool clean = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		(vm->qemu_stopping && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	enum tessera_log_importance importance = clean ? TESSERA_INFO : TESSERA_ERROR;
	if (WIFEXITED(status)) {
		tessera_log(importance, "vm '%s': QEMU (pid %d) exited with status %d%s",
			vm->config->name, (int)pid, WEXITSTATUS(status), when);
	} else if (WIFSIGNALED(status)) {
		tessera_log(importance, "vm '%s': QEMU (pid %d) killed by signal %d%s",
			vm->config->name, (int)pid, WTERMSIG(status), when);
	}
}

/* SIGKILL and reap QEMU at once (its daemon is gone: the guest is lost). */
static void vm_kill_qemu_now(struct tessera_vm *vm, const char *when) {
	if (vm->qemu_pid <= 0) {
		return;
	}
	int status = 0;
	kill(vm->qemu_pid, SIGKILL);
	vm->qemu_stopping = true;
	if (waitpid(vm->qemu_pid, &status, 0) == vm->qemu_pid) {
		vm_log_qemu_exit(vm, vm->qemu_pid, status, when);
	}
	vm->qemu_pid = 0;
	wl_event_source_timer_update(vm->qemu_kill_timer, 0);
}

/*
 * QEMU ended. Its daemon is stopped with it (the VM's windows go), and the
 * VM stays stopped unless QEMU failed and its restart policy is
 * on-failure: then the daemon's exit starts it again after the back-off.
 */
static void vm_handle_qemu_exit(struct tessera_vm *vm, int status) {
	vm_log_qemu_exit(vm, vm->qemu_pid, status, "");
	bool asked = vm->qemu_stopping;
	vm->qemu_pid = 0;
	vm->qemu_stopping = false;
	wl_event_source_timer_update(vm->qemu_kill_timer, 0);
	bool failed = !asked && !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!vm->held) {
		if (!failed) {
			tessera_log(TESSERA_INFO, "vm '%s': the guest powered off: stopping "
				"the VM", vm->config->name);
			vm->held = true;
		} else if (vm->config->qemu.restart == TESSERA_VM_RESTART_NO) {
			tessera_log(TESSERA_INFO, "vm '%s': restart = no: the VM stays "
				"stopped (QEMU's log: %s/tessera/%s-qemu.log)", vm->config->name,
				getenv("XDG_RUNTIME_DIR"), vm->config->name);
			vm->held = true;
		}
	}
	if (vm->pid > 0) {
		vm_stop_daemon(vm); /* vm_handle_exit() goes on */
	} else if (vm->held && vm->restart_requested) {
		tessera_vm_start(vm);
		return;
	}
	wl_signal_emit(&vm->events.state, vm);
}

static int vm_handle_qemu_kill_timer(void *data) {
	struct tessera_vm *vm = data;
	if (vm->qemu_pid > 0) {
		tessera_log(TESSERA_INFO, "vm '%s': the guest did not power off within "
			"%u s: killing QEMU (pid %d)", vm->config->name,
			vm->config->qemu.shutdown_timeout, (int)vm->qemu_pid);
		vm->qemu_stopping = true;
		kill(vm->qemu_pid, SIGKILL);
	}
	return 0;
}

/* Asks the guest to power off; QEMU is killed after the shutdown timeout. */
static void vm_stop_qemu(struct tessera_vm *vm) {
	if (vm->qemu_pid <= 0 || vm->qemu_stopping) {
		return;
	}
	vm->qemu_stopping = true;
	if (!tessera_qemu_powerdown(vm->config->name, vm->qmp_path)) {
		tessera_log(TESSERA_INFO, "vm '%s': ending QEMU (pid %d) with SIGTERM "
			"instead", vm->config->name, (int)vm->qemu_pid);
		kill(vm->qemu_pid, SIGTERM);
	}
	wl_event_source_timer_update(vm->qemu_kill_timer,
		(int)vm->config->qemu.shutdown_timeout * 1000);
}

static int vm_handle_restart_timer(void *data) {
	struct tessera_vm *vm = data;
	tessera_log(TESSERA_INFO, "vm '%s': restarting its daemon", vm->config->name);
	if (!vm_start(vm)) {
		vm_schedule_restart(vm);
	}
	return 0;
}

static void vm_schedule_restart(struct tessera_vm *vm) {
	if (vm->backoff_ms < VM_BACKOFF_MIN_MS) {
		vm->backoff_ms = VM_BACKOFF_MIN_MS;
	}
	tessera_log(TESSERA_INFO, "vm '%s': restart in %d ms", vm->config->name, vm->backoff_ms);
	wl_event_source_timer_update(vm->restart_timer, vm->backoff_ms);
	vm->backoff_ms *= 2;
	if (vm->backoff_ms > VM_BACKOFF_MAX_MS) {
		vm->backoff_ms = VM_BACKOFF_MAX_MS;
	}
}

/*
 * Logs how a daemon ended. An exit tessera did not ask for, or anything but
 * status 0 after it asked (SIGTERM), is an ERROR: the tests read these
 * lines to tell a crash from a clean stop.
 */
static void vm_log_exit(const struct tessera_vm *vm, pid_t pid, int status,
		const char *when) {
	bool clean = vm->stopping && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	enum tessera_log_importance importance = clean ? TESSERA_INFO : TESSERA_ERROR;
	if (WIFEXITED(status)) {
		tessera_log(importance, "vm '%s': daemon (pid %d) exited with status %d%s",
			vm->config->name, (int)pid, WEXITSTATUS(status), when);
	} else if (WIFSIGNALED(status)) {
		tessera_log(importance, "vm '%s': daemon (pid %d) killed by signal %d%s",
			vm->config->name, (int)pid, WTERMSIG(status), when);
	} else {
		tessera_log(TESSERA_ERROR, "vm '%s': daemon (pid %d) ended with wait status 0x%x%s",
			vm->config->name, (int)pid, status, when);
	}
}

static void vm_handle_exit(struct tessera_vm *vm, int status) {
	vm_log_exit(vm, vm->pid, status, "");
	vm_kill_qemu_now(vm, " (its daemon is gone)");
	wl_event_source_timer_update(vm->listen_timer, 0);
	vm->stopping = false;
	vm->pid = 0;
	vm->kill_pending = false;
	wl_event_source_timer_update(vm->kill_timer, 0);
	if (vm->client != NULL) {
		/* Its windows disappear now, not when the socket drains. */
		wl_client_destroy(vm->client);
	}
	if (vm->held && vm->restart_requested) {
		tessera_vm_start(vm); /* emits the state */
		return;
	}
	if (vm->held) {
		tessera_log(TESSERA_INFO, "vm '%s': stopped", vm->config->name);
		wl_signal_emit(&vm->events.state, vm);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == VM_EXIT_USAGE) {
		tessera_log(TESSERA_ERROR, "vm '%s': the daemon rejected its settings "
			"(check [vm %s] in %s); not restarting it", vm->config->name,
			vm->config->name, vm->server->config.path ? vm->server->config.path : "the config");
		vm->failed = true;
		wl_signal_emit(&vm->events.state, vm);
		return;
	}
	if (ms_since(&vm->started) >= VM_HEALTHY_MS) {
		vm->backoff_ms = VM_BACKOFF_MIN_MS;
	}
	vm_schedule_restart(vm);
	wl_signal_emit(&vm->events.state, vm);
}

/* ---- the console window ---- */

static bool view_is_console(const struct tessera_view *view) {
	const char *app_id = view->xdg_surface->toplevel->app_id;
	return app_id != NULL && strcmp(app_id, VM_CONSOLE_APP_ID) == 0;
}

static void vm_forget_hidden_console(struct tessera_vm *vm) {
	if (vm->hidden_console == NULL) {
		return;
	}
	wl_list_remove(&vm->console_unmap.link);
	wl_list_remove(&vm->console_destroy.link);
	vm->hidden_console = NULL;
}

static void vm_handle_console_gone(struct wl_listener *listener, void *data) {
	struct tessera_vm *vm = wl_container_of(listener, vm, console_unmap);
	vm_forget_hidden_console(vm);
}

static void vm_handle_console_destroy(struct wl_listener *listener, void *data) {
	struct tessera_vm *vm = wl_container_of(listener, vm, console_destroy);
	vm_forget_hidden_console(vm);
}

/*
 * console = hide: the console window never shows; auto: it shows only
 * while the VM has no other window (the agent's windows replace it). A
 * hidden console is unmapped on tessera's side only; its client keeps it.
 * A guest window that calls itself the console can hide only its own VM's
 * windows.
 */
void tessera_vm_views_changed(struct tessera_vm *vm) {
	if (vm == NULL || vm->console_updating ||
			vm->config->qemu.console == TESSERA_VM_CONSOLE_SHOW) {
		return;
	}
	struct tessera_view *view, *console = NULL;
	int others = 0;
	wl_list_for_each(view, &vm->server->views, link) {
		if (view->vm != vm) {
			continue;
		}
		if (view_is_console(view)) {
			console = view;
		} else {
			others++;
		}
	}
	bool hide = vm->config->qemu.console == TESSERA_VM_CONSOLE_HIDE || others > 0;
	vm->console_updating = true;
	if (hide && console != NULL && vm->hidden_console == NULL) {
		tessera_view_unmap(console);
		vm->hidden_console = console;
		vm->console_unmap.notify = vm_handle_console_gone;
		wl_signal_add(&console->xdg_surface->events.unmap, &vm->console_unmap);
		vm->console_destroy.notify = vm_handle_console_destroy;
		wl_signal_add(&console->xdg_surface->events.destroy, &vm->console_destroy);
		tessera_log(TESSERA_INFO, "vm '%s': console window hidden (%d other "
			"window(s))", vm->config->name, others);
	} else if (!hide && console == NULL && vm->hidden_console != NULL) {
		console = vm->hidden_console;
		vm_forget_hidden_console(vm);
		tessera_view_map(console);
		tessera_log(TESSERA_INFO, "vm '%s': console window shown (no other "
			"window)", vm->config->name);
	}
	vm->console_updating = false;
}

/* ---- stop and start on request ---- */

struct tessera_vm *tessera_vm_find(struct tessera_server *server, const char *name) {
	struct tessera_vm *vm;
	wl_list_for_each(vm, &server->vms, link) {
		if (strcmp(vm->config->name, name) == 0) {
			return vm;
		}
	}
	return NULL;
}

enum tessera_vm_state tessera_vm_get_state(const struct tessera_vm *vm) {
	if (vm->held) {
		return vm->pid > 0 || vm->qemu_pid > 0 ? TESSERA_VM_STOPPING :
			TESSERA_VM_STOPPED;
	}
	if (vm->failed) {
		return TESSERA_VM_FAILED;
	}
	/* A daemon tessera is ending because it lost its connection is
	 * restarted once it has exited. */
	return vm->pid > 0 && !vm->stopping ? TESSERA_VM_RUNNING : TESSERA_VM_RESTARTING;
}

const char *tessera_vm_state_name(enum tessera_vm_state state) {
	switch (state) {
	case TESSERA_VM_RUNNING:
		return "running";
	case TESSERA_VM_STOPPING:
		return "stopping";
	case TESSERA_VM_STOPPED:
		return "stopped";
	case TESSERA_VM_RESTARTING:
		return "restarting";
	case TESSERA_VM_FAILED:
		return "failed";
	}
	return "unknown";
}

static int vm_handle_kill_timer(void *data) {
	struct tessera_vm *vm = data;
	vm->kill_pending = false;
	if (vm->pid > 0) {
		tessera_log(TESSERA_ERROR, "vm '%s': daemon (pid %d) did not exit within %d ms "
			"of SIGTERM: killing it", vm->config->name, (int)vm->pid, VM_STOP_TIMEOUT_MS);
		kill(vm->pid, SIGKILL);
	}
	return 0;
}

bool tessera_vm_start(struct tessera_vm *vm) {
	if (vm->pid > 0) {
		return true;
	}
	vm->held = false;
	vm->restart_requested = false;
	vm->failed = false;
	vm->backoff_ms = VM_BACKOFF_MIN_MS;
	wl_event_source_timer_update(vm->restart_timer, 0);
	bool ok = vm_start(vm);
	if (!ok) {
		vm_schedule_restart(vm);
	}
	wl_signal_emit(&vm->events.state, vm);
	return ok;
}

void tessera_vm_stop(struct tessera_vm *vm) {
	vm->held = true;
	vm->restart_requested = false;
	vm->failed = false;
	wl_event_source_timer_update(vm->restart_timer, 0);
	wl_event_source_timer_update(vm->listen_timer, 0);
	if (vm->qemu_pid > 0) {
		/* the daemon follows when QEMU has exited */
		tessera_log(TESSERA_INFO, "vm '%s': stopping QEMU (pid %d) on request",
			vm->config->name, (int)vm->qemu_pid);
		vm_stop_qemu(vm);
	} else if (vm->pid > 0 && !vm->kill_pending) {
		tessera_log(TESSERA_INFO, "vm '%s': stopping its daemon (pid %d) on request",
			vm->config->name, (int)vm->pid);
		vm_stop_daemon(vm);
	} else if (vm->pid == 0) {
		tessera_log(TESSERA_INFO, "vm '%s': stopped", vm->config->name);
	}
	wl_signal_emit(&vm->events.state, vm);
}

void tessera_vm_restart(struct tessera_vm *vm) {
	if (vm->pid == 0) {
		tessera_vm_start(vm);
		return;
	}
	tessera_vm_stop(vm);
	vm->restart_requested = true;
}

static int handle_sigchld(int signal_number, void *data) {
	struct tessera_server *server = data;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		bool found = false;
		struct tessera_vm *vm;
		wl_list_for_each(vm, &server->vms, link) {
			if (vm->pid == pid) {
				vm_handle_exit(vm, status);
				found = true;
				break;
			}
			if (vm->qemu_pid == pid) {
				vm_handle_qemu_exit(vm, status);
				found = true;
				break;
			}
		}
		if (!found) {
			tessera_log(TESSERA_DEBUG, "child %d exited (status 0x%x)", (int)pid, status);
		}
	}
	return 0;
}

static char *default_vmd_path(void) {
	const char *env = getenv("TESSERA_VMD");
	if (env != NULL && env[0] != '\0') {
		return strdup(env);
	}
	/* Next to our own binary (installed), or in the build tree. */
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			const char *candidates[] = { "/tessera-vmd", "/../vmd/tessera-vmd" };
			for (size_t i = 0; i < 2; i++) {
				char path[4200];
				snprintf(path, sizeof(path), "%s%s", self, candidates[i]);
				if (access(path, X_OK) == 0) {
					return strdup(path);
				}
			}
		}
	}
	return strdup("tessera-vmd"); /* from PATH */
}

/* tessera_vmd_v1: the daemons' counters, shown by `tesseractl vm list`. */
static void vmd_report_handle_destroy(struct wl_client *client,
		struct wl_resource *resource) {
	wl_resource_destroy(resource);
}

static void vmd_report_handle_counters(struct wl_client *client,
		struct wl_resource *resource, uint32_t frames_hi, uint32_t frames_lo,
		uint32_t bytes_copied_hi, uint32_t bytes_copied_lo) {
	struct tessera_vm *vm = tessera_vm_from_client(
		wl_resource_get_user_data(resource), client);
	if (vm == NULL) {
		return;
	}
	vm->counters.known = true;
	vm->counters.frames = (uint64_t)frames_hi << 32 | frames_lo;
	vm->counters.bytes_copied = (uint64_t)bytes_copied_hi << 32 | bytes_copied_lo;
}

static const struct tessera_vmd_v1_interface vmd_report_impl = {
	.destroy = vmd_report_handle_destroy,
	.counters = vmd_report_handle_counters,
};

static void vmd_report_bind(struct wl_client *client, void *data,
		uint32_t version, uint32_t id) {
	struct tessera_server *server = data;
	if (tessera_vm_from_binding_client(server, client, &tessera_vmd_v1_interface) == NULL) {
		return;
	}
	struct wl_resource *resource = wl_resource_create(client,
		&tessera_vmd_v1_interface, (int)version, id);
	if (resource == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &vmd_report_impl, server, NULL);
}

bool tessera_vms_init(struct tessera_server *server) {
	wl_list_init(&server->vms);
	wl_display_set_global_filter(server->wl_display, global_filter, server);
	if (wl_global_create(server->wl_display, &tessera_vmd_v1_interface, 1,
			server, vmd_report_bind) == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create the tessera_vmd_v1 global");
		return false;
	}
	server->sigchld_source = wl_event_loop_add_signal(server->event_loop,
		SIGCHLD, handle_sigchld, server);
	server->vmd_path = default_vmd_path();
	if (server->sigchld_source == NULL || server->vmd_path == NULL) {
		return false;
	}

	for (size_t i = 0; i < server->config.vm_count; i++) {
		struct tessera_vm *vm = calloc(1, sizeof(*vm));
		if (vm == NULL) {
			return false;
		}
		vm->server = server;
		vm->config = &server->config.vms[i];
		tessera_rgb_to_float(vm->config->color, vm->color);
		vm->backoff_ms = VM_BACKOFF_MIN_MS;
		wl_list_init(&vm->client_destroy.link);
		wl_signal_init(&vm->events.state);
		vm->restart_timer = wl_event_loop_add_timer(server->event_loop,
			vm_handle_restart_timer, vm);
		vm->kill_timer = wl_event_loop_add_timer(server->event_loop,
			vm_handle_kill_timer, vm);
		vm->listen_timer = wl_event_loop_add_timer(server->event_loop,
			vm_handle_listen_timer, vm);
		vm->qemu_kill_timer = wl_event_loop_add_timer(server->event_loop,
			vm_handle_qemu_kill_timer, vm);
		wl_list_insert(server->vms.prev, &vm->link);
		if (vm->restart_timer == NULL || vm->kill_timer == NULL ||
				vm->listen_timer == NULL || vm->qemu_kill_timer == NULL) {
			return false;
		}
		if (!vm->config->qemu.autostart) {
			tessera_log(TESSERA_INFO, "vm '%s': autostart = no: stopped until "
				"started on request", vm->config->name);
			vm->held = true;
		} else if (!vm_start(vm)) {
			vm_schedule_restart(vm);
		}
	}
	return true;
}

/*
 * SIGTERM to every daemon, then together they get VM_STOP_TIMEOUT_MS (a
 * sanitized daemon checks for leaks on its way out) before SIGKILL. Every
 * exit status is logged like one at run time.
 */
/* QEMU first, with SIGTERM (it exits at once, status 0), SIGKILL after
 * VM_STOP_TIMEOUT_MS; its daemon would otherwise see a frontend vanish. */
static void vms_stop_qemus(struct tessera_server *server) {
	struct tessera_vm *vm;
	wl_list_for_each(vm, &server->vms, link) {
		if (vm->qemu_pid > 0) {
			vm->qemu_stopping = true;
			kill(vm->qemu_pid, SIGTERM);
		}
	}
	struct timespec sent;
	clock_gettime(CLOCK_MONOTONIC, &sent);
	wl_list_for_each(vm, &server->vms, link) {
		int status;
		while (vm->qemu_pid > 0) {
			pid_t ret = waitpid(vm->qemu_pid, &status, WNOHANG);
			if (ret == vm->qemu_pid) {
				vm_log_qemu_exit(vm, vm->qemu_pid, status, " at shutdown");
				vm->qemu_pid = 0;
			} else if (ret < 0 || ms_since(&sent) >= VM_STOP_TIMEOUT_MS) {
				vm_kill_qemu_now(vm, " at shutdown");
			} else {
				nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
			}
		}
	}
}

void tessera_vms_stop(struct tessera_server *server) {
	vms_stop_qemus(server);
	struct tessera_vm *vm;
	wl_list_for_each(vm, &server->vms, link) {
		if (vm->pid > 0) {
			vm->stopping = true;
			kill(vm->pid, SIGTERM);
		}
	}
	struct timespec sent;
	clock_gettime(CLOCK_MONOTONIC, &sent);
	wl_list_for_each(vm, &server->vms, link) {
		int status;
		while (vm->pid > 0) {
			pid_t ret = waitpid(vm->pid, &status, WNOHANG);
			if (ret == vm->pid) {
				vm_log_exit(vm, vm->pid, status, " at shutdown");
				vm->pid = 0;
			} else if (ret < 0) {
				tessera_log_errno(TESSERA_ERROR, "vm '%s': cannot wait for "
					"daemon (pid %d)", vm->config->name, (int)vm->pid);
				vm->pid = 0;
			} else if (ms_since(&sent) >= VM_STOP_TIMEOUT_MS) {
				tessera_log(TESSERA_ERROR, "vm '%s': daemon (pid %d) did not exit "
					"within %d ms of SIGTERM: killing it", vm->config->name,
					(int)vm->pid, VM_STOP_TIMEOUT_MS);
				kill(vm->pid, SIGKILL);
				if (waitpid(vm->pid, &status, 0) == vm->pid) {
					vm_log_exit(vm, vm->pid, status, " at shutdown");
				}
				vm->pid = 0;
			} else {
				nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
			}
		}
	}
}

void tessera_vms_finish(struct tessera_server *server) {
	struct tessera_vm *vm, *tmp;
	wl_list_for_each(vm, &server->vms, link) {
		if (vm->client != NULL) {
			wl_list_remove(&vm->client_destroy.link);
			wl_list_init(&vm->client_destroy.link);
			vm->client = NULL;
		}
	}
	tessera_vms_stop(server);
	wl_list_for_each_safe(vm, tmp, &server->vms, link) {
		if (vm->restart_timer != NULL) {
			wl_event_source_remove(vm->restart_timer);
		}
		if (vm->kill_timer != NULL) {
			wl_event_source_remove(vm->kill_timer);
		}
		if (vm->listen_timer != NULL) {
			wl_event_source_remove(vm->listen_timer);
		}
		if (vm->qemu_kill_timer != NULL) {
			wl_event_source_remove(vm->qemu_kill_timer);
		}
		wl_list_remove(&vm->client_destroy.link);
		vm_forget_hidden_console(vm);
		wl_list_remove(&vm->link);
		free(vm);
	}
	if (server->sigchld_source != NULL) {
		wl_event_source_remove(server->sigchld_source);
		server->sigchld_source = NULL;
	}
	free(server->vmd_path);
	server->vmd_path = NULL;
}

bool tessera_spawn_command(struct tessera_server *server, const char *command) {
	char *argv[] = { "/bin/sh", "-c", (char *)command, NULL };
	char **envp = child_environment(NULL, false);
	if (envp == NULL) {
		return false;
	}
	pid_t pid;
	/* a command of the user's, not tied to tessera (as in sway) */
	int ret = spawn(&pid, "/bin/sh", false, &SPAWN_FDS_NONE, false, argv, envp);
	free(envp);
	if (ret != 0) {
		tessera_log(TESSERA_ERROR, "cannot start '%s': %s", command, strerror(ret));
		return false;
	}
	tessera_log(TESSERA_INFO, "started '%s' (pid %d)", command, (int)pid);
	return true;
}
