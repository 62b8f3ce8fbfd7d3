/*
 * Buffers through tessera_guest_memory_v1 (zero copy): the guest RAM
 * regions of the memory table are handed to the compositor once per table
 * generation, then each buffer is a list of guest-physical extents the
 * compositor maps. See import.h.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>

#include "context.h"
#include "guest-access.h"
#include "import.h"
#include "log.h"
#include "tessera-guest-memory-v1-client-protocol.h"

/* Our share of the compositor's per-client tessera_guest_memory_v1
 * budgets (1024 buffers, 4 GiB, 16384 mappings, 256 MiB and 8192x8192
 * per buffer, stride 32768): exceeding them is a protocol error that would
 * end the connection, so stay well below. Buffers destroyed while the
 * compositor still shows them count until it releases them, which we cannot
 * see: hence the margin. These apply until the compositor announces its
 * budget (tessera_guest_memory_v1.budget); then three quarters of it. */
#define VMD_GMEM_MAX_BUFFERS 768
#define VMD_GMEM_MAX_BYTES (UINT64_C(3) << 30)
#define VMD_GMEM_MAX_MAPPINGS 12288
#define VMD_GMEM_MAX_BUFFER_BYTES (UINT64_C(256) << 20)
#define VMD_GMEM_MAX_DIMENSION 8192
#define VMD_GMEM_MAX_STRIDE 32768
/* Extents per add_extents request (a Wayland message is at most 4 KiB). */
#define VMD_GMEM_EXTENTS_PER_REQUEST 200

void vmd_session_gmem_reset(struct vmd_session *session) {
	for (size_t i = 0; i < VMD_MAX_GMEM_REGIONS; i++) {
		if (session->gmem.regions[i] != NULL) {
			tessera_guest_region_v1_destroy(session->gmem.regions[i]);
			session->gmem.regions[i] = NULL;
		}
		session->gmem.usable[i] = false;
	}
	session->gmem.created = false;
}

/* Hands the compositor the regions of the current memory table, once per
 * generation. Regions it would refuse (not sealed against shrinking,
 * misaligned) are skipped: buffers in them are copied instead. */
static bool gmem_ensure_regions(struct vmd_session *session) {
	struct vmd_wayland *wayland = session->wayland;
	struct tessera_memory_table *mem = vmd_session_memory(session);
	if (wayland->guest_memory == NULL || mem == NULL) {
		return false;
	}
	if (session->gmem.created && session->gmem.generation == mem->generation) {
		return true;
	}
	vmd_session_gmem_reset(session);
	const uint64_t page = vmd_page_size();
	size_t usable = 0;
	for (size_t i = 0; i < mem->nregions && i < VMD_MAX_GMEM_REGIONS; i++) {
		const struct tessera_memory_region *r = &mem->regions[i];
		uint64_t end;
		if (r->seals < 0 || !(r->seals & F_SEAL_SHRINK)) {
			vmd_session_log(session, TESSERA_INFO, "guest memory region %zu is not "
				"a memfd sealed against shrinking: its buffers are copied", i);
			continue;
		}
		if (r->gpa % page != 0 || r->size % page != 0 || r->mmap_offset % page != 0 ||
				r->size == 0 || r->size > TESSERA_MEMORY_TABLE_MAX_REGION_SIZE ||
				__builtin_add_overflow(r->gpa, r->size, &end) ||
				r->mmap_offset + r->size > (UINT64_C(1) << 63) - 1) {
			vmd_session_log(session, TESSERA_INFO, "guest memory region %zu is not "
				"page-aligned: its buffers are copied", i);
			continue;
		}
		session->gmem.regions[i] = tessera_guest_memory_v1_create_region(
			wayland->guest_memory, r->fd,
			(uint32_t)(r->gpa >> 32), (uint32_t)r->gpa,
			(uint32_t)(r->size >> 32), (uint32_t)r->size,
			(uint32_t)(r->mmap_offset >> 32), (uint32_t)r->mmap_offset);
		session->gmem.usable[i] = true;
		usable++;
	}
	session->gmem.created = true;
	session->gmem.generation = mem->generation;
	vmd_session_log(session, TESSERA_DEBUG, "guest memory: %zu of %zu regions handed "
		"to the compositor (generation %llu)", usable, mem->nregions,
		(unsigned long long)mem->generation);
	return true;
}

struct gmem_extent {
	uint64_t gpa, len;
	uint32_t region;
};

/* The extents of the buffer's bytes in guest-physical space, page-aligned
 * as tessera_guest_memory_v1 wants them; false if they cannot be. */
