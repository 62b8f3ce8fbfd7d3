/* Split virtqueue walker against good and malicious chains, EVENT_IDX
 * notification rules, and the driver side against the device side. */
#define _GNU_SOURCE
#include <linux/virtio_ring.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memory-table.h"
#include "tessera-test.h"
#include "virtqueue-driver.h"
#include "virtqueue.h"

#define KB(x) ((uint64_t)(x) * 1024)
#define UVA_BASE UINT64_C(0x7f0000000000)
#define F_INDIRECT (UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX)

/* Guest memory: r0 [0, 64K) and r1 [64K, 128K) adjacent, r2 [1M, 1M + 64K)
 * after a gap. Rings live at the start of r0, data in r1 and r2. */
#define R1 KB(64)
#define R2 KB(1024)
#define INDIRECT_GPA (R2 + KB(32))

struct fixture {
	int memfd;
	struct tessera_memory_table mem;
	uint32_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint8_t *desc, *avail, *used;
	uint16_t avail_idx;
	struct tessera_virtqueue vq;
	struct tessera_virtqueue_element elem;
};

static uint64_t align4k(uint64_t v) {
	return (v + KB(4) - 1) & ~(KB(4) - 1);
}

static void *host(struct fixture *f, uint64_t gpa, uint64_t len) {
	void *p = tessera_memory_table_translate(&f->mem, gpa, len);
	REQUIRE(p != NULL);
	return p;
}

static void fixture_init(struct fixture *f, uint32_t size, uint64_t features) {
	memset(f, 0, sizeof(*f));
	f->memfd = memfd_create("test-virtqueue", MFD_CLOEXEC);
	REQUIRE(f->memfd >= 0);
	REQUIRE(ftruncate(f->memfd, (off_t)KB(192)) == 0);
	struct tessera_memory_region_desc descs[3] = {
		{ .gpa = 0, .size = KB(64), .uva = UVA_BASE, .mmap_offset = 0,
			.fd = dup(f->memfd) },
		{ .gpa = R1, .size = KB(64), .uva = UVA_BASE + KB(64),
			.mmap_offset = KB(64), .fd = dup(f->memfd) },
		{ .gpa = R2, .size = KB(64), .uva = UVA_BASE + KB(1024),
			.mmap_offset = KB(128), .fd = dup(f->memfd) },
	};
	tessera_memory_table_init(&f->mem);
	REQUIRE(tessera_memory_table_set_table(&f->mem, descs, 3, NULL, 0) == 0);

	f->size = size;
	f->desc_gpa = 0;
	f->avail_gpa = align4k(tessera_virtqueue_desc_size(size));
	f->used_gpa = align4k(f->avail_gpa + tessera_virtqueue_avail_size(size));
	REQUIRE(f->used_gpa + tessera_virtqueue_used_size(size) <= KB(64));
	f->desc = host(f, f->desc_gpa, tessera_virtqueue_desc_size(size));
	f->avail = host(f, f->avail_gpa, tessera_virtqueue_avail_size(size));
	f->used = host(f, f->used_gpa, tessera_virtqueue_used_size(size));

	struct tessera_virtqueue_rings rings = {
		.desc = f->desc, .avail = f->avail, .used = f->used,
	};
	REQUIRE(tessera_virtqueue_init(&f->vq, &f->mem, size, &rings, features,
		0) == 0);
}

static void fixture_finish(struct fixture *f) {
	tessera_memory_table_finish(&f->mem);
	close(f->memfd);
}

