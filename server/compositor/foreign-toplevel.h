#ifndef TESSERA_FOREIGN_TOPLEVEL_H
#define TESSERA_FOREIGN_TOPLEVEL_H

#include <stdbool.h>
#include <wayland-server-core.h>

struct tessera_view;

/*
 * A mapped view as wlr-foreign-toplevel-management shows it to task bars:
 * the title the compositor shows (cleaned, "[NAME] " prefixed), the app
 * id, the activated state; a task bar may ask to activate or close it.
 */
struct tessera_foreign_toplevel {
	struct tessera_view *view;
	struct wlr_foreign_toplevel_handle_v1 *handle;
	struct wl_listener request_activate;
	struct wl_listener request_close;
};

/* NULL if the handle cannot be made (the view then has none). */
struct tessera_foreign_toplevel *tessera_foreign_toplevel_create(struct tessera_view *view);
/* The functions below accept NULL and do nothing then. */
void tessera_foreign_toplevel_destroy(struct tessera_foreign_toplevel *toplevel);
void tessera_foreign_toplevel_set_title(struct tessera_foreign_toplevel *toplevel,
	const char *title);
void tessera_foreign_toplevel_set_app_id(struct tessera_foreign_toplevel *toplevel,
	const char *app_id);
void tessera_foreign_toplevel_set_activated(struct tessera_foreign_toplevel *toplevel,
	bool activated);

#endif
