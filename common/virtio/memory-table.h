/*
 * Guest memory table of a vhost-user device.
 *
 * The VMM (QEMU, crosvm, or tessera's own loopback frontend) describes guest
 * RAM as up to TESSERA_MEMORY_TABLE_MAX_REGIONS regions, each backed by a
 * file descriptor (memfd, hugetlbfs or shm file). Every region has:
 *
 *   gpa          guest physical address of its first byte
 *   size         length in bytes
 *   uva          the VMM's own virtual address of its first byte (vring
 *                addresses in SET_VRING_ADDR are given in this space)
 *   mmap_offset  offset of its first byte inside the fd
 *
 * A table is replaced as a whole (SET_MEM_TABLE semantics): the new regions
 * are mapped first, then the old mappings are unmapped and their fds closed.
 *
 * Every address handed in is untrusted (it comes from a guest or its VMM):
 * translation succeeds only when the whole range [addr, addr + len) lies in
 * one mapped region, with every sum checked for wrap-around.
 *
 * This is a pure library: errors are returned (with a message where useful),
 * nothing is logged.
 */
#ifndef TESSERA_COMMON_MEMORY_TABLE_H
#define TESSERA_COMMON_MEMORY_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* vhost-user's VHOST_MEMORY_BASELINE_NREGIONS */
#define TESSERA_MEMORY_TABLE_MAX_REGIONS 8
/* Largest single region accepted (1 TiB). */
#define TESSERA_MEMORY_TABLE_MAX_REGION_SIZE (UINT64_C(1) << 40)
/* Largest extent list accepted by tessera_memory_table_map_extents(). */
#define TESSERA_MEMORY_TABLE_MAX_EXTENTS 65536

/* Input of tessera_memory_table_set_table(). */
struct tessera_memory_region_desc {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
	int fd;
};

struct tessera_memory_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
	int fd; /* owned by the table */
	/* F_GET_SEALS of fd, or -1 if the fd does not support seals */
	int seals;
	uint8_t *host; /* host address of gpa */

	/* the mmap()ed range (page aligned, may start before host) */
	void *map_base;
	size_t map_size;
};

struct tessera_memory_table {
	struct tessera_memory_region regions[TESSERA_MEMORY_TABLE_MAX_REGIONS];
	size_t nregions;
	/* incremented on every table change: host pointers and fds obtained
	 * from an older generation must not be used any more */
	uint64_t generation;
};

/* One guest-physical extent, e.g. a virtio_gpu_mem_entry of ATTACH_BACKING
 * (converted to host byte order by the caller). */
struct tessera_guest_extent {
	uint64_t gpa;
	uint64_t len;
};

/* Result of tessera_memory_table_map_extents() for one extent. */
struct tessera_memory_mapping {
	uint8_t *host;
	uint64_t len;
	uint32_t region; /* index in the table */
	int fd; /* the region's fd, owned by the table: dup() to keep it */
	uint64_t fd_offset; /* offset of host[0] inside fd */
};

/* Process-wide counters of live mappings (all tables together). */
struct tessera_memory_table_stats {
	uint64_t regions;
	uint64_t bytes;
};

void tessera_memory_table_init(struct tessera_memory_table *mem);
/* Unmaps every region and closes their fds. */
void tessera_memory_table_finish(struct tessera_memory_table *mem);

struct tessera_memory_table *tessera_memory_table_create(void);
void tessera_memory_table_destroy(struct tessera_memory_table *mem);

/*
 * Replaces the whole table by the n regions of descs (n may be 0, which just
 * clears the table). Takes ownership of every descs[i].fd (all distinct), on
 * success and on failure alike (they are closed when not kept). On failure
 * the previous table is left untouched, -1 is returned and err (if not NULL) receives a
 * message. Rejected: n > MAX_REGIONS, zero or oversized regions, address
 * sums that wrap, overlapping guest or VMM ranges, fds that are not regular
 * files (memfd, tmpfs, hugetlbfs) or are shorter than mmap_offset + size,
 * mmap() failures.
 */
int tessera_memory_table_set_table(struct tessera_memory_table *mem,
	const struct tessera_memory_region_desc *descs, size_t n,
	char *err, size_t err_size);
void tessera_memory_table_clear(struct tessera_memory_table *mem);

/* Host pointer of [gpa, gpa + len), or NULL unless len > 0 and the whole
 * range lies in one region. */
