/*
 * Writes the seed corpus of the virtqueue fuzz target (fuzz-virtqueue.c)
 * into the directory given as argument. The committed seeds in
 * corpus/virtqueue were made with it:
 *
 *	ninja -C build tests/fuzz/gen-virtqueue-seeds
 *	rm -rf tests/fuzz/corpus/virtqueue && mkdir tests/fuzz/corpus/virtqueue
 *	build/tests/fuzz/gen-virtqueue-seeds tests/fuzz/corpus/virtqueue
 *
 * Valid queues (plain chains, indirect tables, chains crossing regions,
 * index wrap-around, event index) and the malicious descriptors a guest
 * can write: out-of-range addresses, loops, zero lengths, length
 * overflow, too many indirect entries or segments, and broken rings.
 */
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* must match fuzz-virtqueue.c */
#define AVAIL_GPA 0x1000
#define SCRATCH_GPA 0x3000
#define SCRATCH_MAX 0x5000
#define MAX_INPUT 8192

#define F_EVENT_IDX 1
#define F_INDIRECT 2
#define LAYOUT(n) ((n) << 2) /* 0 one, 1 two adjacent, 2 hole, 3 three */

#define OP_POP 0
#define OP_PUSH 1
#define OP_PUSH_ANY 2
#define OP_NOTIFY 3
#define OP_PENDING 4
#define OP_POKE 5
#define OP_PUBLISH 6
#define OP_DRAIN 7

static const char *dir;
static int written;

struct seed {
	uint8_t flags;
	unsigned log2_size;
	uint16_t last_avail, used_idx;
	uint8_t desc[16 * 256];
	uint8_t avail[6 + 2 * 256];
	uint8_t scratch[SCRATCH_MAX];
	size_t scratch_len;
	uint8_t ops[MAX_INPUT];
	size_t ops_len;
};

static struct seed s;

