/*
 * vhost-user backend (device side). No C library for vhost-user is packaged
 * in Debian, so this is tessera's own implementation, written from the
 * public specification (QEMU docs/interop/vhost-user.rst); see vhost-user.h.
 *
 * Layers: common/virtio/memory-table, common/virtio/virtqueue (split
 * rings), common/virtio/vhost-user-proto.h (wire format); this file is the message
 * handling and the event loop glue.
 */
#define _GNU_SOURCE /* accept4, MSG_CMSG_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "vhost-user-proto.h"
#include "vhost-user.h"

#define BIT(n) (UINT64_C(1) << (n))

/* transport features the backend implements */
#define BACKEND_FEATURES (BIT(VIRTIO_F_VERSION_1) | \
	BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_RING_F_EVENT_IDX) | \
	BIT(TESSERA_VHOST_USER_F_PROTOCOL_FEATURES))
/* feature bits a device may not set: reserved for the transport (24..49) */
#define TRANSPORT_FEATURE_MASK (((UINT64_C(1) << 50) - 1) & \
	~((UINT64_C(1) << 24) - 1))
#define BACKEND_PROTOCOL_FEATURES \
	(BIT(TESSERA_VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
	BIT(TESSERA_VHOST_USER_PROTOCOL_F_CONFIG))

/* messages handled per wake-up before returning to the loop */
#define MAX_MESSAGES_PER_DISPATCH 64

struct backend;

struct queue {
	struct backend *backend;
	uint32_t index;

	uint32_t num; /* 0 until SET_VRING_NUM */
	bool addr_set;
	struct tessera_vhost_user_vring_addr addr;
	uint16_t base; /* where to resume popping */
	bool kick_set; /* SET_VRING_KICK seen (with an fd or NOFD) */
	int kick_fd, call_fd, err_fd;
	struct wl_event_source *kick_source;

	bool enabled;
	bool started;
	bool broken_reported;
	struct tessera_virtqueue vq;
};

enum result {
	RESULT_OK, /* REPLY_ACK: success */
	RESULT_FAIL, /* REPLY_ACK: failure, connection kept */
	RESULT_REPLIED, /* an explicit reply was sent */
	RESULT_FATAL, /* malformed: drop the connection */
};

struct backend {
	struct tessera_vhost_user_backend base;
	struct wl_event_loop *loop;
	const struct tessera_vhost_user_device_impl *impl;
	void *data;

	char *socket_path;
	int listen_fd;
	struct wl_event_source *listen_source;

	int conn_fd;
	struct wl_event_source *conn_source;
	bool closing; /* inside connection_close() */
	/* bumped when a connection ends: callers detect a teardown that
	 * happened inside a callback */
	uint64_t generation;

	/* message being received */
	struct tessera_vhost_user_msg msg;
	size_t received;
	int fds[TESSERA_VHOST_USER_MAX_FDS];
	size_t nfds;

	/* state of the current connection */
	uint64_t features;
	uint64_t protocol_features;
	bool owner;
	struct tessera_memory_table mem;
	struct queue queues[TESSERA_VHOST_USER_MAX_QUEUES];
	int gpu_socket_fd;
};

static struct backend *backend_from_base(
		const struct tessera_vhost_user_backend *base) {
	return wl_container_of(base, (struct backend *)NULL, base);
}

static void close_fd(int *fd) {
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static uint64_t offered_features(struct backend *b) {
	uint64_t device = b->impl->get_features != NULL ?
		b->impl->get_features(b->data) : 0;
	return (device & ~TRANSPORT_FEATURE_MASK) | BACKEND_FEATURES;
}

/* ---- queues ---- */

static void queue_report_broken(struct queue *q) {
	if (q->broken_reported || !tessera_virtqueue_is_broken(&q->vq)) {
		return;
	}
	q->broken_reported = true;
	tessera_log(TESSERA_ERROR, "vhost-user: queue %u broken by the guest: %s",
		q->index, tessera_virtqueue_error(&q->vq));
	if (q->err_fd >= 0) {
		uint64_t one = 1;
		if (write(q->err_fd, &one, sizeof(one)) < 0) {
			tessera_log_errno(TESSERA_DEBUG, "vhost-user: signalling error fd");
		}
	}
}

/* Lets the device process queue q if it runs. */
static void queue_process(struct queue *q) {
	struct backend *b = q->backend;
	if (!q->started || !q->enabled || tessera_virtqueue_is_broken(&q->vq) ||
			b->impl->queue_kick == NULL) {
		return;
	}
	uint64_t generation = b->generation;
	b->impl->queue_kick(b->data, q->index, &q->vq);
	if (generation != b->generation) {
		return; /* the connection was dropped meanwhile */
	}
	queue_report_broken(q);
}

static bool queue_translate(struct queue *q,
		struct tessera_virtqueue_rings *rings) {
	struct backend *b = q->backend;
	rings->desc = tessera_memory_table_translate_uva(&b->mem, q->addr.desc,
		tessera_virtqueue_desc_size(q->num));
	rings->avail = tessera_memory_table_translate_uva(&b->mem, q->addr.avail,
		tessera_virtqueue_avail_size(q->num));
	rings->used = tessera_memory_table_translate_uva(&b->mem, q->addr.used,
		tessera_virtqueue_used_size(q->num));
	return rings->desc != NULL && rings->avail != NULL &&
		rings->used != NULL;
}

static void queue_try_start(struct queue *q) {
	struct backend *b = q->backend;
	if (q->started || !q->kick_set || q->num == 0 || !q->addr_set ||
			b->mem.nregions == 0) {
		return;
	}
	struct tessera_virtqueue_rings rings;
	if (!queue_translate(q, &rings)) {
		tessera_log(TESSERA_ERROR, "vhost-user: queue %u: rings are outside guest "
			"memory (desc 0x%llx avail 0x%llx used 0x%llx, size %u)",
			q->index, (unsigned long long)q->addr.desc,
			(unsigned long long)q->addr.avail,
			(unsigned long long)q->addr.used, q->num);
		return;
	}
	if (tessera_virtqueue_init(&q->vq, &b->mem, q->num, &rings, b->features,
			q->base) != 0) {
		tessera_log(TESSERA_ERROR, "vhost-user: queue %u: %s", q->index,
			tessera_virtqueue_error(&q->vq));
		return;
	}
	q->started = true;
	q->broken_reported = false;
	tessera_log(TESSERA_DEBUG, "vhost-user: queue %u started (size %u, base %u)",
		q->index, q->num, q->base);
	queue_process(q);
}

static void try_start_all(struct backend *b) {
	for (uint32_t i = 0; i < b->impl->num_queues; i++) {
		uint64_t generation = b->generation;
		queue_try_start(&b->queues[i]);
		if (generation != b->generation) {
			return;
		}
	}
}

static void queue_remove_kick(struct queue *q) {
	if (q->kick_source != NULL) {
		wl_event_source_remove(q->kick_source);
		q->kick_source = NULL;
	}
	close_fd(&q->kick_fd);
	q->kick_set = false;
}

/* Stops the ring: the device forgets its in-flight elements. */
static void queue_stop(struct queue *q) {
	struct backend *b = q->backend;
	if (q->started) {
		q->base = q->vq.last_avail_idx;
		q->started = false;
		if (b->impl->queue_stop != NULL) {
			b->impl->queue_stop(b->data, q->index);
		}
	}
	queue_remove_kick(q);
}

static void queue_init(struct backend *b, struct queue *q, uint32_t index) {
	memset(q, 0, sizeof(*q));
	q->backend = b;
	q->index = index;
	q->kick_fd = q->call_fd = q->err_fd = -1;
}

static int handle_kick(int fd, uint32_t mask, void *data) {
	struct queue *q = data;
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		tessera_log(TESSERA_ERROR, "vhost-user: queue %u: kick fd hung up",
			q->index);
		wl_event_source_remove(q->kick_source);
		q->kick_source = NULL;
		return 0;
	}
	/* consume the eventfd counter; the fd may be blocking (it belongs to
	 * the VMM too), so read only what poll() says is there */
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN)) {
		uint64_t value;
		if (read(fd, &value, sizeof(value)) < 0 && errno != EAGAIN) {
			tessera_log_errno(TESSERA_DEBUG, "vhost-user: reading kick fd");
		}
	}
	queue_process(q);
	return 0;
}

