/*
 * The virtio-gpu device of tessera-vmd (virtio 1.2, section 5.7), on the
 * vhost-user backend (vhost-user.h).
 *
 * Features: VIRTIO_GPU_F_VIRGL and VIRTIO_GPU_F_EDID (what QEMU's
 * vhost-user-gpu-pci forwards to a vhost-user backend); one scanout; the
 * capsets VIRGL and VIRGL2 when virglrenderer runs (gpu = auto or virgl,
 * virgl.h), none with gpu = off. Control queue: the 2D command set (the
 * guest's framebuffer console, shown by console.c), the 3D context and
 * resource commands, and SUBMIT_3D, whose payload is a tessera wire
 * protocol batch handed to the session (session.h) or, for a virgl
 * context, a virgl command stream for virglrenderer (PROTOCOL.md section
 * 1.1 says which). 3D resources with bind flags get virglrenderer storage
 * besides their guest backing. Cursor queue: UPDATE_CURSOR / MOVE_CURSOR.
 *
 * Everything in a command is untrusted: sizes, ids, rectangles, entry
 * counts and guest addresses are checked; a bad command gets the matching
 * VIRTIO_GPU_RESP_ERR_* response and a log line, and the device goes on.
 *
 * Fences: a response echoes the flags, fence_id and ctx_id of a fenced
 * command (VIRTIO_GPU_FLAG_FENCE). Commands complete in order, at once,
 * except a SUBMIT_3D the session answers with VMD_SUBMIT_WAIT: it is held
 * (later commands go on) and completed when the session rings the
 * doorbell, when a newer WAIT arrives, or when the session ends. All guest
 * fences share one timeline, so a later fence signals a held one early in
 * the guest; that is a harmless spurious wake-up (PROTOCOL.md section 9).
 * A fenced 3D command of virglrenderer's completes when its virgl fence
 * retires; no fenced response overtakes such a fence.
 */
#ifndef TESSERA_VMD_GPU_H
#define TESSERA_VMD_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include "console.h"
#include "resource.h"
#include "session.h"
#include "vm-settings.h"

struct wl_event_loop;
struct vmd_wayland;
struct vmd_gpu;

struct vmd_gpu_options {
	const char *vm_name;
	/* limits, and the scanout's mode (display_size_width/height; 0:
	 * derived from the compositor's output) */
	struct tessera_vm_settings settings;
};

/* Largest mode reported (an EDID detailed timing has 12-bit sizes). */
#define VMD_GPU_MAX_DISPLAY_SIZE TESSERA_VM_MAX_DISPLAY_SIZE
#define VMD_GPU_DEFAULT_DISPLAY_WIDTH 1024
#define VMD_GPU_DEFAULT_DISPLAY_HEIGHT 768

struct vmd_gpu *vmd_gpu_create(struct wl_event_loop *loop,
	struct vmd_wayland *wayland, const struct vmd_gpu_options *options);
void vmd_gpu_destroy(struct vmd_gpu *gpu);
/* Listens for the VMM on the vhost-user socket at path. */
int vmd_gpu_listen(struct vmd_gpu *gpu, const char *path);

/* Whether virglrenderer runs (capsets offered), and on a render node. */
bool vmd_gpu_has_virgl(const struct vmd_gpu *gpu);
bool vmd_gpu_virgl_render_node(const struct vmd_gpu *gpu);

/* The mode of scanout 0 as GET_DISPLAY_INFO reports it now. */
void vmd_gpu_display_size(const struct vmd_gpu *gpu, uint32_t *width,
	uint32_t *height);

struct vmd_gpu_stats {
	uint64_t connections; /* VMM connections so far */
	uint64_t commands; /* control and cursor commands */
	uint64_t errors; /* commands answered with an error */
	uint64_t flushes;
	uint64_t submits; /* SUBMIT_3D */
	uint64_t held; /* WAITs held so far */
	uint32_t held_now;
	uint32_t resources;
	uint32_t contexts;
	uint64_t backing_bytes; /* attached backing */
	uint64_t backing_entries;
	uint64_t mapped_bytes; /* guest memory mapped by the process */
	uint64_t mapped_regions;
	/* virglrenderer (virgl.h): on, SUBMIT_3D of virgl contexts, fences
	 * queued, bytes of host storage now, bytes read back for wire
	 * buffers (host copies, counted in the session's bytes_copied too) */
	bool virgl;
	uint64_t virgl_submits;
	uint64_t virgl_fences;
	uint64_t virgl_bytes;
	uint64_t virgl_read_bytes;
	uint64_t virgl_exports; /* images exported as dmabufs (no copies) */
	struct vmd_console_stats console;
	/* the wire protocol sessions, current and ended, added up */
	struct vmd_session_stats session;
};
void vmd_gpu_get_stats(const struct vmd_gpu *gpu, struct vmd_gpu_stats *stats);

#endif
