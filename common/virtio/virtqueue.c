#include <linux/virtio_ring.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "memory-table.h"
#include "virtio-access.h"
#include "virtqueue.h"

/* Split ring layout (virtio 1.2, 2.7):
 *   avail: le16 flags, le16 idx, le16 ring[size], le16 used_event
 *   used:  le16 flags, le16 idx, {le32 id, le32 len} ring[size],
 *          le16 avail_event */
#define RING_HEADER 4
#define DESC_SIZE 16
#define USED_ELEM_SIZE 8

/* A descriptor as copied out of guest memory, in host byte order. */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static bool is_power_of_two(uint32_t v) {
	return v != 0 && (v & (v - 1)) == 0;
}

size_t tessera_virtqueue_desc_size(uint32_t size) {
	return (size_t)DESC_SIZE * size;
}

size_t tessera_virtqueue_avail_size(uint32_t size) {
	return RING_HEADER + (size_t)2 * size + 2;
}

size_t tessera_virtqueue_used_size(uint32_t size) {
	return RING_HEADER + (size_t)USED_ELEM_SIZE * size + 2;
}

void tessera_virtqueue_set_broken(struct tessera_virtqueue *vq,
		const char *fmt, ...) {
	if (vq->broken) {
		return; /* keep the first reason */
	}
	vq->broken = true;
	va_list args;
	va_start(args, fmt);
	vsnprintf(vq->error, sizeof(vq->error), fmt, args);
	va_end(args);
}

bool tessera_virtqueue_is_broken(const struct tessera_virtqueue *vq) {
	return vq->broken;
}

const char *tessera_virtqueue_error(const struct tessera_virtqueue *vq) {
	return vq->broken ? vq->error : NULL;
}

static bool rings_aligned(const struct tessera_virtqueue_rings *rings) {
	return rings->desc != NULL && rings->avail != NULL &&
		rings->used != NULL &&
		(uintptr_t)rings->desc % VRING_DESC_ALIGN_SIZE == 0 &&
		(uintptr_t)rings->avail % VRING_AVAIL_ALIGN_SIZE == 0 &&
		(uintptr_t)rings->used % VRING_USED_ALIGN_SIZE == 0;
}

int tessera_virtqueue_set_rings(struct tessera_virtqueue *vq,
		const struct tessera_virtqueue_rings *rings) {
	if (!rings_aligned(rings)) {
		return -1;
	}
	vq->desc = rings->desc;
	vq->avail = rings->avail;
	vq->used = rings->used;
	return 0;
}

