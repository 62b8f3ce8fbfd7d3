/*
 * What every fuzz target (fuzz-*.c) shares: the libFuzzer entry point,
 * also called by fuzz-main.c when the seeds are replayed without
 * libFuzzer; CHECK(), which crashes on a broken invariant so that the
 * fuzzer records the input (unlike tests/lib's CHECK, which counts and
 * goes on); dispatching an event loop; the reader of an input script; fd
 * counting, for the targets that check that nothing leaks; and sending
 * fds on a socket.
 */
#ifndef TESSERA_TESTS_FUZZ_FUZZ_TARGET_H
#define TESSERA_TESTS_FUZZ_FUZZ_TARGET_H

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

/* For the harness's own bulk work over memory it owns (comparing guest
 * RAM, say): no coverage feedback and no address checks, which would only
 * slow the fuzzer down (not inlined: the caller's instrumentation would
 * come back). */
#if defined(__clang__)
#define FUZZ_UNINSTRUMENTED \
	__attribute__((no_sanitize("coverage", "address"), noinline))
#else
#define FUZZ_UNINSTRUMENTED __attribute__((noinline))
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* wl_event_loop_dispatch() that fails only for real: libFuzzer's timer
 * signal (-timeout) can interrupt epoll_wait(). */
#define FUZZ_DISPATCH(loop, timeout_ms) do { \
	while (wl_event_loop_dispatch((loop), (timeout_ms)) < 0) { \
		CHECK(errno == EINTR); \
	} \
} while (0)

/* An input read as a script: integers are little-endian, and reading
 * past the end gives zeros. */
struct fuzz_input {
	const uint8_t *data;
	size_t size, pos;
};

static inline uint8_t fuzz_get8(struct fuzz_input *in) {
	return in->pos < in->size ? in->data[in->pos++] : 0;
}

static inline uint16_t fuzz_get16(struct fuzz_input *in) {
	uint16_t lo = fuzz_get8(in);
	return (uint16_t)(lo | fuzz_get8(in) << 8);
}

static inline uint32_t fuzz_get32(struct fuzz_input *in) {
	uint32_t lo = fuzz_get16(in);
	return lo | (uint32_t)fuzz_get16(in) << 16;
}

static inline uint64_t fuzz_get64(struct fuzz_input *in) {
	uint64_t lo = fuzz_get32(in);
	return lo | (uint64_t)fuzz_get32(in) << 32;
}

/* Up to len bytes of the input; *n receives how many there are. */
static inline const uint8_t *fuzz_get_bytes(struct fuzz_input *in, size_t len,
		size_t *n) {
	const uint8_t *p = in->data + in->pos;
	*n = in->size - in->pos < len ? in->size - in->pos : len;
	in->pos += *n;
	return p;
}

/* The number of open file descriptors of the process. */
static inline int fuzz_count_fds(void) {
	DIR *dir = opendir("/proc/self/fd");
	CHECK(dir != NULL);
	int n = 0;
	struct dirent *ent;
	while ((ent = readdir(dir)) != NULL) {
		n += ent->d_name[0] != '.';
	}
	closedir(dir);
	return n - 1; /* the directory's own fd */
}

/* sendmsg() of iov with nfds (at most 16) fds attached. */
static inline ssize_t fuzz_sendmsg(int sock, struct iovec *iov, size_t iovcnt,
		const int *fds, size_t nfds, int flags) {
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} control;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = iovcnt };
	CHECK(nfds <= 16);
	if (nfds > 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &msg, flags);
}

#endif
