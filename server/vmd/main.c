/*
 * tessera-vmd: the per-VM virtio-gpu device daemon (DESIGN.md section 1).
 *
 * One process per VM: a vhost-user backend (the VMM connects to its UNIX
 * socket) implementing a virtio-gpu device, and one Wayland connection to
 * the compositor (WAYLAND_SOCKET when started by tessera, which tags it
 * with the VM's identity; WAYLAND_DISPLAY otherwise). Both run on one
 * wl_event_loop. One VMM connection at a time; when it goes, everything of
 * that guest is freed (its windows disappear) and the next one is accepted.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wayland-server-core.h>
#include <wlr/util/log.h>

#include "gpu.h"
#include "session.h"
#include "wayland.h"

#define MAX_NAME_LENGTH 32

static const char usage[] =
	"Usage: tessera-vmd --vhost-user PATH --name NAME [options]\n"
	"\n"
	"The virtio-gpu device of one virtual machine for the tessera\n"
	"compositor: a vhost-user backend listening on PATH (QEMU:\n"
	"-chardev socket,id=gpu,path=PATH -device vhost-user-gpu-pci,chardev=gpu)\n"
	"that shows the VM's console and windows on the compositor.\n"
	"\n"
	"  -u, --vhost-user PATH       vhost-user socket to listen on (required)\n"
	"  -n, --name NAME             VM name, 1-32 of A-Z a-z 0-9 _ - (required)\n"
	"  -c, --color RRGGBB          VM colour (the compositor draws the frames)\n"
	"      --display-size WxH      mode of the VM's display (default: the\n"
	"                              compositor's output less a margin, else\n"
	"                              1024x768)\n"
	"Per-VM limits (sizes take a K, M or G suffix):\n"
	"      --max-resources N       live virtio-gpu resources (4096)\n"
	"      --max-resource-size B   bytes of one resource (256M)\n"
	"      --max-backing B         attached backing of all resources (2G)\n"
	"      --max-backing-entries N entries of one ATTACH_BACKING (16384)\n"
	"      --max-total-entries N   attached entries of all resources (262144)\n"
	"      --max-contexts N        3D contexts (64)\n"
	"      --max-surfaces N        wire protocol surfaces (1024, at most)\n"
	"      --max-buffers N         wire protocol buffers (4096, at most)\n"
	"      --max-buffer-bytes B    bytes of live wire protocol buffers (1G)\n"
	"      --max-batch-size B      bytes of one SUBMIT_3D payload (256K, at\n"
	"                              most)\n"
	"  -v, --verbose               debug log (TESSERA_VMD_DEBUG=1 too)\n"
	"  -q, --quiet                 errors only\n"
	"  -h, --help                  this text\n"
	"  -V, --version               version\n"
	"\n"
	"SIGUSR1 prints the counters on stderr (they are printed at exit too);\n"
	"SIGTERM and SIGINT end the daemon cleanly.\n";

struct options {
	const char *socket_path;
	const char *name;
	uint32_t color;
	struct vmd_gpu_options gpu;
	enum wlr_log_importance verbosity;
};

/* ---- logging: every line names the VM ---- */

static char log_name[MAX_NAME_LENGTH + 1] = "?";
static enum wlr_log_importance log_level = WLR_INFO;

/* A guest can provoke an error line per command: at most this many lines
 * per second are written, the rest counted and reported. */
#define LOG_LINES_PER_SECOND 200

static void log_callback(enum wlr_log_importance importance, const char *fmt,
		va_list args) {
	static time_t window;
	static unsigned lines;
	static unsigned long suppressed;
	if (importance > log_level) {
		return;
	}
	static const char *const prefix[] = {
		[WLR_SILENT] = "", [WLR_ERROR] = "[ERROR] ", [WLR_INFO] = "[INFO] ",
		[WLR_DEBUG] = "[DEBUG] ",
	};
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec != window) {
		if (suppressed > 0) {
			fprintf(stderr, "tessera-vmd[%s] [ERROR] %lu log lines "
				"suppressed (more than %d per second)\n", log_name,
				suppressed, LOG_LINES_PER_SECOND);
		}
		window = ts.tv_sec;
		lines = 0;
		suppressed = 0;
	}
	if (++lines > LOG_LINES_PER_SECOND) {
		suppressed++;
		return;
	}
	char line[2048];
	int n = vsnprintf(line, sizeof(line), fmt, args);
	if (n < 0) {
		return;
	}
	fprintf(stderr, "%02ld:%02ld:%02ld.%03ld tessera-vmd[%s] %s%s\n",
		(long)(ts.tv_sec / 3600), (long)(ts.tv_sec / 60 % 60),
		(long)(ts.tv_sec % 60), ts.tv_nsec / 1000000, log_name,
		importance < WLR_LOG_IMPORTANCE_LAST ? prefix[importance] : "", line);
}

