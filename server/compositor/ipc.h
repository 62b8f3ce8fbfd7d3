#ifndef TESSERA_IPC_H
#define TESSERA_IPC_H

struct tessera_server;
struct tessera_ipc;

/*
 * The control socket tesseractl talks to (server/ctl/ctl-protocol.h,
 * tesseractl(1)): RUNTIME_DIR/tessera-DISPLAY.sock for the Wayland socket
 * DISPLAY, mode 0600, its path exported as TESSERA_SOCKET to the commands
 * tessera starts (not to VM daemons). Only processes of the user tessera
 * runs as are served (SO_PEERCRED); others get an error and a log line.
 * Driven by the server's event loop; no client can block it. NULL (and
 * the reason logged) if the socket cannot be set up.
 */
struct tessera_ipc *tessera_ipc_create(struct tessera_server *server, const char *display);
/* Closes every connection and removes the socket. */
void tessera_ipc_destroy(struct tessera_ipc *ipc);

#endif