/* ---- connection ---- */

static void close_pending_fds(struct backend *b) {
	for (size_t i = 0; i < b->nfds; i++) {
		close_fd(&b->fds[i]);
	}
	b->nfds = 0;
}

static void connection_close(struct backend *b) {
	if (b->conn_fd < 0 || b->closing) {
		return;
	}
	b->closing = true;
	b->generation++;
	for (uint32_t i = 0; i < b->impl->num_queues; i++) {
		queue_stop(&b->queues[i]);
	}
	if (b->impl->reset != NULL) {
		b->impl->reset(b->data);
	}
	for (uint32_t i = 0; i < TESSERA_VHOST_USER_MAX_QUEUES; i++) {
		struct queue *q = &b->queues[i];
		close_fd(&q->call_fd);
		close_fd(&q->err_fd);
		queue_init(b, q, i);
	}
	tessera_memory_table_clear(&b->mem);
	close_fd(&b->gpu_socket_fd);
	close_pending_fds(b);
	b->received = 0;
	b->features = 0;
	b->protocol_features = 0;
	b->owner = false;

	wl_event_source_remove(b->conn_source);
	b->conn_source = NULL;
	close_fd(&b->conn_fd);
	b->closing = false;
	tessera_log(TESSERA_INFO, "vhost-user: frontend disconnected");
	wl_signal_emit(&b->base.events.disconnect, NULL);
	if (b->listen_source != NULL) {
		wl_event_source_fd_update(b->listen_source, WL_EVENT_READABLE);
	}
}

static bool send_reply(struct backend *b, uint32_t request,
		const void *payload, uint32_t size) {
	struct tessera_vhost_user_header hdr = {
		.request = request,
		.flags = TESSERA_VHOST_USER_VERSION | TESSERA_VHOST_USER_FLAG_REPLY,
		.size = size,
	};
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = size },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = size > 0 ? 2 : 1 };
	ssize_t n;
	do {
		n = sendmsg(b->conn_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)(sizeof(hdr) + size)) {
		tessera_log(TESSERA_ERROR, "vhost-user: cannot send the reply to %s",
			tessera_vhost_user_request_name(request));
		return false;
	}
	return true;
}

static enum result reply_u64(struct backend *b, uint64_t value) {
	return send_reply(b, b->msg.hdr.request, &value, sizeof(value)) ?
		RESULT_REPLIED : RESULT_FATAL;
}

/* ---- message handlers ---- */

static bool expect_size(struct backend *b, uint32_t size) {
	if (b->msg.hdr.size != size) {
		tessera_log(TESSERA_ERROR, "vhost-user: malformed %s: payload of %u bytes, "
			"expected %u", tessera_vhost_user_request_name(b->msg.hdr.request),
			b->msg.hdr.size, size);
		return false;
	}
	return true;
}

static bool expect_fds(struct backend *b, size_t n) {
	if (b->nfds != n) {
		tessera_log(TESSERA_ERROR, "vhost-user: malformed %s: %zu file descriptors, "
			"expected %zu", tessera_vhost_user_request_name(b->msg.hdr.request),
			b->nfds, n);
		return false;
	}
	return true;
}

