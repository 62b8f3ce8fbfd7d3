/*
 * vmd-session-test: a stand-in VM daemon for the session tests.
 *
 * tessera starts it like tessera-vmd (`vmd = PATH` in a [vm NAME] section:
 * --vhost-user/--name/--color and a tagged WAYLAND_SOCKET). It runs the
 * real vmd_wayland + vmd_session (server/vmd/) against a fake virtio-gpu
 * device: guest RAM is a sealed memfd described by a real struct
 * tessera_memory_table table (two regions), resources are lists of guest
 * pages (scattered one page per extent, or contiguous), and a scripted
 * "guest" encodes wire batches with the codec, submits them, and reads the
 * event ring through its own mapping of the pages whenever the doorbell
 * rings (answering CONFIGUREs like the agent does).
 *
 * The test script drives it through a FIFO ($TESSERA_TEST_DIR/NAME.ctl),
 * one command per line, and reads what happened in $TESSERA_TEST_DIR/
 * NAME.log: "ok <command>" / "fail <command>: why", "event ctx=N TYPE ..."
 * for every ring record, "submit ctx=N result=..." for refused batches.
 *
 * Environment: VMD_SESSION_TEST_SHM=1 disables tessera_guest_memory_v1
 * (wl_shm copies); VMD_SESSION_TEST_MAX_SURFACES=N sets that limit.
 *
 * Commands (ids are decimal; COLOR is RRGGBB):
 *   hello CTX [RING_DATA_SIZE]  new context: ring + keymap area, HELLO,
 *                               EVENT_RING, SET_KEYMAP_AREA, WAIT
 *   use CTX                     following commands act on context CTX
 *   resource RES W H COLOR [contig]   guest resource with XRGB pixels
 *   fill RES COLOR [X Y W H]    the guest draws into a resource
 *   buffer BUF RES [STRIDE]     BUFFER_CREATE (W, H of the resource)
 *   window SURF BUF TITLE...    toplevel; BUF committed after the first
 *                               configure is acked ("mapped" logged)
 *   commit SURF BUF [frame] [presentation] [all] [scale N] [damage X Y W H]...
 *   destroy-surface SURF / destroy-buffer BUF
 *   subsurface SURF PARENT X Y BUF   a mapped subsurface
 *   popup SURF PARENT BUF       a popup at (10, 10) of its parent
 *   malformed KIND              a bad batch: zero-id, id-reuse, resource,
 *                               stride, range, surfaces, state, truncated,
 *                               role, no-object, unacked, ack, cycle
 *   flood SURF BUF N            N commits asking for presentation feedback
 *   reading on|off              consume the ring or not
 *   cursor-surface SURF BUF     a surface showing BUF, set as the cursor
 *                               (SET_CURSOR) at every POINTER_ENTER
 *   corrupt-tail                the guest breaks its ring's tail index
 *   status                      "ring-status ctx=N running|CODE"
 *   stats                       "stats frames=... bytes_copied=..."
 *   ctx-destroy CTX             CTX_DESTROY of the device
 *   memory-change               the VMM sends the memory table again
 *   resource-gone RES           the guest drops a resource's backing
 *   host RES                    RES is host-rendered (as a virgl resource):
 *                               buffers of it are read back (read_back
 *                               copies its pages) after a fence
 *   fences hold|release         fences retire at once (idle) unless held;
 *                               release retires every one queued
 *   destroy-session / create-session
 *   keymap                      "keymap ctx=N ok|bad" from the area
 *   quit
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "log.h"
#include "memory-table.h"
#include "session.h"
#include "tessera-wire.h"
#include "wayland.h"

#define PAGE 4096u
#define REGION_SIZE (UINT64_C(64) << 20)
#define REGION1_GPA (UINT64_C(1) << 32)
#define MAX_RESOURCES 64
#define MAX_CTX 8
#define MAX_SURFACES 64
#define KEYMAP_AREA_SIZE (256 * 1024)
#define RING_RESOURCE_BASE 1000
#define KEYMAP_RESOURCE_BASE 2000

struct fake_resource {
	bool used;
	uint32_t id;
	uint32_t width, height;
	struct tessera_guest_extent *extents;
	struct tessera_memory_mapping *mappings;
	size_t n;
	struct vmd_resource res;
	uint8_t *view; /* the guest's contiguous view */
	size_t view_size;
	bool host; /* host_storage: stands for a virgl resource */
};

struct guest_surface {
	uint32_t id;
	uint32_t map_buffer; /* committed after the first configure */
	uint32_t buffer; /* of the last commit */
	bool mapped;
};

struct guest_ctx {
	bool used, dead;
	uint32_t id;
	uint32_t ring_resource, keymap_resource;
	uint32_t ring_data_size;
	struct tessera_wire_ring_reader reader;
	bool reading;
	bool wait_held;
	struct guest_surface surfaces[MAX_SURFACES];
	uint64_t last_release_point;
	uint32_t cursor_surface; /* set as the cursor at every pointer enter */
	/* requests collected while reading events */
	uint8_t pending[64 * 1024];
	struct tessera_wire_writer pending_writer;
};

static struct {
	struct wl_event_loop *loop;
	struct vmd_wayland *wayland;
	struct vmd_session *session;
	struct tessera_vm_settings limits;
	char *name;
	FILE *log;
	int ctl_fd;
	char line[4096];
	size_t line_len;
	bool running;
	int exit_status;

	int memfd;
	struct tessera_memory_table memory;
	uint64_t next_page[2]; /* bump allocators, top down, per region */
	struct fake_resource resources[MAX_RESOURCES];

	struct guest_ctx ctxs[MAX_CTX];
	struct guest_ctx *cur;
	struct wl_event_source *read_idle;
	/* the device's fences (host rendering): the last queued, retired */
	uint32_t fence_seq, fence_retired;
	bool fences_held;
	struct wl_event_source *fence_idle;

	uint8_t batch[TESSERA_WIRE_MAX_BATCH_SIZE];
	struct tessera_wire_msg msg;
} t;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	vfprintf(t.log, fmt, args);
	va_end(args);
	fputc('\n', t.log);
	fflush(t.log);
}

/* --- guest memory --- */

static uint64_t gpa_to_fd_offset(uint64_t gpa) {
	return gpa >= REGION1_GPA ? gpa - REGION1_GPA + REGION_SIZE : gpa;
}

