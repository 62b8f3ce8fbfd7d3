/*
 * Writes the seed corpus of the guest memory fuzz target
 * (fuzz-guest-memory.c) into the directory given as argument. The
 * committed seeds in corpus/guest-memory were made with it:
 *
 *	ninja -C build tests/fuzz/gen-guest-memory-seeds
 *	rm -rf tests/fuzz/corpus/guest-memory && mkdir tests/fuzz/corpus/guest-memory
 *	build/tests/fuzz/gen-guest-memory-seeds tests/fuzz/corpus/guest-memory
 *
 * Buffers as tessera-vmd makes them (one region, contiguous and scattered
 * extents, a partial last page, an offset, two regions), reads, releases
 * and disconnects with everything alive, then one seed per error of the
 * protocol XML.
 */
#include <stdint.h>
#include <string.h>

#include "gen-seeds.h"

/* must match fuzz-guest-memory.c */
enum { OP_REGION, OP_REGION_DESTROY, OP_PARAMS, OP_EXTENTS, OP_MANY_EXTENTS,
	OP_CREATE, OP_PARAMS_DESTROY, OP_BUFFER_DESTROY, OP_READ, OP_DISCONNECT,
	OP_RECONNECT, OP_HOST };
enum { FD_RAM, FD_UNSEALED, FD_WRITE_ONLY, FD_SMALL, FD_PIPE, FD_DEV_NULL, FD_RAM2 };
/* format list indices */
enum { ARGB, XRGB, ABGR, XBGR, SHM_ARGB, RGB565 };

/* vms: 1..64 configured VMs */
static void start(uint8_t vms) {
	seed_start();
	put8((uint8_t)(vms - 1));
}

static void region(uint8_t kind, uint16_t base_page, uint8_t pages, uint8_t offset_pages) {
	put8(OP_REGION);
	put8(kind);
	put8(0);
	put16(base_page);
	put8(pages);
	put8(offset_pages);
}

static void region_raw(uint8_t kind, uint64_t base, uint64_t size, uint64_t offset) {
	put8(OP_REGION);
	put8(kind);
	put8(0xe0);
	put16(0);
	put8(0);
	put8(0);
	put64(base);
	put64(size);
	put64(offset);
}

static void op_index(uint8_t op, uint8_t index) {
	put8(op);
	put8(index);
}

/* extents: pairs of (gpa page, length in bytes) */
static void extents(uint8_t params, size_t n, const uint32_t *e) {
	put8(OP_EXTENTS);
	put8(params);
	put8((uint8_t)n);
	for (size_t i = 0; i < n; i++) {
		uint32_t pages = e[2 * i + 1] / 4096, rest = e[2 * i + 1] % 4096;
		put8(rest != 0 ? 1 : 0);
		put16((uint16_t)e[2 * i]);
		put8((uint8_t)pages);
		if (rest != 0) {
			put16((uint16_t)rest);
		}
	}
}

static void extent_raw(uint8_t params, uint64_t gpa, uint64_t length) {
	put8(OP_EXTENTS);
	put8(params);
	put8(1);
	put8(0x80);
	put16(0);
	put8(0);
	put64(gpa);
	put64(length);
}

static void create(uint8_t params, uint16_t w, uint16_t h, uint16_t stride,
		uint8_t format, uint16_t offset) {
	put8(OP_CREATE);
	put8(params);
	put16(w);
	put16(h);
	put16(stride);
	put8(format);
	put16(offset);
}

static void create_raw(uint8_t params, int32_t w, int32_t h, int32_t stride,
		uint32_t format, uint32_t offset) {
	put8(OP_CREATE);
	put8(params);
	put16(0);
	put16(0);
	put16(0);
	put8(0xef); /* raw format, width, height, stride, offset */
	put32(format);
	put16(0);
	put32((uint32_t)w);
	put32((uint32_t)h);
	put32((uint32_t)stride);
	put32(offset);
}

/* a 64x64 XRGB buffer in region 0 at page first, contiguous */
static void simple_buffer(uint8_t params, uint16_t first) {
	uint32_t e[] = { first, 64 * 64 * 4 };
	put8(OP_PARAMS);
	extents(params, 1, e);
	create(params, 64, 64, 256, XRGB, 0);
}

