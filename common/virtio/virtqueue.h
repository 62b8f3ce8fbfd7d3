/*
 * Split virtqueue, device side (virtio 1.2, section 2.7).
 *
 * The rings live in guest memory: the descriptor table, the available ring
 * (written by the driver) and the used ring (written by the device). This
 * module walks descriptor chains the driver made available and publishes
 * used elements, treating everything in guest memory as hostile:
 *
 * - avail->idx may not run ahead of the last seen index by more than the
 *   queue size; head and next indices must be < the table size;
 * - a chain may not visit more descriptors than its table has (a loop),
 *   nor produce more than TESSERA_VIRTQUEUE_MAX_SEGMENTS segments;
 * - zero-length descriptors and ranges outside guest memory are rejected
 *   (a range may cross into an adjacent region: it is split in two
 *   segments);
 * - device-writable descriptors must follow all readable ones;
 * - VIRTQ_DESC_F_INDIRECT (only if negotiated): only on the first and only
 *   descriptor of a chain, never together with NEXT, never inside an
 *   indirect table; its length is a non-zero multiple of 16 of at most
 *   TESSERA_VIRTQUEUE_MAX_INDIRECT entries.
 *
 * Any violation marks the queue broken (tessera_virtqueue_error() says
 * why): nothing more is popped or pushed until it is set up again. Every
 * field of guest memory is read once; lengths and addresses are checked on
 * the local copy.
 *
 * VIRTIO_RING_F_EVENT_IDX: the device keeps avail_event (after the used
 * ring) at the next index it will consume, so the driver keeps kicking;
 * tessera_virtqueue_should_notify() applies used_event.
 *
 * This is a pure library: nothing is logged.
 */
#ifndef TESSERA_COMMON_VIRTQUEUE_H
#define TESSERA_COMMON_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct tessera_memory_table;

#define TESSERA_VIRTQUEUE_MAX_SIZE 32768
/* Segments (iovecs) one chain may produce. */
#define TESSERA_VIRTQUEUE_MAX_SEGMENTS 1024
/* Entries of one indirect descriptor table. */
#define TESSERA_VIRTQUEUE_MAX_INDIRECT 1024

/* Host addresses of the three parts of a split ring. */
struct tessera_virtqueue_rings {
	void *desc; /* 16-byte aligned, 16 * size bytes */
	void *avail; /* 2-byte aligned, 6 + 2 * size bytes */
	void *used; /* 4-byte aligned, 6 + 8 * size bytes */
};

/* One popped chain: out (device-readable) segments first, then in
 * (device-writable) ones. The pointers are valid until the guest memory
 * table changes. */
struct tessera_virtqueue_element {
	uint16_t head;
	uint32_t out_num;
	uint32_t in_num;
	uint64_t out_len; /* total readable bytes */
	uint64_t in_len; /* total writable bytes */
	struct iovec iov[TESSERA_VIRTQUEUE_MAX_SEGMENTS];
};

struct tessera_virtqueue {
	const struct tessera_memory_table *mem;
	uint32_t size;
	uint8_t *desc;
	uint8_t *avail;
	uint8_t *used;
	bool event_idx;
	bool indirect;

	uint16_t last_avail_idx; /* next avail entry to pop */
	uint16_t shadow_avail_idx; /* last avail->idx read */
	uint16_t used_idx; /* next used entry to write */
	uint16_t signalled_used; /* used_idx at the last notification */
	bool signalled_used_valid;
	uint32_t inflight; /* popped, not pushed yet */
	uint64_t inflight_map[TESSERA_VIRTQUEUE_MAX_SIZE / 64];

	bool broken;
	char error[160];
};

/*
 * Sets vq up on the given rings (host pointers, already translated and
 * bounds-checked by the caller for the given size). features: the
 * negotiated virtio feature bits (VIRTIO_RING_F_EVENT_IDX and
 * VIRTIO_RING_F_INDIRECT_DESC matter). last_avail_idx: where to resume
 * (SET_VRING_BASE); the used index is read from the used ring. Fails if size
 * is not a power of two ≤ 32768 or a ring is misaligned.
 */
int tessera_virtqueue_init(struct tessera_virtqueue *vq,
	const struct tessera_memory_table *mem, uint32_t size,
	const struct tessera_virtqueue_rings *rings, uint64_t features,
	uint16_t last_avail_idx);
/* Moves the queue to new ring addresses, keeping its indices (after the
 * memory table was replaced). Fails on misalignment. */
int tessera_virtqueue_set_rings(struct tessera_virtqueue *vq,
	const struct tessera_virtqueue_rings *rings);
/* Bytes a ring part of a queue of the given size occupies. */
size_t tessera_virtqueue_desc_size(uint32_t size);
size_t tessera_virtqueue_avail_size(uint32_t size);
size_t tessera_virtqueue_used_size(uint32_t size);

/* Pops the next available chain: 1 if elem was filled, 0 if the queue is
 * empty, -1 if the queue is (now) broken. */
int tessera_virtqueue_pop(struct tessera_virtqueue *vq,
	struct tessera_virtqueue_element *elem);
/* Publishes one used element for a popped chain. len: bytes written into
 * its writable part. Fails (-1) on a broken queue or a head that is not in
 * flight. */
int tessera_virtqueue_push(struct tessera_virtqueue *vq, uint16_t head,
	uint32_t len);
/* Whether the driver wants an interrupt for what was pushed since the last
 * notification (VRING_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX).
 * Returning true records that the caller notifies now. */
bool tessera_virtqueue_should_notify(struct tessera_virtqueue *vq);
/* Number of chains the driver has made available and not popped yet (reads
 * avail->idx; a broken queue has none). */
uint32_t tessera_virtqueue_pending(struct tessera_virtqueue *vq);

void tessera_virtqueue_set_broken(struct tessera_virtqueue *vq,
	const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool tessera_virtqueue_is_broken(const struct tessera_virtqueue *vq);
const char *tessera_virtqueue_error(const struct tessera_virtqueue *vq);

/* Copy helpers: gather from the readable segments / scatter into the
 * writable segments, starting at byte offset; return bytes copied. */
size_t tessera_virtqueue_element_read(
	const struct tessera_virtqueue_element *elem, uint64_t offset,
	void *buf, size_t len);
size_t tessera_virtqueue_element_write(
	const struct tessera_virtqueue_element *elem, uint64_t offset,
	const void *buf, size_t len);

#endif
