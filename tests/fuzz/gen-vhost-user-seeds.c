/*
 * Writes the seed corpus of the vhost-user fuzz target (fuzz-vhost-user.c)
 * into the directory given as argument. The committed seeds in
 * corpus/vhost-user were made with it:
 *
 *	ninja -C build tests/fuzz/gen-vhost-user-seeds
 *	rm -rf tests/fuzz/corpus/vhost-user && mkdir tests/fuzz/corpus/vhost-user
 *	build/tests/fuzz/gen-vhost-user-seeds tests/fuzz/corpus/vhost-user
 *
 * Valid sessions the way QEMU drives a vhost-user-gpu backend (features,
 * memory table, two rings with kick and call eventfds, chains the device
 * echoes, holds, releases), messages split across sends, reconnection,
 * and malformed messages: bad headers, sizes, fd counts and kinds, queue
 * indices, memory tables, ring addresses and descriptors.
 */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhost-user-proto.h"

/* must match fuzz-vhost-user.c */
#define MAX_INPUT 8192
#define OP_KICK 0x80
#define OP_POKE 0x90
#define OP_RECONNECT 0xa0
#define OP_HANGUP 0xb0
#define OP_MSG 0xc0
enum fd_type {
	FD_RAM,
	FD_EVENT,
	FD_SOCKET,
	FD_PIPE,
	FD_DEV_NULL,
	FD_SMALL_MEMFD,
	FD_SEALED_MEMFD,
	FD_HUGE_MEMFD,
};

#define BIT(n) (UINT64_C(1) << (n))
#define UVA_BASE UINT64_C(0x7f0000000000)
#define NEED_REPLY TESSERA_VHOST_USER_FLAG_NEED_REPLY
#define NOFD TESSERA_VHOST_USER_VRING_NOFD
#define R 0
#define W VRING_DESC_F_WRITE
#define N VRING_DESC_F_NEXT
#define I VRING_DESC_F_INDIRECT

/* guest RAM layout of the seeds: queue q's rings at q * 0x4000 */
#define DESC(q) ((uint64_t)(q) * 0x4000)
#define AVAIL(q) ((uint64_t)(q) * 0x4000 + 0x1000)
#define USED(q) ((uint64_t)(q) * 0x4000 + 0x2000)
#define DATA 0x8000
#define QUEUE_SIZE 8

static const char *dir;
static int written;
static uint8_t buf[MAX_INPUT];
static size_t len;

