/*
 * vhost-user frontend (VMM side). No C library for vhost-user is packaged
 * in Debian, so this is tessera's own, written from the public
 * specification (QEMU docs/interop/vhost-user.rst); see
 * vhost-user-frontend.h.
 */
#define _GNU_SOURCE /* memfd_create, F_ADD_SEALS */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "vhost-user-frontend.h"
#include "vhost-user-proto.h"
#include "virtqueue.h"

#define BIT(n) (UINT64_C(1) << (n))
#define DEFAULT_RAM_SIZE (UINT64_C(16) << 20)
#define DEFAULT_QUEUE_SIZE 256
#define DEFAULT_TIMEOUT_MS 5000
#define MAX_INDIRECT 16

struct fe_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t file_offset;
	uint8_t *host;
};

/* free or allocated range of guest memory, inside one region */
struct fe_range {
	uint64_t start, end;
	uint32_t region;
};

struct fe_queue {
	bool active;
	struct tessera_virtqueue_driver drv;
	uint64_t area_gpa;
	int kick_fd;
	int call_fd;
};

struct tessera_vhost_user_frontend {
	int sock;
	int timeout_ms;
	char error[256];

	int memfd;
	uint8_t *ram;
	uint64_t ram_size;
	struct fe_region regions[2];
	uint32_t nregions;

	struct fe_range *free_ranges;
	size_t nfree, free_cap;
	struct fe_range *allocs;
	size_t nallocs, allocs_cap;

	uint64_t features;
	uint64_t protocol_features;
	uint32_t num_queues;
	uint32_t queue_size;
	struct fe_queue queues[TESSERA_VHOST_USER_FRONTEND_MAX_QUEUES];
};

static int fail(struct tessera_vhost_user_frontend *fe, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct tessera_vhost_user_frontend *fe, const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	vsnprintf(fe->error, sizeof(fe->error), fmt, args);
	va_end(args);
	return -1;
}

const char *tessera_vhost_user_frontend_error(
		const struct tessera_vhost_user_frontend *fe) {
	return fe->error;
}

uint64_t tessera_vhost_user_frontend_features(
		const struct tessera_vhost_user_frontend *fe) {
	return fe->features;
}

uint64_t tessera_vhost_user_frontend_protocol_features(
		const struct tessera_vhost_user_frontend *fe) {
	return fe->protocol_features;
}

/* ---- messages ---- */