int tessera_virtqueue_init(struct tessera_virtqueue *vq,
		const struct tessera_memory_table *mem, uint32_t size,
		const struct tessera_virtqueue_rings *rings, uint64_t features,
		uint16_t last_avail_idx) {
	memset(vq, 0, sizeof(*vq));
	if (!is_power_of_two(size) || size > TESSERA_VIRTQUEUE_MAX_SIZE) {
		tessera_virtqueue_set_broken(vq, "invalid queue size %u", size);
		return -1;
	}
	if (tessera_virtqueue_set_rings(vq, rings) != 0) {
		tessera_virtqueue_set_broken(vq, "misaligned ring");
		return -1;
	}
	vq->mem = mem;
	vq->size = size;
	vq->event_idx = features & (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = features & (UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC);
	vq->last_avail_idx = last_avail_idx;
	vq->shadow_avail_idx = last_avail_idx;
	vq->used_idx = tessera_virtio_read16(vq->used + 2);
	return 0;
}

static uint16_t read_avail_idx(struct tessera_virtqueue *vq) {
	return tessera_virtio_read16(vq->avail + 2);
}

static void write_avail_event(struct tessera_virtqueue *vq, uint16_t v) {
	tessera_virtio_write16(vq->used + RING_HEADER +
		(size_t)USED_ELEM_SIZE * vq->size, v);
}

/* Reads avail->idx into shadow_avail_idx; false (queue broken) if it ran
 * ahead by more than the queue size. */
static bool fetch_avail_idx(struct tessera_virtqueue *vq) {
	uint16_t idx = read_avail_idx(vq);
	uint16_t pending = (uint16_t)(idx - vq->last_avail_idx);
	if (pending > vq->size) {
		tessera_virtqueue_set_broken(vq,
			"avail idx %u is %u entries ahead of %u (queue size %u)",
			idx, pending, vq->last_avail_idx, vq->size);
		return false;
	}
	vq->shadow_avail_idx = idx;
	return true;
}

uint32_t tessera_virtqueue_pending(struct tessera_virtqueue *vq) {
	if (vq->broken || !fetch_avail_idx(vq)) {
		return 0;
	}
	return (uint16_t)(vq->shadow_avail_idx - vq->last_avail_idx);
}

static void load_desc(const uint8_t *table, uint32_t i, struct desc *out) {
	uint8_t raw[DESC_SIZE];
	memcpy(raw, table + (size_t)DESC_SIZE * i, sizeof(raw));
	tessera_virtio_compiler_barrier();
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
	memcpy(&addr, raw, 8);
	memcpy(&len, raw + 8, 4);
	memcpy(&flags, raw + 12, 2);
	memcpy(&next, raw + 14, 2);
	out->addr = TESSERA_LE64(addr);
	out->len = TESSERA_LE32(len);
	out->flags = TESSERA_LE16(flags);
	out->next = TESSERA_LE16(next);
}

/* Appends [addr, addr + len) as one or more segments. */
static bool map_desc(struct tessera_virtqueue *vq,
		struct tessera_virtqueue_element *elem, const struct desc *d,
		bool writable) {
	uint64_t addr = d->addr;
	uint64_t left = d->len;
	if (addr > UINT64_MAX - left) {
		tessera_virtqueue_set_broken(vq,
			"descriptor [0x%llx, +0x%x) wraps around",
			(unsigned long long)addr, d->len);
		return false;
	}
	while (left > 0) {
		uint32_t n = elem->out_num + elem->in_num;
		if (n >= TESSERA_VIRTQUEUE_MAX_SEGMENTS) {
			tessera_virtqueue_set_broken(vq,
				"chain has more than %d segments",
				TESSERA_VIRTQUEUE_MAX_SEGMENTS);
			return false;
		}
		uint64_t chunk;
		void *host = tessera_memory_table_translate_partial(vq->mem,
			addr, left, &chunk);
		if (host == NULL) {
			tessera_virtqueue_set_broken(vq,
				"descriptor [0x%llx, +0x%x) is outside guest memory",
				(unsigned long long)d->addr, d->len);
			return false;
		}
		elem->iov[n].iov_base = host;
		elem->iov[n].iov_len = (size_t)chunk;
		if (writable) {
			elem->in_num++;
			elem->in_len += chunk;
		} else {
			elem->out_num++;
			elem->out_len += chunk;
		}
		addr += chunk;
		left -= chunk;
	}
	return true;
}

static bool walk_chain(struct tessera_virtqueue *vq, uint16_t head,
		struct tessera_virtqueue_element *elem) {
	const uint8_t *table = vq->desc;
	uint32_t table_len = vq->size;
	uint32_t i = head;
	uint32_t visited = 0;
	bool in_indirect = false;

	elem->head = head;
	elem->out_num = elem->in_num = 0;
	elem->out_len = elem->in_len = 0;

	for (;;) {
		struct desc d;
		load_desc(table, i, &d);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect) {
				tessera_virtqueue_set_broken(vq,
					"indirect descriptor without INDIRECT_DESC");
				return false;
			}
			if (in_indirect) {
				tessera_virtqueue_set_broken(vq,
					"indirect descriptor inside an indirect table");
				return false;
			}
			if (visited != 0) {
				tessera_virtqueue_set_broken(vq,
					"indirect descriptor not at the chain head");
				return false;
			}
			if (d.flags & VRING_DESC_F_NEXT) {
				tessera_virtqueue_set_broken(vq,
					"indirect descriptor with NEXT flag");
				return false;
			}
			if (d.len == 0 || d.len % DESC_SIZE != 0 ||
					d.len / DESC_SIZE > TESSERA_VIRTQUEUE_MAX_INDIRECT) {
				tessera_virtqueue_set_broken(vq,
					"indirect table of invalid length %u", d.len);
				return false;
			}
			table = tessera_memory_table_translate(vq->mem, d.addr, d.len);
			if (table == NULL) {
				tessera_virtqueue_set_broken(vq,
					"indirect table [0x%llx, +0x%x) is outside guest "
					"memory", (unsigned long long)d.addr, d.len);
				return false;
			}
			table_len = d.len / DESC_SIZE;
			in_indirect = true;
			i = 0;
			continue;
		}

		if (++visited > table_len) {
			tessera_virtqueue_set_broken(vq,
				"descriptor chain from head %u loops or is longer "
				"than its table (%u)", head, table_len);
			return false;
		}
		if (d.len == 0) {
			tessera_virtqueue_set_broken(vq,
				"zero-length descriptor in chain %u", head);
			return false;
		}
		bool writable = d.flags & VRING_DESC_F_WRITE;
		if (!writable && elem->in_num > 0) {
			tessera_virtqueue_set_broken(vq,
				"readable descriptor after a writable one in chain %u",
				head);
			return false;
		}
		if (!map_desc(vq, elem, &d, writable)) {
			return false;
		}
		if (!(d.flags & VRING_DESC_F_NEXT)) {
			return true;
		}
		if (d.next >= table_len) {
			tessera_virtqueue_set_broken(vq,
				"next index %u out of range (table of %u)", d.next,
				table_len);
			return false;
		}
		i = d.next;
	}
}

