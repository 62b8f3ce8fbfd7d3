#include <stdlib.h>
#include <wlr/types/wlr_foreign_toplevel_management_v1.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "foreign-toplevel.h"
#include "server.h"
#include "view.h"

static void handle_request_activate(struct wl_listener *listener, void *data) {
	struct tessera_foreign_toplevel *toplevel =
		wl_container_of(listener, toplevel, request_activate);
	tessera_view_focus(toplevel->view);
}

static void handle_request_close(struct wl_listener *listener, void *data) {
	struct tessera_foreign_toplevel *toplevel =
		wl_container_of(listener, toplevel, request_close);
	wlr_xdg_toplevel_send_close(toplevel->view->xdg_surface);
}

struct tessera_foreign_toplevel *tessera_foreign_toplevel_create(struct tessera_view *view) {
	struct wlr_foreign_toplevel_handle_v1 *handle =
		wlr_foreign_toplevel_handle_v1_create(view->server->foreign_toplevel_manager);
	if (handle == NULL) {
		return NULL;
	}
	struct tessera_foreign_toplevel *toplevel = calloc(1, sizeof(*toplevel));
	if (toplevel == NULL) {
		wlr_foreign_toplevel_handle_v1_destroy(handle);
		return NULL;
	}
	toplevel->view = view;
	toplevel->handle = handle;
	toplevel->request_activate.notify = handle_request_activate;
	wl_signal_add(&handle->events.request_activate, &toplevel->request_activate);
	toplevel->request_close.notify = handle_request_close;
	wl_signal_add(&handle->events.request_close, &toplevel->request_close);
	/* The title follows from the view once it is mapped. */
	const char *app_id = view->xdg_surface->toplevel->app_id;
	if (app_id != NULL) {
		wlr_foreign_toplevel_handle_v1_set_app_id(handle, app_id);
	}
	return toplevel;
}

void tessera_foreign_toplevel_destroy(struct tessera_foreign_toplevel *toplevel) {
	if (toplevel == NULL) {
		return;
	}
	wl_list_remove(&toplevel->request_activate.link);
	wl_list_remove(&toplevel->request_close.link);
	wlr_foreign_toplevel_handle_v1_destroy(toplevel->handle);
	free(toplevel);
}

void tessera_foreign_toplevel_set_title(struct tessera_foreign_toplevel *toplevel,
		const char *title) {
	if (toplevel != NULL) {
		wlr_foreign_toplevel_handle_v1_set_title(toplevel->handle, title);
	}
}

void tessera_foreign_toplevel_set_app_id(struct tessera_foreign_toplevel *toplevel,
		const char *app_id) {
	if (toplevel != NULL) {
		wlr_foreign_toplevel_handle_v1_set_app_id(toplevel->handle, app_id);
	}
}

void tessera_foreign_toplevel_set_activated(struct tessera_foreign_toplevel *toplevel,
		bool activated) {
	if (toplevel != NULL) {
		wlr_foreign_toplevel_handle_v1_set_activated(toplevel->handle, activated);
	}
}
