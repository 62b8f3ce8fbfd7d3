#ifndef TESSERA_VMD_REPORT_H
#define TESSERA_VMD_REPORT_H

/*
 * vmd's counters for the compositor (tessera_vmd_v1.counters, shown by
 * `tesseractl vm list`): frames put on the compositor and bytes copied,
 * sent when they changed and at most every VMD_REPORT_INTERVAL_MS. Without
 * the global (vmd started by hand on a plain compositor) nothing is sent.
 *
 * No wake-ups while idle: main.c calls vmd_report_update() before each
 * flush of the compositor connection (the counters only change while vmd
 * works); a change too soon after the last report arms a one-shot timer
 * for the rest of the interval.
 */

struct wl_event_loop;
struct vmd_gpu;
struct vmd_wayland;
struct vmd_report;

#define VMD_REPORT_INTERVAL_MS 250

/* NULL with a log line on failure. */
struct vmd_report *vmd_report_create(struct wl_event_loop *loop,
	struct vmd_wayland *wayland, const struct vmd_gpu *gpu);
void vmd_report_destroy(struct vmd_report *report);
void vmd_report_update(struct vmd_report *report);

#endif
