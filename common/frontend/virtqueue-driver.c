#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-access.h"
#include "virtqueue-driver.h"
#include "virtqueue.h"

#define RING_HEADER 4
#define DESC_SIZE 16
#define USED_ELEM_SIZE 8

struct tessera_virtqueue_driver_slot {
	void *data;
	uint64_t in_len; /* writable bytes of the chain */
	uint16_t ndesc; /* direct descriptors the chain holds */
	bool in_use;
};

static size_t align_up(size_t v, size_t a) {
	return (v + a - 1) & ~(a - 1);
}

struct layout {
	size_t avail, used, indirect, total;
};

static void compute_layout(uint32_t size, uint32_t max_indirect,
		struct layout *l) {
	l->avail = tessera_virtqueue_desc_size(size);
	l->used = align_up(l->avail + tessera_virtqueue_avail_size(size), 64);
	l->indirect = align_up(l->used + tessera_virtqueue_used_size(size), 64);
	l->total = l->indirect + (size_t)size * max_indirect * DESC_SIZE;
}

size_t tessera_virtqueue_driver_area_size(uint32_t size, uint32_t max_indirect) {
	struct layout l;
	compute_layout(size, max_indirect, &l);
	return l.total;
}

int tessera_virtqueue_driver_init(struct tessera_virtqueue_driver *drv,
		uint32_t size, void *area, uint64_t area_gpa, size_t area_len,
		uint32_t max_indirect, uint64_t features) {
	memset(drv, 0, sizeof(*drv));
	if (size == 0 || (size & (size - 1)) != 0 ||
			size > TESSERA_VIRTQUEUE_MAX_SIZE ||
			max_indirect > TESSERA_VIRTQUEUE_MAX_INDIRECT ||
			(uintptr_t)area % 16 != 0 || area_gpa % 16 != 0) {
		return -1;
	}
	if (!(features & (UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC))) {
		max_indirect = 0;
	}
	struct layout l;
	compute_layout(size, max_indirect, &l);
	if (area_len < l.total) {
		return -1;
	}

	drv->next = calloc(size, sizeof(drv->next[0]));
	drv->slots = calloc(size, sizeof(drv->slots[0]));
	if (drv->next == NULL || drv->slots == NULL) {
		free(drv->next);
		free(drv->slots);
		return -1;
	}
	memset(area, 0, l.total);

	uint8_t *base = area;
	drv->size = size;
	drv->event_idx = features & (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX);
	drv->desc = base;
	drv->avail = base + l.avail;
	drv->used = base + l.used;
	drv->indirect = max_indirect > 0 ? base + l.indirect : NULL;
	drv->desc_gpa = area_gpa;
	drv->avail_gpa = area_gpa + l.avail;
	drv->used_gpa = area_gpa + l.used;
	drv->indirect_gpa = max_indirect > 0 ? area_gpa + l.indirect : 0;
	drv->max_indirect = max_indirect;

	for (uint32_t i = 0; i < size; i++) {
		drv->next[i] = (uint16_t)((i + 1) % size);
	}
	drv->free_head = 0;
	drv->num_free = size;
	return 0;
}

void tessera_virtqueue_driver_finish(struct tessera_virtqueue_driver *drv) {
	free(drv->next);
	free(drv->slots);
	memset(drv, 0, sizeof(*drv));
}

static void write_desc(uint8_t *table, uint32_t i, uint64_t addr,
		uint32_t len, uint16_t flags, uint16_t next) {
	uint8_t *d = table + (size_t)DESC_SIZE * i;
	tessera_virtio_write64(d, addr);
	tessera_virtio_write32(d + 8, len);
	tessera_virtio_write16(d + 12, flags);
	tessera_virtio_write16(d + 14, next);
}

