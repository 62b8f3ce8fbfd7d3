/* Guest memory table: translation bounds, overflow, multi-region, table
 * replacement, extent lists, mapping counters, walking ranges of extent
 * lists. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memory-table.h"
#include "tessera-test.h"

#define KB(x) ((uint64_t)(x) * 1024)
#define UVA_BASE UINT64_C(0x7f0000000000)

static int make_memfd(uint64_t size, bool seal) {
	int fd = memfd_create("test-guest-ram",
		MFD_CLOEXEC | (seal ? MFD_ALLOW_SEALING : 0));
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, (off_t)size) == 0);
	if (seal) {
		REQUIRE(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
	}
	return fd;
}

static bool is_mapped(void *p) {
	long page = sysconf(_SC_PAGESIZE);
	void *aligned = (void *)((uintptr_t)p & ~((uintptr_t)page - 1));
	return msync(aligned, (size_t)page, MS_ASYNC) == 0;
}

static void check_stats(uint64_t regions, uint64_t bytes) {
	struct tessera_memory_table_stats stats;
	tessera_memory_table_get_stats(&stats);
	CHECK(stats.regions == regions);
	CHECK(stats.bytes == bytes);
}

/* two regions from one sealed memfd: [0, 64K) at file offset 0 and
 * [1M, 1M + 64K) at file offset 64K */
static void set_two_regions(struct tessera_memory_table *mem, int memfd) {
	struct tessera_memory_region_desc descs[2] = {
		{ .gpa = 0, .size = KB(64), .uva = UVA_BASE, .mmap_offset = 0,
			.fd = dup(memfd) },
		{ .gpa = KB(1024), .size = KB(64), .uva = UVA_BASE + KB(1024),
			.mmap_offset = KB(64), .fd = dup(memfd) },
	};
	char err[256];
	REQUIRE(tessera_memory_table_set_table(mem, descs, 2, err,
		sizeof(err)) == 0);
}

static void test_translate(void) {
	int fds_before = test_count_fds();
	int memfd = make_memfd(KB(128), true);
	struct tessera_memory_table mem;
	tessera_memory_table_init(&mem);
	set_two_regions(&mem, memfd);
	check_stats(2, KB(128));
	CHECK(mem.nregions == 2);
	CHECK(mem.regions[0].seals >= 0 &&
		(mem.regions[0].seals & F_SEAL_SHRINK));

	uint8_t *r0 = tessera_memory_table_translate(&mem, 0, 1);
	uint8_t *r1 = tessera_memory_table_translate(&mem, KB(1024), 1);
	REQUIRE(r0 != NULL && r1 != NULL);

	/* the host pointers really are the file at the right offsets */
	r0[10] = 0xab;
	r1[20] = 0xcd;
	uint8_t byte = 0;
	CHECK(pread(memfd, &byte, 1, 10) == 1 && byte == 0xab);
	CHECK(pread(memfd, &byte, 1, (off_t)(KB(64) + 20)) == 1 && byte == 0xcd);

	/* boundaries */
	CHECK(tessera_memory_table_translate(&mem, 0, KB(64)) == r0);
	CHECK(tessera_memory_table_translate(&mem, 0, KB(64) + 1) == NULL);
	CHECK(tessera_memory_table_translate(&mem, KB(64) - 1, 1) ==
		r0 + KB(64) - 1);
	CHECK(tessera_memory_table_translate(&mem, KB(64) - 1, 2) == NULL);
	CHECK(tessera_memory_table_translate(&mem, KB(64), 1) == NULL);
	CHECK(tessera_memory_table_translate(&mem, KB(1024) - 1, 1) == NULL);
	CHECK(tessera_memory_table_translate(&mem, KB(1024) - 1, 2) == NULL);
	CHECK(tessera_memory_table_translate(&mem, KB(1024) + 10, 100) ==
		r1 + 10);
	CHECK(tessera_memory_table_translate(&mem, KB(1088) - 4, 4) ==
		r1 + KB(64) - 4);
	CHECK(tessera_memory_table_translate(&mem, KB(1088), 1) == NULL);
	/* zero length never translates */
	CHECK(tessera_memory_table_translate(&mem, 0, 0) == NULL);
	/* overflow: gpa + len wraps */
	CHECK(tessera_memory_table_translate(&mem, UINT64_MAX, 1) == NULL);
	CHECK(tessera_memory_table_translate(&mem, UINT64_MAX, 2) == NULL);
	CHECK(tessera_memory_table_translate(&mem, 16, UINT64_MAX) == NULL);
	CHECK(tessera_memory_table_translate(&mem, KB(1024) + 16,
		UINT64_MAX - KB(1024)) == NULL);
	CHECK(tessera_memory_table_translate(&mem, UINT64_MAX - 15, 32) == NULL);
	CHECK(tessera_memory_table_find_region(&mem, KB(1024) + 1, 1) == 1);
	CHECK(tessera_memory_table_find_region(&mem, KB(512), 1) == -1);

	/* VMM virtual addresses */
	CHECK(tessera_memory_table_translate_uva(&mem, UVA_BASE, 16) == r0);
	CHECK(tessera_memory_table_translate_uva(&mem, UVA_BASE + KB(1024) + 8,
		8) == r1 + 8);
	CHECK(tessera_memory_table_translate_uva(&mem, UVA_BASE + KB(64) - 8,
		16) == NULL);
	CHECK(tessera_memory_table_translate_uva(&mem, UVA_BASE - 1, 2) == NULL);
	CHECK(tessera_memory_table_translate_uva(&mem, 0, 16) == NULL);
	CHECK(tessera_memory_table_translate_uva(&mem, UVA_BASE, 0) == NULL);
	CHECK(tessera_memory_table_translate_uva(&mem, UVA_BASE + 8,
		UINT64_MAX) == NULL);

	tessera_memory_table_finish(&mem);
	check_stats(0, 0);
	CHECK(!is_mapped(r0));
	close(memfd);
	CHECK(test_count_fds() == fds_before);
}

