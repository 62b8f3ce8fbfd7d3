/*
 * libFuzzer target for the device side of the split virtqueue
 * (common/virtio/virtqueue.c) against a malicious driver: the rings, descriptors,
 * indirect tables and the driver's later writes all come from the input.
 *
 * Guest RAM is 64 KiB in one to three regions (struct tessera_memory_table
 * filled in directly, each region an exact-size heap buffer so that ASan
 * sees any access past a region). Guest physical layout, all inside the
 * lowest region:
 *
 *   0x0000  descriptor table (16 * size bytes)
 *   0x1000  avail ring
 *   0x2000  used ring
 *   0x3000  scratch (indirect tables, data), up to 0x8000
 *
 * Input:
 *   [0]     bit 0: EVENT_IDX, bit 1: INDIRECT_DESC negotiated,
 *           bits 2-3: region layout (see set_layout())
 *   [1]     queue size 1 << ([1] % 9), so 1 to 256
 *   [2..3]  last_avail_idx the queue starts at (SET_VRING_BASE)
 *   [4..5]  used->idx found in the used ring
 *   [6..7]  n, bytes of scratch
 *   then the descriptor table, the avail ring and n scratch bytes (input
 *   that ends early leaves the rest zero), then a script of operations,
 *   one byte each plus arguments, little-endian (see run_op()).
 *
 * The queue is checked against a model written from virtqueue.h: every
 * pop, push, pending and should_notify result, every popped element
 * (segments equal to the model's own walk of the chain, all inside guest
 * RAM, no more than the limits), the used ring and avail_event the device
 * wrote, the bytes element_read/element_write move, that a broken queue
 * stays broken with its first reason, and that a queue drains in at most
 * `size` pops. A mismatch traps.
 *
 * Built with clang -fsanitize=fuzzer by run-fuzz.sh, and with the project
 * compiler together with fuzz-main.c to replay the committed corpus.
 */
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-target.h"
#include "memory-table.h"
#include "virtqueue.h"

#define RAM_SIZE 0x10000
#define DESC_GPA 0x0000
#define AVAIL_GPA 0x1000
#define USED_GPA 0x2000
#define SCRATCH_GPA 0x3000
#define SCRATCH_MAX 0x5000
#define MAX_QUEUE 256
#define MAX_REGIONS 3
#define IO_MAX 0x10000

struct region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct segment {
	uint8_t *host;
	size_t len;
};

/* The model's idea of a popped element. */
struct ref_elem {
	uint32_t out_num, in_num;
	uint64_t out_len, in_len;
	struct segment seg[TESSERA_VIRTQUEUE_MAX_SEGMENTS];
};

struct fuzz {
	struct region ram[MAX_REGIONS]; /* in the table's order */
	size_t nram;
	struct tessera_memory_table mem;
	struct tessera_virtqueue vq;
	struct tessera_virtqueue_element elem;
	struct ref_elem ref;

	/* model of the device state */
	uint32_t size;
	bool event_idx, indirect;
	uint16_t last_avail, shadow_avail, used_idx;
	bool signalled_valid;
	uint16_t signalled;
	bool broken;
	char error[sizeof(((struct tessera_virtqueue *)NULL)->error)];
	uint16_t inflight[MAX_QUEUE];
	uint32_t ninflight;

	uint8_t io[IO_MAX], io2[IO_MAX];
};

static struct fuzz *f;

/* ---- guest RAM ---- */

static struct region *find_ram(uint64_t gpa) {
	for (size_t i = 0; i < f->nram; i++) {
		struct region *r = &f->ram[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			return r;
		}
	}
	return NULL;
}

/* Host pointer of [gpa, gpa + len) if it lies in one region. */
static uint8_t *ram_range(uint64_t gpa, uint64_t len) {
	struct region *r = find_ram(gpa);
	if (r == NULL || len > r->size - (gpa - r->gpa)) {
		return NULL;
	}
	return r->host + (gpa - r->gpa);
}

