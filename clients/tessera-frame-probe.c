/*
 * tessera-frame-probe: a weston-style wl_shm + xdg-shell client that draws
 * as fast as frame callbacks allow and measures, for every frame it
 * commits, how long the compositor takes to call it back (frame done), to
 * show it (wp_presentation) and to give the buffer back (release). At the
 * end it writes a JSON report: the rates, latency percentiles and,
 * optionally, every frame. tessera-bench runs it on each path it compares;
 * doc/tessera-frame-probe.1.scd documents the options and the report.
 *
 * What is drawn: a frame f is a pure function state(f) of the frame
 * number, and R(f), the rectangles damaged by frame f, holds every pixel
 * where state(f) differs from state(f - 1):
 *   N%    the window is cut into bands of N% of its height; frame f
 *         repaints band f mod (number of bands) in a colour of f ("full"
 *         is 100%: one band, the whole window every frame);
 *   box   a cursor-sized box (64x64) moves over a fixed background; R(f)
 *         is its old and its new place.
 * A buffer that comes back holds state(g) of the frame g it last showed;
 * before it shows frame f the probe repaints the union of R(g+1..f) (or
 * everything when it is too old), and it damages only R(f).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include "log.h"
#include "presentation-time-client-protocol.h"
#include "tessera-client.h"
#include "xdg-shell-client-protocol.h"

#define MAX_SURFACE_SIZE 16384
#define MIN_BUFFERS 2
#define MAX_BUFFERS 4
#define BOX_SIZE 64
#define BOX_STEP_X 7 /* pixels per frame */
#define BOX_STEP_Y 5
#define MAX_RECTS 2 /* per frame */
#define CATCH_UP_FRAMES 8 /* older buffers are repainted whole */
#define MAX_SECONDS 86400.0
#define MAX_RECORDS (64u * 1024 * 1024)

enum probe_damage_kind {
	PROBE_DAMAGE_BANDS, /* N% (full: 100%) */
	PROBE_DAMAGE_BOX,
};

struct probe_rect {
	int32_t x, y, width, height;
};

struct probe_buffer {
	struct probe *probe;
	struct tessera_client_shm_buffer shm;
	bool busy;
	int64_t frame; /* the state it holds; -1: nothing drawn yet */
	uint64_t seq; /* the record of its last commit */
};

/* One commit; times in ns of CLOCK_MONOTONIC, 0 when not (yet) seen. */
struct probe_record {
	int64_t commit_ns, done_ns, presented_ns, release_ns;
	bool discarded;
};

/* The frame callback or the presentation feedback of one commit. */
struct probe_request {
	struct probe *probe;
	uint64_t seq;
	struct wl_callback *callback;
	struct wp_presentation_feedback *feedback;
	struct wl_list link; /* probe.requests */
};

struct probe {
	/* options */
	int32_t width, height;
	enum probe_damage_kind damage;
	uint32_t damage_percent;
	const char *damage_name;
	double warmup, duration; /* seconds; duration 0: until a signal */
	unsigned long frames_limit; /* commits measured; 0: no limit */
	uint32_t buffer_count;
	const char *json_path, *title, *app_id;
	bool per_frame;

	struct wl_display *display;
	struct tessera_client_registry registry;
	struct tessera_client_global wanted[4];
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wp_presentation *presentation;
	clockid_t presentation_clock;
	struct tessera_client_window window;

	struct probe_buffer buffers[MAX_BUFFERS];
	int64_t frame; /* the last frame drawn; 0: none */
	bool callback_pending, needs_redraw;
	struct wl_list requests; /* probe_request.link */
	int timer_fd, signal_fd;

	/* the measured window: records[i] is commit number record_base + i */
	bool measuring;
	int64_t window_start_ns, window_end_ns;
	uint64_t next_seq, record_base;
	struct probe_record *records;
	size_t record_count, record_capacity;
	uint32_t refresh_ns; /* of the last presented event */
	uint64_t damaged_pixels; /* by frames of the window */

	bool running;
	int exit_code;
};