static void put_le(uint8_t *p, size_t width, uint64_t v) {
	for (size_t i = 0; i < width; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static void room(size_t n) {
	if (len + n > sizeof(buf)) {
		fprintf(stderr, "seed larger than %d bytes\n", MAX_INPUT);
		exit(1);
	}
}

static void emit(size_t width, uint64_t v) {
	room(width);
	put_le(buf + len, width, v);
	len += width;
}

static void emit_bytes(const void *p, size_t n) {
	room(n);
	memcpy(buf + len, p, n);
	len += n;
}

static void save(const char *name) {
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	written++;
	len = 0;
}

/* ---- operations ---- */

static void msg_fds(uint32_t request, uint32_t flags, const void *payload,
		uint16_t size, enum fd_type type, unsigned nfds) {
	if (nfds > 7 || request > 0xff) {
		fprintf(stderr, "msg: bad arguments\n");
		exit(1);
	}
	emit(1, OP_MSG | nfds << 3 | type);
	emit(1, request);
	emit(1, flags);
	emit(2, size);
	emit_bytes(payload, size);
}

static void msg(uint32_t request, uint32_t flags, const void *payload,
		uint16_t size) {
	msg_fds(request, flags, payload, size, FD_RAM, 0);
}

/* Raw bytes on the socket with nfds fds of a type attached. */
static void send_raw(const void *p, uint16_t n, enum fd_type type,
		unsigned nfds) {
	emit(1, nfds << 3 | type);
	emit(2, n);
	emit_bytes(p, n);
}

static void kick(unsigned event) {
	emit(1, OP_KICK | event);
}

static void poke(uint16_t offset, const void *p, uint16_t n) {
	emit(1, OP_POKE);
	emit(2, offset);
	emit(2, n);
	emit_bytes(p, n);
}

static void msg_u64(uint32_t request, uint32_t flags, uint64_t v) {
	uint8_t p[8];
	put_le(p, 8, v);
	msg(request, flags, p, 8);
}

static void msg_state(uint32_t request, uint32_t flags, uint32_t index,
		uint32_t num) {
	uint8_t p[8];
	put_le(p, 4, index);
	put_le(p + 4, 4, num);
	msg(request, flags, p, 8);
}

static void msg_vring_fd(uint32_t request, uint32_t flags, uint64_t v,
		enum fd_type type, unsigned nfds) {
	uint8_t p[8];
	put_le(p, 8, v);
	msg_fds(request, flags, p, 8, type, nfds);
}

static void msg_addr_log(uint32_t flags, uint32_t index, uint32_t vflags,
		uint64_t desc, uint64_t used, uint64_t avail) {
	uint8_t p[40] = {0};
	put_le(p, 4, index);
	put_le(p + 4, 4, vflags);
	put_le(p + 8, 8, desc);
	put_le(p + 16, 8, used);
	put_le(p + 24, 8, avail);
	msg(TESSERA_VHOST_USER_SET_VRING_ADDR, flags, p, sizeof(p));
}

static void msg_addr(uint32_t flags, uint32_t index, uint64_t desc,
		uint64_t used, uint64_t avail) {
	msg_addr_log(flags, index, 0, desc, used, avail);
}

struct region {
	uint64_t gpa, size, uva, offset;
};

static void msg_mem_table(uint32_t flags, uint32_t nregions,
		const struct region *r, size_t n, enum fd_type type, unsigned nfds) {
	uint8_t p[8 + 32 * 8] = {0};
	put_le(p, 4, nregions);
	for (size_t i = 0; i < n; i++) {
		put_le(p + 8 + 32 * i, 8, r[i].gpa);
		put_le(p + 16 + 32 * i, 8, r[i].size);
		put_le(p + 24 + 32 * i, 8, r[i].uva);
		put_le(p + 32 + 32 * i, 8, r[i].offset);
	}
	msg_fds(TESSERA_VHOST_USER_SET_MEM_TABLE, flags, p, (uint16_t)(8 + 32 * n),
		type, nfds);
}

static void msg_config(uint32_t request, uint32_t flags, uint32_t offset,
		uint32_t size, const void *data) {
	uint8_t p[12 + 256] = {0};
	put_le(p, 4, offset);
	put_le(p + 4, 4, size);
	if (data != NULL) {
		memcpy(p + 12, data, size);
	}
	msg(request, flags, p, (uint16_t)(12 + size));
}

/* ---- guest side ---- */

static void put_desc(uint16_t q, uint16_t i, uint64_t addr, uint32_t n,
		uint16_t flags, uint16_t next) {
	uint8_t d[16];
	put_le(d, 8, addr);
	put_le(d + 8, 4, n);
	put_le(d + 12, 2, flags);
	put_le(d + 14, 2, next);
	poke((uint16_t)(DESC(q) + 16 * i), d, sizeof(d));
}

/* avail ring: the first n entries and idx */
static void put_avail(uint16_t q, const uint16_t *heads, uint16_t n,
		uint16_t idx) {
	uint8_t a[4 + 2 * QUEUE_SIZE] = {0};
	put_le(a + 2, 2, idx);
	for (uint16_t i = 0; i < n; i++) {
		put_le(a + 4 + 2 * i, 2, heads[i]);
	}
	poke((uint16_t)AVAIL(q), a, (uint16_t)(4 + 2 * n));
}

static void put_data(uint16_t offset, const char *s) {
	poke(offset, s, (uint16_t)strlen(s));
}

/* ---- sessions ---- */

static const uint64_t features = BIT(VIRTIO_F_VERSION_1) |
	BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
	BIT(TESSERA_VHOST_USER_F_PROTOCOL_FEATURES) | BIT(0);
static const struct region ram = { 0, 0x10000, UVA_BASE, 0 };

/* What QEMU sends before the driver runs; eventfds 0-3: kick 0, call 0,
 * kick 1, call 1. */
static void preamble(uint32_t flags, uint64_t feat) {
	msg(TESSERA_VHOST_USER_GET_FEATURES, flags, NULL, 0);
	msg(TESSERA_VHOST_USER_GET_PROTOCOL_FEATURES, flags, NULL, 0);
	msg_u64(TESSERA_VHOST_USER_SET_PROTOCOL_FEATURES, flags,
		BIT(TESSERA_VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		BIT(TESSERA_VHOST_USER_PROTOCOL_F_CONFIG));
	msg(TESSERA_VHOST_USER_GET_QUEUE_NUM, flags, NULL, 0);
	msg(TESSERA_VHOST_USER_GET_MAX_MEM_SLOTS, flags, NULL, 0);
	msg(TESSERA_VHOST_USER_SET_OWNER, flags, NULL, 0);
	msg_config(TESSERA_VHOST_USER_GET_CONFIG, flags, 0, 24, NULL);
	msg_u64(TESSERA_VHOST_USER_SET_FEATURES, flags, feat);
	msg_mem_table(flags, 1, &ram, 1, FD_RAM, 1);
	for (uint32_t q = 0; q < 2; q++) {
		msg_state(TESSERA_VHOST_USER_SET_VRING_NUM, flags, q, QUEUE_SIZE);
		msg_state(TESSERA_VHOST_USER_SET_VRING_BASE, flags, q, 0);
		msg_addr(flags, q, UVA_BASE + DESC(q), UVA_BASE + USED(q),
			UVA_BASE + AVAIL(q));
		msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_KICK, flags, q, FD_EVENT, 1);
		msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_CALL, flags, q, FD_EVENT, 1);
		msg_state(TESSERA_VHOST_USER_SET_VRING_ENABLE, flags, q, 1);
	}
}

/* One chain on queue q: a readable command, a writable reply buffer. */
static void chain(uint16_t q, uint16_t head, uint16_t data, const char *cmd) {
	put_data(data, cmd);
	put_desc(q, head, data, (uint32_t)strlen(cmd), R | N,
		(uint16_t)((head + 1) % QUEUE_SIZE));
	put_desc(q, (uint16_t)((head + 1) % QUEUE_SIZE), data + 0x100, 0x40, W, 0);
}

static void seed_session(uint32_t flags, const char *name) {
	preamble(flags, features);
	chain(0, 0, DATA, "echo");
	chain(1, 2, DATA + 0x200, "H");
	chain(1, 4, DATA + 0x400, "H");
	uint16_t heads1[] = { 2, 4 };
	put_avail(1, heads1, 2, 2);
	kick(2);
	uint16_t heads0[] = { 0 };
	put_avail(0, heads0, 1, 1);
	kick(0);
	chain(0, 6, DATA + 0x600, "R");
	uint16_t heads0b[] = { 0, 6 };
	put_avail(0, heads0b, 2, 2);
	kick(0);
	msg_config(TESSERA_VHOST_USER_SET_CONFIG, flags, 8, 4, "\1\0\0\0");
	msg_config(TESSERA_VHOST_USER_GET_CONFIG, flags, 4, 8, NULL);
	/* a new memory table under running rings, then stop them */
	msg_mem_table(flags, 1, &ram, 1, FD_RAM, 1);
	kick(0);
	msg_state(TESSERA_VHOST_USER_GET_VRING_BASE, flags, 0, 0);
	msg_state(TESSERA_VHOST_USER_GET_VRING_BASE, flags, 1, 0);
	save(name);
}

/* Without PROTOCOL_FEATURES rings run as soon as they are set up. */
static void seed_no_protocol_features(void) {
	msg_u64(TESSERA_VHOST_USER_SET_FEATURES, 0, BIT(VIRTIO_F_VERSION_1));
	msg_mem_table(0, 1, &ram, 1, FD_RAM, 1);
	msg_state(TESSERA_VHOST_USER_SET_VRING_NUM, 0, 0, QUEUE_SIZE);
	msg_addr(0, 0, UVA_BASE + DESC(0), UVA_BASE + USED(0),
		UVA_BASE + AVAIL(0));
	chain(0, 0, DATA, "x");
	uint16_t heads[] = { 0 };
	put_avail(0, heads, 1, 1);
	msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_KICK, 0, 0, FD_EVENT, 1);
	msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_CALL, 0, NOFD, FD_RAM, 0);
	msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_ERR, 0, 0, FD_EVENT, 1);
	/* EVENT_IDX and INDIRECT switched on under a running ring */
	msg_u64(TESSERA_VHOST_USER_SET_FEATURES, 0, features);
	kick(0);
	msg_state(TESSERA_VHOST_USER_GET_VRING_BASE, 0, 0, 0);
	save("no-protocol-features");
}

