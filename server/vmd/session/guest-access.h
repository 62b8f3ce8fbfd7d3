/*
 * Guest memory through a resource's backing (struct vmd_resource: its
 * extents, each with its host mapping and its place in a guest RAM file):
 * scatter writes, and contiguous mappings of an area such as the event
 * ring. Ranges are checked against the backing.
 */
#ifndef TESSERA_VMD_SESSION_GUEST_ACCESS_H
#define TESSERA_VMD_SESSION_GUEST_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* A guest memory area mapped contiguously into vmd (the event ring). */
struct vmd_area_map {
	void *base; /* mmap()ed range, NULL if none */
	size_t size;
	uint8_t *ptr; /* first byte of the area */
};

uint64_t vmd_page_size(void);

/* Maps [offset, offset + size) of res's backing in one piece; false with
 * *why if it is outside the backing or its pages are not page-aligned in
 * the guest RAM files. */
bool vmd_area_map(const struct vmd_resource *res, uint64_t offset, uint64_t size,
	struct vmd_area_map *map, const char **why);
void vmd_area_unmap(struct vmd_area_map *map);

/* Writes len bytes at offset of res's backing; false if the range is not
 * inside it. */
bool vmd_resource_write(const struct vmd_resource *res, uint64_t offset,
	const void *src, size_t len);

#endif
