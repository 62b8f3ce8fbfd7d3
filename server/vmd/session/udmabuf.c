/*
 * Guest buffers as udmabufs (the first choice, see import.h): when
 * /dev/udmabuf can be opened and the compositor offers zwp_linux_dmabuf_v1
 * (version 3) with the buffer's format and DRM_FORMAT_MOD_LINEAR, the pages
 * holding the buffer are turned into one dmabuf with UDMABUF_CREATE_LIST
 * over the guest RAM memfds (a list item per run of pages contiguous in one
 * memfd), and a wl_buffer is made from it with create_immed. No copy: the
 * compositor (or its GPU) reads guest RAM.
 *
 * The kernel wants memfds sealed with F_SEAL_SHRINK (QEMU's
 * memory-backend-memfd seals by default) and page-aligned offsets and
 * sizes; it limits the list (udmabuf.list_limit, 1024 by default) and the
 * size (udmabuf.size_limit_mb, 64 MiB by default). Anything that does not
 * fit fails here and the buffer takes the next path
 * (tessera_guest_memory_v1, then wl_shm).
 *
 * create_immed failing on the compositor side is a protocol error that
 * ends vmd's connection, so everything the compositor checks is checked
 * here first, against limits no larger than tessera's own
 * (common/wlr/linux-dmabuf.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/udmabuf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "context.h"
#include "guest-access.h"
#include "import.h"
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "log.h"

/* Items of one UDMABUF_CREATE_LIST (the kernel's default list_limit). */
#define VMD_UDMABUF_MAX_ITEMS 1024
/* The kernel's default size_limit_mb. */
#define VMD_UDMABUF_MAX_BYTES (UINT64_C(64) << 20)
/* Live udmabuf buffers and bytes per VM (three quarters of tessera's
 * per-client linux-dmabuf budget: 1024 buffers, 4 GiB). */
#define VMD_UDMABUF_MAX_BUFFERS 768
#define VMD_UDMABUF_MAX_TOTAL_BYTES (UINT64_C(3) << 30)
#define VMD_UDMABUF_MAX_DIMENSION 8192
#define VMD_UDMABUF_MAX_STRIDE 32768

/* /dev/udmabuf, opened once per process: -1 unknown, -2 unavailable. */
static int udmabuf_dev = -1;

static int udmabuf_device(void) {
	if (udmabuf_dev == -1) {
		udmabuf_dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
		if (udmabuf_dev < 0) {
			tessera_log(TESSERA_INFO, "udmabuf: /dev/udmabuf cannot be opened (%s): "
				"guest buffers go through tessera_guest_memory_v1 or wl_shm",
				strerror(errno));
			udmabuf_dev = -2;
		}
	}
	return udmabuf_dev;
}

int vmd_session_open_udmabuf(void) {
	int fd = udmabuf_device();
	return fd >= 0 ? fd : -1;
}

void vmd_udmabuf_release_budget(struct vmd_buffer *buffer) {
	struct vmd_session *session = buffer->ctx->session;
	if (buffer->udmabuf_bytes == 0) {
		return;
	}
	session->udmabuf.buffers--;
	session->udmabuf.bytes -= buffer->udmabuf_bytes;
	buffer->udmabuf_bytes = 0;
}

/* The udmabuf list covering the buffer's bytes; *lead: the offset of the
 * buffer's first byte in the udmabuf. false with *why if impossible. */
static bool build_list(const struct vmd_buffer *buffer, const struct vmd_resource *res,
		struct udmabuf_create_list *list, uint64_t *lead, uint64_t *total,
		const char **why) {
	const uint64_t page = vmd_page_size();
	uint32_t n = 0;
	*lead = 0;
	*total = 0;
	/* an item per run of one memfd */
	struct tessera_memory_iter iter;
	tessera_memory_iter_init(&iter, res->mappings, res->n_extents);
	tessera_memory_iter_seek(&iter, buffer->offset, buffer->bytes);
	struct tessera_memory_piece run;
	while (tessera_memory_iter_next_run(&iter, &run)) {
		uint64_t fd_offset = run.fd_offset;
		uint64_t len = run.len;
		if (n == 0) {
			*lead = fd_offset % page;
			fd_offset -= *lead;
			len += *lead;
		} else if (list->list[n - 1].size % page != 0 || fd_offset % page != 0) {
			*why = "its pages are not page-aligned in guest memory";
			return false;
		}
		if (n == VMD_UDMABUF_MAX_ITEMS) {
			*why = "too many discontiguous pieces for one udmabuf";
			return false;
		}
		if (run.fd < 0) {
			*why = "guest memory has no fd";
			return false;
		}
		list->list[n++] = (struct udmabuf_create_item){
			.memfd = (uint32_t)run.fd, .offset = fd_offset, .size = len,
		};
	}
	if (!tessera_memory_iter_done(&iter) || n == 0) {
		*why = "the buffer is outside its resource";
		return false;
	}
	/* the last piece ends on a page boundary (still inside the region's
	 * pages: regions are page-aligned) */
	struct udmabuf_create_item *last = &list->list[n - 1];
	last->size = (last->size + page - 1) / page * page;
	for (uint32_t i = 0; i < n; i++) {
		*total += list->list[i].size;
	}
	list->count = n;
	list->flags = UDMABUF_FLAGS_CLOEXEC;
	return true;
}

