/*
 * A PNG from a VM (or a host client), decoded and encoded again from its
 * pixels (png-clean.h) in a child process of its own: libpng never parses
 * hostile bytes inside tessera. The child keeps only the pipe it answers
 * on (every other descriptor closed), gets an address space limit and a
 * seccomp filter that allows memory management, write and exit, and is
 * killed by its caller when it takes too long. Its answer is one status
 * byte, then the new PNG; tessera believes no more of it than that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "png-clean.h"

/* ASan reserves terabytes of shadow memory and makes calls of its own
 * (reports, the leak check): tests' sanitizer builds keep the address
 * space unlimited and allow those (as server/vmd/sandbox.c does). */
#if defined(__SANITIZE_ADDRESS__)
#define PNG_CLEAN_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PNG_CLEAN_SANITIZER 1
#endif
#endif

#define PNG_CLEAN_MAX_PIXELS (UINT64_C(32) << 20)
#define PNG_CLEAN_MAX_MEMORY (UINT64_C(1) << 30)

enum {
	PNG_CLEAN_OK = 1,
	PNG_CLEAN_NOT_PNG = 2,
	PNG_CLEAN_TOO_LARGE = 3,
	PNG_CLEAN_DAMAGED = 4,
	PNG_CLEAN_ENCODE = 5,
};

static void png_error_quiet(png_structp png, png_const_charp message) {
	(void)message;
	png_longjmp(png, 1);
}

static void png_warning_quiet(png_structp png, png_const_charp message) {
	(void)png;
	(void)message;
}

struct png_out {
	uint8_t *bytes;
	size_t len, cap;
	bool failed;
};

static void png_out_write(png_structp png, png_bytep data, png_size_t len) {
	struct png_out *out = png_get_io_ptr(png);
	if (out->failed) {
		return;
	}
	if (out->len + len > out->cap) {
		size_t cap = out->cap < 65536 ? 65536 : out->cap;
		while (cap < out->len + len) {
			cap *= 2;
		}
		uint8_t *bytes = realloc(out->bytes, cap);
		if (bytes == NULL) {
			out->failed = true;
			return;
		}
		out->bytes = bytes;
		out->cap = cap;
	}
	memcpy(out->bytes + out->len, data, len);
	out->len += len;
}

static void png_out_flush(png_structp png) {
	(void)png;
}

/* 8-bit RGB(A) rows into a new PNG with nothing but the image: fast zlib
 * and no filter, as the user waits (the simplified API compresses at
 * zlib's default and needs a second pass for the size). */
static bool png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, bool alpha,
		uint8_t **out, size_t *out_len) {
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
		png_error_quiet, png_warning_quiet);
	png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
	struct png_out buf = { 0 };
	if (info == NULL) {
		png_destroy_write_struct(&png, NULL);
		return false;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(buf.bytes);
		return false;
	}
	png_set_write_fn(png, &buf, png_out_write, png_out_flush);
	png_set_IHDR(png, info, width, height, 8, alpha ? PNG_COLOR_TYPE_RGBA :
		PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, 1);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	png_write_info(png, info);
	size_t stride = (size_t)width * (alpha ? 4 : 3);
	for (uint32_t y = 0; y < height; y++) {
		png_write_row(png, pixels + stride * y);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	if (buf.failed) {
		free(buf.bytes);
		return false;
	}
	*out = buf.bytes;
	*out_len = buf.len;
	return true;
}

/* Decodes a PNG and encodes its pixels again: *out (malloc'd) or false. */
static uint8_t png_clean(const uint8_t *bytes, size_t len, uint8_t **out, size_t *out_len) {
	png_image image;
	memset(&image, 0, sizeof(image));
	image.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&image, bytes, len)) {
		return PNG_CLEAN_NOT_PNG;
	}
	if (image.width == 0 || image.height == 0 ||
			(uint64_t)image.width * image.height > PNG_CLEAN_MAX_PIXELS) {
		png_image_free(&image);
		return PNG_CLEAN_TOO_LARGE;
	}
	image.format = (image.format & PNG_FORMAT_FLAG_ALPHA) ? PNG_FORMAT_RGBA :
		PNG_FORMAT_RGB;
	size_t pixels_size = PNG_IMAGE_SIZE(image);
	uint8_t *pixels = malloc(pixels_size);
	if (pixels == NULL) {
		png_image_free(&image);
		return PNG_CLEAN_ENCODE;
	}
	if (!png_image_finish_read(&image, NULL, pixels, 0, NULL)) {
		free(pixels);
		return PNG_CLEAN_DAMAGED;
	}
	bool alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
	bool ok = png_encode(pixels, image.width, image.height, alpha, out, out_len);
	free(pixels);
	return ok ? PNG_CLEAN_OK : PNG_CLEAN_ENCODE;
}


