/*
 * Guest resources of the virtio-gpu device, see resource.h.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "resource.h"

/* gallium's pipe_texture_target: PIPE_BUFFER .. PIPE_TEXTURE_CUBE_ARRAY */
#define PIPE_BUFFER 0
#define PIPE_TEXTURE_2D 2
#define PIPE_MAX_TEXTURE_TYPES 9
/* virgl formats are numbered below this (VIRGL_FORMAT_MAX is ~300) */
#define VIRGL_FORMAT_LIMIT 1024
#define VIRGL_FORMAT_R8_UNORM 64
#define MAX_ARRAY_SIZE 2048
#define MAX_LAST_LEVEL 15
#define MAX_SAMPLES 32

_Static_assert(TESSERA_VM_MAX_BACKING_ENTRIES <= TESSERA_MEMORY_TABLE_MAX_EXTENTS,
	"an ATTACH_BACKING the settings allow can be mapped");

uint32_t vmd_format_bpp(uint32_t format) {
	switch (format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		return 4;
	default:
		return 0;
	}
}

void vmd_resource_table_init(struct vmd_resource_table *table) {
	memset(table, 0, sizeof(*table));
}

static void free_backing(struct vmd_gpu_resource *res) {
	free(res->extents);
	free(res->mappings);
	free(res->offsets);
	res->extents = NULL;
	res->mappings = NULL;
	res->offsets = NULL;
	res->base.extents = NULL;
	res->base.mappings = NULL;
	res->base.n_extents = 0;
	res->base.size = 0;
}

void vmd_resource_table_finish(struct vmd_resource_table *table) {
	for (size_t i = 0; i < VMD_RESOURCE_BUCKETS; i++) {
		struct vmd_gpu_resource *res = table->buckets[i];
		while (res != NULL) {
			struct vmd_gpu_resource *next = res->next;
			free_backing(res);
			free(res);
			res = next;
		}
		table->buckets[i] = NULL;
	}
	table->count = 0;
	table->backing_bytes = 0;
	table->backing_entries = 0;
	table->with_backing = 0;
}

static size_t bucket_of(uint32_t id) {
	/* ids are small consecutive numbers in practice; mix anyway */
	uint32_t h = id * 2654435761u;
	return (h >> 22) & (VMD_RESOURCE_BUCKETS - 1);
}

struct vmd_gpu_resource *vmd_resource_find(struct vmd_resource_table *table,
		uint32_t id) {
	for (struct vmd_gpu_resource *res = table->buckets[bucket_of(id)];
			res != NULL; res = res->next) {
		if (res->base.id == id) {
			return res;
		}
	}
	return NULL;
}