static int64_t now_ns(clockid_t clock) {
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fail(struct probe *probe) {
	probe->running = false;
	probe->exit_code = 1;
}

/* The record of commit seq, or NULL if it is not in the window. */
static struct probe_record *record_of(struct probe *probe, uint64_t seq) {
	if (seq < probe->record_base || seq - probe->record_base >= probe->record_count) {
		return NULL;
	}
	return &probe->records[seq - probe->record_base];
}

/* A new record for the commit about to be made (NULL outside the window). */
static struct probe_record *add_record(struct probe *probe, uint64_t seq) {
	if (!probe->measuring) {
		return NULL;
	}
	if (probe->record_count == 0) {
		probe->record_base = seq;
	}
	if (probe->record_count == probe->record_capacity) {
		size_t capacity = probe->record_capacity == 0 ? 4096 : probe->record_capacity * 2;
		struct probe_record *records = capacity > MAX_RECORDS ? NULL :
			realloc(probe->records, capacity * sizeof(*records));
		if (records == NULL) {
			tessera_log(TESSERA_ERROR, "cannot record more than %zu frames: stopping",
				probe->record_count);
			probe->running = false;
			return NULL;
		}
		probe->records = records;
		probe->record_capacity = capacity;
	}
	struct probe_record *record = &probe->records[probe->record_count++];
	*record = (struct probe_record){0};
	return record;
}

/* Drawing */

static uint32_t palette(int64_t frame) {
	uint32_t f = (uint32_t)frame;
	uint32_t r = 0x40 + (f * 37) % 0xa0, g = 0x40 + (f * 73) % 0xa0,
		b = 0x40 + (f * 151) % 0xa0;
	return 0xff000000u | r << 16 | g << 8 | b;
}

static int32_t band_height(const struct probe *probe) {
	int64_t h = ((int64_t)probe->height * probe->damage_percent + 50) / 100;
	return h < 1 ? 1 : (int32_t)h;
}

static int32_t band_count(const struct probe *probe) {
	int32_t h = band_height(probe);
	return (probe->height + h - 1) / h;
}

/* Position along 0..range and back, step pixels per frame. */
static int32_t bounce(int64_t frame, int32_t step, int32_t range) {
	if (range <= 0) {
		return 0;
	}
	int64_t t = (frame * step) % (2 * (int64_t)range);
	return (int32_t)(t <= range ? t : 2 * range - t);
}

static struct probe_rect box_at(const struct probe *probe, int64_t frame) {
	int32_t w = probe->width < BOX_SIZE ? probe->width : BOX_SIZE;
	int32_t h = probe->height < BOX_SIZE ? probe->height : BOX_SIZE;
	return (struct probe_rect){
		bounce(frame, BOX_STEP_X, probe->width - w),
		bounce(frame, BOX_STEP_Y, probe->height - h), w, h,
	};
}

/* R(frame): what frame (>= 1) changes; returns the rectangle count. */
static size_t frame_damage(const struct probe *probe, int64_t frame,
		struct probe_rect rects[static MAX_RECTS]) {
	if (probe->damage == PROBE_DAMAGE_BOX) {
		rects[0] = box_at(probe, frame - 1);
		rects[1] = box_at(probe, frame);
		return 2;
	}
	int32_t h = band_height(probe);
	int32_t y = (int32_t)(frame % band_count(probe)) * h;
	rects[0] = (struct probe_rect){ 0, y, probe->width,
		probe->height - y < h ? probe->height - y : h };
	return 1;
}

/* The colour of row y in state(frame), outside the box. */
static uint32_t row_color(const struct probe *probe, int64_t frame, int32_t y) {
	if (probe->damage == PROBE_DAMAGE_BOX) {
		return 0xff202830u + (uint32_t)(y % 64); /* a fixed background */
	}
	int64_t bands = band_count(probe);
	int64_t band = y / band_height(probe);
	/* the last frame <= frame that painted this band */
	int64_t painted = frame - ((frame - band) % bands + bands) % bands;
	return palette(painted) ^ (uint32_t)(y & 0x1f);
}

static void fill(uint32_t *row, int32_t count, uint32_t color) {
	for (int32_t i = 0; i < count; i++) {
		row[i] = color;
	}
}

static bool intersect(struct probe_rect *out, const struct probe_rect *a,
		const struct probe_rect *b) {
	int32_t x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
	int32_t x1 = a->x + a->width < b->x + b->width ? a->x + a->width : b->x + b->width;
	int32_t y1 = a->y + a->height < b->y + b->height ? a->y + a->height : b->y + b->height;
	*out = (struct probe_rect){ x0, y0, x1 - x0, y1 - y0 };
	return x1 > x0 && y1 > y0;
}

/* Paints state(frame) into rect of the buffer. */
static void paint(const struct probe *probe, struct probe_buffer *buffer, int64_t frame,
		const struct probe_rect *rect) {
	uint32_t *pixels = buffer->shm.data;
	size_t stride = (size_t)buffer->shm.width;
	for (int32_t y = rect->y; y < rect->y + rect->height; y++) {
		fill(pixels + (size_t)y * stride + rect->x, rect->width, row_color(probe, frame, y));
	}
	struct probe_rect box = box_at(probe, frame), part;
	if (probe->damage == PROBE_DAMAGE_BOX && intersect(&part, &box, rect)) {
		for (int32_t y = part.y; y < part.y + part.height; y++) {
			fill(pixels + (size_t)y * stride + part.x, part.width, palette(frame));
		}
	}
}

/* Brings the buffer from the state it holds to state(frame). */
static void catch_up(const struct probe *probe, struct probe_buffer *buffer, int64_t frame) {
	if (buffer->frame < 0 || frame - buffer->frame > CATCH_UP_FRAMES) {
		struct probe_rect all = { 0, 0, probe->width, probe->height };
		paint(probe, buffer, frame, &all);
	} else {
		for (int64_t g = buffer->frame + 1; g <= frame; g++) {
			struct probe_rect rects[MAX_RECTS];
			size_t count = frame_damage(probe, g, rects);
			for (size_t i = 0; i < count; i++) {
				paint(probe, buffer, frame, &rects[i]);
			}
		}
	}
	buffer->frame = frame;
}

/* Requests and events of one commit */

static void request_destroy_if_done(struct probe_request *request) {
	if (request->callback != NULL || request->feedback != NULL) {
		return;
	}
	wl_list_remove(&request->link);
	free(request);
}

static void draw(struct probe *probe);

static void frame_handle_done(void *data, struct wl_callback *callback, uint32_t time) {
	struct probe_request *request = data;
	struct probe *probe = request->probe;
	struct probe_record *record = record_of(probe, request->seq);
	if (record != NULL) {
		record->done_ns = now_ns(CLOCK_MONOTONIC);
	}
	wl_callback_destroy(callback);
	request->callback = NULL;
	request_destroy_if_done(request);
	probe->callback_pending = false;
	draw(probe);
}

static const struct wl_callback_listener frame_listener = {
	.done = frame_handle_done,
};

static void feedback_handle_sync_output(void *data,
		struct wp_presentation_feedback *feedback, struct wl_output *output) {
	/* unused */
}

static void feedback_finish(struct probe_request *request) {
	wp_presentation_feedback_destroy(request->feedback);
	request->feedback = NULL;
	request_destroy_if_done(request);
}

static void feedback_handle_presented(void *data, struct wp_presentation_feedback *feedback,
		uint32_t tv_sec_hi, uint32_t tv_sec_lo, uint32_t tv_nsec, uint32_t refresh,
		uint32_t seq_hi, uint32_t seq_lo, uint32_t flags) {
	struct probe_request *request = data;
	struct probe *probe = request->probe;
	struct probe_record *record = record_of(probe, request->seq);
	if (record != NULL) {
		int64_t when = (int64_t)(((uint64_t)tv_sec_hi << 32 | tv_sec_lo) * 1000000000u) +
			tv_nsec;
		if (probe->presentation_clock != CLOCK_MONOTONIC) {
			/* into our clock */
			when += now_ns(CLOCK_MONOTONIC) - now_ns(probe->presentation_clock);
		}
		record->presented_ns = when;
	}
	probe->refresh_ns = refresh;
	feedback_finish(request);
}

static void feedback_handle_discarded(void *data, struct wp_presentation_feedback *feedback) {
	struct probe_request *request = data;
	struct probe_record *record = record_of(request->probe, request->seq);
	if (record != NULL) {
		record->discarded = true;
	}
	feedback_finish(request);
}

static const struct wp_presentation_feedback_listener feedback_listener = {
	.sync_output = feedback_handle_sync_output,
	.presented = feedback_handle_presented,
	.discarded = feedback_handle_discarded,
};

static void buffer_handle_release(void *data, struct wl_buffer *wl_buffer) {
	struct probe_buffer *buffer = data;
	struct probe *probe = buffer->probe;
	struct probe_record *record = record_of(probe, buffer->seq);
	if (record != NULL && record->release_ns == 0) {
		record->release_ns = now_ns(CLOCK_MONOTONIC);
	}
	buffer->busy = false;
	if (probe->needs_redraw) {
		draw(probe);
	}
}

static const struct wl_buffer_listener buffer_listener = {
	.release = buffer_handle_release,
};

static struct probe_buffer *free_buffer(struct probe *probe) {
	for (uint32_t i = 0; i < probe->buffer_count; i++) {
		struct probe_buffer *buffer = &probe->buffers[i];
		if (buffer->busy) {
			continue;
		}
		if (buffer->shm.wl_buffer == NULL) {
			if (!tessera_client_shm_buffer_init(&buffer->shm, probe->shm,
					"tessera-frame-probe", probe->width, probe->height)) {
				fail(probe);
				return NULL;
			}
			wl_buffer_add_listener(buffer->shm.wl_buffer, &buffer_listener, buffer);
			buffer->probe = probe;
			buffer->frame = -1;
		}
		return buffer;
	}
	return NULL;
}

/* Draws and commits the next frame, once the last frame callback came and
 * a buffer is free. */
static void draw(struct probe *probe) {
	if (!probe->window.configured || probe->callback_pending || !probe->running) {
		return;
	}
	struct probe_buffer *buffer = free_buffer(probe);
	if (buffer == NULL) {
		probe->needs_redraw = probe->running; /* on the next release */
		return;
	}
	probe->needs_redraw = false;
	int64_t frame = ++probe->frame;
	catch_up(probe, buffer, frame);

	struct wl_surface *surface = probe->window.surface;
	wl_surface_attach(surface, buffer->shm.wl_buffer, 0, 0);
	uint64_t pixels = 0;
	if (frame == 1) {
		wl_surface_damage_buffer(surface, 0, 0, probe->width, probe->height);
		pixels = (uint64_t)probe->width * (uint64_t)probe->height;
	} else {
		struct probe_rect rects[MAX_RECTS];
		size_t count = frame_damage(probe, frame, rects);
		for (size_t i = 0; i < count; i++) {
			wl_surface_damage_buffer(surface, rects[i].x, rects[i].y, rects[i].width,
				rects[i].height);
			pixels += (uint64_t)rects[i].width * (uint64_t)rects[i].height;
		}
	}

	struct probe_request *request = calloc(1, sizeof(*request));
	if (request == NULL) {
		tessera_log(TESSERA_ERROR, "out of memory");
		fail(probe);
		return;
	}
	request->probe = probe;
	request->seq = probe->next_seq++;
	wl_list_insert(&probe->requests, &request->link);
	request->callback = wl_surface_frame(surface);
	wl_callback_add_listener(request->callback, &frame_listener, request);
	if (probe->presentation != NULL) {
		request->feedback = wp_presentation_feedback(probe->presentation, surface);
		wp_presentation_feedback_add_listener(request->feedback, &feedback_listener,
			request);
	}
	probe->callback_pending = true;
	buffer->busy = true;
	buffer->seq = request->seq;

	struct probe_record *record = add_record(probe, request->seq);
	if (record != NULL) {
		probe->damaged_pixels += pixels;
		record->commit_ns = now_ns(CLOCK_MONOTONIC);
	}
	wl_surface_commit(surface);
	if (wl_display_flush(probe->display) < 0 && errno != EAGAIN) {
		return; /* the loop reports the lost connection */
	}
	if (record != NULL && probe->frames_limit != 0 &&
			probe->record_count >= probe->frames_limit) {
		probe->window_end_ns = now_ns(CLOCK_MONOTONIC);
		probe->running = false;
	}
}

/* The measured window */

static bool arm_timer(struct probe *probe, double seconds) {
	struct itimerspec spec = {0};
	if (seconds > 0) {
		spec.it_value.tv_sec = (time_t)seconds;
		spec.it_value.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9);
		if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) {
			spec.it_value.tv_nsec = 1;
		}
	}
	if (timerfd_settime(probe->timer_fd, 0, &spec, NULL) < 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot arm the timer");
		return false;
	}
	return true;
}