int tessera_virtqueue_driver_add(struct tessera_virtqueue_driver *drv,
		const struct tessera_virtqueue_buffer *bufs, size_t out_num,
		size_t in_num, void *data) {
	size_t total = out_num + in_num;
	if (total == 0 || total > TESSERA_VIRTQUEUE_MAX_SEGMENTS ||
			drv->num_free == 0) {
		return -1;
	}
	bool indirect = total > 1 && total <= drv->max_indirect;
	size_t ndesc = indirect ? 1 : total;
	if (ndesc > drv->num_free) {
		return -1;
	}

	uint16_t head = drv->free_head;
	uint64_t in_len = 0;
	if (indirect) {
		uint8_t *table = drv->indirect +
			(size_t)head * drv->max_indirect * DESC_SIZE;
		for (size_t i = 0; i < total; i++) {
			uint16_t flags = i < out_num ? 0 : VRING_DESC_F_WRITE;
			if (i + 1 < total) {
				flags |= VRING_DESC_F_NEXT;
			}
			if (i >= out_num) {
				in_len += bufs[i].len;
			}
			write_desc(table, (uint32_t)i, bufs[i].gpa, bufs[i].len, flags,
				(uint16_t)(i + 1 < total ? i + 1 : 0));
		}
		write_desc(drv->desc, head,
			drv->indirect_gpa + (uint64_t)head * drv->max_indirect * DESC_SIZE,
			(uint32_t)(total * DESC_SIZE), VRING_DESC_F_INDIRECT, 0);
		drv->free_head = drv->next[head];
	} else {
		uint16_t i = head;
		for (size_t k = 0; k < total; k++) {
			uint16_t flags = k < out_num ? 0 : VRING_DESC_F_WRITE;
			uint16_t next = drv->next[i];
			if (k + 1 < total) {
				flags |= VRING_DESC_F_NEXT;
			}
			if (k >= out_num) {
				in_len += bufs[k].len;
			}
			write_desc(drv->desc, i, bufs[k].gpa, bufs[k].len, flags,
				k + 1 < total ? next : 0);
			if (k + 1 < total) {
				i = next;
			} else {
				drv->free_head = next;
			}
		}
	}
	drv->num_free -= (uint32_t)ndesc;
	drv->slots[head].data = data;
	drv->slots[head].in_len = in_len;
	drv->slots[head].ndesc = (uint16_t)ndesc;
	drv->slots[head].in_use = true;
	drv->inflight++;

	uint32_t slot = drv->avail_idx & (drv->size - 1);
	tessera_virtio_write16(drv->avail + RING_HEADER + (size_t)2 * slot, head);
	/* descriptors and ring entry before the index */
	tessera_virtio_wmb();
	drv->avail_idx++;
	tessera_virtio_write16(drv->avail + 2, drv->avail_idx);
	return head;
}

bool tessera_virtqueue_driver_kick_needed(struct tessera_virtqueue_driver *drv) {
	/* avail->idx is written before the device's fields are read */
	tessera_virtio_mb();
	uint16_t old = drv->kicked_avail_idx;
	uint16_t new = drv->avail_idx;
	drv->kicked_avail_idx = new;
	if (new == old) {
		return false; /* nothing published since the last kick */
	}
	if (!drv->event_idx) {
		return !(tessera_virtio_read16(drv->used) & VRING_USED_F_NO_NOTIFY);
	}
	uint16_t event = tessera_virtio_read16(drv->used + RING_HEADER +
		(size_t)USED_ELEM_SIZE * drv->size);
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

static void write_used_event(struct tessera_virtqueue_driver *drv, uint16_t v) {
	tessera_virtio_write16(drv->avail + RING_HEADER + (size_t)2 * drv->size, v);
}

int tessera_virtqueue_driver_get_used(struct tessera_virtqueue_driver *drv,
		uint32_t *len, void **data) {
	uint16_t used_idx = tessera_virtio_read16(drv->used + 2);
	if (used_idx == drv->last_used_idx) {
		if (!drv->event_idx) {
			return 0;
		}
		write_used_event(drv, drv->last_used_idx);
		tessera_virtio_mb();
		used_idx = tessera_virtio_read16(drv->used + 2);
		if (used_idx == drv->last_used_idx) {
			return 0;
		}
	}
	tessera_virtio_rmb();

	const uint8_t *elem = drv->used + RING_HEADER +
		(size_t)USED_ELEM_SIZE * (drv->last_used_idx & (drv->size - 1));
	uint32_t id = tessera_virtio_read32(elem);
	uint32_t used_len = tessera_virtio_read32(elem + 4);
	drv->last_used_idx++;
	if (drv->event_idx) {
		write_used_event(drv, drv->last_used_idx);
	}
	if (id >= drv->size || !drv->slots[id].in_use) {
		return -1;
	}

	struct tessera_virtqueue_driver_slot *slot = &drv->slots[id];
	/* return the chain's descriptors to the free list, following the
	 * private links (the shared table may have been scribbled on) */
	uint16_t last = (uint16_t)id;
	for (uint16_t k = 1; k < slot->ndesc; k++) {
		last = drv->next[last];
	}
	drv->next[last] = drv->free_head;
	drv->free_head = (uint16_t)id;
	drv->num_free += slot->ndesc;
	slot->in_use = false;
	drv->inflight--;

	void *slot_data = slot->data;
	slot->data = NULL;
	if (used_len > slot->in_len) {
		return -1;
	}
	*len = used_len;
	*data = slot_data;
	return 1;
}

uint32_t tessera_virtqueue_driver_inflight(
		const struct tessera_virtqueue_driver *drv) {
	return drv->inflight;
}
