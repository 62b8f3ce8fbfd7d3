/*
 * tessera-vmd: the per-VM virtio-gpu device daemon (see
 * docs/ARCHITECTURE.md for where it sits between the VMs and tessera).
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

#include "color.h"
#include "gpu.h"
#include "log.h"
#include "report.h"
#include "sandbox.h"
#include "session.h"
#include "vm-settings.h"
#include "wayland.h"

#define MAX_NAME_LENGTH 32

static const char usage_head[] =
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
	"      --sandbox on|off        confine the daemon (seccomp, Landlock) once\n"
	"                              started (default on; off to debug)\n"
	"  -v, --verbose               debug log (TESSERA_VMD_DEBUG=1 too)\n"
	"  -q, --quiet                 errors only\n"
	"  -h, --help                  this text\n"
	"  -V, --version               version\n"
	"\n"
	"Per-VM settings, also keys of [vm NAME] in tessera.ini (B: bytes, with an\n"
	"optional K, M or G; default and maximum in parentheses):\n";

static const char usage_tail[] =
	"\n"
	"SIGUSR1 prints the counters on stderr (they are printed at exit too);\n"
	"SIGTERM and SIGINT end the daemon cleanly.\n";

static void print_usage(FILE *out) {
	fputs(usage_head, out);
	tessera_vm_settings_print_usage(out);
	fputs(usage_tail, out);
}

struct options {
	const char *socket_path;
	const char *name;
	uint32_t color;
	struct vmd_gpu_options gpu;
	enum tessera_log_importance verbosity;
	bool sandbox;
};

/* A guest can provoke an error line per command: at most this many lines
 * per second are written, the rest counted and reported. */
#define LOG_LINES_PER_SECOND 200

/* ---- options ---- */

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

/* getopt values of the per-VM settings: OPT_SETTING + their id */
#define OPT_SETTING 0x100
#define OPT_SANDBOX 0x80

/* Returns -1 to go on, otherwise the exit status. */
static int parse_options(int argc, char *argv[], struct options *opts) {
	static const struct option fixed_options[] = {
		{ "vhost-user", required_argument, NULL, 'u' },
		{ "name", required_argument, NULL, 'n' },
		{ "color", required_argument, NULL, 'c' },
		{ "sandbox", required_argument, NULL, OPT_SANDBOX },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
	};
	enum { N_FIXED = sizeof(fixed_options) / sizeof(fixed_options[0]) };
	struct option long_options[N_FIXED + TESSERA_VM_SETTING_ID_COUNT + 1];
	memcpy(long_options, fixed_options, sizeof(fixed_options));
	for (int i = 0; i < TESSERA_VM_SETTING_ID_COUNT; i++) {
		long_options[N_FIXED + i] = (struct option){
			tessera_vm_setting_get(i)->key, required_argument, NULL, OPT_SETTING + i,
		};
	}
	long_options[N_FIXED + TESSERA_VM_SETTING_ID_COUNT] = (struct option){ 0 };

	*opts = (struct options){ .verbosity = TESSERA_INFO, .sandbox = true };
	const char *debug = getenv("TESSERA_VMD_DEBUG");
	if (debug != NULL && strcmp(debug, "1") == 0) {
		opts->verbosity = TESSERA_DEBUG;
	}
	tessera_vm_settings_default(&opts->gpu.settings);
	int c;
	while ((c = getopt_long(argc, argv, "u:n:c:vqhV", long_options, NULL)) != -1) {
		if (c >= OPT_SETTING && c < OPT_SETTING + TESSERA_VM_SETTING_ID_COUNT) {
			const struct tessera_vm_setting *setting =
				tessera_vm_setting_get(c - OPT_SETTING);
			char why[96];
			if (!tessera_vm_setting_parse(setting, optarg, &opts->gpu.settings,
					why, sizeof(why))) {
				fprintf(stderr, "tessera-vmd: invalid value '%s' for --%s (%s)\n",
					optarg, setting->key, why);
				return 2;
			}
			continue;
		}
		switch (c) {
		case 'u':
			if (optarg[0] == '\0') {
				fprintf(stderr, "tessera-vmd: empty --vhost-user path\n");
				return 2;
			}
			opts->socket_path = optarg;
			break;
		case 'n':
			if (!valid_name(optarg)) {
				fprintf(stderr, "tessera-vmd: invalid VM name '%s' (1-%d "
					"characters of A-Z a-z 0-9 _ -)\n", optarg,
					MAX_NAME_LENGTH);
				return 2;
			}
			opts->name = optarg;
			break;
		case 'c':
			if (!tessera_color_parse(optarg, &opts->color)) {
				fprintf(stderr, "tessera-vmd: invalid colour '%s' (expected "
					"RRGGBB)\n", optarg);
				return 2;
			}
			break;
		case OPT_SANDBOX:
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
				fprintf(stderr, "tessera-vmd: invalid value '%s' for --sandbox "
					"(on or off)\n", optarg);
				return 2;
			}
			opts->sandbox = strcmp(optarg, "on") == 0;
			break;
		case 'v':
			opts->verbosity = TESSERA_DEBUG;
			break;
		case 'q':
			opts->verbosity = TESSERA_ERROR;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		case 'V':
			printf("tessera-vmd %s\n", TESSERA_VERSION);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tessera-vmd: unexpected argument '%s'\n", argv[optind]);
		print_usage(stderr);
		return 2;
	}
	if (opts->socket_path == NULL || opts->name == NULL) {
		fprintf(stderr, "tessera-vmd: --vhost-user and --name are required\n");
		print_usage(stderr);
		return 2;
	}
	opts->gpu.vm_name = opts->name;
	return -1;
}

