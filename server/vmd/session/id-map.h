/*
 * Sorted id -> object maps of a context's surfaces and buffers. Ids of new
 * objects always grow (PROTOCOL.md), so adding is an append in practice.
 */
#ifndef TESSERA_VMD_SESSION_ID_MAP_H
#define TESSERA_VMD_SESSION_ID_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmd_id_map {
	uint32_t *ids;
	void **objs;
	size_t n, cap;
};

/* The object of id, NULL if none. */
void *vmd_id_map_get(const struct vmd_id_map *map, uint32_t id);
/* false if id is taken or memory is short. */
bool vmd_id_map_add(struct vmd_id_map *map, uint32_t id, void *obj);
void vmd_id_map_remove(struct vmd_id_map *map, uint32_t id);
void vmd_id_map_finish(struct vmd_id_map *map);

#endif