/* Drops what was measured so far: the window starts now. */
static void start_window(struct probe *probe) {
	probe->measuring = true;
	probe->record_count = 0;
	probe->record_base = probe->next_seq;
	probe->damaged_pixels = 0;
	probe->window_start_ns = now_ns(CLOCK_MONOTONIC);
	if (!arm_timer(probe, probe->duration)) {
		fail(probe);
	}
}

static bool handle_timer(void *data) {
	struct probe *probe = data;
	uint64_t expirations;
	if (read(probe->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN) {
		tessera_log_errno(TESSERA_ERROR, "cannot read the timer");
	}
	if (!probe->measuring) {
		start_window(probe); /* the warm-up is over */
		return probe->running;
	}
	probe->window_end_ns = now_ns(CLOCK_MONOTONIC);
	return false;
}

/* SIGUSR1 starts the window again; SIGINT and SIGTERM end it. */
static bool handle_signal(void *data) {
	struct probe *probe = data;
	int signo = tessera_client_read_signal(probe->signal_fd);
	if (signo == SIGUSR1) {
		start_window(probe);
		return probe->running;
	}
	if (signo == 0) {
		return true;
	}
	probe->window_end_ns = now_ns(CLOCK_MONOTONIC);
	return false;
}

/* The report */

struct probe_stats {
	size_t count;
	double p50, p90, p99, max, mean;
};

static int compare_doubles(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t count, double p) {
	size_t k = (size_t)llround(p / 100.0 * (double)(count - 1));
	return sorted[k < count ? k : count - 1];
}

/* Latencies in ms from commit to the event at offset `field` of each record. */
static bool latency_stats(const struct probe *probe, size_t field, struct probe_stats *out) {
	*out = (struct probe_stats){0};
	double *values = malloc((probe->record_count + 1) * sizeof(*values));
	if (values == NULL) {
		return false;
	}
	double sum = 0;
	for (size_t i = 0; i < probe->record_count; i++) {
		const struct probe_record *record = &probe->records[i];
		int64_t when = *(const int64_t *)((const char *)record + field);
		if (when != 0) {
			values[out->count] = (double)(when - record->commit_ns) / 1e6;
			sum += values[out->count++];
		}
	}
	if (out->count > 0) {
		qsort(values, out->count, sizeof(*values), compare_doubles);
		out->p50 = percentile(values, out->count, 50);
		out->p90 = percentile(values, out->count, 90);
		out->p99 = percentile(values, out->count, 99);
		out->max = values[out->count - 1];
		out->mean = sum / (double)out->count;
	}
	free(values);
	return true;
}

static void print_stats(FILE *out, const char *name, const struct probe_stats *stats,
		bool last) {
	if (stats->count == 0) {
		fprintf(out, "    \"%s\": null%s\n", name, last ? "" : ",");
		return;
	}
	fprintf(out, "    \"%s\": {\"count\": %zu, \"p50\": %.3f, \"p90\": %.3f, "
		"\"p99\": %.3f, \"max\": %.3f, \"mean\": %.3f}%s\n", name, stats->count,
		stats->p50, stats->p90, stats->p99, stats->max, stats->mean, last ? "" : ",");
}

static void print_ms(FILE *out, int64_t when, int64_t commit, const char *sep) {
	if (when == 0) {
		fprintf(out, "null%s", sep);
	} else {
		fprintf(out, "%.3f%s", (double)(when - commit) / 1e6, sep);
	}
}

static void print_report(const struct probe *probe, FILE *out) {
	double seconds = (double)(probe->window_end_ns - probe->window_start_ns) / 1e9;
	size_t done = 0, presented = 0, discarded = 0, released = 0;
	for (size_t i = 0; i < probe->record_count; i++) {
		const struct probe_record *record = &probe->records[i];
		done += record->done_ns != 0;
		presented += record->presented_ns != 0;
		discarded += record->discarded;
		released += record->release_ns != 0;
	}
	struct probe_stats frame_done, shown, release;
	bool ok = latency_stats(probe, offsetof(struct probe_record, done_ns), &frame_done) &&
		latency_stats(probe, offsetof(struct probe_record, presented_ns), &shown) &&
		latency_stats(probe, offsetof(struct probe_record, release_ns), &release);
	if (!ok) {
		tessera_log(TESSERA_ERROR, "out of memory");
	}
	bool by_presentation = probe->presentation != NULL;
	double rate = seconds > 0 ? (double)(by_presentation ? presented : done) / seconds : 0;
	double area = (double)probe->width * (double)probe->height;
	fprintf(out, "{\n  \"program\": \"tessera-frame-probe\",\n  \"version\": \"%s\",\n",
		TESSERA_VERSION);
	fprintf(out, "  \"width\": %" PRId32 ",\n  \"height\": %" PRId32 ",\n"
		"  \"damage\": \"%s\",\n  \"damaged_fraction\": %.4f,\n  \"buffers\": %" PRIu32 ",\n",
		probe->width, probe->height, probe->damage_name,
		probe->record_count > 0 ? (double)probe->damaged_pixels /
			((double)probe->record_count * area) : 0.0, probe->buffer_count);
	fprintf(out, "  \"presentation\": %s,\n  \"refresh_ns\": %" PRIu32 ",\n",
		by_presentation ? "true" : "false", probe->refresh_ns);
	fprintf(out, "  \"window_start_ns\": %" PRId64 ",\n", probe->window_start_ns);
	fprintf(out, "  \"seconds\": %.6f,\n  \"commits\": %zu,\n  \"frames_done\": %zu,\n"
		"  \"presented\": %zu,\n  \"discarded\": %zu,\n  \"released\": %zu,\n",
		seconds, probe->record_count, done, presented, discarded, released);
	fprintf(out, "  \"commits_per_second\": %.3f,\n  \"frames_per_second\": %.3f,\n"
		"  \"frames_per_second_from\": \"%s\",\n",
		seconds > 0 ? (double)probe->record_count / seconds : 0.0, rate,
		by_presentation ? "presented" : "frame_done");
	fprintf(out, "  \"latency_ms\": {\n");
	print_stats(out, "commit_to_frame_done", &frame_done, false);
	print_stats(out, "commit_to_presented", &shown, false);
	print_stats(out, "commit_to_release", &release, true);
	fprintf(out, "  }");
	if (probe->per_frame) {
		/* [commit since the window started, frame done, presented,
		 * release (each since the commit)], ms */
		fprintf(out, ",\n  \"per_frame\": [");
		for (size_t i = 0; i < probe->record_count; i++) {
			const struct probe_record *record = &probe->records[i];
			fprintf(out, "%s\n    [%.3f, ", i == 0 ? "" : ",",
				(double)(record->commit_ns - probe->window_start_ns) / 1e6);
			print_ms(out, record->done_ns, record->commit_ns, ", ");
			print_ms(out, record->presented_ns, record->commit_ns, ", ");
			print_ms(out, record->release_ns, record->commit_ns, "]");
		}
		fprintf(out, "\n  ]");
	}
	fprintf(out, "\n}\n");
}

/* To stdout, or into a temporary file renamed to the path at the end, so
 * that a reader never sees half a report. */
static bool write_report(const struct probe *probe) {
	if (probe->json_path == NULL) {
		print_report(probe, stdout);
		return fflush(stdout) == 0;
	}
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", probe->json_path) >= (int)sizeof(tmp)) {
		tessera_log(TESSERA_ERROR, "cannot write the report: path too long");
		return false;
	}
	FILE *out = fopen(tmp, "we");
	if (out == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot write the report '%s'", tmp);
		return false;
	}
	print_report(probe, out);
	if (fclose(out) != 0 || rename(tmp, probe->json_path) != 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot write the report '%s'", probe->json_path);
		unlink(tmp);
		return false;
	}
	return true;
}

