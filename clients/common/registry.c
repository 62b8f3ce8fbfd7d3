#include <stdio.h>
#include <string.h>

#include "log.h"
#include "tessera-client.h"

static void registry_handle_global(void *data, struct wl_registry *wl_registry,
		uint32_t name, const char *interface, uint32_t version) {
	struct tessera_client_registry *registry = data;
	if (registry->announce != NULL) {
		registry->announce(registry->announce_data, interface, version);
	}
	for (size_t i = 0; i < registry->global_count; i++) {
		const struct tessera_client_global *global = &registry->globals[i];
		if (strcmp(interface, global->interface->name) != 0 ||
				*global->proxy != NULL || version < global->min_version) {
			continue;
		}
		uint32_t bind_version = version < global->max_version ?
			version : global->max_version;
		struct wl_proxy *proxy = wl_registry_bind(wl_registry, name,
			global->interface, bind_version);
		if (global->listener != NULL) {
			wl_proxy_add_listener(proxy, (void (**)(void))global->listener,
				global->data);
		}
		*global->proxy = proxy;
		return;
	}
}

static void registry_handle_global_remove(void *data, struct wl_registry *wl_registry,
		uint32_t name) {
	/* the globals the clients use are not expected to go away */
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_handle_global,
	.global_remove = registry_handle_global_remove,
};

void tessera_client_registry_init(struct tessera_client_registry *registry,
		struct wl_display *display, const struct tessera_client_global *globals,
		size_t global_count) {
	registry->globals = globals;
	registry->global_count = global_count;
	registry->wl_registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry->wl_registry, &registry_listener, registry);
}

void tessera_client_registry_finish(struct tessera_client_registry *registry) {
	if (registry->wl_registry != NULL) {
		wl_registry_destroy(registry->wl_registry);
		registry->wl_registry = NULL;
	}
}

bool tessera_client_registry_check(const struct tessera_client_registry *registry) {
	char missing[512] = "";
	size_t len = 0;
	for (size_t i = 0; i < registry->global_count; i++) {
		const struct tessera_client_global *global = &registry->globals[i];
		if (global->optional || *global->proxy != NULL || len >= sizeof(missing)) {
			continue;
		}
		int n = global->min_version > 1 ?
			snprintf(missing + len, sizeof(missing) - len, " %s (v%u)",
				global->interface->name, global->min_version) :
			snprintf(missing + len, sizeof(missing) - len, " %s",
				global->interface->name);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len == 0) {
		return true;
	}
	tessera_log(TESSERA_ERROR, "the compositor lacks a required global:%s", missing);
	return false;
}

void tessera_client_disconnect(struct wl_display *display,
		struct tessera_client_registry *registry) {
	for (size_t i = 0; i < registry->global_count; i++) {
		void **proxy = registry->globals[i].proxy;
		if (*proxy != NULL) {
			wl_proxy_destroy(*proxy);
			*proxy = NULL;
		}
	}
	tessera_client_registry_finish(registry);
	if (display != NULL) {
		wl_display_flush(display);
		wl_display_disconnect(display);
	}
}

bool tessera_client_roundtrip(struct wl_display *display) {
	if (wl_display_roundtrip(display) < 0) {
		tessera_log(TESSERA_ERROR, "lost the connection to the compositor: %s",
			strerror(wl_display_get_error(display)));
		return false;
	}
	return true;
}