/* Guest RAM seen as one array: the regions in guest-physical order. */
static uint8_t *ram_byte(uint32_t offset) {
	uint64_t base = 0;
	for (;;) {
		const struct region *lowest = NULL;
		for (size_t i = 0; i < f->nram; i++) {
			const struct region *r = &f->ram[i];
			if (r->gpa >= base && (lowest == NULL || r->gpa < lowest->gpa)) {
				lowest = r;
			}
		}
		if (lowest == NULL) {
			return NULL;
		}
		if (offset < lowest->size) {
			return lowest->host + offset;
		}
		offset -= (uint32_t)lowest->size;
		base = lowest->gpa + lowest->size;
	}
}

/* Index of the region whose host buffer holds [p, p + len), or -1. */
static int host_region(const void *p, size_t len) {
	uintptr_t a = (uintptr_t)p;
	for (size_t i = 0; i < f->nram; i++) {
		uintptr_t base = (uintptr_t)f->ram[i].host;
		if (a >= base && a - base < f->ram[i].size &&
				len <= f->ram[i].size - (a - base)) {
			return (int)i;
		}
	}
	return -1;
}

static uint16_t ram_read16(uint64_t gpa) {
	const uint8_t *p = ram_range(gpa, 2);
	CHECK(p != NULL);
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t ram_read32(uint64_t gpa) {
	const uint8_t *p = ram_range(gpa, 4);
	CHECK(p != NULL);
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

static void ram_write16(uint64_t gpa, uint16_t v) {
	uint8_t *p = ram_range(gpa, 2);
	CHECK(p != NULL);
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void ram_fill(uint64_t gpa, struct fuzz_input *in, size_t len) {
	uint8_t *p = ram_range(gpa, len);
	CHECK(p != NULL);
	for (size_t i = 0; i < len; i++) {
		p[i] = fuzz_get8(in);
	}
}

/*
 * Layouts: 0 one region [0, 64K); 1 two adjacent ones [0, 32K) and
 * [32K, 64K); 2 two with a hole, [0, 32K) and [96K, 128K); 3 three adjacent
 * ones listed highest first: [36K, 64K), [32K, 36K), [0, 32K).
 */
static void set_layout(unsigned layout) {
	static const struct { uint64_t gpa, size; } layouts[4][MAX_REGIONS] = {
		{ { 0, 0x10000 } },
		{ { 0, 0x8000 }, { 0x8000, 0x8000 } },
		{ { 0, 0x8000 }, { 0x18000, 0x8000 } },
		{ { 0x9000, 0x7000 }, { 0x8000, 0x1000 }, { 0, 0x8000 } },
	};
	tessera_memory_table_init(&f->mem);
	f->nram = 0;
	for (size_t i = 0; i < MAX_REGIONS && layouts[layout][i].size > 0; i++) {
		struct region *r = &f->ram[f->nram++];
		r->gpa = layouts[layout][i].gpa;
		r->size = layouts[layout][i].size;
		r->host = aligned_alloc(4096, r->size);
		CHECK(r->host != NULL);
		memset(r->host, 0, r->size);

		struct tessera_memory_region *m = &f->mem.regions[i];
		m->gpa = r->gpa;
		m->size = r->size;
		m->uva = r->gpa + 0x7f0000000000;
		m->host = r->host;
	}
	f->mem.nregions = f->nram;
}

static void free_ram(void) {
	for (size_t i = 0; i < f->nram; i++) {
		free(f->ram[i].host);
	}
	f->nram = 0;
	/* the table has no fds or mappings of its own */
	tessera_memory_table_init(&f->mem);
}

/* ---- model ---- */

static uint64_t avail_event_gpa(void) {
	return USED_GPA + 4 + 8 * (uint64_t)f->size;
}

static bool model_inflight(uint16_t head, uint32_t *pos) {
	for (uint32_t i = 0; i < f->ninflight; i++) {
		if (f->inflight[i] == head) {
			if (pos != NULL) {
				*pos = i;
			}
			return true;
		}
	}
	return false;
}

static void model_break(void) {
	CHECK(tessera_virtqueue_is_broken(&f->vq));
	const char *err = tessera_virtqueue_error(&f->vq);
	CHECK(err != NULL && err[0] != '\0' && strlen(err) < sizeof(f->error));
	if (!f->broken) {
		f->broken = true;
		strcpy(f->error, err);
	}
	CHECK(strcmp(err, f->error) == 0);
}

/* Reads avail->idx as the device does: false if it ran too far ahead. */
static bool model_fetch(void) {
	uint16_t idx = ram_read16(AVAIL_GPA + 2);
	if ((uint16_t)(idx - f->last_avail) > f->size) {
		return false;
	}
	f->shadow_avail = idx;
	return true;
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct desc read_desc(const uint8_t *p) {
	struct desc d = {0};
	for (int i = 7; i >= 0; i--) {
		d.addr = d.addr << 8 | p[i];
	}
	d.len = (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 |
		(uint32_t)p[11] << 24;
	d.flags = (uint16_t)(p[12] | p[13] << 8);
	d.next = (uint16_t)(p[14] | p[15] << 8);
	return d;
}

/* The chain from head as virtqueue.h specifies it, or false if invalid. */
static bool ref_walk(uint16_t head, struct ref_elem *e) {
	const uint8_t *table = ram_range(DESC_GPA, 16 * (uint64_t)f->size);
	uint32_t table_len = f->size;
	uint32_t i = head;
	uint32_t visited = 0;
	bool in_indirect = false;
	memset(e, 0, offsetof(struct ref_elem, seg));
	CHECK(table != NULL);

	for (;;) {
		struct desc d = read_desc(table + 16 * (size_t)i);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!f->indirect || in_indirect || visited > 0 ||
					(d.flags & VRING_DESC_F_NEXT) || d.len == 0 ||
					d.len % 16 != 0 ||
					d.len / 16 > TESSERA_VIRTQUEUE_MAX_INDIRECT) {
				return false;
			}
			table = ram_range(d.addr, d.len);
			if (table == NULL) {
				return false;
			}
			table_len = d.len / 16;
			in_indirect = true;
			i = 0;
			continue;
		}
		if (++visited > table_len || d.len == 0) {
			return false;
		}
		bool writable = d.flags & VRING_DESC_F_WRITE;
		if (!writable && e->in_num > 0) {
			return false;
		}
		uint64_t addr = d.addr, left = d.len;
		while (left > 0) {
			struct region *r = find_ram(addr);
			if (r == NULL || e->out_num + e->in_num >=
					TESSERA_VIRTQUEUE_MAX_SEGMENTS) {
				return false;
			}
			uint64_t room = r->size - (addr - r->gpa);
			uint64_t n = left < room ? left : room;
			struct segment *s = &e->seg[e->out_num + e->in_num];
			s->host = r->host + (addr - r->gpa);
			s->len = (size_t)n;
			if (writable) {
				e->in_num++;
				e->in_len += n;
			} else {
				e->out_num++;
				e->out_len += n;
			}
			addr += n;
			left -= n;
		}
		if (!(d.flags & VRING_DESC_F_NEXT)) {
			return true;
		}
		if (d.next >= table_len) {
			return false;
		}
		i = d.next;
	}
}

static size_t expect_io(uint64_t total, uint64_t offset, size_t len) {
	if (offset >= total) {
		return 0;
	}
	return total - offset < len ? (size_t)(total - offset) : len;
}

/* element_read and element_write against the model's segments. */
static void check_io(uint16_t read_off, uint16_t read_len, uint16_t write_off,
		uint16_t write_len) {
	const struct ref_elem *e = &f->ref;

	size_t n = tessera_virtqueue_element_read(&f->elem, read_off, f->io,
		read_len);
	CHECK(n == expect_io(e->out_len, read_off, read_len));
	uint64_t skip = read_off;
	size_t done = 0;
	for (uint32_t i = 0; i < e->out_num && done < n; i++) {
		const struct segment *s = &e->seg[i];
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		size_t k = s->len - (size_t)skip;
		if (k > n - done) {
			k = n - done;
		}
		CHECK(memcmp(f->io + done, s->host + skip, k) == 0);
		done += k;
		skip = 0;
	}
	CHECK(done == n);

	/* the model scatters into a copy of guest RAM first */
	for (size_t i = 0; i < write_len; i++) {
		f->io[i] = (uint8_t)(i * 7 + write_off);
	}
	size_t want = expect_io(e->in_len, write_off, write_len);
	uint8_t *copy[MAX_REGIONS];
	for (size_t r = 0; r < f->nram; r++) {
		copy[r] = f->io2 + (r == 0 ? 0 : f->ram[r - 1].size +
			(size_t)(copy[r - 1] - f->io2));
		memcpy(copy[r], f->ram[r].host, f->ram[r].size);
	}
	skip = write_off;
	done = 0;
	for (uint32_t i = e->out_num; i < e->out_num + e->in_num && done < want;
			i++) {
		const struct segment *s = &e->seg[i];
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		size_t k = s->len - (size_t)skip;
		if (k > want - done) {
			k = want - done;
		}
		int r = host_region(s->host, s->len);
		CHECK(r >= 0);
		memcpy(copy[r] + (s->host - f->ram[r].host) + skip, f->io + done, k);
		done += k;
		skip = 0;
	}
	CHECK(done == want);
	n = tessera_virtqueue_element_write(&f->elem, write_off, f->io, write_len);
	CHECK(n == want);
	for (size_t r = 0; r < f->nram; r++) {
		CHECK(memcmp(copy[r], f->ram[r].host, f->ram[r].size) == 0);
	}
}

/* ---- operations ---- */

/* Pops once; returns what pop returned after checking it. */
static int op_pop(uint16_t read_off, uint16_t read_len, uint16_t write_off,
		uint16_t write_len) {
	int expect = 1;
	uint16_t head = 0;
	if (f->broken) {
		expect = -1;
	} else if (f->last_avail == f->shadow_avail && !model_fetch()) {
		expect = -1;
	} else if (f->last_avail == f->shadow_avail) {
		expect = 0;
	} else {
		head = ram_read16(AVAIL_GPA + 4 +
			2 * (uint64_t)(f->last_avail & (f->size - 1)));
		if (head >= f->size || model_inflight(head, NULL) ||
				!ref_walk(head, &f->ref)) {
			expect = -1;
		}
	}

	int r = tessera_virtqueue_pop(&f->vq, &f->elem);
	CHECK(r == expect);
	if (r < 0) {
		model_break();
		return r;
	}
	CHECK(!tessera_virtqueue_is_broken(&f->vq));
	if (r == 0) {
		if (f->event_idx) {
			CHECK(ram_read16(avail_event_gpa()) == f->last_avail);
		}
		return r;
	}

	const struct tessera_virtqueue_element *el = &f->elem;
	const struct ref_elem *e = &f->ref;
	CHECK(el->head == head);
	CHECK(el->out_num == e->out_num && el->in_num == e->in_num);
	CHECK(el->out_num + el->in_num <= TESSERA_VIRTQUEUE_MAX_SEGMENTS);
	CHECK(el->out_len == e->out_len && el->in_len == e->in_len);
	uint64_t out_len = 0, in_len = 0;
	for (uint32_t i = 0; i < el->out_num + el->in_num; i++) {
		const struct iovec *iov = &el->iov[i];
		CHECK(iov->iov_len > 0);
		CHECK(host_region(iov->iov_base, iov->iov_len) >= 0);
		CHECK(iov->iov_base == e->seg[i].host && iov->iov_len == e->seg[i].len);
		if (i < el->out_num) {
			out_len += iov->iov_len;
		} else {
			in_len += iov->iov_len;
		}
	}
	CHECK(out_len == el->out_len && in_len == el->in_len);

	f->last_avail++;
	CHECK(f->ninflight < f->size);
	f->inflight[f->ninflight++] = head;
	CHECK(f->vq.inflight == f->ninflight);
	if (f->event_idx) {
		CHECK(ram_read16(avail_event_gpa()) == f->last_avail);
	}
	check_io(read_off, read_len, write_off, write_len);
	return r;
}

static int op_push(uint16_t head, uint32_t len) {
	uint32_t pos;
	bool ok = !f->broken && head < f->size && model_inflight(head, &pos);
	int r = tessera_virtqueue_push(&f->vq, head, len);
	CHECK(r == (ok ? 0 : -1));
	CHECK(tessera_virtqueue_is_broken(&f->vq) == f->broken);
	if (!ok) {
		return r;
	}
	f->inflight[pos] = f->inflight[--f->ninflight];
	CHECK(f->vq.inflight == f->ninflight);
	uint64_t slot = USED_GPA + 4 + 8 * (uint64_t)(f->used_idx & (f->size - 1));
	CHECK(ram_read32(slot) == head && ram_read32(slot + 4) == len);
	f->used_idx++;
	CHECK(ram_read16(USED_GPA + 2) == f->used_idx);
	return r;
}

static void op_notify(void) {
	bool expect;
	if (f->broken) {
		expect = false;
	} else if (!f->event_idx) {
		expect = !(ram_read16(AVAIL_GPA) & VRING_AVAIL_F_NO_INTERRUPT);
	} else {
		uint16_t used_event = ram_read16(AVAIL_GPA + 4 + 2 * (uint64_t)f->size);
		uint16_t old = f->signalled, new = f->used_idx;
		expect = !f->signalled_valid ||
			(uint16_t)(new - used_event - 1) < (uint16_t)(new - old);
		f->signalled_valid = true;
		f->signalled = new;
	}
	CHECK(tessera_virtqueue_should_notify(&f->vq) == expect);
}

static void op_pending(void) {
	uint32_t expect = 0;
	bool breaks = false;
	if (!f->broken) {
		if (model_fetch()) {
			expect = (uint16_t)(f->shadow_avail - f->last_avail);
		} else {
			breaks = true;
		}
	}
	CHECK(tessera_virtqueue_pending(&f->vq) == expect);
	if (breaks) {
		model_break();
	}
}

/* Pops and completes everything. Nothing here writes avail->idx, so the
 * queue runs dry after what was already fetched plus one more fetch of at
 * most size entries. */
static void op_drain(void) {
	uint32_t bound = (uint16_t)(f->shadow_avail - f->last_avail) + f->size;
	for (uint32_t i = 0; i <= bound; i++) {
		int r = op_pop(0, 0, 0, 0);
		if (r <= 0) {
			return;
		}
		op_push(f->elem.head, (uint32_t)f->elem.in_len);
	}
	__builtin_trap(); /* the queue did not run dry */
}

static void run_op(struct fuzz_input *in) {
	uint8_t op = fuzz_get8(in);
	switch (op % 8) {
	case 0: { /* pop, then read and write parts of the element */
		uint16_t read_off = fuzz_get16(in), read_len = fuzz_get16(in);
		uint16_t write_off = fuzz_get16(in), write_len = fuzz_get16(in);
		op_pop(read_off, read_len, write_off, write_len);
		break;
	}
	case 1: { /* complete the k-th element in flight */
		uint8_t k = fuzz_get8(in);
		uint32_t len = fuzz_get32(in);
		op_push(f->ninflight > 0 ? f->inflight[k % f->ninflight] :
			(uint16_t)k, len);
		break;
	}
	case 2: { /* complete any head */
		uint16_t head = fuzz_get16(in);
		op_push(head, fuzz_get32(in));
		break;
	}
	case 3:
		op_notify();
		break;
	case 4:
		op_pending();
		break;
	case 5: { /* the driver writes guest RAM */
		uint16_t offset = fuzz_get16(in);
		uint8_t len = fuzz_get8(in);
		for (uint32_t i = 0; i < len; i++) {
			uint8_t v = fuzz_get8(in);
			uint8_t *p = ram_byte((uint32_t)offset + i);
			if (p != NULL) {
				*p = v;
			}
		}
		break;
	}
	case 6: { /* the driver makes a head available */
		uint16_t head = fuzz_get16(in);
		uint16_t idx = ram_read16(AVAIL_GPA + 2);
		ram_write16(AVAIL_GPA + 4 + 2 * (uint64_t)(idx & (f->size - 1)), head);
		ram_write16(AVAIL_GPA + 2, (uint16_t)(idx + 1));
		break;
	}
	case 7:
		op_drain();
		break;
	}
	CHECK(tessera_virtqueue_is_broken(&f->vq) == f->broken);
	CHECK(f->vq.inflight == f->ninflight);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (f == NULL) {
		f = calloc(1, sizeof(*f));
		CHECK(f != NULL);
	}
	struct fuzz_input in = { .data = data, .size = size };
	uint8_t flags = fuzz_get8(&in);
	uint32_t qsize = UINT32_C(1) << (fuzz_get8(&in) % 9);
	uint16_t last_avail = fuzz_get16(&in);
	uint16_t used_idx = fuzz_get16(&in);
	uint16_t scratch = fuzz_get16(&in);
	if (scratch > SCRATCH_MAX) {
		scratch = SCRATCH_MAX;
	}

	set_layout((flags >> 2) & 3);
	f->size = qsize;
	f->event_idx = flags & 1;
	f->indirect = flags & 2;
	f->last_avail = f->shadow_avail = last_avail;
	f->used_idx = used_idx;
	f->signalled_valid = false;
	f->signalled = 0;
	f->broken = false;
	f->error[0] = '\0';
	f->ninflight = 0;

	ram_fill(DESC_GPA, &in, tessera_virtqueue_desc_size(qsize));
	ram_fill(AVAIL_GPA, &in, tessera_virtqueue_avail_size(qsize));
	ram_fill(SCRATCH_GPA, &in, scratch);
	ram_write16(USED_GPA + 2, used_idx);

	struct tessera_virtqueue_rings rings = {
		.desc = ram_range(DESC_GPA, tessera_virtqueue_desc_size(qsize)),
		.avail = ram_range(AVAIL_GPA, tessera_virtqueue_avail_size(qsize)),
		.used = ram_range(USED_GPA, tessera_virtqueue_used_size(qsize)),
	};
	uint64_t features = (flags & 1 ? UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX : 0) |
		(flags & 2 ? UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC : 0);
	CHECK(tessera_virtqueue_init(&f->vq, &f->mem, qsize, &rings, features,
		last_avail) == 0);
	CHECK(!tessera_virtqueue_is_broken(&f->vq));

	while (in.pos < in.size) {
		run_op(&in);
	}
	op_drain();
	if (f->broken) {
		/* nothing works on a broken queue */
		CHECK(tessera_virtqueue_pop(&f->vq, &f->elem) == -1);
		CHECK(tessera_virtqueue_pending(&f->vq) == 0);
		CHECK(!tessera_virtqueue_should_notify(&f->vq));
		for (uint32_t i = 0; i < f->ninflight; i++) {
			CHECK(tessera_virtqueue_push(&f->vq, f->inflight[i], 0) == -1);
		}
		CHECK(strcmp(tessera_virtqueue_error(&f->vq), f->error) == 0);
	}
	free_ram();
	return 0;
}
