/*
 * libFuzzer target for tessera-vmd's virtio-gpu device as vmd runs it: the
 * control and cursor queue commands through gpu.c, resource.c and
 * console.c (resources, ATTACH_BACKING with its entries, transfers,
 * scanouts and flushes, contexts, cursors) and SUBMIT_3D with the wire
 * session behind it (server/vmd/session/), whose Wayland side talks to an
 * in-process stand-in compositor (fuzz-compositor.c).
 *
 * Everything runs in this thread on one wl_event_loop, as in tessera-vmd:
 * two devices (vmd_gpu_create) listening on vhost-user sockets in a
 * temporary directory, each with its own Wayland connection (one with
 * tessera_guest_memory_v1 and the default limits, one without, with small
 * limits, so buffers go through wl_shm). This file plays VMM and guest
 * driver: every input connects to one device, sends the vhost-user set-up
 * (guest RAM is a 512 KiB sealed memfd, mapped here too), then runs the
 * input's commands as descriptor chains on the rings, and finally
 * disconnects (the device resets). The devices and their Wayland
 * connections live as long as the process, as vmd's live across VMM
 * connections.
 *
 * Input: byte 0 picks the device (bit 0); then a script of operations
 * (integers little-endian):
 *   0x00-0x5f  CONTROL   command type (op % number of types, see below),
 *                        u8 flags, u16 length, that many bytes after the
 *                        24-byte header
 *   0x60-0x6f  CURSOR    u8 flags, 32 bytes after the header; op & 1:
 *                        MOVE_CURSOR, op & 2: cut short
 *   0x70-0x7f  POKE      u32 guest address, u16 length, bytes: the guest
 *                        writes its memory (event ring tails, pixels, ...;
 *                        into its virtqueue rings too: then what the
 *                        device completes and writes is no longer checked)
 *   0x80-0x9f  EVENT     the compositor sends an event
 *                        (fuzz_compositor_event)
 *   0xa0-0xa7  MEMORY    a new memory table: op & 3: the same, in two
 *                        regions, the first half only, the same
 *   0xa8-0xaf  KICK      publish held chains and kick both queues
 *   0xb0-0xb7  WAIT      let 2 ms pass (timers)
 *   0xb8-0xbf  RECONNECT the VMM reconnects (the device resets)
 *   0xc0       SUBMIT    u8 flags, u8 context, u16 length, wire batch
 *   0xc1       ATTACH    u8 flags, u8 resource, u8 count, count x
 *                        (u16 first page, u8 pages)
 *   0xc2       CREATE_2D u8 flags, u8 resource, u8 format, u16 width,
 *                        u16 height
 *   0xc3       CREATE_3D u8 flags, u8 resource, u32 width (a buffer)
 *   0xc4       CTX_CREATE u8 flags, u8 context
 *   0xc5       RING      u16 page of the backing area, u8 data size
 *                        (2^(14 + n % 7)): the guest formats an event ring
 *                        there (what EVENT_RING then names; over a ring
 *                        the device may still be writing, it is not
 *                        checked)
 *   0xc6       READ      the guest reads every event of that ring
 *   0xc7-0xff  as CONTROL
 * flags: bit 0 FENCE (fence ids count up), bit 1 INFO_RING_IDX, bit 2 do
 * not kick yet, bits 3-4 the response buffer (1152 bytes, 24, 8, none),
 * bit 5 the command split over two descriptors, bits 6-7 the context id.
 *
 * Checked besides the sanitizers (a violation traps): every chain is
 * completed once, with a used length that fits its response buffer and a
 * well-formed response (a known type, the fence echoed, display info and
 * EDID of the right size and sane); every event vmd writes into the
 * guest's ring decodes (unless the guest wrote into its ring, or formatted
 * it where the device may still be writing an earlier one); the device
 * writes guest memory only in the used rings, in response buffers and in
 * the backing the guest attached (a copy of guest RAM is compared after
 * every step); the Wayland connection never breaks (libwayland accepts
 * every request vmd sends); and when the VMM goes, everything of the guest
 * goes: no resource, context, held fence, backing or mapping is left and
 * the compositor holds as many of vmd's objects as before the input.
 *
 * Built with clang -fsanitize=fuzzer by run-fuzz.sh, and with the project
 * compiler together with fuzz-main.c to replay the committed corpus.
 * FUZZ_VMD_GPU_LOG=1 shows vmd's log.
 */
#define _GNU_SOURCE /* memfd_create, F_ADD_SEALS, mkdtemp */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/virtio_config.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "fuzz-compositor.h"
#include "fuzz-target.h"
#include "gpu.h"
#include "log.h"
#include "memory-table.h"
#include "tessera-wire.h"
#include "vhost-user-proto.h"
#include "vm-settings.h"
#include "wayland.h"

#define BIT(n) (UINT64_C(1) << (n))
#define PAGE 4096
#define RAM_SIZE 0x80000
#define UVA_BASE UINT64_C(0x7f0000000000) /* the "VMM's" addresses */
/* guest RAM layout (guest-physical = offset in the memfd) */
#define CTRL 0
#define CURSOR 1
#define QUEUE_SIZE(q) ((q) == CTRL ? 64u : 16u)
#define DESC(q) ((q) == CTRL ? 0x0000u : 0x0800u)
#define AVAIL(q) ((q) == CTRL ? 0x0400u : 0x0900u)
#define USED(q) ((q) == CTRL ? 0x0500u : 0x0a00u)
#define USED_SIZE(q) (4u + 8u * QUEUE_SIZE(q) + 2u)
#define CMD_AREA 0x01000u /* commands, written round-robin */
#define CMD_AREA_SIZE 0x10000u
#define RESP_AREA 0x11000u /* one response slot per head */
#define RESP_SLOT 0x480u
#define BACKING_AREA 0x23000u /* the rest: what resources may use */
#define MAX_RANGES 4096 /* backing ranges remembered */