/* The device drops the connection from its kick callback; reconnect. */
static void seed_device_disconnect(void) {
	preamble(0, features);
	chain(0, 0, DATA, "D");
	uint16_t heads[] = { 0 };
	put_avail(0, heads, 1, 1);
	kick(0);
	msg(TESSERA_VHOST_USER_GET_FEATURES, 0, NULL, 0);
	emit(1, OP_RECONNECT);
	preamble(NEED_REPLY, features);
	put_data(DATA, "E");
	kick(0);
	save("device-disconnect");
}

/* Two regions of one memfd, adjacent in guest memory, apart in the VMM's;
 * an indirect chain and a buffer crossing the regions. */
static void seed_two_regions(void) {
	struct region r[2] = {
		{ 0, 0x8000, UVA_BASE, 0 },
		{ 0x8000, 0x8000, UVA_BASE + 0x100000, 0x8000 },
	};
	msg_u64(TESSERA_VHOST_USER_SET_FEATURES, 0, features);
	msg_mem_table(0, 2, r, 2, FD_RAM, 2);
	msg_state(TESSERA_VHOST_USER_SET_VRING_NUM, 0, 0, QUEUE_SIZE);
	msg_addr(0, 0, UVA_BASE + DESC(0), UVA_BASE + USED(0),
		UVA_BASE + AVAIL(0));
	msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_KICK, 0, 0, FD_EVENT, 1);
	msg_state(TESSERA_VHOST_USER_SET_VRING_ENABLE, 0, 0, 1);
	put_data(0x7ff0, "crossing the boundary");
	put_desc(0, 0, 0x3000, 32, I, 0);
	uint8_t table[32] = {0};
	put_le(table, 8, 0x7ff0);
	put_le(table + 8, 4, 0x20);
	put_le(table + 12, 2, R | N);
	put_le(table + 14, 2, 1);
	put_le(table + 16, 8, 0x7f80);
	put_le(table + 24, 4, 0x100);
	put_le(table + 28, 2, W);
	poke(0x3000, table, sizeof(table));
	uint16_t heads[] = { 0 };
	put_avail(0, heads, 1, 1);
	kick(0);
	save("two-regions");
}

