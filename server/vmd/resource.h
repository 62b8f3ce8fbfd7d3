/*
 * Guest resources of the virtio-gpu device: RESOURCE_CREATE_2D/3D
 * parameters, the backing attached with RESOURCE_ATTACH_BACKING (guest
 * physical extents, each resolved to a host mapping through the guest
 * memory table) and per-VM limits on all of it.
 *
 * Every value comes from the guest and is checked here against explicit
 * limits; a refusal is returned as the virtio-gpu response code to send
 * (VIRTIO_GPU_RESP_ERR_*) and logged.
 */
#ifndef TESSERA_VMD_RESOURCE_H
#define TESSERA_VMD_RESOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_gpu.h>

#include "memory-table.h"
#include "session.h"
#include "vm-settings.h"

/* Largest width and height of a resource. */
#define VMD_GPU_MAX_DIMENSION 16384

struct vmd_gpu_resource {
	struct vmd_resource base; /* what the session sees */
	struct vmd_gpu_resource *next; /* hash chain */

	bool is_3d;
	/* RESOURCE_CREATE_3D parameters (2D: target 2, depth 1, ...) */
	uint32_t target, bind, depth, array_size, last_level, nr_samples, flags;
	/* bytes per pixel for the 2D/console paths, 0 if not a 32-bit
	 * format the device can read */
	uint32_t bpp;
	/* bytes the backing must cover at least */
	uint64_t min_size;

	/* backing: owned arrays behind base.extents / base.mappings, and
	 * the offset of each extent inside the resource (n_extents + 1) */
	struct tessera_guest_extent *extents;
	struct tessera_memory_mapping *mappings;
	uint64_t *offsets;

	/* virglrenderer storage (virgl.h): the resource has it, the bytes
	 * counted for it, and the backing handed to it */
	bool virgl;
	uint64_t virgl_bytes;
	struct iovec *virgl_iov;
};

#define VMD_RESOURCE_BUCKETS 1024

struct vmd_resource_table {
	struct vmd_gpu_resource *buckets[VMD_RESOURCE_BUCKETS];
	uint32_t count;
	uint64_t backing_bytes;
	uint64_t backing_entries;
	uint32_t with_backing;
};

void vmd_resource_table_init(struct vmd_resource_table *table);
/* Frees every resource. */
void vmd_resource_table_finish(struct vmd_resource_table *table);

struct vmd_gpu_resource *vmd_resource_find(struct vmd_resource_table *table,
	uint32_t id);

/* The commands: each returns VIRTIO_GPU_RESP_OK_NODATA or the error to
 * answer (after logging why). */
uint32_t vmd_resource_create_2d(struct vmd_resource_table *table,
	const struct tessera_vm_settings *limits,
	const struct virtio_gpu_resource_create_2d *cmd);
uint32_t vmd_resource_create_3d(struct vmd_resource_table *table,
	const struct tessera_vm_settings *limits,
	const struct virtio_gpu_resource_create_3d *cmd);
/* entries: nr_entries virtio_gpu_mem_entry copied out of the guest. */
uint32_t vmd_resource_attach_backing(struct vmd_resource_table *table,
	const struct tessera_vm_settings *limits,
	const struct tessera_memory_table *mem, struct vmd_gpu_resource *res,
	const struct virtio_gpu_mem_entry *entries, uint32_t nr_entries);
void vmd_resource_detach_backing(struct vmd_resource_table *table,
	struct vmd_gpu_resource *res);
void vmd_resource_destroy(struct vmd_resource_table *table,
	struct vmd_gpu_resource *res);

/* After the memory table changed: maps every backing again. Resources
 * whose extents no longer lie in guest memory lose their backing; gone()
 * is called for each of them. */
void vmd_resource_table_remap(struct vmd_resource_table *table,
	const struct tessera_memory_table *mem,
	void (*gone)(void *data, struct vmd_gpu_resource *res), void *data);

/* Copies [offset, offset + len) of the backing into dst; false (nothing
 * copied) if the range is not inside the backing. */
bool vmd_resource_read(const struct vmd_gpu_resource *res, uint64_t offset,
	void *dst, size_t len);

/* Bytes per pixel of a VIRTIO_GPU_FORMAT_* the 2D paths read, or 0. */
uint32_t vmd_format_bpp(uint32_t format);

#endif