/* ---- options ---- */

static bool parse_u64(const char *arg, bool size, uint64_t max, uint64_t *out) {
	char *end;
	errno = 0;
	if (arg[0] < '0' || arg[0] > '9') {
		return false;
	}
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno != 0 || end == arg) {
		return false;
	}
	unsigned shift = 0;
	if (size && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		default: return false;
		}
		end++;
	}
	if (*end != '\0' || v == 0 || v > (max >> shift)) {
		return false;
	}
	*out = (uint64_t)v << shift;
	return true;
}

static bool parse_size(const char *arg, uint32_t *w, uint32_t *h) {
	char *end;
	errno = 0;
	if (arg[0] < '0' || arg[0] > '9') {
		return false;
	}
	unsigned long width = strtoul(arg, &end, 10);
	if (errno != 0 || *end != 'x' || end[1] < '0' || end[1] > '9') {
		return false;
	}
	const char *hs = end + 1;
	unsigned long height = strtoul(hs, &end, 10);
	if (errno != 0 || *end != '\0' || width < 320 || height < 200 ||
			width > VMD_GPU_MAX_DISPLAY_SIZE ||
			height > VMD_GPU_MAX_DISPLAY_SIZE) {
		return false;
	}
	*w = (uint32_t)width;
	*h = (uint32_t)height;
	return true;
}

static bool valid_name(const char *name) {
	size_t len = strlen(name);
	if (len == 0 || len > MAX_NAME_LENGTH) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') || c == '_' || c == '-')) {
			return false;
		}
	}
	return true;
}

static bool parse_color(const char *arg, uint32_t *color) {
	if (arg[0] == '#') {
		arg++;
	}
	if (strlen(arg) != 6) {
		return false;
	}
	uint32_t v = 0;
	for (int i = 0; i < 6; i++) {
		char c = arg[i];
		uint32_t d;
		if (c >= '0' && c <= '9') {
			d = (uint32_t)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			d = (uint32_t)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			d = (uint32_t)(c - 'A' + 10);
		} else {
			return false;
		}
		v = v << 4 | d;
	}
	*color = v;
	return true;
}

enum {
	OPT_DISPLAY_SIZE = 0x100,
	OPT_MAX_RESOURCES,
	OPT_MAX_RESOURCE_SIZE,
	OPT_MAX_BACKING,
	OPT_MAX_BACKING_ENTRIES,
	OPT_MAX_TOTAL_ENTRIES,
	OPT_MAX_CONTEXTS,
	OPT_MAX_SURFACES,
	OPT_MAX_BUFFERS,
	OPT_MAX_BUFFER_BYTES,
	OPT_MAX_BATCH_SIZE,
};

