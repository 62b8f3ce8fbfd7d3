/*
 * The control protocol between tessera and tesseractl (tesseractl(1),
 * PROTOCOL): where the socket is and the limits both sides keep. tessera's
 * end is server/compositor/ipc.c, the client's server/ctl/tesseractl.c.
 *
 * A UNIX stream socket; each request and each reply is one JSON object
 * on one line, ended by '\n'. Every request carries "version"
 * (TESSERA_CTL_VERSION) and "command"; every reply "version" and "ok",
 * and "error" and "code" when ok is false. Requests are answered in order.
 */
#ifndef TESSERA_CTL_PROTOCOL_H
#define TESSERA_CTL_PROTOCOL_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#define TESSERA_CTL_VERSION 1
/* Longest request line, '\n' included: tessera answers a longer one with
 * an error and closes the connection. */
#define TESSERA_CTL_MAX_REQUEST 4096
/* Longest reply line, '\n' included. */
#define TESSERA_CTL_MAX_REPLY (1024 * 1024)
/* Nesting tessera's parser accepts in a request. */
#define TESSERA_CTL_MAX_DEPTH 4
/* The socket's full path, as tessera exports it to its children. */
#define TESSERA_CTL_SOCKET_ENV "TESSERA_SOCKET"

/*
 * The socket of the tessera whose Wayland socket is `display`:
 * RUNTIME_DIR/tessera-DISPLAY.sock. False when display is empty or a path,
 * or the result does not fit in a sockaddr_un.
 */
static inline bool tessera_ctl_socket_path(char *out, size_t size,
		const char *runtime_dir, const char *display) {
	if (display[0] == '\0' || strchr(display, '/') != NULL || runtime_dir[0] == '\0') {
		return false;
	}
	size_t max = sizeof(((struct sockaddr_un *)NULL)->sun_path);
	int n = snprintf(out, size, "%s/tessera-%s.sock", runtime_dir, display);
	return n > 0 && (size_t)n < size && (size_t)n < max;
}

#endif