/* Messages split across sends, fds arriving with a later part. */
static void seed_split(void) {
	uint8_t m[12 + 8];
	put_le(m, 4, TESSERA_VHOST_USER_SET_VRING_CALL);
	put_le(m + 4, 4, TESSERA_VHOST_USER_VERSION | NEED_REPLY);
	put_le(m + 8, 4, 8);
	put_le(m + 12, 8, 1);
	send_raw(m, 5, FD_RAM, 0);
	send_raw(m + 5, 10, FD_EVENT, 1);
	send_raw(m + 15, 5, FD_RAM, 0);
	uint8_t g[24];
	for (int i = 0; i < 2; i++) {
		put_le(g + 12 * i, 4, TESSERA_VHOST_USER_GET_FEATURES);
		put_le(g + 12 * i + 4, 4, TESSERA_VHOST_USER_VERSION);
		put_le(g + 12 * i + 8, 4, 0);
	}
	send_raw(g, sizeof(g), FD_RAM, 0);
	send_raw(m, 12, FD_RAM, 0);
	emit(1, OP_HANGUP);
	save("split-messages");
}

/* The guest breaks a running ring, the VMM moves rings around. */
static void seed_broken_ring(void) {
	preamble(NEED_REPLY, features);
	msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_ERR, 0, 0, FD_EVENT, 1);
	put_desc(0, 0, 0xfff00, 16, R, 0);
	uint16_t heads[] = { 0 };
	put_avail(0, heads, 1, 1);
	kick(0);
	kick(0);
	msg_addr(NEED_REPLY, 1, UVA_BASE + 0x20000, UVA_BASE + USED(1),
		UVA_BASE + AVAIL(1));
	struct region small = { 0, 0x4000, UVA_BASE, 0 };
	msg_mem_table(NEED_REPLY, 1, &small, 1, FD_RAM, 1);
	kick(2);
	msg_state(TESSERA_VHOST_USER_GET_VRING_BASE, 0, 1, 0);
	msg_state(TESSERA_VHOST_USER_SET_VRING_NUM, NEED_REPLY, 0, 16);
	msg_state(TESSERA_VHOST_USER_SET_VRING_BASE, NEED_REPLY, 0, 3);
	save("broken-ring");
}

