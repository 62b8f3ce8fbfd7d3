#define _GNU_SOURCE /* F_GET_SEALS */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memory-table.h"

static _Atomic uint64_t stat_regions;
static _Atomic uint64_t stat_bytes;

static void set_error(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t err_size, const char *fmt, ...) {
	if (err == NULL || err_size == 0) {
		return;
	}
	va_list args;
	va_start(args, fmt);
	vsnprintf(err, err_size, fmt, args);
	va_end(args);
}

/* [a, a + a_len) and [b, b + b_len) overlap; the sums are known not to wrap */
static bool ranges_overlap(uint64_t a, uint64_t a_len, uint64_t b,
		uint64_t b_len) {
	return a < b + b_len && b < a + a_len;
}

static void region_unmap(struct tessera_memory_region *region) {
	if (region->map_base != NULL) {
		munmap(region->map_base, region->map_size);
		atomic_fetch_sub(&stat_regions, 1);
		atomic_fetch_sub(&stat_bytes, region->size);
	}
	if (region->fd >= 0) {
		close(region->fd);
	}
	memset(region, 0, sizeof(*region));
	region->fd = -1;
	region->seals = -1;
}

void tessera_memory_table_init(struct tessera_memory_table *mem) {
	memset(mem, 0, sizeof(*mem));
	for (size_t i = 0; i < TESSERA_MEMORY_TABLE_MAX_REGIONS; i++) {
		mem->regions[i].fd = -1;
		mem->regions[i].seals = -1;
	}
}

void tessera_memory_table_clear(struct tessera_memory_table *mem) {
	for (size_t i = 0; i < mem->nregions; i++) {
		region_unmap(&mem->regions[i]);
	}
	if (mem->nregions > 0) {
		mem->generation++;
	}
	mem->nregions = 0;
}

void tessera_memory_table_finish(struct tessera_memory_table *mem) {
	tessera_memory_table_clear(mem);
}

struct tessera_memory_table *tessera_memory_table_create(void) {
	struct tessera_memory_table *mem = calloc(1, sizeof(*mem));
	if (mem == NULL) {
		return NULL;
	}
	tessera_memory_table_init(mem);
	return mem;
}

void tessera_memory_table_destroy(struct tessera_memory_table *mem) {
	if (mem == NULL) {
		return;
	}
	tessera_memory_table_finish(mem);
	free(mem);
}

static int check_desc(const struct tessera_memory_region_desc *desc,
		size_t index, char *err, size_t err_size) {
	if (desc->fd < 0) {
		set_error(err, err_size, "region %zu: no file descriptor", index);
		return -1;
	}
	if (desc->size == 0) {
		set_error(err, err_size, "region %zu: zero size", index);
		return -1;
	}
	if (desc->size > TESSERA_MEMORY_TABLE_MAX_REGION_SIZE) {
		set_error(err, err_size, "region %zu: size 0x%llx too large",
			index, (unsigned long long)desc->size);
		return -1;
	}
	/* size <= 2^40, so these tests are exact and the sums below safe */
	if (desc->gpa > UINT64_MAX - desc->size ||
			desc->uva > UINT64_MAX - desc->size ||
			desc->mmap_offset > (uint64_t)INT64_MAX - desc->size) {
		set_error(err, err_size, "region %zu: address range wraps", index);
		return -1;
	}
	return 0;
}

