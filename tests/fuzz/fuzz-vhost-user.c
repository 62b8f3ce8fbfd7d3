/*
 * libFuzzer target for the vhost-user backend (server/vmd/vhost-user.c):
 * a malicious frontend (VMM) talks to a tessera_vhost_user_backend over a
 * socketpair, with file descriptors attached where the input says so, and
 * plays guest driver too: it writes guest RAM (a memfd it can hand over
 * with SET_MEM_TABLE) and kicks eventfds it handed over with
 * SET_VRING_KICK. The backend's wl_event_loop is dispatched (in this
 * thread) until it has read everything sent. Behind the backend sits a
 * small device with two queues that echoes, holds, releases and
 * disconnects, as commanded by the first readable byte of each chain; a
 * byte of its config space (SET_CONFIG) makes one of its other callbacks
 * drop the connection.
 *
 * The message handlers are static and driven by the socket, so the target
 * goes through the real receive path; it runs at a few thousand inputs per
 * second, which is plenty for messages of at most 1 KiB.
 *
 * Input: a script of operations, each an opcode byte plus arguments
 * (integers little-endian):
 *   0x00-0x7f  SEND: u16 len, len bytes sent raw on the socket (any
 *              framing); fds attached: type op & 7, count (op >> 3) & 15
 *   0x80-0x8f  KICK: signal eventfd (op & 3) of the pool
 *   0x90-0x9f  POKE: u16 offset, u16 len, len bytes written to guest RAM
 *   0xa0-0xaf  RECONNECT: after the backend dropped the connection, a new
 *              one
 *   0xb0-0xbf  HANGUP: shut our side of the socket down for writing
 *   0xc0-0xff  MSG: one framed message: u8 request, u8 flags (version 1 is
 *              or-ed in), u16 size, then up to size payload bytes; fds
 *              attached: type op & 7, count (op >> 3) & 7
 * fd types: 0 guest RAM (a 64 KiB memfd), 1 the next eventfd of a pool of
 * four, 2 a socket, 3 a pipe's read end, 4 /dev/null, 5 a 4 KiB memfd,
 * 6 a write-sealed memfd, 7 a 256 MiB sparse memfd.
 *
 * Checked besides the sanitizers (a violation traps): the backend answers
 * every complete message that wants an answer (GET_* requests and
 * NEED_REPLY), in order, or drops the connection, and its replies are well
 * formed; it reads everything it is sent while connected (no stall); the
 * device only sees queue indices, config ranges and feature bits the
 * backend promised, and popped segments inside the mapped guest memory;
 * a new connection starts from a clean state; after the backend is
 * destroyed no fd and no guest mapping is left.
 *
 * Built with clang -fsanitize=fuzzer by run-fuzz.sh, and with the project
 * compiler together with fuzz-main.c to replay the committed corpus.
 * FUZZ_VHOST_USER_LOG=1 shows the backend's log.
 */
#define _GNU_SOURCE /* memfd_create, F_ADD_SEALS */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "fuzz-target.h"
#include "log.h"
#include "memory-table.h"
#include "vhost-user-proto.h"
#include "vhost-user.h"
#include "virtqueue.h"

#define BIT(n) (UINT64_C(1) << (n))

#define RAM_SIZE 0x10000
#define NUM_QUEUES 2
#define CONFIG_SIZE 24
/* config space: bytes 0-7 read-only, 8-23 writable; byte 16 (DROP_IN)
 * makes a callback drop the connection */
#define DROP_IN 16
enum drop_in {
	DROP_NEVER,
	DROP_IN_GET_FEATURES,
	DROP_IN_SET_FEATURES,
	DROP_IN_GET_CONFIG,
	DROP_IN_SET_CONFIG,
	DROP_IN_QUEUE_STOP,
	DROP_IN_MEMORY_CHANGED,
};
#define MAX_HELD 64
#define MAX_POPS_PER_KICK 256
#define EVENT_POOL 4
#define MAX_EXPECTED 4096
/* what the backend offers besides the device's bits (vhost-user.h) */
#define BACKEND_FEATURES (BIT(VIRTIO_F_VERSION_1) | \
	BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_RING_F_EVENT_IDX) | \
	BIT(TESSERA_VHOST_USER_F_PROTOCOL_FEATURES))