/* The compositor can take the buffer as a linux-dmabuf: its format with
 * the linear modifier, within tessera's limits. */
static bool compositor_takes(const struct vmd_buffer *buffer) {
	struct vmd_wayland *wayland = buffer->ctx->session->wayland;
	if (wayland->linux_dmabuf == NULL ||
			!vmd_wayland_has_dmabuf_format(wayland, buffer->format)) {
		return false;
	}
	return (buffer->format == TESSERA_WIRE_FORMAT_ARGB8888 ||
			buffer->format == TESSERA_WIRE_FORMAT_XRGB8888) &&
		buffer->width != 0 && buffer->height != 0 &&
		buffer->width <= VMD_UDMABUF_MAX_DIMENSION &&
		buffer->height <= VMD_UDMABUF_MAX_DIMENSION &&
		buffer->stride <= VMD_UDMABUF_MAX_STRIDE &&
		buffer->stride >= buffer->width * 4 && buffer->stride % 4 == 0;
}

/* Every region the resource touches must be a memfd sealed against
 * shrinking (the kernel checks too; this gives a clearer log). */
static bool regions_sealed(struct vmd_session *session,
		const struct tessera_memory_table *mem, const struct vmd_resource *res) {
	for (size_t i = 0; i < res->n_extents; i++) {
		uint32_t r = res->mappings[i].region;
		if (r >= mem->nregions || mem->regions[r].seals < 0 ||
				!(mem->regions[r].seals & F_SEAL_SHRINK)) {
			if (!session->udmabuf.logged) {
				vmd_session_log(session, TESSERA_INFO, "udmabuf: guest memory region "
					"%u is not a memfd sealed against shrinking", r);
			}
			session->udmabuf.failed++;
			return false;
		}
	}
	return true;
}

/* Why a udmabuf of total bytes, with the buffer lead bytes in, cannot be
 * made for this VM; NULL if it can. */
static const char *over_limits(const struct vmd_session *session, uint64_t lead,
		uint64_t total) {
	if (total > VMD_UDMABUF_MAX_BYTES) {
		return "larger than the kernel's default udmabuf size limit (64 MiB)";
	}
	if (session->udmabuf.buffers + 1 > VMD_UDMABUF_MAX_BUFFERS) {
		return "the VM's udmabuf buffer budget is exhausted";
	}
	if (session->udmabuf.bytes + total > VMD_UDMABUF_MAX_TOTAL_BYTES) {
		return "the VM's udmabuf byte budget is exhausted";
	}
	if (lead > UINT32_MAX) {
		return "offset too large";
	}
	return NULL;
}

/* The udmabuf over the buffer's pages: its fd, with the offset of the
 * buffer in it (*lead), its size (*total) and list items (*items); -1
 * (logged and counted) if it cannot be made. */
static int udmabuf_create(struct vmd_buffer *buffer, const struct vmd_resource *res,
		int dev, uint64_t *lead, uint64_t *total, uint32_t *items) {
	struct vmd_session *session = buffer->ctx->session;
	struct udmabuf_create_list *list = malloc(sizeof(*list) +
		VMD_UDMABUF_MAX_ITEMS * sizeof(list->list[0]));
	if (list == NULL) {
		return -1;
	}
	const char *why = NULL;
	if (!build_list(buffer, res, list, lead, total, &why) ||
			(why = over_limits(session, *lead, *total)) != NULL) {
		vmd_session_log(session, TESSERA_DEBUG, "udmabuf: buffer %u: %s; next path",
			buffer->id, why);
		session->udmabuf.failed++;
		free(list);
		return -1;
	}
	*items = list->count;
	int fd = ioctl(dev, UDMABUF_CREATE_LIST, list);
	free(list);
	if (fd < 0) {
		vmd_session_log(session, TESSERA_INFO, "udmabuf: buffer %u: UDMABUF_CREATE_LIST "
			"(%u items, %llu bytes) failed: %s; next path", buffer->id, *items,
			(unsigned long long)*total, strerror(errno));
		session->udmabuf.failed++;
		return -1;
	}
	return fd;
}

