/*
 * Unit test of tessera-png-probe: writes small PNGs of several colour types
 * with libpng, runs the probe on them and compares stdout and exit status.
 * usage: test-png-probe PATH-TO-tessera-png-probe
 */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tessera-test.h"

#define MAX_ARGS 32
#define MAX_OUTPUT 4096

static const char *probe_path;
static char tmp_dir[256];

struct png_spec {
	uint32_t width, height;
	int color_type; /* PNG_COLOR_TYPE_* */
	int bit_depth;
	int interlace; /* PNG_INTERLACE_* */
	const png_color *palette;
	int palette_size;
	const uint8_t *data; /* rows of width * channels * bit_depth / 8 bytes */
};

static int channels_of(int color_type) {
	switch (color_type) {
	case PNG_COLOR_TYPE_GRAY:
	case PNG_COLOR_TYPE_PALETTE:
		return 1;
	case PNG_COLOR_TYPE_GRAY_ALPHA:
		return 2;
	case PNG_COLOR_TYPE_RGB:
		return 3;
	default:
		return 4;
	}
}

static void path_in_tmp(char *out, size_t size, const char *name) {
	snprintf(out, size, "%s/%s", tmp_dir, name);
}

static bool write_png(const char *name, const struct png_spec *spec) {
	char path[512];
	path_in_tmp(path, sizeof(path), name);
	FILE *file = fopen(path, "wb");
	if (file == NULL) {
		fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
		return false;
	}
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
	if (info == NULL) {
		png_destroy_write_struct(&png, NULL);
		fclose(file);
		return false;
	}
	if (setjmp(png_jmpbuf(png))) {
		fprintf(stderr, "libpng failed writing %s\n", path);
		png_destroy_write_struct(&png, &info);
		fclose(file);
		return false;
	}
	png_init_io(png, file);
	png_set_IHDR(png, info, spec->width, spec->height, spec->bit_depth,
		spec->color_type, spec->interlace, PNG_COMPRESSION_TYPE_DEFAULT,
		PNG_FILTER_TYPE_DEFAULT);
	if (spec->palette != NULL) {
		png_set_PLTE(png, info, spec->palette, spec->palette_size);
	}
	png_write_info(png, info);
	size_t stride = (size_t)spec->width * (size_t)channels_of(spec->color_type) *
		(size_t)spec->bit_depth / 8;
	int passes = png_set_interlace_handling(png);
	for (int pass = 0; pass < passes; pass++) {
		for (uint32_t y = 0; y < spec->height; y++) {
			png_write_row(png, spec->data + stride * y);
		}
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return fclose(file) == 0;
}

static bool write_raw(const char *name, const void *data, size_t size) {
	char path[512];
	path_in_tmp(path, sizeof(path), name);
	FILE *file = fopen(path, "wb");
	if (file == NULL) {
		return false;
	}
	bool ok = fwrite(data, 1, size, file) == size;
	return fclose(file) == 0 && ok;
}

/* Runs the probe on FILE (in tmp_dir) with the NULL-terminated arguments. */
static void check(int want_status, const char *want_stdout, const char *file, ...) {
	char path[512];
	path_in_tmp(path, sizeof(path), file);
	const char *argv[MAX_ARGS + 3] = { probe_path, path };
	size_t argc = 2;
	char cmdline[512];
	int len = snprintf(cmdline, sizeof(cmdline), "%s", file);
	va_list args;
	va_start(args, file);
	const char *arg;
	while ((arg = va_arg(args, const char *)) != NULL && argc < MAX_ARGS + 2) {
		argv[argc++] = arg;
		if (len >= 0 && (size_t)len < sizeof(cmdline)) {
			len += snprintf(cmdline + len, sizeof(cmdline) - (size_t)len, " %s", arg);
		}
	}
	va_end(args);
	argv[argc] = NULL;
	test_checks++;

	int pipe_fds[2];
	if (pipe(pipe_fds) < 0) {
		perror("pipe");
		exit(1);
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		dup2(pipe_fds[1], STDOUT_FILENO);
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		execv(probe_path, (char *const *)argv);
		perror("execv");
		_exit(127);
	}
	close(pipe_fds[1]);
	char output[MAX_OUTPUT];
	size_t used = 0;
	for (;;) {
		ssize_t n = read(pipe_fds[0], output + used, sizeof(output) - 1 - used);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		used += (size_t)n;
		if (used == sizeof(output) - 1) {
			break;
		}
	}
	output[used] = '\0';
	close(pipe_fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			exit(1);
		}
	}
	int got_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	bool ok = got_status == want_status &&
		(want_stdout == NULL || strcmp(output, want_stdout) == 0);
	printf("%s: %s\n", ok ? "ok" : "FAIL", cmdline);
	if (!ok) {
		test_failures++;
		printf("  expected status %d, stdout \"%s\"\n", want_status,
			want_stdout != NULL ? want_stdout : "(any)");
		printf("  got      status %d, stdout \"%s\"\n", got_status, output);
	}
}