#define DEVICE_FEATURES (BIT(0) | BIT(40) | BIT(63)) /* 40: transport */
#define TRANSPORT_BITS (((UINT64_C(1) << 50) - 1) & ~((UINT64_C(1) << 24) - 1))

enum fd_type {
	FD_RAM,
	FD_EVENT,
	FD_SOCKET,
	FD_PIPE,
	FD_DEV_NULL,
	FD_SMALL_MEMFD,
	FD_SEALED_MEMFD,
	FD_HUGE_MEMFD,
	FD_TYPES,
};

/* The frontend's mirror of one connection: which replies it is owed. */
struct conn {
	int fd; /* our end, -1 when gone */
	/* parser of what was sent */
	uint8_t hdr[TESSERA_VHOST_USER_HEADER_SIZE];
	size_t hdr_got;
	uint32_t payload_left;
	bool bad; /* a header the backend must drop the connection for */
	uint32_t expected[MAX_EXPECTED]; /* requests owed a reply */
	size_t nexpected;
	/* parser of the replies */
	size_t replies;
	uint8_t reply[TESSERA_VHOST_USER_HEADER_SIZE +
		TESSERA_VHOST_USER_MAX_PAYLOAD];
	size_t reply_got;
};

struct fuzz {
	struct wl_event_loop *loop;
	struct tessera_vhost_user_backend *backend;
	struct conn conn;

	int fds[FD_TYPES]; /* one of each type, made on first use */
	int events[EVENT_POOL];
	size_t next_event;
	int socket_peer, pipe_write;

	/* device */
	uint8_t config[CONFIG_SIZE];
	struct tessera_virtqueue_element elem;
	uint16_t held[NUM_QUEUES][MAX_HELD];
	size_t nheld[NUM_QUEUES];
	uint8_t io[4096];
};

static struct fuzz *f;

/* ---- the device ---- */

static bool segment_mapped(const struct iovec *iov) {
	const struct tessera_memory_table *mem =
		tessera_vhost_user_backend_memory(f->backend);
	uintptr_t a = (uintptr_t)iov->iov_base;
	for (size_t i = 0; i < mem->nregions; i++) {
		uintptr_t host = (uintptr_t)mem->regions[i].host;
		uint64_t size = mem->regions[i].size;
		if (a >= host && a - host < size && iov->iov_len <= size - (a - host)) {
			return true;
		}
	}
	return false;
}

/* Callbacks may drop the connection (vhost-user.h): the one named by
 * config byte DROP_IN does, once. (Inside the backend's own teardown,
 * e.g. queue_stop() while it disconnects, this does nothing.) */
static void maybe_drop(enum drop_in where) {
	if (f->config[DROP_IN] == where) {
		f->config[DROP_IN] = DROP_NEVER;
		tessera_vhost_user_backend_disconnect(f->backend);
	}
}

static uint64_t device_get_features(void *data) {
	maybe_drop(DROP_IN_GET_FEATURES);
	return DEVICE_FEATURES;
}

static void device_set_features(void *data, uint64_t features) {
	uint64_t offered = (DEVICE_FEATURES & ~TRANSPORT_BITS) | BACKEND_FEATURES;
	CHECK((features & ~offered) == 0);
	CHECK(tessera_vhost_user_backend_features(f->backend) == features);
	maybe_drop(DROP_IN_SET_FEATURES);
}

static int device_get_config(void *data, uint32_t offset, void *buf,
		uint32_t size) {
	CHECK(size > 0 && offset < CONFIG_SIZE && size <= CONFIG_SIZE - offset);
	memcpy(buf, f->config + offset, size);
	maybe_drop(DROP_IN_GET_CONFIG);
	return 0;
}

static int device_set_config(void *data, uint32_t offset, const void *buf,
		uint32_t size, uint32_t flags) {
	CHECK(size > 0 && offset < CONFIG_SIZE && size <= CONFIG_SIZE - offset);
	if (offset < 8) {
		return -1; /* read-only part */
	}
	memcpy(f->config + offset, buf, size);
	maybe_drop(DROP_IN_SET_CONFIG);
	return 0;
}

static void release_held(void) {
	for (uint32_t q = 0; q < NUM_QUEUES; q++) {
		for (size_t i = 0; i < f->nheld[q]; i++) {
			tessera_vhost_user_backend_queue_complete(f->backend, q,
				f->held[q][i], 0);
		}
		f->nheld[q] = 0;
	}
}