static struct queue *get_queue(struct backend *b, uint32_t index) {
	if (index >= b->impl->num_queues) {
		tessera_log(TESSERA_ERROR, "vhost-user: malformed %s: queue index %u, the "
			"device has %u", tessera_vhost_user_request_name(b->msg.hdr.request),
			index, b->impl->num_queues);
		return NULL;
	}
	return &b->queues[index];
}

static int take_fd(struct backend *b, size_t i) {
	int fd = b->fds[i];
	b->fds[i] = -1;
	return fd;
}

static enum result handle_get_features(struct backend *b, struct queue *q) {
	return reply_u64(b, offered_features(b));
}

static enum result handle_set_features(struct backend *b, struct queue *unused) {
	uint64_t features = b->msg.payload.u64;
	uint64_t generation = b->generation;
	uint64_t offered = offered_features(b);
	if (generation != b->generation) {
		return RESULT_OK; /* dropped from get_features() */
	}
	if (features & ~offered) {
		/* VMMs ack some transport bits whatever the backend offered:
		 * ignore what is not implemented rather than fail the device */
		tessera_log(TESSERA_INFO, "vhost-user: ignoring features 0x%llx that were "
			"not offered", (unsigned long long)(features & ~offered));
		features &= offered;
	}
	b->features = features;
	bool protocol = features & BIT(TESSERA_VHOST_USER_F_PROTOCOL_FEATURES);
	for (uint32_t i = 0; i < b->impl->num_queues; i++) {
		struct queue *q = &b->queues[i];
		if (!protocol) {
			/* without protocol features rings are enabled at once */
			q->enabled = true;
		}
		if (q->started) {
			q->vq.event_idx = features & BIT(VIRTIO_RING_F_EVENT_IDX);
			q->vq.indirect = features & BIT(VIRTIO_RING_F_INDIRECT_DESC);
		}
	}
	tessera_log(TESSERA_DEBUG, "vhost-user: features 0x%llx",
		(unsigned long long)features);
	if (b->impl->set_features != NULL) {
		b->impl->set_features(b->data, features);
	}
	return RESULT_OK;
}

static enum result handle_get_protocol_features(struct backend *b, struct queue *q) {
	return reply_u64(b, BACKEND_PROTOCOL_FEATURES);
}

static enum result handle_set_protocol_features(struct backend *b, struct queue *q) {
	uint64_t features = b->msg.payload.u64;
	if (features & ~BACKEND_PROTOCOL_FEATURES) {
		tessera_log(TESSERA_INFO, "vhost-user: ignoring protocol features 0x%llx "
			"that were not offered",
			(unsigned long long)(features & ~BACKEND_PROTOCOL_FEATURES));
		features &= BACKEND_PROTOCOL_FEATURES;
	}
	b->protocol_features = features;
	return RESULT_OK;
}

static enum result handle_set_owner(struct backend *b, struct queue *q) {
	b->owner = true;
	return RESULT_OK;
}

static enum result handle_reset_owner(struct backend *b, struct queue *q) {
	/* deprecated; read as "disable all rings" */
	for (uint32_t i = 0; i < b->impl->num_queues; i++) {
		b->queues[i].enabled = false;
	}
	return RESULT_OK;
}

static enum result handle_set_mem_table(struct backend *b, struct queue *unused) {
	const struct tessera_vhost_user_memory *m = &b->msg.payload.memory;
	if (b->msg.hdr.size < TESSERA_VHOST_USER_MEMORY_HEADER_SIZE) {
		tessera_log(TESSERA_ERROR, "vhost-user: malformed SET_MEM_TABLE: %u bytes",
			b->msg.hdr.size);
		return RESULT_FATAL;
	}
	uint32_t n = m->nregions;
	if (n == 0 || n > TESSERA_VHOST_USER_MAX_REGIONS) {
		tessera_log(TESSERA_ERROR, "vhost-user: malformed SET_MEM_TABLE: %u regions",
			n);
		return RESULT_FATAL;
	}
	if (b->msg.hdr.size < TESSERA_VHOST_USER_MEMORY_HEADER_SIZE +
			n * sizeof(struct tessera_vhost_user_memory_region) ||
			b->msg.hdr.size > sizeof(*m)) {
		tessera_log(TESSERA_ERROR, "vhost-user: malformed SET_MEM_TABLE: %u bytes "
			"for %u regions", b->msg.hdr.size, n);
		return RESULT_FATAL;
	}
	if (!expect_fds(b, n)) {
		return RESULT_FATAL;
	}

	struct tessera_memory_region_desc descs[TESSERA_VHOST_USER_MAX_REGIONS];
	for (uint32_t i = 0; i < n; i++) {
		descs[i] = (struct tessera_memory_region_desc){
			.gpa = m->regions[i].guest_addr,
			.size = m->regions[i].size,
			.uva = m->regions[i].user_addr,
			.mmap_offset = m->regions[i].mmap_offset,
			.fd = take_fd(b, i),
		};
	}
	char err[256];
	if (tessera_memory_table_set_table(&b->mem, descs, n, err,
			sizeof(err)) != 0) {
		tessera_log(TESSERA_ERROR, "vhost-user: bad SET_MEM_TABLE: %s", err);
		return RESULT_FATAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct tessera_memory_region *r = &b->mem.regions[i];
		tessera_log(TESSERA_DEBUG, "vhost-user: region %u: guest 0x%llx size 0x%llx "
			"vmm 0x%llx offset 0x%llx%s", i, (unsigned long long)r->gpa,
			(unsigned long long)r->size, (unsigned long long)r->uva,
			(unsigned long long)r->mmap_offset,
			r->seals >= 0 ? " (sealable)" : "");
	}