int tessera_vhost_user_frontend_send(struct tessera_vhost_user_frontend *fe,
		uint32_t request, uint32_t flags, const void *payload, uint32_t size,
		const int *fds, size_t nfds) {
	struct tessera_vhost_user_header hdr = {
		.request = request,
		.flags = flags,
		.size = size,
	};
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = size },
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * TESSERA_VHOST_USER_MAX_FDS * 2)];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_iov = iov,
		.msg_iovlen = size > 0 ? 2 : 1,
	};
	if (nfds > TESSERA_VHOST_USER_MAX_FDS * 2) {
		return fail(fe, "too many fds");
	}
	if (nfds > 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	size_t total = sizeof(hdr) + size;
	ssize_t n;
	do {
		n = sendmsg(fe->sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return fail(fe, "sending %s: %s",
			tessera_vhost_user_request_name(request), strerror(errno));
	}
	/* the rest of a partially sent message, without fds */
	size_t sent = (size_t)n;
	while (sent < total) {
		const uint8_t *src;
		size_t len;
		if (sent < sizeof(hdr)) {
			src = (const uint8_t *)&hdr + sent;
			len = sizeof(hdr) - sent;
		} else {
			src = (const uint8_t *)payload + (sent - sizeof(hdr));
			len = total - sent;
		}
		n = send(fe->sock, src, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return fail(fe, "sending %s: %s",
				tessera_vhost_user_request_name(request), strerror(errno));
		}
		sent += (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes before the deadline. */
static int read_full(struct tessera_vhost_user_frontend *fe, void *buf,
		size_t len, int64_t deadline) {
	size_t done = 0;
	while (done < len) {
		int64_t left = deadline - tessera_clock_now_ms();
		if (left <= 0) {
			return fail(fe, "timed out waiting for a reply");
		}
		struct pollfd pfd = { .fd = fe->sock, .events = POLLIN };
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			return fail(fe, "poll: %s", strerror(errno));
		}
		if (r == 0) {
			continue;
		}
		ssize_t n = recv(fe->sock, (uint8_t *)buf + done, len - done,
			MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			continue;
		}
		if (n < 0) {
			return fail(fe, "recv: %s", strerror(errno));
		}
		if (n == 0) {
			return fail(fe, "the backend closed the connection");
		}
		done += (size_t)n;
	}
	return 0;
}

int tessera_vhost_user_frontend_receive(struct tessera_vhost_user_frontend *fe,
		uint32_t request, void *payload, uint32_t size) {
	int64_t deadline = tessera_clock_now_ms() + fe->timeout_ms;
	struct tessera_vhost_user_header hdr;
	if (read_full(fe, &hdr, sizeof(hdr), deadline) != 0) {
		return -1;
	}
	if (hdr.request != request) {
		return fail(fe, "reply to %s while waiting for %s",
			tessera_vhost_user_request_name(hdr.request),
			tessera_vhost_user_request_name(request));
	}
	if ((hdr.flags & TESSERA_VHOST_USER_VERSION_MASK) !=
			TESSERA_VHOST_USER_VERSION ||
			!(hdr.flags & TESSERA_VHOST_USER_FLAG_REPLY)) {
		return fail(fe, "bad reply flags 0x%x", hdr.flags);
	}
	if (hdr.size > size) {
		return fail(fe, "reply to %s of %u bytes, at most %u expected",
			tessera_vhost_user_request_name(request), hdr.size, size);
	}
	if (read_full(fe, payload, hdr.size, deadline) != 0) {
		return -1;
	}
	return (int)hdr.size;
}

/* Sends a request; with REPLY_ACK waits for the acknowledgement. */
static int request(struct tessera_vhost_user_frontend *fe, uint32_t req,
		const void *payload, uint32_t size, const int *fds, size_t nfds) {
	bool ack = fe->protocol_features &
		BIT(TESSERA_VHOST_USER_PROTOCOL_F_REPLY_ACK);
	uint32_t flags = TESSERA_VHOST_USER_VERSION |
		(ack ? TESSERA_VHOST_USER_FLAG_NEED_REPLY : 0);
	if (tessera_vhost_user_frontend_send(fe, req, flags, payload, size, fds,
			nfds) != 0) {
		return -1;
	}
	if (!ack) {
		return 0;
	}
	uint64_t status;
	int n = tessera_vhost_user_frontend_receive(fe, req, &status,
		sizeof(status));
	if (n < 0) {
		return -1;
	}
	if (n != sizeof(status)) {
		return fail(fe, "acknowledgement of %s has %d bytes",
			tessera_vhost_user_request_name(req), n);
	}
	if (status != 0) {
		return fail(fe, "the backend refused %s",
			tessera_vhost_user_request_name(req));
	}
	return 0;
}

static int request_u64(struct tessera_vhost_user_frontend *fe, uint32_t req,
		uint64_t value) {
	return request(fe, req, &value, sizeof(value), NULL, 0);
}

static int get_u64(struct tessera_vhost_user_frontend *fe, uint32_t req,
		uint64_t *value) {
	if (tessera_vhost_user_frontend_send(fe, req, TESSERA_VHOST_USER_VERSION,
			NULL, 0, NULL, 0) != 0) {
		return -1;
	}
	int n = tessera_vhost_user_frontend_receive(fe, req, value,
		sizeof(*value));
	if (n < 0) {
		return -1;
	}
	if (n != sizeof(*value)) {
		return fail(fe, "reply to %s has %d bytes",
			tessera_vhost_user_request_name(req), n);
	}
	return 0;
}

static int vring_state(struct tessera_vhost_user_frontend *fe, uint32_t req,
		uint32_t index, uint32_t num) {
	struct tessera_vhost_user_vring_state state = { index, num };
	return request(fe, req, &state, sizeof(state), NULL, 0);
}

static int vring_fd(struct tessera_vhost_user_frontend *fe, uint32_t req,
		uint32_t index, int fd) {
	uint64_t v = index;
	if (fd < 0) {
		v |= TESSERA_VHOST_USER_VRING_NOFD;
		return request(fe, req, &v, sizeof(v), NULL, 0);
	}
	return request(fe, req, &v, sizeof(v), &fd, 1);
}

/* ---- guest RAM allocator ---- */

static int ranges_insert(struct fe_range **ranges, size_t *n, size_t *cap,
		size_t pos, struct fe_range r) {
	if (*n == *cap) {
		size_t new_cap = *cap ? *cap * 2 : 16;
		struct fe_range *p = realloc(*ranges, new_cap * sizeof(*p));
		if (p == NULL) {
			return -1;
		}
		*ranges = p;
		*cap = new_cap;
	}
	memmove(*ranges + pos + 1, *ranges + pos, (*n - pos) * sizeof(**ranges));
	(*ranges)[pos] = r;
	(*n)++;
	return 0;
}

static void ranges_remove(struct fe_range *ranges, size_t *n, size_t pos) {
	memmove(ranges + pos, ranges + pos + 1, (*n - pos - 1) * sizeof(*ranges));
	(*n)--;
}

int tessera_vhost_user_frontend_alloc(struct tessera_vhost_user_frontend *fe,
		uint64_t size, uint64_t align, uint64_t *gpa, void **host) {
	if (align == 0) {
		align = 64;
	}
	if (size == 0 || (align & (align - 1)) != 0 || size > fe->ram_size) {
		return fail(fe, "invalid allocation of %llu bytes",
			(unsigned long long)size);
	}
	for (size_t i = 0; i < fe->nfree; i++) {
		struct fe_range *r = &fe->free_ranges[i];
		uint64_t start = (r->start + align - 1) & ~(align - 1);
		if (start < r->start || start > r->end || r->end - start < size) {
			continue;
		}
		struct fe_range a = { start, start + size, r->region };
		size_t pos = fe->nallocs;
		if (ranges_insert(&fe->allocs, &fe->nallocs, &fe->allocs_cap, pos,
				a) != 0) {
			return fail(fe, "out of memory");
		}
		/* carve [start, start + size) out of the free range */
		struct fe_range after = { start + size, r->end, r->region };
		r->end = start;
		if (after.end > after.start) {
			if (r->end == r->start) {
				*r = after;
			} else if (ranges_insert(&fe->free_ranges, &fe->nfree,
					&fe->free_cap, i + 1, after) != 0) {
				fe->nallocs--;
				fe->free_ranges[i].end = after.end;
				return fail(fe, "out of memory");
			}
		} else if (r->end == r->start) {
			ranges_remove(fe->free_ranges, &fe->nfree, i);
		}
		*gpa = start;
		const struct fe_region *region = &fe->regions[a.region];
		*host = region->host + (start - region->gpa);
		return 0;
	}
	return fail(fe, "guest RAM exhausted (%llu bytes wanted)",
		(unsigned long long)size);
}

void tessera_vhost_user_frontend_free(struct tessera_vhost_user_frontend *fe,
		uint64_t gpa) {
	size_t k;
	for (k = 0; k < fe->nallocs; k++) {
		if (fe->allocs[k].start == gpa) {
			break;
		}
	}
	if (k == fe->nallocs) {
		return;
	}
	struct fe_range a = fe->allocs[k];
	ranges_remove(fe->allocs, &fe->nallocs, k);

	/* insert sorted, merging with neighbours of the same region */
	size_t pos = 0;
	while (pos < fe->nfree && fe->free_ranges[pos].start < a.start) {
		pos++;
	}
	if (pos > 0 && fe->free_ranges[pos - 1].end == a.start &&
			fe->free_ranges[pos - 1].region == a.region) {
		fe->free_ranges[pos - 1].end = a.end;
		if (pos < fe->nfree && fe->free_ranges[pos].start == a.end &&
				fe->free_ranges[pos].region == a.region) {
			fe->free_ranges[pos - 1].end = fe->free_ranges[pos].end;
			ranges_remove(fe->free_ranges, &fe->nfree, pos);
		}
		return;
	}
	if (pos < fe->nfree && fe->free_ranges[pos].start == a.end &&
			fe->free_ranges[pos].region == a.region) {
		fe->free_ranges[pos].start = a.start;
		return;
	}
	/* cannot fail to leak more than the range itself */
	ranges_insert(&fe->free_ranges, &fe->nfree, &fe->free_cap, pos, a);
}

void *tessera_vhost_user_frontend_host(struct tessera_vhost_user_frontend *fe,
		uint64_t gpa, uint64_t len) {
	for (uint32_t i = 0; i < fe->nregions; i++) {
		const struct fe_region *r = &fe->regions[i];
		if (len > 0 && gpa >= r->gpa && gpa - r->gpa < r->size &&
				len <= r->size - (gpa - r->gpa)) {
			return r->host + (gpa - r->gpa);
		}
	}
	return NULL;
}

/* ---- setup ---- */

static int create_ram(struct tessera_vhost_user_frontend *fe,
		const struct tessera_vhost_user_frontend_options *opts) {
	long page = sysconf(_SC_PAGESIZE);
	uint64_t size = opts->ram_size ? opts->ram_size : DEFAULT_RAM_SIZE;
	if (size % (2 * (uint64_t)page) != 0 || size > (UINT64_C(1) << 32)) {
		return fail(fe, "guest RAM size %llu is not a multiple of 2 pages "
			"up to 4 GiB", (unsigned long long)size);
	}
	fe->memfd = memfd_create("tessera-guest-ram",
		MFD_CLOEXEC | (opts->unsealed_ram ? 0 : MFD_ALLOW_SEALING));
	if (fe->memfd < 0) {
		return fail(fe, "memfd_create: %s", strerror(errno));
	}
	if (ftruncate(fe->memfd, (off_t)size) != 0 || (!opts->unsealed_ram &&
			fcntl(fe->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)) {
		return fail(fe, "sizing guest RAM: %s", strerror(errno));
	}
	void *ram = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
		fe->memfd, 0);
	if (ram == MAP_FAILED) {
		return fail(fe, "mmap guest RAM: %s", strerror(errno));
	}
	fe->ram = ram;
	fe->ram_size = size;
	if (opts->split_regions) {
		uint64_t half = size / 2;
		fe->regions[0] = (struct fe_region){ 0, half, 0, fe->ram };
		fe->regions[1] = (struct fe_region){
			TESSERA_VHOST_USER_FRONTEND_HIGH_GPA, size - half, half,
			fe->ram + half };
		fe->nregions = 2;
	} else {
		fe->regions[0] = (struct fe_region){ 0, size, 0, fe->ram };
		fe->nregions = 1;
	}
	for (uint32_t i = 0; i < fe->nregions; i++) {
		struct fe_range r = { fe->regions[i].gpa,
			fe->regions[i].gpa + fe->regions[i].size, i };
		if (ranges_insert(&fe->free_ranges, &fe->nfree, &fe->free_cap,
				fe->nfree, r) != 0) {
			return fail(fe, "out of memory");
		}
	}
	return 0;
}

static int send_mem_table(struct tessera_vhost_user_frontend *fe) {
	struct tessera_vhost_user_memory table = { .nregions = fe->nregions };
	int fds[2];
	for (uint32_t i = 0; i < fe->nregions; i++) {
		const struct fe_region *r = &fe->regions[i];
		table.regions[i] = (struct tessera_vhost_user_memory_region){
			.guest_addr = r->gpa,
			.size = r->size,
			.user_addr = (uint64_t)(uintptr_t)r->host,
			.mmap_offset = r->file_offset,
		};
		fds[i] = fe->memfd; /* each region carries its own fd */
	}
	uint32_t size = TESSERA_VHOST_USER_MEMORY_HEADER_SIZE +
		fe->nregions * (uint32_t)sizeof(table.regions[0]);
	return request(fe, TESSERA_VHOST_USER_SET_MEM_TABLE, &table, size, fds,
		fe->nregions);
}

static int new_eventfd(struct tessera_vhost_user_frontend *fe) {
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		return fail(fe, "eventfd: %s", strerror(errno));
	}
	return fd;
}

static int setup_queue(struct tessera_vhost_user_frontend *fe, uint32_t index) {
	struct fe_queue *q = &fe->queues[index];
	bool indirect = fe->features & BIT(VIRTIO_RING_F_INDIRECT_DESC);
	uint32_t max_indirect = indirect ? MAX_INDIRECT : 0;
	size_t area_len = tessera_virtqueue_driver_area_size(fe->queue_size,
		max_indirect);
	void *area;
	if (tessera_vhost_user_frontend_alloc(fe, area_len, 4096, &q->area_gpa,
			&area) != 0) {
		return -1;
	}
	if (tessera_virtqueue_driver_init(&q->drv, fe->queue_size, area,
			q->area_gpa, area_len, max_indirect, fe->features) != 0) {
		return fail(fe, "queue %u: cannot lay out rings", index);
	}
	q->active = true;
	q->kick_fd = new_eventfd(fe);
	q->call_fd = new_eventfd(fe);
	if (q->kick_fd < 0 || q->call_fd < 0) {
		return -1;
	}

	/* the order QEMU uses: a call fd early (vhost_dev_init), then num,
	 * base, addresses, kick, and the call fd again on start */
	struct tessera_vhost_user_vring_addr addr = {
		.index = index,
		.desc = (uint64_t)(uintptr_t)q->drv.desc,
		.used = (uint64_t)(uintptr_t)q->drv.used,
		.avail = (uint64_t)(uintptr_t)q->drv.avail,
	};
	if (vring_fd(fe, TESSERA_VHOST_USER_SET_VRING_CALL, index,
				q->call_fd) != 0 ||
			vring_state(fe, TESSERA_VHOST_USER_SET_VRING_NUM, index,
				fe->queue_size) != 0 ||
			vring_state(fe, TESSERA_VHOST_USER_SET_VRING_BASE, index, 0) != 0 ||
			request(fe, TESSERA_VHOST_USER_SET_VRING_ADDR, &addr, sizeof(addr),
				NULL, 0) != 0 ||
			vring_fd(fe, TESSERA_VHOST_USER_SET_VRING_KICK, index,
				q->kick_fd) != 0 ||
			tessera_vhost_user_frontend_replace_call(fe, index) != 0) {
		return -1;
	}
	if (fe->features & BIT(TESSERA_VHOST_USER_F_PROTOCOL_FEATURES)) {
		return vring_state(fe, TESSERA_VHOST_USER_SET_VRING_ENABLE, index, 1);
	}
	return 0;
}

static int handshake(struct tessera_vhost_user_frontend *fe,
		const struct tessera_vhost_user_frontend_options *opts) {
	uint64_t offered;
	if (get_u64(fe, TESSERA_VHOST_USER_GET_FEATURES, &offered) != 0) {
		return -1;
	}
	if (!(offered & BIT(VIRTIO_F_VERSION_1))) {
		return fail(fe, "the backend does not offer VIRTIO_F_VERSION_1");
	}
	if (offered & BIT(TESSERA_VHOST_USER_F_PROTOCOL_FEATURES)) {
		uint64_t protocol;
		if (get_u64(fe, TESSERA_VHOST_USER_GET_PROTOCOL_FEATURES,
				&protocol) != 0) {
			return -1;
		}
		protocol &= BIT(TESSERA_VHOST_USER_PROTOCOL_F_REPLY_ACK) |
			BIT(TESSERA_VHOST_USER_PROTOCOL_F_CONFIG) |
			BIT(TESSERA_VHOST_USER_PROTOCOL_F_MQ);
		/* like QEMU, no acknowledgement is asked for this one: REPLY_ACK
		 * is not in force before it is processed */
		if (request_u64(fe, TESSERA_VHOST_USER_SET_PROTOCOL_FEATURES,
				protocol) != 0) {
			return -1;
		}
		fe->protocol_features = protocol;
		if (protocol & BIT(TESSERA_VHOST_USER_PROTOCOL_F_MQ)) {
			uint64_t max_queues;
			if (get_u64(fe, TESSERA_VHOST_USER_GET_QUEUE_NUM,
					&max_queues) != 0) {
				return -1;
			}
			if (max_queues < fe->num_queues) {
				return fail(fe, "the backend has %llu queues, %u wanted",
					(unsigned long long)max_queues, fe->num_queues);
			}
		}
	}
	if (request(fe, TESSERA_VHOST_USER_SET_OWNER, NULL, 0, NULL, 0) != 0) {
		return -1;
	}

	uint64_t wanted = BIT(VIRTIO_F_VERSION_1) |
		BIT(TESSERA_VHOST_USER_F_PROTOCOL_FEATURES) |
		(opts->no_event_idx ? 0 : BIT(VIRTIO_RING_F_EVENT_IDX)) |
		(opts->no_indirect ? 0 : BIT(VIRTIO_RING_F_INDIRECT_DESC)) |
		opts->device_features;
	fe->features = offered & wanted;
	if (request_u64(fe, TESSERA_VHOST_USER_SET_FEATURES, fe->features) != 0 ||
			send_mem_table(fe) != 0) {
		return -1;
	}
	for (uint32_t i = 0; i < fe->num_queues; i++) {
		if (setup_queue(fe, i) != 0) {
			return -1;
		}
	}
	return 0;
}

struct tessera_vhost_user_frontend *tessera_vhost_user_frontend_connect_fd(
		int fd, const struct tessera_vhost_user_frontend_options *opts,
		char *err, size_t err_size) {
	struct tessera_vhost_user_frontend_options defaults = {0};
	if (opts == NULL) {
		opts = &defaults;
	}
	struct tessera_vhost_user_frontend *fe = calloc(1, sizeof(*fe));
	if (fe == NULL) {
		close(fd);
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	fe->sock = fd;
	fe->memfd = -1;
	for (uint32_t i = 0; i < TESSERA_VHOST_USER_FRONTEND_MAX_QUEUES; i++) {
		fe->queues[i].kick_fd = fe->queues[i].call_fd = -1;
	}
	fe->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms :
		DEFAULT_TIMEOUT_MS;
	fe->num_queues = opts->num_queues ? opts->num_queues : 1;
	fe->queue_size = opts->queue_size ? opts->queue_size : DEFAULT_QUEUE_SIZE;

	int r = 0;
	if (fe->num_queues > TESSERA_VHOST_USER_FRONTEND_MAX_QUEUES) {
		r = fail(fe, "%u queues, at most %d", fe->num_queues,
			TESSERA_VHOST_USER_FRONTEND_MAX_QUEUES);
	} else if (fe->queue_size > TESSERA_VIRTQUEUE_MAX_SIZE ||
			(fe->queue_size & (fe->queue_size - 1)) != 0) {
		r = fail(fe, "invalid queue size %u", fe->queue_size);
	}
	if (r == 0) {
		r = create_ram(fe, opts);
	}
	if (r == 0) {
		r = handshake(fe, opts);
	}
	if (r != 0) {
		if (err != NULL && err_size > 0) {
			snprintf(err, err_size, "%s", fe->error);
		}
		tessera_vhost_user_frontend_destroy(fe);
		return NULL;
	}
	return fe;
}

struct tessera_vhost_user_frontend *tessera_vhost_user_frontend_connect(
		const char *path, const struct tessera_vhost_user_frontend_options *opts,
		char *err, size_t err_size) {
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, err_size, "socket path too long");
		return NULL;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_size, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		snprintf(err, err_size, "connect %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	return tessera_vhost_user_frontend_connect_fd(fd, opts, err, err_size);
}

void tessera_vhost_user_frontend_destroy(struct tessera_vhost_user_frontend *fe) {
	if (fe == NULL) {
		return;
	}
	if (fe->sock >= 0) {
		close(fe->sock);
	}
	for (uint32_t i = 0; i < TESSERA_VHOST_USER_FRONTEND_MAX_QUEUES; i++) {
		struct fe_queue *q = &fe->queues[i];
		if (q->active) {
			tessera_virtqueue_driver_finish(&q->drv);
		}
		if (q->kick_fd >= 0) {
			close(q->kick_fd);
		}
		if (q->call_fd >= 0) {
			close(q->call_fd);
		}
	}
	if (fe->ram != NULL) {
		munmap(fe->ram, (size_t)fe->ram_size);
	}
	if (fe->memfd >= 0) {
		close(fe->memfd);
	}
	free(fe->free_ranges);
	free(fe->allocs);
	free(fe);
}

/* ---- queues ---- */

static struct fe_queue *get_queue(struct tessera_vhost_user_frontend *fe,
		uint32_t index) {
	if (index >= fe->num_queues || !fe->queues[index].active) {
		fail(fe, "no queue %u", index);
		return NULL;
	}
	return &fe->queues[index];
}

struct tessera_virtqueue_driver *tessera_vhost_user_frontend_driver(
		struct tessera_vhost_user_frontend *fe, uint32_t queue) {
	struct fe_queue *q = get_queue(fe, queue);
	return q != NULL ? &q->drv : NULL;
}

int tessera_vhost_user_frontend_submit(struct tessera_vhost_user_frontend *fe,
		uint32_t queue, const struct tessera_virtqueue_buffer *bufs,
		size_t out_num, size_t in_num, void *data) {
	struct fe_queue *q = get_queue(fe, queue);
	if (q == NULL) {
		return -1;
	}
	int head = tessera_virtqueue_driver_add(&q->drv, bufs, out_num, in_num,
		data);
	if (head < 0) {
		return fail(fe, "queue %u full or invalid chain", queue);
	}
	return head;
}

int tessera_vhost_user_frontend_kick(struct tessera_vhost_user_frontend *fe,
		uint32_t queue, bool force) {
	struct fe_queue *q = get_queue(fe, queue);
	if (q == NULL) {
		return -1;
	}
	bool needed = tessera_virtqueue_driver_kick_needed(&q->drv);
	if (!needed && !force) {
		return 0;
	}
	uint64_t one = 1;
	if (write(q->kick_fd, &one, sizeof(one)) != sizeof(one)) {
		return fail(fe, "kick: %s", strerror(errno));
	}
	return 0;
}

int tessera_vhost_user_frontend_wait_call(struct tessera_vhost_user_frontend *fe,
		uint32_t queue, int timeout_ms) {
	struct fe_queue *q = get_queue(fe, queue);
	if (q == NULL) {
		return -1;
	}
	int64_t deadline = tessera_clock_now_ms() + timeout_ms;
	for (;;) {
		uint64_t value;
		if (read(q->call_fd, &value, sizeof(value)) == sizeof(value)) {
			return 1;
		}
		if (errno != EAGAIN && errno != EINTR) {
			return fail(fe, "reading call fd: %s", strerror(errno));
		}
		int64_t left = deadline - tessera_clock_now_ms();
		if (left <= 0) {
			return 0;
		}
		/* the socket too: a backend that went away never calls */
		struct pollfd pfd[2] = {
			{ .fd = q->call_fd, .events = POLLIN },
			{ .fd = fe->sock, .events = 0 },
		};
		if (poll(pfd, 2, (int)left) < 0 && errno != EINTR) {
			return fail(fe, "poll: %s", strerror(errno));
		}
		if ((pfd[1].revents & (POLLHUP | POLLERR)) && !(pfd[0].revents & POLLIN)) {
			return fail(fe, "the backend closed the vhost-user connection");
		}
	}
}

int tessera_vhost_user_frontend_reap(struct tessera_vhost_user_frontend *fe,
		uint32_t queue, uint32_t *len, void **data) {
	struct fe_queue *q = get_queue(fe, queue);
	if (q == NULL) {
		return -1;
	}
	int r = tessera_virtqueue_driver_get_used(&q->drv, len, data);
	if (r < 0) {
		return fail(fe, "queue %u: the device returned a bad used element",
			queue);
	}
	return r;
}

int tessera_vhost_user_frontend_call_fd(
		const struct tessera_vhost_user_frontend *fe, uint32_t queue) {
	if (queue >= fe->num_queues) {
		return -1;
	}
	return fe->queues[queue].call_fd;
}

int tessera_vhost_user_frontend_socket_fd(
		const struct tessera_vhost_user_frontend *fe) {
	return fe->sock;
}

int tessera_vhost_user_frontend_replace_call(
		struct tessera_vhost_user_frontend *fe, uint32_t queue) {
	struct fe_queue *q = get_queue(fe, queue);
	if (q == NULL) {
		return -1;
	}
	int fd = new_eventfd(fe);
	if (fd < 0) {
		return -1;
	}
	if (vring_fd(fe, TESSERA_VHOST_USER_SET_VRING_CALL, queue, fd) != 0) {
		close(fd);
		return -1;
	}
	close(q->call_fd);
	q->call_fd = fd;
	return 0;
}

int tessera_vhost_user_frontend_stop_queue(struct tessera_vhost_user_frontend *fe,
		uint32_t queue, uint16_t *base) {
	if (get_queue(fe, queue) == NULL) {
		return -1;
	}
	struct tessera_vhost_user_vring_state state = { queue, 0 };
	if (tessera_vhost_user_frontend_send(fe, TESSERA_VHOST_USER_GET_VRING_BASE,
			TESSERA_VHOST_USER_VERSION, &state, sizeof(state), NULL, 0) != 0) {
		return -1;
	}
	int n = tessera_vhost_user_frontend_receive(fe,
		TESSERA_VHOST_USER_GET_VRING_BASE, &state, sizeof(state));
	if (n < 0) {
		return -1;
	}
	if (n != sizeof(state) || state.index != queue || state.num > UINT16_MAX) {
		return fail(fe, "bad GET_VRING_BASE reply");
	}
	*base = (uint16_t)state.num;
	return 0;
}

/* ---- configuration space ---- */

int tessera_vhost_user_frontend_get_config(struct tessera_vhost_user_frontend *fe,
		uint32_t offset, void *buf, uint32_t size) {
	if (size == 0 || size > TESSERA_VHOST_USER_MAX_CONFIG_SIZE) {
		return fail(fe, "invalid config size %u", size);
	}
	struct tessera_vhost_user_config config = {
		.offset = offset,
		.size = size,
	};
	uint32_t msg_size = TESSERA_VHOST_USER_CONFIG_HEADER_SIZE + size;
	if (tessera_vhost_user_frontend_send(fe, TESSERA_VHOST_USER_GET_CONFIG,
			TESSERA_VHOST_USER_VERSION, &config, msg_size, NULL, 0) != 0) {
		return -1;
	}
	int n = tessera_vhost_user_frontend_receive(fe,
		TESSERA_VHOST_USER_GET_CONFIG, &config, sizeof(config));
	if (n < 0) {
		return -1;
	}
	if ((uint32_t)n != msg_size || config.size != size ||
			config.offset != offset) {
		return fail(fe, "GET_CONFIG refused by the backend");
	}
	memcpy(buf, config.payload, size);
	return 0;
}

int tessera_vhost_user_frontend_set_config(struct tessera_vhost_user_frontend *fe,
		uint32_t offset, const void *buf, uint32_t size) {
	if (size == 0 || size > TESSERA_VHOST_USER_MAX_CONFIG_SIZE) {
		return fail(fe, "invalid config size %u", size);
	}
	struct tessera_vhost_user_config config = {
		.offset = offset,
		.size = size,
		.flags = TESSERA_VHOST_USER_CONFIG_FRONTEND,
	};
	memcpy(config.payload, buf, size);
	return request(fe, TESSERA_VHOST_USER_SET_CONFIG, &config,
		TESSERA_VHOST_USER_CONFIG_HEADER_SIZE + size, NULL, 0);
}