static void test_high_addresses(void) {
	int memfd = make_memfd(KB(8), false);
	struct tessera_memory_table mem;
	tessera_memory_table_init(&mem);
	char err[256];

	/* a region ending exactly at 2^64 cannot be described */
	struct tessera_memory_region_desc wrap = {
		.gpa = UINT64_MAX - KB(4) + 1, .size = KB(4), .uva = UVA_BASE,
		.fd = dup(memfd),
	};
	CHECK(tessera_memory_table_set_table(&mem, &wrap, 1, err,
		sizeof(err)) == -1);
	CHECK(strstr(err, "wraps") != NULL);

	uint64_t top = UINT64_MAX - KB(8) + 1; /* ends at 2^64 - 4K */
	struct tessera_memory_region_desc desc = {
		.gpa = top, .size = KB(4), .uva = UVA_BASE, .fd = dup(memfd),
	};
	REQUIRE(tessera_memory_table_set_table(&mem, &desc, 1, err,
		sizeof(err)) == 0);
	uint8_t *host = tessera_memory_table_translate(&mem, top, KB(4));
	CHECK(host != NULL);
	CHECK(tessera_memory_table_translate(&mem, top + 4000, 96) == host + 4000);
	CHECK(tessera_memory_table_translate(&mem, top + 4000, 97) == NULL);
	CHECK(tessera_memory_table_translate(&mem, top + KB(4) - 1, 2) == NULL);
	CHECK(tessera_memory_table_translate(&mem, top + KB(4) - 1,
		UINT64_MAX) == NULL);
	CHECK(tessera_memory_table_translate(&mem, top + 8, UINT64_MAX - 7) ==
		NULL);
	CHECK(tessera_memory_table_translate(&mem, UINT64_MAX, 1) == NULL);
	tessera_memory_table_finish(&mem);
	close(memfd);
}