/* ---- running ---- */

struct vmd {
	const char *name;
	struct wl_event_loop *loop;
	struct vmd_wayland *wayland;
	struct vmd_gpu *gpu;
	struct vmd_report *report;
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
		"bytes_copied=%llu releases=%llu events_dropped=%llu virgl=%s "
		"virgl_submits=%llu virgl_fences=%llu virgl_bytes=%llu "
		"virgl_read_bytes=%llu virgl_exports=%llu\n", vmd->name,
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
		(unsigned long long)s.session.events_dropped, s.virgl ? "on" : "off",
		(unsigned long long)s.virgl_submits, (unsigned long long)s.virgl_fences,
		(unsigned long long)s.virgl_bytes, (unsigned long long)s.virgl_read_bytes,
		(unsigned long long)s.virgl_exports);
	fflush(stderr);
}

static int handle_stop_signal(int signal_number, void *data) {
	struct vmd *vmd = data;
	tessera_log(TESSERA_INFO, "signal %d: exiting", signal_number);
	vmd->running = false;
	return 0;
}

static int handle_stats_signal(int signal_number, void *data) {
	print_stats(data, "SIGUSR1");
	return 0;
}

static void handle_wayland_lost(void *data) {
	struct vmd *vmd = data;
	tessera_log(TESSERA_ERROR, "lost the connection to the compositor: exiting");
	vmd->running = false;
	vmd->status = 1;
}

int main(int argc, char *argv[]) {
	struct options opts;
	int ret = parse_options(argc, argv, &opts);
	if (ret >= 0) {
		return ret;
	}
	/* every line names the VM */
	char tag[MAX_NAME_LENGTH + 16];
	snprintf(tag, sizeof(tag), "tessera-vmd[%s]", opts.name);
	tessera_log_init(opts.verbosity, NULL);
	tessera_log_set_tag(tag);
	tessera_log_set_rate_limit(LOG_LINES_PER_SECOND);
	signal(SIGPIPE, SIG_IGN);

	struct vmd vmd = { .name = opts.name, .running = true, .status = 0 };
	struct wl_event_source *signals[4] = { NULL };
	vmd.loop = wl_event_loop_create();
	if (vmd.loop == NULL) {
		tessera_log(TESSERA_ERROR, "cannot create the event loop");
		return 1;
	}
	signals[0] = wl_event_loop_add_signal(vmd.loop, SIGTERM,
		handle_stop_signal, &vmd);
	signals[1] = wl_event_loop_add_signal(vmd.loop, SIGINT,
		handle_stop_signal, &vmd);
	signals[2] = wl_event_loop_add_signal(vmd.loop, SIGUSR1,
		handle_stats_signal, &vmd);
#ifdef VMD_SANDBOX_TEST_HOOK
	signals[3] = vmd_sandbox_add_test_hook(vmd.loop);
#endif

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
	vmd.report = vmd_report_create(vmd.loop, vmd.wayland, vmd.gpu);
	if (vmd.report == NULL) {
		vmd.status = 1;
		goto out;
	}
	tessera_log(TESSERA_INFO, "VM '%s' (colour %06x): virtio-gpu device on %s",
		opts.name, opts.color, opts.socket_path);
	/* before the first guest byte is read */
	if (opts.sandbox && !vmd_sandbox_enter(&(struct vmd_sandbox_options){
			.socket_path = opts.socket_path,
			.udmabuf_fd = vmd_session_open_udmabuf(),
			.gl = vmd_gpu_has_virgl(vmd.gpu),
			.drm = vmd_gpu_virgl_render_node(vmd.gpu) })) {
		vmd.status = 1;
		goto out;
	}

	while (vmd.running) {
		vmd_report_update(vmd.report);
		vmd_wayland_flush(vmd.wayland);
		if (wl_event_loop_dispatch(vmd.loop, -1) < 0 && errno != EINTR) {
			tessera_log_errno(TESSERA_ERROR, "event loop");
			vmd.status = 1;
			break;
		}
	}
	print_stats(&vmd, "exit");

out:
	vmd_report_destroy(vmd.report);
	vmd_gpu_destroy(vmd.gpu);
	if (vmd.wayland != NULL) {
		vmd_wayland_flush(vmd.wayland);
		vmd_wayland_destroy(vmd.wayland);
	}
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (signals[i] != NULL) {
			wl_event_source_remove(signals[i]);
		}
	}
	wl_event_loop_destroy(vmd.loop);
	return vmd.status;
}