	/* running rings move to the new mappings */
	for (uint32_t i = 0; i < b->impl->num_queues; i++) {
		struct queue *q = &b->queues[i];
		struct tessera_virtqueue_rings rings;
		if (!q->started) {
			continue;
		}
		if (!queue_translate(q, &rings) ||
				tessera_virtqueue_set_rings(&q->vq, &rings) != 0) {
			tessera_virtqueue_set_broken(&q->vq,
				"rings are outside the new memory table");
			queue_report_broken(q);
		}
	}
	uint64_t generation = b->generation;
	if (b->impl->memory_changed != NULL) {
		b->impl->memory_changed(b->data);
		if (generation != b->generation) {
			return RESULT_OK;
		}
	}
	try_start_all(b);
	return RESULT_OK;
}

static enum result handle_set_vring_num(struct backend *b, struct queue *q) {
	const struct tessera_vhost_user_vring_state *s = &b->msg.payload.state;
	if (s->num == 0 || (s->num & (s->num - 1)) != 0 ||
			s->num > TESSERA_VIRTQUEUE_MAX_SIZE) {
		tessera_log(TESSERA_ERROR, "vhost-user: malformed SET_VRING_NUM: queue %u "
			"size %u", s->index, s->num);
		return RESULT_FATAL;
	}
	if (q->started) {
		tessera_log(TESSERA_ERROR, "vhost-user: SET_VRING_NUM on running queue %u",
			q->index);
		return RESULT_FAIL;
	}
	q->num = s->num;
	try_start_all(b);
	return RESULT_OK;
}

static enum result handle_set_vring_addr(struct backend *b, struct queue *q) {
	const struct tessera_vhost_user_vring_addr *a = &b->msg.payload.addr;
	if (a->flags & TESSERA_VHOST_USER_VRING_F_LOG) {
		tessera_log(TESSERA_ERROR, "vhost-user: queue %u: used ring logging "
			"requested, not supported", q->index);
	}
	q->addr = *a;
	q->addr_set = true;
	if (q->num != 0 && b->mem.nregions > 0) {
		struct tessera_virtqueue_rings rings;
		if (!queue_translate(q, &rings)) {
			tessera_log(TESSERA_ERROR, "vhost-user: SET_VRING_ADDR: queue %u rings "
				"outside guest memory", q->index);
			if (q->started) {
				tessera_virtqueue_set_broken(&q->vq,
					"rings moved outside guest memory");
				queue_report_broken(q);
			}
			return RESULT_FAIL;
		}
		if (q->started &&
				tessera_virtqueue_set_rings(&q->vq, &rings) != 0) {
			tessera_virtqueue_set_broken(&q->vq, "misaligned rings");
			queue_report_broken(q);
			return RESULT_FAIL;
		}
	}
	try_start_all(b);
	return RESULT_OK;
}

static enum result handle_set_vring_base(struct backend *b, struct queue *q) {
	const struct tessera_vhost_user_vring_state *s = &b->msg.payload.state;
	if (s->num > UINT16_MAX) {
		tessera_log(TESSERA_ERROR, "vhost-user: SET_VRING_BASE: queue %u base %u "
			"(packed rings are not supported)", q->index, s->num);
		return RESULT_FAIL;
	}
	if (q->started) {
		tessera_log(TESSERA_ERROR, "vhost-user: SET_VRING_BASE on running queue %u",
			q->index);
		return RESULT_FAIL;
	}
	q->base = (uint16_t)s->num;
	return RESULT_OK;
}

static enum result handle_get_vring_base(struct backend *b, struct queue *q) {
	uint64_t generation = b->generation;
	queue_stop(q);
	if (generation != b->generation) {
		return RESULT_OK;
	}
	tessera_log(TESSERA_DEBUG, "vhost-user: queue %u stopped at %u", q->index,
		q->base);
	struct tessera_vhost_user_vring_state state = {
		.index = q->index,
		.num = q->base,
	};
	return send_reply(b, b->msg.hdr.request, &state, sizeof(state)) ?
		RESULT_REPLIED : RESULT_FATAL;
}

/* SET_VRING_KICK/CALL/ERR: the fd of the message, -1 with NOFD. */
static int vring_fd(struct backend *b) {
	return b->msg.payload.u64 & TESSERA_VHOST_USER_VRING_NOFD ? -1 : take_fd(b, 0);
}

static enum result handle_set_vring_kick(struct backend *b, struct queue *q) {
	int fd = vring_fd(b);
	uint64_t generation = b->generation;
	if (q->kick_source != NULL) {
		wl_event_source_remove(q->kick_source);
		q->kick_source = NULL;
	}
	close_fd(&q->kick_fd);
	q->kick_fd = fd;
	q->kick_set = true;
	if (fd >= 0) {
		q->kick_source = wl_event_loop_add_fd(b->loop, fd, WL_EVENT_READABLE,
			handle_kick, q);
		if (q->kick_source == NULL) {
			tessera_log(TESSERA_ERROR, "vhost-user: cannot watch kick fd of queue %u",
				q->index);
			return RESULT_FAIL;
		}
	}
	if (q->started) {
		queue_process(q);
	} else {
		queue_try_start(q);
	}
	if (generation == b->generation && !q->started) {
		tessera_log(TESSERA_DEBUG, "vhost-user: queue %u kick set, not startable "
			"yet", q->index);
	}
	return RESULT_OK;
}

/*
 * Notification fds are written to, never read: make them non-blocking so
 * that a VMM handing over a pipe or socket it never drains cannot stall
 * vmd (an eventfd never blocks short of counter overflow anyway).
 */
static void set_nonblocking(int fd) {
	if (fd >= 0) {
		int flags = fcntl(fd, F_GETFL);
		if (flags >= 0) {
			fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		}
	}
}