static bool memory_init(void) {
	t.memfd = memfd_create("vmd-session-test-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (t.memfd < 0 || ftruncate(t.memfd, (off_t)(2 * REGION_SIZE)) != 0 ||
			fcntl(t.memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) {
		return false;
	}
	tessera_memory_table_init(&t.memory);
	struct tessera_memory_region_desc descs[2] = {
		{ .gpa = 0, .size = REGION_SIZE, .uva = 0x7f0000000000,
			.mmap_offset = 0, .fd = dup(t.memfd) },
		{ .gpa = REGION1_GPA, .size = REGION_SIZE, .uva = 0x7f1000000000,
			.mmap_offset = REGION_SIZE, .fd = dup(t.memfd) },
	};
	char err[256];
	if (tessera_memory_table_set_table(&t.memory, descs, 2, err, sizeof(err)) != 0) {
		logf_("fail memory: %s", err);
		return false;
	}
	t.next_page[0] = REGION_SIZE;
	t.next_page[1] = REGION_SIZE;
	return true;
}

static bool alloc_page(int region, uint64_t *gpa) {
	if (t.next_page[region] < PAGE) {
		return false;
	}
	t.next_page[region] -= PAGE;
	*gpa = (region == 1 ? REGION1_GPA : 0) + t.next_page[region];
	return true;
}

static struct fake_resource *find_resource(uint32_t id) {
	for (size_t i = 0; i < MAX_RESOURCES; i++) {
		if (t.resources[i].used && t.resources[i].id == id) {
			return &t.resources[i];
		}
	}
	return NULL;
}

static bool resource_resolve(struct fake_resource *r) {
	char err[256];
	uint64_t total;
	if (tessera_memory_table_map_extents(&t.memory, r->extents, r->n,
			TESSERA_MEMORY_TABLE_MAX_EXTENTS, UINT64_MAX, r->mappings, &total,
			err, sizeof(err)) != 0) {
		logf_("fail resolve %u: %s", r->id, err);
		return false;
	}
	r->res = (struct vmd_resource){
		.id = r->id,
		.format = 2, /* VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM */
		.width = r->width,
		.height = r->height,
		.extents = r->extents,
		.mappings = r->mappings,
		.n_extents = r->n,
		.size = total,
		.host_storage = r->host,
	};
	return true;
}

/* A resource of `bytes` bytes: scattered (one page per extent, pages of
 * both regions, descending addresses) or one contiguous extent. */
static struct fake_resource *resource_create(uint32_t id, uint32_t width,
		uint32_t height, uint64_t bytes, bool contig) {
	struct fake_resource *r = NULL;
	for (size_t i = 0; i < MAX_RESOURCES; i++) {
		if (!t.resources[i].used) {
			r = &t.resources[i];
			break;
		}
	}
	if (r == NULL || find_resource(id) != NULL) {
		return NULL;
	}
	size_t pages = (size_t)((bytes + PAGE - 1) / PAGE);
	*r = (struct fake_resource){ .used = true, .id = id, .width = width,
		.height = height };
	r->n = contig ? 1 : pages;
	r->extents = calloc(r->n, sizeof(*r->extents));
	r->mappings = calloc(r->n, sizeof(*r->mappings));
	r->view_size = pages * PAGE;
	r->view = mmap(NULL, r->view_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->extents == NULL || r->mappings == NULL || r->view == MAP_FAILED) {
		return NULL;
	}
	if (contig) {
		if (t.next_page[0] < pages * PAGE) {
			return NULL;
		}
		t.next_page[0] -= pages * PAGE;
		r->extents[0] = (struct tessera_guest_extent){ t.next_page[0], bytes };
		if (mmap(r->view, r->view_size, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_FIXED, t.memfd,
				(off_t)gpa_to_fd_offset(t.next_page[0])) == MAP_FAILED) {
			return NULL;
		}
	} else {
		for (size_t i = 0; i < pages; i++) {
			uint64_t gpa;
			if (!alloc_page((int)(i % 2), &gpa)) {
				return NULL;
			}
			uint64_t len = i + 1 < pages ? PAGE : bytes - (uint64_t)i * PAGE;
			r->extents[i] = (struct tessera_guest_extent){ gpa, len };
			if (mmap(r->view + i * PAGE, PAGE, PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_FIXED, t.memfd,
					(off_t)gpa_to_fd_offset(gpa)) == MAP_FAILED) {
				return NULL;
			}
		}
	}
	if (!resource_resolve(r)) {
		return NULL;
	}
	return r;
}

static void resource_free(struct fake_resource *r) {
	free(r->extents);
	free(r->mappings);
	if (r->view != NULL && r->view != MAP_FAILED) {
		munmap(r->view, r->view_size);
	}
	*r = (struct fake_resource){0};
}

static void fill(struct fake_resource *r, uint32_t color, uint32_t x, uint32_t y,
		uint32_t w, uint32_t h) {
	for (uint32_t row = y; row < y + h && row < r->height; row++) {
		uint32_t *p = (uint32_t *)(void *)(r->view + (size_t)row * r->width * 4);
		for (uint32_t col = x; col < x + w && col < r->width; col++) {
			p[col] = 0xff000000u | color;
		}
	}
}

/* --- the fake device --- */

static const struct vmd_resource *dev_get_resource(void *data, uint32_t id) {
	struct fake_resource *r = find_resource(id);
	return r != NULL ? &r->res : NULL;
}

static struct tessera_memory_table *dev_memory(void *data) {
	return &t.memory;
}

static void schedule_read(void);

static void dev_doorbell(void *data) {
	/* completes every held WAIT */
	for (size_t i = 0; i < MAX_CTX; i++) {
		t.ctxs[i].wait_held = false;
	}
	schedule_read();
}

/* The "host image" of a host resource is its pages. */
static bool dev_read_back(void *data, const struct vmd_resource *res, uint32_t x,
		uint32_t y, uint32_t w, uint32_t h, uint32_t stride, void *dst,
		size_t dst_size) {
	struct fake_resource *r = find_resource(res->id);
	if (r == NULL || !r->host || (uint64_t)x + w > r->width ||
			(uint64_t)y + h > r->height ||
			(uint64_t)(y + h - 1) * stride + (uint64_t)(x + w) * 4 > dst_size) {
		return false;
	}
	for (uint32_t row = y; row < y + h; row++) {
		memcpy((uint8_t *)dst + (size_t)row * stride + (size_t)x * 4,
			r->view + ((size_t)row * r->width + x) * 4, (size_t)w * 4);
	}
	return true;
}

static void retire_fences(void) {
	if (t.fence_retired != t.fence_seq) {
		t.fence_retired = t.fence_seq;
		logf_("fence retired %u", t.fence_retired);
		vmd_session_fence_retired(t.session, t.fence_retired);
	}
}

static void handle_fence_idle(void *data) {
	t.fence_idle = NULL;
	retire_fences();
}

static uint32_t dev_fence(void *data) {
	t.fence_seq++;
	logf_("fence queued %u", t.fence_seq);
	if (!t.fences_held && t.fence_idle == NULL) {
		t.fence_idle = wl_event_loop_add_idle(t.loop, handle_fence_idle, NULL);
	}
	return t.fence_seq;
}

static const struct vmd_session_device device = {
	.get_resource = dev_get_resource,
	.memory = dev_memory,
	.doorbell = dev_doorbell,
	.read_back = dev_read_back,
	.fence = dev_fence,
};

/* --- the guest --- */

static const char *result_name(enum vmd_submit_result r) {
	switch (r) {
	case VMD_SUBMIT_DONE:
		return "done";
	case VMD_SUBMIT_WAIT:
		return "wait";
	case VMD_SUBMIT_ERROR:
		return "error";
	}
	return "?";
}

static enum vmd_submit_result submit_raw(struct guest_ctx *c, const void *data,
		size_t len) {
	enum vmd_submit_result r = vmd_session_submit(t.session, c->id, data, len);
	if (r == VMD_SUBMIT_WAIT) {
		c->wait_held = true;
	}
	if (r == VMD_SUBMIT_ERROR) {
		logf_("submit ctx=%u result=error", c->id);
	}
	return r;
}

static struct tessera_wire_writer batch_writer;

static void batch_begin(void) {
	tessera_wire_writer_init(&batch_writer, t.batch, sizeof(t.batch));
}

static bool batch_add(const struct tessera_wire_msg *msg) {
	struct tessera_wire_error err = {0};
	if (tessera_wire_encode(&batch_writer, msg, &err) != TESSERA_WIRE_ERROR_NONE) {
		logf_("fail encode %s: %s: %s", tessera_wire_type_name(msg->type),
			err.field, err.reason);
		return false;
	}
	return true;
}

static enum vmd_submit_result batch_submit(struct guest_ctx *c) {
	return submit_raw(c, t.batch, batch_writer.len);
}

static struct guest_surface *guest_surface(struct guest_ctx *c, uint32_t id,
		bool create) {
	for (size_t i = 0; i < MAX_SURFACES; i++) {
		if (c->surfaces[i].id == id) {
			return &c->surfaces[i];
		}
	}
	if (!create) {
		return NULL;
	}
	for (size_t i = 0; i < MAX_SURFACES; i++) {
		if (c->surfaces[i].id == 0) {
			c->surfaces[i] = (struct guest_surface){ .id = id };
			return &c->surfaces[i];
		}
	}
	return NULL;
}

static void pending_add(struct guest_ctx *c, const struct tessera_wire_msg *msg) {
	if (tessera_wire_encode(&c->pending_writer, msg, NULL) != TESSERA_WIRE_ERROR_NONE) {
		logf_("fail pending %s", tessera_wire_type_name(msg->type));
	}
}

static void log_event(struct guest_ctx *c, const struct tessera_wire_msg *ev) {
	const char *name = tessera_wire_type_name(ev->type);
	switch (ev->type) {
	case TESSERA_WIRE_HELLO_REPLY:
		logf_("event ctx=%u HELLO_REPLY version=%u", c->id, ev->hello_reply.version);
		break;
	case TESSERA_WIRE_ERROR:
		logf_("event ctx=%u ERROR code=%s request=%s object=%u count=%llu message=%s",
			c->id, tessera_wire_error_code_name(ev->error.code),
			ev->error.request_type != 0 ?
				tessera_wire_type_name(ev->error.request_type) : "none",
			ev->error.object, (unsigned long long)ev->error.count,
			ev->error.message);
		break;
	case TESSERA_WIRE_CONFIGURE:
		logf_("event ctx=%u CONFIGURE surface=%u serial=%u width=%d height=%d "
			"states=0x%x decoration=%u", c->id, ev->configure.surface,
			ev->configure.serial, ev->configure.width, ev->configure.height,
			ev->configure.states, ev->configure.decoration);
		break;
	case TESSERA_WIRE_POPUP_CONFIGURE:
		logf_("event ctx=%u POPUP_CONFIGURE surface=%u serial=%u x=%d y=%d "
			"width=%d height=%d", c->id, ev->popup_configure.surface,
			ev->popup_configure.serial, ev->popup_configure.x,
			ev->popup_configure.y, ev->popup_configure.width,
			ev->popup_configure.height);
		break;
	case TESSERA_WIRE_BUFFER_RELEASE:
		logf_("event ctx=%u BUFFER_RELEASE buffer=%u point=%llu", c->id,
			ev->buffer_release.buffer,
			(unsigned long long)ev->buffer_release.release_point);
		break;
	case TESSERA_WIRE_FRAME_DONE:
		logf_("event ctx=%u FRAME_DONE surface=%u serial=%u", c->id,
			ev->frame_done.surface, ev->frame_done.serial);
		break;
	case TESSERA_WIRE_PRESENTED:
		logf_("event ctx=%u PRESENTED surface=%u serial=%u flags=0x%x", c->id,
			ev->presented.surface, ev->presented.serial, ev->presented.flags);
		break;
	case TESSERA_WIRE_OUTPUT:
		logf_("event ctx=%u OUTPUT output=%u size=%dx%d scale=%d", c->id,
			ev->output.output, ev->output.width, ev->output.height,
			ev->output.scale);
		break;
	case TESSERA_WIRE_KEYMAP:
		logf_("event ctx=%u KEYMAP resource=%u size=%u", c->id,
			ev->keymap.resource, ev->keymap.size);
		break;
	case TESSERA_WIRE_KEYBOARD_ENTER:
		logf_("event ctx=%u KEYBOARD_ENTER surface=%u keys=%u", c->id,
			ev->keyboard_enter.surface, ev->keyboard_enter.key_count);
		break;
	case TESSERA_WIRE_KEYBOARD_LEAVE:
		logf_("event ctx=%u KEYBOARD_LEAVE surface=%u", c->id,
			ev->keyboard_leave.surface);
		break;
	case TESSERA_WIRE_KEYBOARD_KEY:
		logf_("event ctx=%u KEYBOARD_KEY key=%u state=%u", c->id, ev->key.code,
			ev->key.state);
		break;
	case TESSERA_WIRE_POINTER_ENTER:
		logf_("event ctx=%u POINTER_ENTER surface=%u x=%d y=%d", c->id,
			ev->pointer_enter.surface, ev->pointer_enter.x / 256,
			ev->pointer_enter.y / 256);
		break;
	case TESSERA_WIRE_POINTER_LEAVE:
		logf_("event ctx=%u POINTER_LEAVE surface=%u", c->id,
			ev->pointer_leave.surface);
		break;
	case TESSERA_WIRE_POINTER_MOTION:
		logf_("event ctx=%u POINTER_MOTION x=%d y=%d", c->id,
			ev->pointer_motion.x / 256, ev->pointer_motion.y / 256);
		break;
	case TESSERA_WIRE_POINTER_BUTTON:
		logf_("event ctx=%u POINTER_BUTTON button=%u state=%u", c->id,
			ev->button.code, ev->button.state);
		break;
	case TESSERA_WIRE_POPUP_DONE:
		logf_("event ctx=%u POPUP_DONE surface=%u", c->id, ev->popup_done.surface);
		break;
	case TESSERA_WIRE_CLOSE:
		logf_("event ctx=%u CLOSE surface=%u", c->id, ev->close.surface);
		break;
	default:
		logf_("event ctx=%u %s", c->id, name != NULL ? name : "?");
		break;
	}
}

/* The agent's part: acknowledge configures, map pending windows. */
static void handle_event(struct guest_ctx *c, const struct tessera_wire_msg *ev) {
	log_event(c, ev);
	uint32_t surface_id = 0, serial = 0;
	if (ev->type == TESSERA_WIRE_CONFIGURE) {
		surface_id = ev->configure.surface;
		serial = ev->configure.serial;
	} else if (ev->type == TESSERA_WIRE_POPUP_CONFIGURE) {
		surface_id = ev->popup_configure.surface;
		serial = ev->popup_configure.serial;
	} else if (ev->type == TESSERA_WIRE_POINTER_ENTER) {
		if (c->cursor_surface == 0) {
			return;
		}
		struct tessera_wire_msg *msg = &t.msg;
		memset(msg, 0, sizeof(*msg));
		msg->type = TESSERA_WIRE_SET_CURSOR;
		msg->set_cursor = (struct tessera_wire_set_cursor){ c->cursor_surface,
			ev->pointer_enter.serial, 2, 2 };
		pending_add(c, msg);
		logf_("cursor ctx=%u surface=%u serial=%u", c->id, c->cursor_surface,
			ev->pointer_enter.serial);
		return;
	} else if (ev->type == TESSERA_WIRE_KEYMAP) {
		/* copied out (checked by the "keymap" command): arm again */
		struct tessera_wire_msg *msg = &t.msg;
		memset(msg, 0, sizeof(*msg));
		msg->type = TESSERA_WIRE_SET_KEYMAP_AREA;
		msg->area = (struct tessera_wire_area){ c->keymap_resource,
			KEYMAP_AREA_SIZE, 0 };
		pending_add(c, msg);
		return;
	} else if (ev->type == TESSERA_WIRE_BUFFER_RELEASE) {
		if (ev->buffer_release.release_point <= c->last_release_point) {
			logf_("fail release points not increasing: %llu after %llu",
				(unsigned long long)ev->buffer_release.release_point,
				(unsigned long long)c->last_release_point);
		}
		c->last_release_point = ev->buffer_release.release_point;
		return;
	} else {
		return;
	}
	struct guest_surface *s = guest_surface(c, surface_id, false);
	if (s == NULL) {
		return;
	}
	struct tessera_wire_msg *msg = &t.msg;
	memset(msg, 0, sizeof(*msg));
	msg->type = TESSERA_WIRE_ACK_CONFIGURE;
	msg->surface_serial = (struct tessera_wire_surface_serial){ surface_id, serial };
	pending_add(c, msg);
	if (!s->mapped && s->map_buffer != 0) {
		memset(msg, 0, sizeof(*msg));
		msg->type = TESSERA_WIRE_COMMIT;
		msg->commit.surface = surface_id;
		msg->commit.buffer = s->map_buffer;
		msg->commit.serial = 1;
		msg->commit.flags = TESSERA_WIRE_COMMIT_FRAME | TESSERA_WIRE_COMMIT_DAMAGE_ALL;
		msg->commit.scale = 1;
		pending_add(c, msg);
		s->mapped = true;
		s->buffer = s->map_buffer;
		logf_("mapped ctx=%u surface=%u", c->id, surface_id);
	}
}

static void read_ctx(struct guest_ctx *c) {
	if (!c->used || c->dead || !c->reading) {
		return;
	}
	tessera_wire_writer_init(&c->pending_writer, c->pending, sizeof(c->pending));
	struct tessera_wire_msg *ev = calloc(1, sizeof(*ev));
	while (ev != NULL && tessera_wire_ring_reader_next(&c->reader, ev)) {
		handle_event(c, ev);
	}
	free(ev);
	if (c->reader.error.code != TESSERA_WIRE_ERROR_NONE) {
		logf_("fail ring ctx=%u: %s: %s", c->id, c->reader.error.field,
			c->reader.error.reason);
		c->dead = true;
		return;
	}
	uint32_t status = tessera_wire_ring_reader_status(&c->reader);
	if (status != 0) {
		logf_("status ctx=%u %s", c->id, tessera_wire_error_code_name(status));
		c->dead = true;
	}
	if (c->dead) {
		return;
	}
	/* pending requests, then re-arm the doorbell */
	if (c->wait_held) {
		if (c->pending_writer.len > 0) {
			submit_raw(c, c->pending, c->pending_writer.len);
		}
		return;
	}
	struct tessera_wire_msg wait = { .type = TESSERA_WIRE_WAIT };
	if (tessera_wire_encode(&c->pending_writer, &wait, NULL) != TESSERA_WIRE_ERROR_NONE) {
		logf_("fail wait encode");
		return;
	}
	enum vmd_submit_result r = submit_raw(c, c->pending, c->pending_writer.len);
	if (r == VMD_SUBMIT_DONE) {
		schedule_read(); /* more events already */
	} else if (r == VMD_SUBMIT_ERROR) {
		c->dead = true;
	}
}

static void handle_read_idle(void *data) {
	t.read_idle = NULL;
	for (size_t i = 0; i < MAX_CTX; i++) {
		read_ctx(&t.ctxs[i]);
	}
}

static void schedule_read(void) {
	if (t.read_idle == NULL) {
		t.read_idle = wl_event_loop_add_idle(t.loop, handle_read_idle, NULL);
	}
}

/* --- commands --- */

static char *next_word(char **s) {
	while (**s == ' ') {
		(*s)++;
	}
	if (**s == '\0') {
		return NULL;
	}
	char *w = *s;
	while (**s != '\0' && **s != ' ') {
		(*s)++;
	}
	if (**s == ' ') {
		*(*s)++ = '\0';
	}
	return w;
}

static bool word_u32(char **s, uint32_t *v) {
	char *w = next_word(s);
	if (w == NULL) {
		return false;
	}
	char *end;
	unsigned long long x = strtoull(w, &end, 0);
	if (*end != '\0' || x > UINT32_MAX) {
		return false;
	}
	*v = (uint32_t)x;
	return true;
}

static bool word_color(char **s, uint32_t *v) {
	char *w = next_word(s);
	if (w == NULL || strlen(w) != 6) {
		return false;
	}
	char *end;
	*v = (uint32_t)strtoul(w, &end, 16);
	return *end == '\0';
}

static struct tessera_wire_msg *msg_new(uint16_t type) {
	memset(&t.msg, 0, sizeof(t.msg));
	t.msg.type = type;
	return &t.msg;
}

static struct guest_ctx *ctx_slot(uint32_t id) {
	for (size_t i = 0; i < MAX_CTX; i++) {
		if (t.ctxs[i].used && t.ctxs[i].id == id) {
			return &t.ctxs[i];
		}
	}
	for (size_t i = 0; i < MAX_CTX; i++) {
		if (!t.ctxs[i].used || t.ctxs[i].dead) {
			return &t.ctxs[i];
		}
	}
	return NULL;
}

static const char *cmd_hello(char *args) {
	uint32_t id, data_size = 16384;
	if (!word_u32(&args, &id)) {
		return "usage: hello CTX [RING_DATA_SIZE]";
	}
	word_u32(&args, &data_size);
	struct guest_ctx *c = ctx_slot(id);
	if (c == NULL) {
		return "too many contexts";
	}
	*c = (struct guest_ctx){ .used = true, .id = id, .reading = true,
		.ring_data_size = data_size };
	c->ring_resource = RING_RESOURCE_BASE + id;
	c->keymap_resource = KEYMAP_RESOURCE_BASE + id;
	/* the ring at offset 64 of a scattered resource */
	uint64_t ring_size = 64 + (uint64_t)data_size;
	struct fake_resource *ring = resource_create(c->ring_resource, 0, 0,
		64 + ring_size, false);
	struct fake_resource *keymap = resource_create(c->keymap_resource, 0, 0,
		KEYMAP_AREA_SIZE, false);
	if (ring == NULL || keymap == NULL) {
		return "cannot create the ring or keymap resource";
	}
	if (!tessera_wire_ring_format(ring->view + 64, ring_size) ||
			!tessera_wire_ring_reader_init(&c->reader, ring->view + 64, ring_size)) {
		return "bad ring size";
	}
	t.cur = c;
	batch_begin();
	struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_HELLO);
	m->hello = (struct tessera_wire_hello){ .max_version = 1, .min_version = 1 };
	batch_add(m);
	m = msg_new(TESSERA_WIRE_EVENT_RING);
	m->area = (struct tessera_wire_area){ c->ring_resource, (uint32_t)ring_size, 64 };
	batch_add(m);
	m = msg_new(TESSERA_WIRE_SET_KEYMAP_AREA);
	m->area = (struct tessera_wire_area){ c->keymap_resource, KEYMAP_AREA_SIZE, 0 };
	batch_add(m);
	batch_add(msg_new(TESSERA_WIRE_WAIT));
	enum vmd_submit_result r = batch_submit(c);
	if (r == VMD_SUBMIT_ERROR) {
		return "HELLO refused";
	}
	schedule_read();
	return NULL;
}