/* Config byte 16 makes a device callback drop the connection (see
 * fuzz-vhost-user.c); each is triggered, then a new connection starts. */
enum { DROP_IN_GET_FEATURES = 1, DROP_IN_SET_FEATURES, DROP_IN_GET_CONFIG,
	DROP_IN_SET_CONFIG, DROP_IN_QUEUE_STOP, DROP_IN_MEMORY_CHANGED };

static void seed_callback_drop(uint8_t where, const char *name) {
	preamble(NEED_REPLY, features);
	uint8_t drop = where;
	msg_config(TESSERA_VHOST_USER_SET_CONFIG, NEED_REPLY, 16, 1, &drop);
	switch (where) {
	case DROP_IN_GET_FEATURES: /* SET_FEATURES asks what is offered */
	case DROP_IN_SET_FEATURES:
		msg_u64(TESSERA_VHOST_USER_SET_FEATURES, NEED_REPLY, features);
		break;
	case DROP_IN_GET_CONFIG:
		msg_config(TESSERA_VHOST_USER_GET_CONFIG, 0, 0, 24, NULL);
		break;
	case DROP_IN_QUEUE_STOP:
		msg_state(TESSERA_VHOST_USER_GET_VRING_BASE, 0, 1, 0);
		break;
	case DROP_IN_MEMORY_CHANGED:
		msg_mem_table(NEED_REPLY, 1, &ram, 1, FD_RAM, 1);
		break;
	}
	msg(TESSERA_VHOST_USER_GET_QUEUE_NUM, 0, NULL, 0);
	emit(1, OP_RECONNECT);
	msg(TESSERA_VHOST_USER_GET_FEATURES, 0, NULL, 0);
	msg_config(TESSERA_VHOST_USER_GET_CONFIG, 0, 0, 24, NULL);
	save(name);
}

/* queue_stop() asks to drop the connection while the backend drops it. */
static void seed_drop_in_teardown(void) {
	preamble(0, features);
	uint8_t drop = DROP_IN_QUEUE_STOP;
	msg_config(TESSERA_VHOST_USER_SET_CONFIG, 0, 16, 1, &drop);
	emit(1, OP_HANGUP);
	save("drop-in-queue-stop-at-hangup");
}

/* Requests the backend refuses without dropping the connection. */
static void seed_refused(void) {
	msg_u64(TESSERA_VHOST_USER_SET_PROTOCOL_FEATURES, 0, UINT64_MAX);
	msg_u64(TESSERA_VHOST_USER_SET_FEATURES, NEED_REPLY, UINT64_MAX);
	msg(TESSERA_VHOST_USER_GET_STATUS, NEED_REPLY, NULL, 0);
	msg(TESSERA_VHOST_USER_GET_INFLIGHT_FD, 0, NULL, 0);
	msg(99, NEED_REPLY, "abc", 3);
	msg_config(TESSERA_VHOST_USER_GET_CONFIG, 0, 20, 8, NULL);
	msg_config(TESSERA_VHOST_USER_GET_CONFIG, 0, 0, 0, NULL);
	msg_config(TESSERA_VHOST_USER_GET_CONFIG, 0, UINT32_MAX, 4, NULL);
	msg_config(TESSERA_VHOST_USER_SET_CONFIG, NEED_REPLY, 0, 4, "abcd");
	msg_config(TESSERA_VHOST_USER_SET_CONFIG, NEED_REPLY, 20, 8, "abcdefgh");
	msg_state(TESSERA_VHOST_USER_SET_VRING_BASE, NEED_REPLY, 0, 0x10000);
	msg_state(TESSERA_VHOST_USER_SET_VRING_ENABLE, NEED_REPLY, 1, 2);
	msg_addr_log(NEED_REPLY, 0, TESSERA_VHOST_USER_VRING_F_LOG, 0, 0, 0);
	msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_KICK, NEED_REPLY, 1,
		FD_DEV_NULL, 1);
	msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_CALL, NEED_REPLY, 1,
		FD_SOCKET, 1);
	msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_ERR, NEED_REPLY, 0, FD_PIPE, 1);
	msg_fds(TESSERA_VHOST_USER_GPU_SET_SOCKET, NEED_REPLY, NULL, 0,
		FD_SOCKET, 1);
	msg_fds(TESSERA_VHOST_USER_SET_BACKEND_REQ_FD, NEED_REPLY, NULL, 0,
		FD_SOCKET, 1);
	msg(TESSERA_VHOST_USER_RESET_OWNER, NEED_REPLY, NULL, 0);
	msg(TESSERA_VHOST_USER_GET_FEATURES, TESSERA_VHOST_USER_FLAG_REPLY,
		NULL, 0);
	save("refused");
}

