/*
 * Accessors for memory shared with a guest (internal to common/).
 *
 * Virtio 1.x rings are little-endian. Every load from shared memory is a
 * single volatile access (or a copy into a local followed by a compiler
 * barrier) so that a value is fetched exactly once: the guest may change it
 * at any time, and a value that is checked must be the value that is used.
 */
#ifndef TESSERA_COMMON_VIRTIO_ACCESS_H
#define TESSERA_COMMON_VIRTIO_ACCESS_H

#include <stdatomic.h>
#include <stdint.h>

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TESSERA_LE16(x) ((uint16_t)(x))
#define TESSERA_LE32(x) ((uint32_t)(x))
#define TESSERA_LE64(x) ((uint64_t)(x))
#else
#define TESSERA_LE16(x) __builtin_bswap16(x)
#define TESSERA_LE32(x) __builtin_bswap32(x)
#define TESSERA_LE64(x) __builtin_bswap64(x)
#endif

static inline uint16_t tessera_virtio_read16(const void *p) {
	return TESSERA_LE16(*(const volatile uint16_t *)p);
}

static inline void tessera_virtio_write16(void *p, uint16_t v) {
	*(volatile uint16_t *)p = TESSERA_LE16(v);
}

static inline uint32_t tessera_virtio_read32(const void *p) {
	return TESSERA_LE32(*(const volatile uint32_t *)p);
}

static inline void tessera_virtio_write32(void *p, uint32_t v) {
	*(volatile uint32_t *)p = TESSERA_LE32(v);
}

static inline void tessera_virtio_write64(void *p, uint64_t v) {
	*(volatile uint64_t *)p = TESSERA_LE64(v);
}

/* Compiler barrier: values copied out of shared memory before it stay the
 * values that are used after it. */
static inline void tessera_virtio_compiler_barrier(void) {
	__asm__ __volatile__("" ::: "memory");
}

/* Loads after this see data published before the other side's release. */
static inline void tessera_virtio_rmb(void) {
	atomic_thread_fence(memory_order_acquire);
}

/* Stores before this are visible before stores after it. */
static inline void tessera_virtio_wmb(void) {
	atomic_thread_fence(memory_order_release);
}

/* Full barrier: orders a store before a later load (event index checks). */
static inline void tessera_virtio_mb(void) {
	atomic_thread_fence(memory_order_seq_cst);
}

#endif