/* Setup */

static void presentation_handle_clock_id(void *data, struct wp_presentation *presentation,
		uint32_t clk_id) {
	struct probe *probe = data;
	probe->presentation_clock = (clockid_t)clk_id;
}

static const struct wp_presentation_listener presentation_listener = {
	.clock_id = presentation_handle_clock_id,
};

static void window_handle_configure(void *data, int32_t width, int32_t height) {
	/* The probe keeps its size whatever the compositor suggests. */
	draw(data);
}

static void window_handle_close(void *data) {
	struct probe *probe = data;
	probe->window_end_ns = now_ns(CLOCK_MONOTONIC);
	probe->running = false;
}

static const struct tessera_client_window_impl window_impl = {
	.configure = window_handle_configure,
	.close = window_handle_close,
};

static void usage(FILE *out) {
	fputs("Usage: tessera-frame-probe [options]\n"
		"\n"
		"Draws frames as fast as frame callbacks allow and measures, for each\n"
		"commit, commit->frame done, commit->presented and commit->release;\n"
		"prints a JSON report at the end.\n"
		"\n"
		"  --size WxH          window size (default 256x256)\n"
		"  --damage KIND       full (default), N% (a band of N% of the height\n"
		"                      per frame, 1..100) or box (a moving 64x64 box)\n"
		"  --warmup SECONDS    not measured at first (default 1)\n"
		"  --duration SECONDS  measure this long (default: until SIGINT or\n"
		"                      SIGTERM)\n"
		"  --frames N          stop after N measured commits\n"
		"  --buffers N         wl_shm buffers, 2..4 (default 3)\n"
		"  --json FILE         write the report to FILE (default: stdout)\n"
		"  --per-frame         include every frame in the report\n"
		"  --title STR         xdg_toplevel title (default tessera-frame-probe)\n"
		"  --app-id STR        xdg_toplevel app id (default tessera-frame-probe)\n"
		"  -h, --help          this text\n"
		"  -V, --version       version\n"
		"\n"
		"SIGUSR1 drops what was measured and starts measuring again; SIGINT and\n"
		"SIGTERM stop and write the report. Exit status: 0 with a report, 1 when\n"
		"the compositor fails it, 2 for a bad command line.\n", out);
}