static const char *cmd_use(char *args) {
	uint32_t id;
	if (!word_u32(&args, &id)) {
		return "usage: use CTX";
	}
	for (size_t i = 0; i < MAX_CTX; i++) {
		if (t.ctxs[i].used && t.ctxs[i].id == id) {
			t.cur = &t.ctxs[i];
			return NULL;
		}
	}
	return "no such context";
}

static const char *cmd_resource(char *args) {
	uint32_t id, w, h, color;
	if (!word_u32(&args, &id) || !word_u32(&args, &w) || !word_u32(&args, &h) ||
			!word_color(&args, &color)) {
		return "usage: resource RES W H COLOR [contig]";
	}
	char *mode = next_word(&args);
	bool contig = mode != NULL && strcmp(mode, "contig") == 0;
	struct fake_resource *r = resource_create(id, w, h, (uint64_t)w * h * 4, contig);
	if (r == NULL) {
		return "cannot create the resource";
	}
	fill(r, color, 0, 0, w, h);
	return NULL;
}

static const char *cmd_fill(char *args) {
	uint32_t id, color, x = 0, y = 0, w = UINT32_MAX, h = UINT32_MAX;
	if (!word_u32(&args, &id) || !word_color(&args, &color)) {
		return "usage: fill RES COLOR [X Y W H]";
	}
	if (word_u32(&args, &x)) {
		if (!word_u32(&args, &y) || !word_u32(&args, &w) || !word_u32(&args, &h)) {
			return "usage: fill RES COLOR [X Y W H]";
		}
	}
	struct fake_resource *r = find_resource(id);
	if (r == NULL) {
		return "no such resource";
	}
	fill(r, color, x, y, w, h);
	return NULL;
}