static enum result handle_set_vring_call(struct backend *b, struct queue *q) {
	int fd = vring_fd(b);
	set_nonblocking(fd);
	close_fd(&q->call_fd);
	q->call_fd = fd;
	return RESULT_OK;
}

static enum result handle_set_vring_err(struct backend *b, struct queue *q) {
	int fd = vring_fd(b);
	set_nonblocking(fd);
	close_fd(&q->err_fd);
	q->err_fd = fd;
	return RESULT_OK;
}

static enum result handle_set_vring_enable(struct backend *b, struct queue *q) {
	const struct tessera_vhost_user_vring_state *s = &b->msg.payload.state;
	if (s->num > 1) {
		tessera_log(TESSERA_ERROR, "vhost-user: SET_VRING_ENABLE %u on queue %u",
			s->num, q->index);
		return RESULT_FAIL;
	}
	q->enabled = s->num == 1;
	if (q->enabled) {
		queue_process(q);
	}
	return RESULT_OK;
}

/* GET_CONFIG/SET_CONFIG payload: {offset, size, flags} + size bytes */
static bool config_message(struct backend *b) {
	const struct tessera_vhost_user_config *c = &b->msg.payload.config;
	if (b->msg.hdr.size < TESSERA_VHOST_USER_CONFIG_HEADER_SIZE ||
			c->size > TESSERA_VHOST_USER_MAX_CONFIG_SIZE ||
			b->msg.hdr.size != TESSERA_VHOST_USER_CONFIG_HEADER_SIZE + c->size) {
		tessera_log(TESSERA_ERROR, "vhost-user: malformed %s: %u bytes",
			tessera_vhost_user_request_name(b->msg.hdr.request),
			b->msg.hdr.size);
		return false;
	}
	return expect_fds(b, 0);
}

static bool config_range_ok(struct backend *b,
		const struct tessera_vhost_user_config *c) {
	return c->size > 0 &&
		(uint64_t)c->offset + c->size <= b->impl->config_size;
}

static enum result handle_get_config(struct backend *b, struct queue *q) {
	if (!config_message(b)) {
		return RESULT_FATAL;
	}
	struct tessera_vhost_user_config reply = b->msg.payload.config;
	if (!config_range_ok(b, &reply) || b->impl->get_config == NULL ||
			b->impl->get_config(b->data, reply.offset, reply.payload,
				reply.size) != 0) {
		tessera_log(TESSERA_ERROR, "vhost-user: GET_CONFIG [%u, +%u) refused "
			"(config space of %u bytes)", reply.offset, reply.size,
			b->impl->config_size);
		/* an empty payload tells the frontend it failed */
		return send_reply(b, b->msg.hdr.request, NULL, 0) ?
			RESULT_REPLIED : RESULT_FATAL;
	}
	return send_reply(b, b->msg.hdr.request, &reply,
		TESSERA_VHOST_USER_CONFIG_HEADER_SIZE + reply.size) ?
		RESULT_REPLIED : RESULT_FATAL;
}

static enum result handle_set_config(struct backend *b, struct queue *q) {
	if (!config_message(b)) {
		return RESULT_FATAL;
	}
	const struct tessera_vhost_user_config *c = &b->msg.payload.config;
	if (!config_range_ok(b, c) || b->impl->set_config == NULL ||
			b->impl->set_config(b->data, c->offset, c->payload, c->size,
				c->flags) != 0) {
		tessera_log(TESSERA_ERROR, "vhost-user: SET_CONFIG [%u, +%u) refused",
			c->offset, c->size);
		return RESULT_FAIL;
	}
	return RESULT_OK;
}

static enum result handle_get_queue_num(struct backend *b, struct queue *q) {
	return reply_u64(b, b->impl->num_queues);
}

static enum result handle_get_max_mem_slots(struct backend *b, struct queue *q) {
	return reply_u64(b, TESSERA_VHOST_USER_MAX_REGIONS);
}

static enum result handle_gpu_set_socket(struct backend *b, struct queue *q) {
	close_fd(&b->gpu_socket_fd);
	b->gpu_socket_fd = take_fd(b, 0);
	return RESULT_OK;
}

static enum result handle_set_backend_req_fd(struct backend *b, struct queue *q) {
	return RESULT_OK; /* not offered; accepted, its fd closed */
}

/* What a message must carry before its handler runs. */
#define ANY_SIZE UINT32_MAX /* variable: the handler checks the payload */
enum expected_fds {
	FDS_NONE,
	FDS_ONE,
	FDS_ANY, /* the handler checks them */
	FDS_VRING, /* one, none with TESSERA_VHOST_USER_VRING_NOFD */
};
enum queue_index {
	QUEUE_NONE, /* not about a queue */
	QUEUE_STATE, /* payload.state.index */
	QUEUE_ADDR, /* payload.addr.index */
	QUEUE_VRING_FD, /* payload.u64 & TESSERA_VHOST_USER_VRING_INDEX_MASK */
};

/* The requests handled, with the message each expects. The handler gets
 * the queue the message names (NULL for QUEUE_NONE). */
