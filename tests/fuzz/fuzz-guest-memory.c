/*
 * libFuzzer target for the compositor's tessera_guest_memory_v1
 * (server/compositor/guest-memory.c): a malicious VM daemon creates
 * regions, params, extent lists and buffers. The real request handlers run
 * on an in-process wl_display; the daemon is a libwayland client on a
 * socketpair, in the same thread (both sides are pumped until a
 * wl_display.sync comes back or the client got a protocol error).
 * tessera_vm_from_client() and tessera_vm_from_binding_client() (vm.c)
 * are replaced here: they name every client a VM, except after HOST.
 * A VM connection still alive at the end of an input destroys what it
 * made and serves the next input (one with the same byte 0), as a new
 * connection would: the compositor keeps nothing per connection but its
 * share of mappings, which byte 0 sets.
 *
 * Input: byte 0 picks the number of configured VMs (1..64, which sets the
 * client's share of mappings), then a script of operations, each an
 * opcode byte plus arguments (integers little-endian):
 *   0  REGION        u8 fd kind, u8 flags, u16 base page, u8 size pages,
 *                    u8 offset pages; flags 0x80/0x40/0x20: base, size,
 *                    offset as raw u64s instead (after the above)
 *   1  REGION_DESTROY u8 index
 *   2  PARAMS
 *   3  EXTENTS       u8 params index, u8 count, count x (u8 flags,
 *                    u16 gpa page, u8 length pages; flags & 1: u16 more
 *                    bytes; flags & 0x80: raw u64 gpa and length instead)
 *   4  MANY_EXTENTS  u8 params index, u8 calls: that many add_extents of
 *                    255 adjacent one-page extents
 *   5  CREATE        u8 params index, u16 width, u16 height, u16 stride,
 *                    u8 format (index into a list, else raw u32 follows),
 *                    u16 offset; flags in the top bits of the format byte
 *                    make width, height, stride, offset raw i32/u32s
 *   6  PARAMS_DESTROY u8 index
 *   7  BUFFER_DESTROY u8 index
 *   8  READ          u8 buffer index: the compositor reads the buffer
 *   9  DISCONNECT    the daemon goes away with everything alive
 *  10  RECONNECT     a new daemon connection (if none)
 *  11  HOST          a new connection that is a host client
 * fd kinds: guest RAM (a 256 KiB memfd sealed with F_SEAL_SHRINK), the
 * same memfd unsealed, write-only, a one-page sealed memfd, a pipe,
 * /dev/null, a second sealed RAM.
 *
 * Checked besides the sanitizers (a violation traps): a region or buffer
 * the compositor accepted follows every rule of the protocol XML; a
 * buffer reads as exactly the guest pages its extents name (each page of
 * RAM holds its own pattern), in the format and stride given, never past
 * its mapping; the counters (live regions, live buffers, bytes mapped)
 * match what the client owns, also after it is cut off by a protocol
 * error or disconnects; and at the end no fd and no mapping is left.
 *
 * Built with clang -fsanitize=fuzzer by run-fuzz.sh, and with the project
 * compiler together with fuzz-main.c to replay the committed corpus.
 * FUZZ_GUEST_MEMORY_LOG=1 shows the compositor's log.
 */
#define _GNU_SOURCE /* memfd_create, F_ADD_SEALS */
#include <drm_fourcc.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wayland-client.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_buffer.h>

#include "config.h"
#include "fuzz-target.h"
#include "guest-memory.h"
#include "log.h"
#include "server.h"
#include "tessera-guest-memory-v1-client-protocol.h"
#include "vm.h"

#define PAGE 4096
#define RAM_PAGES 64
#define RAM_SIZE (RAM_PAGES * PAGE)
#define MAX_REGIONS 32
#define MAX_PARAMS 20
#define MAX_BUFFERS 32
#define MAX_PIECES 128 /* extents remembered per params (more: not checked) */
#define MAX_READ_WORDS 2048 /* words of a row compared */

enum fd_kind {
	FD_RAM,
	FD_UNSEALED,
	FD_WRITE_ONLY,
	FD_SMALL,
	FD_PIPE,
	FD_DEV_NULL,
	FD_RAM2,
	FD_KINDS,
};

struct extent {
	uint64_t gpa, length;
};

/* What the daemon believes it created. */
struct region {
	struct tessera_guest_region_v1 *proxy;
	enum fd_kind kind;
	uint64_t base, size, offset;
};