static const char *submit_one(struct tessera_wire_msg *m) {
	if (t.cur == NULL) {
		return "no context";
	}
	batch_begin();
	if (!batch_add(m)) {
		return "encode failed";
	}
	batch_submit(t.cur);
	return NULL;
}

static const char *cmd_buffer(char *args) {
	uint32_t id, res, stride = 0;
	if (!word_u32(&args, &id) || !word_u32(&args, &res)) {
		return "usage: buffer BUF RES [STRIDE]";
	}
	word_u32(&args, &stride);
	struct fake_resource *r = find_resource(res);
	if (r == NULL) {
		return "no such resource";
	}
	struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_BUFFER_CREATE);
	m->buffer_create = (struct tessera_wire_buffer_create){
		.buffer = id, .resource = res, .format = TESSERA_WIRE_FORMAT_XRGB8888,
		.width = r->width, .height = r->height,
		.stride = stride != 0 ? stride : r->width * 4, .offset = 0,
	};
	return submit_one(m);
}

static const char *cmd_window(char *args) {
	uint32_t surface, buffer;
	if (t.cur == NULL || !word_u32(&args, &surface) || !word_u32(&args, &buffer)) {
		return "usage: window SURF BUF TITLE...";
	}
	struct guest_surface *s = guest_surface(t.cur, surface, true);
	if (s == NULL) {
		return "too many surfaces";
	}
	s->map_buffer = buffer;
	batch_begin();
	struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_SURFACE_CREATE);
	m->surface.surface = surface;
	batch_add(m);
	m = msg_new(TESSERA_WIRE_TOPLEVEL_CREATE);
	m->toplevel_create.surface = surface;
	batch_add(m);
	m = msg_new(TESSERA_WIRE_SET_TITLE);
	m->string.surface = surface;
	m->string.length = (uint32_t)tessera_wire_sanitize_string(m->string.text,
		TESSERA_WIRE_MAX_TITLE_LENGTH, args);
	batch_add(m);
	m = msg_new(TESSERA_WIRE_SET_APP_ID);
	m->string.surface = surface;
	m->string.length = (uint32_t)tessera_wire_sanitize_string(m->string.text,
		TESSERA_WIRE_MAX_APP_ID_LENGTH, "vmd-session-test");
	batch_add(m);
	m = msg_new(TESSERA_WIRE_TOPLEVEL_SET_DECORATION);
	m->decoration = (struct tessera_wire_decoration){ surface,
		TESSERA_WIRE_DECORATION_CLIENT_SIDE };
	batch_add(m);
	m = msg_new(TESSERA_WIRE_COMMIT);
	m->commit.surface = surface;
	m->commit.scale = 1;
	batch_add(m);
	batch_submit(t.cur);
	return NULL;
}

