/*
 * The agent's transport: how tessera-agent reaches tessera-vmd.
 *
 * - "virtgpu[:DEVICE]": a real guest. DRM virtgpu ioctls (libdrm's
 *   virtgpu_drm.h) on the render node whose driver is virtio_gpu (or
 *   DEVICE): RESOURCE_CREATE + MAP + mmap for agent-owned memory,
 *   EXECBUFFER for batches, FENCE_FD_OUT for the WAIT doorbell (its
 *   sync_file fd sits in the event loop), PRIME import + RESOURCE_INFO for
 *   client dmabufs that come from the same device.
 * - "vhost-user:PATH": on the host, for development, tests and benchmarks.
 *   The agent plays VMM and guest driver against a tessera-vmd socket
 *   (common/frontend/virtio-gpu-frontend.h): same vmd code path, same bytes on the
 *   rings. Dmabuf imports are not possible there (no virtio-gpu device).
 *
 * A transport carries bytes and memory; the wire protocol (HELLO, the event
 * ring, messages) is the agent core's business. Resources are always
 * PIPE_BUFFER-like byte arrays with guest-RAM backing mapped into the
 * agent; buffers are described inside them by BUFFER_CREATE.
 */
#ifndef TESSERA_AGENT_TRANSPORT_H
#define TESSERA_AGENT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wl_event_loop;
struct agent_transport;

/* Upper bound on one agent-owned resource (a 16384x16384 buffer is 1 GiB;
 * the agent never needs more than one 8K frame per resource). */
#define AGENT_TRANSPORT_MAX_RESOURCE_SIZE (UINT64_C(256) << 20)

struct agent_resource {
	uint32_t id; /* virtio-gpu resource id, as the host knows it */
	uint64_t size; /* bytes of backing */
	void *data; /* agent mapping of the backing; NULL for imports */
	uint32_t handle; /* transport private (GEM handle); 0 if none */
	bool imported; /* from resource_import: not owned, not mapped */
};

struct agent_transport_events {
	/* The armed WAIT completed (or a spurious wake-up: harmless). The
	 * doorbell is disarmed when this is called; the core re-arms it by
	 * submitting a batch with wait = true. */
	void (*doorbell)(void *data);
	/* The device went away (vmd gone, socket closed, ioctl failing). The
	 * transport is disconnected when this is called: every resource is
	 * gone; the core calls connect again later (it retries on a timer). */
	void (*lost)(void *data);
};

/*
 * spec: "virtgpu", "virtgpu:/dev/dri/renderD128", "vhost-user:/path/sock".
 * Does not connect yet. NULL with a message in err for a bad spec.
 */
struct agent_transport *agent_transport_create(
	struct wl_event_loop *loop, const char *spec,
	const struct agent_transport_events *events, void *data,
	char *err, size_t err_size);
/* Whether spec is well-formed (for the command line); err says why not. */
bool agent_transport_check_spec(const char *spec, char *err, size_t err_size);
/* Disconnects first. Accepts NULL. */
void agent_transport_destroy(struct agent_transport *transport);

/* "virtgpu /dev/dri/renderD128" or "vhost-user /path" for log lines. */
const char *agent_transport_describe(
	const struct agent_transport *transport);
/* Why the last call failed. */
const char *agent_transport_error(
	const struct agent_transport *transport);

/* Opens the device and a fresh virtio-gpu context (a new session on the
 * host). 0, or -1 (device not there yet / refused: error() says why). */
int agent_transport_connect(struct agent_transport *transport);
/* Closes the context and the device; every resource becomes invalid
 * (the core forgets them without calling resource_destroy). */
void agent_transport_disconnect(struct agent_transport *transport);
bool agent_transport_connected(
	const struct agent_transport *transport);

/* A new agent-owned resource of size bytes (rounded up to pages), zeroed,
 * with guest-RAM backing attached and mapped at res->data. 0 or -1. */
int agent_transport_resource_create(
	struct agent_transport *transport, uint64_t size,
	struct agent_resource *res);
/* The virtio-gpu resource behind a client's dmabuf, if the dmabuf was
 * exported by this very device (PRIME import + RESOURCE_INFO): 0 with
 * res->id/size/handle set (res->data NULL), else -1 (foreign dmabuf, or no
 * device that can import: the caller copies instead). */
int agent_transport_resource_import(
	struct agent_transport *transport, int dmabuf_fd,
	struct agent_resource *res);
/* Unmaps/unrefs a created resource, drops an imported one's handle.
 * Clears *res. Accepts a zeroed res. */
void agent_transport_resource_destroy(
	struct agent_transport *transport,
	struct agent_resource *res);

/*
 * Submits one batch of wire messages (SUBMIT_3D / EXECBUFFER), len ≤
 * TESSERA_WIRE_MAX_BATCH_SIZE. With wait, the batch ends in WAIT, is
 * fenced, and arms the doorbell (at most one armed: arming again replaces
 * the previous one, whose completion is then ignored). Without wait it is
 * not fenced. Returns 0, or -1 on a transport failure (the caller then
 * disconnects and retries later; lost is not called for it).
 */
int agent_transport_submit(struct agent_transport *transport,
	const void *batch, size_t len, bool wait);

#endif