int tessera_virtqueue_pop(struct tessera_virtqueue *vq,
		struct tessera_virtqueue_element *elem) {
	if (vq->broken) {
		return -1;
	}
	if (vq->last_avail_idx == vq->shadow_avail_idx) {
		if (!fetch_avail_idx(vq)) {
			return -1;
		}
		if (vq->last_avail_idx == vq->shadow_avail_idx) {
			if (!vq->event_idx) {
				return 0;
			}
			/* Ask for a kick on the next entry, then look again:
			 * the driver may have added one before seeing it. */
			write_avail_event(vq, vq->last_avail_idx);
			tessera_virtio_mb();
			if (!fetch_avail_idx(vq)) {
				return -1;
			}
			if (vq->last_avail_idx == vq->shadow_avail_idx) {
				return 0;
			}
		}
	}
	/* ring entries and descriptors are read after avail->idx */
	tessera_virtio_rmb();

	uint32_t slot = vq->last_avail_idx & (vq->size - 1);
	uint16_t head = tessera_virtio_read16(vq->avail + RING_HEADER +
		(size_t)2 * slot);
	if (head >= vq->size) {
		tessera_virtqueue_set_broken(vq,
			"avail ring entry %u: head %u out of range (size %u)",
			vq->last_avail_idx, head, vq->size);
		return -1;
	}
	if (vq->inflight_map[head / 64] & (UINT64_C(1) << (head % 64))) {
		tessera_virtqueue_set_broken(vq,
			"head %u made available while still in flight", head);
		return -1;
	}
	if (!walk_chain(vq, head, elem)) {
		return -1;
	}

	vq->last_avail_idx++;
	vq->inflight_map[head / 64] |= UINT64_C(1) << (head % 64);
	vq->inflight++;
	if (vq->event_idx) {
		write_avail_event(vq, vq->last_avail_idx);
	}
	return 1;
}

int tessera_virtqueue_push(struct tessera_virtqueue *vq, uint16_t head,
		uint32_t len) {
	if (vq->broken || head >= vq->size ||
			!(vq->inflight_map[head / 64] & (UINT64_C(1) << (head % 64)))) {
		return -1;
	}
	vq->inflight_map[head / 64] &= ~(UINT64_C(1) << (head % 64));
	vq->inflight--;

	uint8_t *elem = vq->used + RING_HEADER +
		(size_t)USED_ELEM_SIZE * (vq->used_idx & (vq->size - 1));
	tessera_virtio_write32(elem, head);
	tessera_virtio_write32(elem + 4, len);
	/* the element is visible before the index that publishes it */
	tessera_virtio_wmb();
	vq->used_idx++;
	tessera_virtio_write16(vq->used + 2, vq->used_idx);
	return 0;
}

bool tessera_virtqueue_should_notify(struct tessera_virtqueue *vq) {
	if (vq->broken) {
		return false;
	}
	/* used->idx is written before the driver's fields are read */
	tessera_virtio_mb();
	if (!vq->event_idx) {
		uint16_t flags = tessera_virtio_read16(vq->avail);
		return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
	}
	uint16_t used_event = tessera_virtio_read16(vq->avail + RING_HEADER +
		(size_t)2 * vq->size);
	bool valid = vq->signalled_used_valid;
	uint16_t old = vq->signalled_used;
	uint16_t new = vq->used_idx;
	vq->signalled_used_valid = true;
	vq->signalled_used = new;
	if (!valid) {
		return true;
	}
	/* (new - used_event - 1) < (new - old), all mod 2^16 */
	return (uint16_t)(new - used_event - 1) < (uint16_t)(new - old);
}

size_t tessera_virtqueue_element_read(
		const struct tessera_virtqueue_element *elem, uint64_t offset,
		void *buf, size_t len) {
	size_t done = 0;
	for (uint32_t i = 0; i < elem->out_num && done < len; i++) {
		const struct iovec *iov = &elem->iov[i];
		if (offset >= iov->iov_len) {
			offset -= iov->iov_len;
			continue;
		}
		size_t n = iov->iov_len - (size_t)offset;
		if (n > len - done) {
			n = len - done;
		}
		memcpy((uint8_t *)buf + done, (uint8_t *)iov->iov_base + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

size_t tessera_virtqueue_element_write(
		const struct tessera_virtqueue_element *elem, uint64_t offset,
		const void *buf, size_t len) {
	size_t done = 0;
	for (uint32_t i = elem->out_num;
			i < elem->out_num + elem->in_num && done < len; i++) {
		const struct iovec *iov = &elem->iov[i];
		if (offset >= iov->iov_len) {
			offset -= iov->iov_len;
			continue;
		}
		size_t n = iov->iov_len - (size_t)offset;
		if (n > len - done) {
			n = len - done;
		}
		memcpy((uint8_t *)iov->iov_base + offset, (const uint8_t *)buf + done, n);
		done += n;
		offset = 0;
	}
	return done;
}
