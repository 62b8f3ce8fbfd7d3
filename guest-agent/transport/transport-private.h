/*
 * Inside the agent's transport: one implementation per kind of device
 * behind the functions of transport.h.
 */
#ifndef TESSERA_AGENT_TRANSPORT_PRIVATE_H
#define TESSERA_AGENT_TRANSPORT_PRIVATE_H

#include <stdarg.h>

#include "transport.h"

struct tessera_agent_transport_impl {
	const char *name;
	int (*connect)(struct tessera_agent_transport *t);
	void (*disconnect)(struct tessera_agent_transport *t);
	int (*resource_create)(struct tessera_agent_transport *t, uint64_t size,
		struct tessera_agent_resource *res);
	int (*resource_import)(struct tessera_agent_transport *t, int dmabuf_fd,
		struct tessera_agent_resource *res);
	void (*resource_destroy)(struct tessera_agent_transport *t,
		struct tessera_agent_resource *res);
	int (*submit)(struct tessera_agent_transport *t, const void *batch, size_t len,
		bool wait);
	void (*destroy)(struct tessera_agent_transport *t);
};

struct tessera_agent_transport {
	const struct tessera_agent_transport_impl *impl;
	struct wl_event_loop *loop;
	struct tessera_agent_transport_events events;
	void *data;
	bool connected;
	char *device; /* socket path or DRM node; NULL: find one */
	char description[300];
	char error[256];
	void *backend; /* the implementation's state */
};

extern const struct tessera_agent_transport_impl tessera_agent_transport_vhost_user;
extern const struct tessera_agent_transport_impl tessera_agent_transport_virtgpu;

/* Sets the message error() returns; returns -1. */
int tessera_agent_transport_fail(struct tessera_agent_transport *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The implementation found the device gone: disconnect, then events.lost. */
void tessera_agent_transport_lost(struct tessera_agent_transport *t, const char *why);
/* The armed WAIT completed. */
void tessera_agent_transport_doorbell(struct tessera_agent_transport *t);

#endif