enum { F_FENCE = 1, F_RING_IDX = 2, F_HOLD = 4, F_SPLIT = 0x20 };
static const uint32_t resp_sizes[] = { RESP_SLOT, 24, 8, 0 };

static const uint32_t control_types[] = {
	VIRTIO_GPU_CMD_GET_DISPLAY_INFO, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	VIRTIO_GPU_CMD_RESOURCE_UNREF, VIRTIO_GPU_CMD_SET_SCANOUT,
	VIRTIO_GPU_CMD_RESOURCE_FLUSH, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	VIRTIO_GPU_CMD_GET_CAPSET_INFO, VIRTIO_GPU_CMD_GET_CAPSET,
	VIRTIO_GPU_CMD_GET_EDID, VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, VIRTIO_GPU_CMD_CTX_CREATE,
	VIRTIO_GPU_CMD_CTX_DESTROY, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
	VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
	VIRTIO_GPU_CMD_SUBMIT_3D, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0x0042,
};
#define N_CONTROL_TYPES (sizeof(control_types) / sizeof(control_types[0]))

/* One device with its Wayland connection: made once. */
struct vmd {
	struct vmd_wayland *wayland;
	struct vmd_gpu *gpu;
	struct wl_client *client; /* its connection, compositor side */
	size_t objects; /* what it holds on the compositor between guests */
	char path[108];
};

/* A chain the device has not completed yet. */
struct chain {
	bool busy;
	bool reaped; /* completed in this step: its response was written */
	uint32_t queue;
	uint16_t head;
	uint16_t ndesc;
	uint16_t desc[3];
	uint32_t type;
	bool fenced;
	uint64_t fence_id;
	uint32_t resp_gpa, resp_size;
	/* ATTACH_BACKING: the entries to remember if it succeeds; DETACH,
	 * UNREF: the resource */
	uint32_t resource;
	uint32_t entries_gpa, nentries;
};

/* The backing the guest attached, as far as the harness knows: where
 * the device may write (event rings, keymap areas). */
struct range {
	uint32_t resource;
	uint64_t gpa, len;
};

static struct {
	struct wl_event_loop *loop;
	struct fuzz_compositor *comp;
	struct vmd vmds[2];
	char dir[64];
	int ram_fd;
	uint8_t *ram;
	uint8_t *shadow; /* what guest RAM should hold (mapped: LSan skips it) */
	/* pages of shadow written since the last clear (then guest RAM, equal
	 * to it after every check, is zero on the others too) */
	bool dirty[RAM_SIZE / PAGE];
	int kick[2], call[2];
} g;

/* per input */
static struct {
	struct vmd *vmd;
	int sock;
	uint16_t avail_idx[2], used_idx[2];
	bool desc_busy[2][64];
	struct chain chains[2][64]; /* by head */
	uint32_t cmd_pos;
	uint64_t fence;
	bool pending_kick[2];
	struct range ranges[MAX_RANGES];
	size_t nranges;
	bool ranges_overflow; /* then any write to the backing area is allowed */
	uint32_t forget[64]; /* resources whose backing goes after this step */
	size_t nforget;
	/* the event ring the guest formatted (RING) */
	struct tessera_wire_ring_reader reader;
	uint32_t ring_gpa, ring_size; /* size 0: none */
	bool ring_scribbled; /* the guest wrote into it since */
	/* pages where the device may be writing an event ring since the VMM
	 * connected: rings the guest formatted, and from any ring magic the
	 * guest wrote on (see op_ring) */
	bool ring_pages[RAM_SIZE / PAGE];
	/* the guest wrote into its virtqueue rings (descriptors, avail, used) */
	bool rings_scribbled;
} f;

/* ---- guest RAM ---- */

/* Notes that [gpa, gpa + len) of the shadow (and guest RAM) is written. */
static void mark_dirty(uint32_t gpa, size_t len) {
	if (len > 0) {
		memset(g.dirty + gpa / PAGE, 1, (gpa + len - 1) / PAGE - gpa / PAGE + 1);
	}
}

/* Zeroes guest RAM and the shadow for the next input: only the pages
 * written since the last time (elsewhere both are zero already). */
static void clear_ram(void) {
	for (uint32_t p = 0; p < RAM_SIZE / PAGE; p++) {
		if (g.dirty[p]) {
			memset(g.ram + p * PAGE, 0, PAGE);
			memset(g.shadow + p * PAGE, 0, PAGE);
			g.dirty[p] = false;
		}
	}
}

static void put_le(uint32_t gpa, uint64_t v, size_t width) {
	mark_dirty(gpa, width);
	for (size_t i = 0; i < width; i++) {
		g.ram[gpa + i] = g.shadow[gpa + i] = (uint8_t)(v >> (8 * i));
	}
}

static uint64_t get_le(uint32_t gpa, size_t width) {
	uint64_t v = 0;
	for (size_t i = 0; i < width; i++) {
		v |= (uint64_t)g.ram[gpa + i] << (8 * i);
	}
	return v;
}

static void guest_write(uint32_t gpa, const void *data, size_t len) {
	CHECK(gpa <= RAM_SIZE && len <= RAM_SIZE - gpa);
	mark_dirty(gpa, len);
	memcpy(g.ram + gpa, data, len);
	memcpy(g.shadow + gpa, data, len);
}

/* If pos is inside [start, start + len): the end of that, else 0. */
static uint64_t inside(uint64_t pos, uint64_t start, uint64_t len) {
	return pos >= start && pos - start < len ? start + len : 0;
}

/* Where the device may have written since the last check: if pos is in
 * such a place, where that place ends (> pos), else 0. */