struct params {
	struct tessera_guest_buffer_params_v1 *proxy;
	struct extent extents[MAX_PIECES];
	size_t count; /* extents added, also beyond MAX_PIECES */
	uint64_t total; /* their lengths (saturating) */
	bool used;
};

/* A piece of a buffer's memory: length bytes of fd kind at file offset. */
struct piece {
	enum fd_kind kind;
	uint64_t file_offset, length;
};

struct buffer {
	struct wl_buffer *proxy;
	int32_t width, height, stride;
	uint32_t format, offset;
	uint64_t map_len;
	struct piece pieces[MAX_PIECES];
	size_t npieces;
	bool checkable; /* every piece is known */
};

/* made once: the compositor only reads them */
static int fds[FD_KINDS];
static int pipe_write;

/* the compositor, made once too (only the number of VMs changes) */
static struct {
	struct wl_display *display;
	struct tessera_server server;
	struct tessera_vm_config vm_config;
	struct tessera_vm vm;
	struct tessera_guest_memory *gm;
} comp;

/* the daemon's connection and what it believes it made; a connection
 * that is alive at the end of an input is emptied and kept for the next
 * one (see release_all) */
static struct {
	bool next_is_host;
	size_t vm_count; /* when it connected (its share of mappings) */
	int fds; /* what a connection holds (libwayland dups some), -1: not known yet */

	struct wl_client *client; /* server side */
	struct wl_display *display; /* client side, NULL if none */
	struct wl_registry *registry;
	struct wl_callback *callback; /* the pending sync */
	struct tessera_guest_memory_v1 *manager;
	bool dead; /* a protocol error ended the connection */

	/* in use: the first n of the arrays below */
	size_t nregions, nparams, nbuffers;
} f;

/* out of f, for their size */
static struct region regions[MAX_REGIONS];
static struct params params[MAX_PARAMS];
static struct buffer buffers[MAX_BUFFERS];

/* ---- vm.c's part ---- */

struct tessera_vm *tessera_vm_from_client(struct tessera_server *server,
		const struct wl_client *client) {
	return client == f.client && !f.next_is_host ? &comp.vm : NULL;
}

struct tessera_vm *tessera_vm_from_binding_client(struct tessera_server *server,
		struct wl_client *client, const struct wl_interface *interface) {
	struct tessera_vm *vm = tessera_vm_from_client(server, client);
	if (vm == NULL) {
		wl_client_post_implementation_error(client, "%s is VM-only", interface->name);
	}
	return vm;
}

/* ---- guest RAM ---- */

/* The 32-bit word at file offset o (a multiple of 4) of an fd kind. */
static uint32_t pattern(enum fd_kind kind, uint64_t o) {
	uint32_t x = (uint32_t)(o / 4) * 2654435761u ^ (uint32_t)kind << 28;
	x ^= x >> 15;
	return x * 2246822519u;
}

static int make_memfd(enum fd_kind kind, size_t size, bool seal) {
	int fd = memfd_create("fuzz-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)size) == 0);
	uint32_t *words = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(words != MAP_FAILED);
	for (size_t i = 0; i < size / 4; i++) {
		words[i] = pattern(kind, i * 4);
	}
	CHECK(munmap(words, size) == 0);
	if (seal) {
		CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	}
	return fd;
}

static void open_fds(void) {
	fds[FD_RAM] = make_memfd(FD_RAM, RAM_SIZE, true);
	fds[FD_UNSEALED] = make_memfd(FD_UNSEALED, RAM_SIZE, false);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[FD_RAM]);
	fds[FD_WRITE_ONLY] = open(path, O_WRONLY | O_CLOEXEC);
	fds[FD_SMALL] = make_memfd(FD_SMALL, PAGE, true);
	int pair[2];
	CHECK(pipe2(pair, O_CLOEXEC) == 0);
	fds[FD_PIPE] = pair[0];
	pipe_write = pair[1];
	fds[FD_DEV_NULL] = open("/dev/null", O_RDWR | O_CLOEXEC);
	fds[FD_RAM2] = make_memfd(FD_RAM2, RAM_SIZE, true);
	for (size_t i = 0; i < FD_KINDS; i++) {
		CHECK(fds[i] >= 0);
	}
}

/* ---- the connection ---- */

/* Frees the proxies of the objects the client made (the compositor's side
 * is gone or going). */