static const char *cmd_commit(char *args) {
	uint32_t surface, buffer;
	if (t.cur == NULL || !word_u32(&args, &surface) || !word_u32(&args, &buffer)) {
		return "usage: commit SURF BUF [frame] [presentation] [all] [damage X Y W H]...";
	}
	struct guest_surface *s = guest_surface(t.cur, surface, false);
	if (s != NULL) {
		s->buffer = buffer;
	}
	struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_COMMIT);
	m->commit.surface = surface;
	m->commit.buffer = buffer;
	m->commit.scale = 1;
	static uint32_t serial = 100;
	m->commit.serial = ++serial;
	char *w;
	while ((w = next_word(&args)) != NULL) {
		if (strcmp(w, "frame") == 0) {
			m->commit.flags |= TESSERA_WIRE_COMMIT_FRAME;
		} else if (strcmp(w, "presentation") == 0) {
			m->commit.flags |= TESSERA_WIRE_COMMIT_PRESENTATION;
		} else if (strcmp(w, "all") == 0) {
			m->commit.flags |= TESSERA_WIRE_COMMIT_DAMAGE_ALL;
		} else if (strcmp(w, "scale") == 0) {
			uint32_t scale;
			if (!word_u32(&args, &scale)) {
				return "scale N";
			}
			m->commit.scale = (int32_t)scale;
		} else if (strcmp(w, "damage") == 0) {
			uint32_t v[4];
			for (size_t i = 0; i < 4; i++) {
				if (!word_u32(&args, &v[i])) {
					return "damage X Y W H";
				}
			}
			if (m->commit.damage_count < TESSERA_WIRE_MAX_DAMAGE_RECTS) {
				m->commit.damage[m->commit.damage_count++] = (struct tessera_wire_rect){
					(int32_t)v[0], (int32_t)v[1], (int32_t)v[2], (int32_t)v[3] };
			}
		} else {
			return "unknown commit word";
		}
	}
	return submit_one(m);
}

static const char *cmd_destroy(char *args, uint16_t type) {
	uint32_t id;
	if (!word_u32(&args, &id)) {
		return "usage: destroy-surface|destroy-buffer ID";
	}
	struct tessera_wire_msg *m = msg_new(type);
	if (type == TESSERA_WIRE_SURFACE_DESTROY) {
		m->surface.surface = id;
		struct guest_surface *s = t.cur != NULL ? guest_surface(t.cur, id, false) : NULL;
		if (s != NULL) {
			s->id = 0;
		}
	} else {
		m->buffer_destroy.buffer = id;
	}
	return submit_one(m);
}

static const char *cmd_subsurface(char *args) {
	uint32_t surface, parent, x, y, buffer;
	if (t.cur == NULL || !word_u32(&args, &surface) || !word_u32(&args, &parent) ||
			!word_u32(&args, &x) || !word_u32(&args, &y) || !word_u32(&args, &buffer)) {
		return "usage: subsurface SURF PARENT X Y BUF";
	}
	batch_begin();
	struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_SURFACE_CREATE);
	m->surface.surface = surface;
	batch_add(m);
	m = msg_new(TESSERA_WIRE_SUBSURFACE_CREATE);
	m->subsurface_create = (struct tessera_wire_subsurface_create){ surface, parent };
	batch_add(m);
	m = msg_new(TESSERA_WIRE_SUBSURFACE_SET_POSITION);
	m->subsurface_position = (struct tessera_wire_subsurface_position){
		surface, (int32_t)x, (int32_t)y };
	batch_add(m);
	m = msg_new(TESSERA_WIRE_SUBSURFACE_SET_SYNC);
	m->subsurface_sync = (struct tessera_wire_subsurface_sync){ surface, 0 };
	batch_add(m);
	m = msg_new(TESSERA_WIRE_COMMIT);
	m->commit = (struct tessera_wire_commit){ .surface = surface, .buffer = buffer,
		.scale = 1, .flags = TESSERA_WIRE_COMMIT_DAMAGE_ALL };
	batch_add(m);
	/* the position applies with the parent's next commit */
	struct guest_surface *p = guest_surface(t.cur, parent, false);
	m = msg_new(TESSERA_WIRE_COMMIT);
	m->commit = (struct tessera_wire_commit){ .surface = parent,
		.buffer = p != NULL ? p->buffer : 0, .scale = 1 };
	batch_add(m);
	batch_submit(t.cur);
	return NULL;
}

