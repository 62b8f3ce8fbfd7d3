#ifndef TESSERA_CLIPBOARD_H
#define TESSERA_CLIPBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tessera_server;
struct tessera_vm;

/*
 * tessera's global clipboard (clipboard.c): one typed item (UTF-8 text,
 * a PNG, a URI list) that moves between a VM or the host and the global
 * clipboard only on the user's word — Ctrl+Shift+C / Ctrl+Shift+V in the
 * focused window, or tesseractl clipboard — with each VM's clipboard
 * policy and size cap, every byte validated, and a notice tessera draws
 * above every window.
 */
struct tessera_clipboard;

struct tessera_clipboard *tessera_clipboard_create(struct tessera_server *server);
void tessera_clipboard_destroy(struct tessera_clipboard *clipboard);

/*
 * A key of the host keyboard (xkb keycode, pressed or not, the seat's
 * modifiers): true if the clipboard took it (Ctrl+Shift+C / V, and the
 * release of a key it took); then no client sees it.
 */
bool tessera_clipboard_handle_key(struct tessera_clipboard *clipboard, uint32_t keycode,
	bool pressed, uint32_t keysym, uint32_t modifiers);

/* The end of a transfer for whoever asked (tesseractl): ok, or why not. */
typedef void (*tessera_clipboard_done_fn)(void *data, bool ok, const char *message);

/*
 * Copies the selection of vm (NULL: the host's) into the global clipboard,
 * or pastes the global clipboard to vm (NULL: the host's selection). done
 * (may be NULL) is called once, possibly before these return; false when
 * refused at once (done was called then too).
 */
bool tessera_clipboard_copy(struct tessera_clipboard *clipboard, struct tessera_vm *vm,
	tessera_clipboard_done_fn done, void *data);
bool tessera_clipboard_paste(struct tessera_clipboard *clipboard, struct tessera_vm *vm,
	tessera_clipboard_done_fn done, void *data);
/* Forgets the done callbacks with this data (their asker went away). */
void tessera_clipboard_forget(struct tessera_clipboard *clipboard, void *data);
/* Empties the global clipboard. */
void tessera_clipboard_clear(struct tessera_clipboard *clipboard);

/* What the global clipboard holds: false when empty. type: "text",
 * "image/png" or "uri-list"; origin: the VM's name or "host". */
bool tessera_clipboard_describe(struct tessera_clipboard *clipboard, const char **type,
	const char **mime, size_t *size, const char **origin);

/* How many bytes of text, "2.1 KiB". */
void tessera_clipboard_format_size(size_t size, char *out, size_t out_size);

#endif
