#ifndef TESSERA_SHARE_H
#define TESSERA_SHARE_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;
struct tessera_server;
struct tessera_view;
struct tessera_vm;

/*
 * Window sharing (share.c): the frames of one VM window copied into
 * buffers of another VM, on the user's word only (tesseractl share). The
 * daemons take part through tessera_vmd_share_v1
 * (protocol/tessera-vmd-share-v1.xml), the guests through the wire
 * protocol's SHARE messages (protocol/PROTOCOL.md §17).
 */

/* Buffers of the receiving VM tessera holds per share. */
#define TESSERA_SHARE_MAX_BUFFERS 8
/* Shares at once, all VMs together. */
#define TESSERA_SHARE_MAX_SHARES 16

/* Creates the global; false (logged) on failure. */
bool tessera_shares_init(struct tessera_server *server);
/* Ends every share. */
void tessera_shares_finish(struct tessera_server *server);

/*
 * Shares view (a VM window) into vm. Returns the new share's id, or 0 with
 * the reason in why (a static string) and its error code in code
 * ("bad-request", "failed").
 */
uint32_t tessera_share_start(struct tessera_server *server, struct tessera_view *view,
	struct tessera_vm *to, const char **code, const char **why);
/* Ends the share; false when there is none with that id. */
bool tessera_share_stop(struct tessera_server *server, uint32_t id);
/* The shares as a JSON array, for `tesseractl share list`. */
struct json_object *tessera_shares_json(struct tessera_server *server);
/* The share (as JSON) with that id, or NULL. */
struct json_object *tessera_share_json(struct tessera_server *server, uint32_t id);
/*
 * The key + click (seat.c): Alt+Shift+S with a VM's window focused arms a
 * pick into that VM; the next click on a window picks it (shares it into
 * that VM if it is another VM's) and reaches no client, nor does its
 * release. Escape (tessera_share_cancel) or any click ends the pick.
 * tessera_share_pick() returns true when it took the click.
 */
void tessera_share_arm(struct tessera_server *server, struct tessera_view *focused);
void tessera_share_cancel(struct tessera_server *server);
bool tessera_share_pick(struct tessera_server *server, struct tessera_view *view,
	uint32_t button);
/* Whether the release of button ends a click the pick took. */
bool tessera_share_take_release(struct tessera_server *server, uint32_t button);
/*
 * The name of the VM the view is shared into (the first, if several), or
 * NULL: decoration.c draws "shared → [NAME]" in the window's title bar.
 */
const char *tessera_share_mark(struct tessera_view *view);

#endif