static const char *cmd_popup(char *args) {
	uint32_t surface, parent, buffer;
	if (t.cur == NULL || !word_u32(&args, &surface) || !word_u32(&args, &parent) ||
			!word_u32(&args, &buffer)) {
		return "usage: popup SURF PARENT BUF";
	}
	struct fake_resource *r = NULL;
	struct guest_surface *s = guest_surface(t.cur, surface, true);
	if (s == NULL) {
		return "too many surfaces";
	}
	s->map_buffer = buffer;
	for (size_t i = 0; i < MAX_RESOURCES; i++) {
		if (t.resources[i].used && t.resources[i].width > 0) {
			r = &t.resources[i];
		}
	}
	batch_begin();
	struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_SURFACE_CREATE);
	m->surface.surface = surface;
	batch_add(m);
	m = msg_new(TESSERA_WIRE_POPUP_CREATE);
	m->popup_create.surface = surface;
	m->popup_create.parent = parent;
	m->popup_create.positioner = (struct tessera_wire_positioner){
		.width = r != NULL ? (int32_t)r->width : 10,
		.height = r != NULL ? (int32_t)r->height : 10,
		.anchor_x = 10, .anchor_y = 10, .anchor_width = 1, .anchor_height = 1,
		.anchor = 5 /* top_left */, .gravity = 8 /* bottom_right */,
	};
	batch_add(m);
	m = msg_new(TESSERA_WIRE_COMMIT);
	m->commit = (struct tessera_wire_commit){ .surface = surface, .scale = 1 };
	batch_add(m);
	batch_submit(t.cur);
	return NULL;
}

/* Bytes of one message, written by hand where the encoder refuses. */
static size_t put_msg(uint8_t *p, uint16_t type, uint32_t size, const uint32_t *body,
		size_t words) {
	memset(p, 0, size);
	p[0] = (uint8_t)type;
	p[1] = (uint8_t)(type >> 8);
	p[4] = (uint8_t)size;
	p[5] = (uint8_t)(size >> 8);
	for (size_t i = 0; i < words && 8 + i * 4 + 4 <= size; i++) {
		uint32_t v = body[i];
		p[8 + i * 4] = (uint8_t)v;
		p[9 + i * 4] = (uint8_t)(v >> 8);
		p[10 + i * 4] = (uint8_t)(v >> 16);
		p[11 + i * 4] = (uint8_t)(v >> 24);
	}
	return size;
}

static const char *cmd_malformed(char *args) {
	char *kind = next_word(&args);
	if (t.cur == NULL || kind == NULL) {
		return "usage: malformed KIND";
	}
	struct fake_resource *r = NULL;
	for (size_t i = 0; i < MAX_RESOURCES; i++) {
		if (t.resources[i].used && t.resources[i].width > 0) {
			r = &t.resources[i];
			break;
		}
	}
	uint8_t *p = t.batch;
	size_t len = 0;
	batch_begin();
	if (strcmp(kind, "zero-id") == 0) {
		uint32_t body[] = { 0, 0 };
		len = put_msg(p, TESSERA_WIRE_SURFACE_CREATE, 16, body, 2);
	} else if (strcmp(kind, "id-reuse") == 0) {
		struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_SURFACE_CREATE);
		m->surface.surface = 1;
		batch_add(m);
		batch_add(m);
		len = batch_writer.len;
	} else if (strcmp(kind, "resource") == 0) {
		struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_BUFFER_CREATE);
		m->buffer_create = (struct tessera_wire_buffer_create){ .buffer = 9000,
			.resource = 4242, .format = TESSERA_WIRE_FORMAT_XRGB8888,
			.width = 16, .height = 16, .stride = 64 };
		batch_add(m);
		len = batch_writer.len;
	} else if (strcmp(kind, "stride") == 0) {
		/* stride smaller than width * 4: the encoder refuses it */
		uint32_t body[] = { 9001, r != NULL ? r->id : 1,
			TESSERA_WIRE_FORMAT_XRGB8888, 64, 64, 64 * 4 - 4, 0, 0 };
		len = put_msg(p, TESSERA_WIRE_BUFFER_CREATE, 40, body, 8);
	} else if (strcmp(kind, "range") == 0 && r != NULL) {
		struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_BUFFER_CREATE);
		m->buffer_create = (struct tessera_wire_buffer_create){ .buffer = 9002,
			.resource = r->id, .format = TESSERA_WIRE_FORMAT_XRGB8888,
			.width = r->width, .height = r->height + 1, .stride = r->width * 4 };
		batch_add(m);
		len = batch_writer.len;
	} else if (strcmp(kind, "surfaces") == 0) {
		for (uint32_t id = 500; id < 500 + TESSERA_WIRE_MAX_SURFACES + 8; id++) {
			struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_SURFACE_CREATE);
			m->surface.surface = id;
			batch_add(m);
		}
		len = batch_writer.len;
	} else if (strcmp(kind, "state") == 0) {
		struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_HELLO);
		m->hello = (struct tessera_wire_hello){ 1, 1, 0 };
		batch_add(m);
		len = batch_writer.len;
	} else if (strcmp(kind, "truncated") == 0) {
		uint32_t body[] = { 7, 0 };
		len = put_msg(p, TESSERA_WIRE_SURFACE_CREATE, 16, body, 2) - 4;
	} else if (strcmp(kind, "role") == 0) {
		struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_SURFACE_CREATE);
		m->surface.surface = 700;
		batch_add(m);
		m = msg_new(TESSERA_WIRE_TOPLEVEL_CREATE);
		m->toplevel_create.surface = 700;
		batch_add(m);
		m = msg_new(TESSERA_WIRE_SUBSURFACE_CREATE);
		m->subsurface_create = (struct tessera_wire_subsurface_create){ 700, 1 };
		batch_add(m);
		len = batch_writer.len;
	} else if (strcmp(kind, "ack") == 0) {
		struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_SURFACE_CREATE);
		m->surface.surface = 900;
		batch_add(m);
		m = msg_new(TESSERA_WIRE_TOPLEVEL_CREATE);
		m->toplevel_create.surface = 900;
		batch_add(m);
		m = msg_new(TESSERA_WIRE_ACK_CONFIGURE);
		m->surface_serial = (struct tessera_wire_surface_serial){ 900, 12345 };
		batch_add(m);
		len = batch_writer.len;
	} else if (strcmp(kind, "cycle") == 0) {
		for (uint32_t id = 901; id <= 903; id++) {
			struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_SURFACE_CREATE);
			m->surface.surface = id;
			batch_add(m);
		}
		uint32_t links[][2] = { { 902, 901 }, { 903, 902 }, { 901, 903 } };
		for (size_t i = 0; i < 3; i++) {
			struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_SUBSURFACE_CREATE);
			m->subsurface_create = (struct tessera_wire_subsurface_create){
				links[i][0], links[i][1] };
			batch_add(m);
		}
		len = batch_writer.len;
	} else if (strcmp(kind, "no-object") == 0) {
		struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_COMMIT);
		m->commit = (struct tessera_wire_commit){ .surface = 123456, .scale = 1 };
		batch_add(m);
		len = batch_writer.len;
	} else if (strcmp(kind, "unacked") == 0 && r != NULL) {
		/* a buffer on a toplevel before any configure */
		struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_SURFACE_CREATE);
		m->surface.surface = 800;
		batch_add(m);
		m = msg_new(TESSERA_WIRE_TOPLEVEL_CREATE);
		m->toplevel_create.surface = 800;
		batch_add(m);
		m = msg_new(TESSERA_WIRE_BUFFER_CREATE);
		m->buffer_create = (struct tessera_wire_buffer_create){ .buffer = 800,
			.resource = r->id, .format = TESSERA_WIRE_FORMAT_XRGB8888,
			.width = r->width, .height = r->height, .stride = r->width * 4 };
		batch_add(m);
		m = msg_new(TESSERA_WIRE_COMMIT);
		m->commit = (struct tessera_wire_commit){ .surface = 800, .buffer = 800,
			.scale = 1 };
		batch_add(m);
		len = batch_writer.len;
	} else {
		return "unknown kind";
	}
	enum vmd_submit_result res = submit_raw(t.cur, t.batch, len);
	logf_("malformed %s result=%s", kind, result_name(res));
	if (res == VMD_SUBMIT_ERROR) {
		schedule_read(); /* the ERROR event is in the ring */
	}
	return NULL;
}