/* Checks the id and the count limit: 0 or an error response. */
static uint32_t check_new_id(struct vmd_resource_table *table,
		const struct tessera_vm_settings *limits, const char *what, uint32_t id) {
	if (id == 0) {
		tessera_log(TESSERA_ERROR, "%s: resource id 0", what);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (vmd_resource_find(table, id) != NULL) {
		tessera_log(TESSERA_ERROR, "%s: resource %u already exists", what, id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (table->count >= limits->max_resources) {
		tessera_log(TESSERA_ERROR, "%s: resource %u refused: limit of %llu resources "
			"reached", what, id, (unsigned long long)limits->max_resources);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	return 0;
}

static uint32_t insert(struct vmd_resource_table *table,
		struct vmd_gpu_resource *proto) {
	struct vmd_gpu_resource *res = malloc(sizeof(*res));
	if (res == NULL) {
		tessera_log(TESSERA_ERROR, "resource %u: out of memory", proto->base.id);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	*res = *proto;
	size_t b = bucket_of(res->base.id);
	res->next = table->buckets[b];
	table->buckets[b] = res;
	table->count++;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t vmd_resource_create_2d(struct vmd_resource_table *table,
		const struct tessera_vm_settings *limits,
		const struct virtio_gpu_resource_create_2d *cmd) {
	uint32_t id = cmd->resource_id;
	uint32_t err = check_new_id(table, limits, "RESOURCE_CREATE_2D", id);
	if (err != 0) {
		return err;
	}
	uint32_t bpp = vmd_format_bpp(cmd->format);
	if (bpp == 0) {
		tessera_log(TESSERA_ERROR, "RESOURCE_CREATE_2D: resource %u: unsupported "
			"format %u", id, cmd->format);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (cmd->width == 0 || cmd->height == 0 ||
			cmd->width > VMD_GPU_MAX_DIMENSION ||
			cmd->height > VMD_GPU_MAX_DIMENSION) {
		tessera_log(TESSERA_ERROR, "RESOURCE_CREATE_2D: resource %u: size %ux%u "
			"(1..%u)", id, cmd->width, cmd->height, VMD_GPU_MAX_DIMENSION);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	uint64_t size = (uint64_t)cmd->width * cmd->height * bpp;
	if (size > limits->max_resource_size) {
		tessera_log(TESSERA_ERROR, "RESOURCE_CREATE_2D: resource %u: %ux%u is %llu "
			"bytes, limit %llu", id, cmd->width, cmd->height,
			(unsigned long long)size,
			(unsigned long long)limits->max_resource_size);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	struct vmd_gpu_resource proto = {
		.base = {
			.id = id,
			.format = cmd->format,
			.width = cmd->width,
			.height = cmd->height,
		},
		.target = PIPE_TEXTURE_2D,
		.depth = 1,
		.array_size = 1,
		.nr_samples = 0,
		.bpp = bpp,
		.min_size = size,
	};
	return insert(table, &proto);
}

static bool mul_u64(uint64_t *acc, uint64_t factor) {
	return !__builtin_mul_overflow(*acc, factor, acc);
}

uint32_t vmd_resource_create_3d(struct vmd_resource_table *table,
		const struct tessera_vm_settings *limits,
		const struct virtio_gpu_resource_create_3d *cmd) {
	uint32_t id = cmd->resource_id;
	uint32_t err = check_new_id(table, limits, "RESOURCE_CREATE_3D", id);
	if (err != 0) {
		return err;
	}
	const char *bad = NULL;
	if (cmd->target >= PIPE_MAX_TEXTURE_TYPES) {
		bad = "target";
	} else if (cmd->format == 0 || cmd->format >= VIRGL_FORMAT_LIMIT) {
		bad = "format";
	} else if (cmd->width == 0 || (cmd->target != PIPE_BUFFER &&
			cmd->width > VMD_GPU_MAX_DIMENSION)) {
		bad = "width";
	} else if (cmd->height == 0 || cmd->height > VMD_GPU_MAX_DIMENSION ||
			(cmd->target == PIPE_BUFFER && cmd->height != 1)) {
		bad = "height";
	} else if (cmd->depth == 0 || cmd->depth > VMD_GPU_MAX_DIMENSION) {
		bad = "depth";
	} else if (cmd->array_size == 0 || cmd->array_size > MAX_ARRAY_SIZE) {
		bad = "array_size";
	} else if (cmd->last_level > MAX_LAST_LEVEL) {
		bad = "last_level";
	} else if (cmd->nr_samples > MAX_SAMPLES) {
		bad = "nr_samples";
	}
	if (bad != NULL) {
		tessera_log(TESSERA_ERROR, "RESOURCE_CREATE_3D: resource %u: bad %s "
			"(target %u format %u %ux%ux%u array %u levels %u samples %u)",
			id, bad, cmd->target, cmd->format, cmd->width, cmd->height,
			cmd->depth, cmd->array_size, cmd->last_level, cmd->nr_samples);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	/* a lower bound of the size: one byte per texel for formats the
	 * device does not know (compressed ones have less; they are not
	 * used without capsets) */
	uint32_t bpp = vmd_format_bpp(cmd->format);
	uint64_t size = cmd->width;
	bool ok = mul_u64(&size, cmd->height) && mul_u64(&size, cmd->depth) &&
		mul_u64(&size, cmd->array_size) && mul_u64(&size, bpp ? bpp : 1);
	if (!ok || size > limits->max_resource_size) {
		tessera_log(TESSERA_ERROR, "RESOURCE_CREATE_3D: resource %u: %ux%ux%u x%u "
			"exceeds the resource size limit of %llu bytes", id, cmd->width,
			cmd->height, cmd->depth, cmd->array_size,
			(unsigned long long)limits->max_resource_size);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	if (bpp == 0 && cmd->format != VIRGL_FORMAT_R8_UNORM) {
		size = 1;
	}
	struct vmd_gpu_resource proto = {
		.base = {
			.id = id,
			.format = cmd->format,
			.width = cmd->width,
			.height = cmd->height,
		},
		.is_3d = true,
		.target = cmd->target,
		.bind = cmd->bind,
		.depth = cmd->depth,
		.array_size = cmd->array_size,
		.last_level = cmd->last_level,
		.nr_samples = cmd->nr_samples,
		.flags = cmd->flags,
		/* the 2D paths (console) read only non-array 2D images */
		.bpp = cmd->target == PIPE_TEXTURE_2D && cmd->depth == 1 &&
			cmd->array_size == 1 ? bpp : 0,
		.min_size = size,
	};
	return insert(table, &proto);
}

void vmd_resource_detach_backing(struct vmd_resource_table *table,
		struct vmd_gpu_resource *res) {
	if (res->base.n_extents == 0) {
		return;
	}
	table->backing_bytes -= res->base.size;
	table->backing_entries -= res->base.n_extents;
	table->with_backing--;
	free_backing(res);
}

uint32_t vmd_resource_attach_backing(struct vmd_resource_table *table,
		const struct tessera_vm_settings *limits,
		const struct tessera_memory_table *mem, struct vmd_gpu_resource *res,
		const struct virtio_gpu_mem_entry *entries, uint32_t nr_entries) {
	uint32_t id = res->base.id;
	if (res->base.n_extents != 0) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: resource %u already has "
			"backing", id);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (nr_entries == 0 || nr_entries > limits->max_backing_entries) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: resource %u: %u entries "
			"(1..%llu)", id, nr_entries,
			(unsigned long long)limits->max_backing_entries);
		return nr_entries == 0 ? VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER :
			VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	if (table->backing_entries + nr_entries > limits->max_total_entries) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: resource %u: %u more "
			"entries exceed the limit of %llu attached entries", id,
			nr_entries, (unsigned long long)limits->max_total_entries);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	struct tessera_guest_extent *extents = calloc(nr_entries, sizeof(*extents));
	struct tessera_memory_mapping *mappings =
		calloc(nr_entries, sizeof(*mappings));
	uint64_t *offsets = calloc((size_t)nr_entries + 1, sizeof(*offsets));
	if (extents == NULL || mappings == NULL || offsets == NULL) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: resource %u: out of "
			"memory for %u entries", id, nr_entries);
		free(extents);
		free(mappings);
		free(offsets);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	uint64_t total = 0; /* at most 65536 * (2^32 - 1): no overflow */
	for (uint32_t i = 0; i < nr_entries; i++) {
		extents[i].gpa = entries[i].addr;
		extents[i].len = entries[i].length;
		total += entries[i].length;
	}
	uint64_t room = limits->max_backing - table->backing_bytes;
	if (total > limits->max_resource_size || total > room) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: resource %u: %llu bytes "
			"of backing refused (limit %llu per resource, %llu of %llu "
			"bytes of the VM in use)", id, (unsigned long long)total,
			(unsigned long long)limits->max_resource_size,
			(unsigned long long)table->backing_bytes,
			(unsigned long long)limits->max_backing);
		free(extents);
		free(mappings);
		free(offsets);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	char err[256];
	if (tessera_memory_table_map_extents(mem, extents, nr_entries,
			nr_entries, total, mappings, NULL, err, sizeof(err)) != 0) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: resource %u: %s", id,
			err);
		free(extents);
		free(mappings);
		free(offsets);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	/* A 3D resource's backing is only what the guest transfers through
	 * (guest Mesa gives a host-only one a single page): every use reads
	 * and writes it within its size (transfers, the console, the wire
	 * session). A 2D resource is read whole: its backing must cover it. */
	if (!res->is_3d && total < res->min_size) {
		tessera_log(TESSERA_ERROR, "RESOURCE_ATTACH_BACKING: resource %u: %llu bytes "
			"of backing for a resource of %llu bytes", id,
			(unsigned long long)total, (unsigned long long)res->min_size);
		free(extents);
		free(mappings);
		free(offsets);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	uint64_t off = 0;
	for (uint32_t i = 0; i < nr_entries; i++) {
		offsets[i] = off;
		off += extents[i].len;
	}
	offsets[nr_entries] = off;

	res->extents = extents;
	res->mappings = mappings;
	res->offsets = offsets;
	res->base.extents = extents;
	res->base.mappings = mappings;
	res->base.n_extents = nr_entries;
	res->base.size = total;
	table->backing_bytes += total;
	table->backing_entries += nr_entries;
	table->with_backing++;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

void vmd_resource_destroy(struct vmd_resource_table *table,
		struct vmd_gpu_resource *res) {
	vmd_resource_detach_backing(table, res);
	struct vmd_gpu_resource **link = &table->buckets[bucket_of(res->base.id)];
	while (*link != NULL && *link != res) {
		link = &(*link)->next;
	}
	if (*link == res) {
		*link = res->next;
		table->count--;
	}
	free(res);
}

void vmd_resource_table_remap(struct vmd_resource_table *table,
		const struct tessera_memory_table *mem,
		void (*gone)(void *data, struct vmd_gpu_resource *res), void *data) {
	for (size_t b = 0; b < VMD_RESOURCE_BUCKETS; b++) {
		for (struct vmd_gpu_resource *res = table->buckets[b]; res != NULL;
				res = res->next) {
			size_t n = res->base.n_extents;
			if (n == 0) {
				continue;
			}
			char err[256];
			if (tessera_memory_table_map_extents(mem, res->extents, n, n,
					res->base.size, res->mappings, NULL, err,
					sizeof(err)) == 0) {
				continue;
			}
			tessera_log(TESSERA_ERROR, "resource %u loses its backing with the new "
				"memory table: %s", res->base.id, err);
			vmd_resource_detach_backing(table, res);
			if (gone != NULL) {
				gone(data, res);
			}
		}
	}
}

bool vmd_resource_read(const struct vmd_gpu_resource *res, uint64_t offset,
		void *dst, size_t len) {
	size_t n = res->base.n_extents;
	if (n == 0 || offset > res->base.size || len > res->base.size - offset) {
		return false;
	}
	/* the last extent starting at or before offset */
	size_t lo = 0, hi = n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (res->offsets[mid] <= offset) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	uint8_t *out = dst;
	size_t i = lo;
	uint64_t in_extent = offset - res->offsets[i];
	while (len > 0) {
		/* i < n: the range lies inside the backing */
		uint64_t avail = res->mappings[i].len - in_extent;
		size_t piece = avail < len ? (size_t)avail : len;
		memcpy(out, res->mappings[i].host + in_extent, piece);
		out += piece;
		len -= piece;
		in_extent = 0;
		i++;
	}
	return true;
}