static void put_rgb(uint8_t *data, uint32_t width, uint32_t x, uint32_t y, uint32_t color) {
	uint8_t *p = data + ((size_t)y * width + x) * 3;
	p[0] = (uint8_t)(color >> 16);
	p[1] = (uint8_t)(color >> 8);
	p[2] = (uint8_t)color;
}

/*
 * 64x48 RGB: background 202020; red ff0000 rectangle at (10,5) 20x8; one
 * almost-red fa0505 pixel at (40,30); a 3366cc "title bar" over rows 40..47
 * with ten white "text" pixels at (20+2i, 43).
 */
static bool write_scene(void) {
	enum { W = 64, H = 48 };
	static uint8_t data[W * H * 3];
	for (uint32_t y = 0; y < H; y++) {
		for (uint32_t x = 0; x < W; x++) {
			uint32_t color = 0x202020;
			if (x >= 10 && x < 30 && y >= 5 && y < 13) {
				color = 0xff0000;
			}
			if (y >= 40) {
				color = 0x3366cc;
			}
			put_rgb(data, W, x, y, color);
		}
	}
	put_rgb(data, W, 40, 30, 0xfa0505);
	for (uint32_t i = 0; i < 10; i++) {
		put_rgb(data, W, 20 + 2 * i, 43, 0xffffff);
	}
	struct png_spec spec = {
		.width = W, .height = H, .color_type = PNG_COLOR_TYPE_RGB, .bit_depth = 8,
		.interlace = PNG_INTERLACE_NONE, .data = data,
	};
	if (!write_png("scene.png", &spec)) {
		return false;
	}
	spec.interlace = PNG_INTERLACE_ADAM7;
	return write_png("scene-interlaced.png", &spec);
}

/* 4x2 RGBA: colours with alpha 0, 0x80 and 0xff; alpha must be ignored. */
static bool write_rgba(void) {
	static const uint8_t data[] = {
		0x12, 0x34, 0x56, 0x00,  0xff, 0xff, 0xff, 0x80,
		0x00, 0x00, 0x00, 0xff,  0x12, 0x34, 0x56, 0xff,
		0xab, 0xcd, 0xef, 0x01,  0x12, 0x34, 0x56, 0x80,
		0x01, 0x02, 0x03, 0x04,  0x12, 0x34, 0x55, 0xff,
	};
	struct png_spec spec = {
		.width = 4, .height = 2, .color_type = PNG_COLOR_TYPE_RGB_ALPHA, .bit_depth = 8,
		.interlace = PNG_INTERLACE_NONE, .data = data,
	};
	return write_png("rgba.png", &spec);
}

static bool write_other_types(void) {
	static const uint8_t gray[] = { 0x00, 0x80, 0xff, 0x80 };
	struct png_spec spec = {
		.width = 2, .height = 2, .color_type = PNG_COLOR_TYPE_GRAY, .bit_depth = 8,
		.interlace = PNG_INTERLACE_NONE, .data = gray,
	};
	if (!write_png("gray.png", &spec)) {
		return false;
	}

	static const png_color palette[] = {
		{ 0x11, 0x22, 0x33 }, { 0xcc, 0xbb, 0xaa },
	};
	static const uint8_t indices[] = { 0, 1, 1, 0 };
	spec = (struct png_spec){
		.width = 2, .height = 2, .color_type = PNG_COLOR_TYPE_PALETTE, .bit_depth = 8,
		.interlace = PNG_INTERLACE_NONE, .palette = palette, .palette_size = 2,
		.data = indices,
	};
	if (!write_png("palette.png", &spec)) {
		return false;
	}

	/* 16-bit big-endian samples: the probe keeps the high byte */
	static const uint8_t deep[] = {
		0xab, 0xcd, 0x12, 0x34, 0xfe, 0xdc,  0x00, 0xff, 0x01, 0x00, 0x80, 0x7f,
	};
	spec = (struct png_spec){
		.width = 2, .height = 1, .color_type = PNG_COLOR_TYPE_RGB, .bit_depth = 16,
		.interlace = PNG_INTERLACE_NONE, .data = deep,
	};
	return write_png("deep.png", &spec);
}

