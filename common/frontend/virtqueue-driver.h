/*
 * Split virtqueue, driver side: what a guest driver does, for tessera's own
 * frontend (tests, benchmarks, the agent's vhost-user loopback transport).
 *
 * The rings (and optional indirect tables) live in a caller-provided area of
 * guest memory, known both by its host address and its guest-physical
 * address. Buffers are given as guest-physical ranges. The device is not
 * trusted more than necessary: used ids and lengths are checked against
 * what was submitted, and descriptor bookkeeping is kept in private memory,
 * never read back from the shared table.
 */
#ifndef TESSERA_COMMON_VIRTQUEUE_DRIVER_H
#define TESSERA_COMMON_VIRTQUEUE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A guest-physical buffer. */
struct tessera_virtqueue_buffer {
	uint64_t gpa;
	uint32_t len;
};

struct tessera_virtqueue_driver_slot;

struct tessera_virtqueue_driver {
	uint32_t size;
	bool event_idx;

	uint8_t *desc, *avail, *used, *indirect;
	uint64_t desc_gpa, avail_gpa, used_gpa, indirect_gpa;
	uint32_t max_indirect; /* entries per indirect table, 0: none */

	uint16_t avail_idx; /* next avail entry to publish */
	uint16_t kicked_avail_idx; /* avail_idx at the last kick decision */
	uint16_t last_used_idx; /* next used entry to reap */
	uint32_t num_free; /* free descriptors */
	uint32_t inflight; /* chains submitted, not reaped */
	uint16_t free_head;
	uint16_t *next; /* private free list / chain links */
	struct tessera_virtqueue_driver_slot *slots; /* per head */
};

/* Bytes needed for a queue of `size` entries (power of two ≤ 32768) with
 * max_indirect entries per indirect table (0: no indirect tables). The area
 * must be 16-byte aligned in both address spaces. */
size_t tessera_virtqueue_driver_area_size(uint32_t size, uint32_t max_indirect);

/* Lays the rings out in [area, area + area_len) (guest address area_gpa) and
 * zeroes them. features: negotiated bits (EVENT_IDX and INDIRECT_DESC are
 * used if present). Returns -1 on invalid size/alignment/area length. */
int tessera_virtqueue_driver_init(struct tessera_virtqueue_driver *drv,
	uint32_t size, void *area, uint64_t area_gpa, size_t area_len,
	uint32_t max_indirect, uint64_t features);
void tessera_virtqueue_driver_finish(struct tessera_virtqueue_driver *drv);

/*
 * Adds a chain of out_num device-readable then in_num device-writable
 * buffers and publishes it in the available ring. Uses an indirect table
 * when the chain has more than one buffer and fits one. data is returned
 * when the chain is reaped. Returns the head index, or -1 if the queue is
 * full or the chain empty/too long.
 */
int tessera_virtqueue_driver_add(struct tessera_virtqueue_driver *drv,
	const struct tessera_virtqueue_buffer *bufs, size_t out_num,
	size_t in_num, void *data);
/* Whether the device wants a kick for what was published since the last
 * call (VRING_USED_F_NO_NOTIFY, or avail_event with EVENT_IDX). */
bool tessera_virtqueue_driver_kick_needed(struct tessera_virtqueue_driver *drv);
/* Reaps one used element: 1 (len, data filled), 0 if none, -1 if the
 * device published an id that is not in flight or a length larger than
 * the chain's writable part (the element is consumed). With EVENT_IDX,
 * re-arms used_event so the next used element interrupts. */
int tessera_virtqueue_driver_get_used(struct tessera_virtqueue_driver *drv,
	uint32_t *len, void **data);
/* Chains submitted and not reaped yet. */
uint32_t tessera_virtqueue_driver_inflight(
	const struct tessera_virtqueue_driver *drv);

#endif
