#ifndef TESSERA_XDG_SHELL_H
#define TESSERA_XDG_SHELL_H

#include <stdbool.h>

struct tessera_server;

/*
 * xdg-shell: a view for each toplevel, popups in their parent's tree
 * (framed for VM windows), and the toplevel requests. Maximize and
 * fullscreen are not offered; move and resize only from the focused
 * window while a button is held.
 */
bool tessera_xdg_shell_init(struct tessera_server *server);
void tessera_xdg_shell_finish(struct tessera_server *server);

#endif
