#ifndef TESSERA_VM_H
#define TESSERA_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <wayland-server-core.h>

struct tessera_server;
struct tessera_vm_config;

/* What tesseractl shows of a VM (tessera_vm_get_state()). */
enum tessera_vm_state {
	TESSERA_VM_RUNNING, /* its daemon runs */
	TESSERA_VM_STOPPING, /* tessera_vm_stop(): guest powering off or daemon
	                      * sent SIGTERM, not exited yet */
	TESSERA_VM_STOPPED, /* stopped on request; started again only on request */
	TESSERA_VM_RESTARTING, /* its daemon ended; started again after the back-off */
	TESSERA_VM_FAILED, /* its daemon rejected its settings: not restarted */
};

/*
 * One configured VM: its daemon process (tessera-vmd) and the tagged
 * Wayland connection the compositor created for it. Only a client that
 * arrives through that connection is treated as this VM.
 */
struct tessera_vm {
	struct wl_list link; /* tessera_server.vms */
	struct tessera_server *server;
	const struct tessera_vm_config *config;
	float color[4]; /* VM colour for scene rects */

	pid_t pid; /* 0 while not running */
	bool stopping; /* tessera sent the running daemon SIGTERM */
	struct wl_client *client; /* NULL while not connected */
	struct wl_listener client_destroy;
	struct wl_event_source *restart_timer;
	int backoff_ms;
	struct timespec started;
	unsigned int starts;

	/* Stop and start on request (tesseractl, through ipc.c). */
	bool held; /* stopped on request: no restart when the daemon exits */
	bool restart_requested; /* start again as soon as the daemon has exited */
	bool failed; /* the daemon rejected its settings */
	bool kill_pending; /* kill_timer is armed */
	struct wl_event_source *kill_timer; /* SIGKILL if SIGTERM did not end it */

	/* The VMM tessera runs for a VM with an image or a kernel (qemu.c):
	 * started once the daemon listens, stopped before it. */
	pid_t qemu_pid; /* 0 while not running */
	bool qemu_stopping; /* tessera asked it to end (powerdown or signal) */
	struct wl_event_source *listen_timer; /* polls for the daemon's socket */
	struct wl_event_source *qemu_kill_timer; /* SIGKILL after the shutdown timeout */
	struct timespec listen_started;
	unsigned int qemu_starts;
	char qmp_path[108];

	/* The console window (scanout 0) while tessera hides it (console =
	 * auto or hide), with listeners that forget it when its client unmaps
	 * or destroys it. */
	struct tessera_view *hidden_console;
	struct wl_listener console_unmap;
	struct wl_listener console_destroy;
	bool console_updating; /* tessera_vm_views_changed() runs */

	/* The running daemon's counters (tessera_vmd_v1), for `vm list`;
	 * unknown until it first reports. */
	struct {
		bool known;
		uint64_t frames, bytes_copied;
	} counters;

	struct {
		/* Emitted with the VM after its state may have changed. */
		struct wl_signal state;
	} events;
};

bool tessera_vms_init(struct tessera_server *server);
/* Ends every VM daemon and logs how each ended; called before the
 * compositor closes the daemons' connections, which they would otherwise
 * report as a lost compositor (status 1). */
void tessera_vms_stop(struct tessera_server *server);
void tessera_vms_finish(struct tessera_server *server);
/* The VM a client belongs to, or NULL for host clients. */
struct tessera_vm *tessera_vm_from_client(struct tessera_server *server,
	const struct wl_client *client);
/* For the bind handler of a VM-only global (protocol/guest-globals.h):
 * the VM of the binding client, or NULL after logging and posting an
 * implementation error to a host client (the global filter hides such
 * globals from host clients, so only a misbehaving one gets here). */
struct tessera_vm *tessera_vm_from_binding_client(struct tessera_server *server,
	struct wl_client *client, const struct wl_interface *interface);
/* The VM of that name, or NULL. */
struct tessera_vm *tessera_vm_find(struct tessera_server *server, const char *name);
enum tessera_vm_state tessera_vm_get_state(const struct tessera_vm *vm);
/* "running", "stopping", "stopped", "restarting" or "failed". */
const char *tessera_vm_state_name(enum tessera_vm_state state);
/*
 * Starts the daemon of a VM that has none now (a stopped, restarting or
 * failed VM), with a fresh back-off. False if it cannot be started (the
 * log says why; it is retried with the back-off then).
 */
bool tessera_vm_start(struct tessera_vm *vm);
/*
 * Stops the VM and keeps it stopped. A VM whose QEMU tessera runs is asked
 * for an ACPI shutdown over QMP first, and QEMU is killed if it has not
 * exited within the VM's shutdown-timeout. Then SIGTERM to its daemon,
 * SIGKILL if it has not exited within VM_STOP_TIMEOUT_MS. Its windows go
 * when the daemon has exited, and the state becomes TESSERA_VM_STOPPED.
 */
void tessera_vm_stop(struct tessera_vm *vm);
/* tessera_vm_stop(), then tessera_vm_start() once the daemon has exited
 * (at once for a VM without a daemon). */
void tessera_vm_restart(struct tessera_vm *vm);
/*
 * A window of vm was mapped or unmapped (view.c): hides or shows the VM's
 * console window as its console key says. Accepts NULL (a host window).
 */
void tessera_vm_views_changed(struct tessera_vm *vm);
/* Starts a host command (-s) with the compositor's WAYLAND_DISPLAY. */
bool tessera_spawn_command(struct tessera_server *server, const char *command);

#endif