/* Returns -1 to go on, otherwise the exit status. */
static int parse_options(int argc, char *argv[], struct options *opts) {
	static const struct option long_options[] = {
		{ "vhost-user", required_argument, NULL, 'u' },
		{ "name", required_argument, NULL, 'n' },
		{ "color", required_argument, NULL, 'c' },
		{ "display-size", required_argument, NULL, OPT_DISPLAY_SIZE },
		{ "max-resources", required_argument, NULL, OPT_MAX_RESOURCES },
		{ "max-resource-size", required_argument, NULL, OPT_MAX_RESOURCE_SIZE },
		{ "max-backing", required_argument, NULL, OPT_MAX_BACKING },
		{ "max-backing-entries", required_argument, NULL, OPT_MAX_BACKING_ENTRIES },
		{ "max-total-entries", required_argument, NULL, OPT_MAX_TOTAL_ENTRIES },
		{ "max-contexts", required_argument, NULL, OPT_MAX_CONTEXTS },
		{ "max-surfaces", required_argument, NULL, OPT_MAX_SURFACES },
		{ "max-buffers", required_argument, NULL, OPT_MAX_BUFFERS },
		{ "max-buffer-bytes", required_argument, NULL, OPT_MAX_BUFFER_BYTES },
		{ "max-batch-size", required_argument, NULL, OPT_MAX_BATCH_SIZE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	*opts = (struct options){ .verbosity = WLR_INFO };
	const char *debug = getenv("TESSERA_VMD_DEBUG");
	if (debug != NULL && strcmp(debug, "1") == 0) {
		opts->verbosity = WLR_DEBUG;
	}
	vmd_gpu_limits_default(&opts->gpu.limits);
	vmd_session_limits_default(&opts->gpu.session_limits);
	struct vmd_gpu_limits *l = &opts->gpu.limits;
	struct vmd_session_limits *sl = &opts->gpu.session_limits;
	int c;
	while ((c = getopt_long(argc, argv, "u:n:c:vqhV", long_options, NULL)) != -1) {
		uint64_t v = 0;
		bool ok = true;
		const char *what = NULL;
		switch (c) {
		case 'u':
			if (optarg[0] == '\0') {
				fprintf(stderr, "tessera-vmd: empty --vhost-user path\n");
				return 2;
			}
			opts->socket_path = optarg;
			continue;
		case 'n':
			if (!valid_name(optarg)) {
				fprintf(stderr, "tessera-vmd: invalid VM name '%s' (1-%d "
					"characters of A-Z a-z 0-9 _ -)\n", optarg,
					MAX_NAME_LENGTH);
				return 2;
			}
			opts->name = optarg;
			continue;
		case 'c':
			if (!parse_color(optarg, &opts->color)) {
				fprintf(stderr, "tessera-vmd: invalid colour '%s' (expected "
					"RRGGBB)\n", optarg);
				return 2;
			}
			continue;
		case OPT_DISPLAY_SIZE:
			if (!parse_size(optarg, &opts->gpu.display_width,
					&opts->gpu.display_height)) {
				fprintf(stderr, "tessera-vmd: invalid display size '%s' "
					"(expected WxH, at least 320x200, at most %dx%d)\n", optarg,
					VMD_GPU_MAX_DISPLAY_SIZE, VMD_GPU_MAX_DISPLAY_SIZE);
				return 2;
			}
			continue;
		case OPT_MAX_RESOURCES:
			what = "--max-resources";
			if ((ok = parse_u64(optarg, false, VMD_GPU_HARD_MAX_RESOURCES, &v))) {
				l->max_resources = (uint32_t)v;
			}
			break;
		case OPT_MAX_RESOURCE_SIZE:
			what = "--max-resource-size";
			if ((ok = parse_u64(optarg, true, VMD_GPU_HARD_MAX_RESOURCE_SIZE, &v))) {
				l->max_resource_size = v;
			}
			break;
		case OPT_MAX_BACKING:
			what = "--max-backing";
			if ((ok = parse_u64(optarg, true, UINT64_C(1) << 40, &v))) {
				l->max_backing_bytes = v;
			}
			break;
		case OPT_MAX_BACKING_ENTRIES:
			what = "--max-backing-entries";
			if ((ok = parse_u64(optarg, false, VMD_GPU_HARD_MAX_BACKING_ENTRIES, &v))) {
				l->max_backing_entries = (uint32_t)v;
			}
			break;
		case OPT_MAX_TOTAL_ENTRIES:
			what = "--max-total-entries";
			if ((ok = parse_u64(optarg, false, UINT64_C(1) << 24, &v))) {
				l->max_total_entries = v;
			}
			break;
		case OPT_MAX_CONTEXTS:
			what = "--max-contexts";
			if ((ok = parse_u64(optarg, false, VMD_GPU_HARD_MAX_CONTEXTS, &v))) {
				l->max_contexts = (uint32_t)v;
			}
			break;
		case OPT_MAX_SURFACES:
			what = "--max-surfaces";
			if ((ok = parse_u64(optarg, false, sl->max_surfaces, &v))) {
				sl->max_surfaces = (uint32_t)v;
			}
			break;
		case OPT_MAX_BUFFERS:
			what = "--max-buffers";
			if ((ok = parse_u64(optarg, false, sl->max_buffers, &v))) {
				sl->max_buffers = (uint32_t)v;
			}
			break;
		case OPT_MAX_BUFFER_BYTES:
			what = "--max-buffer-bytes";
			if ((ok = parse_u64(optarg, true, UINT64_C(1) << 40, &v))) {
				sl->max_buffer_bytes = v;
			}
			break;
		case OPT_MAX_BATCH_SIZE:
			what = "--max-batch-size";
			if ((ok = parse_u64(optarg, true, sl->max_batch_size, &v))) {
				sl->max_batch_size = (uint32_t)v;
			}
			break;
		case 'v':
			opts->verbosity = WLR_DEBUG;
			continue;
		case 'q':
			opts->verbosity = WLR_ERROR;
			continue;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("tessera-vmd %s\n", TESSERA_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "tessera-vmd: invalid value '%s' for %s (a "
				"positive number within the hard limit)\n", optarg, what);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tessera-vmd: unexpected argument '%s'\n", argv[optind]);
		fputs(usage, stderr);
		return 2;
	}
	if (opts->socket_path == NULL || opts->name == NULL) {
		fprintf(stderr, "tessera-vmd: --vhost-user and --name are required\n");
		fputs(usage, stderr);
		return 2;
	}
	opts->gpu.vm_name = opts->name;
	return -1;
}

/* ---- running ---- */

struct vmd {
	struct wl_event_loop *loop;
	struct vmd_wayland *wayland;
	struct vmd_gpu *gpu;
	bool running;
	int status;
};

static void print_stats(struct vmd *vmd, const char *when) {
	struct vmd_gpu_stats s;
	vmd_gpu_get_stats(vmd->gpu, &s);
	fprintf(stderr, "tessera-vmd[%s] stats (%s): connections=%llu "
		"commands=%llu errors=%llu submits=%llu held=%llu held_now=%u "
		"resources=%u contexts=%u backing_bytes=%llu backing_entries=%llu "
		"mapped_bytes=%llu mapped_regions=%llu flushes=%llu "
		"console_frames=%llu console_bytes_copied=%llu "
		"console_last_frame_bytes=%llu console_size=%ux%u frames=%llu "
		"bytes_copied=%llu releases=%llu events_dropped=%llu\n", log_name,
		when, (unsigned long long)s.connections,
		(unsigned long long)s.commands, (unsigned long long)s.errors,
		(unsigned long long)s.submits, (unsigned long long)s.held, s.held_now,
		s.resources, s.contexts, (unsigned long long)s.backing_bytes,
		(unsigned long long)s.backing_entries,
		(unsigned long long)s.mapped_bytes,
		(unsigned long long)s.mapped_regions, (unsigned long long)s.flushes,
		(unsigned long long)s.console.frames,
		(unsigned long long)s.console.bytes_copied,
		(unsigned long long)s.console.last_frame_bytes, s.console.width,
		s.console.height, (unsigned long long)s.session.frames,
		(unsigned long long)(s.session.bytes_copied + s.console.bytes_copied),
		(unsigned long long)s.session.releases,
		(unsigned long long)s.session.events_dropped);
	fflush(stderr);
}

static int handle_stop_signal(int signal_number, void *data) {
	struct vmd *vmd = data;
	wlr_log(WLR_INFO, "signal %d: exiting", signal_number);
	vmd->running = false;
	return 0;
}

static int handle_stats_signal(int signal_number, void *data) {
	print_stats(data, "SIGUSR1");
	return 0;
}

static void handle_wayland_lost(void *data) {
	struct vmd *vmd = data;
	wlr_log(WLR_ERROR, "lost the connection to the compositor: exiting");
	vmd->running = false;
	vmd->status = 1;
}

int main(int argc, char *argv[]) {
	struct options opts;
	int ret = parse_options(argc, argv, &opts);
	if (ret >= 0) {
		return ret;
	}
	snprintf(log_name, sizeof(log_name), "%s", opts.name);
	log_level = opts.verbosity;
	wlr_log_init(opts.verbosity, log_callback);
	signal(SIGPIPE, SIG_IGN);

	struct vmd vmd = { .running = true, .status = 0 };
	struct wl_event_source *signals[3] = { NULL };
	vmd.loop = wl_event_loop_create();
	if (vmd.loop == NULL) {
		wlr_log(WLR_ERROR, "cannot create the event loop");
		return 1;
	}
	signals[0] = wl_event_loop_add_signal(vmd.loop, SIGTERM,
		handle_stop_signal, &vmd);
	signals[1] = wl_event_loop_add_signal(vmd.loop, SIGINT,
		handle_stop_signal, &vmd);
	signals[2] = wl_event_loop_add_signal(vmd.loop, SIGUSR1,
		handle_stats_signal, &vmd);

	vmd.wayland = vmd_wayland_create(vmd.loop);
	if (vmd.wayland == NULL) {
		vmd.status = 1;
		goto out;
	}
	vmd.wayland->lost = handle_wayland_lost;
	vmd.wayland->lost_data = &vmd;

	vmd.gpu = vmd_gpu_create(vmd.loop, vmd.wayland, &opts.gpu);
	if (vmd.gpu == NULL || vmd_gpu_listen(vmd.gpu, opts.socket_path) != 0) {
		vmd.status = 1;
		goto out;
	}
	wlr_log(WLR_INFO, "VM '%s' (colour %06x): virtio-gpu device on %s",
		opts.name, opts.color, opts.socket_path);

	while (vmd.running) {
		vmd_wayland_flush(vmd.wayland);
		if (wl_event_loop_dispatch(vmd.loop, -1) < 0 && errno != EINTR) {
			wlr_log_errno(WLR_ERROR, "event loop");
			vmd.status = 1;
			break;
		}
	}
	print_stats(&vmd, "exit");

out:
	vmd_gpu_destroy(vmd.gpu);
	if (vmd.wayland != NULL) {
		vmd_wayland_flush(vmd.wayland);
		vmd_wayland_destroy(vmd.wayland);
	}
	for (size_t i = 0; i < 3; i++) {
		if (signals[i] != NULL) {
			wl_event_source_remove(signals[i]);
		}
	}
	wl_event_loop_destroy(vmd.loop);
	return vmd.status;
}