static bool write_broken_files(void) {
	static const char text[] = "this is not a PNG file\n";
	if (!write_raw("text.png", text, sizeof(text) - 1)) {
		return false;
	}
	/* the first 100 bytes of a valid PNG */
	char path[512];
	path_in_tmp(path, sizeof(path), "scene.png");
	FILE *file = fopen(path, "rb");
	if (file == NULL) {
		return false;
	}
	uint8_t head[100];
	size_t n = fread(head, 1, sizeof(head), file);
	fclose(file);
	return n == sizeof(head) && write_raw("truncated.png", head, n);
}

static void remove_files(void) {
	static const char *names[] = {
		"scene.png", "scene-interlaced.png", "rgba.png", "gray.png", "palette.png",
		"deep.png", "text.png", "truncated.png",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[512];
		path_in_tmp(path, sizeof(path), names[i]);
		unlink(path);
	}
	rmdir(tmp_dir);
}

int main(int argc, char *argv[]) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-tessera-png-probe\n", argv[0]);
		return 1;
	}
	probe_path = argv[1];
	const char *tmp = getenv("TMPDIR");
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/test-png-probe-XXXXXX",
		tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(tmp_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (!write_scene() || !write_rgba() || !write_other_types() ||
			!write_broken_files()) {
		fprintf(stderr, "failed to write the test images\n");
		remove_files();
		return 1;
	}

	/* size, pixel */
	check(0, "64 48\n", "scene.png", "size", NULL);
	check(0, "202020\n", "scene.png", "pixel", "0", "0", NULL);
	check(0, "ff0000\n", "scene.png", "pixel", "10", "5", NULL);
	check(0, "ff0000\n", "scene.png", "pixel", "29", "12", NULL);
	check(0, "202020\n", "scene.png", "pixel", "30", "12", NULL);
	check(0, "fa0505\n", "scene.png", "pixel", "40", "30", NULL);
	check(0, "3366cc\n", "scene.png", "pixel", "63", "47", NULL);
	check(0, "ffffff\n", "scene.png", "pixel", "38", "43", NULL);

	/* count, bbox, with and without tolerance; colour case and '#' */
	check(0, "160\n", "scene.png", "count", "ff0000", NULL);
	check(0, "160\n", "scene.png", "count", "FF0000", "4", NULL);
	check(0, "161\n", "scene.png", "count", "#ff0000", "5", NULL);
	check(0, "0\n", "scene.png", "count", "00ff00", NULL);
	check(0, "10\n", "scene.png", "count", "ffffff", NULL);
	check(0, "10 5 20 8 160\n", "scene.png", "bbox", "ff0000", NULL);
	check(0, "10 5 31 26 161\n", "scene.png", "bbox", "ff0000", "5", NULL);
	check(0, "40 30 1 1 1\n", "scene.png", "bbox", "fa0505", NULL);
	check(0, "0 40 64 8 502\n", "scene.png", "bbox", "3366cc", NULL);
	check(0, "20 43 19 1 10\n", "scene.png", "bbox", "ffffff", NULL);
	check(1, "none\n", "scene.png", "bbox", "00ff00", NULL);
	check(1, "none\n", "scene.png", "bbox", "fe0000", "0", NULL);
	check(0, "0 0 64 48 3072\n", "scene.png", "bbox", "808080", "255", NULL);

	/* region */
	check(0, "distinct 2\ndominant 3366cc\n", "scene.png", "region", "0", "40", "64", "8", NULL);
	check(0, "distinct 1\ndominant ff0000\n", "scene.png", "region", "10", "5", "20", "8", NULL);
	check(0, "distinct 5\ndominant 202020\n", "scene.png", "region", "0", "0", "64", "48", NULL);
	check(0, "distinct 1\ndominant 3366cc\n", "scene.png", "region", "63", "47", "1", "1", NULL);
	/* a tie between two colours: the lower value wins */
	check(0, "distinct 2\ndominant 202020\n", "scene.png", "region", "9", "5", "2", "1", NULL);

	/* clip: bbox and count after it look inside the rectangle only */
	check(0, "12 6 5 3 15\n15\n", "scene.png", "clip", "12", "6", "5", "3", "bbox", "ff0000",
		"count", "ff0000", NULL);
	check(1, "none\n", "scene.png", "clip", "40", "0", "24", "20", "bbox", "ff0000", NULL);
	check(0, "40 30 1 1 1\n", "scene.png", "clip", "30", "0", "34", "40", "bbox", "ff0000",
		"5", NULL);
	check(2, "", "scene.png", "clip", "0", "0", "65", "1", "count", "ff0000", NULL);
	check(2, "", "scene.png", "clip", "0", "48", "1", "1", NULL);
	check(2, "", "scene.png", "clip", "0", "0", "1", NULL);

	/* several commands in one run; bbox none sets status 1 but goes on */
	check(0, "64 48\nff0000\n160\n", "scene.png", "size", "pixel", "10", "5", "count",
		"ff0000", NULL);
	check(1, "none\n3366cc\n", "scene.png", "bbox", "123456", "pixel", "0", "47", NULL);
	check(0, "10 5 20 8 160\n0 40 64 8 502\n", "scene.png", "bbox", "ff0000", "bbox",
		"3366cc", NULL);

	/* interlaced: same pixels */
	check(0, "64 48\n", "scene-interlaced.png", "size", NULL);
	check(0, "10 5 20 8 160\n", "scene-interlaced.png", "bbox", "ff0000", NULL);
	check(0, "distinct 5\ndominant 202020\n", "scene-interlaced.png", "region", "0", "0",
		"64", "48", NULL);
	check(0, "ffffff\n", "scene-interlaced.png", "pixel", "20", "43", NULL);

	/* RGBA: alpha is ignored */
	check(0, "4 2\n", "rgba.png", "size", NULL);
	check(0, "123456\n", "rgba.png", "pixel", "0", "0", NULL);
	check(0, "ffffff\n", "rgba.png", "pixel", "1", "0", NULL);
	check(0, "abcdef\n", "rgba.png", "pixel", "0", "1", NULL);
	check(0, "010203\n", "rgba.png", "pixel", "2", "1", NULL);
	check(0, "3\n", "rgba.png", "count", "123456", NULL);
	check(0, "4\n", "rgba.png", "count", "123456", "1", NULL);
	check(0, "0 0 4 2 4\n", "rgba.png", "bbox", "123456", "1", NULL);
	check(0, "distinct 6\ndominant 123456\n", "rgba.png", "region", "0", "0", "4", "2", NULL);

	/* grey, palette, 16-bit */
	check(0, "000000\n", "gray.png", "pixel", "0", "0", NULL);
	check(0, "808080\n", "gray.png", "pixel", "1", "0", NULL);
	check(0, "2\n", "gray.png", "count", "808080", NULL);
	check(0, "112233\n", "palette.png", "pixel", "0", "0", NULL);
	check(0, "ccbbaa\n", "palette.png", "pixel", "1", "0", NULL);
	check(0, "0 0 2 2 2\n", "palette.png", "bbox", "112233", NULL);
	check(0, "ab12fe\n", "deep.png", "pixel", "0", "0", NULL);
	check(0, "000180\n", "deep.png", "pixel", "1", "0", NULL);

	/* errors: exit 2 */
	check(2, "", "missing.png", "size", NULL);
	check(2, "", "text.png", "size", NULL);
	check(2, "", "truncated.png", "size", NULL);
	check(2, "", "scene.png", NULL);
	check(2, "", "scene.png", "frobnicate", NULL);
	check(2, "", "scene.png", "pixel", "64", "0", NULL);
	check(2, "", "scene.png", "pixel", "0", "48", NULL);
	check(2, "", "scene.png", "pixel", "-1", "0", NULL);
	check(2, "", "scene.png", "pixel", "1x", "0", NULL);
	check(2, "", "scene.png", "pixel", "4294967296", "0", NULL);
	check(2, "", "scene.png", "pixel", "1", NULL);
	check(2, "", "scene.png", "bbox", NULL);
	check(2, "", "scene.png", "bbox", "zzzzzz", NULL);
	check(2, "", "scene.png", "bbox", "ff00000", NULL);
	check(2, "", "scene.png", "count", "ff0000", "256", NULL);
	check(2, "", "scene.png", "region", "0", "0", "0", "1", NULL);
	check(2, "", "scene.png", "region", "60", "0", "5", "1", NULL);
	check(2, "", "scene.png", "region", "0", "47", "1", "2", NULL);
	check(2, "", "scene.png", "region", "64", "0", "1", "1", NULL);
	check(2, "", "scene.png", "region", "0", "0", "1", NULL);
	/* output of commands before the bad one is kept */
	check(2, "64 48\n", "scene.png", "size", "pixel", "99", "0", NULL);

	remove_files();
	return test_finish("png-probe");
}