/*
 * The first readable byte of a chain says what to do with it: 'D' drop
 * the connection, 'H' hold it, 'R' complete it and release every held
 * one, 'B' complete it and try a bogus head; anything else: echo (fill the
 * writable part, complete with its length).
 */
static void device_queue_kick(void *data, uint32_t index,
		struct tessera_virtqueue *vq) {
	CHECK(index < NUM_QUEUES);
	CHECK(vq != NULL && vq == tessera_vhost_user_backend_queue(f->backend,
		index));
	CHECK(!tessera_virtqueue_is_broken(vq));
	CHECK(vq->mem == tessera_vhost_user_backend_memory(f->backend));
	struct tessera_virtqueue_element *elem = &f->elem;
	for (int n = 0; n < MAX_POPS_PER_KICK; n++) {
		int r = tessera_virtqueue_pop(vq, elem);
		CHECK((r < 0) == tessera_virtqueue_is_broken(vq));
		if (r != 1) {
			break;
		}
		CHECK(elem->head < vq->size);
		CHECK(elem->out_num + elem->in_num <= TESSERA_VIRTQUEUE_MAX_SEGMENTS);
		for (uint32_t i = 0; i < elem->out_num + elem->in_num; i++) {
			CHECK(elem->iov[i].iov_len > 0 && segment_mapped(&elem->iov[i]));
		}

		uint8_t cmd = 0;
		tessera_virtqueue_element_read(elem, 0, &cmd, 1);
		if (cmd == 'D') {
			tessera_vhost_user_backend_disconnect(f->backend);
			CHECK(!tessera_vhost_user_backend_connected(f->backend));
			return; /* vq is gone */
		}
		if (cmd == 'H' && f->nheld[index] < MAX_HELD) {
			f->held[index][f->nheld[index]++] = elem->head;
			continue;
		}
		size_t len = elem->in_len < sizeof(f->io) ?
			(size_t)elem->in_len : sizeof(f->io);
		memset(f->io, 0xa5, len);
		CHECK(tessera_virtqueue_element_write(elem, 0, f->io, len) == len);
		CHECK(tessera_virtqueue_push(vq, elem->head,
			(uint32_t)elem->in_len) == 0);
		if (cmd == 'R') {
			release_held();
		} else if (cmd == 'B') {
			CHECK(tessera_vhost_user_backend_queue_complete(f->backend, index,
				0xffff, 0) == -1);
		}
	}
	tessera_vhost_user_backend_queue_notify(f->backend, index);
}

static void device_queue_stop(void *data, uint32_t index) {
	CHECK(index < NUM_QUEUES);
	f->nheld[index] = 0;
	maybe_drop(DROP_IN_QUEUE_STOP);
}

static void device_memory_changed(void *data) {
	maybe_drop(DROP_IN_MEMORY_CHANGED);
}

static void device_reset(void *data) {
	for (uint32_t q = 0; q < NUM_QUEUES; q++) {
		f->nheld[q] = 0;
	}
	memset(f->config, 0, sizeof(f->config));
}

static const struct tessera_vhost_user_device_impl device_impl = {
	.num_queues = NUM_QUEUES,
	.config_size = CONFIG_SIZE,
	.get_features = device_get_features,
	.set_features = device_set_features,
	.get_config = device_get_config,
	.set_config = device_set_config,
	.queue_kick = device_queue_kick,
	.queue_stop = device_queue_stop,
	.memory_changed = device_memory_changed,
	.reset = device_reset,
};

/* ---- file descriptors to send ---- */

