#ifndef TESSERA_GUEST_MEMORY_H
#define TESSERA_GUEST_MEMORY_H

#include <stddef.h>
#include <stdint.h>

/*
 * tessera_guest_memory_v1 (protocol/tessera-guest-memory-v1.xml): wl_buffers
 * made of guest RAM pages, mapped and rendered without copying. Offered only
 * to VM connections (vm.c's global filter).
 */

/* Limits; the protocol XML documents each of them. */
#define TESSERA_GMEM_MAX_REGIONS 16           /* live regions per client */
#define TESSERA_GMEM_MAX_REGION_SIZE (UINT64_C(1) << 40)
#define TESSERA_GMEM_MAX_PARAMS 16            /* live params objects per client */
#define TESSERA_GMEM_MAX_EXTENTS 65536        /* per buffer */
#define TESSERA_GMEM_MAX_BUFFER_BYTES (UINT64_C(256) << 20) /* extents of one buffer */
#define TESSERA_GMEM_MAX_DIMENSION 8192       /* width and height */
#define TESSERA_GMEM_MAX_STRIDE 32768
#define TESSERA_GMEM_MAX_BUFFERS 1024         /* live buffers per client */
#define TESSERA_GMEM_MAX_CLIENT_BYTES (UINT64_C(4) << 30) /* mapped per client */
#define TESSERA_GMEM_MAX_CLIENT_MAPPINGS 16384 /* mmaps per client */
#define TESSERA_GMEM_MAX_MAPPINGS 32768       /* mmaps of all clients together */

struct tessera_server;
struct tessera_guest_memory;

/* Counters over all clients. bytes_copied stays 0: nothing is copied. */
struct tessera_guest_memory_stats {
	uint64_t bytes_mapped;
	uint64_t mappings;
	uint64_t bytes_copied;
	size_t live_buffers;
	size_t live_regions;
	uint64_t buffers_created;
};

/*
 * Creates the global. It is torn down with the server's wl_display; objects
 * that outlive the display (buffers still locked by wlroots) keep what they
 * need alive until they go.
 */
struct tessera_guest_memory *tessera_guest_memory_create(struct tessera_server *server);
void tessera_guest_memory_get_stats(const struct tessera_guest_memory *gm,
	struct tessera_guest_memory_stats *stats);

/*
 * The guest-memory buffer behind a wl_buffer of client, its mapping made
 * writable and the buffer locked (wlr_buffer_unlock() when done): window
 * sharing (share.c) writes another VM's frames into it. NULL with the
 * reason in why when it is not one or its guest RAM is not writable.
 */
struct wl_resource;
struct wl_client;
struct wlr_buffer *tessera_guest_memory_writable_buffer(struct wl_resource *resource,
	struct wl_client *client, const char **why);

#endif
