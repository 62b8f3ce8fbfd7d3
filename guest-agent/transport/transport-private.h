/*
 * Inside the agent's transport: one implementation per kind of device
 * behind the functions of transport.h.
 */
#ifndef TESSERA_AGENT_TRANSPORT_PRIVATE_H
#define TESSERA_AGENT_TRANSPORT_PRIVATE_H

#include <stdarg.h>

#include "transport.h"

struct agent_transport_impl {
	const char *name;
	int (*connect)(struct agent_transport *t);
	void (*disconnect)(struct agent_transport *t);
	int (*resource_create)(struct agent_transport *t, uint64_t size,
		struct agent_resource *res);
	int (*resource_import)(struct agent_transport *t, int dmabuf_fd,
		struct agent_resource *res);
	void (*resource_destroy)(struct agent_transport *t,
		struct agent_resource *res);
	int (*submit)(struct agent_transport *t, const void *batch, size_t len,
		bool wait);
	void (*destroy)(struct agent_transport *t);
};

struct agent_transport {
	const struct agent_transport_impl *impl;
	struct wl_event_loop *loop;
	struct agent_transport_events events;
	void *data;
	bool connected;
	char *device; /* socket path or DRM node; NULL: find one */
	char description[300];
	char error[256];
	void *backend; /* the implementation's state */
};

extern const struct agent_transport_impl agent_transport_vhost_user;
extern const struct agent_transport_impl agent_transport_virtgpu;

/* Sets the message error() returns; returns -1. */
int agent_transport_fail(struct agent_transport *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The implementation found the device gone: disconnect, then events.lost. */
void agent_transport_lost(struct agent_transport *t, const char *why);
/* The armed WAIT completed. */
void agent_transport_doorbell(struct agent_transport *t);

#endif