static void put_desc(uint8_t *table, uint32_t i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next) {
	uint8_t *d = table + 16 * (size_t)i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void set_desc(struct fixture *f, uint32_t i, uint64_t addr,
		uint32_t len, uint16_t flags, uint16_t next) {
	put_desc(f->desc, i, addr, len, flags, next);
}

static uint16_t rd16(const uint8_t *p) {
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p) {
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void wr16(uint8_t *p, uint16_t v) {
	memcpy(p, &v, 2);
}

static void publish(struct fixture *f, uint16_t head) {
	wr16(f->avail + 4 + 2 * (f->avail_idx % f->size), head);
	f->avail_idx++;
	wr16(f->avail + 2, f->avail_idx);
}

static uint16_t used_idx(struct fixture *f) {
	return rd16(f->used + 2);
}

static uint16_t avail_event(struct fixture *f) {
	return rd16(f->used + 4 + 8 * f->size);
}

static void set_used_event(struct fixture *f, uint16_t v) {
	wr16(f->avail + 4 + 2 * f->size, v);
}

/* pops and expects the queue to break with a message containing `what` */
static void expect_broken(struct fixture *f, const char *what, int line) {
	int r = tessera_virtqueue_pop(&f->vq, &f->elem);
	if (r != -1 || !tessera_virtqueue_is_broken(&f->vq) ||
			strstr(tessera_virtqueue_error(&f->vq), what) == NULL) {
		fprintf(stderr, "line %d: expected broken queue (\"%s\"), got %d "
			"(%s)\n", line, what, r,
			tessera_virtqueue_error(&f->vq) ? tessera_virtqueue_error(&f->vq)
			: "not broken");
		test_failures++;
		return;
	}
	/* a broken queue stays broken and quiet */
	CHECK(tessera_virtqueue_pop(&f->vq, &f->elem) == -1);
	CHECK(tessera_virtqueue_push(&f->vq, 0, 0) == -1);
	CHECK(!tessera_virtqueue_should_notify(&f->vq));
	CHECK(tessera_virtqueue_pending(&f->vq) == 0);
	CHECK(used_idx(f) == 0);
}

#define EXPECT_BROKEN(f, what) expect_broken(f, what, __LINE__)

static void test_init_checks(void) {
	struct fixture f;
	fixture_init(&f, 8, 0);
	struct tessera_virtqueue vq;
	struct tessera_virtqueue_rings rings = {
		.desc = f.desc, .avail = f.avail, .used = f.used,
	};
	CHECK(tessera_virtqueue_init(&vq, &f.mem, 0, &rings, 0, 0) == -1);
	CHECK(tessera_virtqueue_init(&vq, &f.mem, 3, &rings, 0, 0) == -1);
	CHECK(tessera_virtqueue_init(&vq, &f.mem, 65536, &rings, 0, 0) == -1);
	CHECK(tessera_virtqueue_init(&vq, &f.mem, 32768, &rings, 0, 0) == 0);
	rings.desc = f.desc + 8;
	CHECK(tessera_virtqueue_init(&vq, &f.mem, 8, &rings, 0, 0) == -1);
	rings.desc = f.desc;
	rings.used = f.used + 2;
	CHECK(tessera_virtqueue_init(&vq, &f.mem, 8, &rings, 0, 0) == -1);
	rings.used = f.used;
	rings.avail = f.avail + 1;
	CHECK(tessera_virtqueue_init(&vq, &f.mem, 8, &rings, 0, 0) == -1);
	fixture_finish(&f);
}

static void test_good_direct(void) {
	struct fixture f;
	fixture_init(&f, 16, 0);
	CHECK(tessera_virtqueue_pop(&f.vq, &f.elem) == 0);

	uint8_t *out0 = host(&f, R1, 16);
	uint8_t *out1 = host(&f, R2 + 100, 8);
	memcpy(out0, "0123456789abcdef", 16);
	memcpy(out1, "ghijklmn", 8);
	/* chain 3 -> 7 -> 1: readable 16, readable 8, writable 32 */
	set_desc(&f, 3, R1, 16, VRING_DESC_F_NEXT, 7);
	set_desc(&f, 7, R2 + 100, 8, VRING_DESC_F_NEXT, 1);
	set_desc(&f, 1, R2 + KB(4), 32, VRING_DESC_F_WRITE, 0);
	publish(&f, 3);
	CHECK(tessera_virtqueue_pending(&f.vq) == 1);

	REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	CHECK(f.elem.head == 3);
	CHECK(f.elem.out_num == 2 && f.elem.in_num == 1);
	CHECK(f.elem.out_len == 24 && f.elem.in_len == 32);
	CHECK(f.elem.iov[0].iov_base == out0 && f.elem.iov[0].iov_len == 16);
	CHECK(f.elem.iov[1].iov_base == out1 && f.elem.iov[1].iov_len == 8);
	CHECK(f.elem.iov[2].iov_base == host(&f, R2 + KB(4), 32));
	CHECK(f.vq.inflight == 1);
	CHECK(tessera_virtqueue_pending(&f.vq) == 0);
	CHECK(tessera_virtqueue_pop(&f.vq, &f.elem) == 0);

	/* copy helpers gather across segments */
	char buf[32] = {0};
	CHECK(tessera_virtqueue_element_read(&f.elem, 12, buf, sizeof(buf)) == 12);
	CHECK(memcmp(buf, "cdefghijklmn", 12) == 0);
	CHECK(tessera_virtqueue_element_read(&f.elem, 24, buf, 4) == 0);
	CHECK(tessera_virtqueue_element_write(&f.elem, 30, "XYZ", 3) == 2);
	CHECK(memcmp(host(&f, R2 + KB(4) + 30, 2), "XY", 2) == 0);

	/* push: used element then index */
	CHECK(tessera_virtqueue_push(&f.vq, 3, 32) == 0);
	CHECK(used_idx(&f) == 1);
	CHECK(rd32(f.used + 4) == 3 && rd32(f.used + 8) == 32);
	CHECK(f.vq.inflight == 0);
	/* a head that is not in flight cannot be pushed (twice) */
	CHECK(tessera_virtqueue_push(&f.vq, 3, 32) == -1);
	CHECK(tessera_virtqueue_push(&f.vq, 5, 0) == -1);
	CHECK(tessera_virtqueue_push(&f.vq, 16, 0) == -1);
	CHECK(used_idx(&f) == 1);
	CHECK(!tessera_virtqueue_is_broken(&f.vq));

	/* the same head can come again once used */
	publish(&f, 3);
	REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	CHECK(tessera_virtqueue_push(&f.vq, 3, 0) == 0);

	/* a buffer crossing from r0 into the adjacent r1 is split */
	set_desc(&f, 0, R1 - 8, 24, 0, 0);
	publish(&f, 0);
	REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	CHECK(f.elem.out_num == 2 && f.elem.out_len == 24);
	CHECK(f.elem.iov[0].iov_len == 8 && f.elem.iov[1].iov_len == 16);
	CHECK(f.elem.iov[1].iov_base == host(&f, R1, 16));
	CHECK(tessera_virtqueue_push(&f.vq, 0, 0) == 0);

	/* avail idx wraps around 65535 -> 0 */
	struct tessera_virtqueue_rings rings = {
		.desc = f.desc, .avail = f.avail, .used = f.used,
	};
	REQUIRE(tessera_virtqueue_init(&f.vq, &f.mem, 16, &rings, 0, 65534) == 0);
	CHECK(f.vq.used_idx == 3);
	f.avail_idx = 65534;
	for (int i = 0; i < 4; i++) {
		set_desc(&f, (uint32_t)i, R1 + 64 * (uint64_t)i, 64,
			VRING_DESC_F_WRITE, 0);
		publish(&f, (uint16_t)i);
	}
	CHECK(tessera_virtqueue_pending(&f.vq) == 4);
	for (int i = 0; i < 4; i++) {
		REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
		CHECK(f.elem.head == i && f.elem.in_len == 64);
		CHECK(tessera_virtqueue_push(&f.vq, f.elem.head, 64) == 0);
	}
	CHECK(f.vq.last_avail_idx == 2);
	CHECK(used_idx(&f) == 7);
	fixture_finish(&f);
}

static void test_good_indirect(void) {
	struct fixture f;
	fixture_init(&f, 8, F_INDIRECT);
	uint8_t *table = host(&f, INDIRECT_GPA, 16 * 4);
	/* indirect table, entries chained 0 -> 2 -> 1 -> 3 */
	put_desc(table, 0, R1, 100, VRING_DESC_F_NEXT, 2);
	put_desc(table, 2, R1 + 200, 50, VRING_DESC_F_NEXT, 1);
	put_desc(table, 1, R2, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
	put_desc(table, 3, R2 + 64, 64, VRING_DESC_F_WRITE, 0);
	/* the WRITE flag of the indirect descriptor itself is ignored */
	set_desc(&f, 5, INDIRECT_GPA, 16 * 4,
		VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	publish(&f, 5);
	REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	CHECK(f.elem.head == 5);
	CHECK(f.elem.out_num == 2 && f.elem.out_len == 150);
	CHECK(f.elem.in_num == 2 && f.elem.in_len == 128);
	CHECK(f.elem.iov[1].iov_base == host(&f, R1 + 200, 50));
	CHECK(f.elem.iov[3].iov_base == host(&f, R2 + 64, 64));
	CHECK(tessera_virtqueue_push(&f.vq, 5, 128) == 0);

	/* a table of exactly the limit is fine */
	uint32_t n = TESSERA_VIRTQUEUE_MAX_INDIRECT;
	uint8_t *big = host(&f, R1, 16 * (uint64_t)n);
	for (uint32_t i = 0; i < n; i++) {
		put_desc(big, i, R2 + i, 1, i + 1 < n ? VRING_DESC_F_NEXT : 0,
			(uint16_t)(i + 1));
	}
	set_desc(&f, 0, R1, 16 * n, VRING_DESC_F_INDIRECT, 0);
	publish(&f, 0);
	REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	CHECK(f.elem.out_num == n && f.elem.out_len == n);
	fixture_finish(&f);
}

static void test_malicious(void) {
	struct fixture f;

	/* address in the gap between regions */
	fixture_init(&f, 8, 0);
	set_desc(&f, 0, KB(512), 16, 0, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "outside guest memory");
	fixture_finish(&f);

	/* running off the end of a region into nothing */
	fixture_init(&f, 8, 0);
	set_desc(&f, 0, R2 + KB(64) - 10, 100, 0, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "outside guest memory");
	fixture_finish(&f);

	/* address + length wraps */
	fixture_init(&f, 8, 0);
	set_desc(&f, 0, UINT64_MAX - 10, 100, 0, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "wraps");
	fixture_finish(&f);

	/* maximum length at a valid address */
	fixture_init(&f, 8, 0);
	set_desc(&f, 0, R1, UINT32_MAX, 0, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "outside guest memory");
	fixture_finish(&f);

	/* zero length */
	fixture_init(&f, 8, 0);
	set_desc(&f, 0, R1, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&f, 1, R1, 0, 0, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "zero-length");
	fixture_finish(&f);

	/* loop: 0 -> 1 -> 0 */
	fixture_init(&f, 8, 0);
	set_desc(&f, 0, R1, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&f, 1, R1, 16, VRING_DESC_F_NEXT, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "loops");
	fixture_finish(&f);

	/* self loop */
	fixture_init(&f, 8, 0);
	set_desc(&f, 2, R1, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	publish(&f, 2);
	EXPECT_BROKEN(&f, "loops");
	fixture_finish(&f);

	/* next out of range */
	fixture_init(&f, 8, 0);
	set_desc(&f, 0, R1, 16, VRING_DESC_F_NEXT, 8);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "out of range");
	fixture_finish(&f);

	/* head out of range */
	fixture_init(&f, 8, 0);
	publish(&f, 8);
	EXPECT_BROKEN(&f, "out of range");
	fixture_finish(&f);

	/* readable after writable */
	fixture_init(&f, 8, 0);
	set_desc(&f, 0, R1, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(&f, 1, R1, 16, 0, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "readable descriptor after a writable");
	fixture_finish(&f);

	/* avail idx jumps by more than the queue size */
	fixture_init(&f, 8, 0);
	wr16(f.avail + 2, 9);
	EXPECT_BROKEN(&f, "ahead");
	fixture_finish(&f);

	/* ... also seen when the queue is polled for pending work */
	fixture_init(&f, 8, 0);
	wr16(f.avail + 2, 0x8000);
	CHECK(tessera_virtqueue_pending(&f.vq) == 0);
	CHECK(tessera_virtqueue_is_broken(&f.vq));
	fixture_finish(&f);

	/* a head made available again while still in flight */
	fixture_init(&f, 8, 0);
	set_desc(&f, 0, R1, 16, 0, 0);
	publish(&f, 0);
	publish(&f, 0);
	REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	EXPECT_BROKEN(&f, "in flight");
	fixture_finish(&f);

	/* more segments than the limit (a long, loop-free chain) */
	fixture_init(&f, 2048, 0);
	for (uint32_t i = 0; i <= TESSERA_VIRTQUEUE_MAX_SEGMENTS; i++) {
		set_desc(&f, i, R1 + i, 1, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	}
	set_desc(&f, TESSERA_VIRTQUEUE_MAX_SEGMENTS + 1, R1, 1, 0, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "segments");
	fixture_finish(&f);

	/* indirect without the feature */
	fixture_init(&f, 8, 0);
	put_desc(host(&f, INDIRECT_GPA, 16), 0, R1, 16, 0, 0);
	set_desc(&f, 0, INDIRECT_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "without INDIRECT_DESC");
	fixture_finish(&f);

	/* indirect combined with NEXT */
	fixture_init(&f, 8, F_INDIRECT);
	put_desc(host(&f, INDIRECT_GPA, 16), 0, R1, 16, 0, 0);
	set_desc(&f, 0, INDIRECT_GPA, 16,
		VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	set_desc(&f, 1, R1, 16, 0, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "NEXT");
	fixture_finish(&f);

	/* indirect descriptor after a direct one */
	fixture_init(&f, 8, F_INDIRECT);
	put_desc(host(&f, INDIRECT_GPA, 16), 0, R1, 16, 0, 0);
	set_desc(&f, 0, R1, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&f, 1, INDIRECT_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "not at the chain head");
	fixture_finish(&f);

	/* nested indirect table */
	fixture_init(&f, 8, F_INDIRECT);
	put_desc(host(&f, INDIRECT_GPA, 32), 0, INDIRECT_GPA + 16, 16,
		VRING_DESC_F_INDIRECT, 0);
	set_desc(&f, 0, INDIRECT_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "inside an indirect table");
	fixture_finish(&f);

	/* indirect table too large */
	fixture_init(&f, 8, F_INDIRECT);
	set_desc(&f, 0, R1, 16 * (TESSERA_VIRTQUEUE_MAX_INDIRECT + 1),
		VRING_DESC_F_INDIRECT, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "invalid length");
	fixture_finish(&f);

	/* indirect table length not a multiple of 16, or zero */
	fixture_init(&f, 8, F_INDIRECT);
	set_desc(&f, 0, INDIRECT_GPA, 24, VRING_DESC_F_INDIRECT, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "invalid length");
	fixture_finish(&f);
	fixture_init(&f, 8, F_INDIRECT);
	set_desc(&f, 0, INDIRECT_GPA, 0, VRING_DESC_F_INDIRECT, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "invalid length");
	fixture_finish(&f);

	/* indirect table outside guest memory */
	fixture_init(&f, 8, F_INDIRECT);
	set_desc(&f, 0, KB(512), 64, VRING_DESC_F_INDIRECT, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "indirect table");
	fixture_finish(&f);

	/* loop inside an indirect table */
	fixture_init(&f, 8, F_INDIRECT);
	uint8_t *table = host(&f, INDIRECT_GPA, 48);
	put_desc(table, 0, R1, 16, VRING_DESC_F_NEXT, 1);
	put_desc(table, 1, R1, 16, VRING_DESC_F_NEXT, 2);
	put_desc(table, 2, R1, 16, VRING_DESC_F_NEXT, 0);
	set_desc(&f, 0, INDIRECT_GPA, 48, VRING_DESC_F_INDIRECT, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "loops");
	fixture_finish(&f);

	/* next index beyond the indirect table (but inside the main one) */
	fixture_init(&f, 8, F_INDIRECT);
	table = host(&f, INDIRECT_GPA, 32);
	put_desc(table, 0, R1, 16, VRING_DESC_F_NEXT, 5);
	put_desc(table, 1, R1, 16, 0, 0);
	set_desc(&f, 0, INDIRECT_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "out of range");
	fixture_finish(&f);

	/* zero-length descriptor inside an indirect table */
	fixture_init(&f, 8, F_INDIRECT);
	table = host(&f, INDIRECT_GPA, 32);
	put_desc(table, 0, R1, 16, VRING_DESC_F_NEXT, 1);
	put_desc(table, 1, R1, 0, 0, 0);
	set_desc(&f, 0, INDIRECT_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	publish(&f, 0);
	EXPECT_BROKEN(&f, "zero-length");
	fixture_finish(&f);
}

static void test_event_idx(void) {
	struct fixture f;
	fixture_init(&f, 8, F_EVENT_IDX);

	/* an empty pop asks for a kick at the next entry */
	wr16(f.used + 4 + 8 * 8, 0xffff);
	CHECK(tessera_virtqueue_pop(&f.vq, &f.elem) == 0);
	CHECK(avail_event(&f) == 0);

	for (int i = 0; i < 8; i++) {
		set_desc(&f, (uint32_t)i, R1 + 16 * (uint64_t)i, 16,
			VRING_DESC_F_WRITE, 0);
	}
	publish(&f, 0);
	publish(&f, 1);
	REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	/* avail_event follows the consumer */
	CHECK(avail_event(&f) == 1);
	REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	CHECK(avail_event(&f) == 2);
	CHECK(tessera_virtqueue_pop(&f.vq, &f.elem) == 0);
	CHECK(avail_event(&f) == 2);

	/* the first notification is always sent */
	CHECK(tessera_virtqueue_push(&f.vq, 0, 16) == 0);
	CHECK(tessera_virtqueue_should_notify(&f.vq));
	/* nothing new since: no notification */
	CHECK(!tessera_virtqueue_should_notify(&f.vq));

	/* driver wants an interrupt once used idx passes used_event = 3 */
	set_used_event(&f, 3);
	CHECK(tessera_virtqueue_push(&f.vq, 1, 16) == 0); /* used idx 2 */
	CHECK(!tessera_virtqueue_should_notify(&f.vq));
	for (int i = 2; i < 5; i++) {
		publish(&f, (uint16_t)i);
		REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	}
	CHECK(tessera_virtqueue_push(&f.vq, 2, 16) == 0); /* 3: not past 3 */
	CHECK(!tessera_virtqueue_should_notify(&f.vq));
	CHECK(tessera_virtqueue_push(&f.vq, 3, 16) == 0); /* 4: passes 3 */
	CHECK(tessera_virtqueue_should_notify(&f.vq));
	CHECK(tessera_virtqueue_push(&f.vq, 4, 16) == 0); /* 5: already told */
	CHECK(!tessera_virtqueue_should_notify(&f.vq));
	/* a batch that jumps over used_event notifies once */
	set_used_event(&f, 6);
	for (int i = 5; i < 8; i++) {
		publish(&f, (uint16_t)i);
		REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
		CHECK(tessera_virtqueue_push(&f.vq, (uint16_t)i, 16) == 0);
	}
	CHECK(used_idx(&f) == 8);
	CHECK(tessera_virtqueue_should_notify(&f.vq));
	CHECK(!tessera_virtqueue_should_notify(&f.vq));
	fixture_finish(&f);

	/* without EVENT_IDX: VRING_AVAIL_F_NO_INTERRUPT decides */
	fixture_init(&f, 8, 0);
	set_desc(&f, 0, R1, 16, VRING_DESC_F_WRITE, 0);
	publish(&f, 0);
	REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	CHECK(avail_event(&f) == 0); /* not written */
	CHECK(tessera_virtqueue_push(&f.vq, 0, 16) == 0);
	wr16(f.avail, VRING_AVAIL_F_NO_INTERRUPT);
	CHECK(!tessera_virtqueue_should_notify(&f.vq));
	wr16(f.avail, 0);
	CHECK(tessera_virtqueue_should_notify(&f.vq));
	fixture_finish(&f);
}

static void test_driver(uint64_t features) {
	struct fixture f;
	fixture_init(&f, 8, features);
	/* the driver's rings in r2; the device walks them */
	struct tessera_virtqueue_driver drv;
	size_t area = tessera_virtqueue_driver_area_size(8, 4);
	REQUIRE(area <= KB(16));
	uint8_t *area_host = host(&f, R2 + KB(16), area);
	CHECK(tessera_virtqueue_driver_init(&drv, 8, area_host + 8, R2 + KB(16) + 8,
		area, 4, features) == -1);
	CHECK(tessera_virtqueue_driver_init(&drv, 6, area_host, R2 + KB(16),
		area, 4, features) == -1);
	CHECK(tessera_virtqueue_driver_init(&drv, 8, area_host, R2 + KB(16),
		area - 1, 4, features | F_INDIRECT) == -1);
	REQUIRE(tessera_virtqueue_driver_init(&drv, 8, area_host, R2 + KB(16),
		area, 4, features) == 0);
	struct tessera_virtqueue_rings rings = {
		.desc = host(&f, drv.desc_gpa, 16 * 8),
		.avail = host(&f, drv.avail_gpa, tessera_virtqueue_avail_size(8)),
		.used = host(&f, drv.used_gpa, tessera_virtqueue_used_size(8)),
	};
	REQUIRE(tessera_virtqueue_init(&f.vq, &f.mem, 8, &rings, features, 0) == 0);
	bool event_idx = features & F_EVENT_IDX;

	memcpy(host(&f, R1, 5), "hello", 5);
	memcpy(host(&f, R1 + 5, 6), " world", 6);
	struct tessera_virtqueue_buffer bufs[3] = {
		{ R1, 5 }, { R1 + 5, 6 }, { R1 + KB(1), 64 },
	};
	int tag = 42;
	int head = tessera_virtqueue_driver_add(&drv, bufs, 2, 1, &tag);
	REQUIRE(head >= 0);
	CHECK(tessera_virtqueue_driver_inflight(&drv) == 1);
	CHECK(tessera_virtqueue_driver_kick_needed(&drv));
	CHECK(!tessera_virtqueue_driver_kick_needed(&drv)); /* nothing new */

	REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	CHECK(f.elem.head == head);
	CHECK(f.elem.out_num == 2 && f.elem.in_num == 1);
	char buf[16] = {0};
	CHECK(tessera_virtqueue_element_read(&f.elem, 0, buf, 11) == 11);
	CHECK(memcmp(buf, "hello world", 11) == 0);
	CHECK(tessera_virtqueue_element_write(&f.elem, 0, "HELLO", 5) == 5);

	uint32_t len = 0;
	void *data = NULL;
	CHECK(tessera_virtqueue_driver_get_used(&drv, &len, &data) == 0);
	CHECK(tessera_virtqueue_push(&f.vq, f.elem.head, 5) == 0);
	CHECK(tessera_virtqueue_should_notify(&f.vq));
	CHECK(tessera_virtqueue_driver_get_used(&drv, &len, &data) == 1);
	CHECK(len == 5 && data == &tag);
	CHECK(memcmp(host(&f, R1 + KB(1), 5), "HELLO", 5) == 0);
	CHECK(tessera_virtqueue_driver_inflight(&drv) == 0);
	CHECK(tessera_virtqueue_driver_get_used(&drv, &len, &data) == 0);

	/* fill the queue: 8 single-buffer chains fit, the 9th does not */
	int tags[8];
	for (int i = 0; i < 8; i++) {
		struct tessera_virtqueue_buffer b = { R1 + 64 * (uint64_t)i, 64 };
		tags[i] = i;
		CHECK(tessera_virtqueue_driver_add(&drv, &b, 0, 1, &tags[i]) >= 0);
	}
	struct tessera_virtqueue_buffer b1 = { R1, 8 };
	CHECK(tessera_virtqueue_driver_add(&drv, &b1, 1, 0, NULL) == -1);
	CHECK(tessera_virtqueue_driver_add(&drv, &b1, 0, 0, NULL) == -1);
	CHECK(tessera_virtqueue_driver_kick_needed(&drv));
	if (event_idx) {
		/* the device has not caught up: no new kick needed */
		CHECK(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
		CHECK(tessera_virtqueue_push(&f.vq, f.elem.head, 1) == 0);
		CHECK(tessera_virtqueue_driver_get_used(&drv, &len, &data) == 1);
		CHECK(data == &tags[0]);
		CHECK(tessera_virtqueue_driver_add(&drv, &b1, 0, 1, NULL) >= 0);
		CHECK(!tessera_virtqueue_driver_kick_needed(&drv));
	}
	int seen = 0;
	while (tessera_virtqueue_pop(&f.vq, &f.elem) == 1) {
		CHECK(tessera_virtqueue_push(&f.vq, f.elem.head, 8) == 0);
		seen++;
	}
	CHECK(seen == 8);
	while (tessera_virtqueue_driver_get_used(&drv, &len, &data) == 1) {
		seen--;
	}
	CHECK(seen == 0);
	CHECK(tessera_virtqueue_driver_inflight(&drv) == 0);

	/* the driver does not trust used ids or lengths */
	head = tessera_virtqueue_driver_add(&drv, &b1, 0, 1, NULL);
	REQUIRE(head >= 0);
	REQUIRE(tessera_virtqueue_pop(&f.vq, &f.elem) == 1);
	CHECK(tessera_virtqueue_push(&f.vq, (uint16_t)head, 9) == 0);
	CHECK(tessera_virtqueue_driver_get_used(&drv, &len, &data) == -1);
	uint8_t *used = rings.used;
	uint16_t idx = rd16(used + 2);
	uint32_t bogus = 7;
	memcpy(used + 4 + 8 * (idx % 8), &bogus, 4);
	wr16(used + 2, (uint16_t)(idx + 1));
	CHECK(tessera_virtqueue_driver_get_used(&drv, &len, &data) == -1);
	tessera_virtqueue_driver_finish(&drv);
	fixture_finish(&f);
}

int main(void) {
	test_init_checks();
	test_good_direct();
	test_good_indirect();
	test_malicious();
	test_event_idx();
	test_driver(0);
	test_driver(F_INDIRECT);
	test_driver(F_EVENT_IDX);
	test_driver(F_INDIRECT | F_EVENT_IDX);

	struct tessera_memory_table_stats stats;
	tessera_memory_table_get_stats(&stats);
	CHECK(stats.regions == 0 && stats.bytes == 0);
	return test_finish("virtqueue");
}