static int region_map(struct tessera_memory_region *region,
		const struct tessera_memory_region_desc *desc, size_t index,
		char *err, size_t err_size) {
	struct stat st;
	if (fstat(desc->fd, &st) != 0) {
		set_error(err, err_size, "region %zu: fstat: %s", index,
			strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		set_error(err, err_size,
			"region %zu: fd is not a memory file (memfd/shm/hugetlbfs)",
			index);
		return -1;
	}
	if (st.st_size < 0 ||
			(uint64_t)st.st_size < desc->mmap_offset + desc->size) {
		set_error(err, err_size,
			"region %zu: file is 0x%llx bytes, region needs 0x%llx",
			index, (unsigned long long)st.st_size,
			(unsigned long long)(desc->mmap_offset + desc->size));
		return -1;
	}

	long page_size = sysconf(_SC_PAGESIZE);
	if (page_size <= 0) {
		page_size = 4096;
	}
	uint64_t page_mask = (uint64_t)page_size - 1;
	uint64_t map_offset = desc->mmap_offset & ~page_mask;
	uint64_t delta = desc->mmap_offset - map_offset;
	uint64_t map_size = desc->size + delta;
	if (map_size > SIZE_MAX) {
		set_error(err, err_size, "region %zu: too large for this host",
			index);
		return -1;
	}

	void *base = mmap(NULL, (size_t)map_size, PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_NORESERVE, desc->fd, (off_t)map_offset);
	if (base == MAP_FAILED) {
		set_error(err, err_size, "region %zu: mmap: %s", index,
			strerror(errno));
		return -1;
	}

	region->gpa = desc->gpa;
	region->size = desc->size;
	region->uva = desc->uva;
	region->mmap_offset = desc->mmap_offset;
	region->fd = desc->fd;
	region->seals = fcntl(desc->fd, F_GET_SEALS);
	region->map_base = base;
	region->map_size = (size_t)map_size;
	region->host = (uint8_t *)base + delta;
	atomic_fetch_add(&stat_regions, 1);
	atomic_fetch_add(&stat_bytes, region->size);
	return 0;
}

int tessera_memory_table_set_table(struct tessera_memory_table *mem,
		const struct tessera_memory_region_desc *descs, size_t n,
		char *err, size_t err_size) {
	struct tessera_memory_region next[TESSERA_MEMORY_TABLE_MAX_REGIONS];
	size_t mapped = 0;

	if (n > TESSERA_MEMORY_TABLE_MAX_REGIONS) {
		set_error(err, err_size, "%zu regions, at most %d supported", n,
			TESSERA_MEMORY_TABLE_MAX_REGIONS);
		goto error;
	}
	for (size_t i = 0; i < n; i++) {
		if (check_desc(&descs[i], i, err, err_size) != 0) {
			goto error;
		}
		for (size_t j = 0; j < i; j++) {
			if (ranges_overlap(descs[i].gpa, descs[i].size,
					descs[j].gpa, descs[j].size)) {
				set_error(err, err_size,
					"regions %zu and %zu overlap in guest memory", j, i);
				goto error;
			}
			if (ranges_overlap(descs[i].uva, descs[i].size,
					descs[j].uva, descs[j].size)) {
				set_error(err, err_size,
					"regions %zu and %zu overlap in VMM memory", j, i);
				goto error;
			}
		}
	}

	for (size_t i = 0; i < n; i++) {
		memset(&next[i], 0, sizeof(next[i]));
		next[i].fd = -1;
		if (region_map(&next[i], &descs[i], i, err, err_size) != 0) {
			goto error;
		}
		mapped++;
	}

	tessera_memory_table_clear(mem);
	memcpy(mem->regions, next, n * sizeof(next[0]));
	mem->nregions = n;
	mem->generation++;
	return 0;

error:
	for (size_t i = 0; i < mapped; i++) {
		region_unmap(&next[i]); /* closes descs[i].fd */
	}
	for (size_t i = mapped; i < n; i++) {
		if (descs[i].fd >= 0) {
			close(descs[i].fd);
		}
	}
	return -1;
}

int tessera_memory_table_find_region(const struct tessera_memory_table *mem,
		uint64_t gpa, uint64_t len) {
	if (len == 0) {
		return -1;
	}
	for (size_t i = 0; i < mem->nregions; i++) {
		const struct tessera_memory_region *r = &mem->regions[i];
		/* gpa - r->gpa cannot wrap once gpa >= r->gpa; the
		 * comparisons below never form gpa + len */
		if (gpa >= r->gpa && gpa - r->gpa < r->size &&
				len <= r->size - (gpa - r->gpa)) {
			return (int)i;
		}
	}
	return -1;
}

void *tessera_memory_table_translate(const struct tessera_memory_table *mem,
		uint64_t gpa, uint64_t len) {
	int i = tessera_memory_table_find_region(mem, gpa, len);
	if (i < 0) {
		return NULL;
	}
	const struct tessera_memory_region *r = &mem->regions[i];
	return r->host + (gpa - r->gpa);
}

void *tessera_memory_table_translate_uva(const struct tessera_memory_table *mem,
		uint64_t uva, uint64_t len) {
	if (len == 0) {
		return NULL;
	}
	for (size_t i = 0; i < mem->nregions; i++) {
		const struct tessera_memory_region *r = &mem->regions[i];
		if (uva >= r->uva && uva - r->uva < r->size &&
				len <= r->size - (uva - r->uva)) {
			return r->host + (uva - r->uva);
		}
	}
	return NULL;
}

void *tessera_memory_table_translate_partial(
		const struct tessera_memory_table *mem, uint64_t gpa, uint64_t len,
		uint64_t *contiguous) {
	if (len == 0) {
		return NULL;
	}
	for (size_t i = 0; i < mem->nregions; i++) {
		const struct tessera_memory_region *r = &mem->regions[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			uint64_t left = r->size - (gpa - r->gpa);
			*contiguous = len < left ? len : left;
			return r->host + (gpa - r->gpa);
		}
	}
	return NULL;
}

int tessera_memory_table_map_extents(const struct tessera_memory_table *mem,
		const struct tessera_guest_extent *extents, size_t n,
		size_t max_extents, uint64_t max_total,
		struct tessera_memory_mapping *out, uint64_t *total,
		char *err, size_t err_size) {
	if (max_extents > TESSERA_MEMORY_TABLE_MAX_EXTENTS) {
		max_extents = TESSERA_MEMORY_TABLE_MAX_EXTENTS;
	}
	if (n == 0) {
		set_error(err, err_size, "empty extent list");
		return -1;
	}
	if (n > max_extents) {
		set_error(err, err_size, "%zu extents, at most %zu allowed", n,
			max_extents);
		return -1;
	}

	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		const struct tessera_guest_extent *e = &extents[i];
		if (e->len == 0) {
			set_error(err, err_size, "extent %zu is empty", i);
			return -1;
		}
		if (e->len > max_total || sum > max_total - e->len) {
			set_error(err, err_size,
				"extents exceed the limit of %llu bytes",
				(unsigned long long)max_total);
			return -1;
		}
		int r = tessera_memory_table_find_region(mem, e->gpa, e->len);
		if (r < 0) {
			set_error(err, err_size,
				"extent %zu [0x%llx, +0x%llx) is not inside one "
				"guest memory region", i, (unsigned long long)e->gpa,
				(unsigned long long)e->len);
			return -1;
		}
		const struct tessera_memory_region *region =
			&mem->regions[r];
		uint64_t offset = e->gpa - region->gpa;
		out[i].host = region->host + offset;
		out[i].len = e->len;
		out[i].region = (uint32_t)r;
		out[i].fd = region->fd;
		out[i].fd_offset = region->mmap_offset + offset;
		sum += e->len;
	}
	if (total != NULL) {
		*total = sum;
	}
	return 0;
}