static void valid_seeds(void) {
	start(4);
	region(FD_RAM, 0, 64, 0);
	simple_buffer(0, 0);
	op_index(OP_READ, 0);
	seed_save("ok-one-buffer");

	start(4);
	region(FD_RAM, 0x100, 32, 16);
	{
		/* scattered pages, out of order, a partial last page */
		uint32_t e[] = { 0x105, 4096, 0x101, 4096, 0x110, 8192, 0x102, 100 };
		put8(OP_PARAMS);
		extents(0, 4, e);
		create(0, 17, 5, 17 * 4 + 12, ARGB, 4096 * 3);
	}
	op_index(OP_READ, 0);
	seed_save("ok-scattered");

	start(64);
	region(FD_RAM, 0, 32, 0);
	region(FD_RAM2, 0x40, 64, 0);
	{
		uint32_t e1[] = { 0x40, 4096 * 4, 0x10, 4096 * 2 };
		uint32_t e2[] = { 0x44, 4096 * 60 };
		put8(OP_PARAMS);
		extents(0, 2, e1);
		extents(0, 1, e2);
		create(0, 100, 100, 400, ABGR, 64);
	}
	op_index(OP_READ, 0);
	op_index(OP_REGION_DESTROY, 1);
	op_index(OP_READ, 0); /* still readable */
	simple_buffer(1, 0);
	op_index(OP_READ, 1);
	op_index(OP_BUFFER_DESTROY, 0);
	op_index(OP_PARAMS_DESTROY, 0);
	seed_save("ok-two-regions");

	start(1);
	region(FD_RAM, 0, 64, 0);
	for (uint8_t i = 0; i < 8; i++) {
		simple_buffer(i, (uint16_t)(i * 4));
	}
	op_index(OP_READ, 7);
	put8(OP_DISCONNECT);
	put8(OP_RECONNECT);
	region(FD_RAM, 0, 64, 0);
	simple_buffer(0, 0);
	op_index(OP_READ, 0);
	seed_save("ok-disconnect-alive");

	start(2);
	region(FD_RAM, 0, 64, 0);
	put8(OP_PARAMS);
	put8(OP_MANY_EXTENTS);
	put8(0);
	put8(4);
	create(0, 1024, 255, 4096, XBGR, 0);
	op_index(OP_READ, 0);
	seed_save("ok-many-extents");
}

/* a region and params 0, then what follows */
static void bad_start(void) {
	start(4);
	region(FD_RAM, 0, 64, 0);
	put8(OP_PARAMS);
}