static const char *cmd_flood(char *args) {
	uint32_t surface, buffer, n;
	if (t.cur == NULL || !word_u32(&args, &surface) || !word_u32(&args, &buffer) ||
			!word_u32(&args, &n)) {
		return "usage: flood SURF BUF N";
	}
	uint32_t done = 0;
	while (done < n) {
		batch_begin();
		for (uint32_t i = 0; i < 512 && done < n; i++, done++) {
			struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_COMMIT);
			m->commit = (struct tessera_wire_commit){ .surface = surface,
				.buffer = buffer, .scale = 1, .serial = 10000 + done,
				.flags = TESSERA_WIRE_COMMIT_PRESENTATION |
					TESSERA_WIRE_COMMIT_FRAME };
			m->commit.damage_count = 1;
			m->commit.damage[0] = (struct tessera_wire_rect){ 0, 0, 1, 1 };
			if (!batch_add(m)) {
				return "encode";
			}
		}
		if (batch_submit(t.cur) == VMD_SUBMIT_ERROR) {
			return "refused";
		}
	}
	return NULL;
}

static const char *cmd_stats(char *args) {
	if (t.session == NULL) {
		return "no session";
	}
	struct vmd_session_stats s;
	vmd_session_get_stats(t.session, &s);
	logf_("stats frames=%llu bytes_copied=%llu releases=%llu dropped=%llu "
		"written=%llu errors=%llu gmem=%llu shm=%llu failed=%llu deferred=%llu",
		(unsigned long long)s.frames, (unsigned long long)s.bytes_copied,
		(unsigned long long)s.releases, (unsigned long long)s.events_dropped,
		(unsigned long long)s.events_written, (unsigned long long)s.errors,
		(unsigned long long)s.buffers_guest_memory,
		(unsigned long long)s.buffers_shm, (unsigned long long)s.buffers_failed,
		(unsigned long long)s.commits_deferred);
	return NULL;
}

static const char *cmd_keymap(char *args) {
	if (t.cur == NULL) {
		return "no context";
	}
	struct fake_resource *r = find_resource(t.cur->keymap_resource);
	if (r == NULL) {
		return "no keymap resource";
	}
	bool ok = strncmp((const char *)r->view, "xkb_keymap", 10) == 0 &&
		memchr(r->view, '\0', KEYMAP_AREA_SIZE) != NULL;
	logf_("keymap ctx=%u %s", t.cur->id, ok ? "ok" : "bad");
	return NULL;
}

static bool session_create(void) {
	t.session = vmd_session_create(t.wayland, t.name, &t.limits, &device, NULL);
	return t.session != NULL;
}

static void session_destroy(void) {
	vmd_session_destroy(t.session);
	t.session = NULL;
	for (size_t i = 0; i < MAX_CTX; i++) {
		if (t.ctxs[i].used) {
			t.ctxs[i].dead = true;
		}
	}
}