void tessera_memory_table_get_stats(struct tessera_memory_table_stats *stats) {
	stats->regions = atomic_load(&stat_regions);
	stats->bytes = atomic_load(&stat_bytes);
}

/* ---- walking a range of an extent list ---- */

void tessera_memory_iter_init(struct tessera_memory_iter *iter,
		const struct tessera_memory_mapping *mappings, size_t n) {
	*iter = (struct tessera_memory_iter){
		.mappings = mappings,
		.n = n,
	};
}

bool tessera_memory_iter_seek(struct tessera_memory_iter *iter,
		uint64_t offset, uint64_t len) {
	uint64_t end;
	if (__builtin_add_overflow(offset, len, &end)) {
		iter->failed = true;
		iter->pos = iter->end = 0;
		return false;
	}
	if (offset < iter->start) {
		iter->index = 0;
		iter->start = 0;
	}
	iter->failed = false;
	iter->pos = offset;
	iter->end = end;
	return true;
}

bool tessera_memory_iter_next(struct tessera_memory_iter *iter,
		struct tessera_memory_piece *piece) {
	if (iter->failed || iter->pos >= iter->end) {
		return false;
	}
	for (; iter->index < iter->n; iter->index++) {
		const struct tessera_memory_mapping *m = &iter->mappings[iter->index];
		uint64_t ext_end;
		if (__builtin_add_overflow(iter->start, m->len, &ext_end)) {
			iter->failed = true;
			return false;
		}
		if (ext_end <= iter->pos) {
			iter->start = ext_end; /* wholly before the range */
			continue;
		}
		uint64_t offset = iter->pos - iter->start;
		uint64_t len = (ext_end < iter->end ? ext_end : iter->end) - iter->pos;
		uint64_t fd_offset, fd_end;
		if (__builtin_add_overflow(m->fd_offset, offset, &fd_offset) ||
				__builtin_add_overflow(fd_offset, len, &fd_end)) {
			iter->failed = true;
			return false;
		}
		*piece = (struct tessera_memory_piece){
			.index = iter->index,
			.offset = offset,
			.len = len,
			.region = m->region,
			.fd = m->fd,
			.host = m->host + offset,
			.fd_offset = fd_offset,
		};
		iter->pos += len;
		if (iter->pos == ext_end) {
			iter->start = ext_end;
			iter->index++;
		}
		return true;
	}
	return false;
}

bool tessera_memory_iter_next_run(struct tessera_memory_iter *iter,
		struct tessera_memory_piece *run) {
	if (!tessera_memory_iter_next(iter, run)) {
		return false;
	}
	for (;;) {
		struct tessera_memory_iter before = *iter;
		struct tessera_memory_piece piece;
		if (!tessera_memory_iter_next(iter, &piece)) {
			if (!iter->failed) {
				*iter = before;
			}
			return true;
		}
		/* no wrap: next() checked the piece's file range */
		if (piece.region != run->region || piece.fd != run->fd ||
				run->fd_offset + run->len != piece.fd_offset) {
			*iter = before;
			return true;
		}
		/* both lie in [offset, end) of the range: no wrap */
		run->len += piece.len;
	}
}

bool tessera_memory_iter_done(const struct tessera_memory_iter *iter) {
	return !iter->failed && iter->pos == iter->end;
}