static uint64_t allowed_until(uint32_t pos) {
	uint64_t end;
	for (uint32_t q = 0; q < 2; q++) {
		if ((end = inside(pos, USED(q), USED_SIZE(q))) != 0) {
			return end;
		}
		for (uint32_t h = 0; h < QUEUE_SIZE(q); h++) {
			const struct chain *c = &f.chains[q][h];
			if ((c->busy || c->reaped) &&
					(end = inside(pos, c->resp_gpa, c->resp_size)) != 0) {
				return end;
			}
		}
	}
	if (f.ranges_overflow && pos >= BACKING_AREA) {
		return RAM_SIZE;
	}
	for (size_t i = 0; i < f.nranges; i++) {
		if ((end = inside(pos, f.ranges[i].gpa, f.ranges[i].len)) != 0) {
			return end;
		}
	}
	return 0;
}

/* The first byte in [from, end) where guest RAM is not as the guest left
 * it, or end. (Not memcmp, which would feed every comparison to the
 * fuzzer.) Runs after every step over all of guest RAM: 64 bytes a round,
 * in as few instructions as the compiler makes of it. */
FUZZ_UNINSTRUMENTED static uint32_t next_change(uint32_t from, uint32_t end) {
	while (from < end && from % 64 != 0 && g.ram[from] == g.shadow[from]) {
		from++;
	}
	typedef uint64_t block __attribute__((vector_size(32)));
	while (from + 64 <= end) {
		/* both page-aligned mappings */
		const block *a = (const block *)(const void *)(g.ram + from);
		const block *b = (const block *)(const void *)(g.shadow + from);
		block d = (a[0] ^ b[0]) | (a[1] ^ b[1]);
		if ((d[0] | d[1] | d[2] | d[3]) != 0) {
			break;
		}
		from += 64;
	}
	while (from < end && g.ram[from] == g.shadow[from]) {
		from++;
	}
	return from;
}

static void check_writes(void) {
	uint32_t i = next_change(0, RAM_SIZE);
	while (i < RAM_SIZE) {
		/* descriptors the guest wrote itself may point anywhere */
		uint64_t end = f.rings_scribbled ? RAM_SIZE : allowed_until(i);
		CHECK(end > i);
		if (end > RAM_SIZE) {
			end = RAM_SIZE;
		}
		mark_dirty(i, end - i);
		memcpy(g.shadow + i, g.ram + i, end - i);
		i = next_change((uint32_t)end, RAM_SIZE);
	}
	for (uint32_t q = 0; q < 2; q++) {
		for (uint32_t h = 0; h < QUEUE_SIZE(q); h++) {
			f.chains[q][h].reaped = false;
		}
	}
	/* backing detached in this step: no longer writable */
	for (size_t k = 0; k < f.nforget; k++) {
		for (size_t r = 0; r < f.nranges;) {
			if (f.ranges[r].resource == f.forget[k]) {
				f.ranges[r] = f.ranges[--f.nranges];
			} else {
				r++;
			}
		}
	}
	f.nforget = 0;
}

/* ---- vhost-user ---- */

static void send_msg(uint32_t request, const void *payload, uint32_t size,
		const int *fds, size_t nfds) {
	struct tessera_vhost_user_header h = {
		.request = request, .flags = TESSERA_VHOST_USER_VERSION, .size = size,
	};
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = size },
	};
	CHECK(fuzz_sendmsg(f.sock, iov, 2, fds, nfds, MSG_NOSIGNAL) ==
		(ssize_t)(sizeof(h) + size));
}

static void send_u64(uint32_t request, uint64_t v, const int *fds, size_t nfds) {
	send_msg(request, &v, sizeof(v), fds, nfds);
}

static void send_state(uint32_t request, uint32_t index, uint32_t num) {
	struct tessera_vhost_user_vring_state s = { .index = index, .num = num };
	send_msg(request, &s, sizeof(s), NULL, 0);
}

/* variant: 0 one region, 1 two regions, 2 the first half only */
static void send_mem_table(int variant) {
	struct tessera_vhost_user_memory m = { .nregions = 1 };
	int fds[2] = { g.ram_fd, g.ram_fd };
	m.regions[0] = (struct tessera_vhost_user_memory_region){
		.guest_addr = 0, .size = RAM_SIZE, .user_addr = UVA_BASE,
	};
	if (variant == 1) {
		m.nregions = 2;
		m.regions[0].size = RAM_SIZE / 2;
		m.regions[1] = (struct tessera_vhost_user_memory_region){
			.guest_addr = RAM_SIZE / 2, .size = RAM_SIZE / 2,
			.user_addr = UVA_BASE + RAM_SIZE / 2, .mmap_offset = RAM_SIZE / 2,
		};
	} else if (variant == 2) {
		m.regions[0].size = RAM_SIZE / 2;
	}
	send_msg(TESSERA_VHOST_USER_SET_MEM_TABLE, &m,
		TESSERA_VHOST_USER_MEMORY_HEADER_SIZE + 32 * m.nregions, fds, m.nregions);
}

/* Lets the device, vmd's Wayland side and the compositor run until all is
 * handled (a few rounds: everything is in this process). */
static void pump(int timeout_ms) {
	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < 2; i++) {
			vmd_wayland_flush(g.vmds[i].wayland); /* accepts NULL */
		}
		FUZZ_DISPATCH(g.loop, round == 0 ? timeout_ms : 0);
		fuzz_compositor_dispatch(g.comp);
	}
	for (size_t i = 0; i < 2; i++) {
		CHECK(g.vmds[i].wayland == NULL || !g.vmds[i].wayland->broken);
	}
}