static void test_adjacent_regions(void) {
	int memfd = make_memfd(KB(128), false);
	struct tessera_memory_table mem;
	tessera_memory_table_init(&mem);
	struct tessera_memory_region_desc descs[2] = {
		{ .gpa = 0, .size = KB(64), .uva = UVA_BASE, .fd = dup(memfd) },
		{ .gpa = KB(64), .size = KB(64), .uva = UVA_BASE + KB(64),
			.mmap_offset = KB(64), .fd = dup(memfd) },
	};
	REQUIRE(tessera_memory_table_set_table(&mem, descs, 2, NULL, 0) == 0);
	/* a range spanning both regions is not translated as one */
	CHECK(tessera_memory_table_translate(&mem, KB(64) - 8, 16) == NULL);
	CHECK(tessera_memory_table_translate_uva(&mem, UVA_BASE + KB(64) - 8,
		16) == NULL);
	/* but can be walked piecewise */
	uint64_t chunk = 0;
	uint8_t *p = tessera_memory_table_translate_partial(&mem, KB(64) - 8, 16,
		&chunk);
	CHECK(p != NULL && chunk == 8);
	p = tessera_memory_table_translate_partial(&mem, KB(64), 8, &chunk);
	CHECK(p != NULL && chunk == 8);
	CHECK(tessera_memory_table_translate_partial(&mem, KB(128), 8, &chunk) ==
		NULL);
	CHECK(tessera_memory_table_translate_partial(&mem, 0, 0, &chunk) == NULL);

	struct tessera_guest_extent spanning = { KB(64) - 8, 16 };
	struct tessera_memory_mapping out[1];
	char err[256];
	CHECK(tessera_memory_table_map_extents(&mem, &spanning, 1, 16, KB(1024),
		out, NULL, err, sizeof(err)) == -1);
	tessera_memory_table_finish(&mem);
	close(memfd);
}

static void test_bad_tables(void) {
	int fds_before = test_count_fds();
	int memfd = make_memfd(KB(64), false);
	struct tessera_memory_table mem;
	tessera_memory_table_init(&mem);
	char err[256];

	struct tessera_memory_region_desc good = {
		.gpa = 0, .size = KB(64), .uva = UVA_BASE, .fd = dup(memfd),
	};
	REQUIRE(tessera_memory_table_set_table(&mem, &good, 1, err,
		sizeof(err)) == 0);
	uint8_t *host = tessera_memory_table_translate(&mem, 0, 1);
	uint64_t generation = mem.generation;

	struct tessera_memory_region_desc bad[2];
	/* zero size */
	bad[0] = (struct tessera_memory_region_desc){
		.gpa = 0, .size = 0, .uva = UVA_BASE, .fd = dup(memfd) };
	CHECK(tessera_memory_table_set_table(&mem, bad, 1, err,
		sizeof(err)) == -1);
	CHECK(strstr(err, "zero size") != NULL);
	/* overlapping guest ranges */
	bad[0] = (struct tessera_memory_region_desc){
		.gpa = 0, .size = KB(32), .uva = UVA_BASE, .fd = dup(memfd) };
	bad[1] = (struct tessera_memory_region_desc){
		.gpa = KB(16), .size = KB(32), .uva = UVA_BASE + KB(1024),
		.mmap_offset = KB(32), .fd = dup(memfd) };
	CHECK(tessera_memory_table_set_table(&mem, bad, 2, err,
		sizeof(err)) == -1);
	CHECK(strstr(err, "overlap in guest") != NULL);
	/* overlapping VMM ranges */
	bad[0] = (struct tessera_memory_region_desc){
		.gpa = 0, .size = KB(32), .uva = UVA_BASE, .fd = dup(memfd) };
	bad[1] = (struct tessera_memory_region_desc){
		.gpa = KB(1024), .size = KB(32), .uva = UVA_BASE + KB(4),
		.mmap_offset = KB(32), .fd = dup(memfd) };
	CHECK(tessera_memory_table_set_table(&mem, bad, 2, err,
		sizeof(err)) == -1);
	CHECK(strstr(err, "overlap in VMM") != NULL);
	/* file shorter than the region */
	bad[0] = (struct tessera_memory_region_desc){
		.gpa = 0, .size = KB(64), .uva = UVA_BASE, .mmap_offset = KB(4),
		.fd = dup(memfd) };
	CHECK(tessera_memory_table_set_table(&mem, bad, 1, err,
		sizeof(err)) == -1);
	CHECK(strstr(err, "bytes, region needs") != NULL);
	/* not a memory file */
	int pipefd[2];
	REQUIRE(pipe(pipefd) == 0);
	close(pipefd[1]);
	bad[0] = (struct tessera_memory_region_desc){
		.gpa = 0, .size = KB(4), .uva = UVA_BASE, .fd = pipefd[0] };
	CHECK(tessera_memory_table_set_table(&mem, bad, 1, err,
		sizeof(err)) == -1);
	/* no fd */
	bad[0] = (struct tessera_memory_region_desc){
		.gpa = 0, .size = KB(4), .uva = UVA_BASE, .fd = -1 };
	CHECK(tessera_memory_table_set_table(&mem, bad, 1, err,
		sizeof(err)) == -1);
	/* oversized region, and mmap offsets that wrap */
	bad[0] = (struct tessera_memory_region_desc){
		.gpa = 0, .size = UINT64_C(1) << 41, .uva = UVA_BASE,
		.fd = dup(memfd) };
	CHECK(tessera_memory_table_set_table(&mem, bad, 1, err,
		sizeof(err)) == -1);
	bad[0] = (struct tessera_memory_region_desc){
		.gpa = 0, .size = KB(4), .uva = UVA_BASE,
		.mmap_offset = UINT64_MAX - 100, .fd = dup(memfd) };
	CHECK(tessera_memory_table_set_table(&mem, bad, 1, err,
		sizeof(err)) == -1);
	/* too many regions: all fds closed anyway */
	struct tessera_memory_region_desc many[9];
	for (int i = 0; i < 9; i++) {
		many[i] = (struct tessera_memory_region_desc){
			.gpa = KB(4) * (uint64_t)i, .size = KB(4),
			.uva = UVA_BASE + KB(4) * (uint64_t)i,
			.mmap_offset = KB(4) * (uint64_t)i, .fd = dup(memfd) };
	}
	CHECK(tessera_memory_table_set_table(&mem, many, 9, err,
		sizeof(err)) == -1);
	/* the second region fails to map after the first one mapped */
	bad[0] = (struct tessera_memory_region_desc){
		.gpa = 0, .size = KB(4), .uva = UVA_BASE, .fd = dup(memfd) };
	bad[1] = (struct tessera_memory_region_desc){
		.gpa = KB(8), .size = KB(64), .uva = UVA_BASE + KB(8),
		.mmap_offset = KB(8), .fd = dup(memfd) };
	CHECK(tessera_memory_table_set_table(&mem, bad, 2, err,
		sizeof(err)) == -1);

	/* the old table survived every failure */
	CHECK(mem.nregions == 1);
	CHECK(mem.generation == generation);
	CHECK(tessera_memory_table_translate(&mem, 0, 1) == host);
	CHECK(is_mapped(host));
	check_stats(1, KB(64));

	/* 8 regions is the limit and works */
	for (int i = 0; i < 8; i++) {
		many[i].fd = dup(memfd);
	}
	CHECK(tessera_memory_table_set_table(&mem, many, 8, err,
		sizeof(err)) == 0);
	check_stats(8, KB(32));
	CHECK(!is_mapped(host));
	CHECK(mem.generation != generation);

	/* an empty table clears */
	CHECK(tessera_memory_table_set_table(&mem, NULL, 0, err,
		sizeof(err)) == 0);
	check_stats(0, 0);
	tessera_memory_table_finish(&mem);
	close(memfd);
	CHECK(test_count_fds() == fds_before);
}

