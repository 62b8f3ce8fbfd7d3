/*
 * tessera-png-probe FILE CMD [ARGS] [CMD [ARGS]...]
 *
 * Answers questions about the pixels of a PNG (e.g. a grim screenshot) for
 * test scripts. Commands (several may follow each other, outputs in order):
 *   size                  -> "W H"
 *   pixel X Y             -> "RRGGBB"
 *   bbox RRGGBB [TOL]     -> "X Y W H COUNT" of the pixels within TOL per
 *                            channel of the colour, or "none" (exit 1)
 *   count RRGGBB [TOL]    -> number of matching pixels
 *   region X Y W H        -> "distinct N" and "dominant RRGGBB"
 *   clip X Y W H          -> nothing; the bbox and count commands after it
 *                            look only inside that rectangle (a window)
 * Any PNG colour type and depth is accepted and converted to 8-bit RGB;
 * alpha is ignored. Exit: 0 ok, 1 a bbox matched nothing, 2 error (also
 * a sanitizer's report: their default exit status 1 would read as "none").
 */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "color.h"
#include "log.h"
#include "tessera-client.h"

#define MAX_IMAGE_DIMENSION 32768
#define MAX_IMAGE_PIXELS (64u * 1024u * 1024u)

struct probe_image {
	uint32_t width, height;
	uint32_t *pixels; /* 0xRRGGBB, row-major */
};

/* Read by the sanitizer runtimes when built with them; unused otherwise. */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__asan_default_options(void) {
	return "exitcode=2";
}
const char *__ubsan_default_options(void) {
	return "exitcode=2";
}

static void usage(void) {
	fprintf(stderr,
		"usage: tessera-png-probe FILE CMD [ARGS] [CMD [ARGS]...]\n"
		"  size | pixel X Y | bbox RRGGBB [TOL] | count RRGGBB [TOL] |\n"
		"  region X Y W H | clip X Y W H\n");
}

static void png_error_handler(png_structp png, png_const_charp message) {
	tessera_log(TESSERA_ERROR, "libpng: %s", message);
	png_longjmp(png, 1);
}

static void png_warning_handler(png_structp png, png_const_charp message) {
	/* warnings (e.g. unknown chunks) do not affect the pixels */
}

static bool probe_image_load(struct probe_image *image, const char *path) {
	FILE *file = fopen(path, "rb");
	if (file == NULL) {
		tessera_log_errno(TESSERA_ERROR, "cannot open '%s'", path);
		return false;
	}
	unsigned char signature[8];
	if (fread(signature, 1, sizeof(signature), file) != sizeof(signature) ||
			png_sig_cmp(signature, 0, sizeof(signature)) != 0) {
		tessera_log(TESSERA_ERROR, "'%s' is not a PNG file", path);
		fclose(file);
		return false;
	}

	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL,
		png_error_handler, png_warning_handler);
	png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
	if (info == NULL) {
		tessera_log(TESSERA_ERROR, "out of memory");
		png_destroy_read_struct(&png, NULL, NULL);
		fclose(file);
		return false;
	}
	/* volatile: modified after setjmp and used after a longjmp */
	png_bytep *volatile rows = NULL;
	uint8_t *volatile data = NULL;
	if (setjmp(png_jmpbuf(png))) {
		tessera_log(TESSERA_ERROR, "cannot decode '%s'", path);
		free(image->pixels);
		image->pixels = NULL;
		free(rows);
		free(data);
		png_destroy_read_struct(&png, &info, NULL);
		fclose(file);
		return false;
	}
	png_set_user_limits(png, MAX_IMAGE_DIMENSION, MAX_IMAGE_DIMENSION);
	png_init_io(png, file);
	png_set_sig_bytes(png, sizeof(signature));
	png_read_info(png, info);

	uint32_t width = png_get_image_width(png, info);
	uint32_t height = png_get_image_height(png, info);
	if ((uint64_t)width * height > MAX_IMAGE_PIXELS) {
		tessera_log(TESSERA_ERROR, "'%s': %ux%u is too large", path, width, height);
		png_destroy_read_struct(&png, &info, NULL);
		fclose(file);
		return false;
	}

	/* Everything to 8-bit RGBA (alpha is read but ignored). */
	png_set_expand(png);
	png_set_strip_16(png);
	png_set_gray_to_rgb(png);
	png_set_filler(png, 0xff, PNG_FILLER_AFTER);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	size_t rowbytes = png_get_rowbytes(png, info);
	if (rowbytes != (size_t)width * 4) {
		tessera_log(TESSERA_ERROR, "'%s': unexpected row size after conversion", path);
		png_destroy_read_struct(&png, &info, NULL);
		fclose(file);
		return false;
	}

	data = malloc(rowbytes * height);
	rows = malloc(sizeof(*rows) * height);
	image->pixels = malloc(sizeof(*image->pixels) * (size_t)width * height);
	if (data == NULL || rows == NULL || image->pixels == NULL) {
		tessera_log(TESSERA_ERROR, "out of memory");
		png_longjmp(png, 1);
	}
	for (uint32_t y = 0; y < height; y++) {
		rows[y] = data + rowbytes * y;
	}
	png_read_image(png, rows);
	png_read_end(png, NULL);

	for (uint32_t y = 0; y < height; y++) {
		const uint8_t *row = rows[y];
		for (uint32_t x = 0; x < width; x++) {
			const uint8_t *p = row + 4 * x;
			image->pixels[(size_t)y * width + x] =
				(uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		}
	}
	image->width = width;
	image->height = height;

	free(rows);
	free(data);
	png_destroy_read_struct(&png, &info, NULL);
	fclose(file);
	return true;
}