static void put_le(uint8_t *p, size_t width, uint64_t v) {
	for (size_t i = 0; i < width; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static uint32_t qsize(void) {
	return UINT32_C(1) << s.log2_size;
}

static void start(uint8_t flags, unsigned log2_size) {
	memset(&s, 0, sizeof(s));
	s.flags = flags;
	s.log2_size = log2_size;
}

static void put_desc(uint8_t *table, uint32_t i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next) {
	uint8_t *d = table + 16 * (size_t)i;
	put_le(d, 8, addr);
	put_le(d + 8, 4, len);
	put_le(d + 12, 2, flags);
	put_le(d + 14, 2, next);
}

static void desc(uint32_t i, uint64_t addr, uint32_t len, uint16_t flags,
		uint16_t next) {
	put_desc(s.desc, i, addr, len, flags, next);
}

/* An entry of an indirect table at SCRATCH_GPA + table. */
static void idesc(size_t table, uint32_t i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next) {
	size_t end = table + 16 * ((size_t)i + 1);
	if (end > sizeof(s.scratch)) {
		fprintf(stderr, "scratch overflow\n");
		exit(1);
	}
	put_desc(s.scratch, (uint32_t)(table / 16 + i), addr, len, flags, next);
	if (end > s.scratch_len) {
		s.scratch_len = end;
	}
}

static void avail(uint16_t idx, const uint16_t *heads, size_t n) {
	put_le(s.avail + 2, 2, idx);
	for (size_t i = 0; i < n; i++) {
		uint16_t slot = (uint16_t)(s.last_avail + i) & (qsize() - 1);
		put_le(s.avail + 4 + 2 * (size_t)slot, 2, heads[i]);
	}
}

static void avail_flags(uint16_t flags) {
	put_le(s.avail, 2, flags);
}

static void used_event(uint16_t v) {
	put_le(s.avail + 4 + 2 * (size_t)qsize(), 2, v);
}

static void op(uint8_t code) {
	s.ops[s.ops_len++] = code;
}

static void arg(size_t width, uint64_t v) {
	put_le(s.ops + s.ops_len, width, v);
	s.ops_len += width;
}

static void pop(uint16_t read_off, uint16_t read_len, uint16_t write_off,
		uint16_t write_len) {
	op(OP_POP);
	arg(2, read_off);
	arg(2, read_len);
	arg(2, write_off);
	arg(2, write_len);
}

static void push(uint8_t k, uint32_t len) {
	op(OP_PUSH);
	arg(1, k);
	arg(4, len);
}

static void push_any(uint16_t head, uint32_t len) {
	op(OP_PUSH_ANY);
	arg(2, head);
	arg(4, len);
}

static void publish(uint16_t head) {
	op(OP_PUBLISH);
	arg(2, head);
}

static void poke(uint16_t offset, const void *bytes, uint8_t len) {
	op(OP_POKE);
	arg(2, offset);
	arg(1, len);
	memcpy(s.ops + s.ops_len, bytes, len);
	s.ops_len += len;
}

static void save(const char *name) {
	uint8_t buf[16 + sizeof(s.desc) + sizeof(s.avail) + sizeof(s.scratch) +
		sizeof(s.ops)];
	size_t len = 0;
	buf[len++] = s.flags;
	buf[len++] = (uint8_t)s.log2_size;
	put_le(buf + len, 2, s.last_avail);
	len += 2;
	put_le(buf + len, 2, s.used_idx);
	len += 2;
	put_le(buf + len, 2, s.scratch_len);
	len += 2;
	memcpy(buf + len, s.desc, 16 * (size_t)qsize());
	len += 16 * (size_t)qsize();
	memcpy(buf + len, s.avail, 6 + 2 * (size_t)qsize());
	len += 6 + 2 * (size_t)qsize();
	memcpy(buf + len, s.scratch, s.scratch_len);
	len += s.scratch_len;
	memcpy(buf + len, s.ops, s.ops_len);
	len += s.ops_len;
	if (len > MAX_INPUT) {
		fprintf(stderr, "%s: %zu bytes, more than %d\n", name, len, MAX_INPUT);
		exit(1);
	}

	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	written++;
}

#define R 0
#define W VRING_DESC_F_WRITE
#define N VRING_DESC_F_NEXT
#define I VRING_DESC_F_INDIRECT

/* ---- valid queues ---- */

static void seed_simple(uint8_t flags, const char *name) {
	start(flags, 3);
	desc(0, 0x3000, 64, R | N, 1);
	desc(1, 0x3100, 64, W, 0);
	desc(2, 0x3200, 16, R, 0);
	desc(5, 0x3300, 100, W, 0);
	uint16_t heads[] = { 0, 2, 5 };
	avail(3, heads, 3);
	used_event(1);
	pop(0, 64, 0, 64);
	op(OP_NOTIFY);
	push(0, 64);
	op(OP_NOTIFY);
	op(OP_PENDING);
	pop(8, 100, 0, 0);
	pop(0, 0, 50, 100);
	push(1, 0);
	push(0, 100);
	op(OP_NOTIFY);
	pop(0, 0, 0, 0);
	op(OP_NOTIFY);
	save(name);
}

static void seed_indirect(void) {
	start(F_INDIRECT | F_EVENT_IDX, 2);
	desc(1, SCRATCH_GPA, 4 * 16, I, 0);
	idesc(0, 0, 0x4000, 32, R | N, 2);
	idesc(0, 2, 0x4100, 32, R | N, 1);
	idesc(0, 1, 0x4200, 128, W | N, 3);
	idesc(0, 3, 0x4300, 8, W, 0);
	uint16_t heads[] = { 1 };
	avail(1, heads, 1);
	pop(0, 64, 0, 136);
	push(0, 136);
	op(OP_NOTIFY);
	save("indirect");
}

static void seed_indirect_and_direct(void) {
	start(F_INDIRECT, 4);
	desc(0, SCRATCH_GPA, 2 * 16, I, 0);
	idesc(0, 0, 0x5000, 0x100, R | N, 1);
	idesc(0, 1, 0x5100, 0x100, W, 0);
	desc(3, 0x6000, 0x80, R | N, 7);
	desc(7, 0x6100, 0x80, W, 0);
	uint16_t heads[] = { 0, 3 };
	avail(2, heads, 2);
	op(OP_DRAIN);
	publish(3);
	publish(0);
	op(OP_PENDING);
	op(OP_DRAIN);
	save("indirect-and-direct");
}

/* A buffer crossing from one region into the next: two segments. */
static void seed_cross(void) {
	start(F_EVENT_IDX | LAYOUT(1), 3);
	desc(0, 0x7f00, 0x200, R | N, 1);
	desc(1, 0x7ff0, 0x20, W, 0);
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	pop(0x80, 0x200, 0, 0x20);
	push(0, 0x20);
	op(OP_NOTIFY);
	save("cross-region");
}

/* Three adjacent regions listed highest first: one buffer, three segments. */
static void seed_cross3(void) {
	start(LAYOUT(3), 3);
	desc(0, 0x7f00, 0x1200, R | N, 1);
	desc(1, 0x8ff0, 0x20, W, 0);
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	pop(0xf0, 0x1000, 0, 0x20);
	op(OP_DRAIN);
	save("cross-three-regions");
}

/* The hole between regions of layout 2. */
static void seed_hole(void) {
	start(LAYOUT(2), 3);
	desc(0, 0x18000, 0x100, R | N, 1);
	desc(1, 0x7f00, 0x100, W, 0);
	desc(2, 0x7f00, 0x200, W, 0); /* runs into the hole */
	uint16_t heads[] = { 0, 2 };
	avail(2, heads, 2);
	op(OP_DRAIN);
	save("hole");
}

/* A chain through the whole table of 256 descriptors. */
static void seed_long_chain(void) {
	start(F_EVENT_IDX, 8);
	for (uint32_t i = 0; i < 256; i++) {
		bool last = i == 255;
		desc(i, 0x3000 + 16 * i, 16, (i >= 128 ? W : R) | (last ? 0 : N),
			(uint16_t)(i + 1));
	}
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	pop(100, 2048, 1000, 2048);
	push(0, 2048);
	save("long-chain");
}

/* Indices near 65535: the avail and used indices wrap. */
static void seed_wrap(void) {
	start(F_EVENT_IDX, 2);
	s.last_avail = 0xfffe;
	s.used_idx = 0xfffd;
	for (uint32_t i = 0; i < 4; i++) {
		desc(i, 0x3000 + 0x100 * i, 0x40, W, 0);
	}
	uint16_t heads[] = { 3, 1, 0 };
	avail(1, heads, 3);
	used_event(0xffff);
	pop(0, 0, 0, 0x40);
	op(OP_NOTIFY);
	push(0, 0x40);
	op(OP_NOTIFY);
	op(OP_DRAIN);
	op(OP_NOTIFY);
	publish(2);
	publish(3);
	op(OP_DRAIN);
	op(OP_NOTIFY);
	save("index-wrap");
}

static void seed_size1(void) {
	start(F_EVENT_IDX | F_INDIRECT, 0);
	desc(0, 0x3000, 1, R, 0);
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	pop(0, 1, 0, 1);
	push(0, 0);
	publish(0);
	pop(0, 1, 0, 0);
	push_any(0, 7);
	push_any(0, 7); /* not in flight any more */
	op(OP_NOTIFY);
	save("size-1");
}

/* No interrupts wanted, then wanted again. */
static void seed_no_interrupt(void) {
	start(0, 2);
	desc(0, 0x3000, 8, W, 0);
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	avail_flags(VRING_AVAIL_F_NO_INTERRUPT);
	op(OP_DRAIN);
	op(OP_NOTIFY);
	uint8_t zero[2] = { 0, 0 };
	poke(AVAIL_GPA, zero, 2);
	op(OP_NOTIFY);
	save("no-interrupt");
}

/* The device writes into the avail ring: avail->idx changes under it. */
static void seed_scribble(void) {
	start(F_EVENT_IDX, 2);
	desc(0, AVAIL_GPA, 4, W, 0);
	desc(1, 0x3000, 4, R, 0);
	uint16_t heads[] = { 0, 1 };
	avail(2, heads, 2);
	pop(0, 0, 0, 4);
	op(OP_PENDING);
	pop(0, 0, 0, 0);
	op(OP_DRAIN);
	save("scribble-avail");
}

/* Most segments a chain may have: 1023 (341 indirect entries of three). */
static void seed_segments(uint32_t entries, const char *name) {
	start(F_INDIRECT | LAYOUT(3), 0);
	desc(0, SCRATCH_GPA, 16 * entries, I, 0);
	for (uint32_t i = 0; i < entries; i++) {
		idesc(0, i, 0x7f00, 0x1200, R | (i + 1 < entries ? N : 0),
			(uint16_t)(i + 1));
	}
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	pop(0x1000, 0x8000, 0, 0);
	save(name);
}

/* ---- malicious descriptors and rings ---- */

static void seed_bad_desc(const char *name, uint64_t addr, uint32_t len,
		uint16_t flags) {
	start(F_EVENT_IDX | F_INDIRECT | LAYOUT(1), 2);
	desc(0, 0x3000, 16, R, 0);
	desc(1, addr, len, flags, 0);
	desc(2, 0x3000, 16, W, 0);
	uint16_t heads[] = { 0, 1, 2 };
	avail(3, heads, 3);
	op(OP_DRAIN);
	op(OP_NOTIFY);
	push_any(2, 0);
	op(OP_PENDING);
	save(name);
}

static void seed_loop(void) {
	start(0, 3);
	desc(0, 0x3000, 16, R | N, 1);
	desc(1, 0x3010, 16, R | N, 2);
	desc(2, 0x3020, 16, R | N, 0);
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	op(OP_DRAIN);
	save("loop");
}

static void seed_self_loop_indirect(void) {
	start(F_INDIRECT, 1);
	desc(0, SCRATCH_GPA, 32, I, 0);
	idesc(0, 0, 0x4000, 16, R | N, 1);
	idesc(0, 1, 0x4000, 16, R | N, 0);
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	op(OP_DRAIN);
	save("loop-indirect");
}

static void seed_next_out_of_range(void) {
	start(0, 2);
	desc(0, 0x3000, 16, R | N, 4);
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	op(OP_DRAIN);
	save("next-out-of-range");
}

static void seed_indirect_bad(const char *name, uint8_t flags, uint32_t len,
		uint16_t entry_flags) {
	start(flags, 1);
	desc(0, SCRATCH_GPA, len, I | (entry_flags & N ? N : 0), 1);
	desc(1, 0x4000, 16, W, 0);
	idesc(0, 0, 0x4000, 16, entry_flags & ~N, 0);
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	op(OP_DRAIN);
	save(name);
}

static void seed_indirect_not_head(void) {
	start(F_INDIRECT, 2);
	desc(0, 0x3000, 16, R | N, 1);
	desc(1, SCRATCH_GPA + 0x100, 16, I, 0);
	idesc(0x100, 0, 0x4000, 16, R, 0);
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	op(OP_DRAIN);
	save("indirect-not-head");
}

static void seed_readable_after_writable(void) {
	start(0, 2);
	desc(0, 0x3000, 16, W | N, 1);
	desc(1, 0x3100, 16, R, 0);
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	op(OP_DRAIN);
	save("readable-after-writable");
}

static void seed_avail_ahead(void) {
	start(F_EVENT_IDX, 2);
	desc(0, 0x3000, 16, R, 0);
	uint16_t heads[] = { 0 };
	avail(5, heads, 1); /* 5 entries in a queue of 4 */
	op(OP_PENDING);
	pop(0, 0, 0, 0);
	op(OP_NOTIFY);
	push_any(0, 0);
	save("avail-ahead");
}

static void seed_head_out_of_range(void) {
	start(0, 2);
	uint16_t heads[] = { 4 };
	avail(1, heads, 1);
	op(OP_DRAIN);
	save("head-out-of-range");
}

static void seed_head_twice(void) {
	start(0, 2);
	desc(0, 0x3000, 16, R, 0);
	uint16_t heads[] = { 0, 0 };
	avail(2, heads, 2);
	pop(0, 16, 0, 0);
	pop(0, 16, 0, 0);
	push(0, 0);
	save("head-twice-in-flight");
}

static void seed_driver_rewrites(void) {
	start(F_EVENT_IDX, 2);
	desc(0, 0x3000, 16, R, 0);
	uint16_t heads[] = { 0 };
	avail(1, heads, 1);
	pop(0, 16, 0, 0);
	/* turn descriptor 0 into a bad one, then make it available again */
	uint8_t bad[8] = { 0, 0, 0, 0, 0, 0, 1, 0 };
	poke(0, bad, sizeof(bad));
	push(0, 0);
	publish(0);
	op(OP_DRAIN);
	save("driver-rewrites");
}

int main(int argc, char *argv[]) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
		return 2;
	}
	dir = argv[1];

	seed_simple(0, "simple");
	seed_simple(F_EVENT_IDX, "simple-event-idx");
	seed_simple(F_EVENT_IDX | F_INDIRECT | LAYOUT(3), "simple-three-regions");
	seed_indirect();
	seed_indirect_and_direct();
	seed_cross();
	seed_cross3();
	seed_hole();
	seed_long_chain();
	seed_wrap();
	seed_size1();
	seed_no_interrupt();
	seed_scribble();
	seed_segments(341, "segments-1023");
	seed_segments(342, "segments-1026");

	seed_bad_desc("addr-outside", 0x10000, 16, R);
	seed_bad_desc("addr-straddles-end", 0xfff0, 0x20, R);
	seed_bad_desc("addr-wraps", UINT64_C(0xffffffffffffff00), 0x200, R);
	seed_bad_desc("addr-huge-len", 0x3000, UINT32_MAX, W);
	seed_bad_desc("zero-length", 0x3000, 0, R);
	seed_bad_desc("indirect-len-huge", SCRATCH_GPA, 1025 * 16, I);
	seed_bad_desc("indirect-outside", 0xff00, 0x200, I);
	seed_loop();
	seed_self_loop_indirect();
	seed_next_out_of_range();
	seed_indirect_bad("indirect-not-negotiated", 0, 16, R);
	seed_indirect_bad("indirect-with-next", F_INDIRECT, 16, R | N);
	seed_indirect_bad("indirect-zero-len", F_INDIRECT, 0, R);
	seed_indirect_bad("indirect-len-not-16", F_INDIRECT, 24, R);
	seed_indirect_bad("indirect-nested", F_INDIRECT, 16, I);
	seed_indirect_not_head();
	seed_readable_after_writable();
	seed_avail_ahead();
	seed_head_out_of_range();
	seed_head_twice();
	seed_driver_rewrites();

	printf("wrote %d seeds to %s\n", written, dir);
	return 0;
}
