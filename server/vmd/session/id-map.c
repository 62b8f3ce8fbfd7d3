/* Sorted id -> object maps, see id-map.h. */
#include <stdlib.h>
#include <string.h>

#include "id-map.h"

static size_t id_map_find(const struct vmd_id_map *map, uint32_t id, bool *found) {
	size_t lo = 0, hi = map->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (map->ids[mid] < id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	*found = lo < map->n && map->ids[lo] == id;
	return lo;
}

void *vmd_id_map_get(const struct vmd_id_map *map, uint32_t id) {
	bool found;
	size_t i = id_map_find(map, id, &found);
	return found ? map->objs[i] : NULL;
}

bool vmd_id_map_add(struct vmd_id_map *map, uint32_t id, void *obj) {
	bool found;
	size_t i = id_map_find(map, id, &found);
	if (found) {
		return false;
	}
	if (map->n == map->cap) {
		size_t cap = map->cap == 0 ? 16 : map->cap * 2;
		uint32_t *ids = realloc(map->ids, cap * sizeof(*ids));
		if (ids == NULL) {
			return false;
		}
		map->ids = ids;
		void **objs = realloc(map->objs, cap * sizeof(*objs));
		if (objs == NULL) {
			return false;
		}
		map->objs = objs;
		map->cap = cap;
	}
	memmove(&map->ids[i + 1], &map->ids[i], (map->n - i) * sizeof(*map->ids));
	memmove(&map->objs[i + 1], &map->objs[i], (map->n - i) * sizeof(*map->objs));
	map->ids[i] = id;
	map->objs[i] = obj;
	map->n++;
	return true;
}

void vmd_id_map_remove(struct vmd_id_map *map, uint32_t id) {
	bool found;
	size_t i = id_map_find(map, id, &found);
	if (!found) {
		return;
	}
	memmove(&map->ids[i], &map->ids[i + 1], (map->n - i - 1) * sizeof(*map->ids));
	memmove(&map->objs[i], &map->objs[i + 1], (map->n - i - 1) * sizeof(*map->objs));
	map->n--;
}

void vmd_id_map_finish(struct vmd_id_map *map) {
	free(map->ids);
	free(map->objs);
	*map = (struct vmd_id_map){0};
}