static void test_replace(void) {
	int fds_before = test_count_fds();
	int memfd = make_memfd(KB(128), false);
	struct tessera_memory_table *mem = tessera_memory_table_create();
	REQUIRE(mem != NULL);
	set_two_regions(mem, memfd);
	int fds_two = test_count_fds();
	uint8_t *old = tessera_memory_table_translate(mem, KB(1024), 1);
	uint64_t generation = mem->generation;

	struct tessera_memory_region_desc one = {
		.gpa = KB(4096), .size = KB(16), .uva = UVA_BASE + KB(8192),
		.mmap_offset = KB(16), .fd = dup(memfd),
	};
	REQUIRE(tessera_memory_table_set_table(mem, &one, 1, NULL, 0) == 0);
	CHECK(mem->generation > generation);
	check_stats(1, KB(16));
	CHECK(!is_mapped(old));
	CHECK(test_count_fds() == fds_two - 1);
	CHECK(tessera_memory_table_translate(mem, 0, 1) == NULL);
	CHECK(tessera_memory_table_translate(mem, KB(1024), 1) == NULL);
	uint8_t *p = tessera_memory_table_translate(mem, KB(4096), KB(16));
	REQUIRE(p != NULL);
	p[0] = 0x5a;
	uint8_t byte = 0;
	CHECK(pread(memfd, &byte, 1, (off_t)KB(16)) == 1 && byte == 0x5a);

	tessera_memory_table_destroy(mem);
	tessera_memory_table_destroy(NULL);
	check_stats(0, 0);
	close(memfd);
	CHECK(test_count_fds() == fds_before);
}