static int make_memfd(off_t size) {
	int fd = memfd_create("fuzz-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, size) == 0);
	return fd;
}

static int get_fd(enum fd_type type) {
	if (type == FD_EVENT) {
		return f->events[f->next_event++ % EVENT_POOL];
	}
	if (f->fds[type] >= 0) {
		return f->fds[type];
	}
	int fd = -1;
	int pair[2];
	switch (type) {
	case FD_RAM:
		fd = make_memfd(RAM_SIZE);
		break;
	case FD_SOCKET:
		/* non-blocking: a blocking call fd could stall the backend */
		CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			0, pair) == 0);
		fd = pair[0];
		f->socket_peer = pair[1];
		break;
	case FD_PIPE:
		CHECK(pipe2(pair, O_CLOEXEC | O_NONBLOCK) == 0);
		fd = pair[0];
		f->pipe_write = pair[1];
		break;
	case FD_DEV_NULL:
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		break;
	case FD_SMALL_MEMFD:
		fd = make_memfd(4096);
		break;
	case FD_SEALED_MEMFD:
		fd = make_memfd(RAM_SIZE);
		CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK |
			F_SEAL_GROW) == 0);
		break;
	case FD_HUGE_MEMFD:
		fd = make_memfd((off_t)256 << 20);
		break;
	case FD_EVENT:
	case FD_TYPES:
		break;
	}
	CHECK(fd >= 0);
	f->fds[type] = fd;
	return fd;
}

/* ---- the connection ---- */

static bool wants_reply(uint32_t request, uint32_t flags) {
	switch (request) {
	case TESSERA_VHOST_USER_GET_FEATURES:
	case TESSERA_VHOST_USER_GET_VRING_BASE:
	case TESSERA_VHOST_USER_GET_PROTOCOL_FEATURES:
	case TESSERA_VHOST_USER_GET_QUEUE_NUM:
	case TESSERA_VHOST_USER_GET_CONFIG:
	case TESSERA_VHOST_USER_GET_MAX_MEM_SLOTS:
		return true;
	default:
		return flags & TESSERA_VHOST_USER_FLAG_NEED_REPLY;
	}
}

/* Follows the message framing of what the backend was sent. */
static void mirror_sent(const uint8_t *p, size_t n) {
	struct conn *c = &f->conn;
	while (n > 0 && !c->bad) {
		if (c->hdr_got < sizeof(c->hdr)) {
			size_t k = sizeof(c->hdr) - c->hdr_got < n ?
				sizeof(c->hdr) - c->hdr_got : n;
			memcpy(c->hdr + c->hdr_got, p, k);
			c->hdr_got += k;
			p += k;
			n -= k;
			if (c->hdr_got < sizeof(c->hdr)) {
				return;
			}
			struct tessera_vhost_user_header h;
			memcpy(&h, c->hdr, sizeof(h));
			if ((h.flags & TESSERA_VHOST_USER_VERSION_MASK) !=
					TESSERA_VHOST_USER_VERSION ||
					h.size > TESSERA_VHOST_USER_MAX_PAYLOAD) {
				c->bad = true;
				return;
			}
			c->payload_left = h.size;
		} else {
			size_t k = c->payload_left < n ? c->payload_left : n;
			c->payload_left -= (uint32_t)k;
			p += k;
			n -= k;
		}
		if (c->payload_left == 0) {
			struct tessera_vhost_user_header h;
			memcpy(&h, c->hdr, sizeof(h));
			if (wants_reply(h.request, h.flags)) {
				CHECK(c->nexpected < MAX_EXPECTED);
				c->expected[c->nexpected++] = h.request;
			}
			c->hdr_got = 0;
		}
	}
}

static void check_reply(const struct tessera_vhost_user_header *h,
		const uint8_t *payload) {
	struct conn *c = &f->conn;
	CHECK(c->replies < c->nexpected);
	CHECK(h->request == c->expected[c->replies++]);
	CHECK(h->flags == (TESSERA_VHOST_USER_VERSION |
		TESSERA_VHOST_USER_FLAG_REPLY));
	uint64_t v = 0;
	switch (h->request) {
	case TESSERA_VHOST_USER_GET_CONFIG:
		if (h->size > 0) {
			uint32_t size;
			CHECK(h->size >= TESSERA_VHOST_USER_CONFIG_HEADER_SIZE);
			memcpy(&size, payload + 4, 4);
			CHECK(size > 0 && size <= CONFIG_SIZE &&
				h->size == TESSERA_VHOST_USER_CONFIG_HEADER_SIZE + size);
		}
		break;
	case TESSERA_VHOST_USER_GET_VRING_BASE: {
		struct tessera_vhost_user_vring_state s;
		CHECK(h->size == sizeof(s));
		memcpy(&s, payload, sizeof(s));
		CHECK(s.index < NUM_QUEUES && s.num <= UINT16_MAX);
		break;
	}
	default:
		CHECK(h->size == 8);
		memcpy(&v, payload, 8);
		break;
	}
	if (h->request == TESSERA_VHOST_USER_GET_FEATURES) {
		CHECK(v == ((DEVICE_FEATURES & ~TRANSPORT_BITS) | BACKEND_FEATURES));
	} else if (h->request == TESSERA_VHOST_USER_GET_QUEUE_NUM) {
		CHECK(v == NUM_QUEUES);
	}
}

