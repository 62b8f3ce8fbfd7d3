/*
 * Guest memory through a resource's backing, see guest-access.h.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest-access.h"
#include "memory-table.h"

uint64_t vmd_page_size(void) {
	static uint64_t size;
	if (size == 0) {
		long v = sysconf(_SC_PAGESIZE);
		size = v > 0 ? (uint64_t)v : 4096;
	}
	return size;
}

bool vmd_resource_write(const struct vmd_resource *res, uint64_t offset,
		const void *src, size_t len) {
	uint64_t end;
	if (__builtin_add_overflow(offset, len, &end) || end > res->size) {
		return false;
	}
	struct tessera_memory_iter iter;
	tessera_memory_iter_init(&iter, res->mappings, res->n_extents);
	tessera_memory_iter_seek(&iter, offset, len);
	const uint8_t *from = src;
	struct tessera_memory_piece piece;
	while (tessera_memory_iter_next(&iter, &piece)) {
		memcpy(piece.host, from, piece.len);
		from += piece.len;
	}
	return tessera_memory_iter_done(&iter);
}

void vmd_area_unmap(struct vmd_area_map *map) {
	if (map->base != NULL) {
		munmap(map->base, map->size);
	}
	*map = (struct vmd_area_map){0};
}

bool vmd_area_map(const struct vmd_resource *res, uint64_t offset, uint64_t size,
		struct vmd_area_map *map, const char **why) {
	*map = (struct vmd_area_map){0};
	uint64_t end;
	if (size == 0 || __builtin_add_overflow(offset, size, &end) || end > res->size) {
		*why = "outside the resource";
		return false;
	}
	const uint64_t page = vmd_page_size();
	/* the area's runs of guest memory files: every boundary between two
	 * must fall on a page boundary, in the area and in the files, for
	 * one contiguous mapping */
	struct tessera_memory_iter iter;
	tessera_memory_iter_init(&iter, res->mappings, res->n_extents);
	tessera_memory_iter_seek(&iter, offset, size);
	struct tessera_memory_piece run;
	uint64_t lead = 0, pos = 0;
	bool first = true, aligned = true;
	while (tessera_memory_iter_next_run(&iter, &run)) {
		if (first) {
			lead = run.fd_offset % page;
			pos = lead;
		} else if (pos % page != 0 || run.fd_offset % page != 0) {
			aligned = false;
		}
		pos += run.len;
		first = false;
	}
	if (!tessera_memory_iter_done(&iter)) {
		*why = "outside the resource";
		return false;
	}
	if (!aligned) {
		*why = "its pages are not page-aligned in guest memory";
		return false;
	}
	size_t total = (size_t)((lead + size + page - 1) / page * page);
	uint8_t *base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		*why = "out of address space";
		return false;
	}
	tessera_memory_iter_seek(&iter, offset, size);
	pos = 0;
	first = true;
	while (tessera_memory_iter_next_run(&iter, &run)) {
		uint64_t file_off = run.fd_offset - (first ? lead : 0);
		uint64_t len = run.len + (first ? lead : 0);
		uint64_t map_len = (len + page - 1) / page * page;
		if (pos + map_len > total) {
			map_len = total - pos;
		}
		void *p = mmap(base + pos, map_len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_FIXED, run.fd, (off_t)file_off);
		if (p == MAP_FAILED) {
			munmap(base, total);
			*why = "mmap of guest memory failed";
			return false;
		}
		pos += len;
		first = false;
	}
	map->base = base;
	map->size = total;
	map->ptr = base + lead;
	return true;
}
