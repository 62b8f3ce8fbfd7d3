#ifndef TESSERA_VMD_CPU_SHARE_H
#define TESSERA_VMD_CPU_SHARE_H

/*
 * The CPU a guest may take through its device. tessera-vmd does its
 * guest's work at the guest's pace, and a guest that floods its device
 * would otherwise compete for the CPU on equal terms with the compositor
 * and the other VMs' daemons, which present everyone's windows: a busy
 * nice-0 process on each core delays every wake-up of theirs. So while the
 * daemon's own CPU time stays above a quarter of a core (over 100 ms), it
 * runs as SCHED_IDLE: it gets the CPU that nobody else wants and yields it
 * at once to any other process. It is SCHED_OTHER again once a window
 * ends with the guest's queue empty and the daemon below a twentieth of a
 * core (while it yields, its share says nothing about the guest's
 * demand). The guest's commands still all run, only later.
 */

#include <stdbool.h>
#include <stdint.h>

struct wl_event_loop;
struct wl_event_source;

struct vmd_cpu_share {
	struct wl_event_source *timer; /* re-checks while yielding */
	int64_t window_start_ns, cpu_start_ns;
	bool yielding;
	bool queued; /* the guest's queue had work left at the last check */
	uint64_t yields; /* times it started yielding */
};

void vmd_cpu_share_init(struct vmd_cpu_share *share, struct wl_event_loop *loop);
void vmd_cpu_share_finish(struct vmd_cpu_share *share);
/* After work for the guest (queued: some of it is left for later): at the
 * end of a window, decides. */
void vmd_cpu_share_check(struct vmd_cpu_share *share, bool queued);

#endif