/* Reads the replies available; false at end-of-file. */
static bool read_replies(void) {
	struct conn *c = &f->conn;
	for (;;) {
		size_t want;
		if (c->reply_got < TESSERA_VHOST_USER_HEADER_SIZE) {
			want = TESSERA_VHOST_USER_HEADER_SIZE - c->reply_got;
		} else {
			struct tessera_vhost_user_header h;
			memcpy(&h, c->reply, sizeof(h));
			CHECK(h.size <= TESSERA_VHOST_USER_MAX_PAYLOAD);
			want = sizeof(h) + h.size - c->reply_got;
			if (want == 0) {
				check_reply(&h, c->reply + sizeof(h));
				c->reply_got = 0;
				continue;
			}
		}
		ssize_t n = recv(c->fd, c->reply + c->reply_got, want, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return true;
		}
		if (n <= 0) {
			CHECK(n == 0 || errno == ECONNRESET);
			CHECK(c->reply_got == 0); /* no reply cut short */
			return false;
		}
		c->reply_got += (size_t)n;
	}
}

/*
 * Lets the backend run until it has read everything sent. While it stays
 * connected it must have answered every complete message owed a reply; once
 * it dropped the connection, what it answered before must be a prefix.
 */
static void settle(void) {
	struct conn *c = &f->conn;
	for (int i = 0; c->fd >= 0; i++) {
		CHECK(i < 100000); /* the backend stalls */
		FUZZ_DISPATCH(f->loop, 0);
		bool open = read_replies();
		if (!tessera_vhost_user_backend_connected(f->backend)) {
			/* the rest of its replies, then end-of-file */
			while (read_replies()) {
				CHECK(i++ < 100000);
			}
			close(c->fd);
			c->fd = -1;
			return;
		}
		CHECK(open);
		int queued = 0;
		CHECK(ioctl(c->fd, SIOCOUTQ, &queued) == 0);
		if (queued == 0) {
			break;
		}
	}
	if (c->fd >= 0) {
		CHECK(!c->bad);
		CHECK(c->replies == c->nexpected);
	}
}

static void conn_open(void) {
	struct conn *c = &f->conn;
	memset(c, 0, sizeof(*c));
	int pair[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
	CHECK(fcntl(pair[1], F_SETFL, O_NONBLOCK) == 0);
	CHECK(tessera_vhost_user_backend_adopt(f->backend, pair[0]) == 0);
	CHECK(tessera_vhost_user_backend_connected(f->backend));
	/* nothing is left of an earlier connection */
	CHECK(tessera_vhost_user_backend_features(f->backend) == 0);
	CHECK(tessera_vhost_user_backend_memory(f->backend)->nregions == 0);
	CHECK(tessera_vhost_user_backend_gpu_socket(f->backend) < 0);
	for (uint32_t i = 0; i < NUM_QUEUES; i++) {
		CHECK(tessera_vhost_user_backend_queue(f->backend, i) == NULL);
	}
	c->fd = pair[1];
}

/* Sends bytes with fds attached to the first part; stops if dropped. */
static void send_bytes(const uint8_t *p, size_t len, enum fd_type type,
		size_t nfds) {
	struct conn *c = &f->conn;
	if (c->fd < 0) {
		return;
	}
	int fds[16];
	for (size_t i = 0; i < nfds; i++) {
		fds[i] = get_fd(type);
	}
	size_t sent = 0;
	do {
		struct iovec iov = { .iov_base = (void *)(p + sent),
			.iov_len = len - sent };
		ssize_t n = fuzz_sendmsg(c->fd, &iov, 1, fds, nfds,
			MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			settle(); /* let the backend read */
			if (c->fd < 0) {
				return;
			}
			continue;
		}
		if (n < 0) {
			CHECK(errno == EPIPE || errno == ECONNRESET);
			return; /* the backend dropped us; settle() sees it */
		}
		mirror_sent(p + sent, (size_t)n);
		sent += (size_t)n;
		nfds = 0; /* the fds went with the first bytes */
	} while (sent < len);
}

/* ---- operations ---- */

static void op_send(struct fuzz_input *in, uint8_t op) {
	uint16_t len = fuzz_get16(in);
	size_t n;
	const uint8_t *p = fuzz_get_bytes(in, len, &n);
	send_bytes(p, n, (enum fd_type)(op & 7), (op >> 3) & 15);
}

static void op_msg(struct fuzz_input *in, uint8_t op) {
	static uint8_t buf[TESSERA_VHOST_USER_HEADER_SIZE + UINT16_MAX];
	struct tessera_vhost_user_header h = {
		.request = fuzz_get8(in),
		.flags = TESSERA_VHOST_USER_VERSION | (fuzz_get8(in) & ~3u),
	};
	h.size = fuzz_get16(in);
	size_t n;
	const uint8_t *p = fuzz_get_bytes(in, h.size, &n);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), p, n);
	send_bytes(buf, sizeof(h) + n, (enum fd_type)(op & 7), (op >> 3) & 7);
}