static const char *command(char *line) {
	char *args = line;
	char *cmd = next_word(&args);
	if (cmd == NULL) {
		return NULL;
	}
	if (t.session == NULL && strcmp(cmd, "create-session") != 0 &&
			strcmp(cmd, "quit") != 0 && strcmp(cmd, "resource") != 0 &&
			strcmp(cmd, "fill") != 0) {
		return "no session";
	}
	if (strcmp(cmd, "hello") == 0) {
		return cmd_hello(args);
	} else if (strcmp(cmd, "use") == 0) {
		return cmd_use(args);
	} else if (strcmp(cmd, "resource") == 0) {
		return cmd_resource(args);
	} else if (strcmp(cmd, "fill") == 0) {
		return cmd_fill(args);
	} else if (strcmp(cmd, "buffer") == 0) {
		return cmd_buffer(args);
	} else if (strcmp(cmd, "window") == 0) {
		return cmd_window(args);
	} else if (strcmp(cmd, "commit") == 0) {
		return cmd_commit(args);
	} else if (strcmp(cmd, "destroy-surface") == 0) {
		return cmd_destroy(args, TESSERA_WIRE_SURFACE_DESTROY);
	} else if (strcmp(cmd, "destroy-buffer") == 0) {
		return cmd_destroy(args, TESSERA_WIRE_BUFFER_DESTROY);
	} else if (strcmp(cmd, "subsurface") == 0) {
		return cmd_subsurface(args);
	} else if (strcmp(cmd, "popup") == 0) {
		return cmd_popup(args);
	} else if (strcmp(cmd, "malformed") == 0) {
		return cmd_malformed(args);
	} else if (strcmp(cmd, "flood") == 0) {
		return cmd_flood(args);
	} else if (strcmp(cmd, "reading") == 0) {
		char *w = next_word(&args);
		if (t.cur == NULL || w == NULL) {
			return "usage: reading on|off";
		}
		t.cur->reading = strcmp(w, "on") == 0;
		if (t.cur->reading) {
			schedule_read();
		}
		return NULL;
	} else if (strcmp(cmd, "cursor-surface") == 0) {
		uint32_t surface, buffer;
		if (t.cur == NULL || !word_u32(&args, &surface) || !word_u32(&args, &buffer)) {
			return "usage: cursor-surface SURF BUF";
		}
		batch_begin();
		struct tessera_wire_msg *m = msg_new(TESSERA_WIRE_SURFACE_CREATE);
		m->surface.surface = surface;
		batch_add(m);
		m = msg_new(TESSERA_WIRE_COMMIT);
		m->commit = (struct tessera_wire_commit){ .surface = surface,
			.buffer = buffer, .scale = 1, .flags = TESSERA_WIRE_COMMIT_DAMAGE_ALL };
		batch_add(m);
		batch_submit(t.cur);
		t.cur->cursor_surface = surface;
		return NULL;
	} else if (strcmp(cmd, "corrupt-tail") == 0) {
		struct fake_resource *r = t.cur != NULL ?
			find_resource(t.cur->ring_resource) : NULL;
		if (r == NULL) {
			return "no ring";
		}
		/* the guest writes a tail beyond the head */
		__atomic_store_n((uint32_t *)(void *)(r->view + 64 + TESSERA_WIRE_RING_OFF_TAIL),
			0x7ffffff8u, __ATOMIC_RELEASE);
		t.cur->reading = false;
		return NULL;
	} else if (strcmp(cmd, "status") == 0) {
		struct fake_resource *r = t.cur != NULL ?
			find_resource(t.cur->ring_resource) : NULL;
		if (r == NULL) {
			return "no ring";
		}
		uint32_t status = __atomic_load_n((uint32_t *)(void *)(r->view + 64 +
			TESSERA_WIRE_RING_OFF_STATUS), __ATOMIC_ACQUIRE);
		logf_("ring-status ctx=%u %s", t.cur->id,
			status == 0 ? "running" : tessera_wire_error_code_name(status));
		return NULL;
	} else if (strcmp(cmd, "stats") == 0) {
		return cmd_stats(args);
	} else if (strcmp(cmd, "keymap") == 0) {
		return cmd_keymap(args);
	} else if (strcmp(cmd, "ctx-destroy") == 0) {
		uint32_t id;
		if (!word_u32(&args, &id)) {
			return "usage: ctx-destroy CTX";
		}
		vmd_session_ctx_destroy(t.session, id);
		struct guest_ctx *c = ctx_slot(id);
		if (c != NULL && c->used && c->id == id) {
			c->dead = true;
		}
		return NULL;
	} else if (strcmp(cmd, "memory-change") == 0) {
		struct tessera_memory_region_desc descs[2] = {
			{ .gpa = 0, .size = REGION_SIZE, .uva = 0x7f2000000000,
				.mmap_offset = 0, .fd = dup(t.memfd) },
			{ .gpa = REGION1_GPA, .size = REGION_SIZE, .uva = 0x7f3000000000,
				.mmap_offset = REGION_SIZE, .fd = dup(t.memfd) },
		};
		char err[256];
		if (tessera_memory_table_set_table(&t.memory, descs, 2, err, sizeof(err)) != 0) {
			return "set_table failed";
		}
		for (size_t i = 0; i < MAX_RESOURCES; i++) {
			if (t.resources[i].used) {
				resource_resolve(&t.resources[i]);
			}
		}
		vmd_session_memory_changed(t.session);
		return NULL;
	} else if (strcmp(cmd, "resource-gone") == 0) {
		uint32_t id;
		if (!word_u32(&args, &id)) {
			return "usage: resource-gone RES";
		}
		struct fake_resource *r = find_resource(id);
		if (r == NULL) {
			return "no such resource";
		}
		vmd_session_resource_gone(t.session, id);
		resource_free(r);
		return NULL;
	} else if (strcmp(cmd, "host") == 0) {
		uint32_t id;
		struct fake_resource *r;
		if (!word_u32(&args, &id) || (r = find_resource(id)) == NULL) {
			return "usage: host RES";
		}
		r->host = true;
		r->res.host_storage = true;
		return NULL;
	} else if (strcmp(cmd, "fences") == 0) {
		char *what = next_word(&args);
		if (what == NULL || (strcmp(what, "hold") != 0 &&
				strcmp(what, "release") != 0)) {
			return "usage: fences hold|release";
		}
		t.fences_held = strcmp(what, "hold") == 0;
		if (!t.fences_held) {
			retire_fences();
		}
		return NULL;
	} else if (strcmp(cmd, "destroy-session") == 0) {
		session_destroy();
		return NULL;
	} else if (strcmp(cmd, "create-session") == 0) {
		if (t.session != NULL) {
			return "a session exists";
		}
		return session_create() ? NULL : "vmd_session_create failed";
	} else if (strcmp(cmd, "quit") == 0) {
		t.running = false;
		return NULL;
	}
	return "unknown command";
}

static int handle_ctl(int fd, uint32_t mask, void *data) {
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		return 0;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (t.line_len + 1 < sizeof(t.line)) {
				t.line[t.line_len++] = buf[i];
			}
			continue;
		}
		t.line[t.line_len] = '\0';
		t.line_len = 0;
		char copy[sizeof(t.line)];
		memcpy(copy, t.line, sizeof(copy));
		const char *err = command(t.line);
		if (err != NULL) {
			logf_("fail %s: %s", copy, err);
		} else {
			logf_("ok %s", copy);
		}
	}
	return 0;
}

static int handle_signal(int sig, void *data) {
	t.running = false;
	return 0;
}

static void handle_lost(void *data) {
	logf_("lost the compositor");
	t.running = false;
	t.exit_status = 1;
}

int main(int argc, char *argv[]) {
	tessera_log_init(TESSERA_DEBUG, NULL);
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--name") == 0) {
			t.name = argv[i + 1];
		}
	}
	const char *dir = getenv("TESSERA_TEST_DIR");
	if (t.name == NULL || dir == NULL) {
		fprintf(stderr, "vmd-session-test: needs --name and TESSERA_TEST_DIR\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.log", dir, t.name);
	t.log = fopen(path, "a");
	snprintf(path, sizeof(path), "%s/%s.ctl", dir, t.name);
	if (t.log == NULL) {
		return 2;
	}
	if (mkfifo(path, 0600) != 0 && errno != EEXIST) {
		logf_("fail mkfifo");
		return 2;
	}
	t.ctl_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t.ctl_fd < 0 || !memory_init()) {
		logf_("fail setup");
		return 2;
	}
	tessera_vm_settings_default(&t.limits);
	const char *max = getenv("VMD_SESSION_TEST_MAX_SURFACES");
	if (max != NULL) {
		t.limits.max_surfaces = (uint64_t)atoi(max);
	}

	t.loop = wl_event_loop_create();
	t.wayland = vmd_wayland_create(t.loop);
	if (t.wayland == NULL) {
		logf_("fail wayland");
		return 1;
	}
	t.wayland->lost = handle_lost;
	const char *shm = getenv("VMD_SESSION_TEST_SHM");
	if (shm != NULL && strcmp(shm, "1") == 0) {
		vmd_wayland_disable_guest_memory(t.wayland);
	}
	logf_("guest-memory %s", t.wayland->guest_memory != NULL ? "yes" : "no");
	if (!session_create()) {
		logf_("fail session");
		return 1;
	}
	struct wl_event_source *ctl = wl_event_loop_add_fd(t.loop, t.ctl_fd,
		WL_EVENT_READABLE, handle_ctl, NULL);
	struct wl_event_source *sigterm = wl_event_loop_add_signal(t.loop, SIGTERM,
		handle_signal, NULL);
	logf_("ready pid=%d", (int)getpid());

	t.running = true;
	while (t.running) {
		vmd_wayland_flush(t.wayland);
		if (wl_event_loop_dispatch(t.loop, -1) < 0 && errno != EINTR) {
			break;
		}
	}

	if (t.read_idle != NULL) {
		wl_event_source_remove(t.read_idle);
	}
	if (t.fence_idle != NULL) {
		wl_event_source_remove(t.fence_idle);
	}
	wl_event_source_remove(ctl);
	wl_event_source_remove(sigterm);
	vmd_session_destroy(t.session);
	vmd_wayland_destroy(t.wayland);
	wl_event_loop_destroy(t.loop);
	for (size_t i = 0; i < MAX_RESOURCES; i++) {
		if (t.resources[i].used) {
			resource_free(&t.resources[i]);
		}
	}
	tessera_memory_table_finish(&t.memory);
	close(t.memfd);
	close(t.ctl_fd);
	logf_("exit %d", t.exit_status);
	fclose(t.log);
	return t.exit_status;
}