static void write_all(int fd, const uint8_t *p, size_t len) {
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

/* The child: nothing but the pipe, memory and the exit. */
static void __attribute__((noreturn)) child_run(int out, const uint8_t *bytes, size_t len) {
	/* the pipe becomes fd 0, everything else goes */
	if (out != 0 && (dup2(out, 0) != 0 || close_range(1, ~0U, 0) != 0)) {
		_exit(1);
	}
	if (out == 0 && close_range(1, ~0U, 0) != 0) {
		_exit(1);
	}
#ifndef PNG_CLEAN_SANITIZER
	struct rlimit limit = { PNG_CLEAN_MAX_MEMORY, PNG_CLEAN_MAX_MEMORY };
	setrlimit(RLIMIT_AS, &limit);
#endif
	signal(SIGPIPE, SIG_DFL);
	scmp_filter_ctx filter = seccomp_init(SCMP_ACT_KILL_PROCESS);
	static const int allowed[] = {
		SCMP_SYS(write), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(brk),
		SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(futex), SCMP_SYS(getpid), SCMP_SYS(gettid),
		SCMP_SYS(clock_gettime),
#ifdef PNG_CLEAN_SANITIZER
		SCMP_SYS(mprotect), SCMP_SYS(sched_yield), SCMP_SYS(sigaltstack),
		SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(prctl),
		SCMP_SYS(getppid), SCMP_SYS(openat), SCMP_SYS(read), SCMP_SYS(close),
		SCMP_SYS(readlink), SCMP_SYS(newfstatat), SCMP_SYS(lseek),
#endif
	};
	if (filter == NULL) {
		_exit(1);
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (seccomp_rule_add(filter, SCMP_ACT_ALLOW, allowed[i], 0) != 0) {
			_exit(1);
		}
	}
	if (seccomp_load(filter) != 0) {
		_exit(1);
	}
	uint8_t *clean = NULL;
	size_t clean_len = 0;
	uint8_t code = png_clean(bytes, len, &clean, &clean_len);
	write_all(0, &code, 1);
	if (code == PNG_CLEAN_OK) {
		write_all(0, clean, clean_len);
	}
	_exit(0);
}

pid_t tessera_png_clean_start(const uint8_t *bytes, size_t len, int *fd) {
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot make a pipe for the PNG decoder");
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot start the PNG decoder");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		child_run(fds[1], bytes, len);
	}
	close(fds[1]);
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
		close(fds[0]);
		kill(pid, SIGKILL);
		return -1;
	}
	*fd = fds[0];
	return pid;
}

bool tessera_png_clean_result(const uint8_t *out, size_t out_len, const uint8_t **png,
		size_t *png_len, const char **why) {
	static const char *const reasons[] = {
		[PNG_CLEAN_NOT_PNG] = "not a PNG image",
		[PNG_CLEAN_TOO_LARGE] = "a PNG image of more than 32 Mpixels",
		[PNG_CLEAN_DAMAGED] = "a damaged PNG image",
		[PNG_CLEAN_ENCODE] = "a PNG image that cannot be encoded again",
	};
	if (out_len == 0 || out[0] < PNG_CLEAN_OK || out[0] > PNG_CLEAN_ENCODE) {
		*why = "the PNG decoder failed";
		return false;
	}
	if (out[0] != PNG_CLEAN_OK || out_len < 9) {
		*why = out[0] != PNG_CLEAN_OK ? reasons[out[0]] : "the PNG decoder failed";
		return false;
	}
	*png = out + 1;
	*png_len = out_len - 1;
	return true;
}