static void test_extents(void) {
	int memfd = make_memfd(KB(128), false);
	struct tessera_memory_table mem;
	tessera_memory_table_init(&mem);
	set_two_regions(&mem, memfd);
	char err[256];
	struct tessera_memory_mapping out[8];
	uint64_t total = 0;

	struct tessera_guest_extent good[3] = {
		{ KB(1024) + KB(4), KB(8) },
		{ 0, KB(4) },
		{ KB(60), KB(4) },
	};
	CHECK(tessera_memory_table_map_extents(&mem, good, 3, 8, KB(64), out,
		&total, err, sizeof(err)) == 0);
	CHECK(total == KB(16));
	CHECK(out[0].region == 1 && out[0].fd == mem.regions[1].fd);
	CHECK(out[0].fd_offset == KB(64) + KB(4));
	CHECK(out[0].host == mem.regions[1].host + KB(4));
	CHECK(out[0].len == KB(8));
	CHECK(out[1].region == 0 && out[1].fd_offset == 0);
	CHECK(out[2].fd_offset == KB(60));

	/* limits */
	CHECK(tessera_memory_table_map_extents(&mem, good, 0, 8, KB(64), out,
		NULL, err, sizeof(err)) == -1);
	CHECK(tessera_memory_table_map_extents(&mem, good, 3, 2, KB(64), out,
		NULL, err, sizeof(err)) == -1);
	CHECK(tessera_memory_table_map_extents(&mem, good, 3, 8, KB(16) - 1, out,
		NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "limit") != NULL);

	struct tessera_guest_extent bad[2] = { { 0, KB(4) }, { 0, 0 } };
	CHECK(tessera_memory_table_map_extents(&mem, bad, 2, 8, KB(64), out,
		NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "extent 1 is empty") != NULL);
	bad[1] = (struct tessera_guest_extent){ KB(64), KB(4) }; /* in the gap */
	CHECK(tessera_memory_table_map_extents(&mem, bad, 2, 8, KB(64), out,
		NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "not inside") != NULL);
	bad[1] = (struct tessera_guest_extent){ KB(4), UINT64_MAX };
	CHECK(tessera_memory_table_map_extents(&mem, bad, 2, 8, UINT64_MAX, out,
		NULL, err, sizeof(err)) == -1);
	/* lengths whose sum wraps */
	struct tessera_guest_extent wrap[2] = {
		{ 0, UINT64_MAX - 10 }, { 0, 20 } };
	CHECK(tessera_memory_table_map_extents(&mem, wrap, 2, 8, UINT64_MAX, out,
		NULL, err, sizeof(err)) == -1);
	bad[1] = (struct tessera_guest_extent){ UINT64_MAX - 5, 10 };
	CHECK(tessera_memory_table_map_extents(&mem, bad, 2, 8, KB(64), out,
		NULL, err, sizeof(err)) == -1);

	tessera_memory_table_finish(&mem);
	close(memfd);
}

/* A range cut into pieces and runs. The extents, laid end to end:
 * [0, 4K) A and [4K, 12K) B follow each other in region 0's file, [12K,
 * 16K) C is in region 1, [16K, 20K) D is in region 0 again, further on. */
static uint8_t iter_host[KB(40)];
static const struct tessera_memory_mapping iter_list[4] = {
	{ .host = iter_host, .len = KB(4), .region = 0, .fd = 10, .fd_offset = 0 },
	{ .host = iter_host + KB(4), .len = KB(8), .region = 0, .fd = 10,
		.fd_offset = KB(4) },
	{ .host = iter_host + KB(20), .len = KB(4), .region = 1, .fd = 11,
		.fd_offset = KB(64) },
	{ .host = iter_host + KB(30), .len = KB(4), .region = 0, .fd = 10,
		.fd_offset = KB(32) },
};

static bool piece_is(const struct tessera_memory_piece *p, size_t index,
		uint64_t offset, uint64_t len) {
	const struct tessera_memory_mapping *m = &iter_list[index];
	return p->index == index && p->offset == offset && p->len == len &&
		p->region == m->region && p->fd == m->fd &&
		p->host == m->host + offset && p->fd_offset == m->fd_offset + offset;
}