static void connect_vmm(void) {
	f.sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(f.sock >= 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", f.vmd->path);
	CHECK(connect(f.sock, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	pump(0); /* accepted */

	/* the rings start empty */
	for (uint32_t q = 0; q < 2; q++) {
		uint8_t zero[0x400] = { 0 };
		guest_write(AVAIL(q), zero, 6 + 2 * QUEUE_SIZE(q));
		guest_write(USED(q), zero, USED_SIZE(q));
		f.avail_idx[q] = f.used_idx[q] = 0;
	}
	f.rings_scribbled = false;
	/* the device reset ended every session, and their rings with them */
	memset(f.ring_pages, 0, sizeof(f.ring_pages));
	send_msg(TESSERA_VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
	send_u64(TESSERA_VHOST_USER_SET_FEATURES, BIT(VIRTIO_F_VERSION_1) |
		BIT(VIRTIO_GPU_F_VIRGL) | BIT(VIRTIO_GPU_F_EDID), NULL, 0);
	send_mem_table(0);
	for (uint32_t q = 0; q < 2; q++) {
		send_state(TESSERA_VHOST_USER_SET_VRING_NUM, q, QUEUE_SIZE(q));
		send_state(TESSERA_VHOST_USER_SET_VRING_BASE, q, 0);
		struct tessera_vhost_user_vring_addr a = {
			.index = q, .desc = UVA_BASE + DESC(q),
			.used = UVA_BASE + USED(q), .avail = UVA_BASE + AVAIL(q),
		};
		send_msg(TESSERA_VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
		send_u64(TESSERA_VHOST_USER_SET_VRING_KICK, q, &g.kick[q], 1);
		send_u64(TESSERA_VHOST_USER_SET_VRING_CALL, q, &g.call[q], 1);
	}
	pump(0);
}

/* ---- the rings ---- */

/* The entries of an ATTACH_BACKING that succeeded (or may have): the
 * device may write there now. */
static void note_backing(const struct chain *c) {
	for (uint32_t i = 0; i < c->nentries; i++) {
		struct virtio_gpu_mem_entry e;
		memcpy(&e, g.shadow + c->entries_gpa + i * sizeof(e), sizeof(e));
		if (f.nranges == MAX_RANGES) {
			f.ranges_overflow = true;
			return;
		}
		f.ranges[f.nranges++] = (struct range){
			.resource = c->resource, .gpa = e.addr, .len = e.length,
		};
	}
}

static void complete(uint32_t q, uint16_t head, uint32_t len) {
	CHECK(head < QUEUE_SIZE(q));
	struct chain *c = &f.chains[q][head];
	CHECK(c->busy); /* completed once */
	CHECK(len <= c->resp_size);
	if (q == CURSOR) {
		CHECK(len == 0);
	} else if (len >= sizeof(struct virtio_gpu_ctrl_hdr)) {
		struct virtio_gpu_ctrl_hdr h;
		memcpy(&h, g.ram + c->resp_gpa, sizeof(h));
		CHECK(h.type == VIRTIO_GPU_RESP_OK_NODATA ||
			h.type == VIRTIO_GPU_RESP_OK_DISPLAY_INFO ||
			h.type == VIRTIO_GPU_RESP_OK_EDID ||
			h.type == VIRTIO_GPU_RESP_OK_CAPSET_INFO ||
			h.type == VIRTIO_GPU_RESP_OK_CAPSET ||
			(h.type >= VIRTIO_GPU_RESP_ERR_UNSPEC &&
			 h.type <= VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER));
		CHECK(((h.flags & VIRTIO_GPU_FLAG_FENCE) != 0) == c->fenced);
		CHECK(!c->fenced || h.fence_id == c->fence_id);
		if (h.type == VIRTIO_GPU_RESP_OK_DISPLAY_INFO) {
			struct virtio_gpu_resp_display_info info;
			CHECK(c->type == VIRTIO_GPU_CMD_GET_DISPLAY_INFO && len == sizeof(info));
			memcpy(&info, g.ram + c->resp_gpa, sizeof(info));
			CHECK(info.pmodes[0].enabled == 1);
			CHECK(info.pmodes[0].r.width >= 1 &&
				info.pmodes[0].r.width <= VMD_GPU_MAX_DISPLAY_SIZE);
			CHECK(info.pmodes[0].r.height >= 1 &&
				info.pmodes[0].r.height <= VMD_GPU_MAX_DISPLAY_SIZE);
		} else if (h.type == VIRTIO_GPU_RESP_OK_EDID) {
			struct virtio_gpu_resp_edid edid;
			CHECK(c->type == VIRTIO_GPU_CMD_GET_EDID && len == sizeof(edid));
			memcpy(&edid, g.ram + c->resp_gpa, sizeof(edid));
			CHECK(edid.size >= 128 && edid.size <= sizeof(edid.edid) &&
				edid.size % 128 == 0);
		} else if (h.type == VIRTIO_GPU_RESP_OK_CAPSET_INFO) {
			/* virglrenderer's capsets (FUZZ_VMD_GPU_VIRGL=1) */
			struct virtio_gpu_resp_capset_info info;
			CHECK(c->type == VIRTIO_GPU_CMD_GET_CAPSET_INFO && len == sizeof(info));
			memcpy(&info, g.ram + c->resp_gpa, sizeof(info));
			CHECK(info.capset_id == VIRTIO_GPU_CAPSET_VIRGL ||
				info.capset_id == VIRTIO_GPU_CAPSET_VIRGL2);
			CHECK(info.capset_max_size > 0 && info.capset_max_size <= 8192);
		} else if (h.type == VIRTIO_GPU_RESP_OK_CAPSET) {
			CHECK(c->type == VIRTIO_GPU_CMD_GET_CAPSET && len > sizeof(h));
		} else if (h.type == VIRTIO_GPU_RESP_OK_NODATA) {
			CHECK(len == sizeof(h));
			if (c->type == VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING) {
				note_backing(c);
			} else if ((c->type == VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING ||
					c->type == VIRTIO_GPU_CMD_RESOURCE_UNREF) &&
					f.nforget < sizeof(f.forget) / sizeof(f.forget[0])) {
				f.forget[f.nforget++] = c->resource;
			}
		}
	} else {
		/* a response is cut short only by a short buffer */
		CHECK(len == c->resp_size);
		if (c->type == VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING) {
			note_backing(c); /* it may have succeeded */
		}
	}
	for (uint16_t i = 0; i < c->ndesc; i++) {
		f.desc_busy[q][c->desc[i]] = false;
	}
	c->busy = false;
	c->reaped = true;
}

/* After the guest wrote into its rings, what the device does with them is
 * not checked: chains are only forgotten as they come back. */
static void reap_scribbled(uint32_t q, uint16_t idx) {
	for (uint32_t n = 0; n < QUEUE_SIZE(q) && f.used_idx[q] != idx; n++) {
		uint32_t e = USED(q) + 4 + 8 * (f.used_idx[q] % QUEUE_SIZE(q));
		uint32_t head = (uint32_t)get_le(e, 4);
		if (head < QUEUE_SIZE(q) && f.chains[q][head].busy) {
			struct chain *c = &f.chains[q][head];
			for (uint16_t i = 0; i < c->ndesc; i++) {
				f.desc_busy[q][c->desc[i]] = false;
			}
			c->busy = false;
		}
		f.used_idx[q]++;
	}
	f.used_idx[q] = idx;
}

static void reap(void) {
	for (uint32_t q = 0; q < 2; q++) {
		uint16_t idx = (uint16_t)get_le(USED(q) + 2, 2);
		if (f.rings_scribbled) {
			reap_scribbled(q, idx);
			continue;
		}
		CHECK((uint16_t)(idx - f.used_idx[q]) <= QUEUE_SIZE(q));
		while (f.used_idx[q] != idx) {
			uint32_t e = USED(q) + 4 + 8 * (f.used_idx[q] % QUEUE_SIZE(q));
			complete(q, (uint16_t)get_le(e, 4), (uint32_t)get_le(e + 4, 4));
			f.used_idx[q]++;
		}
	}
}

static void kick(uint32_t q) {
	uint64_t one = 1;
	CHECK(write(g.kick[q], &one, sizeof(one)) == sizeof(one));
	f.pending_kick[q] = false;
}

/* After a step: the device's turn, then what it did is checked. */
static void settle(int timeout_ms) {
	pump(timeout_ms);
	reap();
	check_writes();
}

static int alloc_desc(uint32_t q) {
	for (uint16_t i = 0; i < QUEUE_SIZE(q); i++) {
		if (!f.desc_busy[q][i]) {
			f.desc_busy[q][i] = true;
			return i;
		}
	}
	return -1;
}

static void put_desc(uint32_t q, uint16_t i, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next) {
	uint32_t d = DESC(q) + 16u * i;
	put_le(d, addr, 8);
	put_le(d + 8, len, 4);
	put_le(d + 12, flags, 2);
	put_le(d + 14, next, 2);
}

/*
 * Puts a command (header + body) on a queue as a chain: the readable part
 * (split in two descriptors if asked), then the response buffer.
 * Returns the chain, or NULL if the queue is full.
 */
static struct chain *submit(uint32_t q, const struct virtio_gpu_ctrl_hdr *hdr,
		const uint8_t *body, size_t body_len, uint8_t flags) {
	size_t len = sizeof(*hdr) + body_len;
	if (len > CMD_AREA_SIZE / 2) {
		return NULL;
	}
	uint32_t resp_size = q == CURSOR ? 0 : resp_sizes[(flags >> 3) & 3];
	bool split = (flags & F_SPLIT) && len >= 2;
	uint16_t ndesc = (uint16_t)(1 + split + (resp_size > 0));
	int desc[3];
	for (uint16_t i = 0; i < ndesc; i++) {
		desc[i] = alloc_desc(q);
		if (desc[i] < 0) {
			for (uint16_t k = 0; k < i; k++) {
				f.desc_busy[q][desc[k]] = false;
			}
			return NULL;
		}
	}
	uint16_t head = (uint16_t)desc[0];
	struct chain *c = &f.chains[q][head];
	CHECK(!c->busy);
	*c = (struct chain){
		.busy = true, .queue = q, .head = head, .ndesc = ndesc,
		.type = hdr->type, .fenced = hdr->flags & VIRTIO_GPU_FLAG_FENCE,
		.fence_id = hdr->fence_id, .resp_size = resp_size,
		.resp_gpa = RESP_AREA + (uint32_t)head * RESP_SLOT,
	};
	for (uint16_t i = 0; i < ndesc; i++) {
		c->desc[i] = (uint16_t)desc[i];
	}

	if (f.cmd_pos + len > CMD_AREA_SIZE) {
		f.cmd_pos = 0;
	}
	uint32_t gpa = CMD_AREA + f.cmd_pos;
	f.cmd_pos += (uint32_t)(len + 7) & ~7u;
	guest_write(gpa, hdr, sizeof(*hdr));
	guest_write(gpa + (uint32_t)sizeof(*hdr), body, body_len);
	c->entries_gpa = gpa + (uint32_t)sizeof(struct virtio_gpu_resource_attach_backing);

	uint32_t first = split ? (uint32_t)len / 2 : (uint32_t)len;
	uint16_t d = 0;
	put_desc(q, c->desc[d], gpa, first, ndesc > 1 ? VRING_DESC_F_NEXT : 0,
		ndesc > 1 ? c->desc[1] : 0);
	d++;
	if (split) {
		put_desc(q, c->desc[d], gpa + first, (uint32_t)len - first,
			resp_size > 0 ? VRING_DESC_F_NEXT : 0, resp_size > 0 ? c->desc[2] : 0);
		d++;
	}
	if (resp_size > 0) {
		put_desc(q, c->desc[d], c->resp_gpa, resp_size, VRING_DESC_F_WRITE, 0);
	}
	put_le(AVAIL(q) + 4 + 2 * (f.avail_idx[q] % QUEUE_SIZE(q)), head, 2);
	f.avail_idx[q]++;
	put_le(AVAIL(q) + 2, f.avail_idx[q], 2);
	f.pending_kick[q] = true;
	if (!(flags & F_HOLD)) {
		kick(q);
		settle(0);
	}
	return c;
}

static struct virtio_gpu_ctrl_hdr header(uint32_t type, uint8_t flags) {
	struct virtio_gpu_ctrl_hdr h = { .type = type, .ctx_id = flags >> 6 };
	if (flags & F_FENCE) {
		h.flags |= VIRTIO_GPU_FLAG_FENCE;
		h.fence_id = ++f.fence;
	}
	if (flags & F_RING_IDX) {
		h.flags |= VIRTIO_GPU_FLAG_INFO_RING_IDX;
		h.ring_idx = (uint8_t)(f.fence & 0xff);
	}
	return h;
}

/* Remembers which resource an ATTACH/DETACH/UNREF names. */
static void note_resource(struct chain *c, const uint8_t *body, size_t len) {
	if (c == NULL || len < 4) {
		return;
	}
	memcpy(&c->resource, body, 4);
	if (c->type == VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING && len >= 8) {
		uint32_t n;
		memcpy(&n, body + 4, 4);
		size_t room = (len - 8) / sizeof(struct virtio_gpu_mem_entry);
		c->nentries = n < room ? n : (uint32_t)room;
	}
}

/* ---- operations ---- */

static void control(uint32_t type, uint8_t flags, const uint8_t *body, size_t len) {
	struct virtio_gpu_ctrl_hdr h = header(type, flags);
	submit(CTRL, &h, body, len, flags);
}

static void op_control(struct fuzz_input *in, uint8_t op) {
	uint32_t type = control_types[op % N_CONTROL_TYPES];
	uint8_t flags = fuzz_get8(in);
	size_t len;
	const uint8_t *body = fuzz_get_bytes(in, fuzz_get16(in), &len);
	struct virtio_gpu_ctrl_hdr h = header(type, flags);
	/* the resource is noted before the device can complete the chain */
	struct chain *c = submit(CTRL, &h, body, len, flags | F_HOLD);
	note_resource(c, body, len);
	if (c != NULL && !(flags & F_HOLD)) {
		kick(CTRL);
		settle(0);
	}
}

static void op_cursor(struct fuzz_input *in, uint8_t op) {
	uint8_t flags = fuzz_get8(in);
	size_t len;
	const uint8_t *body = fuzz_get_bytes(in, 32, &len);
	struct virtio_gpu_ctrl_hdr h = header((op & 1) ? VIRTIO_GPU_CMD_MOVE_CURSOR :
		VIRTIO_GPU_CMD_UPDATE_CURSOR, flags);
	submit(CURSOR, &h, body, (op & 2) ? len / 2 : len, flags);
}

static void op_poke(struct fuzz_input *in) {
	uint32_t gpa = fuzz_get32(in) % RAM_SIZE;
	size_t len;
	const uint8_t *p = fuzz_get_bytes(in, fuzz_get16(in), &len);
	if (len > RAM_SIZE - gpa) {
		len = RAM_SIZE - gpa;
	}
	guest_write(gpa, p, len);
	if (gpa < CMD_AREA) {
		f.rings_scribbled = true;
	}
	if (f.ring_size > 0 && gpa < f.ring_gpa + f.ring_size &&
			f.ring_gpa < gpa + len) {
		f.ring_scribbled = true;
	}
	/* a ring header the guest made itself, which EVENT_RING may name: its
	 * data_size may reach the end of RAM (headers are 8-byte aligned,
	 * as vmd maps guest pages in place) */
	for (uint32_t m = gpa & ~7u; m < gpa + len && m + 4 <= RAM_SIZE; m += 8) {
		if (get_le(m, 4) == TESSERA_WIRE_RING_MAGIC) {
			memset(f.ring_pages + m / PAGE, 1, RAM_SIZE / PAGE - m / PAGE);
			break;
		}
	}
}

static void op_ring(struct fuzz_input *in) {
	uint32_t gpa = BACKING_AREA + fuzz_get16(in) % ((RAM_SIZE - BACKING_AREA) / PAGE) * PAGE;
	uint32_t size = TESSERA_WIRE_RING_HEADER_SIZE + (UINT32_C(1) << (14 + fuzz_get8(in) % 7));
	if (size > RAM_SIZE - gpa) {
		return;
	}
	CHECK(tessera_wire_ring_format(g.ram + gpa, size));
	mark_dirty(gpa, size);
	memcpy(g.shadow + gpa, g.ram + gpa, size);
	CHECK(tessera_wire_ring_reader_init(&f.reader, g.ram + gpa, size));
	f.ring_gpa = gpa;
	f.ring_size = size;
	/*
	 * A ring the device took (EVENT_RING) stays its own until the session
	 * ends, and the device writes it from its own copy of head (PROTOCOL.md
	 * §8.2, §8.5): formatting it again zeroes head and the records under
	 * it, and the next events land after the old head, not at 0 where
	 * this reader starts. The guest's fault, like a POKE into the ring:
	 * over memory an earlier ring of this connection may cover, the new
	 * ring is not checked (the harness does not know whether that
	 * session ended).
	 */
	f.ring_scribbled = false;
	for (uint32_t p = gpa / PAGE; p < (gpa + size + PAGE - 1) / PAGE; p++) {
		f.ring_scribbled |= f.ring_pages[p];
		f.ring_pages[p] = true;
	}
}

/* What the agent does when its WAIT completed: read every event. */
static void op_read(void) {
	if (f.ring_size == 0) {
		return;
	}
	struct tessera_wire_msg msg;
	while (tessera_wire_ring_reader_next(&f.reader, &msg)) {
		CHECK(tessera_wire_type_name(msg.type) != NULL);
	}
	/* vmd writes only events the guest can read */
	CHECK(f.ring_scribbled || f.reader.error.code == TESSERA_WIRE_ERROR_NONE);
	/* the reader published its tail: a guest write */
	uint32_t tail = f.ring_gpa + TESSERA_WIRE_RING_OFF_TAIL;
	mark_dirty(tail, 4);
	memcpy(g.shadow + tail, g.ram + tail, 4);
}

static void op_submit(struct fuzz_input *in) {
	uint8_t flags = fuzz_get8(in);
	uint8_t ctx = fuzz_get8(in);
	size_t len;
	const uint8_t *payload = fuzz_get_bytes(in, fuzz_get16(in), &len);
	static uint8_t body[8 + CMD_AREA_SIZE / 2];
	if (len > CMD_AREA_SIZE / 2) {
		len = CMD_AREA_SIZE / 2;
	}
	uint32_t size = (uint32_t)len;
	memcpy(body, &size, 4);
	memset(body + 4, 0, 4);
	memcpy(body + 8, payload, len);
	struct virtio_gpu_ctrl_hdr h = header(VIRTIO_GPU_CMD_SUBMIT_3D, flags);
	h.ctx_id = ctx;
	submit(CTRL, &h, body, 8 + len, flags);
}

static void op_attach(struct fuzz_input *in) {
	uint8_t flags = fuzz_get8(in);
	uint32_t resource = fuzz_get8(in);
	uint32_t n = fuzz_get8(in);
	static uint8_t body[8 + 256 * sizeof(struct virtio_gpu_mem_entry)];
	memcpy(body, &resource, 4);
	memcpy(body + 4, &n, 4);
	for (uint32_t i = 0; i < n; i++) {
		struct virtio_gpu_mem_entry e = {
			.addr = BACKING_AREA + (uint64_t)fuzz_get16(in) * PAGE % (RAM_SIZE - BACKING_AREA),
			.length = fuzz_get8(in) * PAGE,
		};
		memcpy(body + 8 + i * sizeof(e), &e, sizeof(e));
	}
	struct virtio_gpu_ctrl_hdr h = header(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, flags);
	size_t len = 8 + n * sizeof(struct virtio_gpu_mem_entry);
	struct chain *c = submit(CTRL, &h, body, len, flags | F_HOLD);
	note_resource(c, body, len);
	if (c != NULL && !(flags & F_HOLD)) {
		kick(CTRL);
		settle(0);
	}
}

static void op_create_2d(struct fuzz_input *in) {
	static const uint32_t formats[] = {
		VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
		VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM,
		VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, 64 /* R8 */, 0, 1000,
	};
	uint8_t flags = fuzz_get8(in);
	struct virtio_gpu_resource_create_2d cmd = {
		.resource_id = fuzz_get8(in),
		.format = formats[fuzz_get8(in) % 8],
	};
	cmd.width = fuzz_get16(in);
	cmd.height = fuzz_get16(in);
	control(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, flags,
		(const uint8_t *)&cmd + sizeof(cmd.hdr), sizeof(cmd) - sizeof(cmd.hdr));
}

static void op_create_3d(struct fuzz_input *in) {
	uint8_t flags = fuzz_get8(in);
	struct virtio_gpu_resource_create_3d cmd = {
		.resource_id = fuzz_get8(in),
		.target = 0, /* PIPE_BUFFER */
		.format = 64, /* R8 */
		.bind = 1 << 16, /* PIPE_BIND_CUSTOM */
		.height = 1, .depth = 1, .array_size = 1,
	};
	cmd.width = fuzz_get32(in);
	control(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, flags,
		(const uint8_t *)&cmd + sizeof(cmd.hdr), sizeof(cmd) - sizeof(cmd.hdr));
}

static void op_ctx_create(struct fuzz_input *in) {
	uint8_t flags = fuzz_get8(in);
	struct virtio_gpu_ctx_create cmd = { .nlen = 4 };
	memcpy(cmd.debug_name, "fuzz", 4);
	struct virtio_gpu_ctrl_hdr h = header(VIRTIO_GPU_CMD_CTX_CREATE, flags);
	h.ctx_id = fuzz_get8(in);
	submit(CTRL, &h, (const uint8_t *)&cmd + sizeof(cmd.hdr),
		sizeof(cmd) - sizeof(cmd.hdr), flags);
}

static void disconnect_vmm(void) {
	close(f.sock);
	f.sock = -1;
	pump(0);
	/* what the device wrote before it saw the VMM go (a response held
	 * behind a virgl fence that retired meanwhile) went where the chains
	 * still outstanding allowed it */
	check_writes();
	/* the reset completed nothing: forget what was outstanding */
	memset(f.chains, 0, sizeof(f.chains));
	memset(f.desc_busy, 0, sizeof(f.desc_busy));
	f.nranges = 0;
	f.nforget = 0;
	f.ranges_overflow = false;
	check_writes();

	/* everything of the guest is gone */
	struct vmd_gpu_stats s;
	vmd_gpu_get_stats(f.vmd->gpu, &s);
	CHECK(s.resources == 0 && s.contexts == 0 && s.held_now == 0);
	CHECK(s.backing_bytes == 0 && s.backing_entries == 0);
	CHECK(s.mapped_bytes == 0 && s.mapped_regions == 0);
	CHECK(fuzz_compositor_objects(g.comp, f.vmd->client) == f.vmd->objects);
}

/* ---- set-up ---- */

static void handle_lost(void *data) {
	CHECK(false); /* a guest broke vmd's compositor connection */
}

static void make_vmd(struct vmd *v, const char *name, bool guest_memory,
		const struct tessera_vm_settings *settings) {
	char fd[16];
	snprintf(fd, sizeof(fd), "%d", fuzz_compositor_connect(g.comp, guest_memory,
		&v->client));
	setenv("WAYLAND_SOCKET", fd, 1);
	fuzz_compositor_start_thread(g.comp);
	v->wayland = vmd_wayland_create(g.loop);
	fuzz_compositor_stop_thread(g.comp);
	CHECK(v->wayland != NULL);
	CHECK((v->wayland->guest_memory != NULL) == guest_memory);
	v->wayland->lost = handle_lost;
	struct vmd_gpu_options options = { .vm_name = name, .settings = *settings };
	v->gpu = vmd_gpu_create(g.loop, v->wayland, &options);
	CHECK(v->gpu != NULL);
	snprintf(v->path, sizeof(v->path), "%s/%s.sock", g.dir, name);
	CHECK(vmd_gpu_listen(v->gpu, v->path) == 0);
	pump(0);
	v->objects = fuzz_compositor_objects(g.comp, v->client);
}

static void teardown(void) {
	for (size_t i = 0; i < 2; i++) {
		vmd_gpu_destroy(g.vmds[i].gpu);
		vmd_wayland_destroy(g.vmds[i].wayland);
	}
	fuzz_compositor_destroy(g.comp);
	rmdir(g.dir);
}

static void init(void) {
	const char *log = getenv("FUZZ_VMD_GPU_LOG");
	tessera_log_init(log != NULL && log[0] == '1' ? TESSERA_DEBUG : TESSERA_SILENT,
		NULL);
	signal(SIGPIPE, SIG_IGN); /* as tessera-vmd does */
	g.ram_fd = memfd_create("fuzz-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK(g.ram_fd >= 0 && ftruncate(g.ram_fd, RAM_SIZE) == 0);
	CHECK(fcntl(g.ram_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
	g.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g.ram_fd, 0);
	CHECK(g.ram != MAP_FAILED);
	g.shadow = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(g.shadow != MAP_FAILED);
	for (size_t q = 0; q < 2; q++) {
		g.kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		g.call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		CHECK(g.kick[q] >= 0 && g.call[q] >= 0);
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(g.dir, sizeof(g.dir), "%s/fuzz-vmd-gpu.XXXXXX",
		tmp != NULL && strlen(tmp) < 32 ? tmp : "/tmp");
	CHECK(mkdtemp(g.dir) != NULL);

	g.loop = wl_event_loop_create();
	CHECK(g.loop != NULL);
	g.comp = fuzz_compositor_create();

	struct tessera_vm_settings settings;
	tessera_vm_settings_default(&settings);
	/* the device without virglrenderer (gpu = off): its path has a target
	 * of its own, fuzz-virgl.c; FUZZ_VMD_GPU_VIRGL=1: with it (auto; the
	 * test vmd-gpu-virgl-fuzz, seeds corpus/vmd-gpu-virgl) */
	const char *virgl = getenv("FUZZ_VMD_GPU_VIRGL");
	settings.gpu = virgl != NULL && virgl[0] == '1' ? 0 : 2;
	make_vmd(&g.vmds[0], "a", true, &settings);
	/* small limits, so that inputs reach them */
	settings.max_resources = 8;
	settings.max_resource_size = 1 << 20;
	settings.max_backing = 256 << 10;
	settings.max_backing_entries = 16;
	settings.max_total_entries = 64;
	settings.max_contexts = 2;
	settings.max_surfaces = 4;
	settings.max_buffers = 4;
	settings.max_buffer_bytes = 256 << 10;
	settings.max_batch_size = 4096;
	settings.display_size_width = 640;
	settings.display_size_height = 480;
	make_vmd(&g.vmds[1], "b", false, &settings);
	atexit(teardown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (g.loop == NULL) {
		init();
	}
	struct fuzz_input in = { .data = data, .size = size };
	memset(&f, 0, sizeof(f));
	/* guest RAM is as the last check left it (nothing writes it once the
	 * VMM is gone): then clearing what was written zeroes all of it */
	CHECK(next_change(0, RAM_SIZE) == RAM_SIZE);
	clear_ram();
	f.vmd = &g.vmds[fuzz_get8(&in) & 1];
	connect_vmm();

	while (in.pos < in.size) {
		uint8_t op = fuzz_get8(&in);
		if (op < 0x60) {
			op_control(&in, op);
		} else if (op < 0x70) {
			op_cursor(&in, op);
		} else if (op < 0x80) {
			op_poke(&in);
			settle(0);
		} else if (op < 0xa0) {
			fuzz_compositor_event(g.comp, f.vmd->client, &in);
			settle(0);
		} else if (op < 0xa8) {
			send_mem_table((op & 3) == 3 ? 0 : op & 3);
			settle(0);
		} else if (op < 0xb0) {
			for (uint32_t q = 0; q < 2; q++) {
				kick(q);
			}
			settle(0);
		} else if (op < 0xb8) {
			settle(2);
		} else if (op < 0xc0) {
			disconnect_vmm();
			connect_vmm();
		} else if (op == 0xc0) {
			op_submit(&in);
		} else if (op == 0xc1) {
			op_attach(&in);
		} else if (op == 0xc2) {
			op_create_2d(&in);
		} else if (op == 0xc3) {
			op_create_3d(&in);
		} else if (op == 0xc4) {
			op_ctx_create(&in);
		} else if (op == 0xc5) {
			op_ring(&in);
		} else if (op == 0xc6) {
			op_read();
			settle(0);
		} else {
			op_control(&in, op);
		}
	}
	for (uint32_t q = 0; q < 2; q++) {
		if (f.pending_kick[q]) {
			kick(q);
		}
	}
	settle(0);
	disconnect_vmm();
	return 0;
}