static void error_seeds(void) {
	static const uint8_t kinds[] = { FD_UNSEALED, FD_WRITE_ONLY, FD_SMALL, FD_PIPE,
		FD_DEV_NULL };
	static const char *names[] = { "bad-fd-unsealed", "bad-fd-write-only",
		"bad-fd-small", "bad-fd-pipe", "bad-fd-dev-null" };
	for (size_t i = 0; i < sizeof(kinds); i++) {
		start(4);
		region(kinds[i], 0, 2, 0);
		seed_save(names[i]);
	}
	start(4);
	region(FD_RAM, 0, 64, 1);
	seed_save("bad-region-beyond-file");
	start(4);
	region_raw(FD_RAM, 0x1000, 0x800, 0);
	seed_save("bad-region-misaligned");
	start(4);
	region_raw(FD_RAM, 0, 0, 0);
	seed_save("bad-region-empty");
	start(4);
	region_raw(FD_RAM, UINT64_MAX - 0xfff, 0x2000, 0);
	seed_save("bad-region-wraps");
	start(4);
	region_raw(FD_RAM, 0, 0x1000, INT64_MAX - 0xfff);
	seed_save("bad-region-offset");
	start(4);
	region_raw(FD_RAM, 0, UINT64_C(1) << 41, 0);
	seed_save("bad-region-huge");
	start(4);
	region(FD_RAM, 0, 8, 0);
	region(FD_RAM2, 4, 8, 0);
	seed_save("bad-region-overlap");
	start(4);
	for (uint16_t i = 0; i < 17; i++) {
		region(FD_SMALL, i, 1, 0);
	}
	seed_save("bad-too-many-regions");
	start(4);
	for (int i = 0; i < 17; i++) {
		put8(OP_PARAMS);
	}
	seed_save("bad-too-many-params");
	start(4);
	put8(OP_HOST);
	seed_save("bad-host-client");

	bad_start();
	extent_raw(0, 0, 0);
	seed_save("bad-extent-empty");
	bad_start();
	extent_raw(0, UINT64_MAX - 0xfff, 0x2000);
	seed_save("bad-extent-wraps");
	bad_start();
	extent_raw(0, 0x800, 0x1000);
	seed_save("bad-extent-misaligned");
	bad_start();
	{
		uint32_t e[] = { 0, 100, 1, 4096 };
		extents(0, 2, e);
	}
	seed_save("bad-extent-short-not-last");
	bad_start();
	{
		uint32_t e[] = { 60, 4096 * 8 };
		extents(0, 1, e);
		create(0, 16, 16, 64, XRGB, 0);
	}
	seed_save("bad-extent-outside");
	bad_start();
	put8(OP_MANY_EXTENTS);
	put8(0);
	put8(255);
	put8(OP_MANY_EXTENTS);
	put8(0);
	put8(3);
	seed_save("bad-too-many-extents");
	bad_start();
	extent_raw(0, 0, UINT64_C(257) << 20);
	seed_save("bad-extent-too-large");

	static const struct {
		const char *name;
		int32_t w, h, stride;
		uint32_t format, offset;
	} layouts[] = {
		{ "bad-format-shm-code", 16, 16, 64, 0, 0 },
		{ "bad-format-rgb565", 16, 16, 64, 0x36314752, 0 },
		{ "bad-size-zero", 0, 16, 64, 0x34325258, 0 },
		{ "bad-size-negative", -16, 16, 64, 0x34325258, 0 },
		{ "bad-size-large", 8193, 1, 32768, 0x34325258, 0 },
		{ "bad-stride-small", 16, 16, 60, 0x34325258, 0 },
		{ "bad-stride-unaligned", 16, 16, 66, 0x34325258, 0 },
		{ "bad-stride-large", 16, 16, 32772, 0x34325258, 0 },
		{ "bad-stride-negative", 16, 16, -64, 0x34325258, 0 },
		{ "bad-offset-unaligned", 16, 16, 64, 0x34325258, 2 },
		{ "bad-too-small", 256, 257, 1024, 0x34325258, 0 },
		{ "bad-too-small-offset", 16, 16, 64, 0x34325258, 65536 * 4 - 1020 },
		{ "bad-overflow", 8192, 8192, 32768, 0x34325258, UINT32_MAX - 3 },
	};
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		bad_start();
		uint32_t e[] = { 0, 65536 * 4 };
		extents(0, 1, e);
		create_raw(0, layouts[i].w, layouts[i].h, layouts[i].stride,
			layouts[i].format, layouts[i].offset);
		seed_save(layouts[i].name);
	}
	bad_start();
	{
		uint32_t e[] = { 0, 4096 };
		extents(0, 1, e);
		create(0, 16, 16, 64, XRGB, 0);
		create(0, 16, 16, 64, XRGB, 0);
	}
	seed_save("bad-already-used");
	bad_start();
	{
		uint32_t e[] = { 0, 4096 };
		extents(0, 1, e);
		create(0, 16, 16, 64, XRGB, 0);
		extents(0, 1, e);
	}
	seed_save("bad-extents-after-create");
	/* the budget: 64 VMs share 32768 mappings (512 each); 567 one-page
	 * extents with gaps between them, so that none merge */
	start(64);
	region(FD_RAM, 0, 64, 0);
	put8(OP_PARAMS);
	for (int i = 0; i < 9; i++) {
		put8(OP_EXTENTS);
		put8(0);
		put8(63);
		for (int k = 0; k < 63; k++) {
			put8(0);
			put16((uint16_t)((k * 2) % 64));
			put8(1);
		}
	}
	create(0, 16, 16, 64, XRGB, 0);
	seed_save("budget-mappings");
}


static void write_seeds(void) {
	valid_seeds();
	error_seeds();
}

int main(int argc, char *argv[]) {
	return seed_main(argc, argv, write_seeds);
}
