/*
 * The VM console: scanout 0 of the virtio-gpu device (the guest's
 * framebuffer console, a resource set with SET_SCANOUT and updated with
 * TRANSFER_TO_HOST_2D + RESOURCE_FLUSH) shown as a window of the VM on
 * the compositor: an xdg toplevel titled "console" (tessera adds the
 * "[NAME] " prefix and the frame in the VM's colour).
 *
 * Buffers: a small pool of wl_shm buffers. A RESOURCE_FLUSH copies the
 * flushed rectangle out of the resource's guest backing into a free buffer
 * (the 2D model's TRANSFER semantics, done once at flush time: the host
 * copy of a 2D resource is the shm buffer itself); a buffer reused after
 * other frames also gets the areas it missed. Commits follow the
 * compositor's frame callbacks, so a guest flushing faster than the output
 * refreshes costs one copy per output frame, not per flush. Bytes copied
 * are counted.
 */
#ifndef TESSERA_VMD_CONSOLE_H
#define TESSERA_VMD_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

struct vmd_wayland;
struct vmd_gpu_resource;
struct vmd_console;

/* The console may not be larger than this in either direction. */
#define VMD_CONSOLE_MAX_SIZE 8192

struct vmd_console *vmd_console_create(struct vmd_wayland *wayland,
	const char *vm_name);
/* Destroys the window. */
void vmd_console_destroy(struct vmd_console *console);

/* Scanout 0 shows the rectangle (x, y, width, height) of res, already
 * checked to lie inside it; res NULL disables the scanout (the window
 * goes away). The resource must stay valid until it is replaced here. */
void vmd_console_set_scanout(struct vmd_console *console,
	const struct vmd_gpu_resource *res, uint32_t x, uint32_t y,
	uint32_t width, uint32_t height);
const struct vmd_gpu_resource *vmd_console_resource(
	const struct vmd_console *console);
/* RESOURCE_FLUSH of a rectangle of the scanout resource (resource
 * coordinates, checked). */
void vmd_console_flush(struct vmd_console *console, uint32_t x, uint32_t y,
	uint32_t width, uint32_t height);

struct vmd_console_stats {
	uint64_t frames; /* commits */
	uint64_t bytes_copied; /* guest backing -> shm buffers */
	uint64_t last_frame_bytes; /* bytes copied for the latest commit */
	uint32_t width, height; /* 0 while there is no window */
	bool mapped;
};
void vmd_console_get_stats(const struct vmd_console *console,
	struct vmd_console_stats *stats);

#endif