static bool gmem_extents(struct vmd_session *session, const struct vmd_buffer *buffer,
		const struct vmd_resource *res, struct gmem_extent **out, size_t *n_out,
		uint32_t *first_offset) {
	const uint64_t page = vmd_page_size();
	struct gmem_extent *ext = NULL;
	size_t n = 0, cap = 0;
	*first_offset = 0;
	/* a run of one region's file is a run of its guest-physical space */
	struct tessera_memory_iter iter;
	tessera_memory_iter_init(&iter, res->mappings, res->n_extents);
	bool ok = tessera_memory_iter_seek(&iter, buffer->offset, buffer->bytes);
	struct tessera_memory_piece run;
	while (ok && tessera_memory_iter_next_run(&iter, &run)) {
		uint64_t gpa, len = run.len;
		if (__builtin_add_overflow(res->extents[run.index].gpa, run.offset, &gpa) ||
				run.region >= VMD_MAX_GMEM_REGIONS ||
				!session->gmem.usable[run.region]) {
			ok = false;
			break;
		}
		if (n == 0) {
			uint64_t lead = gpa % page;
			if (lead % 4 != 0) {
				ok = false;
				break;
			}
			*first_offset = (uint32_t)lead;
			gpa -= lead;
			len += lead;
		} else if (ext[n - 1].len % page != 0 || gpa % page != 0) {
			ok = false;
			break;
		}
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			struct gmem_extent *p = realloc(ext, cap * sizeof(*p));
			if (p == NULL) {
				ok = false;
				break;
			}
			ext = p;
		}
		ext[n++] = (struct gmem_extent){ gpa, len, run.region };
	}
	if (!ok || !tessera_memory_iter_done(&iter) || n == 0 ||
			n > TESSERA_MEMORY_TABLE_MAX_EXTENTS) {
		free(ext);
		return false;
	}
	*out = ext;
	*n_out = n;
	return true;
}

void vmd_gmem_release_budget(struct vmd_buffer *buffer) {
	struct vmd_session *session = buffer->ctx->session;
	if (buffer->gmem_mappings == 0) {
		return;
	}
	session->gmem.buffers--;
	session->gmem.bytes -= buffer->gmem_bytes;
	session->gmem.mappings -= buffer->gmem_mappings;
	buffer->gmem_bytes = 0;
	buffer->gmem_mappings = 0;
}

bool vmd_gmem_import(struct vmd_buffer *buffer, const struct vmd_resource *res) {
	struct vmd_session *session = buffer->ctx->session;
	if (buffer->width > VMD_GMEM_MAX_DIMENSION || buffer->height > VMD_GMEM_MAX_DIMENSION ||
			buffer->stride > VMD_GMEM_MAX_STRIDE || !gmem_ensure_regions(session)) {
		return false;
	}
	struct gmem_extent *ext;
	size_t n;
	uint32_t offset;
	if (!gmem_extents(session, buffer, res, &ext, &n, &offset)) {
		return false;
	}
	const uint64_t page = vmd_page_size();
	uint64_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		bytes += (ext[i].len + page - 1) / page * page;
	}
	/* Keep to three quarters of what the compositor allows (its budget
	 * event): it frees destroyed buffers a little after we do. */
	const struct vmd_wayland *w = session->wayland;
	uint64_t max_buffers = VMD_GMEM_MAX_BUFFERS, max_mappings = VMD_GMEM_MAX_MAPPINGS,
		max_bytes = VMD_GMEM_MAX_BYTES;
	if (w->guest_memory_budget.max_buffers > 0) {
		max_buffers = w->guest_memory_budget.max_buffers / 4 * 3;
		max_mappings = w->guest_memory_budget.max_mappings / 4 * 3;
		max_bytes = w->guest_memory_budget.max_bytes / 4 * 3;
	}
	if (bytes > VMD_GMEM_MAX_BUFFER_BYTES ||
			session->gmem.buffers + 1 > max_buffers ||
			session->gmem.bytes + bytes > max_bytes ||
			session->gmem.mappings + n > max_mappings) {
		free(ext);
		return false;
	}
	struct tessera_guest_buffer_params_v1 *params =
		tessera_guest_memory_v1_create_params(session->wayland->guest_memory);
	for (size_t i = 0; i < n; i += VMD_GMEM_EXTENTS_PER_REQUEST) {
		size_t count = n - i < VMD_GMEM_EXTENTS_PER_REQUEST ?
			n - i : VMD_GMEM_EXTENTS_PER_REQUEST;
		uint64_t pairs[2 * VMD_GMEM_EXTENTS_PER_REQUEST];
		for (size_t j = 0; j < count; j++) {
			pairs[2 * j] = ext[i + j].gpa;
			pairs[2 * j + 1] = ext[i + j].len;
		}
		struct wl_array array = {
			.size = count * 2 * sizeof(uint64_t),
			.alloc = 0,
			.data = pairs,
		};
		tessera_guest_buffer_params_v1_add_extents(params, &array);
	}
	free(ext);
	buffer->wl_buffer = tessera_guest_buffer_params_v1_create(params,
		(int32_t)buffer->width, (int32_t)buffer->height, (int32_t)buffer->stride,
		buffer->format, offset + (uint32_t)0);
	tessera_guest_buffer_params_v1_destroy(params);
	vmd_buffer_listen(buffer);
	buffer->kind = VMD_BUFFER_GMEM;
	buffer->gmem_generation = session->gmem.generation;
	buffer->gmem_bytes = bytes;
	buffer->gmem_mappings = n;
	session->gmem.buffers++;
	session->gmem.bytes += bytes;
	session->gmem.mappings += n;
	return true;
}
