#ifndef TESSERA_VM_H
#define TESSERA_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <wayland-server-core.h>

struct tessera_server;
struct tessera_vm_config;

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
/* Starts a host command (-s) with the compositor's WAYLAND_DISPLAY. */
bool tessera_spawn_command(struct tessera_server *server, const char *command);

#endif