static const struct request {
	uint32_t request;
	uint32_t size; /* payload bytes */
	enum expected_fds fds;
	enum queue_index queue;
	enum result (*handle)(struct backend *b, struct queue *q);
} requests[] = {
	{ TESSERA_VHOST_USER_GET_FEATURES, ANY_SIZE, FDS_NONE, QUEUE_NONE,
		handle_get_features },
	{ TESSERA_VHOST_USER_SET_FEATURES, 8, FDS_NONE, QUEUE_NONE,
		handle_set_features },
	{ TESSERA_VHOST_USER_GET_PROTOCOL_FEATURES, ANY_SIZE, FDS_NONE, QUEUE_NONE,
		handle_get_protocol_features },
	{ TESSERA_VHOST_USER_SET_PROTOCOL_FEATURES, 8, FDS_NONE, QUEUE_NONE,
		handle_set_protocol_features },
	{ TESSERA_VHOST_USER_SET_OWNER, ANY_SIZE, FDS_NONE, QUEUE_NONE,
		handle_set_owner },
	{ TESSERA_VHOST_USER_RESET_OWNER, ANY_SIZE, FDS_ANY, QUEUE_NONE,
		handle_reset_owner },
	{ TESSERA_VHOST_USER_SET_MEM_TABLE, ANY_SIZE, FDS_ANY, QUEUE_NONE,
		handle_set_mem_table },
	{ TESSERA_VHOST_USER_SET_VRING_NUM, 8, FDS_NONE, QUEUE_STATE,
		handle_set_vring_num },
	{ TESSERA_VHOST_USER_SET_VRING_ADDR, sizeof(struct tessera_vhost_user_vring_addr),
		FDS_NONE, QUEUE_ADDR, handle_set_vring_addr },
	{ TESSERA_VHOST_USER_SET_VRING_BASE, 8, FDS_NONE, QUEUE_STATE,
		handle_set_vring_base },
	{ TESSERA_VHOST_USER_GET_VRING_BASE, 8, FDS_NONE, QUEUE_STATE,
		handle_get_vring_base },
	{ TESSERA_VHOST_USER_SET_VRING_KICK, 8, FDS_VRING, QUEUE_VRING_FD,
		handle_set_vring_kick },
	{ TESSERA_VHOST_USER_SET_VRING_CALL, 8, FDS_VRING, QUEUE_VRING_FD,
		handle_set_vring_call },
	{ TESSERA_VHOST_USER_SET_VRING_ERR, 8, FDS_VRING, QUEUE_VRING_FD,
		handle_set_vring_err },
	{ TESSERA_VHOST_USER_SET_VRING_ENABLE, 8, FDS_NONE, QUEUE_STATE,
		handle_set_vring_enable },
	{ TESSERA_VHOST_USER_GET_QUEUE_NUM, ANY_SIZE, FDS_NONE, QUEUE_NONE,
		handle_get_queue_num },
	{ TESSERA_VHOST_USER_GET_CONFIG, ANY_SIZE, FDS_ANY, QUEUE_NONE,
		handle_get_config },
	{ TESSERA_VHOST_USER_SET_CONFIG, ANY_SIZE, FDS_ANY, QUEUE_NONE,
		handle_set_config },
	{ TESSERA_VHOST_USER_GET_MAX_MEM_SLOTS, ANY_SIZE, FDS_NONE, QUEUE_NONE,
		handle_get_max_mem_slots },
	{ TESSERA_VHOST_USER_GPU_SET_SOCKET, ANY_SIZE, FDS_ONE, QUEUE_NONE,
		handle_gpu_set_socket },
	{ TESSERA_VHOST_USER_SET_BACKEND_REQ_FD, ANY_SIZE, FDS_ONE, QUEUE_NONE,
		handle_set_backend_req_fd },
};

static uint32_t queue_index(const struct backend *b, enum queue_index kind) {
	switch (kind) {
	case QUEUE_STATE:
		return b->msg.payload.state.index;
	case QUEUE_ADDR:
		return b->msg.payload.addr.index;
	case QUEUE_VRING_FD:
		return (uint32_t)(b->msg.payload.u64 & TESSERA_VHOST_USER_VRING_INDEX_MASK);
	case QUEUE_NONE:
		break;
	}
	return 0;
}

/* Checks the message against what req expects (payload size, fds, queue
 * index, in this order; logged) and finds its queue: false if malformed. */
static bool check_message(struct backend *b, const struct request *req,
		struct queue **q) {
	*q = NULL;
	if (req->size != ANY_SIZE && !expect_size(b, req->size)) {
		return false;
	}
	if ((req->fds == FDS_NONE || req->fds == FDS_ONE) &&
			!expect_fds(b, req->fds == FDS_ONE ? 1 : 0)) {
		return false;
	}
	if (req->queue != QUEUE_NONE) {
		*q = get_queue(b, queue_index(b, req->queue));
		if (*q == NULL) {
			return false;
		}
	}
	if (req->fds == FDS_VRING && !expect_fds(b,
			b->msg.payload.u64 & TESSERA_VHOST_USER_VRING_NOFD ? 0 : 1)) {
		return false;
	}
	return true;
}

static enum result handle_message(struct backend *b) {
	uint32_t request = b->msg.hdr.request;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		const struct request *req = &requests[i];
		if (req->request == request) {
			struct queue *q;
			return check_message(b, req, &q) ? req->handle(b, q) : RESULT_FATAL;
		}
	}
	tessera_log(TESSERA_ERROR, "vhost-user: unsupported request %u (%s), %u "
		"payload bytes, %zu fds", request,
		tessera_vhost_user_request_name(request), b->msg.hdr.size, b->nfds);
	return RESULT_FAIL;
}

static void process_message(struct backend *b) {
	uint64_t generation = b->generation;
	uint32_t flags = b->msg.hdr.flags;
	tessera_log(TESSERA_DEBUG, "vhost-user: %s (%u bytes, %zu fds)",
		tessera_vhost_user_request_name(b->msg.hdr.request), b->msg.hdr.size,
		b->nfds);

	enum result result = handle_message(b);
	if (generation != b->generation) {
		return; /* dropped from a device callback */
	}
	close_pending_fds(b); /* fds the handler did not take */
	b->received = 0;
	if (result == RESULT_FATAL) {
		connection_close(b);
		return;
	}
	if (result != RESULT_REPLIED &&
			(flags & TESSERA_VHOST_USER_FLAG_NEED_REPLY)) {
		if (reply_u64(b, result == RESULT_OK ? 0 : 1) == RESULT_FATAL) {
			connection_close(b);
		}
	}
}