static void forget_client_objects(void) {
	for (size_t i = 0; i < f.nregions; i++) {
		wl_proxy_destroy((struct wl_proxy *)regions[i].proxy);
	}
	for (size_t i = 0; i < f.nparams; i++) {
		wl_proxy_destroy((struct wl_proxy *)params[i].proxy);
	}
	for (size_t i = 0; i < f.nbuffers; i++) {
		wl_proxy_destroy((struct wl_proxy *)buffers[i].proxy);
	}
	f.nregions = f.nparams = f.nbuffers = 0;
	if (f.manager != NULL) {
		wl_proxy_destroy((struct wl_proxy *)f.manager);
		f.manager = NULL;
	}
	if (f.registry != NULL) {
		wl_registry_destroy(f.registry);
		f.registry = NULL;
	}
	if (f.callback != NULL) {
		wl_callback_destroy(f.callback);
		f.callback = NULL;
	}
}

static void check_stats(void) {
	struct tessera_guest_memory_stats s;
	tessera_guest_memory_get_stats(comp.gm, &s);
	uint64_t bytes = 0;
	for (size_t i = 0; i < f.nbuffers; i++) {
		bytes += buffers[i].map_len;
	}
	CHECK(s.live_regions == f.nregions);
	CHECK(s.live_buffers == f.nbuffers);
	CHECK(s.bytes_mapped == bytes);
	CHECK(s.mappings <= TESSERA_GMEM_MAX_MAPPINGS);
	CHECK(s.mappings <= bytes / PAGE);
	CHECK((s.mappings == 0) == (f.nbuffers == 0));
	CHECK(s.bytes_copied == 0);
}

static void handle_done(void *data, struct wl_callback *callback, uint32_t serial) {
	wl_callback_destroy(callback);
	f.callback = NULL;
}

static const struct wl_callback_listener done_listener = {
	.done = handle_done,
};

/* Reads what the compositor sent, without blocking. */
static void client_read(void) {
	if (wl_display_prepare_read(f.display) != 0) {
		return;
	}
	struct pollfd p = { .fd = wl_display_get_fd(f.display), .events = POLLIN };
	if (poll(&p, 1, 0) > 0) {
		wl_display_read_events(f.display);
	} else {
		wl_display_cancel_read(f.display);
	}
}

/* Runs both sides until the compositor answered everything sent so far
 * (or cut the client off: then the client's objects are gone). */