static void op_poke(struct fuzz_input *in) {
	uint16_t offset = fuzz_get16(in);
	uint16_t len = fuzz_get16(in);
	size_t n;
	const uint8_t *p = fuzz_get_bytes(in, len, &n);
	if (n > (size_t)RAM_SIZE - offset) {
		n = (size_t)RAM_SIZE - offset;
	}
	CHECK(pwrite(get_fd(FD_RAM), p, n, offset) == (ssize_t)n);
}

static void op_kick(uint8_t op) {
	uint64_t one = 1;
	CHECK(write(f->events[op % EVENT_POOL], &one, sizeof(one)) == sizeof(one));
}

static void close_fd(int *fd) {
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (f == NULL) {
		f = calloc(1, sizeof(*f));
		CHECK(f != NULL);
		const char *log = getenv("FUZZ_VHOST_USER_LOG");
		tessera_log_init(log != NULL && log[0] == '1' ? TESSERA_DEBUG : TESSERA_SILENT,
			NULL);
		signal(SIGPIPE, SIG_IGN); /* as tessera-vmd does */
	}
	int fds_before = fuzz_count_fds();

	memset(f->config, 0, sizeof(f->config));
	memset(f->nheld, 0, sizeof(f->nheld));
	for (size_t i = 0; i < FD_TYPES; i++) {
		f->fds[i] = -1;
	}
	for (size_t i = 0; i < EVENT_POOL; i++) {
		f->events[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		CHECK(f->events[i] >= 0);
	}
	f->next_event = 0;
	f->socket_peer = f->pipe_write = -1;
	f->loop = wl_event_loop_create();
	CHECK(f->loop != NULL);
	f->backend = tessera_vhost_user_backend_create(f->loop, &device_impl, NULL);
	CHECK(f->backend != NULL);
	conn_open();

	struct fuzz_input in = { .data = data, .size = size };
	while (in.pos < in.size) {
		uint8_t op = fuzz_get8(&in);
		if (op < 0x80) {
			op_send(&in, op);
		} else if (op < 0x90) {
			op_kick(op);
		} else if (op < 0xa0) {
			op_poke(&in);
		} else if (op < 0xb0) {
			if (f->conn.fd < 0) {
				conn_open();
			}
		} else if (op < 0xc0) {
			if (f->conn.fd >= 0) {
				shutdown(f->conn.fd, SHUT_WR);
			}
		} else {
			op_msg(&in, op);
		}
		settle();
	}

	tessera_vhost_user_backend_destroy(f->backend);
	wl_event_loop_destroy(f->loop);
	close_fd(&f->conn.fd);
	for (size_t i = 0; i < FD_TYPES; i++) {
		close_fd(&f->fds[i]);
	}
	for (size_t i = 0; i < EVENT_POOL; i++) {
		close_fd(&f->events[i]);
	}
	close_fd(&f->socket_peer);
	close_fd(&f->pipe_write);

	/* the backend kept no fd and no mapping */
	CHECK(fuzz_count_fds() == fds_before);
	struct tessera_memory_table_stats stats;
	tessera_memory_table_get_stats(&stats);
	CHECK(stats.regions == 0 && stats.bytes == 0);
	return 0;
}