/* Receives more of the current message: 1 complete, 0 would block, -1
 * connection to drop. */
static int receive(struct backend *b) {
	for (;;) {
		size_t hdr_size = sizeof(b->msg.hdr);
		void *dst;
		size_t want;
		if (b->received < hdr_size) {
			dst = (uint8_t *)&b->msg.hdr + b->received;
			want = hdr_size - b->received;
		} else {
			size_t got = b->received - hdr_size;
			if (got == b->msg.hdr.size) {
				return 1;
			}
			dst = b->msg.payload.raw + got;
			want = b->msg.hdr.size - got;
		}

		union {
			char buf[CMSG_SPACE(sizeof(int) * TESSERA_VHOST_USER_MAX_FDS)];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = dst, .iov_len = want };
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = control.buf,
			.msg_controllen = sizeof(control.buf),
		};
		ssize_t n = recvmsg(b->conn_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return 0;
			}
			tessera_log_errno(TESSERA_ERROR, "vhost-user: recvmsg");
			return -1;
		}

		bool too_many_fds = false;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL;
				c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
				continue;
			}
			size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			const uint8_t *data = CMSG_DATA(c);
			for (size_t i = 0; i < count; i++) {
				int fd;
				memcpy(&fd, data + i * sizeof(int), sizeof(int));
				if (b->nfds < TESSERA_VHOST_USER_MAX_FDS) {
					b->fds[b->nfds++] = fd;
				} else {
					close(fd);
					too_many_fds = true;
				}
			}
		}
		if (too_many_fds || (msg.msg_flags & MSG_CTRUNC)) {
			tessera_log(TESSERA_ERROR, "vhost-user: more than %d file descriptors "
				"with one message", TESSERA_VHOST_USER_MAX_FDS);
			return -1;
		}
		if (n == 0) {
			if (b->received > 0) {
				tessera_log(TESSERA_ERROR, "vhost-user: connection closed inside a "
					"message");
			}
			return -1;
		}

		bool had_header = b->received >= hdr_size;
		b->received += (size_t)n;
		if (!had_header && b->received == hdr_size) {
			const struct tessera_vhost_user_header *h = &b->msg.hdr;
			if ((h->flags & TESSERA_VHOST_USER_VERSION_MASK) !=
					TESSERA_VHOST_USER_VERSION) {
				tessera_log(TESSERA_ERROR, "vhost-user: %s with protocol version %u",
					tessera_vhost_user_request_name(h->request),
					h->flags & TESSERA_VHOST_USER_VERSION_MASK);
				return -1;
			}
			if (h->size > TESSERA_VHOST_USER_MAX_PAYLOAD) {
				tessera_log(TESSERA_ERROR, "vhost-user: %s with a payload of %u bytes "
					"(limit %d)", tessera_vhost_user_request_name(h->request),
					h->size, TESSERA_VHOST_USER_MAX_PAYLOAD);
				return -1;
			}
			memset(&b->msg.payload, 0, sizeof(b->msg.payload));
		}
	}
}

static int handle_connection(int fd, uint32_t mask, void *data) {
	struct backend *b = data;
	for (int i = 0; i < MAX_MESSAGES_PER_DISPATCH; i++) {
		int r = receive(b);
		if (r < 0) {
			connection_close(b);
			return 0;
		}
		if (r == 0) {
			break;
		}
		process_message(b);
		if (b->conn_fd < 0) {
			return 0;
		}
	}
	if ((mask & WL_EVENT_ERROR) && b->conn_fd >= 0) {
		tessera_log(TESSERA_ERROR, "vhost-user: socket error");
		connection_close(b);
	}
	/* a hang-up is seen as end-of-file by receive() */
	return 0;
}

static bool connection_open(struct backend *b, int fd) {
	b->conn_source = wl_event_loop_add_fd(b->loop, fd, WL_EVENT_READABLE,
		handle_connection, b);
	if (b->conn_source == NULL) {
		tessera_log(TESSERA_ERROR, "vhost-user: cannot watch the connection");
		return false;
	}
	b->conn_fd = fd;
	b->received = 0;
	b->nfds = 0;
	tessera_log(TESSERA_INFO, "vhost-user: frontend connected");
	wl_signal_emit(&b->base.events.connect, NULL);
	return true;
}

static int handle_listen(int fd, uint32_t mask, void *data) {
	struct backend *b = data;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
			tessera_log_errno(TESSERA_ERROR, "vhost-user: accept");
		}
		return 0;
	}
	if (b->conn_fd >= 0) {
		/* one frontend at a time */
		close(conn);
		return 0;
	}
	if (!connection_open(b, conn)) {
		close(conn);
		return 0;
	}
	wl_event_source_fd_update(b->listen_source, 0);
	return 0;
}

/* ---- public API ---- */

struct tessera_vhost_user_backend *tessera_vhost_user_backend_create(
		struct wl_event_loop *loop,
		const struct tessera_vhost_user_device_impl *impl, void *data) {
	if (impl->num_queues == 0 ||
			impl->num_queues > TESSERA_VHOST_USER_MAX_QUEUES ||
			impl->config_size > TESSERA_VHOST_USER_MAX_CONFIG_SIZE) {
		tessera_log(TESSERA_ERROR, "vhost-user: invalid device description");
		return NULL;
	}
	struct backend *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		return NULL;
	}
	b->loop = loop;
	b->impl = impl;
	b->data = data;
	b->listen_fd = -1;
	b->conn_fd = -1;
	b->gpu_socket_fd = -1;
	for (size_t i = 0; i < TESSERA_VHOST_USER_MAX_FDS; i++) {
		b->fds[i] = -1;
	}
	tessera_memory_table_init(&b->mem);
	for (uint32_t i = 0; i < TESSERA_VHOST_USER_MAX_QUEUES; i++) {
		queue_init(b, &b->queues[i], i);
	}
	wl_signal_init(&b->base.events.connect);
	wl_signal_init(&b->base.events.disconnect);
	wl_signal_init(&b->base.events.destroy);
	return &b->base;
}