static void test_iter_pieces(void) {
	struct tessera_memory_iter it;
	struct tessera_memory_piece p;
	tessera_memory_iter_init(&it, iter_list, 4);
	CHECK(tessera_memory_iter_done(&it)); /* the empty range */
	CHECK(!tessera_memory_iter_next(&it, &p));

	/* from inside A to inside C */
	CHECK(tessera_memory_iter_seek(&it, KB(2), KB(12)));
	CHECK(!tessera_memory_iter_done(&it));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 0, KB(2), KB(2)));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 1, 0, KB(8)));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 2, 0, KB(2)));
	CHECK(!tessera_memory_iter_next(&it, &p));
	CHECK(tessera_memory_iter_done(&it));

	/* the same range in runs: A and B are one run of the file */
	CHECK(tessera_memory_iter_seek(&it, KB(2), KB(12)));
	CHECK(tessera_memory_iter_next_run(&it, &p) && p.index == 0 &&
		p.offset == KB(2) && p.len == KB(10) && p.fd == 10 &&
		p.fd_offset == KB(2) && p.host == iter_host + KB(2));
	CHECK(tessera_memory_iter_next_run(&it, &p) && piece_is(&p, 2, 0, KB(2)));
	CHECK(!tessera_memory_iter_next_run(&it, &p));
	CHECK(tessera_memory_iter_done(&it));

	/* the whole list: D is in region 0 but not next to B in the file */
	CHECK(tessera_memory_iter_seek(&it, 0, KB(20)));
	CHECK(tessera_memory_iter_next_run(&it, &p) && p.index == 0 &&
		p.len == KB(12));
	CHECK(tessera_memory_iter_next_run(&it, &p) && piece_is(&p, 2, 0, KB(4)));
	CHECK(tessera_memory_iter_next_run(&it, &p) && piece_is(&p, 3, 0, KB(4)));
	CHECK(!tessera_memory_iter_next_run(&it, &p));
	CHECK(tessera_memory_iter_done(&it));
}

static void test_iter_boundaries(void) {
	struct tessera_memory_iter it;
	struct tessera_memory_piece p;
	tessera_memory_iter_init(&it, iter_list, 4);

	/* ending and starting exactly at extent boundaries */
	CHECK(tessera_memory_iter_seek(&it, 0, KB(4)));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 0, 0, KB(4)));
	CHECK(!tessera_memory_iter_next(&it, &p));
	CHECK(tessera_memory_iter_done(&it));
	CHECK(tessera_memory_iter_seek(&it, KB(4), KB(8)));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 1, 0, KB(8)));
	CHECK(!tessera_memory_iter_next(&it, &p));
	CHECK(tessera_memory_iter_done(&it));
	/* one byte on each side of a boundary */
	CHECK(tessera_memory_iter_seek(&it, KB(12) - 1, 2));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 1, KB(8) - 1, 1));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 2, 0, 1));
	CHECK(tessera_memory_iter_done(&it));

	/* an empty range anywhere is walked at once */
	CHECK(tessera_memory_iter_seek(&it, KB(5), 0));
	CHECK(!tessera_memory_iter_next(&it, &p));
	CHECK(tessera_memory_iter_done(&it));

	/* up to the very end, then beyond it */
	CHECK(tessera_memory_iter_seek(&it, KB(16), KB(4)));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 3, 0, KB(4)));
	CHECK(tessera_memory_iter_done(&it));
	CHECK(tessera_memory_iter_seek(&it, KB(18), KB(4)));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 3, KB(2), KB(2)));
	CHECK(!tessera_memory_iter_next(&it, &p));
	CHECK(!tessera_memory_iter_done(&it));
	CHECK(tessera_memory_iter_seek(&it, KB(20), 1));
	CHECK(!tessera_memory_iter_next_run(&it, &p));
	CHECK(!tessera_memory_iter_done(&it));

	/* seeking back starts over, seeking forward goes on */
	CHECK(tessera_memory_iter_seek(&it, KB(1), KB(1)));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 0, KB(1), KB(1)));
	CHECK(tessera_memory_iter_seek(&it, KB(4) + 100, 10));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 1, 100, 10));
	CHECK(tessera_memory_iter_seek(&it, KB(4) + 200, 10));
	CHECK(it.index == 1);
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 1, 200, 10));
	CHECK(tessera_memory_iter_done(&it));

	/* no extents at all */
	tessera_memory_iter_init(&it, iter_list, 0);
	CHECK(tessera_memory_iter_seek(&it, 0, 1));
	CHECK(!tessera_memory_iter_next(&it, &p));
	CHECK(!tessera_memory_iter_done(&it));
}