/* Each malformed message drops the connection; then a new one. */
static void seed_fatal(const char *name, void (*bad)(void)) {
	msg(TESSERA_VHOST_USER_GET_FEATURES, 0, NULL, 0);
	msg_mem_table(0, 1, &ram, 1, FD_RAM, 1);
	bad();
	msg(TESSERA_VHOST_USER_GET_FEATURES, 0, NULL, 0);
	emit(1, OP_RECONNECT);
	msg(TESSERA_VHOST_USER_GET_QUEUE_NUM, 0, NULL, 0);
	save(name);
}

static void bad_version(void) {
	/* the MSG op always sets version 1: send the header raw */
	uint8_t h[12];
	put_le(h, 4, TESSERA_VHOST_USER_GET_FEATURES);
	put_le(h + 4, 4, 2);
	put_le(h + 8, 4, 0);
	send_raw(h, sizeof(h), FD_RAM, 0);
}

static void bad_oversized(void) {
	uint8_t h[12];
	put_le(h, 4, TESSERA_VHOST_USER_SET_FEATURES);
	put_le(h + 4, 4, TESSERA_VHOST_USER_VERSION);
	put_le(h + 8, 4, UINT32_MAX);
	send_raw(h, sizeof(h), FD_RAM, 0);
}

static void bad_size(void) {
	msg(TESSERA_VHOST_USER_SET_FEATURES, 0, "1234", 4);
}

static void bad_fds_with_get(void) {
	msg_fds(TESSERA_VHOST_USER_GET_FEATURES, 0, NULL, 0, FD_EVENT, 2);
}

static void bad_too_many_fds(void) {
	uint8_t h[20] = {0};
	put_le(h, 4, TESSERA_VHOST_USER_SET_VRING_CALL);
	put_le(h + 4, 4, TESSERA_VHOST_USER_VERSION);
	put_le(h + 8, 4, 8);
	send_raw(h, sizeof(h), FD_EVENT, 9);
}

static void bad_mem_none(void) {
	msg_mem_table(0, 0, NULL, 0, FD_RAM, 0);
}

static void bad_mem_nine(void) {
	struct region r[8];
	for (int i = 0; i < 8; i++) {
		r[i] = (struct region){ 0x1000 * (uint64_t)i, 0x1000,
			UVA_BASE + 0x1000 * (uint64_t)i, 0x1000 * (uint64_t)i };
	}
	msg_mem_table(0, 9, r, 8, FD_RAM, 7);
}

static void bad_mem_fd_count(void) {
	msg_mem_table(0, 2, (struct region[2]){ { 0, 0x1000, UVA_BASE, 0 },
		{ 0x1000, 0x1000, UVA_BASE + 0x1000, 0x1000 } }, 2, FD_RAM, 1);
}

static void bad_mem_overlap(void) {
	msg_mem_table(0, 2, (struct region[2]){ { 0, 0x2000, UVA_BASE, 0 },
		{ 0x1000, 0x1000, UVA_BASE + 0x8000, 0x1000 } }, 2, FD_RAM, 2);
}

static void bad_mem_beyond_file(void) {
	msg_mem_table(0, 1, &ram, 1, FD_SMALL_MEMFD, 1);
}

static void bad_mem_sealed(void) {
	msg_mem_table(0, 1, &ram, 1, FD_SEALED_MEMFD, 1);
}

static void bad_mem_not_file(void) {
	msg_mem_table(0, 1, &ram, 1, FD_DEV_NULL, 1);
}

static void bad_mem_wraps(void) {
	struct region r = { UINT64_MAX - 0xfff, 0x10000, UVA_BASE, 0 };
	msg_mem_table(0, 1, &r, 1, FD_RAM, 1);
}

