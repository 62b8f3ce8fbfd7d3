/*
 * The agent's transport (transport.h): the spec, the common checks, and
 * the dispatch to the vhost-user loopback or the virtgpu implementation.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-server-core.h>

#include "tessera-wire.h"
#include "transport-private.h"

#define MAX_DEVICE_PATH 4096

int agent_transport_fail(struct agent_transport *t, const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, args);
	va_end(args);
	return -1;
}

void agent_transport_lost(struct agent_transport *t, const char *why) {
	if (!t->connected) {
		return;
	}
	snprintf(t->error, sizeof(t->error), "%s", why);
	agent_transport_disconnect(t);
	snprintf(t->error, sizeof(t->error), "%s", why);
	t->events.lost(t->data);
}

void agent_transport_doorbell(struct agent_transport *t) {
	t->events.doorbell(t->data);
}

/* Which implementation and device a spec names; false with err if none. */
static bool parse_spec(const char *spec, const struct agent_transport_impl **impl,
		const char **device, char *err, size_t err_size) {
	*device = NULL;
	if (strcmp(spec, "virtgpu") == 0) {
		*impl = &agent_transport_virtgpu;
	} else if (strncmp(spec, "virtgpu:", 8) == 0) {
		*impl = &agent_transport_virtgpu;
		*device = spec + 8;
	} else if (strncmp(spec, "vhost-user:", 11) == 0) {
		*impl = &agent_transport_vhost_user;
		*device = spec + 11;
	} else {
		snprintf(err, err_size, "unknown transport '%s' (virtgpu, virtgpu:DEVICE or "
			"vhost-user:PATH)", spec);
		return false;
	}
	if (*device != NULL && ((*device)[0] == '\0' || strlen(*device) >= MAX_DEVICE_PATH)) {
		snprintf(err, err_size, "'%s': the path is empty or too long", spec);
		return false;
	}
	return true;
}

bool agent_transport_check_spec(const char *spec, char *err, size_t err_size) {
	const struct agent_transport_impl *impl;
	const char *device;
	return parse_spec(spec, &impl, &device, err, err_size);
}

struct agent_transport *agent_transport_create(
		struct wl_event_loop *loop, const char *spec,
		const struct agent_transport_events *events, void *data,
		char *err, size_t err_size) {
	const struct agent_transport_impl *impl = NULL;
	const char *device = NULL;
	if (!parse_spec(spec, &impl, &device, err, err_size)) {
		return NULL;
	}
	struct agent_transport *t = calloc(1, sizeof(*t));
	if (t == NULL || (device != NULL && (t->device = strdup(device)) == NULL)) {
		free(t);
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	t->impl = impl;
	t->loop = loop;
	t->events = *events;
	t->data = data;
	snprintf(t->description, sizeof(t->description), "%s %s", impl->name,
		device != NULL ? device : "(the virtio_gpu render node)");
	return t;
}

void agent_transport_destroy(struct agent_transport *t) {
	if (t == NULL) {
		return;
	}
	agent_transport_disconnect(t);
	if (t->impl->destroy != NULL) {
		t->impl->destroy(t);
	}
	free(t->device);
	free(t);
}

const char *agent_transport_describe(const struct agent_transport *t) {
	return t->description;
}

const char *agent_transport_error(const struct agent_transport *t) {
	return t->error[0] != '\0' ? t->error : "no error";
}

int agent_transport_connect(struct agent_transport *t) {
	if (t->connected) {
		return 0;
	}
	t->error[0] = '\0';
	if (t->impl->connect(t) != 0) {
		return -1;
	}
	t->connected = true;
	return 0;
}

void agent_transport_disconnect(struct agent_transport *t) {
	if (!t->connected) {
		return;
	}
	t->connected = false;
	t->impl->disconnect(t);
}

bool agent_transport_connected(const struct agent_transport *t) {
	return t->connected;
}

int agent_transport_resource_create(struct agent_transport *t,
		uint64_t size, struct agent_resource *res) {
	memset(res, 0, sizeof(*res));
	if (!t->connected) {
		return agent_transport_fail(t, "not connected");
	}
	if (size == 0 || size > AGENT_TRANSPORT_MAX_RESOURCE_SIZE) {
		return agent_transport_fail(t, "resource size %llu out of range",
			(unsigned long long)size);
	}
	size = (size + 4095) & ~(uint64_t)4095;
	return t->impl->resource_create(t, size, res);
}

int agent_transport_resource_import(struct agent_transport *t,
		int dmabuf_fd, struct agent_resource *res) {
	memset(res, 0, sizeof(*res));
	if (!t->connected) {
		return agent_transport_fail(t, "not connected");
	}
	if (dmabuf_fd < 0) {
		return agent_transport_fail(t, "no dmabuf");
	}
	return t->impl->resource_import(t, dmabuf_fd, res);
}

void agent_transport_resource_destroy(struct agent_transport *t,
		struct agent_resource *res) {
	if (res->id != 0 && t->connected) {
		t->impl->resource_destroy(t, res);
	}
	memset(res, 0, sizeof(*res));
}

int agent_transport_submit(struct agent_transport *t,
		const void *batch, size_t len, bool wait) {
	if (!t->connected) {
		return agent_transport_fail(t, "not connected");
	}
	if (len == 0 || len > TESSERA_WIRE_MAX_BATCH_SIZE || len % 8 != 0) {
		return agent_transport_fail(t, "batch of %zu bytes", len);
	}
	return t->impl->submit(t, batch, len, wait);
}