static void test_iter_overflow(void) {
	struct tessera_memory_iter it;
	struct tessera_memory_piece p;
	tessera_memory_iter_init(&it, iter_list, 4);

	/* ranges whose end wraps */
	CHECK(!tessera_memory_iter_seek(&it, UINT64_MAX, 1));
	CHECK(!tessera_memory_iter_next(&it, &p));
	CHECK(!tessera_memory_iter_next_run(&it, &p));
	CHECK(!tessera_memory_iter_done(&it));
	CHECK(!tessera_memory_iter_seek(&it, KB(4), UINT64_MAX));
	CHECK(!tessera_memory_iter_done(&it));
	CHECK(tessera_memory_iter_seek(&it, UINT64_MAX - 1, 1));
	CHECK(!tessera_memory_iter_next(&it, &p)); /* beyond the list */
	CHECK(!tessera_memory_iter_done(&it));
	/* a good seek after a failed one works again */
	CHECK(tessera_memory_iter_seek(&it, 0, 1));
	CHECK(tessera_memory_iter_next(&it, &p) && piece_is(&p, 0, 0, 1));
	CHECK(tessera_memory_iter_done(&it));

	/* extent lengths whose sum wraps: the walk stops at the wrap */
	const struct tessera_memory_mapping wrap[3] = {
		{ .host = iter_host, .len = UINT64_MAX - 10, .fd = 10 },
		{ .host = iter_host, .len = 20, .fd = 10 },
		{ .host = iter_host, .len = 5, .fd = 10 },
	};
	tessera_memory_iter_init(&it, wrap, 3);
	CHECK(tessera_memory_iter_seek(&it, 0, 4));
	CHECK(tessera_memory_iter_next(&it, &p) && p.index == 0 && p.len == 4);
	CHECK(tessera_memory_iter_done(&it));
	CHECK(tessera_memory_iter_seek(&it, UINT64_MAX - 5, 3));
	CHECK(!tessera_memory_iter_next(&it, &p));
	CHECK(!tessera_memory_iter_done(&it));
	CHECK(tessera_memory_iter_seek(&it, UINT64_MAX - 12, 4));
	CHECK(tessera_memory_iter_next(&it, &p) && p.index == 0 &&
		p.offset == UINT64_MAX - 12 && p.len == 2);
	CHECK(!tessera_memory_iter_next(&it, &p));
	CHECK(!tessera_memory_iter_done(&it));
	/* the same in runs: the run so far, then nothing */
	CHECK(tessera_memory_iter_seek(&it, UINT64_MAX - 12, 4));
	CHECK(tessera_memory_iter_next_run(&it, &p) && p.len == 2);
	CHECK(!tessera_memory_iter_next_run(&it, &p));
	CHECK(!tessera_memory_iter_done(&it));

	/* a place in the file that wraps */
	const struct tessera_memory_mapping far[2] = {
		{ .host = iter_host, .len = 16, .fd = 10, .fd_offset = UINT64_MAX - 2 },
		{ .host = iter_host, .len = 16, .fd = 10, .fd_offset = 0 },
	};
	tessera_memory_iter_init(&it, far, 2);
	CHECK(tessera_memory_iter_seek(&it, 0, 2));
	CHECK(tessera_memory_iter_next(&it, &p) && p.fd_offset == UINT64_MAX - 2 &&
		p.len == 2);
	CHECK(tessera_memory_iter_done(&it));
	CHECK(tessera_memory_iter_seek(&it, 0, 3));
	CHECK(!tessera_memory_iter_next(&it, &p));
	CHECK(!tessera_memory_iter_done(&it));
	CHECK(tessera_memory_iter_seek(&it, 4, 20));
	CHECK(!tessera_memory_iter_next_run(&it, &p));
	CHECK(!tessera_memory_iter_done(&it));
	CHECK(tessera_memory_iter_seek(&it, 16, 16));
	CHECK(tessera_memory_iter_next_run(&it, &p) && p.index == 1 && p.len == 16);
	CHECK(tessera_memory_iter_done(&it));
}

int main(void) {
	check_stats(0, 0);
	test_translate();
	test_high_addresses();
	test_adjacent_regions();
	test_bad_tables();
	test_replace();
	test_extents();
	test_iter_pieces();
	test_iter_boundaries();
	test_iter_overflow();
	check_stats(0, 0);
	return test_finish("guest-memory");
}