static void bad_mem_huge(void) {
	struct region r[2] = {
		{ 0, (uint64_t)256 << 20, UVA_BASE, 0 },
		{ (uint64_t)1 << 40, (uint64_t)1 << 40, UINT64_C(1) << 45, 0 },
	};
	msg_mem_table(0, 2, r, 2, FD_HUGE_MEMFD, 2);
}

static void bad_queue_index(void) {
	msg_state(TESSERA_VHOST_USER_SET_VRING_NUM, 0, 2, QUEUE_SIZE);
}

static void bad_queue_size(void) {
	msg_state(TESSERA_VHOST_USER_SET_VRING_NUM, 0, 0, 24);
}

static void bad_kick_index(void) {
	msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_KICK, 0, 0xff, FD_EVENT, 1);
}

static void bad_kick_missing_fd(void) {
	msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_KICK, 0, 0, FD_EVENT, 0);
}

static void bad_call_nofd_with_fd(void) {
	msg_vring_fd(TESSERA_VHOST_USER_SET_VRING_CALL, 0, NOFD, FD_EVENT, 1);
}

static void bad_config_size(void) {
	uint8_t p[12] = {0};
	put_le(p + 4, 4, 300);
	msg(TESSERA_VHOST_USER_GET_CONFIG, 0, p, sizeof(p));
}

static void bad_gpu_socket_no_fd(void) {
	msg(TESSERA_VHOST_USER_GPU_SET_SOCKET, 0, NULL, 0);
}

static void bad_hangup_inside(void) {
	uint8_t h[14];
	put_le(h, 4, TESSERA_VHOST_USER_SET_FEATURES);
	put_le(h + 4, 4, TESSERA_VHOST_USER_VERSION);
	put_le(h + 8, 4, 8);
	send_raw(h, sizeof(h), FD_RAM, 0);
	emit(1, OP_HANGUP);
}

int main(int argc, char *argv[]) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
		return 2;
	}
	dir = argv[1];

	seed_session(0, "session");
	seed_session(NEED_REPLY, "session-need-reply");
	seed_no_protocol_features();
	seed_device_disconnect();
	seed_two_regions();
	seed_split();
	seed_broken_ring();
	seed_refused();
	seed_callback_drop(DROP_IN_GET_FEATURES, "drop-in-get-features");
	seed_callback_drop(DROP_IN_SET_FEATURES, "drop-in-set-features");
	seed_callback_drop(DROP_IN_GET_CONFIG, "drop-in-get-config");
	seed_callback_drop(DROP_IN_SET_CONFIG, "drop-in-set-config");
	seed_callback_drop(DROP_IN_QUEUE_STOP, "drop-in-queue-stop");
	seed_callback_drop(DROP_IN_MEMORY_CHANGED, "drop-in-memory-changed");
	seed_drop_in_teardown();

	seed_fatal("bad-version", bad_version);
	seed_fatal("bad-oversized", bad_oversized);
	seed_fatal("bad-size", bad_size);
	seed_fatal("bad-fds-with-get", bad_fds_with_get);
	seed_fatal("bad-too-many-fds", bad_too_many_fds);
	seed_fatal("bad-mem-none", bad_mem_none);
	seed_fatal("bad-mem-nine", bad_mem_nine);
	seed_fatal("bad-mem-fd-count", bad_mem_fd_count);
	seed_fatal("bad-mem-overlap", bad_mem_overlap);
	seed_fatal("bad-mem-beyond-file", bad_mem_beyond_file);
	seed_fatal("bad-mem-sealed", bad_mem_sealed);
	seed_fatal("bad-mem-not-file", bad_mem_not_file);
	seed_fatal("bad-mem-wraps", bad_mem_wraps);
	seed_fatal("bad-mem-huge", bad_mem_huge);
	seed_fatal("bad-queue-index", bad_queue_index);
	seed_fatal("bad-queue-size", bad_queue_size);
	seed_fatal("bad-kick-index", bad_kick_index);
	seed_fatal("bad-kick-missing-fd", bad_kick_missing_fd);
	seed_fatal("bad-call-nofd-with-fd", bad_call_nofd_with_fd);
	seed_fatal("bad-config-size", bad_config_size);
	seed_fatal("bad-gpu-socket-no-fd", bad_gpu_socket_no_fd);
	seed_fatal("bad-hangup-inside", bad_hangup_inside);

	printf("wrote %d seeds to %s\n", written, dir);
	return 0;
}
