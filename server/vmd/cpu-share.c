/*
 * The CPU a guest may take through its device: see cpu-share.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <wayland-server-core.h>

#include "cpu-share.h"
#include "log.h"

#define WINDOW_MS 100
#define YIELD_ABOVE_PERCENT 25
#define RESUME_BELOW_PERCENT 5

static int64_t clock_ns(clockid_t id) {
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void set_policy(struct vmd_cpu_share *share, bool yielding, int64_t percent) {
	struct sched_param param = { .sched_priority = 0 };
	if (sched_setscheduler(0, yielding ? SCHED_IDLE : SCHED_OTHER, &param) != 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot set the scheduling policy %s",
			yielding ? "SCHED_IDLE" : "SCHED_OTHER");
		return;
	}
	share->yielding = yielding;
	if (yielding) {
		share->yields++;
	}
	/* the first time at INFO, then DEBUG: a guest may alternate */
	tessera_log(share->yields <= 1 ? TESSERA_INFO : TESSERA_DEBUG,
		"the daemon used %lld%% of a core for its guest: %s",
		(long long)percent, yielding ? "yielding the CPU to the compositor and the "
		"other VMs (SCHED_IDLE)" : "back to SCHED_OTHER");
	if (share->timer != NULL) {
		wl_event_source_timer_update(share->timer, yielding ? WINDOW_MS : 0);
	}
}

static void start_window(struct vmd_cpu_share *share, int64_t now) {
	share->window_start_ns = now;
	share->cpu_start_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

void vmd_cpu_share_check(struct vmd_cpu_share *share, bool queued) {
	share->queued = queued;
	int64_t now = clock_ns(CLOCK_MONOTONIC);
	int64_t wall = now - share->window_start_ns;
	if (wall < (int64_t)WINDOW_MS * 1000000) {
		return;
	}
	int64_t percent = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - share->cpu_start_ns) * 100 / wall;
	if (!share->yielding && percent > YIELD_ABOVE_PERCENT) {
		set_policy(share, true, percent);
	} else if (share->yielding && !queued && percent < RESUME_BELOW_PERCENT) {
		set_policy(share, false, percent);
	} else if (share->yielding && share->timer != NULL) {
		wl_event_source_timer_update(share->timer, WINDOW_MS);
	}
	start_window(share, now);
}

static int handle_timer(void *data) {
	struct vmd_cpu_share *share = data;
	vmd_cpu_share_check(share, share->queued);
	return 0;
}

void vmd_cpu_share_init(struct vmd_cpu_share *share, struct wl_event_loop *loop) {
	memset(share, 0, sizeof(*share));
	share->timer = wl_event_loop_add_timer(loop, handle_timer, share);
	start_window(share, clock_ns(CLOCK_MONOTONIC));
}

void vmd_cpu_share_finish(struct vmd_cpu_share *share) {
	if (share->timer != NULL) {
		wl_event_source_remove(share->timer);
		share->timer = NULL;
	}
}