void tessera_vhost_user_backend_destroy(
		struct tessera_vhost_user_backend *backend) {
	if (backend == NULL) {
		return;
	}
	struct backend *b = backend_from_base(backend);
	wl_signal_emit(&b->base.events.destroy, NULL);
	connection_close(b);
	if (b->listen_source != NULL) {
		wl_event_source_remove(b->listen_source);
	}
	close_fd(&b->listen_fd);
	if (b->socket_path != NULL) {
		unlink(b->socket_path);
		free(b->socket_path);
	}
	tessera_memory_table_finish(&b->mem);
	free(b);
}

int tessera_vhost_user_backend_listen(struct tessera_vhost_user_backend *backend,
		const char *path) {
	struct backend *b = backend_from_base(backend);
	if (b->listen_fd >= 0) {
		tessera_log(TESSERA_ERROR, "vhost-user: already listening");
		return -1;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		tessera_log(TESSERA_ERROR, "vhost-user: socket path too long: %s", path);
		return -1;
	}
	strcpy(addr.sun_path, path);

	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			tessera_log(TESSERA_ERROR, "vhost-user: %s exists and is not a socket",
				path);
			return -1;
		}
		unlink(path); /* stale socket of an earlier run */
	}

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		tessera_log_errno(TESSERA_ERROR, "vhost-user: socket");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		tessera_log_errno(TESSERA_ERROR, "vhost-user: cannot bind %s", addr.sun_path);
		close(fd);
		return -1;
	}
	if (chmod(path, 0600) != 0 || listen(fd, 1) != 0) {
		tessera_log_errno(TESSERA_ERROR, "vhost-user: cannot listen on %s", addr.sun_path);
		unlink(path);
		close(fd);
		return -1;
	}
	b->listen_source = wl_event_loop_add_fd(b->loop, fd,
		b->conn_fd >= 0 ? 0 : WL_EVENT_READABLE, handle_listen, b);
	b->socket_path = strdup(path);
	if (b->listen_source == NULL || b->socket_path == NULL) {
		tessera_log(TESSERA_ERROR, "vhost-user: cannot watch %s", path);
		if (b->listen_source != NULL) {
			wl_event_source_remove(b->listen_source);
			b->listen_source = NULL;
		}
		free(b->socket_path);
		b->socket_path = NULL;
		unlink(path);
		close(fd);
		return -1;
	}
	b->listen_fd = fd;
	tessera_log(TESSERA_INFO, "vhost-user: listening on %s", path);
	return 0;
}

int tessera_vhost_user_backend_adopt(struct tessera_vhost_user_backend *backend,
		int fd) {
	struct backend *b = backend_from_base(backend);
	if (b->conn_fd >= 0) {
		tessera_log(TESSERA_ERROR, "vhost-user: a frontend is already connected");
		close(fd);
		return -1;
	}
	if (!connection_open(b, fd)) {
		close(fd);
		return -1;
	}
	if (b->listen_source != NULL) {
		wl_event_source_fd_update(b->listen_source, 0);
	}
	return 0;
}

void tessera_vhost_user_backend_disconnect(
		struct tessera_vhost_user_backend *backend) {
	connection_close(backend_from_base(backend));
}

bool tessera_vhost_user_backend_connected(
		const struct tessera_vhost_user_backend *backend) {
	return backend_from_base(backend)->conn_fd >= 0;
}

uint64_t tessera_vhost_user_backend_features(
		const struct tessera_vhost_user_backend *backend) {
	return backend_from_base(backend)->features;
}

struct tessera_memory_table *tessera_vhost_user_backend_memory(
		struct tessera_vhost_user_backend *backend) {
	return &backend_from_base(backend)->mem;
}

struct tessera_virtqueue *tessera_vhost_user_backend_queue(
		struct tessera_vhost_user_backend *backend, uint32_t index) {
	struct backend *b = backend_from_base(backend);
	if (index >= b->impl->num_queues || !b->queues[index].started) {
		return NULL;
	}
	return &b->queues[index].vq;
}

void tessera_vhost_user_backend_queue_notify(
		struct tessera_vhost_user_backend *backend, uint32_t index) {
	struct backend *b = backend_from_base(backend);
	if (index >= b->impl->num_queues) {
		return;
	}
	struct queue *q = &b->queues[index];
	if (!q->started) {
		return;
	}
	queue_report_broken(q);
	if (!tessera_virtqueue_should_notify(&q->vq) || q->call_fd < 0) {
		return;
	}
	uint64_t one = 1;
	if (write(q->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		tessera_log_errno(TESSERA_ERROR, "vhost-user: queue %u: signalling call fd",
			index);
	}
}

int tessera_vhost_user_backend_queue_complete(
		struct tessera_vhost_user_backend *backend, uint32_t index,
		uint16_t head, uint32_t len) {
	struct tessera_virtqueue *vq =
		tessera_vhost_user_backend_queue(backend, index);
	if (vq == NULL || tessera_virtqueue_push(vq, head, len) != 0) {
		return -1;
	}
	tessera_vhost_user_backend_queue_notify(backend, index);
	return 0;
}

int tessera_vhost_user_backend_gpu_socket(
		const struct tessera_vhost_user_backend *backend) {
	return backend_from_base(backend)->gpu_socket_fd;
}