void *tessera_memory_table_translate(const struct tessera_memory_table *mem,
	uint64_t gpa, uint64_t len);
/* Same for a range of the VMM's virtual address space (vring addresses). */
void *tessera_memory_table_translate_uva(const struct tessera_memory_table *mem,
	uint64_t uva, uint64_t len);
/*
 * Host pointer of gpa and, in *contiguous, how many bytes of
 * [gpa, gpa + len) follow it in the same region (1 ≤ *contiguous ≤ len).
 * NULL if len is 0 or gpa is in no region. Used to split a buffer that
 * crosses from one region into an adjacent one.
 */
void *tessera_memory_table_translate_partial(
	const struct tessera_memory_table *mem, uint64_t gpa, uint64_t len,
	uint64_t *contiguous);
/* Index of the region holding [gpa, gpa + len), or -1. */
int tessera_memory_table_find_region(const struct tessera_memory_table *mem,
	uint64_t gpa, uint64_t len);

/*
 * Checks a list of guest-physical extents and resolves each one to a host
 * pointer and a (region fd, offset) pair, for zero-copy sharing. Fails
 * (-1, message in err) if n is 0 or exceeds max_extents (itself capped at
 * TESSERA_MEMORY_TABLE_MAX_EXTENTS), an extent is empty or not inside one
 * region, or the total length exceeds max_total. out must hold n entries;
 * *total (may be NULL) receives the sum of the lengths.
 */
int tessera_memory_table_map_extents(const struct tessera_memory_table *mem,
	const struct tessera_guest_extent *extents, size_t n,
	size_t max_extents, uint64_t max_total,
	struct tessera_memory_mapping *out, uint64_t *total,
	char *err, size_t err_size);

void tessera_memory_table_get_stats(struct tessera_memory_table_stats *stats);

/*
 * Walking a byte range of an extent list.
 *
 * A resource's backing is a list of extents laid end to end: byte x of the
 * backing is in the first extent whose end (the sum of the lengths up to
 * and including it) is above x. The iterator cuts [offset, offset + len)
 * of such a list into pieces, one per extent it touches, each with its host
 * pointer and its place in the region's file; or into runs, pieces merged
 * while they follow each other in the same region's file.
 *
 * Everything may come from a guest: every sum is checked for wrap-around.
 * A range or an extent list whose offsets would wrap ends the walk early,
 * and so does a range beyond the last extent; tessera_memory_iter_done()
 * then says false.
 */

/* One piece (or run) of the range. */
struct tessera_memory_piece {
	size_t index; /* of the mapping (and guest extent) it starts in */
	uint64_t offset; /* of its first byte inside that extent */
	uint64_t len;
	/* the same for every piece of a run: */
	uint32_t region;
	int fd;
	/* mappings[index].host + offset: len bytes, also for a run (a run
	 * stays inside one region, mapped contiguously) */
	uint8_t *host;
	uint64_t fd_offset; /* mappings[index].fd_offset + offset */
};

struct tessera_memory_iter {
	const struct tessera_memory_mapping *mappings;
	size_t n;
	size_t index; /* the extent holding pos (n: past the last one) */
	uint64_t start; /* offset of extent index in the list */
	uint64_t pos, end; /* what is left of the range */
	bool failed; /* a sum wrapped */
};

/* An iterator over mappings[0..n) with an empty range. */
void tessera_memory_iter_init(struct tessera_memory_iter *iter,
	const struct tessera_memory_mapping *mappings, size_t n);
/* Walks [offset, offset + len) next; false (and nothing to walk) if the
 * sum wraps. Seeking forward goes on from the current extent, seeking back
 * starts over from the first one. */
bool tessera_memory_iter_seek(struct tessera_memory_iter *iter,
	uint64_t offset, uint64_t len);
/* The next piece of the range; false when there is none (the end of the
 * range, the end of the list or a wrapped sum). */
bool tessera_memory_iter_next(struct tessera_memory_iter *iter,
	struct tessera_memory_piece *piece);
/* The next run: pieces merged while they are in the same region and
 * follow each other in its file. */
bool tessera_memory_iter_next_run(struct tessera_memory_iter *iter,
	struct tessera_memory_piece *run);
/* Every byte of the range was handed out. */
bool tessera_memory_iter_done(const struct tessera_memory_iter *iter);

#endif