static bool is_number(const char *str) {
	uint32_t unused;
	return tessera_client_parse_uint(str, UINT32_MAX, &unused);
}

static bool color_matches(uint32_t pixel, uint32_t color, uint32_t tolerance) {
	for (int shift = 0; shift <= 16; shift += 8) {
		int a = (int)((pixel >> shift) & 0xff);
		int b = (int)((color >> shift) & 0xff);
		int diff = a > b ? a - b : b - a;
		if ((uint32_t)diff > tolerance) {
			return false;
		}
	}
	return true;
}

static int compare_u32(const void *a, const void *b) {
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Reads "RRGGBB [TOL]" at argv[*i]; advances *i past what it used. */
static bool parse_color_tolerance(int argc, char *argv[], int *i, const char *cmd,
		uint32_t *color, uint32_t *tolerance) {
	if (*i >= argc || !tessera_color_parse(argv[*i], color)) {
		tessera_log(TESSERA_ERROR, "%s: expected a colour RRGGBB, got '%s'", cmd,
			*i < argc ? argv[*i] : "");
		return false;
	}
	(*i)++;
	*tolerance = 0;
	if (*i < argc && is_number(argv[*i])) {
		if (!tessera_client_parse_uint(argv[*i], 255, tolerance)) {
			tessera_log(TESSERA_ERROR, "%s: tolerance '%s' out of range 0..255", cmd, argv[*i]);
			return false;
		}
		(*i)++;
	}
	return true;
}

static bool parse_coordinate(const char *str, uint32_t limit, const char *what,
		uint32_t *out) {
	if (!tessera_client_parse_uint(str, UINT32_MAX, out) || *out >= limit) {
		tessera_log(TESSERA_ERROR, "%s '%s' out of range 0..%u", what, str, limit - 1);
		return false;
	}
	return true;
}

static bool parse_extent(const char *str, uint32_t origin, uint32_t limit,
		const char *what, uint32_t *out) {
	if (!tessera_client_parse_uint(str, UINT32_MAX, out) || *out == 0 || *out > limit - origin) {
		tessera_log(TESSERA_ERROR, "%s '%s' out of range 1..%u", what, str, limit - origin);
		return false;
	}
	return true;
}

/* Reads "X Y W H" at argv[*i], a rectangle within the image; advances *i. */
static bool parse_rect(int argc, char *argv[], int *i, const struct probe_image *image,
		const char *cmd, uint32_t *x, uint32_t *y, uint32_t *w, uint32_t *h) {
	if (*i + 4 > argc) {
		tessera_log(TESSERA_ERROR, "%s: expected X Y W H", cmd);
		return false;
	}
	char what[4][32];
	const char *names = "XYWH";
	for (int k = 0; k < 4; k++) {
		snprintf(what[k], sizeof(what[k]), "%s: %c", cmd, names[k]);
	}
	if (!parse_coordinate(argv[*i], image->width, what[0], x) ||
			!parse_coordinate(argv[*i + 1], image->height, what[1], y) ||
			!parse_extent(argv[*i + 2], *x, image->width, what[2], w) ||
			!parse_extent(argv[*i + 3], *y, image->height, what[3], h)) {
		return false;
	}
	*i += 4;
	return true;
}

int main(int argc, char *argv[]) {
	tessera_log_init(TESSERA_ERROR, NULL);
	if (argc < 3) {
		usage();
		return 2;
	}
	struct probe_image image = {0};
	if (!probe_image_load(&image, argv[1])) {
		return 2;
	}

	int ret = 0;
	int i = 2;
	/* what bbox and count look at (clip) */
	uint32_t clip_x = 0, clip_y = 0, clip_w = image.width, clip_h = image.height;
	while (i < argc) {
		const char *cmd = argv[i++];
		if (strcmp(cmd, "size") == 0) {
			printf("%u %u\n", image.width, image.height);
		} else if (strcmp(cmd, "pixel") == 0) {
			uint32_t x, y;
			if (i + 2 > argc) {
				tessera_log(TESSERA_ERROR, "pixel: expected X Y");
				goto error;
			}
			if (!parse_coordinate(argv[i], image.width, "pixel: X", &x) ||
					!parse_coordinate(argv[i + 1], image.height, "pixel: Y", &y)) {
				goto error;
			}
			i += 2;
			printf("%06x\n", image.pixels[(size_t)y * image.width + x]);
		} else if (strcmp(cmd, "bbox") == 0 || strcmp(cmd, "count") == 0) {
			uint32_t color, tolerance;
			if (!parse_color_tolerance(argc, argv, &i, cmd, &color, &tolerance)) {
				goto error;
			}
			uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
			uint64_t count = 0;
			for (uint32_t y = clip_y; y < clip_y + clip_h; y++) {
				const uint32_t *row = &image.pixels[(size_t)y * image.width];
				for (uint32_t x = clip_x; x < clip_x + clip_w; x++) {
					if (!color_matches(row[x], color, tolerance)) {
						continue;
					}
					count++;
					x0 = x < x0 ? x : x0;
					y0 = y < y0 ? y : y0;
					x1 = x > x1 ? x : x1;
					y1 = y > y1 ? y : y1;
				}
			}
			if (cmd[0] == 'c') {
				printf("%llu\n", (unsigned long long)count);
			} else if (count == 0) {
				printf("none\n");
				ret = 1;
			} else {
				printf("%u %u %u %u %llu\n", x0, y0, x1 - x0 + 1, y1 - y0 + 1,
					(unsigned long long)count);
			}
		} else if (strcmp(cmd, "clip") == 0) {
			if (!parse_rect(argc, argv, &i, &image, cmd, &clip_x, &clip_y, &clip_w,
					&clip_h)) {
				goto error;
			}
		} else if (strcmp(cmd, "region") == 0) {
			uint32_t x, y, w, h;
			if (!parse_rect(argc, argv, &i, &image, cmd, &x, &y, &w, &h)) {
				goto error;
			}
			size_t n = (size_t)w * h;
			uint32_t *values = malloc(sizeof(*values) * n);
			if (values == NULL) {
				tessera_log(TESSERA_ERROR, "out of memory");
				goto error;
			}
			for (uint32_t row = 0; row < h; row++) {
				memcpy(&values[(size_t)row * w],
					&image.pixels[(size_t)(y + row) * image.width + x],
					sizeof(*values) * w);
			}
			qsort(values, n, sizeof(*values), compare_u32);
			size_t distinct = 0, best_run = 0;
			uint32_t dominant = 0;
			for (size_t start = 0; start < n;) {
				size_t end = start;
				while (end < n && values[end] == values[start]) {
					end++;
				}
				distinct++;
				/* ties: the lowest colour value wins */
				if (end - start > best_run) {
					best_run = end - start;
					dominant = values[start];
				}
				start = end;
			}
			free(values);
			printf("distinct %zu\ndominant %06x\n", distinct, dominant);
		} else {
			tessera_log(TESSERA_ERROR, "unknown command '%s'", cmd);
			usage();
			goto error;
		}
	}
	free(image.pixels);
	return ret;

error:
	fflush(stdout);
	free(image.pixels);
	return 2;
}