/* The buffer's wl_buffer: the dmabuf through linux-dmabuf (create_immed,
 * linear), the buffer lead bytes in, rows stride apart. */
static void dmabuf_wl_buffer(struct vmd_buffer *buffer, int fd, uint64_t lead,
		uint32_t stride) {
	struct vmd_wayland *wayland = buffer->ctx->session->wayland;
	struct zwp_linux_buffer_params_v1 *params =
		zwp_linux_dmabuf_v1_create_params(wayland->linux_dmabuf);
	zwp_linux_buffer_params_v1_add(params, fd, 0, (uint32_t)lead, stride,
		0, 0 /* DRM_FORMAT_MOD_LINEAR */);
	buffer->wl_buffer = zwp_linux_buffer_params_v1_create_immed(params,
		(int32_t)buffer->width, (int32_t)buffer->height, buffer->format, 0);
	zwp_linux_buffer_params_v1_destroy(params);
	close(fd); /* libwayland sends its own duplicate */
	vmd_buffer_listen(buffer);
}

bool vmd_udmabuf_import(struct vmd_buffer *buffer, const struct vmd_resource *res) {
	struct vmd_session *session = buffer->ctx->session;
	struct tessera_memory_table *mem = vmd_session_memory(session);
	if (mem == NULL || !compositor_takes(buffer)) {
		return false;
	}
	int dev = udmabuf_device();
	if (dev < 0 || !regions_sealed(session, mem, res)) {
		return false;
	}
	uint64_t lead, total;
	uint32_t items;
	int fd = udmabuf_create(buffer, res, dev, &lead, &total, &items);
	if (fd < 0) {
		return false;
	}
	dmabuf_wl_buffer(buffer, fd, lead, buffer->stride);
	buffer->kind = VMD_BUFFER_UDMABUF;
	buffer->udmabuf_generation = mem->generation;
	buffer->udmabuf_bytes = total;
	session->udmabuf.buffers++;
	session->udmabuf.bytes += total;
	session->udmabuf.created++;
	if (!session->udmabuf.logged) {
		session->udmabuf.logged = true;
		vmd_session_log(session, TESSERA_INFO, "buffers go to the compositor as udmabufs "
			"through linux-dmabuf (zero copy)");
	}
	vmd_session_log(session, TESSERA_DEBUG, "udmabuf: buffer %u %ux%u: %u items, %llu "
		"bytes, 0 bytes copied (%llu udmabuf buffers created)", buffer->id,
		buffer->width, buffer->height, items, (unsigned long long)total,
		(unsigned long long)session->udmabuf.created);
	return true;
}

bool vmd_host_dmabuf_import(struct vmd_buffer *buffer, const struct vmd_resource *res) {
	struct vmd_session *session = buffer->ctx->session;
	if (session->device->export_dmabuf == NULL || buffer->offset != 0 ||
			buffer->width != res->width || buffer->height != res->height ||
			!compositor_takes(buffer)) {
		return false;
	}
	int fd = -1;
	uint32_t stride = 0, offset = 0;
	if (!session->device->export_dmabuf(session->device_data, res, &fd, &stride,
			&offset)) {
		return false;
	}
	/* the device checked that the plane holds the image; the
	 * compositor's limits are the buffer's */
	if (stride < buffer->width * 4 || stride > VMD_UDMABUF_MAX_STRIDE) {
		close(fd);
		return false;
	}
	dmabuf_wl_buffer(buffer, fd, offset, stride);
	buffer->kind = VMD_BUFFER_HOST_DMABUF;
	vmd_session_log(session, TESSERA_DEBUG, "buffer %u %ux%u: the host's image of "
		"resource %u exported (dmabuf, stride %u), 0 bytes copied", buffer->id,
		buffer->width, buffer->height, res->id, stride);
	return true;
}
