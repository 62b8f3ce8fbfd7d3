/*
 * The command line of the simple clients (tessera-simple-dmabuf,
 * tessera-simple-egl): the options they share, parsed here, and those of
 * the program, handed to it (tessera-client.h).
 */
#include <getopt.h>
#include <stdio.h>

#include "color.h"
#include "log.h"
#include "tessera-client.h"

#define MAX_OPTIONS 16
#define MAX_FRAMES 100000000u

enum {
	OPT_COLOR = 0x1000,
	OPT_SIZE,
	OPT_FRAMES,
	OPT_TITLE,
	OPT_HELP,
};

static const struct option shared_options[] = {
	{"color", required_argument, NULL, OPT_COLOR},
	{"size", required_argument, NULL, OPT_SIZE},
	{"frames", required_argument, NULL, OPT_FRAMES},
	{"title", required_argument, NULL, OPT_TITLE},
	{"help", no_argument, NULL, OPT_HELP},
};

static int shared_option(struct tessera_client_simple_options *opts, int opt,
		const char *arg) {
	switch (opt) {
	case OPT_COLOR:
		if (!tessera_color_parse(arg, &opts->color)) {
			tessera_log(TESSERA_ERROR, "invalid --color '%s' (expected RRGGBB)", arg);
			return 2;
		}
		return 0;
	case OPT_SIZE:
		if (!tessera_client_parse_size(arg, opts->max_size, &opts->width, &opts->height)) {
			tessera_log(TESSERA_ERROR, "invalid --size '%s' (expected WxH, 1..%u)",
				arg, opts->max_size);
			return 2;
		}
		return 0;
	case OPT_FRAMES:
		if (!tessera_client_parse_uint(arg, MAX_FRAMES, &opts->frames) || opts->frames == 0) {
			tessera_log(TESSERA_ERROR, "invalid --frames '%s' (expected 1..%u)", arg,
				MAX_FRAMES);
			return 2;
		}
		return 0;
	case OPT_TITLE:
		opts->title = arg;
		return 0;
	default:
		return 2;
	}
}

int tessera_client_parse_simple_options(struct tessera_client_simple_options *opts,
		int argc, char *argv[], const struct tessera_client_extra_options *extra) {
	struct option long_options[MAX_OPTIONS + 1] = {0};
	size_t n = 0;
	for (size_t i = 0; extra != NULL && i < extra->count && n < MAX_OPTIONS; i++) {
		long_options[n++] = extra->options[i];
	}
	for (size_t i = 0; i < sizeof(shared_options) / sizeof(shared_options[0]) &&
			n < MAX_OPTIONS; i++) {
		long_options[n++] = shared_options[i];
	}
	int opt;
	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		int ret;
		if (opt == 'h' || opt == OPT_HELP) {
			opts->usage(stdout, argv[0]);
			return -1;
		} else if (opt >= OPT_COLOR && opt <= OPT_TITLE) {
			ret = shared_option(opts, opt, optarg);
		} else if (opt != '?' && extra != NULL) {
			ret = extra->handle(extra->data, opt, optarg);
		} else {
			ret = 2;
		}
		if (ret != 0) {
			if (opt == '?') {
				opts->usage(stderr, argv[0]);
			}
			return ret;
		}
	}
	if (optind < argc) {
		tessera_log(TESSERA_ERROR, "unexpected argument '%s'", argv[optind]);
		opts->usage(stderr, argv[0]);
		return 2;
	}
	return 0;
}
