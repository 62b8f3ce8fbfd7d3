/*
 * vmd's counters for the compositor: see report.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <wayland-server-core.h>

#include "clock.h"
#include "gpu.h"
#include "log.h"
#include "report.h"
#include "tessera-vmd-v1-client-protocol.h"
#include "wayland.h"

struct vmd_report {
	struct vmd_wayland *wayland;
	const struct vmd_gpu *gpu;
	struct wl_event_source *timer;
	bool timer_armed;
	bool sent_once;
	int64_t last_ms;
	uint64_t frames, bytes_copied; /* as last sent */
};

static void send_now(struct vmd_report *report, uint64_t frames,
		uint64_t bytes_copied) {
	tessera_vmd_v1_counters(report->wayland->vmd_report,
		(uint32_t)(frames >> 32), (uint32_t)frames,
		(uint32_t)(bytes_copied >> 32), (uint32_t)bytes_copied);
	report->frames = frames;
	report->bytes_copied = bytes_copied;
	report->sent_once = true;
	report->last_ms = tessera_clock_now_ms();
}

static void report_check(struct vmd_report *report, bool from_timer) {
	if (report->wayland->vmd_report == NULL || report->wayland->broken) {
		return;
	}
	struct vmd_gpu_stats s;
	vmd_gpu_get_stats(report->gpu, &s);
	uint64_t frames = s.session.frames + s.console.frames;
	uint64_t bytes_copied = s.session.bytes_copied + s.console.bytes_copied;
	if (report->sent_once && frames == report->frames &&
			bytes_copied == report->bytes_copied) {
		return;
	}
	int64_t wait_ms = report->sent_once ?
		report->last_ms + VMD_REPORT_INTERVAL_MS - tessera_clock_now_ms() : 0;
	if (wait_ms <= 0 || from_timer) {
		send_now(report, frames, bytes_copied);
	} else if (!report->timer_armed) {
		wl_event_source_timer_update(report->timer, (int)wait_ms);
		report->timer_armed = true;
	}
}

static int handle_timer(void *data) {
	struct vmd_report *report = data;
	report->timer_armed = false;
	report_check(report, true);
	/* the loop flushes before it blocks again */
	return 0;
}

struct vmd_report *vmd_report_create(struct wl_event_loop *loop,
		struct vmd_wayland *wayland, const struct vmd_gpu *gpu) {
	struct vmd_report *report = calloc(1, sizeof(*report));
	if (report == NULL) {
		tessera_log(TESSERA_ERROR, "cannot allocate the counter report");
		return NULL;
	}
	report->wayland = wayland;
	report->gpu = gpu;
	report->timer = wl_event_loop_add_timer(loop, handle_timer, report);
	if (report->timer == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create the counter report timer");
		free(report);
		return NULL;
	}
	return report;
}

void vmd_report_destroy(struct vmd_report *report) {
	if (report == NULL) {
		return;
	}
	wl_event_source_remove(report->timer);
	free(report);
}

void vmd_report_update(struct vmd_report *report) {
	report_check(report, false);
}