static bool parse_seconds(const char *str, double min, double *out) {
	char *end;
	errno = 0;
	double value = strtod(str, &end);
	if (errno != 0 || end == str || *end != '\0' || !(value >= min) ||
			value > MAX_SECONDS) {
		return false;
	}
	*out = value;
	return true;
}

static bool parse_damage(struct probe *probe, const char *str) {
	probe->damage_name = str;
	if (strcmp(str, "full") == 0) {
		probe->damage = PROBE_DAMAGE_BANDS;
		probe->damage_percent = 100;
		return true;
	}
	if (strcmp(str, "box") == 0) {
		probe->damage = PROBE_DAMAGE_BOX;
		return true;
	}
	size_t len = strlen(str);
	char number[8];
	if (len < 2 || len > sizeof(number) || str[len - 1] != '%') {
		return false;
	}
	memcpy(number, str, len - 1);
	number[len - 1] = '\0';
	uint32_t percent;
	if (!tessera_client_parse_uint(number, 100, &percent) || percent == 0) {
		return false;
	}
	probe->damage = PROBE_DAMAGE_BANDS;
	probe->damage_percent = percent;
	return true;
}

/* Returns -1 to go on, otherwise the exit status. */
static int parse_options(struct probe *probe, int argc, char *argv[]) {
	enum {
		OPT_SIZE = 256, OPT_DAMAGE, OPT_WARMUP, OPT_DURATION, OPT_FRAMES, OPT_BUFFERS,
		OPT_JSON, OPT_PER_FRAME, OPT_TITLE, OPT_APP_ID,
	};
	static const struct option long_options[] = {
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "damage", required_argument, NULL, OPT_DAMAGE },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "frames", required_argument, NULL, OPT_FRAMES },
		{ "buffers", required_argument, NULL, OPT_BUFFERS },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "per-frame", no_argument, NULL, OPT_PER_FRAME },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "app-id", required_argument, NULL, OPT_APP_ID },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int opt;
	uint32_t value;
	while ((opt = getopt_long(argc, argv, "hV", long_options, NULL)) != -1) {
		switch (opt) {
		case OPT_SIZE:
			if (!tessera_client_parse_size(optarg, MAX_SURFACE_SIZE, &probe->width,
					&probe->height)) {
				tessera_log(TESSERA_ERROR, "invalid --size '%s' (expected WxH, 1..%d)",
					optarg, MAX_SURFACE_SIZE);
				return 2;
			}
			break;
		case OPT_DAMAGE:
			if (!parse_damage(probe, optarg)) {
				tessera_log(TESSERA_ERROR, "invalid --damage '%s' "
					"(expected full, N%% with N 1..100, or box)", optarg);
				return 2;
			}
			break;
		case OPT_WARMUP:
		case OPT_DURATION:
			if (!parse_seconds(optarg, opt == OPT_WARMUP ? 0 : 0.001,
					opt == OPT_WARMUP ? &probe->warmup : &probe->duration)) {
				tessera_log(TESSERA_ERROR, "invalid --%s '%s' (expected seconds, at most %.0f)",
					opt == OPT_WARMUP ? "warmup" : "duration", optarg, MAX_SECONDS);
				return 2;
			}
			break;
		case OPT_FRAMES:
			if (!tessera_client_parse_uint(optarg, UINT32_MAX, &value) || value == 0) {
				tessera_log(TESSERA_ERROR, "invalid --frames '%s' (expected N > 0)", optarg);
				return 2;
			}
			probe->frames_limit = value;
			break;
		case OPT_BUFFERS:
			if (!tessera_client_parse_uint(optarg, MAX_BUFFERS, &value) ||
					value < MIN_BUFFERS) {
				tessera_log(TESSERA_ERROR, "invalid --buffers '%s' (expected %d..%d)", optarg,
					MIN_BUFFERS, MAX_BUFFERS);
				return 2;
			}
			probe->buffer_count = value;
			break;
		case OPT_JSON:
			probe->json_path = optarg;
			break;
		case OPT_PER_FRAME:
			probe->per_frame = true;
			break;
		case OPT_TITLE:
			probe->title = optarg;
			break;
		case OPT_APP_ID:
			probe->app_id = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tessera-frame-probe %s\n", TESSERA_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		tessera_log(TESSERA_ERROR, "unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

static bool connect_probe(struct probe *probe) {
	probe->display = wl_display_connect(NULL);
	if (probe->display == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot connect to the Wayland compositor");
		return false;
	}
	const struct tessera_client_global wanted[] = {
		{ &wl_compositor_interface, 4, 4, (void **)&probe->compositor },
		{ &wl_shm_interface, 1, 1, (void **)&probe->shm },
		{ &xdg_wm_base_interface, 1, 1, (void **)&probe->wm_base,
			&tessera_client_wm_base_listener, probe },
		{ &wp_presentation_interface, 1, 1, (void **)&probe->presentation,
			&presentation_listener, probe, .optional = true },
	};
	_Static_assert(sizeof(wanted) == sizeof(probe->wanted), "wanted[] size");
	memcpy(probe->wanted, wanted, sizeof(wanted));
	tessera_client_registry_init(&probe->registry, probe->display, probe->wanted,
		sizeof(probe->wanted) / sizeof(probe->wanted[0]));
	/* the globals, then wp_presentation's clock */
	if (!tessera_client_roundtrip(probe->display) ||
			!tessera_client_roundtrip(probe->display)) {
		return false;
	}
	if (!tessera_client_registry_check(&probe->registry)) {
		return false;
	}
	if (probe->presentation == NULL) {
		tessera_log(TESSERA_ERROR, "no wp_presentation: commit->presented is not measured");
	}
	tessera_client_window_init(&probe->window, probe->compositor, probe->wm_base,
		probe->title, &window_impl, probe);
	xdg_toplevel_set_app_id(probe->window.xdg_toplevel, probe->app_id);
	wl_surface_commit(probe->window.surface);
	return true;
}

static void probe_finish(struct probe *probe) {
	struct probe_request *request, *tmp;
	wl_list_for_each_safe(request, tmp, &probe->requests, link) {
		if (request->callback != NULL) {
			wl_callback_destroy(request->callback);
		}
		if (request->feedback != NULL) {
			wp_presentation_feedback_destroy(request->feedback);
		}
		wl_list_remove(&request->link);
		free(request);
	}
	for (uint32_t i = 0; i < MAX_BUFFERS; i++) {
		tessera_client_shm_buffer_finish(&probe->buffers[i].shm);
	}
	tessera_client_window_finish(&probe->window);
	tessera_client_disconnect(probe->display, &probe->registry);
	if (probe->timer_fd >= 0) {
		close(probe->timer_fd);
	}
	if (probe->signal_fd >= 0) {
		close(probe->signal_fd);
	}
	free(probe->records);
}

int main(int argc, char *argv[]) {
	tessera_log_init(TESSERA_ERROR, NULL);
	struct probe probe = {
		.width = 256,
		.height = 256,
		.damage = PROBE_DAMAGE_BANDS,
		.damage_percent = 100,
		.damage_name = "full",
		.warmup = 1.0,
		.buffer_count = 3,
		.title = "tessera-frame-probe",
		.app_id = "tessera-frame-probe",
		.presentation_clock = CLOCK_MONOTONIC,
		.timer_fd = -1,
		.signal_fd = -1,
		.running = true,
	};
	wl_list_init(&probe.requests);
	int status = parse_options(&probe, argc, argv);
	if (status >= 0) {
		return status;
	}

	status = 1;
	probe.signal_fd = tessera_client_signalfd((const int[]){ SIGINT, SIGTERM, SIGUSR1 }, 3);
	probe.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (probe.signal_fd < 0 || probe.timer_fd < 0) {
		if (probe.timer_fd < 0) {
			tessera_log_errno(TESSERA_ERROR, "cannot create a timer");
		}
		goto out;
	}
	if (!connect_probe(&probe)) {
		goto out;
	}
	if (probe.warmup > 0) {
		if (!arm_timer(&probe, probe.warmup)) {
			goto out;
		}
	} else {
		start_window(&probe);
	}
	const struct tessera_client_fd fds[] = {
		{ .fd = probe.signal_fd, .handle = handle_signal, .data = &probe },
		{ .fd = probe.timer_fd, .handle = handle_timer, .data = &probe },
	};
	if (!tessera_client_run(probe.display, fds, 2, &probe.running) ||
			probe.exit_code != 0) {
		goto out;
	}
	if (!probe.measuring) {
		/* stopped during the warm-up: an empty window */
		probe.window_start_ns = probe.window_end_ns = now_ns(CLOCK_MONOTONIC);
	} else if (probe.window_end_ns == 0) {
		probe.window_end_ns = now_ns(CLOCK_MONOTONIC);
	}
	status = write_report(&probe) ? 0 : 1;

out:
	probe_finish(&probe);
	return status;
}