static void roundtrip(void) {
	if (f.display == NULL || f.dead) {
		return;
	}
	f.callback = wl_display_sync(f.display);
	wl_callback_add_listener(f.callback, &done_listener, NULL);
	struct wl_event_loop *loop = wl_display_get_event_loop(comp.display);
	for (int i = 0; f.callback != NULL; i++) {
		CHECK(i < 100000);
		if (wl_display_flush(f.display) < 0 && errno != EAGAIN) {
			break;
		}
		FUZZ_DISPATCH(loop, 0);
		wl_display_flush_clients(comp.display);
		client_read();
		if (wl_display_dispatch_pending(f.display) < 0) {
			break;
		}
	}
	if (f.callback != NULL) {
		/* a protocol error: the compositor destroyed the client */
		CHECK(wl_display_get_error(f.display) == EPROTO);
		f.dead = true;
		f.client = NULL;
		forget_client_objects();
	}
	check_stats();
}

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
		const char *interface, uint32_t version) {
	if (strcmp(interface, tessera_guest_memory_v1_interface.name) == 0) {
		f.manager = wl_registry_bind(registry, name,
			&tessera_guest_memory_v1_interface, 1);
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry,
		uint32_t name) {
}

static const struct wl_registry_listener registry_listener = {
	.global = handle_global,
	.global_remove = handle_global_remove,
};

static void disconnect(void) {
	if (f.display == NULL) {
		return;
	}
	forget_client_objects();
	wl_display_disconnect(f.display);
	f.display = NULL;
	/* the compositor notices the hang-up */
	struct wl_event_loop *loop = wl_display_get_event_loop(comp.display);
	for (int i = 0; f.client != NULL; i++) {
		CHECK(i < 1000);
		FUZZ_DISPATCH(loop, 0);
	}
	check_stats();
}

static void handle_client_destroy(struct wl_listener *listener, void *data) {
	wl_list_remove(&listener->link);
	free(listener);
	if (data == f.client) {
		f.client = NULL;
	}
}

static void connect_client(bool host) {
	disconnect();
	int fds_before = f.fds < 0 ? fuzz_count_fds() : 0;
	int pair[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
	f.client = wl_client_create(comp.display, pair[0]);
	CHECK(f.client != NULL);
	struct wl_listener *listener = calloc(1, sizeof(*listener));
	CHECK(listener != NULL);
	listener->notify = handle_client_destroy;
	wl_client_add_destroy_listener(f.client, listener);
	f.display = wl_display_connect_to_fd(pair[1]);
	CHECK(f.display != NULL);
	f.dead = false;
	f.next_is_host = host;
	f.vm_count = comp.server.config.vm_count;
	if (f.fds < 0) {
		f.fds = fuzz_count_fds() - fds_before;
	}
	f.registry = wl_display_get_registry(f.display);
	wl_registry_add_listener(f.registry, &registry_listener, NULL);
	roundtrip();
	roundtrip(); /* the bind */
	CHECK(f.dead == host);
}

/* ---- operations ---- */

static bool alive(void) {
	return f.display != NULL && !f.dead && f.manager != NULL;
}

static bool regions_overlap(uint64_t base, uint64_t size) {
	for (size_t i = 0; i < f.nregions; i++) {
		const struct region *r = &regions[i];
		if (base <= r->base + r->size - 1 && r->base <= base + size - 1) {
			return true;
		}
	}
	return false;
}

static uint64_t file_size(enum fd_kind kind) {
	switch (kind) {
	case FD_RAM:
	case FD_RAM2:
		return RAM_SIZE;
	case FD_SMALL:
		return PAGE;
	default:
		return 0;
	}
}

static void op_region(struct fuzz_input *in) {
	enum fd_kind kind = (enum fd_kind)(fuzz_get8(in) % FD_KINDS);
	uint8_t flags = fuzz_get8(in);
	uint64_t base = (uint64_t)fuzz_get16(in) * PAGE;
	uint64_t size = (uint64_t)fuzz_get8(in) * PAGE;
	uint64_t offset = (uint64_t)fuzz_get8(in) * PAGE;
	if (flags & 0x80) {
		base = fuzz_get64(in);
	}
	if (flags & 0x40) {
		size = fuzz_get64(in);
	}
	if (flags & 0x20) {
		offset = fuzz_get64(in);
	}
	if (!alive() || f.nregions == MAX_REGIONS) {
		return;
	}
	struct region *r = &regions[f.nregions];
	*r = (struct region){ .kind = kind, .base = base, .size = size, .offset = offset };
	bool valid = base % PAGE == 0 && size % PAGE == 0 && offset % PAGE == 0 &&
		size > 0 && size <= TESSERA_GMEM_MAX_REGION_SIZE &&
		base <= UINT64_MAX - (size - 1) && offset <= file_size(kind) &&
		size <= file_size(kind) - offset && !regions_overlap(base, size) &&
		f.nregions < TESSERA_GMEM_MAX_REGIONS;
	r->proxy = tessera_guest_memory_v1_create_region(f.manager, fds[kind],
		(uint32_t)(base >> 32), (uint32_t)base, (uint32_t)(size >> 32),
		(uint32_t)size, (uint32_t)(offset >> 32), (uint32_t)offset);
	f.nregions++;
	roundtrip();
	/* accepted exactly when valid (a sealed memfd big enough, aligned,
	 * no overlap) */
	CHECK(f.dead != valid);
}

static void op_region_destroy(struct fuzz_input *in) {
	uint8_t index = fuzz_get8(in);
	if (!alive() || f.nregions == 0) {
		return;
	}
	struct region *r = &regions[index % f.nregions];
	tessera_guest_region_v1_destroy(r->proxy);
	*r = regions[--f.nregions];
	roundtrip();
	CHECK(!f.dead);
}

static void op_params(void) {
	if (!alive() || f.nparams == MAX_PARAMS) {
		return;
	}
	bool valid = f.nparams < TESSERA_GMEM_MAX_PARAMS;
	struct params *p = &params[f.nparams++];
	p->proxy = tessera_guest_memory_v1_create_params(f.manager);
	p->count = 0;
	p->total = 0;
	p->used = false;
	roundtrip();
	CHECK(f.dead != valid);
}

static struct params *pick_params(struct fuzz_input *in) {
	uint8_t index = fuzz_get8(in);
	if (!alive() || f.nparams == 0) {
		return NULL;
	}
	return &params[index % f.nparams];
}

static void add_extents(struct params *p, const struct extent *e, size_t n) {
	struct wl_array array;
	wl_array_init(&array);
	for (size_t i = 0; i < n; i++) {
		uint64_t *slot = wl_array_add(&array, 16);
		CHECK(slot != NULL);
		memcpy(slot, &e[i].gpa, 8);
		memcpy(slot + 1, &e[i].length, 8);
		if (p->count < MAX_PIECES) {
			p->extents[p->count] = e[i];
		}
		p->count++;
		if (__builtin_add_overflow(p->total, e[i].length, &p->total)) {
			p->total = UINT64_MAX;
		}
	}
	tessera_guest_buffer_params_v1_add_extents(p->proxy, &array);
	wl_array_release(&array);
}

static void op_extents(struct fuzz_input *in) {
	struct params *p = pick_params(in);
	size_t n = fuzz_get8(in) % 64;
	struct extent e[64];
	for (size_t i = 0; i < n; i++) {
		uint8_t flags = fuzz_get8(in);
		e[i].gpa = (uint64_t)fuzz_get16(in) * PAGE;
		e[i].length = (uint64_t)fuzz_get8(in) * PAGE;
		if (flags & 1) {
			e[i].length += fuzz_get16(in);
		}
		if (flags & 0x80) {
			e[i].gpa = fuzz_get64(in);
			e[i].length = fuzz_get64(in);
		}
	}
	if (p == NULL) {
		return;
	}
	add_extents(p, e, n);
	roundtrip();
}

static void op_many_extents(struct fuzz_input *in) {
	struct params *p = pick_params(in);
	size_t calls = fuzz_get8(in);
	if (p == NULL) {
		return;
	}
	struct extent e[255];
	for (size_t c = 0; c < calls && alive(); c++) {
		for (size_t i = 0; i < 255; i++) {
			e[i].gpa = (uint64_t)((c * 255 + i) % RAM_PAGES) * PAGE;
			e[i].length = PAGE;
		}
		add_extents(p, e, 255);
		roundtrip();
	}
}

static bool format_ok(uint32_t format) {
	return format == DRM_FORMAT_ARGB8888 || format == DRM_FORMAT_XRGB8888 ||
		format == DRM_FORMAT_ABGR8888 || format == DRM_FORMAT_XBGR8888;
}

static const struct region *find_region(const struct extent *e) {
	for (size_t i = 0; i < f.nregions; i++) {
		const struct region *r = &regions[i];
		if (e->gpa >= r->base && e->gpa - r->base <= r->size - 1 &&
				e->length <= r->size - (e->gpa - r->base)) {
			return r;
		}
	}
	return NULL;
}

/* Every rule of the protocol XML, for an accepted buffer. */
static void check_accepted(const struct params *p, struct buffer *b) {
	CHECK(format_ok(b->format));
	CHECK(b->width >= 1 && b->width <= TESSERA_GMEM_MAX_DIMENSION);
	CHECK(b->height >= 1 && b->height <= TESSERA_GMEM_MAX_DIMENSION);
	CHECK(b->stride >= b->width * 4 && b->stride % 4 == 0 &&
		b->stride <= TESSERA_GMEM_MAX_STRIDE);
	CHECK(b->offset % 4 == 0);
	CHECK(p->count >= 1 && p->count <= TESSERA_GMEM_MAX_EXTENTS);
	CHECK(p->total <= TESSERA_GMEM_MAX_BUFFER_BYTES);
	CHECK((uint64_t)b->stride * (uint64_t)b->height + b->offset <= p->total);
	b->checkable = p->count <= MAX_PIECES;
	if (!b->checkable) {
		return;
	}
	uint64_t total = 0;
	b->npieces = 0;
	for (size_t i = 0; i < p->count; i++) {
		const struct extent *e = &p->extents[i];
		CHECK(e->length > 0 && e->gpa % PAGE == 0);
		CHECK(i + 1 == p->count || e->length % PAGE == 0);
		const struct region *r = find_region(e);
		CHECK(r != NULL);
		b->pieces[b->npieces++] = (struct piece){
			.kind = r->kind,
			.file_offset = r->offset + (e->gpa - r->base),
			.length = e->length,
		};
		total += e->length;
	}
	CHECK(total == p->total && total <= TESSERA_GMEM_MAX_BUFFER_BYTES);
	CHECK((uint64_t)b->stride * (uint64_t)b->height + b->offset <= total);
	CHECK(b->map_len == (total + PAGE - 1) / PAGE * PAGE);
}

static void op_create(struct fuzz_input *in) {
	struct params *p = pick_params(in);
	int32_t width = fuzz_get16(in), height = fuzz_get16(in), stride = fuzz_get16(in);
	uint8_t format_byte = fuzz_get8(in);
	static const uint32_t formats[] = {
		DRM_FORMAT_ARGB8888, DRM_FORMAT_XRGB8888, DRM_FORMAT_ABGR8888,
		DRM_FORMAT_XBGR8888, 0 /* wl_shm's ARGB8888 */, DRM_FORMAT_RGB565,
	};
	size_t nformats = sizeof(formats) / sizeof(formats[0]);
	uint32_t format = (format_byte & 15) < nformats ? formats[format_byte & 15] :
		fuzz_get32(in);
	uint32_t offset = fuzz_get16(in);
	if (format_byte & 0x80) {
		width = (int32_t)fuzz_get32(in);
		height = (int32_t)fuzz_get32(in);
	}
	if (format_byte & 0x40) {
		stride = (int32_t)fuzz_get32(in);
	}
	if (format_byte & 0x20) {
		offset = fuzz_get32(in);
	}
	if (p == NULL || f.nbuffers == MAX_BUFFERS) {
		return;
	}
	bool used = p->used;
	p->used = true;
	struct buffer *b = &buffers[f.nbuffers];
	*b = (struct buffer){
		.width = width, .height = height, .stride = stride,
		.format = format, .offset = offset,
	};
	b->proxy = tessera_guest_buffer_params_v1_create(p->proxy, width, height,
		stride, format, offset);
	f.nbuffers++;
	/* what an accepted buffer maps (then total <= 256 MiB) */
	b->map_len = p->total <= TESSERA_GMEM_MAX_BUFFER_BYTES ?
		(p->total + PAGE - 1) / PAGE * PAGE : 0;
	roundtrip();
	if (f.dead) {
		return;
	}
	CHECK(!used);
	check_accepted(p, b);
}

static void op_params_destroy(struct fuzz_input *in) {
	uint8_t index = fuzz_get8(in);
	if (!alive() || f.nparams == 0) {
		return;
	}
	struct params *p = &params[index % f.nparams];
	tessera_guest_buffer_params_v1_destroy(p->proxy);
	*p = params[--f.nparams];
	roundtrip();
	CHECK(!f.dead);
}

static void op_buffer_destroy(struct fuzz_input *in) {
	uint8_t index = fuzz_get8(in);
	if (!alive() || f.nbuffers == 0) {
		return;
	}
	struct buffer *b = &buffers[index % f.nbuffers];
	wl_buffer_destroy(b->proxy);
	*b = buffers[--f.nbuffers];
	roundtrip();
	CHECK(!f.dead);
}

/* The word the buffer holds at byte pos of its extents. */
static uint32_t expected_word(const struct buffer *b, uint64_t pos) {
	for (size_t i = 0; i < b->npieces; i++) {
		const struct piece *pc = &b->pieces[i];
		if (pos < pc->length) {
			CHECK(pc->length - pos >= 4); /* words never straddle */
			return pattern(pc->kind, pc->file_offset + pos);
		}
		pos -= pc->length;
	}
	CHECK(false);
	return 0;
}

static void check_row(const struct buffer *b, const uint8_t *data, int32_t y) {
	uint64_t start = b->offset + (uint64_t)y * (uint64_t)b->stride;
	int32_t words = b->width < MAX_READ_WORDS ? b->width : MAX_READ_WORDS;
	for (int32_t x = 0; x < words; x++) {
		uint32_t word;
		memcpy(&word, data + start + 4 * (uint64_t)x, 4);
		CHECK(word == expected_word(b, start + 4 * (uint64_t)x));
	}
}

/* What the renderer does: lock, read the pixels through the data pointer,
 * unlock. */
static void op_read(struct fuzz_input *in) {
	uint8_t index = fuzz_get8(in);
	if (!alive() || f.nbuffers == 0) {
		return;
	}
	struct buffer *b = &buffers[index % f.nbuffers];
	struct wl_resource *resource = wl_client_get_object(f.client,
		wl_proxy_get_id((struct wl_proxy *)b->proxy));
	CHECK(resource != NULL);
	struct wlr_buffer *wlr = wlr_buffer_from_resource(resource);
	CHECK(wlr != NULL);
	CHECK(wlr->width == b->width && wlr->height == b->height);
	void *data;
	uint32_t format;
	size_t stride;
	CHECK(!wlr_buffer_begin_data_ptr_access(wlr, WLR_BUFFER_DATA_PTR_ACCESS_WRITE,
		&data, &format, &stride));
	CHECK(wlr_buffer_begin_data_ptr_access(wlr, WLR_BUFFER_DATA_PTR_ACCESS_READ,
		&data, &format, &stride));
	CHECK(format == b->format && stride == (size_t)b->stride);
	if (b->checkable) {
		/* the pointer is offset bytes into the mapping */
		const uint8_t *map = (const uint8_t *)data - b->offset;
		check_row(b, map, 0);
		check_row(b, map, b->height - 1);
		check_row(b, map, b->height / 2);
	}
	wlr_buffer_end_data_ptr_access(wlr);
	wlr_buffer_unlock(wlr); /* sends wl_buffer.release */
	roundtrip();
	CHECK(!f.dead);
}

/* ---- the run ---- */

/* The end of an input: a VM connection that is still alive destroys
 * everything it made (and is kept for the next input: setting up a
 * connection costs more than most inputs), any other goes away. Either
 * way nothing of the input is left. */
static void release_all(void) {
	if (!alive() || f.next_is_host) {
		disconnect();
		return;
	}
	while (f.nbuffers > 0) {
		wl_buffer_destroy(buffers[--f.nbuffers].proxy);
	}
	while (f.nparams > 0) {
		tessera_guest_buffer_params_v1_destroy(params[--f.nparams].proxy);
	}
	while (f.nregions > 0) {
		tessera_guest_region_v1_destroy(regions[--f.nregions].proxy);
	}
	roundtrip();
	CHECK(!f.dead);
}

static void quiet(const char *fmt, va_list args) {
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static bool initialized;
	if (!initialized) {
		const char *log = getenv("FUZZ_GUEST_MEMORY_LOG");
		bool verbose = log != NULL && log[0] == '1';
		tessera_log_init(verbose ? TESSERA_DEBUG : TESSERA_SILENT, NULL);
		if (!verbose) {
			/* libwayland's own lines about each protocol error */
			wl_log_set_handler_client(quiet);
			wl_log_set_handler_server(quiet);
		}
		CHECK(sysconf(_SC_PAGESIZE) == PAGE);
		open_fds();
		comp.display = wl_display_create();
		CHECK(comp.display != NULL);
		comp.server.wl_display = comp.display;
		comp.server.event_loop = wl_display_get_event_loop(comp.display);
		snprintf(comp.vm_config.name, sizeof(comp.vm_config.name), "fuzz");
		comp.vm.config = &comp.vm_config;
		comp.vm.server = &comp.server;
		comp.gm = tessera_guest_memory_create(&comp.server);
		CHECK(comp.gm != NULL);
		f.fds = -1;
		initialized = true;
	}
	int fds_before = fuzz_count_fds() - (f.display != NULL ? f.fds : 0);
	struct fuzz_input in = { .data = data, .size = size };

	comp.server.config.vm_count = 1 + fuzz_get8(&in) % TESSERA_CONFIG_MAX_VMS;
	/* the kept connection, if its share is that of this many VMs (a new
	 * one otherwise): empty, as a new one */
	if (f.display == NULL || f.vm_count != comp.server.config.vm_count) {
		connect_client(false);
	}
	CHECK(alive() && f.nregions == 0 && f.nparams == 0 && f.nbuffers == 0);

	while (in.pos < in.size) {
		switch (fuzz_get8(&in) % 12) {
		case 0: op_region(&in); break;
		case 1: op_region_destroy(&in); break;
		case 2: op_params(); break;
		case 3: op_extents(&in); break;
		case 4: op_many_extents(&in); break;
		case 5: op_create(&in); break;
		case 6: op_params_destroy(&in); break;
		case 7: op_buffer_destroy(&in); break;
		case 8: op_read(&in); break;
		case 9: disconnect(); break;
		case 10:
			if (f.display == NULL || f.dead) {
				connect_client(false);
			}
			break;
		case 11: connect_client(true); break;
		}
	}

	release_all();
	check_stats();
	CHECK(fuzz_count_fds() - (f.display != NULL ? f.fds : 0) == fds_before);
	return 0;
}
